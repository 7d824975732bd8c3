/* main.c - the sluice command line: dispatch to subcommands.
 *
 * Each subcommand lives in its own file (convert.c, inspect.c, gen.c, run.c, ...) and
 * exposes `int sl_cmd_NAME(int argc, char **argv)` returning the process
 * exit status: 0 success, 1 failure (with a message on stderr naming what
 * failed and what to do), 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"convert", sl_cmd_convert, "one-shot: protobuf/JSON/text file -> Parquet"},
    {"inspect", sl_cmd_inspect,
     "schema, row groups, column chunks and statistics of a Parquet file"},
    {"gen", sl_cmd_gen, "synthetic PlayEvents (the benchmark workload) to a file or a topic"},
    {"run", sl_cmd_run, "run a pipeline until stopped (SIGTERM: checkpoint, then exit)"},
    {"dev-kafka", sl_cmd_dev_kafka, "local Kafka-protocol cluster for development and tests"},
    {"config-doc", sl_cmd_config_doc, "the pipeline file reference; --check FILE validates one"},
    {"partitions", sl_cmd_partitions, "a pipeline's hour partitions and their commit states"},
    {"status", sl_cmd_status, "what a pipeline is doing (its http endpoint, else its manifest)"},
    {"dlq", sl_cmd_dlq, "dead letters: list them, replay them through the pipeline"},
    {"audit", sl_cmd_audit, "reconcile each committed hour's audit counts with the lake"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\n'sluice COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("sluice %s\n", SL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
