/* worker.c - one worker thread: Kafka messages -> parse -> route -> ETL ->
 * the bucket of (stream, partition path) -> Parquet or JSON-lines part files.
 *
 * The loop takes up to a few hundred messages from the worker's queue (its
 * input partitions are forwarded into it), processes them one by one, and
 * between two messages looks at the checkpoint barrier counter. At a
 * barrier it hands every open bucket to the close pool and records its
 * positions (the next offset of each of its partitions): the files then
 * hold exactly the records before those positions, which is what makes a
 * checkpoint consistent. The hand-over costs a pointer move per bucket; the
 * encoding of the last rows, the footer and the fsync run on the pool.
 *
 * A record that cannot be decoded, routed or timed is dead-lettered
 * (engine/deadletter.h): into the worker's dead-letter file of its audit
 * hour (Parquet or JSON lines, a bucket of stream -1 in the same table),
 * checkpointed and published exactly like data files, so exactly once too;
 * or, with dead_letter kind kafka, into the checkpoint's Kafka transaction.
 *
 * Audit (engine/audit.h): every record of a stream with a files output is
 * counted in the worker's table under (stream, hour) as read and as its
 * outcome (filtered, dead, late; written ones are the files' rows), records
 * of no stream under stream -1. The barrier swaps the table with the one
 * the coordinator emptied, as it hands over the buckets.
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
#include <time.h>

#include "core/base64.h"
#include "core/fault.h"
#include "core/log.h"
#include "engine/deadletter.h"
#include "engine/lua_etl.h"
#include "engine/rt_int.h"
#include "formats/json/json_dec.h"
#include "formats/pb/pb_encode.h"
#include "formats/text/delim.h"

#define BATCH_FLUSH_BYTES ((size_t)1 << 20)
#define CHECK_EVERY       256

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

static sl_bucket *bucket_new(sl_worker *w, int32_t stream, const char *dir, uint32_t hash,
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

static sl_bucket *bucket_get(sl_worker *w, int32_t stream, const char *dir, int64_t hour,
                             sl_error *err)
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
    sl_bucket *b = bucket_new(w, stream, dir, h, err);
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
static sl_err_t bucket_check(sl_worker *w, sl_bucket *b, sl_error *err)
{
    if (++b->since_check < CHECK_EVERY) return SL_OK;
    b->since_check = 0;
    if (sl_batch_bytes(&b->batch) < BATCH_FLUSH_BYTES) return SL_OK;
    sl_err_t rc = sl_bucket_drain(w->rt, b, err);
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
    if ((int64_t)total > cfg->limits.memory && biggest)
        return sl_pq_writer_flush_row_group(biggest->pw, err);
    return SL_OK;
}

/* ---- dead letters ---- */

typedef struct msgctx {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t kts;
    int64_t ingest_ms;
    size_t record; /* index within a batched value */
    int batched;
    const void *key; /* the Kafka message's key (kept on the Kafka output) */
    size_t klen;
    sl_part *pt; /* its input partition */
} msgctx;

/* ---- audit counts ---- */

enum { AU_WRITTEN, AU_FILTERED, AU_DEAD, AU_LATE };

/* Count a record of stream s (-1: none) in hour: read, and its outcome
 * (written records are only read here: their rows are the files'). */
static sl_err_t au_count(sl_worker *w, int32_t s, int64_t hour, int what, sl_error *err)
{
    sl_rt *rt = w->rt;
    if (!rt->cfg->audit.enabled || (s >= 0 && rt->pl->streams[s].out_files < 0)) return SL_OK;
    sl_audit_n *n = sl_audit_at(&w->au[w->au_cur], s, hour);
    if (!n) return sl_error_set(err, SL_ERR_NOMEM, "out of memory (audit counts)");
    n->read++;
    n->filtered += what == AU_FILTERED;
    n->dead += what == AU_DEAD;
    n->late += what == AU_LATE;
    return SL_OK;
}

/* The audit hour of a decoded record: its event hour, else its Kafka
 * timestamp's (no event time: a null field, a string that does not parse). */
static int64_t rec_hour(const sl_stream *st, const sl_rec *r, int64_t kts)
{
    int64_t et;
    char why[300];
    return sl_audit_hour(sl_stream_event_time(st, r, kts, &et, why, sizeof why) ? kts : et);
}

