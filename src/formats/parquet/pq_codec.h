/* pq_codec.h - page compression codecs: snappy, gzip, zstd, lz4_raw, none.
 *
 * One context per writer or reader thread keeps the codec state (zstd and
 * deflate contexts) alive across pages, so compressing a page allocates
 * nothing after the first. Parquet's GZIP is a gzip stream (RFC 1952);
 * LZ4_RAW is an LZ4 block with no framing. Decompression requires the exact
 * uncompressed size from the page header and fails (SL_ERR_CORRUPT) when the
 * data does not decompress to exactly that size.
 */
#ifndef SL_PQ_CODEC_H
#define SL_PQ_CODEC_H

#include "core/buf.h"
#include "core/err.h"

typedef struct sl_pq_codec_ctx sl_pq_codec_ctx;

/* A zstd "level" for data where matches do not pay (random hex ids,
 * addresses): zstd's fastest match search and literals still entropy
 * coded. Outside every codec's range (zstd's is -131072..22), so no user
 * level means it; other codecs reject it as out of range. */
#define SL_PQ_LEVEL_LITERALS (-1000000)

sl_err_t sl_pq_codec_ctx_new(sl_pq_codec_ctx **out) SL_MUST_CHECK;
void sl_pq_codec_ctx_free(sl_pq_codec_ctx *c);

/* Compress src (n bytes) and append to dst. level 0 = the codec's default
 * chosen by sluice (documented in docs/formats.md); SL_PQ_LEVEL_LITERALS
 * (zstd only) = no match search, Huffman-coded literals. */
sl_err_t sl_pq_compress(sl_pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n,
                        sl_buf *dst, sl_error *err) SL_MUST_CHECK;

/* Worst-case compressed size of n bytes (0 if n is too large for the
 * codec or the codec is unknown). */
size_t sl_pq_compress_bound(int codec, size_t n);

/* Compress src into dst (cap >= sl_pq_compress_bound(codec, n)); *out_len
 * gets the compressed size. Lets a caller compress in place into its own
 * storage instead of through an sl_buf. */
sl_err_t sl_pq_compress_to(sl_pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n,
                           uint8_t *dst, size_t cap, size_t *out_len, sl_error *err) SL_MUST_CHECK;

/* Decompress src into dst, which must receive exactly dst_len bytes. */
sl_err_t sl_pq_decompress(sl_pq_codec_ctx *c, int codec, const uint8_t *src, size_t n, uint8_t *dst,
                          size_t dst_len, sl_error *err) SL_MUST_CHECK;

#endif
