/* pq_meta.h - Parquet file metadata as plain C structs, and the Thrift
 * compact protocol that serializes them.
 *
 * This is the subset of apache/parquet-format's parquet.thrift that sluice
 * writes and reads: FileMetaData, SchemaElement, RowGroup, ColumnChunk,
 * ColumnMetaData, Statistics, KeyValue, PageHeader (data v1, data v2 on
 * read, dictionary). Field ids in comments are parquet.thrift's. The
 * decoder skips every field it does not know (any Thrift type, nested), so
 * files from other writers parse; it bounds every count and length by the
 * bytes actually present, so a hostile footer cannot make it allocate more
 * than a small multiple of its own size.
 *
 * Memory: all strings and arrays hang off an arena owned by the decoded
 * object (sl_pq_meta_free releases everything at once).
 */
#ifndef SL_PQ_META_H
#define SL_PQ_META_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* parquet.thrift enums (values as in the spec) */
enum {
    SL_PQ_ENC_PLAIN = 0,
    SL_PQ_ENC_PLAIN_DICTIONARY = 2,
    SL_PQ_ENC_RLE = 3,
    SL_PQ_ENC_BIT_PACKED = 4,
    SL_PQ_ENC_DELTA_BINARY_PACKED = 5,
    SL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    SL_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    SL_PQ_ENC_RLE_DICTIONARY = 8,
    SL_PQ_ENC_BYTE_STREAM_SPLIT = 9
};
enum {
    SL_PQ_CODEC_UNCOMPRESSED = 0,
    SL_PQ_CODEC_SNAPPY = 1,
    SL_PQ_CODEC_GZIP = 2,
    SL_PQ_CODEC_LZO = 3,
    SL_PQ_CODEC_BROTLI = 4,
    SL_PQ_CODEC_LZ4 = 5,
    SL_PQ_CODEC_ZSTD = 6,
    SL_PQ_CODEC_LZ4_RAW = 7
};
enum {
    SL_PQ_PAGE_DATA = 0,
    SL_PQ_PAGE_INDEX = 1,
    SL_PQ_PAGE_DICTIONARY = 2,
    SL_PQ_PAGE_DATA_V2 = 3
};
/* ConvertedType (legacy annotations, written alongside LogicalType) */
enum {
    SL_PQ_CT_UTF8 = 0,
    SL_PQ_CT_MAP = 1,
    SL_PQ_CT_MAP_KEY_VALUE = 2,
    SL_PQ_CT_LIST = 3,
    SL_PQ_CT_ENUM = 4,
    SL_PQ_CT_TIMESTAMP_MILLIS = 9,
    SL_PQ_CT_TIMESTAMP_MICROS = 10,
    SL_PQ_CT_UINT_8 = 11,
    SL_PQ_CT_UINT_16 = 12,
    SL_PQ_CT_UINT_32 = 13,
    SL_PQ_CT_UINT_64 = 14,
    SL_PQ_CT_INT_8 = 15,
    SL_PQ_CT_INT_16 = 16,
    SL_PQ_CT_INT_32 = 17,
    SL_PQ_CT_INT_64 = 18
};

typedef struct sl_pq_bytes {
    const uint8_t *p; /* points into the arena or the decoded buffer */
    uint32_t len;
    uint8_t set;
} sl_pq_bytes;

typedef struct sl_pq_stats {
    sl_pq_bytes min_value;  /* 6 */
    sl_pq_bytes max_value;  /* 5 */
    int64_t null_count;     /* 3, -1 if absent */
    int64_t distinct_count; /* 4, -1 if absent */
    int8_t is_max_exact;    /* 7, -1 if absent */
    int8_t is_min_exact;    /* 8, -1 if absent */
    int64_t nan_count;      /* 9, -1 if absent (added by the writer: the spec
                             * requires it for FLOAT/DOUBLE with TYPE_ORDER) */
} sl_pq_stats;

