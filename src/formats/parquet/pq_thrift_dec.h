/* pq_thrift_dec.h - Thrift compact protocol reader for Parquet metadata
 * (private to the reader: pq_meta_dec.c uses it).
 *
 * Every read checks the bytes left (sl_pq_trd.end) and fails with
 * SL_ERR_CORRUPT naming the byte offset; collection sizes are bounded by
 * the bytes left (every element takes at least one byte); nesting is
 * bounded by SL_PQ_THRIFT_MAX_DEPTH, for skipped unknown fields too.
 * Decoded strings and arrays come from an arena with a byte limit, so a
 * hostile footer cannot make the decoder allocate more than that limit.
 */
#ifndef SL_PQ_THRIFT_DEC_H
#define SL_PQ_THRIFT_DEC_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SL_PQ_THRIFT_MAX_DEPTH 64

/* Compact protocol types (the low nibble of a field header). */
enum {
    SL_PQ_TT_STOP = 0,
    SL_PQ_TT_TRUE = 1,
    SL_PQ_TT_FALSE = 2,
    SL_PQ_TT_BYTE = 3,
    SL_PQ_TT_I16 = 4,
    SL_PQ_TT_I32 = 5,
    SL_PQ_TT_I64 = 6,
    SL_PQ_TT_DOUBLE = 7,
    SL_PQ_TT_BINARY = 8,
    SL_PQ_TT_LIST = 9,
    SL_PQ_TT_SET = 10,
    SL_PQ_TT_MAP = 11,
    SL_PQ_TT_STRUCT = 12
};

/* Bump allocator: zeroed, 16-byte aligned blocks; freed all at once.
 * Allocation fails (NULL) past `limit` bytes in total. */
typedef struct sl_pq_arena sl_pq_arena;
sl_pq_arena *sl_pq_arena_new(size_t limit);
void *sl_pq_arena_alloc(sl_pq_arena *a, size_t n);
size_t sl_pq_arena_total(const sl_pq_arena *a);
void sl_pq_arena_free(sl_pq_arena *a); /* NULL is fine */

/* A reader over [p, end); base is where byte offsets in errors count from. */
typedef struct sl_pq_trd {
    const uint8_t *p, *end, *base;
    int depth;
    sl_pq_arena *a; /* for strings and arrays; may be NULL if none are read */
    sl_error *err;
} sl_pq_trd;

static inline size_t sl_pq_trd_left(const sl_pq_trd *t)
{
    return (size_t)(t->end - t->p);
}
static inline int sl_pq_trd_is_bool(int type)
{
    return type == SL_PQ_TT_TRUE || type == SL_PQ_TT_FALSE;
}
/* A bool field's value rides in its header type. */
static inline int8_t sl_pq_trd_bool(int type)
{
    return type == SL_PQ_TT_TRUE ? 1 : 0;
}

/* SL_ERR_CORRUPT "<what> at byte N". */
sl_err_t sl_pq_trd_bad(sl_pq_trd *t, const char *what);
/* SL_ERR_CORRUPT "<st> has no <field> (a required field)". */
sl_err_t sl_pq_trd_missing(sl_pq_trd *t, const char *st, const char *field);
/* Arena memory; SL_ERR_LIMIT past the arena's limit. */
sl_err_t sl_pq_trd_alloc(sl_pq_trd *t, size_t n, void **out) SL_MUST_CHECK;

sl_err_t sl_pq_trd_u8(sl_pq_trd *t, uint8_t *v) SL_MUST_CHECK;
sl_err_t sl_pq_trd_varint(sl_pq_trd *t, uint64_t *v) SL_MUST_CHECK;
sl_err_t sl_pq_trd_i64(sl_pq_trd *t, int64_t *v) SL_MUST_CHECK;
sl_err_t sl_pq_trd_i32(sl_pq_trd *t, int32_t *v) SL_MUST_CHECK; /* range-checked */
/* Binary: points into the input. */
sl_err_t sl_pq_trd_bin(sl_pq_trd *t, const uint8_t **p, uint32_t *len) SL_MUST_CHECK;
/* String: copied into the arena, NUL-terminated. */
sl_err_t sl_pq_trd_str(sl_pq_trd *t, const char **s) SL_MUST_CHECK;
/* Field header (delta or long form); *type SL_PQ_TT_STOP ends a struct. */
sl_err_t sl_pq_trd_field(sl_pq_trd *t, int16_t *last, int *type, int16_t *id) SL_MUST_CHECK;
/* List/set header; *count <= bytes left. */
sl_err_t sl_pq_trd_list(sl_pq_trd *t, int *etype, int32_t *count) SL_MUST_CHECK;
/* One nesting level deeper (the caller decrements t->depth on the way out). */
sl_err_t sl_pq_trd_enter(sl_pq_trd *t) SL_MUST_CHECK;
/* Skip one value of any type; in_coll: inside a collection (booleans are a
 * byte there, and nothing as fields). */
sl_err_t sl_pq_trd_skip(sl_pq_trd *t, int type, int in_coll) SL_MUST_CHECK;

#endif
