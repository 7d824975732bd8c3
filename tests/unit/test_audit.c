/* test_audit.c - the audit table (against a plain array as the reference),
 * the audit-log line, and appends to the log (day files, torn lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/audit.h"
#include "test.h"

#define H  3600000LL
#define NS 300
#define NH 7

static void test_hour(void)
{
    CHECK_EQ_INT(sl_audit_hour(0), 0);
    CHECK_EQ_INT(sl_audit_hour(H - 1), 0);
    CHECK_EQ_INT(sl_audit_hour(H), H);
    CHECK_EQ_INT(sl_audit_hour(1764547200123LL), 1764547200000LL);
    CHECK_EQ_INT(sl_audit_hour(-1), -H);
    CHECK_EQ_INT(sl_audit_hour(-H), -H);
    CHECK_EQ_INT(sl_audit_hour(-H - 1), -2 * H);
}

/* Random increments over 301 streams (-1 included) x 7 hours (some before
 * 1970) in a random order with runs of the same key (the cache), checked
 * against an array; then reset empties it and it counts again. */
static void test_table(void)
{
    static int64_t want[NS + 1][NH][4];
    memset(want, 0, sizeof want);
    sl_audit_tab t = {0};
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 200000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int s = (int)(x % (NS + 1)), h = (int)((x >> 20) % NH), f = (int)((x >> 40) % 4);
            int run = 1 + (int)((x >> 50) % 5);
            int64_t hour = (h - 2) * H + 1764547200000LL * (h > 3);
            for (int k = 0; k < run; k++) {
                sl_audit_n *n = sl_audit_at(&t, s - 1, hour);
                CHECK(n != NULL);
                if (!n) return;
                int64_t *c = f == 0   ? &n->read
                             : f == 1 ? &n->filtered
                             : f == 2 ? &n->dead
                                      : &n->late;
                (*c)++;
                want[s][h][f]++;
            }
        }
        int bad = 0, found = 0;
        for (uint32_t i = 0; i <= t.mask; i++) {
            const sl_audit_slot *sl = &t.slots[i];
            if (sl->stream == SL_AUDIT_EMPTY) continue;
            found++;
            int s = sl->stream + 1;
            int h = sl->hour >= 1764547200000LL ? (int)((sl->hour - 1764547200000LL) / H + 2)
                                                : (int)(sl->hour / H + 2);
            if (s < 0 || s > NS || h < 0 || h >= NH) {
                bad++;
                continue;
            }
            const int64_t *w = want[s][h];
            bad += sl->n.read != w[0] || sl->n.filtered != w[1] || sl->n.dead != w[2] ||
                   sl->n.late != w[3];
        }
        int nonzero = 0;
        for (int s = 0; s <= NS; s++)
            for (int h = 0; h < NH; h++)
                nonzero += want[s][h][0] + want[s][h][1] + want[s][h][2] + want[s][h][3] > 0;
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(found, nonzero);
        CHECK_EQ_INT(t.used, nonzero);
        CHECK(t.used * 2 <= t.mask + 1); /* at most half full */
        sl_audit_tab_reset(&t);
        CHECK_EQ_INT(t.used, 0);
        for (uint32_t i = 0; i <= t.mask; i++)
            CHECK(t.slots[i].stream == SL_AUDIT_EMPTY);
        memset(want, 0, sizeof want);
    }
    /* the cache: the same key twice gives the same counts, a new key a zero one */
    sl_audit_n *a = sl_audit_at(&t, 3, H), *b = sl_audit_at(&t, 3, H),
               *c = sl_audit_at(&t, 3, 2 * H);
    CHECK(a == b && c != a && c->read == 0 && c->late == 0);
    sl_audit_tab_free(&t);
    CHECK(t.slots == NULL && t.used == 0);
    sl_audit_tab_free(&t); /* twice is fine */
}

