/*
 * serve_bound.c - a lower bound on what any policy must pay to serve a
 * request trace within a service's objective (docs/serve-bound.md).
 *
 * The objective ("the same objective" as the policies are held to): every
 * request of the trace answered with its TTFT, RTT included, within the
 * spec's latency_slo_ms (no limit without one), and min_replicas READY from
 * the trace's time 0 to its last arrival (the spec demands them; the
 * availability column measures that share).  A policy runs replicas of
 * the spec's accelerators (any alternative's accelerator, count, cloud,
 * region, zone and instance type), spot or on demand or on a commitment,
 * in any region.  The bound:
 *
 * 1. Work.  A replica of class k (accelerator, count; its serve_perf) is
 *    busy for at least prompt/prefill_tps per prompt plus, per decode step
 *    of a batch S, step_base + |S| step_seq (serve_perf.c: a step with
 *    chunked prefill takes the decode step plus its prompt tokens at
 *    prefill_tps; a prefill-only step at least its tokens at prefill_tps).
 *    step_base is shared by the step's sequences: in every step
 *    sum_S min(in_i + j_i, kv) <= kv (the KV cache holds each sequence's
 *    prompt and the j_i >= 1 tokens it has made: admission reserves prompt +
 *    output, and a request larger than the cache runs alone) and
 *    |S| <= max_seqs.  So charging each sequence min(in + j, kv)/kv of a
 *    step's base (or, the other rule, 1/max_seqs) never charges a step more
 *    than its base; either rule, fixed per class (the one giving more over
 *    the trace), gives request i at least
 *      pf_ik  = in_i / prefill_tps_k                     (prefill)
 *      dec_ik = d_i step_seq_k + step_base_k share_ik     (d_i = out_i - 1)
 *    replica-seconds on class k.  With several classes the bound takes
 *    min_k pf_ik and min_k dec_ik apart (each is at most what the class the
 *    request ran on needed).  Retries, preemptions and idle time only add.
 * 2. Where.  A request from users in region U answered by a replica in X
 *    has TTFT >= RTT(U, X) (catalog_rtt_ms; unknown counts as 0): only
 *    replicas in a region within latency_slo_ms of some users' region
 *    ("near") can do work.  The users' regions are the trace's and, when
 *    some request has none, the spec's users (else the converters' default
 *    mix), as the simulator draws them.  Users with no near offer at all:
 *    no policy meets the objective, and the call fails (ST_EINFEASIBLE).
 *    The min_replicas may be anywhere.
 * 3. When.  Time is cut into buckets of W >= latency_slo_ms from time 0 to
 *    the last arrival T.  A request's work starts no earlier than its
 *    arrival; its prefill ends by arrival + latency_slo_ms (its first
 *    token), so in its arrival's bucket or the next; decode (and prefill
 *    without an objective) may end any time later, after T too (the tail).
 *    In bucket b a policy has R_b >= F_b = min_replicas x (the bucket's
 *    part of [0, T]) replica-seconds, the work done in b on near replicas
 *    is at most their replica-seconds N_b <= R_b, and it pays at least
 *    qa_b (R_b - N_b) + qn_b N_b, where qa_b / qn_b is the least price per
 *    replica-second of any / of a near offer during b (price-trace rows
 *    applied as they come; where an offer is not sold, the least price it
 *    was sold at before, which a running node keeps; 0 on a commitment,
 *    whose nodes are prepaid (docs/commitments.md);
 *    num_nodes nodes each; offers of an accelerator serve_perf lacks, or
 *    that cannot hold the model, are skipped: no replica can run there).
 *    In the tail it pays at least the least near price from the last
 *    bucket on for the work done there.  Before time 0 it has paid for
 *    the warm-up of the min_replicas READY at time 0: a replica is READY
 *    warmup_s after it runs (docs/sim-serve.md) and is billed from then,
 *    so min_replicas x min(warmup_s, lead_s) replica-seconds (the service
 *    is up lead_s before time 0) at the least price of any offer in force
 *    before time 0.
 * 4. The least cost over all such R, N and placements of the work in time
 *    is a linear program (per bucket: near replica-seconds within the floor
 *    at qn - qa beyond the floor's qa, near ones above it at qn; prefill
 *    moved at most one bucket, decode carried forward); its optimum is a
 *    lower bound on every policy that meets the objective.  Launch delays,
 *    other warm-ups, preemptions, spot capacity, quotas, the org policy's
 *    preferences and cost cap, cpus/memory and the routers' choices are
 *    left out: each only adds cost or removes choices.  The org policy's
 *    locations and spot setting are kept: no policy may run elsewhere.  Finer buckets can only raise it (W is the
 *    largest of 10 s, the objective and T/1023).
 *
 * Not checked: whether a request can meet the objective at all (a prompt
 * whose prefill alone is longer): the bound is then one on an empty set.
 * The model is the simulator's (docs/sim-serve.md: --model, else the
 * spec's MODEL variable).  Cost by cloud, spot and on demand: each part at
 * the offer whose price is the least in its bucket.
 *
 * Layout: the spec and the model; the offers a replica may run on; prices
 * per bucket; the work per bucket; the program; the result.
 */
