/* test_pb_wire.c - unit tests of the protobuf wire decoder, the record
 * scratch (sl_rec_* as the JSON/text decoders use it), the shredder and the
 * pb-delimited framing; and, with arguments, the e2e driver:
 *
 *   test_pb_wire dump SCHEMA MESSAGE INPUT.pb > rows.jsonl 2> errors.txt
 *       decode every pb-delimited record through the plan into batches,
 *       sl_batch_validate each batch, print canonical rows (sl_rows_json);
 *       a bad record prints "record N at byte OFF: message" on stderr and
 *       is skipped (exit 0 unless the framing or schema fails). Every
 *       record is decoded twice, by sl_pb_decode (the direct shredder when
 *       it can) and by parse + emit (the two-step path): both must succeed
 *       or fail alike and fill identical batches (else exit 1).
 *   test_pb_wire bench SCHEMA MESSAGE INPUT.pb [ROUNDS [parse]]
 *       decode + shred (or only parse) all records ROUNDS times; prints
 *       the best ns/record.
 *
 * Unit cases build their input with a tiny encoder here and compare the
 * columns with values written in the test (the wire format is the spec);
 * the e2e script compares against python-protobuf on many more inputs.
 */
#include <math.h>
#include <time.h>

#include "core/rows_json.h"
#include "core/framer.h"
#include "formats/pb/pb_plan.h"
#include "plan_fx.h"
#include "test.h"

/* ---- shared helpers ---- */

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

static int cmd_dump(int argc, char **argv)
{
    jfx x;
    size_t len = 0;
    if (argc < 5) return 2;
    if (jfx_open(&x, argv[2], argv[3])) return 1;
    uint8_t *data = slurp(argv[4], &len);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", argv[4]);
        return 1;
    }
    sl_framer fr;
    sl_framer_open_mem(&fr, data, len, SL_FRAME_VARINT, 0, argv[4]);
    sl_frame frame;
    const uint8_t *rec;
    sl_batch two; /* the same records through parse + emit */
    sl_error terr;
    if (sl_batch_init(&two, &x.plan.schema)) return 1;
    size_t rlen;
    int status = 0;
    sl_err_t rc;
    for (;;) {
        rc = sl_framer_next(&fr, &frame, &x.err);
        if (rc == SL_ERR_EOF) break;
        if (rc) {
            fprintf(stderr, "framing: %s\n", x.err.msg);
            status = 1;
            break;
        }
        uint64_t idx = frame.index;
        size_t at = (size_t)frame.offset;
        rec = frame.p;
        rlen = frame.len;
        sl_err_t drc = sl_pb_decode(x.rec, &x.batch, rec, rlen, &x.err);
        if (drc)
            fprintf(stderr, "record %llu at byte %zu: %s\n", (unsigned long long)idx, at,
                    x.err.msg);
        sl_rec_begin(x.rec);
        sl_err_t trc = sl_pb_parse(x.rec, rec, rlen, &terr);
        if (!trc) trc = sl_rec_emit(x.rec, &two, &terr);
        if ((drc != SL_OK) != (trc != SL_OK) || (drc && strcmp(x.err.msg, terr.msg))) {
            fprintf(stderr, "record %llu: sl_pb_decode and parse + emit disagree: '%s' / '%s'\n",
                    (unsigned long long)idx, drc ? x.err.msg : "ok", trc ? terr.msg : "ok");
            status = 1;
        }
        if (x.batch.nrows == 1000) {
            if (sl_batch_same(&x.batch, &two, &terr)) {
                fprintf(stderr, "direct and two-step decoders: %s\n", terr.msg);
                status = 1;
            }
            if (jfx_dump_batch(&x.batch, stdout)) status = 1;
            sl_batch_reset(&x.batch);
            sl_batch_reset(&two);
        }
    }
    if (sl_batch_same(&x.batch, &two, &terr)) {
        fprintf(stderr, "direct and two-step decoders: %s\n", terr.msg);
        status = 1;
    }
    if (jfx_dump_batch(&x.batch, stdout)) status = 1;
    sl_batch_free(&two);
    sl_framer_close(&fr);
    free(data);
    jfx_close(&x);
    return status;
}

