/* pq_column.c - the column chunk writer: levels and values of one leaf
 * column into data pages, a dictionary page, and chunk metadata.
 *
 * Hot path (sl_pq_colw_append): a batch column arrives as a range of
 * slots. It is cut into slices that fit the open page (and end on a row
 * boundary); per slice the levels are memcpy'd into the page (one byte per
 * slot, counted and range-checked in one vectorizable loop), and the
 * values are appended by one type-specialized routine: a memcpy for PLAIN
 * fixed width, a bulk dictionary map for dictionary pages, a length+bytes
 * copy for PLAIN byte arrays, bit packing for BOOLEAN. Statistics fold in
 * per slice (fixed width) or per distinct dictionary entry (byte arrays).
 * No function pointer is called per value.
 *
 * Page cut: levels are RLE/bit-packed into a scratch buffer (4-byte length
 * prefix each, repetition first, absent when the max level is 0) and
 * copied into the headroom kept in front of the page's values, so the body
 * (levels, then PLAIN values or bit-width byte + hybrid indexes) is one
 * contiguous run without concatenating the values; it is compressed
 * exactly once, straight into the chunk's block store (pq_blocks.c) behind
 * its header, which carries the page statistics. Values are thus copied
 * twice in all: batch -> page, page -> chunk (or the compressor).
 *
 * Dictionary policy, per column chunk (as parquet-mr):
 *   - BOOLEAN is never dictionary encoded (bits are smaller);
 *   - at the first page cut, if dictionary + indexes are not smaller than
 *     PLAIN, the page is re-encoded PLAIN from the dictionary and the chunk
 *     goes on without one; a chunk whose first 4096+ values are over 90%
 *     distinct (ids, timestamps) gives up as soon as that is seen, to save
 *     hashing a whole page of values that will not repeat;
 *   - when the dictionary passes dict_max_bytes (checked after each slice,
 *     so it may overshoot by one slice), the open page is cut as it is and
 *     the rest of the chunk is PLAIN; the dictionary page stays for the
 *     pages that use it.
 * A new chunk (row group) starts with an empty dictionary again.
 *
 * Pages without a dictionary (the chunk gave it up, or it grew past its
 * bound), when --no-dictionary is not set:
 *   - INT64: DELTA_BINARY_PACKED (pq_encode.c), encoded at the cut from the
 *     page's PLAIN values: ids and timestamps take about half of PLAIN's 8
 *     bytes, as little as zstd made of PLAIN, and the bit-packed deltas
 *     need no codec (the chunk's trial then stores them UNCOMPRESSED). On
 *     the reference PlayEvent (5 such columns and a list) zstd ran ~20%
 *     fewer instructions in all and the file got 3% smaller; `--compression
 *     none` writes 23% fewer bytes for +4% instructions (~25 a value).
 *   - BYTE_ARRAY: DELTA_LENGTH_BYTE_ARRAY. The page holds the bytes alone
 *     (one copy per slice: the batch keeps them back to back) and the
 *     lengths in pidx; at the cut the delta-packed lengths are appended to
 *     the levels, so the body is still levels, then values, with no copy.
 *     zstd no longer works through a 4-byte length per value: -17% of the
 *     instructions of a zstd run on PlayEvent, 10% fewer bytes without one.
 * parquet-mr's v2 writer makes the same choices; every reader we test
 * against (DuckDB, hyparquet, ours) reads them in v1 pages.
 *
 * Memory: one open page of levels/values/indexes, the compressed chunk,
 * and the dictionary (<= dict_max_bytes + one slice).
 *
 * Cost (bench: test_pq_writer --bench, a 23-column play_event-like batch,
 * best of 3 on a shared 2-core VM): ~3.4k instructions and 270-300 ns per
 * row uncompressed, most of it dictionary hashing of short strings and the
 * two copies; zstd adds its own ~400 ns. Measured later with callgrind on
 * `sluice convert` of 100k bench events: ~2.4k writer instructions a row,
 * ~60-75 a short-string dictionary lookup (was ~115 before short keys). A
 * writer's first file also pays first-touch page faults (~600 ns/row for
 * its first million rows); pq_blocks.c recycles chunk memory across
 * writers to keep that to the first file of a process.
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/parquet/pq_writer_int.h"

static char *colname(const sl_pq_colw *c, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < c->n_path && n + 1 < cap; i++) {
        int k = snprintf(buf + n, cap - n, "%s%s", i ? "." : "", c->path[i]);
        if (k < 0) break;
        n += (size_t)k;
    }
    return buf;
}

static sl_err_t col_fail(const sl_pq_colw *c, sl_err_t code, sl_error *err, const char *what)
{
    char name[256];
    return sl_error_set(err, code, "column %s: %s", colname(c, name, sizeof name), what);
}

sl_err_t sl_pq_colw_init(sl_pq_writer *w, sl_pq_colw *c, int32_t leaf, sl_error *err)
{
    const sl_node *n = sl_schema_leaf(w->schema, leaf);
    c->node = n;
    c->leaf = leaf;
    c->c_codec = -1;
    c->ptype = n->ptype;
    c->max_def = n->max_def;
    c->max_rep = n->max_rep;
    c->def_bw = sl_pq_bit_width((uint64_t)n->max_def);
    c->rep_bw = sl_pq_bit_width((uint64_t)n->max_rep);
    int is_unsigned = n->logical.kind == SL_LT_INT && !n->logical.is_signed;
    switch (n->ptype) {
    case SL_PT_BOOLEAN:
        c->width = 1, c->sk = SL_PQ_SK_BOOL;
        break;
    case SL_PT_INT32:
        c->width = 4, c->sk = is_unsigned ? SL_PQ_SK_U32 : SL_PQ_SK_I32;
        break;
    case SL_PT_INT64:
        c->width = 8, c->sk = is_unsigned ? SL_PQ_SK_U64 : SL_PQ_SK_I64;
        break;
    case SL_PT_FLOAT:
        c->width = 4, c->sk = SL_PQ_SK_F32;
        break;
    case SL_PT_DOUBLE:
        c->width = 8, c->sk = SL_PQ_SK_F64;
        break;
    case SL_PT_BYTE_ARRAY:
        c->width = 0;
        c->sk = (n->logical.kind == SL_LT_STRING || n->logical.kind == SL_LT_ENUM) ? SL_PQ_SK_UTF8
                                                                                   : SL_PQ_SK_BYTES;
        break;
    default:
        return col_fail(c, SL_ERR_UNSUPPORTED, err,
                        "INT96 and FIXED_LEN_BYTE_ARRAY columns can be read but not written");
    }
    c->can_dict = !w->opt.no_dictionary && n->ptype != SL_PT_BOOLEAN;
    c->can_delta = !w->opt.no_dictionary && !w->opt.no_delta &&
                   (n->ptype == SL_PT_INT64 || n->ptype == SL_PT_BYTE_ARRAY);
    c->dict_on = c->can_dict;
    sl_pq_dict_init(&c->dict, c->width);
    c->page_no = 1;
    c->ph = 64;
    if (sl_buf_reserve(&c->pval, c->ph)) return col_fail(c, SL_ERR_NOMEM, err, "out of memory");
    c->pval.len = c->ph;
    return SL_OK;
}

void sl_pq_colw_free(sl_pq_colw *c)
{
    free(c->pdef);
    free(c->prep);
    free(c->pidx);
    free(c->fresh);
    sl_buf_free(&c->pval);
    sl_pq_blocks_free(&c->chunk);
    sl_pq_dict_free(&c->dict);
    sl_pq_acc_free(&c->pst);
    sl_pq_acc_free(&c->cst);
}

/* ---- open page ---- */

