/*
 * sim_serve.c - one service in the simulator's world (see sim_serve.h and
 * docs/sim-serve.md).
 *
 * Layout: the world's pieces (routers, replica models, per-request state);
 * the manager's hooks as the sim world answers them; the control round
 * (controller step, manager round, replicas that came or went, probes, the
 * replica set pushed to the routers); requests (routing, waiting, retries,
 * answers); the event loop; the results.
 *
 * Events are processed in virtual time in one loop: the next request
 * arrival, the next replica-model event, the next control round (the
 * earlier of the controller's and the manager's deadlines, or at once when
 * the manager woke the controller), the next load report, the next waiting
 * request's deadline and the next price-trace row, whichever comes first.
 */
#include "sim_serve.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../driver/driver.h"
#include "../plan/plan.h"
#include "../router/pick.h"
#include "../sched/sched.h"
#include "../serve/manager.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/xmem.h"
#include "bound.h"
#include "reqtrace.h"
#include "serve_perf.h"
#include "trace.h"

/* ---- the world's pieces ---- */

/* A router in one users' region. */
struct srouter {
    char cloud[32], region[96];
    const struct catalog *cat;
    struct rp_set set;
    long arrived;            /* requests arrived since the last report */
    long waited;             /* requests that had to wait since then */
    size_t *wait;            /* waiting request ids (FIFO from wait_head) */
    double *wait_until;
    size_t nwait, wait_head, wait_cap;
};

/* The serving model of one running attempt of a replica job. */
struct smodel {
    int64_t job, att;
    struct replica *rp;
    char cloud[32], region[96];
    double running_at;
    double *rtt_s;           /* per router: round trip to its users */
    int seen;
};

/* Request states (per request, one byte). */
enum { RQ_NEW, RQ_WAITING, RQ_AT_REPLICA, RQ_SERVED, RQ_FAILED };

struct world {
    const struct sim_serve_input *in;
    const struct svc_spec *sv;
    struct sim_serve_result *res;
    struct catalog *cat;
    struct store *st;
    struct sched *sched;
    struct mgr *mgr;
    struct clock clk;
    double t;                /* virtual now (unix seconds) */
    int64_t svc;
    char model[32];
    int n_accel;             /* accelerators per replica (the spec's count) */
    /* routers */
    struct srouter *rt;
    size_t nrt;
    uint16_t *rt_of;         /* per request: its router */
    uint64_t ep_version;
    /* replicas */
    struct smodel *m;
    size_t nm, m_cap;
    /* probes asked in the current manager round */
    int64_t *asked;
    size_t nasked, asked_cap;
    int woken;
    /* requests */
    size_t next_req;         /* the next arrival */
    unsigned char *state, *tries;
    size_t open;             /* requests arrived and not yet answered */
    float *ttft, *e2e;       /* per served request, in answer order */
    size_t nserved;
    /* retries found in a round, routed once the set is updated */
    size_t *retry;
    size_t nretry, retry_cap;
    size_t kprice;
    double ready_since;      /* min_replicas READY since then; 0 = not now */
    double ready_time;
};

static double rtt_fn(void *ctx, const char *cloud, const char *region)
{
    const struct srouter *r = ctx;

    return catalog_rtt_ms(r->cat, r->cloud, r->region, cloud, region, NULL);
}

static double arrival(const struct world *w, size_t i)
{
    return w->in->t0 + w->in->reqs->req[i].arrival_s;
}

/* ---- routers: one per users' region ---- */

static size_t router_add(struct world *w, const char *name, size_t *cap)
{
    const char *slash = strchr(name, '/');
    struct srouter *r;
    struct rp_config cfg;
    size_t i;

    for (i = 0; i < w->nrt; i++) {
        char both[160];

        snprintf(both, sizeof(both), "%s/%s", w->rt[i].cloud, w->rt[i].region);
        if (strcmp(both, name) == 0)
            return i;
    }
    w->rt = xgrow(w->rt, cap, w->nrt + 1, sizeof(*w->rt));
    r = &w->rt[w->nrt];
    memset(r, 0, sizeof(*r));
    snprintf(r->cloud, sizeof(r->cloud), "%.*s", slash ? (int)(slash - name) % 32 : 0, name);
    snprintf(r->region, sizeof(r->region), "%.95s", slash ? slash + 1 : name);
    r->cat = w->cat;
    memset(&cfg, 0, sizeof(cfg));
    cfg.policy = RP_NEAREST;
    /* `stratus router`'s defaults (cmd_router.c) */
    cfg.eject_after = 5;
    cfg.eject_base_s = 5;
    cfg.eject_max_s = 300;
    cfg.rtt = rtt_fn;
    cfg.rtt_ctx = NULL; /* set below: the array may still move */
    rp_set_init(&r->set, &cfg);
    return w->nrt++;
}

