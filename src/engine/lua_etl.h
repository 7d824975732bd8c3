/* lua_etl.h - the per-stream Lua 5.4 transform (`etl.script`): a user
 * function `transform(rec)` that gets each parsed record as a table and
 * returns the record to keep (the same table changed, or a new one) or nil
 * to drop it. It runs between parse and emit, after the filter.
 *
 * Mapping (docs/formats.md, ETL; top of lua_etl.c):
 *   - a message is a table keyed by proto field names; proto3 implicit
 *     fields hold their value or default; absent presence fields and
 *     absent messages are nil;
 *   - int32/int64/sint/sfixed/uint32/fixed32: integers; uint64/fixed64:
 *     integers holding the same 64 bits, so values >= 2^63 are negative
 *     (compare them with math.ult; written back bit for bit);
 *   - float/double: floats; bool: booleans; string/bytes: strings;
 *   - enums: the value name, or the number for a number the enum does not
 *     declare; written back as a name or an integer;
 *   - repeated: an array (1-based); map: a table key -> value, whose
 *     original entry order is kept in its metatable (__order) so an
 *     unchanged map comes back in the same order; new keys follow, sorted.
 * Returned tables are checked strictly: an unknown field name, a value of
 * the wrong type or out of range, invalid UTF-8 in a string field, or two
 * members of one oneof are errors that name the field path.
 *
 * Sandbox: only the base library (without dofile, loadfile, load, print,
 * require), string, table, math, utf8 and os.time/os.date/os.clock.
 * Every call is bounded by an instruction budget (count hook) and the
 * state's memory by an allocator limit.
 *
 * Threads: a sl_lua_etl is one Lua state and is NOT thread-safe; open one
 * per worker (the script runs once per open, so its globals are per
 * worker too).
 */
#ifndef SL_ENGINE_LUA_ETL_H
#define SL_ENGINE_LUA_ETL_H

#include "core/err.h"
#include "formats/pb/pb_plan.h"

typedef struct sl_lua_etl sl_lua_etl;

#define SL_LUA_DEFAULT_INSTRUCTIONS 10000000L
#define SL_LUA_DEFAULT_MEMORY       ((size_t)64 << 20)

/* Loads the script (text only, no precompiled chunks) and runs its main
 * chunk under the default budgets; it must define a global function
 * `transform(rec)`. On error *out is NULL and err names the script, the
 * line and what is wrong. */
sl_err_t sl_lua_etl_open(sl_lua_etl **out, const char *script_path, const sl_plan *p,
                         sl_error *err) SL_MUST_CHECK;

/* (added) Change the per-call instruction budget and the state's memory
 * limit (0 keeps the current value). The memory limit applies to later
 * allocations; memory already held stays. */
void sl_lua_etl_limits(sl_lua_etl *l, long instructions, size_t memory);

/* Call transform on the parsed record `in`; the result is written into
 * `out` (a record of the same plan, which this call begins with
 * sl_rec_begin). Returns 1: keep (out filled); 0: the script returned nil
 * (drop); < 0: an sl_err_t, with err set - the script raised an error
 * (message and traceback), returned something that is not a record (the
 * field path and what was expected), or exceeded the instruction budget or
 * the memory limit (SL_ERR_LIMIT). After an error the state stays usable
 * for the next record, and `out` must not be emitted. */
int sl_lua_etl_apply(sl_lua_etl *l, const sl_rec *in, sl_rec *out, sl_error *err);

/* NULL is fine. */
void sl_lua_etl_free(sl_lua_etl *l);

#endif
