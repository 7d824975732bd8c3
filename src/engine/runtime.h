/* runtime.h - `sluice run`: a compiled pipeline driven by Kafka, with
 * checkpoints, recovery and a clean stop. See runtime.c for the protocol. */
#ifndef SL_ENGINE_RUNTIME_H
#define SL_ENGINE_RUNTIME_H

#include <signal.h>

#include "engine/config.h"
#include "engine/pipeline.h"

typedef struct sl_runtime_opts {
    int64_t stop_when_idle_ms;     /* 0: run until stopped */
    volatile sig_atomic_t *stop;   /* set by SIGTERM/SIGINT: final checkpoint, exit */
    volatile sig_atomic_t *reload; /* set by SIGHUP: reload the pipeline file (reload.c); reset */
    int progress;                  /* print a progress line every few seconds */
} sl_runtime_opts;

/* Run until stopped, idle (opts), or a fatal error. Retriable failures
 * (the lake full or read-only, a broker down) are retried with backoff
 * from the last checkpoint, in-process; only configuration and data-loss
 * conditions return an error. */
sl_err_t sl_runtime_run(const sl_cfg *cfg, const sl_pipeline *pl, const sl_runtime_opts *opts,
                        sl_error *err) SL_MUST_CHECK;

#endif
