/* test_pb_encode.c - unit tests of the protobuf encoder (pb_encode.h) and,
 * with arguments, the driver of tests/e2e/0025-pb-encode-vs-protobuf.sh:
 *
 *   test_pb_encode reencode SCHEMA MESSAGE IN.pb OUT.pb [KEEP]
 *       parse every pb-delimited record of IN.pb with our decoder
 *       (sl_pb_parse), re-encode it (sl_pb_encode; KEEP = comma-separated
 *       top-level field numbers to keep, the projection) and write the
 *       bytes pb-delimited to OUT.pb, one record per accepted input. Prints
 *       "ok N" or "bad N: message" per input record on stdout. Each output
 *       is also parsed and encoded again: the bytes must not change (the
 *       output is canonical), else the driver fails.
 *   test_pb_encode bench SCHEMA MESSAGE IN.pb [ROUNDS]
 *       parse each record, encode it 16 times (timed); all records ROUNDS
 *       times; prints the best mean ns/record of one encode.
 *
 * Unit cases build records through the sl_rec_* API (not through our
 * parser) and compare the output with bytes worked out by hand from the
 * protobuf encoding spec (protobuf.dev/programming-guides/encoding): the
 * varint, zigzag, fixed-width, packed, group and length rules. The spec's
 * own examples are used where it has one (150 -> 08 96 01, "testing",
 * packed [3, 270, 86942]). The e2e script compares with python-protobuf.
 */
#include <time.h>

#include "core/framer.h"
#include "formats/pb/pb_encode.h"
#include "formats/pb/pb_plan.h"
#include "formats/pb/pb_read.h"
#include "plan_fx.h"
#include "test.h"

/* ---- helpers ---- */

/* Field index of `number` in plan message `msg`. */
static int32_t fld(const jfx *x, int32_t msg, uint32_t number)
{
    int32_t f = sl_plan_field_by_number(&x->plan, msg, number);
    if (f < 0) fprintf(stderr, "no field %u in message %d\n", number, msg);
    return f;
}

static int32_t child_of(const jfx *x, int32_t msg, int32_t f)
{
    return x->plan.msgs[msg].fields[f].child;
}

static sl_val vi(int64_t i)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    v.i = i;
    return v;
}
static sl_val vu(uint64_t u)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    v.u = u;
    return v;
}
static sl_val vf(float f)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    v.f = f;
    return v;
}
static sl_val vd(double d)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    v.d = d;
    return v;
}
static sl_val vs(const char *s)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    v.s.p = (const uint8_t *)s;
    v.s.len = (uint32_t)strlen(s);
    return v;
}

static void set(jfx *x, int32_t frame, uint32_t num, sl_val v)
{
    int32_t m = sl_rec_frame_msg(x->rec, frame);
    CHECK_OK(sl_rec_set(x->rec, frame, fld(x, m, num), v), NULL);
}

static void add(jfx *x, int32_t frame, uint32_t num, sl_val v)
{
    int32_t m = sl_rec_frame_msg(x->rec, frame);
    CHECK_OK(sl_rec_add(x->rec, frame, fld(x, m, num), v), NULL);
}

/* Encode the record and compare with the expected bytes; prints both in
 * hex when they differ. */
static int enc_eq(jfx *x, const uint8_t *keep, const uint8_t *want, size_t n, int line)
{
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    int ok = 1;
    if (sl_pb_encode(x->rec, keep, &out, &err)) {
        fprintf(stderr, "line %d: encode failed: %s\n", line, err.msg);
        ok = 0;
    } else if (out.len != n || (n && memcmp(out.p, want, n))) {
        fprintf(stderr, "line %d: bytes differ\n  want:", line);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n  got: ");
        for (size_t i = 0; i < out.len; i++)
            fprintf(stderr, " %02x", out.p[i]);
        fprintf(stderr, "\n");
        ok = 0;
    }
    sl_buf_free(&out);
    return ok;
}
#define ENC_EQ(x, keep, ...)                                                                       \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        CHECK(enc_eq((x), (keep), want_, sizeof want_, __LINE__));                                 \
    } while (0)
#define ENC_EMPTY(x) CHECK(enc_eq((x), NULL, NULL, 0, __LINE__))

#define T3() (jfx_open(&x, "alltypes3.proto", "t3.AllTypes") == 0)
#define T2() (jfx_open(&x, "alltypes2.proto", "t2.AllTypes2") == 0)