static void test_line(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_audit_line l = {.kind = "commit",
                       .id = "p1/play/dt=2025-12-01/hour=13/v2",
                       .pipeline = "p1",
                       .stream = "play",
                       .partition = "dt=2025-12-01/hour=13",
                       .hour_ms = 1764594000000LL,
                       .version = 2,
                       .read = 100,
                       .filtered = 10,
                       .dead = 3,
                       .late = 2,
                       .written = 85,
                       .files = 1,
                       .bytes = 4096,
                       .checkpoint = 42};
    CHECK_OK(sl_audit_line_json(&l, &b), NULL);
    const char *want =
        "{\"kind\":\"commit\",\"id\":\"p1/play/dt=2025-12-01/hour=13/v2\",\"pipeline\":\"p1\","
        "\"stream\":\"play\",\"partition\":\"dt=2025-12-01/hour=13\","
        "\"hour_start\":\"2025-12-01T13:00:00Z\",\"hour_start_ms\":1764594000000,\"version\":2,"
        "\"read\":100,\"filtered\":10,\"dead_lettered\":3,\"late\":2,\"written\":85,\"files\":1,"
        "\"bytes\":4096,\"checkpoint\":42}\n";
    CHECK(b.len == strlen(want) && !memcmp(b.p, want, b.len));
    if (b.len != strlen(want) || memcmp(b.p, want, b.len))
        fprintf(stderr, "got  %.*s\nwant %s", (int)b.len, (const char *)b.p, want);
    /* a delta of no stream: stream null, no version, files, bytes; appended */
    size_t at = b.len;
    l = (sl_audit_line){.kind = "pipeline",
                        .id = "p1/-/dt=2025-12-01/hour=13/c43",
                        .pipeline = "p1",
                        .partition = "dt=2025-12-01/hour=13",
                        .hour_ms = 1764594000000LL,
                        .version = -1,
                        .read = 7,
                        .dead = 7,
                        .checkpoint = 43};
    CHECK_OK(sl_audit_line_json(&l, &b), NULL);
    const char *want2 =
        "{\"kind\":\"pipeline\",\"id\":\"p1/-/dt=2025-12-01/hour=13/c43\",\"pipeline\":\"p1\","
        "\"stream\":null,\"partition\":\"dt=2025-12-01/hour=13\","
        "\"hour_start\":\"2025-12-01T13:00:00Z\",\"hour_start_ms\":1764594000000,\"read\":7,"
        "\"filtered\":0,\"dead_lettered\":7,\"late\":0,\"written\":0,\"checkpoint\":43}\n";
    CHECK(b.len - at == strlen(want2) && !memcmp(b.p + at, want2, b.len - at));
    /* errors leave the buffer as it was */
    size_t len = b.len;
    l.id = NULL;
    CHECK_EQ_INT(sl_audit_line_json(&l, &b), SL_ERR_INVALID);
    l.id = "x";
    l.hour_ms = 253402300800000LL;
    CHECK_EQ_INT(sl_audit_line_json(&l, &b), SL_ERR_INVALID);
    CHECK_EQ_INT(b.len, len);
    sl_buf_free(&b);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *p = malloc(1 << 16);
    *n = p ? fread(p, 1, 1 << 16, f) : 0;
    fclose(f);
    return p;
}

static void test_log(void)
{
    char dir[512], path[700], cmd[800];
    snprintf(dir, sizeof dir, "%s/test_audit_%d/a/b", test_tmpdir(), (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    sl_error err;
    /* 2025-12-01T23:59:59.999Z and the next day: two files */
    CHECK_OK(sl_audit_log_append(dir, 1764633599999LL, "{\"a\":1}\n", 8, &err), &err);
    CHECK_OK(sl_audit_log_append(dir, 1764633600000LL, "{\"b\":2}\n", 8, &err), &err);
    CHECK_OK(sl_audit_log_append(dir, 1764633599000LL, "{\"c\":3}\n", 8, &err), &err);
    CHECK_OK(sl_audit_log_append(dir, 1764633599000LL, "", 0, &err), &err); /* nothing */
    size_t n;
    snprintf(path, sizeof path, "%s/audit-2025-12-01.jsonl", dir);
    char *p = slurp(path, &n);
    CHECK(p && n == 16 && !memcmp(p, "{\"a\":1}\n{\"c\":3}\n", 16));
    free(p);
    snprintf(path, sizeof path, "%s/audit-2025-12-02.jsonl", dir);
    p = slurp(path, &n);
    CHECK(p && n == 8 && !memcmp(p, "{\"b\":2}\n", 8));
    free(p);
    /* a line cut by a crash: the next append starts on a line of its own */
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"tor", f);
        fclose(f);
    }
    CHECK_OK(sl_audit_log_append(dir, 1764633600000LL, "{\"d\":4}\n", 8, &err), &err);
    p = slurp(path, &n);
    CHECK(p && n == 22 && !memcmp(p, "{\"b\":2}\n{\"tor\n{\"d\":4}\n", 22));
    free(p);
    /* a directory that cannot be made: an error naming the log */
    snprintf(path, sizeof path, "%s/audit-2025-12-02.jsonl/x", dir);
    CHECK(sl_audit_log_append(path, 1764633600000LL, "{}\n", 3, &err) != SL_OK);
    CHECK(strstr(err.msg, "audit log") != NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/test_audit_%d'", test_tmpdir(), (int)getpid());
    CHECK(system(cmd) == 0);
}

int main(void)
{
    RUN(test_hour);
    RUN(test_table);
    RUN(test_line);
    RUN(test_log);
    return TEST_DONE();
}
