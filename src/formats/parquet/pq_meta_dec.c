/* pq_meta_dec.c - the decode half of pq_meta.h: the parquet.thrift structs
 * sluice reads, on top of the compact protocol reader (pq_thrift_dec.h).
 *
 * Invariants and bounds:
 *   - Every read checks the bytes left and every count is at most the
 *     bytes left (pq_thrift_dec.h), so arrays are never sized by a claimed
 *     count alone; nesting is bounded by SL_PQ_THRIFT_MAX_DEPTH.
 *   - All decoded arrays and strings come from one arena per decoded
 *     FileMetaData, capped at SL_PQ_ARENA_RATIO times the footer size plus
 *     1 MiB (legitimate footers decode to under 10x their size), so a
 *     hostile footer cannot make us allocate more than that.
 *   - Binary values (statistics) point into the caller's buffer; strings
 *     (names, paths, key-value pairs) are copied and NUL-terminated.
 *   - Unknown fields, and known fields with an unexpected wire type, are
 *     skipped, as Thrift-generated code does; required fields that sluice
 *     needs are checked at the end of each struct.
 * Errors are SL_ERR_CORRUPT with the footer byte offset, prefixed on the way
 * out with the struct path ("FileMetaData.row_groups[2].columns[5]...").
 *
 * Not decoded (skipped): legacy Statistics.min/max (1, 2: ambiguous sort
 * order), page indexes, bloom filters, encryption metadata, sorting
 * columns, size/geospatial statistics. Encrypted columns and column
 * chunks stored in other files are SL_ERR_UNSUPPORTED.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/parquet/pq_meta.h"
#include "formats/parquet/pq_thrift_dec.h"

#define SL_PQ_ARENA_RATIO 64

#define TRY(x)                                                                                     \
    do {                                                                                           \
        sl_err_t rc_ = (x);                                                                        \
        if (rc_) return rc_;                                                                       \
    } while (0)

/* Struct field loop: `body` handles known ids and `continue`s; anything it
 * does not handle (unknown id or unexpected type) is skipped. */
#define STRUCT_LOOP(t, body)                                                                       \
    do {                                                                                           \
        int16_t last_ = 0, id;                                                                     \
        int type;                                                                                  \
        TRY(sl_pq_trd_enter(t));                                                                   \
        for (;;) {                                                                                 \
            TRY(sl_pq_trd_field((t), &last_, &type, &id));                                         \
            if (type == SL_PQ_TT_STOP) break;                                                      \
            body TRY(sl_pq_trd_skip((t), type, 0));                                                \
        }                                                                                          \
        (t)->depth--;                                                                              \
    } while (0)

/* ---- Statistics ---- */

static sl_err_t dec_stats(sl_pq_trd *t, sl_pq_stats *s)
{
    s->null_count = s->distinct_count = -1;
    s->is_max_exact = s->is_min_exact = -1;
    s->nan_count = -1;
    STRUCT_LOOP(t, {
        if ((id == 5 || id == 6) && type == SL_PQ_TT_BINARY) {
            sl_pq_bytes *b = id == 5 ? &s->max_value : &s->min_value;
            TRY(sl_pq_trd_bin(t, &b->p, &b->len));
            b->set = 1;
            continue;
        }
        if (id == 3 && type == SL_PQ_TT_I64) {
            TRY(sl_pq_trd_i64(t, &s->null_count));
            continue;
        }
        if ((id == 4 || id == 9) && type == SL_PQ_TT_I64) {
            TRY(sl_pq_trd_i64(t, id == 4 ? &s->distinct_count : &s->nan_count));
            continue;
        }
        if ((id == 7 || id == 8) && sl_pq_trd_is_bool(type)) {
            *(id == 7 ? &s->is_max_exact : &s->is_min_exact) = sl_pq_trd_bool(type);
            continue;
        }
    });
    return SL_OK;
}

/* ---- SchemaElement and LogicalType ---- */

