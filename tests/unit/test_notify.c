/* test_notify.c - partition-commit notifications (engine/notify.h).
 *
 * Without arguments: unit tests that need no peer. The JSON is compared
 * with text written by hand from the contract (keys, order, RFC 3339 UTC
 * times; the epoch values were computed with python's datetime). The
 * command target runs real /bin/sh commands in a scratch directory: the
 * environment it sees, a retry after a failing first run, the deadline, a
 * kill of a command that runs too long, cancel, and resends of one id
 * going only to targets that still owe it. A webhook at a port that
 * refuses connections gives a retriable error that never shows the URL's
 * user, password or query.
 *
 * With arguments it is the driver of e2e 0040 (tests/e2e/0040-notify.sh):
 *   test_notify send [--brokers B --topic T] [--webhook URL] [--command RUN]
 *                    [--cwd DIR] [--pipeline P] [--count N] [--deadline MS]
 * sends N events (event i: stream "play", partition dt=2025-12-01/hour=10+i,
 * version 1, rows 1000+i, files 1+i, bytes 4096*(i+1), hour start
 * 2025-12-01T(10+i):00:00Z, watermark one hour and 30.25 s later, path
 * /lake/play/dt=2025-12-01/hour=HH) to the given targets; exit 0 when all
 * arrived, 2 after a retriable error, 3 after another error (on stderr).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/notify.h"
#include "test.h"

#define H13 1764594000000LL /* 2025-12-01T13:00:00Z */
#define H10 1764583200000LL /* 2025-12-01T10:00:00Z */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sl_notify_event ev13(void)
{
    sl_notify_event ev = {.id = "p1/play/dt=2025-12-01/hour=13/v2",
                          .pipeline = "p1",
                          .stream = "play",
                          .partition = "dt=2025-12-01/hour=13",
                          .path = "/lake/play/dt=2025-12-01/hour=13",
                          .version = 2,
                          .rows = 123456,
                          .files = 3,
                          .bytes = 9876543210LL,
                          .hour_start_ms = H13,
                          .watermark_ms = H13 + 3600000 + 30250};
    return ev;
}

static int has(const sl_buf *b, const char *s)
{
    return memmem(b->p, b->len, s, strlen(s)) != NULL;
}

static void test_json(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_notify_event ev = ev13();
    CHECK_OK(sl_notify_json(&ev, &b), NULL);
    const char *want = "{\"id\":\"p1/play/dt=2025-12-01/hour=13/v2\",\"pipeline\":\"p1\","
                       "\"stream\":\"play\",\"partition\":\"dt=2025-12-01/hour=13\","
                       "\"path\":\"/lake/play/dt=2025-12-01/hour=13\",\"version\":2,"
                       "\"rows\":123456,\"files\":3,\"bytes\":9876543210,"
                       "\"hour_start\":\"2025-12-01T13:00:00Z\","
                       "\"watermark\":\"2025-12-01T14:00:30.250Z\",\"watermark_ms\":1764597630250}";
    CHECK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0);
    if (b.len != strlen(want) || memcmp(b.p, want, b.len))
        fprintf(stderr, "got  %.*s\nwant %s\n", (int)b.len, (const char *)b.p, want);
    /* escaping; appends after what is there */
    sl_buf_reset(&b);
    CHECK_OK(sl_buf_append(&b, "x", 1), NULL);
    ev.path = "/a\"b\\c\n";
    ev.hour_start_ms = 0;
    ev.watermark_ms = -1;
    CHECK_OK(sl_notify_json(&ev, &b), NULL);
    CHECK(b.len > 1 && b.p[0] == 'x' && b.p[1] == '{');
    CHECK(has(&b, "\"path\":\"/a\\\"b\\\\c\\n\","));
    CHECK(has(&b, "\"hour_start\":\"1970-01-01T00:00:00Z\","));
    CHECK(has(&b, "\"watermark\":\"1969-12-31T23:59:59.999Z\",\"watermark_ms\":-1}"));
    /* errors leave the buffer as it was */
    size_t len = b.len;
    ev.watermark_ms = 253402300800000LL; /* 10000-01-01 */
    CHECK_EQ_INT(sl_notify_json(&ev, &b), SL_ERR_INVALID);
    ev.watermark_ms = 0;
    ev.stream = NULL;
    CHECK_EQ_INT(sl_notify_json(&ev, &b), SL_ERR_INVALID);
    CHECK_EQ_INT(b.len, len);
    /* the audit object, last */
    sl_buf_reset(&b);
    ev = ev13();
    sl_notify_audit au = {
        .read = 130000, .filtered = 5000, .dead_lettered = 44, .late = 1500, .written = 123456};
    ev.audit = &au;
    CHECK_OK(sl_notify_json(&ev, &b), NULL);
    CHECK(has(&b, "\"watermark_ms\":1764597630250,\"audit\":{\"read\":130000,\"filtered\":5000,"
                  "\"dead_lettered\":44,\"late\":1500,\"written\":123456}}"));
    char t[32];
    CHECK(sl_notify_rfc3339(253402300799999LL, t, sizeof t) == 0 &&
          strcmp(t, "9999-12-31T23:59:59.999Z") == 0);
    CHECK(sl_notify_rfc3339(INT64_MIN, t, sizeof t) == -1);
    sl_buf_free(&b);
}

