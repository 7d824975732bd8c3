/* json_dec.c - JSON lines into the record scratch: a hand-written,
 * single-pass, schema-driven parser (no DOM). See json_dec.h for the mapping.
 *
 * How it works: recursive descent over the line, led by the plan. Each key
 * is looked up in the current plan message (first a guess - the field after
 * the previous one, since producers write fields in declaration order - then
 * sl_plan_field_by_name), and its value is converted straight into an
 * sl_val and handed to sl_rec_set/add/sub/add_sub; the record scratch
 * applies protobuf's merge and oneof rules and sl_rec_emit shreds. Strings
 * without escapes point into the line; escaped strings and decoded bytes go
 * to sl_rec_scratch (an escaped string never grows, so the raw length
 * bounds the copy). Nothing is allocated per record beyond that scratch.
 *
 * Invariants and bounds:
 *   - recursion depth: messages nest at most plan->max_depth deep (100, as
 *     protobuf's parsers; the root counts as 1), and JSON containers of any
 *     kind (including skipped unknown values) at most SL_JSON_MAX_NEST, so
 *     the C stack is bounded whatever the line holds;
 *   - every byte of the line is validated: JSON syntax, UTF-8 (in keys and
 *     strings; outside strings only ASCII is valid JSON anyway), escapes,
 *     surrogate pairs (a lone surrogate is an error, as protobuf's string
 *     check makes it), number grammar;
 *   - duplicate detection: known fields by a bitset per object (which also
 *     catches one field given under both of its names); map keys and
 *     skipped unknown keys by their decoded text in a key arena kept in
 *     scratch memory: linear compare for small objects, sort + neighbour
 *     compare (O(k log k)) past SL_JSON_DUP_LINEAR keys, so a hostile line
 *     cannot make this quadratic.
 *
 * Where we differ from protobuf's Python parser (the test oracle), always by
 * rejecting what it accepts by accident of Python (tests/e2e/0007 checks
 * each against it): a field given under both of its names (Python: last
 * wins); base64 with stray characters or partial padding ("QQ=");
 * numeric strings beyond JSON number syntax (" 1", "+1", "1_0", "inf") and
 * float strings beyond the type's range (Python: inf); true/false for a
 * float or an enum, 1.5 for an enum; a message given as a string or array
 * (Python iterates it), the top level included; in skipped unknown values,
 * NaN/Infinity literals, lone surrogates and nesting deeper than
 * SL_JSON_MAX_NEST; numbers longer than SL_JSON_NUM_MAX characters.
 *
 * Not done yet, on purpose: well-known types (Timestamp as an RFC 3339
 * string, Duration, wrappers, Struct/Value, Any, FieldMask) are not special-
 * cased - they decode as the plain messages they are ({"seconds": ..,
 * "nanos": ..}), since no stream we ingest uses their JSON forms yet and
 * each needs its own grammar. Extensions ("[pkg.ext]" keys) are unknown
 * fields.
 */
#include "formats/json/json_dec.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "formats/json/json_lex.h"
#include "formats/json/json_scalar.h"

/* ---- scalars ---- */

/* An integer field's value: a number (integral) or a string holding one. */
static sl_err_t conv_int(sl_jp *j, int type, const sl_jtok *t, sl_val *v)
{
    int neg, rc;
    uint64_t mag;
    if (t->kind == SL_JT_NUM && t->is_int) {
        rc = sl_json_int_text(t->p, t->n, &neg, &mag);
        if (!rc && sl_json_int_store(type, neg, mag, v)) rc = -2;
    } else if (t->kind == SL_JT_NUM) {
        double d;
        if (sl_json_double_text(t->p, t->n, &d))
            return sl_jp_fail(j, t->off, SL_ERR_LIMIT, "number longer than %d characters",
                              SL_JSON_NUM_MAX);
        rc = sl_json_int_from_double(type, d, v);
        if (rc == -1)
            return sl_jp_fail_tok(j, t, "expected an integer (%s)", sl_pb_type_name(type));
    } else if (t->kind == SL_JT_STR) {
        const uint8_t *s;
        size_t n;
        sl_err_t e = sl_jp_str(j, t, &s, &n);
        if (e) return e;
        rc = sl_json_int_text(s, n, &neg, &mag);
        if (rc == -1)
            return sl_jp_fail_tok(j, t, "expected an integer (%s)", sl_pb_type_name(type));
        if (!rc && sl_json_int_store(type, neg, mag, v)) rc = -2;
    } else {
        return sl_jp_fail_tok(j, t, "expected an integer (%s)", sl_pb_type_name(type));
    }
    if (rc) return sl_jp_fail_tok(j, t, "out of range for %s", sl_pb_type_name(type));
    return SL_OK;
}

