/* pq_writer.c - the Parquet file writer: file framing, row groups, schema
 * and footer. Column chunks are pq_column.c; see pq_writer.h for the
 * layering and the memory bound.
 *
 * File layout: "PAR1", then per row group each column chunk in schema
 * order (dictionary page, data pages), then the FileMetaData (Thrift
 * compact), its 4-byte LE length and "PAR1". A row group's metadata is
 * encoded to bytes as soon as its chunks are written, so the footer costs
 * ~100 bytes per column chunk of memory and nothing refers back to freed
 * chunk state.
 *
 * Batches are cut into row slices sized to the room left in the row group
 * (estimated from the batch's bytes per row), so a row group closes near
 * row_group_bytes even inside a large batch; each column of a slice is
 * appended in turn. Slices and pages both end on row boundaries.
 *
 * Schema annotations: each sluice logical type is written both as a
 * LogicalType and as the legacy ConvertedType (LogicalTypes.md,
 * compatibility tables): STRING/UTF8, ENUM/ENUM, INTEGER/INT_n or UINT_n,
 * TIMESTAMP/TIMESTAMP_MILLIS|MICROS (local timestamps too, as the spec
 * asks; NANOS has no ConvertedType), LIST/LIST, MAP/MAP. The repeated
 * key_value group carries no annotation (MAP_KEY_VALUE is the legacy
 * mistake the spec tells readers to tolerate, not a thing to write).
 * column_orders is TYPE_ORDER for every leaf, which makes the statistics'
 * min_value/max_value well defined.
 *
 * Memory: the open row group's chunks (compressed, in pq_blocks.c block
 * stores kept for the writer's life and recycled across writers), one open
 * page and one dictionary per column, the footer's encoded row groups.
 *
 * Errors poison the writer: after a failure every call returns the first
 * error again (the stream below is poisoned the same way), so a caller can
 * never close a file that silently lost a row group.
 *
 * Not done yet: data page v2, page indexes (ColumnIndex/OffsetIndex),
 * bloom filters, page CRCs, and writing column chunks in parallel. Pages
 * already end on row boundaries, so page indexes can be added without
 * changing the page layout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "formats/parquet/pq_thrift_enc.h"
#include "formats/parquet/pq_writer_int.h"

#define PQ_MAGIC "PAR1"

static const struct {
    const char *name;
    int codec;
} codec_names[] = {
    {"none", SL_PQ_CODEC_UNCOMPRESSED}, {"uncompressed", SL_PQ_CODEC_UNCOMPRESSED},
    {"snappy", SL_PQ_CODEC_SNAPPY},     {"gzip", SL_PQ_CODEC_GZIP},
    {"zstd", SL_PQ_CODEC_ZSTD},         {"lz4", SL_PQ_CODEC_LZ4_RAW},
    {"lz4_raw", SL_PQ_CODEC_LZ4_RAW},
};

sl_err_t sl_pq_codec_parse(const char *name, int *codec, sl_error *err)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (!strcasecmp(name, codec_names[i].name)) {
            *codec = codec_names[i].codec;
            return SL_OK;
        }
    }
    return sl_error_set(err, SL_ERR_INVALID,
                        "unknown compression \"%s\": use zstd, snappy, gzip, lz4 or none", name);
}

const char *sl_pq_codec_name(int codec)
{
    switch (codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
        return "none";
    case SL_PQ_CODEC_SNAPPY:
        return "snappy";
    case SL_PQ_CODEC_GZIP:
        return "gzip";
    case SL_PQ_CODEC_ZSTD:
        return "zstd";
    case SL_PQ_CODEC_LZ4_RAW:
        return "lz4";
    }
    return "unknown";
}

/* ---- errors ---- */

static sl_err_t w_fail(sl_pq_writer *w, sl_err_t rc, const sl_error *err)
{
    if (!w->failed) {
        w->failed = rc;
        snprintf(w->first_msg, sizeof w->first_msg, "%s",
                 err && err->msg[0] ? err->msg : sl_err_text(rc));
    }
    return rc;
}

static sl_err_t w_check(sl_pq_writer *w, sl_error *err)
{
    if (w->failed)
        return sl_error_set(err, w->failed, "parquet writer on %s: earlier failure: %s",
                            w->os->name, w->first_msg);
    if (w->closed)
        return sl_error_set(err, SL_ERR_INVALID, "parquet writer on %s: used after close",
                            w->os->name);
    return SL_OK;
}

sl_err_t sl_pq_w_out(sl_pq_writer *w, const void *p, size_t n, sl_error *err)
{
    sl_err_t rc = sl_ostream_write(w->os, p, n, err);
    if (rc) return rc;
    w->offset += n;
    return SL_OK;
}

