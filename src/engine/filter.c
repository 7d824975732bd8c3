/* filter.c - the filter expression language (filter.h): lexer, recursive
 * descent parser with type checking, and the evaluator of the flat program
 * it produces.
 *
 * Language (keywords are case-insensitive):
 *   expr      := or
 *   or        := and ('or' and)*
 *   and       := not ('and' not)*
 *   not       := 'not' not | '(' expr ')' | predicate
 *   predicate := field op literal | literal op field
 *              | field 'is' ['not'] 'null'
 *              | field ['not'] 'in' '(' literal (',' literal)* ')'
 *              | field                      (a bool field: field = true)
 *   op        := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 *   field     := name ('.' name)*           (proto or JSON names; a name may
 *                                            be "double-quoted" to use a keyword)
 *   literal   := integer | decimal | 'string' | true | false
 * Integers cover [-2^63, 2^64-1]; decimals have a '.' or an exponent;
 * strings are single-quoted, '' is a quote, every other byte is itself.
 *
 * Semantics. A field's value follows protobuf presence (sl_path_get):
 * proto3 implicit scalars hold their default when absent; an absent
 * presence field (proto2 optional even with a [default], proto3
 * `optional`, oneof member) or any absent message on the path is NULL.
 * Comparisons and `in` with NULL are UNKNOWN; `is [not] null` is never
 * unknown. and/or/not follow SQL three-valued logic (not UNKNOWN is
 * UNKNOWN; false and x is false; true or x is true) and a record is kept
 * only when the whole expression is TRUE. Numbers compare exactly across
 * int64, uint64 and double (no conversion through double); NaN compares
 * unequal to everything (IEEE: != is true, the rest false). Strings and
 * bytes compare bytewise (shorter prefix first). Enums compare with string
 * literals by name (= != in only; the name must be a value of the enum)
 * and with integers by number (all operators). Bools compare with
 * true/false. Message fields allow only `is [not] null`. Repeated and map
 * fields cannot be named (sl_path_resolve refuses them).
 *
 * Program: postfix, one op per predicate or connective, evaluated with a
 * stack of tri-state values whose depth is computed at compile time and
 * bounded (SL_FILTER_MAX_DEPTH), so evaluation is a single pass over the
 * ops with a fixed array on the C stack: no allocation, no recursion, no
 * short-circuit (predicates are a few loads each; jumps would cost more
 * than they save at this size). Every type question is settled at compile
 * time; eval never fails.
 *
 * Not done (yet): field-to-field comparisons, arithmetic, functions
 * (lower(), length()), predicates on repeated fields (any/all). Each needs
 * a use case first; the program shape leaves room for them as new ops.
 */
#include "engine/filter.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/filter_int.h"

/* ---- lexer ---- */

enum { T_END, T_NAME, T_QNAME, T_INT, T_DEC, T_STR, T_OP, T_LP, T_RP, T_COMMA };

typedef struct tok {
    int kind;
    size_t at, len; /* in the text (T_STR / T_QNAME: including quotes) */
    int cmp;        /* T_OP */
} tok;

typedef struct parser {
    const char *s;
    size_t n, pos;
    tok t; /* current token */
    sl_filter *f;
    const sl_plan *p;
    sl_error *err;
    int nest;
} parser;

