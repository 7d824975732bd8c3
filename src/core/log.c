/* log.c - structured log lines (see log.h for the design).
 *
 * A line is rendered into a fixed stack buffer (SL_LOG_LINE_MAX; longer
 * values are cut and marked with "..."), so logging never allocates and
 * cannot fail. Rate-limit slots are a small open-addressed table keyed by
 * the message's address and level: at most SL_LOG_SLOTS distinct limited
 * messages are tracked; past that, new ones are simply not limited. Each
 * slot keeps the rendered fields of its latest suppressed event for the
 * `repeated=N` line.
 */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SL_LOG_LINE_MAX 4096
#define SL_LOG_SLOTS    128
#define SL_LOG_GLOBALS  4

typedef struct slot {
    const char *msg; /* NULL: free */
    sl_log_level lvl;
    int64_t window_start;
    int in_window;     /* lines written in this window */
    long long dropped; /* suppressed in this window */
    char last[1024];   /* rendered fields of the latest suppressed event */
} slot;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sl_log_level g_min = SL_LOG_INFO;
static sl_log_format g_fmt = SL_LOG_LOGFMT;
static int g_fd = -1;
static struct {
    char key[32];
    char value[160];
} g_globals[SL_LOG_GLOBALS];
static int g_n_globals;
static slot g_slots[SL_LOG_SLOTS];
static int g_burst = SL_LOG_BURST, g_window_ms = SL_LOG_WINDOW_MS;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* ---- a bounded line buffer ---- */

typedef struct line {
    char *p;
    size_t len, cap; /* cap excludes the room kept for "...\n" */
} line;

static void put(line *l, const char *s, size_t n)
{
    if (l->len + n > l->cap) n = l->cap - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void puts_(line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void putc_(line *l, char c)
{
    if (l->len < l->cap) l->p[l->len++] = c;
}

/* logfmt needs quotes around empty values and values with a space, '=',
 * '"' or anything outside printable ASCII */
static int needs_quotes(const char *s)
{
    if (!*s) return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f) return 1;
    return 0;
}

/* Escape s as the inside of a quoted string: \" \\ \n \r \t, other control
 * characters \u00XX. Bytes >= 0x80 are kept (UTF-8 passes through). */
static void put_escaped(line *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            puts_(l, "\\\"");
            break;
        case '\\':
            puts_(l, "\\\\");
            break;
        case '\n':
            puts_(l, "\\n");
            break;
        case '\r':
            puts_(l, "\\r");
            break;
        case '\t':
            puts_(l, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(l, esc);
            } else
                putc_(l, (char)*p);
        }
    }
}

static void put_str_value(line *l, const char *s)
{
    if (g_fmt == SL_LOG_JSON) {
        if (!s) {
            puts_(l, "null");
            return;
        }
        putc_(l, '"');
        put_escaped(l, s);
        putc_(l, '"');
        return;
    }
    if (!s) s = "";
    if (!needs_quotes(s)) {
        puts_(l, s);
        return;
    }
    putc_(l, '"');
    put_escaped(l, s);
    putc_(l, '"');
}

static void put_key(line *l, const char *k, int first)
{
    if (g_fmt == SL_LOG_JSON) {
        if (!first) putc_(l, ',');
        putc_(l, '"');
        put_escaped(l, k);
        puts_(l, "\":");
    } else {
        if (!first) putc_(l, ' ');
        puts_(l, k);
        putc_(l, '=');
    }
}

static void put_field(line *l, const sl_log_field *f)
{
    char num[64];
    put_key(l, f->key, 0);
    switch (f->type) {
    case SL_LF_INT:
        snprintf(num, sizeof num, "%lld", f->v.i);
        puts_(l, num);
        break;
    case SL_LF_DBL:
        if (f->v.d != f->v.d || f->v.d > 1e308 || f->v.d < -1e308) /* NaN, inf: not JSON */
            put_str_value(l, f->v.d != f->v.d ? "NaN" : f->v.d > 0 ? "+Inf" : "-Inf");
        else {
            snprintf(num, sizeof num, "%.6g", f->v.d);
            puts_(l, num);
        }
        break;
    default:
        put_str_value(l, f->v.s);
    }
}