/* ---- schema ---- */

static sl_err_t bad_logical(const sl_schema *s, int32_t i, const char *what, sl_error *err)
{
    char path[256];
    return sl_error_set(err, SL_ERR_SCHEMA, "parquet writer: field %s: %s",
                        sl_schema_path(s, i, path, sizeof path), what);
}

/* Fill e from schema node i: physical type, repetition, annotations. */
static sl_err_t schema_elem(const sl_schema *s, int32_t i, sl_pq_schema_elem *e, sl_error *err)
{
    const sl_node *n = &s->nodes[i];
    memset(e, 0, sizeof *e);
    e->name = n->name;
    e->type = n->is_group ? -1 : n->ptype;
    e->repetition = i == 0 ? -1 : n->rep;
    e->num_children = n->n_children;
    e->converted_type = -1;
    e->field_id = i > 0 && n->field_id >= 0 ? n->field_id : -1;
    const sl_logical *l = &n->logical;
    switch (l->kind) {
    case SL_LT_NONE:
        break;
    case SL_LT_STRING:
    case SL_LT_ENUM:
        if (n->is_group || n->ptype != SL_PT_BYTE_ARRAY)
            return bad_logical(s, i, "STRING/ENUM must annotate a BYTE_ARRAY", err);
        e->logical = l->kind == SL_LT_STRING ? 1 : 4;
        e->converted_type = l->kind == SL_LT_STRING ? SL_PQ_CT_UTF8 : SL_PQ_CT_ENUM;
        break;
    case SL_LT_INT: {
        int bits = l->bit_width;
        int ok = !n->is_group && (bits == 8 || bits == 16 || bits == 32 || bits == 64) &&
                 n->ptype == (bits == 64 ? SL_PT_INT64 : SL_PT_INT32);
        if (!ok)
            return bad_logical(s, i, "INTEGER needs bit width 8/16/32 on INT32 or 64 on INT64",
                               err);
        int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
        e->logical = 10;
        e->int_bits = (int8_t)bits;
        e->int_signed = l->is_signed ? 1 : 0;
        e->converted_type = (l->is_signed ? SL_PQ_CT_INT_8 : SL_PQ_CT_UINT_8) + k;
        break;
    }
    case SL_LT_TIMESTAMP:
        if (n->is_group || n->ptype != SL_PT_INT64 || l->unit > SL_TU_NANOS)
            return bad_logical(s, i, "TIMESTAMP must annotate an INT64 (millis/micros/nanos)", err);
        e->logical = 8;
        e->ts_utc = l->utc ? 1 : 0;
        e->ts_unit = (int8_t)l->unit;
        if (l->unit == SL_TU_MILLIS) e->converted_type = SL_PQ_CT_TIMESTAMP_MILLIS;
        if (l->unit == SL_TU_MICROS) e->converted_type = SL_PQ_CT_TIMESTAMP_MICROS;
        break;
    case SL_LT_LIST:
    case SL_LT_MAP:
        if (!n->is_group) return bad_logical(s, i, "LIST/MAP must annotate a group", err);
        e->logical = l->kind == SL_LT_LIST ? 3 : 2;
        e->converted_type = l->kind == SL_LT_LIST ? SL_PQ_CT_LIST : SL_PQ_CT_MAP;
        break;
    default:
        return bad_logical(s, i, "unknown logical type", err);
    }
    return SL_OK;
}

/* Schema elements, per-leaf paths and column orders. */
static sl_err_t build_schema(sl_pq_writer *w, sl_error *err)
{
    const sl_schema *s = w->schema;
    w->n_elems = s->n_nodes;
    w->elems = calloc((size_t)s->n_nodes, sizeof *w->elems);
    w->orders = calloc((size_t)s->n_leaves, sizeof *w->orders);
    size_t npaths = 0;
    for (int32_t l = 0; l < s->n_leaves; l++)
        for (int32_t n = s->leaves[l]; n > 0; n = s->nodes[n].parent)
            npaths++;
    w->path_store = calloc(npaths ? npaths : 1, sizeof *w->path_store);
    if (!w->elems || !w->orders || !w->path_store)
        return sl_error_set(err, SL_ERR_NOMEM, "parquet writer: out of memory");
    for (int32_t i = 0; i < s->n_nodes; i++) {
        sl_err_t rc = schema_elem(s, i, &w->elems[i], err);
        if (rc) return rc;
    }
    const char **ps = w->path_store;
    for (int32_t l = 0; l < s->n_leaves; l++) {
        sl_pq_colw *c = &w->cols[l];
        int32_t depth = 0;
        for (int32_t n = s->leaves[l]; n > 0; n = s->nodes[n].parent)
            depth++;
        c->path = ps;
        c->n_path = depth;
        for (int32_t n = s->leaves[l], k = depth - 1; n > 0; n = s->nodes[n].parent, k--)
            ps[k] = s->nodes[n].name;
        ps += depth;
        w->orders[l] = 1; /* TYPE_ORDER */
    }
    return SL_OK;
}

