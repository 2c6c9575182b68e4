/*
 * store.c - the backend-independent half of the store (see store.h): the
 * backend registry, the public functions that check their arguments and
 * dispatch through struct store_ops (store_int.h), transaction bookkeeping,
 * the record free functions and the names of states and end reasons.
 *
 * Layout: registry and open/close; identity; transactions; one short
 * wrapper per record operation, in the order of store.h; freeing records;
 * names.
 */
#include "store_int.h"
#include "../util/xmem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

int store_lock_wait_ms = 5000;

/* The registry, most specific first: the default (prefix NULL) comes last. */
static const struct store_ops *const store_backends[] = {
    &store_mem,
    &store_pg,
    &store_sqlite,
    NULL,
};

static const struct store_ops *backend_for(const char *path)
{
    const struct store_ops *fallback = NULL;
    size_t i;

    for (i = 0; store_backends[i]; i++) {
        const char *p = store_backends[i]->prefix, *a = store_backends[i]->alias;

        if (p == NULL && fallback == NULL)
            fallback = store_backends[i];
        else if (p != NULL && strncmp(path, p, strlen(p)) == 0)
            return store_backends[i];
        else if (a != NULL && strncmp(path, a, strlen(a)) == 0)
            return store_backends[i];
    }
    return fallback;
}

int store_open(struct store **out, const char *path, struct err *e)
{
    const struct store_ops *ops;
    struct store *st;
    int rc;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return err_set(e, ST_EINVAL, "store: no database path given");
    ops = backend_for(path);
    BUG_ON(ops == NULL);
    st = xcalloc(1, sizeof(*st));
    st->ops = ops;
    st->path = xstrdup(path);
    st->priv = xcalloc(1, ops->priv_size ? ops->priv_size : 1);
    rc = ops->open(st, path, e);
    if (rc != 0) {
        free(st->priv);
        free(st->path);
        free(st);
        return rc;
    }
    BUG_ON(!store_id_valid(st->id)); /* every backend gives its stores an id */
    *out = st;
    return 0;
}

/* A URI's password taken out: postgresql://user:secret@host/db ->
 * postgresql://user@host/db, and a password=... parameter's value -> ***. */
char *store_redact(const char *uri)
{
    char *s = xstrdup(uri), *auth = strstr(s, "://"), *at, *colon, *end, *pw;

    if (auth == NULL)
        return s; /* a file path: nothing to hide */
    auth += 3;
    end = auth + strcspn(auth, "/?");
    at = memchr(auth, '@', (size_t)(end - auth));
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon != NULL)
        memmove(colon, at, strlen(at) + 1);
    pw = strstr(s, "password=");
    if (pw != NULL) {
        char *val = pw + strlen("password="), *rest = val + strcspn(val, "&");
        char *t = xasprintf("%.*s***%s", (int)(val - s), s, rest);

        free(s);
        s = t;
    }
    return s;
}

/* An open transaction is rolled back. */
void store_close(struct store *st)
{
    if (st == NULL)
        return;
    st->ops->close(st);
    free(st->priv);
    free(st->path);
    free(st);
}

int store_schema_version(struct store *st)
{
    return st->schema_version;
}

/* ---- identity -------------------------------------------------------------- */

const char *store_id(struct store *st)
{
    return st->id;
}

int store_legacy_layout(struct store *st)
{
    return st->legacy;
}

/* /dev/urandom for a kernel without getrandom() (before Linux 3.17). */
static int urandom_bytes(unsigned char *buf, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, buf, n) : -1;

    if (fd >= 0)
        close(fd);
    return got == (ssize_t)n ? 0 : -1;
}

