/*
 * store.h - durable state of the controller: jobs, attempts (each with its
 * placement), nodes, an append-only event log, checkpoints, cost records,
 * location blocks and requests from the command line.
 *
 * The default backend is SQLite in WAL mode (`$STRATUS_HOME/stratus.db`),
 * with versioned schema migrations; the backend sits behind struct store_ops
 * (store_int.h).  A path "postgresql://..." (or "postgres://...") opens the
 * PostgreSQL backend (pgstore.c, docs/postgres.md) with the same schema.  Several processes may
 * open one store: the controller writes, the CLI reads and files requests.
 * The path "mem:" opens a store held in this process's memory (memstore.c),
 * private to its handle and gone at close: what the simulator runs on.
 *
 * Identity: every store has an id (store_id(): 128 random bits as 32 hex
 * digits) made with its database and kept in it, so a new database at the
 * same path is a different store.  Whatever a store's users keep outside it
 * (driver state, checkpoints) is filed under that id, never under names the
 * store hands out again (job and attempt ids restart at 1 in a new store).
 *
 * Invariant support: the controller groups the writes of one decision in
 * store_begin()/store_commit() and acts only after the commit returned.
 * Records returned by getters are owned by the caller (free with *_clear()).
 */
#ifndef STRATUS_STORE_H
#define STRATUS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* The numbers of the enums below (and of enum spec_kind and enum plan_mode,
 * which records carry) are written to the store: append new values at the
 * end, never reorder. */
#define JOB_STATE_MAP(X)                                                                 \
    X(PENDING, "PENDING")                                                                \
    X(PROVISIONING, "PROVISIONING")                                                      \
    X(RUNNING, "RUNNING")                                                                \
    X(RECOVERING, "RECOVERING")                                                          \
    X(SUCCEEDED, "SUCCEEDED")                                                            \
    X(FAILED, "FAILED")                                                                  \
    X(CANCELLED, "CANCELLED")

enum job_state {
#define X_(id, name) JOB_##id,
    JOB_STATE_MAP(X_)
#undef X_
        JOB__NSTATES
};

/* Attempt life: LAUNCHING (row written, driver asked) -> RUNNING -> ENDED. */
enum attempt_state { ATT_LAUNCHING, ATT_RUNNING, ATT_ENDED };

#define ATT_END_MAP(X)                                                                   \
    X(NONE, "none")                                                                      \
    X(EXITED, "exited")          /* all nodes exited; exit_code says how */             \
    X(PREEMPTED, "preempted")    /* the cloud took a node back */                       \
    X(CAPACITY, "capacity")      /* the launch was refused: stockout */                 \
    X(CANCELLED, "cancelled")    /* the user cancelled the job */                       \
    X(DISPLACED, "displaced")    /* stopped for a higher-priority job */                \
    X(LOST, "lost")              /* the driver lost track of it */                      \
    X(FAILED, "failed")          /* the launch failed (not for capacity) */

enum attempt_end {
#define X_(id, name) ATT_END_##id,
    ATT_END_MAP(X_)
#undef X_
        ATT_END__N
};

struct store_job {
    int64_t id;
    char *name;
    char *spec_path;        /* as given to `launch` (for display) */
    char *spec_text;        /* the spec file's text at submission */
    char *policy_text;      /* the policy in force at submission; NULL = none */
    int kind;               /* enum spec_kind */
    char *team;             /* NULL = none */
    int priority;
    int state;              /* enum job_state */
    char *reason;           /* why it is in this state (last transition) */
    double submitted_at, started_at, ended_at; /* 0 = not yet */
    double next_try_at;     /* backoff: do not place before this; 0 = now */
    double deadline_at;     /* absolute; 0 = none */
    int restarts;           /* recoveries so far */
    int nattempts;          /* attempts created so far */
    int64_t cur_attempt;    /* the live attempt, 0 = none */
    int on_demand_only;     /* latched by the deadline rule */
    double work_done_s;     /* compute progress saved in checkpoints (estimate) */
    double cost;            /* USD accounted so far, all attempts */
    int exit_code;          /* of the final attempt; -1 = none */
    int cancel_requested;
    /* a replica of a service (schema 7); all 0 for any other job */
    int64_t service_id;     /* the service (store_service.id) it serves */
    int svc_version;        /* the service's spec version it runs */
    int port;               /* where it listens on its node (the local world gives
                               each replica its own loopback port) */
    int svc_mode;           /* enum svc_mode: the modes the replica may use */
    /* a stage of a pipeline or a task of a job group (schema 9); all 0/NULL
     * for any other job.  The group is named by its first stage's job id, so
     * no row of its own is needed: every stage is a plain job of the core. */
    int64_t group_id;       /* the first stage's job id (its own id for it) */
    int stage;              /* 1, 2, ... in file order */
    int group_mode;         /* enum pipeline_mode (spec/pipeline.h): serial
                               (a stage starts when the one before succeeded)
                               or parallel (a job group) */
    int group_primary;      /* job group: a primary task (when every primary
                               task has ended, the others are stopped) */
    char *group_name;       /* the pipeline's or job group's name */
};