static int cmd_bench(int argc, char **argv)
{
    jfx x;
    size_t len = 0, n = 0;
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    int parse_only = argc > 6 && !strcmp(argv[6], "parse");
    int bench_batch = getenv("BENCH_BATCH") ? atoi(getenv("BENCH_BATCH")) : 4096;
    if (argc < 5 || jfx_open(&x, argv[2], argv[3])) return 1;
    uint8_t *data = slurp(argv[4], &len);
    if (!data) return 1;
    double best = 1e30;
    for (int round = 0; round < rounds; round++) {
        sl_framer fr;
        sl_frame frame;
        struct timespec t0, t1;
        sl_framer_open_mem(&fr, data, len, SL_FRAME_VARINT, 0, argv[4]);
        n = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (sl_framer_next(&fr, &frame, &x.err) == SL_OK) {
            const uint8_t *rec = frame.p;
            size_t rlen = frame.len;
            sl_rec_begin(x.rec);
            if (parse_only ? sl_pb_parse(x.rec, rec, rlen, &x.err)
                           : sl_pb_decode(x.rec, &x.batch, rec, rlen, &x.err)) {
                fprintf(stderr, "%s\n", x.err.msg);
                return 1;
            }
            if (x.batch.nrows == (size_t)bench_batch) sl_batch_reset(&x.batch);
            n++;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
        if (ns < best) best = ns;
        sl_batch_reset(&x.batch);
    }
    printf("%zu records, %zu bytes: best %.1f ns/record, %.2f M records/s, %.0f MB/s\n", n, len,
           best / (double)n, (double)n / best * 1e3, (double)len / best * 1e3);
    free(data);
    jfx_close(&x);
    return 0;
}

/* ---- a tiny encoder for the unit cases ---- */

static void put_tag(sl_buf *b, uint32_t num, int wt)
{
    CHECK(sl_buf_put_varint(b, ((uint64_t)num << 3) | (uint64_t)wt) == SL_OK);
}
static void put_v(sl_buf *b, uint32_t num, uint64_t v)
{
    put_tag(b, num, 0);
    CHECK(sl_buf_put_varint(b, v) == SL_OK);
}
static void put_s(sl_buf *b, uint32_t num, const void *s, size_t n)
{
    put_tag(b, num, 2);
    CHECK(sl_buf_put_varint(b, n) == SL_OK);
    CHECK(sl_buf_append(b, s, n) == SL_OK);
}
static void put_str(sl_buf *b, uint32_t num, const char *s)
{
    put_s(b, num, s, strlen(s));
}

static char schema_path[1024];
static const char *data_file(const char *name)
{
    const char *src = getenv("SL_SRC");
    snprintf(schema_path, sizeof schema_path, "%s/tests/data/%s", src && *src ? src : ".", name);
    return schema_path;
}

/* The row as canonical JSON (for compact assertions). */
static char *row_json(const sl_batch *b, size_t row)
{
    static char out[8192];
    sl_rows_json *rj = NULL;
    sl_buf line = SL_BUF_INIT;
    out[0] = '\0';
    if (sl_rows_json_new(&rj, b) == SL_OK && sl_rows_json_row(rj, row, &line) == SL_OK) {
        size_t n = line.len < sizeof out - 1 ? line.len : sizeof out - 1;
        memcpy(out, line.p, n);
        out[n] = '\0';
    }
    sl_rows_json_free(rj);
    sl_buf_free(&line);
    return out;
}

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, (needle),    \
                    (hay));                                                                        \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

/* ---- cases ---- */

