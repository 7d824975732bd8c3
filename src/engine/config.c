/* config.c - reading a pipeline file (YAML) into an sl_cfg: pass 2.
 *
 * Pass 1 (config_yaml.c) turns the text into a tree of nodes with line and
 * column. Here the tree is walked with the key table (config_table.c): each
 * mapping's keys are looked up by generic path ("streams[].etl.filter"),
 * values are read by the row's type and stored at the row's offset. Defaults
 * are applied by reading the row's default text with the same code before
 * the walk of each scope (the top, each stream, each output), so a default
 * is always a value the parser accepts. After a scope is walked its required
 * keys are checked, then one check function per scope (config_check.c)
 * enforces the rules that involve more than one key and resolves each
 * stream's event-time and commit values against `defaults:`.
 *
 * `defaults` is walked first at the top, wherever it is written, so a stream
 * can be resolved as soon as it is read (and an error about an inherited
 * value can point at both places). A stream's wm/commit members start as
 * "not set" sentinels (sl_cfg_stream_unset) instead of built-in defaults,
 * because for them "not written" means "inherit", which a default cannot
 * express. A list row with SL_CKF_EMPTY_OK accepts [] (commit.notify: [] turns
 * inherited notifications off) and stores a non-NULL empty array for it.
 *
 * Every error is "FILE:LINE:COL: key.path: what is wrong; what is expected",
 * and the first one stops the load (the partial sl_cfg is freed by the same
 * table-driven free as a complete one). Values of source.properties never
 * appear in a message. Cost: linear in the file times the table size (~90
 * rows) for key lookups; nothing here is on a hot path.
 *
 * Not done yet: collecting several errors per load (the first is reported,
 * which keeps the failure path simple), and environment-variable
 * substitution for secrets (properties can be read from the file only).
 */
/* Key paths in messages are bounded (SL_CFG_PATH_MAX) and truncating an
 * absurdly long one is intended, so gcc's truncation warning is off here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/units.h"
#include "engine/config_int.h"

_Static_assert(sizeof(sl_in_format) == sizeof(int) && sizeof(sl_value_framing) == sizeof(int) &&
                   sizeof(sl_cfg_time_unit) == sizeof(int) && sizeof(sl_out_kind) == sizeof(int) &&
                   sizeof(sl_out_format) == sizeof(int) && sizeof(sl_notify_kind) == sizeof(int) &&
                   sizeof(sl_late_policy) == sizeof(int),
               "enum keys are stored as int");
_Static_assert(offsetof(sl_cfg_stream, line) == 0 && offsetof(sl_cfg_output, line) == 0 &&
                   offsetof(sl_cfg_notify, line) == 0 && offsetof(sl_cfg_full, pub) == 0,
               "list elements start with line, col; an sl_cfg_full starts with its sl_cfg");

/* ---- pass 2: the walk ---- */

sl_err_t sl_cfg_perr(sl_cfg_pctx *p, const sl_ynode *at, sl_err_t code, const char *path,
                     const char *fmt, ...)
{
    char what[SL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sl_error_set(p->err, code, "%s:%d:%d: %s: %s", p->name, at ? at->line : 1,
                        at ? at->col : 1, path, what);
}

sl_err_t sl_cfg_nomem(sl_cfg_pctx *p)
{
    return sl_error_set(p->err, SL_ERR_NOMEM, "%s: out of memory", p->name);
}

static int is_null(const sl_ynode *v)
{
    if (v->type != SL_YN_SCALAR || !v->plain) return 0;
    const char *t = v->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

static const char *node_kind(const sl_ynode *v)
{
    return v->type == SL_YN_MAP ? "a mapping" : v->type == SL_YN_SEQ ? "a list" : "a scalar";
}

/* dir + "/" + path for a relative path ("./" prefixes dropped). */
static char *resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !*dir) return strdup(path);
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (*path == '/')
            path++;
    }
    if (!*path || !strcmp(path, ".")) return strdup(dir);
    size_t a = strlen(dir), b = strlen(path);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    s[a] = '/';
    memcpy(s + a + 1, path, b + 1);
    return s;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s), dots = strspn(s, ".");
    if (!n || n > 128 || dots == n) return 0;
    for (const char *q = s; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '.' && *q != '-') return 0;
    return 1;
}