static size_t idx_width(const sl_pq_colw *c)
{
    int bw = c->dict.n > 1 ? sl_pq_bit_width(c->dict.n - 1) : 1;
    return (size_t)bw;
}

static size_t page_est(const sl_pq_colw *c)
{
    size_t lv = (c->pslots * (size_t)(c->def_bw + c->rep_bw) + 7) / 8;
    if (c->dict_on) return lv + (c->pvals * idx_width(c) + 7) / 8;
    return lv + c->pval.len - c->ph;
}

size_t sl_pq_colw_estimate(const sl_pq_colw *c)
{
    size_t d = (c->dict_on || c->dict_used) ? c->dict.vals.len : 0;
    return (size_t)c->c_unc + d + page_est(c);
}

/* Slots that fit the open page (>= 1). */
static size_t slice_room(const sl_pq_writer *w, const sl_pq_colw *c, const sl_col *src)
{
    size_t est = page_est(c), pb = w->opt.page_bytes;
    size_t left = est < pb ? pb - est : 0;
    size_t per;
    if (c->dict_on) {
        per = (idx_width(c) + 7) / 8;
    } else if (c->width) {
        per = c->width;
    } else {
        per = 4 + (src->nvals ? src->val.len / src->nvals : 0);
    }
    per += (size_t)(c->def_bw + c->rep_bw + 7) / 8;
    size_t room = left / per + 1;
    size_t cap = c->pslots < SL_PQ_PAGE_MAX_SLOTS ? SL_PQ_PAGE_MAX_SLOTS - c->pslots : 1;
    return room < cap ? room : cap;
}

