/* pb_shred.c - the direct path of sl_pb_decode: one protobuf record shredded
 * straight from the wire into the batch's column builders, with no record
 * scratch in between.
 *
 * Why it can: every field owns its own columns, so the columns of a field
 * can be written as soon as the field is read, in whatever order the
 * fields arrive. What the two-step path (parse into the scratch, then
 * sl_rec_emit) needs the scratch for is the input that changes an earlier
 * field: a non-repeated field seen twice (last wins; messages merge), two
 * members of one oneof, a map key seen twice (last value wins). Those are
 * rare, and here they are only detected: the record is rolled back and
 * handed to the two-step path, which stays the reference for every rule.
 *
 * Per message instance the fields are taken in the order serializers
 * write them, by rank of their number (sl_rec_sfield, built once per plan
 * by sl_shred_init), with a cursor `next` (the rank after the last field
 * written):
 *   - a field of rank >= next is written when read (a value through the
 *     same inline column appends as sl_rec_emit, pb_emit_int.h), and the
 *     fields skipped over are written absent by sl_em_one (default, nulls,
 *     empty message, missing-required error); so are the ones left at the
 *     end of the message;
 *   - the field just written may go on if repeated (its next elements take
 *     the field's own rep, the first took the message's); any lower rank
 *     gives up: a non-repeated field twice, a repeated one interrupted, or
 *     fields out of number order;
 *   - a second member of a oneof (a 64-bit mask per message) gives up;
 *   - map entries: an entry that is exactly a plain key then a plain value
 *     is written inline (map_entry), any other is shredded as a message;
 *     after each, its key (the value just appended to the key column) is
 *     compared with the map's earlier keys in that column: a duplicate or
 *     more than 16 entries give up;
 *   - packed runs of repeated scalars are found by the tag table too
 *     (int64/uint64 runs are written in bulk: packed_i64);
 *     unknown fields are skipped; closed-enum numbers the enum lacks are
 *     dropped as unknown fields (protobuf's rule);
 *   - anything else gives up: a malformed byte, a wrong wire type, groups,
 *     invalid UTF-8, a missing proto2 required field, a column error,
 *     nesting past plan->max_depth, a message type sl_shred_init rejects
 *     (more than 64 oneofs, a map whose key is not a plain column).
 * Giving up costs one rollback (sl_rec_rollback) and the two-step decode of
 * the record, which then either succeeds or fails with the precise error:
 * the direct path never has to describe an error, so it cannot describe
 * one differently. tests/unit/test_pb_wire.c, the 0004 driver and fuzz_pb
 * check that both paths fill identical batches.
 *
 * Cost: per field one tag read, one table lookup, one rank compare and one
 * switch on a fused kind (sl_rec_sfield.kind: wire decode and column append
 * together for the common plain fields, messages and maps; the rest goes
 * through shred_other). Strings up to 16 bytes are UTF-8 checked by the
 * words their copy loads. On the reference PlayEvent the direct path runs
 * ~3.3k instructions a record where parse + emit ran ~5.4k
 * (docs/benchmarks.md). Recursion follows the schema's nesting, bounded by
 * plan->max_depth as in the wire decoder.
 */
#include <stdlib.h>

#include "core/utf8.h"
#include "formats/pb/pb_emit_int.h"

#define SH_MAP_MAX 16 /* map entries compared pairwise; more go the two-step way */

typedef struct shred {
    sl_emitter e;
    const sl_plan_msg *msgs;
    const sl_rec_mops *mops;
    int max_depth;
    sl_error ignored; /* errors of the direct path are not reported */
} shred;

/* ---- tables (sl_rec_new) ---- */

