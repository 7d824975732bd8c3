/* cli.h - subcommand entry points and small shared helpers of the CLI. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stddef.h>
#include <stdint.h>

int sl_cmd_convert(int argc, char **argv);
int sl_cmd_inspect(int argc, char **argv);
int sl_cmd_gen(int argc, char **argv);
int sl_cmd_run(int argc, char **argv);
int sl_cmd_dev_kafka(int argc, char **argv);
int sl_cmd_config_doc(int argc, char **argv);
int sl_cmd_partitions(int argc, char **argv);
int sl_cmd_audit(int argc, char **argv);
int sl_cmd_status(int argc, char **argv);
int sl_cmd_dlq(int argc, char **argv);

struct sl_manifest;
struct sl_cfg;
/* partitions.c: the arguments `PIPELINE.yaml [--json]` of `sluice CMD`:
 * returns -1 with *json set and the file loaded into *cfg (caller frees);
 * otherwise the exit status (0 after --help, 2 usage, 1 a bad file), its
 * message printed. */
int sl_cli_pipeline_args(int argc, char **argv, const char *cmd, const char *help, int *json,
                         struct sl_cfg **cfg);
/* partitions.c: m's hour partitions (sorted in place) as a table, or as a
 * JSON array (json), on stdout. */
void sl_cli_print_partitions(struct sl_manifest *m, int json);

/* cli_util.c: an hour "2025-12-01T13" or "2025-12-01T13:00:00Z" (UTC) ->
 * epoch ms (0, or -1 when malformed); an hour as "dt=YYYY-MM-DD/hour=HH";
 * the instance id of a state directory (0, or -1 when it has none). */
int sl_cli_parse_hour(const char *s, int64_t *ms);
void sl_cli_fmt_hour(char *out, size_t cap, int64_t hour);
int sl_cli_read_instance(const struct sl_cfg *cfg, char out[9]);
/* s as a JSON string on stdout (null for NULL). */
void sl_cli_put_json_str(const char *s);

#include <signal.h>

/* Set by SIGINT/SIGTERM once sl_cli_trap_signals ran (signals.c). */
extern volatile sig_atomic_t sl_cli_stop;
void sl_cli_trap_signals(void);
/* SIGHUP sets sl_cli_reload (sluice run: reload the pipeline file). */
extern volatile sig_atomic_t sl_cli_reload;
void sl_cli_trap_reload(void);

#endif
