/* replay.c - `sluice dlq replay`: dead letters read back through the
 * running pipeline, exactly once, by the checkpoint protocol itself.
 *
 * A request (written by the command, src/cli/dlq.c) is a file
 * STATE/dlq/requests/ID.req: the dead-letter files to replay (this
 * instance's, published) and optional filters (a stream, a text the reason
 * contains). The coordinator picks one request at a time (the oldest; one
 * a manifest says is under way first) and hands it to worker 0 as a job.
 * Between Kafka batches the worker reads up to SL_REPLAY_ROWS rows of it
 * and sends each matching dead letter through the same path as a Kafka
 * record (record.c) - its stream, or the routes when it had none; a whole
 * value through the batch framing - with its original topic, partition,
 * offset, Kafka timestamp and key, so metadata columns show where the
 * record first came from. A record that fails again is dead-lettered again
 * (into a new file), counted.
 *
 * Exactly once: the job's position (file index, row) and its counts are
 * snapshotted at every barrier with the worker's files and written into the
 * checkpoint's manifest ("replay" lines). A crash resumes the job at the
 * manifest's position; what was read after it is read again, and its files
 * never published. When a barrier finds every row read, the manifest marks
 * the job done; after that checkpoint is published the coordinator
 * finishes it: the replayed files move to DLROOT/_replayed/ID/ (same
 * relative path, so `sluice audit` still finds an hour's dead letters),
 * STATE/dlq/done/ID.json gets the summary, and the request is removed.
 * Finishing is idempotent and redone at recovery from the manifest, so
 * each dead letter is replayed once, and a second request cannot select a
 * file already replayed (it has moved).
 *
 * Replayed records are new input: they are counted (audit, metrics) in
 * their event hour like any record, and follow the stream's commit.late
 * when that hour is committed (the command refuses to replay into a
 * committed hour of a stream that drops late records, unless forced).
 * They move no watermark: the job has a partition of its own that is no
 * input partition.
 *
 * A dead-letter topic (dead_letter kind kafka) is replayed the same way:
 * its "files" are offset ranges "kafka:TOPIC/P/FROM-TO" (engine/dl_kafka.h),
 * a row is a message of the range. Its messages stay, so finishing keeps
 * the request as STATE/dlq/replayed/ID.req instead of moving files, and a
 * dead letter an earlier replay selected is skipped (sl_replay_prior_has;
 * `sluice dlq` leaves them out too).
 *
 * Memory: one row group of one dead-letter file. The worker's share of
 * time: SL_REPLAY_ROWS rows per loop turn, so its Kafka partitions keep
 * flowing.
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
#include "core/log.h"
#include "core/ostream.h"
#include "engine/deadletter.h"
#include "engine/dl_kafka.h"
#include "engine/replay.h"
#include "engine/rt_int.h"

#define SL_REPLAY_ROWS    512
#define SL_REPLAY_POLL_MS 1000

struct sl_replay_job {
    char id[256];
    char **files;
    int32_t n_files;
    char *stream, *reason;      /* filters, NULL: any */
    int64_t hour_from, hour_to; /* the dead letters' hours, inclusive */
    sl_dl_prior *prior;         /* Kafka ranges: what earlier replays took (skipped) */
    int64_t rate;               /* dead letters replayed per second at most, 0: no bound */
    int64_t t0, base;           /* when the worker began, and what was replayed before */
    /* the worker's, between barriers */
    int32_t file;
    int64_t row;
    int done;
    int64_t n[SL_RP_N];
    sl_dl_reader *rd;
    sl_part part; /* no input partition: replayed records move no watermark */
    /* at the last barrier (the coordinator reads them for the manifest) */
    int32_t snap_file;
    int64_t snap_row;
    int snap_done;
    int64_t snap_n[SL_RP_N];
    atomic_int finished; /* the coordinator finished it: the worker frees it */
};

