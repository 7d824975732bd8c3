/* buf.c - slow path of sl_buf (growth). See buf.h. */
#include "core/buf.h"

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
