/* kbatch.h - Kafka values that carry a (compressed) batch of records.
 *
 * A Kafka value is either one record or a batch: varint-length-delimited
 * records (protobuf's writeDelimitedTo stream, the same bytes as a
 * `pb-delimited` file; for JSON and text streams each record is one line
 * without its '\n'), optionally wrapped in one self-describing compression
 * container:
 *
 *   zstd    zstd frame(s)                      28 B5 2F FD
 *   gzip    gzip member(s), RFC 1952           1F 8B
 *   lz4     LZ4 *frame* format frame(s)        04 22 4D 18
 *   snappy  snappy *framing* format stream(s)  FF 06 00 00 "sNaPpY" (CRC-32C checked)
 *
 * Concatenated frames/members/streams of one codec are one batch. AUTO picks
 * the codec by the value's first bytes and treats a value with no known magic
 * as uncompressed. docs/formats.md ("Batched Kafka values") is the user
 * contract.
 *
 * Use: one sl_kbatch per worker, reused value after value (it keeps its
 * output buffer and codec contexts, so steady state allocates nothing):
 *
 *     sl_kbatch_open(kb, value, len, &err);
 *     while ((r = sl_kbatch_next(kb, &rec, &rlen, &err)) == 1) decode(rec, rlen);
 *     if (r < 0) dead_letter(err.msg);
 *
 * Memory: the decompressed batch is bounded by max_bytes (a value that
 * expands past it is an error, never an allocation); codec state adds at most
 * max(8 MiB, max_bytes) for a zstd window, ~4 MiB for an LZ4 block, 32 KiB for
 * gzip. Not thread-safe: one sl_kbatch per thread.
 */
#ifndef SL_FORMATS_BATCH_KBATCH_H
#define SL_FORMATS_BATCH_KBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum { SL_KB_NONE = 0, SL_KB_GZIP, SL_KB_SNAPPY, SL_KB_LZ4, SL_KB_ZSTD, SL_KB_AUTO };

/* Decompressed bound used when sl_kbatch_new gets max_bytes 0. */
#define SL_KB_DEFAULT_MAX ((size_t)64 << 20)

/* "auto", "none", "gzip", "snappy", "lz4", "zstd" -> SL_KB_*. An unknown name
 * is SL_ERR_INVALID listing the valid ones; *codec is then unchanged. */
sl_err_t sl_kbatch_codec_parse(const char *name, int *codec, sl_error *err) SL_MUST_CHECK;
/* The name sl_kbatch_codec_parse accepts; "unknown" for anything else. */
const char *sl_kbatch_codec_name(int codec);

typedef struct sl_kbatch sl_kbatch; /* reusable: buffers and codec contexts kept */

/* codec: SL_KB_* (AUTO detects per value). max_bytes: bound on one
 * decompressed batch, 0 = SL_KB_DEFAULT_MAX, at most SL_BUF_MAX - 1.
 * SL_ERR_INVALID for a bad codec or bound, SL_ERR_NOMEM; *out is NULL then. */
sl_err_t sl_kbatch_new(sl_kbatch **out, int codec, size_t max_bytes) SL_MUST_CHECK;
void sl_kbatch_free(sl_kbatch *kb);

/* Start on one value: detect (AUTO) and decompress into the internal buffer.
 * Errors (then sl_kbatch_next reports that no batch is open):
 *   SL_ERR_CORRUPT  unknown magic with a fixed codec, corrupt or truncated
 *                   stream, bad checksum - the message names the codec, what
 *                   failed and the byte offset in the value when known;
 *   SL_ERR_LIMIT    the batch expands past max_bytes (also for an
 *                   uncompressed value longer than max_bytes);
 *   SL_ERR_NOMEM.
 * An uncompressed value is not copied: the records then point into `value`,
 * which must stay alive while they are used. */
sl_err_t sl_kbatch_open(sl_kbatch *kb, const uint8_t *value, size_t len,
                        sl_error *err) SL_MUST_CHECK;

/* Next record: 1 = *rec and *len set (points into the buffer or the value, valid
 * until the next open), 0 = clean end, <0 = an sl_err_t: SL_ERR_CORRUPT for a
 * truncated length prefix or a record past the end (names the record index
 * and its byte offset in the decompressed batch; the batch is then done),
 * SL_ERR_INVALID when no batch is open. */
int sl_kbatch_next(sl_kbatch *kb, const uint8_t **rec, size_t *len, sl_error *err) SL_MUST_CHECK;

/* About the open batch (additions to the contract, for error context and
 * metrics): the codec the value was found to use (the fixed codec, or what
 * AUTO detected; -1 when no batch is open), the index of the next record
 * (= records returned so far), and the decompressed size in bytes. */
int sl_kbatch_found(const sl_kbatch *kb);
uint64_t sl_kbatch_index(const sl_kbatch *kb);
size_t sl_kbatch_size(const sl_kbatch *kb);

/* Encoder (for `sluice gen`, tests, the Kafka exporter): `in` holds records
 * already varint-delimited (checked: a malformed stream is SL_ERR_INVALID
 * naming the record and byte offset). Appends one container to `out`
 * (SL_KB_NONE: the bytes as they are). Inputs above 2 GiB - 1 are
 * SL_ERR_LIMIT. On failure out->len is what it was. Levels: zstd 1 with a
 * content checksum, gzip 6, lz4 frame level 0 with a content checksum and the
 * content size, snappy framing with 64 KiB chunks (a chunk snappy cannot
 * shrink is stored as an uncompressed chunk). */
sl_err_t sl_kbatch_encode(sl_buf *out, int codec, const uint8_t *in, size_t len,
                          sl_error *err) SL_MUST_CHECK;

#endif
