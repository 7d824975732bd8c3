/* rows_json.c - Dremel record assembly from column builders, as canonical
 * JSON rows. See rows_json.h for the output form.
 *
 * Assembly walks the schema tree once per row, with one cursor per leaf
 * column (slot k, value v, end of the row's slots). The rule that makes it
 * work: at any instance of a node, every leaf below it has a slot whose
 * definition level says whether that node is present, and an absent node
 * (null, empty list) owns exactly one slot in each of those leaves. So the
 * first leaf under a node decides presence, and a list goes on while the
 * first leaf's next slot repeats at the list's own repetition level.
 * Every emitted node consumes at least one slot of each leaf below it, so a
 * list loop always makes progress and assembly ends in O(slots of the row)
 * even when the columns disagree. Disagreeing columns (possible only for
 * corrupt input, e.g. a hostile Parquet file) are detected when a leaf runs
 * out of slots or is not exactly at the end of its row afterwards:
 * SL_ERR_CORRUPT, never an out-of-range read.
 *
 * LIST groups (3-level, plus the legacy 2-level forms of LogicalTypes.md's
 * backward-compatibility rules) become arrays of their elements, MAP groups
 * arrays of {"key","value"} objects, and a bare REPEATED field an array of
 * its instances.
 *
 * Row lookup: rows are usually dumped in order, so cursors simply carry on
 * from the previous row and cost no memory. Only the first out-of-order
 * request builds the per-column row index (slot and value start of every
 * row, 8 bytes per row per levelled column), in one pass over the levels.
 *
 * sl_rows_json_new checks the builder invariants first (sl_batch_validate,
 * plus: every column starts a row at its first slot, fixed-width value
 * bytes present), so value reads below are in range by construction.
 *
 * Not done (not needed yet): streaming a row larger than memory, pretty
 * printing, and schema depth beyond SL_RJ_MAX_DEPTH (recursion bound).
 */
#include "core/rows_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

#define SL_RJ_MAX_DEPTH 512

typedef struct rj_cur {
    size_t k, v, end;
} rj_cur;

struct sl_rows_json {
    const sl_batch *b;
    rj_cur *cur;
    size_t next_row;  /* the row the cursors stand at (sequential path) */
    uint32_t **index; /* per levelled column: [2*row] slot start, [2*row+1] value start */
    int indexed;
    sl_buf keys;       /* every node's "name": escaped once */
    uint32_t *key_off; /* node -> its key in keys: [key_off[i], key_off[i + 1]) */
};

#define TRY(x)                                                                                     \
    do {                                                                                           \
        sl_err_t rc_ = (x);                                                                        \
        if (rc_) return rc_;                                                                       \
    } while (0)

static inline int has_levels(const sl_col *c)
{
    return (c->max_def | c->max_rep) != 0;
}

static size_t fixed_width(const sl_col *c)
{
    return sl_ptype_width(c->type, c->schema->nodes[c->node].type_length);
}

/* Checks beyond sl_batch_validate that assembly relies on. */
static sl_err_t check_batch(const sl_batch *b)
{
    sl_error e;
    if (sl_batch_validate(b, &e)) return SL_ERR_CORRUPT;
    for (int32_t i = 0; i < b->ncols; i++) {
        const sl_col *c = &b->cols[i];
        if (has_levels(c) && c->n && c->rep[0] != 0) return SL_ERR_CORRUPT;
        if (has_levels(c) && c->n > UINT32_MAX) return SL_ERR_LIMIT;
        if (c->type == SL_PT_FIXED_LEN_BYTE_ARRAY && !fixed_width(c)) return SL_ERR_CORRUPT;
        if (c->type != SL_PT_BYTE_ARRAY &&
            c->val.len / (fixed_width(c) ? fixed_width(c) : 1) < c->nvals)
            return SL_ERR_CORRUPT;
    }
    return SL_OK;
}

