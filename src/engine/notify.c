/* notify.c - partition-commit notifications (see notify.h for the contract).
 *
 * One send is a loop of rounds over the targets that still owe the event.
 * Each target has its own backoff (100 ms doubling to 5 s) and next-attempt
 * time, so a dead webhook never delays the Kafka topic by more than the
 * one attempt in progress; between rounds the call sleeps until the
 * earliest next attempt, in 50 ms slices that watch the cancel flag. An
 * attempt never runs past the call's budget: webhook attempts are bounded
 * by min(10 s, what is left), commands by min(60 s, what is left), a Kafka
 * delivery wait by what is left. So a call costs at most its budget plus
 * the ~100 ms it takes to notice the end, whatever the peers do.
 *
 * Outcomes of an attempt: done, retriable (connection errors, timeouts,
 * HTTP 429/5xx, a command's non-zero exit or signal, a Kafka delivery
 * error), or permanent (HTTP 1xx/3xx/4xx-but-429: the URL is wrong or the
 * receiver refuses the event; a fatal Kafka producer error). A permanent
 * target stops being tried in this call; the others go on.
 *
 * Kafka: one idempotent producer (acks=all) for every kafka target. The
 * delivery report finds its target by a sequence number carried as the
 * message opaque, never by a pointer, so a report that arrives after its
 * call gave up is matched against the target's current message only (and
 * ignored when that is another one). Reports run inside rd_kafka_poll on
 * the sending thread, so plain fields suffice.
 *
 * Webhook: one curl easy handle per target (keeps its connection alive
 * between events). Redirects are not followed and only http/https are
 * allowed. The URL's userinfo and query may hold tokens: messages show
 * scheme://host[:port]/path only, and libcurl's own error text is scrubbed
 * of the user, password and query strings should it ever quote them.
 *
 * Command: posix_spawn("/bin/sh", "-c", RUN) in cwd, in its own process
 * group (a timeout kills the command and whatever it started), stdin
 * /dev/null, stdout onto our stderr (sluice's stdout stays clean), the
 * signal mask and the dispositions of the usual signals reset. The command
 * text never appears in messages (it may carry a token): a command is
 * named by its list index and config line.
 *
 * Not done yet, deliberately: targets are tried one after the other within
 * a round (a parallel fan-out would need a thread or curl-multi per target
 * for a list that is usually one or two long); webhook TLS options
 * (client certificates, a CA file) beyond libcurl's defaults.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/rows_json.h"
#include "engine/notify.h"
#include "plugins/kafka/kconf.h"

extern char **environ;

#define SL_NTF_BACKOFF_MIN_MS 100
#define SL_NTF_BACKOFF_MAX_MS 5000
#define SL_NTF_ATTEMPT_MS     10000 /* a webhook request, one wait for a Kafka ack */
#define SL_NTF_CMD_MS         60000
#define SL_NTF_MAX_TARGETS    1024
#define SL_NTF_WHY            400

enum { SL_NTF_DONE = 0, SL_NTF_RETRY = 1, SL_NTF_PERM = 2 };
enum { SL_NTF_K_NONE = 0, SL_NTF_K_PENDING, SL_NTF_K_OK, SL_NTF_K_FAILED };

typedef struct sl_ntf_target {
    sl_notify_kind kind;
    char *topic, *url, *run;
    char *secret[3]; /* webhook: user, password, query (scrubbed from messages) */
    char name[320];  /* for messages: never a secret */
    CURL *curl;
    char reply[160]; /* first bytes of the last HTTP response body */
    size_t reply_len;
    uint64_t kseq; /* kafka: the message in flight, its state and failure */
    int kstate;
    char kerr[256];
    /* per call */
    int done, outcome, attempts;
    int64_t next_ms, backoff_ms;
    char last[SL_NTF_WHY];
} sl_ntf_target;

struct sl_notifier {
    sl_ntf_target *t;
    int n;
    char *cwd;
    rd_kafka_t *rk;
    uint64_t seq;
    char *last_id; /* the event t[].done and t[].kseq refer to */
    atomic_int cancel;
};

