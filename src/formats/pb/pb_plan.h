/* pb_plan.h - the decode plan and the record scratch ("shredder").
 *
 * A plan is a protobuf message type compiled once against its columnar
 * schema (DESIGN.md, Formats). It mirrors the schema tree: one plan message
 * per *position* of a message type in the tree (a type used by two fields
 * gets two plan messages, since they feed different columns). Recursive
 * message types cannot map to a finite Parquet schema and are rejected at
 * compile time, naming the cycle.
 *
 * Decoding a record is two steps, shared by every input format:
 *
 *  1. parse: the format's parser (protobuf wire, JSON, delimited text)
 *     walks its input and calls sl_rec_set / sl_rec_add / sl_rec_sub /
 *     sl_rec_add_sub. The scratch record applies protobuf's merge rules as
 *     it goes: a non-repeated scalar set twice keeps the last value, a
 *     non-repeated message seen twice is merged (same frame), setting a
 *     oneof member clears its siblings, repeated values append. Strings and
 *     bytes are not copied: they point into the input (or into
 *     sl_rec_scratch memory for decoded JSON strings).
 *  2. emit: sl_rec_emit shreds the finished record into the batch's column
 *     builders with Dremel levels, filling proto3 defaults, nulls for absent
 *     presence fields, enum names, map de-duplication (last value of a key
 *     wins, first position kept), and checks proto2 required fields.
 *
 * The scratch memory (frames, items, string scratch) is reset per record
 * and reused: after warm-up no record allocates.
 *
 * For protobuf input, sl_pb_decode first tries the direct path
 * (pb_shred.c): the common record (fields in number order, none repeated
 * that must not be, no duplicate map key) is shredded straight from the
 * wire into the columns, skipping the scratch; any other record is rolled
 * back and decoded by the two steps above, which define the result.
 */
#ifndef SL_PB_PLAN_H
#define SL_PB_PLAN_H

#include "core/col.h"
#include "core/schema.h"
#include "formats/pb/pb_desc.h"

/* One scalar value. Which member is live follows the field's type:
 *   INT32/SINT32/SFIXED32/ENUM: i (sign-extended); UINT32/FIXED32: u;
 *   INT64/SINT64/SFIXED64: i; UINT64/FIXED64: u; BOOL: u (0/1);
 *   FLOAT: f; DOUBLE: d; STRING/BYTES: s. */
typedef union sl_val {
    int64_t i;
    uint64_t u;
    double d;
    float f;
    struct {
        const uint8_t *p;
        uint32_t len;
    } s;
} sl_val;

typedef struct sl_plan_field {
    const sl_pb_field *pf;        /* descriptor (name, json_name, number, ...) */
    uint8_t type;                 /* SL_PB_* */
    uint8_t repeated;             /* label REPEATED (includes maps) */
    uint8_t is_map;               /* repeated map entry; child is the entry message */
    uint8_t presence;             /* emits null when absent (OPTIONAL column) */
    uint8_t closed_enum;          /* unknown numbers are dropped (proto2) */
    int32_t oneof;                /* real oneof index within the message, or -1 */
    int32_t child;                /* MESSAGE/GROUP/map entry: plan message index, else -1 */
    const sl_pb_enum *enm;        /* ENUM: enum descriptor */
    int32_t node;                 /* schema node of this field's outermost node */
    int32_t leaf;                 /* scalar (or repeated scalar element): column index, else -1 */
    int32_t first_leaf, n_leaves; /* columns under this field */
    int16_t def;                  /* def level of the field's outermost node when present */
    int16_t rep;                  /* rep level of repeated elements (0 if not repeated) */
    sl_val dflt;                  /* value emitted when absent and !presence */
    uint8_t owns_dflt; /* (added) dflt.s.p is plan-owned memory (unescaped bytes default) */
} sl_plan_field;

typedef struct sl_plan_msg {
    const sl_pb_msg *pm;
    sl_plan_field *fields; /* declaration order */
    int32_t n_fields;
    int32_t *by_number; /* number -> field index, -1; for numbers < n_by_number */
    int32_t n_by_number;
    int16_t def;     /* def level of this message's node when present */
    int32_t node;    /* (added) schema node of this message (0 for the root) */
    int32_t *sorted; /* (added) field indexes sorted by number (binary search) */
} sl_plan_msg;

typedef struct sl_plan {
    sl_schema schema;  /* owned; built by sl_plan_compile */
    sl_plan_msg *msgs; /* msgs[0] is the root */
    int32_t n_msgs;
    const sl_pb_pool *pool;
    int max_depth; /* nesting bound for parsers (default 100, as protobuf) */
} sl_plan;

/* Compile message `msg_name` of the pool into a plan and its schema. On
 * error (unknown message, recursion, too deep) the plan is zeroed. The pool
 * must outlive the plan. */
sl_err_t sl_plan_compile(sl_plan *p, const sl_pb_pool *pool, const char *msg_name,
                         sl_error *err) SL_MUST_CHECK;
void sl_plan_free(sl_plan *p);

/* Field index in plan message m by field number, or -1. O(1) for small
 * numbers, binary search otherwise. */
