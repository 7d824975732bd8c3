/* record.c - what happens to one record in a worker: routing by field,
 * parsing, ETL (filter, Lua script, projection), the Kafka output, the
 * event time and its hour, the bucket; or its dead letter. Also the audit
 * counts of each outcome. Called by the worker thread for every Kafka
 * message (worker.c) and for every dead letter it replays (replay.c).
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
 * Nothing here allocates per record: decoders reuse the worker's records,
 * rows go into the bucket's column builders.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/deadletter.h"
#include "engine/lua_etl.h"
#include "engine/rt_int.h"
#include "formats/json/json_dec.h"
#include "formats/pb/pb_encode.h"
#include "formats/text/delim.h"

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

static sl_err_t drain_dead(sl_worker *w, sl_bucket *b, sl_error *err)
{
    sl_err_t rc = sl_bucket_drain(w->rt, b, err);
    if (rc) w->fail_unit = w->rt->pl->n_streams; /* the dead letters' unit (retry.c) */
    return rc;
}

/* One dead letter of stream (-1: none), counted in hour; whole_value: the
 * bytes are a Kafka value that could not be unpacked, not one record. */
static sl_err_t dead_letter(sl_worker *w, const sl_msgctx *m, int32_t stream, int64_t hour,
                            int whole_value, const char *reason, const uint8_t *raw, size_t len,
                            sl_error *err)
{
    sl_rt *rt = w->rt;
    sl_touch(w, rt->pl->n_streams, m->pt); /* retry.c: what depends on this partition */
    if (stream >= 0) sl_touch(w, stream, m->pt);
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
                   m->klen,
                   rt->instance};
    if (rt->cfg->dead_letter.kind == SL_OUT_KAFKA) return sl_kx_send_dead(w, &d, err);
    char dir[4096];
    if (sl_dl_dir(dir, sizeof dir, rt->cfg->dead_letter.path, hour) < 0)
        return sl_error_set(err, SL_ERR_INVALID, "dead_letter.path: %s: too long",
                            rt->cfg->dead_letter.path);
    sl_bucket *b = sl_bucket_get(w, -1, dir, INT64_MIN, err);
    if (!b) return err->code;
    if (b->batch.schema) {
        if (sl_dl_row(&b->batch, &d))
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory writing a dead letter");
        if (sl_batch_bytes(&b->batch) >= SL_BATCH_FLUSH_BYTES) return drain_dead(w, b, err);
        return SL_OK;
    }
    if (sl_dl_json(&b->line, &d))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory writing a dead letter");
    b->rows++;
    if (b->line.len >= SL_BATCH_FLUSH_BYTES) return drain_dead(w, b, err);
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

static sl_err_t put_meta(const sl_stream *st, sl_batch *b, const sl_msgctx *m)
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
sl_err_t sl_record(sl_worker *w, int32_t s, const uint8_t *p, size_t len, const sl_msgctx *m,
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
    sl_touch(w, s, m->pt); /* retry.c: stream s depends on this partition now */
    const sl_rec *r0 = r;  /* as decoded: dropped records count in its hour */
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
    /* a template without {field} values: the directory is the hour's, so the
     * last record's bucket serves while the hour is the same (no expansion,
     * no hashing of the path) */
    struct sl_bcache *c = tpl->by_field ? NULL : &w->ps.bc[s];
    sl_bucket *b;
    if (c && c->b && c->tpl == tpl && c->hour == hour && c->gen == w->bgen) {
        b = c->b;
        b->last_used = ++w->tick;
    } else {
        char dir[4096];
        if (sl_tpl_expand(tpl, st, r, et, dir, sizeof dir) < 0)
            return dead_letter(w, m, s, rec_hour(st, r0, m->kts), 0,
                               "output path longer than 4095 bytes", p, len, err);
        if (!(b = sl_bucket_get(w, s, dir, bucket_hour, err))) return err->code;
        if (c) *c = (struct sl_bcache){tpl, hour, w->bgen, b};
    }
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
    return sl_bucket_check(w, b, err);
}

/* A Kafka value (or a dead letter of kind value, replayed) of stream s
 * (-1: route by field): one record, or a batch of them (framing: batch). */
sl_err_t sl_record_value(sl_worker *w, int32_t s, const uint8_t *val, size_t vlen, sl_msgctx *m,
                         sl_error *err)
{
    sl_rt *rt = w->rt;
    sl_err_t rc = SL_OK;
    if (s < 0 && rt->pl->n_groups == 0) {
        sl_sctr *nc = &w->ps.sc[rt->pl->n_streams];
        sl_ctr_add(&nc->in, 1);
        sl_ctr_add(&nc->bytes, (long long)vlen);
        sl_ctr_add(&w->n_unrouted, 1);
        rc = dead_letter(w, m, -1, sl_audit_hour(m->kts), 0,
                         "no stream matches the record's topic or headers", val, vlen, err);
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
            if (sl_kbatch_open(*kb, val, vlen, &e)) {
                sl_ctr_add(&bc->in, 1);
                sl_ctr_add(&bc->bytes, (long long)vlen);
                char reason[SL_ERRMSG_MAX + 64];
                snprintf(reason, sizeof reason, "batch: %s", e.msg);
                rc = dead_letter(w, m, s, sl_audit_hour(m->kts), 1, reason, val, vlen, err);
            } else {
                const uint8_t *rp;
                size_t rl;
                int got;
                m->batched = 1;
                while (!rc && (got = sl_kbatch_next(*kb, &rp, &rl, &e)) > 0) {
                    rc = sl_record(w, s, rp, rl, m, err);
                    m->record++;
                }
                if (!rc && got < 0) {
                    sl_ctr_add(&bc->in, 1);
                    char reason[SL_ERRMSG_MAX + 64];
                    snprintf(reason, sizeof reason, "batch: %s", e.msg);
                    rc = dead_letter(w, m, s, sl_audit_hour(m->kts), 1, reason, val, vlen, err);
                }
            }
        } else
            rc = sl_record(w, s, val, vlen, m, err);
    }
    return rc;
}