static int64_t sl_ntf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep up to ms in slices that notice a cancel. */
static void sl_ntf_sleep(sl_notifier *n, int64_t ms)
{
    int64_t end = sl_ntf_now() + ms;
    for (;;) {
        int64_t left = end - sl_ntf_now();
        if (left <= 0 || atomic_load(&n->cancel)) return;
        if (left > 50) left = 50;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- JSON ---------------------------------------------------------------- */

int sl_notify_rfc3339(int64_t ms, char *out, size_t size)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) rem += 1000, sec--;
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return -1;
    int w;
    if (rem)
        w = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
    else
        w = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return w < 0 || (size_t)w >= size ? -1 : 0;
}

static sl_err_t sl_ntf_key(sl_buf *o, const char *key, int first)
{
    sl_err_t rc = first ? SL_OK : sl_buf_put_u8(o, ',');
    if (!rc) rc = sl_json_put_str(o, key, strlen(key));
    if (!rc) rc = sl_buf_put_u8(o, ':');
    return rc;
}

static sl_err_t sl_ntf_kstr(sl_buf *o, const char *key, const char *v, int first)
{
    sl_err_t rc = sl_ntf_key(o, key, first);
    return rc ? rc : sl_json_put_str(o, v, strlen(v));
}

static sl_err_t sl_ntf_kint_at(sl_buf *o, const char *key, int64_t v, int first)
{
    char num[24];
    int w = snprintf(num, sizeof num, "%" PRId64, v);
    sl_err_t rc = sl_ntf_key(o, key, first);
    return rc ? rc : sl_buf_append(o, num, (size_t)w);
}

static sl_err_t sl_ntf_kint(sl_buf *o, const char *key, int64_t v)
{
    return sl_ntf_kint_at(o, key, v, 0);
}

sl_err_t sl_notify_json(const sl_notify_event *ev, sl_buf *out)
{
    size_t mark = out->len;
    char hs[32], wm[32];
    sl_err_t rc = SL_OK;
    if (!ev || !ev->id || !ev->pipeline || !ev->stream || !ev->partition || !ev->path ||
        sl_notify_rfc3339(ev->hour_start_ms, hs, sizeof hs) ||
        sl_notify_rfc3339(ev->watermark_ms, wm, sizeof wm))
        return SL_ERR_INVALID;
    rc = sl_buf_put_u8(out, '{');
    if (!rc) rc = sl_ntf_kstr(out, "id", ev->id, 1);
    if (!rc) rc = sl_ntf_kstr(out, "pipeline", ev->pipeline, 0);
    if (!rc) rc = sl_ntf_kstr(out, "stream", ev->stream, 0);
    if (!rc) rc = sl_ntf_kstr(out, "partition", ev->partition, 0);
    if (!rc) rc = sl_ntf_kstr(out, "path", ev->path, 0);
    if (!rc) rc = sl_ntf_kint(out, "version", ev->version);
    if (!rc) rc = sl_ntf_kint(out, "rows", ev->rows);
    if (!rc) rc = sl_ntf_kint(out, "files", ev->files);
    if (!rc) rc = sl_ntf_kint(out, "bytes", ev->bytes);
    if (!rc) rc = sl_ntf_kstr(out, "hour_start", hs, 0);
    if (!rc) rc = sl_ntf_kstr(out, "watermark", wm, 0);
    if (!rc) rc = sl_ntf_kint(out, "watermark_ms", ev->watermark_ms);
    if (!rc && ev->audit) {
        const sl_notify_audit *a = ev->audit;
        rc = sl_ntf_key(out, "audit", 0);
        if (!rc) rc = sl_buf_put_u8(out, '{');
        if (!rc) rc = sl_ntf_kint_at(out, "read", a->read, 1);
        if (!rc) rc = sl_ntf_kint(out, "filtered", a->filtered);
        if (!rc) rc = sl_ntf_kint(out, "dead_lettered", a->dead_lettered);
        if (!rc) rc = sl_ntf_kint(out, "late", a->late);
        if (!rc) rc = sl_ntf_kint(out, "written", a->written);
        if (!rc) rc = sl_buf_put_u8(out, '}');
    }
    if (!rc) rc = sl_buf_put_u8(out, '}');
    if (rc) out->len = mark;
    return rc;
}

