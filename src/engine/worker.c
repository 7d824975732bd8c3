/* worker.c - one worker thread: Kafka messages -> parse -> route -> ETL ->
 * the bucket of (stream, partition path) -> Parquet or JSON-lines part files.
 *
 * The loop takes up to a few hundred messages from the worker's queue (its
 * input partitions are forwarded into it), processes them one by one
 * (record.c), and between two messages looks at the checkpoint barrier
 * counter. At a barrier it hands every open bucket (bucket.c) to the close
 * pool and records its positions (the next offset of each of its
 * partitions): the files then hold exactly the records before those
 * positions, which is what makes a checkpoint consistent. The hand-over
 * costs a pointer move per bucket; the encoding of the last rows, the
 * footer and the fsync run on the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fault.h"
#include "core/log.h"
#include "engine/lua_etl.h"
#include "engine/rt_int.h"

static const char *get_header(void *arg, const char *name, size_t *len)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v;
    if (rd_kafka_message_headers((const rd_kafka_message_t *)arg, &hdrs)) return NULL;
    if (rd_kafka_header_get_last(hdrs, name, &v, len)) return NULL;
    return v ? (const char *)v : "";
}

static sl_part *find_part(sl_worker *w, const char *topic, int32_t partition)
{
    for (int32_t i = 0; i < w->n_parts; i++)
        if (w->parts[i]->partition == partition && !strcmp(w->parts[i]->topic, topic))
            return w->parts[i];
    return NULL;
}

static sl_err_t message(sl_worker *w, rd_kafka_message_t *km, int64_t ingest_ms, sl_error *err)
{
    sl_rt *rt = w->rt;
    const char *topic = rd_kafka_topic_name(km->rkt);
    sl_part *pt = w->c_part; /* messages come in runs of one partition */
    if (!pt || w->c_rkt != (const void *)km->rkt || w->c_partition != km->partition) {
        pthread_mutex_lock(&rt->mu); /* the list grows under it (a rebalance) */
        pt = find_part(w, topic, km->partition);
        pthread_mutex_unlock(&rt->mu);
        w->c_part = pt;
        w->c_rkt = km->rkt;
        w->c_partition = km->partition;
        if (pt && pt->idx >= w->touch_words * 64) sl_retry_fit(w);
    }
    int owned = pt && atomic_load(&pt->owned);
    if (!owned) return SL_OK; /* revoked: its new owner reads it */
    /* rewound after an output failure (retry.c): read again once resumed */
    if (atomic_load_explicit(&pt->paused, memory_order_relaxed)) return SL_OK;
    if (km->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!pt->eof) pt->eof_since_ms = ingest_ms;
        pt->eof = 1;
        return SL_OK;
    }
    if (km->err) {
        SL_LOG(SL_LOG_WARN, "kafka fetch error (librdkafka retries)", SL_F_STR("topic", topic),
               SL_F_INT("partition", km->partition),
               SL_F_STR("error", rd_kafka_message_errstr(km)));
        return SL_OK; /* librdkafka retries fetch errors itself */
    }
    pt->eof = 0;
    pt->last_ms = ingest_ms;
    if (pt->next < 0) pt->base = km->offset; /* no position known: where a rewind goes */
    if (!atomic_load_explicit(&w->first_ms, memory_order_relaxed))
        atomic_store_explicit(&w->first_ms, ingest_ms, memory_order_relaxed);
    atomic_store_explicit(&w->last_ms, ingest_ms, memory_order_relaxed);
    rd_kafka_timestamp_type_t tstype;
    sl_msgctx m = {topic,       km->partition,
                   km->offset,  rd_kafka_message_timestamp(km, &tstype),
                   ingest_ms,   0,
                   0,           km->key,
                   km->key_len, pt};
    int32_t s = sl_pipeline_route_meta(rt->pl, topic, get_header, km);
    const uint8_t *val = km->payload ? km->payload : (const uint8_t *)"";
    sl_err_t rc = sl_record_value(w, s, val, km->len, &m, err);
    if (!rc) pt->next = km->offset + 1;
    return rc;
}

/* ---- the thread ---- */

