/* pb_wire.c - the protobuf wire-format decoder: one serialized message into
 * the record scratch (sl_pb_parse), or into a batch (sl_pb_decode: the
 * direct shredder of pb_shred.c when it takes the record, else parse here
 * and sl_rec_emit). This parser is the reference for every wire rule; the
 * direct path only handles the records where both must agree.
 *
 * One loop per message. Fast path: the whole tag (1-2 bytes) indexes a
 * per-message table built by sl_rec_new (field numbers < 512 with their
 * expected wire type) giving the field and its op codes. The plain
 * last-wins fields (int64/int32/enum varints, fixed64, strings, bytes) and
 * length-delimited sub-messages dispatch once on a fused kind (op->fast:
 * wire type + conversion + store in one code) and are stored straight into
 * their slot; sl_pb_parse runs ~8% fewer instructions on PlayEvent than
 * when it switched on the wire type, then the conversion, then the store.
 * Other known fields with their expected wire type (repeated, oneof, closed
 * enum, sint/uint32/bool, fixed32, groups) switch on the wire type; the
 * rest (packed runs, unknown fields, wrong wire types, large numbers) takes
 * the general path below it. Measured on the reference
 * PlayEvent: ~180 ns/record parse, ~350 ns with emit (one core, -O2).
 * Sub-messages and groups recurse, bounded by plan->max_depth (100, as
 * protobuf). Rules, as protobuf's parser applies them unless noted:
 *   - unknown fields of every wire type are skipped; unknown groups are
 *     skipped to their matching end tag (a mismatched end is an error),
 *     and their nesting counts against max_depth;
 *   - every repeated numeric/bool/enum field accepts packed and unpacked
 *     elements, mixed in one record;
 *   - int32 (and enum) from a 10-byte varint truncates to 32 bits; uint32
 *     too; bool is varint != 0; sint32/sint64 are zigzag;
 *   - a closed (proto2) enum number that the enum does not declare is an
 *     unknown field: dropped, and it does not switch a oneof;
 *   - invalid UTF-8 in a string field is an error, in proto2 files too (a
 *     string column must hold UTF-8; protobuf's proto2 parsers only warn);
 *   - a zero-length message is a message of defaults.
 * Stricter than python-protobuf (which stops quietly and keeps what it
 * read): field number 0 and a stray end-group tag are errors.
 * Deliberate departure: a KNOWN field with the wrong wire type is a bad
 * record, where protobuf would keep it as an unknown field and leave the
 * field unset. A wire-type mismatch almost always means the producer
 * writes with another schema, and silently dropping the field would turn
 * that into defaults in the lake.
 *
 * Errors say the byte offset in the record, the field path with numbers
 * ("client.screen_width (13.4)") and what was wrong. On error the scratch
 * holds a partial record; sl_pb_decode never emits it.
 *
 * Costs: linear in the input; strings and bytes are not copied here (they
 * point into the input until emit copies them into the column).
 */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "formats/pb/pb_rec_int.h"

typedef struct wctx {
    sl_rec *r;
    const sl_plan *p;
    const uint8_t *base; /* record start, for byte offsets */
    sl_error *err;
    int max_depth;
    int depth;
    int32_t path_msg[128];   /* plan message at each depth ... */
    int32_t path_field[128]; /* ... and the field being parsed there */
} wctx;

static const char *wt_name(int wt)
{
    static const char *n[8] = {"varint",    "fixed64", "length-delimited", "start-group",
                               "end-group", "fixed32", "invalid (6)",      "invalid (7)"};
    return n[wt & 7];
}

/* "client.screen_width (13.4)" for the current path plus `field` of msg. */
static void path_text(const wctx *w, int32_t msg, int32_t field, char *out, size_t cap)
{
    char names[256], nums[96];
    size_t nl = 0, ml = 0;
    names[0] = nums[0] = '\0';
    for (int d = 0; d <= w->depth; d++) {
        int32_t m = d < w->depth ? w->path_msg[d] : msg;
        int32_t f = d < w->depth ? w->path_field[d] : field;
        if (m < 0 || f < 0) break;
        const sl_pb_field *pf = w->p->msgs[m].fields[f].pf;
        int a = snprintf(names + nl, sizeof names - nl, "%s%s", d ? "." : "", pf->name);
        int b = snprintf(nums + ml, sizeof nums - ml, "%s%d", d ? "." : "", pf->number);
        if (a < 0 || b < 0 || (size_t)a >= sizeof names - nl || (size_t)b >= sizeof nums - ml)
            break;
        nl += (size_t)a;
        ml += (size_t)b;
    }
    snprintf(out, cap, "%s (%s)", names, nums);
}

