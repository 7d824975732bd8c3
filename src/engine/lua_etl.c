/* lua_etl.c - the Lua 5.4 transform (lua_etl.h): a sandboxed Lua state per
 * worker, the record -> table -> record conversion, and the bounds.
 *
 * One call: sl_rec_begin(out); then, in protected mode (lua_pcall of
 * apply_body, so every Lua error - the script's, ours while converting,
 * out of memory, the budget - unwinds to one place): build the table of
 * `in` (pb_read.h), call transform, convert the result into `out`. The
 * conversion raises Lua errors too (conv_fail), flagged so the message
 * handler does not add a traceback to them; script errors get one.
 * Nothing is allocated with malloc inside the protected call (a longjmp
 * would leak it): scratch arrays are Lua userdata, strings written into
 * `out` are copied into the record's scratch (sl_rec_scratch), which lives
 * until the next sl_rec_begin.
 *
 * Bounds: the allocator counts the state's bytes and refuses past the limit
 * (Lua then raises a memory error, LUA_ERRMEM); a count hook every 1000 VM
 * instructions charges the call's budget, and once it is spent raises an
 * error and re-arms itself for every instruction, so a script that catches
 * the error with pcall still cannot keep running. Both leave the state
 * usable for the next record.
 *
 * Determinism: fields of a returned table are set in whatever order
 * lua_next gives, which is safe because the only order-dependent cases are
 * errors (two members of a oneof, a field given by both its proto and JSON
 * name). Maps come back in the input's entry order (the __order array of
 * their metatable), new keys after them sorted by key.
 *
 * Cost: a table per message and per repeated field per record, and a copy
 * of every string both ways; a script costs microseconds per record, which
 * is why the engine skips this module entirely when no script is set. Not
 * done: reusing tables between records (the script may keep references).
 */
#include "engine/lua_etl.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "formats/pb/pb_read.h"

#define HOOK_EVERY 1000

struct sl_lua_etl {
    lua_State *L;
    const sl_plan *p;
    size_t mem_used, mem_limit;
    long budget, spent;
    int over;     /* the budget ran out during this call */
    int conv_err; /* the error was raised by the conversion (no traceback) */
    sl_err_t conv_code;
    int fn_ref;
    const sl_rec *in;
    sl_rec *out;
    char path[256]; /* field path being converted, for errors */
    size_t plen;
    char script[256];
};

static sl_lua_etl *self(lua_State *L)
{
    return *(sl_lua_etl **)lua_getextraspace(L);
}

/* ---- bounds ---- */

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sl_lua_etl *l = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        l->mem_used -= old;
        return NULL;
    }
    if (nsize > old && (l->mem_used >= l->mem_limit || nsize - old > l->mem_limit - l->mem_used))
        return NULL;
    void *q = realloc(ptr, nsize);
    if (!q) return NULL;
    l->mem_used = l->mem_used - old + nsize;
    return q;
}

static void l_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sl_lua_etl *l = self(L);
    l->spent += l->over ? 1 : HOOK_EVERY;
    if (l->spent > l->budget) {
        if (!l->over) lua_sethook(L, l_hook, LUA_MASKCOUNT, 1);
        l->over = 1;
        luaL_error(L, "instruction budget of %I exceeded", (lua_Integer)l->budget);
    }
}

