/* test_rows_json.c - record assembly (core/rows_json.c) on hand-shredded
 * batches. Expected rows are written by hand from the test's own input
 * values (the levels below are the Dremel shredding of those rows), never
 * from our output. */
#include "core/rows_json.h"

#include <math.h>

#include "test.h"

static sl_logical lt(int kind)
{
    return (sl_logical){.kind = (uint8_t)kind};
}

/* root { id INT64; name? STRING; tags LIST<STRING>; m? MAP<STRING, INT32?>;
 *        s? { a? INT32; repeated INT64 nums }; u UINT_64; f FLOAT; d? DOUBLE;
 *        b? BOOLEAN; blob BYTE_ARRAY } */
static void make_schema(sl_schema *s)
{
    sl_error e;
    sl_logical none = lt(SL_LT_NONE), str = lt(SL_LT_STRING);
    sl_logical u64 = {.kind = SL_LT_INT, .bit_width = 64, .is_signed = 0};
    CHECK_OK(sl_schema_init(s, "schema"), NULL);
    CHECK(sl_schema_add(s, 0, "id", SL_REQUIRED, 0, SL_PT_INT64, none, 1) == 1);
    CHECK(sl_schema_add(s, 0, "name", SL_OPTIONAL, 0, SL_PT_BYTE_ARRAY, str, 2) == 2);
    CHECK(sl_schema_add(s, 0, "tags", SL_REQUIRED, 1, 0, lt(SL_LT_LIST), 3) == 3);
    CHECK(sl_schema_add(s, 3, "list", SL_REPEATED, 1, 0, none, -1) == 4);
    CHECK(sl_schema_add(s, 4, "element", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, str, -1) == 5);
    CHECK(sl_schema_add(s, 0, "m", SL_OPTIONAL, 1, 0, lt(SL_LT_MAP), 4) == 6);
    CHECK(sl_schema_add(s, 6, "key_value", SL_REPEATED, 1, 0, none, -1) == 7);
    CHECK(sl_schema_add(s, 7, "key", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, str, -1) == 8);
    CHECK(sl_schema_add(s, 7, "value", SL_OPTIONAL, 0, SL_PT_INT32, none, -1) == 9);
    CHECK(sl_schema_add(s, 0, "s", SL_OPTIONAL, 1, 0, none, 5) == 10);
    CHECK(sl_schema_add(s, 10, "a", SL_OPTIONAL, 0, SL_PT_INT32, none, 1) == 11);
    CHECK(sl_schema_add(s, 10, "nums", SL_REPEATED, 0, SL_PT_INT64, none, 2) == 12);
    CHECK(sl_schema_add(s, 0, "u", SL_REQUIRED, 0, SL_PT_INT64, u64, 6) == 13);
    CHECK(sl_schema_add(s, 0, "f", SL_REQUIRED, 0, SL_PT_FLOAT, none, 7) == 14);
    CHECK(sl_schema_add(s, 0, "d", SL_OPTIONAL, 0, SL_PT_DOUBLE, none, 8) == 15);
    CHECK(sl_schema_add(s, 0, "b", SL_OPTIONAL, 0, SL_PT_BOOLEAN, none, 9) == 16);
    CHECK(sl_schema_add(s, 0, "blob", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, none, 10) == 17);
    CHECK_OK(sl_schema_finish(s, &e), &e);
}

enum { ID, NAME, TAG, MKEY, MVAL, SA, SNUMS, U, F, D, B, BLOB };

static const char *expected[3] = {
    "{\"id\":1,\"name\":\"a\\\"b\\n\",\"tags\":[\"x\",\"y\"],\"m\":[{\"key\":\"k1\",\"value\":5},"
    "{\"key\":\"k2\",\"value\":null}],\"s\":{\"a\":7,\"nums\":[1,2]},\"u\":18446744073709551615,"
    "\"f\":1.5,\"d\":\"NaN\",\"b\":true,\"blob\":\"AP8=\"}",
    "{\"id\":-2,\"name\":null,\"tags\":[],\"m\":null,\"s\":null,\"u\":0,\"f\":0.1,"
    "\"d\":\"-Infinity\",\"b\":null,\"blob\":\"\"}",
    "{\"id\":3,\"name\":\"\xc3\xa9\",\"tags\":[\"z\"],\"m\":[],\"s\":{\"a\":null,\"nums\":[]},"
    "\"u\":1,\"f\":3,\"d\":1e+300,\"b\":false,\"blob\":\"YWJj\"}",
};

