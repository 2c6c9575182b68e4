/*
 * migrate.c - a SQLite store copied whole into an empty PostgreSQL database
 * (migrate.h, `stratus store migrate`).
 *
 * Table by table, not record by record: the backends' insert methods give
 * each new row an id of their own (max + 1), and a store's users know the
 * old ones (job ids, event cursors).  So this file reads SQLite's tables
 * with sqlite3 and writes PostgreSQL's with libpq's COPY: besides sqlite.c
 * and pgstore.c, the one place that calls either library, and only to move
 * rows between two schemas that match column for column (the backends'
 * migrations are the same step for step, so one version number means the
 * same tables in both).  The columns are the target's, taken by name.
 *
 * Layout:
 *   1. the tables, in an order their foreign keys allow;
 *   2. the source: opened with store_open() first (which migrates it and
 *      reads its identity), then read-only with sqlite3, all of it in one
 *      read transaction;
 *   3. the target: connecting, and what it holds (nothing, an empty stratus
 *      schema, or something to refuse);
 *   4. copying a table: COPY ... FROM STDIN in text format;
 *   5. store_migrate(): checks, then one transaction under pgstore.c's
 *      writer lock, every table counted again before COMMIT.
 *
 * Ids go on after the copy with nothing more to do: pgstore.c gives a new
 * row max(id) + 1 under its writer lock (PostgreSQL has no sequences here).
 */
#include "migrate.h"
#include "store_int.h"
#include "../util/lazypq.h"
#include "../util/xmem.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* pgstore.c's PG_WRITE_LOCK: the copy holds it as every writer does, so a
 * server started on the target meanwhile waits for it (or gives up). */
#define MIG_WRITE_LOCK "1400140385"
#define MIG_CHUNK ((size_t)64 << 10) /* COPY data sent in pieces of this size */
/* The most COPY text held at once (a row at the most, beyond a chunk): it
 * must fit PQputCopyData's int; a longer row is refused as too large. */
#define MIG_BUF_MAX ((size_t)1 << 30)

/* ---- 1. the tables ------------------------------------------------------------ */

/* Every table of the schema but meta, in an order the foreign keys allow.
 * A table the schema gains must be added here: a migration refuses a table
 * it does not know, in either database, rather than leave it behind. */
static const struct mig_table {
    const char *name;
    /* A column copied as NULL, then set once every table is in (by id):
     * jobs.cur_attempt and attempts.job_id point at each other. */
    const char *deferred;
} mig_tables[] = {
    {"jobs", "cur_attempt"}, {"job_texts", NULL},
    {"attempts", NULL},      {"nodes", NULL},
    {"events", NULL},        {"checkpoints", NULL},
    {"requests", NULL},      {"blocks", NULL},
    {"tokens", NULL},        {"settings", NULL},
    {"services", NULL},      {"secrets", NULL},
    {"data_replicas", NULL}, {"data_replicas_past", NULL},
};
#define MIG_NTABLES (sizeof(mig_tables) / sizeof(mig_tables[0]))

static int mig_known(const char *name)
{
    size_t i;

    for (i = 0; i < MIG_NTABLES; i++)
        if (strcmp(name, mig_tables[i].name) == 0)
            return 1;
    return strcmp(name, "meta") == 0;
}

/* The state of one migration. */
struct mig {
    const char *from; /* the SQLite file, for messages */
    char *to;         /* the connection string without its password */
    sqlite3 *sq;      /* the source, read-only */
    PGconn *pg;       /* the target */
    struct buf out;   /* COPY data not sent yet */
};

/* ---- 2. the source ------------------------------------------------------------ */

static int sq_fail(struct mig *m, const char *op, struct err *e)
{
    return err_set(e, ST_EIO, "%s: %s: %s", m->from, op,
                   m->sq ? sqlite3_errmsg(m->sq) : "cannot open");
}

/* One number from a query on the source. */
static int sq_int(struct mig *m, const char *sql, int64_t *out, struct err *e)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(m->sq, sql, -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        return sq_fail(m, "reading", e);
    }
    *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

/* The store at m->from brought to the current schema through store_open()
 * (which refuses what is not a stratus store, and a newer one), and its
 * identity into r.  A missing file is an error here: store_open() would
 * make a new store. */