static sl_err_t parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s)) return SL_ERR_INVALID;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return SL_ERR_INVALID;
    *out = v;
    return SL_OK;
}

static int enum_index(const char *allowed, const char *s)
{
    char v[64];
    for (int i = 0; sl_cfg_allowed_at(allowed, i, v, sizeof v); i++)
        if (!strcmp(v, s)) return i;
    return -1;
}

/* Read one scalar value `s` for row k into base. `at` is NULL for defaults. */
static sl_err_t set_scalar(sl_cfg_pctx *p, const sl_cfg_key *k, void *base, const char *s,
                           const sl_ynode *at, const char *cpath)
{
    char *b = (char *)base, exp[300];
    int64_t v = 0;
    uint64_t u = 0;
    sl_cfg_key_expect(k, exp, sizeof exp);
    if (!*s && !(k->flags & SL_CKF_EMPTY_OK))
        return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "empty value; expected %s", exp);
    switch (k->type) {
    case SL_CK_NAME:
        if (!name_ok(s))
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath,
                               "'%.64s' is not a valid name; expected %s", s, exp);
        /* fall through */
    case SL_CK_STR:
    case SL_CK_PATH:
    case SL_CK_ENUMSTR: {
        if (k->type == SL_CK_ENUMSTR && enum_index(k->allowed, s) < 0)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "'%.64s' is not allowed; expected %s",
                               s, exp);
        char **slot = (char **)(b + k->off);
        char *val = k->type == SL_CK_PATH ? resolve(p->dir, s) : strdup(s);
        if (!val) return sl_cfg_nomem(p);
        free(*slot);
        *slot = val;
        return SL_OK;
    }
    case SL_CK_INT:
    case SL_CK_DURATION:
    case SL_CK_SIZE: {
        sl_err_t rc = k->type == SL_CK_INT        ? parse_i64(s, &v)
                      : k->type == SL_CK_DURATION ? sl_parse_duration_ms(s, &u)
                                                  : sl_parse_size(s, &u);
        if (k->type != SL_CK_INT) v = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
        if (rc)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "'%.64s' is not valid; expected %s", s,
                               exp);
        if (v < k->lo || v > k->hi)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "%.64s is out of range; expected %s",
                               s, exp);
        if (k->type == SL_CK_INT)
            *(int *)(b + k->off) = (int)v;
        else
            *(int64_t *)(b + k->off) = v;
        return SL_OK;
    }
    case SL_CK_BOOL:
    case SL_CK_KTS: {
        int t = !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on");
        int f = !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off");
        if (!t && !f)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath,
                               "'%.64s' is not a boolean; expected %s", s, exp);
        if (k->type == SL_CK_BOOL) *(int *)(b + k->off) = t;
        return SL_OK;
    }
    case SL_CK_ENUM: {
        int i = enum_index(k->allowed, s);
        if (i < 0)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "'%.64s' is not allowed; expected %s",
                               s, exp);
        *(int *)(b + k->off) = i;
        return SL_OK;
    }
    case SL_CK_ROUTE: {
        sl_cfg_stream *st = base;
        if (st->route.kind != SL_ROUTE_ALL)
            return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath,
                               "a route has one of field, header, topic; remove the others");
        char *val = strdup(s);
        if (!val) return sl_cfg_nomem(p);
        st->route.kind = (sl_route_kind)k->tag;
        st->route.name = val;
        return SL_OK;
    }
    default:
        return sl_cfg_perr(p, at, SL_ERR_INVALID, cpath, "internal: row type %d is not a scalar",
                           (int)k->type);
    }
}

