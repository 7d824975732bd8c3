/* config_table.c - the pipeline-file key table, and the two texts made from
 * it: the Markdown reference (docs/config.md, `sluice config-doc`) and the
 * normalized configuration (`sluice config-doc --check FILE`).
 *
 * The table is the single source of truth for key names, types, defaults,
 * allowed values and documentation (see config_int.h); config.c reads files
 * with it. Both texts are produced by walking the table, so a key cannot be
 * parsed without being documented, and the dump shows every key with the value
 * the engine will use (defaults filled in, paths resolved). Values of
 * source.properties may hold credentials and are always printed as ***.
 * The dump shows `defaults:` and, in every stream, the resolved event-time
 * and commit values (so it parses back to the same configuration); an empty
 * list is printed as [] so it stays "set, empty" rather than "not set".
 * Stream rows that inherit from `defaults:` are SL_CKF_COMPUTED: their
 * default text names the defaults key (config_check.c resolves them).
 *
 * Output goes through open_memstream; a failed allocation returns NULL. The
 * cost is linear in table size plus configuration size, run once per command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config_int.h"

#define R(f) offsetof(sl_cfg, f)
#define S(f) offsetof(sl_cfg_stream, f)
#define O(f) offsetof(sl_cfg_output, f)
#define D(f) SL_CFG_D(f)
#define N(f) offsetof(sl_cfg_notify, f)
#define REQ  SL_CKF_REQUIRED
#define CMP  SL_CKF_COMPUTED
#define MIB  ((int64_t)1 << 20)
#define WEEK ((int64_t)7 * 86400000)

/* clang-format off */
const sl_cfg_key sl_cfg_keys[] = {
    {.path = "pipeline", .type = SL_CK_NAME, .flags = REQ, .off = R(pipeline),
     .doc = "Name of the pipeline ([A-Za-z0-9_.-]+, not only dots, at most 128 bytes). It is part of "
            "the default consumer group and of every published file name, and recovery deletes "
            "only unpublished files carrying this name: pipelines sharing a lake need distinct names."},
    {.path = "state_dir", .type = SL_CK_PATH, .dflt = "./state", .off = R(state_dir),
     .doc = "Directory for checkpoint manifests and other state of this pipeline. It must survive "
            "restarts: losing it loses the exactly-once positions."},
    {.path = "checkpoint", .type = SL_CK_MAP,
     .doc = "When checkpoints are taken (see DESIGN.md, checkpoint protocol)."},
    {.path = "checkpoint.interval", .type = SL_CK_DURATION, .dflt = "60s", .lo = 1000,
     .hi = 86400000, .off = R(checkpoint_interval_ms),
     .doc = "Time between checkpoints. Files become visible and Kafka output is committed at each "
            "checkpoint, so this is the output latency. At least 1s, at most 1d."},
    {.path = "workers", .type = SL_CK_INT, .dflt = "1", .lo = 1, .hi = 256, .off = R(workers),
     .doc = "Worker threads that decode, transform and write. Input partitions are spread over them."},
    {.path = "source", .type = SL_CK_MAP, .flags = REQ, .doc = "Where records come from."},
    {.path = "source.kind", .type = SL_CK_ENUMSTR, .dflt = "kafka", .allowed = "kafka",
     .off = R(source.kind), .doc = "Source type."},
    {.path = "source.brokers", .type = SL_CK_STR, .flags = REQ, .off = R(source.brokers),
     .doc = "Bootstrap servers, comma separated (host:port,host:port)."},
    {.path = "source.topics", .type = SL_CK_STRLIST, .flags = REQ, .off = R(source.topics),
     .off_n = R(source.n_topics), .doc = "Topics to consume."},
    {.path = "source.group", .type = SL_CK_STR, .flags = SL_CKF_COMPUTED,
     .dflt = "`sluice-<pipeline>`", .off = R(source.group),
     .doc = "Kafka consumer group. Positions come from sluice's checkpoints, never from the group; "
            "they are committed to the group after each checkpoint for lag monitoring only."},
    {.path = "source.start", .type = SL_CK_ENUM, .dflt = "earliest", .allowed = "earliest|latest",
     .off = R(source.start_latest),
     .doc = "Where to begin in a partition that has no checkpointed position yet."},
    {.path = "source.properties", .type = SL_CK_STRMAP, .off = R(source.properties),
     .off_n = R(source.n_properties),
     .doc = "librdkafka properties passed through unchanged (security.protocol, sasl.username, "
            "sasl.password, ssl.ca.location, ...). Values are treated as secrets: never printed in "
            "errors, shown as *** by `sluice config-doc --check`."},
    {.path = "schemas", .type = SL_CK_PATHLIST, .flags = REQ, .off = R(schemas),
     .off_n = R(n_schemas),
     .doc = "Protobuf schema files: .proto sources or descriptor sets (protoc -o). Streams name "
            "their message from these."},
    {.path = "defaults", .type = SL_CK_MAP,
     .doc = "Event-time and partition-commit settings for every stream. A stream uses its own key "
            "where it has one (`streams[].event_time.*`, `streams[].commit.*`), else the key here, "
            "else the built-in default. `defaults` is read before the streams wherever it is "
            "written in the file."},
    {.path = "defaults.event_time", .type = SL_CK_MAP,
     .doc = "Watermarks (DESIGN.md, event time and partition commit): per input partition, then "
            "the minimum per worker, then per pipeline."},
    {.path = "defaults.event_time.max_out_of_orderness", .type = SL_CK_DURATION, .dflt = "30s",
     .lo = 0, .hi = WEEK, .off = D(wm.max_out_of_orderness_ms),
     .doc = "How late a record may be: an input partition's watermark is the largest event time "
            "seen there minus this bound. A record older than that may find its hour committed "
            "already; then `commit.late` applies. At most 7d."},
    {.path = "defaults.event_time.idle_timeout", .type = SL_CK_DURATION, .dflt = "60s",
     .lo = 1000, .hi = WEEK, .off = D(wm.idle_timeout_ms),
     .doc = "An input partition without records for this long is left out of the watermark "
            "minimum, so a quiet partition does not hold every hour back; its next record brings "
            "it back. From 1s to 7d."},
    {.path = "defaults.commit", .type = SL_CK_MAP,
     .doc = "Committing an hour partition (stream, hour): once the stream's watermark passes the "
            "end of the hour plus `delay` and all its records are in a completed checkpoint, its "
            "part files are compacted, `_SUCCESS` is written, then the notifications go out, in "
            "that order. Hours without records are committed too (empty)."},
    {.path = "defaults.commit.delay", .type = SL_CK_DURATION, .dflt = "0s", .lo = 0, .hi = WEEK,
     .off = D(commit.delay_ms),
     .doc = "Extra wait after the watermark passes the end of an hour before the hour is "
            "committed. At most 7d."},
    {.path = "defaults.commit.success_file", .type = SL_CK_BOOL, .dflt = "true",
     .off = D(commit.success_file),
     .doc = "Write a `_SUCCESS` file (JSON: rows, files, bytes, watermark, partition version) "
            "into each committed partition."},
    {.path = "defaults.commit.notify", .type = SL_CK_MAPLIST, .flags = SL_CKF_EMPTY_OK,
     .hi = SL_CFG_MAX_NOTIFY, .off = D(commit.notify), .off_n = D(commit.n_notify),
     .elem = sizeof(sl_cfg_notify),
     .doc = "Where each committed partition is announced, at most 16 targets, e.g. "
            "`[{ kind: kafka, topic: sluice.partitions }, { kind: webhook, url: "
            "\"http://127.0.0.1:8080/ready\" }, { kind: command, run: ./on-ready.sh }]`. Each "
            "notification carries an id (stream/partition/version); delivery is at least once and "
            "a repeat carries the same id. A stream's own `commit.notify` replaces this list "
            "entirely; `[]` means no notifications. A target listed twice is an error."},
    {.path = "defaults.commit.notify[].kind", .type = SL_CK_ENUM, .flags = REQ,
     .allowed = "kafka|webhook|command", .off = N(kind),
     .doc = "kafka: a JSON event on `topic`, in the source's cluster. webhook: an HTTP POST of "
            "the JSON event to `url`, retried with backoff. command: `run` through /bin/sh in the "
            "pipeline file's directory, with the details in environment variables. Each kind "
            "takes exactly its own key."},
    {.path = "defaults.commit.notify[].topic", .type = SL_CK_STR, .off = N(topic),
     .doc = "kind kafka (required): the topic of the partition events (1 to 249 of "
            "[A-Za-z0-9._-])."},
    {.path = "defaults.commit.notify[].url", .type = SL_CK_STR, .off = N(url),
     .doc = "kind webhook (required): an http:// or https:// URL with a host, without spaces. It "
            "is never echoed in error messages."},
    {.path = "defaults.commit.notify[].run", .type = SL_CK_STR, .off = N(run),
     .doc = "kind command (required): the shell command."},
    {.path = "defaults.commit.compaction", .type = SL_CK_MAP,
     .doc = "Merging a partition's part files before `_SUCCESS`."},
    {.path = "defaults.commit.compaction.target_size", .type = SL_CK_SIZE, .dflt = "256MiB",
     .lo = MIB, .hi = (int64_t)1 << 40, .off = D(commit.compaction_target),
     .doc = "Part files are merged into files of about this size: a committed partition holds at "
            "most ceil(bytes / target_size) + 1 files."},
    {.path = "defaults.commit.late", .type = SL_CK_ENUM, .dflt = "drop",
     .allowed = "drop|side-output|reopen", .off = D(commit.late),
     .doc = "A record whose hour is committed already. drop: counted, not written. side-output: "
            "written under `late_path`. reopen: written into the committed partition, which is "
            "committed again and re-notified with version + 1."},
    {.path = "defaults.commit.late_path", .type = SL_CK_PATH, .flags = CMP,
     .dflt = "`<first files output path>/_late` of each stream", .off = D(commit.late_path),
     .doc = "late side-output: directory template of late records, with the placeholders of a "
            "files output `path` (`{stream}`, `{date}`, `{hour}`, ...). With `late: side-output`, a "
            "stream without a files output needs this key."},
    {.path = "streams", .type = SL_CK_MAPLIST, .flags = REQ, .off = R(streams),
     .off_n = R(n_streams), .elem = sizeof(sl_cfg_stream),
     .doc = "The streams: each routes some of the source's records to one message type, ETL and "
            "outputs. With more than one stream, every stream needs a `route`."},
    {.path = "streams[].name", .type = SL_CK_NAME, .flags = REQ, .off = S(name),
     .doc = "Stream name ([A-Za-z0-9_.-]+, not only dots), unique in the pipeline. It is the "
            "`{stream}` of output paths."},
    {.path = "streams[].route", .type = SL_CK_MAP, .flags = SL_CKF_POS, .off_pos = S(route.line),
     .doc = "Which records belong to this stream: exactly one of `field`, `header`, `topic`; "
            "`field` and `header` also need `equals`. Optional with a single stream (then every "
            "record is the stream's). Records no stream matches are dead-lettered."},
    {.path = "streams[].route.field", .type = SL_CK_ROUTE, .tag = SL_ROUTE_FIELD,
     .off = S(route.name),
     .doc = "Dotted path of a field of the message; the record belongs to the stream when the "
            "field's value equals `equals` (compared as text)."},
    {.path = "streams[].route.header", .type = SL_CK_ROUTE, .tag = SL_ROUTE_HEADER,
     .off = S(route.name), .doc = "Name of a Kafka header whose value must equal `equals`."},
    {.path = "streams[].route.topic", .type = SL_CK_ROUTE, .tag = SL_ROUTE_TOPIC,
     .off = S(route.name), .doc = "Every record of this source topic belongs to the stream."},
    {.path = "streams[].route.equals", .type = SL_CK_STR, .flags = SL_CKF_EMPTY_OK,
     .off = S(route.equals),
     .doc = "The value compared with the field or header. Quote it (\"001000\") to keep leading "
            "zeros obvious; it is always read as text."},
    {.path = "streams[].message", .type = SL_CK_STR, .flags = REQ, .off = S(message),
     .doc = "Full name of the protobuf message of the records (package.Message)."},
    {.path = "streams[].format", .type = SL_CK_ENUM, .dflt = "protobuf",
     .allowed = "protobuf|json|delimited", .off = S(format),
     .doc = "Encoding of a record: protobuf binary, JSON (proto3 JSON mapping) or delimited text "
            "(fields in message field order)."},
    {.path = "streams[].separator", .type = SL_CK_STR, .dflt = "\t", .off = S(separator),
     .doc = "format delimited: the one-byte field separator."},
    {.path = "streams[].null", .type = SL_CK_STR, .flags = SL_CKF_EMPTY_OK, .dflt = "\\N",
     .off = S(null_token), .doc = "format delimited: the text of a null field."},
    {.path = "streams[].framing", .type = SL_CK_ENUM, .dflt = "single", .allowed = "single|batch",
     .off = S(framing),
     .doc = "How a Kafka value holds records: one record, or a (compressed) batch of "
            "length-delimited records (docs/formats.md)."},
    {.path = "streams[].batch_compression", .type = SL_CK_ENUMSTR, .dflt = "auto",
     .allowed = "auto|none|gzip|snappy|lz4|zstd", .off = S(batch_compression),
     .doc = "framing batch: codec of the batch; auto detects it from the magic bytes."},
    {.path = "streams[].event_time", .type = SL_CK_MAP, .flags = SL_CKF_POS,
     .off_pos = S(event_time.line),
     .doc = "Where a record's event time comes from; it fills `{date}` and `{hour}` (UTC) of "
            "output paths. Without `field` it is the Kafka message timestamp."},
    {.path = "streams[].event_time.field", .type = SL_CK_STR, .off = S(event_time.field),
     .doc = "Dotted path of the field holding the event time: an integer (epoch time in "
            "`unit`) or a string (read with `format`)."},
    {.path = "streams[].event_time.unit", .type = SL_CK_ENUM, .dflt = "ms", .allowed = "s|ms|us|ns",
     .off = S(event_time.unit), .doc = "Unit of `field` when it is an integer."},
    {.path = "streams[].event_time.format", .type = SL_CK_STR, .off = S(event_time.format),
     .doc = "When `field` is a string: `rfc3339` (2025-12-01T13:05:00.250Z, or with an offset "
            "such as +08:00), or a strptime(3) format such as `%Y-%m-%d %H:%M:%S`, read as UTC; "
            "a fraction of a second (`.250`) after the format is read too."},
    {.path = "streams[].event_time.kafka_timestamp", .type = SL_CK_KTS, .flags = SL_CKF_COMPUTED,
     .dflt = "true when `field` is not set",
     .doc = "true: use the Kafka message timestamp (then `field` must not be set). false requires "
            "`field`."},
    {.path = "streams[].event_time.max_out_of_orderness", .type = SL_CK_DURATION, .flags = CMP,
     .dflt = "`defaults.event_time.max_out_of_orderness`", .lo = 0, .hi = WEEK,
     .off = S(wm.max_out_of_orderness_ms),
     .doc = "This stream's bound on out-of-order records (see the defaults key)."},
    {.path = "streams[].event_time.idle_timeout", .type = SL_CK_DURATION, .flags = CMP,
     .dflt = "`defaults.event_time.idle_timeout`", .lo = 1000, .hi = WEEK,
     .off = S(wm.idle_timeout_ms),
     .doc = "This stream's idle timeout of an input partition (see the defaults key)."},
    {.path = "streams[].etl", .type = SL_CK_MAP,
     .doc = "Per-record transformation, in this order: filter, script, projection, metadata."},
    {.path = "streams[].etl.filter", .type = SL_CK_STR, .flags = SL_CKF_POS, .off = S(etl.filter),
     .off_pos = S(etl.filter_line),
     .doc = "Keep only records for which this condition is true: comparisons of a field (dotted "
            "path) with literals, `and`, `or`, `not`, `in (...)`, `is null`; SQL three-valued "
            "logic, so a record whose condition is unknown is dropped. Example: "
            "\"play_seconds > 0 and platform != 'TV'\". The language is in docs/formats.md, ETL."},
    {.path = "streams[].etl.columns", .type = SL_CK_STRLIST, .off = S(etl.columns),
     .off_n = S(etl.n_columns),
     .doc = "Projection: the top-level fields to keep, in message order. Default: all fields."},
    {.path = "streams[].etl.metadata", .type = SL_CK_FLAGS,
     .allowed = "topic|partition|offset|kafka_timestamp|ingest_time", .off = S(etl.metadata),
     .doc = "Metadata columns appended after the message's columns, in this order: _topic, "
            "_partition, _offset, _kafka_timestamp, _ingest_time (whichever are listed)."},
    {.path = "streams[].etl.script", .type = SL_CK_PATH, .off = S(etl.script),
     .doc = "Lua 5.4 file with a transform function for custom cleaning; a failing call "
            "dead-letters that record."},
    {.path = "streams[].outputs", .type = SL_CK_MAPLIST, .flags = REQ, .off = S(outputs),
     .off_n = S(n_outputs), .elem = sizeof(sl_cfg_output),
     .doc = "Where the stream's records go (at least one)."},
    {.path = "streams[].outputs[].kind", .type = SL_CK_ENUM, .flags = REQ, .allowed = "files|kafka",
     .off = O(kind),
     .doc = "files: partitioned files published at each checkpoint. kafka: a topic written by a "
            "transactional producer."},
    {.path = "streams[].outputs[].path", .type = SL_CK_PATH, .off = O(path),
     .doc = "kind files (required): directory template of the part files, with `{stream}`, "
            "`{date}` (YYYY-MM-DD), `{hour}` (HH) from event time, and `{field.path}` values "
            "(sanitized: no `..`, `/` or control characters)."},
    {.path = "streams[].outputs[].format", .type = SL_CK_ENUM, .flags = SL_CKF_COMPUTED,
     .dflt = "parquet (files), protobuf (kafka)", .allowed = "parquet|jsonl|protobuf|passthrough",
     .off = O(format),
     .doc = "files: parquet or jsonl (one JSON object per line). kafka: protobuf (re-encoded after "
            "ETL) or passthrough (the input value untouched)."},
    {.path = "streams[].outputs[].compression", .type = SL_CK_ENUMSTR, .dflt = "zstd",
     .allowed = "zstd|snappy|gzip|lz4|none", .off = O(compression),
     .doc = "kind files, format parquet: page compression codec."},
    {.path = "streams[].outputs[].delta", .type = SL_CK_BOOL, .dflt = "true", .off = O(delta),
     .doc = "kind files, format parquet: pages that hold no dictionary are DELTA_BINARY_PACKED "
            "(int64) and DELTA_LENGTH_BYTE_ARRAY (strings), smaller and cheaper to compress than "
            "PLAIN. `false` writes PLAIN there, for readers that lack the DELTA encodings (older "
            "Impala, for one); DuckDB, Spark, Trino, Hive and parquet-mr read them."},
    {.path = "streams[].outputs[].topic", .type = SL_CK_STR, .off = O(topic),
     .doc = "kind kafka (required): the topic to write."},
    {.path = "streams[].commit", .type = SL_CK_MAP,
     .doc = "This stream's partition-commit settings; each key left out comes from "
            "`defaults.commit`."},
    {.path = "streams[].commit.delay", .type = SL_CK_DURATION, .flags = CMP,
     .dflt = "`defaults.commit.delay`", .lo = 0, .hi = WEEK, .off = S(commit.delay_ms),
     .doc = "See `defaults.commit.delay`."},
    {.path = "streams[].commit.success_file", .type = SL_CK_BOOL, .flags = CMP,
     .dflt = "`defaults.commit.success_file`", .off = S(commit.success_file),
     .doc = "See `defaults.commit.success_file`."},
    {.path = "streams[].commit.notify", .type = SL_CK_MAPLIST, .flags = CMP | SL_CKF_EMPTY_OK,
     .dflt = "`defaults.commit.notify`", .hi = SL_CFG_MAX_NOTIFY, .off = S(commit.notify),
     .off_n = S(commit.n_notify), .elem = sizeof(sl_cfg_notify),
     .doc = "This stream's targets; the list replaces `defaults.commit.notify` entirely (`[]`: "
            "none)."},
    {.path = "streams[].commit.notify[].kind", .type = SL_CK_ENUM, .flags = REQ,
     .allowed = "kafka|webhook|command", .off = N(kind),
     .doc = "See `defaults.commit.notify[].kind`."},
    {.path = "streams[].commit.notify[].topic", .type = SL_CK_STR, .off = N(topic),
     .doc = "kind kafka (required): the topic of the partition events."},
    {.path = "streams[].commit.notify[].url", .type = SL_CK_STR, .off = N(url),
     .doc = "kind webhook (required): an http:// or https:// URL."},
    {.path = "streams[].commit.notify[].run", .type = SL_CK_STR, .off = N(run),
     .doc = "kind command (required): the shell command."},
    {.path = "streams[].commit.compaction", .type = SL_CK_MAP,
     .doc = "See `defaults.commit.compaction`."},
    {.path = "streams[].commit.compaction.target_size", .type = SL_CK_SIZE, .flags = CMP,
     .dflt = "`defaults.commit.compaction.target_size`", .lo = MIB, .hi = (int64_t)1 << 40,
     .off = S(commit.compaction_target), .doc = "See `defaults.commit.compaction.target_size`."},
    {.path = "streams[].commit.late", .type = SL_CK_ENUM, .flags = CMP,
     .dflt = "`defaults.commit.late`", .allowed = "drop|side-output|reopen", .off = S(commit.late),
     .doc = "See `defaults.commit.late`."},
    {.path = "streams[].commit.late_path", .type = SL_CK_PATH, .flags = CMP,
     .dflt = "`defaults.commit.late_path`, else `<first files output path>/_late`",
     .off = S(commit.late_path),
     .doc = "See `defaults.commit.late_path`. Without it and without a files output, "
            "`late: side-output` is an error."},
    {.path = "dead_letter", .type = SL_CK_MAP,
     .doc = "Where undecodable, unrouted and failed records go, with raw bytes, reason, topic, "
            "partition and offset."},
    {.path = "dead_letter.kind", .type = SL_CK_ENUM, .dflt = "files", .allowed = "files|kafka",
     .off = R(dead_letter.kind),
     .doc = "files: files under `path`, one directory per hour (`dt=YYYY-MM-DD/hour=HH`, the "
            "hour a dead letter is counted in by the audit), published at checkpoints like data "
            "files (exactly once). kafka: one message per dead letter on `topic` in the source's "
            "cluster (value: the raw bytes, key: the original key, headers `sluice.*` with the "
            "pipeline, stream, topic, partition, offset, record, kind, hour and reason), in the "
            "Kafka output's transaction of each checkpoint."},
    {.path = "dead_letter.path", .type = SL_CK_PATH, .dflt = "./dead_letter",
     .off = R(dead_letter.path), .doc = "kind files: the directory of dead-letter files."},
    {.path = "dead_letter.format", .type = SL_CK_ENUM, .flags = SL_CKF_COMPUTED,
     .dflt = "parquet (kind files)", .allowed = "parquet|jsonl", .off = R(dead_letter.format),
     .doc = "kind files: parquet (columns pipeline, stream, topic, partition, offset, record, "
            "kafka_timestamp, time, hour, kind, reason, raw, key) or jsonl (the same fields, "
            "raw and key in base64)."},
    {.path = "dead_letter.topic", .type = SL_CK_STR, .off = R(dead_letter.topic),
     .doc = "kind kafka (required): the dead-letter topic."},
    {.path = "audit", .type = SL_CK_MAP,
     .doc = "Per stream and event hour, the records read, filtered, dead-lettered, late and "
            "written, kept exactly once with the checkpoints, written into each committed hour's "
            "`_SUCCESS` and its notifications, and into the audit log; `sluice audit` reconciles "
            "them with the lake."},
    {.path = "audit.enabled", .type = SL_CK_BOOL, .dflt = "true", .off = R(audit.enabled),
     .doc = "Count per (stream, hour). false: no counting, no audit log, no `audit` object in "
            "`_SUCCESS`."},
    {.path = "audit.path", .type = SL_CK_PATH, .flags = SL_CKF_COMPUTED,
     .dflt = "`<state_dir>/audit`", .off = R(audit.path),
     .doc = "Directory of the audit log: JSON lines, one file per UTC day of writing "
            "(`audit-YYYY-MM-DD.jsonl`)."},
    {.path = "reload", .type = SL_CK_MAP,
     .doc = "Hot reload: `sluice run` applies a changed pipeline file, schema or Lua script "
            "without a restart, on SIGHUP or (with `watch`) when the files change. The change "
            "takes effect at one checkpoint boundary: records before it are handled by the old "
            "configuration, records after it by the new. A file that does not load or compile is "
            "rejected with its error, and the running configuration stays in force. Streams can "
            "be added, removed (their open hours are committed at the boundary) or changed; a "
            "new schema version adds its new fields as columns of new files. `pipeline` and "
            "`state_dir` cannot change; a change of `source`, `workers` or of whether a Kafka "
            "output exists restarts the Kafka clients inside the process (a consumer-group "
            "rebalance). Every reload is recorded in `STATE/reloads.jsonl`."},
    {.path = "reload.watch", .type = SL_CK_BOOL, .dflt = "false", .off = R(reload.watch),
     .doc = "Watch the pipeline file, the schema files (and other .proto files beside them) and "
            "the Lua scripts, and reload when their content changes (inotify on their "
            "directories; a change is applied once the files have been quiet for 300 ms)."},
    {.path = "log", .type = SL_CK_MAP,
     .doc = "The log of `sluice run`: one line per event on stderr, structured, with the pipeline "
            "name on every line. Repeated warnings and errors are limited to 5 lines per message "
            "in 10 s; the rest are counted and reported as `repeated=N`."},
    {.path = "log.level", .type = SL_CK_ENUM, .dflt = "info", .allowed = "debug|info|warn|error",
     .off = R(log.level),
     .doc = "The lowest level written. info: start, checkpoints, commits, reloads, retries; debug "
            "adds Kafka client details."},
    {.path = "log.format", .type = SL_CK_ENUM, .dflt = "logfmt", .allowed = "logfmt|json",
     .off = R(log.format),
     .doc = "logfmt (`ts=... level=info pipeline=p msg=\"...\" key=value`) or json (one object "
            "per line, the same keys)."},
    {.path = "http", .type = SL_CK_MAP,
     .doc = "The HTTP endpoint of `sluice run` (docs/operations.md): Prometheus metrics at "
            "`/metrics`, a JSON status at `/status`, a status page at `/`, and `/healthz`. "
            "Without `http.listen` there is no endpoint."},
    {.path = "http.listen", .type = SL_CK_STR, .off = R(http.listen),
     .doc = "Address to listen on: `HOST:PORT`, `[IPV6]:PORT`, or `:PORT` / `PORT` for "
            "127.0.0.1. Port 0 takes any free port. The address bound is written to "
            "`STATE_DIR/http.addr` while the pipeline runs (`sluice status` reads it). A "
            "non-loopback address without `token_file` is allowed, with a warning."},
    {.path = "http.token_file", .type = SL_CK_PATH, .off = R(http.token_file),
     .doc = "File holding a bearer token (trailing whitespace stripped). When set, every route "
            "but `/healthz` needs `Authorization: Bearer TOKEN`, else 401. Read at start; a "
            "missing or empty file stops the start. Keep it `chmod 600` (a warning otherwise)."},
    {.path = "limits", .type = SL_CK_MAP, .doc = "Resource bounds, per worker."},
    {.path = "limits.max_open_files", .type = SL_CK_INT, .dflt = "1024", .lo = 1, .hi = 65536,
     .off = R(limits.max_open_files),
     .doc = "Open part files per worker; past it the least recently used one is rolled (closed)."},
    {.path = "limits.memory", .type = SL_CK_SIZE, .dflt = "256MiB", .lo = MIB,
     .hi = (int64_t)1 << 40, .off = R(limits.memory),
     .doc = "Buffered bytes per worker; past it the biggest buffer is flushed."},
    {.path = "limits.file_size", .type = SL_CK_SIZE, .dflt = "256MiB", .lo = MIB,
     .hi = (int64_t)1 << 40, .off = R(limits.file_size),
     .doc = "A part file is rolled once it is this big."},
    {.path = "limits.row_group_size", .type = SL_CK_SIZE, .dflt = "128MiB", .lo = 64 * 1024,
     .hi = (int64_t)1 << 32, .off = R(limits.row_group_size),
     .doc = "Parquet row group size (uncompressed bytes)."},
};
/* clang-format on */
const int sl_cfg_n_keys = (int)(sizeof sl_cfg_keys / sizeof sl_cfg_keys[0]);