sl_err_t sl_rows_json_new(sl_rows_json **out, const sl_batch *b)
{
    *out = NULL;
    const sl_schema *s = b->schema;
    sl_err_t rc = check_batch(b);
    if (rc) return rc;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        int d = 0;
        for (int32_t p = i; p > 0 && d <= SL_RJ_MAX_DEPTH; p = s->nodes[p].parent)
            d++;
        if (d > SL_RJ_MAX_DEPTH) return SL_ERR_LIMIT;
    }
    sl_rows_json *rj = calloc(1, sizeof *rj);
    if (!rj) return SL_ERR_NOMEM;
    rj->b = b;
    rj->cur = calloc((size_t)(b->ncols ? b->ncols : 1), sizeof *rj->cur);
    rj->index = calloc((size_t)(b->ncols ? b->ncols : 1), sizeof *rj->index);
    rj->key_off = malloc(((size_t)s->n_nodes + 1) * sizeof *rj->key_off);
    rc = !rj->cur || !rj->index || !rj->key_off ? SL_ERR_NOMEM : SL_OK;
    for (int32_t i = 0; !rc && i < s->n_nodes; i++) {
        rj->key_off[i] = (uint32_t)rj->keys.len;
        rc = sl_json_put_str(&rj->keys, s->nodes[i].name, strlen(s->nodes[i].name));
        if (!rc) rc = sl_buf_put_u8(&rj->keys, ':');
        if (!rc && rj->keys.len > UINT32_MAX) rc = SL_ERR_LIMIT;
    }
    if (rc) {
        sl_rows_json_free(rj);
        return rc;
    }
    rj->key_off[s->n_nodes] = (uint32_t)rj->keys.len;
    *out = rj;
    return SL_OK;
}

void sl_rows_json_free(sl_rows_json *rj)
{
    if (!rj) return;
    for (int32_t i = 0; rj->index && i < rj->b->ncols; i++)
        free(rj->index[i]);
    free(rj->index);
    free(rj->cur);
    free(rj->key_off);
    sl_buf_free(&rj->keys);
    free(rj);
}

/* One pass over each levelled column: where every row starts. */
static sl_err_t build_index(sl_rows_json *rj)
{
    const sl_batch *b = rj->b;
    for (int32_t i = 0; i < b->ncols; i++) {
        const sl_col *c = &b->cols[i];
        if (!has_levels(c)) continue;
        uint32_t *ix = malloc((b->nrows + 1) * 2 * sizeof *ix);
        if (!ix) return SL_ERR_NOMEM;
        rj->index[i] = ix;
        size_t row = 0, v = 0;
        for (size_t k = 0; k < c->n; k++) {
            if (c->rep[k] == 0) {
                ix[2 * row] = (uint32_t)k;
                ix[2 * row + 1] = (uint32_t)v;
                row++;
            }
            v += c->def[k] == c->max_def;
        }
        ix[2 * row] = (uint32_t)c->n;
        ix[2 * row + 1] = (uint32_t)v;
    }
    rj->indexed = 1;
    return SL_OK;
}

/* Place every cursor at the start of `row` and find the row's end. */
static sl_err_t seek_row(sl_rows_json *rj, size_t row)
{
    const sl_batch *b = rj->b;
    if (row != rj->next_row && !rj->indexed) TRY(build_index(rj));
    for (int32_t i = 0; i < b->ncols; i++) {
        const sl_col *c = &b->cols[i];
        rj_cur *cu = &rj->cur[i];
        if (!has_levels(c)) {
            cu->k = cu->v = row;
            cu->end = row + 1;
            continue;
        }
        if (row != rj->next_row) {
            cu->k = rj->index[i][2 * row];
            cu->v = rj->index[i][2 * row + 1];
        }
        size_t e = cu->k + 1;
        while (e < c->n && c->rep[e] != 0)
            e++;
        cu->end = e;
    }
    return SL_OK;
}

/* ---- output helpers ---- */

static sl_err_t put(sl_buf *o, const char *s, size_t n)
{
    return sl_buf_append(o, s, n);
}
static sl_err_t put_cstr(sl_buf *o, const char *s)
{
    return sl_buf_append(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string; invalid UTF-8 bytes become U+FFFD so the output stays
 * valid JSON. */
sl_err_t sl_json_put_str(sl_buf *o, const void *pv, size_t n)
{
    const uint8_t *p = pv;
    TRY(sl_buf_put_u8(o, '"'));
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            TRY(sl_buf_append(o, p + i, run - i));
            i = run;
            continue;
        }
        uint8_t c = p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            TRY(put(o, esc, 2));
            i++;
        } else if (c < 0x20) {
            const char *m = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (m)
                TRY(put(o, m, 2));
            else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                TRY(put(o, esc, 6));
            }
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l)
                TRY(sl_buf_append(o, p + i, l));
            else
                TRY(put(o, "\\ufffd", 6));
            i += l ? l : 1;
        }
    }
    return sl_buf_put_u8(o, '"');
}

sl_err_t sl_json_put_double(sl_buf *o, double x, int is_float)
{
    char tmp[40];
    if (isnan(x)) return put_cstr(o, "\"NaN\"");
    if (isinf(x)) return put_cstr(o, x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    /* Shortest of the usual precisions that reads back to the same value. */
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (is_float ? strtof(tmp, NULL) == (float)x : strtod(tmp, NULL) == x) break;
    }
    return put_cstr(o, tmp);
}

