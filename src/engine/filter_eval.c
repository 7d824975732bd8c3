/* filter_eval.c - evaluation of a compiled filter (filter_int.h): one
 * pass over the postfix program with a fixed stack of tri-state values
 * (false, true, unknown) on the C stack. No allocation, no recursion; the
 * cost is one sl_path_get (a few loads per path step) and one compare per
 * literal of each predicate.
 *
 * Numbers compare exactly across int64, uint64 and double: an integer is
 * compared with a double through the double's integral part (exact when
 * the double is in the integer's range, which is checked first) and then
 * its fraction, never by converting the integer to double (2^53 + 1 would
 * equal 2^53). NaN is unordered: only != holds.
 */
#include <math.h>
#include <string.h>

#include "engine/filter_int.h"

enum { V_F = 0, V_T = 1, V_U = 2 };

/* Exact comparisons: -1, 0, 1, or 2 when unordered (NaN). */
static int cmp_i_u(int64_t a, uint64_t b)
{
    if (a < 0) return -1;
    return (uint64_t)a < b ? -1 : (uint64_t)a > b;
}

static int cmp_i_d(int64_t a, double d)
{
    if (isnan(d)) return 2;
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (a != ti) return a < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int cmp_u_d(uint64_t a, double d)
{
    if (isnan(d)) return 2;
    if (d < 0) return 1;
    if (d >= 18446744073709551616.0) return -1;
    double t = trunc(d);
    uint64_t tu = (uint64_t)t;
    if (a != tu) return a < tu ? -1 : 1;
    return d > t ? -1 : 0;
}

static int cmp_num(int fk, sl_val v, uint8_t type, const flit *l)
{
    if (fk == FK_D) {
        double a = type == SL_PB_FLOAT ? (double)v.f : v.d;
        if (isnan(a)) return 2;
        if (l->kind == LK_D) return isnan(l->n.d) ? 2 : (a > l->n.d) - (a < l->n.d);
        int c = l->kind == LK_I ? cmp_i_d(l->n.i, a) : cmp_u_d(l->n.u, a);
        return c == 2 ? 2 : -c;
    }
    if (fk == FK_U) {
        uint64_t a = type == SL_PB_UINT32 || type == SL_PB_FIXED32 ? (uint32_t)v.u : v.u;
        if (l->kind == LK_D) return cmp_u_d(a, l->n.d);
        if (l->kind == LK_U) return (a > l->n.u) - (a < l->n.u);
        return -cmp_i_u(l->n.i, a);
    }
    /* FK_I, FK_ENUM, FK_BOOL: signed 64 (bool: 0/1, literal LK_BOOL 0/1) */
    int64_t a = fk == FK_BOOL ? (int64_t)(v.u != 0) : v.i;
    if (l->kind == LK_D) return cmp_i_d(a, l->n.d);
    if (l->kind == LK_U) return cmp_i_u(a, l->n.u);
    return (a > l->n.i) - (a < l->n.i); /* LK_I, LK_BOOL (n.u 0/1 == n.i) */
}

static int cmp_str(sl_val v, const uint8_t *lit, uint32_t llen)
{
    uint32_t n = v.s.len < llen ? v.s.len : llen;
    int c = n ? memcmp(v.s.p, lit, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return v.s.len < llen ? -1 : v.s.len > llen;
}

static int holds(int cmp, int c)
{
    switch (cmp) {
    case C_EQ:
        return c == 0;
    case C_NE:
        return c != 0;
    case C_LT:
        return c == -1;
    case C_LE:
        return c == -1 || c == 0;
    case C_GT:
        return c == 1;
    default:
        return c == 1 || c == 0;
    }
}

int sl_filter_eval(const sl_filter *f, const sl_rec *r)
{
    uint8_t st[SL_FILTER_MAX_DEPTH + 1];
    int32_t sp = 0;
    for (int32_t k = 0; k < f->n_ops; k++) {
        const fop *op = &f->ops[k];
        sl_val v;
        switch (op->code) {
        case OP_AND: {
            uint8_t b = st[--sp], a = st[sp - 1];
            st[sp - 1] = (a == V_F || b == V_F) ? V_F : (a == V_U || b == V_U) ? V_U : V_T;
            break;
        }
        case OP_OR: {
            uint8_t b = st[--sp], a = st[sp - 1];
            st[sp - 1] = (a == V_T || b == V_T) ? V_T : (a == V_U || b == V_U) ? V_U : V_F;
            break;
        }
        case OP_NOT:
            st[sp - 1] = st[sp - 1] == V_U ? V_U : !st[sp - 1];
            break;
        case OP_ISNULL: {
            int isnull = sl_path_get(r, &f->paths[op->path], &v) < 0;
            st[sp++] = (uint8_t)(isnull ^ op->neg);
            break;
        }
        default: { /* OP_CMP, OP_IN: true if any literal holds */
            const sl_path *path = &f->paths[op->path];
            if (sl_path_get(r, path, &v) < 0) {
                st[sp++] = V_U;
                break;
            }
            uint8_t res = V_F;
            for (uint32_t i = 0; i < op->nlit && res == V_F; i++) {
                const flit *l = &f->lits[op->lit + i];
                int c = op->fk == FK_STR ? cmp_str(v, f->pool + l->off, l->len)
                                         : cmp_num(op->fk, v, path->leaf->type, l);
                res = (uint8_t)holds(op->cmp, c);
            }
            st[sp++] = res;
        }
        }
    }
    return sp == 1 && st[0] == V_T;
}