int sl_cfg_key_find(const char *path, size_t len)
{
    for (int i = 0; i < sl_cfg_n_keys; i++)
        if (strlen(sl_cfg_keys[i].path) == len && !memcmp(sl_cfg_keys[i].path, path, len)) return i;
    return -1;
}

size_t sl_cfg_scope_len(const char *path)
{
    const char *s = NULL;
    for (const char *q = strstr(path, "[]"); q; q = strstr(q + 2, "[]"))
        s = q + 2;
    return s ? (size_t)(s - path) : 0;
}

size_t sl_cfg_parent_len(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? (size_t)(d - path) : 0;
}

int sl_cfg_allowed_at(const char *allowed, int i, char *buf, size_t cap)
{
    const char *p = i < 0 ? NULL : allowed;
    for (; p && i > 0; i--) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p || !*p) return 0;
    size_t n = strcspn(p, "|");
    if (n >= cap) n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 1;
}

static void allowed_list(const char *allowed, char *buf, size_t cap)
{
    char v[64];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; sl_cfg_allowed_at(allowed, i, v, sizeof v) && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", v);
}

void sl_cfg_key_expect(const sl_cfg_key *k, char *buf, size_t cap)
{
    char al[256];
    switch (k->type) {
    case SL_CK_STR:
    case SL_CK_ROUTE:
        snprintf(buf, cap, "a string");
        break;
    case SL_CK_NAME:
        snprintf(buf, cap, "a name of letters, digits, '_', '.' and '-'");
        break;
    case SL_CK_PATH:
        snprintf(buf, cap, "a path (relative to the pipeline file's directory)");
        break;
    case SL_CK_INT:
        snprintf(buf, cap, "an integer from %lld to %lld", (long long)k->lo, (long long)k->hi);
        break;
    case SL_CK_DURATION:
        snprintf(buf, cap, "a duration such as 60s, 500ms or 1m, from %lldms to %lldms",
                 (long long)k->lo, (long long)k->hi);
        break;
    case SL_CK_SIZE:
        snprintf(buf, cap, "a size such as 256MiB or 64KiB, from %lld to %lld bytes",
                 (long long)k->lo, (long long)k->hi);
        break;
    case SL_CK_BOOL:
    case SL_CK_KTS:
        snprintf(buf, cap, "true or false");
        break;
    case SL_CK_ENUM:
    case SL_CK_ENUMSTR:
        allowed_list(k->allowed, al, sizeof al);
        snprintf(buf, cap, "one of %s", al);
        break;
    case SL_CK_FLAGS:
        allowed_list(k->allowed, al, sizeof al);
        snprintf(buf, cap, "a list of %s", al);
        break;
    case SL_CK_STRLIST:
        snprintf(buf, cap, "a list of strings, e.g. [a, b]");
        break;
    case SL_CK_PATHLIST:
        snprintf(buf, cap, "a list of paths, e.g. [./a.proto]");
        break;
    case SL_CK_STRMAP:
        snprintf(buf, cap, "a mapping of names to values");
        break;
    case SL_CK_MAP: { /* "a mapping with keys a, b, c" */
        size_t used = (size_t)snprintf(buf, cap, "a mapping with keys "), pl = strlen(k->path);
        for (int i = 0, first = 1; i < sl_cfg_n_keys && used < cap; i++) {
            const char *c = sl_cfg_keys[i].path;
            if (sl_cfg_parent_len(c) != pl || memcmp(c, k->path, pl)) continue;
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", first ? "" : ", ", c + pl + 1);
            first = 0;
        }
        break;
    }
    case SL_CK_MAPLIST:
        snprintf(buf, cap, "a list of mappings");
        break;
    }
}

