/* pb_rec.c - the record scratch (pb_plan.h, step 1): the sl_rec_* API
 * the JSON and text decoders drive, its life cycle, and the enum and
 * per-field operation tables the hot loops use. The shredder (step 2) is
 * pb_emit.c; the wire decoder pb_wire.c works on the same layout
 * (pb_rec_int.h) through inline helpers.
 *
 * Merge rules applied as the parser goes: a scalar set twice keeps the last
 * value; a message seen twice reuses its frame (merge); setting a oneof
 * member clears the previous member (its frame, if a message, is simply
 * orphaned); repeated values and map entries append to a per-field list
 * (maps are de-duplicated at emit). The API checks its arguments (frame and
 * field in range, the call fits the field's kind) and returns
 * SL_ERR_INVALID on misuse rather than corrupting the scratch.
 *
 * Costs: a frame is a memset of its slots; an element is one item; nothing
 * is allocated per record after warm-up (arrays keep their capacity; string
 * scratch is a list of chunks that is rewound, never freed, by
 * sl_rec_begin). Bounds: SL_REC_MAX_* in pb_rec_int.h.
 *
 * Enum tables: number -> name, dense when the numbers span < 4096 (or less
 * than 4x the value count), else sorted with binary search; aliases keep
 * the first declared name, as protobuf's FindValueByNumber.
 */
#include "formats/pb/pb_rec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growth (slow paths) ---- */

static sl_err_t grow_arr(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t max)
{
    if (need <= *cap) return SL_OK;
    if (need > max) return SL_ERR_LIMIT;
    uint32_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc = nc > max / 2 ? max : nc * 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return SL_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return SL_OK;
}

sl_err_t sl_rec_grow_items(sl_rec *r)
{
    return grow_arr((void **)&r->items, &r->cap_items, r->n_items + 1, sizeof *r->items,
                    SL_REC_MAX_ITEMS);
}

/* New frame for plan message msg, all slots absent. Returns the frame or a
 * negative sl_err_t. Invalidates slot pointers (the slot array may move). */
int32_t sl_rec_frame_new(sl_rec *r, int32_t msg)
{
    uint32_t ns = r->nslots[msg];
    if (SL_UNLIKELY(r->n_frames == r->cap_frames)) {
        sl_err_t rc = grow_arr((void **)&r->frames, &r->cap_frames, r->n_frames + 1,
                               sizeof *r->frames, SL_REC_MAX_ITEMS);
        if (rc) return rc;
    }
    if (SL_UNLIKELY(r->cap_slots - r->n_slots < ns)) {
        if (r->n_slots > SL_REC_MAX_SLOTS - ns) return SL_ERR_LIMIT;
        sl_err_t rc = grow_arr((void **)&r->slots, &r->cap_slots, r->n_slots + ns, sizeof *r->slots,
                               SL_REC_MAX_SLOTS);
        if (rc) return rc;
    }
    sl_rec_frame *f = &r->frames[r->n_frames];
    f->msg = msg;
    f->base = r->n_slots;
    memset(&r->slots[r->n_slots], 0, ns * sizeof *r->slots);
    r->n_slots += ns;
    return (int32_t)r->n_frames++;
}

void sl_rec_oneof_switch(sl_rec *r, int32_t frame, int32_t oneof, int32_t field)
{
    const sl_plan_msg *m = &r->p->msgs[r->frames[frame].msg];
    sl_rec_slot *os = sl_rec_slot_of(r, frame, m->n_fields + oneof);
    if (os->h && os->h - 1 != (uint32_t)field)
        memset(sl_rec_slot_of(r, frame, (int32_t)os->h - 1), 0, sizeof(sl_rec_slot));
    os->h = (uint32_t)field + 1;
}

/* ---- enum tables ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Build the number -> name table. Aliases: the first declared name wins, as
 * protobuf's FindValueByNumber. */
