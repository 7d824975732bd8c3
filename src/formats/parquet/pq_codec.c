/* pq_codec.c - page compression for Parquet: UNCOMPRESSED, SNAPPY, GZIP,
 * ZSTD and LZ4_RAW, both directions. See pq_codec.h.
 *
 * One context holds the library state that is expensive to create: a
 * ZSTD_CCtx and ZSTD_DCtx, a deflate and an inflate z_stream. Each is made
 * on first use and reset (not re-created) for every later page, so a
 * writer thread compresses page after page without allocating. A context
 * is not thread-safe: one per writer or reader.
 *
 * Default levels (level 0), chosen for the ingestion hot path where the
 * codec is the floor of the whole pipeline (bench/README.md: zstd -1 alone
 * runs at ~0.9M rows/s of the reference workload on one core):
 *   - ZSTD: level 1. Levels 2-3 cost 30-60% more CPU for a few percent of
 *     size on event data; lake compaction can recompress colder data. The
 *     column writer may instead pick SL_PQ_LEVEL_LITERALS for a chunk
 *     (zstd_literals: no match search, literals still Huffman-coded) where
 *     its sample shows matches do not pay.
 *   - GZIP: zlib's level 6, the level every other Parquet writer uses; gzip
 *     is chosen for compatibility, not speed (use zstd for speed).
 *   - SNAPPY, LZ4_RAW: no levels.
 *
 * Formats: GZIP is RFC 1952 (deflate with a gzip wrapper, windowBits 31);
 * decompression also accepts a zlib wrapper and several concatenated gzip
 * members, as some writers produce. LZ4_RAW is a bare LZ4 block. ZSTD
 * accepts concatenated frames. Decompression insists on the exact size the
 * page header promises: short or long output is SL_ERR_CORRUPT, and output
 * never goes past dst_len. The deprecated Hadoop-framed LZ4, LZO and
 * BROTLI are rejected as SL_ERR_UNSUPPORTED (no Debian-packaged writer we
 * meet produces them; adding one is another case here).
 *
 * sl_pq_compress_to writes into caller memory (the writer compresses each
 * page straight into its chunk store); sl_pq_compress appends to an
 * sl_buf through it.
 *
 * ZSTD compression contexts are pooled for the process: a context's
 * workspace (a few MiB at level 1) is what costs, in the kernel zeroing
 * fresh pages at first touch, and the Kafka pipeline opens and closes
 * writers all the time (a bucket per stream and hour, every checkpoint).
 * A freed context goes back to the pool (at most SL_PQ_ZPOOL kept), the next
 * writer takes it with its workspace already touched.
 *
 * Sizes: a Parquet page size is an i32, so inputs and outputs above
 * INT32_MAX are refused (SL_ERR_LIMIT) before any library call.
 */
#include "formats/parquet/pq_codec.h"

