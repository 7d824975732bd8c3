/* pb_read.h - reading a whole parsed record back (sl_rec, pb_plan.h):
 * every field of a frame, repeated elements and map entries, in the order
 * the parser stored them. sl_path_get reads one value by path; this is for
 * consumers that need everything, such as the Lua transform (lua_etl.c),
 * which turns a record into a table and back.
 *
 * Frames are the record's message instances (frame 0 is the root); a
 * field is an index into the plan message of its frame. What is returned
 * is raw: protobuf merge rules are already applied by the parser, but maps
 * are not de-duplicated (that happens at emit: the last value of a key
 * wins) and absent implicit fields are reported absent (the caller picks
 * the default from sl_plan_field.dflt). Valid until the next sl_rec_begin.
 * Every call is O(1) and cannot fail; bad arguments read as absent.
 */
#ifndef SL_PB_READ_H
#define SL_PB_READ_H

#include "formats/pb/pb_plan.h"

/* Plan message of a frame, or -1 if frame is out of range. */
int32_t sl_rec_frame_msg(const sl_rec *r, int32_t frame);

/* Non-repeated scalar: 1 and *v if set, else 0. */
int sl_rec_get(const sl_rec *r, int32_t frame, int32_t field, sl_val *v);

/* Non-repeated message: its frame, or -1 when absent. */
int32_t sl_rec_get_sub(const sl_rec *r, int32_t frame, int32_t field);

/* Repeated field or map: number of elements (entries before
 * de-duplication). */
uint32_t sl_rec_count(const sl_rec *r, int32_t frame, int32_t field);

/* Iterate the elements of a repeated field or map in stored order:
 *     sl_val v;
 *     for (uint32_t it = sl_rec_first(r, f, k); sl_rec_next_item(r, &it, &v);) ...
 * Each step yields the element (for message elements and map entries,
 * v.u is the element's frame). */
uint32_t sl_rec_first(const sl_rec *r, int32_t frame, int32_t field);
int sl_rec_next_item(const sl_rec *r, uint32_t *it, sl_val *v);

/* Name of an enum number (the first declared name for aliases): 1 and
 * name/len, or 0 for a number the enum does not declare. */
int sl_rec_enum_lookup(const sl_rec *r, const sl_pb_enum *e, int32_t num, const char **name,
                       uint32_t *len);

#endif
