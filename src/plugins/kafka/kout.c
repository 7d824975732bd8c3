/* kout.c - transactional producer (see kout.h for the contract).
 *
 * State: in_txn (between a successful begin and the end of commit/abort),
 * fatal (sticky; set from any rd_kafka_error_t that is fatal, or from the
 * error callback), and the first delivery failure of the current
 * transaction (the delivery-report callback runs on the calling thread
 * inside rd_kafka_poll/flush, so plain fields suffice).
 *
 * Commit is straight-line: flush (all messages acknowledged or failed) ->
 * if any failed: abort, return the first failure -> send_offsets (when
 * given) -> commit_transaction. Each step that returns a retriable error is
 * retried until the one deadline of the call; an error that requires abort
 * aborts with the time left (at least 1 s). Cost per send: one copy of key
 * and value into librdkafka and a non-blocking poll for delivery reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "plugins/kafka/kconf.h"
#include "plugins/kafka/kout.h"

struct sl_kout {
    rd_kafka_t *rk;
    int in_txn, fatal;
    uint64_t failed; /* delivery failures in the current transaction */
    char first_fail[300];
    char txid[200];
};

static int64_t sl_kout_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sl_kout_left(int64_t deadline)
{
    int64_t l = deadline - sl_kout_now_ms();
    return l < 0 ? 0 : (int)l;
}

static void sl_kout_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    sl_kout *k = opaque;
    if (!m->err) return;
    if (!k->failed++)
        snprintf(k->first_fail, sizeof k->first_fail, "topic %s partition %d: %s",
                 rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
}

static void sl_kout_error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    (void)rk;
    sl_kout *k = opaque;
    if (e == RD_KAFKA_RESP_ERR__FATAL) k->fatal = 1;
    SL_LOG(SL_LOG_WARN, "kafka producer error", SL_F_STR("transactional_id", k->txid),
           SL_F_STR("code", rd_kafka_err2name((rd_kafka_resp_err_t)e)), SL_F_STR("error", reason));
}

/* Fill err from a librdkafka error object (consumed). */
static sl_err_t sl_kout_fail(sl_kout *k, sl_error *err, rd_kafka_error_t *e, const char *step)
{
    int retriable = rd_kafka_error_is_retriable(e), fatal = rd_kafka_error_is_fatal(e);
    int abortable = rd_kafka_error_txn_requires_abort(e);
    if (fatal) k->fatal = 1;
    sl_error_set(err, SL_ERR_IO, "kafka producer %s: %s: %s (%s)", k->txid, step,
                 rd_kafka_error_string(e),
                 fatal       ? "fatal: close and reopen the producer"
                 : abortable ? "the transaction must be aborted"
                 : retriable ? "retriable"
                             : "not retriable");
    if (err) err->retriable = retriable && !fatal;
    rd_kafka_error_destroy(e);
    return SL_ERR_IO;
}

sl_err_t sl_kout_open(sl_kout **out, const char *brokers, const char *transactional_id,
                      const char *const *props, sl_error *err)
{
    static const char *const base[] = {"enable.idempotence", "true",        "linger.ms", "5",
                                       "client.id",          "sluice-kout", NULL};
    char es[512];
    sl_err_t rc;
    sl_kout *k = NULL;
    rd_kafka_conf_t *c = NULL;
    *out = NULL;
    if (!brokers || !*brokers || !transactional_id || !*transactional_id) {
        rc = sl_error_set(err, SL_ERR_INVALID,
                          "kafka producer: brokers and a transactional id are required");
        goto fail;
    }
    k = calloc(1, sizeof *k);
    c = rd_kafka_conf_new();
    if (!k || !c) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "kafka producer %s: out of memory", transactional_id);
        goto fail;
    }
    snprintf(k->txid, sizeof k->txid, "%s", transactional_id);
    sl_kconf_logging(c);
    rd_kafka_conf_set_dr_msg_cb(c, sl_kout_dr_cb);
    rd_kafka_conf_set_error_cb(c, sl_kout_error_cb);
    rd_kafka_conf_set_opaque(c, k);
    rc = sl_kconf_set_props(c, base, err);
    if (!rc) rc = sl_kconf_set(c, "bootstrap.servers", brokers, err);
    if (!rc) rc = sl_kconf_set(c, "transactional.id", transactional_id, err);
    if (!rc) rc = sl_kconf_set_props(c, props, err);
    if (rc) {
        sl_error_prefix(err, "kafka producer %s", k->txid);
        goto fail;
    }
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es);
    if (!k->rk) {
        rc = sl_error_set(err, SL_ERR_INVALID, "kafka producer %s: cannot create: %s", k->txid, es);
        goto fail;
    }
    *out = k;
    return SL_OK;
