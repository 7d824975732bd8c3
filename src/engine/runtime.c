/* runtime.c - the coordinator: Kafka consumer group, checkpoints, commit,
 * recovery, retries (DESIGN.md, "Exactly once: the checkpoint protocol").
 *
 * Checkpoint C, every checkpoint.interval:
 *   1. barrier: each worker, between two messages, hands its open files to
 *      the close pool and snapshots its positions (next offset per
 *      partition). Workers go on at once with new files.
 *   2. the pool finishes the files of C (footer, fsync); the coordinator
 *      waits for them, then writes manifest C atomically: positions (all
 *      partitions ever seen, carried forward) and hidden -> final names.
 *      This rename of the manifest is the commit point.
 *   3. publish: every hidden file is renamed to its final name, the touched
 *      directories fsynced; then the positions are committed to Kafka's
 *      consumer group (for lag monitoring only: sluice never reads them).
 *
 * Recovery, at every start and after every retriable failure:
 *   - load the newest manifest; publish its files again (idempotent: a file
 *     already renamed is skipped; a file in neither place is lost data and
 *     stops the pipeline with an error rather than going on silently);
 *   - delete this pipeline's hidden files that no manifest references
 *     (zombies of a crashed attempt), found by walking each stream's output
 *     root and the dead-letter directory for ".sluice+PIPELINE+*.inprogress";
 *   - assign partitions at the manifest's positions (or source.start when
 *     a partition has none).
 * A crash anywhere therefore either loses a checkpoint that never committed
 * (its input is read again) or finds it committed (and finishes it): every
 * record lands exactly once.
 *
 * Rebalances: on revocation the revoked partitions stop being processed,
 * a checkpoint is taken, and only then are they released. On assignment
 * each partition's queue is forwarded to a worker (round robin) and the
 * consumer is assigned at the manifest positions.
 *
 * Failures: an I/O error of the lake (full, read-only), a failed close or
 * publish, stops the attempt: workers stop, in-progress files are left to
 * the zombie sweep, and the attempt is started again from the last
 * manifest after a backoff (1 s doubling to 30 s). Nothing is lost: the
 * input is read again from the checkpointed positions. Configuration errors
 * and lost data are fatal.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/log.h"
#include "engine/obs.h"
#include "engine/rt_int.h"
#include "engine/state.h"
#include "plugins/kafka/kconf.h"

int64_t sl_rt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_rt_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- checkpoints ---- */

static int workers_failed(sl_rt *rt)
{
    for (int32_t i = 0; i < rt->nw; i++)
        if (atomic_load(&rt->w[i].failed)) return 1;
    return 0;
}

static sl_err_t fail_from_workers(sl_rt *rt, sl_error *err)
{
    for (int32_t i = 0; i < rt->nw; i++)
        if (rt->w[i].errmsg) {
            sl_error_set(err, SL_ERR_IO, "worker %d: %s", (int)i, rt->w[i].errmsg);
            err->retriable = 1;
            return SL_ERR_IO;
        }
    return sl_error_set(err, SL_ERR_IO, "a worker failed");
}

