/* test_reload.c - the hot-reload watcher (engine/reload.c): what counts as a
 * change of a configuration's files, and that a change is reported once,
 * only after its directory has been quiet. (Applying a reload is tested end
 * to end in tests/e2e/0053-run-reload.sh.) Files live in a fresh directory
 * under SL_TMP; they are replaced by rename, as editors do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/rt_int.h"
#include "test.h"

static char g_dir[1024];

static void put(const char *name, const char *text)
{
    char tmp[2048], path[2048];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", g_dir, name);
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
    if (rename(tmp, path)) abort();
}

static sl_cfg *load(void)
{
    char path[2048];
    sl_error err;
    sl_cfg *c = NULL;
    snprintf(path, sizeof path, "%s/p.yaml", g_dir);
    CHECK_OK(sl_cfg_load(&c, path, &err), &err);
    return c;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll for up to 2 s; 1 when a change was reported. */
static int changed(sl_watch *w, const sl_cfg *c)
{
    for (int i = 0; i < 40; i++) {
        if (sl_watch_poll(w, c, now_ms())) return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static const char *yaml = "pipeline: t\nreload: { watch: true }\n"
                          "source: { brokers: 'b:1', topics: [events] }\n"
                          "schemas: [./s.proto]\nstreams:\n"
                          "  - { name: a, message: m.M, etl: { script: ./c.lua },"
                          "      outputs: [ { kind: files, path: ./l } ] }\n";

static void setup(void)
{
    const char *tmp = getenv("SL_TMP") ? getenv("SL_TMP") : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/test_reload.%d", tmp, (int)getpid());
    mkdir(tmp, 0755);
    mkdir(g_dir, 0755);
    put("p.yaml", yaml);
    put("s.proto", "syntax = \"proto3\"; package m; message M { int64 x = 1; }\n");
    put("c.lua", "function transform(r) return r end\n");
}

/* The hash covers the pipeline file, schemas, .proto files beside them and
 * scripts, by content. */
static void test_hash(void)
{
    sl_cfg *c = load();
    if (!c) return;
    uint64_t h0 = sl_watch_hash(c);
    put("p.yaml", yaml); /* the same content: the same hash */
    CHECK(sl_watch_hash(c) == h0);
    put("imported.proto", "syntax = \"proto3\"; package m; message I { int64 y = 1; }\n");
    uint64_t h1 = sl_watch_hash(c);
    CHECK(h1 != h0);
    put("c.lua", "function transform(r) return nil end\n");
    uint64_t h2 = sl_watch_hash(c);
    CHECK(h2 != h1);
    put("notes.txt", "not part of the configuration\n");
    CHECK(sl_watch_hash(c) == h2);
    sl_cfg_free(c);
}

/* A change is reported once the directory is quiet, once; rewriting the same
 * content or an unrelated file reports nothing. */
static void test_poll(void)
{
    sl_cfg *c = load();
    if (!c) return;
    sl_watch w;
    sl_error err;
    CHECK_OK(sl_watch_open(&w, c, &err), &err);
    CHECK(w.fd >= 0);
    put("p.yaml", yaml);
    put("other.txt", "x\n");
    CHECK(!changed(&w, c));
    put("s.proto", "syntax = \"proto3\"; package m; message M { int64 x = 1; string r = 2; }\n");
    int64_t t0 = now_ms();
    CHECK(!sl_watch_poll(&w, c, t0)); /* not quiet yet */
    CHECK(changed(&w, c));
    CHECK(!changed(&w, c)); /* reported once */
    sl_watch_close(&w);
    CHECK(w.fd == -1);
    sl_cfg_free(c);
}

/* Without reload.watch nothing is watched, and polling is a no-op. */
static void test_off(void)
{
    put("p.yaml", "pipeline: t\nsource: { brokers: 'b:1', topics: [events] }\n"
                  "schemas: [./s.proto]\nstreams:\n  - { name: a, message: m.M, outputs: [ { kind: "
                  "files, path: ./l } ] }\n");
    sl_cfg *c = load();
    if (!c) return;
    sl_watch w;
    sl_error err;
    CHECK_OK(sl_watch_open(&w, c, &err), &err);
    CHECK(w.fd == -1);
    put("s.proto", "syntax = \"proto3\"; package m; message M { int64 z = 1; }\n");
    CHECK(!changed(&w, c));
    sl_watch_close(&w);
    sl_cfg_free(c);
}

int main(void)
{
    setup();
    RUN(test_hash);
    RUN(test_poll);
    RUN(test_off);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd)) {
    }
    return TEST_DONE();
}
