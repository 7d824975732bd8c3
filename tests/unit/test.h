/* test.h - the unit-test harness: a test is a function, a file is a suite.
 *
 *   static void test_varint(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(test_varint); return TEST_DONE(); }
 *
 * A failed CHECK prints file:line and the expression and marks the test
 * failed, then the test goes on (so one run shows every failure). The
 * closing line is "N passed, N failed", which CI reads.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static int t_passed, t_failed, t_cur_failed;

static inline const char *t_errmsg(const sl_error *e)
{
    return e ? e->msg : "";
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, va_, vb_);                                                             \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr_, errp_)                                                                     \
    do {                                                                                           \
        int rc_ = (int)(expr_);                                                                    \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr_, rc_,        \
                    t_errmsg(errp_));                                                              \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        t_cur_failed = 0;                                                                          \
        fn();                                                                                      \
        if (t_cur_failed) {                                                                        \
            t_failed++;                                                                            \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            t_passed++;                                                                            \
        }                                                                                          \
    } while (0)

#define TEST_DONE() (printf("%d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

/* A scratch directory for a test file: $SL_TMP (set by ctest) or /tmp. */
static inline const char *test_tmpdir(void)
{
    const char *d = getenv("SL_TMP");
    return d && *d ? d : "/tmp";
}

#endif
