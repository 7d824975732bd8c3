/* delim.c - delimited text into the record scratch. See delim.h for the
 * format.
 *
 * Design: the columns are the root plan message's fields in the plan's
 * number order (sl_plan_msg.sorted), skipping repeated fields, maps and
 * messages; nothing is precomputed or allocated per call, because the API
 * carries only the record. A line is first counted (memchr for the
 * separator, so a wrong column count is reported with both numbers before
 * anything is converted), then walked once, converting each column in place
 * (strings point into the line). Cost: two passes over the line plus one
 * over the root message's fields.
 *
 * Number syntax is shared with the JSON decoder
 * (formats/json/json_scalar.h), so "12", "1e3" and "NaN" mean the same in
 * both input formats; unlike JSON, an integer column takes integer syntax
 * only.
 *
 * Not done yet, on purpose: quoting (CSV "..."), escapes (Hive's \t, \\),
 * and an explicit column list (--columns a,b,c) naming a subset or a
 * different order; the legacy logs this was written for are plain
 * field-number-ordered TSV. Each is a small addition to split_next and the
 * column walk when a stream needs it.
 */
#include "formats/text/delim.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "formats/json/json_scalar.h"

static int is_column(const sl_plan_field *f)
{
    return !f->repeated && f->type != SL_PB_MESSAGE && f->type != SL_PB_GROUP;
}

int32_t sl_delim_columns(const sl_plan *p)
{
    const sl_plan_msg *m = &p->msgs[0];
    int32_t n = 0;
    for (int32_t i = 0; i < m->n_fields; i++)
        n += is_column(&m->fields[i]);
    return n;
}

/* "column 3 (mid): <what>, got "<text>"" with the text shown safely (at most
 * 40 bytes; control and non-ASCII bytes as \xNN). */
static sl_err_t col_fail(sl_error *err, sl_err_t code, int col, const sl_plan_field *f,
                         const uint8_t *s, size_t n, const char *what)
{
    char shown[200];
    size_t o = 0;
    for (size_t i = 0; i < n && i < 40 && o + 5 < sizeof shown; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            shown[o++] = (char)s[i];
        else
            o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", s[i]);
    }
    shown[o] = '\0';
    return sl_error_set(err, code, "column %d (%s): %s, got \"%s%s\"", col, f->pf->name, what,
                        shown, n > 40 ? "..." : "");
}

static int enum_has(const sl_pb_enum *e, int64_t num)
{
    for (int32_t i = 0; i < e->n_values; i++)
        if (e->values[i].number == num) return 1;
    return 0;
}

/* Column text s[0..n) as field f's value. */
static sl_err_t convert(int col, const sl_plan_field *f, const uint8_t *s, size_t n, sl_val *v,
                        sl_error *err)
{
    char what[128];
    int neg, rc, is_int;
    uint64_t mag;
    double d;
    int32_t num;
    switch (f->type) {
    case SL_PB_BOOL:
        if (sl_json_text_is(s, n, "true") || sl_json_text_is(s, n, "1"))
            v->u = 1;
        else if (sl_json_text_is(s, n, "false") || sl_json_text_is(s, n, "0"))
            v->u = 0;
        else
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, "expected true, false, 1 or 0");
        return SL_OK;
    case SL_PB_STRING: {
        size_t bad = sl_utf8_check(s, n);
        if (bad != n) {
            snprintf(what, sizeof what, "invalid UTF-8 at byte %zu of the value", bad);
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
        }
    } /* fall through */
    case SL_PB_BYTES:
        v->s.p = s;
        v->s.len = (uint32_t)n;
        return SL_OK;
    case SL_PB_FLOAT:
    case SL_PB_DOUBLE:
        if (!sl_json_float_name(s, n, &d)) {
            snprintf(what, sizeof what, "expected a number (%s)", sl_pb_type_name(f->type));
            if (!n || sl_json_num_scan(s, s + n, &is_int) != n || sl_json_double_text(s, n, &d))
                return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
            if (isinf(d) || (f->type == SL_PB_FLOAT && fabs(d) > FLT_MAX)) {
                snprintf(what, sizeof what, "out of range for %s", sl_pb_type_name(f->type));
                return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
            }
        }
        if (f->type == SL_PB_FLOAT)
            v->f = (float)d;
        else
            v->d = d;
        return SL_OK;
    case SL_PB_ENUM:
        /* (no value name holds a NUL; sl_plan_enum_by_name's strncmp would
         * stop at one and read past the shorter name) */
        if (!memchr(s, 0, n) && sl_plan_enum_by_name(f->enm, (const char *)s, n, &num) == 0) {
            v->i = num;
            return SL_OK;
        }
        if (sl_json_int_text(s, n, &neg, &mag) || sl_json_int_store(SL_PB_ENUM, neg, mag, v)) {
            snprintf(what, sizeof what, "expected a value name or number of enum %s",
                     f->enm->full_name);
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
        }
        if ((f->closed_enum || f->enm->closed) && !enum_has(f->enm, v->i)) {
            snprintf(what, sizeof what, "unknown number of closed enum %s", f->enm->full_name);
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
        }
        return SL_OK;
    default:
        rc = sl_json_int_text(s, n, &neg, &mag);
        if (rc == -1) {
            snprintf(what, sizeof what, "expected an integer (%s)", sl_pb_type_name(f->type));
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
        }
        if (rc || sl_json_int_store(f->type, neg, mag, v)) {
            snprintf(what, sizeof what, "out of range for %s", sl_pb_type_name(f->type));
            return col_fail(err, SL_ERR_CORRUPT, col, f, s, n, what);
        }
        return SL_OK;
    }
}