/* A replica's modes: the spot/on-demand split is the service's decision
 * (SpotHedge), not the policy's. */
enum svc_mode { SVC_MODE_ANY, SVC_MODE_SPOT, SVC_MODE_ON_DEMAND };

struct store_attempt {
    int64_t id;             /* globally unique attempt id */
    int64_t job_id;
    int n;                  /* 1, 2, ... within the job */
    int state;              /* enum attempt_state */
    /* the placement */
    char *cloud, *region, *zone, *instance_type, *accelerator;
    int acc_count, nodes;
    int mode;               /* enum plan_mode: on-demand, spot, committed */
    float backfill_spot;    /* committed nodes taken by a job that would
                               otherwise pay this spot price per node-hour,
                               given back to on-demand work (backfill,
                               sched_place.c); 0 = not backfill.  A float:
                               it fills the padding before price_hour (a
                               study's store holds millions of attempts) */
    double price_hour;      /* per node, in force since priced_at */
    double launched_at, running_at, ended_at; /* 0 = not yet */
    int end_reason;         /* enum attempt_end */
    int exit_code;          /* -1 = none */
    double cost;            /* node-seconds x the price in force: while it runs,
                               what ran before priced_at; when ended, all of it */
    int64_t ckpt_from;      /* attempt whose checkpoint this one started from, 0 = none */
    double ckpt_bytes;      /* size of that checkpoint */
    double ckpt_copy_s;     /* time it took to carry it over */
    double egress;          /* of cost: moving the job's data to where it ran */
    double priced_at;       /* when price_hour came into force while it ran
                               (its price changed); 0 = since running_at */
    double list_hour;       /* an on-demand attempt in a group with
                               commitments: what its nodes pay per node-hour
                               where they do not cover them (price_hour is
                               that times its uncovered share; sched_commit_bill);
                               0 = not billed so, price_hour is the price */
};

struct store_node {
    int64_t attempt_id;
    int rank;
    int state;              /* enum attempt_state, per node */
    int exit_code;          /* -1 = none */
    double started_at, ended_at;
};

struct store_event {
    int64_t id;             /* increasing: events after id N are newer */
    int64_t job_id, attempt_id; /* attempt 0 = none */
    double at;
    char *type;             /* "submitted", "state", "launch", "preempted", ... */
    int from_state, to_state; /* enum job_state, -1 when not a transition */
    char *msg;
};

/* A checkpoint carried from one attempt to the next (store_checkpoint_add). */
struct store_checkpoint {
    int64_t id;
    int64_t job_id, attempt_id; /* attempt 0 = none */
    char *path;
    double bytes, at;
};

/* A request filed by the command line for the controller: "cancel" (arg = job
 * id), "preempt-job", "preempt-location", "stockout" (arg = "LOCATION SECONDS");
 * and one the controller files for itself with a decision, so that a crash
 * after the commit cannot lose it: "terminate" (arg = attempt id). */
struct store_request {
    int64_t id;
    double at;
    char *kind, *arg;
};

/* A location blocked for placement until `until` (failover cooldown). */
struct store_block {
    char *cloud, *region, *zone, *instance_type; /* zone/instance_type "" = all */
    double until;
    char *reason;
    char *accelerator; /* of the instance type: "" = all (an instance type whose
                          offers carry different accelerators, GCP's n1 with a
                          T4 or a V100, TPU-VM, is out of one and not the other;
                          "(none)": its CPU-only offers) */
};

