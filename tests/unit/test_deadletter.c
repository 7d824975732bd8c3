/* test_deadletter.c - the three forms of a dead letter: the JSON line (exact
 * bytes), the Kafka headers, and the Parquet row (written with the Parquet
 * writer and read back with the reader: schema, nulls, values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ostream.h"
#include "engine/deadletter.h"
#include "engine/dl_kafka.h"
#include "formats/parquet/pq_reader.h"
#include "formats/parquet/pq_writer.h"
#include "test.h"

static sl_dl_rec rec1(void)
{
    static const uint8_t raw[] = {0x1a, 0x05, 'a', 'b', 0x00, '"'};
    sl_dl_rec r = {.pipeline = "p1",
                   .stream = "play",
                   .topic = "events",
                   .partition = 3,
                   .offset = 120045,
                   .record = 7,
                   .kafka_ts = 1764547200123LL,
                   .time_ms = 1764550000000LL,
                   .hour_ms = 1764547200000LL,
                   .whole_value = 0,
                   .reason = "decode: field 7 (\"x\"): truncated",
                   .raw = raw,
                   .len = sizeof raw,
                   .key = (const uint8_t *)"k1",
                   .klen = 2};
    return r;
}

static void test_json(void)
{
    sl_buf b = SL_BUF_INIT;
    sl_dl_rec r = rec1();
    CHECK_OK(sl_dl_json(&b, &r), NULL);
    const char *want =
        "{\"pipeline\":\"p1\",\"stream\":\"play\",\"topic\":\"events\",\"partition\":3,"
        "\"offset\":120045,\"record\":7,\"kafka_timestamp\":1764547200123,"
        "\"time\":1764550000000,\"hour\":1764547200000,\"kind\":\"record\","
        "\"reason\":\"decode: field 7 (\\\"x\\\"): truncated\","
        "\"raw_base64\":\"GgVhYgAi\",\"key_base64\":\"azE=\"}\n";
    CHECK(b.len == strlen(want) && !memcmp(b.p, want, b.len));
    if (b.len != strlen(want) || memcmp(b.p, want, b.len))
        fprintf(stderr, "got  %.*s\nwant %s", (int)b.len, (const char *)b.p, want);
    /* no stream, no key, no Kafka timestamp, a whole value */
    sl_buf_reset(&b);
    r.stream = NULL;
    r.key = NULL;
    r.kafka_ts = -1;
    r.whole_value = 1;
    CHECK_OK(sl_dl_json(&b, &r), NULL);
    CHECK(memmem(b.p, b.len, "\"stream\":null,", 14) != NULL);
    CHECK(memmem(b.p, b.len, "\"kafka_timestamp\":null,", 23) != NULL);
    CHECK(memmem(b.p, b.len, "\"kind\":\"value\",", 15) != NULL);
    CHECK(memmem(b.p, b.len, "\"key_base64\":null}\n", 19) != NULL);
    sl_buf_free(&b);
}

static void test_headers(void)
{
    sl_dl_rec r = rec1();
    const char *n[SL_DL_N_HEADERS], *v[SL_DL_N_HEADERS];
    char num[128];
    int k = sl_dl_headers(&r, n, v, num, sizeof num);
    CHECK_EQ_INT(k, 10);
    static const char *want[][2] = {{"sluice.pipeline", "p1"},
                                    {"sluice.stream", "play"},
                                    {"sluice.topic", "events"},
                                    {"sluice.partition", "3"},
                                    {"sluice.offset", "120045"},
                                    {"sluice.record", "7"},
                                    {"sluice.kind", "record"},
                                    {"sluice.hour", "1764547200000"},
                                    {"sluice.reason", "decode: field 7 (\"x\"): truncated"},
                                    {"sluice.kafka_timestamp", "1764547200123"}};
    for (int i = 0; i < k && i < 10; i++)
        CHECK(!strcmp(n[i], want[i][0]) && !strcmp(v[i], want[i][1]));
    r.stream = NULL; /* no stream: no header */
    CHECK_EQ_INT(sl_dl_headers(&r, n, v, num, sizeof num), 9);
    for (int i = 0; i < 9; i++)
        CHECK(strcmp(n[i], "sluice.stream") != 0);
    r.kafka_ts = -1; /* no timestamp: no header */
    CHECK_EQ_INT(sl_dl_headers(&r, n, v, num, sizeof num), 8);
    for (int i = 0; i < 8; i++)
        CHECK(strcmp(n[i], "sluice.kafka_timestamp") != 0);
    r.instance = "0a1b2c3d"; /* the writing instance, last */
    CHECK_EQ_INT(sl_dl_headers(&r, n, v, num, sizeof num), 9);
    CHECK(!strcmp(n[8], "sluice.instance") && !strcmp(v[8], "0a1b2c3d"));
}

