/* schema.h - the columnar schema: a Parquet-shaped tree of groups and leaves.
 *
 * Every decoder writes into, and the Parquet writer and reader speak, this
 * one schema. Nodes are stored in depth-first pre-order, exactly the order
 * of Parquet's flattened SchemaElement list, so:
 *   - node 0 is the root (a group, REQUIRED, not a column);
 *   - the leaves under any node form a contiguous range of leaf indexes
 *     [first_leaf, first_leaf + n_leaves), which is how a decoder writes
 *     nulls for an absent subtree in one loop.
 * Nodes are added in that order: a node's parent must be the last added
 * group on the current path (sl_schema_add checks it).
 *
 * sl_schema_finish computes the Dremel levels: max_def counts the OPTIONAL
 * and REPEATED nodes on the path from the root, max_rep the REPEATED ones.
 * Levels are stored in one byte, so nesting deeper than SL_MAX_LEVEL
 * optional/repeated levels is rejected with SL_ERR_SCHEMA.
 *
 * Cost: O(nodes) memory; lookups by path are linear (schemas are small and
 * looked up once, at compile time, never per record).
 */
#ifndef SL_CORE_SCHEMA_H
#define SL_CORE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SL_MAX_LEVEL 250

/* Parquet physical types; values are parquet.thrift's Type. */
typedef enum sl_ptype {
    SL_PT_BOOLEAN = 0,
    SL_PT_INT32 = 1,
    SL_PT_INT64 = 2,
    SL_PT_INT96 = 3, /* read-only: never written */
    SL_PT_FLOAT = 4,
    SL_PT_DOUBLE = 5,
    SL_PT_BYTE_ARRAY = 6,
    SL_PT_FIXED_LEN_BYTE_ARRAY = 7, /* read-only: never written */
} sl_ptype_t;

/* Values are parquet.thrift's FieldRepetitionType. */
typedef enum sl_repetition {
    SL_REQUIRED = 0,
    SL_OPTIONAL = 1,
    SL_REPEATED = 2,
} sl_repetition_t;

typedef enum sl_logical_kind {
    SL_LT_NONE = 0,
    SL_LT_STRING,    /* BYTE_ARRAY, UTF-8 */
    SL_LT_ENUM,      /* BYTE_ARRAY, UTF-8 enum value name */
    SL_LT_INT,       /* INT32/INT64 with bit_width and signedness */
    SL_LT_LIST,      /* group: 3-level list */
    SL_LT_MAP,       /* group: key_value map */
    SL_LT_TIMESTAMP, /* INT64 with unit and UTC adjustment */
} sl_logical_kind_t;

typedef enum sl_time_unit {
    SL_TU_MILLIS = 0,
    SL_TU_MICROS = 1,
    SL_TU_NANOS = 2,
} sl_time_unit_t;

typedef struct sl_logical {
    uint8_t kind;      /* sl_logical_kind_t */
    uint8_t bit_width; /* SL_LT_INT: 8, 16, 32, 64 */
    uint8_t is_signed; /* SL_LT_INT */
    uint8_t unit;      /* SL_LT_TIMESTAMP: sl_time_unit_t */
    uint8_t utc;       /* SL_LT_TIMESTAMP: isAdjustedToUTC */
} sl_logical;

typedef struct sl_node {
    char *name;
    uint8_t rep;      /* sl_repetition_t */
    uint8_t is_group; /* 1: group (root, message, list, map); 0: leaf column */
    uint8_t ptype;    /* sl_ptype_t, leaves only */
    sl_logical logical;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY only (reader) */
    int32_t field_id;    /* source field number (protobuf), -1 if none */
    int32_t parent;      /* node index, -1 for the root */
    int32_t n_children;
    int32_t *children;  /* node indexes, in order */
    int32_t leaf;       /* leaf (column) index, -1 for groups */
    int32_t first_leaf; /* leaves under this node: [first_leaf, first_leaf + n_leaves) */
    int32_t n_leaves;
    int16_t max_def; /* definition level of this node when present */
    int16_t max_rep; /* repetition level of this node */
} sl_node;

typedef struct sl_schema {
    sl_node *nodes;
    int32_t n_nodes, cap_nodes;
    int32_t *leaves; /* leaf index -> node index */
    int32_t n_leaves;
    char *message_name; /* full protobuf message name, or NULL */
    int finished;
} sl_schema;

/* Init with a root group named root_name. Returns SL_ERR_NOMEM on failure
 * (then sl_schema_free is still safe). */
sl_err_t sl_schema_init(sl_schema *s, const char *root_name) SL_MUST_CHECK;
void sl_schema_free(sl_schema *s); /* safe on a zeroed or partly built schema */

/* Add a node under `parent` (pre-order, see top). For groups pass
 * is_group=1 and ptype is ignored. Returns the new node index (>= 1), or a
 * negative sl_err_t. */
int32_t sl_schema_add(sl_schema *s, int32_t parent, const char *name, sl_repetition_t rep,
                      int is_group, sl_ptype_t ptype, sl_logical logical, int32_t field_id);

/* Compute levels and the leaf table. Must be called once, after the last add. */
sl_err_t sl_schema_finish(sl_schema *s, sl_error *err) SL_MUST_CHECK;

/* Dotted path of a node ("client.app_version", "tags.list.element") into
 * out (always NUL-terminated, truncated to cap). Returns out. */
char *sl_schema_path(const sl_schema *s, int32_t node, char *out, size_t cap);

/* Node index of a dotted path, or -1. */
int32_t sl_schema_find(const sl_schema *s, const char *path);

/* 64-bit fingerprint of the tree (names, types, repetition, logical types),
 * stable across runs and hosts; written to Parquet key-value metadata. */
uint64_t sl_schema_fingerprint(const sl_schema *s);

/* Deep copy (the reader builds a schema from a file; writers copy theirs). */
sl_err_t sl_schema_copy(sl_schema *dst, const sl_schema *src) SL_MUST_CHECK;

/* Bytes of one value of a fixed-width physical type (BOOLEAN counts 1, as
 * column builders store it); 0 for BYTE_ARRAY and for a FIXED_LEN_BYTE_ARRAY
 * without a positive type_length. */
static inline size_t sl_ptype_width(int ptype, int32_t type_length)
{
    switch (ptype) {
    case SL_PT_BOOLEAN:
        return 1;
    case SL_PT_INT32:
    case SL_PT_FLOAT:
        return 4;
    case SL_PT_INT64:
    case SL_PT_DOUBLE:
        return 8;
    case SL_PT_INT96:
        return 12;
    case SL_PT_FIXED_LEN_BYTE_ARRAY:
        return type_length > 0 ? (size_t)type_length : 0;
    default:
        return 0;
    }
}

static inline const sl_node *sl_schema_leaf(const sl_schema *s, int32_t leaf)
{
    return &s->nodes[s->leaves[leaf]];
}

#endif
