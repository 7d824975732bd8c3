/* kbatch_dec.c - streaming decompression of one Kafka value into the
 * sl_kbatch buffer: zstd frames, gzip members, LZ4 frames, snappy framing.
 *
 * Every decoder runs the same loop: ask the library to fill the free space
 * of kb->out, grow the buffer geometrically, stop at the end of the input.
 * Invariants:
 *   - the buffer never holds more than max_bytes + 1 bytes: the space offered
 *     to a library call ends there, so one byte past max_bytes proves a bomb
 *     (SL_ERR_LIMIT) and nothing is allocated beyond it. No size declared in
 *     the data (zstd/LZ4 content size, snappy preamble) is used to allocate;
 *     declared sizes are checked by the libraries against what decodes.
 *   - concatenation: after a frame/member/stream ends, remaining input must
 *     be another one of the same codec (zstd and LZ4 skippable frames are
 *     skipped by their libraries; snappy padding and skippable chunks are
 *     skipped here). Trailing garbage, even zeros, is an error: a value is
 *     exact, unlike a file.
 *   - input that ends inside a frame is "truncated", never a short success.
 * The zstd window is capped (ZSTD_d_windowLogMax) at max(8 MiB, max_bytes),
 * up to zstd's default cap of 128 MiB, so a 20-byte frame header cannot
 * make the decoder allocate more than the batch bound allows.
 *
 * Byte offsets in messages are positions in the compressed value: exact for
 * snappy (chunk start), the library's input position for zstd and gzip
 * (where it stopped), and the start of the undecoded rest for LZ4 (the LZ4F
 * API does not report how far it got before an error).
 *
 * Not done: decompressing straight into a caller's column store (a batch is
 * at most max_bytes and is decoded once, so one copy is cheap), and zstd
 * dictionaries (no producer we meet uses them; a dictionary frame fails with
 * zstd's "Dictionary mismatch").
 */
#include <limits.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>

#include "formats/batch/kbatch_int.h"

/* zstd's own default cap (ZSTD_WINDOWLOG_LIMIT_DEFAULT, not in the stable API) */
#define SL_KB_ZSTD_WLOG_MAX 27

const uint8_t sl_kb_snappy_id[SL_KB_SNAPPY_ID_LEN] = {0xff, 0x06, 0x00, 0x00, 's',
                                                      'N',  'a',  'P',  'p',  'Y'};

static sl_err_t corrupt(const char *codec, size_t at, size_t n, const char *what, sl_error *err)
{
    return sl_error_set(err, SL_ERR_CORRUPT, "%s: corrupt value at byte %zu of %zu: %s", codec, at,
                        n, what);
}

static sl_err_t truncated(const char *codec, size_t n, sl_error *err)
{
    return sl_error_set(err, SL_ERR_CORRUPT,
                        "%s: the value (%zu bytes) ends inside a frame: it is truncated", codec, n);
}

static sl_err_t bomb(const sl_kbatch *kb, const char *codec, size_t at, size_t n, sl_error *err)
{
    return sl_error_set(err, SL_ERR_LIMIT,
                        "%s: the batch expands past max_bytes (%zu bytes) by byte %zu of the "
                        "%zu-byte value; raise the batch size limit if the producer really sends "
                        "batches this large",
                        codec, kb->max_bytes, at, n);
}

/* Free space for the next library call: *dst and *avail, never past max_bytes + 1
 * in total. Precondition: out.len <= max_bytes. */
static sl_err_t room(sl_kbatch *kb, const char *codec, uint8_t **dst, size_t *avail, sl_error *err)
{
    size_t left = kb->max_bytes + 1 - kb->out.len;
    if (kb->out.cap == kb->out.len) {
        size_t want = kb->out.len < 65536 ? 65536 : kb->out.len / 2;
        if (want > left) want = left;
        if (sl_buf_reserve(&kb->out, want))
            return sl_error_set(err, SL_ERR_NOMEM,
                                "%s: out of memory growing the batch to %zu bytes", codec,
                                kb->out.len + want);
    }
    size_t a = kb->out.cap - kb->out.len;
    *avail = a < left ? a : left;
    *dst = kb->out.p + kb->out.len;
    return SL_OK;
}

/* ---- zstd ---- */

