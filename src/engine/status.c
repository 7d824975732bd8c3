/* status.c - a snapshot (status.h) as the /status JSON document and as the
 * text summary of `sluice status`.
 *
 * JSON: one object; strings through the canonical JSON string writer
 * (escapes, invalid UTF-8 as U+FFFD), numbers as integers except durations
 * in seconds; a value not known yet is null. The keys are documented in
 * docs/operations.md and are a contract: add keys, never rename them.
 *
 * Text: a few summary lines, then a table of streams and one of inputs, in
 * fixed-width columns for a terminal (long names push a row wider rather
 * than being cut).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rows_json.h"
#include "engine/status.h"

void sl_snap_free(sl_snap *s)
{
    if (!s) return;
    for (int32_t i = 0; i < s->n_streams; i++)
        free(s->streams[i].name);
    for (int32_t i = 0; i < s->n_inputs; i++)
        free(s->inputs[i].topic);
    free(s->streams);
    free(s->inputs);
    free(s->pipeline);
    free(s->config);
    free(s->error);
    free(s);
}

const char *sl_snap_state_name(sl_snap_state st)
{
    return st == SL_SNAP_RUNNING    ? "running"
           : st == SL_SNAP_RETRYING ? "retrying"
           : st == SL_SNAP_DEGRADED ? "degraded"
                                    : "starting";
}

void sl_status_fmt_time(char *out, size_t cap, int64_t ms)
{
    if (ms == INT64_MIN) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, cap, "-");
        return;
    }
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sl_status_stream_times(const sl_snap *s, const sl_snap_stream *st, char *wm, char *lag,
                            char *hour)
{
    sl_status_fmt_time(wm, 32, st->watermark_ms);
    sl_status_fmt_time(hour, 32, st->last_committed_hour_ms);
    if (st->watermark_ms == INT64_MIN)
        snprintf(lag, 32, "-");
    else
        snprintf(lag, 32, "%.0f", (double)(s->time_ms - st->watermark_ms) / 1000.0);
}

/* ---- JSON ---- */

static sl_err_t jstr(sl_buf *b, const char *key, const char *v)
{
    sl_err_t rc = sl_buf_printf(b, "\"%s\":", key);
    if (rc) return rc;
    return v ? sl_json_put_str(b, v, strlen(v)) : sl_buf_append(b, "null", 4);
}

/* "key":N, or "key":null when x equals `unknown`. */
static sl_err_t jint(sl_buf *b, const char *key, int64_t x, int64_t unknown)
{
    if (x == unknown) return sl_buf_printf(b, "\"%s\":null", key);
    return sl_buf_printf(b, "\"%s\":%" PRId64, key, x);
}

static sl_err_t json_stream(sl_buf *b, const sl_snap *s, const sl_snap_stream *st)
{
    sl_err_t rc = sl_buf_put_u8(b, '{');
    if (!rc) rc = jstr(b, "name", st->name);
    if (!rc)
        rc = sl_buf_printf(b,
                           ",\"records_in\":%" PRId64 ",\"records_written\":%" PRId64
                           ",\"filtered\":%" PRId64 ",\"dead_lettered\":%" PRId64
                           ",\"late\":%" PRId64 ",\"bytes_in\":%" PRId64
                           ",\"bytes_written\":%" PRId64 ",\"files_published\":%" PRId64
                           ",\"partitions_committed\":%" PRId64 ",\"notifications_sent\":%" PRId64
                           ",\"notifications_failed\":%" PRId64 ",\"open_hours\":%" PRId64 ",",
                           st->in, st->out, st->filtered, st->dead, st->late, st->bytes_in,
                           st->bytes_written, st->files_published, st->partitions_committed,
                           st->notify_sent, st->notify_failed, st->open_hours);
    if (!rc) rc = jint(b, "watermark_ms", st->watermark_ms, INT64_MIN);
    if (!rc && st->watermark_ms != INT64_MIN)
        rc = sl_buf_printf(b, ",\"watermark_lag_s\":%.3f",
                           (double)(s->time_ms - st->watermark_ms) / 1000.0);
    else if (!rc)
        rc = sl_buf_printf(b, ",\"watermark_lag_s\":null");
    if (!rc) rc = sl_buf_put_u8(b, ',');
    if (!rc) rc = jint(b, "last_committed_hour_ms", st->last_committed_hour_ms, INT64_MIN);
    if (!rc) rc = sl_buf_put_u8(b, '}');
    return rc;
}

