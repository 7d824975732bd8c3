/* http.c - the HTTP endpoint (http.h) on libmicrohttpd.
 *
 * Routes (GET and HEAD; any other method is 405 with Allow):
 *   /metrics   Prometheus text format 0.0.4 (metrics.c)
 *   /status    JSON (status.c); ?format=text: the summary `sluice status` prints
 *   /          the status page (status_html.c)
 *   /healthz   200 "ok" while the pipeline runs (or starts), 503 while it
 *              waits to retry after a failure; the body says so without
 *              the error text, since this route needs no token
 *   anything else: 404.
 * With a token (http.token_file) every route but /healthz needs
 * `Authorization: Bearer TOKEN`, else 401 with `WWW-Authenticate: Bearer`;
 * the comparison takes the same time wherever the first difference is
 * (its length depends only on the configured token's length).
 *
 * Threads: libmicrohttpd's one internal polling thread answers every
 * request; the coordinator only calls sl_http_publish. A snapshot is
 * reference-counted: a request takes a reference under the mutex, renders
 * without it, and drops it; publish swaps the pointer under the mutex. So
 * neither side waits for the other longer than a pointer swap, and a slow
 * client never holds back the coordinator. Rendering is linear in streams
 * and inputs (about 100 bytes each); at most 64 connections at once, each
 * closed after 10 s of silence.
 */
#include "engine/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define TOKEN_MAX 4096

typedef struct held {
    sl_snap *s;
    int refs;
} held;

struct sl_http {
    struct MHD_Daemon *d;
    char *token;
    size_t token_len;
    char addr[INET6_ADDRSTRLEN + 16];
    char lasterr[256]; /* libmicrohttpd's last message (start failures) */
    pthread_mutex_t mu;
    held *cur;
};

/* ---- configuration ---- */

sl_err_t sl_http_parse_listen(const char *s, char *host, size_t hcap, int *port, sl_error *err)
{
    const char *p = s, *colon = NULL;
    size_t hl = 0;
    if (s[0] == '[') { /* [v6]:port */
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') goto bad;
        p = s + 1;
        hl = (size_t)(end - p);
        colon = end + 1;
    } else if ((colon = strrchr(s, ':'))) {
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl)) goto bad; /* an IPv6 address needs brackets */
    }
    const char *ps = colon ? colon + 1 : s;
    if (!*ps || strlen(ps) > 5 || strspn(ps, "0123456789") != strlen(ps)) goto bad;
    *port = atoi(ps);
    if (*port > 65535 || hl >= hcap) goto bad;
    for (size_t i = 0; i < hl; i++) /* a name, an IPv4 or an IPv6 address (with a %zone) */
        if (!isalnum((unsigned char)p[i]) && !strchr(".-_:%", p[i])) goto bad;
    if (hl == 0)
        snprintf(host, hcap, "127.0.0.1");
    else {
        memcpy(host, p, hl);
        host[hl] = '\0';
    }
    return SL_OK;
bad:
    return sl_error_set(err, SL_ERR_INVALID,
                        "'%.100s' is not HOST:PORT; expected e.g. 127.0.0.1:9464, [::1]:9464, "
                        ":9464 or 9464 (127.0.0.1), port 0 for any free port",
                        s);
}

sl_err_t sl_http_read_token(const char *path, char **token, int *loose, sl_error *err)
{
    *token = NULL;
    *loose = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_error_errno(err, errno, "http.token_file %s: cannot open", path);
        err->code = SL_ERR_INVALID; /* a configuration error, whatever errno said */
        err->retriable = 0;
        return SL_ERR_INVALID;
    }
    struct stat st;
    char *buf = malloc(TOKEN_MAX + 1);
    ssize_t n = -1;
    if (buf && fstat(fd, &st) == 0) {
        *loose = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
        n = read(fd, buf, TOKEN_MAX + 1);
    }
    int e = errno;
    close(fd);
    if (!buf) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    if (n < 0) {
        free(buf);
        sl_error_errno(err, e, "http.token_file %s: cannot read", path);
        err->code = SL_ERR_INVALID;
        err->retriable = 0;
        return SL_ERR_INVALID;
    }
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    const char *why = n == 0                         ? "is empty"
                      : n > TOKEN_MAX                ? "is longer than 4096 bytes"
                      : strlen(buf) != (size_t)n     ? "holds a NUL byte"
                      : strpbrk(buf, "\r\n") != NULL ? "holds more than one line"
                                                     : NULL;
    if (why) {
        free(buf);
        return sl_error_set(err, SL_ERR_INVALID,
                            "http.token_file %s %s; expected the bearer token on one line "
                            "(e.g. head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)",
                            path, why);
    }
    *token = buf;
    return SL_OK;
}

