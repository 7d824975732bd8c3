/* test_pipeline.c - compiling a pipeline file against its schema
 * (engine/pipeline.c): path templates and the sanitizing of values from
 * data, routing by field (hash lookup, enum names), projection order, and
 * compile-time errors that point at the file and line. Records are made by
 * parsing JSON text with the JSON decoder, so hostile values are easy to
 * state; the expected directories are written by hand from docs/pipeline.md.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "formats/json/json_dec.h"
#include "test.h"

static char yaml[32768];

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        if (strcmp((a), (b))) {                                                                    \
            fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, (a), (b));                \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

static int compile(sl_cfg **cfg, sl_pipeline *pl, const char *streams, sl_error *err)
{
    const char *src = getenv("SL_SRC") ? getenv("SL_SRC") : ".";
    snprintf(yaml, sizeof yaml,
             "pipeline: t\nsource: { brokers: 'b:1', topics: [events] }\n"
             "schemas: [%s/tests/data/play_event.proto]\nstreams:\n%s",
             src, streams);
    if (sl_cfg_parse(cfg, yaml, strlen(yaml), "t.yaml", "/lake", err)) return -1;
    if (sl_pipeline_compile(pl, *cfg, err)) {
        sl_cfg_free(*cfg);
        *cfg = NULL;
        return -1;
    }
    return 0;
}

static int parse_json(sl_rec *r, const char *json)
{
    sl_error e;
    sl_rec_begin(r);
    return sl_json_parse(r, (const uint8_t *)json, strlen(json), NULL, &e);
}

static void test_template_sanitizes(void)
{
    sl_cfg *cfg = NULL;
    sl_pipeline pl;
    sl_error err;
    int ok = compile(&cfg, &pl,
                     "  - name: s\n    message: bench.PlayEvent\n"
                     "    event_time: { field: event_time_ms }\n"
                     "    outputs: [ { kind: files, path: 'out/{stream}/os={client.os}/"
                     "id={log_id}/p={platform}/{date}/{hour}' } ]\n",
                     &err);
    CHECK(ok == 0);
    if (ok) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    sl_rec *r;
    CHECK(!sl_rec_new(&r, &pl.plans[0]));
    char dir[4096];
    /* 2025-12-01T13:05:00Z = 1764594300000 ms */
    CHECK(
        parse_json(
            r,
            "{\"log_id\":\"../../etc\",\"platform\":\"TV\",\"client\":{\"os\":\"a/b\\u0001c\"}}") ==
        0);
    CHECK(sl_template_expand(&pl.streams[0], r, 1764594300000, dir, sizeof dir) > 0);
    CHECK_EQ_STR(dir, "/lake/out/s/os=a_b_c/id=______etc/p=TV/2025-12-01/13");
    /* absent message: null; empty string: __empty__; a lone dot */
    CHECK(parse_json(r, "{\"log_id\":\"\",\"platform\":7}") == 0);
    CHECK(sl_template_expand(&pl.streams[0], r, -1, dir, sizeof dir) > 0);
    CHECK_EQ_STR(dir, "/lake/out/s/os=__null__/id=__empty__/p=7/1969-12-31/23");
    CHECK(parse_json(r, "{\"log_id\":\".\",\"client\":{\"os\":\"..\"}}") == 0);
    CHECK(sl_template_expand(&pl.streams[0], r, 0, dir, sizeof dir) > 0);
    CHECK_EQ_STR(dir, "/lake/out/s/os=__/id=_/p=PLATFORM_UNKNOWN/1970-01-01/00");
    CHECK(sl_template_expand(&pl.streams[0], r, 0, dir, 10) < 0); /* does not fit */
    sl_rec_free(r);
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
}

static void test_route_by_field(void)
{
    sl_cfg *cfg = NULL;
    sl_pipeline pl;
    sl_error err;
    static char streams[16384];
    streams[0] = 0;
    for (int i = 0; i < 40; i++) {
        char s[256];
        snprintf(
            s, sizeof s,
            "  - { name: s%d, route: { field: log_id, equals: '%06d' }, message: bench.PlayEvent, "
            "outputs: [ { kind: files, path: out } ] }\n",
            i, 1000 + i);
        strcat(streams, s);
    }
    strcat(streams,
           "  - { name: tv, route: { field: platform, equals: TV }, message: bench.PlayEvent, "
           "outputs: [ { kind: files, path: out } ] }\n");
    int ok = compile(&cfg, &pl, streams, &err);
    CHECK(ok == 0);
    if (ok) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(pl.n_plans, 1); /* one message: one shared plan */
    CHECK_EQ_INT(pl.n_groups, 2);
    sl_rec *r;
    CHECK(!sl_rec_new(&r, &pl.plans[0]));
    CHECK(parse_json(r, "{\"log_id\":\"001017\",\"platform\":\"TV\"}") == 0);
    CHECK_EQ_INT(sl_route_group_lookup(&pl.groups[0], r), 17);
    CHECK_EQ_INT(sl_route_group_lookup(&pl.groups[1], r), 40);
    CHECK(parse_json(r, "{\"log_id\":\"001040\",\"platform\":\"IOS\"}") == 0);
    CHECK_EQ_INT(sl_route_group_lookup(&pl.groups[0], r), -1);
    CHECK_EQ_INT(sl_route_group_lookup(&pl.groups[1], r), -1);
    sl_rec_free(r);
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
}