static void arm(sl_lua_etl *l)
{
    l->spent = 0;
    l->over = 0;
    l->conv_err = 0;
    lua_sethook(l->L, l_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* Message handler: a traceback for script errors, the bare message for
 * conversion and budget errors. */
static int l_msgh(lua_State *L)
{
    sl_lua_etl *l = self(L);
    if (l->conv_err || l->over) return 1;
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Turn a failed pcall into err; pops nothing (the caller resets the top). */
static sl_err_t call_error(sl_lua_etl *l, int status, const char *what, sl_error *err)
{
    lua_sethook(l->L, NULL, 0, 0);
    if (status == LUA_ERRMEM)
        return sl_error_set(err, SL_ERR_LIMIT, "lua %s: %s: memory limit of %zu bytes exceeded",
                            l->script, what, l->mem_limit);
    const char *m = lua_tostring(l->L, -1);
    char flat[SL_ERRMSG_MAX];
    size_t n = 0;
    for (; m && *m && n + 3 < sizeof flat; m++) { /* one line: "\n\t" -> " | " */
        if (*m == '\t') continue;
        if (*m == '\n') {
            flat[n++] = ' ';
            flat[n++] = '|';
            flat[n++] = ' ';
        } else {
            flat[n++] = *m;
        }
    }
    flat[n] = '\0';
    sl_err_t code = l->over ? SL_ERR_LIMIT : l->conv_err ? l->conv_code : SL_ERR_INVALID;
    return sl_error_set(err, code, "lua %s: %s: %s", l->script, what, flat);
}

/* ---- sandbox ---- */

static void open_safe_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8}};
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    static const char *const unsafe[] = {"dofile", "loadfile", "load", "print", "require"};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, unsafe[i]);
    }
    /* os: only the clock and calendar functions */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 3);
    static const char *const osfn[] = {"time", "date", "clock"};
    for (size_t i = 0; i < 3; i++) {
        lua_getfield(L, -2, osfn[i]);
        lua_setfield(L, -2, osfn[i]);
    }
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_pop(L, 1);
}

static int load_body(lua_State *L)
{
    sl_lua_etl *l = self(L);
    lua_call(L, 0, 0); /* the main chunk, pushed by open */
    if (lua_getglobal(L, "transform") != LUA_TFUNCTION) {
        l->conv_err = 1;
        l->conv_code = SL_ERR_INVALID;
        return luaL_error(L, "the script must define a global function transform(rec), found %s",
                          luaL_typename(L, -1));
    }
    l->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

sl_err_t sl_lua_etl_open(sl_lua_etl **out, const char *script_path, const sl_plan *p, sl_error *err)
{
    sl_err_t rc;
    *out = NULL;
    sl_lua_etl *l = calloc(1, sizeof *l);
    if (!l) return sl_error_set(err, SL_ERR_NOMEM, "lua: out of memory");
    l->p = p;
    l->budget = SL_LUA_DEFAULT_INSTRUCTIONS;
    l->mem_limit = SL_LUA_DEFAULT_MEMORY;
    l->fn_ref = LUA_NOREF;
    snprintf(l->script, sizeof l->script, "%s", script_path);
    l->L = lua_newstate(l_alloc, l);
    if (!l->L) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "lua %s: cannot create a Lua state", script_path);
        goto fail;
    }
    *(sl_lua_etl **)lua_getextraspace(l->L) = l;
    lua_State *L = l->L;
    open_safe_libs(L);
    lua_pushcfunction(L, l_msgh);
    lua_pushcfunction(L, load_body);
    int st = luaL_loadfilex(L, script_path, "t");
    if (st != LUA_OK) {
        rc = sl_error_set(err, st == LUA_ERRMEM ? SL_ERR_LIMIT : SL_ERR_INVALID, "lua: %s",
                          lua_tostring(L, -1));
        goto fail;
    }
    arm(l);
    st = lua_pcall(L, 1, 0, 1);
    lua_sethook(L, NULL, 0, 0);
    if (st != LUA_OK) {
        rc = call_error(l, st, "loading", err);
        goto fail;
    }
    lua_settop(L, 0);
    *out = l;
    return SL_OK;
fail:
    sl_lua_etl_free(l);
    return rc;
}

void sl_lua_etl_limits(sl_lua_etl *l, long instructions, size_t memory)
{
    if (instructions > 0) l->budget = instructions;
    if (memory) l->mem_limit = memory;
}

void sl_lua_etl_free(sl_lua_etl *l)
{
    if (!l) return;
    if (l->L) lua_close(l->L);
    free(l);
}

/* ---- record -> table ---- */

static void push_msg(lua_State *L, sl_lua_etl *l, int32_t frame, int32_t m);