static sl_err_t build_enum(sl_rec_enum *t, const sl_pb_enum *e)
{
    if (t->built) return SL_OK;
    t->built = 1;
    if (e->n_values == 0) return SL_OK;
    int64_t lo = e->values[0].number, hi = lo;
    for (int32_t i = 1; i < e->n_values; i++) {
        if (e->values[i].number < lo) lo = e->values[i].number;
        if (e->values[i].number > hi) hi = e->values[i].number;
    }
    if (hi - lo < 4096 || hi - lo < 4 * (int64_t)e->n_values) {
        t->min = (int32_t)lo;
        t->span = (uint32_t)(hi - lo + 1);
        t->dname = calloc(t->span, sizeof *t->dname);
        t->dlen = calloc(t->span, sizeof *t->dlen);
        if (!t->dname || !t->dlen) return SL_ERR_NOMEM;
        for (int32_t i = 0; i < e->n_values; i++) {
            uint32_t k = (uint32_t)e->values[i].number - (uint32_t)t->min;
            if (t->dname[k]) continue;
            t->dname[k] = e->values[i].name;
            t->dlen[k] = (uint32_t)strlen(e->values[i].name);
        }
        return SL_OK;
    }
    /* sparse: sort keys (number << 32 | declaration index), keep the first
     * of equal numbers */
    int64_t *key = malloc((size_t)e->n_values * sizeof *key);
    t->snum = malloc((size_t)e->n_values * sizeof *t->snum);
    t->sname = malloc((size_t)e->n_values * sizeof *t->sname);
    t->slen = malloc((size_t)e->n_values * sizeof *t->slen);
    if (!key || !t->snum || !t->sname || !t->slen) {
        free(key);
        return SL_ERR_NOMEM;
    }
    for (int32_t i = 0; i < e->n_values; i++)
        key[i] = (int64_t)((uint64_t)(int64_t)e->values[i].number << 32) | (int64_t)i;
    qsort(key, (size_t)e->n_values, sizeof *key, cmp_i64);
    int32_t n = 0;
    for (int32_t i = 0; i < e->n_values; i++) {
        int32_t num = (int32_t)(key[i] >> 32), first = (int32_t)(key[i] & 0xffffffff);
        if (n && t->snum[n - 1] == num) continue;
        t->snum[n] = num;
        t->sname[n] = e->values[first].name;
        t->slen[n] = (uint32_t)strlen(e->values[first].name);
        n++;
    }
    t->n = n;
    free(key);
    return SL_OK;
}

static void free_enum_table(sl_rec_enum *t)
{
    free(t->dname);
    free(t->dlen);
    free(t->snum);
    free(t->sname);
    free(t->slen);
}

/* ---- per-field operation codes ---- */

static uint8_t value_kind(uint8_t t)
{
    switch (t) {
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
        return SL_VK_I32;
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        return SL_VK_U32;
    case SL_PB_FLOAT:
        return SL_VK_F32;
    case SL_PB_DOUBLE:
        return SL_VK_F64;
    case SL_PB_BOOL:
        return SL_VK_BOOL;
    case SL_PB_STRING:
    case SL_PB_BYTES:
        return SL_VK_BYTES;
    case SL_PB_ENUM:
        return SL_VK_ENUM;
    default:
        return SL_VK_I64;
    }
}