#include "serve_bound.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../util/lazyglpk.h"
#include "../util/xmem.h"
#include "bound.h"
#include "reqtrace.h"
#include "serve_perf.h"
#include "trace.h"

#define SB_MIN_BUCKET_S 10.0
#define SB_MAX_BUCKETS 1024 /* the program's size: ~0.2 s for a week */
#define SB_MAX_USERS 512

/* One way to buy a node a replica may run on. */
struct sb_cand {
    uint32_t offer;
    int spot;      /* 1 = spot; 0 = on demand or committed */
    double commit; /* committed: its $/node-hour; < 0 = not a commitment */
    int cls;       /* its serve_perf class */
    int near;      /* its region can meet the objective for some users */
};

/* The least price of a replica-hour in a bucket, and whose it is. */
struct sb_price {
    double q;  /* $ per replica-hour; INFINITY = nothing sold */
    int32_t c; /* candidate, -1 = none */
};

struct sb {
    const struct sim_serve_input *in;
    const struct spec *sp;
    const struct policy_rule *rule; /* the org policy's rule for the spec; NULL = none */
    char model[32];
    double slo_s; /* 0 = no objective */
    double span;  /* trace time of the last arrival */
    double W;     /* bucket width, s */
    size_t nb;
    struct sb_cand *c;
    size_t nc, c_cap;
    struct serve_perf *cls;
    int *cls_near, *cls_by_kv;
    size_t ncls, cls_cap;
    char (*users)[160]; /* users' regions, "cloud/region" */
    size_t nusers;
    struct sb_price *qa, *qn, qt; /* per bucket: any, near; the tail (near) */
    struct sb_price qpre;         /* any, before time 0 (the floor's warm-up) */
    double *F, *P0, *P1, *D;      /* per bucket, replica-seconds: the floor; prefill
                                     due in the bucket, due in the next; the rest */
};

/* ---- the spec and the model ---- */

static int open_spec(struct sb *s, struct spec **sp, struct err *e)
{
    int rc = sim_serve_spec(s->in, sp, s->model, sizeof(s->model), e);

    if (rc != 0)
        return rc;
    s->sp = *sp;
    s->slo_s = (*sp)->service->latency_slo_ms / 1000;
    return 0;
}

/* ---- the offers a replica may run on ---- */

static int alt_allows(const struct spec_res *r, const char *acc, const struct offer *o)
{
    return o->accelerator == acc && o->acc_count == r->acc_count &&
           CATALOG_SAME_PART(o->acc_part, r->acc_part) &&
           (r->cloud == NULL || strcmp(r->cloud, o->cloud) == 0) &&
           (r->region == NULL || strcmp(r->region, o->region) == 0) &&
           (r->zone == NULL || strcmp(r->zone, o->zone) == 0) &&
           (r->instance_type == NULL || strcmp(r->instance_type, o->instance_type) == 0);
}

