/* test_config.c - the pipeline-file parser (engine/config.c): the issue's
 * example file, defaults, relative paths, and one test per error class,
 * asserting file:line:col and the key path of the message. Positions are
 * counted by hand from the YAML text in each test (not taken from our output).
 */
#include <unistd.h>

#include "engine/config.h"
#include "engine/config_int.h"
#include "test.h"

#define HEAD "pipeline: p\nsource: { brokers: b:9092, topics: [t, u] }\nschemas: [a.proto]\n"
/* lines 4..7 */
#define ONE_STREAM                                                                                 \
    "streams:\n"                                                                                   \
    "  - name: s\n"                                                                                \
    "    message: m.M\n"                                                                           \
    "    outputs: [{kind: files, path: out}]\n"

static sl_cfg *parse_ok(const char *y)
{
    sl_cfg *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    sl_err_t rc = sl_cfg_parse(&c, y, strlen(y), "t.yaml", "/cfg", &err);
    if (rc) {
        fprintf(stderr, "unexpected error: %s\n--- yaml:\n%s\n", err.msg, y);
        t_cur_failed = 1;
    }
    return c;
}

/* The load fails, the message starts with `prefix` and contains `also`. */
static void expect_err_at(int line, const char *y, const char *prefix, const char *also)
{
    sl_cfg *c = (sl_cfg *)&c;
    sl_error err;
    sl_error_clear(&err);
    sl_err_t rc = sl_cfg_parse(&c, y, strlen(y), "t.yaml", "/cfg", &err);
    if (rc == SL_OK || c != NULL || strncmp(err.msg, prefix, strlen(prefix)) ||
        (also && !strstr(err.msg, also))) {
        fprintf(stderr,
                "test_config.c:%d: expected error '%s...'%s%s\n   got rc=%d '%s'\n--- yaml:\n%s\n",
                line, prefix, also ? " containing " : "", also ? also : "", (int)rc, err.msg, y);
        t_cur_failed = 1;
    }
    if (rc == SL_OK) sl_cfg_free(c);
}
#define EXPECT_ERR(y, prefix, also) expect_err_at(__LINE__, y, prefix, also)

static void test_issue_example(void)
{
    char path[8300];
    const char *src = getenv("SL_SRC");
    char here[4096]; /* without SL_SRC: the tree holding this file */
    snprintf(here, sizeof here, "%s", __FILE__);
    if (!src && strstr(here, "/tests/unit/")) *strstr(here, "/tests/unit/") = '\0';
    snprintf(path, sizeof path, "%s/tests/data/pipelines/plays.yaml", src ? src : here);
    char *dir = realpath(src ? src : here, NULL);
    char want[4200];
    sl_cfg *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    CHECK_OK(sl_cfg_load(&c, path, &err), &err);
    CHECK(dir != NULL);
    if (!c || !dir) goto out;
    CHECK(!strcmp(c->pipeline, "plays"));
    snprintf(want, sizeof want, "%s/tests/data/pipelines/state", dir);
    CHECK(!strcmp(c->state_dir, want));
    CHECK_EQ_INT(c->checkpoint_interval_ms, 60000);
    CHECK_EQ_INT(c->workers, 2);
    CHECK(!strcmp(c->source.kind, "kafka"));
    CHECK(!strcmp(c->source.brokers, "127.0.0.1:9092"));
    CHECK_EQ_INT(c->source.n_topics, 1);
    CHECK(!strcmp(c->source.topics[0], "events"));
    CHECK(!strcmp(c->source.group, "sluice-plays"));
    CHECK_EQ_INT(c->source.start_latest, 0);
    CHECK_EQ_INT(c->n_schemas, 1);
    snprintf(want, sizeof want, "%s/tests/data/pipelines/play_event.proto", dir);
    CHECK(!strcmp(c->schemas[0], want));
    CHECK_EQ_INT(c->n_streams, 1);
    const sl_cfg_stream *s = &c->streams[0];
    CHECK(!strcmp(s->name, "play"));
    CHECK_EQ_INT(s->line, 14); /* "  - name: play": the mapping starts at "name" */
    CHECK_EQ_INT(s->col, 5);
    CHECK_EQ_INT(s->route.kind, SL_ROUTE_FIELD);
    CHECK(!strcmp(s->route.name, "log_id"));
    CHECK(!strcmp(s->route.equals, "001000"));
    CHECK_EQ_INT(s->route.line, 15);
    CHECK_EQ_INT(s->route.col, 12);
    CHECK(!strcmp(s->message, "bench.PlayEvent"));
    CHECK_EQ_INT(s->format, SL_IN_PROTOBUF);
    CHECK_EQ_INT(s->framing, SL_FRAMING_SINGLE);
    CHECK(!strcmp(s->event_time.field, "event_time_ms"));
    CHECK_EQ_INT(s->event_time.unit, SL_ETU_MS);
    CHECK(!strcmp(s->etl.filter, "play_seconds > 0 and platform != 'TV'"));
    CHECK_EQ_INT(s->etl.filter_line, 20);
    CHECK_EQ_INT(s->etl.filter_col, 15);
    CHECK_EQ_INT(s->etl.n_columns, 5);
    CHECK(!strcmp(s->etl.columns[0], "mid") && !strcmp(s->etl.columns[4], "client"));
    CHECK_EQ_INT(s->etl.metadata, SL_META_TOPIC | SL_META_PARTITION | SL_META_OFFSET |
                                      SL_META_KAFKA_TIMESTAMP | SL_META_INGEST_TIME);
    snprintf(want, sizeof want, "%s/tests/data/pipelines/clean.lua", dir);
    CHECK(!strcmp(s->etl.script, want));
    CHECK_EQ_INT(s->n_outputs, 2);
    if (s->n_outputs == 2) {
        CHECK_EQ_INT(s->outputs[0].kind, SL_OUT_FILES);
        snprintf(want, sizeof want, "%s/tests/data/pipelines/lake/{stream}/dt={date}/hour={hour}",
                 dir);
        CHECK(!strcmp(s->outputs[0].path, want));
        CHECK_EQ_INT(s->outputs[0].format, SL_OUTF_PARQUET);
        CHECK(!strcmp(s->outputs[0].compression, "zstd"));
        CHECK_EQ_INT(s->outputs[1].kind, SL_OUT_KAFKA);
        CHECK(!strcmp(s->outputs[1].topic, "plays-clean"));
        CHECK_EQ_INT(s->outputs[1].format, SL_OUTF_PROTOBUF);
        CHECK_EQ_INT(s->outputs[1].line, 26);
    }
    CHECK_EQ_INT(c->dead_letter.kind, SL_OUT_FILES);
    snprintf(want, sizeof want, "%s/tests/data/pipelines/lake/_dead_letter", dir);
    CHECK(!strcmp(c->dead_letter.path, want));
out:
    free(dir);
    sl_cfg_free(c);
}

