/* col.h - column builders: the in-memory columnar batch every decoder fills.
 *
 * A batch holds up to a few thousand rows of one schema as one builder per
 * leaf column. A builder is Dremel-shredded data, ready for a Parquet page:
 *
 *   def[i], rep[i]  one entry per slot (value or null), i < n. def/rep are
 *                   only stored when the column's max_def/max_rep > 0
 *                   (otherwise every slot is a present value at level 0).
 *   val             the non-null values, packed: 1 byte per BOOLEAN (0/1),
 *                   4 per INT32/FLOAT, 8 per INT64/DOUBLE; for BYTE_ARRAY the
 *                   concatenated bytes, with off[0..nvals] delimiting value j
 *                   as val.p[off[j] .. off[j+1]).
 *
 * A slot is a value when def == max_def, else a null (or an empty list /
 * absent ancestor) at that level. rep == 0 starts a new row, so nrows equals
 * the number of rep == 0 slots of any column.
 *
 * Memory is reused: sl_batch_reset empties every builder but keeps the
 * capacity, so a steady stream of batches allocates nothing. Appends are
 * static inline; the slow path (growth) is out of line. On NOMEM an append
 * returns SL_ERR_NOMEM and the builder is unchanged.
 *
 * sl_batch_mark/sl_batch_rollback undo a partly written record (a decoder
 * that finds an error halfway through a record leaves no trace of it).
 */
#ifndef SL_CORE_COL_H
#define SL_CORE_COL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/schema.h"

typedef struct sl_col {
    const sl_schema *schema;
    int32_t node; /* schema node index of this leaf */
    uint8_t type; /* sl_ptype_t */
    int16_t max_def, max_rep;
    size_t n;     /* slots (level entries) */
    size_t nvals; /* non-null values */
    uint8_t *def, *rep;
    size_t lvl_cap;
    sl_buf val;
    uint32_t *off; /* BYTE_ARRAY: nvals + 1 offsets into val */
    size_t off_cap;
} sl_col;

typedef struct sl_batch {
    const sl_schema *schema;
    sl_col *cols;
    int32_t ncols;
    size_t nrows;
} sl_batch;

typedef struct sl_batch_mark_t {
    size_t nrows;
    size_t *n, *nvals, *vlen; /* per column, owned by the batch */
} sl_batch_mark_t;

/* Slow paths (growth). */
sl_err_t sl_col_grow_levels(sl_col *c) SL_MUST_CHECK;
sl_err_t sl_col_grow_offs(sl_col *c) SL_MUST_CHECK;

/* Record one slot's levels. Caller guarantees def <= max_def, rep <= max_rep. */
static inline sl_err_t SL_MUST_CHECK sl_col_levels(sl_col *c, int def, int rep)
{
    if (c->max_def | c->max_rep) {
        if (SL_UNLIKELY(c->n == c->lvl_cap) && sl_col_grow_levels(c)) return SL_ERR_NOMEM;
        c->def[c->n] = (uint8_t)def;
        c->rep[c->n] = (uint8_t)rep;
    }
    c->n++;
    return SL_OK;
}

/* Room for k more slots' levels (nothing to do without levels), so that a
 * caller appending k values in bulk can write def/rep directly. */
static inline sl_err_t SL_MUST_CHECK sl_col_reserve_levels(sl_col *c, size_t k)
{
    if (!(c->max_def | c->max_rep)) return SL_OK;
    while (c->lvl_cap - c->n < k) {
        sl_err_t rc = sl_col_grow_levels(c);
        if (rc) return rc;
    }
    return SL_OK;
}

/* A null slot (def < max_def). */
static inline sl_err_t SL_MUST_CHECK sl_col_null(sl_col *c, int def, int rep)
{
    return sl_col_levels(c, def, rep);
}

/* A fixed-width value (size must match the column type: 1, 4 or 8). */
static inline sl_err_t SL_MUST_CHECK sl_col_fixed(sl_col *c, const void *v, size_t size, int rep)
{
    if (SL_UNLIKELY(sl_buf_reserve(&c->val, size))) return SL_ERR_NOMEM;
    if (sl_col_levels(c, c->max_def, rep)) return SL_ERR_NOMEM;
    memcpy(c->val.p + c->val.len, v, size);
    c->val.len += size;
    c->nvals++;
    return SL_OK;
}

