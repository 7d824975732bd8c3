/* json_scalar.h - text to scalar conversions shared by the JSON-lines and the
 * delimited-text decoders: strict number syntax, integer range checks per
 * protobuf type, correctly rounded doubles.
 *
 * Header-only (static inline; the one slow path is a static noinline
 * function) so that the two format parts, which are separate libraries in
 * the build, share one implementation without a link dependency between
 * them.
 *
 * Numbers:
 *   - sl_json_num_scan accepts exactly JSON's number grammar
 *     -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and says whether the
 *     text is integer syntax (no fraction, no exponent);
 *   - integer syntax is converted exactly (magnitude in a uint64, overflow
 *     detected), then range-checked for the field's protobuf type;
 *   - other numbers go through a double, which must then be integral and in
 *     range: protobuf's parsers (C++ and Python alike) accept 1e3 or 10.0
 *     for an integer field this way, and give the same value for
 *     9007199254740993.0 (the double's, not the text's).
 * Doubles are correctly rounded: a fast exact path (at most 19 significant
 * digits, mantissa at most 2^53, decimal exponent within +-22: one IEEE
 * multiply or divide of exact operands, Clinger's method) covers the common
 * "0.1234"-style values; the rest is copied to a NUL-terminated stack buffer
 * and handed to strtod (glibc's is correctly rounded). strtod reads the
 * decimal point of LC_NUMERIC; sluice never calls setlocale, so that is "C".
 * Numbers longer than SL_JSON_NUM_MAX characters are refused rather than
 * copied to the heap (no allocation sized by input): 400-digit numbers are
 * not data anyone sends.
 *
 * UTF-8 validation is core/utf8.h's (one validator for every decoder).
 */
#ifndef SL_JSON_SCALAR_H
#define SL_JSON_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/pb/pb_desc.h"
#include "formats/pb/pb_plan.h"

#define SL_JSON_NUM_MAX 400 /* longest number text converted (characters) */

#if defined(__GNUC__)
#define SL_JSON_NOINLINE __attribute__((noinline))
#define SL_JSON_UNUSED   __attribute__((unused))
#else
#define SL_JSON_NOINLINE
#define SL_JSON_UNUSED
#endif

static inline int sl_json_isdigit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Length of the JSON number starting at p (0 if there is none). *is_int is
 * set when it has neither fraction nor exponent. Stops at the first byte
 * that cannot continue the number; the caller decides whether what follows
 * is allowed (JSON: a delimiter; delimited text: the end of the field). */
static inline size_t sl_json_num_scan(const uint8_t *p, const uint8_t *end, int *is_int)
{
    const uint8_t *q = p;
    *is_int = 1;
    if (q < end && *q == '-') q++;
    if (q >= end || !sl_json_isdigit(*q)) return 0;
    if (*q == '0') {
        q++;
    } else {
        while (q < end && sl_json_isdigit(*q))
            q++;
    }
    if (q < end && *q == '.') {
        if (q + 1 >= end || !sl_json_isdigit(q[1])) return 0;
        q += 2;
        while (q < end && sl_json_isdigit(*q))
            q++;
        *is_int = 0;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        const uint8_t *x = q + 1;
        if (x < end && (*x == '+' || *x == '-')) x++;
        if (x >= end || !sl_json_isdigit(*x)) return 0;
        while (x < end && sl_json_isdigit(*x))
            x++;
        q = x;
        *is_int = 0;
    }
    return (size_t)(q - p);
}

/* Integer text -?[0-9]+ (leading zeros allowed: "007" is 7, as protobuf's
 * parsers read quoted integers). Returns 0 and sign/magnitude, -1 for bad
 * syntax, -2 when the magnitude exceeds 2^64-1. */
static inline int sl_json_int_text(const uint8_t *p, size_t n, int *neg, uint64_t *mag)
{
    size_t i = 0;
    uint64_t v = 0;
    *neg = 0;
    if (i < n && p[i] == '-') {
        *neg = 1;
        i++;
    }
    if (i >= n) return -1;
    for (; i < n; i++) {
        if (!sl_json_isdigit(p[i])) return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            for (i++; i < n; i++)
                if (!sl_json_isdigit(p[i])) return -1;
            return -2;
        }
        v = v * 10 + d;
    }
    *mag = v;
    return 0;
}