/* The serve_perf class of an offer (made on first sight); -1 when the
 * model has no replica there (e says why). */
static int class_of(struct sb *s, const struct offer *o, struct err *e)
{
    struct serve_perf p;
    size_t k;

    for (k = 0; k < s->ncls; k++)
        if (strcmp(s->cls[k].accel, o->accelerator) == 0 &&
            s->cls[k].n_accel == o->acc_count)
            return (int)k;
    if (serve_perf_lookup(o->accelerator, s->model, o->acc_count, &p, e) != 0)
        return -1;
    s->cls = xgrow(s->cls, &s->cls_cap, s->ncls + 1, sizeof(*s->cls));
    s->cls[s->ncls] = p;
    return (int)s->ncls++;
}

static void add_cand(struct sb *s, uint32_t oi, int spot, double commit, int cls)
{
    s->c = xgrow(s->c, &s->c_cap, s->nc + 1, sizeof(*s->c));
    s->c[s->nc++] = (struct sb_cand){oi, spot, commit, cls, 0};
}

/* On demand, spot and every commitment that covers the offer. */
static void add_offer(struct sb *s, uint32_t oi, int cls)
{
    const struct catalog *cat = s->in->cat;
    const struct offer *o = catalog_offer(cat, oi);
    size_t i, n = catalog_ncommitments(cat);

    int spot = s->rule ? (int)s->rule->spot : POLICY_SPOT_ALLOW;

    if (spot != POLICY_SPOT_REQUIRE)
        add_cand(s, oi, 0, -1, cls);
    if (spot != POLICY_SPOT_FORBID)
        add_cand(s, oi, 1, -1, cls);
    for (i = 0; spot != POLICY_SPOT_REQUIRE && i < n; i++) {
        const struct commitment *m = catalog_commitment(cat, i);

        if (m->cloud == o->cloud && m->region == o->region &&
            m->instance_type == o->instance_type && (!*m->zone || m->zone == o->zone) &&
            m->count >= s->sp->num_nodes)
            add_cand(s, oi, 0, 0, cls); /* prepaid: the controller bills it 0 */
    }
}

/* Where the org policy lets the service run (every location without one). */
static int policy_allows(const struct sb *s, const struct offer *o)
{
    const struct region *rg = catalog_region_at(s->in->cat, o->region_idx);

    return s->rule == NULL || policy_check_location(s->rule, o->cloud, o->region, o->zone,
                                                    rg ? rg->continent : NULL) == POLICY_OK;
}

static int find_offers(struct sb *s, struct err *e)
{
    const struct catalog *cat = s->in->cat;
    size_t i, k, n, skipped = 0;
    unsigned char *seen = xcalloc(catalog_noffers(cat) + 1, 1);
    struct err why;

    err_clear(&why);
    for (k = 0; k < s->sp->nres; k++) {
        const struct spec_res *r = &s->sp->res[k];
        const char *acc =
            r->accelerator ? catalog_accelerator(cat, r->accelerator) : NULL;
        const uint32_t *of = acc ? catalog_offers_of(cat, acc, &n) : NULL;

        for (i = 0; of && i < n; i++) {
            int cls;

            if (seen[of[i]] || !alt_allows(r, acc, catalog_offer(cat, of[i])) ||
                !policy_allows(s, catalog_offer(cat, of[i])))
                continue;
            seen[of[i]] = 1;
            cls = class_of(s, catalog_offer(cat, of[i]), &why);
            skipped += cls < 0;
            if (cls >= 0)
                add_offer(s, of[i], cls);
        }
    }
    free(seen);
    if (s->nc > 0)
        return 0;
    if (skipped > 0)
        return err_set(e, ST_EINVAL,
                       "%s: lower bound: no offer the spec allows has a "
                       "replica model for %s: %s",
                       s->in->spec_path, s->model, why.msg);
    return err_set(e, ST_EINVAL,
                   "%s: lower bound: no catalog offer matches the spec's "
                   "resources (accelerator, count, location, instance type)",
                   s->in->spec_path);
}