static void commit_offsets(sl_rt *rt, int sync)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(rt->mf.n_pos + 1);
    int n = 0;
    pthread_mutex_lock(&rt->mu);
    for (int32_t w = 0; w < rt->nw; w++)
        for (int32_t i = 0; i < rt->w[w].n_parts; i++) {
            sl_part *p = rt->w[w].parts[i];
            int64_t pos = sl_manifest_pos(&rt->mf, p->topic, p->partition);
            if (!p->owned || pos < 0) continue;
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = pos;
            n++;
        }
    pthread_mutex_unlock(&rt->mu);
    if (n) {
        rd_kafka_resp_err_t e = rd_kafka_commit(rt->rk, l, !sync);
        if (e && sync)
            SL_LOG(SL_LOG_WARN,
                   "committing offsets to the group before releasing partitions failed",
                   SL_F_STR("error", rd_kafka_err2str(e)));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Take checkpoint C = last + 1 (see the top of this file). */
static sl_err_t checkpoint_take(sl_rt *rt, sl_error *err)
{
    int64_t t0 = sl_rt_mono_ms();
    uint64_t c = rt->mf.checkpoint + 1;
    sl_manifest m = {0};
    sl_err_t rc = SL_OK;
    pthread_mutex_lock(&rt->mu);
    if (rt->reload) rt->hold = c; /* workers park after the barrier (reload.c) */
    atomic_store(&rt->ckpt_req_a, c);
    for (int32_t i = 0; i < rt->nw; i++)
        rd_kafka_queue_yield(rt->w[i].q);
    for (;;) {
        int all = 1;
        for (int32_t i = 0; i < rt->nw; i++) /* and no drop to come (retry.c) */
            if (rt->w[i].done_ckpt < c || atomic_load(&rt->w[i].req_pending)) all = 0;
        if (all && rt->pending_c[c & 1] == 0) break;
        if (workers_failed(rt)) break;
        pthread_cond_wait(&rt->cv, &rt->mu);
    }
    if (workers_failed(rt)) {
        pthread_mutex_unlock(&rt->mu);
        return fail_from_workers(rt, err);
    }
    int64_t pause_us = 0;
    for (int32_t i = 0; i < rt->nw; i++)
        if (rt->w[i].pause_us > pause_us) pause_us = rt->w[i].pause_us;
    /* the manifest: carried positions, worker snapshots, closed files of C */
    m.checkpoint = c;
    m.time_ms = sl_rt_wall_ms();
    for (int32_t i = 0; !rc && i < rt->mf.n_pos; i++)
        if (!(rc = sl_manifest_set_pos(&m, rt->mf.pos[i].topic, rt->mf.pos[i].partition,
                                       rt->mf.pos[i].offset)))
            sl_manifest_set_et(&m, rt->mf.pos[i].topic, rt->mf.pos[i].partition,
                               rt->mf.pos[i].max_et);
    for (int32_t w = 0; !rc && w < rt->nw; w++)
        for (int32_t i = 0; !rc && i < rt->w[w].n_parts; i++) {
            const sl_part *p = rt->w[w].parts[i];
            if (p->snap >= 0 && !(rc = sl_manifest_set_pos(&m, p->topic, p->partition, p->snap)) &&
                p->snap_max_et != INT64_MIN)
                sl_manifest_set_et(&m, p->topic, p->partition, p->snap_max_et);
        }
    if (!rc) rc = sl_replay_manifest(rt, &m, err); /* a dead-letter replay's position */
    sl_bucket **pp = &rt->done, *mine = NULL;
    while (*pp) {
        sl_bucket *b = *pp;
        if (b->ckpt <= c) {
            *pp = b->qnext;
            b->qnext = mine;
            mine = b;
        } else
            pp = &b->qnext;
    }
    pthread_mutex_unlock(&rt->mu);
    int64_t rows = 0;
    for (sl_bucket *b = mine; b; b = b->qnext) {
        if (b->dropped) { /* its rows are read again (retry.c) */
            sl_retry_remove(rt, b);
            continue;
        }
        if (b->rc && !rc) {
            *err = b->err;
            err->retriable = 1;
            rc = b->rc;
        }
        if (!rc && b->final) {
            const char *sname = b->stream >= 0 ? rt->cfg->streams[b->stream].name : "_dead_letter";
            if (sl_manifest_add_file(&m, b->worker, sname, b->rows, b->bytes, b->hidden, b->final))
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            else
                m.files[m.n_files - 1].hour = b->hour;
            rows += b->rows;
        }
    }
    while (mine) {
        sl_bucket *b = mine;
        mine = b->qnext;
        sl_bucket_free(b);
    }
    if (rc) {
        if (rc == SL_ERR_NOMEM) sl_error_set(err, rc, "out of memory");
        goto out;
    }
    if ((rc = sl_commit_plan(rt, &m, sl_rt_wall_ms(), err))) goto out;
    m.txn = rt->kout != NULL;
    int64_t t_closed = sl_rt_mono_ms();
    sl_fault_point("ckpt.before_manifest");
    if ((rc = sl_manifest_write(&m, rt->mf_dir, rt->cfg->pipeline, err))) {
        err->retriable = 1;
        goto out;
    }
    sl_fault_point("ckpt.manifest_written");
    int64_t t_manifest = sl_rt_mono_ms();
    /* committed: from here on recovery finishes C */
    sl_manifest *old = &rt->mf;
    sl_manifest_free(old);
    rt->mf = m;
    memset(&m, 0, sizeof m);
    if ((rc = sl_kx_commit(rt, &rt->mf, err))) goto out;
    if ((rc = sl_rt_publish(rt, &rt->mf, 0, err))) {
        err->retriable = 1;
        goto out;
    }
    sl_fault_point("ckpt.published");
    int64_t t_published = sl_rt_mono_ms();
    if ((rc = sl_kx_begin_next(rt, c + 1, err))) goto out;
    rt->files_published += rt->mf.n_files;
    rt->rows_published += rows;
    SL_LOG(SL_LOG_INFO, "checkpoint committed", SL_F_INT("checkpoint", c),
           SL_F_INT("files", rt->mf.n_files), SL_F_INT("rows", rows),
           SL_F_INT("ms", sl_rt_mono_ms() - t0), SL_F_DBL("pause_ms", (double)pause_us / 1000.0),
           SL_F_INT("close_ms", t_closed - t0), SL_F_INT("manifest_ms", t_manifest - t_closed),
           SL_F_INT("publish_ms", t_published - t_manifest));
    sl_obs_published(rt, &rt->mf, sl_rt_mono_ms() - t0, pause_us);
    sl_manifest_clear_files(&rt->mf);
    /* the checkpoint is complete; now the hours it made ready commit
     * (compaction, _SUCCESS, notifications: commit.c) */
    int npend = 0;
    for (int32_t i = 0; i < rt->mf.n_parts; i++)
        npend += rt->mf.parts[i].pending;
    int64_t t_commit = sl_rt_mono_ms();
    if ((rc = sl_commit_run(rt, &rt->mf, err))) goto out;
    if ((rc = sl_replay_finish(rt, err))) { /* a dead-letter replay read to its end */
        err->retriable = 1;
        goto out;
    }
    if (npend)
        SL_LOG(SL_LOG_INFO, "hour partitions committed", SL_F_INT("checkpoint", c),
               SL_F_INT("partitions", npend), SL_F_INT("ms", sl_rt_mono_ms() - t_commit));
    if (!rt->kout)                          /* with a Kafka output they went with the transaction */
        commit_offsets(rt, rt->final_ckpt); /* the last one waits: the next owner reads them */
out:
    sl_manifest_free(&m);
    return rc;
}

static sl_err_t checkpoint(sl_rt *rt, sl_error *err)
{
    sl_err_t rc = checkpoint_take(rt, err);
    sl_obs_checkpoint(rt, rc);
    return rc;
}

/* ---- rebalances ---- */

/* A partition assigned to worker w: reading from next, its watermark
 * resumed at max_et (from the manifest; INT64_MIN: none yet). */
static sl_err_t part_add(sl_worker *w, const char *topic, int32_t partition, int64_t next,
                         int64_t max_et)
{
    for (int32_t i = 0; i < w->n_parts; i++)
        if (w->parts[i]->partition == partition && !strcmp(w->parts[i]->topic, topic)) {
            w->parts[i]->owned = 1;
            w->parts[i]->eof = 0;
            w->parts[i]->last_ms = w->parts[i]->snap_last_ms =
                sl_rt_wall_ms(); /* idle counts from now */
            w->parts[i]->next = w->parts[i]->snap = w->parts[i]->snap_prev = next;
            w->parts[i]->base = -1;
            return SL_OK;
        }
    if (w->n_parts == w->cap_parts) { /* an array of pointers: a worker's sl_part never moves */
        int32_t nc = w->cap_parts ? w->cap_parts * 2 : 16;
        sl_part **np = realloc(w->parts, (size_t)nc * sizeof *np);
        if (!np) return SL_ERR_NOMEM;
        w->parts = np;
        w->cap_parts = nc;
    }
    sl_part *p = malloc(sizeof *p);
    char *t = strdup(topic);
    if (!p || !t) {
        free(p);
        free(t);
        return SL_ERR_NOMEM;
    }
    *p = (sl_part){.topic = t,
                   .partition = partition,
                   .next = next,
                   .snap = next,
                   .snap_prev = next,
                   .snap_prev_max_et = max_et,
                   .idx = w->n_parts,
                   .base = -1,
                   .owned = 1,
                   .max_et = max_et,
                   .snap_max_et = max_et,
                   .last_ms = sl_rt_wall_ms(),
                   .snap_last_ms = sl_rt_wall_ms()};
    w->parts[w->n_parts++] = p;
    return SL_OK;
}

/* Where an assigned partition starts: this instance's manifest position,
 * unless the group's committed offset is further - then another instance
 * of the pipeline (its own state directory, the same consumer group) has
 * checkpointed it since, and committed before it released the partition. */
static void on_assign(sl_rt *rt, rd_kafka_topic_partition_list_t *l)
{
    static int32_t rr;
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(l);
    if (rd_kafka_committed(rt->rk, q, 10000)) {
        for (int i = 0; i < q->cnt; i++)
            q->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    }
    pthread_mutex_lock(&rt->mu);
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        int64_t pos = sl_manifest_pos(&rt->mf, tp->topic, tp->partition);
        int64_t grp = q->elems[i].err ? -1 : q->elems[i].offset;
        if (grp >= 0 && grp > pos) {
            if (pos >= 0 || rt->mf.checkpoint)
                SL_LOG(SL_LOG_INFO,
                       "partition checkpointed by another instance of this pipeline: starting at "
                       "the group's offset",
                       SL_F_STR("topic", tp->topic), SL_F_INT("partition", tp->partition),
                       SL_F_INT("offset", grp), SL_F_INT("own_position", pos));
            pos = grp;
        }
        tp->offset = pos >= 0                       ? pos
                     : rt->cfg->source.start_latest ? RD_KAFKA_OFFSET_END
                                                    : RD_KAFKA_OFFSET_BEGINNING;
        sl_worker *w = &rt->w[rr++ % rt->nw];
        rd_kafka_queue_t *pq = rd_kafka_queue_get_partition(rt->rk, tp->topic, tp->partition);
        if (pq) {
            rd_kafka_queue_forward(pq, w->q);
            rd_kafka_queue_destroy(pq);
        }
        if (part_add(w, tp->topic, tp->partition, pos,
                     sl_manifest_max_et(&rt->mf, tp->topic, tp->partition)) &&
            !rt->failed) {
            rt->failed = 1;
            sl_error_set(&rt->fail_err, SL_ERR_NOMEM, "out of memory");
        }
    }
    pthread_mutex_unlock(&rt->mu);
    rd_kafka_topic_partition_list_destroy(q);
    rd_kafka_assign(rt->rk, l);
}

