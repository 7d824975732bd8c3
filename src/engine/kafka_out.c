/* kafka_out.c - the Kafka output and its place in the checkpoint protocol.
 *
 * A pipeline with a kafka output owns one transactional producer
 * (plugins/kafka/kout.h), transactional.id "sluice-PIPELINE": the same id
 * for every run, so that a new run fences the previous one and Kafka aborts
 * whatever transaction that one left open. Transaction C holds exactly the
 * records of checkpoint C: after a worker passes barrier C it may not send
 * again until transaction C+1 is open (sl_kx_send waits at this gate), so
 * records of C+1 never slip into C. The wait is the commit below - the
 * close of C's files, the manifest and the Kafka commit - and only for
 * workers that have Kafka records to send.
 *
 * Kafka cannot prepare a transaction, so the two commits are ordered, and
 * the order is what lets recovery tell which way checkpoint C went:
 *
 *   1. manifest C is written with "txn 1": files and positions of C;
 *   2. transaction C commits, carrying C's positions as the consumer
 *      group's offsets (send_offsets_to_transaction): the transaction and
 *      the offsets become visible as one atomic fact;
 *   3. the marker STATE/manifests/C.committed is written (fsynced);
 *   4. C's files are published; transaction C+1 begins.
 *
 * Recovery with a newest manifest C that has "txn 1": C committed when its
 * marker exists, or else when the group's committed offsets equal C's
 * positions (a crash between 2 and 3: Kafka recorded the decision). Then C
 * is finished (marker written, files published). Otherwise transaction C
 * never committed - the new producer's init aborted it - so C is rolled
 * back: its manifest is renamed to C.rolledback, its hidden files become
 * zombies for the sweep, and the pipeline resumes from C-1's positions.
 *
 * Brokers that accept send_offsets_to_transaction but do not keep the
 * offsets (librdkafka's mock cluster behind `sluice dev-kafka` is one) lose
 * the second way of knowing: a crash between 2 and 3 then rolls back a
 * committed transaction, and its records are written again. The same mock
 * does not hide aborted transactions from read_committed consumers either.
 * Against such a broker the Kafka output is at-least-once; against Kafka it
 * is exactly-once. sl_kx_start says so in the log when it detects it.
 *
 * Dead letters with dead_letter kind kafka go through the same gate and
 * the same transaction (sl_kx_send_dead), so they are as exactly-once as
 * the output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/log.h"
#include "engine/deadletter.h"
#include "engine/rt_int.h"
#include "plugins/kafka/kout.h"

static sl_err_t begin(sl_rt *rt, uint64_t c, sl_error *err)
{
    sl_err_t rc = sl_kout_begin(rt->kout, err);
    if (rc) return rc;
    pthread_mutex_lock(&rt->mu);
    atomic_store(&rt->txn_ckpt, c);
    pthread_cond_broadcast(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
    return SL_OK;
}

sl_err_t sl_kx_start(sl_rt *rt, sl_error *err)
{
    if (!rt->pl->has_kafka_out) return SL_OK;
    char txid[300];
    snprintf(txid, sizeof txid, "sluice-%s", rt->cfg->pipeline);
    const char *props[2 * 64 + 1];
    sl_err_t rc = sl_kout_open(&rt->kout, rt->cfg->source.brokers, txid,
                               sl_cfg_connection(rt->cfg, props, 2 * 64 + 1), err);
    if (!rc) rc = sl_kout_init(rt->kout, 60000, err);
    if (!rc) rc = begin(rt, rt->mf.checkpoint + 1, err);
    if (rc) {
        err->retriable = 1;
        sl_error_prefix(err, "kafka output");
    }
    return rc;
}

void sl_kx_stop(sl_rt *rt)
{
    if (!rt->kout) return;
    sl_kout_close(rt->kout); /* aborts the open transaction: its input is read again */
    rt->kout = NULL;
    atomic_store(&rt->txn_ckpt, 0);
}

/* Owned partitions' positions of manifest m as a partition list. */
static rd_kafka_topic_partition_list_t *positions(sl_rt *rt, const sl_manifest *m, int owned_only)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(m->n_pos + 1);
    pthread_mutex_lock(&rt->mu);
    for (int32_t i = 0; i < m->n_pos; i++) {
        int owned = !owned_only;
        for (int32_t w = 0; !owned && w < rt->nw; w++)
            for (int32_t k = 0; k < rt->w[w].n_parts; k++) {
                const sl_part *p = rt->w[w].parts[k];
                if (p->owned && p->partition == m->pos[i].partition &&
                    !strcmp(p->topic, m->pos[i].topic))
                    owned = 1;
            }
        if (owned && m->pos[i].offset >= 0)
            rd_kafka_topic_partition_list_add(l, m->pos[i].topic, m->pos[i].partition)->offset =
                m->pos[i].offset;
    }
    pthread_mutex_unlock(&rt->mu);
    return l;
}

static sl_err_t write_marker(sl_rt *rt, uint64_t c, sl_error *err)
{
    char path[4096];
    sl_manifest_path(path, sizeof path, rt->mf_dir, c, "committed");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return sl_error_errno(err, e, "cannot write %s", path);
    }
    close(fd);
    return rt->st->vt->sync_dir(rt->st, rt->mf_dir, err);
}

