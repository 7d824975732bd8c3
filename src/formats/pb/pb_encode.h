/* pb_encode.h - the protobuf wire encoder: a parsed record (sl_rec,
 * pb_plan.h) back to wire bytes, for the Kafka output after ETL (filter,
 * Lua transform, projection).
 *
 * The output is canonical, so the same record always gives the same bytes:
 *   - fields in field-number order (oneofs hold one member at most);
 *   - repeated scalars packed when the descriptor says so (proto3 numeric,
 *     bool and enum fields unless [packed = false]; proto2 only with
 *     [packed = true]); strings, bytes and messages one tag per element;
 *   - maps de-duplicated as protobuf reads them: one entry per key, at the
 *     position where the key first appeared, holding the value of the key's
 *     last entry (a later entry replaces, it does not merge), as
 *     sl_rec_emit does; inside an entry, key and value follow the rules
 *     below (a proto3 entry omits a default key or value);
 *   - proto3 implicit-presence fields omitted when they hold the default
 *     (0, false, "", enum 0; a float or double is default only when its
 *     bits are all zero, so -0.0 and NaN are written, as protobuf does);
 *   - fields with presence (proto2, proto3 `optional`, oneof members,
 *     messages) written when set, even with a default value;
 *   - groups as start-group ... end-group;
 *   - no unknown fields and no extensions: the decoder never kept them.
 * Values are written as protobuf reads them back: int32 and enums
 * sign-extended to 64 bits (a negative one is a 10-byte varint), sint32
 * and sint64 zigzag, fixed and float types little-endian.
 */
#ifndef SL_PB_ENCODE_H
#define SL_PB_ENCODE_H

#include "core/buf.h"
#include "formats/pb/pb_plan.h"

/* Serialize the record (after a parse, or built through the sl_rec_* API)
 * and append the bytes to out. keep_top: NULL keeps every field; else
 * keep_top[i] != 0 keeps field i (plan field index, declaration order) of
 * the root message, the projection; nested messages are always whole.
 *
 * Errors: a proto2 required field missing from a message that is written
 * (SL_ERR_CORRUPT, naming the field path; protobuf's serializer refuses
 * such a message too; a required top-level field dropped by keep_top is not
 * checked, the projection is the caller's choice); output past SL_BUF_MAX
 * or out of memory. On error out->len is back to its value at the call
 * (bytes past it may have changed).
 *
 * Cost: linear in the output, plus one memmove of a message's body for
 * each message at least 128 bytes long (its length prefix needs more than
 * the one byte reserved for it); maps of more than 16 entries hash their
 * keys. Nothing is allocated but out's growth and, for such maps, the
 * record's map scratch (shared with sl_rec_emit, grown once, then reused:
 * the only part of *r written, so a record must not be encoded and emitted
 * at the same time from two threads). After warm-up nothing allocates. */
sl_err_t sl_pb_encode(const sl_rec *r, const uint8_t *keep_top, sl_buf *out,
                      sl_error *err) SL_MUST_CHECK;

#endif