static sl_err_t json_input(sl_buf *b, const sl_snap_input *in)
{
    sl_err_t rc = sl_buf_put_u8(b, '{');
    if (!rc) rc = jstr(b, "topic", in->topic);
    if (!rc) rc = sl_buf_printf(b, ",\"partition\":%d,\"worker\":%d,", in->partition, in->worker);
    if (!rc) rc = jint(b, "offset", in->offset, -1);
    if (!rc) rc = sl_buf_put_u8(b, ',');
    if (!rc) rc = jint(b, "high_watermark", in->high, -1);
    if (!rc) rc = sl_buf_put_u8(b, ',');
    if (!rc) rc = jint(b, "lag", in->lag, -1);
    if (!rc)
        rc = sl_buf_printf(b, ",\"idle\":%s,\"paused\":%s}", in->idle ? "true" : "false",
                           in->paused ? "true" : "false");
    return rc;
}

sl_err_t sl_status_json(const sl_snap *s, sl_buf *b)
{
    sl_err_t rc = sl_buf_put_u8(b, '{');
    if (!rc) rc = jstr(b, "pipeline", s->pipeline);
    if (!rc) rc = sl_buf_put_u8(b, ',');
    if (!rc) rc = jstr(b, "config", s->config);
    if (!rc)
        rc = sl_buf_printf(b, ",\"version\":\"%s\",\"pid\":%d,\"state\":\"%s\",", SL_VERSION,
                           s->pid, sl_snap_state_name(s->state));
    if (!rc) rc = jstr(b, "error", s->error);
    if (!rc) rc = sl_buf_put_u8(b, ',');
    if (!rc)
        rc = jint(b, "next_retry_ms", s->state == SL_SNAP_RETRYING ? s->next_retry_ms : -1, -1);
    if (!rc)
        rc = sl_buf_printf(
            b,
            ",\"workers\":%d,\"time_ms\":%" PRId64 ",\"start_ms\":%" PRId64 ",\"uptime_s\":%" PRId64
            ",\"records_in\":%" PRId64 ",\"dead_lettered\":%" PRId64 ",\"unrouted\":%" PRId64
            ",\"lag\":%" PRId64 ",\"open_files\":%" PRId64 ",\"files_published\":%" PRId64
            ",\"retries\":%" PRId64 ",\"output_retries\":%" PRId64,
            (int)s->workers, s->time_ms, s->start_ms, (s->time_ms - s->start_ms) / 1000,
            s->records_in, s->dead, s->unrouted, s->lag, s->open_files, s->files_published,
            s->retries, s->output_retries);
    if (!rc)
        rc = sl_buf_printf(
            b,
            ",\"checkpoint\":{\"last\":%" PRIu64 ",\"time_ms\":%" PRId64 ",\"total\":%" PRId64
            ",\"failures\":%" PRId64
            ",\"last_duration_s\":%.3f,\"last_pause_s\":%.6f,\"last_bytes\":%" PRId64 ",",
            s->ckpt.last, s->ckpt.last ? s->ckpt.last_time_ms : 0, s->ckpt.total, s->ckpt.failures,
            s->ckpt.last_duration_s, s->ckpt.last_pause_s, s->ckpt.last_bytes);
    if (!rc) rc = jint(b, "last_success_ms", s->ckpt.last_success_ms, 0);
    if (!rc) rc = sl_buf_append(b, "},\"streams\":[", 13);
    for (int32_t i = 0; !rc && i < s->n_streams; i++) {
        if (i) rc = sl_buf_put_u8(b, ',');
        if (!rc) rc = json_stream(b, s, &s->streams[i]);
    }
    if (!rc) rc = sl_buf_append(b, "],\"inputs\":[", 12);
    for (int32_t i = 0; !rc && i < s->n_inputs; i++) {
        if (i) rc = sl_buf_put_u8(b, ',');
        if (!rc) rc = json_input(b, &s->inputs[i]);
    }
    if (!rc) rc = sl_buf_append(b, "]}\n", 3);
    return rc;
}

/* ---- text ---- */

static void fmt_num(char *out, size_t cap, int64_t x, int64_t unknown)
{
    if (x == unknown)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%" PRId64, x);
}