static void test_doc_example_parses(void)
{
    const char *y = sl_cfg_doc_example();
    sl_cfg *c = parse_ok(y);
    if (c) CHECK(!strcmp(c->streams[0].route.equals, "001000"));
    sl_cfg_free(c);
}

static void test_defaults(void)
{
    sl_cfg *c = parse_ok(HEAD ONE_STREAM);
    if (!c) return;
    CHECK(!strcmp(c->file, "t.yaml"));
    CHECK(!strcmp(c->dir, "/cfg"));
    CHECK(!strcmp(c->state_dir, "/cfg/state"));
    CHECK_EQ_INT(c->checkpoint_interval_ms, 60000);
    CHECK_EQ_INT(c->workers, 1);
    CHECK(!strcmp(c->source.kind, "kafka"));
    CHECK(!strcmp(c->source.group, "sluice-p"));
    CHECK_EQ_INT(c->source.start_latest, 0);
    CHECK_EQ_INT(c->source.n_properties, 0);
    const sl_cfg_stream *s = &c->streams[0];
    CHECK_EQ_INT(s->route.kind, SL_ROUTE_ALL);
    CHECK(s->route.name == NULL && s->route.equals == NULL);
    CHECK_EQ_INT(s->format, SL_IN_PROTOBUF);
    CHECK(!strcmp(s->separator, "\t"));
    CHECK(!strcmp(s->null_token, "\\N"));
    CHECK_EQ_INT(s->framing, SL_FRAMING_SINGLE);
    CHECK(!strcmp(s->batch_compression, "auto"));
    CHECK(s->event_time.field == NULL);
    CHECK_EQ_INT(s->event_time.unit, SL_ETU_MS);
    CHECK(s->etl.filter == NULL && s->etl.columns == NULL && s->etl.script == NULL);
    CHECK_EQ_INT(s->etl.metadata, 0);
    CHECK_EQ_INT(s->outputs[0].format, SL_OUTF_PARQUET);
    CHECK(!strcmp(s->outputs[0].compression, "zstd"));
    CHECK_EQ_INT(c->dead_letter.kind, SL_OUT_FILES);
    CHECK(!strcmp(c->dead_letter.path, "/cfg/dead_letter"));
    CHECK_EQ_INT(c->dead_letter.format, SL_OUTF_PARQUET);
    CHECK_EQ_INT(c->audit.enabled, 1);
    CHECK(!strcmp(c->audit.path, "/cfg/state/audit"));
    CHECK_EQ_INT(c->limits.max_open_files, 1024);
    CHECK_EQ_INT(c->limits.memory, 256 << 20);
    CHECK_EQ_INT(c->limits.file_size, 256 << 20);
    CHECK_EQ_INT(c->limits.row_group_size, 128 << 20);
    sl_cfg_free(c);
    /* null values mean "not set" */
    c = parse_ok(HEAD ONE_STREAM "workers: ~\nstate_dir:\nlimits: { memory: null }\n");
    if (c) {
        CHECK_EQ_INT(c->workers, 1);
        CHECK(!strcmp(c->state_dir, "/cfg/state"));
        CHECK_EQ_INT(c->limits.memory, 256 << 20);
    }
    sl_cfg_free(c);
}

