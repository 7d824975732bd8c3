/* retry.c - a failed output pauses only the partitions that feed it.
 *
 * When a lake write fails (a directory that cannot be created, a full or
 * read-only file system) in a worker or in the close pool, the worker
 * gives up exactly the work that depends on the failed file, rewinds the
 * input partitions that produced it, pauses them in the consumer, and goes
 * on with its other partitions. After a backoff (1 s doubling to 30 s) it
 * seeks the paused partitions back to their rewound positions and resumes
 * them. Nothing is lost or written twice: the dropped files are never
 * published, and their records are read again.
 *
 * What depends on what. A worker's work since its last barrier is split in
 * units: one per stream (its files and its audit counts) and one for dead
 * letters (their files and the counts of records of no stream). For each
 * unit the worker keeps the set of its partitions that contributed a record
 * (a bit per partition, one OR per record: sl_touch). A failed unit pulls
 * in every partition that touched it; each of those pulls in every unit it
 * touched, and so on to a fixed point. That closure is dropped whole: the
 * units' open files, the files they rolled since the barrier, their audit
 * counts; the partitions go back to their barrier positions. When streams
 * are routed by topic, the closure is the failed stream's topics; when
 * every partition feeds every stream, it is the whole worker - which is
 * then exactly the set of partitions that feed the failed output.
 *
 * Two periods. A file handed over at barrier C is closed by the pool while
 * checkpoint C is under way, after its worker already read on. If that
 * close fails, the closure is computed over both periods (C and the one
 * since): the worker drops the units' files of C as well, and rewinds the
 * partitions to the positions of checkpoint C-1 (p->snap_prev), which is
 * what manifest C then records for them. The coordinator waits for such a
 * request to be handled before it writes manifest C (runtime.c), so C
 * stays consistent.
 *
 * Where a local retry is not possible the attempt restarts from the last
 * checkpoint, as before: with a Kafka output (one transaction holds every
 * worker's records), during a dead-letter replay or a hot reload, for a
 * failure that is not an I/O error, or when the bit sets could not be
 * allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "engine/rt_int.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

static int32_t bucket_unit(const sl_worker *w, const sl_bucket *b)
{
    return b->stream >= 0 ? b->stream : w->rt->pl->n_streams;
}

static uint64_t *touch_set(sl_worker *w, uint64_t period, int32_t unit)
{
    size_t per = (size_t)w->touch_units * (size_t)w->touch_words;
    return w->touch + (period & 1) * per + (size_t)unit * (size_t)w->touch_words;
}

void sl_retry_fit(sl_worker *w)
{
    int32_t units = w->rt->pl->n_streams + 1;
    int32_t words = (w->n_parts + 63) / 64;
    if (words < 1) words = 1;
    if (units == w->touch_units && words <= w->touch_words) return;
    if (words < w->touch_words) words = w->touch_words;
    uint64_t *t = calloc((size_t)2 * (size_t)units * (size_t)words, sizeof *t);
    if (!t) {
        w->touch_lost = 1;
        return;
    }
    if (units == w->touch_units) /* more partitions: keep the bits */
        for (int32_t p = 0; p < 2; p++)
            for (int32_t u = 0; u < units; u++)
                memcpy(t + ((size_t)p * units + u) * words,
                       w->touch + ((size_t)p * units + u) * w->touch_words,
                       (size_t)w->touch_words * sizeof *t);
    /* else a hot reload renumbered the streams, right after a barrier whose
     * checkpoint committed: nothing to keep */
    free(w->touch);
    w->touch = t;
    w->touch_units = units;
    w->touch_words = words;
    w->touch_now = touch_set(w, w->done_ckpt + 1, 0);
}

void sl_retry_barrier(sl_worker *w)
{
    /* done_ckpt is the barrier just passed: the period that starts is
     * done_ckpt + 1, whose parity held period done_ckpt - 1 (committed) */
    uint64_t next = w->done_ckpt + 1;
    if (w->touch) {
        w->touch_now = touch_set(w, next, 0);
        memset(w->touch_now, 0, (size_t)w->touch_units * (size_t)w->touch_words * sizeof *w->touch);
    }
    w->n_rolled_p[next & 1] = 0;
    /* a whole period read and closed since the resume without a failure */
    if (w->clean && ++w->clean_barriers >= 3) {
        w->backoff_ms = BACKOFF_MIN_MS;
        w->failing = 0; /* rt->mu is held */
    }
}

