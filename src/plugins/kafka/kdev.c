/* kdev.c - librdkafka's mock cluster behind a small API (see kdev.h).
 *
 * rd_kafka_mock_cluster_new needs an rd_kafka_t for its bookkeeping; we
 * create a producer that is never used to produce (a "dummy" handle, as
 * rdkafka_mock.h describes) and destroy it after the cluster. The cluster
 * owns its threads and sockets; sl_kdev_stop joins them.
 *
 * Costs: one rd_kafka_t (a few threads) plus one thread per broker.
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "plugins/kafka/kconf.h"
#include "plugins/kafka/kdev.h"

struct sl_kdev {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int nbrokers;
};

sl_err_t sl_kdev_start(sl_kdev **out, int nbrokers, sl_error *err)
{
    char es[512];
    sl_err_t rc;
    rd_kafka_conf_t *c = NULL;
    sl_kdev *d = NULL;
    *out = NULL;
    if (nbrokers < 1 || nbrokers > SL_KDEV_MAX_BROKERS) {
        rc = sl_error_set(err, SL_ERR_INVALID, "dev-kafka: %d brokers: expected 1 to %d", nbrokers,
                          SL_KDEV_MAX_BROKERS);
        goto fail;
    }
    d = calloc(1, sizeof *d);
    c = rd_kafka_conf_new();
    if (!d || !c) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "dev-kafka: out of memory");
        goto fail;
    }
    d->nbrokers = nbrokers;
    sl_kconf_logging(c);
    rc = sl_kconf_set(c, "client.id", "sluice-dev-kafka", err);
    if (rc) goto fail;
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es);
    if (!d->rk) {
        rc = sl_error_set(err, SL_ERR_IO, "dev-kafka: cannot create the librdkafka handle: %s", es);
        goto fail;
    }
    c = NULL; /* owned by rk now */
    d->mc = rd_kafka_mock_cluster_new(d->rk, nbrokers);
    if (!d->mc) {
        rc = sl_error_set(err, SL_ERR_IO,
                          "dev-kafka: cannot start the mock cluster (no free port on 127.0.0.1, "
                          "or out of threads; see the kafka: lines above)");
        goto fail;
    }
    *out = d;
    return SL_OK;
fail:
    if (c) rd_kafka_conf_destroy(c);
    sl_kdev_stop(d);
    return rc;
}

static int sl_kdev_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 249 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

sl_err_t sl_kdev_create_topic(sl_kdev *d, const char *name, int partitions, sl_error *err)
{
    if (!name || !sl_kdev_name_ok(name))
        return sl_error_set(err, SL_ERR_INVALID,
                            "dev-kafka: topic name '%s': expected 1 to 249 characters of "
                            "A-Z a-z 0-9 . _ - (not '.' or '..')",
                            name ? name : "");
    if (partitions < 1 || partitions > SL_KDEV_MAX_PARTITIONS)
        return sl_error_set(err, SL_ERR_INVALID,
                            "dev-kafka: topic %s: %d partitions: expected 1 to %d", name,
                            partitions, SL_KDEV_MAX_PARTITIONS);
    int rf = d->nbrokers < 3 ? d->nbrokers : 3;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(d->mc, name, partitions, rf);
    if (e)
        return sl_error_set(err, SL_ERR_INVALID,
                            "dev-kafka: cannot create topic %s (%d partitions): %s", name,
                            partitions, rd_kafka_err2str(e));
    return SL_OK;
}

const char *sl_kdev_bootstraps(const sl_kdev *d)
{
    return rd_kafka_mock_cluster_bootstraps(d->mc);
}

struct rd_kafka_mock_cluster_s *sl_kdev_mock(sl_kdev *d)
{
    return d->mc;
}

void sl_kdev_stop(sl_kdev *d)
{
    if (!d) return;
    if (d->mc) rd_kafka_mock_cluster_destroy(d->mc);
    if (d->rk) rd_kafka_destroy(d->rk);
    free(d);
}