/* ---- proto3 scalars ---- */

static void test_spec_examples(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    sl_rec_begin(x.rec);
    set(&x, 0, 14, vs("testing")); /* set out of order: output is by number */
    set(&x, 0, 1, vi(150));
    ENC_EQ(&x, NULL, 0x08, 0x96, 0x01, 0x72, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g');
    /* 64-bit values */
    sl_rec_begin(x.rec);
    set(&x, 0, 2, vi(INT64_MIN));
    set(&x, 0, 4, vu(UINT64_MAX));
    ENC_EQ(&x, NULL, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, /* */
           0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    jfx_close(&x);
}

static void test_negative_int32(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    /* int32 -1 and enum BLUE (-3) are sign-extended: 10-byte varints */
    sl_rec_begin(x.rec);
    set(&x, 0, 1, vi(-1));
    set(&x, 0, 16, vi(-3));
    ENC_EQ(&x, NULL, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* */
           0x80, 0x01, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    /* uint32 is never sign-extended */
    sl_rec_begin(x.rec);
    set(&x, 0, 3, vu(0xffffffffu));
    ENC_EQ(&x, NULL, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f);
    jfx_close(&x);
}

static void test_zigzag(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    sl_rec_begin(x.rec);
    set(&x, 0, 5, vi(-1));
    set(&x, 0, 6, vi(-2));
    ENC_EQ(&x, NULL, 0x28, 0x01, 0x30, 0x03);
    sl_rec_begin(x.rec);
    set(&x, 0, 5, vi(INT32_MAX));                        /* 0xfffffffe */
    set(&x, 0, 6, vi(INT64_MIN));                        /* 2^64 - 1 */
    ENC_EQ(&x, NULL, 0x28, 0xfe, 0xff, 0xff, 0xff, 0x0f, /* */
           0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    sl_rec_begin(x.rec);
    set(&x, 0, 5, vi(INT32_MIN)); /* 0xffffffff */
    set(&x, 0, 6, vi(1));
    ENC_EQ(&x, NULL, 0x28, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x30, 0x02);
    jfx_close(&x);
}

static void test_fixed_width(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    sl_rec_begin(x.rec);
    set(&x, 0, 7, vu(1));
    set(&x, 0, 8, vu(UINT64_MAX));
    set(&x, 0, 9, vi(-2));
    set(&x, 0, 10, vi(-1));
    set(&x, 0, 11, vf(1.5f));
    set(&x, 0, 12, vd(-0.0)); /* not the default: its sign bit is set */
    set(&x, 0, 13, vu(1));
    ENC_EQ(&x, NULL, 0x3d, 0x01, 0x00, 0x00, 0x00,               /* fixed32 */
           0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* fixed64 */
           0x4d, 0xfe, 0xff, 0xff, 0xff,                         /* sfixed32 */
           0x51, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* sfixed64 */
           0x5d, 0x00, 0x00, 0xc0, 0x3f,                         /* float 1.5 */
           0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* double -0.0 */
           0x68, 0x01);                                          /* bool */
    jfx_close(&x);
}

static void test_implicit_defaults(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    /* proto3 implicit fields holding the default are not written ... */
    sl_rec_begin(x.rec);
    set(&x, 0, 1, vi(0));
    set(&x, 0, 3, vu(0));
    set(&x, 0, 11, vf(0.0f));
    set(&x, 0, 12, vd(0.0));
    set(&x, 0, 13, vu(0));
    set(&x, 0, 14, vs(""));
    set(&x, 0, 15, vs(""));
    set(&x, 0, 16, vi(0));
    ENC_EMPTY(&x);
    /* ... presence fields are, even with the default value */
    sl_rec_begin(x.rec);
    set(&x, 0, 21, vi(0));
    set(&x, 0, 24, vs(""));
    set(&x, 0, 27, vu(0));
    ENC_EQ(&x, NULL, 0xa8, 0x01, 0x00, 0xc2, 0x01, 0x00, 0xd8, 0x01, 0x00);
    /* a float or double is the default only when all its bits are 0 */
    sl_rec_begin(x.rec);
    set(&x, 0, 11, vf(-0.0f));
    ENC_EQ(&x, NULL, 0x5d, 0x00, 0x00, 0x00, 0x80);
    /* an empty present message is written (presence), empty */
    sl_rec_begin(x.rec);
    CHECK(sl_rec_sub(x.rec, 0, fld(&x, 0, 40)) > 0);
    ENC_EQ(&x, NULL, 0xc2, 0x02, 0x00);
    jfx_close(&x);
}

static void test_oneof_and_order(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    sl_rec_begin(x.rec);
    set(&x, 0, 100000, vi(1)); /* tag 800000 = 80 ea 30 */
    set(&x, 0, 31, vi(5));
    set(&x, 0, 32, vs("s")); /* replaces c_int */
    set(&x, 0, 2, vi(1));
    ENC_EQ(&x, NULL, 0x10, 0x01, 0x82, 0x02, 0x01, 's', 0x80, 0xea, 0x30, 0x01);
    /* a oneof member holding 0 is written: it has presence */
    sl_rec_begin(x.rec);
    set(&x, 0, 31, vi(0));
    ENC_EQ(&x, NULL, 0xf8, 0x01, 0x00);
    jfx_close(&x);
}

/* ---- repeated: packed per syntax ---- */

static void test_packed_proto3(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    sl_rec_begin(x.rec);
    add(&x, 0, 51, vi(3)); /* the spec's packed example */
    add(&x, 0, 51, vi(270));
    add(&x, 0, 51, vi(86942));
    add(&x, 0, 62, vd(1.0));
    add(&x, 0, 64, vs("a"));
    add(&x, 0, 64, vs("")); /* elements are written even when empty */
    add(&x, 0, 67, vi(1));  /* [packed = false] */
    add(&x, 0, 67, vi(2));
    ENC_EQ(&x, NULL, 0x9a, 0x03, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05,   /* r_int32 */
           0xf2, 0x03, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, /* r_double */
           0x82, 0x04, 0x01, 'a', 0x82, 0x04, 0x00,                          /* r_string */
           0x98, 0x04, 0x01, 0x98, 0x04, 0x02);                              /* r_unpacked */
    /* negative elements of a packed int32: 10 bytes each; sint32 zigzag */
    sl_rec_begin(x.rec);
    add(&x, 0, 51, vi(-1));
    add(&x, 0, 55, vi(-1));
    add(&x, 0, 55, vi(1));
    ENC_EQ(&x, NULL, 0x9a, 0x03, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
           0xba, 0x03, 0x02, 0x01, 0x02);
    jfx_close(&x);
}

static void test_parsed_to_canonical(void)
{
    jfx x;
    sl_error err;
    if (!T3()) {
        CHECK(0);
        return;
    }
    /* unpacked r_int32 elements, a duplicated scalar, an unknown field:
     * the output is packed, last value only, no unknown field */
    static const uint8_t in[] = {0x98, 0x03, 0x01, 0x08, 0x05, 0xa0, 0x38,
                                 0x07, 0x98, 0x03, 0x02, 0x08, 0x06};
    sl_rec_begin(x.rec);
    CHECK_OK(sl_pb_parse(x.rec, in, sizeof in, &err), &err);
    ENC_EQ(&x, NULL, 0x08, 0x06, 0x9a, 0x03, 0x02, 0x01, 0x02);
    jfx_close(&x);
}

/* ---- messages: lengths, nesting, maps, projection ---- */

static void test_nested_lengths(void)
{
    jfx x;
    char name[301];
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    if (!T3()) {
        CHECK(0);
        return;
    }
    memset(name, 'x', 300);
    name[300] = '\0';
    /* leaf.name of 200 bytes: the leaf body is 0a c8 01 + 200 = 203 bytes,
     * a two-byte length (cb 01): the one-byte reservation is moved up */
    name[200] = '\0';
    sl_rec_begin(x.rec);
    int32_t leaf = sl_rec_sub(x.rec, 0, fld(&x, 0, 40));
    CHECK(leaf > 0);
    set(&x, leaf, 1, vs(name));
    CHECK_OK(sl_pb_encode(x.rec, NULL, &out, &err), &err);
    CHECK_EQ_INT(out.len, 2 + 2 + 203);
    CHECK(out.len == 207 && out.p[0] == 0xc2 && out.p[1] == 0x02 && out.p[2] == 0xcb &&
          out.p[3] == 0x01 && out.p[4] == 0x0a && out.p[5] == 0xc8 && out.p[6] == 0x01 &&
          out.p[7] == 'x' && out.p[206] == 'x');
    /* three levels: top.mid.leaf.name (300 bytes), and top.tag after mid */
    name[200] = 'x';
    sl_rec_begin(x.rec);
    int32_t ftop = fld(&x, 0, 41), mtop = child_of(&x, 0, ftop);
    int32_t top = sl_rec_sub(x.rec, 0, ftop);
    int32_t fmid = fld(&x, mtop, 1), mmid = child_of(&x, mtop, fmid);
    int32_t mid = sl_rec_sub(x.rec, top, fmid);
    int32_t l2 = sl_rec_sub(x.rec, mid, fld(&x, mmid, 1));
    CHECK(top > 0 && mid > 0 && l2 > 0);
    set(&x, l2, 1, vs(name));
    set(&x, top, 2, vs("t"));
    out.len = 0;
    CHECK_OK(sl_pb_encode(x.rec, NULL, &out, &err), &err);
    /* leaf body: 0a ac 02 + 300 = 303 (af 02); mid body: 0a af 02 + 303 =
     * 306 (b2 02); top body: 0a b2 02 + 306 + 12 01 74 = 312 (b8 02) */
    static const uint8_t head[] = {0xca, 0x02, 0xb8, 0x02, 0x0a, 0xb2, 0x02,
                                   0x0a, 0xaf, 0x02, 0x0a, 0xac, 0x02, 'x'};
    CHECK_EQ_INT(out.len, 2 + 2 + 312);
    CHECK(out.len == 316 && !memcmp(out.p, head, sizeof head) && out.p[312] == 'x' &&
          out.p[313] == 0x12 && out.p[314] == 0x01 && out.p[315] == 't');
    sl_buf_free(&out);
    jfx_close(&x);
}

static void test_maps(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    int32_t fm = fld(&x, 0, 71), me = child_of(&x, 0, fm);
    sl_rec_begin(x.rec);
    int32_t e1 = sl_rec_add_sub(x.rec, 0, fm);
    set(&x, e1, 1, vs("a"));
    set(&x, e1, 2, vs("1"));
    int32_t e2 = sl_rec_add_sub(x.rec, 0, fm); /* duplicate key: its value replaces */
    set(&x, e2, 1, vs("a"));
    set(&x, e2, 2, vs("2"));
    int32_t e3 = sl_rec_add_sub(x.rec, 0, fm); /* proto3 entry: default key omitted */
    set(&x, e3, 1, vs(""));
    set(&x, e3, 2, vs("x"));
    CHECK(e1 > 0 && e2 > 0 && e3 > 0 && me >= 0);
    /* one entry per key, at its first position, with the last value */
    ENC_EQ(&x, NULL, 0xba, 0x04, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, '2', /* */
           0xba, 0x04, 0x03, 0x12, 0x01, 'x');
    /* map<bool, string>: keys 7 and 1 are both true */
    sl_rec_begin(x.rec);
    int32_t fb = fld(&x, 0, 73);
    int32_t b1 = sl_rec_add_sub(x.rec, 0, fb);
    set(&x, b1, 1, vu(7));
    set(&x, b1, 2, vs("t"));
    int32_t b2 = sl_rec_add_sub(x.rec, 0, fb);
    set(&x, b2, 1, vu(1));
    set(&x, b2, 2, vs("u"));
    ENC_EQ(&x, NULL, 0xca, 0x04, 0x05, 0x08, 0x01, 0x12, 0x01, 'u');
    /* map<int64, Leaf>: message value */
    sl_rec_begin(x.rec);
    int32_t fl = fld(&x, 0, 75), ml = child_of(&x, 0, fl);
    int32_t e = sl_rec_add_sub(x.rec, 0, fl);
    set(&x, e, 1, vi(-1));
    int32_t v = sl_rec_sub(x.rec, e, fld(&x, ml, 2));
    set(&x, v, 2, vi(3));
    ENC_EQ(&x, NULL, 0xda, 0x04, 0x0f, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
           0x01, 0x12, 0x02, 0x10, 0x03);
    jfx_close(&x);
}

/* More than 16 entries: the hashed de-duplication. Keys i % 7 (3 stands
 * for -1) for i in 0..39 with value i: keys in first-seen order, each with
 * the value of its last occurrence (33..39). */
static void test_big_map(void)
{
    jfx x;
    if (!T3()) {
        CHECK(0);
        return;
    }
    int32_t fm = fld(&x, 0, 72);              /* map<int32, int64> */
    for (int round = 0; round < 2; round++) { /* again: the scratch is reused */
        sl_rec_begin(x.rec);
        for (int i = 0; i < 40; i++) {
            int32_t en = sl_rec_add_sub(x.rec, 0, fm);
            set(&x, en, 1, vi(i % 7 == 3 ? -1 : i % 7));
            set(&x, en, 2, vi(i));
        }
        /* key 0 is the proto3 default: omitted inside its entry */
        ENC_EQ(&x, NULL, 0xc2, 0x04, 0x02, 0x10, 35,                             /* */
               0xc2, 0x04, 0x04, 0x08, 0x01, 0x10, 36,                           /* */
               0xc2, 0x04, 0x04, 0x08, 0x02, 0x10, 37,                           /* */
               0xc2, 0x04, 0x0d, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* */
               0xff, 0xff, 0x01, 0x10, 38,                                       /* */
               0xc2, 0x04, 0x04, 0x08, 0x04, 0x10, 39,                           /* */
               0xc2, 0x04, 0x04, 0x08, 0x05, 0x10, 33,                           /* */
               0xc2, 0x04, 0x04, 0x08, 0x06, 0x10, 34);
    }
    jfx_close(&x);
}

static void test_projection(void)
{
    jfx x;
    uint8_t keep[128];
    if (!T3()) {
        CHECK(0);
        return;
    }
    CHECK(x.plan.msgs[0].n_fields <= (int32_t)sizeof keep);
    memset(keep, 0, sizeof keep);
    keep[fld(&x, 0, 14)] = 1;
    keep[fld(&x, 0, 40)] = 1;
    sl_rec_begin(x.rec);
    set(&x, 0, 1, vi(150));
    set(&x, 0, 14, vs("k"));
    add(&x, 0, 51, vi(1));
    int32_t leaf = sl_rec_sub(x.rec, 0, fld(&x, 0, 40));
    set(&x, leaf, 2, vi(1)); /* nested messages are kept whole */
    set(&x, leaf, 1, vs("n"));
    ENC_EQ(&x, keep, 0x72, 0x01, 'k', 0xc2, 0x02, 0x05, 0x0a, 0x01, 'n', 0x10, 0x01);
    memset(keep, 0, sizeof keep);
    CHECK(enc_eq(&x, keep, NULL, 0, __LINE__)); /* keep nothing: an empty message */
    jfx_close(&x);
}

/* ---- proto2: unpacked by default, groups, required ---- */

static int32_t t2_base(jfx *x)
{
    sl_rec_begin(x->rec);
    set(x, 0, 1, vi(7));
    int32_t ri = sl_rec_sub(x->rec, 0, fld(x, 0, 21));
    set(x, ri, 1, vi(1));
    return ri;
}

static void test_proto2(void)
{
    jfx x;
    if (!T2()) {
        CHECK(0);
        return;
    }
    t2_base(&x);
    set(&x, 0, 2, vi(0)); /* explicit presence: written although 0 */
    int32_t fg = fld(&x, 0, 30), mg = child_of(&x, 0, fg);
    int32_t g = sl_rec_sub(x.rec, 0, fg);
    set(&x, g, 31, vi(5));
    int32_t fs = fld(&x, mg, 33);
    int32_t sub = sl_rec_add_sub(x.rec, g, fs);
    set(&x, sub, 34, vi(1));
    int32_t rg = sl_rec_add_sub(x.rec, 0, fld(&x, 0, 35));
    set(&x, rg, 36, vi(1));
    add(&x, 0, 40, vi(1)); /* proto2 default: unpacked */
    add(&x, 0, 40, vi(2));
    add(&x, 0, 41, vi(1)); /* [packed = true] */
    add(&x, 0, 41, vi(2));
    add(&x, 0, 46, vu(1));                           /* packed bool */
    ENC_EQ(&x, NULL, 0x08, 0x07,                     /* id */
           0x10, 0x00,                               /* o_int32 = 0 */
           0xaa, 0x01, 0x02, 0x08, 0x01,             /* req_inner { id: 1 } */
           0xf3, 0x01,                               /* Grp start (30) */
           0xf8, 0x01, 0x05,                         /* g_a = 5 */
           0x8b, 0x02, 0x90, 0x02, 0x01, 0x8c, 0x02, /* Sub (33) { s_x (34) = 1 } */
           0xf4, 0x01,                               /* Grp end */
           0x9b, 0x02, 0xa0, 0x02, 0x01, 0x9c, 0x02, /* RGrp (35) { rg_id (36) = 1 } */
           0xc0, 0x02, 0x01, 0xc0, 0x02, 0x02,       /* r_plain unpacked */
           0xca, 0x02, 0x02, 0x01, 0x02,             /* r_packed */
           0xf2, 0x02, 0x01, 0x01);                  /* r_bool packed */
    /* closed enum: a declared value (HUGE = 1000) */
    t2_base(&x);
    set(&x, 0, 17, vi(1000));
    ENC_EQ(&x, NULL, 0x08, 0x07, 0x88, 0x01, 0xe8, 0x07, 0xaa, 0x01, 0x02, 0x08, 0x01);
    jfx_close(&x);
}

static void test_required(void)
{
    jfx x;
    sl_buf out = SL_BUF_INIT;
    sl_error err;
    uint8_t keep[128];
    if (!T2()) {
        CHECK(0);
        return;
    }
    CHECK_OK(sl_buf_append(&out, "prefix", 6), NULL);
    /* top-level id missing */
    sl_rec_begin(x.rec);
    int32_t ri = sl_rec_sub(x.rec, 0, fld(&x, 0, 21));
    set(&x, ri, 1, vi(1));
    CHECK_EQ_INT(sl_pb_encode(x.rec, NULL, &out, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "required field id (number 1)") != NULL);
    CHECK_EQ_INT(out.len, 6);
    /* nested: inner present without its id; the output is rolled back */
    t2_base(&x);
    int32_t in = sl_rec_sub(x.rec, 0, fld(&x, 0, 20));
    CHECK(in > 0);
    CHECK_EQ_INT(sl_pb_encode(x.rec, NULL, &out, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "inner.id (number 1)") != NULL);
    CHECK_EQ_INT(out.len, 6);
    CHECK(!memcmp(out.p, "prefix", 6));
    /* a repeated group element without its required field */
    t2_base(&x);
    CHECK(sl_rec_add_sub(x.rec, 0, fld(&x, 0, 35)) > 0);
    CHECK_EQ_INT(sl_pb_encode(x.rec, NULL, &out, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "rgrp.rg_id") != NULL || strstr(err.msg, "RGrp.rg_id") != NULL);
    /* projected away: not checked */
    sl_rec_begin(x.rec);
    set(&x, 0, 2, vi(1));
    memset(keep, 0, sizeof keep);
    keep[fld(&x, 0, 2)] = 1;
    out.len = 0;
    CHECK_OK(sl_pb_encode(x.rec, keep, &out, &err), &err);
    CHECK(out.len == 2 && out.p[0] == 0x10 && out.p[1] == 0x01);
    sl_buf_free(&out);
    jfx_close(&x);
}

/* ---- driver ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        if (!k) break;
        n += k;
    }
    fclose(f);
    *len = n;
    return b;
}

/* keep[] from "1,14,13": top-level field numbers. */
static int parse_keep(const jfx *x, const char *list, uint8_t *keep, int32_t n)
{
    memset(keep, 0, (size_t)n);
    for (const char *s = list; *s;) {
        char *end;
        unsigned long num = strtoul(s, &end, 10);
        int32_t f = end != s ? sl_plan_field_by_number(&x->plan, 0, (uint32_t)num) : -1;
        if (f < 0) {
            fprintf(stderr, "keep: no top-level field number in '%s'\n", s);
            return -1;
        }
        keep[f] = 1;
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int cmd_reencode(int argc, char **argv)
{
    jfx x;
    size_t len = 0;
    int status = 0;
    uint8_t *keep = NULL, *data = NULL;
    sl_buf out = SL_BUF_INIT, again = SL_BUF_INIT, delim = SL_BUF_INIT;
    FILE *fo = NULL;
    if (argc < 6 || jfx_open(&x, argv[2], argv[3])) return 2;
    int32_t nf = x.plan.msgs[0].n_fields;
    keep = calloc((size_t)(nf ? nf : 1), 1);
    if (!keep || (argc > 6 && parse_keep(&x, argv[6], keep, nf))) {
        status = 2;
        goto done;
    }
    data = slurp(argv[4], &len);
    fo = fopen(argv[5], "wb");
    if (!data || !fo) {
        fprintf(stderr, "cannot read %s or write %s\n", argv[4], argv[5]);
        status = 2;
        goto done;
    }
    sl_framer fr;
    sl_frame f;
    sl_error err;
    sl_err_t rc;
    sl_framer_open_mem(&fr, data, len, SL_FRAME_VARINT, 0, argv[4]);
    while ((rc = sl_framer_next(&fr, &f, &err)) == SL_OK) {
        out.len = again.len = delim.len = 0;
        sl_rec_begin(x.rec);
        if (sl_pb_parse(x.rec, f.p, f.len, &err) ||
            sl_pb_encode(x.rec, argc > 6 ? keep : NULL, &out, &err)) {
            printf("bad %llu: %s\n", (unsigned long long)f.index, err.msg);
            continue;
        }
        /* canonical: parse + encode of our own output gives the same bytes */
        sl_rec_begin(x.rec);
        if (sl_pb_parse(x.rec, out.p, out.len, &err) ||
            sl_pb_encode(x.rec, argc > 6 ? keep : NULL, &again, &err) || again.len != out.len ||
            (out.len && memcmp(again.p, out.p, out.len))) {
            fprintf(stderr, "record %llu: re-encoding our own output changed it (%s)\n",
                    (unsigned long long)f.index, err.msg);
            status = 1;
        }
        if (sl_buf_put_varint(&delim, out.len) || fwrite(delim.p, 1, delim.len, fo) != delim.len ||
            (out.len && fwrite(out.p, 1, out.len, fo) != out.len)) {
            status = 2;
            break;
        }
        printf("ok %llu\n", (unsigned long long)f.index);
    }
    if (rc != SL_ERR_EOF && status != 2) {
        fprintf(stderr, "%s\n", err.msg);
        status = 1;
    }
    sl_framer_close(&fr);
done:
    if (fo && fclose(fo)) status = 2;
    free(data);
    free(keep);
    sl_buf_free(&out);
    sl_buf_free(&again);
    sl_buf_free(&delim);
    jfx_close(&x);
    return status;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmd_bench(int argc, char **argv)
{
    jfx x;
    size_t len = 0;
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    if (argc < 5 || jfx_open(&x, argv[2], argv[3])) return 2;
    uint8_t *data = slurp(argv[4], &len);
    sl_buf out = SL_BUF_INIT;
    double best = 0, bytes = 0;
    for (int k = 0; k < rounds && data; k++) {
        sl_framer fr;
        sl_frame f;
        sl_error err;
        double enc_ns = 0;
        size_t n = 0;
        bytes = 0;
        sl_framer_open_mem(&fr, data, len, SL_FRAME_VARINT, 0, argv[4]);
        while (sl_framer_next(&fr, &f, &err) == SL_OK) {
            sl_rec_begin(x.rec);
            if (sl_pb_parse(x.rec, f.p, f.len, &err)) continue;
            double t0 = now_ns();
            for (int j = 0; j < 16; j++) { /* 16 times: amortize the clock reads */
                out.len = 0;
                if (sl_pb_encode(x.rec, NULL, &out, &err)) break;
            }
            enc_ns += (now_ns() - t0) / 16;
            bytes += (double)out.len;
            n++;
        }
        sl_framer_close(&fr);
        if (n && (best == 0 || enc_ns / (double)n < best)) best = enc_ns / (double)n;
        if (n) bytes /= (double)n;
    }
    printf("encode: %.1f ns/record (%.0f bytes/record)\n", best, bytes);
    free(data);
    sl_buf_free(&out);
    jfx_close(&x);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "reencode")) return cmd_reencode(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    RUN(test_spec_examples);
    RUN(test_negative_int32);
    RUN(test_zigzag);
    RUN(test_fixed_width);
    RUN(test_implicit_defaults);
    RUN(test_oneof_and_order);
    RUN(test_packed_proto3);
    RUN(test_parsed_to_canonical);
    RUN(test_nested_lengths);
    RUN(test_maps);
    RUN(test_big_map);
    RUN(test_projection);
    RUN(test_proto2);
    RUN(test_required);
    return TEST_DONE();
}