/* 128 bits: two stores never share an id, whoever made them and when. */
int store_new_id(char *out, struct err *e)
{
    unsigned char r[STORE_ID_LEN / 2];
    ssize_t got = getrandom(r, sizeof(r), 0); /* up to 256 bytes come whole */
    size_t i;

    if (got != (ssize_t)sizeof(r) && urandom_bytes(r, sizeof(r)) != 0)
        return err_set(e, ST_EIO, "cannot read random bytes for a store's id: %s",
                       strerror(errno));
    for (i = 0; i < sizeof(r); i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

int store_id_valid(const char *s)
{
    return s != NULL && strlen(s) == STORE_ID_LEN &&
           strspn(s, "0123456789abcdef") == STORE_ID_LEN;
}

/* ---- transactions ---------------------------------------------------------- */

/* Transactions do not nest: a second begin is a caller bug reported as
 * ST_ESTATE rather than silently folded into the first. */
int store_begin(struct store *st, struct err *e)
{
    int rc;

    if (st->in_tx)
        return err_set(e, ST_ESTATE, "%s: store_begin: a transaction is already open",
                       st->path);
    rc = st->ops->begin(st, e);
    if (rc == 0)
        st->in_tx = 1;
    return rc;
}

/* On failure nothing of the transaction is stored and it is closed. */
int store_commit(struct store *st, struct err *e)
{
    int rc;

    if (!st->in_tx)
        return err_set(e, ST_ESTATE, "%s: store_commit: no transaction is open",
                       st->path);
    rc = st->ops->commit(st, e);
    st->in_tx = 0;
    return rc;
}

void store_rollback(struct store *st)
{
    if (!st->in_tx)
        return;
    st->ops->rollback(st);
    st->in_tx = 0;
}

/* ---- records --------------------------------------------------------------- */

int store_job_insert(struct store *st, struct store_job *j, struct err *e)
{
    return st->ops->job_insert(st, j, e);
}

int store_job_update(struct store *st, const struct store_job *j, struct err *e)
{
    return st->ops->job_update(st, j, e);
}

int store_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    return st->ops->job_get(st, id, out, e);
}

int store_job_list(struct store *st, int active_only, struct store_job **out, size_t *n,
                   struct err *e)
{
    struct store_job_scan q = {active_only, 0, 0, 0, 0};

    return st->ops->job_scan(st, &q, out, n, e);
}

int store_job_list_after(struct store *st, int64_t after_id, struct store_job **out,
                         size_t *n, struct err *e)
{
    struct store_job_scan q = {1, 0, after_id, 0, 0};

    return st->ops->job_scan(st, &q, out, n, e);
}

int store_job_page(struct store *st, int64_t after_id, size_t limit, struct store_job **out,
                   size_t *n, struct err *e)
{
    struct store_job_scan q = {0, 0, after_id, limit, 0};

    return st->ops->job_scan(st, &q, out, n, e);
}

int store_job_scan(struct store *st, const struct store_job_scan *q,
                   struct store_job **out, size_t *n, struct err *e)
{
    return st->ops->job_scan(st, q, out, n, e);
}

int store_attempt_insert(struct store *st, struct store_attempt *a, struct err *e)
{
    return st->ops->attempt_insert(st, a, e);
}

int store_attempt_update(struct store *st, const struct store_attempt *a, struct err *e)
{
    return st->ops->attempt_update(st, a, e);
}

int store_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                      struct err *e)
{
    memset(out, 0, sizeof(*out));
    return st->ops->attempt_get(st, id, out, e);
}

/* Every attempt (job_id < 0) is the first and only page of all of them. */
int store_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                       size_t *n, struct err *e)
{
    if (job_id < 0)
        return st->ops->attempt_page(st, 0, 0, out, n, e);
    return st->ops->attempt_list(st, job_id, out, n, e);
}

int store_attempt_page(struct store *st, int64_t after_id, size_t limit,
                       struct store_attempt **out, size_t *n, struct err *e)
{
    return st->ops->attempt_page(st, after_id, limit, out, n, e);
}

int store_node_put(struct store *st, const struct store_node *nd, struct err *e)
{
    return st->ops->node_put(st, nd, e);
}

int store_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                    size_t *n, struct err *e)
{
    return st->ops->node_list(st, attempt_id, out, n, e);
}

