/*
 * store_int.h - the inside of struct store: the backend interface (a const
 * table of function pointers, as SQLite's sqlite3_vfs) and the handle the
 * core allocates.  Shared by store.c (the public functions, which check
 * arguments and dispatch) and one file per backend (sqlite.c, memstore.c;
 * pgstore.c).  Not for other modules.
 *
 * The core has checked every argument a user or caller can get wrong before
 * a backend method runs (NULL required strings, the cost report key,
 * transaction nesting), so methods only deal with their database.  Every
 * method that returns a list leaves *out = NULL and *n = 0 on failure, with
 * nothing allocated.
 *
 * What every backend owes the core beyond the SQL:
 *  - a method is atomic: outside store_begin() it commits all of its work
 *    or none (request_take marks exactly what it returns as taken);
 *  - event ids grow in commit order, so a reader paging with after_id never
 *    finds a smaller id committed after a larger one (PostgreSQL sequences
 *    do not promise this: assign ids under a lock);
 *  - after the database dropped a transaction by itself, the rest of it
 *    fails rather than being committed statement by statement.
 */
#ifndef STRATUS_STORE_INT_H
#define STRATUS_STORE_INT_H

#include "store.h"

/* The PostgreSQL store's leader lease (pgstore.c, section 7): a table of
 * its own outside the versioned schema, which a migration leaves alone. */
#define STORE_LEASE_TABLE "leader_lease"

/* What a cost report groups by (store_cost_report's `by`, parsed). */
enum store_cost_by { STORE_COST_BY_CLOUD, STORE_COST_BY_TEAM, STORE_COST_BY_JOB };

struct store_ops {
    const char *name; /* "sqlite", "mem", "postgres" */
    /* store_open() picks the first backend whose prefix starts the path
     * ("postgresql://"); NULL = the default, for a plain file path. */
    const char *prefix;
    const char *alias; /* another prefix that picks it ("postgres://"); NULL = none */
    size_t priv_size; /* bytes of private state the core allocates */

    /* Open (creating and migrating); sets st->schema_version, st->id and
     * st->legacy (store_new_id() makes ids).  On failure
     * the method has released everything it acquired (close is not called). */
    int (*open)(struct store *st, const char *path, struct err *e);
    void (*close)(struct store *st);

    /* One explicit transaction at a time (the core checks nesting).  commit
     * either stores all of it or, when it fails, none of it. */
    int (*begin)(struct store *st, struct err *e);
    int (*commit)(struct store *st, struct err *e);
    void (*rollback)(struct store *st);

    int (*job_insert)(struct store *st, struct store_job *j, struct err *e);
    int (*job_update)(struct store *st, const struct store_job *j, struct err *e);
    int (*job_get)(struct store *st, int64_t id, struct store_job *out, struct err *e);
    int (*job_scan)(struct store *st, const struct store_job_scan *q,
                    struct store_job **out, size_t *n, struct err *e);

    int (*attempt_insert)(struct store *st, struct store_attempt *a, struct err *e);
    int (*attempt_update)(struct store *st, const struct store_attempt *a, struct err *e);
    int (*attempt_get)(struct store *st, int64_t id, struct store_attempt *out,
                       struct err *e);
    /* job_id >= 0 only (the core turns "every attempt" into attempt_page). */
    int (*attempt_list)(struct store *st, int64_t job_id, struct store_attempt **out,
                        size_t *n, struct err *e);
    int (*attempt_page)(struct store *st, int64_t after_id, size_t limit,
                        struct store_attempt **out, size_t *n, struct err *e);

    int (*node_put)(struct store *st, const struct store_node *nd, struct err *e);
    int (*node_list)(struct store *st, int64_t attempt_id, struct store_node **out,
                     size_t *n, struct err *e);

    int (*event_append)(struct store *st, int64_t job_id, int64_t attempt_id, double at,
                        const char *type, int from_state, int to_state, const char *msg,
                        int64_t *out_id, struct err *e);
    int (*event_list)(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                      struct store_event **out, size_t *n, struct err *e);

    int (*checkpoint_add)(struct store *st, int64_t job_id, int64_t attempt_id,
                          const char *path, double bytes, double at, struct err *e);
    int (*checkpoint_list)(struct store *st, int64_t job_id,
                           struct store_checkpoint **out, size_t *n, struct err *e);

    int (*request_add)(struct store *st, const char *kind, const char *arg, double at,
                       int64_t *out_id, struct err *e);
    int (*request_take)(struct store *st, struct store_request **out, size_t *n,
                        struct err *e);

    int (*block_add)(struct store *st, const struct store_block *b, struct err *e);
    int (*block_list)(struct store *st, double now, struct store_block **out, size_t *n,
                      struct err *e);

