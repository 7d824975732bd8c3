/* test_filter.c - unit tests of the filter language (engine/filter.h); and,
 * with arguments, the driver of tests/e2e/0024:
 *
 *   test_filter eval SCHEMA MESSAGE INPUT.pb EXPRS.txt > out.txt
 *       for each line of EXPRS.txt print one line: the keep/drop vector
 *       over every pb-delimited record of INPUT.pb ("1010..."), or
 *       "error: MESSAGE" when the expression does not compile.
 *
 * Unit cases parse JSON records (json_dec.h, whose mapping is tested
 * against python-protobuf elsewhere) and check the documented semantics
 * written out by hand: presence and null, three-valued logic, exact
 * number comparisons at the int64/uint64/double edges, enum names, and the
 * compile errors with their columns. The e2e script compares thousands of
 * random expressions with an independent evaluator in Python.
 */
#include "core/framer.h"
#include "engine/filter.h"
#include "formats/json/json_dec.h"
#include "plan_fx.h"
#include "test.h"

static jfx x3, xp, x2;

/* Evaluate text on one JSON record: 1 keep, 0 drop, -1 compile error. */
static int ev(jfx *x, const char *text, const char *json)
{
    sl_filter *f = NULL;
    sl_rec_begin(x->rec);
    if (sl_json_parse(x->rec, (const uint8_t *)json, strlen(json), NULL, &x->err)) {
        fprintf(stderr, "bad test json %s: %s\n", json, x->err.msg);
        return -2;
    }
    if (sl_filter_compile(&f, text, &x->plan, &x->err)) return -1;
    int k = sl_filter_eval(f, x->rec);
    sl_filter_free(f);
    return k;
}

/* Compile must fail with a message containing sub. */
static int bad(jfx *x, const char *text, const char *sub)
{
    sl_filter *f = NULL;
    if (!sl_filter_compile(&f, text, &x->plan, &x->err)) {
        sl_filter_free(f);
        fprintf(stderr, "compiled but should not: %s\n", text);
        return 0;
    }
    if (f || !strstr(x->err.msg, sub)) {
        fprintf(stderr, "%s: error '%s' lacks '%s'\n", text, x->err.msg, sub);
        return 0;
    }
    return 1;
}

static void test_basic(void)
{
    const char *ev1 = "{\"play_seconds\": 30, \"platform\": \"IOS\", \"client\": {\"os\": "
                      "\"ios\"}, \"mid\": \"-5\", \"progress\": 0.5, \"is_autoplay\": true}";
    CHECK_EQ_INT(ev(&xp, "play_seconds > 0 and platform != 'TV'", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "play_seconds > 30", ev1), 0);
    CHECK_EQ_INT(ev(&xp, "play_seconds >= 30 AND play_seconds <= 30", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "30 = play_seconds", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "31 > play_seconds", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "client.os in ('ios', 'android')", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "client.os not in ('ios', 'android')", ev1), 0);
    CHECK_EQ_INT(ev(&xp, "client.os <> 'ios'", ev1), 0);
    CHECK_EQ_INT(ev(&xp, "client.os < 'iosa' and client.os > 'io'", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "platform = 2", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "platform in ('IOS', 'TV')", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "platform > 1 and platform < 3", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "mid = -5 and mid < -4.5 and mid > -5.5 and mid != -5.0000001", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "progress = 0.5 and progress = 5e-1 and progress < 1", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "is_autoplay and not is_autoplay = false", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "not (play_seconds = 1 or client is null)", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "a = 1 or play_seconds = 30", ev1), -1);
    /* precedence: not > and > or */
    CHECK_EQ_INT(ev(&xp, "play_seconds = 30 or play_seconds = 1 and play_seconds = 2", ev1), 1);
    CHECK_EQ_INT(ev(&xp, "(play_seconds = 30 or play_seconds = 1) and play_seconds = 2", ev1), 0);
    CHECK_EQ_INT(ev(&xp, "not play_seconds = 1 and play_seconds = 30", ev1), 1);
    /* "" quoted names and '' escapes */
    CHECK_EQ_INT(ev(&xp, "\"client\".os = 'ios'", "{\"client\": {\"os\": \"ios\"}}"), 1);
    CHECK_EQ_INT(ev(&xp, "log_id = 'it''s'", "{\"log_id\": \"it's\"}"), 1);
    CHECK_EQ_INT(ev(&xp, "log_id = ''", "{}"), 1);
}

