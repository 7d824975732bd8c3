/* json_lex.c - JSON lexing, validation, error paths and duplicate keys for
 * the JSON decoder. See json_lex.h.
 *
 * Strings are scanned with a 256-entry table so the common run of plain
 * ASCII costs one load and one branch per byte; escapes and non-ASCII bytes
 * take the slow path, which validates them completely. Escaped strings are
 * decoded in a second pass only when a value needs their text.
 *
 * Recursion: only sl_jp_skip_value recurses (through containers), bounded
 * by SL_JSON_MAX_NEST via sl_jp_open.
 */
#include "formats/json/json_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "formats/json/json_scalar.h"

/* 1: a byte that continues a string on the fast path. */
/* clang-format off */
static const uint8_t plain[256] = {
#define R8(v) v, v, v, v, v, v, v, v
    R8(0), R8(0), R8(0), R8(0),                  /* 0x00..0x1f: control */
    1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1), /* 0x20..0x3f, '"' = 0x22 */
    R8(1), R8(1), R8(1), 1, 1, 1, 1, 0, 1, 1, 1, /* 0x40..0x5f, '\\' = 0x5c */
    R8(1), R8(1), R8(1), R8(1),                  /* 0x60..0x7f */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
#undef R8
};
/* clang-format on */

void sl_jp_init(sl_jp *j, sl_rec *r, const sl_plan *plan, const uint8_t *line, size_t len,
                sl_error *err)
{
    j->s = j->p = line;
    j->end = line + len;
    j->r = r;
    j->plan = plan;
    j->err = err;
    j->ignore_unknown = 0;
    j->nest = j->msg_depth = j->npath = 0;
    j->max_depth = 100;
    j->keys = NULL;
    j->nkeys = j->capkeys = 0;
}

/* ---- errors ---- */

/* Longest prefix of p[0..n) not longer than cap that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const uint8_t *p, size_t n, size_t cap)
{
    if (n <= cap) return n;
    while (cap > 0 && (p[cap] & 0xC0) == 0x80)
        cap--;
    return cap;
}

static void path_str(const sl_jp *j, char *out, size_t cap)
{
    size_t o = 0;
    int w = snprintf(out, cap, "$");
    o = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < j->npath && o < cap; i++) {
        const sl_jseg *g = &j->path[i];
        if (g->key) {
            size_t k = utf8_cut(g->key, g->klen, 48);
            w = snprintf(out + o, cap - o, g->map_key ? "[\"%.*s%s\"]" : ".%.*s%s", (int)k,
                         (const char *)g->key, k < g->klen ? "..." : "");
        } else {
            w = snprintf(out + o, cap - o, "[%u]", g->index);
        }
        if (w < 0) break;
        o += (size_t)w;
    }
}

static sl_err_t vfail(sl_jp *j, size_t off, sl_err_t code, const char *what, const char *fmt,
                      va_list ap)
{
    char path[200], msg[300];
    path_str(j, path, sizeof path);
    vsnprintf(msg, sizeof msg, fmt, ap);
    return sl_error_set(j->err, code, "byte %zu, %s: %s%s", off, path, msg, what);
}

sl_err_t sl_jp_fail(sl_jp *j, size_t off, sl_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_err_t rc = vfail(j, off, code, "", fmt, ap);
    va_end(ap);
    return rc;
}

sl_err_t sl_jp_fail_tok(sl_jp *j, const sl_jtok *t, const char *fmt, ...)
{
    char what[96];
    size_t k;
    switch (t->kind) {
    case SL_JT_STR:
        k = utf8_cut(t->p, t->n, 40);
        snprintf(what, sizeof what, ", got string \"%.*s%s\"", (int)k, (const char *)t->p,
                 k < t->n ? "..." : "");
        break;
    case SL_JT_NUM:
        k = t->n < 40 ? t->n : 40;
        snprintf(what, sizeof what, ", got number %.*s%s", (int)k, (const char *)t->p,
                 k < t->n ? "..." : "");
        break;
    case SL_JT_TRUE:
        snprintf(what, sizeof what, ", got true");
        break;
    case SL_JT_FALSE:
        snprintf(what, sizeof what, ", got false");
        break;
    case SL_JT_NULL:
        snprintf(what, sizeof what, ", got null");
        break;
    case SL_JT_OBJ:
        snprintf(what, sizeof what, ", got an object");
        break;
    default:
        snprintf(what, sizeof what, ", got an array");
        break;
    }
    va_list ap;
    va_start(ap, fmt);
    sl_err_t rc = vfail(j, t->off, SL_ERR_CORRUPT, what, fmt, ap);
    va_end(ap);
    return rc;
}

static sl_err_t fail_char(sl_jp *j, const char *expected)
{
    if (j->p >= j->end)
        return sl_jp_fail(j, sl_jp_off(j), SL_ERR_CORRUPT, "expected %s, got the end of the line",
                          expected);
    uint8_t c = *j->p;
    if (c > 0x20 && c < 0x7f)
        return sl_jp_fail(j, sl_jp_off(j), SL_ERR_CORRUPT, "expected %s, got '%c'", expected, c);
    return sl_jp_fail(j, sl_jp_off(j), SL_ERR_CORRUPT, "expected %s, got byte 0x%02x", expected, c);
}

/* ---- scratch ---- */