void sl_retry_rolled(sl_worker *w, sl_bucket *b)
{
    int k = (int)(b->ckpt & 1);
    if (w->n_rolled_p[k] == w->cap_rolled_p[k]) {
        int32_t nc = w->cap_rolled_p[k] ? w->cap_rolled_p[k] * 2 : 64;
        sl_bucket **n = realloc(w->rolled_p[k], (size_t)nc * sizeof *n);
        if (!n) {
            w->touch_lost = 1; /* a file we could not drop: no local retry */
            return;
        }
        w->rolled_p[k] = n;
        w->cap_rolled_p[k] = nc;
    }
    w->rolled_p[k][w->n_rolled_p[k]++] = b;
}

/* ---- the closure ---- */

typedef struct closure {
    uint8_t *unit;  /* [touch_units] */
    uint64_t *part; /* [touch_words] */
} closure;

static int intersects(const uint64_t *a, const uint64_t *b, int32_t words)
{
    for (int32_t i = 0; i < words; i++)
        if (a[i] & b[i]) return 1;
    return 0;
}

/* Grow the seeds to the fixed point over the periods in [from, to]. */
static void close_over(sl_worker *w, closure *c, uint64_t from, uint64_t to)
{
    int changed = 1;
    while (changed) {
        changed = 0;
        for (uint64_t k = from; k <= to; k++)
            for (int32_t u = 0; u < w->touch_units; u++) {
                uint64_t *s = touch_set(w, k, u);
                if (!c->unit[u] && !intersects(s, c->part, w->touch_words)) continue;
                if (!c->unit[u]) changed = 1;
                c->unit[u] = 1;
                for (int32_t i = 0; i < w->touch_words; i++) {
                    if (s[i] & ~c->part[i]) changed = 1;
                    c->part[i] |= s[i];
                }
            }
    }
}

static int part_in(const closure *c, const sl_part *p)
{
    return (c->part[p->idx >> 6] >> (p->idx & 63)) & 1;
}

void sl_retry_remove(sl_rt *rt, const sl_bucket *b)
{
    sl_error e;
    if (b->hidden && rt->st->vt->remove(rt->st, b->hidden, &e))
        SL_LOG(SL_LOG_WARN, "cannot remove a dropped in-progress file (the next start sweeps it)",
               SL_F_STR("error", e.msg));
}

static void zero_counts(sl_audit_tab *t, const closure *c, int32_t n_streams)
{
    for (uint32_t i = 0; t->used && i <= t->mask; i++) {
        sl_audit_slot *sl = &t->slots[i];
        if (sl->stream == SL_AUDIT_EMPTY) continue;
        int32_t u = sl->stream >= 0 ? sl->stream : n_streams;
        if (c->unit[u]) memset(&sl->n, 0, sizeof sl->n);
    }
}

static int eligible(const sl_worker *w, const sl_error *err)
{
    const sl_rt *rt = w->rt;
    return err->code == SL_ERR_IO && !rt->kout && !w->rj && !w->touch_lost && w->touch &&
           rt->cfg->dead_letter.kind != SL_OUT_KAFKA && !atomic_load(&w->failed);
}

static void describe(sl_worker *w, const closure *c, char *streams, size_t ns, char *parts,
                     size_t np)
{
    const sl_pipeline *pl = w->rt->pl;
    size_t a = 0, b = 0;
    streams[0] = parts[0] = '\0';
    for (int32_t u = 0; u < w->touch_units; u++)
        if (c->unit[u] && a < ns)
            a += (size_t)snprintf(streams + a, ns - a, "%s%s", a ? "," : "",
                                  u < pl->n_streams ? pl->cfg->streams[u].name : "_dead_letter");
    for (int32_t i = 0; i < w->n_parts; i++)
        if (part_in(c, w->parts[i]) && b < np)
            b += (size_t)snprintf(parts + b, np - b, "%s%s/%d", b ? "," : "", w->parts[i]->topic,
                                  (int)w->parts[i]->partition);
}

/* Drop the closure: periods [from, cur] where cur is the worker's current
 * period; from == cur - 1 also rewinds checkpoint `from` (the two-period
 * case). Returns 1 when done, 0 when the attempt must restart. */