static sl_err_t put_b64(sl_buf *o, const uint8_t *p, size_t n)
{
    TRY(sl_buf_put_u8(o, '"'));
    TRY(sl_base64_encode(p, n, o));
    return sl_buf_put_u8(o, '"');
}

/* Decimal digits of v (with a '-' if neg), without printf. */
static sl_err_t put_int(sl_buf *o, uint64_t v, int neg)
{
    char tmp[24], *q = tmp + sizeof tmp;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) *--q = '-';
    return put(o, q, (size_t)(tmp + sizeof tmp - q));
}

static sl_err_t put_i64(sl_buf *o, int64_t x)
{
    return x < 0 ? put_int(o, 0 - (uint64_t)x, 1) : put_int(o, (uint64_t)x, 0);
}

/* Value j of leaf column c. */
static sl_err_t put_value(sl_buf *o, const sl_col *c, size_t j)
{
    const sl_node *n = &c->schema->nodes[c->node];
    const uint8_t *v = c->val.p;
    int unsig = n->logical.kind == SL_LT_INT && !n->logical.is_signed;
    switch (c->type) {
    case SL_PT_BOOLEAN:
        return put_cstr(o, v[j] ? "true" : "false");
    case SL_PT_INT32: {
        int32_t x;
        memcpy(&x, v + 4 * j, 4);
        return unsig ? put_int(o, (uint32_t)x, 0) : put_i64(o, x);
    }
    case SL_PT_INT64: {
        int64_t x;
        memcpy(&x, v + 8 * j, 8);
        return unsig ? put_int(o, (uint64_t)x, 0) : put_i64(o, x);
    }
    case SL_PT_FLOAT: {
        float x;
        memcpy(&x, v + 4 * j, 4);
        return sl_json_put_double(o, x, 1);
    }
    case SL_PT_DOUBLE: {
        double x;
        memcpy(&x, v + 8 * j, 8);
        return sl_json_put_double(o, x, 0);
    }
    case SL_PT_BYTE_ARRAY: {
        uint32_t len;
        const uint8_t *p = sl_col_bytes_at(c, j, &len);
        if (n->logical.kind == SL_LT_STRING || n->logical.kind == SL_LT_ENUM)
            return sl_json_put_str(o, p, len);
        return put_b64(o, p, len);
    }
    default: { /* INT96, FIXED_LEN_BYTE_ARRAY: raw bytes */
        size_t w = fixed_width(c);
        return put_b64(o, v + w * j, w);
    }
    }
}

/* ---- assembly ---- */

static sl_err_t emit_field(sl_rows_json *rj, int32_t node, sl_buf *o);

static int def_at(const sl_col *c, size_t k)
{
    return has_levels(c) ? c->def[k] : 0;
}

/* Definition level at the first leaf under node; SL_ERR_CORRUPT if that
 * leaf has no slot left in this row. */
static sl_err_t first_def(sl_rows_json *rj, int32_t node, int *d)
{
    int32_t leaf = rj->b->schema->nodes[node].first_leaf;
    const rj_cur *cu = &rj->cur[leaf];
    if (cu->k >= cu->end) return SL_ERR_CORRUPT;
    *d = def_at(&rj->b->cols[leaf], cu->k);
    return SL_OK;
}

/* An absent node (null, empty list) owns one slot in each leaf below it. */
static sl_err_t skip_absent(sl_rows_json *rj, int32_t node)
{
    const sl_node *n = &rj->b->schema->nodes[node];
    for (int32_t l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++) {
        rj_cur *cu = &rj->cur[l];
        const sl_col *c = &rj->b->cols[l];
        if (cu->k >= cu->end) return SL_ERR_CORRUPT;
        if (def_at(c, cu->k) == c->max_def) cu->v++;
        cu->k++;
    }
    return SL_OK;
}

static sl_err_t emit_leaf(sl_rows_json *rj, int32_t leaf, sl_buf *o)
{
    rj_cur *cu = &rj->cur[leaf];
    const sl_col *c = &rj->b->cols[leaf];
    if (cu->k >= cu->end) return SL_ERR_CORRUPT;
    int d = def_at(c, cu->k++);
    if (d != c->max_def) return put_cstr(o, "null");
    if (cu->v >= c->nvals) return SL_ERR_CORRUPT;
    return put_value(o, c, cu->v++);
}

/* A group instance as an object. kv: label the two children "key" and
 * "value" (a MAP entry). */
