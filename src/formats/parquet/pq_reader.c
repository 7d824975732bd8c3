/* pq_reader.c - the Parquet file reader: footer, schema, row groups.
 *
 * Layout read here: "PAR1", column chunks, footer (Thrift FileMetaData),
 * 4-byte footer length, "PAR1". Open checks both magics and the footer
 * length, decodes the footer (pq_meta_dec.c) and rebuilds an sl_schema from
 * the flattened, pre-order SchemaElement list. Reading a row group walks
 * each column chunk's pages from its first page (the dictionary page if
 * any), decompresses them (pq_codec.h), decodes levels and values
 * (pq_decode.c) straight into the batch's column builders.
 *
 * Invariants:
 *   - Every byte range from the file is checked against the data region
 *     [4, footer start) before it is touched; every count is checked
 *     against the bytes that must hold it or against the chunk's own
 *     metadata (page values <= chunk num_values; rows == row group rows).
 *   - Memory per read is bounded: decoded bytes by max_batch_bytes, one
 *     decompressed page by SL_PQ_MAX_PAGE_BYTES, the schema by its depth
 *     (SL_PQ_MAX_SCHEMA_DEPTH) and the footer by its size.
 *   - A failed read leaves the batch exactly as it was (builders are
 *     truncated back), so a caller can skip a bad row group.
 *
 * Costs: one pass over each page; PLAIN fixed-width values are one memcpy;
 * the decompression buffer and the dictionary are reused across pages and
 * row groups (one reader = one thread).
 *
 * Not done yet: column projection (compaction reads every column), page
 * indexes and bloom filters (no predicate pushdown yet), CRC checks, the
 * deprecated BIT_PACKED level encoding, LZO/BROTLI/LZ4 (framed) codecs,
 * encrypted files. Each is a clear SL_ERR_UNSUPPORTED, not a silent skip.
 */
#include "formats/parquet/pq_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/parquet/pq_codec.h"
#include "formats/parquet/pq_decode.h"

#define SL_PQ_MAX_SCHEMA_DEPTH 128
#define SL_PQ_MAX_PAGE_BYTES   ((size_t)1 << 30)
#define SL_PQ_MAX_FLBA_LENGTH  (1 << 20)

typedef struct rd_priv {
    sl_pq_codec_ctx *codec;
    sl_buf page; /* decompressed page */
    sl_pq_rd_dict dict;
    void *map; /* mmap of the file, when opened from a path */
    size_t map_len;
    char *path;
    size_t footer_off; /* data region is [4, footer_off) */
    size_t *mark;      /* per column: n, nvals, val.len before a read */
} rd_priv;

static const char *path_of(const sl_pq_reader *r)
{
    const rd_priv *p = r->priv;
    return p && p->path ? p->path : NULL;
}

/* ---- schema ---- */

