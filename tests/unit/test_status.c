/* test_status.c - the status snapshot's renderings (engine/status.h,
 * metrics.c, status_html.c) and the HTTP endpoint (engine/http.h), without
 * a pipeline.
 *
 * A hand-built snapshot with hostile names (a stream called <script>, a
 * label value with a quote, a backslash and a line break, an error text
 * with markup) is rendered four ways and read back by tools we did not
 * write:
 *   - /metrics by `promtool check metrics` (the Prometheus project's own
 *     parser and linter), plus exact sample lines written by hand from the
 *     format's escaping rules, HELP/TYPE once per family, a cumulative
 *     histogram, and unknown values left out;
 *   - /status JSON by python3's json module, every value compared with the
 *     snapshot (strings round-trip exactly, unknowns are null);
 *   - the page by python3's html.parser: the cells of the stream table
 *     unescape to the exact names, and no raw <script> reaches the markup;
 *   - the text summary by substring.
 * http.listen parsing and the token file are checked case by case; a real
 * server on an ephemeral loopback port is asked with libcurl: 401 without
 * or with a wrong token (a prefix, a longer one, same length), /healthz
 * without a token (200, then 503 once the snapshot says retrying, without
 * the error text), 404, 405 with Allow, HEAD, and the content types.
 */
#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/http.h"
#include "engine/status.h"
#include "test.h"

#define WM_MS 1764557954908LL /* 2025-12-01T02:59:14.908Z */
#define NOW   1796618684569LL /* 2026-12-07T04:44:44.569Z */

static const char *WEIRD = "a\"b\\c\nd"; /* quote, backslash, line break */

static char *xdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static sl_snap *make_snap(int retrying)
{
    sl_snap *s = calloc(1, sizeof *s);
    s->pipeline = xdup("p1");
    s->config = xdup("/etc/sluice/p1 <&>.yaml");
    s->state = retrying ? SL_SNAP_RETRYING : SL_SNAP_RUNNING;
    s->error = retrying ? xdup("worker 0: <b>disk</b> full & \"stuck\"") : NULL;
    s->next_retry_ms = NOW + 4000;
    s->pid = 4242;
    s->workers = 2;
    s->time_ms = NOW;
    s->start_ms = NOW - 3723000; /* 1h02m03s */
    s->records_in = 1003;
    s->dead = 8;
    s->unrouted = 5;
    s->lag = 17;
    s->open_files = 3;
    s->files_published = 12;
    s->retries = retrying;
    s->ckpt.last = 42;
    s->ckpt.last_time_ms = NOW - 2000;
    s->ckpt.total = 5;
    s->ckpt.failures = 1;
    int64_t le[SL_SNAP_BUCKETS] = {1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5};
    memcpy(s->ckpt.le, le, sizeof le);
    s->ckpt.sum_s = 3.5;
    s->ckpt.last_duration_s = 0.25;
    s->ckpt.last_pause_s = 0.0005;
    s->ckpt.last_bytes = 123456;
    s->ckpt.last_success_ms = NOW - 2000;
    s->proc.rss_bytes = 10 << 20;
    s->proc.open_fds = 33;
    s->proc.cpu_s = 1.5;
    s->n_streams = 3;
    s->streams = calloc(3, sizeof *s->streams);
    const char *names[] = {"<script>alert(1)</script>", "play", WEIRD};
    for (int i = 0; i < 3; i++) {
        sl_snap_stream *st = &s->streams[i];
        st->name = xdup(names[i]);
        st->in = 100 * (i + 1);
        st->out = 90 * (i + 1);
        st->filtered = 7;
        st->dead = 3 - i;
        st->late = i;
        st->bytes_in = 5000 + i;
        st->bytes_written = 4000 + i;
        st->files_published = 4;
        st->partitions_committed = 2;
        st->notify_sent = 2;
        st->notify_failed = i;
        st->open_hours = 1;
        st->watermark_ms = i == 1 ? INT64_MIN : WM_MS;
        st->last_committed_hour_ms = i == 1 ? INT64_MIN : 1764554400000LL;
    }
    s->n_inputs = 2;
    s->inputs = calloc(2, sizeof *s->inputs);
    s->inputs[0] = (sl_snap_input){xdup("events"), 0, 0, 1459, 1476, 17, 0, 0};
    s->inputs[1] = (sl_snap_input){xdup("t\"x"), 3, 1, -1, -1, -1, 1, 1};
    return s;
}

static int has(const sl_buf *b, const char *s)
{
    return memmem(b->p, b->len, s, strlen(s)) != NULL;
}

