/* pb_frame.c - pb-delimited framing reader. See pb_frame.h. */
#include "formats/pb/pb_frame.h"

#include "core/buf.h"

sl_err_t sl_pb_frames_next(sl_pb_frames *f, const uint8_t **rec, size_t *rec_len, size_t *rec_off,
                           sl_error *err)
{
    if (f->pos >= f->len) return SL_ERR_EOF;
    const uint8_t *p = f->data + f->pos, *end = f->data + f->len;
    uint64_t n;
    if (sl_varint_get(&p, end, &n))
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "record %llu at byte %zu: length prefix is %s; the input is "
                            "truncated or not pb-delimited",
                            (unsigned long long)f->index, f->pos,
                            end - p >= 10 ? "longer than 10 bytes"
                                          : "cut short by the end of input");
    if (n > SL_PB_FRAME_MAX)
        return sl_error_set(err, SL_ERR_LIMIT,
                            "record %llu at byte %zu: length prefix says %llu bytes, above the "
                            "64 MiB bound; the input is probably not pb-delimited",
                            (unsigned long long)f->index, f->pos, (unsigned long long)n);
    if (n > (uint64_t)(end - p))
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "record %llu at byte %zu: length %llu runs past the end of input "
                            "(%zu bytes left); the input is truncated",
                            (unsigned long long)f->index, f->pos, (unsigned long long)n,
                            (size_t)(end - p));
    *rec = p;
    *rec_len = (size_t)n;
    if (rec_off) *rec_off = (size_t)(p - f->data);
    f->pos = (size_t)(p - f->data) + (size_t)n;
    f->index++;
    return SL_OK;
}
