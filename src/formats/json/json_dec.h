/* json_dec.h - JSON lines decoder: one JSON object per line, protobuf's JSON
 * mapping, straight into the record scratch of a decode plan (pb_plan.h).
 *
 * The mapping (https://protobuf.dev/programming-guides/proto3/#json, and
 * what protobuf's own Python parser does, which the tests compare with):
 *   - keys: a field's json_name (lowerCamelCase) or its proto name;
 *     unknown keys are an error unless opt->ignore_unknown (then their
 *     values are skipped, still validated as JSON);
 *   - integers: a JSON number (integral; 1e3 and 10.0 are integral) or a
 *     string holding a decimal integer; range-checked per type;
 *   - float/double: a number, "NaN", "Infinity", "-Infinity" or a string
 *     holding a JSON number; values beyond the type's range are errors;
 *   - bool: true/false; string: any JSON string (escapes, surrogate pairs;
 *     lone surrogates and invalid UTF-8 are errors); bytes: base64, standard
 *     or URL-safe alphabet, padding optional;
 *   - enum: a value name, or an integer (a number, or a string holding
 *     one); an unknown number is kept for open (proto3) enums and is an
 *     error for closed (proto2) ones;
 *   - message: an object; repeated: an array (null elements are errors);
 *     map: an object whose keys are strings (integer and bool keys are
 *     parsed from the key text);
 *   - null: the field is absent (an empty list or map for repeated fields).
 * A key that appears twice in one object, a field named twice (once by each
 * of its names) and two members of one oneof are errors.
 *
 * Errors name the byte offset within the line and the JSON path of the
 * value: "byte 41, $.client.screenWidth: expected an integer, got string
 * \"x\"". On any error the batch is untouched.
 */
#ifndef SL_JSON_DEC_H
#define SL_JSON_DEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/col.h"
#include "core/err.h"
#include "formats/pb/pb_plan.h"

typedef struct sl_json_options {
    int ignore_unknown; /* 1: skip keys that name no field (default: error) */
} sl_json_options;

/* Parse one JSON object (line[0..len), no newline needed; surrounding JSON
 * whitespace allowed) into the record's root frame. The caller has called
 * sl_rec_begin. opt may be NULL (defaults). On error the record holds a
 * partial message and must be begun again. */
sl_err_t sl_json_parse(sl_rec *r, const uint8_t *line, size_t len, const sl_json_options *opt,
                       sl_error *err) SL_MUST_CHECK;

/* Decode one line straight into the batch: begin + parse + emit. On error
 * the batch is left exactly as before. */
sl_err_t sl_json_decode(sl_rec *r, sl_batch *b, const uint8_t *line, size_t len,
                        const sl_json_options *opt, sl_error *err) SL_MUST_CHECK;

#endif
