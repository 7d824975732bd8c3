/* rt_int.h - private to the runtime (runtime.c, worker.c, closer.c): the
 * structures shared by the coordinator, the workers and the close pool.
 *
 * Threads and what they own:
 *   - the coordinator (the thread calling sl_runtime_run): the Kafka
 *     consumer handle, rebalances, the checkpoint timer, manifests, publish;
 *   - N workers: each owns its input partitions (forwarded librdkafka
 *     queues), its buckets (one open file per stream and partition path),
 *     its positions; nothing of a worker is touched by another worker;
 *   - the close pool: finishes and fsyncs files handed over by workers
 *     (a checkpoint barrier, an LRU or size roll), so a worker's pause at a
 *     barrier is only the hand-over, not the encoding and fsync.
 * Hand-over points are guarded by rt->mu; the hot path takes no lock.
 */
#ifndef SL_ENGINE_RT_INT_H
#define SL_ENGINE_RT_INT_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/buf.h"
#include "core/col.h"
#include "core/rows_json.h"
#include "engine/audit.h"
#include "engine/manifest.h"
#include "engine/pipeline.h"
#include "engine/replay.h"
#include "engine/runtime.h"
#include "engine/storage.h"
#include "formats/batch/kbatch.h"
#include "formats/parquet/pq_writer.h"

typedef struct sl_rt sl_rt;

/* One open output file: a stream's partition directory, in one worker. */
typedef struct sl_bucket {
    int32_t stream; /* -1: a dead-letter file (one per audit hour) */
    char *dir;
    uint32_t hash;
    struct sl_bucket *next; /* hash chain */
    sl_batch batch;         /* rows not yet handed to the writer (emit schema) */
    sl_batch view;          /* output-schema view of batch (shares builders) */
    size_t since_check;     /* rows since the last size check */
    sl_ostream *os;
    sl_pq_writer *pw;
    sl_rows_json *rj;
    sl_buf line; /* jsonl / dead letters */
    char *hidden, *final;
    uint64_t seq; /* unique per worker and attempt: the file names' SEQ */
    int64_t rows;
    uint64_t last_used;
    uint64_t ckpt; /* checkpoint that will publish it (set when handed over) */
    int64_t hour;  /* event hour of its rows (ms), INT64_MIN for dead letters */
    int32_t worker;
    int dropped;   /* its rows are read again after an output failure: never published (retry.c) */
    int retry_req; /* its close failed; its worker drops it (retry.c) */
    sl_err_t rc;   /* close result */
    sl_error err;
    int64_t bytes;
    struct sl_bucket *qnext; /* close queue / done list */
} sl_bucket;

typedef struct sl_part {
    char *topic;
    int32_t partition;
    int64_t next;      /* next offset to read, -1 unknown (nothing read, no checkpoint) */
    int64_t snap;      /* next at the last barrier (what the manifest records) */
    int64_t snap_prev; /* snap at the barrier before (retry.c) */
    int64_t snap_prev_max_et;
    int64_t max_et, last_ms;           /* greatest event time read, wall time of the last record */
    int64_t snap_max_et, snap_last_ms; /* the same at the last barrier */
    atomic_int
        owned; /* 0 after revocation: its messages are ignored (the worker reads it unlocked) */
    int eof;   /* at the end of the partition */
    int64_t eof_since_ms;
    int32_t idx;       /* in its worker's parts[] (retry.c's bit sets) */
    int64_t base;      /* first offset read while snap was unknown, -1: none */
    atomic_int paused; /* rewound after an output failure, waiting to be read again (retry.c) */
} sl_part;

/* Per-stream counters of one worker (metrics, status, the exit summary).
 * Only the owning worker writes them, with a relaxed load and store (no
 * locked instruction on the hot path: sl_ctr_add); anyone may read them.
 * A worker has one per stream plus one, last, for records of no stream. */
