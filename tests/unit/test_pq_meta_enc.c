/* test_pq_meta_enc.c - the Thrift compact encoder and the Parquet structs
 * built on it, against bytes worked out by hand from the Thrift compact
 * protocol spec and parquet.thrift's field ids. (DuckDB and hyparquet
 * decoding every footer and page header is e2e 0002.) */
#include "formats/parquet/pq_thrift_enc.h"
#include "test.h"

static int bytes_eq(const sl_buf *b, const uint8_t *want, size_t n)
{
    if (b->len == n && !memcmp(b->p, want, n)) return 1;
    fprintf(stderr, "  got :");
    for (size_t i = 0; i < b->len; i++)
        fprintf(stderr, " %02x", b->p[i]);
    fprintf(stderr, "\n  want:");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %02x", want[i]);
    fprintf(stderr, "\n");
    return 0;
}
#define BYTES(b, ...)                                                                              \
    bytes_eq(b, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_compact(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_tc t;
    sl_tc_init(&t, &b);
    sl_tc_i32(&t, 1, 1);        /* delta 1, i32 (5): 0x15, zigzag(1) = 2 */
    sl_tc_i32(&t, 20, 2);       /* delta 19 > 15: type byte, zigzag(20) = 40, zigzag(2) = 4 */
    sl_tc_i64(&t, 21, -1);      /* delta 1, i64 (6): zigzag(-1) = 1 */
    sl_tc_bool(&t, 22, 1);      /* bool in the header: 1 true */
    sl_tc_bool(&t, 23, 0);      /* 2 false */
    sl_tc_bin(&t, 24, "ab", 2); /* binary (8): length, bytes */
    sl_tc_i8(&t, 25, -2);       /* byte (3): one raw byte */
    sl_tc_i64(&t, 5, 300);      /* id goes down: long form, zigzag(5) = 10; zigzag(300) = 600 */
    sl_tc_struct_begin(&t, 6);  /* struct (12); its fields restart at id 0 */
    sl_tc_i32(&t, 1, 0);
    sl_tc_struct_end(&t);
    sl_tc_i32(&t, 7, 0); /* after the struct, delta from 6 */
    sl_tc_struct_end(&t);
    CHECK_OK(sl_tc_done(&t), (sl_error *)NULL);
    CHECK(BYTES(&b, 0x15, 0x02, 0x05, 0x28, 0x04, 0x16, 0x01, 0x11, 0x12, 0x18, 0x02, 'a', 'b',
                0x13, 0xFE, 0x06, 0x0A, 0xD8, 0x04, 0x1C, 0x15, 0x00, 0x00, 0x15, 0x00, 0x00));
    /* lists: short header (size << 4 | type), long header 0xF0 | type + varint */
    b.len = 0;
    sl_tc_init(&t, &b);
    sl_tc_list_begin(&t, 1, SL_TC_I32, 2);
    sl_tc_elem_i32(&t, -1);
    sl_tc_elem_i32(&t, 64);
    sl_tc_list_begin(&t, 2, SL_TC_BINARY, 20);
    for (int i = 0; i < 20; i++)
        sl_tc_elem_bin(&t, "x", 1);
    sl_tc_struct_end(&t);
    CHECK_OK(sl_tc_done(&t), (sl_error *)NULL);
    CHECK(b.len == 4 + 2 + 2 + 40 + 1);
    CHECK(BYTES(&b, 0x19, 0x25, 0x01, 0x80, 0x01, 0x19, 0xF8, 0x14, 0x01, 'x', 0x01, 'x', 0x01, 'x',
                0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01,
                'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x', 0x01, 'x',
                0x01, 'x', 0x01, 'x', 0x00));
    /* nesting past the bound is an error, not an overflow */
    b.len = 0;
    sl_tc_init(&t, &b);
    for (int i = 0; i < SL_TC_MAX_DEPTH + 2; i++)
        sl_tc_struct_begin(&t, 1);
    CHECK_EQ_INT(sl_tc_done(&t), SL_ERR_LIMIT);
    sl_buf_free(&b);
}

static void test_page_header(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = SL_PQ_PAGE_DATA;
    h.uncompressed_size = 100;
    h.compressed_size = 50;
    h.num_values = 10;
    h.encoding = SL_PQ_ENC_PLAIN;
    h.def_encoding = h.rep_encoding = SL_PQ_ENC_RLE;
    CHECK_OK(sl_pq_page_header_encode(&h, &b), (sl_error *)NULL);
    /* 1:type 2:uncompressed 3:compressed 5:DataPageHeader{1..4} */
    CHECK(BYTES(&b, 0x15, 0x00, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x2C, 0x15, 0x14, 0x15, 0x00, 0x15,
                0x06, 0x15, 0x06, 0x00, 0x00));
    /* with statistics: null_count (3), max_value (5), min_value (6),
     * is_max_value_exact (7), is_min_value_exact (8), nan_count (9) */
    b.len = 0;
    h.has_stats = 1;
    h.stats.null_count = 2;
    h.stats.distinct_count = -1;
    h.stats.max_value = (sl_pq_bytes){(const uint8_t *)"z", 1, 1};
    h.stats.min_value = (sl_pq_bytes){(const uint8_t *)"", 0, 1};
    h.stats.is_max_exact = 1;
    h.stats.is_min_exact = 0;
    h.stats.nan_count = -1;
    CHECK_OK(sl_pq_page_header_encode(&h, &b), (sl_error *)NULL);
    CHECK(BYTES(&b, 0x15, 0x00, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x2C, 0x15, 0x14, 0x15, 0x00, 0x15,
                0x06, 0x15, 0x06, 0x1C, 0x36, 0x04, 0x28, 0x01, 'z', 0x18, 0x00, 0x11, 0x12, 0x00,
                0x00, 0x00));
    /* dictionary page: 7:DictionaryPageHeader{1:num_values, 2:encoding} */
    b.len = 0;
    memset(&h, 0, sizeof h);
    h.type = SL_PQ_PAGE_DICTIONARY;
    h.uncompressed_size = h.compressed_size = 8;
    h.num_values = 2;
    CHECK_OK(sl_pq_page_header_encode(&h, &b), (sl_error *)NULL);
    CHECK(BYTES(&b, 0x15, 0x04, 0x15, 0x10, 0x15, 0x10, 0x4C, 0x15, 0x04, 0x15, 0x00, 0x00, 0x00));
    sl_buf_free(&b);
}

static void test_file_meta(void)
{
    sl_pq_schema_elem el[2];
    memset(el, 0, sizeof el);
    el[0] = (sl_pq_schema_elem){.type = -1,
                                .repetition = -1,
                                .name = "s",
                                .num_children = 1,
                                .converted_type = -1,
                                .field_id = -1};
    el[1] = (sl_pq_schema_elem){.type = 2,
                                .repetition = 1,
                                .name = "t",
                                .converted_type = 9,
                                .field_id = 7,
                                .logical = 8,
                                .ts_utc = 1,
                                .ts_unit = 0};
    int32_t orders[1] = {1};
    sl_pq_kv kv[1] = {{"k", NULL}};
    sl_pq_file_meta m;
    memset(&m, 0, sizeof m);
    m.version = 1;
    m.schema = el;
    m.n_schema = 2;
    m.num_rows = 0;
    m.kv = kv;
    m.n_kv = 1;
    m.created_by = "c";
    m.column_orders = orders;
    m.n_column_orders = 1;
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_pq_meta_encode(&m, &b), (sl_error *)NULL);
    CHECK(BYTES(&b, 0x15, 0x02,                          /* 1: version 1 */
                0x19, 0x2C,                              /* 2: list of 2 structs */
                0x48, 0x01, 's', 0x15, 0x02, 0x00,       /* root: 4 name, 5 num_children */
                0x15, 0x04, 0x25, 0x02, 0x18, 0x01, 't', /* 1 type INT64, 3 OPTIONAL, 4 name */
                0x25, 0x12, 0x35, 0x0E,                  /* 6 TIMESTAMP_MILLIS, 9 field_id 7 */
                0x1C, 0x8C, 0x11, 0x1C, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00,
                /* 10 LogicalType{8 TIMESTAMP{1 utc true, 2 unit{1 MILLIS{}}}} */
                0x16, 0x00,                        /* 3: num_rows 0 */
                0x19, 0x0C,                        /* 4: empty list of row groups */
                0x19, 0x1C, 0x18, 0x01, 'k', 0x00, /* 5: key-value, value absent */
                0x18, 0x01, 'c',                   /* 6: created_by */
                0x19, 0x1C, 0x1C, 0x00, 0x00,      /* 7: column_orders [TYPE_ORDER{}] */
                0x00));
    /* the writer's path: the same footer with pre-encoded row groups */
    sl_buf raw = SL_BUF_INIT;
    CHECK_OK(sl_pq_meta_encode_raw_rgs(&m, 0, NULL, 0, &raw), (sl_error *)NULL);
    CHECK(raw.len == b.len && !memcmp(raw.p, b.p, b.len));
    sl_buf_free(&raw);
    sl_buf_free(&b);
}

int main(void)
{
    RUN(test_compact);
    RUN(test_page_header);
    RUN(test_file_meta);
    return TEST_DONE();
}