static sl_err_t grow_u8(uint8_t **p, size_t cap)
{
    uint8_t *q = realloc(*p, cap);
    if (!q) return SL_ERR_NOMEM;
    *p = q;
    return SL_OK;
}

static sl_err_t ensure_levels(sl_pq_colw *c, size_t need)
{
    if (need <= c->plvl_cap) return SL_OK;
    size_t cap = c->plvl_cap ? c->plvl_cap * 2 : 1024;
    while (cap < need)
        cap *= 2;
    if ((c->max_def && grow_u8(&c->pdef, cap)) || (c->max_rep && grow_u8(&c->prep, cap)))
        return SL_ERR_NOMEM;
    c->plvl_cap = cap;
    return SL_OK;
}

static sl_err_t ensure_u32(uint32_t **p, size_t *cap, size_t need)
{
    if (need <= *cap) return SL_OK;
    size_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need)
        ncap *= 2;
    uint32_t *q = realloc(*p, ncap * sizeof *q);
    if (!q) return SL_ERR_NOMEM;
    *p = q;
    *cap = ncap;
    return SL_OK;
}

static sl_err_t put_bool(sl_pq_colw *c, const uint8_t *v, size_t n)
{
    size_t nbytes = c->ph + (c->pbits + n + 7) / 8;
    if (nbytes > c->pval.len) {
        size_t add = nbytes - c->pval.len;
        if (sl_buf_reserve(&c->pval, add)) return SL_ERR_NOMEM;
        memset(c->pval.p + c->pval.len, 0, add);
        c->pval.len = nbytes;
    }
    uint8_t any0 = 0, any1 = 0;
    size_t b = c->pbits;
    for (size_t j = 0; j < n; j++, b++) {
        uint8_t x = v[j] != 0;
        any0 |= (uint8_t)!x;
        any1 |= x;
        c->pval.p[c->ph + (b >> 3)] |= (uint8_t)(x << (b & 7));
    }
    c->pbits = b;
    c->pplain = c->pval.len - c->ph;
    if (n) {
        uint8_t mm[2] = {any0 ? 0 : 1, any1 ? 1 : 0};
        sl_pq_acc_fixed(&c->pst, SL_PQ_SK_BOOL, mm, 2);
    }
    return SL_OK;
}

static sl_err_t put_bytes_plain(sl_pq_colw *c, const uint8_t *base, const uint32_t *off, size_t n)
{
    size_t total = (size_t)(off[n] - off[0]) + 4 * n;
    if (sl_buf_reserve(&c->pval, total)) return SL_ERR_NOMEM;
    uint8_t *o = c->pval.p + c->pval.len;
    for (size_t j = 0; j < n; j++) {
        uint32_t len = off[j + 1] - off[j];
        const uint8_t *p = base + off[j];
        memcpy(o, &len, 4);
        memcpy(o + 4, p, len);
        o += 4 + (size_t)len;
    }
    if (sl_pq_acc_bytes_offs(&c->pst, base, off, n)) return SL_ERR_NOMEM;
    c->pval.len += total;
    c->pplain += total;
    return SL_OK;
}

/* DELTA_LENGTH_BYTE_ARRAY page: the bytes in one copy (the batch holds
 * them back to back), the lengths in pidx, encoded at the cut. */
static sl_err_t put_bytes_dlba(sl_pq_colw *c, const uint8_t *base, const uint32_t *off, size_t n)
{
    size_t total = (size_t)(off[n] - off[0]);
    if (sl_buf_reserve(&c->pval, total) || ensure_u32(&c->pidx, &c->pidx_cap, c->pvals + n))
        return SL_ERR_NOMEM;
    memcpy(c->pval.p + c->pval.len, base + off[0], total);
    uint32_t *len = c->pidx + c->pvals;
    for (size_t j = 0; j < n; j++)
        len[j] = off[j + 1] - off[j];
    if (sl_pq_acc_bytes_offs(&c->pst, base, off, n)) return SL_ERR_NOMEM;
    c->pval.len += total;
    c->pplain += total + 4 * n;
    return SL_OK;
}

static sl_err_t put_bytes_dict(sl_pq_colw *c, const uint8_t *base, const uint32_t *off, size_t n)
{
    if (ensure_u32(&c->pidx, &c->pidx_cap, c->pvals + n) || ensure_u32(&c->fresh, &c->fresh_cap, n))
        return SL_ERR_NOMEM;
    size_t nf = 0;
    sl_err_t rc =
        sl_pq_dict_map_bytes(&c->dict, base, off, n, c->pidx + c->pvals, c->page_no, c->fresh, &nf);
    if (rc) return rc;
    for (size_t k = 0; k < nf; k++) {
        uint32_t len;
        const uint8_t *p = sl_pq_dict_bytes(&c->dict, c->fresh[k], &len);
        if (sl_pq_acc_bytes(&c->pst, p, len)) return SL_ERR_NOMEM;
    }
    c->pplain += (size_t)(off[n] - off[0]) + 4 * n;
    return SL_OK;
}

