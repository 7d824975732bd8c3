/* gen.c - `sluice gen`: the reference workload (PlayEvents) to a file or
 * to a Kafka topic.
 *
 * Only argument parsing and output live here; the event model and the
 * encoders are the sl_playgen library (plugins/gen/playgen.h).
 *
 * File output: events are encoded into one large buffer (SL_GEN_CHUNK
 * bytes) and handed to an sl_ostream in chunks of that size, so the cost
 * is a write(2) per few MiB, no stdio per field. A file is written
 * atomically (core/ostream.h sl_atomic_*: temporary name in the same
 * directory, fsync, rename): on any error, and on SIGINT/SIGTERM, the
 * temporary is removed and no file (partial or not) appears under the
 * final name; an existing file of that name is left as it was. SIGXFSZ is
 * ignored so a file-size limit becomes an ordinary write error. `--output -`
 * writes to standard output through a small unbuffered fd stream (no
 * atomicity is possible there; a broken pipe ends the process as usual).
 *
 * Kafka output (--brokers, --topic): the same events, one Kafka message
 * each (the part of this file marked "Kafka mode"): value = the bare
 * PlayEvent (or the JSON line without its newline), key = mid in decimal,
 * header log_id, timestamp = event_time_ms. An idempotent producer (no
 * duplicates or reordering within a partition on retries), 5 ms linger and
 * large batches; --rate paces with a token bucket. Every delivery report is
 * awaited: exit 0 means the brokers acknowledged every event (acks=all).
 * Messages are partitioned by key hash, so the order of events is kept
 * within a partition, not across partitions.
 *
 * Exit status: 0 success, 1 failure (message names what failed and what to
 * do), 2 usage error, 130 interrupted.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/batch/kbatch.h"
#include "core/ostream.h"
#include "plugins/kafka/kconf.h"
#include "plugins/gen/playgen.h"

#define SL_GEN_CHUNK ((size_t)8 << 20)
#define SL_GEN_MAX_X 64

static void sl_gen_usage(FILE *f)
{
    sl_playgen_opts d;
    sl_playgen_opts_default(&d);
    fprintf(f,
            "usage: sluice gen --output FILE [OPTIONS]\n"
            "       sluice gen --brokers BOOTSTRAP --topic TOPIC [--rate N] [OPTIONS]\n"
            "\n"
            "Write synthetic PlayEvents (bench/play_event.proto, message bench.PlayEvent), the\n"
            "reference benchmark workload, deterministically for a seed. The same options give\n"
            "the same events in every format.\n"
            "\n"
            "options:\n"
            "  --output FILE       where to write; '-' for standard output. A file is written\n"
            "                      atomically (temporary + rename): never partial.\n"
            "  --count N           number of events (default %llu, at most %llu)\n"
            "  --format F          pb-delimited (varint length + message, default), pb (one\n"
            "                      bare message after another; only useful for a single event)\n"
            "                      or jsonl (protobuf JSON mapping, one object per line)\n"
            "  --seed S            PRNG seed, any unsigned 64-bit number (default %llu)\n"
            "  --streams K         log_id cycles over K streams (default %u)\n"
            "  --first-stream F    log_id of the first stream (default %u); log_id is \"%%06d\"\n"
            "  --start-ms T        event time of the first event, epoch ms (default %lld)\n"
            "  --span-s S          event times spread over S seconds (default %lld)\n"
            "  --disorder-s D      each event up to D seconds late, uniform (default %lld)\n"
            "  --quiet             no summary line on standard error\n"
            "\n"
            "Kafka mode (instead of --output): one message per event, value = the bare\n"
            "PlayEvent (--format pb, the default here) or the JSON line without newline\n"
            "(--format jsonl); key = mid in decimal; header log_id; timestamp = event time.\n"
            "  --brokers LIST      bootstrap servers (host:port,...)\n"
            "  --topic NAME        topic to produce to\n"
            "  --rate N            at most N events per second (default 0: as fast as possible)\n"
            "  --progress          a progress line on standard error every second\n"
            "  -X KEY=VALUE        extra librdkafka producer property (repeatable)\n"
            "  --batch N           N events per Kafka message: a batch of length-delimited\n"
            "                      records (docs/formats.md, Batched Kafka values); key,\n"
            "                      header and timestamp are the first event's\n"
            "  --batch-compression C  none (default), gzip, snappy, lz4 or zstd\n"
            "Exits 0 only when every message was acknowledged by the brokers.\n"
            "  --help              this text\n",
            (unsigned long long)d.count, (unsigned long long)SL_PLAYGEN_MAX_COUNT,
            (unsigned long long)d.seed, (unsigned)d.streams, (unsigned)d.first_stream,
            (long long)d.start_ms, (long long)d.span_s, (long long)d.disorder_s);
}

/* ---- standard output as an sl_ostream (unbuffered; chunks are large) ---- */

