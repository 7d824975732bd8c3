/* test_delim.c - unit tests of the delimited-text decoder: accepted lines
 * with the values the format's rules give (delim.h), and every error with
 * the text it must contain. The e2e script 0008 compares against rows built
 * by python-protobuf from the same values. */
#include "formats/text/delim.h"
#include "plan_fx.h"

static jfx PE; /* bench.PlayEvent: 14 columns */
static jfx A3; /* t3.AllTypes: 27 columns */

static sl_err_t dec_opt(jfx *x, const char *line, const sl_delim_options *o)
{
    sl_batch_reset(&x->batch);
    sl_error_clear(&x->err);
    return sl_delim_decode(x->rec, &x->batch, (const uint8_t *)line, strlen(line), o, &x->err);
}
static sl_err_t dec(jfx *x, const char *line)
{
    return dec_opt(x, line, NULL);
}

/* PlayEvent line with column k (1-based) replaced by v. */
static const char *pe_line(int k, const char *v)
{
    static const char *cols[] = {"000001", "1764547200000", "1",  "2",       "3",  "4",    "5",
                                 "0.25",   "IOS",           "XY", "1.2.3.4", "ab", "true", "80"};
    static char buf[1024];
    size_t o = 0;
    for (int i = 0; i < 14; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "\t" : "",
                              i + 1 == k ? v : cols[i]);
    return buf;
}

static void test_columns(void)
{
    CHECK_EQ_INT(sl_delim_columns(&PE.plan), 14);
    CHECK_EQ_INT(sl_delim_columns(&A3.plan), 27);
}

static void test_play_event(void)
{
    CHECK_OK(dec(&PE, pe_line(0, NULL)), &PE.err);
    CHECK_EQ_INT(PE.batch.nrows, 1);
    CHECK(JFX_STR_EQ(&PE, "log_id", "000001"));
    CHECK_EQ_INT(jfx_i64(&PE, "event_time_ms"), 1764547200000LL);
    CHECK_EQ_INT(jfx_i64(&PE, "mid"), 1);
    CHECK_EQ_INT(jfx_i64(&PE, "cid"), 4);
    CHECK_EQ_INT(jfx_i64(&PE, "play_seconds"), 5);
    CHECK(jfx_f64(&PE, "progress") == 0.25);
    CHECK(JFX_STR_EQ(&PE, "platform", "IOS"));
    CHECK(JFX_STR_EQ(&PE, "trace_id", "ab"));
    CHECK_EQ_INT(jfx_i64(&PE, "is_autoplay"), 1);
    CHECK_EQ_INT(jfx_i64(&PE, "quality"), 80);
    CHECK(jfx_row(&PE) == 0);
    CHECK(jfx_has(&PE, "\"client\":null"));
    CHECK(jfx_has(&PE, "\"tags\":[]"));
    CHECK(jfx_has(&PE, "\"ext\":[]"));
    CHECK(jfx_has(&PE, "\"recent_avids\":[]"));
    /* every column null: implicit presence means the default */
    CHECK_OK(dec(&PE, "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N"),
             &PE.err);
    CHECK(JFX_STR_EQ(&PE, "log_id", ""));
    CHECK(JFX_STR_EQ(&PE, "platform", "PLATFORM_UNKNOWN"));
    CHECK(jfx_f64(&PE, "progress") == 0.0);
    CHECK_EQ_INT(jfx_i64(&PE, "is_autoplay"), 0);
    /* enums by number (an unknown one kept: open enum), bools as 0/1,
     * NaN, an empty string, a trailing \r\n */
    CHECK_OK(dec(&PE, pe_line(9, "2")), &PE.err);
    CHECK(JFX_STR_EQ(&PE, "platform", "IOS"));
    CHECK_OK(dec(&PE, pe_line(9, "9")), &PE.err);
    CHECK(JFX_STR_EQ(&PE, "platform", "9"));
    CHECK_OK(dec(&PE, pe_line(13, "0")), &PE.err);
    CHECK_EQ_INT(jfx_i64(&PE, "is_autoplay"), 0);
    CHECK_OK(dec(&PE, pe_line(8, "NaN")), &PE.err);
    CHECK(isnan(jfx_f64(&PE, "progress")));
    CHECK_OK(dec(&PE, pe_line(8, "-1.5e-3")), &PE.err);
    CHECK(jfx_f64(&PE, "progress") == -1.5e-3);
    CHECK_OK(dec(&PE, pe_line(10, "")), &PE.err);
    CHECK(JFX_STR_EQ(&PE, "buvid", ""));
    char crlf[1100];
    snprintf(crlf, sizeof crlf, "%s\r\n", pe_line(0, NULL));
    CHECK_OK(dec(&PE, crlf), &PE.err);
    CHECK_EQ_INT(jfx_i64(&PE, "quality"), 80);
    CHECK_OK(dec(&PE, pe_line(3, "-9223372036854775808")), &PE.err);
    CHECK(jfx_i64(&PE, "mid") == INT64_MIN);
    CHECK_OK(dec(&PE, pe_line(14, "4294967295")), &PE.err);
    CHECK_EQ_INT(jfx_i64(&PE, "quality"), 4294967295LL);
}