/* Batch checks of the append path (levels within the column's maximum,
 * byte-array offsets non-decreasing) run over every slot and value, so
 * they are written as fixed blocks of 16 levels / 8 offsets plus a scalar
 * tail: gcc's -O2 vectorizer (the "very cheap" cost model) only takes
 * loops whose trip count is known, and turns each block into a few SSE2
 * compares instead of a compare per byte. */
#define LVL_BLOCK 16
#define OFF_BLOCK 8

/* Levels equal to max among d[0..n); *over |= any level above max. */
static size_t scan_levels(const uint8_t *d, size_t n, uint8_t max, uint8_t *over)
{
    size_t cnt = 0, i = 0;
    uint8_t o = 0;
    for (; i + LVL_BLOCK <= n; i += LVL_BLOCK) {
        uint8_t c = 0;
        for (int k = 0; k < LVL_BLOCK; k++) {
            c += d[i + k] == max;
            o |= d[i + k] > max;
        }
        cnt += c;
    }
    for (; i < n; i++) {
        cnt += d[i] == max;
        o |= d[i] > max;
    }
    *over |= o;
    return cnt;
}

/* Any level above max among r[0..n)? */
static uint8_t levels_over(const uint8_t *r, size_t n, uint8_t max)
{
    uint8_t o = 0;
    size_t i = 0;
    for (; i + LVL_BLOCK <= n; i += LVL_BLOCK)
        for (int k = 0; k < LVL_BLOCK; k++)
            o |= r[i + k] > max;
    for (; i < n; i++)
        o |= r[i] > max;
    return o;
}

/* Does off[0..n] decrease anywhere? */
static int offs_decrease(const uint32_t *off, size_t n)
{
    uint32_t bad = 0;
    size_t j = 0;
    for (; j + OFF_BLOCK <= n; j += OFF_BLOCK)
        for (int k = 0; k < OFF_BLOCK; k++)
            bad |= off[j + k + 1] < off[j + k];
    for (; j < n; j++)
        bad |= off[j + 1] < off[j];
    return bad != 0;
}

/* Append n non-null values starting at value v0 of src. */
static sl_err_t put_values(sl_pq_colw *c, const sl_col *src, size_t v0, size_t n, sl_error *err)
{
    sl_err_t rc;
    if (n == 0) return SL_OK;
    if (c->width == 0) {
        const uint32_t *off = src->off + v0;
        if (offs_decrease(off, n) || off[n] > src->val.len)
            return col_fail(c, SL_ERR_INVALID, err,
                            "batch byte-array offsets are not monotonic or pass the value bytes");
        rc = c->dict_on     ? put_bytes_dict(c, src->val.p, off, n)
             : c->can_delta ? put_bytes_dlba(c, src->val.p, off, n)
                            : put_bytes_plain(c, src->val.p, off, n);
    } else {
        const uint8_t *v = src->val.p + v0 * c->width;
        size_t nb = n * c->width;
        if (c->ptype == SL_PT_BOOLEAN) {
            rc = put_bool(c, v, n);
        } else if (c->dict_on) {
            rc = ensure_u32(&c->pidx, &c->pidx_cap, c->pvals + n);
            if (!rc) rc = sl_pq_dict_map_fixed(&c->dict, v, n, c->pidx + c->pvals);
            c->pplain += nb;
            sl_pq_acc_fixed(&c->pst, (sl_pq_sort_t)c->sk, v, n);
        } else {
            rc = sl_buf_append(&c->pval, v, nb);
            c->pplain += nb;
            sl_pq_acc_fixed(&c->pst, (sl_pq_sort_t)c->sk, v, n);
        }
    }
    if (rc) return col_fail(c, rc, err, "out of memory for page values");
    return SL_OK;
}

/* ---- page cut ---- */

static int dict_pays(const sl_pq_colw *c)
{
    size_t idx = (c->pvals * idx_width(c) + 7) / 8 + 1;
    return c->dict.vals.len + idx < c->pplain;
}

