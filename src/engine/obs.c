/* obs.c - metrics and status of a running pipeline (obs.h): the one place
 * that reads the runtime for them.
 *
 * Process-lifetime totals. The workers' per-stream counters are folded by
 * stream name into rt->tot before workers end (stats.c: a retry, a hot
 * reload), so a figure is the totals plus the live workers' counters and
 * never goes back while the process lives. The figures the coordinator
 * itself produces - bytes and files published, partitions committed,
 * notifications - are added to the same totals here (SL_ST_BYTES_OUT ..
 * SL_ST_FAILED), by stream name too.
 *
 * Snapshots. sl_obs_tick builds one (status.h) about once a second and
 * right after a checkpoint: per-stream figures (totals + relaxed loads of
 * the workers' counters, no lock), the input partitions under rt->mu
 * (offsets, and high watermarks from librdkafka's cache: no request to the
 * broker), watermarks and hour partitions from rt->mf, checkpoint figures,
 * process figures from /proc/self. Hour partitions find their stream
 * through a hash of the snapshot's stream names, made per build. Measured
 * with 200 streams, 16 input partitions and 400 hour partitions: about
 * 0.2 ms per snapshot. The workers' hot path is not touched at all. The
 * snapshot goes to the HTTP server, which frees it once replaced and no
 * request renders it.
 *
 * States: starting (the first recovery), running (from the first loop turn
 * of an attempt), retrying (an attempt failed: the error and the next
 * attempt's time are kept until an attempt runs again).
 */
#include "engine/obs.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/ostream.h"
#include "engine/http.h"

#define RELAXED(x) __atomic_load_n(&(x), __ATOMIC_RELAXED) /* a plain field a worker writes */

struct sl_obs {
    sl_http *http;
    char *addr_path; /* STATE/http.addr */
    char *config;
    int64_t start_ms;
    int32_t *slot; /* per build: hash of the snapshot's stream names, index or -1 */
    uint32_t mask;
    sl_snap_state state;
    char *error;
    int64_t next_retry_ms, retries, files_published;
    int64_t ck_total, ck_failures, ck_le[SL_SNAP_BUCKETS], ck_last_bytes, ck_last_pause_us;
    int64_t ck_last_ms, ck_success_ms;
    double ck_sum_s;
    int64_t built_ms; /* monotonic time of the last snapshot */
    int dirty;        /* a checkpoint ended since */
};

static void count(sl_rt *rt, const char *stream, int k, long long n)
{
    sl_stotal *t = sl_stats_get(rt, stream);
    if (t) t->v[k] += n; /* out of memory: not counted */
}

void sl_obs_checkpoint(sl_rt *rt, sl_err_t rc)
{
    sl_obs *o = rt->obs;
    if (!o) return;
    o->dirty = 1;
    if (rc) o->ck_failures++;
}

void sl_obs_published(sl_rt *rt, const sl_manifest *m, int64_t ms, int64_t pause_us)
{
    sl_obs *o = rt->obs;
    if (!o) return;
    double s = (double)ms / 1000.0;
    o->ck_total++;
    o->ck_sum_s += s;
    o->ck_last_ms = ms;
    for (int i = 0; i < SL_SNAP_BUCKETS; i++)
        if (s <= sl_snap_bucket_le[i]) o->ck_le[i]++;
    o->ck_success_ms = sl_rt_wall_ms();
    o->ck_last_pause_us = pause_us;
    o->ck_last_bytes = 0;
    for (int32_t i = 0; i < m->n_files; i++) {
        const sl_mf_file *f = &m->files[i];
        o->ck_last_bytes += f->bytes;
        o->files_published++;
        if (f->hour == INT64_MIN && !strcmp(f->stream, "_dead_letter")) continue;
        count(rt, f->stream, SL_ST_BYTES_OUT, f->bytes);
        count(rt, f->stream, SL_ST_FILES, 1);
    }
}

void sl_obs_notified(sl_rt *rt, const char *stream, int ok)
{
    if (rt->obs) count(rt, stream, ok ? SL_ST_SENT : SL_ST_FAILED, 1);
}

void sl_obs_committed(sl_rt *rt, const char *stream)
{
    if (rt->obs) count(rt, stream, SL_ST_COMMITTED, 1);
}

/* ---- snapshots ---- */

/* /proc/self: resident memory, CPU time, open descriptors; and (once) the
 * start time. Zero where /proc cannot be read. */
