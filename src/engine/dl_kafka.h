/* dl_kafka.h - dead letters in a Kafka topic, read back by offset range
 * (dl_kafka.c). Used through sl_dl_open / sl_dl_next (deadletter.h) for
 * names "kafka:TOPIC/PARTITION/FROM-TO"; the topic's partitions and ends
 * for `sluice dlq`.
 */
#ifndef SL_ENGINE_DL_KAFKA_H
#define SL_ENGINE_DL_KAFKA_H

#include <stdint.h>

#include "core/err.h"
#include "engine/deadletter.h"

struct sl_cfg;
typedef struct sl_dlk sl_dlk;

/* Split "kafka:TOPIC/PARTITION/FROM-TO"; 0 or -1 (not such a name). */
int sl_dlk_parse(const char *name, char *topic, size_t cap, int32_t *partition, int64_t *from,
                 int64_t *to);
/* A reader of that range on cfg's cluster (source.brokers and its
 * connection properties). */
sl_err_t sl_dlk_open(sl_dlk **out, const char *name, const struct sl_cfg *cfg,
                     sl_error *err) SL_MUST_CHECK;
/* The next dead letter: 1, 0 at the end of the range, SL_DL_AGAIN when
 * nothing came within wait_ms (try again), -1 on error (err). */
int sl_dlk_next(sl_dlk *k, sl_dl_rec *d, int wait_ms, sl_error *err);
int64_t sl_dlk_offset(const sl_dlk *k); /* of the last row, -1: none */
void sl_dlk_close(sl_dlk *k);           /* NULL is fine */
/* Every dead letter on the topic now: each partition from its low to its
 * high watermark (waiting up to 15 s for offsets below it), fn(arg, the
 * range's name, the message's offset, the row) in order; fn returns 0, or
 * -1 to stop (out of memory). */
typedef int (*sl_dlk_fn)(void *arg, const char *range, int64_t offset, const sl_dl_rec *d);
sl_err_t sl_dlk_each(const struct sl_cfg *cfg, const char *topic, sl_dlk_fn fn, void *arg,
                     sl_error *err) SL_MUST_CHECK;
/* The topic's partitions (0..n-1) and their low and high watermarks. */
sl_err_t sl_dlk_topic_ends(const struct sl_cfg *cfg, const char *topic, int32_t *n, int64_t **lo,
                           int64_t **hi, sl_error *err) SL_MUST_CHECK;

#endif
