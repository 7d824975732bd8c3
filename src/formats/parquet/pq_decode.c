/* pq_decode.c - Parquet value and level decoders. See pq_decode.h.
 *
 * Design:
 *   - The RLE/bit-packed hybrid and DELTA_BINARY_PACKED are streaming
 *     decoders (a small state struct, values pulled in chunks), so no
 *     scratch array is ever sized by a count read from the file: a page can
 *     claim 2^31 values in a few bytes, and then only the caller's budget
 *     and the builder's own bounds decide how far it gets.
 *   - Dictionary gathers, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY work
 *     through a fixed stack chunk (SL_PQ_CHUNK values): decode lengths or
 *     indices for the chunk, check them, reserve, copy.
 *   - DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY need the end of their
 *     DELTA_BINARY_PACKED length sections before they can copy bytes, so
 *     they decode those sections twice (once to find the end and check the
 *     total, once to copy); headers are small, so this costs little and
 *     keeps memory constant.
 *   - Bit unpacking reads a value's bits byte by byte (bit widths 0..64).
 *     A word-at-a-time unpacker would be faster; the reader is not on the
 *     ingest hot path yet (compaction and replay are), so it waits for a
 *     profile.
 *   - Arithmetic on DELTA values is done in uint64 (wrapping, as the spec
 *     requires) and INT32 columns keep the low 32 bits.
 */
#include "formats/parquet/pq_decode.h"

#include <stdlib.h>
#include <string.h>

#include "formats/parquet/pq_meta.h"

#define SL_PQ_CHUNK 1024

#define TRY(x)                                                                                     \
    do {                                                                                           \
        sl_err_t rc_ = (x);                                                                        \
        if (rc_) return rc_;                                                                       \
    } while (0)

