/* test_ostream.c - output streams: memory, file, fault injection (a fault
 * at byte N fails and poisons), atomic publication (abort leaves nothing,
 * commit publishes, a failed commit leaves no temporary behind). */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ostream.h"
#include "test.h"

static char dir[1024];

static void make_dir(const char *name)
{
    snprintf(dir, sizeof dir, "%s/test_ostream-%s-%ld", test_tmpdir(), name, (long)getpid());
    mkdir(test_tmpdir(), 0755);
    mkdir(dir, 0755);
}

/* Number of entries in dir (excluding . and ..) whose name contains sub. */
static int count_entries(const char *sub)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, sub)) n++;
    closedir(d);
    return n;
}

static long read_file(const char *path, uint8_t *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    long n = (long)fread(out, 1, cap, f);
    fclose(f);
    return n;
}

static void test_mem(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_ostream *os;
    sl_error err;
    CHECK_OK(sl_ostream_mem(&os, &b, &err), &err);
    CHECK_OK(sl_ostream_write(os, "abc", 3, &err), &err);
    CHECK_OK(sl_ostream_write(os, "", 0, &err), &err);
    CHECK_OK(sl_ostream_write(os, "defg", 4, &err), &err);
    CHECK_EQ_INT(os->pos, 7);
    CHECK(b.len == 7 && !memcmp(b.p, "abcdefg", 7));
    CHECK_OK(sl_ostream_sync(os, &err), &err);
    CHECK_OK(sl_ostream_close(os, &err), &err);
    CHECK(sl_ostream_write(os, "x", 1, &err) == SL_ERR_INVALID);
    CHECK(strstr(err.msg, "after close") != NULL);
    sl_ostream_destroy(os);
    sl_buf_free(&b);
}

static void test_faulty_write(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_ostream *mem, *os;
    sl_error err;
    CHECK_OK(sl_ostream_mem(&mem, &b, &err), &err);
    CHECK_OK(sl_ostream_faulty(&os, mem, 10, 0, 0, &err), &err);
    CHECK_OK(sl_ostream_write(os, "012345", 6, &err), &err);
    CHECK_OK(sl_ostream_write(os, "6789", 4, &err), &err); /* exactly up to byte 10 */
    CHECK_EQ_INT(sl_ostream_write(os, "A", 1, &err), SL_ERR_IO);
    CHECK(strstr(err.msg, "injected") != NULL);
    CHECK_EQ_INT(os->pos, 10);
    CHECK_EQ_INT(os->failed, SL_ERR_IO);
    /* poisoned: every later call repeats the first error */
    sl_error e2;
    CHECK_EQ_INT(sl_ostream_write(os, "", 0, &e2), SL_ERR_IO);
    CHECK(strstr(e2.msg, "earlier failure") && strstr(e2.msg, "injected"));
    CHECK_EQ_INT(sl_ostream_sync(os, &e2), SL_ERR_IO);
    CHECK_EQ_INT(sl_ostream_close(os, &e2), SL_ERR_IO);
    CHECK_EQ_INT(b.len, 10);
    sl_ostream_destroy(os);

    /* a torn write: the bytes before the fault land, the call fails */
    b.len = 0;
    CHECK_OK(sl_ostream_mem(&mem, &b, &err), &err);
    CHECK_OK(sl_ostream_faulty(&os, mem, 3, 0, 0, &err), &err);
    CHECK_EQ_INT(sl_ostream_write(os, "abcdef", 6, &err), SL_ERR_IO);
    CHECK_EQ_INT(b.len, 3);
    CHECK_EQ_INT(os->pos, 0);
    sl_ostream_destroy(os);

    /* fault at byte 0: the very first write fails */
    CHECK_OK(sl_ostream_mem(&mem, &b, &err), &err);
    CHECK_OK(sl_ostream_faulty(&os, mem, 0, 0, 0, &err), &err);
    CHECK_EQ_INT(sl_ostream_write(os, "a", 1, &err), SL_ERR_IO);
    sl_ostream_destroy(os);
    sl_buf_free(&b);
}

static void test_faulty_sync_close(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_ostream *mem, *os;
    sl_error err;
    CHECK_OK(sl_ostream_mem(&mem, &b, &err), &err);
    CHECK_OK(sl_ostream_faulty(&os, mem, UINT64_MAX, 1, 0, &err), &err);
    CHECK_OK(sl_ostream_write(os, "abc", 3, &err), &err);
    CHECK_EQ_INT(sl_ostream_sync(os, &err), SL_ERR_IO);
    CHECK_EQ_INT(sl_ostream_write(os, "d", 1, &err), SL_ERR_IO);
    CHECK_EQ_INT(sl_ostream_close(os, &err), SL_ERR_IO);
    sl_ostream_destroy(os);

    CHECK_OK(sl_ostream_mem(&mem, &b, &err), &err);
    CHECK_OK(sl_ostream_faulty(&os, mem, UINT64_MAX, 0, 1, &err), &err);
    CHECK_OK(sl_ostream_write(os, "abc", 3, &err), &err);
    CHECK_OK(sl_ostream_sync(os, &err), &err);
    CHECK_EQ_INT(sl_ostream_close(os, &err), SL_ERR_IO);
    CHECK_EQ_INT(sl_ostream_close(os, &err), SL_ERR_IO);
    sl_ostream_destroy(os);
    sl_buf_free(&b);
}