void sl_replay_free(sl_replay_job *j)
{
    if (!j) return;
    sl_replay_prior_free(j->prior);
    sl_dl_close(j->rd);
    for (int32_t i = 0; i < j->n_files; i++)
        free(j->files[i]);
    free(j->files);
    free(j->stream);
    free(j->reason);
    free(j);
}

/* ---- requests ---- */

void sl_replay_paths(const char *state_dir, const char *id, char *req, char *done, size_t cap)
{
    snprintf(req, cap, "%s/dlq/requests/%s.req", state_dir, id);
    snprintf(done, cap, "%s/dlq/done/%s.json", state_dir, id);
}

/* Load request `id` (the file's lines: "id ID", "stream S", "reason TEXT",
 * "file PATH", ..., "end N"). NULL with err when it cannot be read. */
static sl_replay_job *load_file(const char *req, const char *id, sl_error *err)
{
    FILE *f = fopen(req, "r");
    if (!f) {
        sl_error_errno(err, errno, "dead-letter replay %s: cannot read %s", id, req);
        return NULL;
    }
    sl_replay_job *j = calloc(1, sizeof *j);
    if (j) {
        j->hour_from = INT64_MIN;
        j->hour_to = INT64_MAX;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0, ended = 0, bad = !j;
    while (!bad && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n') line[--n] = '\0';
        lines++;
        char *v = strchr(line, ' ');
        if (!v) {
            bad = 1;
            break;
        }
        *v++ = '\0';
        if (!strcmp(line, "sluice-dlq-request") || !strcmp(line, "id"))
            continue;
        else if (!strcmp(line, "stream"))
            bad = !(j->stream = strdup(v));
        else if (!strcmp(line, "reason"))
            bad = !(j->reason = strdup(v));
        else if (!strcmp(line, "rate"))
            bad = (j->rate = strtoll(v, NULL, 10)) <= 0;
        else if (!strcmp(line, "from_hour"))
            j->hour_from = strtoll(v, NULL, 10);
        else if (!strcmp(line, "to_hour"))
            j->hour_to = strtoll(v, NULL, 10);
        else if (!strcmp(line, "file")) {
            char **nf = realloc(j->files, (size_t)(j->n_files + 1) * sizeof *nf);
            if (!nf || !(nf[j->n_files] = strdup(v))) {
                if (nf) j->files = nf;
                bad = 1;
            } else {
                j->files = nf;
                j->n_files++;
            }
        } else if (!strcmp(line, "end"))
            ended = atoi(v) == lines - 1;
        else
            bad = 1;
    }
    free(line);
    fclose(f);
    if (bad || !ended) {
        sl_error_set(err, SL_ERR_CORRUPT,
                     "dead-letter replay %s: %s is damaged (%s); remove it and ask again", id, req,
                     bad ? "an unknown line" : "no end line");
        sl_replay_free(j);
        return NULL;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    return j;
}

static sl_replay_job *load(const char *state_dir, const char *id, sl_error *err)
{
    char req[4200], done[4200];
    sl_replay_paths(state_dir, id, req, done, sizeof req);
    return load_file(req, id, err);
}

static int job_matches(const sl_replay_job *j, const sl_dl_rec *d)
{
    if (j->stream && (!d->stream || strcmp(d->stream, j->stream))) return 0;
    if (j->reason && !strstr(d->reason, j->reason)) return 0;
    return d->hour_ms >= j->hour_from && d->hour_ms <= j->hour_to;
}

static int kafka_job(const sl_replay_job *j)
{
    return j->n_files > 0 && !strncmp(j->files[0], "kafka:", 6);
}

/* ---- what earlier replays of a dead-letter topic took ----
 * Files that were replayed move aside; a topic's messages stay. So a
 * finished replay of a topic keeps its request as STATE/dlq/replayed/ID.req
 * (its ranges and filters), and a dead letter any of those selects was
 * replayed: `sluice dlq` and later replays leave it out. */

struct sl_dl_prior {
    sl_replay_job **j;
    int32_t n;
};

static void prior_path(const char *state_dir, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/dlq/replayed%s%s%s", state_dir, id ? "/" : "", id ? id : "",
             id ? ".req" : "");
}

void sl_replay_prior_free(sl_dl_prior *p)
{
    if (!p) return;
    for (int32_t i = 0; i < p->n; i++)
        sl_replay_free(p->j[i]);
    free(p->j);
    free(p);
}

sl_err_t sl_replay_prior_load(const char *state_dir, sl_dl_prior **out, sl_error *err)
{
    char dir[4200], path[4600];
    *out = calloc(1, sizeof **out);
    if (!*out) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    prior_path(state_dir, NULL, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return SL_OK; /* none yet */
    struct dirent *de;
    sl_err_t rc = SL_OK;
    while (!rc && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || de->d_name[0] == '.' || strcmp(de->d_name + n - 4, ".req")) continue;
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)(n - 4), de->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        sl_replay_job *j = load_file(path, id, err);
        sl_replay_job **nj = j ? realloc((*out)->j, (size_t)((*out)->n + 1) * sizeof *nj) : NULL;
        if (!j)
            rc = err->code;
        else if (!nj) {
            sl_replay_free(j);
            rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        } else {
            (*out)->j = nj;
            nj[(*out)->n++] = j;
        }
    }
    closedir(d);
    if (rc) {
        sl_replay_prior_free(*out);
        *out = NULL;
    }
    return rc;
}