int store_event_append(struct store *st, int64_t job_id, int64_t attempt_id, double at,
                       const char *type, int from_state, int to_state, const char *msg,
                       int64_t *out_id, struct err *e)
{
    int64_t id = 0;
    int rc;

    if (type == NULL || type[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: store_event_append: an event needs a type",
                       st->path);
    rc = st->ops->event_append(st, job_id, attempt_id, at, type, from_state, to_state,
                               msg, &id, e);
    if (rc == 0 && out_id != NULL)
        *out_id = id;
    return rc;
}

int store_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                     struct store_event **out, size_t *n, struct err *e)
{
    return st->ops->event_list(st, job_id, after_id, limit, out, n, e);
}

int store_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                         const char *path, double bytes, double at, struct err *e)
{
    return st->ops->checkpoint_add(st, job_id, attempt_id, path, bytes, at, e);
}

int store_checkpoint_list(struct store *st, int64_t job_id, struct store_checkpoint **out,
                          size_t *n, struct err *e)
{
    return st->ops->checkpoint_list(st, job_id, out, n, e);
}

int store_request_add(struct store *st, const char *kind, const char *arg, double at,
                      int64_t *out_id, struct err *e)
{
    int64_t id = 0;
    int rc;

    if (kind == NULL || kind[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: store_request_add: a request needs a kind",
                       st->path);
    rc = st->ops->request_add(st, kind, arg, at, &id, e);
    if (rc == 0 && out_id != NULL)
        *out_id = id;
    return rc;
}

int store_request_take(struct store *st, struct store_request **out, size_t *n,
                       struct err *e)
{
    return st->ops->request_take(st, out, n, e);
}

int store_block_add(struct store *st, const struct store_block *b, struct err *e)
{
    if (b->cloud == NULL || b->region == NULL)
        return err_set(e, ST_EINVAL,
                       "%s: store_block_add: a block needs a cloud and a "
                       "region",
                       st->path);
    return st->ops->block_add(st, b, e);
}

int store_block_list(struct store *st, double now, struct store_block **out, size_t *n,
                     struct err *e)
{
    return st->ops->block_list(st, now, out, n, e);
}

int store_cost_report(struct store *st, const char *by, double now,
                      struct store_cost_row **out, size_t *n, struct err *e)
{
    static const char *const names[] = {"cloud", "team", "job"};
    size_t i;

    *out = NULL;
    *n = 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (by != NULL && strcmp(by, names[i]) == 0)
            return st->ops->cost_report(st, (enum store_cost_by)i, now, out, n, e);
    return err_set(e, ST_EINVAL, "cost report by '%s': expected cloud, team or job",
                   by ? by : "(null)");
}

/* ---- tokens and settings ----------------------------------------------------- */

static int token_missing(struct store *st, const char *field, struct err *e)
{
    return err_set(e, ST_EINVAL, "%s: store_token_insert: a token needs a %s", st->path,
                   field);
}

int store_token_insert(struct store *st, struct store_token *t, struct err *e)
{
    if (t->name == NULL || t->name[0] == '\0')
        return token_missing(st, "name", e);
    if (t->role == NULL || t->role[0] == '\0')
        return token_missing(st, "role", e);
    if (t->hash == NULL || t->hash[0] == '\0')
        return token_missing(st, "hash", e);
    t->revoked_at = 0;
    return st->ops->token_insert(st, t, e);
}

int store_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                        struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (hash == NULL)
        return err_set(e, ST_ENOTFOUND, "no such token");
    return st->ops->token_by_hash(st, hash, out, e);
}

int store_token_list(struct store *st, int live_only, struct store_token **out, size_t *n,
                     struct err *e)
{
    return st->ops->token_list(st, live_only, out, n, e);
}

/* A revocation time of 0 would read back as "live" (revoked_at 0). */
int store_token_revoke(struct store *st, int64_t id, double at, struct err *e)
{
    if (!(at > 0))
        return err_set(e, ST_EINVAL, "%s: store_token_revoke: the time must be positive",
                       st->path);
    return st->ops->token_revoke(st, id, at, e);
}

