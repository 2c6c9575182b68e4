/*
 * pgstore.c - the PostgreSQL backend of the store (struct store_ops
 * store_pg), chosen by a connection string: "postgresql://..." or
 * "postgres://..." (libpq's URI form; docs/postgres.md).  Every libpq call
 * and every PostgreSQL SQL text of Stratus lives in this file (but
 * migrate.c's, which copies a SQLite store's tables whole); the record
 * types' column lists and the walks over their fields are rows.c's, shared
 * with the SQLite backend.
 *
 * Layout:
 *   1. the schema: the SQLite backend's migrations translated (BIGINT for
 *      INTEGER, DOUBLE PRECISION for REAL, BYTEA for BLOB), step for step,
 *      so a version number means the same in both; the version is the row
 *      meta('schema_version');
 *   2. the statement table (PQprepare'd once per connection, on first use);
 *   3. errors (SQLSTATEs mapped to the codes and words of the SQLite
 *      backend), binding parameters as text (bytea as binary) and reading
 *      text results, through rows.c's per-value tables;
 *   4. connecting, the writer lock and transactions, migration, identity;
 *   5. one section per record type, in the order of store.h;
 *   6. the ops table (after 7);
 *   7. leadership: the leader lease, the fence, LISTEN/NOTIFY.
 *
 * One writer at a time, as SQLite: every write takes a transaction-scoped
 * advisory lock (PG_WRITE_LOCK) first - store_begin() takes it at BEGIN,
 * as SQLite's BEGIN IMMEDIATE takes its write lock, and a write outside a
 * transaction takes it in a transaction of its own.  Under that lock ids
 * are max(id) + 1, as SQLite gives them: so ids grow in commit order (what
 * store_int.h asks of event ids, which a sequence does not promise), and
 * ids freed by a rollback are given again, as SQLite and the in-memory
 * store do (the backends-agree test compares ids).  Readers never wait.
 * A lock held longer than store_lock_wait_ms is ST_ESTATE, as with SQLite.
 *
 * Statement errors inside a transaction: SQLite fails the statement and
 * keeps the transaction; PostgreSQL would abort all of it.  So inside
 * store_begin() every write runs under a savepoint and a failed one rolls
 * back to it: the caller sees the same as on SQLite.  A transaction the
 * server ended by itself (the connection lost) makes the rest of it fail
 * with ST_ESTATE, as store_int.h asks.
 *
 * Values: doubles travel as text with 17 significant digits and come back
 * (extra_float_digits = 3) bit for bit, -0.0 included; texts must be valid
 * in the database's encoding (UTF-8 on the clusters Stratus makes).  Ordering
 * by text uses the "C" collation, as SQLite compares bytes.
 */
#include "rows.h"
#include "store_int.h"
#include "../util/clock.h"
#include "../util/lazypq.h"
#include "../util/xmem.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock every writer holds until its transaction ends ("Stra"). */
#define PG_WRITE_LOCK "1400140385"

/* The SQLSTATE of a write refused by the fence (section 7): class SR is
 * no PostgreSQL class, so it is only ever ours. */
#define PG_FENCED_STATE "SR001"

/* ---- 1. schema ---------------------------------------------------------------
 *
 * Step i takes a database from version i to i + 1, as sqlite.c's list (see
 * there for why each step is what it is).  Never edit a released step.
 */
