/* plan_fx.h - fixture shared by the decoder tests (test_pb_wire.c,
 * test_json.c, test_delim.c): a schema
 * from tests/data compiled into a plan, a record, a batch, and readers of
 * the last row's top-level columns and of its canonical JSON row. */
#ifndef SL_TEST_PLAN_FX_H
#define SL_TEST_PLAN_FX_H

#include <math.h>

#include "core/rows_json.h"
#include "formats/pb/pb_plan.h"
#include "test.h"

typedef struct jfx {
    sl_pb_pool pool;
    sl_plan plan;
    sl_rec *rec;
    sl_batch batch;
    sl_error err;
    int ok;
    char row[8192]; /* canonical JSON of row 0 after jfx_row */
} jfx;

static inline const char *jfx_src(void)
{
    const char *s = getenv("SL_SRC");
    return s && *s ? s : ".";
}

/* schema: a bare file name (under $SL_SRC/tests/data) or a path. */
static inline int jfx_open(jfx *x, const char *schema, const char *msg)
{
    char path[1024];
    memset(x, 0, sizeof *x);
    if (strchr(schema, '/'))
        snprintf(path, sizeof path, "%s", schema);
    else
        snprintf(path, sizeof path, "%s/tests/data/%s", jfx_src(), schema);
    if (sl_pb_pool_load(&x->pool, path, &x->err) ||
        sl_plan_compile(&x->plan, &x->pool, msg, &x->err) || sl_rec_new(&x->rec, &x->plan) ||
        sl_batch_init(&x->batch, &x->plan.schema)) {
        fprintf(stderr, "fixture %s %s: %s\n", path, msg, x->err.msg);
        return -1;
    }
    x->ok = 1;
    return 0;
}

static inline void jfx_close(jfx *x)
{
    sl_batch_free(&x->batch);
    sl_rec_free(x->rec);
    sl_plan_free(&x->plan);
    sl_pb_pool_free(&x->pool);
}

/* Column builder of a top-level scalar field by its schema path. */
static inline const sl_col *jfx_col(const jfx *x, const char *path)
{
    int32_t node = sl_schema_find(&x->plan.schema, path);
    if (node < 0 || x->plan.schema.nodes[node].leaf < 0) {
        fprintf(stderr, "no column %s\n", path);
        return NULL;
    }
    return &x->batch.cols[x->plan.schema.nodes[node].leaf];
}

/* 1 if the last slot of the column is a null. */
static inline int jfx_null(const jfx *x, const char *path)
{
    const sl_col *c = jfx_col(x, path);
    if (!c || !c->n) return -1;
    return c->max_def && c->def[c->n - 1] < c->max_def;
}

static inline int64_t jfx_i64(const jfx *x, const char *path)
{
    const sl_col *c = jfx_col(x, path);
    if (!c || !c->nvals) return INT64_MIN;
    if (c->type == SL_PT_INT32) {
        int32_t v;
        memcpy(&v, c->val.p + (c->nvals - 1) * 4, 4);
        return v;
    }
    if (c->type == SL_PT_BOOLEAN) return c->val.p[c->nvals - 1];
    int64_t v;
    memcpy(&v, c->val.p + (c->nvals - 1) * 8, 8);
    return v;
}

static inline double jfx_f64(const jfx *x, const char *path)
{
    const sl_col *c = jfx_col(x, path);
    if (!c || !c->nvals) return -12345.0;
    if (c->type == SL_PT_FLOAT) {
        float v;
        memcpy(&v, c->val.p + (c->nvals - 1) * 4, 4);
        return v;
    }
    double v;
    memcpy(&v, c->val.p + (c->nvals - 1) * 8, 8);
    return v;
}

/* 1 if the last BYTE_ARRAY value equals s[0..n). */
static inline int jfx_bytes_eq(const jfx *x, const char *path, const char *s, size_t n)
{
    const sl_col *c = jfx_col(x, path);
    uint32_t len;
    if (!c || !c->nvals) return 0;
    const uint8_t *p = sl_col_bytes_at(c, c->nvals - 1, &len);
    return len == n && memcmp(p, s, n) == 0;
}
#define JFX_STR_EQ(x, path, lit) jfx_bytes_eq((x), (path), (lit), sizeof(lit) - 1)

/* Canonical JSON of row 0 into x->row (validating the batch first). */
static inline int jfx_row(jfx *x)
{
    sl_rows_json *rj = NULL;
    sl_buf out = SL_BUF_INIT;
    int rc = -1;
    x->row[0] = '\0';
    if (sl_batch_validate(&x->batch, &x->err) || !x->batch.nrows) goto done;
    if (sl_rows_json_new(&rj, &x->batch) || sl_rows_json_row(rj, 0, &out)) goto done;
    snprintf(x->row, sizeof x->row, "%.*s", (int)out.len, (const char *)out.p);
    rc = 0;
done:
    sl_rows_json_free(rj);
    sl_buf_free(&out);
    return rc;
}

/* Does x->row contain the fragment? Prints the row when not. */
static inline int jfx_has(const jfx *x, const char *frag)
{
    if (strstr(x->row, frag)) return 1;
    fprintf(stderr, "row lacks %s: %s\n", frag, x->row);
    return 0;
}

/* Validate a batch and print its rows in the canonical form (the e2e
 * drivers' output, compared with reference parsers by rowcmp.py). */
static inline sl_err_t jfx_dump_batch(const sl_batch *b, FILE *out)
{
    sl_error err;
    sl_rows_json *rj = NULL;
    sl_buf line = SL_BUF_INIT;
    sl_err_t rc = sl_batch_validate(b, &err);
    if (rc) {
        fprintf(stderr, "batch invalid: %s\n", err.msg);
        return rc;
    }
    if ((rc = sl_rows_json_new(&rj, b))) return rc;
    for (size_t i = 0; i < b->nrows && !rc; i++) {
        line.len = 0;
        if (!(rc = sl_rows_json_row(rj, i, &line))) {
            fwrite(line.p, 1, line.len, out);
            fputc('\n', out);
        }
    }
    sl_rows_json_free(rj);
    sl_buf_free(&line);
    return rc;
}

#endif
