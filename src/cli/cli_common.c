/*
 * cli_common.c - what every subcommand shares: exit codes, error printing.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "catalog/catalog.h"

#ifndef STRATUS_VERSION
#define STRATUS_VERSION "dev"
#endif

const char *cli_version(void)
{
    return STRATUS_VERSION;
}

int cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return 0;
    case ST_EINFEASIBLE:
    case ST_ECAPACITY:
    case ST_ENOTFOUND:
        return 1;
    case ST_EIO: /* almost always a missing or unreadable input file */
    case ST_EPARSE:
    case ST_EINVAL:
    case ST_EUSAGE:
    case ST_ETOOBIG:
    case ST_EEXISTS:
    case ST_ESTATE:
        return 2;
    default:
        return 3;
    }
}

int cli_fail(const struct err *e)
{
    fprintf(stderr, "stratus: %s\n", e->msg[0] ? e->msg : err_str(e->code));
    return cli_exit_code(e->code);
}

int cli_load_catalog(const char *dir, struct catalog **out)
{
    char *d = dir ? NULL : catalog_default_dir(NULL);
    struct err e;
    int rc;

    err_clear(&e);
    rc = catalog_load(out, dir ? dir : d, &e);
    free(d);
    if (rc != 0)
        return cli_fail(&e);
    return 0;
}
