/* kout.h - the transactional Kafka producer the Kafka exporter stands on.
 *
 * One sl_kout is one librdkafka producer with a transactional.id. The life
 * cycle is librdkafka's: open, init (once: registers the id, fences any
 * older producer with the same id and aborts its open transaction), then
 * repeatedly begin / send... / commit (or abort), then close.
 *
 * Ordering with checkpoints (the exporter's business, stated here because
 * this API is what makes it possible): commit takes the consumer group's
 * offsets and commits them inside the same Kafka transaction
 * (send_offsets_to_transaction), so "the transaction committed" and "the
 * group's offsets moved" are one atomic fact that recovery can read back.
 *
 * Errors: every failure fills err with the transactional id, the step
 * (init, begin, send, flush, send_offsets, commit, abort) and, for messages,
 * topic/partition; err->retriable says whether the same call may succeed
 * later. After a failed commit, exactly one of these holds:
 *   - err->retriable: the transaction is still open (timeout): call commit
 *     again, or abort;
 *   - sl_kout_fatal(k): the producer is unusable (fenced by a newer producer
 *     with the same id, or an idempotence violation): close and reopen;
 *   - otherwise the transaction was aborted (an abortable error, or a message
 *     that could not be delivered): begin again and resend.
 *
 * Not thread-safe: one thread drives one sl_kout (librdkafka's transactional
 * API is not meant for concurrent calls either).
 */
#ifndef SL_PLUGINS_KAFKA_KOUT_H
#define SL_PLUGINS_KAFKA_KOUT_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "core/err.h"

typedef struct sl_kout sl_kout;

/* props: NULL-terminated key,value,key,value... extra librdkafka properties
 * (may be NULL); they are applied after sluice's defaults (idempotence,
 * 5 ms linger), so they can override them. On error *out is NULL. */
sl_err_t sl_kout_open(sl_kout **out, const char *brokers, const char *transactional_id,
                      const char *const *props, sl_error *err) SL_MUST_CHECK;

/* init_transactions, retried while retriable until timeout_ms: fences an
 * older producer with the same id and aborts its open transaction. */
sl_err_t sl_kout_init(sl_kout *k, int timeout_ms, sl_error *err) SL_MUST_CHECK;

sl_err_t sl_kout_begin(sl_kout *k, sl_error *err) SL_MUST_CHECK;

/* Queue one message (copied). Blocks polling while the local queue is full.
 * partition -1 = by key (librdkafka's default partitioner). */
sl_err_t sl_kout_send(sl_kout *k, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, sl_error *err) SL_MUST_CHECK;
/* The same with headers: n names and values (NUL-terminated text), copied. */
sl_err_t sl_kout_send_headers(sl_kout *k, const char *topic, int32_t partition, const void *key,
                              size_t klen, const void *val, size_t vlen, const char *const *names,
                              const char *const *values, int n, sl_error *err) SL_MUST_CHECK;

/* Flush, then send_offsets_to_transaction(offsets, cgmd) when offsets !=
 * NULL, then commit. Retriable errors are retried until timeout; an
 * abortable error aborts and returns the error (see the top comment). */
sl_err_t sl_kout_commit(sl_kout *k, const rd_kafka_topic_partition_list_t *offsets,
                        const rd_kafka_consumer_group_metadata_t *cgmd, int timeout_ms,
                        sl_error *err) SL_MUST_CHECK;

/* Abort the open transaction (retried while retriable until timeout). */
sl_err_t sl_kout_abort(sl_kout *k, int timeout_ms, sl_error *err) SL_MUST_CHECK;

/* Abort an open transaction (up to 5 s) unless fatal, then free. NULL ok. */
void sl_kout_close(sl_kout *k);

/* Added beyond the contract: state queries for the caller's
 * recovery logic. */
int sl_kout_fatal(const sl_kout *k);    /* 1: the producer must be reopened */
int sl_kout_in_txn(const sl_kout *k);   /* 1: begin succeeded, no commit/abort yet */
rd_kafka_t *sl_kout_handle(sl_kout *k); /* for metrics and tests; do not destroy */

#endif