static sl_err_t perr(parser *ps, size_t at, sl_err_t code, const char *fmt, ...) SL_PRINTF(4, 5);
static sl_err_t perr(parser *ps, size_t at, sl_err_t code, const char *fmt, ...)
{
    char msg[SL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_error_set(ps->err, code, "filter: column %zu: %s", at + 1, msg);
}

static int is_name_start(int c)
{
    return isalpha(c) || c == '_';
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

static sl_err_t next(parser *ps)
{
    const char *s = ps->s;
    size_t i = ps->pos;
    while (i < ps->n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    tok *t = &ps->t;
    t->at = i;
    t->cmp = 0;
    if (i == ps->n) {
        t->kind = T_END;
        t->len = 0;
        ps->pos = i;
        return SL_OK;
    }
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    if (is_name_start(c) || c == '"') {
        /* a dotted path is one token: a.b."c d" */
        int quoted = 0;
        j = i;
        for (;;) {
            if (s[j] == '"') {
                quoted = 1;
                size_t q = j;
                for (j++;; j++) {
                    if (j == ps->n) return perr(ps, q, SL_ERR_INVALID, "unterminated quoted name");
                    if (s[j] != '"') continue;
                    if (j + 1 < ps->n && s[j + 1] == '"') {
                        j++;
                        continue;
                    }
                    break;
                }
                j++;
            } else {
                while (j < ps->n && is_name_char((unsigned char)s[j]))
                    j++;
            }
            if (j + 1 < ps->n && s[j] == '.' &&
                (is_name_start((unsigned char)s[j + 1]) || s[j + 1] == '"'))
                j++;
            else
                break;
        }
        t->kind = quoted ? T_QNAME : T_NAME;
    } else if (c == '\'') {
        for (;;) {
            if (j == ps->n) return perr(ps, i, SL_ERR_INVALID, "unterminated string");
            if (s[j] == '\'') {
                if (j + 1 < ps->n && s[j + 1] == '\'') {
                    j += 2;
                    continue;
                }
                j++;
                break;
            }
            j++;
        }
        t->kind = T_STR;
    } else if (isdigit(c) ||
               ((c == '-' || c == '+' || c == '.') && j < ps->n &&
                (isdigit((unsigned char)s[j]) ||
                 (s[j] == '.' && c != '.' && j + 1 < ps->n && isdigit((unsigned char)s[j + 1]))))) {
        int dec = c == '.';
        while (j < ps->n && isdigit((unsigned char)s[j]))
            j++;
        if (j < ps->n && s[j] == '.') {
            dec = 1;
            j++;
            while (j < ps->n && isdigit((unsigned char)s[j]))
                j++;
        }
        if (j < ps->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < ps->n && (s[k] == '+' || s[k] == '-')) k++;
            if (k < ps->n && isdigit((unsigned char)s[k])) {
                dec = 1;
                j = k;
                while (j < ps->n && isdigit((unsigned char)s[j]))
                    j++;
            }
        }
        if (j < ps->n && is_name_char((unsigned char)s[j]))
            return perr(ps, i, SL_ERR_INVALID, "malformed number '%.*s'", (int)(j + 1 - i), s + i);
        t->kind = dec ? T_DEC : T_INT;
    } else if (c == '(') {
        t->kind = T_LP;
    } else if (c == ')') {
        t->kind = T_RP;
    } else if (c == ',') {
        t->kind = T_COMMA;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        char d = j < ps->n ? s[j] : '\0';
        t->kind = T_OP;
        if (c == '=') {
            t->cmp = C_EQ;
            if (d == '=') j++;
        } else if (c == '!') {
            if (d != '=') return perr(ps, i, SL_ERR_INVALID, "'!' must be '!='; use 'not'");
            t->cmp = C_NE;
            j++;
        } else if (c == '<') {
            t->cmp = d == '=' ? C_LE : d == '>' ? C_NE : C_LT;
            if (d == '=' || d == '>') j++;
        } else {
            t->cmp = d == '=' ? C_GE : C_GT;
            if (d == '=') j++;
        }
    } else {
        return perr(ps, i, SL_ERR_INVALID, "unexpected character '%c'%s", isprint(c) ? c : '?',
                    c == '&' || c == '|' ? " (use 'and', 'or')" : "");
    }
    t->len = j - i;
    ps->pos = j;
    return SL_OK;
}

static int is_kw(const parser *ps, const char *kw)
{
    size_t n = strlen(kw);
    return ps->t.kind == T_NAME && ps->t.len == n && !strncasecmp(ps->s + ps->t.at, kw, n);
}

static int is_reserved(const parser *ps)
{
    static const char *const kws[] = {"and", "or", "not", "in", "is", "null", "true", "false"};
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
        if (is_kw(ps, kws[i])) return 1;
    return 0;
}

/* ---- program building ---- */

static sl_err_t grow(void **arr, int32_t *cap, int32_t need, size_t elem)
{
    if (need <= *cap) return SL_OK;
    int32_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*arr, (size_t)nc * elem);
    if (!q) return SL_ERR_NOMEM;
    *arr = q;
    *cap = nc;
    return SL_OK;
}

static sl_err_t emit(parser *ps, fop op, size_t at)
{
    sl_filter *f = ps->f;
    if (grow((void **)&f->ops, &f->cap_ops, f->n_ops + 1, sizeof *f->ops))
        return sl_error_set(ps->err, SL_ERR_NOMEM, "filter: out of memory");
    f->ops[f->n_ops++] = op;
    if (op.code == OP_AND || op.code == OP_OR)
        f->depth--;
    else if (op.code != OP_NOT)
        f->depth++;
    if (f->depth > f->max_depth) f->max_depth = f->depth;
    if (f->max_depth > SL_FILTER_MAX_DEPTH)
        return perr(ps, at, SL_ERR_LIMIT, "expression nested deeper than %d", SL_FILTER_MAX_DEPTH);
    return SL_OK;
}

static sl_err_t add_lit(parser *ps, flit l)
{
    sl_filter *f = ps->f;
    if (grow((void **)&f->lits, &f->cap_lits, f->n_lits + 1, sizeof *f->lits))
        return sl_error_set(ps->err, SL_ERR_NOMEM, "filter: out of memory");
    f->lits[f->n_lits++] = l;
    return SL_OK;
}

/* ---- fields ---- */

typedef struct fref {
    int32_t path;
    int fk;
    const sl_plan_field *leaf;
    size_t at, len;
    char name[256];
} fref;

static int field_kind(const sl_plan_field *pf)
{
    if (pf->child >= 0) return FK_MSG;
    switch (pf->type) {
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
    case SL_PB_INT64:
    case SL_PB_SINT64:
    case SL_PB_SFIXED64:
        return FK_I;
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
    case SL_PB_UINT64:
    case SL_PB_FIXED64:
        return FK_U;
    case SL_PB_FLOAT:
    case SL_PB_DOUBLE:
        return FK_D;
    case SL_PB_BOOL:
        return FK_BOOL;
    case SL_PB_STRING:
    case SL_PB_BYTES:
        return FK_STR;
    default:
        return FK_ENUM;
    }
}

/* The current token (T_NAME not a keyword, or T_QNAME) as a field. */
static sl_err_t parse_field(parser *ps, fref *fr)
{
    sl_filter *f = ps->f;
    size_t n = 0;
    const char *s = ps->s + ps->t.at;
    fr->at = ps->t.at;
    fr->len = ps->t.len;
    if (ps->t.kind == T_QNAME) { /* unquote: "a""b" is a"b; quotes only group */
        int in = 0;
        for (size_t i = 0; i < ps->t.len; i++) {
            if (s[i] == '"') {
                if (in && i + 1 < ps->t.len && s[i + 1] == '"')
                    i++;
                else {
                    in = !in;
                    continue;
                }
            }
            if (n + 1 >= sizeof fr->name)
                return perr(ps, fr->at, SL_ERR_LIMIT, "field path longer than %zu bytes",
                            sizeof fr->name - 1);
            fr->name[n++] = s[i];
        }
    } else {
        if (ps->t.len >= sizeof fr->name)
            return perr(ps, fr->at, SL_ERR_LIMIT, "field path longer than %zu bytes",
                        sizeof fr->name - 1);
        memcpy(fr->name, s, ps->t.len);
        n = ps->t.len;
    }
    fr->name[n] = '\0';
    if (n == 0 || memchr(fr->name, '\0', n))
        return perr(ps, fr->at, SL_ERR_INVALID, "empty or invalid field name");
    if (grow((void **)&f->paths, &f->cap_paths, f->n_paths + 1, sizeof *f->paths))
        return sl_error_set(ps->err, SL_ERR_NOMEM, "filter: out of memory");
    sl_error e2;
    if (sl_path_resolve(&f->paths[f->n_paths], ps->p, fr->name, &e2))
        return perr(ps, fr->at, e2.code, "%s", e2.msg);
    fr->path = f->n_paths++;
    fr->leaf = f->paths[fr->path].leaf;
    fr->fk = field_kind(fr->leaf);
    return next(ps);
}

/* ---- literals ---- */

static int is_literal(const parser *ps)
{
    int k = ps->t.kind;
    return k == T_INT || k == T_DEC || k == T_STR || is_kw(ps, "true") || is_kw(ps, "false");
}

static const char *lit_desc(int kind)
{
    static const char *const d[] = {"an integer", "an integer", "a decimal", "a string", "a bool"};
    return d[kind];
}

/* A literal token into l (strings into the pool), without type checking. */
static sl_err_t read_literal(parser *ps, flit *l)
{
    const char *s = ps->s + ps->t.at;
    size_t len = ps->t.len;
    memset(l, 0, sizeof *l);
    if (ps->t.kind == T_INT) {
        char buf[64];
        if (len >= sizeof buf) goto range;
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *end;
        errno = 0;
        if (buf[0] == '-') {
            l->kind = LK_I;
            l->n.i = strtoll(buf, &end, 10);
        } else {
            unsigned long long u = strtoull(buf, &end, 10);
            if (u <= INT64_MAX) {
                l->kind = LK_I;
                l->n.i = (int64_t)u;
            } else {
                l->kind = LK_U;
                l->n.u = u;
            }
        }
        if (errno == ERANGE || *end) goto range;
    } else if (ps->t.kind == T_DEC) {
        char buf[512];
        if (len >= sizeof buf)
            return perr(ps, ps->t.at, SL_ERR_INVALID, "decimal literal too long");
        memcpy(buf, s, len);
        buf[len] = '\0';
        l->kind = LK_D;
        l->n.d = strtod(buf, NULL);
        if (isinf(l->n.d))
            return perr(ps, ps->t.at, SL_ERR_INVALID, "decimal '%s' is out of the double range",
                        buf);
    } else if (ps->t.kind == T_STR) {
        sl_filter *f = ps->f;
        size_t need = f->pool_len + len;
        if (need > f->pool_cap) {
            size_t nc = f->pool_cap ? f->pool_cap * 2 : 256;
            while (nc < need)
                nc *= 2;
            uint8_t *q = realloc(f->pool, nc);
            if (!q) return sl_error_set(ps->err, SL_ERR_NOMEM, "filter: out of memory");
            f->pool = q;
            f->pool_cap = nc;
        }
        l->kind = LK_STR;
        l->off = (uint32_t)f->pool_len;
        for (size_t i = 1; i + 1 < len; i++) {
            if (s[i] == '\'') i++;
            f->pool[f->pool_len++] = (uint8_t)s[i];
        }
        l->len = (uint32_t)(f->pool_len - l->off);
    } else {
        l->kind = LK_BOOL;
        l->n.u = is_kw(ps, "true");
    }
    return SL_OK;
range:
    return perr(ps, ps->t.at, SL_ERR_INVALID,
                "integer '%.*s' is outside [-9223372036854775808, 18446744073709551615]",
                (int)(len > 40 ? 40 : len), s);
}

/* Names of an enum's values for an error: "A, B, C" (cut at ~300 bytes). */
static void enum_names(const sl_pb_enum *e, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int32_t i = 0; i < e->n_values && n + 8 < cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s", i ? ", " : "", e->values[i].name);
        if (w < 0 || (size_t)w >= cap - n || n > 300) {
            snprintf(out + n, cap - n, ", ...");
            return;
        }
        n += (size_t)w;
    }
}

