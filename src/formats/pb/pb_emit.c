/* pb_emit.c - sl_rec_emit: shred a finished record scratch into column
 * builders (Dremel), the second step of pb_plan.h.
 *
 * The walk follows the plan, not the input, so every leaf gets exactly one
 * slot per (repeated) position whatever the input held:
 *   - present scalar: its value at max_def;
 *   - absent scalar: null at def - 1 if it has presence, else the default;
 *   - absent message: one null per leaf below it at the message's def - 1
 *     (a proto2 required message is an error instead; a map value message
 *     is emitted as an empty message, protobuf's default instance);
 *   - empty repeated: one null per leaf at the list's def (= parent's);
 *   - element k of a list: rep = the caller's rep for k == 0, else the
 *     list's own repetition level.
 * Maps: entries are de-duplicated by key before writing (last value wins at
 * the first position of the key; missing key/value = default). Up to 16
 * entries a quadratic scan (no setup), above that an open-addressing hash
 * over scratch arrays kept in the sl_rec.
 *
 * Enum numbers become value names (unknown numbers of open enums: decimal
 * text); proto2 required fields are checked in present messages only, as
 * protobuf does (a missing one fails the record).
 *
 * On any error the batch is rolled back, so the caller sees the whole
 * record or nothing. Instead of sl_batch_mark (three loads and stores per
 * column per record, ~4% of the PlayEvent budget), only repeated columns
 * (max_rep > 0) are marked: any other column holds exactly one slot per
 * row, so its length before the record is the row count, and the value
 * counts and bytes to cut follow from the slots removed (sl_rec_rollback).
 *
 * Cost: one switch per field on a precomputed op code (sl_em_one in
 * pb_emit_int.h, shared with the direct path pb_shred.c; the
 * implicit-presence scalars of the common kinds have fused codes, so they
 * skip sl_em_value's second switch on the value kind), the inline column
 * appends of col.h, nothing allocated after warm-up.
 * Recursion depth is the schema's depth (bounded at compile time).
 */
#include "formats/pb/pb_emit_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_err_t sl_em_col_fail(sl_emitter *e, sl_err_t rc, int32_t leaf)
{
    char path[256];
    sl_schema_path(&e->p->schema, e->p->schema.leaves[leaf], path, sizeof path);
    return sl_error_set(e->err, rc,
                        rc == SL_ERR_NOMEM ? "column %s: out of memory while adding a value"
                                           : "column %s: batch column exceeds its size bound; "
                                             "flush batches more often",
                        path);
}

sl_err_t sl_em_enum(sl_emitter *e, const sl_plan_field *f, sl_val v, int rep)
{
    sl_col *c = &e->cols[f->leaf];
    const char *name;
    uint32_t len;
    sl_err_t rc;
    if (sl_rec_enum_name(sl_rec_enum_of(e->r, f->enm), (int32_t)v.i, &name, &len)) {
        rc = sl_col_bytes(c, name, len, rep);
    } else { /* open enum, unknown number: its decimal text */
        char num[16];
        int n = snprintf(num, sizeof num, "%d", (int32_t)v.i); /* at most 11 */
        uint8_t *d;
        rc = sl_col_bytes_room(c, (size_t)n, rep, &d);
        if (!rc) memcpy(d, num, (size_t)n);
    }
    return SL_UNLIKELY(rc) ? sl_em_col_fail(e, rc, f->leaf) : SL_OK;
}

sl_err_t sl_em_missing_required(sl_emitter *e, const sl_plan_field *f)
{
    char path[256];
    sl_schema_path(&e->p->schema, f->node, path, sizeof path);
    return sl_error_set(e->err, SL_ERR_CORRUPT,
                        "required field %s (number %d) is missing; protobuf's parser rejects "
                        "this record too",
                        path, f->pf->number);
}

/* Field fi of plan message mi, from frame (or -1: the message is present
 * but holds nothing, e.g. a map entry's absent value). */
static sl_err_t emit_field(sl_emitter *e, int32_t mi, int32_t fi, int32_t frame, int rep)
{
    return sl_em_one(e, &e->p->msgs[mi].fields[fi], &e->r->mops[mi].fop[fi],
                     frame >= 0 ? sl_rec_slot_of(e->r, frame, fi) : NULL, rep);
}