/* ---- the users and the regions near them ---- */

static void add_user(struct sb *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nusers; i++)
        if (strcmp(s->users[i], name) == 0)
            return;
    if (s->nusers < SB_MAX_USERS)
        snprintf(s->users[s->nusers++], sizeof(s->users[0]), "%.159s", name);
}

/* The trace's regions, and where requests without one come from. */
static int find_users(struct sb *s, struct err *e)
{
    const struct reqtrace *rt = s->in->reqs;
    const struct svc_spec *sv = s->sp->service;
    struct reqtrace_user u[REQTRACE_USERS_MAX];
    size_t i, n = 0;
    int bare = rt->region == NULL;
    int rc;

    s->users = xcalloc(SB_MAX_USERS, sizeof(*s->users));
    for (i = 0; i < rt->nregions; i++)
        add_user(s, rt->regions[i]);
    for (i = 0; !bare && i < rt->n; i++)
        bare = rt->region[i] == 0;
    if (!bare)
        return 0;
    for (i = 0; i < sv->nusers; i++) {
        char name[160];

        snprintf(name, sizeof(name), "%.63s/%.95s", sv->users[i].cloud,
                 sv->users[i].region);
        add_user(s, name);
    }
    if (sv->nusers > 0)
        return 0;
    if ((rc = reqtrace_parse_users(reqtrace_default_users, u, &n, e)) != 0)
        return rc;
    for (i = 0; i < n; i++)
        add_user(s, u[i].name);
    return 0;
}

static double rtt_to(const struct sb *s, const char *user, const struct offer *o)
{
    char cloud[64];
    const char *slash = strchr(user, '/');

    if (slash == NULL || (size_t)(slash - user) >= sizeof(cloud))
        return -1;
    snprintf(cloud, sizeof(cloud), "%.*s", (int)(slash - user), user);
    return catalog_rtt_ms(s->in->cat, cloud, slash + 1, o->cloud, o->region, NULL);
}

/* Mark the candidates near some users; fail when some users have none. */
static int mark_near(struct sb *s, struct err *e)
{
    double slo_ms = s->slo_s * 1000;
    size_t u, i;

    for (i = 0; i < s->nc; i++)
        s->c[i].near = s->slo_s <= 0;
    for (u = 0; s->slo_s > 0 && u < s->nusers; u++) {
        double best = INFINITY;
        const struct offer *bo = NULL;

        for (i = 0; i < s->nc; i++) {
            const struct offer *o = catalog_offer(s->in->cat, s->c[i].offer);
            double r = rtt_to(s, s->users[u], o);

            if (r < 0 || r <= slo_ms)
                s->c[i].near = 1;
            if (r >= 0 && r < best) {
                best = r;
                bo = o;
            }
        }
        if (bo != NULL && best > slo_ms)
            return err_set(
                e, ST_EINFEASIBLE,
                "%s: lower bound: latency_slo_ms %g cannot be met for users in %s: "
                "the nearest region the spec allows, %s/%s, is %.0f ms away, so no "
                "policy answers them in time (raise latency_slo_ms or allow a "
                "region nearer them)",
                s->in->spec_path, slo_ms, s->users[u], bo->cloud, bo->region, best);
    }
    return 0;
}

/* ---- prices per bucket ---- */

/* An offer's price for one way of buying it, row by row of the price trace. */
struct sb_walk {
    const struct trace *pr;
    const struct offer *o;
    int spot;
    size_t k;           /* next row */
    double cur, before; /* in force (< 0: not sold); least sold so far */
};

/* What a node is billed at now: the price in force, or where it is not
 * sold, the least it was sold at (a running node keeps its price). */
static double walk_eff(const struct sb_walk *w)
{
    return w->cur >= 0 ? w->cur : w->before;
}