static sl_logical map_logical(const sl_pq_schema_elem *e, int is_group)
{
    sl_logical lg = {0};
    switch (e->logical) {
    case 1:
        lg.kind = SL_LT_STRING;
        break;
    case 2:
        lg.kind = SL_LT_MAP;
        break;
    case 3:
        lg.kind = SL_LT_LIST;
        break;
    case 4:
        lg.kind = SL_LT_ENUM;
        break;
    case 8:
        lg.kind = SL_LT_TIMESTAMP;
        lg.unit = (uint8_t)(e->ts_unit >= 0 && e->ts_unit <= 2 ? e->ts_unit : 0);
        lg.utc = (uint8_t)(e->ts_utc != 0);
        break;
    case 10:
        lg.kind = SL_LT_INT;
        lg.bit_width = (uint8_t)e->int_bits;
        lg.is_signed = (uint8_t)(e->int_signed != 0);
        break;
    case 0: /* no LogicalType: the legacy ConvertedType */
        switch (e->converted_type) {
        case SL_PQ_CT_UTF8:
            lg.kind = SL_LT_STRING;
            break;
        case SL_PQ_CT_ENUM:
            lg.kind = SL_LT_ENUM;
            break;
        case SL_PQ_CT_LIST:
            lg.kind = SL_LT_LIST;
            break;
        case SL_PQ_CT_MAP:
            lg.kind = SL_LT_MAP;
            break;
        case SL_PQ_CT_TIMESTAMP_MILLIS:
        case SL_PQ_CT_TIMESTAMP_MICROS:
            lg.kind = SL_LT_TIMESTAMP;
            lg.unit = e->converted_type == SL_PQ_CT_TIMESTAMP_MILLIS ? SL_TU_MILLIS : SL_TU_MICROS;
            lg.utc = 1;
            break;
        case SL_PQ_CT_UINT_8:
        case SL_PQ_CT_UINT_16:
        case SL_PQ_CT_UINT_32:
        case SL_PQ_CT_UINT_64:
        case SL_PQ_CT_INT_8:
        case SL_PQ_CT_INT_16:
        case SL_PQ_CT_INT_32:
        case SL_PQ_CT_INT_64: {
            int k = e->converted_type - SL_PQ_CT_UINT_8;
            lg.kind = SL_LT_INT;
            lg.bit_width = (uint8_t)(8 << (k % 4));
            lg.is_signed = k >= 4;
            break;
        }
        default:
            break;
        }
        break;
    default:
        break; /* DECIMAL, DATE, TIME, UUID, JSON, ...: raw physical values */
    }
    /* Keep only annotations that fit the physical type, so every consumer
     * can trust them (a STRING INT32 would be nonsense). */
    int ok = 1;
    switch (lg.kind) {
    case SL_LT_STRING:
    case SL_LT_ENUM:
        ok = !is_group && e->type == SL_PT_BYTE_ARRAY;
        break;
    case SL_LT_INT:
        ok = !is_group && ((e->type == SL_PT_INT32 &&
                            (lg.bit_width == 8 || lg.bit_width == 16 || lg.bit_width == 32)) ||
                           (e->type == SL_PT_INT64 && lg.bit_width == 64));
        break;
    case SL_LT_TIMESTAMP:
        ok = !is_group && e->type == SL_PT_INT64;
        break;
    case SL_LT_LIST:
    case SL_LT_MAP:
        ok = is_group;
        break;
    default:
        break;
    }
    if (!ok) memset(&lg, 0, sizeof lg);
    return lg;
}

typedef struct frame {
    int32_t node, left;
} frame;

