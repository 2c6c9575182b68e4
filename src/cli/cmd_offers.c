/* cmd_offers.c - placeholder until the command lands. */
#include "cli/cli.h"

#include <stdio.h>

static int run_offers(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "stratus: 'offers' is not built yet\n");
    return 3;
}

const struct cli_cmd cli_cmd_offers = {"offers", "(not built yet)", run_offers};