static void push_value(lua_State *L, sl_lua_etl *l, const sl_plan_field *pf, sl_val v)
{
    switch (pf->type) {
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        lua_pushinteger(L, (lua_Integer)(uint32_t)v.u);
        break;
    case SL_PB_FLOAT:
        lua_pushnumber(L, (lua_Number)v.f);
        break;
    case SL_PB_DOUBLE:
        lua_pushnumber(L, (lua_Number)v.d);
        break;
    case SL_PB_BOOL:
        lua_pushboolean(L, v.u != 0);
        break;
    case SL_PB_STRING:
    case SL_PB_BYTES:
        lua_pushlstring(L, v.s.len ? (const char *)v.s.p : "", v.s.len);
        break;
    case SL_PB_ENUM: {
        const char *name;
        uint32_t len;
        if (sl_rec_enum_lookup(l->in, pf->enm, (int32_t)v.i, &name, &len))
            lua_pushlstring(L, name, len);
        else
            lua_pushinteger(L, (lua_Integer)(int32_t)v.i);
        break;
    }
    default: /* signed kinds in v.i; uint64/fixed64 bits in v.u == v.i */
        lua_pushinteger(L, (lua_Integer)v.i);
    }
}

/* A scalar field of a frame (or the default / nil when absent). Pushes
 * one value, or nothing and returns 0 for nil. */
static int push_field_scalar(lua_State *L, sl_lua_etl *l, int32_t frame, int32_t f,
                             const sl_plan_field *pf)
{
    sl_val v;
    if (sl_rec_get(l->in, frame, f, &v))
        push_value(L, l, pf, v);
    else if (pf->presence)
        return 0;
    else
        push_value(L, l, pf, pf->dflt);
    return 1;
}

static void push_map(lua_State *L, sl_lua_etl *l, int32_t frame, int32_t f, const sl_plan_field *pf)
{
    const sl_plan_msg *em = &l->p->msgs[pf->child];
    int32_t kf = sl_plan_field_by_number(l->p, pf->child, 1);
    int32_t vf = sl_plan_field_by_number(l->p, pf->child, 2);
    uint32_t n = sl_rec_count(l->in, frame, f);
    lua_createtable(L, 0, (int)(n < 1024 ? n : 1024)); /* the map */
    lua_createtable(L, (int)(n < 1024 ? n : 1024), 0); /* its key order */
    lua_Integer k = 0;
    sl_val e;
    for (uint32_t it = sl_rec_first(l->in, frame, f); sl_rec_next_item(l->in, &it, &e);) {
        int32_t ef = (int32_t)e.u;
        if (kf < 0 || vf < 0) continue;
        push_field_scalar(L, l, ef, kf, &em->fields[kf]); /* keys have no presence */
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -4) == LUA_TNIL) { /* first time: remember its position */
            lua_pushvalue(L, -2);
            lua_rawseti(L, -4, ++k);
        }
        lua_pop(L, 1);
        const sl_plan_field *vp = &em->fields[vf];
        if (vp->child >= 0)
            push_msg(L, l, sl_rec_get_sub(l->in, ef, vf), vp->child); /* absent: empty message */
        else if (!push_field_scalar(L, l, ef, vf, vp))
            push_value(L, l, vp, vp->dflt);
        lua_rawset(L, -4);
    }
    lua_createtable(L, 0, 1); /* metatable {__order = order} */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__order");
    lua_setmetatable(L, -2);
}

/* The table of message instance `frame` of plan message m (frame -1: an
 * absent instance, i.e. every field at its default or nil). */
static void push_msg(lua_State *L, sl_lua_etl *l, int32_t frame, int32_t m)
{
    const sl_plan_msg *pm = &l->p->msgs[m];
    luaL_checkstack(L, 8, "message nesting");
    lua_createtable(L, 0, pm->n_fields);
    for (int32_t f = 0; f < pm->n_fields; f++) {
        const sl_plan_field *pf = &pm->fields[f];
        if (pf->is_map) {
            push_map(L, l, frame, f, pf);
        } else if (pf->repeated) {
            uint32_t n = sl_rec_count(l->in, frame, f);
            lua_createtable(L, (int)(n < 4096 ? n : 4096), 0);
            lua_Integer i = 0;
            sl_val v;
            for (uint32_t it = sl_rec_first(l->in, frame, f); sl_rec_next_item(l->in, &it, &v);) {
                if (pf->child >= 0)
                    push_msg(L, l, (int32_t)v.u, pf->child);
                else
                    push_value(L, l, pf, v);
                lua_rawseti(L, -2, ++i);
            }
        } else if (pf->child >= 0) {
            int32_t sub = sl_rec_get_sub(l->in, frame, f);
            if (sub < 0) continue;
            push_msg(L, l, sub, pf->child);
        } else if (!push_field_scalar(L, l, frame, f, pf)) {
            continue;
        }
        lua_setfield(L, -2, pf->pf->name);
    }
}