#define S(str) str, sizeof(str) - 1

static void fill(sl_batch *b)
{
    sl_col *c = b->cols;
    int ok = 1;
    /* row 0 */
    ok &= !sl_col_i64(&c[ID], 1, 0);
    ok &= !sl_col_bytes(&c[NAME], S("a\"b\n"), 0);
    ok &= !sl_col_bytes(&c[TAG], S("x"), 0) && !sl_col_bytes(&c[TAG], S("y"), 1);
    ok &= !sl_col_bytes(&c[MKEY], S("k1"), 0) && !sl_col_bytes(&c[MKEY], S("k2"), 1);
    ok &= !sl_col_i32(&c[MVAL], 5, 0) && !sl_col_null(&c[MVAL], 2, 1);
    ok &= !sl_col_i32(&c[SA], 7, 0);
    ok &= !sl_col_i64(&c[SNUMS], 1, 0) && !sl_col_i64(&c[SNUMS], 2, 1);
    ok &= !sl_col_i64(&c[U], -1, 0);
    ok &= !sl_col_f32(&c[F], 1.5f, 0);
    ok &= !sl_col_f64(&c[D], NAN, 0);
    ok &= !sl_col_bool(&c[B], 1, 0);
    ok &= !sl_col_bytes(&c[BLOB], S("\x00\xff"), 0);
    /* row 1 */
    ok &= !sl_col_i64(&c[ID], -2, 0);
    ok &= !sl_col_null(&c[NAME], 0, 0);
    ok &= !sl_col_null(&c[TAG], 0, 0);
    ok &= !sl_col_null(&c[MKEY], 0, 0) && !sl_col_null(&c[MVAL], 0, 0);
    ok &= !sl_col_null(&c[SA], 0, 0) && !sl_col_null(&c[SNUMS], 0, 0);
    ok &= !sl_col_i64(&c[U], 0, 0);
    ok &= !sl_col_f32(&c[F], 0.1f, 0);
    ok &= !sl_col_f64(&c[D], -INFINITY, 0);
    ok &= !sl_col_null(&c[B], 0, 0);
    ok &= !sl_col_bytes(&c[BLOB], "", 0, 0);
    /* row 2 */
    ok &= !sl_col_i64(&c[ID], 3, 0);
    ok &= !sl_col_bytes(&c[NAME], S("\xc3\xa9"), 0);
    ok &= !sl_col_bytes(&c[TAG], S("z"), 0);
    ok &= !sl_col_null(&c[MKEY], 1, 0) && !sl_col_null(&c[MVAL], 1, 0);
    ok &= !sl_col_null(&c[SA], 1, 0) && !sl_col_null(&c[SNUMS], 1, 0);
    ok &= !sl_col_i64(&c[U], 1, 0);
    ok &= !sl_col_f32(&c[F], 3.0f, 0);
    ok &= !sl_col_f64(&c[D], 1e300, 0);
    ok &= !sl_col_bool(&c[B], 0, 0);
    ok &= !sl_col_bytes(&c[BLOB], S("abc"), 0);
    b->nrows = 3;
    CHECK(ok);
}

static void check_row(sl_rows_json *rj, size_t row)
{
    sl_buf out = SL_BUF_INIT;
    CHECK_OK(sl_rows_json_row(rj, row, &out), NULL);
    CHECK(out.len == strlen(expected[row]) && !memcmp(out.p, expected[row], out.len));
    if (out.len != strlen(expected[row]) || memcmp(out.p, expected[row], out.len))
        fprintf(stderr, "row %zu:\n  got  %.*s\n  want %s\n", row, (int)out.len, out.p,
                expected[row]);
    sl_buf_free(&out);
}