/* ---- dead letters ---- */

/* One dead letter of stream (-1: none), counted in hour; whole_value: the
 * bytes are a Kafka value that could not be unpacked, not one record. */
static sl_err_t dead_letter(sl_worker *w, const msgctx *m, int32_t stream, int64_t hour,
                            int whole_value, const char *reason, const uint8_t *raw, size_t len,
                            sl_error *err)
{
    sl_rt *rt = w->rt;
    sl_err_t rc = au_count(w, stream, hour, AU_DEAD, err);
    if (rc) return rc;
    sl_ctr_add(&w->ps.sc[stream >= 0 ? stream : rt->pl->n_streams].dead, 1);
    sl_dl_rec d = {rt->cfg->pipeline,
                   stream >= 0 ? rt->cfg->streams[stream].name : NULL,
                   m->topic,
                   m->partition,
                   m->offset,
                   (int32_t)m->record,
                   m->kts,
                   m->ingest_ms,
                   hour,
                   whole_value,
                   reason,
                   raw,
                   len,
                   m->key,
                   m->klen};
    if (rt->cfg->dead_letter.kind == SL_OUT_KAFKA) return sl_kx_send_dead(w, &d, err);
    char dir[4096];
    if (sl_dl_dir(dir, sizeof dir, rt->cfg->dead_letter.path, hour) < 0)
        return sl_error_set(err, SL_ERR_INVALID, "dead_letter.path: %s: too long",
                            rt->cfg->dead_letter.path);
    sl_bucket *b = bucket_get(w, -1, dir, INT64_MIN, err);
    if (!b) return err->code;
    if (b->batch.schema) {
        if (sl_dl_row(&b->batch, &d))
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory writing a dead letter");
        if (sl_batch_bytes(&b->batch) >= BATCH_FLUSH_BYTES) return sl_bucket_drain(rt, b, err);
        return SL_OK;
    }
    if (sl_dl_json(&b->line, &d))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory writing a dead letter");
    b->rows++;
    if (b->line.len >= BATCH_FLUSH_BYTES) return sl_bucket_drain(rt, b, err);
    return SL_OK;
}

/* ---- records ---- */

static sl_err_t parse(sl_worker *w, const sl_stream *st, sl_rec *r, const uint8_t *p, size_t len,
                      sl_error *err)
{
    sl_rec_begin(r);
    switch (st->cfg->format) {
    case SL_IN_JSON:
        return sl_json_parse(r, p, len, NULL, err);
    case SL_IN_DELIMITED: {
        sl_delim_options o = {st->cfg->separator ? st->cfg->separator[0] : '\t',
                              st->cfg->null_token};
        return sl_delim_parse(r, p, len, &o, err);
    }
    default:
        return sl_pb_parse(r, p, len, err);
    }
}

static sl_err_t put_meta(const sl_stream *st, sl_batch *b, const msgctx *m)
{
    sl_col *c = &b->cols[st->n_plan_leaves];
    sl_err_t rc = SL_OK;
    if (st->meta & SL_META_TOPIC) rc |= sl_col_bytes(c++, m->topic, strlen(m->topic), 0);
    if (st->meta & SL_META_PARTITION) rc |= sl_col_i32(c++, m->partition, 0);
    if (st->meta & SL_META_OFFSET) rc |= sl_col_i64(c++, m->offset, 0);
    if (st->meta & SL_META_KAFKA_TIMESTAMP) rc |= sl_col_i64(c++, m->kts, 0);
    if (st->meta & SL_META_INGEST_TIME) rc |= sl_col_i64(c++, m->ingest_ms, 0);
    return rc ? SL_ERR_NOMEM : SL_OK;
}

