/* pq_reader.h - the Parquet file reader.
 *
 * Reads at least every file sl_pq_writer writes (all its encodings, codecs
 * and nesting), plus the common encodings of other writers that sluice's
 * compaction and replay may meet (PLAIN_DICTIONARY, data page v2). It
 * decodes column chunks back into the same column builders the decoders
 * fill (core/col.h), so a row group read back can be written again
 * (compaction) unchanged.
 *
 * The reader works on a byte range in memory (an mmap of the file, or a
 * buffer). Every offset, length and count from the file is checked against
 * that range and against fixed bounds before use: a corrupt or hostile file
 * is an SL_ERR_CORRUPT naming the row group, column and page, never a crash
 * or an allocation sized by the file alone.
 */
#ifndef SL_PQ_READER_H
#define SL_PQ_READER_H

#include "core/col.h"
#include "core/schema.h"
#include "formats/parquet/pq_meta.h"

typedef struct sl_pq_reader {
    const uint8_t *data; /* whole file */
    size_t len;
    sl_pq_file_meta meta;
    sl_schema schema; /* rebuilt from meta.schema */
    void *priv;       /* scratch buffers, the mapping if opened from a path */
    /* Bound on the bytes one read_row_group call may add to a batch
     * (values, offsets, levels), since RLE and dictionary encodings expand
     * without limit. 0 = SL_PQ_READER_MAX_BATCH. Set it after open. */
    uint64_t max_batch_bytes;
} sl_pq_reader;

#define SL_PQ_READER_MAX_BATCH ((uint64_t)4 << 30)

/* Parse the footer and schema of a file held in memory (data must outlive
 * the reader). */
sl_err_t sl_pq_reader_open_mem(sl_pq_reader *r, const uint8_t *data, size_t len,
                               sl_error *err) SL_MUST_CHECK;
/* mmap a file and open it. Errors name the path. */
sl_err_t sl_pq_reader_open_file(sl_pq_reader *r, const char *path, sl_error *err) SL_MUST_CHECK;
void sl_pq_reader_close(sl_pq_reader *r); /* safe on a zeroed or failed reader */

/* Decode row group rg, every column, appending to b (initialized with
 * sl_batch_init(b, &r->schema), or with a copy of that schema). b->nrows
 * grows by the row group's rows. On error b is left exactly as it was, and
 * err names the file (if opened from a path), row group, column path, page
 * index and byte offset. SL_ERR_LIMIT when max_batch_bytes would be passed. */
sl_err_t sl_pq_reader_read_row_group(sl_pq_reader *r, int32_t rg, sl_batch *b,
                                     sl_error *err) SL_MUST_CHECK;

/* Decode one column (leaf index) of row group rg, appending to b->cols[leaf]
 * only: the other columns and b->nrows are left as they are, so the caller
 * reads the column's builder (levels and values) and resets the batch
 * before the next call. On error the column is left exactly as it was.
 * Reading one column costs that column's pages only (a dead-letter file's
 * `stream` without its raw bytes). */
sl_err_t sl_pq_reader_read_column(sl_pq_reader *r, int32_t rg, int32_t leaf, sl_batch *b,
                                  sl_error *err) SL_MUST_CHECK;

#endif