static sl_err_t dec_time_unit(sl_pq_trd *t, int8_t *unit)
{
    STRUCT_LOOP(t, {
        if (id >= 1 && id <= 3 && type == SL_PQ_TT_STRUCT) {
            *unit = (int8_t)(id - 1);
            TRY(sl_pq_trd_skip(t, SL_PQ_TT_STRUCT, 0));
            continue;
        }
    });
    return SL_OK;
}

static sl_err_t dec_timestamp(sl_pq_trd *t, sl_pq_schema_elem *e)
{
    e->ts_unit = -1;
    STRUCT_LOOP(t, {
        if (id == 1 && sl_pq_trd_is_bool(type)) {
            e->ts_utc = sl_pq_trd_bool(type);
            continue;
        }
        if (id == 2 && type == SL_PQ_TT_STRUCT) {
            TRY(dec_time_unit(t, &e->ts_unit));
            continue;
        }
    });
    if (e->ts_unit < 0) return sl_pq_trd_missing(t, "TimestampType", "unit");
    return SL_OK;
}

static sl_err_t dec_int_type(sl_pq_trd *t, sl_pq_schema_elem *e)
{
    int have_bits = 0;
    STRUCT_LOOP(t, {
        if (id == 1 && type == SL_PQ_TT_BYTE) {
            uint8_t b = 0;
            TRY(sl_pq_trd_u8(t, &b));
            e->int_bits = (int8_t)b;
            have_bits = 1;
            continue;
        }
        if (id == 2 && sl_pq_trd_is_bool(type)) {
            e->int_signed = sl_pq_trd_bool(type);
            continue;
        }
    });
    if (!have_bits) return sl_pq_trd_missing(t, "IntType", "bitWidth");
    return SL_OK;
}

static sl_err_t dec_logical(sl_pq_trd *t, sl_pq_schema_elem *e)
{
    STRUCT_LOOP(t, {
        if (type == SL_PQ_TT_STRUCT) {
            e->logical = id;
            if (id == 8)
                TRY(dec_timestamp(t, e));
            else if (id == 10)
                TRY(dec_int_type(t, e));
            else
                TRY(sl_pq_trd_skip(t, SL_PQ_TT_STRUCT, 0));
            continue;
        }
    });
    return SL_OK;
}

static sl_err_t dec_schema_elem(sl_pq_trd *t, sl_pq_schema_elem *e)
{
    e->type = e->repetition = e->converted_type = e->field_id = -1;
    STRUCT_LOOP(t, {
        if (type == SL_PQ_TT_I32 &&
            (id == 1 || id == 2 || id == 3 || id == 5 || id == 6 || id == 9)) {
            int32_t v;
            TRY(sl_pq_trd_i32(t, &v));
            if (id == 1)
                e->type = v;
            else if (id == 2)
                e->type_length = v;
            else if (id == 3)
                e->repetition = v;
            else if (id == 5)
                e->num_children = v;
            else if (id == 6)
                e->converted_type = v;
            else
                e->field_id = v;
            continue;
        }
        if (id == 4 && type == SL_PQ_TT_BINARY) {
            TRY(sl_pq_trd_str(t, &e->name));
            continue;
        }
        if (id == 10 && type == SL_PQ_TT_STRUCT) {
            TRY(dec_logical(t, e));
            continue;
        }
    });
    if (!e->name) return sl_pq_trd_missing(t, "SchemaElement", "name (4)");
    return SL_OK;
}

/* ---- ColumnChunk / ColumnMetaData ---- */

static sl_err_t dec_i32_list(sl_pq_trd *t, int32_t **out, int32_t *n)
{
    int et;
    int32_t cnt;
    TRY(sl_pq_trd_list(t, &et, &cnt));
    if (cnt && et != SL_PQ_TT_I32) return sl_pq_trd_bad(t, "list of i32 expected");
    TRY(sl_pq_trd_alloc(t, (size_t)cnt * sizeof **out, (void **)out));
    for (int32_t i = 0; i < cnt; i++)
        TRY(sl_pq_trd_i32(t, &(*out)[i]));
    *n = cnt;
    return SL_OK;
}