static void barrier(sl_worker *w, uint64_t c)
{
    sl_rt *rt = w->rt;
    sl_fault_point("worker.barrier");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&rt->mu);
    sl_worker_roll_all(w, c);
    if (w->rj) sl_replay_snap(w->rj); /* its position, with the files */
    w->au_cur ^= 1; /* the coordinator emptied the other table at the last checkpoint */
    for (int32_t i = 0; i < w->n_parts; i++) {
        sl_part *p = w->parts[i];
        p->snap_prev = p->snap;
        p->snap_prev_max_et = p->snap_max_et;
        /* paused after an output failure (retry.c): it holds its records
         * back, so it holds the watermark back too, never idle */
        if (atomic_load_explicit(&p->paused, memory_order_relaxed)) p->last_ms = sl_rt_wall_ms();
        p->snap = p->next;
        p->snap_max_et = p->max_et;
        p->snap_last_ms = p->last_ms;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    w->pause_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    w->done_ckpt = c;
    sl_retry_barrier(w);
    pthread_cond_broadcast(&rt->cv);
    /* a hot reload: wait here, with nothing open, while the pipeline is swapped */
    while (rt->hold == c && !atomic_load(&rt->stop))
        pthread_cond_wait(&rt->hold_cv, &rt->mu);
    pthread_mutex_unlock(&rt->mu);
    sl_retry_fit(w); /* a hot reload may have changed the streams */
}

/* A fatal error (out of memory, the lake): the coordinator retries the
 * attempt from the last checkpoint. */
