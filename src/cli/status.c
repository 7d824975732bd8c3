/* status.c - `sluice status PIPELINE.yaml [--json]`: what a pipeline is
 * doing, for an operator at a terminal.
 *
 * While the pipeline runs with an http endpoint, STATE/http.addr holds the
 * address it bound; the command asks GET /status there (with the bearer
 * token of http.token_file) and prints the summary the server renders
 * (?format=text), or its JSON with --json. Exit 0.
 *
 * Otherwise - not running, no http.listen, or an endpoint that does not
 * answer - it says so plainly and prints what the newest checkpoint
 * manifest says: the checkpoint and its time, the input frontier, the input
 * positions and the hour partitions (the table of `sluice partitions`).
 * Exit 3 when no process holds STATE/lock (not running), else 0; 1 when the
 * pipeline file or the manifest cannot be read, or the endpoint refuses the
 * token; 2 for a usage error.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "engine/config.h"
#include "engine/http.h"
#include "engine/manifest.h"
#include "engine/state.h"
#include "engine/status.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sl_buf *b = ud;
    return sl_buf_append(b, p, size * n) ? 0 : size * n;
}

/* GET /status from the address in STATE/http.addr. Returns the HTTP status
 * (body in *b), or 0 with the reason in why when nothing answered. */
static long ask(const sl_cfg *cfg, int json, sl_buf *b, char *why, size_t wcap, sl_error *err)
{
    char path[4096], addr[128] = "", url[256], auth[4200];
    snprintf(path, sizeof path, "%s/http.addr", cfg->state_dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(addr, sizeof addr, f)) {
        if (f) fclose(f);
        snprintf(why, wcap, "no %.400s (the endpoint writes it while it runs)", path);
        return 0;
    }
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    snprintf(url, sizeof url, "http://%s/status%s", addr, json ? "" : "?format=text");
    struct curl_slist *h = NULL;
    if (cfg->http.token_file) {
        char *token = NULL;
        int loose;
        if (sl_http_read_token(cfg->http.token_file, &token, &loose, err)) return -1;
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        memset(token, 0, strlen(token));
        free(token);
        h = curl_slist_append(NULL, auth);
        memset(auth, 0, sizeof auth);
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    long code = 0;
    CURL *c = curl_easy_init();
    if (!c) {
        curl_slist_free_all(h);
        snprintf(why, wcap, "libcurl could not start");
        return 0;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    else
        snprintf(why, wcap, "its endpoint %s does not answer: %s", addr, ebuf);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return code;
}

/* What the newest manifest says (see the top of this file). */
static int from_manifest(const sl_cfg *cfg, int json, const char *why, int running, int pid)
{
    char dir[4096], t[32], wm[32];
    snprintf(dir, sizeof dir, "%s/manifests", cfg->state_dir);
    sl_manifest m;
    sl_error err;
    sl_error_clear(&err);
    if (sl_manifest_load(&m, dir, cfg->pipeline, &err)) {
        fprintf(stderr, "sluice status: %s\n", err.msg);
        return 1;
    }
    sl_status_fmt_time(t, sizeof t, m.checkpoint ? m.time_ms : INT64_MIN);
    sl_status_fmt_time(wm, sizeof wm, m.watermark);
    if (json) {
        printf("{\"pipeline\":\"%s\",\"running\":%s,\"pid\":%d,\"state\":\"%s\","
               "\"checkpoint\":%" PRIu64 ",\"checkpoint_time_ms\":%" PRId64
               ",\"frontier_ms\":%" PRId64 ",\"inputs\":[",
               cfg->pipeline, running ? "true" : "false", pid,
               running ? "running without a reachable http endpoint" : "not running", m.checkpoint,
               m.checkpoint ? m.time_ms : -1, m.watermark == INT64_MIN ? -1 : m.watermark);
        for (int32_t i = 0; i < m.n_pos; i++)
            printf("%s{\"topic\":\"%s\",\"partition\":%d,\"offset\":%" PRId64 "}", i ? "," : "",
                   m.pos[i].topic, (int)m.pos[i].partition, m.pos[i].offset);
        printf("],\"partitions\":");
        sl_cli_print_partitions(&m, 1);
        printf("}\n");
    } else {
        if (running)
            printf("pipeline %s is running (pid %d) but %s; from its newest checkpoint "
                   "manifest:\n",
                   cfg->pipeline, pid, why);
        else
            printf("pipeline %s is not running (no process holds %s/lock); from its newest "
                   "checkpoint manifest:\n",
                   cfg->pipeline, cfg->state_dir);
        if (!m.checkpoint)
            printf("no checkpoint yet\n");
        else
            printf("last checkpoint %" PRIu64 " at %s; inputs' event-time frontier %s\n",
                   m.checkpoint, t, wm);
        printf("\n%-24s %9s %14s\n", "INPUT TOPIC", "PARTITION", "NEXT OFFSET");
        for (int32_t i = 0; i < m.n_pos; i++)
            printf("%-24s %9d %14" PRId64 "\n", m.pos[i].topic, (int)m.pos[i].partition,
                   m.pos[i].offset);
        printf("\n");
        sl_cli_print_partitions(&m, 0);
    }
    sl_manifest_free(&m);
    return running ? 0 : 3;
}

int sl_cmd_status(int argc, char **argv)
{
    int json;
    sl_cfg *cfg = NULL;
    int rc = sl_cli_pipeline_args(
        argc, argv, "status",
        "  what the pipeline is doing: from its http endpoint while it runs (state,\n"
        "  checkpoints, streams, input partitions and lag), else from its newest\n"
        "  checkpoint manifest. Exit 0; 3 when the pipeline is not running.\n",
        &json, &cfg);
    if (rc >= 0) return rc;
    sl_error err;
    sl_error_clear(&err);
    int pid = 0, running = sl_state_running(cfg->state_dir, &pid);
    char why[512];
    snprintf(why, sizeof why, "it has no http endpoint (http.listen is not set)");
    long code = 0;
    sl_buf b = SL_BUF_INIT;
    if (running && cfg->http.listen) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        code = ask(cfg, json, &b, why, sizeof why, &err);
    }
    if (code == 200) {
        fwrite(b.p, 1, b.len, stdout);
        rc = 0;
    } else if (code < 0 || code == 401) {
        fprintf(stderr, "sluice status: %s\n",
                code < 0 ? err.msg
                         : "the endpoint refused the token: http.token_file differs from the one "
                           "the pipeline read at its start");
        rc = 1;
    } else {
        if (code > 0) snprintf(why, sizeof why, "its endpoint answered HTTP %ld", code);
        rc = from_manifest(cfg, json, why, running, pid);
    }
    sl_buf_free(&b);
    sl_cfg_free(cfg);
    return rc;
}
