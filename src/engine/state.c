/* state.c - see state.h. */
#include "engine/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/ostream.h"
#include "engine/storage.h"

static int valid_id(const char *s)
{
    if (strlen(s) != 8) return 0;
    for (int i = 0; i < 8; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

sl_err_t sl_state_open(sl_state *s, const char *state_dir, const char *pipeline, sl_error *err)
{
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    sl_err_t rc = sl_mkdirs(state_dir, err);
    if (rc) return sl_error_prefix(err, "state_dir");
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", state_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sl_error_errno(err, errno, "cannot open %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "?";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0) pid[n] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return sl_error_set(err, SL_ERR_INVALID,
                            "pipeline %s is already running with state_dir %s (pid %s); two "
                            "instances must not share a state directory: stop it, or give this "
                            "one its own state_dir",
                            pipeline, state_dir, pid);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return sl_error_errno(err, e, "cannot write %s", path);
    }
    s->lock_fd = fd;
    /* the instance id */
    snprintf(path, sizeof path, "%s/instance", state_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char id[32] = "";
        if (fgets(id, sizeof id, f)) id[strcspn(id, "\n")] = '\0';
        fclose(f);
        if (!valid_id(id)) {
            sl_state_close(s);
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "%s: not an instance id (8 hex digits); restore it - the lake's "
                                "file names of this instance carry it",
                                path);
        }
        memcpy(s->instance, id, 9);
        return SL_OK;
    }
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        sl_state_close(s);
        return sl_error_errno(err, errno, "getrandom");
    }
    snprintf(s->instance, sizeof s->instance, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    sl_atomic_file af;
    if ((rc = sl_atomic_open(&af, path, err))) goto fail;
    char line[16];
    n = snprintf(line, sizeof line, "%s\n", s->instance);
    if ((rc = sl_ostream_write(af.os, line, (size_t)n, err))) {
        sl_atomic_abort(&af);
        goto fail;
    }
    if ((rc = sl_atomic_commit(&af, err))) goto fail;
    return SL_OK;
fail:
    sl_state_close(s);
    return rc;
}

void sl_state_close(sl_state *s)
{
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    s->lock_fd = -1;
}

int sl_state_running(const char *state_dir, int *pid)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", state_dir);
    *pid = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        close(fd);
        return 0;
    }
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        *pid = atoi(buf);
    }
    close(fd);
    return 1;
}
