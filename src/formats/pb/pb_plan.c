/* pb_plan.c - compile a protobuf message type into a decode plan and its
 * columnar schema (DESIGN.md "Formats"; the mapping below is the contract
 * other parts and the tests rely on).
 *
 *   proto3 implicit-presence scalar   REQUIRED leaf, default when absent
 *   optional / proto2 optional / oneof OPTIONAL leaf, null when absent
 *   proto2 required                    REQUIRED leaf (absent: bad record)
 *   message / group                    OPTIONAL group (REQUIRED if required)
 *   repeated T                         REQUIRED group NAME (LIST)
 *                                        { REPEATED group list { REQUIRED T element } }
 *   map<K,V>                           REQUIRED group NAME (MAP)
 *                                        { REPEATED group key_value { REQUIRED K key;
 *                                          V value } }  V: REQUIRED scalar/enum,
 *                                          OPTIONAL group for messages (always present)
 *   int32/sint32/sfixed32 -> INT32, int64/sint64/sfixed64 -> INT64,
 *   uint32/fixed32 -> INT64, uint64/fixed64 -> INT64 + INTEGER(64,unsigned),
 *   float/double/bool -> FLOAT/DOUBLE/BOOLEAN, string -> BYTE_ARRAY STRING,
 *   bytes -> BYTE_ARRAY, enum -> BYTE_ARRAY STRING (value name).
 *
 * The compiler walks the message tree depth-first, adding schema nodes in
 * pre-order and one plan message per position of a message type. Plan
 * members that depend on levels and leaf numbers (def, rep, leaf ranges) are
 * filled after sl_schema_finish, from the schema nodes.
 *
 * Bounds: recursion (a type reachable from itself) is rejected naming the
 * cycle; the tree may not be deeper than SL_MAX_LEVEL nor hold more than
 * SL_PLAN_MAX_NODES nodes (a non-recursive schema can still be exponential:
 * A has two B fields, B two C fields, ...). Compile cost is linear in the
 * resulting schema, plus O(f log f) per message for the number index.
 *
 * Not done: field projection (every field becomes a column); the
 * uint32 -> INT32 + UINT_32 alternative of DESIGN.md (we chose INT64, which
 * every reader handles without unsigned support); fields of a message type
 * with no fields (google.protobuf.Empty): Parquet has no empty group, so
 * sl_schema_finish rejects the plan - dropping such fields is the likely
 * fix when a real schema needs it.
 */
#include "formats/pb/pb_plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_PLAN_MAX_NODES (1 << 20)
#define SL_PLAN_DENSE_MAX 4096 /* field numbers below this get an O(1) table */

typedef struct pctx {
    sl_plan *p;
    const sl_pb_pool *pool;
    sl_error *err;
    int32_t cap_msgs;
    int depth;
    int32_t stack_msg[SL_MAX_LEVEL + 2];   /* pool message on the path */
    int32_t stack_field[SL_MAX_LEVEL + 2]; /* its field being expanded */
} pctx;

static sl_err_t nomem(pctx *c)
{
    return sl_error_set(c->err, SL_ERR_NOMEM, "plan: out of memory");
}

static sl_logical lt(uint8_t kind)
{
    sl_logical l = {0, 0, 0, 0, 0};
    l.kind = kind;
    return l;
}

static sl_ptype_t leaf_type(uint8_t t, sl_logical *l)
{
    *l = lt(SL_LT_NONE);
    switch (t) {
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
        return SL_PT_INT32;
    case SL_PB_UINT64:
    case SL_PB_FIXED64:
        l->kind = SL_LT_INT;
        l->bit_width = 64;
        l->is_signed = 0;
        return SL_PT_INT64;
    case SL_PB_INT64:
    case SL_PB_SINT64:
    case SL_PB_SFIXED64:
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        return SL_PT_INT64;
    case SL_PB_FLOAT:
        return SL_PT_FLOAT;
    case SL_PB_DOUBLE:
        return SL_PT_DOUBLE;
    case SL_PB_BOOL:
        return SL_PT_BOOLEAN;
    case SL_PB_STRING:
    case SL_PB_ENUM:
        *l = lt(SL_LT_STRING);
        return SL_PT_BYTE_ARRAY;
    default:
        return SL_PT_BYTE_ARRAY; /* BYTES */
    }
}