#include <limits.h>
#include <lz4.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
/* ZSTD_c_literalCompressionMode (SL_PQ_LEVEL_LITERALS) is in zstd's
 * experimental API; a library that refuses it gets level 1 instead. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#if ZSTD_VERSION_NUMBER >= 10501
#define SL_ZSTD_HUF_ON ZSTD_ps_enable
#else
#define SL_ZSTD_HUF_ON ZSTD_lcm_huffman
#endif

#include "formats/parquet/pq_meta.h"

#define SL_PQ_ZSTD_DEFAULT_LEVEL 1
#define SL_PQ_GZIP_DEFAULT_LEVEL 6

struct sl_pq_codec_ctx {
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    z_stream def;
    int def_ready, def_level;
    z_stream inf;
    int inf_ready;
};

#define SL_PQ_ZPOOL 64

static pthread_mutex_t zpool_mu = PTHREAD_MUTEX_INITIALIZER;
static ZSTD_CCtx *zpool[SL_PQ_ZPOOL];
static int zpool_n;

static ZSTD_CCtx *zpool_take(void)
{
    ZSTD_CCtx *z = NULL;
    pthread_mutex_lock(&zpool_mu);
    if (zpool_n) z = zpool[--zpool_n];
    pthread_mutex_unlock(&zpool_mu);
    return z ? z : ZSTD_createCCtx();
}

static void zpool_give(ZSTD_CCtx *z)
{
    if (!z) return;
    pthread_mutex_lock(&zpool_mu);
    if (zpool_n < SL_PQ_ZPOOL) {
        zpool[zpool_n++] = z;
        z = NULL;
    }
    pthread_mutex_unlock(&zpool_mu);
    ZSTD_freeCCtx(z);
}

sl_err_t sl_pq_codec_ctx_new(sl_pq_codec_ctx **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? SL_OK : SL_ERR_NOMEM;
}

void sl_pq_codec_ctx_free(sl_pq_codec_ctx *c)
{
    if (!c) return;
    zpool_give(c->zc);
    ZSTD_freeDCtx(c->zd);
    if (c->def_ready) deflateEnd(&c->def);
    if (c->inf_ready) inflateEnd(&c->inf);
    free(c);
}

static const char *codec_name(int codec)
{
    switch (codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
        return "uncompressed";
    case SL_PQ_CODEC_SNAPPY:
        return "snappy";
    case SL_PQ_CODEC_GZIP:
        return "gzip";
    case SL_PQ_CODEC_LZO:
        return "lzo";
    case SL_PQ_CODEC_BROTLI:
        return "brotli";
    case SL_PQ_CODEC_LZ4:
        return "lz4 (hadoop framing)";
    case SL_PQ_CODEC_ZSTD:
        return "zstd";
    case SL_PQ_CODEC_LZ4_RAW:
        return "lz4_raw";
    }
    return "unknown codec";
}

static sl_err_t unsupported(int codec, sl_error *err)
{
    return sl_error_set(err, SL_ERR_UNSUPPORTED,
                        "compression codec %d (%s) is not supported; sluice reads and writes "
                        "uncompressed, snappy, gzip, zstd and lz4_raw",
                        codec, codec_name(codec));
}

/* ---- compression ---- */

size_t sl_pq_compress_bound(int codec, size_t n)
{
    if (n > INT32_MAX) return 0;
    switch (codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
        return n;
    case SL_PQ_CODEC_SNAPPY:
        return snappy_max_compressed_length(n);
    case SL_PQ_CODEC_GZIP: /* zlib's deflateBound for stored blocks, plus the gzip wrapper */
        return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 18 + 32;
    case SL_PQ_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    case SL_PQ_CODEC_LZ4_RAW:
        return (size_t)LZ4_compressBound((int)n);
    }
    return 0;
}

static sl_err_t gzip_compress(sl_pq_codec_ctx *c, int level, const uint8_t *src, size_t n,
                              uint8_t *dst, size_t cap, size_t *out_len, sl_error *err)
{
    if (level == 0) level = SL_PQ_GZIP_DEFAULT_LEVEL;
    if (level < 1 || level > 9)
        return sl_error_set(err, SL_ERR_INVALID, "gzip level %d out of range 1..9", level);
    if (c->def_ready && c->def_level != level) {
        deflateEnd(&c->def);
        c->def_ready = 0;
    }
    if (!c->def_ready) {
        memset(&c->def, 0, sizeof c->def);
        if (deflateInit2(&c->def, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return sl_error_set(err, SL_ERR_NOMEM, "gzip: cannot initialize deflate");
        c->def_ready = 1;
        c->def_level = level;
    } else if (deflateReset(&c->def) != Z_OK) {
        return sl_error_set(err, SL_ERR_INVALID, "gzip: deflateReset failed");
    }
    c->def.next_in = (Bytef *)(uintptr_t)src;
    c->def.avail_in = (uInt)n;
    c->def.next_out = dst;
    c->def.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
    int zr = deflate(&c->def, Z_FINISH);
    if (zr != Z_STREAM_END)
        return sl_error_set(err, SL_ERR_INVALID, "gzip: deflate failed (%d)", zr);
    *out_len = c->def.total_out;
    return SL_OK;
}

/* SL_PQ_LEVEL_LITERALS: zstd's fastest level (the match finder's largest
 * acceleration: it skips ahead ever faster where nothing matches) with the
 * literals still Huffman-coded, which zstd turns off by default for
 * negative levels. On hex ids and dotted quads this is level 1's size
 * (within 0.5%) at 1.3-2.5x the speed; the column writer picks it per
 * chunk by trial (pq_column.c). A zstd that refuses the parameter (one
 * without this experimental parameter) compresses at the default level. */
static sl_err_t zstd_literals(sl_pq_codec_ctx *c, const uint8_t *src, size_t n, uint8_t *dst,
                              size_t cap, size_t *out_len, sl_error *err)
{
    if (!c->zc && !(c->zc = zpool_take()))
        return sl_error_set(err, SL_ERR_NOMEM, "zstd: cannot create a context");
    size_t r;
    ZSTD_CCtx_reset(c->zc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, ZSTD_minCLevel())) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_literalCompressionMode, SL_ZSTD_HUF_ON)))
        r = ZSTD_compressCCtx(c->zc, dst, cap, src, n, SL_PQ_ZSTD_DEFAULT_LEVEL);
    else
        r = ZSTD_compress2(c->zc, dst, cap, src, n);
    if (ZSTD_isError(r)) return sl_error_set(err, SL_ERR_INVALID, "zstd: %s", ZSTD_getErrorName(r));
    *out_len = r;
    return SL_OK;
}

