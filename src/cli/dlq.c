/* dlq.c - `sluice dlq list|replay PIPELINE.yaml [filters]`: what is in the
 * dead-letter files, and putting it back through the pipeline.
 *
 *   list     dead letters per stream and hour, with their most frequent
 *            reason (read from the files, this instance's only);
 *   replay   ask the pipeline to re-ingest the selected dead letters once
 *            they can be processed (a schema fix, a script fix): a request
 *            file STATE/dlq/requests/ID.req that `sluice run` takes at its
 *            next turn (now, if it runs; else when it next runs). The replay
 *            itself is exactly once by the checkpoint protocol: see
 *            src/engine/replay.c. --wait follows it to its end.
 *
 * Filters: --stream S, --from HOUR, --to HOUR (the dead letters' hours,
 * inclusive, UTC), --reason TEXT (contained in the reason). A file is
 * selected when its hour is in range; replay then takes, within the files,
 * the rows that match stream and reason.
 *
 * Dead letters in a Kafka topic (dead_letter kind kafka): the same, read
 * from the topic (engine/dl_kafka.h) from each partition's low to high
 * watermark, leaving out what earlier replays took (engine/replay.h); the
 * request names offset ranges instead of files.
 *
 * Safety: replayed records of an hour the stream has committed are late;
 * under commit.late: drop they would be counted and not written. replay
 * refuses dead letters of a stream that drops late records and has
 * committed hours (exit 1, naming the stream) unless --force.
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/ostream.h"
#include "engine/config.h"
#include "engine/deadletter.h"
#include "engine/dl_kafka.h"
#include "engine/manifest.h"
#include "engine/replay.h"
#include "engine/state.h"
#include "engine/storage.h"

typedef struct sel {
    const sl_cfg *cfg;
    const char *stream, *reason;
    int64_t from, to;
    int64_t rate;     /* replay: dead letters per second at most, 0: no bound */
    char prefix[300]; /* PIPELINE-INSTANCE- */
    char **files;
    size_t n_files;
    struct agg { /* per (stream, hour) */
        char stream[256];
        int64_t hour, n;
        char reason[160]; /* the most frequent, of the first 64 distinct */
        struct {
            char text[160];
            int64_t n;
        } top[64];
        int n_top;
    } * a;
    size_t n_a, cap_a;
    int64_t rows;
    int kafka;        /* dead_letter kind kafka: files are ranges of the topic */
    char instance[9]; /* this state directory's (engine/state.h) */
} sel;

static void usage(FILE *f)
{
    fprintf(
        f, "usage: sluice dlq list PIPELINE.yaml [--stream S] [--from HOUR] [--to HOUR]\n"
           "                       [--reason TEXT] [--json]\n"
           "       sluice dlq replay PIPELINE.yaml [--stream S] [--from HOUR] [--to HOUR]\n"
           "                       [--reason TEXT] [--rate N] [--dry-run] [--wait SECONDS]\n"
           "                       [--force]\n"
           "  list: this instance's dead letters per stream and hour, with the most frequent\n"
           "        reason (with dead_letter kind kafka: those on the topic not replayed yet)\n"
           "  replay: re-ingest the selected dead letters through the pipeline, exactly once\n"
           "        (a request `sluice run` takes now, or when it next runs); replayed files\n"
           "        move to DEAD_LETTER_PATH/_replayed/ID/ (a topic's stay; what was\n"
           "        replayed is remembered). --wait follows it to its end.\n"
           "        --rate: at most N dead letters per second (the pipeline's Kafka input goes on\n"
           "        meanwhile); --force replays into committed hours of streams whose\n"
           "        commit.late is drop\n"
           "  HOUR: 2025-12-01T13 or 2025-12-01T13:00:00Z (UTC); --from and --to are inclusive\n");
}

