/* gen.c - `sluice gen`: the reference workload (PlayEvents) to a file.
 *
 * Only argument parsing and output live here; the event model and the
 * encoders are the sl_playgen library (plugins/gen/playgen.h), which the
 * Kafka producer reuses.
 *
 * Output path: events are encoded into one large buffer (SL_GEN_CHUNK
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
 * Exit status: 0 success, 1 failure (message names what failed and what to
 * do), 2 usage error, 130 interrupted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/ostream.h"
#include "plugins/gen/playgen.h"

#define SL_GEN_CHUNK ((size_t)8 << 20)

static void sl_gen_usage(FILE *f)
{
    sl_playgen_opts d;
    sl_playgen_opts_default(&d);
    fprintf(f,
            "usage: sluice gen --output FILE [OPTIONS]\n"
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
        else if (!strcmp(name, "--format"))
            a->fmt_name = val;
        else if (!strcmp(name, "--count")) {
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
    if (!a->output) {
        fprintf(stderr, "sluice gen: --output FILE is required ('-' for standard output)\n");
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

int sl_cmd_gen(int argc, char **argv)
{
    sl_gen_args a = {.fmt_name = "pb-delimited"};
    sl_playgen_opts_default(&a.o);
    int done, st = sl_gen_parse(argc, argv, &a, &done);
    if (st || done) return st;

    sl_cli_trap_signals();

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