static size_t count(const sl_buf *b, const char *s)
{
    size_t n = 0, l = strlen(s);
    for (const uint8_t *p = b->p, *e = b->p + b->len; (p = memmem(p, (size_t)(e - p), s, l));
         p += l)
        n++;
    return n;
}

/* Write b to a file under SL_TMP and run `cmd < file`; its exit status. */
static int run_on(const sl_buf *b, const char *name, const char *cmd)
{
    char path[512], line[2048];
    snprintf(path, sizeof path, "%s/test_status_%s", test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(b->p, 1, b->len, f);
    fclose(f);
    snprintf(line, sizeof line, "%s < '%s'", cmd, path);
    int rc = system(line);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_metrics(void)
{
    sl_snap *s = make_snap(0);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_metrics_render(s, &b), NULL);
    CHECK(run_on(&b, "metrics.txt", "promtool check metrics") == 0);
    /* escaping of label values: \" \\ \n */
    CHECK(has(&b,
              "sluice_stream_records_in_total{pipeline=\"p1\",stream=\"a\\\"b\\\\c\\nd\"} 300\n"));
    CHECK(has(
        &b, "sluice_stream_records_in_total{pipeline=\"p1\",stream=\"<script>alert(1)</script>\"} "
            "100\n"));
    CHECK(has(&b, "sluice_input_offset{pipeline=\"p1\",topic=\"events\",partition=\"0\"} 1459\n"));
    CHECK(has(&b, "sluice_input_idle{pipeline=\"p1\",topic=\"t\\\"x\",partition=\"3\"} 1\n"));
    CHECK(has(&b, "sluice_input_paused{pipeline=\"p1\",topic=\"t\\\"x\",partition=\"3\"} 1\n"));
    CHECK(has(&b, "sluice_input_paused{pipeline=\"p1\",topic=\"events\",partition=\"0\"} 0\n"));
    /* unknown values are left out */
    CHECK(!has(&b, "sluice_input_offset{pipeline=\"p1\",topic=\"t\\\"x\""));
    CHECK(!has(&b, "sluice_stream_watermark_seconds{pipeline=\"p1\",stream=\"play\"}"));
    CHECK(has(
        &b, "sluice_stream_watermark_seconds{pipeline=\"p1\",stream=\"<script>alert(1)</script>\"} "
            "1764557954.908\n"));
    CHECK(has(&b, "sluice_stream_watermark_lag_seconds{pipeline=\"p1\",stream=\"a\\\"b\\\\c\\nd\"} "
                  "32060729.661\n"));
    CHECK(has(&b, "sluice_notifications_total{pipeline=\"p1\",stream=\"a\\\"b\\\\c\\nd\",outcome="
                  "\"failed\"} 2\n"));
    CHECK(has(&b, "sluice_consumer_lag_records{pipeline=\"p1\"} 17\n"));
    CHECK(has(&b, "sluice_up{pipeline=\"p1\"} 1\n"));
    /* the histogram: cumulative buckets, +Inf = count */
    CHECK(has(&b, "sluice_checkpoint_duration_seconds_bucket{pipeline=\"p1\",le=\"0.05\"} 1\n"));
    CHECK(has(&b, "sluice_checkpoint_duration_seconds_bucket{pipeline=\"p1\",le=\"2.5\"} 4\n"));
    CHECK(has(&b, "sluice_checkpoint_duration_seconds_bucket{pipeline=\"p1\",le=\"+Inf\"} 5\n"));
    CHECK(has(&b, "sluice_checkpoint_duration_seconds_sum{pipeline=\"p1\"} 3.5\n"));
    CHECK(has(&b, "sluice_checkpoint_duration_seconds_count{pipeline=\"p1\"} 5\n"));
    CHECK(has(&b, "process_start_time_seconds{pipeline=\"p1\"} 1796614961.569\n"));
    /* every family once, with HELP and TYPE; every sample has the pipeline label */
    CHECK_EQ_INT(count(&b, "# TYPE "), count(&b, "# HELP "));
    CHECK_EQ_INT(count(&b, "# TYPE sluice_stream_records_in_total counter\n"), 1);
    CHECK_EQ_INT(count(&b, "# TYPE sluice_checkpoint_duration_seconds histogram\n"), 1);
    size_t lines = count(&b, "\n"), meta = count(&b, "# ");
    CHECK_EQ_INT(count(&b, "{pipeline=\"p1\""), lines - meta);
    sl_buf_free(&b);
    /* retrying: sluice_up 0 */
    sl_snap_free(s);
    s = make_snap(1);
    CHECK_OK(sl_metrics_render(s, &b), NULL);
    CHECK(has(&b, "sluice_up{pipeline=\"p1\"} 0\n"));
    CHECK(has(&b, "sluice_retries_total{pipeline=\"p1\"} 1\n"));
    sl_buf_free(&b);
    sl_snap_free(s);
}

static void test_json(void)
{
    sl_snap *s = make_snap(1);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_status_json(s, &b), NULL);
    const char *py =
        "/usr/bin/python3 -c '\n"
        "import json, sys\n"
        "d = json.load(sys.stdin)\n"
        "assert d[\"pipeline\"] == \"p1\" and d[\"state\"] == \"retrying\", d\n"
        "assert d[\"error\"] == \"worker 0: <b>disk</b> full & \\\"stuck\\\"\", d[\"error\"]\n"
        "assert d[\"next_retry_ms\"] == 1796618688569 and d[\"uptime_s\"] == 3723\n"
        "assert (d[\"records_in\"], d[\"dead_lettered\"], d[\"unrouted\"], d[\"lag\"]) == (1003, "
        "8, 5, 17)\n"
        "c = d[\"checkpoint\"]\n"
        "assert (c[\"last\"], c[\"total\"], c[\"failures\"], c[\"last_bytes\"]) == (42, 5, 1, "
        "123456), c\n"
        "names = [x[\"name\"] for x in d[\"streams\"]]\n"
        "assert names == [\"<script>alert(1)</script>\", \"play\", \"a\\\"b\\\\c\\nd\"], names\n"
        "p = d[\"streams\"][1]\n"
        "assert p[\"watermark_ms\"] is None and p[\"watermark_lag_s\"] is None and "
        "p[\"last_committed_hour_ms\"] is None, p\n"
        "w = d[\"streams\"][2]\n"
        "assert (w[\"records_in\"], w[\"records_written\"], w[\"filtered\"], w[\"dead_lettered\"], "
        "w[\"late\"]) == (300, 270, 7, 1, 2), w\n"
        "assert w[\"watermark_ms\"] == 1764557954908 and abs(w[\"watermark_lag_s\"] - "
        "32060729.661) < 1e-6, w\n"
        "i = d[\"inputs\"]\n"
        "assert i[0] == {\"topic\": \"events\", \"partition\": 0, \"worker\": 0, \"offset\": 1459, "
        "\"high_watermark\": 1476, \"lag\": 17, \"idle\": False, \"paused\": False}, i[0]\n"
        "assert i[1][\"topic\"] == \"t\\\"x\" and i[1][\"offset\"] is None and i[1][\"idle\"] is "
        "True and i[1][\"paused\"] is True, i[1]\n"
        "'";
    CHECK(run_on(&b, "status.json", py) == 0);
    sl_buf_free(&b);
    sl_snap_free(s);
}