static void test_values(void)
{
    sl_cfg *c = parse_ok(
        "pipeline: a.b-c_9\nworkers: 256\ncheckpoint: { interval: 1s }\n"
        "source:\n  brokers: x\n  topics: [t1, t2]\n  start: latest\n  group: g\n"
        "  properties: { security.protocol: SASL_SSL, sasl.password: 's3cr3t', linger.ms: 5 }\n"
        "schemas: [/abs/a.proto, ../up/b.desc, ./c.proto]\n"
        "streams:\n"
        "  - name: a\n    route: { topic: t2 }\n    message: m.A\n    format: delimited\n"
        "    separator: ','\n    null: ''\n    framing: batch\n    batch_compression: zstd\n"
        "    event_time: { kafka_timestamp: true }\n"
        "    outputs:\n      - { kind: files, path: /abs/lake, format: jsonl }\n"
        "      - { kind: kafka, topic: o, format: passthrough }\n"
        "  - name: b\n    route: { header: h, equals: \"\" }\n    message: m.B\n"
        "    format: json\n    event_time: { field: ts, unit: us }\n"
        "    etl: { metadata: [offset, topic] }\n"
        "    outputs: [{ kind: files, path: ../lake }]\n"
        "dead_letter: { kind: kafka, topic: dlq }\n"
        "limits: { max_open_files: 3, memory: 1MiB, file_size: 2g, row_group_size: 64KiB }\n");
    if (!c) return;
    CHECK_EQ_INT(c->workers, 256);
    CHECK_EQ_INT(c->checkpoint_interval_ms, 1000);
    CHECK_EQ_INT(c->source.start_latest, 1);
    CHECK(!strcmp(c->source.group, "g"));
    CHECK_EQ_INT(c->source.n_properties, 3);
    CHECK(!strcmp(c->source.properties[1].key, "sasl.password"));
    CHECK(!strcmp(c->source.properties[1].value, "s3cr3t"));
    CHECK(!strcmp(c->source.properties[2].value, "5"));
    CHECK(!strcmp(c->schemas[0], "/abs/a.proto"));
    CHECK(!strcmp(c->schemas[1], "/cfg/../up/b.desc"));
    CHECK(!strcmp(c->schemas[2], "/cfg/c.proto"));
    const sl_cfg_stream *a = &c->streams[0], *b = &c->streams[1];
    CHECK_EQ_INT(a->route.kind, SL_ROUTE_TOPIC);
    CHECK(!strcmp(a->route.name, "t2") && a->route.equals == NULL);
    CHECK_EQ_INT(a->format, SL_IN_DELIMITED);
    CHECK(!strcmp(a->separator, ",") && !strcmp(a->null_token, ""));
    CHECK_EQ_INT(a->framing, SL_FRAMING_BATCH);
    CHECK(!strcmp(a->batch_compression, "zstd"));
    CHECK(a->event_time.field == NULL);
    CHECK_EQ_INT(a->outputs[0].format, SL_OUTF_JSONL);
    CHECK(!strcmp(a->outputs[0].path, "/abs/lake"));
    CHECK(a->outputs[0].compression == NULL);
    CHECK_EQ_INT(a->outputs[1].format, SL_OUTF_PASSTHROUGH);
    CHECK_EQ_INT(b->route.kind, SL_ROUTE_HEADER);
    CHECK(!strcmp(b->route.equals, ""));
    CHECK_EQ_INT(b->format, SL_IN_JSON);
    CHECK_EQ_INT(b->event_time.unit, SL_ETU_US);
    CHECK_EQ_INT(b->etl.metadata, SL_META_OFFSET | SL_META_TOPIC);
    CHECK(!strcmp(b->outputs[0].path, "/cfg/../lake"));
    CHECK_EQ_INT(c->dead_letter.kind, SL_OUT_KAFKA);
    CHECK(!strcmp(c->dead_letter.topic, "dlq") && c->dead_letter.path == NULL);
    CHECK_EQ_INT(c->limits.max_open_files, 3);
    CHECK_EQ_INT(c->limits.memory, 1 << 20);
    CHECK_EQ_INT(c->limits.file_size, 2LL << 30);
    CHECK_EQ_INT(c->limits.row_group_size, 64 << 10);
    /* the dump never shows a property value, and parses back to itself */
    char *d = sl_cfg_dump_yaml(c);
    CHECK(d && !strstr(d, "s3cr3t") && strstr(d, "\"sasl.password\": \"***\""));
    sl_cfg_free(c);
    free(d);
}

static void test_relative_paths(void)
{
    const char *y = HEAD ONE_STREAM "state_dir: ./st/../x\n"
                                    "dead_letter: { path: ././dl }\n";
    sl_cfg *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    CHECK_OK(sl_cfg_parse(&c, y, strlen(y), "t.yaml", "rel/dir", &err), &err);
    if (c) {
        CHECK(!strcmp(c->state_dir, "rel/dir/st/../x"));
        CHECK(!strcmp(c->dead_letter.path, "rel/dir/dl"));
        CHECK(!strcmp(c->schemas[0], "rel/dir/a.proto"));
        CHECK(!strcmp(c->streams[0].outputs[0].path, "rel/dir/out"));
    }
    sl_cfg_free(c);
    /* sl_cfg_load resolves against the file's directory, whatever the cwd */
    char d[1024], f[1100], cwd[4096];
    snprintf(d, sizeof d, "%s/cfg-rel-%d", test_tmpdir(), (int)getpid());
    snprintf(f, sizeof f, "%s/p.yaml", d);
    snprintf(cwd, sizeof cwd, "mkdir -p %s", d);
    CHECK(system(cwd) == 0);
    FILE *fp = fopen(f, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(HEAD ONE_STREAM, fp);
    fclose(fp);
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir("/") == 0);
    CHECK_OK(sl_cfg_load(&c, f, &err), &err);
    char *real = realpath(d, NULL), want[2048];
    if (c && real) {
        snprintf(want, sizeof want, "%s/a.proto", real);
        CHECK(!strcmp(c->schemas[0], want));
        snprintf(want, sizeof want, "%s/state", real);
        CHECK(!strcmp(c->state_dir, want));
    }
    free(real);
    sl_cfg_free(c);
    CHECK(chdir(cwd) == 0);
    remove(f);
    rmdir(d);
}

static void test_err_unknown_keys(void)
{
    EXPECT_ERR(HEAD ONE_STREAM "chekpoint: { interval: 60s }\n",
               "t.yaml:8:1: chekpoint: unknown key; did you mean 'checkpoint'?", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    etl: { filtr: 'a > 1' }\n",
               "t.yaml:8:12: streams[0].etl.filtr: unknown key; did you mean 'filter'?", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "zzzzzzzz: 1\n",
               "t.yaml:8:1: zzzzzzzz: unknown key; expected one of",
               "pipeline, state_dir, checkpoint");
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    mesage: m\n",
               "t.yaml:6:5: streams[0].mesage: unknown key; did you mean 'message'?", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "<<: {}\n", "t.yaml:8:1: <<: YAML merge keys are not supported",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "source.brokers: x\n", "t.yaml:8:1: source.brokers: unknown key",
               NULL);
}

static void test_err_duplicate_key(void)
{
    EXPECT_ERR(HEAD ONE_STREAM "workers: 2\nworkers: 3\n",
               "t.yaml:9:1: workers: duplicate key (first at line 8)", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n    name: t\n",
               "t.yaml:7:5: streams[0].name: duplicate key (first at line 5)", NULL);
    EXPECT_ERR("pipeline: p\nsource: { brokers: b, topics: [t], properties: { a: 1, a: 2 } }\n",
               "t.yaml:2:56: source.properties.a: duplicate key", NULL);
}