static void test_options(void)
{
    sl_delim_options o = {.separator = ',', .null_token = "NULL"};
    CHECK_OK(dec_opt(&PE, "a,1,NULL,3,4,5,6,0.5,WEB,b,c,d,false,16", &o), &PE.err);
    CHECK(JFX_STR_EQ(&PE, "log_id", "a"));
    CHECK_EQ_INT(jfx_i64(&PE, "mid"), 0);
    CHECK(JFX_STR_EQ(&PE, "platform", "WEB"));
    /* with ',' as separator, \N is text: an integer column rejects it */
    CHECK(dec_opt(&PE, "a,1,\\N,3,4,5,6,0.5,WEB,b,c,d,false,16", &o) == SL_ERR_CORRUPT);
    CHECK(strstr(PE.err.msg, "column 3 (mid): expected an integer (int64), got \"\\x5cN\""));
    CHECK(dec_opt(&PE, "a\t1", &o) == SL_ERR_CORRUPT);
    CHECK(strstr(PE.err.msg, "expected 14 columns separated by ',' (the top-level scalar fields of "
                             "bench.PlayEvent, in field-number order), got 1"));
}

typedef struct bad_case {
    int col;
    const char *val;
    const char *msg;
} bad_case;

static const bad_case BAD[] = {
    {3, "x", "column 3 (mid): expected an integer (int64), got \"x\""},
    {3, " 1", "column 3 (mid): expected an integer (int64), got \" 1\""},
    {3, "", "column 3 (mid): expected an integer (int64), got \"\""},
    {3, "1.0", "expected an integer (int64)"},
    {3, "1e3", "expected an integer (int64)"},
    {3, "+1", "expected an integer (int64)"},
    {3, "9223372036854775808", "column 3 (mid): out of range for int64"},
    {3, "99999999999999999999999", "out of range for int64"},
    {7, "2147483648", "column 7 (play_seconds): out of range for int32"},
    {14, "-1", "column 14 (quality): out of range for uint32"},
    {14, "4294967296", "out of range for uint32"},
    {8, "1.5x", "column 8 (progress): expected a number (double), got \"1.5x\""},
    {8, "nan", "expected a number (double)"},
    {8, ".5", "expected a number (double)"},
    {8, "", "expected a number (double)"},
    {8, "1e400", "column 8 (progress): out of range for double"},
    {9, "MARS",
     "column 9 (platform): expected a value name or number of enum bench.Platform, got "
     "\"MARS\""},
    {9, "ios", "expected a value name or number of enum"},
    {9, "2147483648", "expected a value name or number of enum"},
    {13, "yes", "column 13 (is_autoplay): expected true, false, 1 or 0, got \"yes\""},
    {13, "TRUE", "expected true, false, 1 or 0"},
    {1, "a\xff", "column 1 (log_id): invalid UTF-8 at byte 1 of the value, got \"a\\xff\""},
    {11, "\xed\xa0\x80", "column 11 (ip): invalid UTF-8 at byte 0 of the value"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad_case *c = &BAD[i];
        sl_err_t rc = dec(&PE, pe_line(c->col, c->val));
        if (rc != SL_ERR_CORRUPT || !strstr(PE.err.msg, c->msg)) {
            fprintf(stderr, "case %zu (column %d = %s):\n  got %d %s\n  want ...%s...\n", i, c->col,
                    c->val, rc, PE.err.msg, c->msg);
            t_cur_failed = 1;
        }
        if (PE.batch.nrows) t_cur_failed = 1;
    }
    /* a NUL inside an enum name (found by fuzz_json) */
    const char *l = pe_line(9, "IOS\x01\x01\x01");
    char nul[1024];
    size_t n = strlen(l);
    memcpy(nul, l, n);
    for (size_t i = 0; i + 3 <= n; i++)
        if (!memcmp(nul + i, "\x01\x01\x01", 3)) memset(nul + i, 0, 3);
    sl_batch_reset(&PE.batch);
    CHECK(sl_delim_decode(PE.rec, &PE.batch, (const uint8_t *)nul, n, NULL, &PE.err) ==
          SL_ERR_CORRUPT);
    CHECK(strstr(PE.err.msg, "column 9 (platform): expected a value name or number") != NULL);
    CHECK(dec(&PE, "") == SL_ERR_CORRUPT);
    CHECK(strstr(PE.err.msg, "expected 14 columns separated by tab") &&
          strstr(PE.err.msg, "got 1"));
    char more[1100];
    snprintf(more, sizeof more, "%s\textra", pe_line(0, NULL));
    CHECK(dec(&PE, more) == SL_ERR_CORRUPT);
    CHECK(strstr(PE.err.msg, "got 15") != NULL);
    CHECK_EQ_INT(PE.batch.nrows, 0);
}