/* ---- Kafka ---------------------------------------------------------------- */

static void sl_ntf_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    sl_notifier *n = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    for (int i = 0; i < n->n; i++) {
        sl_ntf_target *t = &n->t[i];
        if (t->kind != SL_NOTIFY_KAFKA || t->kstate != SL_NTF_K_PENDING || t->kseq != seq) continue;
        t->kstate = m->err ? SL_NTF_K_FAILED : SL_NTF_K_OK;
        if (m->err)
            snprintf(t->kerr, sizeof t->kerr, "delivery failed: %s", rd_kafka_err2str(m->err));
    }
}

static sl_err_t sl_ntf_producer(sl_notifier *n, const char *brokers, const char *const *conn,
                                sl_error *err)
{
    static const char *const props[] = {
        "enable.idempotence", "true",          "acks", "all", "linger.ms", "0",
        "client.id",          "sluice-notify", NULL};
    char es[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    sl_err_t rc;
    if (!c) return sl_error_set(err, SL_ERR_NOMEM, "notify: kafka producer: out of memory");
    sl_kconf_logging(c);
    rd_kafka_conf_set_dr_msg_cb(c, sl_ntf_dr);
    rd_kafka_conf_set_opaque(c, n);
    rc = sl_kconf_set_props(c, conn, err);
    if (!rc) rc = sl_kconf_set_props(c, props, err);
    if (!rc) rc = sl_kconf_set(c, "bootstrap.servers", brokers, err);
    if (rc) {
        sl_error_prefix(err, "notify: kafka producer");
        goto fail;
    }
    n->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es);
    if (!n->rk) {
        rc = sl_error_set(err, SL_ERR_INVALID, "notify: kafka producer: cannot create: %s", es);
        goto fail;
    }
    return SL_OK;
fail:
    rd_kafka_conf_destroy(c);
    return rc;
}

static int sl_ntf_kafka(sl_notifier *n, sl_ntf_target *t, const sl_notify_event *ev,
                        const sl_buf *body, int64_t end, char *why, size_t wsz)
{
    char fe[256];
    if (t->kstate != SL_NTF_K_PENDING) {
        uint64_t seq = ++n->seq;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            n->rk, RD_KAFKA_V_TOPIC(t->topic), RD_KAFKA_V_KEY(ev->id, strlen(ev->id)),
            RD_KAFKA_V_VALUE(body->p, body->len), RD_KAFKA_V_HEADER("sluice-id", ev->id, -1),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq),
            RD_KAFKA_V_END);
        if (e) {
            snprintf(why, wsz, "produce: %s", rd_kafka_err2str(e));
            return rd_kafka_fatal_error(n->rk, fe, sizeof fe) ? SL_NTF_PERM : SL_NTF_RETRY;
        }
        t->kseq = seq;
        t->kstate = SL_NTF_K_PENDING;
    }
    int64_t start = sl_ntf_now();
    while (t->kstate == SL_NTF_K_PENDING) {
        int64_t left = end - sl_ntf_now();
        if (left <= 0 || atomic_load(&n->cancel)) {
            snprintf(why, wsz,
                     "not acknowledged within %" PRId64 " ms (the message stays queued; a resend "
                     "of this id waits for it)",
                     sl_ntf_now() - start);
            return SL_NTF_RETRY;
        }
        rd_kafka_poll(n->rk, (int)(left < 100 ? left : 100));
    }
    if (t->kstate == SL_NTF_K_OK) {
        t->kstate = SL_NTF_K_NONE;
        return SL_NTF_DONE;
    }
    t->kstate = SL_NTF_K_NONE;
    if (rd_kafka_fatal_error(n->rk, fe, sizeof fe)) {
        snprintf(why, wsz, "%.150s; the producer failed for good: %.200s", t->kerr, fe);
        return SL_NTF_PERM;
    }
    snprintf(why, wsz, "%s", t->kerr);
    return SL_NTF_RETRY;
}

/* ---- webhook -------------------------------------------------------------- */