static void test_err_types(void)
{
    EXPECT_ERR(HEAD ONE_STREAM "workers: [1]\n",
               "t.yaml:8:10: workers: found a list; expected an integer from 1 to 256", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "workers: two\n", "t.yaml:8:10: workers: 'two' is not valid", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "workers: 0\n", "t.yaml:8:10: workers: 0 is out of range",
               "1 to 256");
    EXPECT_ERR(HEAD ONE_STREAM "workers: 257\n", "t.yaml:8:10: workers: 257 is out of range", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "workers: 99999999999999999999\n", "t.yaml:8:10: workers:", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "checkpoint: { interval: 500ms }\n",
               "t.yaml:8:25: checkpoint.interval: 500ms is out of range", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "checkpoint: { interval: 60 }\n",
               "t.yaml:8:25: checkpoint.interval: '60' is not valid; expected a duration", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "checkpoint: 60s\n",
               "t.yaml:8:13: checkpoint: found a scalar; expected a mapping", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "limits: { memory: 1k }\n",
               "t.yaml:8:19: limits.memory: 1k is out of range", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "limits: { file_size: lots }\n",
               "t.yaml:8:22: limits.file_size: 'lots' is not valid; expected a size", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    format: xml\n",
               "t.yaml:8:13: streams[0].format: 'xml' is not allowed; expected one of protobuf, "
               "json, delimited",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "source2: 1\n", "t.yaml:8:1: source2: unknown key; did you mean",
               NULL);
    EXPECT_ERR("pipeline: p\nsource: { brokers: b, topics: t }\n",
               "t.yaml:2:31: source.topics: found a scalar; expected a list of strings", NULL);
    EXPECT_ERR("pipeline: p\nsource: { brokers: b, topics: [] }\n",
               "t.yaml:2:31: source.topics: empty list", NULL);
    EXPECT_ERR("pipeline: p\nsource: { brokers: b, topics: [a, {x: 1}] }\n",
               "t.yaml:2:35: source.topics[1]: found a mapping; expected a list of strings", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    etl: { metadata: [offset, time] }\n",
               "t.yaml:8:31: streams[0].etl.metadata[1]: 'time' is not allowed", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    etl: { metadata: [offset, offset] }\n",
               "t.yaml:8:31: streams[0].etl.metadata[1]: 'offset' is listed twice", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    event_time: { kafka_timestamp: maybe }\n",
               "t.yaml:8:36: streams[0].event_time.kafka_timestamp: 'maybe' is not a boolean",
               NULL);
    EXPECT_ERR(HEAD "streams: { name: s }\n",
               "t.yaml:4:10: streams: found a mapping; expected a list of mappings", NULL);
    EXPECT_ERR(HEAD "streams: [s]\n", "t.yaml:4:11: streams[0]: found a scalar; expected a mapping",
               NULL);
    EXPECT_ERR("- a\n- b\n", "t.yaml:1:1: (top): found a list; expected a mapping", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "? [a]\n: 1\n", "t.yaml:8:3: (top): a key must be a plain string",
               NULL);
}

static void test_err_required(void)
{
    EXPECT_ERR("pipeline: \"\"\n", "t.yaml:1:11: pipeline: empty value; expected a name", NULL);
    EXPECT_ERR("pipeline:\nsource: {}\n", "t.yaml:1:10: pipeline: empty value", NULL);
    EXPECT_ERR("source: { brokers: b, topics: [t] }\n",
               "t.yaml:1:1: pipeline: required key is missing", NULL);
    EXPECT_ERR("pipeline: p\nschemas: [a]\n", "t.yaml:1:1: source: required key is missing", NULL);
    EXPECT_ERR("pipeline: p\nsource:\n  topics: [t]\nschemas: [a]\n",
               "t.yaml:3:3: source.brokers: required key is missing; expected a string", NULL);
    EXPECT_ERR(HEAD, "t.yaml:1:1: streams: required key is missing", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    outputs: [{kind: files, path: o}]\n",
               "t.yaml:5:5: streams[0].message: required key is missing", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: ''\n",
               "t.yaml:6:14: streams[0].message: empty value", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n    outputs: []\n",
               "t.yaml:7:14: streams[0].outputs: empty list; expected at least one entry", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n",
               "t.yaml:5:5: streams[0].outputs: required key is missing", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n    outputs: [{path: o}]\n",
               "t.yaml:7:15: streams[0].outputs[0].kind: required key is missing", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n    outputs: [{kind: files}]\n",
               "t.yaml:7:15: streams[0].outputs[0].path: required key is missing for kind files",
               NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n    outputs: [{kind: kafka}]\n",
               "t.yaml:7:15: streams[0].outputs[0].topic: required key is missing for kind kafka",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "dead_letter: { kind: kafka }\n",
               "t.yaml:8:14: dead_letter.topic: required key is missing for kind kafka", NULL);
}