static sl_err_t conv_float(sl_jp *j, int type, const sl_jtok *t, sl_val *v)
{
    double d;
    if (t->kind == SL_JT_NUM) {
        if (sl_json_double_text(t->p, t->n, &d))
            return sl_jp_fail(j, t->off, SL_ERR_LIMIT, "number longer than %d characters",
                              SL_JSON_NUM_MAX);
    } else if (t->kind == SL_JT_STR) {
        const uint8_t *s;
        size_t n;
        int is_int;
        sl_err_t e = sl_jp_str(j, t, &s, &n);
        if (e) return e;
        if (!sl_json_float_name(s, n, &d)) {
            if (!n || sl_json_num_scan(s, s + n, &is_int) != n)
                return sl_jp_fail_tok(j, t, "expected a number (%s)", sl_pb_type_name(type));
            if (sl_json_double_text(s, n, &d))
                return sl_jp_fail(j, t->off, SL_ERR_LIMIT, "number longer than %d characters",
                                  SL_JSON_NUM_MAX);
            if (isinf(d)) return sl_jp_fail_tok(j, t, "out of range for %s", sl_pb_type_name(type));
        }
        goto store;
    } else {
        return sl_jp_fail_tok(j, t, "expected a number (%s)", sl_pb_type_name(type));
    }
    if (isinf(d)) return sl_jp_fail_tok(j, t, "out of range for %s", sl_pb_type_name(type));
store:
    if (type == SL_PB_FLOAT) {
        if (isfinite(d) && fabs(d) > FLT_MAX) return sl_jp_fail_tok(j, t, "out of range for float");
        v->f = (float)d;
    } else {
        v->d = d;
    }
    return SL_OK;
}

static int enum_has(const sl_pb_enum *e, int64_t num)
{
    for (int32_t i = 0; i < e->n_values; i++)
        if (e->values[i].number == num) return 1;
    return 0;
}

static sl_err_t conv_enum(sl_jp *j, const sl_plan_field *f, const sl_jtok *t, sl_val *v)
{
    const sl_pb_enum *e = f->enm;
    if (t->kind == SL_JT_STR) {
        const uint8_t *s;
        size_t n;
        int32_t num;
        int neg;
        uint64_t mag;
        sl_err_t rc = sl_jp_str(j, t, &s, &n);
        if (rc) return rc;
        if (!(t->esc && memchr(s, 0, n)) &&
            sl_plan_enum_by_name(e, (const char *)s, n, &num) == 0) {
            v->i = num;
            return SL_OK;
        }
        /* protobuf's parsers also take the number as a string */
        if (sl_json_int_text(s, n, &neg, &mag) || sl_json_int_store(SL_PB_ENUM, neg, mag, v))
            return sl_jp_fail_tok(j, t, "unknown value of enum %s", e->full_name);
    } else if (t->kind == SL_JT_NUM) {
        sl_err_t rc = conv_int(j, SL_PB_ENUM, t, v);
        if (rc) return rc;
    } else {
        return sl_jp_fail_tok(j, t, "expected a value name or number of enum %s", e->full_name);
    }
    if ((f->closed_enum || e->closed) && !enum_has(e, v->i))
        return sl_jp_fail_tok(j, t, "unknown number of closed enum %s", e->full_name);
    return SL_OK;
}

