/* pq_writer.h - the Parquet file writer.
 *
 * Layers (as nanoarrow's IPC writer):
 *   1. encoders that produce bytes in memory: PLAIN, RLE_DICTIONARY, the
 *      RLE/bit-packed hybrid for levels and indices (pq_encode.h), page
 *      compression (pq_codec.h), Thrift compact metadata (pq_meta.h);
 *   2. the output-stream vtable (core/ostream.h): file, memory, faulty;
 *   3. this writer: column chunks, pages, row groups, statistics, footer.
 *
 * Data flow: callers hand over batches (core/col.h). Each batch is appended
 * column by column to that column's page encoder; a page is cut when its
 * encoded values pass page_bytes, then compressed once and appended to the
 * column chunk's in-memory buffer. When the buffered row group passes
 * row_group_bytes (or at close) the chunks are written to the stream one
 * after another: dictionary page first, then the data pages. So memory is
 * bounded by one row group of *compressed* chunks plus one open page per
 * column, not by the input size.
 *
 * Dictionary: each column chunk builds a dictionary (hash of distinct
 * values). Pages store RLE_DICTIONARY indices while the dictionary stays
 * under dict_max_bytes; past it, the chunk falls back to PLAIN for the rest
 * of the row group (pages already written keep their indices), as
 * parquet-mr does. A column whose dictionary would not shrink its data
 * (e.g. unique ids) falls back too. INT64 pages without a dictionary are
 * DELTA_BINARY_PACKED and byte-array ones DELTA_LENGTH_BYTE_ARRAY rather
 * than PLAIN (pq_column.c says why).
 *
 * Statistics (min, max, null_count) are kept per page and per chunk, with
 * the column's sort order (unsigned for UINT_64 and byte arrays, NaN
 * ignored, -0/+0 per the spec). Long byte-array bounds are truncated
 * (min: prefix; max: prefix with its last byte incremented) and flagged
 * inexact.
 */
#ifndef SL_PQ_WRITER_H
#define SL_PQ_WRITER_H

#include "core/col.h"
#include "core/ostream.h"
#include "core/schema.h"
#include "formats/parquet/pq_meta.h"

typedef struct sl_pq_options {
    int codec;              /* SL_PQ_CODEC_*: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW */
    int level;              /* codec level, 0 = codec default */
    size_t row_group_bytes; /* 0 = 128 MiB (uncompressed estimate) */
    size_t page_bytes;      /* 0 = 1 MiB */
    size_t dict_max_bytes;  /* 0 = 1 MiB */
    int no_dictionary;      /* 1: PLAIN only (no dictionary, no delta) */
    const sl_pq_kv *kv;     /* extra key-value metadata */
    int32_t n_kv;
    int keep_codec; /* 1: compress every chunk, even where it saves < 12% */
    int no_delta;   /* 1: pages without a dictionary are PLAIN, not DELTA_* (readers that
                     * lack the DELTA encodings) */
} sl_pq_options;

typedef struct sl_pq_writer sl_pq_writer;

/* Parse "zstd", "snappy", "gzip", "lz4" (lz4_raw), "none"/"uncompressed". */
sl_err_t sl_pq_codec_parse(const char *name, int *codec, sl_error *err) SL_MUST_CHECK;
const char *sl_pq_codec_name(int codec);

/* Open a writer on os (not owned) for schema s (must outlive the writer).
 * Writes the "PAR1" magic. Key-value metadata always gets
 * sluice.writer = "sluice <version>", sluice.schema_fingerprint (hex) and,
 * when s->message_name is set, sluice.message. */
sl_err_t sl_pq_writer_open(sl_pq_writer **out, const sl_schema *s, sl_ostream *os,
                           const sl_pq_options *opt, sl_error *err) SL_MUST_CHECK;

/* Append a batch (its schema must be s). May write a row group. */
sl_err_t sl_pq_writer_write(sl_pq_writer *w, const sl_batch *b, sl_error *err) SL_MUST_CHECK;

/* Flush the buffered row group now (no-op if empty). */
sl_err_t sl_pq_writer_flush_row_group(sl_pq_writer *w, sl_error *err) SL_MUST_CHECK;

/* Flush, write the footer and the trailing magic. Does not sync or close
 * the stream. After close only free is valid. */
sl_err_t sl_pq_writer_close(sl_pq_writer *w, sl_error *err) SL_MUST_CHECK;
void sl_pq_writer_free(sl_pq_writer *w); /* safe after a failure at any step */

typedef struct sl_pq_writer_stats {
    int64_t rows;           /* rows accepted */
    int64_t row_groups;     /* row groups written */
    uint64_t bytes_written; /* bytes handed to the stream */
    size_t buffered_bytes;  /* compressed bytes held for the open row group */
} sl_pq_writer_stats;
void sl_pq_writer_get_stats(const sl_pq_writer *w, sl_pq_writer_stats *st);

#endif