/* One row of a cost report. */
struct store_cost_row {
    char *key;              /* per `by`: the cloud, the team, or the job id in
                               decimal ("7"); "(none)" for a missing one */
    double usd, node_hours, lost_node_hours; /* lost: of attempts that did not finish */
    int attempts;
    double egress_usd;      /* of usd: moving jobs' data (attempts' egress) */
    double storage_usd;     /* of usd: keeping the replicas jobs made (the
                               server adds it: 0 from store_cost_report) */
    double commitment_usd;  /* of usd: the commitments' fees, amortised by
                               the hour (the server adds them by cloud: 0
                               from store_cost_report) */
    double compute_usd;     /* usd - egress_usd - storage_usd - commitment_usd */
    char *name;             /* by job: the job's name (NULL when it has none);
                               NULL for the other groupings */
};

/* An API token as the store keeps it: never the token, only its hash (the
 * server's auth module makes and checks both; see src/server/auth.h). */
struct store_token {
    int64_t id;
    char *name;             /* unique among live tokens */
    char *role;             /* "viewer", "member" or "admin" */
    char *hash;             /* HMAC-SHA256 of the token, lowercase hex */
    char *user;             /* the user it belongs to (schema 10); NULL = a
                               lab-wide token (docs/teams.md) */
    double created_at;
    double revoked_at;      /* 0 = live */
};

struct store;

/* Open (creating and migrating) the store at path, e.g. "$STRATUS_HOME/stratus.db";
 * ":memory:" is an SQLite store private to this handle, without a file;
 * "mem:" the in-memory backend (no SQL at all).  A missing file is created
 * owner-only (0600: the store holds jobs' environments); a wider mode is
 * narrowed to 0600 with a warning.  A file that is not a stratus store (empty,
 * another program's database, a newer schema) is refused and left untouched. */
int store_open(struct store **out, const char *path, struct err *e);
/* The path as messages may show it: a connection string without its
 * password (postgresql://ada@host/db, ?password=***); anything else as it
 * is.  The caller frees it. */
char *store_redact(const char *path);
/* Remove the SQLite store file at path with its -wal and -shm files, if there
 * are any (a store nobody has open: a run's leftover, a temporary). */
void store_remove_file(const char *path);
void store_close(struct store *st);
/* Current schema version (migrations are applied in order on open). */
int store_schema_version(struct store *st);

#define STORE_ID_LEN 32 /* hex digits of a store id */

/* The store's identity: STORE_ID_LEN lowercase hex digits, made at random
 * when its database was created (a "mem:" or ":memory:" store: at each open)
 * and the same for every handle on it; owned by the handle. */
const char *store_id(struct store *st);
/* 1 when the database was created by a stratus from before store identities
 * and got its id from the migration: its artefacts are where that stratus
 * kept them (unkeyed, directly in $STRATUS_HOME); 0 for every other store. */
int store_legacy_layout(struct store *st);

/* One transaction at a time (a second begin is ST_ESTATE).  A commit that
 * fails stores nothing of the transaction and closes it; rollback without a
 * transaction is a no-op. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st);

/* Jobs. insert sets j->id. */
int store_job_insert(struct store *st, struct store_job *j, struct err *e);
int store_job_update(struct store *st, const struct store_job *j, struct err *e);
/* ST_ENOTFOUND when there is no such job. */
int store_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e);
/* Jobs in id order; active_only keeps PENDING..RECOVERING. Caller frees with
 * store_jobs_free. */
int store_job_list(struct store *st, int active_only, struct store_job **out, size_t *n,
                   struct err *e);
/* Active jobs with an id above after_id, in id order (what a controller has
 * not seen yet). */
int store_job_list_after(struct store *st, int64_t after_id, struct store_job **out,
                         size_t *n, struct err *e);
/* Every job (any state) with an id above after_id, in id order, at most
 * `limit` (0 = all): to read a large store a page at a time. */
int store_job_page(struct store *st, int64_t after_id, size_t limit, struct store_job **out,
                   size_t *n, struct err *e);
/* A page of jobs from a cursor, either way (GET /v1/jobs?limit&after&order):
 * ascending, those with an id above `after`; descending (newest first),
 * those below it (0: from the newest). */
struct store_job_scan {
    int active_only; /* PENDING..RECOVERING only */
    int desc;        /* newest first */
    int64_t after;   /* the cursor: the last id of the page before */
    size_t limit;    /* 0 = all */
    int no_texts;    /* spec_text and policy_text left NULL: a list that does
                        not show them reads none of a lab's specs */
};
int store_job_scan(struct store *st, const struct store_job_scan *q,
                   struct store_job **out, size_t *n, struct err *e);