static void test_dir(void)
{
    char d[64];
    CHECK(sl_dl_dir(d, sizeof d, "dl", 1764547200000LL + 13 * 3600000LL) > 0 &&
          !strcmp(d, "dl/dt=2025-12-01/hour=13"));
    CHECK(sl_dl_dir(d, sizeof d, "dl", -3600000) > 0 && !strcmp(d, "dl/dt=1969-12-31/hour=23"));
    CHECK(sl_dl_dir(d, 8, "dl", 0) == -1);
}

static const sl_col *leaf(const sl_batch *b, const sl_schema *s, const char *name)
{
    return &b->cols[s->nodes[sl_schema_find(s, name)].leaf];
}

/* Two rows through the Parquet writer and back: every column, the nulls. */
static void test_parquet(void)
{
    sl_schema s;
    sl_error e;
    CHECK_OK(sl_dl_schema(&s, &e), &e);
    CHECK_EQ_INT(s.n_leaves, 13);
    sl_batch b;
    CHECK_OK(sl_batch_init(&b, &s), NULL);
    sl_dl_rec r = rec1();
    CHECK_OK(sl_dl_row(&b, &r), NULL);
    r.stream = NULL;
    r.key = NULL;
    r.kafka_ts = -1;
    r.whole_value = 1;
    CHECK_OK(sl_dl_row(&b, &r), NULL);
    CHECK_EQ_INT(b.nrows, 2);
    CHECK_OK(sl_batch_validate(&b, &e), &e);
    sl_buf file = SL_BUF_INIT;
    sl_ostream *os = NULL;
    sl_pq_writer *w = NULL;
    sl_pq_options o = {.codec = SL_PQ_CODEC_ZSTD};
    CHECK_OK(sl_ostream_mem(&os, &file, &e), &e);
    CHECK_OK(sl_pq_writer_open(&w, &s, os, &o, &e), &e);
    CHECK_OK(sl_pq_writer_write(w, &b, &e), &e);
    CHECK_OK(sl_pq_writer_close(w, &e), &e);
    sl_pq_writer_free(w);
    sl_ostream_destroy(os);
    sl_pq_reader rd;
    sl_batch got = {0};
    CHECK_OK(sl_pq_reader_open_mem(&rd, file.p, file.len, &e), &e);
    CHECK_EQ_INT(rd.meta.num_rows, 2);
    CHECK(sl_schema_fingerprint(&rd.schema) == sl_schema_fingerprint(&s));
    CHECK_OK(sl_batch_init(&got, &rd.schema), NULL);
    CHECK_OK(sl_pq_reader_read_row_group(&rd, 0, &got, &e), &e);
    const sl_col *st = leaf(&got, &rd.schema, "stream");
    const sl_col *key = leaf(&got, &rd.schema, "key");
    const sl_col *raw = leaf(&got, &rd.schema, "raw");
    const sl_col *kind = leaf(&got, &rd.schema, "kind");
    const sl_col *off = leaf(&got, &rd.schema, "offset");
    uint32_t len;
    CHECK(st->n == 2 && st->nvals == 1 && st->def[0] == 1 && st->def[1] == 0);
    CHECK(key->n == 2 && key->nvals == 1);
    const uint8_t *p = sl_col_bytes_at(raw, 1, &len);
    CHECK(len == r.len && !memcmp(p, r.raw, len));
    p = sl_col_bytes_at(kind, 1, &len);
    CHECK(len == 5 && !memcmp(p, "value", 5));
    int64_t o1;
    memcpy(&o1, off->val.p + 8, 8);
    CHECK_EQ_INT(o1, 120045);
    sl_pq_reader_close(&rd);
    sl_batch_free(&got);
    sl_batch_free(&b);
    sl_buf_free(&file);
    sl_schema_free(&s);
}