static void test_err_streams(void)
{
    EXPECT_ERR(
        HEAD
        "streams:\n"
        "  - { name: s, route: { topic: t }, message: m, outputs: [{kind: files, path: o}] }\n"
        "  - { name: s, route: { topic: u }, message: m, outputs: [{kind: files, path: o}] }\n",
        "t.yaml:6:5: streams[1].name: 's' is also the name of streams[0] (line 5)", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: a/b\n",
               "t.yaml:5:11: streams[0].name: 'a/b' is not a valid name", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: '..'\n",
               "t.yaml:5:11: streams[0].name: '..' is not a valid name", NULL);
    EXPECT_ERR("pipeline: 'p q'\n", "t.yaml:1:11: pipeline: 'p q' is not a valid name", NULL);
    EXPECT_ERR(
        HEAD ONE_STREAM "  - name: s2\n    message: m\n    outputs: [{kind: files, path: o}]\n",
        "t.yaml:5:5: streams[0].route: required when the pipeline has more than one stream", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: x\n",
               "t.yaml:8:12: streams[0].route: found a scalar; expected a mapping with one of "
               "field, header, topic (and equals)",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: { equals: x }\n",
               "t.yaml:8:12: streams[0].route: expected a mapping with one of field, header, topic",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: { field: a, header: b, equals: x }\n",
               "t.yaml:8:32: streams[0].route.header: a route has one of field, header, topic",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: { field: a }\n",
               "t.yaml:8:12: streams[0].route.equals: required key is missing with route.field",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: { topic: t, equals: x }\n",
               "t.yaml:8:32: streams[0].route.equals: does not apply to a topic route", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    route: { topic: nope }\n",
               "t.yaml:8:12: streams[0].route.topic: 'nope' is not one of source.topics", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    event_time: { field: ts, kafka_timestamp: true }\n",
               "t.yaml:8:47: streams[0].event_time.kafka_timestamp: true excludes", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    event_time: { kafka_timestamp: false }\n",
               "t.yaml:8:36: streams[0].event_time.kafka_timestamp: false needs", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    event_time: { unit: s }\n",
               "t.yaml:8:25: streams[0].event_time.unit: applies to event_time.field", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    separator: ','\n",
               "t.yaml:8:16: streams[0].separator: applies to format: delimited only", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    format: delimited\n    separator: ',,'\n",
               "t.yaml:9:16: streams[0].separator: expected exactly one byte", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    batch_compression: zstd\n",
               "t.yaml:8:24: streams[0].batch_compression: applies to framing: batch only", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    framing: batch\n    batch_compression: brotli\n",
               "t.yaml:9:24: streams[0].batch_compression: 'brotli' is not allowed", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    etl: { columns: [a, b, a] }\n",
               "t.yaml:8:21: streams[0].etl.columns: 'a' is listed twice", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n"
                    "    outputs: [{kind: kafka, topic: o, compression: zstd}]\n",
               "t.yaml:7:52: streams[0].outputs[0].compression: applies to kind files only", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n"
                    "    outputs: [{kind: files, path: o, format: protobuf}]\n",
               "t.yaml:7:46: streams[0].outputs[0].format: is for kind kafka", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n"
                    "    outputs: [{kind: files, path: o, topic: x}]\n",
               "t.yaml:7:45: streams[0].outputs[0].topic: applies to kind kafka only", NULL);
    EXPECT_ERR(HEAD "streams:\n  - name: s\n    message: m\n"
                    "    outputs: [{kind: files, path: o, format: jsonl, compression: gzip}]\n",
               "t.yaml:7:66: streams[0].outputs[0].compression: applies to format parquet only",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "dead_letter: { topic: x }\n",
               "t.yaml:8:23: dead_letter.topic: applies to kind kafka only", NULL);
}

static void test_err_yaml(void)
{
    EXPECT_ERR("pipeline: [a\n", "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']'",
               NULL);
    EXPECT_ERR("pipeline: p\n  source: x\n", "t.yaml:2:9: YAML syntax error: mapping values are",
               NULL);
    EXPECT_ERR("a: \"x\n", "t.yaml:2:1: YAML syntax error: found unexpected end of stream", NULL);
    EXPECT_ERR("", "t.yaml:1:1: the file is empty", NULL);
    EXPECT_ERR("# only a comment\n", "t.yaml:1:1: the file is empty", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "---\npipeline: q\n", "t.yaml:8:1: a second YAML document", NULL);
    EXPECT_ERR(HEAD "defaults: &d { a: 1 }\n",
               "t.yaml:4:11: YAML anchors (&name) are not supported", NULL);
    EXPECT_ERR("pipeline: *x\n", "t.yaml:1:11: YAML aliases (*name) are not supported", NULL);
    EXPECT_ERR("pipeline: \"a\\0b\"\n", "t.yaml:1:11: a string contains a NUL character", NULL);
    EXPECT_ERR("pipeline: \"\\xff\\xfe\"\npx: 1\n", "t.yaml:1:11: pipeline: ", "not a valid name");
    EXPECT_ERR("pipeline: \xff\n", "t.yaml:1:11: YAML syntax error: invalid", NULL);
    /* nesting past the bound is an error, not a stack overflow */
    char deep[4000];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "pipeline: ");
    for (int i = 0; i < 1000; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    EXPECT_ERR(deep, "t.yaml:1:", "too big");
    /* a file past 16 MiB is refused before parsing, also through sl_cfg_load */
    size_t big = (16u << 20) + 1;
    char *b = malloc(big);
    if (!b) return;
    memset(b, '#', big);
    sl_cfg *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    CHECK_EQ_INT(sl_cfg_parse(&c, b, big, "t.yaml", "/cfg", &err), SL_ERR_LIMIT);
    CHECK(c == NULL && strstr(err.msg, "t.yaml: 16777217 bytes; a pipeline file is at most"));
    char f[1024];
    snprintf(f, sizeof f, "%s/cfg-big-%d.yaml", test_tmpdir(), (int)getpid());
    FILE *fp = fopen(f, "wb");
    CHECK(fp != NULL);
    if (fp) {
        CHECK(fwrite(b, 1, big + 0, fp) == big && fwrite("\n", 1, 1, fp) == 1);
        fclose(fp);
        CHECK_EQ_INT(sl_cfg_load(&c, f, &err), SL_ERR_LIMIT);
        CHECK(c == NULL && strstr(err.msg, "16777217 bytes"));
        remove(f);
    }
    free(b);
}

