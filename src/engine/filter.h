/* filter.h - the per-stream filter expression (`etl.filter`): a boolean
 * condition on a parsed record, compiled once against the stream's decode
 * plan and evaluated between parse and emit, so a dropped record never
 * reaches the column builders.
 *
 *     play_seconds > 0 and platform != 'TV'
 *     client.os in ('ios', 'android') and not (mid = 1 or ip is null)
 *
 * The language and its semantics are documented in docs/formats.md, "ETL",
 * and at the top of filter.c. In short: a condition compares one field
 * (a dotted path of non-repeated fields) with literals; values follow
 * protobuf presence (absent presence fields and absent messages are null,
 * proto3 implicit fields hold their default); SQL three-valued logic, and a
 * record is kept only when the whole expression is true (unknown drops).
 * Type errors are compile errors naming the column of the text.
 *
 * A compiled filter is immutable: one filter may be evaluated by many
 * threads at once. Evaluation allocates nothing.
 */
#ifndef SL_ENGINE_FILTER_H
#define SL_ENGINE_FILTER_H

#include "core/err.h"
#include "formats/pb/pb_plan.h"

typedef struct sl_filter sl_filter;

/* Compile `text` against plan p (which must outlive the filter). On error
 * *out is NULL and err says "filter: column N: what is wrong" (N is the
 * 1-based byte column of the offending token). Texts longer than
 * SL_FILTER_MAX_TEXT or nested deeper than SL_FILTER_MAX_DEPTH are
 * SL_ERR_LIMIT. */
#define SL_FILTER_MAX_TEXT  (1 << 20)
#define SL_FILTER_MAX_DEPTH 64
sl_err_t sl_filter_compile(sl_filter **out, const char *text, const sl_plan *p,
                           sl_error *err) SL_MUST_CHECK;

/* 1: keep the record (the expression is true), 0: drop it (false or
 * unknown). r must be a record of the plan the filter was compiled for,
 * after its parse and before the next sl_rec_begin. Cannot fail; bounded by
 * the program length (no loops). */
int sl_filter_eval(const sl_filter *f, const sl_rec *r);

/* NULL is fine. */
void sl_filter_free(sl_filter *f);

#endif
