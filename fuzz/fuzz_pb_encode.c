/* fuzz_pb_encode.c - libFuzzer target for the protobuf encoder
 * (pb_encode.h): decode, encode, decode again; nothing may change.
 *
 * Input byte 0 (mod 3) selects the plan of the fuzz schema (fuzz_plans.h:
 * t3.AllTypes, t2.AllTypes2, bench.PlayEvent); the rest is one serialized
 * record. When our decoder accepts it (parse + emit into a batch), then:
 *   - sl_pb_encode must succeed (a record we accept is one we can write);
 *   - our parser must accept the encoded bytes, and emit exactly the same
 *     columns (levels, values, offsets) as the original record did;
 *   - encoding the second record must give the same bytes (canonical
 *     output is a fixed point);
 *   - with a projection (the even-numbered top-level fields), encoding
 *     must succeed, parse again, and re-encode to the same bytes.
 * Any violation aborts. Records that fail to decode are simply skipped:
 * fuzz_pb checks the decoder's error paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pb/pb_encode.h"
#include "fuzz_plans.h"

static sl_rec *recs2[3];
static sl_batch batches2[3];
static uint8_t *keep_even[3];
static sl_buf enc1 = SL_BUF_INIT, enc2 = SL_BUF_INIT;
static int ready2;

static void init2(void)
{
    if (!ready) init();
    for (int i = 0; i < 3; i++) {
        const sl_plan_msg *m = &plans[i].msgs[0];
        if (sl_rec_new(&recs2[i], &plans[i]) || sl_batch_init(&batches2[i], &plans[i].schema))
            abort();
        keep_even[i] = calloc((size_t)m->n_fields + 1, 1);
        if (!keep_even[i]) abort();
        for (int32_t f = 0; f < m->n_fields; f++)
            keep_even[i][f] = m->fields[f].pf->number % 2 == 0;
    }
    ready2 = 1;
}

static void same_cols(const sl_batch *a, const sl_batch *b)
{
    if (a->nrows != b->nrows || a->ncols != b->ncols) abort();
    for (int32_t c = 0; c < a->ncols; c++) {
        const sl_col *x = &a->cols[c], *y = &b->cols[c];
        if (x->n != y->n || x->nvals != y->nvals || x->val.len != y->val.len) abort();
        if ((x->max_def | x->max_rep) &&
            (memcmp(x->def, y->def, x->n) || memcmp(x->rep, y->rep, x->n)))
            abort();
        if (x->val.len && memcmp(x->val.p, y->val.p, x->val.len)) abort();
        if (x->type == SL_PT_BYTE_ARRAY && x->nvals &&
            memcmp(x->off, y->off, (x->nvals + 1) * sizeof *x->off))
            abort();
    }
}

/* decode(bytes) into rec/batch (reset first) by parse + emit, so that the
 * record scratch holds the record for sl_pb_encode (sl_pb_decode's direct
 * path does not fill it); 0 on success. */
static int decode(sl_rec *r, sl_batch *b, const uint8_t *p, size_t n)
{
    sl_error err;
    sl_batch_reset(b);
    sl_rec_begin(r);
    return sl_pb_parse(r, p, n, &err) != SL_OK || sl_rec_emit(r, b, &err) != SL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_error err;
    if (!ready2) init2();
    if (size < 1) return 0;
    int k = data[0] % 3;
    data++;
    size--;
    sl_rec *ra = recs[k], *rb = recs2[k];
    sl_batch *ba = &batches[k], *bb = &batches2[k];
    if (decode(ra, ba, data, size)) return 0;
    check_batch(ba);
    sl_buf_reset(&enc1);
    if (sl_pb_encode(ra, NULL, &enc1, &err)) abort();
    if (decode(rb, bb, enc1.p, enc1.len)) abort();
    same_cols(ba, bb);
    sl_buf_reset(&enc2);
    if (sl_pb_encode(rb, NULL, &enc2, &err)) abort();
    if (enc1.len != enc2.len || (enc1.len && memcmp(enc1.p, enc2.p, enc1.len))) abort();

    /* projection: must succeed (what is kept was valid in the whole
     * record) and be a fixed point of parse + encode as well */
    sl_buf_reset(&enc1);
    if (sl_pb_encode(ra, keep_even[k], &enc1, &err)) abort();
    sl_rec_begin(rb);
    if (sl_pb_parse(rb, enc1.p, enc1.len, &err)) abort();
    sl_buf_reset(&enc2);
    if (sl_pb_encode(rb, keep_even[k], &enc2, &err)) abort();
    if (enc1.len != enc2.len || (enc1.len && memcmp(enc1.p, enc2.p, enc1.len))) abort();
    return 0;
}