/* Closest known sibling of an unknown key, when close enough to be a typo. */
static int levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int row[65];
    if (la > 64 || lb > 64) return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static sl_err_t unknown_key(sl_cfg_pctx *p, const sl_ynode *k, const char *gp, size_t gplen,
                            const char *cpath)
{
    char known[600];
    size_t used = 0;
    const char *best = NULL;
    int bestd = 99;
    known[0] = '\0';
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const char *kp = sl_cfg_keys[i].path;
        if (sl_cfg_parent_len(kp) != gplen || memcmp(kp, gp, gplen)) continue;
        const char *leaf = kp + gplen + (gplen ? 1 : 0);
        int d = levenshtein(k->text, leaf);
        if (d < bestd) {
            bestd = d;
            best = leaf;
        }
        if (used < sizeof known)
            used +=
                (size_t)snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", leaf);
    }
    size_t kl = strlen(k->text);
    if (best && bestd <= (kl <= 4 ? 1 : kl <= 8 ? 2 : 3))
        return sl_cfg_perr(p, k, SL_ERR_INVALID, cpath, "unknown key; did you mean '%s'?", best);
    return sl_cfg_perr(p, k, SL_ERR_INVALID, cpath, "unknown key; expected one of %s", known);
}

static sl_err_t walk_scope(sl_cfg_pctx *p, const sl_ynode *node, const char *scope,
                           const char *cpath, void *base);

static void child_path(char *out, const char *parent, const char *leaf)
{
    snprintf(out, SL_CFG_PATH_MAX, "%s%s%.64s", parent, *parent ? "." : "", leaf);
}

static sl_err_t set_list(sl_cfg_pctx *p, const sl_cfg_key *k, const sl_ynode *v, void *base,
                         const char *cpath)
{
    char exp[300], ip[SL_CFG_PATH_MAX];
    char *b = (char *)base;
    sl_cfg_key_expect(k, exp, sizeof exp);
    if (v->type != SL_YN_SEQ)
        return sl_cfg_perr(p, v, SL_ERR_INVALID, cpath, "found %s; expected %s", node_kind(v), exp);
    if (!v->n)
        return sl_cfg_perr(p, v, SL_ERR_INVALID, cpath, "empty list; expected %s%s", exp,
                           (k->flags & SL_CKF_REQUIRED) ? "" : " (or leave the key out)");
    for (int i = 0; i < v->n; i++) {
        const sl_ynode *it = v->kids[i];
        snprintf(ip, sizeof ip, "%s[%d]", cpath, i);
        if (it->type != SL_YN_SCALAR || !*it->text)
            return sl_cfg_perr(p, it, SL_ERR_INVALID, ip, "found %s; expected %s",
                               it->type == SL_YN_SCALAR ? "an empty value" : node_kind(it), exp);
    }
    if (k->type == SL_CK_FLAGS) {
        unsigned bits = 0;
        for (int i = 0; i < v->n; i++) {
            int e = enum_index(k->allowed, v->kids[i]->text);
            snprintf(ip, sizeof ip, "%s[%d]", cpath, i);
            if (e < 0)
                return sl_cfg_perr(p, v->kids[i], SL_ERR_INVALID, ip,
                                   "'%.64s' is not allowed; expected %s", v->kids[i]->text, exp);
            if (bits & (1u << e))
                return sl_cfg_perr(p, v->kids[i], SL_ERR_INVALID, ip,
                                   "'%s' is listed twice; list it once", v->kids[i]->text);
            bits |= 1u << e;
        }
        *(unsigned *)(b + k->off) = bits;
        return SL_OK;
    }
    char **l = calloc((size_t)v->n, sizeof *l);
    if (!l) return sl_cfg_nomem(p);
    char ***slot = (char ***)(b + k->off);
    *slot = l; /* owned by the cfg from here: freed with it on any error */
    *(int *)(b + k->off_n) = v->n;
    for (int i = 0; i < v->n; i++)
        if (!(l[i] = k->type == SL_CK_PATHLIST ? resolve(p->dir, v->kids[i]->text)
                                               : strdup(v->kids[i]->text)))
            return sl_cfg_nomem(p);
    return SL_OK;
}