static void test_secrets_not_echoed(void)
{
    const char *y = "pipeline: p\nsource:\n  brokers: b\n  topics: [t]\n"
                    "  properties: { sasl.password: [hunter2] }\n";
    sl_cfg *c = NULL;
    sl_error err;
    sl_error_clear(&err);
    CHECK(sl_cfg_parse(&c, y, strlen(y), "t.yaml", "/cfg", &err) != SL_OK);
    CHECK(strstr(err.msg, "t.yaml:5:32: source.properties.sasl.password:") == err.msg);
    CHECK(!strstr(err.msg, "hunter2"));
    y = "pipeline: p\nsource: { brokers: b, topics: [t], properties: { sasl.password: } }\n";
    CHECK(sl_cfg_parse(&c, y, strlen(y), "t.yaml", "/cfg", &err) != SL_OK);
    CHECK(strstr(err.msg, "source.properties.sasl.password: expected a non-empty") != NULL);
}

/* ---- event time and partition commit (issue 4) ---- */

#define TWO_STREAMS                                                                                \
    "streams:\n"                                                                                   \
    "  - name: a\n"                                                                                \
    "    route: { topic: t }\n"                                                                    \
    "    message: m.M\n"                                                                           \
    "    outputs: [{kind: kafka, topic: o}]\n"                                                     \
    "  - name: b\n"                                                                                \
    "    route: { topic: u }\n"                                                                    \
    "    message: m.M\n"                                                                           \
    "    outputs: [{kind: files, path: lake/b}, {kind: files, path: other}]\n"

static void test_commit_builtin(void)
{
    sl_cfg *c = parse_ok(HEAD ONE_STREAM);
    if (!c) return;
    const sl_cfg_stream *s = &c->streams[0];
    CHECK_EQ_INT(s->wm.max_out_of_orderness_ms, 30000);
    CHECK_EQ_INT(s->wm.idle_timeout_ms, 60000);
    CHECK_EQ_INT(s->commit.delay_ms, 0);
    CHECK_EQ_INT(s->commit.success_file, 1);
    CHECK_EQ_INT(s->commit.n_notify, 0);
    CHECK_EQ_INT(s->commit.compaction_target, 256LL << 20);
    CHECK_EQ_INT(s->commit.late, SL_LATE_DROP);
    CHECK(s->commit.late_path && !strcmp(s->commit.late_path, "/cfg/out/_late"));
    sl_cfg_free(c);
    /* no files output: no default late path; the first files output otherwise */
    c = parse_ok(HEAD TWO_STREAMS);
    if (!c) return;
    CHECK(c->streams[0].commit.late_path == NULL);
    CHECK(c->streams[1].commit.late_path &&
          !strcmp(c->streams[1].commit.late_path, "/cfg/lake/b/_late"));
    sl_cfg_free(c);
}

static void test_commit_defaults(void)
{
    /* the issue's defaults block, verbatim, with one stream overriding */
    sl_cfg *c =
        parse_ok(HEAD "defaults:\n"
                      "  event_time: { max_out_of_orderness: 30s, idle_timeout: 60s }\n"
                      "  commit:\n"
                      "    delay: 0s\n"
                      "    success_file: true\n"
                      "    notify:\n"
                      "      - { kind: kafka, topic: sluice.partitions }\n"
                      "      - { kind: webhook, url: \"http://127.0.0.1:8080/ready\" }\n"
                      "      - { kind: command, run: \"./on-ready.sh\" }\n"
                      "    compaction: { target_size: 256MiB }\n"
                      "    late: drop              # drop | side-output | reopen\n" TWO_STREAMS
                      "    event_time: { max_out_of_orderness: 2m }\n"
                      "    commit:\n"
                      "      delay: 1h\n"
                      "      success_file: no\n"
                      "      notify: [{ kind: webhook, url: \"HTTPS://h.example:8443/p?q=1\" }]\n"
                      "      compaction: { target_size: 1GB }\n"
                      "      late: reopen\n");
    if (!c) return;
    const sl_cfg_stream *a = &c->streams[0], *b = &c->streams[1];
    CHECK_EQ_INT(a->wm.max_out_of_orderness_ms, 30000);
    CHECK_EQ_INT(a->wm.idle_timeout_ms, 60000);
    CHECK_EQ_INT(a->commit.success_file, 1);
    CHECK_EQ_INT(a->commit.n_notify, 3);
    if (a->commit.n_notify == 3) {
        CHECK_EQ_INT(a->commit.notify[0].kind, SL_NOTIFY_KAFKA);
        CHECK(!strcmp(a->commit.notify[0].topic, "sluice.partitions"));
        CHECK(!a->commit.notify[0].url && !a->commit.notify[0].run);
        CHECK_EQ_INT(a->commit.notify[0].line, 10);
        CHECK_EQ_INT(a->commit.notify[0].col, 9);
        CHECK_EQ_INT(a->commit.notify[1].kind, SL_NOTIFY_WEBHOOK);
        CHECK(!strcmp(a->commit.notify[1].url, "http://127.0.0.1:8080/ready"));
        CHECK_EQ_INT(a->commit.notify[2].kind, SL_NOTIFY_COMMAND);
        CHECK(!strcmp(a->commit.notify[2].run, "./on-ready.sh")); /* not resolved */
    }
    CHECK_EQ_INT(a->commit.late, SL_LATE_DROP);
    CHECK(a->commit.late_path == NULL);
    /* b overrides; its notify list replaces the defaults list entirely */
    CHECK_EQ_INT(b->wm.max_out_of_orderness_ms, 120000);
    CHECK_EQ_INT(b->wm.idle_timeout_ms, 60000);
    CHECK_EQ_INT(b->commit.delay_ms, 3600000);
    CHECK_EQ_INT(b->commit.success_file, 0);
    CHECK_EQ_INT(b->commit.n_notify, 1);
    if (b->commit.n_notify == 1) {
        CHECK_EQ_INT(b->commit.notify[0].kind, SL_NOTIFY_WEBHOOK);
        CHECK(!strcmp(b->commit.notify[0].url, "HTTPS://h.example:8443/p?q=1"));
    }
    CHECK_EQ_INT(b->commit.compaction_target, 1000000000LL);
    CHECK_EQ_INT(b->commit.late, SL_LATE_REOPEN);
    CHECK(b->commit.late_path && !strcmp(b->commit.late_path, "/cfg/lake/b/_late"));
    sl_cfg_free(c);

    /* defaults written after the streams still apply; [] turns notify off;
     * late_path: the stream's, else the defaults' (resolved), else files + _late */
    c = parse_ok(HEAD TWO_STREAMS "    commit: { notify: [], late_path: /abs/late }\n"
                                  "defaults:\n"
                                  "  event_time: { idle_timeout: 5m }\n"
                                  "  commit:\n"
                                  "    delay: 90s\n"
                                  "    success_file: false\n"
                                  "    notify: [{ kind: command, run: 'echo ready' }]\n"
                                  "    compaction: { target_size: 64MiB }\n"
                                  "    late: side-output\n"
                                  "    late_path: ./late/{stream}\n");
    if (!c) return;
    a = &c->streams[0];
    b = &c->streams[1];
    CHECK_EQ_INT(a->wm.max_out_of_orderness_ms, 30000); /* built-in: defaults is silent */
    CHECK_EQ_INT(a->wm.idle_timeout_ms, 300000);
    CHECK_EQ_INT(a->commit.delay_ms, 90000);
    CHECK_EQ_INT(a->commit.success_file, 0);
    CHECK_EQ_INT(a->commit.compaction_target, 64LL << 20);
    CHECK_EQ_INT(a->commit.late, SL_LATE_SIDE_OUTPUT);
    CHECK_EQ_INT(a->commit.n_notify, 1);
    if (a->commit.n_notify == 1) CHECK(!strcmp(a->commit.notify[0].run, "echo ready"));
    CHECK(a->commit.late_path && !strcmp(a->commit.late_path, "/cfg/late/{stream}"));
    CHECK_EQ_INT(b->commit.n_notify, 0);
    CHECK_EQ_INT(b->commit.late, SL_LATE_SIDE_OUTPUT);
    CHECK(b->commit.late_path && !strcmp(b->commit.late_path, "/abs/late"));
    /* the dump parses back to the same resolution */
    char *d = sl_cfg_dump_yaml(c);
    sl_cfg *c2 = d ? parse_ok(d) : NULL;
    if (c2) {
        CHECK_EQ_INT(c2->streams[1].commit.n_notify, 0);
        CHECK_EQ_INT(c2->streams[0].commit.n_notify, 1);
        CHECK_EQ_INT(c2->streams[0].wm.idle_timeout_ms, 300000);
        char *d2 = sl_cfg_dump_yaml(c2);
        CHECK(d2 && !strcmp(d, d2));
        free(d2);
    }
    sl_cfg_free(c2);
    free(d);
    sl_cfg_free(c);
}

