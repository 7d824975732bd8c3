/* playgen.c - PlayEvent model, PRNG and the protobuf / JSON encoders.
 *
 * See playgen.h for the contract. Design notes:
 *
 * - PRNG: xoshiro256** (Blackman & Vigna), state seeded by four splitmix64
 *   steps from the user's seed, so every seed (including 0) gives a good,
 *   distinct state. Bounded integers use Lemire's multiply-and-reject on
 *   the top 32 bits: unbiased, and the rejection (one modulo) runs with
 *   probability n / 2^32, i.e. almost never. Every range used here is below
 *   2^32 (disorder is bounded by SL_PLAYGEN_MAX_DISORDER_S for this).
 * - Distribution parity with gen_events.py, draw for draw in meaning:
 *   randint(a, b) -> a + uniform(b - a + 1); choice -> uniform(len);
 *   rnd.sample(pool, k) -> k steps of a partial Fisher-Yates shuffle (k
 *   distinct tags, random order); random() < 0.3 -> uniform(10) < 3;
 *   round(random(), 4) -> k/10000 with k drawn so that 0 and 10000 have half
 *   the weight of the others, as rounding gives them.
 * - Encoders write with raw stores after reserving SL_PLAYGEN_MAX_EVENT_BYTES
 *   once (every field's worst case is far below it: the largest pb event is
 *   about 300 bytes, the largest JSON line about 600). The length prefix of
 *   a delimited record is written by encoding the body two bytes after the
 *   record start and moving it back one byte when the length fits in one
 *   varint byte: a body is always below 16384 bytes.
 * - Canonical protobuf: fields in number order; proto3 implicit-presence
 *   fields skipped when they hold the default (0, 0.0 by bit pattern, false,
 *   ""), exactly what protobuf's serializers do; client is always written
 *   (gen_events.py sets its fields, which marks it present); map entries in
 *   ascending key order, which is what deterministic serialization emits.
 */
#include "plugins/gen/playgen.h"

#include <string.h>

/* ---- pools (gen_events.py) ---- */

typedef struct pool_str {
    const char *s;
    uint8_t len;
} pool_str;

#define PS(x)                                                                                      \
    {                                                                                              \
        x, (uint8_t)(sizeof(x) - 1)                                                                \
    }
static const pool_str tags_pool[10] = {PS("game"), PS("music"), PS("anime"), PS("tech"),
                                       PS("vlog"), PS("food"),  PS("sport"), PS("news"),
                                       PS("kids"), PS("movie")};
static const pool_str nets_pool[4] = {PS("wifi"), PS("4g"), PS("5g"), PS("ethernet")};
static const pool_str os_pool[5] = {PS("android 14"), PS("ios 18.1"), PS("windows 11"),
                                    PS("macos 15"), PS("harmonyos 4")};
static const pool_str platform_names[5] = {PS("PLATFORM_UNKNOWN"), PS("ANDROID"), PS("IOS"),
                                           PS("WEB"), PS("TV")};
#undef PS
static const int32_t widths_pool[4] = {720, 1080, 1440, 1920};
static const int32_t heights_pool[4] = {1280, 1920, 2560, 1080};
static const uint32_t quality_pool[7] = {16, 32, 64, 80, 112, 116, 120};

/* ---- options ---- */

void sl_playgen_opts_default(sl_playgen_opts *o)
{
    o->count = 100000;
    o->seed = 1;
    o->streams = 8;
    o->first_stream = 1000;
    o->start_ms = INT64_C(1764547200000); /* 2025-12-01T00:00:00Z */
    o->span_s = 7200;
    o->disorder_s = 30;
}

