/*
 * main.c - the `stratus` command: a table of subcommands (tmux's cmd_table).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

extern const struct cli_cmd cli_cmd_node; /* hidden: the local driver's node supervisor */

static const struct cli_cmd *const cli_table[] = {
    &cli_cmd_offers, &cli_cmd_plan,   &cli_cmd_launch, &cli_cmd_status,
    &cli_cmd_queue,  &cli_cmd_logs,   &cli_cmd_cancel, &cli_cmd_cost,
    &cli_cmd_events, &cli_cmd_local,  &cli_cmd_catalog, &cli_cmd_controller,
    &cli_cmd_simulate, &cli_cmd_trace,
    &cli_cmd_node,    NULL,
};

static void usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "usage: stratus <command> [options]\n\ncommands:\n");
    for (i = 0; cli_table[i]; i++)
        if (cli_table[i]->name[0] != '_') /* internal commands stay unlisted */
            fprintf(fp, "  %-10s %s\n", cli_table[i]->name, cli_table[i]->summary);
    fprintf(fp, "\n'stratus <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    size_t i;

    log_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("stratus %s\n", cli_version());
        return 0;
    }
    for (i = 0; cli_table[i]; i++)
        if (strcmp(argv[1], cli_table[i]->name) == 0)
            return cli_table[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "stratus: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