static void on_revoke(sl_rt *rt, rd_kafka_topic_partition_list_t *l, int teardown)
{
    pthread_mutex_lock(&rt->mu);
    for (int i = 0; i < l->cnt; i++)
        for (int32_t w = 0; w < rt->nw; w++)
            for (int32_t k = 0; k < rt->w[w].n_parts; k++) {
                sl_part *p = rt->w[w].parts[k];
                if (p->partition == l->elems[i].partition && !strcmp(p->topic, l->elems[i].topic))
                    p->owned = 0;
            }
    pthread_mutex_unlock(&rt->mu);
    if (!teardown && !rt->failed) {
        sl_error e;
        if (checkpoint(rt, &e)) {
            rt->failed = 1;
            rt->fail_err = e;
        } else if (!rt->kout) {
            /* the next owner starts from the group's offsets: commit the
             * revoked partitions' positions before releasing them */
            rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(l->cnt);
            for (int i = 0; i < l->cnt; i++) {
                int64_t pos = sl_manifest_pos(&rt->mf, l->elems[i].topic, l->elems[i].partition);
                if (pos >= 0)
                    rd_kafka_topic_partition_list_add(c, l->elems[i].topic, l->elems[i].partition)
                        ->offset = pos;
            }
            rd_kafka_resp_err_t ce = c->cnt ? rd_kafka_commit(rt->rk, c, 0) : 0;
            if (ce)
                SL_LOG(SL_LOG_WARN,
                       "committing offsets before releasing partitions failed: the next owner may "
                       "read some records again",
                       SL_F_STR("error", rd_kafka_err2str(ce)));
            rd_kafka_topic_partition_list_destroy(c);
        }
    }
    rd_kafka_assign(rt->rk, NULL);
}

