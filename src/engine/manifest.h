/* manifest.h - checkpoint manifests: the pipeline's only source of truth.
 *
 * Manifest C (DESIGN.md, the checkpoint protocol) records, after every
 * worker reached checkpoint barrier C:
 *   - the next source position of every input partition ever seen (carried
 *     forward, so a partition assigned elsewhere for a while keeps its
 *     position);
 *   - the part files to publish at C: hidden name -> final name, stream,
 *     worker, rows, bytes.
 * It is written atomically (temp, fsync, rename, fsync of the directory)
 * to STATE/manifests/NNNNNNNNNNNN.manifest; the three newest are kept.
 *
 * The format is line-oriented text, so an operator can read it with `cat`:
 *
 *   sluice-manifest 1
 *   pipeline plays
 *   checkpoint 42
 *   time 1764075600123
 *   txn 1                       (only when a Kafka transaction belongs to it)
 *   pos events 3 1200452 1764079230000   (next offset, greatest event time read)
 *   file 1 play 5210 183012 lake/play/dt=2026-11-25/hour=13/.sluice+... lake/... 1764075600000
 *   wm 1764079230000 1764072000000               (event-time frontier, first hour)
 *   through play 1764075600000                   (hours before it are committed)
 *   part play 1764075600000 1 1 52100 12 1830120 1 60000 7400 500 0 0
 *        (hour state version rows files bytes pending, then the audit counts
 *         read filtered dead late and the audit-line mark; see below)
 *   delta %00 1764075600000 12 0 12 0   (counts of no partition: stream, hour,
 *                                        read filtered dead late)
 *   end 10
 *
 * Audit counts (engine/audit.h). A part's read, filtered, dead and late are
 * cumulative and its rows are what was written, so read = rows + filtered
 * + dead + late. They are carried from manifest to manifest like the rest
 * of the partition, and checkpoint C adds what the workers counted up to
 * barrier C: a crash loses uncommitted counts together with the uncommitted
 * files. A part line of 9 fields (written before the audit) loads with
 * zero counts. `delta` lines are counts of checkpoint C alone that belong
 * to no tracked partition (records of no stream, written %00, and counts
 * for an hour committed so long ago that its part was forgotten); they are
 * not carried forward: the audit log records them once per checkpoint.
 *
 * Strings are percent-encoded (bytes <= 0x20, '%' and >= 0x7f), and `end N`
 * counts the lines before it: a manifest without a correct end line is
 * rejected, never half-used. Loading refuses to fall back silently to an
 * older manifest when the newest is damaged: that could publish data twice,
 * so it is an error that says what to do.
 */
#ifndef SL_ENGINE_MANIFEST_H
#define SL_ENGINE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sl_mf_pos {
    char *topic;
    int32_t partition;
    int64_t offset; /* next offset to read */
    int64_t max_et; /* greatest event time read from it (its watermark), INT64_MIN: none */
} sl_mf_pos;

typedef struct sl_mf_file {
    int32_t worker;
    char *stream;
    int64_t rows, bytes;
    char *hidden, *final;
    int64_t hour; /* event hour of its rows (ms, UTC), INT64_MIN for dead letters */
} sl_mf_file;

/* An hour partition of a stream (engine/commit.c). */
enum { SL_PART_OPEN = 0, SL_PART_COMMITTED = 1 };
typedef struct sl_mf_part {
    char *stream;
    int64_t hour; /* start, ms UTC */
    int state;    /* SL_PART_* */
    int64_t version, rows, files, bytes;
    int pending; /* committed by this checkpoint: _SUCCESS and notifications to (re)do */
    /* audit: records read (that reached the stream in this hour), filtered,
     * dead-lettered, late (for the hour once committed, not written into
     * it); written is rows */
    int64_t read, filtered, dead, late;
    int audit_pending; /* committed earlier, counts changed: an audit line to (re)write */
} sl_mf_part;

/* Counts of one checkpoint that belong to no tracked partition. */
typedef struct sl_mf_delta {
    char *stream; /* "" for records of no stream */
    int64_t hour;
    int64_t read, filtered, dead, late;
} sl_mf_delta;

/* Per stream: every hour before `through` is committed. */
typedef struct sl_mf_stream {
    char *stream;
    int64_t through; /* INT64_MIN: nothing committed yet */
} sl_mf_stream;