int sl_replay_prior_has(const sl_dl_prior *p, const char *range, int64_t offset, const sl_dl_rec *d)
{
    char topic[1024], t2[1024];
    int32_t part, p2;
    int64_t from, to;
    if (!p || sl_dlk_parse(range, topic, sizeof topic, &part, &from, &to)) return 0;
    for (int32_t i = 0; i < p->n; i++) {
        if (!job_matches(p->j[i], d)) continue;
        for (int32_t k = 0; k < p->j[i]->n_files; k++)
            if (!sl_dlk_parse(p->j[i]->files[k], t2, sizeof t2, &p2, &from, &to) && p2 == part &&
                offset >= from && offset < to && !strcmp(t2, topic))
                return 1;
    }
    return 0;
}

/* A finished replay of a topic: its request kept as the record of what it
 * took (idempotent: finishing is redone at recovery). */
static sl_err_t keep_selection(const sl_rt *rt, const char *id, const char *req, sl_error *err)
{
    char dir[4200], to[4600];
    prior_path(rt->cfg->state_dir, NULL, dir, sizeof dir);
    prior_path(rt->cfg->state_dir, id, to, sizeof to);
    sl_err_t rc = sl_mkdirs(dir, err);
    FILE *f = rc ? NULL : fopen(req, "r");
    if (!rc && !f) return sl_error_errno(err, errno, "cannot read %s", req);
    if (rc) return rc;
    sl_buf b = SL_BUF_INIT;
    char chunk[4096];
    size_t n;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (sl_buf_append(&b, chunk, n)) rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    fclose(f);
    sl_atomic_file af;
    if (!rc && !(rc = sl_atomic_open(&af, to, err))) {
        if ((rc = sl_ostream_write(af.os, b.p, b.len, err)))
            sl_atomic_abort(&af);
        else
            rc = sl_atomic_commit(&af, err);
    }
    sl_buf_free(&b);
    return rc;
}

/* The next request to run: one the manifest says is under way, else the
 * oldest (ids sort by time) without a done marker. 0 when there is none. */