/* audit and dead_letter.format: values, defaults that follow state_dir,
 * and the keys that belong to one dead-letter kind only. */
static void test_audit_keys(void)
{
    sl_cfg *c = parse_ok(HEAD ONE_STREAM "state_dir: /s\naudit: { enabled: false }\n"
                                         "dead_letter: { path: dl, format: jsonl }\n");
    if (c) {
        CHECK_EQ_INT(c->audit.enabled, 0);
        CHECK(!strcmp(c->audit.path, "/s/audit"));
        CHECK_EQ_INT(c->dead_letter.format, SL_OUTF_JSONL);
        CHECK(!strcmp(c->dead_letter.path, "/cfg/dl"));
        char *d = sl_cfg_dump_yaml(c); /* shows the resolved values */
        CHECK(d && strstr(d, "format: jsonl") && strstr(d, "\"/s/audit\""));
        free(d);
    }
    sl_cfg_free(c);
    c = parse_ok(HEAD ONE_STREAM "audit: { path: ./a }\ndead_letter: { kind: kafka, topic: d }\n");
    if (c) {
        CHECK(!strcmp(c->audit.path, "/cfg/a"));
        char *d = sl_cfg_dump_yaml(c); /* no format for kind kafka */
        CHECK(d && strstr(d, "dead_letter:\n  kind: kafka\n  topic: \"d\"\naudit:"));
        free(d);
    }
    sl_cfg_free(c);
    EXPECT_ERR(HEAD ONE_STREAM "dead_letter: { kind: kafka, topic: d, format: jsonl }\n",
               "t.yaml:8:", "dead_letter.format: applies to kind files only");
    EXPECT_ERR(HEAD ONE_STREAM "dead_letter: { format: csv }\n",
               "t.yaml:8:", "'csv' is not allowed; expected one of parquet, jsonl");
    EXPECT_ERR(HEAD ONE_STREAM "audit: { enable: true }\n", "t.yaml:8:", "did you mean 'enabled'?");
}

