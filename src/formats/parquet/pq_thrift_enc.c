/* pq_thrift_enc.c - the Thrift compact protocol writer. See
 * pq_thrift_enc.h for the wire rules. Each call appends a few bytes to
 * the output buffer; the cost is the bytes written. A failed append (out
 * of memory, nesting past SL_TC_MAX_DEPTH) makes every later call a no-op
 * and sl_tc_done() returns the error.
 */
#include "formats/parquet/pq_thrift_enc.h"

void sl_tc_init(sl_tc *t, sl_buf *out)
{
    t->out = out;
    t->last_fid = 0;
    t->depth = 0;
    t->rc = SL_OK;
}

sl_err_t sl_tc_done(const sl_tc *t)
{
    return t->rc;
}

static void put_u8(sl_tc *t, uint8_t v)
{
    if (!t->rc) t->rc = sl_buf_put_u8(t->out, v);
}

static void put_varint(sl_tc *t, uint64_t v)
{
    if (!t->rc) t->rc = sl_buf_put_varint(t->out, v);
}

void sl_tc_raw(sl_tc *t, const void *p, size_t n)
{
    if (!t->rc) t->rc = sl_buf_append(t->out, p, n);
}

static void field(sl_tc *t, int16_t fid, uint8_t type)
{
    int delta = (int)fid - (int)t->last_fid;
    if (delta > 0 && delta <= 15) {
        put_u8(t, (uint8_t)(delta << 4 | type));
    } else {
        put_u8(t, type);
        put_varint(t, sl_zigzag_enc64(fid));
    }
    t->last_fid = fid;
}

static void push(sl_tc *t)
{
    if (t->depth == SL_TC_MAX_DEPTH) {
        if (!t->rc) t->rc = SL_ERR_LIMIT;
        return;
    }
    t->stack[t->depth++] = t->last_fid;
    t->last_fid = 0;
}

void sl_tc_i32(sl_tc *t, int16_t fid, int32_t v)
{
    field(t, fid, SL_TC_I32);
    put_varint(t, sl_zigzag_enc64(v));
}

void sl_tc_i64(sl_tc *t, int16_t fid, int64_t v)
{
    field(t, fid, SL_TC_I64);
    put_varint(t, sl_zigzag_enc64(v));
}

void sl_tc_i16(sl_tc *t, int16_t fid, int16_t v)
{
    field(t, fid, SL_TC_I16);
    put_varint(t, sl_zigzag_enc64(v));
}

void sl_tc_i8(sl_tc *t, int16_t fid, int8_t v)
{
    field(t, fid, SL_TC_BYTE);
    put_u8(t, (uint8_t)v);
}

void sl_tc_bool(sl_tc *t, int16_t fid, int v)
{
    field(t, fid, v ? SL_TC_BOOL_TRUE : SL_TC_BOOL_FALSE);
}

void sl_tc_elem_bin(sl_tc *t, const void *p, size_t n)
{
    put_varint(t, n);
    sl_tc_raw(t, p, n);
}

void sl_tc_bin(sl_tc *t, int16_t fid, const void *p, size_t n)
{
    field(t, fid, SL_TC_BINARY);
    sl_tc_elem_bin(t, p, n);
}

void sl_tc_str(sl_tc *t, int16_t fid, const char *s)
{
    sl_tc_bin(t, fid, s, strlen(s));
}

void sl_tc_struct_begin(sl_tc *t, int16_t fid)
{
    field(t, fid, SL_TC_STRUCT);
    push(t);
}

void sl_tc_elem_struct_begin(sl_tc *t)
{
    push(t);
}

void sl_tc_struct_end(sl_tc *t)
{
    put_u8(t, 0);
    if (t->depth > 0) t->last_fid = t->stack[--t->depth];
}

void sl_tc_empty_struct(sl_tc *t, int16_t fid)
{
    sl_tc_struct_begin(t, fid);
    sl_tc_struct_end(t);
}

void sl_tc_list_begin(sl_tc *t, int16_t fid, uint8_t elem_type, uint32_t n)
{
    field(t, fid, SL_TC_LIST);
    if (n < 15) {
        put_u8(t, (uint8_t)(n << 4 | elem_type));
    } else {
        put_u8(t, (uint8_t)(0xF0 | elem_type));
        put_varint(t, n);
    }
}

void sl_tc_elem_i32(sl_tc *t, int32_t v)
{
    put_varint(t, sl_zigzag_enc64(v));
}