static int drop(sl_worker *w, closure *c, uint64_t from, const char *at, const sl_error *err)
{
    sl_rt *rt = w->rt;
    uint64_t cur = w->done_ckpt + 1;
    close_over(w, c, from, cur);
    int any = 0;
    for (int32_t i = 0; i < w->touch_words; i++)
        any |= c->part[i] != 0;
    if (!any) return 0; /* files to drop but no partition to read them again: restart */
    pthread_mutex_lock(&rt->mu);
    /* open buckets (all of the current period) */
    for (uint32_t i = 0; i <= w->table_mask; i++) {
        sl_bucket **pp = &w->table[i];
        while (*pp) {
            sl_bucket *b = *pp;
            if (c->unit[bucket_unit(w, b)]) {
                *pp = b->next;
                w->n_open--;
                sl_retry_remove(rt, b); /* its rows are read again */
                sl_bucket_free(b);
            } else
                pp = &b->next;
        }
    }
    w->bgen++; /* record.c's bucket cache */
    /* rolled ones, of the periods concerned: the pool skips them, the
     * coordinator leaves them out of the manifest and deletes them */
    for (uint64_t k = from; k <= cur; k++)
        for (int32_t i = 0; i < w->n_rolled_p[k & 1]; i++) {
            sl_bucket *b = w->rolled_p[k & 1][i];
            if (c->unit[bucket_unit(w, b)]) b->dropped = 1;
        }
    zero_counts(&w->au[w->au_cur], c, rt->pl->n_streams);
    if (from < cur) zero_counts(&w->au[w->au_cur ^ 1], c, rt->pl->n_streams);
    int n = 0;
    for (int32_t i = 0; i < w->n_parts; i++) {
        sl_part *p = w->parts[i];
        if (!part_in(c, p)) continue;
        if (from < cur) { /* back to checkpoint from - 1 */
            p->snap = p->snap_prev >= 0 ? p->snap_prev : p->base;
            p->snap_max_et = p->snap_prev_max_et;
        }
        p->next = p->snap >= 0 ? p->snap : p->base;
        p->max_et = p->snap_max_et;
        p->eof = 0;
        p->last_ms = p->snap_last_ms = sl_rt_wall_ms(); /* holds the watermark back (commit.c) */
        if (!atomic_load(&p->paused)) w->n_paused++;
        atomic_store(&p->paused, 1);
        n++;
    }
    /* the sets of the units dropped: their partitions start again */
    for (uint64_t k = from; k <= cur; k++)
        for (int32_t u = 0; u < w->touch_units; u++)
            if (c->unit[u])
                memset(touch_set(w, k, u), 0, (size_t)w->touch_words * sizeof *w->touch);
    w->failing = 1;
    free(w->fail_msg);
    w->fail_msg = strdup(err->msg); /* NULL on NOMEM: the status says "?" */
    pthread_mutex_unlock(&rt->mu);
    /* stop fetching them (the messages already queued are discarded by
     * librdkafka's version barrier, and message() skips paused ones) */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n ? n : 1);
    for (int32_t i = 0; i < w->n_parts; i++)
        if (part_in(c, w->parts[i]) && atomic_load(&w->parts[i]->owned))
            rd_kafka_topic_partition_list_add(l, w->parts[i]->topic, w->parts[i]->partition);
    if (l->cnt) rd_kafka_pause_partitions(rt->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t now = sl_rt_mono_ms();
    if (w->backoff_ms < BACKOFF_MIN_MS) w->backoff_ms = BACKOFF_MIN_MS;
    w->retry_at_ms = now + w->backoff_ms;
    char streams[512], parts[512];
    describe(w, c, streams, sizeof streams, parts, sizeof parts);
    SL_LOG(SL_LOG_WARN,
           "output failed: pausing only the partitions that feed it, retrying (nothing is lost: "
           "they are read again from their checkpointed positions)",
           SL_F_INT("worker", w->id), SL_F_STR("at", at), SL_F_STR("error", err->msg),
           SL_F_STR("streams", streams), SL_F_STR("partitions", parts),
           SL_F_INT("from_checkpoint", (long long)from - 1),
           SL_F_INT("retrying_in_s", w->backoff_ms / 1000));
    w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
    w->clean = 0;
    w->clean_barriers = 0;
    atomic_fetch_add(&rt->local_retries, 1);
    return 1;
}

static int closure_init(sl_worker *w, closure *c)
{
    c->unit = calloc((size_t)w->touch_units, 1);
    c->part = calloc((size_t)w->touch_words, sizeof *c->part);
    return c->unit && c->part;
}

static void closure_free(closure *c)
{
    free(c->unit);
    free(c->part);
}

int sl_retry_local(sl_worker *w, const sl_error *err)
{
    if (!eligible(w, err) || w->fail_unit < 0 || w->fail_unit >= w->touch_units) return 0;
    closure c;
    int ok = closure_init(w, &c);
    if (ok) {
        c.unit[w->fail_unit] = 1;
        const sl_part *p = w->c_part; /* the record being processed */
        if (p && p->idx < w->touch_words * 64) c.part[p->idx >> 6] |= (uint64_t)1 << (p->idx & 63);
        ok = drop(w, &c, w->done_ckpt + 1, "write", err);
    }
    closure_free(&c);
    w->fail_unit = -1;
    return ok;
}

