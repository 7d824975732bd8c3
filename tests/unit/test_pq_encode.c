/* test_pq_encode.c - the writer's bottom layer: the RLE/bit-packed hybrid
 * (exact bytes for cases worked out by hand from Encodings.md, and a round
 * trip through a decoder written here from the same spec),
 * DELTA_BINARY_PACKED (the examples of Encodings.md byte for byte, and
 * round trips through the reader's decoder, which test_pq_decode checks
 * against the spec and e2e 0003 against DuckDB's files), the column
 * dictionary (stable indexes, exact-bit equality, growth, page marks), and
 * the statistics accumulators (orders, NaN, signed zeros, truncation). */
#include <math.h>

#include "formats/parquet/pq_decode.h"
#include "formats/parquet/pq_encode.h"
#include "formats/parquet/pq_meta.h"
#include "formats/parquet/pq_stats.h"
#include "test.h"

static int bytes_eq(const sl_buf *b, const uint8_t *want, size_t n)
{
    if (b->len != n || memcmp(b->p, want, n)) {
        fprintf(stderr, "  got:");
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, " %02x", b->p[i]);
        fprintf(stderr, "\n");
        return 0;
    }
    return 1;
}

static void test_rle_bytes(void)
{
    sl_buf b = SL_BUF_INIT;
    uint8_t ten[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    /* RLE run: varint(10 << 1), then the value in 1 byte */
    CHECK_OK(sl_pq_rle_encode_u8(ten, 10, 1, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x14, 0x01}, 2));
    /* Encodings.md's example: 0..7 bit-packed with width 3 */
    b.len = 0;
    uint8_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    CHECK_OK(sl_pq_rle_encode_u8(seq, 8, 3, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x03, 0x88, 0xC6, 0xFA}, 4));
    /* one bit-packed group then an RLE run of 9 */
    b.len = 0;
    uint8_t mix[17] = {0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    CHECK_OK(sl_pq_rle_encode_u8(mix, 17, 2, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x03, 0x44, 0x44, 0x12, 0x02}, 5));
    /* a short tail is one zero-padded group */
    b.len = 0;
    CHECK_OK(sl_pq_rle_encode_u8((const uint8_t[]){1, 0, 1}, 3, 1, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x03, 0x05}, 2));
    /* u32: an RLE value takes ceil(bw/8) bytes */
    b.len = 0;
    uint32_t big[8] = {1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023};
    CHECK_OK(sl_pq_rle_encode_u32(big, 8, 10, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x10, 0xFF, 0x03}, 3));
    b.len = 0;
    CHECK_OK(sl_pq_rle_encode_u32(big, 0, 10, &b), (sl_error *)NULL);
    CHECK_EQ_INT(b.len, 0);
    sl_buf_free(&b);
}

/* A hybrid decoder, from Encodings.md. Returns values decoded or -1. */
static long decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t want)
{
    size_t i = 0, got = 0;
    while (got < want) {
        uint64_t h = 0;
        const uint8_t *q = p + i;
        if (sl_varint_get(&q, p + n, &h)) return -1;
        i = (size_t)(q - p);
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            uint64_t bitpos = 0;
            for (size_t k = 0; k < cnt; k++) {
                uint32_t v = 0;
                for (int b = 0; b < bw; b++, bitpos++) {
                    if (i + bitpos / 8 >= n) return -1;
                    v |= (uint32_t)(p[i + bitpos / 8] >> (bitpos % 8) & 1) << b;
                }
                if (got < want) out[got++] = v;
            }
            i += (size_t)(h >> 1) * (size_t)bw;
        } else {
            size_t cnt = (size_t)(h >> 1), vb = ((size_t)bw + 7) / 8;
            uint32_t v = 0;
            if (i + vb > n || cnt == 0) return -1;
            memcpy(&v, p + i, vb);
            i += vb;
            for (size_t k = 0; k < cnt && got < want; k++)
                out[got++] = v;
        }
    }
    return i == n ? (long)got : -1;
}

static uint64_t rs = 0x1234567;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)rs;
}

