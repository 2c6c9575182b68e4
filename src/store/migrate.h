/*
 * migrate.h - copying a SQLite store whole into an empty PostgreSQL
 * database (`stratus store migrate`, docs/postgres.md): every table's rows
 * with their ids, and the store's identity, so that job ids, event cursors
 * and the state directory $STRATUS_HOME/state/<store id> stay valid.
 */
#ifndef STRATUS_STORE_MIGRATE_H
#define STRATUS_STORE_MIGRATE_H

#include "store.h"

#include <stdint.h>

#define STORE_MIGRATE_MAX_TABLES 16

/* What a migration copied (or, dry, would copy). */
struct store_migrate_report {
    char store_id[STORE_ID_LEN + 1]; /* the source's, now the target's too */
    int schema_version;              /* of both */
    int made_schema;                 /* the target had no tables: its schema was made */
    size_t ntables;
    struct {
        const char *name; /* a table of the schema (static) */
        int64_t rows;     /* in the source, counted again in the target */
    } tables[STORE_MIGRATE_MAX_TABLES];
};

/* Copy the SQLite store at `from` (an existing file; migrated to the current
 * schema first, as store_open() does) into the PostgreSQL database `to`,
 * which must hold no stratus rows (no tables at all, or an empty stratus
 * schema of the same version).  All rows go in one transaction, counted
 * again before it commits: the target has all of it or none of it (when it
 * had no tables, a failed copy leaves it with the empty schema, which a new
 * migration accepts).  dry_run: check both and count, write nothing (and
 * make no schema).  The caller makes sure no server uses the source.  On
 * failure *out is undefined and e says why (never with a password). */
int store_migrate(const char *from, const char *to, int dry_run,
                  struct store_migrate_report *out, struct err *e);

#endif