static void test_assembly(void)
{
    sl_schema s;
    sl_batch b;
    sl_error e;
    make_schema(&s);
    CHECK_OK(sl_batch_init(&b, &s), NULL);
    fill(&b);
    CHECK_OK(sl_batch_validate(&b, &e), &e);
    sl_rows_json *rj;
    CHECK_OK(sl_rows_json_new(&rj, &b), NULL);
    for (size_t r = 0; r < 3; r++)
        check_row(rj, r); /* sequential */
    check_row(rj, 2);     /* random access: builds the index */
    check_row(rj, 0);
    check_row(rj, 1);
    sl_buf out = SL_BUF_INIT;
    CHECK(sl_rows_json_row(rj, 3, &out) == SL_ERR_INVALID);
    sl_buf_free(&out);
    sl_rows_json_free(rj);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* Columns that each look valid but disagree on the row structure: the map
 * has two keys in row 0 but one value slot. Must be SL_ERR_CORRUPT, with
 * the output buffer left as it was. */
static void test_disagreeing_columns(void)
{
    sl_schema s;
    sl_batch b;
    make_schema(&s);
    CHECK_OK(sl_batch_init(&b, &s), NULL);
    fill(&b);
    sl_col *v = &b.cols[MVAL];
    /* rebuild m.value: row 0 (3,0)=5; row 1 (0,0); row 2 (1,0),(1,1) */
    v->n = v->nvals = 0;
    v->val.len = 0;
    CHECK(!sl_col_i32(v, 5, 0) && !sl_col_null(v, 0, 0) && !sl_col_null(v, 1, 0) &&
          !sl_col_null(v, 1, 1));
    sl_error e;
    CHECK_OK(sl_batch_validate(&b, &e), &e);
    sl_rows_json *rj;
    CHECK_OK(sl_rows_json_new(&rj, &b), NULL);
    sl_buf out = SL_BUF_INIT;
    CHECK(sl_buf_append(&out, "x", 1) == SL_OK);
    CHECK(sl_rows_json_row(rj, 0, &out) == SL_ERR_CORRUPT);
    CHECK(out.len == 1);
    CHECK(sl_rows_json_row(rj, 2, &out) == SL_ERR_CORRUPT);
    check_row(rj, 1); /* a consistent row still assembles */
    sl_buf_free(&out);
    sl_rows_json_free(rj);

    /* An invalid batch (wrong row count) is refused up front. */
    b.nrows = 2;
    CHECK(sl_rows_json_new(&rj, &b) == SL_ERR_CORRUPT);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* Legacy 2-level lists: repeated leaf under LIST, and a repeated group
 * named "array" (the element is the group itself). */
static void test_legacy_lists(void)
{
    sl_schema s;
    sl_error e;
    sl_logical none = lt(SL_LT_NONE);
    CHECK_OK(sl_schema_init(&s, "schema"), NULL);
    CHECK(sl_schema_add(&s, 0, "l2", SL_OPTIONAL, 1, 0, lt(SL_LT_LIST), -1) == 1);
    CHECK(sl_schema_add(&s, 1, "item", SL_REPEATED, 0, SL_PT_INT32, none, -1) == 2);
    CHECK(sl_schema_add(&s, 0, "la", SL_REQUIRED, 1, 0, lt(SL_LT_LIST), -1) == 3);
    CHECK(sl_schema_add(&s, 3, "array", SL_REPEATED, 1, 0, none, -1) == 4);
    CHECK(sl_schema_add(&s, 4, "x", SL_REQUIRED, 0, SL_PT_INT32, none, -1) == 5);
    CHECK_OK(sl_schema_finish(&s, &e), &e);
    sl_batch b;
    CHECK_OK(sl_batch_init(&b, &s), NULL);
    /* row 0: l2=[4,5], la=[{x:6}] ; row 1: l2=null, la=[] */
    CHECK(!sl_col_i32(&b.cols[0], 4, 0) && !sl_col_i32(&b.cols[0], 5, 1) &&
          !sl_col_null(&b.cols[0], 0, 0));
    CHECK(!sl_col_i32(&b.cols[1], 6, 0) && !sl_col_null(&b.cols[1], 0, 0));
    b.nrows = 2;
    sl_rows_json *rj;
    CHECK_OK(sl_rows_json_new(&rj, &b), NULL);
    sl_buf out = SL_BUF_INIT;
    CHECK_OK(sl_rows_json_row(rj, 0, &out), NULL);
    CHECK(sl_buf_put_u8(&out, '|') == SL_OK);
    CHECK_OK(sl_rows_json_row(rj, 1, &out), NULL);
    const char *want = "{\"l2\":[4,5],\"la\":[{\"x\":6}]}|{\"l2\":null,\"la\":[]}";
    CHECK(out.len == strlen(want) && !memcmp(out.p, want, out.len));
    if (out.len != strlen(want) || memcmp(out.p, want, out.len))
        fprintf(stderr, "got %.*s\n", (int)out.len, out.p);
    sl_buf_free(&out);
    sl_rows_json_free(rj);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

int main(void)
{
    RUN(test_assembly);
    RUN(test_disagreeing_columns);
    RUN(test_legacy_lists);
    return TEST_DONE();
}
