/* kbatch.c - a Kafka value as a batch of varint-delimited records: codec
 * names, detection by magic, and record iteration. See kbatch.h.
 *
 * Detection (AUTO) looks only at the first bytes of the value: zstd
 * 28 B5 2F FD, gzip 1F 8B, LZ4 frame 04 22 4D 18, snappy framing's whole
 * 10-byte stream identifier. Anything else is an uncompressed batch. This is
 * unambiguous for protobuf and text records in practice: an uncompressed
 * batch would have to begin with a record whose own first bytes spell the
 * rest of a magic (e.g. a 40-byte protobuf record starting with field 758 as
 * fixed32 = 0x..FD2F); a producer that might send that uses a fixed codec.
 * Skippable zstd/LZ4 frames (5? 2A 4D 18) are shared by both formats, so AUTO
 * does not treat them as a magic; a fixed zstd or lz4 codec accepts them.
 *
 * With a fixed codec the magic is still checked, so a producer that changed
 * its compression is reported as such ("looks like zstd") rather than as a
 * corrupt stream deep inside the decoder.
 *
 * Iteration (sl_kbatch_next) is a varint walk over the decompressed bytes:
 * O(1) per record, no copy; records point into the batch. A malformed batch
 * ends at the first bad length (records before it were returned): sluice
 * cannot resynchronize inside a length-delimited stream, so it does not try.
 *
 * The streaming decoders are in kbatch_dec.c, the encoder in kbatch_enc.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/batch/kbatch_int.h"

static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd", "auto"};

sl_err_t sl_kbatch_codec_parse(const char *name, int *codec, sl_error *err)
{
    for (int i = 0; name && i <= SL_KB_AUTO; i++) {
        if (strcmp(name, names[i]) == 0) {
            *codec = i;
            return SL_OK;
        }
    }
    return sl_error_set(err, SL_ERR_INVALID,
                        "unknown batch compression '%s'; use auto, none, gzip, snappy, lz4 or zstd",
                        name ? name : "(null)");
}

const char *sl_kbatch_codec_name(int codec)
{
    return codec >= 0 && codec <= SL_KB_AUTO ? names[codec] : "unknown";
}

sl_err_t sl_kbatch_new(sl_kbatch **out, int codec, size_t max_bytes)
{
    *out = NULL;
    if (codec < 0 || codec > SL_KB_AUTO || max_bytes >= SL_BUF_MAX) return SL_ERR_INVALID;
    sl_kbatch *kb = calloc(1, sizeof *kb);
    if (!kb) return SL_ERR_NOMEM;
    kb->codec = codec;
    kb->found = -1;
    kb->max_bytes = max_bytes ? max_bytes : SL_KB_DEFAULT_MAX;
    *out = kb;
    return SL_OK;
}

void sl_kbatch_free(sl_kbatch *kb)
{
    if (!kb) return;
    sl_buf_free(&kb->out);
    ZSTD_freeDCtx(kb->zd);
    if (kb->lz) LZ4F_freeDecompressionContext(kb->lz);
    if (kb->inf_ready) inflateEnd(&kb->inf);
    free(kb);
}

static int is_skippable(const uint8_t *v, size_t n)
{
    return n >= 4 && (v[0] & 0xf0) == 0x50 && v[1] == 0x2a && v[2] == 0x4d && v[3] == 0x18;
}

/* The codec whose magic begins v, or SL_KB_NONE. */
static int detect(const uint8_t *v, size_t n)
{
    if (n >= 4 && v[0] == 0x28 && v[1] == 0xb5 && v[2] == 0x2f && v[3] == 0xfd) return SL_KB_ZSTD;
    if (n >= 2 && v[0] == 0x1f && v[1] == 0x8b) return SL_KB_GZIP;
    if (n >= 4 && v[0] == 0x04 && v[1] == 0x22 && v[2] == 0x4d && v[3] == 0x18) return SL_KB_LZ4;
    if (n >= SL_KB_SNAPPY_ID_LEN && memcmp(v, sl_kb_snappy_id, SL_KB_SNAPPY_ID_LEN) == 0)
        return SL_KB_SNAPPY;
    return SL_KB_NONE;
}

