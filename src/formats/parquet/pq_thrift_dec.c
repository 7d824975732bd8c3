/* pq_thrift_dec.c - Thrift compact protocol reader. See pq_thrift_dec.h.
 *
 * The compact protocol, as read here:
 *   field header  1 byte: high nibble = field id delta (1..15) from the
 *                 previous field of the same struct, low nibble = type; a
 *                 zero delta is followed by the id as a zigzag varint;
 *                 type 0 = STOP ends the struct. BOOLEAN fields carry their
 *                 value in the type nibble (1 true, 2 false).
 *   i16/i32/i64   zigzag varints; i8 one byte; double 8 bytes LE;
 *   binary        varint length + bytes;
 *   list/set      1 byte (size << 4 | element type), size 15 meaning a
 *                 varint size follows; booleans inside are 1 byte each;
 *   map           varint size, then (if size > 0) 1 byte key<<4|value type.
 *
 * Skipping recurses once per nesting level (bounded by
 * SL_PQ_THRIFT_MAX_DEPTH) and loops over collection elements, so its cost
 * is linear in the bytes skipped. The arena grows in 64 KiB chunks (or one
 * chunk per larger block); its limit is checked before each chunk.
 */
#include "formats/parquet/pq_thrift_dec.h"

#include <stdlib.h>
#include <string.h>

#define SL_PQ_ARENA_CHUNK ((size_t)64 << 10)

typedef struct sl_pq_arena_chunk {
    struct sl_pq_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} sl_pq_arena_chunk;

struct sl_pq_arena {
    sl_pq_arena_chunk *head;
    size_t total, limit;
};

sl_pq_arena *sl_pq_arena_new(size_t limit)
{
    sl_pq_arena *a = calloc(1, sizeof *a);
    if (a) a->limit = limit;
    return a;
}

size_t sl_pq_arena_total(const sl_pq_arena *a)
{
    return a->total;
}

void *sl_pq_arena_alloc(sl_pq_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!n) n = 16;
    sl_pq_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > SL_PQ_ARENA_CHUNK ? n : SL_PQ_ARENA_CHUNK;
        if (cap > a->limit - a->total) return NULL;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
        a->total += cap;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void sl_pq_arena_free(sl_pq_arena *a)
{
    if (!a) return;
    for (sl_pq_arena_chunk *c = a->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    free(a);
}

/* ---- protocol reader ---- */

sl_err_t sl_pq_trd_bad(sl_pq_trd *t, const char *what)
{
    return sl_error_set(t->err, SL_ERR_CORRUPT, "%s at byte %zu of the Thrift data", what,
                        (size_t)(t->p - t->base));
}

sl_err_t sl_pq_trd_alloc(sl_pq_trd *t, size_t n, void **out)
{
    *out = sl_pq_arena_alloc(t->a, n);
    if (*out) return SL_OK;
    if (t->a->total + n > t->a->limit)
        return sl_error_set(t->err, SL_ERR_LIMIT,
                            "metadata would decode to more than %zu bytes, far more than its "
                            "size: the footer is corrupt",
                            t->a->limit);
    return sl_error_set(t->err, SL_ERR_NOMEM, "out of memory decoding Parquet metadata");
}

sl_err_t sl_pq_trd_u8(sl_pq_trd *t, uint8_t *v)
{
    if (t->p >= t->end) return sl_pq_trd_bad(t, "truncated data");
    *v = *t->p++;
    return SL_OK;
}

sl_err_t sl_pq_trd_varint(sl_pq_trd *t, uint64_t *v)
{
    if (sl_varint_get(&t->p, t->end, v)) return sl_pq_trd_bad(t, "truncated or overlong varint");
    return SL_OK;
}

sl_err_t sl_pq_trd_i64(sl_pq_trd *t, int64_t *v)
{
    uint64_t u;
    sl_err_t rc = sl_pq_trd_varint(t, &u);
    if (!rc) *v = sl_zigzag_dec64(u);
    return rc;
}

sl_err_t sl_pq_trd_i32(sl_pq_trd *t, int32_t *v)
{
    int64_t x;
    sl_err_t rc = sl_pq_trd_i64(t, &x);
    if (rc) return rc;
    if (x < INT32_MIN || x > INT32_MAX) return sl_pq_trd_bad(t, "i32 value out of range");
    *v = (int32_t)x;
    return SL_OK;
}

sl_err_t sl_pq_trd_bin(sl_pq_trd *t, const uint8_t **p, uint32_t *len)
{
    uint64_t n;
    sl_err_t rc = sl_pq_trd_varint(t, &n);
    if (rc) return rc;
    if (n > sl_pq_trd_left(t) || n > UINT32_MAX)
        return sl_pq_trd_bad(t, "binary length past the end");
    *p = t->p;
    *len = (uint32_t)n;
    t->p += n;
    return SL_OK;
}

sl_err_t sl_pq_trd_str(sl_pq_trd *t, const char **s)
{
    const uint8_t *p;
    uint32_t n;
    char *c;
    sl_err_t rc = sl_pq_trd_bin(t, &p, &n);
    if (!rc) rc = sl_pq_trd_alloc(t, (size_t)n + 1, (void **)&c);
    if (rc) return rc;
    memcpy(c, p, n);
    c[n] = '\0';
    *s = c;
    return SL_OK;
}

/* Field header. *type 0 = STOP. */
sl_err_t sl_pq_trd_field(sl_pq_trd *t, int16_t *last, int *type, int16_t *id)
{
    uint8_t b = 0;
    sl_err_t rc = sl_pq_trd_u8(t, &b);
    if (rc) return rc;
    *type = b & 0x0f;
    if (*type == SL_PQ_TT_STOP) return SL_OK;
    if (b >> 4) {
        *id = (int16_t)(*last + (b >> 4));
    } else {
        int32_t x;
        if ((rc = sl_pq_trd_i32(t, &x))) return rc;
        if (x < INT16_MIN || x > INT16_MAX) return sl_pq_trd_bad(t, "field id out of range");
        *id = (int16_t)x;
    }
    *last = *id;
    return SL_OK;
}

sl_err_t sl_pq_trd_list(sl_pq_trd *t, int *etype, int32_t *count)
{
    uint8_t b = 0;
    sl_err_t rc = sl_pq_trd_u8(t, &b);
    if (rc) return rc;
    *etype = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15 && (rc = sl_pq_trd_varint(t, &n))) return rc;
    if (n > sl_pq_trd_left(t) || n > INT32_MAX)
        return sl_pq_trd_bad(t, "list size larger than the data left");
    *count = (int32_t)n;
    return SL_OK;
}

