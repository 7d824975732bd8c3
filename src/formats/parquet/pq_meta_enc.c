/* pq_meta_enc.c - the ENCODE half of pq_meta.h: Parquet footer and page
 * headers as Thrift compact structs (the decode half is pq_meta_dec.c).
 *
 * Field ids and their order follow apache/parquet-format's parquet.thrift;
 * fields are written in ascending id order, so every header after the
 * first uses the one-byte delta form. Optional fields are written only
 * when set (the "absent" markers are documented in pq_meta.h: -1 for
 * numbers, .set == 0 for binary, NULL for strings).
 *
 * What is written on purpose:
 *   - Statistics: only min_value/max_value (5, 6), never the deprecated
 *     signed-order min/max (1, 2): the file carries column_orders, so every
 *     modern reader uses the new fields, and stale signed bounds for
 *     unsigned or string columns would mislead old ones.
 *   - ColumnChunk.file_offset (2) is 0, as the spec now asks of writers
 *     that keep ColumnMetaData only in the footer.
 *
 * Cost: linear in the bytes produced; the only allocation is the growth
 * of the output buffer. On failure (SL_ERR_NOMEM) out may hold a partial
 * encoding: callers discard it.
 */
#include "formats/parquet/pq_thrift_enc.h"

static void enc_stats(sl_tc *t, int16_t fid, const sl_pq_stats *s)
{
    sl_tc_struct_begin(t, fid);
    if (s->null_count >= 0) sl_tc_i64(t, 3, s->null_count);
    if (s->distinct_count >= 0) sl_tc_i64(t, 4, s->distinct_count);
    if (s->max_value.set) sl_tc_bin(t, 5, s->max_value.p, s->max_value.len);
    if (s->min_value.set) sl_tc_bin(t, 6, s->min_value.p, s->min_value.len);
    if (s->is_max_exact >= 0) sl_tc_bool(t, 7, s->is_max_exact);
    if (s->is_min_exact >= 0) sl_tc_bool(t, 8, s->is_min_exact);
    if (s->nan_count >= 0) sl_tc_i64(t, 9, s->nan_count);
    sl_tc_struct_end(t);
}

/* LogicalType union (SchemaElement field 10). */
static void enc_logical(sl_tc *t, const sl_pq_schema_elem *e)
{
    sl_tc_struct_begin(t, 10);
    switch (e->logical) {
    case 8: /* TIMESTAMP: TimestampType { 1: bool isAdjustedToUTC, 2: TimeUnit } */
        sl_tc_struct_begin(t, 8);
        sl_tc_bool(t, 1, e->ts_utc);
        sl_tc_struct_begin(t, 2);
        sl_tc_empty_struct(t, (int16_t)(e->ts_unit + 1)); /* 1 MILLIS, 2 MICROS, 3 NANOS */
        sl_tc_struct_end(t);
        sl_tc_struct_end(t);
        break;
    case 10: /* INTEGER: IntType { 1: i8 bitWidth, 2: bool isSigned } */
        sl_tc_struct_begin(t, 10);
        sl_tc_i8(t, 1, e->int_bits);
        sl_tc_bool(t, 2, e->int_signed);
        sl_tc_struct_end(t);
        break;
    default: /* STRING, MAP, LIST, ENUM, ...: empty structs */
        sl_tc_empty_struct(t, (int16_t)e->logical);
        break;
    }
    sl_tc_struct_end(t);
}

static void enc_schema_elem(sl_tc *t, const sl_pq_schema_elem *e)
{
    sl_tc_elem_struct_begin(t);
    if (e->type >= 0) sl_tc_i32(t, 1, e->type);
    if (e->type == 7 && e->type_length > 0) sl_tc_i32(t, 2, e->type_length);
    if (e->repetition >= 0) sl_tc_i32(t, 3, e->repetition);
    sl_tc_str(t, 4, e->name ? e->name : "");
    if (e->type < 0) sl_tc_i32(t, 5, e->num_children);
    if (e->converted_type >= 0) sl_tc_i32(t, 6, e->converted_type);
    if (e->field_id >= 0) sl_tc_i32(t, 9, e->field_id);
    if (e->logical > 0) enc_logical(t, e);
    sl_tc_struct_end(t);
}

static void enc_column_meta(sl_tc *t, const sl_pq_column_meta *c)
{
    sl_tc_struct_begin(t, 3);
    sl_tc_i32(t, 1, c->type);
    sl_tc_list_begin(t, 2, SL_TC_I32, (uint32_t)c->n_encodings);
    for (int32_t i = 0; i < c->n_encodings; i++)
        sl_tc_elem_i32(t, c->encodings[i]);
    sl_tc_list_begin(t, 3, SL_TC_BINARY, (uint32_t)c->n_path);
    for (int32_t i = 0; i < c->n_path; i++)
        sl_tc_elem_bin(t, c->path[i], strlen(c->path[i]));
    sl_tc_i32(t, 4, c->codec);
    sl_tc_i64(t, 5, c->num_values);
    sl_tc_i64(t, 6, c->total_uncompressed);
    sl_tc_i64(t, 7, c->total_compressed);
    sl_tc_i64(t, 9, c->data_page_offset);
    if (c->dictionary_page_offset >= 0) sl_tc_i64(t, 11, c->dictionary_page_offset);
    if (c->has_stats) enc_stats(t, 12, &c->stats);
    sl_tc_struct_end(t);
}