/* Count row d under (stream, hour) and its reason. */
static int add_row(sel *s, const sl_dl_rec *d)
{
    const char *st = d->stream ? d->stream : "";
    struct agg *a = NULL;
    for (size_t i = 0; i < s->n_a && !a; i++)
        if (s->a[i].hour == d->hour_ms && !strcmp(s->a[i].stream, st)) a = &s->a[i];
    if (!a) {
        if (s->n_a == s->cap_a) {
            size_t nc = s->cap_a ? s->cap_a * 2 : 16;
            struct agg *na = realloc(s->a, nc * sizeof *na);
            if (!na) return -1;
            s->a = na;
            s->cap_a = nc;
        }
        a = &s->a[s->n_a++];
        memset(a, 0, sizeof *a);
        snprintf(a->stream, sizeof a->stream, "%s", st);
        a->hour = d->hour_ms;
    }
    a->n++;
    s->rows++;
    int k = 0;
    while (k < a->n_top && strncmp(a->top[k].text, d->reason, sizeof a->top[k].text - 1))
        k++;
    if (k == a->n_top && a->n_top < 64) snprintf(a->top[a->n_top++].text, 160, "%s", d->reason);
    if (k < a->n_top) a->top[k].n++;
    return 0;
}

/* A selected file (or range); -1 on NOMEM. */
static int add_file(sel *s, const char *path, sl_error *err)
{
    char **nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (nf) s->files = nf;
    if (!nf || !(nf[s->n_files] = strdup(path))) {
        sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        return -1;
    }
    s->n_files++;
    return 0;
}

/* The published dead-letter files of this instance in range, and their
 * matching rows counted. */
static int select_files(sel *s, sl_error *err)
{
    char pat[8400];
    snprintf(pat, sizeof pat, "%s/dt=*/hour=*/%s*", s->cfg->dead_letter.path, s->prefix);
    glob_t g;
    int gr = glob(pat, 0, NULL, &g);
    if (gr == GLOB_NOMATCH) return 0;
    if (gr) {
        sl_error_set(err, SL_ERR_IO, "cannot list %s", s->cfg->dead_letter.path);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
        const char *p = g.gl_pathv[i], *h = strstr(p + strlen(s->cfg->dead_letter.path), "/dt=");
        size_t n = strlen(p);
        if (n < 7 || (strcmp(p + n - 8, ".parquet") && strcmp(p + n - 6, ".jsonl"))) continue;
        char hour[32];
        int64_t ms;
        if (!h || sscanf(h, "/dt=%10[0-9-]/hour=%2[0-9]", hour, hour + 11) != 2) continue;
        hour[10] = 'T';
        if (sl_cli_parse_hour(hour, &ms) || ms < s->from || ms > s->to) continue;
        sl_dl_reader *r = NULL;
        if (sl_dl_open(&r, p, err)) {
            rc = -1;
            break;
        }
        sl_dl_rec d;
        int k, matched = 0;
        while ((k = sl_dl_next(r, &d, err)) > 0) {
            if (strcmp(d.pipeline, s->cfg->pipeline) ||
                (d.instance && strcmp(d.instance, s->instance)) ||
                (s->stream && (!d.stream || strcmp(d.stream, s->stream))) ||
                (s->reason && !strstr(d.reason, s->reason)))
                continue;
            matched = 1;
            if (add_row(s, &d)) k = -2;
        }
        sl_dl_close(r);
        if (k == -2) sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        if (k < 0) rc = -1;
        if (!rc && matched) rc = add_file(s, p, err);
    }
    globfree(&g);
    return rc;
}

/* The dead letters of the topic (dead_letter kind kafka) that no earlier
 * replay took (engine/replay.h), in range, counted; each partition holding
 * some becomes a range "kafka:TOPIC/P/LOW-HIGH" (the ends now). */
struct topic_sel {
    sel *s;
    sl_dl_prior *prior;
};

