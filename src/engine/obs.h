/* obs.h - the runtime's hooks for metrics and status (obs.c): process-
 * lifetime totals, snapshots for the HTTP endpoint, STATE/http.addr.
 *
 * Every hook runs on the coordinator thread and is a no-op when the
 * pipeline has no http.listen (rt->obs is NULL), so a pipeline without the
 * endpoint pays nothing. The workers are never called: their per-stream
 * counters are read with relaxed loads, and their process-lifetime totals
 * are kept by stats.c.
 */
#ifndef SL_ENGINE_OBS_H
#define SL_ENGINE_OBS_H

#include "engine/rt_int.h"

typedef struct sl_obs sl_obs;

/* Start the endpoint when http.listen is set: read the token file, listen,
 * serve a first snapshot, write STATE/http.addr atomically. A missing or
 * empty token file, or an address that cannot be bound, is SL_ERR_INVALID
 * (not retriable); then nothing is left listening and rt->obs stays NULL. */
sl_err_t sl_obs_start(sl_rt *rt, sl_error *err) SL_MUST_CHECK;
/* Stop serving, remove STATE/http.addr, free (rt->obs = NULL). */
void sl_obs_stop(sl_rt *rt);

/* Each turn of the coordinator loop: the state is "running"; a new snapshot
 * about once a second and right after a checkpoint. */
void sl_obs_tick(sl_rt *rt);
/* Checkpoint m completed: its files were published (call before m's file
 * list is cleared), ms after its barrier began; the longest worker pause
 * at the barrier was pause_us. */
void sl_obs_published(sl_rt *rt, const sl_manifest *m, int64_t ms, int64_t pause_us);
/* A checkpoint ended with rc: an error counts as a failure (also one in the
 * commit of the hours it made ready); either way a snapshot follows. */
void sl_obs_checkpoint(sl_rt *rt, sl_err_t rc);
/* An attempt failed with err; the next starts in backoff_ms. */
void sl_obs_retrying(sl_rt *rt, const sl_error *err, int64_t backoff_ms);
/* commit.c: a partition of `stream` was announced (ok: every target took
 * it), or its commit finished (_SUCCESS and notifications). */
void sl_obs_notified(sl_rt *rt, const char *stream, int ok);
void sl_obs_committed(sl_rt *rt, const char *stream);

#endif
