/*
 * test_store.c - the durable store (SQLite backend): round trips of every
 * record type with every field checked, list filters, event ordering and
 * paging, requests taken once only, blocks expiring, the cost report by
 * cloud, team and job against sums computed by hand, transactions (rollback
 * really discards), reopening, a writer killed mid-transaction, schema
 * migration from versions 1, 5 and 6, a newer schema refused, two handles on one file,
 * lock timeouts, files that are not stratus stores (an empty one, another
 * program's, a write-ahead log without its database: refused, left as they
 * were), the store's identity (kept by its file, new with a new file, marked
 * legacy when migrated), stores created at once by several processes,
 * owner-only file modes, API tokens and server settings (schema 6),
 * services and their replicas (schema 7: one live service per name, find,
 * replica lists by service and activity, rolled back with a transaction),
 * secrets (schema 10: put replaces by team and name, list without values,
 * delete, rolled back with a transaction), and the fault wrapper's gates on
 * them.
 *
 * Each test gets a fresh directory (setup/teardown) and opens its store
 * there.  A few tests reach under the store with the sqlite3 API to build
 * files the store did not write (an old schema, a future one, a foreign one).
 *
 * The contract tests (the M() list: every backend keeps them) run on SQLite
 * (T), the in-memory store (M) and, when STRATUS_TEST_PG names a PostgreSQL
 * database (a connection string; tests/cli/test_postgres.sh starts one),
 * on PostgreSQL (P), with a few more that need a shared database (reopen,
 * two handles, a killed writer, lock timeouts, identity, six processes
 * creating the store at once, schema versions, a connection lost inside
 * a transaction) and
 * test_backends_agree against the in-memory store.  Each P test starts on
 * an empty schema: setup drops and recreates the database's schema public.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include <float.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include "store/faultstore.h"
#include "store/migrate.h"
#include "store/store.h"
#include "store/store_int.h"
#include "util/lazypq.h"
#include "testutil.h"

/* The schema version this stratus migrates every store to. */
#define SCHEMA_LATEST 17

struct fixture {
    char *dir;
    char *path; /* dir/stratus.db, "mem:", or $STRATUS_TEST_PG */
    int mem;    /* the in-memory backend: one handle is the whole store */
    int pg;     /* PostgreSQL: no file under the store to reach */
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));

    f->dir = tu_mkdtemp();
    f->path = xasprintf("%s/stratus.db", f->dir);
    *state = f;
    return 0;
}

/* The same tests on the in-memory backend (memstore.c). */
static int setup_mem(void **state)
{
    struct fixture *f;

    setup(state);
    f = *state;
    free(f->path);
    f->path = xstrdup("mem:");
    f->mem = 1;
    return 0;
}

/* A connection of the test's own, libpq loaded first (lazypq.h). */
static PGconn *pg_raw_connect(const char *conninfo)
{
    struct err e;

    if (lazypq_load(&e) != 0)
        fail_msg("%s", e.msg);
    return PQconnectdb(conninfo);
}

