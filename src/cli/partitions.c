/* partitions.c - `sluice partitions PIPELINE.yaml [--json]`: the hour
 * partitions of a pipeline and their state, read from its newest checkpoint
 * manifest (engine/manifest.h) - the same truth recovery uses, so the list
 * is right even while the pipeline runs or after a crash.
 *
 * States: open (has data, its hour not yet passed by the watermark),
 * committed (version N: _SUCCESS written and notifications sent, or being
 * sent right after the checkpoint - "pending"). Committed partitions stay
 * listed for a week of event time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/config.h"
#include "engine/manifest.h"
#include "engine/status.h"

static int cmp_part(const void *a, const void *b)
{
    const sl_mf_part *x = a, *y = b;
    int c = strcmp(x->stream, y->stream);
    return c ? c : (x->hour > y->hour) - (x->hour < y->hour);
}

/* The hour partitions of m (sorted in place by stream and hour): a JSON
 * array, or a table with a header line. Shared with `sluice status`. */
void sl_cli_print_partitions(sl_manifest *m, int json)
{
    char hs[32];
    qsort(m->parts, (size_t)m->n_parts, sizeof *m->parts, cmp_part);
    if (json) {
        printf("[");
        for (int32_t i = 0; i < m->n_parts; i++) {
            const sl_mf_part *p = &m->parts[i];
            sl_status_fmt_time(hs, sizeof hs, p->hour);
            printf("%s{\"stream\":\"%s\",\"hour\":\"%s\",\"hour_ms\":%" PRId64
                   ",\"state\":\"%s\",\"version\":%" PRId64 ",\"rows\":%" PRId64
                   ",\"files\":%" PRId64 ",\"bytes\":%" PRId64 "}",
                   i ? "," : "", p->stream, hs, p->hour,
                   p->state == SL_PART_COMMITTED ? "committed" : "open", p->version, p->rows,
                   p->files, p->bytes);
        }
        printf("]");
        return;
    }
    printf("%-20s %-20s %-9s %7s %12s %6s %14s\n", "STREAM", "HOUR (UTC)", "STATE", "VERSION",
           "ROWS", "FILES", "BYTES");
    for (int32_t i = 0; i < m->n_parts; i++) {
        const sl_mf_part *p = &m->parts[i];
        sl_status_fmt_time(hs, sizeof hs, p->hour);
        printf("%-20s %-20s %-9s %7" PRId64 " %12" PRId64 " %6" PRId64 " %14" PRId64 "\n",
               p->stream, hs, p->state == SL_PART_COMMITTED ? "committed" : "open", p->version,
               p->rows, p->files, p->bytes);
    }
}

int sl_cli_pipeline_args(int argc, char **argv, const char *cmd, const char *help, int *json,
                         struct sl_cfg **out)
{
    const char *file = NULL;
    *json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            *json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: sluice %s PIPELINE.yaml [--json]\n%s", cmd, help);
            return 0;
        } else if (!file && argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "sluice %s: unexpected argument '%s'\n", cmd, argv[i]);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: sluice %s PIPELINE.yaml [--json]\n", cmd);
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    if (sl_cfg_load(out, file, &err)) {
        fprintf(stderr, "sluice %s: %s\n", cmd, err.msg);
        return 1;
    }
    return -1;
}

int sl_cmd_partitions(int argc, char **argv)
{
    int json;
    sl_cfg *cfg = NULL;
    int rc = sl_cli_pipeline_args(
        argc, argv, "partitions",
        "  the pipeline's hour partitions and their states (open, committed),\n"
        "  versions, rows, files and bytes, from its newest checkpoint manifest\n",
        &json, &cfg);
    if (rc >= 0) return rc;
    sl_error err;
    sl_error_clear(&err);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/manifests", cfg->state_dir);
    sl_manifest m;
    if (sl_manifest_load(&m, dir, cfg->pipeline, &err)) {
        fprintf(stderr, "sluice partitions: %s\n", err.msg);
        sl_cfg_free(cfg);
        return 1;
    }
    char wm[32];
    sl_status_fmt_time(wm, sizeof wm, m.watermark);
    if (json) {
        printf("{\"pipeline\":\"%s\",\"checkpoint\":%" PRIu64 ",\"frontier_ms\":%" PRId64
               ",\"partitions\":",
               cfg->pipeline, m.checkpoint, m.watermark == INT64_MIN ? -1 : m.watermark);
        sl_cli_print_partitions(&m, 1);
        printf("}\n");
    } else {
        printf("pipeline %s, checkpoint %" PRIu64 ", inputs at %s (a stream's watermark is this "
               "minus its max_out_of_orderness)\n",
               cfg->pipeline, m.checkpoint, wm);
        sl_cli_print_partitions(&m, 0);
    }
    sl_manifest_free(&m);
    sl_cfg_free(cfg);
    return 0;
}