static int src_open_store(struct mig *m, struct store_migrate_report *r, struct err *e)
{
    struct stat sb;
    struct store *st;
    int rc;

    if (stat(m->from, &sb) != 0)
        return err_set(e, ST_EIO,
                       "%s: %s (--from takes the SQLite store to copy, such as "
                       "$STRATUS_HOME/stratus.db)",
                       m->from, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(e, ST_EIO,
                       "%s: not a file (--from takes the SQLite store to copy, "
                       "such as $STRATUS_HOME/stratus.db)",
                       m->from);
    rc = store_open(&st, m->from, e);
    if (rc != 0)
        return rc;
    if (store_legacy_layout(st)) {
        store_close(st);
        /* pgstore.c reads every store as keeping its artefacts under
         * state/<store id>: the server would not find this one's. */
        return err_set(e, ST_ESTATE,
                       "%s: this store was made by a stratus from before store ids and "
                       "keeps its artefacts directly in its home; a PostgreSQL store "
                       "keeps them under state/<store id>: not migrated",
                       m->from);
    }
    memcpy(r->store_id, store_id(st), sizeof(r->store_id));
    r->schema_version = store_schema_version(st);
    store_close(st);
    return 0;
}

/* Every table of the source must be one the copy knows. */
static int src_tables_known(struct mig *m, struct err *e)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(m->sq,
                                "SELECT name FROM sqlite_master WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                                -1, &s, NULL);

    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        const char *name;

        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
            break;
        name = (const char *)sqlite3_column_text(s, 0);
        if (!mig_known(name)) {
            rc = err_set(e, ST_ESTATE,
                         "%s: table %s is not one this stratus knows how "
                         "to migrate: not migrated",
                         m->from, name);
            sqlite3_finalize(s);
            return rc;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : sq_fail(m, "reading its tables", e);
}

/* Open the source read-only in one read transaction (what the copy sees is
 * one moment of it) and count every table's rows into r. */
static int src_open(struct mig *m, struct store_migrate_report *r, struct err *e)
{
    size_t i;
    int rc = src_open_store(m, r, e);

    if (rc != 0)
        return rc;
    if (sqlite3_open_v2(m->from, &m->sq, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(m->sq, store_lock_wait_ms) != SQLITE_OK ||
        sqlite3_exec(m->sq, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(m, "opening it to read", e);
    rc = src_tables_known(m, e);
    for (i = 0; rc == 0 && i < MIG_NTABLES; i++) {
        char *sql = xasprintf("SELECT count(*) FROM \"%s\"", mig_tables[i].name);

        r->tables[i].name = mig_tables[i].name;
        rc = sq_int(m, sql, &r->tables[i].rows, e);
        free(sql);
    }
    r->ntables = MIG_NTABLES;
    return rc;
}

/* ---- 3. the target ------------------------------------------------------------ */

/* libpq's message for res (NULL: the connection's) into buf, without the
 * newline libpq ends it with. */
static const char *tgt_msg(struct mig *m, const PGresult *res, char *buf, size_t n)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    size_t len;

    snprintf(buf, n, "%s", msg ? msg : PQerrorMessage(m->pg));
    len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    return buf;
}

static int tgt_fail(struct mig *m, const PGresult *res, const char *op, struct err *e)
{
    char buf[512];

    tgt_msg(m, res, buf, sizeof(buf));
    if (PQstatus(m->pg) != CONNECTION_OK)
        return err_set(e, ST_EIO, "%s: %s: %s (the connection to PostgreSQL was lost)",
                       m->to, op, buf);
    return err_set(e, ST_EIO, "%s: %s: %s", m->to, op, buf);
}

/* Run literal SQL that returns what `want` says; the result in *out when
 * out is not NULL (the caller clears it). */
static int tgt_run(struct mig *m, const char *sql, ExecStatusType want, PGresult **out,
                   const char *op, struct err *e)
{
    PGresult *res = PQexec(m->pg, sql);
    int rc = 0;

    if (PQresultStatus(res) != want)
        rc = tgt_fail(m, res, op, e);
    if (rc == 0 && out != NULL) {
        *out = res;
        return 0;
    }
    PQclear(res);
    return rc;
}

static int tgt_exec(struct mig *m, const char *sql, const char *op, struct err *e)
{
    return tgt_run(m, sql, PGRES_COMMAND_OK, NULL, op, e);
}

/* One value of a query (a count, a meta row) into *out ("" for no row). */
static int tgt_value(struct mig *m, const char *sql, char *out, size_t n, const char *op,
                     struct err *e)
{
    PGresult *res;
    int rc = tgt_run(m, sql, PGRES_TUPLES_OK, &res, op, e);

    out[0] = '\0';
    if (rc == 0 && PQntuples(res) > 0)
        snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
    if (rc == 0)
        PQclear(res);
    return rc;
}

/* libpq's notices are not for the user. */
static void tgt_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Connect as pgstore.c does (a missing connect_timeout is 10 s); texts go
 * as UTF-8, as SQLite keeps them; a lock held longer than
 * store_lock_wait_ms (a server using the target) fails the copy. */
static int tgt_connect(struct mig *m, const char *uri, struct err *e)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "stratus store migrate", uri, NULL};
    char *set;
    int rc;

    if (lazypq_load(e) != 0)
        return e->code;
    m->pg = PQconnectdbParams(keys, vals, 1);
    BUG_ON(m->pg == NULL); /* libpq could not allocate a connection */
    if (PQstatus(m->pg) != CONNECTION_OK) {
        char buf[512];

        return err_set(e, ST_EIO,
                       "%s: cannot connect to PostgreSQL: %s (is the server running and "
                       "reachable, and are the user, password and database in the "
                       "connection string right? See docs/postgres.md)",
                       m->to, tgt_msg(m, NULL, buf, sizeof(buf)));
    }
    PQsetNoticeProcessor(m->pg, tgt_notice, NULL);
    set = xasprintf("SET client_encoding = 'UTF8'; SET client_min_messages = warning;"
                    " SET lock_timeout = %d",
                    store_lock_wait_ms > 0 ? store_lock_wait_ms : 1);
    rc = tgt_exec(m, set, "setting the session up", e);
    free(set);
    return rc;
}

/* What the target holds: no table at all (*has_schema 0), or an empty
 * stratus schema of the source's version (1); anything else is refused. */
static int tgt_check(struct mig *m, const struct store_migrate_report *r, int *has_schema,
                     struct err *e)
{
    const char *op = "reading what the database holds";
    char val[64], held[512] = "";
    PGresult *res = NULL;
    size_t i, len = 0;
    int rc = tgt_run(m,
                     "SELECT tablename FROM pg_tables WHERE schemaname ="
                     " current_schema() ORDER BY 1",
                     PGRES_TUPLES_OK, &res, op, e);
    int n = rc == 0 ? PQntuples(res) : 0, j, ours = 0;

    for (j = 0; j < n; j++) {
        if (strcmp(PQgetvalue(res, j, 0), STORE_LEASE_TABLE) == 0)
            continue; /* servers' leadership, not records: never copied */
        if (!mig_known(PQgetvalue(res, j, 0))) {
            rc =
                err_set(e, ST_ESTATE,
                        "%s: the database holds tables of another program "
                        "(%s): stratus store migrate copies only into an empty database; "
                        "nothing was changed",
                        m->to, PQgetvalue(res, j, 0));
            break;
        }
        ours += strcmp(PQgetvalue(res, j, 0), "meta") == 0;
    }
    PQclear(res);
    *has_schema = n > 0;
    if (rc != 0 || n == 0)
        return rc;
    if (!ours)
        return err_set(e, ST_ESTATE,
                       "%s: the database holds stratus tables but no table "
                       "meta (damaged?): nothing was changed",
                       m->to);
    rc = tgt_value(m, "SELECT value FROM meta WHERE key = 'schema_version'", val,
                   sizeof(val), op, e);
    if (rc == 0 && atoi(val) != r->schema_version)
        return err_set(e, ST_ESTATE,
                       "%s: the database holds a stratus store of schema "
                       "version %s, the source is of version %d: stratus store migrate "
                       "copies only into an empty database; nothing was changed",
                       m->to, val[0] ? val : "(none)", r->schema_version);
    for (i = 0; rc == 0 && i < MIG_NTABLES; i++) {
        char *sql = xasprintf("SELECT count(*) FROM \"%s\"", mig_tables[i].name);

        rc = tgt_value(m, sql, val, sizeof(val), op, e);
        free(sql);
        if (rc == 0 && strcmp(val, "0") != 0 && len < sizeof(held))
            len += (size_t)snprintf(held + len, sizeof(held) - len, "%s%s %s",
                                    len ? ", " : "", val, mig_tables[i].name);
    }
    if (rc == 0 && len > 0)
        rc = err_set(e, ST_ESTATE,
                     "%s: the database is not empty: it holds %s. stratus "
                     "store migrate copies only into an empty database (a new one: "
                     "createdb); nothing was changed",
                     m->to, held);
    return rc;
}

/* Give the target the current stratus schema, as a server's first open
 * does (in a transaction of its own); the copy then replaces its new id. */
static int tgt_make_schema(const char *uri, struct err *e)
{
    struct store *st;
    int rc = store_open(&st, uri, e);

    if (rc == 0)
        store_close(st);
    return rc;
}

/* ---- 4. copying a table ------------------------------------------------------- */

static const char mig_hex[] = "0123456789abcdef";

/* Column i of the SQLite row as COPY's text format writes a value. */
static int copy_value(struct buf *b, sqlite3_stmt *s, int i)
{
    const unsigned char *p;
    int n, j, rc = 0;
    double v;

    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
        return buf_puts(b, "\\N");
    case SQLITE_INTEGER:
        return buf_printf(b, "%lld", (long long)sqlite3_column_int64(s, i));
    case SQLITE_FLOAT:
        v = sqlite3_column_double(s, i);
        if (isinf(v))
            return buf_puts(b, v < 0 ? "-Infinity" : "Infinity");
        return buf_printf(b, "%.17g", v); /* 17 digits: the same double back */
    case SQLITE_BLOB: /* bytea's hex form, its backslash escaped for COPY */
        p = sqlite3_column_blob(s, i);
        n = sqlite3_column_bytes(s, i);
        rc = buf_puts(b, "\\\\x");
        for (j = 0; rc == 0 && j < n; j++) {
            char hx[2] = {mig_hex[p[j] >> 4], mig_hex[p[j] & 15]};

            rc = buf_add(b, hx, 2);
        }
        return rc;
    default: /* text: COPY's escapes for what ends a value or a row */
        p = sqlite3_column_text(s, i);
        n = sqlite3_column_bytes(s, i);
        for (j = 0; rc == 0 && j < n; j++) {
            const char *esc = p[j] == '\\'   ? "\\\\"
                              : p[j] == '\t' ? "\\t"
                              : p[j] == '\n' ? "\\n"
                              : p[j] == '\r' ? "\\r"
                                             : NULL;

            rc = esc ? buf_puts(b, esc) : buf_add(b, p + j, 1);
        }
        return rc;
    }
}

static int copy_flush(struct mig *m, struct err *e)
{
    int rc = 0;

    if (m->out.len > 0 && PQputCopyData(m->pg, m->out.data, (int)m->out.len) != 1)
        rc = tgt_fail(m, NULL, "copying", e);
    buf_reset(&m->out);
    return rc;
}

/* End the COPY: abort it when rc says the copy failed, else finish it and
 * collect its result. */
static int copy_end(struct mig *m, int rc, const char *op, struct err *e)
{
    PGresult *res;

    if (PQputCopyEnd(m->pg, rc != 0 ? "stratus store migrate failed" : NULL) != 1 &&
        rc == 0)
        rc = tgt_fail(m, NULL, op, e);
    for (;;) {
        res = PQgetResult(m->pg);
        if (res == NULL)
            break;
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = tgt_fail(m, res, op, e);
        PQclear(res);
    }
    return rc;
}

/* The rows of the SQLite query sel into the target's `copy` (a COPY ...
 * FROM STDIN whose columns are sel's, in order); *rows counts them. */
static int copy_rows(struct mig *m, const char *sel, const char *copy, const char *op,
                     int64_t *rows, struct err *e)
{
    sqlite3_stmt *s = NULL;
    int rc, sr = sqlite3_prepare_v2(m->sq, sel, -1, &s, NULL), i, n;

    *rows = 0;
    if (sr != SQLITE_OK) {
        sqlite3_finalize(s);
        return sq_fail(m, op, e);
    }
    rc = tgt_run(m, copy, PGRES_COPY_IN, NULL, op, e);
    if (rc != 0) {
        sqlite3_finalize(s);
        return rc;
    }
    n = sqlite3_column_count(s);
    buf_reset(&m->out);
    while (rc == 0) {
        sr = sqlite3_step(s);
        if (sr != SQLITE_ROW)
            break;
        for (i = 0; rc == 0 && i < n; i++) {
            rc = copy_value(&m->out, s, i);
            if (rc == 0)
                rc = buf_add(&m->out, i + 1 < n ? "\t" : "\n", 1);
        }
        (*rows)++;
        if (rc != 0)
            rc = err_set(e, ST_ETOOBIG, "%s: %s: a value too large", m->from, op);
        else if (m->out.len >= MIG_CHUNK)
            rc = copy_flush(m, e);
    }
    if (rc == 0 && sr != SQLITE_DONE)
        rc = sq_fail(m, op, e);
    if (rc == 0)
        rc = copy_flush(m, e);
    rc = copy_end(m, rc, op, e);
    sqlite3_finalize(s);
    return rc;
}

/* Table t, every column the target has (by name; a deferred one as NULL). */
static int copy_table(struct mig *m, const struct mig_table *t, int64_t *rows,
                      struct err *e)
{
    char *sql = xasprintf("SELECT * FROM \"%s\" LIMIT 0", t->name);
    char *op = xasprintf("copying table %s", t->name);
    struct buf sel, copy;
    PGresult *res;
    int rc = tgt_run(m, sql, PGRES_TUPLES_OK, &res, op, e), i;

    free(sql);
    buf_init(&sel, 0);
    buf_init(&copy, 0);
    buf_puts(&sel, "SELECT ");
    buf_printf(&copy, "COPY \"%s\" (", t->name);
    for (i = 0; rc == 0 && i < PQnfields(res); i++) {
        const char *col = PQfname(res, i), *sep = i ? ", " : "";

        if (t->deferred != NULL && strcmp(col, t->deferred) == 0)
            buf_printf(&sel, "%sNULL", sep);
        else
            buf_printf(&sel, "%s\"%s\"", sep, col);
        buf_printf(&copy, "%s\"%s\"", sep, col);
    }
    if (rc == 0) {
        PQclear(res);
        buf_printf(&sel, " FROM \"%s\"", t->name);
        buf_puts(&copy, ") FROM STDIN");
        rc = copy_rows(m, buf_cstr(&sel), buf_cstr(&copy), op, rows, e);
    }
    buf_free(&sel);
    buf_free(&copy);
    free(op);
    return rc;
}

/* Set t's deferred column by id, through a temporary table: one COPY and
 * one UPDATE, whatever the number of rows. */
static int copy_deferred(struct mig *m, const struct mig_table *t, struct err *e)
{
    char *op = xasprintf("copying %s.%s", t->name, t->deferred);
    char *sel = xasprintf("SELECT id, \"%s\" FROM \"%s\" WHERE \"%s\" IS NOT NULL",
                          t->deferred, t->name, t->deferred);
    char *upd = xasprintf("UPDATE \"%s\" t SET \"%s\" = f.v FROM stratus_migrate_fix f"
                          " WHERE t.id = f.id; DROP TABLE stratus_migrate_fix",
                          t->name, t->deferred);
    int64_t n;
    int rc = tgt_exec(m,
                      "CREATE TEMP TABLE stratus_migrate_fix (id BIGINT PRIMARY KEY,"
                      " v BIGINT) ON COMMIT DROP",
                      op, e);

    if (rc == 0)
        rc = copy_rows(m, sel, "COPY stratus_migrate_fix (id, v) FROM STDIN", op, &n, e);
    if (rc == 0)
        rc = tgt_exec(m, upd, op, e);
    free(op);
    free(sel);
    free(upd);
    return rc;
}

/* The store's id is the source's: its state directory and its artefacts
 * are filed under it. */
static int copy_identity(struct mig *m, const struct store_migrate_report *r,
                         struct err *e)
{
    const char *vals[1] = {r->store_id};
    PGresult *res = PQexecParams(m->pg,
                                 "UPDATE meta SET value = $1 WHERE key ="
                                 " 'store_id'",
                                 1, NULL, vals, NULL, NULL, 0);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = tgt_fail(m, res, "copying the store's id", e);
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        rc =
            err_set(e, ST_ESTATE, "%s: the new schema has no store id to replace", m->to);
    PQclear(res);
    return rc;
}

/* Every table counted again in the target: what the copy wrote is what the
 * source holds, or nothing is committed. */
static int copy_verify(struct mig *m, const struct store_migrate_report *r, struct err *e)
{
    char val[32];
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < r->ntables; i++) {
        char *sql = xasprintf("SELECT count(*) FROM \"%s\"", r->tables[i].name);

        rc = tgt_value(m, sql, val, sizeof(val), "counting the copied rows", e);
        free(sql);
        if (rc == 0 && strtoll(val, NULL, 10) != r->tables[i].rows)
            rc = err_set(e, ST_EINTERNAL,
                         "%s: table %s has %s rows after the copy, the "
                         "source %lld: nothing was stored",
                         m->to, r->tables[i].name, val, (long long)r->tables[i].rows);
    }
    return rc;
}

