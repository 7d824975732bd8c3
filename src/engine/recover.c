/* recover.c - publishing a checkpoint's files, and recovery (the protocol
 * is described at the top of runtime.c).
 *
 * sl_rt_publish renames a manifest's hidden files to their final names,
 * grouped by directory so each directory is fsynced once, on up to
 * PUBLISH_THREADS threads (with hundreds of partition directories the
 * directory fsyncs, not the renames, are the cost). It is idempotent: a
 * file already renamed is skipped, which is how recovery redoes a commit.
 *
 * sl_rt_recover loads the newest manifest, lets the Kafka output decide a
 * checkpoint whose transaction may not have committed (kafka_out.c),
 * publishes the manifest's files again, and deletes this instance's hidden
 * files that no manifest references (zombies of a crashed attempt), found
 * by walking each stream's output roots and the dead-letter directory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "core/log.h"
#include "engine/rt_int.h"

typedef struct sweep {
    sl_rt *rt;
    char prefix[300];
    int removed;
    sl_error *err;
    sl_err_t rc;
} sweep;

static int sweep_fn(void *arg, const char *path, const char *name)
{
    sweep *s = arg;
    size_t n = strlen(name), suf = strlen(".inprogress");
    if (strncmp(name, s->prefix, strlen(s->prefix)) || n < suf ||
        strcmp(name + n - suf, ".inprogress"))
        return 0;
    if ((s->rc = s->rt->st->vt->remove(s->rt->st, path, s->err))) return 1;
    s->removed++;
    return 0;
}

/* Publishing: the files of a checkpoint grouped by directory; each group
 * is renamed and its directory fsynced once. Groups go to up to
 * PUBLISH_THREADS threads, since with hundreds of partition directories the
 * directory fsyncs, not the renames, are the cost of a commit. */
#define PUBLISH_THREADS 8

typedef struct publish_ctx {
    sl_rt *rt;
    const sl_manifest *m;
    int redo;
    int32_t *order; /* file indexes sorted by directory */
    int32_t *group; /* start of each group in order, n_groups + 1 entries */
    int32_t n_groups;
    atomic_int next;
    pthread_mutex_t mu;
    sl_err_t rc;
    sl_error err;
} publish_ctx;

static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) : 0;
}

static const sl_manifest *g_sort_m;
static int by_dir(const void *a, const void *b)
{
    const char *x = g_sort_m->files[*(const int32_t *)a].final;
    const char *y = g_sort_m->files[*(const int32_t *)b].final;
    size_t lx = dir_len(x), ly = dir_len(y);
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* The file's hour partition is committed in m: compaction may have merged
 * the file away after it was published. */
static int committed_part(const sl_manifest *m, const sl_mf_file *f)
{
    for (int32_t i = 0; i < m->n_parts; i++)
        if (m->parts[i].hour == f->hour && m->parts[i].state == SL_PART_COMMITTED &&
            !strcmp(m->parts[i].stream, f->stream))
            return 1;
    return 0;
}

static void *publish_main(void *arg)
{
    publish_ctx *pc = arg;
    sl_storage *st = pc->rt->st;
    sl_error e;
    int g;
    while ((g = atomic_fetch_add(&pc->next, 1)) < pc->n_groups) {
        sl_err_t rc = SL_OK;
        const char *fin = NULL;
        for (int32_t k = pc->group[g]; !rc && k < pc->group[g + 1]; k++) {
            const sl_mf_file *f = &pc->m->files[pc->order[k]];
            fin = f->final;
            rc = st->vt->publish(st, f->hidden, f->final, &e);
            if (rc && pc->redo && strstr(e.msg, "No such file") && committed_part(pc->m, f))
                rc = SL_OK; /* its hour committed since: compacted into new files (compact.c) */
            else if (rc && pc->redo && strstr(e.msg, "No such file"))
                rc = sl_error_set(&e, SL_ERR_CORRUPT,
                                  "checkpoint %" PRIu64 " lists %s, but neither it nor %s "
                                  "exists: the lake lost a committed file (deleted by hand?); "
                                  "restore it, or remove it from the manifest to accept the loss",
                                  pc->m->checkpoint, f->hidden, f->final);
            if (!rc) sl_fault_point("ckpt.published_one");
        }
        if (!rc && fin && dir_len(fin)) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%.*s", (int)dir_len(fin), fin);
            rc = st->vt->sync_dir(st, dir, &e);
        }
        if (rc) {
            pthread_mutex_lock(&pc->mu);
            if (!pc->rc) {
                pc->rc = rc;
                pc->err = e;
            }
            pthread_mutex_unlock(&pc->mu);
            break;
        }
    }
    return NULL;
}