static void test_html(void)
{
    sl_snap *s = make_snap(1);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_status_html(s, &b), NULL);
    CHECK(!has(&b, "<script"));
    CHECK(!has(&b, "<b>disk"));
    CHECK(has(&b, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(has(&b, "<meta http-equiv=refresh content=5>"));
    const char *py =
        "/usr/bin/python3 -c '\n"
        "import sys\n"
        "from html.parser import HTMLParser\n"
        "class P(HTMLParser):\n"
        "    def __init__(s):\n"
        "        super().__init__(); s.table = None; s.rows = {}; s.cell = None; s.text = []\n"
        "    def handle_starttag(s, t, a):\n"
        "        if t == \"table\": s.table = dict(a).get(\"id\"); s.rows[s.table] = []\n"
        "        if t == \"tr\": s.rows[s.table].append([])\n"
        "        if t == \"td\": s.cell = []\n"
        "    def handle_endtag(s, t):\n"
        "        if t == \"td\": s.rows[s.table][-1].append(\"\".join(s.cell)); s.cell = None\n"
        "    def handle_data(s, d):\n"
        "        s.text.append(d)\n"
        "        if s.cell is not None: s.cell.append(d)\n"
        "p = P(); p.feed(sys.stdin.read())\n"
        "names = [r[0] for r in p.rows[\"streams\"] if r]\n"
        "assert names == [\"<script>alert(1)</script>\", \"play\", \"a\\\"b\\\\c\\nd\"], names\n"
        "ins = [r[:3] for r in p.rows[\"inputs\"] if r]\n"
        "assert ins == [[\"events\", \"0\", \"0\"], [\"t\\\"x\", \"3\", \"1\"]], ins\n"
        "t = \"\".join(p.text)\n"
        "assert \"worker 0: <b>disk</b> full & \\\"stuck\\\"\" in t, t\n"
        "assert \"/etc/sluice/p1 <&>.yaml\" in t and \"17 records\" in t, t\n"
        "'";
    CHECK(run_on(&b, "status.html", py) == 0);
    sl_buf_free(&b);
    sl_snap_free(s);
}

static void test_text(void)
{
    sl_snap *s = make_snap(1);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_status_text(s, &b), NULL);
    CHECK(has(&b, "pipeline p1 (/etc/sluice/p1 <&>.yaml): retrying, up 1h02m03s, pid 4242"));
    CHECK(has(&b, "next attempt at 2026-12-07T04:44:48Z): worker 0: <b>disk</b> full"));
    CHECK(has(&b, "last checkpoint 42 at 2026-12-07T04:44:42Z"));
    CHECK(has(&b, "\nplay "));
    CHECK(has(&b, "2025-12-01T02:59:14Z"));
    CHECK(has(&b, "\nevents                           0      0           1459           1476"));
    sl_buf_free(&b);
    sl_snap_free(s);
    char t[32];
    sl_status_fmt_time(t, sizeof t, INT64_MIN);
    CHECK(!strcmp(t, "-"));
    sl_status_fmt_time(t, sizeof t, -1); /* 1969-12-31T23:59:59.999 */
    CHECK(!strcmp(t, "1969-12-31T23:59:59Z"));
}