static sl_err_t build_schema(sl_pq_reader *r, sl_error *err)
{
    const sl_pq_schema_elem *el = r->meta.schema;
    int32_t n = r->meta.n_schema;
    frame stack[SL_PQ_MAX_SCHEMA_DEPTH];
    int sp = 0;
    if (el[0].num_children <= 0 || el[0].num_children > n - 1)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "schema: root \"%.100s\" has %d children but %d elements follow",
                            el[0].name, (int)el[0].num_children, (int)(n - 1));
    if (sl_schema_init(&r->schema, el[0].name))
        return sl_error_set(err, SL_ERR_NOMEM, "schema: out of memory");
    stack[sp++] = (frame){0, el[0].num_children};
    for (int32_t i = 1; i < n; i++) {
        const sl_pq_schema_elem *e = &el[i];
        if (sp == 0)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "schema: %d elements, but the root's tree ends after element %d",
                                (int)n, (int)(i - 1));
        int is_group = e->num_children > 0;
        if (e->num_children < 0 || e->num_children > n - 1 - i)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "schema element %d (\"%.100s\") claims %d children, %d elements "
                                "follow",
                                (int)i, e->name, (int)e->num_children, (int)(n - 1 - i));
        if (e->repetition > SL_REPEATED || e->repetition < -1)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "schema element %d (\"%.100s\"): bad repetition type %d", (int)i,
                                e->name, (int)e->repetition);
        if (!is_group && (e->type < SL_PT_BOOLEAN || e->type > SL_PT_FIXED_LEN_BYTE_ARRAY))
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "schema element %d (\"%.100s\") is a leaf without a valid "
                                "physical type (%d)",
                                (int)i, e->name, (int)e->type);
        if (!is_group && e->type == SL_PT_FIXED_LEN_BYTE_ARRAY &&
            (e->type_length <= 0 || e->type_length > SL_PQ_MAX_FLBA_LENGTH))
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "schema element %d (\"%.100s\"): FIXED_LEN_BYTE_ARRAY length %d",
                                (int)i, e->name, (int)e->type_length);
        sl_repetition_t rep = e->repetition < 0 ? SL_REQUIRED : (sl_repetition_t)e->repetition;
        int32_t idx = sl_schema_add(&r->schema, stack[sp - 1].node, e->name, rep, is_group,
                                    is_group ? 0 : (sl_ptype_t)e->type, map_logical(e, is_group),
                                    e->field_id);
        if (idx < 0)
            return sl_error_set(err, idx == SL_ERR_NOMEM ? SL_ERR_NOMEM : SL_ERR_CORRUPT,
                                "schema element %d (\"%.100s\"): %s", (int)i, e->name,
                                sl_err_text((sl_err_t)idx));
        if (!is_group && e->type == SL_PT_FIXED_LEN_BYTE_ARRAY)
            r->schema.nodes[idx].type_length = e->type_length;
        stack[sp - 1].left--;
        if (is_group) {
            if (sp == SL_PQ_MAX_SCHEMA_DEPTH)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "schema: groups nested deeper than %d at element %d",
                                    SL_PQ_MAX_SCHEMA_DEPTH, (int)i);
            stack[sp++] = (frame){idx, e->num_children};
        }
        while (sp > 0 && stack[sp - 1].left == 0)
            sp--;
    }
    if (sp)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "schema: the element list ends inside group \"%.100s\" (%d children "
                            "missing)",
                            r->schema.nodes[stack[sp - 1].node].name, (int)stack[sp - 1].left);
    sl_err_t rc = sl_schema_finish(&r->schema, err);
    if (rc) return rc;
    for (int32_t i = 0; i < r->meta.n_kv; i++) {
        const sl_pq_kv *kv = &r->meta.kv[i];
        if (kv->value && !strcmp(kv->key, "sluice.message")) {
            free(r->schema.message_name);
            if (!(r->schema.message_name = strdup(kv->value)))
                return sl_error_set(err, SL_ERR_NOMEM, "schema: out of memory");
        }
    }
    return SL_OK;
}

/* Every column chunk matches its schema leaf (type and path). */
static sl_err_t check_columns(sl_pq_reader *r, sl_error *err)
{
    const sl_schema *s = &r->schema;
    char path[512];
    for (int32_t g = 0; g < r->meta.n_row_groups; g++) {
        const sl_pq_row_group *rg = &r->meta.row_groups[g];
        if (rg->num_rows < 0)
            return sl_error_set(err, SL_ERR_CORRUPT, "row group %d: negative num_rows", (int)g);
        if (rg->n_columns != s->n_leaves)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "row group %d has %d column chunks, the schema %d columns", (int)g,
                                (int)rg->n_columns, (int)s->n_leaves);
        for (int32_t c = 0; c < rg->n_columns; c++) {
            const sl_pq_column_meta *cm = &rg->columns[c];
            const sl_node *leaf = sl_schema_leaf(s, c);
            sl_schema_path(s, s->leaves[c], path, sizeof path);
            if (cm->type != leaf->ptype)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "row group %d, column %s: chunk type %d, schema type %d",
                                    (int)g, path, (int)cm->type, (int)leaf->ptype);
            /* path_in_schema must name the leaf, from the root's child down. */
            int32_t depth = 0, ok = 1;
            for (int32_t a = s->leaves[c]; a > 0; a = s->nodes[a].parent)
                depth++;
            ok = depth == cm->n_path;
            for (int32_t a = s->leaves[c], k = cm->n_path - 1; ok && a > 0;
                 a = s->nodes[a].parent, k--)
                ok = !strcmp(s->nodes[a].name, cm->path[k]);
            if (!ok)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "row group %d: column chunk %d's path_in_schema does not "
                                    "match schema column %s",
                                    (int)g, (int)c, path);
            if (cm->num_values < 0 || cm->total_compressed < 0)
                return sl_error_set(err, SL_ERR_CORRUPT,
                                    "row group %d, column %s: negative num_values or size", (int)g,
                                    path);
        }
    }
    return SL_OK;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