static sl_err_t dec_str_list(sl_pq_trd *t, const char ***out, int32_t *n)
{
    int et;
    int32_t cnt;
    TRY(sl_pq_trd_list(t, &et, &cnt));
    if (cnt && et != SL_PQ_TT_BINARY) return sl_pq_trd_bad(t, "list of strings expected");
    TRY(sl_pq_trd_alloc(t, (size_t)cnt * sizeof **out, (void **)out));
    for (int32_t i = 0; i < cnt; i++)
        TRY(sl_pq_trd_str(t, &(*out)[i]));
    *n = cnt;
    return SL_OK;
}

static sl_err_t dec_column_meta(sl_pq_trd *t, sl_pq_column_meta *c)
{
    unsigned seen = 0;
    c->type = c->codec = -1;
    c->dictionary_page_offset = -1;
    STRUCT_LOOP(t, {
        if ((id == 1 || id == 4) && type == SL_PQ_TT_I32) {
            TRY(sl_pq_trd_i32(t, id == 1 ? &c->type : &c->codec));
            seen |= 1u << id;
            continue;
        }
        if (id == 2 && type == SL_PQ_TT_LIST) {
            TRY(dec_i32_list(t, &c->encodings, &c->n_encodings));
            continue;
        }
        if (id == 3 && type == SL_PQ_TT_LIST) {
            TRY(dec_str_list(t, &c->path, &c->n_path));
            seen |= 1u << id;
            continue;
        }
        if ((id == 5 || id == 6 || id == 7 || id == 9 || id == 11) && type == SL_PQ_TT_I64) {
            int64_t *f = id == 5   ? &c->num_values
                         : id == 6 ? &c->total_uncompressed
                         : id == 7 ? &c->total_compressed
                         : id == 9 ? &c->data_page_offset
                                   : &c->dictionary_page_offset;
            TRY(sl_pq_trd_i64(t, f));
            seen |= 1u << id;
            continue;
        }
        if (id == 12 && type == SL_PQ_TT_STRUCT) {
            sl_err_t rc = dec_stats(t, &c->stats);
            if (rc) return sl_error_prefix(t->err, "statistics");
            c->has_stats = 1;
            continue;
        }
    });
    static const struct {
        int id;
        const char *name;
    } req[] = {
        {1, "type (1)"},       {3, "path_in_schema (3)"},        {4, "codec (4)"},
        {5, "num_values (5)"}, {7, "total_compressed_size (7)"}, {9, "data_page_offset (9)"}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!(seen & (1u << req[i].id))) return sl_pq_trd_missing(t, "ColumnMetaData", req[i].name);
    return SL_OK;
}

static sl_err_t dec_column_chunk(sl_pq_trd *t, sl_pq_column_meta *c)
{
    int have_meta = 0;
    const char *file_path = NULL;
    STRUCT_LOOP(t, {
        if (id == 1 && type == SL_PQ_TT_BINARY) {
            TRY(sl_pq_trd_str(t, &file_path));
            continue;
        }
        if (id == 3 && type == SL_PQ_TT_STRUCT) {
            sl_err_t rc = dec_column_meta(t, c);
            if (rc) return sl_error_prefix(t->err, "meta_data");
            have_meta = 1;
            continue;
        }
    });
    if (file_path && file_path[0])
        return sl_error_set(t->err, SL_ERR_UNSUPPORTED,
                            "column chunk data is in another file (file_path \"%.200s\"); sluice "
                            "reads single-file Parquet only",
                            file_path);
    if (!have_meta)
        return sl_error_set(t->err, SL_ERR_UNSUPPORTED,
                            "column chunk has no meta_data (an encrypted column?); sluice does "
                            "not read encrypted Parquet");
    return SL_OK;
}

/* ---- RowGroup, KeyValue, FileMetaData ---- */