/* ---- snapshots ---- */

static held *acquire(sl_http *h)
{
    pthread_mutex_lock(&h->mu);
    held *x = h->cur;
    if (x) x->refs++;
    pthread_mutex_unlock(&h->mu);
    return x;
}

static void release(sl_http *h, held *x)
{
    if (!x) return;
    pthread_mutex_lock(&h->mu);
    int last = --x->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last) {
        sl_snap_free(x->s);
        free(x);
    }
}

void sl_http_publish(sl_http *h, sl_snap *s)
{
    held *x = malloc(sizeof *x);
    if (!x) { /* keep serving the previous one */
        sl_snap_free(s);
        return;
    }
    x->s = s;
    x->refs = 1;
    pthread_mutex_lock(&h->mu);
    held *old = h->cur;
    h->cur = x;
    pthread_mutex_unlock(&h->mu);
    release(h, old);
}

/* ---- requests ---- */

static int token_ok(const sl_http *h, const char *hdr)
{
    if (!hdr || strncasecmp(hdr, "Bearer ", 7)) return 0;
    const char *t = hdr + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    unsigned char d = n != h->token_len;
    for (size_t i = 0; i < h->token_len; i++)
        d |= (unsigned char)(h->token[i] ^ (i < n ? t[i] : 0));
    return d == 0;
}

/* Queue a response with body b (taken) or the constant text c. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             sl_buf *b, const char *c, const char *hname, const char *hval)
{
    struct MHD_Response *r;
    if (b)
        r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(strlen(c), (void *)c, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (b) sl_buf_free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result healthz(struct MHD_Connection *conn, const sl_snap *s)
{
    if (s->state == SL_SNAP_DEGRADED) {
        int n = 0;
        for (int32_t i = 0; i < s->n_inputs; i++)
            n += s->inputs[i].paused;
        sl_buf b = SL_BUF_INIT;
        if (sl_buf_printf(&b,
                          "degraded: an output fails; the input partitions feeding it are "
                          "paused and retried, %d paused now (details: /status)\n",
                          n)) {
            sl_buf_free(&b);
            return MHD_NO;
        }
        return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", &b, NULL,
                     NULL, NULL);
    }
    if (s->state != SL_SNAP_RETRYING)
        return reply(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", NULL,
                     s->state == SL_SNAP_RUNNING ? "ok\n" : "ok: starting\n", NULL, NULL);
    sl_buf b = SL_BUF_INIT;
    long wait = (long)((s->next_retry_ms - s->time_ms + 999) / 1000);
    if (sl_buf_printf(&b,
                      "retrying: the last attempt failed; the next starts in about %ld s "
                      "(details: /status)\n",
                      wait < 0 ? 0 : wait)) {
        sl_buf_free(&b);
        return MHD_NO;
    }
    return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", &b, NULL, NULL,
                 NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    sl_http *h = cls;
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, NULL, "method not allowed\n",
                     MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    held *x = acquire(h);
    if (!x) return MHD_NO; /* never: a snapshot is published before the server starts */
    const sl_snap *s = x->s;
    enum MHD_Result ret;
    if (!strcmp(url, "/healthz")) {
        ret = healthz(conn, s);
        release(h, x);
        return ret;
    }
    if (h->token && !token_ok(h, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_AUTHORIZATION))) {
        release(h, x);
        return reply(conn, MHD_HTTP_UNAUTHORIZED, text, NULL,
                     "unauthorized: send Authorization: Bearer <the content of http.token_file>\n",
                     MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sluice\"");
    }
    sl_buf b = SL_BUF_INIT;
    const char *ctype = NULL;
    sl_err_t rc = SL_OK;
    if (!strcmp(url, "/metrics")) {
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        rc = sl_metrics_render(s, &b);
    } else if (!strcmp(url, "/status")) {
        const char *f = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
        int astext = f && !strcmp(f, "text");
        ctype = astext ? text : "application/json";
        rc = astext ? sl_status_text(s, &b) : sl_status_json(s, &b);
    } else if (!strcmp(url, "/")) {
        ctype = "text/html; charset=utf-8";
        rc = sl_status_html(s, &b);
    }
    release(h, x);
    if (!ctype) return reply(conn, MHD_HTTP_NOT_FOUND, text, NULL, "not found\n", NULL, NULL);
    if (rc) {
        sl_buf_free(&b);
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, NULL, "out of memory\n", NULL,
                     NULL);
    }
    return reply(conn, MHD_HTTP_OK, ctype, &b, NULL, NULL, NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    sl_http *h = cls;
    vsnprintf(h->lasterr, sizeof h->lasterr, fmt, ap);
    h->lasterr[strcspn(h->lasterr, "\n")] = '\0';
    SL_LOG(SL_LOG_WARN, "http server", SL_F_STR("error", h->lasterr));
}

