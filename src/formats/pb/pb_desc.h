/* pb_desc.h - the protobuf schema model: messages, fields and enums loaded
 * from a FileDescriptorSet (or a .proto file compiled by protoc).
 *
 * This is a plain, resolved copy of the parts of descriptor.proto sluice
 * needs; the FileDescriptorSet bytes are decoded by our own small reader of
 * descriptor.proto's wire format (no libprotobuf at run time). After
 * loading, every message/enum-typed field has msg/enm resolved to an index
 * in the pool, so nothing is looked up by name per record.
 *
 * Presence is resolved too (`has_presence`): proto2 optional/required,
 * proto3 `optional` (synthetic oneof), oneof members and message fields have
 * presence; proto3 plain scalars do not. `closed_enum` is 1 for enums
 * declared in proto2 files (unknown numbers are unknown fields there).
 */
#ifndef SL_PB_DESC_H
#define SL_PB_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* descriptor.proto FieldDescriptorProto.Type */
enum {
    SL_PB_DOUBLE = 1,
    SL_PB_FLOAT = 2,
    SL_PB_INT64 = 3,
    SL_PB_UINT64 = 4,
    SL_PB_INT32 = 5,
    SL_PB_FIXED64 = 6,
    SL_PB_FIXED32 = 7,
    SL_PB_BOOL = 8,
    SL_PB_STRING = 9,
    SL_PB_GROUP = 10,
    SL_PB_MESSAGE = 11,
    SL_PB_BYTES = 12,
    SL_PB_UINT32 = 13,
    SL_PB_ENUM = 14,
    SL_PB_SFIXED32 = 15,
    SL_PB_SFIXED64 = 16,
    SL_PB_SINT32 = 17,
    SL_PB_SINT64 = 18,
};

/* The .proto keyword of a field type ("sint64"), for messages. */
static inline const char *sl_pb_type_name(int type)
{
    static const char *const names[] = {"?",        "double",   "float",   "int64",  "uint64",
                                        "int32",    "fixed64",  "fixed32", "bool",   "string",
                                        "group",    "message",  "bytes",   "uint32", "enum",
                                        "sfixed32", "sfixed64", "sint32",  "sint64"};
    return type >= 1 && type <= 18 ? names[type] : "?";
}

/* Wire type a field of this type is written with when not packed:
 * 0 varint, 1 fixed64, 2 length-delimited, 3 group, 5 fixed32. */
static inline int sl_pb_wire_type(int type)
{
    switch (type) {
    case SL_PB_DOUBLE:
    case SL_PB_FIXED64:
    case SL_PB_SFIXED64:
        return 1;
    case SL_PB_FLOAT:
    case SL_PB_FIXED32:
    case SL_PB_SFIXED32:
        return 5;
    case SL_PB_STRING:
    case SL_PB_BYTES:
    case SL_PB_MESSAGE:
        return 2;
    case SL_PB_GROUP:
        return 3;
    default:
        return 0;
    }
}

/* FieldDescriptorProto.Label */
enum { SL_PB_OPTIONAL = 1, SL_PB_REQUIRED = 2, SL_PB_REPEATED = 3 };

typedef struct sl_pb_enum_value {
    char *name;
    int32_t number;
} sl_pb_enum_value;

typedef struct sl_pb_enum {
    char *full_name; /* "bench.Platform" (no leading dot) */
    sl_pb_enum_value *values;
    int32_t n_values;
    uint8_t closed; /* proto2 semantics */
} sl_pb_enum;

typedef struct sl_pb_field {
    char *name;      /* "event_time_ms" */
    char *json_name; /* "eventTimeMs" */
    int32_t number;
    uint8_t type;  /* SL_PB_* type */
    uint8_t label; /* SL_PB_OPTIONAL / REQUIRED / REPEATED */
    uint8_t has_presence;
    uint8_t packed;      /* how our own encoder would write it (decoders accept both) */
    int32_t oneof_index; /* real oneof (not proto3 optional's synthetic one), or -1 */
    int32_t msg;         /* MESSAGE/GROUP: index into pool->msgs, else -1 */
    int32_t enm;         /* ENUM: index into pool->enums, else -1 */
    char *default_value; /* proto2 [default = ...] text, or NULL */
} sl_pb_field;

typedef struct sl_pb_msg {
    char *full_name;     /* "bench.PlayEvent" */
    sl_pb_field *fields; /* in declaration order */
    int32_t n_fields;
    char **oneof_names;
    int32_t n_oneofs;  /* real oneofs only */
    uint8_t map_entry; /* MessageOptions.map_entry: key = field 1, value = field 2 */
    uint8_t proto3;    /* syntax of the declaring file */
} sl_pb_msg;

typedef struct sl_pb_pool {
    sl_pb_msg *msgs;
    int32_t n_msgs;
    sl_pb_enum *enums;
    int32_t n_enums;
} sl_pb_pool;

/* Decode a FileDescriptorSet and append its files' messages and enums to the
 * pool, resolving type names. Errors (malformed set, unresolved type name,
 * editions syntax) name the file and field. On error the pool keeps what it
 * had before the call. */
sl_err_t sl_pb_pool_add_set(sl_pb_pool *pool, const uint8_t *data, size_t len,
                            sl_error *err) SL_MUST_CHECK;

/* Load a schema file: a FileDescriptorSet (binary), or a .proto file which
 * is compiled by running `protoc --include_imports --descriptor_set_out`
 * (with the file's directory as import path). When protoc is not on PATH the
 * error says so and how to produce a descriptor set instead. */
sl_err_t sl_pb_pool_load(sl_pb_pool *pool, const char *path, sl_error *err) SL_MUST_CHECK;

void sl_pb_pool_free(sl_pb_pool *pool);

/* Index of a message by full name ("bench.PlayEvent", leading dot optional),
 * or -1. */
int32_t sl_pb_pool_find_msg(const sl_pb_pool *pool, const char *full_name);

#endif