static void test_play_event(void)
{
    jfx x;
    if (jfx_open(&x, data_file("play_event.proto"), "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_buf m = SL_BUF_INIT, c = SL_BUF_INIT, e = SL_BUF_INIT;
    put_str(&m, 1, "001000");
    put_v(&m, 2, 1764547200123ULL);
    put_v(&m, 7, (uint64_t)(int64_t)-5); /* int32 as a 10-byte varint */
    put_tag(&m, 8, 1);
    double prog = 0.25;
    uint64_t prog_bits;
    memcpy(&prog_bits, &prog, 8);
    CHECK(sl_buf_put_le64(&m, prog_bits) == SL_OK);
    put_v(&m, 9, 2);
    put_str(&c, 1, "8.1.0");
    put_v(&c, 4, 1080);
    put_s(&m, 13, c.p, c.len);
    put_str(&m, 14, "a");
    put_str(&m, 14, "b");
    put_str(&e, 1, "k");
    put_str(&e, 2, "v1");
    put_s(&m, 15, e.p, e.len);
    e.len = 0;
    put_str(&e, 1, "k");
    put_str(&e, 2, "v2");
    put_s(&m, 15, e.p, e.len);
    put_v(&m, 17, 4294967295ULL);
    put_v(&m, 18, 7); /* unpacked element of a packed field */
    {
        sl_buf pk = SL_BUF_INIT;
        CHECK(sl_buf_put_varint(&pk, 8) == SL_OK);
        CHECK(sl_buf_put_varint(&pk, 9) == SL_OK);
        put_s(&m, 18, pk.p, pk.len);
        sl_buf_free(&pk);
    }
    put_v(&m, 9, 99); /* last wins, unknown number of an open enum */
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, NULL, 0, &x.err), &x.err); /* all defaults */
    CHECK_OK(sl_batch_validate(&x.batch, &x.err), &x.err);
    CHECK_EQ_INT(x.batch.nrows, 2);
    const char *r0 = row_json(&x.batch, 0);
    CHECK_CONTAINS(r0, "\"log_id\":\"001000\"");
    CHECK_CONTAINS(r0, "\"event_time_ms\":1764547200123");
    CHECK_CONTAINS(r0, "\"play_seconds\":-5");
    CHECK_CONTAINS(r0, "\"progress\":0.25");
    CHECK_CONTAINS(r0, "\"platform\":\"99\"");
    CHECK_CONTAINS(r0, "\"client\":{\"app_version\":\"8.1.0\",\"os\":\"\",\"network\":\"\","
                       "\"screen_width\":1080,\"screen_height\":0}");
    CHECK_CONTAINS(r0, "\"tags\":[\"a\",\"b\"]");
    CHECK_CONTAINS(r0, "\"ext\":[{\"key\":\"k\",\"value\":\"v2\"}]");
    CHECK_CONTAINS(r0, "\"quality\":4294967295");
    CHECK_CONTAINS(r0, "\"recent_avids\":[7,8,9]");
    const char *r1 = row_json(&x.batch, 1);
    CHECK_CONTAINS(r1, "\"log_id\":\"\"");
    CHECK_CONTAINS(r1, "\"platform\":\"PLATFORM_UNKNOWN\"");
    CHECK_CONTAINS(r1, "\"client\":null");
    CHECK_CONTAINS(r1, "\"tags\":[]");
    CHECK_CONTAINS(r1, "\"ext\":[]");
    sl_buf_free(&m);
    sl_buf_free(&c);
    sl_buf_free(&e);
    jfx_close(&x);
}