static void test_listen(void)
{
    char h[64];
    int port = -1;
    sl_error e;
    CHECK_OK(sl_http_parse_listen("9464", h, sizeof h, &port, &e), &e);
    CHECK(!strcmp(h, "127.0.0.1") && port == 9464);
    CHECK_OK(sl_http_parse_listen(":0", h, sizeof h, &port, &e), &e);
    CHECK(!strcmp(h, "127.0.0.1") && port == 0);
    CHECK_OK(sl_http_parse_listen("0.0.0.0:80", h, sizeof h, &port, &e), &e);
    CHECK(!strcmp(h, "0.0.0.0") && port == 80);
    CHECK_OK(sl_http_parse_listen("[::1]:65535", h, sizeof h, &port, &e), &e);
    CHECK(!strcmp(h, "::1") && port == 65535);
    CHECK_OK(sl_http_parse_listen("localhost:1", h, sizeof h, &port, &e), &e);
    CHECK(!strcmp(h, "localhost") && port == 1);
    const char *bad[] = {"",       ":",      "host:",     "65536",  "::1:9464", "[::1]9464",
                         "h:-1",   "h:12a",  "h:+80",     "[::1]:", "h:123456", "host",
                         "a b:80", "h:0x50", "[::1:9464", "h:9 464"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sl_http_parse_listen(bad[i], h, sizeof h, &port, &e);
        if (!rc) fprintf(stderr, "accepted: '%s'\n", bad[i]);
        CHECK(rc == SL_ERR_INVALID && strstr(e.msg, "is not HOST:PORT"));
    }
}

static void write_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

static void test_token_file(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/test_status_token", test_tmpdir());
    char *tok = NULL;
    int loose = -1;
    sl_error e;
    write_file(path, "s3cret-token \t\n\n", 0600);
    CHECK_OK(sl_http_read_token(path, &tok, &loose, &e), &e);
    CHECK(tok && !strcmp(tok, "s3cret-token") && loose == 0);
    free(tok);
    write_file(path, "s3cret\n", 0644);
    CHECK_OK(sl_http_read_token(path, &tok, &loose, &e), &e);
    CHECK(loose == 1);
    free(tok);
    const char *bad[] = {"", " \n\t\n", "two\nlines\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i], 0600);
        CHECK(sl_http_read_token(path, &tok, &loose, &e) == SL_ERR_INVALID && !tok);
        CHECK(strstr(e.msg, path) && strstr(e.msg, "http.token_file"));
    }
    unlink(path);
    CHECK(sl_http_read_token(path, &tok, &loose, &e) == SL_ERR_INVALID && !tok);
    CHECK(strstr(e.msg, path) && strstr(e.msg, "cannot open"));
}

/* ---- a real server ---- */

typedef struct resp {
    long code;
    sl_buf body;
    char ctype[128], www[128], allow[64];
} resp;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    return sl_buf_append(&r->body, p, size * n) ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = size * n;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), p);
    line[strcspn(line, "\r\n")] = '\0';
    if (!strncasecmp(line, "Content-Type: ", 14))
        snprintf(r->ctype, sizeof r->ctype, "%.100s", line + 14);
    if (!strncasecmp(line, "WWW-Authenticate: ", 18))
        snprintf(r->www, sizeof r->www, "%.100s", line + 18);
    if (!strncasecmp(line, "Allow: ", 7)) snprintf(r->allow, sizeof r->allow, "%.60s", line + 7);
    return len;
}

