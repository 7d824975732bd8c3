/* manifest.c - see manifest.h for the format and the rules. */
#include "engine/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ostream.h"
#include "engine/storage.h"

#define MF_KEEP 3

void sl_manifest_clear_files(sl_manifest *m)
{
    for (int32_t i = 0; i < m->n_files; i++) {
        free(m->files[i].stream);
        free(m->files[i].hidden);
        free(m->files[i].final);
    }
    m->n_files = 0;
}

static void clear_time(sl_manifest *m)
{
    for (int32_t i = 0; i < m->n_parts; i++)
        free(m->parts[i].stream);
    for (int32_t i = 0; i < m->n_streams; i++)
        free(m->streams[i].stream);
    for (int32_t i = 0; i < m->n_deltas; i++)
        free(m->deltas[i].stream);
    m->n_parts = m->n_streams = m->n_deltas = 0;
}

void sl_manifest_free(sl_manifest *m)
{
    for (int32_t i = 0; i < m->n_pos; i++)
        free(m->pos[i].topic);
    sl_manifest_clear_files(m);
    clear_time(m);
    free(m->pos);
    free(m->files);
    free(m->parts);
    free(m->streams);
    free(m->deltas);
    for (int32_t i = 0; i < m->n_replays; i++)
        free(m->replays[i].id);
    free(m->replays);
    memset(m, 0, sizeof *m);
    m->watermark = m->first_hour = INT64_MIN;
}

int64_t sl_manifest_pos(const sl_manifest *m, const char *topic, int32_t partition)
{
    for (int32_t i = 0; i < m->n_pos; i++)
        if (m->pos[i].partition == partition && !strcmp(m->pos[i].topic, topic))
            return m->pos[i].offset;
    return -1;
}

static int grow(void **p, int32_t *cap, int32_t need, size_t size)
{
    if (need <= *cap) return 0;
    int32_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, (size_t)nc * size);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

sl_err_t sl_manifest_set_pos(sl_manifest *m, const char *topic, int32_t partition, int64_t offset)
{
    for (int32_t i = 0; i < m->n_pos; i++)
        if (m->pos[i].partition == partition && !strcmp(m->pos[i].topic, topic)) {
            m->pos[i].offset = offset;
            return SL_OK;
        }
    if (grow((void **)&m->pos, &m->cap_pos, m->n_pos + 1, sizeof *m->pos)) return SL_ERR_NOMEM;
    char *t = strdup(topic);
    if (!t) return SL_ERR_NOMEM;
    m->pos[m->n_pos++] = (sl_mf_pos){t, partition, offset, INT64_MIN};
    return SL_OK;
}

int64_t sl_manifest_max_et(const sl_manifest *m, const char *topic, int32_t partition)
{
    for (int32_t i = 0; i < m->n_pos; i++)
        if (m->pos[i].partition == partition && !strcmp(m->pos[i].topic, topic))
            return m->pos[i].max_et;
    return INT64_MIN;
}

void sl_manifest_set_et(sl_manifest *m, const char *topic, int32_t partition, int64_t max_et)
{
    for (int32_t i = 0; i < m->n_pos; i++)
        if (m->pos[i].partition == partition && !strcmp(m->pos[i].topic, topic))
            m->pos[i].max_et = max_et;
}

sl_err_t sl_manifest_add_file(sl_manifest *m, int32_t worker, const char *stream, int64_t rows,
                              int64_t bytes, const char *hidden, const char *final)
{
    if (grow((void **)&m->files, &m->cap_files, m->n_files + 1, sizeof *m->files))
        return SL_ERR_NOMEM;
    sl_mf_file f = {worker, strdup(stream), rows, bytes, strdup(hidden), strdup(final), INT64_MIN};
    if (!f.stream || !f.hidden || !f.final) {
        free(f.stream);
        free(f.hidden);
        free(f.final);
        return SL_ERR_NOMEM;
    }
    m->files[m->n_files++] = f;
    return SL_OK;
}

sl_mf_part *sl_manifest_part(sl_manifest *m, const char *stream, int64_t hour)
{
    for (int32_t i = 0; i < m->n_parts; i++)
        if (m->parts[i].hour == hour && !strcmp(m->parts[i].stream, stream)) return &m->parts[i];
    if (grow((void **)&m->parts, &m->cap_parts, m->n_parts + 1, sizeof *m->parts)) return NULL;
    char *s = strdup(stream);
    if (!s) return NULL;
    sl_mf_part *p = &m->parts[m->n_parts++];
    memset(p, 0, sizeof *p);
    p->stream = s;
    p->hour = hour;
    return p;
}

