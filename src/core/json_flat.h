/* json_flat.h - reading one value out of a flat JSON object line (the
 * lines sluice writes itself: the audit log, dead letters as JSON lines,
 * the status JSON's top level). Not a general JSON parser: values are
 * strings, numbers or null, no nesting is expected, and a key is found by
 * scanning the line (O(line) per lookup). String escapes (\uXXXX with
 * surrogate pairs included) are decoded. */
#ifndef SL_CORE_JSON_FLAT_H
#define SL_CORE_JSON_FLAT_H

#include <stddef.h>
#include <stdint.h>

/* The value of key in line: a string (decoded into str, NUL-terminated,
 * returns 's'), null ('0'), an integer (*num, 'n'), or 0 when absent,
 * malformed or longer than cap - 1 bytes. */
int sl_jflat_get(const char *line, const char *key, char *str, size_t cap, int64_t *num);

#endif
