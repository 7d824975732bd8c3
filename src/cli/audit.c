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
 *     one column is read; JSON lines: each line's "stream");
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
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/rows_json.h"
#include "engine/audit.h"
#include "engine/config.h"
#include "engine/deadletter.h"
#include "engine/pipeline.h"
#include "formats/parquet/pq_reader.h"

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
} audit_run;

/* ---- flat JSON lines (the audit log, dead letters as JSON lines) ---- */

/* Decode a JSON string body (between the quotes) into out; 0 or -1. */
static int jstr(const char *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)p[i];
        if (c == '\\' && i + 1 < n) {
            char e = p[++i];
            if (e == 'u' && i + 4 < n) {
                unsigned u = (unsigned)strtoul((char[]){p[i + 1], p[i + 2], p[i + 3], p[i + 4], 0},
                                               NULL, 16);
                i += 4;
                if (u >= 0xD800 && u < 0xDC00 && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
                    unsigned lo = (unsigned)strtoul(
                        (char[]){p[i + 3], p[i + 4], p[i + 5], p[i + 6], 0}, NULL, 16);
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                char b[4];
                int k =
                    u < 0x80    ? (b[0] = (char)u, 1)
                    : u < 0x800 ? (b[0] = (char)(0xC0 | u >> 6), b[1] = (char)(0x80 | (u & 63)), 2)
                    : u < 0x10000
                        ? (b[0] = (char)(0xE0 | u >> 12), b[1] = (char)(0x80 | (u >> 6 & 63)),
                           b[2] = (char)(0x80 | (u & 63)), 3)
                        : (b[0] = (char)(0xF0 | u >> 18), b[1] = (char)(0x80 | (u >> 12 & 63)),
                           b[2] = (char)(0x80 | (u >> 6 & 63)), b[3] = (char)(0x80 | (u & 63)), 4);
                if (o + (size_t)k >= cap) return -1;
                memcpy(out + o, b, (size_t)k);
                o += (size_t)k;
                continue;
            }
            c = e == 'n'   ? '\n'
                : e == 't' ? '\t'
                : e == 'r' ? '\r'
                : e == 'b' ? '\b'
                : e == 'f' ? '\f'
                           : (unsigned char)e;
        }
        if (o + 1 >= cap) return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* The value of key in a flat JSON object line: a string (decoded into
 * str, returns 's'), null ('0'), a number (*num, 'n'), or 0 when absent or
 * malformed. Nested values are not expected in these lines. */
static int jget(const char *line, const char *key, char *str, size_t cap, int64_t *num)
{
    size_t kl = strlen(key);
    const char *p = line;
    while ((p = strchr(p, '"'))) {
        const char *k = ++p;
        while (*p && *p != '"')
            p += *p == '\\' && p[1] ? 2 : 1;
        if (!*p) return 0;
        size_t n = (size_t)(p - k);
        p++;
        while (*p == ' ')
            p++;
        if (*p != ':') continue; /* a value, not a key */
        p++;
        while (*p == ' ')
            p++;
        if (n != kl || memcmp(k, key, kl)) {
            if (*p == '"') { /* skip the value string */
                p++;
                while (*p && *p != '"')
                    p += *p == '\\' && p[1] ? 2 : 1;
                if (*p) p++;
            }
            continue;
        }
        if (*p == '"') {
            const char *v = ++p;
            while (*p && *p != '"')
                p += *p == '\\' && p[1] ? 2 : 1;
            if (!*p || jstr(v, (size_t)(p - v), str, cap)) return 0;
            return 's';
        }
        if (!strncmp(p, "null", 4)) return '0';
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno) return 0;
        *num = v;
        return 'n';
    }
    return 0;
}

/* ---- the audit log ---- */

static part *push(audit_run *a)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        part *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv) return NULL;
        a->v = nv;
        a->cap = nc;
    }
    part *p = &a->v[a->n];
    memset(p, 0, sizeof *p);
    p->seq = a->n++;
    return p;
}

