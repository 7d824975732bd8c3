/* playgen.h - the reference workload generator: synthetic PlayEvents.
 *
 * Produces the events of bench/play_event.proto (package bench, message
 * PlayEvent) with the distribution of the reference script gen_events.py:
 * the same field ranges, string pools and list lengths, not the same values
 * (that script uses Python's Mersenne Twister; we use xoshiro256**). The
 * stream is deterministic for a seed and independent of the output format,
 * so `--format pb-delimited` and `--format jsonl` with the same options
 * describe the same events, record for record.
 *
 * Three layers, so the Kafka producer (later) can reuse each:
 *   1. sl_playgen_next: the event model. Draws one sl_playgen_event (a flat,
 *      fixed-size struct: no allocation, strings inline or from static
 *      pools). Event i belongs to stream first_stream + i % streams and has
 *      event time start_ms + floor(i * span_ms / count) minus a uniform
 *      disorder in [0, disorder_ms], clamped at start_ms.
 *   2. encoders: sl_playgen_pb appends the canonical protobuf encoding
 *      (fields in number order, proto3 default values skipped, recent_avids
 *      packed, map entries key=1/value=2 in sorted key order), optionally
 *      varint-length-prefixed; sl_playgen_json appends one line of
 *      protobuf's JSON mapping (proto field names, enum names, int64 as
 *      numbers, maps as objects) shaped exactly like gen_events.py's lines.
 *   3. sl_playgen_append: next event straight into a buffer in a format.
 *
 * Cost: about 30 PRNG draws and a few hundred bytes of stores per event;
 * encoders reserve a worst-case bound once per event and then write with
 * raw stores (no per-field bounds checks, no stdio). Generation is O(1) per
 * event with no division on the hot path (event time uses an exact running
 * quotient/remainder instead of i * span / count).
 *
 * Not here yet: random access to event i (the producer runs sequentially),
 * other schemas (the generator is deliberately specific to the reference
 * workload so its figures stay comparable over time).
 */
#ifndef SL_PLUGINS_GEN_PLAYGEN_H
#define SL_PLUGINS_GEN_PLAYGEN_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Bounds on options (checked by sl_playgen_init). They keep every string
 * and sum in range: log_id has at most 9 digits, event times fit int64. */
#define SL_PLAYGEN_MAX_STREAM     999999999 /* first_stream + streams - 1 <= this */
#define SL_PLAYGEN_MAX_COUNT      UINT64_C(1000000000000000) /* 1e15 */
#define SL_PLAYGEN_MAX_START_MS   INT64_C(253402300799999)   /* 9999-12-31T23:59:59.999Z */
#define SL_PLAYGEN_MAX_SPAN_S     INT64_C(3153600000)        /* 100 years */
#define SL_PLAYGEN_MAX_DISORDER_S INT64_C(2592000)           /* 30 days */

/* Worst-case encoded size of one event in any format (a bound, with room). */
#define SL_PLAYGEN_MAX_EVENT_BYTES 1024

typedef enum sl_playgen_format {
    SL_PLAYGEN_PB_DELIMITED = 0, /* varint length prefix + message (writeDelimitedTo) */
    SL_PLAYGEN_PB = 1,           /* the bare message (a Kafka value) */
    SL_PLAYGEN_JSONL = 2,        /* one JSON object + '\n' */
} sl_playgen_format_t;

typedef struct sl_playgen_opts {
    uint64_t count;        /* events to generate (0..1e15); also spreads event time */
    uint64_t seed;         /* PRNG seed; any value */
    uint32_t streams;      /* >= 1: log_id cycles over this many streams */
    uint32_t first_stream; /* log_id of event 0 */
    int64_t start_ms;      /* >= 0: event time of the first event (epoch ms) */
    int64_t span_s;        /* >= 0: event times spread over [start, start + span) */
    int64_t disorder_s;    /* >= 0: each event is late by a uniform [0, disorder] */
} sl_playgen_opts;

