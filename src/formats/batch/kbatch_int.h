/* kbatch_int.h - private parts of formats/batch: the sl_kbatch state shared by
 * kbatch.c (detection, record iteration), kbatch_dec.c (one streaming
 * decompressor per codec), kbatch_enc.c (the encoder) and kbatch_crc.c
 * (CRC-32C for the snappy framing format). Not for other modules.
 */
#ifndef SL_FORMATS_BATCH_KBATCH_INT_H
#define SL_FORMATS_BATCH_KBATCH_INT_H

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include "formats/batch/kbatch.h"

/* Snappy framing format constants (google/snappy framing_format.txt). */
#define SL_KB_SNAPPY_CHUNK_MAX 65536 /* uncompressed bytes per data chunk */
#define SL_KB_SNAPPY_ID_LEN    10    /* FF 06 00 00 "sNaPpY" */
extern const uint8_t sl_kb_snappy_id[SL_KB_SNAPPY_ID_LEN];

struct sl_kbatch {
    int codec;        /* configured SL_KB_* */
    int found;        /* codec of the open value, -1 = none open */
    size_t max_bytes; /* decompressed bound */
    sl_buf out;       /* decompressed batch (compressed values) */
    const uint8_t *p; /* the batch: out.p or the caller's value */
    size_t len, pos;
    uint64_t index; /* next record */
    int broken;     /* sl_kbatch_next failed: the batch is done */
    ZSTD_DCtx *zd;
    LZ4F_dctx *lz;
    z_stream inf;
    int inf_ready;
};

/* Decompress one value of a known codec into kb->out (reset first). Each
 * fails with SL_ERR_CORRUPT / SL_ERR_LIMIT / SL_ERR_NOMEM and a message that
 * names the codec. */
sl_err_t sl_kb_dec_zstd(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err);
sl_err_t sl_kb_dec_gzip(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err);
sl_err_t sl_kb_dec_lz4(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err);
sl_err_t sl_kb_dec_snappy(sl_kbatch *kb, const uint8_t *v, size_t n, sl_error *err);

/* CRC-32C (Castagnoli) of p[0..n), and the snappy framing format's mask. */
uint32_t sl_kb_crc32c(const uint8_t *p, size_t n);
static inline uint32_t sl_kb_crc_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

#endif