static inline uint64_t unpack_bits(const uint8_t *p, size_t bit, int bw)
{
    uint64_t v = 0;
    int got = 0, sh = (int)(bit & 7);
    const uint8_t *q = p + (bit >> 3);
    while (got < bw) {
        v |= (uint64_t)(*q++ >> sh) << got;
        got += 8 - sh;
        sh = 0;
    }
    return bw < 64 ? v & ((UINT64_C(1) << bw) - 1) : v;
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int sl_pq_rd_bit_width(uint32_t max)
{
    int w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

/* ---- RLE / bit-packed hybrid ---- */

void sl_pq_rd_rle_init(sl_pq_rd_rle *d, const uint8_t *p, size_t n, int bit_width)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + n;
    d->bw = bit_width;
}

static sl_err_t rle_next_run(sl_pq_rd_rle *d, sl_error *err)
{
    uint64_t h;
    if (sl_varint_get(&d->p, d->end, &h))
        return sl_error_set(err, SL_ERR_CORRUPT, "RLE/bit-packed data ends before all %s were read",
                            d->p == d->end ? "values" : "values (bad run header)");
    size_t avail = (size_t)(d->end - d->p);
    if (h & 1) {
        uint64_t groups = h >> 1;
        size_t bytes = avail;
        if (d->bw == 0 || groups <= avail / (size_t)d->bw) bytes = (size_t)groups * (size_t)d->bw;
        if (groups > (UINT64_C(1) << 40)) groups = UINT64_C(1) << 40;
        d->is_rle = 0;
        d->bp = d->p;
        d->bp_bits = bytes * 8;
        d->bp_pos = 0;
        d->p += bytes;
        /* A last run may be cut short: use the whole values present. */
        d->left = d->bw ? (bytes * 8 / (size_t)d->bw < groups * 8 ? bytes * 8 / (size_t)d->bw
                                                                  : groups * 8)
                        : groups * 8;
    } else {
        size_t nb = ((size_t)d->bw + 7) / 8;
        if (nb > avail)
            return sl_error_set(err, SL_ERR_CORRUPT, "RLE run value cut off by the end of data");
        uint32_t v = 0;
        for (size_t i = 0; i < nb; i++)
            v |= (uint32_t)d->p[i] << (8 * i);
        d->p += nb;
        d->is_rle = 1;
        d->value = v;
        d->left = h >> 1;
    }
    return SL_OK;
}

sl_err_t sl_pq_rd_rle_get(sl_pq_rd_rle *d, uint32_t *out, size_t count, sl_error *err)
{
    size_t i = 0;
    while (i < count) {
        if (!d->left) {
            TRY(rle_next_run(d, err));
            continue;
        }
        size_t take = count - i < d->left ? count - i : (size_t)d->left;
        if (d->is_rle) {
            for (size_t j = 0; j < take; j++)
                out[i + j] = d->value;
        } else {
            for (size_t j = 0; j < take; j++) {
                out[i + j] = (uint32_t)unpack_bits(d->bp, d->bp_pos, d->bw);
                d->bp_pos += (size_t)d->bw;
            }
        }
        i += take;
        d->left -= take;
    }
    return SL_OK;
}

sl_err_t sl_pq_rd_rle_levels(sl_pq_rd_rle *d, uint8_t *out, size_t count, int max, sl_error *err)
{
    uint32_t tmp[SL_PQ_CHUNK];
    size_t i = 0;
    while (i < count) {
        if (d->left && d->is_rle) { /* runs: no per-value work */
            if (d->value > (uint32_t)max)
                return sl_error_set(err, SL_ERR_CORRUPT, "level %u above the maximum %d", d->value,
                                    max);
            size_t take = count - i < d->left ? count - i : (size_t)d->left;
            memset(out + i, (int)d->value, take);
            i += take;
            d->left -= take;
            continue;
        }
        size_t take = count - i < SL_PQ_CHUNK ? count - i : SL_PQ_CHUNK;
        if (d->left && take > d->left) take = (size_t)d->left;
        if (!d->left) take = 1; /* let get() read the next run header */
        TRY(sl_pq_rd_rle_get(d, tmp, take, err));
        for (size_t j = 0; j < take; j++) {
            if (tmp[j] > (uint32_t)max)
                return sl_error_set(err, SL_ERR_CORRUPT, "level %u above the maximum %d", tmp[j],
                                    max);
            out[i + j] = (uint8_t)tmp[j];
        }
        i += take;
    }
    return SL_OK;
}

/* ---- DELTA_BINARY_PACKED (streaming) ---- */

typedef struct dbp {
    const uint8_t *p, *end;
    uint64_t block, n_mb, vpm, total, done, last, first;
    uint64_t min_delta;
    const uint8_t *widths;
    uint64_t mb;       /* next miniblock in the block; n_mb = start a new block */
    const uint8_t *mp; /* current miniblock body */
    size_t mpos;
    int bw;
    uint64_t mleft;
} dbp;

static sl_err_t dbp_init(dbp *d, const uint8_t *p, const uint8_t *end, sl_error *err)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = end;
    uint64_t fv;
    if (sl_varint_get(&d->p, end, &d->block) || sl_varint_get(&d->p, end, &d->n_mb) ||
        sl_varint_get(&d->p, end, &d->total) || sl_varint_get(&d->p, end, &fv))
        return sl_error_set(err, SL_ERR_CORRUPT, "DELTA_BINARY_PACKED: truncated header");
    if (!d->block || d->block % 128 || d->block > (UINT64_C(1) << 31) || !d->n_mb ||
        d->block % d->n_mb || (d->block / d->n_mb) % 8)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "DELTA_BINARY_PACKED: bad block size %llu / %llu miniblocks",
                            (unsigned long long)d->block, (unsigned long long)d->n_mb);
    d->vpm = d->block / d->n_mb;
    d->first = (uint64_t)sl_zigzag_dec64(fv);
    d->mb = d->n_mb;
    return SL_OK;
}

