/* closer.c - the close pool: finishes part files handed over by workers.
 *
 * A job is one bucket: encode its last rows, write the Parquet footer,
 * fsync, close, and name the final file after the checkpoint that will
 * publish it. Done buckets wait on rt->done until the coordinator puts them
 * into that checkpoint's manifest. With hundreds of buckets per checkpoint
 * the work spreads over the pool's threads instead of stalling a worker.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "engine/rt_int.h"

static sl_err_t finish(sl_rt *rt, sl_bucket *b, sl_error *err)
{
    sl_err_t rc = sl_bucket_drain(rt, b, err);
    if (rc) return rc;
    if (!b->os) return SL_OK; /* nothing was ever written */
    if (b->pw && (rc = sl_pq_writer_close(b->pw, err))) return rc;
    if ((rc = sl_ostream_sync(b->os, err))) return rc;
    b->bytes = (int64_t)b->os->pos;
    if ((rc = sl_ostream_close(b->os, err))) return rc;
    sl_ostream_destroy(b->os);
    b->os = NULL;
    sl_pq_writer_free(b->pw);
    b->pw = NULL;
    const char *ext = sl_bucket_parquet(rt, b) ? "parquet" : "jsonl";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%s-c%" PRIu64 "-w%d-%" PRIu64 ".%s", b->dir,
             rt->cfg->pipeline, rt->instance, b->ckpt, b->worker, b->seq, ext);
    if (!(b->final = strdup(path))) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_fault_point("closer.closed");
    return SL_OK;
}

static void *pool_main(void *arg)
{
    sl_rt *rt = arg;
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        while (!rt->qhead && !rt->pool_stop)
            pthread_cond_wait(&rt->qcv, &rt->mu);
        if (!rt->qhead) break;
        sl_bucket *b = rt->qhead;
        rt->qhead = b->qnext;
        if (!rt->qhead) rt->qtail = NULL;
        int dropped = b->dropped; /* its worker rewound it: nothing to finish (retry.c) */
        pthread_mutex_unlock(&rt->mu);
        sl_error_clear(&b->err);
        b->rc = dropped ? SL_OK : finish(rt, b, &b->err);
        if (b->rc) sl_error_prefix(&b->err, "closing %s", b->hidden ? b->hidden : b->dir);
        pthread_mutex_lock(&rt->mu);
        if (b->rc) sl_retry_pool_failed(rt, b); /* its worker may drop it instead */
        b->qnext = rt->done;
        rt->done = b;
        rt->pending--;
        rt->pending_c[b->ckpt & 1]--;
        pthread_cond_broadcast(&rt->cv);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

/* The caller holds rt->mu. */
void sl_closer_submit(sl_rt *rt, sl_bucket *b)
{
    b->qnext = NULL;
    if (rt->qtail)
        rt->qtail->qnext = b;
    else
        rt->qhead = b;
    rt->qtail = b;
    rt->pending++;
    rt->pending_c[b->ckpt & 1]++;
    pthread_cond_signal(&rt->qcv);
}

sl_err_t sl_closer_start(sl_rt *rt, int32_t threads, sl_error *err)
{
    rt->pool = calloc((size_t)threads, sizeof *rt->pool);
    if (!rt->pool) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < threads; i++) {
        if (pthread_create(&rt->pool[i], NULL, pool_main, rt))
            return sl_error_set(err, SL_ERR_NOMEM, "cannot start a close-pool thread");
        rt->n_pool = i + 1;
    }
    return SL_OK;
}

void sl_closer_stop(sl_rt *rt)
{
    pthread_mutex_lock(&rt->mu);
    rt->pool_stop = 1;
    pthread_cond_broadcast(&rt->qcv);
    pthread_mutex_unlock(&rt->mu);
    for (int32_t i = 0; i < rt->n_pool; i++)
        pthread_join(rt->pool[i], NULL);
    free(rt->pool);
    rt->pool = NULL;
    rt->n_pool = 0;
    rt->pool_stop = 0;
    while (rt->qhead) {
        sl_bucket *b = rt->qhead;
        rt->qhead = b->qnext;
        sl_bucket_free(b);
    }
    rt->qtail = NULL;
    while (rt->done) {
        sl_bucket *b = rt->done;
        rt->done = b->qnext;
        sl_bucket_free(b);
    }
    rt->pending = 0;
    rt->pending_c[0] = rt->pending_c[1] = 0;
}