static void put_fields(line *l, const sl_log_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_field(l, &f[i]);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The line up to and including msg (caller holds g_mu). */
static void put_head(line *l, sl_log_level lvl, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char tbuf[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tbuf, sizeof tbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    if (g_fmt == SL_LOG_JSON) putc_(l, '{');
    put_key(l, "ts", 1);
    put_str_value(l, tbuf);
    put_key(l, "level", 0);
    put_str_value(l, level_names[lvl]);
    for (int i = 0; i < g_n_globals; i++) {
        put_key(l, g_globals[i].key, 0);
        put_str_value(l, g_globals[i].value);
    }
    put_key(l, "msg", 0);
    put_str_value(l, msg);
}

/* Close the line; a cut logfmt line ends in " ..." (JSON is never cut: see emit). */
static void finish(line *l, int truncated)
{
    l->cap += 8; /* the room kept for the end */
    if (truncated) puts_(l, " ...");
    if (g_fmt == SL_LOG_JSON) putc_(l, '}');
    putc_(l, '\n');
}

static void write_line(const line *l)
{
    int fd = g_fd >= 0 ? g_fd : 2;
    const char *p = l->p;
    size_t n = l->len;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere to report it */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Render and write one event (caller holds g_mu). extra: pre-rendered
 * fields (a rate-limit summary), or NULL. */
static void emit(sl_log_level lvl, const char *msg, const sl_log_field *f, size_t n,
                 const char *extra, long long repeated)
{
    char buf[SL_LOG_LINE_MAX];
    line l = {buf, 0, SL_LOG_LINE_MAX - 8};
    put_head(&l, lvl, msg);
    if (extra) puts_(&l, extra);
    put_fields(&l, f, n);
    if (repeated) {
        sl_log_field r = SL_F_INT("repeated", repeated);
        put_field(&l, &r);
        sl_log_field w = SL_F_DBL("window_s", g_window_ms / 1000.0);
        put_field(&l, &w);
    }
    int truncated = l.len >= l.cap;
    if (truncated && g_fmt == SL_LOG_JSON) {
        /* a JSON line must stay valid: write the head and say it was cut */
        l.len = 0;
        put_head(&l, lvl, msg);
        sl_log_field t = SL_F_STR("truncated", "fields longer than the line limit");
        put_field(&l, &t);
        truncated = 0;
    }
    finish(&l, truncated);
    write_line(&l);
}

static slot *find_slot(const char *msg, sl_log_level lvl, int create)
{
    uintptr_t h = ((uintptr_t)msg >> 3) * 2654435761u + (uintptr_t)lvl;
    for (int i = 0; i < SL_LOG_SLOTS; i++) {
        slot *s = &g_slots[(h + (uintptr_t)i) % SL_LOG_SLOTS];
        if (s->msg == msg && s->lvl == lvl) return s;
        if (!s->msg) {
            if (!create) return NULL;
            s->msg = msg;
            s->lvl = lvl;
            return s;
        }
    }
    return NULL;
}

static void flush_slot(slot *s)
{
    if (s->dropped) emit(s->lvl, s->msg, NULL, 0, s->last, s->dropped);
    s->dropped = 0;
    s->in_window = 0;
    s->last[0] = '\0';
}

void sl_log_fields(sl_log_level lvl, const char *msg, const sl_log_field *f, size_t n)
{
    if (lvl < g_min || lvl > SL_LOG_ERROR) return;
    pthread_mutex_lock(&g_mu);
    slot *s = lvl >= SL_LOG_WARN ? find_slot(msg, lvl, 1) : NULL;
    if (s) {
        int64_t now = mono_ms();
        if (now - s->window_start >= g_window_ms) {
            flush_slot(s);
            s->window_start = now;
        }
        if (s->in_window >= g_burst) {
            line l = {s->last, 0, sizeof s->last - 1};
            put_fields(&l, f, n);
            s->last[l.len] = '\0';
            s->dropped++;
            pthread_mutex_unlock(&g_mu);
            return;
        }
        s->in_window++;
    }
    emit(lvl, msg, f, n, NULL, 0);
    pthread_mutex_unlock(&g_mu);
}

void sl_log_msg(sl_log_level lvl, const char *msg)
{
    sl_log_fields(lvl, msg, NULL, 0);
}

void sl_log_tick(void)
{
    pthread_mutex_lock(&g_mu);
    int64_t now = mono_ms();
    for (int i = 0; i < SL_LOG_SLOTS; i++) {
        slot *s = &g_slots[i];
        if (s->msg && s->dropped && now - s->window_start >= g_window_ms) {
            flush_slot(s);
            s->window_start = now;
        }
    }
    pthread_mutex_unlock(&g_mu);
}

void sl_log_configure(sl_log_level min, sl_log_format fmt)
{
    pthread_mutex_lock(&g_mu);
    g_min = min;
    g_fmt = fmt;
    /* the kept summaries were rendered in the old format */
    for (int i = 0; i < SL_LOG_SLOTS; i++)
        g_slots[i].last[0] = '\0';
    pthread_mutex_unlock(&g_mu);
}

int sl_log_enabled(sl_log_level lvl)
{
    return lvl >= g_min;
}

void sl_log_set_field(const char *key, const char *value)
{
    pthread_mutex_lock(&g_mu);
    int i = 0;
    while (i < g_n_globals && strcmp(g_globals[i].key, key))
        i++;
    if (!value) {
        if (i < g_n_globals) {
            memmove(&g_globals[i], &g_globals[i + 1],
                    (size_t)(g_n_globals - i - 1) * sizeof g_globals[0]);
            g_n_globals--;
        }
    } else if (i < g_n_globals || g_n_globals < SL_LOG_GLOBALS) {
        if (i == g_n_globals) g_n_globals++;
        snprintf(g_globals[i].key, sizeof g_globals[i].key, "%s", key);
        snprintf(g_globals[i].value, sizeof g_globals[i].value, "%s", value);
    }
    pthread_mutex_unlock(&g_mu);
}

void sl_log_set_limit(int burst, int window_ms)
{
    pthread_mutex_lock(&g_mu);
    g_burst = burst;
    g_window_ms = window_ms;
    pthread_mutex_unlock(&g_mu);
}

void sl_log_redirect(int fd)
{
    pthread_mutex_lock(&g_mu);
    g_fd = fd;
    pthread_mutex_unlock(&g_mu);
}

int sl_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, level_names[i])) return i;
    return -1;
}

int sl_log_format_parse(const char *s)
{
    if (!strcmp(s, "logfmt")) return SL_LOG_LOGFMT;
    if (!strcmp(s, "json")) return SL_LOG_JSON;
    return -1;
}