/* Position the decoder on a miniblock with values left. */
static sl_err_t dbp_next_mb(dbp *d, sl_error *err)
{
    if (d->mb == d->n_mb) {
        uint64_t md;
        if (sl_varint_get(&d->p, d->end, &md) || (size_t)(d->end - d->p) < d->n_mb)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "DELTA_BINARY_PACKED: block header cut off by the end of data");
        d->min_delta = (uint64_t)sl_zigzag_dec64(md);
        d->widths = d->p;
        d->p += d->n_mb;
        d->mb = 0;
    }
    int bw = d->widths[d->mb++];
    if (bw > 64)
        return sl_error_set(err, SL_ERR_CORRUPT, "DELTA_BINARY_PACKED: bit width %d > 64", bw);
    uint64_t need = d->total - d->done;
    d->mleft = need < d->vpm ? need : d->vpm;
    size_t body = (size_t)(d->vpm * (uint64_t)bw / 8), avail = (size_t)(d->end - d->p);
    if (body > avail) { /* a cut-off last miniblock is fine if its values are there */
        if ((uint64_t)avail * 8 < d->mleft * (uint64_t)bw)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "DELTA_BINARY_PACKED: miniblock cut off by the end of data");
        body = avail;
    }
    d->bw = bw;
    d->mp = d->p;
    d->mpos = 0;
    d->p += body;
    return SL_OK;
}

/* Next count values (out may be NULL to skip). */
static sl_err_t dbp_get(dbp *d, uint64_t *out, size_t count, sl_error *err)
{
    for (size_t i = 0; i < count; i++) {
        if (d->done == d->total)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "DELTA_BINARY_PACKED: holds %llu values, more are needed",
                                (unsigned long long)d->total);
        uint64_t v;
        if (d->done == 0) {
            v = d->first;
        } else {
            if (!d->mleft) TRY(dbp_next_mb(d, err));
            uint64_t delta = d->bw ? unpack_bits(d->mp, d->mpos, d->bw) : 0;
            d->mpos += (size_t)d->bw;
            d->mleft--;
            v = d->last + d->min_delta + delta;
        }
        d->last = v;
        d->done++;
        if (out) out[i] = v;
    }
    return SL_OK;
}

/* Skip to the end of all values; returns where the next section starts. */
static sl_err_t dbp_finish(dbp *d, const uint8_t **after, sl_error *err)
{
    while (d->done < d->total) {
        if (d->done && !d->mleft) TRY(dbp_next_mb(d, err));
        uint64_t k = d->done ? d->mleft : 1;
        if (d->done) {
            d->mpos += (size_t)(k * (uint64_t)d->bw);
            d->mleft = 0;
        }
        d->done += k;
    }
    *after = d->p;
    return SL_OK;
}

/* ---- builder appends ---- */

static sl_err_t charge(uint64_t *budget, size_t bytes, sl_error *err)
{
    if (bytes > *budget)
        return sl_error_set(err, SL_ERR_LIMIT,
                            "decoded data exceeds the reader's memory bound for one row group; "
                            "raise the bound (sl_pq_reader.max_batch_bytes) if the file is valid");
    *budget -= bytes;
    return SL_OK;
}

static sl_err_t reserve_vals(sl_col *c, size_t bytes, uint64_t *budget, sl_error *err)
{
    TRY(charge(budget, bytes, err));
    if (c->type == SL_PT_BYTE_ARRAY && bytes > UINT32_MAX - c->val.len)
        return sl_error_set(err, SL_ERR_LIMIT, "byte-array column holds more than 4 GiB");
    sl_err_t rc = sl_buf_reserve(&c->val, bytes);
    if (rc) return sl_error_set(err, rc, "value buffer: %s", sl_err_text(rc));
    return SL_OK;
}

static sl_err_t reserve_offs(sl_col *c, size_t n, uint64_t *budget, sl_error *err)
{
    TRY(charge(budget, n * 4, err));
    while (c->off_cap <= c->nvals + n) {
        sl_err_t rc = sl_col_grow_offs(c);
        if (rc) return sl_error_set(err, rc, "offsets: %s", sl_err_text(rc));
    }
    return SL_OK;
}

