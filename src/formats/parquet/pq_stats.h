/* pq_stats.h - min/max/null/NaN accumulators for Parquet statistics, one
 * per open page and one per column chunk (private to the writer).
 *
 * Order: the column's ColumnOrder is TYPE_ORDER, so the comparison follows
 * the logical type (parquet.thrift, ColumnOrder):
 *   - INT32/INT64 signed; INTEGER(unsigned) compared unsigned;
 *   - FLOAT/DOUBLE by value, NaN ignored (counted in nan_count); -0.0 and
 *     +0.0 compare equal, and a zero bound is written as -0.0 for min and
 *     +0.0 for max, so a reader using either bound stays correct;
 *   - BOOLEAN false < true;
 *   - BYTE_ARRAY unsigned byte-wise (memcmp, then length).
 * A bound longer than SL_PQ_STAT_TRUNC bytes is truncated when encoded:
 * min keeps a prefix, max keeps a prefix with its last byte (for STRING
 * and ENUM: its last code point) incremented, and both are flagged
 * inexact. STRING bounds stay valid UTF-8 when the data is.
 *
 * Cost: fixed-width values are folded in with branch-light loops over
 * whole slices; a byte array costs one or two memcmp plus a copy when it
 * becomes a new bound (the copies are owned, so bounds survive the batch
 * they came from).
 */
#ifndef SL_PQ_STATS_H
#define SL_PQ_STATS_H

#include "core/buf.h"
#include "formats/parquet/pq_meta.h"

#define SL_PQ_STAT_TRUNC 64

typedef enum sl_pq_sort {
    SL_PQ_SK_BOOL,
    SL_PQ_SK_I32,
    SL_PQ_SK_U32,
    SL_PQ_SK_I64,
    SL_PQ_SK_U64,
    SL_PQ_SK_F32,
    SL_PQ_SK_F64,
    SL_PQ_SK_BYTES,
    SL_PQ_SK_UTF8,
} sl_pq_sort_t;

typedef struct sl_pq_acc {
    int has; /* min/max hold a non-null, non-NaN value */
    int64_t nulls, nans;
    union {
        int64_t i;
        uint64_t u;
        double d;
    } min, max;
    sl_buf bmin, bmax; /* byte arrays */
} sl_pq_acc;

/* Encoded bounds, for a page header or chunk metadata: sl_pq_stats points
 * into this, so it must live until the struct is encoded. */
typedef struct sl_pq_stat_bytes {
    uint8_t min[SL_PQ_STAT_TRUNC + 8];
    uint8_t max[SL_PQ_STAT_TRUNC + 8];
} sl_pq_stat_bytes;

void sl_pq_acc_reset(sl_pq_acc *a); /* keeps the byte buffers' memory */
void sl_pq_acc_free(sl_pq_acc *a);

/* Fold n packed fixed-width values (BOOLEAN: one byte 0/1 each). */
void sl_pq_acc_fixed(sl_pq_acc *a, sl_pq_sort_t k, const uint8_t *vals, size_t n);
/* Fold one byte array. SL_ERR_NOMEM leaves the accumulator valid. */
sl_err_t sl_pq_acc_bytes(sl_pq_acc *a, const uint8_t *p, size_t len) SL_MUST_CHECK;
/* Fold n byte arrays base[off[j]..off[j+1]) (offsets already validated). */
sl_err_t sl_pq_acc_bytes_offs(sl_pq_acc *a, const uint8_t *base, const uint32_t *off,
                              size_t n) SL_MUST_CHECK;
/* Fold src into dst (page into chunk). */
sl_err_t sl_pq_acc_merge(sl_pq_acc *dst, const sl_pq_acc *src, sl_pq_sort_t k) SL_MUST_CHECK;
/* Fill out (null_count, nan_count, bounds, exactness) from a. */
void sl_pq_acc_encode(const sl_pq_acc *a, sl_pq_sort_t k, sl_pq_stat_bytes *sb, sl_pq_stats *out);

#endif
