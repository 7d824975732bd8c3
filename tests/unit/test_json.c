/* test_json.c - unit tests of the JSON lines decoder, and the driver the
 * end-to-end scripts use:
 *
 *   test_json                       run the unit tests (needs protoc: the
 *                                   schemas are .proto files in tests/data)
 *   test_json dump jsonl|delim SCHEMA MESSAGE INPUT [--ignore-unknown]
 *                                   [--separator C] [--null TOKEN]
 *       decode every line (blank lines skipped, as sluice convert does)
 *       through the plan into batches, sl_batch_validate each batch, print
 *       canonical rows (sl_rows_json) on stdout; a bad line prints
 *       "record N at byte OFF: message" on stderr and is skipped.
 *   test_json bench jsonl|delim SCHEMA MESSAGE INPUT [ROUNDS]
 *       decode + shred all lines ROUNDS times; prints the best ns/line.
 *
 * The unit cases are table-driven: accepted lines with the values protobuf's
 * JSON mapping gives them (written from the spec, not from our output), and
 * every error with the text it must contain. The e2e script 0007 compares
 * against protobuf's own Python parser on many more lines.
 */
#include <time.h>

#include "core/framer.h"
#include "formats/json/json_dec.h"
#include "formats/json/json_scalar.h"
#include "formats/text/delim.h"
#include "plan_fx.h"

/* ---- driver ---- */

typedef struct drv_opts {
    int delim;
    sl_json_options jo;
    sl_delim_options dopt;
} drv_opts;

static int drv_parse(drv_opts *o, int argc, char **argv, int first)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(argv[2], "delim"))
        o->delim = 1;
    else if (strcmp(argv[2], "jsonl"))
        return -1;
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--ignore-unknown"))
            o->jo.ignore_unknown = 1;
        else if (!strcmp(argv[i], "--separator") && i + 1 < argc)
            o->dopt.separator = argv[++i][0];
        else if (!strcmp(argv[i], "--null") && i + 1 < argc)
            o->dopt.null_token = argv[++i];
    }
    return 0;
}

static sl_err_t drv_decode(const drv_opts *o, jfx *x, const sl_frame *fr)
{
    if (o->delim) return sl_delim_decode(x->rec, &x->batch, fr->p, fr->len, &o->dopt, &x->err);
    return sl_json_decode(x->rec, &x->batch, fr->p, fr->len, &o->jo, &x->err);
}

static int blank(const sl_frame *fr)
{
    for (size_t k = 0; k < fr->len; k++)
        if (fr->p[k] != ' ' && fr->p[k] != '\t') return 0;
    return 1;
}

static int cmd_dump(int argc, char **argv)
{
    drv_opts o;
    jfx x;
    sl_framer in;
    sl_frame fr;
    int status = 0;
    sl_err_t rc;
    if (argc < 6 || drv_parse(&o, argc, argv, 6)) return 2;
    if (jfx_open(&x, argv[3], argv[4])) return 1;
    if (sl_framer_open(&in, argv[5], SL_FRAME_LINES, 0, 0, &x.err)) {
        fprintf(stderr, "%s\n", x.err.msg);
        jfx_close(&x);
        return 1;
    }
    while ((rc = sl_framer_next(&in, &fr, &x.err)) == SL_OK) {
        if (!o.delim && blank(&fr)) continue;
        size_t before = x.batch.nrows;
        if (drv_decode(&o, &x, &fr)) {
            fprintf(stderr, "record %llu at byte %llu: %s\n", (unsigned long long)fr.index,
                    (unsigned long long)fr.offset, x.err.msg);
            if (x.batch.nrows != before) {
                fprintf(stderr, "record %llu: batch changed by a failed decode\n",
                        (unsigned long long)fr.index);
                status = 1;
            }
        }
        if (x.batch.nrows == 1000) {
            if (jfx_dump_batch(&x.batch, stdout)) status = 1;
            sl_batch_reset(&x.batch);
        }
    }
    if (rc != SL_ERR_EOF) {
        fprintf(stderr, "framing: %s\n", x.err.msg);
        status = 1;
    }
    if (jfx_dump_batch(&x.batch, stdout)) status = 1;
    sl_framer_close(&in);
    jfx_close(&x);
    return status;
}