/* One scalar value (non-message) of field f from token t. */
static sl_err_t conv_scalar(sl_jp *j, const sl_plan_field *f, const sl_jtok *t, sl_val *v)
{
    switch (f->type) {
    case SL_PB_FLOAT:
    case SL_PB_DOUBLE:
        return conv_float(j, f->type, t, v);
    case SL_PB_BOOL:
        if (t->kind != SL_JT_TRUE && t->kind != SL_JT_FALSE)
            return sl_jp_fail_tok(j, t, "expected true or false");
        v->u = t->kind == SL_JT_TRUE;
        return SL_OK;
    case SL_PB_STRING: {
        if (t->kind != SL_JT_STR) return sl_jp_fail_tok(j, t, "expected a string");
        const uint8_t *s;
        size_t n;
        sl_err_t rc = sl_jp_str(j, t, &s, &n);
        v->s.p = s;
        v->s.len = (uint32_t)n;
        return rc;
    }
    case SL_PB_BYTES: {
        if (t->kind != SL_JT_STR) return sl_jp_fail_tok(j, t, "expected a base64 string");
        const uint8_t *s;
        size_t n;
        sl_err_t rc = sl_jp_str(j, t, &s, &n);
        if (rc) return rc;
        uint8_t *d = sl_jp_scratch(j, sl_base64_max_decoded(n), t->off);
        if (!d) return j->err ? j->err->code : SL_ERR_LIMIT;
        long long k = sl_base64_decode(s, n, d);
        if (k < 0) return sl_jp_fail_tok(j, t, "invalid base64");
        v->s.p = d;
        v->s.len = (uint32_t)k;
        return SL_OK;
    }
    case SL_PB_ENUM:
        return conv_enum(j, f, t, v);
    case SL_PB_MESSAGE:
    case SL_PB_GROUP:
        return sl_jp_fail_tok(j, t, "expected an object");
    default:
        return conv_int(j, f->type, t, v);
    }
}

/* A map key (always a JSON string) as the key field's type. */
static sl_err_t conv_key(sl_jp *j, const sl_plan_field *kf, const sl_jtok *t, const uint8_t *s,
                         size_t n, sl_val *v)
{
    int neg, rc;
    uint64_t mag;
    switch (kf->type) {
    case SL_PB_STRING:
        v->s.p = s;
        v->s.len = (uint32_t)n;
        return SL_OK;
    case SL_PB_BOOL:
        if (sl_json_text_is(s, n, "true"))
            v->u = 1;
        else if (sl_json_text_is(s, n, "false"))
            v->u = 0;
        else
            return sl_jp_fail_tok(j, t, "map key: expected \"true\" or \"false\"");
        return SL_OK;
    case SL_PB_FLOAT:
    case SL_PB_DOUBLE:
    case SL_PB_BYTES:
    case SL_PB_ENUM:
    case SL_PB_MESSAGE:
    case SL_PB_GROUP:
        return sl_jp_fail(j, t->off, SL_ERR_UNSUPPORTED, "map key type %d is not a valid key",
                          kf->type);
    default:
        rc = sl_json_int_text(s, n, &neg, &mag);
        if (rc == -1)
            return sl_jp_fail_tok(j, t, "map key: expected an integer (%s)",
                                  sl_pb_type_name(kf->type));
        if (rc || sl_json_int_store(kf->type, neg, mag, v))
            return sl_jp_fail_tok(j, t, "map key: out of range for %s", sl_pb_type_name(kf->type));
        return SL_OK;
    }
}

static sl_err_t rec_fail(sl_jp *j, size_t off, sl_err_t rc)
{
    return sl_jp_fail(j, off, rc == SL_ERR_NOMEM ? SL_ERR_NOMEM : SL_ERR_LIMIT,
                      "record scratch: %s", sl_err_text(rc));
}

