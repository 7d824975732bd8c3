/* metrics.c - a snapshot (status.h) in the Prometheus text exposition
 * format 0.0.4 (`text/plain; version=0.0.4`), served at GET /metrics.
 *
 * Every family has its HELP and TYPE lines, even when it has no sample yet
 * (no input assigned), so a dashboard finds every name from the first
 * scrape. Every sample carries the `pipeline` label; label values are
 * escaped as the format requires (backslash, double quote, newline), HELP
 * texts likewise (backslash, newline). A value that is not known yet (an
 * input's high watermark before its first fetch, a stream's watermark before
 * any record) is left out rather than written as a made-up number.
 *
 * Per-stream and per-input families are tables of (name, type, help, field
 * offset), so adding a figure is adding a row. The names and their meaning
 * are documented in docs/operations.md. Cost: linear in streams + inputs.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/status.h"

const double sl_snap_bucket_le[SL_SNAP_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};

static sl_err_t esc(sl_buf *b, const char *v, int quote)
{
    sl_err_t rc = SL_OK;
    for (; *v && !rc; v++) {
        if (*v == '\\')
            rc = sl_buf_append(b, "\\\\", 2);
        else if (*v == '\n')
            rc = sl_buf_append(b, "\\n", 2);
        else if (*v == '"' && quote)
            rc = sl_buf_append(b, "\\\"", 2);
        else
            rc = sl_buf_put_u8(b, (uint8_t)*v);
    }
    return rc;
}

static sl_err_t family(sl_buf *b, const char *name, const char *type, const char *help)
{
    sl_err_t rc = sl_buf_printf(b, "# HELP %s ", name);
    if (!rc) rc = esc(b, help, 0);
    if (!rc) rc = sl_buf_printf(b, "\n# TYPE %s %s\n", name, type);
    return rc;
}

/* name{pipeline="P",k1="v1",...} VALUE: lv holds n key/value pairs. */
static sl_err_t sample(sl_buf *b, const sl_snap *s, const char *name, const char *const *lv, int n,
                       const char *value)
{
    sl_err_t rc = sl_buf_printf(b, "%s{pipeline=\"", name);
    if (!rc) rc = esc(b, s->pipeline, 1);
    for (int i = 0; !rc && i < n; i++) {
        rc = sl_buf_printf(b, "\",%s=\"", lv[2 * i]);
        if (!rc) rc = esc(b, lv[2 * i + 1], 1);
    }
    if (!rc) rc = sl_buf_printf(b, "\"} %s\n", value);
    return rc;
}

static void fmt_i(char *v, size_t cap, int64_t x)
{
    snprintf(v, cap, "%" PRId64, x);
}

static void fmt_d(char *v, size_t cap, double x)
{
    snprintf(v, cap, "%.15g", x);
}

/* A family with one sample and no label but `pipeline`. */
static sl_err_t one(sl_buf *b, const sl_snap *s, const char *name, const char *type,
                    const char *help, const char *value)
{
    sl_err_t rc = family(b, name, type, help);
    return rc ? rc : sample(b, s, name, NULL, 0, value);
}

static sl_err_t one_i(sl_buf *b, const sl_snap *s, const char *name, const char *type,
                      const char *help, int64_t x)
{
    char v[32];
    fmt_i(v, sizeof v, x);
    return one(b, s, name, type, help, v);
}

static sl_err_t one_d(sl_buf *b, const sl_snap *s, const char *name, const char *type,
                      const char *help, double x)
{
    char v[48];
    fmt_d(v, sizeof v, x);
    return one(b, s, name, type, help, v);
}

typedef struct fam {
    const char *name, *type, *help;
    size_t off; /* int64_t in sl_snap_stream / sl_snap_input */
} fam;