static int g_teardown;

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l,
                         void *opaque)
{
    (void)rk;
    sl_rt *rt = opaque;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(rt, l);
    else
        on_revoke(rt, l, g_teardown);
}

static sl_err_t consumer_open(sl_rt *rt, sl_error *err)
{
    const sl_cfg *cfg = rt->cfg;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    sl_err_t rc = SL_OK;
    char es[512];
    if (!rc) rc = sl_kconf_set(c, "bootstrap.servers", cfg->source.brokers, err);
    if (!rc) rc = sl_kconf_set(c, "group.id", cfg->source.group, err);
    if (!rc) rc = sl_kconf_set(c, "enable.auto.commit", "false", err);
    if (!rc) rc = sl_kconf_set(c, "enable.auto.offset.store", "false", err);
    if (!rc) rc = sl_kconf_set(c, "enable.partition.eof", "true", err);
    if (!rc) rc = sl_kconf_set(c, "session.timeout.ms", "6000", err);
    if (!rc) rc = sl_kconf_set(c, "heartbeat.interval.ms", "1000", err);
    if (!rc)
        rc = sl_kconf_set(c, "auto.offset.reset", cfg->source.start_latest ? "latest" : "earliest",
                          err);
    if (!rc) rc = sl_kconf_set(c, "queued.max.messages.kbytes", "65536", err);
    for (int i = 0; !rc && i < cfg->source.n_properties; i++)
        rc = sl_kconf_set(c, cfg->source.properties[i].key, cfg->source.properties[i].value, err);
    if (rc) {
        rd_kafka_conf_destroy(c);
        return sl_error_prefix(err, "%s: source", cfg->file);
    }
    sl_kconf_logging(c);
    rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
    rd_kafka_conf_set_opaque(c, rt);
    if (!(rt->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, es, sizeof es)))
        return sl_error_set(err, SL_ERR_INVALID, "kafka consumer: %s", es);
    rd_kafka_poll_set_consumer(rt->rk);
    return SL_OK;
}

