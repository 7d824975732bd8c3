/* pb_emit_int.h - private: the column appends of the shredder, shared by
 * its two callers:
 *   - pb_emit.c (sl_rec_emit), which walks a finished record scratch;
 *   - pb_shred.c (the direct path of sl_pb_decode), which shreds from the
 *     wire and uses these for every value and every absent field, so both
 *     paths write a field through the very same code.
 *
 * sl_em_one is the per-field switch on the precomputed emit code
 * (pb_rec_int.h): given a slot (NULL or empty: absent) it appends the
 * value, the default, the nulls, or fails on a missing proto2 required
 * field. It is static inline so that each caller's loop pays one switch
 * per field; the rare cases (enum names, messages, maps, errors) are out of
 * line in pb_emit.c.
 *
 * On error an emitter function returns the code with e->err set; what it
 * appended before is rolled back by the caller (sl_rec_rollback).
 *
 * Not for use outside src/formats/pb.
 */
#ifndef SL_PB_EMIT_INT_H
#define SL_PB_EMIT_INT_H

#include "formats/pb/pb_rec_int.h"

typedef struct sl_emitter {
    sl_rec *r;
    const sl_plan *p;
    sl_col *cols;
    sl_error *err;
} sl_emitter;

/* Out of line (pb_emit.c). */
sl_err_t sl_em_col_fail(sl_emitter *e, sl_err_t rc, int32_t leaf);
/* Enum value name (or decimal text of an unknown number). */
sl_err_t sl_em_enum(sl_emitter *e, const sl_plan_field *f, sl_val v, int rep);
sl_err_t sl_em_missing_required(sl_emitter *e, const sl_plan_field *f);
/* Message mi from frame (-1: present but empty), every field at rep. */
sl_err_t sl_em_msg(sl_emitter *e, int32_t mi, int32_t frame, int rep);
sl_err_t sl_em_map(sl_emitter *e, const sl_plan_field *f, const sl_rec_slot *s, int rep);

/* Remember the slot counts of the columns with levels (r->lv_n), so that
 * sl_rec_rollback can undo what a record appended to b. */
static inline void sl_rec_mark(sl_rec *r, const sl_batch *b)
{
    for (int32_t k = 0; k < r->n_lv; k++)
        r->lv_n[k] = b->cols[r->lv[k]].n;
}
/* Truncate every column of b back to sl_rec_mark (b->nrows unchanged). */
void sl_rec_rollback(sl_rec *r, sl_batch *b);

SL_PB_INLINE sl_err_t sl_em_value(sl_emitter *e, const sl_plan_field *f, uint8_t vk, sl_val v,
                                  int rep)
{
    sl_col *c = &e->cols[f->leaf];
    sl_err_t rc;
    switch (vk) {
    case SL_VK_I32:
        rc = sl_col_i32(c, (int32_t)v.i, rep);
        break;
    case SL_VK_U32:
        rc = sl_col_i64(c, (int64_t)(uint32_t)v.u, rep);
        break;
    case SL_VK_I64:
        rc = sl_col_i64(c, v.i, rep);
        break;
    case SL_VK_F32:
        rc = sl_col_f32(c, v.f, rep);
        break;
    case SL_VK_F64:
        rc = sl_col_f64(c, v.d, rep);
        break;
    case SL_VK_BOOL:
        rc = sl_col_bool(c, v.u != 0, rep);
        break;
    case SL_VK_BYTES:
        rc = sl_col_bytes(c, v.s.p, v.s.len, rep);
        break;
    default:
        return sl_em_enum(e, f, v, rep);
    }
    return SL_UNLIKELY(rc) ? sl_em_col_fail(e, rc, f->leaf) : SL_OK;
}

static inline sl_err_t sl_em_nulls(sl_emitter *e, const sl_plan_field *f, int def, int rep)
{
    for (int32_t l = f->first_leaf; l < f->first_leaf + f->n_leaves; l++) {
        sl_err_t rc = sl_col_null(&e->cols[l], def, rep);
        if (SL_UNLIKELY(rc)) return sl_em_col_fail(e, rc, l);
    }
    return SL_OK;
}

/* One field, given its slot (NULL or empty: absent). */
SL_PB_INLINE sl_err_t sl_em_one(sl_emitter *e, const sl_plan_field *f, const sl_rec_fop *op,
                                const sl_rec_slot *s, int rep)
{
    int has = s && s->h;
    sl_err_t rc;
    switch (op->emit) {
    case SL_EM_SCALAR_I32:
        rc = sl_col_i32(&e->cols[f->leaf], (int32_t)(has ? s->v.i : f->dflt.i), rep);
        break;
    case SL_EM_SCALAR_I64:
        rc = sl_col_i64(&e->cols[f->leaf], has ? s->v.i : f->dflt.i, rep);
        break;
    case SL_EM_SCALAR_F64:
        rc = sl_col_f64(&e->cols[f->leaf], has ? s->v.d : f->dflt.d, rep);
        break;
    case SL_EM_SCALAR_BOOL:
        rc = sl_col_bool(&e->cols[f->leaf], (has ? s->v.u : f->dflt.u) != 0, rep);
        break;
    case SL_EM_SCALAR_BYTES: {
        sl_val v = has ? s->v : f->dflt;
        rc = sl_col_bytes(&e->cols[f->leaf], v.s.p, v.s.len, rep);
        break;
    }
    case SL_EM_SCALAR:
        return sl_em_value(e, f, op->vk, has ? s->v : f->dflt, rep);
    case SL_EM_SCALAR_OPT:
        return has ? sl_em_value(e, f, op->vk, s->v, rep) : sl_em_nulls(e, f, f->def - 1, rep);
    case SL_EM_SCALAR_REQ:
        return has ? sl_em_value(e, f, op->vk, s->v, rep) : sl_em_missing_required(e, f);
    case SL_EM_MSG_OPT:
        return has ? sl_em_msg(e, f->child, (int32_t)s->h - 1, rep)
                   : sl_em_nulls(e, f, f->def - 1, rep);
    case SL_EM_MSG_REQ:
        return has ? sl_em_msg(e, f->child, (int32_t)s->h - 1, rep) : sl_em_missing_required(e, f);
    case SL_EM_MSG_ALWAYS:
        return sl_em_msg(e, f->child, has ? (int32_t)s->h - 1 : -1, rep);
    case SL_EM_MAP:
        return has ? sl_em_map(e, f, s, rep) : sl_em_nulls(e, f, f->def, rep);
    default: /* SL_EM_REP_SCALAR, SL_EM_REP_MSG */
        if (!has) return sl_em_nulls(e, f, f->def, rep);
        for (uint32_t it = s->h; it; it = e->r->items[it - 1].next) {
            const sl_rec_item *item = &e->r->items[it - 1];
            rc = op->emit == SL_EM_REP_SCALAR ? sl_em_value(e, f, op->vk, item->v, rep)
                                              : sl_em_msg(e, f->child, (int32_t)item->v.u, rep);
            if (SL_UNLIKELY(rc)) return rc;
            rep = f->rep;
        }
        return SL_OK;
    }
    /* the fused scalar kinds */
    return SL_UNLIKELY(rc) ? sl_em_col_fail(e, rc, f->leaf) : SL_OK;
}

#endif
