/* test_pq_reader.c - the Parquet reader (pq_reader.c).
 *
 *  - Round trip: rows generated from a schema (pq_testrows.h, shredded by
 *    the test's own Dremel shredder) are written by sl_pq_writer with every
 *    codec and with many pages, many row groups, dictionary fallback and no
 *    dictionary; reading the file back must give the input batch exactly:
 *    the same levels, values and offsets, column by column.
 *  - Hostile input: every truncation of a file, and every byte of it
 *    flipped, must give an error or a valid batch; never a crash (the suite
 *    runs under ASan/UBSan), and a failed read leaves the batch untouched.
 *  - Errors say where: row group, column path, page, what was wrong.
 * Reading files of other writers (DuckDB, V1 and V2 pages, every codec) is
 * tests/e2e/0003-parquet-reader-duckdb.sh.
 */
#include "formats/parquet/pq_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/ostream.h"
#include "core/rows_json.h"
#include "formats/parquet/pq_writer.h"
#include "pq_testrows.h"
#include "test.h"

static sl_logical lg(int kind)
{
    return (sl_logical){.kind = (uint8_t)kind};
}
static sl_logical lint(int bits, int sign)
{
    return (sl_logical){.kind = SL_LT_INT, .bit_width = (uint8_t)bits, .is_signed = (uint8_t)sign};
}

/* A LIST group: name (LIST) { repeated group list { element } }. Returns
 * the list node, so the caller adds the element under it. */
static int32_t add_list(sl_schema *s, int32_t parent, const char *name, sl_repetition_t rep)
{
    int32_t l = sl_schema_add(s, parent, name, rep, 1, 0, lg(SL_LT_LIST), -1);
    return sl_schema_add(s, l, "list", SL_REPEATED, 1, 0, lg(SL_LT_NONE), -1);
}

static int32_t add_map(sl_schema *s, int32_t parent, const char *name, sl_repetition_t rep)
{
    int32_t m = sl_schema_add(s, parent, name, rep, 1, 0, lg(SL_LT_MAP), -1);
    return sl_schema_add(s, m, "key_value", SL_REPEATED, 1, 0, lg(SL_LT_NONE), -1);
}

/* Everything the writer writes: every physical type and annotation,
 * REQUIRED/OPTIONAL, nested groups, lists of scalars/groups/lists, maps. */
static void big_schema(sl_schema *s)
{
    sl_error e;
    sl_logical none = lg(SL_LT_NONE), str = lg(SL_LT_STRING);
    sl_logical ts = {.kind = SL_LT_TIMESTAMP, .unit = SL_TU_MICROS, .utc = 1};
    CHECK_OK(sl_schema_init(s, "schema"), NULL);
    sl_schema_add(s, 0, "id", SL_REQUIRED, 0, SL_PT_INT64, none, 1);
    sl_schema_add(s, 0, "b", SL_OPTIONAL, 0, SL_PT_BOOLEAN, none, 2);
    sl_schema_add(s, 0, "i8", SL_REQUIRED, 0, SL_PT_INT32, lint(8, 1), 3);
    sl_schema_add(s, 0, "u16", SL_OPTIONAL, 0, SL_PT_INT32, lint(16, 0), 4);
    sl_schema_add(s, 0, "i32", SL_OPTIONAL, 0, SL_PT_INT32, none, 5);
    sl_schema_add(s, 0, "u64", SL_OPTIONAL, 0, SL_PT_INT64, lint(64, 0), 6);
    sl_schema_add(s, 0, "ts", SL_OPTIONAL, 0, SL_PT_INT64, ts, 7);
    sl_schema_add(s, 0, "f", SL_OPTIONAL, 0, SL_PT_FLOAT, none, 8);
    sl_schema_add(s, 0, "d", SL_REQUIRED, 0, SL_PT_DOUBLE, none, 9);
    sl_schema_add(s, 0, "s", SL_OPTIONAL, 0, SL_PT_BYTE_ARRAY, str, 10);
    sl_schema_add(s, 0, "e", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, lg(SL_LT_ENUM), 11);
    sl_schema_add(s, 0, "raw", SL_OPTIONAL, 0, SL_PT_BYTE_ARRAY, none, 12);
    int32_t g = sl_schema_add(s, 0, "g", SL_OPTIONAL, 1, 0, none, 13);
    sl_schema_add(s, g, "x", SL_OPTIONAL, 0, SL_PT_INT32, none, 1);
    int32_t in = sl_schema_add(s, g, "inner", SL_OPTIONAL, 1, 0, none, 2);
    sl_schema_add(s, in, "y", SL_OPTIONAL, 0, SL_PT_BYTE_ARRAY, str, 1);
    int32_t l = add_list(s, 0, "tags", SL_REQUIRED);
    sl_schema_add(s, l, "element", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, str, -1);
    l = add_list(s, 0, "pts", SL_OPTIONAL);
    int32_t el = sl_schema_add(s, l, "element", SL_OPTIONAL, 1, 0, none, -1);
    sl_schema_add(s, el, "a", SL_REQUIRED, 0, SL_PT_INT64, none, 1);
    sl_schema_add(s, el, "b", SL_OPTIONAL, 0, SL_PT_DOUBLE, none, 2);
    int32_t kv = add_map(s, 0, "m", SL_REQUIRED);
    sl_schema_add(s, kv, "key", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, str, -1);
    sl_schema_add(s, kv, "value", SL_OPTIONAL, 0, SL_PT_INT64, none, -1);
    kv = add_map(s, 0, "mi", SL_OPTIONAL);
    sl_schema_add(s, kv, "key", SL_REQUIRED, 0, SL_PT_INT32, none, -1);
    int32_t v = sl_schema_add(s, kv, "value", SL_OPTIONAL, 1, 0, none, -1);
    sl_schema_add(s, v, "z", SL_REQUIRED, 0, SL_PT_BOOLEAN, none, 1);
    l = add_list(s, 0, "ll", SL_OPTIONAL);
    int32_t l2 = add_list(s, l, "element", SL_OPTIONAL);
    sl_schema_add(s, l2, "element", SL_OPTIONAL, 0, SL_PT_INT32, none, -1);
    s->message_name = strdup("test.Big");
    CHECK_OK(sl_schema_finish(s, &e), &e);
}