/* ---- the Markdown reference ---- */

static const char *type_name(const sl_cfg_key *k)
{
    switch (k->type) {
    case SL_CK_STR:
    case SL_CK_ROUTE:
        return "string";
    case SL_CK_NAME:
        return "name";
    case SL_CK_PATH:
        return "path";
    case SL_CK_INT:
        return "integer";
    case SL_CK_DURATION:
        return "duration";
    case SL_CK_SIZE:
        return "size";
    case SL_CK_BOOL:
    case SL_CK_KTS:
        return "bool";
    case SL_CK_ENUM:
    case SL_CK_ENUMSTR:
        return "enum";
    case SL_CK_STRLIST:
        return "list of strings";
    case SL_CK_PATHLIST:
        return "list of paths";
    case SL_CK_FLAGS:
        return "list of enum";
    case SL_CK_STRMAP:
        return "string map";
    case SL_CK_MAP:
        return "mapping";
    case SL_CK_MAPLIST:
        return "list of mappings";
    }
    return "?";
}

/* A string value as YAML double-quoted text (also used by the dump). */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char doc_example[] =
    "pipeline: plays\n"
    "state_dir: ./state\n"
    "checkpoint: { interval: 60s }\n"
    "workers: 2\n"
    "source:\n"
    "  kind: kafka\n"
    "  brokers: 127.0.0.1:9092\n"
    "  topics: [events]\n"
    "  group: sluice-plays          # default sluice-<pipeline>\n"
    "  start: earliest              # where to begin when there is no checkpoint yet\n"
    "schemas: [./play_event.proto]  # .proto files or descriptor sets\n"
    "streams:\n"
    "  - name: play\n"
    "    route: { field: log_id, equals: \"001000\" }\n"
    "    message: bench.PlayEvent\n"
    "    format: protobuf            # protobuf | json | delimited\n"
    "    event_time: { field: event_time_ms, unit: ms }\n"
    "    etl:\n"
    "      filter: \"play_seconds > 0 and platform != 'TV'\"\n"
    "      columns: [mid, avid, play_seconds, event_time_ms, client]\n"
    "      metadata: [topic, partition, offset, kafka_timestamp, ingest_time]\n"
    "      script: ./clean.lua\n"
    "    outputs:\n"
    "      - { kind: files, path: \"./lake/{stream}/dt={date}/hour={hour}\", format: parquet, "
    "compression: zstd }\n"
    "      - { kind: kafka, topic: plays-clean, format: protobuf }\n"
    "dead_letter: { kind: files, path: ./lake/_dead_letter }\n";