static const char *const pg_migrations[] = {
    /* 1: the tables; meta (SQLite's step 4) comes first here, since it
     * holds the version.  jobs.cur_attempt's key is added once attempts
     * exists.  events are append-only (a trigger refuses UPDATE and DELETE). */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE jobs ("
    "  id BIGINT PRIMARY KEY,"
    "  name TEXT, spec_path TEXT,"
    "  kind BIGINT NOT NULL, team TEXT, priority BIGINT NOT NULL,"
    "  state BIGINT NOT NULL, reason TEXT,"
    "  submitted_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION NOT NULL,"
    "  ended_at DOUBLE PRECISION NOT NULL, next_try_at DOUBLE PRECISION NOT NULL,"
    "  deadline_at DOUBLE PRECISION NOT NULL,"
    "  restarts BIGINT NOT NULL, nattempts BIGINT NOT NULL,"
    "  cur_attempt BIGINT,"
    "  on_demand_only BIGINT NOT NULL, work_done_s DOUBLE PRECISION NOT NULL,"
    "  cost DOUBLE PRECISION NOT NULL,"
    "  exit_code BIGINT NOT NULL, cancel_requested BIGINT NOT NULL);"
    "CREATE TABLE job_texts ("
    "  job_id BIGINT PRIMARY KEY REFERENCES jobs(id),"
    "  spec_text TEXT, policy_text TEXT);"
    "CREATE TABLE attempts ("
    "  id BIGINT PRIMARY KEY,"
    "  job_id BIGINT NOT NULL REFERENCES jobs(id),"
    "  n BIGINT NOT NULL, state BIGINT NOT NULL,"
    "  cloud TEXT, region TEXT, zone TEXT, instance_type TEXT, accelerator TEXT,"
    "  acc_count BIGINT NOT NULL, nodes BIGINT NOT NULL, mode BIGINT NOT NULL,"
    "  price_hour DOUBLE PRECISION NOT NULL,"
    "  launched_at DOUBLE PRECISION NOT NULL, running_at DOUBLE PRECISION NOT NULL,"
    "  ended_at DOUBLE PRECISION NOT NULL,"
    "  end_reason BIGINT NOT NULL, exit_code BIGINT NOT NULL,"
    "  cost DOUBLE PRECISION NOT NULL,"
    "  ckpt_from BIGINT REFERENCES attempts(id),"
    "  ckpt_bytes DOUBLE PRECISION NOT NULL, ckpt_copy_s DOUBLE PRECISION NOT NULL,"
    "  UNIQUE (job_id, n));"
    "ALTER TABLE jobs ADD FOREIGN KEY (cur_attempt) REFERENCES attempts(id);"
    "CREATE TABLE nodes ("
    "  attempt_id BIGINT NOT NULL REFERENCES attempts(id),"
    "  rank BIGINT NOT NULL, state BIGINT NOT NULL, exit_code BIGINT NOT NULL,"
    "  started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION NOT NULL,"
    "  PRIMARY KEY (attempt_id, rank));"
    "CREATE TABLE events ("
    "  id BIGINT PRIMARY KEY,"
    "  job_id BIGINT REFERENCES jobs(id),"
    "  attempt_id BIGINT REFERENCES attempts(id),"
    "  at DOUBLE PRECISION NOT NULL, type TEXT NOT NULL,"
    "  from_state BIGINT NOT NULL, to_state BIGINT NOT NULL, msg TEXT);"
    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$BEGIN RAISE EXCEPTION 'events are append-only'; END$$;"
    "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events"
    "  FOR EACH ROW EXECUTE FUNCTION events_append_only();"
    "CREATE TABLE checkpoints ("
    "  id BIGINT PRIMARY KEY,"
    "  job_id BIGINT NOT NULL REFERENCES jobs(id),"
    "  attempt_id BIGINT REFERENCES attempts(id),"
    "  path TEXT, bytes DOUBLE PRECISION NOT NULL, at DOUBLE PRECISION NOT NULL);"
    "CREATE TABLE requests ("
    "  id BIGINT PRIMARY KEY,"
    "  at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, arg TEXT,"
    "  done BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE blocks ("
    "  id BIGINT PRIMARY KEY,"
    "  cloud TEXT, region TEXT, zone TEXT, instance_type TEXT,"
    "  until DOUBLE PRECISION NOT NULL, reason TEXT);",

    /* 2: indexes for the hot queries */
    "CREATE INDEX attempts_state ON attempts(state);"
    "CREATE INDEX events_job ON events(job_id, id);"
    "CREATE INDEX checkpoints_job ON checkpoints(job_id, id);"
    "CREATE INDEX requests_pending ON requests(id) WHERE done = 0;"
    "CREATE INDEX blocks_location ON blocks(cloud, region);"
    "CREATE INDEX blocks_until ON blocks(until);",

    /* 3: the price in force since when */
    "ALTER TABLE attempts ADD COLUMN priced_at DOUBLE PRECISION NOT NULL DEFAULT 0;",

    /* 4: SQLite's meta table: made by step 1 here */
    "SELECT 1;",

    /* 5: egress */
    "ALTER TABLE attempts ADD COLUMN egress DOUBLE PRECISION NOT NULL DEFAULT 0;",

    /* 6: tokens and settings */
    "CREATE TABLE tokens ("
    "  id BIGINT PRIMARY KEY,"
    "  name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,"
    "  created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION);"
    "CREATE UNIQUE INDEX tokens_hash ON tokens(hash);"
    "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL;"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /* 7: services and their replicas */
    "CREATE TABLE services ("
    "  id BIGINT PRIMARY KEY,"
    "  name TEXT NOT NULL, spec_path TEXT, spec_text TEXT NOT NULL, policy_text TEXT,"
    "  version BIGINT NOT NULL, state BIGINT NOT NULL, reason TEXT,"
    "  created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,"
    "  ended_at DOUBLE PRECISION NOT NULL,"
    "  target BIGINT NOT NULL, api_keys TEXT);"
    "CREATE UNIQUE INDEX services_live_name ON services(name) WHERE ended_at = 0;"
    "CREATE INDEX services_name ON services(name);"
    "ALTER TABLE jobs ADD COLUMN service_id BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN svc_version BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN port BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN svc_mode BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX jobs_service ON jobs(service_id) WHERE service_id <> 0;",

    /* 8: service key info */
    "ALTER TABLE services ADD COLUMN api_key_info TEXT;",

    /* 9: pipelines and job groups */
    "ALTER TABLE jobs ADD COLUMN group_id BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN stage BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_mode BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_primary BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_name TEXT;",

    /* 10: secrets */
    "CREATE TABLE secrets ("
    "  team TEXT NOT NULL, name TEXT NOT NULL,"
    "  ciphertext BYTEA NOT NULL, nonce BYTEA NOT NULL,"
    "  created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,"
    "  PRIMARY KEY (team, name));",

    /* 11: teams */
    "ALTER TABLE tokens ADD COLUMN user_name TEXT;"
    "ALTER TABLE services ADD COLUMN team TEXT;",

    /* 12: data replicas */
    "CREATE TABLE data_replicas ("
    "  dataset TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL,"
    "  src_cloud TEXT NOT NULL, src_region TEXT NOT NULL, home BIGINT NOT NULL,"
    "  in_use BIGINT NOT NULL, size_gb DOUBLE PRECISION NOT NULL,"
    "  created_at DOUBLE PRECISION NOT NULL, last_used_at DOUBLE PRECISION NOT NULL,"
    "  expired_at DOUBLE PRECISION NOT NULL, egress DOUBLE PRECISION NOT NULL,"
    "  storage_gb_month DOUBLE PRECISION NOT NULL, job_id BIGINT NOT NULL,"
    "  attempt_id BIGINT NOT NULL,"
    "  PRIMARY KEY (dataset, cloud, region));",

    /* 13: backfill on committed nodes */
    "ALTER TABLE attempts ADD COLUMN backfill_spot DOUBLE PRECISION NOT NULL DEFAULT 0;",

    /* 14: deleted copies kept when a new one is made at their place
     * (sqlite.c's 14) */
    "CREATE TABLE data_replicas_past ("
    "  dataset TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL,"
    "  src_cloud TEXT NOT NULL, src_region TEXT NOT NULL, home BIGINT NOT NULL,"
    "  in_use BIGINT NOT NULL, size_gb DOUBLE PRECISION NOT NULL,"
    "  created_at DOUBLE PRECISION NOT NULL, last_used_at DOUBLE PRECISION NOT NULL,"
    "  expired_at DOUBLE PRECISION NOT NULL, egress DOUBLE PRECISION NOT NULL,"
    "  storage_gb_month DOUBLE PRECISION NOT NULL, job_id BIGINT NOT NULL,"
    "  attempt_id BIGINT NOT NULL);"
    "CREATE INDEX data_replicas_past_dataset ON data_replicas_past(dataset);",

    /* 15: the regions a copy was relayed through */
    "ALTER TABLE data_replicas ADD COLUMN via TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE data_replicas_past ADD COLUMN via TEXT NOT NULL DEFAULT '';",

    /* 16: a block's accelerator (sqlite.c's 16) */
    "ALTER TABLE blocks ADD COLUMN accelerator TEXT NOT NULL DEFAULT '';",

    /* 17: an on-demand attempt's uncovered price (sqlite.c's 17) */
    "ALTER TABLE attempts ADD COLUMN list_hour DOUBLE PRECISION NOT NULL DEFAULT 0;",
};

#define PG_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* ---- 2. statements ---------------------------------------------------------- */

#define JOB_VALS                                                                         \
    "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,"    \
    "$23,$24,$25,$26,$27,$28,$29"
#define JOB_SELECT                                                                       \
    "SELECT id, " ROWS_JOB_COLS ", spec_text, policy_text FROM jobs LEFT JOIN job_texts" \
    " ON job_id = id"
/* the same columns, the texts NULL (store_job_scan's no_texts) */
#define JOB_BARE "SELECT id, " ROWS_JOB_COLS ", NULL, NULL FROM jobs"
#define ATT_VALS                                                                         \
    "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,"    \
    "$23,$24,$25"
#define ATT_SELECT "SELECT id, " ROWS_ATT_COLS " FROM attempts"
#define SVC_VALS "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14"
#define SVC_SELECT "SELECT id, " ROWS_SVC_COLS " FROM services"
#define TOKEN_SELECT "SELECT " ROWS_TOKEN_COLS " FROM tokens"
/* The next id of a table, as SQLite's rowid: under the writer lock. */
#define NEXT_ID(t) "(SELECT coalesce(max(id), 0) + 1 FROM " t ")"

/* The cost report (sqlite.c's COST_SQL): $1 = ATT_ENDED, $2 = ATT_END_EXITED,
 * $3 = now; the key sorts in the "C" collation, as SQLite compares. */
#define COST_SQL(key, name, order)                                                       \
    "SELECT " key " AS k, coalesce(sum(a.spent), 0), coalesce(sum(a.nh), 0),"            \
    " coalesce(sum(CASE WHEN a.state = $1 AND a.end_reason <> $2 THEN a.nh ELSE 0 END)," \
    " 0), count(*), coalesce(sum(a.egress), 0), " name                                   \
    " FROM (SELECT *, CASE WHEN running_at <= 0 THEN 0"                                  \
    " WHEN state = $1 THEN GREATEST(ended_at - running_at, 0) * nodes / 3600.0::float8"  \
    " ELSE GREATEST($3::float8 - running_at, 0) * nodes / 3600.0::float8 END AS nh,"     \
    " CASE WHEN state = $1 OR running_at <= 0 THEN cost"                                 \
    " WHEN $3::float8 < priced_at AND priced_at > running_at THEN cost"                  \
    " * GREATEST($3::float8 - running_at, 0) / (priced_at - running_at) + egress"        \
    " ELSE cost + GREATEST($3::float8"                                                   \
    " - GREATEST(priced_at, running_at), 0) * nodes * price_hour / 3600.0::float8"       \
    " + egress END AS spent FROM attempts) a JOIN jobs j ON j.id = a.job_id"             \
    " GROUP BY 1 ORDER BY 2 DESC, " order

#define PG_SQL_MAP(X)                                                                    \
    /* a job and its texts in one statement (one round trip); the texts are */           \
    /* rewritten only when they changed, which is never */                               \
    X(JOB_INSERT,                                                                        \
      "WITH j AS (INSERT INTO jobs (id, " ROWS_JOB_COLS ") VALUES (" NEXT_ID(            \
          "jobs") ", " JOB_VALS ") RETURNING id), t AS (INSERT INTO"                     \
                  " job_texts (job_id, spec_text, policy_text) SELECT id, $30, $31"      \
                  " FROM j) SELECT id FROM j")                                           \
    X(JOB_UPDATE, "WITH u AS (UPDATE jobs SET (" ROWS_JOB_COLS ") = (" JOB_VALS ")"      \
                  " WHERE id = $30 RETURNING id), t AS (UPDATE job_texts SET"            \
                  " (spec_text, policy_text) = ($31, $32) FROM u WHERE job_id = u.id"    \
                  " AND (spec_text IS DISTINCT FROM $31"                                 \
                  " OR policy_text IS DISTINCT FROM $32)) SELECT count(*) FROM u")       \
    X(JOB_GET, JOB_SELECT " WHERE id = $1")                                              \
    X(JOB_SCAN, JOB_SELECT " WHERE state < $1 AND id > $2 ORDER BY id LIMIT $3")         \
    X(JOB_SCAN_DESC,                                                                     \
      JOB_SELECT " WHERE state < $1 AND id < $2 ORDER BY id DESC LIMIT $3")              \
    X(JOB_SCAN_BARE, JOB_BARE " WHERE state < $1 AND id > $2 ORDER BY id LIMIT $3")      \
    X(JOB_SCAN_BARE_DESC,                                                                \
      JOB_BARE " WHERE state < $1 AND id < $2 ORDER BY id DESC LIMIT $3")                \
    X(ATT_INSERT, "INSERT INTO attempts (id, " ROWS_ATT_COLS                             \
                  ") VALUES (" NEXT_ID("attempts") ", " ATT_VALS ") RETURNING id")       \
    X(ATT_UPDATE,                                                                        \
      "UPDATE attempts SET (" ROWS_ATT_COLS ") = (" ATT_VALS ") WHERE id = $26")         \
    X(ATT_GET, ATT_SELECT " WHERE id = $1")                                              \
    X(ATT_LIST_JOB, ATT_SELECT " WHERE job_id = $1 ORDER BY id")                         \
    X(ATT_LIST_LIVE, ATT_SELECT " WHERE state <> $1 ORDER BY id")                        \
    X(ATT_PAGE, ATT_SELECT " WHERE id > $1 ORDER BY id LIMIT $2")                        \
    X(NODE_PUT, "INSERT INTO nodes (" ROWS_NODE_COLS ") VALUES ($1,$2,$3,$4,$5,$6)"      \
                " ON CONFLICT (attempt_id, rank) DO UPDATE SET state = excluded.state,"  \
                " exit_code = excluded.exit_code, started_at = excluded.started_at,"     \
                " ended_at = excluded.ended_at")                                         \
    X(NODE_LIST,                                                                         \
      "SELECT " ROWS_NODE_COLS " FROM nodes WHERE attempt_id = $1 ORDER BY rank")        \
    X(EVENT_APPEND, "INSERT INTO events (id, job_id, attempt_id, at, type, from_state,"  \
                    " to_state, msg) VALUES (" NEXT_ID("events") ", $1,$2,$3,$4,$5,$6,"  \
                                                                 "$7) RETURNING id")     \
    X(EVENT_LIST, "SELECT " ROWS_EVENT_COLS " FROM events WHERE id > $1 ORDER BY id"     \
                  " LIMIT $2")                                                           \
    X(EVENT_LIST_JOB, "SELECT " ROWS_EVENT_COLS " FROM events WHERE job_id = $3"         \
                      " AND id > $1 ORDER BY id LIMIT $2")                               \
    X(CKPT_ADD, "INSERT INTO checkpoints (id, job_id, attempt_id, path, bytes, at)"      \
                " VALUES (" NEXT_ID("checkpoints") ", $1,$2,$3,$4,$5)")                  \
    X(CKPT_LIST,                                                                         \
      "SELECT " ROWS_CKPT_COLS " FROM checkpoints WHERE job_id = $1 ORDER BY id")        \
    X(REQ_ADD, "INSERT INTO requests (id, at, kind, arg) VALUES (" NEXT_ID(              \
                   "requests") ", $1,$2,$3) RETURNING id")                               \
    X(REQ_PENDING, "SELECT id, at, kind, arg FROM requests WHERE done = 0 ORDER BY id")  \
    X(REQ_DONE, "UPDATE requests SET done = 1 WHERE done = 0 AND id <= $1")              \
    X(BLOCK_EXTEND, "UPDATE blocks SET reason = CASE WHEN $5 >= until THEN $6::text"     \
                    " ELSE reason END, until = greatest(until, $5)"                      \
                    " WHERE cloud IS NOT DISTINCT FROM $1::text"                         \
                    " AND region IS NOT DISTINCT FROM $2::text"                          \
                    " AND zone IS NOT DISTINCT FROM $3::text"                            \
                    " AND instance_type IS NOT DISTINCT FROM $4::text"                   \
                    " AND accelerator IS NOT DISTINCT FROM $7::text")                    \
    X(BLOCK_INSERT, "INSERT INTO blocks (id, " ROWS_BLOCK_COLS                           \
                    ") VALUES (" NEXT_ID("blocks") ", $1,$2,$3,$4,$5,$6,$7)")            \
    X(BLOCK_LIST, "SELECT " ROWS_BLOCK_COLS " FROM blocks WHERE until > $1 ORDER BY id") \
    /* the three in the order of enum store_cost_by */                                   \
    X(COST_CLOUD, COST_SQL("coalesce(a.cloud, '(none)') COLLATE \"C\"", "NULL", "1"))    \
    X(COST_TEAM, COST_SQL("coalesce(j.team, '(none)') COLLATE \"C\"", "NULL", "1"))      \
    X(COST_JOB, COST_SQL("CAST(a.job_id AS TEXT)", "min(j.name)", "min(a.job_id)"))      \
    X(TOKEN_INSERT, "INSERT INTO tokens (id, name, role, hash, created_at, user_name)"   \
                    " VALUES (" NEXT_ID("tokens") ", $1,$2,$3,$4,$5) RETURNING id")      \
    X(TOKEN_LIVE_NAME, TOKEN_SELECT " WHERE name = $1 AND revoked_at IS NULL")           \
    X(TOKEN_BY_HASH, TOKEN_SELECT " WHERE hash = $1")                                    \
    X(TOKEN_LIST, TOKEN_SELECT " ORDER BY id")                                           \
    X(TOKEN_LIST_LIVE, TOKEN_SELECT " WHERE revoked_at IS NULL ORDER BY id")             \
    X(TOKEN_REVOKE,                                                                      \
      "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")          \
    X(SETTING_GET, "SELECT value FROM settings WHERE key = $1")                          \
    X(SETTING_PUT, "INSERT INTO settings (key, value) VALUES ($1,$2)"                    \
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value")            \
    X(SETTING_DEL, "DELETE FROM settings WHERE key = $1")                                \
    X(SVC_INSERT, "INSERT INTO services (id, " ROWS_SVC_COLS                             \
                  ") VALUES (" NEXT_ID("services") ", " SVC_VALS ") RETURNING id")       \
    X(SVC_UPDATE,                                                                        \
      "UPDATE services SET (" ROWS_SVC_COLS ") = (" SVC_VALS ") WHERE id = $15")         \
    X(SVC_GET, SVC_SELECT " WHERE id = $1")                                              \
    X(SVC_LIVE_NAME, SVC_SELECT " WHERE name = $1 AND ended_at = 0 AND id <> $2")        \
    X(SVC_FIND, SVC_SELECT " WHERE name = $1 ORDER BY ended_at = 0 DESC, ended_at DESC," \
                           " id DESC LIMIT 1")                                           \
    X(SVC_LIST, SVC_SELECT " ORDER BY id")                                               \
    X(SVC_LIST_LIVE, SVC_SELECT " WHERE ended_at = 0 ORDER BY id")                       \
    X(REPLICA_LIST, JOB_SELECT " WHERE service_id = $1 AND service_id <> 0 ORDER BY id") \
    X(REPLICA_LIST_ACTIVE, JOB_SELECT " WHERE service_id = $1 AND service_id <> 0"       \
                                      " AND state < $2 ORDER BY id")                     \
    X(SECRET_PUT, "INSERT INTO secrets (team, name, ciphertext, nonce, created_at,"      \
                  " updated_at) VALUES ($1,$2,$3,$4,$5,$5) ON CONFLICT (team, name)"     \
                  " DO UPDATE SET ciphertext = excluded.ciphertext,"                     \
                  " nonce = excluded.nonce, updated_at = excluded.updated_at")           \
    X(SECRET_GET, "SELECT team, name, ciphertext, nonce, created_at, updated_at"         \
                  " FROM secrets WHERE team = $1 AND name = $2")                         \
    X(SECRET_LIST,                                                                       \
      "SELECT team, name, NULL::bytea, NULL::bytea, created_at,"                         \
      " updated_at FROM secrets WHERE team = $1 ORDER BY name COLLATE \"C\"")            \
    X(SECRET_DEL, "DELETE FROM secrets WHERE team = $1 AND name = $2")                   \
    /* the row at (dataset, cloud, region) replaced, a deleted copy's first */           \
    /* kept in data_replicas_past when this is another copy (the CTE reads */            \
    /* the row as it was before the statement) */                                        \
    X(DATA_PUT, "WITH past AS (INSERT INTO data_replicas_past SELECT " ROWS_DATA_COLS    \
                " FROM data_replicas WHERE dataset = $1 AND cloud = $2 AND region = $3"  \
                " AND expired_at > 0 AND created_at <> $9)"                              \
                " INSERT INTO data_replicas (" ROWS_DATA_COLS ") VALUES"                 \
                " ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)"              \
                " ON CONFLICT (dataset, cloud, region) DO UPDATE SET"                    \
                " src_cloud = excluded.src_cloud, src_region = excluded.src_region,"     \
                " home = excluded.home, in_use = excluded.in_use,"                       \
                " size_gb = excluded.size_gb, created_at = excluded.created_at,"         \
                " last_used_at = excluded.last_used_at,"                                 \
                " expired_at = excluded.expired_at, egress = excluded.egress,"           \
                " storage_gb_month = excluded.storage_gb_month,"                         \
                " job_id = excluded.job_id, attempt_id = excluded.attempt_id,"           \
                " via = excluded.via")                                                   \
    /* store_data_storage: $1 = now; the 7 columns of a cost row */                      \
    X(DATA_STORAGE,                                                                      \
      "SELECT cloud COLLATE \"C\", coalesce(sum(size_gb * storage_gb_month *"            \
      " (CASE WHEN expired_at > 0 THEN expired_at ELSE $1::float8 END - created_at)),"   \
      " 0), 0::float8, 0::float8, count(*), 0::float8, NULL::text FROM"                  \
      " (SELECT cloud, size_gb, storage_gb_month, created_at, expired_at, home, job_id"  \
      " FROM data_replicas UNION ALL SELECT cloud, size_gb, storage_gb_month,"           \
      " created_at, expired_at, home, job_id FROM data_replicas_past) AS d"              \
      " WHERE home = 0 AND job_id > 0"                                                   \
      " AND CASE WHEN expired_at > 0 THEN expired_at ELSE $1::float8 END > created_at"   \
      " GROUP BY 1 ORDER BY 1")                                                          \
    X(DATA_LIST, "SELECT " ROWS_DATA_COLS " FROM (SELECT " ROWS_DATA_COLS " FROM"        \
                 " data_replicas WHERE ($1::text IS NULL OR dataset = $1) AND"           \
                 " ($2 = 0 OR expired_at = 0) UNION ALL SELECT " ROWS_DATA_COLS          \
                 " FROM data_replicas_past WHERE ($1::text IS NULL OR dataset = $1)"     \
                 " AND $2 = 0) AS d"                                                     \
                 " ORDER BY dataset COLLATE \"C\", created_at, cloud COLLATE \"C\","     \
                 " region COLLATE \"C\"")                                                \
    X(META_GET, "SELECT value FROM meta WHERE key = $1")                                 \
    X(META_PUT, "INSERT INTO meta (key, value) VALUES ($1, $2)"                          \
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value")

enum pg_stmt {
#define X_(id, sql) PQ_##id,
    PG_SQL_MAP(X_)
#undef X_
        PQ__N
};

static const char *const pg_sql[PQ__N] = {
#define X_(id, sql) sql,
    PG_SQL_MAP(X_)
#undef X_
};

/* The private state of one handle (struct store's priv). */
struct pg {
    PGconn *conn;
    const struct store *st; /* the handle: in_tx says a store_begin() is open */
    const char *path;       /* the connection string without its password */
    int lock_wait_ms;       /* store_lock_wait_ms when opened */
    char prepared[PQ__N];   /* statement i is prepared on this connection */
    /* What must run before the next statement, sent with it in one round
     * trip (pipeline mode): BEGIN and the writer lock for a write outside a
     * transaction, the savepoint of a write inside one (section 4). */
    const char *pre[4];
    int npre;
    int sp_open;     /* the last write's savepoint is still open (released with
                        the next write's, or by the transaction's end) */
    int tx_open;     /* a transaction was begun on the server (store_begin()'s or
                        a write's own): a lost connection then loses it */
    int commit_sent; /* a write's own COMMIT went out: if the connection was
                        lost then, whether it was stored is unknown */
    char *uri;       /* the connection string as given (password and all): for
                        the listening connection; never printed */
    /* Leadership (section 7): the fence every write transaction checks
     * first, once a lease was taken; NULL = none. */
    char *fence_sql;
    int64_t fence_epoch;
    PGconn *listen;  /* LISTEN's own connection; NULL until store_listen */
    int lease_ready; /* the lease's table and fence function are there */
    char *keep_sql;  /* renews the lease this handle holds; NULL = none held */
    int tx_fenced;   /* the open transaction began with the fence (it holds
                        the lease's row: pg_commit_db may renew in it) */
    double kept_at;  /* clock_mono() of the last take or renewal */
    int idle_ms;     /* idle_in_transaction_session_timeout once fenced; 0 = off */
};

/* ---- 3. errors, binding, reading -------------------------------------------- */

/* e from a failed result (res may be NULL: then the connection's message):
 * the SQLite backend's codes and words, so callers and tests read alike. */
static int pg_fail(struct pg *p, PGresult *res, const char *op, struct err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char buf[512];
    size_t n;

    snprintf(buf, sizeof(buf), "%s", msg ? msg : PQerrorMessage(p->conn));
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (PQstatus(p->conn) != CONNECTION_OK)
        return err_set(e, ST_EIO,
                       "%s: %s: %s (the connection to PostgreSQL was lost: is the server "
                       "running?)",
                       p->path, op, buf);
    if (state == NULL)
        return err_set(e, ST_EIO, "%s: %s: %s", p->path, op, buf);
    if (strcmp(state, PG_FENCED_STATE) == 0)
        return err_set(e, ST_EFENCED,
                       "%s: %s: this server is no longer the leader (another took the "
                       "lease at a newer epoch than %" PRId64 "); nothing of it is stored",
                       p->path, op, p->fence_epoch);
    if (strcmp(state, "23503") == 0)
        return err_set(e, ST_EIO, "%s: %s: FOREIGN KEY constraint failed (%s)", p->path,
                       op, buf);
    if (strcmp(state, "23505") == 0)
        return err_set(e, ST_EIO, "%s: %s: UNIQUE constraint failed (%s)", p->path, op,
                       buf);
    if (strcmp(state, "23502") == 0)
        return err_set(e, ST_EIO, "%s: %s: NOT NULL constraint failed (%s)", p->path, op,
                       buf);
    /* in SQLite's words: callers and tests look for them */
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0)
        return err_set(e, ST_ESTATE,
                       "%s: %s: database is locked (another stratus process kept it "
                       "locked; waited %d ms)",
                       p->path, op, p->lock_wait_ms);
    return err_set(e, ST_EIO, "%s: %s: %s", p->path, op, buf);
}

/* Parameters in order, as libpq takes them: text, except bytea (binary). */
#define PG_MAXP 32
struct pgbind {
    struct rows_binder base; /* first: rows.c's calls cast back to struct pgbind */
    int n;                   /* parameters bound */
    const char *vals[PG_MAXP];
    int lens[PG_MAXP];
    int fmts[PG_MAXP];
    char num[PG_MAXP][32]; /* numbers as text */
};

static void pb_null(struct pgbind *b)
{
    BUG_ON(b->n >= PG_MAXP);
    b->vals[b->n] = NULL;
    b->lens[b->n] = 0;
    b->fmts[b->n++] = 0;
}

static void pb_int(struct pgbind *b, int64_t v)
{
    BUG_ON(b->n >= PG_MAXP);
    snprintf(b->num[b->n], sizeof(b->num[0]), "%" PRId64, v);
    b->vals[b->n] = b->num[b->n];
    b->lens[b->n] = 0;
    b->fmts[b->n++] = 0;
}

static void pb_dbl(struct pgbind *b, double v)
{
    BUG_ON(b->n >= PG_MAXP);
    if (isnan(v))
        snprintf(b->num[b->n], sizeof(b->num[0]), "NaN");
    else if (isinf(v))
        snprintf(b->num[b->n], sizeof(b->num[0]), "%sInfinity", v < 0 ? "-" : "");
    else
        snprintf(b->num[b->n], sizeof(b->num[0]), "%.17g", v);
    b->vals[b->n] = b->num[b->n];
    b->lens[b->n] = 0;
    b->fmts[b->n++] = 0;
}

/* NULL stays NULL; s must outlive the statement's run. */
static void pb_text(struct pgbind *b, const char *s)
{
    if (s == NULL) {
        pb_null(b);
        return;
    }
    BUG_ON(b->n >= PG_MAXP);
    b->vals[b->n] = s;
    b->lens[b->n] = 0;
    b->fmts[b->n++] = 0;
}

static void pb_blob(struct pgbind *b, const void *v, size_t n)
{
    BUG_ON(b->n >= PG_MAXP || n > 0x7fffffff);
    b->vals[b->n] = v;
    b->lens[b->n] = (int)n;
    b->fmts[b->n++] = 1;
}

static void rb_int(struct rows_binder *b, int64_t v)
{
    pb_int((struct pgbind *)b, v);
}

static void rb_id(struct rows_binder *b, int64_t v)
{
    if (v != 0)
        pb_int((struct pgbind *)b, v);
    else
        pb_null((struct pgbind *)b);
}

static void rb_dbl(struct rows_binder *b, double v)
{
    pb_dbl((struct pgbind *)b, v);
}

static void rb_text(struct rows_binder *b, const char *s)
{
    pb_text((struct pgbind *)b, s);
}

static void rb_blob(struct rows_binder *b, const void *v, size_t n)
{
    pb_blob((struct pgbind *)b, v, n);
}

static const struct rows_binder_ops pg_binder_ops = {rb_int, rb_id, rb_dbl, rb_text,
                                                     rb_blob};

static void pg_bind(struct pgbind *b)
{
    b->base.ops = &pg_binder_ops;
    b->n = 0;
}

/* Columns of one result row, read in order (text format). */
struct pgread {
    struct rows_reader base; /* first: rows.c's calls cast back to struct pgread */
    PGresult *res;
    int row, i;
};

static int64_t rr_int(struct rows_reader *rr)
{
    struct pgread *r = (struct pgread *)rr;
    int i = r->i++;

    return PQgetisnull(r->res, r->row, i)
               ? 0
               : strtoll(PQgetvalue(r->res, r->row, i), NULL, 10);
}

static double rr_dbl(struct rows_reader *rr)
{
    struct pgread *r = (struct pgread *)rr;
    int i = r->i++;

    return PQgetisnull(r->res, r->row, i) ? 0
                                          : strtod(PQgetvalue(r->res, r->row, i), NULL);
}

static char *rr_text(struct rows_reader *rr)
{
    struct pgread *r = (struct pgread *)rr;
    int i = r->i++;

    if (PQgetisnull(r->res, r->row, i))
        return NULL;
    return xstrndup(PQgetvalue(r->res, r->row, i),
                    (size_t)PQgetlength(r->res, r->row, i));
}

/* bytea comes as text ("\x..."): unescaped into an owned copy. */
static unsigned char *rr_blob(struct rows_reader *rr, size_t *len)
{
    struct pgread *r = (struct pgread *)rr;
    int i = r->i++;
    unsigned char *raw, *v = NULL;
    size_t n = 0;

    *len = 0;
    if (PQgetisnull(r->res, r->row, i))
        return NULL;
    raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r->res, r->row, i), &n);
    BUG_ON(raw == NULL); /* out of memory (xmalloc's wrappers abort too) */
    if (n > 0) {
        v = xmalloc(n);
        memcpy(v, raw, n);
        *len = n;
    }
    PQfreemem(raw);
    return v;
}

