/* test_pq_decode.c - Parquet decoders (pq_decode.c) and the Thrift footer
 * decoder (pq_meta_dec.c) on byte strings built by hand from the specs:
 * apache/parquet-format Encodings.md (its worked examples for the
 * RLE/bit-packed hybrid, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT) and the Thrift compact protocol
 * spec. Expected values are the examples' inputs, not our output. */
#include <math.h>

#include "formats/parquet/pq_decode.h"
#include "formats/parquet/pq_meta.h"
#include "test.h"

/* A one-column batch of the given type (REQUIRED, no levels). */
static void one_col(sl_schema *s, sl_batch *b, sl_ptype_t t)
{
    sl_error e;
    sl_logical none = {0};
    CHECK_OK(sl_schema_init(s, "schema"), NULL);
    CHECK(sl_schema_add(s, 0, "v", SL_REQUIRED, 0, t, none, -1) == 1);
    CHECK_OK(sl_schema_finish(s, &e), &e);
    CHECK_OK(sl_batch_init(b, s), NULL);
}

static sl_err_t dec(sl_col *c, int enc, const uint8_t *p, size_t len, size_t n, sl_error *e)
{
    uint64_t budget = 1 << 20;
    size_t w = c->type == SL_PT_INT32 || c->type == SL_PT_FLOAT ? 4
               : c->type == SL_PT_BYTE_ARRAY                    ? 0
               : c->type == SL_PT_BOOLEAN                       ? 1
                                                                : 8;
    return sl_pq_rd_values(c, w, enc, p, len, n, NULL, &budget, e);
}

static int bytes_eq(const sl_col *c, size_t j, const char *want)
{
    uint32_t len;
    const uint8_t *p = sl_col_bytes_at(c, j, &len);
    return len == strlen(want) && !memcmp(p, want, len);
}

/* Encodings.md, bit-packing: 0..7 at bit width 3 is 10001000 11000110
 * 11111010; behind a hybrid header of one group ((1 << 1) | 1). Then an
 * RLE run of five 4s: header 5 << 1, value in one byte. */
static void test_rle_hybrid(void)
{
    static const uint8_t data[] = {0x03, 0x88, 0xC6, 0xFA, 0x0A, 0x04};
    sl_pq_rd_rle d;
    uint32_t v[13];
    sl_error e;
    sl_pq_rd_rle_init(&d, data, sizeof data, 3);
    CHECK_OK(sl_pq_rd_rle_get(&d, v, 13, &e), &e);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(v[i], i);
    for (int i = 8; i < 13; i++)
        CHECK_EQ_INT(v[i], 4);
    CHECK(sl_pq_rd_rle_get(&d, v, 1, &e) == SL_ERR_CORRUPT); /* data exhausted */

    /* Levels: same data, but max 5 rejects the 6 and 7. */
    uint8_t lv[13];
    sl_pq_rd_rle_init(&d, data, sizeof data, 3);
    CHECK(sl_pq_rd_rle_levels(&d, lv, 13, 5, &e) == SL_ERR_CORRUPT);
    sl_pq_rd_rle_init(&d, data, sizeof data, 3);
    CHECK_OK(sl_pq_rd_rle_levels(&d, lv, 13, 7, &e), &e);
    CHECK(lv[7] == 7 && lv[12] == 4);

    /* A run longer than the request is consumed across calls. */
    static const uint8_t run[] = {0xC8, 0x01, 0x01}; /* 100 ones, bit width 1 */
    sl_pq_rd_rle_init(&d, run, sizeof run, 1);
    CHECK_OK(sl_pq_rd_rle_levels(&d, lv, 13, 1, &e), &e);
    CHECK_OK(sl_pq_rd_rle_get(&d, v, 13, &e), &e);
    CHECK(lv[0] == 1 && v[12] == 1);
    CHECK_EQ_INT(sl_pq_rd_bit_width(0), 0);
    CHECK_EQ_INT(sl_pq_rd_bit_width(1), 1);
    CHECK_EQ_INT(sl_pq_rd_bit_width(7), 3);
    CHECK_EQ_INT(sl_pq_rd_bit_width(8), 4);
}

/* Encodings.md DELTA_BINARY_PACKED examples, header <block 128> <4
 * miniblocks> <count> <first zigzag>, then per block <min delta zigzag>
 * <4 bit widths> <miniblocks of 32 values>. */