static void test_err_commit(void)
{
    EXPECT_ERR(HEAD ONE_STREAM "defaults: { event_time: { max_out_of_orderness: soon } }\n",
               "t.yaml:8:49: defaults.event_time.max_out_of_orderness: 'soon' is not valid; "
               "expected a duration",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    event_time: { idle_timeout: 500ms }\n",
               "t.yaml:8:33: streams[0].event_time.idle_timeout: 500ms is out of range", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { delay: -1s }\n",
               "t.yaml:8:22: streams[0].commit.delay: '-1s' is not valid", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { late: keep }\n",
               "t.yaml:8:21: streams[0].commit.late: 'keep' is not allowed; expected one of drop, "
               "side-output, reopen",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "defaults: { commit: { compaction: { target_size: 1k } } }\n",
               "t.yaml:8:50: defaults.commit.compaction.target_size: 1k is out of range", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "defaults: { commit: { notfy: [] } }\n",
               "t.yaml:8:23: defaults.commit.notfy: unknown key; did you mean 'notify'?", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { success_file: maybe }\n",
               "t.yaml:8:29: streams[0].commit.success_file: 'maybe' is not a boolean", NULL);
    /* notify: required sub-key per kind */
    EXPECT_ERR(HEAD ONE_STREAM "defaults:\n"
                               "  commit:\n"
                               "    notify:\n"
                               "      - { kind: kafka, topic: t }\n"
                               "      - { kind: webhook }\n",
               "t.yaml:12:9: defaults.commit.notify[1].url: required key is missing for kind "
               "webhook",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit:\n"
                               "      notify:\n"
                               "        - kind: command\n",
               "t.yaml:10:11: streams[0].commit.notify[0].run: required key is missing for kind "
               "command",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { notify: [{ kind: kafka }] }\n",
               "t.yaml:8:24: streams[0].commit.notify[0].topic: required key is missing for kind "
               "kafka",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { notify: [{ kind: sms }] }\n",
               "t.yaml:8:32: streams[0].commit.notify[0].kind: 'sms' is not allowed; expected one "
               "of kafka, webhook, command",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { notify: [{ topic: t }] }\n",
               "t.yaml:8:24: streams[0].commit.notify[0].kind: required key is missing", NULL);
    EXPECT_ERR(HEAD ONE_STREAM
               "    commit: { notify: [{ kind: kafka, topic: t, url: 'http://h' }] }\n",
               "t.yaml:8:54: streams[0].commit.notify[0].url: applies to kind webhook only", NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { notify: [{ kind: kafka, topic: 'a b' }] }\n",
               "t.yaml:8:46: streams[0].commit.notify[0].topic: 'a b' is not a valid Kafka topic",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM "    commit: { notify: x }\n",
               "t.yaml:8:23: streams[0].commit.notify: found a scalar; expected a list of mappings",
               NULL);
    EXPECT_ERR(HEAD ONE_STREAM
               "    commit: { notify: [{ kind: command, run: x }, { kind: command, run: x }] }\n",
               "t.yaml:8:51: streams[0].commit.notify[1]: the same target as notify[0] (line 8)",
               NULL);
    /* webhook URLs: http(s) with a host, no spaces; never echoed (tokens) */
    static const char *const bad_urls[] = {"ftp://h/secret-token", "http:///secret-token",
                                           "https://h/secret token", "h/secret-token",
                                           "http://:80/secret-token"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        char y[512];
        snprintf(y, sizeof y,
                 HEAD ONE_STREAM "    commit: { notify: [{ kind: webhook, url: '%s' }] }\n",
                 bad_urls[i]);
        EXPECT_ERR(y, "t.yaml:8:46: streams[0].commit.notify[0].url: not a valid webhook URL",
                   NULL);
        sl_cfg *c = NULL;
        sl_error err;
        sl_error_clear(&err);
        CHECK(sl_cfg_parse(&c, y, strlen(y), "t.yaml", "/cfg", &err) != SL_OK);
        CHECK(!strstr(err.msg, "secret"));
    }
    /* at most 16 targets */
    char many[2048];
    size_t n = (size_t)snprintf(many, sizeof many, HEAD ONE_STREAM "    commit: { notify: [");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s{kind: command, run: c%d}",
                              i ? ", " : "", i);
    snprintf(many + n, sizeof many - n, "] }\n");
    EXPECT_ERR(many, "t.yaml:8:23: streams[0].commit.notify: 17 entries; at most 16", NULL);
    /* side-output needs a late path: the stream's own key, or inherited */
    EXPECT_ERR(HEAD TWO_STREAMS "    commit: { late: drop }\n"
                                "defaults: { commit: { late: side-output } }\n",
               "t.yaml:5:5: streams[0].commit.late: side-output (from defaults.commit.late, line "
               "14) needs a place for late records",
               NULL);
    EXPECT_ERR(
        HEAD "streams:\n  - name: s\n    message: m\n    outputs: [{kind: kafka, topic: o}]\n"
             "    commit: { late: side-output }\n",
        "t.yaml:8:21: streams[0].commit.late: side-output needs a place for late records", NULL);
    sl_cfg *c = parse_ok(HEAD "streams:\n  - name: s\n    message: m\n"
                              "    outputs: [{kind: kafka, topic: o}]\n"
                              "    commit: { late: side-output, late_path: lp }\n");
    if (c) CHECK(!strcmp(c->streams[0].commit.late_path, "/cfg/lp"));
    sl_cfg_free(c);
}

static void test_table(void)
{
    CHECK(sl_cfg_n_keys <= SL_CFG_MAX_KEYS);
    for (int i = 0; i < sl_cfg_n_keys; i++) {
        const sl_cfg_key *k = &sl_cfg_keys[i];
        CHECK(k->doc && *k->doc);
        CHECK_EQ_INT(sl_cfg_key_find(k->path, strlen(k->path)), i); /* unique */
        size_t pl = sl_cfg_parent_len(k->path);
        if (pl) { /* the parent row comes first */
            int par = sl_cfg_key_find(k->path, pl);
            if (par < 0 && pl > 2 && !memcmp(k->path + pl - 2, "[]", 2))
                par = sl_cfg_key_find(k->path, pl - 2);
            CHECK(par >= 0 && par < i);
        }
    }
    char *md = sl_cfg_doc_markdown();
    CHECK(md != NULL);
    for (int i = 0; md && i < sl_cfg_n_keys; i++) {
        char h[200];
        snprintf(h, sizeof h, "\n### %s\n", sl_cfg_keys[i].path);
        CHECK(strstr(md, h) != NULL);
    }
    free(md);
}

int main(void)
{
    RUN(test_issue_example);
    RUN(test_doc_example_parses);
    RUN(test_defaults);
    RUN(test_values);
    RUN(test_relative_paths);
    RUN(test_err_unknown_keys);
    RUN(test_err_duplicate_key);
    RUN(test_err_types);
    RUN(test_err_required);
    RUN(test_err_streams);
    RUN(test_err_yaml);
    RUN(test_secrets_not_echoed);
    RUN(test_commit_builtin);
    RUN(test_commit_defaults);
    RUN(test_err_commit);
    RUN(test_audit_keys);
    RUN(test_table);
    return TEST_DONE();
}
