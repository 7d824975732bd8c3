/* kbatch_enc.c - builds a batch value: varint-delimited records in one
 * compression container (see kbatch.h for the formats).
 *
 * One-shot: the whole input is compressed in one library call into room
 * reserved from the library's own bound, so the output is written once and
 * never copied. The input is first walked as a delimited stream (O(records))
 * so that a producer bug is caught here, naming the record, and not on every
 * consumer.
 *
 * Containers written (what python's zstandard, lz4.frame, snappy and gzip
 * modules read back, tests/e2e/0022): one zstd frame (level 1, content size
 * and checksum), one gzip member (level 6, no name or mtime), one LZ4 frame
 * (64 KiB linked blocks, content size and checksum), one snappy framing
 * stream (identifier, then a chunk per 64 KiB with its masked CRC-32C).
 *
 * Not done yet: keeping compression contexts between calls (each call
 * creates and frees its zstd/deflate context: a few µs, small next to a
 * batch of hundreds of records); a per-call level (add it when the Kafka
 * exporter exposes one).
 */
#include <limits.h>
#include <snappy-c.h>
#include <string.h>

#include "formats/batch/kbatch_int.h"

#define SL_KB_ZSTD_LEVEL 1
#define SL_KB_GZIP_LEVEL 6

static sl_err_t nomem(const char *codec, size_t n, sl_error *err)
{
    return sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory for a %zu-byte batch", codec, n);
}

static sl_err_t check_delimited(const uint8_t *in, size_t len, sl_error *err)
{
    if (len == 0) return SL_OK; /* in may be NULL: no arithmetic on it */
    const uint8_t *p = in, *end = in + len;
    for (uint64_t i = 0; p < end; i++) {
        const uint8_t *start = p;
        uint64_t n;
        if (sl_varint_get(&p, end, &n) || n > (uint64_t)(end - p))
            return sl_error_set(err, SL_ERR_INVALID,
                                "batch encode: record %llu at byte %zu: %s; the input must be "
                                "varint-length-delimited records",
                                (unsigned long long)i, (size_t)(start - in),
                                p == start ? "bad length prefix" : "record runs past the end");
        p += n;
    }
    return SL_OK;
}

static sl_err_t enc_zstd(sl_buf *out, const uint8_t *in, size_t len, sl_error *err)
{
    sl_err_t rc = SL_OK;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(len), r;
    if (!c || sl_buf_reserve(out, bound)) {
        rc = nomem("zstd", len, err);
        goto fail;
    }
    r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, SL_KB_ZSTD_LEVEL);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(r)) r = ZSTD_compress2(c, out->p + out->len, bound, in, len);
    if (ZSTD_isError(r)) {
        rc =
            sl_error_set(err, SL_ERR_INVALID, "zstd: compression failed: %s", ZSTD_getErrorName(r));
        goto fail;
    }
    out->len += r;
fail:
    ZSTD_freeCCtx(c);
    return rc;
}

static sl_err_t enc_gzip(sl_buf *out, const uint8_t *in, size_t len, sl_error *err)
{
    sl_err_t rc = SL_OK;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, SL_KB_GZIP_LEVEL, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return nomem("gzip", len, err);
    size_t bound = deflateBound(&z, (uLong)len);
    if (sl_buf_reserve(out, bound)) {
        rc = nomem("gzip", len, err);
        goto fail;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out->p + out->len;
    z.avail_out = (uInt)(bound > UINT_MAX ? UINT_MAX : bound);
    int zr = deflate(&z, Z_FINISH);
    if (zr != Z_STREAM_END) {
        rc = sl_error_set(err, SL_ERR_INVALID, "gzip: deflate failed (%d)", zr);
        goto fail;
    }
    out->len += z.total_out;
fail:
    deflateEnd(&z);
    return rc;
}

static sl_err_t enc_lz4(sl_buf *out, const uint8_t *in, size_t len, sl_error *err)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.contentSize = len;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    if (sl_buf_reserve(out, bound)) return nomem("lz4", len, err);
    size_t r = LZ4F_compressFrame(out->p + out->len, bound, in, len, &prefs);
    if (LZ4F_isError(r))
        return sl_error_set(err, SL_ERR_INVALID, "lz4: compression failed: %s",
                            LZ4F_getErrorName(r));
    out->len += r;
    return SL_OK;
}

static sl_err_t enc_snappy(sl_buf *out, const uint8_t *in, size_t len, sl_error *err)
{
    if (sl_buf_append(out, sl_kb_snappy_id, SL_KB_SNAPPY_ID_LEN)) return nomem("snappy", len, err);
    for (size_t at = 0; at < len; at += SL_KB_SNAPPY_CHUNK_MAX) {
        size_t n = len - at < SL_KB_SNAPPY_CHUNK_MAX ? len - at : SL_KB_SNAPPY_CHUNK_MAX;
        if (sl_buf_reserve(out, 8 + snappy_max_compressed_length(n)))
            return nomem("snappy", len, err);
        uint8_t *h = out->p + out->len;
        size_t clen = snappy_max_compressed_length(n);
        int type = 0;
        if (snappy_compress((const char *)in + at, n, (char *)h + 8, &clen) != SNAPPY_OK)
            return sl_error_set(err, SL_ERR_INVALID, "snappy: compression failed");
        if (clen >= n) { /* incompressible: store it */
            type = 1;
            memcpy(h + 8, in + at, n);
            clen = n;
        }
        uint32_t crc = sl_kb_crc_mask(sl_kb_crc32c(in + at, n));
        size_t body = clen + 4;
        uint8_t hdr[8] = {(uint8_t)type,         (uint8_t)body,       (uint8_t)(body >> 8),
                          (uint8_t)(body >> 16), (uint8_t)crc,        (uint8_t)(crc >> 8),
                          (uint8_t)(crc >> 16),  (uint8_t)(crc >> 24)};
        memcpy(h, hdr, 8);
        out->len += 8 + clen;
    }
    return SL_OK;
}

sl_err_t sl_kbatch_encode(sl_buf *out, int codec, const uint8_t *in, size_t len, sl_error *err)
{
    size_t start = out->len;
    sl_err_t rc = SL_OK;
    if (len > INT32_MAX) {
        rc = sl_error_set(err, SL_ERR_LIMIT, "batch encode: %zu bytes exceed the 2 GiB limit", len);
        goto fail;
    }
    if (!in && len) {
        rc = sl_error_set(err, SL_ERR_INVALID, "batch encode: NULL input of %zu bytes", len);
        goto fail;
    }
    if ((rc = check_delimited(in, len, err))) goto fail;
    switch (codec) {
    case SL_KB_NONE:
        rc = sl_buf_append(out, in, len) ? nomem("none", len, err) : SL_OK;
        break;
    case SL_KB_ZSTD:
        rc = enc_zstd(out, in, len, err);
        break;
    case SL_KB_GZIP:
        rc = enc_gzip(out, in, len, err);
        break;
    case SL_KB_LZ4:
        rc = enc_lz4(out, in, len, err);
        break;
    case SL_KB_SNAPPY:
        rc = enc_snappy(out, in, len, err);
        break;
    default:
        rc = sl_error_set(err, SL_ERR_INVALID,
                          "batch encode: codec %d (%s) is not a compression to write; use none, "
                          "gzip, snappy, lz4 or zstd",
                          codec, sl_kbatch_codec_name(codec));
        break;
    }
fail:
    if (rc) out->len = start;
    return rc;
}
