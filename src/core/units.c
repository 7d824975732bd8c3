/* units.c - size and duration parsing. See units.h. */
#include "core/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static sl_err_t parse_scaled(const char *s, const char *const *names, const uint64_t *mult, int n,
                             uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) return SL_ERR_INVALID;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return SL_ERR_INVALID;
    while (*end == ' ')
        end++;
    for (int i = 0; i < n; i++) {
        if (!strcasecmp(end, names[i])) {
            if (mult[i] && v > UINT64_MAX / mult[i]) return SL_ERR_INVALID;
            *out = (uint64_t)v * mult[i];
            return SL_OK;
        }
    }
    return SL_ERR_INVALID;
}

sl_err_t sl_parse_size(const char *s, uint64_t *out)
{
    static const char *const names[] = {"",   "b",   "k", "kb", "kib", "m",
                                        "mb", "mib", "g", "gb", "gib"};
    static const uint64_t mult[] = {1,       1,       1024,    1000,       1024,   1 << 20,
                                    1000000, 1 << 20, 1 << 30, 1000000000, 1 << 30};
    return parse_scaled(s, names, mult, (int)(sizeof mult / sizeof mult[0]), out);
}

sl_err_t sl_parse_duration_ms(const char *s, uint64_t *out)
{
    static const char *const names[] = {"ms", "s", "m", "min", "h", "d"};
    static const uint64_t mult[] = {1, 1000, 60000, 60000, 3600000, 86400000};
    return parse_scaled(s, names, mult, (int)(sizeof mult / sizeof mult[0]), out);
}

char *sl_fmt_bytes(uint64_t n, char *buf, size_t cap)
{
    if (n < 1000)
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
    else if (n < 1000000)
        snprintf(buf, cap, "%.1f kB", n / 1e3);
    else if (n < 1000000000)
        snprintf(buf, cap, "%.1f MB", n / 1e6);
    else
        snprintf(buf, cap, "%.2f GB", n / 1e9);
    return buf;
}