/* Row i of the read-back test: nulls and kinds vary with i. */
static sl_dl_rec rec_i(int i, uint8_t *raw, char *reason)
{
    sl_dl_rec r = rec1();
    r.offset = 1000 + i;
    r.partition = i % 7;
    r.record = i % 3;
    r.stream = i % 5 == 0 ? NULL : i % 2 ? "play" : "click";
    r.kafka_ts = i % 11 == 0 ? -1 : 1764547200000LL + i;
    r.key = i % 4 == 0 ? NULL : (const uint8_t *)"key";
    r.klen = 3;
    r.whole_value = i % 13 == 0;
    r.hour_ms = 1764547200000LL + (int64_t)(i / 1000) * 3600000;
    for (int k = 0; k < 40; k++)
        raw[k] = (uint8_t)(i * 31 + k);
    r.raw = raw;
    r.len = (size_t)(i % 40);
    snprintf(reason, 64, "decode: row %d \"x\"\n", i);
    r.reason = reason;
    return r;
}

static int same(const sl_dl_rec *a, const sl_dl_rec *b)
{
    return !strcmp(a->pipeline, b->pipeline) && !a->stream == !b->stream &&
           (!a->stream || !strcmp(a->stream, b->stream)) && !strcmp(a->topic, b->topic) &&
           a->partition == b->partition && a->offset == b->offset && a->record == b->record &&
           a->kafka_ts == b->kafka_ts && a->time_ms == b->time_ms && a->hour_ms == b->hour_ms &&
           a->whole_value == b->whole_value && !strcmp(a->reason, b->reason) && a->len == b->len &&
           !memcmp(a->raw, b->raw, a->len) && !a->key == !b->key &&
           (!a->key || (a->klen == b->klen && !memcmp(a->key, b->key, a->klen)));
}

/* 3000 dead letters written in both forms (Parquet in many row groups) and
 * read back with sl_dl_open/next, every field; then again from row 2345. */