sl_err_t sl_kb_dec_zstd(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err)
{
    if (!kb->zd) {
        if (!(kb->zd = ZSTD_createDCtx()))
            return sl_error_set(err, SL_ERR_NOMEM, "zstd: cannot create a context");
        int wlog = 23; /* 8 MiB: what zstd levels 1-19 use at most */
        while (wlog < SL_KB_ZSTD_WLOG_MAX && ((size_t)1 << wlog) < kb->max_bytes)
            wlog++;
        size_t r = ZSTD_DCtx_setParameter(kb->zd, ZSTD_d_windowLogMax, wlog);
        if (ZSTD_isError(r))
            return sl_error_set(err, SL_ERR_INVALID, "zstd: %s", ZSTD_getErrorName(r));
    } else {
        ZSTD_DCtx_reset(kb->zd, ZSTD_reset_session_only);
    }
    ZSTD_inBuffer in = {v, n, 0};
    for (;;) {
        uint8_t *dst = NULL;
        size_t avail = 0;
        sl_err_t rc = room(kb, "zstd", &dst, &avail, err);
        if (rc) return rc;
        ZSTD_outBuffer o = {dst, avail, 0};
        size_t r = ZSTD_decompressStream(kb->zd, &o, &in);
        kb->out.len += o.pos;
        if (ZSTD_isError(r)) {
            ZSTD_DCtx_reset(kb->zd, ZSTD_reset_session_only);
            return corrupt("zstd", in.pos, n, ZSTD_getErrorName(r), err);
        }
        if (kb->out.len > kb->max_bytes) return bomb(kb, "zstd", in.pos, n, err);
        if (r == 0 && in.pos == in.size) return SL_OK;
        if (r != 0 && in.pos == in.size && o.pos < o.size) return truncated("zstd", n, err);
    }
}

/* ---- gzip ---- */

sl_err_t sl_kb_dec_gzip(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err)
{
    z_stream *z = &kb->inf;
    if (!kb->inf_ready) {
        memset(z, 0, sizeof *z);
        if (inflateInit2(z, 16 + 15) != Z_OK) /* gzip wrapper only */
            return sl_error_set(err, SL_ERR_NOMEM, "gzip: cannot initialize inflate");
        kb->inf_ready = 1;
    } else if (inflateReset(z) != Z_OK) {
        return sl_error_set(err, SL_ERR_INVALID, "gzip: inflateReset failed");
    }
    z->next_in = (Bytef *)(uintptr_t)v;
    z->avail_in = 0;
    for (;;) {
        size_t used = (size_t)((const uint8_t *)z->next_in - v);
        if (z->avail_in == 0) /* uInt is 32 bits: feed a huge value in slices */
            z->avail_in = (uInt)(n - used > UINT_MAX ? UINT_MAX : n - used);
        uint8_t *dst = NULL;
        size_t avail = 0;
        sl_err_t rc = room(kb, "gzip", &dst, &avail, err);
        if (rc) return rc;
        z->next_out = dst;
        z->avail_out = (uInt)(avail > UINT_MAX ? UINT_MAX : avail);
        uInt before = z->avail_out;
        int zr = inflate(z, Z_NO_FLUSH);
        kb->out.len += before - z->avail_out;
        used = (size_t)((const uint8_t *)z->next_in - v);
        if (kb->out.len > kb->max_bytes) return bomb(kb, "gzip", used, n, err);
        if (zr == Z_STREAM_END) {
            if (used == n) return SL_OK;
            if (inflateReset(z) != Z_OK) /* another member follows */
                return sl_error_set(err, SL_ERR_INVALID, "gzip: inflateReset failed");
            continue;
        }
        if (zr == Z_OK) continue;
        if (zr == Z_BUF_ERROR && used == n) return truncated("gzip", n, err);
        return corrupt("gzip", used, n, z->msg ? z->msg : "inflate error", err);
    }
}

/* ---- lz4 frame ---- */