static const struct rows_reader_ops pg_reader_ops = {rr_int, rr_dbl, rr_text, rr_blob};

/* After the server ended the transaction store_begin() opened (a lost
 * connection, an error outside any savepoint), the rest of it must fail:
 * run outside a transaction, each statement would be committed on its own. */
static int pg_tx_lost(struct pg *p, const char *op, struct err *e)
{
    PGTransactionStatusType ts = PQtransactionStatus(p->conn);

    if ((!p->st->in_tx && !p->tx_open) || ts == PQTRANS_INTRANS)
        return 0;
    return err_set(e, ST_ESTATE,
                   "%s: %s: the transaction was rolled back after an "
                   "earlier error; nothing of it is stored",
                   p->path, op);
}

static int pg_ready(struct pg *p, const char *op, struct err *e);

/* The pending statements (p->pre), then prepared statement `name`, in one
 * round trip: libpq's pipeline mode.  Returns the statement's result, or
 * the first one that failed (NULL when the connection failed). */
static PGresult *pg_pipeline(struct pg *p, const char *name, const struct pgbind *b)
{
    PGresult *res, *bad = NULL, *last = NULL;
    int i, ok = PQenterPipelineMode(p->conn), nulls = 0;

    for (i = 0; ok && i < p->npre; i++) {
        ok = PQsendQueryParams(p->conn, p->pre[i], 0, NULL, NULL, NULL, NULL, 0);
        p->tx_open = p->tx_open || strcmp(p->pre[i], "BEGIN") == 0;
    }
    ok = ok && PQsendQueryPrepared(p->conn, name, b->n, b->vals, b->lens, b->fmts, 0);
    ok = ok && PQpipelineSync(p->conn);
    p->npre = 0;
    /* each command's result is followed by NULL; the sync's ends it all */
    while (ok) {
        res = PQgetResult(p->conn);
        if (res == NULL) {
            if (++nulls > 1)
                break; /* nothing more will come: the connection failed */
            continue;
        }
        nulls = 0;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (bad == NULL && PQresultStatus(res) == PGRES_FATAL_ERROR) {
            bad = res;
            continue;
        }
        PQclear(last);
        last = res;
    }
    PQexitPipelineMode(p->conn);
    if (bad != NULL || !ok) {
        PQclear(last);
        return bad;
    }
    return last;
}