int store_setting_get(struct store *st, const char *key, char **value, struct err *e)
{
    *value = NULL;
    if (key == NULL || key[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: store_setting_get: a setting needs a key",
                       st->path);
    return st->ops->setting_get(st, key, value, e);
}

int store_setting_put(struct store *st, const char *key, const char *value, struct err *e)
{
    if (key == NULL || key[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: store_setting_put: a setting needs a key",
                       st->path);
    return st->ops->setting_put(st, key, value, e);
}

/* ---- secrets ------------------------------------------------------------------- */

/* What every secret call refuses before a backend sees it. */
static int secret_key_check(struct store *st, const char *op, const char *team,
                            const char *name, struct err *e)
{
    if (team == NULL)
        return err_set(e, ST_EINVAL, "%s: %s: a secret needs a team (\"\" for the lab's)",
                       st->path, op);
    if (name == NULL || name[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: %s: a secret needs a name", st->path, op);
    return 0;
}

int store_secret_put(struct store *st, const struct store_secret *s, struct err *e)
{
    int rc = secret_key_check(st, "store_secret_put", s->team, s->name, e);

    if (rc != 0)
        return rc;
    if (s->ciphertext == NULL || s->ciphertext_len == 0 || s->nonce == NULL ||
        s->nonce_len == 0)
        return err_set(e, ST_EINVAL,
                       "%s: store_secret_put: secret '%s' needs its ciphertext and nonce",
                       st->path, s->name);
    return st->ops->secret_put(st, s, e);
}

int store_secret_get(struct store *st, const char *team, const char *name,
                     struct store_secret *out, struct err *e)
{
    int rc = secret_key_check(st, "store_secret_get", team, name, e);

    memset(out, 0, sizeof(*out));
    return rc != 0 ? rc : st->ops->secret_get(st, team, name, out, e);
}

int store_secret_list(struct store *st, const char *team, struct store_secret **out,
                      size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    if (team == NULL)
        return err_set(e, ST_EINVAL,
                       "%s: store_secret_list: a team is needed (\"\" for the lab's)",
                       st->path);
    return st->ops->secret_list(st, team, out, n, e);
}

int store_secret_delete(struct store *st, const char *team, const char *name,
                        struct err *e)
{
    int rc = secret_key_check(st, "store_secret_delete", team, name, e);

    return rc != 0 ? rc : st->ops->secret_delete(st, team, name, e);
}

void store_secret_clear(struct store_secret *s)
{
    if (s->ciphertext != NULL)
        explicit_bzero(s->ciphertext, s->ciphertext_len);
    free(s->team);
    free(s->name);
    free(s->ciphertext);
    free(s->nonce);
    memset(s, 0, sizeof(*s));
}

void store_secrets_free(struct store_secret *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_secret_clear(&v[i]);
    free(v);
}

/* ---- data replicas -------------------------------------------------------------- */

int store_data_put(struct store *st, const struct store_data_replica *r, struct err *e)
{
    if (r->dataset == NULL || r->dataset[0] == '\0' || r->cloud == NULL || r->region == NULL)
        return err_set(e, ST_EINVAL,
                       "%s: store_data_put: a replica needs a dataset, a cloud and a region",
                       st->path);
    return st->ops->data_put(st, r, e);
}

int store_data_list(struct store *st, const char *dataset, int live_only,
                    struct store_data_replica **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    return st->ops->data_list(st, dataset, live_only, out, n, e);
}

#define HOURS_A_MONTH 730.0 /* 8,760 / 12: how the clouds bill GB-months */

double store_data_storage_cost(const struct store_data_replica *r, double now)
{
    double end = r->expired_at > 0 ? r->expired_at : now;

    if (r->home || end <= r->created_at)
        return 0;
    return r->size_gb * r->storage_gb_month * (end - r->created_at) / (HOURS_A_MONTH * 3600);
}

int store_data_storage(struct store *st, double now, struct store_cost_row **out,
                       size_t *n, struct err *e)
{
    size_t i;
    int rc = st->ops->data_storage(st, now, out, n, e);

    for (i = 0; rc == 0 && i < *n; i++) {
        (*out)[i].usd /= HOURS_A_MONTH * 3600;
        (*out)[i].compute_usd = 0;
    }
    return rc;
}

void store_data_replica_clear(struct store_data_replica *r)
{
    free(r->dataset);
    free(r->cloud);
    free(r->region);
    free(r->src_cloud);
    free(r->src_region);
    free(r->via);
    memset(r, 0, sizeof(*r));
}

void store_data_replicas_free(struct store_data_replica *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_data_replica_clear(&v[i]);
    free(v);
}

/* ---- services ------------------------------------------------------------------ */

/* What insert and update refuse before a backend sees the record. */
static int service_check(struct store *st, const char *op, const struct store_service *s,
                         struct err *e)
{
    if (s->name == NULL || s->name[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: %s: a service needs a name", st->path, op);
    if (s->spec_text == NULL)
        return err_set(e, ST_EINVAL, "%s: %s: service '%s' needs a spec text", st->path,
                       op, s->name);
    if (s->state < 0 || s->state >= SVC__NSTATES)
        return err_set(e, ST_EINVAL, "%s: %s: service '%s' has no state %d", st->path, op,
                       s->name, s->state);
    return 0;
}

int store_service_insert(struct store *st, struct store_service *s, struct err *e)
{
    int rc = service_check(st, "store_service_insert", s, e);

    return rc != 0 ? rc : st->ops->service_insert(st, s, e);
}

int store_service_update(struct store *st, const struct store_service *s, struct err *e)
{
    int rc = service_check(st, "store_service_update", s, e);

    return rc != 0 ? rc : st->ops->service_update(st, s, e);
}

int store_service_get(struct store *st, int64_t id, struct store_service *out,
                      struct err *e)
{
    memset(out, 0, sizeof(*out));
    return st->ops->service_get(st, id, out, e);
}

int store_service_find(struct store *st, const char *name, struct store_service *out,
                       struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (name == NULL || name[0] == '\0')
        return err_set(e, ST_EINVAL, "%s: store_service_find: no service name given",
                       st->path);
    return st->ops->service_find(st, name, out, e);
}

int store_service_list(struct store *st, int live_only, struct store_service **out,
                       size_t *n, struct err *e)
{
    return st->ops->service_list(st, live_only, out, n, e);
}

/* Service 0 is "not a replica": it has none (plain jobs are not its replicas). */
int store_replica_list(struct store *st, int64_t service_id, int active_only,
                       struct store_job **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    if (service_id <= 0)
        return 0;
    return st->ops->replica_list(st, service_id, active_only, out, n, e);
}

/* ---- freeing records ------------------------------------------------------- */

void store_job_clear(struct store_job *j)
{
    free(j->name);
    free(j->spec_path);
    free(j->spec_text);
    free(j->policy_text);
    free(j->team);
    free(j->reason);
    free(j->group_name);
    memset(j, 0, sizeof(*j));
}

void store_jobs_free(struct store_job *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_job_clear(&v[i]);
    free(v);
}

double store_attempt_cost_at(const struct store_attempt *a, double end)
{
    double from = a->priced_at > a->running_at ? a->priced_at : a->running_at;

    if (a->running_at <= 0)
        return a->cost;
    if (end >= from)
        return a->cost + (end - from) * a->nodes * a->price_hour / 3600.0;
    /* an end before the last reprice (an exit seen after the new price was
     * applied): what cost holds to the reprice, prorated to the end (exact
     * when one price held until then), not the time after the exit */
    if (a->priced_at > a->running_at)
        return end > a->running_at
                   ? a->cost * (end - a->running_at) / (a->priced_at - a->running_at)
                   : 0;
    return a->cost;
}

double store_attempt_spent_at(const struct store_attempt *a, double now)
{
    if (a->state == ATT_ENDED)
        return a->cost;
    return store_attempt_cost_at(a, now) + (a->running_at > 0 ? a->egress : 0);
}

void store_attempt_split(const struct store_attempt *a, double now, double *p0,
                         double *before, double *last)
{
    double end = a->state == ATT_ENDED ? a->ended_at : now, total;

    *p0 = a->running_at;
    *before = *last = 0;
    if (a->running_at <= 0)
        return;
    total = store_attempt_spent_at(a, now) - a->egress;
    if (end <= a->running_at) { /* no run time: all of it at its start */
        *before = total;
        return;
    }
    *p0 = fmin(fmax(a->priced_at, a->running_at), end);
    if (*p0 <= a->running_at) { /* one price all along */
        *last = total;
        return;
    }
    *last = (end - *p0) * a->nodes * a->price_hour / 3600.0;
    /* a cost below its last stretch (a row written by hand): no negative
     * stretch, the last holds what there is */
    *before = fmax(0, total - *last);
    *last = total - *before;
}

double store_attempt_compute_in(const struct store_attempt *a, double now, double from,
                                double to)
{
    double end = a->state == ATT_ENDED ? a->ended_at : now, p0, before, last, in = 0;

    store_attempt_split(a, now, &p0, &before, &last);
    if (p0 > a->running_at) {
        double lo = fmax(a->running_at, from), hi = fmin(p0, to);

        in += hi > lo ? before * (hi - lo) / (p0 - a->running_at) : 0;
    } else if (a->running_at >= from && a->running_at < to) {
        in += before; /* no run time: all of it at its start */
    }
    if (end > p0) {
        double lo = fmax(p0, from), hi = fmin(end, to);

        in += hi > lo ? last * (hi - lo) / (end - p0) : 0;
    }
    return in;
}

void store_attempt_clear(struct store_attempt *a)
{
    free(a->cloud);
    free(a->region);
    free(a->zone);
    free(a->instance_type);
    free(a->accelerator);
    memset(a, 0, sizeof(*a));
}

void store_attempts_free(struct store_attempt *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_attempt_clear(&v[i]);
    free(v);
}

void store_events_free(struct store_event *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].type);
        free(v[i].msg);
    }
    free(v);
}

void store_checkpoints_free(struct store_checkpoint *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

void store_requests_free(struct store_request *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].kind);
        free(v[i].arg);
    }
    free(v);
}

void store_blocks_free(struct store_block *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].cloud);
        free(v[i].region);
        free(v[i].zone);
        free(v[i].instance_type);
        free(v[i].reason);
        free(v[i].accelerator);
    }
    free(v);
}