sl_err_t sl_em_msg(sl_emitter *e, int32_t mi, int32_t frame, int rep)
{
    const sl_plan_msg *m = &e->p->msgs[mi];
    const sl_plan_field *f = m->fields;
    const sl_rec_fop *op = e->r->mops[mi].fop;
    /* the slot array does not move during emit */
    const sl_rec_slot *s = frame >= 0 ? &e->r->slots[e->r->frames[frame].base] : NULL;
    for (int32_t fi = 0, n = m->n_fields; fi < n; fi++) {
        sl_err_t rc = sl_em_one(e, &f[fi], &op[fi], s ? &s[fi] : NULL, rep);
        if (SL_UNLIKELY(rc)) return rc;
    }
    return SL_OK;
}

/* ---- maps ---- */

/* One row entry per distinct key (pb_rec_int.h, sl_rec_map_begin): the key
 * from its first occurrence, the value from its last. */
sl_err_t sl_em_map(sl_emitter *e, const sl_plan_field *f, const sl_rec_slot *s, int rep)
{
    sl_rec *r = e->r;
    const sl_plan_msg *em = &e->p->msgs[f->child];
    int32_t vf = em->by_number[2];
    sl_rec_map m;
    sl_err_t rc = sl_rec_map_begin(r, em, s, &m);
    if (rc) return sl_error_set(e->err, rc, "map: out of memory");
    for (size_t i = 0; i < m.n; i++) {
        if (!sl_rec_map_keep(r, &m)[i]) continue;
        for (int32_t fi = 0; fi < em->n_fields; fi++) {
            uint32_t fr = fi == vf ? sl_rec_map_win(r, &m)[i] : sl_rec_map_ent(r, &m)[i];
            if (SL_UNLIKELY(rc = emit_field(e, f->child, fi, (int32_t)fr, rep))) goto done;
        }
        rep = f->rep;
    }
done:
    sl_rec_map_end(r, &m);
    return rc;
}

/* Undo a partly written record. Only repeated columns were marked (any
 * other column holds exactly one slot per row, so its length before the
 * record is the batch's row count); value counts and value bytes follow
 * from the slots removed. O(slots of the record). */
void sl_rec_rollback(sl_rec *r, sl_batch *b)
{
    int32_t k = 0;
    for (int32_t i = 0; i < b->ncols; i++) {
        sl_col *c = &b->cols[i];
        size_t pre = b->nrows;
        if (k < r->n_lv && r->lv[k] == i) pre = r->lv_n[k++];
        if (c->n <= pre) continue;
        size_t removed_vals = c->n - pre;
        if (c->max_def | c->max_rep) {
            removed_vals = 0;
            for (size_t j = pre; j < c->n; j++)
                removed_vals += c->def[j] == c->max_def;
        }
        c->n = pre;
        c->nvals -= removed_vals;
        switch (c->type) {
        case SL_PT_BYTE_ARRAY:
            c->val.len = c->off[c->nvals];
            break;
        case SL_PT_BOOLEAN:
            c->val.len = c->nvals;
            break;
        case SL_PT_INT32:
        case SL_PT_FLOAT:
            c->val.len = c->nvals * 4;
            break;
        default:
            c->val.len = c->nvals * 8;
            break;
        }
    }
}

sl_err_t sl_rec_emit(sl_rec *r, sl_batch *b, sl_error *err)
{
    /* Extra trailing columns (the pipeline's metadata columns) are the
     * caller's to fill after a successful emit. */
    if (b->ncols < r->p->schema.n_leaves)
        return sl_error_set(err, SL_ERR_INVALID, "emit: batch is not of the plan's schema");
    sl_emitter e = {r, r->p, b->cols, err};
    r->m_top = 0;
    sl_rec_mark(r, b);
    sl_err_t rc = sl_em_msg(&e, 0, 0, 0);
    if (SL_UNLIKELY(rc)) {
        sl_rec_rollback(r, b);
        return rc;
    }
    b->nrows++;
    return SL_OK;
}
