/* audit.c - the per-worker audit table and the audit log (see audit.h for
 * what is counted, where, and why it is exactly once).
 *
 * The table is linear probing over a power-of-two array keyed by (stream,
 * hour), kept at most half full, so a probe is short; a worker sees a few
 * hours per stream between two barriers, so tables stay small (hundreds of
 * slots for hundreds of streams). Reset walks the array: O(capacity) once
 * per checkpoint.
 */
#include "engine/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/rows_json.h"
#include "engine/notify.h"
#include "engine/storage.h"

#define TAB_MIN 64

static uint32_t slot_hash(int32_t stream, int64_t hour)
{
    uint64_t h = (uint64_t)(hour / SL_AUDIT_HOUR_MS) * 0x9E3779B97F4A7C15ull ^ (uint32_t)stream;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static sl_audit_slot *probe(sl_audit_slot *s, uint32_t mask, int32_t stream, int64_t hour)
{
    uint32_t i = slot_hash(stream, hour) & mask;
    while (s[i].stream != SL_AUDIT_EMPTY && (s[i].stream != stream || s[i].hour != hour))
        i = (i + 1) & mask;
    return &s[i];
}

static int grow(sl_audit_tab *t)
{
    uint32_t cap = t->slots ? (t->mask + 1) * 2 : TAB_MIN;
    sl_audit_slot *ns = malloc(sizeof *ns * cap);
    if (!ns) return -1;
    for (uint32_t i = 0; i < cap; i++)
        ns[i].stream = SL_AUDIT_EMPTY;
    for (uint32_t i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].stream != SL_AUDIT_EMPTY)
            *probe(ns, cap - 1, t->slots[i].stream, t->slots[i].hour) = t->slots[i];
    free(t->slots);
    t->slots = ns;
    t->mask = cap - 1;
    t->last = NULL;
    return 0;
}

sl_audit_n *sl_audit_find(sl_audit_tab *t, int32_t stream, int64_t hour)
{
    if (!t->slots && grow(t)) return NULL;
    sl_audit_slot *s = probe(t->slots, t->mask, stream, hour);
    if (s->stream == SL_AUDIT_EMPTY) {
        if ((t->used + 1) * 2 > t->mask + 1) {
            if (grow(t)) return NULL;
            s = probe(t->slots, t->mask, stream, hour);
        }
        memset(s, 0, sizeof *s);
        s->stream = stream;
        s->hour = hour;
        t->used++;
    }
    t->last = s;
    return &s->n;
}

void sl_audit_tab_reset(sl_audit_tab *t)
{
    if (t->used)
        for (uint32_t i = 0; i <= t->mask; i++)
            t->slots[i].stream = SL_AUDIT_EMPTY;
    t->used = 0;
    t->last = NULL;
}

void sl_audit_tab_free(sl_audit_tab *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- the log ---- */

static sl_err_t put_key(sl_buf *o, const char *k)
{
    sl_err_t rc = o->len && o->p[o->len - 1] != '{' ? sl_buf_put_u8(o, ',') : SL_OK;
    if (!rc) rc = sl_json_put_str(o, k, strlen(k));
    return rc ? rc : sl_buf_put_u8(o, ':');
}

static sl_err_t put_kstr(sl_buf *o, const char *k, const char *v)
{
    sl_err_t rc = put_key(o, k);
    if (rc) return rc;
    return v ? sl_json_put_str(o, v, strlen(v)) : sl_buf_append(o, "null", 4);
}

static sl_err_t put_kint(sl_buf *o, const char *k, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    sl_err_t rc = put_key(o, k);
    return rc ? rc : sl_buf_append(o, num, (size_t)n);
}

sl_err_t sl_audit_line_json(const sl_audit_line *l, sl_buf *out)
{
    char hs[32];
    if (!l->kind || !l->id || !l->pipeline || !l->partition ||
        sl_notify_rfc3339(l->hour_ms, hs, sizeof hs))
        return SL_ERR_INVALID;
    size_t mark = out->len;
    sl_err_t rc = sl_buf_put_u8(out, '{');
    if (!rc) rc = put_kstr(out, "kind", l->kind);
    if (!rc) rc = put_kstr(out, "id", l->id);
    if (!rc) rc = put_kstr(out, "pipeline", l->pipeline);
    if (!rc) rc = put_kstr(out, "stream", l->stream);
    if (!rc) rc = put_kstr(out, "partition", l->partition);
    if (!rc) rc = put_kstr(out, "hour_start", hs);
    if (!rc) rc = put_kint(out, "hour_start_ms", l->hour_ms);
    if (!rc && l->version >= 0) rc = put_kint(out, "version", l->version);
    if (!rc) rc = put_kint(out, "read", l->read);
    if (!rc) rc = put_kint(out, "filtered", l->filtered);
    if (!rc) rc = put_kint(out, "dead_lettered", l->dead);
    if (!rc) rc = put_kint(out, "late", l->late);
    if (!rc) rc = put_kint(out, "written", l->written);
    if (!rc && l->version >= 0) rc = put_kint(out, "files", l->files);
    if (!rc && l->version >= 0) rc = put_kint(out, "bytes", l->bytes);
    if (!rc) rc = put_kint(out, "checkpoint", (int64_t)l->checkpoint);
    if (!rc) rc = sl_buf_append(out, "}\n", 2);
    if (rc) out->len = mark;
    return rc;
}

static sl_err_t write_all(int fd, const char *path, const void *p, size_t n, sl_error *err)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return sl_error_errno(err, w < 0 ? errno : EIO, "audit log %s: write", path);
        c += w;
        n -= (size_t)w;
    }
    return SL_OK;
}

sl_err_t sl_audit_log_append(const char *dir, int64_t now_ms, const void *p, size_t n,
                             sl_error *err)
{
    if (!n) return SL_OK;
    char path[4200];
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(path, sizeof path, "%s/audit-%04d-%02d-%02d.jsonl", dir, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
    sl_err_t rc = sl_mkdirs(dir, err);
    if (rc) return sl_error_prefix(err, "audit log");
    int created = access(path, F_OK) != 0;
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sl_error_errno(err, errno, "cannot open the audit log %s", path);
    struct stat sb;
    char last = '\n';
    if (fstat(fd, &sb) == 0 && sb.st_size > 0 && pread(fd, &last, 1, sb.st_size - 1) != 1)
        last = '\n';
    if (last != '\n') rc = write_all(fd, path, "\n", 1, err); /* a line cut by a crash */
    if (!rc) rc = write_all(fd, path, p, n, err);
    if (!rc && fsync(fd) != 0) rc = sl_error_errno(err, errno, "audit log %s: fsync", path);
    if (close(fd) != 0 && !rc) rc = sl_error_errno(err, errno, "audit log %s: close", path);
    if (!rc && created) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            rc = sl_error_errno(err, errno, "audit log: fsync of the directory %s", dir);
        if (dfd >= 0) close(dfd);
    }
    return rc;
}