/* ---- defaults ---- */

/* protoc's CEscape'd bytes default back to bytes (\n \t \" \\ \ooo \xHH). */
static uint8_t *unescape(const char *s, uint32_t *out_len)
{
    size_t n = strlen(s);
    uint8_t *d = malloc(n + 1), *q = d;
    if (!d) return NULL;
    while (*s) {
        if (*s != '\\' || !s[1]) {
            *q++ = (uint8_t)*s++;
            continue;
        }
        s++;
        char c = *s++;
        switch (c) {
        case 'n':
            *q++ = '\n';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 't':
            *q++ = '\t';
            break;
        case 'a':
            *q++ = '\a';
            break;
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'v':
            *q++ = '\v';
            break;
        case 'x': {
            unsigned v = 0;
            for (int k = 0;
                 k < 2 && ((*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'f'));
                 k++, s++)
                v = v * 16 + (unsigned)(*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
            *q++ = (uint8_t)v;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0');
                for (int k = 0; k < 2 && *s >= '0' && *s <= '7'; k++, s++)
                    v = v * 8 + (unsigned)(*s - '0');
                *q++ = (uint8_t)v;
            } else {
                *q++ = (uint8_t)c; /* \" \' \\ \? */
            }
        }
    }
    *out_len = (uint32_t)(q - d);
    return d;
}

static int parse_int(const char *s, int is_unsigned, int64_t lo, uint64_t hi, sl_val *v)
{
    char *end;
    errno = 0;
    if (is_unsigned) {
        if (*s == '-') return -1;
        unsigned long long x = strtoull(s, &end, 0);
        if (errno || *end || end == s || x > hi) return -1;
        v->u = x;
    } else {
        long long x = strtoll(s, &end, 0);
        if (errno || *end || end == s || x < lo || (x > 0 && (uint64_t)x > hi)) return -1;
        v->i = x;
    }
    return 0;
}

static int parse_float(const char *s, double *d)
{
    char *end;
    if (!strcmp(s, "inf"))
        *d = INFINITY;
    else if (!strcmp(s, "-inf"))
        *d = -INFINITY;
    else if (!strcmp(s, "nan"))
        *d = NAN;
    else {
        errno = 0;
        *d = strtod(s, &end);
        if (*end || end == s) return -1;
    }
    return 0;
}

/* The value emitted for an absent field without presence: the type's zero,
 * the first enum value, or a proto2 [default = ...]. */
static sl_err_t set_default(pctx *c, sl_plan_field *f, const char *owner)
{
    const sl_pb_field *pf = f->pf;
    const char *dv = pf->default_value;
    int bad = 0;
    memset(&f->dflt, 0, sizeof f->dflt);
    if (pf->type == SL_PB_STRING || pf->type == SL_PB_BYTES) f->dflt.s.p = (const uint8_t *)"";
    if (pf->type == SL_PB_ENUM) {
        if (!f->enm || f->enm->n_values == 0)
            return sl_error_set(c->err, SL_ERR_SCHEMA, "plan: %s.%s: enum %s has no values", owner,
                                pf->name, f->enm ? f->enm->full_name : "?");
        f->dflt.i = f->enm->values[0].number;
        if (dv) {
            int32_t num;
            bad = sl_plan_enum_by_name(f->enm, dv, strlen(dv), &num);
            if (!bad) f->dflt.i = num;
        }
    } else if (dv) {
        double d = 0;
        switch (pf->type) {
        case SL_PB_INT32:
        case SL_PB_SINT32:
        case SL_PB_SFIXED32:
            bad = parse_int(dv, 0, INT32_MIN, INT32_MAX, &f->dflt);
            break;
        case SL_PB_INT64:
        case SL_PB_SINT64:
        case SL_PB_SFIXED64:
            bad = parse_int(dv, 0, INT64_MIN, INT64_MAX, &f->dflt);
            break;
        case SL_PB_UINT32:
        case SL_PB_FIXED32:
            bad = parse_int(dv, 1, 0, UINT32_MAX, &f->dflt);
            break;
        case SL_PB_UINT64:
        case SL_PB_FIXED64:
            bad = parse_int(dv, 1, 0, UINT64_MAX, &f->dflt);
            break;
        case SL_PB_FLOAT:
            bad = parse_float(dv, &d), f->dflt.f = (float)d;
            break;
        case SL_PB_DOUBLE:
            bad = parse_float(dv, &d), f->dflt.d = d;
            break;
        case SL_PB_BOOL:
            bad = strcmp(dv, "true") && strcmp(dv, "false");
            f->dflt.u = !strcmp(dv, "true");
            break;
        case SL_PB_STRING:
            f->dflt.s.p = (const uint8_t *)dv;
            f->dflt.s.len = (uint32_t)strlen(dv);
            break;
        case SL_PB_BYTES:
            if (!(f->dflt.s.p = unescape(dv, &f->dflt.s.len))) return nomem(c);
            f->owns_dflt = 1;
            break;
        default:
            break;
        }
    }
    if (bad)
        return sl_error_set(c->err, SL_ERR_SCHEMA,
                            "plan: %s.%s: cannot parse default value \"%.60s\"", owner, pf->name,
                            dv);
    return SL_OK;
}

/* ---- the tree walk ---- */

static int32_t compile_msg(pctx *c, int32_t pool_msg, int32_t node, int entry);

static int32_t add_node(pctx *c, int32_t parent, const char *name, sl_repetition_t rep,
                        int is_group, sl_ptype_t pt, sl_logical l, int32_t field_id)
{
    if (c->p->schema.n_nodes >= SL_PLAN_MAX_NODES) {
        sl_error_set(c->err, SL_ERR_LIMIT,
                     "plan: message %s expands to more than %d schema nodes; project fewer "
                     "fields or split the message",
                     c->pool->msgs[c->stack_msg[0]].full_name, SL_PLAN_MAX_NODES);
        return SL_ERR_LIMIT;
    }
    int32_t n = sl_schema_add(&c->p->schema, parent, name, rep, is_group, pt, l, field_id);
    if (n < 0) sl_error_set(c->err, (sl_err_t)n, "plan: cannot add schema node %s", name);
    return n;
}

/* "a.A.b -> a.B.c -> a.A" for the cycle closing at pool message m. */
static sl_err_t cycle_error(pctx *c, int32_t m)
{
    char buf[SL_ERRMSG_MAX];
    size_t len = 0;
    int j = c->depth - 1;
    while (j > 0 && c->stack_msg[j] != m)
        j--;
    buf[0] = '\0';
    for (int k = j; k < c->depth && len < sizeof buf; k++) {
        const sl_pb_msg *pm = &c->pool->msgs[c->stack_msg[k]];
        int w = snprintf(buf + len, sizeof buf - len, "%s.%s -> ", pm->full_name,
                         pm->fields[c->stack_field[k]].name);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (len < sizeof buf) snprintf(buf + len, sizeof buf - len, "%s", c->pool->msgs[m].full_name);
    return sl_error_set(c->err, SL_ERR_SCHEMA,
                        "plan: recursive message type %s cannot map to a Parquet schema; "
                        "break the cycle or exclude the field",
                        buf);
}

static int32_t compile_field(pctx *c, int32_t pmi, int32_t fi, int32_t parent, int entry)
{
    const sl_pb_msg *pm = c->p->msgs[pmi].pm;
    const sl_pb_field *pf = &pm->fields[fi];
    sl_plan_field *f = &c->p->msgs[pmi].fields[fi];
    const sl_pb_msg *sub = pf->msg >= 0 ? &c->pool->msgs[pf->msg] : NULL;
    int is_msg = pf->type == SL_PB_MESSAGE || pf->type == SL_PB_GROUP;
    sl_logical l;
    int32_t n, el, child = -1;

    f->pf = pf;
    f->type = pf->type;
    f->repeated = pf->label == SL_PB_REPEATED;
    f->is_map = f->repeated && pf->type == SL_PB_MESSAGE && sub && sub->map_entry;
    f->presence = !entry && pf->has_presence && pf->label != SL_PB_REQUIRED && !f->repeated;
    f->enm = pf->enm >= 0 ? &c->pool->enums[pf->enm] : NULL;
    f->closed_enum = f->enm ? f->enm->closed : 0;
    f->oneof = entry ? -1 : pf->oneof_index;
    f->child = -1;
    f->leaf = -1;
    if (is_msg && !sub)
        return sl_error_set(c->err, SL_ERR_SCHEMA, "plan: %s.%s: unresolved type", pm->full_name,
                            pf->name);
    if (!is_msg) {
        sl_err_t rc = set_default(c, f, pm->full_name);
        if (rc) return rc;
    }
    if (is_msg) {
        for (int k = 0; k < c->depth; k++)
            if (c->stack_msg[k] == pf->msg) return cycle_error(c, pf->msg);
    }
    if (!f->repeated) {
        sl_repetition_t rep = (f->presence || (entry && is_msg)) ? SL_OPTIONAL : SL_REQUIRED;
        if (!is_msg) {
            sl_ptype_t pt = leaf_type(pf->type, &l);
            return (n = add_node(c, parent, pf->name, rep, 0, pt, l, pf->number)) < 0
                       ? n
                       : (f->node = n, 0);
        }
        if ((n = add_node(c, parent, pf->name, rep, 1, 0, lt(SL_LT_NONE), pf->number)) < 0)
            return n;
        f->node = n;
        if ((child = compile_msg(c, pf->msg, n, 0)) < 0) return child;
        c->p->msgs[pmi].fields[fi].child = child; /* msgs may have moved */
        return SL_OK;
    }
    if (f->is_map) {
        if ((n = add_node(c, parent, pf->name, SL_REQUIRED, 1, 0, lt(SL_LT_MAP), pf->number)) < 0)
            return n;
        f->node = n;
        if ((el = add_node(c, n, "key_value", SL_REPEATED, 1, 0, lt(SL_LT_NONE), -1)) < 0)
            return el;
        if ((child = compile_msg(c, pf->msg, el, 1)) < 0) return child;
        c->p->msgs[pmi].fields[fi].child = child;
        return SL_OK;
    }
    if ((n = add_node(c, parent, pf->name, SL_REQUIRED, 1, 0, lt(SL_LT_LIST), pf->number)) < 0)
        return n;
    f->node = n;
    if ((el = add_node(c, n, "list", SL_REPEATED, 1, 0, lt(SL_LT_NONE), -1)) < 0) return el;
    if (!is_msg) {
        sl_ptype_t pt = leaf_type(pf->type, &l);
        return (n = add_node(c, el, "element", SL_REQUIRED, 0, pt, l, -1)) < 0 ? n : SL_OK;
    }
    if ((n = add_node(c, el, "element", SL_REQUIRED, 1, 0, lt(SL_LT_NONE), -1)) < 0) return n;
    if ((child = compile_msg(c, pf->msg, n, 0)) < 0) return child;
    c->p->msgs[pmi].fields[fi].child = child;
    return SL_OK;
}

typedef struct num_idx {
    int32_t number, idx;
} num_idx;

static int cmp_num_idx(const void *a, const void *b)
{
    int32_t x = ((const num_idx *)a)->number, y = ((const num_idx *)b)->number;
    return (x > y) - (x < y);
}

/* Number index: dense table for small numbers, sorted array for all. */
static sl_err_t index_numbers(pctx *c, sl_plan_msg *m)
{
    int32_t maxn = 0;
    size_t nf = (size_t)(m->n_fields ? m->n_fields : 1);
    num_idx *t = malloc(nf * sizeof *t);
    m->sorted = malloc(nf * sizeof *m->sorted);
    if (!t || !m->sorted) {
        free(t);
        return nomem(c);
    }
    for (int32_t i = 0; i < m->n_fields; i++) {
        t[i] = (num_idx){m->fields[i].pf->number, i};
        if (t[i].number > maxn) maxn = t[i].number;
    }
    qsort(t, (size_t)m->n_fields, sizeof *t, cmp_num_idx);
    for (int32_t i = 0; i < m->n_fields; i++)
        m->sorted[i] = t[i].idx;
    free(t);
    for (int32_t i = 1; i < m->n_fields; i++) {
        const sl_pb_field *a = m->fields[m->sorted[i - 1]].pf, *b = m->fields[m->sorted[i]].pf;
        if (a->number == b->number)
            return sl_error_set(c->err, SL_ERR_SCHEMA, "plan: %s: fields %s and %s share number %d",
                                m->pm->full_name, a->name, b->name, a->number);
    }
    m->n_by_number = maxn < SL_PLAN_DENSE_MAX ? maxn + 1 : SL_PLAN_DENSE_MAX;
    m->by_number = malloc((size_t)m->n_by_number * sizeof *m->by_number);
    if (!m->by_number) return nomem(c);
    for (int32_t i = 0; i < m->n_by_number; i++)
        m->by_number[i] = -1;
    for (int32_t i = 0; i < m->n_fields; i++)
        if (m->fields[i].pf->number < m->n_by_number) m->by_number[m->fields[i].pf->number] = i;
    return SL_OK;
}

/* Compile pool message pool_msg at schema node `node`; returns its plan
 * message index or a negative sl_err_t. entry: a map entry (key, value). */
static int32_t compile_msg(pctx *c, int32_t pool_msg, int32_t node, int entry)
{
    sl_plan *p = c->p;
    const sl_pb_msg *pm = &c->pool->msgs[pool_msg];
    sl_err_t rc;
    if (c->depth >= SL_MAX_LEVEL)
        return sl_error_set(c->err, SL_ERR_SCHEMA, "plan: %s is nested deeper than %d levels",
                            pm->full_name, SL_MAX_LEVEL);
    if (p->n_msgs == c->cap_msgs) {
        int32_t nc = c->cap_msgs ? c->cap_msgs * 2 : 8;
        sl_plan_msg *nm = realloc(p->msgs, (size_t)nc * sizeof *nm);
        if (!nm) return nomem(c);
        p->msgs = nm;
        c->cap_msgs = nc;
    }
    int32_t mi = p->n_msgs++;
    sl_plan_msg *m = &p->msgs[mi];
    memset(m, 0, sizeof *m);
    m->pm = pm;
    m->node = node;
    m->fields = calloc((size_t)(pm->n_fields ? pm->n_fields : 1), sizeof *m->fields);
    if (!m->fields) return nomem(c);
    m->n_fields = pm->n_fields;
    if (entry) {
        int has_key = 0, has_val = 0;
        for (int32_t i = 0; i < pm->n_fields; i++) {
            const sl_pb_field *kf = &pm->fields[i];
            has_key |= kf->number == 1;
            has_val |= kf->number == 2;
            if (kf->number == 1 &&
                (kf->type == SL_PB_FLOAT || kf->type == SL_PB_DOUBLE || kf->type == SL_PB_BYTES ||
                 kf->type == SL_PB_MESSAGE || kf->type == SL_PB_GROUP || kf->type == SL_PB_ENUM))
                return sl_error_set(c->err, SL_ERR_SCHEMA,
                                    "plan: map entry %s: key type %d is not allowed", pm->full_name,
                                    kf->type);
        }
        if (!has_key || !has_val || pm->n_fields != 2)
            return sl_error_set(c->err, SL_ERR_SCHEMA,
                                "plan: map entry %s must have exactly a key (1) and a value (2)",
                                pm->full_name);
    }
    c->stack_msg[c->depth] = pool_msg;
    c->depth++;
    for (int32_t i = 0; i < pm->n_fields; i++) {
        c->stack_field[c->depth - 1] = i;
        if ((rc = compile_field(c, mi, i, node, entry)) < 0) return rc;
    }
    c->depth--;
    if ((rc = index_numbers(c, &p->msgs[mi]))) return rc;
    return mi;
}

/* Levels and leaf ranges, from the finished schema. */
static void fill_levels(sl_plan *p)
{
    const sl_node *nodes = p->schema.nodes;
    for (int32_t i = 0; i < p->n_msgs; i++) {
        sl_plan_msg *m = &p->msgs[i];
        m->def = nodes[m->node].max_def;
        for (int32_t k = 0; k < m->n_fields; k++) {
            sl_plan_field *f = &m->fields[k];
            const sl_node *n = &nodes[f->node];
            f->def = n->max_def;
            f->first_leaf = n->first_leaf;
            f->n_leaves = n->n_leaves;
            f->rep = f->repeated ? (int16_t)(n->max_rep + 1) : 0;
            if (f->child < 0) f->leaf = f->repeated ? nodes[f->node + 2].leaf : n->leaf;
        }
    }
}

sl_err_t sl_plan_compile(sl_plan *p, const sl_pb_pool *pool, const char *msg_name, sl_error *err)
{
    pctx c;
    sl_err_t rc;
    memset(p, 0, sizeof *p);
    memset(&c, 0, sizeof c);
    c.p = p;
    c.pool = pool;
    c.err = err;
    p->pool = pool;
    p->max_depth = 100;
    int32_t root = sl_pb_pool_find_msg(pool, msg_name);
    if (root < 0) {
        rc = sl_error_set(err, SL_ERR_NOTFOUND,
                          "plan: message %s not found in the schema (use the full name with "
                          "package, e.g. bench.PlayEvent)",
                          msg_name ? msg_name : "(null)");
        goto fail;
    }
    if ((rc = sl_schema_init(&p->schema, "schema"))) {
        rc = nomem(&c);
        goto fail;
    }
    if (!(p->schema.message_name = strdup(pool->msgs[root].full_name))) {
        rc = nomem(&c);
        goto fail;
    }
    int32_t r = compile_msg(&c, root, 0, 0);
    if (r < 0) {
        rc = (sl_err_t)r;
        goto fail;
    }
    if ((rc = sl_schema_finish(&p->schema, err))) goto fail;
    fill_levels(p);
    return SL_OK;
fail:
    sl_plan_free(p);
    return rc;
}

void sl_plan_free(sl_plan *p)
{
    if (!p) return;
    for (int32_t i = 0; p->msgs && i < p->n_msgs; i++) {
        sl_plan_msg *m = &p->msgs[i];
        for (int32_t k = 0; m->fields && k < m->n_fields; k++)
            if (m->fields[k].owns_dflt) free((void *)m->fields[k].dflt.s.p);
        free(m->fields);
        free(m->by_number);
        free(m->sorted);
    }
    free(p->msgs);
    sl_schema_free(&p->schema);
    memset(p, 0, sizeof *p);
}

int32_t sl_plan_field_by_number(const sl_plan *p, int32_t m, uint32_t number)
{
    const sl_plan_msg *pm = &p->msgs[m];
    if (number < (uint32_t)pm->n_by_number) return pm->by_number[number];
    int32_t lo = 0, hi = pm->n_fields - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        uint32_t x = (uint32_t)pm->fields[pm->sorted[mid]].pf->number;
        if (x == number) return pm->sorted[mid];
        if (x < number)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* s[0..len) is untrusted input and may hold NUL bytes: compare lengths
 * first, then bytes, so a short stored name is never read past its end. */
static int name_eq(const char *a, const char *s, size_t len)
{
    return a && strlen(a) == len && !memcmp(a, s, len);
}

int32_t sl_plan_field_by_name(const sl_plan *p, int32_t m, const char *name, size_t len)
{
    const sl_plan_msg *pm = &p->msgs[m];
    for (int32_t i = 0; i < pm->n_fields; i++)
        if (name_eq(pm->fields[i].pf->name, name, len)) return i;
    for (int32_t i = 0; i < pm->n_fields; i++)
        if (name_eq(pm->fields[i].pf->json_name, name, len)) return i;
    return -1;
}

int sl_plan_enum_by_name(const sl_pb_enum *e, const char *name, size_t len, int32_t *number)
{
    for (int32_t i = 0; i < e->n_values; i++) {
        if (name_eq(e->values[i].name, name, len)) {
            *number = e->values[i].number;
            return 0;
        }
    }
    return -1;
}