uint8_t *sl_jp_scratch(sl_jp *j, size_t n, size_t off)
{
    uint8_t *p = sl_rec_scratch(j->r, n ? n : 1);
    if (!p)
        sl_jp_fail(j, off, SL_ERR_LIMIT,
                   "record needs more than the per-record scratch memory (%zu more bytes)", n);
    return p;
}

static void *scratch_aligned(sl_jp *j, size_t n, size_t off)
{
    uint8_t *p = sl_jp_scratch(j, n + 8, off);
    if (!p) return NULL;
    return p + ((8 - ((uintptr_t)p & 7)) & 7);
}

uint64_t *sl_jp_bits(sl_jp *j, size_t words, size_t off)
{
    uint64_t *b = scratch_aligned(j, words * 8, off);
    if (b) memset(b, 0, words * 8);
    return b;
}

/* ---- tokens ---- */

static int hex4(const uint8_t *p, const uint8_t *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4) return -1;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Cursor at the opening quote. */
static sl_err_t scan_string(sl_jp *j, sl_jtok *t)
{
    const uint8_t *q = j->p + 1, *end = j->end;
    t->kind = SL_JT_STR;
    t->off = sl_jp_off(j);
    t->esc = 0;
    t->p = q;
    for (;;) {
        while (q < end && plain[*q])
            q++;
        if (q >= end) return sl_jp_fail(j, t->off, SL_ERR_CORRUPT, "unterminated string");
        uint8_t c = *q;
        size_t at = (size_t)(q - j->s);
        if (c == '"') break;
        if (c == '\\') {
            unsigned cp, lo;
            if (q + 1 >= end) return sl_jp_fail(j, t->off, SL_ERR_CORRUPT, "unterminated string");
            switch (q[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                q += 2;
                break;
            case 'u':
                if (hex4(q + 2, end, &cp))
                    return sl_jp_fail(j, at, SL_ERR_CORRUPT, "invalid \\u escape (4 hex digits)");
                q += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return sl_jp_fail(j, at, SL_ERR_CORRUPT,
                                      "lone low surrogate \\u%04X (invalid Unicode)", cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return sl_jp_fail(j, at, SL_ERR_CORRUPT,
                                          "lone high surrogate \\u%04X: a low surrogate "
                                          "\\uDC00..\\uDFFF must follow",
                                          cp);
                    q += 6;
                }
                break;
            default:
                if (q[1] > 0x20 && q[1] < 0x7f)
                    return sl_jp_fail(j, at, SL_ERR_CORRUPT, "invalid escape \\%c", q[1]);
                return sl_jp_fail(j, at, SL_ERR_CORRUPT, "invalid escape (byte 0x%02x)", q[1]);
            }
            t->esc = 1;
            continue;
        }
        if (c < 0x20)
            return sl_jp_fail(j, at, SL_ERR_CORRUPT,
                              "control character 0x%02x in a string (must be escaped)", c);
        size_t k = sl_utf8_seq(q, (size_t)(end - q));
        if (!k) return sl_jp_fail(j, at, SL_ERR_CORRUPT, "invalid UTF-8 in a string");
        q += k;
    }
    t->n = (size_t)(q - t->p);
    j->p = q + 1;
    return SL_OK;
}

static int delim(const sl_jp *j, const uint8_t *q)
{
    if (q >= j->end) return 1;
    switch (*q) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case ',':
    case ']':
    case '}':
        return 1;
    default:
        return 0;
    }
}

static sl_err_t literal(sl_jp *j, sl_jtok *t, const char *lit, int kind)
{
    size_t n = strlen(lit);
    t->kind = kind;
    t->p = j->p;
    t->n = n;
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) || !delim(j, j->p + n))
        return sl_jp_fail(j, t->off, SL_ERR_CORRUPT, "invalid literal (expected %s)", lit);
    j->p += n;
    return SL_OK;
}

