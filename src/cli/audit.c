/* audit.c - `sluice audit PIPELINE.yaml [--stream S] [--from HOUR] [--to HOUR]
 * [--json]`: reconcile each committed hour partition's audit counts with
 * what is really in the lake (engine/audit.h says what the counts are).
 *
 * The expected side is the audit log (audit.path): per (stream, hour) the
 * commit or update line of the greatest checkpoint; delta lines (records
 * of no stream, counts of forgotten hours) summed over distinct ids. The
 * found side is read from the lake, never from sluice's own bookkeeping:
 *   - rows: the sum of the Parquet footers' num_rows (footer only, no data
 *     page is read) of this instance's *.parquet files in the hour's
 *     directory - not hidden files, not _late/ - or the lines of its
 *     *.jsonl files; a template with {field} values is summed over every
 *     directory of the hour (a glob with `*` for each value); a template
 *     without {hour} keeps several hours in one directory, so its rows are
 *     not reconcilable per hour and are reported as such (not a failure);
 *   - dead letters (dead_letter kind files): the rows of the hour's
 *     dead-letter directory whose `stream` is the partition's (Parquet: that
 *     one column is read; JSON lines: each line's "stream"); kind kafka:
 *     this instance's messages on the dead-letter topic with that stream
 *     and hour (the sluice.* headers, read_committed, the whole topic once);
 *   - the identity read = written + filtered + dead_lettered + late.
 * Files of other instances of the pipeline (PIPELINE-XXXXXXXX-*, their own
 * state directories audit them) are skipped; any other .parquet or .jsonl
 * file in a partition directory is foreign and makes it differ.
 *
 * Exit status: 0 every partition reconciles, 1 some differ (or an error),
 * 2 usage. Run it on a stopped pipeline, or expect the hours of the newest
 * checkpoint to differ for a moment while a running one writes them.
 *
 * Cost: one pass over the audit log, then per partition one directory
 * listing and one footer per file, and per hour one read of the dead
 * letters' `stream` column.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/audit_int.h"
#include "cli/cli.h"
#include "core/rows_json.h"
#include "engine/config.h"
#include "engine/pipeline.h"

/* ---- the command ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice audit PIPELINE.yaml [--stream S] [--from HOUR] [--to HOUR] [--json]\n"
            "  reconciles each committed hour partition's audit counts (read, filtered,\n"
            "  dead_lettered, late, written; from the audit log) with the lake: rows in the\n"
            "  hour's files (Parquet footers, JSON-lines lines), dead letters of the hour, and\n"
            "  read = written + filtered + dead_lettered + late\n"
            "  HOUR: 2025-12-01T13 or 2025-12-01T13:00:00Z (UTC); --from and --to are inclusive\n"
            "  --json  every partition as JSON, not only those that differ\n"
            "exit status: 0 all reconcile, 1 some differ (or an error), 2 usage\n");
}

static void add_why(char *why, size_t cap, const char *fmt, ...) SL_PRINTF(3, 4);
static void add_why(char *why, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(why);
    if (n && n + 2 < cap) {
        memcpy(why + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + n, cap - n, fmt, ap);
    va_end(ap);
}

/* ,"ok":...,"problem":... of a JSON entry ("" why: ok). */
static void put_verdict(const char *why)
{
    printf(",\"ok\":%s,\"problem\":", why[0] ? "false" : "true");
    sl_cli_put_json_str(why[0] ? why : NULL);
}

typedef struct tally {
    int64_t checked, differ, unreconcilable, pipeline_hours, pipeline_differ;
    int json_first;
} tally;

/* Sum of the expired deltas' dead letters of (stream, hour). */
static int64_t expired_dead(const audit_run *a, const char *stream, int64_t hour)
{
    int64_t n = 0;
    for (size_t i = 0; i < a->n; i++) {
        const part *d = &a->v[i];
        if (d->delta && d->hour == hour && d->ckpt != UINT64_MAX && !strcmp(d->stream, stream))
            n += d->dead;
    }
    return n;
}

