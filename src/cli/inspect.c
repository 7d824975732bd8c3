/* inspect.c - `sluice inspect FILE.parquet [--json] [--rows N]`.
 *
 * Shows what a Parquet file holds, from its footer only (cheap on any file
 * size): size, created_by, row count, key-value metadata, the schema tree
 * (repetition, physical type, logical/converted type, field_id) and, per
 * row group and column chunk, encodings, codec, sizes, value count and the
 * statistics (min/max rendered per logical type: text for strings, exact
 * integers, floats, ISO-8601 for timestamps and dates; null count).
 *
 *   default   a human-readable report
 *   --json    the same facts as one JSON document (scripts and tests use it;
 *             the fields are listed in usage() below)
 *   --rows N  instead, the first N rows (or "all") as JSON lines in the
 *             canonical row form (core/rows_json.h), decoded by our reader
 *             one row group at a time
 *
 * The report is built in memory and written once; exit 0 on success, 1 with
 * a message naming the file for a missing, unreadable or corrupt file, 2 for
 * a usage error.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/base64.h"
#include "core/rows_json.h"
#include "formats/parquet/pq_reader.h"

typedef struct ins {
    sl_pq_reader r;
    sl_buf o;
    int json;
    sl_err_t rc; /* first output error (out of memory) */
} ins;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice inspect FILE.parquet [--json] [--rows N|all]\n"
            "\n"
            "Shows a Parquet file's size, created_by, row count, key-value metadata, schema\n"
            "tree, and per row group and column chunk: encodings, codec, sizes, values and\n"
            "statistics (min/max per logical type, null count).\n"
            "\n"
            "  --json        print the same as one JSON document:\n"
            "                {file, size, created_by, version, num_rows, key_value_metadata:\n"
            "                 [{key, value}], schema: {name, fields: [{name, repetition,\n"
            "                 type | fields, logical, converted_type, field_id, type_length}]},\n"
            "                 columns: [{path, type, logical, max_def, max_rep}],\n"
            "                 row_groups: [{index, num_rows, total_byte_size,\n"
            "                 total_compressed_size, file_offset, columns: [{path, type,\n"
            "                 encodings, codec, num_values, total_compressed_size,\n"
            "                 total_uncompressed_size, data_page_offset, dictionary_page_offset,\n"
            "                 statistics: {min, max, null_count, distinct_count, min_exact,\n"
            "                 max_exact}}]}]}\n"
            "  --rows N|all  print the first N rows (or all) as JSON lines instead: one object\n"
            "                per row, lists as arrays, maps as [{key, value}], 64-bit integers\n"
            "                exact, non-string byte arrays as base64, timestamps as integers\n"
            "  --help        this text\n");
}

/* ---- output helpers (errors are sticky in x->rc) ---- */

static void out(ins *x, const char *s, size_t n)
{
    if (!x->rc) x->rc = sl_buf_append(&x->o, s, n);
}

static void outs(ins *x, const char *s)
{
    out(x, s, strlen(s));
}

static void SL_PRINTF(2, 3) outf(ins *x, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    out(x, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void jstr(ins *x, const char *s)
{
    if (!s)
        outs(x, "null");
    else if (!x->rc)
        x->rc = sl_json_put_str(&x->o, s, strlen(s));
}

/* Text output of file-provided names: no control characters. */
static void tstr(ins *x, const char *s, size_t max)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < max; i++) {
        char c = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        out(x, &c, 1);
    }
    if (n > max) outs(x, "...");
}

/* ---- names ---- */

static const char *ptype_name(int t)
{
    static const char *n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                              "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t <= 7 ? n[t] : "?";
}

static const char *rep_name(int r)
{
    return r == SL_REQUIRED ? "REQUIRED" : r == SL_OPTIONAL ? "OPTIONAL" : "REPEATED";
}

