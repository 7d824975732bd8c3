/* test_framer.c - record framing across chunk boundaries, limits, errors. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/framer.h"
#include "test.h"

static const char *write_file(const char *name, const void *p, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/framer-%d-%s", test_tmpdir(), (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(p, 1, n, f);
    fclose(f);
    return path;
}

/* Many varint-delimited records of varying size, read with a tiny chunk so
 * that records straddle every possible boundary. */
static void test_varint_roundtrip(void)
{
    sl_buf b = SL_BUF_INIT;
    uint64_t offs[300];
    for (int i = 0; i < 300; i++) {
        offs[i] = b.len;
        size_t len = (size_t)(i * 7) % 300;
        CHECK_OK(sl_buf_put_varint(&b, len), NULL);
        for (size_t k = 0; k < len; k++)
            CHECK_OK(sl_buf_put_u8(&b, (uint8_t)(i + k)), NULL);
    }
    const char *path = write_file("v.pb", b.p, b.len);
    for (size_t chunk = 1; chunk <= 4097; chunk = chunk * 3 + 1) {
        sl_framer f;
        sl_error err;
        CHECK_OK(sl_framer_open(&f, path, SL_FRAME_VARINT, chunk, 0, &err), &err);
        sl_frame fr;
        int i = 0;
        sl_err_t rc;
        while ((rc = sl_framer_next(&f, &fr, &err)) == SL_OK) {
            CHECK_EQ_INT(fr.index, i);
            CHECK_EQ_INT(fr.offset, offs[i]);
            CHECK_EQ_INT(fr.len, (size_t)(i * 7) % 300);
            int good = 1;
            for (size_t k = 0; k < fr.len; k++)
                good &= fr.p[k] == (uint8_t)(i + k);
            CHECK(good);
            i++;
        }
        CHECK_EQ_INT(rc, SL_ERR_EOF);
        CHECK_EQ_INT(i, 300);
        sl_framer_close(&f);
    }
    unlink(path);
    sl_buf_free(&b);
}

static void test_varint_truncated(void)
{
    const uint8_t data[] = {2, 'a', 'b', 5, 'x'}; /* second record claims 5, has 1 */
    const char *path = write_file("t.pb", data, sizeof data);
    sl_framer f;
    sl_error err;
    sl_frame fr;
    CHECK_OK(sl_framer_open(&f, path, SL_FRAME_VARINT, 2, 0, &err), &err);
    CHECK_OK(sl_framer_next(&f, &fr, &err), &err);
    CHECK_EQ_INT(sl_framer_next(&f, &fr, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "record 1 at byte 3") != NULL);
    CHECK(strstr(err.msg, "truncated") != NULL);
    sl_framer_close(&f);

    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x0f}; /* 4 GiB record */
    path = write_file("big.pb", big, sizeof big);
    CHECK_OK(sl_framer_open(&f, path, SL_FRAME_VARINT, 0, 0, &err), &err);
    CHECK_EQ_INT(sl_framer_next(&f, &fr, &err), SL_ERR_LIMIT);
    CHECK(strstr(err.msg, "record limit") != NULL);
    sl_framer_close(&f);

    /* over a small max_record, whole in the buffer (the fast path): a
     * limit error too */
    uint8_t mid[8 + 200] = {0x05, 'a', 'b', 'c', 'd', 'e'};
    mid[6] = 0xc8, mid[7] = 0x01; /* 200 */
    path = write_file("mid.pb", mid, sizeof mid);
    CHECK_OK(sl_framer_open(&f, path, SL_FRAME_VARINT, 0, 100, &err), &err);
    CHECK_OK(sl_framer_next(&f, &fr, &err), &err);
    CHECK_EQ_INT(fr.len, 5);
    CHECK_EQ_INT(sl_framer_next(&f, &fr, &err), SL_ERR_LIMIT);
    CHECK(strstr(err.msg, "record 1 at byte 6") != NULL);
    sl_framer_close(&f);

    const uint8_t prefix[] = {0x80, 0x80}; /* ends inside the prefix */
    path = write_file("p.pb", prefix, sizeof prefix);
    CHECK_OK(sl_framer_open(&f, path, SL_FRAME_VARINT, 0, 0, &err), &err);
    CHECK_EQ_INT(sl_framer_next(&f, &fr, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "truncated length prefix") != NULL);
    sl_framer_close(&f);
    unlink(path);
}

static void test_lines(void)
{
    const char text[] = "one\r\ntwo\n\nlast-without-newline";
    const char *path = write_file("l.txt", text, sizeof text - 1);
    const char *want[] = {"one", "two", "", "last-without-newline"};
    const uint64_t woff[] = {0, 5, 9, 10};
    for (size_t chunk = 1; chunk < 40; chunk++) {
        sl_framer f;
        sl_error err;
        sl_frame fr;
        CHECK_OK(sl_framer_open(&f, path, SL_FRAME_LINES, chunk, 0, &err), &err);
        int i = 0;
        while (sl_framer_next(&f, &fr, &err) == SL_OK && i < 4) {
            CHECK_EQ_INT(fr.len, strlen(want[i]));
            CHECK(!memcmp(fr.p, want[i], fr.len));
            CHECK_EQ_INT(fr.offset, woff[i]);
            i++;
        }
        CHECK_EQ_INT(i, 4);
        sl_framer_close(&f);
    }
    /* A line longer than the record limit is an error, not an allocation. */
    char longl[100];
    memset(longl, 'x', sizeof longl);
    path = write_file("long.txt", longl, sizeof longl);
    sl_framer f;
    sl_error err;
    sl_frame fr;
    CHECK_OK(sl_framer_open(&f, path, SL_FRAME_LINES, 8, 32, &err), &err);
    CHECK_EQ_INT(sl_framer_next(&f, &fr, &err), SL_ERR_LIMIT);
    sl_framer_close(&f);
    unlink(path);
}

static void test_missing_file(void)
{
    sl_framer f;
    sl_error err;
    CHECK_EQ_INT(sl_framer_open(&f, "/nonexistent/x.pb", SL_FRAME_VARINT, 0, 0, &err), SL_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/x.pb") != NULL);
}

int main(void)
{
    mkdir(test_tmpdir(), 0755);
    RUN(test_varint_roundtrip);
    RUN(test_varint_truncated);
    RUN(test_lines);
    RUN(test_missing_file);
    return TEST_DONE();
}