const char *sl_cfg_doc_example(void)
{
    return doc_example;
}

static const char doc_intro[] =
    "<!-- Generated by `sluice config-doc` from the key table in src/engine/config_table.c.\n"
    "     Do not edit: run `sluice config-doc --output docs/config.md`. -->\n"
    "# Pipeline file reference\n\n"
    "A pipeline file is one YAML document: a mapping of the keys below. `sluice run FILE` runs "
    "it; `sluice config-doc --check FILE` validates it and prints the configuration the engine "
    "would use (every default filled in, paths resolved, secrets as `***`).\n\n"
    "## Rules\n\n"
    "- **Errors** name the file, line and column, the key and what is expected, e.g. "
    "`plays.yaml:15:12: streams[0].route: found a scalar; expected a mapping with one of field, "
    "header, topic (and equals)`. The first error stops the load; the exit status of "
    "`sluice config-doc --check` is then 2.\n"
    "- **Unknown keys are errors** (a typo must not silently fall back to a default); a close "
    "known key is suggested. A key given twice in one mapping is an error.\n"
    "- **Empty values** (`key:`, `~`, `null`) mean \"not set\": the default applies, and a "
    "required key reports that it is empty.\n"
    "- **Relative paths** (`state_dir`, `schemas`, `etl.script`, files output `path`, "
    "`dead_letter.path`, `commit.late_path`) are resolved against the directory of the pipeline "
    "file, so a "
    "pipeline runs the same from any working directory.\n"
    "- **Durations**: an integer with a unit: `ms`, `s`, `m` (or `min`), `h`, `d` (`60s`, "
    "`500ms`). **Sizes**: an integer with an optional unit: `k`/`KiB`, `m`/`MiB`, `g`/`GiB` "
    "(powers of 1024) or `KB`, `MB`, `GB` (powers of 1000); no unit means bytes.\n"
    "- **Scalars are read as text** and then converted by the key's type, so `equals: 001000` "
    "and `equals: \"001000\"` are the same; booleans are `true`/`false` (also `yes`/`no`, "
    "`on`/`off`).\n"
    "- **Anchors and aliases** (`&name`, `*name`, `<<:` merges) are rejected: each value is "
    "written where it applies, so what a key means is visible at the key (and an alias cannot "
    "multiply the size of a document). Only one YAML document per file.\n"
    "- **Bounds**: the file is at most 16 MiB, nested at most 64 levels, with at most 1,000,000 "
    "YAML nodes.\n"
    "- **Defaults**: `defaults.event_time` and `defaults.commit` hold pipeline-wide values; a "
    "stream's own `event_time`/`commit` key wins, and a stream's `commit.notify` list replaces "
    "the default list entirely. `sluice config-doc --check` prints every stream's resolved "
    "values.\n"
    "- **Secrets**: values under `source.properties` are never printed in errors or output.\n\n"
    "## Example\n\n```yaml\n";

