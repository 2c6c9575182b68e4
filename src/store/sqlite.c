/*
 * sqlite.c - the SQLite backend of the store (struct store_ops store_sqlite).
 * Every SQL text and every SQLite call of Stratus lives in this file (but
 * migrate.c's, which reads a store's tables whole to copy them).
 *
 * Layout:
 *   1. the schema, as an ordered list of migrations (PRAGMA user_version
 *      counts how many are applied; PRAGMA application_id marks the file as
 *      a stratus store);
 *   2. the statement table: every statement the backend runs, prepared once
 *      per handle on first use and kept (reset and rebound for each use);
 *   3. errors, and small helpers that bind parameters and read columns in
 *      order; the record types' column lists and the walks over their
 *      fields are shared with pgstore.c (rows.c), so each is written once;
 *   4. the file (refusing what is not a store of ours, creating a new one
 *      whole and owner-only), open (pragmas, migration, the store's
 *      identity), close, transactions;
 *   5. one section per record type, in the order of store.h; the cost report;
 *   6. the ops table.
 *
 * The file: a missing database is made under a temporary name and linked
 * into place, so the path never exists as an empty file; an empty file is
 * then never ours (SQLite would take it for a new database and initialise
 * it) and is refused, as are another program's database and a newer
 * schema.  The database holds jobs' environments (`envs:` values): it is
 * created 0600, SQLite gives its -wal and -shm files the same mode, and a
 * wider mode found on open is narrowed to 0600 with a warning.
 *
 * Conventions: an id of 0 in a record ("none") is stored as NULL so that
 * foreign keys hold; NULL strings are stored as NULL; enum values are stored
 * as their numbers (store.h says so next to the enums).  Doubles are stored
 * as 8-byte IEEE values and come back bit for bit, except NaN, which SQLite
 * turns into NULL (refused by the NOT NULL columns: a NaN is a caller bug),
 * and -0.0, which comes back as 0.0.
 */
#include "rows.h"
#include "store_int.h"
#include "../util/log.h"
#include "../util/xmem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQ_APP_ID 0x53747261 /* "Stra": PRAGMA application_id of a stratus store */

/* ---- 1. schema ---------------------------------------------------------------
 *
 * Migration i (0-based) takes a database from version i to version i + 1.
 * A step is never edited once released: a change is a new step at the end.
 * All pending steps run in one transaction on open, so a database is at one
 * version or the next, never in between.
 */
static const char *const migrations[] = {
    /* 1: the tables.  A job's texts (kilobytes, written at submission) live
     * apart from its row, which every transition rewrites whole: an update
     * then writes one small row, and many rows share a page.  events are
     * append-only (the triggers refuse UPDATE and DELETE), which also keeps
     * their ids increasing: with no row ever deleted SQLite gives each new
     * row max(id) + 1, and writers are serialised, so a reader paging with
     * after_id never skips a row committed later. */
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT, spec_path TEXT,"
    "  kind INTEGER NOT NULL, team TEXT, priority INTEGER NOT NULL,"
    "  state INTEGER NOT NULL, reason TEXT,"
    "  submitted_at REAL NOT NULL, started_at REAL NOT NULL, ended_at REAL NOT NULL,"
    "  next_try_at REAL NOT NULL, deadline_at REAL NOT NULL,"
    "  restarts INTEGER NOT NULL, nattempts INTEGER NOT NULL,"
    "  cur_attempt INTEGER REFERENCES attempts(id),"
    "  on_demand_only INTEGER NOT NULL, work_done_s REAL NOT NULL, cost REAL NOT NULL,"
    "  exit_code INTEGER NOT NULL, cancel_requested INTEGER NOT NULL);"
    "CREATE TABLE job_texts ("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),"
    "  spec_text TEXT, policy_text TEXT);"
    "CREATE TABLE attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
    "  n INTEGER NOT NULL, state INTEGER NOT NULL,"
    "  cloud TEXT, region TEXT, zone TEXT, instance_type TEXT, accelerator TEXT,"
    "  acc_count INTEGER NOT NULL, nodes INTEGER NOT NULL, mode INTEGER NOT NULL,"
    "  price_hour REAL NOT NULL,"
    "  launched_at REAL NOT NULL, running_at REAL NOT NULL, ended_at REAL NOT NULL,"
    "  end_reason INTEGER NOT NULL, exit_code INTEGER NOT NULL, cost REAL NOT NULL,"
    "  ckpt_from INTEGER REFERENCES attempts(id),"
    "  ckpt_bytes REAL NOT NULL, ckpt_copy_s REAL NOT NULL,"
    "  UNIQUE (job_id, n));"
    "CREATE TABLE nodes ("
    "  attempt_id INTEGER NOT NULL REFERENCES attempts(id),"
    "  rank INTEGER NOT NULL, state INTEGER NOT NULL, exit_code INTEGER NOT NULL,"
    "  started_at REAL NOT NULL, ended_at REAL NOT NULL,"
    "  PRIMARY KEY (attempt_id, rank)) WITHOUT ROWID;"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id INTEGER REFERENCES jobs(id),"
    "  attempt_id INTEGER REFERENCES attempts(id),"
    "  at REAL NOT NULL, type TEXT NOT NULL,"
    "  from_state INTEGER NOT NULL, to_state INTEGER NOT NULL, msg TEXT);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE checkpoints ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
    "  attempt_id INTEGER REFERENCES attempts(id),"
    "  path TEXT, bytes REAL NOT NULL, at REAL NOT NULL);"
    "CREATE TABLE requests ("
    "  id INTEGER PRIMARY KEY,"
    "  at REAL NOT NULL, kind TEXT NOT NULL, arg TEXT,"
    "  done INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE blocks ("
    "  id INTEGER PRIMARY KEY,"
    "  cloud TEXT, region TEXT, zone TEXT, instance_type TEXT,"
    "  until REAL NOT NULL, reason TEXT);",

    /* 2: indexes for the hot queries: live attempts, a job's events and
     * checkpoints, pending requests, blocks in force.  Not jobs(state): every
     * transition would rewrite an index page too (commits about 35% slower in
     * bench_store), to speed up a listing the controller makes once, at start. */
    "CREATE INDEX attempts_state ON attempts(state);"
    "CREATE INDEX events_job ON events(job_id, id);"
    "CREATE INDEX checkpoints_job ON checkpoints(job_id, id);"
    "CREATE INDEX requests_pending ON requests(id) WHERE done = 0;"
    "CREATE INDEX blocks_location ON blocks(cloud, region);"
    "CREATE INDEX blocks_until ON blocks(until);",

    /* 3: an attempt whose price changed while it ran bills each stretch at
     * the price then in force: cost accumulates the earlier stretches and
     * priced_at says since when price_hour applies. */
    "ALTER TABLE attempts ADD COLUMN priced_at REAL NOT NULL DEFAULT 0;",

    /* 4: facts about the store itself, as key/value rows: 'store_id' (see
     * store_id(); job and attempt ids restart at 1 in a new database, so
     * what lives outside it is filed under this id) and, in a database
     * migrated from an earlier version, 'layout' = 'legacy' (its artefacts
     * are where the stratus that made it kept them).  The rows are written
     * by sq_make_identity(): an id is random, which SQL here does not do. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",

    /* 5: the part of an attempt's cost that moved the job's data to where it
     * ran, as billed (reports split compute from egress without redoing the
     * controller's accounting). */
    "ALTER TABLE attempts ADD COLUMN egress REAL NOT NULL DEFAULT 0;",

    /* 6: the server's records.  tokens: API bearer tokens, kept only as the
     * HMAC of the token (src/server/auth.c), looked up by that hash; a name
     * is unique among live tokens (revoked_at NULL), so a revoked name can
     * be given again.  No last-used time: it would turn every authenticated
     * read into a write.  settings: the server's key/value settings (the
     * org policy, "policy"). */
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,"
    "  created_at REAL NOT NULL, revoked_at REAL);"
    "CREATE UNIQUE INDEX tokens_hash ON tokens(hash);"
    "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL;"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",

    /* 7: services and their replicas.  A service row holds its texts (it
     * is rewritten rarely: at a state change or a new target); a name is
     * unique among live services (ended_at 0), so a name can be used again
     * once its service has ended.  A replica is a job naming its service
     * (0 = a plain job: no foreign key, so the column can be NOT NULL with a
     * default for the rows already there).  jobs_service is partial: every
     * transition rewrites a job's row, and a plain job's row is then in no
     * index page to rewrite (see 2 on jobs(state)); a query must say
     * service_id <> 0 for SQLite to use it. */
    "CREATE TABLE services ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL, spec_path TEXT, spec_text TEXT NOT NULL, policy_text TEXT,"
    "  version INTEGER NOT NULL, state INTEGER NOT NULL, reason TEXT,"
    "  created_at REAL NOT NULL, updated_at REAL NOT NULL, ended_at REAL NOT NULL,"
    "  target INTEGER NOT NULL, api_keys TEXT);"
    "CREATE UNIQUE INDEX services_live_name ON services(name) WHERE ended_at = 0;"
    "CREATE INDEX services_name ON services(name);"
    "ALTER TABLE jobs ADD COLUMN service_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN svc_version INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN port INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN svc_mode INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX jobs_service ON jobs(service_id) WHERE service_id <> 0;",

    /* 8: what `serve keys` lists of a service's API keys (id, prefix, when
     * made and revoked), beside api_keys, which stays the digests routers
     * check.  NULL in the rows from before: read as keys made at the
     * service's start (src/server/api_services.c). */
    "ALTER TABLE services ADD COLUMN api_key_info TEXT;",

    /* 9: stages of pipelines and tasks of job groups (spec/pipeline.h).
     * Every stage is a job; group_id is its group's first stage's job id (0
     * = in no group), stage its place (1, 2, ...), group_mode serial or
     * parallel, group_primary a job group's primary task, group_name the
     * file's pipeline name.  No index: the controller finds a group's
     * active stages among the jobs it holds, and lists read every job. */
    "ALTER TABLE jobs ADD COLUMN group_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_mode INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_primary INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN group_name TEXT;",

    /* 10: secrets (src/server/secret.h): a team's named values, sealed by
     * the server with AES-256-GCM; the row holds the ciphertext (its tag at
     * the end) and the nonce, never a value.  team '' is the lab's shared
     * space.  Keyed by (team, name): a put replaces, so no rowid. */
    "CREATE TABLE secrets ("
    "  team TEXT NOT NULL, name TEXT NOT NULL,"
    "  ciphertext BLOB NOT NULL, nonce BLOB NOT NULL,"
    "  created_at REAL NOT NULL, updated_at REAL NOT NULL,"
    "  PRIMARY KEY (team, name)) WITHOUT ROWID;",
    /* 11: teams (docs/teams.md; the teams themselves are the setting
     * "org").  A token belongs to a user (NULL: a lab-wide token, as every
     * token was before); a service to a team (NULL: none). */
    "ALTER TABLE tokens ADD COLUMN user_name TEXT; ALTER TABLE services ADD COLUMN team "
    "TEXT;",
    /* 12: data replicas (docs/data.md): where each dataset's copies are,
     * what making each cost and since when it is kept.  Keyed by (dataset,
     * cloud, region): a put replaces. */
    "CREATE TABLE data_replicas ("
    "  dataset TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL,"
    "  src_cloud TEXT NOT NULL, src_region TEXT NOT NULL, home INTEGER NOT NULL,"
    "  in_use INTEGER NOT NULL, size_gb REAL NOT NULL, created_at REAL NOT NULL,"
    "  last_used_at REAL NOT NULL, expired_at REAL NOT NULL, egress REAL NOT NULL,"
    "  storage_gb_month REAL NOT NULL, job_id INTEGER NOT NULL,"
    "  attempt_id INTEGER NOT NULL,"
    "  PRIMARY KEY (dataset, cloud, region)) WITHOUT ROWID;",
    /* 13: an attempt on committed nodes that backfills them (sched_place.c):
     * the spot price its job would pay instead, so that a controller that
     * opens again still gives them back to on-demand work; 0 = not
     * backfill (every attempt from before). */
    "ALTER TABLE attempts ADD COLUMN backfill_spot REAL NOT NULL DEFAULT 0;",
    /* 14: a dataset's copies over time.  data_replicas keeps one row per
     * place, the latest copy there; a copy made where an earlier one was
     * deleted (or a home given where one was forgotten) first moves the
     * deleted one's row here, where it stays with what it cost (before,
     * the new copy replaced it, and its egress and storage went out of
     * every total).  A table of its own, not a wider key, so that a stratus
     * of schema 13 still writing the store (a server not yet restarted
     * after an upgrade) goes on as it did. */
    "CREATE TABLE data_replicas_past ("
    "  dataset TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL,"
    "  src_cloud TEXT NOT NULL, src_region TEXT NOT NULL, home INTEGER NOT NULL,"
    "  in_use INTEGER NOT NULL, size_gb REAL NOT NULL, created_at REAL NOT NULL,"
    "  last_used_at REAL NOT NULL, expired_at REAL NOT NULL, egress REAL NOT NULL,"
    "  storage_gb_month REAL NOT NULL, job_id INTEGER NOT NULL,"
    "  attempt_id INTEGER NOT NULL);"
    "CREATE INDEX data_replicas_past_dataset ON data_replicas_past(dataset);",
    /* 15: the regions a copy was relayed through ('' = straight), which its
     * event named and `data ls` did not */
    "ALTER TABLE data_replicas ADD COLUMN via TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE data_replicas_past ADD COLUMN via TEXT NOT NULL DEFAULT '';",
    /* 16: a block's accelerator ('' = every one of its instance type: the
     * blocks from before, and whole regions) */
    "ALTER TABLE blocks ADD COLUMN accelerator TEXT NOT NULL DEFAULT '';",
    /* 17: what an on-demand attempt's nodes pay that commitments do not
     * cover (sched_commit_bill), kept so that a controller that opens again
     * knows it when the attempt's price_hour is the covered one; 0 =
     * price_hour is that price (every attempt from before) */
    "ALTER TABLE attempts ADD COLUMN list_hour REAL NOT NULL DEFAULT 0;",
};