static sl_err_t text_streams(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc = sl_buf_printf(b, "\n%-20s %12s %12s %10s %10s %8s %-20s %9s %5s %-20s\n",
                                "STREAM", "IN", "WRITTEN", "FILTERED", "DEAD", "LATE",
                                "WATERMARK (UTC)", "WM LAG(s)", "OPEN", "LAST COMMITTED HOUR");
    for (int32_t i = 0; !rc && i < s->n_streams; i++) {
        const sl_snap_stream *st = &s->streams[i];
        char wm[32], lag[32], ch[32];
        sl_status_stream_times(s, st, wm, lag, ch);
        rc = sl_buf_printf(b,
                           "%-20s %12" PRId64 " %12" PRId64 " %10" PRId64 " %10" PRId64 " %8" PRId64
                           " %-20s %9s %5" PRId64 " %-20s\n",
                           st->name, st->in, st->out, st->filtered, st->dead, st->late, wm, lag,
                           st->open_hours, ch);
    }
    return rc;
}

static sl_err_t text_inputs(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc =
        sl_buf_printf(b, "\n%-24s %9s %6s %14s %14s %10s %4s %6s\n", "INPUT TOPIC", "PARTITION",
                      "WORKER", "OFFSET", "HIGH WATERMARK", "LAG", "IDLE", "PAUSED");
    for (int32_t i = 0; !rc && i < s->n_inputs; i++) {
        const sl_snap_input *in = &s->inputs[i];
        char off[24], hi[24], lag[24];
        fmt_num(off, sizeof off, in->offset, -1);
        fmt_num(hi, sizeof hi, in->high, -1);
        fmt_num(lag, sizeof lag, in->lag, -1);
        rc = sl_buf_printf(b, "%-24s %9d %6d %14s %14s %10s %4s %6s\n", in->topic,
                           (int)in->partition, (int)in->worker, off, hi, lag,
                           in->idle ? "yes" : "no", in->paused ? "yes" : "no");
    }
    return rc;
}

sl_err_t sl_status_text(const sl_snap *s, sl_buf *b)
{
    char t[32], ok[32];
    int64_t up = (s->time_ms - s->start_ms) / 1000;
    sl_err_t rc = sl_buf_printf(b,
                                "pipeline %s (%s): %s, up %" PRId64 "h%02dm%02ds, pid %d, %d "
                                "workers\n",
                                s->pipeline, s->config, sl_snap_state_name(s->state), up / 3600,
                                (int)(up / 60 % 60), (int)(up % 60), s->pid, (int)s->workers);
    if (!rc && s->state == SL_SNAP_RETRYING) {
        sl_status_fmt_time(t, sizeof t, s->next_retry_ms);
        rc = sl_buf_printf(b, "retrying after a failure (next attempt at %s): %s\n", t,
                           s->error ? s->error : "?");
    }
    if (!rc && s->state == SL_SNAP_DEGRADED)
        rc = sl_buf_printf(b,
                           "an output fails; the input partitions feeding it are paused and "
                           "retried (PAUSED below): %s\n",
                           s->error ? s->error : "?");
    sl_status_fmt_time(t, sizeof t, s->ckpt.last ? s->ckpt.last_time_ms : INT64_MIN);
    sl_status_fmt_time(ok, sizeof ok,
                       s->ckpt.last_success_ms ? s->ckpt.last_success_ms : INT64_MIN);
    if (!rc)
        rc = sl_buf_printf(b,
                           "last checkpoint %" PRIu64 " at %s; %" PRId64 " completed by this "
                           "process (%" PRId64 " failed), last at %s, took %.3f s (pause %.1f "
                           "ms), published %" PRId64 " bytes\n",
                           s->ckpt.last, t, s->ckpt.total, s->ckpt.failures, ok,
                           s->ckpt.last_duration_s, s->ckpt.last_pause_s * 1000.0,
                           s->ckpt.last_bytes);
    if (!rc)
        rc = sl_buf_printf(b,
                           "lag %" PRId64 " records; records in %" PRId64 ", dead-lettered %" PRId64
                           ", unrouted %" PRId64 "; %" PRId64 " open files, %" PRId64
                           " files published, %" PRId64 " retries\n",
                           s->lag, s->records_in, s->dead, s->unrouted, s->open_files,
                           s->files_published, s->retries);
    if (!rc) rc = text_streams(b, s);
    if (!rc) rc = text_inputs(b, s);
    return rc;
}
