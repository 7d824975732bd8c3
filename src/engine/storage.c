/* storage.c - the POSIX lake backend (see storage.h).
 *
 * Files are written through core/ostream.h's buffered file stream (early
 * writeback, fsync at close by the writer's sync). publish is rename(2),
 * which is atomic on one file system; the caller syncs each touched
 * directory once per commit rather than once per file.
 */
#include "engine/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"

sl_err_t sl_mkdirs(const char *dir, sl_error *err)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0) return SL_OK;
    if (n >= sizeof tmp) return sl_error_set(err, SL_ERR_LIMIT, "path too long: %s", dir);
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return sl_error_errno(err, errno, "cannot create directory %s", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return sl_error_errno(err, errno, "cannot create directory %s", tmp);
    return SL_OK;
}

static sl_err_t enospc(const char *what, const char *path, sl_error *err)
{
    return sl_error_errno(err, ENOSPC, "%s %s", what, path);
}

static sl_err_t px_create(sl_storage *st, const char *path, sl_ostream **out, sl_error *err)
{
    (void)st;
    if (sl_fault_error("storage.create", path)) return enospc("cannot create", path, err);
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char dir[4096];
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) return sl_error_set(err, SL_ERR_LIMIT, "path too long: %s", path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        sl_err_t rc = sl_mkdirs(dir, err);
        if (rc) return rc;
    }
    return sl_ostream_file(out, path, 256 << 10, err);
}

static sl_err_t px_publish(sl_storage *st, const char *from, const char *to, sl_error *err)
{
    (void)st;
    if (sl_fault_error("storage.publish", to)) return enospc("cannot publish", to, err);
    /* Never replace: a final name that exists already would be a bug, and
     * overwriting published data the worst way to find it. */
    int rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) rc = rename(from, to); /* fs without it */
    if (rc == 0) return SL_OK;
    int e = errno;
    if (e == EEXIST)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "cannot publish %s: %s exists already (two pipelines with the same "
                            "name writing one directory?)",
                            from, to);
    if (e == ENOENT && access(to, F_OK) == 0) return SL_OK; /* already published */
    return sl_error_errno(err, e, "cannot publish %s as %s", from, to);
}

static sl_err_t px_remove(sl_storage *st, const char *path, sl_error *err)
{
    (void)st;
    if (unlink(path) == 0 || errno == ENOENT) return SL_OK;
    return sl_error_errno(err, errno, "cannot remove %s", path);
}

static sl_err_t px_sync_dir(sl_storage *st, const char *dir, sl_error *err)
{
    (void)st;
    if (sl_fault_error("storage.sync", dir)) return enospc("cannot sync directory", dir, err);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sl_error_errno(err, errno, "cannot open directory %s", dir);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL) return sl_error_errno(err, e, "cannot fsync directory %s", dir);
    return SL_OK;
}

static sl_err_t walk_dir(const char *root, sl_storage_walk_fn fn, void *arg, int depth, int *stop,
                         sl_error *err)
{
    if (depth > 64) return sl_error_set(err, SL_ERR_LIMIT, "%s: directories nested too deep", root);
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) return SL_OK;
        return sl_error_errno(err, errno, "cannot list %s", root);
    }
    sl_err_t rc = SL_OK;
    struct dirent *de;
    while (!rc && !*stop && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", root, de->d_name);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        struct stat sb;
        if (lstat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode))
            rc = walk_dir(path, fn, arg, depth + 1, stop, err);
        else if (S_ISREG(sb.st_mode) && fn(arg, path, de->d_name))
            *stop = 1;
    }
    closedir(d);
    return rc;
}

static sl_err_t px_walk(sl_storage *st, const char *root, sl_storage_walk_fn fn, void *arg,
                        sl_error *err)
{
    (void)st;
    int stop = 0;
    return walk_dir(root, fn, arg, 0, &stop, err);
}

static void px_destroy(sl_storage *st)
{
    free(st);
}

static const sl_storage_vt posix_vt = {px_create,   px_publish, px_remove,
                                       px_sync_dir, px_walk,    px_destroy};

sl_err_t sl_storage_posix(sl_storage **out, sl_error *err)
{
    sl_storage *st = calloc(1, sizeof *st);
    if (!st) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    st->vt = &posix_vt;
    *out = st;
    return SL_OK;
}