/* A dead-letter replay (engine/replay.c): where it is and what it did. */
enum {
    SL_RP_COUNT_ROWS,
    SL_RP_REPLAYED,
    SL_RP_WRITTEN,
    SL_RP_FILTERED,
    SL_RP_DEAD,
    SL_RP_LATE,
    SL_RP_N
};
typedef struct sl_mf_replay {
    char *id;
    int32_t file;       /* the next file of the request to read (its index) */
    int64_t row;        /* the next row of that file */
    int done;           /* every row read: to finish (move the files aside, the summary) */
    int64_t n[SL_RP_N]; /* rows read, replayed (matched the request), and their outcomes */
} sl_mf_replay;

typedef struct sl_manifest {
    uint64_t checkpoint; /* 0: none yet */
    int64_t time_ms;
    int txn; /* 1: a Kafka transaction belongs to this checkpoint (engine/kafka_out.c) */
    sl_mf_pos *pos;
    int32_t n_pos, cap_pos;
    sl_mf_file *files;
    int32_t n_files, cap_files;
    /* event time and partition commit */
    int64_t watermark;  /* the inputs' event-time frontier (ms; a stream's watermark is it minus
                         * its max_out_of_orderness), INT64_MIN: none yet */
    int64_t first_hour; /* the pipeline's first hour with data, INT64_MIN: none */
    sl_mf_part *parts;
    int32_t n_parts, cap_parts;
    sl_mf_stream *streams;
    int32_t n_streams, cap_streams;
    sl_mf_delta *deltas; /* this checkpoint's only (not carried by sl_manifest_copy_time) */
    int32_t n_deltas, cap_deltas;
    sl_mf_replay *replays; /* dead-letter replays not finished yet */
    int32_t n_replays, cap_replays;
} sl_manifest;

void sl_manifest_free(sl_manifest *m); /* and zero */
void sl_manifest_clear_files(sl_manifest *m);

/* Position of a partition, or -1 when the manifest has none. */
int64_t sl_manifest_pos(const sl_manifest *m, const char *topic, int32_t partition);
/* A partition's greatest event time read (kept with its position, so a
 * restart does not hold the watermark back until it brings a record);
 * INT64_MIN when unknown. set_et needs the position set first. */
int64_t sl_manifest_max_et(const sl_manifest *m, const char *topic, int32_t partition);
void sl_manifest_set_et(sl_manifest *m, const char *topic, int32_t partition, int64_t max_et);
sl_err_t sl_manifest_set_pos(sl_manifest *m, const char *topic, int32_t partition,
                             int64_t offset) SL_MUST_CHECK;
sl_err_t sl_manifest_add_file(sl_manifest *m, int32_t worker, const char *stream, int64_t rows,
                              int64_t bytes, const char *hidden, const char *final) SL_MUST_CHECK;
/* The partition (stream, hour), created open and empty when missing; NULL on NOMEM. */
sl_mf_part *sl_manifest_part(sl_manifest *m, const char *stream, int64_t hour);
/* The stream's commit state, created (through = INT64_MIN) when missing; NULL on NOMEM. */
sl_mf_stream *sl_manifest_stream(sl_manifest *m, const char *stream);
/* The delta entry (stream, hour) of this checkpoint, created zero when
 * missing; NULL on NOMEM. */
sl_mf_delta *sl_manifest_delta(sl_manifest *m, const char *stream, int64_t hour);
/* The replay id, created (at file 0, row 0) when missing; NULL on NOMEM. */
sl_mf_replay *sl_manifest_replay(sl_manifest *m, const char *id);
/* Copy the event-time state (watermark, first hour, parts, streams) of src into dst. */
sl_err_t sl_manifest_copy_time(sl_manifest *dst, const sl_manifest *src) SL_MUST_CHECK;

/* DIR/NNNNNNNNNNNN.SUFFIX of checkpoint c (suffix "manifest", "committed", ...). */
void sl_manifest_path(char *out, size_t cap, const char *dir, uint64_t c, const char *suffix);

/* Write manifest m->checkpoint into dir (created if missing), atomically,
 * and delete manifests older than the three newest. */
sl_err_t sl_manifest_write(const sl_manifest *m, const char *dir, const char *pipeline,
                           sl_error *err) SL_MUST_CHECK;
/* Load the newest manifest of dir into *m (zeroed when there is none). */
sl_err_t sl_manifest_load(sl_manifest *m, const char *dir, const char *pipeline,
                          sl_error *err) SL_MUST_CHECK;

#endif