/* One record of a message: stream (or -1 to route by field), ETL, bucket. */
static sl_err_t record(sl_worker *w, int32_t s, const uint8_t *p, size_t len, const msgctx *m,
                       sl_error *err)
{
    sl_rt *rt = w->rt;
    const sl_pipeline *pl = rt->pl;
    sl_error e;
    sl_rec *r = NULL;
    sl_sctr *nc = &w->ps.sc[pl->n_streams]; /* no stream */
    int64_t khour = sl_audit_hour(m->kts);  /* the audit hour of what has no event time */
    if (s < 0) { /* route by field: parse with each group's plan until one matches */
        int32_t parsed = -1, failed = 0;
        for (int32_t g = 0; g < pl->n_groups && s < 0; g++) {
            const sl_route_group *rg = &pl->groups[g];
            r = w->ps.recs[rg->plan];
            if (parsed != rg->plan) {
                const sl_stream *any = NULL;
                for (int32_t k = 0; k < pl->n_streams && !any; k++)
                    if (pl->streams[k].plan == rg->plan) any = &pl->streams[k];
                if (parse(w, any, r, p, len, &e)) {
                    failed = 1;
                    continue;
                }
                parsed = rg->plan;
            }
            s = sl_route_group_lookup(rg, r);
        }
        sl_sctr *in = s >= 0 ? &w->ps.sc[s] : nc;
        sl_ctr_add(&in->in, 1);
        sl_ctr_add(&in->bytes, (long long)len);
        if (s < 0 && failed && parsed < 0) { /* it decodes as none of the messages */
            char reason[SL_ERRMSG_MAX + 64];
            snprintf(reason, sizeof reason, "decode (to route by field): %s", e.msg);
            return dead_letter(w, m, -1, khour, 0, reason, p, len, err);
        }
        if (s < 0) {
            sl_ctr_add(&w->n_unrouted, 1);
            return dead_letter(w, m, -1, khour, 0,
                               "no stream matches the record (route by topic, header "
                               "and field all failed)",
                               p, len, err);
        }
    } else {
        sl_ctr_add(&w->ps.sc[s].in, 1);
        sl_ctr_add(&w->ps.sc[s].bytes, (long long)len);
        r = w->ps.recs[pl->streams[s].plan];
        if (parse(w, &pl->streams[s], r, p, len, &e)) {
            char reason[SL_ERRMSG_MAX + 64];
            snprintf(reason, sizeof reason, "decode: %s", e.msg);
            return dead_letter(w, m, s, khour, 0, reason, p, len, err);
        }
    }
    const sl_stream *st = &pl->streams[s];
    sl_sctr *sc = &w->ps.sc[s];
    const sl_rec *r0 = r; /* as decoded: dropped records count in its hour */
    int au = rt->cfg->audit.enabled && st->out_files >= 0;
    if (st->filter && !sl_filter_eval(st->filter, r)) {
        sl_ctr_add(&sc->filtered, 1);
        return au ? au_count(w, s, rec_hour(st, r0, m->kts), AU_FILTERED, err) : SL_OK;
    }
    if (w->ps.lua[s]) { /* the script writes its result into a second record */
        sl_rec *out = w->ps.outs[st->plan];
        int kept = sl_lua_etl_apply(w->ps.lua[s], r, out, &e);
        if (kept == 0) {
            sl_ctr_add(&sc->filtered, 1);
            return au ? au_count(w, s, rec_hour(st, r0, m->kts), AU_FILTERED, err) : SL_OK;
        }
        if (kept < 0) {
            if (kept == SL_ERR_NOMEM) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            char reason[SL_ERRMSG_MAX + 64];
            snprintf(reason, sizeof reason, "script: %s", e.msg);
            return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0, reason, p, len, err);
        }
        r = out;
    }
    if (st->out_kafka >= 0) {
        const void *v = p;
        size_t vl = len;
        if (!st->kafka_passthrough) {
            sl_buf_reset(&w->enc);
            sl_err_t erc = sl_pb_encode(r, st->kafka_keep, &w->enc, &e);
            if (erc == SL_ERR_NOMEM) return sl_error_set(err, erc, "out of memory");
            if (erc) {
                char reason[SL_ERRMSG_MAX + 64];
                snprintf(reason, sizeof reason, "kafka output: encode: %s", e.msg);
                return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0, reason, p, len, err);
            }
            v = w->enc.p;
            vl = w->enc.len;
        }
        sl_err_t krc = sl_kx_send(w, st, m->key, m->klen, v, vl, err);
        if (krc) return krc;
    }
    if (st->out_files < 0) {
        sl_ctr_add(&sc->out, 1);
        return SL_OK;
    }
    int64_t et;
    char why[300];
    if (sl_stream_event_time(st, r, m->kts, &et, why, sizeof why))
        return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0, why, p, len, err);
    if (et > m->pt->max_et) m->pt->max_et = et; /* the partition's watermark (commit.c) */
    int64_t hour = sl_audit_hour(et);
    const sl_template *tpl = &st->tpl;
    int64_t bucket_hour = hour;
    int outcome = AU_WRITTEN;
    if (hour < atomic_load_explicit(&rt->through[s], memory_order_relaxed)) {
        /* its hour is committed: late (commit.late) */
        sl_ctr_add(&sc->late, 1);
        if (st->cfg->commit.late == SL_LATE_DROP) return au_count(w, s, hour, AU_LATE, err);
        if (st->cfg->commit.late == SL_LATE_SIDE_OUTPUT) {
            tpl = &st->late_tpl;
            bucket_hour = INT64_MIN; /* not part of any hour partition */
            outcome = AU_LATE;
        } /* reopen: into its partition, which commits again (commit.c) */
    }
    char dir[4096];
    if (sl_tpl_expand(tpl, st, r, et, dir, sizeof dir) < 0)
        return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0,
                           "output path longer than 4095 bytes", p, len, err);
    sl_bucket *b = bucket_get(w, s, dir, bucket_hour, err);
    if (!b) return err->code;
    sl_err_t rc = sl_rec_emit(r, &b->batch, &e);
    if (rc == SL_ERR_NOMEM) return sl_error_set(err, rc, "out of memory");
    if (rc) {
        char reason[SL_ERRMSG_MAX + 64];
        snprintf(reason, sizeof reason, "decode: %s", e.msg);
        return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0, reason, p, len, err);
    }
    if (put_meta(st, &b->batch, m)) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_ctr_add(&sc->out, 1);
    if ((rc = au_count(w, s, hour, outcome, err))) return rc;
    return bucket_check(w, b, err);
}