static uint8_t shred_kind(const sl_plan_field *f, const sl_rec_fop *op)
{
    if (op->sub && op->wire == 2)
        return op->emit == SL_EM_MAP       ? SL_SK_MAP
               : op->emit == SL_EM_REP_MSG ? SL_SK_REP_MSG
                                           : SL_SK_MSG;
    if (f->oneof >= 0) return SL_SK_OTHER;
    if (f->repeated)
        return op->store == SL_ST_PUSH && op->wire == 2 && op->utf8 ? SL_SK_REP_STR : SL_SK_OTHER;
    if (op->store == SL_ST_SET && op->emit == SL_EM_SCALAR_BOOL) return SL_SK_BOOL;
    if (op->store == SL_ST_SET && op->emit == SL_EM_SCALAR && op->vk == SL_VK_U32 && op->wire == 0)
        return SL_SK_U32;
    if (op->fast == SL_FK_VARINT32 && op->emit == SL_EM_SCALAR && op->vk == SL_VK_ENUM)
        return SL_SK_ENUM;
    if (op->fast == SL_FK_VARINT64 && op->emit == SL_EM_SCALAR_I64) return SL_SK_I64;
    if (op->fast == SL_FK_VARINT32 && op->emit == SL_EM_SCALAR_I32) return SL_SK_I32;
    if (op->fast == SL_FK_FIXED64 && op->emit == SL_EM_SCALAR_F64) return SL_SK_F64;
    if (op->fast == SL_FK_STRING && op->emit == SL_EM_SCALAR_BYTES) return SL_SK_STR;
    if (op->fast == SL_FK_BYTES && op->emit == SL_EM_SCALAR_BYTES) return SL_SK_BYTES;
    return SL_SK_OTHER;
}

/* The key column of map field f, or -1 if its duplicates cannot be found
 * by comparing column values (the key is not a plain scalar column). */
static int32_t map_key_leaf(const sl_rec *r, const sl_plan_field *f)
{
    const sl_plan_msg *em = &r->p->msgs[f->child];
    int32_t kf = em->n_by_number > 1 ? em->by_number[1] : -1;
    if (kf < 0 || em->fields[kf].leaf < 0) return -1;
    uint8_t ke = r->mops[f->child].fop[kf].emit;
    return ke == SL_EM_SCALAR || ke >= SL_EM_SCALAR_I32 ? em->fields[kf].leaf : -1;
}

/* A kind the map-entry fast path reads and writes (rd_scalar, put_scalar). */
static int plain_kind(uint8_t k)
{
    return k == SL_SK_I64 || k == SL_SK_I32 || k == SL_SK_F64 || k == SL_SK_STR ||
           k == SL_SK_BYTES || k == SL_SK_BOOL || k == SL_SK_U32;
}

/* Map field f (sfield e): the entry fast path when its entry message is
 * exactly a key and a value of plain kinds. */
static void map_entry_fast(const sl_rec *r, const sl_plan_field *f, sl_rec_sfield *e)
{
    const sl_plan_msg *em = &r->p->msgs[f->child];
    const sl_rec_fop *fop = r->mops[f->child].fop;
    if (em->n_fields != 2 || em->n_by_number < 3 || em->by_number[1] < 0 || em->by_number[2] < 0)
        return;
    const sl_plan_field *kf = &em->fields[em->by_number[1]], *vf = &em->fields[em->by_number[2]];
    uint8_t kk = shred_kind(kf, &fop[em->by_number[1]]),
            vk = shred_kind(vf, &fop[em->by_number[2]]);
    if (!plain_kind(kk) || !plain_kind(vk) || kf->leaf < 0 || vf->leaf < 0) return;
    e->kkind = kk;
    e->vkind = vk;
    e->ktag = (uint8_t)(1 << 3 | fop[em->by_number[1]].wire);
    e->vtag = (uint8_t)(2 << 3 | fop[em->by_number[2]].wire);
    e->val_leaf = vf->leaf;
}

void sl_shred_free(sl_rec_mops *mo)
{
    free(mo->sf);
    free(mo->rank);
    free(mo->stag);
    mo->sf = NULL;
    mo->rank = NULL;
    mo->stag = NULL;
}

