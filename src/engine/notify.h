/* notify.h - partition-commit notifications: a Kafka topic, an HTTP webhook,
 * a command (issue 4, commit step 3 after compaction and _SUCCESS).
 *
 * A notifier is built once from a stream's commit.notify list and then
 * delivers events, each to every target, at least once: a call retries
 * each target with its own exponential backoff (100 ms doubling to 5 s)
 * until every target took the event or the call's budget is spent. Every
 * event carries an id, "<pipeline>/<stream>/<partition>/v<version>", that
 * is the same on every resend, so receivers drop duplicates by id (the
 * Kafka key, the `sluice-id` header, the X-Sluice-Id HTTP header and
 * SLUICE_ID for commands).
 *
 * A notifier is used by one thread at a time (sl_notifier_cancel excepted).
 * It owns one idempotent Kafka producer (when a kafka target exists) and
 * one reusable HTTP connection per webhook target.
 */
#ifndef SL_ENGINE_NOTIFY_H
#define SL_ENGINE_NOTIFY_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "engine/config.h"

/* The audit counts of a committed partition (engine/audit.h). */
typedef struct sl_notify_audit {
    int64_t read, filtered, dead_lettered, late, written;
} sl_notify_audit;

typedef struct sl_notify_event {
    const char *id; /* "<pipeline>/<stream>/<partition>/v<version>": the same on a resend */
    const char *pipeline, *stream, *partition; /* partition: "dt=2025-12-01/hour=13" */
    const char *path;                          /* the partition directory */
    int64_t version, rows, files, bytes;
    int64_t hour_start_ms, watermark_ms;
    const sl_notify_audit *audit; /* NULL: none (audit.enabled false) */
} sl_notify_event;

/* JSON object of the event (keys: id, pipeline, stream, partition, path,
 * version, rows, files, bytes, hour_start (RFC 3339 UTC), watermark
 * (RFC 3339 UTC), watermark_ms, and with audit counts "audit": {read,
 * filtered, dead_lettered, late, written}), appended to out. A time is written with
 * milliseconds only when it has some ("2025-12-01T13:00:00Z",
 * "2025-12-01T14:00:30.250Z"). SL_ERR_INVALID for a NULL string or a time
 * outside years 0000-9999; on any error out is as it was. */
sl_err_t sl_notify_json(const sl_notify_event *ev, sl_buf *out) SL_MUST_CHECK;

/* RFC 3339 UTC text of an epoch-ms time, as in the JSON (at least 25
 * bytes of room). Returns 0, or -1 for a year outside 0000-9999. (Added by
 * the notify task: the command target's SLUICE_HOUR_START/WATERMARK.) */
int sl_notify_rfc3339(int64_t ms, char *out, size_t size);

typedef struct sl_notifier sl_notifier;

/* brokers: for kafka targets, with conn: the connection's librdkafka
 * properties (security, SASL, SSL; a NULL-terminated key, value list, may
 * be NULL); cwd: where commands run (the pipeline file's directory; NULL =
 * the current directory). Checks every target (a kafka
 * target needs a topic and brokers, a webhook an http(s) URL, a command a
 * non-empty run) and names the bad one by its list index and config line.
 * On error *out is NULL. n == 0 gives a notifier that delivers nothing. */
sl_err_t sl_notifier_new(sl_notifier **out, const sl_cfg_notify *t, int n, const char *brokers,
                         const char *const *conn, const char *cwd, sl_error *err) SL_MUST_CHECK;

/* Deliver ev to every target, at least once: retries with exponential
 * backoff (100 ms doubling to 5 s) until `deadline_ms` (monotonic ms budget
 * for this call, e.g. 30000); then an error that names the target, the
 * event id and the last failure (retriable). A target that can never take
 * the event (an HTTP 4xx other than 429, a 3xx) fails at once with a
 * non-retriable SL_ERR_INVALID; the other targets still get the event.
 *
 * After a failed call the targets that took the event are remembered: a
 * resend of the same id (the next call) goes only to the targets that
 * still owe it, and a Kafka message still in flight from the failed call
 * is waited for rather than produced again. After a successful call, in
 * another process, or once another id was sent, a send goes to every
 * target: duplicates with the same id, never a loss. */
sl_err_t sl_notifier_send(sl_notifier *n, const sl_notify_event *ev, int64_t deadline_ms,
                          sl_error *err) SL_MUST_CHECK;

/* Make a running (or the next) sl_notifier_send return within ~100 ms
 * with a retriable error; a running command is killed. Async-signal-safe
 * and callable from any thread. (Added by the notify task: a shutdown must
 * not wait out a 30 s budget.) sl_notifier_uncancel re-arms. */
void sl_notifier_cancel(sl_notifier *n);
void sl_notifier_uncancel(sl_notifier *n);

/* Gives undelivered Kafka messages up to 1 s, then drops them (an event
 * whose send failed must be sent again by the caller, e.g. from the
 * manifest by the next run). NULL is fine. */
void sl_notifier_free(sl_notifier *n);

#endif
