/* pq_stats.c - statistics accumulators and their encoding. See
 * pq_stats.h for the orders and the truncation rule.
 *
 * Fixed-width slices are folded with one typed loop each (loads through
 * memcpy, so unaligned or aliased input is fine and the compiler still
 * vectorizes). Floats skip NaN with a compare-to-self. The encoded bounds
 * are PLAIN without a length prefix, as Statistics.min_value/max_value
 * require.
 */
#include "formats/parquet/pq_stats.h"

#include <math.h>

void sl_pq_acc_reset(sl_pq_acc *a)
{
    a->has = 0;
    a->nulls = a->nans = 0;
    a->min.u = a->max.u = 0;
    sl_buf_reset(&a->bmin);
    sl_buf_reset(&a->bmax);
}

void sl_pq_acc_free(sl_pq_acc *a)
{
    sl_buf_free(&a->bmin);
    sl_buf_free(&a->bmax);
    sl_pq_acc_reset(a);
}

#define FOLD_INT(T, field, cast)                                                                   \
    do {                                                                                           \
        T mn, mx, x;                                                                               \
        if (a->has) {                                                                              \
            mn = (T)a->min.field;                                                                  \
            mx = (T)a->max.field;                                                                  \
        } else {                                                                                   \
            memcpy(&mn, vals, sizeof(T));                                                          \
            mx = mn;                                                                               \
        }                                                                                          \
        for (size_t j = 0; j < n; j++) {                                                           \
            memcpy(&x, vals + j * sizeof(T), sizeof(T));                                           \
            mn = x < mn ? x : mn;                                                                  \
            mx = x > mx ? x : mx;                                                                  \
        }                                                                                          \
        a->min.field = (cast)mn;                                                                   \
        a->max.field = (cast)mx;                                                                   \
        a->has = 1;                                                                                \
    } while (0)

#define FOLD_FLOAT(T)                                                                              \
    do {                                                                                           \
        size_t j = 0;                                                                              \
        T x, mn, mx;                                                                               \
        if (!a->has) {                                                                             \
            for (; j < n; j++) {                                                                   \
                memcpy(&x, vals + j * sizeof(T), sizeof(T));                                       \
                if (x == x) break;                                                                 \
                a->nans++;                                                                         \
            }                                                                                      \
            if (j == n) return;                                                                    \
            a->min.d = a->max.d = (double)x;                                                       \
            a->has = 1;                                                                            \
            j++;                                                                                   \
        }                                                                                          \
        mn = (T)a->min.d;                                                                          \
        mx = (T)a->max.d;                                                                          \
        int64_t nans = 0;                                                                          \
        for (; j < n; j++) {                                                                       \
            memcpy(&x, vals + j * sizeof(T), sizeof(T));                                           \
            if (x != x) {                                                                          \
                nans++;                                                                            \
                continue;                                                                          \
            }                                                                                      \
            mn = x < mn ? x : mn;                                                                  \
            mx = x > mx ? x : mx;                                                                  \
        }                                                                                          \
        a->nans += nans;                                                                           \
        a->min.d = (double)mn;                                                                     \
        a->max.d = (double)mx;                                                                     \
    } while (0)

void sl_pq_acc_fixed(sl_pq_acc *a, sl_pq_sort_t k, const uint8_t *vals, size_t n)
{
    if (n == 0) return;
    switch (k) {
    case SL_PQ_SK_BOOL:
        FOLD_INT(uint8_t, u, uint64_t);
        break;
    case SL_PQ_SK_I32:
        FOLD_INT(int32_t, i, int64_t);
        break;
    case SL_PQ_SK_U32:
        FOLD_INT(uint32_t, u, uint64_t);
        break;
    case SL_PQ_SK_I64:
        FOLD_INT(int64_t, i, int64_t);
        break;
    case SL_PQ_SK_U64:
        FOLD_INT(uint64_t, u, uint64_t);
        break;
    case SL_PQ_SK_F32:
        FOLD_FLOAT(float);
        break;
    case SL_PQ_SK_F64:
        FOLD_FLOAT(double);
        break;
    default:
        break;
    }
}