static sl_err_t bad_magic(int codec, const uint8_t *v, size_t n, sl_error *err)
{
    static const char *const magic[] = {"", "1f 8b", "ff 06 00 00 73 4e 61 50 70 59", "04 22 4d 18",
                                        "28 b5 2f fd"};
    char got[40] = "nothing", also[48] = "";
    size_t k = 0;
    for (size_t i = 0; i < n && i < 10 && k + 4 < sizeof got; i++)
        k += (size_t)snprintf(got + k, sizeof got - k, "%s%02x", i ? " " : "", v[i]);
    int other = detect(v, n);
    if (other != SL_KB_NONE)
        snprintf(also, sizeof also, " (it looks like %s)", sl_kbatch_codec_name(other));
    return sl_error_set(err, SL_ERR_CORRUPT,
                        "%s: the value (%zu bytes) does not begin with the %s magic (%s) but with "
                        "%s%s; set the stream's batch compression to auto or to what the producer "
                        "uses",
                        sl_kbatch_codec_name(codec), n, sl_kbatch_codec_name(codec), magic[codec],
                        got, also);
}

sl_err_t sl_kbatch_open(sl_kbatch *kb, const uint8_t *value, size_t len, sl_error *err)
{
    static const uint8_t empty[1] = {0};
    sl_err_t rc = SL_OK;
    kb->found = -1;
    kb->broken = 0;
    kb->p = empty;
    kb->len = kb->pos = 0;
    kb->index = 0;
    if (!value) {
        if (len) return sl_error_set(err, SL_ERR_INVALID, "batch: NULL value of %zu bytes", len);
        value = empty;
    }
    int c = kb->codec == SL_KB_AUTO ? detect(value, len) : kb->codec;
    if (kb->codec != SL_KB_AUTO && c != SL_KB_NONE && detect(value, len) != c &&
        !((c == SL_KB_ZSTD || c == SL_KB_LZ4) && is_skippable(value, len))) {
        rc = bad_magic(c, value, len, err);
        goto fail;
    }
    if (c == SL_KB_NONE) {
        if (len > kb->max_bytes) {
            rc = sl_error_set(err, SL_ERR_LIMIT,
                              "none: the uncompressed batch of %zu bytes exceeds max_bytes (%zu)",
                              len, kb->max_bytes);
            goto fail;
        }
        kb->p = value;
        kb->len = len;
        kb->found = c;
        return SL_OK;
    }
    sl_buf_reset(&kb->out);
    switch (c) {
    case SL_KB_ZSTD:
        rc = sl_kb_dec_zstd(kb, value, len, err);
        break;
    case SL_KB_GZIP:
        rc = sl_kb_dec_gzip(kb, value, len, err);
        break;
    case SL_KB_LZ4:
        rc = sl_kb_dec_lz4(kb, value, len, err);
        break;
    default:
        rc = sl_kb_dec_snappy(kb, value, len, err);
        break;
    }
    if (rc) goto fail;
    if (kb->out.len) kb->p = kb->out.p;
    kb->len = kb->out.len;
    kb->found = c;
    return SL_OK;
fail:
    kb->p = empty;
    kb->len = 0;
    return rc;
}

int sl_kbatch_next(sl_kbatch *kb, const uint8_t **rec, size_t *len, sl_error *err)
{
    if (kb->found < 0 || kb->broken)
        return sl_error_set(err, SL_ERR_INVALID,
                            kb->broken ? "batch: sl_kbatch_next after the batch failed"
                                       : "batch: no batch is open (sl_kbatch_open failed or was "
                                         "not called)");
    if (kb->pos == kb->len) return 0;
    const uint8_t *q = kb->p + kb->pos, *end = kb->p + kb->len;
    uint64_t n;
    const char *codec = sl_kbatch_codec_name(kb->found);
    if (sl_varint_get(&q, end, &n)) {
        kb->broken = 1;
        if (end - q >= 10)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "batch (%s, %zu bytes): record %llu at byte %zu: malformed length "
                                "prefix (a varint longer than 10 bytes); the batch is not "
                                "varint-length-delimited records",
                                codec, kb->len, (unsigned long long)kb->index, kb->pos);
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "batch (%s, %zu bytes): record %llu at byte %zu: the batch ends inside "
                            "the length prefix (truncated)",
                            codec, kb->len, (unsigned long long)kb->index, kb->pos);
    }
    size_t left = (size_t)(end - q);
    if (n > left) {
        kb->broken = 1;
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "batch (%s, %zu bytes): record %llu at byte %zu: length prefix says "
                            "%llu bytes but only %zu remain (truncated or not a delimited batch)",
                            codec, kb->len, (unsigned long long)kb->index, kb->pos,
                            (unsigned long long)n, left);
    }
    *rec = q;
    *len = (size_t)n;
    kb->pos = (size_t)(q - kb->p) + (size_t)n;
    kb->index++;
    return 1;
}

int sl_kbatch_found(const sl_kbatch *kb)
{
    return kb->found;
}

uint64_t sl_kbatch_index(const sl_kbatch *kb)
{
    return kb->index;
}

size_t sl_kbatch_size(const sl_kbatch *kb)
{
    return kb->len;
}
