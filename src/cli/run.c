/* run.c - `sluice run PIPELINE.yaml [--stop-when-idle DURATION] [--progress]`.
 *
 * Loads and compiles the pipeline (every configuration error is reported
 * before anything is read or written), then hands it to the runtime
 * (engine/runtime.c) until SIGTERM/SIGINT (final checkpoint, exit 0) or, with
 * --stop-when-idle, until every assigned partition has been at its end for
 * that long.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/units.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "engine/runtime.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice run PIPELINE.yaml [--stop-when-idle DURATION] [--progress]\n"
               "  runs the pipeline until SIGTERM/SIGINT (a final checkpoint, then exit 0)\n"
               "  --stop-when-idle D  take a final checkpoint and exit 0 once every assigned\n"
               "                      input partition has been at its end for D (e.g. 5s)\n"
               "  --progress          a progress line every 5 s and one per checkpoint\n"
               "The pipeline file is documented in docs/config.md.\n");
}

int sl_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"stop-when-idle", required_argument, 0, 'i'},
                                         {"progress", no_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    sl_runtime_opts ro = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'i') {
            uint64_t ms;
            if (sl_parse_duration_ms(optarg, &ms) || ms == 0) {
                fprintf(stderr,
                        "sluice run: --stop-when-idle: '%s' is not a duration (5s, 500ms)\n",
                        optarg);
                return 2;
            }
            ro.stop_when_idle_ms = (int64_t)ms;
        } else if (c == 'p')
            ro.progress = 1;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    sl_error err;
    sl_error_clear(&err);
    sl_cfg *cfg = NULL;
    if (sl_cfg_load(&cfg, argv[optind], &err)) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        return 1;
    }
    sl_log_configure((sl_log_level)cfg->log.level, (sl_log_format)cfg->log.format);
    sl_log_set_field("pipeline", cfg->pipeline);
    sl_pipeline pl;
    if (sl_pipeline_compile(&pl, cfg, &err)) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        sl_cfg_free(cfg);
        return 1;
    }
    sl_cli_trap_signals();
    sl_cli_trap_reload();
    ro.stop = &sl_cli_stop;
    ro.reload = &sl_cli_reload;
    sl_err_t rc = sl_runtime_run(cfg, &pl, &ro, &err);
    if (rc) SL_LOG(SL_LOG_ERROR, "sluice run stopped by an error", SL_F_STR("error", err.msg));
    sl_pipeline_free(&pl);
    sl_cfg_free(cfg);
    return rc ? 1 : 0;
}