static int next_request(const sl_rt *rt, char *id, size_t cap)
{
    char dir[4200], req[4200], done[4200];
    for (int32_t i = 0; i < rt->mf.n_replays; i++) {
        sl_replay_paths(rt->cfg->state_dir, rt->mf.replays[i].id, req, done, sizeof req);
        if (!rt->mf.replays[i].done && access(req, F_OK) == 0) {
            snprintf(id, cap, "%s", rt->mf.replays[i].id);
            return 1;
        }
    }
    snprintf(dir, sizeof dir, "%s/dlq/requests", rt->cfg->state_dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    id[0] = '\0';
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || n - 4 >= cap || strcmp(de->d_name + n - 4, ".req") || de->d_name[0] == '.')
            continue;
        char cand[256];
        snprintf(cand, sizeof cand, "%.*s", (int)(n - 4), de->d_name);
        sl_replay_paths(rt->cfg->state_dir, cand, req, done, sizeof req);
        if (access(done, F_OK) == 0) continue;
        int in_mf_done = 0;
        for (int32_t i = 0; i < rt->mf.n_replays; i++)
            in_mf_done |= rt->mf.replays[i].done && !strcmp(rt->mf.replays[i].id, cand);
        if (in_mf_done) continue; /* read to its end: being finished */
        if (!id[0] || strcmp(cand, id) < 0) snprintf(id, cap, "%s", cand);
    }
    closedir(d);
    return id[0] != '\0';
}

/* ---- the coordinator ---- */

void sl_replay_tick(sl_rt *rt, int64_t now_ms)
{
    if (!rt->nw || now_ms - rt->replay_poll_ms < SL_REPLAY_POLL_MS) return;
    rt->replay_poll_ms = now_ms;
    if (rt->replay) { /* under way; an operator may withdraw it by removing its request */
        char req[4200], done[4200];
        sl_replay_paths(rt->cfg->state_dir, rt->replay->id, req, done, sizeof req);
        if (access(req, F_OK) == 0 || access(done, F_OK) == 0) return;
        SL_LOG(SL_LOG_WARN,
               "dead-letter replay withdrawn (its request file was removed): it stops; what it "
               "replayed stays, its files stay where they are",
               SL_F_STR("id", rt->replay->id));
        atomic_store(&rt->replay->finished, 1); /* its worker frees it */
        rt->replay = NULL;
        return;
    }
    char id[256];
    if (!next_request(rt, id, sizeof id)) return;
    pthread_mutex_lock(&rt->mu);
    int busy = rt->w[0].rj != NULL; /* the last job not freed by the worker yet */
    pthread_mutex_unlock(&rt->mu);
    if (busy) return;
    sl_error e;
    sl_replay_job *j = load(rt->cfg->state_dir, id, &e);
    if (!j) {
        SL_LOG(SL_LOG_ERROR, "dead-letter replay request cannot be read", SL_F_STR("id", id),
               SL_F_STR("error", e.msg));
        return;
    }
    if (kafka_job(j) && sl_replay_prior_load(rt->cfg->state_dir, &j->prior, &e)) {
        SL_LOG(SL_LOG_ERROR, "dead-letter replay: what earlier replays took cannot be read",
               SL_F_STR("id", id), SL_F_STR("error", e.msg));
        sl_replay_free(j);
        return;
    }
    for (int32_t i = 0; i < rt->mf.n_replays; i++) /* resume where the manifest says */
        if (!strcmp(rt->mf.replays[i].id, id)) {
            const sl_mf_replay *m = &rt->mf.replays[i];
            j->file = j->snap_file = m->file;
            j->row = j->snap_row = m->row;
            memcpy(j->n, m->n, sizeof j->n);
            memcpy(j->snap_n, m->n, sizeof j->n);
        }
    j->part.max_et = j->part.snap_max_et = INT64_MIN;
    SL_LOG(SL_LOG_INFO, "dead-letter replay started", SL_F_STR("id", id),
           SL_F_INT("files", j->n_files), SL_F_INT("from_file", j->file),
           SL_F_INT("from_row", j->row));
    pthread_mutex_lock(&rt->mu);
    rt->w[0].rj = j;
    pthread_mutex_unlock(&rt->mu);
    rt->replay = j;
}

int sl_replay_pending(const sl_rt *rt)
{
    char id[256];
    return rt->replay != NULL || next_request(rt, id, sizeof id);
}

/* Into manifest m: the job's state at the barrier, and every replay of the
 * last manifest not under way and not finished, as it was: one read to its
 * end whose finish failed (redone), or one not picked up again yet after a
 * restart (its position must not be lost, or it would start over). */
