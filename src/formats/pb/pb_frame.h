/* pb_frame.h - reader of pb-delimited framing: records, each preceded by
 * its length as a varint (protobuf's writeDelimitedTo / parseDelimitedFrom,
 * the format of gen_events.py and `sluice gen`).
 *
 * The reader walks a buffer the caller holds (a mapped or loaded file, a
 * Kafka batch); records are returned as pointers into it, never copied.
 * Errors name the record index and the byte offset of its prefix: a prefix
 * cut short by the end of the buffer, a length running past the end, or a
 * record larger than SL_PB_FRAME_MAX (64 MiB, a bound no honest event
 * reaches; it keeps a corrupt prefix from being taken for a huge record).
 * After an error the reader stays at the bad record (the caller cannot
 * resynchronize a length-prefixed stream, so it must stop).
 */
#ifndef SL_PB_FRAME_H
#define SL_PB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SL_PB_FRAME_MAX ((size_t)64 << 20)

typedef struct sl_pb_frames {
    const uint8_t *data;
    size_t len;
    size_t pos;     /* offset of the next prefix */
    uint64_t index; /* index of the next record (0-based) */
} sl_pb_frames;

static inline void sl_pb_frames_init(sl_pb_frames *f, const uint8_t *data, size_t len)
{
    f->data = data;
    f->len = len;
    f->pos = 0;
    f->index = 0;
}

/* Next record: SL_OK with *rec and *rec_len (and *rec_off, the offset of the
 * record's first byte, may be NULL), SL_ERR_EOF at a clean end, or
 * SL_ERR_CORRUPT / SL_ERR_LIMIT with detail. */
sl_err_t sl_pb_frames_next(sl_pb_frames *f, const uint8_t **rec, size_t *rec_len, size_t *rec_off,
                           sl_error *err) SL_MUST_CHECK;

#endif