static int cmd_bench(int argc, char **argv)
{
    drv_opts o;
    jfx x;
    if (argc < 6 || drv_parse(&o, argc, argv, 7)) return 2;
    int rounds = argc > 6 ? atoi(argv[6]) : 5;
    if (jfx_open(&x, argv[3], argv[4])) return 1;
    FILE *f = fopen(argv[5], "rb");
    if (!f) return 1;
    sl_buf data = SL_BUF_INIT;
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (sl_buf_append(&data, chunk, k)) return 1;
    fclose(f);
    double best = 1e30;
    size_t lines = 0, bad = 0;
    for (int r = 0; r < rounds; r++) {
        struct timespec t0, t1;
        lines = bad = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t p = 0; p < data.len;) {
            const uint8_t *nl = memchr(data.p + p, '\n', data.len - p);
            size_t e = nl ? (size_t)(nl - data.p) : data.len;
            sl_frame fr = {.p = data.p + p, .len = e - p};
            if (drv_decode(&o, &x, &fr)) bad++;
            lines++;
            if (x.batch.nrows == 4096) sl_batch_reset(&x.batch);
            p = e + 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
                    (double)(lines ? lines : 1);
        if (ns < best) best = ns;
        sl_batch_reset(&x.batch);
    }
    printf("%zu lines (%zu bad), %.1f MB: best %.0f ns/line, %.0f lines/s, %.0f MB/s\n", lines, bad,
           (double)data.len / 1e6, best, 1e9 / best,
           (double)data.len / ((double)lines * best) * 1e3);
    sl_buf_free(&data);
    jfx_close(&x);
    return 0;
}

/* ---- unit tests ---- */

static jfx X3; /* t3.AllTypes */

static sl_err_t dec_opt(jfx *x, const char *line, int ignore)
{
    sl_json_options o = {.ignore_unknown = ignore};
    sl_batch_reset(&x->batch);
    sl_error_clear(&x->err);
    return sl_json_decode(x->rec, &x->batch, (const uint8_t *)line, strlen(line), &o, &x->err);
}
static sl_err_t dec(jfx *x, const char *line)
{
    return dec_opt(x, line, 0);
}

#define OK(line)                                                                                   \
    do {                                                                                           \
        CHECK_OK(dec(&X3, line), &X3.err);                                                         \
        CHECK_EQ_INT(X3.batch.nrows, 1);                                                           \
    } while (0)

static void test_integers(void)
{
    OK("{\"fInt32\": -2147483648, \"f_int64\": \"-9223372036854775808\"}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), INT32_MIN);
    CHECK(jfx_i64(&X3, "f_int64") == INT64_MIN);
    OK("{\"fUint64\":\"18446744073709551615\",\"fFixed64\":18446744073709551615,"
       "\"fUint32\":4294967295,\"fFixed32\":\"4294967295\"}");
    CHECK((uint64_t)jfx_i64(&X3, "f_uint64") == UINT64_MAX);
    CHECK((uint64_t)jfx_i64(&X3, "f_fixed64") == UINT64_MAX);
    CHECK_EQ_INT(jfx_i64(&X3, "f_uint32"), 4294967295LL);
    CHECK_EQ_INT(jfx_i64(&X3, "f_fixed32"), 4294967295LL);
    OK("{\"fSint32\":1e3,\"fSint64\":-1.5e1,\"fSfixed32\":10.0,\"fSfixed64\":-0,"
       "\"fInt64\":\"007\",\"fInt32\":1E+2}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_sint32"), 1000);
    CHECK_EQ_INT(jfx_i64(&X3, "f_sint64"), -15);
    CHECK_EQ_INT(jfx_i64(&X3, "f_sfixed32"), 10);
    CHECK_EQ_INT(jfx_i64(&X3, "f_sfixed64"), 0);
    CHECK_EQ_INT(jfx_i64(&X3, "f_int64"), 7);
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), 100);
    /* through a double: 2^53 + 1 written with a fraction is the double's */
    OK("{\"fInt64\":9007199254740993.0,\"fUint64\":9007199254740993}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_int64"), 9007199254740992LL);
    CHECK_EQ_INT(jfx_i64(&X3, "f_uint64"), 9007199254740993LL);
    OK("{\"farAway\":-5}");
    CHECK_EQ_INT(jfx_i64(&X3, "far_away"), -5);
}

static void test_floats(void)
{
    OK("{\"fDouble\":\"NaN\",\"fFloat\":\"-Infinity\",\"oDouble\":\"Infinity\"}");
    CHECK(isnan(jfx_f64(&X3, "f_double")));
    CHECK(jfx_f64(&X3, "f_float") == -INFINITY);
    CHECK(jfx_f64(&X3, "o_double") == INFINITY);
    OK("{\"fDouble\":0.1,\"fFloat\":3.4028234e38,\"oDouble\":\"-2.5e-3\"}");
    CHECK(jfx_f64(&X3, "f_double") == 0.1);
    CHECK((float)jfx_f64(&X3, "f_float") == 3.4028234e38f);
    CHECK(jfx_f64(&X3, "o_double") == -2.5e-3);
    OK("{\"fDouble\":1.7976931348623157e308,\"oDouble\":4.9e-324}");
    CHECK(jfx_f64(&X3, "f_double") == 1.7976931348623157e308);
    CHECK(jfx_f64(&X3, "o_double") == 4.9e-324);
    OK("{\"fDouble\":123456789012345678901234567890,\"oDouble\":-0.0}");
    CHECK(jfx_f64(&X3, "f_double") == 123456789012345678901234567890.0);
    CHECK(jfx_f64(&X3, "o_double") == 0.0 && signbit(jfx_f64(&X3, "o_double")));
    OK("{\"fDouble\":1e-400,\"oDouble\":0.30000000000000004441}");
    CHECK(jfx_f64(&X3, "f_double") == 0.0);
    CHECK(jfx_f64(&X3, "o_double") == 0.30000000000000004441);
}

