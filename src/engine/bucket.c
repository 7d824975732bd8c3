/* bucket.c - a worker's open output files: one bucket per (stream,
 * partition directory, hour), in a hash table owned by the worker.
 *
 * A bucket buffers rows in column builders (at most ~1 MiB) and encodes
 * them into its Parquet writer (or JSON lines) as they come; the file is
 * created on first use under a hidden name. Rolling a bucket hands it to
 * the close pool (closer.c), which finishes and fsyncs the file for the
 * checkpoint that publishes it: at every barrier, past limits.file_size, or
 * as the least recently used one when the worker has limits.max_open_files.
 *
 * Departure from DESIGN.md: JSON-lines (row) files are rolled at every
 * barrier like Parquet files, instead of staying open with a valid length
 * recorded and truncated on recovery; recovery then only renames and
 * deletes, and a published file never changes (docs/pipeline.md).
 *
 * Memory: each bucket keeps at most ~1 MiB of rows before they are encoded
 * into its writer; the open row group of a writer is bounded by
 * limits.row_group_size; past limits.memory in all of a worker's buckets the
 * largest open row group is flushed; past limits.max_open_files the least
 * recently used bucket is rolled (closed and queued for the next checkpoint).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/deadletter.h"
#include "engine/rt_int.h"

#define CHECK_EVERY 256

static uint32_t hash_key(int32_t stream, const char *dir)
{
    uint32_t h = 2166136261u ^ (uint32_t)stream;
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

void sl_bucket_free(sl_bucket *b)
{
    if (!b) return;
    sl_pq_writer_free(b->pw);
    sl_ostream_destroy(b->os);
    sl_rows_json_free(b->rj);
    sl_batch_free(&b->batch);
    free(b->view.cols);
    sl_buf_free(&b->line);
    free(b->dir);
    free(b->hidden);
    free(b->final);
    free(b);
}

/* ---- buckets ---- */

static void table_remove(sl_worker *w, sl_bucket *b)
{
    sl_bucket **pp = &w->table[b->hash & w->table_mask];
    while (*pp && *pp != b)
        pp = &(*pp)->next;
    if (*pp) *pp = b->next;
    b->next = NULL;
    w->n_open--;
    w->bgen++; /* record.c's bucket cache: every cached pointer is stale now */
}

/* Hand a bucket to the close pool; it is published by checkpoint ckpt. An
 * empty bucket (no file opened) is just freed. */
static void roll(sl_worker *w, sl_bucket *b, uint64_t ckpt, int locked)
{
    table_remove(w, b);
    if (!b->os && b->batch.nrows == 0 && b->line.len == 0) {
        sl_bucket_free(b);
        return;
    }
    b->ckpt = ckpt;
    if (!locked) pthread_mutex_lock(&w->rt->mu);
    sl_retry_rolled(w, b);
    sl_closer_submit(w->rt, b);
    if (!locked) pthread_mutex_unlock(&w->rt->mu);
}

/* Caller holds rt->mu. */
void sl_worker_roll_all(sl_worker *w, uint64_t ckpt)
{
    for (uint32_t i = 0; i <= w->table_mask; i++) {
        sl_bucket *b = w->table[i];
        while (b) {
            sl_bucket *next = b->next;
            roll(w, b, ckpt, 1);
            b = next;
        }
    }
}

/* Names: hidden ".sluice+PIPELINE+INSTANCE+wW+ATTEMPT+SEQ.inprogress",
 * final "PIPELINE-INSTANCE-cC-wW-SEQ.parquet" - unique per pipeline,
 * instance (engine/state.h), worker and attempt. The '+' cannot occur in a
 * pipeline name, so one pipeline's prefix never matches another's. The final name is made by the
 * close pool, which knows the checkpoint that publishes the file. Runs on the worker or the pool
 * (never both for one bucket), so it touches only the bucket and rt. */
static sl_err_t bucket_open_file(sl_rt *rt, sl_bucket *b, sl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.sluice+%s+%s+w%d+%s+%" PRIu64 ".inprogress", b->dir,
             rt->cfg->pipeline, rt->instance, b->worker, rt->attempt, b->seq);
    if (!(b->hidden = strdup(path))) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_err_t rc = rt->st->vt->create(rt->st, b->hidden, &b->os, err);
    if (rc || !sl_bucket_parquet(rt, b)) return rc;
    sl_pq_options o = {0};
    o.codec = b->stream >= 0 ? rt->pl->streams[b->stream].codec : SL_PQ_CODEC_ZSTD;
    o.no_delta = b->stream >= 0 && rt->pl->streams[b->stream].no_delta;
    o.row_group_bytes = (size_t)rt->cfg->limits.row_group_size;
    const sl_schema *sch =
        b->stream >= 0 ? &rt->pl->streams[b->stream].out_schema : &rt->pl->dl_schema;
    return sl_pq_writer_open(&b->pw, sch, b->os, &o, err);
}

/* The output view of the batch: the projected columns, sharing builders. */
static void make_view(const sl_stream *st, sl_bucket *b)
{
    for (int32_t i = 0; i < st->out_schema.n_leaves; i++)
        b->view.cols[i] = b->batch.cols[st->out_leaf[i]];
    b->view.nrows = b->batch.nrows;
}