static void test_delta_binary_packed(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    one_col(&s, &b, SL_PT_INT64);
    /* Example 1: 1 2 3 4 5 -> deltas all 1: min delta 1, bit width 0. */
    static const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BINARY_PACKED, ex1, sizeof ex1, 5, &e), &e);
    /* Example 2: 7 5 3 1 2 3 4 5 -> deltas -2 -2 -2 1 1 1 1: min delta -2,
     * relative 0 0 0 3 3 3 3 at bit width 2 (8 bytes for 32 values). */
    static const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0,
                                  0,    0xC0, 0x3F, 0,    0,    0,    0, 0, 0};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BINARY_PACKED, ex2, sizeof ex2, 8, &e), &e);
    static const int64_t want[] = {1, 2, 3, 4, 5, 7, 5, 3, 1, 2, 3, 4, 5};
    CHECK_EQ_INT(b.cols[0].nvals, 13);
    CHECK(b.cols[0].val.len == sizeof want && !memcmp(b.cols[0].val.p, want, sizeof want));
    /* Asking for more values than the header holds is corrupt. */
    CHECK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BINARY_PACKED, ex1, sizeof ex1, 6, &e) == SL_ERR_CORRUPT);
    /* A block size that is not a multiple of 128 is corrupt. */
    static const uint8_t bad[] = {0x40, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    CHECK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BINARY_PACKED, bad, sizeof bad, 5, &e) == SL_ERR_CORRUPT);
    sl_batch_free(&b);
    sl_schema_free(&s);

    /* INT32: 32-bit wrap-around of the deltas. -2^31 then +(2^32 - 1)
     * wraps to 2^31 - 1: deltas written as 64-bit values still yield the
     * right int32. first = INT32_MIN, one delta of 2^32-1 at min delta. */
    one_col(&s, &b, SL_PT_INT32);
    static const uint8_t wrap[] = {0x80, 0x01, 0x04, 0x02, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0x0F,       /* zigzag(-2^31) */
                                   0xFE, 0xFF, 0xFF, 0xFF, 0x1F, /* zigzag(2^32-1) */
                                   0,    0,    0,    0};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BINARY_PACKED, wrap, sizeof wrap, 2, &e), &e);
    int32_t w32[2];
    memcpy(w32, b.cols[0].val.p, 8);
    CHECK(w32[0] == INT32_MIN && w32[1] == INT32_MAX);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* Encodings.md: "Hello World Foobar ABCDEF" as DELTA_LENGTH_BYTE_ARRAY:
 * lengths 5 5 6 6 (first 5, deltas 0 1 0: bit width 1), then the bytes. */
static void test_delta_length_byte_array(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    one_col(&s, &b, SL_PT_BYTE_ARRAY);
    static const uint8_t ex[] = {0x80, 0x01, 0x04, 0x04, 0x0A, 0x00, 1,   0,   0,   0,   0x02, 0,
                                 0,    0,    'H',  'e',  'l',  'l',  'o', 'W', 'o', 'r', 'l',  'd',
                                 'F',  'o',  'o',  'b',  'a',  'r',  'A', 'B', 'C', 'D', 'E',  'F'};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, ex, sizeof ex, 4, &e), &e);
    CHECK(bytes_eq(&b.cols[0], 0, "Hello") && bytes_eq(&b.cols[0], 1, "World") &&
          bytes_eq(&b.cols[0], 2, "Foobar") && bytes_eq(&b.cols[0], 3, "ABCDEF"));
    /* One byte missing at the end: lengths add up past the data. */
    CHECK(dec(&b.cols[0], SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, ex, sizeof ex - 1, 4, &e) ==
          SL_ERR_CORRUPT);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* Encodings.md: axis axle babble babyhood as DELTA_BYTE_ARRAY: prefix
 * lengths 0 2 0 3, suffixes axis le babble yhood. */