static void test_strings_bytes(void)
{
    OK("{\"fString\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 \xc3\xbc\"}");
    CHECK(JFX_STR_EQ(&X3, "f_string", "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80 \xc3\xbc"));
    OK("{\"fString\":\"x\\u0000y\\u20AC\\uDBFF\\uDFFF\"}");
    CHECK(JFX_STR_EQ(&X3, "f_string", "x\0y\xe2\x82\xac\xf4\x8f\xbf\xbf"));
    OK("{\"fString\":\"\",\"oString\":\"\"}");
    CHECK(JFX_STR_EQ(&X3, "f_string", ""));
    CHECK_EQ_INT(jfx_null(&X3, "o_string"), 0);
    OK("{\"fBytes\":\"_-8\",\"oBytes\":\"/+8=\"}");
    CHECK(JFX_STR_EQ(&X3, "f_bytes", "\xff\xef"));
    CHECK(JFX_STR_EQ(&X3, "o_bytes", "\xff\xef"));
    OK("{\"fBytes\":\"aGVsbG8=\",\"oBytes\":\"aGVsbG8\"}");
    CHECK(JFX_STR_EQ(&X3, "f_bytes", "hello"));
    CHECK(JFX_STR_EQ(&X3, "o_bytes", "hello"));
    OK("{\"fBytes\":\"\\u0061GVsbG8=\"}"); /* escapes are decoded before base64 */
    CHECK(JFX_STR_EQ(&X3, "f_bytes", "hello"));
    OK("{\"fBool\":true,\"oBool\":false}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_bool"), 1);
    CHECK_EQ_INT(jfx_i64(&X3, "o_bool"), 0);
    CHECK_EQ_INT(jfx_null(&X3, "o_bool"), 0);
}

static void test_enums(void)
{
    OK("{\"fEnum\":\"GREEN\",\"oEnum\":-3,\"cEnum\":\"2\"}");
    CHECK(JFX_STR_EQ(&X3, "f_enum", "GREEN"));
    CHECK(JFX_STR_EQ(&X3, "o_enum", "BLUE"));
    CHECK(JFX_STR_EQ(&X3, "c_enum", "GREEN"));
    OK("{\"fEnum\":7}"); /* open enum: the unknown number is kept */
    CHECK(JFX_STR_EQ(&X3, "f_enum", "7"));
}

static void test_names_nulls_oneofs(void)
{
    OK(" \t{ \"f_int32\" : 1 , \"fInt64\":2,\"o_int32\":0 } \r\n");
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), 1);
    CHECK_EQ_INT(jfx_i64(&X3, "f_int64"), 2);
    CHECK_EQ_INT(jfx_null(&X3, "o_int32"), 0);
    OK("{\"fInt32\":null,\"oInt32\":null,\"leaf\":null,\"rInt32\":null,\"mStrStr\":null,"
       "\"cInt\":null,\"top\":{\"mid\":null}}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), 0);
    CHECK_EQ_INT(jfx_null(&X3, "o_int32"), 1);
    CHECK_EQ_INT(jfx_null(&X3, "c_int"), 1);
    CHECK(jfx_row(&X3) == 0);
    CHECK(jfx_has(&X3, "\"leaf\":null"));
    CHECK(jfx_has(&X3, "\"r_int32\":[]"));
    CHECK(jfx_has(&X3, "\"m_str_str\":[]"));
    CHECK(jfx_has(&X3, "\"top\":{\"mid\":null"));
    OK("{\"cInt\":null,\"cStr\":\"x\"}"); /* a null member does not count */
    CHECK_EQ_INT(jfx_null(&X3, "c_int"), 1);
    CHECK(JFX_STR_EQ(&X3, "c_str", "x"));
    OK("{\"cLeaf\":{}}");
    CHECK(jfx_row(&X3) == 0);
    CHECK(jfx_has(&X3, "\"c_str\":null"));
    CHECK(jfx_has(&X3, "\"c_leaf\":{\"name\":\"\""));
    OK("{}");
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), 0);
}