void store_cost_rows_free(struct store_cost_row *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].name);
    }
    free(v);
}

void store_token_clear(struct store_token *t)
{
    free(t->name);
    free(t->role);
    free(t->hash);
    free(t->user);
    memset(t, 0, sizeof(*t));
}

void store_tokens_free(struct store_token *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_token_clear(&v[i]);
    free(v);
}

void store_service_clear(struct store_service *s)
{
    free(s->name);
    free(s->spec_path);
    free(s->spec_text);
    free(s->policy_text);
    free(s->reason);
    free(s->keys);
    free(s->key_info);
    free(s->team);
    memset(s, 0, sizeof(*s));
}

void store_services_free(struct store_service *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        store_service_clear(&v[i]);
    free(v);
}

/* ---- names ----------------------------------------------------------------- */

static const char *const job_state_names[] = {
#define X_(id, name) name,
    JOB_STATE_MAP(X_)
#undef X_
};

static const char *const svc_state_names[] = {
#define X_(id, name) name,
    SVC_STATE_MAP(X_)
#undef X_
};

static const char *const attempt_end_names[] = {
#define X_(id, name) name,
    ATT_END_MAP(X_)
#undef X_
};

/* "?" for a number that is not a state. */
const char *job_state_name(int s)
{
    return s >= 0 && s < JOB__NSTATES ? job_state_names[s] : "?";
}

