/* dl_read.c - reading dead letters back (`sluice dlq`, replay.c): a
 * dead-letter file of either form, one sl_dl_rec at a time (and, through
 * dl_kafka.c, an offset range of a dead-letter topic).
 *
 * Parquet: the file is mapped (pq_reader) and read one row group at a
 * time into a batch of the file's own schema; columns are found by name,
 * so a file with columns in another order, or with the optional `key`
 * missing (older files), reads the same. Optional columns keep a running
 * value index (their nulls have no value slot). Memory: one row group.
 *
 * JSON lines: read line by line (getline, so a line is bounded by the
 * record cap the writer had), fields taken with core/json_flat, raw and
 * key base64-decoded into buffers the reader owns.
 *
 * A row's strings and bytes point into the reader's memory and stay valid
 * until the next sl_dl_next. Rows are numbered from 0 in file order;
 * sl_dl_skip goes to a row (recovery resumes a replay there): whole row
 * groups are skipped by their footer counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json_flat.h"
#include "engine/deadletter.h"
#include "engine/dl_kafka.h"
#include "formats/parquet/pq_reader.h"

enum {
    F_PIPELINE,
    F_STREAM,
    F_TOPIC,
    F_PART,
    F_OFFSET,
    F_RECORD,
    F_KTS,
    F_TIME,
    F_HOUR,
    F_KIND,
    F_REASON,
    F_RAW,
    F_KEY,
    F_N
};
static const char *const names[F_N] = {
    "pipeline", "stream", "topic", "partition", "offset", "record", "kafka_timestamp",
    "time",     "hour",   "kind",  "reason",    "raw",    "key"};

struct sl_dl_reader {
    char *path;
    sl_dlk *k; /* a dead-letter topic's range (dl_kafka.c), else a file */
    int jsonl;
    int64_t row; /* the next row's number */
    /* parquet */
    sl_pq_reader pq;
    sl_batch b;
    int32_t rg;        /* the next row group to read */
    size_t at;         /* the next row of b */
    int32_t leaf[F_N]; /* -1: absent */
    size_t vi[F_N];    /* next value index of each column in b */
    /* jsonl */
    FILE *f;
    char *line;
    size_t line_cap;
    char *str; /* decoded strings: pipeline, stream, topic, kind, reason (cap each) */
    size_t str_cap;
    uint8_t *raw, *key;
    size_t raw_cap, key_cap;
};

void sl_dl_close(sl_dl_reader *r)
{
    if (!r) return;
    sl_dlk_close(r->k);
    sl_pq_reader_close(&r->pq);
    sl_batch_free(&r->b);
    if (r->f) fclose(r->f);
    free(r->line);
    free(r->str);
    free(r->raw);
    free(r->key);
    free(r->path);
    free(r);
}

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), k = strlen(x);
    return n >= k && !strcmp(s + n - k, x);
}

sl_err_t sl_dl_open(sl_dl_reader **out, const char *path, sl_error *err)
{
    return sl_dl_open_cfg(out, path, NULL, err);
}