/* Check literal l (at text column at) against field fr for operator cmp
 * (-1: membership of `in`); enum names become numbers. */
static sl_err_t check_literal(parser *ps, const fref *fr, flit *l, int cmp, size_t at)
{
    const char *tn = fr->fk == FK_ENUM ? "enum" : sl_pb_type_name(fr->leaf->type);
    switch (fr->fk) {
    case FK_I:
    case FK_U:
    case FK_D:
        if (l->kind <= LK_D) return SL_OK;
        break;
    case FK_BOOL:
        if (l->kind == LK_BOOL) return SL_OK;
        break;
    case FK_STR:
        if (l->kind == LK_STR) return SL_OK;
        break;
    case FK_ENUM:
        if (l->kind == LK_I || l->kind == LK_U || l->kind == LK_D) {
            if (l->kind == LK_D && l->n.d != floor(l->n.d))
                return perr(ps, at, SL_ERR_INVALID,
                            "field '%s' is an enum of %s; compare it with a value name or an "
                            "integer number",
                            fr->name, fr->leaf->enm->full_name);
            return SL_OK;
        }
        if (l->kind == LK_STR) {
            if (cmp != -1 && cmp != C_EQ && cmp != C_NE)
                return perr(ps, at, SL_ERR_INVALID,
                            "field '%s' is an enum of %s; by name it compares only with =, != "
                            "and in (use its number for <, >)",
                            fr->name, fr->leaf->enm->full_name);
            int32_t num;
            if (memchr(ps->f->pool + l->off, '\0', l->len) ||
                sl_plan_enum_by_name(fr->leaf->enm, (const char *)ps->f->pool + l->off, l->len,
                                     &num)) {
                char names[400];
                enum_names(fr->leaf->enm, names, sizeof names);
                return perr(ps, at, SL_ERR_INVALID,
                            "field '%s' is an enum of %s; '%.*s' is not one of %s", fr->name,
                            fr->leaf->enm->full_name, (int)(l->len > 64 ? 64 : l->len),
                            (const char *)ps->f->pool + l->off, names);
            }
            l->kind = LK_I;
            l->n.i = num;
            return SL_OK;
        }
        break;
    default: /* FK_MSG */
        return perr(ps, fr->at, SL_ERR_INVALID,
                    "field '%s' is a message (%s); only 'is null' and 'is not null' apply to it",
                    fr->name, ps->p->msgs[fr->leaf->child].pm->full_name);
    }
    return perr(ps, at, SL_ERR_INVALID, "field '%s' is %s %s; it cannot be compared with %s",
                fr->name, fr->fk == FK_ENUM || fr->fk == FK_I ? "an" : "a", tn, lit_desc(l->kind));
}

