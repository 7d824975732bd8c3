/* test_log.c - core/log.c: logfmt and JSON rendering, escaping, levels and
 * the rate limit of repeated warnings. Lines are captured through a pipe.
 * (JSON lines of a real run are also parsed by Python's json module in
 * tests/e2e/0050-run-operations.sh.) */
#include <fcntl.h>
#include <unistd.h>

#include "core/log.h"
#include "test.h"

static int g_pipe[2];

static void capture_start(void)
{
    if (pipe(g_pipe)) abort();
    fcntl(g_pipe[0], F_SETFL, O_NONBLOCK);
    sl_log_redirect(g_pipe[1]);
}

/* Everything written since capture_start. */
static char *capture_end(void)
{
    static char buf[65536];
    sl_log_redirect(-1);
    close(g_pipe[1]);
    ssize_t n = read(g_pipe[0], buf, sizeof buf - 1);
    close(g_pipe[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_logfmt(void)
{
    sl_log_configure(SL_LOG_INFO, SL_LOG_LOGFMT);
    sl_log_set_field("pipeline", "plays");
    capture_start();
    SL_LOG(SL_LOG_INFO, "checkpoint committed", SL_F_INT("checkpoint", 12), SL_F_STR("a", "x y"),
           SL_F_STR("q", "say \"hi\"\n"), SL_F_STR("empty", ""), SL_F_DBL("ms", 1.5));
    sl_log_msg(SL_LOG_DEBUG, "not shown");
    char *out = capture_end();
    CHECK(!strncmp(out, "ts=", 3));
    CHECK(strstr(out, " level=info pipeline=plays msg=\"checkpoint committed\" checkpoint=12 "
                      "a=\"x y\" q=\"say \\\"hi\\\"\\n\" empty=\"\" ms=1.5\n") != NULL);
    CHECK_EQ_INT(count_lines(out), 1);
    sl_log_set_field("pipeline", NULL);
}

static void test_json(void)
{
    sl_log_configure(SL_LOG_DEBUG, SL_LOG_JSON);
    capture_start();
    SL_LOG(SL_LOG_DEBUG, "m",
           SL_F_STR("ctl", "a\x01"
                           "b"),
           SL_F_STR("null", NULL), SL_F_INT("n", -5));
    char *out = capture_end();
    CHECK(!strncmp(out, "{\"ts\":\"", 7));
    CHECK(strstr(out, "\"level\":\"debug\",\"msg\":\"m\",\"ctl\":\"a\\u0001b\",\"null\":null,"
                      "\"n\":-5}\n") != NULL);
    sl_log_configure(SL_LOG_INFO, SL_LOG_LOGFMT);
}

static void test_long_json_stays_valid(void)
{
    static char big[8192];
    memset(big, 'x', sizeof big - 1);
    sl_log_configure(SL_LOG_INFO, SL_LOG_JSON);
    capture_start();
    SL_LOG(SL_LOG_INFO, "big", SL_F_STR("v", big));
    char *out = capture_end();
    CHECK(strstr(out, "\"truncated\":") != NULL);
    size_t n = strlen(out);
    CHECK(n > 2 && out[n - 2] == '}' && out[n - 1] == '\n');
    sl_log_configure(SL_LOG_INFO, SL_LOG_LOGFMT);
    capture_start();
    SL_LOG(SL_LOG_INFO, "big", SL_F_STR("v", big));
    out = capture_end();
    n = strlen(out);
    CHECK(n > 5 && !strcmp(out + n - 5, " ...\n"));
}

/* Past SL_LOG_BURST lines of one warning in a window, lines are counted,
 * not written; the next window's first line reports the count. Another
 * message is not affected. */
static void test_rate_limit(void)
{
    sl_log_configure(SL_LOG_INFO, SL_LOG_LOGFMT);
    capture_start();
    for (int i = 0; i < 100; i++)
        SL_LOG(SL_LOG_WARN, "lake write failed", SL_F_INT("i", i));
    SL_LOG(SL_LOG_WARN, "another warning", SL_F_INT("i", 0));
    for (int i = 0; i < 10; i++)
        sl_log_msg(SL_LOG_INFO, "info is not limited");
    sl_log_tick(); /* the window has not ended: nothing yet */
    char *out = capture_end();
    int lake = 0;
    for (char *p = out; (p = strstr(p, "lake write failed")); p++)
        lake++;
    CHECK_EQ_INT(lake, SL_LOG_BURST);
    CHECK(strstr(out, "another warning") != NULL);
    CHECK(strstr(out, "repeated=") == NULL);
    CHECK_EQ_INT(count_lines(out), SL_LOG_BURST + 1 + 10);
}

/* When the window ends, the count comes out (sl_log_tick, or the next line
 * of the message) with the latest suppressed event's fields. */
static void test_repeated_count(void)
{
    sl_log_set_limit(2, 100);
    capture_start();
    for (int i = 0; i < 7; i++)
        SL_LOG(SL_LOG_ERROR, "broker down", SL_F_INT("i", i));
    usleep(150 * 1000);
    sl_log_tick();
    SL_LOG(SL_LOG_ERROR, "broker down", SL_F_INT("i", 7));
    char *out = capture_end();
    CHECK(strstr(out, "msg=\"broker down\" i=0\n") != NULL);
    CHECK(strstr(out, "msg=\"broker down\" i=1\n") != NULL);
    CHECK(strstr(out, "msg=\"broker down\" i=6 repeated=5 window_s=0.1\n") != NULL);
    CHECK(strstr(out, "msg=\"broker down\" i=7\n") != NULL);
    int n = 0; /* (the previous test's 95 suppressed lines are reported here too) */
    for (char *p = out; (p = strstr(p, "broker down")); p++)
        n++;
    CHECK_EQ_INT(n, 4);
    CHECK(strstr(out, "msg=\"lake write failed\" i=99 repeated=95 ") != NULL);
    sl_log_set_limit(SL_LOG_BURST, SL_LOG_WINDOW_MS);
}

int main(void)
{
    RUN(test_logfmt);
    RUN(test_json);
    RUN(test_long_json_stays_valid);
    RUN(test_rate_limit);
    RUN(test_repeated_count);
    return TEST_DONE();
}