sl_err_t sl_pq_reader_open_mem(sl_pq_reader *r, const uint8_t *data, size_t len, sl_error *err)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    rd_priv *p = calloc(1, sizeof *p);
    sl_err_t rc;
    if (!(r->priv = p)) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    if (len < 12) {
        rc = sl_error_set(err, SL_ERR_CORRUPT,
                          "not a Parquet file: %zu bytes, less than the 12 of an empty file", len);
        goto fail;
    }
    if (!memcmp(data + len - 4, "PARE", 4)) {
        rc = sl_error_set(err, SL_ERR_UNSUPPORTED,
                          "encrypted Parquet footer (PARE); sluice does not read encrypted files");
        goto fail;
    }
    if (memcmp(data, "PAR1", 4) || memcmp(data + len - 4, "PAR1", 4)) {
        rc = sl_error_set(err, SL_ERR_CORRUPT,
                          "not a Parquet file: no PAR1 magic at the %s (truncated or not Parquet)",
                          memcmp(data, "PAR1", 4) ? "start" : "end");
        goto fail;
    }
    uint32_t flen = rd32(data + len - 8);
    if (flen > len - 12) {
        rc = sl_error_set(err, SL_ERR_CORRUPT,
                          "footer length %u is larger than the file (%zu bytes): truncated file?",
                          flen, len);
        goto fail;
    }
    p->footer_off = len - 8 - flen;
    if ((rc = sl_pq_meta_decode(&r->meta, data + p->footer_off, flen, err))) {
        sl_error_prefix(err, "footer at byte %zu", p->footer_off);
        goto fail;
    }
    if ((rc = build_schema(r, err)) || (rc = check_columns(r, err))) goto fail;
    if (r->meta.num_rows < 0) {
        rc = sl_error_set(err, SL_ERR_CORRUPT, "footer: negative num_rows");
        goto fail;
    }
    p->mark = calloc((size_t)r->schema.n_leaves * 3, sizeof *p->mark);
    if (!p->mark) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return SL_OK;
fail:
    sl_pq_reader_close(r);
    return rc;
}

sl_err_t sl_pq_reader_open_file(sl_pq_reader *r, const char *path, sl_error *err)
{
    static const uint8_t empty[1];
    memset(r, 0, sizeof *r);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_error_errno(err, errno, "%s: cannot open", path);
    struct stat st;
    void *map = NULL;
    size_t len = 0;
    sl_err_t rc = SL_OK;
    if (fstat(fd, &st)) {
        rc = sl_error_errno(err, errno, "%s: cannot stat", path);
    } else if (!S_ISREG(st.st_mode)) {
        rc = sl_error_set(err, SL_ERR_INVALID, "%s: not a regular file", path);
    } else if ((len = (size_t)st.st_size) > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            rc = sl_error_errno(err, errno, "%s: cannot map", path);
        }
    }
    close(fd);
    if (rc) return rc;
    if ((rc = sl_pq_reader_open_mem(r, map ? map : empty, len, err))) {
        sl_error_prefix(err, "%s", path);
        if (map) munmap(map, len);
        return rc;
    }
    rd_priv *p = r->priv;
    p->map = map;
    p->map_len = len;
    if (!(p->path = strdup(path))) {
        sl_pq_reader_close(r);
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    return SL_OK;
}

void sl_pq_reader_close(sl_pq_reader *r)
{
    if (!r) return;
    rd_priv *p = r->priv;
    if (p) {
        sl_pq_codec_ctx_free(p->codec);
        sl_buf_free(&p->page);
        sl_pq_rd_dict_free(&p->dict);
        if (p->map) munmap(p->map, p->map_len);
        free(p->path);
        free(p->mark);
        free(p);
    }
    sl_pq_meta_free(&r->meta);
    sl_schema_free(&r->schema);
    memset(r, 0, sizeof *r);
}

/* ---- pages ---- */

typedef struct chunk_ctx {
    sl_pq_reader *r;
    const sl_pq_column_meta *cm;
    sl_col *c;
    size_t width;
    uint64_t *budget;
    int64_t slots; /* level entries read so far */
    int64_t rows;
    int data_pages;
} chunk_ctx;

static const char *codec_name(int codec)
{
    static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                  "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec <= 7 ? names[codec] : "unknown";
}