static sl_err_t sl_gen_fd_write(sl_ostream *s, const void *p, size_t n, sl_error *err)
{
    if (s->failed) return sl_error_set(err, s->failed, "%s: stream failed earlier", s->name);
    const char *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(STDOUT_FILENO, c + done, n - done);
        if (w < 0 && errno == EINTR && !sl_cli_stop) continue;
        if (w <= 0) {
            s->failed = sl_error_errno(err, w < 0 ? errno : EIO, "%s: write at byte %llu", s->name,
                                       (unsigned long long)(s->pos + done));
            return s->failed;
        }
        done += (size_t)w;
    }
    s->pos += n;
    return SL_OK;
}

static sl_err_t sl_gen_fd_noop(sl_ostream *s, sl_error *err)
{
    if (s->failed) return sl_error_set(err, s->failed, "%s: stream failed earlier", s->name);
    return SL_OK;
}

static void sl_gen_fd_destroy(sl_ostream *s)
{
    free(s);
}

static const sl_ostream_vt sl_gen_fd_vt = {sl_gen_fd_write, sl_gen_fd_noop, sl_gen_fd_noop,
                                           sl_gen_fd_destroy};

/* ---- argument parsing ---- */

static int sl_gen_parse_u64(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    if (!v || !*v || *v == '-' || *v == '+' || *v == ' ') goto bad;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > max) goto bad;
    *out = x;
    return 0;
bad:
    fprintf(stderr, "sluice gen: %s '%s': expected a whole number from 0 to %llu\n", opt,
            v ? v : "", (unsigned long long)max);
    return -1;
}

typedef struct sl_gen_args {
    sl_playgen_opts o;
    sl_playgen_format_t fmt;
    const char *fmt_name;
    const char *output;
    int quiet;
    int fmt_given;
    const char *brokers, *topic; /* Kafka mode when brokers != NULL */
    uint64_t rate;               /* events/s, 0 = unlimited */
    uint64_t batch;              /* events per Kafka message (framing batch), 0/1 = one */
    int batch_codec;             /* SL_KB_* */
    int progress;
    int nx;
    const char *xprops[SL_GEN_MAX_X]; /* "key=value" from -X */
} sl_gen_args;

