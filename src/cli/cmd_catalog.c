/* cmd_catalog.c - placeholder until the command lands. */
#include "cli/cli.h"

#include <stdio.h>

static int run_catalog(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "stratus: 'catalog' is not built yet\n");
    return 3;
}

const struct cli_cmd cli_cmd_catalog = {"catalog", "(not built yet)", run_catalog};