static int row_hits(const struct trace_price *r, const struct offer *o)
{
    return strcmp(r->cloud, o->cloud) == 0 && strcmp(r->region, o->region) == 0 &&
           (*r->zone == '\0' || strcmp(r->zone, o->zone) == 0) &&
           strcmp(r->instance_type, o->instance_type) == 0;
}

/* Apply the rows before trace time t (at t too when `incl`); the least
 * billable price on the way, the one in force at the start included. */
static double walk_to(struct sb_walk *w, double t, int incl)
{
    double m = walk_eff(w);

    while (
        w->pr && w->k < w->pr->nprices &&
        (w->pr->prices[w->k].time_s < t || (incl && w->pr->prices[w->k].time_s == t))) {
        const struct trace_price *r = &w->pr->prices[w->k++];
        double v = w->spot ? r->spot_price_hour : r->price_hour;

        if (v == TRACE_PRICE_UNCHANGED || !row_hits(r, w->o))
            continue;
        w->cur = v == TRACE_PRICE_NOT_SOLD ? -1 : v;
        if (w->cur >= 0)
            w->before = fmin(w->before, w->cur);
        m = fmin(m, walk_eff(w));
    }
    return m;
}

static void keep_least(struct sb_price *p, double q, size_t c)
{
    if (q < p->q) {
        p->q = q;
        p->c = (int32_t)c;
    }
}

/* Candidate c's least price per replica-hour in each bucket and in the
 * tail (from the last bucket's start on), folded into the minima. */
static void cand_prices(struct sb *s, size_t c)
{
    const struct sb_cand *x = &s->c[c];
    const struct offer *o = catalog_offer(s->in->cat, x->offer);
    double nodes = s->sp->num_nodes, init = x->spot ? o->spot_price : o->price, q = 0;
    struct sb_walk w = {s->in->prices, o, x->spot, 0, init, init >= 0 ? init : INFINITY};
    size_t b;

    if (x->commit >= 0)
        w = (struct sb_walk){NULL, o, 0, 0, x->commit, x->commit};
    keep_least(&s->qpre, walk_to(&w, 0, 0) * nodes, c);
    for (b = 0; b < s->nb; b++) {
        walk_to(&w, (double)b * s->W, 1); /* rows at the start are in force in it */
        q = walk_to(&w, (double)(b + 1) * s->W, 0) * nodes;
        keep_least(&s->qa[b], q, c);
        if (x->near)
            keep_least(&s->qn[b], q, c);
    }
    if (x->near)
        keep_least(&s->qt, fmin(q, walk_to(&w, INFINITY, 1) * nodes), c);
}

static void prices(struct sb *s)
{
    size_t b, c;

    s->qa = xcalloc(s->nb + 1, sizeof(*s->qa));
    s->qn = xcalloc(s->nb + 1, sizeof(*s->qn));
    for (b = 0; b < s->nb; b++)
        s->qa[b] = s->qn[b] = (struct sb_price){INFINITY, -1};
    s->qt = s->qpre = (struct sb_price){INFINITY, -1};
    for (c = 0; c < s->nc; c++)
        cand_prices(s, c);
}

/* ---- the work per bucket ---- */

/* sum over j = 1..d of min(in + j, kv) / kv: request's share of the decode
 * steps' base by its KV footprint (point 1 of the argument). */
static double kv_share(double in, double d, double kv)
{
    double k = fmax(0, fmin(d, kv - in)); /* steps before the cache would be full */

    return (k * in + k * (k + 1) / 2 + (d - k) * kv) / kv;
}

static double decode_tokens(const struct reqtrace_req *q)
{
    return q->output_tokens > 1 ? (double)q->output_tokens - 1 : 0;
}