sl_err_t sl_pq_compress_to(sl_pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n,
                           uint8_t *dst, size_t cap, size_t *out_len, sl_error *err)
{
    if (n > INT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT,
                            "%s: page of %zu bytes exceeds the Parquet limit "
                            "of 2 GiB; lower page_bytes",
                            codec_name(codec), n);
    size_t bound = sl_pq_compress_bound(codec, n);
    if (!bound && n) return unsupported(codec, err);
    if (cap < bound)
        return sl_error_set(err, SL_ERR_INVALID, "%s: output room %zu below the bound %zu",
                            codec_name(codec), cap, bound);
    switch (codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
        if (n) memcpy(dst, src, n);
        *out_len = n;
        return SL_OK;
    case SL_PQ_CODEC_SNAPPY: {
        size_t len = cap;
        if (snappy_compress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK)
            return sl_error_set(err, SL_ERR_INVALID, "snappy: compression failed");
        *out_len = len;
        return SL_OK;
    }
    case SL_PQ_CODEC_GZIP:
        return gzip_compress(c, level, src, n, dst, cap, out_len, err);
    case SL_PQ_CODEC_ZSTD: {
        if (level == SL_PQ_LEVEL_LITERALS) return zstd_literals(c, src, n, dst, cap, out_len, err);
        if (level == 0) level = SL_PQ_ZSTD_DEFAULT_LEVEL;
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
            return sl_error_set(err, SL_ERR_INVALID, "zstd level %d out of range %d..%d", level,
                                ZSTD_minCLevel(), ZSTD_maxCLevel());
        if (!c->zc && !(c->zc = zpool_take()))
            return sl_error_set(err, SL_ERR_NOMEM, "zstd: cannot create a context");
        size_t r = ZSTD_compressCCtx(c->zc, dst, cap, src, n, level);
        if (ZSTD_isError(r))
            return sl_error_set(err, SL_ERR_INVALID, "zstd: %s", ZSTD_getErrorName(r));
        *out_len = r;
        return SL_OK;
    }
    case SL_PQ_CODEC_LZ4_RAW: {
        int r = LZ4_compress_default((const char *)src, (char *)dst, (int)n,
                                     cap > INT32_MAX ? INT32_MAX : (int)cap);
        if (r <= 0 && n > 0)
            return sl_error_set(err, SL_ERR_INVALID, "lz4_raw: compression failed");
        *out_len = (size_t)r;
        return SL_OK;
    }
    }
    return unsupported(codec, err);
}

sl_err_t sl_pq_compress(sl_pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n,
                        sl_buf *dst, sl_error *err)
{
    size_t bound = sl_pq_compress_bound(codec, n), used = 0;
    if (!bound && n) {
        if (n > INT32_MAX)
            return sl_error_set(err, SL_ERR_LIMIT,
                                "%s: page of %zu bytes exceeds the Parquet limit of 2 GiB; "
                                "lower page_bytes",
                                codec_name(codec), n);
        return unsupported(codec, err);
    }
    if (sl_buf_reserve(dst, bound + 1))
        return sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory for %zu bytes", codec_name(codec),
                            bound);
    sl_err_t rc =
        sl_pq_compress_to(c, codec, level, src, n, dst->p + dst->len, bound + 1, &used, err);
    if (rc) return rc;
    dst->len += used;
    return SL_OK;
}

/* ---- decompression ---- */

static sl_err_t size_mismatch(int codec, size_t n, size_t dst_len, const char *what, sl_error *err)
{
    return sl_error_set(err, SL_ERR_CORRUPT,
                        "%s: %zu compressed bytes do not decompress to the %zu bytes the page "
                        "header promises (%s)",
                        codec_name(codec), n, dst_len, what);
}

