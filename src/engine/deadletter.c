/* deadletter.c - the forms of a dead letter (see deadletter.h). Each call
 * is one dead letter: no state, no allocation beyond the output's growth.
 */
#include "engine/deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/base64.h"
#include "core/rows_json.h"

/* Column order of the Parquet form (sl_dl_row relies on it). */
enum {
    C_PIPELINE,
    C_STREAM,
    C_TOPIC,
    C_PARTITION,
    C_OFFSET,
    C_RECORD,
    C_KTS,
    C_TIME,
    C_HOUR,
    C_KIND,
    C_REASON,
    C_RAW,
    C_KEY,
    C_N
};

static const struct {
    const char *name;
    uint8_t rep, ptype, lt;
} cols[C_N] = {
    {"pipeline", SL_REQUIRED, SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {"stream", SL_OPTIONAL, SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {"topic", SL_REQUIRED, SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {"partition", SL_REQUIRED, SL_PT_INT32, SL_LT_NONE},
    {"offset", SL_REQUIRED, SL_PT_INT64, SL_LT_NONE},
    {"record", SL_REQUIRED, SL_PT_INT32, SL_LT_NONE},
    {"kafka_timestamp", SL_OPTIONAL, SL_PT_INT64, SL_LT_TIMESTAMP},
    {"time", SL_REQUIRED, SL_PT_INT64, SL_LT_TIMESTAMP},
    {"hour", SL_REQUIRED, SL_PT_INT64, SL_LT_TIMESTAMP},
    {"kind", SL_REQUIRED, SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {"reason", SL_REQUIRED, SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {"raw", SL_REQUIRED, SL_PT_BYTE_ARRAY, SL_LT_NONE},
    {"key", SL_OPTIONAL, SL_PT_BYTE_ARRAY, SL_LT_NONE},
};

sl_err_t sl_dl_schema(sl_schema *s, sl_error *err)
{
    if (sl_schema_init(s, "dead_letter")) goto nomem;
    for (int i = 0; i < C_N; i++) {
        sl_logical lt = {0};
        lt.kind = cols[i].lt;
        if (lt.kind == SL_LT_TIMESTAMP) {
            lt.unit = SL_TU_MILLIS;
            lt.utc = 1;
        }
        if (sl_schema_add(s, 0, cols[i].name, (sl_repetition_t)cols[i].rep, 0,
                          (sl_ptype_t)cols[i].ptype, lt, -1) < 0)
            goto nomem;
    }
    sl_err_t rc = sl_schema_finish(s, err);
    if (rc) sl_schema_free(s);
    return rc;
nomem:
    sl_schema_free(s);
    return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
}

static const char *kind_of(const sl_dl_rec *r)
{
    return r->whole_value ? "value" : "record";
}

sl_err_t sl_dl_row(sl_batch *b, const sl_dl_rec *r)
{
    sl_col *c = b->cols;
    const char *kind = kind_of(r);
    sl_err_t rc = sl_col_bytes(&c[C_PIPELINE], r->pipeline, strlen(r->pipeline), 0);
    if (!rc)
        rc = r->stream ? sl_col_bytes(&c[C_STREAM], r->stream, strlen(r->stream), 0)
                       : sl_col_null(&c[C_STREAM], 0, 0);
    if (!rc) rc = sl_col_bytes(&c[C_TOPIC], r->topic, strlen(r->topic), 0);
    if (!rc) rc = sl_col_i32(&c[C_PARTITION], r->partition, 0);
    if (!rc) rc = sl_col_i64(&c[C_OFFSET], r->offset, 0);
    if (!rc) rc = sl_col_i32(&c[C_RECORD], r->record, 0);
    if (!rc)
        rc =
            r->kafka_ts >= 0 ? sl_col_i64(&c[C_KTS], r->kafka_ts, 0) : sl_col_null(&c[C_KTS], 0, 0);
    if (!rc) rc = sl_col_i64(&c[C_TIME], r->time_ms, 0);
    if (!rc) rc = sl_col_i64(&c[C_HOUR], r->hour_ms, 0);
    if (!rc) rc = sl_col_bytes(&c[C_KIND], kind, strlen(kind), 0);
    if (!rc) rc = sl_col_bytes(&c[C_REASON], r->reason, strlen(r->reason), 0);
    if (!rc) rc = sl_col_bytes(&c[C_RAW], r->raw, r->len, 0);
    if (!rc)
        rc = r->key ? sl_col_bytes(&c[C_KEY], r->key, r->klen, 0) : sl_col_null(&c[C_KEY], 0, 0);
    if (!rc) b->nrows++;
    return rc;
}

static sl_err_t put_kstr(sl_buf *b, const char *k, const char *v)
{
    sl_err_t rc = sl_buf_append(b, k, strlen(k));
    if (!rc) rc = v ? sl_json_put_str(b, v, strlen(v)) : sl_buf_append(b, "null", 4);
    return rc;
}

sl_err_t sl_dl_json(sl_buf *out, const sl_dl_rec *r)
{
    size_t mark = out->len;
    char num[256];
    sl_err_t rc = put_kstr(out, "{\"pipeline\":", r->pipeline);
    if (!rc) rc = put_kstr(out, ",\"stream\":", r->stream);
    if (!rc) rc = put_kstr(out, ",\"topic\":", r->topic);
    int n = snprintf(num, sizeof num,
                     ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"record\":%" PRId32,
                     r->partition, r->offset, r->record);
    if (!rc) rc = sl_buf_append(out, num, (size_t)n);
    if (r->kafka_ts >= 0)
        n = snprintf(num, sizeof num, ",\"kafka_timestamp\":%" PRId64, r->kafka_ts);
    else
        n = snprintf(num, sizeof num, ",\"kafka_timestamp\":null");
    if (!rc) rc = sl_buf_append(out, num, (size_t)n);
    n = snprintf(num, sizeof num, ",\"time\":%" PRId64 ",\"hour\":%" PRId64, r->time_ms,
                 r->hour_ms);
    if (!rc) rc = sl_buf_append(out, num, (size_t)n);
    if (!rc) rc = put_kstr(out, ",\"kind\":", kind_of(r));
    if (!rc) rc = put_kstr(out, ",\"reason\":", r->reason);
    if (!rc) rc = sl_buf_append(out, ",\"raw_base64\":\"", 15);
    if (!rc) rc = sl_base64_encode(r->raw, r->len, out);
    if (!rc && r->key) {
        rc = sl_buf_append(out, "\",\"key_base64\":\"", 16);
        if (!rc) rc = sl_base64_encode(r->key, r->klen, out);
        if (!rc) rc = sl_buf_append(out, "\"}\n", 3);
    } else if (!rc)
        rc = sl_buf_append(out, "\",\"key_base64\":null}\n", 21);
    if (rc) out->len = mark;
    return rc;
}

int sl_dl_headers(const sl_dl_rec *r, const char *names[SL_DL_N_HEADERS],
                  const char *values[SL_DL_N_HEADERS], char *num, size_t num_cap)
{
    int n = 0;
    size_t used = 0;
#define HDR(k, v) (names[n] = (k), values[n++] = (v))
#define NUM(k, fmt, v)                                                                             \
    do {                                                                                           \
        int w_ = snprintf(num + used, num_cap - used, fmt, v);                                     \
        HDR(k, num + used);                                                                        \
        used += (size_t)w_ + 1;                                                                    \
    } while (0)
    HDR("sluice.pipeline", r->pipeline);
    if (r->stream) HDR("sluice.stream", r->stream);
    HDR("sluice.topic", r->topic);
    NUM("sluice.partition", "%" PRId32, r->partition);
    NUM("sluice.offset", "%" PRId64, r->offset);
    NUM("sluice.record", "%" PRId32, r->record);
    HDR("sluice.kind", kind_of(r));
    NUM("sluice.hour", "%" PRId64, r->hour_ms);
    HDR("sluice.reason", r->reason);
    if (r->kafka_ts >= 0) NUM("sluice.kafka_timestamp", "%" PRId64, r->kafka_ts);
    if (r->instance) HDR("sluice.instance", r->instance);
#undef NUM
#undef HDR
    return n;
}

int sl_dl_dir(char *out, size_t cap, const char *root, int64_t hour_ms)
{
    int64_t sec = hour_ms / 1000 - (hour_ms % 1000 < 0);
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -1;
    int n = snprintf(out, cap, "%s/dt=%04d-%02d-%02d/hour=%02d", root, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
