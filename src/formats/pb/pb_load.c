/* pb_load.c - sl_pb_pool_load: a schema file into the pool.
 *
 * A schema file is either a FileDescriptorSet (binary) or a .proto source.
 * Sniffing: a name ending in ".proto" is source; otherwise the bytes are
 * tried as a descriptor set and, if that fails and they look like text,
 * treated as source. Source is compiled by running
 *     protoc --include_imports --descriptor_set_out=TMP -I<dir> <file>
 * through posix_spawnp (no shell, so no quoting issues), with protoc's
 * stderr captured into the error message. The temporary set is removed
 * whatever happens.
 *
 * Bounds: schema files and protoc output larger than SL_PB_SCHEMA_MAX
 * (64 MiB) are refused; protoc's stderr is read to the end (so it never
 * blocks on a full pipe) but only its first bytes are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/pb/pb_desc.h"

#define SL_PB_SCHEMA_MAX ((size_t)64 << 20)

extern char **environ;

static sl_err_t read_file(const char *path, uint8_t **out, size_t *out_len, sl_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    sl_err_t rc = SL_OK;
    *out = NULL;
    if (fd < 0) return sl_error_errno(err, errno, "schema file %s: cannot open", path);
    for (;;) {
        if (len == cap) {
            if (cap >= SL_PB_SCHEMA_MAX) {
                rc = sl_error_set(err, SL_ERR_LIMIT, "schema file %s is larger than 64 MiB", path);
                goto fail;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = sl_error_set(err, SL_ERR_NOMEM, "schema file %s: out of memory", path);
                goto fail;
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = sl_error_errno(err, errno, "schema file %s: read failed", path);
            goto fail;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (!buf && !(buf = malloc(1))) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return SL_OK;
fail:
    close(fd);
    free(buf);
    return rc;
}

static int looks_like_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && i < 4096; i++)
        if (p[i] < 0x09 || (p[i] > 0x0d && p[i] < 0x20) || p[i] == 0x7f) return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Run protoc on path; on success *out holds the descriptor set. */
static sl_err_t run_protoc(const char *path, uint8_t **out, size_t *out_len, sl_error *err)
{
    char tmp[] = "/tmp/sluice-desc-XXXXXX";
    char *dir = NULL, *arg_out = NULL, *arg_inc = NULL;
    int pipefd[2] = {-1, -1}, tfd = -1, spawned = 0;
    posix_spawn_file_actions_t fa;
    int fa_ok = 0;
    pid_t pid;
    sl_err_t rc = SL_OK;
    char msg[384];
    size_t mlen = 0;

    *out = NULL;
    tfd = mkstemp(tmp);
    if (tfd < 0) return sl_error_errno(err, errno, "cannot create a temporary file for protoc");
    close(tfd);
    dir = strdup(path);
    arg_out = malloc(strlen(tmp) + 32);
    arg_inc = malloc(strlen(path) + 8);
    if (!dir || !arg_out || !arg_inc) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    sprintf(arg_out, "--descriptor_set_out=%s", tmp);
    sprintf(arg_inc, "-I%s", dir);
    char *argv[] = {"protoc", "--include_imports", arg_out, arg_inc, (char *)path, NULL};
    if (pipe2(pipefd, O_CLOEXEC)) {
        rc = sl_error_errno(err, errno, "cannot create a pipe for protoc");
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa)) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    fa_ok = 1;
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int e = posix_spawnp(&pid, "protoc", &fa, NULL, argv, environ);
    if (e) {
        rc = e == ENOENT ? sl_error_set(err, SL_ERR_NOTFOUND,
                                        "protoc not found on PATH: install protobuf-compiler, "
                                        "or pass a descriptor set made with protoc "
                                        "--include_imports --descriptor_set_out")
                         : sl_error_errno(err, e, "cannot run protoc");
        goto done;
    }
    spawned = 1;
    close(pipefd[1]);
    pipefd[1] = -1;
    for (;;) { /* drain stderr to EOF, keep the head */
        char buf[1024];
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size_t k = (size_t)n < sizeof msg - 1 - mlen ? (size_t)n : sizeof msg - 1 - mlen;
        memcpy(msg + mlen, buf, k);
        mlen += k;
    }
    msg[mlen] = '\0';
    while (mlen && (msg[mlen - 1] == '\n' || msg[mlen - 1] == ' '))
        msg[--mlen] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    spawned = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rc = sl_error_set(err, SL_ERR_NOTFOUND,
                              "protoc not found on PATH: install protobuf-compiler, or pass a "
                              "descriptor set made with protoc --include_imports "
                              "--descriptor_set_out");
        else
            rc = sl_error_set(err, SL_ERR_SCHEMA, "protoc failed on %s: %s", path,
                              mlen ? msg : "(no message)");
        goto done;
    }
    rc = read_file(tmp, out, out_len, err);
done:
    if (spawned) waitpid(pid, NULL, 0);
    if (fa_ok) posix_spawn_file_actions_destroy(&fa);
    if (pipefd[0] >= 0) close(pipefd[0]);
    if (pipefd[1] >= 0) close(pipefd[1]);
    unlink(tmp);
    free(dir);
    free(arg_out);
    free(arg_inc);
    return rc;
}

sl_err_t sl_pb_pool_load(sl_pb_pool *pool, const char *path, sl_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    sl_err_t rc;
    if (ends_with(path, ".proto")) {
        if ((rc = run_protoc(path, &data, &len, err))) goto done;
    } else {
        if ((rc = read_file(path, &data, &len, err))) goto done;
        sl_error probe;
        rc = sl_pb_pool_add_set(pool, data, len, &probe);
        if (rc == SL_OK) goto done;
        if (rc == SL_ERR_CORRUPT && looks_like_text(data, len)) {
            free(data);
            data = NULL;
            if ((rc = run_protoc(path, &data, &len, err))) goto done;
        } else {
            if (err) *err = probe;
            goto done_prefix;
        }
    }
    rc = sl_pb_pool_add_set(pool, data, len, err);
done_prefix:
    if (rc) sl_error_prefix(err, "schema %s", path);
done:
    free(data);
    return rc;
}