sl_err_t sl_kb_dec_lz4(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err)
{
    if (!kb->lz) {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&kb->lz, LZ4F_VERSION))) {
            kb->lz = NULL;
            return sl_error_set(err, SL_ERR_NOMEM, "lz4: cannot create a context");
        }
    } else {
        LZ4F_resetDecompressionContext(kb->lz);
    }
    size_t pos = 0, hint = 1; /* hint 0: at a frame boundary */
    for (;;) {
        if (pos == n && hint == 0) return SL_OK;
        uint8_t *dst = NULL;
        size_t avail = 0;
        sl_err_t rc = room(kb, "lz4", &dst, &avail, err);
        if (rc) return rc;
        size_t dsz = avail, ssz = n - pos;
        size_t r = LZ4F_decompress(kb->lz, dst, &dsz, v + pos, &ssz, NULL);
        if (LZ4F_isError(r)) {
            LZ4F_resetDecompressionContext(kb->lz);
            return corrupt("lz4", pos, n, LZ4F_getErrorName(r), err);
        }
        pos += ssz;
        kb->out.len += dsz;
        hint = r;
        if (kb->out.len > kb->max_bytes) return bomb(kb, "lz4", pos, n, err);
        if (r != 0 && pos == n && dsz < avail) return truncated("lz4", n, err);
        if (r != 0 && ssz == 0 && dsz == 0) /* never seen; keeps the loop finite */
            return corrupt("lz4", pos, n, "the decoder made no progress", err);
    }
}

/* ---- snappy framing format ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One data chunk (type 0 compressed, 1 uncompressed) at v[at], body d[0..clen). */
static sl_err_t snappy_data(sl_kbatch *kb, const uint8_t *v, size_t n, size_t at, int type,
                            const uint8_t *d, size_t clen, sl_error *err)
{
    char what[160];
    if (clen < 4) return corrupt("snappy", at, n, "data chunk shorter than its CRC", err);
    size_t ulen = clen - 4;
    if (type == 0 && snappy_uncompressed_length((const char *)d + 4, clen - 4, &ulen) != SNAPPY_OK)
        return corrupt("snappy", at, n, "compressed chunk has an invalid length preamble", err);
    if (ulen > SL_KB_SNAPPY_CHUNK_MAX) {
        snprintf(what, sizeof what, "chunk holds %zu uncompressed bytes, the format allows 65536",
                 ulen);
        return corrupt("snappy", at, n, what, err);
    }
    if (ulen > kb->max_bytes - kb->out.len) return bomb(kb, "snappy", at, n, err);
    if (sl_buf_reserve(&kb->out, ulen))
        return sl_error_set(err, SL_ERR_NOMEM,
                            "snappy: out of memory growing the batch to %zu bytes",
                            kb->out.len + ulen);
    uint8_t *dst = kb->out.p + kb->out.len;
    if (type == 0) {
        size_t got = ulen;
        if (snappy_uncompress((const char *)d + 4, clen - 4, (char *)dst, &got) != SNAPPY_OK ||
            got != ulen)
            return corrupt("snappy", at, n, "invalid compressed chunk", err);
    } else if (ulen) {
        memcpy(dst, d + 4, ulen);
    }
    uint32_t want = le32(d), got = sl_kb_crc_mask(sl_kb_crc32c(dst, ulen));
    if (want != got) {
        snprintf(what, sizeof what,
                 "CRC-32C mismatch in a %s chunk (stored %08x, computed %08x over %zu bytes)",
                 type == 0 ? "compressed" : "uncompressed", want, got, ulen);
        return corrupt("snappy", at, n, what, err);
    }
    kb->out.len += ulen;
    return SL_OK;
}

sl_err_t sl_kb_dec_snappy(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err)
{
    char what[160];
    size_t pos = 0;
    while (pos < n) {
        if (n - pos < 4) return truncated("snappy", n, err);
        int type = v[pos];
        size_t clen = (size_t)v[pos + 1] | (size_t)v[pos + 2] << 8 | (size_t)v[pos + 3] << 16;
        const uint8_t *d = v + pos + 4;
        if (clen > n - pos - 4) return truncated("snappy", n, err);
        if (pos == 0 && type != 0xff)
            return corrupt("snappy", 0, n, "the stream does not begin with a stream identifier",
                           err);
        if (type == 0xff) {
            if (clen != 6 || memcmp(d, sl_kb_snappy_id + 4, 6) != 0)
                return corrupt("snappy", pos, n, "bad stream identifier chunk", err);
        } else if (type <= 1) {
            sl_err_t rc = snappy_data(kb, v, n, pos, type, d, clen, err);
            if (rc) return rc;
        } else if (type <= 0x7f) {
            snprintf(what, sizeof what, "reserved unskippable chunk type 0x%02x", (unsigned)type);
            return corrupt("snappy", pos, n, what, err);
        } /* 0x80-0xfe: skippable or padding */
        pos += 4 + clen;
    }
    return SL_OK;
}