#define SF(f) offsetof(sl_snap_stream, f)
static const fam stream_fams[] = {
    {"sluice_stream_records_in_total", "counter", "Records routed to the stream.", SF(in)},
    {"sluice_stream_records_written_total", "counter",
     "Records of the stream written to its outputs (after filter and script).", SF(out)},
    {"sluice_stream_records_filtered_total", "counter",
     "Records of the stream dropped by its filter or script.", SF(filtered)},
    {"sluice_stream_records_dead_lettered_total", "counter",
     "Records of the stream sent to the dead-letter output.", SF(dead)},
    {"sluice_stream_records_late_total", "counter",
     "Records of the stream whose hour partition was already committed (commit.late).", SF(late)},
    {"sluice_stream_bytes_in_total", "counter", "Input bytes of the stream's records.",
     SF(bytes_in)},
    {"sluice_stream_bytes_written_total", "counter",
     "Bytes of the stream's files published by checkpoints.", SF(bytes_written)},
    {"sluice_stream_files_published_total", "counter",
     "Files of the stream published by checkpoints.", SF(files_published)},
    {"sluice_stream_partitions_committed_total", "counter",
     "Hour partitions of the stream committed (_SUCCESS and notifications done).",
     SF(partitions_committed)},
    {"sluice_stream_open_partitions", "gauge",
     "Hour partitions of the stream that hold data and are not committed yet.", SF(open_hours)},
};

#define IF(f) offsetof(sl_snap_input, f)
static const fam input_fams[] = {
    {"sluice_input_offset", "gauge", "Next offset to read of the input partition.", IF(offset)},
    {"sluice_input_high_watermark", "gauge",
     "High watermark of the input partition (librdkafka's cached value).", IF(high)},
    {"sluice_input_lag_records", "gauge",
     "Records of the input partition behind its high watermark.", IF(lag)},
};

static int64_t field(const void *base, size_t off)
{
    int64_t v;
    memcpy(&v, (const char *)base + off, sizeof v);
    return v;
}

/* The streams' watermarks (Unix s), or `now` minus them (now != 0); a
 * stream without a watermark yet has no sample. */
static sl_err_t watermarks(sl_buf *b, const sl_snap *s, const char *name, const char *help,
                           int64_t now)
{
    char v[48];
    sl_err_t rc = family(b, name, "gauge", help);
    for (int32_t i = 0; !rc && i < s->n_streams; i++) {
        const char *lv[] = {"stream", s->streams[i].name};
        int64_t wm = s->streams[i].watermark_ms;
        if (wm == INT64_MIN) continue;
        fmt_d(v, sizeof v, (double)(now ? now - wm : wm) / 1000.0);
        rc = sample(b, s, name, lv, 1, v);
    }
    return rc;
}

static sl_err_t streams(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc = SL_OK;
    char v[48];
    for (size_t f = 0; !rc && f < sizeof stream_fams / sizeof stream_fams[0]; f++) {
        const fam *m = &stream_fams[f];
        rc = family(b, m->name, m->type, m->help);
        for (int32_t i = 0; !rc && i < s->n_streams; i++) {
            const char *lv[] = {"stream", s->streams[i].name};
            fmt_i(v, sizeof v, field(&s->streams[i], m->off));
            rc = sample(b, s, m->name, lv, 1, v);
        }
    }
    if (!rc)
        rc = watermarks(b, s, "sluice_stream_watermark_seconds",
                        "Watermark of the stream: the inputs' event-time frontier minus its "
                        "max_out_of_orderness (Unix time).",
                        0);
    if (!rc)
        rc = watermarks(b, s, "sluice_stream_watermark_lag_seconds",
                        "Wall-clock time minus the stream's watermark.", s->time_ms);
    if (!rc)
        rc = family(b, "sluice_notifications_total", "counter",
                    "Partition-commit notifications of the stream, by outcome (sent: every "
                    "target accepted it; failed: a target refused it, the attempt retries).");
    for (int32_t i = 0; !rc && i < s->n_streams; i++) {
        const char *sent[] = {"stream", s->streams[i].name, "outcome", "sent"};
        const char *failed[] = {"stream", s->streams[i].name, "outcome", "failed"};
        fmt_i(v, sizeof v, s->streams[i].notify_sent);
        rc = sample(b, s, "sluice_notifications_total", sent, 2, v);
        fmt_i(v, sizeof v, s->streams[i].notify_failed);
        if (!rc) rc = sample(b, s, "sluice_notifications_total", failed, 2, v);
    }
    return rc;
}