static sl_err_t gzip_decompress(sl_pq_codec_ctx *c, const uint8_t *src, size_t n, uint8_t *dst,
                                size_t dst_len, sl_error *err)
{
    if (!c->inf_ready) {
        memset(&c->inf, 0, sizeof c->inf);
        /* 32 + 15: accept a gzip or a zlib wrapper */
        if (inflateInit2(&c->inf, 47) != Z_OK)
            return sl_error_set(err, SL_ERR_NOMEM, "gzip: cannot initialize inflate");
        c->inf_ready = 1;
    } else if (inflateReset(&c->inf) != Z_OK) {
        return sl_error_set(err, SL_ERR_INVALID, "gzip: inflateReset failed");
    }
    z_stream *z = &c->inf;
    z->next_in = (Bytef *)(uintptr_t)src;
    z->avail_in = (uInt)n;
    z->next_out = dst;
    z->avail_out = (uInt)dst_len;
    for (;;) {
        int zr = inflate(z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            if (z->avail_in == 0) break;
            /* another gzip member follows */
            if (inflateReset(z) != Z_OK)
                return sl_error_set(err, SL_ERR_INVALID, "gzip: inflateReset failed");
            continue;
        }
        if (zr == Z_OK && z->avail_out > 0 && z->avail_in > 0) continue;
        if (zr == Z_OK || zr == Z_BUF_ERROR)
            return size_mismatch(SL_PQ_CODEC_GZIP, n, dst_len,
                                 z->avail_out == 0 ? "data continues past the expected size"
                                                   : "data ends early",
                                 err);
        return sl_error_set(err, SL_ERR_CORRUPT, "gzip: invalid compressed data (%s)",
                            z->msg ? z->msg : "inflate error");
    }
    if (z->avail_out != 0) return size_mismatch(SL_PQ_CODEC_GZIP, n, dst_len, "short", err);
    return SL_OK;
}

sl_err_t sl_pq_decompress(sl_pq_codec_ctx *c, int codec, const uint8_t *src, size_t n, uint8_t *dst,
                          size_t dst_len, sl_error *err)
{
    if (n > INT32_MAX || dst_len > INT32_MAX)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "%s: page sizes %zu/%zu exceed the Parquet limit of 2 GiB",
                            codec_name(codec), n, dst_len);
    switch (codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
        if (n != dst_len) return size_mismatch(codec, n, dst_len, "uncompressed sizes differ", err);
        if (n) memcpy(dst, src, n);
        return SL_OK;
    case SL_PQ_CODEC_SNAPPY: {
        size_t ulen = 0;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
            return sl_error_set(err, SL_ERR_CORRUPT, "snappy: invalid compressed data");
        if (ulen != dst_len) return size_mismatch(codec, n, dst_len, "length preamble", err);
        size_t out = dst_len;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &out) != SNAPPY_OK ||
            out != dst_len)
            return sl_error_set(err, SL_ERR_CORRUPT, "snappy: invalid compressed data");
        return SL_OK;
    }
    case SL_PQ_CODEC_GZIP:
        return gzip_decompress(c, src, n, dst, dst_len, err);
    case SL_PQ_CODEC_ZSTD: {
        if (!c->zd && !(c->zd = ZSTD_createDCtx()))
            return sl_error_set(err, SL_ERR_NOMEM, "zstd: cannot create a context");
        size_t r = ZSTD_decompressDCtx(c->zd, dst, dst_len, src, n);
        if (ZSTD_isError(r))
            return sl_error_set(err, SL_ERR_CORRUPT, "zstd: %s (expected %zu bytes)",
                                ZSTD_getErrorName(r), dst_len);
        if (r != dst_len) return size_mismatch(codec, n, dst_len, "short", err);
        return SL_OK;
    }
    case SL_PQ_CODEC_LZ4_RAW: {
        if (dst_len == 0 && n <= 1) return SL_OK; /* an empty block is one zero token */
        int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len);
        if (r < 0) return sl_error_set(err, SL_ERR_CORRUPT, "lz4_raw: invalid compressed data");
        if ((size_t)r != dst_len) return size_mismatch(codec, n, dst_len, "short", err);
        return SL_OK;
    }
    }
    return unsupported(codec, err);
}
