/* kbatch_crc.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of the snappy framing format.
 *
 * Slice-by-8: eight 256-entry tables (8 KiB) built once (pthread_once) and
 * then read-only, so any thread may call it. Cost ~1-2 cycles per byte;
 * every 64 KiB snappy chunk is checksummed once in each direction, which is
 * small next to snappy itself. The SSE4.2 crc32 instruction would be ~10x
 * faster; it needs a runtime CPU check and a per-function target attribute,
 * not worth it until a profile shows this loop (zlib has no CRC-32C, and no
 * Debian C library we link exports one).
 */
#include <pthread.h>
#include <string.h>

#include "formats/batch/kbatch_int.h"

static uint32_t tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        tab[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

uint32_t sl_kb_crc32c(const uint8_t *p, size_t n)
{
    pthread_once(&tab_once, tab_init);
    uint32_t c = 0xffffffffu;
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); /* little-endian host (buf.h) */
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
            tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
            tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ tab[0][(c ^ *p++) & 0xff];
    return c ^ 0xffffffffu;
}