void store_job_clear(struct store_job *j);
void store_jobs_free(struct store_job *v, size_t n);

/* Attempts. insert sets a->id. */
int store_attempt_insert(struct store *st, struct store_attempt *a, struct err *e);
int store_attempt_update(struct store *st, const struct store_attempt *a, struct err *e);
int store_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                      struct err *e);
/* job_id > 0: that job's attempts; job_id == 0: every attempt not ENDED;
 * job_id < 0: every attempt (reports, the simulator's results). */
int store_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                       size_t *n, struct err *e);
/* Every attempt with an id above after_id, in id order, at most `limit`
 * (0 = all). */
int store_attempt_page(struct store *st, int64_t after_id, size_t limit,
                       struct store_attempt **out, size_t *n, struct err *e);
void store_attempt_clear(struct store_attempt *a);
/* What attempt a has cost by `end` (egress aside): cost, which holds the
 * stretches before priced_at, plus its run since then (or since running_at)
 * at price_hour for its nodes.  An end before priced_at (an exit seen after
 * the reprice) gets cost prorated over [running_at, priced_at].  An attempt
 * that never ran costs nothing. */
double store_attempt_cost_at(const struct store_attempt *a, double end);
/* What attempt a has cost all told by `now`: an ended one its cost; a live
 * one its run so far (store_attempt_cost_at) and the data move it paid when
 * it started running (egress, which its cost takes in when it ends). */
double store_attempt_spent_at(const struct store_attempt *a, double now);
/* Attempt a's compute (egress aside) by `now` in two stretches: *last what
 * it ran at its last price, from *p0 (priced_at, or running_at) to its end
 * (or now), and *before what it ran before that, from running_at to *p0.
 * A price that changed more than once has its earlier stretches in
 * *before, which the store does not split further. */
void store_attempt_split(const struct store_attempt *a, double now, double *p0,
                         double *before, double *last);
/* The part of a's compute by `now` that ran within [from, to): its last
 * price's stretch exactly, the one before spread evenly over its time. */
double store_attempt_compute_in(const struct store_attempt *a, double now, double from,
                                double to);
void store_attempts_free(struct store_attempt *v, size_t n);

/* Nodes of an attempt (upsert by attempt id and rank). */
int store_node_put(struct store *st, const struct store_node *nd, struct err *e);
/* In rank order; the caller frees the array with free(). */
int store_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                    size_t *n, struct err *e);

/* The append-only event log; sets the event id when out_id is not NULL. */
int store_event_append(struct store *st, int64_t job_id, int64_t attempt_id, double at,
                       const char *type, int from_state, int to_state, const char *msg,
                       int64_t *out_id, struct err *e);
/* Events of a job (job_id 0: all jobs) with id > after_id, oldest first, at
 * most `limit` (0 = all). */
int store_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                     struct store_event **out, size_t *n, struct err *e);
void store_events_free(struct store_event *v, size_t n);

/* Checkpoints recorded when carried from one attempt to the next. */
int store_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                         const char *path, double bytes, double at, struct err *e);
/* A job's checkpoints, oldest first.  Caller frees with store_checkpoints_free. */
int store_checkpoint_list(struct store *st, int64_t job_id, struct store_checkpoint **out,
                          size_t *n, struct err *e);
void store_checkpoints_free(struct store_checkpoint *v, size_t n);

/* Requests: add (from the CLI), take (the controller marks them done): take
 * returns every pending request in id order, each once only.  Inside a
 * store_begin() the taking commits or rolls back with the transaction, so
 * a controller killed before its commit finds them pending again. */
int store_request_add(struct store *st, const char *kind, const char *arg, double at,
                      int64_t *out_id, struct err *e);
int store_request_take(struct store *st, struct store_request **out, size_t *n,
                       struct err *e);
void store_requests_free(struct store_request *v, size_t n);

/* Location blocks: add, and list those with until > now.  One block per
 * location: blocking it again keeps the later `until` (and its reason). */
int store_block_add(struct store *st, const struct store_block *b, struct err *e);
int store_block_list(struct store *st, double now, struct store_block **out, size_t *n,
                     struct err *e);
void store_blocks_free(struct store_block *v, size_t n);

