/* replay.h - what `sluice dlq replay` and the running pipeline share: where
 * a replay's request and summary live (the protocol is in replay.c). */
#ifndef SL_ENGINE_REPLAY_H
#define SL_ENGINE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* STATE/dlq/requests/ID.req (the request: lines "sluice-dlq-request 1",
 * "id ID", optional "stream S" and "reason TEXT", "file PATH"..., "end N"
 * counting the lines before it) and STATE/dlq/done/ID.json (the summary,
 * written when the replay is finished). */
void sl_replay_paths(const char *state_dir, const char *id, char *req, char *done, size_t cap);

/* Dead letters in a Kafka topic stay after they are replayed; a finished
 * replay of a topic keeps its request (ranges "file kafka:TOPIC/P/FROM-TO"
 * and filters "stream", "reason", "from_hour", "to_hour") as
 * STATE/dlq/replayed/ID.req. sl_replay_prior_has: 1 when one of those
 * selected the dead letter d read at `offset` of range `range`. */
struct sl_dl_rec;
typedef struct sl_dl_prior sl_dl_prior;
sl_err_t sl_replay_prior_load(const char *state_dir, sl_dl_prior **out,
                              sl_error *err) SL_MUST_CHECK;
int sl_replay_prior_has(const sl_dl_prior *p, const char *range, int64_t offset,
                        const struct sl_dl_rec *d);
void sl_replay_prior_free(sl_dl_prior *p); /* NULL is fine */

#endif