static void test_rle_roundtrip(void)
{
    enum { N = 5000 };
    static uint8_t v8[N];
    static uint32_t v32[N], back[N];
    sl_buf b = SL_BUF_INIT;
    for (int round = 0; round < 300; round++) {
        int bw = 1 + round % 32;
        size_t n = rnd() % N;
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (size_t i = 0; i < n;) { /* runs of random length, some long */
            uint32_t x = rnd() & mask, len = rnd() % 4 ? 1 + rnd() % 5 : 1 + rnd() % 300;
            for (uint32_t k = 0; k < len && i < n; k++, i++)
                v32[i] = x;
        }
        b.len = 0;
        CHECK_OK(sl_pq_rle_encode_u32(v32, n, bw, &b), (sl_error *)NULL);
        CHECK(b.len <= sl_pq_rle_bound(n, bw));
        CHECK_EQ_INT(decode(b.p, b.len, bw, back, n), (long)n);
        CHECK(!memcmp(back, v32, n * 4));
        if (bw <= 8) {
            for (size_t i = 0; i < n; i++)
                v8[i] = (uint8_t)v32[i];
            b.len = 0;
            CHECK_OK(sl_pq_rle_encode_u8(v8, n, bw, &b), (sl_error *)NULL);
            CHECK_EQ_INT(decode(b.p, b.len, bw, back, n), (long)n);
            for (size_t i = 0; i < n; i++)
                CHECK(back[i] == v8[i]);
        }
    }
    sl_buf_free(&b);
}

/* Decode n DELTA_BINARY_PACKED INT64 values with the reader's decoder and
 * compare them with want. */
static int delta_round_trip(const int64_t *want, size_t n)
{
    sl_buf enc = SL_BUF_INIT;
    sl_schema s;
    sl_batch b;
    sl_error e;
    sl_logical none = {0};
    uint64_t budget = 1 << 24;
    int ok = 0;
    if (sl_pq_delta_encode_i64((const uint8_t *)want, n, &enc) || sl_schema_init(&s, "schema"))
        return 0;
    if (sl_schema_add(&s, 0, "v", SL_REQUIRED, 0, SL_PT_INT64, none, -1) == 1 &&
        !sl_schema_finish(&s, &e) && !sl_batch_init(&b, &s)) {
        ok = !sl_pq_rd_values(&b.cols[0], 8, SL_PQ_ENC_DELTA_BINARY_PACKED, enc.p, enc.len, n, NULL,
                              &budget, &e) &&
             b.cols[0].nvals == n && (!n || !memcmp(b.cols[0].val.p, want, n * 8));
        sl_batch_free(&b);
    }
    sl_schema_free(&s);
    sl_buf_free(&enc);
    return ok;
}

static void test_delta(void)
{
    sl_buf b = SL_BUF_INIT;
    /* Encodings.md example 1: 1 2 3 4 5 -> deltas all 1: min delta 1,
     * every miniblock at bit width 0 */
    const int64_t ex1[] = {1, 2, 3, 4, 5};
    CHECK_OK(sl_pq_delta_encode_i64((const uint8_t *)ex1, 5, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b, (const uint8_t[]){0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0}, 10));
    /* example 2: 7 5 3 1 2 3 4 5 -> min delta -2, relative 0 0 0 3 3 3 3
     * at bit width 2: one miniblock of 32 values, 8 bytes */
    const int64_t ex2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    b.len = 0;
    CHECK_OK(sl_pq_delta_encode_i64((const uint8_t *)ex2, 8, &b), (sl_error *)NULL);
    CHECK(bytes_eq(&b,
                   (const uint8_t[]){0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0,
                                     0, 0, 0, 0, 0},
                   18));
    /* DELTA_LENGTH_BYTE_ARRAY's example ("Hello World Foobar ABCDEF"):
     * lengths 5 5 6 6, deltas 0 1 0 at bit width 1 (as test_pq_decode) */
    const uint32_t lens[] = {5, 5, 6, 6};
    b.len = 0;
    CHECK_OK(sl_pq_delta_encode_u32(lens, 4, &b), (sl_error *)NULL);
    CHECK(bytes_eq(
        &b, (const uint8_t[]){0x80, 0x01, 0x04, 0x04, 0x0A, 0x00, 1, 0, 0, 0, 0x02, 0, 0, 0}, 14));
    sl_buf_free(&b);
    /* round trips: block and miniblock edges, wrapping deltas, every bit
     * width up to 64 */
    int64_t v[1000];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int bw = (int)(i / 16 % 65);
        v[i] = (int64_t)(bw == 64 ? x : x & ((1ULL << bw) - 1));
    }
    const size_t ns[] = {0, 1, 2, 31, 32, 33, 128, 129, 130, 257, 1000};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        CHECK(delta_round_trip(v, ns[k]));
    /* each miniblock bit width exactly once (one packer per width): deltas
     * 0 and 2^bw - 1 among random ones below 2^bw */
    for (int bw = 1; bw <= 64; bw++) {
        uint64_t mask = bw == 64 ? ~0ULL : (1ULL << bw) - 1, acc = 0;
        for (size_t i = 0; i < 200; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t d = i % 7 == 1 ? 0 : i % 5 == 2 ? mask : x & mask;
            acc += d; /* wraps */
            v[i] = (int64_t)acc;
        }
        CHECK(delta_round_trip(v, 200));
    }
    const int64_t ext[] = {INT64_MIN, INT64_MAX, INT64_MIN, 0, -1, INT64_MAX, INT64_MAX, 1};
    CHECK(delta_round_trip(ext, 8));
    for (size_t i = 0; i < 1000; i++)
        v[i] = 1764547200000 + (int64_t)i * 1000; /* sorted timestamps */
    CHECK(delta_round_trip(v, 1000));
}

