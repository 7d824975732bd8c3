/* status.h - what a running pipeline tells about itself: the snapshot and
 * its renderings (docs/operations.md).
 *
 * The coordinator builds an sl_snap about once a second and after every
 * checkpoint (engine/obs.c) from the workers' counters, the manifest and
 * librdkafka's cached high watermarks, and hands it to the HTTP server
 * (engine/http.c), which renders every request from the newest snapshot
 * only. A snapshot is plain data that owns its strings; nothing in it
 * points into the runtime, so a request never touches worker state and
 * rendering is a pure function of the snapshot (tests/unit/test_status.c
 * renders hand-built ones without a server).
 *
 * Renderings, each appended to a buffer:
 *   - sl_metrics_render: Prometheus text exposition format 0.0.4 (metrics.c);
 *   - sl_status_json:    the /status document;
 *   - sl_status_text:    the summary `sluice status` prints;
 *   - sl_status_html:    the status page (status_html.c), server-rendered,
 *                        every string HTML-escaped.
 * Each costs time linear in streams + inputs. On failure (out of memory,
 * SL_ERR_LIMIT past 4 GiB) the buffer holds a partial text that the caller
 * discards.
 */
#ifndef SL_ENGINE_STATUS_H
#define SL_ENGINE_STATUS_H

#include <stdint.h>

#include "core/buf.h"

typedef enum sl_snap_state {
    SL_SNAP_STARTING = 0, /* recovering, before the first loop turn of an attempt */
    SL_SNAP_RUNNING,      /* an attempt runs */
    SL_SNAP_RETRYING,     /* an attempt failed; the next starts at next_retry_ms */
    SL_SNAP_DEGRADED,     /* it runs, but an output fails: the partitions feeding it are paused */
} sl_snap_state;

/* Process-lifetime figures of one stream (by name). */
typedef struct sl_snap_stream {
    char *name;
    int64_t in, out, filtered, dead, late; /* records */
    int64_t bytes_in;                      /* input bytes of its records */
    int64_t bytes_written;                 /* bytes of its published files */
    int64_t files_published, partitions_committed;
    int64_t notify_sent, notify_failed;
    int64_t watermark_ms;           /* event time, INT64_MIN: none yet */
    int64_t open_hours;             /* hour partitions with data, not committed */
    int64_t last_committed_hour_ms; /* start of the newest committed hour, INT64_MIN: none */
} sl_snap_stream;

/* An assigned input partition. */
typedef struct sl_snap_input {
    char *topic;
    int32_t partition, worker;
    int64_t offset; /* next offset to read, -1: unknown (nothing read or checkpointed) */
    int64_t high;   /* high watermark (cached by librdkafka), -1: unknown */
    int64_t lag;    /* records behind the high watermark, -1: unknown */
    int idle;       /* no record for the idle timeout: left out of the watermark */
    int paused;     /* rewound after an output failure, waiting for its retry */
} sl_snap_input;

/* Upper bounds (s) of the checkpoint-duration histogram, +Inf excluded. */
#define SL_SNAP_BUCKETS 11
extern const double sl_snap_bucket_le[SL_SNAP_BUCKETS];

typedef struct sl_snap {
    char *pipeline;
    char *config; /* the pipeline file */
    char *error;  /* the failure being retried (or the output failing), NULL when none */
    sl_snap_state state;
    int pid;
    int32_t workers;
    int64_t time_ms;       /* when the snapshot was built (wall clock) */
    int64_t start_ms;      /* process start (wall clock) */
    int64_t next_retry_ms; /* retrying: when the next attempt starts */
    /* totals over streams and records of no stream */
    int64_t records_in, dead, unrouted;
    int64_t lag;        /* sum of the known input lags */
    int64_t open_files; /* buckets open in the workers */
    int64_t files_published, retries;
    int64_t output_retries; /* outputs that failed and paused only their partitions */
    struct {
        uint64_t last;        /* the newest manifest's checkpoint, 0: none */
        int64_t last_time_ms; /* its time */
        int64_t total, failures;
        int64_t le[SL_SNAP_BUCKETS]; /* successful checkpoints that took <= bucket (cumulative) */
        double sum_s;                /* their total duration */
        double last_duration_s, last_pause_s;
        int64_t last_bytes;      /* bytes of the files the last one published */
        int64_t last_success_ms; /* 0: none in this process */
    } ckpt;
    struct {
        int64_t rss_bytes, open_fds;
        double cpu_s;
    } proc;
    sl_snap_stream *streams;
    int32_t n_streams;
    sl_snap_input *inputs;
    int32_t n_inputs;
} sl_snap;

/* Free the members and s itself; NULL is fine. */
void sl_snap_free(sl_snap *s);
/* "starting", "running", "retrying". */
const char *sl_snap_state_name(sl_snap_state st);

sl_err_t sl_metrics_render(const sl_snap *s, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_status_json(const sl_snap *s, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_status_text(const sl_snap *s, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_status_html(const sl_snap *s, sl_buf *out) SL_MUST_CHECK;

/* UTC time of an epoch-ms value, "2026-12-07T04:25:33Z" ("-" for INT64_MIN). */
void sl_status_fmt_time(char *out, size_t cap, int64_t ms);
/* A stream's watermark, watermark lag (whole seconds) and last committed
 * hour as text for a table ("-" where not known); each buffer 32 bytes. */
void sl_status_stream_times(const sl_snap *s, const sl_snap_stream *st, char *wm, char *lag,
                            char *hour);

#endif