/* Store sign/magnitude into v per the protobuf integer type (INT32, SINT32,
 * SFIXED32, ENUM: i within int32; UINT32, FIXED32: u within uint32; INT64,
 * SINT64, SFIXED64: i within int64; UINT64, FIXED64: u). Returns 0, or -1 if
 * out of range (or type is not an integer type). */
static inline int sl_json_int_store(int type, int neg, uint64_t mag, sl_val *v)
{
    switch (type) {
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
    case SL_PB_ENUM:
        if (neg ? mag > (uint64_t)INT32_MAX + 1 : mag > (uint64_t)INT32_MAX) return -1;
        v->i = neg ? -(int64_t)mag : (int64_t)mag;
        return 0;
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        if ((neg && mag) || mag > UINT32_MAX) return -1;
        v->u = mag;
        return 0;
    case SL_PB_INT64:
    case SL_PB_SINT64:
    case SL_PB_SFIXED64:
        if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX) return -1;
        v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        return 0;
    case SL_PB_UINT64:
    case SL_PB_FIXED64:
        if (neg && mag) return -1;
        v->u = mag;
        return 0;
    default:
        return -1;
    }
}

/* An integral double into an integer type. Returns 0, -1 if d is not
 * integral (or not finite), -2 if out of the type's range. */
static inline int sl_json_int_from_double(int type, double d, sl_val *v)
{
    if (!isfinite(d) || d != floor(d)) return -1;
    double a = fabs(d);
    if (a >= 18446744073709551616.0) return -2; /* 2^64 */
    return sl_json_int_store(type, d < 0, (uint64_t)a, v) ? -2 : 0;
}

static SL_JSON_NOINLINE SL_JSON_UNUSED int sl_json_double_slow(const uint8_t *p, size_t n,
                                                               double *out)
{
    char buf[SL_JSON_NUM_MAX + 1];
    if (n > SL_JSON_NUM_MAX) return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

/* 1 when s[0..n) is exactly the C string lit. */
static inline int sl_json_text_is(const uint8_t *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n == k && memcmp(s, lit, k) == 0;
}

/* protobuf's names for the special floats ("NaN", "Infinity", "-Infinity"):
 * 1 and *d set when s is one of them, else 0. */
static inline int sl_json_float_name(const uint8_t *s, size_t n, double *d)
{
    if (sl_json_text_is(s, n, "NaN"))
        *d = NAN;
    else if (sl_json_text_is(s, n, "Infinity"))
        *d = INFINITY;
    else if (sl_json_text_is(s, n, "-Infinity"))
        *d = -INFINITY;
    else
        return 0;
    return 1;
}

/* Text that sl_json_num_scan accepted, to the nearest double (overflow
 * gives +-inf; the caller decides). Returns -1 only when the text is longer
 * than SL_JSON_NUM_MAX. */
static inline int sl_json_double_text(const uint8_t *p, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const uint8_t *q = p, *end = p + n;
    int neg = 0, nd = 0, e10 = 0;
    uint64_t w = 0;
    if (q < end && *q == '-') {
        neg = 1;
        q++;
    }
    for (; q < end && sl_json_isdigit(*q); q++) {
        if (w == 0 && *q == '0') continue;
        if (++nd > 19) return sl_json_double_slow(p, n, out);
        w = w * 10 + (uint64_t)(*q - '0');
    }
    if (q < end && *q == '.') {
        for (q++; q < end && sl_json_isdigit(*q); q++) {
            e10--;
            if (w == 0 && *q == '0') continue;
            if (++nd > 19) return sl_json_double_slow(p, n, out);
            w = w * 10 + (uint64_t)(*q - '0');
        }
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        int eneg = 0, ev = 0;
        q++;
        if (q < end && (*q == '+' || *q == '-')) eneg = *q++ == '-';
        for (; q < end && sl_json_isdigit(*q); q++) {
            if (ev > 100000) return sl_json_double_slow(p, n, out);
            ev = ev * 10 + (*q - '0');
        }
        e10 += eneg ? -ev : ev;
    }
    if (w > ((uint64_t)1 << 53) || e10 < -22 || e10 > 22) return sl_json_double_slow(p, n, out);
    double d = (double)w;
    d = e10 < 0 ? d / p10[-e10] : d * p10[e10];
    *out = neg ? -d : d;
    return 0;
}

#endif