static void doc_default(FILE *f, const sl_cfg_key *k)
{
    if (!k->dflt)
        fputs("—", f);
    else if (k->flags & SL_CKF_COMPUTED)
        fputs(k->dflt, f);
    else if (k->type == SL_CK_STR) {
        fputc('`', f);
        put_quoted(f, k->dflt);
        fputc('`', f);
    } else
        fprintf(f, "`%s`", k->dflt);
}

char *sl_cfg_doc_markdown(void)
{
    char *out = NULL, al[256];
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    fputs(doc_intro, f);
    fputs(doc_example, f);
    fputs("```\n\n## Keys\n\n"
          "`[]` marks a list element: `streams[].name` is the `name` of each entry of "
          "`streams`.\n\n"
          "| Key | Type | Required | Default |\n|---|---|---|---|\n",
          f);
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const sl_cfg_key *k = &sl_cfg_keys[i];
        fprintf(f, "| [`%s`](#", k->path);
        for (const char *p = k->path; *p; p++) /* GitHub anchor of the heading below */
            if (*p != '.' && *p != '[' && *p != ']') fputc(*p, f);
        fprintf(f, ") | %s | %s | ", type_name(k), (k->flags & SL_CKF_REQUIRED) ? "yes" : "");
        doc_default(f, k);
        fputs(" |\n", f);
    }
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const sl_cfg_key *k = &sl_cfg_keys[i];
        fprintf(f, "\n### %s\n\n", k->path);
        fprintf(f, "- Type: %s", type_name(k));
        if (k->type == SL_CK_INT || k->type == SL_CK_DURATION || k->type == SL_CK_SIZE) {
            sl_cfg_key_expect(k, al, sizeof al);
            fprintf(f, " (%s)", al);
        }
        fprintf(f, "\n- Required: %s\n- Default: ", (k->flags & SL_CKF_REQUIRED) ? "yes" : "no");
        doc_default(f, k);
        fputc('\n', f);
        if (k->allowed) {
            char v[64];
            fputs("- Allowed: ", f);
            for (int j = 0; sl_cfg_allowed_at(k->allowed, j, v, sizeof v); j++)
                fprintf(f, "%s`%s`", j ? ", " : "", v);
            fputc('\n', f);
        }
        fprintf(f, "\n%s\n", k->doc);
    }
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- the normalized configuration ---- */

