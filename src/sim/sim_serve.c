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
#include "../policy/policy.h"
#include "../router/pick.h"
#include "../sched/sched.h"
#include "../serve/autoscale.h"
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

const char *const sim_serve_kind_names[SSP_NKINDS] = {"stratus", "ondemand", "spot-only",
                                                      "skyserve-like"};

int sim_serve_kind_parse(const char *name)
{
    int k;

    for (k = 0; k < SSP_NKINDS; k++)
        if (strcmp(name, sim_serve_kind_names[k]) == 0)
            return k;
    return -1;
}

/* ---- the world's pieces ---- */

/* Entries of a router's cache of its replicas by job id (a power of 2). */
#define RCACHE 256

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
    /* router_rep's answers for live replicas, valid while `epoch` is (it
     * moves at each rp_apply, the only change to which replicas are live) */
    struct { int64_t job; struct rp_replica *p; uint64_t epoch; } rcache[RCACHE];
    uint64_t epoch;
};

/* The serving model of one running attempt of a replica job. */
struct smodel {
    int64_t job, att;
    struct replica *rp;
    char cloud[32], region[96];
    double running_at;
    double *rtt_s;           /* per router: round trip to its users */
    int seen;
    size_t hpos;             /* its place in world.mheap */
};

/* An entry of the models' heap: a model and its next event time. */
struct mslot {
    double t;                /* rp_next_event_time() of its replica */
    size_t mi;               /* index in world.m */
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
    struct mslot *mheap;     /* the models, a min-heap on t (nm of them) */
    uint32_t *m_of_job;      /* job id -> its model's index + 1; 0 = none */
    size_t *mdue;            /* advance_all's scratch (m_cap of them) */
    int jobs_changed;        /* a replica job changed since the last sweep */
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
    /* the policy */
    int kind;                /* enum sim_serve_kind */
    char *policy_text;       /* the org policy the service runs under (owned) */
    uint32_t *served_req;    /* per served request (answer order): its index,
                                for the series; NULL when none are asked */
};

static double rtt_fn(void *ctx, const char *cloud, const char *region)
{
    const struct srouter *r = ctx;

    return catalog_rtt_ms(r->cat, r->cloud, r->region, cloud, region, NULL);
}

/* The size a router sees of request i: its body, the prompt as text
 * (about 4 bytes a token). */