static void test_compile_errors(void)
{
    static const struct {
        const char *streams, *want;
    } cases[] = {
        {"  - { name: a, message: bench.PlayEvent, event_time: { field: log_id }, outputs: [ { "
         "kind: "
         "files, path: out } ] }\n",
         "say how to read it with event_time.format"},
        {"  - { name: a, message: bench.Nope, outputs: [ { kind: files, path: out } ] }\n",
         "bench.Nope"},
        {"  - { name: a, message: bench.PlayEvent, etl: { filter: 'platform = 5x' }, outputs: [ { "
         "kind: files, path: out } ] }\n",
         "etl.filter"},
        {"  - { name: a, message: bench.PlayEvent, etl: { columns: [mid, nope] }, outputs: [ { "
         "kind: files, path: out } ] }\n",
         "'nope' is not a top-level field"},
        {"  - { name: a, message: bench.PlayEvent, outputs: [ { kind: files, path: 'x/{tags}' } ] "
         "}\n",
         "is repeated"},
        {"  - { name: a, route: { field: platform, equals: TVX }, message: bench.PlayEvent, "
         "outputs: [ "
         "{ kind: files, path: out } ] }\n"
         "  - { name: b, route: { field: platform, equals: TV }, message: bench.PlayEvent, "
         "outputs: [ "
         "{ kind: files, path: out } ] }\n",
         "'TVX' is not a value of enum bench.Platform"},
        {"  - { name: a, route: { field: log_id, equals: x }, message: bench.PlayEvent, outputs: [ "
         "{ kind: files, path: out } ] }\n"
         "  - { name: b, route: { field: log_id, equals: x }, message: bench.PlayEvent, outputs: [ "
         "{ kind: files, path: out } ] }\n",
         "already the route of stream a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_cfg *cfg = NULL;
        sl_pipeline pl;
        sl_error err;
        sl_error_clear(&err);
        CHECK(compile(&cfg, &pl, cases[i].streams, &err) != 0);
        if (!strstr(err.msg, cases[i].want) || !strstr(err.msg, "t.yaml:")) {
            fprintf(stderr, "case %zu: want '%s' and t.yaml:LINE in: %s\n", i, cases[i].want,
                    err.msg);
            t_cur_failed = 1;
        }
    }
}

static void test_event_time_strings(void)
{
    sl_cfg *cfg = NULL;
    sl_pipeline pl;
    sl_error err;
    int ok =
        compile(&cfg, &pl,
                "  - { name: a, route: { topic: events }, message: bench.PlayEvent, event_time: "
                "{ field: buvid, format: rfc3339 }, outputs: [ { kind: files, path: out } ] }\n"
                "  - { name: b, route: { header: h, equals: x }, message: bench.PlayEvent, "
                "event_time: { field: ip, format: '%Y-%m-%d %H:%M:%S' }, outputs: [ { kind: "
                "files, path: out } ] }\n",
                &err);
    CHECK(ok == 0);
    if (ok) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    sl_rec *r;
    CHECK(!sl_rec_new(&r, &pl.plans[0]));
    int64_t et = 0;
    char why[300];
    /* 2025-12-01T00:00:00Z is 1764547200000 ms; 12:05:00.250Z is 43500250 ms later */
    CHECK(
        parse_json(
            r, "{\"buvid\":\"2025-12-01T13:05:00.250+01:00\",\"ip\":\"2025-12-01 00:00:01.5\"}") ==
        0);
    CHECK(sl_stream_event_time(&pl.streams[0], r, 0, &et, why, sizeof why) == 0);
    CHECK_EQ_INT(et, 1764547200000 + 43500250);
    CHECK(sl_stream_event_time(&pl.streams[1], r, 0, &et, why, sizeof why) == 0);
    CHECK_EQ_INT(et, 1764547201500);
    CHECK(parse_json(r, "{\"buvid\":\"2025-12-01T00:00:00Z\",\"ip\":\"yesterday\"}") == 0);
    CHECK(sl_stream_event_time(&pl.streams[0], r, 0, &et, why, sizeof why) == 0);
    CHECK_EQ_INT(et, 1764547200000);
    CHECK(sl_stream_event_time(&pl.streams[1], r, 0, &et, why, sizeof why) == -1);
    CHECK(strstr(why, "'yesterday' does not match format") != NULL);
    CHECK(parse_json(r, "{\"buvid\":\"2025-13-01T00:00:00Z\"}") == 0);
    CHECK(sl_stream_event_time(&pl.streams[0], r, 0, &et, why, sizeof why) == -1);
    sl_rec_free(r);
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
}

int main(void)
{
    RUN(test_template_sanitizes);
    RUN(test_route_by_field);
    RUN(test_compile_errors);
    RUN(test_event_time_strings);
    return TEST_DONE();
}