static sl_err_t fail_at(wctx *w, const uint8_t *at, int32_t msg, int32_t field, const char *what)
{
    char path[400];
    if (field >= 0) {
        path_text(w, msg, field, path, sizeof path);
        return sl_error_set(w->err, SL_ERR_CORRUPT, "byte %zu: field %s: %s",
                            (size_t)(at - w->base), path, what);
    }
    if (w->depth > 0) {
        wctx tmp = *w;
        tmp.depth--;
        path_text(&tmp, w->path_msg[w->depth - 1], w->path_field[w->depth - 1], path, sizeof path);
        return sl_error_set(w->err, SL_ERR_CORRUPT, "byte %zu: in %s: %s", (size_t)(at - w->base),
                            path, what);
    }
    return sl_error_set(w->err, SL_ERR_CORRUPT, "byte %zu: %s", (size_t)(at - w->base), what);
}

static sl_err_t fail_rc(wctx *w, sl_err_t rc, const uint8_t *at)
{
    return sl_error_set(w->err, rc,
                        rc == SL_ERR_LIMIT ? "byte %zu: record exceeds the decoder's bounds "
                                             "(more than 16M repeated elements or 64M fields)"
                                           : "byte %zu: out of memory",
                        (size_t)(at - w->base));
}

/* ---- primitives ---- */

static inline sl_val from_fixed64(const uint8_t *p)
{
    sl_val v;
    memcpy(&v.u, p, 8); /* DOUBLE shares the bits; sfixed64 is i */
    return v;
}

/* Store one scalar: set (last wins) or append. Closed enums drop unknown
 * numbers. */
static inline sl_err_t store(wctx *w, int32_t frame, int32_t fi, const sl_plan_field *f, sl_val v)
{
    sl_rec *r = w->r;
    if (f->closed_enum) {
        const char *nm;
        uint32_t nl;
        if (!sl_rec_enum_name(sl_rec_enum_of(r, f->enm), (int32_t)v.i, &nm, &nl)) return SL_OK;
    }
    if (f->repeated) return sl_rec_push(r, frame, fi, v);
    if (f->oneof >= 0) sl_rec_oneof_switch(r, frame, f->oneof, fi);
    sl_rec_slot *s = sl_rec_slot_of(r, frame, fi);
    s->v = v;
    s->h = 1;
    return SL_OK;
}

/* Skip one unknown field's payload; groups to their end tag. */
static sl_err_t skip_field(wctx *w, const uint8_t **pp, const uint8_t *end, int wt, uint32_t num,
                           int depth)
{
    const uint8_t *p = *pp;
    uint64_t v;
    switch (wt) {
    case 0:
        if (sl_varint_get(&p, end, &v))
            return fail_at(w, p, -1, -1, "truncated or overlong varint in an unknown field");
        break;
    case 1:
        if (end - p < 8) return fail_at(w, p, -1, -1, "truncated fixed64 in an unknown field");
        p += 8;
        break;
    case 5:
        if (end - p < 4) return fail_at(w, p, -1, -1, "truncated fixed32 in an unknown field");
        p += 4;
        break;
    case 2:
        if (sl_varint_get(&p, end, &v) || v > (uint64_t)(end - p))
            return fail_at(w, p, -1, -1,
                           "length of an unknown field runs past the end of its message");
        p += v;
        break;
    case 3:
        for (;;) {
            uint64_t tag;
            if (depth >= w->max_depth)
                return fail_at(w, p, -1, -1, "unknown groups nested deeper than the limit (100)");
            if (sl_varint_get(&p, end, &tag))
                return fail_at(w, p, -1, -1, "unknown group is not terminated (truncated)");
            uint32_t n = (uint32_t)(tag >> 3);
            int t = (int)(tag & 7);
            if (n == 0) return fail_at(w, p, -1, -1, "field number 0 inside an unknown group");
            if (t == 4) {
                if (n != num)
                    return fail_at(w, p, -1, -1, "end-group tag does not match its start-group");
                break;
            }
            sl_err_t rc = skip_field(w, &p, end, t, n, depth + 1);
            if (rc) return rc;
        }
        break;
    case 4:
        return fail_at(w, p, -1, -1, "unexpected end-group tag");
    default:
        return fail_at(w, p, -1, -1, "invalid wire type 6 or 7");
    }
    *pp = p;
    return SL_OK;
}