static void check_part(audit_run *a, const part *p, int json, tally *t)
{
    const sl_stream *st = NULL;
    for (int32_t i = 0; i < a->pl->n_streams; i++)
        if (!strcmp(a->cfg->streams[i].name, p->stream)) st = &a->pl->streams[i];
    char name[64], why[2400] = "", note[300] = "";
    sl_cli_fmt_hour(name, sizeof name, p->hour);
    found f = {0};
    int lake = 0;
    int64_t dead_found = 0, dead_want = p->dead + expired_dead(a, p->stream, p->hour);
    if (p->read != p->written + p->filtered + p->dead + p->late)
        add_why(why, sizeof why,
                "read %" PRId64 " is not written %" PRId64 " + filtered %" PRId64
                " + dead_lettered %" PRId64 " + late %" PRId64,
                p->read, p->written, p->filtered, p->dead, p->late);
    if (!st)
        snprintf(note, sizeof note, "the stream is no longer in the pipeline file");
    else if (st->out_files < 0 || !st->tpl.has_hour)
        snprintf(note, sizeof note,
                 "rows not reconcilable: the path template has no {hour}, so one directory holds "
                 "several hours");
    else {
        lake = 1;
        sl_audit_scan_hour(a, st, p->hour, &f);
        if (f.rows != p->written)
            add_why(why, sizeof why,
                    "written %" PRId64 " but %" PRId64 " rows in %" PRId64 " file(s) of the lake",
                    p->written, f.rows, f.files);
        if (f.problem[0]) add_why(why, sizeof why, "%s", f.problem);
    }
    /* dead letters: files or the topic, whichever dead_letter.kind is */
    dead_found = sl_audit_dead_rows(a, p->hour, p->stream);
    if (dead_found != dead_want)
        add_why(why, sizeof why,
                "dead_lettered %" PRId64 " but %" PRId64 " dead letters of the hour", dead_want,
                dead_found);
    if (a->dl_err[0]) add_why(why, sizeof why, "%s", a->dl_err);
    t->checked++;
    t->differ += why[0] != 0;
    t->unreconcilable += note[0] != 0;
    if (json) {
        printf("%s{\"stream\":", t->json_first ? "" : ",");
        t->json_first = 0;
        sl_cli_put_json_str(p->stream);
        printf(",\"partition\":\"%s\",\"hour_start_ms\":%" PRId64 ",\"version\":%" PRId64
               ",\"read\":%" PRId64 ",\"filtered\":%" PRId64 ",\"dead_lettered\":%" PRId64
               ",\"late\":%" PRId64 ",\"written\":%" PRId64 ",\"checkpoint\":%" PRIu64,
               name, p->hour, p->version, p->read, p->filtered, dead_want, p->late, p->written,
               p->ckpt);
        if (lake)
            printf(",\"lake_rows\":%" PRId64 ",\"lake_files\":%" PRId64, f.rows, f.files);
        else
            printf(",\"lake_rows\":null,\"lake_files\":null");
        printf(",\"dead_letter_rows\":%" PRId64, dead_found);
        put_verdict(why);
        printf(",\"note\":");
        sl_cli_put_json_str(note[0] ? note : NULL);
        printf("}");
    } else if (why[0])
        printf("DIFF %s %s (v%" PRId64 "): %s\n", p->stream, name, p->version, why);
    else if (note[0])
        printf("SKIP %s %s (v%" PRId64 "): %s\n", p->stream, name, p->version, note);
}

/* Records of no stream, one hour: the pipeline deltas' dead letters
 * against the hour's dead letters without a stream. */
static void check_pipeline(audit_run *a, int64_t hour, int64_t read, int64_t dead, int json,
                           tally *t)
{
    char name[64], why[1200] = "";
    sl_cli_fmt_hour(name, sizeof name, hour);
    int64_t found_n = sl_audit_dead_rows(a, hour, "");
    if (read != dead)
        add_why(why, sizeof why, "read %" PRId64 " is not dead_lettered %" PRId64, read, dead);
    if (found_n != dead)
        add_why(why, sizeof why,
                "dead_lettered %" PRId64 " but %" PRId64 " dead letters without a stream", dead,
                found_n);
    if (a->dl_err[0]) add_why(why, sizeof why, "%s", a->dl_err);
    t->pipeline_hours++;
    t->pipeline_differ += why[0] != 0;
    if (json) {
        printf("%s{\"partition\":\"%s\",\"hour_start_ms\":%" PRId64 ",\"read\":%" PRId64
               ",\"dead_lettered\":%" PRId64 ",\"dead_letter_rows\":",
               t->json_first ? "" : ",", name, hour, read, dead);
        t->json_first = 0;
        printf("%" PRId64, found_n);
        put_verdict(why);
        printf("}");
    } else if (why[0])
        printf("DIFF (no stream) %s: %s\n", name, why);
}

static int in_range(int64_t h, int64_t from, int64_t to)
{
    return h >= from && h <= to;
}

