/* storage.h - the lake behind a vtable.
 *
 * Exporters, the committer and recovery reach the lake only through these
 * few operations, so other backends (HDFS, S3) can come later behind the
 * same table. What the checkpoint protocol needs from a backend:
 *
 *   create    a new object for writing (parents created as needed);
 *   publish   make a hidden object visible under its final name, atomically
 *             and idempotently: when `from` is gone and `to` exists, the
 *             publish already happened (recovery redoes commits blindly);
 *   remove    delete (missing is fine);
 *   sync_dir  make creates/renames in a directory durable (POSIX: fsync of
 *             the directory; object stores: no-op);
 *   walk      list objects under a prefix (recovery's zombie sweep).
 *
 * The POSIX backend honours the fault hooks of core/fault.h: while the
 * SL_FAULT_ENOSPC file exists, create, sync and publish fail with ENOSPC,
 * which is how tests make the lake full and free it again.
 */
#ifndef SL_ENGINE_STORAGE_H
#define SL_ENGINE_STORAGE_H

#include "core/err.h"
#include "core/ostream.h"

typedef struct sl_storage sl_storage;

typedef int (*sl_storage_walk_fn)(void *arg, const char *path, const char *name);

typedef struct sl_storage_vt {
    sl_err_t (*create)(sl_storage *st, const char *path, sl_ostream **out, sl_error *err);
    sl_err_t (*publish)(sl_storage *st, const char *from, const char *to, sl_error *err);
    sl_err_t (*remove)(sl_storage *st, const char *path, sl_error *err);
    sl_err_t (*sync_dir)(sl_storage *st, const char *dir, sl_error *err);
    /* Calls fn for every regular file under root (recursively); fn returns
     * nonzero to stop. A missing root is an empty walk. */
    sl_err_t (*walk)(sl_storage *st, const char *root, sl_storage_walk_fn fn, void *arg,
                     sl_error *err);
    void (*destroy)(sl_storage *st);
} sl_storage_vt;

struct sl_storage {
    const sl_storage_vt *vt;
};

sl_err_t sl_storage_posix(sl_storage **out, sl_error *err) SL_MUST_CHECK;

/* mkdir -p (POSIX helper shared with the state directory). */
sl_err_t sl_mkdirs(const char *dir, sl_error *err) SL_MUST_CHECK;

#endif