fail:
    if (c) rd_kafka_conf_destroy(c);
    free(k);
    return rc;
}

sl_err_t sl_kout_init(sl_kout *k, int timeout_ms, sl_error *err)
{
    int64_t deadline = sl_kout_now_ms() + timeout_ms;
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(k->rk, sl_kout_left(deadline));
        if (!e) return SL_OK;
        if (!rd_kafka_error_is_retriable(e) || sl_kout_left(deadline) == 0)
            return sl_kout_fail(k, err, e, "init_transactions");
        rd_kafka_error_destroy(e);
    }
}

sl_err_t sl_kout_begin(sl_kout *k, sl_error *err)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(k->rk);
    if (e) return sl_kout_fail(k, err, e, "begin_transaction");
    k->in_txn = 1;
    k->failed = 0;
    k->first_fail[0] = '\0';
    return SL_OK;
}

sl_err_t sl_kout_send(sl_kout *k, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, sl_error *err)
{
    return sl_kout_send_headers(k, topic, partition, key, klen, val, vlen, NULL, NULL, 0, err);
}

sl_err_t sl_kout_send_headers(sl_kout *k, const char *topic, int32_t partition, const void *key,
                              size_t klen, const void *val, size_t vlen, const char *const *names,
                              const char *const *values, int n, sl_error *err)
{
    if (!k->in_txn)
        return sl_error_set(err, SL_ERR_INVALID,
                            "kafka producer %s: send to topic %s: no open transaction (call "
                            "sl_kout_begin first)",
                            k->txid, topic);
    for (;;) {
        rd_kafka_resp_err_t e;
        if (n > 0) { /* librdkafka owns the headers once the message is queued */
            rd_kafka_headers_t *h = rd_kafka_headers_new((size_t)n);
            for (int i = 0; i < n; i++)
                rd_kafka_header_add(h, names[i], -1, values[i], -1);
            e = rd_kafka_producev(
                k->rk, RD_KAFKA_V_TOPIC(topic),
                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
                RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (e) rd_kafka_headers_destroy(h);
        } else
            e = rd_kafka_producev(
                k->rk, RD_KAFKA_V_TOPIC(topic),
                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
                RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_END);
        if (!e) break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (e == RD_KAFKA_RESP_ERR__FATAL) k->fatal = 1;
            sl_error_set(err, SL_ERR_IO, "kafka producer %s: send to topic %s partition %d: %s",
                         k->txid, topic, (int)partition, rd_kafka_err2str(e));
            if (err) err->retriable = 0;
            return SL_ERR_IO;
        }
        rd_kafka_poll(k->rk, 10); /* local queue full: wait for deliveries */
    }
    rd_kafka_poll(k->rk, 0);
    return SL_OK;
}

static sl_err_t sl_kout_abort_until(sl_kout *k, int64_t deadline, sl_error *err)
{
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(k->rk, sl_kout_left(deadline));
        if (!e) {
            k->in_txn = 0;
            return SL_OK;
        }
        if (!rd_kafka_error_is_retriable(e) || sl_kout_left(deadline) == 0)
            return sl_kout_fail(k, err, e, "abort_transaction");
        rd_kafka_error_destroy(e);
    }
}

/* After an abortable failure whose text is already in err: abort, keep
 * err's text (abort's own failure is appended), return not retriable. */