static int topic_row(void *arg, const char *range, int64_t offset, const sl_dl_rec *d)
{
    struct topic_sel *t = arg;
    sel *s = t->s;
    if (strcmp(d->pipeline, s->cfg->pipeline) ||
        (d->instance && strcmp(d->instance, s->instance)) ||
        (s->stream && (!d->stream || strcmp(d->stream, s->stream))) ||
        (s->reason && !strstr(d->reason, s->reason)) || d->hour_ms < s->from ||
        d->hour_ms > s->to || sl_replay_prior_has(t->prior, range, offset, d))
        return 0;
    sl_error e;
    if (add_row(s, d)) return -1;
    /* the range once, when its first dead letter matches */
    return s->n_files && !strcmp(s->files[s->n_files - 1], range) ? 0 : add_file(s, range, &e);
}

static int select_topic(sel *s, sl_error *err)
{
    struct topic_sel t = {s, NULL};
    int rc = sl_replay_prior_load(s->cfg->state_dir, &t.prior, err) ||
                     sl_dlk_each(s->cfg, s->cfg->dead_letter.topic, topic_row, &t, err)
                 ? -1
                 : 0;
    sl_replay_prior_free(t.prior);
    return rc;
}

static const char *top_reason(struct agg *a)
{
    int best = 0;
    for (int k = 1; k < a->n_top; k++)
        if (a->top[k].n > a->top[best].n) best = k;
    return a->n_top ? a->top[best].text : "";
}

static void print_list(sel *s, int json)
{
    char part[64];
    if (json) {
        printf("[");
        for (size_t i = 0; i < s->n_a; i++) {
            sl_cli_fmt_hour(part, sizeof part, s->a[i].hour);
            printf("%s{\"stream\":", i ? "," : "");
            if (s->a[i].stream[0])
                sl_cli_put_json_str(s->a[i].stream);
            else
                printf("null");
            printf(",\"partition\":\"%s\",\"hour_start_ms\":%" PRId64 ",\"dead_letters\":%" PRId64
                   ",\"top_reason\":",
                   part, s->a[i].hour, s->a[i].n);
            sl_cli_put_json_str(top_reason(&s->a[i]));
            printf("}");
        }
        printf("]\n");
        return;
    }
    printf("%-20s %-26s %12s  %s\n", "stream", "partition", "dead letters", "most frequent reason");
    for (size_t i = 0; i < s->n_a; i++) {
        sl_cli_fmt_hour(part, sizeof part, s->a[i].hour);
        printf("%-20s %-26s %12" PRId64 "  %.100s\n", s->a[i].stream[0] ? s->a[i].stream : "-",
               part, s->a[i].n, top_reason(&s->a[i]));
    }
    if (s->kafka)
        printf("%" PRId64 " dead letter%s not replayed yet in %zu partition%s of topic %s\n",
               s->rows, s->rows == 1 ? "" : "s", s->n_files, s->n_files == 1 ? "" : "s",
               s->cfg->dead_letter.topic);
    else
        printf("%" PRId64 " dead letter%s in %zu file%s\n", s->rows, s->rows == 1 ? "" : "s",
               s->n_files, s->n_files == 1 ? "" : "s");
}

/* Dead letters of streams that drop late records (commit.late: drop) and
 * have committed hours: replayed, those whose event hour is committed would
 * be counted late and not written. (A dead letter's own hour is no guide:
 * one that did not decode has the hour of its Kafka timestamp.) */
