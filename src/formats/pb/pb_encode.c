/* pb_encode.c - sl_pb_encode: a record scratch (pb_rec_int.h) back to
 * protobuf wire bytes, canonical as pb_encode.h describes.
 *
 * The walk follows the plan: per frame, the fields in number order (the
 * plan's `sorted` index), each slot read directly, so a field costs one
 * load of its slot and, when present, one switch on its type (conversion,
 * default test and wire type together) and a few stores into `out`. Every
 * scalar reserves its worst case (tag + 10-byte varint) once and is then
 * written through a raw pointer: one capacity check per field. Measured on
 * the reference PlayEvent (~200 bytes out): ~170-220 ns/record on a busy
 * shared machine (-O2), about what parsing it costs.
 *
 * Length prefixes (nested messages, map entries, packed runs): one byte is
 * reserved before the body is written; when the body turns out to be 128
 * bytes or more, it is moved up by the extra bytes the varint needs. This
 * beats a size pre-pass for the workloads we carry (PlayEvent's nested
 * messages are well under 128 bytes, so no move at all, and no second walk
 * of the record) and needs no memory of its own. Its worst case, a large
 * value under many large enclosing messages, moves those bytes once per
 * enclosing message: bounded by the schema's depth (plans are never
 * recursive), and a memmove runs at memory speed. A size pre-pass with a
 * per-frame size table would make that linear; not needed yet.
 *
 * Invariants relied on (the sl_rec API and the wire decoder keep them):
 * at most one member of a oneof is set (setting one clears the others);
 * message frames form a tree (a child frame is created fresh, never
 * shared), so the recursion ends; its depth is still bounded here, as a
 * defence, by SL_PB_ENC_MAX_DEPTH.
 *
 * Maps are de-duplicated here (the record keeps every entry; emit
 * de-duplicates the same way): writing duplicates would be legal, but
 * protobuf's C++ runtime then logs "map keys are not unique" and its
 * reflection sees every entry, so consumers could disagree. The key
 * helpers repeat pb_emit.c's (static there).
 *
 * Not done on purpose: unknown fields and extensions (never kept by the
 * decoder), a size pre-pass (above).
 */
#include "formats/pb/pb_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pb/pb_rec_int.h"

#define SL_PB_ENC_MAX_DEPTH 256

typedef struct enc {
    const sl_rec *r;
    const sl_plan *p;
    sl_buf *out;
    sl_error *err;
    int depth;
    int32_t path_msg[SL_PB_ENC_MAX_DEPTH]; /* for error messages: the field being */
    int32_t path_fi[SL_PB_ENC_MAX_DEPTH];  /* written at each depth */
} enc;

/* ---- raw writers: the caller has reserved the room ---- */

static inline uint8_t *raw_varint(uint8_t *q, uint64_t v)
{
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q++ = (uint8_t)v;
    return q;
}

static inline size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint64_t tag_of(const sl_plan_field *f, int wt)
{
    return (uint64_t)(uint32_t)f->pf->number << 3 | (uint64_t)wt;
}

/* The varint a varint-typed value is written as. */
static inline uint64_t varint_of(uint8_t type, sl_val v)
{
    switch (type) {
    case SL_PB_INT32:
    case SL_PB_ENUM:
        return (uint64_t)(int64_t)(int32_t)v.i; /* negative: 10 bytes */
    case SL_PB_UINT32:
        return (uint32_t)v.u;
    case SL_PB_SINT32: {
        uint32_t n = (uint32_t)(int32_t)v.i;
        return (uint32_t)((n << 1) ^ (0u - (n >> 31)));
    }
    case SL_PB_SINT64:
        return sl_zigzag_enc64(v.i);
    case SL_PB_BOOL:
        return v.u != 0;
    default: /* INT64, UINT64 */
        return v.u;
    }
}

/* Write one scalar's payload (no tag) of wire type 0, 1 or 5. Reserved:
 * 10 bytes. */
static inline uint8_t *raw_scalar(uint8_t *q, uint8_t type, int wt, sl_val v)
{
    if (wt == 0) return raw_varint(q, varint_of(type, v));
    if (wt == 1) {
        memcpy(q, &v.u, 8); /* double shares the bits; little-endian host (buf.h) */
        return q + 8;
    }
    uint32_t x;
    if (type == SL_PB_FLOAT)
        memcpy(&x, &v.f, 4);
    else if (type == SL_PB_SFIXED32)
        x = (uint32_t)(int32_t)v.i;
    else
        x = (uint32_t)v.u;
    memcpy(q, &x, 4);
    return q + 4;
}

