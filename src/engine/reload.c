/* reload.c - hot reload: a new configuration or schema applied to a running
 * pipeline at one checkpoint boundary, without restarting the process.
 *
 * Triggers: SIGHUP, or (reload.watch) a change of the pipeline file, a
 * schema file, a Lua script or a .proto file next to a schema. The watcher
 * is inotify on those files' directories (editors and Kubernetes config
 * maps replace files by rename), polled by the coordinator every loop
 * turn; a change counts once its directory has been quiet for
 * SL_WATCH_QUIET_MS and the content of the watched files differs from what
 * runs (a hash), so saving a file twice or touching it reloads nothing.
 *
 * Applying, in an order that cannot leave a half-applied state:
 *   1. prepare (the coordinator, while workers run): load and compile the
 *      new file, check what may change, build everything that can fail -
 *      each worker's decoders and Lua states, the commit state (notifiers),
 *      the watcher. Any error rejects the change: it is logged with the
 *      file:line and key, counted, and the running configuration stays.
 *   2. checkpoint C with the workers held at its barrier: every record
 *      before the barrier was handled by the old configuration and is in
 *      C's files. Streams the new configuration removes get their open hours
 *      committed by C (no record will come for them any more).
 *   3. apply (workers parked, nothing in flight): fold the old counters into
 *      the totals, swap the pipeline, the workers' states, the commit state;
 *      free the old ones. Only pointer moves: it cannot fail.
 *   4. release the workers: every record after the barrier is handled by the
 *      new configuration.
 * The pause is one checkpoint (close, manifest, publish) plus the swap.
 *
 * What cannot change live: the pipeline name and state_dir (rejected: they
 * name the state), and what the Kafka clients are built from - source.*,
 * workers, whether a Kafka producer exists. Those are applied by ending the
 * attempt with a final checkpoint and starting the next one with the new
 * configuration in the same process (the consumer leaves and rejoins the
 * group); see runtime.c.
 *
 * Each applied or rejected reload appends a JSON line to
 * STATE/reloads.jsonl: time, generation, checkpoint, what changed, and the
 * input positions at the boundary (the first offset read under the new
 * configuration), so an operator can tell which records which
 * configuration handled.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/log.h"
#include "core/rows_json.h"
#include "engine/rt_int.h"

#define SL_WATCH_QUIET_MS 300
#define SL_WATCH_MAX_DIRS 64

/* ---- the watcher ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_file(uint64_t h, const char *path)
{
    h = fnv(h, path, strlen(path) + 1);
    FILE *f = fopen(path, "rb");
    if (!f) return fnv(h, "-", 1); /* missing: a state of its own */
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv(h, buf, n);
    fclose(f);
    return h;
}

static int has_suffix(const char *s, const char *x)
{
    size_t n = strlen(s), k = strlen(x);
    return n >= k && !strcmp(s + n - k, x);
}

static void dir_of(const char *path, char *out, size_t cap)
{
    const char *sl = strrchr(path, '/');
    if (!sl)
        snprintf(out, cap, ".");
    else if (sl == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(sl - path), path);
}

/* The content of everything a configuration is made of: the pipeline file,
 * its schemas and every .proto beside them (imports), its scripts. */
uint64_t sl_watch_hash(const sl_cfg *cfg)
{
    uint64_t h = hash_file(1469598103934665603ull, cfg->file);
    for (int i = 0; i < cfg->n_schemas; i++) {
        h = hash_file(h, cfg->schemas[i]);
        char dir[4096];
        dir_of(cfg->schemas[i], dir, sizeof dir);
        DIR *d = opendir(dir);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;
        while (d && (de = readdir(d))) { /* sorted below: readdir order varies */
            if (!has_suffix(de->d_name, ".proto")) continue;
            char **nn = realloc(names, (n + 1) * sizeof *names);
            if (!nn) break;
            names = nn;
            if (!(names[n] = strdup(de->d_name))) break;
            n++;
        }
        if (d) closedir(d);
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (strcmp(names[a], names[b]) > 0) {
                    char *t = names[a];
                    names[a] = names[b];
                    names[b] = t;
                }
        for (size_t a = 0; a < n; a++) {
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", dir, names[a]);
            h = hash_file(h, p);
            free(names[a]);
        }
        free(names);
    }
    for (int i = 0; i < cfg->n_streams; i++)
        if (cfg->streams[i].etl.script) h = hash_file(h, cfg->streams[i].etl.script);
    return h;
}

void sl_watch_close(sl_watch *w)
{
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    w->dirty_ms = 0;
}