sl_err_t sl_kx_commit(sl_rt *rt, const sl_manifest *m, sl_error *err)
{
    if (!rt->kout) return SL_OK;
    rd_kafka_topic_partition_list_t *l = positions(rt, m, 1);
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(rt->rk);
    sl_fault_point("kafka.before_commit");
    sl_err_t rc = sl_kout_commit(rt->kout, l->cnt ? l : NULL, cgmd, 60000, err);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(l);
    if (rc) {
        err->retriable = 1; /* the attempt restarts; recovery decides C */
        return sl_error_prefix(err, "checkpoint %" PRIu64 ": kafka output", m->checkpoint);
    }
    sl_fault_point("kafka.committed");
    if ((rc = write_marker(rt, m->checkpoint, err))) {
        err->retriable = 1;
        return rc;
    }
    return SL_OK;
}

sl_err_t sl_kx_begin_next(sl_rt *rt, uint64_t c, sl_error *err)
{
    if (!rt->kout) return SL_OK;
    sl_err_t rc = begin(rt, c, err);
    if (rc) err->retriable = 1;
    return rc;
}

/* Did transaction C commit? 1 yes, 0 no, <0 error. */
static int committed(sl_rt *rt, const sl_manifest *m, sl_error *err)
{
    char path[4096];
    sl_manifest_path(path, sizeof path, rt->mf_dir, m->checkpoint, "committed");
    if (access(path, F_OK) == 0) return 1;
    rd_kafka_topic_partition_list_t *l = positions(rt, m, 0);
    if (!l->cnt) {
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(l);
    rd_kafka_resp_err_t e = rd_kafka_committed(rt->rk, q, 30000);
    int same = !e;
    for (int i = 0; same && i < l->cnt; i++)
        same = q->elems[i].err == 0 && q->elems[i].offset == l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_topic_partition_list_destroy(q);
    if (e) {
        sl_error_set(err, SL_ERR_IO, "cannot read the consumer group's offsets: %s",
                     rd_kafka_err2str(e));
        err->retriable = 1;
        return SL_ERR_IO;
    }
    return same;
}

sl_err_t sl_kx_decide(sl_rt *rt, int *rolled_back, sl_error *err)
{
    *rolled_back = 0;
    if (!rt->mf.checkpoint || !rt->mf.txn) return SL_OK;
    int c = committed(rt, &rt->mf, err);
    if (c < 0) return (sl_err_t)c;
    if (c) return write_marker(rt, rt->mf.checkpoint, err);
    char from[4096], to[4096];
    sl_manifest_path(from, sizeof from, rt->mf_dir, rt->mf.checkpoint, "manifest");
    sl_manifest_path(to, sizeof to, rt->mf_dir, rt->mf.checkpoint, "rolledback");
    if (rename(from, to) != 0) return sl_error_errno(err, errno, "cannot roll back %s", from);
    sl_error ignore;
    if (rt->st->vt->sync_dir(rt->st, rt->mf_dir, &ignore)) {
    }
    SL_LOG(SL_LOG_WARN,
           "checkpoint rolled back: its Kafka transaction did not commit; its input is read again",
           SL_F_INT("checkpoint", rt->mf.checkpoint));
    *rolled_back = 1;
    return SL_OK;
}

/* The gate: a worker past barrier C waits until transaction C+1 is open. */
static sl_err_t gate(sl_worker *w, sl_error *err)
{
    sl_rt *rt = w->rt;
    if (atomic_load(&rt->txn_ckpt) != w->done_ckpt + 1) { /* wait for transaction C+1 */
        pthread_mutex_lock(&rt->mu);
        while (atomic_load(&rt->txn_ckpt) != w->done_ckpt + 1 && !atomic_load(&rt->stop)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
        }
        pthread_mutex_unlock(&rt->mu);
        if (atomic_load(&rt->stop))
            return sl_error_set(err, SL_ERR_IO, "stopping: kafka output closed");
    }
    return SL_OK;
}

sl_err_t sl_kx_send(sl_worker *w, const sl_stream *st, const void *key, size_t klen,
                    const void *val, size_t vlen, sl_error *err)
{
    sl_err_t rc = gate(w, err);
    return rc ? rc : sl_kout_send(w->rt->kout, st->kafka_topic, -1, key, klen, val, vlen, err);
}

sl_err_t sl_kx_send_dead(sl_worker *w, const sl_dl_rec *r, sl_error *err)
{
    const char *names[SL_DL_N_HEADERS], *values[SL_DL_N_HEADERS];
    char num[128];
    int n = sl_dl_headers(r, names, values, num, sizeof num);
    sl_err_t rc = gate(w, err);
    if (!rc)
        rc = sl_kout_send_headers(w->rt->kout, w->rt->cfg->dead_letter.topic, -1, r->key,
                                  r->key ? r->klen : 0, r->raw, r->len, names, values, n, err);
    if (rc) sl_error_prefix(err, "dead letter");
    return rc;
}
