/* test_manifest.c - checkpoint manifests: round trip, carried positions,
 * odd characters in names, pruning, and refusal of damaged files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/manifest.h"
#include "test.h"

static char dir[512];

static void setup(const char *name)
{
    const char *tmp = getenv("SL_TMP") ? getenv("SL_TMP") : "/tmp";
    snprintf(dir, sizeof dir, "%s/test_manifest_%s_%d", tmp, name, (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
    }
}

static void test_round_trip(void)
{
    setup("rt");
    sl_manifest m = {0}, r;
    sl_error err;
    m.checkpoint = 7;
    m.time_ms = 1764075600123;
    m.txn = 1;
    CHECK(!sl_manifest_set_pos(&m, "events", 3, 1200452));
    CHECK(!sl_manifest_set_pos(&m, "odd topic%name", 0, 0));
    CHECK(!sl_manifest_set_pos(&m, "events", 3, 1200453)); /* update, not a second entry */
    CHECK(!sl_manifest_add_file(&m, 1, "play", 5210, 183012, "lake/a b/.sluice+p+w1+x+1.inprogress",
                                "lake/a b/p-c7-w1-1.parquet"));
    CHECK(!sl_manifest_add_file(&m, 0, "", 0, 0, "h\xc3\xa9\n", "f%"));
    CHECK_OK(sl_manifest_write(&m, dir, "plays", &err), &err);
    CHECK_OK(sl_manifest_load(&r, dir, "plays", &err), &err);
    CHECK_EQ_INT(r.checkpoint, 7);
    CHECK_EQ_INT(r.time_ms, 1764075600123);
    CHECK_EQ_INT(r.txn, 1);
    CHECK_EQ_INT(r.n_pos, 2);
    CHECK_EQ_INT(sl_manifest_pos(&r, "events", 3), 1200453);
    CHECK_EQ_INT(sl_manifest_pos(&r, "odd topic%name", 0), 0);
    CHECK_EQ_INT(sl_manifest_pos(&r, "events", 4), -1);
    CHECK_EQ_INT(r.n_files, 2);
    CHECK(!strcmp(r.files[0].hidden, "lake/a b/.sluice+p+w1+x+1.inprogress"));
    CHECK(!strcmp(r.files[0].final, "lake/a b/p-c7-w1-1.parquet"));
    CHECK_EQ_INT(r.files[0].rows, 5210);
    CHECK_EQ_INT(r.files[0].bytes, 183012);
    CHECK_EQ_INT(r.files[0].worker, 1);
    CHECK(!strcmp(r.files[1].stream, ""));
    CHECK(!strcmp(r.files[1].hidden, "h\xc3\xa9\n"));
    CHECK(!strcmp(r.files[1].final, "f%"));
    /* another pipeline must not take this state dir */
    sl_manifest o;
    CHECK(sl_manifest_load(&o, dir, "other", &err) == SL_ERR_INVALID);
    CHECK(strstr(err.msg, "share a state_dir") != NULL);
    sl_manifest_free(&m);
    sl_manifest_free(&r);
}

static void test_prune_and_newest(void)
{
    setup("prune");
    sl_manifest m = {0}, r;
    sl_error err;
    for (int c = 1; c <= 6; c++) {
        m.checkpoint = (uint64_t)c;
        CHECK(!sl_manifest_set_pos(&m, "t", 0, c * 10));
        CHECK_OK(sl_manifest_write(&m, dir, "p", &err), &err);
    }
    CHECK_OK(sl_manifest_load(&r, dir, "p", &err), &err);
    CHECK_EQ_INT(r.checkpoint, 6);
    CHECK_EQ_INT(sl_manifest_pos(&r, "t", 0), 60);
    char path[700];
    snprintf(path, sizeof path, "%s/000000000003.manifest", dir);
    CHECK(access(path, F_OK) != 0); /* only the three newest are kept */
    snprintf(path, sizeof path, "%s/000000000004.manifest", dir);
    CHECK(access(path, F_OK) == 0);
    sl_manifest_free(&m);
    sl_manifest_free(&r);
}

static void test_damaged(void)
{
    setup("bad");
    sl_manifest m = {0}, r;
    sl_error err;
    m.checkpoint = 2;
    CHECK(!sl_manifest_set_pos(&m, "t", 0, 5));
    CHECK_OK(sl_manifest_write(&m, dir, "p", &err), &err);
    char path[700];
    snprintf(path, sizeof path, "%s/000000000002.manifest", dir);
    /* cut the end line off: refused, never half-used */
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK(truncate(path, sb.st_size - 4) == 0);
    CHECK(sl_manifest_load(&r, dir, "p", &err) != SL_OK);
    CHECK(strstr(err.msg, "damaged") != NULL);
    /* an empty state dir is no manifest, not an error */
    setup("empty");
    CHECK_OK(sl_manifest_load(&r, dir, "p", &err), &err);
    CHECK_EQ_INT(r.checkpoint, 0);
    sl_manifest_free(&m);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_prune_and_newest);
    RUN(test_damaged);
    return TEST_DONE();
}