sl_err_t sl_watch_open(sl_watch *w, const sl_cfg *cfg, sl_error *err)
{
    w->fd = -1;
    w->dirty_ms = 0;
    w->hash = sl_watch_hash(cfg);
    if (!cfg->reload.watch) return SL_OK;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) return sl_error_errno(err, errno, "reload.watch: inotify");
    char dirs[SL_WATCH_MAX_DIRS][4096];
    int nd = 0;
    const char *paths[SL_WATCH_MAX_DIRS];
    int np = 0;
    paths[np++] = cfg->file;
    for (int i = 0; i < cfg->n_schemas && np < SL_WATCH_MAX_DIRS; i++)
        paths[np++] = cfg->schemas[i];
    for (int i = 0; i < cfg->n_streams && np < SL_WATCH_MAX_DIRS; i++)
        if (cfg->streams[i].etl.script) paths[np++] = cfg->streams[i].etl.script;
    for (int i = 0; i < np; i++) {
        char d[4096];
        dir_of(paths[i], d, sizeof d);
        int dup = 0;
        for (int k = 0; k < nd && !dup; k++)
            dup = !strcmp(dirs[k], d);
        if (dup) continue;
        snprintf(dirs[nd++], sizeof dirs[0], "%s", d);
        if (inotify_add_watch(
                w->fd, d, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
            sl_error_errno(err, errno, "reload.watch: cannot watch %s", d);
            sl_watch_close(w);
            return err->code;
        }
    }
    return SL_OK;
}

int sl_watch_poll(sl_watch *w, const sl_cfg *cfg, int64_t now_ms)
{
    if (w->fd < 0) return 0;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(w->fd, buf, sizeof buf)) > 0)
        w->dirty_ms = now_ms; /* any event in a watched directory: look once it is quiet */
    if (!w->dirty_ms || now_ms - w->dirty_ms < SL_WATCH_QUIET_MS) return 0;
    w->dirty_ms = 0;
    uint64_t h = sl_watch_hash(cfg);
    if (h == w->hash) return 0;
    w->hash = h;
    return 1;
}

/* ---- prepare ---- */

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* What the Kafka clients are built from; a change needs a new attempt. */
static int source_changed(const sl_cfg *a, const sl_cfg *b, char *what, size_t cap)
{
    const char *k = NULL;
    if (!same_str(a->source.brokers, b->source.brokers))
        k = "source.brokers";
    else if (!same_str(a->source.group, b->source.group))
        k = "source.group";
    else if (a->source.start_latest != b->source.start_latest)
        k = "source.start";
    else if (a->workers != b->workers)
        k = "workers";
    else if (a->source.n_topics != b->source.n_topics)
        k = "source.topics";
    else if (a->source.n_properties != b->source.n_properties)
        k = "source.properties";
    for (int i = 0; !k && i < a->source.n_topics; i++)
        if (strcmp(a->source.topics[i], b->source.topics[i])) k = "source.topics";
    for (int i = 0; !k && i < a->source.n_properties; i++)
        if (strcmp(a->source.properties[i].key, b->source.properties[i].key) ||
            strcmp(a->source.properties[i].value, b->source.properties[i].value))
            k = "source.properties";
    if (k) snprintf(what, cap, "%s", k);
    return k != NULL;
}

static int32_t find_stream(const sl_cfg *c, const char *name)
{
    for (int32_t i = 0; i < c->n_streams; i++)
        if (!strcmp(c->streams[i].name, name)) return i;
    return -1;
}

void sl_reload_discard(sl_reload *r)
{
    for (int32_t i = 0; r->wpl && i < r->nw; i++)
        sl_wpl_free(&r->wpl[i]);
    free(r->wpl);
    sl_commit_state_free(&r->cs);
    sl_watch_close(&r->watch);
    if (r->pl) {
        sl_pipeline_free(r->pl);
        free(r->pl);
    }
    sl_cfg_free(r->cfg);
    memset(r, 0, sizeof *r);
    r->watch.fd = -1;
}

sl_err_t sl_reload_prepare(sl_rt *rt, sl_reload *r, sl_error *err)
{
    memset(r, 0, sizeof *r);
    r->watch.fd = -1;
    r->t0 = sl_rt_mono_ms();
    const sl_cfg *old = rt->cfg;
    sl_err_t rc = sl_cfg_load(&r->cfg, old->file, err);
    if (rc) goto fail;
    if (strcmp(r->cfg->pipeline, old->pipeline) || strcmp(r->cfg->state_dir, old->state_dir)) {
        rc = sl_error_set(err, SL_ERR_INVALID,
                          "%s: pipeline and state_dir cannot change while the pipeline runs (they "
                          "name its state); restart it to use another",
                          old->file);
        goto fail;
    }
    if (!(r->pl = calloc(1, sizeof *r->pl))) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = sl_pipeline_compile(r->pl, r->cfg, err))) {
        free(r->pl);
        r->pl = NULL;
        goto fail;
    }
    if ((rc = sl_watch_open(&r->watch, r->cfg, err))) goto fail;
    /* what changed, for the log */
    for (int32_t i = 0; i < r->cfg->n_streams; i++)
        if (find_stream(old, r->cfg->streams[i].name) < 0) r->added++;
    for (int32_t i = 0; i < old->n_streams; i++)
        if (find_stream(r->cfg, old->streams[i].name) < 0) r->removed++;
    if (source_changed(old, r->cfg, r->restart_why, sizeof r->restart_why))
        r->restart = 1;
    else if (!r->pl->has_kafka_out != !rt->pl->has_kafka_out) {
        r->restart = 1;
        snprintf(r->restart_why, sizeof r->restart_why, "a Kafka output added or removed");
    }
    if (r->restart) return SL_OK; /* the next attempt builds the rest */
    if ((rc = sl_commit_prepare(rt, r->pl, &r->cs, err))) goto fail;
    r->nw = rt->nw;
    if (!(r->wpl = calloc((size_t)r->nw + 1, sizeof *r->wpl))) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < r->nw; i++)
        if ((rc = sl_wpl_init(&r->wpl[i], r->pl, err))) goto fail;
    return SL_OK;