static void test_file(void)
{
    make_dir("file");
    char path[1200];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    sl_ostream *os;
    sl_error err;
    /* a tiny buffer, so writes below, at and above its size all happen */
    CHECK_OK(sl_ostream_file(&os, path, 16, &err), &err);
    static uint8_t want[100000];
    size_t n = 0;
    for (size_t step = 1; n < sizeof want - 5000; step = step * 3 % 4999 + 1) {
        for (size_t i = 0; i < step; i++)
            want[n + i] = (uint8_t)(n + i * 7);
        CHECK_OK(sl_ostream_write(os, want + n, step, &err), &err);
        n += step;
    }
    CHECK_EQ_INT(os->pos, n);
    CHECK_OK(sl_ostream_sync(os, &err), &err);
    CHECK_OK(sl_ostream_close(os, &err), &err);
    sl_ostream_destroy(os);
    static uint8_t got[100000];
    CHECK_EQ_INT(read_file(path, got, sizeof got), n);
    CHECK(!memcmp(got, want, n));

    /* default buffer, destroy without close (abandoned) does not crash */
    CHECK_OK(sl_ostream_file(&os, path, 0, &err), &err);
    CHECK_OK(sl_ostream_write(os, "xyz", 3, &err), &err);
    sl_ostream_destroy(os);

    snprintf(path, sizeof path, "%s/no/such/dir/f", dir);
    CHECK_EQ_INT(sl_ostream_file(&os, path, 0, &err), SL_ERR_IO);
    CHECK(os == NULL && strstr(err.msg, "no/such/dir") != NULL);
}

static void test_atomic(void)
{
    make_dir("atomic");
    char path[1200];
    snprintf(path, sizeof path, "%s/part-0.parquet", dir);
    sl_atomic_file f;
    sl_error err;

    /* abort leaves neither the final file nor the temporary */
    CHECK_OK(sl_atomic_open(&f, path, &err), &err);
    CHECK(strstr(f.tmp_path, "/.part-0.parquet.tmp-") != NULL);
    CHECK_EQ_INT(count_entries(".tmp-"), 1);
    CHECK_OK(sl_ostream_write(f.os, "hello", 5, &err), &err);
    sl_atomic_abort(&f);
    CHECK_EQ_INT(count_entries(""), 0);
    CHECK(access(path, F_OK) != 0);
    sl_atomic_abort(&f); /* twice is harmless */

    /* commit publishes under the final name, nothing else remains */
    CHECK_OK(sl_atomic_open(&f, path, &err), &err);
    CHECK_OK(sl_ostream_write(f.os, "hello", 5, &err), &err);
    CHECK_OK(sl_atomic_commit(&f, &err), &err);
    CHECK(f.os == NULL);
    uint8_t got[16];
    CHECK_EQ_INT(read_file(path, got, sizeof got), 5);
    CHECK(!memcmp(got, "hello", 5));
    CHECK_EQ_INT(count_entries(""), 1);

    /* a second commit replaces the file atomically */
    CHECK_OK(sl_atomic_open(&f, path, &err), &err);
    CHECK_OK(sl_ostream_write(f.os, "bye", 3, &err), &err);
    CHECK_OK(sl_atomic_commit(&f, &err), &err);
    CHECK_EQ_INT(read_file(path, got, sizeof got), 3);
    CHECK_EQ_INT(count_entries(""), 1);

    /* a commit whose rename fails (the final name is a non-empty
     * directory) reports the error and leaves no temporary */
    char dpath[1300], inner[1400];
    snprintf(dpath, sizeof dpath, "%s/taken", dir);
    mkdir(dpath, 0755);
    snprintf(inner, sizeof inner, "%s/x", dpath);
    FILE *x = fopen(inner, "w");
    if (x) fclose(x);
    CHECK_OK(sl_atomic_open(&f, dpath, &err), &err);
    CHECK_OK(sl_ostream_write(f.os, "data", 4, &err), &err);
    CHECK(sl_atomic_commit(&f, &err) == SL_ERR_IO);
    CHECK(strstr(err.msg, "rename") != NULL);
    CHECK_EQ_INT(count_entries(".tmp-"), 0);
    sl_atomic_abort(&f); /* harmless after a failed commit */

    /* the writer's own failure: poisoned stream, commit refuses */
    CHECK_OK(sl_atomic_open(&f, path, &err), &err);
    sl_ostream *inner_os = f.os;
    CHECK_OK(sl_ostream_faulty(&f.os, inner_os, 2, 0, 0, &err), &err);
    CHECK(sl_ostream_write(f.os, "abcdef", 6, &err) == SL_ERR_IO);
    CHECK(sl_atomic_commit(&f, &err) == SL_ERR_IO);
    CHECK_EQ_INT(count_entries(".tmp-"), 0);
    CHECK_EQ_INT(read_file(path, got, sizeof got), 3); /* the old file is untouched */

    CHECK(sl_atomic_open(&f, "", &err) == SL_ERR_INVALID);
}

int main(void)
{
    RUN(test_mem);
    RUN(test_faulty_write);
    RUN(test_faulty_sync_close);
    RUN(test_file);
    RUN(test_atomic);
    return TEST_DONE();
}
