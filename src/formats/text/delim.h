/* delim.h - delimited-text decoder (legacy separator-based logs: TSV, CSV
 * without quoting, Hive text) into the record scratch of a decode plan.
 *
 * A line holds the message's TOP-LEVEL, NON-REPEATED scalar and enum fields,
 * in field-number order, separated by one byte. Every other field
 * (messages, repeated fields, maps) is absent: null, an empty list or map.
 * The null token (default \N) means null for presence (OPTIONAL) fields
 * and the default value for implicit-presence (REQUIRED) ones, proto2
 * required fields included (their declared default, else the type's).
 * A proto2 required field that is not a column (a required message) can
 * never be filled from a line, so every line of such a schema is rejected
 * (by sl_rec_emit, naming the field).
 *
 * Values: integers -?[0-9]+ range-checked per type; float/double in JSON
 * number syntax or NaN, Infinity, -Infinity, range-checked; bool true,
 * false, 1, 0; enums by value name or number (unknown numbers kept for open
 * enums, errors for closed ones); strings raw, UTF-8 validated; bytes raw.
 * There is no quoting or escaping: a value cannot contain the separator.
 *
 * Errors name the column (1-based), the field and the text; a wrong number
 * of columns names both counts. On any error the batch is untouched.
 */
#ifndef SL_TEXT_DELIM_H
#define SL_TEXT_DELIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/col.h"
#include "core/err.h"
#include "formats/pb/pb_plan.h"

typedef struct sl_delim_options {
    char separator;         /* field separator; 0 means '\t' */
    const char *null_token; /* NULL means "\N" (backslash, N) */
} sl_delim_options;

/* Number of columns a line must have for the plan (its top-level,
 * non-repeated scalar and enum fields). */
int32_t sl_delim_columns(const sl_plan *p);

/* Parse one line (a trailing "\n" and "\r" are stripped) into the record's
 * root frame; the caller has called sl_rec_begin. opt may be NULL. */
sl_err_t sl_delim_parse(sl_rec *r, const uint8_t *line, size_t len, const sl_delim_options *opt,
                        sl_error *err) SL_MUST_CHECK;

/* begin + parse + emit. On error the batch is left exactly as before. */
sl_err_t sl_delim_decode(sl_rec *r, sl_batch *b, const uint8_t *line, size_t len,
                         const sl_delim_options *opt, sl_error *err) SL_MUST_CHECK;

#endif
