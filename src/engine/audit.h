/* audit.h - per (stream, hour) audit counts and the audit log.
 *
 * What is counted. Every record that reaches a stream with a files output
 * ends in exactly one of: filtered (the filter or the Lua script dropped
 * it), dead-lettered, late (its hour was committed and it was not written
 * into it: commit.late drop or side-output), or written (a row of the
 * stream's files of that hour). Each counts as read and as its outcome in
 * one hour, so read = written + filtered + dead + late per hour:
 *   - written and late records: the hour they were written to or were late
 *     for (the event time of the record after the script);
 *   - filtered records and dead letters: the event hour of the record as
 *     decoded (before the script), and when it has none (it does not
 *     decode, its event-time field is null or does not parse), the hour of
 *     its Kafka timestamp.
 * Records of no stream (unrouted, or undecodable before routing) count
 * under stream -1 in the hour of their Kafka timestamp. Streams with only a
 * Kafka output have no hour partitions and are not counted here (their
 * per-stream counters in rt_int.h still are).
 *
 * The table. Each worker counts into its own sl_audit_tab, single-writer:
 * an open-addressing hash of (stream, hour) -> counts with a one-entry
 * cache of the last slot used, since records mostly come in time order; a
 * hit costs two compares, a miss a probe. Nothing is allocated per record:
 * the table grows (doubling, rehash) only when a new (stream, hour)
 * arrives and it is half full. Written counts are not kept here: they are
 * the rows of the files, which the manifest accounts (part.rows).
 *
 * Exactly once. A worker has two tables. At checkpoint barrier C it swaps
 * them (a pointer flip, under rt->mu, with its bucket hand-over), so the
 * table it hands over holds exactly the records before its barrier
 * positions, like the files of C. The coordinator merges it into manifest
 * C's partitions (commit.c, sl_commit_plan) and empties it before barrier
 * C+1 can be requested. A crash loses uncommitted counts with the
 * uncommitted files; the input is read and counted again.
 *
 * The audit log. JSON lines in `audit.path`, one file per UTC day of
 * writing (audit-YYYY-MM-DD.jsonl). Kinds of line:
 *   commit    a partition version committed (after its _SUCCESS);
 *   update    a committed partition's counts changed (late records, ...);
 *   pipeline  records of no stream counted in checkpoint C (a delta);
 *   expired   counts of checkpoint C for an hour committed so long ago that
 *             its partition is no longer tracked (a delta).
 * Lines are appended after the checkpoint that holds their counts is
 * published, and redone from the manifest after a crash, so a line may
 * repeat with the same content. Readers take, per (stream, hour), the
 * commit/update line of the greatest checkpoint (the last one of equal
 * checkpoints), and sum delta lines over distinct ids
 * (PIPELINE/STREAM|-/dt=D/hour=H/cC). Before the manifest that clears the
 * marks is written, the log is fsynced (sl_audit_log_append), so a
 * cleared mark always has its line on disk.
 */
#ifndef SL_ENGINE_AUDIT_H
#define SL_ENGINE_AUDIT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SL_AUDIT_EMPTY   INT32_MIN /* a free slot's stream */
#define SL_AUDIT_HOUR_MS 3600000LL

typedef struct sl_audit_n {
    int64_t read, filtered, dead, late;
} sl_audit_n;

typedef struct sl_audit_slot {
    int64_t hour;   /* start of the hour, ms UTC */
    int32_t stream; /* -1: no stream; SL_AUDIT_EMPTY: free */
    sl_audit_n n;
} sl_audit_slot;

typedef struct sl_audit_tab {
    sl_audit_slot *slots; /* mask + 1 of them, NULL until the first count */
    uint32_t mask, used;
    sl_audit_slot *last; /* one-entry cache */
} sl_audit_tab;

/* The start of the hour holding ms (floor, also before 1970). */
static inline int64_t sl_audit_hour(int64_t ms)
{
    return ms >= 0 ? ms / SL_AUDIT_HOUR_MS * SL_AUDIT_HOUR_MS
                   : -((-ms + SL_AUDIT_HOUR_MS - 1) / SL_AUDIT_HOUR_MS) * SL_AUDIT_HOUR_MS;
}

/* Slow path of sl_audit_at: find or insert, growing the table. NULL when
 * out of memory (the table is unchanged). */
sl_audit_n *sl_audit_find(sl_audit_tab *t, int32_t stream, int64_t hour);

/* The counts of (stream, hour), zero when new. NULL when out of memory. */
static inline sl_audit_n *sl_audit_at(sl_audit_tab *t, int32_t stream, int64_t hour)
{
    sl_audit_slot *l = t->last;
    if (l && l->hour == hour && l->stream == stream) return &l->n;
    return sl_audit_find(t, stream, hour);
}

/* Empty the table, keeping its memory. Costs O(capacity). */
void sl_audit_tab_reset(sl_audit_tab *t);
void sl_audit_tab_free(sl_audit_tab *t); /* and zero; safe on a zeroed table */

/* One line of the audit log. */
typedef struct sl_audit_line {
    const char *kind;      /* "commit", "update", "pipeline", "expired" */
    const char *id;        /* see the top comment */
    const char *pipeline;  /* */
    const char *stream;    /* NULL: no stream (null in JSON) */
    const char *partition; /* "dt=2025-12-01/hour=13" */
    int64_t hour_ms;
    int64_t version; /* < 0: a delta line (no version, files, bytes) */
    int64_t read, filtered, dead, late, written, files, bytes;
    uint64_t checkpoint;
} sl_audit_line;

/* Append the line's JSON object and a newline to out: keys kind, id,
 * pipeline, stream, partition, hour_start (RFC 3339), hour_start_ms,
 * version, read, filtered, dead_lettered, late, written, files, bytes
 * (the last three and version only for commit/update), checkpoint. On
 * error (SL_ERR_NOMEM, SL_ERR_INVALID for a NULL string or a time outside
 * years 0000-9999) out is as it was. */
sl_err_t sl_audit_line_json(const sl_audit_line *l, sl_buf *out) SL_MUST_CHECK;

/* Append n bytes of whole lines to DIR/audit-YYYY-MM-DD.jsonl (the UTC day
 * of now_ms; DIR and the file are created when missing) and fsync it (and
 * the directory when the file is new). A file whose last line was cut by a
 * crash gets a newline first, so the torn line stays one unparsable line
 * and the next one is whole. On error the file may hold part of the bytes
 * (the caller appends them again: readers take the last whole line). */
sl_err_t sl_audit_log_append(const char *dir, int64_t now_ms, const void *p, size_t n,
                             sl_error *err) SL_MUST_CHECK;

#endif