/* The uncompressed bytes of [src, src+n): src itself, or the page buffer. */
static sl_err_t inflate(chunk_ctx *x, const uint8_t *src, size_t n, size_t ulen,
                        const uint8_t **out, sl_error *err)
{
    rd_priv *p = x->r->priv;
    int codec = x->cm->codec;
    if (codec == SL_PQ_CODEC_UNCOMPRESSED) {
        if (n != ulen)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "uncompressed page: %zu bytes stored, %zu expected", n, ulen);
        *out = src;
        return SL_OK;
    }
    if (ulen > SL_PQ_MAX_PAGE_BYTES)
        return sl_error_set(err, SL_ERR_LIMIT, "page of %zu bytes uncompressed (limit %zu)", ulen,
                            SL_PQ_MAX_PAGE_BYTES);
    if (!p->codec && sl_pq_codec_ctx_new(&p->codec))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory (codec context)");
    sl_buf_reset(&p->page);
    sl_err_t rc = sl_buf_reserve(&p->page, ulen ? ulen : 1);
    if (rc) return sl_error_set(err, rc, "page buffer: %s", sl_err_text(rc));
    if ((rc = sl_pq_decompress(p->codec, codec, src, n, p->page.p, ulen, err))) return rc;
    *out = p->page.p;
    return SL_OK;
}

/* Make room for count more level entries in c. */
static sl_err_t level_room(chunk_ctx *x, size_t count, sl_error *err)
{
    sl_col *c = x->c;
    if (!(c->max_def | c->max_rep)) return SL_OK;
    if (count > *x->budget / 2)
        return sl_error_set(err, SL_ERR_LIMIT,
                            "%zu levels exceed the reader's memory bound for one row group", count);
    *x->budget -= 2 * count;
    while (c->lvl_cap - c->n < count || !c->def) { /* never NULL: callers index def + n */
        sl_err_t rc = sl_col_grow_levels(c);
        if (rc) return sl_error_set(err, rc, "levels: %s", sl_err_text(rc));
    }
    return SL_OK;
}

/* Decode one level section into dst[0..count). */
static sl_err_t levels(const uint8_t *p, size_t len, uint8_t *dst, size_t count, int max,
                       const char *what, sl_error *err)
{
    sl_pq_rd_rle d;
    sl_pq_rd_rle_init(&d, p, len, sl_pq_rd_bit_width((uint32_t)max));
    sl_err_t rc = sl_pq_rd_rle_levels(&d, dst, count, max, err);
    if (rc) sl_error_prefix(err, "%s levels", what);
    return rc;
}

/* v1 level section: 4-byte length, then the hybrid. Advances *pp. */
static sl_err_t levels_v1(const uint8_t **pp, const uint8_t *end, int enc, uint8_t *dst,
                          size_t count, int max, const char *what, sl_error *err)
{
    if (enc != SL_PQ_ENC_RLE)
        return sl_error_set(err, SL_ERR_UNSUPPORTED,
                            "%s levels in encoding %d (only RLE is supported; BIT_PACKED is "
                            "deprecated)",
                            what, enc);
    if (end - *pp < 4 || rd32(*pp) > (size_t)(end - *pp) - 4)
        return sl_error_set(err, SL_ERR_CORRUPT, "%s levels: length prefix past the page end",
                            what);
    uint32_t n = rd32(*pp);
    sl_err_t rc = levels(*pp + 4, n, dst, count, max, what, err);
    *pp += 4 + (size_t)n;
    return rc;
}