sl_err_t sl_shred_init(sl_rec *r)
{
    for (int32_t mi = 0; mi < r->p->n_msgs; mi++) {
        const sl_plan_msg *m = &r->p->msgs[mi];
        sl_rec_mops *mo = &r->mops[mi];
        /* one bit per oneof; ranks below the tag table's packed bit */
        if (m->pm->n_oneofs > 64 || m->n_fields >= (int32_t)SL_SK_PACKED) continue;
        size_t nf = (size_t)(m->n_fields ? m->n_fields : 1);
        mo->sf = calloc(nf, sizeof *mo->sf);
        mo->rank = calloc(nf, sizeof *mo->rank);
        mo->stag = calloc(mo->n_tag ? mo->n_tag : 1, sizeof *mo->stag);
        if (!mo->sf || !mo->rank || !mo->stag) return SL_ERR_NOMEM;
        int ok = 1;
        for (int32_t k = 0; k < m->n_fields; k++) {
            int32_t fi = m->sorted[k];
            const sl_plan_field *f = &m->fields[fi];
            sl_rec_sfield *e = &mo->sf[k];
            e->kind = shred_kind(f, &mo->fop[fi]);
            e->repeated = f->repeated;
            e->rep = f->rep;
            e->leaf = f->leaf;
            e->fi = fi;
            e->key_leaf = f->is_map ? map_key_leaf(r, f) : -1;
            if (f->is_map && e->key_leaf < 0) ok = 0;
            if (f->is_map) map_entry_fast(r, f, e);
            mo->rank[fi] = k;
        }
        for (uint32_t t = 0; t < mo->n_tag; t++)
            if (mo->tag[t]) mo->stag[t] = (uint16_t)(mo->rank[mo->tag[t] - 1] + 1);
        /* packed runs of repeated numeric fields (wire type 2 for a field
         * whose elements are varints or fixed) */
        for (uint32_t t = 0; t < mo->n_tag; t += 8) {
            for (int wt = 0; wt < 8; wt++) {
                uint32_t k = mo->tag[t + (uint32_t)wt];
                if (!k || !m->fields[k - 1].repeated || (wt != 0 && wt != 1 && wt != 5)) continue;
                mo->stag[t + 2] = (uint16_t)(SL_SK_PACKED | (uint32_t)(mo->rank[k - 1] + 1));
            }
        }
        if (!ok) sl_shred_free(mo);
    }
    return SL_OK;
}

/* ---- the shredder ----
 *
 * The readers return the position after what they read, or NULL on a
 * malformation, so the input position stays in a register of the hot loop
 * (a pointer to it passed to an out-of-line call would keep it in memory);
 * the rare field kinds are out of line for the same reason. */

static const uint8_t *rd_varint_slow(const uint8_t *p, const uint8_t *end, uint64_t *x)
{
    return sl_pb_varint(&p, end, x) ? NULL : p;
}

SL_PB_INLINE const uint8_t *rd_varint(const uint8_t *p, const uint8_t *end, uint64_t *x)
{
    if (SL_LIKELY(p < end && p[0] < 0x80)) {
        *x = p[0];
        return p + 1;
    }
    if (end - p > 1 && p[1] < 0x80) {
        *x = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        return p + 2;
    }
    return rd_varint_slow(p, end, x);
}

/* The whole varint inline, for the fields whose values are mostly long
 * (int64 ids and timestamps): no call. */
SL_PB_INLINE const uint8_t *rd_varint_long(const uint8_t *p, const uint8_t *end, uint64_t *x)
{
    return sl_pb_varint(&p, end, x) ? NULL : p;
}

/* A length-delimited payload: its start, with *x its length. */
SL_PB_INLINE const uint8_t *rd_len(const uint8_t *p, const uint8_t *end, uint64_t *x)
{
    p = rd_varint(p, end, x);
    return p && *x <= (uint64_t)(end - p) ? p : NULL;
}

/* Skip an unknown field of wire type 0, 1, 2 or 5; NULL on anything else. */
static const uint8_t *skip_unknown(const uint8_t *p, const uint8_t *end, int wt)
{
    uint64_t x;
    switch (wt) {
    case 0:
        return rd_varint(p, end, &x);
    case 1:
        return end - p < 8 ? NULL : p + 8;
    case 5:
        return end - p < 4 ? NULL : p + 4;
    case 2:
        p = rd_len(p, end, &x);
        return p ? p + x : NULL;
    default:
        return NULL;
    }
}

/* Is p[0..n) valid UTF-8? Up to 16 bytes: ASCII decided inline from at
 * most two loads (the full check only when a high bit is set). */
SL_PB_INLINE int str_ok(const uint8_t *p, size_t n)
{
    uint64_t acc;
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        acc = a | b;
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        acc = a | b;
    } else if (n < 4) {
        acc = n ? (uint64_t)(p[0] | p[n / 2] | p[n - 1]) : 0;
    } else {
        return sl_utf8_valid(p, n);
    }
    return SL_LIKELY(!(acc & 0x8080808080808080ULL)) || sl_utf8_valid(p, n);
}

/* A string value p[0..n) into column c: UTF-8 checked, then appended. For
 * 4..16 bytes the two words the copy loads are the ASCII test too (the
 * full check runs only when a high bit is set). -1 on invalid UTF-8 or a
 * column error. */
