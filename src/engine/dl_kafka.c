/* dl_kafka.c - dead letters read back from a Kafka topic (dead_letter kind
 * kafka), for `sluice dlq` and replay.c, through the same sl_dl_reader as
 * files (dl_read.c dispatches here for "kafka:" names).
 *
 * A source is one partition's offset range [from, to) of the dead-letter
 * topic, named "kafka:TOPIC/PARTITION/FROM-TO" so that a replay request and
 * a manifest carry it like a file path. The reader is an assign()-only
 * consumer (no group membership, nothing committed) reading with
 * isolation.level=read_committed: the dead letters were produced in the
 * checkpoints' transactions, and an aborted one must not come back.
 *
 * A message becomes an sl_dl_rec from its headers (engine/deadletter.h):
 * value = raw, key = key, sluice.* headers for the rest. Strings are
 * copied out of the headers (they are not NUL-terminated) into buffers the
 * reader owns; they and raw stay valid until the next call. A message
 * without sluice.pipeline is not a dead letter of sluice: it reads with an
 * empty pipeline name, which matches no pipeline.
 *
 * Rows are numbered from 0 in offset order, like a file's (a replay's
 * position is a row); the range ends at the first message at or past TO,
 * or at the partition's end once that is at or past TO. Until then a read
 * that finds nothing yet (an open transaction holds the stable offset
 * back, the broker is slow) says so (SL_DL_AGAIN) instead of waiting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "engine/config.h"
#include "engine/dl_kafka.h"
#include "plugins/kafka/kconf.h"

enum {
    H_PIPELINE,
    H_STREAM,
    H_TOPIC,
    H_PART,
    H_OFFSET,
    H_RECORD,
    H_KIND,
    H_HOUR,
    H_REASON,
    H_KTS,
    H_INSTANCE,
    H_N
};
static const char *const hnames[H_N] = {
    "sluice.pipeline", "sluice.stream",          "sluice.topic",   "sluice.partition",
    "sluice.offset",   "sluice.record",          "sluice.kind",    "sluice.hour",
    "sluice.reason",   "sluice.kafka_timestamp", "sluice.instance"};

struct sl_dlk {
    rd_kafka_t *rk;
    char *topic;
    int32_t partition;
    int64_t from, to;
    int ended;
    rd_kafka_message_t *msg; /* the last row's message (its bytes are the row's) */
    char *str[H_N];          /* header values, NUL-terminated */
    size_t cap[H_N];
};

int sl_dlk_parse(const char *name, char *topic, size_t cap, int32_t *partition, int64_t *from,
                 int64_t *to)
{
    if (strncmp(name, "kafka:", 6)) return -1;
    const char *t = name + 6, *s1 = strrchr(t, '/');
    if (!s1 || s1 == t) return -1;
    const char *s0 = s1 - 1;
    while (s0 > t && *s0 != '/')
        s0--;
    if (s0 == t || (size_t)(s0 - t) >= cap) return -1;
    memcpy(topic, t, (size_t)(s0 - t));
    topic[s0 - t] = '\0';
    long long p, f, e;
    char tail;
    if (sscanf(s0 + 1, "%lld/%lld-%lld%c", &p, &f, &e, &tail) != 3 || p < 0 || p > INT32_MAX ||
        f < 0 || e < f)
        return -1;
    *partition = (int32_t)p;
    *from = f;
    *to = e;
    return 0;
}

