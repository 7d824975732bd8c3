/* fuzz_plans.h - what the decoder fuzz targets share: the three compiled
 * plans of the fuzz schema (fuzz_pb_schema.h: proto3 alltypes, proto2
 * alltypes, PlayEvent), a record and a batch for each, and the check every
 * decoded batch must pass (builder invariants, and record assembly of its
 * last row). Each target is its own executable, so static state is fine. */
#ifndef SL_FUZZ_PLANS_H
#define SL_FUZZ_PLANS_H

#include <stdlib.h>

#include "core/rows_json.h"
#include "formats/pb/pb_plan.h"
#include "fuzz_pb_schema.h"

static const char *const msgs[3] = {"t3.AllTypes", "t2.AllTypes2", "bench.PlayEvent"};
static sl_pb_pool pool;
static sl_plan plans[3];
static sl_rec *recs[3];
static sl_batch batches[3];
static int ready;

static void init(void)
{
    sl_error err;
    if (sl_pb_pool_add_set(&pool, sl_fuzz_pb_schema, sizeof sl_fuzz_pb_schema, &err)) abort();
    for (int i = 0; i < 3; i++)
        if (sl_plan_compile(&plans[i], &pool, msgs[i], &err) || sl_rec_new(&recs[i], &plans[i]) ||
            sl_batch_init(&batches[i], &plans[i].schema))
            abort();
    ready = 1;
}

static void check_batch(const sl_batch *b)
{
    sl_error err;
    sl_rows_json *rj = NULL;
    sl_buf out = SL_BUF_INIT;
    if (sl_batch_validate(b, &err)) abort();
    if (sl_rows_json_new(&rj, b)) abort();
    if (b->nrows && sl_rows_json_row(rj, b->nrows - 1, &out)) abort();
    sl_rows_json_free(rj);
    sl_buf_free(&out);
}

#endif