sl_mf_stream *sl_manifest_stream(sl_manifest *m, const char *stream)
{
    for (int32_t i = 0; i < m->n_streams; i++)
        if (!strcmp(m->streams[i].stream, stream)) return &m->streams[i];
    if (grow((void **)&m->streams, &m->cap_streams, m->n_streams + 1, sizeof *m->streams))
        return NULL;
    char *s = strdup(stream);
    if (!s) return NULL;
    m->streams[m->n_streams] = (sl_mf_stream){s, INT64_MIN};
    return &m->streams[m->n_streams++];
}

sl_mf_delta *sl_manifest_delta(sl_manifest *m, const char *stream, int64_t hour)
{
    for (int32_t i = 0; i < m->n_deltas; i++)
        if (m->deltas[i].hour == hour && !strcmp(m->deltas[i].stream, stream)) return &m->deltas[i];
    if (grow((void **)&m->deltas, &m->cap_deltas, m->n_deltas + 1, sizeof *m->deltas)) return NULL;
    char *s = strdup(stream);
    if (!s) return NULL;
    sl_mf_delta *d = &m->deltas[m->n_deltas++];
    memset(d, 0, sizeof *d);
    d->stream = s;
    d->hour = hour;
    return d;
}

sl_mf_replay *sl_manifest_replay(sl_manifest *m, const char *id)
{
    for (int32_t i = 0; i < m->n_replays; i++)
        if (!strcmp(m->replays[i].id, id)) return &m->replays[i];
    if (grow((void **)&m->replays, &m->cap_replays, m->n_replays + 1, sizeof *m->replays))
        return NULL;
    char *s = strdup(id);
    if (!s) return NULL;
    sl_mf_replay *r = &m->replays[m->n_replays++];
    memset(r, 0, sizeof *r);
    r->id = s;
    return r;
}

sl_err_t sl_manifest_copy_time(sl_manifest *dst, const sl_manifest *src)
{
    clear_time(dst);
    dst->watermark = src->watermark;
    dst->first_hour = src->first_hour;
    for (int32_t i = 0; i < src->n_parts; i++) {
        sl_mf_part *p = sl_manifest_part(dst, src->parts[i].stream, src->parts[i].hour);
        if (!p) return SL_ERR_NOMEM;
        char *keep = p->stream;
        *p = src->parts[i];
        p->stream = keep;
    }
    for (int32_t i = 0; i < src->n_streams; i++) {
        sl_mf_stream *t = sl_manifest_stream(dst, src->streams[i].stream);
        if (!t) return SL_ERR_NOMEM;
        t->through = src->streams[i].through;
    }
    return SL_OK;
}

/* ---- text encoding ---- */

static sl_err_t put_enc(sl_buf *b, const char *s)
{
    sl_err_t rc = SL_OK;
    if (!*s) return sl_buf_append(b, "%00", 3) ? SL_ERR_NOMEM : SL_OK; /* empty string */
    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        if (*p <= 0x20 || *p == '%' || *p >= 0x7f) {
            char e[4];
            snprintf(e, sizeof e, "%%%02X", *p);
            rc = sl_buf_append(b, e, 3);
        } else
            rc = sl_buf_put_u8(b, *p);
    }
    return rc;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decode in place; "%00" alone is the empty string. Returns -1 on bad escapes. */
static int dec(char *s)
{
    if (!strcmp(s, "%00")) {
        s[0] = '\0';
        return 0;
    }
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%') {
            int h = hexv(r[1]), l = h < 0 ? -1 : hexv(r[2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
            *w++ = (char)(h * 16 + l);
            r += 2;
        } else
            *w++ = *r;
    }
    *w = '\0';
    return 0;
}

void sl_manifest_path(char *out, size_t cap, const char *dir, uint64_t c, const char *suffix)
{
    snprintf(out, cap, "%s/%012" PRIu64 ".%s", dir, c, suffix);
}

static void mf_name(char *out, size_t cap, const char *dir, uint64_t c)
{
    sl_manifest_path(out, cap, dir, c, "manifest");
}