static void test_read_back(void)
{
    enum { N = 3000 };
    const char *tmp = getenv("SL_TMP") ? getenv("SL_TMP") : "/tmp";
    char pq[512], js[512];
    snprintf(pq, sizeof pq, "%s/test_dl.%d.parquet", tmp, (int)getpid());
    snprintf(js, sizeof js, "%s/test_dl.%d.jsonl", tmp, (int)getpid());
    sl_schema s;
    sl_error e;
    CHECK_OK(sl_dl_schema(&s, &e), &e);
    sl_batch b;
    CHECK_OK(sl_batch_init(&b, &s), NULL);
    sl_buf lines = SL_BUF_INIT;
    uint8_t raw[40];
    char reason[64];
    sl_ostream *os = NULL;
    sl_pq_writer *w = NULL;
    sl_pq_options o = {.codec = SL_PQ_CODEC_SNAPPY, .row_group_bytes = 16384};
    CHECK_OK(sl_ostream_file(&os, pq, 0, &e), &e);
    CHECK_OK(sl_pq_writer_open(&w, &s, os, &o, &e), &e);
    for (int i = 0; i < N; i++) {
        sl_dl_rec r = rec_i(i, raw, reason);
        CHECK_OK(sl_dl_row(&b, &r), NULL);
        CHECK_OK(sl_dl_json(&lines, &r), NULL);
        if (b.nrows == 100) {
            CHECK_OK(sl_pq_writer_write(w, &b, &e), &e);
            sl_batch_reset(&b);
        }
    }
    CHECK_OK(sl_pq_writer_close(w, &e), &e);
    CHECK_OK(sl_ostream_close(os, &e), &e);
    sl_pq_writer_free(w);
    sl_ostream_destroy(os);
    FILE *f = fopen(js, "w");
    CHECK(f && fwrite(lines.p, 1, lines.len, f) == lines.len);
    if (f) fclose(f);
    const char *paths[2] = {pq, js};
    for (int form = 0; form < 2; form++)
        for (int from = 0; from <= 2345; from += 2345) {
            sl_dl_reader *rd = NULL;
            CHECK_OK(sl_dl_open(&rd, paths[form], &e), &e);
            if (!rd) continue;
            CHECK_OK(sl_dl_skip(rd, from, &e), &e);
            int i = from, bad = 0, k;
            sl_dl_rec got;
            while ((k = sl_dl_next(rd, &got, &e)) > 0) {
                sl_dl_rec want = rec_i(i, raw, reason);
                if (!same(&got, &want) && !bad++)
                    fprintf(stderr, "%s: row %d differs\n", paths[form], i);
                i++;
            }
            CHECK_EQ_INT(k, 0);
            CHECK_EQ_INT(bad, 0);
            CHECK_EQ_INT(i, N);
            CHECK_EQ_INT(sl_dl_row_no(rd), N);
            sl_dl_close(rd);
        }
    /* not a dead-letter file: a clear error */
    sl_dl_reader *rd = NULL;
    f = fopen(js, "w");
    if (f) {
        fputs("{\"x\":1}\n", f);
        fclose(f);
    }
    CHECK_OK(sl_dl_open(&rd, js, &e), &e);
    sl_dl_rec got;
    CHECK_EQ_INT(sl_dl_next(rd, &got, &e), -1);
    CHECK(strstr(e.msg, "line 1 is not a dead letter") != NULL);
    sl_dl_close(rd);
    unlink(pq);
    unlink(js);
    sl_buf_free(&lines);
    sl_batch_free(&b);
    sl_schema_free(&s);
}

/* Names of a dead-letter topic's ranges: "kafka:TOPIC/PARTITION/FROM-TO". */
static void test_range_names(void)
{
    char t[64];
    int32_t p;
    int64_t f, to;
    CHECK(sl_dlk_parse("kafka:dlq/3/10-250", t, sizeof t, &p, &f, &to) == 0 && !strcmp(t, "dlq") &&
          p == 3 && f == 10 && to == 250);
    CHECK(sl_dlk_parse("kafka:a.b-c_d/0/0-0", t, sizeof t, &p, &f, &to) == 0 &&
          !strcmp(t, "a.b-c_d") && p == 0 && f == 0 && to == 0);
    static const char *bad[] = {"dlq/3/10-250",       "kafka:/3/10-250",
                                "kafka:dlq/3/250-10", "kafka:dlq/-1/0-1",
                                "kafka:dlq/3/0-1x",   "kafka:dlq/3",
                                "kafka:dlq/3/10",     "kafka:dlq/x/0-1",
                                "kafka:dlq/3/-5-1",   "kafka:dlq/99999999999/0-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sl_dlk_parse(bad[i], t, sizeof t, &p, &f, &to) == -1);
    CHECK(sl_dlk_parse("kafka:a-very-long-topic-name-indeed/0/0-1", t, 8, &p, &f, &to) == -1);
    /* a range is not a file: without the pipeline it cannot be opened */
    sl_dl_reader *r = NULL;
    sl_error e;
    CHECK(sl_dl_open(&r, "kafka:dlq/0/0-10", &e) == SL_ERR_INVALID && r == NULL);
}

int main(void)
{
    RUN(test_range_names);
    RUN(test_json);
    RUN(test_headers);
    RUN(test_dir);
    RUN(test_parquet);
    RUN(test_read_back);
    return TEST_DONE();
}
