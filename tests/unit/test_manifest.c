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
    sl_manifest_set_et(&m, "events", 3, 1764079230000);
    CHECK(!sl_manifest_add_file(&m, 1, "play", 5210, 183012, "lake/a b/.sluice+p+w1+x+1.inprogress",
                                "lake/a b/p-c7-w1-1.parquet"));
    CHECK(!sl_manifest_add_file(&m, 0, "", 0, 0, "h\xc3\xa9\n", "f%"));
    sl_mf_replay *rp = sl_manifest_replay(&m, "r1 odd");
    CHECK(rp != NULL && sl_manifest_replay(&m, "r1 odd") == rp);
    rp->file = 2;
    rp->row = 5120;
    rp->done = 1;
    for (int k = 0; k < SL_RP_N; k++)
        rp->n[k] = 100 + k;
    CHECK_OK(sl_manifest_write(&m, dir, "plays", &err), &err);
    CHECK_OK(sl_manifest_load(&r, dir, "plays", &err), &err);
    CHECK_EQ_INT(r.checkpoint, 7);
    CHECK_EQ_INT(r.time_ms, 1764075600123);
    CHECK_EQ_INT(r.txn, 1);
    CHECK_EQ_INT(r.n_pos, 2);
    CHECK_EQ_INT(sl_manifest_pos(&r, "events", 3), 1200453);
    CHECK_EQ_INT(sl_manifest_pos(&r, "odd topic%name", 0), 0);
    CHECK_EQ_INT(sl_manifest_pos(&r, "events", 4), -1);
    CHECK_EQ_INT(sl_manifest_max_et(&r, "events", 3), 1764079230000);
    CHECK(sl_manifest_max_et(&r, "odd topic%name", 0) == INT64_MIN); /* none: a 4-field line */
    CHECK_EQ_INT(r.n_files, 2);
    CHECK(!strcmp(r.files[0].hidden, "lake/a b/.sluice+p+w1+x+1.inprogress"));
    CHECK(!strcmp(r.files[0].final, "lake/a b/p-c7-w1-1.parquet"));
    CHECK_EQ_INT(r.files[0].rows, 5210);
    CHECK_EQ_INT(r.files[0].bytes, 183012);
    CHECK_EQ_INT(r.files[0].worker, 1);
    CHECK(!strcmp(r.files[1].stream, ""));
    CHECK(!strcmp(r.files[1].hidden, "h\xc3\xa9\n"));
    CHECK(!strcmp(r.files[1].final, "f%"));
    CHECK_EQ_INT(r.n_replays, 1);
    CHECK(!strcmp(r.replays[0].id, "r1 odd"));
    CHECK(r.replays[0].file == 2 && r.replays[0].row == 5120 && r.replays[0].done == 1);
    for (int k = 0; k < SL_RP_N; k++)
        CHECK_EQ_INT(r.replays[0].n[k], 100 + k);
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

/* The audit counts of a part and the delta lines round-trip; a manifest
 * written before them (part lines of 9 fields, no delta) still loads, with
 * zero counts; deltas are not carried by sl_manifest_copy_time. */
static void test_audit_counts(void)
{
    setup("audit");
    sl_manifest m = {0}, r;
    sl_error err;
    m.checkpoint = 3;
    m.watermark = 1764079230000;
    m.first_hour = 1764072000000;
    sl_mf_part *p = sl_manifest_part(&m, "play", 1764075600000);
    CHECK(p != NULL);
    p->state = SL_PART_COMMITTED;
    p->version = 2;
    p->rows = 52100;
    p->files = 12;
    p->bytes = 1830120;
    p->read = 60000;
    p->filtered = 7000;
    p->dead = 850;
    p->late = 50;
    p->audit_pending = 1;
    sl_mf_delta *d = sl_manifest_delta(&m, "", 1764072000000);
    CHECK(d != NULL);
    d->read = d->dead = 12;
    CHECK(sl_manifest_delta(&m, "", 1764072000000) == d); /* found, not a second entry */
    d = sl_manifest_delta(&m, "old stream", -3600000);
    CHECK(d != NULL);
    d->read = 5;
    d->late = 5;
    CHECK_OK(sl_manifest_write(&m, dir, "p", &err), &err);
    CHECK_OK(sl_manifest_load(&r, dir, "p", &err), &err);
    CHECK_EQ_INT(r.n_parts, 1);
    const sl_mf_part *q = &r.parts[0];
    CHECK_EQ_INT(q->rows, 52100);
    CHECK_EQ_INT(q->read, 60000);
    CHECK_EQ_INT(q->filtered, 7000);
    CHECK_EQ_INT(q->dead, 850);
    CHECK_EQ_INT(q->late, 50);
    CHECK_EQ_INT(q->audit_pending, 1);
    CHECK_EQ_INT(q->pending, 0);
    CHECK_EQ_INT(r.n_deltas, 2);
    CHECK(!strcmp(r.deltas[0].stream, "") && r.deltas[0].hour == 1764072000000);
    CHECK_EQ_INT(r.deltas[0].read, 12);
    CHECK_EQ_INT(r.deltas[0].dead, 12);
    CHECK(!strcmp(r.deltas[1].stream, "old stream") && r.deltas[1].hour == -3600000);
    CHECK_EQ_INT(r.deltas[1].late, 5);
    /* carried forward: the parts with their counts, never the deltas */
    sl_manifest c = {0};
    CHECK_OK(sl_manifest_copy_time(&c, &r), NULL);
    CHECK_EQ_INT(c.n_parts, 1);
    CHECK_EQ_INT(c.parts[0].read, 60000);
    CHECK_EQ_INT(c.n_deltas, 0);
    sl_manifest_free(&c);
    sl_manifest_free(&r);
    sl_manifest_free(&m);

    /* a manifest of the format before the audit: 9-field part lines */
    setup("old");
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && printf 'sluice-manifest 1\npipeline p\ncheckpoint 4\ntime 1\n"
             "wm 1764079230000 1764072000000\nthrough play 1764075600000\n"
             "part play 1764072000000 1 1 300 2 4096 0\nend 7\n' > '%s/000000000004.manifest'",
             dir, dir);
    CHECK(system(cmd) == 0);
    CHECK_OK(sl_manifest_load(&r, dir, "p", &err), &err);
    CHECK_EQ_INT(r.checkpoint, 4);
    CHECK_EQ_INT(r.n_parts, 1);
    CHECK_EQ_INT(r.parts[0].rows, 300);
    CHECK_EQ_INT(r.parts[0].files, 2);
    CHECK_EQ_INT(r.parts[0].read, 0);
    CHECK_EQ_INT(r.parts[0].late, 0);
    CHECK_EQ_INT(r.parts[0].audit_pending, 0);
    CHECK_EQ_INT(r.n_deltas, 0);
    sl_manifest_free(&r);
    /* a part line of another length is damage, not silently half-read */
    snprintf(cmd, sizeof cmd,
             "printf 'sluice-manifest 1\npipeline p\ncheckpoint 5\ntime 1\n"
             "part play 1764072000000 1 1 300 2 4096 0 7 7\nend 5\n' > '%s/000000000005.manifest'",
             dir);
    CHECK(system(cmd) == 0);
    CHECK(sl_manifest_load(&r, dir, "p", &err) == SL_ERR_CORRUPT);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_prune_and_newest);
    RUN(test_damaged);
    RUN(test_audit_counts);
    return TEST_DONE();
}