/* Returns 0 to go on, or the exit status (0 for --help). */
static int sl_gen_parse(int argc, char **argv, sl_gen_args *a, int *done)
{
    uint64_t v;
    *done = 0;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i], *val = NULL;
        char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        char name[32];
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name) nlen = sizeof name - 1;
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            sl_gen_usage(stdout);
            *done = 1;
            return 0;
        }
        if (!strcmp(name, "--quiet") || !strcmp(name, "-q")) {
            a->quiet = 1;
            continue;
        }
        if (!strcmp(name, "--progress")) {
            a->progress = 1;
            continue;
        }
        if (!strcmp(name, "-X")) {
            if (i + 1 >= argc || !strchr(argv[i + 1], '=') || argv[i + 1][0] == '=') {
                fprintf(stderr, "sluice gen: -X needs KEY=VALUE (a librdkafka property)\n");
                return 2;
            }
            if (a->nx == SL_GEN_MAX_X) {
                fprintf(stderr, "sluice gen: at most %d -X options\n", SL_GEN_MAX_X);
                return 2;
            }
            a->xprops[a->nx++] = argv[++i];
            continue;
        }
        if (strncmp(name, "--", 2) != 0) {
            fprintf(stderr, "sluice gen: unexpected argument '%s' (see 'sluice gen --help')\n",
                    arg);
            return 2;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "sluice gen: %s needs a value (see 'sluice gen --help')\n", arg);
            return 2;
        }
        if (!strcmp(name, "--output"))
            a->output = val;
        else if (!strcmp(name, "--format")) {
            a->fmt_name = val;
            a->fmt_given = 1;
        } else if (!strcmp(name, "--brokers"))
            a->brokers = val;
        else if (!strcmp(name, "--topic"))
            a->topic = val;
        else if (!strcmp(name, "--batch")) {
            if (sl_gen_parse_u64(name, val, 1000000, &a->batch)) return 2;
        } else if (!strcmp(name, "--batch-compression")) {
            sl_error e;
            if (sl_kbatch_codec_parse(val, &a->batch_codec, &e) || a->batch_codec == SL_KB_AUTO) {
                fprintf(stderr,
                        "sluice gen: --batch-compression: none, gzip, snappy, lz4 or zstd\n");
                return 2;
            }
        } else if (!strcmp(name, "--rate")) {
            if (sl_gen_parse_u64(name, val, 100000000, &a->rate)) return 2;
        } else if (!strcmp(name, "--count")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_COUNT, &a->o.count)) return 2;
        } else if (!strcmp(name, "--seed")) {
            if (sl_gen_parse_u64(name, val, UINT64_MAX, &a->o.seed)) return 2;
        } else if (!strcmp(name, "--streams")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_STREAM + 1u, &v)) return 2;
            a->o.streams = (uint32_t)v;
        } else if (!strcmp(name, "--first-stream")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_STREAM, &v)) return 2;
            a->o.first_stream = (uint32_t)v;
        } else if (!strcmp(name, "--start-ms")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_START_MS, &v)) return 2;
            a->o.start_ms = (int64_t)v;
        } else if (!strcmp(name, "--span-s")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_SPAN_S, &v)) return 2;
            a->o.span_s = (int64_t)v;
        } else if (!strcmp(name, "--disorder-s")) {
            if (sl_gen_parse_u64(name, val, SL_PLAYGEN_MAX_DISORDER_S, &v)) return 2;
            a->o.disorder_s = (int64_t)v;
        } else {
            fprintf(stderr, "sluice gen: unknown option '%s' (see 'sluice gen --help')\n", arg);
            return 2;
        }
    }
    sl_error err;
    sl_error_clear(&err);
    if (a->brokers || a->topic) {
        if (a->output || !a->brokers || !*a->brokers || !a->topic || !*a->topic) {
            fprintf(stderr,
                    "sluice gen: Kafka mode needs --brokers and --topic, and no --output\n");
            return 2;
        }
        if (!a->fmt_given) a->fmt_name = "pb";
    } else if (!a->output) {
        fprintf(stderr, "sluice gen: --output FILE (or --brokers and --topic) is required ('-' "
                        "for standard output)\n");
        return 2;
    } else if (a->rate || a->progress || a->nx) {
        fprintf(stderr, "sluice gen: --rate, --progress and -X apply to Kafka mode only\n");
        return 2;
    }
    if (sl_playgen_format_parse(a->fmt_name, &a->fmt, &err) || sl_playgen_opts_check(&a->o, &err)) {
        fprintf(stderr, "sluice gen: %s\n", err.msg);
        return 2;
    }
    return 0;
}

/* ---- generation ---- */

static double sl_gen_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Generate every event into os, SL_GEN_CHUNK bytes per write. */
static sl_err_t sl_gen_run(const sl_gen_args *a, sl_ostream *os, sl_error *err)
{
    sl_playgen g;
    sl_buf b = SL_BUF_INIT;
    sl_err_t rc = sl_playgen_init(&g, &a->o, err);
    if (rc) goto fail;
    rc = sl_buf_reserve(&b, SL_GEN_CHUNK);
    if (rc) {
        sl_error_set(err, rc, "cannot allocate the %zu-byte output buffer", SL_GEN_CHUNK);
        goto fail;
    }
    for (;;) {
        while (b.len <= SL_GEN_CHUNK - SL_PLAYGEN_MAX_EVENT_BYTES &&
               (rc = sl_playgen_append(&g, a->fmt, &b)) == SL_OK) {
        }
        if (rc != SL_OK && rc != SL_ERR_EOF) {
            sl_error_set(err, rc, "event %llu: %s", (unsigned long long)g.i, sl_err_text(rc));
            goto fail;
        }
        if (sl_cli_stop) {
            rc = sl_error_set(err, SL_ERR_IO, "interrupted by signal %d", (int)sl_cli_stop);
            goto fail;
        }
        if (b.len) {
            rc = sl_ostream_write(os, b.p, b.len, err);
            if (rc) goto fail;
            sl_buf_reset(&b);
        }
        if (g.i >= a->o.count) break;
    }
    rc = SL_OK;
fail:
    sl_buf_free(&b);
    return rc;
}