static sl_err_t prune(const char *dir, uint64_t newest)
{
    DIR *d = opendir(dir);
    if (!d) return SL_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        unsigned long long c = strtoull(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".manifest")) continue;
        if (c + MF_KEEP <= newest) {
            char p[4096];
            mf_name(p, sizeof p, dir, c);
            unlink(p);
            sl_manifest_path(p, sizeof p, dir, c, "committed");
            unlink(p);
        }
    }
    closedir(d);
    return SL_OK;
}

sl_err_t sl_manifest_write(const sl_manifest *m, const char *dir, const char *pipeline,
                           sl_error *err)
{
    sl_buf b = {0};
    sl_err_t rc = sl_mkdirs(dir, err);
    if (rc) return rc;
    int lines = 0;
    char line[256];
    int n = snprintf(line, sizeof line, "sluice-manifest 1\npipeline ");
    rc = sl_buf_append(&b, line, (size_t)n);
    if (!rc) rc = put_enc(&b, pipeline);
    n = snprintf(line, sizeof line, "\ncheckpoint %" PRIu64 "\ntime %" PRId64 "\n", m->checkpoint,
                 m->time_ms);
    if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    lines = 4;
    if (!rc && m->txn) {
        rc = sl_buf_append(&b, "txn 1\n", 6);
        lines++;
    }
    for (int32_t i = 0; !rc && i < m->n_pos; i++, lines++) {
        rc = sl_buf_append(&b, "pos ", 4);
        if (!rc) rc = put_enc(&b, m->pos[i].topic);
        if (m->pos[i].max_et == INT64_MIN)
            n = snprintf(line, sizeof line, " %" PRId32 " %" PRId64 "\n", m->pos[i].partition,
                         m->pos[i].offset);
        else
            n = snprintf(line, sizeof line, " %" PRId32 " %" PRId64 " %" PRId64 "\n",
                         m->pos[i].partition, m->pos[i].offset, m->pos[i].max_et);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    }
    for (int32_t i = 0; !rc && i < m->n_files; i++, lines++) {
        const sl_mf_file *f = &m->files[i];
        n = snprintf(line, sizeof line, "file %" PRId32 " ", f->worker);
        rc = sl_buf_append(&b, line, (size_t)n);
        if (!rc) rc = put_enc(&b, f->stream);
        n = snprintf(line, sizeof line, " %" PRId64 " %" PRId64 " ", f->rows, f->bytes);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
        if (!rc) rc = put_enc(&b, f->hidden);
        if (!rc) rc = sl_buf_put_u8(&b, ' ');
        if (!rc) rc = put_enc(&b, f->final);
        n = snprintf(line, sizeof line, " %" PRId64 "\n", f->hour);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    }
    if (!rc && (m->watermark != INT64_MIN || m->first_hour != INT64_MIN)) {
        n = snprintf(line, sizeof line, "wm %" PRId64 " %" PRId64 "\n", m->watermark,
                     m->first_hour);
        rc = sl_buf_append(&b, line, (size_t)n);
        lines++;
    }
    for (int32_t i = 0; !rc && i < m->n_streams; i++, lines++) {
        rc = sl_buf_append(&b, "through ", 8);
        if (!rc) rc = put_enc(&b, m->streams[i].stream);
        n = snprintf(line, sizeof line, " %" PRId64 "\n", m->streams[i].through);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    }
    for (int32_t i = 0; !rc && i < m->n_parts; i++, lines++) {
        const sl_mf_part *p = &m->parts[i];
        rc = sl_buf_append(&b, "part ", 5);
        if (!rc) rc = put_enc(&b, p->stream);
        n = snprintf(line, sizeof line,
                     " %" PRId64 " %d %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %d %" PRId64
                     " %" PRId64 " %" PRId64 " %" PRId64 " %d\n",
                     p->hour, p->state, p->version, p->rows, p->files, p->bytes, p->pending,
                     p->read, p->filtered, p->dead, p->late, p->audit_pending);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    }
    for (int32_t i = 0; !rc && i < m->n_deltas; i++, lines++) {
        const sl_mf_delta *d = &m->deltas[i];
        rc = sl_buf_append(&b, "delta ", 6);
        if (!rc) rc = put_enc(&b, d->stream);
        n = snprintf(line, sizeof line,
                     " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", d->hour,
                     d->read, d->filtered, d->dead, d->late);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    }
    for (int32_t i = 0; !rc && i < m->n_replays; i++, lines++) {
        const sl_mf_replay *r = &m->replays[i];
        rc = sl_buf_append(&b, "replay ", 7);
        if (!rc) rc = put_enc(&b, r->id);
        n = snprintf(line, sizeof line, " %" PRId32 " %" PRId64 " %d", r->file, r->row, r->done);
        if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
        for (int k = 0; !rc && k < SL_RP_N; k++) {
            n = snprintf(line, sizeof line, " %" PRId64, r->n[k]);
            rc = sl_buf_append(&b, line, (size_t)n);
        }
        if (!rc) rc = sl_buf_put_u8(&b, '\n');
    }
    n = snprintf(line, sizeof line, "end %d\n", lines);
    if (!rc) rc = sl_buf_append(&b, line, (size_t)n);
    if (rc) {
        sl_buf_free(&b);
        return sl_error_set(err, SL_ERR_NOMEM, "manifest %" PRIu64 ": out of memory",
                            m->checkpoint);
    }
    char path[4096];
    mf_name(path, sizeof path, dir, m->checkpoint);
    sl_atomic_file af;
    if ((rc = sl_atomic_open(&af, path, err))) goto out;
    if ((rc = sl_ostream_write(af.os, b.p, b.len, err))) {
        sl_atomic_abort(&af);
        goto out;
    }
    rc = sl_atomic_commit(&af, err);
    if (!rc) prune(dir, m->checkpoint);
out:
    sl_buf_free(&b);
    if (rc) sl_error_prefix(err, "writing checkpoint manifest %" PRIu64, m->checkpoint);
    return rc;
}