static const char *get_header(void *arg, const char *name, size_t *len)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v;
    if (rd_kafka_message_headers((const rd_kafka_message_t *)arg, &hdrs)) return NULL;
    if (rd_kafka_header_get_last(hdrs, name, &v, len)) return NULL;
    return v ? (const char *)v : "";
}

static sl_part *find_part(sl_worker *w, const char *topic, int32_t partition)
{
    for (int32_t i = 0; i < w->n_parts; i++)
        if (w->parts[i].partition == partition && !strcmp(w->parts[i].topic, topic))
            return &w->parts[i];
    return NULL;
}

static sl_err_t message(sl_worker *w, rd_kafka_message_t *km, int64_t ingest_ms, sl_error *err)
{
    sl_rt *rt = w->rt;
    const char *topic = rd_kafka_topic_name(km->rkt);
    pthread_mutex_lock(&rt->mu);
    sl_part *pt = find_part(w, topic, km->partition);
    int owned = pt && pt->owned;
    pthread_mutex_unlock(&rt->mu);
    if (!owned) return SL_OK; /* revoked: its new owner reads it */
    if (km->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!pt->eof) pt->eof_since_ms = ingest_ms;
        pt->eof = 1;
        return SL_OK;
    }
    if (km->err) {
        SL_LOG(SL_LOG_WARN, "kafka fetch error (librdkafka retries)", SL_F_STR("topic", topic),
               SL_F_INT("partition", km->partition),
               SL_F_STR("error", rd_kafka_message_errstr(km)));
        return SL_OK; /* librdkafka retries fetch errors itself */
    }
    pt->eof = 0;
    pt->last_ms = ingest_ms;
    if (!atomic_load_explicit(&w->first_ms, memory_order_relaxed))
        atomic_store_explicit(&w->first_ms, ingest_ms, memory_order_relaxed);
    atomic_store_explicit(&w->last_ms, ingest_ms, memory_order_relaxed);
    rd_kafka_timestamp_type_t tstype;
    msgctx m = {topic,       km->partition,
                km->offset,  rd_kafka_message_timestamp(km, &tstype),
                ingest_ms,   0,
                0,           km->key,
                km->key_len, pt};
    int32_t s = sl_pipeline_route_meta(rt->pl, topic, get_header, km);
    const uint8_t *val = km->payload ? km->payload : (const uint8_t *)"";
    sl_err_t rc = SL_OK;
    if (s < 0 && rt->pl->n_groups == 0) {
        sl_sctr *nc = &w->ps.sc[rt->pl->n_streams];
        sl_ctr_add(&nc->in, 1);
        sl_ctr_add(&nc->bytes, (long long)km->len);
        sl_ctr_add(&w->n_unrouted, 1);
        rc = dead_letter(w, &m, -1, sl_audit_hour(m.kts), 0,
                         "no stream matches the record's topic or headers", val, km->len, err);
    } else {
        const sl_stream *st = s >= 0 ? &rt->pl->streams[s] : NULL;
        if (!st) /* field routes: the framing of the first field-routed stream */
            for (int32_t k = 0; k < rt->pl->n_streams && !st; k++)
                if (rt->pl->cfg->streams[k].route.kind == SL_ROUTE_FIELD) st = &rt->pl->streams[k];
        if (st && st->framing_batch) {
            sl_error e;
            sl_kbatch **kb = &w->ps.kbs[st->idx];
            if (!*kb && sl_kbatch_new(kb, st->batch_codec, 0))
                return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            sl_sctr *bc = &w->ps.sc[s >= 0 ? s : rt->pl->n_streams]; /* a bad batch's stream */
            if (sl_kbatch_open(*kb, val, km->len, &e)) {
                sl_ctr_add(&bc->in, 1);
                sl_ctr_add(&bc->bytes, (long long)km->len);
                char reason[SL_ERRMSG_MAX + 64];
                snprintf(reason, sizeof reason, "batch: %s", e.msg);
                rc = dead_letter(w, &m, s, sl_audit_hour(m.kts), 1, reason, val, km->len, err);
            } else {
                const uint8_t *rp;
                size_t rl;
                int got;
                m.batched = 1;
                while (!rc && (got = sl_kbatch_next(*kb, &rp, &rl, &e)) > 0) {
                    rc = record(w, s, rp, rl, &m, err);
                    m.record++;
                }
                if (!rc && got < 0) {
                    sl_ctr_add(&bc->in, 1);
                    char reason[SL_ERRMSG_MAX + 64];
                    snprintf(reason, sizeof reason, "batch: %s", e.msg);
                    rc = dead_letter(w, &m, s, sl_audit_hour(m.kts), 1, reason, val, km->len, err);
                }
            }
        } else
            rc = record(w, s, val, km->len, &m, err);
    }
    if (!rc) pt->next = km->offset + 1;
    return rc;
}