static int read_line(audit_run *a, const char *line)
{
    char kind[32], stream[NAME_MAX_];
    int64_t v;
    if (jget(line, "kind", kind, sizeof kind, &v) != 's') return -1;
    int delta = !strcmp(kind, "pipeline") || !strcmp(kind, "expired");
    if (!delta && strcmp(kind, "commit") && strcmp(kind, "update")) return -1;
    part *p = push(a);
    if (!p) return -2;
    int st = jget(line, "stream", stream, sizeof stream, &v);
    if (st == 's')
        snprintf(p->stream, sizeof p->stream, "%s", stream);
    else if (st != '0')
        goto bad;
    p->delta = delta;
    static const char *keys[] = {"hour_start_ms", "read",    "filtered",  "dead_lettered",
                                 "late",          "written", "checkpoint"};
    int64_t *dst[] = {&p->hour, &p->read, &p->filtered, &p->dead, &p->late, &p->written, NULL};
    for (int i = 0; i < 7; i++) {
        char s[8];
        if (jget(line, keys[i], s, sizeof s, &v) != 'n') goto bad;
        if (dst[i])
            *dst[i] = v;
        else
            p->ckpt = (uint64_t)v;
    }
    if (!delta && (jget(line, "version", kind, sizeof kind, &p->version) != 'n' ||
                   jget(line, "files", kind, sizeof kind, &p->files) != 'n'))
        goto bad;
    if (jget(line, "id", p->id, sizeof p->id, &v) != 's') goto bad;
    return 0;
bad:
    a->n--;
    return -1;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static sl_err_t read_log(audit_run *a, sl_error *err)
{
    char pat[4200];
    snprintf(pat, sizeof pat, "%s/audit-*.jsonl", a->cfg->audit.path);
    glob_t g;
    int gr = glob(pat, 0, NULL, &g);
    if (gr == GLOB_NOMATCH) return SL_OK;
    if (gr) return sl_error_set(err, SL_ERR_IO, "cannot list the audit log %s", pat);
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_name);
    sl_err_t rc = SL_OK;
    char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        if (!f) {
            rc = sl_error_errno(err, errno, "cannot read the audit log %s", g.gl_pathv[i]);
            break;
        }
        ssize_t len;
        while ((len = getline(&line, &cap, f)) > 0) {
            if (line[len - 1] != '\n') { /* cut by a crash: redone on a line of its own */
                a->bad_lines++;
                continue;
            }
            int r = read_line(a, line);
            if (r == -2) {
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                break;
            }
            a->bad_lines += r < 0;
        }
        fclose(f);
    }
    free(line);
    globfree(&g);
    return rc;
}

/* Partitions: stream, hour, then the greatest checkpoint and the last line
 * last. Deltas: by id. */
static int by_key(const void *x, const void *y)
{
    const part *p = x, *q = y;
    if (p->delta != q->delta) return p->delta - q->delta;
    if (p->delta) return strcmp(p->id, q->id);
    int c = strcmp(p->stream, q->stream);
    if (c) return c;
    if (p->hour != q->hour) return p->hour < q->hour ? -1 : 1;
    if (p->ckpt != q->ckpt) return p->ckpt < q->ckpt ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* ---- the lake ---- */

static int is_other_instance(const audit_run *a, const char *name)
{
    size_t pl = strlen(a->cfg->pipeline);
    if (strncmp(name, a->cfg->pipeline, pl) || name[pl] != '-') return 0;
    for (int i = 1; i <= 8; i++)
        if (!strchr("0123456789abcdef", name[pl + i]) || !name[pl + i]) return 0;
    return name[pl + 9] == '-';
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

typedef struct found {
    int64_t rows, files;
    char problem[700];
} found;

static int64_t count_lines(const char *path, int *ok)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *ok = 0;
        return 0;
    }
    int64_t n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* This instance's rows in one directory (footers or lines); foreign files
 * and unreadable ones go to f->problem. */
static void scan_dir(audit_run *a, const char *dir, int jsonl, found *f)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT && !f->problem[0])
            snprintf(f->problem, sizeof f->problem, "cannot list %s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *de;
    const char *ext = jsonl ? ".jsonl" : ".parquet";
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (name[0] == '.' || (!ends_with(name, ".parquet") && !ends_with(name, ".jsonl")))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (strncmp(name, a->prefix, strlen(a->prefix)) || !ends_with(name, ext)) {
            if (is_other_instance(a, name)) continue;
            if (!f->problem[0])
                snprintf(f->problem, sizeof f->problem, "foreign file %.600s", path);
            continue;
        }
        int ok = 1;
        if (jsonl)
            f->rows += count_lines(path, &ok);
        else {
            sl_pq_reader r;
            sl_error e;
            if (sl_pq_reader_open_file(&r, path, &e)) {
                ok = 0;
                snprintf(f->problem, sizeof f->problem, "%s", e.msg);
            } else
                f->rows += r.meta.num_rows;
            sl_pq_reader_close(&r);
        }
        if (!ok && !f->problem[0])
            snprintf(f->problem, sizeof f->problem, "cannot read %.600s", path);
        f->files++;
    }
    closedir(d);
}