static const char *enc_name(int e)
{
    static const char *n[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e <= 9 ? n[e] : "?";
}

static const char *codec_name(int c)
{
    static const char *n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                              "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return c >= 0 && c <= 7 ? n[c] : "?";
}

static const char *converted_name(int c)
{
    static const char *n[] = {"UTF8",
                              "MAP",
                              "MAP_KEY_VALUE",
                              "LIST",
                              "ENUM",
                              "DECIMAL",
                              "DATE",
                              "TIME_MILLIS",
                              "TIME_MICROS",
                              "TIMESTAMP_MILLIS",
                              "TIMESTAMP_MICROS",
                              "UINT_8",
                              "UINT_16",
                              "UINT_32",
                              "UINT_64",
                              "INT_8",
                              "INT_16",
                              "INT_32",
                              "INT_64",
                              "JSON",
                              "BSON",
                              "INTERVAL"};
    return c >= 0 && c <= 21 ? n[c] : NULL;
}

/* LogicalType as text ("TIMESTAMP(MICROS,true)"), or NULL if absent. */
static const char *logical_name(const sl_pq_schema_elem *e, char *buf, size_t cap)
{
    static const char *units[] = {"MILLIS", "MICROS", "NANOS"};
    switch (e->logical) {
    case 0:
        return NULL;
    case 1:
        return "STRING";
    case 2:
        return "MAP";
    case 3:
        return "LIST";
    case 4:
        return "ENUM";
    case 5:
        return "DECIMAL";
    case 6:
        return "DATE";
    case 7:
        return "TIME";
    case 8:
        snprintf(buf, cap, "TIMESTAMP(%s,%s)",
                 e->ts_unit >= 0 && e->ts_unit <= 2 ? units[e->ts_unit] : "?",
                 e->ts_utc ? "true" : "false");
        return buf;
    case 10:
        snprintf(buf, cap, "INTEGER(%d,%s)", e->int_bits, e->int_signed ? "true" : "false");
        return buf;
    case 11:
        return "UNKNOWN";
    case 12:
        return "JSON";
    case 13:
        return "BSON";
    case 14:
        return "UUID";
    case 15:
        return "FLOAT16";
    case 16:
        return "VARIANT";
    case 17:
        return "GEOMETRY";
    case 18:
        return "GEOGRAPHY";
    default:
        snprintf(buf, cap, "LOGICAL(%d)", (int)e->logical);
        return buf;
    }
}

/* ---- statistics values ---- */

enum { V_RAW, V_BOOL, V_INT, V_UINT, V_FLOAT, V_TS, V_DATE, V_STR };

/* How a leaf's values are shown: from its LogicalType, else ConvertedType. */
static int value_kind(const sl_pq_schema_elem *e, int *unit, int *utc)
{
    int ct = e->converted_type, lt = e->logical;
    *unit = 1;
    *utc = 1;
    switch (e->type) {
    case SL_PT_BOOLEAN:
        return V_BOOL;
    case SL_PT_FLOAT:
    case SL_PT_DOUBLE:
        return V_FLOAT;
    case SL_PT_INT32:
        if (lt == 6 || (!lt && ct == 6)) return V_DATE;
        if ((lt == 10 && !e->int_signed) ||
            (!lt && ct >= SL_PQ_CT_UINT_8 && ct <= SL_PQ_CT_UINT_64))
            return V_UINT;
        return V_INT;
    case SL_PT_INT64:
        if (lt == 8) {
            *unit = e->ts_unit;
            *utc = e->ts_utc;
            return V_TS;
        }
        if (!lt && (ct == SL_PQ_CT_TIMESTAMP_MILLIS || ct == SL_PQ_CT_TIMESTAMP_MICROS)) {
            *unit = ct == SL_PQ_CT_TIMESTAMP_MILLIS ? 0 : 1;
            return V_TS;
        }
        if ((lt == 10 && !e->int_signed) || (!lt && ct == SL_PQ_CT_UINT_64)) return V_UINT;
        return V_INT;
    case SL_PT_BYTE_ARRAY:
        if (lt == 1 || lt == 4 || lt == 12 || (!lt && (ct == 0 || ct == 4 || ct == 19)))
            return V_STR;
        return V_RAW;
    default:
        return V_RAW;
    }
}

/* ISO-8601 of v units (0 ms, 1 us, 2 ns) since the epoch; NULL if out of
 * range for the C library. */
static const char *iso_time(int64_t v, int unit, int utc, int date_only, char *buf, size_t cap)
{
    static const int64_t per_sec[] = {1000, 1000000, 1000000000};
    int64_t ps = date_only ? 1 : per_sec[unit >= 0 && unit <= 2 ? unit : 1];
    int64_t secs = v / ps, frac = v % ps;
    if (frac < 0) {
        frac += ps;
        secs--;
    }
    if (date_only) {
        if (v > INT64_MAX / 86400 || v < INT64_MIN / 86400) return NULL;
        secs = v * 86400;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return NULL;
    size_t n = strftime(buf, cap, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%S", &tm);
    if (!n) return NULL;
    if (!date_only && frac) {
        int digits = unit == 0 ? 3 : unit == 2 ? 9 : 6;
        n += (size_t)snprintf(buf + n, cap - n, ".%0*" PRId64, digits, frac);
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
    }
    if (!date_only && utc && n + 2 <= cap) {
        buf[n++] = 'Z';
        buf[n] = '\0';
    }
    return buf;
}

static size_t want_width(const sl_pq_schema_elem *e)
{
    return sl_ptype_width(e->type, e->type_length);
}

/* One min or max value, as JSON or text. */
static void put_stat(ins *x, const sl_pq_schema_elem *e, const sl_pq_bytes *b)
{
    char tmp[96];
    int unit, utc, kind = value_kind(e, &unit, &utc);
    size_t w = want_width(e);
    if (w && b->len != w) kind = V_RAW; /* malformed bound: show its bytes */
    int64_t i64 = 0;
    if (w == 4) {
        int32_t v;
        memcpy(&v, b->p, 4);
        i64 = v;
    } else if (w == 8) {
        memcpy(&i64, b->p, 8);
    }
    switch (kind) {
    case V_BOOL:
        outs(x, b->p[0] ? "true" : "false");
        return;
    case V_INT:
        outf(x, "%" PRId64, i64);
        return;
    case V_UINT:
        outf(x, "%" PRIu64, w == 4 ? (uint64_t)(uint32_t)i64 : (uint64_t)i64);
        return;
    case V_FLOAT: {
        double d;
        if (w == 4) {
            float f;
            memcpy(&f, b->p, 4);
            d = f;
        } else {
            memcpy(&d, b->p, 8);
        }
        sl_buf t = SL_BUF_INIT;
        if (sl_json_put_double(&t, d, w == 4))
            x->rc = SL_ERR_NOMEM;
        else if (!x->json && t.len && t.p[0] == '"')
            out(x, (char *)t.p + 1, t.len - 2);
        else
            out(x, (char *)t.p, t.len);
        sl_buf_free(&t);
        return;
    }
    case V_TS:
    case V_DATE: {
        const char *s = iso_time(i64, unit, utc, kind == V_DATE, tmp, sizeof tmp);
        if (!s)
            outf(x, "%" PRId64, i64);
        else if (x->json)
            jstr(x, s);
        else
            outs(x, s);
        return;
    }
    case V_STR:
        if (x->json) {
            if (!x->rc) x->rc = sl_json_put_str(&x->o, b->p, b->len);
        } else {
            outs(x, "\"");
            for (uint32_t i = 0; i < b->len && i < 64; i++) {
                char c = b->p[i] < 0x20 || b->p[i] == 0x7f ? '?' : (char)b->p[i];
                out(x, &c, 1);
            }
            outs(x, b->len > 64 ? "\"..." : "\"");
        }
        return;
    default:
        if (x->json) {
            outs(x, "\"");
            if (!x->rc) x->rc = sl_base64_encode(b->p, b->len, &x->o);
            outs(x, "\"");
        } else {
            outs(x, "0x");
            for (uint32_t i = 0; i < b->len && i < 32; i++)
                outf(x, "%02x", b->p[i]);
            if (b->len > 32) outs(x, "...");
        }
        return;
    }
}

/* ---- the report ---- */

static const sl_pq_schema_elem *leaf_elem(const sl_pq_reader *r, int32_t leaf)
{
    return &r->meta.schema[r->schema.leaves[leaf]];
}

static void schema_text(ins *x, int32_t node, int indent)
{
    static const char *text_type[] = {"boolean", "int32",  "int64",  "int96",
                                      "float",   "double", "binary", "fixed_len_byte_array"};
    const sl_schema *s = &x->r.schema;
    const sl_node *n = &s->nodes[node];
    const sl_pq_schema_elem *e = &x->r.meta.schema[node];
    char lb[64];
    outf(x, "%*s", indent, "");
    if (node == 0) {
        outs(x, "message ");
        tstr(x, n->name, 200);
    } else {
        outs(x, n->rep == SL_REQUIRED   ? "required "
                : n->rep == SL_OPTIONAL ? "optional "
                                        : "repeated ");
        if (n->is_group)
            outs(x, "group ");
        else if (n->ptype == SL_PT_FIXED_LEN_BYTE_ARRAY)
            outf(x, "fixed_len_byte_array(%d) ", (int)n->type_length);
        else
            outf(x, "%s ", text_type[n->ptype < 8 ? n->ptype : 0]);
        tstr(x, n->name, 200);
        const char *l = logical_name(e, lb, sizeof lb);
        const char *ct = converted_name(e->converted_type);
        if (l || ct) outf(x, " (%s)", l ? l : ct);
        if (n->field_id >= 0) outf(x, " = %d", (int)n->field_id);
    }
    if (!n->is_group) {
        outs(x, ";\n");
        return;
    }
    outs(x, " {\n");
    for (int32_t i = 0; i < n->n_children; i++)
        schema_text(x, n->children[i], indent + 2);
    outf(x, "%*s}\n", indent, "");
}

static void schema_json(ins *x, int32_t node)
{
    const sl_schema *s = &x->r.schema;
    const sl_node *n = &s->nodes[node];
    const sl_pq_schema_elem *e = &x->r.meta.schema[node];
    char lb[64];
    outs(x, "{\"name\":");
    jstr(x, n->name);
    if (node > 0) outf(x, ",\"repetition\":\"%s\"", rep_name(n->rep));
    if (!n->is_group) outf(x, ",\"type\":\"%s\"", ptype_name(n->ptype));
    if (n->ptype == SL_PT_FIXED_LEN_BYTE_ARRAY && !n->is_group)
        outf(x, ",\"type_length\":%d", (int)n->type_length);
    outs(x, ",\"logical\":");
    jstr(x, logical_name(e, lb, sizeof lb));
    outs(x, ",\"converted_type\":");
    jstr(x, converted_name(e->converted_type));
    if (n->field_id >= 0) outf(x, ",\"field_id\":%d", (int)n->field_id);
    if (n->is_group) {
        outs(x, ",\"fields\":[");
        for (int32_t i = 0; i < n->n_children; i++) {
            if (i) outs(x, ",");
            schema_json(x, n->children[i]);
        }
        outs(x, "]");
    }
    outs(x, "}");
}

static void chunk_path(ins *x, const sl_pq_column_meta *cm)
{
    sl_buf p = SL_BUF_INIT;
    for (int32_t k = 0; k < cm->n_path && !x->rc; k++) {
        if (k) x->rc = sl_buf_put_u8(&p, '.');
        if (!x->rc) x->rc = sl_buf_append(&p, cm->path[k], strlen(cm->path[k]));
    }
    if (!x->rc) x->rc = sl_buf_put_u8(&p, 0);
    if (!x->rc) {
        if (x->json)
            jstr(x, (char *)p.p);
        else
            tstr(x, (char *)p.p, 300);
    }
    sl_buf_free(&p);
}

static void chunk_json(ins *x, int32_t leaf, const sl_pq_column_meta *cm)
{
    const sl_pq_schema_elem *e = leaf_elem(&x->r, leaf);
    outs(x, "{\"path\":");
    chunk_path(x, cm);
    outf(x, ",\"type\":\"%s\",\"encodings\":[", ptype_name(cm->type));
    for (int32_t k = 0; k < cm->n_encodings; k++)
        outf(x, "%s\"%s\"", k ? "," : "", enc_name(cm->encodings[k]));
    outf(x,
         "],\"codec\":\"%s\",\"num_values\":%" PRId64 ",\"total_compressed_size\":%" PRId64
         ",\"total_uncompressed_size\":%" PRId64 ",\"data_page_offset\":%" PRId64,
         codec_name(cm->codec), cm->num_values, cm->total_compressed, cm->total_uncompressed,
         cm->data_page_offset);
    if (cm->dictionary_page_offset >= 0)
        outf(x, ",\"dictionary_page_offset\":%" PRId64, cm->dictionary_page_offset);
    if (cm->has_stats) {
        const sl_pq_stats *st = &cm->stats;
        outs(x, ",\"statistics\":{\"min\":");
        if (st->min_value.set)
            put_stat(x, e, &st->min_value);
        else
            outs(x, "null");
        outs(x, ",\"max\":");
        if (st->max_value.set)
            put_stat(x, e, &st->max_value);
        else
            outs(x, "null");
        if (st->null_count >= 0) outf(x, ",\"null_count\":%" PRId64, st->null_count);
        if (st->distinct_count >= 0) outf(x, ",\"distinct_count\":%" PRId64, st->distinct_count);
        if (st->is_min_exact >= 0)
            outf(x, ",\"min_exact\":%s", st->is_min_exact ? "true" : "false");
        if (st->is_max_exact >= 0)
            outf(x, ",\"max_exact\":%s", st->is_max_exact ? "true" : "false");
        outs(x, "}");
    }
    outs(x, "}");
}

static void chunk_text(ins *x, int32_t leaf, const sl_pq_column_meta *cm)
{
    const sl_pq_schema_elem *e = leaf_elem(&x->r, leaf);
    outs(x, "  column ");
    chunk_path(x, cm);
    outf(x, " (%s)\n    encodings: ", ptype_name(cm->type));
    for (int32_t k = 0; k < cm->n_encodings; k++)
        outf(x, "%s%s", k ? "," : "", enc_name(cm->encodings[k]));
    outf(x,
         "  codec: %s  values: %" PRId64 "  size: %" PRId64 " compressed / %" PRId64
         " uncompressed\n",
         codec_name(cm->codec), cm->num_values, cm->total_compressed, cm->total_uncompressed);
    if (!cm->has_stats) {
        outs(x, "    statistics: none\n");
        return;
    }
    const sl_pq_stats *st = &cm->stats;
    outs(x, "    min: ");
    if (st->min_value.set)
        put_stat(x, e, &st->min_value);
    else
        outs(x, "-");
    outs(x, "  max: ");
    if (st->max_value.set)
        put_stat(x, e, &st->max_value);
    else
        outs(x, "-");
    if (st->null_count >= 0) outf(x, "  nulls: %" PRId64, st->null_count);
    if (st->is_min_exact == 0 || st->is_max_exact == 0) outs(x, "  (bounds inexact)");
    outs(x, "\n");
}

static void report(ins *x, const char *file)
{
    const sl_pq_file_meta *m = &x->r.meta;
    const sl_schema *s = &x->r.schema;
    if (x->json) {
        outs(x, "{\"file\":");
        jstr(x, file);
        outf(x, ",\"size\":%zu,\"created_by\":", x->r.len);
        jstr(x, m->created_by);
        outf(x, ",\"version\":%d,\"num_rows\":%" PRId64 ",\"key_value_metadata\":[",
             (int)m->version, m->num_rows);
        for (int32_t i = 0; i < m->n_kv; i++) {
            outs(x, i ? ",{\"key\":" : "{\"key\":");
            jstr(x, m->kv[i].key);
            outs(x, ",\"value\":");
            jstr(x, m->kv[i].value);
            outs(x, "}");
        }
        outs(x, "],\"schema\":");
        schema_json(x, 0);
        outs(x, ",\"columns\":[");
        char path[1024], lb[64];
        for (int32_t i = 0; i < s->n_leaves; i++) {
            const sl_node *n = sl_schema_leaf(s, i);
            const sl_pq_schema_elem *e = leaf_elem(&x->r, i);
            outs(x, i ? ",{\"path\":" : "{\"path\":");
            jstr(x, sl_schema_path(s, s->leaves[i], path, sizeof path));
            outf(x, ",\"type\":\"%s\",\"logical\":", ptype_name(n->ptype));
            const char *l = logical_name(e, lb, sizeof lb);
            jstr(x, l ? l : converted_name(e->converted_type));
            outf(x, ",\"max_def\":%d,\"max_rep\":%d}", n->max_def, n->max_rep);
        }
        outs(x, "],\"row_groups\":[");
        for (int32_t g = 0; g < m->n_row_groups; g++) {
            const sl_pq_row_group *rg = &m->row_groups[g];
            outf(x,
                 "%s{\"index\":%d,\"num_rows\":%" PRId64 ",\"total_byte_size\":%" PRId64
                 ",\"total_compressed_size\":%" PRId64 ",\"file_offset\":%" PRId64 ",\"columns\":[",
                 g ? "," : "", (int)g, rg->num_rows, rg->total_byte_size, rg->total_compressed,
                 rg->file_offset);
            for (int32_t c = 0; c < rg->n_columns; c++) {
                if (c) outs(x, ",");
                chunk_json(x, c, &rg->columns[c]);
            }
            outs(x, "]}");
        }
        outs(x, "]}\n");
        return;
    }
    outs(x, "file:        ");
    tstr(x, file, 4096);
    outf(x, "\nsize:        %zu bytes\ncreated_by:  ", x->r.len);
    tstr(x, m->created_by ? m->created_by : "-", 300);
    outf(x, "\nversion:     %d\nrows:        %" PRId64 "\nrow groups:  %d\ncolumns:     %d\n",
         (int)m->version, m->num_rows, (int)m->n_row_groups, (int)s->n_leaves);
    if (m->n_kv) outs(x, "key-value metadata:\n");
    for (int32_t i = 0; i < m->n_kv; i++) {
        outs(x, "  ");
        tstr(x, m->kv[i].key, 200);
        outs(x, " = ");
        tstr(x, m->kv[i].value ? m->kv[i].value : "(null)", 200);
        outs(x, "\n");
    }
    outs(x, "schema:\n");
    schema_text(x, 0, 2);
    for (int32_t g = 0; g < m->n_row_groups; g++) {
        const sl_pq_row_group *rg = &m->row_groups[g];
        outf(x, "row group %d: %" PRId64 " rows, %" PRId64 " bytes uncompressed", (int)g,
             rg->num_rows, rg->total_byte_size);
        if (rg->total_compressed >= 0) outf(x, ", %" PRId64 " compressed", rg->total_compressed);
        outs(x, "\n");
        for (int32_t c = 0; c < rg->n_columns; c++)
            chunk_text(x, c, &rg->columns[c]);
    }
}

/* ---- --rows ---- */

static int dump_rows(ins *x, const char *file, uint64_t limit)
{
    sl_batch b;
    sl_error err;
    sl_rows_json *rj = NULL;
    uint64_t done = 0;
    int status = 0;
    if (sl_batch_init(&b, &x->r.schema)) {
        fprintf(stderr, "sluice inspect: out of memory\n");
        return 1;
    }
    for (int32_t g = 0; g < x->r.meta.n_row_groups && done < limit && !status; g++) {
        sl_batch_reset(&b);
        sl_err_t rc = sl_pq_reader_read_row_group(&x->r, g, &b, &err);
        if (!rc && (rc = sl_rows_json_new(&rj, &b)))
            sl_error_set(&err, rc, "%s: row group %d: columns do not assemble into rows (%s)", file,
                         (int)g, sl_err_text(rc));
        for (size_t row = 0; !rc && row < b.nrows && done < limit; row++, done++) {
            sl_buf_reset(&x->o);
            rc = sl_rows_json_row(rj, row, &x->o);
            if (!rc) rc = sl_buf_put_u8(&x->o, '\n');
            if (rc)
                sl_error_set(&err, rc, "%s: row group %d, row %zu: %s", file, (int)g, row,
                             sl_err_text(rc));
            else if (fwrite(x->o.p, 1, x->o.len, stdout) != x->o.len)
                rc = sl_error_set(&err, SL_ERR_IO, "writing to standard output failed");
        }
        sl_rows_json_free(rj);
        rj = NULL;
        if (rc) {
            fprintf(stderr, "sluice inspect: %s\n", err.msg);
            status = 1;
        }
    }
    sl_batch_free(&b);
    if (fflush(stdout) && !status) {
        fprintf(stderr, "sluice inspect: writing to standard output failed\n");
        status = 1;
    }
    return status;
}

int sl_cmd_inspect(int argc, char **argv)
{
    ins x;
    memset(&x, 0, sizeof x);
    const char *file = NULL;
    uint64_t rows = 0;
    int want_rows = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            x.json = 1;
        } else if (!strcmp(argv[i], "--rows")) {
            char *end;
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice inspect: --rows needs a count (N or all)\n");
                return 2;
            }
            i++;
            want_rows = 1;
            if (!strcmp(argv[i], "all")) {
                rows = UINT64_MAX;
            } else {
                rows = strtoull(argv[i], &end, 10);
                if (*end || !*argv[i] || argv[i][0] == '-') {
                    fprintf(stderr, "sluice inspect: bad --rows '%s' (a count, or all)\n", argv[i]);
                    return 2;
                }
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "sluice inspect: unknown option '%s' (see sluice inspect --help)\n",
                    argv[i]);
            return 2;
        } else if (file) {
            fprintf(stderr, "sluice inspect: one file at a time ('%s' and '%s')\n", file, argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    if (sl_pq_reader_open_file(&x.r, file, &err)) {
        fprintf(stderr, "sluice inspect: %s\n", err.msg);
        return 1;
    }
    int status = 0;
    if (want_rows) {
        status = dump_rows(&x, file, rows);
    } else {
        report(&x, file);
        if (x.rc) {
            fprintf(stderr, "sluice inspect: %s: %s\n", file, sl_err_text(x.rc));
            status = 1;
        } else if (fwrite(x.o.p, 1, x.o.len, stdout) != x.o.len || fflush(stdout)) {
            fprintf(stderr, "sluice inspect: writing to standard output failed\n");
            status = 1;
        }
    }
    sl_buf_free(&x.o);
    sl_pq_reader_close(&x.r);
    return status;
}