/* Cost ledger by `now`: by = "cloud", "team" or "job" (grouped by job id);
 * rows ordered by usd descending, then by key (by job: by id).  A live
 * attempt counts what it has spent by now (store_attempt_spent_at) and its
 * node-hours so far; lost node-hours are those of ended attempts that did
 * not exit. */
int store_cost_report(struct store *st, const char *by, double now,
                      struct store_cost_row **out, size_t *n, struct err *e);
void store_cost_rows_free(struct store_cost_row *v, size_t n);

/* ---- the server's records (schema 6): API tokens and settings ---- */

/* Add a token (name, role and hash required; revoked_at is stored as 0)
 * and set t->id.  ST_EEXISTS when a live token already has t->name. */
int store_token_insert(struct store *st, struct store_token *t, struct err *e);
/* The token (live or revoked: see revoked_at) whose hash is `hash`;
 * ST_ENOTFOUND when there is none.  The caller clears *out. */
int store_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                        struct err *e);
/* Tokens in id order; live_only leaves revoked ones out.  Caller frees with
 * store_tokens_free. */
int store_token_list(struct store *st, int live_only, struct store_token **out, size_t *n,
                     struct err *e);
/* Revoke the live token `id` at time `at`; ST_ENOTFOUND when no live token
 * has that id (unknown or already revoked). */
int store_token_revoke(struct store *st, int64_t id, double at, struct err *e);
void store_token_clear(struct store_token *t);
void store_tokens_free(struct store_token *v, size_t n);

/* Server settings: a text value per key ("policy", ...).  get sets *value
 * to a copy the caller frees, or NULL when the key has none. */
int store_setting_get(struct store *st, const char *key, char **value, struct err *e);
/* Set key to value (replacing any); value NULL removes the key. */
int store_setting_put(struct store *st, const char *key, const char *value, struct err *e);

/* ---- services (schema 7) ----
 * A service is a spec with a `service:` section kept running as a set of
 * replicas; every replica is a job (store_job.service_id names its service)
 * so placement, failover, accounting and crash safety are the jobs'. */

#define SVC_STATE_MAP(X)                                                                 \
    X(STARTING, "STARTING")         /* no replica ready yet */                           \
    X(READY, "READY")               /* at least one replica takes traffic */             \
    X(UPDATING, "UPDATING")         /* replicas of an older version still serve */       \
    X(SHUTTING_DOWN, "SHUTTING_DOWN") /* `serve down`: replicas draining */              \
    X(DOWN, "DOWN")                 /* ended: no replica left */                         \
    X(FAILED, "FAILED")             /* ended: replicas kept failing */

enum svc_state {
#define X_(id, name) SVC_##id,
    SVC_STATE_MAP(X_)
#undef X_
        SVC__NSTATES
};

struct store_service {
    int64_t id;
    char *name;             /* unique among live services */
    char *spec_path;        /* as given to `serve up` (for display) */
    char *spec_text;        /* the spec text of the current version */
    char *policy_text;      /* the policy in force at `serve up`; NULL = none */
    int version;            /* 1 at `serve up`, + 1 at each `serve update` */
    int state;              /* enum svc_state */
    char *reason;           /* why it is in this state */
    double created_at, updated_at, ended_at; /* ended_at 0 = live */
    int target;             /* replicas the autoscaler wants now (survives restarts) */
    char *keys;             /* its endpoint's API keys: a JSON array of lowercase
                               hex SHA-256 digests; NULL = none (open endpoint) */
    char *key_info;         /* what `serve keys` lists of them: a JSON array of
                               {"id", "prefix", "sha256", "created_at",
                               "revoked_at"}; NULL in rows older than schema 8
                               (keys stays what routers check: api_services.c) */
    char *team;             /* the team it belongs to (schema 10); NULL = none */
};

/* Add a service (name and spec_text required) and set s->id; ST_EEXISTS
 * when a live service (ended_at 0) already has s->name. */
int store_service_insert(struct store *st, struct store_service *s, struct err *e);
/* Rewrite service s->id whole; ST_ENOTFOUND when there is none. */
int store_service_update(struct store *st, const struct store_service *s, struct err *e);
/* Service `id`; ST_ENOTFOUND when there is none.  The caller clears *out. */
int store_service_get(struct store *st, int64_t id, struct store_service *out, struct err *e);
/* The live service called `name`, else the latest ended one of that name;
 * ST_ENOTFOUND when there is none. */