/* ---- table -> record ---- */

static int conv_fail(lua_State *L, sl_lua_etl *l, sl_err_t code, const char *fmt, ...)
    SL_PRINTF(4, 5);
static int conv_fail(lua_State *L, sl_lua_etl *l, sl_err_t code, const char *fmt, ...)
{
    char msg[SL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->conv_err = 1;
    l->conv_code = code;
    if (l->plen)
        lua_pushfstring(L, "returned record: field '%s': %s", l->path, msg);
    else
        lua_pushfstring(L, "returned record: %s", msg);
    return lua_error(L);
}

/* Append ".name" / "[i]" to the error path; returns the length to restore. */
static size_t path_push(sl_lua_etl *l, const char *fmt, ...) SL_PRINTF(2, 3);
static size_t path_push(sl_lua_etl *l, const char *fmt, ...)
{
    size_t old = l->plen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->path + old, sizeof l->path - old, fmt, ap);
    va_end(ap);
    if (n > 0) l->plen = old + (size_t)n < sizeof l->path ? old + (size_t)n : sizeof l->path - 1;
    return old;
}

static void path_pop(sl_lua_etl *l, size_t old)
{
    l->plen = old;
    l->path[old] = '\0';
}

static void check_rc(lua_State *L, sl_lua_etl *l, int64_t rc)
{
    if (rc >= 0) return;
    conv_fail(L, l, (sl_err_t)rc,
              rc == SL_ERR_LIMIT ? "the record is larger than the record scratch bounds"
                                 : "out of memory or invalid record (%s)",
              sl_err_name((sl_err_t)rc));
}

/* The Lua value at idx as field pf's scalar (keys and values of maps
 * included); strings are copied into the out record's scratch. */
static sl_val to_val(lua_State *L, sl_lua_etl *l, int idx, const sl_plan_field *pf)
{
    sl_val v;
    memset(&v, 0, sizeof v);
    int t = lua_type(L, idx);
    const char *tn = sl_pb_type_name(pf->type);
    switch (pf->type) {
    case SL_PB_BOOL:
        if (t != LUA_TBOOLEAN) goto wrong;
        v.u = (uint64_t)lua_toboolean(L, idx);
        return v;
    case SL_PB_STRING:
    case SL_PB_BYTES: {
        if (t != LUA_TSTRING) goto wrong;
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (len > UINT32_MAX) conv_fail(L, l, SL_ERR_LIMIT, "string longer than 4 GiB");
        if (pf->type == SL_PB_STRING && !sl_utf8_valid((const uint8_t *)s, len))
            conv_fail(L, l, SL_ERR_INVALID, "string is not valid UTF-8 (use a bytes field)");
        uint8_t *q = len ? sl_rec_scratch(l->out, len) : NULL;
        if (len && !q) check_rc(L, l, SL_ERR_LIMIT);
        if (len) memcpy(q, s, len);
        v.s.p = q;
        v.s.len = (uint32_t)len;
        return v;
    }
    case SL_PB_FLOAT:
        if (t != LUA_TNUMBER) goto wrong;
        v.f = (float)lua_tonumber(L, idx);
        return v;
    case SL_PB_DOUBLE:
        if (t != LUA_TNUMBER) goto wrong;
        v.d = (double)lua_tonumber(L, idx);
        return v;
    case SL_PB_ENUM:
        if (t == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            int32_t num;
            if (sl_plan_enum_by_name(pf->enm, s, len, &num))
                conv_fail(L, l, SL_ERR_INVALID, "'%.*s' is not a value of enum %s",
                          (int)(len > 64 ? 64 : len), s, pf->enm->full_name);
            v.i = num;
            return v;
        }
        break;
    default:
        break;
    }
    /* integer kinds (and enum numbers) */
    if (t != LUA_TNUMBER) goto wrong;
    int isint;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint && (pf->type == SL_PB_UINT64 || pf->type == SL_PB_FIXED64)) {
        lua_Number d = lua_tonumber(L, idx); /* 2^63 <= d < 2^64 is not a lua_Integer */
        if (d >= 9223372036854775808.0 && d < 18446744073709551616.0 && d == floor(d)) {
            v.u = (uint64_t)d;
            return v;
        }
    }
    if (!isint)
        conv_fail(L, l, SL_ERR_INVALID, "expected an integer (%s), got %s", tn,
                  lua_tostring(L, idx));
    switch (pf->type) {
    case SL_PB_INT32:
    case SL_PB_SINT32:
    case SL_PB_SFIXED32:
    case SL_PB_ENUM:
        if (i < INT32_MIN || i > INT32_MAX) goto range;
        if (pf->type == SL_PB_ENUM && pf->closed_enum) {
            const char *name;
            uint32_t len;
            if (!sl_rec_enum_lookup(l->in, pf->enm, (int32_t)i, &name, &len))
                conv_fail(L, l, SL_ERR_INVALID, "%lld is not a value of the closed enum %s",
                          (long long)i, pf->enm->full_name);
        }
        v.i = i;
        return v;
    case SL_PB_UINT32:
    case SL_PB_FIXED32:
        if (i < 0 || i > (lua_Integer)UINT32_MAX) goto range;
        v.u = (uint64_t)i;
        return v;
    default: /* 64-bit: uint64 takes the bits of a negative integer */
        v.i = i;
        return v;
    }