/* Case-insensitive, so the command line may say `--state running`. */
int job_state_parse(const char *s)
{
    int i;

    for (i = 0; s != NULL && i < JOB__NSTATES; i++)
        if (strcasecmp(s, job_state_names[i]) == 0)
            return i;
    return -1;
}

/* SUCCEEDED, FAILED and CANCELLED: the job will never run again. */
/* "?" for a number that is not an end reason. */
const char *attempt_end_name(int r)
{
    return r >= 0 && r < ATT_END__N ? attempt_end_names[r] : "?";
}

/* "?" for a number that is not a service state. */
const char *svc_mode_name(int m)
{
    static const char *const names[] = {"any", "spot", "on-demand"};

    return m >= SVC_MODE_ANY && m <= SVC_MODE_ON_DEMAND ? names[m] : "?";
}

const char *svc_state_name(int s)
{
    return s >= 0 && s < SVC__NSTATES ? svc_state_names[s] : "?";
}

/* Case-insensitive, like job_state_parse. */
int svc_state_parse(const char *s)
{
    int i;

    for (i = 0; s != NULL && i < SVC__NSTATES; i++)
        if (strcasecmp(s, svc_state_names[i]) == 0)
            return i;
    return -1;
}

/* DOWN and FAILED: the service has ended (ended_at set) and keeps no replica. */
int svc_state_terminal(int s)
{
    return s == SVC_DOWN || s == SVC_FAILED;
}