static char tdir[512];

static void setup_dir(const char *name)
{
    char cmd[1200];
    snprintf(tdir, sizeof tdir, "%s/test_notify.%d/%s", test_tmpdir(), (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", tdir, tdir);
    CHECK(system(cmd) == 0);
}

static char *slurp(const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", tdir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *s = calloc(1, 65536);
    size_t n = s ? fread(s, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return s;
}

static int count_lines(const char *name)
{
    char *s = slurp(name);
    int n = 0;
    for (char *p = s; p && *p; p++)
        n += *p == '\n';
    free(s);
    return s ? n : -1;
}

static sl_notifier *cmd_notifier(const char *const *runs, int n)
{
    sl_cfg_notify c[4];
    sl_notifier *nt = NULL;
    sl_error err;
    memset(c, 0, sizeof c);
    for (int i = 0; i < n; i++)
        c[i].kind = SL_NOTIFY_COMMAND, c[i].run = (char *)runs[i], c[i].line = 10 + i;
    CHECK_OK(sl_notifier_new(&nt, c, n, NULL, NULL, tdir, &err), &err);
    return nt;
}

static void test_command_env(void)
{
    setup_dir("env");
    setenv("SLUICE_ID", "stale-from-parent", 1);
    setenv("SL_NOTIFY_TEST_KEEP", "kept", 1);
    const char *run[] = {"env | grep -E '^(SLUICE_|SL_NOTIFY_TEST_KEEP=)' | grep -v "
                         "'^SLUICE_EVENT=' | sort > env.out; printf '%s' \"$SLUICE_EVENT\" > "
                         "event.json; pwd > pwd.out; echo to-stdout"};
    sl_notifier *nt = cmd_notifier(run, 1);
    sl_notify_event ev = ev13();
    sl_error err;
    CHECK_OK(sl_notifier_send(nt, &ev, 5000, &err), &err);
    char *env = slurp("env.out"), *js = slurp("event.json"), *pwd = slurp("pwd.out");
    const char *want = "SLUICE_BYTES=9876543210\n"
                       "SLUICE_FILES=3\n"
                       "SLUICE_HOUR_START=2025-12-01T13:00:00Z\n"
                       "SLUICE_ID=p1/play/dt=2025-12-01/hour=13/v2\n"
                       "SLUICE_PARTITION=dt=2025-12-01/hour=13\n"
                       "SLUICE_PATH=/lake/play/dt=2025-12-01/hour=13\n"
                       "SLUICE_PIPELINE=p1\n"
                       "SLUICE_ROWS=123456\n"
                       "SLUICE_STREAM=play\n"
                       "SLUICE_VERSION=2\n"
                       "SLUICE_WATERMARK=2025-12-01T14:00:30.250Z\n"
                       "SL_NOTIFY_TEST_KEEP=kept\n";
    CHECK(env && strcmp(env, want) == 0);
    if (env && strcmp(env, want)) fprintf(stderr, "env.out:\n%s", env);
    sl_buf b = SL_BUF_INIT;
    CHECK_OK(sl_notify_json(&ev, &b), NULL);
    CHECK(js && strlen(js) == b.len && memcmp(js, b.p, b.len) == 0);
    CHECK(pwd && strncmp(pwd, tdir, strlen(tdir)) == 0 && pwd[strlen(tdir)] == '\n');
    unsetenv("SLUICE_ID");
    sl_buf_free(&b);
    free(env), free(js), free(pwd);
    sl_notifier_free(nt);
}

static void test_command_retry(void)
{
    setup_dir("retry");
    const char *run[] = {"echo run >> runs; if [ -e marker ]; then exit 0; fi; touch marker; "
                         "exit 3"};
    sl_notifier *nt = cmd_notifier(run, 1);
    sl_notify_event ev = ev13();
    sl_error err;
    int64_t t0 = now_ms();
    CHECK_OK(sl_notifier_send(nt, &ev, 5000, &err), &err);
    int64_t took = now_ms() - t0;
    CHECK_EQ_INT(count_lines("runs"), 2);
    CHECK(took >= 90 && took < 3000); /* one backoff of 100 ms */
    sl_notifier_free(nt);
}

static void test_command_deadline(void)
{
    setup_dir("deadline");
    const char *run[] = {"echo run >> runs; exit 7"};
    sl_notifier *nt = cmd_notifier(run, 1);
    sl_notify_event ev = ev13();
    sl_error err;
    sl_error_clear(&err);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 800, &err), SL_ERR_IO);
    int64_t took = now_ms() - t0;
    CHECK(err.retriable == 1);
    CHECK(strstr(err.msg, "notify[0] command (line 10)") != NULL);
    CHECK(strstr(err.msg, "p1/play/dt=2025-12-01/hour=13/v2") != NULL);
    CHECK(strstr(err.msg, "exit status 7") != NULL);
    CHECK(strstr(err.msg, "runs") == NULL); /* the command text is never shown */
    int runs = count_lines("runs");
    CHECK(runs >= 3 && runs <= 5); /* 0, 100, 300, 700 ms */
    CHECK(took >= 700 && took < 2000);
    fprintf(stderr, "deadline: %s (%d runs, %lld ms)\n", err.msg, runs, (long long)took);
    sl_notifier_free(nt);
}

/* 0 when the process is gone or a zombie (its reaper may be slow) */
static int alive(int pid)
{
    char p[64], st[512];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    st[n] = '\0';
    char *rp = strrchr(st, ')');
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

static void test_command_kill(void)
{
    setup_dir("kill");
    const char *run[] = {"sleep 30 & echo $! > child.pid; wait"};
    sl_notifier *nt = cmd_notifier(run, 1);
    sl_notify_event ev = ev13();
    sl_error err;
    int64_t t0 = now_ms();
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 700, &err), SL_ERR_IO);
    int64_t took = now_ms() - t0;
    CHECK(err.retriable && strstr(err.msg, "killed") != NULL);
    CHECK(took < 2500);
    char *pid = slurp("child.pid");
    usleep(100000);
    CHECK(pid && !alive(atoi(pid))); /* the whole process group went */
    free(pid);
    sl_notifier_free(nt);
}