int store_service_find(struct store *st, const char *name, struct store_service *out,
                       struct err *e);
/* Services in id order; live_only leaves ended ones out. */
int store_service_list(struct store *st, int live_only, struct store_service **out,
                       size_t *n, struct err *e);
/* The replicas (jobs) of service `id` in id order; active_only leaves ended
 * jobs out. */
int store_replica_list(struct store *st, int64_t service_id, int active_only,
                       struct store_job **out, size_t *n, struct err *e);
void store_service_clear(struct store_service *s);
void store_services_free(struct store_service *v, size_t n);
/* "any", "spot", "on-demand" (enum svc_mode); "?" for a number that is not one. */
const char *svc_mode_name(int m);
const char *svc_state_name(int s);
/* -1 when not a state name. */
int svc_state_parse(const char *s);
int svc_state_terminal(int s);

/* ---- secrets (schema 10) ----
 * A team's named secret, sealed by the server (src/server/secret.h): the
 * store never sees a value, only its AES-256-GCM ciphertext (with the tag)
 * and nonce.  A secret is known by (team, name); team "" is the lab's shared
 * space (work without a team). */
struct store_secret {
    char *team;              /* "" = the lab's shared space; never NULL */
    char *name;
    unsigned char *ciphertext; /* the sealed value: ciphertext and GCM tag; NULL in lists */
    size_t ciphertext_len;
    unsigned char *nonce;    /* NULL in lists */
    size_t nonce_len;
    double created_at;       /* of the first put; kept when it is replaced */
    double updated_at;       /* of the last put */
};

/* Insert secret (s->team, s->name), or replace its value: ciphertext and nonce
 * (both required) and updated_at are written, created_at is s->updated_at
 * for a new secret and kept for an old one (s->created_at is not read). */
int store_secret_put(struct store *st, const struct store_secret *s, struct err *e);
/* Secret (team, name) with its ciphertext; ST_ENOTFOUND when there is
 * none.  The caller clears *out. */
int store_secret_get(struct store *st, const char *team, const char *name,
                     struct store_secret *out, struct err *e);
/* The secrets of team in name order: names and times only (ciphertext and
 * nonce NULL).  Caller frees with store_secrets_free. */
int store_secret_list(struct store *st, const char *team, struct store_secret **out,
                      size_t *n, struct err *e);
/* Delete secret (team, name); ST_ENOTFOUND when there is none. */
int store_secret_delete(struct store *st, const char *team, const char *name,
                        struct err *e);
/* Free what a secret record owns (its ciphertext is wiped first). */
void store_secret_clear(struct store_secret *s);
void store_secrets_free(struct store_secret *v, size_t n);

/* ---- data replicas (schema 12; past copies kept since 14) ----
 * Where a dataset's copies are (docs/data.md).  A dataset is the data a
 * spec names with stratus.data (its `dataset`, else the job's own data,
 * named "job-<id>"); its home is where stratus.data.location says it is,
 * and every region an attempt of a job on it ran in gets a replica, made
 * once (egress from the nearest live copy) and kept until it expires.
 * A place has one copy at a time; a copy made again where one was deleted
 * is a record of its own, and the deleted one stays with what it cost
 * (schema 14). */
struct store_data_replica {
    char *dataset;
    char *cloud, *region;   /* region "" = a bucket of unknown region (home only) */
    char *src_cloud, *src_region; /* where it was copied from; "" for the home */
    char *via;                    /* the regions the copy was relayed through on its way,
                                     "oci/us-ashburn-1, ..." ("" = straight; schema 15) */
    int home;               /* the dataset's home copy: never expires, costs nothing here */
    int in_use;             /* live attempts running on it (the controller's count) */
    double size_gb;
    double created_at;      /* the home: when first seen; a replica: when made */
    double last_used_at;    /* when an attempt last ran on it (ended or started) */
    double expired_at;      /* when it was deleted; 0 = present */
    double egress;          /* USD paid to make it */
    double storage_gb_month; /* USD per GB-month of its cloud's object storage */
    int64_t job_id, attempt_id; /* the attempt that made it; 0 for the home */
};

/* Write replica (dataset, cloud, region): every field of the latest copy
 * there is replaced (r with expired_at set deletes it), unless that copy was
 * deleted and r was made at another time: then r is a new copy, and the
 * deleted one is kept as it was. */