static inline void put_ba(sl_col *c, const uint8_t *p, size_t len)
{
    if (len) memcpy(c->val.p + c->val.len, p, len);
    c->val.len += len;
    c->off[++c->nvals] = (uint32_t)c->val.len;
}

/* ---- PLAIN ---- */

static sl_err_t plain(sl_col *c, size_t w, const uint8_t *p, size_t len, size_t n, uint64_t *budget,
                      sl_error *err)
{
    if (!n) return SL_OK; /* an empty dictionary: nothing reserved, nothing to touch */
    if (c->type == SL_PT_BYTE_ARRAY) {
        if (n > len / 4)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "PLAIN: %zu byte arrays cannot fit in %zu bytes", n, len);
        TRY(reserve_offs(c, n, budget, err));
        TRY(reserve_vals(c, len - 4 * n, budget, err));
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            if (len - pos < 4)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "PLAIN: byte array %zu: length cut off by the page end", i);
            uint32_t l = rd32(p + pos);
            pos += 4;
            /* Leave 4 bytes for each length still to come: the reservation
             * above (len - 4n) holds only if every value does. */
            size_t rest = 4 * (n - 1 - i);
            if (len - pos < rest || l > len - pos - rest)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "PLAIN: byte array %zu of length %u runs past the page end", i,
                                    l);
            put_ba(c, p + pos, l);
            pos += l;
        }
        return SL_OK;
    }
    if (c->type == SL_PT_BOOLEAN) {
        if (n > len * 8)
            return sl_error_set(err, SL_ERR_CORRUPT, "PLAIN: %zu booleans cannot fit in %zu bytes",
                                n, len);
        TRY(reserve_vals(c, n, budget, err));
        uint8_t *o = c->val.p + c->val.len;
        for (size_t i = 0; i < n; i++)
            o[i] = (p[i >> 3] >> (i & 7)) & 1;
        c->val.len += n;
        c->nvals += n;
        return SL_OK;
    }
    if (!w || n > len / w)
        return sl_error_set(err, SL_ERR_CORRUPT, "PLAIN: %zu values of %zu bytes cannot fit in %zu",
                            n, w, len);
    TRY(reserve_vals(c, n * w, budget, err));
    memcpy(c->val.p + c->val.len, p, n * w);
    c->val.len += n * w;
    c->nvals += n;
    return SL_OK;
}

/* ---- dictionaries ---- */

void sl_pq_rd_dict_free(sl_pq_rd_dict *d)
{
    sl_buf_free(&d->data);
    free(d->off);
    memset(d, 0, sizeof *d);
}

sl_err_t sl_pq_rd_dict_load(sl_pq_rd_dict *d, int ptype, size_t width, const uint8_t *p, size_t len,
                            int32_t n, sl_error *err)
{
    d->n = 0;
    d->loaded = 0;
    sl_buf_reset(&d->data);
    /* Decode through a throw-away builder-shaped view of the dictionary. */
    sl_col c;
    memset(&c, 0, sizeof c);
    c.type = (uint8_t)ptype;
    c.val = d->data;
    c.off = d->off;
    c.off_cap = d->off_cap;
    if (ptype == SL_PT_BYTE_ARRAY && !c.off_cap && sl_col_grow_offs(&c))
        return sl_error_set(err, SL_ERR_NOMEM, "dictionary: out of memory");
    if (ptype == SL_PT_BYTE_ARRAY) c.off[0] = 0;
    uint64_t budget = UINT64_MAX; /* bounded by the page: PLAIN never expands */
    sl_err_t rc = n < 0 ? sl_error_set(err, SL_ERR_CORRUPT, "dictionary: negative size")
                        : plain(&c, width, p, len, (size_t)n, &budget, err);
    d->data = c.val;
    d->off = c.off;
    d->off_cap = c.off_cap;
    if (rc) return rc;
    d->n = n;
    d->width = ptype == SL_PT_BYTE_ARRAY ? 0 : width;
    d->loaded = 1;
    return SL_OK;
}