static void *cancel_later(void *arg)
{
    usleep(300000);
    sl_notifier_cancel(arg);
    return NULL;
}

static void test_cancel(void)
{
    setup_dir("cancel");
    const char *run[] = {"sleep 30"};
    sl_notifier *nt = cmd_notifier(run, 1);
    sl_notify_event ev = ev13();
    sl_error err;
    pthread_t th;
    int64_t t0 = now_ms();
    pthread_create(&th, NULL, cancel_later, nt);
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 30000, &err), SL_ERR_IO);
    pthread_join(th, NULL);
    CHECK(now_ms() - t0 < 2000);
    CHECK(err.retriable && strstr(err.msg, "cancel") != NULL);
    sl_notifier_uncancel(nt);
    sl_notifier_free(nt);
}

/* A resend of the same id goes only to the targets that still owe it. */
static void test_resend(void)
{
    setup_dir("resend");
    const char *run[] = {"echo \"$SLUICE_ID\" >> a.log",
                         "echo \"$SLUICE_ID\" >> b.log; [ ! -e block ]"};
    sl_notifier *nt = cmd_notifier(run, 2);
    sl_notify_event ev = ev13();
    sl_error err;
    char p[700];
    snprintf(p, sizeof p, "%s/block", tdir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 300, &err), SL_ERR_IO);
    CHECK(strstr(err.msg, "notify[1] command (line 11)") != NULL);
    unlink(p);
    CHECK_OK(sl_notifier_send(nt, &ev, 3000, &err), &err);
    CHECK_EQ_INT(count_lines("a.log"), 1);
    CHECK(count_lines("b.log") >= 3);
    ev.id = "p1/play/dt=2025-12-01/hour=13/v3";
    CHECK_OK(sl_notifier_send(nt, &ev, 3000, &err), &err);
    CHECK_EQ_INT(count_lines("a.log"), 2);
    /* the same id again, after a success: sent again (at least once) */
    CHECK_OK(sl_notifier_send(nt, &ev, 3000, &err), &err);
    CHECK_EQ_INT(count_lines("a.log"), 3);
    sl_notifier_free(nt);
}