/* n in [w, 2w] (w 4 or 8): checked and copied as two overlapping words
 * (sluice builds for little-endian hosts: a short word is its low bytes). */
SL_PB_INLINE int put_words(sl_col *c, const uint8_t *p, size_t n, int rep, size_t w)
{
    uint64_t a = 0, b = 0;
    uint8_t *d;
    memcpy(&a, p, w);
    memcpy(&b, p + n - w, w);
    if (SL_UNLIKELY((a | b) & 0x8080808080808080ULL) && !sl_utf8_valid(p, n)) return -1;
    if (sl_col_bytes_room(c, n, rep, &d)) return -1;
    memcpy(d, &a, w);
    memcpy(d + n - w, &b, w);
    return 0;
}

SL_PB_INLINE int put_str(sl_col *c, const uint8_t *p, size_t n, int rep)
{
    if (n >= 8 && n <= 16) return put_words(c, p, n, rep, 8);
    if (n >= 4 && n < 8) return put_words(c, p, n, rep, 4);
    return !str_ok(p, n) || sl_col_bytes(c, p, n, rep) ? -1 : 0;
}

/* A plain scalar of kind k (plain_kind) at p: the position after it, or
 * NULL. Strings are UTF-8 checked here, so that put_scalar cannot fail on
 * the input. */
SL_PB_INLINE const uint8_t *rd_scalar(uint8_t k, const uint8_t *p, const uint8_t *end, sl_val *v)
{
    uint64_t x;
    switch (k) {
    case SL_SK_STR:
    case SL_SK_BYTES:
        if (!(p = rd_len(p, end, &x)) || (k == SL_SK_STR && !str_ok(p, (size_t)x))) return NULL;
        v->s.p = p;
        v->s.len = (uint32_t)x;
        return p + x;
    case SL_SK_F64:
        if (end - p < 8) return NULL;
        memcpy(&v->u, p, 8);
        return p + 8;
    default:
        return rd_varint(p, end, &v->u);
    }
}

SL_PB_INLINE sl_err_t put_scalar(uint8_t k, sl_col *c, sl_val v, int rep)
{
    switch (k) {
    case SL_SK_STR:
    case SL_SK_BYTES:
        return sl_col_bytes(c, v.s.p, v.s.len, rep);
    case SL_SK_F64:
        return sl_col_fixed(c, &v.u, 8, rep);
    case SL_SK_I32:
        return sl_col_i32(c, (int32_t)(uint32_t)v.u, rep);
    case SL_SK_U32:
        return sl_col_i64(c, (int64_t)(uint32_t)v.u, rep);
    case SL_SK_BOOL:
        return sl_col_bool(c, v.u != 0, rep);
    default:
        return sl_col_i64(c, (int64_t)v.u, rep);
    }
}

/* A map entry p[0..end) that is exactly its key then its value (e->ktag
 * set): 1 when both are written, 0 when the entry has another shape
 * (nothing written: the caller shreds it as a message), -1 on a column
 * error. Saves the call and the per-field dispatch of a sub-message.
 * map<string, string> has its own path (put_str's word copies; invalid
 * UTF-8 there is -1, the record then goes the two-step way as it would
 * after 0): -20% of a map entry's instructions on PlayEvent's ext. */
static int map_entry(const sl_rec_sfield *e, sl_col *cols, const uint8_t *p, const uint8_t *end,
                     int rep)
{
    if (e->kkind == SL_SK_STR &&
        e->vkind == SL_SK_STR) { /* string to string: no sl_val, no switch */
        const uint8_t *kp, *vp;
        uint64_t kl, vl;
        if (end - p < 2 || p[0] != e->ktag || !(kp = rd_len(p + 1, end, &kl))) return 0;
        p = kp + kl;
        if (p >= end || p[0] != e->vtag || !(vp = rd_len(p + 1, end, &vl)) || vp + vl != end)
            return 0;
        return put_str(&cols[e->key_leaf], kp, (size_t)kl, rep) ||
                       put_str(&cols[e->val_leaf], vp, (size_t)vl, rep)
                   ? -1
                   : 1;
    }
    sl_val k, v;
    if (end - p < 2 || p[0] != e->ktag || !(p = rd_scalar(e->kkind, p + 1, end, &k)) || p >= end ||
        p[0] != e->vtag || !(p = rd_scalar(e->vkind, p + 1, end, &v)) || p != end)
        return 0;
    return put_scalar(e->kkind, &cols[e->key_leaf], k, rep) ||
                   put_scalar(e->vkind, &cols[e->val_leaf], v, rep)
               ? -1
               : 1;
}