sl_err_t sl_playgen_opts_check(const sl_playgen_opts *o, sl_error *err)
{
    if (o->count > SL_PLAYGEN_MAX_COUNT)
        return sl_error_set(err, SL_ERR_INVALID, "count %llu: must be at most %llu",
                            (unsigned long long)o->count, (unsigned long long)SL_PLAYGEN_MAX_COUNT);
    if (o->streams < 1 || o->streams > SL_PLAYGEN_MAX_STREAM + 1u)
        return sl_error_set(err, SL_ERR_INVALID, "streams %u: must be 1..%u", (unsigned)o->streams,
                            (unsigned)SL_PLAYGEN_MAX_STREAM + 1u);
    if ((uint64_t)o->first_stream + o->streams - 1 > SL_PLAYGEN_MAX_STREAM)
        return sl_error_set(err, SL_ERR_INVALID,
                            "first-stream %u with %u streams: the last stream id must be at "
                            "most %u (log_id is a number of at most 9 digits)",
                            (unsigned)o->first_stream, (unsigned)o->streams,
                            (unsigned)SL_PLAYGEN_MAX_STREAM);
    if (o->start_ms < 0 || o->start_ms > SL_PLAYGEN_MAX_START_MS)
        return sl_error_set(err, SL_ERR_INVALID, "start-ms %lld: must be 0..%lld (epoch ms)",
                            (long long)o->start_ms, (long long)SL_PLAYGEN_MAX_START_MS);
    if (o->span_s < 0 || o->span_s > SL_PLAYGEN_MAX_SPAN_S)
        return sl_error_set(err, SL_ERR_INVALID, "span-s %lld: must be 0..%lld seconds",
                            (long long)o->span_s, (long long)SL_PLAYGEN_MAX_SPAN_S);
    if (o->disorder_s < 0 || o->disorder_s > SL_PLAYGEN_MAX_DISORDER_S)
        return sl_error_set(err, SL_ERR_INVALID, "disorder-s %lld: must be 0..%lld seconds",
                            (long long)o->disorder_s, (long long)SL_PLAYGEN_MAX_DISORDER_S);
    return SL_OK;
}

/* ---- PRNG ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rnd64(sl_playgen *g)
{
    uint64_t *s = g->s;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n), 1 <= n <= 2^32 - 1. */
