/* kconf.h - small helpers around librdkafka's rd_kafka_conf_t, shared by
 * every Kafka client sluice creates (dev-kafka, gen, the pipeline's
 * consumer, the transactional producer kout).
 *
 * - sl_kconf_set: one property, with an sl_error that names the key. Values
 *   of secret-looking keys (the key contains "password", "secret" or
 *   "sasl", case-insensitively) never appear in an error message, not even
 *   through librdkafka's own error text (which quotes the value).
 * - sl_kconf_set_props: a NULL-terminated key,value,... list.
 * - sl_kconf_log_cb: librdkafka's log lines on stderr as
 *   "kafka: <facility>: <message>", only at level <= warning (syslog 4)
 *   unless the environment has SL_KAFKA_DEBUG=1 (then every line librdkafka
 *   hands us; add `debug=...` for more). sl_kconf_logging installs it.
 *
 * No state, no allocation; cannot crash on NULL strings (they are errors).
 */
#ifndef SL_PLUGINS_KAFKA_KCONF_H
#define SL_PLUGINS_KAFKA_KCONF_H

#include <librdkafka/rdkafka.h>

#include "core/err.h"

/* Set key=value on c. On error c is unchanged, err names the key (and the
 * value and librdkafka's reason, unless the key is secret-looking). */
sl_err_t sl_kconf_set(rd_kafka_conf_t *c, const char *key, const char *value,
                      sl_error *err) SL_MUST_CHECK;

/* Set every pair of props (NULL-terminated key,value,... ; NULL = none).
 * Stops at the first error; pairs before it stay set. */
sl_err_t sl_kconf_set_props(rd_kafka_conf_t *c, const char *const *props,
                            sl_error *err) SL_MUST_CHECK;

/* 1 if values of this key must never be printed. */
int sl_kconf_is_secret(const char *key);

/* The log callback described above, and a one-line installer. Logs go
 * through the rd_kafka_t's main queue only if the caller asked for that;
 * by default librdkafka calls it from its own threads (it is thread-safe:
 * one fprintf per line). */
void sl_kconf_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
void sl_kconf_logging(rd_kafka_conf_t *c);

#endif
