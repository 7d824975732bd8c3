/* config.h - the pipeline file (YAML), parsed into plain structs.
 *
 * A pipeline file names its sources, schemas, streams, ETL and outputs
 * (docs/config.md, generated from the key table in config.c by
 * `sluice config-doc`). Parsing is table driven: every key has a type, a
 * default and a line of documentation in one table, and the same table
 * produces the reference, so the two never drift.
 *
 * Errors name the file, line and column, the key's full path, and what was
 * expected:
 *
 *     plays.yaml:14:11: streams[0].route: expected a mapping with one of
 *     field, header, topic (and equals)
 *
 * Unknown keys are errors (a typo must not silently fall back to a
 * default), with a suggestion when a known key is close. Relative paths
 * (state_dir, schemas, script, files output paths, dead_letter path) are
 * resolved against the directory of the pipeline file, so a pipeline runs
 * the same from any working directory.
 *
 * Everything is owned by sl_cfg and freed by sl_cfg_free. Nothing here
 * touches Kafka, schemas or the file system beyond reading the one file:
 * binding names to schemas and fields happens when the engine compiles the
 * pipeline (engine/pipeline.c), which adds its own errors with the same
 * file:line (kept in the `line`/`col` members).
 */
#ifndef SL_ENGINE_CONFIG_H
#define SL_ENGINE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum sl_route_kind {
    SL_ROUTE_ALL = 0, /* no route: every record of the source (single stream only) */
    SL_ROUTE_TOPIC,   /* route: { topic: NAME } */
    SL_ROUTE_HEADER,  /* route: { header: NAME, equals: VALUE } */
    SL_ROUTE_FIELD,   /* route: { field: dotted.path, equals: VALUE } */
} sl_route_kind;

typedef enum sl_in_format {
    SL_IN_PROTOBUF = 0,
    SL_IN_JSON,
    SL_IN_DELIMITED,
} sl_in_format;

/* How a Kafka value holds records (formats/batch). */
typedef enum sl_value_framing {
    SL_FRAMING_SINGLE = 0, /* the value is one record */
    SL_FRAMING_BATCH,      /* the value is a (compressed) batch of length-delimited records */
} sl_value_framing;

/* Unit of an epoch-number event-time field (not core/schema.h's
 * sl_time_unit, which is Parquet's TIMESTAMP unit). */
typedef enum sl_cfg_time_unit {
    SL_ETU_S = 0,
    SL_ETU_MS,
    SL_ETU_US,
    SL_ETU_NS,
} sl_cfg_time_unit;

/* Metadata columns (etl.metadata), appended after the message's columns in
 * this order. */
enum {
    SL_META_TOPIC = 1u << 0,           /* _topic STRING */
    SL_META_PARTITION = 1u << 1,       /* _partition INT32 */
    SL_META_OFFSET = 1u << 2,          /* _offset INT64 */
    SL_META_KAFKA_TIMESTAMP = 1u << 3, /* _kafka_timestamp INT64 TIMESTAMP(ms) */
    SL_META_INGEST_TIME = 1u << 4,     /* _ingest_time INT64 TIMESTAMP(ms) */
};

typedef enum sl_out_kind {
    SL_OUT_FILES = 0,
    SL_OUT_KAFKA,
} sl_out_kind;

typedef enum sl_out_format {
    SL_OUTF_PARQUET = 0, /* files */
    SL_OUTF_JSONL,       /* files: canonical JSON rows, one per line */
    SL_OUTF_PROTOBUF,    /* kafka: the record re-encoded (after ETL) */
    SL_OUTF_PASSTHROUGH, /* kafka: the input value untouched */
} sl_out_format;

/* A key=value list passed through unchanged (librdkafka properties). */
typedef struct sl_cfg_kv {
    char *key, *value;
} sl_cfg_kv;

typedef struct sl_cfg_output {
    int line, col;
    sl_out_kind kind;
    sl_out_format format;
    char *path;        /* files: path template, resolved against the config dir */
    char *compression; /* files/parquet: codec name (default "zstd") */
    int delta;         /* files/parquet: DELTA_* pages without a dictionary (default true) */
    char *topic;       /* kafka */
} sl_cfg_output;

/* A partition-commit notification target (commit.notify[]). */
typedef enum sl_notify_kind {
    SL_NOTIFY_KAFKA = 0, /* { kind: kafka, topic: T }: a JSON event on the source's cluster */
    SL_NOTIFY_WEBHOOK,   /* { kind: webhook, url: U }: HTTP POST of the JSON event */
    SL_NOTIFY_COMMAND,   /* { kind: command, run: CMD }: /bin/sh -c CMD, details in env vars */
} sl_notify_kind;

typedef struct sl_cfg_notify {
    int line, col;
    sl_notify_kind kind;
    char *topic; /* kafka */
    char *url;   /* webhook */
    char *run;   /* command (not resolved: runs in the pipeline file's directory) */
} sl_cfg_notify;

typedef enum sl_late_policy {
    SL_LATE_DROP = 0,    /* counted, not written */
    SL_LATE_SIDE_OUTPUT, /* written to the stream's late path */
    SL_LATE_REOPEN,      /* written into the committed partition, re-notified (version + 1) */
} sl_late_policy;

