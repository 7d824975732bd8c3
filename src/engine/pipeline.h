/* pipeline.h - a pipeline file compiled against its schemas: streams with
 * their decode plans, output schemas, filters, routes and path templates.
 *
 * Compiling happens once, before any input is read, so every mistake that
 * can be found from the file alone (an unknown message or field, a filter
 * that does not type-check, an event-time field that is not an integer, a
 * path template with an unknown field) stops `sluice run` with FILE:LINE and
 * the key, before it touches Kafka or the lake.
 *
 * Plans are shared: streams that decode the same message share one plan, so
 * a record routed by a field is parsed once and the parse is reused by
 * whichever stream it routes to. Each stream has its own *emit schema*: the
 * plan's columns followed by its metadata columns (_topic, _partition, ...),
 * and, when `etl.columns` projects, an *output schema* holding only the
 * projected top-level fields and the metadata; the writer gets a view of
 * the emitted batch with just those columns (out_leaf).
 *
 * The compiled pipeline is immutable and shared by every worker thread.
 */
#ifndef SL_ENGINE_PIPELINE_H
#define SL_ENGINE_PIPELINE_H

#include "core/schema.h"
#include "engine/config.h"
#include "engine/filter.h"
#include "formats/pb/pb_plan.h"

/* One piece of a path template. */
typedef struct sl_tpl_seg {
    enum { SL_TPL_LIT, SL_TPL_STREAM, SL_TPL_DATE, SL_TPL_HOUR, SL_TPL_FIELD } kind;
    char *lit;    /* SL_TPL_LIT */
    sl_path path; /* SL_TPL_FIELD */
} sl_tpl_seg;

typedef struct sl_template {
    sl_tpl_seg *segs;
    int32_t n;
    char *root;   /* the literal directory prefix before the first '{' (zombie sweep) */
    int by_field; /* has SL_TPL_FIELD segments */
    int has_hour; /* has {hour}: one directory per hour (partition commit's unit) */
} sl_template;

typedef struct sl_stream {
    const sl_cfg_stream *cfg;
    int32_t idx;
    int32_t plan; /* index into sl_pipeline.plans */
    sl_schema emit_schema;
    sl_schema out_schema;   /* == emit_schema when not projecting (copied) */
    int32_t *out_leaf;      /* out leaf -> emit leaf */
    int32_t n_plan_leaves;  /* first metadata leaf */
    unsigned meta;          /* SL_META_* present, in order */
    sl_path route_path;     /* SL_ROUTE_FIELD */
    sl_path et_path;        /* event_time.field */
    int et_from_kafka;      /* no event_time.field: the Kafka timestamp */
    int et_string;          /* a string field read with event_time.format */
    int et_rfc3339;         /* ... the format is rfc3339 */
    int64_t et_mul, et_div; /* value * mul / div = milliseconds */
    sl_filter *filter;      /* NULL: keep all */
    int out_files;          /* index of the files output, -1 none */
    int out_kafka;          /* index of the kafka output, -1 none */
    const char *kafka_topic;
    int kafka_passthrough; /* the input record's bytes, not re-encoded */
    uint8_t *kafka_keep;   /* re-encoding: top-level fields kept (projection), NULL = all */
    sl_template tpl;       /* files output path */
    sl_template late_tpl;  /* commit.late: side-output: where late records go (n = 0: none) */
    int codec;             /* files/parquet codec */
    int no_delta;          /* files/parquet: PLAIN, not DELTA_*, where no dictionary is */
    int jsonl;             /* files output format jsonl */
    int framing_batch;
    int batch_codec;
} sl_stream;

/* Streams routed by the same field of the same message: one parse, one
 * read of the field, one hash lookup of its value (the key is the string's
 * bytes, or the 8 bytes of a number: enum names in `equals` are turned into
 * their numbers at compile time). */
typedef struct sl_route_group {
    int32_t plan;
    sl_path path;
    int is_bytes;
    uint32_t mask; /* table size - 1 */
    struct sl_route_slot {
        int32_t stream; /* -1: empty */
        uint32_t len;
        const uint8_t *key;
    } * table;
    uint8_t (*num_keys)[8]; /* storage of numeric keys, one per stream */
} sl_route_group;

typedef struct sl_pipeline {
    const sl_cfg *cfg;
    sl_pb_pool pool;
    sl_plan *plans;
    char **plan_msg;
    int32_t n_plans;
    sl_stream *streams;
    int32_t n_streams;
    /* routing */
    int32_t route_all;      /* stream taking every record, or -1 */
    int has_kafka_out;      /* a stream has a kafka output: checkpoints carry a transaction */
    sl_route_group *groups; /* field routes, grouped by (plan, path) */
    int32_t n_groups;
    sl_schema dl_schema; /* dead letters as Parquet (engine/deadletter.h) */
} sl_pipeline;

sl_err_t sl_pipeline_compile(sl_pipeline *p, const sl_cfg *cfg, sl_error *err) SL_MUST_CHECK;
void sl_pipeline_free(sl_pipeline *p);

/* Route by topic and headers: the stream index, or -1 when the value must
 * be parsed to route by field (or matches nothing). get_header returns the
 * last value of a header or NULL. */
int32_t sl_pipeline_route_meta(const sl_pipeline *p, const char *topic,
                               const char *(*get_header)(void *arg, const char *name, size_t *len),
                               void *arg);

/* The event time of a parsed record in ms (UTC), from its field (integer
 * epoch in the unit, or a string in the format) or the Kafka timestamp
 * kts. -1 with the reason in why (null field, a string that does not match). */
int sl_stream_event_time(const sl_stream *st, const sl_rec *r, int64_t kts, int64_t *et, char *why,
                         size_t cap);

/* Route a record parsed with group g's plan: the stream, or -1. */
int32_t sl_route_group_lookup(const sl_route_group *g, const sl_rec *r);

/* Expand the files path of stream s for a record (event time in ms): the
 * directory, into out (NUL-terminated). Values from data are sanitized
 * (no '/', no "..", no control characters; null -> __null__, empty ->
 * __empty__). Returns the length, or -1 when it does not fit. */
int sl_template_expand(const sl_stream *s, const sl_rec *r, int64_t et_ms, char *out, size_t cap);
/* The same with another template of the stream (late_tpl). */
int sl_tpl_expand(const sl_template *t, const sl_stream *s, const sl_rec *r, int64_t et_ms,
                  char *out, size_t cap);

#endif
