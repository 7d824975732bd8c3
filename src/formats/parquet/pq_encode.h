/* pq_encode.h - Parquet value and level encoders, the bottom layer of the
 * writer: the RLE/bit-packed hybrid (levels and dictionary indices) and the
 * per-column-chunk dictionary (an open-addressing hash over the values).
 *
 * DELTA_BINARY_PACKED (below) for INT64 pages without a dictionary, and for
 * the lengths of DELTA_LENGTH_BYTE_ARRAY pages.
 *
 * RLE/bit-packed hybrid (Encodings.md): a sequence of runs, each either
 *   RLE:        varint(count << 1), then the value in ceil(bw/8) bytes LE;
 *   bit-packed: varint(groups << 1 | 1), then groups*8 values of bw bits,
 *               packed LSB first; the last group is padded with zeros
 *               (readers stop at the page's value count).
 * The encoder emits an RLE run for every stretch of >= 8 equal values that
 * starts on a group boundary, and bit-packs the rest. Runs are found with
 * word-at-a-time compares, so an all-equal level array (the common case:
 * no nulls) costs about n/8 operations and encodes in a few bytes.
 *
 * Dictionary: entries are kept PLAIN-encoded back to back in `vals`, which
 * is therefore exactly the dictionary page body. The hash table holds
 * index+1 per slot (0 = empty), linear probing, load factor <= 1/2, so a
 * lookup touches about 1.5 slots. Fixed-width values (4 or 8 bytes) are
 * compared by bit pattern (so -0.0 and 0.0, or two NaN payloads, are
 * distinct entries: the file must give back the exact bits), and hashed
 * by one multiplication whose top bits are the slot (Fibonacci hashing).
 * Byte arrays are hashed with a word-at-a-time multiply-xorshift hash;
 * each slot keeps 32 hash bits so almost every mismatch is rejected
 * without touching the bytes. Byte arrays of at most 7 bytes (enum names,
 * short codes, map keys: most dictionary lookups) are first turned into
 * one exact 64-bit key (bytes LE, length in the top byte), kept per entry
 * in `key`: their lookup hashes it as a fixed-width value and compares one
 * integer, with no length check, tag or byte loop. Hashing is not keyed: a hostile input can make a
 * chunk's lookups slow (probe chains), never wrong or unbounded, and the dictionary is abandoned
 * when it grows past dict_max_bytes anyway.
 *
 * The bulk map functions take a whole slice of values per call, so the hot
 * loop has no function call per value.
 */
#ifndef SL_PQ_ENCODE_H
#define SL_PQ_ENCODE_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Bits needed for v (0 for 0). */
static inline int sl_pq_bit_width(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Append the hybrid encoding of n values, each < 2^bw, with no length
 * prefix. bw is 1..8 for the u8 variant, 1..32 for u32. Returns
 * SL_ERR_NOMEM (out may then hold a partial run) or SL_OK. */
sl_err_t sl_pq_rle_encode_u8(const uint8_t *v, size_t n, int bw, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_pq_rle_encode_u32(const uint32_t *v, size_t n, int bw, sl_buf *out) SL_MUST_CHECK;

/* Upper bound of the bytes either encoder appends for n values. */
static inline size_t sl_pq_rle_bound(size_t n, int bw)
{
    return (n / 8 + 2) * (5 + 4) + (n + 7) / 8 * (size_t)bw + 16;
}

/* DELTA_BINARY_PACKED (Encodings.md) of n INT64 values (packed LE at v):
 * the header (block of 128 values, 4 miniblocks of 32, n, first value),
 * then per block the zigzag minimum delta, 4 bit widths and the
 * miniblocks, each (delta - minimum) bit-packed LSB first; the last
 * miniblock is padded with zeros and unneeded miniblocks have width 0.
 * Deltas wrap in 64-bit two's complement, as the spec asks. Appends to
 * out; SL_ERR_NOMEM (out may then hold a partial encoding) or SL_OK. */
sl_err_t sl_pq_delta_encode_i64(const uint8_t *v, size_t n, sl_buf *out) SL_MUST_CHECK;
/* The same for n unsigned 32-bit values (the lengths of
 * DELTA_LENGTH_BYTE_ARRAY: below 2^31, so their deltas never wrap and the
 * bytes equal an INT32 encoding). */
sl_err_t sl_pq_delta_encode_u32(const uint32_t *v, size_t n, sl_buf *out) SL_MUST_CHECK;

/* Key of byte-array entries longer than 7 bytes: its top byte (0xFF) is
 * no short key's length, so it never matches one. */
#define SL_PQ_NO_KEY UINT64_MAX

typedef struct sl_pq_dict {
    uint32_t *slot; /* cap slots: 0 empty, else entry index + 1 */
    uint32_t *tag;  /* byte arrays: 32 hash bits per slot */
    uint32_t cap;   /* power of two, >= 2 * n */
    int shift;      /* 64 - log2(cap): slot = hash >> shift */
    uint32_t n;     /* entries */
    int width;      /* 4, 8, or 0 for byte arrays */
    sl_buf vals;    /* PLAIN encoding of the entries: the dictionary page body */
    uint32_t *off;  /* byte arrays: entry i is vals.p[off[i] .. off[i] + len), len LE at off[i]-4 */
    uint32_t *mark; /* byte arrays: last page number that used entry i */
    uint64_t *key;  /* byte arrays: exact key of entry i if <= 7 bytes, else SL_PQ_NO_KEY */
    uint32_t ent_cap;
} sl_pq_dict;

void sl_pq_dict_init(sl_pq_dict *d, int width);
void sl_pq_dict_reset(sl_pq_dict *d); /* drop the entries, keep the memory */
void sl_pq_dict_free(sl_pq_dict *d);

/* Map n fixed-width values (packed LE at src, width d->width) to their
 * entry indexes, adding new entries. On SL_ERR_NOMEM/SL_ERR_LIMIT the
 * dictionary holds the entries added so far and idx is partly filled. */
sl_err_t sl_pq_dict_map_fixed(sl_pq_dict *d, const uint8_t *src, size_t n,
                              uint32_t *idx) SL_MUST_CHECK;

/* Map n byte arrays (value j = base[off[j] .. off[j+1])) to entry indexes.
 * Entries not yet marked with page_no are marked and appended to fresh
 * (*n_fresh counts them): the caller computes page statistics from the
 * distinct entries only. */
sl_err_t sl_pq_dict_map_bytes(sl_pq_dict *d, const uint8_t *base, const uint32_t *off, size_t n,
                              uint32_t *idx, uint32_t page_no, uint32_t *fresh,
                              size_t *n_fresh) SL_MUST_CHECK;

/* Entry i of a byte-array dictionary. */
static inline const uint8_t *sl_pq_dict_bytes(const sl_pq_dict *d, uint32_t i, uint32_t *len)
{
    uint32_t l;
    memcpy(&l, d->vals.p + d->off[i] - 4, 4);
    *len = l;
    return d->vals.p + d->off[i];
}

/* The hash used for byte arrays (exposed for tests). */
uint64_t sl_pq_hash_bytes(const uint8_t *p, size_t n);

#endif
