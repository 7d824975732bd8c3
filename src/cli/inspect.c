/* inspect.c - placeholder until the subcommand lands (foundation issue). */
#include <stdio.h>
#include "cli/cli.h"
int sl_cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice inspect: not built yet\n");
    return 1;
}