static int64_t would_drop(sel *s, char *why, size_t cap)
{
    char dir[4200];
    sl_manifest m;
    sl_error e;
    snprintf(dir, sizeof dir, "%s/manifests", s->cfg->state_dir);
    if (sl_manifest_load(&m, dir, s->cfg->pipeline, &e)) return 0;
    int64_t n = 0;
    why[0] = '\0';
    for (int k = 0; k < s->cfg->n_streams; k++) {
        const sl_cfg_stream *cs = &s->cfg->streams[k];
        int64_t through = INT64_MIN, rows = 0;
        for (int32_t i = 0; i < m.n_streams; i++)
            if (!strcmp(m.streams[i].stream, cs->name)) through = m.streams[i].through;
        for (size_t i = 0; i < s->n_a; i++)
            if (!strcmp(s->a[i].stream, cs->name)) rows += s->a[i].n;
        if (cs->commit.late != SL_LATE_DROP || through == INT64_MIN || !rows) continue;
        char part[64];
        sl_cli_fmt_hour(part, sizeof part, through);
        size_t l = strlen(why);
        if (l < cap - 1)
            snprintf(why + l, cap - l, "%s%s: %" PRId64 " dead letters, hours before %s committed",
                     l ? "; " : "", cs->name, rows, part);
        n += rows;
    }
    sl_manifest_free(&m);
    return n;
}