static sl_err_t kv_add(sl_pq_writer *w, const char *key, const char *value)
{
    char *k = strdup(key), *v = value ? strdup(value) : NULL;
    if (!k || (value && !v)) {
        free(k);
        free(v);
        return SL_ERR_NOMEM;
    }
    w->kv_store[w->n_kv_store++] = k;
    if (v) w->kv_store[w->n_kv_store++] = v;
    w->kv[w->n_kv].key = k;
    w->kv[w->n_kv].value = v;
    w->n_kv++;
    return SL_OK;
}

static sl_err_t build_kv(sl_pq_writer *w, sl_error *err)
{
    int32_t n = 3 + (w->opt.n_kv > 0 ? w->opt.n_kv : 0);
    w->kv = calloc((size_t)n, sizeof *w->kv);
    w->kv_store = calloc((size_t)n * 2, sizeof *w->kv_store);
    if (!w->kv || !w->kv_store) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    char fp[32];
    snprintf(fp, sizeof fp, "%016" PRIx64, sl_schema_fingerprint(w->schema));
    sl_err_t rc = kv_add(w, "sluice.writer", "sluice " SL_VERSION);
    if (!rc) rc = kv_add(w, "sluice.schema_fingerprint", fp);
    if (!rc && w->schema->message_name) rc = kv_add(w, "sluice.message", w->schema->message_name);
    for (int32_t i = 0; !rc && i < w->opt.n_kv; i++) {
        if (!w->opt.kv[i].key) {
            return sl_error_set(err, SL_ERR_INVALID,
                                "parquet writer: key-value metadata entry %d has no key", i);
        }
        rc = kv_add(w, w->opt.kv[i].key, w->opt.kv[i].value);
    }
    if (rc) return sl_error_set(err, rc, "parquet writer: out of memory");
    return SL_OK;
}

/* ---- open ---- */

static sl_err_t check_options(const sl_pq_options *o, sl_error *err)
{
    switch (o->codec) {
    case SL_PQ_CODEC_UNCOMPRESSED:
    case SL_PQ_CODEC_SNAPPY:
    case SL_PQ_CODEC_GZIP:
    case SL_PQ_CODEC_ZSTD:
    case SL_PQ_CODEC_LZ4_RAW:
        break;
    default:
        return sl_error_set(err, SL_ERR_UNSUPPORTED,
                            "parquet writer: codec %d cannot be written; use zstd, snappy, "
                            "gzip, lz4 or none",
                            o->codec);
    }
    if (o->n_kv < 0 || (o->n_kv > 0 && !o->kv) || o->n_kv > 100000)
        return sl_error_set(err, SL_ERR_INVALID, "parquet writer: bad key-value list (%d)",
                            (int)o->n_kv);
    return SL_OK;
}

sl_err_t sl_pq_writer_open(sl_pq_writer **out, const sl_schema *s, sl_ostream *os,
                           const sl_pq_options *opt, sl_error *err)
{
    *out = NULL;
    sl_pq_options o = opt ? *opt : (sl_pq_options){0};
    sl_err_t rc = check_options(&o, err);
    if (rc) return rc;
    if (!s->finished)
        return sl_error_set(err, SL_ERR_INVALID, "parquet writer: schema not finished");
    if (!o.row_group_bytes) o.row_group_bytes = (size_t)128 << 20;
    if (!o.page_bytes) o.page_bytes = (size_t)1 << 20;
    if (!o.dict_max_bytes) o.dict_max_bytes = (size_t)1 << 20;
    sl_pq_writer *w = calloc(1, sizeof *w);
    if (!w) return sl_error_set(err, SL_ERR_NOMEM, "parquet writer: out of memory");
    w->schema = s;
    w->os = os;
    w->opt = o;
    w->ncols = s->n_leaves;
    w->cols = calloc((size_t)s->n_leaves, sizeof *w->cols);
    w->pos = calloc((size_t)s->n_leaves, sizeof *w->pos);
    w->vpos = calloc((size_t)s->n_leaves, sizeof *w->vpos);
    w->metas = calloc((size_t)s->n_leaves, sizeof *w->metas);
    if (!w->cols || !w->pos || !w->vpos || !w->metas || sl_pq_codec_ctx_new(&w->codec)) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "parquet writer: out of memory");
        goto fail;
    }
    if ((rc = build_schema(w, err)) || (rc = build_kv(w, err))) goto fail;
    for (int32_t l = 0; l < w->ncols; l++)
        if ((rc = sl_pq_colw_init(w, &w->cols[l], l, err))) goto fail;
    if ((rc = sl_pq_w_out(w, PQ_MAGIC, 4, err))) goto fail;
    *out = w;
    return SL_OK;
