/* err.c - error detail formatting. See err.h. */
#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Append a then b to msg (which holds len bytes), truncating at
 * SL_ERRMSG_MAX - 1. */
static void append(char *msg, size_t len, const char *a, const char *b)
{
    for (const char *s = a; *s && len < SL_ERRMSG_MAX - 1; s++)
        msg[len++] = *s;
    for (const char *s = b; *s && len < SL_ERRMSG_MAX - 1; s++)
        msg[len++] = *s;
    msg[len] = '\0';
}

const char *sl_err_name(sl_err_t code)
{
    switch (code) {
    case SL_OK:
        return "SL_OK";
    case SL_ERR_NOMEM:
        return "SL_ERR_NOMEM";
    case SL_ERR_IO:
        return "SL_ERR_IO";
    case SL_ERR_INVALID:
        return "SL_ERR_INVALID";
    case SL_ERR_CORRUPT:
        return "SL_ERR_CORRUPT";
    case SL_ERR_UNSUPPORTED:
        return "SL_ERR_UNSUPPORTED";
    case SL_ERR_LIMIT:
        return "SL_ERR_LIMIT";
    case SL_ERR_NOTFOUND:
        return "SL_ERR_NOTFOUND";
    case SL_ERR_SCHEMA:
        return "SL_ERR_SCHEMA";
    case SL_ERR_EOF:
        return "SL_ERR_EOF";
    }
    return "SL_ERR_UNKNOWN";
}

const char *sl_err_text(sl_err_t code)
{
    switch (code) {
    case SL_OK:
        return "success";
    case SL_ERR_NOMEM:
        return "out of memory";
    case SL_ERR_IO:
        return "I/O error";
    case SL_ERR_INVALID:
        return "invalid argument";
    case SL_ERR_CORRUPT:
        return "malformed input";
    case SL_ERR_UNSUPPORTED:
        return "not supported";
    case SL_ERR_LIMIT:
        return "limit exceeded";
    case SL_ERR_NOTFOUND:
        return "not found";
    case SL_ERR_SCHEMA:
        return "schema error";
    case SL_ERR_EOF:
        return "end of input";
    }
    return "unknown error";
}

sl_err_t sl_error_set(sl_error *e, sl_err_t code, const char *fmt, ...)
{
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    e->retriable = 0;
    return code;
}

sl_err_t sl_error_errno(sl_error *e, int errno_value, const char *fmt, ...)
{
    if (!e) return SL_ERR_IO;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof e->msg) append(e->msg, (size_t)n, ": ", strerror(errno_value));
    e->code = errno_value == ENOMEM ? SL_ERR_NOMEM : SL_ERR_IO;
    e->retriable = errno_value == EINTR || errno_value == EAGAIN || errno_value == ENOSPC ||
                   errno_value == EDQUOT || errno_value == ETIMEDOUT;
    return e->code;
}

sl_err_t sl_error_prefix(sl_error *e, const char *fmt, ...)
{
    if (!e) return SL_ERR_INVALID;
    char old[SL_ERRMSG_MAX];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof e->msg && old[0]) append(e->msg, (size_t)n, ": ", old);
    return e->code;
}