/* proto3 implicit fields hold defaults; absent messages and presence
 * fields are null; comparisons with null are unknown and unknown drops. */
static void test_null_logic(void)
{
    CHECK_EQ_INT(ev(&xp, "play_seconds = 0", "{}"), 1);
    CHECK_EQ_INT(ev(&xp, "play_seconds is null", "{}"), 0);
    CHECK_EQ_INT(ev(&xp, "client is null", "{}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os is null", "{}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os is not null", "{\"client\": {}}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os = ''", "{\"client\": {}}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os = 'x'", "{}"), 0);
    CHECK_EQ_INT(ev(&xp, "client.os != 'x'", "{}"), 0);
    CHECK_EQ_INT(ev(&xp, "not client.os = 'x'", "{}"), 0);
    CHECK_EQ_INT(ev(&xp, "not (client.os = 'x' and play_seconds = 0)", "{}"), 0);
    CHECK_EQ_INT(ev(&xp, "not (client.os = 'x' and play_seconds = 1)", "{}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os = 'x' or play_seconds = 0", "{}"), 1);
    CHECK_EQ_INT(ev(&xp, "client.os not in ('x')", "{}"), 0);
    /* proto3 optional and oneof members */
    CHECK_EQ_INT(ev(&x3, "o_int32 is null", "{}"), 1);
    CHECK_EQ_INT(ev(&x3, "o_int32 = 0", "{\"oInt32\": 0}"), 1);
    CHECK_EQ_INT(ev(&x3, "c_int is null and c_str = 'a'", "{\"cStr\": \"a\"}"), 1);
    CHECK_EQ_INT(ev(&x3, "c_leaf.opt is null and c_leaf.v = 0", "{\"cLeaf\": {}}"), 1);
    /* proto2: an absent optional with a [default] is null, not the default */
    CHECK_EQ_INT(ev(&x2, "o_int32 is null", "{\"id\": 1, \"reqInner\": {\"id\": 1}}"), 1);
    CHECK_EQ_INT(ev(&x2, "o_int32 = -7", "{\"id\": 1, \"reqInner\": {\"id\": 1}}"), 0);
    CHECK_EQ_INT(ev(&x2, "o_size = 'HUGE' and grp.g_a is null", "{\"id\": 1, \"oSize\": \"HUGE\"}"),
                 1);
}