/* The copy, in one transaction under the writer lock: checked again there
 * (a server may have used the target since), then the identity, every
 * table, the deferred columns, the counts; COMMIT. */
static int copy_all(struct mig *m, struct store_migrate_report *r, struct err *e)
{
    int64_t n;
    size_t i;
    int has_schema = 0, rc = tgt_exec(m, "BEGIN", "beginning the copy", e);

    if (rc == 0)
        rc = tgt_run(m, "SELECT pg_advisory_xact_lock(" MIG_WRITE_LOCK ")",
                     PGRES_TUPLES_OK, NULL, "taking the writer lock", e);
    if (rc == 0)
        rc = tgt_check(m, r, &has_schema, e);
    if (rc == 0 && !has_schema)
        rc = err_set(e, ST_ESTATE, "%s: its stratus schema went away", m->to);
    if (rc == 0)
        rc = copy_identity(m, r, e);
    for (i = 0; rc == 0 && i < MIG_NTABLES; i++)
        rc = copy_table(m, &mig_tables[i], &n, e);
    for (i = 0; rc == 0 && i < MIG_NTABLES; i++)
        if (mig_tables[i].deferred != NULL)
            rc = copy_deferred(m, &mig_tables[i], e);
    if (rc == 0)
        rc = copy_verify(m, r, e);
    if (rc == 0)
        rc = tgt_exec(m, "COMMIT", "committing the copy", e);
    if (rc != 0)
        PQclear(PQexec(m->pg, "ROLLBACK"));
    return rc;
}