static pthread_once_t sl_ntf_curl_once = PTHREAD_ONCE_INIT;
static CURLcode sl_ntf_curl_rc = CURLE_FAILED_INIT;
static void sl_ntf_curl_init(void)
{
    sl_ntf_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t sl_ntf_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    sl_ntf_target *t = ud;
    size_t n = size * nmemb, room = sizeof t->reply - 1 - t->reply_len;
    for (size_t i = 0; i < n && i < room; i++) {
        unsigned char c = (unsigned char)p[i];
        t->reply[t->reply_len++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    t->reply[t->reply_len] = '\0';
    return n;
}

static int sl_ntf_progress_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    sl_notifier *n = ud;
    return atomic_load(&n->cancel) ? 1 : 0;
}

/* Replace every occurrence of the target's secrets in s by "***". */
static void sl_ntf_scrub(const sl_ntf_target *t, char *s)
{
    for (int k = 0; k < 3; k++) {
        const char *sec = t->secret[k];
        size_t sl = sec ? strlen(sec) : 0;
        if (sl < 3) continue; /* too short to find without scrubbing ordinary text */
        char *hit;
        while ((hit = strstr(s, sec)) != NULL) {
            size_t tail = strlen(hit + sl);
            memmove(hit + 3, hit + sl, tail + 1); /* sl >= 3: never grows */
            memcpy(hit, "***", 3);
        }
    }
}

/* Parse and check a webhook URL; fill the printable name and the secrets. */
static sl_err_t sl_ntf_url(sl_ntf_target *t, int i, const sl_cfg_notify *c, sl_error *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    sl_err_t rc = SL_ERR_INVALID;
    CURLU *u = curl_url();
    if (!u) return sl_error_set(err, SL_ERR_NOMEM, "notify: out of memory");
    if (curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        sl_error_set(err, rc,
                     "commit.notify[%d] (line %d): webhook url is not a valid URL (expected "
                     "http://host[:port]/path or https://...)",
                     i, c->line);
        goto done;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        sl_error_set(err, rc,
                     "commit.notify[%d] (line %d): webhook url: scheme %s is not http/https", i,
                     c->line, scheme);
        goto done;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_USER, &t->secret[0], 0);
    curl_url_get(u, CURLUPART_PASSWORD, &t->secret[1], 0);
    curl_url_get(u, CURLUPART_QUERY, &t->secret[2], 0);
    snprintf(t->name, sizeof t->name, "notify[%d] webhook %s://%s%s%s%s", i, scheme, host,
             port ? ":" : "", port ? port : "", path ? path : "/");
    rc = SL_OK;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static int sl_ntf_http(sl_notifier *n, sl_ntf_target *t, const char *id, const sl_buf *body,
                       int64_t limit, char *why, size_t wsz)
{
    char ebuf[CURL_ERROR_SIZE] = "", hid[300];
    struct curl_slist *h = NULL, *h2;
    long code = 0;
    int out = SL_NTF_RETRY;
    CURL *c = t->curl;
    snprintf(hid, sizeof hid, "X-Sluice-Id: %s", id);
    h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h && (h2 = curl_slist_append(h, hid)))
        h = h2;
    else
        goto nomem;
    if ((h2 = curl_slist_append(h, "Expect:")))
        h = h2;
    else
        goto nomem;
    t->reply_len = 0;
    t->reply[0] = '\0';
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)limit);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)limit);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode res = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    while (t->reply_len && t->reply[t->reply_len - 1] == ' ')
        t->reply[--t->reply_len] = '\0';
    if (res == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(why, wsz, "cancelled");
    } else if (res != CURLE_OK) {
        snprintf(why, wsz, "%s", ebuf[0] ? ebuf : curl_easy_strerror(res));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300)
            out = SL_NTF_DONE;
        else if (code == 429 || code >= 500)
            snprintf(why, wsz, "HTTP %ld%s%s", code, t->reply_len ? ": " : "", t->reply);
        else {
            snprintf(why, wsz,
                     "HTTP %ld%s%s (not retried: the URL is wrong or the receiver refuses the "
                     "event; fix commit.notify)",
                     code, t->reply_len ? ": " : "", t->reply);
            out = SL_NTF_PERM;
        }
    }
    sl_ntf_scrub(t, why);
    curl_slist_free_all(h);
    return out;