/* ---- errors ---- */

static sl_err_t fail_nomem(enc *e, sl_err_t rc)
{
    return sl_error_set(e->err, rc,
                        rc == SL_ERR_LIMIT
                            ? "encoding a record: output would exceed the 4 GiB buffer bound"
                            : "encoding a record: out of memory");
}

static sl_err_t fail_required(enc *e, int32_t mi, int32_t fi)
{
    char path[512];
    size_t n = 0;
    path[0] = '\0';
    for (int d = 0; d <= e->depth && n < sizeof path; d++) {
        int32_t m = d < e->depth ? e->path_msg[d] : mi;
        int32_t f = d < e->depth ? e->path_fi[d] : fi;
        int k = snprintf(path + n, sizeof path - n, "%s%s", d ? "." : "",
                         e->p->msgs[m].fields[f].pf->name);
        if (k < 0) break;
        n += (size_t)k;
    }
    return sl_error_set(e->err, SL_ERR_CORRUPT,
                        "encoding a record: required field %s (number %d) of %s is missing; "
                        "protobuf's serializer refuses such a message (set it in the transform, "
                        "or keep it in the projection)",
                        path, e->p->msgs[mi].fields[fi].pf->number, e->p->msgs[mi].pm->full_name);
}

/* ---- length-prefixed bodies ---- */

/* Reserve the one-byte length prefix; returns its position in out. */
static inline sl_err_t len_open(enc *e, size_t *at)
{
    sl_err_t rc = sl_buf_reserve(e->out, 1);
    if (SL_UNLIKELY(rc)) return fail_nomem(e, rc);
    *at = e->out->len++;
    return SL_OK;
}

/* Write the body length at `at`, moving the body up if it needs more than
 * one byte. */
static inline sl_err_t len_close(enc *e, size_t at)
{
    sl_buf *o = e->out;
    size_t body = o->len - at - 1;
    if (SL_LIKELY(body < 0x80)) {
        o->p[at] = (uint8_t)body;
        return SL_OK;
    }
    size_t extra = varint_size(body) - 1;
    sl_err_t rc = sl_buf_reserve(o, extra);
    if (SL_UNLIKELY(rc)) return fail_nomem(e, rc);
    memmove(o->p + at + 1 + extra, o->p + at + 1, body);
    raw_varint(o->p + at, body);
    o->len += extra;
    return SL_OK;
}

/* ---- messages ---- */

static sl_err_t enc_msg(enc *e, int32_t mi, int32_t frame, const uint8_t *keep);
static sl_err_t enc_map(enc *e, int32_t mi, int32_t fi, const sl_plan_field *f,
                        const sl_rec_slot *s);

static inline sl_err_t put_tag(enc *e, uint64_t tag)
{
    sl_err_t rc = sl_buf_reserve(e->out, 5);
    if (SL_UNLIKELY(rc)) return fail_nomem(e, rc);
    e->out->len = (size_t)(raw_varint(e->out->p + e->out->len, tag) - e->out->p);
    return SL_OK;
}

/* Enter field fi of message mi (for error paths); the caller decrements
 * e->depth when done. */
static inline sl_err_t path_push(enc *e, int32_t mi, int32_t fi)
{
    if (SL_UNLIKELY(e->depth + 1 >= SL_PB_ENC_MAX_DEPTH))
        return sl_error_set(e->err, SL_ERR_LIMIT,
                            "encoding a record: messages nested deeper than %d",
                            SL_PB_ENC_MAX_DEPTH);
    e->path_msg[e->depth] = mi;
    e->path_fi[e->depth] = fi;
    e->depth++;
    return SL_OK;
}

/* A message or group value (a field or a repeated element) in its frame. */
static sl_err_t enc_sub(enc *e, int32_t mi, int32_t fi, const sl_plan_field *f, int32_t frame)
{
    sl_err_t rc;
    size_t at = 0;
    int group = f->type == SL_PB_GROUP;
    if ((rc = put_tag(e, tag_of(f, group ? 3 : 2)))) return rc;
    if (!group && (rc = len_open(e, &at))) return rc;
    if ((rc = path_push(e, mi, fi))) return rc;
    rc = enc_msg(e, f->child, frame, NULL);
    e->depth--;
    if (rc) return rc;
    return group ? put_tag(e, tag_of(f, 4)) : len_close(e, at);
}

