/* buf.h - growable byte buffer, the one byte container of sluice.
 *
 * A buffer is {p, len, cap}. Appends grow the capacity geometrically
 * (x1.5, rounded up), so n appends cost O(n) amortized; the hot appends are
 * static inline and do one compare on the fast path. Growth is checked for
 * size_t overflow and bounded by SL_BUF_MAX (4 GiB): no buffer is ever sized
 * by untrusted input without that bound. sl_buf_reset keeps the memory
 * (batches reuse it record after record); sl_buf_free releases it.
 *
 * On failure an append returns SL_ERR_NOMEM (or SL_ERR_LIMIT past the bound)
 * and leaves the buffer exactly as it was.
 */
#ifndef SL_CORE_BUF_H
#define SL_CORE_BUF_H

#include <stdint.h>
#include <string.h>

#include "core/err.h"

#define SL_BUF_MAX ((size_t)1 << 32)

typedef struct sl_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} sl_buf;

#define SL_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Make room for `extra` more bytes beyond len. Slow path of every append. */
sl_err_t sl_buf_grow(sl_buf *b, size_t extra) SL_MUST_CHECK;
void sl_buf_free(sl_buf *b);
/* Append printf-formatted text (no NUL). On failure the buffer is unchanged. */
sl_err_t sl_buf_printf(sl_buf *b, const char *fmt, ...) SL_PRINTF(2, 3) SL_MUST_CHECK;
static inline void sl_buf_reset(sl_buf *b)
{
    b->len = 0;
}

static inline sl_err_t SL_MUST_CHECK sl_buf_reserve(sl_buf *b, size_t extra)
{
    if (SL_LIKELY(b->cap - b->len >= extra)) return SL_OK;
    return sl_buf_grow(b, extra);
}

static inline sl_err_t SL_MUST_CHECK sl_buf_append(sl_buf *b, const void *src, size_t n)
{
    sl_err_t rc = sl_buf_reserve(b, n);
    if (SL_UNLIKELY(rc)) return rc;
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
    return SL_OK;
}

static inline sl_err_t SL_MUST_CHECK sl_buf_put_u8(sl_buf *b, uint8_t v)
{
    sl_err_t rc = sl_buf_reserve(b, 1);
    if (SL_UNLIKELY(rc)) return rc;
    b->p[b->len++] = v;
    return SL_OK;
}

/* Little-endian fixed-width appends (Parquet PLAIN, protobuf fixed32/64). */
static inline sl_err_t SL_MUST_CHECK sl_buf_put_le32(sl_buf *b, uint32_t v)
{
    sl_err_t rc = sl_buf_reserve(b, 4);
    if (SL_UNLIKELY(rc)) return rc;
    memcpy(b->p + b->len, &v, 4); /* sluice builds only for little-endian hosts */
    b->len += 4;
    return SL_OK;
}

static inline sl_err_t SL_MUST_CHECK sl_buf_put_le64(sl_buf *b, uint64_t v)
{
    sl_err_t rc = sl_buf_reserve(b, 8);
    if (SL_UNLIKELY(rc)) return rc;
    memcpy(b->p + b->len, &v, 8);
    b->len += 8;
    return SL_OK;
}

/* Unsigned LEB128 varint (protobuf, Thrift compact). At most 10 bytes. */
static inline sl_err_t SL_MUST_CHECK sl_buf_put_varint(sl_buf *b, uint64_t v)
{
    sl_err_t rc = sl_buf_reserve(b, 10);
    if (SL_UNLIKELY(rc)) return rc;
    uint8_t *q = b->p + b->len;
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q++ = (uint8_t)v;
    b->len = (size_t)(q - b->p);
    return SL_OK;
}

/* Decode one varint from [*pp, end). On success advances *pp and returns 0;
 * returns -1 if the input ends first or the varint is longer than 10 bytes
 * (then *pp is unchanged). */
static inline int sl_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t sl_zigzag_enc64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t sl_zigzag_dec64(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