/* ---- leadership and wake-ups ----------------------------------------------- */

int store_shared(const struct store *st)
{
    return st->ops->lease_take != NULL;
}

static int not_shared(const struct store *st, const char *what, struct err *e)
{
    return err_set(e, ST_EINVAL, "%s: %s: only a store several servers share "
                   "(PostgreSQL) has one", st->path, what);
}

int store_lease_take(struct store *st, const char *holder, const char *url, double ttl_s,
                     int *held, struct store_lease *out, struct err *e)
{
    *held = 0;
    if (!store_shared(st))
        return not_shared(st, "store_lease_take: a leader lease", e);
    if (holder == NULL || holder[0] == '\0' || strlen(holder) >= STORE_HOLDER_MAX ||
        (url != NULL && strlen(url) >= STORE_LEASE_URL_MAX) || !(ttl_s > 0))
        return err_set(e, ST_EINVAL, "%s: store_lease_take: a holder of 1-%d bytes, a "
                       "URL under %d and a time > 0 are needed", st->path,
                       STORE_HOLDER_MAX - 1, STORE_LEASE_URL_MAX);
    if (st->in_tx)
        return err_set(e, ST_ESTATE, "%s: store_lease_take: not inside a transaction",
                       st->path);
    return st->ops->lease_take(st, holder, url ? url : "", ttl_s, held, out, e);
}

int store_lease_get(struct store *st, struct store_lease *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!store_shared(st))
        return not_shared(st, "store_lease_get: a leader lease", e);
    return st->ops->lease_get(st, out, e);
}

int store_lease_drop(struct store *st, const char *holder, struct err *e)
{
    if (!store_shared(st))
        return not_shared(st, "store_lease_drop: a leader lease", e);
    if (holder == NULL)
        return err_set(e, ST_EINVAL, "%s: store_lease_drop: no holder", st->path);
    return st->ops->lease_drop(st, holder, e);
}

int64_t store_fence_epoch(const struct store *st)
{
    return store_shared(st) ? st->ops->fence_epoch(st) : 0;
}

int store_notify(struct store *st, struct err *e)
{
    return store_shared(st) ? st->ops->notify(st, e) : not_shared(st, "notifications", e);
}

int store_listen(struct store *st, int *fd, struct err *e)
{
    *fd = -1;
    return store_shared(st) ? st->ops->listen(st, fd, e) : not_shared(st, "notifications", e);
}

int store_listen_read(struct store *st, int *fd, int *renewed, struct err *e)
{
    *renewed = 0;
    return store_shared(st) ? st->ops->listen_read(st, fd, renewed, e)
                            : not_shared(st, "notifications", e);
}