#define SQ_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))
#define SQ_ID_VERSION 4 /* the first version with a store id */

/* ---- 2. statements ---------------------------------------------------------- */

/* Column lists (rows.h), in the order rows_bind_*() and rows_read_*() walk them. */
#define JOB_COLS ROWS_JOB_COLS
#define JOB_VALS "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?"
#define JOB_SELECT                                                                       \
    "SELECT id, " JOB_COLS ", spec_text, policy_text FROM jobs LEFT JOIN job_texts"      \
    " ON job_id = id"
/* the same columns, the texts NULL (store_job_scan's no_texts) */
#define JOB_BARE "SELECT id, " JOB_COLS ", NULL, NULL FROM jobs"
#define ATT_COLS ROWS_ATT_COLS
#define ATT_VALS "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?"
#define NODE_COLS ROWS_NODE_COLS
#define EVENT_COLS ROWS_EVENT_COLS
#define CKPT_COLS ROWS_CKPT_COLS
#define BLOCK_COLS ROWS_BLOCK_COLS
#define TOKEN_SELECT "SELECT " ROWS_TOKEN_COLS " FROM tokens"
#define SVC_COLS ROWS_SVC_COLS
#define SVC_VALS "?,?,?,?,?,?,?,?,?,?,?,?,?,?"
#define SVC_SELECT "SELECT id, " SVC_COLS " FROM services"
#define DATA_COLS ROWS_DATA_COLS

/* The cost report over attempts joined to their jobs.  ?1 = ATT_ENDED,
 * ?2 = ATT_END_EXITED.  Node-hours count what ran: nodes x (ended_at -
 * running_at) of ended attempts that reached RUNNING; a launch refused for
 * capacity never ran and counts none.  Lost node-hours are those of attempts
 * that ended any other way than EXITED (preempted, lost, displaced, ...). */
/* ?1 = ATT_ENDED, ?2 = ATT_END_EXITED, ?3 = now: a live attempt that runs
 * counts its run to now at its price and the egress it paid (as
 * store_attempt_spent_at: a now before its last reprice prorates the cost
 * it holds), and its node-hours to now. */
#define COST_SQL(key, name, order)                                                       \
    "SELECT " key " AS k, total(a.spent), total(a.nh),"                                  \
    " total(CASE WHEN a.state = ?1 AND a.end_reason <> ?2 THEN a.nh ELSE 0 END),"        \
    " count(*), total(a.egress), " name                                                  \
    " FROM (SELECT *, CASE WHEN running_at <= 0 THEN 0"                                  \
    " WHEN state = ?1 THEN max(ended_at - running_at, 0) * nodes / 3600.0"               \
    " ELSE max(?3 - running_at, 0) * nodes / 3600.0 END AS nh,"                          \
    " CASE WHEN state = ?1 OR running_at <= 0 THEN cost"                                 \
    " WHEN ?3 < priced_at AND priced_at > running_at"                                    \
    " THEN cost * max(?3 - running_at, 0) / (priced_at - running_at) + egress"           \
    " ELSE cost + max(?3 - max(priced_at, running_at), 0) * nodes * price_hour / 3600.0" \
    " + egress END AS spent FROM attempts) a"                                            \
    " JOIN jobs j ON j.id = a.job_id GROUP BY k ORDER BY 2 DESC, " order

