/* test_pb_desc.c - descriptor loading (pb_desc.c, pb_load.c) and plan
 * compilation (pb_plan.c): the schema model protoc's descriptor sets give,
 * the Parquet mapping of DESIGN.md, and every error path: malformed sets
 * (every truncation of a real one), editions, unresolved types, recursion,
 * protoc missing or failing.
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "formats/pb/pb_plan.h"
#include "test.h"

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, (needle),    \
                    (hay));                                                                        \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

static char path_buf[1024];
static const char *data_file(const char *name)
{
    const char *src = getenv("SL_SRC");
    snprintf(path_buf, sizeof path_buf, "%s/tests/data/%s", src && *src ? src : ".", name);
    return path_buf;
}

/* Write text to a temp file named name; returns its path (static). */
static const char *write_tmp(const char *name, const char *text)
{
    static char p[1024];
    mkdir(test_tmpdir(), 0755); /* $SL_TMP may not exist yet */
    snprintf(p, sizeof p, "%s/pbdesc-%d", test_tmpdir(), (int)getpid());
    mkdir(p, 0755);
    snprintf(p + strlen(p), sizeof p - strlen(p), "/%s", name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static const sl_pb_field *field(const sl_pb_pool *pool, const char *msg, const char *name)
{
    int32_t m = sl_pb_pool_find_msg(pool, msg);
    if (m < 0) return NULL;
    for (int32_t i = 0; i < pool->msgs[m].n_fields; i++)
        if (!strcmp(pool->msgs[m].fields[i].name, name)) return &pool->msgs[m].fields[i];
    return NULL;
}

static void test_load_proto3(void)
{
    sl_pb_pool pool = {0};
    sl_error err;
    CHECK_OK(sl_pb_pool_load(&pool, data_file("alltypes3.proto"), &err), &err);
    CHECK(sl_pb_pool_find_msg(&pool, "t3.AllTypes") >= 0);
    CHECK(sl_pb_pool_find_msg(&pool, ".t3.AllTypes") >= 0);
    CHECK(sl_pb_pool_find_msg(&pool, "t3.AllTypes.MStrStrEntry") >= 0);
    CHECK(sl_pb_pool_find_msg(&pool, "t3.Nope") == -1);
    const sl_pb_field *f = field(&pool, "t3.AllTypes", "f_int32");
    CHECK(f && !f->has_presence && f->type == SL_PB_INT32 && !strcmp(f->json_name, "fInt32"));
    f = field(&pool, "t3.AllTypes", "o_int32");
    CHECK(f && f->has_presence && f->oneof_index == -1); /* proto3 optional: synthetic oneof */
    f = field(&pool, "t3.AllTypes", "c_str");
    CHECK(f && f->has_presence && f->oneof_index == 0);
    int32_t m = sl_pb_pool_find_msg(&pool, "t3.AllTypes");
    CHECK(m >= 0 && pool.msgs[m].n_oneofs == 1 && !strcmp(pool.msgs[m].oneof_names[0], "choice"));
    CHECK(m >= 0 && pool.msgs[m].proto3);
    f = field(&pool, "t3.AllTypes", "r_int32");
    CHECK(f && f->packed && f->label == SL_PB_REPEATED && !f->has_presence);
    f = field(&pool, "t3.AllTypes", "r_unpacked");
    CHECK(f && !f->packed);
    f = field(&pool, "t3.AllTypes", "r_string");
    CHECK(f && !f->packed);
    f = field(&pool, "t3.AllTypes", "leaf");
    CHECK(f && f->has_presence && f->msg == sl_pb_pool_find_msg(&pool, "t3.Leaf"));
    f = field(&pool, "t3.AllTypes", "f_enum");
    CHECK(f && f->enm >= 0 && !strcmp(pool.enums[f->enm].full_name, "t3.Color") &&
          !pool.enums[f->enm].closed && pool.enums[f->enm].n_values == 4);
    f = field(&pool, "t3.AllTypes", "m_str_str");
    CHECK(f && f->msg >= 0 && pool.msgs[f->msg].map_entry);
    sl_pb_pool_free(&pool);
}

static void test_load_proto2(void)
{
    sl_pb_pool pool = {0};
    sl_error err;
    CHECK_OK(sl_pb_pool_load(&pool, data_file("alltypes2.proto"), &err), &err);
    const sl_pb_field *f = field(&pool, "t2.AllTypes2", "o_int32");
    CHECK(f && f->has_presence && f->default_value && !strcmp(f->default_value, "-7"));
    f = field(&pool, "t2.AllTypes2", "id");
    CHECK(f && f->label == SL_PB_REQUIRED && f->has_presence);
    f = field(&pool, "t2.AllTypes2", "r_plain");
    CHECK(f && !f->packed);
    f = field(&pool, "t2.AllTypes2", "r_packed");
    CHECK(f && f->packed);
    f = field(&pool, "t2.AllTypes2", "grp");
    CHECK(f && f->type == SL_PB_GROUP && f->msg == sl_pb_pool_find_msg(&pool, "t2.AllTypes2.Grp"));
    f = field(&pool, "t2.AllTypes2", "o_size");
    CHECK(f && pool.enums[f->enm].closed);
    sl_pb_pool_free(&pool);
}

static int32_t find(const sl_schema *s, const char *path)
{
    return sl_schema_find(s, path);
}

/* The mapping of DESIGN.md / the H3 brief, node by node. */
static void test_plan_mapping(void)
{
    sl_pb_pool pool = {0};
    sl_plan p;
    sl_error err;
    CHECK_OK(sl_pb_pool_load(&pool, data_file("alltypes3.proto"), &err), &err);
    CHECK_OK(sl_plan_compile(&p, &pool, "t3.AllTypes", &err), &err);
    const sl_schema *s = &p.schema;
    CHECK(s->message_name && !strcmp(s->message_name, "t3.AllTypes"));
    CHECK(!strcmp(s->nodes[0].name, "schema"));
    struct {
        const char *path;
        int rep, group, ptype, lkind, width, is_signed, fid;
    } want[] = {
        {"f_int32", SL_REQUIRED, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 1},
        {"f_int64", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 2},
        {"f_uint32", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 3},
        {"f_uint64", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_INT, 64, 0, 4},
        {"f_sint32", SL_REQUIRED, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 5},
        {"f_fixed32", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 7},
        {"f_fixed64", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_INT, 64, 0, 8},
        {"f_sfixed64", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 10},
        {"f_float", SL_REQUIRED, 0, SL_PT_FLOAT, SL_LT_NONE, 0, 0, 11},
        {"f_double", SL_REQUIRED, 0, SL_PT_DOUBLE, SL_LT_NONE, 0, 0, 12},
        {"f_bool", SL_REQUIRED, 0, SL_PT_BOOLEAN, SL_LT_NONE, 0, 0, 13},
        {"f_string", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 14},
        {"f_bytes", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_NONE, 0, 0, 15},
        {"f_enum", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 16},
        {"o_int32", SL_OPTIONAL, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 21},
        {"c_int", SL_OPTIONAL, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 31},
        {"c_leaf", SL_OPTIONAL, 1, 0, SL_LT_NONE, 0, 0, 33},
        {"c_leaf.opt", SL_OPTIONAL, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 3},
        {"leaf.name", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 1},
        {"top.mid.leaf.v", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 2},
        {"r_int32", SL_REQUIRED, 1, 0, SL_LT_LIST, 0, 0, 51},
        {"r_int32.list", SL_REPEATED, 1, 0, SL_LT_NONE, 0, 0, -1},
        {"r_int32.list.element", SL_REQUIRED, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, -1},
        {"r_leaf.list.element", SL_REQUIRED, 1, 0, SL_LT_NONE, 0, 0, -1},
        {"r_leaf.list.element.name", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 1},
        {"m_str_str", SL_REQUIRED, 1, 0, SL_LT_MAP, 0, 0, 71},
        {"m_str_str.key_value", SL_REPEATED, 1, 0, SL_LT_NONE, 0, 0, -1},
        {"m_str_str.key_value.key", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 1},
        {"m_str_str.key_value.value", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 2},
        {"m_str_enum.key_value.value", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, SL_LT_STRING, 0, 0, 2},
        {"m_int_leaf.key_value.value", SL_OPTIONAL, 1, 0, SL_LT_NONE, 0, 0, 2},
        {"m_int_leaf.key_value.key", SL_REQUIRED, 0, SL_PT_INT64, SL_LT_NONE, 0, 0, 1},
        {"far_away", SL_REQUIRED, 0, SL_PT_INT32, SL_LT_NONE, 0, 0, 100000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int32_t n = find(s, want[i].path);
        if (n < 0) {
            fprintf(stderr, "missing node %s\n", want[i].path);
            CHECK(0);
            continue;
        }
        const sl_node *nd = &s->nodes[n];
        int ok = nd->rep == want[i].rep && nd->is_group == want[i].group &&
                 nd->logical.kind == want[i].lkind && nd->field_id == want[i].fid &&
                 (want[i].group ||
                  (nd->ptype == want[i].ptype && nd->logical.bit_width == want[i].width &&
                   nd->logical.is_signed == want[i].is_signed));
        if (!ok) fprintf(stderr, "node %s does not match the mapping\n", want[i].path);
        CHECK(ok);
    }
    /* plan members: levels, defaults, lookups */
    int32_t fi = sl_plan_field_by_name(&p, 0, "o_int32", 7);
    CHECK(fi >= 0 && p.msgs[0].fields[fi].presence && p.msgs[0].fields[fi].def == 1);
    fi = sl_plan_field_by_name(&p, 0, "r_int32", 7);
    CHECK(fi >= 0 && p.msgs[0].fields[fi].repeated && p.msgs[0].fields[fi].rep == 1 &&
          p.msgs[0].fields[fi].def == 0 && p.msgs[0].fields[fi].leaf >= 0);
    fi = sl_plan_field_by_name(&p, 0, "f_enum", 6);
    CHECK(fi >= 0 && p.msgs[0].fields[fi].dflt.i == 0);
    fi = sl_plan_field_by_name(&p, 0, "m_int_leaf", 10);
    CHECK(fi >= 0 && p.msgs[0].fields[fi].is_map && p.msgs[0].fields[fi].child > 0);
    /* names from input may hold NUL bytes: no match, and no read past the
     * stored name (ASan catches that) */
    CHECK_EQ_INT(sl_plan_field_by_name(&p, 0, "o_int32\0xyz", 11), -1);
    CHECK_EQ_INT(sl_plan_field_by_name(&p, 0, "o\0", 2), -1);
    CHECK(sl_plan_field_by_number(&p, 0, 100000) >= 0);
    CHECK(sl_plan_field_by_number(&p, 0, 0) == -1 && sl_plan_field_by_number(&p, 0, 20) == -1);
    CHECK_EQ_INT(p.max_depth, 100);
    sl_plan_free(&p);
    /* proto2 defaults are parsed (the emit path of REQUIRED columns) */
    sl_pb_pool_free(&pool);
    memset(&pool, 0, sizeof pool);
    CHECK_OK(sl_pb_pool_load(&pool, data_file("alltypes2.proto"), &err), &err);
    CHECK_OK(sl_plan_compile(&p, &pool, "t2.AllTypes2", &err), &err);
    const sl_plan_msg *m = &p.msgs[0];
    CHECK(m->fields[sl_plan_field_by_name(&p, 0, "o_int32", 7)].dflt.i == -7);
    CHECK(m->fields[sl_plan_field_by_name(&p, 0, "o_uint64", 8)].dflt.u == UINT64_MAX);
    CHECK(m->fields[sl_plan_field_by_name(&p, 0, "o_float", 7)].dflt.f == 1.5f);
    CHECK(m->fields[sl_plan_field_by_name(&p, 0, "o_size", 6)].dflt.i == 3);
    const sl_val bv = m->fields[sl_plan_field_by_name(&p, 0, "o_bytes", 7)].dflt;
    CHECK(bv.s.len == 3 && !memcmp(bv.s.p, "\001\002\377", 3));
    const sl_val sv = m->fields[sl_plan_field_by_name(&p, 0, "o_string", 8)].dflt;
    CHECK(sv.s.len == 4 && !memcmp(sv.s.p, "h\"i\n", 4));
    CHECK(find(&p.schema, "id") >= 0 && p.schema.nodes[find(&p.schema, "id")].rep == SL_REQUIRED);
    CHECK(p.schema.nodes[find(&p.schema, "req_inner")].rep == SL_REQUIRED);
    CHECK(p.schema.nodes[find(&p.schema, "inner")].rep == SL_OPTIONAL);
    CHECK(p.schema.nodes[find(&p.schema, "o_int32")].rep == SL_OPTIONAL);
    CHECK(find(&p.schema, "grp.sub.list.element.s_x") >= 0);
    sl_plan_free(&p);
    sl_pb_pool_free(&pool);
}

static void test_plan_errors(void)
{
    sl_pb_pool pool = {0};
    sl_plan p;
    sl_error err;
    const char *rec =
        write_tmp("rec.proto", "syntax = \"proto3\";\npackage bench;\n"
                               "message Node { int32 v = 1; repeated Node children = 2; }\n"
                               "message A { B b = 1; }\nmessage B { int32 x = 1; A a = 2; }\n"
                               "message Empty {}\nmessage HasEmpty { Empty e = 1; }\n");
    CHECK_OK(sl_pb_pool_load(&pool, rec, &err), &err);
    CHECK(sl_plan_compile(&p, &pool, "bench.Node", &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "bench.Node.children -> bench.Node");
    CHECK(p.msgs == NULL && p.schema.nodes == NULL); /* zeroed */
    CHECK(sl_plan_compile(&p, &pool, "bench.A", &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "bench.A.b -> bench.B.a -> bench.A");
    CHECK(sl_plan_compile(&p, &pool, "bench.Missing", &err) == SL_ERR_NOTFOUND);
    CHECK(sl_plan_compile(&p, &pool, "bench.HasEmpty", &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "no fields");
    sl_pb_pool_free(&pool);
}

/* ---- hand-built descriptor sets ---- */

static void put_ld(sl_buf *b, uint32_t num, const void *p, size_t n)
{
    CHECK(sl_buf_put_varint(b, (uint64_t)num << 3 | 2) == SL_OK);
    CHECK(sl_buf_put_varint(b, n) == SL_OK);
    CHECK(sl_buf_append(b, p, n) == SL_OK);
}
static void put_s(sl_buf *b, uint32_t num, const char *s)
{
    put_ld(b, num, s, strlen(s));
}
static void put_v(sl_buf *b, uint32_t num, uint64_t v)
{
    CHECK(sl_buf_put_varint(b, (uint64_t)num << 3) == SL_OK);
    CHECK(sl_buf_put_varint(b, v) == SL_OK);
}

/* FileDescriptorSet { file { name, package "p", syntax, message_type { name "M",
 * field { name fname, number 1, label 1, type, type_name } } } } */
static void make_set(sl_buf *out, const char *syntax, const char *fname, int type,
                     const char *type_name)
{
    sl_buf fld = SL_BUF_INIT, msg = SL_BUF_INIT, file = SL_BUF_INIT;
    put_s(&fld, 1, fname);
    put_v(&fld, 3, 1);
    put_v(&fld, 4, 1);
    if (type) put_v(&fld, 5, (uint64_t)type);
    if (type_name) put_s(&fld, 6, type_name);
    put_s(&msg, 1, "M");
    put_ld(&msg, 2, fld.p, fld.len);
    put_s(&file, 1, "hand.proto");
    put_ld(&file, 4, msg.p, msg.len); /* message before package and syntax */
    put_s(&file, 2, "p");
    if (syntax) put_s(&file, 12, syntax);
    out->len = 0;
    put_ld(out, 1, file.p, file.len);
    sl_buf_free(&fld);
    sl_buf_free(&msg);
    sl_buf_free(&file);
}

static void test_hand_sets(void)
{
    sl_pb_pool pool = {0};
    sl_buf b = SL_BUF_INIT;
    sl_error err;
    make_set(&b, "proto3", "foo_bar_baz9x", SL_PB_INT32, NULL);
    CHECK_OK(sl_pb_pool_add_set(&pool, b.p, b.len, &err), &err);
    const sl_pb_field *f = field(&pool, "p.M", "foo_bar_baz9x");
    CHECK(f && !strcmp(f->json_name, "fooBarBaz9x") && !f->has_presence);
    /* the same set again: types defined twice, pool unchanged */
    CHECK(sl_pb_pool_add_set(&pool, b.p, b.len, &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "defined twice");
    CHECK_EQ_INT(pool.n_msgs, 1);
    sl_pb_pool_free(&pool);
    memset(&pool, 0, sizeof pool);
    make_set(&b, "editions", "x", SL_PB_INT32, NULL);
    CHECK(sl_pb_pool_add_set(&pool, b.p, b.len, &err) == SL_ERR_UNSUPPORTED);
    CHECK_CONTAINS(err.msg, "editions");
    make_set(&b, "proto3", "x", SL_PB_MESSAGE, ".p.Nope");
    CHECK(sl_pb_pool_add_set(&pool, b.p, b.len, &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "p.M.x: type .p.Nope not found");
    CHECK_EQ_INT(pool.n_msgs, 0);
    make_set(&b, "proto3", "x", 0, "M"); /* relative name, type left to resolution */
    CHECK_OK(sl_pb_pool_add_set(&pool, b.p, b.len, &err), &err);
    f = field(&pool, "p.M", "x");
    CHECK(f && f->type == SL_PB_MESSAGE && f->msg == 0);
    sl_pb_pool_free(&pool);
    memset(&pool, 0, sizeof pool);
    make_set(&b, NULL, "x", SL_PB_ENUM, ".p.M"); /* message where an enum is expected */
    CHECK(sl_pb_pool_add_set(&pool, b.p, b.len, &err) == SL_ERR_SCHEMA);
    sl_buf_free(&b);
}

/* Every prefix and every single-byte corruption of a real set: an error or
 * success, never a crash (ASan), and the pool unchanged on error. */
static void test_malformed(void)
{
    sl_pb_pool good = {0};
    sl_error err;
    char cmd[2048], out[1024];
    mkdir(test_tmpdir(), 0755);
    snprintf(out, sizeof out, "%s/pbdesc-%d.desc", test_tmpdir(), (int)getpid());
    const char *src = getenv("SL_SRC");
    snprintf(cmd, sizeof cmd,
             "protoc --include_imports --descriptor_set_out=%s -I%s/tests/data alltypes2.proto",
             out, src && *src ? src : ".");
    CHECK(system(cmd) == 0);
    FILE *fp = fopen(out, "rb");
    if (!fp) {
        CHECK(0);
        return;
    }
    static uint8_t data[1 << 16];
    size_t n = fread(data, 1, sizeof data, fp);
    fclose(fp);
    CHECK_OK(sl_pb_pool_load(&good, out, &err), &err); /* binary set sniffed as such */
    CHECK(sl_pb_pool_find_msg(&good, "t2.AllTypes2") >= 0);
    sl_pb_pool_free(&good);
    int ok = 0, bad = 0;
    for (size_t k = 0; k < n; k++) {
        sl_pb_pool pool = {0};
        sl_err_t rc = sl_pb_pool_add_set(&pool, data, k, &err);
        if (rc) {
            bad++;
            CHECK(pool.n_msgs == 0 && pool.n_enums == 0);
        } else {
            ok++;
        }
        sl_pb_pool_free(&pool);
    }
    for (size_t k = 0; k < n; k += 3) {
        uint8_t save = data[k];
        data[k] ^= (uint8_t)(0x5a + k);
        sl_pb_pool pool = {0};
        sl_plan p;
        if (sl_pb_pool_add_set(&pool, data, n, &err) == SL_OK &&
            sl_plan_compile(&p, &pool, "t2.AllTypes2", &err) == SL_OK)
            sl_plan_free(&p);
        sl_pb_pool_free(&pool);
        data[k] = save;
    }
    CHECK(bad > 0 && ok > 0);
    unlink(out);
}

static void test_protoc(void)
{
    sl_pb_pool pool = {0};
    sl_error err;
    const char *bad = write_tmp("bad.proto", "syntax = \"proto3\";\nmessage X { int32 a = 1 }\n");
    CHECK(sl_pb_pool_load(&pool, bad, &err) == SL_ERR_SCHEMA);
    CHECK_CONTAINS(err.msg, "protoc failed");
    CHECK_CONTAINS(err.msg, "bad.proto:2");
    /* a .proto without the suffix is sniffed as text */
    const char *txt =
        write_tmp("schema.txt", "syntax = \"proto3\";\npackage q;\nmessage Y { int32 a = 1; }\n");
    CHECK_OK(sl_pb_pool_load(&pool, txt, &err), &err);
    CHECK(sl_pb_pool_find_msg(&pool, "q.Y") >= 0);
    sl_pb_pool_free(&pool);
    memset(&pool, 0, sizeof pool);
    CHECK(sl_pb_pool_load(&pool, "/nonexistent/x.desc", &err) == SL_ERR_IO);
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-dir", 1);
    CHECK(sl_pb_pool_load(&pool, data_file("play_event.proto"), &err) == SL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg,
                   "protoc not found on PATH: install protobuf-compiler, or pass a "
                   "descriptor set made with protoc --include_imports --descriptor_set_out");
    if (old) setenv("PATH", old, 1);
    free(old);
    sl_pb_pool_free(&pool);
}

int main(void)
{
    RUN(test_load_proto3);
    RUN(test_load_proto2);
    RUN(test_plan_mapping);
    RUN(test_plan_errors);
    RUN(test_hand_sets);
    RUN(test_malformed);
    RUN(test_protoc);
    return TEST_DONE();
}