static void gen_rows(sl_batch *b, const sl_schema *s, tr_arena *a, uint64_t seed, int n,
                     const tr_opts *o)
{
    tr_rng r = {seed};
    for (int i = 0; i < n; i++) {
        tv row;
        memset(&row, 0, sizeof row);
        tr_gen_node(a, &r, o, s, 0, &row);
        CHECK(tr_shred_row(b, s, &row) == 0);
    }
}

static sl_err_t write_file(const sl_schema *s, const sl_batch *b, const sl_pq_options *o,
                           sl_buf *out, sl_error *e)
{
    sl_ostream *os = NULL;
    sl_pq_writer *w = NULL;
    sl_err_t rc = sl_ostream_mem(&os, out, e);
    if (!rc) rc = sl_pq_writer_open(&w, s, os, o, e);
    if (!rc) rc = sl_pq_writer_write(w, b, e);
    if (!rc) rc = sl_pq_writer_close(w, e);
    sl_pq_writer_free(w);
    sl_ostream_destroy(os);
    return rc;
}

/* Read every row group of data into a fresh batch. */
static sl_err_t read_all(sl_pq_reader *r, const uint8_t *data, size_t len, sl_batch *b, sl_error *e)
{
    sl_err_t rc = sl_pq_reader_open_mem(r, data, len, e);
    if (rc) return rc;
    if ((rc = sl_batch_init(b, &r->schema))) return rc;
    for (int32_t g = 0; g < r->meta.n_row_groups && !rc; g++)
        rc = sl_pq_reader_read_row_group(r, g, b, e);
    return rc;
}

/* Column by column: levels, values and offsets identical. */
static int same_batch(const sl_batch *a, const sl_batch *b, char *why, size_t cap)
{
    char path[256];
    if (a->nrows != b->nrows || a->ncols != b->ncols) {
        snprintf(why, cap, "rows %zu vs %zu", a->nrows, b->nrows);
        return 0;
    }
    for (int32_t i = 0; i < a->ncols; i++) {
        const sl_col *x = &a->cols[i], *y = &b->cols[i];
        sl_schema_path(a->schema, x->node, path, sizeof path);
        int lv = x->max_def | x->max_rep;
        const char *what =
            x->n != y->n                                           ? "slot count"
            : x->nvals != y->nvals                                 ? "value count"
            : lv && memcmp(x->def, y->def, x->n)                   ? "definition levels"
            : lv && memcmp(x->rep, y->rep, x->n)                   ? "repetition levels"
            : x->val.len != y->val.len                             ? "value bytes length"
            : x->val.len && memcmp(x->val.p, y->val.p, x->val.len) ? "value bytes"
            : x->type == SL_PT_BYTE_ARRAY && memcmp(x->off, y->off, (x->nvals + 1) * sizeof *x->off)
                ? "offsets"
                : NULL;
        if (what) {
            snprintf(why, cap, "column %s: %s differ", path, what);
            return 0;
        }
    }
    return 1;
}