#define SQL_MAP(X)                                                                       \
    X(BEGIN, "BEGIN IMMEDIATE")                                                          \
    X(COMMIT, "COMMIT")                                                                  \
    X(ROLLBACK, "ROLLBACK")                                                              \
    X(META_GET, "SELECT value FROM meta WHERE key = ?")                                  \
    X(META_PUT, "INSERT INTO meta (key, value) VALUES (?, ?)")                           \
    X(JOB_INSERT, "INSERT INTO jobs (" JOB_COLS ") VALUES (" JOB_VALS ")")               \
    X(JOB_UPDATE, "UPDATE jobs SET (" JOB_COLS ") = (" JOB_VALS ") WHERE id = ?")        \
    X(TEXTS_INSERT, "INSERT INTO job_texts (job_id, spec_text, policy_text)"             \
                    " VALUES (?,?,?)")                                                   \
    /* writes (and dirties a page) only when a text changed, which is never */           \
    X(TEXTS_UPDATE,                                                                      \
      "UPDATE job_texts SET (spec_text, policy_text) = (?2, ?3)"                         \
      " WHERE job_id = ?1 AND (spec_text IS NOT ?2 OR policy_text IS NOT ?3)")           \
    X(JOB_GET, JOB_SELECT " WHERE id = ?")                                               \
    X(JOB_SCAN, JOB_SELECT " WHERE state < ? AND id > ? ORDER BY id LIMIT ?")            \
    X(JOB_SCAN_DESC, JOB_SELECT " WHERE state < ? AND id < ? ORDER BY id DESC LIMIT ?")  \
    X(JOB_SCAN_BARE, JOB_BARE " WHERE state < ? AND id > ? ORDER BY id LIMIT ?")         \
    X(JOB_SCAN_BARE_DESC,                                                                \
      JOB_BARE " WHERE state < ? AND id < ? ORDER BY id DESC LIMIT ?")                   \
    X(ATT_INSERT, "INSERT INTO attempts (" ATT_COLS ") VALUES (" ATT_VALS ")")           \
    X(ATT_UPDATE, "UPDATE attempts SET (" ATT_COLS ") = (" ATT_VALS ") WHERE id = ?")    \
    X(ATT_GET, "SELECT id, " ATT_COLS " FROM attempts WHERE id = ?")                     \
    X(ATT_LIST_JOB,                                                                      \
      "SELECT id, " ATT_COLS " FROM attempts WHERE job_id = ? ORDER BY id")              \
    X(ATT_LIST_LIVE,                                                                     \
      "SELECT id, " ATT_COLS " FROM attempts WHERE state <> ? ORDER BY id")              \
    X(ATT_PAGE,                                                                          \
      "SELECT id, " ATT_COLS " FROM attempts WHERE id > ? ORDER BY id LIMIT ?")          \
    X(NODE_PUT, "INSERT INTO nodes (" NODE_COLS ") VALUES (?,?,?,?,?,?)"                 \
                " ON CONFLICT (attempt_id, rank) DO UPDATE SET state = excluded.state,"  \
                " exit_code = excluded.exit_code, started_at = excluded.started_at,"     \
                " ended_at = excluded.ended_at")                                         \
    X(NODE_LIST, "SELECT " NODE_COLS " FROM nodes WHERE attempt_id = ? ORDER BY rank")   \
    X(EVENT_APPEND, "INSERT INTO events (job_id, attempt_id, at, type, from_state,"      \
                    " to_state, msg) VALUES (?,?,?,?,?,?,?)")                            \
    X(EVENT_LIST,                                                                        \
      "SELECT " EVENT_COLS " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")            \
    X(EVENT_LIST_JOB, "SELECT " EVENT_COLS " FROM events WHERE job_id = ?3 AND id > ?1"  \
                      " ORDER BY id LIMIT ?2")                                           \
    X(CKPT_ADD, "INSERT INTO checkpoints (job_id, attempt_id, path, bytes, at)"          \
                " VALUES (?,?,?,?,?)")                                                   \
    X(CKPT_LIST, "SELECT " CKPT_COLS " FROM checkpoints WHERE job_id = ? ORDER BY id")   \
    X(REQ_ADD, "INSERT INTO requests (at, kind, arg) VALUES (?,?,?)")                    \
    X(REQ_PENDING, "SELECT id, at, kind, arg FROM requests WHERE done = 0 ORDER BY id")  \
    X(REQ_DONE, "UPDATE requests SET done = 1 WHERE done = 0 AND id <= ?")               \
    X(BLOCK_EXTEND, "UPDATE blocks SET reason = CASE WHEN ?5 >= until THEN ?6"           \
                    " ELSE reason END, until = max(until, ?5) WHERE cloud IS ?1"         \
                    " AND region IS ?2 AND zone IS ?3 AND instance_type IS ?4"           \
                    " AND accelerator IS ?7")                                            \
    X(BLOCK_INSERT, "INSERT INTO blocks (" BLOCK_COLS ") VALUES (?,?,?,?,?,?,?)")        \
    X(BLOCK_LIST, "SELECT " BLOCK_COLS " FROM blocks WHERE until > ? ORDER BY id")       \
    /* the three in the order of enum store_cost_by */                                   \
    X(COST_CLOUD, COST_SQL("coalesce(a.cloud, '(none)')", "NULL", "k"))                  \
    X(COST_TEAM, COST_SQL("coalesce(j.team, '(none)')", "NULL", "k"))                    \
    /* by job id, in id order (not as text: 10 after 9) */                               \
    X(COST_JOB, COST_SQL("CAST(a.job_id AS TEXT)", "min(j.name)", "min(a.job_id)"))      \
    X(TOKEN_INSERT,                                                                      \
      "INSERT INTO tokens (name, role, hash, created_at, user_name) VALUES (?,?,?,?,?)") \
    X(TOKEN_LIVE_NAME, TOKEN_SELECT " WHERE name = ? AND revoked_at IS NULL")            \
    X(TOKEN_BY_HASH, TOKEN_SELECT " WHERE hash = ?")                                     \
    X(TOKEN_LIST, TOKEN_SELECT " ORDER BY id")                                           \
    X(TOKEN_LIST_LIVE, TOKEN_SELECT " WHERE revoked_at IS NULL ORDER BY id")             \
    X(TOKEN_REVOKE,                                                                      \
      "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")            \
    X(SETTING_GET, "SELECT value FROM settings WHERE key = ?")                           \
    X(SETTING_PUT, "INSERT INTO settings (key, value) VALUES (?,?)"                      \
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value")            \
    X(SETTING_DEL, "DELETE FROM settings WHERE key = ?")                                 \
    X(SVC_INSERT, "INSERT INTO services (" SVC_COLS ") VALUES (" SVC_VALS ")")           \
    X(SVC_UPDATE, "UPDATE services SET (" SVC_COLS ") = (" SVC_VALS ") WHERE id = ?")    \
    X(SVC_GET, SVC_SELECT " WHERE id = ?")                                               \
    /* another live service of the name than ?2 (0 for a new one) */                     \
    X(SVC_LIVE_NAME, SVC_SELECT " WHERE name = ?1 AND ended_at = 0 AND id <> ?2")        \
    /* the live one, else the one that ended last (then the newest) */                   \
    X(SVC_FIND, SVC_SELECT " WHERE name = ? ORDER BY ended_at = 0 DESC, ended_at DESC,"  \
                           " id DESC LIMIT 1")                                           \
    X(SVC_LIST, SVC_SELECT " ORDER BY id")                                               \
    X(SVC_LIST_LIVE, SVC_SELECT " WHERE ended_at = 0 ORDER BY id")                       \
    /* service_id <> 0: what lets SQLite use the partial index jobs_service */           \
    X(REPLICA_LIST, JOB_SELECT " WHERE service_id = ?1 AND service_id <> 0 ORDER BY id") \
    X(REPLICA_LIST_ACTIVE, JOB_SELECT " WHERE service_id = ?1 AND service_id <> 0"       \
                                      " AND state < ?2 ORDER BY id")                     \
    /* a new secret is created and updated at ?5; a replaced one keeps its */            \
    /* created_at */                                                                     \
    X(SECRET_PUT, "INSERT INTO secrets (team, name, ciphertext, nonce, created_at,"      \
                  " updated_at) VALUES (?1,?2,?3,?4,?5,?5) ON CONFLICT (team, name)"     \
                  " DO UPDATE SET ciphertext = excluded.ciphertext,"                     \
                  " nonce = excluded.nonce, updated_at = excluded.updated_at")           \
    X(SECRET_GET, "SELECT team, name, ciphertext, nonce, created_at, updated_at"         \
                  " FROM secrets WHERE team = ? AND name = ?")                           \
    X(SECRET_LIST, "SELECT team, name, NULL, NULL, created_at, updated_at"               \
                   " FROM secrets WHERE team = ? ORDER BY name")                         \
    X(SECRET_DEL, "DELETE FROM secrets WHERE team = ? AND name = ?")                     \
    /* a deleted copy where a new one is put moves to data_replicas_past */              \
    X(DATA_KEEP_PAST, "INSERT INTO data_replicas_past SELECT " DATA_COLS " FROM"         \
                      " data_replicas WHERE dataset = ?1 AND cloud = ?2 AND region = ?3" \
                      " AND expired_at > 0 AND created_at <> ?4")                        \
    X(DATA_PUT, "INSERT OR REPLACE INTO data_replicas (" DATA_COLS ") VALUES"            \
                " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")                                    \
    /* store_data_storage: ?1 = now; the 7 columns of a cost row */                      \
    X(DATA_STORAGE,                                                                      \
      "SELECT cloud, total(size_gb * storage_gb_month * (CASE WHEN expired_at > 0"       \
      " THEN expired_at ELSE ?1 END - created_at)), 0, 0, count(*), 0, NULL FROM"        \
      " (SELECT cloud, size_gb, storage_gb_month, created_at, expired_at, home, job_id"  \
      " FROM data_replicas UNION ALL SELECT cloud, size_gb, storage_gb_month,"           \
      " created_at, expired_at, home, job_id FROM data_replicas_past)"                   \
      " WHERE home = 0 AND job_id > 0"                                                   \
      " AND CASE WHEN expired_at > 0 THEN expired_at ELSE ?1 END > created_at"           \
      " GROUP BY cloud ORDER BY cloud")                                                  \
    X(DATA_LIST,                                                                         \
      "SELECT " DATA_COLS " FROM data_replicas WHERE (?1 IS NULL OR"                     \
      " dataset = ?1) AND (?2 = 0 OR expired_at = 0) UNION ALL SELECT " DATA_COLS        \
      " FROM data_replicas_past WHERE (?1 IS NULL OR dataset = ?1)"                      \
      " AND ?2 = 0 ORDER BY dataset, created_at, cloud, region")

enum sq_stmt {
#define X_(id, sql) Q_##id,
    SQL_MAP(X_)
#undef X_
        Q__N
};

static const char *const sq_sql[Q__N] = {
#define X_(id, sql) sql,
    SQL_MAP(X_)
#undef X_
};

/* The private state of one handle (struct store's priv). */
struct sq {
    sqlite3 *db;
    const struct store *st;   /* the handle: in_tx says a store_begin() is open */
    const char *path;         /* the store's path, for messages */
    int lock_wait_ms;         /* store_lock_wait_ms when opened */
    sqlite3_stmt *stmt[Q__N]; /* prepared on first use, finalized on close */
};

/* ---- 3. errors, binding, reading -------------------------------------------- */

/* Turn SQLite's result code rc of the call just made into e, saying what
 * failed: a lock held too long is ST_ESTATE, anything else ST_EIO. */
static int sq_fail(struct sq *s, int rc, const char *op, struct err *e)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return err_set(e, ST_ESTATE,
                       "%s: %s: %s (another stratus process kept it locked; "
                       "waited %d ms)",
                       s->path, op, msg, s->lock_wait_ms);
    case SQLITE_CANTOPEN:
        return err_set(e, ST_EIO,
                       "%s: %s: %s (does its directory exist, and may stratus "
                       "write there?)",
                       s->path, op, msg);
    case SQLITE_NOTADB:
        return err_set(e, ST_EIO,
                       "%s: %s: %s (not a stratus store, or damaged: restore it from a "
                       "backup, or move it away to start a new store)",
                       s->path, op, msg);
    default:
        return err_set(e, ST_EIO, "%s: %s: %s", s->path, op, msg);
    }
}

/* The cached statement q, prepared on first use. */
static int sq_get(struct sq *s, enum sq_stmt q, sqlite3_stmt **out, const char *op,
                  struct err *e)
{
    int rc;

    if (s->stmt[q] == NULL) {
        rc = sqlite3_prepare_v3(s->db, sq_sql[q], -1, SQLITE_PREPARE_PERSISTENT,
                                &s->stmt[q], NULL);
        if (rc != SQLITE_OK)
            return sq_fail(s, rc, op, e);
    }
    *out = s->stmt[q];
    return 0;
}