/* Levels are in place at c->def/rep + c->n; decode values and commit. */
static sl_err_t finish_page(chunk_ctx *x, size_t num, int encoding, const uint8_t *v, size_t vlen,
                            sl_error *err)
{
    sl_col *c = x->c;
    size_t nonnull = num, rows = num;
    if (c->max_def) {
        nonnull = 0;
        for (size_t i = 0; i < num; i++)
            nonnull += c->def[c->n + i] == c->max_def;
    } else if (c->max_rep) {
        memset(c->def + c->n, 0, num);
    }
    if (c->max_rep) {
        if (x->slots == 0 && num && c->rep[c->n] != 0)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "the column chunk starts in the middle of a row (first "
                                "repetition level %d)",
                                c->rep[c->n]);
        rows = 0;
        for (size_t i = 0; i < num; i++)
            rows += c->rep[c->n + i] == 0;
    } else if (c->max_def) {
        memset(c->rep + c->n, 0, num);
    }
    sl_err_t rc = sl_pq_rd_values(c, x->width, encoding, v, vlen, nonnull,
                                  &((rd_priv *)x->r->priv)->dict, x->budget, err);
    if (rc) return sl_error_prefix(err, "values (encoding %d)", encoding);
    c->n += num;
    x->slots += (int64_t)num;
    x->rows += (int64_t)rows;
    x->data_pages++;
    return SL_OK;
}

static sl_err_t check_count(chunk_ctx *x, int32_t num, sl_error *err)
{
    if (num < 0 || (int64_t)num > x->cm->num_values - x->slots)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "page has %d values, more than the %lld left of the chunk's "
                            "num_values",
                            (int)num, (long long)(x->cm->num_values - x->slots));
    return SL_OK;
}

static sl_err_t page_v1(chunk_ctx *x, const sl_pq_page_header *h, const uint8_t *body,
                        sl_error *err)
{
    const uint8_t *p;
    sl_col *c = x->c;
    size_t num = (size_t)h->num_values;
    sl_err_t rc;
    if ((rc = check_count(x, h->num_values, err)) || (rc = level_room(x, num, err)) ||
        (rc = inflate(x, body, (size_t)h->compressed_size, (size_t)h->uncompressed_size, &p, err)))
        return rc;
    const uint8_t *end = p + h->uncompressed_size;
    if (c->max_rep && (rc = levels_v1(&p, end, h->rep_encoding, c->rep + c->n, num, c->max_rep,
                                      "repetition", err)))
        return rc;
    if (c->max_def && (rc = levels_v1(&p, end, h->def_encoding, c->def + c->n, num, c->max_def,
                                      "definition", err)))
        return rc;
    return finish_page(x, num, h->encoding, p, (size_t)(end - p), err);
}

static sl_err_t page_v2(chunk_ctx *x, const sl_pq_page_header *h, const uint8_t *body,
                        sl_error *err)
{
    sl_col *c = x->c;
    size_t num = (size_t)h->num_values;
    size_t lv = (size_t)h->rep_len + (size_t)h->def_len;
    sl_err_t rc;
    if ((rc = check_count(x, h->num_values, err)) || (rc = level_room(x, num, err))) return rc;
    if (lv > (size_t)h->compressed_size || lv > (size_t)h->uncompressed_size)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "v2 level sections (%zu bytes) larger than the page", lv);
    if (c->max_rep &&
        (rc = levels(body, (size_t)h->rep_len, c->rep + c->n, num, c->max_rep, "repetition", err)))
        return rc;
    if (c->max_def && (rc = levels(body + h->rep_len, (size_t)h->def_len, c->def + c->n, num,
                                   c->max_def, "definition", err)))
        return rc;
    const uint8_t *v = body + lv;
    size_t vn = (size_t)h->compressed_size - lv, vu = (size_t)h->uncompressed_size - lv;
    if (h->v2_compressed && x->cm->codec != SL_PQ_CODEC_UNCOMPRESSED) {
        if ((rc = inflate(x, v, vn, vu, &v, err))) return rc;
        vn = vu;
    }
    return finish_page(x, num, h->encoding, v, vn, err);
}

static sl_err_t page_dict(chunk_ctx *x, const sl_pq_page_header *h, const uint8_t *body,
                          sl_error *err)
{
    rd_priv *p = x->r->priv;
    const uint8_t *d;
    sl_err_t rc;
    if (x->data_pages || p->dict.loaded)
        return sl_error_set(err, SL_ERR_CORRUPT, "dictionary page after %s",
                            x->data_pages ? "data pages" : "another");
    if (h->encoding != SL_PQ_ENC_PLAIN && h->encoding != SL_PQ_ENC_PLAIN_DICTIONARY)
        return sl_error_set(err, SL_ERR_UNSUPPORTED, "dictionary page in encoding %d", h->encoding);
    if ((rc = inflate(x, body, (size_t)h->compressed_size, (size_t)h->uncompressed_size, &d, err)))
        return rc;
    rc = sl_pq_rd_dict_load(&p->dict, x->c->type, x->width, d, (size_t)h->uncompressed_size,
                            h->num_values, err);
    return rc ? sl_error_prefix(err, "dictionary") : SL_OK;
}

