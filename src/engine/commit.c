/* commit.c - event time, watermarks and hour partitions that commit
 * themselves (issue 4; DESIGN.md, "Event time and partition commit").
 *
 * Watermarks. Each input partition remembers the greatest event time read
 * (sl_part.max_et) and when its last record came (last_ms, from its
 * assignment until the first record); a barrier snapshots both. At
 * checkpoint C the inputs' event-time frontier F is the minimum of max_et
 * over the partitions that are not idle (a record within idle_timeout): per
 * partition, then per worker, then per pipeline, since the minimum over all
 * partitions is the minimum of the workers' minimums. A partition that has
 * brought no record yet holds F back until it brings one or is idle (after
 * a restart a partition starts from the greatest event time its manifest
 * position recorded, so only a partition never read before does). F
 * never goes back, and stays where it is while every input is idle. Stream
 * S's watermark is F - S's max_out_of_orderness; the manifest keeps F (the
 * "wm" line). The largest idle_timeout of the streams applies to partitions
 * (a partition feeds every stream).
 *
 * Commit, per partition: compaction (compact.c), _SUCCESS, notifications.
 *
 * Hour partitions. Every file of C carries its event hour; C's files add
 * their rows, bytes and count to the partition (stream, hour) in the
 * manifest. Partition (S, H) is ready when S's watermark has passed
 * end(H) + S's commit.delay - and since the frontier is taken at the
 * barrier, every record of H read so far is in a file of a completed
 * checkpoint. Every hour from the pipeline's first hour with data up to the
 * watermark commits, empty ones too, for every stream: a silent stream
 * still yields its hours. Ready partitions are marked committed (version
 * + 1) and *pending* in manifest C; after C's files are published, each
 * pending partition gets its _SUCCESS file and its notifications, and the
 * mark is cleared in the next manifest. A crash in between redoes them from
 * the manifest at recovery: _SUCCESS is rewritten atomically, notifications
 * are sent again with the same id (at-least-once, as documented).
 *
 * Late records. A record whose hour is committed is late. Workers drop it
 * (commit.late: drop; counted). One that was read after barrier C but
 * before C committed its hour reaches a file of C+1: such files are found
 * here by their hour and deleted before they are published, their rows
 * counted as late. After commit no reader sees a row twice or a row appear
 * in a committed partition.
 *
 * Audit counts (engine/audit.h). At checkpoint C the workers' tables,
 * swapped at barrier C, are added to C's partitions: to the hour's part
 * while the hour is open or still tracked, else (records of no stream, an
 * hour committed so long ago that its part was forgotten) to a delta of C.
 * Late files add their rows to their hour's late count. A committed
 * partition whose counts change gets an audit mark, like pending; an open
 * partition that holds only counts and lies before the stream's committed
 * hours (e.g. all its records were filtered, or a dead letter's Kafka
 * timestamp is old) commits at once. After C is published, sl_commit_run
 * appends the audit lines (a commit line per pending partition after its
 * _SUCCESS, an update line per marked one, a line per delta), fsyncs the
 * log, and only then clears the marks, which the next manifest records.
 *
 * What _SUCCESS holds: {"id", "pipeline", "stream", "partition", "version",
 * "rows", "files", "bytes", "watermark_ms", "hour_start_ms"} and, with
 * audit.enabled, "audit": {"read", "filtered", "dead_lettered", "late",
 * "written"}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fault.h"
#include "core/ostream.h"
#include "engine/audit.h"
#include "engine/notify.h"
#include "engine/obs.h"

#define HOUR_MS        3600000LL
#define MAX_HOURS_STEP 10000    /* hours committed per stream per checkpoint, at most */
#define KEEP_HOURS     (24 * 7) /* committed partitions listed in the manifest for a week */

/* The first hour a stream added to a running pipeline (a hot reload, or a
 * restart with a new stream) can still commit: the hour its watermark has
 * not passed yet. Without it the new stream would commit an empty hour for
 * every hour since the pipeline's first one. INT64_MIN while the pipeline
 * has no watermark (the stream starts with the others). */
