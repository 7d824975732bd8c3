/* config_int.h - the key table shared by the pipeline-file parser (config.c)
 * and the reference/normalized-output generator (config_table.c).
 *
 * One row per key. `path` is the generic key path: list elements are written
 * `[]` ("streams[].outputs[].kind"). The row says how the YAML value is read
 * (type, bounds, allowed values), where it is stored (offset into the struct
 * of its scope: sl_cfg at the top, sl_cfg_stream under streams[],
 * sl_cfg_output under streams[].outputs[]), its default (text, read by the
 * same code as a value from the file, so a default can never be something the
 * parser would reject) and its documentation. Adding a key is adding a row
 * (and a struct field); parsing, defaults, the dump and docs/config.md follow.
 *
 * Rows of a mapping come right after the mapping's row; the table order is
 * the order of the reference and of `sluice config-doc --check` output.
 *
 * `defaults:` (issue 4) is stored outside the public sl_cfg: the parser
 * allocates an sl_cfg_full, whose first member is the sl_cfg it hands out,
 * and the defaults.* rows have offsets into the full struct (SL_CFG_D). The
 * defaults are only an input to resolution (each stream's wm/commit holds
 * the value it uses), so no other part can read an unresolved value by
 * mistake. Only sl_cfg_parse allocates an sl_cfg; sl_cfg_free frees the
 * full struct through the same pointer.
 */
#ifndef SL_ENGINE_CONFIG_INT_H
#define SL_ENGINE_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

typedef enum sl_ck_type {
    SL_CK_STR,      /* char * */
    SL_CK_NAME,     /* char *, [A-Za-z0-9_.-]+ (not only dots), at most 128 bytes */
    SL_CK_PATH,     /* char *, relative paths resolved against the config dir */
    SL_CK_INT,      /* int, lo..hi */
    SL_CK_DURATION, /* int64_t milliseconds, lo..hi ("60s", "500ms", "1m") */
    SL_CK_SIZE,     /* int64_t bytes, lo..hi ("256MiB") */
    SL_CK_BOOL,     /* int 0/1 */
    SL_CK_ENUM,     /* int: index of the value in `allowed` */
    SL_CK_ENUMSTR,  /* char *: one of `allowed`, stored as text */
    SL_CK_STRLIST,  /* char ** at off, int count at off_n */
    SL_CK_PATHLIST, /* like STRLIST, each resolved like PATH */
    SL_CK_FLAGS,    /* unsigned: list of `allowed` values, bit i = value i */
    SL_CK_STRMAP,   /* sl_cfg_kv * at off, int count at off_n; values are secret */
    SL_CK_MAP,      /* a mapping of the rows below it; nothing stored */
    SL_CK_MAPLIST,  /* list of mappings: pointer at off, count at off_n, elem bytes */
    SL_CK_ROUTE,    /* streams[].route.{field,header,topic}: sets route.kind = tag */
    SL_CK_KTS,      /* event_time.kafka_timestamp: bool, checked against field */
} sl_ck_type;

enum {
    SL_CKF_REQUIRED = 1u << 0, /* must be present and non-empty */
    SL_CKF_POS = 1u << 1,      /* store the value's line/col at off_pos (int line, col) */
    SL_CKF_EMPTY_OK = 1u << 2, /* "" is a valid string value; MAPLIST: [] is a valid list */
    SL_CKF_COMPUTED = 1u << 3, /* dflt is a description; config.c computes the default */
};

typedef struct sl_cfg_key {
    const char *path;
    sl_ck_type type;
    unsigned flags;
    const char *dflt;    /* default as text, NULL = none/unset */
    const char *allowed; /* ENUM/ENUMSTR/FLAGS: "a|b|c" */
    int64_t lo, hi;      /* INT/DURATION/SIZE bounds (inclusive); MAPLIST: at most hi entries
                          * when hi > 0 */
    size_t off, off_n, off_pos, elem;
    int tag; /* ROUTE: the sl_route_kind */
    const char *doc;
} sl_cfg_key;