static void test_errors(void)
{
    jfx x;
    if (jfx_open(&x, data_file("play_event.proto"), "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_buf m = SL_BUF_INIT, c = SL_BUF_INIT;
    /* wrong wire type inside a sub-message names the path with numbers */
    put_str(&m, 1, "x");
    put_str(&c, 4, "wide");
    put_s(&m, 13, c.p, c.len);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "client.screen_width (13.4)");
    CHECK_CONTAINS(x.err.msg, "byte 5");
    CHECK_EQ_INT(x.batch.nrows, 0);
    /* truncated at every length: error or success, never a crash */
    for (size_t k = 0; k < m.len; k++) {
        sl_err_t rc = sl_pb_decode(x.rec, &x.batch, m.p, k, &x.err);
        CHECK(rc == SL_OK || rc == SL_ERR_CORRUPT);
    }
    sl_batch_reset(&x.batch);
    /* invalid UTF-8 */
    m.len = 0;
    put_str(&m, 10, "ok\xc3\x28");
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "UTF-8");
    CHECK_CONTAINS(x.err.msg, "buvid (10)");
    /* overlong UTF-8 and surrogates */
    m.len = 0;
    put_str(&m, 10, "\xc0\xaf");
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    m.len = 0;
    put_str(&m, 10, "\xed\xa0\x80");
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    m.len = 0;
    put_str(&m, 10, "\xf0\x9f\x98\x80 \xe2\x82\xac");
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    /* length past the end, field number 0, wire type 7, stray end-group */
    const uint8_t past[] = {0x0a, 0x05, 'a'};
    CHECK(sl_pb_decode(x.rec, &x.batch, past, sizeof past, &x.err) == SL_ERR_CORRUPT);
    const uint8_t zero[] = {0x00, 0x01};
    CHECK(sl_pb_decode(x.rec, &x.batch, zero, sizeof zero, &x.err) == SL_ERR_CORRUPT);
    const uint8_t trunc_tag[] = {0xff};
    CHECK(sl_pb_decode(x.rec, &x.batch, trunc_tag, 1, &x.err) == SL_ERR_CORRUPT);
    const uint8_t wt7[] = {0x9f, 0x06, 0x00}; /* unknown field 99, wire type 7 */
    CHECK(sl_pb_decode(x.rec, &x.batch, wt7, sizeof wt7, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "wire type");
    const uint8_t eg[] = {0x9c, 0x06}; /* end-group of field 99 */
    CHECK(sl_pb_decode(x.rec, &x.batch, eg, sizeof eg, &x.err) == SL_ERR_CORRUPT);
    /* unknown nested group, then matching end: skipped */
    const uint8_t grp[] = {0x9b, 0x06, 0xa3, 0x06, 0x08, 0x01, 0xa4,
                           0x06, 0x9c, 0x06, 0x0a, 0x01, 'z'};
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, grp, sizeof grp, &x.err), &x.err);
    const uint8_t badgrp[] = {0x9b, 0x06, 0xa4, 0x06};
    CHECK(sl_pb_decode(x.rec, &x.batch, badgrp, sizeof badgrp, &x.err) == SL_ERR_CORRUPT);
    CHECK_OK(sl_batch_validate(&x.batch, &x.err), &x.err);
    sl_buf_free(&m);
    sl_buf_free(&c);
    jfx_close(&x);
}

/* The direct path (sl_pb_shred) against parse + emit on one record:
 * whether it takes the record (want_direct), and that sl_pb_decode then
 * fills exactly what the two-step path fills, or fails alike. */
static void direct_vs_two_step(jfx *x, const sl_buf *m, int want_direct, int line)
{
    sl_batch d, t;
    sl_error e1, e2;
    CHECK(sl_batch_init(&d, &x->plan.schema) == SL_OK);
    CHECK(sl_batch_init(&t, &x->plan.schema) == SL_OK);
    sl_err_t rs = sl_pb_shred(x->rec, &d, m->p, m->len);
    if ((rs == SL_OK) != want_direct) {
        fprintf(stderr, "line %d: sl_pb_shred %s the record\n", line,
                rs == SL_OK ? "took" : "did not take");
        t_cur_failed = 1;
    }
    if (rs != SL_OK) CHECK_EQ_INT(d.nrows, 0);
    sl_batch_reset(&d);
    sl_err_t r1 = sl_pb_decode(x->rec, &d, m->p, m->len, &e1);
    sl_rec_begin(x->rec);
    sl_err_t r2 = sl_pb_parse(x->rec, m->p, m->len, &e2);
    if (!r2) r2 = sl_rec_emit(x->rec, &t, &e2);
    CHECK_EQ_INT(r1, r2);
    if (!r1 && !r2 && sl_batch_same(&d, &t, &e1)) {
        fprintf(stderr, "line %d: %s\n", line, e1.msg);
        t_cur_failed = 1;
    }
    sl_batch_free(&d);
    sl_batch_free(&t);
}