static sl_err_t dict_values(sl_col *c, size_t w, const uint8_t *p, size_t len, size_t n,
                            const sl_pq_rd_dict *dict, uint64_t *budget, sl_error *err)
{
    if (!dict || !dict->loaded)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "dictionary-encoded page but the column chunk has no dictionary page");
    if (n && !len) return sl_error_set(err, SL_ERR_CORRUPT, "dictionary indices: empty data");
    if (!n) return SL_OK;
    int bw = p[0];
    if (bw > 32) return sl_error_set(err, SL_ERR_CORRUPT, "dictionary index bit width %d > 32", bw);
    sl_pq_rd_rle d;
    sl_pq_rd_rle_init(&d, p + 1, len - 1, bw);
    uint32_t idx[SL_PQ_CHUNK];
    if (c->type == SL_PT_BYTE_ARRAY) TRY(reserve_offs(c, n, budget, err));
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SL_PQ_CHUNK ? n - done : SL_PQ_CHUNK;
        TRY(sl_pq_rd_rle_get(&d, idx, k, err));
        size_t bytes = 0;
        for (size_t j = 0; j < k; j++) {
            if (idx[j] >= (uint32_t)dict->n)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "dictionary index %u out of range (dictionary has %d values)",
                                    idx[j], dict->n);
            bytes += c->type == SL_PT_BYTE_ARRAY ? dict->off[idx[j] + 1] - dict->off[idx[j]] : w;
        }
        TRY(reserve_vals(c, bytes, budget, err));
        if (c->type == SL_PT_BYTE_ARRAY) {
            for (size_t j = 0; j < k; j++) {
                uint32_t a = dict->off[idx[j]], b = dict->off[idx[j] + 1];
                put_ba(c, dict->data.p + a, b - a);
            }
        } else {
            uint8_t *o = c->val.p + c->val.len;
            for (size_t j = 0; j < k; j++)
                memcpy(o + j * w, dict->data.p + (size_t)idx[j] * w, w);
            c->val.len += k * w;
            c->nvals += k;
        }
        done += k;
    }
    return SL_OK;
}

/* ---- RLE booleans ---- */

static sl_err_t rle_bool(sl_col *c, const uint8_t *p, size_t len, size_t n, uint64_t *budget,
                         sl_error *err)
{
    if (len < 4 || rd32(p) > len - 4)
        return sl_error_set(err, SL_ERR_CORRUPT, "RLE booleans: bad length prefix");
    sl_pq_rd_rle d;
    sl_pq_rd_rle_init(&d, p + 4, rd32(p), 1);
    TRY(reserve_vals(c, n, budget, err));
    TRY(sl_pq_rd_rle_levels(&d, c->val.p + c->val.len, n, 1, err));
    c->val.len += n;
    c->nvals += n;
    return SL_OK;
}

/* ---- DELTA_BINARY_PACKED values ---- */

static sl_err_t delta_ints(sl_col *c, size_t w, const uint8_t *p, size_t len, size_t n,
                           uint64_t *budget, sl_error *err)
{
    if (c->type != SL_PT_INT32 && c->type != SL_PT_INT64)
        return sl_error_set(err, SL_ERR_CORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
    dbp d;
    TRY(dbp_init(&d, p, p + len, err));
    if (d.total < n)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "DELTA_BINARY_PACKED: holds %llu values, the page needs %zu",
                            (unsigned long long)d.total, n);
    TRY(reserve_vals(c, n * w, budget, err));
    uint64_t v[SL_PQ_CHUNK];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SL_PQ_CHUNK ? n - done : SL_PQ_CHUNK;
        TRY(dbp_get(&d, v, k, err));
        uint8_t *o = c->val.p + c->val.len;
        for (size_t j = 0; j < k; j++) {
            if (w == 4) {
                uint32_t x = (uint32_t)v[j];
                memcpy(o + 4 * j, &x, 4);
            } else {
                memcpy(o + 8 * j, &v[j], 8);
            }
        }
        c->val.len += k * w;
        c->nvals += k;
        done += k;
    }
    return SL_OK;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */

/* Lengths section: check n values, each in [0, INT32_MAX], and find where
 * the section ends and the total. */
static sl_err_t lengths_scan(const uint8_t *p, const uint8_t *end, size_t n, const char *what,
                             const uint8_t **after, uint64_t *sum, sl_error *err)
{
    dbp d;
    uint64_t v[SL_PQ_CHUNK];
    TRY(dbp_init(&d, p, end, err));
    if (d.total != n)
        return sl_error_set(err, SL_ERR_CORRUPT, "%s: %llu lengths for %zu values", what,
                            (unsigned long long)d.total, n);
    *sum = 0;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SL_PQ_CHUNK ? n - done : SL_PQ_CHUNK;
        TRY(dbp_get(&d, v, k, err));
        for (size_t j = 0; j < k; j++) {
            if (v[j] > INT32_MAX)
                return sl_error_set(err, SL_ERR_CORRUPT, "%s: negative or huge length", what);
            *sum += v[j];
        }
        done += k;
    }
    return dbp_finish(&d, after, err);
}

static sl_err_t delta_length(sl_col *c, const uint8_t *p, size_t len, size_t n, uint64_t *budget,
                             sl_error *err)
{
    if (c->type != SL_PT_BYTE_ARRAY)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
    const uint8_t *end = p + len, *data;
    uint64_t sum;
    TRY(lengths_scan(p, end, n, "DELTA_LENGTH_BYTE_ARRAY", &data, &sum, err));
    if (sum > (uint64_t)(end - data))
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "DELTA_LENGTH_BYTE_ARRAY: lengths add up to %llu, %zu bytes present",
                            (unsigned long long)sum, (size_t)(end - data));
    TRY(reserve_offs(c, n, budget, err));
    TRY(reserve_vals(c, (size_t)sum, budget, err));
    dbp d;
    uint64_t v[SL_PQ_CHUNK];
    TRY(dbp_init(&d, p, end, err));
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SL_PQ_CHUNK ? n - done : SL_PQ_CHUNK;
        TRY(dbp_get(&d, v, k, err));
        for (size_t j = 0; j < k; j++) {
            put_ba(c, data, (size_t)v[j]);
            data += v[j];
        }
        done += k;
    }
    return SL_OK;
}