static void test_nesting_lists_maps(void)
{
    OK("{\"top\":{\"mid\":{\"leaf\":{\"name\":\"x\",\"opt\":0},\"leaves\":[{\"v\":\"1\"},{}],"
       "\"leafMap\":{\"k\":{\"color\":\"RED\"}}},\"nums\":[1,-2]},"
       "\"rLeaf\":[{\"name\":\"a\"}],\"rString\":[\"p\",\"q\"],\"rBytes\":[\"AA==\"],"
       "\"rEnum\":[\"RED\",2],\"rFloat\":[1.5,\"NaN\"],\"rBool\":[true,false]}");
    CHECK(jfx_row(&X3) == 0);
    CHECK(jfx_has(&X3,
                  "\"leaf\":{\"name\":\"x\",\"v\":0,\"opt\":0,\"color\":\"COLOR_UNSPECIFIED\"}"));
    CHECK(jfx_has(&X3, "\"leaves\":[{\"name\":\"\",\"v\":1,\"opt\":null"));
    CHECK(jfx_has(&X3, "\"leaf_map\":[{\"key\":\"k\",\"value\":{\"name\":\"\",\"v\":0,\"opt\":null,"
                       "\"color\":\"RED\"}}]"));
    CHECK(jfx_has(&X3, "\"nums\":[1,-2]"));
    CHECK(jfx_has(&X3, "\"r_string\":[\"p\",\"q\"]"));
    CHECK(jfx_has(&X3, "\"r_bytes\":[\"AA==\"]"));
    CHECK(jfx_has(&X3, "\"r_enum\":[\"RED\",\"GREEN\"]"));
    CHECK(jfx_has(&X3, "\"r_float\":[1.5,\"NaN\"]"));
    CHECK(jfx_has(&X3, "\"r_bool\":[true,false]"));
    /* map keys of every kind; a key given twice in two spellings: last value
     * at the first position (protobuf's map semantics) */
    OK("{\"mIntInt\":{\"1\":\"2\",\"-3\":4,\"01\":5},\"mBoolStr\":{\"true\":\"t\",\"false\":\"f\"},"
       "\"mUintDouble\":{\"4294967295\":\"NaN\"},\"mSintBytes\":{\"-9223372036854775808\":\"AQ==\"}"
       ","
       "\"mFixedBool\":{\"0\":true},\"mStrEnum\":{\"\\u00e9\":\"BLUE\"},"
       "\"mIntLeaf\":{\"7\":{\"v\":\"8\"}}}");
    CHECK(jfx_row(&X3) == 0);
    CHECK(jfx_has(&X3, "\"m_int_int\":[{\"key\":1,\"value\":5},{\"key\":-3,\"value\":4}]"));
    CHECK(jfx_has(&X3, "\"m_bool_str\":[{\"key\":true,\"value\":\"t\"},{\"key\":false"));
    CHECK(jfx_has(&X3, "\"m_uint_double\":[{\"key\":4294967295,\"value\":\"NaN\"}]"));
    CHECK(jfx_has(&X3, "\"m_sint_bytes\":[{\"key\":-9223372036854775808,\"value\":\"AQ==\"}]"));
    CHECK(jfx_has(&X3, "\"m_fixed_bool\":[{\"key\":0,\"value\":true}]"));
    CHECK(jfx_has(&X3, "\"m_str_enum\":[{\"key\":\"\xc3\xa9\",\"value\":\"BLUE\"}]"));
    CHECK(jfx_has(&X3, "\"m_int_leaf\":[{\"key\":7,\"value\":{\"name\":\"\",\"v\":8"));
    /* a big map: the sorted duplicate check accepts distinct keys */
    char big[4096];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"mStrStr\":{");
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(big + o, sizeof big - o, "}}");
    OK(big);
    CHECK(jfx_row(&X3) == 0);
    CHECK(jfx_has(&X3, "{\"key\":\"k59\",\"value\":\"v\"}]"));
}

static void test_ignore_unknown(void)
{
    const char *line = "{\"zzz\":{\"a\":[1,2.5e3,{\"b\":null}],\"c\":\"\\u00e9\"},\"fInt32\":5,"
                       "\"y\":[],\"w\":{}}";
    CHECK_OK(dec_opt(&X3, line, 1), &X3.err);
    CHECK_EQ_INT(jfx_i64(&X3, "f_int32"), 5);
    CHECK(dec(&X3, line) == SL_ERR_SCHEMA);
    CHECK(strstr(X3.err.msg, "byte 1, $.zzz: unknown field") != NULL);
    CHECK(dec_opt(&X3, "{\"zzz\":1,\"zzz\":2}", 1) == SL_ERR_CORRUPT);
    CHECK(strstr(X3.err.msg, "duplicate key \"zzz\"") != NULL);
    CHECK(dec_opt(&X3, "{\"zzz\":{\"a\":1,\"\\u0061\":2}}", 1) == SL_ERR_CORRUPT);
    CHECK(strstr(X3.err.msg, "$.zzz: duplicate key \"a\"") != NULL);
    CHECK(dec_opt(&X3, "{\"zzz\":[1,}", 1) == SL_ERR_CORRUPT);
    CHECK(dec_opt(&X3, "{\"zzz\":NaN}", 1) == SL_ERR_CORRUPT);
    /* unknown values nested past the bound */
    char deep[1200];
    size_t o = (size_t)snprintf(deep, sizeof deep, "{\"zzz\":");
    for (int i = 0; i < 300; i++)
        deep[o++] = '[';
    for (int i = 0; i < 300; i++)
        deep[o++] = ']';
    snprintf(deep + o, sizeof deep - o, "}");
    CHECK(dec_opt(&X3, deep, 1) == SL_ERR_LIMIT);
    CHECK(strstr(X3.err.msg, "nested deeper than 256") != NULL);
}