static void test_delta_byte_array(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    one_col(&s, &b, SL_PT_BYTE_ARRAY);
    static const uint8_t ex[] = {
        /* prefixes: first 0; deltas 2 -2 3 -> min -2, relative 4 0 5, width 3 */
        0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 3, 0, 0, 0, 0x44, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* suffix lengths: first 4; deltas -2 4 -1 -> min -2, relative 0 6 1 */
        0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 3, 0, 0, 0, 0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'a',
        'x', 'i', 's', 'l', 'e', 'b', 'a', 'b', 'b', 'l', 'e', 'y', 'h', 'o', 'o', 'd'};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BYTE_ARRAY, ex, sizeof ex, 4, &e), &e);
    CHECK(bytes_eq(&b.cols[0], 0, "axis") && bytes_eq(&b.cols[0], 1, "axle") &&
          bytes_eq(&b.cols[0], 2, "babble") && bytes_eq(&b.cols[0], 3, "babyhood"));
    /* A first value that claims a prefix of the (empty) previous one. */
    uint8_t bad[sizeof ex];
    memcpy(bad, ex, sizeof ex);
    bad[4] = 0x02; /* first prefix length 1 */
    CHECK(dec(&b.cols[0], SL_PQ_ENC_DELTA_BYTE_ARRAY, bad, sizeof bad, 4, &e) == SL_ERR_CORRUPT);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

static void test_plain_bss_bool(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    /* BYTE_STREAM_SPLIT: 1.0f (00 00 80 3F) and 2.0f (00 00 00 40),
     * byte k of every value in stream k. */
    one_col(&s, &b, SL_PT_FLOAT);
    static const uint8_t bss[] = {0, 0, 0, 0, 0x80, 0, 0x3F, 0x40};
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_BYTE_STREAM_SPLIT, bss, sizeof bss, 2, &e), &e);
    float f[2];
    memcpy(f, b.cols[0].val.p, 8);
    CHECK(f[0] == 1.0f && f[1] == 2.0f);
    CHECK(dec(&b.cols[0], SL_PQ_ENC_BYTE_STREAM_SPLIT, bss, sizeof bss, 3, &e) == SL_ERR_CORRUPT);
    sl_batch_free(&b);
    sl_schema_free(&s);

    /* PLAIN BOOLEAN: bit-packed, least significant bit first. */
    one_col(&s, &b, SL_PT_BOOLEAN);
    static const uint8_t bits[] = {0x05, 0x01}; /* 1 0 1 0 0 0 0 0 | 1 */
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_PLAIN, bits, sizeof bits, 9, &e), &e);
    static const uint8_t wantb[] = {1, 0, 1, 0, 0, 0, 0, 0, 1};
    CHECK(b.cols[0].val.len == 9 && !memcmp(b.cols[0].val.p, wantb, 9));
    CHECK(dec(&b.cols[0], SL_PQ_ENC_PLAIN, bits, sizeof bits, 17, &e) == SL_ERR_CORRUPT);
    /* RLE booleans: 4-byte length, then the hybrid at bit width 1. */
    static const uint8_t rle[] = {2, 0, 0, 0, 0x06, 0x01}; /* three trues */
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_RLE, rle, sizeof rle, 3, &e), &e);
    CHECK(b.cols[0].nvals == 12 && b.cols[0].val.p[11] == 1);
    sl_batch_free(&b);
    sl_schema_free(&s);

    /* PLAIN BYTE_ARRAY: 4-byte length + bytes; a length past the end. */
    one_col(&s, &b, SL_PT_BYTE_ARRAY);
    static const uint8_t ba[] = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 9, 0, 0, 0, 'x'};
    CHECK(dec(&b.cols[0], SL_PQ_ENC_PLAIN, ba, sizeof ba, 3, &e) == SL_ERR_CORRUPT);
    b.cols[0].n = b.cols[0].nvals = b.cols[0].val.len = 0;
    CHECK_OK(dec(&b.cols[0], SL_PQ_ENC_PLAIN, ba, 10, 2, &e), &e);
    CHECK(bytes_eq(&b.cols[0], 0, "hi") && bytes_eq(&b.cols[0], 1, ""));
    /* The budget bounds what a page may add. */
    uint64_t budget = 3;
    CHECK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_PLAIN, ba, 10, 2, NULL, &budget, &e) ==
          SL_ERR_LIMIT);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