/* Re-encode the open dictionary page's values as PLAIN. */
static sl_err_t dict_to_plain(sl_pq_colw *c)
{
    c->pval.len = c->ph;
    for (size_t j = 0; j < c->pvals; j++) {
        uint32_t e = c->pidx[j];
        if (c->width) {
            if (sl_buf_append(&c->pval, c->dict.vals.p + (size_t)e * c->width, c->width))
                return SL_ERR_NOMEM;
        } else {
            uint32_t len;
            const uint8_t *p = sl_pq_dict_bytes(&c->dict, e, &len);
            if (c->can_delta) { /* DELTA_LENGTH_BYTE_ARRAY: the length replaces the index */
                if (sl_buf_append(&c->pval, p, len)) return SL_ERR_NOMEM;
                c->pidx[j] = len;
            } else if (sl_buf_append(&c->pval, p - 4, 4 + (size_t)len)) {
                return SL_ERR_NOMEM;
            }
        }
    }
    return SL_OK;
}

static sl_err_t put_levels(sl_buf *out, const uint8_t *lv, size_t n, int bw)
{
    size_t at = out->len;
    if (sl_buf_put_le32(out, 0) || sl_pq_rle_encode_u8(lv, n, bw, out)) return SL_ERR_NOMEM;
    uint32_t len = (uint32_t)(out->len - at - 4);
    memcpy(out->p + at, &len, 4);
    return SL_OK;
}

/* The next page's values start after a headroom where its levels will be
 * put at the cut (so the body needs no concatenation): a bit more than
 * this page's levels took. */
static void reset_page(sl_pq_colw *c, size_t lvl_len)
{
    size_t ph = lvl_len + lvl_len / 4 + 16;
    if (ph < 64) ph = 64;
    if (ph <= c->pval.cap) c->ph = ph; /* else keep the old headroom: the buffer holds it */
    c->pslots = c->pvals = 0;
    c->pval.len = c->ph;
    c->pbits = 0;
    c->pplain = 0;
    sl_pq_acc_reset(&c->pst);
    c->page_no++;
    if (c->page_no == 0) c->page_no = 1; /* wrapped: marks of 0 mean "never" */
}

/* Varint bytes of a Thrift i32 field value (zigzag). */
static size_t i32_varint_len(int32_t v)
{
    uint64_t z = sl_zigzag_enc64(v);
    size_t n = 1;
    while (z >= 0x80)
        z >>= 7, n++;
    return n;
}

/* Frame a page into dst: header, then the body compressed once. The body
 * is compressed straight into dst after room for the header, sized with
 * the compressed length guessed as the bound; if the real header is
 * shorter, the compressed bytes move down by the difference (a short move
 * of compressed data, only when the varint length differs). */
static sl_err_t frame_page(sl_pq_writer *w, int codec, int level, sl_pq_page_header *h,
                           const uint8_t *body, size_t n, sl_pq_blocks *dst, size_t *hlen,
                           size_t *clen, sl_error *err)
{
    if (n > INT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "a page of %zu bytes exceeds Parquet's 2 GiB", n);
    h->uncompressed_size = (int32_t)n;
    sl_buf *hb = &w->hdr;
    if (codec == SL_PQ_CODEC_UNCOMPRESSED) {
        h->compressed_size = (int32_t)n;
        hb->len = 0;
        if (sl_pq_page_header_encode(h, hb) || sl_pq_blocks_append(dst, hb->p, hb->len) ||
            sl_pq_blocks_append(dst, body, n))
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory for a page");
        *hlen = hb->len;
        *clen = n;
        return SL_OK;
    }
    size_t bound = sl_pq_compress_bound(codec, n);
    if (bound > INT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "a page of %zu bytes exceeds Parquet's 2 GiB", n);
    h->compressed_size = (int32_t)bound;
    hb->len = 0;
    if (sl_pq_page_header_encode(h, hb))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory for a page header");
    size_t guess = hb->len;
    uint8_t *room = sl_pq_blocks_reserve(dst, guess + bound);
    if (!room) return sl_error_set(err, SL_ERR_NOMEM, "out of memory for a page");
    size_t used = 0;
    sl_err_t rc =
        sl_pq_compress_to(w->codec, codec, level, body, n, room + guess, bound, &used, err);
    if (rc) return rc;
    h->compressed_size = (int32_t)used;
    size_t real = guess - (i32_varint_len((int32_t)bound) - i32_varint_len((int32_t)used));
    hb->len = 0;
    if (sl_pq_page_header_encode(h, hb) || hb->len != real)
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory for a page header");
    if (real != guess) memmove(room + real, room + guess, used);
    memcpy(room, hb->p, real);
    sl_pq_blocks_commit(dst, real + used);
    *hlen = real;
    *clen = used;
    return SL_OK;
}