static void round_trip(const char *label, const tr_opts *to, int nrows, const sl_pq_options *po)
{
    sl_schema s;
    sl_batch in, out;
    sl_buf file = SL_BUF_INIT;
    sl_error e;
    tr_arena a = {0};
    sl_pq_reader r;
    char why[512];
    big_schema(&s);
    CHECK_OK(sl_batch_init(&in, &s), NULL);
    gen_rows(&in, &s, &a, 0x5EED + (uint64_t)nrows, nrows, to);
    CHECK_OK(sl_batch_validate(&in, &e), &e);
    CHECK_OK(write_file(&s, &in, po, &file, &e), &e);
    memset(&out, 0, sizeof out);
    sl_err_t rc = read_all(&r, file.p, file.len, &out, &e);
    CHECK_OK(rc, &e);
    if (!rc) {
        int same = same_batch(&in, &out, why, sizeof why);
        CHECK(same);
        if (!same) fprintf(stderr, "%s: %s\n", label, why);
        CHECK_OK(sl_batch_validate(&out, &e), &e);
        CHECK(r.schema.message_name && !strcmp(r.schema.message_name, "test.Big"));
        CHECK(sl_schema_fingerprint(&r.schema) == sl_schema_fingerprint(&s));
        CHECK(r.meta.num_rows == nrows);
    }
    if (rc) fprintf(stderr, "%s: %s\n", label, e.msg);
    sl_pq_reader_close(&r);
    sl_batch_free(&out);
    sl_batch_free(&in);
    sl_schema_free(&s);
    sl_buf_free(&file);
    tr_arena_free(&a);
}

static void test_round_trip_codecs(void)
{
    static const int codecs[] = {SL_PQ_CODEC_UNCOMPRESSED, SL_PQ_CODEC_SNAPPY, SL_PQ_CODEC_GZIP,
                                 SL_PQ_CODEC_ZSTD, SL_PQ_CODEC_LZ4_RAW};
    tr_opts mixed = {.null_pct = 20, .max_list = 4, .long_pct = 5, .special_pct = 10};
    tr_opts dict = {.null_pct = 10, .max_list = 3, .card = 12, .special_pct = 0};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        sl_pq_options o = {.codec = codecs[i]};
        char label[64];
        snprintf(label, sizeof label, "codec %s", sl_pq_codec_name(codecs[i]));
        round_trip(label, &mixed, 1500, &o);
        round_trip(label, &dict, 1500, &o);
    }
}

static void test_round_trip_layouts(void)
{
    tr_opts mixed = {.null_pct = 30, .max_list = 5, .long_pct = 10, .special_pct = 10};
    tr_opts dict = {.null_pct = 5, .max_list = 2, .card = 40};
    sl_pq_options pages = {.codec = SL_PQ_CODEC_ZSTD, .page_bytes = 1024};
    sl_pq_options groups = {
        .codec = SL_PQ_CODEC_SNAPPY, .row_group_bytes = 16 << 10, .page_bytes = 2048};
    sl_pq_options fallback = {
        .codec = SL_PQ_CODEC_UNCOMPRESSED, .dict_max_bytes = 256, .page_bytes = 4096};
    sl_pq_options plain = {.codec = SL_PQ_CODEC_LZ4_RAW, .no_dictionary = 1};
    round_trip("many pages", &mixed, 3000, &pages);
    round_trip("many row groups", &mixed, 3000, &groups);
    round_trip("dictionary fallback", &dict, 3000, &fallback);
    round_trip("dictionary fallback, mixed", &mixed, 3000, &fallback);
    round_trip("no dictionary", &dict, 2000, &plain);
    round_trip("one row", &mixed, 1, &pages);
    tr_opts empty = {.null_pct = 100, .max_list = 0};
    round_trip("all null", &empty, 500, &groups);
}

