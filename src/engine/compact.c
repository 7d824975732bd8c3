/* compact.c - small-file compaction of a committed hour partition, before
 * its _SUCCESS (issue 4; DESIGN.md, partition commit).
 *
 * While an hour is open, every checkpoint adds a part file per worker to
 * its directory. When the hour commits, this instance's part files
 * (PIPELINE-INSTANCE-*.parquet) are read back through the Parquet reader,
 * row group by row group, and written again through the writer into files of
 * about commit.compaction.target_size. Other instances' files are left
 * alone: each instance compacts its own.
 *
 * Crash safety, with a journal in the partition directory:
 *   1. any leftover .sluice+P+I+compact+N.tmp of an interrupted run is
 *      deleted (there is no journal, so nothing refers to it);
 *   2. the outputs are written as .sluice+P+I+compact+N.tmp and fsynced,
 *      and the rows read are checked against the rows written;
 *   3. the journal .sluice+P+I+compact.journal is written atomically: every
 *      output (tmp -> final name) and every input;
 *   4. the outputs are renamed to PIPELINE-INSTANCE-vVERSION-kN.parquet;
 *   5. the inputs are deleted;
 *   6. the journal is deleted.
 * A crash before 3 leaves the inputs as they were (the tmp files go at the
 * next try); from 3 on, the redo (at recovery, which runs the pending
 * commit again) finishes 4-6 from the journal, idempotently. The zombie
 * sweep does not touch .tmp files and journals.
 *
 * What readers see: between 4 and 5 a directory listing holds the rows
 * twice (old and new files). That is before _SUCCESS: readers that wait for
 * the commit never see it; after commit no reader ever sees a row twice.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/ostream.h"
#include "engine/rt_int.h"
#include "formats/parquet/pq_reader.h"

#define MAX_INPUTS 100000

typedef struct names {
    char **v;
    int32_t n, cap;
} names;

static int names_add(names *l, const char *s)
{
    if (l->n == l->cap) {
        int32_t nc = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    return (l->v[l->n] = strdup(s)) ? (l->n++, 0) : -1;
}

static void names_free(names *l)
{
    for (int32_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

static int has_suffix(const char *s, const char *x)
{
    size_t n = strlen(s), k = strlen(x);
    return n >= k && !strcmp(s + n - k, x);
}

/* Finish a journal: publish outputs, delete inputs, delete the journal. */
static sl_err_t finish_journal(sl_rt *rt, const char *dir, const char *journal, sl_error *err)
{
    FILE *f = fopen(journal, "r");
    if (!f) return sl_error_errno(err, errno, "cannot read %s", journal);
    char line[8400];
    sl_err_t rc = SL_OK;
    names ins = {0};
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char a[4100], b[4100];
        if (!strncmp(line, "out ", 4) && sscanf(line + 4, "%4099s %4099s", a, b) == 2) {
            char from[8300], to[8300];
            snprintf(from, sizeof from, "%s/%s", dir, a);
            snprintf(to, sizeof to, "%s/%s", dir, b);
            rc = rt->st->vt->publish(rt->st, from, to, err);
            if (!rc) sl_fault_point("compact.published_one");
        } else if (!strncmp(line, "in ", 3)) {
            if (names_add(&ins, line + 3)) rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        }
    }
    fclose(f);
    if (!rc) rc = rt->st->vt->sync_dir(rt->st, dir, err);
    for (int32_t i = 0; !rc && i < ins.n; i++) {
        char p[8300];
        snprintf(p, sizeof p, "%s/%s", dir, ins.v[i]);
        rc = rt->st->vt->remove(rt->st, p, err);
    }
    names_free(&ins);
    if (!rc) sl_fault_point("compact.inputs_removed");
    if (!rc) rc = rt->st->vt->remove(rt->st, journal, err);
    if (!rc) rc = rt->st->vt->sync_dir(rt->st, dir, err);
    return rc;
}

/* The schema fingerprint of each input (a footer read each). */
static sl_err_t fingerprints(const char *dir, const names *in, uint64_t *fp, sl_error *err)
{
    char path[8300];
    for (int32_t i = 0; i < in->n; i++) {
        sl_pq_reader r = {0};
        snprintf(path, sizeof path, "%s/%s", dir, in->v[i]);
        sl_err_t rc = sl_pq_reader_open_file(&r, path, err);
        if (rc) return rc;
        fp[i] = sl_schema_fingerprint(&r.schema);
        sl_pq_reader_close(&r);
    }
    return SL_OK;
}

/* Read the inputs in[from..to) (one schema) and write outputs of about
 * `target` bytes with that schema, named after outs' count so far. */
