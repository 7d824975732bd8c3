/* fuzz_pb.c - libFuzzer target for the protobuf decoder stack.
 *
 * Input byte 0 selects what the rest is:
 *   0..2   one serialized record of t3.AllTypes / t2.AllTypes2 /
 *          bench.PlayEvent (schemas embedded from tests/data, see
 *          fuzz_pb_schema.h), decoded with sl_pb_decode into a batch;
 *   3      pb-delimited framing: every frame decoded as t3.AllTypes;
 *   4      a FileDescriptorSet: loaded into a fresh pool, and its first
 *          message compiled into a plan and used to decode a fixed record.
 * After a successful decode the batch must pass sl_batch_validate and
 * assemble back into rows (sl_rows_json); a failure there is a bug in the
 * shredder, so the fuzzer aborts. A failed decode must leave the batch as
 * it was (row count and column lengths unchanged): checked too. Each
 * record of selectors 0..3 is also decoded by parse + emit into a second
 * batch: sl_pb_decode (which shreds straight from the wire when it can)
 * must succeed or fail alike and fill the same columns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rows_json.h"
#include "core/framer.h"
#include "formats/pb/pb_plan.h"
#include "fuzz_plans.h"

static sl_batch two[3]; /* the same records through parse + emit */

static void decode_one(int k, const uint8_t *p, size_t n)
{
    sl_error err, terr;
    sl_batch *b = &batches[k];
    size_t rows = b->nrows, slots = 0;
    if (!two[k].cols && sl_batch_init(&two[k], &plans[k].schema)) abort();
    for (int32_t c = 0; c < b->ncols; c++)
        slots += b->cols[c].n;
    sl_err_t rc = sl_pb_decode(recs[k], b, p, n, &err);
    if (rc == SL_OK) {
        check_batch(b);
    } else {
        size_t after = 0;
        for (int32_t c = 0; c < b->ncols; c++)
            after += b->cols[c].n;
        if (b->nrows != rows || after != slots || !err.msg[0]) abort();
    }
    sl_rec_begin(recs[k]);
    sl_err_t trc = sl_pb_parse(recs[k], p, n, &terr);
    if (!trc) trc = sl_rec_emit(recs[k], &two[k], &terr);
    if (rc != trc || sl_batch_same(b, &two[k], &terr)) abort();
    if (b->nrows >= 4) { /* keep checks cheap */
        sl_batch_reset(b);
        sl_batch_reset(&two[k]);
    }
}

static void descriptor_set(const uint8_t *p, size_t n)
{
    sl_pb_pool pl = {0};
    sl_plan plan;
    sl_error err;
    sl_rec *r = NULL;
    sl_batch b;
    static const uint8_t rec[] = {0x08, 0x01, 0x12, 0x01, 'a', 0x1a, 0x00, 0x25, 1, 2, 3, 4};
    if (sl_pb_pool_add_set(&pl, p, n, &err) == SL_OK && pl.n_msgs > 0 &&
        sl_plan_compile(&plan, &pl, pl.msgs[0].full_name, &err) == SL_OK) {
        if (sl_rec_new(&r, &plan) == SL_OK && sl_batch_init(&b, &plan.schema) == SL_OK) {
            if (sl_pb_decode(r, &b, rec, sizeof rec, &err) == SL_OK) check_batch(&b);
            sl_batch_free(&b);
        }
        sl_rec_free(r);
        sl_plan_free(&plan);
    }
    sl_pb_pool_free(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init();
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    if (sel < 3) {
        decode_one(sel, data, size);
    } else if (sel == 3) {
        sl_framer f;
        sl_frame fr;
        sl_error err;
        sl_framer_open_mem(&f, data, size, SL_FRAME_VARINT, 0, "fuzz");
        while (sl_framer_next(&f, &fr, &err) == SL_OK)
            decode_one(0, fr.p, fr.len);
        sl_framer_close(&f);
    } else if (sel == 4) {
        descriptor_set(data, size);
    }
    return 0;
}
