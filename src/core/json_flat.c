/* json_flat.c - see json_flat.h. */
#include "core/json_flat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Four hex digits at p, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Code point u as UTF-8 into b; its length. */
static int utf8(unsigned long u, char b[4])
{
    if (u < 0x80) return b[0] = (char)u, 1;
    if (u < 0x800) return b[0] = (char)(0xC0 | u >> 6), b[1] = (char)(0x80 | (u & 63)), 2;
    if (u < 0x10000) {
        b[0] = (char)(0xE0 | u >> 12);
        b[1] = (char)(0x80 | (u >> 6 & 63));
        b[2] = (char)(0x80 | (u & 63));
        return 3;
    }
    b[0] = (char)(0xF0 | u >> 18);
    b[1] = (char)(0x80 | (u >> 12 & 63));
    b[2] = (char)(0x80 | (u >> 6 & 63));
    b[3] = (char)(0x80 | (u & 63));
    return 4;
}

/* Decode a JSON string body (between the quotes) into out (NUL-terminated);
 * 0, or -1 when it does not fit or an escape is malformed. */
static int jstr(const char *p, size_t n, char *out, size_t cap)
{
    static const char esc[] = /* pairs: the escape letter, its byte */
        "\"\"\\\\//b\bf\fn\nr\rt\t";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char b[4];
        int k = 1;
        b[0] = p[i];
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'u') {
            long u = i + 5 < n ? hex4(p + i + 2) : -1;
            if (u < 0) return -1;
            i += 5;
            if (u >= 0xD800 && u < 0xDC00 && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
                long lo = hex4(p + i + 3);
                if (lo < 0xDC00 || lo > 0xDFFF) return -1;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            k = utf8((unsigned long)u, b);
        } else if (p[i] == '\\' && i + 1 < n) {
            const char *e = strchr(esc, p[++i]);
            if (!e || (e - esc) % 2) return -1;
            b[0] = e[1];
        }
        if (o + (size_t)k >= cap) return -1;
        memcpy(out + o, b, (size_t)k);
        o += (size_t)k;
    }
    out[o] = '\0';
    return 0;
}

int sl_jflat_get(const char *line, const char *key, char *str, size_t cap, int64_t *num)
{
    size_t kl = strlen(key);
    const char *p = line;
    while ((p = strchr(p, '"'))) {
        const char *k = ++p;
        while (*p && *p != '"')
            p += *p == '\\' && p[1] ? 2 : 1;
        if (!*p) return 0;
        size_t n = (size_t)(p - k);
        p++;
        while (*p == ' ')
            p++;
        if (*p != ':') continue; /* a value, not a key */
        p++;
        while (*p == ' ')
            p++;
        if (n != kl || memcmp(k, key, kl)) {
            if (*p == '"') { /* skip the value string */
                p++;
                while (*p && *p != '"')
                    p += *p == '\\' && p[1] ? 2 : 1;
                if (*p) p++;
            }
            continue;
        }
        if (*p == '"') {
            const char *v = ++p;
            while (*p && *p != '"')
                p += *p == '\\' && p[1] ? 2 : 1;
            if (!*p || jstr(v, (size_t)(p - v), str, cap)) return 0;
            return 's';
        }
        if (!strncmp(p, "null", 4)) return '0';
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno) return 0;
        *num = v;
        return 'n';
    }
    return 0;
}