/* ---- parser ---- */

static sl_err_t parse_or(parser *ps);

static sl_err_t expect_value_after(parser *ps, const char *what)
{
    if (is_kw(ps, "null"))
        return perr(ps, ps->t.at, SL_ERR_INVALID,
                    "null never compares equal: use 'is null' / 'is not null'");
    if (!is_literal(ps)) return perr(ps, ps->t.at, SL_ERR_INVALID, "expected a literal %s", what);
    return SL_OK;
}

/* field [not] in ( lit, ... ) ; the current token is '(' */
static sl_err_t parse_in(parser *ps, const fref *fr, int negated)
{
    sl_err_t rc;
    fop op = {.code = OP_IN, .cmp = C_EQ, .fk = (uint8_t)fr->fk, .path = fr->path};
    op.lit = (uint32_t)ps->f->n_lits;
    if (ps->t.kind != T_LP) return perr(ps, ps->t.at, SL_ERR_INVALID, "expected '(' after 'in'");
    if ((rc = next(ps))) return rc;
    for (;;) {
        flit l;
        size_t at = ps->t.at;
        if ((rc = expect_value_after(ps, "in the 'in' list"))) return rc;
        if ((rc = read_literal(ps, &l)) || (rc = check_literal(ps, fr, &l, -1, at)) ||
            (rc = add_lit(ps, l)) || (rc = next(ps)))
            return rc;
        op.nlit++;
        if (ps->t.kind == T_COMMA) {
            if ((rc = next(ps))) return rc;
            continue;
        }
        if (ps->t.kind == T_RP) break;
        return perr(ps, ps->t.at, SL_ERR_INVALID, "expected ',' or ')' in the 'in' list");
    }
    size_t at = ps->t.at;
    if ((rc = emit(ps, op, at))) return rc;
    if (negated && (rc = emit(ps, (fop){.code = OP_NOT}, at))) return rc;
    return next(ps);
}