/* The codec of a column chunk, decided on its first page: compression
 * that saves less than SL_PQ_MIN_SAVING of a sample of the page (random
 * ids, hashes, already dense dictionary indexes) costs CPU for nothing, so
 * such a chunk is stored UNCOMPRESSED (Parquet's codec is per column
 * chunk). The sample is the page's first SL_PQ_TRIAL_BYTES, so the trial
 * costs at most that much extra compression per chunk. The bar is 12%:
 * zstd spends ~14 instructions a byte on the reference workload's index
 * pages that save 8-10% (platform, client.os, tags, is_autoplay); storing
 * them raw was -0.8% of a convert's instructions for +0.3% of the file
 * (at 5%, the bar until 2026-12-07).
 *
 * Then, for zstd at sluice's default level, the level of the chunk's data
 * pages: where the sample under SL_PQ_LEVEL_LITERALS (no match search,
 * Huffman-coded literals) is at most SL_PQ_LIT_SLACK larger than under
 * level 1, matches do not pay and the chunk skips looking for them. That
 * is the case for random hex ids and dotted-quad addresses (buvid,
 * trace_id, ip of the reference workload: 64 of the 67 MB zstd is given,
 * where level 1 found almost nothing and spent a quarter of zstd's time
 * looking); text with repeats keeps level 1. The second trial runs only
 * on chunks that stay compressed, and is cheap (~1.2 GB/s). An explicit
 * level (--level) is used as given. */
#define SL_PQ_TRIAL_BYTES ((size_t)64 << 10)
#define SL_PQ_MIN_SAVING  0.12
#define SL_PQ_LIT_SLACK   0.02

static int chunk_codec(sl_pq_writer *w, sl_pq_colw *c, const uint8_t *body, size_t n)
{
    if (c->c_codec >= 0) return c->c_codec;
    c->c_codec = w->opt.codec;
    c->c_level = w->opt.level;
    if (w->opt.codec == SL_PQ_CODEC_UNCOMPRESSED || w->opt.keep_codec) return c->c_codec;
    size_t sample = n < SL_PQ_TRIAL_BYTES ? n : SL_PQ_TRIAL_BYTES;
    w->trial.len = 0;
    sl_error ignored;
    if (sample < 256 ||
        sl_pq_compress(w->codec, w->opt.codec, w->opt.level, body, sample, &w->trial, &ignored))
        return c->c_codec;
    size_t z = w->trial.len;
    if ((double)z > (1.0 - SL_PQ_MIN_SAVING) * (double)sample) {
        c->c_codec = SL_PQ_CODEC_UNCOMPRESSED;
        return c->c_codec;
    }
    if (w->opt.codec != SL_PQ_CODEC_ZSTD || w->opt.level != 0) return c->c_codec;
    w->trial.len = 0;
    if (!sl_pq_compress(w->codec, w->opt.codec, SL_PQ_LEVEL_LITERALS, body, sample, &w->trial,
                        &ignored) &&
        (double)w->trial.len <= (1.0 + SL_PQ_LIT_SLACK) * (double)z)
        c->c_level = SL_PQ_LEVEL_LITERALS;
    return c->c_codec;
}

/* The page body, levels then values, contiguous: the levels go into the
 * headroom in front of the values when they fit, else both are copied. */
static const uint8_t *page_body(sl_pq_writer *w, const sl_buf *lvl, uint8_t *base, size_t ph,
                                size_t vn, size_t *n)
{
    *n = lvl->len + vn;
    if (lvl->len <= ph) {
        if (lvl->len) memcpy(base + ph - lvl->len, lvl->p, lvl->len);
        return base + ph - lvl->len;
    }
    w->body.len = 0;
    if (sl_buf_append(&w->body, lvl->p, lvl->len) || sl_buf_append(&w->body, base + ph, vn))
        return NULL;
    return w->body.p;
}