static sl_err_t set_strmap(sl_cfg_pctx *p, const sl_cfg_key *k, const sl_ynode *v, void *base,
                           const char *cpath)
{
    char *b = (char *)base, ip[SL_CFG_PATH_MAX];
    if (v->type != SL_YN_MAP)
        return sl_cfg_perr(p, v, SL_ERR_INVALID, cpath,
                           "found %s; expected a mapping of names to values", node_kind(v));
    int n = v->n / 2;
    sl_cfg_kv *kv = calloc((size_t)n + 1, sizeof *kv);
    if (!kv) return sl_cfg_nomem(p);
    *(sl_cfg_kv **)(b + k->off) = kv;
    for (int i = 0; i < n; i++) {
        const sl_ynode *kn = v->kids[2 * i], *vn = v->kids[2 * i + 1];
        if (kn->type != SL_YN_SCALAR || !*kn->text)
            return sl_cfg_perr(p, kn, SL_ERR_INVALID, cpath, "a key must be a non-empty string");
        child_path(ip, cpath, kn->text);
        for (int j = 0; j < i; j++)
            if (!strcmp(kv[j].key, kn->text))
                return sl_cfg_perr(p, kn, SL_ERR_INVALID, ip, "duplicate key; give each key once");
        /* the value is never echoed: it may be a password */
        if (vn->type != SL_YN_SCALAR || is_null(vn))
            return sl_cfg_perr(p, vn, SL_ERR_INVALID, ip, "expected a non-empty scalar value");
        if (!(kv[i].key = strdup(kn->text)) || !(kv[i].value = strdup(vn->text)))
            return sl_cfg_nomem(p);
        *(int *)(b + k->off_n) = i + 1;
    }
    return SL_OK;
}

static sl_err_t set_maplist(sl_cfg_pctx *p, const sl_cfg_key *k, const sl_ynode *v, void *base,
                            const char *cpath)
{
    char *b = (char *)base, ip[SL_CFG_PATH_MAX], scope[128];
    if (v->type != SL_YN_SEQ)
        return sl_cfg_perr(p, v, SL_ERR_INVALID, cpath, "found %s; expected a list of mappings",
                           node_kind(v));
    if (!v->n && !(k->flags & SL_CKF_EMPTY_OK))
        return sl_cfg_perr(p, v, SL_ERR_INVALID, cpath, "empty list; expected at least one entry");
    if (k->hi > 0 && v->n > k->hi)
        return sl_cfg_perr(p, v, SL_ERR_LIMIT, cpath, "%d entries; at most %lld are allowed", v->n,
                           (long long)k->hi);
    /* at least one element: a set empty list ([]) is non-NULL, an unset one NULL */
    char *arr = calloc(v->n ? (size_t)v->n : 1, k->elem);
    if (!arr) return sl_cfg_nomem(p);
    *(char **)(b + k->off) = arr;
    snprintf(scope, sizeof scope, "%s[]", k->path);
    for (int i = 0; i < v->n; i++) {
        const sl_ynode *it = v->kids[i];
        void *el = arr + (size_t)i * k->elem;
        snprintf(ip, sizeof ip, "%s[%d]", cpath, i);
        *(int *)(b + k->off_n) = i + 1; /* counted before filling: freed on error */
        if (it->type != SL_YN_MAP)
            return sl_cfg_perr(p, it, SL_ERR_INVALID, ip, "found %s; expected a mapping",
                               node_kind(it));
        ((int *)el)[0] = it->line;
        ((int *)el)[1] = it->col;
        sl_err_t rc = walk_scope(p, it, scope, ip, el);
        if (rc) return rc;
    }
    return SL_OK;
}

/* Walk one mapping whose generic path is gp; `at[i]` records the value node of
 * row i (per scope), for the required-key and cross-key checks. */
