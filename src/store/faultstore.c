/*
 * faultstore.c - the fault-injecting store wrapper (see faultstore.h).
 *
 * store_fault_wrap() moves the open backend (its ops, private state and
 * path) into an inner handle and points the caller's handle at this file's
 * ops table, whose methods pass each call through a gate (dead writer?
 * fault due?) and then to the inner backend.  SQLite's private state keeps
 * pointing at the caller's handle, whose in_tx store.c keeps as before, so
 * the backend cannot tell it is wrapped.
 *
 * Layout: the gates; transactions; one forwarder per record operation, in
 * the order of struct store_ops; the table; wrap and reset.
 */
#include "faultstore.h"
#include "store_int.h"
#include "../util/xmem.h"

#include <stdlib.h>
#include <string.h>

struct fstore {
    struct store inner; /* the wrapped backend's handle */
    struct store_fault ctl;
    int inner_tx; /* a transaction is open in the backend */
};

static struct store *inner_of(struct store *st)
{
    return &((struct fstore *)st->priv)->inner;
}

static int dead_err(struct store *st, struct err *e)
{
    return err_set(e, ST_EIO, "%s: the writer is dead (fault injection)", st->path);
}

static int fault_code(const struct store_fault *c)
{
    return c->fail_code ? c->fail_code : ST_EIO;
}

/* 0 when a read may go on. */
static int gate_read(struct store *st, struct err *e)
{
    struct fstore *f = st->priv;

    return f->ctl.dead ? dead_err(st, e) : 0;
}

/* 0 when a write may go on; counts it and fails it when its turn has come. */
static int gate_write(struct store *st, struct err *e)
{
    struct store_fault *c = &((struct fstore *)st->priv)->ctl;
    uint64_t span = c->fail_writes ? c->fail_writes : 1;

    if (c->dead)
        return dead_err(st, e);
    if (c->paused)
        return 0;
    c->writes++;
    if (c->fail_write == 0 || c->writes < c->fail_write ||
        c->writes >= c->fail_write + span)
        return 0;
    c->failed++;
    return err_set(e, fault_code(c), "%s: write %llu failed (fault injection)", st->path,
                   (unsigned long long)c->writes);
}

/* ---- transactions ---- */

static int f_begin(struct store *st, struct err *e)
{
    struct fstore *f = st->priv;
    int rc = gate_read(st, e);

    if (rc == 0)
        rc = f->inner.ops->begin(&f->inner, e);
    f->inner_tx = rc == 0;
    return rc;
}

static void f_rollback(struct store *st)
{
    struct fstore *f = st->priv;

    if (f->inner_tx)
        f->inner.ops->rollback(&f->inner);
    f->inner_tx = 0;
}

/* The commit the hook or a fault stops stores nothing: it is rolled back,
 * as a database does with a commit that could not be written. */
static int f_commit_gated(struct store *st, uint64_t k, struct err *e)
{
    struct fstore *f = st->priv;
    struct store_fault *c = &f->ctl;

    if (c->on_commit)
        c->on_commit(c->ctx, k, 0, 0);
    if (c->dead) {
        f_rollback(st);
        return dead_err(st, e);
    }
    if (k == c->fail_commit) {
        c->failed++;
        f_rollback(st);
        return err_set(e, fault_code(c), "%s: commit %llu failed (fault injection)",
                       st->path, (unsigned long long)k);
    }
    return 0;
}

static int f_commit(struct store *st, struct err *e)
{
    struct fstore *f = st->priv;
    struct store_fault *c = &f->ctl;
    uint64_t k = 0;
    int rc;

    if (c->dead) {
        f_rollback(st);
        return dead_err(st, e);
    }
    if (!c->paused) {
        k = ++c->commits;
        if ((rc = f_commit_gated(st, k, e)) != 0)
            return rc;
    }
    rc = f->inner.ops->commit(&f->inner, e);
    f->inner_tx = 0;
    /* The transaction is over (store_commit would say so on return): a
     * hook reading the store must not look like a lost transaction. */
    st->in_tx = 0;
    if (!c->paused && c->on_commit)
        c->on_commit(c->ctx, k, 1, rc);
    return rc;
}

/* ---- records ---- */

static int f_job_insert(struct store *st, struct store_job *j, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->job_insert(inner_of(st), j, e);
}

static int f_job_update(struct store *st, const struct store_job *j, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->job_update(inner_of(st), j, e);
}

static int f_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->job_get(inner_of(st), id, out, e);
}