static sl_err_t rewrite_group(sl_rt *rt, const sl_stream *st, const char *dir, const names *in,
                              int32_t from, int32_t to, int64_t target, const char *tmp_prefix,
                              names *outs, sl_error *err)
{
    sl_batch b = {0};
    sl_schema own = {0}; /* an earlier schema of the stream: the files' own */
    const sl_schema *schema = NULL;
    sl_pq_writer *pw = NULL;
    sl_ostream *os = NULL;
    sl_err_t rc = SL_OK;
    int64_t rows_in = 0, rows_out = 0;
    char path[8300];
    for (int32_t i = from; !rc && i < to; i++) {
        sl_pq_reader r = {0};
        snprintf(path, sizeof path, "%s/%s", dir, in->v[i]);
        if ((rc = sl_pq_reader_open_file(&r, path, err))) break;
        if (!schema) {
            if (sl_schema_fingerprint(&r.schema) == sl_schema_fingerprint(&st->out_schema))
                schema = &st->out_schema;
            else if ((rc = sl_schema_copy(&own, &r.schema)))
                sl_error_set(err, rc, "out of memory");
            else
                schema = &own;
            if (!rc && sl_batch_init(&b, schema))
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        }
        for (int32_t g = 0; !rc && g < r.meta.n_row_groups; g++) {
            sl_batch_reset(&b);
            if ((rc = sl_pq_reader_read_row_group(&r, g, &b, err))) break;
            rows_in += (int64_t)b.nrows;
            if (!pw) { /* a new output */
                char name[300];
                snprintf(name, sizeof name, "%s%d.tmp", tmp_prefix, (int)outs->n);
                snprintf(path, sizeof path, "%s/%s", dir, name);
                if (names_add(outs, name)) {
                    rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                    break;
                }
                sl_pq_options o = {0};
                o.codec = st->codec;
                o.no_delta = st->no_delta;
                o.row_group_bytes = (size_t)rt->cfg->limits.row_group_size;
                if ((rc = rt->st->vt->create(rt->st, path, &os, err)) ||
                    (rc = sl_pq_writer_open(&pw, schema, os, &o, err)))
                    break;
            }
            if ((rc = sl_pq_writer_write(pw, &b, err))) break;
            rows_out += (int64_t)b.nrows;
            sl_pq_writer_stats ps;
            sl_pq_writer_get_stats(pw, &ps);
            int last = i == to - 1 && g == r.meta.n_row_groups - 1;
            if (last || (int64_t)(ps.bytes_written + ps.buffered_bytes) >= target) {
                if ((rc = sl_pq_writer_close(pw, err)) || (rc = sl_ostream_sync(os, err)) ||
                    (rc = sl_ostream_close(os, err)))
                    break;
                sl_pq_writer_free(pw);
                sl_ostream_destroy(os);
                pw = NULL;
                os = NULL;
            }
        }
        sl_pq_reader_close(&r);
    }
    if (!rc && pw) { /* inputs ended on an empty row group */
        if (!(rc = sl_pq_writer_close(pw, err)) && !(rc = sl_ostream_sync(os, err)))
            rc = sl_ostream_close(os, err);
    }
    sl_pq_writer_free(pw);
    sl_ostream_destroy(os);
    sl_batch_free(&b);
    sl_schema_free(&own);
    if (!rc && rows_in != rows_out)
        rc = sl_error_set(err, SL_ERR_CORRUPT,
                          "compaction read %" PRId64 " rows but wrote %" PRId64, rows_in, rows_out);
    return rc;
}

/* Read the inputs and write outputs of about `target` bytes; afterwards in
 * holds the inputs that were merged (the journal's). Files of one schema
 * are merged with each other only: an hour that spans a hot reload
 * which changed the stream's schema (new fields) keeps one set of files per
 * schema, each readable on its own, and readers that union by name (DuckDB's
 * union_by_name, Spark's mergeSchema) see the new columns null in old rows. */
static sl_err_t rewrite(sl_rt *rt, const sl_stream *st, const char *dir, names *in, int64_t target,
                        const char *tmp_prefix, names *outs, sl_error *err)
{
    uint64_t *fp = calloc((size_t)in->n + 1, sizeof *fp);
    if (!fp) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_err_t rc = fingerprints(dir, in, fp, err);
    /* group by schema, keeping the name order inside a group (stable) */
    for (int32_t i = 1; !rc && i < in->n; i++)
        for (int32_t k = i; k > 0 && fp[k - 1] > fp[k]; k--) {
            uint64_t f = fp[k];
            fp[k] = fp[k - 1];
            fp[k - 1] = f;
            char *t = in->v[k];
            in->v[k] = in->v[k - 1];
            in->v[k - 1] = t;
        }
    /* a schema with one file is left as it is (the redo of a finished
     * compaction finds only such groups: nothing to do); the others are
     * merged, and only their files are the journal's inputs */
    int32_t kept = 0;
    for (int32_t a = 0; !rc && a < in->n;) {
        int32_t b = a + 1;
        while (b < in->n && fp[b] == fp[a])
            b++;
        if (b - a > 1) {
            rc = rewrite_group(rt, st, dir, in, a, b, target, tmp_prefix, outs, err);
            for (int32_t k = a; k < b; k++) { /* in[0..kept): the merged inputs */
                char *t = in->v[kept];
                in->v[kept++] = in->v[k];
                in->v[k] = t;
            }
        }
        a = b;
    }
    for (int32_t k = kept; k < in->n; k++)
        free(in->v[k]);
    in->n = kept;
    free(fp);
    return rc;
}