static sl_err_t walk_pair(sl_cfg_pctx *p, const sl_ynode *m, int i, const char *gp,
                          const char *cpath, void *base, const sl_ynode **at);

static sl_err_t walk_map(sl_cfg_pctx *p, const sl_ynode *m, const char *gp, const char *cpath,
                         void *base, const sl_ynode **at)
{
    size_t gplen = strlen(gp);
    /* At the top, `defaults` is read first (pass 0), wherever it is in the
     * file: streams resolve against it as they are checked. */
    for (int pass = gplen ? 1 : 0; pass < 2; pass++)
        for (int i = 0; i + 1 < m->n; i += 2) {
            const sl_ynode *kn = m->kids[i];
            int dflt = !gplen && kn->type == SL_YN_SCALAR && !strcmp(kn->text, "defaults");
            if (!gplen && dflt != (pass == 0)) continue;
            sl_err_t rc = walk_pair(p, m, i, gp, cpath, base, at);
            if (rc) return rc;
        }
    return SL_OK;
}

/* One key/value pair of mapping m (at kids[i]) of walk_map. */
static sl_err_t walk_pair(sl_cfg_pctx *p, const sl_ynode *m, int i, const char *gp,
                          const char *cpath, void *base, const sl_ynode **at)
{
    char g[SL_CFG_PATH_MAX], cp[SL_CFG_PATH_MAX];
    size_t gplen = strlen(gp);
    const sl_ynode *kn = m->kids[i], *v = m->kids[i + 1];
    if (kn->type != SL_YN_SCALAR)
        return sl_cfg_perr(p, kn, SL_ERR_INVALID, *cpath ? cpath : "(top)",
                           "a key must be a plain string, found %s", node_kind(kn));
    child_path(cp, cpath, kn->text);
    if (!strcmp(kn->text, "<<"))
        return sl_cfg_perr(p, kn, SL_ERR_UNSUPPORTED, cp,
                           "YAML merge keys are not supported; write the keys out");
    for (int j = 0; j < i; j += 2)
        if (m->kids[j]->type == SL_YN_SCALAR && !strcmp(m->kids[j]->text, kn->text))
            return sl_cfg_perr(p, kn, SL_ERR_INVALID, cp,
                               "duplicate key (first at line %d); give each key once",
                               m->kids[j]->line);
    snprintf(g, sizeof g, "%s%s%s", gp, gplen ? "." : "", kn->text);
    int idx = strchr(kn->text, '.') ? -1 : sl_cfg_key_find(g, strlen(g));
    if (idx < 0) return unknown_key(p, kn, gp, gplen, cp);
    const sl_cfg_key *k = &sl_cfg_keys[idx];
    char exp[300];
    sl_cfg_key_expect(k, exp, sizeof exp);
    if (is_null(v)) {
        if (k->flags & SL_CKF_REQUIRED)
            return sl_cfg_perr(p, v, SL_ERR_INVALID, cp, "empty value; expected %s", exp);
        return SL_OK; /* not set: the default stays */
    }
    at[idx] = v;
    if (k->flags & SL_CKF_POS) {
        int *pos = (int *)((char *)base + k->off_pos);
        pos[0] = v->line;
        pos[1] = v->col;
    }
    sl_err_t rc;
    switch (k->type) {
    case SL_CK_MAP:
        if (v->type != SL_YN_MAP)
            return sl_cfg_perr(
                p, v, SL_ERR_INVALID, cp, "found %s; expected a mapping with %s", node_kind(v),
                !strcmp(k->path, "streams[].route") ? "one of field, header, topic (and equals)"
                                                    : exp + strlen("a mapping with "));
        rc = walk_map(p, v, k->path, cp, base, at);
        break;
    case SL_CK_STRLIST:
    case SL_CK_PATHLIST:
    case SL_CK_FLAGS:
        rc = set_list(p, k, v, base, cp);
        break;
    case SL_CK_STRMAP:
        rc = set_strmap(p, k, v, base, cp);
        break;
    case SL_CK_MAPLIST:
        rc = set_maplist(p, k, v, base, cp);
        break;
    default:
        if (v->type != SL_YN_SCALAR)
            return sl_cfg_perr(p, v, SL_ERR_INVALID, cp, "found %s; expected %s", node_kind(v),
                               exp);
        rc = set_scalar(p, k, base, v->text, v, cp);
    }
    return rc;
}