/* Is value k of the key column c equal to one of values [v0, k)? */
/* Equal byte strings of n bytes: short ones by two overlapping words (or
 * their 1-3 bytes), inline; longer by memcmp. */
static inline int same_str(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x0, x1, y0, y1;
        memcpy(&x0, a, 8), memcpy(&x1, a + n - 8, 8);
        memcpy(&y0, b, 8), memcpy(&y1, b + n - 8, 8);
        return !((x0 ^ y0) | (x1 ^ y1));
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, x1, y0, y1;
        memcpy(&x0, a, 4), memcpy(&x1, a + n - 4, 4);
        memcpy(&y0, b, 4), memcpy(&y1, b + n - 4, 4);
        return !((x0 ^ y0) | (x1 ^ y1));
    }
    if (n < 4) return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    return !memcmp(a, b, n);
}

static int key_seen(const sl_col *c, size_t v0, size_t k)
{
    if (c->type == SL_PT_BYTE_ARRAY) {
        uint32_t len = c->off[k + 1] - c->off[k];
        const uint8_t *p = c->val.p + c->off[k];
        for (size_t j = v0; j < k; j++)
            if (c->off[j + 1] - c->off[j] == len && same_str(c->val.p + c->off[j], p, len))
                return 1;
        return 0;
    }
    size_t w = c->type == SL_PT_BOOLEAN                           ? 1
               : c->type == SL_PT_INT32 || c->type == SL_PT_FLOAT ? 4
                                                                  : 8;
    for (size_t j = v0; j < k; j++)
        if (!memcmp(c->val.p + j * w, c->val.p + k * w, w)) return 1;
    return 0;
}

/* A closed enum drops the numbers it does not declare. */
static inline int closed_drops(const shred *s, const sl_plan_field *f, const sl_rec_fop *op,
                               sl_val v)
{
    const char *nm;
    uint32_t nl;
    return op->store == SL_ST_CLOSED &&
           !sl_rec_enum_name(sl_rec_enum_of(s->e.r, f->enm), (int32_t)v.i, &nm, &nl);
}

/* Fields of ranks [from, to) of message mi are absent. */
static int absent(shred *s, int32_t mi, int32_t from, int32_t to, int rep)
{
    const sl_plan_msg *m = &s->msgs[mi];
    const sl_rec_mops *mo = &s->mops[mi];
    for (int32_t k = from; k < to; k++) {
        int32_t fi = mo->sf[k].fi;
        if (sl_em_one(&s->e, &m->fields[fi], &mo->fop[fi], NULL, rep)) return -1;
    }
    return 0;
}

/* A varint that is known to end before the end of its buffer (a byte
 * below 0x80 follows): no bounds checks. NULL past 10 bytes; the 10th
 * keeps its low bit only, as sl_pb_varint. */
SL_PB_INLINE const uint8_t *varint_ends(const uint8_t *p, uint64_t *x)
{
    uint64_t r = 0;
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) {
        uint64_t b = p[i];
        r |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *x = r;
            return p + i + 1;
        }
    }
    return NULL;
}

/* A packed run of int64/uint64 varints into c at once. The run must end
 * with a varint's last byte (else it is truncated: -1); then each varint
 * ends inside it, and there are at most as many as bytes. Room for that
 * many is made first (capacity only: unused room is the next run's), the
 * values and levels are written without a check each, and the counts
 * move last: on -1 the column is unchanged. The number written, or -1.
 * On 1M PlayEvents (recent_avids, 2.7M values in 0.8M runs) the runs took
 * 232M instructions instead of 299M read and appended value by value. */
static long packed_i64(sl_col *c, const uint8_t *p, const uint8_t *end, int rep0, int rep)
{
    if (p == end) return 0;
    if (end[-1] >= 0x80) return -1;
    size_t room = (size_t)(end - p), k = 0;
    if (sl_col_reserve_levels(c, room) || sl_buf_reserve(&c->val, room * 8)) return -1;
    uint8_t *d = c->val.p + c->val.len;
    if (c->max_def | c->max_rep) {
        uint8_t *df = c->def + c->n, *rp = c->rep + c->n, md = (uint8_t)c->max_def;
        for (; p < end; k++) {
            uint64_t x;
            if (!(p = varint_ends(p, &x))) return -1;
            memcpy(d + k * 8, &x, 8);
            df[k] = md;
            rp[k] = (uint8_t)rep;
        }
        rp[0] = (uint8_t)rep0;
    } else {
        for (; p < end; k++) {
            uint64_t x;
            if (!(p = varint_ends(p, &x))) return -1;
            memcpy(d + k * 8, &x, 8);
        }
    }
    c->n += k;
    c->nvals += k;
    c->val.len += k * 8;
    return (long)k;
}