/* Defaults of gen_events.py: count 100000, seed 1, 8 streams from 1000,
 * start 2025-12-01T00:00:00Z, span 7200 s, disorder 30 s. Cannot fail. */
void sl_playgen_opts_default(sl_playgen_opts *o);

/* Check options; on error names the option and the allowed range. */
sl_err_t sl_playgen_opts_check(const sl_playgen_opts *o, sl_error *err) SL_MUST_CHECK;

/* One event. Strings are not NUL-terminated; pointer members point into
 * static pools (valid for the life of the process). */
typedef struct sl_playgen_event {
    uint64_t index; /* position in the stream, from 0 */
    uint32_t stream;
    char log_id[12];
    uint8_t log_id_len;
    int64_t event_time_ms, mid, up_mid, avid, cid;
    int32_t play_seconds;
    uint16_t progress_e4; /* progress = progress_e4 / 10000.0 (0..10000) */
    int32_t platform;     /* enum bench.Platform, 0..4 */
    char buvid[34];       /* "XY" + 32 uppercase hex digits */
    char ip[15];
    uint8_t ip_len;
    char trace_id[16]; /* 16 lowercase hex digits */
    char app_version[6];
    uint8_t app_version_len;
    const char *os, *network;
    uint8_t os_len, network_len;
    int32_t screen_width, screen_height;
    uint8_t n_tags; /* 0..4 distinct tags */
    const char *tags[4];
    uint8_t tag_len[4];
    uint8_t n_ext; /* 0..3 entries "k<j>" -> "v<ext_val[j]>" */
    uint8_t ext_val[3];
    uint8_t is_autoplay;
    uint32_t quality;
    uint8_t n_recent; /* 0..5 */
    int64_t recent_avids[5];
} sl_playgen_event;

/* Progress as the double the event carries (correctly rounded e4 / 1e4,
 * the same double as Python's round(x, 4)). */
static inline double sl_playgen_progress(const sl_playgen_event *ev)
{
    return (double)ev->progress_e4 / 10000.0;
}

typedef struct sl_playgen {
    sl_playgen_opts o;
    uint64_t s[4];           /* xoshiro256** state */
    uint64_t i;              /* next event index */
    uint64_t span_ms;        /* o.span_s * 1000 */
    uint64_t step_q, step_r; /* span_ms = step_q * count + step_r */
    uint64_t acc_q, acc_r;   /* floor(i * span_ms / count) and its remainder */
    uint32_t stream_off;     /* i % streams */
} sl_playgen;

/* Validate options and seed the generator. On error g is unusable and err
 * names the bad option. No allocation (nothing to free). */
sl_err_t sl_playgen_init(sl_playgen *g, const sl_playgen_opts *o, sl_error *err) SL_MUST_CHECK;

/* Draw the next event. Returns SL_ERR_EOF (and leaves *ev alone) once
 * count events were drawn. Cannot fail otherwise. */
sl_err_t sl_playgen_next(sl_playgen *g, sl_playgen_event *ev) SL_MUST_CHECK;

/* Append one event's encoding. On SL_ERR_NOMEM/SL_ERR_LIMIT the buffer is
 * unchanged. */
sl_err_t sl_playgen_pb(const sl_playgen_event *ev, int delimited, sl_buf *out) SL_MUST_CHECK;
sl_err_t sl_playgen_json(const sl_playgen_event *ev, sl_buf *out) SL_MUST_CHECK;

/* Next event straight into out in format f. Returns SL_ERR_EOF at the end,
 * SL_ERR_NOMEM/SL_ERR_LIMIT if out cannot grow, SL_ERR_INVALID for a bad f;
 * on any error out is unchanged and no event is consumed (room is reserved
 * before the event is drawn). */
sl_err_t sl_playgen_append(sl_playgen *g, sl_playgen_format_t f, sl_buf *out) SL_MUST_CHECK;

/* Parse a format name: "pb-delimited", "pb", "jsonl". */
sl_err_t sl_playgen_format_parse(const char *name, sl_playgen_format_t *f,
                                 sl_error *err) SL_MUST_CHECK;

#endif