static void test_dictionary(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    sl_pq_rd_dict d;
    memset(&d, 0, sizeof d);
    one_col(&s, &b, SL_PT_BYTE_ARRAY);
    static const uint8_t page[] = {1, 0, 0, 0, 'a', 2, 0, 0, 0, 'b', 'c'};
    CHECK_OK(sl_pq_rd_dict_load(&d, SL_PT_BYTE_ARRAY, 0, page, sizeof page, 2, &e), &e);
    /* bit width 1; bit-packed group: 1 0 1 1 0 ... */
    static const uint8_t idx[] = {1, 0x03, 0x0D};
    uint64_t budget = 1000;
    CHECK_OK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_RLE_DICTIONARY, idx, sizeof idx, 5, &d,
                             &budget, &e),
             &e);
    CHECK(bytes_eq(&b.cols[0], 0, "bc") && bytes_eq(&b.cols[0], 1, "a") &&
          bytes_eq(&b.cols[0], 2, "bc") && bytes_eq(&b.cols[0], 4, "a"));
    /* Index 2 of a 2-entry dictionary. */
    static const uint8_t oob[] = {2, 0x02, 0x02};
    CHECK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_RLE_DICTIONARY, oob, sizeof oob, 1, &d, &budget,
                          &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "out of range") != NULL);
    /* An RLE run of 2^30 copies: stopped by the budget, not by memory. */
    static const uint8_t huge[] = {1, 0x80, 0x80, 0x80, 0x80, 0x08, 0x01};
    CHECK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_RLE_DICTIONARY, huge, sizeof huge,
                          (size_t)1 << 30, &d, &budget, &e) == SL_ERR_LIMIT);
    /* A dictionary claiming more entries than its bytes can hold. */
    CHECK(sl_pq_rd_dict_load(&d, SL_PT_BYTE_ARRAY, 0, page, sizeof page, 3, &e) == SL_ERR_CORRUPT);
    CHECK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_RLE_DICTIONARY, idx, sizeof idx, 1, &d, &budget,
                          &e) == SL_ERR_CORRUPT); /* no dictionary loaded */
    /* An empty dictionary loads (nothing allocated); any index is then out
     * of range. Fixed-width too. */
    CHECK_OK(sl_pq_rd_dict_load(&d, SL_PT_BYTE_ARRAY, 0, page, 0, 0, &e), &e);
    CHECK(sl_pq_rd_values(&b.cols[0], 0, SL_PQ_ENC_RLE_DICTIONARY, idx, sizeof idx, 1, &d, &budget,
                          &e) == SL_ERR_CORRUPT);
    sl_pq_rd_dict fixed;
    memset(&fixed, 0, sizeof fixed);
    CHECK_OK(sl_pq_rd_dict_load(&fixed, SL_PT_INT64, 8, page, 0, 0, &e), &e);
    sl_pq_rd_dict_free(&fixed);
    sl_pq_rd_dict_free(&d);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* ---- Thrift compact protocol, hand-encoded ---- */

typedef struct tw {
    uint8_t b[4096];
    size_t n;
    int16_t last[64];
    int depth;
} tw;