/* Per class, the base-sharing rule that charges the trace more. */
static void pick_share_rules(struct sb *s)
{
    const struct reqtrace *rt = s->in->reqs;
    size_t k, i;

    s->cls_by_kv = xcalloc(s->ncls + 1, sizeof(int));
    s->cls_near = xcalloc(s->ncls + 1, sizeof(int));
    for (i = 0; i < s->nc; i++)
        s->cls_near[s->c[i].cls] |= s->c[i].near;
    for (k = 0; k < s->ncls; k++) {
        double kv = 0, seqs = 0;

        for (i = 0; i < rt->n; i++) {
            double d = decode_tokens(&rt->req[i]);

            kv += kv_share(rt->req[i].input_tokens, d, (double)s->cls[k].kv_tokens);
            seqs += d / s->cls[k].max_seqs;
        }
        s->cls_by_kv[k] = kv >= seqs;
    }
}

/* Request q's least prefill and decode replica-seconds on a near class. */
static void req_work(const struct sb *s, const struct reqtrace_req *q, double *pf,
                     double *dec)
{
    double d = decode_tokens(q);
    size_t k;

    *pf = *dec = INFINITY;
    for (k = 0; k < s->ncls; k++) {
        const struct serve_perf *p = &s->cls[k];
        double share = s->cls_by_kv[k]
                           ? kv_share(q->input_tokens, d, (double)p->kv_tokens)
                           : d / p->max_seqs;

        if (!s->cls_near[k])
            continue;
        *pf = fmin(*pf, q->input_tokens / p->prefill_tps);
        *dec = fmin(*dec, d * p->step_seq_s + share * p->step_base_s);
    }
}

/* Buckets, the floor, and each request's work where it is released:
 * prefill due in its bucket (P0) or the next (P1), the rest (D) free to
 * move later. */
static void work(struct sb *s)
{
    const struct reqtrace *rt = s->in->reqs;
    double slo = s->slo_s, floor_n = s->sp->service->min_replicas;
    size_t i, b;

    s->span = rt->n ? rt->req[rt->n - 1].arrival_s : 0;
    s->W = fmax(fmax(SB_MIN_BUCKET_S, slo), s->span / (SB_MAX_BUCKETS - 1));
    s->nb = rt->n ? (size_t)(s->span / s->W) + 1 : 0;
    s->F = xcalloc(s->nb + 1, sizeof(double));
    s->P0 = xcalloc(s->nb + 1, sizeof(double));
    s->P1 = xcalloc(s->nb + 1, sizeof(double));
    s->D = xcalloc(s->nb + 1, sizeof(double));
    for (b = 0; b < s->nb; b++)
        s->F[b] = floor_n * (fmin((double)(b + 1) * s->W, s->span) - (double)b * s->W);
    pick_share_rules(s);
    for (i = 0; i < rt->n; i++) {
        const struct reqtrace_req *q = &rt->req[i];
        double a = fmax(0, q->arrival_s), pf, dec;

        b = (size_t)(a / s->W);
        b = b < s->nb ? b : s->nb - 1;
        req_work(s, q, &pf, &dec);
        if (slo <= 0)
            s->D[b] += pf;
        else if ((size_t)((a + slo) / s->W) <= b)
            s->P0[b] += pf;
        else
            s->P1[b] += pf;
        s->D[b] += dec;
    }
}

/* ---- the program ---- */

/* Columns per bucket b (1-based: 5b + k): a = near replica-seconds within
 * the floor, e = near ones above it, y = of P1[b] done in b (the rest in
 * b + 1, or the tail), z = decode done in b, s = decode carried past b.
 * Rows: 2b + 1 capacity (work done in b <= a + e), 2b + 2 decode stock. */
enum { CA = 1, CE, CY, CZ, CS, NCOL };
#define COL(b, k) ((int)(5 * (b) + (k)))

struct sb_lp {
    glp_prob *P;
    int *ia, *ja;
    double *ar;
    int nz;
};

static void put(struct sb_lp *L, int row, int col, double v)
{
    L->nz++;
    L->ia[L->nz] = row;
    L->ja[L->nz] = col;
    L->ar[L->nz] = v;
}

static void col_set(glp_prob *P, int col, double lo, double hi, double cost)
{
    glp_set_col_bnds(P, col, hi > lo ? (isinf(hi) ? GLP_LO : GLP_DB) : GLP_FX, lo,
                     isinf(hi) ? 0 : hi);
    glp_set_obj_coef(P, col, cost);
}