static sl_err_t cut_page(sl_pq_writer *w, sl_pq_colw *c, sl_error *err)
{
    if (!c->pslots) return SL_OK;
    sl_err_t rc = SL_OK;
    if (c->dict_on && c->c_pages == 0 && !dict_pays(c)) {
        if ((rc = dict_to_plain(c))) return col_fail(c, rc, err, "out of memory");
        c->dict_on = 0;
        sl_pq_dict_reset(&c->dict);
    }
    sl_buf *lvl = &w->lvl;
    lvl->len = 0;
    if ((c->max_rep && put_levels(lvl, c->prep, c->pslots, c->rep_bw)) ||
        (c->max_def && put_levels(lvl, c->pdef, c->pslots, c->def_bw)))
        return col_fail(c, SL_ERR_NOMEM, err, "out of memory for levels");
    uint8_t *base = c->pval.p;
    size_t ph = c->ph, vn = c->pval.len - c->ph;
    int enc = SL_PQ_ENC_PLAIN;
    if (c->dict_on) {
        int bw = (int)idx_width(c);
        w->vbuf.len = 0;
        if (sl_buf_reserve(&w->vbuf, ph))
            return col_fail(c, SL_ERR_NOMEM, err, "out of memory for indexes");
        w->vbuf.len = ph;
        if (sl_buf_put_u8(&w->vbuf, (uint8_t)bw) ||
            sl_pq_rle_encode_u32(c->pidx, c->pvals, bw, &w->vbuf))
            return col_fail(c, SL_ERR_NOMEM, err, "out of memory for indexes");
        base = w->vbuf.p, vn = w->vbuf.len - ph;
        enc = SL_PQ_ENC_RLE_DICTIONARY;
    } else if (c->can_delta && c->pvals && !c->width) {
        /* DELTA_LENGTH_BYTE_ARRAY: the lengths go after the levels, so the
         * page's bytes stay where they are */
        if (sl_pq_delta_encode_u32(c->pidx, c->pvals, lvl))
            return col_fail(c, SL_ERR_NOMEM, err, "out of memory for lengths");
        enc = SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
    } else if (c->can_delta && c->pvals) {
        w->vbuf.len = 0;
        if (sl_buf_reserve(&w->vbuf, ph))
            return col_fail(c, SL_ERR_NOMEM, err, "out of memory for delta values");
        w->vbuf.len = ph;
        if (sl_pq_delta_encode_i64(c->pval.p + ph, c->pvals, &w->vbuf))
            return col_fail(c, SL_ERR_NOMEM, err, "out of memory for delta values");
        base = w->vbuf.p, vn = w->vbuf.len - ph;
        enc = SL_PQ_ENC_DELTA_BINARY_PACKED;
    }
    size_t blen;
    const uint8_t *body = page_body(w, lvl, base, ph, vn, &blen);
    if (!body) return col_fail(c, SL_ERR_NOMEM, err, "out of memory for a page");
    sl_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = SL_PQ_PAGE_DATA;
    h.num_values = (int32_t)c->pslots;
    h.encoding = enc;
    h.def_encoding = h.rep_encoding = SL_PQ_ENC_RLE;
    h.has_stats = 1;
    sl_pq_stat_bytes sb;
    sl_pq_acc_encode(&c->pst, (sl_pq_sort_t)c->sk, &sb, &h.stats);
    size_t hlen, clen;
    int codec = chunk_codec(w, c, body, blen);
    if ((rc = frame_page(w, codec, c->c_level, &h, body, blen, &c->chunk, &hlen, &clen, err))) {
        char name[256];
        return sl_error_prefix(err, "column %s", colname(c, name, sizeof name));
    }
    c->c_unc += (int64_t)(hlen + blen);
    c->c_comp += (int64_t)(hlen + clen);
    c->c_slots += (int64_t)c->pslots;
    c->c_pages++;
    if (c->dict_on)
        c->dict_used = 1;
    else if (enc == SL_PQ_ENC_DELTA_BINARY_PACKED || enc == SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY)
        c->delta_pages++;
    else
        c->plain_pages++;
    if (sl_pq_acc_merge(&c->cst, &c->pst, (sl_pq_sort_t)c->sk))
        return col_fail(c, SL_ERR_NOMEM, err, "out of memory for statistics");
    reset_page(c, lvl->len);
    return SL_OK;
}

/* ---- append ---- */

sl_err_t sl_pq_colw_append(sl_pq_writer *w, sl_pq_colw *c, const sl_col *src, size_t s0, size_t s1,
                           size_t *v0, sl_error *err)
{
    sl_err_t rc;
    while (s0 < s1) {
        size_t room = slice_room(w, c, src);
        size_t e = s1 - s0 > room ? s0 + room : s1;
        if (c->max_rep)
            while (e < s1 && src->rep[e] != 0)
                e++;
        size_t ns = e - s0, nv = ns;
        if (c->max_def) {
            if (ensure_levels(c, c->pslots + ns))
                return col_fail(c, SL_ERR_NOMEM, err, "out of memory for levels");
            const uint8_t *d = src->def + s0, md = (uint8_t)c->max_def;
            uint8_t over = 0;
            size_t cnt = scan_levels(d, ns, md, &over);
            if (c->max_rep) {
                const uint8_t *r = src->rep + s0, mr = (uint8_t)c->max_rep;
                over |= levels_over(r, ns, mr);
                memcpy(c->prep + c->pslots, r, ns);
            }
            if (over)
                return col_fail(c, SL_ERR_INVALID, err,
                                "batch has a definition or repetition level above the "
                                "column's maximum");
            memcpy(c->pdef + c->pslots, d, ns);
            nv = cnt;
        }
        if (nv > src->nvals - *v0)
            return col_fail(c, SL_ERR_INVALID, err,
                            "batch has more present slots than values (levels and values "
                            "disagree)");
        if ((rc = put_values(c, src, *v0, nv, err))) return rc;
        c->pslots += ns;
        c->pvals += nv;
        c->pst.nulls += (int64_t)(ns - nv);
        *v0 += nv;
        s0 = e;
        if (c->dict_on && c->c_pages == 0 && c->pvals >= 4096 &&
            (size_t)c->dict.n * 10 > c->pvals * 9) {
            /* Unique-looking values (ids, timestamps): stop hashing now
             * rather than at the end of the page. */
            if (dict_to_plain(c)) return col_fail(c, SL_ERR_NOMEM, err, "out of memory");
            c->dict_on = 0;
            sl_pq_dict_reset(&c->dict);
        } else if (c->dict_on && c->dict.vals.len > w->opt.dict_max_bytes) {
            if ((rc = cut_page(w, c, err))) return rc;
            c->dict_on = 0; /* PLAIN for the rest of this chunk */
        } else if (c->pslots >= SL_PQ_PAGE_MAX_SLOTS || page_est(c) >= w->opt.page_bytes) {
            if ((rc = cut_page(w, c, err))) return rc;
        }
    }
    return SL_OK;
}