static sl_err_t build_mops(sl_rec_mops *o, const sl_plan_msg *m)
{
    o->fop = calloc((size_t)(m->n_fields ? m->n_fields : 1), sizeof *o->fop);
    if (!o->fop) return SL_ERR_NOMEM;
    int entry = m->pm->map_entry;
    for (int32_t i = 0; i < m->n_fields; i++) {
        const sl_plan_field *f = &m->fields[i];
        sl_rec_fop *op = &o->fop[i];
        int req = f->pf->label == SL_PB_REQUIRED && !entry;
        op->wire = (uint8_t)sl_pb_wire_type(f->type);
        op->vk = value_kind(f->type);
        op->conv = f->type == SL_PB_INT32 || f->type == SL_PB_ENUM ? SL_CV_I32
                   : f->type == SL_PB_UINT32                       ? SL_CV_U32
                   : f->type == SL_PB_SINT32                       ? SL_CV_S32
                   : f->type == SL_PB_SINT64                       ? SL_CV_S64
                   : f->type == SL_PB_BOOL                         ? SL_CV_BOOL
                                                                   : SL_CV_64;
        op->utf8 = f->type == SL_PB_STRING;
        op->sub = f->child >= 0;
        op->store = f->closed_enum  ? SL_ST_CLOSED
                    : f->repeated   ? SL_ST_PUSH
                    : f->oneof >= 0 ? SL_ST_ONEOF
                                    : SL_ST_SET;
        /* fused decoder kind: only plain last-wins scalars (no oneof, no
         * closed enum, not repeated) and length-delimited sub-messages;
         * the rest keeps the general wire / conv / store codes */
        op->fast = SL_FK_OTHER;
        if (op->sub && op->wire == 2)
            op->fast = SL_FK_SUB;
        else if (op->store == SL_ST_SET && op->wire == 0 && op->conv == SL_CV_64)
            op->fast = SL_FK_VARINT64;
        else if (op->store == SL_ST_SET && op->wire == 0 && op->conv == SL_CV_I32)
            op->fast = SL_FK_VARINT32;
        else if (op->store == SL_ST_SET && op->wire == 1)
            op->fast = SL_FK_FIXED64;
        else if (op->store == SL_ST_SET && op->wire == 2)
            op->fast = op->utf8 ? SL_FK_STRING : SL_FK_BYTES;
        if (f->is_map)
            op->emit = SL_EM_MAP;
        else if (f->repeated)
            op->emit = f->child >= 0 ? SL_EM_REP_MSG : SL_EM_REP_SCALAR;
        else if (f->child >= 0)
            op->emit = req ? SL_EM_MSG_REQ : f->presence ? SL_EM_MSG_OPT : SL_EM_MSG_ALWAYS;
        else
            op->emit = req ? SL_EM_SCALAR_REQ : f->presence ? SL_EM_SCALAR_OPT : SL_EM_SCALAR;
        /* fused shredder kind for implicit-presence scalars of the common
         * value kinds (enums, uint32, float keep SL_EM_SCALAR + op->vk) */
        if (op->emit == SL_EM_SCALAR) {
            static const uint8_t fused[] = {
                [SL_VK_I32] = SL_EM_SCALAR_I32,     [SL_VK_U32] = SL_EM_SCALAR,
                [SL_VK_I64] = SL_EM_SCALAR_I64,     [SL_VK_F32] = SL_EM_SCALAR,
                [SL_VK_F64] = SL_EM_SCALAR_F64,     [SL_VK_BOOL] = SL_EM_SCALAR_BOOL,
                [SL_VK_BYTES] = SL_EM_SCALAR_BYTES, [SL_VK_ENUM] = SL_EM_SCALAR,
            };
            op->emit = fused[op->vk];
        }
    }
    /* whole-tag table for numbers below 512 with the expected wire type */
    uint32_t nb = (uint32_t)(m->n_by_number < 512 ? m->n_by_number : 512);
    o->n_tag = nb * 8;
    o->tag = calloc(o->n_tag ? o->n_tag : 1, sizeof *o->tag);
    if (!o->tag) return SL_ERR_NOMEM;
    for (int32_t i = 0; i < m->n_fields && m->n_fields < 65535; i++) {
        uint32_t num = (uint32_t)m->fields[i].pf->number;
        if (num < nb) o->tag[num * 8 + o->fop[i].wire] = (uint16_t)(i + 1);
    }
    return SL_OK;
}

/* ---- life cycle ---- */

