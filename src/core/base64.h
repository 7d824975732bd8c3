/* base64.h - RFC 4648 base64: encode (standard alphabet, padded) and a
 * lenient decode (standard or URL-safe alphabet, padding optional), as
 * protobuf's JSON mapping accepts for bytes fields. */
#ifndef SL_CORE_BASE64_H
#define SL_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Append the encoding of src to out. */
sl_err_t sl_base64_encode(const uint8_t *src, size_t n, sl_buf *out) SL_MUST_CHECK;
/* Decode into dst (room for sl_base64_max_decoded(n) bytes); returns the
 * decoded length, or -1 for a character outside both alphabets, a bad
 * length, or misplaced padding. */
long long sl_base64_decode(const uint8_t *src, size_t n, uint8_t *dst);
static inline size_t sl_base64_max_decoded(size_t n)
{
    return n / 4 * 3 + 3;
}

#endif