static sl_err_t subscribe(sl_rt *rt, sl_error *err)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(rt->cfg->source.n_topics);
    for (int i = 0; i < rt->cfg->source.n_topics; i++)
        rd_kafka_topic_partition_list_add(l, rt->cfg->source.topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rt->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return sl_error_set(err, SL_ERR_INVALID, "kafka subscribe: %s", rd_kafka_err2str(e));
    return SL_OK;
}

/* ---- one attempt ---- */

static int idle_for(sl_rt *rt, int64_t now, int64_t d)
{
    int any = 0;
    pthread_mutex_lock(&rt->mu);
    for (int32_t w = 0; w < rt->nw; w++)
        for (int32_t i = 0; i < rt->w[w].n_parts; i++) {
            const sl_part *p = rt->w[w].parts[i];
            if (!p->owned) continue;
            any = 1;
            if (!p->eof || now - p->eof_since_ms < d) {
                pthread_mutex_unlock(&rt->mu);
                return 0;
            }
        }
    pthread_mutex_unlock(&rt->mu);
    return any;
}

static long long unrouted_total(const sl_rt *rt)
{
    long long n = rt->unrouted;
    for (int32_t i = 0; i < rt->nw; i++)
        n += atomic_load_explicit(&rt->w[i].n_unrouted, memory_order_relaxed);
    return n;
}

/* Records behind the end of the assigned partitions: librdkafka's cached
 * high watermarks (from fetch responses, no request) minus our positions. */
static long long lag(sl_rt *rt)
{
    long long n = 0;
    pthread_mutex_lock(&rt->mu);
    for (int32_t w = 0; w < rt->nw; w++)
        for (int32_t i = 0; i < rt->w[w].n_parts; i++) {
            const sl_part *p = rt->w[w].parts[i];
            int64_t lo, hi;
            if (!p->owned || p->next < 0) continue;
            if (rd_kafka_get_watermark_offsets(rt->rk, p->topic, p->partition, &lo, &hi)) continue;
            if (hi > p->next) n += hi - p->next;
        }
    pthread_mutex_unlock(&rt->mu);
    return n;
}

/* ---- hot reload (reload.c has the protocol) ---- */

static int reload_wanted(sl_rt *rt, int64_t now)
{
    int hup = rt->opts->reload && *rt->opts->reload;
    if (hup) *rt->opts->reload = 0;
    return sl_watch_poll(&rt->watch, rt->cfg, now) || hup;
}

static void reload_rejected(sl_rt *rt, const sl_error *e)
{
    rt->reloads_rejected++;
    snprintf(rt->reload_error, sizeof rt->reload_error, "%s", e->msg);
    SL_LOG(SL_LOG_ERROR, "configuration rejected; the running configuration stays in force",
           SL_F_STR("error", e->msg));
    sl_reload_record(rt, NULL, 0, e->msg);
}