static void failed(sl_worker *w, const sl_error *err)
{
    sl_rt *rt = w->rt;
    pthread_mutex_lock(&rt->mu);
    if (!w->errmsg) w->errmsg = strdup(err->msg);
    atomic_store(&w->failed, 1);
    pthread_cond_broadcast(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
}

void *sl_worker_main(void *arg)
{
    sl_worker *w = arg;
    sl_rt *rt = w->rt;
    rd_kafka_message_t *msgs[256];
    sl_error err;
    sl_error_clear(&err);
    while (!atomic_load(&rt->stop)) {
        uint64_t req = atomic_load(&rt->ckpt_req_a);
        if (req > w->done_ckpt) barrier(w, req);
        /* an output failed (retry.c): the pool's requests, then the paused
         * partitions' retry */
        if (atomic_load(&w->req_pending) && !atomic_load(&w->failed) && !sl_retry_requests(w, &err))
            failed(w, &err);
        if (w->n_paused && !atomic_load(&w->failed) && sl_retry_tick(w, sl_rt_mono_ms(), &err))
            failed(w, &err);
        pthread_mutex_lock(&rt->mu); /* a dead-letter replay: set and cleared by the coordinator */
        sl_replay_job *rj = w->rj;
        if (rj && sl_replay_finished(rj)) {
            sl_replay_free(rj);
            w->rj = rj = NULL;
        }
        pthread_mutex_unlock(&rt->mu);
        int replaying = rj && !sl_replay_idle(rj) && !atomic_load(&w->failed);
        /* What is there now, without waiting: librdkafka's batch call waits
         * for a full batch until its timeout, which would hold a worker up
         * to 100 ms whenever its partitions bring fewer messages than that.
         * Only when nothing is there does it wait, for the first message. */
        ssize_t n = rd_kafka_consume_batch_queue(w->q, 0, msgs, 256);
        if (n == 0 && !(replaying && sl_replay_busy(rj)))
            n = rd_kafka_consume_batch_queue(w->q, replaying ? 10 : 100, msgs, 1);
        int64_t ingest = sl_rt_wall_ms();
        for (ssize_t i = 0; i < n; i++) {
            if (!atomic_load(&w->failed) && message(w, msgs[i], ingest, &err) &&
                !sl_retry_local(w, &err))
                failed(w, &err);
            rd_kafka_message_destroy(msgs[i]);
        }
        if (replaying && sl_replay_step(w, rj, &err)) failed(w, &err);
        if (atomic_load(&w->failed)) {
            /* Stop consuming; the coordinator restarts the attempt from the
             * last checkpoint. Keep answering barriers so it never waits. */
            while (!atomic_load(&rt->stop)) {
                uint64_t r2 = atomic_load(&rt->ckpt_req_a);
                pthread_mutex_lock(&rt->mu);
                if (r2 > w->done_ckpt) {
                    w->done_ckpt = r2;
                    pthread_cond_broadcast(&rt->cv);
                }
                pthread_mutex_unlock(&rt->mu);
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    return NULL;
}

sl_err_t sl_wpl_init(sl_wpl *s, const sl_pipeline *pl, sl_error *err)
{
    memset(s, 0, sizeof *s);
    s->pl = pl;
    size_t np = (size_t)pl->n_plans + 1, ns = (size_t)pl->n_streams + 1;
    s->recs = calloc(np, sizeof *s->recs);
    s->outs = calloc(np, sizeof *s->outs);
    s->lua = calloc(ns, sizeof *s->lua);
    s->kbs = calloc(ns, sizeof *s->kbs);
    s->sc = calloc(ns, sizeof *s->sc);
    s->bc = calloc(ns, sizeof *s->bc);
    if (!s->recs || !s->outs || !s->lua || !s->kbs || !s->sc || !s->bc) goto nomem;
    for (int32_t i = 0; i < pl->n_plans; i++)
        if (sl_rec_new(&s->recs[i], &pl->plans[i])) goto nomem;
    /* Lua: one state per worker and stream (a state is single-threaded);
     * the script was already loaded once when the pipeline compiled. */
    for (int32_t i = 0; i < pl->n_streams; i++) {
        const sl_stream *st = &pl->streams[i];
        if (!st->cfg->etl.script) continue;
        if (!s->outs[st->plan] && sl_rec_new(&s->outs[st->plan], &pl->plans[st->plan])) goto nomem;
        sl_err_t rc = sl_lua_etl_open(&s->lua[i], st->cfg->etl.script, &pl->plans[st->plan], err);
        if (rc) {
            sl_wpl_free(s);
            return rc;
        }
    }
    return SL_OK;
nomem:
    sl_wpl_free(s);
    return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
}

void sl_wpl_free(sl_wpl *s)
{
    const sl_pipeline *pl = s->pl;
    for (int32_t i = 0; pl && s->recs && i < pl->n_plans; i++) {
        sl_rec_free(s->recs[i]);
        if (s->outs) sl_rec_free(s->outs[i]);
    }
    for (int32_t i = 0; pl && i < pl->n_streams; i++) {
        if (s->lua) sl_lua_etl_free(s->lua[i]);
        if (s->kbs) sl_kbatch_free(s->kbs[i]);
    }
    free(s->recs);
    free(s->outs);
    free(s->lua);
    free(s->kbs);
    free(s->sc);
    free(s->bc);
    memset(s, 0, sizeof *s);
}

sl_err_t sl_worker_init(sl_rt *rt, sl_worker *w, int32_t id, sl_error *err)
{
    memset(w, 0, sizeof *w);
    w->rt = rt;
    w->id = id;
    w->table_mask = 1023;
    if (!(w->table = calloc(w->table_mask + 1, sizeof *w->table)))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_err_t rc = sl_wpl_init(&w->ps, rt->pl, err);
    if (rc) return rc;
    if (!(w->q = rd_kafka_queue_new(rt->rk)))
        return sl_error_set(err, SL_ERR_NOMEM, "cannot create a Kafka queue");
    w->fail_unit = -1;
    sl_retry_fit(w);
    return SL_OK;
}

void sl_worker_free(sl_worker *w)
{
    for (uint32_t i = 0; w->table && i <= w->table_mask; i++) {
        sl_bucket *b = w->table[i];
        while (b) {
            sl_bucket *next = b->next;
            sl_bucket_free(b);
            b = next;
        }
    }
    sl_buf_free(&w->enc);
    sl_audit_tab_free(&w->au[0]);
    sl_audit_tab_free(&w->au[1]);
    free(w->table);
    sl_wpl_free(&w->ps);
    if (w->q) rd_kafka_queue_destroy(w->q);
    for (int32_t i = 0; i < w->n_parts; i++) {
        free(w->parts[i]->topic);
        free(w->parts[i]);
    }
    free(w->parts);
    free(w->touch);
    free(w->rolled_p[0]);
    free(w->rolled_p[1]);
    free(w->fail_msg);
    sl_replay_free(w->rj);
    free(w->errmsg);
    memset(w, 0, sizeof *w);
}