/* Parameters bound in order; the first failure is kept in rc.  base is what
 * the shared row code (rows.c) binds through. */
struct binder {
    struct rows_binder base; /* first: rows.c's calls cast back to struct binder */
    sqlite3_stmt *stmt;
    int i; /* the last parameter bound (1-based) */
    int rc;
};

static void b_int(struct binder *b, int64_t v)
{
    int rc = sqlite3_bind_int64(b->stmt, ++b->i, v);

    b->rc = b->rc != SQLITE_OK ? b->rc : rc;
}

/* An id where 0 means none: stored as NULL. */
static void b_id(struct binder *b, int64_t v)
{
    int rc = v != 0 ? sqlite3_bind_int64(b->stmt, ++b->i, v)
                    : sqlite3_bind_null(b->stmt, ++b->i);

    b->rc = b->rc != SQLITE_OK ? b->rc : rc;
}

static void b_dbl(struct binder *b, double v)
{
    int rc = sqlite3_bind_double(b->stmt, ++b->i, v);

    b->rc = b->rc != SQLITE_OK ? b->rc : rc;
}

/* NULL stays NULL.  SQLITE_STATIC: the statement is reset before s changes. */
static void b_text(struct binder *b, const char *s)
{
    int rc = s != NULL ? sqlite3_bind_text(b->stmt, ++b->i, s, -1, SQLITE_STATIC)
                       : sqlite3_bind_null(b->stmt, ++b->i);

    b->rc = b->rc != SQLITE_OK ? b->rc : rc;
}

/* n bytes at p (n > 0; the core refuses empty ones). */
static void b_blob(struct binder *b, const void *p, size_t n)
{
    int rc = n <= (size_t)0x7fffffff
                 ? sqlite3_bind_blob(b->stmt, ++b->i, p, (int)n, SQLITE_STATIC)
                 : SQLITE_TOOBIG;

    b->rc = b->rc != SQLITE_OK ? b->rc : rc;
}

/* The same calls as rows.c sees them. */
static void rb_int(struct rows_binder *b, int64_t v)
{
    b_int((struct binder *)b, v);
}

static void rb_id(struct rows_binder *b, int64_t v)
{
    b_id((struct binder *)b, v);
}

static void rb_dbl(struct rows_binder *b, double v)
{
    b_dbl((struct binder *)b, v);
}

static void rb_text(struct rows_binder *b, const char *s)
{
    b_text((struct binder *)b, s);
}

static void rb_blob(struct rows_binder *b, const void *p, size_t n)
{
    b_blob((struct binder *)b, p, n);
}

static const struct rows_binder_ops sq_binder_ops = {rb_int, rb_id, rb_dbl, rb_text,
                                                     rb_blob};

/* After some errors (disk full, I/O error) SQLite rolls a transaction back
 * by itself.  Then the rest of it must fail too: run outside a transaction,
 * each statement would be committed on its own. */
static int sq_tx_lost(struct sq *s, const char *op, struct err *e)
{
    if (!s->st->in_tx || !sqlite3_get_autocommit(s->db))
        return 0;
    return err_set(e, ST_ESTATE,
                   "%s: %s: the transaction was rolled back after an "
                   "earlier error; nothing of it is stored",
                   s->path, op);
}

/* Start binding the cached statement q. */
static int sq_bind(struct sq *s, enum sq_stmt q, struct binder *b, const char *op,
                   struct err *e)
{
    int rc = 0;

    b->base.ops = &sq_binder_ops;
    b->stmt = NULL;
    b->i = 0;
    b->rc = SQLITE_OK;
    if (q != Q_BEGIN && q != Q_COMMIT && q != Q_ROLLBACK)
        rc = sq_tx_lost(s, op, e);
    return rc != 0 ? rc : sq_get(s, q, &b->stmt, op, e);
}

/* Forget the bound values and any open read of the statement. */
static void sq_reset(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Check the binding, then run a statement that returns no rows. */
static int sq_exec(struct sq *s, struct binder *b, const char *op, struct err *e)
{
    int rc = b->rc;

    BUG_ON(b->i != sqlite3_bind_parameter_count(b->stmt));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(b->stmt);
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, rc, op, e);
    sq_reset(b->stmt);
    return rc;
}

/* Columns read in order.  base is what the shared row code reads through. */
struct reader {
    struct rows_reader base; /* first: rows.c's calls cast back to struct reader */
    sqlite3_stmt *stmt;
    int i; /* the next column (0-based) */
};

static int64_t r_int(struct rows_reader *rr)
{
    struct reader *r = (struct reader *)rr;

    return sqlite3_column_int64(r->stmt, r->i++);
}

static double r_dbl(struct rows_reader *rr)
{
    struct reader *r = (struct reader *)rr;

    return sqlite3_column_double(r->stmt, r->i++);
}

/* An owned copy, or NULL for NULL. */
static char *r_text(struct rows_reader *rr)
{
    struct reader *r = (struct reader *)rr;
    const unsigned char *t = sqlite3_column_text(r->stmt, r->i);
    size_t n = (size_t)sqlite3_column_bytes(r->stmt, r->i);

    r->i++;
    return t != NULL ? xstrndup((const char *)t, n) : NULL;
}

/* An owned copy of a blob into *len bytes, or NULL (len 0) for NULL or
 * an empty one. */
static unsigned char *r_blob(struct rows_reader *rr, size_t *len)
{
    struct reader *r = (struct reader *)rr;
    const void *p = sqlite3_column_blob(r->stmt, r->i);
    size_t n = (size_t)sqlite3_column_bytes(r->stmt, r->i);
    unsigned char *v = NULL;

    r->i++;
    *len = 0;
    if (p != NULL && n > 0) {
        v = xmalloc(n);
        memcpy(v, p, n);
        *len = n;
    }
    return v;
}

static const struct rows_reader_ops sq_reader_ops = {r_int, r_dbl, r_text, r_blob};

/* Check the binding and collect every row; on failure nothing stays allocated. */
static int sq_fetch(struct sq *s, struct binder *b, const struct rows_type *t, void **out,
                    size_t *n, const char *op, struct err *e)
{
    char *v = NULL;
    size_t len = 0, cap = 0;
    int rc = b->rc;

    BUG_ON(b->i != sqlite3_bind_parameter_count(b->stmt));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(b->stmt);
    while (rc == SQLITE_ROW) {
        struct reader r = {{&sq_reader_ops}, b->stmt, 0};

        v = xgrow(v, &cap, len + 1, t->size);
        memset(v + len * t->size, 0, t->size);
        t->read(&r.base, v + len * t->size);
        len++;
        rc = sqlite3_step(b->stmt);
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, rc, op, e);
    sq_reset(b->stmt);
    if (rc != 0) {
        t->free_all(v, len);
        v = NULL;
        len = 0;
    }
    *out = v;
    *n = len;
    return rc;
}

/* One row into *row: ST_ENOTFOUND "no <what> <id>" when there is none. */
static int sq_fetch_one(struct sq *s, struct binder *b, const struct rows_type *t,
                        void *row, const char *what, int64_t id, const char *op,
                        struct err *e)
{
    void *v;
    size_t n;
    int rc = sq_fetch(s, b, t, &v, &n, op, e);

    if (rc == 0 && rows_one(v, n, t->size, row))
        rc = err_set(e, ST_ENOTFOUND, "no %s %" PRId64, what, id);
    return rc;
}

/* Run one literal SQL text (pragmas, migrations). */
static int sq_sql_exec(struct sq *s, const char *sql, const char *op, struct err *e)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : sq_fail(s, rc, op, e);
}

/* The first column of the first row of a literal query, as an integer. */
static int sq_query_int(struct sq *s, const char *sql, int64_t *out, const char *op,
                        struct err *e)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(s, rc, op, e);
    sqlite3_finalize(stmt);
    return rc;
}

/* ---- 4. open, migrate, close, transactions ---------------------------------- */

/* BEGIN IMMEDIATE: take the write lock now (waiting up to lock_wait_ms), so
 * that no statement of the transaction can fail later for want of it. */
static int sq_begin_db(struct sq *s, const char *op, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_BEGIN, &b, op, e);

    return rc != 0 ? rc : sq_exec(s, &b, op, e);
}

static void sq_rollback_db(struct sq *s)
{
    struct binder b;

    if (sqlite3_get_autocommit(s->db))
        return; /* nothing open (SQLite may have rolled back on an error) */
    if (sq_bind(s, Q_ROLLBACK, &b, "rolling back", NULL) == 0)
        sq_exec(s, &b, "rolling back", NULL);
}

/* Commit; when that fails, roll back so that none of it is stored. */
static int sq_commit_db(struct sq *s, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_COMMIT, &b, "committing", e);

    if (rc == 0)
        rc = sq_exec(s, &b, "committing", e);
    if (rc != 0)
        sq_rollback_db(s);
    return rc;
}

/* For an operation of several statements: a transaction of its own unless
 * the caller has one open (then the work commits or rolls back with it). */
static int sq_atomic_enter(struct sq *s, int *own, const char *op, struct err *e)
{
    int rc = sq_tx_lost(s, op, e);

    *own = rc == 0 && sqlite3_get_autocommit(s->db);
    return rc != 0 || !*own ? rc : sq_begin_db(s, op, e);
}

static int sq_atomic_leave(struct sq *s, int own, int rc, struct err *e)
{
    if (!own)
        return rc;
    if (rc != 0) {
        sq_rollback_db(s);
        return rc;
    }
    return sq_commit_db(s, e);
}

/* Is the file a stratus store we can use?  A store of a later stratus is refused
 * (its schema may mean things this one does not know), so is a foreign file. */