static void dump_scope(FILE *f, const char *scope, size_t slen, const void *base, int ind);

static void dump_value(FILE *f, const sl_cfg_key *k, const void *base, int ind)
{
    const char *b = (const char *)base;
    const char *name = k->path + sl_cfg_parent_len(k->path) + (sl_cfg_parent_len(k->path) ? 1 : 0);
    char v[64];
    switch (k->type) {
    case SL_CK_STR:
    case SL_CK_NAME:
    case SL_CK_PATH:
    case SL_CK_ENUMSTR: {
        const char *s = *(char *const *)(b + k->off);
        if (!s) return;
        fprintf(f, "%*s%s: ", ind, "", name);
        put_quoted(f, s);
        fputc('\n', f);
        return;
    }
    case SL_CK_ROUTE: {
        const sl_cfg_stream *st = (const sl_cfg_stream *)base;
        if ((int)st->route.kind != k->tag || !st->route.name) return;
        fprintf(f, "%*s%s: ", ind, "", name);
        put_quoted(f, st->route.name);
        fputc('\n', f);
        return;
    }
    case SL_CK_KTS: {
        const sl_cfg_stream *st = (const sl_cfg_stream *)base;
        fprintf(f, "%*s%s: %s\n", ind, "", name, st->event_time.field ? "false" : "true");
        return;
    }
    case SL_CK_INT:
        fprintf(f, "%*s%s: %d\n", ind, "", name, *(const int *)(b + k->off));
        return;
    case SL_CK_BOOL:
        fprintf(f, "%*s%s: %s\n", ind, "", name, *(const int *)(b + k->off) ? "true" : "false");
        return;
    case SL_CK_DURATION: {
        int64_t ms = *(const int64_t *)(b + k->off);
        if (ms % 1000)
            fprintf(f, "%*s%s: %lldms\n", ind, "", name, (long long)ms);
        else
            fprintf(f, "%*s%s: %llds\n", ind, "", name, (long long)(ms / 1000));
        return;
    }
    case SL_CK_SIZE: {
        int64_t n = *(const int64_t *)(b + k->off);
        if (n && n % (1 << 20) == 0)
            fprintf(f, "%*s%s: %lldMiB\n", ind, "", name, (long long)(n >> 20));
        else if (n && n % 1024 == 0)
            fprintf(f, "%*s%s: %lldKiB\n", ind, "", name, (long long)(n >> 10));
        else
            fprintf(f, "%*s%s: %lld\n", ind, "", name, (long long)n);
        return;
    }
    case SL_CK_ENUM:
        if (!sl_cfg_allowed_at(k->allowed, *(const int *)(b + k->off), v, sizeof v)) return;
        fprintf(f, "%*s%s: %s\n", ind, "", name, v);
        return;
    case SL_CK_FLAGS: {
        unsigned bits = *(const unsigned *)(b + k->off);
        if (!bits) return;
        fprintf(f, "%*s%s: [", ind, "", name);
        for (int i = 0, first = 1; sl_cfg_allowed_at(k->allowed, i, v, sizeof v); i++)
            if (bits & (1u << i)) {
                fprintf(f, "%s%s", first ? "" : ", ", v);
                first = 0;
            }
        fputs("]\n", f);
        return;
    }
    case SL_CK_STRLIST:
    case SL_CK_PATHLIST: {
        char *const *l = *(char *const *const *)(b + k->off);
        int n = *(const int *)(b + k->off_n);
        if (!l) return;
        fprintf(f, "%*s%s: [", ind, "", name);
        for (int i = 0; i < n; i++) {
            if (i) fputs(", ", f);
            put_quoted(f, l[i]);
        }
        fputs("]\n", f);
        return;
    }
    case SL_CK_STRMAP: {
        const sl_cfg_kv *kv = *(const sl_cfg_kv *const *)(b + k->off);
        int n = *(const int *)(b + k->off_n);
        if (!n) return;
        fprintf(f, "%*s%s:\n", ind, "", name);
        for (int i = 0; i < n; i++) {
            fprintf(f, "%*s", ind + 2, "");
            put_quoted(f, kv[i].key);
            fputs(": \"***\"\n", f);
        }
        return;
    }
    case SL_CK_MAP: {
        /* children into a scratch stream: an empty mapping is left out */
        char *s = NULL;
        size_t sl = 0;
        FILE *g = open_memstream(&s, &sl);
        if (!g) return;
        dump_scope(g, k->path, strlen(k->path), base, ind + 2);
        if (!fclose(g) && sl) fprintf(f, "%*s%s:\n%s", ind, "", name, s);
        free(s);
        return;
    }
    case SL_CK_MAPLIST: {
        const char *arr = *(const char *const *)(b + k->off);
        int n = *(const int *)(b + k->off_n);
        char scope[128];
        snprintf(scope, sizeof scope, "%s[]", k->path);
        if (!n) { /* an empty list ([], allowed by SL_CKF_EMPTY_OK) stays one */
            fprintf(f, "%*s%s: []\n", ind, "", name);
            return;
        }
        fprintf(f, "%*s%s:\n", ind, "", name);
        for (int i = 0; i < n; i++) {
            char *s = NULL;
            size_t sl = 0;
            FILE *g = open_memstream(&s, &sl);
            if (!g) return;
            dump_scope(g, scope, strlen(scope), arr + (size_t)i * k->elem, ind + 4);
            if (!fclose(g) && sl > (size_t)ind + 2) {
                s[ind + 2] = '-'; /* "    name:" -> "  - name:" */
                fputs(s, f);
            }
            free(s);
        }
        return;
    }
    }
}