static inline sl_err_t SL_MUST_CHECK sl_col_bool(sl_col *c, int v, int rep)
{
    uint8_t b = v ? 1 : 0;
    return sl_col_fixed(c, &b, 1, rep);
}
static inline sl_err_t SL_MUST_CHECK sl_col_i32(sl_col *c, int32_t v, int rep)
{
    return sl_col_fixed(c, &v, 4, rep);
}
static inline sl_err_t SL_MUST_CHECK sl_col_i64(sl_col *c, int64_t v, int rep)
{
    return sl_col_fixed(c, &v, 8, rep);
}
static inline sl_err_t SL_MUST_CHECK sl_col_f32(sl_col *c, float v, int rep)
{
    return sl_col_fixed(c, &v, 4, rep);
}
static inline sl_err_t SL_MUST_CHECK sl_col_f64(sl_col *c, double v, int rep)
{
    return sl_col_fixed(c, &v, 8, rep);
}

/* A BYTE_ARRAY value of len bytes whose bytes the caller copies to *dst
 * (the slot, its levels and its offset are recorded here). On error the
 * builder is unchanged. */
static SL_ALWAYS_INLINE sl_err_t SL_MUST_CHECK sl_col_bytes_room(sl_col *c, size_t len, int rep,
                                                                 uint8_t **dst)
{
    if (SL_UNLIKELY(c->nvals + 1 >= c->off_cap) && sl_col_grow_offs(c)) return SL_ERR_NOMEM;
    if (SL_UNLIKELY(len > UINT32_MAX - c->val.len)) return SL_ERR_LIMIT;
    if (SL_UNLIKELY(sl_buf_reserve(&c->val, len))) return SL_ERR_NOMEM;
    if (sl_col_levels(c, c->max_def, rep)) return SL_ERR_NOMEM;
    *dst = c->val.p + c->val.len;
    c->val.len += len;
    c->off[++c->nvals] = (uint32_t)c->val.len;
    return SL_OK;
}

/* memcpy, inline for the short values most string columns hold (two
 * overlapping loads and stores instead of a call). */
static SL_ALWAYS_INLINE void sl_copy_short(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n && n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else if (n) {
        memcpy(d, s, n);
    }
}

/* A BYTE_ARRAY value. */
static SL_ALWAYS_INLINE sl_err_t SL_MUST_CHECK sl_col_bytes(sl_col *c, const void *p, size_t len,
                                                            int rep)
{
    uint8_t *d;
    sl_err_t rc = sl_col_bytes_room(c, len, rep, &d);
    if (SL_LIKELY(!rc)) sl_copy_short(d, (const uint8_t *)p, len);
    return rc;
}

/* Value j of a column, for readers of a builder (writer, tests). */
static inline const uint8_t *sl_col_bytes_at(const sl_col *c, size_t j, uint32_t *len)
{
    *len = c->off[j + 1] - c->off[j];
    return c->val.p + c->off[j];
}

/* Create one builder per leaf of a finished schema. The schema must outlive
 * the batch. On error the batch is freed and zeroed. */
sl_err_t sl_batch_init(sl_batch *b, const sl_schema *s) SL_MUST_CHECK;
void sl_batch_reset(sl_batch *b); /* empty, keep capacity */
void sl_batch_free(sl_batch *b);  /* safe on a zeroed or partly built batch */

/* Bytes the batch holds (values + levels + offsets): the figure writers use
 * to bound memory and decide when to flush. */
size_t sl_batch_bytes(const sl_batch *b);

/* Remember the current end of every column; rollback truncates back to it. */
sl_err_t sl_batch_mark_init(sl_batch_mark_t *m, const sl_batch *b) SL_MUST_CHECK;
void sl_batch_mark(sl_batch_mark_t *m, const sl_batch *b);
void sl_batch_rollback(sl_batch *b, const sl_batch_mark_t *m);
void sl_batch_mark_free(sl_batch_mark_t *m);

/* Check the builder invariants (levels in range, value counts match the
 * def levels, offsets monotonic, nrows matches rep==0 count). For tests and
 * the reader's self-check; returns SL_ERR_CORRUPT with detail. */
sl_err_t sl_batch_validate(const sl_batch *b, sl_error *err);

/* Do two batches of one schema hold the same rows: the same slots, levels
 * and values in every column? SL_OK, or SL_ERR_CORRUPT naming the first
 * column that differs. For tests and fuzzers (two decoders of one input
 * must agree). */
sl_err_t sl_batch_same(const sl_batch *a, const sl_batch *b, sl_error *err);

#endif