/* ---- Kafka mode ----
 * The main loop draws an event, encodes it into a reused buffer and hands
 * it to librdkafka (copied; RD_KAFKA_MSG_F_COPY). A full local queue is
 * back-pressure: serve delivery reports for 10 ms and try again. Delivery
 * reports are counted in sl_gen_kstate by the callback, which runs on this
 * thread inside rd_kafka_poll/flush; only the first failure is kept (the
 * rest are counted). A fatal producer error (idempotence violated) stops
 * production at once. */

typedef struct sl_gen_kstate {
    uint64_t delivered, failed;
    uint64_t bytes;
    int fatal;
    char first_err[400];
} sl_gen_kstate;

static void sl_gen_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    sl_gen_kstate *s = opaque;
    if (!m->err) {
        s->delivered++;
        s->bytes += m->len;
        return;
    }
    if (!s->failed++)
        snprintf(s->first_err, sizeof s->first_err, "partition %d: %s", (int)m->partition,
                 rd_kafka_err2str(m->err));
}

static void sl_gen_error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    sl_gen_kstate *s = opaque;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        char es[256];
        rd_kafka_fatal_error(rk, es, sizeof es);
        if (!s->fatal++)
            snprintf(s->first_err, sizeof s->first_err, "fatal producer error: %s", es);
        return;
    }
    fprintf(stderr, "kafka: error: %s: %s\n", rd_kafka_err2name((rd_kafka_resp_err_t)e), reason);
}

static sl_err_t sl_gen_kconf(const sl_gen_args *a, sl_gen_kstate *s, rd_kafka_conf_t *c,
                             sl_error *err)
{
    static const char *const base[] = {"enable.idempotence",
                                       "true",
                                       "linger.ms",
                                       "5",
                                       "batch.num.messages",
                                       "10000",
                                       "batch.size",
                                       "4000000",
                                       "queue.buffering.max.messages",
                                       "500000",
                                       "client.id",
                                       "sluice-gen",
                                       NULL};
    sl_kconf_logging(c);
    rd_kafka_conf_set_dr_msg_cb(c, sl_gen_dr_cb);
    rd_kafka_conf_set_error_cb(c, sl_gen_error_cb);
    rd_kafka_conf_set_opaque(c, s);
    sl_err_t rc = sl_kconf_set_props(c, base, err);
    if (!rc) rc = sl_kconf_set(c, "bootstrap.servers", a->brokers, err);
    for (int i = 0; !rc && i < a->nx; i++) {
        char key[256];
        const char *eq = strchr(a->xprops[i], '=');
        size_t n = (size_t)(eq - a->xprops[i]);
        if (n >= sizeof key)
            return sl_error_set(err, SL_ERR_INVALID, "-X: property name longer than %zu bytes",
                                sizeof key - 1);
        memcpy(key, a->xprops[i], n);
        key[n] = '\0';
        rc = sl_kconf_set(c, key, eq + 1, err);
    }
    return rc;
}

/* Wait for tokens: the bucket holds at most rate/100 + 1 events (10 ms of
 * burst) and refills continuously. Serves delivery reports while waiting. */
typedef struct sl_gen_bucket {
    double tokens, cap, rate, last;
} sl_gen_bucket;

static void sl_gen_bucket_take(sl_gen_bucket *b, rd_kafka_t *rk)
{
    for (;;) {
        double now = sl_gen_now();
        b->tokens += (now - b->last) * b->rate;
        b->last = now;
        if (b->tokens > b->cap) b->tokens = b->cap;
        if (b->tokens >= 1.0 || sl_cli_stop) break;
        int ms = (int)((1.0 - b->tokens) / b->rate * 1000.0) + 1;
        rd_kafka_poll(rk, ms > 100 ? 100 : ms);
    }
    b->tokens -= 1.0;
}