int32_t sl_plan_field_by_number(const sl_plan *p, int32_t m, uint32_t number);
/* Field index by proto name or json_name (JSON input), or -1. */
int32_t sl_plan_field_by_name(const sl_plan *p, int32_t m, const char *name, size_t len);
/* Enum value number by name; returns 0 and sets *number, or -1 if unknown. */
int sl_plan_enum_by_name(const sl_pb_enum *e, const char *name, size_t len, int32_t *number);

/* ---- record scratch ---- */
typedef struct sl_rec sl_rec;

sl_err_t sl_rec_new(sl_rec **out, const sl_plan *p) SL_MUST_CHECK;
void sl_rec_free(sl_rec *r);
/* The plan the record was made for. */
const sl_plan *sl_rec_plan(const sl_rec *r);

/* Start a new record; returns the root frame (always 0). */
int32_t sl_rec_begin(sl_rec *r);

/* Non-repeated scalar (or enum): last call wins; clears oneof siblings. */
sl_err_t sl_rec_set(sl_rec *r, int32_t frame, int32_t field, sl_val v) SL_MUST_CHECK;
/* Repeated scalar: append one element. */
sl_err_t sl_rec_add(sl_rec *r, int32_t frame, int32_t field, sl_val v) SL_MUST_CHECK;
/* Non-repeated message/group: the field's frame, created on first use (a
 * second occurrence merges into it). Returns a frame index >= 0 or a
 * negative sl_err_t. */
int32_t sl_rec_sub(sl_rec *r, int32_t frame, int32_t field);
/* Repeated message or map entry: a new element frame, or negative sl_err_t. */
int32_t sl_rec_add_sub(sl_rec *r, int32_t frame, int32_t field);
/* Back to absent (JSON null): scalar unset, message dropped, repeated emptied. */
void sl_rec_clear(sl_rec *r, int32_t frame, int32_t field);

/* Bytes that stay valid until the next sl_rec_begin (decoded strings). NULL
 * on NOMEM or past the per-record bound. */
uint8_t *sl_rec_scratch(sl_rec *r, size_t n);

/* Shred the record into b (b->nrows is incremented). b's schema is the
 * plan's, optionally followed by extra top-level leaves after the plan's
 * last one (metadata columns), which the caller fills after a successful
 * emit. On error (missing proto2 required field, NOMEM) the batch is left
 * exactly as before. */
sl_err_t sl_rec_emit(sl_rec *r, sl_batch *b, sl_error *err) SL_MUST_CHECK;

/* ---- reading a parsed record back (routing, event time, filters) ---- */

/* A dotted path of non-repeated fields from the root ("client.platform"),
 * resolved once against the plan. Map and repeated fields cannot be on a
 * path (a filter or a route compares one value). */
#define SL_PATH_MAX_DEPTH 16
typedef struct sl_path {
    int32_t n;
    int32_t msg[SL_PATH_MAX_DEPTH];   /* plan message of step i */
    int32_t field[SL_PATH_MAX_DEPTH]; /* field index in msg[i] */
    const sl_plan_field *leaf;        /* the last field */
} sl_path;

/* Resolve `dotted` (proto or JSON names). Errors say which step is unknown,
 * repeated or not a message. The leaf may be a message (tested for null
 * only) or a scalar. */
sl_err_t sl_path_resolve(sl_path *out, const sl_plan *p, const char *dotted,
                         sl_error *err) SL_MUST_CHECK;

/* Value of a path in the record being parsed (after sl_*_parse, before the
 * next sl_rec_begin), with protobuf's presence rules:
 *   1  set: *v holds it (strings point into the input or scratch);
 *   0  absent, no presence (proto3 implicit scalar): *v holds the default;
 *  -1  null: absent presence field, or an ancestor message absent.
 * A message leaf yields 1 (present) or -1. Enums give their number in v->i. */
int sl_path_get(const sl_rec *r, const sl_path *path, sl_val *v);

/* ---- protobuf wire format ---- */

/* Parse one serialized message (no framing) into the record. Errors name the
 * byte offset within the record and the field: truncated varint, length
 * past the end, wrong wire type for a known field, invalid UTF-8 in a
 * string, nesting deeper than p->max_depth, bad group end. */
sl_err_t sl_pb_parse(sl_rec *r, const uint8_t *data, size_t len, sl_error *err) SL_MUST_CHECK;

/* Decode a record into the batch: sl_pb_shred when it can, else begin +
 * parse + emit. The result is the same either way; afterwards the record
 * scratch holds the record only if the two-step path ran, so a caller that
 * reads the record back (sl_path_get, pb_read.h) parses it itself. On
 * error the batch is left as it was. */
sl_err_t sl_pb_decode(sl_rec *r, sl_batch *b, const uint8_t *data, size_t len,
                      sl_error *err) SL_MUST_CHECK;

/* The direct path alone (pb_shred.c): shred one serialized message from
 * the wire into b, without the record scratch. SL_OK (one row appended),
 * or SL_ERR_UNSUPPORTED when the record needs the two-step path (fields
 * repeated or out of the common shape, or any malformation): then b is
 * exactly as before and nothing is reported. */
sl_err_t sl_pb_shred(sl_rec *r, sl_batch *b, const uint8_t *data, size_t len) SL_MUST_CHECK;

#endif
