/* test_lua_etl.c - unit tests of the Lua transform (engine/lua_etl.h).
 *
 * Round trip: with `transform = function(r) return r end`, records decoded
 * through Lua must give byte-identical columns (levels, values, offsets)
 * to the same records decoded without Lua: 500 generated PlayEvents, and
 * alltypes3/alltypes2 records covering every type, presence kind, oneofs,
 * nesting, repeated fields, maps of every key kind (including duplicate
 * keys on the wire), uint64 above 2^63, NaN and -0.0, unknown enum numbers.
 * Cleaning: a script that trims, maps values, drops, and writes nested and
 * map fields, checked through the emitted row. Errors: script errors with
 * traceback, wrong types, unknown fields, ranges, the instruction budget
 * (also when the script catches it), the memory limit, the sandbox, and a
 * state that stays usable after each.
 */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/lua_etl.h"
#include "formats/json/json_dec.h"
#include "plan_fx.h"
#include "plugins/gen/playgen.h"
#include "test.h"

static char script_path[1024];

static const char *script(const char *text)
{
    static int n;
    mkdir(test_tmpdir(), 0777); /* ctest's $SL_TMP may not exist yet */
    snprintf(script_path, sizeof script_path, "%s/test_lua_etl_%d_%d.lua", test_tmpdir(),
             (int)getpid(), n++);
    FILE *f = fopen(script_path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return script_path;
}

static sl_lua_etl *open_script(jfx *x, const char *text)
{
    sl_lua_etl *l = NULL;
    const char *p = script(text);
    if (!p || sl_lua_etl_open(&l, p, &x->plan, &x->err)) {
        fprintf(stderr, "open: %s\n", x->err.msg);
        return NULL;
    }
    unlink(p);
    return l;
}

/* Columns equal slot for slot and byte for byte. */
static int batch_eq(const sl_batch *a, const sl_batch *b)
{
    if (a->nrows != b->nrows || a->ncols != b->ncols) return 0;
    for (int32_t i = 0; i < a->ncols; i++) {
        const sl_col *x = &a->cols[i], *y = &b->cols[i];
        int lv = x->max_def || x->max_rep;
        if (x->n != y->n || x->nvals != y->nvals || x->val.len != y->val.len ||
            (lv && (memcmp(x->def, y->def, x->n) || memcmp(x->rep, y->rep, x->n))) ||
            (x->val.len && memcmp(x->val.p, y->val.p, x->val.len)) ||
            (x->off && memcmp(x->off, y->off, (x->nvals + 1) * sizeof *x->off))) {
            char path[256];
            sl_schema_path(a->schema, a->schema->leaves[i], path, sizeof path);
            fprintf(stderr, "column %s differs (n %zu/%zu, nvals %zu/%zu, bytes %zu/%zu)\n", path,
                    x->n, y->n, x->nvals, y->nvals, x->val.len, y->val.len);
            return 0;
        }
    }
    return 1;
}

/* Identity through Lua of one record already parsed into x->rec: emit it
 * directly into x->batch and through Lua into *out_b. */
static int through(jfx *x, sl_lua_etl *l, sl_rec *out, sl_batch *out_b)
{
    int k = sl_lua_etl_apply(l, x->rec, out, &x->err);
    if (k != 1) {
        fprintf(stderr, "apply: %d %s\n", k, x->err.msg);
        return -1;
    }
    if (sl_rec_emit(x->rec, &x->batch, &x->err) || sl_rec_emit(out, out_b, &x->err)) {
        fprintf(stderr, "emit: %s\n", x->err.msg);
        return -1;
    }
    return 0;
}

static void test_identity_playevent(void)
{
    jfx x;
    sl_rec *out = NULL;
    sl_batch b2;
    sl_playgen g;
    sl_playgen_opts o;
    sl_playgen_event ev;
    sl_buf buf = SL_BUF_INIT;
    if (jfx_open(&x, "play_event.proto", "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_lua_etl *l = open_script(&x, "function transform(r) return r end\n");
    CHECK(l != NULL);
    CHECK_OK(sl_rec_new(&out, &x.plan), NULL);
    CHECK_OK(sl_batch_init(&b2, &x.plan.schema), NULL);
    sl_playgen_opts_default(&o);
    o.count = 500;
    CHECK_OK(sl_playgen_init(&g, &o, &x.err), &x.err);
    int bad = 0;
    while (l && sl_playgen_next(&g, &ev) == SL_OK) {
        buf.len = 0;
        CHECK_OK(sl_playgen_pb(&ev, 0, &buf), NULL);
        sl_rec_begin(x.rec);
        CHECK_OK(sl_pb_parse(x.rec, buf.p, buf.len, &x.err), &x.err);
        if (through(&x, l, out, &b2)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(x.batch.nrows, 500);
    CHECK(batch_eq(&x.batch, &b2));
    sl_buf_free(&buf);
    sl_batch_free(&b2);
    sl_rec_free(out);
    sl_lua_etl_free(l);
    jfx_close(&x);
}

static const char *const t3_rows[] = {
    "{}",
    "{\"fInt32\": -5, \"fInt64\": \"-9223372036854775808\", \"fUint32\": 4294967295, "
    "\"fUint64\": \"18446744073709551615\", \"fSint32\": -2147483648, \"fSint64\": \"-3\", "
    "\"fFixed32\": 7, \"fFixed64\": \"9223372036854775808\", \"fSfixed32\": -1, "
    "\"fSfixed64\": \"9007199254740993\", \"fFloat\": \"NaN\", \"fDouble\": -0.0, \"fBool\": true, "
    "\"fString\": \"h\\u00e9\\u0000llo\", \"fBytes\": \"AP+A\", \"fEnum\": 7, \"oInt32\": 0, "
    "\"oUint64\": \"0\", \"oDouble\": \"-Infinity\", \"oString\": \"\", \"oBytes\": \"\", "
    "\"oEnum\": \"BLUE\", \"oBool\": false, \"cLeaf\": {}, \"farAway\": 3}",
    "{\"cInt\": 0, \"leaf\": {\"name\": \"n\", \"opt\": 5, \"color\": \"GREEN\"}, \"top\": "
    "{\"mid\": {\"leaves\": [{}, {\"v\": 2}], \"leafMap\": {\"a\": {}, \"\": {\"opt\": 1}}}, "
    "\"nums\": [1, 2, 3]}, \"rInt32\": [1, -1], \"rInt64\": [\"-1\"], \"rUint32\": [0, "
    "4294967295], "
    "\"rUint64\": [\"18446744073709551615\", \"1\"], \"rSint32\": [-1], \"rSint64\": [\"5\"], "
    "\"rFixed32\": [1], \"rFixed64\": [\"2\"], \"rSfixed32\": [-2], \"rSfixed64\": [\"-3\"], "
    "\"rFloat\": [1.5, \"NaN\"], \"rDouble\": [\"Infinity\", 0.1], \"rBool\": [true, false], "
    "\"rString\": [\"\", \"x\"], \"rBytes\": [\"AA==\"], \"rEnum\": [\"RED\", 9, \"BLUE\"], "
    "\"rUnpacked\": [4], \"rLeaf\": [{\"opt\": 0}], \"mStrStr\": {\"b\": \"1\", \"a\": \"2\"}, "
    "\"mIntInt\": {\"-5\": \"7\", \"3\": \"1\"}, \"mBoolStr\": {\"true\": \"t\", \"false\": "
    "\"f\"}, "
    "\"mStrEnum\": {\"z\": \"BLUE\", \"y\": 8}, \"mIntLeaf\": {\"9\": {\"name\": \"q\"}, \"1\": "
    "{}}, "
    "\"mUintDouble\": {\"4294967295\": 2.5}, \"mSintBytes\": {\"-1\": \"/w==\"}, "
    "\"mFixedBool\": {\"1\": true, \"0\": false}}",
    "{\"cStr\": \"s\", \"mStrStr\": {}, \"top\": {}}",
    "{\"cEnum\": \"RED\", \"top\": {\"mid\": {\"leaf\": {\"color\": 5}}}}",
};

static const char *const t2_rows[] = {
    "{\"id\": 1, \"reqInner\": {\"id\": 2}}",
    "{\"id\": \"-9\", \"oInt32\": 1, \"oUint64\": \"18446744073709551615\", \"oFloat\": 2.5, "
    "\"oBytes\": \"AQI=\", \"oSize\": \"HUGE\", \"inner\": {\"id\": 3, \"size\": \"SMALL\"}, "
    "\"reqInner\": {\"id\": 4, \"label\": \"L\"}, \"inners\": [{\"id\": 5}], \"grp\": {\"gA\": 1, "
    "\"sub\": [{\"sX\": \"3\"}, {}]}, \"rgrp\": [{\"rgId\": 6}], \"rPlain\": [1], \"rSize\": "
    "[\"LARGE\"], \"rSizePacked\": [\"SMALL\", \"HUGE\"], \"rBool\": [true], \"rString\": [\"a\"], "
    "\"mInner\": {\"k\": {\"id\": 7}}, \"mLevel\": {\"1\": \"HIGH\"}, \"pSize\": \"MEDIUM\"}",
    "{\"id\": 2, \"reqInner\": {\"id\": 0}, \"pInner\": {\"id\": 1}}",
};

static void identity_json(const char *schema, const char *msg, const char *const *rows, size_t n)
{
    jfx x;
    sl_rec *out = NULL;
    sl_batch b2;
    if (jfx_open(&x, schema, msg)) {
        CHECK(0);
        return;
    }
    sl_lua_etl *l = open_script(&x, "function transform(r) return r end\n");
    CHECK(l != NULL);
    CHECK_OK(sl_rec_new(&out, &x.plan), NULL);
    CHECK_OK(sl_batch_init(&b2, &x.plan.schema), NULL);
    for (size_t i = 0; l && i < n; i++) {
        sl_rec_begin(x.rec);
        CHECK_OK(sl_json_parse(x.rec, (const uint8_t *)rows[i], strlen(rows[i]), NULL, &x.err),
                 &x.err);
        CHECK_EQ_INT(through(&x, l, out, &b2), 0);
    }
    if (!strcmp(msg, "t3.AllTypes")) {
        /* duplicate map keys on the wire: m_str_str = 71 {a:1} {b:2} {a:3} */
        static const uint8_t wire[] = {0xBA, 0x04, 6, 0x0A, 1, 'a', 0x12, 1, '1',
                                       0xBA, 0x04, 6, 0x0A, 1, 'b', 0x12, 1, '2',
                                       0xBA, 0x04, 6, 0x0A, 1, 'a', 0x12, 1, '3'};
        sl_rec_begin(x.rec);
        CHECK_OK(sl_pb_parse(x.rec, wire, sizeof wire, &x.err), &x.err);
        CHECK_EQ_INT(through(&x, l, out, &b2), 0);
    }
    CHECK(batch_eq(&x.batch, &b2));
    sl_batch_free(&b2);
    sl_rec_free(out);
    sl_lua_etl_free(l);
    jfx_close(&x);
}

static void test_identity_alltypes(void)
{
    identity_json("alltypes3.proto", "t3.AllTypes", t3_rows, sizeof t3_rows / sizeof *t3_rows);
    identity_json("alltypes2.proto", "t2.AllTypes2", t2_rows, sizeof t2_rows / sizeof *t2_rows);
}

/* Run one JSON record through a script; 1 keep (row in x->row), 0 drop,
 * < 0 error (x->err). */
static int run1(jfx *x, sl_lua_etl *l, const char *json)
{
    sl_rec *out = NULL;
    int k = -100;
    sl_batch_reset(&x->batch);
    sl_rec_begin(x->rec);
    if (sl_json_parse(x->rec, (const uint8_t *)json, strlen(json), NULL, &x->err) ||
        sl_rec_new(&out, &x->plan)) {
        fprintf(stderr, "bad test record %s: %s\n", json, x->err.msg);
        return k;
    }
    k = sl_lua_etl_apply(l, x->rec, out, &x->err);
    if (k == 1 && (sl_rec_emit(out, &x->batch, &x->err) || jfx_row(x))) k = -101;
    sl_rec_free(out);
    return k;
}

static const char *const clean_lua =
    "local names = { TV = 'WEB' }\n"
    "local function trim(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end\n"
    "function transform(r)\n"
    "  if r.play_seconds == 0 then return nil end\n"
    "  r.log_id = trim(r.log_id)\n"
    "  r.platform = names[r.platform] or r.platform\n"
    "  r.client = r.client or {}\n"
    "  r.client.network = r.client.network ~= '' and r.client.network or 'unknown'\n"
    "  r.client.screen_width = (r.client.screen_width or 0) + 1\n"
    "  r.tags[#r.tags + 1] = 'cleaned'\n"
    "  r.ext.seen = tostring(os.time() > 0)\n"
    "  r.mid = r.mid * 2\n"
    "  return r\n"
    "end\n";

static void test_clean(void)
{
    jfx x;
    if (jfx_open(&x, "play_event.proto", "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_lua_etl *l = open_script(&x, clean_lua);
    CHECK(l != NULL);
    if (!l) {
        jfx_close(&x);
        return;
    }
    CHECK_EQ_INT(run1(&x, l, "{\"playSeconds\": 0}"), 0);
    CHECK_EQ_INT(run1(&x, l,
                      "{\"playSeconds\": 5, \"logId\": \"  001000 \\t\", \"platform\": \"TV\", "
                      "\"mid\": \"4611686018427387903\", \"tags\": [\"a\"], \"ext\": {\"k\": "
                      "\"v\"}}"),
                 1);
    if (x.err.msg[0]) fprintf(stderr, "clean: %s\n", x.err.msg);
    CHECK(jfx_has(&x, "\"log_id\":\"001000\""));
    CHECK(jfx_has(&x, "\"platform\":\"WEB\""));
    CHECK(jfx_has(&x, "\"mid\":9223372036854775806"));
    CHECK(jfx_has(&x, "\"network\":\"unknown\""));
    CHECK(jfx_has(&x, "\"screen_width\":1,"));
    CHECK(jfx_has(&x, "\"tags\":[\"a\",\"cleaned\"]"));
    CHECK(jfx_has(&x, "{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"seen\",\"value\":\"true\"}"));
    sl_lua_etl_free(l);
    jfx_close(&x);
}

static void test_values(void)
{
    jfx x;
    if (jfx_open(&x, "alltypes3.proto", "t3.AllTypes")) {
        CHECK(0);
        return;
    }
    sl_lua_etl *l = open_script(
        &x, "function transform(r)\n"
            "  assert(r.f_uint64 == -1 and math.ult(1, r.f_uint64), 'uint64 wraps')\n"
            "  assert(r.f_fixed64 == math.mininteger, 'fixed64 2^63')\n"
            "  assert(r.f_enum == 7 and r.o_enum == 'BLUE' and r.f_string == 'h\\0i')\n"
            "  assert(r.o_int32 == nil and r.leaf == nil and r.f_int32 == 0)\n"
            "  assert(#r.r_int32 == 0 and next(r.m_str_str) == nil and r.c_str == 'q')\n"
            "  r.f_uint64 = 2^63 r.f_float = 1 r.o_int32 = 2.0 r.c_str = nil r.c_int = 4\n"
            "  r.m_int_int = {[5] = 1, [-2] = 3}\n"
            "  r.top = {mid = {leaf_map = {b = {}, a = {opt = 1}}}}\n"
            "  return r\n"
            "end\n");
    CHECK(l != NULL);
    if (!l) {
        jfx_close(&x);
        return;
    }
    CHECK_EQ_INT(run1(&x, l,
                      "{\"fUint64\": \"18446744073709551615\", \"fFixed64\": "
                      "\"9223372036854775808\", \"fEnum\": 7, \"oEnum\": \"BLUE\", "
                      "\"fString\": \"h\\u0000i\", \"cStr\": \"q\"}"),
                 1);
    CHECK(jfx_has(&x, "\"f_uint64\":9223372036854775808"));
    CHECK(jfx_has(&x, "\"f_float\":1"));
    CHECK(jfx_has(&x, "\"o_int32\":2"));
    CHECK(jfx_has(&x, "\"c_int\":4"));
    CHECK(jfx_has(&x, "\"c_str\":null"));
    CHECK(jfx_has(&x, "[{\"key\":-2,\"value\":3},{\"key\":5,\"value\":1}]")); /* new keys sorted */
    CHECK(jfx_has(&x, "\"leaf_map\":[{\"key\":\"a\""));
    sl_lua_etl_free(l);
    jfx_close(&x);
}

/* Each error: apply returns < 0 with the code and a message containing sub;
 * the state then still runs the next record. */
static void err_case(jfx *x, const char *body, const char *json, sl_err_t code, const char *sub)
{
    char text[2048];
    snprintf(text, sizeof text,
             "function transform(r)\n  if r.f_int32 == 42 then return r end\n%s\nend\n", body);
    sl_lua_etl *l = open_script(x, text);
    if (!l) {
        CHECK(0);
        return;
    }
    sl_lua_etl_limits(l, 200000, 4 << 20);
    int k = run1(x, l, json);
    if (k != code || !strstr(x->err.msg, sub)) {
        fprintf(stderr, "script body:\n%s\n=> %d %s (want %d, '%s')\n", body, k, x->err.msg,
                (int)code, sub);
        CHECK(0);
    }
    CHECK_EQ_INT(run1(x, l, "{\"fInt32\": 42}"), 1); /* still usable */
    sl_lua_etl_free(l);
}

static void test_errors(void)
{
    jfx x;
    if (jfx_open(&x, "alltypes3.proto", "t3.AllTypes")) {
        CHECK(0);
        return;
    }
    err_case(&x, "  error('boom')", "{}", SL_ERR_INVALID, ":3: boom | stack traceback:");
    err_case(&x, "  local t = nil; return t.x", "{}", SL_ERR_INVALID, "attempt to index");
    err_case(&x, "  r.f_int32 = 'x' return r", "{}", SL_ERR_INVALID,
             "field 'f_int32': expected a number, got a string value");
    err_case(&x, "  r.f_int32 = 2^31 return r", "{}", SL_ERR_INVALID,
             "field 'f_int32': 2147483648 is out of the int32 range");
    err_case(&x, "  r.f_int32 = 1.5 return r", "{}", SL_ERR_INVALID, "expected an integer");
    err_case(&x, "  r.nope = 1 return r", "{}", SL_ERR_INVALID,
             "message t3.AllTypes has no field 'nope'");
    err_case(&x, "  r.top = {mid = {leaves = {{v = 'x'}}}} return r", "{}", SL_ERR_INVALID,
             "field 'top.mid.leaves[1].v'");
    err_case(&x, "  r.m_str_str = {a = 1} return r", "{}", SL_ERR_INVALID, "m_str_str['a']");
    err_case(&x, "  r.r_int32 = {1, nil, 3} return r", "{}", SL_ERR_INVALID, "must be an array");
    err_case(&x, "  r.f_enum = 'PURPLE' return r", "{}", SL_ERR_INVALID,
             "'PURPLE' is not a value of enum t3.Color");
    err_case(&x, "  r.f_string = '\\255' return r", "{}", SL_ERR_INVALID, "not valid UTF-8");
    err_case(&x, "  r.c_int = 1 r.c_str = 'a' return r", "{}", SL_ERR_INVALID,
             "members of one oneof");
    err_case(&x, "  r.fInt64 = 1 r.f_int64 = 2 return r", "{}", SL_ERR_INVALID, "given twice");
    err_case(&x, "  return 5", "{}", SL_ERR_INVALID, "must return the record (a table) or nil");
    err_case(&x, "  r.leaf = 3 return r", "{}", SL_ERR_INVALID, "expected a table (t3.Leaf)");
    err_case(&x, "  while true do end", "{}", SL_ERR_LIMIT,
             "instruction budget of 200000 exceeded");
    err_case(&x, "  while true do pcall(function() while true do end end) end", "{}", SL_ERR_LIMIT,
             "instruction budget");
    err_case(&x, "  local t = {} for i = 1, 100 do t[i] = string.rep('y', 1 << 20) .. i end", "{}",
             SL_ERR_LIMIT, "memory limit");
    err_case(&x, "  local s = string.rep('x', 1 << 30)", "{}", SL_ERR_LIMIT, "memory limit");
    err_case(&x,
             "  assert(io == nil and load == nil and require == nil and dofile == nil)\n"
             "  assert(os.execute == nil and os.getenv == nil and os.remove == nil)\n"
             "  assert(os.time() > 0 and os.date('!%Y', 0) == '1970')\n"
             "  error('sandbox ok')",
             "{}", SL_ERR_INVALID, "sandbox ok");
    /* open errors */
    sl_lua_etl *l = NULL;
    CHECK(sl_lua_etl_open(&l, script("x = 1\n"), &x.plan, &x.err) == SL_ERR_INVALID && !l);
    CHECK(strstr(x.err.msg, "must define a global function transform(rec)"));
    CHECK(sl_lua_etl_open(&l, script("function transform(r)\n  return r +\nend\n"), &x.plan,
                          &x.err) == SL_ERR_INVALID);
    CHECK(strstr(x.err.msg, ".lua:3:"));
    CHECK(sl_lua_etl_open(&l, "/nonexistent/x.lua", &x.plan, &x.err) == SL_ERR_INVALID);
    CHECK(strstr(x.err.msg, "cannot open /nonexistent/x.lua"));
    CHECK(sl_lua_etl_open(&l, script("while true do end\n"), &x.plan, &x.err) == SL_ERR_LIMIT);
    jfx_close(&x);
}

int main(void)
{
    RUN(test_identity_playevent);
    RUN(test_identity_alltypes);
    RUN(test_clean);
    RUN(test_values);
    RUN(test_errors);
    return TEST_DONE();
}