static void test_dict_fixed(void)
{
    sl_pq_dict d;
    sl_pq_dict_init(&d, 8);
    double vals[6] = {1.5, -0.0, 0.0, NAN, 1.5, 0.0};
    uint32_t idx[6];
    CHECK_OK(sl_pq_dict_map_fixed(&d, (const uint8_t *)vals, 6, idx), (sl_error *)NULL);
    CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 2 && idx[3] == 3 && idx[4] == 0 && idx[5] == 2);
    CHECK_EQ_INT(d.n, 4);
    CHECK(d.vals.len == 32 && !memcmp(d.vals.p, vals, 32)); /* PLAIN body */
    /* growth: many entries keep their indexes */
    enum { M = 100000 };
    static int64_t many[M];
    static uint32_t mi[M], mi2[M];
    sl_pq_dict_reset(&d);
    for (int i = 0; i < M; i++)
        many[i] = (int64_t)(i % 70000) * 1000003 - 7;
    CHECK_OK(sl_pq_dict_map_fixed(&d, (const uint8_t *)many, M, mi), (sl_error *)NULL);
    CHECK_EQ_INT(d.n, 70000);
    CHECK_OK(sl_pq_dict_map_fixed(&d, (const uint8_t *)many, M, mi2), (sl_error *)NULL);
    CHECK(!memcmp(mi, mi2, sizeof mi));
    int ok = 1;
    for (int i = 0; i < M; i++)
        ok &= mi[i] == (uint32_t)(i % 70000);
    CHECK(ok);
    sl_pq_dict_free(&d);

    sl_pq_dict_init(&d, 4);
    int32_t small[3] = {-1, 7, -1};
    CHECK_OK(sl_pq_dict_map_fixed(&d, (const uint8_t *)small, 3, idx), (sl_error *)NULL);
    CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 0 && d.vals.len == 8);
    sl_pq_dict_free(&d);
}