/* Whether a stream row applies given the other keys: the dump leaves out
 * what the parser would reject as not applying (so the dump parses again). */
static int dump_applies(const sl_cfg_key *k, const void *base)
{
    const sl_cfg_stream *st = base;
    if (!strcmp(k->path, "streams[].separator") || !strcmp(k->path, "streams[].null"))
        return st->format == SL_IN_DELIMITED;
    if (!strcmp(k->path, "streams[].batch_compression")) return st->framing == SL_FRAMING_BATCH;
    if (!strcmp(k->path, "streams[].event_time.unit")) return st->event_time.field != NULL;
    if (!strcmp(k->path, "streams[].event_time.format")) return st->event_time.format != NULL;
    return 1;
}

/* The rows whose parent is `scope` (length slen), in table order. */
static void dump_scope(FILE *f, const char *scope, size_t slen, const void *base, int ind)
{
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const sl_cfg_key *k = &sl_cfg_keys[i];
        if (sl_cfg_parent_len(k->path) != slen || memcmp(k->path, scope, slen)) continue;
        if (!dump_applies(k, base)) continue;
        dump_value(f, k, base, ind);
    }
}

char *sl_cfg_dump_yaml(const sl_cfg *c)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    fputs("# normalized by sluice config-doc --check: defaults filled in, paths resolved\n", f);
    dump_scope(f, "", 0, c, 0);
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}