/* ---- start and stop ---- */

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

sl_err_t sl_http_start(sl_http **out, const char *listen, const char *token, sl_error *err)
{
    *out = NULL;
    char host[256], ps[8], ip[INET6_ADDRSTRLEN];
    int port;
    sl_err_t rc = sl_http_parse_listen(listen, host, sizeof host, &port, err);
    if (rc) return sl_error_prefix(err, "http.listen");
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM},
                    *ai = NULL;
    int gai = getaddrinfo(host, ps, &hints, &ai);
    if (gai)
        return sl_error_set(err, SL_ERR_INVALID, "http.listen %s: %s", listen, gai_strerror(gai));
    sl_http *h = calloc(1, sizeof *h);
    if (!h || (token && !(h->token = strdup(token)))) {
        freeaddrinfo(ai);
        free(h);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    h->token_len = token ? strlen(token) : 0;
    pthread_mutex_init(&h->mu, NULL);
    int v6 = ai->ai_family == AF_INET6, loop = is_loopback(ai->ai_addr);
    inet_ntop(ai->ai_family,
              v6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                 : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr,
              ip, sizeof ip);
    /* something to serve from the first request on */
    sl_snap *s0 = calloc(1, sizeof *s0);
    if (s0) sl_http_publish(h, s0);
    h->d =
        MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
                         (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                         mhd_log, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    freeaddrinfo(ai);
    const union MHD_DaemonInfo *di =
        h->d && s0 ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!di) {
        rc = sl_error_set(err, SL_ERR_INVALID, "http.listen %s: cannot listen there: %s", listen,
                          !s0           ? "out of memory"
                          : *h->lasterr ? h->lasterr
                                        : "libmicrohttpd could not start");
        sl_http_stop(h);
        return rc;
    }
    snprintf(h->addr, sizeof h->addr, v6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)di->port);
    if (!loop && !token)
        SL_LOG(SL_LOG_WARN,
               "http endpoint on a non-loopback address without http.token_file: anyone who "
               "reaches it reads the pipeline's status and metrics",
               SL_F_STR("listen", h->addr));
    *out = h;
    return SL_OK;
}

const char *sl_http_addr(const sl_http *h)
{
    return h->addr;
}

void sl_http_stop(sl_http *h)
{
    if (!h) return;
    if (h->d) MHD_stop_daemon(h->d);
    release(h, h->cur);
    pthread_mutex_destroy(&h->mu);
    free(h->token);
    free(h);
}
