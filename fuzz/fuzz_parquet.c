/* fuzz_parquet.c - libFuzzer target for the Parquet reader.
 *
 * Arbitrary bytes go through everything a reader of a hostile file runs:
 * open (magics, footer length, Thrift footer, schema rebuild, column
 * checks), every row group decoded into one batch (pages, codecs, levels,
 * every value encoding), then record assembly of every row (rows_json).
 * Beyond "no crash, no leak, no UB" (ASan/UBSan), it checks the reader's
 * promises and aborts when one breaks:
 *   - a failed row group leaves the batch exactly as it was;
 *   - a successful read leaves a batch that passes sl_batch_validate.
 * The batch bound is lowered (max_batch_bytes) so a few bytes claiming
 * billions of values end in SL_ERR_LIMIT quickly instead of slowly.
 * Seeds: fuzz/corpus/fuzz_parquet/ (small files from DuckDB and sluice).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/rows_json.h"
#include "formats/parquet/pq_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_pq_reader r;
    sl_error err;
    sl_batch b;
    sl_buf line = SL_BUF_INIT;
    sl_rows_json *rj = NULL;
    if (sl_pq_reader_open_mem(&r, data, size, &err)) return 0;
    r.max_batch_bytes = (uint64_t)32 << 20;
    if (sl_batch_init(&b, &r.schema)) goto out;
    for (int32_t g = 0; g < r.meta.n_row_groups; g++) {
        size_t rows = b.nrows, bytes = sl_batch_bytes(&b);
        if (sl_pq_reader_read_row_group(&r, g, &b, &err)) {
            if (b.nrows != rows || sl_batch_bytes(&b) != bytes) {
                fprintf(stderr, "failed read changed the batch: %s\n", err.msg);
                abort();
            }
            continue;
        }
        if (sl_batch_validate(&b, &err)) {
            fprintf(stderr, "read succeeded but the batch is invalid: %s\n", err.msg);
            abort();
        }
    }
    if (!sl_rows_json_new(&rj, &b)) {
        for (size_t i = 0; i < b.nrows; i++) {
            sl_buf_reset(&line);
            if (sl_rows_json_row(rj, i, &line)) continue; /* disagreeing columns: reported */
        }
        sl_rows_json_free(rj);
    }
    sl_batch_free(&b);
out:
    sl_buf_free(&line);
    sl_pq_reader_close(&r);
    return 0;
}