fail:
    sl_reload_discard(r);
    return rc;
}

int sl_reload_removes(const sl_rt *rt, const char *stream)
{
    return rt->reload && find_stream(rt->reload->cfg, stream) < 0;
}

/* ---- apply ---- */

/* Install r's configuration as the one running (workers parked or not
 * started; for a restart-class change only cfg/pl/watch are in r). */
void sl_reload_install(sl_rt *rt, sl_reload *r)
{
    const sl_cfg *old_cfg = rt->cfg;
    const sl_pipeline *old_pl = rt->pl;
    for (int32_t i = 0; r->wpl && i < rt->nw; i++) {
        if (sl_stats_fold(rt, &rt->w[i].ps))
            SL_LOG(SL_LOG_WARN, "out of memory keeping a stream's counters across a reload");
        sl_wpl_free(&rt->w[i].ps);
        rt->w[i].ps = r->wpl[i];
    }
    if (r->wpl) sl_commit_install(rt, &r->cs);
    rt->cfg = r->cfg;
    rt->pl = r->pl;
    sl_watch_close(&rt->watch);
    rt->watch = r->watch;
    /* the previous generation, when this runtime loaded it */
    if (rt->own_pl == old_pl && old_pl) {
        sl_pipeline_free(rt->own_pl);
        free(rt->own_pl);
    }
    if (rt->own_cfg == old_cfg) sl_cfg_free(rt->own_cfg);
    rt->own_cfg = r->cfg;
    rt->own_pl = r->pl;
    rt->generation++;
    sl_log_configure((sl_log_level)r->cfg->log.level, (sl_log_format)r->cfg->log.format);
    free(r->wpl);
    /* what stays in r: the figures of the change (added, removed, t0) */
    r->wpl = NULL;
    r->cfg = NULL;
    r->pl = NULL;
    r->watch.fd = -1;
}

/* ---- the record of reloads ---- */

void sl_reload_record(sl_rt *rt, const sl_reload *r, int applied, const char *error)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/reloads.jsonl", rt->cfg->state_dir);
    sl_buf b = SL_BUF_INIT;
    char head[512];
    int n = snprintf(head, sizeof head,
                     "{\"time_ms\":%" PRId64 ",\"result\":\"%s\",\"generation\":%" PRIu64
                     ",\"checkpoint\":%" PRIu64 ",\"added\":%d,\"removed\":%d,\"restart\":%s",
                     sl_rt_wall_ms(), applied ? "applied" : "rejected", rt->generation,
                     rt->mf.checkpoint, r ? r->added : 0, r ? r->removed : 0,
                     r && r->restart ? "true" : "false");
    sl_err_t rc = sl_buf_append(&b, head, (size_t)n);
    if (!rc && error) {
        rc = sl_buf_append(&b, ",\"error\":", 9);
        if (!rc) rc = sl_json_put_str(&b, error, strlen(error));
    }
    if (!rc && applied) { /* the boundary: the first offsets read under the new configuration */
        rc = sl_buf_append(&b, ",\"positions\":[", 14);
        for (int32_t i = 0; !rc && i < rt->mf.n_pos; i++) {
            const sl_mf_pos *p = &rt->mf.pos[i];
            if (i) rc = sl_buf_put_u8(&b, ',');
            if (!rc) rc = sl_buf_append(&b, "{\"topic\":", 9);
            if (!rc) rc = sl_json_put_str(&b, p->topic, strlen(p->topic));
            n = snprintf(head, sizeof head, ",\"partition\":%d,\"offset\":%" PRId64 "}",
                         (int)p->partition, p->offset);
            if (!rc) rc = sl_buf_append(&b, head, (size_t)n);
        }
        if (!rc) rc = sl_buf_put_u8(&b, ']');
    }
    if (!rc) rc = sl_buf_append(&b, "}\n", 2);
    FILE *f = rc ? NULL : fopen(path, "a");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fflush(f) || fdatasync(fileno(f)))
        SL_LOG(SL_LOG_WARN, "cannot append to the reload record", SL_F_STR("file", path),
               SL_F_STR("error", rc ? "out of memory" : strerror(errno)));
    if (f) fclose(f);
    sl_buf_free(&b);
}