sl_err_t sl_replay_manifest(sl_rt *rt, sl_manifest *m, sl_error *err)
{
    for (int32_t i = 0; i < rt->mf.n_replays; i++) {
        const sl_mf_replay *o = &rt->mf.replays[i];
        if (rt->replay && !strcmp(o->id, rt->replay->id)) continue;
        char req[4200], done[4200];
        sl_replay_paths(rt->cfg->state_dir, o->id, req, done, sizeof req);
        if (access(req, F_OK) != 0) continue; /* finished (or the request withdrawn) */
        sl_mf_replay *r = sl_manifest_replay(m, o->id);
        if (!r) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        *r = (sl_mf_replay){r->id, o->file, o->row, o->done, {0}};
        memcpy(r->n, o->n, sizeof r->n);
    }
    sl_replay_job *j = rt->replay;
    if (!j) return SL_OK;
    sl_mf_replay *r = sl_manifest_replay(m, j->id);
    if (!r) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    r->file = j->snap_file;
    r->row = j->snap_row;
    r->done = j->snap_done;
    memcpy(r->n, j->snap_n, sizeof r->n);
    return SL_OK;
}

/* Move one replayed file under ROOT/_replayed/ID/, keeping its path below
 * ROOT. Idempotent: a file already moved is fine. */
static sl_err_t move_aside(sl_rt *rt, const char *id, const char *path, sl_error *err)
{
    const char *root = rt->cfg->dead_letter.path;
    size_t rl = strlen(root);
    const char *rel = !strncmp(path, root, rl) && path[rl] == '/' ? path + rl + 1 : NULL;
    if (!rel) {
        const char *b = strrchr(path, '/');
        rel = b ? b + 1 : path;
    }
    char to[8400], dir[8400];
    snprintf(to, sizeof to, "%s/_replayed/%s/%s", root, id, rel);
    snprintf(dir, sizeof dir, "%s", to);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = '\0';
    sl_err_t rc = sl_mkdirs(dir, err);
    if (rc) return rc;
    if (access(path, F_OK) != 0 && access(to, F_OK) == 0) return SL_OK; /* moved already */
    if (access(path, F_OK) != 0) {
        SL_LOG(SL_LOG_WARN, "dead-letter replay: a replayed file is gone", SL_F_STR("id", id),
               SL_F_STR("file", path));
        return SL_OK;
    }
    return rt->st->vt->publish(rt->st, path, to, err);
}

static sl_err_t write_done(sl_rt *rt, const sl_mf_replay *r, int32_t n_files, const char *path,
                           sl_error *err)
{
    char text[1024];
    int n =
        snprintf(text, sizeof text,
                 "{\"id\":\"%s\",\"pipeline\":\"%s\",\"finished_ms\":%" PRId64
                 ",\"files\":%d,\"rows\":%" PRId64 ",\"replayed\":%" PRId64 ",\"written\":%" PRId64
                 ",\"filtered\":%" PRId64 ",\"dead_lettered\":%" PRId64 ",\"late\":%" PRId64 "}\n",
                 r->id, rt->cfg->pipeline, sl_rt_wall_ms(), (int)n_files, r->n[SL_RP_COUNT_ROWS],
                 r->n[SL_RP_REPLAYED], r->n[SL_RP_WRITTEN], r->n[SL_RP_FILTERED], r->n[SL_RP_DEAD],
                 r->n[SL_RP_LATE]);
    sl_atomic_file af;
    sl_err_t rc = sl_atomic_open(&af, path, err);
    if (rc) return rc;
    if ((rc = sl_ostream_write(af.os, text, (size_t)n, err))) {
        sl_atomic_abort(&af);
        return rc;
    }
    return sl_atomic_commit(&af, err);
}

/* Finish the done replays of rt->mf (after its files were published, and
 * at recovery): files aside, the summary, the request removed. */