static int64_t first_open_hour(const sl_manifest *mf, const sl_cfg_stream *cs)
{
    if (mf->watermark == INT64_MIN) return INT64_MIN;
    int64_t t = mf->watermark - cs->wm.max_out_of_orderness_ms - cs->commit.delay_ms;
    return t >= 0 ? t / HOUR_MS * HOUR_MS : -((-t + HOUR_MS - 1) / HOUR_MS) * HOUR_MS;
}

sl_err_t sl_commit_prepare(const sl_rt *rt, const sl_pipeline *pl, sl_commit_state *cs,
                           sl_error *err)
{
    memset(cs, 0, sizeof *cs);
    cs->n = pl->n_streams;
    cs->through = calloc((size_t)pl->n_streams + 1, sizeof *cs->through);
    cs->notify = calloc((size_t)pl->n_streams + 1, sizeof *cs->notify);
    if (!cs->through || !cs->notify) {
        sl_commit_state_free(cs);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    for (int32_t i = 0; i < pl->n_streams; i++) {
        const sl_cfg_stream *c = pl->streams[i].cfg;
        if (c->wm.idle_timeout_ms > cs->idle_ms) cs->idle_ms = c->wm.idle_timeout_ms;
        const sl_mf_stream *t = NULL;
        for (int32_t k = 0; k < rt->mf.n_streams; k++)
            if (!strcmp(rt->mf.streams[k].stream, c->name)) t = &rt->mf.streams[k];
        atomic_init(&cs->through[i], t ? t->through : first_open_hour(&rt->mf, c));
        if (c->commit.n_notify) {
            const char *conn[2 * 64 + 1];
            sl_err_t rc = sl_notifier_new(
                &cs->notify[i], c->commit.notify, c->commit.n_notify, pl->cfg->source.brokers,
                sl_cfg_connection(pl->cfg, conn, 2 * 64 + 1), pl->cfg->dir, err);
            if (rc) {
                sl_commit_state_free(cs);
                return sl_error_prefix(err, "stream %s: commit.notify", c->name);
            }
        }
    }
    return SL_OK;
}

void sl_commit_state_free(sl_commit_state *cs)
{
    for (int32_t i = 0; cs->notify && i < cs->n; i++)
        sl_notifier_free(cs->notify[i]);
    free(cs->notify);
    free(cs->through);
    memset(cs, 0, sizeof *cs);
}

void sl_commit_install(sl_rt *rt, sl_commit_state *cs)
{
    sl_commit_stop(rt);
    rt->through = cs->through;
    rt->notify = cs->notify;
    rt->n_notify = cs->n;
    rt->idle_ms = cs->idle_ms;
    memset(cs, 0, sizeof *cs);
}

sl_err_t sl_commit_start(sl_rt *rt, sl_error *err)
{
    sl_commit_state cs;
    sl_err_t rc = sl_commit_prepare(rt, rt->pl, &cs, err);
    if (!rc) sl_commit_install(rt, &cs);
    return rc;
}

void sl_commit_stop(sl_rt *rt)
{
    sl_commit_state cs = {rt->through, rt->notify, rt->n_notify, rt->idle_ms};
    sl_commit_state_free(&cs);
    rt->through = NULL;
    rt->notify = NULL;
    rt->n_notify = 0;
}

static int32_t stream_index(const sl_rt *rt, const char *name)
{
    for (int32_t i = 0; i < rt->pl->n_streams; i++)
        if (!strcmp(rt->cfg->streams[i].name, name)) return i;
    return -1;
}

/* The watermark from the workers' barrier snapshots (caller holds no lock:
 * workers are past the barrier and only the coordinator reads snapshots). */
static int64_t watermark(sl_rt *rt, int64_t now_ms)
{
    int64_t w = INT64_MAX;
    int any = 0;
    pthread_mutex_lock(&rt->mu);
    for (int32_t k = 0; k < rt->nw; k++)
        for (int32_t i = 0; i < rt->w[k].n_parts; i++) {
            const sl_part *p = rt->w[k].parts[i];
            if (!p->owned) continue;
            if (now_ms - p->snap_last_ms >= rt->idle_ms) continue; /* idle: left out */
            /* an assigned partition that has brought nothing yet holds the
             * watermark back until it does, or until it is idle */
            int64_t pw = p->snap_max_et;
            if (pw < w) w = pw;
            any = 1;
        }
    pthread_mutex_unlock(&rt->mu);
    if (!any || w == INT64_MIN) return rt->mf.watermark; /* all idle, or held back: it stays */
    return w > rt->mf.watermark || rt->mf.watermark == INT64_MIN ? w : rt->mf.watermark;
}

static sl_mf_part *find_part(sl_manifest *m, const char *stream, int64_t hour)
{
    for (int32_t i = 0; i < m->n_parts; i++)
        if (m->parts[i].hour == hour && !strcmp(m->parts[i].stream, stream)) return &m->parts[i];
    return NULL;
}

static const sl_mf_stream *find_stream(const sl_manifest *m, const char *stream)
{
    for (int32_t i = 0; i < m->n_streams; i++)
        if (!strcmp(m->streams[i].stream, stream)) return &m->streams[i];
    return NULL;
}

/* Add audit counts of checkpoint m to (stream, hour): its partition, made
 * when the hour is not committed yet; a delta for stream "" (no stream)
 * and for an hour committed before and no longer tracked. A committed
 * partition gets its audit mark. SL_ERR_NOMEM leaves m with part of it. */
static sl_err_t add_counts(sl_manifest *m, const char *stream, int64_t hour, const sl_audit_n *n)
{
    if (*stream) {
        sl_mf_part *p = find_part(m, stream, hour);
        const sl_mf_stream *t = p ? NULL : find_stream(m, stream);
        if (!p && (!t || t->through == INT64_MIN || hour >= t->through) &&
            !(p = sl_manifest_part(m, stream, hour)))
            return SL_ERR_NOMEM;
        if (p) {
            p->read += n->read;
            p->filtered += n->filtered;
            p->dead += n->dead;
            p->late += n->late;
            if (p->state == SL_PART_COMMITTED && !p->pending) p->audit_pending = 1;
            return SL_OK;
        }
    }
    sl_mf_delta *d = sl_manifest_delta(m, stream, hour);
    if (!d) return SL_ERR_NOMEM;
    d->read += n->read;
    d->filtered += n->filtered;
    d->dead += n->dead;
    d->late += n->late;
    return SL_OK;
}

/* The workers' tables handed over at this checkpoint's barrier, into m;
 * then emptied for the next barrier (which cannot be requested before this
 * checkpoint ends). */
static sl_err_t merge_counts(sl_rt *rt, sl_manifest *m)
{
    sl_err_t rc = SL_OK;
    pthread_mutex_lock(&rt->mu);
    for (int32_t k = 0; k < rt->nw; k++) {
        sl_audit_tab *t = &rt->w[k].au[rt->w[k].au_cur ^ 1];
        for (uint32_t i = 0; !rc && t && t->used && i <= t->mask; i++) {
            const sl_audit_slot *sl = &t->slots[i];
            if (sl->stream == SL_AUDIT_EMPTY || !sl->n.read) continue; /* zeroed: retry.c */
            rc = add_counts(m, sl->stream >= 0 ? rt->cfg->streams[sl->stream].name : "", sl->hour,
                            &sl->n);
        }
        if (t) sl_audit_tab_reset(t);
    }
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

sl_err_t sl_commit_plan(sl_rt *rt, sl_manifest *m, int64_t now_ms, sl_error *err)
{
    int audit = rt->cfg->audit.enabled;
    sl_err_t rc = sl_manifest_copy_time(m, &rt->mf);
    if (rc) return sl_error_set(err, rc, "out of memory");
    for (int32_t i = 0; i < m->n_parts; i++)
        m->parts[i].pending = 0; /* done after the previous publish */
    /* late files: their hour was committed before this checkpoint. Reopen:
     * the partition commits again (version + 1). Side output: the file goes
     * to the late path instead. Drop: deleted, its rows counted. */
    for (int32_t i = 0; i < m->n_files;) {
        sl_mf_file *f = &m->files[i];
        int32_t s = f->hour == INT64_MIN ? -1 : stream_index(rt, f->stream);
        const sl_mf_stream *t = s < 0 ? NULL : sl_manifest_stream(m, f->stream);
        if (t && t->through != INT64_MIN && f->hour < t->through) {
            const sl_stream *st = &rt->pl->streams[s];
            if (st->cfg->commit.late == SL_LATE_REOPEN) {
                sl_mf_part *p = sl_manifest_part(m, f->stream, f->hour);
                if (!p) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                if (!p->pending) {
                    p->version++;
                    p->pending = 1;
                }
                i++;
                continue;
            }
            if (st->cfg->commit.late == SL_LATE_SIDE_OUTPUT) {
                char dir[4096], path[4400];
                const char *base = strrchr(f->final, '/');
                if (sl_tpl_expand(&st->late_tpl, st, NULL, f->hour, dir, sizeof dir) >= 0 &&
                    !st->late_tpl.by_field && !sl_mkdirs(dir, err)) {
                    snprintf(path, sizeof path, "%s/%s", dir, base ? base + 1 : f->final);
                    char *np = strdup(path);
                    if (!np) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                    free(f->final);
                    f->final = np;
                    sl_audit_n late = {.late = f->rows};
                    if (audit && add_counts(m, f->stream, f->hour, &late))
                        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                    f->hour = INT64_MIN; /* no longer part of the hour */
                    i++;
                    continue;
                }
            }
            sl_error ignore;
            if (rt->st->vt->remove(rt->st, f->hidden, &ignore)) {
            }
            rt->late_rows += f->rows;
            sl_audit_n late = {.late = f->rows};
            if (audit && add_counts(m, f->stream, f->hour, &late))
                return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            free(f->stream);
            free(f->hidden);
            free(f->final);
            m->files[i] = m->files[--m->n_files];
            continue;
        }
        i++;
    }
    /* account the files into their partitions */
    for (int32_t i = 0; i < m->n_files; i++) {
        const sl_mf_file *f = &m->files[i];
        if (f->hour == INT64_MIN || stream_index(rt, f->stream) < 0) continue;
        sl_mf_part *p = sl_manifest_part(m, f->stream, f->hour);
        if (!p) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        p->rows += f->rows;
        p->bytes += f->bytes;
        p->files++;
        if (m->first_hour == INT64_MIN || f->hour < m->first_hour) m->first_hour = f->hour;
    }
    if ((rc = merge_counts(rt, m))) return sl_error_set(err, rc, "out of memory");
    /* streams a hot reload removes: no record will come for them any more,
     * so their open hours commit now (reload.c) */
    for (int32_t i = 0; rt->reload && i < m->n_parts; i++) {
        sl_mf_part *p = &m->parts[i];
        if (p->state == SL_PART_OPEN && stream_index(rt, p->stream) >= 0 &&
            sl_reload_removes(rt, p->stream)) {
            p->state = SL_PART_COMMITTED;
            p->version++;
            p->pending = 1;
        }
    }
    m->watermark = watermark(rt, now_ms);
    if (m->watermark == INT64_MIN || m->first_hour == INT64_MIN) return SL_OK;
    /* ready hours, every stream, empty ones too */
    for (int32_t s = 0; s < rt->pl->n_streams; s++) {
        const sl_cfg_stream *cs = &rt->cfg->streams[s];
        if (rt->pl->streams[s].out_files < 0) continue; /* partitions are files */
        sl_mf_stream *t = sl_manifest_stream(m, cs->name);
        if (!t) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        if (t->through == INT64_MIN) /* a stream added to a running pipeline */
            t->through = atomic_load(&rt->through[s]);
        int64_t h = t->through == INT64_MIN ? m->first_hour : t->through;
        int64_t wm = m->watermark - cs->wm.max_out_of_orderness_ms; /* S's watermark */
        for (int n = 0; n < MAX_HOURS_STEP && h + HOUR_MS + cs->commit.delay_ms <= wm;
             n++, h += HOUR_MS) {
            sl_mf_part *p = sl_manifest_part(m, cs->name, h);
            if (!p) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            p->state = SL_PART_COMMITTED;
            p->version++;
            p->pending = 1;
        }
        t->through = h;
    }
    /* an open partition before the committed hours (only audit counts, or
     * recreated by a late file for a forgotten hour) commits now */
    for (int32_t i = 0; i < m->n_parts; i++) {
        sl_mf_part *p = &m->parts[i];
        const sl_mf_stream *t = p->state == SL_PART_OPEN ? find_stream(m, p->stream) : NULL;
        int32_t s = t ? stream_index(rt, p->stream) : -1;
        if (s < 0 || rt->pl->streams[s].out_files < 0 || t->through == INT64_MIN ||
            p->hour >= t->through)
            continue;
        p->state = SL_PART_COMMITTED;
        if (!p->pending) {
            p->version++;
            p->pending = 1;
        }
    }
    /* forget committed partitions older than a week */
    for (int32_t i = 0; i < m->n_parts;) {
        sl_mf_part *p = &m->parts[i];
        if (p->state == SL_PART_COMMITTED && !p->pending && !p->audit_pending &&
            p->hour < m->watermark - KEEP_HOURS * HOUR_MS) {
            free(p->stream);
            m->parts[i] = m->parts[--m->n_parts];
            continue;
        }
        i++;
    }
    return SL_OK;
}

static void fmt_partition(char *out, size_t cap, int64_t hour)
{
    time_t t = (time_t)(hour / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "dt=%04d-%02d-%02d/hour=%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour);
}

static sl_err_t write_success(sl_rt *rt, const char *dir, const sl_notify_event *ev, sl_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/_SUCCESS", dir);
    sl_err_t rc = sl_mkdirs(dir, err);
    if (rc) return rc;
    sl_buf b = SL_BUF_INIT;
    if ((rc = sl_notify_json(ev, &b)) || (rc = sl_buf_put_u8(&b, '\n'))) {
        sl_buf_free(&b);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    sl_atomic_file af;
    if (!(rc = sl_atomic_open(&af, path, err))) {
        if ((rc = sl_ostream_write(af.os, b.p, b.len, err)))
            sl_atomic_abort(&af);
        else
            rc = sl_atomic_commit(&af, err);
    }
    sl_buf_free(&b);
    (void)rt;
    return rc;
}

/* One pending partition: its event (id, dir and the figures). */
typedef struct pend {
    int32_t part, stream;
    char name[64], dir[4096], id[512];
    sl_notify_event ev;
    sl_notify_audit au;
    int done; /* compaction and _SUCCESS done */
} pend;

static void pend_init(sl_rt *rt, const sl_manifest *m, pend *q, int32_t i, int32_t s)
{
    const sl_mf_part *p = &m->parts[i];
    const sl_stream *st = &rt->pl->streams[s];
    const sl_cfg_stream *cs = st->cfg;
    q->part = i;
    q->stream = s;
    fmt_partition(q->name, sizeof q->name, p->hour);
    /* the directory of the hour (templates with {field} values have many:
     * the notification names the template's fixed root then) */
    if (st->tpl.by_field || sl_template_expand(st, NULL, p->hour, q->dir, sizeof q->dir) < 0)
        snprintf(q->dir, sizeof q->dir, "%s", st->tpl.root ? st->tpl.root : ".");
    snprintf(q->id, sizeof q->id, "%s/%s/%s/v%" PRId64, rt->cfg->pipeline, cs->name, q->name,
             p->version);
    q->ev = (sl_notify_event){q->id,
                              rt->cfg->pipeline,
                              cs->name,
                              q->name,
                              q->dir,
                              p->version,
                              p->rows,
                              p->files,
                              p->bytes,
                              p->hour,
                              m->watermark - cs->wm.max_out_of_orderness_ms,
                              NULL};
    q->au = (sl_notify_audit){p->read, p->filtered, p->dead, p->late, p->rows};
    if (rt->cfg->audit.enabled) q->ev.audit = &q->au;
}

/* Steps 1 and 2 of one partition: compaction, then _SUCCESS. */
static sl_err_t compact_and_mark(sl_rt *rt, sl_manifest *m, pend *q, sl_error *err)
{
    sl_mf_part *p = &m->parts[q->part];
    const sl_stream *st = &rt->pl->streams[q->stream];
    const sl_cfg_stream *cs = st->cfg;
    sl_err_t rc;
    int own_dir = !st->tpl.by_field && st->tpl.has_hour; /* the hour is one directory */
    if (own_dir && st->out_files >= 0) {
        int64_t files = 0, bytes = 0;
        if ((rc = sl_compact_partition(rt, st, q->dir, p->version, cs->commit.compaction_target,
                                       &files, &bytes, err)))
            return sl_error_prefix(err, "stream %s, partition %s", cs->name, q->name);
        p->files = q->ev.files = files;
        p->bytes = q->ev.bytes = bytes;
    }
    if (cs->commit.success_file && own_dir && (rc = write_success(rt, q->dir, &q->ev, err)))
        return sl_error_prefix(err, "stream %s, partition %s: _SUCCESS", cs->name, q->name);
    sl_fault_point("commit.success_written");
    q->done = 1;
    return SL_OK;
}

#define COMMIT_THREADS 8

typedef struct crun {
    sl_rt *rt;
    sl_manifest *m;
    pend *q;
    int32_t n;
    atomic_int next;
    pthread_mutex_t mu;
    sl_err_t rc;
    sl_error err;
} crun;

static void *crun_main(void *arg)
{
    crun *c = arg;
    int k;
    sl_error e;
    while ((k = atomic_fetch_add(&c->next, 1)) < c->n) {
        pthread_mutex_lock(&c->mu);
        int stop = c->rc != SL_OK;
        pthread_mutex_unlock(&c->mu);
        if (stop) break;
        sl_err_t rc = compact_and_mark(c->rt, c->m, &c->q[k], &e);
        if (rc) {
            pthread_mutex_lock(&c->mu);
            if (!c->rc) {
                c->rc = rc;
                c->err = e;
            }
            pthread_mutex_unlock(&c->mu);
        }
    }
    return NULL;
}

/* The audit lines of m (see the top of this file): appended, fsynced, then
 * the marks cleared and the deltas dropped from m (the manifest on disk
 * keeps them, so a crash before the next manifest writes them again). On
 * error nothing is cleared. */
static sl_err_t audit_log(sl_rt *rt, sl_manifest *m, sl_error *err)
{
    sl_buf b = SL_BUF_INIT;
    sl_err_t rc = SL_OK;
    char name[64], id[512];
    for (int32_t i = 0; rt->cfg->audit.enabled && !rc && i < m->n_parts; i++) {
        const sl_mf_part *p = &m->parts[i];
        if ((!p->pending && !p->audit_pending) || stream_index(rt, p->stream) < 0) continue;
        fmt_partition(name, sizeof name, p->hour);
        snprintf(id, sizeof id, "%s/%s/%s/v%" PRId64, rt->cfg->pipeline, p->stream, name,
                 p->version);
        sl_audit_line l = {p->pending ? "commit" : "update",
                           id,
                           rt->cfg->pipeline,
                           p->stream,
                           name,
                           p->hour,
                           p->version,
                           p->read,
                           p->filtered,
                           p->dead,
                           p->late,
                           p->rows,
                           p->files,
                           p->bytes,
                           m->checkpoint};
        rc = sl_audit_line_json(&l, &b);
    }
    for (int32_t i = 0; rt->cfg->audit.enabled && !rc && i < m->n_deltas; i++) {
        const sl_mf_delta *d = &m->deltas[i];
        fmt_partition(name, sizeof name, d->hour);
        snprintf(id, sizeof id, "%s/%s/%s/c%" PRIu64, rt->cfg->pipeline,
                 *d->stream ? d->stream : "-", name, m->checkpoint);
        sl_audit_line l = {*d->stream ? "expired" : "pipeline",
                           id,
                           rt->cfg->pipeline,
                           *d->stream ? d->stream : NULL,
                           name,
                           d->hour,
                           -1,
                           d->read,
                           d->filtered,
                           d->dead,
                           d->late,
                           0,
                           0,
                           0,
                           m->checkpoint};
        rc = sl_audit_line_json(&l, &b);
    }
    if (rc == SL_ERR_NOMEM)
        rc = sl_error_set(err, rc, "audit log: out of memory");
    else if (rc) /* an hour outside years 0000-9999: a bug, not data */
        rc = sl_error_set(err, rc, "audit log: a partition's hour cannot be written");
    if (!rc && (rc = sl_audit_log_append(rt->cfg->audit.path, sl_rt_wall_ms(), b.p, b.len, err)))
        err->retriable = 1;
    size_t wrote = b.len;
    sl_buf_free(&b);
    if (rc) return rc;
    if (wrote) sl_fault_point("commit.audit_logged");
    for (int32_t i = 0; i < m->n_parts; i++)
        m->parts[i].audit_pending = 0;
    for (int32_t i = 0; i < m->n_deltas; i++)
        free(m->deltas[i].stream);
    m->n_deltas = 0;
    return SL_OK;
}

/* Compaction and _SUCCESS of every pending partition run on up to
 * COMMIT_THREADS threads (hundreds of streams commit an hour at once);
 * then the notifications go out one partition after another, each after its
 * own _SUCCESS. */
sl_err_t sl_commit_run(sl_rt *rt, sl_manifest *m, sl_error *err)
{
    int32_t n = 0;
    for (int32_t i = 0; i < m->n_parts; i++) {
        sl_mf_part *p = &m->parts[i];
        if (!p->pending) continue;
        if (stream_index(rt, p->stream) < 0) /* a stream removed from the config */
            p->pending = 0;
        else
            n++;
    }
    if (n) {
        crun c = {.rt = rt, .m = m, .n = n};
        c.q = calloc((size_t)n, sizeof *c.q);
        if (!c.q) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        int32_t k = 0;
        for (int32_t i = 0; i < m->n_parts; i++)
            if (m->parts[i].pending)
                pend_init(rt, m, &c.q[k++], i, stream_index(rt, m->parts[i].stream));
        atomic_init(&c.next, 0);
        pthread_mutex_init(&c.mu, NULL);
        pthread_t th[COMMIT_THREADS];
        int started = 0;
        for (int t = 1; t < COMMIT_THREADS && t < n; t++, started++)
            if (pthread_create(&th[t - 1], NULL, crun_main, &c)) break;
        crun_main(&c);
        for (int t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        pthread_mutex_destroy(&c.mu);
        sl_err_t rc = c.rc;
        if (rc) *err = c.err;
        if (!rc) rc = audit_log(rt, m, err);     /* after every _SUCCESS, before notifying */
        for (int32_t j = 0; !rc && j < n; j++) { /* 3. notifications, in order */
            pend *q = &c.q[j];
            if (rt->notify[q->stream]) {
                rc = sl_notifier_send(rt->notify[q->stream], &q->ev, 60000, err);
                sl_obs_notified(rt, q->ev.stream, rc == SL_OK);
                if (rc) sl_error_prefix(err, "stream %s, partition %s", q->ev.stream, q->name);
            }
            if (!rc) {
                sl_fault_point("commit.notified");
                m->parts[q->part].pending = 0;
                sl_obs_committed(rt, q->ev.stream);
            }
        }
        free(c.q);
        if (rc) {
            err->retriable = 1;
            return rc;
        }
    } else {
        sl_err_t rc = audit_log(rt, m, err); /* updates and deltas only */
        if (rc) {
            err->retriable = 1;
            return rc;
        }
    }
    for (int32_t i = 0; i < m->n_streams; i++) {
        int32_t s = stream_index(rt, m->streams[i].stream);
        if (s >= 0) atomic_store(&rt->through[s], m->streams[i].through);
    }
    return SL_OK;
}
