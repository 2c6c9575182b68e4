/*
 * cmd_node.c - `stratus __node NODE_DIR`: the hidden subcommand the local
 * driver execs to supervise one node (see src/driver/local_node.c).  Not for
 * people: the directory must have been prepared by the driver.
 */
#include "cli.h"

#include <stdio.h>

#include "../driver/local.h"

static int run_node(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr,
                "usage: stratus __node NODE_DIR (internal to the local driver)\n");
        return 2;
    }
    return local_node_main(argv[1]);
}

static const char node_help[] =
    "usage: stratus __node NODE_DIR\n"
    "Internal to the local driver: supervises one node it prepared in NODE_DIR.\n";

const struct cli_cmd cli_cmd_node = {
    "__node", "(internal) supervise one node of the local driver", run_node, node_help};
