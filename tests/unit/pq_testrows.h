/* pq_testrows.h - test data for the Parquet writer, independent of it.
 *
 * Rows are generated as plain value trees (tv) from a schema; the test
 * then (1) shreds them into a batch with its own Dremel shredder, written
 * here from the definition (not from the writer's code), and (2) prints
 * them as the canonical JSON rows (tests/tools/rowcmp.py) that
 * tests/tools/pq_check.mjs compares with what DuckDB and hyparquet read
 * back. Both come from the same tv, so the expected values are the test's
 * own input, never something read from our output.
 *
 * Value tree: a leaf holds one value; a plain group holds its children in
 * schema order; a LIST group holds its elements (the repeated "list" level
 * is implicit); a MAP group holds key_value entries, each a 2-item group
 * (key, value). TV_NULL is an absent OPTIONAL node.
 */
#ifndef SL_TEST_PQ_TESTROWS_H
#define SL_TEST_PQ_TESTROWS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/col.h"
#include "core/schema.h"

enum { TV_NULL, TV_I64, TV_U64, TV_F32, TV_F64, TV_BOOL, TV_BYTES, TV_LIST, TV_GROUP };

typedef struct tv {
    uint8_t kind;
    int64_t i;
    uint64_t u;
    double d;
    float f;
    const uint8_t *p;
    uint32_t len;
    struct tv *items;
    uint32_t n;
} tv;

/* ---- arena: every tv and byte string of a data set, freed at once ---- */
typedef struct tr_block {
    struct tr_block *next;
    size_t used, cap;
    unsigned char data[];
} tr_block;

typedef struct tr_arena {
    tr_block *head;
} tr_arena;