sl_err_t sl_rt_publish(sl_rt *rt, const sl_manifest *m, int redo, sl_error *err)
{
    if (!m->n_files) return SL_OK;
    publish_ctx pc = {.rt = rt, .m = m, .redo = redo};
    pc.order = malloc(sizeof(int32_t) * (size_t)m->n_files);
    pc.group = malloc(sizeof(int32_t) * (size_t)(m->n_files + 1));
    if (!pc.order || !pc.group) {
        free(pc.order);
        free(pc.group);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    for (int32_t i = 0; i < m->n_files; i++)
        pc.order[i] = i;
    g_sort_m = m; /* only the coordinator publishes */
    qsort(pc.order, (size_t)m->n_files, sizeof(int32_t), by_dir);
    for (int32_t i = 0; i < m->n_files; i++)
        if (i == 0 || by_dir(&pc.order[i - 1], &pc.order[i])) pc.group[pc.n_groups++] = i;
    pc.group[pc.n_groups] = m->n_files;
    atomic_init(&pc.next, 0);
    pthread_mutex_init(&pc.mu, NULL);
    pthread_t th[PUBLISH_THREADS];
    int nt = pc.n_groups < PUBLISH_THREADS ? pc.n_groups : PUBLISH_THREADS, started = 0;
    for (int i = 1; i < nt; i++, started++)
        if (pthread_create(&th[i - 1], NULL, publish_main, &pc)) break;
    publish_main(&pc); /* this thread works too */
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&pc.mu);
    free(pc.order);
    free(pc.group);
    if (pc.rc) *err = pc.err;
    return pc.rc;
}

sl_err_t sl_rt_recover(sl_rt *rt, sl_error *err)
{
    sl_manifest_free(&rt->mf);
    sl_err_t rc = sl_manifest_load(&rt->mf, rt->mf_dir, rt->cfg->pipeline, err);
    if (rc) return rc;
    int rolled_back = 0;
    if ((rc = sl_kx_decide(rt, &rolled_back, err))) return rc;
    if (rolled_back) { /* its Kafka transaction did not commit: back to C-1 */
        sl_manifest_free(&rt->mf);
        if ((rc = sl_manifest_load(&rt->mf, rt->mf_dir, rt->cfg->pipeline, err))) return rc;
    }
    if (rt->mf.checkpoint) {
        if ((rc = sl_rt_publish(rt, &rt->mf, 1, err))) {
            sl_error_prefix(err, "recovery: redoing the commit of checkpoint %" PRIu64,
                            rt->mf.checkpoint);
            return rc;
        }
        rt->files_published = 0;
    }
    sl_manifest_clear_files(&rt->mf);
    sweep s = {rt, "", 0, err, SL_OK};
    snprintf(s.prefix, sizeof s.prefix, ".sluice+%s+%s+", rt->cfg->pipeline, rt->instance);
    /* where this instance writes: the dead letters, each stream's output
     * root and its late side output's root */
    const char **roots = malloc(sizeof *roots * (size_t)(2 * rt->pl->n_streams + 1));
    if (!roots) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    int nr = 0;
    if (rt->cfg->dead_letter.path) roots[nr++] = rt->cfg->dead_letter.path; /* none: kind kafka */
    for (int32_t i = 0; i < rt->pl->n_streams; i++) {
        const char *cand[2] = {rt->pl->streams[i].tpl.root, rt->pl->streams[i].late_tpl.root};
        for (int c = 0; c < 2; c++) {
            int dup = !cand[c]; /* no such output */
            for (int k = 0; k < nr && !dup; k++)
                dup = !strcmp(roots[k], cand[c]);
            if (!dup) roots[nr++] = cand[c];
        }
    }
    for (int k = 0; !rc && k < nr; k++)
        if (!(rc = rt->st->vt->walk(rt->st, roots[k], sweep_fn, &s, err))) rc = s.rc;
    free(roots);
    if (rc) return rc;
    if (rt->mf.checkpoint || s.removed)
        SL_LOG(SL_LOG_INFO, "recovered from the last checkpoint (unfinished files removed)",
               SL_F_INT("checkpoint", rt->mf.checkpoint), SL_F_INT("removed", s.removed));
    return SL_OK;
}