/* Bucket b's columns: nothing is bought where nothing is sold. */
static void bucket_cols(const struct sb *s, glp_prob *P, size_t b)
{
    double qa = s->qa[b].q, qn = s->qn[b].q, qt = s->qt.q;
    int last = b + 1 == s->nb, sold = isfinite(qn);

    col_set(P, COL(b, CA), 0, sold ? s->F[b] : 0, sold ? qn - qa : 0);
    col_set(P, COL(b, CE), 0, sold ? INFINITY : 0, sold ? qn : 0);
    /* the last bucket's P1 left over goes to the tail, at qt */
    col_set(P, COL(b, CY), last && !isfinite(qt) ? s->P1[b] : 0, s->P1[b],
            last && isfinite(qt) ? -qt : 0);
    col_set(P, COL(b, CZ), 0, INFINITY, 0);
    col_set(P, COL(b, CS), 0, last && !isfinite(qt) ? 0 : INFINITY,
            last && isfinite(qt) ? qt : 0);
}

static void bucket_rows(const struct sb *s, struct sb_lp *L, size_t b)
{
    int cap = (int)(2 * b + 1), stock = cap + 1;

    glp_set_row_bnds(L->P, cap, GLP_UP, 0, -(s->P0[b] + (b ? s->P1[b - 1] : 0)));
    glp_set_row_bnds(L->P, stock, GLP_FX, s->D[b], s->D[b]);
    put(L, cap, COL(b, CY), 1);
    put(L, cap, COL(b, CZ), 1);
    put(L, cap, COL(b, CA), -1);
    put(L, cap, COL(b, CE), -1);
    put(L, stock, COL(b, CS), 1);
    put(L, stock, COL(b, CZ), 1);
    if (b > 0) {
        put(L, cap, COL(b - 1, CY), -1);
        put(L, stock, COL(b - 1, CS), -1);
    }
}

/* Solve; the columns' values into x (1-based).  0, or an error. */
static int solve(const struct sb *s, double *x, struct err *e)
{
    size_t b, n = 9 * s->nb + 1;
    struct sb_lp L = {glp_create_prob(), xcalloc(n, sizeof(int)), xcalloc(n, sizeof(int)),
                      xcalloc(n, sizeof(double)), 0};
    glp_smcp parm;
    int rc, st, prev = glp_term_out(GLP_OFF), j;

    glp_set_obj_dir(L.P, GLP_MIN);
    glp_add_rows(L.P, (int)(2 * s->nb));
    glp_add_cols(L.P, (int)(5 * s->nb));
    for (b = 0; b < s->nb; b++) {
        bucket_cols(s, L.P, b);
        bucket_rows(s, &L, b);
    }
    glp_load_matrix(L.P, L.nz, L.ia, L.ja, L.ar);
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    /* no presolve: GLPK's presolver drops a bucket's work when it is within
     * its tolerances of nothing (a few ms of one short request) */
    parm.presolve = GLP_OFF;
    glp_adv_basis(L.P, 0); /* a third of the time of the standard basis */
    rc = glp_simplex(L.P, &parm);
    if (rc == GLP_EBADB || rc == GLP_ESING || rc == GLP_ECOND) {
        glp_std_basis(L.P);
        rc = glp_simplex(L.P, &parm);
    }
    st = glp_get_status(L.P);
    glp_term_out(prev);
    for (j = 1; rc == 0 && st == GLP_OPT && j <= (int)(5 * s->nb); j++)
        x[j] = glp_get_col_prim(L.P, j);
    glp_delete_prob(L.P);
    free(L.ia);
    free(L.ja);
    free(L.ar);
    if (rc == GLP_ENOPFS || st == GLP_NOFEAS || st == GLP_INFEAS)
        return err_set(e, ST_EINFEASIBLE,
                       "%s: lower bound: the requests cannot be served "
                       "within the objective: no near offer is sold when they need one",
                       s->in->spec_path);
    if (rc != 0 || st != GLP_OPT)
        return err_set(e, ST_EINTERNAL,
                       "lower bound: GLPK found no optimum (simplex %d, "
                       "status %d)",
                       rc, st);
    return 0;
}