typedef struct bad_case {
    const char *line;
    sl_err_t code;
    const char *msg; /* must appear in the error */
} bad_case;

static const bad_case BAD[] = {
    {"", SL_ERR_CORRUPT, "byte 0, $: expected a value, got the end of the line"},
    {"   ", SL_ERR_CORRUPT, "expected a value"},
    {"[]", SL_ERR_CORRUPT, "expected a JSON object, got an array"},
    {"\"x\"", SL_ERR_CORRUPT, "expected a JSON object, got string \"x\""},
    {"{\"fInt32\":1} x", SL_ERR_CORRUPT, "byte 13, $: unexpected text after the JSON object"},
    {"{\"fInt32\":1}{}", SL_ERR_CORRUPT, "unexpected text after"},
    {"{\"fInt32\":1,}", SL_ERR_CORRUPT, "expected a key (a string), got '}'"},
    {"{fInt32:1}", SL_ERR_CORRUPT, "expected a key (a string), got 'f'"},
    {"{\"fInt32\" 1}", SL_ERR_CORRUPT, "expected ':', got '1'"},
    {"{\"fInt32\":1 \"fInt64\":2}", SL_ERR_CORRUPT, "expected ',' or '}', got '\"'"},
    {"{\"fInt32\":1", SL_ERR_CORRUPT, "expected ',' or '}', got the end of the line"},
    {"{\"fInt32\":", SL_ERR_CORRUPT, "$.fInt32: expected a value, got the end"},
    {"{\"fInt32\":\x01}", SL_ERR_CORRUPT, "expected a value, got byte 0x01"},
    {"{\"nope\":1}", SL_ERR_SCHEMA, "byte 1, $.nope: unknown field (message t3.AllTypes"},
    {"{\"leaf\":{\"nope\":1}}", SL_ERR_SCHEMA, "$.leaf.nope: unknown field (message t3.Leaf"},
    {"{\"fInt32\":1,\"fInt32\":2}", SL_ERR_CORRUPT, "byte 12, $.fInt32: field f_int32 given twice"},
    {"{\"fInt32\":1,\"f_int32\":2}", SL_ERR_CORRUPT, "field f_int32 given twice"},
    {"{\"fInt32\":\"x\"}", SL_ERR_CORRUPT,
     "byte 10, $.fInt32: expected an integer (int32), got string \"x\""},
    {"{\"fInt32\":2147483648}", SL_ERR_CORRUPT, "out of range for int32, got number 2147483648"},
    {"{\"fInt32\":-2147483649}", SL_ERR_CORRUPT, "out of range for int32"},
    {"{\"fInt32\":1.5}", SL_ERR_CORRUPT, "expected an integer (int32), got number 1.5"},
    {"{\"fUint32\":-1}", SL_ERR_CORRUPT, "out of range for uint32"},
    {"{\"fUint32\":4294967296}", SL_ERR_CORRUPT, "out of range for uint32"},
    {"{\"fUint64\":\"18446744073709551616\"}", SL_ERR_CORRUPT, "out of range for uint64"},
    {"{\"fUint64\":\"-1\"}", SL_ERR_CORRUPT, "out of range for uint64"},
    {"{\"fInt64\":9223372036854775808}", SL_ERR_CORRUPT, "out of range for int64"},
    {"{\"fInt64\":1e19}", SL_ERR_CORRUPT, "out of range for int64"},
    {"{\"fInt64\":1e400}", SL_ERR_CORRUPT, "expected an integer (int64)"},
    {"{\"fInt32\":\"1e3\"}", SL_ERR_CORRUPT, "expected an integer (int32), got string \"1e3\""},
    {"{\"fInt32\":\" 1\"}", SL_ERR_CORRUPT, "expected an integer"},
    {"{\"fInt32\":\"\"}", SL_ERR_CORRUPT, "expected an integer"},
    {"{\"fInt32\":true}", SL_ERR_CORRUPT, "expected an integer (int32), got true"},
    {"{\"fInt32\":[1]}", SL_ERR_CORRUPT, "expected an integer (int32), got an array"},
    {"{\"fInt32\":01}", SL_ERR_CORRUPT, "byte 10, $.fInt32: invalid number"},
    {"{\"fInt32\":-}", SL_ERR_CORRUPT, "invalid number"},
    {"{\"fInt32\":1.}", SL_ERR_CORRUPT, "invalid number"},
    {"{\"fInt32\":.5}", SL_ERR_CORRUPT, "expected a value, got '.'"},
    {"{\"fInt32\":+1}", SL_ERR_CORRUPT, "expected a value, got '+'"},
    {"{\"fInt32\":1e}", SL_ERR_CORRUPT, "invalid number"},
    {"{\"fInt32\":1x}", SL_ERR_CORRUPT, "invalid number"},
    {"{\"fDouble\":1e400}", SL_ERR_CORRUPT, "out of range for double"},
    {"{\"fDouble\":\"-1e400\"}", SL_ERR_CORRUPT, "out of range for double"},
    {"{\"fFloat\":1e39}", SL_ERR_CORRUPT, "out of range for float"},
    {"{\"fFloat\":3.4028236e38}", SL_ERR_CORRUPT, "out of range for float"},
    {"{\"fDouble\":NaN}", SL_ERR_CORRUPT, "expected a value, got 'N'"},
    {"{\"fDouble\":\"nan\"}", SL_ERR_CORRUPT, "expected a number (double), got string \"nan\""},
    {"{\"fDouble\":\"1.5 \"}", SL_ERR_CORRUPT, "expected a number (double)"},
    {"{\"fDouble\":true}", SL_ERR_CORRUPT, "expected a number (double), got true"},
    {"{\"fBool\":\"true\"}", SL_ERR_CORRUPT, "expected true or false, got string \"true\""},
    {"{\"fBool\":1}", SL_ERR_CORRUPT, "expected true or false, got number 1"},
    {"{\"fBool\":tru}", SL_ERR_CORRUPT, "invalid literal (expected true)"},
    {"{\"fBool\":nulls}", SL_ERR_CORRUPT, "invalid literal (expected null)"},
    {"{\"fString\":1}", SL_ERR_CORRUPT, "expected a string, got number 1"},
    {"{\"fString\":\"\\ud800\"}", SL_ERR_CORRUPT,
     "byte 12, $.fString: lone high surrogate \\uD800"},
    {"{\"fString\":\"\\udc00\"}", SL_ERR_CORRUPT, "lone low surrogate \\uDC00"},
    {"{\"fString\":\"\\ud800\\u0041\"}", SL_ERR_CORRUPT, "lone high surrogate"},
    {"{\"fString\":\"\\ud800\\\"}", SL_ERR_CORRUPT, "lone high surrogate"},
    {"{\"fString\":\"\\x\"}", SL_ERR_CORRUPT, "invalid escape \\x"},
    {"{\"fString\":\"\\u12G4\"}", SL_ERR_CORRUPT, "invalid \\u escape"},
    {"{\"fString\":\"\\u12\"}", SL_ERR_CORRUPT, "invalid \\u escape"},
    {"{\"fString\":\"a\tb\"}", SL_ERR_CORRUPT, "byte 13, $.fString: control character 0x09"},
    {"{\"fString\":\"\xff\"}", SL_ERR_CORRUPT, "invalid UTF-8 in a string"},
    {"{\"fString\":\"\xed\xa0\x80\"}", SL_ERR_CORRUPT, "invalid UTF-8"},
    {"{\"fString\":\"\xc0\xaf\"}", SL_ERR_CORRUPT, "invalid UTF-8"},
    {"{\"fString\":\"\xe2\x82\"}", SL_ERR_CORRUPT, "invalid UTF-8"},
    {"{\"fString\":\"\xf4\x90\x80\x80\"}", SL_ERR_CORRUPT, "invalid UTF-8"},
    {"{\"f\xffString\":1}", SL_ERR_CORRUPT, "invalid UTF-8"},
    {"{\"fString\":\"abc", SL_ERR_CORRUPT, "byte 11, $.fString: unterminated string"},
    {"{\"fString\":\"abc\\", SL_ERR_CORRUPT, "unterminated string"},
    {"{\"fBytes\":\"Q\"}", SL_ERR_CORRUPT, "$.fBytes: invalid base64, got string \"Q\""},
    {"{\"fBytes\":\"Q!==\"}", SL_ERR_CORRUPT, "invalid base64"},
    {"{\"fBytes\":\"QQ==QQ==\"}", SL_ERR_CORRUPT, "invalid base64"},
    {"{\"fBytes\":1}", SL_ERR_CORRUPT, "expected a base64 string"},
    {"{\"fEnum\":\"PURPLE\"}", SL_ERR_CORRUPT,
     "$.fEnum: unknown value of enum t3.Color, got string \"PURPLE\""},
    {"{\"fEnum\":\"red\"}", SL_ERR_CORRUPT, "unknown value of enum t3.Color"},
    /* a NUL in a name (found by fuzz_json: must not read past the names) */
    {"{\"fEnum\":\"BLUE\\u0000\\u0000\"}", SL_ERR_CORRUPT, "unknown value of enum t3.Color"},
    {"{\"fInt32\\u0000\\u0000\\u0000\\u0000\":1}", SL_ERR_SCHEMA, "unknown field"},
    {"{\"fEnum\":1.5}", SL_ERR_CORRUPT, "expected an integer (enum)"},
    {"{\"fEnum\":2147483648}", SL_ERR_CORRUPT, "out of range for enum"},
    {"{\"fEnum\":true}", SL_ERR_CORRUPT, "expected a value name or number of enum t3.Color"},
    {"{\"cInt\":1,\"cStr\":\"a\"}", SL_ERR_CORRUPT,
     "byte 17, $.cStr: more than one member of oneof choice given"},
    {"{\"cLeaf\":{},\"cEnum\":0}", SL_ERR_CORRUPT, "more than one member of oneof choice"},
    {"{\"leaf\":1}", SL_ERR_CORRUPT, "$.leaf: expected an object, got number 1"},
    {"{\"leaf\":[]}", SL_ERR_CORRUPT, "expected an object, got an array"},
    {"{\"leaf\":\"\"}", SL_ERR_CORRUPT, "expected an object, got string"},
    {"{\"rInt32\":1}", SL_ERR_CORRUPT, "$.rInt32: expected an array, got number 1"},
    {"{\"rInt32\":[1,null]}", SL_ERR_CORRUPT,
     "byte 13, $.rInt32[1]: null is not allowed as an element of a repeated field"},
    {"{\"rInt32\":[1,]}", SL_ERR_CORRUPT, "$.rInt32[1]: expected a value, got ']'"},
    {"{\"rInt32\":[1 2]}", SL_ERR_CORRUPT, "expected ',' or ']', got '2'"},
    {"{\"rLeaf\":[{\"v\":\"x\"}]}", SL_ERR_CORRUPT,
     "$.rLeaf[0].v: expected an integer (int64), got string \"x\""},
    {"{\"rLeaf\":[1]}", SL_ERR_CORRUPT, "$.rLeaf[0]: expected an object, got number 1"},
    {"{\"rLeaf\":[null]}", SL_ERR_CORRUPT, "null is not allowed as an element"},
    {"{\"mStrStr\":[]}", SL_ERR_CORRUPT, "$.mStrStr: expected an object (map), got an array"},
    {"{\"mStrStr\":{\"a\":null}}", SL_ERR_CORRUPT,
     "$.mStrStr[\"a\"]: null is not allowed as a map value"},
    {"{\"mStrStr\":{\"a\":1}}", SL_ERR_CORRUPT, "$.mStrStr[\"a\"]: expected a string"},
    {"{\"mIntLeaf\":{\"1\":null}}", SL_ERR_CORRUPT, "null is not allowed as a map value"},
    {"{\"mIntLeaf\":{\"1\":[]}}", SL_ERR_CORRUPT, "expected an object, got an array"},
    {"{\"mIntInt\":{\"x\":1}}", SL_ERR_CORRUPT,
     "$.mIntInt[\"x\"]: map key: expected an integer (int32), got string \"x\""},
    {"{\"mIntInt\":{\"2147483648\":1}}", SL_ERR_CORRUPT, "map key: out of range for int32"},
    {"{\"mIntInt\":{\"1.0\":1}}", SL_ERR_CORRUPT, "map key: expected an integer"},
    {"{\"mUintDouble\":{\"-1\":1}}", SL_ERR_CORRUPT, "map key: out of range for uint32"},
    {"{\"mBoolStr\":{\"yes\":\"a\"}}", SL_ERR_CORRUPT,
     "map key: expected \"true\" or \"false\", got string \"yes\""},
    {"{\"mBoolStr\":{\"True\":\"a\"}}", SL_ERR_CORRUPT, "map key: expected \"true\""},
    {"{\"mStrStr\":{\"a\":\"1\",\"a\":\"2\"}}", SL_ERR_CORRUPT,
     "byte 20, $.mStrStr: duplicate key \"a\" in one object"},
    {"{\"mStrStr\":{1:\"a\"}}", SL_ERR_CORRUPT, "expected a key (a string), got '1'"},
    {"{\"top\":{\"mid\":{\"leaves\":[{},{\"opt\":1.25}]}}}", SL_ERR_CORRUPT,
     "$.top.mid.leaves[1].opt: expected an integer (int32), got number 1.25"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad_case *c = &BAD[i];
        sl_err_t rc = dec(&X3, c->line);
        if (rc != c->code || !strstr(X3.err.msg, c->msg)) {
            fprintf(stderr, "case %zu %s:\n  got %d %s\n  want %d ...%s...\n", i, c->line, rc,
                    X3.err.msg, c->code, c->msg);
            t_cur_failed = 1;
        }
        if (X3.batch.nrows != 0) {
            fprintf(stderr, "case %zu: batch not left untouched\n", i);
            t_cur_failed = 1;
        }
    }
    /* a big map with a duplicate at the end: the sorted check finds it */
    char big[4096];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"mStrStr\":{");
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(big + o, sizeof big - o, ",\"k3\":\"w\"}}");
    CHECK(dec(&X3, big) == SL_ERR_CORRUPT);
    CHECK(strstr(X3.err.msg, "duplicate key \"k3\"") != NULL);
}

