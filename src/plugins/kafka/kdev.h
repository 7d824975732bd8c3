/* kdev.h - a local Kafka-protocol cluster for development and tests
 * (`sluice dev-kafka`), built on librdkafka's mock cluster.
 *
 * The mock cluster runs inside this process on librdkafka threads and
 * listens on 127.0.0.1, one random port per broker. It speaks enough of the
 * protocol for producers (idempotent and transactional), consumer groups
 * with offset commits, and kcat. It keeps data in memory and bounds each
 * partition's log (librdkafka 2.0: about 5 MiB or 100k message sets, older
 * segments are dropped), so it is not a store for large tests: produce while
 * consuming, or spread data over partitions.
 *
 * Unknown topics: a metadata request that allows auto-creation (producers
 * by default; consumers only with allow.auto.create.topics=true) makes the
 * mock create the topic with its default partition count (4 in librdkafka
 * 2.0.2; tests/e2e/0020 checks this). Create the topics you need explicitly.
 *
 * Transactions: the mock accepts the whole transactional protocol
 * (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit,
 * EndTxn), but in librdkafka 2.0.2 it hands every InitProducerId a new
 * producer id (an older producer with the same transactional.id is not
 * fenced: test_kout shows its commit still succeeds), it writes no commit or
 * abort markers and keeps no aborted-transaction index (Fetch reports the
 * high watermark as last stable offset), and TxnOffsetCommit discards the
 * offsets. So against dev-kafka a read_committed consumer sees aborted and
 * open-transaction messages too, and offsets sent in a transaction are not
 * stored. Exactly-once visibility can only be verified against a real
 * broker (tests take one from SL_KAFKA_BROKERS when set).
 *
 * Not here: persistence, retention settings, TLS/SASL. Fault injection is
 * librdkafka's (rd_kafka_mock_push_request_errors ...) on sl_kdev_mock().
 */
#ifndef SL_PLUGINS_KAFKA_KDEV_H
#define SL_PLUGINS_KAFKA_KDEV_H

#include "core/err.h"

#define SL_KDEV_MAX_BROKERS    16
#define SL_KDEV_MAX_PARTITIONS 10000

typedef struct sl_kdev sl_kdev;

/* Start a cluster of nbrokers (1..SL_KDEV_MAX_BROKERS). On error *d is NULL
 * and nothing is left running. */
sl_err_t sl_kdev_start(sl_kdev **d, int nbrokers, sl_error *err) SL_MUST_CHECK;

/* Create topic name (Kafka's rules: 1..249 of [A-Za-z0-9._-]) with
 * partitions (1..SL_KDEV_MAX_PARTITIONS), replication min(3, brokers).
 * An existing topic is an error. */
sl_err_t sl_kdev_create_topic(sl_kdev *d, const char *name, int partitions,
                              sl_error *err) SL_MUST_CHECK;

/* "127.0.0.1:PORT,..." - valid until sl_kdev_stop. */
const char *sl_kdev_bootstraps(const sl_kdev *d);

/* The mock cluster, for fault injection in tests (rdkafka_mock.h). Added
 * beyond the contract. Valid until sl_kdev_stop. */
struct rd_kafka_mock_cluster_s *sl_kdev_mock(sl_kdev *d);

/* Stop the cluster and free everything. NULL is a no-op. */
void sl_kdev_stop(sl_kdev *d);

#endif