static void reload_applied(sl_rt *rt, const sl_reload *r, const char *how)
{
    rt->reloads_applied++;
    rt->reload_error[0] = '\0';
    SL_LOG(SL_LOG_INFO, "configuration reloaded", SL_F_INT("generation", rt->generation),
           SL_F_INT("checkpoint", rt->mf.checkpoint), SL_F_STR("how", how),
           SL_F_INT("streams", rt->pl->n_streams), SL_F_INT("added", r->added),
           SL_F_INT("removed", r->removed), SL_F_INT("ms", sl_rt_mono_ms() - r->t0));
    sl_reload_record(rt, r, 1, NULL);
}

/* Apply a changed configuration at a checkpoint boundary. A change the
 * running Kafka clients cannot take (source, workers, a Kafka producer)
 * ends the attempt after a final checkpoint: *restart = 1 and rt->next
 * holds it for sl_runtime_run. Only a failed checkpoint is an error. */
static sl_err_t reload(sl_rt *rt, int *restart, sl_error *err)
{
    sl_reload *r = calloc(1, sizeof *r);
    sl_error e;
    if (!r) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    if (sl_reload_prepare(rt, r, &e)) {
        free(r);
        reload_rejected(rt, &e);
        return SL_OK;
    }
    rt->reload = r; /* the checkpoint holds the workers and commits removed streams' hours */
    rt->final_ckpt = r->restart;
    sl_err_t rc = checkpoint(rt, err);
    rt->reload = NULL;
    if (rc) {
        sl_reload_discard(r);
        free(r);
        return rc;
    }
    if (r->restart) {
        SL_LOG(SL_LOG_INFO, "configuration change needs new Kafka clients: restarting them",
               SL_F_STR("changed", r->restart_why));
        rt->next = r;
        *restart = 1;
        return SL_OK;
    }
    sl_reload_install(rt, r);
    pthread_mutex_lock(&rt->mu);
    rt->hold = 0;
    pthread_cond_broadcast(&rt->hold_cv);
    pthread_mutex_unlock(&rt->mu);
    reload_applied(rt, r, "live");
    free(r);
    return SL_OK;
}

/* Returns SL_OK when stopped or idle (after a final checkpoint), or when a
 * reload needs a new attempt (rt->next). */
