/* col.c - column builder slow paths, batch life cycle, rollback, checks.
 * See col.h. */
#include "core/col.h"

#include <stdio.h>
#include <stdlib.h>

sl_err_t sl_col_grow_levels(sl_col *c)
{
    size_t cap = c->lvl_cap ? c->lvl_cap * 2 : 1024;
    if (cap > ((size_t)1 << 31)) return SL_ERR_LIMIT;
    uint8_t *d = realloc(c->def, cap);
    if (!d) return SL_ERR_NOMEM;
    c->def = d;
    uint8_t *r = realloc(c->rep, cap);
    if (!r) return SL_ERR_NOMEM;
    c->rep = r;
    c->lvl_cap = cap;
    return SL_OK;
}

sl_err_t sl_col_grow_offs(sl_col *c)
{
    size_t cap = c->off_cap ? c->off_cap * 2 : 1024;
    if (cap > ((size_t)1 << 31)) return SL_ERR_LIMIT;
    uint32_t *o = realloc(c->off, cap * sizeof *o);
    if (!o) return SL_ERR_NOMEM;
    if (!c->off_cap) o[0] = 0;
    c->off = o;
    c->off_cap = cap;
    return SL_OK;
}

sl_err_t sl_batch_init(sl_batch *b, const sl_schema *s)
{
    memset(b, 0, sizeof *b);
    b->schema = s;
    b->cols = calloc((size_t)(s->n_leaves ? s->n_leaves : 1), sizeof *b->cols);
    if (!b->cols) return SL_ERR_NOMEM;
    b->ncols = s->n_leaves;
    for (int32_t i = 0; i < s->n_leaves; i++) {
        sl_col *c = &b->cols[i];
        const sl_node *n = sl_schema_leaf(s, i);
        c->schema = s;
        c->node = s->leaves[i];
        c->type = n->ptype;
        c->max_def = n->max_def;
        c->max_rep = n->max_rep;
        /* val.p is never NULL, so pointer arithmetic on an all-empty
         * BYTE_ARRAY column stays defined. */
        if ((n->ptype == SL_PT_BYTE_ARRAY && sl_col_grow_offs(c)) || sl_buf_reserve(&c->val, 64)) {
            sl_batch_free(b);
            return SL_ERR_NOMEM;
        }
    }
    return SL_OK;
}

void sl_batch_reset(sl_batch *b)
{
    for (int32_t i = 0; i < b->ncols; i++) {
        sl_col *c = &b->cols[i];
        c->n = c->nvals = 0;
        sl_buf_reset(&c->val);
    }
    b->nrows = 0;
}

void sl_batch_free(sl_batch *b)
{
    if (!b) return;
    for (int32_t i = 0; b->cols && i < b->ncols; i++) {
        sl_col *c = &b->cols[i];
        free(c->def);
        free(c->rep);
        free(c->off);
        sl_buf_free(&c->val);
    }
    free(b->cols);
    memset(b, 0, sizeof *b);
}

size_t sl_batch_bytes(const sl_batch *b)
{
    size_t t = 0;
    for (int32_t i = 0; i < b->ncols; i++) {
        const sl_col *c = &b->cols[i];
        t += c->val.len + ((c->max_def | c->max_rep) ? 2 * c->n : 0);
        if (c->type == SL_PT_BYTE_ARRAY) t += 4 * c->nvals;
    }
    return t;
}

sl_err_t sl_batch_mark_init(sl_batch_mark_t *m, const sl_batch *b)
{
    size_t k = (size_t)(b->ncols ? b->ncols : 1);
    memset(m, 0, sizeof *m);
    m->n = calloc(k, sizeof *m->n);
    m->nvals = calloc(k, sizeof *m->nvals);
    m->vlen = calloc(k, sizeof *m->vlen);
    if (!m->n || !m->nvals || !m->vlen) {
        sl_batch_mark_free(m);
        return SL_ERR_NOMEM;
    }
    return SL_OK;
}

void sl_batch_mark(sl_batch_mark_t *m, const sl_batch *b)
{
    m->nrows = b->nrows;
    for (int32_t i = 0; i < b->ncols; i++) {
        m->n[i] = b->cols[i].n;
        m->nvals[i] = b->cols[i].nvals;
        m->vlen[i] = b->cols[i].val.len;
    }
}

