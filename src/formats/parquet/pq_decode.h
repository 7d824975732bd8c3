/* pq_decode.h - Parquet value and level decoders (reader side, private to
 * the reader and its tests).
 *
 * Each decoder reads one page section from a byte range and appends to a
 * column builder (core/col.h), checking every length against the range:
 * malformed input is SL_ERR_CORRUPT with what was wrong, never a read past
 * the range. How much the builder may grow is bounded by a byte budget the
 * caller passes (SL_ERR_LIMIT past it), because some encodings expand
 * without bound (an RLE run of a long dictionary string, a DELTA_BYTE_ARRAY
 * prefix chain).
 *
 * Encodings: levels and indices in the RLE/bit-packed hybrid; values PLAIN
 * (every physical type; BOOLEAN bit-packed), PLAIN_DICTIONARY and
 * RLE_DICTIONARY, RLE (BOOLEAN), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT. INT96 and FIXED_LEN_BYTE_ARRAY
 * values are stored as packed raw bytes of their width.
 */
#ifndef SL_PQ_DECODE_H
#define SL_PQ_DECODE_H

#include "core/buf.h"
#include "core/col.h"
#include "core/err.h"

/* RLE/bit-packed hybrid decoder over [p, end). */
typedef struct sl_pq_rd_rle {
    const uint8_t *p, *end;
    int bw;
    int is_rle;
    uint64_t left;     /* values left in the current run */
    uint32_t value;    /* RLE run value */
    const uint8_t *bp; /* bit-packed run: its bytes */
    size_t bp_bits;    /* bit-packed run: bits available */
    size_t bp_pos;     /* bit-packed run: next bit */
} sl_pq_rd_rle;

void sl_pq_rd_rle_init(sl_pq_rd_rle *d, const uint8_t *p, size_t n, int bit_width);
/* Decode count values into out. */
sl_err_t sl_pq_rd_rle_get(sl_pq_rd_rle *d, uint32_t *out, size_t count,
                          sl_error *err) SL_MUST_CHECK;
/* Decode count levels into out, each <= max. */
sl_err_t sl_pq_rd_rle_levels(sl_pq_rd_rle *d, uint8_t *out, size_t count, int max,
                             sl_error *err) SL_MUST_CHECK;

/* Bits needed to store values 0..max. */
int sl_pq_rd_bit_width(uint32_t max);

/* A decoded dictionary page: n values, fixed width or byte arrays. */
typedef struct sl_pq_rd_dict {
    int32_t n;
    size_t width;  /* fixed width in bytes; 0 for BYTE_ARRAY */
    sl_buf data;   /* fixed: n * width bytes; BYTE_ARRAY: concatenated values */
    uint32_t *off; /* BYTE_ARRAY: n + 1 offsets into data */
    size_t off_cap;
    int loaded;
} sl_pq_rd_dict;

void sl_pq_rd_dict_free(sl_pq_rd_dict *d);

/* Decode a PLAIN dictionary page of n values (the dictionary's previous
 * contents are replaced). */
sl_err_t sl_pq_rd_dict_load(sl_pq_rd_dict *d, int ptype, size_t width, const uint8_t *p, size_t len,
                            int32_t n, sl_error *err) SL_MUST_CHECK;

/* Decode n non-null values in `encoding` from [p, p+len) and append them to
 * c's values (c->val, c->off, c->nvals; levels are the caller's). *budget
 * is decremented by the bytes added and bounds them. On error c's values
 * may hold a partial page: the caller rolls the builder back. */
sl_err_t sl_pq_rd_values(sl_col *c, size_t width, int encoding, const uint8_t *p, size_t len,
                         size_t n, const sl_pq_rd_dict *dict, uint64_t *budget,
                         sl_error *err) SL_MUST_CHECK;

#endif