static void test_direct(void)
{
    jfx x;
    if (jfx_open(&x, data_file("play_event.proto"), "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_buf m = SL_BUF_INIT, c = SL_BUF_INIT, e = SL_BUF_INIT, pk = SL_BUF_INIT;
#define BASE()                                                                                     \
    do {                                                                                           \
        m.len = 0;                                                                                 \
        put_str(&m, 1, "001000");                                                                  \
        put_v(&m, 3, 123456);                                                                      \
        put_v(&m, 9, 1);                                                                           \
    } while (0)
    /* in number order, absent fields, unknown fields, unpacked then packed
     * elements of one field, a map: direct */
    BASE();
    put_str(&c, 1, "8.1.0");
    put_v(&c, 4, 1080);
    put_s(&m, 13, c.p, c.len);
    put_str(&m, 14, "a");
    put_str(&m, 14, "b");
    put_v(&m, 99, 5); /* unknown */
    put_str(&e, 1, "k1");
    put_str(&e, 2, "v1");
    put_s(&m, 15, e.p, e.len);
    e.len = 0;
    put_str(&e, 2, "v2"); /* value before key, key absent: "" */
    put_s(&m, 15, e.p, e.len);
    put_v(&m, 17, 4294967295ULL);
    put_v(&m, 18, 7);
    CHECK(sl_buf_put_varint(&pk, 8) == SL_OK);
    CHECK(sl_buf_put_varint(&pk, 9) == SL_OK);
    put_s(&m, 18, pk.p, pk.len);
    direct_vs_two_step(&x, &m, 1, __LINE__);
    m.len = 0;
    direct_vs_two_step(&x, &m, 1, __LINE__); /* empty record: all defaults */
    /* each rule the direct path leaves to the two-step path */
    BASE();
    put_str(&m, 1, "again"); /* a scalar twice: last wins */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    BASE();
    put_s(&m, 13, c.p, c.len);
    c.len = 0;
    put_v(&c, 5, 720);
    put_s(&m, 13, c.p, c.len); /* a message twice: merged */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    m.len = 0;
    put_v(&m, 3, 5);
    put_str(&m, 1, "001000"); /* out of number order */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    BASE();
    put_str(&m, 14, "a");
    put_str(&m, 16, "x"); /* wrong wire type for a bool: an error */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    BASE();
    put_str(&m, 14, "a");
    put_v(&m, 16, 1);
    put_str(&m, 14, "b"); /* a repeated field interrupted */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    BASE();
    e.len = 0;
    put_str(&e, 1, "k");
    put_str(&e, 2, "v1");
    put_s(&m, 15, e.p, e.len);
    e.len = 0;
    put_str(&e, 1, "k");
    put_str(&e, 2, "v2"); /* a map key twice: last value wins */
    put_s(&m, 15, e.p, e.len);
    direct_vs_two_step(&x, &m, 0, __LINE__);
    for (int n = 16; n <= 17; n++) { /* 16 distinct keys direct, 17 not */
        BASE();
        for (int i = 0; i < n; i++) {
            char k[8];
            snprintf(k, sizeof k, "k%d", i);
            e.len = 0;
            put_str(&e, 1, k);
            put_s(&m, 15, e.p, e.len);
        }
        direct_vs_two_step(&x, &m, n == 16, __LINE__);
    }
    /* packed int64 runs (written in bulk): varints of 1 to 10 bytes (the
     * 10th byte keeps its low bit), two runs of one field, an empty run */
    static const uint64_t wide[] = {0, 127, 128, 1u << 14, (uint64_t)1 << 35, UINT64_MAX};
    BASE();
    pk.len = 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        CHECK(sl_buf_put_varint(&pk, wide[i]) == SL_OK);
    CHECK(sl_buf_append(&pk, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x05", 11) == SL_OK);
    put_s(&m, 18, pk.p, pk.len);
    put_s(&m, 18, pk.p, pk.len);
    direct_vs_two_step(&x, &m, 1, __LINE__);
    BASE();
    put_s(&m, 18, "", 0);
    direct_vs_two_step(&x, &m, 1, __LINE__);
    /* a packed run that ends inside a varint, or holds one of 11 bytes */
    static const char *const bad_runs[] = {"\x08\x80",
                                           "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"};
    for (int i = 0; i < 2; i++) {
        BASE();
        put_s(&m, 18, bad_runs[i], strlen(bad_runs[i]));
        direct_vs_two_step(&x, &m, 0, __LINE__);
        CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    }
    /* map keys compared inline (1-3, 4-7, 8-16 bytes) or by memcmp (17+):
     * keys alike but for one byte are distinct, a repeat of any is not */
    static const char *const alike[] = {"ab",
                                        "ac",
                                        "abcd1",
                                        "abcd2",
                                        "key_000a",
                                        "key_000b",
                                        "key_00000000_0001a",
                                        "key_00000000_0001b"};
    for (int dup = -1; dup < 8; dup++) {
        BASE();
        for (int i = 0; i < 8; i++) {
            e.len = 0;
            put_str(&e, 1, alike[i]);
            put_str(&e, 2, "v");
            put_s(&m, 15, e.p, e.len);
        }
        if (dup >= 0) { /* the same key again, last */
            e.len = 0;
            put_str(&e, 1, alike[dup]);
            put_str(&e, 2, "w");
            put_s(&m, 15, e.p, e.len);
        }
        direct_vs_two_step(&x, &m, dup < 0, __LINE__);
    }
    BASE();
    e.len = 0;
    put_str(&e, 1, "k");
    put_str(&e, 2, "v\xc3\x28"); /* invalid UTF-8 in a map value: two-step, an error */
    put_s(&m, 15, e.p, e.len);
    direct_vs_two_step(&x, &m, 0, __LINE__);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    BASE();
    put_str(&m, 10, "ok\xc3\x28"); /* invalid UTF-8: the two-step path reports it */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "buvid (10)");
#undef BASE
    sl_buf_free(&m);
    sl_buf_free(&c);
    sl_buf_free(&e);
    sl_buf_free(&pk);
    jfx_close(&x);

    /* proto3 alltypes: oneof, optional, every scalar kind, large numbers */
    if (jfx_open(&x, data_file("alltypes3.proto"), "t3.AllTypes")) {
        CHECK(0);
        return;
    }
    for (int k = 0; k < 2; k++) {
        m.len = 0;
        put_v(&m, 1, (uint64_t)-1);
        put_v(&m, 5, 3);
        put_tag(&m, 7, 5);
        CHECK(sl_buf_put_le32(&m, 0xdeadbeef) == SL_OK);
        put_tag(&m, 11, 5);
        CHECK(sl_buf_put_le32(&m, 0x3fc00000) == SL_OK);
        put_v(&m, 13, 2);
        put_v(&m, 16, (uint64_t)-3);
        put_v(&m, 21, 0);                /* optional, present at its default */
        put_v(&m, 31, 9);                /* oneof member */
        if (k) put_str(&m, 32, "other"); /* a second member: the last wins */
        put_v(&m, 100000, 1);
        direct_vs_two_step(&x, &m, !k, __LINE__);
    }
    sl_buf_free(&m);
    jfx_close(&x);

    /* proto2: closed enums drop unknown numbers, required fields */
    if (jfx_open(&x, data_file("alltypes2.proto"), "t2.AllTypes2")) {
        CHECK(0);
        return;
    }
    sl_buf in = SL_BUF_INIT;
    put_v(&in, 1, 5);
    m.len = 0;
    put_v(&m, 1, 45);
    put_v(&m, 17, 77); /* unknown: dropped, the field stays absent */
    put_s(&m, 21, in.p, in.len);
    put_v(&m, 42, 77);
    put_v(&m, 42, 3);
    direct_vs_two_step(&x, &m, 1, __LINE__);
    m.len = 0;
    put_v(&m, 1, 45); /* req_inner missing: an error, from the two-step path */
    direct_vs_two_step(&x, &m, 0, __LINE__);
    sl_buf_free(&in);
    sl_buf_free(&m);
    jfx_close(&x);
}

/* Deeply nested unknown groups: bounded, no stack overflow. */
static void test_depth(void)
{
    jfx x;
    if (jfx_open(&x, data_file("play_event.proto"), "bench.PlayEvent")) {
        CHECK(0);
        return;
    }
    sl_buf m = SL_BUF_INIT;
    for (int d = 0; d < 100000; d++)
        put_tag(&m, 99, 3);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "deeper");
    m.len = 0;
    for (int d = 0; d < 50; d++)
        put_tag(&m, 99, 3);
    for (int d = 0; d < 50; d++)
        put_tag(&m, 99, 4);
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    sl_buf_free(&m);
    jfx_close(&x);
}

/* proto2: required fields (rollback), closed enums, groups, defaults. */
static void test_proto2(void)
{
    jfx x;
    if (jfx_open(&x, data_file("alltypes2.proto"), "t2.AllTypes2")) {
        CHECK(0);
        return;
    }
    sl_buf m = SL_BUF_INIT, in = SL_BUF_INIT;
    put_v(&in, 1, 5);
    put_v(&m, 1, 42);
    put_s(&m, 21, in.p, in.len);
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    size_t n_before = x.batch.cols[0].n;
    /* missing req_inner: rejected, batch unchanged */
    m.len = 0;
    put_v(&m, 1, 43);
    put_v(&m, 2, 9);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "req_inner");
    CHECK_EQ_INT(x.batch.nrows, 1);
    CHECK_EQ_INT(x.batch.cols[0].n, n_before);
    /* required field missing inside a present optional message */
    m.len = 0;
    put_v(&m, 1, 44);
    put_s(&m, 21, in.p, in.len);
    put_s(&m, 20, "", 0);
    CHECK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err) == SL_ERR_CORRUPT);
    CHECK_CONTAINS(x.err.msg, "inner.id");
    /* closed enum: unknown number is dropped (field stays absent) */
    m.len = 0;
    put_v(&m, 1, 45);
    put_s(&m, 21, in.p, in.len);
    put_v(&m, 17, 2);
    put_v(&m, 17, 77);
    put_v(&m, 42, 77);
    put_v(&m, 42, 3);
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    const char *r = row_json(&x.batch, 1);
    CHECK_CONTAINS(r, "\"o_size\":\"MEDIUM\"");
    CHECK_CONTAINS(r, "\"r_size\":[\"LARGE\"]");
    CHECK_CONTAINS(r, "\"o_int32\":null"); /* absent proto2 default is null */
    /* a group field */
    m.len = 0;
    put_v(&m, 1, 46);
    put_s(&m, 21, in.p, in.len);
    put_tag(&m, 30, 3);
    put_v(&m, 31, 7);
    put_tag(&m, 33, 3);
    put_v(&m, 34, 8);
    put_tag(&m, 33, 4);
    put_tag(&m, 30, 4);
    CHECK_OK(sl_pb_decode(x.rec, &x.batch, m.p, m.len, &x.err), &x.err);
    r = row_json(&x.batch, 2);
    CHECK_CONTAINS(r, "\"grp\":{\"g_a\":7,\"g_b\":null,\"sub\":[{\"s_x\":8}]}");
    CHECK_OK(sl_batch_validate(&x.batch, &x.err), &x.err);
    sl_buf_free(&m);
    sl_buf_free(&in);
    jfx_close(&x);
}