/* The pool failed to close files of this worker (marked retry_req on
 * rt->done): drop their units, over two periods when the file belongs to
 * the checkpoint under way. Returns 0 when the attempt must restart. */
int sl_retry_requests(sl_worker *w, sl_error *err)
{
    sl_rt *rt = w->rt;
    closure c;
    if (!closure_init(w, &c)) {
        closure_free(&c);
        sl_error_set(err, SL_ERR_NOMEM, "out of memory retrying an output");
        return 0;
    }
    uint64_t from = w->done_ckpt + 1;
    sl_error first;
    sl_error_clear(&first);
    pthread_mutex_lock(&rt->mu);
    for (sl_bucket *b = rt->done; b; b = b->qnext)
        if (b->retry_req && b->worker == w->id) {
            b->retry_req = 0;
            /* failed while a drop was under way that took it: nothing more */
            if (b->dropped) continue;
            b->dropped = 1;
            c.unit[bucket_unit(w, b)] = 1;
            if (b->ckpt < from) from = b->ckpt;
            if (!first.code) first = b->err;
        }
    pthread_mutex_unlock(&rt->mu);
    int ok = 1;
    if (first.code) ok = drop(w, &c, from, "close", &first);
    closure_free(&c);
    if (!ok) { /* req_pending stays: the checkpoint ends with the attempt */
        *err = first;
        sl_error_prefix(err, "an output failed and cannot be retried locally");
        return 0;
    }
    /* only now may the coordinator write the manifest (positions, counts);
     * a request that came meanwhile keeps the flag for the next turn */
    pthread_mutex_lock(&rt->mu);
    int more = 0;
    for (sl_bucket *b = rt->done; b; b = b->qnext)
        if (b->retry_req && b->worker == w->id) {
            if (b->dropped)
                b->retry_req = 0; /* the drop just made took it */
            else
                more = 1;
        }
    if (!more) atomic_store(&w->req_pending, 0);
    pthread_cond_broadcast(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
    return 1;
}

/* Called by the pool (rt->mu held) for a bucket whose close failed: 1 when
 * its worker will drop it instead of failing the checkpoint. */
int sl_retry_pool_failed(sl_rt *rt, sl_bucket *b)
{
    if (b->dropped) return 1;
    if (b->worker < 0 || b->worker >= rt->nw || rt->hold) return 0;
    sl_worker *w = &rt->w[b->worker];
    if (!eligible(w, &b->err)) return 0;
    /* a file of the current or the previous period (the checkpoint under
     * way); anything older would already be committed */
    if (b->ckpt + 1 < w->done_ckpt + 1) return 0;
    b->retry_req = 1;
    atomic_store(&w->req_pending, 1);
    rd_kafka_queue_yield(w->q);
    return 1;
}

sl_err_t sl_retry_tick(sl_worker *w, int64_t now, sl_error *err)
{
    sl_rt *rt = w->rt;
    if (!w->n_paused || now < w->retry_at_ms) return SL_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(w->n_paused);
    pthread_mutex_lock(&rt->mu);
    for (int32_t i = 0; i < w->n_parts; i++) {
        sl_part *p = w->parts[i];
        if (!atomic_load(&p->paused)) continue;
        if (atomic_load(&p->owned) && p->next >= 0)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
    }
    pthread_mutex_unlock(&rt->mu);
    sl_err_t rc = SL_OK;
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(rt->rk, l, 10000);
        for (int i = 0; !e && i < l->cnt; i++)
            if (l->elems[i].err) {
                rc = sl_error_set(err, SL_ERR_IO, "cannot seek %s [%d] back to offset %lld: %s",
                                  l->elems[i].topic, (int)l->elems[i].partition,
                                  (long long)l->elems[i].offset, rd_kafka_err2str(l->elems[i].err));
                break;
            }
        if (e) {
            rc = sl_error_set(err, SL_ERR_IO, "cannot seek paused partitions back: %s",
                              rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (!rc) rd_kafka_resume_partitions(rt->rk, l);
    }
    if (!rc) {
        pthread_mutex_lock(&rt->mu);
        for (int32_t i = 0; i < w->n_parts; i++)
            atomic_store(&w->parts[i]->paused, 0);
        pthread_mutex_unlock(&rt->mu);
        SL_LOG(SL_LOG_INFO, "resuming the partitions paused after an output failure",
               SL_F_INT("worker", w->id), SL_F_INT("partitions", w->n_paused));
        w->n_paused = 0;
        w->clean = 1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}
