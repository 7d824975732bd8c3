/* replay.h - what `sluice dlq replay` and the running pipeline share: where
 * a replay's request and summary live (the protocol is in replay.c). */
#ifndef SL_ENGINE_REPLAY_H
#define SL_ENGINE_REPLAY_H

#include <stddef.h>

/* STATE/dlq/requests/ID.req (the request: lines "sluice-dlq-request 1",
 * "id ID", optional "stream S" and "reason TEXT", "file PATH"..., "end N"
 * counting the lines before it) and STATE/dlq/done/ID.json (the summary,
 * written when the replay is finished). */
void sl_replay_paths(const char *state_dir, const char *id, char *req, char *done, size_t cap);

#endif