/* ---- the thread ---- */

static void barrier(sl_worker *w, uint64_t c)
{
    sl_rt *rt = w->rt;
    sl_fault_point("worker.barrier");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&rt->mu);
    sl_worker_roll_all(w, c);
    w->au_cur ^= 1; /* the coordinator emptied the other table at the last checkpoint */
    for (int32_t i = 0; i < w->n_parts; i++) {
        sl_part *p = &w->parts[i];
        p->snap = p->next;
        p->snap_max_et = p->max_et;
        p->snap_last_ms = p->last_ms;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    w->pause_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    w->done_ckpt = c;
    pthread_cond_broadcast(&rt->cv);
    /* a hot reload: wait here, with nothing open, while the pipeline is swapped */
    while (rt->hold == c && !atomic_load(&rt->stop))
        pthread_cond_wait(&rt->hold_cv, &rt->mu);
    pthread_mutex_unlock(&rt->mu);
}

void *sl_worker_main(void *arg)
{
    sl_worker *w = arg;
    sl_rt *rt = w->rt;
    rd_kafka_message_t *msgs[256];
    sl_error err;
    sl_error_clear(&err);
    while (!atomic_load(&rt->stop)) {
        uint64_t req = atomic_load(&rt->ckpt_req_a);
        if (req > w->done_ckpt) barrier(w, req);
        ssize_t n = rd_kafka_consume_batch_queue(w->q, 100, msgs, 256);
        int64_t ingest = sl_rt_wall_ms();
        for (ssize_t i = 0; i < n; i++) {
            if (!atomic_load(&w->failed) && message(w, msgs[i], ingest, &err)) {
                pthread_mutex_lock(&rt->mu);
                if (!w->errmsg) w->errmsg = strdup(err.msg);
                atomic_store(&w->failed, 1);
                pthread_cond_broadcast(&rt->cv);
                pthread_mutex_unlock(&rt->mu);
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        if (atomic_load(&w->failed)) {
            /* Stop consuming; the coordinator restarts the attempt from the
             * last checkpoint. Keep answering barriers so it never waits. */
            while (!atomic_load(&rt->stop)) {
                uint64_t r2 = atomic_load(&rt->ckpt_req_a);
                pthread_mutex_lock(&rt->mu);
                if (r2 > w->done_ckpt) {
                    w->done_ckpt = r2;
                    pthread_cond_broadcast(&rt->cv);
                }
                pthread_mutex_unlock(&rt->mu);
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    return NULL;
}

sl_err_t sl_wpl_init(sl_wpl *s, const sl_pipeline *pl, sl_error *err)
{
    memset(s, 0, sizeof *s);
    s->pl = pl;
    size_t np = (size_t)pl->n_plans + 1, ns = (size_t)pl->n_streams + 1;
    s->recs = calloc(np, sizeof *s->recs);
    s->outs = calloc(np, sizeof *s->outs);
    s->lua = calloc(ns, sizeof *s->lua);
    s->kbs = calloc(ns, sizeof *s->kbs);
    s->sc = calloc(ns, sizeof *s->sc);
    if (!s->recs || !s->outs || !s->lua || !s->kbs || !s->sc) goto nomem;
    for (int32_t i = 0; i < pl->n_plans; i++)
        if (sl_rec_new(&s->recs[i], &pl->plans[i])) goto nomem;
    /* Lua: one state per worker and stream (a state is single-threaded);
     * the script was already loaded once when the pipeline compiled. */
    for (int32_t i = 0; i < pl->n_streams; i++) {
        const sl_stream *st = &pl->streams[i];
        if (!st->cfg->etl.script) continue;
        if (!s->outs[st->plan] && sl_rec_new(&s->outs[st->plan], &pl->plans[st->plan])) goto nomem;
        sl_err_t rc = sl_lua_etl_open(&s->lua[i], st->cfg->etl.script, &pl->plans[st->plan], err);
        if (rc) {
            sl_wpl_free(s);
            return rc;
        }
    }
    return SL_OK;
nomem:
    sl_wpl_free(s);
    return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
}

void sl_wpl_free(sl_wpl *s)
{
    const sl_pipeline *pl = s->pl;
    for (int32_t i = 0; pl && s->recs && i < pl->n_plans; i++) {
        sl_rec_free(s->recs[i]);
        if (s->outs) sl_rec_free(s->outs[i]);
    }
    for (int32_t i = 0; pl && i < pl->n_streams; i++) {
        if (s->lua) sl_lua_etl_free(s->lua[i]);
        if (s->kbs) sl_kbatch_free(s->kbs[i]);
    }
    free(s->recs);
    free(s->outs);
    free(s->lua);
    free(s->kbs);
    free(s->sc);
    memset(s, 0, sizeof *s);
}

sl_err_t sl_worker_init(sl_rt *rt, sl_worker *w, int32_t id, sl_error *err)
{
    memset(w, 0, sizeof *w);
    w->rt = rt;
    w->id = id;
    w->table_mask = 1023;
    if (!(w->table = calloc(w->table_mask + 1, sizeof *w->table)))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    sl_err_t rc = sl_wpl_init(&w->ps, rt->pl, err);
    if (rc) return rc;
    if (!(w->q = rd_kafka_queue_new(rt->rk)))
        return sl_error_set(err, SL_ERR_NOMEM, "cannot create a Kafka queue");
    return SL_OK;
}

void sl_worker_free(sl_worker *w)
{
    for (uint32_t i = 0; w->table && i <= w->table_mask; i++) {
        sl_bucket *b = w->table[i];
        while (b) {
            sl_bucket *next = b->next;
            sl_bucket_free(b);
            b = next;
        }
    }
    sl_buf_free(&w->enc);
    sl_audit_tab_free(&w->au[0]);
    sl_audit_tab_free(&w->au[1]);
    free(w->table);
    sl_wpl_free(&w->ps);
    if (w->q) rd_kafka_queue_destroy(w->q);
    for (int32_t i = 0; i < w->n_parts; i++)
        free(w->parts[i].topic);
    free(w->parts);
    free(w->errmsg);
    memset(w, 0, sizeof *w);
}