typedef struct sl_pq_schema_elem {
    int32_t type;           /* 1, -1 for groups */
    int32_t type_length;    /* 2 */
    int32_t repetition;     /* 3, -1 if absent (root) */
    const char *name;       /* 4 */
    int32_t num_children;   /* 5 */
    int32_t converted_type; /* 6, -1 if absent */
    int32_t field_id;       /* 9, -1 if absent */
    /* 10 LogicalType: union id (1 STRING, 2 MAP, 3 LIST, 4 ENUM, 8 TIMESTAMP,
     * 10 INTEGER, ...) or 0 if absent, with the parameters sluice uses. */
    int32_t logical;
    int8_t ts_utc, ts_unit;      /* TIMESTAMP: isAdjustedToUTC, 0 MILLIS 1 MICROS 2 NANOS */
    int8_t int_bits, int_signed; /* INTEGER */
} sl_pq_schema_elem;

typedef struct sl_pq_column_meta {
    int32_t type;       /* 1 */
    int32_t *encodings; /* 2 */
    int32_t n_encodings;
    const char **path; /* 3 */
    int32_t n_path;
    int32_t codec;                  /* 4 */
    int64_t num_values;             /* 5 */
    int64_t total_uncompressed;     /* 6 */
    int64_t total_compressed;       /* 7 */
    int64_t data_page_offset;       /* 9 */
    int64_t dictionary_page_offset; /* 11, -1 if absent */
    sl_pq_stats stats;              /* 12 */
    uint8_t has_stats;
} sl_pq_column_meta;

typedef struct sl_pq_row_group {
    sl_pq_column_meta *columns; /* 1 (ColumnChunk.meta_data, 3) */
    int32_t n_columns;
    int64_t total_byte_size;  /* 2 */
    int64_t num_rows;         /* 3 */
    int64_t file_offset;      /* 5, -1 if absent */
    int64_t total_compressed; /* 6, -1 if absent */
    int32_t ordinal;          /* 7, -1 if absent */
} sl_pq_row_group;

typedef struct sl_pq_kv {
    const char *key;
    const char *value; /* NULL if absent */
} sl_pq_kv;

typedef struct sl_pq_file_meta {
    int32_t version;           /* 1 */
    sl_pq_schema_elem *schema; /* 2 */
    int32_t n_schema;
    int64_t num_rows;            /* 3 */
    sl_pq_row_group *row_groups; /* 4 */
    int32_t n_row_groups;
    sl_pq_kv *kv; /* 5 */
    int32_t n_kv;
    const char *created_by; /* 6 */
    /* 7 column_orders: one ColumnOrder union field id per leaf (1 =
     * TYPE_ORDER, 2 = IEEE_754_TOTAL_ORDER); n_column_orders 0 = absent.
     * The writer sets TYPE_ORDER for every leaf so min_value/max_value
     * are well defined. */
    const int32_t *column_orders;
    int32_t n_column_orders;
    void *arena; /* owns everything above when decoded */
} sl_pq_file_meta;

typedef struct sl_pq_page_header {
    int32_t type;              /* 1 */
    int32_t uncompressed_size; /* 2 */
    int32_t compressed_size;   /* 3 */
    /* data page v1 (5) / v2 (8) / dictionary (7) */
    int32_t num_values;
    int32_t encoding;
    int32_t def_encoding, rep_encoding; /* v1 */
    int32_t num_nulls, num_rows;        /* v2 */
    int32_t def_len, rep_len;           /* v2: level byte lengths (uncompressed) */
    int8_t v2_compressed;               /* v2: is_compressed (default true) */
    sl_pq_stats stats;
    uint8_t has_stats;
} sl_pq_page_header;

/* Encode (append to out). Return SL_ERR_NOMEM on failure. */
sl_err_t sl_pq_meta_encode(const sl_pq_file_meta *m, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_pq_page_header_encode(const sl_pq_page_header *h, sl_buf *out) SL_MUST_CHECK;

/* Decode. The file meta keeps pointers into `data` for strings/binary: the
 * caller keeps data alive as long as m. Errors name the Thrift struct and
 * field that was malformed. */
sl_err_t sl_pq_meta_decode(sl_pq_file_meta *m, const uint8_t *data, size_t len,
                           sl_error *err) SL_MUST_CHECK;
/* Decode one page header at data; *used gets its encoded size. */
sl_err_t sl_pq_page_header_decode(sl_pq_page_header *h, const uint8_t *data, size_t len,
                                  size_t *used, sl_error *err) SL_MUST_CHECK;
void sl_pq_meta_free(sl_pq_file_meta *m);

#endif