/* A packed run p[0..end) of a repeated scalar field: the number of
 * elements written (closed enums drop some), or -1. The first takes rep0. */
static long shred_packed(shred *s, const sl_plan_field *f, const sl_rec_fop *op, const uint8_t *p,
                         const uint8_t *end, int rep0)
{
    size_t sz = op->wire == 1 ? 8 : op->wire == 5 ? 4 : 0;
    long n = 0;
    if (sz && (size_t)(end - p) % sz) return -1;
    if (op->vk == SL_VK_I64 && op->conv == SL_CV_64 && sz == 0) /* int64, uint64 */
        return packed_i64(&s->e.cols[f->leaf], p, end, rep0, f->rep);
    while (p < end) {
        sl_val v;
        if (sz == 0) {
            uint64_t x;
            if (!(p = rd_varint(p, end, &x))) return -1;
            v = sl_pb_from_varint(op->conv, x);
        } else if (sz == 8) {
            memcpy(&v.u, p, 8);
            p += 8;
        } else {
            v = sl_pb_from_fixed32(f->type, p);
            p += 4;
        }
        if (closed_drops(s, f, op, v)) continue;
        if (sl_em_value(&s->e, f, op->vk, v, n ? f->rep : rep0)) return -1;
        n++;
    }
    return n;
}

/* A packed run p[0..end) of the field of rank o, in rank order (*next). */
static int shred_run(shred *s, int32_t mi, int32_t o, const uint8_t *p, const uint8_t *end, int rep,
                     int32_t *next)
{
    const sl_rec_mops *mo = &s->mops[mi];
    int32_t fi = mo->sf[o].fi;
    const sl_plan_field *f = &s->msgs[mi].fields[fi];
    int first = o >= *next;
    if (!first && o != *next - 1) return -1;
    long n = shred_packed(s, f, &mo->fop[fi], p, end, first ? rep : f->rep);
    if (n < 0) return -1;
    if (first && n) { /* an empty run writes nothing: as if absent so far */
        if (absent(s, mi, *next, o, rep)) return -1;
        *next = o + 1;
    }
    return 0;
}

/* A field number the tag table does not give with its expected wire type
 * (tag read; the position after it is p). Returns the position after the
 * field, or NULL to give up; *rank is the field's rank when the tag is
 * the field's ordinary encoding (the caller shreds it), else -1 (skipped
 * unknown field, or a packed run written here, which *next follows). */
static const uint8_t *shred_rare(shred *s, int32_t mi, uint64_t tag, const uint8_t *p,
                                 const uint8_t *end, int rep, int32_t *next, int32_t *rank)
{
    const sl_rec_mops *mo = &s->mops[mi];
    int wt = (int)(tag & 7);
    *rank = -1;
    if (tag >> 3 == 0 || tag >> 32) return NULL;
    int32_t fi = sl_plan_field_by_number(s->e.p, mi, (uint32_t)(tag >> 3));
    if (fi < 0) return skip_unknown(p, end, wt);
    int32_t o = mo->rank[fi];
    const sl_rec_fop *op = &mo->fop[fi];
    if (wt == op->wire) {
        *rank = o;
        return p;
    }
    uint64_t x;
    if (wt != 2 || !s->msgs[mi].fields[fi].repeated || op->wire == 2 || op->wire == 3 ||
        !(p = rd_len(p, end, &x)) || shred_run(s, mi, o, p, p + x, rep, next))
        return NULL;
    return p + x;
}

/* A scalar field of kind SL_SK_OTHER (p after its tag): the position after
 * it, or NULL. *wrote is 0 when a closed enum dropped the value. */