static sl_err_t parse_msg(wctx *w, int32_t mi, int32_t frame, const uint8_t *p, const uint8_t *end,
                          uint32_t group, const uint8_t **endp);

/* Packed run of a repeated numeric field. */
static sl_err_t parse_packed(wctx *w, int32_t mi, int32_t frame, int32_t fi, const sl_plan_field *f,
                             const uint8_t *p, const uint8_t *end)
{
    int wt = sl_pb_wire_type(f->type);
    sl_err_t rc;
    if (wt == 0) {
        while (p < end) {
            uint64_t x;
            const uint8_t *at = p;
            if (sl_pb_varint(&p, end, &x))
                return fail_at(w, at, mi, fi, "truncated varint in a packed run");
            sl_val v = sl_pb_from_varint(w->r->mops[mi].fop[fi].conv, x);
            rc = f->closed_enum ? store(w, frame, fi, f, v) : sl_rec_push(w->r, frame, fi, v);
            if (SL_UNLIKELY(rc)) return fail_rc(w, rc, at);
        }
        return SL_OK;
    }
    size_t sz = wt == 1 ? 8 : 4;
    if ((size_t)(end - p) % sz)
        return fail_at(w, p, mi, fi,
                       "packed fixed-width run length is not a multiple of the element size");
    for (; p < end; p += sz) {
        sl_val v = sz == 8 ? from_fixed64(p) : sl_pb_from_fixed32(f->type, p);
        if (SL_UNLIKELY(rc = sl_rec_push(w->r, frame, fi, v))) return fail_rc(w, rc, p);
    }
    return SL_OK;
}

static sl_err_t parse_sub(wctx *w, int32_t mi, int32_t frame, int32_t fi, const sl_plan_field *f,
                          const uint8_t *p, const uint8_t *end, uint32_t group,
                          const uint8_t **endp)
{
    int32_t c = f->repeated ? sl_rec_add_sub_fast(w->r, frame, fi, f->child)
                            : sl_rec_sub_fast(w->r, frame, fi, f->child, f->oneof);
    if (c < 0) return fail_rc(w, (sl_err_t)c, p);
    if (w->depth + 1 >= w->max_depth || w->depth + 1 >= 128)
        return fail_at(w, p, mi, fi, "messages nested deeper than the limit (100)");
    w->path_msg[w->depth] = mi;
    w->path_field[w->depth] = fi;
    w->depth++;
    sl_err_t rc = parse_msg(w, f->child, c, p, end, group, endp);
    w->depth--;
    return rc;
}

static sl_err_t wrong_wire(wctx *w, const uint8_t *at, int32_t mi, int32_t fi,
                           const sl_plan_field *f, int wt)
{
    char what[200];
    snprintf(what, sizeof what,
             "wire type %s does not match the field's type (expects %s%s); the producer "
             "probably writes with a different schema",
             wt_name(wt), wt_name(sl_pb_wire_type(f->type)),
             f->repeated && sl_pb_wire_type(f->type) != 2 && sl_pb_wire_type(f->type) != 3
                 ? " or packed"
                 : "");
    return fail_at(w, at, mi, fi, what);
}

/* Store a scalar whose field is not a plain last-wins one. */
static sl_err_t store_op(wctx *w, int32_t frame, int32_t fi, const sl_plan_field *f,
                         const sl_rec_fop *op, sl_val v)
{
    if (op->store == SL_ST_PUSH) return sl_rec_push(w->r, frame, fi, v);
    return store(w, frame, fi, f, v);
}

