/*
 * memstore.c - the store kept in this process's memory, opened with the path
 * "mem:" (anything after the colon only names it in messages).  The
 * simulator runs on it: a million-job study writes some seven million events
 * and two million attempts, which SQLite turns into B-tree work and a
 * gigabytes-large page cache for data nobody reads back from disk.
 *
 * It keeps the contract of store_int.h, SQLite's constraints included
 * (attempts, nodes, events and checkpoints must name rows that exist; one
 * attempt number per job), so the controller cannot tell the two apart.  It
 * is not durable: each handle is a store of its own, with an identity of its
 * own (a new random store_id() at each open), and nothing outlives
 * store_close().
 *
 * The data:
 *  - each record type lives in a chunked array indexed by id - 1: ids start
 *    at 1 and grow by one, nothing is deleted, and a record never moves once
 *    written (chunks are never reallocated);
 *  - every string is interned in one pool, so records hold plain pointers
 *    and copying a record is a memcpy.  A study's events repeat their
 *    messages (about one distinct message in six), so interning also saves
 *    most of their bytes.  The pool only grows: a string no record uses any
 *    more stays until close;
 *  - a job chains its attempts, events and checkpoints (first/last id in the
 *    job, next id in each record) and an attempt chains its nodes, so per-job
 *    listings never scan the store.
 *
 * Transactions: outside store_begin() a method checks everything before its
 * first write, so it stores all of its work or none.  Inside, every write
 * first saves the bytes it is about to change in an undo log (array lengths
 * included, which undoes inserts); rollback puts the saved bytes back newest
 * first and commit forgets them.
 */
#include "rows.h"
#include "store_int.h"
#include "../util/hmap.h"
#include "../util/xmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. chunked arrays ------------------------------------------------------ */

#define VEC_SHIFT 12 /* 4096 records a chunk */
#define VEC_CHUNK ((size_t)1 << VEC_SHIFT)

struct vec {
    char **chunks;
    size_t nchunks, chunks_cap;
    size_t n;    /* records in use; saved in the undo log on insert */
    size_t size; /* bytes of one record */
};

static void *vec_at(const struct vec *v, size_t i)
{
    return v->chunks[i >> VEC_SHIFT] + (i & (VEC_CHUNK - 1)) * v->size;
}

static void vec_free(struct vec *v)
{
    size_t i;

    for (i = 0; i < v->nchunks; i++)
        free(v->chunks[i]);
    free(v->chunks);
    memset(v, 0, sizeof(*v));
}

/* ---- 2. the store --------------------------------------------------------- */

/* A string field of a record points into the pool: it is shared, never freed
 * on its own and copied out by the getters. */
struct mjob {
    struct store_job j;
    int64_t atts[2];   /* first and last attempt id, 0 = none */
    int64_t events[2]; /* first and last event id */
    int64_t ckpts[2];  /* first and last checkpoint id */
    int64_t svc_next;  /* the next job inserted with the same service_id */
};

struct matt {
    struct store_attempt a;
    int64_t next;       /* the job's next attempt */
    int64_t node_first; /* 1-based index into nodes, 0 = none */
};

struct mnode {
    struct store_node nd;
    int64_t next; /* the attempt's next node (1-based index), in put order */
};

struct mevent { /* 48 bytes: a study keeps millions */
    int64_t job_id, attempt_id;
    double at;
    const char *msg;
    int64_t next;    /* the job's next event */
    uint32_t type;   /* index into mem.ev_types */
    int16_t from_state, to_state;
};

struct mckpt {
    struct store_checkpoint c;
    int64_t next; /* the job's next checkpoint */
};

/* A service chains the jobs inserted as its replicas (store_job.service_id),
 * so listing them does not scan every job of a simulation. */
struct msvc {
    struct store_service s;
    int64_t reps[2]; /* first and last replica's job id, 0 = none */
};

/* A setting; value NULL = removed (records are never deleted, see above). */
struct msetting {
    const char *key, *value;
};

/* A secret (schema 10).  Its ciphertext and nonce are kept as hex text in
 * the pool like every string (the pool holds NUL-terminated text; the few
 * bytes of a team's secrets do not need a store of their own).  A deleted
 * secret stays as a record with live 0, which a later put revives. */
struct msecret {
    const char *team, *name, *ciphertext, *nonce; /* the last two in hex */
    double created_at, updated_at;
    int live;
};

struct undo {
    void *at;   /* where the saved bytes go back */
    size_t len;
    size_t off; /* into undo_bytes */
};

/* A data replica as this store keeps it: struct store_data_replica with its
 * three source strings in one (data_src), 16 bytes less a copy (a
 * simulation keeps millions). */
struct mdata {
    const char *dataset, *cloud, *region, *src; /* interned */
    int home, in_use;
    double size_gb, created_at, last_used_at, expired_at, egress, storage_gb_month;
    int64_t job_id, attempt_id;
};

struct mem {
    struct strpool pool;
    struct vec jobs, atts, nodes, events, ckpts, reqs, blocks;
    struct vec tokens;   /* struct store_token, strings in the pool */
    struct vec settings; /* struct msetting, few: searched in order */
    struct vec svcs;     /* struct msvc, few: searched in order by name */
    struct vec secrets;  /* struct msecret, few: searched in order */
    struct vec data;     /* struct mdata, strings in the pool */
    struct keymap data_ix; /* (dataset, cloud, region) -> index in data of
                              the latest copy there;
                              an entry a rollback left behind names a record
                              of another key (or none) and is checked on use */
    int data_ix_moved;     /* a key's entry was moved in this transaction:
                              a rollback builds data_ix again */
    const char **ev_types; /* the events' types (interned), few */
    size_t nev_types, ev_types_cap;
    size_t reqs_taken;   /* requests below this index are taken */
    /* The replica chains are incomplete: a job was inserted naming a service
     * that did not exist yet, or an update moved a job to another service.
     * Replica lists then scan every job.  Never reset (not even by a
     * rollback): scanning is always right, only slower. */
    int svc_scan;
    int in_tx;
    struct undo *undo;
    size_t nundo, undo_cap;
    char *undo_bytes;
    size_t undo_len, undo_bytes_cap;
};

static const char *in(struct mem *m, const char *s)
{
    return s ? strpool_intern(&m->pool, s) : NULL;
}

/* Keep what the record has when the caller passes an equal string: updates
 * rewrite whole records and most of their strings do not change. */
static const char *in_same(struct mem *m, const char *cur, const char *s)
{
    if (cur != NULL && s != NULL && (cur == s || strcmp(cur, s) == 0))
        return cur;
    return in(m, s);
}

/* The record types (store.h) have `char *` fields because a caller owns the
 * strings of the records it gets; here they point into the pool, which is
 * never written through them.  The union says so without a cast. */