/* ---- containers ---- */

static sl_err_t parse_message(sl_jp *j, int32_t m, int32_t frame);

static int bit_test_set(uint64_t *bits, int32_t i)
{
    uint64_t b = (uint64_t)1 << (i & 63);
    int was = (bits[i >> 6] & b) != 0;
    bits[i >> 6] |= b;
    return was;
}

/* Repeated field: a JSON array. */
static sl_err_t parse_list(sl_jp *j, int32_t frame, int32_t fi, const sl_plan_field *f,
                           const sl_jtok *t)
{
    sl_err_t rc;
    int is_msg = f->type == SL_PB_MESSAGE || f->type == SL_PB_GROUP;
    if (t->kind != SL_JT_ARR) return sl_jp_fail_tok(j, t, "expected an array");
    if ((rc = sl_jp_open(j))) return rc;
    if (sl_jp_peek_close(j, ']')) return sl_jp_close(j);
    for (uint32_t idx = 0;; idx++) {
        sl_jtok e;
        sl_jp_push_index(j, idx);
        if ((rc = sl_jp_token(j, &e))) return rc;
        if (e.kind == SL_JT_NULL)
            return sl_jp_fail(j, e.off, SL_ERR_CORRUPT,
                              "null is not allowed as an element of a repeated field");
        if (is_msg) {
            if (e.kind != SL_JT_OBJ) return sl_jp_fail_tok(j, &e, "expected an object");
            int32_t sub = sl_rec_add_sub(j->r, frame, fi);
            if (sub < 0) return rec_fail(j, e.off, (sl_err_t)sub);
            if ((rc = parse_message(j, f->child, sub))) return rc;
        } else {
            sl_val v;
            if ((rc = conv_scalar(j, f, &e, &v))) return rc;
            if ((rc = sl_rec_add(j->r, frame, fi, v))) return rec_fail(j, e.off, rc);
        }
        sl_jp_pop(j);
        int more;
        if ((rc = sl_jp_next_member(j, ']', &more))) return rc;
        if (!more) return sl_jp_close(j);
    }
}

/* Map field: a JSON object, keys converted to the key type. */
static sl_err_t parse_map(sl_jp *j, int32_t frame, int32_t fi, const sl_plan_field *f,
                          const sl_jtok *t)
{
    sl_err_t rc;
    if (t->kind != SL_JT_OBJ) return sl_jp_fail_tok(j, t, "expected an object (map)");
    int32_t kfi = sl_plan_field_by_number(j->plan, f->child, 1);
    int32_t vfi = sl_plan_field_by_number(j->plan, f->child, 2);
    if (kfi < 0 || vfi < 0)
        return sl_jp_fail(j, t->off, SL_ERR_SCHEMA, "map entry type has no key or value field");
    const sl_plan_field *kf = &j->plan->msgs[f->child].fields[kfi];
    const sl_plan_field *vf = &j->plan->msgs[f->child].fields[vfi];
    int v_msg = vf->type == SL_PB_MESSAGE || vf->type == SL_PB_GROUP;
    size_t mark = j->nkeys;
    if ((rc = sl_jp_open(j))) return rc;
    if (sl_jp_peek_close(j, '}')) return sl_jp_close(j);
    for (;;) {
        sl_jtok k, e;
        const uint8_t *s;
        size_t n;
        if ((rc = sl_jp_key(j, &k, &s, &n))) return rc;
        if ((rc = sl_jp_key_unique(j, mark, s, n, k.off))) return rc;
        sl_jp_push_key(j, &k, 1);
        sl_val kv, vv;
        if ((rc = conv_key(j, kf, &k, s, n, &kv))) return rc;
        int32_t ef = sl_rec_add_sub(j->r, frame, fi);
        if (ef < 0) return rec_fail(j, k.off, (sl_err_t)ef);
        if ((rc = sl_rec_set(j->r, ef, kfi, kv))) return rec_fail(j, k.off, rc);
        if ((rc = sl_jp_token(j, &e))) return rc;
        if (e.kind == SL_JT_NULL)
            return sl_jp_fail(j, e.off, SL_ERR_CORRUPT, "null is not allowed as a map value");
        if (v_msg) {
            if (e.kind != SL_JT_OBJ) return sl_jp_fail_tok(j, &e, "expected an object");
            int32_t sub = sl_rec_sub(j->r, ef, vfi);
            if (sub < 0) return rec_fail(j, e.off, (sl_err_t)sub);
            if ((rc = parse_message(j, vf->child, sub))) return rc;
        } else {
            if ((rc = conv_scalar(j, vf, &e, &vv))) return rc;
            if ((rc = sl_rec_set(j->r, ef, vfi, vv))) return rec_fail(j, e.off, rc);
        }
        sl_jp_pop(j);
        int more;
        if ((rc = sl_jp_next_member(j, '}', &more))) return rc;
        if (!more) break;
    }
    if ((rc = sl_jp_keys_done(j, mark))) return rc;
    return sl_jp_close(j);
}