/* Run statement q with b's parameters (and what is pending before it);
 * *out is the result (the caller clears it) when it succeeded. */
static int pg_run_once(struct pg *p, enum pg_stmt q, const struct pgbind *b,
                       PGresult **out, const char *op, struct err *e)
{
    char name[16];
    PGresult *res;
    int rc = pg_ready(p, op, e);

    *out = NULL;
    if (rc != 0)
        return rc;
    snprintf(name, sizeof(name), "s%d", (int)q);
    if (!p->prepared[q]) {
        res = PQprepare(p->conn, name, pg_sql[q], 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = pg_fail(p, res, op, e);
            PQclear(res);
            return rc;
        }
        PQclear(res);
        p->prepared[q] = 1;
    }
    if (p->npre > 0)
        res = pg_pipeline(p, name, b);
    else
        res = PQexecPrepared(p->conn, name, b->n, b->vals, b->lens, b->fmts, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(p, res, op, e);
        PQclear(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* May work that failed be done again on a new connection?  Only when the
 * connection was lost outside any transaction: nothing of it was stored. */
static int pg_retry_ok(const struct pg *p)
{
    return PQstatus(p->conn) != CONNECTION_OK && !p->st->in_tx && !p->tx_open &&
           !p->commit_sent;
}

/* pg_run_once, again once on a new connection when PostgreSQL went away
 * (restarted) since the last statement: libpq only learns it by trying. */
static int pg_run(struct pg *p, enum pg_stmt q, const struct pgbind *b, PGresult **out,
                  const char *op, struct err *e)
{
    int pending = p->npre > 0, rc = pg_run_once(p, q, b, out, op, e);

    if (rc != 0 && !pending && pg_retry_ok(p))
        rc = pg_run_once(p, q, b, out, op, e);
    return rc;
}

/* Run a statement that returns no rows; *changes (when not NULL) is the
 * number of rows it wrote. */
static int pg_exec(struct pg *p, enum pg_stmt q, const struct pgbind *b, int64_t *changes,
                   const char *op, struct err *e)
{
    PGresult *res;
    int rc = pg_run(p, q, b, &res, op, e);

    if (rc == 0 && changes != NULL)
        *changes = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

/* Run a statement that returns one row of one number (an INSERT ...
 * RETURNING id, a count); *id is that number. */
static int pg_insert(struct pg *p, enum pg_stmt q, const struct pgbind *b, int64_t *id,
                     const char *op, struct err *e)
{
    PGresult *res;
    int rc = pg_run(p, q, b, &res, op, e);

    if (rc == 0) {
        BUG_ON(PQntuples(res) != 1);
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* Run a query and collect every row; on failure nothing stays allocated. */
static int pg_fetch(struct pg *p, enum pg_stmt q, const struct pgbind *b,
                    const struct rows_type *t, void **out, size_t *n, const char *op,
                    struct err *e)
{
    PGresult *res;
    char *v = NULL;
    int rc = pg_run(p, q, b, &res, op, e);
    int rows, i;

    *out = NULL;
    *n = 0;
    if (rc != 0)
        return rc;
    rows = PQntuples(res);
    if (rows > 0)
        v = xcalloc((size_t)rows, t->size);
    for (i = 0; i < rows; i++) {
        struct pgread r = {{&pg_reader_ops}, res, i, 0};

        t->read(&r.base, v + (size_t)i * t->size);
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
    return 0;
}

/* One row into *row: ST_ENOTFOUND "no <what> <id>" when there is none. */
static int pg_fetch_one(struct pg *p, enum pg_stmt q, const struct pgbind *b,
                        const struct rows_type *t, void *row, const char *what,
                        int64_t id, const char *op, struct err *e)
{
    void *v;
    size_t n;
    int rc = pg_fetch(p, q, b, t, &v, &n, op, e);

    if (rc == 0 && rows_one(v, n, t->size, row))
        rc = err_set(e, ST_ENOTFOUND, "no %s %" PRId64, what, id);
    return rc;
}

/* Run literal SQL (transaction control, migrations: several statements may
 * go in one text). */
static int pg_sql_exec(struct pg *p, const char *sql, const char *op, struct err *e)
{
    PGresult *res = PQexec(p->conn, sql);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_fail(p, res, op, e);
    PQclear(res);
    return rc;
}

/* ---- 4. connecting, transactions, migration, identity ------------------------ */

static void pg_rollback_db(struct pg *p);

static int pg_begin_once(struct pg *p, const char *begin, const char *op, struct err *e)
{
    int rc;

    p->tx_open = 1;
    rc = pg_sql_exec(p, begin, op, e);
    if (rc != 0)
        pg_rollback_db(p);
    return rc;
}

/* Is the lease this handle holds due for renewal (a quarter of it since
 * the last take or renewal)? */
static int pg_lease_due(const struct pg *p)
{
    return clock_mono() - p->kept_at >= p->idle_ms / 4000.0;
}

/* BEGIN, the writer lock and (once a lease was taken) the fence, in one
 * round trip; the lock waits up to lock_wait_ms (lock_timeout). */
static int pg_begin_db(struct pg *p, const char *op, struct err *e)
{
    char *fenced = p->fence_sql ? xasprintf("BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK
                                            "); %s", p->fence_sql)
                                : NULL;
    const char *begin = fenced ? fenced : "BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")";
    int rc = pg_ready(p, op, e);

    if (rc == 0)
        rc = pg_begin_once(p, begin, op, e);
    if (rc != 0 && rc != ST_EFENCED && PQstatus(p->conn) != CONNECTION_OK) {
        rc = pg_ready(p, op, e); /* PostgreSQL went away since: once more, anew */
        if (rc == 0)
            rc = pg_begin_once(p, begin, op, e);
    }
    p->tx_fenced = rc == 0 && fenced != NULL;
    free(fenced);
    return rc;
}

static void pg_rollback_db(struct pg *p)
{
    p->sp_open = 0;
    p->npre = 0;
    p->tx_open = 0;
    p->tx_fenced = 0;
    if (PQtransactionStatus(p->conn) == PQTRANS_IDLE)
        return;
    pg_sql_exec(p, "ROLLBACK", "rolling back", NULL);
}

/* Commit; a transaction the server had aborted is rolled back and said so
 * (COMMIT of an aborted transaction "succeeds" as a ROLLBACK). */
static int pg_commit_db(struct pg *p, struct err *e)
{
    PGresult *res;
    int rc = 0, keep = p->tx_fenced && p->keep_sql != NULL && pg_lease_due(p);
    double t0 = clock_mono();
    char *commit = keep ? xasprintf("%s; COMMIT", p->keep_sql) : NULL;

    p->sp_open = 0; /* COMMIT releases every savepoint */
    p->npre = 0;
    p->tx_open = 0;
    p->tx_fenced = 0;
    if (PQtransactionStatus(p->conn) != PQTRANS_INTRANS) {
        free(commit);
        pg_rollback_db(p);
        return err_set(e, ST_ESTATE,
                       "%s: committing: the transaction was rolled back after an "
                       "earlier error; nothing of it is stored",
                       p->path);
    }
    p->commit_sent = 1;
    /* A transaction of the leader's may outlast the lease on a loaded
     * machine, with a follower's take waiting on the lease's row: renewed
     * in it, the lease is still ours when the take gets the row. */
    res = PQexec(p->conn, commit ? commit : "COMMIT");
    free(commit);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(p, res, "committing", e);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = err_set(e, ST_ESTATE, "%s: committing: the server rolled it back", p->path);
    else if (keep)
        p->kept_at = t0;
    PQclear(res);
    if (rc != 0)
        pg_rollback_db(p);
    return rc;
}

/* For a write: a transaction of its own (with the writer lock) outside
 * store_begin(), else a savepoint, so that a failed statement is undone
 * alone and the caller's transaction goes on, as on SQLite.  Neither costs
 * a round trip of its own: they go out with the write's first statement
 * (p->pre), and a savepoint is released with the next write's (or by the
 * transaction's end). */
enum { PG_OWN_NONE, PG_OWN_TX, PG_OWN_SAVEPOINT };

static int pg_atomic_enter(struct pg *p, int *own, const char *op, struct err *e)
{
    int rc = pg_ready(p, op, e);

    *own = PG_OWN_NONE;
    if (rc != 0)
        return rc;
    p->npre = 0;
    if (!p->st->in_tx) {
        p->pre[p->npre++] = "BEGIN";
        p->pre[p->npre++] = "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")";
        if (p->fence_sql != NULL)
            p->pre[p->npre++] = p->fence_sql;
        p->tx_fenced = p->fence_sql != NULL;
        *own = PG_OWN_TX;
        return 0;
    }
    if (p->sp_open)
        p->pre[p->npre++] = "RELEASE SAVEPOINT stratus_op";
    p->pre[p->npre++] = "SAVEPOINT stratus_op";
    p->sp_open = 0;
    *own = PG_OWN_SAVEPOINT;
    return 0;
}

static int pg_atomic_leave(struct pg *p, int own, int rc, struct err *e)
{
    int started = p->npre == 0; /* the prefix went out with a statement */

    if (!started && own == PG_OWN_SAVEPOINT && p->pre[0][0] == 'R')
        p->sp_open = 1; /* the last write's savepoint was not released after all */
    p->npre = 0;
    if (!started && own == PG_OWN_TX)
        p->tx_fenced = 0; /* its BEGIN never went out */
    if (!started || own == PG_OWN_NONE)
        return rc;
    if (own == PG_OWN_TX) {
        if (rc != 0) {
            pg_rollback_db(p);
            return rc;
        }
        return pg_commit_db(p, e);
    }
    if (rc != 0) {
        pg_sql_exec(p, "ROLLBACK TO SAVEPOINT stratus_op; RELEASE SAVEPOINT stratus_op",
                    "rolling back a statement", NULL);
        return rc;
    }
    p->sp_open = 1;
    return 0;
}

/* libpq's notices (NOTICE, WARNING) are not for stratus' users. */
static void pg_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* The session's settings: lock waits as long as store_lock_wait_ms, doubles
 * printed exactly, no notices. */
static int pg_session(struct pg *p, const char *op, struct err *e)
{
    char *set = xasprintf("SET lock_timeout = %d; SET extra_float_digits = 3;"
                          " SET client_min_messages = warning;"
                          " SET idle_in_transaction_session_timeout = %d",
                          p->lock_wait_ms > 0 ? p->lock_wait_ms : 1, p->idle_ms);
    int rc = pg_sql_exec(p, set, op, e);

    free(set);
    return rc;
}

/* Connect to uri and set the session up.  A missing connect_timeout is 10 s
 * (libpq waits forever on a host that does not answer). */
static PGconn *pg_dial(const char *uri)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "stratus", uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);

    BUG_ON(c == NULL); /* libpq could not allocate a connection */
    if (PQstatus(c) == CONNECTION_OK)
        PQsetNoticeProcessor(c, pg_notice, NULL);
    return c;
}

static int pg_connect(struct pg *p, const char *uri, struct err *e)
{
    if (lazypq_load(e) != 0)
        return e->code;
    p->conn = pg_dial(uri);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        char msg[512];
        size_t n;

        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        return err_set(e, ST_EIO,
                       "%s: cannot connect to PostgreSQL: %s (is the server running and "
                       "reachable, and are the user, password and database in the "
                       "connection string right? For a local one to try: "
                       "scripts/postgres-local.sh start DIR; see docs/postgres.md)",
                       p->path, msg);
    }
    return pg_session(p, "opening", e);
}

static void pg_lease_keep(struct pg *p);

/* Before a statement: a connection that was lost (PostgreSQL restarted, a
 * network cut) is made again, with its session, when no transaction was
 * open on it; inside one, the transaction is lost (pg_tx_lost says so).
 * A leader's lease is renewed first when due (pg_lease_keep). */
static int pg_ready(struct pg *p, const char *op, struct err *e)
{
    char msg[512];
    size_t n;

    pg_lease_keep(p);
    if (PQstatus(p->conn) == CONNECTION_OK || p->st->in_tx || p->tx_open)
        return pg_tx_lost(p, op, e);
    PQreset(p->conn);
    memset(p->prepared, 0, sizeof(p->prepared)); /* they went with the old session */
    if (PQstatus(p->conn) == CONNECTION_OK)
        return pg_session(p, op, e);
    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return err_set(e, ST_EIO,
                   "%s: %s: the connection to PostgreSQL was lost and cannot be made "
                   "again: %s",
                   p->path, op, msg);
}

/* The value of a meta row into out (n bytes, cut short if longer), "" when
 * there is none. */
static int pg_meta_get(struct pg *p, const char *key, char *out, size_t n, struct err *e)
{
    struct pgbind b;
    PGresult *res;
    int rc;

    pg_bind(&b);
    pb_text(&b, key);
    rc = pg_run(p, PQ_META_GET, &b, &res, "reading the store's identity", e);
    out[0] = '\0';
    if (rc == 0 && PQntuples(res) > 0)
        snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static int pg_meta_put(struct pg *p, const char *key, const char *value, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_text(&b, key);
    pb_text(&b, value);
    return pg_exec(p, PQ_META_PUT, &b, NULL, "recording the store's identity", e);
}

/* The first column of the first row of a literal query, as an integer
 * (0 for no row or NULL). */
static int pg_query_int(struct pg *p, const char *sql, int64_t *out, const char *op,
                        struct err *e)
{
    PGresult *res = PQexec(p->conn, sql);
    int rc = 0;

    *out = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_fail(p, res, op, e);
    else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* The schema version of the database (its current schema), after checking
 * that it is ours: a schema with tables but no stratus meta is another
 * program's, a newer version a newer stratus'. */
static int pg_version(struct pg *p, int64_t *version, struct err *e)
{
    char app[64], ver[32];
    int64_t has_meta, tables;
    int rc = pg_query_int(p,
                          "SELECT count(*) FROM pg_tables WHERE tablename = 'meta'"
                          " AND schemaname = current_schema()",
                          &has_meta, "reading the schema version", e);

    *version = 0;
    if (rc == 0 && !has_meta) {
        rc = pg_query_int(
            p, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            &tables, "reading the schema", e);
        if (rc == 0 && tables > 0)
            return err_set(
                e, ST_EIO,
                "%s: not a stratus store (the database's schema has tables but "
                "no stratus schema); stratus leaves it alone: use another "
                "database or schema",
                p->path);
        return rc;
    }
    if (rc == 0)
        rc = pg_query_int(p, "SELECT count(*) FROM meta", &tables, "reading the schema",
                          e);
    if (rc == 0 && tables == 0)
        return err_set(e, ST_EIO,
                       "%s: damaged: the store's table meta is empty (its id and schema "
                       "version are gone); restore the database from a backup",
                       p->path);
    if (rc == 0)
        rc = pg_meta_get(p, "application", app, sizeof(app), e);
    if (rc == 0)
        rc = pg_meta_get(p, "schema_version", ver, sizeof(ver), e);
    if (rc != 0)
        return rc;
    if (strcmp(app, "stratus") != 0)
        return err_set(e, ST_EIO,
                       "%s: not a stratus store (its table meta is another program's); "
                       "stratus leaves it alone: use another database or schema",
                       p->path);
    *version = strtoll(ver, NULL, 10);
    if (*version > PG_VERSION)
        return err_set(e, ST_ESTATE,
                       "%s: this database was written by a newer stratus (schema version "
                       "%" PRId64 "; this stratus knows up to %d); upgrade stratus",
                       p->path, *version, PG_VERSION);
    return 0;
}

/* Apply the pending steps; the caller holds the writer lock in a
 * transaction, so two processes opening a new database at once migrate it
 * once (the second finds it current here). */
static int pg_migrate_locked(struct pg *p, struct err *e)
{
    char op[96], ver[16], id[STORE_ID_LEN + 1];
    int64_t version;
    int rc = pg_version(p, &version, e), v;

    if (rc != 0 || version == PG_VERSION)
        return rc;
    snprintf(op, sizeof(op), "migrating the schema from version %" PRId64 " to %d",
             version, PG_VERSION);
    for (v = (int)version; rc == 0 && v < PG_VERSION; v++)
        rc = pg_sql_exec(p, pg_migrations[v], op, e);
    if (rc == 0 && version == 0) {
        rc = store_new_id(id, e);
        if (rc == 0)
            rc = pg_meta_put(p, "application", "stratus", e);
        if (rc == 0)
            rc = pg_meta_put(p, "store_id", id, e);
    }
    snprintf(ver, sizeof(ver), "%d", PG_VERSION);
    return rc != 0 ? rc : pg_meta_put(p, "schema_version", ver, e);
}

/* Bring the schema up to date, all pending steps in one transaction; only
 * reads when it is current. */
static int pg_migrate(struct store *st, struct err *e)
{
    struct pg *p = st->priv;
    int64_t version;
    int rc = pg_version(p, &version, e);

    /* Anything but a current store is judged again under the writer lock:
     * read without it, another process's migration may commit between two
     * reads of the check (its tables seen, its meta not yet). */
    if (rc == 0 && version == PG_VERSION) {
        st->schema_version = PG_VERSION;
        return 0;
    }
    /* A session lock, then a transaction: one begun before the lock was
     * granted could still see the catalog as it was before (another
     * process's new tables unknown by name). */
    rc = pg_sql_exec(p, "SELECT pg_advisory_lock(" PG_WRITE_LOCK ")",
                     "migrating the schema", e);
    if (rc != 0)
        return rc;
    p->tx_open = 1;
    rc = pg_sql_exec(p, "BEGIN", "migrating the schema", e);
    if (rc == 0)
        rc = pg_migrate_locked(p, e);
    if (rc == 0)
        rc = pg_commit_db(p, e);
    else
        pg_rollback_db(p);
    pg_sql_exec(p, "SELECT pg_advisory_unlock(" PG_WRITE_LOCK ")", "migrating the schema",
                NULL);
    if (rc == 0)
        st->schema_version = PG_VERSION;
    return rc;
}

static int pg_identity(struct store *st, struct err *e)
{
    struct pg *p = st->priv;
    char id[64];
    int rc = pg_meta_get(p, "store_id", id, sizeof(id), e);

    if (rc != 0)
        return rc;
    if (!store_id_valid(id))
        return err_set(
            e, ST_EIO,
            "%s: damaged: the store's id (table meta, key store_id) is missing "
            "or not %d hex digits; restore the database from a backup",
            p->path, STORE_ID_LEN);
    memcpy(st->id, id, sizeof(st->id));
    st->legacy = 0; /* no stratus before identities wrote PostgreSQL */
    return 0;
}

static void pg_close(struct store *st)
{
    struct pg *p = st->priv;

    if (p->conn != NULL)
        PQfinish(p->conn); /* the server rolls back a transaction left open */
    if (p->listen != NULL)
        PQfinish(p->listen);
    free(p->uri);
    free(p->fence_sql);
    free(p->keep_sql);
    memset(p, 0, sizeof(*p));
}

/* st->path becomes the connection string without its password: the core
 * puts it in messages (store.c), and a password must not reach logs. */
static int pg_open(struct store *st, const char *path, struct err *e)
{
    struct pg *p = st->priv;
    char *redacted = store_redact(path);
    int rc;

    free(st->path);
    st->path = redacted;
    p->st = st;
    p->path = st->path;
    p->lock_wait_ms = store_lock_wait_ms;
    p->uri = xstrdup(path);
    rc = pg_connect(p, path, e);
    if (rc == 0)
        rc = pg_migrate(st, e);
    if (rc == 0)
        rc = pg_identity(st, e);
    if (rc != 0)
        pg_close(st);
    return rc;
}

static int pg_begin(struct store *st, struct err *e)
{
    return pg_begin_db(st->priv, "beginning a transaction", e);
}

static int pg_commit(struct store *st, struct err *e)
{
    return pg_commit_db(st->priv, e);
}

static void pg_rollback(struct store *st)
{
    pg_rollback_db(st->priv);
}

/* ---- 5. records ------------------------------------------------------------- */

/* A write op body: runs inside pg_atomic_enter/leave. */
typedef int (*pg_write_fn)(struct pg *p, void *arg, struct err *e);

static int pg_write(struct store *st, pg_write_fn fn, void *arg, const char *op,
                    struct err *e)
{
    struct pg *p = st->priv;
    int own, rc, tries;

    p->commit_sent = 0;
    for (tries = 0; tries < 2; tries++) {
        rc = pg_atomic_enter(p, &own, op, e);
        if (rc == 0)
            rc = pg_atomic_leave(p, own, fn(p, arg, e), e);
        /* once more on a new connection when PostgreSQL went away before
         * its own transaction committed (nothing of it is stored) */
        if (rc == 0 || own != PG_OWN_TX || !pg_retry_ok(p))
            break;
    }
    p->commit_sent = 0;
    return rc;
}

/* -- jobs -- */

static int insert_job(struct pg *p, void *arg, struct err *e)
{
    struct store_job *j = arg;
    struct pgbind b;

    pg_bind(&b);
    rows_bind_job(&b.base, j);
    pb_text(&b, j->spec_text);
    pb_text(&b, j->policy_text);
    return pg_insert(p, PQ_JOB_INSERT, &b, &j->id, "adding a job", e);
}

static int pg_job_insert(struct store *st, struct store_job *j, struct err *e)
{
    int64_t id = j->id;
    int rc = pg_write(st, insert_job, j, "adding a job", e);

    if (rc != 0)
        j->id = id;
    return rc;
}

static int update_job(struct pg *p, void *arg, struct err *e)
{
    const struct store_job *j = arg;
    struct pgbind b;
    int64_t found = 0;
    int rc;

    pg_bind(&b);
    rows_bind_job(&b.base, j);
    pb_int(&b, j->id);
    pb_text(&b, j->spec_text);
    pb_text(&b, j->policy_text);
    rc = pg_insert(p, PQ_JOB_UPDATE, &b, &found, "updating a job", e);
    if (rc == 0 && found == 0)
        return err_set(e, ST_ENOTFOUND, "no job %" PRId64, j->id);
    return rc;
}

static int pg_job_update(struct store *st, const struct store_job *j, struct err *e)
{
    return pg_write(st, update_job, (void *)(uintptr_t)j, "updating a job", e);
}

static int pg_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, id);
    return pg_fetch_one(st->priv, PQ_JOB_GET, &b, &rows_jobs, out, "job", id,
                        "reading a job", e);
}

/* LIMIT NULL is no limit. */
static void pb_limit(struct pgbind *b, size_t limit)
{
    if (limit == 0 || limit > INT64_MAX)
        pb_null(b);
    else
        pb_int(b, (int64_t)limit);
}

static int pg_job_scan(struct store *st, const struct store_job_scan *q,
                       struct store_job **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, q->active_only ? JOB_SUCCEEDED : INT32_MAX); /* every state is below it */
    pb_int(&b, q->desc && q->after <= 0 ? INT64_MAX : q->after);
    pb_limit(&b, q->limit);
    return pg_fetch(st->priv,
                    q->no_texts ? (q->desc ? PQ_JOB_SCAN_BARE_DESC : PQ_JOB_SCAN_BARE)
                                : (q->desc ? PQ_JOB_SCAN_DESC : PQ_JOB_SCAN),
                    &b, &rows_jobs, (void **)out, n, "listing jobs", e);
}

/* -- attempts -- */

static int insert_attempt(struct pg *p, void *arg, struct err *e)
{
    struct store_attempt *a = arg;
    struct pgbind b;

    pg_bind(&b);
    rows_bind_attempt(&b.base, a);
    return pg_insert(p, PQ_ATT_INSERT, &b, &a->id, "adding an attempt", e);
}

static int pg_attempt_insert(struct store *st, struct store_attempt *a, struct err *e)
{
    return pg_write(st, insert_attempt, a, "adding an attempt", e);
}

static int update_attempt(struct pg *p, void *arg, struct err *e)
{
    const struct store_attempt *a = arg;
    struct pgbind b;
    int64_t changes = 0;
    int rc;

    pg_bind(&b);
    rows_bind_attempt(&b.base, a);
    pb_int(&b, a->id);
    rc = pg_exec(p, PQ_ATT_UPDATE, &b, &changes, "updating an attempt", e);
    if (rc == 0 && changes == 0)
        return err_set(e, ST_ENOTFOUND, "no attempt %" PRId64, a->id);
    return rc;
}

static int pg_attempt_update(struct store *st, const struct store_attempt *a,
                             struct err *e)
{
    return pg_write(st, update_attempt, (void *)(uintptr_t)a, "updating an attempt", e);
}

static int pg_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                          struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, id);
    return pg_fetch_one(st->priv, PQ_ATT_GET, &b, &rows_attempts, out, "attempt", id,
                        "reading an attempt", e);
}