static void proc_read(sl_snap *s, int64_t *start_ms)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long fld[22] = {0};  /* fields 3.. of proc(5) */
    for (int i = 0; p && i < 22; i++) {
        p = strchr(p + 1, ' ');
        if (p) fld[i] = strtoull(p + 1, NULL, 10);
    }
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (tck <= 0) tck = 100;
    s->proc.cpu_s = (double)(fld[11] + fld[12]) / (double)tck; /* utime + stime */
    s->proc.rss_bytes = (int64_t)fld[21] * (page > 0 ? page : 4096);
    if (start_ms && !*start_ms) { /* starttime: ticks after boot (btime in /proc/stat) */
        unsigned long long btime = 0;
        if ((f = fopen("/proc/stat", "r"))) {
            while (fgets(buf, sizeof buf, f))
                if (sscanf(buf, "btime %llu", &btime) == 1) break;
            fclose(f);
        }
        *start_ms =
            btime ? (int64_t)btime * 1000 + (int64_t)(fld[19] * 1000 / (unsigned long long)tck)
                  : sl_rt_wall_ms();
    }
    DIR *d = opendir("/proc/self/fd");
    int64_t fds = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        fds += e->d_name[0] != '.';
    if (d) closedir(d);
    s->proc.open_fds = fds > 0 ? fds - 1 : 0; /* not the directory's own */
}

/* Input partitions: the workers' (under rt->mu), else, between attempts,
 * the manifest's positions (offset only). -1 when out of memory. */