/* ---- 5. store_migrate() ------------------------------------------------------- */

int store_migrate(const char *from, const char *to, int dry_run,
                  struct store_migrate_report *out, struct err *e)
{
    struct mig m;
    int has_schema = 0, rc = 0;

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    BUG_ON(MIG_NTABLES > STORE_MIGRATE_MAX_TABLES);
    m.from = from;
    m.to = store_redact(to);
    buf_init(&m.out, MIG_BUF_MAX);
    if (strncmp(to, "postgresql://", 13) != 0 && strncmp(to, "postgres://", 11) != 0)
        rc = err_set(e, ST_EINVAL,
                     "%s: --to takes a PostgreSQL connection string "
                     "(postgresql://USER@HOST:PORT/DATABASE; docs/postgres.md)",
                     m.to);
    if (rc == 0)
        rc = src_open(&m, out, e);
    if (rc == 0)
        rc = tgt_connect(&m, to, e);
    if (rc == 0)
        rc = tgt_check(&m, out, &has_schema, e);
    if (rc == 0 && !dry_run && !has_schema) {
        rc = tgt_make_schema(to, e);
        out->made_schema = rc == 0;
    }
    if (rc == 0 && !dry_run)
        rc = copy_all(&m, out, e);
    if (m.pg != NULL)
        PQfinish(m.pg);
    if (m.sq != NULL)
        sqlite3_close(m.sq); /* ends the read transaction */
    buf_free(&m.out);
    free(m.to);
    return rc;
}