void sl_batch_rollback(sl_batch *b, const sl_batch_mark_t *m)
{
    b->nrows = m->nrows;
    for (int32_t i = 0; i < b->ncols; i++) {
        b->cols[i].n = m->n[i];
        b->cols[i].nvals = m->nvals[i];
        b->cols[i].val.len = m->vlen[i];
    }
}

void sl_batch_mark_free(sl_batch_mark_t *m)
{
    free(m->n);
    free(m->nvals);
    free(m->vlen);
    memset(m, 0, sizeof *m);
}

sl_err_t sl_batch_validate(const sl_batch *b, sl_error *err)
{
    char path[256];
    for (int32_t i = 0; i < b->ncols; i++) {
        const sl_col *c = &b->cols[i];
        sl_schema_path(b->schema, c->node, path, sizeof path);
        size_t vals = 0, rows = 0;
        for (size_t k = 0; k < c->n; k++) {
            int d = (c->max_def | c->max_rep) ? c->def[k] : c->max_def;
            int r = (c->max_def | c->max_rep) ? c->rep[k] : 0;
            if (d > c->max_def || r > c->max_rep)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "column %s slot %zu: level def=%d rep=%d out of range", path, k,
                                    d, r);
            vals += d == c->max_def;
            rows += r == 0;
        }
        if (vals != c->nvals)
            return sl_error_set(err, SL_ERR_CORRUPT, "column %s: %zu values but %zu def levels",
                                path, c->nvals, vals);
        if (rows != b->nrows)
            return sl_error_set(err, SL_ERR_CORRUPT, "column %s: %zu rows, batch has %zu", path,
                                rows, b->nrows);
        if (c->type == SL_PT_BYTE_ARRAY) {
            if (c->off[0] != 0 || c->off[c->nvals] != c->val.len)
                return sl_error_set(err, SL_ERR_CORRUPT, "column %s: offsets do not cover values",
                                    path);
            for (size_t j = 0; j < c->nvals; j++)
                if (c->off[j] > c->off[j + 1])
                    return sl_error_set(err, SL_ERR_CORRUPT, "column %s: offsets not monotonic",
                                        path);
        } else if (sl_ptype_width(c->type, b->schema->nodes[c->node].type_length) &&
                   c->val.len !=
                       c->nvals * sl_ptype_width(c->type, b->schema->nodes[c->node].type_length)) {
            return sl_error_set(err, SL_ERR_CORRUPT, "column %s: %zu value bytes for %zu values",
                                path, c->val.len, c->nvals);
        }
    }
    return SL_OK;
}

sl_err_t sl_batch_same(const sl_batch *a, const sl_batch *b, sl_error *err)
{
    if (a->ncols != b->ncols || a->nrows != b->nrows)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "batches differ: %d columns and %zu rows against "
                            "%d and %zu",
                            a->ncols, a->nrows, b->ncols, b->nrows);
    for (int32_t i = 0; i < a->ncols; i++) {
        const sl_col *x = &a->cols[i], *y = &b->cols[i];
        int lv = x->max_def | x->max_rep;
        const char *what = NULL;
        if (x->type != y->type || x->max_def != y->max_def || x->max_rep != y->max_rep)
            what = "type or levels";
        else if (x->n != y->n || x->nvals != y->nvals || x->val.len != y->val.len)
            what = "slot, value or byte counts";
        else if (lv && x->n && (memcmp(x->def, y->def, x->n) || memcmp(x->rep, y->rep, x->n)))
            what = "levels";
        else if (x->val.len && memcmp(x->val.p, y->val.p, x->val.len))
            what = "value bytes";
        else if (x->type == SL_PT_BYTE_ARRAY &&
                 memcmp(x->off, y->off, (x->nvals + 1) * sizeof *x->off))
            what = "value offsets";
        if (what) {
            char path[256];
            sl_schema_path(a->schema, x->node, path, sizeof path);
            return sl_error_set(err, SL_ERR_CORRUPT, "batches differ in column %s: %s", path, what);
        }
    }
    return SL_OK;
}