static sl_err_t sl_kout_abort_after(sl_kout *k, int64_t deadline, sl_error *err)
{
    int64_t floor = sl_kout_now_ms() + 1000;
    sl_error ae;
    sl_error_clear(&ae);
    if (sl_kout_abort_until(k, deadline > floor ? deadline : floor, &ae))
        sl_error_set(err, SL_ERR_IO, "%s; then the abort failed too: %s", err ? err->msg : "",
                     ae.msg);
    else
        sl_error_prefix(err, "transaction aborted");
    if (err) err->retriable = 0;
    return SL_ERR_IO;
}

sl_err_t sl_kout_commit(sl_kout *k, const rd_kafka_topic_partition_list_t *offsets,
                        const rd_kafka_consumer_group_metadata_t *cgmd, int timeout_ms,
                        sl_error *err)
{
    int64_t deadline = sl_kout_now_ms() + timeout_ms;
    rd_kafka_error_t *e;
    if (!k->in_txn)
        return sl_error_set(err, SL_ERR_INVALID, "kafka producer %s: commit: no open transaction",
                            k->txid);
    /* 1. every message acknowledged (or failed) */
    rd_kafka_flush(k->rk, sl_kout_left(deadline));
    if (rd_kafka_outq_len(k->rk) > 0 && !k->failed) {
        sl_error_set(err, SL_ERR_IO,
                     "kafka producer %s: flush: %d messages not acknowledged within %d ms "
                     "(retriable; the transaction is still open)",
                     k->txid, rd_kafka_outq_len(k->rk), timeout_ms);
        if (err) err->retriable = 1;
        return SL_ERR_IO;
    }
    if (k->failed) {
        sl_error_set(err, SL_ERR_IO, "kafka producer %s: %llu messages not delivered, first: %s",
                     k->txid, (unsigned long long)k->failed, k->first_fail);
        return sl_kout_abort_after(k, deadline, err);
    }
    /* 2. the group's offsets join the transaction */
    while (offsets && cgmd) {
        e = rd_kafka_send_offsets_to_transaction(k->rk, offsets, cgmd, sl_kout_left(deadline));
        if (!e) break;
        if (rd_kafka_error_txn_requires_abort(e)) {
            sl_kout_fail(k, err, e, "send_offsets_to_transaction");
            return sl_kout_abort_after(k, deadline, err);
        }
        if (!rd_kafka_error_is_retriable(e) || sl_kout_left(deadline) == 0)
            return sl_kout_fail(k, err, e, "send_offsets_to_transaction");
        rd_kafka_error_destroy(e);
    }
    /* 3. commit */
    for (;;) {
        e = rd_kafka_commit_transaction(k->rk, sl_kout_left(deadline));
        if (!e) break;
        if (rd_kafka_error_txn_requires_abort(e)) {
            sl_kout_fail(k, err, e, "commit_transaction");
            return sl_kout_abort_after(k, deadline, err);
        }
        if (!rd_kafka_error_is_retriable(e) || sl_kout_left(deadline) == 0)
            return sl_kout_fail(k, err, e, "commit_transaction");
        rd_kafka_error_destroy(e);
    }
    k->in_txn = 0;
    return SL_OK;
}

sl_err_t sl_kout_abort(sl_kout *k, int timeout_ms, sl_error *err)
{
    return sl_kout_abort_until(k, sl_kout_now_ms() + timeout_ms, err);
}

void sl_kout_close(sl_kout *k)
{
    if (!k) return;
    if (k->in_txn && !k->fatal) {
        sl_error e;
        sl_error_clear(&e);
        if (sl_kout_abort(k, 5000, &e))
            SL_LOG(SL_LOG_WARN, "kafka producer: aborting the open transaction at close failed",
                   SL_F_STR("transactional_id", k->txid), SL_F_STR("error", e.msg));
    }
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(k->rk, 0);
    rd_kafka_destroy(k->rk);
    free(k);
}

int sl_kout_fatal(const sl_kout *k)
{
    return k->fatal;
}

int sl_kout_in_txn(const sl_kout *k)
{
    return k->in_txn;
}

rd_kafka_t *sl_kout_handle(sl_kout *k)
{
    return k->rk;
}
