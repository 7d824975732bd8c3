/* buf.c - slow path of sl_buf (growth). See buf.h. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

sl_err_t sl_buf_grow(sl_buf *b, size_t extra)
{
    if (extra > SL_BUF_MAX || b->len > SL_BUF_MAX - extra) return SL_ERR_LIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap) return SL_OK;
    size_t cap = b->cap ? b->cap + b->cap / 2 : 64;
    if (cap < need) cap = need;
    cap = (cap + 63) & ~(size_t)63;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return SL_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return SL_OK;
}

void sl_buf_free(sl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

sl_err_t sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return SL_ERR_INVALID;
    if ((size_t)n < sizeof small) return sl_buf_append(b, small, (size_t)n);
    sl_err_t rc = sl_buf_reserve(b, (size_t)n + 1); /* vsnprintf writes the NUL too */
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}