sl_err_t sl_replay_finish(sl_rt *rt, sl_error *err)
{
    for (int32_t i = 0; i < rt->mf.n_replays; i++) {
        const sl_mf_replay *r = &rt->mf.replays[i];
        if (!r->done) continue;
        char req[4200], done[4200], dir[4200];
        sl_replay_paths(rt->cfg->state_dir, r->id, req, done, sizeof req);
        if (access(req, F_OK) != 0) continue; /* finished before */
        sl_replay_job *j = load(rt->cfg->state_dir, r->id, err);
        if (!j) return err->code;
        sl_err_t rc = SL_OK;
        for (int32_t k = 0; !rc && k < j->n_files; k++)
            if (strncmp(j->files[k], "kafka:", 6)) rc = move_aside(rt, r->id, j->files[k], err);
        if (!rc && kafka_job(j)) rc = keep_selection(rt, r->id, req, err);
        sl_fault_point("replay.moved");
        snprintf(dir, sizeof dir, "%s/dlq/done", rt->cfg->state_dir);
        if (!rc) rc = sl_mkdirs(dir, err);
        if (!rc) rc = write_done(rt, r, j->n_files, done, err);
        if (!rc && unlink(req) != 0 && errno != ENOENT)
            rc = sl_error_errno(err, errno, "cannot remove %s", req);
        if (!rc)
            SL_LOG(SL_LOG_INFO, "dead-letter replay finished", SL_F_STR("id", r->id),
                   SL_F_INT("files", j->n_files), SL_F_INT("rows", r->n[SL_RP_COUNT_ROWS]),
                   SL_F_INT("replayed", r->n[SL_RP_REPLAYED]),
                   SL_F_INT("written", r->n[SL_RP_WRITTEN]),
                   SL_F_INT("filtered", r->n[SL_RP_FILTERED]),
                   SL_F_INT("dead_lettered", r->n[SL_RP_DEAD]), SL_F_INT("late", r->n[SL_RP_LATE]));
        sl_replay_free(j);
        if (rc) return sl_error_prefix(err, "finishing dead-letter replay %s", r->id);
        if (rt->replay && !strcmp(rt->replay->id, r->id)) { /* the worker frees it */
            atomic_store(&rt->replay->finished, 1);
            rt->replay = NULL;
        }
    }
    return SL_OK;
}

/* ---- the worker ---- */

int sl_replay_idle(sl_replay_job *j)
{
    return j->done;
}

/* Rows the job may replay now under its rate (SL_REPLAY_ROWS at most). */
static int64_t allowed(sl_replay_job *j)
{
    if (!j->rate) return SL_REPLAY_ROWS;
    int64_t now = sl_rt_mono_ms();
    if (!j->t0) {
        j->t0 = now;
        j->base = j->n[SL_RP_REPLAYED];
    }
    int64_t a = j->rate * (now - j->t0) / 1000 + 1 - (j->n[SL_RP_REPLAYED] - j->base);
    return a < 0 ? 0 : a > SL_REPLAY_ROWS ? SL_REPLAY_ROWS : a;
}

int sl_replay_busy(sl_replay_job *j)
{
    return !j->done && allowed(j) > 0;
}

int sl_replay_finished(sl_replay_job *j)
{
    return atomic_load(&j->finished);
}

void sl_replay_snap(sl_replay_job *j)
{
    j->snap_file = j->file;
    j->snap_row = j->row;
    j->snap_done = j->done;
    memcpy(j->snap_n, j->n, sizeof j->n);
}

static void outcomes(const sl_worker *w, int64_t v[4])
{
    memset(v, 0, 4 * sizeof v[0]);
    for (int32_t s = 0; s <= w->ps.pl->n_streams; s++) {
        const sl_sctr *c = &w->ps.sc[s];
        v[0] += atomic_load_explicit(&c->out, memory_order_relaxed);
        v[1] += atomic_load_explicit(&c->filtered, memory_order_relaxed);
        v[2] += atomic_load_explicit(&c->dead, memory_order_relaxed);
        v[3] += atomic_load_explicit(&c->late, memory_order_relaxed);
    }
}

