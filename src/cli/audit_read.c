/* audit_read.c - what `sluice audit` reads (see audit.c): the audit log
 * (flat JSON lines), the lake's Parquet footers and JSON-lines line counts
 * of this instance's files, and the stream column of the dead letters.
 * Nothing here trusts sluice's own bookkeeping beyond the audit log. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/audit_int.h"
#include "core/json_flat.h"
#include "engine/deadletter.h"
#include "engine/dl_kafka.h"
#include "formats/parquet/pq_reader.h"

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
    if (sl_jflat_get(line, "kind", kind, sizeof kind, &v) != 's') return -1;
    int delta = !strcmp(kind, "pipeline") || !strcmp(kind, "expired");
    if (!delta && strcmp(kind, "commit") && strcmp(kind, "update")) return -1;
    part *p = push(a);
    if (!p) return -2;
    int st = sl_jflat_get(line, "stream", stream, sizeof stream, &v);
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
        if (sl_jflat_get(line, keys[i], s, sizeof s, &v) != 'n') goto bad;
        if (dst[i])
            *dst[i] = v;
        else
            p->ckpt = (uint64_t)v;
    }
    if (!delta && (sl_jflat_get(line, "version", kind, sizeof kind, &p->version) != 'n' ||
                   sl_jflat_get(line, "files", kind, sizeof kind, &p->files) != 'n'))
        goto bad;
    if (sl_jflat_get(line, "id", p->id, sizeof p->id, &v) != 's') goto bad;
    return 0;
bad:
    a->n--;
    return -1;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

sl_err_t sl_audit_read_log(audit_run *a, sl_error *err)
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
int sl_audit_by_key(const void *x, const void *y)
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
void sl_audit_scan_hour(audit_run *a, const sl_stream *st, int64_t hour, found *f)
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
static void dead_dir(audit_run *a, const char *dir);

static void load_dead(audit_run *a, int64_t hour)
{
    if (a->dl_loaded && a->dl_hour == hour) return;
    a->dl_loaded = 1;
    a->dl_hour = hour;
    a->n_dl = 0;
    a->dl_err[0] = '\0';
    char dir[4096];
    if (sl_dl_dir(dir, sizeof dir, a->cfg->dead_letter.path, hour) < 0) return;
    dead_dir(a, dir);
    /* and those a `sluice dlq replay` moved aside (replay.c): still this
     * hour's dead letters */
    char pat[8400], rel[64];
    const char *hr = dir + strlen(a->cfg->dead_letter.path); /* "/dt=.../hour=.." */
    snprintf(rel, sizeof rel, "%s", hr);
    size_t n = glob_lit(pat, 0, sizeof pat, a->cfg->dead_letter.path);
    snprintf(pat + n, sizeof pat - n, "/_replayed/*%s", rel);
    glob_t g;
    if (glob(pat, GLOB_ONLYDIR, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            dead_dir(a, g.gl_pathv[i]);
    globfree(&g);
}

/* Count the dead letters of one directory per stream, into a->dl. */
static void dead_dir(audit_run *a, const char *dir)
{
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
                int k = sl_jflat_get(line, "stream", sname, sizeof sname, &v);
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

/* dead_letter kind kafka: read the whole topic once, counting this
 * instance's dead letters per (stream, hour). */
static int kx_add(void *arg, const char *range, int64_t offset, const sl_dl_rec *d)
{
    audit_run *a = arg;
    (void)range, (void)offset;
    const char *inst = a->prefix + strlen(a->cfg->pipeline) + 1; /* "INSTANCE-" */
    if (strcmp(d->pipeline, a->cfg->pipeline) || (d->instance && strncmp(d->instance, inst, 8)))
        return 0;
    const char *st = d->stream ? d->stream : "";
    for (size_t i = 0; i < a->n_kx; i++)
        if (a->kx[i].hour == d->hour_ms && !strcmp(a->kx[i].stream, st)) {
            a->kx[i].n++;
            return 0;
        }
    if (a->n_kx == a->cap_kx) {
        size_t nc = a->cap_kx ? a->cap_kx * 2 : 64;
        struct kx_count *n = realloc(a->kx, nc * sizeof *n);
        if (!n) return -1;
        a->kx = n;
        a->cap_kx = nc;
    }
    struct kx_count *c = &a->kx[a->n_kx++];
    snprintf(c->stream, sizeof c->stream, "%s", st);
    c->hour = d->hour_ms;
    c->n = 1;
    return 0;
}

static void load_topic(audit_run *a)
{
    if (a->kx_loaded) return;
    a->kx_loaded = 1;
    sl_error e;
    if (sl_dlk_each(a->cfg, a->cfg->dead_letter.topic, kx_add, a, &e))
        snprintf(a->dl_err, sizeof a->dl_err, "%.590s", e.msg);
}

int64_t sl_audit_dead_rows(audit_run *a, int64_t hour, const char *stream)
{
    if (a->cfg->dead_letter.kind == SL_OUT_KAFKA) {
        load_topic(a);
        for (size_t i = 0; i < a->n_kx; i++)
            if (a->kx[i].hour == hour && !strcmp(a->kx[i].stream, stream)) return a->kx[i].n;
        return 0;
    }
    load_dead(a, hour);
    for (size_t i = 0; i < a->n_dl; i++)
        if (!strcmp(a->dl[i].stream, stream)) return a->dl[i].n;
    return 0;
}