/* Raw SQL on a PostgreSQL database (several statements may go in sql). */
static void pg_raw_exec(const char *conninfo, const char *sql)
{
    PGconn *c = pg_raw_connect(conninfo);
    PGresult *res;

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", conninfo, PQerrorMessage(c));
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("raw sql: %s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
}

/* The first column of the first row of a raw query, or -1 on error. */
static int64_t pg_raw_int(const char *conninfo, const char *sql)
{
    PGconn *c = pg_raw_connect(conninfo);
    PGresult *res = PQexec(c, sql);
    int64_t v = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(c);
    return v;
}

/* An empty database: the schema public dropped with everything in it. */
static void pg_reset(const char *conninfo)
{
    pg_raw_exec(conninfo, "SET client_min_messages = warning;"
                          "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
}

/* The same tests on PostgreSQL, in the database $STRATUS_TEST_PG names. */
static int setup_pg(void **state)
{
    struct fixture *f;

    setup(state);
    f = *state;
    free(f->path);
    f->path = xstrdup(getenv("STRATUS_TEST_PG"));
    f->pg = 1;
    pg_reset(f->path);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tu_rmdir(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static struct store *open_at(const char *path)
{
    struct store *st = NULL;
    struct err e;

    err_clear(&e);
    if (store_open(&st, path, &e) != 0)
        fail_msg("store_open: %s", e.msg);
    return st;
}

/* Fail the test with the store's message when a call does not return 0; the
 * call names its error out-parameter E. */
#define OK(call)                                                                         \
    do {                                                                                 \
        struct err e_;                                                                   \
        err_clear(&e_);                                                                  \
        if ((call) != 0)                                                                 \
            fail_msg("%s: %s", #call, e_.msg);                                           \
    } while (0)
#define E (&e_)

static void assert_str_or_null(const char *got, const char *want)
{
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* Doubles must come back bit for bit. */
static void assert_same_double(double got, double want)
{
    if (memcmp(&got, &want, sizeof(got)) != 0)
        fail_msg("double %.17g came back as %.17g", want, got);
}

static void pg_raw_exec(const char *conninfo, const char *sql);
static int64_t pg_raw_int(const char *conninfo, const char *sql);

/* Raw SQL on a store file (or a PostgreSQL store), for building stores the
 * store did not write. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;

    if (strncmp(path, "postgres", 8) == 0) {
        pg_raw_exec(path, sql);
        return;
    }
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql: %s", msg);
    sqlite3_close(db);
}

/* The first column of the first row of a raw query, or -1 on error. */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int64_t v = -1;

    if (strncmp(path, "postgres", 8) == 0)
        return pg_raw_int(path, sql);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

/* ---- records built for the tests (strings borrowed from literals) ---------- */

/* The permission bits of a file, -1 when it does not exist. */
static int file_mode(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static struct store_job job_of(char *name, char *team, int state)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.name = name;
    j.spec_path = "specs/job.yaml";
    j.spec_text = "name: x\n";
    j.team = team;
    j.state = state;
    j.exit_code = -1;
    return j;
}

static struct store_attempt attempt_of(int64_t job_id, int n, char *cloud)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.job_id = job_id;
    a.n = n;
    a.cloud = cloud;
    a.region = "r1";
    a.nodes = 1;
    a.exit_code = -1;
    return a;
}

static int64_t add_job(struct store *st, char *name, char *team, int state)
{
    struct store_job j = job_of(name, team, state);

    OK(store_job_insert(st, &j, E));
    return j.id;
}

/* A job with every field set to a value that would show a lost bit. */
static struct store_job full_job(void)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.name = "llama-70b-pretrain";
    j.spec_path = "/home/ana/specs/llama.yaml";
    j.spec_text = "name: llama\nrun: |\n  echo 'h\xc3\xa9llo' \"quoted\"; exit 0\n";
    j.policy_text = NULL;
    j.kind = 2;
    j.team = NULL;
    j.priority = -5;
    j.state = JOB_RECOVERING;
    j.reason = "preempted on gcp/us-central1/us-central1-a";
    j.submitted_at = 1732380000.123456789;
    j.started_at = 0.1;
    j.ended_at = 0;
    j.next_try_at = 1e-300;
    j.deadline_at = DBL_MAX;
    j.restarts = 3;
    j.nattempts = 4;
    j.on_demand_only = 1;
    j.work_done_s = 1.0 / 3.0;
    j.cost = 12345.678901234567;
    j.exit_code = -1;
    j.cancel_requested = 1;
    j.service_id = 5; /* no such service: a replica's service is not a foreign key */
    j.svc_version = 3;
    j.port = 40123;
    j.svc_mode = SVC_MODE_ON_DEMAND;
    j.group_id = 7; /* a stage of group 7 (schema 9): not a foreign key either */
    j.stage = 2;
    j.group_mode = 2;
    j.group_primary = 1;
    j.group_name = "train-eval";
    return j;
}

static void assert_job_eq(const struct store_job *g, const struct store_job *w)
{
    assert_int_equal(g->id, w->id);
    assert_str_or_null(g->name, w->name);
    assert_str_or_null(g->spec_path, w->spec_path);
    assert_str_or_null(g->spec_text, w->spec_text);
    assert_str_or_null(g->policy_text, w->policy_text);
    assert_int_equal(g->kind, w->kind);
    assert_str_or_null(g->team, w->team);
    assert_int_equal(g->priority, w->priority);
    assert_int_equal(g->state, w->state);
    assert_str_or_null(g->reason, w->reason);
    assert_same_double(g->submitted_at, w->submitted_at);
    assert_same_double(g->started_at, w->started_at);
    assert_same_double(g->ended_at, w->ended_at);
    assert_same_double(g->next_try_at, w->next_try_at);
    assert_same_double(g->deadline_at, w->deadline_at);
    assert_int_equal(g->restarts, w->restarts);
    assert_int_equal(g->nattempts, w->nattempts);
    assert_int_equal(g->cur_attempt, w->cur_attempt);
    assert_int_equal(g->on_demand_only, w->on_demand_only);
    assert_same_double(g->work_done_s, w->work_done_s);
    assert_same_double(g->cost, w->cost);
    assert_int_equal(g->exit_code, w->exit_code);
    assert_int_equal(g->cancel_requested, w->cancel_requested);
    assert_int_equal(g->service_id, w->service_id);
    assert_int_equal(g->svc_version, w->svc_version);
    assert_int_equal(g->port, w->port);
    assert_int_equal(g->svc_mode, w->svc_mode);
    assert_int_equal(g->group_id, w->group_id);
    assert_int_equal(g->stage, w->stage);
    assert_int_equal(g->group_mode, w->group_mode);
    assert_int_equal(g->group_primary, w->group_primary);
    assert_str_or_null(g->group_name, w->group_name);
}

static struct store_attempt full_attempt(int64_t job_id)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.job_id = job_id;
    a.n = 2;
    a.state = ATT_RUNNING;
    a.cloud = "gcp";
    a.region = "us-central1";
    a.zone = "us-central1-a";
    a.instance_type = "a3-highgpu-8g";
    a.accelerator = "H100-80GB";
    a.acc_count = 8;
    a.nodes = 4;
    a.mode = 1;
    a.price_hour = 88.49000000000001;
    a.launched_at = 1732380100.5;
    a.running_at = 1732380160.25;
    a.ended_at = 0;
    a.end_reason = ATT_END_NONE;
    a.exit_code = -1;
    a.cost = 0.1 + 0.2;
    a.ckpt_bytes = 1.5e12;
    a.ckpt_copy_s = 42.000000001;
    a.priced_at = 1732385000.125;
    a.egress = 12.5;
    a.list_hour = 98.32; /* schema 17 */
    return a;
}

static void assert_attempt_eq(const struct store_attempt *g,
                              const struct store_attempt *w)
{
    assert_int_equal(g->id, w->id);
    assert_int_equal(g->job_id, w->job_id);
    assert_int_equal(g->n, w->n);
    assert_int_equal(g->state, w->state);
    assert_str_or_null(g->cloud, w->cloud);
    assert_str_or_null(g->region, w->region);
    assert_str_or_null(g->zone, w->zone);
    assert_str_or_null(g->instance_type, w->instance_type);
    assert_str_or_null(g->accelerator, w->accelerator);
    assert_int_equal(g->acc_count, w->acc_count);
    assert_int_equal(g->nodes, w->nodes);
    assert_int_equal(g->mode, w->mode);
    assert_same_double(g->price_hour, w->price_hour);
    assert_same_double(g->launched_at, w->launched_at);
    assert_same_double(g->running_at, w->running_at);
    assert_same_double(g->ended_at, w->ended_at);
    assert_int_equal(g->end_reason, w->end_reason);
    assert_int_equal(g->exit_code, w->exit_code);
    assert_same_double(g->cost, w->cost);
    assert_int_equal(g->ckpt_from, w->ckpt_from);
    assert_same_double(g->ckpt_bytes, w->ckpt_bytes);
    assert_same_double(g->ckpt_copy_s, w->ckpt_copy_s);
    assert_same_double(g->priced_at, w->priced_at);
    assert_same_double(g->egress, w->egress);
    assert_same_double(g->backfill_spot, w->backfill_spot);
    assert_same_double(g->list_hour, w->list_hour);
}

/* ---- jobs -------------------------------------------------------------------- */

static void test_job_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_job j = full_job(), got;
    struct store_attempt a;

    OK(store_job_insert(st, &j, E));
    assert_true(j.id > 0);
    OK(store_job_get(st, j.id, &got, E));
    assert_job_eq(&got, &j);
    store_job_clear(&got);

    /* update every field, including NULL <-> string and the live attempt */
    a = attempt_of(j.id, 1, "azure");
    OK(store_attempt_insert(st, &a, E));
    j.policy_text = "rules: []\n";
    j.team = "research";
    j.reason = NULL;
    j.kind = 0;
    j.state = JOB_SUCCEEDED;
    j.ended_at = 1732399999.999;
    j.cur_attempt = a.id;
    j.exit_code = 0;
    j.cost = 1e-9;
    j.svc_version = 4;
    j.port = 0;
    j.svc_mode = SVC_MODE_SPOT;
    OK(store_job_update(st, &j, E));
    OK(store_job_get(st, j.id, &got, E));
    assert_job_eq(&got, &j);
    store_job_clear(&got);
    assert_null(got.name); /* clear leaves a zeroed record */
    store_close(st);
}

static void test_job_missing(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_job j = job_of("x", NULL, JOB_PENDING), got;
    struct err e;

    err_clear(&e);
    assert_int_equal(store_job_get(st, 42, &got, &e), ST_ENOTFOUND);
    assert_string_equal(e.msg, "no job 42");
    assert_null(got.name);
    j.id = 42;
    err_clear(&e);
    assert_int_equal(store_job_update(st, &j, &e), ST_ENOTFOUND);
    assert_string_equal(e.msg, "no job 42");
    store_close(st);
}

static void test_job_list_active(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int states[] = {JOB_PENDING, JOB_SUCCEEDED, JOB_PROVISIONING, JOB_FAILED,
                    JOB_RUNNING, JOB_CANCELLED, JOB_RECOVERING};
    struct store_job *v;
    size_t i, n;

    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        add_job(st, "j", NULL, states[i]);
    OK(store_job_list(st, 0, &v, &n, E));
    assert_int_equal(n, 7);
    for (i = 0; i < n; i++) {
        assert_int_equal(v[i].id, (int64_t)i + 1);
        assert_int_equal(v[i].state, states[i]);
    }
    store_jobs_free(v, n);
    OK(store_job_list(st, 1, &v, &n, E));
    assert_int_equal(n, 4);
    assert_int_equal(v[0].state, JOB_PENDING);
    assert_int_equal(v[1].state, JOB_PROVISIONING);
    assert_int_equal(v[2].state, JOB_RUNNING);
    assert_int_equal(v[3].state, JOB_RECOVERING);
    assert_int_equal(v[3].id, 7);
    store_jobs_free(v, n);
    store_close(st);
}

/* Ids are int64 all the way: a row past 2^32 reads back and the next follows. */
static void test_int64_ids(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_job got;
    int64_t id;

    add_job(st, "first", NULL, JOB_PENDING);
    store_close(st);
    if (f->pg) /* PostgreSQL checks the key at each statement */
        raw_exec(f->path, "ALTER TABLE job_texts DROP CONSTRAINT job_texts_job_id_fkey;"
                          "UPDATE jobs SET id = 5000000000;"
                          "UPDATE job_texts SET job_id = 5000000000;"
                          "ALTER TABLE job_texts ADD CONSTRAINT job_texts_job_id_fkey"
                          " FOREIGN KEY (job_id) REFERENCES jobs(id)");
    else
        raw_exec(f->path, "UPDATE jobs SET id = 5000000000;"
                          "UPDATE job_texts SET job_id = 5000000000");
    st = open_at(f->path);
    OK(store_job_get(st, INT64_C(5000000000), &got, E));
    assert_string_equal(got.name, "first");
    store_job_clear(&got);
    id = add_job(st, "second", NULL, JOB_PENDING);
    assert_int_equal(id, INT64_C(5000000001));
    store_close(st);
}

/* ---- attempts and nodes ------------------------------------------------------ */

static void test_attempt_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t job = add_job(st, "j", NULL, JOB_RUNNING);
    struct store_attempt first = attempt_of(job, 1, "azure"), a = full_attempt(job), got;
    struct err e;

    OK(store_attempt_insert(st, &first, E));
    a.ckpt_from = first.id;
    OK(store_attempt_insert(st, &a, E));
    assert_true(a.id > first.id);
    OK(store_attempt_get(st, a.id, &got, E));
    assert_attempt_eq(&got, &a);
    store_attempt_clear(&got);

    a.state = ATT_ENDED;
    a.ended_at = 1732390000.75;
    a.end_reason = ATT_END_PREEMPTED;
    a.exit_code = 137;
    a.cost = 123.456;
    a.zone = NULL;
    a.ckpt_from = 0;
    OK(store_attempt_update(st, &a, E));
    OK(store_attempt_get(st, a.id, &got, E));
    assert_attempt_eq(&got, &a);
    store_attempt_clear(&got);

    err_clear(&e);
    assert_int_equal(store_attempt_get(st, 999, &got, &e), ST_ENOTFOUND);
    assert_string_equal(e.msg, "no attempt 999");
    a.id = 999;
    assert_int_equal(store_attempt_update(st, &a, &e), ST_ENOTFOUND);
    store_close(st);
}

static void test_attempt_list(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t j1 = add_job(st, "a", NULL, JOB_RUNNING),
            j2 = add_job(st, "b", NULL, JOB_RUNNING);
    struct store_attempt a[4] = {attempt_of(j1, 1, "azure"), attempt_of(j2, 1, "gcp"),
                                 attempt_of(j1, 2, "oci"), attempt_of(j2, 2, "gcp")};
    struct store_attempt *v;
    size_t i, n;

    a[0].state = ATT_ENDED;
    a[1].state = ATT_LAUNCHING;
    a[2].state = ATT_RUNNING;
    a[3].state = ATT_ENDED;
    for (i = 0; i < 4; i++)
        OK(store_attempt_insert(st, &a[i], E));
    OK(store_attempt_list(st, j1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, a[0].id);
    assert_int_equal(v[1].id, a[2].id);
    assert_string_equal(v[1].cloud, "oci");
    store_attempts_free(v, n);
    OK(store_attempt_list(st, 0, &v, &n, E)); /* every attempt not ENDED */
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, a[1].id);
    assert_int_equal(v[1].id, a[2].id);
    store_attempts_free(v, n);
    OK(store_attempt_list(st, 77, &v, &n, E));
    assert_int_equal(n, 0);
    assert_null(v);
    store_close(st);
}

/* An attempt of a job that does not exist, or a second attempt number 1. */
static void test_attempt_integrity(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t job = add_job(st, "a", NULL, JOB_RUNNING);
    struct store_attempt a = attempt_of(77, 1, "gcp");
    struct err e;

    err_clear(&e);
    assert_int_equal(store_attempt_insert(st, &a, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "adding an attempt: "));
    assert_non_null(strstr(e.msg, "FOREIGN KEY constraint failed"));
    a.job_id = job;
    OK(store_attempt_insert(st, &a, E));
    assert_int_equal(store_attempt_insert(st, &a, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "UNIQUE constraint failed"));
    store_close(st);
}

static void test_nodes(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t job = add_job(st, "g", NULL, JOB_RUNNING);
    struct store_attempt a = attempt_of(job, 1, "oci"), other = attempt_of(job, 2, "oci");
    struct store_node nd = {0, 2, ATT_RUNNING, -1, 100.5, 0}, *v;
    size_t n;
    int r;

    OK(store_attempt_insert(st, &a, E));
    OK(store_attempt_insert(st, &other, E));
    for (r = 2; r >= 0; r--) {
        nd.attempt_id = a.id;
        nd.rank = r;
        nd.started_at = 100.5 + r;
        OK(store_node_put(st, &nd, E));
    }
    nd.attempt_id = other.id;
    OK(store_node_put(st, &nd, E));
    /* upsert: rank 1 ends */
    nd = (struct store_node){a.id, 1, ATT_ENDED, 143, 101.5, 7200.125};
    OK(store_node_put(st, &nd, E));
    OK(store_node_list(st, a.id, &v, &n, E));
    assert_int_equal(n, 3);
    for (r = 0; r < 3; r++) {
        assert_int_equal(v[r].attempt_id, a.id);
        assert_int_equal(v[r].rank, r);
        assert_same_double(v[r].started_at, 100.5 + r);
    }
    assert_int_equal(v[0].state, ATT_RUNNING);
    assert_int_equal(v[0].exit_code, -1);
    assert_int_equal(v[1].state, ATT_ENDED);
    assert_int_equal(v[1].exit_code, 143);
    assert_same_double(v[1].ended_at, 7200.125);
    free(v);
    store_close(st);
}

/* ---- events -------------------------------------------------------------- */

static void test_events(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t j1 = add_job(st, "a", NULL, JOB_PENDING),
            j2 = add_job(st, "b", NULL, JOB_PENDING);
    struct store_attempt a = attempt_of(j1, 1, "gcp");
    struct store_event *v;
    int64_t ids[10], after = 0;
    size_t i, n, seen = 0;
    char msg[32];
    struct err e;

    OK(store_attempt_insert(st, &a, E));
    for (i = 0; i < 10; i++) {
        snprintf(msg, sizeof(msg), "event %zu", i);
        OK(store_event_append(st, i % 2 ? j2 : j1, i == 4 ? a.id : 0,
                              1000.0 + 0.1 * (double)i, i == 0 ? "submitted" : "state",
                              i == 0 ? -1 : (int)i % 4, i == 0 ? -1 : (int)(i + 1) % 4,
                              i == 9 ? NULL : msg, &ids[i], E));
        assert_true(i == 0 || ids[i] > ids[i - 1]);
    }
    /* every field of one event */
    OK(store_event_list(st, j1, ids[3], 1, &v, &n, E));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, ids[4]);
    assert_int_equal(v[0].job_id, j1);
    assert_int_equal(v[0].attempt_id, a.id);
    assert_same_double(v[0].at, 1000.0 + 0.1 * 4);
    assert_string_equal(v[0].type, "state");
    assert_int_equal(v[0].from_state, 0);
    assert_int_equal(v[0].to_state, 1);
    assert_string_equal(v[0].msg, "event 4");
    store_events_free(v, n);
    /* all jobs, paged by 3 with after_id, oldest first */
    do {
        OK(store_event_list(st, 0, after, 3, &v, &n, E));
        for (i = 0; i < n; i++)
            assert_int_equal(v[i].id, ids[seen + i]);
        seen += n;
        after = n ? v[n - 1].id : after;
        store_events_free(v, n);
    } while (n == 3);
    assert_int_equal(seen, 10);
    /* one job, no limit; the last event's msg stayed NULL */
    OK(store_event_list(st, j2, 0, 0, &v, &n, E));
    assert_int_equal(n, 5);
    assert_int_equal(v[4].id, ids[9]);
    assert_null(v[4].msg);
    assert_int_equal(v[4].attempt_id, 0);
    store_events_free(v, n);
    err_clear(&e);
    assert_int_equal(store_event_append(st, j1, 0, 1, NULL, -1, -1, "x", NULL, &e),
                     ST_EINVAL);
    store_close(st);
    if (f->mem)
        return;
    /* the log is append-only, even for someone with the sqlite3 shell */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events"), 10);
    assert_int_equal(raw_int(f->path, "DELETE FROM events RETURNING 1"), -1);
    assert_int_equal(raw_int(f->path, "UPDATE events SET msg = 'x' RETURNING 1"), -1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE msg = 'x'"), 0);
}

/* ---- checkpoints, requests, blocks ------------------------------------------- */

static void test_checkpoints(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t j1 = add_job(st, "a", NULL, JOB_RUNNING),
            j2 = add_job(st, "b", NULL, JOB_RUNNING);
    struct store_attempt a = attempt_of(j1, 1, "gcp");
    struct store_checkpoint *v;
    size_t n;

    OK(store_attempt_insert(st, &a, E));
    OK(store_checkpoint_add(st, j1, a.id, "/ckpt/a/step-100", 3.25e11, 5000.5, E));
    OK(store_checkpoint_add(st, j2, 0, NULL, 0, 5001, E));
    OK(store_checkpoint_add(st, j1, 0, "/ckpt/a/step-200", 3.5e11, 6000.25, E));
    OK(store_checkpoint_list(st, j1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_true(v[0].id < v[1].id);
    assert_int_equal(v[0].job_id, j1);
    assert_int_equal(v[0].attempt_id, a.id);
    assert_string_equal(v[0].path, "/ckpt/a/step-100");
    assert_same_double(v[0].bytes, 3.25e11);
    assert_same_double(v[0].at, 5000.5);
    assert_int_equal(v[1].attempt_id, 0);
    assert_string_equal(v[1].path, "/ckpt/a/step-200");
    store_checkpoints_free(v, n);
    OK(store_checkpoint_list(st, j2, &v, &n, E));
    assert_int_equal(n, 1);
    assert_null(v[0].path);
    store_checkpoints_free(v, n);
    store_close(st);
}

static void test_requests_taken_once(void **state)
{
    struct fixture *f = *state;
    struct store *ctl = open_at(f->path), *cli = f->mem ? ctl : open_at(f->path);
    struct store_request *v;
    int64_t id1, id2, id3;
    size_t n;

    OK(store_request_add(cli, "cancel", "7", 100.5, &id1, E));
    OK(store_request_add(cli, "stockout", "gcp/us-central1 600", 101, &id2, E));
    OK(store_request_add(cli, "preempt-job", NULL, 102, NULL, E));
    OK(store_request_take(ctl, &v, &n, E));
    assert_int_equal(n, 3);
    assert_int_equal(v[0].id, id1);
    assert_same_double(v[0].at, 100.5);
    assert_string_equal(v[0].kind, "cancel");
    assert_string_equal(v[0].arg, "7");
    assert_int_equal(v[1].id, id2);
    assert_string_equal(v[1].arg, "gcp/us-central1 600");
    assert_null(v[2].arg);
    store_requests_free(v, n);
    /* taken: neither handle sees them again */
    OK(store_request_take(ctl, &v, &n, E));
    assert_int_equal(n, 0);
    OK(store_request_take(cli, &v, &n, E));
    assert_int_equal(n, 0);
    /* taken inside a transaction that rolls back: still pending */
    OK(store_request_add(cli, "cancel", "8", 103, &id3, E));
    OK(store_begin(ctl, E));
    OK(store_request_take(ctl, &v, &n, E));
    assert_int_equal(n, 1);
    store_requests_free(v, n);
    store_rollback(ctl);
    OK(store_request_take(cli, &v, &n, E));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, id3);
    store_requests_free(v, n);
    OK(store_request_take(ctl, &v, &n, E));
    assert_int_equal(n, 0);
    if (cli != ctl)
        store_close(cli);
    store_close(ctl);
}

static void test_blocks(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_block a = {"gcp", "us-central1", "us-central1-a", "a3-highgpu-8g",
                            200.5, "stockout",    "H100"};
    struct store_block b = {"azure", "eastus", "", "", 100, "capacity", ""};
    struct store_block c = {"oci", "us-ashburn-1", NULL, NULL, 300, NULL, NULL};
    /* the same instance type in the same zone with another accelerator
     * (GCP's n1 with a V100 or a T4): a block of its own (schema 16) */
    struct store_block d = {"gcp", "us-central1", "us-central1-a", "n1-standard-8",
                            500,   "V100 out",    "V100"};
    struct store_block t = {
        "gcp", "us-central1", "us-central1-a", "n1-standard-8", 600, "T4 out", "T4"};
    struct store_block *v;
    size_t n;

    OK(store_block_add(st, &a, E));
    OK(store_block_add(st, &b, E));
    OK(store_block_add(st, &c, E));
    OK(store_block_list(st, 50, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].cloud, "gcp");
    assert_string_equal(v[0].region, "us-central1");
    assert_string_equal(v[0].zone, "us-central1-a");
    assert_string_equal(v[0].instance_type, "a3-highgpu-8g");
    assert_same_double(v[0].until, 200.5);
    assert_string_equal(v[0].reason, "stockout");
    assert_string_equal(v[1].zone, "");
    assert_null(v[2].zone);
    assert_null(v[2].reason);
    store_blocks_free(v, n);
    OK(store_block_list(st, 100, &v, &n, E)); /* until > now: b has expired */
    assert_int_equal(n, 2);
    assert_string_equal(v[0].cloud, "gcp");
    assert_string_equal(v[1].cloud, "oci");
    store_blocks_free(v, n);
    /* blocking b again extends it; a shorter block does not shorten a */
    b.until = 400;
    b.reason = "capacity again";
    a.until = 150;
    a.reason = "ignored";
    OK(store_block_add(st, &b, E));
    OK(store_block_add(st, &a, E));
    OK(store_block_list(st, 250, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].cloud, "azure");
    assert_same_double(v[0].until, 400);
    assert_string_equal(v[0].reason, "capacity again");
    assert_string_equal(v[1].cloud, "oci");
    store_blocks_free(v, n);
    OK(store_block_list(st, 200, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].reason, "stockout");
    store_blocks_free(v, n);
    OK(store_block_list(st, 400, &v, &n, E));
    assert_int_equal(n, 0);
    store_blocks_free(v, n);
    OK(store_block_add(st, &d, E));
    OK(store_block_add(st, &t, E));
    d.until = 550; /* extends the V100 row only */
    OK(store_block_add(st, &d, E));
    OK(store_block_list(st, 400, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].accelerator, "V100");
    assert_same_double(v[0].until, 550);
    assert_string_equal(v[1].accelerator, "T4");
    assert_same_double(v[1].until, 600);
    store_blocks_free(v, n);
    OK(store_block_list(st, 50, &v, &n, E));
    assert_string_equal(v[0].accelerator, "H100");
    assert_string_equal(v[1].accelerator, "");
    store_blocks_free(v, n);
    store_close(st);
    if (!f->mem)
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM blocks"), 5);
}

/* ---- the cost report ------------------------------------------------------ */

struct cost_case {
    int job; /* index into the jobs below */
    char *cloud;
    int nodes, state, end;
    double running_at, ended_at, cost, egress;
};

/* Six attempts of three jobs (train-a/research, train-b/no team,
 * train-a/infer).  Node-hours: nodes x (ended - running) / 3600 for ended
 * attempts that ran; the live one's to COST_NOW.  The live one ran at $1
 * per node-hour since 1400 after $0.40 at an earlier price, and paid $0.60
 * to move its data: by COST_NOW, $0.40 + 2 x 1 h + $0.60 = $3, in 2.5
 * node-hours. */
#define COST_NOW 5000.0
static const struct cost_case cost_cases[] = {
    {0, "azure", 2, ATT_ENDED, ATT_END_EXITED, 1000, 4600, 10.0, 2.0}, /* 2 h, not lost */
    {0, "gcp", 4, ATT_ENDED, ATT_END_CAPACITY, 0, 100, 0, 0},          /* never ran */
    {1, "gcp", 1, ATT_ENDED, ATT_END_PREEMPTED, 1000, 2800, 1.25, 0},  /* 0.5 h lost */
    {1, "oci", 8, ATT_ENDED, ATT_END_EXITED, 100, 1000, 7.5, 0.5},     /* 2 h */
    {2, "gcp", 2, ATT_RUNNING, ATT_END_NONE, 500, 0, 0.4, 0.6},        /* still running */
    {2, "azure", 1, ATT_ENDED, ATT_END_LOST, 10, 3610, 3.0, 1.0},      /* 1 h lost */
};

struct cost_want {
    const char *key;
    double usd, nh, lost;
    int attempts;
    double egress;
    const char *name; /* by job */
};

static void check_report(struct store *st, const char *by, const struct cost_want *w,
                         size_t nw)
{
    struct store_cost_row *v;
    size_t i, n;

    OK(store_cost_report(st, by, COST_NOW, &v, &n, E));
    assert_int_equal(n, nw);
    for (i = 0; i < n; i++) {
        assert_string_equal(v[i].key, w[i].key);
        assert_float_equal(v[i].usd, w[i].usd, 1e-9);
        assert_float_equal(v[i].node_hours, w[i].nh, 1e-9);
        assert_float_equal(v[i].lost_node_hours, w[i].lost, 1e-9);
        assert_int_equal(v[i].attempts, w[i].attempts);
        assert_float_equal(v[i].egress_usd, w[i].egress, 1e-9);
        assert_float_equal(v[i].compute_usd, w[i].usd - w[i].egress, 1e-9);
        assert_str_or_null(v[i].name, w[i].name);
    }
    store_cost_rows_free(v, n);
}

static void test_cost_report(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t jobs[3] = {add_job(st, "train-a", "research", JOB_SUCCEEDED),
                       add_job(st, "train-b", NULL, JOB_SUCCEEDED),
                       add_job(st, "train-a", "infer", JOB_RUNNING)};
    static const struct cost_want by_cloud[] = {{"azure", 13.0, 3.0, 1.0, 2, 3.0, NULL},
                                                {"oci", 7.5, 2.0, 0, 1, 0.5, NULL},
                                                {"gcp", 4.25, 3.0, 0.5, 3, 0.6, NULL}};
    static const struct cost_want by_team[] = {{"research", 10.0, 2.0, 0, 2, 2.0, NULL},
                                               {"(none)", 8.75, 2.5, 0.5, 2, 0.5, NULL},
                                               {"infer", 6.0, 3.5, 1.0, 2, 1.6, NULL}};
    /* by job id: the two jobs named train-a stay apart */
    static const struct cost_want by_job[] = {{"1", 10.0, 2.0, 0, 2, 2.0, "train-a"},
                                              {"2", 8.75, 2.5, 0.5, 2, 0.5, "train-b"},
                                              {"3", 6.0, 3.5, 1.0, 2, 1.6, "train-a"}};
    int nth[3] = {0, 0, 0};
    size_t i, n;
    struct store_cost_row *v;
    struct err e;

    for (i = 0; i < sizeof(cost_cases) / sizeof(cost_cases[0]); i++) {
        const struct cost_case *c = &cost_cases[i];
        struct store_attempt a = attempt_of(jobs[c->job], ++nth[c->job], c->cloud);

        a.nodes = c->nodes;
        a.state = c->state;
        a.end_reason = c->end;
        a.running_at = c->running_at;
        a.ended_at = c->ended_at;
        a.cost = c->cost;
        a.egress = c->egress;
        if (c->state != ATT_ENDED) {
            a.price_hour = 1.0;
            a.priced_at = 1400;
        }
        OK(store_attempt_insert(st, &a, E));
    }
    check_report(st, "cloud", by_cloud, 3);
    check_report(st, "team", by_team, 3);
    check_report(st, "job", by_job, 3);
    err_clear(&e);
    assert_int_equal(store_cost_report(st, "region", COST_NOW, &v, &n, &e), ST_EINVAL);
    assert_string_equal(e.msg, "cost report by 'region': expected cloud, team or job");
    store_close(st);
}

/* By job, rows of equal cost come in job id order, as numbers (9 before 10);
 * a job without a name has none in its row. */
static void test_cost_by_job_order(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_cost_row *v;
    size_t i, n;

    for (i = 1; i <= 11; i++) {
        int64_t job = add_job(st, i == 10 ? NULL : "same", NULL, JOB_SUCCEEDED);
        struct store_attempt a = attempt_of(job, 1, "gcp");

        a.state = ATT_ENDED;
        a.end_reason = ATT_END_EXITED;
        a.cost = i == 11 ? 5.0 : 1.0;
        OK(store_attempt_insert(st, &a, E));
    }
    OK(store_cost_report(st, "job", COST_NOW, &v, &n, E));
    assert_int_equal(n, 11);
    assert_string_equal(v[0].key, "11");
    for (i = 1; i < 11; i++) {
        char want[8];

        snprintf(want, sizeof(want), "%zu", i);
        assert_string_equal(v[i].key, want);
        assert_str_or_null(v[i].name, i == 10 ? NULL : "same");
    }
    store_cost_rows_free(v, n);
    OK(store_cost_report(st, "cloud", COST_NOW, &v, &n, E));
    assert_int_equal(n, 1);
    assert_null(v[0].name);
    store_cost_rows_free(v, n);
    store_close(st);
}

/* ---- secrets (schema 10) ---------------------------------------------------- */

static struct store_secret secret_of(char *team, char *name, const char *ct, double at)
{
    static unsigned char nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct store_secret s;

    memset(&s, 0, sizeof(s));
    s.team = team;
    s.name = name;
    s.ciphertext = (unsigned char *)(uintptr_t)ct;
    s.ciphertext_len = strlen(ct) + 1; /* the NUL too: bytes, not text */
    s.nonce = nonce;
    s.nonce_len = sizeof(nonce);
    s.updated_at = at;
    return s;
}

/* Put inserts or replaces by (team, name), keeping created_at; get returns
 * the bytes; list is by team, in name order, without ciphertext; delete. */
static void test_secrets(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_secret a = secret_of("research", "hf", "ct-a\001\377", 10.5),
                        b = secret_of("research", "aws", "ct-b", 11),
                        c = secret_of("", "hf", "ct-c", 12), got, *v;
    size_t n;
    struct err e;

    OK(store_secret_put(st, &a, E));
    OK(store_secret_put(st, &b, E));
    OK(store_secret_put(st, &c, E));
    OK(store_secret_get(st, "research", "hf", &got, E));
    assert_string_equal(got.team, "research");
    assert_string_equal(got.name, "hf");
    assert_int_equal(got.ciphertext_len, a.ciphertext_len);
    assert_memory_equal(got.ciphertext, a.ciphertext, a.ciphertext_len);
    assert_int_equal(got.nonce_len, 12);
    assert_memory_equal(got.nonce, a.nonce, 12);
    assert_same_double(got.created_at, 10.5);
    assert_same_double(got.updated_at, 10.5);
    store_secret_clear(&got);
    /* replaced: new bytes and updated_at, the first created_at */
    a = secret_of("research", "hf", "ct-a2", 20);
    OK(store_secret_put(st, &a, E));
    OK(store_secret_get(st, "research", "hf", &got, E));
    assert_memory_equal(got.ciphertext, "ct-a2", 6);
    assert_same_double(got.created_at, 10.5);
    assert_same_double(got.updated_at, 20);
    store_secret_clear(&got);
    /* the team's, by name, names and times only */
    OK(store_secret_list(st, "research", &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "aws");
    assert_string_equal(v[1].name, "hf");
    assert_null(v[0].ciphertext);
    assert_null(v[1].nonce);
    assert_same_double(v[1].created_at, 10.5);
    store_secrets_free(v, n);
    OK(store_secret_list(st, "", &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].team, "");
    store_secrets_free(v, n);
    OK(store_secret_list(st, "nobody", &v, &n, E));
    assert_int_equal(n, 0);
    store_secrets_free(v, n);
    /* another team's name is another secret */
    err_clear(&e);
    assert_int_equal(store_secret_get(st, "infer", "hf", &got, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no secret 'hf'"));
    OK(store_secret_delete(st, "research", "hf", E));
    assert_int_equal(store_secret_delete(st, "research", "hf", &e), ST_ENOTFOUND);
    assert_int_equal(store_secret_get(st, "research", "hf", &got, &e), ST_ENOTFOUND);
    OK(store_secret_get(st, "", "hf", &got, E));
    store_secret_clear(&got);
    /* put again after a delete: a new secret, created now */
    a = secret_of("research", "hf", "ct-a3", 30);
    OK(store_secret_put(st, &a, E));
    OK(store_secret_get(st, "research", "hf", &got, E));
    assert_same_double(got.created_at, 30);
    store_secret_clear(&got);
    /* refused before the backend */
    a.name = "";
    assert_int_equal(store_secret_put(st, &a, &e), ST_EINVAL);
    a.name = "x";
    a.ciphertext_len = 0;
    assert_int_equal(store_secret_put(st, &a, &e), ST_EINVAL);
    assert_int_equal(store_secret_get(st, NULL, "x", &got, &e), ST_EINVAL);
    assert_int_equal(store_secret_list(st, NULL, &v, &n, &e), ST_EINVAL);
    assert_null(v);
    store_close(st);
    if (!f->mem) { /* kept across a reopen */
        st = open_at(f->path);
        OK(store_secret_list(st, "research", &v, &n, E));
        assert_int_equal(n, 2);
        store_secrets_free(v, n);
        store_close(st);
    }
}

/* A rolled-back transaction leaves no put, replacement or delete behind. */
static void test_secrets_rollback(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_secret a = secret_of("t", "a", "one", 1), b = secret_of("t", "b", "two", 2),
                        got;
    struct store_secret *v;
    size_t n;

    OK(store_secret_put(st, &a, E));
    OK(store_begin(st, E));
    OK(store_secret_put(st, &b, E));
    a = secret_of("t", "a", "uno", 3);
    OK(store_secret_put(st, &a, E));
    OK(store_secret_delete(st, "t", "a", E));
    store_rollback(st);
    OK(store_secret_list(st, "t", &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "a");
    store_secrets_free(v, n);
    OK(store_secret_get(st, "t", "a", &got, E));
    assert_memory_equal(got.ciphertext, "one", 4);
    assert_same_double(got.updated_at, 1);
    store_secret_clear(&got);
    store_close(st);
}

/* ---- data replicas (schema 12) --------------------------------------------- */

static struct store_data_replica copy_of(char *ds, char *cloud, char *region, double at)
{
    struct store_data_replica r;

    memset(&r, 0, sizeof(r));
    r.dataset = ds;
    r.cloud = cloud;
    r.region = region;
    r.src_cloud = "azure";
    r.src_region = "eastus";
    r.via = "oci/us-ashburn-1"; /* schema 15 */
    r.size_gb = 500;
    r.created_at = r.last_used_at = at;
    r.egress = 43.5;
    r.storage_gb_month = 0.02;
    r.job_id = 7;
    r.attempt_id = 9;
    r.in_use = 1;
    return r;
}

/* Put inserts or replaces by (dataset, cloud, region); list filters by
 * dataset and liveness, in (dataset, created_at) order. */
static void test_data_replicas(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_data_replica a = copy_of("corpus", "gcp", "us-central1", 20),
                              b = copy_of("corpus", "gcp", "europe-west4", 10),
                              c = copy_of("job:3", "aws", "us-east-1", 5), *v;
    size_t n;
    struct err e;

    OK(store_data_put(st, &a, E));
    OK(store_data_put(st, &b, E));
    OK(store_data_put(st, &c, E));
    OK(store_data_list(st, "corpus", 1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].region, "europe-west4"); /* made first */
    assert_string_equal(v[1].src_region, "eastus");
    assert_string_equal(v[1].via, "oci/us-ashburn-1");
    assert_same_double(v[1].egress, 43.5);
    assert_int_equal(v[1].attempt_id, 9);
    assert_int_equal(v[1].in_use, 1);
    store_data_replicas_free(v, n);
    /* replace: the same key, new values */
    a.in_use = 0;
    a.expired_at = 99;
    a.last_used_at = 50;
    OK(store_data_put(st, &a, E));
    OK(store_data_list(st, NULL, 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].dataset, "corpus");
    assert_string_equal(v[2].dataset, "job:3");
    assert_same_double(v[1].expired_at, 99);
    assert_same_double(v[1].last_used_at, 50);
    store_data_replicas_free(v, n);
    OK(store_data_list(st, NULL, 1, &v, &n, E)); /* live only */
    assert_int_equal(n, 2);
    store_data_replicas_free(v, n);
    /* a copy made again where one was deleted is a new row: the deleted one
     * stays as it was, and later puts change the new one only */
    a.expired_at = 0;
    a.created_at = a.last_used_at = 120;
    a.egress = 11;
    OK(store_data_put(st, &a, E));
    a.in_use = 2;
    OK(store_data_put(st, &a, E));
    a.expired_at = 130; /* deleted too: both stay on record */
    OK(store_data_put(st, &a, E));
    OK(store_data_list(st, "corpus", 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[1].region, "us-central1");
    assert_same_double(v[1].expired_at, 99);
    assert_same_double(v[1].egress, 43.5);
    assert_int_equal(v[1].in_use, 0);
    assert_string_equal(v[2].region, "us-central1");
    assert_same_double(v[2].created_at, 120);
    assert_same_double(v[2].expired_at, 130);
    assert_same_double(v[2].egress, 11);
    assert_int_equal(v[2].in_use, 2);
    store_data_replicas_free(v, n);
    a.expired_at = 0; /* and a third, live */
    a.created_at = 140;
    OK(store_data_put(st, &a, E));
    OK(store_data_list(st, "corpus", 1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_same_double(v[1].created_at, 140);
    store_data_replicas_free(v, n);
    a.created_at = 20;
    a.expired_at = 99;
    OK(store_data_list(st, "nothing", 0, &v, &n, E));
    assert_int_equal(n, 0);
    store_data_replicas_free(v, n);
    assert_same_double(store_data_storage_cost(&a, 0),
                       500 * 0.02 * (99 - 20) / (730 * 3600.0));
    {
        /* the keeping of every copy, present or deleted, by cloud, to 200:
         * gcp's four (79 + 10 + 60 + 190 s), aws's one (195 s) */
        struct store_cost_row *r;

        OK(store_data_storage(st, 200, &r, &n, E));
        assert_int_equal(n, 2);
        assert_string_equal(r[0].key, "aws");
        assert_string_equal(r[1].key, "gcp");
        assert_float_equal(r[0].usd, 500 * 0.02 * 195 / (730 * 3600.0), 1e-15);
        assert_float_equal(r[1].usd, 500 * 0.02 * 339 / (730 * 3600.0), 1e-15);
        assert_int_equal(r[0].attempts, 1);
        assert_int_equal(r[1].attempts, 4);
        store_cost_rows_free(r, n);
    }
    err_clear(&e);
    a.dataset = "";
    assert_int_equal(store_data_put(st, &a, &e), ST_EINVAL);
    store_close(st);
}

/* A store of schema 13 (one row per place: a new copy replaced the old
 * row), made by taking a new store back to it. */
static const char data_v13_sqlite[] = "DROP TABLE data_replicas_past;"
                                      "ALTER TABLE data_replicas DROP COLUMN via;"
                                      "ALTER TABLE blocks DROP COLUMN accelerator;"
                                      "ALTER TABLE attempts DROP COLUMN list_hour;"
                                      "PRAGMA user_version = 13;";
static const char data_v13_pg[] =
    "DROP TABLE data_replicas_past;"
    "ALTER TABLE data_replicas DROP COLUMN via;"
    "ALTER TABLE blocks DROP COLUMN accelerator;"
    "ALTER TABLE attempts DROP COLUMN list_hour;"
    "UPDATE meta SET value = '13' WHERE key = 'schema_version';";
/* the columns a stratus of schema 13 names when it writes a copy */
#define DATA_COLS_13                                                                     \
    "(dataset, cloud, region, src_cloud, src_region, home, in_use, size_gb, "            \
    "created_at, "                                                                       \
    "last_used_at, expired_at, egress, storage_gb_month, job_id, attempt_id)"

/* Version 13 to 14: the copies there are keep every field, a copy made
 * again where one was deleted no longer replaces it, and a stratus of 13
 * still writes the table as before. */
static void test_migrate_data_from_v13(void **state)
{
    struct fixture *f = *state;
    int pg = strncmp(f->path, "postgres", 8) == 0;
    struct store *st = open_at(f->path);
    struct store_data_replica a = copy_of("corpus", "gcp", "us-central1", 20), *v;
    size_t n;

    store_close(st);
    raw_exec(f->path, pg ? data_v13_pg : data_v13_sqlite);
    raw_exec(f->path, "INSERT INTO data_replicas VALUES ('corpus', 'gcp', 'us-central1',"
                      " 'azure', 'eastus', 0, 0, 500, 20, 50, 99, 43.5, 0.02, 7, 9),"
                      " ('corpus', 'azure', 'eastus', '', '', 1, 0, 500, 10, 20, 0, 0, 0,"
                      " 0, 0)");
    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    a.created_at = 200;
    a.egress = 11;
    OK(store_data_put(st, &a, E));
    OK(store_data_list(st, "corpus", 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_int_equal(v[0].home, 1);
    assert_string_equal(v[1].region, "us-central1");
    assert_same_double(v[1].expired_at, 99);
    assert_same_double(v[1].egress, 43.5);
    assert_int_equal(v[1].attempt_id, 9);
    assert_same_double(v[2].created_at, 200);
    assert_same_double(v[2].egress, 11);
    store_data_replicas_free(v, n);
    store_close(st);
    /* a stratus of schema 13 still writing the store (a server not yet
     * restarted after the upgrade) writes as it did: its put of a copy's
     * deletion lands on that copy */
    raw_exec(f->path,
             pg ? "INSERT INTO data_replicas " DATA_COLS_13 " VALUES ('corpus', 'gcp',"
                  " 'us-central1', 'azure', 'eastus', 0, 0, 500, 200, 210, 220, 11,"
                  " 0.02, 7, 9) ON CONFLICT (dataset, cloud, region) DO UPDATE SET"
                  " expired_at = excluded.expired_at"
                : "INSERT OR REPLACE INTO data_replicas " DATA_COLS_13 " VALUES"
                  " ('corpus', 'gcp', 'us-central1', 'azure', 'eastus', 0, 0, 500,"
                  " 200, 210, 220, 11, 0.02, 7, 9)");
    st = open_at(f->path);
    OK(store_data_list(st, "corpus", 1, &v, &n, E));
    assert_int_equal(n, 1); /* the home: the copy is deleted, not kept twice */
    store_data_replicas_free(v, n);
    OK(store_data_list(st, "corpus", 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_same_double(v[2].expired_at, 220);
    store_data_replicas_free(v, n);
    store_close(st);
}

/* A rollback takes back inserts and replaces; a key inserted in a rolled-back
 * transaction is free again (memstore's index may not name it). */
static void test_data_rollback(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_data_replica a = copy_of("d", "gcp", "us-central1", 1),
                              b = copy_of("d", "gcp", "europe-west4", 2), *v;
    size_t n;

    OK(store_data_put(st, &a, E));
    OK(store_begin(st, E));
    OK(store_data_put(st, &b, E));
    a.egress = 1;
    OK(store_data_put(st, &a, E));
    store_rollback(st);
    OK(store_data_list(st, "d", 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_same_double(v[0].egress, 43.5);
    store_data_replicas_free(v, n);
    /* a different key takes the slot b had; then b itself again */
    b.region = "asia-east1";
    OK(store_data_put(st, &b, E));
    b.region = "europe-west4";
    b.egress = 7;
    OK(store_data_put(st, &b, E));
    OK(store_data_put(st, &b, E));
    OK(store_data_list(st, "d", 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_same_double(v[2].egress, 7);
    store_data_replicas_free(v, n);
    /* a rolled-back deletion and new copy: the old copy is the live one
     * again, and the next put updates it (memstore's index is rebuilt) */
    OK(store_begin(st, E));
    a.expired_at = 5;
    OK(store_data_put(st, &a, E));
    a.expired_at = 0;
    a.created_at = 6;
    a.egress = 2;
    OK(store_data_put(st, &a, E));
    store_rollback(st);
    a.created_at = 1;
    a.egress = 3;
    OK(store_data_put(st, &a, E));
    OK(store_data_list(st, "d", 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].region, "us-central1");
    assert_same_double(v[0].egress, 3);
    assert_same_double(v[0].expired_at, 0);
    store_data_replicas_free(v, n);
    store_close(st);
}

/* The fault wrapper counts puts and deletes as writes; a dead writer reads
 * nothing. */
static void test_fault_secrets(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_fault *ctl = store_fault_wrap(st);
    struct store_secret a = secret_of("t", "a", "one", 1), got, *v;
    size_t n;
    struct err e;

    ctl->fail_write = 1;
    err_clear(&e);
    assert_int_equal(store_secret_put(st, &a, &e), ST_EIO);
    OK(store_secret_put(st, &a, E));
    OK(store_secret_delete(st, "t", "a", E));
    assert_int_equal(ctl->writes, 3);
    ctl->dead = 1;
    assert_int_equal(store_secret_get(st, "t", "a", &got, &e), ST_EIO);
    assert_int_equal(store_secret_list(st, "t", &v, &n, &e), ST_EIO);
    assert_null(v);
    assert_int_equal(n, 0);
    store_close(st);
}

/* ---- tokens and settings (schema 6) ------------------------------------------ */

static struct store_token token_of(char *name, char *role, char *hash, double at)
{
    struct store_token t;

    memset(&t, 0, sizeof(t));
    t.name = name;
    t.role = role;
    t.hash = hash;
    t.created_at = at;
    return t;
}

#define HASH_A "aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000"
#define HASH_B "bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000"
#define HASH_C "cccc0000cccc0000cccc0000cccc0000cccc0000cccc0000cccc0000cccc0000"

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_token a = token_of("ci", "member", HASH_A, 10.5),
                       b = token_of("alice", "admin", HASH_B, 11),
                       c = token_of("ci", "viewer", HASH_C, 12), got, *v;
    size_t n;
    struct err e;

    OK(store_token_insert(st, &a, E));
    OK(store_token_insert(st, &b, E));
    assert_true(a.id > 0 && b.id == a.id + 1);
    OK(store_token_by_hash(st, HASH_B, &got, E));
    assert_int_equal(got.id, b.id);
    assert_string_equal(got.name, "alice");
    assert_string_equal(got.role, "admin");
    assert_string_equal(got.hash, HASH_B);
    assert_same_double(got.created_at, 11);
    assert_same_double(got.revoked_at, 0);
    store_token_clear(&got);
    err_clear(&e);
    assert_int_equal(store_token_by_hash(st, HASH_C, &got, &e), ST_ENOTFOUND);
    /* a live name is taken; nothing is stored */
    assert_int_equal(store_token_insert(st, &c, &e), ST_EEXISTS);
    assert_non_null(strstr(e.msg, "a token named 'ci' already exists"));
    OK(store_token_list(st, 0, &v, &n, E));
    assert_int_equal(n, 2);
    store_tokens_free(v, n);
    /* required fields */
    c.role = NULL;
    assert_int_equal(store_token_insert(st, &c, &e), ST_EINVAL);
    c.role = "viewer";
    c.hash = "";
    assert_int_equal(store_token_insert(st, &c, &e), ST_EINVAL);
    c.hash = HASH_C;
    /* revoke: once; then the name is free again and the hash still found */
    assert_int_equal(store_token_revoke(st, a.id, 0, &e), ST_EINVAL);
    OK(store_token_revoke(st, a.id, 20.25, E));
    assert_int_equal(store_token_revoke(st, a.id, 21, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no live token"));
    assert_int_equal(store_token_revoke(st, 99, 21, &e), ST_ENOTFOUND);
    OK(store_token_by_hash(st, HASH_A, &got, E));
    assert_same_double(got.revoked_at, 20.25);
    store_token_clear(&got);
    OK(store_token_insert(st, &c, E));
    assert_int_equal(c.id, b.id + 1);
    OK(store_token_list(st, 0, &v, &n, E));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "ci");
    assert_same_double(v[0].revoked_at, 20.25);
    assert_string_equal(v[2].name, "ci");
    assert_string_equal(v[2].role, "viewer");
    assert_same_double(v[2].revoked_at, 0);
    store_tokens_free(v, n);
    OK(store_token_list(st, 1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, b.id);
    assert_int_equal(v[1].id, c.id);
    store_tokens_free(v, n);
    /* rolled back: the revocation and the new token are gone */
    OK(store_begin(st, E));
    OK(store_token_revoke(st, b.id, 30, E));
    a = token_of("bob", "viewer", "dddd", 31);
    OK(store_token_insert(st, &a, E));
    store_rollback(st);
    OK(store_token_list(st, 1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, b.id);
    store_tokens_free(v, n);
    assert_int_equal(store_token_by_hash(st, "dddd", &got, &e), ST_ENOTFOUND);
    store_close(st);
    if (!f->mem) { /* kept by the file */
        st = open_at(f->path);
        OK(store_token_list(st, 0, &v, &n, E));
        assert_int_equal(n, 3);
        store_tokens_free(v, n);
        store_close(st);
    }
}

static void test_settings(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    static char unset[] = "unset";
    char *v = unset; /* get must set it */
    struct err e;

    OK(store_setting_get(st, "policy", &v, E));
    assert_null(v);
    OK(store_setting_put(st, "policy", "rules: []\n", E));
    OK(store_setting_put(st, "other", "", E)); /* empty is a value, not none */
    OK(store_setting_get(st, "policy", &v, E));
    assert_string_equal(v, "rules: []\n");
    free(v);
    OK(store_setting_put(st, "policy", "rules: [a]\n", E));
    OK(store_setting_get(st, "policy", &v, E));
    assert_string_equal(v, "rules: [a]\n");
    free(v);
    OK(store_setting_get(st, "other", &v, E));
    assert_string_equal(v, "");
    free(v);
    /* rollback restores the value, a put after a delete works */
    OK(store_begin(st, E));
    OK(store_setting_put(st, "policy", NULL, E));
    OK(store_setting_get(st, "policy", &v, E));
    assert_null(v);
    store_rollback(st);
    OK(store_setting_get(st, "policy", &v, E));
    assert_string_equal(v, "rules: [a]\n");
    free(v);
    OK(store_setting_put(st, "policy", NULL, E));
    OK(store_setting_put(st, "policy", NULL, E)); /* deleting none is fine */
    OK(store_setting_put(st, "never", NULL, E));
    OK(store_setting_get(st, "policy", &v, E));
    assert_null(v);
    OK(store_setting_put(st, "policy", "back", E));
    err_clear(&e);
    assert_int_equal(store_setting_put(st, "", "x", &e), ST_EINVAL);
    assert_int_equal(store_setting_get(st, NULL, &v, &e), ST_EINVAL);
    assert_null(v);
    store_close(st);
    if (!f->mem) {
        st = open_at(f->path);
        OK(store_setting_get(st, "policy", &v, E));
        assert_string_equal(v, "back");
        free(v);
        OK(store_setting_get(st, "other", &v, E));
        assert_string_equal(v, "");
        free(v);
        store_close(st);
    }
}

/* The fault wrapper counts token and setting writes and fails them on
 * request; reads pass. */
static void test_fault_tokens(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_fault *ctl = store_fault_wrap(st);
    struct store_token t = token_of("x", "admin", HASH_A, 1), *v;
    char *val;
    size_t n;
    struct err e;

    ctl->fail_write = 2;
    OK(store_setting_put(st, "k", "v", E));
    err_clear(&e);
    assert_int_equal(store_token_insert(st, &t, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "write 2 failed (fault injection)"));
    OK(store_token_list(st, 0, &v, &n, E));
    assert_int_equal(n, 0);
    store_tokens_free(v, n);
    OK(store_token_insert(st, &t, E));
    OK(store_token_revoke(st, t.id, 2, E));
    assert_int_equal(ctl->writes, 4);
    OK(store_setting_get(st, "k", &val, E));
    assert_string_equal(val, "v");
    free(val);
    ctl->dead = 1;
    assert_int_equal(store_token_by_hash(st, HASH_A, &t, &e), ST_EIO);
    assert_int_equal(store_setting_get(st, "k", &val, &e), ST_EIO);
    assert_null(val);
    assert_int_equal(store_token_list(st, 0, &v, &n, &e), ST_EIO);
    assert_null(v);
    assert_int_equal(n, 0);
    store_close(st);
}

/* ---- services and replicas (schema 7) ----------------------------------------- */

/* A service with every field set to a value that would show a lost bit. */
static struct store_service full_service(char *name)
{
    struct store_service s;

    memset(&s, 0, sizeof(s));
    s.name = name;
    s.spec_path = "/home/ana/serve/llm.yaml";
    s.spec_text = "service:\n  replicas: 3\nrun: |\n  echo 'h\xc3\xa9llo'\n";
    s.policy_text = "rules: []\n";
    s.version = 2;
    s.state = SVC_UPDATING;
    s.reason = "rolling update to version 2";
    s.created_at = 1732380000.123456789;
    s.updated_at = 1732380100.25;
    s.ended_at = 0;
    s.target = 5;
    s.keys = "[\"" HASH_A "\"]";
    s.key_info = "[{\"id\": 1, \"sha256\": \"" HASH_A "\"}]";
    return s;
}

static void assert_service_eq(const struct store_service *g, const struct store_service *w)
{
    assert_int_equal(g->id, w->id);
    assert_str_or_null(g->name, w->name);
    assert_str_or_null(g->spec_path, w->spec_path);
    assert_str_or_null(g->spec_text, w->spec_text);
    assert_str_or_null(g->policy_text, w->policy_text);
    assert_int_equal(g->version, w->version);
    assert_int_equal(g->state, w->state);
    assert_str_or_null(g->reason, w->reason);
    assert_same_double(g->created_at, w->created_at);
    assert_same_double(g->updated_at, w->updated_at);
    assert_same_double(g->ended_at, w->ended_at);
    assert_int_equal(g->target, w->target);
    assert_str_or_null(g->keys, w->keys);
    assert_str_or_null(g->key_info, w->key_info);
}

static void test_service_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_service s = full_service("llm"), got;
    struct err e;

    OK(store_service_insert(st, &s, E));
    assert_int_equal(s.id, 1);
    OK(store_service_get(st, s.id, &got, E));
    assert_service_eq(&got, &s);
    store_service_clear(&got);
    assert_null(got.name); /* clear leaves a zeroed record */

    /* update every field, including string <-> NULL */
    s.spec_path = NULL;
    s.spec_text = "service:\n  replicas: 1\n";
    s.policy_text = NULL;
    s.version = 3;
    s.state = SVC_DOWN;
    s.reason = NULL;
    s.created_at = 1.5;
    s.updated_at = 1e-300;
    s.ended_at = DBL_MAX;
    s.target = 0;
    s.keys = NULL;
    s.key_info = NULL;
    OK(store_service_update(st, &s, E));
    OK(store_service_get(st, s.id, &got, E));
    assert_service_eq(&got, &s);
    store_service_clear(&got);

    err_clear(&e);
    assert_int_equal(store_service_get(st, 2, &got, &e), ST_ENOTFOUND);
    assert_null(got.name);
    s.id = 99;
    assert_int_equal(store_service_update(st, &s, &e), ST_ENOTFOUND);
    assert_int_equal(store_service_get(st, -1, &got, &e), ST_ENOTFOUND);
    store_close(st);
}

/* Refused before the backend: a service without a name or spec text, or
 * with a state that is not one. */
static void test_service_args(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_service s = full_service(NULL), *v;
    size_t n;
    struct err e;

    err_clear(&e);
    assert_int_equal(store_service_insert(st, &s, &e), ST_EINVAL);
    s.name = "";
    assert_int_equal(store_service_insert(st, &s, &e), ST_EINVAL);
    s.name = "llm";
    s.spec_text = NULL;
    assert_int_equal(store_service_insert(st, &s, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "spec text"));
    s.spec_text = "x";
    s.state = SVC__NSTATES;
    assert_int_equal(store_service_insert(st, &s, &e), ST_EINVAL);
    s.state = -1;
    assert_int_equal(store_service_insert(st, &s, &e), ST_EINVAL);
    s.state = SVC_STARTING;
    OK(store_service_insert(st, &s, E));
    s.spec_text = NULL;
    assert_int_equal(store_service_update(st, &s, &e), ST_EINVAL);
    assert_int_equal(store_service_find(st, NULL, &s, &e), ST_EINVAL);
    OK(store_service_list(st, 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].spec_text, "x");
    store_services_free(v, n);
    store_close(st);
}

/* One live service per name; a name is free again once its service ended;
 * find: the live one, else the one that ended last. */
static void test_service_names(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_service a = full_service("llm"), b = full_service("llm"),
                         c = full_service("other"), got, *v;
    size_t n;
    struct err e;

    OK(store_service_insert(st, &a, E));
    OK(store_service_insert(st, &c, E));
    err_clear(&e);
    b.id = 77;
    assert_int_equal(store_service_insert(st, &b, &e), ST_EEXISTS);
    assert_non_null(strstr(e.msg, "'llm'"));
    /* an ended service of the name does not stand in the way */
    b.ended_at = 5;
    b.state = SVC_FAILED;
    OK(store_service_insert(st, &b, E)); /* id 3, ended at 5 */
    OK(store_service_find(st, "llm", &got, E));
    assert_int_equal(got.id, a.id);
    store_service_clear(&got);
    a.state = SVC_DOWN;
    a.ended_at = 9;
    OK(store_service_update(st, &a, E));
    /* both ended: the one that ended last, though it has the lower id */
    OK(store_service_find(st, "llm", &got, E));
    assert_int_equal(got.id, a.id);
    assert_int_equal(got.state, SVC_DOWN);
    store_service_clear(&got);
    /* up again under the name: the new one is found */
    b = full_service("llm");
    OK(store_service_insert(st, &b, E));
    assert_int_equal(b.id, 4);
    OK(store_service_find(st, "llm", &got, E));
    assert_int_equal(got.id, 4);
    store_service_clear(&got);
    /* an ended one cannot come back to life while the name is taken */
    a.ended_at = 0;
    assert_int_equal(store_service_update(st, &a, &e), ST_EEXISTS);
    OK(store_service_get(st, a.id, &got, E));
    assert_same_double(got.ended_at, 9);
    store_service_clear(&got);
    /* a live service keeps its own name through an update */
    b.target = 9;
    OK(store_service_update(st, &b, E));
    assert_int_equal(store_service_find(st, "none", &got, &e), ST_ENOTFOUND);
    assert_null(got.name);
    assert_int_equal(store_service_find(st, "LLM", &got, &e), ST_ENOTFOUND);

    OK(store_service_list(st, 0, &v, &n, E));
    assert_int_equal(n, 4);
    assert_int_equal(v[0].id, 1);
    assert_int_equal(v[3].id, 4);
    assert_int_equal(v[3].target, 9);
    store_services_free(v, n);
    OK(store_service_list(st, 1, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "other");
    assert_int_equal(v[1].id, 4);
    store_services_free(v, n);
    store_close(st);
}

static int64_t add_replica(struct store *st, int64_t svc, int version, int port, int state)
{
    struct store_job j = job_of("llm-replica", NULL, state);

    j.service_id = svc;
    j.svc_version = version;
    j.port = port;
    OK(store_job_insert(st, &j, E));
    return j.id;
}

/* The ids of the jobs listed, compared with want (ended by 0). */
static void assert_replicas(struct store *st, int64_t svc, int active_only,
                            const int64_t *want)
{
    struct store_job *v;
    size_t n, i;

    OK(store_replica_list(st, svc, active_only, &v, &n, E));
    for (i = 0; want[i] != 0; i++) {
        if (i >= n)
            fail_msg("service %lld: %zu replicas listed, expected more", (long long)svc, n);
        assert_int_equal(v[i].id, want[i]);
        assert_int_equal(v[i].service_id, svc);
    }
    assert_int_equal(n, i);
    store_jobs_free(v, n);
}

static void test_replicas(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_service s1 = full_service("a"), s2 = full_service("b");
    struct store_job j, *v;
    int64_t r[8];
    size_t n;

    OK(store_service_insert(st, &s1, E));
    OK(store_service_insert(st, &s2, E));
    add_job(st, "plain", NULL, JOB_RUNNING);                   /* 1 */
    r[1] = add_replica(st, s1.id, 1, 40001, JOB_RUNNING);      /* 2 */
    r[2] = add_replica(st, s2.id, 1, 40002, JOB_PENDING);      /* 3 */
    r[3] = add_replica(st, s1.id, 1, 40003, JOB_FAILED);       /* 4 */
    r[4] = add_replica(st, s1.id, 2, 40004, JOB_PROVISIONING); /* 5 */
    {
        const int64_t all1[] = {r[1], r[3], r[4], 0}, act1[] = {r[1], r[4], 0},
                      all2[] = {r[2], 0}, none[] = {0};

        assert_replicas(st, s1.id, 0, all1);
        assert_replicas(st, s1.id, 1, act1);
        assert_replicas(st, s2.id, 0, all2);
        assert_replicas(st, 0, 0, none); /* plain jobs are nobody's replicas */
        assert_replicas(st, 99, 0, none);
    }
    /* the fields come back, through the list and through get */
    OK(store_replica_list(st, s1.id, 1, &v, &n, E));
    assert_int_equal(v[1].svc_version, 2);
    assert_int_equal(v[1].port, 40004);
    assert_int_equal(v[1].state, JOB_PROVISIONING);
    store_jobs_free(v, n);
    OK(store_job_get(st, 1, &j, E));
    assert_int_equal(j.service_id, 0);
    assert_int_equal(j.port, 0);
    store_job_clear(&j);

    /* a replica ending leaves the active list; one moved by an update
     * leaves its old service's list for the new one's */
    OK(store_job_get(st, r[1], &j, E));
    j.state = JOB_CANCELLED;
    OK(store_job_update(st, &j, E));
    store_job_clear(&j);
    OK(store_job_get(st, r[4], &j, E));
    j.service_id = s2.id;
    OK(store_job_update(st, &j, E));
    store_job_clear(&j);
    {
        const int64_t all1[] = {r[1], r[3], 0}, act1[] = {0}, all2[] = {r[2], r[4], 0};

        assert_replicas(st, s1.id, 0, all1);
        assert_replicas(st, s1.id, 1, act1);
        assert_replicas(st, s2.id, 1, all2);
    }
    store_close(st);
}

/* A replica written before its service (an id given ahead), and a service
 * and its replicas rolled back: the lists stay right. */
static void test_replicas_rollback(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_service s1 = full_service("a"), s2 = full_service("b");
    struct store_service *sv;
    int64_t r1, r2, r3;
    size_t n;

    OK(store_service_insert(st, &s1, E));
    OK(store_begin(st, E));
    OK(store_service_insert(st, &s2, E));
    add_replica(st, s2.id, 1, 1, JOB_PENDING);
    add_replica(st, s1.id, 1, 2, JOB_PENDING);
    store_rollback(st);
    OK(store_service_list(st, 0, &sv, &n, E));
    assert_int_equal(n, 1);
    store_services_free(sv, n);
    {
        const int64_t none[] = {0};

        assert_replicas(st, s1.id, 0, none);
        assert_replicas(st, 2, 0, none);
    }
    r1 = add_replica(st, s1.id, 1, 3, JOB_RUNNING);
    r2 = add_replica(st, 2, 1, 4, JOB_RUNNING); /* service 2 does not exist yet */
    OK(store_service_insert(st, &s2, E));
    assert_int_equal(s2.id, 2);
    r3 = add_replica(st, 2, 1, 5, JOB_RUNNING);
    {
        const int64_t want1[] = {r1, 0}, want2[] = {r2, r3, 0};

        assert_replicas(st, s1.id, 0, want1);
        assert_replicas(st, 2, 0, want2);
    }
    store_close(st);
}

/* Service writes are writes for the fault wrapper, reads are reads. */
static void test_fault_services(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_fault *ctl = store_fault_wrap(st);
    struct store_service s = full_service("llm"), got, *v;
    struct store_job *jv;
    size_t n;
    struct err e;

    ctl->fail_write = 1;
    err_clear(&e);
    assert_int_equal(store_service_insert(st, &s, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "fault injection"));
    OK(store_service_insert(st, &s, E));
    s.target = 2;
    OK(store_service_update(st, &s, E));
    assert_int_equal(ctl->writes, 3);
    OK(store_service_find(st, "llm", &got, E));
    assert_int_equal(got.target, 2);
    store_service_clear(&got);
    ctl->dead = 1;
    assert_int_equal(store_service_get(st, s.id, &got, &e), ST_EIO);
    assert_int_equal(store_service_find(st, "llm", &got, &e), ST_EIO);
    assert_int_equal(store_service_list(st, 0, &v, &n, &e), ST_EIO);
    assert_null(v);
    assert_int_equal(store_replica_list(st, s.id, 0, &jv, &n, &e), ST_EIO);
    assert_null(jv);
    assert_int_equal(n, 0);
    store_close(st);
}

/* ---- transactions, reopening, several handles ------------------------------- */

static void test_rollback_discards(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t job = add_job(st, "kept", NULL, JOB_PENDING);
    struct store_job j, *v;
    struct store_attempt a = attempt_of(job, 1, "gcp"), *av;
    struct store_event *ev;
    size_t n;
    struct err e;

    OK(store_begin(st, E));
    OK(store_job_get(st, job, &j, E));
    j.state = JOB_PROVISIONING;
    OK(store_job_update(st, &j, E));
    OK(store_attempt_insert(st, &a, E));
    OK(store_event_append(st, job, a.id, 5, "state", 0, 1, "placing", NULL, E));
    add_job(st, "discarded", NULL, JOB_PENDING);
    store_rollback(st);
    store_job_clear(&j);

    OK(store_job_list(st, 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, JOB_PENDING);
    store_jobs_free(v, n);
    OK(store_attempt_list(st, job, &av, &n, E));
    assert_int_equal(n, 0);
    OK(store_event_list(st, 0, 0, 0, &ev, &n, E));
    assert_int_equal(n, 0);
    /* and commit keeps */
    OK(store_begin(st, E));
    err_clear(&e);
    assert_int_equal(store_begin(st, &e), ST_ESTATE); /* no nesting */
    add_job(st, "committed", NULL, JOB_PENDING);
    OK(store_commit(st, E));
    assert_int_equal(store_commit(st, &e), ST_ESTATE); /* nothing open */
    store_rollback(st);                                /* nothing open: a no-op */
    OK(store_job_list(st, 0, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[1].name, "committed");
    store_jobs_free(v, n);
    store_close(st);
}

/* When SQLite rolls a transaction back by itself (as after a full disk; here a
 * trigger planted in the file does it), the rest of the transaction fails
 * instead of being committed statement by statement. */
static void test_lost_transaction(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int64_t job = add_job(st, "before", NULL, JOB_PENDING);
    struct store_job j = job_of("after", NULL, JOB_PENDING), *v;
    size_t n;
    struct err e;

    store_close(st);
    raw_exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON checkpoints WHEN NEW.path = "
                      "'boom' BEGIN SELECT RAISE(ROLLBACK, 'disk on fire'); END");
    st = open_at(f->path);
    OK(store_begin(st, E));
    add_job(st, "in the transaction", NULL, JOB_PENDING);
    err_clear(&e);
    assert_int_equal(store_checkpoint_add(st, job, 0, "boom", 1, 1, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "recording a checkpoint: disk on fire"));
    assert_int_equal(store_job_insert(st, &j, &e), ST_ESTATE);
    assert_non_null(strstr(e.msg, "adding a job: the transaction was rolled back after "
                                  "an earlier error; nothing of it is stored"));
    assert_int_equal(store_event_append(st, job, 0, 1, "x", -1, -1, NULL, NULL, &e),
                     ST_ESTATE);
    assert_int_equal(store_commit(st, &e), ST_ESTATE);
    OK(store_job_list(st, 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "before");
    store_jobs_free(v, n);
    add_job(st, "next", NULL, JOB_PENDING); /* the handle works on */
    store_close(st);
}

static void test_reopen_keeps_everything(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_job j = full_job(), got;
    struct store_attempt a, ga;
    struct store_block b = {"gcp", "europe-west4", "", "", 1e10, "cooldown", ""}, *bv;
    struct store_job *jv;
    struct store_event *ev;
    struct store_request *rv;
    struct store_checkpoint *cv;
    size_t n;

    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    OK(store_job_insert(st, &j, E));
    a = full_attempt(j.id);
    OK(store_attempt_insert(st, &a, E));
    j.cur_attempt = a.id;
    OK(store_job_update(st, &j, E));
    OK(store_event_append(st, j.id, a.id, 7, "launch", -1, -1, "m", NULL, E));
    OK(store_request_add(st, "cancel", "1", 8, NULL, E));
    OK(store_block_add(st, &b, E));
    OK(store_checkpoint_add(st, j.id, a.id, "/c", 1, 9, E));
    OK(store_begin(st, E));
    add_job(st, "uncommitted at close", NULL, JOB_PENDING);
    store_close(st); /* an open transaction is rolled back */

    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    OK(store_job_get(st, j.id, &got, E));
    assert_job_eq(&got, &j);
    store_job_clear(&got);
    OK(store_attempt_get(st, a.id, &ga, E));
    assert_attempt_eq(&ga, &a);
    store_attempt_clear(&ga);
    OK(store_job_list(st, 0, &jv, &n, E));
    assert_int_equal(n, 1);
    store_jobs_free(jv, n);
    OK(store_event_list(st, 0, 0, 0, &ev, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].type, "launch");
    store_events_free(ev, n);
    OK(store_request_take(st, &rv, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(rv[0].kind, "cancel");
    store_requests_free(rv, n);
    OK(store_block_list(st, 0, &bv, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(bv[0].reason, "cooldown");
    store_blocks_free(bv, n);
    OK(store_checkpoint_list(st, j.id, &cv, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(cv[0].path, "/c");
    store_checkpoints_free(cv, n);
    store_close(st);
}

static void test_two_handles(void **state)
{
    struct fixture *f = *state;
    struct store *w = open_at(f->path), *r = open_at(f->path);
    struct store_job *v, got;
    int64_t id;
    size_t n;

    id = add_job(w, "one", NULL, JOB_PENDING);
    OK(store_job_get(r, id, &got, E));
    assert_string_equal(got.name, "one");
    store_job_clear(&got);
    /* a write transaction in progress: the reader is not blocked and sees
     * the last commit, then the new rows once committed */
    OK(store_begin(w, E));
    add_job(w, "two", NULL, JOB_PENDING);
    OK(store_event_append(w, id, 0, 1, "state", 0, 1, NULL, NULL, E));
    OK(store_job_list(r, 0, &v, &n, E));
    assert_int_equal(n, 1);
    store_jobs_free(v, n);
    OK(store_commit(w, E));
    OK(store_job_list(r, 0, &v, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(v[1].name, "two");
    store_jobs_free(v, n);
    store_close(w);
    store_close(r);
}

/* A controller killed with SIGKILL - after one commit, inside the next
 * transaction - leaves the first on disk and nothing of the second. */
static void test_killed_writer(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    struct store_job *v;
    size_t n;
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        st = open_at(f->path);
        add_job(st, "committed", NULL, JOB_PENDING);
        if (store_begin(st, NULL) != 0)
            _exit(1);
        add_job(st, "in flight", NULL, JOB_PENDING);
        raise(SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    st = open_at(f->path);
    OK(store_job_list(st, 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "committed");
    store_jobs_free(v, n);
    store_close(st);
}

/* A writer that holds the lock longer than the other waits: ST_ESTATE. */
static void test_lock_timeout(void **state)
{
    struct fixture *f = *state;
    int saved = store_lock_wait_ms;
    struct store *a, *b;
    struct store_job j = job_of("x", NULL, JOB_PENDING);
    struct err e;

    store_lock_wait_ms = 50;
    a = open_at(f->path);
    b = open_at(f->path);
    store_lock_wait_ms = saved;
    OK(store_begin(a, E));
    err_clear(&e);
    assert_int_equal(store_job_insert(b, &j, &e), ST_ESTATE);
    assert_non_null(strstr(e.msg, "adding a job: database is locked (another stratus "
                                  "process kept it locked; waited 50 ms)"));
    assert_int_equal(store_begin(b, &e), ST_ESTATE);
    store_rollback(a);
    OK(store_job_insert(b, &j, E));
    store_close(a);
    store_close(b);
}

/* ---- schema versions and foreign files ------------------------------------ */

/* The version-1 schema exactly as a stratus of that version wrote it (a frozen
 * copy: it must never follow later changes to sqlite.c). */
static const char schema_v1[] =
    "PRAGMA journal_mode = WAL;"
    "BEGIN;"
    "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT, spec_path TEXT,"
    " kind INTEGER NOT NULL, team TEXT, priority INTEGER NOT NULL,"
    " state INTEGER NOT NULL, reason TEXT, submitted_at REAL NOT NULL,"
    " started_at REAL NOT NULL, ended_at REAL NOT NULL, next_try_at REAL NOT NULL,"
    " deadline_at REAL NOT NULL, restarts INTEGER NOT NULL, nattempts INTEGER NOT NULL,"
    " cur_attempt INTEGER REFERENCES attempts(id), on_demand_only INTEGER NOT NULL,"
    " work_done_s REAL NOT NULL, cost REAL NOT NULL, exit_code INTEGER NOT NULL,"
    " cancel_requested INTEGER NOT NULL);"
    "CREATE TABLE job_texts (job_id INTEGER PRIMARY KEY REFERENCES jobs(id),"
    " spec_text TEXT, policy_text TEXT);"
    "CREATE TABLE attempts (id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id), n INTEGER NOT NULL,"
    " state INTEGER NOT NULL, cloud TEXT, region TEXT, zone TEXT, instance_type TEXT,"
    " accelerator TEXT, acc_count INTEGER NOT NULL, nodes INTEGER NOT NULL,"
    " mode INTEGER NOT NULL, price_hour REAL NOT NULL, launched_at REAL NOT NULL,"
    " running_at REAL NOT NULL, ended_at REAL NOT NULL, end_reason INTEGER NOT NULL,"
    " exit_code INTEGER NOT NULL, cost REAL NOT NULL,"
    " ckpt_from INTEGER REFERENCES attempts(id), ckpt_bytes REAL NOT NULL,"
    " ckpt_copy_s REAL NOT NULL, UNIQUE (job_id, n));"
    "CREATE TABLE nodes (attempt_id INTEGER NOT NULL REFERENCES attempts(id),"
    " rank INTEGER NOT NULL, state INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
    " started_at REAL NOT NULL, ended_at REAL NOT NULL,"
    " PRIMARY KEY (attempt_id, rank)) WITHOUT ROWID;"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, job_id INTEGER REFERENCES jobs(id),"
    " attempt_id INTEGER REFERENCES attempts(id), at REAL NOT NULL, type TEXT NOT NULL,"
    " from_state INTEGER NOT NULL, to_state INTEGER NOT NULL, msg TEXT);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id),"
    " attempt_id INTEGER REFERENCES attempts(id), path TEXT, bytes REAL NOT NULL,"
    " at REAL NOT NULL);"
    "CREATE TABLE requests (id INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL,"
    " arg TEXT, done INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE blocks (id INTEGER PRIMARY KEY, cloud TEXT, region TEXT, zone TEXT,"
    " instance_type TEXT, until REAL NOT NULL, reason TEXT);"
    "PRAGMA application_id = 1400140385;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

static void test_migrate_from_v1(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    struct store_job got;
    struct store_attempt att;
    struct store_request *v;
    char id[STORE_ID_LEN + 1];
    size_t n;

    raw_exec(f->path, schema_v1);
    raw_exec(f->path, "INSERT INTO jobs VALUES (1, 'old', 'p', 1, 'ml', 3, 2,"
                      " 'r', 10.5, 11, 0, 0, 0, 0, 1, NULL, 0, 2.5, 9.75, -1, 0);"
                      "INSERT INTO job_texts VALUES (1, 'name: old', NULL);"
                      "INSERT INTO attempts VALUES (1, 1, 1, 2, 'gcp', 'r', 'z', 't', 'A100',"
                      " 8, 1, 1, 2.5, 10, 11, 0, 0, -1, 4.5, NULL, 0, 0);"
                      "INSERT INTO requests (at, kind, arg) VALUES (12, 'cancel', '1');");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    OK(store_job_get(st, 1, &got, E));
    assert_string_equal(got.name, "old");
    assert_string_equal(got.team, "ml");
    assert_string_equal(got.spec_text, "name: old");
    assert_null(got.policy_text);
    assert_int_equal(got.state, JOB_RUNNING);
    assert_same_double(got.cost, 9.75);
    store_job_clear(&got);
    /* version 3's column reads 0 for an attempt written before it */
    OK(store_attempt_get(st, 1, &att, E));
    assert_same_double(att.cost, 4.5);
    assert_same_double(att.priced_at, 0);
    att.priced_at = 42.5;
    OK(store_attempt_update(st, &att, E));
    store_attempt_clear(&att);
    OK(store_attempt_get(st, 1, &att, E));
    assert_same_double(att.priced_at, 42.5);
    store_attempt_clear(&att);
    OK(store_request_take(st, &v, &n, E));
    assert_int_equal(n, 1);
    store_requests_free(v, n);
    assert_int_equal(add_job(st, "new", NULL, JOB_PENDING), 2);
    /* it gets an identity, marked legacy: its artefacts predate ids */
    assert_true(store_id_valid(store_id(st)));
    assert_int_equal(store_legacy_layout(st), 1);
    snprintf(id, sizeof(id), "%s", store_id(st));
    store_close(st);
    st = open_at(f->path);
    assert_string_equal(store_id(st), id);
    assert_int_equal(store_legacy_layout(st), 1);
    store_close(st);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SCHEMA_LATEST);
    assert_int_equal(raw_int(f->path,
                             "SELECT count(*) FROM sqlite_master WHERE type = "
                             "'index' AND name IN ('events_job', 'attempts_state')"),
                     2);
}

/* What versions 2 to 5 added to version 1, as a stratus of version 5 wrote
 * it (frozen, like schema_v1), with its identity row. */
static const char schema_v5_over_v1[] =
    "BEGIN;"
    "CREATE INDEX attempts_state ON attempts(state);"
    "CREATE INDEX events_job ON events(job_id, id);"
    "CREATE INDEX checkpoints_job ON checkpoints(job_id, id);"
    "CREATE INDEX requests_pending ON requests(id) WHERE done = 0;"
    "CREATE INDEX blocks_location ON blocks(cloud, region);"
    "CREATE INDEX blocks_until ON blocks(until);"
    "ALTER TABLE attempts ADD COLUMN priced_at REAL NOT NULL DEFAULT 0;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "ALTER TABLE attempts ADD COLUMN egress REAL NOT NULL DEFAULT 0;"
    "INSERT INTO meta VALUES ('store_id', '0123456789abcdef0123456789abcdef');"
    "PRAGMA user_version = 5;"
    "COMMIT;";

/* Version 5 to 6: tokens and settings appear, everything else stays (the
 * identity too: a store that had one is not marked legacy). */
static void test_migrate_from_v5(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    struct store_job got;
    struct store_cost_row *rows;
    struct store_token t = token_of("ci", "member", HASH_A, 5), tg;
    char *val;
    size_t n;

    raw_exec(f->path, schema_v1);
    raw_exec(f->path, schema_v5_over_v1);
    raw_exec(f->path, "INSERT INTO jobs VALUES (1, 'old', 'p', 1, 'ml', 3, 4,"
                      " 'r', 10.5, 11, 20, 0, 0, 0, 1, NULL, 0, 2.5, 9.75, 0, 0);"
                      "INSERT INTO attempts VALUES (1, 1, 1, 2, 'gcp', 'r', 'z', 't', 'A100',"
                      " 8, 1, 1, 2.5, 10, 11, 20, 1, 0, 9.75, NULL, 0, 0, 0, 1.5);");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 5);
    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    assert_string_equal(store_id(st), "0123456789abcdef0123456789abcdef");
    assert_int_equal(store_legacy_layout(st), 0);
    OK(store_job_get(st, 1, &got, E));
    assert_string_equal(got.name, "old");
    assert_same_double(got.cost, 9.75);
    /* schema 9: a job from before pipelines is in no group */
    assert_int_equal(got.group_id, 0);
    assert_int_equal(got.stage, 0);
    assert_int_equal(got.group_mode, 0);
    assert_null(got.group_name);
    store_job_clear(&got);
    OK(store_cost_report(st, "job", COST_NOW, &rows, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].key, "1");
    assert_float_equal(rows[0].egress_usd, 1.5, 1e-12);
    assert_float_equal(rows[0].compute_usd, 8.25, 1e-12);
    store_cost_rows_free(rows, n);
    OK(store_token_insert(st, &t, E));
    OK(store_setting_put(st, "policy", "p", E));
    store_close(st);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SCHEMA_LATEST);
    assert_int_equal(raw_int(f->path,
                             "SELECT count(*) FROM sqlite_master WHERE name IN ('tokens',"
                             " 'settings', 'tokens_hash', 'tokens_live_name')"),
                     4);
    st = open_at(f->path);
    OK(store_token_by_hash(st, HASH_A, &tg, E));
    assert_string_equal(tg.name, "ci");
    store_token_clear(&tg);
    OK(store_setting_get(st, "policy", &val, E));
    assert_string_equal(val, "p");
    free(val);
    store_close(st);
}

/* What version 6 added to version 5, as a stratus of version 6 wrote it
 * (frozen, like schema_v1). */
static const char schema_v6_over_v5[] =
    "BEGIN;"
    "CREATE TABLE tokens (id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,"
    " created_at REAL NOT NULL, revoked_at REAL);"
    "CREATE UNIQUE INDEX tokens_hash ON tokens(hash);"
    "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL;"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "PRAGMA user_version = 6;"
    "COMMIT;";

/* Version 6 to 7: services appear, the jobs there are stay plain jobs (no
 * service, version or port) and keep every field, and a replica can be added. */
static void test_migrate_from_v6(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    struct store_job got, *v;
    struct store_service s = full_service("llm"), gs;
    struct store_token tg;
    size_t n;
    int64_t r;

    raw_exec(f->path, schema_v1);
    raw_exec(f->path, schema_v5_over_v1);
    raw_exec(f->path, schema_v6_over_v5);
    raw_exec(f->path, "INSERT INTO jobs VALUES (1, 'old', 'p', 1, 'ml', 3, 2,"
                      " 'r', 10.5, 11, 0, 0, 0, 0, 1, NULL, 0, 2.5, 9.75, -1, 0);"
                      "INSERT INTO job_texts VALUES (1, 'name: old', NULL);"
                      "INSERT INTO tokens (name, role, hash, created_at)"
                      " VALUES ('ci', 'member', '" HASH_A "', 5);");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 6);
    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    assert_string_equal(store_id(st), "0123456789abcdef0123456789abcdef");
    OK(store_job_get(st, 1, &got, E));
    assert_string_equal(got.name, "old");
    assert_string_equal(got.spec_text, "name: old");
    assert_int_equal(got.state, JOB_RUNNING);
    assert_same_double(got.cost, 9.75);
    assert_int_equal(got.service_id, 0);
    assert_int_equal(got.svc_version, 0);
    assert_int_equal(got.port, 0);
    assert_int_equal(got.svc_mode, SVC_MODE_ANY);
    /* an update of an old job writes the new columns too */
    got.port = 8080;
    OK(store_job_update(st, &got, E));
    store_job_clear(&got);
    OK(store_token_by_hash(st, HASH_A, &tg, E));
    assert_string_equal(tg.name, "ci");
    store_token_clear(&tg);
    OK(store_service_insert(st, &s, E));
    r = add_replica(st, s.id, 1, 40001, JOB_PENDING);
    assert_int_equal(r, 2);
    store_close(st);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SCHEMA_LATEST);
    assert_int_equal(raw_int(f->path,
                             "SELECT count(*) FROM sqlite_master WHERE name IN ('services',"
                             " 'services_live_name', 'jobs_service')"),
                     3);
    st = open_at(f->path);
    OK(store_replica_list(st, s.id, 1, &v, &n, E));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, 2);
    assert_int_equal(v[0].port, 40001);
    store_jobs_free(v, n);
    OK(store_job_get(st, 1, &got, E));
    assert_int_equal(got.port, 8080);
    store_job_clear(&got);
    OK(store_service_find(st, "llm", &gs, E));
    assert_service_eq(&gs, &s);
    store_service_clear(&gs);
    store_close(st);
}

/* The partial index jobs_service serves a query of the shape of sqlite.c's
 * replica lists (which must say service_id <> 0: without it, SQLite cannot
 * use a partial index and would scan every job). */
static void test_replica_index_used(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    sqlite3 *db;
    sqlite3_stmt *stmt;
    char plan[512] = "";

    store_close(st);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE"
                                        " service_id = ?1 AND service_id <> 0 AND state < ?2"
                                        " ORDER BY id",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        size_t len = strlen(plan);

        snprintf(plan + len, sizeof(plan) - len, "%s;", sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (strstr(plan, "jobs_service") == NULL)
        fail_msg("replica list does not use jobs_service: %s", plan);
}

static void test_newer_version_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct err e;

    add_job(st, "x", NULL, JOB_PENDING);
    store_close(st);
    raw_exec(f->path, "PRAGMA user_version = 99");
    err_clear(&e);
    assert_int_equal(store_open(&st, f->path, &e), ST_ESTATE);
    assert_null(st);
    {
        char want[128];

        snprintf(want, sizeof(want),
                 "this database was written by a newer stratus (schema version 99; "
                 "this stratus knows up to %d)",
                 SCHEMA_LATEST);
        assert_non_null(strstr(e.msg, want));
    }
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 1); /* untouched */
}

/* Does an SQLite file's header say WAL (its bytes 18 and 19 are 2)? */
static int header_says_wal(const char *path)
{
    unsigned char h[20] = {0};
    FILE *fp = fopen(path, "rb");

    assert_non_null(fp);
    assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
    fclose(fp);
    return h[18] == 2 || h[19] == 2;
}

static void test_not_a_store(void **state)
{
    struct fixture *f = *state;
    char *text = xasprintf("%s/notes.txt", f->dir),
         *other = xasprintf("%s/other.db", f->dir);
    char *missing = xasprintf("%s/no/such/dir/stratus.db", f->dir);
    struct store *st;
    struct err e;

    tu_write(f->dir, "notes.txt",
             "these are notes, not a database.\n"
             "they are long enough to have a header's worth of bytes "
             "and then some more, to be sure of it.\n");
    err_clear(&e);
    assert_int_equal(store_open(&st, text, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "notes.txt: reading the schema version: file is not a database"));
    raw_exec(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
    assert_int_equal(chmod(other, 0644), 0);
    assert_int_equal(store_open(&st, other, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "other.db: not a stratus store"));
    assert_int_equal(file_mode(other), 0644); /* refused: left as it was */
    assert_int_equal(raw_int(other, "SELECT count(*) FROM sqlite_master"), 1);
    assert_false(header_says_wal(other)); /* not switched to WAL, nothing written */
    raw_exec(other, "PRAGMA user_version = 4");
    assert_int_equal(store_open(&st, other, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "not a stratus store"));
    assert_int_equal(store_open(&st, missing, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "stratus.db: cannot create the database: No such file"));
    assert_int_equal(store_open(&st, "", &e), ST_EINVAL);
    free(text);
    free(other);
    free(missing);
}

/* ":memory:" is a store of one handle, without a file. */
static void test_memory_store(void **state)
{
    struct store *st = open_at(":memory:");
    struct store_job got;
    int64_t id = add_job(st, "sim", NULL, JOB_PENDING);

    (void)state;
    OK(store_job_get(st, id, &got, E));
    assert_string_equal(got.name, "sim");
    store_job_clear(&got);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    store_close(st);
}

/* ---- identity, files and modes -------------------------------------------- */

/* Remove a store's files, as a user resetting it would (rm stratus.db*). */
static void unlink_store(const char *path)
{
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

/* The id is made with the database and kept by it: every handle and every
 * reopen sees the same one; a new database at the same path is a new store. */
static void test_identity(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_at(f->path), *b = open_at(f->path);
    char first[STORE_ID_LEN + 1];

    assert_true(store_id_valid(store_id(a)));
    assert_string_equal(store_id(a), store_id(b));
    assert_int_equal(store_legacy_layout(a), 0);
    snprintf(first, sizeof(first), "%s", store_id(a));
    add_job(a, "old", NULL, JOB_PENDING);
    store_close(a);
    store_close(b);
    a = open_at(f->path);
    assert_string_equal(store_id(a), first);
    store_close(a);
    if (f->pg)
        pg_reset(f->path);
    else
        unlink_store(f->path);
    a = open_at(f->path);
    assert_true(store_id_valid(store_id(a)));
    assert_string_not_equal(store_id(a), first);
    assert_int_equal(store_legacy_layout(a), 0);
    assert_int_equal(add_job(a, "new", NULL, JOB_PENDING), 1); /* ids restart */
    store_close(a);
}

/* Stores without a file are new at each open, with an id of their own. */
static void test_identity_in_memory(void **state)
{
    static const char *const paths[] = {"mem:", ":memory:"};
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct store *a = open_at(paths[i]), *b = open_at(paths[i]);

        assert_true(store_id_valid(store_id(a)));
        assert_true(store_id_valid(store_id(b)));
        assert_string_not_equal(store_id(a), store_id(b));
        assert_int_equal(store_legacy_layout(a), 0);
        store_close(a);
        store_close(b);
    }
    assert_false(store_id_valid("0123456789abcdef0123456789ABCDEF"));
    assert_false(store_id_valid("0123456789abcdef"));
    assert_false(store_id_valid(NULL));
}

/* A database whose id was removed or garbled is damaged: refused. */
static void test_identity_damaged(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct err e;

    store_close(st);
    raw_exec(f->path, "UPDATE meta SET value = 'xyz' WHERE key = 'store_id'");
    err_clear(&e);
    assert_int_equal(store_open(&st, f->path, &e), ST_EIO);
    assert_non_null(strstr(e.msg, f->pg ? ": damaged: the store's id"
                                        : "stratus.db: damaged: the store's id"));
    raw_exec(f->path, "DELETE FROM meta");
    assert_int_equal(store_open(&st, f->path, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "damaged"));
}

/* An empty file is never a store of ours (stratus makes a new one whole
 * before it appears under its name): refused, and left empty rather than
 * initialised as SQLite would. */
static void test_empty_file_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    struct err e;
    char *wal = xasprintf("%s-wal", f->path);

    tu_write(f->dir, "stratus.db", "");
    err_clear(&e);
    assert_int_equal(store_open(&st, f->path, &e), ST_EIO);
    assert_null(st);
    assert_non_null(strstr(e.msg, "stratus.db: the database file is empty (0 bytes)"));
    assert_non_null(strstr(e.msg, "delete it to start a new, empty store"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"), 0);
    assert_int_equal(file_mode(wal), -1);
    unlink(f->path);
    st = open_at(f->path); /* once removed, a new store is made */
    store_close(st);
    free(wal);
}

/* A new database beside the log of a deleted one would have that log
 * replayed into it: refused until the log is gone too. */
static void test_orphan_wal_refused(void **state)
{
    struct fixture *f = *state;
    char *wal = xasprintf("%s-wal", f->path);
    struct store *st = open_at(f->path);
    struct err e;

    add_job(st, "old", NULL, JOB_PENDING);
    store_close(st);
    tu_write(f->dir, "stratus.db-wal", "a log of a database that is gone");
    unlink(f->path);
    err_clear(&e);
    assert_int_equal(store_open(&st, f->path, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "stratus.db-wal exists but its database"));
    assert_int_equal(file_mode(f->path), -1);
    unlink(wal);
    st = open_at(f->path);
    store_close(st);
    free(wal);
}

/* The store and its -wal and -shm files are owner-only, whatever the
 * umask; a wider mode is narrowed on open. */
static void test_file_modes(void **state)
{
    struct fixture *f = *state;
    char *wal = xasprintf("%s-wal", f->path), *shm = xasprintf("%s-shm", f->path);
    mode_t saved = umask(022);
    struct store *st = open_at(f->path);

    add_job(st, "secret", NULL, JOB_PENDING);
    assert_int_equal(file_mode(f->path), 0600);
    assert_int_equal(file_mode(wal), 0600);
    assert_int_equal(file_mode(shm), 0600);
    store_close(st);
    assert_int_equal(chmod(f->path, 0644), 0);
    st = open_at(f->path);
    assert_int_equal(file_mode(f->path), 0600);
    assert_int_equal(file_mode(wal), 0600);
    store_close(st);
    umask(saved);
    free(wal);
    free(shm);
}

/* Several processes opening a store that does not exist yet, at once: one
 * of them creates it, every one opens that same store, and no temporary
 * file is left behind. */
static void test_concurrent_create(void **state)
{
    struct fixture *f = *state;
    enum { KIDS = 6 };
    char got[KIDS * (STORE_ID_LEN + 1) + 1];
    int gate[2], out[2], i, status;
    struct store *st;
    struct dirent *de;
    size_t n = 0;
    ssize_t r;
    DIR *d;

    assert_int_equal(pipe(gate), 0);
    assert_int_equal(pipe(out), 0);
    for (i = 0; i < KIDS; i++) {
        pid_t pid = fork();
        char c, *line;

        assert_true(pid >= 0);
        if (pid != 0)
            continue;
        close(gate[1]);
        close(out[0]);
        if (read(gate[0], &c, 1) != 0) /* 0 (end of file): the gate opened */
            _exit(1);
        st = open_at(f->path);
        line = xasprintf("%s\n", store_id(st)); /* one write, below PIPE_BUF */
        _exit(write(out[1], line, STORE_ID_LEN + 1) == STORE_ID_LEN + 1 ? 0 : 1);
    }
    close(gate[0]);
    close(out[1]);
    close(gate[1]); /* all of them go */
    while (n < sizeof(got) - 1 && (r = read(out[0], got + n, sizeof(got) - 1 - n)) > 0)
        n += (size_t)r;
    got[n] = '\0';
    close(out[0]);
    for (i = 0; i < KIDS; i++) {
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(n, KIDS * (STORE_ID_LEN + 1));
    st = open_at(f->path);
    for (i = 0; i < KIDS; i++)
        assert_memory_equal(got + i * (STORE_ID_LEN + 1), store_id(st), STORE_ID_LEN);
    store_close(st);
    d = opendir(f->dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".new-") != NULL)
            fail_msg("a temporary file was left behind: %s", de->d_name);
    closedir(d);
}

/* ---- paging ----------------------------------------------------------------- */

/* job_page and attempt_page: every record (terminal jobs and ended attempts
 * too) above an id, a page at a time, in id order. */
static void test_paging(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int states[] = {JOB_SUCCEEDED, JOB_PENDING, JOB_FAILED, JOB_RUNNING, JOB_CANCELLED};
    int64_t jobs[5], after = 0;
    struct store_job *jv;
    struct store_attempt *av;
    size_t i, n, seen = 0;

    for (i = 0; i < 5; i++)
        jobs[i] = add_job(st, "p", NULL, states[i]);
    for (i = 0; i < 7; i++) {
        struct store_attempt a = attempt_of(jobs[i % 5], (int)(i / 5) + 1, "gcp");

        a.state = i % 2 ? ATT_ENDED : ATT_RUNNING;
        OK(store_attempt_insert(st, &a, E));
    }
    do {
        OK(store_job_page(st, after, 2, &jv, &n, E));
        assert_true(n <= 2);
        for (i = 0; i < n; i++) {
            assert_int_equal(jv[i].id, jobs[seen + i]);
            assert_int_equal(jv[i].state, states[seen + i]);
        }
        seen += n;
        after = n ? jv[n - 1].id : after;
        store_jobs_free(jv, n);
    } while (n == 2);
    assert_int_equal(seen, 5);
    OK(store_job_page(st, jobs[4], 2, &jv, &n, E));
    assert_int_equal(n, 0);
    assert_null(jv);
    OK(store_job_page(st, 0, 0, &jv, &n, E)); /* 0 = no limit */
    assert_int_equal(n, 5);
    store_jobs_free(jv, n);
    {
        /* scans: newest first from the newest (after 0) or below a cursor;
         * active only either way (PENDING and RUNNING of the five) */
        struct store_job_scan q = {0, 1, 0, 2, 0};

        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 2);
        assert_int_equal(jv[0].id, jobs[4]);
        assert_int_equal(jv[1].id, jobs[3]);
        assert_non_null(jv[0].spec_text);
        store_jobs_free(jv, n);
        q.no_texts = 1; /* the same jobs, without their texts */
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 2);
        assert_int_equal(jv[0].id, jobs[4]);
        assert_int_equal(jv[0].state, states[4]);
        assert_null(jv[0].spec_text);
        assert_null(jv[1].policy_text);
        store_jobs_free(jv, n);
        q.no_texts = 0;
        q.after = jobs[3];
        q.limit = 0;
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 3);
        assert_int_equal(jv[0].id, jobs[2]);
        assert_int_equal(jv[2].id, jobs[0]);
        store_jobs_free(jv, n);
        q.active_only = 1;
        q.after = 0;
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 2);
        assert_int_equal(jv[0].id, jobs[3]);
        assert_int_equal(jv[0].state, JOB_RUNNING);
        assert_int_equal(jv[1].id, jobs[1]);
        store_jobs_free(jv, n);
        q.desc = 0;
        q.after = jobs[1];
        q.limit = 1;
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 1);
        assert_int_equal(jv[0].id, jobs[3]);
        store_jobs_free(jv, n);
        q.after = jobs[3];
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 0);
        q.desc = 1;
        q.after = jobs[0];
        OK(store_job_scan(st, &q, &jv, &n, E));
        assert_int_equal(n, 0);
    }

    OK(store_attempt_page(st, 0, 0, &av, &n, E));
    assert_int_equal(n, 7);
    after = av[2].id;
    for (i = 1; i < n; i++)
        assert_true(av[i].id > av[i - 1].id);
    store_attempts_free(av, n);
    OK(store_attempt_page(st, after, 3, &av, &n, E));
    assert_int_equal(n, 3);
    assert_int_equal(av[0].job_id, jobs[3]);
    assert_int_equal(av[2].job_id, jobs[0]);
    assert_int_equal(av[2].n, 2);
    assert_int_equal(av[0].state, ATT_ENDED);
    store_attempts_free(av, n);
    store_close(st);
}

/* ---- the two backends agree ------------------------------------------------- */

/* A seeded random walk of writes (transactions committed and rolled back,
 * constraint violations, upserts, blocks extended, requests taken) applied
 * to an SQLite file and to a "mem:" store: every call must return the same
 * code and every listing the same records. */
static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static char *pick(char *const *v, size_t n)
{
    return v[rnd((unsigned)n)];
}

#define PICK(v) pick((v), sizeof(v) / sizeof((v)[0]))

static char *const names[] = {"train", "eval", "serve", NULL};
static char *const teams[] = {"research", "infer", NULL};
static char *const clouds[] = {"azure", "gcp", "oci", NULL};
static char *const zones[] = {"", "z1", NULL};
static char *const texts[] = {"a", "bb", "rules: []\n", "tab\tback\\slash\r\n\\N", NULL};
static char *const msgs[] = {"placed", "preempted on gcp/r1", "", NULL};

static double rnd_time(void)
{
    return rnd(4) == 0 ? 0 : 1000.0 + rnd(100000) / 7.0;
}

static struct store_job random_job(int64_t nattempts)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.name = PICK(names);
    j.spec_path = PICK(texts);
    j.spec_text = PICK(texts);
    j.policy_text = PICK(texts);
    j.kind = (int)rnd(4);
    j.team = PICK(teams);
    j.priority = (int)rnd(5) - 2;
    j.state = (int)rnd(JOB__NSTATES);
    j.reason = PICK(msgs);
    j.submitted_at = rnd_time();
    j.started_at = rnd_time();
    j.ended_at = rnd_time();
    j.deadline_at = rnd_time();
    j.restarts = (int)rnd(3);
    j.nattempts = (int)rnd(3);
    /* now and then an attempt that does not exist */
    j.cur_attempt = rnd(3) == 0 ? 0 : (int64_t)rnd((unsigned)nattempts + 2);
    j.work_done_s = rnd_time();
    j.cost = rnd(1000) / 3.0;
    j.exit_code = (int)rnd(3) - 1;
    /* replicas of services that may exist (or not yet), and plain jobs */
    j.service_id = rnd(3) == 0 ? 0 : (int64_t)rnd(5);
    j.svc_version = (int)rnd(3);
    j.port = rnd(2) ? 0 : 40000 + (int)rnd(5);
    j.svc_mode = (int)rnd(3);
    return j;
}

static struct store_attempt random_attempt(int64_t njobs, int64_t nattempts)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.job_id = (int64_t)rnd((unsigned)njobs + 2);
    a.n = (int)rnd(4) + 1;
    a.state = (int)rnd(3);
    a.cloud = PICK(clouds);
    a.region = PICK(zones);
    a.zone = PICK(zones);
    a.instance_type = PICK(texts);
    a.accelerator = PICK(texts);
    a.acc_count = (int)rnd(9);
    a.nodes = (int)rnd(4) + 1;
    a.mode = (int)rnd(3);
    a.price_hour = rnd(10000) / 100.0;
    a.launched_at = rnd_time();
    a.running_at = rnd_time();
    a.ended_at = rnd_time();
    a.end_reason = (int)rnd(ATT_END__N);
    a.exit_code = (int)rnd(3) - 1;
    a.cost = rnd(10000) / 9.0;
    a.ckpt_from = rnd(2) ? 0 : (int64_t)rnd((unsigned)nattempts + 2);
    a.ckpt_bytes = rnd(100) * 1e9;
    a.priced_at = rnd_time();
    a.egress = rnd(3) == 0 ? rnd(1000) / 7.0 : 0;
    a.list_hour = rnd(3) == 0 ? rnd(1000) / 9.0 : 0;
    return a;
}

/* A token from few names and hashes: taken names and hashes come up. */
static void random_token_op(struct store *st[2], int *rx, int *ry, struct err *ex,
                            struct err *ey)
{
    static char *const tnames[] = {"ci", "alice", "bob"};
    static char *const hashes[] = {"h1", "h2", "h3", "h4", "h5", "h6", "h7"};
    static char *const roles[] = {"viewer", "member", "admin"};

    if (rnd(3) == 0) {
        int64_t id = (int64_t)rnd(8);
        double at = 1 + rnd(100);

        *rx = store_token_revoke(st[0], id, at, ex);
        *ry = store_token_revoke(st[1], id, at, ey);
    } else {
        struct store_token t[2];

        memset(&t[0], 0, sizeof(t[0]));
        t[0].name = PICK(tnames);
        t[0].role = PICK(roles);
        t[0].hash = PICK(hashes);
        t[0].created_at = rnd_time();
        t[1] = t[0];
        *rx = store_token_insert(st[0], &t[0], ex);
        *ry = store_token_insert(st[1], &t[1], ey);
        if (*rx == 0 && *ry == 0)
            assert_int_equal(t[0].id, t[1].id);
    }
}

static void random_secret_op(struct store *st[2], int *rx, int *ry, struct err *ex,
                             struct err *ey)
{
    static char *const steams[] = {"", "research", "infer"};
    static char *const snames[] = {"hf", "aws", "wandb", "HF_TOKEN"};
    static const char *const cts[] = {"c1", "c2", "c3"};
    char *team = PICK(steams), *name = PICK(snames);

    if (rnd(3) == 0) {
        *rx = store_secret_delete(st[0], team, name, ex);
        *ry = store_secret_delete(st[1], team, name, ey);
    } else {
        struct store_secret s = secret_of(team, name, cts[rnd(3)], rnd_time() + 1);

        *rx = store_secret_put(st[0], &s, ex);
        *ry = store_secret_put(st[1], &s, ey);
    }
}

static void compare_secrets(struct store *x, struct store *y)
{
    static const char *const steams[] = {"", "research", "infer"};
    struct store_secret *vx, *vy, gx, gy;
    size_t nx, ny, i, t;

    for (t = 0; t < 3; t++) {
        OK(store_secret_list(x, steams[t], &vx, &nx, E));
        OK(store_secret_list(y, steams[t], &vy, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            assert_string_equal(vx[i].name, vy[i].name);
            assert_same_double(vy[i].created_at, vx[i].created_at);
            assert_same_double(vy[i].updated_at, vx[i].updated_at);
            OK(store_secret_get(x, steams[t], vx[i].name, &gx, E));
            OK(store_secret_get(y, steams[t], vx[i].name, &gy, E));
            assert_int_equal(gx.ciphertext_len, gy.ciphertext_len);
            assert_memory_equal(gx.ciphertext, gy.ciphertext, gx.ciphertext_len);
            assert_int_equal(gx.nonce_len, gy.nonce_len);
            store_secret_clear(&gx);
            store_secret_clear(&gy);
        }
        store_secrets_free(vx, nx);
        store_secrets_free(vy, ny);
    }
}

static void compare_tokens_settings(struct store *x, struct store *y)
{
    static const char *const keys[] = {"policy", "other", "none"};
    struct store_token *tx, *ty;
    size_t nx, ny, i;
    int live;

    for (live = 0; live < 2; live++) {
        OK(store_token_list(x, live, &tx, &nx, E));
        OK(store_token_list(y, live, &ty, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            assert_int_equal(tx[i].id, ty[i].id);
            assert_string_equal(tx[i].name, ty[i].name);
            assert_string_equal(tx[i].role, ty[i].role);
            assert_string_equal(tx[i].hash, ty[i].hash);
            assert_same_double(ty[i].created_at, tx[i].created_at);
            assert_same_double(ty[i].revoked_at, tx[i].revoked_at);
        }
        store_tokens_free(tx, nx);
        store_tokens_free(ty, ny);
    }
    for (i = 0; i < 3; i++) {
        char *vx, *vy;

        OK(store_setting_get(x, keys[i], &vx, E));
        OK(store_setting_get(y, keys[i], &vy, E));
        assert_str_or_null(vy, vx);
        free(vx);
        free(vy);
    }
}

static void same_rc(int a, int b, const struct err *ea, const struct err *eb, const char *op,
                    int step)
{
    if (a != b)
        fail_msg("step %d, %s: sqlite returned %d (%s), mem %d (%s)", step, op, a,
                 a ? ea->msg : "", b, b ? eb->msg : "");
}

/* A service insert or update: two names, so that live names collide. */
static void random_service_op(struct store *st[2], int *rx, int *ry, struct err *ex,
                              struct err *ey)
{
    static char *const snames[] = {"llm", "chat"};
    struct store_service s[2];

    memset(&s[0], 0, sizeof(s[0]));
    s[0].name = PICK(snames);
    s[0].spec_path = PICK(texts);
    s[0].spec_text = "service: {}\n";
    s[0].policy_text = PICK(texts);
    s[0].version = (int)rnd(3) + 1;
    s[0].state = (int)rnd(SVC__NSTATES);
    s[0].reason = PICK(msgs);
    s[0].created_at = rnd_time();
    s[0].updated_at = rnd_time();
    s[0].ended_at = rnd(2) ? 0 : (double)(rnd(3) + 1); /* ties in find's order */
    s[0].target = (int)rnd(4);
    s[0].keys = rnd(2) ? NULL : "[\"h1\"]";
    s[1] = s[0];
    if (rnd(2)) {
        s[0].id = s[1].id = (int64_t)rnd(6);
        *rx = store_service_update(st[0], &s[0], ex);
        *ry = store_service_update(st[1], &s[1], ey);
    } else {
        *rx = store_service_insert(st[0], &s[0], ex);
        *ry = store_service_insert(st[1], &s[1], ey);
        if (*rx == 0 && *ry == 0)
            assert_int_equal(s[0].id, s[1].id);
    }
}

static void compare_service_lists(struct store *x, struct store *y)
{
    struct store_service *sx, *sy;
    size_t nx, ny, i;
    int live;

    for (live = 0; live < 2; live++) {
        OK(store_service_list(x, live, &sx, &nx, E));
        OK(store_service_list(y, live, &sy, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++)
            assert_service_eq(&sy[i], &sx[i]);
        store_services_free(sx, nx);
        store_services_free(sy, ny);
    }
}

/* Services, find by name, and every service's replica lists. */
static void compare_services(struct store *x, struct store *y)
{
    static const char *const snames[] = {"llm", "chat", "none"};
    struct store_service fx, fy;
    struct store_job *jx, *jy;
    size_t nx, ny, i;
    int64_t id;
    int active;

    compare_service_lists(x, y);
    for (i = 0; i < 3; i++) {
        struct err ex, ey;
        int rx = store_service_find(x, snames[i], &fx, &ex),
            ry = store_service_find(y, snames[i], &fy, &ey);

        same_rc(rx, ry, &ex, &ey, "find", (int)i);
        assert_int_equal(fx.id, fy.id);
        store_service_clear(&fx);
        store_service_clear(&fy);
    }
    for (id = 0; id < 6; id++)
        for (active = 0; active < 2; active++) {
            OK(store_replica_list(x, id, active, &jx, &nx, E));
            OK(store_replica_list(y, id, active, &jy, &ny, E));
            assert_int_equal(nx, ny);
            for (i = 0; i < nx; i++)
                assert_job_eq(&jy[i], &jx[i]);
            store_jobs_free(jx, nx);
            store_jobs_free(jy, ny);
        }
}

static void compare_stores(struct store *x, struct store *y, int step)
{
    struct store_job *jx, *jy;
    struct store_attempt *ax, *ay;
    struct store_event *ex, *ey;
    struct store_block *bx, *by;
    struct store_cost_row *cx, *cy;
    size_t nx, ny, i, k;
    const char *keys[] = {"cloud", "team", "job"};
    int active;

    for (active = 0; active < 2; active++) {
        OK(store_job_list(x, active, &jx, &nx, E));
        OK(store_job_list(y, active, &jy, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++)
            assert_job_eq(&jy[i], &jx[i]);
        store_jobs_free(jx, nx);
        store_jobs_free(jy, ny);
    }
    OK(store_job_list_after(x, step % 7, &jx, &nx, E));
    OK(store_job_list_after(y, step % 7, &jy, &ny, E));
    assert_int_equal(nx, ny);
    for (i = 0; i < nx; i++)
        assert_job_eq(&jy[i], &jx[i]);
    store_jobs_free(jx, nx);
    store_jobs_free(jy, ny);
    for (k = 0; k < 4; k++) {
        /* pages either way, all or active, from a cursor */
        struct store_job_scan q = {(int)(k & 1), (int)(k >> 1), step % 5,
                                   (size_t)(step % 4), step % 3 == 0};

        OK(store_job_scan(x, &q, &jx, &nx, E));
        OK(store_job_scan(y, &q, &jy, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++)
            assert_job_eq(&jy[i], &jx[i]);
        store_jobs_free(jx, nx);
        store_jobs_free(jy, ny);
    }
    for (k = 0; k < 3; k++) {
        /* every attempt, the live ones, and those of a few jobs */
        int64_t which = k == 0 ? -1 : k == 1 ? 0 : (int64_t)(step % 9) + 1;

        OK(store_attempt_list(x, which, &ax, &nx, E));
        OK(store_attempt_list(y, which, &ay, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            struct store_node *nvx, *nvy;
            size_t mx, my, r;

            assert_attempt_eq(&ay[i], &ax[i]);
            OK(store_node_list(x, ax[i].id, &nvx, &mx, E));
            OK(store_node_list(y, ax[i].id, &nvy, &my, E));
            assert_int_equal(mx, my);
            for (r = 0; r < mx; r++) {
                assert_int_equal(nvx[r].rank, nvy[r].rank);
                assert_int_equal(nvx[r].state, nvy[r].state);
                assert_int_equal(nvx[r].exit_code, nvy[r].exit_code);
                assert_same_double(nvy[r].started_at, nvx[r].started_at);
                assert_same_double(nvy[r].ended_at, nvx[r].ended_at);
            }
            free(nvx);
            free(nvy);
        }
        store_attempts_free(ax, nx);
        store_attempts_free(ay, ny);
    }
    for (k = 0; k < 3; k++) {
        int64_t job = k == 0 ? 0 : (int64_t)(step % 5) + (int64_t)k;
        int64_t after = (int64_t)(step % 4);

        OK(store_event_list(x, job, after, k == 2 ? 3 : 0, &ex, &nx, E));
        OK(store_event_list(y, job, after, k == 2 ? 3 : 0, &ey, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            assert_int_equal(ex[i].id, ey[i].id);
            assert_int_equal(ex[i].job_id, ey[i].job_id);
            assert_int_equal(ex[i].attempt_id, ey[i].attempt_id);
            assert_same_double(ey[i].at, ex[i].at);
            assert_string_equal(ex[i].type, ey[i].type);
            assert_int_equal(ex[i].from_state, ey[i].from_state);
            assert_int_equal(ex[i].to_state, ey[i].to_state);
            assert_str_or_null(ey[i].msg, ex[i].msg);
        }
        store_events_free(ex, nx);
        store_events_free(ey, ny);
    }
    for (k = 1; k < 4; k++) {
        struct store_checkpoint *kx, *ky;

        OK(store_checkpoint_list(x, (int64_t)k, &kx, &nx, E));
        OK(store_checkpoint_list(y, (int64_t)k, &ky, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            assert_int_equal(kx[i].id, ky[i].id);
            assert_int_equal(kx[i].attempt_id, ky[i].attempt_id);
            assert_str_or_null(ky[i].path, kx[i].path);
            assert_same_double(ky[i].bytes, kx[i].bytes);
        }
        store_checkpoints_free(kx, nx);
        store_checkpoints_free(ky, ny);
    }
    OK(store_block_list(x, 500.0 * (step % 5), &bx, &nx, E));
    OK(store_block_list(y, 500.0 * (step % 5), &by, &ny, E));
    assert_int_equal(nx, ny);
    for (i = 0; i < nx; i++) {
        assert_str_or_null(by[i].cloud, bx[i].cloud);
        assert_str_or_null(by[i].zone, bx[i].zone);
        assert_same_double(by[i].until, bx[i].until);
        assert_str_or_null(by[i].reason, bx[i].reason);
        assert_str_or_null(by[i].accelerator, bx[i].accelerator);
    }
    store_blocks_free(bx, nx);
    store_blocks_free(by, ny);
    for (k = 0; k < 3; k++) {
        OK(store_cost_report(x, keys[k], COST_NOW, &cx, &nx, E));
        OK(store_cost_report(y, keys[k], COST_NOW, &cy, &ny, E));
        assert_int_equal(nx, ny);
        for (i = 0; i < nx; i++) {
            assert_string_equal(cx[i].key, cy[i].key);
            assert_float_equal(cx[i].usd, cy[i].usd, 1e-6);
            assert_float_equal(cx[i].node_hours, cy[i].node_hours, 1e-6);
            assert_float_equal(cx[i].lost_node_hours, cy[i].lost_node_hours, 1e-6);
            assert_int_equal(cx[i].attempts, cy[i].attempts);
            assert_float_equal(cx[i].egress_usd, cy[i].egress_usd, 1e-6);
            assert_float_equal(cx[i].compute_usd, cy[i].compute_usd, 1e-6);
            assert_str_or_null(cy[i].name, cx[i].name);
        }
        store_cost_rows_free(cx, nx);
        store_cost_rows_free(cy, ny);
    }
    compare_tokens_settings(x, y);
    compare_services(x, y);
    compare_secrets(x, y);
}

/* The random walk of writes on st[0] (SQL) and st[1] (the in-memory
 * store), compared all along; ends outside any transaction. */
static void agree_walk(struct store *st[2])
{
    int64_t njobs = 0, natts = 0; /* as the SQLite store counts them */
    int step, in_tx = 0;

    rng_state = 0x9e3779b97f4a7c15ULL;
    for (step = 0; step < 2500; step++) {
        unsigned op = rnd(20);
        struct err ex, ey;
        int rx = 0, ry = 0;

        err_clear(&ex);
        err_clear(&ey);
        if (op == 0 && !in_tx) {
            rx = store_begin(st[0], &ex);
            ry = store_begin(st[1], &ey);
            in_tx = 1;
        } else if (op == 1 && in_tx) {
            if (rnd(2)) {
                rx = store_commit(st[0], &ex);
                ry = store_commit(st[1], &ey);
            } else {
                store_rollback(st[0]);
                store_rollback(st[1]);
            }
            in_tx = 0;
        } else if (op <= 3) {
            struct store_job j[2];

            j[0] = j[1] = random_job(natts);
            rx = store_job_insert(st[0], &j[0], &ex);
            ry = store_job_insert(st[1], &j[1], &ey);
            if (rx == 0 && ry == 0)
                assert_int_equal(j[0].id, j[1].id);
        } else if (op <= 5) {
            struct store_job j = random_job(natts);

            j.id = (int64_t)rnd((unsigned)njobs + 2);
            rx = store_job_update(st[0], &j, &ex);
            ry = store_job_update(st[1], &j, &ey);
        } else if (op <= 7) {
            struct store_attempt a[2];

            a[0] = a[1] = random_attempt(njobs, natts);
            rx = store_attempt_insert(st[0], &a[0], &ex);
            ry = store_attempt_insert(st[1], &a[1], &ey);
            if (rx == 0 && ry == 0)
                assert_int_equal(a[0].id, a[1].id);
        } else if (op == 8 && natts > 0) {
            struct store_attempt a = random_attempt(njobs, natts), cur;

            /* an attempt keeps its job and number */
            a.id = (int64_t)rnd((unsigned)natts) + 1;
            OK(store_attempt_get(st[0], a.id, &cur, E));
            a.job_id = cur.job_id;
            a.n = cur.n;
            store_attempt_clear(&cur);
            rx = store_attempt_update(st[0], &a, &ex);
            ry = store_attempt_update(st[1], &a, &ey);
        } else if (op == 9) {
            struct store_node nd = {(int64_t)rnd((unsigned)natts + 2), (int)rnd(4),
                                    (int)rnd(3), (int)rnd(3) - 1, rnd_time(), rnd_time()};

            rx = store_node_put(st[0], &nd, &ex);
            ry = store_node_put(st[1], &nd, &ey);
        } else if (op <= 11) {
            int64_t job = (int64_t)rnd((unsigned)njobs + 2), att = rnd(2) ? 0 : (int64_t)rnd((unsigned)natts + 2);
            int64_t ix = 0, iy = 0;
            const char *type = rnd(2) ? "state" : "launch", *msg = PICK(msgs);
            double at = rnd_time();

            rx = store_event_append(st[0], job, att, at, type, -1, 2, msg, &ix, &ex);
            ry = store_event_append(st[1], job, att, at, type, -1, 2, msg, &iy, &ey);
            assert_int_equal(ix, iy);
        } else if (op == 12) {
            int64_t job = (int64_t)rnd((unsigned)njobs + 2), att = (int64_t)rnd((unsigned)natts + 2);
            const char *path = PICK(texts);

            rx = store_checkpoint_add(st[0], job, att, path, 1e9, 5, &ex);
            ry = store_checkpoint_add(st[1], job, att, path, 1e9, 5, &ey);
        } else if (op == 13) {
            static char *const accs[] = {"", "T4", "V100", NULL};
            struct store_block bl = {PICK(clouds), "r1",       PICK(zones), "",
                                     rnd_time(),   PICK(msgs), PICK(accs)};

            rx = store_block_add(st[0], &bl, &ex);
            ry = store_block_add(st[1], &bl, &ey);
        } else if (op == 14) {
            const char *arg = PICK(texts);

            rx = store_request_add(st[0], "cancel", arg, 1, NULL, &ex);
            ry = store_request_add(st[1], "cancel", arg, 1, NULL, &ey);
        } else if (op == 15) {
            struct store_request *vx, *vy;
            size_t nx, ny, i;

            rx = store_request_take(st[0], &vx, &nx, &ex);
            ry = store_request_take(st[1], &vy, &ny, &ey);
            assert_int_equal(nx, ny);
            for (i = 0; i < nx; i++) {
                assert_int_equal(vx[i].id, vy[i].id);
                assert_str_or_null(vy[i].arg, vx[i].arg);
            }
            store_requests_free(vx, nx);
            store_requests_free(vy, ny);
        } else if (op == 16) {
            random_token_op(st, &rx, &ry, &ex, &ey);
        } else if (op == 17) {
            const char *key = rnd(2) ? "policy" : "other", *val = PICK(texts);

            rx = store_setting_put(st[0], key, val, &ex);
            ry = store_setting_put(st[1], key, val, &ey);
        } else if (op == 18) {
            random_service_op(st, &rx, &ry, &ex, &ey);
        } else if (op == 19) {
            random_secret_op(st, &rx, &ry, &ex, &ey);
        }
        same_rc(rx, ry, &ex, &ey, "write", step);
        /* count what SQLite holds now (ids restart after a rollback) */
        {
            struct store_job *v;
            struct store_attempt *a;
            size_t n;

            OK(store_job_page(st[0], 0, 0, &v, &n, E));
            njobs = (int64_t)n;
            store_jobs_free(v, n);
            OK(store_attempt_page(st[0], 0, 0, &a, &n, E));
            natts = (int64_t)n;
            store_attempts_free(a, n);
        }
        if (step % 25 == 0 || op == 1)
            compare_stores(st[0], st[1], step);
    }
    if (in_tx) {
        OK(store_commit(st[0], E));
        OK(store_commit(st[1], E));
    }
    compare_stores(st[0], st[1], step);
}

static void test_backends_agree(void **state)
{
    struct fixture *f = *state;
    struct store *st[2] = {open_at(f->path), open_at("mem:")};

    agree_walk(st);
    store_close(st[0]);
    store_close(st[1]);
}

/* store_migrate (migrate.c): the random walk on SQLite and the in-memory
 * store, the SQLite file copied into the empty PostgreSQL database: it then
 * holds every record the in-memory store holds, ids and store id included,
 * and numbers on after them; a second copy into it is refused. */
static void test_migrate_agrees(void **state)
{
    struct fixture *f = *state;
    char *file = xasprintf("%s/stratus.db", f->dir), sid[STORE_ID_LEN + 1];
    struct store *st[2] = {open_at(file), open_at("mem:")}, *pg;
    struct store_data_replica d = copy_of("corpus", "gcp", "us-central1", 20), *dx, *dy;
    struct store_migrate_report r;
    struct store_job jp, jm;
    size_t nx, ny, i;
    struct err e;

    agree_walk(st);
    OK(store_data_put(st[0], &d, E));
    OK(store_data_put(st[1], &d, E));
    memcpy(sid, store_id(st[0]), sizeof(sid));
    store_close(st[0]);
    OK(store_migrate(file, f->path, 1, &r, E)); /* dry: nothing written */
    assert_int_equal(pg_raw_int(f->path, "SELECT count(*) FROM pg_tables WHERE"
                                         " schemaname = 'public'"), 0);
    OK(store_migrate(file, f->path, 0, &r, E));
    assert_string_equal(r.store_id, sid);
    assert_int_equal(r.schema_version, SCHEMA_LATEST);
    pg = open_at(f->path);
    assert_string_equal(store_id(pg), sid);
    compare_stores(pg, st[1], 0);
    OK(store_data_list(pg, NULL, 0, &dx, &nx, E));
    OK(store_data_list(st[1], NULL, 0, &dy, &ny, E));
    assert_int_equal(nx, ny);
    for (i = 0; i < nx; i++) {
        assert_string_equal(dx[i].dataset, dy[i].dataset);
        assert_same_double(dx[i].egress, dy[i].egress);
        assert_int_equal(dx[i].attempt_id, dy[i].attempt_id);
    }
    store_data_replicas_free(dx, nx);
    store_data_replicas_free(dy, ny);
    /* ids go on after the copied ones, as in the stores it came from */
    jp = jm = random_job(0);
    OK(store_job_insert(pg, &jp, E));
    OK(store_job_insert(st[1], &jm, E));
    assert_int_equal(jp.id, jm.id);
    store_close(pg);
    store_close(st[1]);
    err_clear(&e);
    assert_int_equal(store_migrate(file, f->path, 0, &r, &e), ST_ESTATE);
    assert_non_null(strstr(e.msg, "the database is not empty"));
    free(file);
}

/* ---- PostgreSQL without a server ----------------------------------------------- */

/* A server that does not answer: a clear error naming the connection
 * string without its password, saying what to do. */
static void test_pg_unreachable(void **state)
{
    struct store *st = NULL;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(store_open(&st, "postgresql://ada:s3cret@127.0.0.1:1/stratus", &e),
                     ST_EIO);
    assert_null(st);
    assert_non_null(strstr(e.msg, "postgresql://ada@127.0.0.1:1/stratus: cannot connect "
                                  "to PostgreSQL: "));
    assert_non_null(strstr(e.msg, "scripts/postgres-local.sh"));
    assert_null(strstr(e.msg, "s3cret"));
    err_clear(&e);
    assert_int_equal(store_open(&st, "postgres://127.0.0.1:1/x?password=s3cret", &e),
                     ST_EIO);
    assert_non_null(strstr(e.msg, "postgres://127.0.0.1:1/x?password=***: cannot"));
    assert_null(strstr(e.msg, "s3cret"));
}

/* PostgreSQL ended the connection (restarted, a network cut) inside a
 * transaction: the rest of the transaction fails and nothing of it is
 * stored; the handle then connects again and works on. */
static void test_pg_connection_lost(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_job j = job_of("lost", NULL, JOB_PENDING), *v;
    size_t n;
    struct err e;

    add_job(st, "before", NULL, JOB_PENDING);
    OK(store_begin(st, E));
    add_job(st, "in the transaction", NULL, JOB_PENDING);
    raw_exec(f->path, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                      " WHERE application_name = 'stratus' AND pid <> pg_backend_pid()");
    err_clear(&e);
    assert_int_not_equal(store_job_insert(st, &j, &e), 0);
    assert_non_null(strstr(e.msg, "adding a job: "));
    assert_int_equal(store_event_append(st, 1, 0, 1, "x", -1, -1, NULL, NULL, &e),
                     ST_ESTATE);
    assert_non_null(strstr(e.msg, "appending an event: the transaction was rolled back"));
    assert_int_equal(store_commit(st, &e), ST_ESTATE);
    OK(store_job_list(st, 0, &v, &n, E)); /* connected again */
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "before");
    store_jobs_free(v, n);
    assert_int_equal(add_job(st, "after", NULL, JOB_PENDING), 2);
    /* and outside a transaction, a lost connection is made again at once */
    raw_exec(f->path, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                      " WHERE application_name = 'stratus' AND pid <> pg_backend_pid()");
    assert_int_equal(add_job(st, "after a second loss", NULL, JOB_PENDING), 3);
    store_close(st);
}

/* PostgreSQL's schema versions: a store one step behind is migrated on
 * open (its version row follows), a newer one is refused, and so is a
 * schema holding another program's tables (left as it was). */
static void test_pg_versions(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    struct store_data_replica r, *v;
    char id[STORE_ID_LEN + 1];
    size_t n;
    struct err e;

    snprintf(id, sizeof(id), "%s", store_id(st));
    add_job(st, "kept", NULL, JOB_PENDING);
    store_close(st);
    /* back to version 11: as a stratus of that version left it */
    raw_exec(f->path,
             "ALTER TABLE attempts DROP COLUMN backfill_spot; DROP TABLE data_replicas;"
             "ALTER TABLE attempts DROP COLUMN list_hour;"
             "DROP TABLE data_replicas_past; ALTER TABLE blocks DROP COLUMN accelerator;"
             "UPDATE meta SET value = '11' WHERE key = 'schema_version'");
    st = open_at(f->path);
    assert_int_equal(store_schema_version(st), SCHEMA_LATEST);
    assert_string_equal(store_id(st), id);
    memset(&r, 0, sizeof(r));
    r.dataset = "d";
    r.cloud = "gcp";
    r.region = "r1";
    OK(store_data_put(st, &r, E));
    OK(store_data_list(st, NULL, 0, &v, &n, E));
    assert_int_equal(n, 1);
    store_data_replicas_free(v, n);
    store_close(st);
    assert_int_equal(raw_int(f->path, "SELECT value::int FROM meta WHERE key = 'schema_version'"),
                     SCHEMA_LATEST);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 1);
    /* a newer stratus' store */
    raw_exec(f->path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    err_clear(&e);
    assert_int_equal(store_open(&st, f->path, &e), ST_ESTATE);
    assert_non_null(strstr(e.msg, "written by a newer stratus (schema version 99"));
    /* another program's tables */
    pg_reset(f->path);
    raw_exec(f->path, "CREATE TABLE customers (id int)");
    assert_int_equal(store_open(&st, f->path, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "not a stratus store"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pg_tables WHERE"
                                      " schemaname = 'public'"),
                     1);
}

/* ---- names ------------------------------------------------------------------ */

static void test_names(void **state)
{
    int s;

    (void)state;
    assert_string_equal(job_state_name(JOB_PENDING), "PENDING");
    assert_string_equal(job_state_name(JOB_CANCELLED), "CANCELLED");
    assert_string_equal(job_state_name(JOB__NSTATES), "?");
    assert_string_equal(job_state_name(-1), "?");
    for (s = 0; s < JOB__NSTATES; s++)
        assert_int_equal(job_state_parse(job_state_name(s)), s);
    assert_int_equal(job_state_parse("recovering"), JOB_RECOVERING);
    assert_int_equal(job_state_parse("DONE"), -1);
    assert_int_equal(job_state_parse(NULL), -1);
    assert_false(job_state_terminal(JOB_RECOVERING));
    assert_true(job_state_terminal(JOB_SUCCEEDED));
    assert_true(job_state_terminal(JOB_FAILED));
    assert_true(job_state_terminal(JOB_CANCELLED));
    assert_false(job_state_terminal(JOB__NSTATES));
    assert_string_equal(attempt_end_name(ATT_END_PREEMPTED), "preempted");
    assert_string_equal(attempt_end_name(ATT_END_LOST), "lost");
    assert_string_equal(attempt_end_name(ATT_END__N), "?");
}


/* ---- leadership: the lease, the fence, notifications (docs/ha.md) ---------- */

/* Take the lease for holder on st until it is held (the other's lapsed):
 * waits for a state, bounded, not for a time. */
static int64_t take_when_lapsed(struct store *st, const char *holder, double ttl)
{
    struct store_lease l;
    int held = 0, i;

    for (i = 0; i < 2000 && !held; i++) {
        OK(store_lease_take(st, holder, "http://x", ttl, &held, &l, E));
        if (!held)
            usleep(10000);
    }
    assert_true(held);
    assert_string_equal(l.holder, holder);
    return l.epoch;
}

/* One holder at a time; renewing keeps the epoch; a lapsed lease goes to
 * the next with the next epoch, and the deposed holder's writes fail with
 * ST_EFENCED and store nothing; giving it up hands it over at once. */
static void test_pg_lease_fence(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_at(f->path), *b = open_at(f->path);
    struct store_lease l;
    struct store_job j = job_of("late", NULL, JOB_PENDING), *v;
    size_t n;
    int held;
    struct err e;

    assert_true(store_shared(a));
    OK(store_lease_get(a, &l, E));
    assert_string_equal(l.holder, "");
    OK(store_lease_take(a, "a", "http://a:1", 0.3, &held, &l, E));
    assert_true(held);
    assert_int_equal(l.epoch, 1);
    assert_string_equal(l.url, "http://a:1");
    assert_int_equal(store_fence_epoch(a), 1);
    OK(store_lease_take(b, "b", "http://b:1", 0.3, &held, &l, E));
    assert_false(held);
    assert_string_equal(l.holder, "a");
    assert_int_equal(store_fence_epoch(b), 0);
    OK(store_lease_take(a, "a", "http://a:1", 0.3, &held, &l, E)); /* a renewal */
    assert_true(held);
    assert_int_equal(l.epoch, 1);
    add_job(a, "by-a", NULL, JOB_PENDING);

    /* a stops renewing: b takes it at epoch 2; a can commit nothing more */
    assert_int_equal(take_when_lapsed(b, "b", 30), 2);
    err_clear(&e);
    assert_int_equal(store_job_insert(a, &j, &e), ST_EFENCED);
    assert_non_null(strstr(e.msg, "no longer the leader"));
    err_clear(&e);
    assert_int_equal(store_begin(a, &e), ST_EFENCED);
    OK(store_lease_take(a, "a", "http://a:1", 0.3, &held, &l, E));
    assert_false(held);
    assert_string_equal(l.holder, "b");
    assert_int_equal(l.epoch, 2);
    add_job(b, "by-b", NULL, JOB_PENDING);
    OK(store_job_list(b, 0, &v, &n, E));
    assert_int_equal(n, 2); /* "late" is not there */
    assert_string_equal(v[0].name, "by-a");
    assert_string_equal(v[1].name, "by-b");
    store_jobs_free(v, n);

    /* b gives it up: a takes it at once, at epoch 3, and b writes no more */
    OK(store_lease_drop(b, "b", E));
    OK(store_lease_take(a, "a", "http://a:1", 30, &held, &l, E));
    assert_true(held);
    assert_int_equal(l.epoch, 3);
    add_job(a, "by-a-again", NULL, JOB_PENDING);
    err_clear(&e);
    assert_int_equal(store_job_insert(b, &j, &e), ST_EFENCED);
    store_close(a);
    store_close(b);
}

/* Wait, watching through st, until the lease has at most `left` seconds to
 * run (st must not hold it: its own reads would renew it). */
static void lease_runs_down(struct store *st, double left)
{
    struct store_lease l;

    for (;;) {
        OK(store_lease_get(st, &l, E));
        if (l.expires_in < left)
            return;
        usleep(20000);
    }
}

/* A leader at work keeps its lease: a statement of its handle outside a
 * transaction, a quarter of the lease after the last renewal, renews it
 * (a resume or a step that outlasts the lease on a loaded machine does not
 * hand it over).  A handle that no longer holds it renews nothing. */
static void test_pg_lease_kept_by_work(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_at(f->path), *b = open_at(f->path);
    struct store_lease l;
    struct store_job *v;
    size_t n;
    int held;

    OK(store_lease_take(a, "a", "", 4, &held, &l, E));
    assert_true(held);
    lease_runs_down(b, 2.5);             /* past a quarter (1 s) */
    OK(store_job_list(a, 0, &v, &n, E)); /* a's work: it renews first */
    store_jobs_free(v, n);
    OK(store_lease_get(b, &l, E));
    assert_string_equal(l.holder, "a");
    assert_int_equal(l.epoch, 1);
    assert_true(l.expires_in > 2.5);
    assert_true(l.age < 1);

    /* given up and taken by b: a's reads leave b's lease as it is */
    OK(store_lease_drop(a, "a", E));
    OK(store_lease_take(b, "b", "", 4, &held, &l, E));
    assert_true(held);
    assert_int_equal(l.epoch, 2);
    lease_runs_down(a, 2.5);
    OK(store_job_list(a, 0, &v, &n, E));
    store_jobs_free(v, n);
    OK(store_lease_get(a, &l, E));
    assert_string_equal(l.holder, "b");
    assert_true(l.expires_in < 2.5);
    store_close(a);
    store_close(b);
}

/* A take in another thread: how it ended. */
struct take_arg {
    struct store *st;
    int rc, held;
    struct store_lease l;
};

static void *take_in_thread(void *arg)
{
    struct take_arg *t = arg;
    struct err e;

    err_clear(&e);
    t->rc = store_lease_take(t->st, "b", "", 30, &t->held, &t->l, &e);
    return NULL;
}

/* A leader's transaction that outlasts its lease, with a follower's take
 * queued behind the lease's row: the commit renews the lease in the same
 * transaction (no deadlock with the queued take), so the take finds it
 * still the leader's. */
static void test_pg_lease_renewed_in_tx(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_at(f->path), *b = open_at(f->path), *c = open_at(f->path);
    struct take_arg t;
    struct store_lease l;
    PGconn *watch = pg_raw_connect(f->path);
    PGresult *res;
    pthread_t th;
    int held, waiting = 0, i;

    memset(&t, 0, sizeof(t));
    t.st = b;
    t.rc = -1;
    assert_int_equal(PQstatus(watch), CONNECTION_OK);
    OK(store_lease_take(a, "a", "", 4, &held, &l, E));
    assert_true(held);
    OK(store_lease_get(b, &l, E));
    OK(store_lease_get(c, &l, E));
    OK(store_begin(a, E));
    /* a works in one transaction until its lease has lapsed (a statement
     * every 0.1 s: PostgreSQL ends a transaction idle for the lease) */
    do {
        add_job(a, "long", NULL, JOB_PENDING);
        OK(store_lease_get(c, &l, E));
        if (l.expires_in >= 0)
            usleep(100000);
    } while (l.expires_in >= 0);
    assert_int_equal(pthread_create(&th, NULL, take_in_thread, &t), 0);
    for (i = 0; i < 3000 && !waiting; i++) { /* b's take waits on the row */
        res = PQexec(watch, "SELECT count(*) FROM pg_locks WHERE NOT granted");
        waiting =
            PQresultStatus(res) == PGRES_TUPLES_OK && atoi(PQgetvalue(res, 0, 0)) > 0;
        PQclear(res);
        if (!waiting)
            usleep(1000);
    }
    assert_true(waiting);
    OK(store_commit(a, E));
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.rc, 0);
    assert_false(t.held);
    assert_string_equal(t.l.holder, "a");
    assert_int_equal(t.l.epoch, 1);
    PQfinish(watch);
    store_close(a);
    store_close(b);
    store_close(c);
}

/* A take waits for a write of the old holder in progress (the lease's row
 * lock), and when the wait runs out it is not taken, not an error: the old
 * epoch's commit comes first, then the new epoch starts. */
static void test_pg_lease_orders_commits(void **state)
{
    struct fixture *f = *state;
    int saved = store_lock_wait_ms;
    struct store *a, *b;
    struct store_lease l;
    struct store_job *v;
    size_t n;
    int held;

    store_lock_wait_ms = 100;
    a = open_at(f->path);
    b = open_at(f->path);
    store_lock_wait_ms = saved;
    OK(store_lease_take(a, "a", "", 1, &held, &l, E));
    assert_true(held);
    OK(store_begin(a, E)); /* holds the row FOR SHARE from here */
    add_job(a, "in-flight", NULL, JOB_PENDING);
    /* however long a's lease has lapsed, b cannot take it while a's
     * transaction holds the row: its take waits, then answers "a holds it"
     * (lapsed), not a store error.  a reads on in its transaction, so that
     * PostgreSQL does not cut it off as idle (after the lease's 1 s). */
    do {
        OK(store_job_list(a, 0, &v, &n, E));
        store_jobs_free(v, n);
        held = 0;
        OK(store_lease_take(b, "b", "", 30, &held, &l, E));
        assert_false(held);
        assert_string_equal(l.holder, "a");
    } while (l.expires_in > 0);
    assert_int_equal(l.epoch, 1);
    OK(store_commit(a, E)); /* the old epoch's write is stored ... */
    assert_int_equal(take_when_lapsed(b, "b", 30), 2); /* ... then b leads */
    OK(store_job_list(b, 0, &v, &n, E));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "in-flight");
    store_jobs_free(v, n);
    store_close(a);
    store_close(b);
}

/* NOTIFY from one handle reaches another's LISTEN, not its own. */
static void test_pg_notify(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_at(f->path), *b = open_at(f->path);
    struct pollfd pfd;
    int fa, fb, got = 0, renewed, i, r;
    struct err e;

    OK(store_listen(a, &fa, E));
    OK(store_listen(b, &fb, E));
    assert_true(fa >= 0 && fb >= 0);
    OK(store_notify(a, E));
    for (i = 0; i < 100 && got == 0; i++) {
        pfd.fd = fb;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 100) > 0) {
            OK((r = store_listen_read(b, &fb, &renewed, E)) < 0);
            got += r;
        }
    }
    assert_int_equal(got, 1);
    err_clear(&e);
    assert_int_equal(store_listen_read(a, &fa, &renewed, &e), 0); /* its own: not counted */
    store_close(a);
    store_close(b);
}

/* A store one server owns has no lease. */
static void test_lease_sqlite(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_at(f->path);
    int held = 1, fd;
    struct err e;

    assert_false(store_shared(st));
    err_clear(&e);
    assert_int_equal(store_lease_take(st, "a", "", 1, &held, NULL, &e), ST_EINVAL);
    assert_false(held);
    assert_int_equal(store_listen(st, &fd, &e), ST_EINVAL);
    assert_int_equal(store_fence_epoch(st), 0);
    store_close(st);
}

/* An attempt's compute within a window (the month report, the dashboard's
 * series): 2 nodes from t=0, $10/node-h until 10 h ($200, in cost), then
 * $4/node-h (covered in part by a commitment) until 20 h ($80): the window
 * [5 h, 15 h) holds half the first stretch and half the second, $140, where
 * spreading the $280 evenly said $140 only by chance; [10 h, 20 h) holds
 * $80 (evenly: $140).  A live attempt counts to now; its data move is in
 * no window. */
static void test_attempt_compute_in(void **state)
{
    const double h = 3600;
    struct store_attempt a;
    double p0, before, last;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.nodes = 2;
    a.running_at = 1000;
    a.priced_at = 1000 + 10 * h;
    a.price_hour = 4;
    a.cost = 200 + 80 + 7; /* ended: all of it, with $7 of egress */
    a.egress = 7;
    a.state = ATT_ENDED;
    a.ended_at = 1000 + 20 * h;
    store_attempt_split(&a, 0, &p0, &before, &last);
    assert_true(p0 == a.priced_at);
    assert_float_equal(before, 200, 1e-9);
    assert_float_equal(last, 80, 1e-9);
    assert_float_equal(store_attempt_compute_in(&a, 0, 1000 + 5 * h, 1000 + 15 * h), 140,
                       1e-9);
    assert_float_equal(store_attempt_compute_in(&a, 0, 1000 + 10 * h, 1000 + 20 * h), 80,
                       1e-9);
    assert_float_equal(store_attempt_compute_in(&a, 0, 0, 1e12), 280, 1e-9);
    assert_float_equal(store_attempt_compute_in(&a, 0, 1000 + 20 * h, 1e12), 0, 0);
    /* live at 15 h: cost holds the first stretch; the second to now */
    a.state = ATT_RUNNING;
    a.ended_at = 0;
    a.cost = 200;
    assert_float_equal(store_attempt_compute_in(&a, 1000 + 15 * h, 1000 + 10 * h, 1e12),
                       40, 1e-9);
    assert_float_equal(store_attempt_compute_in(&a, 1000 + 15 * h, 0, 1000 + 5 * h), 100,
                       1e-9);
    /* one price all along: spread evenly */
    a.priced_at = 0;
    a.price_hour = 10;
    a.cost = 0;
    assert_float_equal(store_attempt_compute_in(&a, 1000 + 15 * h, 1000 + 5 * h, 1e12),
                       200, 1e-9);
    /* a row whose cost is below its last stretch (written by hand:
     * helper-99): no window goes negative, the whole is what there is */
    a.state = ATT_ENDED;
    a.ended_at = 1000 + 20 * h;
    a.priced_at = 1000 + 10 * h;
    a.price_hour = 4;
    a.cost = 30;
    a.egress = 0;
    assert_float_equal(store_attempt_compute_in(&a, 0, 0, 1000 + 10 * h), 0, 0);
    assert_float_equal(store_attempt_compute_in(&a, 0, 1000 + 10 * h, 1e12), 30, 1e-9);
    /* never ran: nothing */
    a.running_at = 0;
    assert_float_equal(store_attempt_compute_in(&a, 1000 + 15 * h, 0, 1e12), 0, 0);
    /* an end before the last reprice (the exit seen after it): the cost to
     * the reprice prorated, not all of it ($200 over 10 h: $100 at 5 h) */
    a.running_at = 1000;
    a.priced_at = 1000 + 10 * h;
    a.cost = 200;
    assert_float_equal(store_attempt_cost_at(&a, 1000 + 5 * h), 100, 1e-9);
    assert_float_equal(store_attempt_cost_at(&a, 1000 + 10 * h), 200, 1e-9);
    assert_float_equal(store_attempt_cost_at(&a, 1000 + 11 * h), 200 + 2 * 4, 1e-9);
    assert_float_equal(store_attempt_cost_at(&a, 1000), 0, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define M(fn) cmocka_unit_test_setup_teardown(fn, setup_mem, teardown)
#define P(fn) cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_lease_sqlite),
        T(test_job_roundtrip),
        T(test_job_missing),
        T(test_job_list_active),
        T(test_int64_ids),
        T(test_attempt_roundtrip),
        T(test_attempt_list),
        T(test_attempt_integrity),
        T(test_nodes),
        T(test_events),
        T(test_checkpoints),
        T(test_requests_taken_once),
        T(test_blocks),
        T(test_cost_report),
        T(test_cost_by_job_order),
        T(test_tokens),
        T(test_settings),
        T(test_fault_tokens),
        T(test_service_roundtrip),
        T(test_service_args),
        T(test_service_names),
        T(test_replicas),
        T(test_replicas_rollback),
        T(test_fault_services),
        T(test_secrets),
        T(test_secrets_rollback),
        T(test_fault_secrets),
        T(test_data_replicas),
        T(test_data_rollback),
        T(test_migrate_data_from_v13),
        T(test_rollback_discards),
        T(test_lost_transaction),
        T(test_reopen_keeps_everything),
        T(test_two_handles),
        T(test_killed_writer),
        T(test_lock_timeout),
        T(test_migrate_from_v1),
        T(test_migrate_from_v5),
        T(test_migrate_from_v6),
        T(test_replica_index_used),
        T(test_newer_version_refused),
        T(test_not_a_store),
        cmocka_unit_test(test_memory_store),
        cmocka_unit_test(test_attempt_compute_in),
        T(test_identity),
        cmocka_unit_test(test_identity_in_memory),
        T(test_identity_damaged),
        T(test_empty_file_refused),
        T(test_orphan_wal_refused),
        T(test_file_modes),
        T(test_concurrent_create),
        cmocka_unit_test(test_names),
        T(test_paging),
        /* the in-memory backend keeps the same contract */
        M(test_job_roundtrip),
        M(test_job_missing),
        M(test_job_list_active),
        M(test_attempt_roundtrip),
        M(test_attempt_list),
        M(test_attempt_integrity),
        M(test_nodes),
        M(test_events),
        M(test_checkpoints),
        M(test_requests_taken_once),
        M(test_blocks),
        M(test_cost_report),
        M(test_cost_by_job_order),
        M(test_tokens),
        M(test_settings),
        M(test_fault_tokens),
        M(test_service_roundtrip),
        M(test_service_args),
        M(test_service_names),
        M(test_replicas),
        M(test_replicas_rollback),
        M(test_fault_services),
        M(test_secrets),
        M(test_secrets_rollback),
        M(test_fault_secrets),
        M(test_data_replicas),
        M(test_data_rollback),
        M(test_rollback_discards),
        M(test_paging),
        T(test_backends_agree),
        cmocka_unit_test(test_pg_unreachable),
    };
    /* PostgreSQL keeps the same contract (STRATUS_TEST_PG: a database) */
    const struct CMUnitTest pg_tests[] = {
        P(test_job_roundtrip),
        P(test_job_missing),
        P(test_job_list_active),
        P(test_int64_ids),
        P(test_attempt_roundtrip),
        P(test_attempt_list),
        P(test_attempt_integrity),
        P(test_nodes),
        P(test_events),
        P(test_checkpoints),
        P(test_requests_taken_once),
        P(test_blocks),
        P(test_cost_report),
        P(test_cost_by_job_order),
        P(test_tokens),
        P(test_settings),
        P(test_fault_tokens),
        P(test_service_roundtrip),
        P(test_service_args),
        P(test_service_names),
        P(test_replicas),
        P(test_replicas_rollback),
        P(test_fault_services),
        P(test_secrets),
        P(test_secrets_rollback),
        P(test_fault_secrets),
        P(test_data_replicas),
        P(test_data_rollback),
        P(test_migrate_data_from_v13),
        P(test_rollback_discards),
        P(test_reopen_keeps_everything),
        P(test_two_handles),
        P(test_killed_writer),
        P(test_lock_timeout),
        P(test_identity),
        P(test_identity_damaged),
        P(test_concurrent_create),
        P(test_paging),
        P(test_backends_agree),
        P(test_migrate_agrees),
        P(test_pg_connection_lost),
        P(test_pg_versions),
        P(test_pg_lease_fence),
        P(test_pg_lease_kept_by_work),
        P(test_pg_lease_renewed_in_tx),
        P(test_pg_lease_orders_commits),
        P(test_pg_notify),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    const char *pg = getenv("STRATUS_TEST_PG");

    if (pg != NULL && pg[0] != '\0')
        failed += cmocka_run_group_tests_name("postgres", pg_tests, NULL, NULL);
    return failed;
}