/* A consumer of cfg's cluster for reading dead letters. */
static sl_err_t consumer(rd_kafka_t **out, const sl_cfg *cfg, sl_error *err)
{
    char gid[300], errstr[512];
    const char *props[2 * 64 + 1];
    snprintf(gid, sizeof gid, "sluice-dlq-%s", cfg->pipeline);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_kconf_logging(c);
    sl_err_t rc = sl_kconf_set(c, "bootstrap.servers", cfg->source.brokers, err);
    if (!rc) rc = sl_kconf_set(c, "group.id", gid, err); /* never joined: assign() only */
    if (!rc) rc = sl_kconf_set(c, "enable.auto.commit", "false", err);
    if (!rc) rc = sl_kconf_set(c, "enable.auto.offset.store", "false", err);
    if (!rc) rc = sl_kconf_set(c, "isolation.level", "read_committed", err);
    if (!rc) rc = sl_kconf_set(c, "enable.partition.eof", "true", err);
    if (!rc) rc = sl_kconf_set_props(c, sl_cfg_connection(cfg, props, 2 * 64 + 1), err);
    if (rc) {
        rd_kafka_conf_destroy(c);
        return rc;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        return sl_error_set(err, SL_ERR_IO, "cannot create a Kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(rk);
    *out = rk;
    return SL_OK;
}

void sl_dlk_close(sl_dlk *k)
{
    if (!k) return;
    if (k->msg) rd_kafka_message_destroy(k->msg);
    if (k->rk) {
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    for (int i = 0; i < H_N; i++)
        free(k->str[i]);
    free(k->topic);
    free(k);
}

sl_err_t sl_dlk_open(sl_dlk **out, const char *name, const sl_cfg *cfg, sl_error *err)
{
    char topic[1024];
    int32_t p;
    int64_t from, to;
    *out = NULL;
    if (sl_dlk_parse(name, topic, sizeof topic, &p, &from, &to))
        return sl_error_set(err, SL_ERR_INVALID,
                            "'%s' is not a dead-letter range (kafka:TOPIC/PARTITION/FROM-TO)",
                            name);
    sl_dlk *k = calloc(1, sizeof *k);
    if (!k || !(k->topic = strdup(topic))) {
        free(k);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    k->partition = p;
    k->from = from;
    k->to = to;
    k->ended = from >= to;
    sl_err_t rc = k->ended ? SL_OK : consumer(&k->rk, cfg, err);
    if (!rc && !k->ended) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = from;
        rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
            rc = sl_error_set(err, SL_ERR_IO,
                              "dead-letter topic %s [%d]: cannot read from %" PRId64 ": %s", topic,
                              (int)p, from, rd_kafka_err2str(e));
    }
    if (rc) {
        sl_dlk_close(k);
        return rc;
    }
    *out = k;
    return SL_OK;
}

/* Header h of the message into the reader's buffer; NULL when absent. */
static const char *header(sl_dlk *k, rd_kafka_headers_t *hs, int h)
{
    const void *v;
    size_t n;
    if (!hs || rd_kafka_header_get_last(hs, hnames[h], &v, &n)) return NULL;
    if (n + 1 > k->cap[h]) {
        char *s = realloc(k->str[h], n + 1);
        if (!s) return NULL;
        k->str[h] = s;
        k->cap[h] = n + 1;
    }
    if (n) memcpy(k->str[h], v, n);
    k->str[h][n] = '\0';
    return k->str[h];
}

static int64_t num(const char *s, int64_t dflt)
{
    char *e;
    if (!s || !*s) return dflt;
    long long v = strtoll(s, &e, 10);
    return *e ? dflt : (int64_t)v;
}

int sl_dlk_next(sl_dlk *k, sl_dl_rec *d, int wait_ms, sl_error *err)
{
    if (k->msg) {
        rd_kafka_message_destroy(k->msg);
        k->msg = NULL;
    }
    if (k->ended) return 0;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, wait_ms);
    if (!m) return SL_DL_AGAIN;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        int end = m->offset >= k->to;
        rd_kafka_message_destroy(m);
        if (end) k->ended = 1;
        return end ? 0 : SL_DL_AGAIN;
    }
    if (m->err) {
        rd_kafka_resp_err_t e = m->err;
        sl_error_set(err, SL_ERR_IO, "dead-letter topic %s [%d]: %s", k->topic, (int)k->partition,
                     rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        /* the topic or partition is gone: an error; anything else is retried */
        return e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                       e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                       e == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE
                   ? -1
                   : SL_DL_AGAIN;
    }
    if (m->offset >= k->to) {
        rd_kafka_message_destroy(m);
        k->ended = 1;
        return 0;
    }
    k->msg = m;
    rd_kafka_headers_t *hs = NULL;
    if (rd_kafka_message_headers(m, &hs)) hs = NULL;
    const char *pl = header(k, hs, H_PIPELINE), *kind = header(k, hs, H_KIND);
    *d = (sl_dl_rec){0};
    d->pipeline = pl ? pl : "";
    d->stream = header(k, hs, H_STREAM);
    d->topic = header(k, hs, H_TOPIC);
    if (!d->topic) d->topic = "";
    d->partition = (int32_t)num(header(k, hs, H_PART), -1);
    d->offset = num(header(k, hs, H_OFFSET), -1);
    d->record = (int32_t)num(header(k, hs, H_RECORD), 0);
    d->hour_ms = num(header(k, hs, H_HOUR), 0);
    d->kafka_ts = num(header(k, hs, H_KTS), -1);
    rd_kafka_timestamp_type_t tt;
    d->time_ms = rd_kafka_message_timestamp(m, &tt);
    d->whole_value = kind && !strcmp(kind, "value");
    d->instance = header(k, hs, H_INSTANCE);
    d->reason = header(k, hs, H_REASON);
    if (!d->reason) d->reason = "";
    d->raw = m->payload ? (const uint8_t *)m->payload : (const uint8_t *)"";
    d->len = m->len;
    d->key = (const uint8_t *)m->key;
    d->klen = m->key ? m->key_len : 0;
    return 1;
}

int64_t sl_dlk_offset(const sl_dlk *k)
{
    return k->msg ? k->msg->offset : -1;
}

sl_err_t sl_dlk_topic_ends(const sl_cfg *cfg, const char *topic, int32_t *n, int64_t **lo,
                           int64_t **hi, sl_error *err)
{
    rd_kafka_t *rk = NULL;
    *n = 0;
    *lo = *hi = NULL;
    sl_err_t rc = consumer(&rk, cfg, err);
    if (rc) return rc;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e =
        t ? rd_kafka_metadata(rk, 0, t, &md, 10000) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (!e && (md->topic_cnt != 1 || md->topics[0].err))
        e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (e)
        rc = sl_error_set(err, SL_ERR_IO, "dead-letter topic %s: %s (brokers %s)", topic,
                          rd_kafka_err2str(e), cfg->source.brokers);
    int32_t np = rc ? 0 : md->topics[0].partition_cnt;
    if (!rc && np > 0 &&
        (!(*lo = calloc((size_t)np, sizeof **lo)) || !(*hi = calloc((size_t)np, sizeof **hi))))
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !rc && i < np; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        if (p < 0 || p >= np) { /* ids are 0..n-1 */
            rc = sl_error_set(err, SL_ERR_IO, "dead-letter topic %s: partition id %d", topic,
                              (int)p);
            break;
        }
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &(*lo)[p], &(*hi)[p], 10000);
        if (e)
            rc = sl_error_set(err, SL_ERR_IO, "dead-letter topic %s [%d]: watermarks: %s", topic,
                              (int)p, rd_kafka_err2str(e));
    }
    if (md) rd_kafka_metadata_destroy(md);
    if (t) rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk);
    if (rc) {
        free(*lo);
        free(*hi);
        *lo = *hi = NULL;
        return rc;
    }
    *n = np;
    return SL_OK;
}