static int32_t stream_of(const sl_pipeline *pl, const char *name)
{
    for (int32_t i = 0; name && i < pl->n_streams; i++)
        if (!strcmp(pl->cfg->streams[i].name, name)) return i;
    return -1;
}

static const char *no_header(void *arg, const char *name, size_t *len)
{
    (void)arg, (void)name, (void)len;
    return NULL;
}

/* One dead letter through the pipeline. */
static sl_err_t replay_one(sl_worker *w, sl_replay_job *j, const sl_dl_rec *d, sl_error *err)
{
    const sl_pipeline *pl = w->rt->pl;
    sl_msgctx m = {d->topic, d->partition, d->offset, d->kafka_ts, sl_rt_wall_ms(), 0,
                   0,        d->key,       d->klen,   &j->part};
    int32_t s = stream_of(pl, d->stream); /* a removed stream: routed again */
    if (s < 0) s = sl_pipeline_route_meta(pl, d->topic, no_header, NULL);
    int64_t before[4], after[4];
    outcomes(w, before);
    sl_err_t rc;
    if (d->whole_value || (s < 0 && pl->n_groups == 0))
        rc = sl_record_value(w, s, d->raw, d->len, &m, err);
    else {
        m.record = (size_t)d->record;
        rc = sl_record(w, s, d->raw, d->len, &m, err);
    }
    if (rc) return rc;
    outcomes(w, after);
    for (int k = 0; k < 4; k++)
        j->n[SL_RP_WRITTEN + k] += after[k] - before[k];
    return SL_OK;
}

sl_err_t sl_replay_step(sl_worker *w, sl_replay_job *j, sl_error *err)
{
    sl_error e;
    for (int64_t budget = allowed(j); budget > 0 && !j->done;) {
        if (!j->rd) {
            if (j->file >= j->n_files) {
                j->done = 1;
                break;
            }
            if (sl_dl_open_cfg(&j->rd, j->files[j->file], w->rt->cfg, &e) ||
                sl_dl_skip(j->rd, j->row, &e)) {
                SL_LOG(SL_LOG_ERROR, "dead-letter replay: a file cannot be read; skipped",
                       SL_F_STR("id", j->id), SL_F_STR("file", j->files[j->file]),
                       SL_F_STR("error", e.msg));
                sl_dl_close(j->rd);
                j->rd = NULL;
                j->file++;
                j->row = 0;
                continue;
            }
        }
        sl_dl_rec d;
        int k = sl_dl_next(j->rd, &d, &e);
        if (k == SL_DL_AGAIN) break; /* a topic's range not read to its end yet: next turn */
        if (k <= 0) {                /* the end of the file, or a damaged rest */
            if (k < 0)
                SL_LOG(SL_LOG_ERROR, "dead-letter replay: the rest of a file cannot be read",
                       SL_F_STR("id", j->id), SL_F_STR("file", j->files[j->file]),
                       SL_F_INT("row", j->row), SL_F_STR("error", e.msg));
            sl_dl_close(j->rd);
            j->rd = NULL;
            j->file++;
            j->row = 0;
            continue;
        }
        j->row++;
        j->n[SL_RP_COUNT_ROWS]++;
        if (strcmp(d.pipeline, w->rt->cfg->pipeline)) continue;          /* another pipeline's */
        if (d.instance && strcmp(d.instance, w->rt->instance)) continue; /* another instance's */
        if (!job_matches(j, &d)) continue;
        if (j->prior && sl_replay_prior_has(j->prior, j->files[j->file], sl_dl_offset(j->rd), &d))
            continue; /* an earlier replay of the topic took it */
        j->n[SL_RP_REPLAYED]++;
        budget--;
        sl_fault_point("replay.record");
        sl_err_t rc = replay_one(w, j, &d, err);
        if (rc) return rc;
    }
    return SL_OK;
}