static void test_dict_bytes(void)
{
    sl_pq_dict d;
    sl_pq_dict_init(&d, 0);
    /* values "a", "ab", "", "ab", "a" */
    const uint32_t off[] = {0, 1, 3, 3, 5, 6};
    const uint8_t *base = (const uint8_t *)"aababa";
    uint32_t idx[5], fresh[5];
    size_t nf = 0;
    CHECK_OK(sl_pq_dict_map_bytes(&d, base, off, 5, idx, 1, fresh, &nf), (sl_error *)NULL);
    CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 2 && idx[3] == 1 && idx[4] == 0);
    CHECK_EQ_INT(nf, 3);
    /* PLAIN body: 4-byte length + bytes per entry */
    CHECK(bytes_eq(&d.vals, (const uint8_t[]){1, 0, 0, 0, 'a', 2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0},
                   15));
    uint32_t len;
    const uint8_t *p = sl_pq_dict_bytes(&d, 1, &len);
    CHECK(len == 2 && !memcmp(p, "ab", 2));
    /* same page: nothing fresh; next page: each entry fresh once */
    nf = 0;
    CHECK_OK(sl_pq_dict_map_bytes(&d, base, off, 5, idx, 1, fresh, &nf), (sl_error *)NULL);
    CHECK_EQ_INT(nf, 0);
    CHECK_OK(sl_pq_dict_map_bytes(&d, base, off, 5, idx, 2, fresh, &nf), (sl_error *)NULL);
    CHECK_EQ_INT(nf, 3);
    /* many distinct strings across growth */
    enum { M = 50000 };
    static char buf[M * 12];
    static uint32_t offs[M + 1], mi[M], fr[M];
    size_t at = 0;
    for (int i = 0; i < M; i++) {
        offs[i] = (uint32_t)at;
        at += (size_t)sprintf(buf + at, "k%d", i % 30000);
    }
    offs[M] = (uint32_t)at;
    sl_pq_dict_reset(&d);
    nf = 0;
    CHECK_OK(sl_pq_dict_map_bytes(&d, (const uint8_t *)buf, offs, M, mi, 3, fr, &nf),
             (sl_error *)NULL);
    CHECK_EQ_INT(d.n, 30000);
    CHECK_EQ_INT(nf, 30000);
    int ok = 1;
    for (int i = 0; i < M; i++)
        ok &= mi[i] == (uint32_t)(i % 30000);
    CHECK(ok);
    sl_pq_dict_free(&d);
}

static void enc(const sl_pq_acc *a, sl_pq_sort_t k, sl_pq_stats *st, sl_pq_stat_bytes *sb)
{
    sl_pq_acc_encode(a, k, sb, st);
}

/* Short byte arrays (up to 7 bytes) are looked up by an exact 64-bit key
 * of their bytes and length: values that differ only by trailing NUL bytes
 * or by length, on both sides of the 7/8-byte boundary, must stay apart. */
static void test_dict_short_keys(void)
{
    static const char vals[][10] = {"",          "a",    "a\0",           "a\0\0",
                                    "abc",       "abcd", "abcdefg",       "abcdefgh",
                                    "abcdefg\0", "\0",   "\0\0\0\0\0\0\0"};
    static const uint32_t lens[] = {0, 1, 2, 3, 3, 4, 7, 8, 8, 1, 7};
    enum { K = sizeof lens / sizeof lens[0] };
    uint8_t base[2 * K * 10];
    uint32_t off[2 * K + 1], idx[2 * K], fresh[2 * K];
    size_t at = 0, nf = 0;
    for (int r = 0; r < 2; r++) /* every value twice: the second time it is found */
        for (int i = 0; i < K; i++) {
            off[r * K + i] = (uint32_t)at;
            memcpy(base + at, vals[i], lens[i]);
            at += lens[i];
        }
    off[2 * K] = (uint32_t)at;
    sl_pq_dict d;
    sl_pq_dict_init(&d, 0);
    CHECK_OK(sl_pq_dict_map_bytes(&d, base, off, 2 * K, idx, 1, fresh, &nf), (sl_error *)NULL);
    CHECK_EQ_INT(d.n, K);
    for (int i = 0; i < K; i++) {
        CHECK_EQ_INT(idx[i], i);
        CHECK_EQ_INT(idx[K + i], i);
        uint32_t len;
        const uint8_t *p = sl_pq_dict_bytes(&d, (uint32_t)i, &len);
        CHECK(len == lens[i] && !memcmp(p, vals[i], len));
    }
    sl_pq_dict_free(&d);
}

