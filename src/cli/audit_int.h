/* audit_int.h - private to `sluice audit` (audit.c: the command and its
 * report; audit_read.c: reading the audit log, the lake's footers and the
 * dead letters). See audit.c for what is reconciled against what. */
#ifndef SL_CLI_AUDIT_INT_H
#define SL_CLI_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "engine/config.h"
#include "engine/pipeline.h"

#define NAME_MAX_ 256

typedef struct part {
    char stream[NAME_MAX_]; /* "" for pipeline-level (no stream) */
    int64_t hour, version;
    int64_t read, filtered, dead, late, written, files;
    uint64_t ckpt;
    size_t seq; /* line order: the last of equal checkpoints wins */
    int delta;  /* a delta line (pipeline / expired) */
    char id[512];
} part;

typedef struct audit_run {
    const sl_cfg *cfg;
    const sl_pipeline *pl;
    char prefix[200]; /* "PIPELINE-INSTANCE-" */
    part *v;
    size_t n, cap;
    size_t bad_lines;
    /* dead letters of one hour, per stream ("" no stream) */
    int64_t dl_hour;
    int dl_loaded;
    struct dl_count {
        char stream[NAME_MAX_];
        int64_t n;
    } * dl;
    size_t n_dl, cap_dl;
    char dl_err[600];
    /* dead_letter kind kafka: this instance's dead letters on the topic per
     * (stream, hour), read once */
    int kx_loaded;
    struct kx_count {
        char stream[NAME_MAX_];
        int64_t hour, n;
    } * kx;
    size_t n_kx, cap_kx;
} audit_run;

typedef struct found {
    int64_t rows, files;
    char problem[700];
} found;

/* Read every audit-*.jsonl of audit.path, in name order, into a->v (lines
 * cut by a crash or unparsable are counted in a->bad_lines). */
sl_err_t sl_audit_read_log(audit_run *a, sl_error *err) SL_MUST_CHECK;
/* qsort order of a->v: partitions by stream, hour, checkpoint, line (the
 * last of a partition's lines is its state), then deltas by id. */
int sl_audit_by_key(const void *x, const void *y);
/* This instance's rows in the hour's directories of stream st into f. */
void sl_audit_scan_hour(audit_run *a, const sl_stream *st, int64_t hour, found *f);
/* Dead letters of the hour whose stream is `stream` ("" none); a->dl_err
 * says what could not be read. */
int64_t sl_audit_dead_rows(audit_run *a, int64_t hour, const char *stream);

#endif