/* A repeated field with at least one element (messages, groups, scalars). */
static sl_err_t enc_repeated(enc *e, int32_t mi, int32_t fi, const sl_plan_field *f,
                             const sl_rec_slot *s)
{
    const sl_rec *r = e->r;
    sl_err_t rc;
    uint32_t it = s->h;
    if (f->child >= 0) { /* messages, groups */
        while (it) {
            const sl_rec_item *item = &r->items[it - 1];
            if ((rc = enc_sub(e, mi, fi, f, (int32_t)item->v.u))) return rc;
            it = item->next;
        }
        return SL_OK;
    }
    int wt = sl_pb_wire_type(f->type);
    if (wt == 2) { /* strings, bytes: never packed */
        uint64_t tag = tag_of(f, 2);
        while (it) {
            const sl_rec_item *item = &r->items[it - 1];
            uint32_t len = item->v.s.len;
            if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 15 + (size_t)len)))
                return fail_nomem(e, rc);
            uint8_t *q = raw_varint(raw_varint(e->out->p + e->out->len, tag), len);
            if (len) memcpy(q, item->v.s.p, len);
            e->out->len = (size_t)(q + len - e->out->p);
            it = item->next;
        }
        return SL_OK;
    }
    if (f->pf->packed) {
        size_t at = 0;
        if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 5))) return fail_nomem(e, rc);
        e->out->len = (size_t)(raw_varint(e->out->p + e->out->len, tag_of(f, 2)) - e->out->p);
        if ((rc = len_open(e, &at))) return rc;
        while (it) {
            const sl_rec_item *item = &r->items[it - 1];
            if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 10))) return fail_nomem(e, rc);
            e->out->len =
                (size_t)(raw_scalar(e->out->p + e->out->len, f->type, wt, item->v) - e->out->p);
            it = item->next;
        }
        return len_close(e, at);
    }
    uint64_t tag = tag_of(f, wt);
    while (it) {
        const sl_rec_item *item = &r->items[it - 1];
        if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 15))) return fail_nomem(e, rc);
        uint8_t *q = raw_varint(e->out->p + e->out->len, tag);
        e->out->len = (size_t)(raw_scalar(q, f->type, wt, item->v) - e->out->p);
        it = item->next;
    }
    return SL_OK;
}

/* A scalar field's tag and value; implicit-presence defaults are skipped.
 * One switch on the type does the conversion, the default test and the
 * wire type at once. */
SL_PB_INLINE sl_err_t enc_scalar(enc *e, const sl_plan_field *f, sl_val v)
{
    const int implicit = !f->pf->has_presence;
    sl_err_t rc;
    uint64_t x;
    uint32_t x32;
    switch (f->type) {
    case SL_PB_INT32:
    case SL_PB_ENUM:
        x = (uint64_t)(int64_t)(int32_t)v.i; /* negative: 10 bytes */
        break;
    case SL_PB_UINT32:
        x = (uint32_t)v.u;
        break;
    case SL_PB_SINT32: {
        uint32_t n = (uint32_t)(int32_t)v.i;
        x = (uint32_t)((n << 1) ^ (0u - (n >> 31)));
        break;
    }
    case SL_PB_SINT64:
        x = sl_zigzag_enc64(v.i);
        break;
    case SL_PB_BOOL:
        x = v.u != 0;
        break;
    case SL_PB_INT64:
    case SL_PB_UINT64:
        x = v.u;
        break;
    case SL_PB_DOUBLE:
    case SL_PB_FIXED64:
    case SL_PB_SFIXED64: /* default only when all 64 bits are 0 (not -0.0) */
        if (implicit && v.u == 0) return SL_OK;
        if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 13))) return fail_nomem(e, rc);
        {
            uint8_t *q = raw_varint(e->out->p + e->out->len, tag_of(f, 1));
            memcpy(q, &v.u, 8); /* little-endian host (buf.h) */
            e->out->len = (size_t)(q + 8 - e->out->p);
        }
        return SL_OK;
    case SL_PB_FLOAT:
    case SL_PB_FIXED32:
    case SL_PB_SFIXED32:
        if (f->type == SL_PB_FLOAT)
            memcpy(&x32, &v.f, 4);
        else
            x32 = (uint32_t)v.u; /* sfixed32: the low half of the sign-extended value */
        if (implicit && x32 == 0) return SL_OK;
        if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 9))) return fail_nomem(e, rc);
        {
            uint8_t *q = raw_varint(e->out->p + e->out->len, tag_of(f, 5));
            memcpy(q, &x32, 4);
            e->out->len = (size_t)(q + 4 - e->out->p);
        }
        return SL_OK;
    default: { /* STRING, BYTES */
        uint32_t len = v.s.len;
        if (implicit && len == 0) return SL_OK;
        if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 15 + (size_t)len))) return fail_nomem(e, rc);
        uint8_t *q = raw_varint(raw_varint(e->out->p + e->out->len, tag_of(f, 2)), len);
        if (len) memcpy(q, v.s.p, len);
        e->out->len = (size_t)(q + len - e->out->p);
        return SL_OK;
    }
    }
    if (implicit && x == 0) return SL_OK;
    if (SL_UNLIKELY(rc = sl_buf_reserve(e->out, 15))) return fail_nomem(e, rc);
    uint8_t *q = raw_varint(e->out->p + e->out->len, tag_of(f, 0));
    e->out->len = (size_t)(raw_varint(q, x) - e->out->p);
    return SL_OK;
}