static const uint8_t *shred_other(shred *s, int32_t mi, const sl_rec_sfield *e, const uint8_t *p,
                                  const uint8_t *end, int rep, int first, uint64_t *oneofs,
                                  int *wrote)
{
    const sl_plan_field *f = &s->msgs[mi].fields[e->fi];
    const sl_rec_fop *op = &s->mops[mi].fop[e->fi];
    uint64_t x;
    sl_val v;
    v.u = 0;
    switch (op->wire) {
    case 0:
        if (!(p = rd_varint(p, end, &x))) return NULL;
        v = sl_pb_from_varint(op->conv, x);
        break;
    case 1:
        if (end - p < 8) return NULL;
        memcpy(&v.u, p, 8);
        p += 8;
        break;
    case 5:
        if (end - p < 4) return NULL;
        v = sl_pb_from_fixed32(f->type, p);
        p += 4;
        break;
    case 2:
        if (!(p = rd_len(p, end, &x)) || (op->utf8 && !sl_utf8_valid(p, (size_t)x))) return NULL;
        v.s.p = p;
        v.s.len = (uint32_t)x;
        p += x;
        break;
    default: /* groups */
        return NULL;
    }
    *wrote = 0;
    if (closed_drops(s, f, op, v)) return p; /* as an unknown field */
    *wrote = 1;
    if (f->repeated) return sl_em_value(&s->e, f, op->vk, v, first ? rep : f->rep) ? NULL : p;
    if (f->oneof >= 0) {
        if (*oneofs >> f->oneof & 1) return NULL;
        *oneofs |= (uint64_t)1 << f->oneof;
    }
    sl_rec_slot one;
    one.v = v;
    one.h = 1;
    return sl_em_one(&s->e, f, op, &one, rep) ? NULL : p;
}

static int shred_msg(shred *s, int32_t mi, const uint8_t *p, const uint8_t *end, int rep,
                     int depth);

/* A sub-message payload p[0..end), one level down. */
static inline int shred_sub(shred *s, int32_t child, const uint8_t *p, const uint8_t *end, int rep,
                            int depth)
{
    if (depth + 1 >= s->max_depth || depth + 1 >= 128) return -1;
    return shred_msg(s, child, p, end, rep, depth + 1);
}

/* Message mi from p[0..end) at repetition level rep: 0 when every column
 * below it got its slots, -1 to give up (the caller rolls back). */
