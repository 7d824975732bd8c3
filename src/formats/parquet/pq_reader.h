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
} sl_pq_reader;

/* Parse the footer and schema of a file held in memory (data must outlive
 * the reader). */
sl_err_t sl_pq_reader_open_mem(sl_pq_reader *r, const uint8_t *data, size_t len,
                               sl_error *err) SL_MUST_CHECK;
/* mmap a file and open it. Errors name the path. */
sl_err_t sl_pq_reader_open_file(sl_pq_reader *r, const char *path, sl_error *err) SL_MUST_CHECK;
void sl_pq_reader_close(sl_pq_reader *r); /* safe on a zeroed or failed reader */

/* Decode row group rg, every column, appending to b (initialized with
 * sl_batch_init(b, &r->schema)). b->nrows grows by the row group's rows. */
sl_err_t sl_pq_reader_read_row_group(sl_pq_reader *r, int32_t rg, sl_batch *b,
                                     sl_error *err) SL_MUST_CHECK;

#endif