static sl_err_t dec_row_group(sl_pq_trd *t, sl_pq_row_group *rg)
{
    int have_rows = 0;
    rg->file_offset = rg->total_compressed = -1;
    rg->ordinal = -1;
    STRUCT_LOOP(t, {
        if (id == 1 && type == SL_PQ_TT_LIST) {
            int et;
            int32_t cnt;
            TRY(sl_pq_trd_list(t, &et, &cnt));
            if (cnt && et != SL_PQ_TT_STRUCT)
                return sl_pq_trd_bad(t, "columns: list of structs expected");
            TRY(sl_pq_trd_alloc(t, (size_t)cnt * sizeof *rg->columns, (void **)&rg->columns));
            rg->n_columns = cnt;
            for (int32_t i = 0; i < cnt; i++) {
                sl_err_t rc = dec_column_chunk(t, &rg->columns[i]);
                if (rc) return sl_error_prefix(t->err, "columns[%d]", (int)i);
            }
            continue;
        }
        if ((id == 2 || id == 3 || id == 5 || id == 6) && type == SL_PQ_TT_I64) {
            int64_t *f = id == 2   ? &rg->total_byte_size
                         : id == 3 ? &rg->num_rows
                         : id == 5 ? &rg->file_offset
                                   : &rg->total_compressed;
            TRY(sl_pq_trd_i64(t, f));
            have_rows |= id == 3;
            continue;
        }
        if (id == 7 && type == SL_PQ_TT_I16) {
            TRY(sl_pq_trd_i32(t, &rg->ordinal));
            continue;
        }
    });
    if (!have_rows) return sl_pq_trd_missing(t, "RowGroup", "num_rows (3)");
    return SL_OK;
}

static sl_err_t dec_kv(sl_pq_trd *t, sl_pq_kv *kv)
{
    STRUCT_LOOP(t, {
        if ((id == 1 || id == 2) && type == SL_PQ_TT_BINARY) {
            TRY(sl_pq_trd_str(t, id == 1 ? &kv->key : &kv->value));
            continue;
        }
    });
    if (!kv->key) return sl_pq_trd_missing(t, "KeyValue", "key (1)");
    return SL_OK;
}

/* A list of structs, decoded by fn into an arena array of elem_size each. */
static sl_err_t dec_struct_list(sl_pq_trd *t, size_t elem_size, void **out, int32_t *n,
                                const char *name, sl_err_t (*fn)(sl_pq_trd *, void *))
{
    int et;
    int32_t cnt;
    TRY(sl_pq_trd_list(t, &et, &cnt));
    if (cnt && et != SL_PQ_TT_STRUCT) return sl_pq_trd_bad(t, "list of structs expected");
    TRY(sl_pq_trd_alloc(t, (size_t)cnt * elem_size, out));
    *n = cnt;
    for (int32_t i = 0; i < cnt; i++) {
        sl_err_t rc = fn(t, (char *)*out + (size_t)i * elem_size);
        if (rc) return sl_error_prefix(t->err, "%s[%d]", name, (int)i);
    }
    return SL_OK;
}

static sl_err_t dec_schema_elem_v(sl_pq_trd *t, void *e)
{
    return dec_schema_elem(t, e);
}
static sl_err_t dec_row_group_v(sl_pq_trd *t, void *e)
{
    return dec_row_group(t, e);
}
static sl_err_t dec_kv_v(sl_pq_trd *t, void *e)
{
    return dec_kv(t, e);
}

/* ColumnOrder is a union of empty structs: keep which member is set. */
static sl_err_t dec_column_order(sl_pq_trd *t, int32_t *which)
{
    STRUCT_LOOP(t, {
        if (type == SL_PQ_TT_STRUCT) {
            *which = id;
            TRY(sl_pq_trd_skip(t, SL_PQ_TT_STRUCT, 0));
            continue;
        }
    });
    return SL_OK;
}

static sl_err_t dec_column_orders(sl_pq_trd *t, sl_pq_file_meta *m)
{
    int et;
    int32_t cnt;
    int32_t *orders;
    TRY(sl_pq_trd_list(t, &et, &cnt));
    if (cnt && et != SL_PQ_TT_STRUCT)
        return sl_pq_trd_bad(t, "column_orders: list of structs expected");
    TRY(sl_pq_trd_alloc(t, (size_t)cnt * sizeof *orders, (void **)&orders));
    for (int32_t i = 0; i < cnt; i++) {
        sl_err_t rc = dec_column_order(t, &orders[i]);
        if (rc) return sl_error_prefix(t->err, "column_orders[%d]", (int)i);
    }
    m->column_orders = orders;
    m->n_column_orders = cnt;
    return SL_OK;
}