static void test_numbers(void)
{
    const char *big = "{\"fUint64\": \"18446744073709551615\", \"fInt64\": "
                      "\"-9223372036854775808\", \"fDouble\": 9007199254740993, \"fFloat\": 0.1, "
                      "\"fUint32\": 4294967295, \"oDouble\": \"NaN\", \"fSfixed64\": "
                      "\"9007199254740993\"}";
    CHECK_EQ_INT(ev(&x3, "f_uint64 = 18446744073709551615", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_uint64 > 9223372036854775807 and f_uint64 > -1", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_uint64 < 18446744073709551616.0", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_uint64 = 18446744073709551616.0", big), 0);
    CHECK_EQ_INT(ev(&x3, "f_int64 = -9223372036854775808 and f_int64 < -9223372036854775807", big),
                 1);
    CHECK_EQ_INT(ev(&x3, "f_int64 = -9223372036854775808.0", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_int64 < 18446744073709551615", big), 1);
    /* 2^53 + 1 is not a double: the int64 field differs from the double
     * literal nearest to it, and compares exactly */
    CHECK_EQ_INT(ev(&x3, "f_sfixed64 = 9007199254740993", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_sfixed64 != 9007199254740992.0", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_sfixed64 > 9007199254740992.0", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_double = 9007199254740992", big), 1); /* the JSON rounded */
    CHECK_EQ_INT(ev(&x3, "f_double < 9007199254740993", big), 1);
    CHECK_EQ_INT(ev(&x3, "f_float != 0.1 and f_float > 0.1", big), 1); /* float 0.1 > double 0.1 */
    CHECK_EQ_INT(ev(&x3, "f_uint32 = 4294967295", big), 1);
    CHECK_EQ_INT(ev(&x3, "o_double != 1 and not o_double = 1", big), 1);
    CHECK_EQ_INT(ev(&x3, "o_double = o_double", big), -1);
    CHECK_EQ_INT(ev(&x3, "o_double < 1 or o_double >= 1 or o_double = 0.0", big), 0);
    CHECK_EQ_INT(ev(&x3, "f_int32 > 2.5 or f_int32 < -0.5", "{\"fInt32\": 3}"), 1);
    CHECK_EQ_INT(ev(&x3, "f_int32 > 3.5 or f_int32 < 2.5", "{\"fInt32\": 3}"), 0);
    CHECK_EQ_INT(ev(&x3, "f_bool = true", "{\"fBool\": true}"), 1);
    CHECK_EQ_INT(
        ev(&x3, "f_bytes = 'ab' and f_bytes > 'a' and f_bytes < 'b'", "{\"fBytes\": \"YWI=\"}"), 1);
    CHECK_EQ_INT(ev(&x3, "f_enum = 'BLUE' and f_enum = -3 and f_enum < 0", "{\"fEnum\": \"BLUE\"}"),
                 1);
    CHECK_EQ_INT(ev(&x3, "f_enum = 7 and f_enum != 'RED'", "{\"fEnum\": 7}"),
                 1); /* unknown number */
    CHECK_EQ_INT(ev(&x3, "far_away = 5 and top.mid.leaf.color = 'COLOR_UNSPECIFIED'",
                    "{\"farAway\": 5, \"top\": {\"mid\": {\"leaf\": {}}}}"),
                 1);
}

static void test_errors(void)
{
    CHECK(bad(&xp, "play_seconds > 0 and platform != 'TVX'",
              "filter: column 34: field 'platform' is an enum of bench.Platform; 'TVX' is not "
              "one of PLATFORM_UNKNOWN, ANDROID, IOS, WEB, TV"));
    CHECK(
        bad(&xp, "play_seconds = 'abc'", "column 16: field 'play_seconds' is an int32; it cannot"));
    CHECK(bad(&xp, "log_id = 3", "column 10: field 'log_id' is a string"));
    CHECK(bad(&xp, "is_autoplay = 1", "is a bool"));
    CHECK(bad(&xp, "tags = 'a'", "column 1: field path 'tags': 'tags' is repeated or a map"));
    CHECK(bad(&xp, "ext is null", "repeated or a map"));
    CHECK(bad(&xp, "nosuch > 1", "column 1: field path 'nosuch': message bench.PlayEvent has no"));
    CHECK(bad(&xp, "client = 1", "is a message (bench.Client); only 'is null'"));
    CHECK(bad(&xp, "platform < 'TV'", "by name it compares only with =, != and in"));
    CHECK(bad(&xp, "platform = 1.5", "compare it with a value name or an integer"));
    CHECK(bad(&xp, "mid = null", "use 'is null'"));
    CHECK(bad(&xp, "mid", "column 1: field 'mid' is not a bool"));
    CHECK(bad(&xp, "mid = 18446744073709551616", "outside [-9223372036854775808"));
    CHECK(bad(&xp, "mid = -9223372036854775809", "outside"));
    CHECK(bad(&xp, "progress > 1e400", "out of the double range"));
    CHECK(bad(&xp, "mid = 1 mid = 2", "column 9: unexpected 'mid'"));
    CHECK(bad(&xp, "(mid = 1", "column 9: expected ')' to close the '(' at column 1"));
    CHECK(bad(&xp, "mid = 'a", "column 7: unterminated string"));
    CHECK(bad(&xp, "mid = 1 && mid = 2", "use 'and', 'or'"));
    CHECK(bad(&xp, "", "empty expression"));
    CHECK(bad(&xp, "mid in ()", "expected a literal in the 'in' list"));
    CHECK(bad(&xp, "mid in (1, 'a')", "column 12: field 'mid' is an int64"));
    CHECK(bad(&xp, "mid = 0x10", "malformed number"));
    CHECK(bad(&xp, "mid is not 1", "expected 'null' after 'is not'"));
    CHECK(bad(&xp, "1 = 1", "expected a field name"));
    CHECK(bad(&xp, "mid = 1 and", "unexpected end of the expression"));
    /* nesting is bounded, not a stack overflow */
    char deep[600];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        deep[n++] = '(';
    memcpy(deep + n, "mid = 1", 7);
    n += 7;
    for (int i = 0; i < 200; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    CHECK(bad(&xp, deep, "nested deeper than 64"));
    n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "not ");
    snprintf(deep + n, sizeof deep - n, "mid = 1");
    CHECK(bad(&xp, deep, "nested deeper than 64"));
    /* a long flat chain is fine (the stack stays shallow) */
    static char flat[20000];
    n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(flat + n, sizeof flat - n, "%smid = %d", i ? " or " : "", i);
    CHECK_EQ_INT(ev(&xp, flat, "{\"mid\": 999}"), 1);
    CHECK_EQ_INT(ev(&xp, flat, "{\"mid\": 1000}"), 0);
}

/* ---- e2e driver ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap) b = realloc(b, cap *= 2);
        size_t k = fread(b + n, 1, cap - n, f);
        if (!k) break;
        n += k;
    }
    fclose(f);
    *len = n;
    return b;
}

static int cmd_eval(char **argv)
{
    jfx x;
    size_t len = 0, elen = 0;
    int status = 1;
    if (jfx_open(&x, argv[2], argv[3])) return 1;
    uint8_t *data = slurp(argv[4], &len);
    char *exprs = (char *)slurp(argv[5], &elen);
    /* every record, parsed once, in its own sl_rec (the filter reads the
     * scratch, so each record needs its own) */
    sl_rec **recs = NULL;
    size_t nrec = 0, cap = 0;
    char *bits = NULL;
    if (!data || !exprs) goto done;
    sl_framer fr;
    sl_framer_open_mem(&fr, data, len, SL_FRAME_VARINT, 0, argv[4]);
    for (;;) {
        sl_frame fm;
        sl_err_t rc = sl_framer_next(&fr, &fm, &x.err);
        if (rc == SL_ERR_EOF) break;
        if (rc) {
            fprintf(stderr, "framing: %s\n", x.err.msg);
            goto done;
        }
        if (nrec == cap) recs = realloc(recs, (cap = cap ? cap * 2 : 256) * sizeof *recs);
        if (sl_rec_new(&recs[nrec], &x.plan)) goto done;
        sl_rec_begin(recs[nrec]);
        if (sl_pb_parse(recs[nrec], fm.p, fm.len, &x.err)) {
            fprintf(stderr, "record %zu: %s\n", nrec, x.err.msg);
            sl_rec_free(recs[nrec]);
            goto done;
        }
        nrec++;
    }
    sl_framer_close(&fr);
    bits = malloc(nrec + 1);
    exprs = realloc(exprs, elen + 1);
    exprs[elen] = '\0';
    for (char *line = exprs, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = '\0';
        sl_filter *f;
        if (sl_filter_compile(&f, line, &x.plan, &x.err)) {
            printf("error: %s\n", x.err.msg);
            continue;
        }
        for (size_t i = 0; i < nrec; i++)
            bits[i] = sl_filter_eval(f, recs[i]) ? '1' : '0';
        bits[nrec] = '\0';
        printf("%s\n", bits);
        sl_filter_free(f);
    }
    status = 0;
done:
    for (size_t i = 0; i < nrec; i++)
        sl_rec_free(recs[i]);
    free(recs);
    free(bits);
    free(data);
    free(exprs);
    jfx_close(&x);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 5 && !strcmp(argv[1], "eval")) return cmd_eval(argv);
    if (jfx_open(&x3, "alltypes3.proto", "t3.AllTypes") ||
        jfx_open(&xp, "play_event.proto", "bench.PlayEvent") ||
        jfx_open(&x2, "alltypes2.proto", "t2.AllTypes2"))
        return 1;
    RUN(test_basic);
    RUN(test_null_logic);
    RUN(test_numbers);
    RUN(test_errors);
    jfx_close(&x3);
    jfx_close(&xp);
    jfx_close(&x2);
    return TEST_DONE();
}
