/* log.h - structured logs: one line per event, logfmt or JSON, with levels,
 * and repeated warnings and errors rate-limited with a count.
 *
 * An event is a constant message plus typed fields:
 *
 *     SL_LOG(SL_LOG_WARN, "lake write failed; retrying from the last checkpoint",
 *            SL_F_STR("error", err.msg), SL_F_INT("retry_in_s", 4));
 *
 * becomes, in logfmt (the default),
 *
 *     ts=2026-12-07T04:25:33.123Z level=warn pipeline=plays msg="lake write
 *     failed; retrying from the last checkpoint" error="disk full" retry_in_s=4
 *
 * or, with format JSON, {"ts":...,"level":"warn","pipeline":"plays","msg":...}.
 * The message is a string literal on purpose: it is what operators grep and
 * alert on, and its address is the rate-limit key. Varying data goes into
 * fields, which are escaped for the format (quotes, backslashes, control
 * characters), so a value can never forge a field or break a line.
 *
 * Rate limit: per message (and level), warnings and errors beyond
 * SL_LOG_BURST lines in SL_LOG_WINDOW_MS are not written but counted; the
 * next line of that message after the window (or sl_log_tick, which the
 * runtime calls every second) writes the count as `repeated=N` with the
 * latest suppressed event's fields. Debug and info lines are not limited.
 *
 * Lines go to stderr with one write(2) each, so lines of threads and of
 * other processes sharing the stream never interleave. A mutex serializes
 * writers; logging is for events, never for the per-record hot path.
 * Global fields (sl_log_set_field: the pipeline name) start every line.
 */
#ifndef SL_CORE_LOG_H
#define SL_CORE_LOG_H

#include <stddef.h>

#include "core/err.h"

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO = 1,
    SL_LOG_WARN = 2,
    SL_LOG_ERROR = 3,
} sl_log_level;

typedef enum sl_log_format {
    SL_LOG_LOGFMT = 0,
    SL_LOG_JSON = 1,
} sl_log_format;

#define SL_LOG_BURST     5
#define SL_LOG_WINDOW_MS 10000

typedef struct sl_log_field {
    const char *key;
    enum { SL_LF_STR, SL_LF_INT, SL_LF_DBL } type;
    union {
        const char *s; /* NULL is written as null (JSON) or an empty value */
        long long i;
        double d;
    } v;
} sl_log_field;

#define SL_F_STR(k, x) ((sl_log_field){.key = (k), .type = SL_LF_STR, .v.s = (x)})
#define SL_F_INT(k, x) ((sl_log_field){.key = (k), .type = SL_LF_INT, .v.i = (long long)(x)})
#define SL_F_DBL(k, x) ((sl_log_field){.key = (k), .type = SL_LF_DBL, .v.d = (double)(x)})

/* An event with one or more fields; sl_log_msg for none. */
#define SL_LOG(lvl, msg, ...)                                                                      \
    sl_log_fields((lvl), (msg), (const sl_log_field[]){__VA_ARGS__},                               \
                  sizeof((const sl_log_field[]){__VA_ARGS__}) / sizeof(sl_log_field))

void sl_log_fields(sl_log_level lvl, const char *msg, const sl_log_field *f, size_t n);
void sl_log_msg(sl_log_level lvl, const char *msg);

/* Settings (process-wide; defaults info and logfmt). Safe at any time. */
void sl_log_configure(sl_log_level min, sl_log_format fmt);
int sl_log_enabled(sl_log_level lvl);
/* A field written first on every line (at most 4; value copied, NULL
 * removes it). */
void sl_log_set_field(const char *key, const char *value);
/* The rate limit: at most `burst` lines per message in `window_ms`
 * (defaults SL_LOG_BURST, SL_LOG_WINDOW_MS). */
void sl_log_set_limit(int burst, int window_ms);
/* Write the counts of messages whose window has ended. */
void sl_log_tick(void);
/* Send lines to fd instead of stderr (tests); -1 restores stderr. */
void sl_log_redirect(int fd);

/* "debug" ... "error" -> level, "logfmt"/"json" -> format; -1 when unknown. */
int sl_log_level_parse(const char *s);
int sl_log_format_parse(const char *s);

#endif