static sl_err_t sl_gen_produce(const sl_gen_args *a, rd_kafka_t *rk, sl_gen_kstate *s,
                               uint64_t *sent, sl_error *err)
{
    sl_playgen g;
    sl_playgen_event ev, first;
    uint64_t in_batch = 0;
    sl_buf b = SL_BUF_INIT, acc = SL_BUF_INIT, enc = SL_BUF_INIT;
    sl_gen_bucket bk = {1.0, (double)a->rate / 100.0 + 1.0, (double)a->rate, sl_gen_now()};
    double next_progress = sl_gen_now() + 1.0, t0 = sl_gen_now();
    sl_err_t rc = sl_playgen_init(&g, &a->o, err);
    if (rc) goto fail;
    while ((rc = sl_playgen_next(&g, &ev)) == SL_OK) {
        char key[24];
        int klen = snprintf(key, sizeof key, "%lld", (long long)ev.mid);
        sl_buf_reset(&b);
        rc = a->fmt == SL_PLAYGEN_JSONL ? sl_playgen_json(&ev, &b)
                                        : sl_playgen_pb(&ev, a->fmt == SL_PLAYGEN_PB_DELIMITED, &b);
        if (rc) {
            sl_error_set(err, rc, "event %llu: cannot encode: %s", (unsigned long long)ev.index,
                         sl_err_text(rc));
            goto fail;
        }
        size_t vlen = b.len - (a->fmt == SL_PLAYGEN_JSONL && b.len ? 1 : 0); /* no '\n' */
        const uint8_t *val = b.p;
        if (a->batch > 1) { /* collect delimited records; send every a->batch events */
            if (in_batch == 0) first = ev; /* (log_id is an array: copied) */
            if (sl_buf_put_varint(&acc, vlen) || sl_buf_append(&acc, b.p, vlen)) {
                rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                goto fail;
            }
            if (++in_batch < a->batch && ev.index + 1 < a->o.count) continue;
            sl_buf_reset(&enc);
            if ((rc = sl_kbatch_encode(&enc, a->batch_codec, acc.p, acc.len, err))) goto fail;
            sl_buf_reset(&acc);
            in_batch = 0;
            val = enc.p;
            vlen = enc.len;
            klen = snprintf(key, sizeof key, "%lld", (long long)first.mid);
            ev.event_time_ms = first.event_time_ms;
            memcpy(ev.log_id, first.log_id, sizeof ev.log_id);
            ev.log_id_len = first.log_id_len;
        }
        if (a->rate) sl_gen_bucket_take(&bk, rk);
        for (;;) {
            if (sl_cli_stop || s->fatal) break;
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(a->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_KEY(key, (size_t)klen),
                RD_KAFKA_V_TIMESTAMP(ev.event_time_ms),
                RD_KAFKA_V_HEADER("log_id", ev.log_id, (ssize_t)ev.log_id_len), RD_KAFKA_V_END);
            if (!e) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rc = sl_error_set(err, SL_ERR_IO, "topic %s: event %llu: cannot queue: %s",
                                  a->topic, (unsigned long long)ev.index, rd_kafka_err2str(e));
                goto fail;
            }
            rd_kafka_poll(rk, 10);
        }
        if (sl_cli_stop || s->fatal) break;
        (*sent)++;
        rd_kafka_poll(rk, 0);
        if (a->progress && sl_gen_now() >= next_progress) {
            double t = sl_gen_now() - t0;
            fprintf(stderr, "sluice gen: %llu queued, %llu delivered, %llu failed, %.0f events/s\n",
                    (unsigned long long)*sent, (unsigned long long)s->delivered,
                    (unsigned long long)s->failed, t > 0 ? (double)s->delivered / t : 0.0);
            next_progress += 1.0;
        }
    }
    if (rc != SL_ERR_EOF && rc != SL_OK) goto fail;
    rc = SL_OK;
fail:
    sl_buf_free(&b);
    sl_buf_free(&acc);
    sl_buf_free(&enc);
    return rc;
}

