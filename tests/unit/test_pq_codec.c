/* test_pq_codec.c - page codecs: round trips on empty, tiny, random and
 * compressible pages; the format markers each spec requires (gzip member
 * header, zstd frame magic); gzip streams of several members; exact-size
 * enforcement and garbage input (an error, never a crash); unsupported
 * codecs and bad levels. Interoperability with other readers is covered
 * by e2e 0002 (DuckDB and hyparquet decompress every codec). */
#include <zlib.h>

#include "formats/parquet/pq_codec.h"
#include "formats/parquet/pq_meta.h"
#include "test.h"

static const int codecs[] = {SL_PQ_CODEC_UNCOMPRESSED, SL_PQ_CODEC_SNAPPY, SL_PQ_CODEC_GZIP,
                             SL_PQ_CODEC_ZSTD, SL_PQ_CODEC_LZ4_RAW};
#define NCODECS (sizeof codecs / sizeof codecs[0])

static uint64_t rng = 88172645463325252ULL;
static uint8_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)rng;
}

static void roundtrip(sl_pq_codec_ctx *c, int codec, const uint8_t *src, size_t n)
{
    sl_buf z = SL_BUF_INIT;
    sl_error err;
    CHECK_OK(sl_buf_put_u8(&z, 0xAA), &err); /* compress appends: keep a prefix */
    CHECK_OK(sl_pq_compress(c, codec, 0, src, n, &z, &err), &err);
    CHECK(z.p[0] == 0xAA);
    uint8_t *back = malloc(n + 1);
    CHECK_OK(sl_pq_decompress(c, codec, z.p + 1, z.len - 1, back, n, &err), &err);
    CHECK(n == 0 || !memcmp(back, src, n));
    if (n > 0) {
        /* a wrong expected size is corruption, both ways */
        CHECK_EQ_INT(sl_pq_decompress(c, codec, z.p + 1, z.len - 1, back, n - 1, &err),
                     SL_ERR_CORRUPT);
        uint8_t *big = malloc(n + 1);
        CHECK_EQ_INT(sl_pq_decompress(c, codec, z.p + 1, z.len - 1, big, n + 1, &err),
                     SL_ERR_CORRUPT);
        free(big);
    }
    if (codec != SL_PQ_CODEC_UNCOMPRESSED && z.len > 3) {
        /* truncated input: an error, not a crash */
        sl_err_t rc = sl_pq_decompress(c, codec, z.p + 1, (z.len - 1) / 2, back, n, &err);
        CHECK(rc == SL_ERR_CORRUPT);
    }
    free(back);
    sl_buf_free(&z);
}

static void test_roundtrips(void)
{
    sl_pq_codec_ctx *c;
    CHECK_OK(sl_pq_codec_ctx_new(&c), (sl_error *)NULL);
    size_t big = 1 << 20;
    uint8_t *r = malloc(big), *t = malloc(big);
    for (size_t i = 0; i < big; i++) {
        r[i] = rnd();
        t[i] = (uint8_t)("event_time,mid,avid,"[i % 20] + (i / 4096 % 3));
    }
    for (size_t k = 0; k < NCODECS; k++) {
        roundtrip(c, codecs[k], r, 0);
        roundtrip(c, codecs[k], r, 1);
        roundtrip(c, codecs[k], r, 100000);
        roundtrip(c, codecs[k], t, big);
        roundtrip(c, codecs[k], t, 777); /* the context is reused page after page */
    }
    free(r);
    free(t);
    sl_pq_codec_ctx_free(c);
}

static void test_formats(void)
{
    sl_pq_codec_ctx *c;
    sl_error err;
    CHECK_OK(sl_pq_codec_ctx_new(&c), &err);
    const uint8_t src[] = "hello hello hello hello parquet";
    sl_buf z = SL_BUF_INIT;
    /* GZIP is RFC 1952: magic 1f 8b, method 8 (deflate) */
    CHECK_OK(sl_pq_compress(c, SL_PQ_CODEC_GZIP, 0, src, sizeof src, &z, &err), &err);
    CHECK(z.len > 18 && z.p[0] == 0x1f && z.p[1] == 0x8b && z.p[2] == 8);
    z.len = 0;
    /* ZSTD frame magic 0xFD2FB528, little endian */
    CHECK_OK(sl_pq_compress(c, SL_PQ_CODEC_ZSTD, 0, src, sizeof src, &z, &err), &err);
    CHECK(z.len > 4 && z.p[0] == 0x28 && z.p[1] == 0xb5 && z.p[2] == 0x2f && z.p[3] == 0xfd);
    z.len = 0;
    /* UNCOMPRESSED is the bytes themselves */
    CHECK_OK(sl_pq_compress(c, SL_PQ_CODEC_UNCOMPRESSED, 0, src, sizeof src, &z, &err), &err);
    CHECK(z.len == sizeof src && !memcmp(z.p, src, sizeof src));
    sl_buf_free(&z);
    sl_pq_codec_ctx_free(c);
}