/* A list that fails leaves *out NULL and *n 0 (store_int.h). */
static int list_err(int rc, void *out, size_t *n)
{
    *(void **)out = NULL;
    *n = 0;
    return rc;
}

static int f_job_scan(struct store *st, const struct store_job_scan *q,
                      struct store_job **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->job_scan(inner_of(st), q, out, n, e);
}

static int f_attempt_insert(struct store *st, struct store_attempt *a, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->attempt_insert(inner_of(st), a, e);
}

static int f_attempt_update(struct store *st, const struct store_attempt *a,
                            struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->attempt_update(inner_of(st), a, e);
}

static int f_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                         struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->attempt_get(inner_of(st), id, out, e);
}

static int f_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                          size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->attempt_list(inner_of(st), job_id, out, n, e);
}

static int f_attempt_page(struct store *st, int64_t after_id, size_t limit,
                          struct store_attempt **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->attempt_page(inner_of(st), after_id, limit, out, n, e);
}

static int f_node_put(struct store *st, const struct store_node *nd, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->node_put(inner_of(st), nd, e);
}

static int f_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                       size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->node_list(inner_of(st), attempt_id, out, n, e);
}

static int f_event_append(struct store *st, int64_t job_id, int64_t attempt_id, double at,
                          const char *type, int from_state, int to_state, const char *msg,
                          int64_t *out_id, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc
              : inner_of(st)->ops->event_append(inner_of(st), job_id, attempt_id, at,
                                                type, from_state, to_state, msg, out_id,
                                                e);
}

static int f_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                        struct store_event **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->event_list(inner_of(st), job_id, after_id, limit, out,
                                              n, e);
}

static int f_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                            const char *path, double bytes, double at, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc
              : inner_of(st)->ops->checkpoint_add(inner_of(st), job_id, attempt_id, path,
                                                  bytes, at, e);
}

static int f_checkpoint_list(struct store *st, int64_t job_id,
                             struct store_checkpoint **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->checkpoint_list(inner_of(st), job_id, out, n, e);
}

static int f_request_add(struct store *st, const char *kind, const char *arg, double at,
                         int64_t *out_id, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc
              : inner_of(st)->ops->request_add(inner_of(st), kind, arg, at, out_id, e);
}

static int f_request_take(struct store *st, struct store_request **out, size_t *n,
                          struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->request_take(inner_of(st), out, n, e);
}

static int f_block_add(struct store *st, const struct store_block *b, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->block_add(inner_of(st), b, e);
}

static int f_block_list(struct store *st, double now, struct store_block **out, size_t *n,
                        struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->block_list(inner_of(st), now, out, n, e);
}

static int f_cost_report(struct store *st, enum store_cost_by by, double now,
                         struct store_cost_row **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->cost_report(inner_of(st), by, now, out, n, e);
}

/* Schema 6: inserts, revocations and setting writes are writes. */
static int f_token_insert(struct store *st, struct store_token *t, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->token_insert(inner_of(st), t, e);
}

static int f_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                           struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->token_by_hash(inner_of(st), hash, out, e);
}

static int f_token_list(struct store *st, int live_only, struct store_token **out,
                        size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->token_list(inner_of(st), live_only, out, n, e);
}

static int f_token_revoke(struct store *st, int64_t id, double at, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->token_revoke(inner_of(st), id, at, e);
}

static int f_setting_get(struct store *st, const char *key, char **value, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->setting_get(inner_of(st), key, value, e);
}

static int f_setting_put(struct store *st, const char *key, const char *value,
                         struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->setting_put(inner_of(st), key, value, e);
}

/* Schema 7: service inserts and updates are writes. */
static int f_service_insert(struct store *st, struct store_service *sv, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->service_insert(inner_of(st), sv, e);
}

static int f_service_update(struct store *st, const struct store_service *sv,
                            struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->service_update(inner_of(st), sv, e);
}

static int f_service_get(struct store *st, int64_t id, struct store_service *out,
                         struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->service_get(inner_of(st), id, out, e);
}

static int f_service_find(struct store *st, const char *name, struct store_service *out,
                          struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->service_find(inner_of(st), name, out, e);
}

static int f_service_list(struct store *st, int live_only, struct store_service **out,
                          size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->service_list(inner_of(st), live_only, out, n, e);
}

static int f_replica_list(struct store *st, int64_t service_id, int active_only,
                          struct store_job **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->replica_list(inner_of(st), service_id, active_only,
                                                out, n, e);
}

/* ---- the table, wrap and reset ---- */

