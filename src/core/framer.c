/* framer.c - chunked record framing. See framer.h. */
#include "core/framer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"

#define SL_FRAMER_CHUNK      ((size_t)1 << 20) /* why: framer.h */
#define SL_FRAMER_MAX_RECORD ((size_t)64 << 20)

sl_err_t sl_framer_open(sl_framer *f, const char *path, sl_framing_t framing, size_t chunk,
                        size_t max_record, sl_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->framing = framing;
    f->chunk = chunk ? chunk : SL_FRAMER_CHUNK;
    f->max_record = max_record ? max_record : SL_FRAMER_MAX_RECORD;
    snprintf(f->name, sizeof f->name, "%s", strcmp(path, "-") ? path : "stdin");
    if (!strcmp(path, "-")) {
        f->fd = 0;
    } else {
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) return sl_error_errno(err, errno, "input %s: cannot open", path);
        f->own_fd = 1;
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    f->cap = f->chunk;
    f->buf = malloc(f->cap);
    if (!f->buf) {
        sl_framer_close(f);
        return sl_error_set(err, SL_ERR_NOMEM, "input %s: out of memory", f->name);
    }
    return SL_OK;
}

void sl_framer_open_mem(sl_framer *f, const uint8_t *data, size_t len, sl_framing_t framing,
                        size_t max_record, const char *name)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->mem = 1;
    f->framing = framing;
    f->max_record = max_record ? max_record : SL_FRAMER_MAX_RECORD;
    snprintf(f->name, sizeof f->name, "%s", name ? name : "memory");
    f->buf = (uint8_t *)data; /* never written through: fill() does not read when eof */
    f->cap = f->end = len;
    f->chunk = len ? len : 1;
    f->eof = 1;
}

void sl_framer_close(sl_framer *f)
{
    if (f->own_fd && f->fd >= 0) close(f->fd);
    if (!f->mem) free(f->buf);
    f->buf = NULL;
    f->fd = -1;
}

/* Make at least `need` unread bytes available (or hit EOF). Returns the
 * number of unread bytes, or -1 on error. */
static long long fill(sl_framer *f, size_t need, sl_error *err)
{
    while (f->end - f->start < need && !f->eof) {
        if (f->start > 0 && (f->cap - f->end < f->chunk || f->start == f->end)) {
            memmove(f->buf, f->buf + f->start, f->end - f->start);
            f->buf_off += f->start;
            f->end -= f->start;
            f->start = 0;
        }
        size_t have = f->end - f->start;
        if (f->cap - f->end < need - have) {
            size_t more = need - have > f->chunk ? need - have : f->chunk;
            size_t cap = f->end + more;
            uint8_t *nb = realloc(f->buf, cap);
            if (!nb) {
                sl_error_set(err, SL_ERR_NOMEM, "input %s: out of memory reading a %zu-byte record",
                             f->name, need);
                return -1;
            }
            f->buf = nb;
            f->cap = cap;
        }
        ssize_t n = read(f->fd, f->buf + f->end, f->cap - f->end);
        if (n < 0) {
            if (errno == EINTR && f->stop && *f->stop) {
                sl_error_set(err, SL_ERR_IO, "input %s: interrupted by signal %d at byte %llu",
                             f->name, (int)*f->stop, (unsigned long long)(f->buf_off + f->end));
                return -1;
            }
            if (errno == EINTR) continue;
            sl_error_errno(err, errno, "input %s: read failed at byte %llu", f->name,
                           (unsigned long long)(f->buf_off + f->end));
            return -1;
        }
        if (n == 0) f->eof = 1;
        f->end += (size_t)n;
    }
    return (long long)(f->end - f->start);
}

static sl_err_t next_line(sl_framer *f, sl_frame *out, sl_error *err)
{
    size_t scanned = 0;
    for (;;) {
        uint8_t *s = f->buf + f->start;
        size_t avail = f->end - f->start;
        uint8_t *nl = memchr(s + scanned, '\n', avail - scanned);
        if (nl || (f->eof && avail > 0)) {
            size_t len = nl ? (size_t)(nl - s) : avail;
            out->p = s;
            out->len = len;
            out->offset = f->buf_off + f->start;
            out->index = f->index++;
            f->start += nl ? len + 1 : len;
            if (out->len && out->p[out->len - 1] == '\r') out->len--;
            return SL_OK;
        }
        if (f->eof) return SL_ERR_EOF;
        if (avail >= f->max_record)
            return sl_error_set(err, SL_ERR_LIMIT,
                                "input %s: line %llu at byte %llu is longer than %zu bytes; is "
                                "this the right --input-format?",
                                f->name, (unsigned long long)f->index + 1,
                                (unsigned long long)(f->buf_off + f->start), f->max_record);
        scanned = avail;
        if (fill(f, avail + 1, err) < 0) return err ? err->code : SL_ERR_IO;
    }
}

static sl_err_t next_varint(sl_framer *f, sl_frame *out, sl_error *err)
{
    /* Fast path: the prefix (1 or 2 bytes: records under 16 KiB) and the
     * whole record are already in the buffer (-1% of a PlayEvent convert). */
    const uint8_t *s = f->buf + f->start;
    size_t have = f->end - f->start;
    if (SL_LIKELY(have >= 2)) {
        size_t len = s[0], hdr = 1;
        if (len >= 0x80) len = s[1] < 0x80 ? (len & 0x7f) | (size_t)s[1] << 7 : SIZE_MAX, hdr = 2;
        if (SL_LIKELY(len <= have - hdr && len <= f->max_record)) {
            out->p = s + hdr;
            out->len = len;
            out->offset = f->buf_off + f->start;
            out->index = f->index++;
            f->start += hdr + len;
            return SL_OK;
        }
    }
    long long avail = fill(f, 10, err);
    if (avail < 0) return err ? err->code : SL_ERR_IO;
    if (avail == 0) return SL_ERR_EOF;
    uint64_t off = f->buf_off + f->start;
    const uint8_t *p = f->buf + f->start, *q = p;
    uint64_t len;
    if (sl_varint_get(&q, p + avail, &len))
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "input %s: record %llu at byte %llu: %s length prefix; the file is "
                            "truncated or not varint-delimited protobuf",
                            f->name, (unsigned long long)f->index, (unsigned long long)off,
                            avail < 10 ? "truncated" : "malformed (over 10 bytes)");
    if (len > f->max_record)
        return sl_error_set(err, SL_ERR_LIMIT,
                            "input %s: record %llu at byte %llu: length prefix says %llu bytes, "
                            "over the %zu-byte record limit; the file is corrupt or not "
                            "varint-delimited protobuf",
                            f->name, (unsigned long long)f->index, (unsigned long long)off,
                            (unsigned long long)len, f->max_record);
    size_t hdr = (size_t)(q - p);
    avail = fill(f, hdr + (size_t)len, err);
    if (avail < 0) return err ? err->code : SL_ERR_IO;
    if ((uint64_t)avail < hdr + len)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "input %s: record %llu at byte %llu: length prefix says %llu bytes "
                            "but only %llu remain; the file is truncated",
                            f->name, (unsigned long long)f->index, (unsigned long long)off,
                            (unsigned long long)len, (unsigned long long)(avail - (long long)hdr));
    out->p = f->buf + f->start + hdr;
    out->len = (size_t)len;
    out->offset = off;
    out->index = f->index++;
    f->start += hdr + (size_t)len;
    return SL_OK;
}

sl_err_t sl_framer_next(sl_framer *f, sl_frame *out, sl_error *err)
{
    return f->framing == SL_FRAME_LINES ? next_line(f, out, err) : next_varint(f, out, err);
}