static sl_err_t parse_file(sl_manifest *m, const char *path, const char *pipeline, sl_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return sl_error_errno(err, errno, "cannot open manifest %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int ln = 0, ended = 0;
    sl_err_t rc = SL_OK;
    while (!rc && (len = getline(&line, &cap, f)) > 0) {
        ln++;
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (ended) {
            rc = sl_error_set(err, SL_ERR_CORRUPT, "line %d: data after the end line", ln);
            break;
        }
        char *tok[16];
        int nt = 0;
        for (char *s = strtok(line, " "); s && nt < 16; s = strtok(NULL, " "))
            tok[nt++] = s;
        if (nt == 0) {
            rc = sl_error_set(err, SL_ERR_CORRUPT, "line %d: empty", ln);
        } else if (ln == 1) {
            if (nt != 2 || strcmp(tok[0], "sluice-manifest") || strcmp(tok[1], "1"))
                rc = sl_error_set(err, SL_ERR_CORRUPT, "not a sluice manifest (version 1)");
        } else if (!strcmp(tok[0], "pipeline") && nt == 2) {
            if (dec(tok[1]) || strcmp(tok[1], pipeline))
                rc = sl_error_set(err, SL_ERR_INVALID,
                                  "manifest belongs to pipeline '%s', not '%s': two pipelines "
                                  "must not share a state_dir",
                                  tok[1], pipeline);
        } else if (!strcmp(tok[0], "checkpoint") && nt == 2) {
            m->checkpoint = strtoull(tok[1], NULL, 10);
        } else if (!strcmp(tok[0], "txn") && nt == 2) {
            m->txn = atoi(tok[1]);
        } else if (!strcmp(tok[0], "time") && nt == 2) {
            m->time_ms = strtoll(tok[1], NULL, 10);
        } else if (!strcmp(tok[0], "pos") && (nt == 4 || nt == 5) && !dec(tok[1])) {
            rc = sl_manifest_set_pos(m, tok[1], (int32_t)atol(tok[2]), strtoll(tok[3], NULL, 10));
            if (!rc && nt == 5)
                sl_manifest_set_et(m, tok[1], (int32_t)atol(tok[2]), strtoll(tok[4], NULL, 10));
        } else if (!strcmp(tok[0], "file") && (nt == 7 || nt == 8) && !dec(tok[2]) &&
                   !dec(tok[5]) && !dec(tok[6])) {
            rc = sl_manifest_add_file(m, (int32_t)atol(tok[1]), tok[2], strtoll(tok[3], NULL, 10),
                                      strtoll(tok[4], NULL, 10), tok[5], tok[6]);
            if (!rc && nt == 8) m->files[m->n_files - 1].hour = strtoll(tok[7], NULL, 10);
        } else if (!strcmp(tok[0], "wm") && nt == 3) {
            m->watermark = strtoll(tok[1], NULL, 10);
            m->first_hour = strtoll(tok[2], NULL, 10);
        } else if (!strcmp(tok[0], "through") && nt == 3 && !dec(tok[1])) {
            sl_mf_stream *t = sl_manifest_stream(m, tok[1]);
            if (!t)
                rc = SL_ERR_NOMEM;
            else
                t->through = strtoll(tok[2], NULL, 10);
        } else if (!strcmp(tok[0], "part") && (nt == 9 || nt == 14) && !dec(tok[1])) {
            sl_mf_part *p = sl_manifest_part(m, tok[1], strtoll(tok[2], NULL, 10));
            if (!p)
                rc = SL_ERR_NOMEM;
            else {
                p->state = atoi(tok[3]);
                p->version = strtoll(tok[4], NULL, 10);
                p->rows = strtoll(tok[5], NULL, 10);
                p->files = strtoll(tok[6], NULL, 10);
                p->bytes = strtoll(tok[7], NULL, 10);
                p->pending = atoi(tok[8]);
                if (nt == 14) { /* audit counts (a manifest from before them has none: 0) */
                    p->read = strtoll(tok[9], NULL, 10);
                    p->filtered = strtoll(tok[10], NULL, 10);
                    p->dead = strtoll(tok[11], NULL, 10);
                    p->late = strtoll(tok[12], NULL, 10);
                    p->audit_pending = atoi(tok[13]);
                }
            }
        } else if (!strcmp(tok[0], "delta") && nt == 7 && !dec(tok[1])) {
            sl_mf_delta *d = sl_manifest_delta(m, tok[1], strtoll(tok[2], NULL, 10));
            if (!d)
                rc = SL_ERR_NOMEM;
            else {
                d->read = strtoll(tok[3], NULL, 10);
                d->filtered = strtoll(tok[4], NULL, 10);
                d->dead = strtoll(tok[5], NULL, 10);
                d->late = strtoll(tok[6], NULL, 10);
            }
        } else if (!strcmp(tok[0], "replay") && nt == 5 + SL_RP_N && !dec(tok[1])) {
            sl_mf_replay *r = sl_manifest_replay(m, tok[1]);
            if (!r)
                rc = SL_ERR_NOMEM;
            else {
                r->file = (int32_t)strtol(tok[2], NULL, 10);
                r->row = strtoll(tok[3], NULL, 10);
                r->done = atoi(tok[4]);
                for (int k = 0; k < SL_RP_N; k++)
                    r->n[k] = strtoll(tok[5 + k], NULL, 10);
            }
        } else if (!strcmp(tok[0], "end") && nt == 2) {
            if (atol(tok[1]) != ln - 1)
                rc = sl_error_set(err, SL_ERR_CORRUPT, "end line counts %s lines, found %d", tok[1],
                                  ln - 1);
            ended = 1;
        } else {
            rc = sl_error_set(err, SL_ERR_CORRUPT, "line %d: cannot parse '%s'", ln, tok[0]);
        }
        if (rc == SL_ERR_NOMEM) sl_error_set(err, rc, "out of memory");
    }
    free(line);
    fclose(f);
    if (!rc && !ended) rc = sl_error_set(err, SL_ERR_CORRUPT, "no end line (truncated)");
    return rc;
}

sl_err_t sl_manifest_load(sl_manifest *m, const char *dir, const char *pipeline, sl_error *err)
{
    memset(m, 0, sizeof *m);
    m->watermark = m->first_hour = INT64_MIN;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return SL_OK;
        return sl_error_errno(err, errno, "cannot list state directory %s", dir);
    }
    uint64_t newest = 0;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        unsigned long long c = strtoull(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".manifest")) continue;
        if (!found || c > newest) newest = c;
        found = 1;
    }
    closedir(d);
    if (!found) return SL_OK;
    char path[4096];
    mf_name(path, sizeof path, dir, newest);
    sl_err_t rc = parse_file(m, path, pipeline, err);
    if (rc) {
        sl_manifest_free(m);
        sl_error_prefix(err,
                        "checkpoint manifest %s is damaged (restore it from a backup, or move the "
                        "state directory aside to start over, knowing that output of the last "
                        "checkpoint may then be written twice)",
                        path);
        return rc;
    }
    if (m->checkpoint != newest) {
        uint64_t says = m->checkpoint;
        sl_manifest_free(m);
        return sl_error_set(err, SL_ERR_CORRUPT, "manifest %s says checkpoint %" PRIu64, path,
                            says);
    }
    return SL_OK;
}