static sl_err_t inputs(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc = SL_OK;
    char v[48], part[16];
    for (size_t f = 0; !rc && f < sizeof input_fams / sizeof input_fams[0]; f++) {
        const fam *m = &input_fams[f];
        rc = family(b, m->name, m->type, m->help);
        for (int32_t i = 0; !rc && i < s->n_inputs; i++) {
            const sl_snap_input *in = &s->inputs[i];
            int64_t x = field(in, m->off);
            if (x < 0) continue; /* not known yet */
            snprintf(part, sizeof part, "%d", (int)in->partition);
            const char *lv[] = {"topic", in->topic, "partition", part};
            fmt_i(v, sizeof v, x);
            rc = sample(b, s, m->name, lv, 2, v);
        }
    }
    static const struct {
        const char *name, *help;
        size_t off; /* an int flag of sl_snap_input */
    } flags[] = {
        {"sluice_input_idle",
         "1 when the input partition brought no record for the idle timeout (left out of the "
         "watermark), else 0.",
         offsetof(sl_snap_input, idle)},
        {"sluice_input_paused",
         "1 while the input partition is paused after an output it feeds failed (it is read "
         "again from its checkpointed position once the retry comes), else 0.",
         offsetof(sl_snap_input, paused)},
    };
    for (size_t f = 0; !rc && f < sizeof flags / sizeof flags[0]; f++) {
        rc = family(b, flags[f].name, "gauge", flags[f].help);
        for (int32_t i = 0; !rc && i < s->n_inputs; i++) {
            const sl_snap_input *in = &s->inputs[i];
            int on = *(const int *)((const char *)in + flags[f].off);
            snprintf(part, sizeof part, "%d", (int)in->partition);
            const char *lv[] = {"topic", in->topic, "partition", part};
            rc = sample(b, s, flags[f].name, lv, 2, on ? "1" : "0");
        }
    }
    if (!rc)
        rc = one_i(b, s, "sluice_consumer_lag_records", "gauge",
                   "Records behind the high watermarks, summed over the assigned input partitions.",
                   s->lag);
    return rc;
}