static char *as_field(const char *s)
{
    union {
        const char *c;
        char *f;
    } u;

    u.c = s;
    return u.f;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Save len bytes at `at` before they change (inside a transaction). */
static void save(struct mem *m, void *at, size_t len)
{
    struct undo *u;

    if (!m->in_tx)
        return;
    m->undo = xgrow(m->undo, &m->undo_cap, m->nundo + 1, sizeof(*m->undo));
    m->undo_bytes = xgrow(m->undo_bytes, &m->undo_bytes_cap, m->undo_len + len, 1);
    u = &m->undo[m->nundo++];
    u->at = at;
    u->len = len;
    u->off = m->undo_len;
    memcpy(m->undo_bytes + m->undo_len, at, len);
    m->undo_len += len;
}

static void *vec_push(struct mem *m, struct vec *v)
{
    void *p;

    if ((v->n >> VEC_SHIFT) >= v->nchunks) {
        v->chunks = xgrow(v->chunks, &v->chunks_cap, v->nchunks + 1, sizeof(*v->chunks));
        v->chunks[v->nchunks++] = xmalloc(VEC_CHUNK * v->size);
    }
    save(m, &v->n, sizeof(v->n));
    p = vec_at(v, v->n++);
    memset(p, 0, v->size);
    return p;
}

/* Record id (1-based) of v, or NULL. */
static void *vec_get(const struct vec *v, int64_t id)
{
    return id >= 1 && (uint64_t)id <= v->n ? vec_at(v, (size_t)id - 1) : NULL;
}

/* Append record `id` to a chain: ends = {first, last} ids, last_next = the
 * next field of the current last record (NULL when the chain is empty). */
static void chain_append(struct mem *m, int64_t ends[2], int64_t *last_next, int64_t id)
{
    save(m, ends, 2 * sizeof(ends[0]));
    if (last_next != NULL) {
        save(m, last_next, sizeof(*last_next));
        *last_next = id;
    } else {
        ends[0] = id;
    }
    ends[1] = id;
}

static struct mjob *job_of(struct mem *m, int64_t id)
{
    return vec_get(&m->jobs, id);
}

static struct matt *att_of(struct mem *m, int64_t id)
{
    return vec_get(&m->atts, id);
}

/* Each handle is a store of its own, so each open makes a new identity. */
static int mem_open(struct store *st, const char *path, struct err *e)
{
    struct mem *m = st->priv;
    int rc = store_new_id(st->id, e);

    (void)path;
    if (rc != 0)
        return rc;
    strpool_init(&m->pool);
    m->jobs.size = sizeof(struct mjob);
    m->atts.size = sizeof(struct matt);
    m->nodes.size = sizeof(struct mnode);
    m->events.size = sizeof(struct mevent);
    m->ckpts.size = sizeof(struct mckpt);
    m->reqs.size = sizeof(struct store_request);
    m->blocks.size = sizeof(struct store_block);
    m->tokens.size = sizeof(struct store_token);
    m->settings.size = sizeof(struct msetting);
    m->svcs.size = sizeof(struct msvc);
    m->secrets.size = sizeof(struct msecret);
    m->data.size = sizeof(struct mdata);
    keymap_init(&m->data_ix);
    st->schema_version = 15; /* the records of SQLite schema 15 */
    return 0;
}

static void mem_close(struct store *st)
{
    struct mem *m = st->priv;

    vec_free(&m->jobs);
    vec_free(&m->atts);
    vec_free(&m->nodes);
    vec_free(&m->events);
    free(m->ev_types);
    vec_free(&m->ckpts);
    vec_free(&m->reqs);
    vec_free(&m->blocks);
    vec_free(&m->tokens);
    vec_free(&m->settings);
    vec_free(&m->svcs);
    vec_free(&m->secrets);
    vec_free(&m->data);
    keymap_free(&m->data_ix);
    strpool_free(&m->pool);
    free(m->undo);
    free(m->undo_bytes);
}

/* ---- 3. transactions ------------------------------------------------------ */

static int mem_begin(struct store *st, struct err *e)
{
    struct mem *m = st->priv;

    (void)e;
    m->in_tx = 1;
    m->nundo = 0;
    m->undo_len = 0;
    return 0;
}

static int mem_commit(struct store *st, struct err *e)
{
    struct mem *m = st->priv;

    (void)e;
    m->in_tx = 0;
    m->nundo = 0;
    m->undo_len = 0;
    m->data_ix_moved = 0;
    return 0;
}

/* data_ix from the records: the last one of each key is its latest. */
static void data_ix_build(struct mem *m)
{
    size_t i;

    keymap_free(&m->data_ix);
    keymap_init(&m->data_ix);
    for (i = 0; i < m->data.n; i++) {
        const struct mdata *r = vec_at(&m->data, i);

        keymap_set(&m->data_ix, r->dataset, r->cloud, r->region, NULL, (uint32_t)i);
    }
}

static void mem_rollback(struct store *st)
{
    struct mem *m = st->priv;

    while (m->nundo > 0) {
        const struct undo *u = &m->undo[--m->nundo];

        memcpy(u->at, m->undo_bytes + u->off, u->len);
    }
    m->undo_len = 0;
    m->in_tx = 0;
    if (m->data_ix_moved) /* it may name a copy the rollback took back */
        data_ix_build(m);
    m->data_ix_moved = 0;
}

/* ---- 4. records ------------------------------------------------------------ */

/* The constraint SQLite would enforce, in its words so messages read alike. */
static int missing_ref(struct store *st, const char *op, const char *what, int64_t id,
                       struct err *e)
{
    return err_set(e, ST_EIO, "%s: %s: %s %" PRId64 " does not exist (FOREIGN KEY constraint failed)",
                   st->path, op, what, id);
}

/* -- jobs -- */

static void job_store(struct mem *m, struct store_job *dst, const struct store_job *src)
{
    struct store_job old = *dst;

    *dst = *src;
    dst->name = as_field(in_same(m, old.name, src->name));
    dst->spec_path = as_field(in_same(m, old.spec_path, src->spec_path));
    dst->spec_text = as_field(in_same(m, old.spec_text, src->spec_text));
    dst->policy_text = as_field(in_same(m, old.policy_text, src->policy_text));
    dst->team = as_field(in_same(m, old.team, src->team));
    dst->reason = as_field(in_same(m, old.reason, src->reason));
    dst->group_name = as_field(in_same(m, old.group_name, src->group_name));
}

static void job_copy_out(struct store_job *out, const struct store_job *j)
{
    *out = *j;
    out->name = dup_or_null(j->name);
    out->spec_path = dup_or_null(j->spec_path);
    out->spec_text = dup_or_null(j->spec_text);
    out->policy_text = dup_or_null(j->policy_text);
    out->team = dup_or_null(j->team);
    out->reason = dup_or_null(j->reason);
    out->group_name = dup_or_null(j->group_name);
}

static struct msvc *svc_of(struct mem *m, int64_t id)
{
    return vec_get(&m->svcs, id);
}

/* Append the new job mj to its service's chain of replicas. */
static void replica_chain(struct mem *m, struct mjob *mj)
{
    struct msvc *ms = svc_of(m, mj->j.service_id);

    if (ms == NULL) {
        m->svc_scan = 1; /* no chain to join: service_id names no service (yet) */
        return;
    }
    chain_append(m, ms->reps, ms->reps[1] ? &job_of(m, ms->reps[1])->svc_next : NULL,
                 mj->j.id);
}

static int mem_job_insert(struct store *st, struct store_job *j, struct err *e)
{
    struct mem *m = st->priv;
    struct mjob *mj;

    if (j->cur_attempt != 0 && att_of(m, j->cur_attempt) == NULL)
        return missing_ref(st, "adding a job", "attempt", j->cur_attempt, e);
    mj = vec_push(m, &m->jobs);
    job_store(m, &mj->j, j);
    mj->j.id = (int64_t)m->jobs.n;
    j->id = mj->j.id;
    if (j->service_id != 0)
        replica_chain(m, mj);
    return 0;
}

static int mem_job_update(struct store *st, const struct store_job *j, struct err *e)
{
    struct mem *m = st->priv;
    struct mjob *mj = job_of(m, j->id);

    if (mj == NULL)
        return err_set(e, ST_ENOTFOUND, "no job %" PRId64, j->id);
    if (j->cur_attempt != 0 && att_of(m, j->cur_attempt) == NULL)
        return missing_ref(st, "updating a job", "attempt", j->cur_attempt, e);
    if (j->service_id != mj->j.service_id)
        m->svc_scan = 1; /* it leaves its chain (or has none) */
    save(m, &mj->j, sizeof(mj->j));
    job_store(m, &mj->j, j);
    return 0;
}

static int mem_job_get(struct store *st, int64_t id, struct store_job *out, struct err *e)
{
    struct mjob *mj = job_of(st->priv, id);

    if (mj == NULL)
        return err_set(e, ST_ENOTFOUND, "no job %" PRId64, id);
    job_copy_out(out, &mj->j);
    return 0;
}

/* -- attempts -- */

static void att_store(struct mem *m, struct store_attempt *dst, const struct store_attempt *src)
{
    struct store_attempt old = *dst;

    *dst = *src;
    dst->cloud = as_field(in_same(m, old.cloud, src->cloud));
    dst->region = as_field(in_same(m, old.region, src->region));
    dst->zone = as_field(in_same(m, old.zone, src->zone));
    dst->instance_type = as_field(in_same(m, old.instance_type, src->instance_type));
    dst->accelerator = as_field(in_same(m, old.accelerator, src->accelerator));
}

static void att_copy_out(struct store_attempt *out, const struct store_attempt *a)
{
    *out = *a;
    out->cloud = dup_or_null(a->cloud);
    out->region = dup_or_null(a->region);
    out->zone = dup_or_null(a->zone);
    out->instance_type = dup_or_null(a->instance_type);
    out->accelerator = dup_or_null(a->accelerator);
}

static int mem_attempt_insert(struct store *st, struct store_attempt *a, struct err *e)
{
    struct mem *m = st->priv;
    struct mjob *mj = job_of(m, a->job_id);
    struct matt *ma;
    int64_t id;

    if (mj == NULL)
        return missing_ref(st, "adding an attempt", "job", a->job_id, e);
    /* SQLite checks the reference once the row is in: it may name itself */
    if (a->ckpt_from != 0 && att_of(m, a->ckpt_from) == NULL &&
        (uint64_t)a->ckpt_from != m->atts.n + 1)
        return missing_ref(st, "adding an attempt", "attempt", a->ckpt_from, e);
    for (id = mj->atts[0]; id != 0; id = att_of(m, id)->next)
        if (att_of(m, id)->a.n == a->n)
            return err_set(e, ST_EIO,
                           "%s: adding an attempt: job %" PRId64 " already has attempt %d "
                           "(UNIQUE constraint failed)",
                           st->path, a->job_id, a->n);
    ma = vec_push(m, &m->atts);
    att_store(m, &ma->a, a);
    ma->a.id = (int64_t)m->atts.n;
    a->id = ma->a.id;
    chain_append(m, mj->atts, mj->atts[1] ? &att_of(m, mj->atts[1])->next : NULL, ma->a.id);
    return 0;
}

static int mem_attempt_update(struct store *st, const struct store_attempt *a, struct err *e)
{
    struct mem *m = st->priv;
    struct matt *ma = att_of(m, a->id);

    if (ma == NULL)
        return err_set(e, ST_ENOTFOUND, "no attempt %" PRId64, a->id);
    if (a->job_id != ma->a.job_id || a->n != ma->a.n)
        return err_set(e, ST_EINVAL,
                       "%s: updating attempt %" PRId64 ": its job and number cannot change",
                       st->path, a->id);
    if (a->ckpt_from != 0 && att_of(m, a->ckpt_from) == NULL)
        return missing_ref(st, "updating an attempt", "attempt", a->ckpt_from, e);
    save(m, &ma->a, sizeof(ma->a));
    att_store(m, &ma->a, a);
    return 0;
}

static int mem_attempt_get(struct store *st, int64_t id, struct store_attempt *out,
                           struct err *e)
{
    struct matt *ma = att_of(st->priv, id);

    if (ma == NULL)
        return err_set(e, ST_ENOTFOUND, "no attempt %" PRId64, id);
    att_copy_out(out, &ma->a);
    return 0;
}

static void att_append(struct store_attempt **v, size_t *cap, size_t *k, const struct matt *ma)
{
    *v = xgrow(*v, cap, *k + 1, sizeof(**v));
    att_copy_out(&(*v)[(*k)++], &ma->a);
}

static int mem_attempt_list(struct store *st, int64_t job_id, struct store_attempt **out,
                            size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_attempt *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    if (job_id > 0) {
        const struct mjob *mj = job_of(m, job_id);
        int64_t id;

        for (id = mj ? mj->atts[0] : 0; id != 0; id = att_of(m, id)->next)
            att_append(&v, &cap, &k, att_of(m, id));
    } else {
        for (i = 0; i < m->atts.n; i++) {
            const struct matt *ma = vec_at(&m->atts, i);

            if (ma->a.state != ATT_ENDED)
                att_append(&v, &cap, &k, ma);
        }
    }
    *out = v;
    *n = k;
    return 0;
}

static int mem_attempt_page(struct store *st, int64_t after_id, size_t limit,
                            struct store_attempt **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_attempt *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = after_id > 0 ? (size_t)after_id : 0; i < m->atts.n && (limit == 0 || k < limit);
         i++)
        att_append(&v, &cap, &k, vec_at(&m->atts, i));
    *out = v;
    *n = k;
    return 0;
}

