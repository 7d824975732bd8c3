/* state.h - a pipeline instance's state directory: the lock and the id.
 *
 * STATE/lock is held (flock, exclusive) for the life of `sluice run`: a
 * second run on the same state directory stops at once with the pid of the
 * first, instead of two instances writing one manifest sequence and
 * sweeping each other's in-progress files.
 *
 * STATE/instance holds a random 8-hex-digit id, made on the first run and
 * kept. It is part of every file name the instance writes in the lake
 * (hidden and final), so several instances of one pipeline (processes in
 * one consumer group, each with its own state directory) never collide on a
 * name, and an instance's zombie sweep only ever deletes its own files.
 */
#ifndef SL_ENGINE_STATE_H
#define SL_ENGINE_STATE_H

#include "core/err.h"

typedef struct sl_state {
    int lock_fd;
    char instance[9];
} sl_state;

sl_err_t sl_state_open(sl_state *s, const char *state_dir, const char *pipeline,
                       sl_error *err) SL_MUST_CHECK;
void sl_state_close(sl_state *s);
/* Whether a process holds STATE/lock (1, with its pid in *pid when the file
 * says, else 0) or not (0; also when the file does not exist). Probes with
 * a shared lock released at once, so it changes nothing; a `sluice run`
 * starting within that instant would find the directory busy. */
int sl_state_running(const char *state_dir, int *pid);

#endif