fail:
    sl_pq_writer_free(w);
    return rc;
}

void sl_pq_writer_free(sl_pq_writer *w)
{
    if (!w) return;
    for (int32_t l = 0; w->cols && l < w->ncols; l++)
        sl_pq_colw_free(&w->cols[l]);
    free(w->cols);
    free(w->pos);
    free(w->vpos);
    free(w->metas);
    free(w->elems);
    free(w->orders);
    free(w->path_store);
    for (int32_t i = 0; i < w->n_kv_store; i++)
        free(w->kv_store[i]);
    free(w->kv_store);
    free(w->kv);
    sl_buf_free(&w->lvl);
    sl_buf_free(&w->vbuf);
    sl_buf_free(&w->body);
    sl_buf_free(&w->hdr);
    sl_buf_free(&w->trial);
    sl_pq_blocks_free(&w->dictpage);
    sl_buf_free(&w->rg_meta);
    sl_pq_codec_ctx_free(w->codec);
    free(w);
}

/* ---- row groups ---- */

static size_t rg_estimate(const sl_pq_writer *w)
{
    size_t t = 0;
    for (int32_t l = 0; l < w->ncols; l++)
        t += sl_pq_colw_estimate(&w->cols[l]);
    return t;
}

static sl_err_t flush_rg(sl_pq_writer *w, sl_error *err)
{
    if (w->rg_rows == 0) return SL_OK;
    int64_t start = (int64_t)w->offset, unc = 0, comp = 0;
    for (int32_t l = 0; l < w->ncols; l++) {
        sl_err_t rc = sl_pq_colw_write_chunk(w, &w->cols[l], &w->metas[l], err);
        if (rc) return sl_error_prefix(err, "row group %d", (int)w->n_rg);
        unc += w->metas[l].total_uncompressed;
        comp += w->metas[l].total_compressed;
    }
    sl_pq_row_group rg = {
        .columns = w->metas,
        .n_columns = w->ncols,
        .total_byte_size = unc,
        .num_rows = w->rg_rows,
        .file_offset = start,
        .total_compressed = comp,
        .ordinal = w->n_rg <= INT16_MAX ? w->n_rg : -1,
    };
    if (sl_pq_row_group_encode(&rg, &w->rg_meta))
        return sl_error_set(err, SL_ERR_NOMEM, "row group %d: out of memory for metadata",
                            (int)w->n_rg);
    if (w->n_rg == INT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "parquet writer: too many row groups");
    w->n_rg++;
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    return SL_OK;
}

/* The cheap invariants the writer relies on (levels and values agree in
 * count, rows line up across columns). O(slots) of byte compares. */
static sl_err_t check_batch(const sl_pq_writer *w, const sl_batch *b, sl_error *err)
{
    if (b->schema != w->schema && (b->ncols != w->ncols || sl_schema_fingerprint(b->schema) !=
                                                               sl_schema_fingerprint(w->schema)))
        return sl_error_set(err, SL_ERR_SCHEMA, "parquet writer: batch of another schema");
    for (int32_t l = 0; l < w->ncols; l++) {
        const sl_col *c = &b->cols[l];
        const sl_pq_colw *cw = &w->cols[l];
        size_t rows = c->n;
        if (cw->max_rep) {
            rows = 0;
            for (size_t i = 0; i < c->n; i++)
                rows += c->rep[i] == 0;
            if (c->n && c->rep[0] != 0) rows = (size_t)-1;
        }
        size_t need = cw->width ? c->nvals * cw->width : 0;
        if (rows != b->nrows || c->nvals > c->n || c->val.len < need ||
            (!cw->max_def && c->nvals != c->n) || (!cw->width && c->nvals && !c->off)) {
            char path[256];
            return sl_error_set(err, SL_ERR_INVALID,
                                "parquet writer: column %s of the batch is inconsistent (%zu "
                                "slots, %zu values, %zu rows, batch has %zu rows)",
                                sl_schema_path(w->schema, (int32_t)(cw->node - w->schema->nodes),
                                               path, sizeof path),
                                c->n, c->nvals, rows, b->nrows);
        }
    }
    return SL_OK;
}