static int flip(int cmp)
{
    static const int f[] = {
        [C_EQ] = C_EQ, [C_NE] = C_NE, [C_LT] = C_GT, [C_LE] = C_GE, [C_GT] = C_LT, [C_GE] = C_LE};
    return f[cmp];
}

static sl_err_t parse_predicate(parser *ps)
{
    sl_err_t rc;
    fref fr;
    flit l = {0};
    if (is_literal(ps)) { /* literal op field */
        size_t lat = ps->t.at;
        if ((rc = read_literal(ps, &l)) || (rc = next(ps))) return rc;
        if (ps->t.kind != T_OP)
            return perr(ps, ps->t.at, SL_ERR_INVALID,
                        "expected a comparison operator after the literal");
        int cmp = flip(ps->t.cmp);
        if ((rc = next(ps))) return rc;
        if (!(ps->t.kind == T_QNAME || (ps->t.kind == T_NAME && !is_reserved(ps))))
            return perr(ps, ps->t.at, SL_ERR_INVALID,
                        "expected a field name (a comparison needs a field on one side)");
        if ((rc = parse_field(ps, &fr)) || (rc = check_literal(ps, &fr, &l, cmp, lat)) ||
            (rc = add_lit(ps, l)))
            return rc;
        return emit(ps,
                    (fop){.code = OP_CMP,
                          .cmp = (uint8_t)cmp,
                          .fk = (uint8_t)fr.fk,
                          .path = fr.path,
                          .lit = (uint32_t)ps->f->n_lits - 1,
                          .nlit = 1},
                    lat);
    }
    if (!(ps->t.kind == T_QNAME || (ps->t.kind == T_NAME && !is_reserved(ps)))) {
        if (ps->t.kind == T_END)
            return perr(ps, ps->t.at, SL_ERR_INVALID, "unexpected end of the expression");
        return perr(ps, ps->t.at, SL_ERR_INVALID, "expected a field name, found '%.*s'",
                    (int)(ps->t.len > 40 ? 40 : ps->t.len), ps->s + ps->t.at);
    }
    if ((rc = parse_field(ps, &fr))) return rc;
    if (is_kw(ps, "is")) {
        size_t at = ps->t.at;
        int neg = 0;
        if ((rc = next(ps))) return rc;
        if (is_kw(ps, "not")) {
            neg = 1;
            if ((rc = next(ps))) return rc;
        }
        if (!is_kw(ps, "null"))
            return perr(ps, ps->t.at, SL_ERR_INVALID, "expected 'null' after 'is%s'",
                        neg ? " not" : "");
        if ((rc = emit(ps, (fop){.code = OP_ISNULL, .neg = (uint8_t)neg, .path = fr.path}, at)))
            return rc;
        return next(ps);
    }
    if (is_kw(ps, "in")) {
        if ((rc = next(ps))) return rc;
        if (fr.fk == FK_MSG) return check_literal(ps, &fr, &l, -1, fr.at);
        return parse_in(ps, &fr, 0);
    }
    if (is_kw(ps, "not")) {
        if ((rc = next(ps))) return rc;
        if (!is_kw(ps, "in"))
            return perr(ps, ps->t.at, SL_ERR_INVALID, "expected 'in' after '%s not'", fr.name);
        if ((rc = next(ps))) return rc;
        if (fr.fk == FK_MSG) return check_literal(ps, &fr, &l, -1, fr.at);
        return parse_in(ps, &fr, 1);
    }
    if (ps->t.kind != T_OP) { /* a bare field: must be a bool */
        if (fr.fk != FK_BOOL)
            return perr(ps, fr.at, SL_ERR_INVALID,
                        "field '%s' is not a bool: compare it (=, <, in, is null, ...)", fr.name);
        l = (flit){.kind = LK_BOOL, .n.u = 1};
        if ((rc = add_lit(ps, l))) return rc;
        return emit(ps,
                    (fop){.code = OP_CMP,
                          .cmp = C_EQ,
                          .fk = FK_BOOL,
                          .path = fr.path,
                          .lit = (uint32_t)ps->f->n_lits - 1,
                          .nlit = 1},
                    fr.at);
    }
    int cmp = ps->t.cmp;
    if ((rc = next(ps))) return rc;
    size_t lat = ps->t.at;
    if ((rc = expect_value_after(ps, "after the operator (fields compare with literals)")))
        return rc;
    if ((rc = read_literal(ps, &l)) || (rc = check_literal(ps, &fr, &l, cmp, lat)) ||
        (rc = add_lit(ps, l)))
        return rc;
    if ((rc = emit(ps,
                   (fop){.code = OP_CMP,
                         .cmp = (uint8_t)cmp,
                         .fk = (uint8_t)fr.fk,
                         .path = fr.path,
                         .lit = (uint32_t)ps->f->n_lits - 1,
                         .nlit = 1},
                   lat)))
        return rc;
    return next(ps);
}