/* Append s to a glob pattern with its metacharacters escaped. */
static size_t glob_lit(char *out, size_t pos, size_t cap, const char *s)
{
    for (; *s && pos + 2 < cap; s++) {
        if (strchr("*?[]\\", *s)) out[pos++] = '\\';
        out[pos++] = *s;
    }
    out[pos] = '\0';
    return pos;
}

/* The hour's directories: one, or with {field} values every match. */
static void scan_hour(audit_run *a, const sl_stream *st, int64_t hour, found *f)
{
    const sl_template *t = &st->tpl;
    if (!t->by_field) {
        char dir[4096];
        if (sl_template_expand(st, NULL, hour, dir, sizeof dir) < 0)
            snprintf(f->problem, sizeof f->problem, "path too long");
        else
            scan_dir(a, dir, st->jsonl, f);
        return;
    }
    char pat[8192], tmp[32];
    size_t pos = 0;
    time_t tt = (time_t)(hour / 1000);
    struct tm tm;
    gmtime_r(&tt, &tm);
    pat[0] = '\0';
    for (int32_t i = 0; i < t->n; i++) {
        const sl_tpl_seg *g = &t->segs[i];
        switch (g->kind) {
        case SL_TPL_LIT:
            pos = glob_lit(pat, pos, sizeof pat, g->lit);
            break;
        case SL_TPL_STREAM:
            pos = glob_lit(pat, pos, sizeof pat, st->cfg->name);
            break;
        case SL_TPL_DATE:
        case SL_TPL_HOUR:
            if (g->kind == SL_TPL_DATE)
                snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday);
            else
                snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour);
            pos = glob_lit(pat, pos, sizeof pat, tmp);
            break;
        case SL_TPL_FIELD:
            pos = glob_lit(pat, pos, sizeof pat, "") + 1;
            pat[pos - 1] = '*';
            pat[pos] = '\0';
            break;
        }
    }
    glob_t g;
    if (glob(pat, GLOB_ONLYDIR, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            struct stat sb;
            if (stat(g.gl_pathv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
                scan_dir(a, g.gl_pathv[i], st->jsonl, f);
        }
        globfree(&g);
    }
}

/* Dead letters of one hour, counted per stream (this instance's files). */
static void load_dead(audit_run *a, int64_t hour)
{
    if (a->dl_loaded && a->dl_hour == hour) return;
    a->dl_loaded = 1;
    a->dl_hour = hour;
    a->n_dl = 0;
    a->dl_err[0] = '\0';
    char dir[4096];
    if (sl_dl_dir(dir, sizeof dir, a->cfg->dead_letter.path, hour) < 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        int pq = ends_with(name, ".parquet"), js = ends_with(name, ".jsonl");
        if (name[0] == '.' || (!pq && !js) || strncmp(name, a->prefix, strlen(a->prefix))) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        /* the streams of the file's rows, one at a time */
        char sname[NAME_MAX_];
        sl_pq_reader r;
        sl_batch b = {0};
        sl_error e;
        FILE *f = NULL;
        char *line = NULL;
        size_t lcap = 0;
        int32_t leaf = -1, rg = 0;
        size_t slot = 0, val = 0;
        memset(&r, 0, sizeof r);
        if (pq) {
            int32_t node;
            if (sl_pq_reader_open_file(&r, path, &e) ||
                (node = sl_schema_find(&r.schema, "stream")) < 0 ||
                (leaf = r.schema.nodes[node].leaf) < 0 || sl_batch_init(&b, &r.schema)) {
                snprintf(a->dl_err, sizeof a->dl_err, "cannot read the dead letters %.500s", path);
                sl_pq_reader_close(&r);
                continue;
            }
        } else if (!(f = fopen(path, "r"))) {
            snprintf(a->dl_err, sizeof a->dl_err, "cannot read the dead letters %.500s", path);
            continue;
        }
        for (;;) {
            int have = 0; /* 1: sname, 2: no stream */
            if (pq) {
                const sl_col *c = &b.cols[leaf];
                while (slot == c->n && rg < r.meta.n_row_groups) {
                    sl_batch_reset(&b);
                    slot = val = 0;
                    if (sl_pq_reader_read_column(&r, rg++, leaf, &b, &e)) {
                        snprintf(a->dl_err, sizeof a->dl_err, "%s", e.msg);
                        rg = r.meta.n_row_groups;
                    }
                }
                if (slot == c->n) break;
                if (!c->max_def || c->def[slot] == c->max_def) {
                    uint32_t len;
                    const uint8_t *s = sl_col_bytes_at(c, val++, &len);
                    snprintf(sname, sizeof sname, "%.*s", (int)len, (const char *)s);
                    have = 1;
                } else
                    have = 2;
                slot++;
            } else {
                if (getline(&line, &lcap, f) <= 0) break;
                int64_t v;
                int k = jget(line, "stream", sname, sizeof sname, &v);
                if (k != 's' && k != '0') continue; /* a torn line: not a dead letter */
                have = k == 's' ? 1 : 2;
            }
            const char *key = have == 1 ? sname : "";
            size_t i = 0;
            while (i < a->n_dl && strcmp(a->dl[i].stream, key))
                i++;
            if (i == a->n_dl) {
                if (a->n_dl == a->cap_dl) {
                    size_t nc = a->cap_dl ? a->cap_dl * 2 : 16;
                    struct dl_count *nd = realloc(a->dl, nc * sizeof *nd);
                    if (!nd) break;
                    a->dl = nd;
                    a->cap_dl = nc;
                }
                snprintf(a->dl[a->n_dl].stream, NAME_MAX_, "%s", key);
                a->dl[a->n_dl++].n = 0;
            }
            a->dl[i].n++;
        }
        sl_batch_free(&b);
        sl_pq_reader_close(&r);
        free(line);
        if (f) fclose(f);
    }
    closedir(d);
}

static int64_t dead_rows(audit_run *a, int64_t hour, const char *stream)
{
    load_dead(a, hour);
    for (size_t i = 0; i < a->n_dl; i++)
        if (!strcmp(a->dl[i].stream, stream)) return a->dl[i].n;
    return 0;
}

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

static int parse_hour(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi = 0, se = 0, n = 0, n2 = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d%n", &y, &mo, &d, &h, &n) != 4 || n != 13) return -1;
    if (s[n] && (sscanf(s + n, ":%2d:%2dZ%n", &mi, &se, &n2) != 2 || s[n + n2] || mi || se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || h < 0) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
    *ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

static void fmt_part(char *out, size_t cap, int64_t hour)
{
    time_t t = (time_t)(hour / 1000 - (hour % 1000 < 0));
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "dt=%04d-%02d-%02d/hour=%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour);
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

static void put_json_str(const char *s)
{
    sl_buf b = SL_BUF_INIT;
    if (s && !sl_json_put_str(&b, s, strlen(s)))
        fwrite(b.p, 1, b.len, stdout);
    else
        fputs("null", stdout);
    sl_buf_free(&b);
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
    fmt_part(name, sizeof name, p->hour);
    found f = {0};
    int lake = 0, dl = a->cfg->dead_letter.kind == SL_OUT_FILES;
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
        scan_hour(a, st, p->hour, &f);
        if (f.rows != p->written)
            add_why(why, sizeof why,
                    "written %" PRId64 " but %" PRId64 " rows in %" PRId64 " file(s) of the lake",
                    p->written, f.rows, f.files);
        if (f.problem[0]) add_why(why, sizeof why, "%s", f.problem);
    }
    if (dl) {
        dead_found = dead_rows(a, p->hour, p->stream);
        if (dead_found != dead_want)
            add_why(why, sizeof why,
                    "dead_lettered %" PRId64 " but %" PRId64 " dead letters of the hour", dead_want,
                    dead_found);
        if (a->dl_err[0]) add_why(why, sizeof why, "%s", a->dl_err);
    }
    t->checked++;
    t->differ += why[0] != 0;
    t->unreconcilable += note[0] != 0;
    if (json) {
        printf("%s{\"stream\":", t->json_first ? "" : ",");
        t->json_first = 0;
        put_json_str(p->stream);
        printf(",\"partition\":\"%s\",\"hour_start_ms\":%" PRId64 ",\"version\":%" PRId64
               ",\"read\":%" PRId64 ",\"filtered\":%" PRId64 ",\"dead_lettered\":%" PRId64
               ",\"late\":%" PRId64 ",\"written\":%" PRId64 ",\"checkpoint\":%" PRIu64,
               name, p->hour, p->version, p->read, p->filtered, dead_want, p->late, p->written,
               p->ckpt);
        if (lake)
            printf(",\"lake_rows\":%" PRId64 ",\"lake_files\":%" PRId64, f.rows, f.files);
        else
            printf(",\"lake_rows\":null,\"lake_files\":null");
        if (dl)
            printf(",\"dead_letter_rows\":%" PRId64, dead_found);
        else
            printf(",\"dead_letter_rows\":null");
        printf(",\"ok\":%s,\"problem\":", why[0] ? "false" : "true");
        put_json_str(why[0] ? why : NULL);
        printf(",\"note\":");
        put_json_str(note[0] ? note : NULL);
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
    fmt_part(name, sizeof name, hour);
    int dl = a->cfg->dead_letter.kind == SL_OUT_FILES;
    int64_t found_n = dl ? dead_rows(a, hour, "") : 0;
    if (read != dead)
        add_why(why, sizeof why, "read %" PRId64 " is not dead_lettered %" PRId64, read, dead);
    if (dl && found_n != dead)
        add_why(why, sizeof why,
                "dead_lettered %" PRId64 " but %" PRId64 " dead letters without a stream", dead,
                found_n);
    if (dl && a->dl_err[0]) add_why(why, sizeof why, "%s", a->dl_err);
    t->pipeline_hours++;
    t->pipeline_differ += why[0] != 0;
    if (json) {
        printf("%s{\"partition\":\"%s\",\"hour_start_ms\":%" PRId64 ",\"read\":%" PRId64
               ",\"dead_lettered\":%" PRId64 ",\"dead_letter_rows\":",
               t->json_first ? "" : ",", name, hour, read, dead);
        t->json_first = 0;
        if (dl)
            printf("%" PRId64, found_n);
        else
            printf("null");
        printf(",\"ok\":%s,\"problem\":", why[0] ? "false" : "true");
        put_json_str(why[0] ? why : NULL);
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
    qsort(a->v, a->n, sizeof *a->v, by_key);
    /* deltas: a repeated id (a redone append) counts once - mark repeats */
    for (size_t i = 1; i < a->n; i++)
        if (a->v[i].delta && a->v[i - 1].delta && !strcmp(a->v[i].id, a->v[i - 1].id))
            a->v[i].ckpt = UINT64_MAX;
    if (json) {
        printf("{\"pipeline\":");
        put_json_str(a->cfg->pipeline);
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

static int read_instance(const sl_cfg *cfg, char out[9])
{
    char path[4200];
    snprintf(path, sizeof path, "%s/instance", cfg->state_dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fscanf(f, "%8s", out) == 1 && strlen(out) == 8;
    fclose(f);
    return ok ? 0 : -1;
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
            else if (parse_hour(v, o[2] == 'f' ? &from : &to)) {
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
    if (read_instance(cfg, inst)) {
        fprintf(stderr,
                "sluice audit: %s has no instance id (%s/instance): the pipeline never ran\n", file,
                cfg->state_dir);
        goto out;
    }
    snprintf(a.prefix, sizeof a.prefix, "%s-%s-", cfg->pipeline, inst);
    if (read_log(&a, &err)) {
        fprintf(stderr, "sluice audit: %s\n", err.msg);
        goto out;
    }
    rc = report(&a, only, from, to, json);
out:
    free(a.v);
    free(a.dl);
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
    return rc;
}