static sl_err_t read_chunk(chunk_ctx *x, sl_error *err)
{
    rd_priv *p = x->r->priv;
    const sl_pq_column_meta *cm = x->cm;
    int codec = cm->codec;
    if (codec != SL_PQ_CODEC_UNCOMPRESSED && codec != SL_PQ_CODEC_SNAPPY &&
        codec != SL_PQ_CODEC_GZIP && codec != SL_PQ_CODEC_ZSTD && codec != SL_PQ_CODEC_LZ4_RAW)
        return sl_error_set(err, SL_ERR_UNSUPPORTED,
                            "codec %s (%d) is not supported (sluice reads UNCOMPRESSED, SNAPPY, "
                            "GZIP, ZSTD, LZ4_RAW)",
                            codec_name(codec), codec);
    int64_t start = cm->data_page_offset;
    if (cm->dictionary_page_offset > 0 && cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    if (start < 4 || (uint64_t)start > p->footer_off ||
        (uint64_t)cm->total_compressed > p->footer_off - (uint64_t)start)
        return sl_error_set(err, SL_ERR_CORRUPT,
                            "column chunk bytes [%lld, +%lld) are outside the data region "
                            "[4, %zu)",
                            (long long)start, (long long)cm->total_compressed, p->footer_off);
    p->dict.loaded = 0;
    size_t pos = (size_t)start, end = pos + (size_t)cm->total_compressed;
    for (int page = 0; x->slots < cm->num_values; page++) {
        sl_pq_page_header h;
        size_t used;
        sl_err_t rc;
        if (pos >= end)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "column chunk ends after %lld of its %lld values",
                                (long long)x->slots, (long long)cm->num_values);
        if ((rc = sl_pq_page_header_decode(&h, x->r->data + pos, end - pos, &used, err)))
            return sl_error_prefix(err, "page %d header at byte %zu", page, pos);
        size_t at = pos;
        pos += used;
        if ((size_t)h.compressed_size > end - pos)
            return sl_error_set(err, SL_ERR_CORRUPT,
                                "page %d at byte %zu: %d-byte body runs past the column chunk end "
                                "(byte %zu)",
                                page, at, (int)h.compressed_size, end);
        const uint8_t *body = x->r->data + pos;
        pos += (size_t)h.compressed_size;
        switch (h.type) {
        case SL_PQ_PAGE_DICTIONARY:
            rc = page_dict(x, &h, body, err);
            break;
        case SL_PQ_PAGE_DATA:
            rc = page_v1(x, &h, body, err);
            break;
        case SL_PQ_PAGE_DATA_V2:
            rc = page_v2(x, &h, body, err);
            break;
        default:
            rc = SL_OK;
            break; /* index pages and unknown types: skip */
        }
        if (rc) return sl_error_prefix(err, "page %d at byte %zu", page, at);
    }
    return SL_OK;
}

static sl_err_t check_batch(const sl_pq_reader *r, const sl_batch *b, sl_error *err)
{
    const sl_schema *s = &r->schema;
    int ok = b->ncols == s->n_leaves;
    for (int32_t i = 0; ok && i < b->ncols; i++) {
        const sl_node *n = sl_schema_leaf(s, i);
        const sl_col *c = &b->cols[i];
        ok = c->type == n->ptype && c->max_def == n->max_def && c->max_rep == n->max_rep &&
             (n->ptype != SL_PT_FIXED_LEN_BYTE_ARRAY ||
              c->schema->nodes[c->node].type_length == n->type_length);
    }
    if (!ok)
        return sl_error_set(err, SL_ERR_INVALID,
                            "the batch was not built for this file's schema (sl_batch_init with "
                            "the reader's schema)");
    return SL_OK;
}