static void enc_row_group(sl_tc *t, const sl_pq_row_group *rg)
{
    sl_tc_elem_struct_begin(t);
    sl_tc_list_begin(t, 1, SL_TC_STRUCT, (uint32_t)rg->n_columns);
    for (int32_t i = 0; i < rg->n_columns; i++) {
        sl_tc_elem_struct_begin(t); /* ColumnChunk */
        sl_tc_i64(t, 2, 0);         /* file_offset: no ColumnMetaData outside the footer */
        enc_column_meta(t, &rg->columns[i]);
        sl_tc_struct_end(t);
    }
    sl_tc_i64(t, 2, rg->total_byte_size);
    sl_tc_i64(t, 3, rg->num_rows);
    if (rg->file_offset >= 0) sl_tc_i64(t, 5, rg->file_offset);
    if (rg->total_compressed >= 0) sl_tc_i64(t, 6, rg->total_compressed);
    if (rg->ordinal >= 0 && rg->ordinal <= INT16_MAX) sl_tc_i16(t, 7, (int16_t)rg->ordinal);
    sl_tc_struct_end(t);
}

sl_err_t sl_pq_row_group_encode(const sl_pq_row_group *rg, sl_buf *out)
{
    sl_tc t;
    sl_tc_init(&t, out);
    enc_row_group(&t, rg);
    return sl_tc_done(&t);
}

/* FileMetaData with the row-group list supplied either as structs or as
 * pre-encoded bytes. */
static sl_err_t enc_file_meta(const sl_pq_file_meta *m, int32_t n_rg, const uint8_t *rg_bytes,
                              size_t rg_len, sl_buf *out)
{
    sl_tc t;
    sl_tc_init(&t, out);
    sl_tc_i32(&t, 1, m->version);
    sl_tc_list_begin(&t, 2, SL_TC_STRUCT, (uint32_t)m->n_schema);
    for (int32_t i = 0; i < m->n_schema; i++)
        enc_schema_elem(&t, &m->schema[i]);
    sl_tc_i64(&t, 3, m->num_rows);
    sl_tc_list_begin(&t, 4, SL_TC_STRUCT, (uint32_t)n_rg);
    if (rg_bytes) {
        sl_tc_raw(&t, rg_bytes, rg_len);
    } else {
        for (int32_t i = 0; i < n_rg; i++)
            enc_row_group(&t, &m->row_groups[i]);
    }
    if (m->n_kv > 0) {
        sl_tc_list_begin(&t, 5, SL_TC_STRUCT, (uint32_t)m->n_kv);
        for (int32_t i = 0; i < m->n_kv; i++) {
            sl_tc_elem_struct_begin(&t);
            sl_tc_str(&t, 1, m->kv[i].key ? m->kv[i].key : "");
            if (m->kv[i].value) sl_tc_str(&t, 2, m->kv[i].value);
            sl_tc_struct_end(&t);
        }
    }
    if (m->created_by) sl_tc_str(&t, 6, m->created_by);
    if (m->n_column_orders > 0 && m->column_orders) {
        sl_tc_list_begin(&t, 7, SL_TC_STRUCT, (uint32_t)m->n_column_orders);
        for (int32_t i = 0; i < m->n_column_orders; i++) {
            sl_tc_elem_struct_begin(&t); /* ColumnOrder union */
            sl_tc_empty_struct(&t, (int16_t)m->column_orders[i]);
            sl_tc_struct_end(&t);
        }
    }
    sl_tc_struct_end(&t);
    return sl_tc_done(&t);
}

sl_err_t sl_pq_meta_encode(const sl_pq_file_meta *m, sl_buf *out)
{
    return enc_file_meta(m, m->n_row_groups, NULL, 0, out);
}

sl_err_t sl_pq_meta_encode_raw_rgs(const sl_pq_file_meta *m, int32_t n_rg, const uint8_t *rg_bytes,
                                   size_t rg_len, sl_buf *out)
{
    static const uint8_t none;
    return enc_file_meta(m, n_rg, rg_bytes ? rg_bytes : &none, rg_len, out);
}

sl_err_t sl_pq_page_header_encode(const sl_pq_page_header *h, sl_buf *out)
{
    sl_tc t;
    sl_tc_init(&t, out);
    sl_tc_i32(&t, 1, h->type);
    sl_tc_i32(&t, 2, h->uncompressed_size);
    sl_tc_i32(&t, 3, h->compressed_size);
    switch (h->type) {
    case SL_PQ_PAGE_DATA:
        sl_tc_struct_begin(&t, 5);
        sl_tc_i32(&t, 1, h->num_values);
        sl_tc_i32(&t, 2, h->encoding);
        sl_tc_i32(&t, 3, h->def_encoding);
        sl_tc_i32(&t, 4, h->rep_encoding);
        if (h->has_stats) enc_stats(&t, 5, &h->stats);
        sl_tc_struct_end(&t);
        break;
    case SL_PQ_PAGE_DICTIONARY:
        sl_tc_struct_begin(&t, 7);
        sl_tc_i32(&t, 1, h->num_values);
        sl_tc_i32(&t, 2, h->encoding);
        sl_tc_struct_end(&t);
        break;
    case SL_PQ_PAGE_DATA_V2:
        sl_tc_struct_begin(&t, 8);
        sl_tc_i32(&t, 1, h->num_values);
        sl_tc_i32(&t, 2, h->num_nulls);
        sl_tc_i32(&t, 3, h->num_rows);
        sl_tc_i32(&t, 4, h->encoding);
        sl_tc_i32(&t, 5, h->def_len);
        sl_tc_i32(&t, 6, h->rep_len);
        sl_tc_bool(&t, 7, h->v2_compressed);
        if (h->has_stats) enc_stats(&t, 8, &h->stats);
        sl_tc_struct_end(&t);
        break;
    default:
        break;
    }
    sl_tc_struct_end(&t);
    return sl_tc_done(&t);
}
