/* cmd_plan.c - placeholder until the command lands. */
#include "cli/cli.h"

#include <stdio.h>

static int run_plan(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "stratus: 'plan' is not built yet\n");
    return 3;
}

const struct cli_cmd cli_cmd_plan = {"plan", "(not built yet)", run_plan};