nomem:
    curl_slist_free_all(h);
    snprintf(why, wsz, "out of memory");
    return SL_NTF_RETRY;
}

static sl_err_t sl_ntf_curl(sl_notifier *n, sl_ntf_target *t, sl_error *err)
{
    pthread_once(&sl_ntf_curl_once, sl_ntf_curl_init);
    if (sl_ntf_curl_rc != CURLE_OK || !(t->curl = curl_easy_init()))
        return sl_error_set(err, SL_ERR_NOMEM, "%s: cannot initialize libcurl", t->name);
    CURL *c = t->curl;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice/" SL_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sl_ntf_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sl_ntf_progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    return SL_OK;
}

/* ---- command -------------------------------------------------------------- */

static const char *const sl_ntf_env_names[] = {
    "SLUICE_EVENT",     "SLUICE_ID",    "SLUICE_PIPELINE",   "SLUICE_STREAM",
    "SLUICE_PARTITION", "SLUICE_PATH",  "SLUICE_VERSION",    "SLUICE_ROWS",
    "SLUICE_FILES",     "SLUICE_BYTES", "SLUICE_HOUR_START", "SLUICE_WATERMARK"};
#define SL_NTF_NENV ((int)(sizeof sl_ntf_env_names / sizeof sl_ntf_env_names[0]))

static int sl_ntf_is_ours(const char *kv)
{
    for (int i = 0; i < SL_NTF_NENV; i++) {
        size_t l = strlen(sl_ntf_env_names[i]);
        if (strncmp(kv, sl_ntf_env_names[i], l) == 0 && kv[l] == '=') return 1;
    }
    return 0;
}

/* environ without our names, then ours. NULL when out of memory. */
static char **sl_ntf_envp(const sl_notify_event *ev, const sl_buf *body, char **own)
{
    char hs[32], wm[32];
    const char *val[SL_NTF_NENV];
    char num[4][24];
    int64_t nums[4] = {ev->version, ev->rows, ev->files, ev->bytes};
    size_t ne = 0, k = 0;
    for (int i = 0; i < 4; i++)
        snprintf(num[i], sizeof num[i], "%" PRId64, nums[i]);
    if (sl_notify_rfc3339(ev->hour_start_ms, hs, sizeof hs)) hs[0] = '\0';
    if (sl_notify_rfc3339(ev->watermark_ms, wm, sizeof wm)) wm[0] = '\0';
    val[0] = NULL, val[1] = ev->id, val[2] = ev->pipeline, val[3] = ev->stream;
    val[4] = ev->partition, val[5] = ev->path, val[6] = num[0], val[7] = num[1];
    val[8] = num[2], val[9] = num[3], val[10] = hs, val[11] = wm;
    for (int i = 0; i < SL_NTF_NENV; i++) {
        if (i == 0) {
            size_t l = strlen(sl_ntf_env_names[0]);
            own[0] = malloc(l + body->len + 2);
            if (own[0]) {
                memcpy(own[0], sl_ntf_env_names[0], l);
                own[0][l] = '=';
                memcpy(own[0] + l + 1, body->p, body->len);
                own[0][l + 1 + body->len] = '\0';
            }
        } else if (asprintf(&own[i], "%s=%s", sl_ntf_env_names[i], val[i]) < 0) {
            own[i] = NULL;
        }
        if (!own[i]) return NULL;
    }
    while (environ && environ[ne])
        ne++;
    char **envp = malloc((ne + SL_NTF_NENV + 1) * sizeof *envp);
    if (!envp) return NULL;
    for (size_t i = 0; i < ne; i++)
        if (!sl_ntf_is_ours(environ[i])) envp[k++] = environ[i];
    for (int i = 0; i < SL_NTF_NENV; i++)
        envp[k++] = own[i];
    envp[k] = NULL;
    return envp;
}

