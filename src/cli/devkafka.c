/* devkafka.c - `sluice dev-kafka`: a local Kafka-protocol cluster
 * (librdkafka's mock cluster, plugins/kafka/kdev.h) for development, tests
 * and the demo, so none of them needs a broker install.
 *
 * Sequence: start the cluster, create every --topic, then publish the
 * bootstrap list: written to --bootstrap-file atomically (temporary +
 * rename, core/ostream.h), so a script that waits for the file to exist
 * reads a complete list of a cluster that is ready and has its topics; and
 * printed on stdout (one line, flushed). Then sleep until SIGINT/SIGTERM
 * (cli/signals.c; checked every 100 ms), remove the file, stop the
 * cluster, exit 0. Data lives only in memory: it ends with the process.
 *
 * SIGUSR1 takes every broker down (connections dropped, new ones refused)
 * and SIGUSR2 brings them back, so a test can show what clients do while
 * the cluster is unreachable - the topics and their data stay.
 *
 * Exit status: 0 after a signal, 1 failure (cluster, topic or file), 2 usage.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/ostream.h"
#include "plugins/kafka/kdev.h"

#define SL_DK_MAX_TOPICS 256

static void sl_dk_usage(FILE *f)
{
    fprintf(f,
            "usage: sluice dev-kafka [--brokers N] [--topic NAME[:PARTITIONS]]... "
            "[--bootstrap-file FILE]\n"
            "\n"
            "Run a local Kafka-protocol cluster (librdkafka's mock cluster) on 127.0.0.1 with\n"
            "random ports until SIGINT/SIGTERM. Data is kept in memory only, and each\n"
            "partition keeps only its newest ~5 MiB or 100k message sets.\n"
            "SIGUSR1 takes every broker down (for testing clients); SIGUSR2 brings them back.\n"
            "\n"
            "options:\n"
            "  --brokers N            number of brokers, 1 to %d (default 1)\n"
            "  --topic NAME[:P]       create topic NAME with P partitions (default 1, at most\n"
            "                         %d); repeat for more topics. A producer that writes to\n"
            "                         an unknown topic makes the cluster create it with 4\n"
            "                         partitions (librdkafka's mock default).\n"
            "  --bootstrap-file FILE  once the cluster is ready and the topics exist, write the\n"
            "                         bootstrap list and a newline to FILE (atomically); FILE is\n"
            "                         removed on exit\n"
            "  --help                 this text\n"
            "\n"
            "The bootstrap list is also printed on standard output.\n",
            SL_KDEV_MAX_BROKERS, SL_KDEV_MAX_PARTITIONS);
}

typedef struct sl_dk_topic {
    char name[256];
    int partitions;
} sl_dk_topic;

static int sl_dk_int(const char *what, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = v && *v >= '0' && *v <= '9' ? strtol(v, &end, 10) : -1;
    if (x < lo || x > hi || errno || *end) {
        fprintf(stderr, "sluice dev-kafka: %s '%s': expected a whole number from %d to %d\n", what,
                v ? v : "", lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int sl_dk_topic_parse(const char *v, sl_dk_topic *t)
{
    const char *colon = strrchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n == 0 || n >= sizeof t->name) {
        fprintf(stderr, "sluice dev-kafka: --topic '%s': expected NAME[:PARTITIONS]\n", v);
        return -1;
    }
    memcpy(t->name, v, n);
    t->name[n] = '\0';
    t->partitions = 1;
    if (colon &&
        sl_dk_int("--topic partitions", colon + 1, 1, SL_KDEV_MAX_PARTITIONS, &t->partitions))
        return -1;
    return 0;
}

static sl_err_t sl_dk_write_file(const char *path, const char *boot, sl_error *err)
{
    sl_atomic_file af;
    sl_err_t rc = sl_atomic_open(&af, path, err);
    if (rc) return rc;
    rc = sl_ostream_write(af.os, boot, strlen(boot), err);
    if (!rc) rc = sl_ostream_write(af.os, "\n", 1, err);
    if (rc) {
        sl_atomic_abort(&af);
        return rc;
    }
    return sl_atomic_commit(&af, err);
}

static volatile sig_atomic_t sl_dk_down_req;
static int sl_dk_is_down;

static void sl_dk_on_usr(int sig)
{
    sl_dk_down_req = sig == SIGUSR1;
}

int sl_cmd_dev_kafka(int argc, char **argv)
{
    int nbrokers = 1, ntopics = 0, st = 1, wrote = 0;
    const char *file = NULL;
    sl_dk_topic *topics = calloc(SL_DK_MAX_TOPICS, sizeof *topics);
    sl_kdev *d = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (!topics) {
        fprintf(stderr, "sluice dev-kafka: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sl_dk_usage(stdout);
            st = 0;
            goto out;
        }
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        if (!val) {
            fprintf(stderr, "sluice dev-kafka: %s needs a value (see 'sluice dev-kafka --help')\n",
                    a);
            st = 2;
            goto out;
        }
        if (nlen == 9 && !strncmp(a, "--brokers", nlen)) {
            if (sl_dk_int("--brokers", val, 1, SL_KDEV_MAX_BROKERS, &nbrokers)) goto usage;
        } else if (nlen == 7 && !strncmp(a, "--topic", nlen)) {
            if (ntopics == SL_DK_MAX_TOPICS) {
                fprintf(stderr, "sluice dev-kafka: at most %d --topic options\n", SL_DK_MAX_TOPICS);
                goto usage;
            }
            if (sl_dk_topic_parse(val, &topics[ntopics++])) goto usage;
        } else if (nlen == 16 && !strncmp(a, "--bootstrap-file", nlen)) {
            file = val;
        } else {
            fprintf(stderr,
                    "sluice dev-kafka: unknown option '%s' (see 'sluice dev-kafka --help')\n", a);
            goto usage;
        }
    }

    sl_cli_trap_signals();
    signal(SIGUSR1, sl_dk_on_usr);
    signal(SIGUSR2, sl_dk_on_usr);
    if (sl_kdev_start(&d, nbrokers, &err)) goto fail;
    for (int i = 0; i < ntopics; i++)
        if (sl_kdev_create_topic(d, topics[i].name, topics[i].partitions, &err)) goto fail;
    const char *boot = sl_kdev_bootstraps(d);
    if (file) {
        if (sl_dk_write_file(file, boot, &err)) {
            sl_error_prefix(&err, "bootstrap file %s", file);
            goto fail;
        }
        wrote = 1;
    }
    printf("%s\n", boot);
    fflush(stdout);
    while (!sl_cli_stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        int want = sl_dk_down_req;
        if (want != sl_dk_is_down) {
            for (int b = 1; b <= nbrokers; b++)
                (want ? rd_kafka_mock_broker_set_down
                      : rd_kafka_mock_broker_set_up)(sl_kdev_mock(d), (int32_t)b);
            sl_dk_is_down = want;
            fprintf(stderr, "sluice dev-kafka: brokers %s\n", want ? "down" : "up");
        }
    }
    st = 0;
    goto out;
usage:
    st = 2;
    goto out;
fail:
    fprintf(stderr, "sluice dev-kafka: %s\n", err.msg);
    st = 1;
out:
    if (wrote && unlink(file) != 0 && errno != ENOENT)
        fprintf(stderr, "sluice dev-kafka: cannot remove %s: %s\n", file, strerror(errno));
    sl_kdev_stop(d);
    free(topics);
    return st;
}