static double req_bytes(const struct world *w, size_t i)
{
    return 4.0 * w->in->reqs->req[i].input_tokens;
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

static size_t pick_user(const struct reqtrace_user *u, size_t n, double x)
{
    double acc = 0, tot = 0;
    size_t i;

    for (i = 0; i < n; i++)
        tot += u[i].share;
    for (i = 0; i < n; i++) {
        acc += u[i].share / tot;
        if (x < acc)
            return i;
    }
    return n - 1;
}

/* A router for every region requests come from; rt_of maps each request.
 * A name is looked up once per trace region and per users' region, not
 * per request (a week is 30 M of them): rt_by[k] is the router of trace
 * region k (1..nregions), rt_by[nregions + 1 + u] that of user u. */
static int routers_init(struct world *w, struct err *e)
{
    const struct reqtrace *rq = w->in->reqs;
    struct reqtrace_user users[REQTRACE_USERS_MAX];
    size_t nu = 0, cap = 0, i, *rt_by;
    int rc = default_users(w, users, &nu, e);

    if (rc != 0)
        return rc;
    rt_by = xmalloc((rq->nregions + 1 + nu) * sizeof(*rt_by));
    for (i = 0; i < rq->nregions + 1 + nu; i++)
        rt_by[i] = SIZE_MAX;
    w->rt_of = xcalloc(rq->n + 1, sizeof(*w->rt_of));
    for (i = 0; i < rq->n; i++) {
        size_t k = rq->region ? rq->region[i] : 0;
        const char *name = k ? rq->regions[k - 1] : NULL;

        if (k == 0) {
            k = pick_user(users, nu, draw(w->in->seed, i));
            name = users[k].name;
            k += rq->nregions + 1;
        }
        if (rt_by[k] == SIZE_MAX)
            rt_by[k] = router_add(w, name, &cap);
        w->rt_of[i] = (uint16_t)rt_by[k];
    }
    free(rt_by);
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
    for (i = 0; i < w->nrt; i++) {
        rp_apply(&w->rt[i].set, &doc);
        w->rt[i].epoch++;
    }
    rp_doc_clear(&doc);
    w->ep_version = v;
    return 0;
}

/* The router's live replica for job `job` (the one in the set, else a
 * removed one still holding requests). */
static struct rp_replica *router_rep(struct srouter *r, int64_t job)
{
    struct rp_replica *p, *removed = NULL;
    size_t k = (size_t)job & (RCACHE - 1);

    /* A live replica stays live, and is not freed (pick.c frees removed
     * ones only), until the next rp_apply: answered per request, the walk
     * below was a tenth of a week's run. */
    if (r->rcache[k].p != NULL && r->rcache[k].job == job && r->rcache[k].epoch == r->epoch)
        return r->rcache[k].p;
    for (p = r->set.list; p; p = p->next) {
        if (p->id != job)
            continue;
        if (!p->removed) {
            r->rcache[k].job = job;
            r->rcache[k].p = p;
            r->rcache[k].epoch = r->epoch;
            return p;
        }
        if (p->inflight > 0)
            removed = p;
    }
    return removed;
}

/* ---- replica models ----
 *
 * The models are kept in a min-heap on their next event time (w->mheap
 * holds (time, index into w->m); each model knows its place in it): the
 * loop asks for the earliest at every event, and only the models an event
 * touched move (scanning them all was a quarter of a week's run).
 * w->m_of_job finds a job's model at once (routing asks per request).
 */

static struct smodel *model_of(struct world *w, int64_t job)
{
    uint32_t k = w->m_of_job && job >= 0 && job < SIM_SERVE_MAX_JOBS ? w->m_of_job[job] : 0;

    return k ? &w->m[k - 1] : NULL;
}

static void mheap_set(struct world *w, size_t pos, struct mslot x)
{
    w->mheap[pos] = x;
    w->m[x.mi].hpos = pos;
}

/* Restore the heap at position pos, whose key changed. */
static void mheap_fix(struct world *w, size_t pos)
{
    struct mslot x = w->mheap[pos];

    while (pos > 0 && x.t < w->mheap[(pos - 1) / 2].t) {
        mheap_set(w, pos, w->mheap[(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * pos + 1;

        if (c >= w->nm)
            break;
        if (c + 1 < w->nm && w->mheap[c + 1].t < w->mheap[c].t)
            c++;
        if (!(w->mheap[c].t < x.t))
            break;
        mheap_set(w, pos, w->mheap[c]);
        pos = c;
    }
    mheap_set(w, pos, x);
}

/* Model mi's replica changed: its next event time and place in the heap. */
static void model_touched(struct world *w, size_t mi)
{
    size_t pos = w->m[mi].hpos;

    w->mheap[pos].t = rp_next_event_time(w->m[mi].rp);
    mheap_fix(w, pos);
}

/* Take model mi (freed) out of the heap and the array, whose last model
 * moves into its place (the order sweep_models and the results rely on). */
static void model_drop(struct world *w, size_t mi)
{
    size_t pos = w->m[mi].hpos, last = w->nm - 1;

    if (w->m_of_job[w->m[mi].job] == mi + 1)
        w->m_of_job[w->m[mi].job] = 0;
    w->nm--;
    if (pos != last) {
        mheap_set(w, pos, w->mheap[last]);
        mheap_fix(w, pos);
    }
    if (mi != last) {
        w->m[mi] = w->m[last];
        w->mheap[w->m[mi].hpos].mi = mi;
        if (w->m_of_job[w->m[mi].job] == last + 1)
            w->m_of_job[w->m[mi].job] = (uint32_t)mi + 1;
    }
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
    if (w->nm == w->m_cap) {
        w->m = xgrow(w->m, &w->m_cap, w->nm + 1, sizeof(*w->m));
        w->mheap = xrealloc(w->mheap, w->m_cap * sizeof(*w->mheap));
        w->mdue = xrealloc(w->mdue, w->m_cap * sizeof(*w->mdue));
    }
    if (w->m_of_job == NULL)
        w->m_of_job = xcalloc(SIM_SERVE_MAX_JOBS, sizeof(*w->m_of_job));
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
    w->m_of_job[m->job] = (uint32_t)++w->nm;
    mheap_set(w, w->nm - 1, (struct mslot){rp_next_event_time(m->rp), w->nm - 1});
    mheap_fix(w, w->nm - 1);
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
        rp_done_work(&r->set, rr, 1, d->done_s - d->req.arrival_s, req_bytes(w, i), d->done_s);
    w->state[i] = RQ_SERVED;
    if (w->served_req != NULL)
        w->served_req[w->nserved] = (uint32_t)i;
    w->ttft[w->nserved] = (float)ttft;
    w->e2e[w->nserved++] = (float)e2e;
    w->res->served++;
    if (w->res->slo_ms <= 0 || ttft * 1000 <= w->res->slo_ms)
        w->res->within_slo++;
    answered(w, i);
}

/* Run every model with an event due by t up to t, each once (an event
 * that rounding leaves at t exactly waits for the next pass, as arrivals
 * at t come first).  The due models are the heap's top subtree of keys
 * <= t; their answers touch routers, never another model, so their order
 * does not matter. */
static void advance_all(struct world *w, double t)
{
    size_t n = 0, k;

    if (w->nm > 0 && w->mheap[0].t <= t)
        w->mdue[n++] = 0;
    for (k = 0; k < n; k++) {
        size_t c = 2 * w->mdue[k] + 1;

        if (c < w->nm && w->mheap[c].t <= t)
            w->mdue[n++] = c;
        if (c + 1 < w->nm && w->mheap[c + 1].t <= t)
            w->mdue[n++] = c + 1;
    }
    for (k = 0; k < n; k++)
        w->mdue[k] = w->mheap[w->mdue[k]].mi; /* positions -> models */
    for (k = 0; k < n; k++) {
        struct done_ctx c = {w, &w->m[w->mdue[k]]};

        rp_advance(c.m->rp, t, on_done, &c);
        model_touched(w, w->mdue[k]);
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
    struct rp_replica *rr = rp_pick_work(&r->set, w->t, tried, ntried, req_bytes(w, i), NULL);
    struct smodel *m;

    if (rr == NULL)
        return 0;
    m = model_of(w, rr->id);
    if (m == NULL) {
        /* the set is behind the world (cannot happen: the set is pushed in
         * the round that sees a replica go); a refused connection */
        rp_done_work(&r->set, rr, 0, -1, req_bytes(w, i), w->t);
        return 0;
    }
    w->state[i] = RQ_AT_REPLICA;
    if (rp_arrive(m->rp, w->t, &rq, e) != 0)
        return -1;
    model_touched(w, (size_t)(m - w->m));
    return 1;
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

/* Forget where the users are: placement blind to them (the baselines that
 * do not place near users; the results still use the spec's own shares). */
static void users_forget(struct svc_spec *sv)
{
    size_t i;

    for (i = 0; i < sv->nusers; i++) {
        free(sv->users[i].cloud);
        free(sv->users[i].region);
    }
    free(sv->users);
    sv->users = NULL;
    sv->nusers = 0;
}

/* The policy's changes to how the manager runs the service (sim_serve.h
 * says what each kind is). */
static void hk_adjust(void *ctx, struct spec *sp, struct as_config *cfg)
{
    const struct world *w = ctx;

    switch (w->kind) {
    case SSP_ONDEMAND:
        cfg->use_spot = 0; /* its org policy forbids spot as well */
        break;
    case SSP_SPOT_ONLY:
        cfg->use_spot = 1;
        cfg->base_ondemand = 0;
        cfg->dynamic_ondemand = 0;
        cfg->overprovision = 0;
        users_forget(sp->service);
        break;
    case SSP_SKYSERVE:
        /* SkyServe's spot placer keeps one spot replica beyond the target
         * (sky/serve/spot_placer.py, _DEFAULT_OVER_PROVISION_NUM) and its
         * autoscaler (sky/serve/autoscalers.py) changes the count only after
         * a whole delay of consecutive readings on the same side of it,
         * to the latest reading's count: agree = 1, pick_latest */
        cfg->overprovision = cfg->use_spot ? 1 : 0;
        cfg->agree = 1.0;
        cfg->pick_latest = 1;
        users_forget(sp->service);
        break;
    default:
        break;
    }
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
            rp_done_work(&r->set, rr, 0, -1, req_bytes(w, q), w->t);
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
    model_drop(w, mi);
}

/* Is (job, attempt) a running replica the world has a model of? */
static int model_seen(struct world *w, const struct store_job *j, struct err *e)
{
    struct store_attempt a;
    struct smodel *m = model_of(w, j->id);
    int rc;

    if (m != NULL && m->att == j->cur_attempt) {
        m->seen = 1;
        return 0;
    }
    if ((rc = store_attempt_get(w->st, j->cur_attempt, &a, e)) != 0)
        return rc;
    rc = a.state == ATT_RUNNING ? model_new(w, &a, e) : 0;
    store_attempt_clear(&a);
    return rc;
}

/* The controller's hooks for replica jobs, the manager's, through the
 * world: every change of a replica job's state is one of these events
 * (sched.c logs each transition), so a round without one has nothing for
 * sweep_models to find. */
static int hk_may_use(void *ctx, const struct store_job *j, const struct offer *o, int mode)
{
    return mgr_replica_may_use(((struct world *)ctx)->mgr, j, o, mode);
}

static void hk_replica_event(void *ctx, const struct store_job *j, const char *type)
{
    struct world *w = ctx;

    w->jobs_changed = 1;
    mgr_replica_event(w->mgr, j, type);
}

/* Bring the models in line with the replicas running in the store (when a
 * replica job changed: listing them each round was a tenth of a week's
 * run). */
static int sweep_models(struct world *w, struct err *e)
{
    struct store_job *v = NULL;
    size_t n = 0, i;
    int rc;

    if (!w->jobs_changed)
        return 0;
    w->jobs_changed = 0;
    rc = store_replica_list(w->st, w->svc, 1, &v, &n, e);
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
    return w->nm > 0 ? w->mheap[0].t : INFINITY;
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

/* The smaller of two times (never NaN here); unlike fmin, inlined: the
 * loop takes six per event. */
static double tmin(double a, double b)
{
    return b < a ? b : a;
}

static int loop(struct world *w, struct err *e)
{
    double t_ctl = w->t, t_rep = w->in->t0, t;
    int same = 0, rc = 0;

    w->jobs_changed = 1;
    while (rc == 0 && (w->next_req < w->in->reqs->n || w->open > 0)) {
        double t_arr = w->next_req < w->in->reqs->n ? arrival(w, w->next_req) : INFINITY;

        t = tmin(tmin(t_arr, t_ctl), tmin(next_model_event(w), next_wait_deadline(w)));
        t = tmin(tmin(t, t_rep), next_price(w));
        if (t > w->t + 1e8)
            return err_set(e, ST_EINTERNAL, "sim: %zu requests open with nothing left to happen",
                           w->open);
        w->t = t > w->t ? t : w->t;
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

/* The serve_perf model class: in->model, else the spec's MODEL variable,
 * else 8B. */
static int pick_model(const struct sim_serve_input *in, const struct spec *sp, char *out,
                      size_t n, struct err *e)
{
    struct serve_perf p;
    const char *m = in->model;
    size_t i;

    for (i = 0; m == NULL && i < sp->nenvs; i++)
        if (strcmp(sp->envs[i].key, "MODEL") == 0 && sp->envs[i].value)
            m = says_70b(sp->envs[i].value) ? "llama-3.1-70b" : "llama-3.1-8b";
    snprintf(out, n, "%s", m ? m : "llama-3.1-8b");
    if (serve_perf_lookup("H100", out, 0, &p, e) == ST_ENOTFOUND)
        return err_set(e, ST_EINVAL, "%s", e->msg);
    err_clear(e);
    return 0;
}

int sim_serve_spec(const struct sim_serve_input *in, struct spec **sp, char *model, size_t n,
                   struct err *e)
{
    int rc = spec_load_mem(sp, in->spec_path, in->spec_text, strlen(in->spec_text), e);

    if (rc != 0)
        return rc;
    if ((*sp)->service == NULL)
        return err_set(e, ST_EINVAL, "%s: the spec has no 'service:' section (simulate "
                       "--service needs one: readiness_probe, replicas)", in->spec_path);
    return pick_model(in, *sp, model, n, e);
}

/* The service as `serve up` writes it. */
static int service_up(struct world *w, const struct spec *sp, struct err *e)
{
    struct store_service s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.name = xstrdup(sp->name);
    s.spec_path = xstrdup(w->in->spec_path);
    s.spec_text = xstrdup(w->in->spec_text);
    s.policy_text = w->policy_text ? xstrdup(w->policy_text) : NULL;
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

static float median3(float a, float b, float c)
{
    if (a < b)
        return b < c ? b : a < c ? c : a;
    return a < c ? a : b < c ? c : b;
}

static void swap_f(float *v, size_t i, size_t j)
{
    float x = v[i];

    v[i] = v[j];
    v[j] = x;
}

/* Put the value of rank k of v[lo, hi) at v[k], no larger ones before it
 * and no smaller ones after (quickselect, linear on average; a three-way
 * partition keeps ties cheap; past a depth only crafted inputs reach, the
 * range is sorted instead). */
static void select_kth(float *v, size_t lo, size_t hi, size_t k)
{
    int depth = 128;

    while (hi - lo > 1) {
        float p = median3(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
        size_t lt = lo, i = lo, gt = hi;

        if (depth-- == 0) {
            qsort(v + lo, hi - lo, sizeof(*v), cmp_float);
            return;
        }
        while (i < gt) {
            if (v[i] < p)
                swap_f(v, lt++, i++);
            else if (v[i] > p)
                swap_f(v, i, --gt);
            else
                i++;
        }
        if (k < lt)
            hi = lt; /* [lo, lt) < p, [lt, gt) == p, [gt, hi) > p */
        else if (k >= gt)
            lo = gt;
        else
            return;
    }
}

/* P50, P90, P99 of v: v[ceil(q n) - 1] of the sorted values (v is
 * reordered, not sorted: each rank is selected in the part above the last). */
static void percentiles(float *v, size_t n, double out[3])
{
    static const double q[3] = {0.50, 0.90, 0.99};
    size_t lo = 0, at;
    int k;

    for (k = 0; k < 3; k++) {
        out[k] = 0;
        if (n == 0)
            continue;
        at = (size_t)ceil(q[k] * (double)n) - 1;
        select_kth(v, lo, n, at);
        out[k] = v[at];
        lo = at;
    }
}

/* ---- the series over time (for the chart) ---- */

/* Buckets: whole minutes, at most SERIES_MAX of them over the run. */
#define SERIES_MAX 240

static void series_init(struct world *w)
{
    struct sim_serve_result *res = w->res;
    const struct reqtrace *q = w->in->reqs;
    double t0 = w->in->t0 - w->in->lead_s, span = w->t - t0;
    double trace_s = w->in->lead_s + (q->n ? q->req[q->n - 1].arrival_s : 0);
    size_t i, n;

    /* the width from the trace alone: every policy's chart shares it */
    res->bucket_s = 60 * fmax(1, ceil(trace_s / SERIES_MAX / 60));
    res->nbuckets = n = (size_t)fmax(1, ceil(span / res->bucket_s));
    res->t_start_s = -w->in->lead_s;
    res->replicas = xcalloc(SIM_NCLOUDS * n, sizeof(double));
    res->usd = xcalloc(SIM_NCLOUDS * n, sizeof(double));
    res->spot = xcalloc(n, sizeof(double));
    res->ttft = xmalloc(3 * n * sizeof(double));
    res->e2e = xmalloc(3 * n * sizeof(double));
    for (i = 0; i < 3 * n; i++)
        res->ttft[i] = res->e2e[i] = NAN;
}

/* Add `total` to the buckets of row over [from, to), in proportion to the
 * time each bucket holds of it. */
static void spread(const struct world *w, double *row, double from, double to, double total)
{
    const struct sim_serve_result *res = w->res;
    double t0 = w->in->t0 - w->in->lead_s, b = res->bucket_s;
    size_t k;

    if (!(to > from))
        return;
    for (k = (size_t)fmax(0, floor((from - t0) / b)); k < res->nbuckets; k++) {
        double lo = fmax(from, t0 + (double)k * b), hi = fmin(to, t0 + (double)(k + 1) * b);

        if (hi <= lo)
            break;
        row[k] += total * (hi - lo) / (to - from);
    }
}

/* One attempt in the series: a replica while it ran (a bucket's value is
 * the mean count over it), its cost spread evenly from its launch. */
static void series_attempt(struct world *w, const struct store_attempt *a, double cost)
{
    struct sim_serve_result *res = w->res;
    double to = a->ended_at > 0 ? a->ended_at : w->t, run = a->running_at;
    double from = a->launched_at > 0 ? a->launched_at : run;
    size_t row = (size_t)sim_cloud_index(a->cloud) * res->nbuckets;

    if (from > 0)
        spread(w, res->usd + row, from, to, cost);
    if (run > 0 && to > run) {
        spread(w, res->replicas + row, run, to, (to - run) / res->bucket_s);
        if (a->mode == PLAN_SPOT)
            spread(w, res->spot, run, to, (to - run) / res->bucket_s);
    }
}

/* Percentiles of each bucket's served requests (by arrival), before the
 * whole run's are taken (which sorts the values in place). */
static void series_latency(struct world *w)
{
    struct sim_serve_result *res = w->res;
    size_t n = res->nbuckets, i, k, *start = xcalloc(n + 1, sizeof(size_t));
    float *v = xmalloc((w->nserved + 1) * sizeof(float) * 2), *u = v + w->nserved;
    double t0 = w->in->t0 - w->in->lead_s;

    for (i = 0; i < w->nserved; i++) {
        k = (size_t)fmin((double)n - 1, floor((arrival(w, w->served_req[i]) - t0) / res->bucket_s));
        start[k + 1]++;
    }
    for (k = 0; k < n; k++)
        start[k + 1] += start[k];
    for (i = 0; i < w->nserved; i++) {
        k = (size_t)fmin((double)n - 1, floor((arrival(w, w->served_req[i]) - t0) / res->bucket_s));
        v[start[k]] = w->ttft[i];
        u[start[k]++] = w->e2e[i];
    }
    for (k = n; k > 0; k--)
        start[k] = start[k - 1];
    start[0] = 0;
    for (k = 0; k < n; k++) {
        double p[3];
        size_t m = start[k + 1] - start[k];

        if (m == 0)
            continue;
        percentiles(v + start[k], m, p);
        res->ttft[k] = p[0], res->ttft[n + k] = p[1], res->ttft[2 * n + k] = p[2];
        percentiles(u + start[k], m, p);
        res->e2e[k] = p[0], res->e2e[n + k] = p[1], res->e2e[2 * n + k] = p[2];
    }
    free(start);
    free(v);
}

/* The last bucket is cut short by the end of the run: its replica counts
 * are means over what it holds, not over a whole bucket; then latency. */
static void series_finish(struct world *w)
{
    struct sim_serve_result *res = w->res;
    size_t n = res->nbuckets, c;
    double held = w->t - (w->in->t0 - w->in->lead_s) - (double)(n - 1) * res->bucket_s;

    if (held > 0 && held < res->bucket_s) {
        for (c = 0; c < SIM_NCLOUDS; c++)
            res->replicas[c * n + n - 1] *= res->bucket_s / held;
        res->spot[n - 1] *= res->bucket_s / held;
    }
    series_latency(w);
}

void sim_serve_result_free(struct sim_serve_result *res)
{
    free(res->replicas);
    free(res->spot);
    free(res->usd);
    free(res->ttft);
    free(res->e2e);
    res->replicas = res->spot = res->usd = res->ttft = res->e2e = NULL;
    res->nbuckets = 0;
}

/* One attempt's cost and hours, up to `end` for those still running. */
static void attempt_add(struct world *w, const struct store_attempt *a, double end,
                        struct sim_serve_result *res)
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
    if (w->served_req != NULL)
        series_attempt(w, a, cost);
}

static int collect(struct world *w, struct err *e)
{
    struct sim_serve_result *res = w->res;
    struct store_job *v = NULL;
    int64_t after = 0;
    size_t i, n;
    int rc;

    if (w->served_req != NULL)
        series_init(w);
    do {
        struct store_attempt *a = NULL;

        if ((rc = store_attempt_page(w->st, after, 4096, &a, &n, e)) != 0)
            return rc;
        for (i = 0; i < n; i++)
            attempt_add(w, &a[i], w->t, res);
        after = n ? a[n - 1].id : after;
        store_attempts_free(a, n);
    } while (n == 4096);
    if ((rc = store_replica_list(w->st, w->svc, 0, &v, &n, e)) != 0)
        return rc;
    res->replicas_launched = (long)n;
    store_jobs_free(v, n);
    if (w->served_req != NULL)
        series_finish(w);
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
    free(w->mheap);
    free(w->mdue);
    free(w->m_of_job);
    free(w->rt);
    free(w->rt_of);
    free(w->asked);
    free(w->state);
    free(w->tries);
    free(w->ttft);
    free(w->e2e);
    free(w->retry);
    free(w->policy_text);
    free(w->served_req);
}

/* The controller over the sim driver, the manager, the service, then the
 * loop; st and drv are the caller's (opened, closed there). */
static int run_world(struct world *w, const struct spec *sp, struct driver *drv,
                     struct err *e)
{
    struct sched_params p;
    struct mgr_hooks h = {w, hk_probe, hk_port, hk_host, hk_wake, w->cat, hk_adjust, 1};
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
    p.replica_may_use = hk_may_use;
    p.replica_event = hk_replica_event;
    p.replica_ctx = w;
    if ((rc = service_up(w, sp, e)) == 0 && (rc = sched_open(&w->sched, &p, e)) == 0) {
        rc = loop(w, e);
        if (rc == 0)
            rc = collect(w, e);
        sched_close(w->sched);
    }
    mgr_close(w->mgr);
    return rc;
}

/* Routing: region-blind least load for SkyServe, else the spec's
 * load_balancing_policy (nearest unless it names another). */
static void routing_of(struct world *w)
{
    const char *lb = w->sv->lb_policy;
    int r = w->kind == SSP_SKYSERVE || (lb != NULL && strcmp(lb, "nearest") != 0)
                ? RP_LEAST_LOAD
                : RP_NEAREST;
    size_t i;

    for (i = 0; i < w->nrt; i++)
        w->rt[i].set.cfg.policy = (enum rp_policy)r;
}

/* The cloud the ondemand baseline runs in: the first the governing rule of
 * the org policy prefers, or the one it allows, else where the planner's
 * best on-demand offer under the policy is (an allow list of several clouds
 * is a set, not an order). */
static int first_cloud(const struct world *w, const struct spec *sp, const struct policy *pol,
                       char *out, size_t n, struct err *e)
{
    const struct policy_rule *r = policy_match(pol, sp);
    const char *c = r && r->nprefer ? r->prefer[0] : r && r->nallow == 1 ? r->allow[0] : NULL;
    struct plan_opts o = {0};
    struct plan p;
    size_t i;
    int rc;

    if (c != NULL && strcspn(c, "*?") >= strcspn(c, "/")) {
        snprintf(out, n, "%.*s", (int)strcspn(c, "/"), c);
        return 0;
    }
    plan_init(&p);
    o.now = w->t;
    rc = plan_rank(&p, w->cat, sp, pol, &o, e);
    for (i = 0; rc == 0 && i < p.n && p.c[i].mode != PLAN_ONDEMAND; i++)
        ;
    if (rc == 0 && i == p.n)
        rc = err_set(e, ST_EINFEASIBLE, "%s: the ondemand policy finds no on-demand offer "
                     "for the service", w->in->spec_path);
    if (rc == 0)
        snprintf(out, n, "%s", catalog_offer(w->cat, p.c[i].offer)->cloud);
    plan_free(&p);
    return rc;
}

/* The org policy the service runs under: the caller's, or for the ondemand
 * baseline one rule that keeps it on demand in the first cloud. */
static int policy_of(struct world *w, const struct spec *sp, const struct sim_serve_policy *pol,
                     struct err *e)
{
    struct policy *org = NULL;
    char cloud[32];
    int rc = 0;

    if (w->kind != SSP_ONDEMAND) {
        w->policy_text = pol->policy_text ? xstrdup(pol->policy_text) : NULL;
        return 0;
    }
    if (pol->policy_text != NULL)
        rc = policy_load_mem(&org, "--org-policy", pol->policy_text,
                             strlen(pol->policy_text), e);
    if (rc == 0)
        rc = first_cloud(w, sp, org, cloud, sizeof(cloud), e);
    if (rc == 0)
        w->policy_text = xasprintf("version: 1\nrules:\n  - name: ondemand-baseline\n"
                                   "    description: on demand in %s only\n"
                                   "    allow: [%s]\n    spot: forbid\n", cloud, cloud);
    policy_free(org);
    return rc;
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
    if (w->in->series)
        w->served_req = xcalloc(n, sizeof(uint32_t));
    return 0;
}

/* The service spec, which must have a `service:` section; its model. */
static int spec_open(struct world *w, struct spec **sp, struct err *e)
{
    int rc = sim_serve_spec(w->in, sp, w->model, sizeof(w->model), e);

    if (rc != 0)
        return rc;
    w->sv = (*sp)->service;
    w->res->slo_ms = w->sv->latency_slo_ms;
    w->n_accel = (*sp)->res[0].acc_count > 0 ? (*sp)->res[0].acc_count : 0;
    return 0;
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
                           in->spot, in->t0, in->launch_delay_s, jobs, SIM_SERVE_MAX_JOBS,
                           in->notice_s};
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
    w.kind = pol->kind;
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
        routing_of(&w);
        if ((rc = policy_of(&w, sp, pol, e)) == 0 && (rc = store_open(&w.st, "mem:", e)) == 0 &&
            (rc = driver_open(&drv, &driver_sim, &dcfg, e)) == 0) {
            rc = run_world(&w, sp, &drv, e);
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
