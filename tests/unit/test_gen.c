/* test_gen.c - the PlayEvent generator (plugins/gen/playgen.h).
 *
 * Determinism (same seed -> same bytes, other seed -> other bytes, formats
 * describe the same events), counts and end of stream, option validation,
 * and wire-level properties taken from the protobuf encoding spec (field
 * numbers strictly increasing, proto3 defaults never written, length
 * prefix equal to the record length). Byte-for-byte agreement with
 * protobuf itself is the end-to-end test 0001 (python-protobuf).
 */
#include "plugins/gen/playgen.h"

#include "test.h"

static sl_playgen_opts small_opts(uint64_t count, uint64_t seed)
{
    sl_playgen_opts o;
    sl_playgen_opts_default(&o);
    o.count = count;
    o.seed = seed;
    return o;
}

/* Generate every event of o in format f into out; returns events appended. */
static uint64_t gen_all(const sl_playgen_opts *o, sl_playgen_format_t f, sl_buf *out)
{
    sl_playgen g;
    sl_error err;
    uint64_t n = 0;
    sl_err_t rc = sl_playgen_init(&g, o, &err);
    CHECK_OK(rc, &err);
    if (rc) return 0;
    while ((rc = sl_playgen_append(&g, f, out)) == SL_OK)
        n++;
    CHECK_EQ_INT(rc, SL_ERR_EOF);
    return n;
}

static int same_buf(const sl_buf *a, const sl_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void test_determinism(void)
{
    sl_playgen_format_t fmts[] = {SL_PLAYGEN_PB_DELIMITED, SL_PLAYGEN_PB, SL_PLAYGEN_JSONL};
    for (size_t k = 0; k < 3; k++) {
        sl_buf a = SL_BUF_INIT, b = SL_BUF_INIT, c = SL_BUF_INIT;
        sl_playgen_opts o1 = small_opts(3000, 42), o2 = small_opts(3000, 43);
        CHECK_EQ_INT(gen_all(&o1, fmts[k], &a), 3000);
        CHECK_EQ_INT(gen_all(&o1, fmts[k], &b), 3000);
        CHECK_EQ_INT(gen_all(&o2, fmts[k], &c), 3000);
        CHECK(a.len > 3000 * 100);
        CHECK(same_buf(&a, &b));
        CHECK(!same_buf(&a, &c));
        sl_buf_free(&a);
        sl_buf_free(&b);
        sl_buf_free(&c);
    }
    /* seed 0 is a valid seed, distinct from seed 1 */
    sl_buf z = SL_BUF_INIT, one = SL_BUF_INIT;
    sl_playgen_opts o0 = small_opts(50, 0), o1 = small_opts(50, 1);
    CHECK_EQ_INT(gen_all(&o0, SL_PLAYGEN_PB, &z), 50);
    CHECK_EQ_INT(gen_all(&o1, SL_PLAYGEN_PB, &one), 50);
    CHECK(!same_buf(&z, &one));
    sl_buf_free(&z);
    sl_buf_free(&one);
}

/* The event stream does not depend on the format: delimited records are the
 * bare records with a length prefix, and the events drawn match. */
static void test_formats_agree(void)
{
    sl_playgen ga, gb;
    sl_error err;
    sl_playgen_opts o = small_opts(500, 9);
    CHECK_OK(sl_playgen_init(&ga, &o, &err), &err);
    CHECK_OK(sl_playgen_init(&gb, &o, &err), &err);
    sl_buf d = SL_BUF_INIT, bare = SL_BUF_INIT;
    for (int i = 0; i < 500; i++) {
        size_t d0 = d.len, b0 = bare.len;
        CHECK_OK(sl_playgen_append(&ga, SL_PLAYGEN_PB_DELIMITED, &d), &err);
        CHECK_OK(sl_playgen_append(&gb, SL_PLAYGEN_PB, &bare), &err);
        const uint8_t *p = d.p + d0;
        uint64_t len = 0;
        CHECK(sl_varint_get(&p, d.p + d.len, &len) == 0);
        CHECK_EQ_INT(len, bare.len - b0);
        CHECK_EQ_INT((size_t)(p - (d.p + d0)) + len, d.len - d0);
        CHECK(len == bare.len - b0 && memcmp(p, bare.p + b0, (size_t)len) == 0);
    }
    sl_buf_free(&d);
    sl_buf_free(&bare);
}

static void test_counts(void)
{
    uint64_t counts[] = {0, 1, 7, 1000};
    for (size_t k = 0; k < 4; k++) {
        sl_playgen_opts o = small_opts(counts[k], 5);
        sl_buf pb = SL_BUF_INIT, js = SL_BUF_INIT;
        CHECK_EQ_INT(gen_all(&o, SL_PLAYGEN_PB_DELIMITED, &pb), counts[k]);
        CHECK_EQ_INT(gen_all(&o, SL_PLAYGEN_JSONL, &js), counts[k]);
        uint64_t recs = 0, lines = 0;
        const uint8_t *p = pb.p, *end = pb.p + pb.len;
        while (p < end) {
            uint64_t len = 0;
            if (sl_varint_get(&p, end, &len) || len > (uint64_t)(end - p)) break;
            p += len;
            recs++;
        }
        CHECK(p == end);
        CHECK_EQ_INT(recs, counts[k]);
        for (size_t j = 0; j < js.len; j++)
            lines += js.p[j] == '\n';
        CHECK_EQ_INT(lines, counts[k]);
        CHECK(js.len == 0 || js.p[js.len - 1] == '\n');
        sl_buf_free(&pb);
        sl_buf_free(&js);
    }
    /* after the end: EOF again, buffer and event untouched */
    sl_playgen g;
    sl_error err;
    sl_playgen_opts o = small_opts(1, 5);
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_playgen_append(&g, SL_PLAYGEN_JSONL, &b), &err);
    size_t len = b.len;
    CHECK_EQ_INT(sl_playgen_append(&g, SL_PLAYGEN_JSONL, &b), SL_ERR_EOF);
    CHECK_EQ_INT(b.len, len);
    sl_playgen_event ev;
    ev.index = 12345;
    CHECK_EQ_INT(sl_playgen_next(&g, &ev), SL_ERR_EOF);
    CHECK_EQ_INT(ev.index, 12345);
    CHECK_EQ_INT(sl_playgen_append(&g, (sl_playgen_format_t)99, &b), SL_ERR_INVALID);
    sl_buf_free(&b);
}