extern const sl_cfg_key sl_cfg_keys[];
extern const int sl_cfg_n_keys;

#define SL_CFG_MAX_KEYS 128 /* bound of the table (checked by the unit test) */
#define SL_CFG_PATH_MAX 320 /* bytes of a key path in a message (a longer one is cut) */

/* What sl_cfg_parse allocates (see the comment at the top). */
typedef struct sl_cfg_full {
    sl_cfg pub;             /* first: an sl_cfg * of the parser is an sl_cfg_full * */
    sl_cfg_stream defaults; /* `defaults:`: only its wm and commit members are used */
} sl_cfg_full;

/* Offset of a member of sl_cfg_stream's wm/commit inside sl_cfg_full.defaults. */
#define SL_CFG_D(f) (offsetof(sl_cfg_full, defaults) + offsetof(sl_cfg_stream, f))

/* Entries of one commit.notify list (bounds the copies made per stream). */
#define SL_CFG_MAX_NOTIFY 16

/* Index of the row with this generic path, or -1. */
int sl_cfg_key_find(const char *path, size_t len);
/* Length of the scope prefix of a path: up to and including the last "[]". */
size_t sl_cfg_scope_len(const char *path);
/* Length of the parent path (before the last '.'), 0 at the top. */
size_t sl_cfg_parent_len(const char *path);
/* Short text of what a row expects ("a duration such as 60s or 500ms"). */
void sl_cfg_key_expect(const sl_cfg_key *k, char *buf, size_t cap);
/* The i-th value of an allowed list "a|b|c" into buf; 0 if there is none. */
int sl_cfg_allowed_at(const char *allowed, int i, char *buf, size_t cap);

/* ---- the YAML tree (config_yaml.c) ---- */

#define SL_CFG_MAX_FILE  (16u << 20)
#define SL_CFG_MAX_DEPTH 64
#define SL_CFG_MAX_NODES 1000000

typedef enum { SL_YN_SCALAR, SL_YN_SEQ, SL_YN_MAP } sl_yn_type;

typedef struct sl_ynode {
    sl_yn_type type;
    int line, col;          /* 1-based */
    int plain;              /* scalar written without quotes */
    char *text;             /* scalar text, NUL-terminated (embedded NULs are rejected) */
    struct sl_ynode **kids; /* sequence items; mapping key, value, key, value, ... */
    int n, cap;
} sl_ynode;

/* Parse the one YAML document of text into a tree (anchors/aliases
 * rejected, bounded by the limits above). On error *root is NULL and err says
 * file:line:col and libyaml's problem. */
sl_err_t sl_yn_load(const char *text, size_t len, const char *name, sl_ynode **root,
                    sl_error *err) SL_MUST_CHECK;
void sl_yn_free(sl_ynode *n);

/* ---- shared by the walk (config.c) and the cross-key checks (config_check.c) ---- */

typedef struct sl_cfg_pctx {
    const char *name, *dir;
    sl_error *err;
    sl_cfg_full *cfg;         /* being filled */
    const sl_ynode **root_at; /* value nodes of the top scope's rows (defaults.* among them) */
} sl_cfg_pctx;

/* "NAME:LINE:COL: path: what" into p->err; `at` NULL means line 1 col 1. */
sl_err_t sl_cfg_perr(sl_cfg_pctx *p, const sl_ynode *at, sl_err_t code, const char *path,
                     const char *fmt, ...) SL_PRINTF(5, 6);
sl_err_t sl_cfg_nomem(sl_cfg_pctx *p);
/* The rules of one scope that involve more than one key, and the
 * resolution of a stream's event-time and commit values; run after the
 * scope's keys are read. `at[i]` is the value node of row i, or NULL. */
sl_err_t sl_cfg_check_scope(sl_cfg_pctx *p, const sl_ynode *node, const char *scope,
                            const char *cpath, void *base, const sl_ynode **at);
/* Mark a new stream's event-time and commit values as not set, so that
 * resolution can tell them from values written in the file. */
void sl_cfg_stream_unset(sl_cfg_stream *st);

#endif