static int sl_ntf_spawn(sl_notifier *n, sl_ntf_target *t, char **envp, pid_t *pid, char *why,
                        size_t wsz)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    char *argv[] = {"/bin/sh", "-c", t->run, NULL};
    static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE,
                               SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    sigemptyset(&none);
    sigemptyset(&def);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&def, sigs[i]);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    if (n->cwd) posix_spawn_file_actions_addchdir_np(&fa, n->cwd);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    int e = posix_spawn(pid, "/bin/sh", &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e) snprintf(why, wsz, "cannot start /bin/sh in %s: %s", n->cwd ? n->cwd : ".", strerror(e));
    return e ? SL_NTF_RETRY : SL_NTF_DONE;
}

static int sl_ntf_cmd(sl_notifier *n, sl_ntf_target *t, const sl_notify_event *ev,
                      const sl_buf *body, int64_t limit, char *why, size_t wsz)
{
    char *own[SL_NTF_NENV] = {0};
    char **envp = sl_ntf_envp(ev, body, own);
    int out = SL_NTF_RETRY, st = 0;
    pid_t pid = -1;
    if (!envp) {
        snprintf(why, wsz, "out of memory");
        goto done;
    }
    if (sl_ntf_spawn(n, t, envp, &pid, why, wsz) != SL_NTF_DONE) goto done;
    int64_t start = sl_ntf_now(), nap = 1;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            snprintf(why, wsz, "waitpid: %s", strerror(errno));
            kill(-pid, SIGKILL);
            goto done;
        }
        int64_t ran = sl_ntf_now() - start;
        if (ran >= limit || atomic_load(&n->cancel)) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            if (atomic_load(&n->cancel))
                snprintf(why, wsz, "cancelled: the command was killed");
            else
                snprintf(why, wsz, "still running after %" PRId64 " ms: killed", ran);
            goto done;
        }
        struct timespec ts = {0, (long)(nap < limit - ran ? nap : limit - ran) * 1000000L};
        nanosleep(&ts, NULL);
        if (nap < 50) nap *= 2;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        out = SL_NTF_DONE;
    else if (WIFEXITED(st))
        snprintf(why, wsz, "exit status %d%s", WEXITSTATUS(st),
                 WEXITSTATUS(st) == 127 ? " (command not found?)" : "");
    else
        snprintf(why, wsz, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
done:
    for (int i = 0; i < SL_NTF_NENV; i++)
        free(own[i]);
    free(envp);
    return out;
}

/* ---- notifier ------------------------------------------------------------- */

sl_err_t sl_notifier_new(sl_notifier **out, const sl_cfg_notify *cfg, int cnt, const char *brokers,
                         const char *const *conn, const char *cwd, sl_error *err)
{
    sl_err_t rc = SL_ERR_INVALID;
    sl_notifier *n = NULL;
    int kafka = 0;
    *out = NULL;
    if (cnt < 0 || cnt > SL_NTF_MAX_TARGETS || (cnt && !cfg)) {
        rc = sl_error_set(err, rc, "commit.notify: %d targets (at most %d)", cnt,
                          SL_NTF_MAX_TARGETS);
        goto fail;
    }
    n = calloc(1, sizeof *n);
    if (!n || !(n->t = calloc((size_t)cnt + 1, sizeof *n->t)) || (cwd && !(n->cwd = strdup(cwd))))
        goto nomem;
    atomic_init(&n->cancel, 0);
    for (int i = 0; i < cnt; i++, n->n++) {
        const sl_cfg_notify *c = &cfg[i];
        sl_ntf_target *t = &n->t[i];
        t->kind = c->kind;
        if (c->kind == SL_NOTIFY_KAFKA) {
            if (!c->topic || !*c->topic || !brokers || !*brokers) {
                rc = sl_error_set(err, rc,
                                  "commit.notify[%d] (line %d): kind kafka needs a topic and the "
                                  "source's brokers",
                                  i, c->line);
                goto fail;
            }
            if (!(t->topic = strdup(c->topic))) goto nomem;
            snprintf(t->name, sizeof t->name, "notify[%d] kafka topic %s", i, c->topic);
            kafka = 1;
        } else if (c->kind == SL_NOTIFY_WEBHOOK) {
            if (!c->url || !*c->url) {
                rc = sl_error_set(err, rc, "commit.notify[%d] (line %d): kind webhook needs a url",
                                  i, c->line);
                goto fail;
            }
            if (!(t->url = strdup(c->url))) goto nomem;
            if ((rc = sl_ntf_url(t, i, c, err)) || (rc = sl_ntf_curl(n, t, err))) goto fail;
        } else if (c->kind == SL_NOTIFY_COMMAND) {
            if (!c->run || !*c->run) {
                rc = sl_error_set(err, rc, "commit.notify[%d] (line %d): kind command needs run", i,
                                  c->line);
                goto fail;
            }
            if (!(t->run = strdup(c->run))) goto nomem;
            snprintf(t->name, sizeof t->name, "notify[%d] command (line %d)", i, c->line);
        } else {
            rc = sl_error_set(err, rc, "commit.notify[%d] (line %d): unknown kind %d", i, c->line,
                              (int)c->kind);
            goto fail;
        }
    }
    if (kafka && (rc = sl_ntf_producer(n, brokers, conn, err))) goto fail;
    *out = n;
    return SL_OK;
nomem:
    rc = sl_error_set(err, SL_ERR_NOMEM, "notify: out of memory");
fail:
    sl_notifier_free(n);
    return rc;
}