/* Stream ids and event times follow the documented model. */
static void test_model(void)
{
    sl_playgen g;
    sl_error err;
    sl_playgen_opts o = small_opts(1000, 3);
    o.streams = 3;
    o.first_stream = 7;
    o.start_ms = 1000000;
    o.span_s = 10;
    o.disorder_s = 2;
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    sl_playgen_event ev;
    for (uint64_t i = 0; i < 1000; i++) {
        CHECK_OK(sl_playgen_next(&g, &ev), &err);
        CHECK_EQ_INT(ev.index, i);
        CHECK_EQ_INT(ev.stream, 7 + i % 3);
        char want[16];
        snprintf(want, sizeof want, "%06u", (unsigned)(7 + i % 3));
        CHECK(ev.log_id_len == strlen(want) && memcmp(ev.log_id, want, ev.log_id_len) == 0);
        int64_t base = 1000000 + (int64_t)(i * 10000 / 1000);
        int64_t lo = base - 2000 < 1000000 ? 1000000 : base - 2000;
        CHECK(ev.event_time_ms >= lo && ev.event_time_ms <= base);
        CHECK(ev.n_tags <= 4 && ev.n_ext <= 3 && ev.n_recent <= 5);
        CHECK(ev.progress_e4 <= 10000 && ev.platform >= 0 && ev.platform <= 4);
    }
    /* a large stream id is not padded past its digits */
    o.first_stream = 123456789;
    o.streams = 1;
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    CHECK_OK(sl_playgen_next(&g, &ev), &err);
    CHECK(ev.log_id_len == 9 && memcmp(ev.log_id, "123456789", 9) == 0);
}