/* End slot of `take` rows starting at slot pos of c. */
static size_t rows_end(const sl_col *c, int16_t max_rep, size_t pos, size_t take)
{
    if (!max_rep) return pos + take;
    size_t k = pos, rows = 0;
    for (; k < c->n; k++) {
        if (c->rep[k] == 0) {
            if (rows == take) break;
            rows++;
        }
    }
    return k;
}

sl_err_t sl_pq_writer_write(sl_pq_writer *w, const sl_batch *b, sl_error *err)
{
    sl_err_t rc = w_check(w, err);
    if (rc) return rc;
    if (b->nrows == 0) return SL_OK;
    if ((rc = check_batch(w, b, err))) return w_fail(w, rc, err);
    size_t bpr = sl_batch_bytes(b) / b->nrows + 1;
    for (int32_t l = 0; l < w->ncols; l++)
        w->pos[l] = w->vpos[l] = 0;
    size_t done = 0;
    while (done < b->nrows) {
        size_t est = rg_estimate(w), rgb = w->opt.row_group_bytes;
        if (w->rg_rows > 0 && est >= rgb) {
            if ((rc = flush_rg(w, err))) return w_fail(w, rc, err);
            est = rg_estimate(w);
        }
        size_t take = (est < rgb ? rgb - est : 0) / bpr + 1;
        if (take > b->nrows - done) take = b->nrows - done;
        int last = done + take == b->nrows;
        for (int32_t l = 0; l < w->ncols; l++) {
            const sl_col *c = &b->cols[l];
            sl_pq_colw *cw = &w->cols[l];
            size_t end = last ? c->n : rows_end(c, cw->max_rep, w->pos[l], take);
            if ((rc = sl_pq_colw_append(w, cw, c, w->pos[l], end, &w->vpos[l], err)))
                return w_fail(w, rc, err);
            w->pos[l] = end;
        }
        w->rg_rows += (int64_t)take;
        done += take;
    }
    if (rg_estimate(w) >= w->opt.row_group_bytes && (rc = flush_rg(w, err)))
        return w_fail(w, rc, err);
    return SL_OK;
}

sl_err_t sl_pq_writer_flush_row_group(sl_pq_writer *w, sl_error *err)
{
    sl_err_t rc = w_check(w, err);
    if (rc) return rc;
    if ((rc = flush_rg(w, err))) return w_fail(w, rc, err);
    return SL_OK;
}

sl_err_t sl_pq_writer_close(sl_pq_writer *w, sl_error *err)
{
    sl_err_t rc = w_check(w, err);
    if (rc) return rc;
    if ((rc = flush_rg(w, err))) return w_fail(w, rc, err);
    sl_pq_file_meta m;
    memset(&m, 0, sizeof m);
    m.version = 1;
    m.schema = w->elems;
    m.n_schema = w->n_elems;
    m.num_rows = w->total_rows;
    m.kv = w->kv;
    m.n_kv = w->n_kv;
    m.created_by = "sluice version " SL_VERSION " (build sluice)";
    m.column_orders = w->orders;
    m.n_column_orders = w->ncols;
    sl_buf footer = SL_BUF_INIT;
    if (sl_pq_meta_encode_raw_rgs(&m, w->n_rg, w->rg_meta.p, w->rg_meta.len, &footer)) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "parquet writer: out of memory for the footer");
        goto fail;
    }
    if (footer.len > UINT32_MAX) {
        rc = sl_error_set(err, SL_ERR_LIMIT, "parquet writer: footer of %zu bytes too large",
                          footer.len);
        goto fail;
    }
    uint32_t flen = (uint32_t)footer.len;
    if ((rc = sl_pq_w_out(w, footer.p, footer.len, err)) || (rc = sl_pq_w_out(w, &flen, 4, err)) ||
        (rc = sl_pq_w_out(w, PQ_MAGIC, 4, err)))
        goto fail;
    sl_buf_free(&footer);
    w->closed = 1;
    return SL_OK;
fail:
    sl_buf_free(&footer);
    return w_fail(w, rc, err);
}

void sl_pq_writer_get_stats(const sl_pq_writer *w, sl_pq_writer_stats *st)
{
    memset(st, 0, sizeof *st);
    st->rows = w->total_rows + w->rg_rows;
    st->row_groups = w->n_rg;
    st->bytes_written = w->offset;
    for (int32_t l = 0; l < w->ncols; l++)
        st->buffered_bytes += w->cols[l].chunk.total;
}