/* The scratch API as the JSON and text decoders drive it. */
static void test_rec_api(void)
{
    jfx x;
    if (jfx_open(&x, data_file("alltypes3.proto"), "t3.AllTypes")) {
        CHECK(0);
        return;
    }
    const sl_plan *p = &x.plan;
    int32_t f_c_int = sl_plan_field_by_name(p, 0, "c_int", 5);
    int32_t f_c_leaf = sl_plan_field_by_name(p, 0, "cLeaf", 5);
    int32_t f_leaf = sl_plan_field_by_name(p, 0, "leaf", 4);
    int32_t f_map = sl_plan_field_by_name(p, 0, "m_int_int", 9);
    int32_t f_rint = sl_plan_field_by_name(p, 0, "rInt32", 6);
    int32_t f_far = sl_plan_field_by_number(p, 0, 100000);
    CHECK(f_c_int >= 0 && f_c_leaf >= 0 && f_leaf >= 0 && f_map >= 0 && f_rint >= 0);
    CHECK(f_far >= 0 && sl_plan_field_by_number(p, 0, 99999) == -1);
    CHECK(sl_plan_field_by_name(p, 0, "c_in", 4) == -1);
    int32_t num = 0;
    CHECK(sl_plan_enum_by_name(p->msgs[0].fields[sl_plan_field_by_name(p, 0, "f_enum", 6)].enm,
                               "BLUE", 4, &num) == 0 &&
          num == -3);

    int32_t root = sl_rec_begin(x.rec);
    sl_val v;
    v.i = 5;
    CHECK_OK(sl_rec_set(x.rec, root, f_c_int, v), &x.err);
    int32_t lf = sl_rec_sub(x.rec, root, f_c_leaf); /* switches the oneof */
    CHECK(lf > 0);
    int32_t lf_name = sl_plan_field_by_name(p, p->msgs[0].fields[f_c_leaf].child, "name", 4);
    uint8_t *s = sl_rec_scratch(x.rec, 3);
    memcpy(s, "abc", 3);
    v.s.p = s;
    v.s.len = 3;
    CHECK_OK(sl_rec_set(x.rec, lf, lf_name, v), &x.err);
    CHECK(sl_rec_sub(x.rec, root, f_c_leaf) == lf); /* merge: same frame */
    /* map: 40 entries with 20 distinct keys (hash path), values = index */
    int32_t em = p->msgs[0].fields[f_map].child;
    for (int i = 0; i < 40; i++) {
        int32_t ef = sl_rec_add_sub(x.rec, root, f_map);
        CHECK(ef > 0);
        v.i = (i * 7) % 20;
        CHECK_OK(sl_rec_set(x.rec, ef, sl_plan_field_by_number(p, em, 1), v), &x.err);
        v.i = i;
        CHECK_OK(sl_rec_set(x.rec, ef, sl_plan_field_by_number(p, em, 2), v), &x.err);
    }
    for (int i = 0; i < 3; i++) {
        v.i = i;
        CHECK_OK(sl_rec_add(x.rec, root, f_rint, v), &x.err);
    }
    sl_rec_clear(x.rec, root, f_rint);
    v.i = 9;
    CHECK_OK(sl_rec_add(x.rec, root, f_rint, v), &x.err);
    CHECK(sl_rec_set(x.rec, root, f_rint, v) == SL_ERR_INVALID); /* misuse is refused */
    CHECK_OK(sl_rec_emit(x.rec, &x.batch, &x.err), &x.err);
    const char *r = row_json(&x.batch, 0);
    CHECK_CONTAINS(r, "\"c_int\":null");
    CHECK_CONTAINS(r, "\"c_leaf\":{\"name\":\"abc\"");
    CHECK_CONTAINS(r, "\"r_int32\":[9]");
    CHECK_CONTAINS(r, "\"leaf\":null");
    /* key (i*7)%20 first seen at i < 20, last at i + 20 */
    CHECK_CONTAINS(r, "\"m_int_int\":[{\"key\":0,\"value\":20},{\"key\":7,\"value\":21},"
                      "{\"key\":14,\"value\":22},{\"key\":1,\"value\":23}");
    /* the same with 6 entries (quadratic path) and a missing key */
    root = sl_rec_begin(x.rec);
    for (int i = 0; i < 6; i++) {
        int32_t ef = sl_rec_add_sub(x.rec, root, f_map);
        v.i = i % 3;
        if (i != 0 && i != 3)
            CHECK_OK(sl_rec_set(x.rec, ef, sl_plan_field_by_number(p, em, 1), v), &x.err);
        v.i = 100 + i;
        if (i != 4) CHECK_OK(sl_rec_set(x.rec, ef, sl_plan_field_by_number(p, em, 2), v), &x.err);
    }
    CHECK_OK(sl_rec_emit(x.rec, &x.batch, &x.err), &x.err);
    r = row_json(&x.batch, 1);
    CHECK_CONTAINS(r, "\"m_int_int\":[{\"key\":0,\"value\":103},{\"key\":1,\"value\":0},"
                      "{\"key\":2,\"value\":105}]");
    CHECK_OK(sl_batch_validate(&x.batch, &x.err), &x.err);
    jfx_close(&x);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "dump")) return cmd_dump(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    RUN(test_play_event);
    RUN(test_direct);
    RUN(test_errors);
    RUN(test_depth);
    RUN(test_proto2);
    RUN(test_rec_api);
    return TEST_DONE();
}