static int in_scope(const char *path, const char *scope, size_t slen)
{
    return sl_cfg_scope_len(path) == slen && !memcmp(path, scope, slen);
}

static sl_err_t walk_scope(sl_cfg_pctx *p, const sl_ynode *node, const char *scope,
                           const char *cpath, void *base)
{
    const sl_ynode *at[SL_CFG_MAX_KEYS] = {0};
    size_t slen = strlen(scope);
    sl_err_t rc;
    if (!slen) p->root_at = at; /* live for the whole walk: every scope is inside the top */
    if (!strcmp(scope, "streams[]")) sl_cfg_stream_unset(base);
    for (int i = 0; i < sl_cfg_n_keys; i++) { /* defaults, through the value reader */
        const sl_cfg_key *k = &sl_cfg_keys[i];
        if (!k->dflt || (k->flags & SL_CKF_COMPUTED) || !in_scope(k->path, scope, slen)) continue;
        if ((rc = set_scalar(p, k, base, k->dflt, NULL, k->path))) return rc;
    }
    if (node->type != SL_YN_MAP)
        return sl_cfg_perr(p, node, SL_ERR_INVALID, *cpath ? cpath : "(top)",
                           "found %s; expected a mapping of keys (see docs/config.md)",
                           node_kind(node));
    if ((rc = walk_map(p, node, scope, cpath, base, at))) return rc;
    for (int i = 0; i < sl_cfg_n_keys; i++) { /* required keys, outermost first */
        const sl_cfg_key *k = &sl_cfg_keys[i];
        if (!(k->flags & SL_CKF_REQUIRED) || at[i] || !in_scope(k->path, scope, slen)) continue;
        size_t pl = sl_cfg_parent_len(k->path);
        int parent = pl > slen ? sl_cfg_key_find(k->path, pl) : -1;
        if (parent >= 0 && !at[parent] && (sl_cfg_keys[parent].flags & SL_CKF_REQUIRED))
            continue; /* the missing parent is reported instead */
        char exp[300], cp[SL_CFG_PATH_MAX];
        sl_cfg_key_expect(k, exp, sizeof exp);
        snprintf(cp, sizeof cp, "%s%s%s", cpath, *cpath ? "." : "",
                 k->path + slen + (slen ? 1 : 0));
        return sl_cfg_perr(p, parent >= 0 && at[parent] ? at[parent] : node, SL_ERR_INVALID, cp,
                           "required key is missing; expected %s", exp);
    }
    return sl_cfg_check_scope(p, node, scope, cpath, base, at);
}

/* ---- load and free ---- */

static void free_scope(const char *scope, void *base)
{
    size_t slen = strlen(scope);
    char *b = (char *)base, sub[128];
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const sl_cfg_key *k = &sl_cfg_keys[i];
        if (!in_scope(k->path, scope, slen)) continue;
        switch (k->type) {
        case SL_CK_STR:
        case SL_CK_NAME:
        case SL_CK_PATH:
        case SL_CK_ENUMSTR:
        case SL_CK_ROUTE: /* three rows share route.name: freed once, then NULL */
            free(*(char **)(b + k->off));
            *(char **)(b + k->off) = NULL;
            break;
        case SL_CK_STRLIST:
        case SL_CK_PATHLIST: {
            char **l = *(char ***)(b + k->off);
            for (int j = 0; l && j < *(int *)(b + k->off_n); j++)
                free(l[j]);
            free(l);
            break;
        }
        case SL_CK_STRMAP: {
            sl_cfg_kv *kv = *(sl_cfg_kv **)(b + k->off);
            for (int j = 0; kv && j < *(int *)(b + k->off_n); j++) {
                free(kv[j].key);
                free(kv[j].value);
            }
            free(kv);
            break;
        }
        case SL_CK_MAPLIST: {
            char *arr = *(char **)(b + k->off);
            snprintf(sub, sizeof sub, "%s[]", k->path);
            for (int j = 0; arr && j < *(int *)(b + k->off_n); j++)
                free_scope(sub, arr + (size_t)j * k->elem);
            free(arr);
            break;
        }
        default:
            break;
        }
    }
}