/* Two gzip members back to back (as some writers produce), made with zlib
 * directly, decompress to the concatenation. */
static void test_gzip_members(void)
{
    uint8_t out[256], buf[512];
    size_t pos = 0;
    const char *parts[] = {"first member, ", "second member"};
    for (int i = 0; i < 2; i++) {
        z_stream s;
        memset(&s, 0, sizeof s);
        CHECK(deflateInit2(&s, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        s.next_in = (Bytef *)(uintptr_t)parts[i];
        s.avail_in = (uInt)strlen(parts[i]);
        s.next_out = buf + pos;
        s.avail_out = (uInt)(sizeof buf - pos);
        CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
        pos = sizeof buf - s.avail_out;
        deflateEnd(&s);
    }
    sl_pq_codec_ctx *c;
    sl_error err;
    CHECK_OK(sl_pq_codec_ctx_new(&c), &err);
    size_t n = strlen(parts[0]) + strlen(parts[1]);
    CHECK_OK(sl_pq_decompress(c, SL_PQ_CODEC_GZIP, buf, pos, out, n, &err), &err);
    CHECK(!memcmp(out, "first member, second member", n));
    /* a zlib-wrapped stream is accepted too */
    uLongf zl = sizeof buf;
    CHECK(compress2(buf, &zl, (const Bytef *)"zlib data", 9, 6) == Z_OK);
    CHECK_OK(sl_pq_decompress(c, SL_PQ_CODEC_GZIP, buf, zl, out, 9, &err), &err);
    CHECK(!memcmp(out, "zlib data", 9));
    sl_pq_codec_ctx_free(c);
}

static void test_garbage(void)
{
    sl_pq_codec_ctx *c;
    sl_error err;
    CHECK_OK(sl_pq_codec_ctx_new(&c), &err);
    uint8_t in[300], out[1000];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + rnd() % sizeof in;
        for (size_t i = 0; i < n; i++)
            in[i] = rnd();
        for (size_t k = 1; k < NCODECS; k++) {
            sl_err_t rc = sl_pq_decompress(c, codecs[k], in, n, out, 1 + rnd() % sizeof out, &err);
            CHECK(rc == SL_OK || rc == SL_ERR_CORRUPT);
        }
    }
    sl_pq_codec_ctx_free(c);
}

static void test_unsupported(void)
{
    sl_pq_codec_ctx *c;
    sl_error err;
    CHECK_OK(sl_pq_codec_ctx_new(&c), &err);
    sl_buf z = SL_BUF_INIT;
    uint8_t out[4];
    int bad[] = {SL_PQ_CODEC_LZO, SL_PQ_CODEC_BROTLI, SL_PQ_CODEC_LZ4, 99};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(sl_pq_compress(c, bad[i], 0, (const uint8_t *)"ab", 2, &z, &err),
                     SL_ERR_UNSUPPORTED);
        CHECK_EQ_INT(sl_pq_decompress(c, bad[i], (const uint8_t *)"ab", 2, out, 2, &err),
                     SL_ERR_UNSUPPORTED);
    }
    CHECK_EQ_INT(sl_pq_compress(c, SL_PQ_CODEC_GZIP, 10, (const uint8_t *)"ab", 2, &z, &err),
                 SL_ERR_INVALID);
    CHECK_EQ_INT(sl_pq_compress(c, SL_PQ_CODEC_ZSTD, 99, (const uint8_t *)"ab", 2, &z, &err),
                 SL_ERR_INVALID);
    CHECK_OK(sl_pq_compress(c, SL_PQ_CODEC_ZSTD, 19, (const uint8_t *)"ab", 2, &z, &err), &err);
    CHECK_OK(sl_pq_compress(c, SL_PQ_CODEC_GZIP, 9, (const uint8_t *)"ab", 2, &z, &err), &err);
    sl_buf_free(&z);
    sl_pq_codec_ctx_free(c);
}

int main(void)
{
    RUN(test_roundtrips);
    RUN(test_formats);
    RUN(test_gzip_members);
    RUN(test_garbage);
    RUN(test_unsupported);
    return TEST_DONE();
}