/* ---- chunk ---- */

static int32_t chunk_encodings(sl_pq_colw *c)
{
    int32_t n = 0;
    if (c->dict_used) c->encodings[n++] = SL_PQ_ENC_RLE_DICTIONARY;
    if (c->dict_used || c->plain_pages || !c->delta_pages)
        c->encodings[n++] = SL_PQ_ENC_PLAIN; /* dictionary page or data pages */
    if (c->delta_pages)
        c->encodings[n++] =
            c->width ? SL_PQ_ENC_DELTA_BINARY_PACKED : SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
    if (c->max_def | c->max_rep) c->encodings[n++] = SL_PQ_ENC_RLE;
    return n;
}

sl_err_t sl_pq_colw_write_chunk(sl_pq_writer *w, sl_pq_colw *c, sl_pq_column_meta *meta,
                                sl_error *err)
{
    sl_err_t rc = cut_page(w, c, err);
    if (rc) return rc;
    int64_t start = (int64_t)w->offset, unc = c->c_unc, comp = c->c_comp;
    int64_t dict_off = -1;
    if (c->dict_used) {
        sl_pq_page_header h;
        memset(&h, 0, sizeof h);
        h.type = SL_PQ_PAGE_DICTIONARY;
        h.num_values = (int32_t)c->dict.n;
        h.encoding = SL_PQ_ENC_PLAIN;
        size_t hlen, clen;
        sl_pq_blocks *frame = &w->dictpage;
        sl_pq_blocks_reset(frame);
        if ((rc = frame_page(w, c->c_codec >= 0 ? c->c_codec : w->opt.codec, w->opt.level, &h,
                             c->dict.vals.p, c->dict.vals.len, frame, &hlen, &clen, err)))
            goto fail;
        if ((rc = sl_pq_blocks_write(w, frame, err))) goto fail;
        unc += (int64_t)(hlen + c->dict.vals.len);
        comp += (int64_t)(hlen + clen);
        dict_off = start;
    }
    int64_t data_off = (int64_t)w->offset;
    if ((rc = sl_pq_blocks_write(w, &c->chunk, err))) goto fail;

    memset(meta, 0, sizeof *meta);
    meta->type = c->ptype;
    meta->n_encodings = chunk_encodings(c);
    meta->encodings = c->encodings;
    meta->path = c->path;
    meta->n_path = c->n_path;
    meta->codec = c->c_codec >= 0 ? c->c_codec : w->opt.codec;
    meta->num_values = c->c_slots;
    meta->total_uncompressed = unc;
    meta->total_compressed = comp;
    meta->data_page_offset = data_off;
    meta->dictionary_page_offset = dict_off;
    sl_pq_acc_encode(&c->cst, (sl_pq_sort_t)c->sk, &c->sb, &meta->stats);
    meta->has_stats = 1;

    sl_pq_blocks_reset(&c->chunk);
    c->c_slots = c->c_unc = c->c_comp = 0;
    c->c_pages = 0;
    c->c_codec = -1;
    c->plain_pages = c->delta_pages = 0;
    c->dict_used = 0;
    c->dict_on = c->can_dict;
    sl_pq_dict_reset(&c->dict);
    sl_pq_acc_reset(&c->cst);
    return SL_OK;
fail:;
    char name[256];
    return sl_error_prefix(err, "column %s", colname(c, name, sizeof name));
}