typedef struct sl_sctr {
    atomic_llong in;       /* records routed to the stream (or to none) */
    atomic_llong out;      /* written to its outputs */
    atomic_llong filtered; /* dropped by the filter or the script */
    atomic_llong dead;     /* dead-lettered */
    atomic_llong late;     /* for an hour already committed (commit.late) */
    atomic_llong bytes;    /* input bytes of the records */
} sl_sctr;

static inline void sl_ctr_add(atomic_llong *c, long long n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A stream's counters for the life of the process, by name (stats.c): the
 * workers' sl_sctr figures, then those the coordinator adds itself when the
 * HTTP endpoint runs (obs.c: bytes and files published, hours committed,
 * notifications sent and failed). */
enum {
    SL_ST_IN,
    SL_ST_OUT,
    SL_ST_FILTERED,
    SL_ST_DEAD,
    SL_ST_LATE,
    SL_ST_BYTES,
    SL_ST_BYTES_OUT,
    SL_ST_FILES,
    SL_ST_COMMITTED,
    SL_ST_SENT,
    SL_ST_FAILED,
    SL_ST_N
};
typedef struct sl_stotal {
    char *stream; /* "": records of no stream */
    long long v[SL_ST_N];
} sl_stotal;

/* What a worker holds for one compiled pipeline: decoders' records, Lua
 * states, batch readers, counters. A hot reload builds the next one for
 * every worker before it parks them, then swaps it in whole (reload.c). */
typedef struct sl_wpl {
    const sl_pipeline *pl;   /* what it was built for */
    sl_rec **recs;           /* per plan */
    sl_rec **outs;           /* per plan, for streams with a script: its result */
    struct sl_lua_etl **lua; /* per stream, NULL without a script */
    sl_kbatch **kbs;         /* per stream, made on first use (each stream's codec) */
    sl_sctr *sc;             /* per stream, [n_streams]: no stream */
    /* per stream: the bucket of its last record, valid while the worker's
     * bucket generation (sl_worker.bgen) is unchanged (record.c) */
    struct sl_bcache {
        const void *tpl;
        int64_t hour;
        uint64_t gen;
        struct sl_bucket *b;
    } * bc;
} sl_wpl;

typedef struct sl_replay_job sl_replay_job; /* replay.c */

typedef struct sl_worker {
    sl_rt *rt;
    int32_t id;
    pthread_t th;
    rd_kafka_queue_t *q;
    /* partitions, guarded by rt->mu for changes (assign/revoke); the worker
     * reads them lock-free between barriers */
    sl_part **parts;     /* each allocated once: pointers stay valid while parts are added */
    const void *c_rkt;   /* the last message's topic handle and partition, and its sl_part: */
    int32_t c_partition; /* a run of one partition's messages looks it up once */
    sl_part *c_part;
    int32_t n_parts, cap_parts;
    /* decoding */
    sl_wpl ps;  /* per pipeline */
    sl_buf enc; /* a record re-encoded for the Kafka output */
    /* buckets */
    sl_bucket **table;
    uint32_t table_mask;
    int32_t n_open;
    uint64_t tick;
    uint64_t bgen; /* bumped whenever a bucket leaves the table (bucket.c) */
    uint64_t seq;
    uint64_t done_ckpt; /* last barrier this worker passed */
    int64_t pause_us;   /* how long it stopped ingesting at that barrier (hand-over) */
    /* counters (read by the coordinator for progress; relaxed) */
    sl_sctr *sc;                    /* per stream, [n_streams]: no stream */
    atomic_llong n_unrouted;        /* of sc[n_streams].in: matched no route */
    atomic_llong first_ms, last_ms; /* wall time of the first and last message processed */
    sl_replay_job *rj; /* a dead-letter replay (replay.c); set and cleared under rt->mu */
    /* retry.c: a failed output pauses only the partitions that fed it */
    uint64_t *touch;     /* [2 periods][unit: streams, then dead letters]: bit set of partitions */
    uint64_t *touch_now; /* the current period's (checkpoint done_ckpt + 1) */
    int32_t touch_units, touch_words;
    int touch_lost;          /* out of memory for the sets: a failure restarts the attempt */
    sl_bucket **rolled_p[2]; /* by checkpoint parity: buckets rolled for it, not yet committed */
    int32_t n_rolled_p[2], cap_rolled_p[2];
    int32_t fail_unit; /* the unit whose file failed, -1: unknown */
    int32_t n_paused;
    int64_t retry_at_ms, backoff_ms;
    int clean, clean_barriers; /* no failure since the last resume; barriers passed so */
    int failing;               /* an output failed and has not worked for a period since (status) */
    char *fail_msg;            /* its error (rt->mu) */
    atomic_int req_pending;    /* the pool asks for a drop (retry_req buckets on rt->done) */
    char *errmsg;              /* a fatal error, for the coordinator */
    atomic_int failed;
    /* audit counts (engine/audit.h): au[au_cur] counts now; the other is the
     * table handed over at the last barrier, merged and emptied by the
     * coordinator (commit.c) before the next one */
    sl_audit_tab au[2];
    int au_cur;
} sl_worker;

/* What partition commit keeps per stream of one pipeline (a hot reload
 * prepares the next one before it swaps). */
typedef struct sl_commit_state {
    atomic_llong *through;       /* per stream */
    struct sl_notifier **notify; /* per stream */
    int32_t n;
    int64_t idle_ms;
} sl_commit_state;

/* reload.c: watching the files a configuration is made of. */
typedef struct sl_watch {
    int fd;           /* inotify, -1 when not watching */
    int64_t dirty_ms; /* when the last event came, 0: none pending */
    uint64_t hash;    /* content of the files the running configuration came from */
} sl_watch;

/* A configuration prepared for a hot reload (reload.c). */
typedef struct sl_reload {
    sl_cfg *cfg;
    sl_pipeline *pl;
    sl_wpl *wpl; /* per worker (live swap only) */
    int32_t nw;
    sl_commit_state cs;
    sl_watch watch;
    int restart; /* needs a new attempt (restart_why) */
    char restart_why[128];
    int added, removed; /* streams */
    int64_t t0;         /* when it was asked for (monotonic ms) */
} sl_reload;

struct sl_rt {
    const sl_cfg *cfg;
    const sl_pipeline *pl;
    const sl_runtime_opts *opts;
    sl_storage *st;
    char *mf_dir;
    char attempt[32];
    char instance[9]; /* engine/state.h: part of every file name */
    rd_kafka_t *rk;
    sl_worker *w;
    int32_t nw;
    sl_manifest mf; /* the newest committed manifest (positions carried forward) */
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* workers -> coordinator: barrier passed, job done */
    atomic_ullong ckpt_req_a; /* same, read lock-free by workers */
    atomic_int stop;          /* workers exit */
    /* close pool */
    pthread_t *pool;
    int32_t n_pool;
    sl_bucket *qhead, *qtail; /* to close */
    sl_bucket *done;          /* closed, waiting for their manifest */
    int32_t pending;          /* handed over, not closed yet */
    int32_t pending_c[2];     /* the same by checkpoint parity (C and C+1 overlap) */
    pthread_cond_t qcv;
    int pool_stop;
    /* kafka output (kafka_out.c) */
    struct sl_kout *kout;
    atomic_ullong txn_ckpt; /* the checkpoint whose transaction is open, 0 none */
    /* event time and partition commit (commit.c) */
    atomic_llong *through;       /* per stream: hours before it are committed (workers read) */
    struct sl_notifier **notify; /* per stream, NULL without targets */
    int32_t n_notify;            /* streams of through/notify */
    int64_t idle_ms;             /* the largest of the streams' idle_timeout */
    int64_t late_rows;           /* late rows dropped from files at commit */
    /* per-stream totals of workers that ended (stats.c) */
    sl_stotal *tot;
    int32_t n_tot, cap_tot;
    long long unrouted; /* of workers that ended */
    /* dead-letter replay (replay.c) */
    sl_replay_job *replay; /* the job under way, NULL: none */
    int64_t replay_poll_ms;
    /* hot reload (reload.c) */
    sl_watch watch;
    sl_reload *reload; /* being applied by the current checkpoint */
    sl_reload *next;   /* to install before the next attempt (a restart-class change) */
    uint64_t hold;     /* workers park after barrier `hold` until it is 0 */
    pthread_cond_t hold_cv;
    sl_cfg *own_cfg; /* the running generation when this runtime loaded it */
    sl_pipeline *own_pl;
    uint64_t generation; /* 0: the configuration it started with */
    long long reloads_applied, reloads_rejected;
    char reload_error[SL_ERRMSG_MAX]; /* the last rejection */
    /* status */
    struct sl_obs *obs; /* metrics and the HTTP endpoint (obs.h), NULL without http.listen */
    int64_t files_published, rows_published;
    atomic_llong local_retries; /* outputs that failed and paused only their partitions (retry.c) */
    int failed;                 /* an error stopped this attempt */
    int final_ckpt;             /* the checkpoint being taken is the last before exit */
    sl_error fail_err;
};

/* runtime.c: clocks (ms) */
int64_t sl_rt_mono_ms(void);
int64_t sl_rt_wall_ms(void);

/* stats.c: fold a worker state's counters into the totals (and zero them);
 * a stream's figures and the sum over streams, totals plus live workers
 * (coordinator thread only). */
sl_err_t sl_stats_fold(sl_rt *rt, sl_wpl *ps) SL_MUST_CHECK;
sl_stotal *sl_stats_get(sl_rt *rt, const char *stream);
void sl_stats_stream(const sl_rt *rt, int32_t s, long long v[SL_ST_N]);
void sl_stats_total(const sl_rt *rt, long long v[SL_ST_N]);
void sl_stats_free(sl_rt *rt);

/* reload.c */
uint64_t sl_watch_hash(const sl_cfg *cfg);
sl_err_t sl_watch_open(sl_watch *w, const sl_cfg *cfg, sl_error *err) SL_MUST_CHECK;
/* 1 when the watched files changed (and were quiet for a moment since). */
int sl_watch_poll(sl_watch *w, const sl_cfg *cfg, int64_t now_ms);
void sl_watch_close(sl_watch *w);
/* Load and compile the pipeline file again and build what the swap needs;
 * on error nothing changed and err says why (file:line, key). */
sl_err_t sl_reload_prepare(sl_rt *rt, sl_reload *r, sl_error *err) SL_MUST_CHECK;
void sl_reload_discard(sl_reload *r);
/* Swap r in (workers parked at a barrier, or none running); cannot fail.
 * Afterwards r keeps only the figures of the change (added, removed, t0). */
void sl_reload_install(sl_rt *rt, sl_reload *r);
/* 1 when the reload being applied removes this stream (commit.c). */
int sl_reload_removes(const sl_rt *rt, const char *stream);
/* Append a line to STATE/reloads.jsonl. */
void sl_reload_record(sl_rt *rt, const sl_reload *r, int applied, const char *error);

/* replay.c: dead-letter replay (see its top). Coordinator: pick up a
 * request (tick), write the job's barrier state into a manifest, finish
 * the done replays of rt->mf after it is published (and at recovery).
 * Worker: snapshot at the barrier, read a slice of rows (step). */
void sl_replay_tick(sl_rt *rt, int64_t now_ms);
/* 1 while a replay is under way or asked for (--stop-when-idle waits). */
int sl_replay_pending(const sl_rt *rt);
sl_err_t sl_replay_manifest(sl_rt *rt, sl_manifest *m, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_replay_finish(sl_rt *rt, sl_error *err) SL_MUST_CHECK;
void sl_replay_snap(sl_replay_job *j);
sl_err_t sl_replay_step(sl_worker *w, sl_replay_job *j, sl_error *err) SL_MUST_CHECK;
/* 1 when the job is read to its end; 1 when the coordinator finished it
 * (then its worker frees it). */
int sl_replay_idle(sl_replay_job *j);
int sl_replay_busy(sl_replay_job *j); /* not done, and its rate lets it read now */
int sl_replay_finished(sl_replay_job *j);
void sl_replay_free(sl_replay_job *j);

/* recover.c */
sl_err_t sl_rt_publish(sl_rt *rt, const sl_manifest *m, int redo, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_rt_recover(sl_rt *rt, sl_error *err) SL_MUST_CHECK;

/* Where a record came from (record.c). */
typedef struct sl_msgctx {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t kts;
    int64_t ingest_ms;
    size_t record; /* index within a batched value */
    int batched;
    const void *key; /* the Kafka message's key (kept on the Kafka output) */
    size_t klen;
    sl_part *pt; /* its input partition (its watermark) */
} sl_msgctx;

/* record.c: one record of stream s (-1: route by field), or a whole value
 * (one record or a batch); errors are fatal to the attempt (a bad record is
 * a dead letter, not an error). */
sl_err_t sl_record(sl_worker *w, int32_t s, const uint8_t *p, size_t len, const sl_msgctx *m,
                   sl_error *err) SL_MUST_CHECK;
sl_err_t sl_record_value(sl_worker *w, int32_t s, const uint8_t *val, size_t vlen, sl_msgctx *m,
                         sl_error *err) SL_MUST_CHECK;

/* bucket.c */
#define SL_BATCH_FLUSH_BYTES ((size_t)1 << 20)
sl_bucket *sl_bucket_new(sl_worker *w, int32_t stream, const char *dir, uint32_t hash,
                         sl_error *err);
/* The bucket of (stream, dir, hour), opened (and the LRU one rolled) when
 * missing; NULL with err on NOMEM. */
sl_bucket *sl_bucket_get(sl_worker *w, int32_t stream, const char *dir, int64_t hour,
                         sl_error *err);
/* Memory and size bounds after a row was added (see bucket.c). */
sl_err_t sl_bucket_check(sl_worker *w, sl_bucket *b, sl_error *err) SL_MUST_CHECK;

/* retry.c (see its top) */
/* Size the unit sets for the worker's partitions and pipeline; call after
 * a barrier (with the sets clear) or when a partition is added. */
void sl_retry_fit(sl_worker *w);
static inline void sl_touch(sl_worker *w, int32_t unit, const sl_part *p)
{
    if (p && p->idx < w->touch_words * 64 && unit < w->touch_units)
        w->touch_now[(size_t)unit * (size_t)w->touch_words + (size_t)(p->idx >> 6)] |=
            (uint64_t)1 << (p->idx & 63);
}
/* At a barrier (rt->mu held): the sets start again. */
void sl_retry_barrier(sl_worker *w);
/* A bucket rolled between barriers (rt->mu held). */
void sl_retry_rolled(sl_worker *w, sl_bucket *b);
/* After record processing failed with err: 1 when only the partitions that
 * fed the failed output were rewound and paused (the worker goes on), 0
 * when the attempt must restart. */
int sl_retry_local(sl_worker *w, const sl_error *err);
/* The pool's requests (req_pending): 0 when the attempt must restart. */
int sl_retry_requests(sl_worker *w, sl_error *err);
/* The pool, rt->mu held, for a bucket whose close failed: 1 when its
 * worker drops it (the checkpoint waits), 0: the checkpoint fails. */
int sl_retry_pool_failed(sl_rt *rt, sl_bucket *b);
/* Delete a dropped bucket's in-progress file (a failure is logged: the
 * next start sweeps it). */
void sl_retry_remove(sl_rt *rt, const sl_bucket *b);
/* Seek back and resume the paused partitions once their time came. */
sl_err_t sl_retry_tick(sl_worker *w, int64_t now_mono_ms, sl_error *err) SL_MUST_CHECK;

/* worker.c */
void *sl_worker_main(void *arg);
sl_err_t sl_worker_init(sl_rt *rt, sl_worker *w, int32_t id, sl_error *err);
void sl_worker_free(sl_worker *w);
/* The state of a worker for pipeline pl; on error *s is freed and zeroed. */
sl_err_t sl_wpl_init(sl_wpl *s, const sl_pipeline *pl, sl_error *err) SL_MUST_CHECK;
void sl_wpl_free(sl_wpl *s); /* and zero; safe on a zeroed one */
/* Hand every open bucket to the close pool for checkpoint `ckpt` (caller: the worker). */
void sl_worker_roll_all(sl_worker *w, uint64_t ckpt);

/* kafka_out.c */
sl_err_t sl_kx_start(sl_rt *rt, sl_error *err) SL_MUST_CHECK;
void sl_kx_stop(sl_rt *rt);
sl_err_t sl_kx_decide(sl_rt *rt, int *rolled_back, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_kx_commit(sl_rt *rt, const sl_manifest *m, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_kx_begin_next(sl_rt *rt, uint64_t c, sl_error *err) SL_MUST_CHECK;
sl_err_t sl_kx_send(sl_worker *w, const sl_stream *st, const void *key, size_t klen,
                    const void *val, size_t vlen, sl_error *err) SL_MUST_CHECK;
/* A dead letter to dead_letter.topic (engine/deadletter.h), same transaction. */
struct sl_dl_rec;
sl_err_t sl_kx_send_dead(sl_worker *w, const struct sl_dl_rec *r, sl_error *err) SL_MUST_CHECK;

/* commit.c */
sl_err_t sl_commit_prepare(const sl_rt *rt, const sl_pipeline *pl, sl_commit_state *cs,
                           sl_error *err) SL_MUST_CHECK;
void sl_commit_install(sl_rt *rt, sl_commit_state *cs); /* frees the installed one */
void sl_commit_state_free(sl_commit_state *cs);
sl_err_t sl_commit_start(sl_rt *rt, sl_error *err) SL_MUST_CHECK; /* prepare + install */
void sl_commit_stop(sl_rt *rt);
/* Before manifest C is written: drop late files, account C's files into
 * their hour partitions, advance the watermark, commit the ready hours
 * (marked pending). */
sl_err_t sl_commit_plan(sl_rt *rt, sl_manifest *m, int64_t now_ms, sl_error *err) SL_MUST_CHECK;
/* After C's files are published (and at recovery): _SUCCESS files and
 * notifications of the pending partitions, then clear their pending mark. */
sl_err_t sl_commit_run(sl_rt *rt, sl_manifest *m, sl_error *err) SL_MUST_CHECK;

/* compact.c: merge this instance's part files of a committed partition
 * directory into files of about `target` bytes; *files / *bytes: what the
 * directory then holds of this instance. */
sl_err_t sl_compact_partition(sl_rt *rt, const sl_stream *st, const char *dir, int64_t version,
                              int64_t target, int64_t *files, int64_t *bytes,
                              sl_error *err) SL_MUST_CHECK;

/* A Parquet (not JSON-lines) file: the stream's format, or dead_letter.format. */
static inline int sl_bucket_parquet(const sl_rt *rt, const sl_bucket *b)
{
    return b->stream >= 0 ? !rt->pl->streams[b->stream].jsonl
                          : rt->cfg->dead_letter.format == SL_OUTF_PARQUET;
}

/* closer.c */
sl_err_t sl_closer_start(sl_rt *rt, int32_t threads, sl_error *err);
void sl_closer_stop(sl_rt *rt);
void sl_closer_submit(sl_rt *rt, sl_bucket *b); /* takes ownership */
void sl_bucket_free(sl_bucket *b);
/* Encode buffered rows into the bucket's file (opened on first use). */
sl_err_t sl_bucket_drain(sl_rt *rt, sl_bucket *b, sl_error *err) SL_MUST_CHECK;

#endif