sl_err_t sl_delim_parse(sl_rec *r, const uint8_t *line, size_t len, const sl_delim_options *opt,
                        sl_error *err)
{
    const sl_plan *p = sl_rec_plan(r);
    const sl_plan_msg *m = &p->msgs[0];
    uint8_t sep = opt && opt->separator ? (uint8_t)opt->separator : '\t';
    const char *nt = opt && opt->null_token ? opt->null_token : "\\N";
    size_t ntlen = strlen(nt);
    uint64_t oneof_local[4] = {0};
    uint64_t *oneofs = oneof_local;
    sl_err_t rc;

    if (len && line[len - 1] == '\n') len--;
    if (len && line[len - 1] == '\r') len--;
    if (len > UINT32_MAX)
        return sl_error_set(err, SL_ERR_LIMIT, "line of %zu bytes: longer than 4 GiB", len);
    if (m->pm->n_oneofs > 256) {
        size_t words = ((size_t)m->pm->n_oneofs + 63) / 64;
        uint8_t *b = sl_rec_scratch(r, words * 8 + 8);
        if (!b) return sl_error_set(err, SL_ERR_LIMIT, "record scratch memory exhausted");
        oneofs = (uint64_t *)(void *)(b + ((8 - ((uintptr_t)b & 7)) & 7));
        memset(oneofs, 0, words * 8);
    }

    int32_t want = sl_delim_columns(p);
    size_t got = 1;
    for (const uint8_t *q = line, *e = line + len; (q = memchr(q, sep, (size_t)(e - q))); q++)
        got++;
    if (got != (size_t)want) {
        char sepname[8];
        if (sep >= 0x21 && sep < 0x7f)
            snprintf(sepname, sizeof sepname, "'%c'", sep);
        else if (sep == '\t')
            snprintf(sepname, sizeof sepname, "tab");
        else
            snprintf(sepname, sizeof sepname, "0x%02x", sep);
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "expected %d columns separated by %s (the top-level scalar fields of "
                            "%s, in field-number order), got %zu",
                            want, sepname, m->pm->full_name, got);
    }

    const uint8_t *q = line, *end = line + len;
    int col = 0;
    for (int32_t k = 0; k < m->n_fields; k++) {
        int32_t fi = m->sorted ? m->sorted[k] : k;
        const sl_plan_field *f = &m->fields[fi];
        if (!is_column(f)) continue;
        col++;
        const uint8_t *s = q, *e = memchr(q, sep, (size_t)(end - q));
        if (!e) e = end;
        size_t n = (size_t)(e - s);
        q = e < end ? e + 1 : end;
        sl_val v;
        if (n == ntlen && memcmp(s, nt, n) == 0) {
            if (f->presence) continue; /* null */
            v = f->dflt;               /* implicit presence: the default */
        } else {
            if ((rc = convert(col, f, s, n, &v, err))) return rc;
            if (f->oneof >= 0) {
                uint64_t bit = (uint64_t)1 << (f->oneof & 63);
                if (oneofs[f->oneof >> 6] & bit)
                    return col_fail(err, SL_ERR_CORRUPT, col, f, s, n,
                                    "a second member of a oneof has a value");
                oneofs[f->oneof >> 6] |= bit;
            }
        }
        if ((rc = sl_rec_set(r, 0, fi, v)))
            return sl_error_set(err, rc, "column %d (%s): record scratch: %s", col, f->pf->name,
                                sl_err_text(rc));
    }
    return SL_OK;
}

sl_err_t sl_delim_decode(sl_rec *r, sl_batch *b, const uint8_t *line, size_t len,
                         const sl_delim_options *opt, sl_error *err)
{
    sl_rec_begin(r);
    sl_err_t rc = sl_delim_parse(r, line, len, opt, err);
    if (rc) return rc;
    return sl_rec_emit(r, b, err);
}
