/* rows_json.h - record assembly: column builders back to rows, as JSON.
 *
 * The inverse of shredding (Dremel record assembly). Used by `sluice
 * inspect --rows`, by tests that compare our decoders and reader with
 * reference implementations, and later by JSON-lines outputs.
 *
 * The output is the project's canonical row form (tests/tools/rowcmp.py
 * documents and compares it):
 *   - one JSON object per row, keys = the schema's field names in order,
 *     every field present (null when null);
 *   - integers as exact JSON numbers (any magnitude; UINT_64 unsigned);
 *   - FLOAT/DOUBLE as shortest round-trip numbers; NaN and infinities as
 *     the strings "NaN", "Infinity", "-Infinity";
 *   - BOOLEAN true/false; STRING/ENUM as JSON strings (UTF-8, escaped);
 *     other BYTE_ARRAY as base64 strings;
 *   - TIMESTAMP as its integer value;
 *   - groups as objects, LIST as arrays, MAP as arrays of
 *     {"key": k, "value": v}.
 *
 * Cost: sl_rows_json_new checks the batch once (one pass over the levels;
 * SL_ERR_CORRUPT if the builders break col.h's invariants). Rows asked for
 * in order are assembled from cursors that carry over, in time linear in
 * their slots and with no extra memory; the first out-of-order request
 * builds a per-column row index (8 bytes per row per levelled column).
 * The batch must not change while the sl_rows_json exists. A row whose
 * columns disagree on its structure (only possible in corrupt input) is
 * SL_ERR_CORRUPT, and out is then left as it was.
 */
#ifndef SL_CORE_ROWS_JSON_H
#define SL_CORE_ROWS_JSON_H

#include "core/buf.h"
#include "core/col.h"

typedef struct sl_rows_json sl_rows_json;

sl_err_t sl_rows_json_new(sl_rows_json **out, const sl_batch *b) SL_MUST_CHECK;
/* Append row `row` (< b->nrows) as one JSON object (no newline) to out. */
sl_err_t sl_rows_json_row(sl_rows_json *rj, size_t row, sl_buf *out) SL_MUST_CHECK;
void sl_rows_json_free(sl_rows_json *rj);

/* The canonical form's scalar writers, for other JSON producers (inspect):
 * a JSON string (escaped; invalid UTF-8 bytes become U+FFFD), and a
 * FLOAT (is_float) or DOUBLE as its shortest round-trip number or the
 * strings "NaN", "Infinity", "-Infinity". */
sl_err_t sl_json_put_str(sl_buf *out, const void *p, size_t n) SL_MUST_CHECK;
sl_err_t sl_json_put_double(sl_buf *out, double v, int is_float) SL_MUST_CHECK;

#endif
