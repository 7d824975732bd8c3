/* pq_encode.c - RLE/bit-packed hybrid encoders and the column-chunk
 * dictionary. See pq_encode.h for the formats, costs and invariants.
 *
 * Both hybrid encoders reserve the worst case once (sl_pq_rle_bound) and
 * then write through a raw pointer, so the inner loops have no bounds
 * checks and no calls. The dictionary grows its table by doubling when
 * half full (a rehash reads the stored hash bits for byte arrays and the
 * stored values, byte arrays are hashed again from their stored bytes).
 * Entry counts are bounded by 2^31 and the PLAIN body by SL_BUF_MAX, far
 * past any dict_max_bytes the writer uses.
 */
#include "formats/parquet/pq_encode.h"

#include <stdlib.h>

#define DICT_MIN_CAP 1024u
#define HASH_K1      0x9E3779B97F4A7C15ULL
#define HASH_K2      0xD6E8FEB86659FD93ULL

/* ---- RLE / bit-packed hybrid ---- */

static inline uint8_t *put_varint_raw(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* Four values of bw bits side by side, LSB first (4 * bw <= 64). The
 * packers below are written out for one group of 8 rather than looped
 * per value: with a run-time bw, a per-value loop costs a loop test and
 * a wide variable shift for each value. */
static inline uint64_t pack4(uint64_t a, uint64_t b, uint64_t c, uint64_t d, int bw)
{
    return a | b << bw | c << (2 * bw) | d << (3 * bw);
}

/* Length of the run of equal bytes starting at v[i] (>= 1). */
static inline size_t run_u8(const uint8_t *v, size_t i, size_t n)
{
    uint64_t pat = 0x0101010101010101ULL * v[i];
    size_t j = i + 1;
    while (j + 8 <= n) {
        uint64_t w;
        memcpy(&w, v + j, 8);
        uint64_t d = w ^ pat;
        if (d) return j + (size_t)(__builtin_ctzll(d) >> 3) - i;
        j += 8;
    }
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

/* Do the 8 bytes at v[i] exist and all equal? */
static inline int run8_u8(const uint8_t *v, size_t i, size_t n)
{
    if (i + 8 > n) return 0;
    uint64_t w;
    memcpy(&w, v + i, 8);
    return w == 0x0101010101010101ULL * v[i];
}

sl_err_t sl_pq_rle_encode_u8(const uint8_t *v, size_t n, int bw, sl_buf *out)
{
    if (sl_buf_reserve(out, sl_pq_rle_bound(n, bw))) return SL_ERR_NOMEM;
    uint8_t *o = out->p + out->len;
    size_t i = 0;
    while (i < n) {
        size_t r = run_u8(v, i, n);
        if (r >= 8) {
            o = put_varint_raw(o, (uint64_t)r << 1);
            *o++ = v[i];
            i += r;
            continue;
        }
        size_t start = i, groups = 0;
        do {
            i += 8;
            groups++;
        } while (i < n && !run8_u8(v, i, n));
        o = put_varint_raw(o, (uint64_t)groups << 1 | 1);
        for (size_t g = 0; g < groups; g++) {
            const uint8_t *s = v + start + g * 8;
            uint8_t pad[8] = {0};
            if (start + g * 8 + 8 > n) {
                memcpy(pad, s, n - (start + g * 8));
                s = pad;
            }
            uint64_t acc = pack4(s[0], s[1], s[2], s[3], bw) | pack4(s[4], s[5], s[6], s[7], bw)
                                                                   << (4 * bw);
            memcpy(o, &acc, 8); /* bound has >= 8 bytes of slack */
            o += bw;
        }
        if (i > n) i = n;
    }
    out->len = (size_t)(o - out->p);
    return SL_OK;
}

static inline size_t run_u32(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

static inline int run8_u32(const uint32_t *v, size_t i, size_t n)
{
    if (i + 8 > n) return 0;
    uint32_t x = v[i], d = 0;
    if (v[i + 1] != x) return 0; /* the usual answer in bit-packed stretches */
    for (int k = 2; k < 8; k++)
        d |= v[i + k] ^ x;
    return d == 0;
}

sl_err_t sl_pq_rle_encode_u32(const uint32_t *v, size_t n, int bw, sl_buf *out)
{
    if (sl_buf_reserve(out, sl_pq_rle_bound(n, bw))) return SL_ERR_NOMEM;
    uint8_t *o = out->p + out->len;
    size_t vbytes = ((size_t)bw + 7) / 8;
    size_t i = 0;
    while (i < n) {
        if (run8_u32(v, i, n)) {
            size_t r = run_u32(v, i, n);
            o = put_varint_raw(o, (uint64_t)r << 1);
            uint32_t x = v[i];
            memcpy(o, &x, vbytes);
            o += vbytes;
            i += r;
            continue;
        }
        size_t start = i, groups = 0;
        do {
            i += 8;
            groups++;
        } while (i < n && !run8_u32(v, i, n));
        o = put_varint_raw(o, (uint64_t)groups << 1 | 1);
        for (size_t g = 0; g < groups; g++) {
            const uint32_t *s = v + start + g * 8;
            uint32_t pad[8] = {0};
            if (start + g * 8 + 8 > n) {
                memcpy(pad, s, (n - (start + g * 8)) * sizeof *s);
                s = pad;
            }
            if (bw <= 16) { /* the whole group in one accumulator (the bound has slack) */
                unsigned __int128 acc = pack4(s[0], s[1], s[2], s[3], bw) |
                                        (unsigned __int128)pack4(s[4], s[5], s[6], s[7], bw)
                                            << (4 * bw);
                memcpy(o, &acc, 16);
                o += bw;
                continue;
            }
            uint64_t acc = 0;
            int bits = 0;
            for (int k = 0; k < 8; k++) {
                acc |= (uint64_t)s[k] << bits;
                bits += bw;
                while (bits >= 8) {
                    *o++ = (uint8_t)acc;
                    acc >>= 8;
                    bits -= 8;
                }
            }
        }
        if (i > n) i = n;
    }
    out->len = (size_t)(o - out->p);
    return SL_OK;
}

/* ---- DELTA_BINARY_PACKED ---- */

#define DELTA_BLOCK 128
#define DELTA_MINI  32

/* DELTA_MINI values of bw bits (1..64), LSB first, through a 64-bit
 * accumulator stored whole when full. Inlined into one copy per bit width
 * (pack_mini's switch) with the loop unrolled, the shifts and the points
 * where the accumulator is full are constants: ~3.6 instructions a value
 * instead of ~12 with a run-time bw (40 KiB of code, of which a column
 * touches the few widths its deltas have; measured on 1M PlayEvents:
 * 127M -> 38M instructions). */
static inline __attribute__((always_inline)) uint8_t *pack_mini_bw(uint8_t *o, const uint64_t *v,
                                                                   const int bw)
{
    uint64_t acc = 0;
    int bits = 0; /* used bits of acc, < 64 */
#pragma GCC unroll 32
    for (int k = 0; k < DELTA_MINI; k++) {
        acc |= v[k] << bits;
        if (bits + bw < 64) {
            bits += bw;
            continue;
        }
        memcpy(o, &acc, 8);
        o += 8;
        acc = bits ? v[k] >> (64 - bits) : 0;
        bits = bits + bw - 64;
    }
    for (; bits > 0; bits -= 8) { /* 32 * bw is a whole number of bytes */
        *o++ = (uint8_t)acc;
        acc >>= 8;
    }
    return o;
}

static uint8_t *pack_mini(uint8_t *o, const uint64_t *v, int bw)
{
    switch (bw) {
#define PACK_BW(b)                                                                                 \
    case b:                                                                                        \
        return pack_mini_bw(o, v, b);
#define PACK_BW8(b)                                                                                \
    PACK_BW(b)                                                                                     \
    PACK_BW(b + 1)                                                                                 \
    PACK_BW(b + 2) PACK_BW(b + 3) PACK_BW(b + 4) PACK_BW(b + 5) PACK_BW(b + 6) PACK_BW(b + 7)
        PACK_BW8(1)
        PACK_BW8(9)
        PACK_BW8(17)
        PACK_BW8(25)
        PACK_BW8(33)
        PACK_BW8(41)
        PACK_BW8(49)
        PACK_BW8(57)
#undef PACK_BW8
#undef PACK_BW
    }
    return o;
}

/* Value i of the input: 8-byte LE (width 8) or uint32 (width 4). */
static inline uint64_t delta_in(const uint8_t *v, size_t i, int width)
{
    if (width == 8) {
        uint64_t x;
        memcpy(&x, v + i * 8, 8);
        return x;
    }
    uint32_t x;
    memcpy(&x, v + i * 4, 4);
    return x;
}

/* Called with a constant width, so each caller gets its own loops. */
static inline __attribute__((always_inline)) sl_err_t delta_encode(const uint8_t *v, size_t n,
                                                                   int width, sl_buf *out)
{
    size_t blocks = n ? (n - 1 + DELTA_BLOCK - 1) / DELTA_BLOCK : 0;
    if (sl_buf_reserve(out, 40 + blocks * (10 + 4 + DELTA_BLOCK * 8))) return SL_ERR_NOMEM;
    uint8_t *o = out->p + out->len;
    uint64_t prev = n ? delta_in(v, 0, width) : 0;
    o = put_varint_raw(o, DELTA_BLOCK);
    o = put_varint_raw(o, DELTA_BLOCK / DELTA_MINI);
    o = put_varint_raw(o, n);
    o = put_varint_raw(o, ((uint64_t)prev << 1) ^ (uint64_t)((int64_t)prev >> 63));
    for (size_t i = 1; i < n;) {
        size_t m = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        uint64_t d[DELTA_BLOCK];
        int64_t mn = INT64_MAX;
        for (size_t k = 0; k < m; k++) {
            uint64_t x = delta_in(v, i + k, width);
            d[k] = x - prev; /* wraps, as the spec asks */
            prev = x;
            mn = (int64_t)d[k] < mn ? (int64_t)d[k] : mn;
        }
        for (size_t k = m; k < DELTA_BLOCK; k++)
            d[k] = (uint64_t)mn; /* padding: zeros once the minimum is taken off */
        uint64_t max[DELTA_BLOCK / DELTA_MINI];
        for (int j = 0; j < DELTA_BLOCK / DELTA_MINI; j++) {
            uint64_t a = 0, *dj = d + j * DELTA_MINI;
            for (int k = 0; k < DELTA_MINI; k++) {
                dj[k] -= (uint64_t)mn;
                a |= dj[k];
            }
            max[j] = a;
        }
        o = put_varint_raw(o, ((uint64_t)mn << 1) ^ (uint64_t)(mn >> 63));
        int bw[DELTA_BLOCK / DELTA_MINI];
        for (int j = 0; j < DELTA_BLOCK / DELTA_MINI; j++) {
            bw[j] = (size_t)j * DELTA_MINI < m ? sl_pq_bit_width(max[j]) : 0;
            *o++ = (uint8_t)bw[j];
        }
        for (int j = 0; j < DELTA_BLOCK / DELTA_MINI && (size_t)j * DELTA_MINI < m; j++)
            if (bw[j]) o = pack_mini(o, d + j * DELTA_MINI, bw[j]);
        i += m;
    }
    out->len = (size_t)(o - out->p);
    return SL_OK;
}

sl_err_t sl_pq_delta_encode_i64(const uint8_t *v, size_t n, sl_buf *out)
{
    return delta_encode(v, n, 8, out);
}

sl_err_t sl_pq_delta_encode_u32(const uint32_t *v, size_t n, sl_buf *out)
{
    return delta_encode((const uint8_t *)v, n, 4, out);
}

/* ---- hashing ---- */

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= HASH_K2;
    h ^= h >> 29;
    return h;
}

/* Exact key of a value of n <= 7 bytes: its bytes as a little-endian
 * integer (two overlapping loads; for n <= 3, bytes 0, n/2 and n-1 cover
 * all of them), OR-ed with n << 56. Distinct values have distinct keys. */
static inline uint64_t short_key(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        k = a | (uint64_t)b << ((n - 4) * 8);
    } else if (n) {
        k = p[0] | (uint64_t)p[n / 2] << (n / 2 * 8) | (uint64_t)p[n - 1] << ((n - 1) * 8);
    }
    return k | (uint64_t)n << 56;
}

/* Fixed-width values and short keys: Fibonacci hashing. The table index
 * is the product's top bits (h >> shift), which every bit of x reaches;
 * no final mix is needed for them (it cost ~5 instructions a lookup). */
static inline uint64_t hash_fixed(uint64_t x)
{
    return x * HASH_K1;
}

/* Short values hash their exact key (so lookup and rehash agree). */
static inline uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    if (n < 8) return hash_fixed(short_key(p, n));
    uint64_t h = HASH_K1 ^ ((uint64_t)n * HASH_K2);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * HASH_K1;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n) { /* a 1..7 byte tail */
        h = (h ^ short_key(p, n)) * HASH_K1;
    }
    return mix64(h);
}

