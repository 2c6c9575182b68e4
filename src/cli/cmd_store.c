/*
 * cmd_store.c - `stratus store migrate`: a home's SQLite store copied into
 * an empty PostgreSQL database (docs/postgres.md).  The copy is
 * src/store/migrate.c's; this file reads the command line, makes sure no
 * server uses the source (it holds the home's controller.lock while it
 * copies, so none starts either) and prints what was copied and what to do
 * next.  It opens stores itself: it runs with the server stopped.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../store/migrate.h"
#include "../util/xmem.h"

static const char store_usage[] =
    "usage: stratus store migrate [--from FILE] --to postgresql://... [--dry-run]\n"
    "Copy a SQLite store (default: $STRATUS_HOME/stratus.db) into an empty\n"
    "PostgreSQL database: every job, attempt, event, token, secret, setting,\n"
    "service and data replica, with their ids and the store's id, in one\n"
    "transaction. Stop the server first (stratus controller stop); then put\n"
    "`store: postgresql://...` in server.yaml. The SQLite file is left as it is.\n"
    "\n"
    "  --from FILE   the SQLite store to copy\n"
    "  --to URL      the PostgreSQL database (docs/postgres.md); it must hold no\n"
    "                stratus rows, and no tables of another program\n"
    "  --dry-run     check both and count the rows; copy nothing\n";

/* Take the controller.lock beside the store (its home's), if there is one:
 * a server holds it for its whole life.  *fd keeps it (-1: none there). */
static int lock_home(const char *from, int *fd)
{
    const char *slash = strrchr(from, '/');
    char *lock = slash ? xasprintf("%.*s/controller.lock", (int)(slash - from), from)
                       : xstrdup("controller.lock");
    int rc = 0;

    *fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0 && flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            fprintf(stderr,
                    "stratus: a server is running on %s (it holds %s): stop the "
                    "server first (stratus controller stop)\n",
                    from, lock);
        else
            fprintf(stderr, "stratus: cannot lock %s: %s\n", lock, strerror(errno));
        close(*fd);
        *fd = -1;
        rc = 2;
    }
    free(lock);
    return rc;
}

static void print_report(const struct store_migrate_report *r, const char *from,
                         const char *to, int dry_run)
{
    char *shown = store_redact(to); /* no password on screen */
    size_t i;

    printf("%s store %s (schema version %d) from %s to %s\n",
           dry_run ? "would copy" : "copied", r->store_id, r->schema_version, from,
           shown);
    for (i = 0; i < r->ntables; i++)
        printf("  %-14s %lld\n", r->tables[i].name, (long long)r->tables[i].rows);
    if (dry_run) {
        printf("dry run: both checked, nothing copied\n");
    } else {
        printf("every table counted again in PostgreSQL: the same rows\n"
               "next: in $STRATUS_HOME/server.yaml (docs/server.md), set\n"
               "  store: %s\n"
               "and start the server; it keeps the state directory state/%s.\n"
               "%s keeps every row (a backup of the store before the move), at\n"
               "schema version %d: an older store was brought to it first, as any\n"
               "stratus of this version does when it opens one.\n",
               shown, r->store_id, from, r->schema_version);
    }
    free(shown);
}

static int store_migrate_cmd(int argc, char **argv)
{
    static const struct option longs[] = {{"from", required_argument, NULL, 'f'},
                                          {"to", required_argument, NULL, 't'},
                                          {"dry-run", no_argument, NULL, 'n'},
                                          {NULL, 0, NULL, 0}};
    struct store_migrate_report r;
    char *from = NULL, *home;
    const char *to = NULL;
    int ch, dry_run = 0, fd, rc;
    struct err e;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 'f')
            from = xstrdup(optarg);
        else if (ch == 't')
            to = optarg;
        else if (ch == 'n')
            dry_run = 1;
        else {
            free(from);
            fputs(store_usage, stderr);
            return 2;
        }
    }
    if (to == NULL || optind != argc) {
        free(from);
        fprintf(stderr, "stratus: store migrate needs --to postgresql://...\n%s",
                store_usage);
        return 2;
    }
    if (from == NULL) {
        home = cli_home();
        if (home == NULL)
            return 2;
        from = xasprintf("%s/stratus.db", home);
        free(home);
    }
    rc = lock_home(from, &fd);
    err_clear(&e);
    if (rc == 0)
        rc = store_migrate(from, to, dry_run, &r, &e) == 0 ? 0 : cli_fail(&e);
    if (rc == 0)
        print_report(&r, from, to, dry_run);
    if (fd >= 0)
        close(fd);
    free(from);
    return rc;
}

static int store_run(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
        return store_migrate_cmd(argc - 1, argv + 1);
    fprintf(stderr, "stratus: store takes a subcommand: migrate\n%s", store_usage);
    return 2;
}

const struct cli_cmd cli_cmd_store = {"store", "move a SQLite store into PostgreSQL",
                                      store_run, store_usage};