static sl_err_t emit_object(sl_rows_json *rj, const sl_node *n, int kv, sl_buf *o)
{
    TRY(sl_buf_put_u8(o, '{'));
    for (int32_t i = 0; i < n->n_children; i++) {
        if (i) TRY(sl_buf_put_u8(o, ','));
        int32_t c = n->children[i];
        if (kv)
            TRY(put_cstr(o, i == 0 ? "\"key\":" : "\"value\":"));
        else
            TRY(put(o, (const char *)rj->keys.p + rj->key_off[c],
                    rj->key_off[c + 1] - rj->key_off[c]));
        TRY(emit_field(rj, c, o));
    }
    return sl_buf_put_u8(o, '}');
}

enum { ELEM_SELF, ELEM_CHILD, ELEM_KV };

/* The instances of repeated node r as a JSON array. Each element is r
 * itself (ELEM_SELF), r's single child (ELEM_CHILD, 3-level list), or r as
 * a key/value object (ELEM_KV). */
static sl_err_t emit_list(sl_rows_json *rj, int32_t r, int mode, sl_buf *o)
{
    const sl_node *rn = &rj->b->schema->nodes[r];
    int d;
    TRY(sl_buf_put_u8(o, '['));
    TRY(first_def(rj, r, &d));
    if (d < rn->max_def) {
        TRY(skip_absent(rj, r));
        return sl_buf_put_u8(o, ']');
    }
    const sl_col *fc = &rj->b->cols[rn->first_leaf];
    const rj_cur *fcu = &rj->cur[rn->first_leaf];
    for (int first = 1;; first = 0) {
        if (!first) TRY(sl_buf_put_u8(o, ','));
        if (mode == ELEM_CHILD)
            TRY(emit_field(rj, rn->children[0], o));
        else if (!rn->is_group)
            TRY(emit_leaf(rj, rn->leaf, o));
        else
            TRY(emit_object(rj, rn, mode == ELEM_KV, o));
        if (fcu->k >= fcu->end || fc->rep[fcu->k] != rn->max_rep) break;
    }
    return sl_buf_put_u8(o, ']');
}

/* LogicalTypes.md backward compatibility: when is the repeated child of a
 * LIST the element itself rather than a wrapper of the element? */
static int list_elem_is_self(const sl_schema *s, const sl_node *list, const sl_node *r)
{
    if (!r->is_group || r->n_children != 1) return 1;
    if (!strcmp(r->name, "array")) return 1;
    size_t ln = strlen(list->name);
    return !strncmp(r->name, list->name, ln) && !strcmp(r->name + ln, "_tuple");
}

/* A present instance of node (non-repeated view). */
static sl_err_t emit_present(sl_rows_json *rj, int32_t node, sl_buf *o)
{
    const sl_schema *s = rj->b->schema;
    const sl_node *n = &s->nodes[node];
    if (!n->is_group) return emit_leaf(rj, n->leaf, o);
    if (n->n_children == 1 && (n->logical.kind == SL_LT_LIST || n->logical.kind == SL_LT_MAP)) {
        int32_t r = n->children[0];
        const sl_node *rn = &s->nodes[r];
        if (rn->rep == SL_REPEATED) {
            int mode = ELEM_SELF;
            if (n->logical.kind == SL_LT_LIST)
                mode = list_elem_is_self(s, n, rn) ? ELEM_SELF : ELEM_CHILD;
            else if (rn->is_group && rn->n_children == 2)
                mode = ELEM_KV;
            return emit_list(rj, r, mode, o);
        }
    }
    return emit_object(rj, n, 0, o);
}

/* The value of field node inside a present parent. */
static sl_err_t emit_field(sl_rows_json *rj, int32_t node, sl_buf *o)
{
    const sl_node *n = &rj->b->schema->nodes[node];
    if (n->rep == SL_REPEATED) return emit_list(rj, node, ELEM_SELF, o);
    int d;
    TRY(first_def(rj, node, &d));
    if (d < n->max_def) {
        TRY(skip_absent(rj, node));
        return put_cstr(o, "null");
    }
    return emit_present(rj, node, o);
}

sl_err_t sl_rows_json_row(sl_rows_json *rj, size_t row, sl_buf *out)
{
    const sl_batch *b = rj->b;
    if (row >= b->nrows) return SL_ERR_INVALID;
    size_t mark = out->len;
    sl_err_t rc = seek_row(rj, row);
    if (!rc) rc = emit_present(rj, 0, out);
    for (int32_t i = 0; !rc && i < b->ncols; i++)
        if (rj->cur[i].k != rj->cur[i].end) rc = SL_ERR_CORRUPT;
    if (rc) {
        out->len = mark;
        rj->next_row = (size_t)-1; /* cursors are off: index next time */
        return rc;
    }
    rj->next_row = row + 1;
    return SL_OK;
}