static void test_bad_config(void)
{
    sl_cfg_notify c = {0};
    sl_notifier *nt = (sl_notifier *)&c;
    sl_error err;
    c.line = 7;
    c.kind = SL_NOTIFY_KAFKA;
    c.topic = "t";
    CHECK_EQ_INT(sl_notifier_new(&nt, &c, 1, NULL, NULL, NULL, &err), SL_ERR_INVALID);
    CHECK(nt == NULL && strstr(err.msg, "commit.notify[0] (line 7)") != NULL);
    c.kind = SL_NOTIFY_WEBHOOK;
    const char *bad[] = {"ftp://h/x", "not a url", "", "http://"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.url = (char *)bad[i];
        CHECK_EQ_INT(sl_notifier_new(&nt, &c, 1, NULL, NULL, NULL, &err), SL_ERR_INVALID);
        CHECK(strstr(err.msg, "line 7") != NULL);
    }
    c.kind = SL_NOTIFY_COMMAND;
    c.run = "";
    CHECK_EQ_INT(sl_notifier_new(&nt, &c, 1, NULL, NULL, NULL, &err), SL_ERR_INVALID);
    /* an empty list delivers nothing, successfully */
    CHECK_OK(sl_notifier_new(&nt, NULL, 0, NULL, NULL, NULL, &err), &err);
    sl_notify_event ev = ev13();
    CHECK_OK(sl_notifier_send(nt, &ev, 10, &err), &err);
    ev.id = "a\r\nX-Evil: 1";
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 10, &err), SL_ERR_INVALID);
    CHECK(err.retriable == 0);
    sl_notifier_free(nt);
    sl_notifier_free(NULL);
}