/* ---- the result ---- */

/* sec replica-seconds bought at price p (candidate p->c). */
static void charge(const struct sb *s, const struct sb_price *p, double sec,
                   struct sim_serve_result *res)
{
    const struct sb_cand *c;
    double usd, hours = sec / 3600;

    if (hours <= 0 || p->c < 0)
        return;
    c = &s->c[p->c];
    usd = hours * p->q;
    res->cost += usd;
    res->cost_by_cloud[sim_cloud_index(catalog_offer(s->in->cat, c->offer)->cloud)] +=
        usd;
    res->replica_hours += hours;
    if (c->spot) {
        res->spot_cost += usd;
        res->spot_replica_hours += hours;
    } else {
        res->ondemand_cost += usd;
    }
}

static int floor_sold(const struct sb *s, struct err *e)
{
    size_t b;

    for (b = 0; b < s->nb; b++)
        if (s->F[b] > 0 && !isfinite(s->qa[b].q))
            return err_set(e, ST_EINFEASIBLE,
                           "%s: lower bound: no offer the spec allows is "
                           "sold at time %.0f s, and min_replicas %d must run then",
                           s->in->spec_path, (double)b * s->W,
                           s->sp->service->min_replicas);
    return 0;
}

static int bound(struct sb *s, struct sim_serve_result *res, struct err *e)
{
    double *x = xcalloc(5 * s->nb + 1, sizeof(double));
    size_t b;
    int rc = floor_sold(s, e);

    if (rc == 0 && s->nb > 0 && (rc = lazyglpk_load(e)) == 0)
        rc = solve(s, x, e);
    for (b = 0; rc == 0 && b < s->nb; b++) {
        double a = x[COL(b, CA)], near_h = a + x[COL(b, CE)];

        charge(s, &s->qa[b], s->F[b] - a, res);
        charge(s, &s->qn[b], near_h, res);
    }
    if (rc == 0 && s->nb > 0)
        charge(s, &s->qpre,
               s->sp->service->min_replicas * fmin(s->in->warmup_s, s->in->lead_s), res);
    if (rc == 0 && s->nb > 0)
        charge(s, &s->qt,
               x[COL(s->nb - 1, CS)] + s->P1[s->nb - 1] - x[COL(s->nb - 1, CY)], res);
    free(x);
    return rc;
}

static void sb_free(struct sb *s)
{
    free(s->c);
    free(s->cls);
    free(s->cls_near);
    free(s->cls_by_kv);
    free(s->users);
    free(s->qa);
    free(s->qn);
    free(s->F);
    free(s->P0);
    free(s->P1);
    free(s->D);
}

int sim_serve_bound(const struct sim_serve_input *in, const char *policy_text,
                    struct sim_serve_result *res, struct err *e)
{
    struct sb s;
    struct spec *sp = NULL;
    struct policy *pol = NULL;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    snprintf(res->name, sizeof(res->name), "bound");
    res->requests = res->served = res->within_slo = in->reqs->n;
    s.in = in;
    rc = open_spec(&s, &sp, e);
    if (rc == 0 && policy_text != NULL &&
        (rc = policy_load_mem(&pol, "--org-policy", policy_text, strlen(policy_text), e)) == 0)
        s.rule = policy_match(pol, sp);
    if (rc == 0 && (rc = find_offers(&s, e)) == 0 &&
        (rc = find_users(&s, e)) == 0 && (rc = mark_near(&s, e)) == 0) {
        res->slo_ms = s.slo_s * 1000;
        work(&s);
        prices(&s);
        rc = bound(&s, res, e);
        res->span_s = s.span;
        res->min_ready_share = 1;
    }
    sb_free(&s);
    policy_free(pol);
    spec_free(sp);
    return rc;
}