static inline uint32_t rnd_below(sl_playgen *g, uint32_t n)
{
    uint64_t m = (rnd64(g) >> 32) * (uint64_t)n;
    uint32_t l = (uint32_t)m;
    if (SL_UNLIKELY(l < n)) {
        uint32_t t = (uint32_t)(0u - n) % n;
        while (l < t) {
            m = (rnd64(g) >> 32) * (uint64_t)n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* randint(lo, hi), inclusive, hi - lo < 2^32 - 1. */
static inline int64_t rnd_int(sl_playgen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rnd_below(g, (uint32_t)(hi - lo + 1));
}

sl_err_t sl_playgen_init(sl_playgen *g, const sl_playgen_opts *o, sl_error *err)
{
    sl_err_t rc = sl_playgen_opts_check(o, err);
    if (rc) return rc;
    memset(g, 0, sizeof *g);
    g->o = *o;
    uint64_t x = o->seed;
    for (int k = 0; k < 4; k++)
        g->s[k] = splitmix64(&x);
    g->span_ms = (uint64_t)o->span_s * 1000u;
    if (o->count) {
        g->step_q = g->span_ms / o->count;
        g->step_r = g->span_ms % o->count;
    }
    return SL_OK;
}

/* ---- event model ---- */

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static void put_hex64(char *dst, uint64_t v, const char *digits)
{
    for (int k = 15; k >= 0; k--) {
        dst[k] = digits[v & 15];
        v >>= 4;
    }
}

/* Decimal of v (< 10^10 here) into dst; returns the length. */
static inline size_t put_u32dec(char *dst, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        dst[k] = tmp[n - 1 - k];
    return n;
}

static void draw_ip(sl_playgen *g, sl_playgen_event *ev)
{
    uint32_t a = (uint32_t)rnd_int(g, 1, 223), b = rnd_below(g, 256), c = rnd_below(g, 256),
             d = (uint32_t)rnd_int(g, 1, 254);
    size_t n = put_u32dec(ev->ip, a);
    ev->ip[n++] = '.';
    n += put_u32dec(ev->ip + n, b);
    ev->ip[n++] = '.';
    n += put_u32dec(ev->ip + n, c);
    ev->ip[n++] = '.';
    n += put_u32dec(ev->ip + n, d);
    ev->ip_len = (uint8_t)n;
}

static void draw_client(sl_playgen *g, sl_playgen_event *ev)
{
    uint32_t minor = rnd_below(g, 31), patch = rnd_below(g, 10);
    size_t n = 0;
    ev->app_version[n++] = '8';
    ev->app_version[n++] = '.';
    n += put_u32dec(ev->app_version + n, minor);
    ev->app_version[n++] = '.';
    n += put_u32dec(ev->app_version + n, patch);
    ev->app_version_len = (uint8_t)n;
    const pool_str *os = &os_pool[rnd_below(g, 5)];
    const pool_str *net = &nets_pool[rnd_below(g, 4)];
    ev->os = os->s;
    ev->os_len = os->len;
    ev->network = net->s;
    ev->network_len = net->len;
    ev->screen_width = widths_pool[rnd_below(g, 4)];
    ev->screen_height = heights_pool[rnd_below(g, 4)];
}

static void draw_lists(sl_playgen *g, sl_playgen_event *ev)
{
    uint8_t idx[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    ev->n_tags = (uint8_t)rnd_below(g, 5);
    for (uint32_t k = 0; k < ev->n_tags; k++) { /* partial Fisher-Yates: k distinct */
        uint32_t j = k + rnd_below(g, 10 - k);
        uint8_t t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
        ev->tags[k] = tags_pool[idx[k]].s;
        ev->tag_len[k] = tags_pool[idx[k]].len;
    }
    ev->n_ext = (uint8_t)rnd_below(g, 4);
    for (uint32_t k = 0; k < ev->n_ext; k++)
        ev->ext_val[k] = (uint8_t)rnd_below(g, 100);
    ev->is_autoplay = rnd_below(g, 10) < 3;
    ev->quality = quality_pool[rnd_below(g, 7)];
    ev->n_recent = (uint8_t)rnd_below(g, 6);
    for (uint32_t k = 0; k < ev->n_recent; k++)
        ev->recent_avids[k] = rnd_int(g, 1, 900000000);
}

sl_err_t sl_playgen_next(sl_playgen *g, sl_playgen_event *ev)
{
    if (g->i >= g->o.count) return SL_ERR_EOF;
    ev->index = g->i;
    ev->stream = g->o.first_stream + g->stream_off;
    size_t n = put_u32dec(ev->log_id, ev->stream);
    if (n < 6) { /* "%06d" */
        memmove(ev->log_id + (6 - n), ev->log_id, n);
        memset(ev->log_id, '0', 6 - n);
        n = 6;
    }
    ev->log_id_len = (uint8_t)n;

    int64_t base = g->o.start_ms + (int64_t)g->acc_q;
    int64_t late = (int64_t)rnd_below(g, (uint32_t)(g->o.disorder_s * 1000 + 1));
    ev->event_time_ms = base - late < g->o.start_ms ? g->o.start_ms : base - late;
    ev->mid = rnd_int(g, 1, 50000000);
    ev->up_mid = rnd_int(g, 1, 2000000);
    ev->avid = rnd_int(g, 1, 900000000);
    ev->cid = rnd_int(g, 1, 2000000000);
    ev->play_seconds = (int32_t)rnd_int(g, 0, 3600);
    ev->progress_e4 = (uint16_t)((rnd_below(g, 20000) + 1) / 2);
    ev->platform = (int32_t)rnd_below(g, 5);
    ev->buvid[0] = 'X';
    ev->buvid[1] = 'Y';
    put_hex64(ev->buvid + 2, rnd64(g), hex_upper);
    put_hex64(ev->buvid + 18, rnd64(g), hex_upper);
    draw_ip(g, ev);
    put_hex64(ev->trace_id, rnd64(g), hex_lower);
    draw_client(g, ev);
    draw_lists(g, ev);

    /* advance: acc = floor((i+1) * span_ms / count), exactly */
    g->i++;
    g->acc_q += g->step_q;
    g->acc_r += g->step_r;
    if (g->acc_r >= g->o.count) {
        g->acc_r -= g->o.count;
        g->acc_q++;
    }
    if (++g->stream_off == g->o.streams) g->stream_off = 0;
    return SL_OK;
}

/* ---- protobuf ---- */

static inline uint8_t *w_varint(uint8_t *q, uint64_t v)
{
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q++ = (uint8_t)v;
    return q;
}

/* tag (one or two bytes, pre-encoded) + length + bytes; skipped when empty */
static inline uint8_t *w_str(uint8_t *q, uint8_t tag, const char *s, size_t n)
{
    if (!n) return q;
    *q++ = tag;
    *q++ = (uint8_t)n; /* every string here is < 128 bytes */
    memcpy(q, s, n);
    return q + n;
}

static inline uint8_t *w_int(uint8_t *q, uint8_t tag, uint64_t v)
{
    if (!v) return q;
    *q++ = tag;
    return w_varint(q, v);
}

static uint8_t *w_client(uint8_t *q, const sl_playgen_event *ev)
{
    uint8_t *len = q + 1;
    *q = 0x6a; /* field 13, LEN */
    q += 2;    /* the client body is always < 128 bytes: one length byte */
    uint8_t *body = q;
    q = w_str(q, 0x0a, ev->app_version, ev->app_version_len);
    q = w_str(q, 0x12, ev->os, ev->os_len);
    q = w_str(q, 0x1a, ev->network, ev->network_len);
    q = w_int(q, 0x20, (uint64_t)(int64_t)ev->screen_width);
    q = w_int(q, 0x28, (uint64_t)(int64_t)ev->screen_height);
    *len = (uint8_t)(q - body);
    return q;
}

static uint8_t *w_tail(uint8_t *q, const sl_playgen_event *ev)
{
    for (uint32_t k = 0; k < ev->n_tags; k++) {
        *q++ = 0x72; /* field 14, LEN: repeated string, never empty */
        *q++ = ev->tag_len[k];
        memcpy(q, ev->tags[k], ev->tag_len[k]);
        q += ev->tag_len[k];
    }
    for (uint32_t k = 0; k < ev->n_ext; k++) { /* field 15: entries k0 < k1 < k2 */
        uint8_t v = ev->ext_val[k];
        uint8_t vlen = v >= 10 ? 3 : 2;
        *q++ = 0x7a;
        *q++ = (uint8_t)(4 + 2 + vlen);
        *q++ = 0x0a; /* key = 1 */
        *q++ = 2;
        *q++ = 'k';
        *q++ = (uint8_t)('0' + k);
        *q++ = 0x12; /* value = 2 */
        *q++ = vlen;
        *q++ = 'v';
        if (v >= 10) *q++ = (uint8_t)('0' + v / 10);
        *q++ = (uint8_t)('0' + v % 10);
    }
    if (ev->is_autoplay) {
        *q++ = 0x80; /* field 16, VARINT */
        *q++ = 0x01;
        *q++ = 1;
    }
    if (ev->quality) {
        *q++ = 0x88; /* field 17, VARINT */
        *q++ = 0x01;
        q = w_varint(q, ev->quality);
    }
    if (ev->n_recent) {
        *q++ = 0x92; /* field 18, LEN (packed) */
        *q++ = 0x01;
        uint8_t *len = q++; /* <= 5 * 10 bytes: one length byte */
        uint8_t *body = q;
        for (uint32_t k = 0; k < ev->n_recent; k++)
            q = w_varint(q, (uint64_t)ev->recent_avids[k]);
        *len = (uint8_t)(q - body);
    }
    return q;
}

static uint8_t *w_event(uint8_t *q, const sl_playgen_event *ev)
{
    q = w_str(q, 0x0a, ev->log_id, ev->log_id_len);
    q = w_int(q, 0x10, (uint64_t)ev->event_time_ms);
    q = w_int(q, 0x18, (uint64_t)ev->mid);
    q = w_int(q, 0x20, (uint64_t)ev->up_mid);
    q = w_int(q, 0x28, (uint64_t)ev->avid);
    q = w_int(q, 0x30, (uint64_t)ev->cid);
    q = w_int(q, 0x38, (uint64_t)(int64_t)ev->play_seconds);
    if (ev->progress_e4) {
        double d = sl_playgen_progress(ev);
        *q++ = 0x41;      /* field 8, I64 */
        memcpy(q, &d, 8); /* little-endian host (buf.h) */
        q += 8;
    }
    q = w_int(q, 0x48, (uint64_t)(int64_t)ev->platform);
    q = w_str(q, 0x52, ev->buvid, sizeof ev->buvid);
    q = w_str(q, 0x5a, ev->ip, ev->ip_len);
    q = w_str(q, 0x62, ev->trace_id, sizeof ev->trace_id);
    q = w_client(q, ev);
    return w_tail(q, ev);
}

sl_err_t sl_playgen_pb(const sl_playgen_event *ev, int delimited, sl_buf *out)
{
    sl_err_t rc = sl_buf_reserve(out, SL_PLAYGEN_MAX_EVENT_BYTES);
    if (rc) return rc;
    uint8_t *start = out->p + out->len;
    if (!delimited) {
        out->len += (size_t)(w_event(start, ev) - start);
        return SL_OK;
    }
    uint8_t *end = w_event(start + 2, ev);
    size_t n = (size_t)(end - (start + 2)); /* < SL_PLAYGEN_MAX_EVENT_BYTES < 16384 */
    if (n < 128) {
        start[0] = (uint8_t)n;
        memmove(start + 1, start + 2, n);
        out->len += 1 + n;
    } else {
        start[0] = (uint8_t)(n | 0x80);
        start[1] = (uint8_t)(n >> 7);
        out->len += 2 + n;
    }
    return SL_OK;
}

/* ---- JSON ---- */

#define W_LIT(q, lit) (memcpy((q), (lit), sizeof(lit) - 1), (q) + sizeof(lit) - 1)

static inline uint8_t *w_dec(uint8_t *q, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *q++ = (uint8_t)tmp[--n];
    return q;
}

/* "..." of a string that needs no escaping (every generated string is
 * printable ASCII without quotes or backslashes). */
static inline uint8_t *w_jstr(uint8_t *q, const char *s, size_t n)
{
    *q++ = '"';
    memcpy(q, s, n);
    q += n;
    *q++ = '"';
    return q;
}

/* Python's repr of round(x, 4): shortest round-trip, at least one decimal. */
static uint8_t *w_progress(uint8_t *q, uint16_t e4)
{
    if (e4 >= 10000) return W_LIT(q, "1.0");
    *q++ = '0';
    *q++ = '.';
    char d[4] = {(char)('0' + e4 / 1000), (char)('0' + e4 / 100 % 10), (char)('0' + e4 / 10 % 10),
                 (char)('0' + e4 % 10)};
    int n = 4;
    while (n > 1 && d[n - 1] == '0')
        n--;
    memcpy(q, d, (size_t)n);
    return q + n;
}

static uint8_t *w_json_tail(uint8_t *q, const sl_playgen_event *ev)
{
    q = W_LIT(q, ",\"tags\":[");
    for (uint32_t k = 0; k < ev->n_tags; k++) {
        if (k) *q++ = ',';
        q = w_jstr(q, ev->tags[k], ev->tag_len[k]);
    }
    q = W_LIT(q, "],\"ext\":{");
    for (uint32_t k = 0; k < ev->n_ext; k++) {
        if (k) *q++ = ',';
        *q++ = '"';
        *q++ = 'k';
        *q++ = (uint8_t)('0' + k);
        q = W_LIT(q, "\":\"v");
        q = w_dec(q, ev->ext_val[k]);
        *q++ = '"';
    }
    q = W_LIT(q, "},\"is_autoplay\":");
    q = ev->is_autoplay ? W_LIT(q, "true") : W_LIT(q, "false");
    q = W_LIT(q, ",\"quality\":");
    q = w_dec(q, ev->quality);
    q = W_LIT(q, ",\"recent_avids\":[");
    for (uint32_t k = 0; k < ev->n_recent; k++) {
        if (k) *q++ = ',';
        q = w_dec(q, (uint64_t)ev->recent_avids[k]);
    }
    return W_LIT(q, "]}\n");
}

sl_err_t sl_playgen_json(const sl_playgen_event *ev, sl_buf *out)
{
    sl_err_t rc = sl_buf_reserve(out, SL_PLAYGEN_MAX_EVENT_BYTES);
    if (rc) return rc;
    uint8_t *q = out->p + out->len;
    const pool_str *plat = &platform_names[ev->platform];
    q = W_LIT(q, "{\"log_id\":");
    q = w_jstr(q, ev->log_id, ev->log_id_len);
    q = W_LIT(q, ",\"event_time_ms\":");
    q = w_dec(q, (uint64_t)ev->event_time_ms);
    q = W_LIT(q, ",\"mid\":");
    q = w_dec(q, (uint64_t)ev->mid);
    q = W_LIT(q, ",\"up_mid\":");
    q = w_dec(q, (uint64_t)ev->up_mid);
    q = W_LIT(q, ",\"avid\":");
    q = w_dec(q, (uint64_t)ev->avid);
    q = W_LIT(q, ",\"cid\":");
    q = w_dec(q, (uint64_t)ev->cid);
    q = W_LIT(q, ",\"play_seconds\":");
    q = w_dec(q, (uint64_t)ev->play_seconds);
    q = W_LIT(q, ",\"progress\":");
    q = w_progress(q, ev->progress_e4);
    q = W_LIT(q, ",\"platform\":");
    q = w_jstr(q, plat->s, plat->len);
    q = W_LIT(q, ",\"buvid\":");
    q = w_jstr(q, ev->buvid, sizeof ev->buvid);
    q = W_LIT(q, ",\"ip\":");
    q = w_jstr(q, ev->ip, ev->ip_len);
    q = W_LIT(q, ",\"trace_id\":");
    q = w_jstr(q, ev->trace_id, sizeof ev->trace_id);
    q = W_LIT(q, ",\"client\":{\"app_version\":");
    q = w_jstr(q, ev->app_version, ev->app_version_len);
    q = W_LIT(q, ",\"os\":");
    q = w_jstr(q, ev->os, ev->os_len);
    q = W_LIT(q, ",\"network\":");
    q = w_jstr(q, ev->network, ev->network_len);
    q = W_LIT(q, ",\"screen_width\":");
    q = w_dec(q, (uint64_t)ev->screen_width);
    q = W_LIT(q, ",\"screen_height\":");
    q = w_dec(q, (uint64_t)ev->screen_height);
    *q++ = '}';
    q = w_json_tail(q, ev);
    out->len = (size_t)(q - out->p);
    return SL_OK;
}

/* ---- convenience ---- */

sl_err_t sl_playgen_append(sl_playgen *g, sl_playgen_format_t f, sl_buf *out)
{
    if (f != SL_PLAYGEN_PB_DELIMITED && f != SL_PLAYGEN_PB && f != SL_PLAYGEN_JSONL)
        return SL_ERR_INVALID;
    sl_err_t rc = sl_buf_reserve(out, SL_PLAYGEN_MAX_EVENT_BYTES);
    if (rc) return rc;
    sl_playgen_event ev;
    rc = sl_playgen_next(g, &ev);
    if (rc) return rc;
    /* room is reserved: the encoders below cannot fail */
    if (f == SL_PLAYGEN_JSONL) return sl_playgen_json(&ev, out);
    return sl_playgen_pb(&ev, f == SL_PLAYGEN_PB_DELIMITED, out);
}

sl_err_t sl_playgen_format_parse(const char *name, sl_playgen_format_t *f, sl_error *err)
{
    if (!strcmp(name, "pb-delimited"))
        *f = SL_PLAYGEN_PB_DELIMITED;
    else if (!strcmp(name, "pb"))
        *f = SL_PLAYGEN_PB;
    else if (!strcmp(name, "jsonl"))
        *f = SL_PLAYGEN_JSONL;
    else
        return sl_error_set(err, SL_ERR_INVALID, "format '%s': expected pb-delimited, pb or jsonl",
                            name);
    return SL_OK;
}