sl_err_t sl_dlk_each(const sl_cfg *cfg, const char *topic, sl_dlk_fn fn, void *arg, sl_error *err)
{
    int32_t n = 0;
    int64_t *lo = NULL, *hi = NULL;
    sl_err_t rc = sl_dlk_topic_ends(cfg, topic, &n, &lo, &hi, err);
    for (int32_t p = 0; !rc && p < n; p++) {
        if (lo[p] < 0 || hi[p] <= lo[p]) continue;
        char name[1400];
        snprintf(name, sizeof name, "kafka:%s/%d/%" PRId64 "-%" PRId64, topic, (int)p, lo[p],
                 hi[p]);
        sl_dlk *k = NULL;
        if ((rc = sl_dlk_open(&k, name, cfg, err))) break;
        sl_dl_rec d;
        int got, idle = 0;
        while (!rc && (got = sl_dlk_next(k, &d, 100, err)) != 0) {
            if (got == SL_DL_AGAIN) {
                if (++idle > 150)
                    rc = sl_error_set(err, SL_ERR_IO,
                                      "dead-letter topic %s [%d]: offsets below %" PRId64
                                      " did not come within 15 s (a transaction still open? "
                                      "the brokers %s down?)",
                                      topic, (int)p, hi[p], cfg->source.brokers);
                continue;
            }
            idle = 0;
            if (got < 0)
                rc = err->code ? err->code : SL_ERR_IO;
            else if (fn(arg, name, sl_dlk_offset(k), &d))
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        }
        sl_dlk_close(k);
    }
    free(lo);
    free(hi);
    return rc;
}