void sl_cfg_free(sl_cfg *c)
{
    if (!c) return;
    free_scope("", c); /* the top rows include defaults.*, inside the sl_cfg_full */
    free(c->file);
    free(c->dir);
    free((sl_cfg_full *)c);
}

sl_err_t sl_cfg_parse(sl_cfg **out, const char *text, size_t len, const char *name, const char *dir,
                      sl_error *err)
{
    sl_ynode *root = NULL;
    sl_cfg_full *full = calloc(1, sizeof *full);
    sl_cfg *c = full ? &full->pub : NULL;
    sl_err_t rc;
    *out = NULL;
    if (!name) name = "(pipeline)";
    if (!c || !(c->file = strdup(name)) || !(c->dir = strdup(dir && *dir ? dir : "."))) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    if (len > SL_CFG_MAX_FILE) {
        rc = sl_error_set(err, SL_ERR_LIMIT, "%s: %zu bytes; a pipeline file is at most %u bytes",
                          name, len, SL_CFG_MAX_FILE);
        goto fail;
    }
    if ((rc = sl_yn_load(text, len, name, &root, err))) goto fail;
    sl_cfg_pctx p = {.name = name, .dir = c->dir, .err = err, .cfg = full};
    if ((rc = walk_scope(&p, root, "", "", c))) goto fail;
    sl_yn_free(root);
    *out = c;
    return SL_OK;
fail:
    sl_yn_free(root);
    sl_cfg_free(c);
    return rc;
}

sl_err_t sl_cfg_load(sl_cfg **out, const char *path, sl_error *err)
{
    char *text = NULL, *dir = NULL, *abs = NULL;
    size_t len = 0;
    sl_err_t rc = SL_OK;
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f) return sl_error_errno(err, errno, "%s: cannot open the pipeline file", path);
    for (size_t cap = 0;;) { /* grow to the file's size, at most the bound + 1 byte */
        if (len == cap) {
            if (cap == SL_CFG_MAX_FILE + 1) break; /* too big: sl_cfg_parse says so */
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > SL_CFG_MAX_FILE + 1) ncap = SL_CFG_MAX_FILE + 1;
            char *t = realloc(text, ncap);
            if (!t) {
                rc = sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            text = t;
            cap = ncap;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (!got) break;
    }
    if (ferror(f)) {
        rc = sl_error_errno(err, errno, "%s: cannot read the pipeline file", path);
        goto out;
    }
    /* the directory of the file, absolute when it can be, for relative paths */
    const char *slash = strrchr(path, '/');
    if (!(dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup("."))) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    abs = realpath(dir, NULL);
    rc = sl_cfg_parse(out, text, len, path, abs ? abs : dir, err);
out:
    fclose(f);
    free(text);
    free(dir);
    free(abs);
    return rc;
}

const char **sl_cfg_connection(const sl_cfg *c, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < c->source.n_properties && n + 2 < cap; i++) {
        const char *k = c->source.properties[i].key;
        if (strncmp(k, "security.", 9) && strncmp(k, "sasl.", 5) && strncmp(k, "ssl.", 4) &&
            strcmp(k, "client.id") && strcmp(k, "client.rack"))
            continue;
        out[n++] = k;
        out[n++] = c->source.properties[i].value;
    }
    out[n] = NULL;
    return out;
}