sl_err_t sl_rec_new(sl_rec **out, const sl_plan *p)
{
    sl_rec *r = calloc(1, sizeof *r);
    sl_err_t rc = SL_ERR_NOMEM;
    *out = NULL;
    if (!r) return SL_ERR_NOMEM;
    r->p = p;
    r->nslots = malloc((size_t)(p->n_msgs ? p->n_msgs : 1) * sizeof *r->nslots);
    r->enums = calloc((size_t)(p->pool->n_enums ? p->pool->n_enums : 1), sizeof *r->enums);
    r->mops = calloc((size_t)(p->n_msgs ? p->n_msgs : 1), sizeof *r->mops);
    if (!r->nslots || !r->enums || !r->mops) goto fail;
    for (int32_t i = 0; i < p->n_msgs; i++) {
        const sl_plan_msg *m = &p->msgs[i];
        r->nslots[i] = (uint32_t)(m->n_fields + m->pm->n_oneofs);
        if ((rc = build_mops(&r->mops[i], m))) goto fail;
        for (int32_t k = 0; k < m->n_fields; k++)
            if (m->fields[k].enm &&
                (rc = build_enum(&r->enums[m->fields[k].enm - p->pool->enums], m->fields[k].enm)))
                goto fail;
    }
    if ((rc = sl_shred_init(r))) goto fail;
    rc = SL_ERR_NOMEM;
    if (grow_arr((void **)&r->frames, &r->cap_frames, 16, sizeof *r->frames, SL_REC_MAX_ITEMS) ||
        grow_arr((void **)&r->slots, &r->cap_slots, r->nslots[0] + 64, sizeof *r->slots,
                 SL_REC_MAX_SLOTS) ||
        grow_arr((void **)&r->items, &r->cap_items, 64, sizeof *r->items, SL_REC_MAX_ITEMS))
        goto fail;
    size_t nl = (size_t)(p->schema.n_leaves ? p->schema.n_leaves : 1);
    r->lv = malloc(nl * sizeof *r->lv);
    r->lv_n = malloc(nl * sizeof *r->lv_n);
    if (!r->lv || !r->lv_n) goto fail;
    for (int32_t i = 0; i < p->schema.n_leaves; i++) {
        const sl_node *n = sl_schema_leaf(&p->schema, i);
        if (n->max_rep) r->lv[r->n_lv++] = i;
    }
    sl_rec_begin(r);
    *out = r;
    return SL_OK;
fail:
    sl_rec_free(r);
    return rc;
}

const sl_plan *sl_rec_plan(const sl_rec *r)
{
    return r->p;
}

void sl_rec_free(sl_rec *r)
{
    if (!r) return;
    if (r->enums)
        for (int32_t i = 0; i < r->p->pool->n_enums; i++)
            free_enum_table(&r->enums[i]);
    for (int32_t i = 0; r->mops && i < r->p->n_msgs; i++) {
        free(r->mops[i].fop);
        free(r->mops[i].tag);
        sl_shred_free(&r->mops[i]);
    }
    free(r->mops);
    for (int32_t i = 0; i < r->n_chunks; i++)
        free(r->chunks[i].p);
    free(r->chunks);
    free(r->enums);
    free(r->nslots);
    free(r->frames);
    free(r->slots);
    free(r->items);
    free(r->m_ent);
    free(r->m_win);
    free(r->m_tab);
    free(r->m_keep);
    free(r->lv);
    free(r->lv_n);
    free(r);
}

int32_t sl_rec_begin(sl_rec *r)
{
    r->n_frames = r->n_slots = r->n_items = 0;
    for (int32_t i = 0; i <= r->cur_chunk && i < r->n_chunks; i++)
        r->chunks[i].used = 0;
    r->cur_chunk = 0;
    r->scratch_used = 0;
    return sl_rec_frame_new(r, 0); /* capacity reserved by sl_rec_new: cannot fail */
}