static int shred_msg(shred *s, int32_t mi, const uint8_t *p, const uint8_t *end, int rep, int depth)
{
    const sl_rec_mops *mo = &s->mops[mi];
    const sl_rec_sfield *sf = mo->sf;
    if (!sf) return -1;
    const uint16_t *ttab = mo->stag;
    const uint64_t ntag = mo->n_tag;
    sl_col *cols = s->e.cols;
    int32_t next = 0;    /* rank after the last field written */
    uint64_t oneofs = 0; /* oneofs with a member written */
    size_t map_v0 = 0;   /* key column index of the current map's first entry */
    while (p < end) {
        uint64_t tag, x;
        uint32_t k;
        int32_t o;
        if (!(p = sl_pb_tag(p, end, &tag))) return -1;
        if (SL_LIKELY(tag < ntag && (k = ttab[tag]) != 0)) {
            o = (int32_t)(k & ~SL_SK_PACKED) - 1;
            if (SL_UNLIKELY(k & SL_SK_PACKED)) {
                int32_t nx = next; /* a copy: next itself stays in a register */
                if (!(p = rd_len(p, end, &x)) || shred_run(s, mi, o, p, p + x, rep, &nx)) return -1;
                next = nx;
                p += x;
                continue;
            }
        } else { /* unknown, large number, wrong or packed wire type */
            int32_t nx = next;
            if (!(p = shred_rare(s, mi, tag, p, end, rep, &nx, &o))) return -1;
            next = nx;
            if (o < 0) continue;
        }
        const sl_rec_sfield *e = &sf[o];
        /* in rank order; a repeated field may go on */
        const int first = o >= next;
        if (SL_UNLIKELY(!first) && (o != next - 1 || !e->repeated)) return -1;
        switch (e->kind) {
        case SL_SK_I64:
            if (!(p = rd_varint_long(p, end, &x)) || sl_col_i64(&cols[e->leaf], (int64_t)x, rep))
                return -1;
            break;
        case SL_SK_I32:
            if (!(p = rd_varint(p, end, &x)) ||
                sl_col_i32(&cols[e->leaf], (int32_t)(uint32_t)x, rep))
                return -1;
            break;
        case SL_SK_F64:
            if (end - p < 8) return -1;
            memcpy(&x, p, 8);
            p += 8;
            if (sl_col_fixed(&cols[e->leaf], &x, 8, rep)) return -1;
            break;
        case SL_SK_BOOL:
            if (!(p = rd_varint(p, end, &x)) || sl_col_bool(&cols[e->leaf], x != 0, rep)) return -1;
            break;
        case SL_SK_U32:
            if (!(p = rd_varint(p, end, &x)) ||
                sl_col_i64(&cols[e->leaf], (int64_t)(uint32_t)x, rep))
                return -1;
            break;
        case SL_SK_ENUM: {
            const sl_plan_field *f = &s->msgs[mi].fields[e->fi];
            sl_val v;
            if (!(p = rd_varint(p, end, &x))) return -1;
            v.i = (int32_t)(uint32_t)x;
            if (sl_em_enum(&s->e, f, v, rep)) return -1;
            break;
        }
        case SL_SK_REP_STR:
            if (!(p = rd_len(p, end, &x)) ||
                put_str(&cols[e->leaf], p, (size_t)x, first ? rep : e->rep))
                return -1;
            p += x;
            break;
        case SL_SK_STR:
            if (!(p = rd_len(p, end, &x)) || put_str(&cols[e->leaf], p, (size_t)x, rep)) return -1;
            p += x;
            break;
        case SL_SK_BYTES:
            if (!(p = rd_len(p, end, &x)) || sl_col_bytes(&cols[e->leaf], p, (size_t)x, rep))
                return -1;
            p += x;
            break;
        case SL_SK_MSG: {
            const sl_plan_field *f = &s->msgs[mi].fields[e->fi];
            if (!(p = rd_len(p, end, &x))) return -1;
            if (f->oneof >= 0) {
                if (oneofs >> f->oneof & 1) return -1;
                oneofs |= (uint64_t)1 << f->oneof;
            }
            if (shred_sub(s, f->child, p, p + x, rep, depth)) return -1;
            p += x;
            break;
        }
        case SL_SK_REP_MSG:
            if (!(p = rd_len(p, end, &x)) || shred_sub(s, s->msgs[mi].fields[e->fi].child, p, p + x,
                                                       first ? rep : e->rep, depth))
                return -1;
            p += x;
            break;
        case SL_SK_MAP: {
            const sl_col *kc = &cols[e->key_leaf];
            size_t kv = kc->nvals;
            if (first) map_v0 = kv;
            int erep = first ? rep : e->rep, done = 0;
            if (kv - map_v0 >= SH_MAP_MAX || !(p = rd_len(p, end, &x)) ||
                (e->ktag && (done = map_entry(e, cols, p, p + x, erep)) < 0) ||
                (!done && shred_sub(s, s->msgs[mi].fields[e->fi].child, p, p + x, erep, depth)) ||
                kc->nvals != kv + 1 || key_seen(kc, map_v0, kv))
                return -1;
            p += x;
            break;
        }
        case SL_SK_OTHER: {
            int wrote;
            if (!(p = shred_other(s, mi, e, p, end, rep, first, &oneofs, &wrote))) return -1;
            if (!wrote) continue;
            break;
        }
        default: /* every kind is a case: no range check before the jump */
            __builtin_unreachable();
        }
        if (first) {
            if (SL_UNLIKELY(o > next) && absent(s, mi, next, o, rep)) return -1;
            next = o + 1;
        }
    }
    return next < s->msgs[mi].n_fields ? absent(s, mi, next, s->msgs[mi].n_fields, rep) : 0;
}

sl_err_t sl_pb_shred(sl_rec *r, sl_batch *b, const uint8_t *data, size_t len)
{
    const sl_plan *p = r->p;
    if (!r->mops[0].sf || len > UINT32_MAX || b->ncols < p->schema.n_leaves)
        return SL_ERR_UNSUPPORTED;
    shred s;
    s.e.r = r;
    s.e.p = p;
    s.e.cols = b->cols;
    s.e.err = &s.ignored;
    s.msgs = p->msgs;
    s.mops = r->mops;
    s.max_depth = p->max_depth > 0 && p->max_depth < 127 ? p->max_depth : 100;
    if (!data) data = (const uint8_t *)"";
    sl_rec_mark(r, b);
    if (SL_UNLIKELY(shred_msg(&s, 0, data, data + len, 0, 0))) {
        sl_rec_rollback(r, b);
        return SL_ERR_UNSUPPORTED;
    }
    b->nrows++;
    return SL_OK;
}
