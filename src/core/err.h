/* err.h - error codes and error detail for every sluice module.
 *
 * Design (after librdkafka): functions return an sl_err_t (0 = SL_OK,
 * negative = failure) and, when the caller passes an sl_error, write the
 * detail there: a message that names the context (file, stream, record
 * index, byte offset, column, row group) and says what to do, plus whether
 * retrying could help. Callers add outer context with sl_error_prefix(), so
 * the innermost code says what was wrong and the outer code says where:
 *
 *     input events.pb: record 12 at byte 4501: field 7 (play_seconds):
 *     truncated varint
 *
 * An sl_error is a fixed-size struct (no allocation), so reporting an error
 * can never fail. Messages longer than SL_ERRMSG_MAX are truncated.
 */
#ifndef SL_CORE_ERR_H
#define SL_CORE_ERR_H

#include <stddef.h>

#define SL_ERRMSG_MAX 512

typedef enum sl_err {
    SL_OK = 0,
    SL_ERR_NOMEM = -1,       /* allocation failed */
    SL_ERR_IO = -2,          /* read/write/fsync/rename failed (errno text in msg) */
    SL_ERR_INVALID = -3,     /* bad argument, option or configuration */
    SL_ERR_CORRUPT = -4,     /* malformed input data (record, file) */
    SL_ERR_UNSUPPORTED = -5, /* well-formed but not supported by sluice */
    SL_ERR_LIMIT = -7,       /* a configured or built-in bound was exceeded */
    SL_ERR_NOTFOUND = -8,    /* named thing (message, field, file) does not exist */
    SL_ERR_SCHEMA = -9,      /* schema cannot be compiled or does not fit the data */
    SL_ERR_EOF = -10,        /* clean end of input (not a failure for readers) */
} sl_err_t;

typedef struct sl_error {
    sl_err_t code;
    int retriable; /* 1: the same call may succeed later (I/O, broker) */
    char msg[SL_ERRMSG_MAX];
} sl_error;

#if defined(__GNUC__)
#define SL_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#define SL_MUST_CHECK    __attribute__((warn_unused_result))
#define SL_LIKELY(x)     __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x)   __builtin_expect(!!(x), 0)
#define SL_ALWAYS_INLINE inline __attribute__((always_inline)) /* per-value hot paths */
#else
#define SL_PRINTF(f, a)
#define SL_MUST_CHECK
#define SL_LIKELY(x)     (x)
#define SL_UNLIKELY(x)   (x)
#define SL_ALWAYS_INLINE inline
#endif

/* Name of a code ("SL_ERR_CORRUPT") and a short text ("malformed input"). */
const char *sl_err_name(sl_err_t code);
const char *sl_err_text(sl_err_t code);

/* Set code and message; returns code so callers can `return sl_error_set(...)`.
 * e may be NULL (the code is still returned). */
sl_err_t sl_error_set(sl_error *e, sl_err_t code, const char *fmt, ...) SL_PRINTF(3, 4);

/* Like sl_error_set, appending ": strerror(errno_value)". Marks retriable
 * for EINTR/EAGAIN/ENOSPC-like transient errors. */
sl_err_t sl_error_errno(sl_error *e, int errno_value, const char *fmt, ...) SL_PRINTF(3, 4);

/* Prepend outer context: "<prefix>: <old message>". Keeps code. Returns code. */
sl_err_t sl_error_prefix(sl_error *e, const char *fmt, ...) SL_PRINTF(2, 3);

static inline void sl_error_clear(sl_error *e)
{
    if (e) {
        e->code = SL_OK;
        e->retriable = 0;
        e->msg[0] = '\0';
    }
}

#endif
