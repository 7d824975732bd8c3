/* deadletter.h - what a dead letter holds, in each of its three forms.
 *
 * A dead letter is a record (or a whole Kafka value) the pipeline could not
 * decode, route, time, transform or encode. It keeps everything needed to
 * find it and to replay it: the raw bytes and key, the source position
 * (topic, partition, offset, index within a batched value), the Kafka
 * timestamp, the stream (none when no stream took it), the reason, whether
 * the bytes are one record or a whole value that could not be unpacked,
 * and the audit hour it is counted in (engine/audit.h).
 *
 * Forms (dead_letter in the pipeline file):
 *   - Parquet (kind files, the default): one row per dead letter, columns
 *     pipeline STRING, stream STRING (null: no stream), topic STRING,
 *     partition INT32, offset INT64, record INT32, kafka_timestamp
 *     TIMESTAMP(ms) (null: none), time TIMESTAMP(ms, when dead-lettered),
 *     hour TIMESTAMP(ms), kind STRING ("record" | "value"), reason STRING,
 *     raw BYTE_ARRAY, key BYTE_ARRAY (null: none);
 *   - JSON lines (format jsonl): the same fields, raw and key in base64
 *     (raw_base64, key_base64), times in epoch ms;
 *   - a Kafka message (kind kafka): value = raw, key = the original key,
 *     headers sluice.pipeline, sluice.stream (absent: no stream),
 *     sluice.topic, sluice.partition, sluice.offset, sluice.record,
 *     sluice.kind, sluice.hour (epoch ms), sluice.reason,
 *     sluice.kafka_timestamp (epoch ms; absent: none), sluice.instance
 *     (the writing instance of the pipeline).
 * Files live under PATH/dt=YYYY-MM-DD/hour=HH/ of the audit hour (UTC), so
 * `sluice audit` reads only the hours it checks.
 */
#ifndef SL_ENGINE_DEADLETTER_H
#define SL_ENGINE_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/col.h"
#include "core/schema.h"

typedef struct sl_dl_rec {
    const char *pipeline;
    const char *stream; /* NULL: no stream */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t record;           /* index within a batched value, else 0 */
    int64_t kafka_ts;         /* ms; < 0: none */
    int64_t time_ms, hour_ms; /* when dead-lettered; the audit hour */
    int whole_value;          /* 1: kind "value", 0: kind "record" */
    const char *reason;       /* */
    const uint8_t *raw;       /* */
    size_t len;               /* */
    const uint8_t *key;       /* NULL: none */
    size_t klen;              /* */
    const char *instance;     /* the instance that wrote it (engine/state.h); NULL: not
                                 known (a file's name says it) */
} sl_dl_rec;

enum { SL_DL_N_HEADERS = 11 };

/* The Parquet schema above (finished). On error s is freed. */
sl_err_t sl_dl_schema(sl_schema *s, sl_error *err) SL_MUST_CHECK;

/* Append one row to a batch of sl_dl_schema. SL_ERR_NOMEM or SL_ERR_LIMIT
 * (a column past 4 GiB): then the batch holds part of the row and must be
 * discarded. */
sl_err_t sl_dl_row(sl_batch *b, const sl_dl_rec *r) SL_MUST_CHECK;

/* Append one JSON line (with its newline). SL_ERR_NOMEM leaves out as it was. */
sl_err_t sl_dl_json(sl_buf *out, const sl_dl_rec *r) SL_MUST_CHECK;

/* The Kafka headers: names[i] = values[i] (NUL-terminated), in the order
 * above; the numbers are written into num (at least 5 * 24 bytes). Returns
 * how many (sluice.stream is left out for no stream). */
int sl_dl_headers(const sl_dl_rec *r, const char *names[SL_DL_N_HEADERS],
                  const char *values[SL_DL_N_HEADERS], char *num, size_t num_cap);

/* ROOT/dt=YYYY-MM-DD/hour=HH of an hour (UTC). Returns the length, or -1
 * when it does not fit. */
int sl_dl_dir(char *out, size_t cap, const char *root, int64_t hour_ms);

/* Reading dead letters back (dl_read.c): a file of either form (by its
 * name: *.jsonl, else Parquet), or an offset range of a dead-letter topic
 * ("kafka:TOPIC/PARTITION/FROM-TO", engine/dl_kafka.h: needs cfg for the
 * cluster; NULL cfg opens files only), row by row. */
typedef struct sl_dl_reader sl_dl_reader;
struct sl_cfg;
sl_err_t sl_dl_open(sl_dl_reader **out, const char *path, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_dl_open_cfg(sl_dl_reader **out, const char *path, const struct sl_cfg *cfg,
                        sl_error *err) SL_MUST_CHECK;
/* 1: the next row in *d (its strings and bytes valid until the next call),
 * 0: the end, -1: an error in err (a damaged file); from a topic also
 * SL_DL_AGAIN: nothing yet (it waited up to 100 ms), ask again. */
#define SL_DL_AGAIN 2
int sl_dl_next(sl_dl_reader *r, sl_dl_rec *d, sl_error *err);
/* The Kafka offset of the last row of a topic's range, -1 for a file. */
int64_t sl_dl_offset(const sl_dl_reader *r);
/* The number of the row the next sl_dl_next returns (from 0). */
int64_t sl_dl_row_no(const sl_dl_reader *r);
/* Go forward to row number `row` (row groups skipped whole). */
sl_err_t sl_dl_skip(sl_dl_reader *r, int64_t row, sl_error *err) SL_MUST_CHECK;
void sl_dl_close(sl_dl_reader *r); /* NULL is fine */

#endif