static int pg_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                           size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, job_id > 0 ? job_id : ATT_ENDED);
    return pg_fetch(st->priv, job_id > 0 ? PQ_ATT_LIST_JOB : PQ_ATT_LIST_LIVE, &b,
                    &rows_attempts, (void **)out, n, "listing attempts", e);
}

static int pg_attempt_page(struct store *st, int64_t after_id, size_t limit,
                           struct store_attempt **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, after_id);
    pb_limit(&b, limit);
    return pg_fetch(st->priv, PQ_ATT_PAGE, &b, &rows_attempts, (void **)out, n,
                    "listing attempts", e);
}

/* -- nodes -- */

static int put_node(struct pg *p, void *arg, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    rows_bind_node(&b.base, arg);
    return pg_exec(p, PQ_NODE_PUT, &b, NULL, "recording a node", e);
}

static int pg_node_put(struct store *st, const struct store_node *nd, struct err *e)
{
    return pg_write(st, put_node, (void *)(uintptr_t)nd, "recording a node", e);
}

static int pg_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                        size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, attempt_id);
    return pg_fetch(st->priv, PQ_NODE_LIST, &b, &rows_nodes, (void **)out, n,
                    "listing nodes", e);
}

/* -- events -- */

struct event_args {
    int64_t job_id, attempt_id;
    double at;
    const char *type, *msg;
    int from_state, to_state;
    int64_t *out_id;
};

