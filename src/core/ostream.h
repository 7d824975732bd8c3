/* ostream.h - the output-stream vtable under every file sluice writes.
 *
 * Writers (Parquet, row files, manifests) never call write(2) themselves:
 * they write through an sl_ostream, so tests can swap in a memory stream
 * (check exact bytes) or a fault-injecting stream (fail the Nth write, the
 * sync, or the close) without #ifdefs in the writer. Later storage backends
 * (HDFS, S3) are more implementations of the same vtable.
 *
 * Contract: write() writes all n bytes or fails; pos counts bytes accepted.
 * sync() makes accepted bytes durable (fsync for files). close() flushes
 * and releases the OS resource; destroy() frees the object (after close, or
 * instead of it on an abandoned stream). After any failure the stream is
 * poisoned: every later call returns the first error again, so a writer
 * can never "succeed" past a lost write.
 */
#ifndef SL_CORE_OSTREAM_H
#define SL_CORE_OSTREAM_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct sl_ostream sl_ostream;

typedef struct sl_ostream_vt {
    sl_err_t (*write)(sl_ostream *s, const void *p, size_t n, sl_error *err);
    sl_err_t (*sync)(sl_ostream *s, sl_error *err);
    sl_err_t (*close)(sl_ostream *s, sl_error *err);
    void (*destroy)(sl_ostream *s);
} sl_ostream_vt;

struct sl_ostream {
    const sl_ostream_vt *vt;
    uint64_t pos;    /* bytes accepted so far */
    sl_err_t failed; /* first error, poisons the stream */
    char name[256];  /* for error messages: the path, "memory", ... */
};

static inline sl_err_t SL_MUST_CHECK sl_ostream_write(sl_ostream *s, const void *p, size_t n,
                                                      sl_error *err)
{
    return s->vt->write(s, p, n, err);
}
static inline sl_err_t SL_MUST_CHECK sl_ostream_sync(sl_ostream *s, sl_error *err)
{
    return s->vt->sync(s, err);
}
static inline sl_err_t SL_MUST_CHECK sl_ostream_close(sl_ostream *s, sl_error *err)
{
    return s->vt->close(s, err);
}
static inline void sl_ostream_destroy(sl_ostream *s)
{
    if (s) s->vt->destroy(s);
}

/* A file opened with O_CREAT|O_TRUNC|O_WRONLY (mode 0644), written through
 * a user-space buffer of buf_size bytes (0 = 1 MiB). */
sl_err_t sl_ostream_file(sl_ostream **out, const char *path, size_t buf_size,
                         sl_error *err) SL_MUST_CHECK;

/* Appends into *dst (owned by the caller; must outlive the stream). */
sl_err_t sl_ostream_mem(sl_ostream **out, sl_buf *dst, sl_error *err) SL_MUST_CHECK;

/* Wraps inner (and takes ownership of it). Fails with SL_ERR_IO the first
 * write that would take pos past fail_at_byte (UINT64_MAX: never), and the
 * sync/close when fail_sync/fail_close are set. */
sl_err_t sl_ostream_faulty(sl_ostream **out, sl_ostream *inner, uint64_t fail_at_byte,
                           int fail_sync, int fail_close, sl_error *err) SL_MUST_CHECK;

/* ---- atomic publication of a finished file ----
 * Write to a temporary name next to final_path (".<name>.tmp-<pid>-<n>"),
 * then sl_atomic_commit: sync, close, rename onto final_path, fsync the
 * directory. sl_atomic_abort closes and unlinks the temporary. Either way
 * the ostream is destroyed. A reader never sees a partial final file. */
typedef struct sl_atomic_file {
    sl_ostream *os;
    char tmp_path[4096];
    char final_path[4096];
} sl_atomic_file;

sl_err_t sl_atomic_open(sl_atomic_file *f, const char *final_path, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_atomic_commit(sl_atomic_file *f, sl_error *err) SL_MUST_CHECK;
void sl_atomic_abort(sl_atomic_file *f);

#endif
