/* fuzz_kbatch.c - libFuzzer target for batched Kafka values
 * (formats/batch/kbatch.h).
 *
 * The input is one Kafka value, opened with AUTO by a reader that is reused
 * from input to input (as a worker reuses it), with max_bytes lowered to
 * 1 MiB so bombs end quickly. Every record is read. Beyond "no crash, no
 * leak, no UB" it checks the contract and aborts when it breaks:
 *   - every error carries a message and its own code;
 *   - after an error, sl_kbatch_next says no batch is open (SL_ERR_INVALID);
 *   - records lie inside the decompressed batch and their sizes add up to it
 *     (record bytes + length prefixes = sl_kbatch_size);
 *   - a batch that read cleanly, re-encoded with a codec chosen by the input
 *     size and opened again with that codec fixed, gives the same records (encoder and decoder
 *     agree on every format).
 * Seeds: fuzz/corpus/fuzz_kbatch/ (small values in each codec, concatenated
 * frames, python-made and our own).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/batch/kbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sl_kbatch *kb, *fixed[5]; /* fixed[c]: reads codec c only (no detection) */
static sl_buf copy = SL_BUF_INIT, enc = SL_BUF_INIT;

static size_t varint_len(size_t n)
{
    size_t k = 1;
    while (n >= 0x80) {
        n >>= 7;
        k++;
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_error err;
    const uint8_t *p;
    size_t len, total = 0;
    int r;
    if (!kb) {
        if (sl_kbatch_new(&kb, SL_KB_AUTO, 1 << 20)) abort();
        for (int c = 0; c < 5; c++)
            if (sl_kbatch_new(&fixed[c], c, 1 << 20)) abort();
    }
    sl_error_clear(&err);
    sl_err_t rc = sl_kbatch_open(kb, data, size, &err);
    if (rc) {
        if (err.code != rc || !err.msg[0]) abort();
        if (sl_kbatch_next(kb, &p, &len, &err) != SL_ERR_INVALID) abort();
        return 0;
    }
    sl_buf_reset(&copy);
    while ((r = sl_kbatch_next(kb, &p, &len, &err)) == 1) {
        total += varint_len(len) + len;
        if (sl_buf_put_varint(&copy, len) || sl_buf_append(&copy, p, len)) abort();
    }
    if (r < 0) {
        if (err.code != r || !err.msg[0]) abort();
        if (sl_kbatch_next(kb, &p, &len, &err) != SL_ERR_INVALID) abort();
        return 0;
    }
    /* copy holds the records re-delimited; a clean batch must be exactly that
     * (a length prefix may have been written with redundant bytes, so only
     * the size bound is exact) */
    if (total > sl_kbatch_size(kb) || sl_kbatch_index(kb) > sl_kbatch_size(kb)) abort();
    sl_buf_reset(&enc);
    int codec = (int)(size % 5); /* SL_KB_NONE..SL_KB_ZSTD */
    if (sl_kbatch_encode(&enc, codec, copy.p, copy.len, &err)) abort();
    sl_kbatch *kb2 = fixed[codec];
    if (sl_kbatch_open(kb2, enc.p, enc.len, &err)) abort();
    size_t at = 0;
    while ((r = sl_kbatch_next(kb2, &p, &len, &err)) == 1) {
        const uint8_t *q = copy.p + at, *end = copy.p + copy.len;
        uint64_t n;
        if (sl_varint_get(&q, end, &n) || n != len || (len && memcmp(q, p, len))) abort();
        at = (size_t)(q - copy.p) + len;
    }
    if (r != 0 || at != copy.len) abort();
    return 0;
}