static int append_event(struct pg *p, void *arg, struct err *e)
{
    struct event_args *a = arg;
    struct pgbind b;

    pg_bind(&b);
    rb_id(&b.base, a->job_id);
    rb_id(&b.base, a->attempt_id);
    pb_dbl(&b, a->at);
    pb_text(&b, a->type);
    pb_int(&b, a->from_state);
    pb_int(&b, a->to_state);
    pb_text(&b, a->msg);
    return pg_insert(p, PQ_EVENT_APPEND, &b, a->out_id, "appending an event", e);
}

static int pg_event_append(struct store *st, int64_t job_id, int64_t attempt_id,
                           double at, const char *type, int from_state, int to_state,
                           const char *msg, int64_t *out_id, struct err *e)
{
    struct event_args a = {job_id, attempt_id, at,       type,
                           msg,    from_state, to_state, out_id};
    int rc = pg_write(st, append_event, &a, "appending an event", e);

    if (rc != 0)
        *out_id = 0;
    return rc;
}

static int pg_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                         struct store_event **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, after_id);
    pb_limit(&b, limit);
    if (job_id != 0)
        pb_int(&b, job_id);
    return pg_fetch(st->priv, job_id != 0 ? PQ_EVENT_LIST_JOB : PQ_EVENT_LIST, &b,
                    &rows_events, (void **)out, n, "listing events", e);
}

/* -- checkpoints -- */

struct ckpt_args {
    int64_t job_id, attempt_id;
    const char *path;
    double bytes, at;
};

static int add_ckpt(struct pg *p, void *arg, struct err *e)
{
    struct ckpt_args *a = arg;
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, a->job_id);
    rb_id(&b.base, a->attempt_id);
    pb_text(&b, a->path);
    pb_dbl(&b, a->bytes);
    pb_dbl(&b, a->at);
    return pg_exec(p, PQ_CKPT_ADD, &b, NULL, "recording a checkpoint", e);
}

static int pg_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                             const char *path, double bytes, double at, struct err *e)
{
    struct ckpt_args a = {job_id, attempt_id, path, bytes, at};

    return pg_write(st, add_ckpt, &a, "recording a checkpoint", e);
}

static int pg_checkpoint_list(struct store *st, int64_t job_id,
                              struct store_checkpoint **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, job_id);
    return pg_fetch(st->priv, PQ_CKPT_LIST, &b, &rows_ckpts, (void **)out, n,
                    "listing checkpoints", e);
}

/* -- requests -- */

struct req_args {
    const char *kind, *arg;
    double at;
    int64_t *out_id;
};

static int add_request(struct pg *p, void *arg, struct err *e)
{
    struct req_args *a = arg;
    struct pgbind b;

    pg_bind(&b);
    pb_dbl(&b, a->at);
    pb_text(&b, a->kind);
    pb_text(&b, a->arg);
    return pg_insert(p, PQ_REQ_ADD, &b, a->out_id, "filing a request", e);
}

static int pg_request_add(struct store *st, const char *kind, const char *arg, double at,
                          int64_t *out_id, struct err *e)
{
    struct req_args a = {kind, arg, at, out_id};
    int rc = pg_write(st, add_request, &a, "filing a request", e);

    if (rc != 0)
        *out_id = 0;
    return rc;
}

struct take_args {
    struct store_request *v;
    size_t n;
};

/* The pending requests, then mark exactly those done (up to the last id read). */
static int take_pending(struct pg *p, void *arg, struct err *e)
{
    struct take_args *t = arg;
    struct pgbind b;
    void *v = NULL;
    int rc;

    store_requests_free(t->v, t->n); /* of a try that failed (pg_write) */
    t->v = NULL;
    t->n = 0;
    pg_bind(&b);
    rc = pg_fetch(p, PQ_REQ_PENDING, &b, &rows_requests, &v, &t->n, "taking requests", e);
    t->v = v;
    if (rc != 0 || t->n == 0)
        return rc;
    pg_bind(&b);
    pb_int(&b, t->v[t->n - 1].id);
    return pg_exec(p, PQ_REQ_DONE, &b, NULL, "taking requests", e);
}

static int pg_request_take(struct store *st, struct store_request **out, size_t *n,
                           struct err *e)
{
    struct take_args t = {NULL, 0};
    int rc = pg_write(st, take_pending, &t, "taking requests", e);

    if (rc != 0) {
        store_requests_free(t.v, t.n);
        t.v = NULL;
        t.n = 0;
    }
    *out = t.v;
    *n = t.n;
    return rc;
}

/* -- blocks -- */

/* One row per location: blocking it again extends the block (never
 * shortens it), as sqlite.c. */
static int add_block(struct pg *p, void *arg, struct err *e)
{
    const struct store_block *bl = arg;
    struct pgbind b;
    int64_t changes = 0;
    int rc;

    pg_bind(&b);
    rows_bind_block(&b.base, bl);
    rc = pg_exec(p, PQ_BLOCK_EXTEND, &b, &changes, "blocking a location", e);
    if (rc != 0 || changes > 0)
        return rc;
    return pg_exec(p, PQ_BLOCK_INSERT, &b, NULL, "blocking a location", e);
}

static int pg_block_add(struct store *st, const struct store_block *bl, struct err *e)
{
    return pg_write(st, add_block, (void *)(uintptr_t)bl, "blocking a location", e);
}

static int pg_block_list(struct store *st, double now, struct store_block **out,
                         size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_dbl(&b, now);
    return pg_fetch(st->priv, PQ_BLOCK_LIST, &b, &rows_blocks, (void **)out, n,
                    "listing blocks", e);
}

/* -- the cost report -- */

static int pg_cost_report(struct store *st, enum store_cost_by by, double now,
                          struct store_cost_row **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, ATT_ENDED);
    pb_int(&b, ATT_END_EXITED);
    pb_dbl(&b, now);
    return pg_fetch(st->priv, (enum pg_stmt)(PQ_COST_CLOUD + (int)by), &b,
                    &rows_cost_rows, (void **)out, n, "reporting costs", e);
}

/* -- tokens -- */

/* Tokens selected by statement q with one text parameter (NULL: none). */
static int token_query(struct pg *p, enum pg_stmt q, const char *arg,
                       struct store_token **out, size_t *n, const char *op, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    if (arg != NULL)
        pb_text(&b, arg);
    return pg_fetch(p, q, &b, &rows_tokens, (void **)out, n, op, e);
}

static int insert_token(struct pg *p, void *arg, struct err *e)
{
    struct store_token *t = arg, *live;
    struct pgbind b;
    size_t n;
    int rc = token_query(p, PQ_TOKEN_LIVE_NAME, t->name, &live, &n, "adding a token", e);

    if (rc != 0)
        return rc;
    store_tokens_free(live, n);
    if (n > 0)
        return err_set(e, ST_EEXISTS,
                       "a token named '%s' already exists; revoke it first or pick "
                       "another name",
                       t->name);
    pg_bind(&b);
    pb_text(&b, t->name);
    pb_text(&b, t->role);
    pb_text(&b, t->hash);
    pb_dbl(&b, t->created_at);
    pb_text(&b, t->user);
    return pg_insert(p, PQ_TOKEN_INSERT, &b, &t->id, "adding a token", e);
}

static int pg_token_insert(struct store *st, struct store_token *t, struct err *e)
{
    return pg_write(st, insert_token, t, "adding a token", e);
}

static int pg_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                            struct err *e)
{
    struct store_token *v;
    size_t n;
    int rc =
        token_query(st->priv, PQ_TOKEN_BY_HASH, hash, &v, &n, "looking up a token", e);

    if (rc == 0 && rows_one(v, n, sizeof(*out), out))
        rc = err_set(e, ST_ENOTFOUND, "no such token");
    return rc;
}

static int pg_token_list(struct store *st, int live_only, struct store_token **out,
                         size_t *n, struct err *e)
{
    return token_query(st->priv, live_only ? PQ_TOKEN_LIST_LIVE : PQ_TOKEN_LIST, NULL,
                       out, n, "listing tokens", e);
}

struct revoke_args {
    int64_t id;
    double at;
};

static int revoke_token(struct pg *p, void *arg, struct err *e)
{
    struct revoke_args *a = arg;
    struct pgbind b;
    int64_t changes = 0;
    int rc;

    pg_bind(&b);
    pb_dbl(&b, a->at);
    pb_int(&b, a->id);
    rc = pg_exec(p, PQ_TOKEN_REVOKE, &b, &changes, "revoking a token", e);
    if (rc == 0 && changes == 0)
        rc = err_set(e, ST_ENOTFOUND, "no live token %" PRId64, a->id);
    return rc;
}

static int pg_token_revoke(struct store *st, int64_t id, double at, struct err *e)
{
    struct revoke_args a = {id, at};

    return pg_write(st, revoke_token, &a, "revoking a token", e);
}

/* -- settings -- */

static int pg_setting_get(struct store *st, const char *key, char **value, struct err *e)
{
    struct pgbind b;
    void *v = NULL;
    size_t n = 0;
    int rc;

    pg_bind(&b);
    pb_text(&b, key);
    rc = pg_fetch(st->priv, PQ_SETTING_GET, &b, &rows_settings, &v, &n,
                  "reading a setting", e);
    if (rc == 0 && n == 1)
        *value = *(char **)v;
    free(v); /* the one string, if any, now belongs to *value */
    return rc;
}