typedef struct sl_cfg_stream {
    int line, col;
    char *name;
    struct {
        sl_route_kind kind;
        char *name;   /* topic, header name or field path */
        char *equals; /* header/field value (NULL for topic) */
        int line, col;
    } route;
    char *message; /* full message name */
    sl_in_format format;
    char *separator;  /* delimited: default "\t" */
    char *null_token; /* delimited: default "\\N" */
    sl_value_framing framing;
    char *batch_compression; /* framing batch: auto|none|gzip|snappy|lz4|zstd (default auto) */
    struct {
        char *field; /* dotted path; NULL = the Kafka timestamp */
        sl_cfg_time_unit unit;
        char *format; /* string field: "rfc3339" or a strptime(3) format (UTC) */
        int line, col;
    } event_time;
    struct {
        char *filter; /* expression text or NULL */
        int filter_line, filter_col;
        char **columns; /* projection (top-level field names), NULL = all */
        int n_columns;
        unsigned metadata; /* SL_META_* bits */
        char *script;      /* Lua file, resolved, or NULL */
    } etl;
    sl_cfg_output *outputs;
    int n_outputs;
    /* Event time and partition commit (issue 4). Every value is resolved:
     * the stream's own key, else `defaults:`, else the built-in default. */
    struct {
        int64_t max_out_of_orderness_ms; /* event_time.max_out_of_orderness, default 30s */
        int64_t idle_timeout_ms;         /* event_time.idle_timeout, default 60s */
    } wm;
    struct {
        int64_t delay_ms;      /* commit.delay, default 0s */
        int success_file;      /* commit.success_file, default true */
        sl_cfg_notify *notify; /* commit.notify (a stream's list replaces the default list) */
        int n_notify;
        int64_t compaction_target; /* commit.compaction.target_size, default 256MiB */
        sl_late_policy late;       /* commit.late, default drop */
        char *late_path;           /* commit.late_path: side-output template, resolved; default
                                    * "<files output path>/_late" */
    } commit;
} sl_cfg_stream;

typedef struct sl_cfg {
    char *file;     /* the pipeline file as given */
    char *dir;      /* its directory (for resolving relative paths) */
    char *pipeline; /* name: [A-Za-z0-9_.-]+ */
    char *state_dir;
    int64_t checkpoint_interval_ms; /* default 60000, at least 1000 */
    int workers;                    /* default 1, 1..256 */
    struct {
        char *kind; /* "kafka" */
        char *brokers;
        char **topics;
        int n_topics;
        char *group;           /* default "sluice-<pipeline>" */
        int start_latest;      /* start: earliest (0, default) | latest (1) */
        sl_cfg_kv *properties; /* source.properties: passed to librdkafka */
        int n_properties;
    } source;
    char **schemas; /* resolved paths */
    int n_schemas;
    sl_cfg_stream *streams;
    int n_streams;
    struct {
        sl_out_kind kind;     /* files (default) or kafka */
        sl_out_format format; /* files: SL_OUTF_PARQUET (default) or SL_OUTF_JSONL */
        char *path;           /* files: directory, default ./dead_letter (resolved) */
        char *topic;          /* kafka */
    } dead_letter;
    struct {
        int enabled; /* audit.enabled, default true: per (stream, hour) counts */
        char *path;  /* audit.path: the audit log's directory, default <state_dir>/audit */
    } audit;
    struct {
        int watch; /* reload.watch: reload when the files change (default false) */
    } reload;
    struct {
        int level;  /* sl_log_level (core/log.h), default info */
        int format; /* sl_log_format, default logfmt */
    } log;
    struct {
        char *listen;     /* http.listen: HOST:PORT, NULL = no endpoint */
        char *token_file; /* http.token_file: resolved path, NULL = no authorization */
    } http;
    struct {
        int max_open_files;     /* default 1024: open writers per worker, LRU rolled */
        int64_t memory;         /* default 256 MiB: buffered bytes per worker before flushing */
        int64_t file_size;      /* default 256 MiB: a part file rolls past this size */
        int64_t row_group_size; /* default 128 MiB */
    } limits;
} sl_cfg;

/* The source's connection properties (security.*, sasl.*, ssl.*,
 * client.id, client.rack) as a NULL-terminated key, value list into out
 * (room for cap pointers): every Kafka client of the pipeline (the Kafka
 * output, notifications, dead letters) connects like the consumer does.
 * Consumer settings are left out. Returns out. */
const char **sl_cfg_connection(const sl_cfg *c, const char **out, int cap);

/* Parse a pipeline file. On error *out is NULL and err says file:line:col,
 * key and what is expected. */
sl_err_t sl_cfg_load(sl_cfg **out, const char *path, sl_error *err) SL_MUST_CHECK;
/* Same, from memory; `name` is used in error messages and relative paths
 * resolve against `dir`. */
sl_err_t sl_cfg_parse(sl_cfg **out, const char *text, size_t len, const char *name, const char *dir,
                      sl_error *err) SL_MUST_CHECK;
void sl_cfg_free(sl_cfg *c);

/* The configuration reference (Markdown), generated from the key table.
 * Caller frees; NULL when out of memory. */
char *sl_cfg_doc_markdown(void);
/* The configuration as the engine will use it, as YAML: every default filled
 * in, paths resolved, source.properties values as "***". Caller frees; NULL
 * when out of memory. (Added by the config task.) */
char *sl_cfg_dump_yaml(const sl_cfg *c);
/* The example pipeline of docs/config.md (the one of issue 3). */
const char *sl_cfg_doc_example(void);

#endif