static void test_stats(void)
{
    sl_pq_acc a = {0};
    sl_pq_stats st;
    sl_pq_stat_bytes sb;
    /* unsigned 64-bit order */
    uint64_t u[3] = {5, UINT64_MAX, 0};
    sl_pq_acc_fixed(&a, SL_PQ_SK_U64, (const uint8_t *)u, 3);
    enc(&a, SL_PQ_SK_U64, &st, &sb);
    uint64_t mn, mx;
    memcpy(&mn, st.min_value.p, 8);
    memcpy(&mx, st.max_value.p, 8);
    CHECK(mn == 0 && mx == UINT64_MAX && st.is_min_exact == 1 && st.nan_count == -1);
    /* signed 32-bit, and unsigned 32-bit of the same bits */
    int32_t s32[3] = {-5, 3, INT32_MIN};
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_I32, (const uint8_t *)s32, 3);
    enc(&a, SL_PQ_SK_I32, &st, &sb);
    int32_t i1, i2;
    memcpy(&i1, st.min_value.p, 4);
    memcpy(&i2, st.max_value.p, 4);
    CHECK(i1 == INT32_MIN && i2 == 3 && st.min_value.len == 4);
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_U32, (const uint8_t *)s32, 3);
    enc(&a, SL_PQ_SK_U32, &st, &sb);
    memcpy(&i1, st.min_value.p, 4);
    memcpy(&i2, st.max_value.p, 4);
    CHECK(i1 == 3 && i2 == -5); /* 3 < 0x80000000 < 0xFFFFFFFB */
    /* floats: NaN skipped and counted; zero bounds are -0 min, +0 max */
    double d[5] = {NAN, 0.0, -0.0, NAN, 0.0};
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_F64, (const uint8_t *)d, 5);
    enc(&a, SL_PQ_SK_F64, &st, &sb);
    double dmn, dmx;
    memcpy(&dmn, st.min_value.p, 8);
    memcpy(&dmx, st.max_value.p, 8);
    CHECK(dmn == 0 && signbit(dmn) && dmx == 0 && !signbit(dmx) && st.nan_count == 2);
    /* all NaN: no bounds, nan_count kept */
    float f[2] = {NAN, NAN};
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_F32, (const uint8_t *)f, 2);
    a.nulls = 3;
    enc(&a, SL_PQ_SK_F32, &st, &sb);
    CHECK(!st.min_value.set && !st.max_value.set && st.nan_count == 2 && st.null_count == 3);
    /* merging a page into a chunk */
    sl_pq_acc chunk = {0};
    float g[3] = {2.5f, -1.0f, INFINITY};
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_F32, (const uint8_t *)g, 3);
    CHECK_OK(sl_pq_acc_merge(&chunk, &a, SL_PQ_SK_F32), (sl_error *)NULL);
    enc(&chunk, SL_PQ_SK_F32, &st, &sb);
    float fmn, fmx;
    memcpy(&fmn, st.min_value.p, 4);
    memcpy(&fmx, st.max_value.p, 4);
    CHECK(fmn == -1.0f && isinf(fmx) && st.min_value.len == 4);
    /* booleans */
    sl_pq_acc_reset(&a);
    sl_pq_acc_fixed(&a, SL_PQ_SK_BOOL, (const uint8_t[]){1, 1}, 2);
    enc(&a, SL_PQ_SK_BOOL, &st, &sb);
    CHECK(st.min_value.len == 1 && st.min_value.p[0] == 1 && st.max_value.p[0] == 1);
    sl_pq_acc_free(&a);
    sl_pq_acc_free(&chunk);
}