static sl_err_t attempt(sl_rt *rt, sl_error *err)
{
    const sl_cfg *cfg = rt->cfg; /* source and workers: fixed for the attempt (reload.c) */
    sl_err_t rc;
    int started = 0;
    snprintf(rt->attempt, sizeof rt->attempt, "%" PRIx64 "%x", (uint64_t)sl_rt_wall_ms(),
             (unsigned)getpid());
    rt->failed = 0;
    g_teardown = 0;
    atomic_store(&rt->stop, 0);
    if ((rc = consumer_open(rt, err))) return rc; /* recovery may ask for the group's offsets */
    if ((rc = sl_rt_recover(rt, err))) goto out;
    if ((rc = sl_commit_start(rt, err))) goto out;
    if ((rc = sl_commit_run(rt, &rt->mf, err))) goto out; /* redo what a crash interrupted */
    if ((rc = sl_replay_finish(rt, err))) goto out;
    atomic_store(&rt->ckpt_req_a, rt->mf.checkpoint);
    rt->nw = cfg->workers;
    rt->w = calloc((size_t)rt->nw, sizeof *rt->w);
    if (!rt->w) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < rt->nw; i++) {
        if ((rc = sl_worker_init(rt, &rt->w[i], i, err))) goto out;
        rt->w[i].done_ckpt = rt->mf.checkpoint;
    }
    /* closing is compression (CPU) and fsync (waiting): twice the workers,
     * at least 4, so fsyncs overlap */
    int pool = cfg->workers * 2 < 4 ? 4 : cfg->workers * 2 > 32 ? 32 : cfg->workers * 2;
    if ((rc = sl_closer_start(rt, pool, err))) goto out;
    if ((rc = sl_kx_start(rt, err))) goto out;
    for (int32_t i = 0; i < rt->nw; i++) {
        if (pthread_create(&rt->w[i].th, NULL, sl_worker_main, &rt->w[i])) {
            rc = sl_error_set(err, SL_ERR_NOMEM, "cannot start worker thread %d", (int)i);
            goto out;
        }
        started = i + 1;
    }
    if ((rc = subscribe(rt, err))) goto out;
    int64_t last_ckpt = sl_rt_mono_ms(), last_progress = sl_rt_mono_ms();
    long long prev[SL_ST_N], base[SL_ST_N];
    sl_stats_total(rt, prev);
    memcpy(base, prev, sizeof base); /* what earlier attempts counted */
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rt->rk, 100);
        if (m) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                SL_LOG(SL_LOG_WARN, "kafka consumer error",
                       SL_F_STR("error", rd_kafka_message_errstr(m)));
            rd_kafka_message_destroy(m);
        }
        if (rt->failed) {
            *err = rt->fail_err;
            rc = err->code ? err->code : SL_ERR_IO;
            goto out;
        }
        if (workers_failed(rt)) {
            rc = fail_from_workers(rt, err);
            goto out;
        }
        int64_t now = sl_rt_mono_ms();
        sl_log_tick();
        sl_obs_tick(rt);
        sl_replay_tick(rt, now);
        int stop = rt->opts->stop && *rt->opts->stop;
        int idle = rt->opts->stop_when_idle_ms > 0 &&
                   idle_for(rt, sl_rt_wall_ms(), rt->opts->stop_when_idle_ms) &&
                   !sl_replay_pending(rt);
        if (!stop && !idle && reload_wanted(rt, now)) {
            int restart = 0;
            if ((rc = reload(rt, &restart, err))) goto out;
            last_ckpt = sl_rt_mono_ms();
            if (restart) break; /* sl_runtime_run starts the next attempt */
            continue;
        }
        if (stop || idle || now - last_ckpt >= rt->cfg->checkpoint_interval_ms) {
            rt->final_ckpt = stop || idle;
            if ((rc = checkpoint(rt, err))) goto out;
            last_ckpt = sl_rt_mono_ms();
            if (stop || idle) {
                long long t[SL_ST_N];
                sl_stats_total(rt, t);
                long long f = 0, l = 0;
                for (int32_t i = 0; i < rt->nw; i++) {
                    long long wf = atomic_load(&rt->w[i].first_ms),
                              wl = atomic_load(&rt->w[i].last_ms);
                    if (wf && (!f || wf < f)) f = wf;
                    if (wl > l) l = wl;
                }
                double secs = l > f ? (double)(l - f) / 1000.0 : 0.0;
                long long run = t[SL_ST_IN] - base[SL_ST_IN];
                SL_LOG(SL_LOG_INFO, stop ? "stopped" : "idle: stopped",
                       SL_F_INT("checkpoint", rt->mf.checkpoint), SL_F_INT("in", t[SL_ST_IN]),
                       SL_F_INT("written", t[SL_ST_OUT]), SL_F_INT("filtered", t[SL_ST_FILTERED]),
                       SL_F_INT("dead_lettered", t[SL_ST_DEAD]),
                       SL_F_INT("unrouted", unrouted_total(rt)),
                       SL_F_INT("late", t[SL_ST_LATE] + rt->late_rows),
                       SL_F_INT("run_records", run), SL_F_DBL("run_seconds", secs),
                       SL_F_DBL("run_records_per_s", secs > 0 ? (double)run / secs : 0.0));
                break;
            }
        }
        if (rt->opts->progress && now - last_progress >= 5000) {
            long long t[SL_ST_N];
            sl_stats_total(rt, t);
            SL_LOG(SL_LOG_INFO, "progress",
                   SL_F_DBL("records_per_s", (double)(t[SL_ST_IN] - prev[SL_ST_IN]) * 1000.0 /
                                                 (double)(now - last_progress)),
                   SL_F_INT("lag", lag(rt)), SL_F_INT("in", t[SL_ST_IN]),
                   SL_F_INT("written", t[SL_ST_OUT]), SL_F_INT("dead_lettered", t[SL_ST_DEAD]),
                   SL_F_INT("checkpoint", rt->mf.checkpoint),
                   SL_F_INT("files_published", rt->files_published));
            memcpy(prev, t, sizeof prev);
            last_progress = now;
        }
    }