sl_err_t sl_jp_token(sl_jp *j, sl_jtok *t)
{
    sl_jp_ws(j);
    t->off = sl_jp_off(j);
    t->esc = t->is_int = 0;
    t->p = j->p;
    t->n = 0;
    if (j->p >= j->end) return fail_char(j, "a value");
    switch (*j->p) {
    case '"':
        return scan_string(j, t);
    case '{':
        t->kind = SL_JT_OBJ;
        return SL_OK;
    case '[':
        t->kind = SL_JT_ARR;
        return SL_OK;
    case 't':
        return literal(j, t, "true", SL_JT_TRUE);
    case 'f':
        return literal(j, t, "false", SL_JT_FALSE);
    case 'n':
        return literal(j, t, "null", SL_JT_NULL);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        t->kind = SL_JT_NUM;
        size_t n = sl_json_num_scan(j->p, j->end, &t->is_int);
        if (!n || !delim(j, j->p + n))
            return sl_jp_fail(j, t->off, SL_ERR_CORRUPT, "invalid number");
        t->n = n;
        j->p += n;
        return SL_OK;
    }
    default:
        return fail_char(j, "a value");
    }
}

static size_t put_utf8(uint8_t *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

sl_err_t sl_jp_str(sl_jp *j, const sl_jtok *t, const uint8_t **s, size_t *n)
{
    if (!t->esc) {
        *s = t->p;
        *n = t->n;
        return SL_OK;
    }
    /* Validated by scan_string; the decoded text is never longer. */
    uint8_t *d = sl_jp_scratch(j, t->n, t->off);
    if (!d) return j->err ? j->err->code : SL_ERR_LIMIT;
    const uint8_t *q = t->p, *e = t->p + t->n;
    size_t o = 0;
    while (q < e) {
        const uint8_t *b = memchr(q, '\\', (size_t)(e - q));
        size_t run = b ? (size_t)(b - q) : (size_t)(e - q);
        memcpy(d + o, q, run);
        o += run;
        q += run;
        if (q >= e) break;
        unsigned cp = 0, lo = 0;
        switch (q[1]) {
        case 'b':
            d[o++] = '\b';
            break;
        case 'f':
            d[o++] = '\f';
            break;
        case 'n':
            d[o++] = '\n';
            break;
        case 'r':
            d[o++] = '\r';
            break;
        case 't':
            d[o++] = '\t';
            break;
        case 'u':
            (void)hex4(q + 2, e, &cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                (void)hex4(q + 8, e, &lo);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            o += put_utf8(d + o, cp);
            q += 4; /* plus the 2 below */
            break;
        default:
            d[o++] = q[1];
            break; /* " \ / */
        }
        q += 2;
    }
    *s = d;
    *n = o;
    return SL_OK;
}

/* ---- containers ---- */

sl_err_t sl_jp_open(sl_jp *j)
{
    if (++j->nest > SL_JSON_MAX_NEST)
        return sl_jp_fail(j, sl_jp_off(j), SL_ERR_LIMIT, "JSON nested deeper than %d",
                          SL_JSON_MAX_NEST);
    j->p++;
    return SL_OK;
}

int sl_jp_peek_close(sl_jp *j, uint8_t c)
{
    sl_jp_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

sl_err_t sl_jp_next_member(sl_jp *j, uint8_t close, int *more)
{
    sl_jp_ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        *more = 1;
        return SL_OK;
    }
    if (j->p < j->end && *j->p == close) {
        j->p++;
        *more = 0;
        return SL_OK;
    }
    return fail_char(j, close == '}' ? "',' or '}'" : "',' or ']'");
}

sl_err_t sl_jp_key(sl_jp *j, sl_jtok *k, const uint8_t **s, size_t *n)
{
    sl_jp_ws(j);
    if (j->p >= j->end || *j->p != '"') return fail_char(j, "a key (a string)");
    sl_err_t rc = scan_string(j, k);
    if (!rc) rc = sl_jp_str(j, k, s, n);
    if (rc) return rc;
    sl_jp_ws(j);
    if (j->p >= j->end || *j->p != ':') return fail_char(j, "':'");
    j->p++;
    return SL_OK;
}

/* ---- duplicate keys ---- */

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int key_cmp(const void *a, const void *b)
{
    const sl_jkey *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return memcmp(x->k, y->k, x->n);
}

static sl_err_t dup_fail(sl_jp *j, const sl_jkey *k)
{
    size_t c = utf8_cut(k->k, k->n, 48);
    return sl_jp_fail(j, k->off, SL_ERR_CORRUPT, "duplicate key \"%.*s%s\" in one object", (int)c,
                      (const char *)k->k, c < k->n ? "..." : "");
}

sl_err_t sl_jp_key_unique(sl_jp *j, size_t mark, const uint8_t *s, size_t n, size_t off)
{
    if (j->nkeys == j->capkeys) {
        size_t cap = j->capkeys ? j->capkeys * 2 : 32;
        sl_jkey *k = scratch_aligned(j, cap * sizeof *k, off);
        if (!k) return j->err ? j->err->code : SL_ERR_LIMIT;
        if (j->nkeys) memcpy(k, j->keys, j->nkeys * sizeof *k);
        j->keys = k;
        j->capkeys = cap;
    }
    sl_jkey *nk = &j->keys[j->nkeys];
    nk->k = s;
    nk->n = (uint32_t)n;
    nk->hash = fnv1a(s, n);
    nk->off = (uint32_t)off;
    if (j->nkeys - mark < SL_JSON_DUP_LINEAR) {
        for (size_t i = mark; i < j->nkeys; i++)
            if (!key_cmp(&j->keys[i], nk)) return dup_fail(j, nk);
    }
    j->nkeys++;
    return SL_OK;
}

sl_err_t sl_jp_keys_done(sl_jp *j, size_t mark)
{
    size_t n = j->nkeys - mark;
    if (n > SL_JSON_DUP_LINEAR) {
        sl_jkey *k = j->keys + mark;
        qsort(k, n, sizeof *k, key_cmp);
        for (size_t i = 1; i < n; i++)
            if (!key_cmp(&k[i - 1], &k[i]))
                return dup_fail(j, k[i].off > k[i - 1].off ? &k[i] : &k[i - 1]);
    }
    j->nkeys = mark;
    return SL_OK;
}

/* ---- path ---- */

void sl_jp_push_key(sl_jp *j, const sl_jtok *k, int map_key)
{
    if (j->npath >= SL_JSON_MAX_NEST + 2) return;
    sl_jseg *g = &j->path[j->npath++];
    g->key = k->p;
    g->klen = (uint32_t)k->n;
    g->index = 0;
    g->map_key = (uint8_t)map_key;
}

void sl_jp_push_index(sl_jp *j, uint32_t index)
{
    if (j->npath >= SL_JSON_MAX_NEST + 2) return;
    sl_jseg *g = &j->path[j->npath++];
    g->key = NULL;
    g->klen = 0;
    g->index = index;
    g->map_key = 0;
}

/* ---- skipping ---- */

sl_err_t sl_jp_skip_value(sl_jp *j)
{
    sl_jtok t;
    sl_err_t rc = sl_jp_token(j, &t);
    if (rc) return rc;
    if (t.kind == SL_JT_OBJ) {
        size_t mark = j->nkeys;
        if ((rc = sl_jp_open(j))) return rc;
        if (sl_jp_peek_close(j, '}')) return sl_jp_close(j);
        for (int more = 1; more;) {
            sl_jtok k;
            const uint8_t *s;
            size_t n;
            if ((rc = sl_jp_key(j, &k, &s, &n)) || (rc = sl_jp_key_unique(j, mark, s, n, k.off)))
                return rc;
            sl_jp_push_key(j, &k, 0);
            if ((rc = sl_jp_skip_value(j))) return rc;
            sl_jp_pop(j);
            if ((rc = sl_jp_next_member(j, '}', &more))) return rc;
        }
        if ((rc = sl_jp_keys_done(j, mark))) return rc;
        return sl_jp_close(j);
    }
    if (t.kind == SL_JT_ARR) {
        if ((rc = sl_jp_open(j))) return rc;
        if (sl_jp_peek_close(j, ']')) return sl_jp_close(j);
        uint32_t idx = 0;
        for (int more = 1; more; idx++) {
            sl_jp_push_index(j, idx);
            if ((rc = sl_jp_skip_value(j))) return rc;
            sl_jp_pop(j);
            if ((rc = sl_jp_next_member(j, ']', &more))) return rc;
        }
        return sl_jp_close(j);
    }
    return SL_OK; /* scalars were validated by sl_jp_token */
}

sl_err_t sl_jp_end(sl_jp *j)
{
    sl_jp_ws(j);
    if (j->p < j->end)
        return sl_jp_fail(j, sl_jp_off(j), SL_ERR_CORRUPT, "unexpected text after the JSON object");
    return SL_OK;
}