uint8_t *sl_rec_scratch(sl_rec *r, size_t n)
{
    if (n > SL_REC_MAX_SCRATCH || r->scratch_used > SL_REC_MAX_SCRATCH - n) return NULL;
    n = (n + 7) & ~(size_t)7;
    while (r->cur_chunk < r->n_chunks) {
        sl_rec_chunk *c = &r->chunks[r->cur_chunk];
        if (c->cap - c->used >= n) {
            uint8_t *q = c->p + c->used;
            c->used += n;
            r->scratch_used += n;
            return q;
        }
        if (r->cur_chunk + 1 == r->n_chunks) break;
        r->chunks[++r->cur_chunk].used = 0;
    }
    /* a new chunk, at least twice the last one */
    size_t cap = r->n_chunks ? r->chunks[r->n_chunks - 1].cap * 2 : 4096;
    if (cap < n) cap = n;
    if (r->n_chunks >= 40) return NULL;
    sl_rec_chunk *nc = realloc(r->chunks, (size_t)(r->n_chunks + 1) * sizeof *nc);
    if (!nc) return NULL;
    r->chunks = nc;
    uint8_t *p = malloc(cap);
    if (!p) return NULL;
    r->chunks[r->n_chunks] = (sl_rec_chunk){p, cap, n};
    r->cur_chunk = r->n_chunks++;
    r->scratch_used += n;
    return p;
}

/* ---- building (the parsers' API) ---- */

static int bad_args(const sl_rec *r, int32_t frame, int32_t field)
{
    return frame < 0 || (uint32_t)frame >= r->n_frames || field < 0 ||
           field >= r->p->msgs[r->frames[frame].msg].n_fields;
}

static const sl_plan_field *field_of(const sl_rec *r, int32_t frame, int32_t field)
{
    return &r->p->msgs[r->frames[frame].msg].fields[field];
}

sl_err_t sl_rec_set(sl_rec *r, int32_t frame, int32_t field, sl_val v)
{
    if (bad_args(r, frame, field)) return SL_ERR_INVALID;
    const sl_plan_field *f = field_of(r, frame, field);
    if (f->repeated || f->child >= 0) return SL_ERR_INVALID;
    if (f->oneof >= 0) sl_rec_oneof_switch(r, frame, f->oneof, field);
    sl_rec_slot *s = sl_rec_slot_of(r, frame, field);
    s->v = v;
    s->h = 1;
    return SL_OK;
}

sl_err_t sl_rec_add(sl_rec *r, int32_t frame, int32_t field, sl_val v)
{
    if (bad_args(r, frame, field)) return SL_ERR_INVALID;
    const sl_plan_field *f = field_of(r, frame, field);
    if (!f->repeated || f->child >= 0) return SL_ERR_INVALID;
    return sl_rec_push(r, frame, field, v);
}

int32_t sl_rec_sub(sl_rec *r, int32_t frame, int32_t field)
{
    if (bad_args(r, frame, field)) return SL_ERR_INVALID;
    const sl_plan_field *f = field_of(r, frame, field);
    if (f->repeated || f->child < 0) return SL_ERR_INVALID;
    return sl_rec_sub_fast(r, frame, field, f->child, f->oneof);
}

int32_t sl_rec_add_sub(sl_rec *r, int32_t frame, int32_t field)
{
    if (bad_args(r, frame, field)) return SL_ERR_INVALID;
    const sl_plan_field *f = field_of(r, frame, field);
    if (!f->repeated || f->child < 0) return SL_ERR_INVALID;
    return sl_rec_add_sub_fast(r, frame, field, f->child);
}

void sl_rec_clear(sl_rec *r, int32_t frame, int32_t field)
{
    if (bad_args(r, frame, field)) return;
    const sl_plan_field *f = field_of(r, frame, field);
    memset(sl_rec_slot_of(r, frame, field), 0, sizeof(sl_rec_slot));
    if (f->oneof >= 0) {
        const sl_plan_msg *m = &r->p->msgs[r->frames[frame].msg];
        sl_rec_slot *os = sl_rec_slot_of(r, frame, m->n_fields + f->oneof);
        if (os->h == (uint32_t)field + 1) os->h = 0;
    }
}

/* ---- map de-duplication (pb_rec_int.h) ---- */

/* The key of entry frame fr (the default when the entry has none). */
static sl_val map_key(const sl_rec *r, const sl_plan_msg *em, int32_t kf, uint32_t fr)
{
    const sl_rec_slot *s = &r->slots[r->frames[fr].base + (uint32_t)kf];
    return s->h ? s->v : em->fields[kf].dflt;
}