/* alltypes3: presence, oneofs, the far field number last. */
static const char *a3_line(const char *set[27])
{
    static char buf[2048];
    size_t o = 0;
    for (int i = 0; i < 27; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "\t" : "",
                              set[i] ? set[i] : "\\N");
    return buf;
}

static void test_alltypes3(void)
{
    const char *c[27] = {0};
    c[0] = "-1";                   /* f_int32 */
    c[3] = "18446744073709551615"; /* f_uint64 */
    c[10] = "3.4028234e38";        /* f_float */
    c[11] = "-Infinity";           /* f_double */
    c[14] = "raw\\bytes";          /* f_bytes: raw text */
    c[15] = "BLUE";                /* f_enum */
    c[16] = "0";                   /* o_int32 = 0: present */
    c[23] = "\\N";                 /* c_int null */
    c[24] = "x";                   /* c_str */
    c[26] = "42";                  /* far_away */
    CHECK_OK(dec(&A3, a3_line(c)), &A3.err);
    CHECK_EQ_INT(jfx_i64(&A3, "f_int32"), -1);
    CHECK((uint64_t)jfx_i64(&A3, "f_uint64") == UINT64_MAX);
    CHECK((float)jfx_f64(&A3, "f_float") == 3.4028234e38f);
    CHECK(jfx_f64(&A3, "f_double") == -INFINITY);
    CHECK(JFX_STR_EQ(&A3, "f_bytes", "raw\\bytes"));
    CHECK(JFX_STR_EQ(&A3, "f_enum", "BLUE"));
    CHECK_EQ_INT(jfx_null(&A3, "o_int32"), 0);
    CHECK_EQ_INT(jfx_i64(&A3, "o_int32"), 0);
    CHECK_EQ_INT(jfx_null(&A3, "o_string"), 1);
    CHECK_EQ_INT(jfx_null(&A3, "c_int"), 1);
    CHECK(JFX_STR_EQ(&A3, "c_str", "x"));
    CHECK_EQ_INT(jfx_i64(&A3, "far_away"), 42);
    CHECK_EQ_INT(jfx_i64(&A3, "f_int64"), 0); /* \N on implicit presence: default */
    c[23] = "1"; /* c_int and c_str both: an error, not a silent last-wins */
    CHECK(dec(&A3, a3_line(c)) == SL_ERR_CORRUPT);
    CHECK(strstr(A3.err.msg, "column 25 (c_str): a second member of a oneof has a value") != NULL);
    c[23] = NULL;
    c[10] = "3.5e38";
    CHECK(dec(&A3, a3_line(c)) == SL_ERR_CORRUPT);
    CHECK(strstr(A3.err.msg, "column 11 (f_float): out of range for float") != NULL);
}

static void test_proto2(void)
{
    jfx x;
    if (jfx_open(&x, "alltypes2.proto", "t2.AllTypes2")) {
        t_cur_failed = 1;
        return;
    }
    CHECK_EQ_INT(sl_delim_columns(&x.plan), 19);
    /* o_size (column 17) is a closed enum: an unknown number is an error */
    char line[512];
    size_t o = 0;
    for (int i = 0; i < 19; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "\t" : "",
                              i == 0    ? "1"
                              : i == 16 ? "7"
                                        : "\\N");
    CHECK(sl_delim_decode(x.rec, &x.batch, (const uint8_t *)line, o, NULL, &x.err) ==
          SL_ERR_CORRUPT);
    CHECK(strstr(x.err.msg, "column 17 (o_size): unknown number of closed enum t2.Size") != NULL);
    /* a required message field cannot come from a line: emit rejects it */
    o = 0;
    for (int i = 0; i < 19; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "\t" : "",
                              i == 0    ? "1"
                              : i == 16 ? "LARGE"
                                        : "\\N");
    CHECK(sl_delim_decode(x.rec, &x.batch, (const uint8_t *)line, o, NULL, &x.err) != SL_OK);
    CHECK(strstr(x.err.msg, "req_inner") != NULL);
    CHECK_EQ_INT(x.batch.nrows, 0);
    jfx_close(&x);
}

int main(void)
{
    if (jfx_open(&PE, "play_event.proto", "bench.PlayEvent") ||
        jfx_open(&A3, "alltypes3.proto", "t3.AllTypes")) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_columns);
    RUN(test_play_event);
    RUN(test_options);
    RUN(test_errors);
    RUN(test_alltypes3);
    RUN(test_proto2);
    jfx_close(&PE);
    jfx_close(&A3);
    return TEST_DONE();
}