sl_err_t sl_pq_trd_enter(sl_pq_trd *t)
{
    if (++t->depth > SL_PQ_THRIFT_MAX_DEPTH)
        return sl_pq_trd_bad(t, "structures nested too deeply");
    return SL_OK;
}

/* Skip one value of a type. in_coll: booleans inside a list/set/map take a
 * byte, as fields they take none. */
sl_err_t sl_pq_trd_skip(sl_pq_trd *t, int type, int in_coll)
{
    uint64_t u;
    const uint8_t *p;
    uint32_t n;
    sl_err_t rc = SL_OK;
    switch (type) {
    case SL_PQ_TT_TRUE:
    case SL_PQ_TT_FALSE:
        if (!in_coll) return SL_OK;
        if (!sl_pq_trd_left(t)) return sl_pq_trd_bad(t, "truncated data");
        t->p++;
        return SL_OK;
    case SL_PQ_TT_BYTE:
        return sl_pq_trd_left(t) >= 1 ? (t->p++, SL_OK) : sl_pq_trd_bad(t, "truncated data");
    case SL_PQ_TT_I16:
    case SL_PQ_TT_I32:
    case SL_PQ_TT_I64:
        return sl_pq_trd_varint(t, &u);
    case SL_PQ_TT_DOUBLE:
        return sl_pq_trd_left(t) >= 8 ? (t->p += 8, SL_OK) : sl_pq_trd_bad(t, "truncated double");
    case SL_PQ_TT_BINARY:
        return sl_pq_trd_bin(t, &p, &n);
    case SL_PQ_TT_LIST:
    case SL_PQ_TT_SET: {
        int et;
        int32_t cnt;
        if ((rc = sl_pq_trd_list(t, &et, &cnt)) || (rc = sl_pq_trd_enter(t))) return rc;
        for (int32_t i = 0; i < cnt && !rc; i++)
            rc = sl_pq_trd_skip(t, et, 1);
        t->depth--;
        return rc;
    }
    case SL_PQ_TT_MAP: {
        uint8_t kv = 0;
        if ((rc = sl_pq_trd_varint(t, &u))) return rc;
        if (u == 0) return SL_OK;
        if (u > sl_pq_trd_left(t) / 2)
            return sl_pq_trd_bad(t, "map size larger than the data left");
        if ((rc = sl_pq_trd_u8(t, &kv)) || (rc = sl_pq_trd_enter(t))) return rc;
        for (uint64_t i = 0; i < u && !rc; i++) {
            rc = sl_pq_trd_skip(t, kv >> 4, 1);
            if (!rc) rc = sl_pq_trd_skip(t, kv & 0x0f, 1);
        }
        t->depth--;
        return rc;
    }
    case SL_PQ_TT_STRUCT: {
        int16_t last = 0, id;
        int ft;
        if ((rc = sl_pq_trd_enter(t))) return rc;
        for (;;) {
            if ((rc = sl_pq_trd_field(t, &last, &ft, &id))) return rc;
            if (ft == SL_PQ_TT_STOP) break;
            if ((rc = sl_pq_trd_skip(t, ft, 0))) return rc;
        }
        t->depth--;
        return SL_OK;
    }
    default:
        return sl_pq_trd_bad(t, "unknown Thrift type");
    }
}

sl_err_t sl_pq_trd_missing(sl_pq_trd *t, const char *st, const char *field)
{
    return sl_error_set(t->err, SL_ERR_CORRUPT, "%s has no %s (a required field) at byte %zu", st,
                        field, (size_t)(t->p - t->base));
}