static void *tr_alloc(tr_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (1 << 20) ? n : (1 << 20);
        tr_block *b = malloc(sizeof *b + cap);
        if (!b) abort();
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static void tr_arena_free(tr_arena *a)
{
    while (a->head) {
        tr_block *b = a->head;
        a->head = b->next;
        free(b);
    }
}

/* ---- deterministic random numbers (xorshift64*) ---- */
typedef struct tr_rng {
    uint64_t s;
} tr_rng;

static uint64_t tr_next(tr_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static uint32_t tr_below(tr_rng *r, uint32_t n)
{
    return n ? (uint32_t)(tr_next(r) % n) : 0;
}
static int tr_pct(tr_rng *r, int pct)
{
    return (int)tr_below(r, 100) < pct;
}

/* ---- generation ---- */
typedef struct tr_opts {
    int null_pct;    /* chance an OPTIONAL node is null */
    int max_list;    /* lists/maps have 0..max_list entries */
    int card;        /* > 0: values drawn from `card` distinct ones (dictionary friendly) */
    int long_pct;    /* chance a byte array is long (100..300 bytes) */
    int special_pct; /* chance of an edge value (extremes, NaN, -0.0, ...) */
} tr_opts;

static const char *const tr_words[] = {"a",     "wifi", "4g", "é", "中文", "😀",     "x\"y", "\\",
                                       "tab\t", "\n",   "z",  "ÿ", "",     "Ωmega", "~",    "\x01"};

static void tr_gen_bytes(tr_arena *a, tr_rng *r, const tr_opts *o, int utf8, uint64_t seed_val,
                         tv *v)
{
    tr_rng local = {seed_val * 0x9E3779B97F4A7C15ULL + 1};
    tr_rng *g = o->card ? &local : r;
    size_t n = tr_below(g, 12);
    int is_long = o->card ? (seed_val % 7 == 3 && o->long_pct) : tr_pct(r, o->long_pct);
    if (is_long) n = 100 + tr_below(g, 200);
    uint8_t *p = tr_alloc(a, n * 4 + 8);
    size_t len = 0;
    if (utf8) {
        while (len < n) {
            const char *w = tr_words[tr_below(g, sizeof tr_words / sizeof tr_words[0])];
            size_t wl = strlen(w);
            memcpy(p + len, w, wl);
            len += wl;
            if (!wl) p[len++] = (uint8_t)('a' + tr_below(g, 26));
        }
    } else {
        int ff = tr_pct(g, 5); /* all 0xFF: a max with no short upper bound */
        for (size_t i = 0; i < n; i++) {
            uint32_t k = tr_below(g, 4);
            p[i] = ff ? 0xFF : k == 0 ? 0x00 : k == 1 ? 0xFF : (uint8_t)tr_next(g);
        }
        len = n;
    }
    v->kind = TV_BYTES;
    v->p = p;
    v->len = (uint32_t)len;
}

static void tr_gen_leaf(tr_arena *a, tr_rng *r, const tr_opts *o, const sl_node *n, tv *v)
{
    int special = tr_pct(r, o->special_pct);
    uint64_t pick = o->card ? tr_below(r, (uint32_t)o->card) : tr_next(r);
    const sl_logical *l = &n->logical;
    switch (n->ptype) {
    case SL_PT_BOOLEAN:
        v->kind = TV_BOOL;
        v->i = (int64_t)(pick & 1);
        break;
    case SL_PT_INT32: {
        int bits = l->kind == SL_LT_INT ? l->bit_width : 32;
        int uns = l->kind == SL_LT_INT && !l->is_signed;
        v->kind = uns ? TV_U64 : TV_I64;
        if (uns) {
            uint64_t max = bits == 32 ? UINT32_MAX : ((uint64_t)1 << bits) - 1;
            v->u = special   ? (tr_below(r, 2) ? max : 0)
                   : o->card ? pick * 3 % (max + 1)
                             : pick % (max + 1);
        } else {
            int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << (bits - 1)) - 1;
            if (special)
                v->i = tr_below(r, 2) ? lo : hi;
            else if (o->card)
                v->i = (int64_t)pick * 7919 % (hi + 1) - (int64_t)o->card % (hi + 1);
            else
                v->i = lo + (int64_t)(pick % (uint64_t)(hi - lo + 1));
        }
        break;
    }
    case SL_PT_INT64:
        if (l->kind == SL_LT_INT && !l->is_signed) {
            static const uint64_t sp[] = {0, UINT64_MAX, (uint64_t)1 << 63,
                                          ((uint64_t)1 << 53) + 1};
            v->kind = TV_U64;
            v->u = special ? sp[tr_below(r, 4)] : o->card ? pick * 1000003 : pick;
        } else if (l->kind == SL_LT_TIMESTAMP) {
            static const int64_t scale[] = {1, 1000, 1000000};
            v->kind = TV_I64;
            v->i = (1700000000000LL + (int64_t)(pick % 100000000000ULL) - 50000000000LL) *
                   scale[l->unit];
            if (special) v->i = -(int64_t)(pick % 1000000) * scale[l->unit];
        } else {
            static const int64_t sp[] = {INT64_MIN, INT64_MAX, -1, ((int64_t)1 << 53) + 1};
            v->kind = TV_I64;
            v->i = special   ? sp[tr_below(r, 4)]
                   : o->card ? (int64_t)pick * 1000003 - 5
                             : (int64_t)pick;
        }
        break;
    case SL_PT_FLOAT:
    case SL_PT_DOUBLE: {
        double d;
        if (special) {
            static const double sp[] = {0.0, -0.0, INFINITY, -INFINITY, 1e-310, -1e300, 3.4e38};
            uint32_t k = tr_below(r, 8);
            d = k == 7 ? NAN : sp[k];
        } else if (o->card) {
            d = (double)pick * 0.25 - 3;
        } else {
            d = ((double)(int64_t)(tr_next(r) >> 11) / 9007199254740992.0 - 0.25) * 1000.0;
        }
        if (n->ptype == SL_PT_FLOAT) {
            v->kind = TV_F32;
            v->f = (float)d;
            if (d == 3.4e38 || d == -1e300) v->f = d > 0 ? 3.4e38f : -3.4e38f;
        } else {
            v->kind = TV_F64;
            v->d = d;
        }
        break;
    }
    case SL_PT_BYTE_ARRAY:
        tr_gen_bytes(a, r, o, l->kind == SL_LT_STRING || l->kind == SL_LT_ENUM, pick, v);
        break;
    default:
        break;
    }
}

static void tr_gen_node(tr_arena *a, tr_rng *r, const tr_opts *o, const sl_schema *s, int32_t ni,
                        tv *v)
{
    const sl_node *n = &s->nodes[ni];
    if (ni > 0 && n->rep == SL_OPTIONAL && tr_pct(r, o->null_pct)) {
        v->kind = TV_NULL;
        return;
    }
    if (!n->is_group) {
        tr_gen_leaf(a, r, o, n, v);
        return;
    }
    if (n->logical.kind == SL_LT_LIST || n->logical.kind == SL_LT_MAP) {
        const sl_node *kv = &s->nodes[n->children[0]];
        uint32_t cnt = tr_below(r, (uint32_t)o->max_list + 1);
        v->kind = TV_LIST;
        v->n = cnt;
        v->items = tr_alloc(a, (cnt ? cnt : 1) * sizeof(tv));
        for (uint32_t i = 0; i < cnt; i++) {
            if (n->logical.kind == SL_LT_LIST) {
                tr_gen_node(a, r, o, s, kv->children[0], &v->items[i]);
            } else {
                tv *e = &v->items[i];
                e->kind = TV_GROUP;
                e->n = (uint32_t)kv->n_children;
                e->items = tr_alloc(a, e->n * sizeof(tv));
                for (uint32_t k = 0; k < e->n; k++)
                    tr_gen_node(a, r, o, s, kv->children[k], &e->items[k]);
            }
        }
        return;
    }
    v->kind = TV_GROUP;
    v->n = (uint32_t)n->n_children;
    v->items = tr_alloc(a, (v->n ? v->n : 1) * sizeof(tv));
    for (uint32_t k = 0; k < v->n; k++)
        tr_gen_node(a, r, o, s, n->children[k], &v->items[k]);
}

/* ---- shredding (Dremel), straight from the definition ---- */

static int tr_nulls(sl_batch *b, const sl_node *n, int def, int rep)
{
    for (int32_t l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++)
        if (sl_col_null(&b->cols[l], def, rep)) return -1;
    return 0;
}

static int tr_leaf(sl_batch *b, const sl_node *n, const tv *v, int rep)
{
    sl_col *c = &b->cols[n->leaf];
    switch (n->ptype) {
    case SL_PT_BOOLEAN:
        return sl_col_bool(c, (int)v->i, rep);
    case SL_PT_INT32:
        return sl_col_i32(c, v->kind == TV_U64 ? (int32_t)(uint32_t)v->u : (int32_t)v->i, rep);
    case SL_PT_INT64:
        return sl_col_i64(c, v->kind == TV_U64 ? (int64_t)v->u : v->i, rep);
    case SL_PT_FLOAT:
        return sl_col_f32(c, v->f, rep);
    case SL_PT_DOUBLE:
        return sl_col_f64(c, v->d, rep);
    case SL_PT_BYTE_ARRAY:
        return sl_col_bytes(c, v->p, v->len, rep);
    }
    return -1;
}

/* def: definition level reached by the parent; rep: level of this slot. */
static int tr_shred(sl_batch *b, const sl_schema *s, int32_t ni, const tv *v, int def, int rep)
{
    const sl_node *n = &s->nodes[ni];
    if (v->kind == TV_NULL) return tr_nulls(b, n, def, rep);
    if (!n->is_group) return tr_leaf(b, n, v, rep);
    if (n->logical.kind == SL_LT_LIST || n->logical.kind == SL_LT_MAP) {
        const sl_node *r = &s->nodes[n->children[0]];
        if (v->n == 0) return tr_nulls(b, n, n->max_def, rep);
        for (uint32_t i = 0; i < v->n; i++) {
            int rr = i == 0 ? rep : r->max_rep;
            if (n->logical.kind == SL_LT_LIST) {
                if (tr_shred(b, s, r->children[0], &v->items[i], r->max_def, rr)) return -1;
            } else {
                for (int32_t k = 0; k < r->n_children; k++)
                    if (tr_shred(b, s, r->children[k], &v->items[i].items[k], r->max_def, rr))
                        return -1;
            }
        }
        return 0;
    }
    for (int32_t k = 0; k < n->n_children; k++)
        if (tr_shred(b, s, n->children[k], &v->items[k], n->max_def, rep)) return -1;
    return 0;
}

static int tr_shred_row(sl_batch *b, const sl_schema *s, const tv *row)
{
    if (tr_shred(b, s, 0, row, 0, 0)) return -1;
    b->nrows++;
    return 0;
}

/* ---- canonical JSON ---- */

static void tr_json_str(FILE *f, const uint8_t *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void tr_json_b64(FILE *f, const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', f);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(t[x >> 18], f);
        fputc(t[x >> 12 & 63], f);
        fputc(i + 1 < n ? t[x >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[x & 63] : '=', f);
    }
    fputc('"', f);
}

static void tr_json_float(FILE *f, double d, int is32)
{
    if (isnan(d))
        fputs("\"NaN\"", f);
    else if (isinf(d))
        fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else
        fprintf(f, is32 ? "%.9g" : "%.17g", d);
}

static void tr_json(FILE *f, const sl_schema *s, int32_t ni, const tv *v)
{
    const sl_node *n = &s->nodes[ni];
    switch (v->kind) {
    case TV_NULL:
        fputs("null", f);
        return;
    case TV_I64:
        fprintf(f, "%lld", (long long)v->i);
        return;
    case TV_U64:
        fprintf(f, "%llu", (unsigned long long)v->u);
        return;
    case TV_F32:
        tr_json_float(f, v->f, 1);
        return;
    case TV_F64:
        tr_json_float(f, v->d, 0);
        return;
    case TV_BOOL:
        fputs(v->i ? "true" : "false", f);
        return;
    case TV_BYTES:
        if (n->logical.kind == SL_LT_STRING || n->logical.kind == SL_LT_ENUM)
            tr_json_str(f, v->p, v->len);
        else
            tr_json_b64(f, v->p, v->len);
        return;
    case TV_LIST: {
        const sl_node *r = &s->nodes[n->children[0]];
        fputc('[', f);
        for (uint32_t i = 0; i < v->n; i++) {
            if (i) fputc(',', f);
            if (n->logical.kind == SL_LT_LIST) {
                tr_json(f, s, r->children[0], &v->items[i]);
            } else {
                fputs("{\"key\":", f);
                tr_json(f, s, r->children[0], &v->items[i].items[0]);
                fputs(",\"value\":", f);
                tr_json(f, s, r->children[1], &v->items[i].items[1]);
                fputc('}', f);
            }
        }
        fputc(']', f);
        return;
    }
    case TV_GROUP:
        fputc('{', f);
        for (int32_t k = 0; k < n->n_children; k++) {
            if (k) fputc(',', f);
            const char *name = s->nodes[n->children[k]].name;
            tr_json_str(f, (const uint8_t *)name, strlen(name));
            fputc(':', f);
            tr_json(f, s, n->children[k], &v->items[k]);
        }
        fputc('}', f);
        return;
    }
}

#endif