sl_err_t sl_pq_reader_read_column(sl_pq_reader *r, int32_t rg, int32_t leaf, sl_batch *b,
                                  sl_error *err)
{
    rd_priv *p = r->priv;
    char path[512];
    if (!p || rg < 0 || rg >= r->meta.n_row_groups || leaf < 0 || leaf >= r->schema.n_leaves)
        return sl_error_set(
            err, SL_ERR_INVALID, "row group %d, column %d does not exist (the file has %d, %d)",
            (int)rg, (int)leaf, p ? (int)r->meta.n_row_groups : 0, p ? (int)r->schema.n_leaves : 0);
    sl_err_t rc = check_batch(r, b, err);
    if (rc) return rc;
    const sl_pq_row_group *g = &r->meta.row_groups[rg];
    const sl_node *node = sl_schema_leaf(&r->schema, leaf);
    uint64_t budget = r->max_batch_bytes ? r->max_batch_bytes : SL_PQ_READER_MAX_BATCH;
    sl_col *c = &b->cols[leaf];
    size_t n = c->n, nvals = c->nvals, vlen = c->val.len;
    chunk_ctx x = {.r = r,
                   .cm = &g->columns[leaf],
                   .c = c,
                   .width = sl_ptype_width(node->ptype, node->type_length),
                   .budget = &budget};
    if (!(rc = read_chunk(&x, err)) && x.rows != g->num_rows)
        rc = sl_error_set(err, SL_ERR_CORRUPT, "holds %lld rows, the row group %lld",
                          (long long)x.rows, (long long)g->num_rows);
    if (!rc) return SL_OK;
    sl_error_prefix(err, "row group %d, column %s", (int)rg,
                    sl_schema_path(&r->schema, r->schema.leaves[leaf], path, sizeof path));
    if (path_of(r)) sl_error_prefix(err, "%s", path_of(r));
    c->n = n;
    c->nvals = nvals;
    c->val.len = vlen;
    return rc;
}

sl_err_t sl_pq_reader_read_row_group(sl_pq_reader *r, int32_t rg, sl_batch *b, sl_error *err)
{
    rd_priv *p = r->priv;
    char path[512];
    if (!p || rg < 0 || rg >= r->meta.n_row_groups)
        return sl_error_set(err, SL_ERR_INVALID, "row group %d does not exist (the file has %d)",
                            (int)rg, p ? (int)r->meta.n_row_groups : 0);
    sl_err_t rc = check_batch(r, b, err);
    if (rc) return rc;
    const sl_pq_row_group *g = &r->meta.row_groups[rg];
    uint64_t budget = r->max_batch_bytes ? r->max_batch_bytes : SL_PQ_READER_MAX_BATCH;
    int32_t i;
    for (i = 0; i < b->ncols; i++) {
        p->mark[3 * i] = b->cols[i].n;
        p->mark[3 * i + 1] = b->cols[i].nvals;
        p->mark[3 * i + 2] = b->cols[i].val.len;
    }
    for (i = 0; i < b->ncols; i++) {
        const sl_node *leaf = sl_schema_leaf(&r->schema, i);
        chunk_ctx x = {.r = r,
                       .cm = &g->columns[i],
                       .c = &b->cols[i],
                       .width = sl_ptype_width(leaf->ptype, leaf->type_length),
                       .budget = &budget};
        if ((rc = read_chunk(&x, err))) goto fail;
        if (x.rows != g->num_rows) {
            rc = sl_error_set(err, SL_ERR_CORRUPT, "holds %lld rows, the row group %lld",
                              (long long)x.rows, (long long)g->num_rows);
            goto fail;
        }
    }
    b->nrows += (size_t)g->num_rows;
    return SL_OK;
fail:
    sl_error_prefix(err, "row group %d, column %s", (int)rg,
                    sl_schema_path(&r->schema, r->schema.leaves[i], path, sizeof path));
    if (path_of(r)) sl_error_prefix(err, "%s", path_of(r));
    for (int32_t k = 0; k < b->ncols; k++) {
        b->cols[k].n = p->mark[3 * k];
        b->cols[k].nvals = p->mark[3 * k + 1];
        b->cols[k].val.len = p->mark[3 * k + 2];
    }
    return rc;
}