static void test_stats_bytes(void)
{
    sl_pq_acc a = {0};
    sl_pq_stats st;
    sl_pq_stat_bytes sb;
    /* byte-wise unsigned order: 0xFF sorts after 'z', a prefix first */
    CHECK_OK(sl_pq_acc_bytes(&a, (const uint8_t *)"b", 1), (sl_error *)NULL);
    CHECK_OK(sl_pq_acc_bytes(&a, (const uint8_t *)"\xff", 1), (sl_error *)NULL);
    CHECK_OK(sl_pq_acc_bytes(&a, (const uint8_t *)"", 0), (sl_error *)NULL);
    CHECK_OK(sl_pq_acc_bytes(&a, (const uint8_t *)"ba", 2), (sl_error *)NULL);
    sl_pq_acc_encode(&a, SL_PQ_SK_BYTES, &sb, &st);
    CHECK(st.min_value.set && st.min_value.len == 0 && st.max_value.len == 1 &&
          st.max_value.p[0] == 0xff && st.is_max_exact == 1);
    /* long UTF-8: cut on a character boundary, last code point + 1 */
    uint8_t s[70];
    memset(s, 'q', 62);
    memcpy(s + 62, "\xC3\xA9\xC3\xA9\xC3\xA9zz", 8); /* e-acute spans bytes 62..63, 64..65 */
    sl_pq_acc_reset(&a);
    CHECK_OK(sl_pq_acc_bytes(&a, s, 70), (sl_error *)NULL);
    sl_pq_acc_encode(&a, SL_PQ_SK_UTF8, &sb, &st);
    CHECK(st.min_value.len == 64 && !memcmp(st.min_value.p, s, 64) && st.is_min_exact == 0);
    CHECK(st.max_value.len == 64 && !memcmp(st.max_value.p, s, 62) &&
          !memcmp(st.max_value.p + 62, "\xC3\xAA", 2) && st.is_max_exact == 0);
    /* the cut falls inside a 4-byte character: back off to its start */
    memcpy(s + 62, "\xF0\x9F\x98\x80zzzz", 8);
    sl_pq_acc_reset(&a);
    CHECK_OK(sl_pq_acc_bytes(&a, s, 70), (sl_error *)NULL);
    sl_pq_acc_encode(&a, SL_PQ_SK_UTF8, &sb, &st);
    CHECK(st.min_value.len == 62 && st.max_value.len == 62 && st.max_value.p[61] == 'r');
    /* raw bytes: the last non-0xFF byte is incremented; all 0xFF has no bound */
    memset(s, 0xFF, 70);
    s[10] = 0x41;
    sl_pq_acc_reset(&a);
    CHECK_OK(sl_pq_acc_bytes(&a, s, 70), (sl_error *)NULL);
    sl_pq_acc_encode(&a, SL_PQ_SK_BYTES, &sb, &st);
    CHECK(st.max_value.len == 11 && st.max_value.p[10] == 0x42 && st.min_value.len == 64);
    s[10] = 0xFF;
    sl_pq_acc_reset(&a);
    CHECK_OK(sl_pq_acc_bytes(&a, s, 70), (sl_error *)NULL);
    sl_pq_acc_encode(&a, SL_PQ_SK_BYTES, &sb, &st);
    CHECK(!st.max_value.set && st.min_value.set);
    sl_pq_acc_free(&a);
}

/* The batch form (prefix compares, full compares on ties) against value by
 * value, on strings of 0-19 bytes over a 3-letter alphabet with NUL and
 * 0xFF: many share their first 8 bytes, some are prefixes of others. */
static void test_stats_bytes_offs(void)
{
    static const uint8_t abc[4] = {0x00, 'a', 'b', 0xFF};
    uint8_t base[4096];
    uint32_t off[301];
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + (size_t)(round * 6), pos = 0;
        for (size_t j = 0; j < n; j++) {
            off[j] = (uint32_t)pos;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t len = (size_t)(x % 20);
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                base[pos++] = i < 6 && round % 2 ? 'a' : abc[x % 4];
            }
        }
        off[n] = (uint32_t)pos;
        sl_pq_acc a = {0}, b = {0};
        CHECK_OK(sl_pq_acc_bytes_offs(&a, base, off, n), (sl_error *)NULL);
        for (size_t j = 0; j < n; j++)
            CHECK_OK(sl_pq_acc_bytes(&b, base + off[j], off[j + 1] - off[j]), (sl_error *)NULL);
        CHECK(a.bmin.len == b.bmin.len && (!a.bmin.len || !memcmp(a.bmin.p, b.bmin.p, a.bmin.len)));
        CHECK(a.bmax.len == b.bmax.len && (!a.bmax.len || !memcmp(a.bmax.p, b.bmax.p, a.bmax.len)));
        sl_pq_acc_free(&a);
        sl_pq_acc_free(&b);
    }
}

int main(void)
{
    RUN(test_rle_bytes);
    RUN(test_rle_roundtrip);
    RUN(test_delta);
    RUN(test_dict_fixed);
    RUN(test_dict_bytes);
    RUN(test_dict_short_keys);
    RUN(test_stats);
    RUN(test_stats_bytes);
    RUN(test_stats_bytes_offs);
    return TEST_DONE();
}