/* Jobs from the cursor, ascending (ids above it) or descending (below it;
 * 0: from the newest), at most limit (0 = all); active_only keeps the
 * states before the terminal ones, as SQLite's state < ?. */
static int mem_job_scan(struct store *st, const struct store_job_scan *q,
                        struct store_job **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_job *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    /* ids are 1..n, the job of id i at i - 1 */
    if (q->desc)
        i = q->after > 0 && (uint64_t)q->after <= m->jobs.n ? (size_t)q->after - 1
                                                            : m->jobs.n;
    else
        i = q->after > 0 ? (size_t)q->after : 0;
    while ((q->limit == 0 || k < q->limit) && (q->desc ? i > 0 : i < m->jobs.n)) {
        const struct mjob *mj = vec_at(&m->jobs, q->desc ? --i : i++);
        struct store_job j = mj->j;

        if (q->active_only && j.state >= JOB_SUCCEEDED)
            continue;
        if (q->no_texts) /* as the SQL stores leave them */
            j.spec_text = j.policy_text = NULL;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        job_copy_out(&v[k++], &j);
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- nodes -- */

static int mem_node_put(struct store *st, const struct store_node *nd, struct err *e)
{
    struct mem *m = st->priv;
    struct matt *ma = att_of(m, nd->attempt_id);
    struct mnode *mn;
    int64_t i, last = 0;

    if (ma == NULL)
        return missing_ref(st, "recording a node", "attempt", nd->attempt_id, e);
    for (i = ma->node_first; i != 0; i = mn->next) {
        mn = vec_at(&m->nodes, (size_t)i - 1);
        if (mn->nd.rank == nd->rank) {
            save(m, &mn->nd, sizeof(mn->nd));
            mn->nd = *nd;
            return 0;
        }
        last = i;
    }
    mn = vec_push(m, &m->nodes);
    mn->nd = *nd;
    if (last != 0) {
        struct mnode *prev = vec_at(&m->nodes, (size_t)last - 1);

        save(m, &prev->next, sizeof(prev->next));
        prev->next = (int64_t)m->nodes.n;
    } else {
        save(m, &ma->node_first, sizeof(ma->node_first));
        ma->node_first = (int64_t)m->nodes.n;
    }
    return 0;
}

static int cmp_rank(const void *a, const void *b)
{
    const struct store_node *x = a, *y = b;

    return (x->rank > y->rank) - (x->rank < y->rank);
}

static int mem_node_list(struct store *st, int64_t attempt_id, struct store_node **out,
                         size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    const struct matt *ma = att_of(m, attempt_id);
    struct store_node *v = NULL;
    size_t cap = 0, k = 0;
    int64_t i;

    (void)e;
    for (i = ma ? ma->node_first : 0; i != 0;) {
        const struct mnode *mn = vec_at(&m->nodes, (size_t)i - 1);

        v = xgrow(v, &cap, k + 1, sizeof(*v));
        v[k++] = mn->nd;
        i = mn->next;
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), cmp_rank);
    *out = v;
    *n = k;
    return 0;
}

/* -- events -- */

/* The index of an event type (types are few: a short table; an entry a
 * rollback leaves behind is harmless). */
static uint32_t ev_type(struct mem *m, const char *type)
{
    const char *t = in(m, type);
    size_t i;

    for (i = 0; i < m->nev_types; i++)
        if (m->ev_types[i] == t)
            return (uint32_t)i;
    m->ev_types = xgrow(m->ev_types, &m->ev_types_cap, m->nev_types + 1, sizeof(*m->ev_types));
    m->ev_types[m->nev_types] = t;
    return (uint32_t)m->nev_types++;
}

static int mem_event_append(struct store *st, int64_t job_id, int64_t attempt_id, double at,
                            const char *type, int from_state, int to_state, const char *msg,
                            int64_t *out_id, struct err *e)
{
    struct mem *m = st->priv;
    struct mjob *mj = job_of(m, job_id);
    struct mevent *ev;
    int64_t id;

    if (job_id != 0 && mj == NULL)
        return missing_ref(st, "appending an event", "job", job_id, e);
    if (attempt_id != 0 && att_of(m, attempt_id) == NULL)
        return missing_ref(st, "appending an event", "attempt", attempt_id, e);
    ev = vec_push(m, &m->events);
    ev->job_id = job_id;
    ev->attempt_id = attempt_id;
    ev->at = at;
    ev->type = ev_type(m, type);
    ev->msg = in(m, msg);
    ev->from_state = from_state;
    ev->to_state = to_state;
    id = (int64_t)m->events.n;
    if (mj != NULL) {
        struct mevent *last = vec_get(&m->events, mj->events[1]);

        chain_append(m, mj->events, last ? &last->next : NULL, id);
    }
    *out_id = id;
    return 0;
}

static int mem_event_list(struct store *st, int64_t job_id, int64_t after_id, size_t limit,
                          struct store_event **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_event *v = NULL;
    size_t cap = 0, k = 0;
    int64_t id;

    (void)e;
    if (job_id != 0) {
        const struct mjob *mj = job_of(m, job_id);

        id = mj ? mj->events[0] : 0;
    } else {
        id = after_id < 0 ? 1 : after_id + 1;
        id = (uint64_t)id <= m->events.n ? id : 0;
    }
    while (id != 0 && (limit == 0 || k < limit)) {
        const struct mevent *ev = vec_at(&m->events, (size_t)id - 1);

        if (id > after_id) {
            struct store_event *o;

            v = xgrow(v, &cap, k + 1, sizeof(*v));
            o = &v[k++];
            o->id = id;
            o->job_id = ev->job_id;
            o->attempt_id = ev->attempt_id;
            o->at = ev->at;
            o->type = xstrdup(m->ev_types[ev->type]);
            o->from_state = ev->from_state;
            o->to_state = ev->to_state;
            o->msg = dup_or_null(ev->msg);
        }
        if (job_id != 0)
            id = ev->next;
        else
            id = (uint64_t)id < m->events.n ? id + 1 : 0;
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- checkpoints -- */

static int mem_checkpoint_add(struct store *st, int64_t job_id, int64_t attempt_id,
                              const char *path, double bytes, double at, struct err *e)
{
    struct mem *m = st->priv;
    struct mjob *mj = job_of(m, job_id);
    struct mckpt *ck, *last;

    if (mj == NULL)
        return missing_ref(st, "recording a checkpoint", "job", job_id, e);
    if (attempt_id != 0 && att_of(m, attempt_id) == NULL)
        return missing_ref(st, "recording a checkpoint", "attempt", attempt_id, e);
    ck = vec_push(m, &m->ckpts);
    ck->c.id = (int64_t)m->ckpts.n;
    ck->c.job_id = job_id;
    ck->c.attempt_id = attempt_id;
    ck->c.path = as_field(in(m, path));
    ck->c.bytes = bytes;
    ck->c.at = at;
    last = vec_get(&m->ckpts, mj->ckpts[1]);
    chain_append(m, mj->ckpts, last ? &last->next : NULL, ck->c.id);
    return 0;
}

static int mem_checkpoint_list(struct store *st, int64_t job_id, struct store_checkpoint **out,
                               size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    const struct mjob *mj = job_of(m, job_id);
    struct store_checkpoint *v = NULL;
    size_t cap = 0, k = 0;
    int64_t id;

    (void)e;
    for (id = mj ? mj->ckpts[0] : 0; id != 0;) {
        const struct mckpt *ck = vec_at(&m->ckpts, (size_t)id - 1);

        v = xgrow(v, &cap, k + 1, sizeof(*v));
        v[k] = ck->c;
        v[k++].path = dup_or_null(ck->c.path);
        id = ck->next;
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- requests -- */

static int mem_request_add(struct store *st, const char *kind, const char *arg, double at,
                           int64_t *out_id, struct err *e)
{
    struct mem *m = st->priv;
    struct store_request *r = vec_push(m, &m->reqs);

    (void)e;
    r->id = (int64_t)m->reqs.n;
    r->at = at;
    r->kind = as_field(in(m, kind));
    r->arg = as_field(in(m, arg));
    *out_id = r->id;
    return 0;
}

/* Requests are taken all at once, in id order: those below reqs_taken are. */
static int mem_request_take(struct store *st, struct store_request **out, size_t *n,
                            struct err *e)
{
    struct mem *m = st->priv;
    struct store_request *v = NULL;
    size_t i, k = 0;

    (void)e;
    if (m->reqs.n > m->reqs_taken)
        v = xcalloc(m->reqs.n - m->reqs_taken, sizeof(*v));
    for (i = m->reqs_taken; i < m->reqs.n; i++) {
        const struct store_request *r = vec_at(&m->reqs, i);

        v[k] = *r;
        v[k].kind = xstrdup(r->kind);
        v[k++].arg = dup_or_null(r->arg);
    }
    save(m, &m->reqs_taken, sizeof(m->reqs_taken));
    m->reqs_taken = m->reqs.n;
    *out = v;
    *n = k;
    return 0;
}

/* -- blocks -- */

/* One row per location (compared as SQLite's IS: NULL matches NULL); blocking
 * again extends a block, never shortens it.  Interned strings compare by
 * pointer. */
static int mem_block_add(struct store *st, const struct store_block *b, struct err *e)
{
    struct mem *m = st->priv;
    const char *cloud = in(m, b->cloud), *region = in(m, b->region),
               *zone = in(m, b->zone), *type = in(m, b->instance_type),
               *acc = in(m, b->accelerator ? b->accelerator : "");
    struct store_block *bl;
    size_t i;

    (void)e;
    for (i = 0; i < m->blocks.n; i++) {
        bl = vec_at(&m->blocks, i);
        if (bl->cloud != cloud || bl->region != region || bl->zone != zone ||
            bl->instance_type != type || bl->accelerator != acc)
            continue;
        save(m, bl, sizeof(*bl));
        if (b->until >= bl->until)
            bl->reason = as_field(in(m, b->reason));
        if (b->until > bl->until)
            bl->until = b->until;
        return 0;
    }
    bl = vec_push(m, &m->blocks);
    bl->cloud = as_field(cloud);
    bl->region = as_field(region);
    bl->zone = as_field(zone);
    bl->instance_type = as_field(type);
    bl->accelerator = as_field(acc);
    bl->until = b->until;
    bl->reason = as_field(in(m, b->reason));
    return 0;
}

static int mem_block_list(struct store *st, double now, struct store_block **out, size_t *n,
                          struct err *e)
{
    struct mem *m = st->priv;
    struct store_block *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = 0; i < m->blocks.n; i++) {
        const struct store_block *bl = vec_at(&m->blocks, i);

        if (bl->until <= now)
            continue;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        v[k].cloud = dup_or_null(bl->cloud);
        v[k].region = dup_or_null(bl->region);
        v[k].zone = dup_or_null(bl->zone);
        v[k].instance_type = dup_or_null(bl->instance_type);
        v[k].accelerator = dup_or_null(bl->accelerator);
        v[k].until = bl->until;
        v[k++].reason = dup_or_null(bl->reason);
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- the cost report -- */

/* The SQLite backend's COST_SQL over the same records: node-hours of ended
 * attempts that ran, lost when they did not end by exiting; grouped by a key
 * ("(none)" for NULL), ordered by USD descending, then key. */
static int cmp_cost_row(const void *a, const void *b)
{
    const struct store_cost_row *x = a, *y = b;

    if (x->usd != y->usd)
        return x->usd > y->usd ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* By job the keys are decimal ids, ordered as numbers: a shorter one is smaller. */
static int cmp_cost_row_job(const void *a, const void *b)
{
    const struct store_cost_row *x = a, *y = b;
    size_t lx = strlen(x->key), ly = strlen(y->key);

    if (x->usd != y->usd)
        return x->usd > y->usd ? -1 : 1;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The key of attempt a's row (interned), as COST_SQL makes it. */
static const char *cost_key(struct mem *m, enum store_cost_by by,
                            const struct store_attempt *a, const struct store_job *j)
{
    char id[24];
    const char *key = by == STORE_COST_BY_CLOUD ? a->cloud : j->team;

    if (by == STORE_COST_BY_JOB) {
        snprintf(id, sizeof(id), "%" PRId64, a->job_id);
        return in(m, id);
    }
    return key ? key : in(m, "(none)");
}

static int mem_cost_report(struct store *st, enum store_cost_by by, double now,
                           struct store_cost_row **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_cost_row *v = NULL;
    struct keymap rows; /* interned key -> index into v */
    size_t i, cap = 0, k = 0;

    (void)e;
    keymap_init(&rows);
    for (i = 0; i < m->atts.n; i++) {
        const struct store_attempt *a = &((const struct matt *)vec_at(&m->atts, i))->a;
        const struct store_job *j = &job_of(m, a->job_id)->j;
        const char *key = cost_key(m, by, a, j);
        int ended = a->state == ATT_ENDED;
        double end = ended ? a->ended_at : now;
        double nh = a->running_at > 0 && end > a->running_at
                        ? a->nodes * (end - a->running_at) / 3600.0
                        : 0;
        uint32_t at = (uint32_t)k;

        if (!keymap_put(&rows, key, NULL, NULL, NULL, &at)) {
            v = xgrow(v, &cap, k + 1, sizeof(*v));
            memset(&v[k], 0, sizeof(v[k]));
            v[k].name = by == STORE_COST_BY_JOB ? as_field(j->name) : NULL;
            v[k++].key = as_field(key);
        }
        v[at].usd += store_attempt_spent_at(a, now);
        v[at].egress_usd += a->egress;
        v[at].node_hours += nh;
        v[at].lost_node_hours += ended && a->end_reason != ATT_END_EXITED ? nh : 0;
        v[at].attempts++;
    }
    keymap_free(&rows);
    if (k > 1)
        qsort(v, k, sizeof(*v), by == STORE_COST_BY_JOB ? cmp_cost_row_job : cmp_cost_row);
    for (i = 0; i < k; i++) {
        v[i].key = xstrdup(v[i].key);
        v[i].name = dup_or_null(v[i].name);
        v[i].compute_usd = v[i].usd - v[i].egress_usd;
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- tokens -- */

static void token_copy_out(struct store_token *out, const struct store_token *t)
{
    *out = *t;
    out->name = dup_or_null(t->name);
    out->role = dup_or_null(t->role);
    out->hash = dup_or_null(t->hash);
    out->user = dup_or_null(t->user);
}

/* The token whose name (by_hash: whose hash) is s, compared as interned
 * pointers; live_only skips revoked ones.  NULL when none. */
static struct store_token *token_find(struct mem *m, int by_hash, const char *s,
                                      int live_only)
{
    const char *p = strpool_find(&m->pool, s);
    size_t i;

    for (i = 0; p != NULL && i < m->tokens.n; i++) {
        struct store_token *t = vec_at(&m->tokens, i);

        if ((by_hash ? t->hash : t->name) == p && (!live_only || t->revoked_at == 0))
            return t;
    }
    return NULL;
}

/* SQLite's tokens_hash index refuses a second row with a hash, too. */
static int mem_token_insert(struct store *st, struct store_token *t, struct err *e)
{
    struct mem *m = st->priv;
    struct store_token *mt;

    if (token_find(m, 0, t->name, 1) != NULL)
        return err_set(e, ST_EEXISTS,
                       "a token named '%s' already exists; revoke it first or pick "
                       "another name",
                       t->name);
    if (token_find(m, 1, t->hash, 0) != NULL)
        return err_set(e, ST_EIO, "%s: adding a token: UNIQUE constraint failed: "
                       "tokens.hash", st->path);
    mt = vec_push(m, &m->tokens);
    mt->id = (int64_t)m->tokens.n;
    mt->name = as_field(in(m, t->name));
    mt->role = as_field(in(m, t->role));
    mt->hash = as_field(in(m, t->hash));
    mt->user = t->user ? as_field(in(m, t->user)) : NULL;
    mt->created_at = t->created_at;
    t->id = mt->id;
    return 0;
}

static int mem_token_by_hash(struct store *st, const char *hash, struct store_token *out,
                             struct err *e)
{
    const struct store_token *t = token_find(st->priv, 1, hash, 0);

    if (t == NULL)
        return err_set(e, ST_ENOTFOUND, "no such token");
    token_copy_out(out, t);
    return 0;
}

static int mem_token_list(struct store *st, int live_only, struct store_token **out,
                          size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_token *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = 0; i < m->tokens.n; i++) {
        const struct store_token *t = vec_at(&m->tokens, i);

        if (live_only && t->revoked_at != 0)
            continue;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        token_copy_out(&v[k++], t);
    }
    *out = v;
    *n = k;
    return 0;
}

static int mem_token_revoke(struct store *st, int64_t id, double at, struct err *e)
{
    struct mem *m = st->priv;
    struct store_token *t = vec_get(&m->tokens, id);

    if (t == NULL || t->revoked_at != 0)
        return err_set(e, ST_ENOTFOUND, "no live token %" PRId64, id);
    save(m, &t->revoked_at, sizeof(t->revoked_at));
    t->revoked_at = at;
    return 0;
}

/* -- settings -- */

static struct msetting *setting_find(struct mem *m, const char *key)
{
    const char *p = strpool_find(&m->pool, key);
    size_t i;

    for (i = 0; p != NULL && i < m->settings.n; i++) {
        struct msetting *ms = vec_at(&m->settings, i);

        if (ms->key == p)
            return ms;
    }
    return NULL;
}

static int mem_setting_get(struct store *st, const char *key, char **value, struct err *e)
{
    const struct msetting *ms = setting_find(st->priv, key);

    (void)e;
    *value = ms != NULL ? dup_or_null(ms->value) : NULL;
    return 0;
}

static int mem_setting_put(struct store *st, const char *key, const char *value,
                           struct err *e)
{
    struct mem *m = st->priv;
    struct msetting *ms = setting_find(m, key);

    (void)e;
    if (ms == NULL && value == NULL)
        return 0;
    if (ms == NULL) {
        ms = vec_push(m, &m->settings);
        ms->key = in(m, key);
    } else {
        save(m, &ms->value, sizeof(ms->value));
    }
    ms->value = in(m, value);
    return 0;
}

/* -- services -- */

static void svc_store(struct mem *m, struct store_service *dst,
                      const struct store_service *src)
{
    struct store_service old = *dst;

    *dst = *src;
    dst->name = as_field(in_same(m, old.name, src->name));
    dst->spec_path = as_field(in_same(m, old.spec_path, src->spec_path));
    dst->spec_text = as_field(in_same(m, old.spec_text, src->spec_text));
    dst->policy_text = as_field(in_same(m, old.policy_text, src->policy_text));
    dst->reason = as_field(in_same(m, old.reason, src->reason));
    dst->keys = as_field(in_same(m, old.keys, src->keys));
    dst->key_info = as_field(in_same(m, old.key_info, src->key_info));
    dst->team = as_field(in_same(m, old.team, src->team));
}

static void svc_copy_out(struct store_service *out, const struct store_service *sv)
{
    *out = *sv;
    out->name = dup_or_null(sv->name);
    out->spec_path = dup_or_null(sv->spec_path);
    out->spec_text = dup_or_null(sv->spec_text);
    out->policy_text = dup_or_null(sv->policy_text);
    out->reason = dup_or_null(sv->reason);
    out->keys = dup_or_null(sv->keys);
    out->key_info = dup_or_null(sv->key_info);
    out->team = dup_or_null(sv->team);
}

/* ST_EEXISTS when a live service other than `id` (0: a new one) has sv's
 * name and sv would be live too (SQLite's services_live_name index). */
static int svc_name_free(struct mem *m, const struct store_service *sv, int64_t id,
                         struct err *e)
{
    size_t i;

    for (i = 0; sv->ended_at == 0 && i < m->svcs.n; i++) {
        const struct msvc *ms = vec_at(&m->svcs, i);

        if (ms->s.id != id && ms->s.ended_at == 0 && strcmp(ms->s.name, sv->name) == 0)
            return rows_service_name_free(sv, NULL, 1, e); /* its message */
    }
    return 0;
}

static int mem_service_insert(struct store *st, struct store_service *sv, struct err *e)
{
    struct mem *m = st->priv;
    struct msvc *ms;
    int rc = svc_name_free(m, sv, 0, e);

    if (rc != 0)
        return rc;
    ms = vec_push(m, &m->svcs);
    svc_store(m, &ms->s, sv);
    ms->s.id = (int64_t)m->svcs.n;
    sv->id = ms->s.id;
    return 0;
}

static int mem_service_update(struct store *st, const struct store_service *sv,
                              struct err *e)
{
    struct mem *m = st->priv;
    struct msvc *ms = svc_of(m, sv->id);
    int rc;

    if (ms == NULL)
        return err_set(e, ST_ENOTFOUND, "no service %" PRId64, sv->id);
    rc = svc_name_free(m, sv, sv->id, e);
    if (rc != 0)
        return rc;
    save(m, &ms->s, sizeof(ms->s));
    svc_store(m, &ms->s, sv);
    return 0;
}

static int mem_service_get(struct store *st, int64_t id, struct store_service *out,
                           struct err *e)
{
    const struct msvc *ms = svc_of(st->priv, id);

    if (ms == NULL)
        return err_set(e, ST_ENOTFOUND, "no service %" PRId64, id);
    svc_copy_out(out, &ms->s);
    return 0;
}

/* Does a come before b in SQLite's SVC_FIND order: live first, then the
 * later ended_at, then the higher id? */
static int svc_before(const struct store_service *a, const struct store_service *b)
{
    if ((a->ended_at == 0) != (b->ended_at == 0))
        return a->ended_at == 0;
    if (a->ended_at != b->ended_at)
        return a->ended_at > b->ended_at;
    return a->id > b->id;
}

static int mem_service_find(struct store *st, const char *name, struct store_service *out,
                            struct err *e)
{
    struct mem *m = st->priv;
    const struct store_service *best = NULL;
    size_t i;

    for (i = 0; i < m->svcs.n; i++) {
        const struct msvc *ms = vec_at(&m->svcs, i);

        if (strcmp(ms->s.name, name) == 0 && (best == NULL || svc_before(&ms->s, best)))
            best = &ms->s;
    }
    if (best == NULL)
        return err_set(e, ST_ENOTFOUND, "no service named '%s'", name);
    svc_copy_out(out, best);
    return 0;
}

static int mem_service_list(struct store *st, int live_only, struct store_service **out,
                            size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_service *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = 0; i < m->svcs.n; i++) {
        const struct msvc *ms = vec_at(&m->svcs, i);

        if (live_only && ms->s.ended_at != 0)
            continue;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        svc_copy_out(&v[k++], &ms->s);
    }
    *out = v;
    *n = k;
    return 0;
}

/* Append job mj to v when it is a replica of service_id the list wants. */
static void replica_append(struct store_job **v, size_t *cap, size_t *k,
                           const struct mjob *mj, int64_t service_id, int active_only)
{
    if (mj->j.service_id != service_id || (active_only && mj->j.state >= JOB_SUCCEEDED))
        return;
    *v = xgrow(*v, cap, *k + 1, sizeof(**v));
    job_copy_out(&(*v)[(*k)++], &mj->j);
}

/* Along the service's chain (in id order, as inserted), or over every job
 * when the chains are incomplete (svc_scan). */
static int mem_replica_list(struct store *st, int64_t service_id, int active_only,
                            struct store_job **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    const struct msvc *ms = svc_of(m, service_id);
    struct store_job *v = NULL;
    size_t i, cap = 0, k = 0;
    int64_t id;

    (void)e;
    if (m->svc_scan) {
        for (i = 0; i < m->jobs.n; i++)
            replica_append(&v, &cap, &k, vec_at(&m->jobs, i), service_id, active_only);
    } else {
        for (id = ms != NULL ? ms->reps[0] : 0; id != 0; id = job_of(m, id)->svc_next)
            replica_append(&v, &cap, &k, job_of(m, id), service_id, active_only);
    }
    *out = v;
    *n = k;
    return 0;
}

/* -- secrets -- */

/* The secret (team, name), live or deleted; NULL when it never was. */
static struct msecret *secret_find(struct mem *m, const char *team, const char *name)
{
    const char *t = strpool_find(&m->pool, team), *n = strpool_find(&m->pool, name);
    size_t i;

    for (i = 0; t != NULL && n != NULL && i < m->secrets.n; i++) {
        struct msecret *ms = vec_at(&m->secrets, i);

        if (ms->team == t && ms->name == n)
            return ms;
    }
    return NULL;
}

/* Bytes as lowercase hex, interned. */
static const char *hex_in(struct mem *m, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *h = xmalloc(2 * n + 1);
    const char *out;
    size_t i;

    for (i = 0; i < n; i++) {
        h[2 * i] = digits[p[i] >> 4];
        h[2 * i + 1] = digits[p[i] & 15];
    }
    h[2 * n] = '\0';
    out = in(m, h);
    free(h);
    return out;
}

/* Hex text (as hex_in makes it) back to owned bytes. */
static unsigned char *hex_out(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2, i;
    unsigned char *v = xmalloc(n ? n : 1);

    for (i = 0; i < n; i++) {
        int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10,
            lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;

        v[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n;
    return v;
}

static int mem_secret_put(struct store *st, const struct store_secret *s, struct err *e)
{
    struct mem *m = st->priv;
    struct msecret *ms = secret_find(m, s->team, s->name);

    (void)e;
    if (ms == NULL) {
        ms = vec_push(m, &m->secrets);
        ms->team = in(m, s->team);
        ms->name = in(m, s->name);
    } else {
        save(m, ms, sizeof(*ms));
    }
    if (!ms->live)
        ms->created_at = s->updated_at;
    ms->live = 1;
    ms->ciphertext = hex_in(m, s->ciphertext, s->ciphertext_len);
    ms->nonce = hex_in(m, s->nonce, s->nonce_len);
    ms->updated_at = s->updated_at;
    return 0;
}

/* The record's times and names into out; with its sealed bytes when full. */
static void secret_copy_out(struct store_secret *out, const struct msecret *ms, int full)
{
    memset(out, 0, sizeof(*out));
    out->team = xstrdup(ms->team);
    out->name = xstrdup(ms->name);
    out->created_at = ms->created_at;
    out->updated_at = ms->updated_at;
    if (full) {
        out->ciphertext = hex_out(ms->ciphertext, &out->ciphertext_len);
        out->nonce = hex_out(ms->nonce, &out->nonce_len);
    }
}

static int mem_secret_get(struct store *st, const char *team, const char *name,
                          struct store_secret *out, struct err *e)
{
    const struct msecret *ms = secret_find(st->priv, team, name);

    if (ms == NULL || !ms->live)
        return err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    secret_copy_out(out, ms, 1);
    return 0;
}

static int secret_cmp(const void *a, const void *b)
{
    return strcmp(((const struct store_secret *)a)->name,
                  ((const struct store_secret *)b)->name);
}

/* In name order, as SQLite's BINARY collation (bytes, as strcmp). */
static int mem_secret_list(struct store *st, const char *team, struct store_secret **out,
                           size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    const char *t = strpool_find(&m->pool, team);
    struct store_secret *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = 0; t != NULL && i < m->secrets.n; i++) {
        const struct msecret *ms = vec_at(&m->secrets, i);

        if (ms->team != t || !ms->live)
            continue;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        secret_copy_out(&v[k++], ms, 0);
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), secret_cmp);
    *out = v;
    *n = k;
    return 0;
}

static int mem_secret_delete(struct store *st, const char *team, const char *name,
                             struct err *e)
{
    struct mem *m = st->priv;
    struct msecret *ms = secret_find(m, team, name);

    if (ms == NULL || !ms->live)
        return err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    save(m, &ms->live, sizeof(ms->live));
    ms->live = 0;
    return 0;
}

/* -- data replicas -- */

/* "SRC_CLOUD\x1fSRC_REGION\x1fVIA", interned: where a copy came from in one
 * pointer (names are letters, digits, '-' and '/': never \x1f). */
static const char *data_src(struct mem *m, const struct store_data_replica *r)
{
    char *s = xasprintf("%s\x1f%s\x1f%s", r->src_cloud ? r->src_cloud : "",
                        r->src_region ? r->src_region : "", r->via ? r->via : "");
    const char *k = in(m, s);

    free(s);
    return k;
}

/* The latest record of (dataset, cloud, region), or NULL; *known: the key
 * has an entry in data_ix (a put of a new copy moves it). */
static struct mdata *data_find(struct mem *m, const char *d, const char *c, const char *r,
                               int *known)
{
    const char *di = strpool_find(&m->pool, d), *ci = strpool_find(&m->pool, c),
               *ri = strpool_find(&m->pool, r);
    struct mdata *v;
    uint32_t ix;

    *known = di != NULL && ci != NULL && ri != NULL &&
             keymap_get(&m->data_ix, di, ci, ri, NULL, &ix);
    if (!*known || ix >= m->data.n)
        return NULL;
    v = vec_at(&m->data, ix);
    return v->dataset == di && v->cloud == ci && v->region == ri ? v : NULL;
}

/* The latest copy at (dataset, cloud, region) is replaced, unless it was
 * deleted and r is another copy (made at another time): then r is a record
 * of its own, and the deleted one stays (SQLite's data_replicas_past). */
static int mem_data_put(struct store *st, const struct store_data_replica *r, struct err *e)
{
    struct mem *m = st->priv;
    int known;
    struct mdata *v = data_find(m, r->dataset, r->cloud, r->region, &known);

    (void)e;
    if (v != NULL && v->expired_at > 0 && v->created_at != r->created_at)
        v = NULL;
    if (v == NULL) {
        v = vec_push(m, &m->data);
        keymap_set(&m->data_ix, in(m, r->dataset), in(m, r->cloud), in(m, r->region), NULL,
                   (uint32_t)(m->data.n - 1));
        m->data_ix_moved |= known && m->in_tx;
    } else {
        save(m, v, sizeof(*v));
    }
    v->dataset = in(m, r->dataset);
    v->cloud = in(m, r->cloud);
    v->region = in(m, r->region);
    v->src = data_src(m, r);
    v->home = r->home;
    v->in_use = r->in_use;
    v->size_gb = r->size_gb;
    v->created_at = r->created_at;
    v->last_used_at = r->last_used_at;
    v->expired_at = r->expired_at;
    v->egress = r->egress;
    v->storage_gb_month = r->storage_gb_month;
    v->job_id = r->job_id;
    v->attempt_id = r->attempt_id;
    return 0;
}

/* The public record of v (its strings copied). */
static void data_out(const struct mdata *v, struct store_data_replica *o)
{
    const char *a = strchr(v->src, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : NULL;

    BUG_ON(a == NULL || b == NULL);
    memset(o, 0, sizeof(*o));
    o->dataset = xstrdup(v->dataset);
    o->cloud = xstrdup(v->cloud);
    o->region = xstrdup(v->region);
    o->src_cloud = xstrndup(v->src, (size_t)(a - v->src));
    o->src_region = xstrndup(a + 1, (size_t)(b - a - 1));
    o->via = xstrdup(b + 1);
    o->home = v->home;
    o->in_use = v->in_use;
    o->size_gb = v->size_gb;
    o->created_at = v->created_at;
    o->last_used_at = v->last_used_at;
    o->expired_at = v->expired_at;
    o->egress = v->egress;
    o->storage_gb_month = v->storage_gb_month;
    o->job_id = v->job_id;
    o->attempt_id = v->attempt_id;
}

static int data_cmp(const void *a, const void *b)
{
    const struct store_data_replica *x = a, *y = b;
    int c = strcmp(x->dataset, y->dataset);

    if (c == 0)
        c = (x->created_at > y->created_at) - (x->created_at < y->created_at);
    if (c == 0)
        c = strcmp(x->cloud, y->cloud);
    return c != 0 ? c : strcmp(x->region, y->region);
}

static int mem_data_list(struct store *st, const char *dataset, int live_only,
                         struct store_data_replica **out, size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    const char *d = dataset ? strpool_find(&m->pool, dataset) : NULL;
    struct store_data_replica *v = NULL;
    size_t i, cap = 0, k = 0;

    (void)e;
    for (i = 0; (dataset == NULL || d != NULL) && i < m->data.n; i++) {
        const struct mdata *r = vec_at(&m->data, i);

        if ((d != NULL && r->dataset != d) || (live_only && r->expired_at > 0))
            continue;
        v = xgrow(v, &cap, k + 1, sizeof(*v));
        data_out(r, &v[k++]);
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), data_cmp);
    *out = v;
    *n = k;
    return 0;
}

static int cost_key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct store_cost_row *)a)->key,
                  ((const struct store_cost_row *)b)->key);
}

static int mem_data_storage(struct store *st, double now, struct store_cost_row **out,
                            size_t *n, struct err *e)
{
    struct mem *m = st->priv;
    struct store_cost_row *v = NULL;
    size_t i, k, cap = 0, nv = 0;

    (void)e;
    for (i = 0; i < m->data.n; i++) {
        const struct mdata *r = vec_at(&m->data, i);
        double end = r->expired_at > 0 ? r->expired_at : now;

        if (r->home || r->job_id <= 0 || !(end > r->created_at))
            continue;
        for (k = 0; k < nv && strcmp(v[k].key, r->cloud) != 0; k++)
            ;
        if (k == nv) {
            v = xgrow(v, &cap, nv + 1, sizeof(*v));
            memset(&v[nv], 0, sizeof(*v));
            v[nv++].key = xstrdup(r->cloud);
        }
        v[k].usd += r->size_gb * r->storage_gb_month * (end - r->created_at);
        v[k].attempts++;
    }
    if (nv > 1)
        qsort(v, nv, sizeof(*v), cost_key_cmp);
    *out = v;
    *n = nv;
    return 0;
}

/* ---- 5. the ops table ------------------------------------------------------- */

const struct store_ops store_mem = {
    .name = "mem",
    .prefix = "mem:",
    .priv_size = sizeof(struct mem),
    .open = mem_open,
    .close = mem_close,
    .begin = mem_begin,
    .commit = mem_commit,
    .rollback = mem_rollback,
    .job_insert = mem_job_insert,
    .job_update = mem_job_update,
    .job_get = mem_job_get,
    .job_scan = mem_job_scan,
    .attempt_insert = mem_attempt_insert,
    .attempt_update = mem_attempt_update,
    .attempt_get = mem_attempt_get,
    .attempt_list = mem_attempt_list,
    .attempt_page = mem_attempt_page,
    .node_put = mem_node_put,
    .node_list = mem_node_list,
    .event_append = mem_event_append,
    .event_list = mem_event_list,
    .checkpoint_add = mem_checkpoint_add,
    .checkpoint_list = mem_checkpoint_list,
    .request_add = mem_request_add,
    .request_take = mem_request_take,
    .block_add = mem_block_add,
    .block_list = mem_block_list,
    .cost_report = mem_cost_report,
    .token_insert = mem_token_insert,
    .token_by_hash = mem_token_by_hash,
    .token_list = mem_token_list,
    .token_revoke = mem_token_revoke,
    .setting_get = mem_setting_get,
    .setting_put = mem_setting_put,
    .service_insert = mem_service_insert,
    .service_update = mem_service_update,
    .service_get = mem_service_get,
    .service_find = mem_service_find,
    .service_list = mem_service_list,
    .replica_list = mem_replica_list,
    .secret_put = mem_secret_put,
    .secret_get = mem_secret_get,
    .secret_list = mem_secret_list,
    .secret_delete = mem_secret_delete,
    .data_put = mem_data_put,
    .data_list = mem_data_list,
    .data_storage = mem_data_storage,
};
