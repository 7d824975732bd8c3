/* test_deadletter.c - the three forms of a dead letter: the JSON line (exact
 * bytes), the Kafka headers, and the Parquet row (written with the Parquet
 * writer and read back with the reader: schema, nulls, values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ostream.h"
#include "engine/deadletter.h"
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
    CHECK_EQ_INT(k, 9);
    static const char *want[][2] = {{"sluice.pipeline", "p1"},
                                    {"sluice.stream", "play"},
                                    {"sluice.topic", "events"},
                                    {"sluice.partition", "3"},
                                    {"sluice.offset", "120045"},
                                    {"sluice.record", "7"},
                                    {"sluice.kind", "record"},
                                    {"sluice.hour", "1764547200000"},
                                    {"sluice.reason", "decode: field 7 (\"x\"): truncated"}};
    for (int i = 0; i < k && i < 9; i++)
        CHECK(!strcmp(n[i], want[i][0]) && !strcmp(v[i], want[i][1]));
    r.stream = NULL; /* no stream: no header */
    CHECK_EQ_INT(sl_dl_headers(&r, n, v, num, sizeof num), 8);
    for (int i = 0; i < 8; i++)
        CHECK(strcmp(n[i], "sluice.stream") != 0);
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

int main(void)
{
    RUN(test_json);
    RUN(test_headers);
    RUN(test_dir);
    RUN(test_parquet);
    return TEST_DONE();
}