static int inputs(sl_rt *rt, sl_snap *s, int64_t now)
{
    int32_t n = 0;
    int bad = 0;
    pthread_mutex_lock(&rt->mu);
    for (int32_t w = 0; rt->w && w < rt->nw; w++)
        n += rt->w[w].n_parts;
    if (!rt->w) n = rt->mf.n_pos;
    if (n && !(s->inputs = calloc((size_t)n, sizeof *s->inputs))) bad = 1;
    for (int32_t w = 0; !bad && rt->w && w < rt->nw; w++)
        for (int32_t i = 0; !bad && i < rt->w[w].n_parts; i++) {
            const sl_part *p = rt->w[w].parts[i];
            if (!p->owned) continue;
            sl_snap_input *in = &s->inputs[s->n_inputs];
            if (!(in->topic = strdup(p->topic))) {
                bad = 1;
                break;
            }
            s->n_inputs++;
            in->partition = p->partition;
            in->worker = w;
            in->offset = RELAXED(p->next);
            in->idle = now - RELAXED(p->last_ms) >= rt->idle_ms;
            in->paused = atomic_load(&p->paused);
            int64_t lo = -1, hi = -1;
            if (!rt->rk ||
                rd_kafka_get_watermark_offsets(rt->rk, p->topic, p->partition, &lo, &hi) ||
                hi < 0) {
                in->high = in->lag = -1;
                continue;
            }
            in->high = hi;
            if (in->offset >= 0)
                in->lag = hi > in->offset ? hi - in->offset : 0;
            else /* nothing read yet: it starts at source.start */
                in->lag = rt->cfg->source.start_latest || lo < 0 ? 0 : hi - lo;
            s->lag += in->lag;
        }
    for (int32_t i = 0; !bad && !rt->w && i < rt->mf.n_pos; i++) {
        const sl_mf_pos *mp = &rt->mf.pos[i];
        char *t = strdup(mp->topic);
        if (!t) {
            bad = 1;
            break;
        }
        s->inputs[s->n_inputs++] = (sl_snap_input){t, mp->partition, -1, mp->offset, -1, -1, 0, 0};
    }
    pthread_mutex_unlock(&rt->mu);
    return bad ? -1 : 0;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The snapshot's stream called name, or NULL. */
static sl_snap_stream *find(const sl_obs *o, sl_snap *s, const char *name)
{
    for (uint32_t k = name_hash(name) & o->mask; o->slot[k] >= 0; k = (k + 1) & o->mask)
        if (!strcmp(s->streams[o->slot[k]].name, name)) return &s->streams[o->slot[k]];
    return NULL;
}

/* Per stream: totals + the live workers' counters, watermark, hour
 * partitions. -1 when out of memory. */
static int streams(sl_rt *rt, sl_snap *s)
{
    sl_obs *o = rt->obs;
    const sl_pipeline *pl = rt->pl;
    uint32_t cap = 64;
    while (cap < (uint32_t)pl->n_streams * 2)
        cap *= 2;
    if (cap != o->mask + 1 || !o->slot) {
        free(o->slot);
        if (!(o->slot = malloc(cap * sizeof *o->slot))) return -1;
        o->mask = cap - 1;
    }
    memset(o->slot, 0xff, cap * sizeof *o->slot);
    if (!(s->streams = calloc((size_t)pl->n_streams + 1, sizeof *s->streams))) return -1;
    long long v[SL_ST_N];
    for (int32_t i = 0; i < pl->n_streams; i++) {
        const sl_cfg_stream *cs = &rt->cfg->streams[i];
        sl_snap_stream *st = &s->streams[s->n_streams];
        if (!(st->name = strdup(cs->name))) return -1;
        uint32_t k = name_hash(cs->name) & o->mask;
        while (o->slot[k] >= 0)
            k = (k + 1) & o->mask;
        o->slot[k] = s->n_streams++;
        sl_stats_stream(rt, i, v);
        st->in = v[SL_ST_IN], st->out = v[SL_ST_OUT], st->filtered = v[SL_ST_FILTERED];
        st->dead = v[SL_ST_DEAD], st->late = v[SL_ST_LATE], st->bytes_in = v[SL_ST_BYTES];
        st->bytes_written = v[SL_ST_BYTES_OUT], st->files_published = v[SL_ST_FILES];
        st->partitions_committed = v[SL_ST_COMMITTED];
        st->notify_sent = v[SL_ST_SENT], st->notify_failed = v[SL_ST_FAILED];
        st->watermark_ms = rt->mf.watermark == INT64_MIN
                               ? INT64_MIN
                               : rt->mf.watermark - cs->wm.max_out_of_orderness_ms;
        st->last_committed_hour_ms = INT64_MIN;
    }
    sl_stats_total(rt, v); /* every stream ever, removed ones too, and records of none */
    s->records_in = v[SL_ST_IN];
    s->dead = v[SL_ST_DEAD];
    s->unrouted = rt->unrouted;
    for (int32_t w = 0; rt->w && w < rt->nw; w++)
        s->unrouted += atomic_load_explicit(&rt->w[w].n_unrouted, memory_order_relaxed);
    for (int32_t i = 0; i < rt->mf.n_parts; i++) {
        const sl_mf_part *p = &rt->mf.parts[i];
        sl_snap_stream *st = p->state == SL_PART_OPEN ? find(o, s, p->stream) : NULL;
        if (st) st->open_hours++;
    }
    for (int32_t i = 0; i < rt->mf.n_streams; i++) {
        const sl_mf_stream *t = &rt->mf.streams[i];
        sl_snap_stream *st = t->through != INT64_MIN ? find(o, s, t->stream) : NULL;
        if (st) st->last_committed_hour_ms = t->through - 3600000;
    }
    return 0;
}

static void build(sl_rt *rt)
{
    sl_obs *o = rt->obs;
    int64_t now = sl_rt_wall_ms();
    sl_snap *s = calloc(1, sizeof *s);
    if (!s) return;
    s->pipeline = strdup(rt->cfg->pipeline);
    s->config = strdup(o->config);
    s->error = o->error ? strdup(o->error) : NULL;
    if (!s->pipeline || !s->config || (o->error && !s->error) || streams(rt, s) ||
        inputs(rt, s, now)) {
        sl_snap_free(s); /* out of memory: the previous snapshot stays */
        return;
    }
    s->state = o->state;
    s->pid = (int)getpid();
    s->workers = rt->cfg->workers;
    s->time_ms = now;
    s->start_ms = o->start_ms;
    s->next_retry_ms = o->next_retry_ms;
    s->files_published = o->files_published;
    s->retries = o->retries;
    s->output_retries = atomic_load(&rt->local_retries);
    pthread_mutex_lock(&rt->mu);
    for (int32_t w = 0; rt->w && w < rt->nw; w++) {
        s->open_files += RELAXED(rt->w[w].n_open);
        if (rt->w[w].failing && s->state == SL_SNAP_RUNNING) { /* retry.c: an output fails */
            s->state = SL_SNAP_DEGRADED;
            free(s->error);
            s->error = strdup(rt->w[w].fail_msg ? rt->w[w].fail_msg : "?");
        }
    }
    pthread_mutex_unlock(&rt->mu);
    s->ckpt.last = rt->mf.checkpoint;
    s->ckpt.last_time_ms = rt->mf.time_ms;
    s->ckpt.total = o->ck_total;
    s->ckpt.failures = o->ck_failures;
    memcpy(s->ckpt.le, o->ck_le, sizeof s->ckpt.le);
    s->ckpt.sum_s = o->ck_sum_s;
    s->ckpt.last_duration_s = (double)o->ck_last_ms / 1000.0;
    s->ckpt.last_pause_s = (double)o->ck_last_pause_us / 1e6;
    s->ckpt.last_bytes = o->ck_last_bytes;
    s->ckpt.last_success_ms = o->ck_success_ms;
    proc_read(s, NULL);
    sl_http_publish(o->http, s);
    o->built_ms = sl_rt_mono_ms();
    o->dirty = 0;
}

void sl_obs_tick(sl_rt *rt)
{
    sl_obs *o = rt->obs;
    if (!o) return;
    if (o->state != SL_SNAP_RUNNING) {
        o->state = SL_SNAP_RUNNING;
        free(o->error);
        o->error = NULL;
        o->dirty = 1;
    }
    if (o->dirty || sl_rt_mono_ms() - o->built_ms >= 1000) build(rt);
}

void sl_obs_retrying(sl_rt *rt, const sl_error *err, int64_t backoff_ms)
{
    sl_obs *o = rt->obs;
    if (!o) return;
    o->state = SL_SNAP_RETRYING;
    o->retries++;
    o->next_retry_ms = sl_rt_wall_ms() + backoff_ms;
    free(o->error);
    o->error = strdup(err->msg);
    build(rt);
}

/* ---- start and stop ---- */

static sl_err_t write_addr(sl_obs *o, sl_error *err)
{
    sl_atomic_file af;
    char line[128];
    int n = snprintf(line, sizeof line, "%s\n", sl_http_addr(o->http));
    sl_err_t rc = sl_atomic_open(&af, o->addr_path, err);
    if (rc) return rc;
    if ((rc = sl_ostream_write(af.os, line, (size_t)n, err))) {
        sl_atomic_abort(&af);
        return rc;
    }
    return sl_atomic_commit(&af, err);
}

sl_err_t sl_obs_start(sl_rt *rt, sl_error *err)
{
    const sl_cfg *cfg = rt->cfg;
    if (!cfg->http.listen) return SL_OK;
    sl_obs *o = calloc(1, sizeof *o);
    char *token = NULL, real[PATH_MAX];
    int loose = 0;
    sl_err_t rc = SL_OK;
    size_t n = strlen(cfg->state_dir) + 16;
    if (!o || !(o->addr_path = malloc(n)) ||
        !(o->config = strdup(realpath(cfg->file, real) ? real : cfg->file))) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(o->addr_path, n, "%s/http.addr", cfg->state_dir);
    if (cfg->http.token_file) {
        if ((rc = sl_http_read_token(cfg->http.token_file, &token, &loose, err))) goto fail;
        if (loose)
            SL_LOG(SL_LOG_WARN,
                   "http.token_file is readable by group or others: anyone on this host who "
                   "reads it can read the pipeline's status and metrics; chmod 600 it",
                   SL_F_STR("file", cfg->http.token_file));
    }
    rc = sl_http_start(&o->http, cfg->http.listen, token, err);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (rc) goto fail;
    proc_read(&(sl_snap){0}, &o->start_ms);
    rt->obs = o;
    build(rt);
    if ((rc = write_addr(o, err))) {
        rt->obs = NULL;
        sl_error_prefix(err, "http endpoint");
        goto fail;
    }
    SL_LOG(SL_LOG_INFO, "http endpoint listening", SL_F_STR("address", sl_http_addr(o->http)),
           SL_F_STR("token", cfg->http.token_file ? "required" : "none"));
    return SL_OK;
fail:
    if (o) {
        sl_http_stop(o->http);
        free(o->slot);
        free(o->addr_path);
        free(o->config);
        free(o);
    }
    err->retriable = 0; /* a configuration error */
    return rc;
}

void sl_obs_stop(sl_rt *rt)
{
    sl_obs *o = rt->obs;
    if (!o) return;
    sl_http_stop(o->http);
    unlink(o->addr_path);
    free(o->slot);
    free(o->error);
    free(o->addr_path);
    free(o->config);
    free(o);
    rt->obs = NULL;
}
