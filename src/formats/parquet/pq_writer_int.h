/* pq_writer_int.h - private to the Parquet writer: the writer object and
 * the per-column chunk writer (pq_column.c) that pq_writer.c drives.
 *
 * A column writer owns one open page and one column chunk:
 *   open page  - the page's def/rep levels (one byte per slot, copied from
 *                the batches), its values (PLAIN bytes, BOOLEAN bits, or
 *                dictionary indexes) and its statistics;
 *   chunk      - the finished pages of the row group, already compressed
 *                and framed (header + body), the dictionary, counters and
 *                chunk statistics.
 * Pages always end on a row boundary (rep == 0 at the next slot), so
 * every page holds whole rows, as page indexes and some readers want.
 */
#ifndef SL_PQ_WRITER_INT_H
#define SL_PQ_WRITER_INT_H

#include "formats/parquet/pq_codec.h"
#include "formats/parquet/pq_encode.h"
#include "formats/parquet/pq_stats.h"
#include "formats/parquet/pq_writer.h"

/* Most slots in one page, whatever page_bytes says: bounds the index and
 * level buffers of a dictionary page whose encoded size grows slowly, and
 * matches parquet-mr's and Arrow's page row limit. */
#define SL_PQ_PAGE_MAX_SLOTS 20000

/* A column chunk's framed pages (pq_blocks.c). */
typedef struct sl_pq_blocks {
    struct sl_pq_block {
        uint8_t *p;
        size_t len, cap;
    } * b;
    int32_t n, cap, cur;
    size_t total;     /* bytes stored */
    size_t next_size; /* size of the next new block */
} sl_pq_blocks;

void sl_pq_blocks_reset(sl_pq_blocks *s); /* rewind, keep the blocks */
void sl_pq_blocks_free(sl_pq_blocks *s);
sl_err_t sl_pq_blocks_append(sl_pq_blocks *s, const void *p, size_t n) SL_MUST_CHECK;
/* Contiguous room for n bytes (NULL on NOMEM); then commit what was used. */
uint8_t *sl_pq_blocks_reserve(sl_pq_blocks *s, size_t n);
void sl_pq_blocks_commit(sl_pq_blocks *s, size_t n);

typedef struct sl_pq_colw {
    const sl_node *node;
    int32_t leaf;
    uint8_t ptype;
    uint8_t sk;    /* sl_pq_sort_t */
    uint8_t width; /* bytes per value: 1 BOOLEAN (in batches), 4, 8; 0 BYTE_ARRAY */
    uint8_t can_dict;
    uint8_t can_delta; /* pages without a dictionary: INT64 DELTA_BINARY_PACKED,
                          BYTE_ARRAY DELTA_LENGTH_BYTE_ARRAY (pval holds the
                          bytes only, pidx the lengths) */
    int16_t max_def, max_rep;
    int def_bw, rep_bw;
    const char **path; /* path_in_schema, n_path names */
    int32_t n_path;

    /* open page */
    uint8_t *pdef, *prep;
    size_t plvl_cap;
    size_t pslots, pvals;
    sl_buf pval; /* ph bytes of headroom (for the levels), then PLAIN values or BOOLEAN bits */
    size_t ph;
    size_t pbits;   /* BOOLEAN: bits used in pval */
    uint32_t *pidx; /* dictionary mode: one index per value */
    size_t pidx_cap;
    size_t pplain; /* PLAIN size of the page's values (does the dictionary pay?) */
    sl_pq_acc pst;
    uint32_t page_no; /* distinct per page; marks dictionary entries */

    /* chunk */
    int dict_on;   /* pages are being dictionary encoded */
    int dict_used; /* some page of this chunk is dictionary encoded */
    int plain_pages;
    int delta_pages;
    sl_pq_dict dict;
    sl_pq_blocks chunk; /* framed data pages */
    int64_t c_slots, c_unc, c_comp;
    int32_t c_pages;
    int c_codec; /* codec of this chunk, -1 until its first page decides */
    int c_level; /* its level for data pages (opt.level or SL_PQ_LEVEL_LITERALS) */
    sl_pq_acc cst;
    uint32_t *fresh; /* scratch: distinct dictionary entries of a slice */
    size_t fresh_cap;

    /* footer metadata of the last written chunk */
    int32_t encodings[4];
    sl_pq_stat_bytes sb;
} sl_pq_colw;

struct sl_pq_writer {
    const sl_schema *schema;
    sl_ostream *os;
    sl_pq_options opt;
    sl_pq_codec_ctx *codec;
    sl_pq_colw *cols;
    int32_t ncols;
    const char **path_store;
    sl_buf lvl, vbuf, body, hdr; /* page scratch */
    sl_buf trial;                /* codec trial of a chunk's first page */
    sl_pq_blocks dictpage;       /* a framed dictionary page */
    sl_buf rg_meta;              /* encoded RowGroup structs */
    int32_t n_rg;
    int64_t rg_rows, total_rows;
    uint64_t offset;    /* bytes handed to the stream */
    size_t *pos, *vpos; /* per column: slot and value cursor in a batch */
    sl_pq_column_meta *metas;
    sl_pq_schema_elem *elems;
    int32_t n_elems;
    sl_pq_kv *kv;
    int32_t n_kv;
    char **kv_store; /* owned strings of kv */
    int32_t n_kv_store;
    int32_t *orders;
    sl_err_t failed;
    char first_msg[SL_ERRMSG_MAX];
    int closed;
};

/* pq_column.c */
sl_err_t sl_pq_colw_init(sl_pq_writer *w, sl_pq_colw *c, int32_t leaf, sl_error *err);
void sl_pq_colw_free(sl_pq_colw *c);
/* Append slots [s0, s1) of src (which start at a row boundary; s1 is one)
 * whose non-null values start at *v0; advances *v0. May cut pages. */
sl_err_t sl_pq_colw_append(sl_pq_writer *w, sl_pq_colw *c, const sl_col *src, size_t s0, size_t s1,
                           size_t *v0, sl_error *err) SL_MUST_CHECK;
/* Estimated uncompressed bytes of the chunk so far (pages + open page +
 * dictionary): the row-group size measure. */
size_t sl_pq_colw_estimate(const sl_pq_colw *c);
/* Cut the open page, write dictionary page and data pages to the stream,
 * fill meta (valid until the next call on c), reset the chunk. */
sl_err_t sl_pq_colw_write_chunk(sl_pq_writer *w, sl_pq_colw *c, sl_pq_column_meta *meta,
                                sl_error *err) SL_MUST_CHECK;

/* pq_writer.c: write to the stream, counting the offset. */
sl_err_t sl_pq_w_out(sl_pq_writer *w, const void *p, size_t n, sl_error *err) SL_MUST_CHECK;
/* pq_blocks.c: write a chunk's blocks to the stream. */
sl_err_t sl_pq_blocks_write(sl_pq_writer *w, const sl_pq_blocks *s, sl_error *err) SL_MUST_CHECK;

#endif
