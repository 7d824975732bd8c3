/* cli.h - subcommand entry points and small shared helpers of the CLI. */
#ifndef SL_CLI_H
#define SL_CLI_H

int sl_cmd_convert(int argc, char **argv);
int sl_cmd_inspect(int argc, char **argv);
int sl_cmd_gen(int argc, char **argv);
int sl_cmd_run(int argc, char **argv);
int sl_cmd_dev_kafka(int argc, char **argv);
int sl_cmd_config_doc(int argc, char **argv);
int sl_cmd_partitions(int argc, char **argv);
int sl_cmd_audit(int argc, char **argv);

#include <signal.h>

/* Set by SIGINT/SIGTERM once sl_cli_trap_signals ran (signals.c). */
extern volatile sig_atomic_t sl_cli_stop;
void sl_cli_trap_signals(void);
/* SIGHUP sets sl_cli_reload (sluice run: reload the pipeline file). */
extern volatile sig_atomic_t sl_cli_reload;
void sl_cli_trap_reload(void);

#endif