/* After an error in the middle of a line the batch is as before, and the
 * next line decodes normally. */
static void test_batch_untouched(void)
{
    sl_json_options o = {0};
    const char *good = "{\"fInt32\":5,\"rString\":[\"a\"],\"mStrStr\":{\"k\":\"v\"}}";
    const char *bad = "{\"fInt32\":6,\"rString\":[\"b\"],\"mStrStr\":{\"k\":1}}";
    sl_batch_reset(&X3.batch);
    CHECK_OK(sl_json_decode(X3.rec, &X3.batch, (const uint8_t *)good, strlen(good), &o, &X3.err),
             &X3.err);
    size_t n0 = X3.batch.cols[0].n;
    CHECK(sl_json_decode(X3.rec, &X3.batch, (const uint8_t *)bad, strlen(bad), &o, &X3.err) ==
          SL_ERR_CORRUPT);
    CHECK_EQ_INT(X3.batch.nrows, 1);
    CHECK_EQ_INT(X3.batch.cols[0].n, n0);
    CHECK_OK(sl_json_decode(X3.rec, &X3.batch, (const uint8_t *)good, strlen(good), &o, &X3.err),
             &X3.err);
    CHECK_EQ_INT(X3.batch.nrows, 2);
    CHECK_OK(sl_batch_validate(&X3.batch, &X3.err), &X3.err);
    /* opt may be NULL */
    CHECK_OK(sl_json_decode(X3.rec, &X3.batch, (const uint8_t *)"{}", 2, NULL, &X3.err), &X3.err);
}