void sl_notifier_cancel(sl_notifier *n)
{
    if (n) atomic_store(&n->cancel, 1);
}

void sl_notifier_uncancel(sl_notifier *n)
{
    if (n) atomic_store(&n->cancel, 0);
}

void sl_notifier_free(sl_notifier *n)
{
    if (!n) return;
    if (n->rk) {
        rd_kafka_flush(n->rk, 1000);
        rd_kafka_purge(n->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(n->rk, 0);
        rd_kafka_destroy(n->rk);
    }
    for (int i = 0; n->t && i <= n->n; i++) { /* n->n: a target built halfway */
        sl_ntf_target *t = &n->t[i];
        if (t->curl) curl_easy_cleanup(t->curl);
        for (int k = 0; k < 3; k++)
            curl_free(t->secret[k]);
        free(t->topic);
        free(t->url);
        free(t->run);
    }
    free(n->t);
    free(n->cwd);
    free(n->last_id);
    free(n);
}

/* One attempt at target t, bounded by `end` (monotonic ms). */
static int sl_ntf_attempt(sl_notifier *n, sl_ntf_target *t, const sl_notify_event *ev,
                          const sl_buf *body, int64_t end)
{
    int64_t left = end - sl_ntf_now();
    if (left <= 0) {
        snprintf(t->last, sizeof t->last, "the call's deadline passed before an attempt");
        return SL_NTF_RETRY;
    }
    if (t->kind == SL_NOTIFY_KAFKA)
        return sl_ntf_kafka(n, t, ev, body,
                            left < SL_NTF_ATTEMPT_MS ? end : sl_ntf_now() + SL_NTF_ATTEMPT_MS,
                            t->last, sizeof t->last);
    if (t->kind == SL_NOTIFY_WEBHOOK)
        return sl_ntf_http(n, t, ev->id, body, left < SL_NTF_ATTEMPT_MS ? left : SL_NTF_ATTEMPT_MS,
                           t->last, sizeof t->last);
    return sl_ntf_cmd(n, t, ev, body, left < SL_NTF_CMD_MS ? left : SL_NTF_CMD_MS, t->last,
                      sizeof t->last);
}

/* Starts a call: forget the previous event's progress unless this is it. */
static sl_err_t sl_ntf_begin(sl_notifier *n, const sl_notify_event *ev, int64_t now)
{
    if (!n->last_id || strcmp(n->last_id, ev->id) != 0) {
        char *id = strdup(ev->id);
        if (!id) return SL_ERR_NOMEM;
        free(n->last_id);
        n->last_id = id;
        for (int i = 0; i < n->n; i++)
            n->t[i].done = 0, n->t[i].kstate = SL_NTF_K_NONE;
    }
    for (int i = 0; i < n->n; i++) {
        sl_ntf_target *t = &n->t[i];
        t->outcome = t->done ? SL_NTF_DONE : SL_NTF_RETRY;
        t->attempts = 0, t->next_ms = now, t->backoff_ms = SL_NTF_BACKOFF_MIN_MS;
        t->last[0] = '\0';
    }
    return SL_OK;
}

static sl_err_t sl_ntf_report(sl_notifier *n, const sl_notify_event *ev, int64_t took,
                              sl_error *err)
{
    int bad = -1, nbad = 0;
    for (int i = 0; i < n->n; i++) {
        if (n->t[i].outcome == SL_NTF_DONE) continue;
        nbad++;
        if (bad < 0 || (n->t[i].outcome == SL_NTF_PERM && n->t[bad].outcome != SL_NTF_PERM))
            bad = i;
    }
    if (bad < 0) return SL_OK;
    const sl_ntf_target *t = &n->t[bad];
    int perm = t->outcome == SL_NTF_PERM;
    char more[64] = "";
    if (nbad > 1) snprintf(more, sizeof more, "; %d more targets failed too", nbad - 1);
    sl_err_t rc = sl_error_set(err, perm ? SL_ERR_INVALID : SL_ERR_IO,
                               "%s: event %s: %s (%d attempts in %" PRId64 " ms%s%s)", t->name,
                               ev->id, t->last[0] ? t->last : "not attempted", t->attempts, took,
                               more, perm ? "" : "; retriable: send the event again later");
    if (err) err->retriable = !perm;
    return rc;
}

static int sl_ntf_bad_id(const char *id)
{
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return !*id;
}

sl_err_t sl_notifier_send(sl_notifier *n, const sl_notify_event *ev, int64_t deadline_ms,
                          sl_error *err)
{
    sl_buf body = SL_BUF_INIT;
    int64_t start = sl_ntf_now(), end = start + (deadline_ms > 0 ? deadline_ms : 0);
    sl_err_t rc = sl_notify_json(ev, &body);
    if (rc == SL_OK && (rc = sl_buf_put_u8(&body, '\0')) == SL_OK) body.len--;
    if (rc == SL_ERR_INVALID || (rc == SL_OK && sl_ntf_bad_id(ev->id))) {
        rc = sl_error_set(err, SL_ERR_INVALID,
                          "notify: event %s: a field is missing, a time is out of range or the id "
                          "is empty or has control characters",
                          ev && ev->id ? ev->id : "(no id)");
        goto done;
    }
    if (rc || (rc = sl_ntf_begin(n, ev, start))) {
        rc = sl_error_set(err, rc, "notify: event %s: out of memory", ev->id);
        goto done;
    }
    for (;;) {
        int pending = 0;
        int64_t wake = end;
        for (int i = 0; i < n->n; i++) {
            sl_ntf_target *t = &n->t[i];
            if (t->outcome != SL_NTF_RETRY) continue;
            if (sl_ntf_now() >= t->next_ms && !atomic_load(&n->cancel)) {
                t->attempts++;
                t->outcome = sl_ntf_attempt(n, t, ev, &body, end);
                if (t->outcome == SL_NTF_DONE) t->done = 1;
                if (t->outcome != SL_NTF_RETRY) continue;
                int64_t now = sl_ntf_now();
                if (now < end)
                    SL_LOG(SL_LOG_WARN, "notification failed; retrying",
                           SL_F_STR("target", t->name), SL_F_STR("id", ev->id),
                           SL_F_INT("attempt", t->attempts), SL_F_STR("error", t->last),
                           SL_F_INT("retry_in_ms", t->backoff_ms));
                t->next_ms = now + t->backoff_ms;
                t->backoff_ms *= 2;
                if (t->backoff_ms > SL_NTF_BACKOFF_MAX_MS) t->backoff_ms = SL_NTF_BACKOFF_MAX_MS;
            }
            pending = 1;
            if (t->next_ms < wake) wake = t->next_ms;
        }
        int64_t now = sl_ntf_now();
        if (!pending || now >= end || atomic_load(&n->cancel)) break;
        if (wake > now) sl_ntf_sleep(n, wake - now);
    }
    rc = sl_ntf_report(n, ev, sl_ntf_now() - start, err);
    if (rc == SL_OK) { /* delivered: a later call with this id is a deliberate resend */
        free(n->last_id);
        n->last_id = NULL;
    }
    if (rc && atomic_load(&n->cancel) && err && err->retriable)
        sl_error_prefix(err, "notify cancelled");
done:
    sl_buf_free(&body);
    return rc;
}