sl_err_t sl_dl_open_cfg(sl_dl_reader **out, const char *path, const struct sl_cfg *cfg,
                        sl_error *err)
{
    sl_dl_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r || !(r->path = strdup(path))) {
        sl_dl_close(r);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    sl_err_t rc = SL_OK;
    r->jsonl = ends_with(path, ".jsonl");
    if (!strncmp(path, "kafka:", 6)) {
        rc = cfg ? sl_dlk_open(&r->k, path, cfg, err)
                 : sl_error_set(err, SL_ERR_INVALID, "%s: a dead-letter topic needs the pipeline",
                                path);
    } else if (r->jsonl) {
        if (!(r->f = fopen(path, "r"))) rc = sl_error_errno(err, errno, "%s: cannot open", path);
    } else if (!(rc = sl_pq_reader_open_file(&r->pq, path, err))) {
        for (int i = 0; i < F_N; i++) {
            int32_t n = sl_schema_find(&r->pq.schema, names[i]);
            r->leaf[i] = n >= 0 ? r->pq.schema.nodes[n].leaf : -1;
        }
        for (int i = 0; i < F_N && !rc; i++)
            if (r->leaf[i] < 0 && i != F_KEY && i != F_KTS)
                rc = sl_error_set(err, SL_ERR_SCHEMA,
                                  "%s: not a dead-letter file (no column '%s'); dead letters "
                                  "have the columns of docs/pipeline.md",
                                  path, names[i]);
        if (!rc && sl_batch_init(&r->b, &r->pq.schema))
            rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    if (rc) {
        sl_dl_close(r);
        return rc;
    }
    *out = r;
    return SL_OK;
}

/* A byte-array value of column i at the current row (NULL for a null). */
static const uint8_t *pq_bytes(sl_dl_reader *r, int i, size_t *len)
{
    if (r->leaf[i] < 0) return NULL;
    const sl_col *c = &r->b.cols[r->leaf[i]];
    if (c->max_def && c->def[r->at] < c->max_def) return NULL;
    size_t v = r->vi[i]++;
    *len = c->off[v + 1] - c->off[v];
    return c->val.p + c->off[v];
}

/* A fixed-width value of column i at the current row; 0 when null. */
static int pq_fixed(sl_dl_reader *r, int i, int64_t *out)
{
    if (r->leaf[i] < 0) return 0;
    const sl_col *c = &r->b.cols[r->leaf[i]];
    if (c->max_def && c->def[r->at] < c->max_def) return 0;
    size_t v = r->vi[i]++;
    if (c->type == SL_PT_INT32) {
        int32_t x;
        memcpy(&x, c->val.p + 4 * v, 4);
        *out = x;
    } else
        memcpy(out, c->val.p + 8 * v, 8);
    return 1;
}

/* The text of a string column, NUL-terminated in place of nothing: the
 * batch's values are not terminated, so strings are copied into r->str. */
static const char *pq_str(sl_dl_reader *r, int i, char **slot, size_t *room)
{
    size_t len;
    const uint8_t *p = pq_bytes(r, i, &len);
    if (!p || len + 1 > *room) return NULL;
    char *s = *slot;
    memcpy(s, p, len);
    s[len] = '\0';
    *slot += len + 1;
    *room -= len + 1;
    return s;
}

static sl_err_t grow(void *pp, size_t *cap, size_t need)
{
    if (need <= *cap) return SL_OK;
    void *n = realloc(*(void **)pp, need);
    if (!n) return SL_ERR_NOMEM;
    *(void **)pp = n;
    *cap = need;
    return SL_OK;
}

static int pq_next(sl_dl_reader *r, sl_dl_rec *d, sl_error *err)
{
    while (r->at >= r->b.nrows) {
        if (r->rg >= r->pq.meta.n_row_groups) return 0;
        sl_batch_reset(&r->b);
        memset(r->vi, 0, sizeof r->vi);
        r->at = 0;
        if (sl_pq_reader_read_row_group(&r->pq, r->rg++, &r->b, err)) return -1;
    }
    /* the strings of one row, copied once so they are NUL-terminated */
    size_t need = 5;
    static const int strs[] = {F_PIPELINE, F_STREAM, F_TOPIC, F_KIND, F_REASON};
    for (int k = 0; k < 5; k++) {
        const sl_col *c = &r->b.cols[r->leaf[strs[k]]];
        size_t v = r->vi[strs[k]];
        if (!(c->max_def && c->def[r->at] < c->max_def)) need += c->off[v + 1] - c->off[v];
    }
    if (grow(&r->str, &r->str_cap, need)) {
        sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        return -1;
    }
    char *slot = r->str;
    size_t room = r->str_cap;
    memset(d, 0, sizeof *d);
    d->pipeline = pq_str(r, F_PIPELINE, &slot, &room);
    d->stream = pq_str(r, F_STREAM, &slot, &room);
    d->topic = pq_str(r, F_TOPIC, &slot, &room);
    const char *kind = pq_str(r, F_KIND, &slot, &room);
    d->reason = pq_str(r, F_REASON, &slot, &room);
    int64_t v = 0;
    pq_fixed(r, F_PART, &v);
    d->partition = (int32_t)v;
    pq_fixed(r, F_OFFSET, &d->offset);
    pq_fixed(r, F_RECORD, &v);
    d->record = (int32_t)v;
    d->kafka_ts = -1;
    pq_fixed(r, F_KTS, &d->kafka_ts);
    pq_fixed(r, F_TIME, &d->time_ms);
    pq_fixed(r, F_HOUR, &d->hour_ms);
    d->raw = pq_bytes(r, F_RAW, &d->len);
    if (!d->raw) d->raw = (const uint8_t *)"";
    d->key = pq_bytes(r, F_KEY, &d->klen);
    d->whole_value = kind && !strcmp(kind, "value");
    r->at++;
    return 1;
}

static int js_bytes(sl_dl_reader *r, const char *key, uint8_t **buf, size_t *cap, size_t *len,
                    char *tmp, size_t tcap)
{
    int64_t num;
    int k = sl_jflat_get(r->line, key, tmp, tcap, &num);
    if (k != 's') return k == '0' ? 0 : -1;
    size_t n = strlen(tmp);
    if (grow(buf, cap, sl_base64_max_decoded(n) + 1)) return -2;
    long long got = sl_base64_decode((const uint8_t *)tmp, n, *buf);
    if (got < 0) return -1;
    *len = (size_t)got;
    return 1;
}

static int js_next(sl_dl_reader *r, sl_dl_rec *d, sl_error *err)
{
    ssize_t n = getline(&r->line, &r->line_cap, r->f);
    if (n < 0) return 0;
    /* strings are no longer than the line: five of them and a scratch one */
    size_t each = (size_t)n + 1;
    if (grow(&r->str, &r->str_cap, 6 * each)) {
        sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        return -1;
    }
    char *s[6];
    for (int i = 0; i < 6; i++)
        s[i] = r->str + (size_t)i * each;
    memset(d, 0, sizeof *d);
    int64_t num = 0;
    int bad = sl_jflat_get(r->line, "pipeline", s[0], each, &num) != 's' ||
              sl_jflat_get(r->line, "topic", s[2], each, &num) != 's' ||
              sl_jflat_get(r->line, "kind", s[3], each, &num) != 's' ||
              sl_jflat_get(r->line, "reason", s[4], each, &num) != 's';
    d->pipeline = s[0];
    d->stream = sl_jflat_get(r->line, "stream", s[1], each, &num) == 's' ? s[1] : NULL;
    d->topic = s[2];
    d->whole_value = !strcmp(s[3], "value");
    d->reason = s[4];
    bad |= sl_jflat_get(r->line, "partition", s[5], each, &num) != 'n';
    d->partition = (int32_t)num;
    bad |= sl_jflat_get(r->line, "offset", s[5], each, &d->offset) != 'n';
    bad |= sl_jflat_get(r->line, "record", s[5], each, &num) != 'n';
    d->record = (int32_t)num;
    if (sl_jflat_get(r->line, "kafka_timestamp", s[5], each, &d->kafka_ts) != 'n') d->kafka_ts = -1;
    bad |= sl_jflat_get(r->line, "time", s[5], each, &d->time_ms) != 'n';
    bad |= sl_jflat_get(r->line, "hour", s[5], each, &d->hour_ms) != 'n';
    int rk = js_bytes(r, "raw_base64", &r->raw, &r->raw_cap, &d->len, s[5], each);
    int kk = js_bytes(r, "key_base64", &r->key, &r->key_cap, &d->klen, s[5], each);
    if (rk == -2 || kk == -2) {
        sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        return -1;
    }
    if (bad || rk != 1 || kk < 0) {
        sl_error_set(err, SL_ERR_CORRUPT,
                     "%s: line %lld is not a dead letter (see docs/pipeline.md for its fields)",
                     r->path, (long long)r->row + 1);
        return -1;
    }
    d->raw = r->raw;
    d->key = kk == 1 ? r->key : NULL;
    return 1;
}

int sl_dl_next(sl_dl_reader *r, sl_dl_rec *d, sl_error *err)
{
    int k = r->k       ? sl_dlk_next(r->k, d, 100, err)
            : r->jsonl ? js_next(r, d, err)
                       : pq_next(r, d, err);
    if (k == 1) r->row++;
    return k;
}

int64_t sl_dl_offset(const sl_dl_reader *r)
{
    return r->k ? sl_dlk_offset(r->k) : -1;
}

int64_t sl_dl_row_no(const sl_dl_reader *r)
{
    return r->row;
}

sl_err_t sl_dl_skip(sl_dl_reader *r, int64_t row, sl_error *err)
{
    if (!r->jsonl && !r->k) /* whole row groups by their footer counts */
        while (r->at >= r->b.nrows && r->rg < r->pq.meta.n_row_groups &&
               r->row + r->pq.meta.row_groups[r->rg].num_rows <= row) {
            r->row += r->pq.meta.row_groups[r->rg].num_rows;
            r->rg++;
        }
    sl_dl_rec d;
    int idle = 0;
    while (r->row < row) {
        int k = sl_dl_next(r, &d, err);
        if (k == SL_DL_AGAIN) { /* a topic: rows already read once must come back */
            if (++idle > 600)
                return sl_error_set(err, SL_ERR_IO, "%s: row %lld did not come back within 60 s",
                                    r->path, (long long)row);
            continue;
        }
        idle = 0;
        if (k < 0) return err->code;
        if (k == 0)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "%s: has fewer rows than a replay already read (%lld)", r->path,
                                (long long)row);
    }
    return SL_OK;
}