static sl_err_t parse_not(parser *ps)
{
    sl_err_t rc;
    if (++ps->nest > SL_FILTER_MAX_DEPTH)
        return perr(ps, ps->t.at, SL_ERR_LIMIT, "expression nested deeper than %d",
                    SL_FILTER_MAX_DEPTH);
    if (is_kw(ps, "not")) {
        size_t at = ps->t.at;
        if ((rc = next(ps)) || (rc = parse_not(ps)) || (rc = emit(ps, (fop){.code = OP_NOT}, at)))
            return rc;
    } else if (ps->t.kind == T_LP) {
        size_t at = ps->t.at;
        if ((rc = next(ps)) || (rc = parse_or(ps))) return rc;
        if (ps->t.kind != T_RP)
            return perr(ps, ps->t.at, SL_ERR_INVALID, "expected ')' to close the '(' at column %zu",
                        at + 1);
        if ((rc = next(ps))) return rc;
    } else if ((rc = parse_predicate(ps))) {
        return rc;
    }
    ps->nest--;
    return SL_OK;
}

static sl_err_t parse_and(parser *ps)
{
    sl_err_t rc = parse_not(ps);
    while (!rc && is_kw(ps, "and")) {
        size_t at = ps->t.at;
        if ((rc = next(ps)) || (rc = parse_not(ps))) break;
        rc = emit(ps, (fop){.code = OP_AND}, at);
    }
    return rc;
}

