/* json_lex.h - the JSON decoder's lexer and parser state (private to
 * src/formats/json): tokens, validated strings, the error path, the
 * duplicate-key arena, and skipping of values that map to no field.
 *
 * Split from json_dec.c along the seam "JSON syntax" / "protobuf mapping":
 * everything here knows JSON only; json_dec.c knows the plan.
 *
 * Tokens are read in place: a string token is the raw text between its
 * quotes, already fully validated (escapes, surrogate pairs, control
 * characters, UTF-8), so decoding it later cannot fail; a number token is
 * text that matched JSON's number grammar and is followed by a delimiter.
 * '{' and '[' are reported but not consumed: the caller descends.
 *
 * Every failure goes through sl_jp_fail, which writes
 * "byte N, $.path.to[3].value: what was wrong" into the caller's sl_error
 * and returns the code. The path is a stack of segments pointing into the
 * line (keys as written), pushed and popped around each member.
 */
#ifndef SL_JSON_LEX_H
#define SL_JSON_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "formats/pb/pb_plan.h"

#define SL_JSON_MAX_NEST   256 /* JSON containers open at once */
#define SL_JSON_DUP_LINEAR 16  /* keys per object checked pairwise; sorted past that */

enum { SL_JT_STR = 1, SL_JT_NUM, SL_JT_TRUE, SL_JT_FALSE, SL_JT_NULL, SL_JT_OBJ, SL_JT_ARR };

typedef struct sl_jtok {
    int kind;
    const uint8_t *p; /* STR: raw text between the quotes; NUM: the number; else the literal */
    size_t n;
    size_t off; /* byte offset of the token in the line */
    int esc;    /* STR: has backslash escapes (decode with sl_jp_str) */
    int is_int; /* NUM: integer syntax (no fraction, no exponent) */
} sl_jtok;

typedef struct sl_jseg {
    const uint8_t *key; /* raw key text, NULL for an array index */
    uint32_t klen;
    uint32_t index;
    uint8_t map_key; /* printed as ["key"] rather than .key */
} sl_jseg;

typedef struct sl_jkey {
    const uint8_t *k; /* decoded key text */
    uint32_t n;
    uint32_t hash;
    uint32_t off;
} sl_jkey;

typedef struct sl_jp {
    const uint8_t *s, *p, *end; /* line start, cursor, line end */
    sl_rec *r;
    const sl_plan *plan;
    sl_error *err;
    int ignore_unknown;
    int nest;      /* containers open */
    int msg_depth; /* messages open (root = 1) */
    int max_depth;
    int npath;
    sl_jkey *keys; /* duplicate-key arena (scratch memory), a stack */
    size_t nkeys, capkeys;
    sl_jseg path[SL_JSON_MAX_NEST + 2];
} sl_jp;

void sl_jp_init(sl_jp *j, sl_rec *r, const sl_plan *plan, const uint8_t *line, size_t len,
                sl_error *err);

/* Record an error at byte off; returns code. */
sl_err_t sl_jp_fail(sl_jp *j, size_t off, sl_err_t code, const char *fmt, ...) SL_PRINTF(4, 5);
/* SL_ERR_CORRUPT at token t: "<what>, got <t described>". */
sl_err_t sl_jp_fail_tok(sl_jp *j, const sl_jtok *t, const char *fmt, ...) SL_PRINTF(3, 4);

static inline size_t sl_jp_off(const sl_jp *j)
{
    return (size_t)(j->p - j->s);
}

static inline void sl_jp_ws(sl_jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Skip whitespace and read one value token. */
sl_err_t sl_jp_token(sl_jp *j, sl_jtok *t) SL_MUST_CHECK;
/* The decoded text of string token t (in the line, or in scratch memory). */
sl_err_t sl_jp_str(sl_jp *j, const sl_jtok *t, const uint8_t **s, size_t *n) SL_MUST_CHECK;
/* Scratch memory valid for this record; NULL after setting the error. */
uint8_t *sl_jp_scratch(sl_jp *j, size_t n, size_t off);
/* Zeroed bitset of `words` 64-bit words in scratch; NULL after the error. */
uint64_t *sl_jp_bits(sl_jp *j, size_t words, size_t off);

/* Containers: the cursor is at '{' or '['. open consumes it (nesting
 * bound); peek_close consumes the closing byte if it comes next (empty
 * container); next_member reads ',' (more = 1) or the closing byte
 * (more = 0); close ends the container. */
sl_err_t sl_jp_open(sl_jp *j) SL_MUST_CHECK;
int sl_jp_peek_close(sl_jp *j, uint8_t c);
sl_err_t sl_jp_next_member(sl_jp *j, uint8_t close, int *more) SL_MUST_CHECK;
static inline sl_err_t sl_jp_close(sl_jp *j)
{
    j->nest--;
    return SL_OK;
}

/* An object key and its ':' : token k, decoded text s[0..n). */
sl_err_t sl_jp_key(sl_jp *j, sl_jtok *k, const uint8_t **s, size_t *n) SL_MUST_CHECK;
/* Duplicate keys of the object whose arena entries start at mark: add one
 * (error if it repeats a key, for small objects), and, when the object
 * ends, check the rest and pop the entries. */
sl_err_t sl_jp_key_unique(sl_jp *j, size_t mark, const uint8_t *s, size_t n,
                          size_t off) SL_MUST_CHECK;
sl_err_t sl_jp_keys_done(sl_jp *j, size_t mark) SL_MUST_CHECK;

/* Error path. */
void sl_jp_push_key(sl_jp *j, const sl_jtok *k, int map_key);
void sl_jp_push_index(sl_jp *j, uint32_t index);
static inline void sl_jp_pop(sl_jp *j)
{
    if (j->npath > 0) j->npath--;
}

/* Validate and skip any JSON value (an unknown field's). */
sl_err_t sl_jp_skip_value(sl_jp *j) SL_MUST_CHECK;
/* Only whitespace may follow the top-level value. */
sl_err_t sl_jp_end(sl_jp *j) SL_MUST_CHECK;

#endif