/* One field of a frame, if it is to be written (inlined into the message
 * loop: one call per present repeated/map/message field only). */
SL_PB_INLINE sl_err_t enc_field(enc *e, int32_t mi, int32_t fi, int32_t frame, int entry)
{
    const sl_plan_field *f = &e->p->msgs[mi].fields[fi];
    const sl_rec_slot *s = &e->r->slots[e->r->frames[frame].base + (uint32_t)fi];
    if (!s->h) {
        if (SL_UNLIKELY(f->pf->label == SL_PB_REQUIRED && !entry)) return fail_required(e, mi, fi);
        return SL_OK;
    }
    if (f->is_map) return enc_map(e, mi, fi, f, s);
    if (f->repeated) return enc_repeated(e, mi, fi, f, s);
    if (f->child >= 0) return enc_sub(e, mi, fi, f, (int32_t)s->h - 1);
    return enc_scalar(e, f, s->v);
}

/* ---- maps: de-duplicated, as every parser reads them ---- */

/* One entry per distinct key (pb_rec_int.h, sl_rec_map_begin): the key
 * from its first occurrence, the value from its last. The record's map
 * scratch is shared with sl_rec_emit, which never runs at the same time. */
static sl_err_t enc_map(enc *e, int32_t mi, int32_t fi, const sl_plan_field *f,
                        const sl_rec_slot *s)
{
    sl_rec *r = (sl_rec *)e->r; /* only its map scratch is written (pb_encode.h) */
    const sl_plan_msg *em = &e->p->msgs[f->child];
    int32_t kf = em->by_number[1], vf = em->by_number[2];
    sl_rec_map m;
    sl_err_t rc = sl_rec_map_begin(r, em, s, &m);
    if (rc) return fail_nomem(e, rc);
    for (size_t i = 0; i < m.n; i++) {
        if (!sl_rec_map_keep(r, &m)[i]) continue;
        uint32_t kfr = sl_rec_map_ent(r, &m)[i], vfr = sl_rec_map_win(r, &m)[i];
        size_t at = 0;
        if ((rc = put_tag(e, tag_of(f, 2))) || (rc = len_open(e, &at))) break;
        if ((rc = path_push(e, mi, fi))) break;
        if (!(rc = enc_field(e, f->child, kf, (int32_t)kfr, 1)))
            rc = enc_field(e, f->child, vf, (int32_t)vfr, 1);
        e->depth--;
        if (rc || (rc = len_close(e, at))) break;
    }
    sl_rec_map_end(r, &m);
    return rc;
}

static sl_err_t enc_msg(enc *e, int32_t mi, int32_t frame, const uint8_t *keep)
{
    const sl_plan_msg *m = &e->p->msgs[mi];
    const int entry = m->pm->map_entry;
    sl_err_t rc;
    for (int32_t k = 0; k < m->n_fields; k++) {
        int32_t fi = m->sorted[k];
        if (keep && !keep[fi]) continue;
        if ((rc = enc_field(e, mi, fi, frame, entry))) return rc;
    }
    return SL_OK;
}

sl_err_t sl_pb_encode(const sl_rec *r, const uint8_t *keep_top, sl_buf *out, sl_error *err)
{
    enc e;
    e.r = r;
    e.p = r->p;
    e.out = out;
    e.err = err;
    e.depth = 0;
    size_t start = out->len;
    ((sl_rec *)r)->m_top = 0; /* the map scratch is free between calls */
    sl_err_t rc = r->n_frames ? enc_msg(&e, 0, 0, keep_top) : SL_OK;
    if (rc) out->len = start;
    return rc;
}