/* The value of known field fi of message m (cursor at the value). */
static sl_err_t parse_field(sl_jp *j, int32_t m, int32_t frame, int32_t fi, uint64_t *oneofs)
{
    const sl_plan_field *f = &j->plan->msgs[m].fields[fi];
    sl_jtok t;
    sl_err_t rc = sl_jp_token(j, &t);
    if (rc) return rc;
    if (t.kind == SL_JT_NULL) {
        sl_rec_clear(j->r, frame, fi);
        return SL_OK;
    }
    if (f->oneof >= 0 && bit_test_set(oneofs, f->oneof))
        return sl_jp_fail(j, t.off, SL_ERR_CORRUPT, "more than one member of oneof %s given",
                          j->plan->msgs[m].pm->oneof_names[f->oneof]);
    if (f->is_map) return parse_map(j, frame, fi, f, &t);
    if (f->repeated) return parse_list(j, frame, fi, f, &t);
    if (f->type == SL_PB_MESSAGE || f->type == SL_PB_GROUP) {
        if (t.kind != SL_JT_OBJ) return sl_jp_fail_tok(j, &t, "expected an object");
        int32_t sub = sl_rec_sub(j->r, frame, fi);
        if (sub < 0) return rec_fail(j, t.off, (sl_err_t)sub);
        return parse_message(j, f->child, sub);
    }
    sl_val v;
    if ((rc = conv_scalar(j, f, &t, &v))) return rc;
    if ((rc = sl_rec_set(j->r, frame, fi, v))) return rec_fail(j, t.off, rc);
    return SL_OK;
}

/* s (a NUL-terminated name) equals p[0..n), where p holds no NUL: the loop
 * stops at s's terminator at the latest, so it never reads past s. Inline:
 * names are short and this runs for every key. */
static int name_is(const char *s, const uint8_t *p, size_t n)
{
    if (!s) return 0;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] != p[i]) return 0;
    return s[n] == '\0';
}

/* Field index for key p[0..n) in message m, or -1. esc: the key had
 * escapes (only then can it hold a NUL, from \u0000: a raw NUL byte is a
 * control character, rejected by the lexer). */
static int32_t lookup(sl_jp *j, int32_t m, const uint8_t *p, size_t n, int esc, int32_t *guess)
{
    const sl_plan_msg *pm = &j->plan->msgs[m];
    int32_t g = *guess;
    /* No name holds a NUL; and sl_plan_field_by_name compares with strncmp,
     * which would stop at one and read past the shorter name. */
    if (esc && memchr(p, 0, n)) return -1;
    if (g < pm->n_fields &&
        (name_is(pm->fields[g].pf->json_name, p, n) || name_is(pm->fields[g].pf->name, p, n))) {
        *guess = g + 1;
        return g;
    }
    int32_t fi = sl_plan_field_by_name(j->plan, m, (const char *)p, n);
    if (fi >= 0) *guess = fi + 1;
    return fi;
}