static sl_err_t parse_msg(wctx *w, int32_t mi, int32_t frame, const uint8_t *p, const uint8_t *end,
                          uint32_t group, const uint8_t **endp)
{
    const sl_plan_msg *m = &w->p->msgs[mi];
    const sl_rec_mops *mo = &w->r->mops[mi];
    const uint16_t *ttab = mo->tag;
    const uint64_t ntag = mo->n_tag;
    sl_rec_slot *slots = w->r->slots + w->r->frames[frame].base; /* refreshed after children */
    sl_err_t rc;
    while (p < end) {
        const uint8_t *at = p;
        uint64_t tag, x;
        uint32_t k;
        if (SL_UNLIKELY(!(p = sl_pb_tag(p, end, &tag))))
            return fail_at(w, at, -1, -1, "truncated or overlong tag varint");
        /* Fast path: a known field with its expected wire type. */
        if (SL_LIKELY(tag < ntag && (k = ttab[tag]) != 0)) {
            int32_t fi = (int32_t)k - 1;
            const sl_rec_fop *op = &mo->fop[fi];
            sl_val v;
            v.u = 0;
            /* The common plain fields: one switch on the fused kind. */
            switch (op->fast) {
            case SL_FK_VARINT64:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x)))
                    return fail_at(w, at, mi, fi, "truncated or overlong varint");
                slots[fi].v.u = x;
                slots[fi].h = 1;
                continue;
            case SL_FK_VARINT32:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x)))
                    return fail_at(w, at, mi, fi, "truncated or overlong varint");
                slots[fi].v.i = (int32_t)(uint32_t)x;
                slots[fi].h = 1;
                continue;
            case SL_FK_FIXED64:
                if (SL_UNLIKELY(end - p < 8)) return fail_at(w, at, mi, fi, "truncated fixed64");
                memcpy(&slots[fi].v.u, p, 8);
                slots[fi].h = 1;
                p += 8;
                continue;
            case SL_FK_STRING:
            case SL_FK_BYTES:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x) || x > (uint64_t)(end - p)))
                    return fail_at(w, at, mi, fi, "length runs past the end of its message");
                if (op->fast == SL_FK_STRING && SL_UNLIKELY(!sl_utf8_valid(p, (size_t)x)))
                    return fail_at(w, at, mi, fi, "invalid UTF-8 in a string field");
                slots[fi].v.s.p = p;
                slots[fi].v.s.len = (uint32_t)x;
                slots[fi].h = 1;
                p += x;
                continue;
            case SL_FK_SUB:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x) || x > (uint64_t)(end - p)))
                    return fail_at(w, at, mi, fi, "length runs past the end of its message");
                if ((rc = parse_sub(w, mi, frame, fi, &m->fields[fi], p, p + x, 0, NULL)))
                    return rc;
                slots = w->r->slots + w->r->frames[frame].base;
                p += x;
                continue;
            default:
                break;
            }
            switch (tag & 7) {
            case 0:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x)))
                    return fail_at(w, at, mi, fi, "truncated or overlong varint");
                v = sl_pb_from_varint(op->conv, x);
                break;
            case 1:
                if (SL_UNLIKELY(end - p < 8)) return fail_at(w, at, mi, fi, "truncated fixed64");
                memcpy(&v.u, p, 8);
                p += 8;
                break;
            case 5:
                if (SL_UNLIKELY(end - p < 4)) return fail_at(w, at, mi, fi, "truncated fixed32");
                v = sl_pb_from_fixed32(m->fields[fi].type, p);
                p += 4;
                break;
            case 2:
                if (SL_UNLIKELY(sl_pb_varint(&p, end, &x) || x > (uint64_t)(end - p)))
                    return fail_at(w, at, mi, fi, "length runs past the end of its message");
                if (op->sub) {
                    if ((rc = parse_sub(w, mi, frame, fi, &m->fields[fi], p, p + x, 0, NULL)))
                        return rc;
                    slots = w->r->slots + w->r->frames[frame].base;
                    p += x;
                    continue;
                }
                if (op->utf8 && SL_UNLIKELY(!sl_utf8_valid(p, (size_t)x)))
                    return fail_at(w, at, mi, fi, "invalid UTF-8 in a string field");
                v.s.p = p;
                v.s.len = (uint32_t)x;
                p += x;
                break;
            default: /* 3: a group field */
                if ((rc = parse_sub(w, mi, frame, fi, &m->fields[fi], p, end, (uint32_t)(tag >> 3),
                                    &p)))
                    return rc;
                slots = w->r->slots + w->r->frames[frame].base;
                continue;
            }
            if (SL_LIKELY(op->store == SL_ST_SET)) {
                slots[fi].v = v;
                slots[fi].h = 1;
            } else if (SL_UNLIKELY(rc = store_op(w, frame, fi, &m->fields[fi], op, v))) {
                return fail_rc(w, rc, at);
            }
            continue;
        }
        uint32_t num = (uint32_t)(tag >> 3);
        int wt = (int)(tag & 7);
        if (SL_UNLIKELY(tag >> 3 == 0 || tag >> 32))
            return fail_at(w, at, -1, -1, "invalid field number 0 (or above 2^29) in tag");
        int32_t fi = num < (uint32_t)m->n_by_number ? m->by_number[num]
                                                    : sl_plan_field_by_number(w->p, mi, num);
        if (wt == 4) {
            if (group && num == group) {
                *endp = p;
                return SL_OK;
            }
            return fail_at(w, at, -1, -1,
                           group ? "end-group tag does not match its start-group"
                                 : "unexpected end-group tag");
        }
        if (fi < 0) {
            if ((rc = skip_field(w, &p, end, wt, num, w->depth + 1))) return rc;
            continue;
        }
        const sl_plan_field *f = &m->fields[fi];
        int want = sl_pb_wire_type(f->type);
        if (SL_UNLIKELY(wt != want)) {
            if (wt == 2 && f->repeated && want != 2 && want != 3) {
                if (sl_varint_get(&p, end, &x) || x > (uint64_t)(end - p))
                    return fail_at(w, at, mi, fi,
                                   "packed run length runs past the end of its message");
                if ((rc = parse_packed(w, mi, frame, fi, f, p, p + x))) return rc;
                p += x;
                continue;
            }
            return wrong_wire(w, at, mi, fi, f, wt);
        }
        switch (wt) {
        case 0:
            if (SL_UNLIKELY(sl_pb_varint(&p, end, &x)))
                return fail_at(w, at, mi, fi, "truncated or overlong varint");
            if (SL_UNLIKELY(rc = store(w, frame, fi, f, sl_pb_from_varint(mo->fop[fi].conv, x))))
                return fail_rc(w, rc, at);
            break;
        case 1:
            if (SL_UNLIKELY(end - p < 8)) return fail_at(w, at, mi, fi, "truncated fixed64");
            if (SL_UNLIKELY(rc = store(w, frame, fi, f, from_fixed64(p))))
                return fail_rc(w, rc, at);
            p += 8;
            break;
        case 5:
            if (SL_UNLIKELY(end - p < 4)) return fail_at(w, at, mi, fi, "truncated fixed32");
            if (SL_UNLIKELY(rc = store(w, frame, fi, f, sl_pb_from_fixed32(f->type, p))))
                return fail_rc(w, rc, at);
            p += 4;
            break;
        case 2: {
            if (SL_UNLIKELY(sl_pb_varint(&p, end, &x) || x > (uint64_t)(end - p)))
                return fail_at(w, at, mi, fi, "length runs past the end of its message");
            if (f->child >= 0) {
                if ((rc = parse_sub(w, mi, frame, fi, f, p, p + x, 0, NULL))) return rc;
            } else {
                if (f->type == SL_PB_STRING && SL_UNLIKELY(!sl_utf8_valid(p, (size_t)x)))
                    return fail_at(w, at, mi, fi, "invalid UTF-8 in a string field");
                sl_val v;
                v.s.p = p;
                v.s.len = (uint32_t)x;
                if (SL_UNLIKELY(rc = store(w, frame, fi, f, v))) return fail_rc(w, rc, at);
            }
            p += x;
            break;
        }
        default: /* 3: a group field */
            if ((rc = parse_sub(w, mi, frame, fi, f, p, end, num, &p))) return rc;
            break;
        }
    }
    if (group) return fail_at(w, p, -1, -1, "group is not terminated by its end-group tag");
    if (endp) *endp = p;
    return SL_OK;
}

sl_err_t sl_pb_parse(sl_rec *r, const uint8_t *data, size_t len, sl_error *err)
{
    wctx w;
    w.r = r;
    w.p = r->p;
    w.base = data;
    w.err = err;
    w.max_depth = r->p->max_depth > 0 && r->p->max_depth < 127 ? r->p->max_depth : 100;
    w.depth = 0;
    if (len > UINT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "record of %zu bytes is larger than 4 GiB", len);
    if (!data) data = (const uint8_t *)"";
    return parse_msg(&w, 0, 0, data, data + len, 0, NULL);
}

sl_err_t sl_pb_decode(sl_rec *r, sl_batch *b, const uint8_t *data, size_t len, sl_error *err)
{
    if (SL_LIKELY(sl_pb_shred(r, b, data, len) == SL_OK)) return SL_OK;
    sl_rec_begin(r);
    sl_err_t rc = sl_pb_parse(r, data, len, err);
    if (rc) return rc;
    return sl_rec_emit(r, b, err);
}