/* A scalar key as the 64 bits that identify it (32-bit types by their low
 * half, bool as 0/1). */
static uint64_t map_key_bits(uint8_t type, sl_val k)
{
    switch (type) {
    case SL_PB_BOOL:
        return k.u != 0;
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        return (uint32_t)k.u;
    default:
        return k.u;
    }
}

static int map_key_eq(uint8_t type, sl_val a, sl_val b)
{
    if (type == SL_PB_STRING)
        return a.s.len == b.s.len && (a.s.len == 0 || !memcmp(a.s.p, b.s.p, a.s.len));
    return map_key_bits(type, a) == map_key_bits(type, b);
}

static uint64_t map_key_hash(uint8_t type, sl_val k)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a for strings */
    if (type == SL_PB_STRING) {
        for (uint32_t i = 0; i < k.s.len; i++)
            h = (h ^ k.s.p[i]) * 1099511628211ULL;
        return h;
    }
    h = map_key_bits(type, k) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

sl_err_t sl_rec_map_begin(sl_rec *r, const sl_plan_msg *em, const sl_rec_slot *s, sl_rec_map *m)
{
    int32_t kf = em->by_number[1];
    uint8_t kt = em->fields[kf].type;
    size_t n = (size_t)s->v.u, i = 0;
    m->base = r->m_top;
    m->heap = n > 16;
    uint32_t *ent = m->ent16, *win = m->win16;
    uint8_t *keep = m->keep16;
    if (m->heap) {
        size_t need = m->base + n;
        if (need > r->m_cap) {
            size_t cap = need * 2;
            uint32_t *a = realloc(r->m_ent, cap * sizeof *a);
            if (a) r->m_ent = a;
            uint32_t *b = realloc(r->m_win, cap * sizeof *b);
            if (b) r->m_win = b;
            uint8_t *k = realloc(r->m_keep, cap);
            if (k) r->m_keep = k;
            if (!a || !b || !k) return SL_ERR_NOMEM;
            r->m_cap = cap;
        }
        ent = r->m_ent + m->base;
        win = r->m_win + m->base;
        keep = r->m_keep + m->base;
    }
    for (uint32_t it = s->h; it && i < n; it = r->items[it - 1].next, i++) {
        ent[i] = win[i] = (uint32_t)r->items[it - 1].v.u;
        keep[i] = 1;
    }
    m->n = n = i;
    if (!m->heap) {
        for (i = 1; i < n; i++) {
            sl_val ki = map_key(r, em, kf, ent[i]);
            for (size_t j = 0; j < i; j++)
                if (keep[j] && map_key_eq(kt, map_key(r, em, kf, ent[j]), ki)) {
                    win[j] = ent[i];
                    keep[i] = 0;
                    break;
                }
        }
        return SL_OK;
    }
    size_t tc = 32;
    while (tc < 2 * n)
        tc *= 2;
    if (tc > r->m_tab_cap) {
        uint32_t *t = realloc(r->m_tab, tc * sizeof *t);
        if (!t) return SL_ERR_NOMEM;
        r->m_tab = t;
        r->m_tab_cap = tc;
    }
    uint32_t *tab = r->m_tab;
    memset(tab, 0, tc * sizeof *tab);
    for (i = 0; i < n; i++) {
        sl_val ki = map_key(r, em, kf, ent[i]);
        size_t h = (size_t)map_key_hash(kt, ki) & (tc - 1);
        for (;;) {
            if (!tab[h]) {
                tab[h] = (uint32_t)i + 1;
                break;
            }
            size_t j = tab[h] - 1;
            if (map_key_eq(kt, map_key(r, em, kf, ent[j]), ki)) {
                win[j] = ent[i];
                keep[i] = 0;
                break;
            }
            h = (h + 1) & (tc - 1);
        }
    }
    r->m_top = m->base + n; /* a map inside a value takes the next run */
    return SL_OK;
}