/* A JSON object as message m into frame (cursor at '{'). */
static sl_err_t parse_message(sl_jp *j, int32_t m, int32_t frame)
{
    const sl_plan_msg *pm = &j->plan->msgs[m];
    size_t off = sl_jp_off(j);
    uint64_t seen_local[4] = {0}, oneof_local[1] = {0};
    uint64_t *seen = seen_local, *oneofs = oneof_local;
    size_t nw = ((size_t)pm->n_fields + 63) / 64, no = ((size_t)pm->pm->n_oneofs + 63) / 64;
    size_t mark = j->nkeys;
    int32_t guess = 0;
    sl_err_t rc;

    if (++j->msg_depth > j->max_depth)
        return sl_jp_fail(j, off, SL_ERR_LIMIT, "messages nested deeper than %d", j->max_depth);
    if (nw > 4 && !(seen = sl_jp_bits(j, nw, off))) return j->err ? j->err->code : SL_ERR_LIMIT;
    if (no > 1 && !(oneofs = sl_jp_bits(j, no, off))) return j->err ? j->err->code : SL_ERR_LIMIT;
    if ((rc = sl_jp_open(j))) return rc;
    if (!sl_jp_peek_close(j, '}')) {
        for (;;) {
            sl_jtok k;
            const uint8_t *s;
            size_t n;
            if ((rc = sl_jp_key(j, &k, &s, &n))) return rc;
            int32_t fi = lookup(j, m, s, n, k.esc, &guess);
            sl_jp_push_key(j, &k, 0);
            if (fi < 0) {
                if (!j->ignore_unknown)
                    return sl_jp_fail(j, k.off, SL_ERR_SCHEMA,
                                      "unknown field (message %s has no "
                                      "field of that name; ignore_unknown skips such fields)",
                                      pm->pm->full_name);
                if ((rc = sl_jp_key_unique(j, mark, s, n, k.off)) || (rc = sl_jp_skip_value(j)))
                    return rc;
            } else {
                if (bit_test_set(seen, fi))
                    return sl_jp_fail(j, k.off, SL_ERR_CORRUPT, "field %s given twice",
                                      pm->fields[fi].pf->name);
                if ((rc = parse_field(j, m, frame, fi, oneofs))) return rc;
            }
            sl_jp_pop(j);
            int more;
            if ((rc = sl_jp_next_member(j, '}', &more))) return rc;
            if (!more) break;
        }
        if ((rc = sl_jp_keys_done(j, mark))) return rc;
    }
    j->msg_depth--;
    return sl_jp_close(j);
}

sl_err_t sl_json_parse(sl_rec *r, const uint8_t *line, size_t len, const sl_json_options *opt,
                       sl_error *err)
{
    sl_jp j;
    const sl_plan *plan = sl_rec_plan(r);
    sl_jp_init(&j, r, plan, line, len, err);
    j.ignore_unknown = opt ? opt->ignore_unknown : 0;
    j.max_depth = plan->max_depth > 0 ? plan->max_depth : 100;
    if (len > UINT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "JSON line of %zu bytes: longer than 4 GiB", len);
    sl_jtok t;
    sl_err_t rc = sl_jp_token(&j, &t);
    if (rc) return rc;
    if (t.kind != SL_JT_OBJ) return sl_jp_fail_tok(&j, &t, "expected a JSON object");
    if ((rc = parse_message(&j, 0, 0))) return rc;
    return sl_jp_end(&j);
}

sl_err_t sl_json_decode(sl_rec *r, sl_batch *b, const uint8_t *line, size_t len,
                        const sl_json_options *opt, sl_error *err)
{
    sl_rec_begin(r);
    sl_err_t rc = sl_json_parse(r, line, len, opt, err);
    if (rc) return rc;
    return sl_rec_emit(r, b, err);
}
