/* http.h - the pipeline's HTTP endpoint (http.listen): /metrics, /status,
 * the status page and /healthz, served by libmicrohttpd on a thread of its
 * own (see http.c for the routes, authorization and costs).
 *
 * The server renders only the newest snapshot handed to it with
 * sl_http_publish (engine/status.h): a request never touches the runtime.
 */
#ifndef SL_ENGINE_HTTP_H
#define SL_ENGINE_HTTP_H

#include <stddef.h>

#include "core/err.h"
#include "engine/status.h"

typedef struct sl_http sl_http;

/* http.listen: "HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT" (the last two
 * mean 127.0.0.1); PORT 0..65535, 0 = an ephemeral port. On error
 * SL_ERR_INVALID with what is expected; host/port are then undefined. */
sl_err_t sl_http_parse_listen(const char *s, char *host, size_t hcap, int *port,
                              sl_error *err) SL_MUST_CHECK;

/* The bearer token of http.token_file: the file's content, trailing
 * whitespace stripped (*token, caller frees). *loose is set when the file
 * is readable by group or others. A missing, unreadable or empty file (or
 * one with a NUL, a line break inside, or over 4 KiB) is SL_ERR_INVALID
 * naming the file; *token is then NULL. */
sl_err_t sl_http_read_token(const char *path, char **token, int *loose,
                            sl_error *err) SL_MUST_CHECK;

/* Listen on `listen` (sl_http_parse_listen) and serve; token NULL: no
 * authorization. Logs a warning when the address is not a loopback one and
 * there is no token. On error *out is NULL and nothing is left listening. */
sl_err_t sl_http_start(sl_http **out, const char *listen, const char *token,
                       sl_error *err) SL_MUST_CHECK;
/* What was bound, "127.0.0.1:41234" or "[::1]:41234". */
const char *sl_http_addr(const sl_http *h);
/* Serve s from now on (the server takes it; the previous snapshot is freed
 * once no request renders it any more). Cannot fail. */
void sl_http_publish(sl_http *h, sl_snap *s);
/* Stop listening, wait for requests in flight, free everything. NULL is fine. */
void sl_http_stop(sl_http *h);

#endif