static sl_err_t checkpoints(sl_buf *b, const sl_snap *s)
{
    const char *h = "sluice_checkpoint_duration_seconds";
    char v[48], le[32];
    sl_err_t rc = one_i(b, s, "sluice_checkpoints_total", "counter",
                        "Checkpoints completed by this process.", s->ckpt.total);
    if (!rc)
        rc = one_i(
            b, s, "sluice_checkpoint_failures_total", "counter",
            "Checkpoints that failed, or whose hours failed to commit (the attempt is retried "
            "from the last completed checkpoint).",
            s->ckpt.failures);
    if (!rc)
        rc = family(b, h, "histogram",
                    "Duration of completed checkpoints, from the barrier to the published files.");
    for (int i = 0; !rc && i < SL_SNAP_BUCKETS; i++) {
        fmt_d(le, sizeof le, sl_snap_bucket_le[i]);
        const char *lv[] = {"le", le};
        fmt_i(v, sizeof v, s->ckpt.le[i]);
        rc = sample(b, s, "sluice_checkpoint_duration_seconds_bucket", lv, 1, v);
    }
    const char *inf[] = {"le", "+Inf"};
    fmt_i(v, sizeof v, s->ckpt.total);
    if (!rc) rc = sample(b, s, "sluice_checkpoint_duration_seconds_bucket", inf, 1, v);
    fmt_d(v, sizeof v, s->ckpt.sum_s);
    if (!rc) rc = sample(b, s, "sluice_checkpoint_duration_seconds_sum", NULL, 0, v);
    fmt_i(v, sizeof v, s->ckpt.total);
    if (!rc) rc = sample(b, s, "sluice_checkpoint_duration_seconds_count", NULL, 0, v);
    if (!rc)
        rc = one_i(b, s, "sluice_checkpoint_last_bytes", "gauge",
                   "Bytes of the files the last checkpoint published.", s->ckpt.last_bytes);
    if (!rc)
        rc = one_d(b, s, "sluice_checkpoint_last_pause_seconds", "gauge",
                   "Longest ingestion pause of a worker at the last checkpoint's barrier.",
                   s->ckpt.last_pause_s);
    if (!rc)
        rc = one_d(b, s, "sluice_checkpoint_last_duration_seconds", "gauge",
                   "Duration of the last completed checkpoint.", s->ckpt.last_duration_s);
    if (!rc)
        rc = one_i(b, s, "sluice_checkpoint_last_id", "gauge",
                   "Number of the newest checkpoint manifest.", (int64_t)s->ckpt.last);
    if (!rc && s->ckpt.last_success_ms)
        rc = one_d(b, s, "sluice_checkpoint_last_success_timestamp_seconds", "gauge",
                   "When the last checkpoint completed (Unix time).",
                   (double)s->ckpt.last_success_ms / 1000.0);
    return rc;
}

sl_err_t sl_metrics_render(const sl_snap *s, sl_buf *out)
{
    sl_err_t rc = one_i(out, s, "sluice_up", "gauge",
                        "1 while the pipeline runs (or starts), 0 while it waits to retry after a "
                        "failure.",
                        s->state != SL_SNAP_RETRYING);
    if (!rc)
        rc = one_i(out, s, "sluice_retries_total", "counter",
                   "Attempts that failed and were retried from the last checkpoint.", s->retries);
    if (!rc)
        rc = one_i(out, s, "sluice_output_retries_total", "counter",
                   "Output failures that paused only the input partitions feeding the output "
                   "(the rest of the pipeline went on).",
                   s->output_retries);
    if (!rc)
        rc =
            one_i(out, s, "sluice_workers", "gauge", "Worker threads of the pipeline.", s->workers);
    if (!rc)
        rc = one_i(out, s, "sluice_records_in_total", "counter",
                   "Records read, of every stream and of none.", s->records_in);
    if (!rc)
        rc = one_i(out, s, "sluice_unrouted_records_total", "counter",
                   "Records that matched no stream's route (dead-lettered).", s->unrouted);
    if (!rc)
        rc = one_i(out, s, "sluice_dead_lettered_total", "counter",
                   "Records dead-lettered, of every stream and of none (unrouted, undecodable).",
                   s->dead);
    if (!rc) rc = streams(out, s);
    if (!rc) rc = inputs(out, s);
    if (!rc) rc = checkpoints(out, s);
    if (!rc)
        rc = one_i(out, s, "sluice_open_files", "gauge",
                   "Output files (buckets) open in the workers.", s->open_files);
    if (!rc)
        rc = one_i(out, s, "sluice_files_published_total", "counter",
                   "Files published by checkpoints (data and dead letters).", s->files_published);
    if (!rc)
        rc = one_i(out, s, "process_resident_memory_bytes", "gauge", "Resident memory size.",
                   s->proc.rss_bytes);
    if (!rc)
        rc = one_d(out, s, "process_cpu_seconds_total", "counter",
                   "User and system CPU time spent.", s->proc.cpu_s);
    if (!rc)
        rc = one_d(out, s, "process_start_time_seconds", "gauge",
                   "Start time of the process (Unix time).", (double)s->start_ms / 1000.0);
    if (!rc)
        rc = one_i(out, s, "process_open_fds", "gauge", "Open file descriptors.", s->proc.open_fds);
    return rc;
}
