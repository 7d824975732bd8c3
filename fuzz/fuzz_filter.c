/* fuzz_filter.c - libFuzzer target for the filter language (engine/filter.h).
 *
 * Input byte 0 selects the plan (t3.AllTypes, t2.AllTypes2, bench.PlayEvent,
 * from the embedded descriptor set of fuzz_pb_schema.h); the rest is the
 * expression text (cut at the first NUL, as a C string would be). Compile
 * must never crash, hang or leak; on failure it must leave *out NULL and
 * say "filter: ..." with a message. A compiled filter is evaluated on an
 * empty record and on a record with a few fields set, and the result must
 * be 0 or 1, and the record must still shred into a valid batch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/filter.h"
#include "fuzz_plans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init();
    if (size < 1) return 0;
    int k = data[0] % 3;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    sl_filter *f = (sl_filter *)1;
    sl_error err;
    sl_error_clear(&err);
    if (sl_filter_compile(&f, text, &plans[k], &err)) {
        if (f != NULL || strncmp(err.msg, "filter: ", 8) != 0) abort();
    } else {
        sl_rec *r = recs[k];
        sl_rec_begin(r);
        int a = sl_filter_eval(f, r);
        /* a record with the first few scalar fields set */
        const sl_plan_msg *m = &plans[k].msgs[0];
        for (int32_t i = 0; i < m->n_fields && i < 12; i++) {
            const sl_plan_field *pf = &m->fields[i];
            sl_val v;
            memset(&v, 0, sizeof v);
            if (pf->repeated || pf->child >= 0) continue;
            if (pf->type == SL_PB_STRING || pf->type == SL_PB_BYTES) {
                v.s.p = (const uint8_t *)text;
                v.s.len = (uint32_t)strlen(text);
            } else {
                v.u = (uint64_t)size * 0x9e3779b97f4a7c15ull;
            }
            if (sl_rec_set(r, 0, i, v)) abort();
        }
        int b = sl_filter_eval(f, r);
        if ((a != 0 && a != 1) || (b != 0 && b != 1)) abort();
        /* reading never disturbs the record: it still shreds cleanly */
        if (!sl_rec_emit(r, &batches[k], &err)) check_batch(&batches[k]);
        sl_batch_reset(&batches[k]);
        sl_filter_free(f);
    }
    free(text);
    return 0;
}