sl_err_t sl_compact_partition(sl_rt *rt, const sl_stream *st, const char *dir, int64_t version,
                              int64_t target, int64_t *files, int64_t *bytes, sl_error *err)
{
    char mine[300], tmp_prefix[300], journal[4400];
    snprintf(mine, sizeof mine, "%s-%s-", rt->cfg->pipeline, rt->instance);
    snprintf(tmp_prefix, sizeof tmp_prefix, ".sluice+%s+%s+compact+", rt->cfg->pipeline,
             rt->instance);
    snprintf(journal, sizeof journal, "%s/.sluice+%s+%s+compact.journal", dir, rt->cfg->pipeline,
             rt->instance);
    sl_err_t rc = SL_OK;
    names in = {0}, outs = {0};
    if (access(journal, F_OK) == 0) { /* a crash after step 3: finish it */
        if ((rc = finish_journal(rt, dir, journal, err))) goto out;
    } else {
        DIR *d = opendir(dir);
        if (!d && errno != ENOENT) {
            rc = sl_error_errno(err, errno, "cannot list %s", dir);
            goto out;
        }
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char p[8300];
            if (has_prefix(de->d_name, tmp_prefix)) { /* step 1 */
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                unlink(p);
            } else if (has_prefix(de->d_name, mine) && has_suffix(de->d_name, ".parquet") &&
                       in.n < MAX_INPUTS && names_add(&in, de->d_name)) {
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (d) closedir(d);
        if (rc) goto out;
        if (in.n > 1 && target > 0 && !st->jsonl) {
            qsort(in.v, (size_t)in.n, sizeof *in.v, cmp_str);
            if ((rc = rewrite(rt, st, dir, &in, target, tmp_prefix, &outs, err))) goto out;
            if (outs.n == 0) goto counted; /* one file per schema already */
            sl_fault_point("compact.outputs_written");
            /* step 3: the journal; outputs are named after the version, with
             * numbers no file of the directory has (a file of this version
             * kept as it is, in another schema) */
            sl_buf j = SL_BUF_INIT;
            char line[700], final[400], p[8300];
            for (int32_t i = 0, k = 0; !rc && i < outs.n; i++, k++) {
                for (;; k++) {
                    snprintf(final, sizeof final, "%s-%s-v%" PRId64 "-k%d.parquet",
                             rt->cfg->pipeline, rt->instance, version, k);
                    snprintf(p, sizeof p, "%s/%s", dir, final);
                    if (access(p, F_OK) != 0) break;
                }
                int n = snprintf(line, sizeof line, "out %s %s\n", outs.v[i], final);
                rc = sl_buf_append(&j, line, (size_t)n);
            }
            for (int32_t i = 0; !rc && i < in.n; i++) {
                rc = sl_buf_append(&j, "in ", 3);
                if (!rc) rc = sl_buf_append(&j, in.v[i], strlen(in.v[i]));
                if (!rc) rc = sl_buf_put_u8(&j, '\n');
            }
            sl_atomic_file af;
            if (rc)
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            else if (!(rc = sl_atomic_open(&af, journal, err))) {
                if ((rc = sl_ostream_write(af.os, j.p, j.len, err)))
                    sl_atomic_abort(&af);
                else
                    rc = sl_atomic_commit(&af, err);
            }
            sl_buf_free(&j);
            if (rc) goto out;
            sl_fault_point("compact.journal_written");
            if ((rc = finish_journal(rt, dir, journal, err))) goto out;
        }
    }
counted:
    /* what the partition holds now (this instance's files) */
    *files = *bytes = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!has_prefix(de->d_name, mine) ||
            !has_suffix(de->d_name, st->jsonl ? ".jsonl" : ".parquet"))
            continue;
        char p[8300];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &sb) == 0) {
            (*files)++;
            *bytes += (int64_t)sb.st_size;
        }
    }
    if (d) closedir(d);
out:
    names_free(&in);
    names_free(&outs);
    if (rc) sl_error_prefix(err, "compacting %s", dir);
    return rc;
}