/* Walk a message's top-level fields; returns the number of fields or -1. */
static int walk_fields(const uint8_t *p, const uint8_t *end, uint32_t *nums, int max)
{
    int n = 0;
    while (p < end) {
        uint64_t key = 0, v = 0;
        if (sl_varint_get(&p, end, &key) || n == max) return -1;
        nums[n++] = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0:
            if (sl_varint_get(&p, end, &v)) return -1;
            break;
        case 1:
            if (end - p < 8) return -1;
            p += 8;
            break;
        case 2:
            if (sl_varint_get(&p, end, &v) || v > (uint64_t)(end - p)) return -1;
            p += v;
            break;
        default:
            return -1;
        }
    }
    return n;
}

/* proto3 implicit presence: a field holding its default is not written. */
static void test_defaults_skipped(void)
{
    sl_playgen g;
    sl_error err;
    sl_playgen_opts o = small_opts(1, 11);
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    sl_playgen_event ev;
    CHECK_OK(sl_playgen_next(&g, &ev), &err);
    ev.event_time_ms = 0;
    ev.play_seconds = 0;
    ev.progress_e4 = 0;
    ev.platform = 0;
    ev.is_autoplay = 0;
    ev.n_tags = ev.n_ext = ev.n_recent = 0;
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_playgen_pb(&ev, 0, &b), &err);
    uint32_t nums[64];
    int n = walk_fields(b.p, b.p + b.len, nums, 64);
    CHECK(n > 0);
    for (int k = 0; k < n; k++) {
        CHECK(k == 0 || nums[k] > nums[k - 1]); /* number order, each once */
        CHECK(nums[k] != 2 && nums[k] != 7 && nums[k] != 8 && nums[k] != 9 && nums[k] != 14 &&
              nums[k] != 15 && nums[k] != 16 && nums[k] != 18);
    }
    CHECK_EQ_INT(n, 10); /* 1 3 4 5 6 10 11 12 13 17 */
    sl_buf_free(&b);

    /* every field set: all 18 numbers appear, repeated ones grouped, in order */
    ev.event_time_ms = 5;
    ev.play_seconds = 1;
    ev.progress_e4 = 1;
    ev.platform = 2;
    ev.is_autoplay = 1;
    ev.n_tags = 2;
    ev.n_ext = 3;
    ev.ext_val[0] = 0, ev.ext_val[1] = 9, ev.ext_val[2] = 99;
    ev.n_recent = 5;
    for (int k = 0; k < 5; k++)
        ev.recent_avids[k] = 900000000 - k;
    CHECK_OK(sl_playgen_pb(&ev, 1, &b), &err);
    const uint8_t *p = b.p;
    uint64_t len = 0;
    CHECK(sl_varint_get(&p, b.p + b.len, &len) == 0);
    CHECK_EQ_INT(len, (uint64_t)(b.p + b.len - p));
    CHECK(len >= 128 && p - b.p == 2);
    n = walk_fields(p, b.p + b.len, nums, 64);
    int seen[19] = {0};
    for (int k = 0; k < n; k++) {
        CHECK(k == 0 || nums[k] >= nums[k - 1]);
        if (nums[k] <= 18) seen[nums[k]]++;
    }
    for (int f = 1; f <= 18; f++)
        CHECK(seen[f] >= 1);
    CHECK_EQ_INT(seen[14], 2);
    CHECK_EQ_INT(seen[15], 3);
    CHECK_EQ_INT(seen[18], 1); /* packed: one field for five values */
    sl_buf_free(&b);
}

static void test_short_prefix(void)
{
    /* a record under 128 bytes gets a one-byte length prefix */
    sl_playgen g;
    sl_error err;
    sl_playgen_opts o = small_opts(1, 2);
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    sl_playgen_event ev;
    CHECK_OK(sl_playgen_next(&g, &ev), &err);
    ev.n_tags = ev.n_ext = ev.n_recent = 0;
    ev.mid = ev.up_mid = ev.avid = ev.cid = ev.event_time_ms = 0;
    ev.ip_len = 0;
    ev.progress_e4 = 0;
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_playgen_pb(&ev, 1, &b), &err);
    CHECK(b.len > 1 && b.p[0] < 128);
    CHECK_EQ_INT(b.p[0], b.len - 1);
    uint32_t nums[64];
    CHECK(walk_fields(b.p + 1, b.p + b.len, nums, 64) > 0);
    sl_buf_free(&b);
}