static int sq_check_identity(struct sq *s, int64_t app, int64_t version, struct err *e)
{
    int64_t tables;
    int rc;

    if (version > SQ_VERSION && app == SQ_APP_ID)
        return err_set(e, ST_ESTATE,
                       "%s: this database was written by a newer stratus "
                       "(schema version %" PRId64 "; this stratus knows up to %d); "
                       "upgrade stratus",
                       s->path, version, SQ_VERSION);
    if (version > 0 && app != SQ_APP_ID)
        return err_set(e, ST_EIO,
                       "%s: not a stratus store (an SQLite database of another "
                       "program: application id %" PRId64 "); stratus leaves it "
                       "alone: move it away to start a new store there, or set "
                       "STRATUS_HOME to another directory",
                       s->path, app);
    if (version > 0)
        return 0;
    rc = sq_query_int(s, "SELECT count(*) FROM sqlite_master", &tables,
                      "reading the schema", e);
    if (rc == 0 && tables > 0)
        return err_set(e, ST_EIO,
                       "%s: not a stratus store (an SQLite database of another "
                       "program: it has tables but no stratus schema); stratus "
                       "leaves it alone: move it away to start a new store there, "
                       "or set STRATUS_HOME to another directory",
                       s->path);
    return rc;
}

/* The schema version of the file, after checking that it is ours. */
static int sq_version(struct sq *s, int64_t *version, struct err *e)
{
    int64_t app;
    int rc;

    rc = sq_query_int(s, "PRAGMA application_id", &app, "reading the schema version", e);
    if (rc == 0)
        rc = sq_query_int(s, "PRAGMA user_version", version, "reading the schema version",
                          e);
    return rc != 0 ? rc : sq_check_identity(s, app, *version, e);
}

/* One row of the meta table (migration 4). */
static int sq_meta_put(struct sq *s, const char *key, const char *value, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_META_PUT, &b, "recording the store's identity", e);

    if (rc != 0)
        return rc;
    b_text(&b, key);
    b_text(&b, value);
    return sq_exec(s, &b, "recording the store's identity", e);
}

/* The value of a meta row into out (n bytes, cut short if longer), "" when
 * there is no such row. */
static int sq_meta_get(struct sq *s, const char *key, char *out, size_t n, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_META_GET, &b, "reading the store's identity", e);

    if (rc != 0)
        return rc;
    b_text(&b, key);
    rc = b.rc == SQLITE_OK ? sqlite3_step(b.stmt) : b.rc;
    out[0] = '\0';
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(b.stmt, 0);

        snprintf(out, n, "%s", t != NULL ? (const char *)t : "");
        rc = SQLITE_DONE;
    }
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, rc, "reading the store's identity", e);
    sq_reset(b.stmt);
    return rc;
}

/* Give a database its identity, inside the migration that creates the meta
 * table.  A database with records from before identities is marked legacy:
 * its artefacts were not filed under any id. */
static int sq_make_identity(struct sq *s, int legacy, struct err *e)
{
    char id[STORE_ID_LEN + 1];
    int rc = store_new_id(id, e);

    if (rc == 0)
        rc = sq_meta_put(s, "store_id", id, e);
    if (rc == 0 && legacy)
        rc = sq_meta_put(s, "layout", "legacy", e);
    return rc;
}

/* Read the identity into the handle; a current database without a valid
 * one was damaged (or edited) since it was made. */
static int sq_identity(struct store *st, struct err *e)
{
    struct sq *s = st->priv;
    char id[64], layout[64];
    int rc = sq_meta_get(s, "store_id", id, sizeof(id), e);

    if (rc == 0)
        rc = sq_meta_get(s, "layout", layout, sizeof(layout), e);
    if (rc != 0)
        return rc;
    if (!store_id_valid(id))
        return err_set(e, ST_EIO,
                       "%s: damaged: the store's id (table meta, key store_id) is "
                       "missing or not %d hex digits; restore the file from a backup",
                       s->path, STORE_ID_LEN);
    memcpy(st->id, id, sizeof(st->id));
    st->legacy = strcmp(layout, "legacy") == 0;
    return 0;
}

/* Apply the migrations from the file's version on; the caller holds the write
 * lock, so when two processes open a new file at once the second one sees
 * the first one's work here and applies nothing. */
static int sq_migrate_locked(struct sq *s, struct err *e)
{
    int64_t version;
    char sql[96], op[96];
    int rc, v;

    rc = sq_version(s, &version, e);
    if (rc != 0 || version == SQ_VERSION)
        return rc;
    snprintf(op, sizeof(op), "migrating the schema from version %" PRId64 " to %d",
             version, SQ_VERSION);
    for (v = (int)version; rc == 0 && v < SQ_VERSION; v++)
        rc = sq_sql_exec(s, migrations[v], op, e);
    if (rc == 0 && version < SQ_ID_VERSION)
        rc = sq_make_identity(s, version > 0, e);
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
             SQ_APP_ID, SQ_VERSION);
    return rc != 0 ? rc : sq_sql_exec(s, sql, op, e);
}

/* Bring the schema up to date, all pending steps in one transaction; only
 * reads when the file is already current (the common case, and the CLI's). */
static int sq_migrate(struct store *st, struct err *e)
{
    struct sq *s = st->priv;
    int64_t version;
    int rc = sq_version(s, &version, e);

    if (rc == 0 && version < SQ_VERSION) {
        rc = sq_begin_db(s, "migrating the schema", e);
        if (rc == 0)
            rc = sq_atomic_leave(s, 1, sq_migrate_locked(s, e), e);
    }
    if (rc == 0)
        st->schema_version = SQ_VERSION;
    return rc;
}

/* The connection's settings.  Durability: WAL with synchronous=NORMAL.  A
 * commit appends the transaction to the -wal file with write() and returns
 * without fsync(); SQLite syncs at checkpoints.  Once COMMIT has returned,
 * the transaction is in the operating system's page cache, which survives
 * the death of the process: a controller killed at any instant - even
 * between COMMIT returning and the driver call it guards - finds every
 * committed change when it reopens, and a transaction killed before its
 * commit record was written is ignored whole on reopen.  So "every state
 * change is committed before it is acted on" holds for process kills.  What
 * NORMAL gives up, against FULL's fsync() per commit, is the last commits
 * before a power loss or kernel crash: the file stays consistent, at an
 * earlier commit, but a launch made after a lost commit is then unknown to
 * the store (and its attempt id may be given again).  Surviving that needs
 * synchronous=FULL, at the price of one fsync() per commit.
 *
 * Speed (bench/bench_store.c): a page cache of 32 MB (allocated as used)
 * keeps the working set of a large fleet in memory, and a checkpoint every
 * 10,000 WAL pages (40 MB; SQLite's default is 1,000) copies a page that
 * many transitions rewrote once instead of many times and fsyncs a tenth
 * as often: together about +40% transitions per second, for a pause of a
 * few tens of ms at each checkpoint.  journal_size_limit truncates a WAL
 * that a long reader made grow past 64 MB when it is next reset. */
static const char sq_pragmas[] = "PRAGMA synchronous = NORMAL;"
                                 "PRAGMA foreign_keys = ON;"
                                 "PRAGMA cache_size = -32768;"
                                 "PRAGMA wal_autocheckpoint = 10000;"
                                 "PRAGMA journal_size_limit = 67108864;";

/* Switch to WAL (persistent in the file) so readers and the writer of
 * several processes do not block each other.  The path ":memory:" opens a
 * store private to one handle, without a file (tests, simulations): it has
 * no WAL and needs none. */
static int sq_wal(struct sq *s, struct err *e)
{
    sqlite3_stmt *stmt;
    const char *mode;
    int ok, rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, rc, "opening", e);
        sqlite3_finalize(stmt);
        return rc;
    }
    mode = (const char *)sqlite3_column_text(stmt, 0);
    ok = mode != NULL && (strcmp(mode, "wal") == 0 || (strcmp(mode, "memory") == 0 &&
                                                       strcmp(s->path, ":memory:") == 0));
    rc = ok ? 0
            : err_set(e, ST_EIO,
                      "%s: cannot use WAL mode (journal mode stays '%s'); "
                      "is it on a network file system?",
                      s->path, mode ? mode : "?");
    sqlite3_finalize(stmt);
    return rc;
}

static void sq_close(struct store *st)
{
    struct sq *s = st->priv;
    int q;

    for (q = 0; q < Q__N; q++)
        sqlite3_finalize(s->stmt[q]);
    sqlite3_close_v2(s->db); /* rolls back a transaction left open */
    memset(s, 0, sizeof(*s));
}

static int sq_configured; /* sqlite3_config was called (sq_connect) */

/* Open path with SQLite and bring it up to date: settings, WAL, migration.
 * A file path must exist (sq_prepare_file made a missing one); ":memory:"
 * is made here.  On failure the handle is closed. */
static int sq_connect(struct store *st, const char *path, struct err *e)
{
    struct sq *s = st->priv;
    int mem = strcmp(path, ":memory:") == 0, rc;

    s->st = st;
    s->path = st->path;
    s->lock_wait_ms = store_lock_wait_ms;
    /* Before SQLite's first use in the process (later it is refused, and
     * ignored): no allocation statistics, which took a global mutex
     * around every allocation; stratus never reads them. */
    if (!sq_configured) {
        sq_configured = 1;
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    }
    /* No mutexes: a handle is used by the one thread that opened it (no
     * part of stratus shares one between threads), and SQLite's serialized
     * mode took a lock around every call, column reads included: ~10% of
     * an API read (bench/bench_api_handle under callgrind).  Each process
     * has its own handles; SQLite's file locks between them are unchanged. */
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                             (mem ? SQLITE_OPEN_CREATE : 0),
                         NULL);
    if (rc != SQLITE_OK)
        rc = sq_fail(s, rc, "opening", e);
    else
        sqlite3_busy_timeout(s->db, s->lock_wait_ms);
    /* another program's database is refused before anything is written to
     * it (WAL mode is kept in the file) */
    if (rc == 0 && !mem) {
        int64_t version;

        rc = sq_version(s, &version, e);
    }
    if (rc == 0)
        rc = sq_wal(s, e);
    if (rc == 0)
        rc = sq_sql_exec(s, sq_pragmas, "opening", e);
    /* Nothing of a private in-memory store outlives the process, so its
     * statements need no journal to survive a crash. Rollback still works for
     * whole transactions (SQLite keeps them in memory) with journal_mode
     * MEMORY; only the per-statement journal is dropped. */
    if (rc == 0 && mem)
        rc = sq_sql_exec(s, "PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;", "opening", e);
    if (rc == 0)
        rc = sq_migrate(st, e);
    if (rc != 0)
        sq_close(st);
    return rc;
}

