/*
 * cli.h - subcommands of the `stratus` command, one table entry each.
 *
 * Exit codes: 0 success, 1 the request was valid but cannot be met (e.g. no
 * feasible placement), 2 bad usage or bad input (including a missing file), 3 internal failure.
 */
#ifndef STRATUS_CLI_H
#define STRATUS_CLI_H

#include "util/err.h"

struct cli_cmd {
    const char *name;
    const char *summary;            /* one line for `stratus --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cli_cmd cli_cmd_offers, cli_cmd_plan, cli_cmd_catalog;

const char *cli_version(void);
/* Print "stratus: <message>" and map an error code to an exit status. */
int cli_fail(const struct err *e);
/* Exit status for an error code. */
int cli_exit_code(int code);

struct catalog;
/* Load the catalog from dir, or the default one (catalog_default_dir) when dir
 * is NULL; on failure prints the error and returns the exit status (> 0). */
int cli_load_catalog(const char *dir, struct catalog **out);

#endif