static void expect_invalid(const sl_playgen_opts *o, const char *word)
{
    sl_playgen g;
    sl_error err;
    sl_error_clear(&err);
    CHECK_EQ_INT(sl_playgen_init(&g, o, &err), SL_ERR_INVALID);
    CHECK(strstr(err.msg, word) != NULL);
    if (!strstr(err.msg, word)) fprintf(stderr, "  message: %s (wanted '%s')\n", err.msg, word);
}

static void test_options(void)
{
    sl_playgen_opts d, o;
    sl_error err;
    sl_playgen_opts_default(&d);
    CHECK_EQ_INT(d.count, 100000);
    CHECK_EQ_INT(d.streams, 8);
    CHECK_EQ_INT(d.first_stream, 1000);
    CHECK_EQ_INT(d.start_ms, 1764547200000LL);
    CHECK_EQ_INT(d.span_s, 7200);
    CHECK_EQ_INT(d.disorder_s, 30);
    CHECK_OK(sl_playgen_opts_check(&d, &err), &err);

    o = d, o.streams = 0, expect_invalid(&o, "streams");
    o = d, o.first_stream = SL_PLAYGEN_MAX_STREAM, o.streams = 2,
    expect_invalid(&o, "first-stream");
    o = d, o.first_stream = SL_PLAYGEN_MAX_STREAM, o.streams = 1;
    CHECK_OK(sl_playgen_opts_check(&o, &err), &err);
    o = d, o.start_ms = -1, expect_invalid(&o, "start-ms");
    o = d, o.start_ms = SL_PLAYGEN_MAX_START_MS + 1, expect_invalid(&o, "start-ms");
    o = d, o.span_s = -1, expect_invalid(&o, "span-s");
    o = d, o.span_s = SL_PLAYGEN_MAX_SPAN_S + 1, expect_invalid(&o, "span-s");
    o = d, o.disorder_s = -3, expect_invalid(&o, "disorder-s");
    o = d, o.disorder_s = SL_PLAYGEN_MAX_DISORDER_S + 1, expect_invalid(&o, "disorder-s");
    o = d, o.count = SL_PLAYGEN_MAX_COUNT + 1, expect_invalid(&o, "count");

    /* the extremes that are allowed work without overflow */
    sl_playgen g;
    sl_playgen_event ev;
    o = d, o.count = SL_PLAYGEN_MAX_COUNT, o.start_ms = SL_PLAYGEN_MAX_START_MS;
    o.span_s = SL_PLAYGEN_MAX_SPAN_S, o.disorder_s = SL_PLAYGEN_MAX_DISORDER_S;
    CHECK_OK(sl_playgen_init(&g, &o, &err), &err);
    for (int i = 0; i < 100; i++) {
        CHECK_OK(sl_playgen_next(&g, &ev), &err);
        CHECK(ev.event_time_ms >= o.start_ms);
    }

    sl_playgen_format_t f;
    CHECK_OK(sl_playgen_format_parse("pb-delimited", &f, &err), &err);
    CHECK_EQ_INT(f, SL_PLAYGEN_PB_DELIMITED);
    CHECK_OK(sl_playgen_format_parse("jsonl", &f, &err), &err);
    CHECK_EQ_INT(f, SL_PLAYGEN_JSONL);
    CHECK_OK(sl_playgen_format_parse("pb", &f, &err), &err);
    CHECK_EQ_INT(f, SL_PLAYGEN_PB);
    CHECK_EQ_INT(sl_playgen_format_parse("json", &f, &err), SL_ERR_INVALID);
    CHECK(strstr(err.msg, "'json'") != NULL);
}

int main(void)
{
    RUN(test_determinism);
    RUN(test_formats_agree);
    RUN(test_counts);
    RUN(test_model);
    RUN(test_defaults_skipped);
    RUN(test_short_prefix);
    RUN(test_options);
    return TEST_DONE();
}