static inline int bytes_cmp(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    if (la >= 8 && lb >= 8) { /* most orders are decided by the first 8 bytes */
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    size_t m = la < lb ? la : lb;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return (la > lb) - (la < lb);
}

static sl_err_t set_buf(sl_buf *b, const uint8_t *p, size_t len)
{
    sl_buf_reset(b);
    return sl_buf_append(b, p, len);
}

sl_err_t sl_pq_acc_bytes(sl_pq_acc *a, const uint8_t *p, size_t len)
{
    if (!a->has) {
        if (set_buf(&a->bmin, p, len) || set_buf(&a->bmax, p, len)) {
            a->bmin.len = a->bmax.len = 0;
            return SL_ERR_NOMEM;
        }
        a->has = 1;
        return SL_OK;
    }
    if (bytes_cmp(p, len, a->bmax.p, a->bmax.len) > 0) return set_buf(&a->bmax, p, len);
    if (bytes_cmp(p, len, a->bmin.p, a->bmin.len) < 0) return set_buf(&a->bmin, p, len);
    return SL_OK;
}

/* The first 8 bytes of a value as a big-endian integer, zero-padded. */
static inline uint64_t prefix_key(const uint8_t *p, size_t len)
{
    uint64_t k = 0;
    if (len >= 8) {
        memcpy(&k, p, 8);
        return __builtin_bswap64(k);
    }
    for (size_t i = 0; i < len; i++)
        k |= (uint64_t)p[i] << (56 - 8 * i);
    return k;
}

/* Batch form for PLAIN byte-array slices: the slice's own min and max are
 * found by pointer (no copies, no per-value call), then folded into the
 * accumulator once each. Same result as folding value by value, since
 * min/max do not depend on order; saves the copy a rising column (ids,
 * timestamps as text) used to pay on every value.
 *
 * Values of 8+ bytes strictly between the bounds' 8-byte big-endian
 * prefixes (the prefix of a shorter bound is zero-padded: a strict order
 * of prefixes is then the byte order of the values) are skipped with two
 * integer compares; ties and short values take the full compare. Random
 * ids settle their bounds within a few hundred values, so that is ~all
 * of them. */
sl_err_t sl_pq_acc_bytes_offs(sl_pq_acc *a, const uint8_t *base, const uint32_t *off, size_t n)
{
    if (n == 0) return SL_OK;
    const uint8_t *minp = base + off[0], *maxp = minp;
    size_t minl = off[1] - off[0], maxl = minl;
    uint64_t kmin = prefix_key(minp, minl), kmax = kmin;
    for (size_t j = 1; j < n; j++) {
        const uint8_t *p = base + off[j];
        size_t len = off[j + 1] - off[j];
        if (len >= 8) {
            uint64_t k;
            memcpy(&k, p, 8);
            k = __builtin_bswap64(k);
            if (SL_LIKELY(k < kmax && k > kmin)) continue;
        }
        if (bytes_cmp(p, len, maxp, maxl) > 0) {
            maxp = p;
            maxl = len;
            kmax = prefix_key(p, len);
        } else if (bytes_cmp(p, len, minp, minl) < 0) {
            minp = p;
            minl = len;
            kmin = prefix_key(p, len);
        }
    }
    if (sl_pq_acc_bytes(a, minp, minl)) return SL_ERR_NOMEM;
    return sl_pq_acc_bytes(a, maxp, maxl);
}

sl_err_t sl_pq_acc_merge(sl_pq_acc *dst, const sl_pq_acc *src, sl_pq_sort_t k)
{
    dst->nulls += src->nulls;
    dst->nans += src->nans;
    if (!src->has) return SL_OK;
    if (k == SL_PQ_SK_BYTES || k == SL_PQ_SK_UTF8) {
        if (!dst->has) {
            if (set_buf(&dst->bmin, src->bmin.p, src->bmin.len) ||
                set_buf(&dst->bmax, src->bmax.p, src->bmax.len))
                return SL_ERR_NOMEM;
            dst->has = 1;
            return SL_OK;
        }
        if (bytes_cmp(src->bmin.p, src->bmin.len, dst->bmin.p, dst->bmin.len) < 0 &&
            set_buf(&dst->bmin, src->bmin.p, src->bmin.len))
            return SL_ERR_NOMEM;
        if (bytes_cmp(src->bmax.p, src->bmax.len, dst->bmax.p, dst->bmax.len) > 0 &&
            set_buf(&dst->bmax, src->bmax.p, src->bmax.len))
            return SL_ERR_NOMEM;
        return SL_OK;
    }
    if (!dst->has) {
        dst->min = src->min;
        dst->max = src->max;
        dst->has = 1;
        return SL_OK;
    }
    switch (k) {
    case SL_PQ_SK_I32:
    case SL_PQ_SK_I64:
        if (src->min.i < dst->min.i) dst->min.i = src->min.i;
        if (src->max.i > dst->max.i) dst->max.i = src->max.i;
        break;
    case SL_PQ_SK_F32:
    case SL_PQ_SK_F64:
        if (src->min.d < dst->min.d) dst->min.d = src->min.d;
        if (src->max.d > dst->max.d) dst->max.d = src->max.d;
        break;
    default: /* BOOL, U32, U64 */
        if (src->min.u < dst->min.u) dst->min.u = src->min.u;
        if (src->max.u > dst->max.u) dst->max.u = src->max.u;
        break;
    }
    return SL_OK;
}

/* ---- truncation of long byte-array bounds ---- */

/* Largest cut <= SL_PQ_STAT_TRUNC that does not split a UTF-8 sequence. */
static size_t utf8_cut(const uint8_t *p, size_t len)
{
    size_t cut = len < SL_PQ_STAT_TRUNC ? len : SL_PQ_STAT_TRUNC;
    while (cut > 0 && cut < len && (p[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

static size_t utf8_put(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the sequence p[0..n) as one code point; -1 if it is not one. */
static int64_t utf8_one(const uint8_t *p, size_t n)
{
    static const uint8_t need[4] = {1, 2, 3, 4};
    uint32_t cp;
    size_t k;
    if (p[0] < 0x80) {
        cp = p[0], k = 0;
    } else if ((p[0] & 0xE0) == 0xC0) {
        cp = p[0] & 0x1F, k = 1;
    } else if ((p[0] & 0xF0) == 0xE0) {
        cp = p[0] & 0x0F, k = 2;
    } else if ((p[0] & 0xF8) == 0xF0) {
        cp = p[0] & 0x07, k = 3;
    } else {
        return -1;
    }
    if (n != need[k]) return -1;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return -1;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    return cp;
}

/* An upper bound of every string starting with p[0..cut): the prefix with
 * its last code point incremented. Returns its length, 0 if none exists. */
static size_t utf8_upper(const uint8_t *p, size_t cut, uint8_t *o)
{
    while (cut > 0) {
        size_t s = cut - 1;
        while (s > 0 && (p[s] & 0xC0) == 0x80 && cut - s < 4)
            s--;
        int64_t cp = utf8_one(p + s, cut - s);
        if (cp < 0) return 0;
        if (cp < 0x10FFFF) {
            uint32_t next = (uint32_t)cp + 1;
            if (next == 0xD800) next = 0xE000;
            memcpy(o, p, s);
            return s + utf8_put(o + s, next);
        }
        cut = s;
    }
    return 0;
}

/* Byte-wise: the prefix with its last non-0xFF byte incremented. */
static size_t bytes_upper(const uint8_t *p, size_t cut, uint8_t *o)
{
    while (cut > 0 && p[cut - 1] == 0xFF)
        cut--;
    if (!cut) return 0;
    memcpy(o, p, cut);
    o[cut - 1]++;
    return cut;
}

static void enc_bytes_bounds(const sl_pq_acc *a, int utf8, sl_pq_stat_bytes *sb, sl_pq_stats *out)
{
    size_t ml = a->bmin.len, xl = a->bmax.len;
    if (ml <= SL_PQ_STAT_TRUNC) {
        if (ml) memcpy(sb->min, a->bmin.p, ml);
        out->is_min_exact = 1;
    } else {
        ml = utf8 ? utf8_cut(a->bmin.p, ml) : SL_PQ_STAT_TRUNC;
        memcpy(sb->min, a->bmin.p, ml);
        out->is_min_exact = 0;
    }
    out->min_value = (sl_pq_bytes){sb->min, (uint32_t)ml, 1};
    if (xl <= SL_PQ_STAT_TRUNC) {
        if (xl) memcpy(sb->max, a->bmax.p, xl);
        out->max_value = (sl_pq_bytes){sb->max, (uint32_t)xl, 1};
        out->is_max_exact = 1;
        return;
    }
    size_t n = 0;
    if (utf8) n = utf8_upper(a->bmax.p, utf8_cut(a->bmax.p, xl), sb->max);
    if (!n) n = bytes_upper(a->bmax.p, SL_PQ_STAT_TRUNC, sb->max);
    if (n) {
        out->max_value = (sl_pq_bytes){sb->max, (uint32_t)n, 1};
        out->is_max_exact = 0;
    } /* else: no short upper bound exists (all 0xFF); leave max absent */
}

void sl_pq_acc_encode(const sl_pq_acc *a, sl_pq_sort_t k, sl_pq_stat_bytes *sb, sl_pq_stats *out)
{
    memset(out, 0, sizeof *out);
    out->null_count = a->nulls;
    out->distinct_count = -1;
    out->is_max_exact = out->is_min_exact = -1;
    out->nan_count = (k == SL_PQ_SK_F32 || k == SL_PQ_SK_F64) ? a->nans : -1;
    if (!a->has) return;
    size_t w = 0;
    switch (k) {
    case SL_PQ_SK_BOOL:
        sb->min[0] = (uint8_t)a->min.u;
        sb->max[0] = (uint8_t)a->max.u;
        w = 1;
        break;
    case SL_PQ_SK_I32:
    case SL_PQ_SK_U32: {
        uint32_t mn = (uint32_t)a->min.u, mx = (uint32_t)a->max.u;
        memcpy(sb->min, &mn, 4);
        memcpy(sb->max, &mx, 4);
        w = 4;
        break;
    }
    case SL_PQ_SK_I64:
    case SL_PQ_SK_U64:
        memcpy(sb->min, &a->min.u, 8);
        memcpy(sb->max, &a->max.u, 8);
        w = 8;
        break;
    case SL_PQ_SK_F32: {
        float mn = (float)a->min.d, mx = (float)a->max.d;
        if (mn == 0) mn = -0.0f;
        if (mx == 0) mx = 0.0f;
        memcpy(sb->min, &mn, 4);
        memcpy(sb->max, &mx, 4);
        w = 4;
        break;
    }
    case SL_PQ_SK_F64: {
        double mn = a->min.d, mx = a->max.d;
        if (mn == 0) mn = -0.0;
        if (mx == 0) mx = 0.0;
        memcpy(sb->min, &mn, 8);
        memcpy(sb->max, &mx, 8);
        w = 8;
        break;
    }
    case SL_PQ_SK_BYTES:
    case SL_PQ_SK_UTF8:
        enc_bytes_bounds(a, k == SL_PQ_SK_UTF8, sb, out);
        return;
    }
    out->min_value = (sl_pq_bytes){sb->min, (uint32_t)w, 1};
    out->max_value = (sl_pq_bytes){sb->max, (uint32_t)w, 1};
    out->is_min_exact = out->is_max_exact = 1;
}