static sl_err_t parse_or(parser *ps)
{
    sl_err_t rc = parse_and(ps);
    while (!rc && is_kw(ps, "or")) {
        size_t at = ps->t.at;
        if ((rc = next(ps)) || (rc = parse_and(ps))) break;
        rc = emit(ps, (fop){.code = OP_OR}, at);
    }
    return rc;
}

sl_err_t sl_filter_compile(sl_filter **out, const char *text, const sl_plan *p, sl_error *err)
{
    sl_err_t rc;
    parser ps = {.s = text, .p = p, .err = err};
    *out = NULL;
    ps.n = strlen(text);
    if (ps.n > SL_FILTER_MAX_TEXT)
        return sl_error_set(err, SL_ERR_LIMIT, "filter: expression longer than %d bytes",
                            SL_FILTER_MAX_TEXT);
    ps.f = calloc(1, sizeof *ps.f);
    if (!ps.f) return sl_error_set(err, SL_ERR_NOMEM, "filter: out of memory");
    if ((rc = next(&ps))) goto fail;
    if (ps.t.kind == T_END) {
        rc = perr(&ps, 0, SL_ERR_INVALID, "empty expression");
        goto fail;
    }
    if ((rc = parse_or(&ps))) goto fail;
    if (ps.t.kind != T_END) {
        rc = perr(&ps, ps.t.at, SL_ERR_INVALID, "unexpected '%.*s' (missing 'and' / 'or'?)",
                  (int)(ps.t.len > 40 ? 40 : ps.t.len), text + ps.t.at);
        goto fail;
    }
    *out = ps.f;
    return SL_OK;
fail:
    sl_filter_free(ps.f);
    return rc;
}

void sl_filter_free(sl_filter *f)
{
    if (!f) return;
    free(f->ops);
    free(f->paths);
    free(f->lits);
    free(f->pool);
    free(f);
}