static void test_depth_bound(void)
{
    int saved = X3.plan.max_depth;
    X3.plan.max_depth = 2;
    CHECK_OK(dec(&X3, "{\"leaf\":{}}"), &X3.err);
    CHECK(dec(&X3, "{\"top\":{\"mid\":{}}}") == SL_ERR_LIMIT);
    CHECK(strstr(X3.err.msg, "byte 14, $.top.mid: messages nested deeper than 2") != NULL);
    X3.plan.max_depth = saved;
}

static void test_proto2(void)
{
    jfx x;
    if (jfx_open(&x, "alltypes2.proto", "t2.AllTypes2")) {
        t_cur_failed = 1;
        return;
    }
    sl_json_options o = {0};
    const char *l1 = "{\"id\":\"1\",\"reqInner\":{\"id\":2},\"oSize\":\"HUGE\",\"grp\":{\"gA\":3},"
                     "\"mLevel\":{\"5\":\"HIGH\"}}";
    CHECK_OK(sl_json_decode(x.rec, &x.batch, (const uint8_t *)l1, strlen(l1), &o, &x.err), &x.err);
    CHECK(JFX_STR_EQ(&x, "o_size", "HUGE"));
    CHECK_EQ_INT(jfx_null(&x, "o_int32"), 1); /* absent proto2 optional: null despite default */
    const char *l2 = "{\"id\":1,\"reqInner\":{\"id\":2},\"oSize\":7}";
    CHECK(sl_json_decode(x.rec, &x.batch, (const uint8_t *)l2, strlen(l2), &o, &x.err) ==
          SL_ERR_CORRUPT);
    CHECK(strstr(x.err.msg, "$.oSize: unknown number of closed enum t2.Size, got number 7"));
    const char *l3 = "{\"id\":1}"; /* required req_inner missing: emit rejects */
    CHECK(sl_json_decode(x.rec, &x.batch, (const uint8_t *)l3, strlen(l3), &o, &x.err) != SL_OK);
    CHECK(strstr(x.err.msg, "req_inner") != NULL);
    CHECK_EQ_INT(x.batch.nrows, 1);
    jfx_close(&x);
}