/* A uniform draw in [0, 1) from (seed, i): splitmix64. */
static double draw(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* The users' regions requests without one come from: the spec's users, else
 * the default mix of the trace converters. */
static int default_users(const struct world *w, struct reqtrace_user *u, size_t *n,
                         struct err *e)
{
    size_t i;

    if (w->sv->nusers == 0)
        return reqtrace_parse_users(reqtrace_default_users, u, n, e);
    *n = w->sv->nusers < REQTRACE_USERS_MAX ? w->sv->nusers : REQTRACE_USERS_MAX;
    for (i = 0; i < *n; i++) {
        snprintf(u[i].name, sizeof(u[i].name), "%s/%s", w->sv->users[i].cloud,
                 w->sv->users[i].region);
        u[i].share = w->sv->users[i].share;
    }
    return 0;
}

static const char *pick_user(const struct reqtrace_user *u, size_t n, double x)
{
    double acc = 0, tot = 0;
    size_t i;

    for (i = 0; i < n; i++)
        tot += u[i].share;
    for (i = 0; i < n; i++) {
        acc += u[i].share / tot;
        if (x < acc)
            return u[i].name;
    }
    return u[n - 1].name;
}

/* A router for every region requests come from; rt_of maps each request. */
static int routers_init(struct world *w, struct err *e)
{
    const struct reqtrace *rq = w->in->reqs;
    struct reqtrace_user users[REQTRACE_USERS_MAX];
    size_t nu = 0, cap = 0, i;
    int rc = default_users(w, users, &nu, e);

    if (rc != 0)
        return rc;
    w->rt_of = xcalloc(rq->n + 1, sizeof(*w->rt_of));
    for (i = 0; i < rq->n; i++) {
        const char *name = reqtrace_region(rq, i);

        if (name == NULL)
            name = pick_user(users, nu, draw(w->in->seed, i));
        w->rt_of[i] = (uint16_t)router_add(w, name, &cap);
    }
    for (i = 0; i < w->nrt; i++)
        w->rt[i].set.cfg.rtt_ctx = &w->rt[i];
    return 0;
}

/* The manager's replica set, given to every router (as a router in API
 * mode gets it by long poll). */
static int push_endpoints(struct world *w, struct err *e)
{
    uint64_t v = mgr_endpoints_version(w->mgr, w->svc);
    struct rp_doc doc;
    json_t *o;
    char *text;
    size_t i;
    int rc;

    if (v == w->ep_version)
        return 0;
    o = mgr_endpoints(w->mgr, w->svc, &v);
    if (o == NULL)
        return 0;
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    memset(&doc, 0, sizeof(doc));
    rc = rp_parse(text, strlen(text), "endpoints", &doc, e);
    free(text);
    if (rc != 0)
        return rc;
    for (i = 0; i < w->nrt; i++)
        rp_apply(&w->rt[i].set, &doc);
    rp_doc_clear(&doc);
    w->ep_version = v;
    return 0;
}

/* The router's live replica for job `job` (the one in the set, else a
 * removed one still holding requests). */
static struct rp_replica *router_rep(struct srouter *r, int64_t job)
{
    struct rp_replica *p, *removed = NULL;

    for (p = r->set.list; p; p = p->next) {
        if (p->id != job)
            continue;
        if (!p->removed)
            return p;
        if (p->inflight > 0)
            removed = p;
    }
    return removed;
}

/* ---- replica models ---- */

static struct smodel *model_of(struct world *w, int64_t job)
{
    size_t i;

    for (i = 0; i < w->nm; i++)
        if (w->m[i].job == job)
            return &w->m[i];
    return NULL;
}

/* The model's accelerator count: the attempt's, else the spec's. */
static int model_new(struct world *w, const struct store_attempt *a, struct err *e)
{
    struct serve_perf p;
    struct smodel *m;
    size_t i;
    int rc = serve_perf_lookup(a->accelerator, w->model, a->acc_count > 0 ? a->acc_count : w->n_accel,
                               &p, e);

    if (rc != 0)
        return err_set(e, rc, "%s: replica on %s x%d in %s/%s: %s", w->in->spec_path,
                       a->accelerator, a->acc_count, a->cloud, a->region, e->msg);
    w->m = xgrow(w->m, &w->m_cap, w->nm + 1, sizeof(*w->m));
    m = &w->m[w->nm];
    memset(m, 0, sizeof(*m));
    m->rp = rp_new(&p, e);
    if (m->rp == NULL)
        return e->code;
    m->job = a->job_id;
    m->att = a->id;
    m->running_at = a->running_at;
    snprintf(m->cloud, sizeof(m->cloud), "%s", a->cloud);
    snprintf(m->region, sizeof(m->region), "%s", a->region);
    m->rtt_s = xcalloc(w->nrt + 1, sizeof(double));
    for (i = 0; i < w->nrt; i++) {
        double ms = catalog_rtt_ms(w->cat, w->rt[i].cloud, w->rt[i].region, a->cloud, a->region,
                                   NULL);

        m->rtt_s[i] = ms > 0 ? ms / 1000 : 0;
    }
    m->seen = 1;
    w->nm++;
    return 0;
}

static void model_free(struct smodel *m)
{
    rp_free(m->rp);
    free(m->rtt_s);
}

/* ---- answers ---- */

static void answered(struct world *w, size_t i)
{
    (void)i;
    w->open--;
}

/* lost: 0 = never sent (no replica), 1 = cut at a replica, 2 = cut at a
 * replica whose drain ended (retired, not preempted). */
static void fail_req(struct world *w, size_t i, int lost)
{
    w->state[i] = RQ_FAILED;
    w->res->failed++;
    w->res->lost_retired += lost == 2;
    if (lost)
        w->res->lost++;
    else
        w->res->unrouted++;
    answered(w, i);
}

struct done_ctx {
    struct world *w;
    struct smodel *m;
};

/* A request finished at its replica: its user has the answer an RTT later. */
static void on_done(void *ctx, const struct rp_done *d)
{
    struct done_ctx *c = ctx;
    struct world *w = c->w;
    size_t i = (size_t)d->req.id;
    struct srouter *r = &w->rt[w->rt_of[i]];
    struct rp_replica *rr = router_rep(r, c->m->job);
    double rtt = c->m->rtt_s[w->rt_of[i]], t0 = arrival(w, i);
    double ttft = d->first_token_s - t0 + rtt, e2e = d->done_s - t0 + rtt;

    if (rr != NULL)
        rp_done(&r->set, rr, 1, d->done_s - d->req.arrival_s, d->done_s);
    w->state[i] = RQ_SERVED;
    w->ttft[w->nserved] = (float)ttft;
    w->e2e[w->nserved++] = (float)e2e;
    w->res->served++;
    if (w->res->slo_ms <= 0 || ttft * 1000 <= w->res->slo_ms)
        w->res->within_slo++;
    answered(w, i);
}

static void advance_all(struct world *w, double t)
{
    size_t i;

    for (i = 0; i < w->nm; i++) {
        struct done_ctx c = {w, &w->m[i]};

        if (rp_next_event_time(w->m[i].rp) <= t)
            rp_advance(w->m[i].rp, t, on_done, &c);
    }
}

/* ---- routing ---- */

/* Drop the served head of the wait queue (not while it is being drained:
 * drain_waits holds indexes into it). */
static void wait_compact(struct srouter *r)
{
    if (r->wait_head == 0 || r->wait_head * 2 < r->nwait)
        return; /* amortized: at most half of the queue moves */
    memmove(r->wait, r->wait + r->wait_head, (r->nwait - r->wait_head) * sizeof(*r->wait));
    memmove(r->wait_until, r->wait_until + r->wait_head,
            (r->nwait - r->wait_head) * sizeof(*r->wait_until));
    r->nwait -= r->wait_head;
    r->wait_head = 0;
}

static void wait_push(struct srouter *r, size_t i, double until)
{
    if (r->nwait == r->wait_cap) {
        size_t cap = r->wait_cap;

        r->wait = xgrow(r->wait, &cap, r->nwait + 1, sizeof(*r->wait));
        r->wait_until = xgrow(r->wait_until, &r->wait_cap, r->nwait + 1, sizeof(*r->wait_until));
    }
    r->wait[r->nwait] = i;
    r->wait_until[r->nwait++] = until;
}

/* Send request i from its router; 1 = sent, 0 = no replica can take it. */
static int send_req(struct world *w, size_t i, const uint64_t *tried, size_t ntried,
                    struct err *e)
{
    struct srouter *r = &w->rt[w->rt_of[i]];
    const struct reqtrace_req *q = &w->in->reqs->req[i];
    struct rp_request rq = {i, w->t, q->input_tokens, q->output_tokens ? q->output_tokens : 1};
    struct rp_replica *rr = rp_pick(&r->set, w->t, tried, ntried, NULL);
    struct smodel *m;

    if (rr == NULL)
        return 0;
    m = model_of(w, rr->id);
    if (m == NULL) {
        /* the set is behind the world (cannot happen: the set is pushed in
         * the round that sees a replica go); a refused connection */
        rp_done(&r->set, rr, 0, -1, w->t);
        return 0;
    }
    w->state[i] = RQ_AT_REPLICA;
    return rp_arrive(m->rp, w->t, &rq, e) == 0 ? 1 : -1;
}

/* Route request i (new, retried or waiting): sent, waiting, or refused. */
static int route(struct world *w, size_t i, const uint64_t *tried, size_t ntried,
                 double wait_until, struct err *e)
{
    struct srouter *r = &w->rt[w->rt_of[i]];
    int rc = send_req(w, i, tried, ntried, e);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (w->sv->reject_when_zero || w->t >= wait_until) {
        fail_req(w, i, 0);
        return 0;
    }
    if (w->state[i] != RQ_WAITING)
        r->waited++;
    w->state[i] = RQ_WAITING;
    wait_push(r, i, wait_until);
    return 0;
}

/* Waiting requests of every router: sent when a replica can take them now,
 * refused when their wait is over. */
static int drain_waits(struct world *w, struct err *e)
{
    size_t k;
    int rc = 0;

    for (k = 0; k < w->nrt && rc == 0; k++) {
        struct srouter *r = &w->rt[k];
        size_t end = r->nwait;

        while (rc == 0 && r->wait_head < end) {
            size_t i = r->wait[r->wait_head];
            double until = r->wait_until[r->wait_head];

            if (w->t < until && rp_nready(&r->set) == 0)
                break;
            r->wait_head++;
            rc = route(w, i, NULL, 0, until, e);
        }
        wait_compact(r);
    }
    return rc;
}

static double next_wait_deadline(const struct world *w)
{
    double t = INFINITY;
    size_t k;

    for (k = 0; k < w->nrt; k++)
        if (w->rt[k].wait_head < w->rt[k].nwait && w->rt[k].wait_until[w->rt[k].wait_head] < t)
            t = w->rt[k].wait_until[w->rt[k].wait_head];
    return t;
}

/* ---- the manager's hooks ---- */

static void hk_probe(void *ctx, int64_t job_id, const char *url, const struct svc_probe *p)
{
    struct world *w = ctx;

    (void)url;
    (void)p;
    w->asked = xgrow(w->asked, &w->asked_cap, w->nasked + 1, sizeof(*w->asked));
    w->asked[w->nasked++] = job_id;
}

/* Each replica its own port: routers key replicas by id and URL. */
static int hk_port(void *ctx, const struct store_job *j)
{
    (void)ctx;
    return 1024 + (int)(j->id % 60000);
}

static const char *hk_host(void *ctx, const struct store_attempt *a, int *emulated)
{
    (void)ctx;
    (void)a;
    *emulated = 1;
    return "127.0.0.1";
}

static void hk_wake(void *ctx)
{
    ((struct world *)ctx)->woken = 1;
}

/* The sim world answers a probe: the replica's attempt has run warmup_s. */
static void answer_probes(struct world *w)
{
    size_t i;

    for (i = 0; i < w->nasked; i++) {
        const struct smodel *m = model_of(w, w->asked[i]);

        mgr_probed(w->mgr, w->asked[i], m && w->t >= m->running_at + w->in->warmup_s, w->t);
    }
    w->nasked = 0;
}

/* ---- the control round ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void retry_push(struct world *w, size_t i)
{
    w->retry = xgrow(w->retry, &w->retry_cap, w->nretry + 1, sizeof(*w->retry));
    w->retry[w->nretry++] = i;
}

/* Replica model mi went away (preempted, cancelled): the requests at it
 * fail at their router; those whose first token was out are lost, the
 * others wait in w->retry for the round's new replica set. */
/* Did the attempt end other than by a preemption (its drain ended)? */
static int retired(struct world *w, int64_t att)
{
    struct store_attempt a;
    struct err e;
    int r = 0;

    err_clear(&e);
    if (store_attempt_get(w->st, att, &a, &e) == 0) {
        r = a.end_reason != ATT_END_PREEMPTED;
        store_attempt_clear(&a);
    }
    return r;
}

static void model_gone(struct world *w, size_t mi)
{
    struct smodel *m = &w->m[mi];
    struct done_ctx c = {w, m};
    struct rp_request *out = NULL;
    size_t n = 0, i, ns;
    uint64_t *ids;
    struct err e;
    int cut = 1 + retired(w, m->att);

    rp_advance(m->rp, w->t, on_done, &c);
    ns = rp_running(m->rp);
    ids = xcalloc(ns + 1, sizeof(*ids));
    ns = rp_streaming(m->rp, ids, ns);
    qsort(ids, ns, sizeof(*ids), cmp_u64);
    err_clear(&e);
    if (rp_abort_all(m->rp, w->t, &out, &n, &e) != 0)
        n = 0; /* cannot happen: advanced to now just above */
    for (i = 0; i < n; i++) {
        size_t q = (size_t)out[i].id;
        struct srouter *r = &w->rt[w->rt_of[q]];
        struct rp_replica *rr = router_rep(r, m->job);

        if (rr != NULL)
            rp_done(&r->set, rr, 0, -1, w->t);
        if (bsearch(&out[i].id, ids, ns, sizeof(*ids), cmp_u64) != NULL)
            fail_req(w, q, cut);
        else if (w->tries[q] >= SIM_SERVE_RETRIES)
            fail_req(w, q, cut);
        else {
            if (w->tries[q]++ == 0)
                w->res->retried++;
            w->state[q] = RQ_NEW;
            retry_push(w, q);
        }
    }
    free(out);
    free(ids);
    model_free(m);
    w->m[mi] = w->m[--w->nm];
}

/* Is (job, attempt) a running replica the world has a model of? */
static int model_seen(struct world *w, const struct store_job *j, struct err *e)
{
    struct store_attempt a;
    size_t i;
    int rc;

    for (i = 0; i < w->nm; i++)
        if (w->m[i].job == j->id && w->m[i].att == j->cur_attempt) {
            w->m[i].seen = 1;
            return 0;
        }
    if ((rc = store_attempt_get(w->st, j->cur_attempt, &a, e)) != 0)
        return rc;
    rc = a.state == ATT_RUNNING ? model_new(w, &a, e) : 0;
    store_attempt_clear(&a);
    return rc;
}

/* Bring the models in line with the replicas running in the store. */
static int sweep_models(struct world *w, struct err *e)
{
    struct store_job *v = NULL;
    size_t n = 0, i;
    int rc = store_replica_list(w->st, w->svc, 1, &v, &n, e);

    for (i = 0; i < w->nm; i++)
        w->m[i].seen = 0;
    for (i = 0; rc == 0 && i < n; i++) {
        if (v[i].id >= SIM_SERVE_MAX_JOBS - 1)
            rc = err_set(e, ST_ECAPACITY, "sim: the service made more than %d replica jobs",
                         SIM_SERVE_MAX_JOBS - 2);
        else if (v[i].state == JOB_RUNNING && v[i].cur_attempt != 0)
            rc = model_seen(w, &v[i], e);
    }
    store_jobs_free(v, n);
    for (i = w->nm; rc == 0 && i-- > 0;)
        if (!w->m[i].seen)
            model_gone(w, i);
    return rc;
}

/* Time with at least min_replicas READY (availability). */
static void note_ready(struct world *w)
{
    size_t i;
    int ready = 0, need = w->sv->min_replicas > 0 ? w->sv->min_replicas : 1;

    for (i = 0; i < w->nm; i++) {
        const char *st = mgr_replica_state(w->mgr, w->svc, w->m[i].job);

        ready += st != NULL && strcmp(st, "READY") == 0;
    }
    if (ready > w->res->max_ready)
        w->res->max_ready = ready;
    if (ready >= need && w->ready_since == 0)
        w->ready_since = w->t;
    if (ready < need && w->ready_since > 0) {
        w->ready_time += w->t - fmax(w->ready_since, w->in->t0);
        w->ready_since = 0;
    }
}

static double next_price(const struct world *w)
{
    const struct trace *p = w->in->prices;

    return p && w->kprice < p->nprices ? w->in->t0 + p->prices[w->kprice].time_s : INFINITY;
}

/* Controller step, manager round, the world's replicas, probes, the set
 * routers follow, then the requests that must be routed again.  *next:
 * seconds until the controller or the manager has work again. */
static int ctl_round(struct world *w, double *next, struct err *e)
{
    double snext = 3600, mnext = 3600;
    size_t i, n;
    int rc;

    sim_prices_due(w->cat, w->in->prices, w->in->t0, &w->kprice, w->t);
    w->woken = 0;
    if ((rc = sched_step(w->sched, &snext, e)) != 0 ||
        (rc = mgr_tick(w->mgr, w->t, &mnext, e)) != 0 || (rc = sweep_models(w, e)) != 0)
        return rc;
    answer_probes(w);
    if ((rc = push_endpoints(w, e)) != 0)
        return rc;
    note_ready(w);
    n = w->nretry;
    w->nretry = 0;
    for (i = 0; rc == 0 && i < n; i++) {
        size_t q = w->retry[i];

        rc = route(w, q, NULL, 0, w->t + w->sv->max_wait_s, e);
    }
    if (rc == 0)
        rc = drain_waits(w, e);
    w->res->rounds++;
    *next = fmin(snext, mnext);
    if (w->woken)
        sched_poke(w->sched);
    return rc;
}

/* ---- the event loop ---- */

static double next_model_event(const struct world *w)
{
    double t = INFINITY;
    size_t i;

    for (i = 0; i < w->nm; i++)
        t = fmin(t, rp_next_event_time(w->m[i].rp));
    return t;
}

static void report_load(struct world *w)
{
    size_t k;

    for (k = 0; k < w->nrt; k++) {
        struct srouter *r = &w->rt[k];
        char url[160];

        snprintf(url, sizeof(url), "http://router-%zu.sim", k);
        mgr_router_seen(w->mgr, w->svc, url, r->region, w->t);
        mgr_load(w->mgr, w->svc, r->arrived, r->waited, w->t);
        r->arrived = r->waited = 0;
    }
}

/* Arrivals due now, each routed by its router. */
static int arrivals(struct world *w, struct err *e)
{
    int rc = 0;

    while (rc == 0 && w->next_req < w->in->reqs->n && arrival(w, w->next_req) <= w->t) {
        size_t i = w->next_req++;

        w->open++;
        w->rt[w->rt_of[i]].arrived++;
        rc = route(w, i, NULL, 0, w->t + w->sv->max_wait_s, e);
    }
    return rc;
}

/* Consecutive control rounds at one instant before time must move (the
 * manager woke the controller; a guard against a round that always does). */
#define SAME_TIME_ROUNDS 4

/* Control rounds fall on a grid of SIM_SERVE_TICK_S (one for several
 * replicas' probe timers): the manager and the controller are asked late by
 * less than a tick, as a busy server's would be. */
static double grid(double t)
{
    return ceil(t / SIM_SERVE_TICK_S) * SIM_SERVE_TICK_S;
}

static int loop(struct world *w, struct err *e)
{
    double t_ctl = w->t, t_rep = w->in->t0, t;
    int same = 0, rc = 0;

    while (rc == 0 && (w->next_req < w->in->reqs->n || w->open > 0)) {
        double t_arr = w->next_req < w->in->reqs->n ? arrival(w, w->next_req) : INFINITY;

        t = fmin(fmin(t_arr, t_ctl), fmin(next_model_event(w), next_wait_deadline(w)));
        t = fmin(fmin(t, t_rep), next_price(w));
        if (t > w->t + 1e8)
            return err_set(e, ST_EINTERNAL, "sim: %zu requests open with nothing left to happen",
                           w->open);
        w->t = fmax(t, w->t);
        advance_all(w, w->t);
        if (w->t >= t_ctl || next_price(w) <= w->t) {
            double next = 0;

            if ((rc = ctl_round(w, &next, e)) != 0)
                break;
            same = w->woken && same < SAME_TIME_ROUNDS ? same + 1 : 0;
            t_ctl = same > 0 ? w->t : grid(w->t + fmax(next, 0.01));
        }
        if (w->t >= t_rep) {
            report_load(w);
            t_rep = w->t + SIM_SERVE_REPORT_S;
        }
        if ((rc = arrivals(w, e)) == 0)
            rc = drain_waits(w, e);
    }
    return rc;
}

/* ---- setting up ---- */

static int says_70b(const char *s)
{
    for (; *s; s++)
        if (s[0] == '7' && s[1] == '0' && (s[2] == 'b' || s[2] == 'B'))
            return 1;
    return 0;
}

/* The serve_perf model: --model, else the spec's MODEL variable (a 70B
 * name is the 70B class, anything else the 8B one), else 8B. */
static int model_name(struct world *w, const struct spec *sp, struct err *e)
{
    struct serve_perf p;
    const char *m = w->in->model;
    size_t i;
    int rc;

    for (i = 0; m == NULL && i < sp->nenvs; i++)
        if (strcmp(sp->envs[i].key, "MODEL") == 0 && sp->envs[i].value)
            m = says_70b(sp->envs[i].value) ? "llama-3.1-70b" : "llama-3.1-8b";
    snprintf(w->model, sizeof(w->model), "%s", m ? m : "llama-3.1-8b");
    w->n_accel = sp->res[0].acc_count > 0 ? sp->res[0].acc_count : 0;
    rc = serve_perf_lookup("H100", w->model, 0, &p, e);
    if (rc == ST_ENOTFOUND)
        return err_set(e, ST_EINVAL, "%s", e->msg);
    err_clear(e);
    return 0;
}

/* The service as `serve up` writes it. */
static int service_up(struct world *w, const struct spec *sp,
                      const struct sim_serve_policy *pol, struct err *e)
{
    struct store_service s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.name = xstrdup(sp->name);
    s.spec_path = xstrdup(w->in->spec_path);
    s.spec_text = xstrdup(w->in->spec_text);
    s.policy_text = pol->policy_text ? xstrdup(pol->policy_text) : NULL;
    s.version = 1;
    s.state = SVC_STARTING;
    s.reason = xstrdup("serve up: launching replicas");
    s.created_at = s.updated_at = w->t;
    s.target = sp->service->min_replicas;
    rc = store_service_insert(w->st, &s, e);
    w->svc = s.id;
    store_service_clear(&s);
    return rc;
}

/* ---- the results ---- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

static void percentiles(float *v, size_t n, double out[3])
{
    static const double q[3] = {0.50, 0.90, 0.99};
    int k;

    qsort(v, n, sizeof(*v), cmp_float);
    for (k = 0; k < 3; k++)
        out[k] = n ? v[(size_t)ceil(q[k] * (double)n) - 1] : 0;
}

/* One attempt's cost and hours, up to `end` for those still running. */
static void attempt_add(const struct store_attempt *a, double end, struct sim_serve_result *res)
{
    double stop = a->ended_at > 0 ? a->ended_at : end;
    double cost = a->ended_at > 0 ? a->cost : store_attempt_cost_at(a, end);
    double h = a->running_at > 0 && stop > a->running_at ? (stop - a->running_at) / 3600 : 0;

    res->cost += cost;
    res->cost_by_cloud[sim_cloud_index(a->cloud)] += cost;
    if (a->mode == PLAN_SPOT) {
        res->spot_cost += cost;
        res->spot_replica_hours += h;
    } else {
        res->ondemand_cost += cost;
    }
    res->replica_hours += h;
    res->preemptions += a->end_reason == ATT_END_PREEMPTED;
}

static int collect(struct world *w, struct err *e)
{
    struct sim_serve_result *res = w->res;
    struct store_job *v = NULL;
    int64_t after = 0;
    size_t i, n;
    int rc;

    do {
        struct store_attempt *a = NULL;

        if ((rc = store_attempt_page(w->st, after, 4096, &a, &n, e)) != 0)
            return rc;
        for (i = 0; i < n; i++)
            attempt_add(&a[i], w->t, res);
        after = n ? a[n - 1].id : after;
        store_attempts_free(a, n);
    } while (n == 4096);
    if ((rc = store_replica_list(w->st, w->svc, 0, &v, &n, e)) != 0)
        return rc;
    res->replicas_launched = (long)n;
    store_jobs_free(v, n);
    percentiles(w->ttft, w->nserved, res->ttft_s);
    percentiles(w->e2e, w->nserved, res->e2e_s);
    if (w->ready_since > 0)
        w->ready_time += w->t - fmax(w->ready_since, w->in->t0);
    res->min_ready_share = w->t > w->in->t0 ? w->ready_time / (w->t - w->in->t0) : 0;
    res->span_s = w->t - (w->in->t0 - w->in->lead_s);
    return 0;
}

/* ---- one run ---- */

static void world_free(struct world *w)
{
    size_t i;

    for (i = 0; i < w->nm; i++)
        model_free(&w->m[i]);
    for (i = 0; i < w->nrt; i++) {
        rp_set_free(&w->rt[i].set);
        free(w->rt[i].wait);
        free(w->rt[i].wait_until);
    }
    free(w->m);
    free(w->rt);
    free(w->rt_of);
    free(w->asked);
    free(w->state);
    free(w->tries);
    free(w->ttft);
    free(w->e2e);
    free(w->retry);
}

/* The controller over the sim driver, the manager, the service, then the
 * loop; st and drv are the caller's (opened, closed there). */
static int run_world(struct world *w, const struct spec *sp, const struct sim_serve_policy *pol,
                     struct driver *drv, struct err *e)
{
    struct sched_params p;
    struct mgr_hooks h = {w, hk_probe, hk_port, hk_host, hk_wake, w->cat};
    int rc;

    memset(&p, 0, sizeof(p));
    p.store = w->st;
    p.driver = drv;
    p.cat = w->cat;
    p.clock = &w->clk;
    sched_config_default(&p.cfg);
    p.cfg.relaunch_overhead_s = w->in->launch_delay_s;
    p.cfg.ckpt_root = NULL;
    p.cfg.only_when_poked = 1;
    if ((rc = mgr_open(&w->mgr, w->st, &h, e)) != 0)
        return rc;
    p.replica_may_use = mgr_replica_may_use;
    p.replica_event = mgr_replica_event;
    p.replica_ctx = w->mgr;
    if ((rc = service_up(w, sp, pol, e)) == 0 && (rc = sched_open(&w->sched, &p, e)) == 0) {
        rc = loop(w, e);
        if (rc == 0)
            rc = collect(w, e);
        sched_close(w->sched);
    }
    mgr_close(w->mgr);
    return rc;
}

static void routing_of(struct world *w, const struct sim_serve_policy *pol)
{
    int r = pol->routing;
    size_t i;

    if (r < 0)
        r = w->sv->lb_policy == NULL || strcmp(w->sv->lb_policy, "nearest") == 0 ? RP_NEAREST
                                                                                : RP_LEAST_LOAD;
    for (i = 0; i < w->nrt; i++)
        w->rt[i].set.cfg.policy = (enum rp_policy)r;
}

static int open_world(struct world *w, struct err *e)
{
    size_t n = w->in->reqs->n + 1;
    int rc = routers_init(w, e);

    if (rc != 0)
        return rc;
    w->state = xcalloc(n, 1);
    w->tries = xcalloc(n, 1);
    w->ttft = xcalloc(n, sizeof(float));
    w->e2e = xcalloc(n, sizeof(float));
    return 0;
}

/* The service spec, which must have a `service:` section; its model. */
static int spec_open(struct world *w, struct spec **sp, struct err *e)
{
    const struct sim_serve_input *in = w->in;
    int rc = spec_load_mem(sp, in->spec_path, in->spec_text, strlen(in->spec_text), e);

    if (rc != 0)
        return rc;
    if ((*sp)->service == NULL)
        return err_set(e, ST_EINVAL, "%s: the spec has no 'service:' section (simulate "
                       "--service needs one: readiness_probe, replicas)", in->spec_path);
    w->sv = (*sp)->service;
    w->res->slo_ms = w->sv->latency_slo_ms;
    return model_name(w, *sp, e);
}

static double vclock_now(void *ctx)
{
    return ((const struct world *)ctx)->t;
}

int sim_serve_run(const struct sim_serve_input *in, const struct sim_serve_policy *pol,
                  struct sim_serve_result *res, struct err *e)
{
    size_t noff = catalog_noffers(in->cat), i;
    struct sim_jobinfo *jobs = xcalloc(SIM_SERVE_MAX_JOBS, sizeof(*jobs));
    long *od = xcalloc(noff + 1, sizeof(long)), *spc = xcalloc(noff + 1, sizeof(long));
    struct sim_world sw = {in->cat, in->od_cap ? in->od_cap : od, in->spot_cap ? in->spot_cap : spc,
                           in->spot, in->t0, in->launch_delay_s, jobs, SIM_SERVE_MAX_JOBS};
    struct driver_config dcfg;
    struct world w;
    struct spec *sp = NULL;
    struct driver drv;
    double wall0 = clock_mono(), *saved = catalog_prices_save(in->cat);
    int rc;

    memset(&w, 0, sizeof(w));
    memset(res, 0, sizeof(*res));
    snprintf(res->name, sizeof(res->name), "%s", pol->name);
    w.in = in;
    w.res = res;
    w.cat = in->cat;
    w.t = in->t0 - in->lead_s;
    w.clk = (struct clock){vclock_now, &w};
    res->requests = in->reqs->n;
    for (i = 0; i < noff; i++)
        od[i] = spc[i] = SIM_SERVE_NODES;
    /* replicas serve until stopped: no job of theirs ever finishes its work */
    for (i = 0; i < SIM_SERVE_MAX_JOBS; i++)
        jobs[i].duration_s = 1e12;
    memset(&dcfg, 0, sizeof(dcfg));
    dcfg.cat = in->cat;
    dcfg.clock = &w.clk;
    dcfg.world = &sw;
    dcfg.seed = in->seed;
    rc = spec_open(&w, &sp, e);
    if (rc == 0 && (rc = open_world(&w, e)) == 0) {
        routing_of(&w, pol);
        if ((rc = store_open(&w.st, "mem:", e)) == 0 &&
            (rc = driver_open(&drv, &driver_sim, &dcfg, e)) == 0) {
            rc = run_world(&w, sp, pol, &drv, e);
            driver_close(&drv);
        }
        store_close(w.st);
    }
    world_free(&w);
    spec_free(sp);
    free(jobs);
    free(od);
    free(spc);
    catalog_prices_restore(in->cat, saved);
    res->wall_s = clock_mono() - wall0;
    return rc;
}