/* A small file for the hostile-input sweeps. */
static void small_file(sl_buf *file, int codec, sl_schema *s)
{
    sl_batch in;
    sl_error e;
    tr_arena a = {0};
    tr_opts o = {.null_pct = 25, .max_list = 3, .card = 5, .special_pct = 10};
    sl_pq_options po = {.codec = codec, .page_bytes = 256, .row_group_bytes = 2048};
    big_schema(s);
    CHECK_OK(sl_batch_init(&in, s), NULL);
    gen_rows(&in, s, &a, 7, 24, &o);
    CHECK_OK(write_file(s, &in, &po, file, &e), &e);
    sl_batch_free(&in);
    tr_arena_free(&a);
}

/* Open and read all of data; on each failed row group the batch must be
 * as it was; on success it must be valid and assemble (or report) rows. */
static int hostile_read(const uint8_t *data, size_t len)
{
    sl_pq_reader r;
    sl_error e;
    sl_batch b;
    int ok = 1;
    if (sl_pq_reader_open_mem(&r, data, len, &e)) return 0;
    r.max_batch_bytes = 16 << 20;
    if (sl_batch_init(&b, &r.schema)) {
        sl_pq_reader_close(&r);
        return 0;
    }
    for (int32_t g = 0; g < r.meta.n_row_groups; g++) {
        size_t rows = b.nrows, n0 = b.cols[0].n, nl = b.cols[b.ncols - 1].n;
        if (sl_pq_reader_read_row_group(&r, g, &b, &e)) {
            ok = 0;
            CHECK(b.nrows == rows && b.cols[0].n == n0 && b.cols[b.ncols - 1].n == nl);
            CHECK(e.msg[0] != '\0');
        }
    }
    CHECK_OK(sl_batch_validate(&b, &e), &e);
    sl_rows_json *rj;
    sl_buf line = SL_BUF_INIT;
    if (!sl_rows_json_new(&rj, &b)) {
        for (size_t i = 0; i < b.nrows; i++) {
            sl_buf_reset(&line);
            if (sl_rows_json_row(rj, i, &line)) continue; /* CORRUPT is fine; no crash */
        }
        sl_rows_json_free(rj);
    }
    sl_buf_free(&line);
    sl_batch_free(&b);
    sl_pq_reader_close(&r);
    return ok;
}

static void test_hostile_bytes(void)
{
    static const int codecs[] = {SL_PQ_CODEC_UNCOMPRESSED, SL_PQ_CODEC_ZSTD};
    for (size_t k = 0; k < 2; k++) {
        sl_schema s;
        sl_buf file = SL_BUF_INIT;
        small_file(&file, codecs[k], &s);
        CHECK(hostile_read(file.p, file.len)); /* the intact file reads */
        uint8_t *copy = malloc(file.len);
        int truncated_ok = 0, flipped_ok = 0, flips = 0;
        /* Every truncation (a fresh allocation of exactly that size, so
         * ASan sees any read past it). */
        for (size_t len = 0; len < file.len; len++) {
            uint8_t *t = malloc(len ? len : 1);
            memcpy(t, file.p, len);
            truncated_ok += hostile_read(t, len);
            free(t);
        }
        CHECK_EQ_INT(truncated_ok, 0);
        static const uint8_t masks[] = {0xff, 0x01, 0x80, 0x10};
        for (size_t pos = 0; pos < file.len; pos++) {
            for (size_t m = 0; m < sizeof masks; m++) {
                memcpy(copy, file.p, file.len);
                copy[pos] ^= masks[m];
                flipped_ok += hostile_read(copy, file.len);
                flips++;
            }
        }
        fprintf(stderr, "hostile %s: %zu-byte file, %d flips, %d read without error\n",
                sl_pq_codec_name(codecs[k]), file.len, flips, flipped_ok);
        free(copy);
        sl_buf_free(&file);
        sl_schema_free(&s);
    }
}