/* -- the file -- */

void store_remove_file(const char *path)
{
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

/* Make a new store whole under a temporary name in the same directory, then
 * link it to path: path never exists as an empty file, which another
 * process opening it at that moment would refuse.  When two processes
 * create the store at once, the first link wins and the other's copy is
 * dropped (link() fails with EEXIST and both open the winner's).  The
 * temporary name ends in random digits, not a pid: processes in two
 * containers may share a home and a pid. */
static int sq_create(struct store *st, const char *path, struct err *e)
{
    char rnd[STORE_ID_LEN + 1], *tmp;
    struct stat sb;
    int fd, rc = store_new_id(rnd, e);

    if (rc != 0)
        return rc;
    tmp = xasprintf("%s.new-%s", path, rnd);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = err_set(e, ST_EIO,
                     "%s: cannot create the database: %s (does its directory exist, "
                     "and may stratus write there?)",
                     path, strerror(errno));
    else
        close(fd);
    if (rc == 0)
        rc = sq_connect(st, tmp, e);
    if (rc == 0) {
        sq_close(st); /* checkpoints the WAL into the file, removes -wal, -shm */
        if (stat(tmp, &sb) != 0 || sb.st_size == 0)
            rc = err_set(e, ST_EIO,
                         "%s: cannot write the new database (is the disk full?)", path);
    }
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
        rc = err_set(e, ST_EIO, "%s: cannot create the database: link from %s: %s", path,
                     tmp, strerror(errno));
    store_remove_file(tmp);
    free(tmp);
    return rc;
}

/* A new database beside the -wal file of a deleted one would get that log
 * replayed into it on open: the old store's pages inside the new store. */
static int sq_check_orphan_wal(const char *path, struct err *e)
{
    char *wal = xasprintf("%s-wal", path);
    int rc = 0;

    if (access(wal, F_OK) == 0)
        rc = err_set(e, ST_EIO,
                     "%s exists but its database %s does not (deleted without its "
                     "write-ahead log): stratus will not start a new store beside it. "
                     "Delete %s-wal and %s-shm too to start afresh, or restore %s",
                     wal, path, path, path, path);
    free(wal);
    return rc;
}

/* Only the owner may read the store (it holds jobs' environments).  A wider
 * mode (a store from before this rule, or a copy) is narrowed to 0600 for the
 * database and its -wal and -shm files, with one warning; after that the
 * mode is right and no warning follows. */
static void sq_fix_mode(const char *path, mode_t mode)
{
    static const char *const sfx[] = {"", "-wal", "-shm"};
    int failed = 0;
    size_t i;

    for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        char *p = xasprintf("%s%s", path, sfx[i]);
        struct stat sb;

        if (stat(p, &sb) == 0 && (sb.st_mode & 077) != 0 && chmod(p, 0600) != 0)
            failed = errno;
        free(p);
    }
    if (failed)
        log_warn("%s is readable by others (mode %04o) and cannot be made owner-only "
                 "(0600): %s; it holds jobs' environments (envs:)",
                 path, (unsigned)(mode & 07777), strerror(failed));
    else
        log_warn("%s was readable by others (mode %04o); it holds jobs' environments "
                 "(envs:), so it is now owner-only (0600)",
                 path, (unsigned)(mode & 07777));
}

/* Before SQLite sees a file path: create a missing store, refuse an empty
 * file.  Anything else wrong with the file (not a database, another
 * program's, a newer schema) shows once it is open. */
static int sq_prepare_file(struct store *st, const char *path, struct err *e)
{
    struct stat sb;
    int rc;

    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return 0; /* SQLite says what is wrong, in its words */
        rc = sq_check_orphan_wal(path, e);
        return rc != 0 ? rc : sq_create(st, path, e);
    }
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return err_set(e, ST_EIO,
                       "%s: the database file is empty (0 bytes): it was truncated, or "
                       "made by another program, and stratus does not initialise over "
                       "it. Restore it from a backup, or delete it to start a new, "
                       "empty store",
                       path);
    return 0;
}

/* The mode is narrowed only once the file proved to be a store of ours: a
 * file stratus refuses is left exactly as it was. */
static int sq_open(struct store *st, const char *path, struct err *e)
{
    int file = strcmp(path, ":memory:") != 0, rc = 0;
    struct stat sb;

    if (file)
        rc = sq_prepare_file(st, path, e);
    if (rc == 0)
        rc = sq_connect(st, path, e);
    if (rc == 0) {
        rc = sq_identity(st, e);
        if (rc != 0)
            sq_close(st);
    }
    if (rc == 0 && file && stat(path, &sb) == 0 && (sb.st_mode & 077) != 0)
        sq_fix_mode(path, sb.st_mode);
    return rc;
}

static int sq_begin(struct store *st, struct err *e)
{
    return sq_begin_db(st->priv, "beginning a transaction", e);
}

static int sq_commit(struct store *st, struct err *e)
{
    int rc = sq_tx_lost(st->priv, "committing", e);

    return rc != 0 ? rc : sq_commit_db(st->priv, e);
}

static void sq_rollback(struct store *st)
{
    sq_rollback_db(st->priv);
}

/* ---- 5. records ------------------------------------------------------------- */

/* -- jobs -- */





/* The job's texts: q = Q_TEXTS_INSERT or Q_TEXTS_UPDATE. */
static int put_texts(struct sq *s, enum sq_stmt q, const struct store_job *j,
                     const char *op, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, q, &b, op, e);

    if (rc != 0)
        return rc;
    b_int(&b, j->id);
    b_text(&b, j->spec_text);
    b_text(&b, j->policy_text);
    return sq_exec(s, &b, op, e);
}

static int insert_job(struct sq *s, struct store_job *j, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_JOB_INSERT, &b, "adding a job", e);

    if (rc != 0)
        return rc;
    rows_bind_job(&b.base, j);
    rc = sq_exec(s, &b, "adding a job", e);
    if (rc != 0)
        return rc;
    j->id = sqlite3_last_insert_rowid(s->db);
    return put_texts(s, Q_TEXTS_INSERT, j, "adding a job", e);
}

static int sq_job_insert(struct store *st, struct store_job *j, struct err *e)
{
    struct sq *s = st->priv;
    int64_t id = j->id;
    int own;
    int rc = sq_atomic_enter(s, &own, "adding a job", e);

    if (rc == 0)
        rc = sq_atomic_leave(s, own, insert_job(s, j, e), e);
    if (rc != 0)
        j->id = id;
    return rc;
}

static int update_job(struct sq *s, const struct store_job *j, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_JOB_UPDATE, &b, "updating a job", e);

    if (rc != 0)
        return rc;
    rows_bind_job(&b.base, j);
    b_int(&b, j->id);
    rc = sq_exec(s, &b, "updating a job", e);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return err_set(e, ST_ENOTFOUND, "no job %" PRId64, j->id);
    return rc != 0 ? rc : put_texts(s, Q_TEXTS_UPDATE, j, "updating a job", e);
}

static int sq_job_update(struct store *st, const struct store_job *j, struct err *e)
{
    struct sq *s = st->priv;
    int own;
    int rc = sq_atomic_enter(s, &own, "updating a job", e);

    return rc != 0 ? rc : sq_atomic_leave(s, own, update_job(s, j, e), e);
}

static int sq_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_JOB_GET, &b, "reading a job", e);

    if (rc != 0)
        return rc;
    b_int(&b, id);
    return sq_fetch_one(s, &b, &rows_jobs, out, "job", id, "reading a job", e);
}

/* SQLite's LIMIT: a negative one is none. */
static int64_t sq_limit(size_t limit)
{
    return limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
}

/* Every state is below this; active ones below JOB_SUCCEEDED. */
#define STATE_ANY INT32_MAX

static int sq_job_scan(struct store *st, const struct store_job_scan *q,
                       struct store_job **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s,
                     q->no_texts ? (q->desc ? Q_JOB_SCAN_BARE_DESC : Q_JOB_SCAN_BARE)
                                 : (q->desc ? Q_JOB_SCAN_DESC : Q_JOB_SCAN),
                     &b, "listing jobs", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, q->active_only ? JOB_SUCCEEDED : STATE_ANY);
        b_int(&b, q->desc && q->after <= 0 ? INT64_MAX : q->after);
        b_int(&b, sq_limit(q->limit));
        rc = sq_fetch(s, &b, &rows_jobs, &v, n, "listing jobs", e);
    }
    *out = v;
    return rc;
}

/* -- attempts -- */





static int sq_attempt_insert(struct store *st, struct store_attempt *a, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_ATT_INSERT, &b, "adding an attempt", e);

    if (rc != 0)
        return rc;
    rows_bind_attempt(&b.base, a);
    rc = sq_exec(s, &b, "adding an attempt", e);
    if (rc == 0)
        a->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_attempt_update(struct store *st, const struct store_attempt *a,
                             struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_ATT_UPDATE, &b, "updating an attempt", e);

    if (rc != 0)
        return rc;
    rows_bind_attempt(&b.base, a);
    b_int(&b, a->id);
    rc = sq_exec(s, &b, "updating an attempt", e);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return err_set(e, ST_ENOTFOUND, "no attempt %" PRId64, a->id);
    return rc;
}

static int sq_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                          struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_ATT_GET, &b, "reading an attempt", e);

    if (rc != 0)
        return rc;
    b_int(&b, id);
    return sq_fetch_one(s, &b, &rows_attempts, out, "attempt", id, "reading an attempt",
                        e);
}

static int sq_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                           size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, job_id > 0 ? Q_ATT_LIST_JOB : Q_ATT_LIST_LIVE, &b, "listing attempts", e);

    *n = 0;
    if (rc == 0)
        b_int(&b, job_id > 0 ? job_id : ATT_ENDED);
    if (rc == 0)
        rc = sq_fetch(s, &b, &rows_attempts, &v, n, "listing attempts", e);
    *out = v;
    return rc;
}

static int sq_attempt_page(struct store *st, int64_t after_id, size_t limit,
                           struct store_attempt **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_ATT_PAGE, &b, "listing attempts", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, after_id);
        b_int(&b, sq_limit(limit));
        rc = sq_fetch(s, &b, &rows_attempts, &v, n, "listing attempts", e);
    }
    *out = v;
    return rc;
}