int store_data_put(struct store *st, const struct store_data_replica *r, struct err *e);
/* The replicas of dataset (NULL = every dataset), by dataset then when made;
 * with live_only, those not expired.  Caller frees with
 * store_data_replicas_free. */
int store_data_list(struct store *st, const char *dataset, int live_only,
                    struct store_data_replica **out, size_t *n, struct err *e);
/* USD of keeping the replica from when it was made until it expired, or
 * until `now` while it is present; 0 for the home. */
double store_data_storage_cost(const struct store_data_replica *r, double now);
/* What keeping the copies jobs made has cost by `now` (store_data_storage_cost
 * summed over every copy, present or deleted, whose job_id > 0), one row per
 * cloud: key the cloud, usd the cost, attempts the copies; by cloud.  One
 * aggregate in the database, not a list of every copy.  Caller frees with
 * store_cost_rows_free. */
int store_data_storage(struct store *st, double now, struct store_cost_row **out,
                       size_t *n, struct err *e);
void store_data_replica_clear(struct store_data_replica *r);
void store_data_replicas_free(struct store_data_replica *v, size_t n);

/* ---- leadership (stores several servers share: PostgreSQL) ----
 * One lease per store: the server holding it is the leader, the only one
 * that runs the controller (docs/ha.md).  Times are the database's clock,
 * so the servers' clocks need not agree.  Taking the lease fences this
 * handle: from then on every write transaction of it first checks, under
 * a lock on the lease's row, that the lease still has the epoch taken, so
 * a deposed leader (paused, partitioned) can no longer commit anything: its
 * writes fail with ST_EFENCED.  The row lock orders commits: a new leader's
 * take waits for an old leader's open write to end, and every commit of the
 * old epoch comes before the first of the new. */
#define STORE_HOLDER_MAX 96
#define STORE_LEASE_URL_MAX 256
struct store_lease {
    char holder[STORE_HOLDER_MAX]; /* "" = never taken */
    char url[STORE_LEASE_URL_MAX]; /* where the holder's API listens; "" = none */
    int64_t epoch;                 /* one more at each new holder */
    double expires_in;             /* s until it lapses (< 0: lapsed) */
    double age;                    /* s since its holder last took or renewed it */
};

/* Does this store take a lease (may several servers share it)? */
int store_shared(const struct store *st);
/* Take the lease for holder (for ttl_s seconds), or renew it when holder
 * has it; *held says whether holder has it now, *out (may be NULL) what
 * the lease is after the call.  When held, this handle is fenced with the
 * lease's epoch (above); ST_EINVAL on a store that does not share. */
int store_lease_take(struct store *st, const char *holder, const char *url, double ttl_s,
                     int *held, struct store_lease *out, struct err *e);
/* The lease as it stands (holder "" when none was ever taken). */
int store_lease_get(struct store *st, struct store_lease *out, struct err *e);
/* Give the lease up at once when holder has it (a clean stop: the others
 * need not wait for it to lapse); the fence stays, so nothing more of this
 * handle commits. */
int store_lease_drop(struct store *st, const char *holder, struct err *e);
/* The epoch this handle is fenced with; 0 = not fenced. */
int64_t store_fence_epoch(const struct store *st);

/* ---- wake-ups across processes (stores several servers share) ----
 * store_notify tells every listener of the store that something changed
 * (PostgreSQL NOTIFY: delivered when the transaction it was sent in, or at
 * once outside one, commits).  store_listen opens the listening side and
 * gives a descriptor to wait on for reading; store_listen_read then says
 * how many notifications came (>= 0) and sets *fd again: *renewed says the
 * connection was made anew (wait on *fd afresh, even if it has the same
 * number), and *fd -1 that the database cannot be reached (ask again
 * later, with store_listen).  Stores that are not shared: ST_EINVAL. */
int store_notify(struct store *st, struct err *e);
int store_listen(struct store *st, int *fd, struct err *e);
int store_listen_read(struct store *st, int *fd, int *renewed, struct err *e);

const char *job_state_name(int s);
/* -1 when not a state name. */
int job_state_parse(const char *s);
static inline int job_state_terminal(int s)
{
    return s >= JOB_SUCCEEDED && s < JOB__NSTATES;
}
const char *attempt_end_name(int r);

#endif