/* Schema 10: secret puts and deletes are writes. */
static int f_secret_put(struct store *st, const struct store_secret *sc, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->secret_put(inner_of(st), sc, e);
}

static int f_secret_get(struct store *st, const char *team, const char *name,
                        struct store_secret *out, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? rc : inner_of(st)->ops->secret_get(inner_of(st), team, name, out, e);
}

static int f_secret_list(struct store *st, const char *team, struct store_secret **out,
                         size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->secret_list(inner_of(st), team, out, n, e);
}

static int f_secret_delete(struct store *st, const char *team, const char *name,
                           struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->secret_delete(inner_of(st), team, name, e);
}

/* Schema 12: a data replica put is a write. */
static int f_data_put(struct store *st, const struct store_data_replica *r, struct err *e)
{
    int rc = gate_write(st, e);

    return rc ? rc : inner_of(st)->ops->data_put(inner_of(st), r, e);
}

static int f_data_list(struct store *st, const char *dataset, int live_only,
                       struct store_data_replica **out, size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->data_list(inner_of(st), dataset, live_only, out, n, e);
}

static int f_data_storage(struct store *st, double now, struct store_cost_row **out,
                          size_t *n, struct err *e)
{
    int rc = gate_read(st, e);

    return rc ? list_err(rc, out, n)
              : inner_of(st)->ops->data_storage(inner_of(st), now, out, n, e);
}

static int f_open(struct store *st, const char *path, struct err *e)
{
    (void)path;
    /* Never opened by path: store_fault_wrap() installs the table. */
    return err_set(e, ST_EINTERNAL, "%s: the fault wrapper wraps an open store",
                   st->path);
}

static void f_close(struct store *st)
{
    struct fstore *f = st->priv;

    f_rollback(st);
    f->inner.ops->close(&f->inner);
    free(f->inner.priv);
    free(f->inner.path);
}

static const struct store_ops store_fault_ops = {
    .name = "fault",
    .prefix = "fault:", /* not in the registry: never picked by path */
    .priv_size = sizeof(struct fstore),
    .open = f_open,
    .close = f_close,
    .begin = f_begin,
    .commit = f_commit,
    .rollback = f_rollback,
    .job_insert = f_job_insert,
    .job_update = f_job_update,
    .job_get = f_job_get,
    .job_scan = f_job_scan,
    .attempt_insert = f_attempt_insert,
    .attempt_update = f_attempt_update,
    .attempt_get = f_attempt_get,
    .attempt_list = f_attempt_list,
    .attempt_page = f_attempt_page,
    .node_put = f_node_put,
    .node_list = f_node_list,
    .event_append = f_event_append,
    .event_list = f_event_list,
    .checkpoint_add = f_checkpoint_add,
    .checkpoint_list = f_checkpoint_list,
    .request_add = f_request_add,
    .request_take = f_request_take,
    .block_add = f_block_add,
    .block_list = f_block_list,
    .cost_report = f_cost_report,
    .token_insert = f_token_insert,
    .token_by_hash = f_token_by_hash,
    .token_list = f_token_list,
    .token_revoke = f_token_revoke,
    .setting_get = f_setting_get,
    .setting_put = f_setting_put,
    .service_insert = f_service_insert,
    .service_update = f_service_update,
    .service_get = f_service_get,
    .service_find = f_service_find,
    .service_list = f_service_list,
    .replica_list = f_replica_list,
    .secret_put = f_secret_put,
    .secret_get = f_secret_get,
    .secret_list = f_secret_list,
    .secret_delete = f_secret_delete,
    .data_put = f_data_put,
    .data_list = f_data_list,
    .data_storage = f_data_storage,
};

/* An open transaction goes on in the backend under the wrapper. */
struct store_fault *store_fault_wrap(struct store *st)
{
    struct fstore *f = xcalloc(1, sizeof(*f));

    BUG_ON(st->ops == &store_fault_ops);
    f->inner = *st;
    f->inner.path = xstrdup(st->path);
    f->inner_tx = st->in_tx;
    st->ops = &store_fault_ops;
    st->priv = f;
    return &f->ctl;
}

struct store_fault *store_fault_of(struct store *st)
{
    if (st == NULL || st->ops != &store_fault_ops)
        return NULL;
    return &((struct fstore *)st->priv)->ctl;
}

void store_fault_reset(struct store *st)
{
    struct fstore *f = st->priv;

    BUG_ON(st->ops != &store_fault_ops);
    f_rollback(st);
    st->in_tx = 0;
    f->ctl.dead = 0;
}