range:
    return conv_fail(L, l, SL_ERR_INVALID, "%lld is out of the %s range", (long long)i, tn), v;
wrong:
    return conv_fail(L, l, SL_ERR_INVALID, "expected %s, got a %s value",
                     pf->type == SL_PB_ENUM   ? "an enum value name or number"
                     : pf->type == SL_PB_BOOL ? "a boolean"
                     : pf->type == SL_PB_STRING || pf->type == SL_PB_BYTES ? "a string"
                                                                           : "a number",
                     luaL_typename(L, idx)),
           v;
}

static void from_table(lua_State *L, sl_lua_etl *l, int idx, int32_t frame, int32_t m);

/* A map key kept for ordering: its rank in the input's __order (or
 * INT64_MAX for a new key) and the key itself. */
typedef struct mkey {
    int64_t rank;
    int type; /* LUA_TSTRING, LUA_TNUMBER (integer), LUA_TBOOLEAN */
    lua_Integer i;
    const char *s;
    size_t len;
} mkey;

static int mkey_cmp(const void *a, const void *b)
{
    const mkey *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    if (x->type != y->type) return x->type - y->type;
    if (x->type == LUA_TSTRING) {
        size_t n = x->len < y->len ? x->len : y->len;
        int c = n ? memcmp(x->s, y->s, n) : 0;
        return c ? c : (x->len > y->len) - (x->len < y->len);
    }
    return (x->i > y->i) - (x->i < y->i);
}

static void push_key(lua_State *L, const mkey *k)
{
    if (k->type == LUA_TSTRING)
        lua_pushlstring(L, k->s, k->len);
    else if (k->type == LUA_TBOOLEAN)
        lua_pushboolean(L, (int)k->i);
    else
        lua_pushinteger(L, k->i);
}