static sl_err_t dec_file_meta(sl_pq_trd *t, sl_pq_file_meta *m)
{
    int have_rows = 0, have_schema = 0;
    STRUCT_LOOP(t, {
        if (id == 1 && type == SL_PQ_TT_I32) {
            TRY(sl_pq_trd_i32(t, &m->version));
            continue;
        }
        if (id == 2 && type == SL_PQ_TT_LIST) {
            TRY(dec_struct_list(t, sizeof *m->schema, (void **)&m->schema, &m->n_schema, "schema",
                                dec_schema_elem_v));
            have_schema = 1;
            continue;
        }
        if (id == 3 && type == SL_PQ_TT_I64) {
            TRY(sl_pq_trd_i64(t, &m->num_rows));
            have_rows = 1;
            continue;
        }
        if (id == 4 && type == SL_PQ_TT_LIST) {
            TRY(dec_struct_list(t, sizeof *m->row_groups, (void **)&m->row_groups, &m->n_row_groups,
                                "row_groups", dec_row_group_v));
            continue;
        }
        if (id == 5 && type == SL_PQ_TT_LIST) {
            TRY(dec_struct_list(t, sizeof *m->kv, (void **)&m->kv, &m->n_kv, "key_value_metadata",
                                dec_kv_v));
            continue;
        }
        if (id == 6 && type == SL_PQ_TT_BINARY) {
            TRY(sl_pq_trd_str(t, &m->created_by));
            continue;
        }
        if (id == 7 && type == SL_PQ_TT_LIST) {
            TRY(dec_column_orders(t, m));
            continue;
        }
    });
    if (!have_schema || m->n_schema < 1) return sl_pq_trd_missing(t, "FileMetaData", "schema (2)");
    if (!have_rows) return sl_pq_trd_missing(t, "FileMetaData", "num_rows (3)");
    return SL_OK;
}

sl_err_t sl_pq_meta_decode(sl_pq_file_meta *m, const uint8_t *data, size_t len, sl_error *err)
{
    memset(m, 0, sizeof *m);
    size_t cap = len > (SIZE_MAX - ((size_t)1 << 20)) / SL_PQ_ARENA_RATIO
                     ? SIZE_MAX
                     : len * SL_PQ_ARENA_RATIO + ((size_t)1 << 20);
    sl_pq_arena *a = sl_pq_arena_new(cap);
    if (!a) return sl_error_set(err, SL_ERR_NOMEM, "out of memory decoding Parquet metadata");
    m->arena = a;
    sl_pq_trd t = {.p = data, .end = data + len, .base = data, .a = a, .err = err};
    sl_err_t rc = dec_file_meta(&t, m);
    if (rc) {
        sl_error_prefix(err, "FileMetaData");
        sl_pq_meta_free(m);
        return rc;
    }
    return SL_OK;
}

void sl_pq_meta_free(sl_pq_file_meta *m)
{
    if (!m) return;
    sl_pq_arena_free(m->arena);
    memset(m, 0, sizeof *m);
}

/* ---- PageHeader ---- */

static sl_err_t dec_data_page_v1(sl_pq_trd *t, sl_pq_page_header *h)
{
    unsigned seen = 0;
    STRUCT_LOOP(t, {
        if (id >= 1 && id <= 4 && type == SL_PQ_TT_I32) {
            int32_t *f = id == 1   ? &h->num_values
                         : id == 2 ? &h->encoding
                         : id == 3 ? &h->def_encoding
                                   : &h->rep_encoding;
            TRY(sl_pq_trd_i32(t, f));
            seen |= 1u << id;
            continue;
        }
        if (id == 5 && type == SL_PQ_TT_STRUCT) {
            TRY(dec_stats(t, &h->stats));
            h->has_stats = 1;
            continue;
        }
    });
    if ((seen & 0x1e) != 0x1e)
        return sl_pq_trd_missing(t, "DataPageHeader", "num_values/encoding/level encodings (1-4)");
    return SL_OK;
}