/* Encode the buffered rows into the file. Used by workers and the pool. */
sl_err_t sl_bucket_drain(sl_rt *rt, sl_bucket *b, sl_error *err)
{
    if (b->batch.nrows == 0 && b->line.len == 0) return SL_OK;
    sl_err_t rc;
    if (!b->os && (rc = bucket_open_file(rt, b, err))) return rc;
    if (b->stream < 0 && !b->pw) { /* dead letters as JSON lines */
        rc = sl_ostream_write(b->os, b->line.p, b->line.len, err);
        sl_buf_reset(&b->line);
        return rc;
    }
    if (b->stream < 0) { /* dead letters as Parquet */
        b->rows += (int64_t)b->batch.nrows;
        rc = sl_pq_writer_write(b->pw, &b->batch, err);
        sl_batch_reset(&b->batch);
        return rc;
    }
    const sl_stream *st = &rt->pl->streams[b->stream];
    make_view(st, b);
    b->rows += (int64_t)b->view.nrows;
    if (b->pw) {
        rc = sl_pq_writer_write(b->pw, &b->view, err);
    } else {
        sl_buf_reset(&b->line);
        rc = sl_rows_json_new(&b->rj, &b->view);
        for (size_t r = 0; !rc && r < b->view.nrows; r++) {
            rc = sl_rows_json_row(b->rj, r, &b->line);
            if (!rc) rc = sl_buf_put_u8(&b->line, '\n');
        }
        sl_rows_json_free(b->rj);
        b->rj = NULL;
        if (!rc)
            rc = sl_ostream_write(b->os, b->line.p, b->line.len, err);
        else if (rc == SL_ERR_NOMEM)
            sl_error_set(err, rc, "out of memory");
        sl_buf_reset(&b->line);
    }
    sl_batch_reset(&b->batch);
    return rc;
}

sl_bucket *sl_bucket_new(sl_worker *w, int32_t stream, const char *dir, uint32_t hash,
                         sl_error *err)
{
    sl_bucket *b = calloc(1, sizeof *b);
    if (!b || !(b->dir = strdup(dir))) goto nomem;
    b->stream = stream;
    b->hash = hash;
    b->worker = w->id;
    b->seq = ++w->seq;
    if (stream >= 0) {
        const sl_stream *st = &w->rt->pl->streams[stream];
        if (sl_batch_init(&b->batch, &st->emit_schema)) goto nomem;
        b->view.schema = &st->out_schema;
        b->view.ncols = st->out_schema.n_leaves;
        if (!(b->view.cols = calloc((size_t)b->view.ncols + 1, sizeof(sl_col)))) goto nomem;
    } else if (sl_bucket_parquet(w->rt, b) && sl_batch_init(&b->batch, &w->rt->pl->dl_schema))
        goto nomem;
    return b;
nomem:
    sl_bucket_free(b);
    sl_error_set(err, SL_ERR_NOMEM, "out of memory opening an output bucket");
    return NULL;
}

sl_bucket *sl_bucket_get(sl_worker *w, int32_t stream, const char *dir, int64_t hour, sl_error *err)
{
    uint32_t h = hash_key(stream, dir);
    /* the hour too: a directory of a template without {hour} holds many
     * hours, and a file must hold one (commit.c accounts files by hour) */
    for (sl_bucket *b = w->table[h & w->table_mask]; b; b = b->next)
        if (b->hash == h && b->stream == stream && b->hour == hour && !strcmp(b->dir, dir)) {
            b->last_used = ++w->tick;
            return b;
        }
    if (w->n_open >= w->rt->cfg->limits.max_open_files) { /* roll the least recently used */
        sl_bucket *lru = NULL;
        for (uint32_t i = 0; i <= w->table_mask; i++)
            for (sl_bucket *b = w->table[i]; b; b = b->next)
                if (!lru || b->last_used < lru->last_used) lru = b;
        if (lru) roll(w, lru, w->done_ckpt + 1, 0);
    }
    sl_bucket *b = sl_bucket_new(w, stream, dir, h, err);
    if (!b) return NULL;
    b->hour = hour; /* INT64_MIN: no hour partition (late side output, dead letters) */
    b->last_used = ++w->tick;
    b->next = w->table[h & w->table_mask];
    w->table[h & w->table_mask] = b;
    w->n_open++;
    return b;
}

/* Keep memory bounded: flush the batch into the writer past ~1 MiB, roll the
 * file past limits.file_size, flush the biggest open row group past
 * limits.memory. */
sl_err_t sl_bucket_check(sl_worker *w, sl_bucket *b, sl_error *err)
{
    if (++b->since_check < CHECK_EVERY) return SL_OK;
    b->since_check = 0;
    if (sl_batch_bytes(&b->batch) < SL_BATCH_FLUSH_BYTES) return SL_OK;
    sl_err_t rc = sl_bucket_drain(w->rt, b, err);
    if (rc) w->fail_unit = b->stream >= 0 ? b->stream : w->rt->pl->n_streams;
    if (rc || !b->pw) return rc;
    sl_pq_writer_stats ps;
    sl_pq_writer_get_stats(b->pw, &ps);
    const sl_cfg *cfg = w->rt->cfg;
    if ((int64_t)(ps.bytes_written + ps.buffered_bytes) >= cfg->limits.file_size) {
        roll(w, b, w->done_ckpt + 1, 0);
        return SL_OK;
    }
    size_t total = 0, big = 0;
    sl_bucket *biggest = NULL;
    for (uint32_t i = 0; i <= w->table_mask; i++)
        for (sl_bucket *x = w->table[i]; x; x = x->next) {
            if (!x->pw) continue;
            sl_pq_writer_get_stats(x->pw, &ps);
            total += ps.buffered_bytes + sl_batch_bytes(&x->batch);
            if (ps.buffered_bytes > big) {
                big = ps.buffered_bytes;
                biggest = x;
            }
        }
    if ((int64_t)total > cfg->limits.memory && biggest &&
        (rc = sl_pq_writer_flush_row_group(biggest->pw, err)))
        w->fail_unit = biggest->stream >= 0 ? biggest->stream : w->rt->pl->n_streams;
    return rc;
}