out:
    g_teardown = 1;
    atomic_store(&rt->stop, 1);
    rt->replay = NULL; /* its worker frees it; the next attempt resumes it from the manifest */
    pthread_mutex_lock(&rt->mu);
    rt->hold = 0;
    pthread_cond_broadcast(&rt->hold_cv);
    pthread_mutex_unlock(&rt->mu);
    for (int32_t i = 0; i < started; i++) {
        rd_kafka_queue_yield(rt->w[i].q);
        pthread_join(rt->w[i].th, NULL);
    }
    for (int32_t i = 0; rt->w && i < rt->nw; i++) { /* keep their counts */
        if (sl_stats_fold(rt, &rt->w[i].ps))
            SL_LOG(SL_LOG_WARN, "out of memory keeping the counters of a stopped worker");
        rt->unrouted += atomic_load(&rt->w[i].n_unrouted);
    }
    sl_closer_stop(rt);
    sl_kx_stop(rt);
    sl_commit_stop(rt);
    if (rt->rk) {
        rd_kafka_consumer_close(rt->rk);
        for (int32_t i = 0; rt->w && i < rt->nw; i++)
            if (rt->w[i].q) {
                rd_kafka_queue_destroy(rt->w[i].q);
                rt->w[i].q = NULL;
            }
        rd_kafka_destroy(rt->rk);
        rt->rk = NULL;
    }
    for (int32_t i = 0; rt->w && i < rt->nw; i++)
        sl_worker_free(&rt->w[i]);
    free(rt->w);
    rt->w = NULL;
    rt->nw = 0;
    return rc;
}

sl_err_t sl_runtime_run(const sl_cfg *cfg, const sl_pipeline *pl, const sl_runtime_opts *opts,
                        sl_error *err)
{
    sl_rt rt;
    memset(&rt, 0, sizeof rt);
    rt.cfg = cfg;
    rt.pl = pl;
    rt.opts = opts;
    pthread_mutex_init(&rt.mu, NULL);
    pthread_cond_init(&rt.cv, NULL);
    pthread_cond_init(&rt.qcv, NULL);
    pthread_cond_init(&rt.hold_cv, NULL);
    rt.watch.fd = -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/manifests", cfg->state_dir);
    rt.mf_dir = dir;
    sl_state state;
    sl_err_t rc = sl_state_open(&state, cfg->state_dir, cfg->pipeline, err);
    if (rc) return rc;
    memcpy(rt.instance, state.instance, sizeof rt.instance);
    rc = sl_storage_posix(&rt.st, err);
    if (!rc) rc = sl_obs_start(&rt, err);
    int64_t backoff = 1000;
    if (sl_watch_open(&rt.watch, cfg, err)) {
        SL_LOG(SL_LOG_WARN,
               "reload.watch: cannot watch the configuration's files; SIGHUP still "
               "reloads",
               SL_F_STR("error", err->msg));
        sl_error_clear(err);
    }
    while (!rc) {
        rc = attempt(&rt, err);
        if (!rc && rt.next) { /* a reload that needs new Kafka clients */
            sl_reload *r = rt.next;
            rt.next = NULL;
            sl_reload_install(&rt, r);
            reload_applied(&rt, r, "restart");
            free(r);
            continue;
        }
        if (!rc || !err->retriable || (opts->stop && *opts->stop)) break;
        SL_LOG(SL_LOG_ERROR,
               "attempt failed; retrying from the last checkpoint (nothing is lost: input is read "
               "again from there)",
               SL_F_STR("error", err->msg), SL_F_INT("retrying_in_s", backoff / 1000),
               SL_F_INT("checkpoint", rt.mf.checkpoint));
        sl_obs_retrying(&rt, err, backoff);
        for (int64_t t = 0; t < backoff && !(opts->stop && *opts->stop); t += 100) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
        rc = SL_OK;
        if (opts->stop && *opts->stop) break;
    }
    sl_obs_stop(&rt);
    sl_manifest_free(&rt.mf);
    sl_stats_free(&rt);
    sl_watch_close(&rt.watch);
    if (rt.own_pl) {
        sl_pipeline_free(rt.own_pl);
        free(rt.own_pl);
    }
    sl_cfg_free(rt.own_cfg);
    if (rt.st) rt.st->vt->destroy(rt.st);
    sl_state_close(&state);
    pthread_mutex_destroy(&rt.mu);
    pthread_cond_destroy(&rt.cv);
    pthread_cond_destroy(&rt.qcv);
    pthread_cond_destroy(&rt.hold_cv);
    return rc;
}
