/* pq_thrift_enc.h - private to the Parquet writer: a Thrift compact
 * protocol writer, and the pieces of the footer encoder the writer uses
 * to encode row-group metadata as soon as each row group is written.
 *
 * The compact protocol (Apache Thrift, THRIFT-110) as Parquet uses it:
 *   - a field header is one byte (field-id delta << 4 | type) when the id
 *     grows by 1..15 over the previous field of the same struct, else the
 *     type byte followed by the id as a zigzag varint;
 *   - i16/i32/i64 are zigzag varints, i8 one byte, binary/string a varint
 *     length and the bytes, a bool field carries its value in the type
 *     nibble (1 true, 2 false) and has no body;
 *   - a list header is (size << 4 | element type) below 15 elements, else
 *     0xF0 | type followed by the size as a varint;
 *   - a struct ends with a 0 byte; a union is a struct with one field set.
 *
 * Errors are sticky: every call is a no-op once one append failed, and
 * sl_tc_done() reports it, so encoders are straight-line code with one
 * check at the end. Nesting is bounded by SL_TC_MAX_DEPTH (Parquet's
 * footer nests 5 deep).
 */
#ifndef SL_PQ_THRIFT_ENC_H
#define SL_PQ_THRIFT_ENC_H

#include "core/buf.h"
#include "formats/parquet/pq_meta.h"

enum {
    SL_TC_BOOL_TRUE = 1,
    SL_TC_BOOL_FALSE = 2,
    SL_TC_BYTE = 3,
    SL_TC_I16 = 4,
    SL_TC_I32 = 5,
    SL_TC_I64 = 6,
    SL_TC_DOUBLE = 7,
    SL_TC_BINARY = 8,
    SL_TC_LIST = 9,
    SL_TC_SET = 10,
    SL_TC_MAP = 11,
    SL_TC_STRUCT = 12,
};

#define SL_TC_MAX_DEPTH 16

typedef struct sl_tc {
    sl_buf *out;
    int16_t last_fid;
    int depth;
    int16_t stack[SL_TC_MAX_DEPTH];
    sl_err_t rc;
} sl_tc;

/* Start encoding one top-level struct (its fields follow; end with
 * sl_tc_struct_end). */
void sl_tc_init(sl_tc *t, sl_buf *out);
sl_err_t sl_tc_done(const sl_tc *t) SL_MUST_CHECK;

void sl_tc_i32(sl_tc *t, int16_t fid, int32_t v);
void sl_tc_i64(sl_tc *t, int16_t fid, int64_t v);
void sl_tc_i8(sl_tc *t, int16_t fid, int8_t v);
void sl_tc_i16(sl_tc *t, int16_t fid, int16_t v);
void sl_tc_bool(sl_tc *t, int16_t fid, int v);
void sl_tc_bin(sl_tc *t, int16_t fid, const void *p, size_t n);
void sl_tc_str(sl_tc *t, int16_t fid, const char *s);
/* A struct-typed field: header now, fields next, then sl_tc_struct_end. */
void sl_tc_struct_begin(sl_tc *t, int16_t fid);
void sl_tc_struct_end(sl_tc *t);
/* An empty struct field (union arms such as StringType, TYPE_ORDER). */
void sl_tc_empty_struct(sl_tc *t, int16_t fid);
/* A list field with n elements of elem_type; then write n elements. */
void sl_tc_list_begin(sl_tc *t, int16_t fid, uint8_t elem_type, uint32_t n);
void sl_tc_elem_i32(sl_tc *t, int32_t v);
void sl_tc_elem_bin(sl_tc *t, const void *p, size_t n);
/* A struct list element: fields next, then sl_tc_struct_end. */
void sl_tc_elem_struct_begin(sl_tc *t);
/* Bytes already encoded elsewhere (pre-encoded list elements). */
void sl_tc_raw(sl_tc *t, const void *p, size_t n);

/* ---- footer pieces (pq_meta_enc.c) ---- */

/* Encode one RowGroup struct as a bare list element (no field header). */
sl_err_t sl_pq_row_group_encode(const sl_pq_row_group *rg, sl_buf *out) SL_MUST_CHECK;

/* Encode FileMetaData whose row_groups list is n_rg RowGroup structs
 * already encoded back to back in rg_bytes (m->row_groups is ignored). */
sl_err_t sl_pq_meta_encode_raw_rgs(const sl_pq_file_meta *m, int32_t n_rg, const uint8_t *rg_bytes,
                                   size_t rg_len, sl_buf *out) SL_MUST_CHECK;

#endif