static sl_err_t dec_data_page_v2(sl_pq_trd *t, sl_pq_page_header *h)
{
    unsigned seen = 0;
    STRUCT_LOOP(t, {
        if (id >= 1 && id <= 6 && type == SL_PQ_TT_I32) {
            int32_t *f = id == 1   ? &h->num_values
                         : id == 2 ? &h->num_nulls
                         : id == 3 ? &h->num_rows
                         : id == 4 ? &h->encoding
                         : id == 5 ? &h->def_len
                                   : &h->rep_len;
            TRY(sl_pq_trd_i32(t, f));
            seen |= 1u << id;
            continue;
        }
        if (id == 7 && sl_pq_trd_is_bool(type)) {
            h->v2_compressed = sl_pq_trd_bool(type);
            continue;
        }
        if (id == 8 && type == SL_PQ_TT_STRUCT) {
            TRY(dec_stats(t, &h->stats));
            h->has_stats = 1;
            continue;
        }
    });
    if ((seen & 0x7e) != 0x7e) return sl_pq_trd_missing(t, "DataPageHeaderV2", "fields 1-6");
    if (h->def_len < 0 || h->rep_len < 0 || h->num_nulls < 0 || h->num_rows < 0)
        return sl_pq_trd_bad(t, "DataPageHeaderV2: negative length or count");
    return SL_OK;
}

static sl_err_t dec_dict_page(sl_pq_trd *t, sl_pq_page_header *h)
{
    unsigned seen = 0;
    STRUCT_LOOP(t, {
        if ((id == 1 || id == 2) && type == SL_PQ_TT_I32) {
            TRY(sl_pq_trd_i32(t, id == 1 ? &h->num_values : &h->encoding));
            seen |= 1u << id;
            continue;
        }
    });
    if ((seen & 6) != 6)
        return sl_pq_trd_missing(t, "DictionaryPageHeader", "num_values/encoding (1, 2)");
    return SL_OK;
}

static sl_err_t dec_page_header(sl_pq_trd *t, sl_pq_page_header *h)
{
    unsigned seen = 0;
    int sub = -1;
    STRUCT_LOOP(t, {
        if (id >= 1 && id <= 3 && type == SL_PQ_TT_I32) {
            int32_t *f = id == 1 ? &h->type : id == 2 ? &h->uncompressed_size : &h->compressed_size;
            TRY(sl_pq_trd_i32(t, f));
            seen |= 1u << id;
            continue;
        }
        if ((id == 5 || id == 7 || id == 8) && type == SL_PQ_TT_STRUCT) {
            sl_err_t rc = id == 5   ? dec_data_page_v1(t, h)
                          : id == 7 ? dec_dict_page(t, h)
                                    : dec_data_page_v2(t, h);
            if (rc) return rc;
            sub = id;
            continue;
        }
    });
    if ((seen & 0xe) != 0xe) return sl_pq_trd_missing(t, "PageHeader", "type/sizes (1-3)");
    if (h->uncompressed_size < 0 || h->compressed_size < 0)
        return sl_pq_trd_bad(t, "PageHeader: negative page size");
    if ((h->type == SL_PQ_PAGE_DATA && sub != 5) ||
        (h->type == SL_PQ_PAGE_DICTIONARY && sub != 7) ||
        (h->type == SL_PQ_PAGE_DATA_V2 && sub != 8))
        return sl_pq_trd_missing(t, "PageHeader", "header struct for its page type");
    if (h->num_values < 0) return sl_pq_trd_bad(t, "PageHeader: negative num_values");
    return SL_OK;
}

sl_err_t sl_pq_page_header_decode(sl_pq_page_header *h, const uint8_t *data, size_t len,
                                  size_t *used, sl_error *err)
{
    memset(h, 0, sizeof *h);
    h->def_encoding = h->rep_encoding = -1;
    h->v2_compressed = 1;
    sl_pq_trd t = {.p = data, .end = data + len, .base = data, .err = err};
    sl_err_t rc = dec_page_header(&t, h);
    if (rc) return rc;
    *used = (size_t)(t.p - data);
    return SL_OK;
}