struct setting_args {
    const char *key, *value;
};

static int put_setting(struct pg *p, void *arg, struct err *e)
{
    struct setting_args *a = arg;
    struct pgbind b;

    pg_bind(&b);
    pb_text(&b, a->key);
    if (a->value != NULL)
        pb_text(&b, a->value);
    return pg_exec(p, a->value != NULL ? PQ_SETTING_PUT : PQ_SETTING_DEL, &b, NULL,
                   "writing a setting", e);
}

static int pg_setting_put(struct store *st, const char *key, const char *value,
                          struct err *e)
{
    struct setting_args a = {key, value};

    return pg_write(st, put_setting, &a, "writing a setting", e);
}

/* -- services -- */

/* Services selected by statement q: with a name when name is not NULL,
 * then with *id when id is not NULL. */
static int service_query(struct pg *p, enum pg_stmt q, const char *name,
                         const int64_t *id, struct store_service **out, size_t *n,
                         const char *op, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    if (name != NULL)
        pb_text(&b, name);
    if (id != NULL)
        pb_int(&b, *id);
    return pg_fetch(p, q, &b, &rows_services, (void **)out, n, op, e);
}

/* ST_EEXISTS when a live service other than id (0: a new one) has sv's
 * name and sv would be live too (sqlite.c's service_name_free). */
static int service_name_free(struct pg *p, const struct store_service *sv, int64_t id,
                             const char *op, struct err *e)
{
    struct store_service *live;
    size_t n;
    int rc;

    if (sv->ended_at != 0)
        return 0;
    rc = service_query(p, PQ_SVC_LIVE_NAME, sv->name, &id, &live, &n, op, e);
    return rc != 0 ? rc : rows_service_name_free(sv, live, n, e);
}

static int insert_service(struct pg *p, void *arg, struct err *e)
{
    struct store_service *sv = arg;
    struct pgbind b;
    int rc = service_name_free(p, sv, 0, "adding a service", e);

    if (rc != 0)
        return rc;
    pg_bind(&b);
    rows_bind_service(&b.base, sv);
    return pg_insert(p, PQ_SVC_INSERT, &b, &sv->id, "adding a service", e);
}

static int pg_service_insert(struct store *st, struct store_service *sv, struct err *e)
{
    return pg_write(st, insert_service, sv, "adding a service", e);
}

/* Not found is checked before the name, as memstore and sqlite.c do. */
static int update_service(struct pg *p, void *arg, struct err *e)
{
    const struct store_service *sv = arg;
    struct store_service *cur;
    struct pgbind b;
    size_t n;
    int rc =
        service_query(p, PQ_SVC_GET, NULL, &sv->id, &cur, &n, "updating a service", e);

    if (rc != 0)
        return rc;
    store_services_free(cur, n);
    if (n == 0)
        return err_set(e, ST_ENOTFOUND, "no service %" PRId64, sv->id);
    rc = service_name_free(p, sv, sv->id, "updating a service", e);
    if (rc != 0)
        return rc;
    pg_bind(&b);
    rows_bind_service(&b.base, sv);
    pb_int(&b, sv->id);
    return pg_exec(p, PQ_SVC_UPDATE, &b, NULL, "updating a service", e);
}

static int pg_service_update(struct store *st, const struct store_service *sv,
                             struct err *e)
{
    return pg_write(st, update_service, (void *)(uintptr_t)sv, "updating a service", e);
}

/* The one row of a query into *out, ST_ENOTFOUND when there is none. */
static int service_one(struct pg *p, enum pg_stmt q, const char *name, const int64_t *id,
                       struct store_service *out, const char *op, struct err *e)
{
    struct store_service *v;
    size_t n;
    int rc = service_query(p, q, name, id, &v, &n, op, e);

    if (rc != 0 || !rows_one(v, n, sizeof(*out), out))
        return rc;
    return name != NULL ? err_set(e, ST_ENOTFOUND, "no service named '%s'", name)
                        : err_set(e, ST_ENOTFOUND, "no service %" PRId64, *id);
}

static int pg_service_get(struct store *st, int64_t id, struct store_service *out,
                          struct err *e)
{
    return service_one(st->priv, PQ_SVC_GET, NULL, &id, out, "reading a service", e);
}

static int pg_service_find(struct store *st, const char *name, struct store_service *out,
                           struct err *e)
{
    return service_one(st->priv, PQ_SVC_FIND, name, NULL, out, "looking up a service", e);
}

static int pg_service_list(struct store *st, int live_only, struct store_service **out,
                           size_t *n, struct err *e)
{
    return service_query(st->priv, live_only ? PQ_SVC_LIST_LIVE : PQ_SVC_LIST, NULL, NULL,
                         out, n, "listing services", e);
}

static int pg_replica_list(struct store *st, int64_t service_id, int active_only,
                           struct store_job **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_int(&b, service_id);
    if (active_only)
        pb_int(&b, JOB_SUCCEEDED);
    return pg_fetch(st->priv, active_only ? PQ_REPLICA_LIST_ACTIVE : PQ_REPLICA_LIST, &b,
                    &rows_jobs, (void **)out, n, "listing a service's replicas", e);
}

/* -- secrets -- */

static int put_secret(struct pg *p, void *arg, struct err *e)
{
    const struct store_secret *v = arg;
    struct pgbind b;

    pg_bind(&b);
    pb_text(&b, v->team);
    pb_text(&b, v->name);
    pb_blob(&b, v->ciphertext, v->ciphertext_len);
    pb_blob(&b, v->nonce, v->nonce_len);
    pb_dbl(&b, v->updated_at);
    return pg_exec(p, PQ_SECRET_PUT, &b, NULL, "writing a secret", e);
}

static int pg_secret_put(struct store *st, const struct store_secret *v, struct err *e)
{
    return pg_write(st, put_secret, (void *)(uintptr_t)v, "writing a secret", e);
}

static int pg_secret_get(struct store *st, const char *team, const char *name,
                         struct store_secret *out, struct err *e)
{
    struct pgbind b;
    void *v = NULL;
    size_t n = 0;
    int rc;

    pg_bind(&b);
    pb_text(&b, team);
    pb_text(&b, name);
    rc = pg_fetch(st->priv, PQ_SECRET_GET, &b, &rows_secrets, &v, &n, "reading a secret",
                  e);
    if (rc == 0 && n == 0)
        rc = err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    if (rc == 0)
        *out = *(struct store_secret *)v; /* the one row: (team, name) is the key */
    free(v);                              /* its fields now belong to *out */
    return rc;
}

static int pg_secret_list(struct store *st, const char *team, struct store_secret **out,
                          size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_text(&b, team);
    return pg_fetch(st->priv, PQ_SECRET_LIST, &b, &rows_secrets, (void **)out, n,
                    "listing secrets", e);
}

struct secret_key {
    const char *team, *name;
};

static int delete_secret(struct pg *p, void *arg, struct err *e)
{
    struct secret_key *k = arg;
    struct pgbind b;
    int64_t changes = 0;
    int rc;

    pg_bind(&b);
    pb_text(&b, k->team);
    pb_text(&b, k->name);
    rc = pg_exec(p, PQ_SECRET_DEL, &b, &changes, "deleting a secret", e);
    if (rc == 0 && changes == 0)
        rc = err_set(e, ST_ENOTFOUND, "no secret '%s'", k->name);
    return rc;
}

static int pg_secret_delete(struct store *st, const char *team, const char *name,
                            struct err *e)
{
    struct secret_key k = {team, name};

    return pg_write(st, delete_secret, &k, "deleting a secret", e);
}

/* -- data replicas -- */

static int put_data(struct pg *p, void *arg, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    rows_bind_data(&b.base, arg);
    return pg_exec(p, PQ_DATA_PUT, &b, NULL, "writing a data replica", e);
}

static int pg_data_put(struct store *st, const struct store_data_replica *v,
                       struct err *e)
{
    return pg_write(st, put_data, (void *)(uintptr_t)v, "writing a data replica", e);
}

static int pg_data_list(struct store *st, const char *dataset, int live_only,
                        struct store_data_replica **out, size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_text(&b, dataset);
    pb_int(&b, live_only);
    return pg_fetch(st->priv, PQ_DATA_LIST, &b, &rows_data, (void **)out, n,
                    "listing data replicas", e);
}

static int pg_data_storage(struct store *st, double now, struct store_cost_row **out,
                           size_t *n, struct err *e)
{
    struct pgbind b;

    pg_bind(&b);
    pb_dbl(&b, now);
    return pg_fetch(st->priv, PQ_DATA_STORAGE, &b, &rows_cost_rows, (void **)out, n,
                    "adding up the keeping of data copies", e);
}

/* ---- 7. leadership: the lease, the fence, notifications ----------------------
 *
 * The lease is one row, leader_lease(id = 1), outside the versioned schema:
 * made by the first server that asks for it, in a transaction under the
 * writer lock (two servers starting at once make it once).  Its times are
 * the database's clock_timestamp(), never a server's.
 *
 * The fence is the function stratus_fence(holder, epoch), the first
 * statement of every write transaction of a fenced handle (after the writer
 * lock): it locks the lease's row FOR SHARE and raises PG_FENCED_STATE when
 * the row has another holder or epoch.  A take by another server updates
 * the row, so it waits for any write transaction of the old leader that
 * holds the row lock to end; a leader paused inside a transaction is cut
 * off by idle_in_transaction_session_timeout (the lease's time), which
 * releases its locks and throws its transaction away.  The leader renews
 * the lease in the commit of a transaction once it is due (pg_commit_db):
 * the row is locked by itself only, so a take waiting on it then finds the
 * lease renewed (test_pg_lease_renewed_in_tx).
 */

#define PG_FENCE_BODY                                                                    \
    " BEGIN PERFORM 1 FROM " STORE_LEASE_TABLE                                           \
    " WHERE id = 1 AND holder = h AND epoch = ep FOR SHARE;"                             \
    " IF NOT FOUND THEN RAISE EXCEPTION 'deposed' USING ERRCODE = '" PG_FENCED_STATE     \
    "';"                                                                                 \
    " END IF; END "

static const char pg_lease_ddl[] =
    "BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ");"
    "CREATE TABLE IF NOT EXISTS " STORE_LEASE_TABLE " ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, url TEXT NOT NULL,"
    "  epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL,"
    "  renewed_at TIMESTAMPTZ NOT NULL);"
    "CREATE OR REPLACE FUNCTION stratus_fence(h TEXT, ep BIGINT) RETURNS void"
    " LANGUAGE plpgsql AS $f$" PG_FENCE_BODY "$f$;"
    "COMMIT";

/* The lease's table and this build's fence, both there already: the DDL
 * (and the writer lock it takes, which waits for the leader's write in
 * progress) is skipped. */
static const char pg_lease_ready_sql[] =
    "SELECT to_regclass('" STORE_LEASE_TABLE "') IS NOT NULL AND EXISTS (SELECT 1 FROM"
    " pg_proc WHERE proname = 'stratus_fence' AND prosrc = $1)";

/* The columns of a struct store_lease (pg_lease_read), as the lease's row
 * has them now. */
#define PG_LEASE_COLS                                                                    \
    "holder, url, epoch, extract(epoch FROM expires_at - clock_timestamp())::float8,"   \
    " extract(epoch FROM clock_timestamp() - renewed_at)::float8"

static const char pg_lease_take_sql[] =
    "INSERT INTO " STORE_LEASE_TABLE " AS l (id, holder, url, epoch, expires_at, renewed_at)"
    " VALUES (1, $1, $2, 1, clock_timestamp() + make_interval(secs => $3::float8),"
    "  clock_timestamp())"
    " ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, url = EXCLUDED.url,"
    "  epoch = l.epoch + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END,"
    "  expires_at = EXCLUDED.expires_at, renewed_at = EXCLUDED.renewed_at"
    " WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp()"
    " RETURNING " PG_LEASE_COLS;

static const char pg_lease_get_sql[] =
    "SELECT " PG_LEASE_COLS " FROM " STORE_LEASE_TABLE " WHERE id = 1";

/* Literal SQL with text parameters, outside the statement table (the lease
 * is a few statements a second at most). */