static sl_err_t delta_byte_array(sl_col *c, size_t w, const uint8_t *p, size_t len, size_t n,
                                 uint64_t *budget, sl_error *err)
{
    int fixed = c->type == SL_PT_FIXED_LEN_BYTE_ARRAY;
    if (c->type != SL_PT_BYTE_ARRAY && !fixed)
        return sl_error_set(err, SL_ERR_CORRUPT, "DELTA_BYTE_ARRAY on a non-byte-array column");
    const uint8_t *end = p + len, *suffixes, *data;
    uint64_t psum, ssum;
    TRY(lengths_scan(p, end, n, "DELTA_BYTE_ARRAY prefixes", &suffixes, &psum, err));
    TRY(lengths_scan(suffixes, end, n, "DELTA_BYTE_ARRAY suffixes", &data, &ssum, err));
    if (ssum > (uint64_t)(end - data))
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "DELTA_BYTE_ARRAY: suffixes add up to %llu, %zu bytes present",
                            (unsigned long long)ssum, (size_t)(end - data));
    if (!fixed) TRY(reserve_offs(c, n, budget, err));
    dbp dp, ds;
    TRY(dbp_init(&dp, p, end, err));
    TRY(dbp_init(&ds, suffixes, end, err));
    uint64_t pre[SL_PQ_CHUNK], suf[SL_PQ_CHUNK];
    size_t prev_off = 0, prev_len = 0;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < SL_PQ_CHUNK ? n - done : SL_PQ_CHUNK;
        TRY(dbp_get(&dp, pre, k, err));
        TRY(dbp_get(&ds, suf, k, err));
        for (size_t j = 0; j < k; j++) {
            if (pre[j] > prev_len)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "DELTA_BYTE_ARRAY: value %zu reuses %llu bytes of a %zu-byte "
                                    "previous value",
                                    done + j, (unsigned long long)pre[j], prev_len);
            size_t l = (size_t)(pre[j] + suf[j]);
            if (fixed && l != w)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "DELTA_BYTE_ARRAY: value %zu has %zu bytes, the column %zu",
                                    done + j, l, w);
            TRY(reserve_vals(c, l, budget, err));
            if (l) { /* (val.p may still be NULL when every value so far is empty) */
                uint8_t *o = c->val.p + c->val.len;
                if (pre[j]) memcpy(o, c->val.p + prev_off, (size_t)pre[j]);
                if (suf[j]) memcpy(o + pre[j], data, (size_t)suf[j]);
            }
            data += suf[j];
            prev_off = c->val.len;
            prev_len = l;
            if (fixed) {
                c->val.len += l;
                c->nvals++;
            } else {
                c->val.len += l;
                c->off[++c->nvals] = (uint32_t)c->val.len;
            }
        }
        done += k;
    }
    return SL_OK;
}

/* ---- BYTE_STREAM_SPLIT ---- */

static sl_err_t byte_stream_split(sl_col *c, size_t w, const uint8_t *p, size_t len, size_t n,
                                  uint64_t *budget, sl_error *err)
{
    if (c->type == SL_PT_BYTE_ARRAY || c->type == SL_PT_BOOLEAN || !w)
        return sl_error_set(err, SL_ERR_CORRUPT, "BYTE_STREAM_SPLIT on a variable-width column");
    if (n > len / w)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "BYTE_STREAM_SPLIT: %zu values of %zu bytes need more than %zu bytes",
                            n, w, len);
    TRY(reserve_vals(c, n * w, budget, err));
    uint8_t *o = c->val.p + c->val.len;
    for (size_t b = 0; b < w; b++) {
        const uint8_t *s = p + b * n;
        for (size_t i = 0; i < n; i++)
            o[i * w + b] = s[i];
    }
    c->val.len += n * w;
    c->nvals += n;
    return SL_OK;
}

sl_err_t sl_pq_rd_values(sl_col *c, size_t width, int encoding, const uint8_t *p, size_t len,
                         size_t n, const sl_pq_rd_dict *dict, uint64_t *budget, sl_error *err)
{
    if (!n) return SL_OK; /* an all-null page may carry no value section at all */
    switch (encoding) {
    case SL_PQ_ENC_PLAIN:
        return plain(c, width, p, len, n, budget, err);
    case SL_PQ_ENC_PLAIN_DICTIONARY:
    case SL_PQ_ENC_RLE_DICTIONARY:
        return dict_values(c, width, p, len, n, dict, budget, err);
    case SL_PQ_ENC_RLE:
        if (c->type != SL_PT_BOOLEAN) break;
        return rle_bool(c, p, len, n, budget, err);
    case SL_PQ_ENC_DELTA_BINARY_PACKED:
        return delta_ints(c, width, p, len, n, budget, err);
    case SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return delta_length(c, p, len, n, budget, err);
    case SL_PQ_ENC_DELTA_BYTE_ARRAY:
        return delta_byte_array(c, width, p, len, n, budget, err);
    case SL_PQ_ENC_BYTE_STREAM_SPLIT:
        return byte_stream_split(c, width, p, len, n, budget, err);
    default:
        break;
    }
    return sl_error_set(err, SL_ERR_UNSUPPORTED,
                        "value encoding %d is not supported for this column", encoding);
}
