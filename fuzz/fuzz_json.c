/* fuzz_json.c - libFuzzer target for the JSON lines and delimited-text
 * decoders.
 *
 * Input byte 0 selects the schema and the decoder; the rest is one line:
 *   sel % 3        schema: t3.AllTypes, t2.AllTypes2, bench.PlayEvent (the
 *                  descriptor set the protobuf fuzzer embeds,
 *                  fuzz_pb_schema.h, so no protoc or files at run time);
 *   (sel / 3) % 4  0: JSON; 1: JSON with ignore_unknown;
 *                  2: delimited, tab and \N; 3: delimited, ',' and "NULL".
 * After a successful decode the batch must pass sl_batch_validate and
 * assemble back into rows (sl_rows_json): a failure there is a bug, so the
 * fuzzer aborts. A failed decode must leave the batch exactly as it was
 * (rows and every column's slot count) and must say why (a message that
 * names the byte offset for JSON, the column for delimited text).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rows_json.h"
#include "formats/json/json_dec.h"
#include "formats/pb/pb_plan.h"
#include "formats/text/delim.h"
#include "fuzz_plans.h"

static size_t slots(const sl_batch *b)
{
    size_t n = 0;
    for (int32_t c = 0; c < b->ncols; c++)
        n += b->cols[c].n;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init();
    if (size < 1) return 0;
    int k = data[0] % 3, mode = (data[0] / 3) % 4;
    data++;
    size--;
    sl_batch *b = &batches[k];
    size_t rows = b->nrows, before = slots(b);
    sl_error err;
    sl_err_t rc;
    sl_error_clear(&err);
    if (mode < 2) {
        sl_json_options o = {.ignore_unknown = mode};
        rc = sl_json_decode(recs[k], b, data, size, &o, &err);
    } else {
        sl_delim_options o = {.separator = mode == 2 ? '\t' : ',',
                              .null_token = mode == 2 ? "\\N" : "NULL"};
        rc = sl_delim_decode(recs[k], b, data, size, &o, &err);
    }
    if (rc == SL_OK) {
        if (b->nrows != rows + 1) abort();
        check_batch(b);
    } else if (b->nrows != rows || slots(b) != before || !err.msg[0] || err.code != rc) {
        abort();
    }
    if (b->nrows >= 4) sl_batch_reset(b); /* keep checks cheap */
    return 0;
}