/* Equal byte strings of the same length n >= 8 (shorter ones compare
 * their keys): word compares up to 32 bytes. */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8 && n <= 32) { /* words from the front, one overlapping word at the end */
        uint64_t x, y, d = 0;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            d |= x ^ y;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return (d | (x ^ y)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

uint64_t sl_pq_hash_bytes(const uint8_t *p, size_t n)
{
    return hash_bytes(p, n);
}

/* ---- dictionary ---- */

void sl_pq_dict_init(sl_pq_dict *d, int width)
{
    memset(d, 0, sizeof *d);
    d->width = width;
}

void sl_pq_dict_reset(sl_pq_dict *d)
{
    if (d->n && d->slot) memset(d->slot, 0, (size_t)d->cap * sizeof *d->slot);
    d->n = 0;
    sl_buf_reset(&d->vals);
}

void sl_pq_dict_free(sl_pq_dict *d)
{
    free(d->slot);
    free(d->tag);
    free(d->off);
    free(d->mark);
    free(d->key);
    sl_buf_free(&d->vals);
    int w = d->width;
    sl_pq_dict_init(d, w);
}

static uint64_t entry_hash(const sl_pq_dict *d, uint32_t e)
{
    if (d->width == 8) {
        uint64_t x;
        memcpy(&x, d->vals.p + (size_t)e * 8, 8);
        return hash_fixed(x);
    }
    uint32_t x;
    memcpy(&x, d->vals.p + (size_t)e * 4, 4);
    return hash_fixed(x);
}

/* Double the table (or create it) and reinsert every entry. */
static sl_err_t dict_grow(sl_pq_dict *d)
{
    uint32_t ncap = d->cap ? d->cap * 2 : DICT_MIN_CAP;
    if (ncap == 0 || ncap > (1u << 31)) return SL_ERR_LIMIT;
    uint32_t *slot = calloc(ncap, sizeof *slot);
    uint32_t *tag = d->width ? NULL : malloc((size_t)ncap * sizeof *tag);
    if (!slot || (!d->width && !tag)) {
        free(slot);
        free(tag);
        return SL_ERR_NOMEM;
    }
    int shift = 64 - sl_pq_bit_width(ncap - 1);
    uint32_t mask = ncap - 1;
    for (uint32_t s = 0; s < d->cap; s++) {
        uint32_t v = d->slot[s];
        if (!v) continue;
        uint64_t h;
        if (d->width) {
            h = entry_hash(d, v - 1);
        } else {
            /* 32 stored bits are the low half; the slot came from the high
             * bits, which a rehash needs: rebuild from the value. */
            uint32_t len;
            const uint8_t *p = sl_pq_dict_bytes(d, v - 1, &len);
            h = hash_bytes(p, len);
        }
        uint32_t i = (uint32_t)(h >> shift);
        while (slot[i])
            i = (i + 1) & mask;
        slot[i] = v;
        if (tag) tag[i] = (uint32_t)h;
    }
    free(d->slot);
    free(d->tag);
    d->slot = slot;
    d->tag = tag;
    d->cap = ncap;
    d->shift = shift;
    return SL_OK;
}

static sl_err_t dict_grow_entries(sl_pq_dict *d)
{
    uint32_t ncap = d->ent_cap ? d->ent_cap * 2 : 1024;
    if (ncap > (1u << 31)) return SL_ERR_LIMIT;
    uint32_t *off = realloc(d->off, (size_t)ncap * sizeof *off);
    if (!off) return SL_ERR_NOMEM;
    d->off = off;
    uint32_t *mark = realloc(d->mark, (size_t)ncap * sizeof *mark);
    if (!mark) return SL_ERR_NOMEM;
    d->mark = mark;
    uint64_t *key = realloc(d->key, (size_t)ncap * sizeof *key);
    if (!key) return SL_ERR_NOMEM;
    d->key = key;
    d->ent_cap = ncap;
    return SL_OK;
}

/* One body per width, so every load and compare is a plain 4/8-byte
 * access (no memcpy call with a run-time size). */
#define MAP_FIXED(T)                                                                               \
    do {                                                                                           \
        for (size_t j = 0; j < n; j++) {                                                           \
            T x;                                                                                   \
            memcpy(&x, src + j * sizeof(T), sizeof(T));                                            \
            uint64_t h = hash_fixed((uint64_t)x);                                                  \
            uint32_t mask = d->cap - 1, i = (uint32_t)(h >> d->shift), s;                          \
            while ((s = d->slot[i]) != 0) {                                                        \
                T y;                                                                               \
                memcpy(&y, d->vals.p + (size_t)(s - 1) * sizeof(T), sizeof(T));                    \
                if (y == x) break;                                                                 \
                i = (i + 1) & mask;                                                                \
            }                                                                                      \
            if (s) {                                                                               \
                idx[j] = s - 1;                                                                    \
                continue;                                                                          \
            }                                                                                      \
            if (SL_UNLIKELY((size_t)d->n * 2 >= d->cap)) {                                         \
                sl_err_t rc = dict_grow(d);                                                        \
                if (rc) return rc;                                                                 \
                mask = d->cap - 1;                                                                 \
                i = (uint32_t)(h >> d->shift);                                                     \
                while (d->slot[i])                                                                 \
                    i = (i + 1) & mask;                                                            \
            }                                                                                      \
            if (sl_buf_append(&d->vals, &x, sizeof(T))) return SL_ERR_NOMEM;                       \
            d->slot[i] = ++d->n;                                                                   \
            idx[j] = d->n - 1;                                                                     \
        }                                                                                          \
    } while (0)

sl_err_t sl_pq_dict_map_fixed(sl_pq_dict *d, const uint8_t *src, size_t n, uint32_t *idx)
{
    if (!d->cap && dict_grow(d)) return SL_ERR_NOMEM;
    if (d->width == 8)
        MAP_FIXED(uint64_t);
    else
        MAP_FIXED(uint32_t);
    return SL_OK;
}

sl_err_t sl_pq_dict_map_bytes(sl_pq_dict *d, const uint8_t *base, const uint32_t *off, size_t n,
                              uint32_t *idx, uint32_t page_no, uint32_t *fresh, size_t *n_fresh)
{
    if (!d->cap && dict_grow(d)) return SL_ERR_NOMEM;
    size_t nf = *n_fresh;
    sl_err_t rc = SL_OK;
    for (size_t j = 0; j < n; j++) {
        const uint8_t *p = base + off[j];
        uint32_t len = off[j + 1] - off[j];
        uint64_t h, k = SL_PQ_NO_KEY;
        uint32_t mask = d->cap - 1, i, e;
        if (len < 8) { /* one integer compare per probe */
            k = short_key(p, len);
            h = hash_fixed(k);
            for (i = (uint32_t)(h >> d->shift);; i = (i + 1) & mask) {
                uint32_t s = d->slot[i];
                if (!s) break;
                if (d->key[s - 1] == k) {
                    e = s - 1;
                    goto found;
                }
            }
        } else {
            h = hash_bytes(p, len);
            uint32_t tg = (uint32_t)h;
            for (i = (uint32_t)(h >> d->shift);; i = (i + 1) & mask) {
                uint32_t s = d->slot[i];
                if (!s) break;
                if (d->tag[i] == tg) {
                    uint32_t el;
                    const uint8_t *ep = sl_pq_dict_bytes(d, s - 1, &el);
                    if (el == len && same_bytes(ep, p, len)) {
                        e = s - 1;
                        goto found;
                    }
                }
            }
        }
        if (SL_UNLIKELY((size_t)d->n * 2 >= d->cap)) {
            if ((rc = dict_grow(d))) goto out;
            mask = d->cap - 1;
            i = (uint32_t)(h >> d->shift);
            while (d->slot[i])
                i = (i + 1) & mask;
        }
        if (SL_UNLIKELY(d->n == d->ent_cap) && (rc = dict_grow_entries(d))) goto out;
        if (d->vals.len + 4 + (size_t)len > UINT32_MAX) {
            rc = SL_ERR_LIMIT;
            goto out;
        }
        if ((rc = sl_buf_reserve(&d->vals, 4 + (size_t)len))) goto out;
        memcpy(d->vals.p + d->vals.len, &len, 4);
        if (len) memcpy(d->vals.p + d->vals.len + 4, p, len);
        e = d->n;
        d->off[e] = (uint32_t)d->vals.len + 4;
        d->mark[e] = 0;
        d->key[e] = k;
        d->vals.len += 4 + (size_t)len;
        d->slot[i] = ++d->n;
        d->tag[i] = (uint32_t)h;
    found:
        idx[j] = e;
        if (d->mark[e] != page_no) {
            d->mark[e] = page_no;
            fresh[nf++] = e;
        }
    }
out:
    *n_fresh = nf;
    return rc;
}
