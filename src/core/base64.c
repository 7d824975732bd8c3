/* base64.c - see base64.h. Table-driven, one pass, no allocation. */
#include "core/base64.h"

static const char enc_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

sl_err_t sl_base64_encode(const uint8_t *src, size_t n, sl_buf *out)
{
    size_t need = (n + 2) / 3 * 4;
    sl_err_t rc = sl_buf_reserve(out, need);
    if (rc) return rc;
    uint8_t *q = out->p + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *q++ = (uint8_t)enc_tab[v >> 18];
        *q++ = (uint8_t)enc_tab[(v >> 12) & 63];
        *q++ = (uint8_t)enc_tab[(v >> 6) & 63];
        *q++ = (uint8_t)enc_tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);
        *q++ = (uint8_t)enc_tab[v >> 18];
        *q++ = (uint8_t)enc_tab[(v >> 12) & 63];
        *q++ = i + 1 < n ? (uint8_t)enc_tab[(v >> 6) & 63] : '=';
        *q++ = '=';
    }
    out->len += need;
    return SL_OK;
}

static int dec_char(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

long long sl_base64_decode(const uint8_t *src, size_t n, uint8_t *dst)
{
    size_t pad = 0;
    while (n > 0 && src[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4)) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = dec_char(src[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long long)o;
}
