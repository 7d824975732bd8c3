/* cli.h - subcommand entry points and small shared helpers of the CLI. */
#ifndef SL_CLI_H
#define SL_CLI_H

int sl_cmd_convert(int argc, char **argv);
int sl_cmd_inspect(int argc, char **argv);
int sl_cmd_gen(int argc, char **argv);

#endif