/* Write the request; its id into id. */
static int write_request(sel *s, char *id, size_t cap, sl_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(id, cap, "r%04d%02d%02dT%02d%02d%02d%03ld-%d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid());
    char req[4200], done[4200], dir[4200];
    sl_replay_paths(s->cfg->state_dir, id, req, done, sizeof req);
    snprintf(dir, sizeof dir, "%s/dlq/requests", s->cfg->state_dir);
    if (sl_mkdirs(dir, err)) return -1;
    sl_buf b = SL_BUF_INIT;
    int lines = 2, rc = 0;
    rc |= sl_buf_printf(&b, "sluice-dlq-request 1\nid %s\n", id);
    if (s->stream) rc |= sl_buf_printf(&b, "stream %s\n", s->stream), lines++;
    if (s->reason) rc |= sl_buf_printf(&b, "reason %s\n", s->reason), lines++;
    if (s->rate) rc |= sl_buf_printf(&b, "rate %" PRId64 "\n", s->rate), lines++;
    if (s->kafka && s->from != INT64_MIN) /* files are selected by their hour already */
        rc |= sl_buf_printf(&b, "from_hour %" PRId64 "\n", s->from), lines++;
    if (s->kafka && s->to != INT64_MAX)
        rc |= sl_buf_printf(&b, "to_hour %" PRId64 "\n", s->to), lines++;
    for (size_t i = 0; i < s->n_files; i++, lines++)
        rc |= sl_buf_printf(&b, "file %s\n", s->files[i]);
    rc |= sl_buf_printf(&b, "end %d\n", lines);
    sl_atomic_file af;
    if (rc) sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    if (!rc && (rc = sl_atomic_open(&af, req, err)) == 0) {
        if ((rc = sl_ostream_write(af.os, b.p, b.len, err)))
            sl_atomic_abort(&af);
        else
            rc = sl_atomic_commit(&af, err);
    }
    sl_buf_free(&b);
    return rc ? -1 : 0;
}

/* Wait for the request's summary; 0 done (printed), 1 not in time. */
static int wait_done(const sl_cfg *cfg, const char *id, int64_t secs)
{
    char req[4200], done[4200];
    sl_replay_paths(cfg->state_dir, id, req, done, sizeof req);
    for (int64_t t = 0; t <= secs * 10; t++) {
        FILE *f = fopen(done, "r");
        if (f) {
            char line[2048];
            if (fgets(line, sizeof line, f)) printf("replay %s finished: %s", id, line);
            fclose(f);
            return 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr,
            "sluice dlq replay: %s is not finished after %" PRId64
            " s; it goes on (see %s, then STATE/dlq/done/%s.json)\n",
            id, secs, req, id);
    return 1;
}

int sl_cmd_dlq(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "list") && strcmp(argv[1], "replay"))) {
        usage(stderr);
        return 2;
    }
    int replay = !strcmp(argv[1], "replay"), json = 0, dry = 0, force = 0;
    int64_t wait_s = -1;
    const char *file = NULL;
    sel s = {.from = INT64_MIN, .to = INT64_MAX};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--json") && !replay)
            json = 1;
        else if (!strcmp(o, "--dry-run") && replay)
            dry = 1;
        else if (!strcmp(o, "--force") && replay)
            force = 1;
        else if (!strcmp(o, "--wait") && replay && v && (wait_s = atoll(v)) > 0)
            i++;
        else if (!strcmp(o, "--rate") && replay && v && (s.rate = atoll(v)) > 0)
            i++;
        else if (!strcmp(o, "--stream") && v)
            s.stream = argv[++i];
        else if (!strcmp(o, "--reason") && v && !strchr(v, '\n'))
            s.reason = argv[++i];
        else if ((!strcmp(o, "--from") || !strcmp(o, "--to")) && v) {
            if (sl_cli_parse_hour(v, o[2] == 'f' ? &s.from : &s.to)) {
                fprintf(stderr, "sluice dlq: %s '%s': expected an hour like 2025-12-01T13\n", o, v);
                return 2;
            }
            i++;
        } else if (!file && o[0] != '-')
            file = o;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_cfg *cfg = NULL;
    if (sl_cfg_load(&cfg, file, &err)) {
        fprintf(stderr, "sluice dlq: %s\n", err.msg);
        return 1;
    }
    int rc = 1;
    char inst[9];
    s.cfg = cfg;
    s.kafka = cfg->dead_letter.kind == SL_OUT_KAFKA;
    if (s.kafka) { /* the topic is shared: this instance's dead letters */
        if (sl_cli_read_instance(cfg, s.instance)) {
            printf("no dead letters: %s has not run yet (no %s/instance)\n", cfg->pipeline,
                   cfg->state_dir);
            rc = 0;
            goto out;
        }
        if (select_topic(&s, &err)) {
            fprintf(stderr, "sluice dlq: %s\n", err.msg);
            goto out;
        }
    } else if (sl_cli_read_instance(cfg, inst)) { /* never ran: no dead letters of its own */
        printf("no dead letters: %s has not run yet (no %s/instance)\n", cfg->pipeline,
               cfg->state_dir);
        rc = 0;
        goto out;
    } else {
        snprintf(s.prefix, sizeof s.prefix, "%s-%s-", cfg->pipeline, inst);
        if (select_files(&s, &err)) {
            fprintf(stderr, "sluice dlq: %s\n", err.msg);
            goto out;
        }
    }
    if (!replay || dry) {
        print_list(&s, json);
        rc = 0;
        goto out;
    }
    if (!s.rows) {
        printf("nothing to replay: no dead letter matches\n");
        rc = 0;
        goto out;
    }
    char why[1024], id[128];
    int64_t drop = would_drop(&s, why, sizeof why);
    if (drop && !force) {
        fprintf(stderr,
                "sluice dlq replay: %" PRId64
                " dead letters belong to streams with committed hours and commit.late: drop "
                "(%s). Replayed, those whose event hour is committed would be counted late and "
                "not written. Set commit.late: reopen (or side-output) for the stream first - "
                "a hot reload applies it - or pass --force to replay anyway\n",
                drop, why);
        goto out;
    }
    if (write_request(&s, id, sizeof id, &err)) {
        fprintf(stderr, "sluice dlq replay: %s\n", err.msg);
        goto out;
    }
    int pid = 0;
    int running = sl_state_running(cfg->state_dir, &pid) == 1;
    printf("replay %s: %" PRId64 " dead letters in %zu %s%s; %s\n", id, s.rows, s.n_files,
           s.kafka ? "partition" : "file", s.n_files == 1 ? "" : "s",
           running ? "the running pipeline takes it now"
                   : "the pipeline is not running: `sluice run` takes it when it starts");
    rc = wait_s > 0 ? wait_done(cfg, id, wait_s) : 0;
out:
    for (size_t i = 0; i < s.n_files; i++)
        free(s.files[i]);
    free(s.files);
    free(s.a);
    sl_cfg_free(cfg);
    return rc;
}