static void test_webhook_refused(void)
{
    /* a bound socket that does not listen: connections are refused */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
          getsockname(s, (struct sockaddr *)&a, &al) == 0);
    char url[200], shown[100];
    snprintf(url, sizeof url, "http://alice:hunter22@127.0.0.1:%d/hook?token=sekrit123",
             ntohs(a.sin_port));
    snprintf(shown, sizeof shown, "webhook http://127.0.0.1:%d/hook:", ntohs(a.sin_port));
    sl_cfg_notify c = {.kind = SL_NOTIFY_WEBHOOK, .url = url, .line = 3};
    sl_notifier *nt = NULL;
    sl_error err;
    CHECK_OK(sl_notifier_new(&nt, &c, 1, NULL, NULL, NULL, &err), &err);
    sl_notify_event ev = ev13();
    int64_t t0 = now_ms();
    CHECK_EQ_INT(sl_notifier_send(nt, &ev, 600, &err), SL_ERR_IO);
    CHECK(now_ms() - t0 < 2000);
    CHECK(err.retriable == 1);
    CHECK(strstr(err.msg, shown) != NULL);
    CHECK(strstr(err.msg, ev.id) != NULL);
    CHECK(!strstr(err.msg, "hunter22") && !strstr(err.msg, "sekrit123") &&
          !strstr(err.msg, "alice"));
    fprintf(stderr, "refused: %s\n", err.msg);
    sl_notifier_free(nt);
    close(s);
}

/* ---- e2e driver ---------------------------------------------------------- */

static int driver(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL, *webhook = NULL, *command = NULL, *cwd = NULL;
    const char *pipeline = "e2e40";
    int count = 3;
    long long deadline = 30000;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--brokers"))
            brokers = v;
        else if (!strcmp(k, "--topic"))
            topic = v;
        else if (!strcmp(k, "--webhook"))
            webhook = v;
        else if (!strcmp(k, "--command"))
            command = v;
        else if (!strcmp(k, "--cwd"))
            cwd = v;
        else if (!strcmp(k, "--pipeline"))
            pipeline = v;
        else if (!strcmp(k, "--count"))
            count = atoi(v);
        else if (!strcmp(k, "--deadline"))
            deadline = atoll(v);
        else {
            fprintf(stderr, "test_notify send: unknown option %s\n", k);
            return 64;
        }
    }
    sl_cfg_notify c[3];
    int n = 0;
    memset(c, 0, sizeof c);
    if (topic) c[n].kind = SL_NOTIFY_KAFKA, c[n].topic = (char *)topic, c[n++].line = 1;
    if (webhook) c[n].kind = SL_NOTIFY_WEBHOOK, c[n].url = (char *)webhook, c[n++].line = 2;
    if (command) c[n].kind = SL_NOTIFY_COMMAND, c[n].run = (char *)command, c[n++].line = 3;
    sl_notifier *nt = NULL;
    sl_error err;
    if (sl_notifier_new(&nt, c, n, brokers, NULL, cwd, &err)) {
        fprintf(stderr, "test_notify: %s\n", err.msg);
        return 3;
    }
    int rc = 0;
    for (int i = 0; i < count && !rc; i++) {
        char id[128], part[64], path[128];
        snprintf(part, sizeof part, "dt=2025-12-01/hour=%02d", 10 + i);
        snprintf(id, sizeof id, "%s/play/%s/v1", pipeline, part);
        snprintf(path, sizeof path, "/lake/play/%s", part);
        sl_notify_event ev = {.id = id,
                              .pipeline = pipeline,
                              .stream = "play",
                              .partition = part,
                              .path = path,
                              .version = 1,
                              .rows = 1000 + i,
                              .files = 1 + i,
                              .bytes = 4096LL * (i + 1),
                              .hour_start_ms = H10 + 3600000LL * i,
                              .watermark_ms = H10 + 3600000LL * (i + 1) + 30250};
        int64_t t0 = now_ms();
        if (sl_notifier_send(nt, &ev, deadline, &err)) {
            fprintf(stderr, "test_notify: %s%s\n", err.msg, err.retriable ? " [retriable]" : "");
            rc = err.retriable ? 2 : 3;
        } else {
            printf("sent %s in %lld ms\n", id, (long long)(now_ms() - t0));
        }
    }
    sl_notifier_free(nt);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "send")) return driver(argc, argv);
    RUN(test_json);
    RUN(test_bad_config);
    RUN(test_command_env);
    RUN(test_command_retry);
    RUN(test_command_deadline);
    RUN(test_command_kill);
    RUN(test_cancel);
    RUN(test_resend);
    RUN(test_webhook_refused);
    return TEST_DONE();
}
