/* pq_blocks.c - the store behind a column chunk: framed pages appended to
 * a list of blocks, written to the stream block by block.
 *
 * Why not one growing buffer: a chunk grows to tens of MB per row group;
 * realloc would copy it again and again (x1.5 growth copies ~2x the final
 * size) and touch fresh pages each time. Blocks never move. Their sizes
 * double from 64 KiB up to 2 MiB, so a small column (a BOOLEAN) costs
 * little, and 2 MiB blocks are 2 MiB-aligned and advised as transparent
 * huge pages: one page fault per 2 MiB instead of 512 (page faults are
 * the single largest cost of a fresh buffer on virtual machines). Blocks
 * are kept across row groups (reset only rewinds), so a writer's memory
 * stays at its largest chunk, as the pq_writer.h bound says.
 *
 * A closed writer's blocks go to a process-wide cache, per size class
 * (64 KiB .. 2 MiB), holding at most BLK_CACHE_BYTES (160 MiB: about one
 * default row group plus every column's small blocks), so the next writer
 * of the pipeline - a new file every checkpoint - reuses memory that is
 * already faulted in instead of paying the first touch again. The cache is
 * a mutex-protected stack per class, touched once per block.
 *
 * sl_pq_blocks_reserve hands out contiguous space in the current block
 * (starting a new one if needed), so a compressor can write its output in
 * place.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "formats/parquet/pq_writer_int.h"

#define BLK_MIN         ((size_t)64 << 10)
#define BLK_HUGE        ((size_t)2 << 20)
#define BLK_CLASSES     6 /* 64 KiB << 0..5 */
#define BLK_CACHE_BYTES ((size_t)160 << 20)

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *cache[BLK_CLASSES][BLK_CACHE_BYTES / BLK_MIN];
static int cache_n[BLK_CLASSES];
static size_t cache_bytes;

static int size_class(size_t size)
{
    for (int k = 0; k < BLK_CLASSES; k++)
        if (size == BLK_MIN << k) return k;
    return -1;
}

static uint8_t *blk_get(size_t size)
{
    int k = size_class(size);
    uint8_t *p = NULL;
    if (k >= 0) {
        pthread_mutex_lock(&cache_mu);
        if (cache_n[k]) {
            p = cache[k][--cache_n[k]];
            cache_bytes -= size;
        }
        pthread_mutex_unlock(&cache_mu);
        if (p) return p;
    }
    if (size % BLK_HUGE == 0) {
        p = aligned_alloc(BLK_HUGE, size);
        if (p) madvise(p, size, MADV_HUGEPAGE); /* advice only: failure is harmless */
        return p;
    }
    return malloc(size);
}

static void blk_put(uint8_t *p, size_t size)
{
    int k = size_class(size);
    if (k >= 0) {
        pthread_mutex_lock(&cache_mu);
        if (cache_bytes + size <= BLK_CACHE_BYTES) {
            cache[k][cache_n[k]++] = p;
            cache_bytes += size;
            p = NULL;
        }
        pthread_mutex_unlock(&cache_mu);
    }
    free(p);
}

void sl_pq_blocks_reset(sl_pq_blocks *s)
{
    for (int32_t i = 0; i < s->n; i++)
        s->b[i].len = 0;
    s->cur = 0;
    s->total = 0;
}

void sl_pq_blocks_free(sl_pq_blocks *s)
{
    for (int32_t i = 0; i < s->n; i++)
        blk_put(s->b[i].p, s->b[i].cap);
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* Invariant: blocks 0..cur hold the chunk in order (any may have unused
 * space at its end), blocks after cur are empty. Make the next block
 * current, with room for at least need bytes. */
static sl_err_t next_block(sl_pq_blocks *s, size_t need)
{
    int32_t to = s->n == 0 ? 0 : s->b[s->cur].len ? s->cur + 1 : s->cur;
    if (to < s->n && s->b[to].cap >= need) {
        s->cur = to;
        return SL_OK;
    }
    if (s->n == s->cap) {
        int32_t nc = s->cap ? s->cap * 2 : 8;
        void *nb = realloc(s->b, (size_t)nc * sizeof *s->b);
        if (!nb) return SL_ERR_NOMEM;
        s->b = nb;
        s->cap = nc;
    }
    size_t size = s->next_size ? s->next_size : BLK_MIN;
    s->next_size = size * 2 > BLK_HUGE ? BLK_HUGE : size * 2;
    if (size < need) size = (need + BLK_HUGE - 1) / BLK_HUGE * BLK_HUGE;
    uint8_t *p = blk_get(size);
    if (!p) return SL_ERR_NOMEM;
    memmove(s->b + to + 1, s->b + to, (size_t)(s->n - to) * sizeof *s->b);
    s->b[to].p = p;
    s->b[to].len = 0;
    s->b[to].cap = size;
    s->n++;
    s->cur = to;
    return SL_OK;
}

uint8_t *sl_pq_blocks_reserve(sl_pq_blocks *s, size_t n)
{
    if (!s->n || s->b[s->cur].cap - s->b[s->cur].len < n) {
        if (next_block(s, n)) return NULL;
    }
    return s->b[s->cur].p + s->b[s->cur].len;
}

void sl_pq_blocks_commit(sl_pq_blocks *s, size_t n)
{
    s->b[s->cur].len += n;
    s->total += n;
}

sl_err_t sl_pq_blocks_append(sl_pq_blocks *s, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n) {
        if (!s->n || s->b[s->cur].len == s->b[s->cur].cap) {
            if (next_block(s, 1)) return SL_ERR_NOMEM;
        }
        size_t room = s->b[s->cur].cap - s->b[s->cur].len;
        size_t k = n < room ? n : room;
        memcpy(s->b[s->cur].p + s->b[s->cur].len, q, k);
        sl_pq_blocks_commit(s, k);
        q += k;
        n -= k;
    }
    return SL_OK;
}

sl_err_t sl_pq_blocks_write(sl_pq_writer *w, const sl_pq_blocks *s, sl_error *err)
{
    for (int32_t i = 0; i < s->n && i <= s->cur; i++) {
        if (!s->b[i].len) continue;
        sl_err_t rc = sl_pq_w_out(w, s->b[i].p, s->b[i].len, err);
        if (rc) return rc;
    }
    return SL_OK;
}