static int sl_gen_kafka(const sl_gen_args *a)
{
    char es[512];
    sl_error err;
    sl_gen_kstate s;
    uint64_t sent = 0;
    rd_kafka_t *rk = NULL;
    sl_err_t rc;
    memset(&s, 0, sizeof s);
    sl_error_clear(&err);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) {
        rc = sl_error_set(&err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    rc = sl_gen_kconf(a, &s, c, &err);
    if (rc) goto fail;
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es);
    if (!rk) {
        rc = sl_error_set(&err, SL_ERR_INVALID, "cannot create the producer: %s", es);
        goto fail;
    }
    c = NULL;
    double t0 = sl_gen_now();
    rc = sl_gen_produce(a, rk, &s, &sent, &err);
    if (rc) goto fail;
    /* Every delivery report, in 100 ms steps so a signal is seen. */
    double last = sl_gen_now();
    while (rd_kafka_outq_len(rk) > 0 && !sl_cli_stop && !s.fatal) {
        rd_kafka_flush(rk, 100);
        if (a->progress && sl_gen_now() - last >= 1.0) {
            last = sl_gen_now();
            fprintf(stderr, "sluice gen: %llu queued, %llu delivered, %llu failed, waiting\n",
                    (unsigned long long)sent, (unsigned long long)s.delivered,
                    (unsigned long long)s.failed);
        }
    }
    double secs = sl_gen_now() - t0;
    if (sl_cli_stop) {
        rc = sl_error_set(
            &err, SL_ERR_IO, "interrupted by signal %d after %llu of %llu events were delivered",
            (int)sl_cli_stop, (unsigned long long)s.delivered, (unsigned long long)a->o.count);
        goto fail;
    }
    if (s.fatal || s.failed) {
        rc = sl_error_set(&err, SL_ERR_IO,
                          "%llu of %llu events not delivered; first error: %s (is the broker "
                          "reachable and does the topic exist?)",
                          (unsigned long long)(a->o.count - s.delivered),
                          (unsigned long long)a->o.count, s.first_err);
        goto fail;
    }
    if (!a->quiet)
        fprintf(stderr,
                "sluice gen: %llu events (%s) to topic %s at %s in %.3f s: %.0f events/s, "
                "%.1f MB/s (acknowledged)\n",
                (unsigned long long)s.delivered, a->fmt_name, a->topic, a->brokers, secs,
                secs > 0 ? (double)s.delivered / secs : 0.0,
                secs > 0 ? (double)s.bytes / secs / 1e6 : 0.0);
    rd_kafka_destroy(rk);
    return 0;
fail:
    if (c) rd_kafka_conf_destroy(c);
    if (rk) {
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 0);
        rd_kafka_destroy(rk);
    }
    fprintf(stderr, "sluice gen: topic %s: %s\n", a->topic, err.msg);
    return sl_cli_stop ? 130 : 1;
}

int sl_cmd_gen(int argc, char **argv)
{
    sl_gen_args a = {.fmt_name = "pb-delimited"};
    sl_playgen_opts_default(&a.o);
    int done, st = sl_gen_parse(argc, argv, &a, &done);
    if (st || done) return st;

    sl_cli_trap_signals();
    if (a.brokers) return sl_gen_kafka(&a);

    sl_error err;
    sl_error_clear(&err);
    sl_atomic_file af;
    sl_ostream *os = NULL;
    int to_stdout = !strcmp(a.output, "-"), opened = 0;
    double t0 = sl_gen_now();
    sl_err_t rc;
    if (to_stdout) {
        os = calloc(1, sizeof *os);
        if (!os) {
            rc = sl_error_set(&err, SL_ERR_NOMEM, "out of memory");
            goto fail;
        }
        os->vt = &sl_gen_fd_vt;
        snprintf(os->name, sizeof os->name, "standard output");
    } else {
        rc = sl_atomic_open(&af, a.output, &err);
        if (rc) goto fail;
        opened = 1;
        os = af.os;
    }
    rc = sl_gen_run(&a, os, &err);
    if (rc) goto fail;
    uint64_t bytes = os->pos;
    double t1 = sl_gen_now();
    if (to_stdout) {
        sl_ostream_destroy(os);
    } else {
        opened = 0;
        rc = sl_atomic_commit(&af, &err);
        if (rc) goto fail;
    }
    os = NULL;
    double secs = t1 - t0, sync_secs = sl_gen_now() - t1;
    /* The rate excludes the final fsync: that is the disk's speed, not ours. */
    if (!a.quiet) {
        char sync_note[48] = "";
        if (!to_stdout) snprintf(sync_note, sizeof sync_note, " (+ %.3f s fsync)", sync_secs);
        fprintf(stderr,
                "sluice gen: %llu events, %llu bytes (%s) to %s in %.3f s%s: %.0f events/s, "
                "%.1f MB/s\n",
                (unsigned long long)a.o.count, (unsigned long long)bytes, a.fmt_name,
                to_stdout ? "standard output" : a.output, secs, sync_note,
                secs > 0 ? (double)a.o.count / secs : 0.0,
                secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
    }
    return 0;
fail:
    if (opened)
        sl_atomic_abort(&af);
    else if (to_stdout)
        sl_ostream_destroy(os);
    fprintf(stderr, "sluice gen: %s: %s%s\n", to_stdout ? "standard output" : a.output, err.msg,
            to_stdout ? ""
            : rc == SL_ERR_IO && !sl_cli_stop
                ? " (nothing was written under that name; check that the directory exists, is "
                  "writable and has free space)"
                : " (nothing was written under that name)");
    return sl_cli_stop ? 130 : 1;
}