static void map_from_table(lua_State *L, sl_lua_etl *l, int idx, int32_t frame, int32_t f,
                           const sl_plan_field *pf)
{
    const sl_plan_msg *em = &l->p->msgs[pf->child];
    int32_t kf = sl_plan_field_by_number(l->p, pf->child, 1);
    int32_t vf = sl_plan_field_by_number(l->p, pf->child, 2);
    if (kf < 0 || vf < 0) conv_fail(L, l, SL_ERR_INVALID, "map entry without key or value");
    luaL_checkstack(L, 8, "map");
    /* rank table: key -> position in the input order */
    lua_newtable(L);
    int ranks = lua_gettop(L);
    if (lua_getmetatable(L, idx)) {
        if (lua_getfield(L, -1, "__order") == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                if (lua_rawgeti(L, -1, i) == LUA_TNIL) {
                    lua_pop(L, 1);
                    continue;
                }
                lua_pushinteger(L, i);
                lua_rawset(L, ranks);
            }
        }
        lua_pop(L, 2);
    }
    size_t n = 0, cap = 16;
    mkey *keys = lua_newuserdatauv(L, cap * sizeof *keys, 0);
    int ud = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (n == cap) { /* grow: a new userdata replaces the old one */
            mkey *nk = lua_newuserdatauv(L, 2 * cap * sizeof *keys, 0);
            memcpy(nk, keys, n * sizeof *keys);
            lua_replace(L, ud);
            keys = nk;
            cap *= 2;
        }
        mkey *k = &keys[n++];
        k->type = lua_type(L, -1);
        k->i = 0;
        if (k->type == LUA_TSTRING)
            k->s = lua_tolstring(L, -1, &k->len);
        else if (k->type == LUA_TBOOLEAN)
            k->i = lua_toboolean(L, -1);
        else if (lua_isinteger(L, -1))
            k->i = lua_tointeger(L, -1);
        else
            conv_fail(L, l, SL_ERR_INVALID, "map key of type %s", luaL_typename(L, -1));
        lua_pushvalue(L, -1);
        k->rank = lua_rawget(L, ranks) == LUA_TNUMBER ? lua_tointeger(L, -1) : INT64_MAX;
        lua_pop(L, 1);
    }
    qsort(keys, n, sizeof *keys, mkey_cmp);
    const sl_plan_field *kp = &em->fields[kf], *vp = &em->fields[vf];
    for (size_t i = 0; i < n; i++) {
        size_t old =
            keys[i].type == LUA_TSTRING
                ? path_push(l, "['%.*s']", (int)(keys[i].len > 32 ? 32 : keys[i].len), keys[i].s)
                : path_push(l, "[%lld]", (long long)keys[i].i);
        int32_t ef = sl_rec_add_sub(l->out, frame, f);
        check_rc(L, l, ef);
        push_key(L, &keys[i]);
        check_rc(L, l, sl_rec_set(l->out, ef, kf, to_val(L, l, -1, kp)));
        lua_rawget(L, idx);
        if (vp->child >= 0) {
            if (!lua_istable(L, -1))
                conv_fail(L, l, SL_ERR_INVALID, "expected a table (message %s), got a %s",
                          l->p->msgs[vp->child].pm->full_name, luaL_typename(L, -1));
            int32_t vfr = sl_rec_sub(l->out, ef, vf);
            check_rc(L, l, vfr);
            from_table(L, l, lua_gettop(L), vfr, vp->child);
        } else {
            check_rc(L, l, sl_rec_set(l->out, ef, vf, to_val(L, l, -1, vp)));
        }
        lua_pop(L, 1);
        path_pop(l, old);
    }
    lua_settop(L, ranks - 1);
}

static void list_from_table(lua_State *L, sl_lua_etl *l, int idx, int32_t frame, int32_t f,
                            const sl_plan_field *pf)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            keys = -1;
        else
            keys++;
    }
    if (keys != n)
        conv_fail(L, l, SL_ERR_INVALID, "a repeated field must be an array (keys 1..n, no holes)");
    for (lua_Integer i = 1; i <= n; i++) {
        size_t old = path_push(l, "[%lld]", (long long)i);
        lua_rawgeti(L, idx, i);
        if (pf->child >= 0) {
            if (!lua_istable(L, -1))
                conv_fail(L, l, SL_ERR_INVALID, "expected a table (message %s), got a %s",
                          l->p->msgs[pf->child].pm->full_name, luaL_typename(L, -1));
            int32_t ef = sl_rec_add_sub(l->out, frame, f);
            check_rc(L, l, ef);
            from_table(L, l, lua_gettop(L), ef, pf->child);
        } else {
            check_rc(L, l, sl_rec_add(l->out, frame, f, to_val(L, l, -1, pf)));
        }
        lua_pop(L, 1);
        path_pop(l, old);
    }
}