/* -- nodes -- */




static int sq_node_put(struct store *st, const struct store_node *nd, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_NODE_PUT, &b, "recording a node", e);

    if (rc != 0)
        return rc;
    rows_bind_node(&b.base, nd);
    return sq_exec(s, &b, "recording a node", e);
}

static int sq_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                        size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_NODE_LIST, &b, "listing nodes", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, attempt_id);
        rc = sq_fetch(s, &b, &rows_nodes, &v, n, "listing nodes", e);
    }
    *out = v;
    return rc;
}

/* -- events -- */




static int sq_event_append(struct store *st, int64_t job_id, int64_t attempt_id,
                           double at, const char *type, int from_state, int to_state,
                           const char *msg, int64_t *out_id, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_EVENT_APPEND, &b, "appending an event", e);

    if (rc != 0)
        return rc;
    b_id(&b, job_id);
    b_id(&b, attempt_id);
    b_dbl(&b, at);
    b_text(&b, type);
    b_int(&b, from_state);
    b_int(&b, to_state);
    b_text(&b, msg);
    rc = sq_exec(s, &b, "appending an event", e);
    *out_id = rc == 0 ? sqlite3_last_insert_rowid(s->db) : 0;
    return rc;
}

static int sq_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                         struct store_event **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, job_id != 0 ? Q_EVENT_LIST_JOB : Q_EVENT_LIST, &b,
                     "listing events", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, after_id);
        b_int(&b, sq_limit(limit));
        if (job_id != 0)
            b_int(&b, job_id);
        rc = sq_fetch(s, &b, &rows_events, &v, n, "listing events", e);
    }
    *out = v;
    return rc;
}

/* -- checkpoints -- */




static int sq_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                             const char *path, double bytes, double at, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_CKPT_ADD, &b, "recording a checkpoint", e);

    if (rc != 0)
        return rc;
    b_int(&b, job_id);
    b_id(&b, attempt_id);
    b_text(&b, path);
    b_dbl(&b, bytes);
    b_dbl(&b, at);
    return sq_exec(s, &b, "recording a checkpoint", e);
}

static int sq_checkpoint_list(struct store *st, int64_t job_id,
                              struct store_checkpoint **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_CKPT_LIST, &b, "listing checkpoints", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, job_id);
        rc = sq_fetch(s, &b, &rows_ckpts, &v, n, "listing checkpoints", e);
    }
    *out = v;
    return rc;
}

/* -- requests -- */




static int sq_request_add(struct store *st, const char *kind, const char *arg, double at,
                          int64_t *out_id, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_REQ_ADD, &b, "filing a request", e);

    if (rc != 0)
        return rc;
    b_dbl(&b, at);
    b_text(&b, kind);
    b_text(&b, arg);
    rc = sq_exec(s, &b, "filing a request", e);
    *out_id = rc == 0 ? sqlite3_last_insert_rowid(s->db) : 0;
    return rc;
}

/* The pending requests, then mark exactly those done (up to the last id read). */
static int take_pending(struct sq *s, struct store_request **out, size_t *n,
                        struct err *e)
{
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_REQ_PENDING, &b, "taking requests", e);

    if (rc == 0)
        rc = sq_fetch(s, &b, &rows_requests, &v, n, "taking requests", e);
    if (rc == 0 && *n > 0)
        rc = sq_bind(s, Q_REQ_DONE, &b, "taking requests", e);
    if (rc == 0 && *n > 0) {
        b_int(&b, ((struct store_request *)v)[*n - 1].id);
        rc = sq_exec(s, &b, "taking requests", e);
    }
    if (rc != 0) {
        store_requests_free(v, *n);
        v = NULL;
        *n = 0;
    }
    *out = v;
    return rc;
}

static int sq_request_take(struct store *st, struct store_request **out, size_t *n,
                           struct err *e)
{
    struct sq *s = st->priv;
    int own, rc;

    *out = NULL;
    *n = 0;
    rc = sq_atomic_enter(s, &own, "taking requests", e);
    if (rc != 0)
        return rc;
    rc = sq_atomic_leave(s, own, take_pending(s, out, n, e), e);
    if (rc != 0) {
        store_requests_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* -- blocks -- */





/* One row per location: blocking it again extends the block (never shortens
 * it), so the table stays as small as the set of locations ever blocked. */
static int add_block(struct sq *s, const struct store_block *bl, struct err *e)
{
    struct binder b;
    int rc = sq_bind(s, Q_BLOCK_EXTEND, &b, "blocking a location", e);

    if (rc != 0)
        return rc;
    rows_bind_block(&b.base, bl);
    rc = sq_exec(s, &b, "blocking a location", e);
    if (rc != 0 || sqlite3_changes(s->db) > 0)
        return rc;
    rc = sq_bind(s, Q_BLOCK_INSERT, &b, "blocking a location", e);
    if (rc != 0)
        return rc;
    rows_bind_block(&b.base, bl);
    return sq_exec(s, &b, "blocking a location", e);
}

static int sq_block_add(struct store *st, const struct store_block *bl, struct err *e)
{
    struct sq *s = st->priv;
    int own;
    int rc = sq_atomic_enter(s, &own, "blocking a location", e);

    return rc != 0 ? rc : sq_atomic_leave(s, own, add_block(s, bl, e), e);
}

static int sq_block_list(struct store *st, double now, struct store_block **out,
                         size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_BLOCK_LIST, &b, "listing blocks", e);

    *n = 0;
    if (rc == 0) {
        b_dbl(&b, now);
        rc = sq_fetch(s, &b, &rows_blocks, &v, n, "listing blocks", e);
    }
    *out = v;
    return rc;
}

/* -- the cost report -- */

static int sq_cost_report(struct store *st, enum store_cost_by by, double now,
                          struct store_cost_row **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, (enum sq_stmt)(Q_COST_CLOUD + (int)by), &b, "reporting costs", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, ATT_ENDED);
        b_int(&b, ATT_END_EXITED);
        b_dbl(&b, now);
        rc = sq_fetch(s, &b, &rows_cost_rows, &v, n, "reporting costs", e);
    }
    *out = v;
    return rc;
}

/* -- tokens -- */




/* Tokens selected by statement q with one text parameter (NULL: none). */
static int token_query(struct sq *s, enum sq_stmt q, const char *arg,
                       struct store_token **out, size_t *n, const char *op, struct err *e)
{
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, q, &b, op, e);

    *n = 0;
    if (rc == 0) {
        if (arg != NULL)
            b_text(&b, arg);
        rc = sq_fetch(s, &b, &rows_tokens, &v, n, op, e);
    }
    *out = v;
    return rc;
}

/* The name check and the insert in one transaction: the partial unique
 * index would refuse a second live name too, but as a bare constraint error. */
static int insert_token(struct sq *s, struct store_token *t, struct err *e)
{
    struct store_token *live;
    struct binder b;
    size_t n;
    int rc = token_query(s, Q_TOKEN_LIVE_NAME, t->name, &live, &n, "adding a token", e);

    if (rc != 0)
        return rc;
    store_tokens_free(live, n);
    if (n > 0)
        return err_set(e, ST_EEXISTS,
                       "a token named '%s' already exists; revoke it first or pick "
                       "another name",
                       t->name);
    rc = sq_bind(s, Q_TOKEN_INSERT, &b, "adding a token", e);
    if (rc != 0)
        return rc;
    b_text(&b, t->name);
    b_text(&b, t->role);
    b_text(&b, t->hash);
    b_dbl(&b, t->created_at);
    b_text(&b, t->user);
    rc = sq_exec(s, &b, "adding a token", e);
    if (rc == 0)
        t->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_token_insert(struct store *st, struct store_token *t, struct err *e)
{
    struct sq *s = st->priv;
    int own;
    int rc = sq_atomic_enter(s, &own, "adding a token", e);

    return rc != 0 ? rc : sq_atomic_leave(s, own, insert_token(s, t, e), e);
}

static int sq_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                            struct err *e)
{
    struct store_token *v;
    size_t n;
    int rc =
        token_query(st->priv, Q_TOKEN_BY_HASH, hash, &v, &n, "looking up a token", e);

    if (rc == 0 && rows_one(v, n, sizeof(*out), out))
        rc = err_set(e, ST_ENOTFOUND, "no such token");
    return rc;
}

static int sq_token_list(struct store *st, int live_only, struct store_token **out,
                         size_t *n, struct err *e)
{
    return token_query(st->priv, live_only ? Q_TOKEN_LIST_LIVE : Q_TOKEN_LIST, NULL, out,
                       n, "listing tokens", e);
}

static int sq_token_revoke(struct store *st, int64_t id, double at, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_TOKEN_REVOKE, &b, "revoking a token", e);

    if (rc != 0)
        return rc;
    b_dbl(&b, at);
    b_int(&b, id);
    rc = sq_exec(s, &b, "revoking a token", e);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = err_set(e, ST_ENOTFOUND, "no live token %" PRId64, id);
    return rc;
}

/* -- settings -- */




static int sq_setting_get(struct store *st, const char *key, char **value, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    size_t n = 0;
    int rc = sq_bind(s, Q_SETTING_GET, &b, "reading a setting", e);

    if (rc == 0) {
        b_text(&b, key);
        rc = sq_fetch(s, &b, &rows_settings, &v, &n, "reading a setting", e);
    }
    if (rc == 0 && n == 1)
        *value = *(char **)v;
    free(v); /* the one string, if any, now belongs to *value */
    return rc;
}

static int sq_setting_put(struct store *st, const char *key, const char *value,
                          struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, value != NULL ? Q_SETTING_PUT : Q_SETTING_DEL, &b,
                     "writing a setting", e);

    if (rc != 0)
        return rc;
    b_text(&b, key);
    if (value != NULL)
        b_text(&b, value);
    return sq_exec(s, &b, "writing a setting", e);
}

/* -- services -- */





/* Services selected by statement q: with a name when name is not NULL,
 * then with *id when id is not NULL. */
