/* units.h - parsing of human quantities in options and configuration:
 * sizes ("128MiB", "64k", "1048576") and durations ("60s", "500ms", "1h").
 * Suffixes are case-insensitive; k/m/g and KiB/MiB/GiB are powers of 1024,
 * KB/MB/GB powers of 1000. Overflow and junk are errors, never wrapped. */
#ifndef SL_CORE_UNITS_H
#define SL_CORE_UNITS_H

#include <stdint.h>

#include "core/err.h"

sl_err_t sl_parse_size(const char *s, uint64_t *out) SL_MUST_CHECK;
sl_err_t sl_parse_duration_ms(const char *s, uint64_t *out) SL_MUST_CHECK;
/* "75.5 MB"-style rendering into buf (decimal units), returns buf. */
char *sl_fmt_bytes(uint64_t n, char *buf, size_t cap);

#endif
