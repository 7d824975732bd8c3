/* utf8.h - UTF-8 validation (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), shared by every decoder that checks strings.
 * The check skips ASCII eight bytes at a time; the per-sequence test is
 * branchy but only runs on non-ASCII bytes. */
#ifndef SL_CORE_UTF8_H
#define SL_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length (2..4) of the valid multi-byte sequence at p[0..n), whose first
 * byte is >= 0x80; 0 if it is not valid. */
static inline size_t sl_utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0; /* no overlong forms */
        if (c == 0xED) hi = 0x9F; /* no encoded surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (len > n || p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return len;
}

/* Offset of the first byte that is not valid UTF-8, or n if all is valid. */
static inline size_t sl_utf8_check(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sl_utf8_seq(p + i, n - i);
        if (!k) return i;
        i += k;
    }
    return n;
}

/* 1 when all of p[0..n) is valid UTF-8. The common all-ASCII string is
 * settled by OR-ing it 8 bytes at a time (the tail as an overlapping word),
 * with no branch per byte; only strings with a high bit set take the full
 * check. */
static inline int sl_utf8_valid(const uint8_t *s, size_t n)
{
    uint64_t acc = 0, x;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, s + i, 8);
            acc |= x;
        }
        memcpy(&x, s + n - 8, 8);
        acc |= x;
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        acc = a | b;
    } else {
        for (size_t i = 0; i < n; i++)
            acc |= s[i];
    }
    return !(acc & 0x8080808080808080ULL) || sl_utf8_check(s, n) == n;
}

#endif