/* Is field f (or another member of its oneof) already set in out? */
static const char *already_set(sl_lua_etl *l, int32_t frame, int32_t m, int32_t f)
{
    const sl_plan_msg *pm = &l->p->msgs[m];
    const sl_plan_field *pf = &pm->fields[f];
    for (int32_t k = 0; k < pm->n_fields; k++) {
        const sl_plan_field *o = &pm->fields[k];
        if (k != f && (pf->oneof < 0 || o->oneof != pf->oneof)) continue;
        sl_val v;
        int set = o->repeated     ? sl_rec_count(l->out, frame, k) > 0
                  : o->child >= 0 ? sl_rec_get_sub(l->out, frame, k) >= 0
                                  : sl_rec_get(l->out, frame, k, &v);
        if (set) return o->pf->name;
    }
    return NULL;
}

/* Write the table at idx into frame (plan message m) of the out record. */
static void from_table(lua_State *L, sl_lua_etl *l, int idx, int32_t frame, int32_t m)
{
    const sl_plan_msg *pm = &l->p->msgs[m];
    luaL_checkstack(L, 8, "message nesting");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int vidx = lua_gettop(L);
        if (lua_type(L, -2) != LUA_TSTRING)
            conv_fail(L, l, SL_ERR_INVALID, "message %s: a key of type %s (keys are field names)",
                      pm->pm->full_name, luaL_typename(L, -2));
        size_t len;
        const char *name = lua_tolstring(L, -2, &len);
        int32_t f = sl_plan_field_by_name(l->p, m, name, len);
        if (f < 0)
            conv_fail(L, l, SL_ERR_INVALID, "message %s has no field '%.*s'", pm->pm->full_name,
                      (int)(len > 64 ? 64 : len), name);
        const sl_plan_field *pf = &pm->fields[f];
        size_t old = path_push(l, "%s%s", l->plen ? "." : "", pf->pf->name);
        const char *prev = already_set(l, frame, m, f);
        if (prev && !strcmp(prev, pf->pf->name))
            conv_fail(L, l, SL_ERR_INVALID, "given twice (by its proto and JSON names)");
        if (prev)
            conv_fail(L, l, SL_ERR_INVALID, "'%s' and '%s' are members of one oneof; set one", prev,
                      pf->pf->name);
        if ((pf->repeated || pf->child >= 0) && !lua_istable(L, vidx))
            conv_fail(L, l, SL_ERR_INVALID, "expected a table (%s), got a %s",
                      pf->is_map     ? "map"
                      : pf->repeated ? "array"
                                     : l->p->msgs[pf->child].pm->full_name,
                      luaL_typename(L, vidx));
        if (pf->is_map) {
            map_from_table(L, l, vidx, frame, f, pf);
        } else if (pf->repeated) {
            list_from_table(L, l, vidx, frame, f, pf);
        } else if (pf->child >= 0) {
            int32_t sub = sl_rec_sub(l->out, frame, f);
            check_rc(L, l, sub);
            from_table(L, l, vidx, sub, pf->child);
        } else {
            check_rc(L, l, sl_rec_set(l->out, frame, f, to_val(L, l, vidx, pf)));
        }
        path_pop(l, old);
        lua_settop(L, vidx - 1); /* keep the key for lua_next */
    }
}

/* ---- one call ---- */

static int apply_body(lua_State *L)
{
    sl_lua_etl *l = self(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, l->fn_ref);
    push_msg(L, l, 0, 0);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    l->plen = 0;
    l->path[0] = '\0';
    if (!lua_istable(L, -1))
        conv_fail(L, l, SL_ERR_INVALID,
                  "transform must return the record (a table) or nil to drop it, not a %s",
                  luaL_typename(L, -1));
    from_table(L, l, lua_gettop(L), 0, 0);
    lua_pushboolean(L, 1);
    return 1;
}

int sl_lua_etl_apply(sl_lua_etl *l, const sl_rec *in, sl_rec *out, sl_error *err)
{
    lua_State *L = l->L;
    l->in = in;
    l->out = out;
    sl_rec_begin(out);
    lua_settop(L, 0);
    lua_pushcfunction(L, l_msgh);
    lua_pushcfunction(L, apply_body);
    arm(l);
    int st = lua_pcall(L, 0, 1, 1);
    lua_sethook(L, NULL, 0, 0);
    int rc;
    if (st == LUA_OK)
        rc = lua_toboolean(L, -1) ? 1 : 0;
    else
        rc = call_error(l, st, "transform", err);
    lua_settop(L, 0);
    return rc;
}