static void test_errors(void)
{
    sl_pq_reader r;
    sl_error e;
    static const uint8_t junk[] = "this is not a parquet file at all";
    CHECK(sl_pq_reader_open_mem(&r, junk, sizeof junk, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "PAR1") != NULL);
    static const uint8_t tiny[] = "PAR1PAR1";
    CHECK(sl_pq_reader_open_mem(&r, tiny, 8, &e) == SL_ERR_CORRUPT);
    static const uint8_t huge_footer[] = {'P',  'A',  'R', '1', 0,   0xff, 0xff,
                                          0xff, 0x7f, 'P', 'A', 'R', '1'};
    CHECK(sl_pq_reader_open_mem(&r, huge_footer, sizeof huge_footer, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "footer length") != NULL);

    char path[512];
    snprintf(path, sizeof path, "%s/does-not-exist-%d.parquet", test_tmpdir(), (int)getpid());
    CHECK(sl_pq_reader_open_file(&r, path, &e) == SL_ERR_IO);
    CHECK(strstr(e.msg, path) != NULL);
    sl_pq_reader_close(&r); /* safe on a failed reader */

    /* A REQUIRED low-cardinality string column: dictionary page (page 0),
     * then a data page whose values start with the index bit width. Make
     * it 33 and the read must name row group, column, page and cause. */
    sl_schema s;
    sl_batch in, out;
    sl_buf file = SL_BUF_INIT;
    CHECK_OK(sl_schema_init(&s, "schema"), NULL);
    sl_schema_add(&s, 0, "s", SL_REQUIRED, 0, SL_PT_BYTE_ARRAY, lg(SL_LT_STRING), 1);
    CHECK_OK(sl_schema_finish(&s, &e), &e);
    CHECK_OK(sl_batch_init(&in, &s), NULL);
    for (int i = 0; i < 100; i++)
        CHECK(!sl_col_bytes(&in.cols[0], i % 3 ? "ab" : "c", i % 3 ? 2 : 1, 0));
    in.nrows = 100;
    sl_pq_options po = {.codec = SL_PQ_CODEC_UNCOMPRESSED};
    CHECK_OK(write_file(&s, &in, &po, &file, &e), &e);
    CHECK_OK(sl_pq_reader_open_mem(&r, file.p, file.len, &e), &e);
    const sl_pq_column_meta *cm = &r.meta.row_groups[0].columns[0];
    CHECK(cm->dictionary_page_offset >= 4);
    sl_pq_page_header h;
    size_t used = 0;
    CHECK_OK(sl_pq_page_header_decode(&h, file.p + cm->data_page_offset,
                                      file.len - (size_t)cm->data_page_offset, &used, &e),
             &e);
    CHECK(h.type == SL_PQ_PAGE_DATA && h.encoding == SL_PQ_ENC_RLE_DICTIONARY);
    file.p[cm->data_page_offset + (int64_t)used] = 33;
    CHECK_OK(sl_batch_init(&out, &r.schema), NULL);
    CHECK(sl_pq_reader_read_row_group(&r, 0, &out, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "row group 0") && strstr(e.msg, "column s") && strstr(e.msg, "page 1") &&
          strstr(e.msg, "bit width 33"));
    CHECK(out.nrows == 0 && out.cols[0].n == 0 && out.cols[0].nvals == 0);
    file.p[cm->data_page_offset + (int64_t)used] = 1; /* restore the real width */
    /* The memory bound: 100 values need more than 64 bytes. */
    r.max_batch_bytes = 64;
    CHECK(sl_pq_reader_read_row_group(&r, 0, &out, &e) == SL_ERR_LIMIT);
    CHECK(out.nrows == 0 && out.cols[0].n == 0);
    r.max_batch_bytes = 0;
    CHECK_OK(sl_pq_reader_read_row_group(&r, 0, &out, &e), &e);
    CHECK(out.nrows == 100);
    char why[256];
    CHECK(same_batch(&in, &out, why, sizeof why));
    CHECK(sl_pq_reader_read_row_group(&r, 1, &out, &e) == SL_ERR_INVALID);
    /* A batch of another schema is refused. */
    sl_schema other;
    sl_batch ob;
    big_schema(&other);
    CHECK_OK(sl_batch_init(&ob, &other), NULL);
    CHECK(sl_pq_reader_read_row_group(&r, 0, &ob, &e) == SL_ERR_INVALID);
    sl_batch_free(&ob);
    sl_schema_free(&other);
    sl_pq_reader_close(&r);
    sl_batch_free(&out);
    sl_batch_free(&in);
    sl_schema_free(&s);
    sl_buf_free(&file);
}

