/* stats.c - per-stream counters for the life of the process.
 *
 * Workers count per stream *index* of the pipeline they run (sl_sctr in
 * their sl_wpl), single-writer and lock-free. Those arrays end with the
 * worker state: when an attempt ends (a retry after a lake error) or a hot
 * reload swaps the pipeline (streams added, removed, reordered). Before
 * that, sl_stats_fold adds them into totals kept by stream *name*, so a
 * counter never goes back while the process lives (Prometheus counters,
 * the exit summary). A stream removed by a reload keeps its totals; one
 * added again continues them. The entry named "" is records of no stream.
 *
 * Only the coordinator thread folds and reads totals, so no lock: the
 * workers whose counters are folded are stopped or parked at a barrier.
 * Cost: a linear search per stream and fold (hundreds of streams, a few
 * times per process), never on the hot path.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/rt_int.h"

sl_stotal *sl_stats_get(sl_rt *rt, const char *stream)
{
    for (int32_t i = 0; i < rt->n_tot; i++)
        if (!strcmp(rt->tot[i].stream, stream)) return &rt->tot[i];
    if (rt->n_tot == rt->cap_tot) {
        int32_t nc = rt->cap_tot ? rt->cap_tot * 2 : 16;
        sl_stotal *nt = realloc(rt->tot, (size_t)nc * sizeof *nt);
        if (!nt) return NULL;
        rt->tot = nt;
        rt->cap_tot = nc;
    }
    sl_stotal *t = &rt->tot[rt->n_tot];
    memset(t, 0, sizeof *t);
    if (!(t->stream = strdup(stream))) return NULL;
    rt->n_tot++;
    return t;
}

static void add(long long v[SL_ST_N], const sl_sctr *c)
{
    v[SL_ST_IN] += atomic_load_explicit(&c->in, memory_order_relaxed);
    v[SL_ST_OUT] += atomic_load_explicit(&c->out, memory_order_relaxed);
    v[SL_ST_FILTERED] += atomic_load_explicit(&c->filtered, memory_order_relaxed);
    v[SL_ST_DEAD] += atomic_load_explicit(&c->dead, memory_order_relaxed);
    v[SL_ST_LATE] += atomic_load_explicit(&c->late, memory_order_relaxed);
    v[SL_ST_BYTES] += atomic_load_explicit(&c->bytes, memory_order_relaxed);
}

sl_err_t sl_stats_fold(sl_rt *rt, sl_wpl *ps)
{
    const sl_pipeline *pl = ps->pl;
    if (!pl || !ps->sc) return SL_OK;
    for (int32_t s = 0; s <= pl->n_streams; s++) {
        sl_stotal *t = sl_stats_get(rt, s < pl->n_streams ? pl->cfg->streams[s].name : "");
        if (!t) return SL_ERR_NOMEM;
        add(t->v, &ps->sc[s]);
        memset(&ps->sc[s], 0, sizeof ps->sc[s]); /* folded once */
    }
    return SL_OK;
}

void sl_stats_stream(const sl_rt *rt, int32_t s, long long v[SL_ST_N])
{
    memset(v, 0, SL_ST_N * sizeof v[0]);
    const char *name = s < rt->pl->n_streams ? rt->cfg->streams[s].name : "";
    for (int32_t i = 0; i < rt->n_tot; i++)
        if (!strcmp(rt->tot[i].stream, name))
            for (int k = 0; k < SL_ST_N; k++)
                v[k] += rt->tot[i].v[k];
    for (int32_t i = 0; i < rt->nw; i++)
        if (rt->w[i].ps.sc && rt->w[i].ps.pl == rt->pl) add(v, &rt->w[i].ps.sc[s]);
}

void sl_stats_total(const sl_rt *rt, long long v[SL_ST_N])
{
    memset(v, 0, SL_ST_N * sizeof v[0]);
    for (int32_t i = 0; i < rt->n_tot; i++)
        for (int k = 0; k < SL_ST_N; k++)
            v[k] += rt->tot[i].v[k];
    for (int32_t i = 0; i < rt->nw; i++)
        for (int32_t s = 0; rt->w[i].ps.sc && s <= rt->w[i].ps.pl->n_streams; s++)
            add(v, &rt->w[i].ps.sc[s]);
}

void sl_stats_free(sl_rt *rt)
{
    for (int32_t i = 0; i < rt->n_tot; i++)
        free(rt->tot[i].stream);
    free(rt->tot);
    rt->tot = NULL;
    rt->n_tot = rt->cap_tot = 0;
}