static void put(tw *w, uint8_t c)
{
    w->b[w->n++] = c;
}
static void uv(tw *w, uint64_t v)
{
    while (v >= 0x80) {
        put(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put(w, (uint8_t)v);
}
static void fh(tw *w, int16_t id, int type)
{
    int16_t d = (int16_t)(id - w->last[w->depth]);
    if (d > 0 && d <= 15)
        put(w, (uint8_t)(d << 4 | type));
    else {
        put(w, (uint8_t)type);
        uv(w, sl_zigzag_enc64(id));
    }
    w->last[w->depth] = id;
}
static void fi(tw *w, int16_t id, int type, int64_t v)
{
    fh(w, id, type);
    uv(w, sl_zigzag_enc64(v));
}
static void fs(tw *w, int16_t id, const char *s)
{
    fh(w, id, 8);
    uv(w, strlen(s));
    memcpy(w->b + w->n, s, strlen(s));
    w->n += strlen(s);
}
static void begin(tw *w, int16_t id) /* struct field */
{
    fh(w, id, 12);
    w->last[++w->depth] = 0;
}
static void begin_elem(tw *w)
{
    w->last[++w->depth] = 0;
} /* struct in a list */
static void end(tw *w)
{
    put(w, 0);
    w->depth--;
}
static void list(tw *w, int16_t id, int etype, int n)
{
    fh(w, id, 9);
    put(w, (uint8_t)(n << 4 | etype));
}

/* FileMetaData { version 1, schema [root(1 child), leaf "x" INT64
 * REQUIRED], num_rows 0, row_groups [] } with unknown fields of every
 * type sprinkled in (ids 50..60): they must be skipped. */
static size_t footer(tw *w, int unknown)
{
    memset(w, 0, sizeof *w);
    fi(w, 1, 5, 1);
    if (unknown) {
        fi(w, 50, 3, 0); /* i8 carries one raw byte: */
        w->b[w->n - 1] = 0x7f;
        fh(w, 51, 1);                  /* bool true, no payload */
        fi(w, 52, 6, -123456789012LL); /* i64 */
        fh(w, 53, 7);                  /* double */
        for (int i = 0; i < 8; i++)
            put(w, (uint8_t)i);
        fs(w, 54, "opaque"); /* binary */
        fh(w, 55, 11);       /* map<i32,list<bool>> */
        uv(w, 2);
        put(w, 0x59);
        for (int i = 0; i < 2; i++) {
            uv(w, sl_zigzag_enc64(i));
            put(w, 0x21);
            put(w, 1);
            put(w, 2);
        }
        begin(w, 56); /* nested unknown struct with a set inside */
        fh(w, 1, 10);
        put(w, 0x25);
        uv(w, 4);
        uv(w, 6);
        end(w);
        fh(w, 57, 11); /* empty map */
        uv(w, 0);
    }
    list(w, 2, 12, 2);
    begin_elem(w);
    fs(w, 4, "schema");
    fi(w, 5, 5, 1);
    if (unknown) fi(w, 99, 5, 7); /* unknown SchemaElement field */
    end(w);
    begin_elem(w);
    fi(w, 1, 5, SL_PT_INT64);
    fi(w, 3, 5, SL_REQUIRED);
    fs(w, 4, "x");
    begin(w, 10); /* LogicalType INTEGER(64, signed) */
    begin(w, 10);
    fi(w, 1, 3, 0);
    w->b[w->n - 1] = 64;
    fh(w, 2, 1);
    end(w);
    end(w);
    end(w);
    fi(w, 3, 6, 0);
    list(w, 4, 12, 0);
    fs(w, 6, "hand-made");
    put(w, 0);
    return w->n;
}

static void test_thrift(void)
{
    tw w;
    sl_error e;
    sl_pq_file_meta m;
    for (int unknown = 0; unknown <= 1; unknown++) {
        size_t n = footer(&w, unknown);
        CHECK_OK(sl_pq_meta_decode(&m, w.b, n, &e), &e);
        CHECK_EQ_INT(m.n_schema, 2);
        CHECK(m.n_schema == 2 && !strcmp(m.schema[1].name, "x") && m.schema[1].type == SL_PT_INT64);
        CHECK(m.n_schema == 2 && m.schema[1].logical == 10 && m.schema[1].int_bits == 64 &&
              m.schema[1].int_signed == 1);
        CHECK(m.created_by && !strcmp(m.created_by, "hand-made"));
        CHECK_EQ_INT(m.n_row_groups, 0);
        sl_pq_meta_free(&m);
        /* Every truncation is an error, never a crash. */
        for (size_t k = 0; k < n; k++)
            CHECK(sl_pq_meta_decode(&m, w.b, k, &e) != SL_OK);
    }
    /* Unknown structs nested 100 deep: bounded. */
    memset(&w, 0, sizeof w);
    for (int i = 0; i < 100; i++)
        put(&w, 0x1C); /* field +1, struct */
    CHECK(sl_pq_meta_decode(&m, w.b, w.n + 100, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "nested") != NULL);
    /* A list claiming more elements than bytes left. */
    memset(&w, 0, sizeof w);
    fh(&w, 2, 9);
    put(&w, 0xFC);
    uv(&w, 1000000);
    put(&w, 0);
    CHECK(sl_pq_meta_decode(&m, w.b, w.n, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "list size") != NULL);
    /* No schema at all: a required field is missing. */
    static const uint8_t empty[] = {0};
    CHECK(sl_pq_meta_decode(&m, empty, 1, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "schema") != NULL);
}

int main(void)
{
    RUN(test_rle_hybrid);
    RUN(test_delta_binary_packed);
    RUN(test_delta_length_byte_array);
    RUN(test_delta_byte_array);
    RUN(test_plain_bss_bool);
    RUN(test_dictionary);
    RUN(test_thrift);
    return TEST_DONE();
}