static int report(audit_run *a, const char *only, int64_t from, int64_t to, int json)
{
    tally t = {.json_first = 1};
    qsort(a->v, a->n, sizeof *a->v, sl_audit_by_key);
    /* deltas: a repeated id (a redone append) counts once - mark repeats */
    for (size_t i = 1; i < a->n; i++)
        if (a->v[i].delta && a->v[i - 1].delta && !strcmp(a->v[i].id, a->v[i - 1].id))
            a->v[i].ckpt = UINT64_MAX;
    if (json) {
        printf("{\"pipeline\":");
        sl_cli_put_json_str(a->cfg->pipeline);
        printf(",\"partitions\":[");
    }
    for (size_t i = 0; i < a->n; i++) {
        const part *p = &a->v[i];
        if (p->delta) continue;
        if (i + 1 < a->n && !a->v[i + 1].delta && a->v[i + 1].hour == p->hour &&
            !strcmp(a->v[i + 1].stream, p->stream))
            continue; /* not the last line of this partition */
        if ((only && strcmp(only, p->stream)) || !in_range(p->hour, from, to)) continue;
        check_part(a, p, json, &t);
    }
    if (json) printf("],\"pipeline_level\":[");
    t.json_first = 1;
    /* pipeline-level: sum the deltas without a stream per hour */
    for (size_t i = 0; !only && i < a->n; i++) {
        const part *p = &a->v[i];
        if (!p->delta || p->stream[0] || p->ckpt == UINT64_MAX || !in_range(p->hour, from, to))
            continue;
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            first = !(a->v[k].delta && !a->v[k].stream[0] && a->v[k].ckpt != UINT64_MAX &&
                      a->v[k].hour == p->hour);
        if (!first) continue;
        int64_t read = 0, dead = 0;
        for (size_t k = i; k < a->n; k++)
            if (a->v[k].delta && !a->v[k].stream[0] && a->v[k].ckpt != UINT64_MAX &&
                a->v[k].hour == p->hour) {
                read += a->v[k].read;
                dead += a->v[k].dead;
            }
        check_pipeline(a, p->hour, read, dead, json, &t);
    }
    if (json)
        printf("],\"summary\":{\"partitions\":%" PRId64 ",\"differ\":%" PRId64
               ",\"not_reconcilable\":%" PRId64 ",\"pipeline_hours\":%" PRId64
               ",\"pipeline_differ\":%" PRId64 ",\"unreadable_log_lines\":%zu}}\n",
               t.checked, t.differ, t.unreconcilable, t.pipeline_hours, t.pipeline_differ,
               a->bad_lines);
    else
        printf("audit %s: %" PRId64 " committed partitions checked, %" PRId64 " differ, %" PRId64
               " not reconcilable for rows; records of no stream: %" PRId64 " hours, %" PRId64
               " differ%s\n",
               a->cfg->pipeline, t.checked, t.differ, t.unreconcilable, t.pipeline_hours,
               t.pipeline_differ,
               a->bad_lines ? " (the audit log has lines cut by a crash: skipped)" : "");
    return t.differ || t.pipeline_differ ? 1 : 0;
}

int sl_cmd_audit(int argc, char **argv)
{
    const char *file = NULL, *only = NULL;
    int64_t from = INT64_MIN, to = INT64_MAX;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--json"))
            json = 1;
        else if ((!strcmp(o, "--stream") || !strcmp(o, "--from") || !strcmp(o, "--to")) &&
                 i + 1 < argc) {
            const char *v = argv[++i];
            if (o[2] == 's')
                only = v;
            else if (sl_cli_parse_hour(v, o[2] == 'f' ? &from : &to)) {
                fprintf(stderr,
                        "sluice audit: %s: '%s' is not an hour (2025-12-01T13 or "
                        "2025-12-01T13:00:00Z)\n",
                        o, v);
                return 2;
            }
        } else if (!file && o[0] != '-')
            file = o;
        else {
            fprintf(stderr, "sluice audit: unexpected argument '%s'\n", o);
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    if (from > to) {
        fprintf(stderr, "sluice audit: --from is after --to\n");
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_cfg *cfg = NULL;
    sl_pipeline pl;
    memset(&pl, 0, sizeof pl);
    audit_run a;
    memset(&a, 0, sizeof a);
    int rc = 1;
    if (sl_cfg_load(&cfg, file, &err) || sl_pipeline_compile(&pl, cfg, &err)) {
        fprintf(stderr, "sluice audit: %s\n", err.msg);
        goto out;
    }
    if (only) {
        int known = 0;
        for (int i = 0; i < cfg->n_streams; i++)
            known |= !strcmp(cfg->streams[i].name, only);
        if (!known) {
            fprintf(stderr, "sluice audit: --stream %s: no such stream in %s\n", only, file);
            rc = 2;
            goto out;
        }
    }
    if (!cfg->audit.enabled)
        fprintf(stderr,
                "sluice audit: %s has audit.enabled false: only what was logged before is "
                "checked\n",
                file);
    a.cfg = cfg;
    a.pl = &pl;
    char inst[9] = "";
    if (sl_cli_read_instance(cfg, inst)) {
        fprintf(stderr,
                "sluice audit: %s has no instance id (%s/instance): the pipeline never ran\n", file,
                cfg->state_dir);
        goto out;
    }
    snprintf(a.prefix, sizeof a.prefix, "%s-%s-", cfg->pipeline, inst);
    if (sl_audit_read_log(&a, &err)) {
        fprintf(stderr, "sluice audit: %s\n", err.msg);
        goto out;
    }
    rc = report(&a, only, from, to, json);
out:
    free(a.v);
    free(a.dl);
    free(a.kx);
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
    return rc;
}