static resp get(const char *addr, const char *path, const char *auth, const char *method)
{
    resp r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = auth ? curl_slist_append(NULL, auth) : NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (!strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (sl_buf_put_u8(&r.body, 0) == SL_OK) r.body.len--; /* a C string */
    return r;
}

static void test_server(void)
{
    sl_http *h = NULL;
    sl_error e;
    CHECK(sl_http_start(&h, "127.0.0.1:99999", NULL, &e) == SL_ERR_INVALID);
    CHECK_OK(sl_http_start(&h, "127.0.0.1:0", "tok-123", &e), &e);
    if (!h) return;
    char addr[64];
    snprintf(addr, sizeof addr, "%s", sl_http_addr(h));
    CHECK(!strncmp(addr, "127.0.0.1:", 10) && atoi(addr + 10) > 0);
    sl_http_publish(h, make_snap(0));
    const char *good = "Authorization: Bearer tok-123";
    resp r = get(addr, "/metrics", NULL, "GET");
    CHECK_EQ_INT(r.code, 401);
    CHECK(!strncmp(r.www, "Bearer", 6));
    CHECK(!has(&r.body, "sluice_"));
    sl_buf_free(&r.body);
    const char *wrong[] = {"Authorization: Bearer tok-12", "Authorization: Bearer tok-1234",
                           "Authorization: Bearer tok-124",
                           "Authorization: Basic dG9rLTEyMw==", "Authorization: Bearer "};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        r = get(addr, "/status", wrong[i], "GET");
        CHECK_EQ_INT(r.code, 401);
        sl_buf_free(&r.body);
    }
    r = get(addr, "/metrics", good, "GET");
    CHECK_EQ_INT(r.code, 200);
    CHECK(!strcmp(r.ctype, "text/plain; version=0.0.4; charset=utf-8"));
    CHECK(has(&r.body, "sluice_stream_records_in_total{pipeline=\"p1\",stream=\"play\"} 200\n"));
    sl_buf_free(&r.body);
    r = get(addr, "/status", good, "GET");
    CHECK(r.code == 200 && !strcmp(r.ctype, "application/json") &&
          has(&r.body, "\"state\":\"running\""));
    sl_buf_free(&r.body);
    r = get(addr, "/status?format=text", good, "GET");
    CHECK(r.code == 200 && has(&r.body, "pipeline p1 ("));
    sl_buf_free(&r.body);
    r = get(addr, "/", good, "GET");
    CHECK(r.code == 200 && !strcmp(r.ctype, "text/html; charset=utf-8") && has(&r.body, "<table"));
    sl_buf_free(&r.body);
    r = get(addr, "/", good, "HEAD");
    CHECK(r.code == 200 && r.body.len == 0);
    sl_buf_free(&r.body);
    r = get(addr, "/nope", good, "GET");
    CHECK_EQ_INT(r.code, 404);
    sl_buf_free(&r.body);
    r = get(addr, "/nope", NULL, "GET"); /* nothing is told without the token */
    CHECK_EQ_INT(r.code, 401);
    sl_buf_free(&r.body);
    r = get(addr, "/metrics", good, "POST");
    CHECK(r.code == 405 && !strcmp(r.allow, "GET, HEAD"));
    sl_buf_free(&r.body);
    r = get(addr, "/healthz", NULL, "GET");
    CHECK(r.code == 200 && !strcmp((char *)r.body.p, "ok\n"));
    sl_buf_free(&r.body);
    sl_http_publish(h, make_snap(1)); /* retrying */
    r = get(addr, "/healthz", NULL, "GET");
    CHECK_EQ_INT(r.code, 503);
    CHECK(has(&r.body, "retrying") && !has(&r.body, "disk"));
    sl_buf_free(&r.body);
    r = get(addr, "/status", good, "GET");
    CHECK(has(&r.body, "\"state\":\"retrying\""));
    sl_buf_free(&r.body);
    sl_http_stop(h);
    r = get(addr, "/healthz", NULL, "GET");
    CHECK_EQ_INT(r.code, 0); /* nothing listens any more */
    sl_buf_free(&r.body);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_metrics);
    RUN(test_json);
    RUN(test_html);
    RUN(test_text);
    RUN(test_listen);
    RUN(test_token_file);
    RUN(test_server);
    curl_global_cleanup();
    return TEST_DONE();
}