/* open_file maps the file; the path is in read errors too. */
static void test_open_file(void)
{
    sl_schema s;
    sl_buf file = SL_BUF_INIT;
    sl_error e;
    small_file(&file, SL_PQ_CODEC_SNAPPY, &s);
    char path[512];
    mkdir(test_tmpdir(), 0755); /* $SL_TMP may not exist yet */
    snprintf(path, sizeof path, "%s/test_pq_reader-%d.parquet", test_tmpdir(), (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(file.p, 1, file.len, f) == file.len);
    if (f) fclose(f);
    sl_pq_reader r;
    sl_batch b;
    CHECK_OK(sl_pq_reader_open_file(&r, path, &e), &e);
    CHECK_OK(sl_batch_init(&b, &r.schema), NULL);
    for (int32_t g = 0; g < r.meta.n_row_groups; g++)
        CHECK_OK(sl_pq_reader_read_row_group(&r, g, &b, &e), &e);
    CHECK(b.nrows == 24);
    sl_batch_free(&b);
    sl_pq_reader_close(&r);
    /* Truncated on disk: the error names the file. */
    CHECK(truncate(path, (off_t)file.len - 1) == 0);
    CHECK(sl_pq_reader_open_file(&r, path, &e) == SL_ERR_CORRUPT);
    CHECK(strstr(e.msg, path) != NULL);
    unlink(path);
    sl_buf_free(&file);
    sl_schema_free(&s);
}

/* Column by column, row group by row group, sl_pq_reader_read_column gives
 * each column exactly what the whole-row-group read gives, and touches no
 * other column. */
static void test_read_column(void)
{
    sl_schema s;
    sl_batch in, all, one;
    sl_buf file = SL_BUF_INIT;
    sl_error e;
    tr_arena a = {0};
    sl_pq_reader r;
    tr_opts to = {.null_pct = 20, .max_list = 4, .long_pct = 5, .special_pct = 10};
    sl_pq_options po = {.codec = SL_PQ_CODEC_ZSTD, .row_group_bytes = 64 * 1024};
    big_schema(&s);
    CHECK_OK(sl_batch_init(&in, &s), NULL);
    gen_rows(&in, &s, &a, 0xC01, 3000, &to);
    CHECK_OK(write_file(&s, &in, &po, &file, &e), &e);
    memset(&all, 0, sizeof all);
    CHECK_OK(read_all(&r, file.p, file.len, &all, &e), &e);
    CHECK(r.meta.n_row_groups > 1);
    CHECK_OK(sl_batch_init(&one, &r.schema), NULL);
    int bad = 0;
    for (int32_t c = 0; c < one.ncols; c++) {
        for (int32_t g = 0; g < r.meta.n_row_groups; g++)
            CHECK_OK(sl_pq_reader_read_column(&r, g, c, &one, &e), &e);
        const sl_col *x = &all.cols[c], *y = &one.cols[c];
        int lv = x->max_def | x->max_rep;
        bad += x->n != y->n || x->nvals != y->nvals || x->val.len != y->val.len ||
               (lv && (memcmp(x->def, y->def, x->n) || memcmp(x->rep, y->rep, x->n))) ||
               (x->val.len && memcmp(x->val.p, y->val.p, x->val.len));
        for (int32_t k = 0; k < one.ncols; k++) /* only column c was read */
            bad += k != c && one.cols[k].n != 0;
        CHECK(one.nrows == 0);
        sl_batch_reset(&one);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(sl_pq_reader_read_column(&r, 0, one.ncols, &one, &e) == SL_ERR_INVALID);
    CHECK(sl_pq_reader_read_column(&r, r.meta.n_row_groups, 0, &one, &e) == SL_ERR_INVALID);
    sl_pq_reader_close(&r);
    sl_batch_free(&one);
    sl_batch_free(&all);
    sl_batch_free(&in);
    sl_schema_free(&s);
    sl_buf_free(&file);
    tr_arena_free(&a);
}

int main(void)
{
    (void)tr_json; /* pq_testrows.h's JSON printer: not needed here */
    RUN(test_round_trip_codecs);
    RUN(test_round_trip_layouts);
    RUN(test_errors);
    RUN(test_open_file);
    RUN(test_hostile_bytes);
    RUN(test_read_column);
    return TEST_DONE();
}
