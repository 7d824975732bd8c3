/* gen.c - placeholder until the subcommand lands (foundation issue). */
#include <stdio.h>
#include "cli/cli.h"
int sl_cmd_gen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice gen: not built yet\n");
    return 1;
}