static int pg_params(struct pg *p, const char *sql, int n, const char *const *vals,
                     PGresult **out, const char *op, struct err *e)
{
    PGresult *res;
    int rc = pg_ready(p, op, e);

    *out = NULL;
    if (rc != 0)
        return rc;
    res = PQexecParams(p->conn, sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_FATAL_ERROR && PQstatus(p->conn) != CONNECTION_OK &&
        pg_retry_ok(p) && pg_ready(p, op, NULL) == 0) {
        PQclear(res); /* PostgreSQL restarted since: once more, on the new connection */
        res = PQexecParams(p->conn, sql, n, NULL, vals, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(p, res, op, e);
        PQclear(res);
        return rc;
    }
    *out = res;
    return 0;
}

static int pg_lease_setup(struct pg *p, struct err *e)
{
    const char *body[1] = {PG_FENCE_BODY};
    PGresult *res;
    int rc;

    if (p->lease_ready)
        return 0;
    rc = pg_params(p, pg_lease_ready_sql, 1, body, &res, "making the leader lease", e);
    if (rc != 0)
        return rc;
    p->lease_ready = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (p->lease_ready)
        return 0;
    rc = pg_ready(p, "making the leader lease", e);
    if (rc == 0) {
        p->tx_open = 1;
        rc = pg_sql_exec(p, pg_lease_ddl, "making the leader lease", e);
        p->tx_open = 0;
        if (rc != 0)
            pg_rollback_db(p);
    }
    p->lease_ready = rc == 0;
    return rc;
}

/* Fence every later write transaction with (holder, epoch); epoch -1
 * fences everything. */
static void pg_fence(struct pg *p, const char *holder, int64_t epoch, double ttl_s)
{
    char *lit = PQescapeLiteral(p->conn, holder, strlen(holder));

    BUG_ON(lit == NULL); /* only out of memory */
    free(p->fence_sql);
    p->fence_sql = xasprintf("SELECT stratus_fence(%s, %" PRId64 ")", lit, epoch);
    p->fence_epoch = epoch;
    p->idle_ms = (int)(ttl_s * 1000);
    free(p->keep_sql);
    p->keep_sql = NULL;
    if (epoch >= 0) /* held: the renewal of pg_lease_keep and pg_commit_db */
        p->keep_sql = xasprintf("UPDATE " STORE_LEASE_TABLE " SET expires_at ="
                                " clock_timestamp() + make_interval(secs => %.3f),"
                                " renewed_at = clock_timestamp()"
                                " WHERE id = 1 AND holder = %s AND epoch = %" PRId64,
                                ttl_s, lit, epoch);
    PQfreemem(lit);
}

/* The leader's lease kept alive by its own work: before a statement outside
 * a transaction, once a quarter of the lease has passed since the last take
 * or renewal, one UPDATE renews it (if this handle still holds it at its
 * epoch; else it stops trying).  A leader busy resuming or stepping on a
 * loaded machine thus keeps the lease it is using, where the server's timer
 * (which waits for the step to end) would have let it lapse and handed it to
 * a follower that would lapse it the same way, each term ending before its
 * first write.  A leader that is paused or cut off sends no statement, so
 * its lease lapses as before; the fence still guards every write. */
static void pg_lease_keep(struct pg *p)
{
    double t0 = clock_mono();
    PGresult *res;

    /* not in a transaction, nor on a lost connection (PQTRANS_UNKNOWN) */
    if (p->keep_sql == NULL || !pg_lease_due(p) ||
        PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        return;
    res = PQexec(p->conn, p->keep_sql);
    if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "1") == 0) {
        p->kept_at = t0;
    } else if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        free(p->keep_sql); /* another holds it now: the next take says so */
        p->keep_sql = NULL;
    }
    PQclear(res); /* an error: the statement that follows meets it too */
}

/* The lease in res (PG_LEASE_COLS) into *out; all zero when res has no row.
 * 1 when it had one. */
static int pg_lease_read(const PGresult *res, struct store_lease *out)
{
    memset(out, 0, sizeof(*out));
    if (PQntuples(res) != 1)
        return 0;
    snprintf(out->holder, sizeof(out->holder), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->url, sizeof(out->url), "%s", PQgetvalue(res, 0, 1));
    out->epoch = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    out->expires_in = strtod(PQgetvalue(res, 0, 3), NULL);
    out->age = strtod(PQgetvalue(res, 0, 4), NULL);
    return 1;
}

static int pg_lease_get(struct store *st, struct store_lease *out, struct err *e)
{
    struct pg *p = st->priv;
    PGresult *res;
    int rc = pg_lease_setup(p, e);

    if (rc == 0)
        rc = pg_params(p, pg_lease_get_sql, 0, NULL, &res, "reading the leader lease", e);
    if (rc != 0)
        return rc;
    pg_lease_read(res, out);
    PQclear(res);
    return 0;
}

static int pg_lease_take(struct store *st, const char *holder, const char *url, double ttl_s,
                         int *held, struct store_lease *out, struct err *e)
{
    struct pg *p = st->priv;
    struct store_lease now;
    char ttl[32], *wait;
    const char *vals[3] = {holder, url, ttl};
    PGresult *res = NULL;
    double t0 = clock_mono();
    int rc = pg_lease_get(st, &now, e), tx = 0, locked = 0;

    /* Another's lease that has not lapsed: a plain read says so, without
     * the row lock (a follower never waits on the leader's writes). */
    if (rc == 0 && now.holder[0] != '\0' && strcmp(now.holder, holder) != 0 &&
        now.expires_in > 0) {
        if (out != NULL)
            *out = now;
        return 0;
    }
    /* The take waits for the row lock at most a quarter of the lease: the
     * holder's write in progress, or one paused until PostgreSQL cuts it
     * off (the next take tries again). */
    snprintf(ttl, sizeof(ttl), "%.3f", ttl_s);
    wait = xasprintf("BEGIN; SET LOCAL lock_timeout = %d",
                     (int)(ttl_s * 250) < p->lock_wait_ms ? (int)(ttl_s * 250) + 1
                                                          : p->lock_wait_ms);
    if (rc == 0) {
        p->tx_open = tx = 1;
        p->tx_fenced = 0; /* the take's own: not the fenced writer's */
        rc = pg_sql_exec(p, wait, "taking the leader lease", e);
    }
    free(wait);
    if (rc == 0) {
        rc = pg_params(p, pg_lease_take_sql, 3, vals, &res, "taking the leader lease", e);
        locked = rc == ST_ESTATE;
    }
    if (rc == 0) {
        *held = pg_lease_read(res, &now); /* no row: another took it meanwhile */
        PQclear(res);
        rc = pg_commit_db(p, e);
        p->commit_sent = 0; /* answered: nothing unknown is pending */
    } else if (tx) {
        pg_rollback_db(p);
    }
    if (locked) {
        /* The row stayed locked the whole wait: its holder is writing (a
         * lapsed lease renewed in that commit) or paused mid-write until
         * PostgreSQL cuts it off.  Not taken, and not a store error: the
         * read below says who holds it; the next take tries again. */
        err_clear(e);
        rc = *held = 0;
    }
    if (rc != 0) {
        *held = 0;
        return rc;
    }
    if (*held) {
        p->kept_at = t0;
    } else {
        free(p->keep_sql); /* another's: nothing of ours to keep */
        p->keep_sql = NULL;
    }
    if (*held && (now.epoch != p->fence_epoch || p->idle_ms != (int)(ttl_s * 1000) ||
                  p->keep_sql == NULL)) {
        pg_fence(p, holder, now.epoch, ttl_s);
        rc = pg_session(p, "taking the leader lease", e); /* the idle timeout */
    }
    if (rc == 0 && !*held)
        rc = pg_lease_get(st, &now, e); /* who has it, then */
    if (rc == 0 && out != NULL)
        *out = now;
    return rc;
}

static int pg_lease_drop(struct store *st, const char *holder, struct err *e)
{
    struct pg *p = st->priv;
    const char *vals[1] = {holder};
    PGresult *res;
    int rc = pg_lease_setup(p, e);

    if (p->fence_sql != NULL)
        pg_fence(p, holder, -1, p->idle_ms / 1000.0);
    if (rc == 0)
        rc = pg_params(p,
                       "UPDATE " STORE_LEASE_TABLE " SET expires_at = clock_timestamp() -"
                       " interval '1 second' WHERE id = 1 AND holder = $1",
                       1, vals, &res, "giving up the leader lease", e);
    if (rc == 0)
        PQclear(res);
    return rc;
}

static int64_t pg_fence_epoch(const struct store *st)
{
    return ((const struct pg *)st->priv)->fence_epoch;
}

static int pg_notify(struct store *st, struct err *e)
{
    struct pg *p = st->priv;
    PGresult *res;
    int rc = pg_params(p, "NOTIFY stratus", 0, NULL, &res, "notifying", e);

    PQclear(res);
    return rc;
}

static int pg_listen_dial(struct pg *p, int *fd, struct err *e)
{
    PGresult *res;

    *fd = -1;
    if (p->listen != NULL)
        PQfinish(p->listen);
    p->listen = pg_dial(p->uri);
    if (PQstatus(p->listen) != CONNECTION_OK) {
        PQfinish(p->listen);
        p->listen = NULL;
        return err_set(e, ST_EIO, "%s: listening for changes: cannot connect to PostgreSQL "
                       "(is the server running?)", p->path);
    }
    res = PQexec(p->listen, "LISTEN stratus");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        PQfinish(p->listen);
        p->listen = NULL;
        return err_set(e, ST_EIO, "%s: listening for changes: LISTEN failed", p->path);
    }
    PQclear(res);
    PQsetnonblocking(p->listen, 1);
    *fd = PQsocket(p->listen);
    return 0;
}

static int pg_listen(struct store *st, int *fd, struct err *e)
{
    return pg_listen_dial(st->priv, fd, e);
}

static int pg_listen_read(struct store *st, int *fd, int *renewed, struct err *e)
{
    struct pg *p = st->priv;
    PGnotify *n;
    int count = 0, rc;

    if (p->listen != NULL && PQconsumeInput(p->listen) &&
        PQstatus(p->listen) == CONNECTION_OK) {
        while ((n = PQnotifies(p->listen)) != NULL) {
            count += n->be_pid != PQbackendPID(p->conn); /* not our own */
            PQfreemem(n);
        }
        *fd = PQsocket(p->listen);
        return count;
    }
    /* Lost (PostgreSQL restarted or gone): anew; what changed meanwhile
     * counts as one notification, since nobody can tell what it was. */
    *renewed = 1;
    rc = pg_listen_dial(p, fd, e);
    return rc != 0 ? rc : 1;
}

/* ---- 6. the ops table ------------------------------------------------------- */

const struct store_ops store_pg = {
    .name = "postgres",
    .prefix = "postgresql://",
    .alias = "postgres://", /* libpq takes both schemes */
    .priv_size = sizeof(struct pg),
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .job_insert = pg_job_insert,
    .job_update = pg_job_update,
    .job_get = pg_job_get,
    .job_scan = pg_job_scan,
    .attempt_insert = pg_attempt_insert,
    .attempt_update = pg_attempt_update,
    .attempt_get = pg_attempt_get,
    .attempt_list = pg_attempt_list,
    .attempt_page = pg_attempt_page,
    .node_put = pg_node_put,
    .node_list = pg_node_list,
    .event_append = pg_event_append,
    .event_list = pg_event_list,
    .checkpoint_add = pg_checkpoint_add,
    .checkpoint_list = pg_checkpoint_list,
    .request_add = pg_request_add,
    .request_take = pg_request_take,
    .block_add = pg_block_add,
    .block_list = pg_block_list,
    .cost_report = pg_cost_report,
    .token_insert = pg_token_insert,
    .token_by_hash = pg_token_by_hash,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
    .setting_get = pg_setting_get,
    .setting_put = pg_setting_put,
    .service_insert = pg_service_insert,
    .service_update = pg_service_update,
    .service_get = pg_service_get,
    .service_find = pg_service_find,
    .service_list = pg_service_list,
    .replica_list = pg_replica_list,
    .secret_put = pg_secret_put,
    .secret_get = pg_secret_get,
    .secret_list = pg_secret_list,
    .secret_delete = pg_secret_delete,
    .data_put = pg_data_put,
    .data_list = pg_data_list,
    .data_storage = pg_data_storage,
    .lease_take = pg_lease_take,
    .lease_get = pg_lease_get,
    .lease_drop = pg_lease_drop,
    .fence_epoch = pg_fence_epoch,
    .notify = pg_notify,
    .listen = pg_listen,
    .listen_read = pg_listen_read,
};