static void test_scalar_helpers(void)
{
    /* correctly rounded doubles on both paths, against strtod */
    static const char *nums[] = {"0",
                                 "-0",
                                 "1",
                                 "0.1",
                                 "123.456e-7",
                                 "1e22",
                                 "1e23",
                                 "9007199254740993",
                                 "2.2250738585072011e-308",
                                 "4.9e-324",
                                 "1.7976931348623157e308",
                                 "1e309",
                                 "0.000001",
                                 "12345678901234567890123",
                                 "3.14159265358979323846"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        double d = -1, want = strtod(nums[i], NULL);
        int is_int;
        size_t n = strlen(nums[i]);
        CHECK(sl_json_num_scan((const uint8_t *)nums[i], (const uint8_t *)nums[i] + n, &is_int) ==
              n);
        CHECK(sl_json_double_text((const uint8_t *)nums[i], n, &d) == 0);
        if (memcmp(&d, &want, sizeof d)) {
            fprintf(stderr, "%s: %.17g != %.17g\n", nums[i], d, want);
            t_cur_failed = 1;
        }
    }
    char longnum[SL_JSON_NUM_MAX + 10];
    memset(longnum, '1', sizeof longnum);
    double d;
    CHECK(sl_json_double_text((const uint8_t *)longnum, sizeof longnum, &d) == -1);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "dump")) return cmd_dump(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    if (jfx_open(&X3, "alltypes3.proto", "t3.AllTypes")) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_integers);
    RUN(test_floats);
    RUN(test_strings_bytes);
    RUN(test_enums);
    RUN(test_names_nulls_oneofs);
    RUN(test_nesting_lists_maps);
    RUN(test_ignore_unknown);
    RUN(test_errors);
    RUN(test_batch_untouched);
    RUN(test_depth_bound);
    RUN(test_proto2);
    RUN(test_scalar_helpers);
    jfx_close(&X3);
    return TEST_DONE();
}