    int (*cost_report)(struct store *st, enum store_cost_by by, double now,
                       struct store_cost_row **out, size_t *n, struct err *e);

    /* Schema 6: tokens and settings (strings checked non-NULL by the core;
     * setting_put's value NULL = delete). */
    int (*token_insert)(struct store *st, struct store_token *t, struct err *e);
    int (*token_by_hash)(struct store *st, const char *hash, struct store_token *out,
                         struct err *e);
    int (*token_list)(struct store *st, int live_only, struct store_token **out,
                      size_t *n, struct err *e);
    int (*token_revoke)(struct store *st, int64_t id, double at, struct err *e);
    int (*setting_get)(struct store *st, const char *key, char **value, struct err *e);
    int (*setting_put)(struct store *st, const char *key, const char *value,
                       struct err *e);

    /* Schema 7: services (name and spec_text checked non-NULL, state in range
     * by the core; find's name non-NULL).  insert and update refuse a second
     * live service of a name with ST_EEXISTS; update checks ST_ENOTFOUND
     * first.  replica_list of service 0 is empty (0 = not a replica). */
    int (*service_insert)(struct store *st, struct store_service *s, struct err *e);
    int (*service_update)(struct store *st, const struct store_service *s, struct err *e);
    int (*service_get)(struct store *st, int64_t id, struct store_service *out,
                       struct err *e);
    int (*service_find)(struct store *st, const char *name, struct store_service *out,
                        struct err *e);
    int (*service_list)(struct store *st, int live_only, struct store_service **out,
                        size_t *n, struct err *e);
    int (*replica_list)(struct store *st, int64_t service_id, int active_only,
                        struct store_job **out, size_t *n, struct err *e);

    /* Schema 10: secrets (team and name checked non-NULL and non-empty name,
     * put's ciphertext and nonce non-empty, by the core).  list leaves ciphertext
     * and nonce NULL; get and delete say ST_ENOTFOUND. */
    int (*secret_put)(struct store *st, const struct store_secret *s, struct err *e);
    int (*secret_get)(struct store *st, const char *team, const char *name,
                      struct store_secret *out, struct err *e);
    int (*secret_list)(struct store *st, const char *team, struct store_secret **out,
                       size_t *n, struct err *e);
    int (*secret_delete)(struct store *st, const char *team, const char *name,
                         struct err *e);

    /* Schema 12: data replicas (dataset, cloud and region checked non-NULL,
     * dataset non-empty, by the core). */
    int (*data_put)(struct store *st, const struct store_data_replica *r, struct err *e);
    int (*data_list)(struct store *st, const char *dataset, int live_only,
                     struct store_data_replica **out, size_t *n, struct err *e);
    /* store_data_storage's rows before the division by the hours of a
     * month: usd in GB x $/GB-month x seconds (store.c divides) */
    int (*data_storage)(struct store *st, double now, struct store_cost_row **out,
                        size_t *n, struct err *e);

    /* Leadership and wake-ups (store.h); NULL in backends one server owns. */
    int (*lease_take)(struct store *st, const char *holder, const char *url, double ttl_s,
                      int *held, struct store_lease *out, struct err *e);
    int (*lease_get)(struct store *st, struct store_lease *out, struct err *e);
    int (*lease_drop)(struct store *st, const char *holder, struct err *e);
    int64_t (*fence_epoch)(const struct store *st);
    int (*notify)(struct store *st, struct err *e);
    int (*listen)(struct store *st, int *fd, struct err *e);
    int (*listen_read)(struct store *st, int *fd, int *renewed, struct err *e);
};

struct store {
    const struct store_ops *ops;
    void *priv;         /* priv_size bytes, zeroed, owned by the core */
    char *path;         /* as given to store_open, for messages */
    int schema_version; /* set by ops->open */
    int in_tx;          /* inside store_begin() .. commit/rollback */
    char id[STORE_ID_LEN + 1]; /* store_id(), set by ops->open */
    int legacy;         /* store_legacy_layout(), set by ops->open */
};

/* A new random store id (STORE_ID_LEN hex digits and a NUL) into out, from
 * the kernel's random source. */
int store_new_id(char *out, struct err *e);
/* Is s a store id as store_new_id() makes them (a damaged file's is not)? */
int store_id_valid(const char *s);

extern const struct store_ops store_sqlite;
extern const struct store_ops store_mem;
extern const struct store_ops store_pg;

/* How long a backend waits for a lock another process holds before it gives
 * up with ST_ESTATE, in milliseconds (default 5000).  Read at open; a
 * replaceable value so that tests need not wait five seconds. */
extern int store_lock_wait_ms;

#endif