static int service_query(struct sq *s, enum sq_stmt q, const char *name,
                         const int64_t *id, struct store_service **out, size_t *n,
                         const char *op, struct err *e)
{
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, q, &b, op, e);

    *n = 0;
    if (rc == 0) {
        if (name != NULL)
            b_text(&b, name);
        if (id != NULL)
            b_int(&b, *id);
        rc = sq_fetch(s, &b, &rows_services, &v, n, op, e);
    }
    *out = v;
    return rc;
}

/* ST_EEXISTS when a live service other than sv->id (0: a new one) has sv's
 * name and sv would be live too.  Checked in the writer's transaction: the
 * partial unique index would refuse it as well, but as a bare constraint
 * error. */
static int service_name_free(struct sq *s, const struct store_service *sv, int64_t id,
                             const char *op, struct err *e)
{
    struct store_service *live;
    size_t n;
    int rc;

    if (sv->ended_at != 0)
        return 0;
    rc = service_query(s, Q_SVC_LIVE_NAME, sv->name, &id, &live, &n, op, e);
    return rc != 0 ? rc : rows_service_name_free(sv, live, n, e);
}

static int insert_service(struct sq *s, struct store_service *sv, struct err *e)
{
    struct binder b;
    int rc = service_name_free(s, sv, 0, "adding a service", e);

    if (rc == 0)
        rc = sq_bind(s, Q_SVC_INSERT, &b, "adding a service", e);
    if (rc != 0)
        return rc;
    rows_bind_service(&b.base, sv);
    rc = sq_exec(s, &b, "adding a service", e);
    if (rc == 0)
        sv->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int sq_service_insert(struct store *st, struct store_service *sv, struct err *e)
{
    struct sq *s = st->priv;
    int own;
    int rc = sq_atomic_enter(s, &own, "adding a service", e);

    return rc != 0 ? rc : sq_atomic_leave(s, own, insert_service(s, sv, e), e);
}

/* Not found is checked before the name, as memstore does. */
static int update_service(struct sq *s, const struct store_service *sv, struct err *e)
{
    struct store_service *cur;
    struct binder b;
    size_t n;
    int rc =
        service_query(s, Q_SVC_GET, NULL, &sv->id, &cur, &n, "updating a service", e);

    if (rc != 0)
        return rc;
    store_services_free(cur, n);
    if (n == 0)
        return err_set(e, ST_ENOTFOUND, "no service %" PRId64, sv->id);
    rc = service_name_free(s, sv, sv->id, "updating a service", e);
    if (rc == 0)
        rc = sq_bind(s, Q_SVC_UPDATE, &b, "updating a service", e);
    if (rc != 0)
        return rc;
    rows_bind_service(&b.base, sv);
    b_int(&b, sv->id);
    return sq_exec(s, &b, "updating a service", e);
}

static int sq_service_update(struct store *st, const struct store_service *sv,
                             struct err *e)
{
    struct sq *s = st->priv;
    int own;
    int rc = sq_atomic_enter(s, &own, "updating a service", e);

    return rc != 0 ? rc : sq_atomic_leave(s, own, update_service(s, sv, e), e);
}

/* The one row of a query into *out, ST_ENOTFOUND when there is none. */
static int service_one(struct sq *s, enum sq_stmt q, const char *name, const int64_t *id,
                       struct store_service *out, const char *op, struct err *e)
{
    struct store_service *v;
    size_t n;
    int rc = service_query(s, q, name, id, &v, &n, op, e);

    if (rc != 0 || !rows_one(v, n, sizeof(*out), out))
        return rc;
    return name != NULL ? err_set(e, ST_ENOTFOUND, "no service named '%s'", name)
                        : err_set(e, ST_ENOTFOUND, "no service %" PRId64, *id);
}

static int sq_service_get(struct store *st, int64_t id, struct store_service *out,
                          struct err *e)
{
    return service_one(st->priv, Q_SVC_GET, NULL, &id, out, "reading a service", e);
}

static int sq_service_find(struct store *st, const char *name, struct store_service *out,
                           struct err *e)
{
    return service_one(st->priv, Q_SVC_FIND, name, NULL, out, "looking up a service", e);
}

static int sq_service_list(struct store *st, int live_only, struct store_service **out,
                           size_t *n, struct err *e)
{
    return service_query(st->priv, live_only ? Q_SVC_LIST_LIVE : Q_SVC_LIST, NULL, NULL,
                         out, n, "listing services", e);
}

static int sq_replica_list(struct store *st, int64_t service_id, int active_only,
                           struct store_job **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, active_only ? Q_REPLICA_LIST_ACTIVE : Q_REPLICA_LIST, &b,
                     "listing a service's replicas", e);

    *n = 0;
    if (rc == 0) {
        b_int(&b, service_id);
        if (active_only)
            b_int(&b, JOB_SUCCEEDED); /* the first terminal state, as sq_job_scan */
        rc = sq_fetch(s, &b, &rows_jobs, &v, n, "listing a service's replicas", e);
    }
    *out = v;
    return rc;
}

/* -- secrets -- */




static int sq_secret_put(struct store *st, const struct store_secret *v, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_SECRET_PUT, &b, "writing a secret", e);

    if (rc != 0)
        return rc;
    b_text(&b, v->team);
    b_text(&b, v->name);
    b_blob(&b, v->ciphertext, v->ciphertext_len);
    b_blob(&b, v->nonce, v->nonce_len);
    b_dbl(&b, v->updated_at);
    return sq_exec(s, &b, "writing a secret", e);
}

static int sq_secret_get(struct store *st, const char *team, const char *name,
                         struct store_secret *out, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    size_t n = 0;
    int rc = sq_bind(s, Q_SECRET_GET, &b, "reading a secret", e);

    if (rc != 0)
        return rc;
    b_text(&b, team);
    b_text(&b, name);
    rc = sq_fetch(s, &b, &rows_secrets, &v, &n, "reading a secret", e);
    if (rc == 0 && n == 0)
        rc = err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    if (rc == 0)
        *out = *(struct store_secret *)v; /* the one row: (team, name) is the key */
    free(v);                              /* its fields now belong to *out */
    return rc;
}

static int sq_secret_list(struct store *st, const char *team, struct store_secret **out,
                          size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_SECRET_LIST, &b, "listing secrets", e);

    *n = 0;
    if (rc == 0) {
        b_text(&b, team);
        rc = sq_fetch(s, &b, &rows_secrets, &v, n, "listing secrets", e);
    }
    *out = v;
    return rc;
}

static int sq_secret_delete(struct store *st, const char *team, const char *name,
                            struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_SECRET_DEL, &b, "deleting a secret", e);

    if (rc != 0)
        return rc;
    b_text(&b, team);
    b_text(&b, name);
    rc = sq_exec(s, &b, "deleting a secret", e);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    return rc;
}

/* -- data replicas -- */

/* The row at (dataset, cloud, region) is replaced, a deleted copy's first
 * kept in data_replicas_past when v is another copy (made at another time). */
static int sq_data_put(struct store *st, const struct store_data_replica *v, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    int rc = sq_bind(s, Q_DATA_KEEP_PAST, &b, "keeping a deleted data replica", e);

    if (rc != 0)
        return rc;
    b_text(&b, v->dataset);
    b_text(&b, v->cloud);
    b_text(&b, v->region);
    b_dbl(&b, v->created_at);
    if ((rc = sq_exec(s, &b, "keeping a deleted data replica", e)) != 0 ||
        (rc = sq_bind(s, Q_DATA_PUT, &b, "writing a data replica", e)) != 0)
        return rc;
    rows_bind_data(&b.base, v);
    return sq_exec(s, &b, "writing a data replica", e);
}

static int sq_data_list(struct store *st, const char *dataset, int live_only,
                        struct store_data_replica **out, size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_DATA_LIST, &b, "listing data replicas", e);

    *n = 0;
    if (rc == 0) {
        b_text(&b, dataset);
        b_int(&b, live_only);
        rc = sq_fetch(s, &b, &rows_data, &v, n, "listing data replicas", e);
    }
    *out = v;
    return rc;
}

static int sq_data_storage(struct store *st, double now, struct store_cost_row **out,
                           size_t *n, struct err *e)
{
    struct sq *s = st->priv;
    struct binder b;
    void *v = NULL;
    int rc = sq_bind(s, Q_DATA_STORAGE, &b, "adding up the keeping of data copies", e);

    *n = 0;
    if (rc == 0) {
        b_dbl(&b, now);
        rc = sq_fetch(s, &b, &rows_cost_rows, &v, n,
                      "adding up the keeping of data copies", e);
    }
    *out = v;
    return rc;
}

/* ---- 6. the ops table ------------------------------------------------------- */

const struct store_ops store_sqlite = {
    .name = "sqlite",
    .prefix = NULL, /* the default: any plain file path */
    .priv_size = sizeof(struct sq),
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .job_insert = sq_job_insert,
    .job_update = sq_job_update,
    .job_get = sq_job_get,
    .job_scan = sq_job_scan,
    .attempt_insert = sq_attempt_insert,
    .attempt_update = sq_attempt_update,
    .attempt_get = sq_attempt_get,
    .attempt_list = sq_attempt_list,
    .attempt_page = sq_attempt_page,
    .node_put = sq_node_put,
    .node_list = sq_node_list,
    .event_append = sq_event_append,
    .event_list = sq_event_list,
    .checkpoint_add = sq_checkpoint_add,
    .checkpoint_list = sq_checkpoint_list,
    .request_add = sq_request_add,
    .request_take = sq_request_take,
    .block_add = sq_block_add,
    .block_list = sq_block_list,
    .cost_report = sq_cost_report,
    .token_insert = sq_token_insert,
    .token_by_hash = sq_token_by_hash,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .setting_get = sq_setting_get,
    .setting_put = sq_setting_put,
    .service_insert = sq_service_insert,
    .service_update = sq_service_update,
    .service_get = sq_service_get,
    .service_find = sq_service_find,
    .service_list = sq_service_list,
    .replica_list = sq_replica_list,
    .secret_put = sq_secret_put,
    .secret_get = sq_secret_get,
    .secret_list = sq_secret_list,
    .secret_delete = sq_secret_delete,
    .data_put = sq_data_put,
    .data_list = sq_data_list,
    .data_storage = sq_data_storage,
};
