/*
 * bound.c - the offline lower bound: a linear program, solved with GLPK,
 * whose optimum no schedule of the workload that obeys the org policy can
 * beat, given the prices in force during the study and the fleet's capacity.
 *
 * The program.  Time is cut into buckets of width B from the study's start
 * (time 0 of the traces) to the study's end E, rounded up to a bucket: the
 * bound is then for schedules that are done by E, and `stratus simulate`
 * sets E to when the last of the runs it compares was done, so that each of
 * them is such a schedule.  With no E the bound is for every schedule, done
 * whenever: the buckets reach past every job's release plus duration, to H,
 * and a last one, the tail [H, forever), has no capacity rows (its length
 * is unbounded) — which makes capacity moot for offers whose price does
 * not change, since work can always wait.  Jobs are grouped into
 * types: jobs whose allowed candidates, (offer, mode) pairs as the planner
 * (plan_rank) lists them under the org policy, are the same set.
 *
 *   x[T,c,b] >= 0  node-hours type T runs on candidate c in bucket b
 *   s[T,b]   >= 0  node-hours of T released by bucket b and not yet run
 *   y[g,R]   >= 0  node-hours egress group g runs in region R
 *
 *   minimize  sum x[T,c,b] p(c,b)  +  sum y[g,R] rho(g) rate(g, R)
 *   balance   sum_c v(c) x[T,c,b] + s[T,b] - s[T,b-1] = W(T,b)  (work released in b)
 *   capacity  sum_{T, c in pool P} x[T,c,b] <= K(P,b)       (all but the tail)
 *   link      sum_{c in R, b} v(c) x[T,c,b] - sum_{g of T} y[g,R] >= 0
 *   group     sum_R y[g,R] = W(g)
 *
 * where p(c,b) is the lowest price a node of c can be billed at during b,
 * K(P,b) the node-hours the pool (an offer's on-demand nodes, its spot
 * nodes, or the committed nodes that cover it) holds over b, W the work
 * (nodes x duration) of the jobs, in node-hours of each job's first
 * accelerator, v(c) the speed of a node of c: the work one of its
 * node-hours does, relative to the first (plan_speed, from the catalog's
 * throughput.csv; 1 when unknown, and for every candidate of a job with
 * one accelerator), so that c needs W / v(c) node-hours for W of work, an egress group g the jobs of one type
 * with one data location and a data_gb per node-hour of work in one
 * geometric bin, rho(g) the smallest of those, and rate(g, R) the $/GB of
 * moving data from g's location to R.
 *
 * Why it is a lower bound.  Take any schedule S the controller could run
 * under the same policy, in the same sim world, that runs every job to its
 * end (by E, if there is one), and let x~_j be the node-hours job j is
 * billed for, by time, up to the point where their work (each node-hour on
 * c counted v(c)) reaches W_j (it does: the sim driver counts an attempt's
 * progress as its run x v(c), so the attempts that complete j ran at least
 * W_j of work; restore and lost work only add node-hours).  Set x[T,c,b] to the sum of x~_j over T's jobs on c in b, s to the
 * work released and not yet done, y[g,R] to the x~ of g's jobs in R.  Then:
 *  - every x~ is on a candidate of T: S places a job only where plan_rank
 *    allows at the time of placement, and the types' sets are plan_rank's
 *    with each offer at its lowest price of the whole price trace and with
 *    every commitment that is active at some time (the price-dependent
 *    checks, "not sold" and a policy's hourly cost cap, only pass more
 *    candidates at lower prices; the rest do not depend on time), and
 *    S reaches a candidate in a rule's overflow cloud only when every
 *    allowed one is unusable, so a type's overflow candidates are left out
 *    when it has an allowed one that is always usable (moot_overflow);
 *  - balance holds with s >= 0: no job runs before its release (releases
 *    are rounded down to their bucket's start, which only adds freedom),
 *    and every job's work is done by the last bucket;
 *  - capacity holds: the sim driver never runs more nodes of a pool than it
 *    holds (launches are refused, and spot attempts reclaimed, beyond it),
 *    K is the integral of the pool's capacity over b (the spot trace replayed
 *    as the driver replays it; rows at one instant count at their largest),
 *    and x~ counts only nodes that run.  The tail has no capacity row;
 *  - each node-hour is billed at the price in force, or, for an offer no
 *    longer sold, at the price it ran at before (the controller keeps it),
 *    so at least p(c,b) = the least of the prices in force during b and,
 *    where the offer is not sold, of every price in force before; a
 *    committed node at 0: the controller bills committed attempts nothing
 *    (the commitments' fixed cost is added to the bound and to every run
 *    alike, outside the program: sim_charge_commitments), and runs at most
 *    the committed nodes that cover an offer on it at once (sched_place.c);
 *    the bill also gives back on-demand node-hours of a commitment's group
 *    (cloud, region, instance type, any zone, any gang) with the group's
 *    committed nodes that committed attempts leave free (sim.c), so every
 *    on-demand candidate of a group has a committed column too, and the
 *    committed pool's K is every commitment of the group over its window:
 *    committed attempts and given-back node-hours never exceed it.  The
 *    controller's committed nodes are also on-demand nodes of the fleet
 *    (the sim driver counts every node of the offer that is not spot
 *    against its on-demand capacity), so a committed column is in the
 *    offer's on-demand capacity rows as well;
 *  - a job that runs in region R is charged data_gb x rate at least once,
 *    rate(g, R) being the least cost of a path of moves from the data's
 *    location to R in the egress table (shortest paths, computed here): the
 *    controller without data gravity moves the data from its location each
 *    time; with it (sched_data.c), the job's replicas form a tree rooted at
 *    the location whose every edge the job paid, so what it paid is at
 *    least the path to its farthest region, at least any weighted mean of
 *    rate(g, R).  So its egress is at least the sum over R of (x~_jR / W_j)
 *    x data_gb x rate >= the y term, rho(g) being the group's least.  A job
 *    on a shared dataset (the trace's dataset column) may find a replica
 *    another job paid for: its egress is bounded by 0 (no group).  Storage
 *    of replicas is bounded by 0.
 *  - with sim_input.pin, the schedules bounded are those that also start
 *    the pinned jobs when they come (pin_jobs says which and why the carry
 *    bounds hold for them); every compared run is one.
 * So S is feasible for the program at a cost at most its own, and the
 * optimum is at most the cost of every such S.  Everything the program
 * leaves out (deadlines, which S may miss; one attempt at a time per job;
 * launch delays; preemptions and their lost work; stockouts; the tail's
 * capacity) only lowers it.  A coarser B (a multiple of the finer) can only
 * lower it too (prices become the least over a longer stretch, capacity is
 * pooled over it, releases move earlier, E later), so B is chosen for solve
 * time: on the ITP study 1 h, 6 h and 1 d give the same bound to 0.1%.
 *
 * Layout: the world (buckets, types, groups, pools); classifying jobs with
 * plan_rank; prices and capacities per bucket; the program, solved by
 * column generation; the result.
 */
#include "bound.h"
#include "trace.h"
#include "../catalog/catalog.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../spec/spec.h"
#include "../util/clock.h"
#include "../util/hmap.h"
#include "../util/lazyglpk.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EGRESS_BIN 1.25 /* rho within a group differs by less than this factor */

struct bcand {
    uint32_t offer;
    uint8_t mode;        /* enum plan_mode */
    uint8_t tier;        /* the rule's tier of its cloud: 0 allowed, > 0 overflow */
    uint8_t moot;        /* an overflow candidate no schedule can reach (see
                            moot_overflow) */
    double commit_price; /* 0: committed nodes are pooled per offer at no
                            marginal cost (see the header) */
    double speed;        /* v(c): work per node-hour vs the job's first accelerator */
    uint32_t pool;
    uint32_t od_pool; /* committed: the offer's on-demand pool, which its
                         nodes are part of; else UINT32_MAX */
    uint32_t slot; /* its region among its type's (link row) */
};

struct btype {
    size_t c0, nc; /* candidates: w->cand[c0 .. c0 + nc) */
    size_t r0, nr; /* regions: w->treg[r0 .. r0 + nr) (catalog indices) */
    double *rel;   /* node-hours released per bucket (nb + 1) */
    double *lo;    /* per bucket: work of its pinned jobs that cannot be done by
                      the bucket's end (nb + 1; pin_jobs); NULL = none */
    double *cut;   /* per bucket: work of its pinned jobs done by then */
    size_t first;  /* first bucket with work released */
    size_t njobs;
    int has_groups, dead; /* dead: no candidate ever has capacity */
    size_t bal0, link0;   /* first balance and link rows (1-based) */
};

struct bgroup {
    uint32_t type;
    const char *dcloud, *dregion; /* the data's location (trace-interned) */
    double rho;                   /* least data_gb per node-hour of work */
    double work;                  /* node-hours */
    size_t row;
    double *ycost; /* per region of its type: $ per node-hour there */
};

struct bpool {
    uint32_t offer;
    int spot;
    int committed; /* the committed nodes that cover the offer (cost 0) */
    double *price; /* $/node-hour per bucket (nb + 1); INFINITY = never */
    double *cap;   /* node-hours per finite bucket (nb) */
    int usable;    /* holds a node at some time (so in the tail too) */
};

struct bw {
    const struct sim_input *in;
    double B;
    size_t nb;   /* finite buckets; bucket nb is the tail */
    int tail;    /* the study has no end: the tail has columns */
    size_t last; /* last bucket with columns: nb (tail) or nb - 1 */
    struct bcand *cand;
    size_t ncand, cand_cap;
    uint32_t *treg;
    size_t ntreg, treg_cap;
    struct btype *types;
    size_t ntypes, types_cap;
    struct bgroup *groups;
    size_t ngroups, groups_cap;
    struct bpool *pools;
    size_t npools, pools_cap;
    int32_t *pool_of; /* per offer x {on demand, spot, committed}: pool or -1 */
    struct strpool keys;
    struct keymap tmap, gmap;
    size_t failed, bounded, pinned;
    uint32_t *jtype;     /* per job: its type, or UINT32_MAX (none) */
    int *jpin;           /* per job: its nodes when the policy lets it not wait
                            (pin_jobs), else 0 */
    double *demand;      /* per offer: the most nodes jobs could hold or
                            reserve of it (see never_full) */
    uint32_t *stamp;     /* per offer: 1 + the last job counted into demand */
    int *stamp_nodes;    /* per offer: that job's nodes counted */
    struct keymap smap;  /* data location (interned cloud, region) -> sp index */
    double **sp;         /* per data location: least $/GB to each catalog region */
    size_t nsp, sp_cap;
};

/* ---- matching trace rows to offers (the sim driver and sim.c use it too) ---- */

int sim_row_matches(const char *cloud, const char *region, const char *zone,
                    const char *type, const struct offer *o)
{
    return strcmp(cloud, o->cloud) == 0 && strcmp(region, o->region) == 0 &&
           (*zone == '\0' || strcmp(zone, o->zone) == 0) &&
           strcmp(type, o->instance_type) == 0;
}

static int price_row_matches(const struct trace_price *r, const struct offer *o)
{
    return sim_row_matches(r->cloud, r->region, r->zone, r->instance_type, o);
}

/* ---- classifying jobs ---- */

/* Each offer at its lowest price over the whole study, so that plan_rank
 * passes every candidate that is allowed at some time.  Returns the
 * catalog's own prices, for catalog_prices_restore. */
static double *lowest_prices(struct catalog *cat, const struct trace *prices)
{
    size_t i, k, n = catalog_noffers(cat);
    double *saved = catalog_prices_save(cat);

    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(cat, i);
        double od = o->price, sp = o->spot_price;

        for (k = 0; prices && k < prices->nprices; k++) {
            const struct trace_price *r = &prices->prices[k];

            if (!price_row_matches(r, o))
                continue;
            if (r->price_hour >= 0 && (od < 0 || r->price_hour < od))
                od = r->price_hour;
            if (r->spot_price_hour >= 0 && (sp < 0 || r->spot_price_hour < sp))
                sp = r->spot_price_hour;
        }
        catalog_set_price(cat, i, od, sp);
    }
    return saved;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct bcand *x = a, *y = b;

    if (x->offer != y->offer)
        return x->offer < y->offer ? -1 : 1;
    if (x->mode != y->mode)
        return x->mode < y->mode ? -1 : 1;
    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    if (x->commit_price != y->commit_price)
        return x->commit_price < y->commit_price ? -1 : 1;
    return x->speed < y->speed ? -1 : x->speed > y->speed;
}

/* The times at which to ask the planner: the start, and the start of every
 * commitment (a commitment active at some time is active at its start). */
static double *plan_times(const struct sim_input *in, size_t *n)
{
    size_t i, nc = catalog_ncommitments(in->cat);
    double *v = xcalloc(nc + 1, sizeof(double));

    v[0] = in->t0;
    *n = 1;
    for (i = 0; i < nc; i++)
        if (catalog_commitment(in->cat, i)->start > in->t0)
            v[(*n)++] = catalog_commitment(in->cat, i)->start;
    return v;
}

/* Count what job (an index into the workload) could hold or reserve of an
 * offer, in any mode, into w->demand: its most nodes there, once (nodes is
 * already doubled for a job the deadline rule may switch: see never_full). */
static void count_demand(struct bw *w, uint32_t job, uint32_t offer, int nodes)
{
    if (w->stamp[offer] != job + 1) {
        w->stamp[offer] = job + 1;
        w->stamp_nodes[offer] = 0;
    }
    if (nodes > w->stamp_nodes[offer]) {
        w->demand[offer] += nodes - w->stamp_nodes[offer];
        w->stamp_nodes[offer] = nodes;
    }
}

/* Is o in some commitment's group (catalog_commitment_in_group)?  The
 * simulator bills commitments per group (sim.c: the committed nodes
 * committed attempts leave free cover on-demand node-hours of the group,
 * whatever their zone and however large the gang), so the program lets
 * every on-demand candidate of a group use the group's committed nodes at
 * no cost. */
static int has_commit_group(const struct catalog *cat, const struct offer *o)
{
    size_t i;

    for (i = 0; i < catalog_ncommitments(cat); i++)
        if (catalog_commitment_in_group(catalog_commitment(cat, i), o))
            return 1;
    return 0;
}

/* A job's allowed candidates, sorted and unique, into *out (grown); the
 * count, or a negative error (ST_EINFEASIBLE: none). */
static int job_cands(struct bw *w, struct plan *p, const struct spec *s,
                     const struct policy *pol, const double *nows, size_t nnow,
                     uint32_t job, int holds, int *prompt, struct bcand **out, size_t *cap,
                     struct err *e)
{
    const struct sim_input *in = w->in;
    size_t i, k, n = 0, u = 0;
    int rc = ST_EINFEASIBLE;

    for (i = 0; i < nnow; i++) {
        struct plan_opts o = {.now = nows[i], .top = 0, .by_price = 0};
        int r = plan_rank(p, in->cat, s, pol, &o, e);

        if (r == ST_EINFEASIBLE)
            continue;
        if (r != 0)
            return r;
        rc = 0;
        *prompt &= p->rule == NULL || !(p->rule->patience > 0);
        *out = xgrow(*out, cap, n + 2 * p->n, sizeof(**out));
        for (k = 0; k < p->n; k++) {
            /* committed: one candidate per offer, whatever the commitment
             * (their nodes are pooled, at no marginal cost) */
            struct bcand c = {p->c[k].offer, p->c[k].mode, (uint8_t)p->c[k].tier, 0, 0,
                              p->alts[p->c[k].alt].speed, 0, 0, 0};

            (*out)[n++] = c;
            count_demand(w, job, c.offer, holds * p->c[k].nodes);
            *prompt &= p->c[k].nodes == s->num_nodes;
            /* on demand in a commitment's group: its committed nodes too
             * (has_commit_group), even where the plan offers none (a gang
             * larger than one commitment, another zone) */
            if (c.mode == PLAN_ONDEMAND &&
                has_commit_group(in->cat, catalog_offer(in->cat, c.offer))) {
                c.mode = PLAN_COMMITTED;
                (*out)[n++] = c;
            }
        }
    }
    if (rc != 0)
        return rc;
    qsort(*out, n, sizeof(**out), cand_cmp);
    for (i = 0; i < n; i++)
        if (u == 0 || cand_cmp(&(*out)[u - 1], &(*out)[i]) != 0)
            (*out)[u++] = (*out)[i];
    return (int)u;
}

static uint32_t pool_for(struct bw *w, uint32_t offer, int mode)
{
    int spot = mode == PLAN_SPOT;
    int32_t *slot = &w->pool_of[3 * (size_t)offer + (size_t)mode];

    if (*slot < 0) {
        w->pools = xgrow(w->pools, &w->pools_cap, w->npools + 1, sizeof(*w->pools));
        memset(&w->pools[w->npools], 0, sizeof(*w->pools));
        w->pools[w->npools].offer = offer;
        w->pools[w->npools].spot = spot;
        w->pools[w->npools].committed = mode == PLAN_COMMITTED;
        *slot = (int32_t)w->npools++;
    }
    return (uint32_t)*slot;
}

static void add_type_regions(struct bw *w, struct btype *t)
{
    size_t i, k;

    t->r0 = w->ntreg;
    for (i = 0; i < t->nc; i++) {
        uint32_t r = catalog_offer(w->in->cat, w->cand[t->c0 + i].offer)->region_idx;

        for (k = t->r0; k < w->ntreg && w->treg[k] != r; k++)
            ;
        w->cand[t->c0 + i].slot = (uint32_t)(k - t->r0);
        if (k < w->ntreg)
            continue;
        w->treg = xgrow(w->treg, &w->treg_cap, w->ntreg + 1, sizeof(*w->treg));
        w->treg[w->ntreg++] = r;
    }
    t->nr = w->ntreg - t->r0;
}

/* The type of a candidate set (made on first sight). */
static uint32_t type_of(struct bw *w, const struct bcand *c, size_t n)
{
    char *key = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&key, &len);
    uint32_t id = (uint32_t)w->ntypes;
    struct btype *t;

    for (i = 0; i < n; i++) {
        fprintf(f, "%u/%u/%u;", c[i].offer, c[i].mode, c[i].tier);
        if (c[i].mode == PLAN_COMMITTED)
            fprintf(f, "%.17g;", c[i].commit_price);
        if (c[i].speed != 1)
            fprintf(f, "v%.17g;", c[i].speed);
    }
    fclose(f);
    if (keymap_put(&w->tmap, strpool_intern(&w->keys, key), NULL, NULL, NULL, &id)) {
        free(key);
        return id;
    }
    free(key);
    w->types = xgrow(w->types, &w->types_cap, w->ntypes + 1, sizeof(*w->types));
    t = &w->types[w->ntypes++];
    memset(t, 0, sizeof(*t));
    t->c0 = w->ncand;
    t->nc = n;
    t->rel = xcalloc(w->nb + 1, sizeof(double));
    t->first = w->last;
    w->cand = xgrow(w->cand, &w->cand_cap, w->ncand + n, sizeof(*w->cand));
    for (i = 0; i < n; i++) {
        w->cand[w->ncand] = c[i];
        w->cand[w->ncand].od_pool =
            c[i].mode == PLAN_COMMITTED ? pool_for(w, c[i].offer, PLAN_ONDEMAND) : UINT32_MAX;
        w->cand[w->ncand++].pool = pool_for(w, c[i].offer, c[i].mode);
    }
    add_type_regions(w, t);
    return id;
}

/* Count a job's work into its type, and into its egress group if it has data. */
static void add_job(struct bw *w, uint32_t ti, const struct trace_job *j, double work)
{
    struct btype *t = &w->types[ti];
    double sub = j->submit_s > 0 ? j->submit_s : 0;
    size_t b = (size_t)(sub / w->B);
    char key[512];
    uint32_t gi = (uint32_t)w->ngroups;
    double rho;

    b = b < w->last ? b : w->last;
    t->rel[b] += work;
    t->first = b < t->first ? b : t->first;
    t->njobs++;
    if (*j->data_cloud == '\0' || j->data_gb <= 0 || *j->dataset != '\0')
        return;
    rho = j->data_gb / work;
    snprintf(key, sizeof(key), "%u|%s|%s|%d", ti, j->data_cloud, j->data_region,
             (int)floor(log(rho) / log(EGRESS_BIN)));
    if (!keymap_put(&w->gmap, strpool_intern(&w->keys, key), NULL, NULL, NULL, &gi)) {
        w->groups = xgrow(w->groups, &w->groups_cap, w->ngroups + 1, sizeof(*w->groups));
        w->groups[w->ngroups++] =
            (struct bgroup){ti, j->data_cloud, j->data_region, rho, 0, 0, NULL};
        t->has_groups = 1;
    }
    w->groups[gi].rho = fmin(w->groups[gi].rho, rho);
    w->groups[gi].work += work;
}

static int classify(struct bw *w, const struct policy *pol, struct err *e)
{
    const struct sim_input *in = w->in;
    double *saved = lowest_prices(in->cat, in->prices);
    size_t nnow, i, cap = 0;
    double *nows = plan_times(in, &nnow);
    struct bcand *c = NULL;
    struct plan p;
    int rc = 0;

    plan_init(&p);
    for (i = 0; rc == 0 && i < in->work->njobs; i++) {
        const struct trace_job *j = &in->work->jobs[i];
        struct spec *s = sim_job_spec(in, j);
        double work = s->num_nodes * j->duration_s / 3600.0;
        int prompt = j->deadline_s <= 0;
        /* a job with a deadline may hold two attempts' nodes for a step */
        int n = work > 0 ? job_cands(w, &p, s, pol, nows, nnow, (uint32_t)i,
                                     j->deadline_s > 0 ? 2 : 1, &prompt, &c, &cap, e)
                         : 0;

        w->jtype[i] = UINT32_MAX;
        if (n == ST_EINFEASIBLE)
            w->failed++; /* no schedule can run it: it adds nothing */
        else if (n < 0)
            rc = n;
        else if (n > 0) {
            w->jtype[i] = type_of(w, c, (size_t)n);
            w->jpin[i] = prompt ? s->num_nodes : 0;
            add_job(w, w->jtype[i], j, work);
        }
        spec_free(s);
    }
    plan_free(&p);
    free(c);
    free(nows);
    catalog_prices_restore(in->cat, saved);
    return rc;
}

/* ---- prices and capacities per bucket ---- */

struct step {
    double t, v;
};

static int step_cmp(const void *a, const void *b)
{
    double x = ((const struct step *)a)->t, y = ((const struct step *)b)->t;

    return x < y ? -1 : x > y;
}

/* The price a node of the pool's offer and mode can be billed at, least
 * per bucket: the price in force, or where it is not sold (< 0), the least
 * price in force before (what a running node keeps). */
struct price_walk {
    const struct trace *pr;
    const struct offer *o;
    int spot;
    size_t k;           /* next price row */
    double cur, before; /* in force now; least sold price so far */
};

static double walk_eff(const struct price_walk *pw)
{
    return pw->cur >= 0 ? pw->cur : pw->before;
}

/* Apply the rows before `t` (at or before it when `inclusive`); the least
 * billable price seen on the way. */
static double walk_to(struct price_walk *pw, double t, int inclusive)
{
    double m = walk_eff(pw);

    while (pw->pr && pw->k < pw->pr->nprices &&
           (pw->pr->prices[pw->k].time_s < t ||
            (inclusive && pw->pr->prices[pw->k].time_s == t))) {
        const struct trace_price *r = &pw->pr->prices[pw->k++];
        double v = pw->spot ? r->spot_price_hour : r->price_hour;

        if (v == TRACE_PRICE_UNCHANGED || !price_row_matches(r, pw->o))
            continue;
        pw->cur = v == TRACE_PRICE_NOT_SOLD ? -1 : v;
        pw->before = pw->cur >= 0 ? fmin(pw->before, pw->cur) : pw->before;
        m = fmin(m, walk_eff(pw));
    }
    return m;
}

static void pool_prices(struct bw *w, struct bpool *pl)
{
    const struct offer *o = catalog_offer(w->in->cat, pl->offer);
    struct price_walk pw = {
        w->in->prices, o, pl->spot, 0, pl->spot ? o->spot_price : o->price, 0};
    size_t b;

    pw.before = pw.cur >= 0 ? pw.cur : INFINITY;
    pl->price = xcalloc(w->nb + 1, sizeof(double));
    for (b = 0; b <= w->nb; b++) {
        double lo = (double)b * w->B, hi = b < w->nb ? lo + w->B : INFINITY;

        walk_to(&pw, lo, 1); /* rows at the bucket's start are in force in it */
        pl->price[b] = walk_to(&pw, hi, 0);
    }
}

/* Spread `nodes` held over [a, z) into the per-bucket node-hours. */
static void integrate(struct bw *w, double *cap, double a, double z, double nodes)
{
    size_t b;

    for (b = (size_t)(a / w->B); b < w->nb && (double)b * w->B < z; b++) {
        double lo = fmax(a, (double)b * w->B), hi = fmin(z, (double)(b + 1) * w->B);

        if (hi > lo)
            cap[b] += nodes * (hi - lo) / 3600.0;
    }
}

/* A spot pool's capacity steps: the trace's rows for its offer, replayed pass
 * after pass as the sim driver replays them, up to the horizon. */
static struct step *spot_steps(struct bw *w, const struct offer *o, long fleet, size_t *n)
{
    const struct trace *sp = w->in->spot;
    double span = 0, H = (double)w->nb * w->B;
    struct step *v = NULL;
    size_t i, cap = 0, pass;

    *n = 0;
    for (i = 0; sp && i < sp->nspot; i++)
        span = fmax(span, sp->spot[i].time_s);
    span = span > 0 ? span + 3600 : 0; /* the driver's gap between passes */
    for (pass = 0; sp && (pass == 0 || (span > 0 && (double)pass * span < H)); pass++) {
        for (i = 0; i < sp->nspot; i++) {
            const struct trace_spot *r = &sp->spot[i];
            double t = fmax(0, r->time_s) + (double)pass * span;

            if (t >= H ||
                !sim_row_matches(r->cloud, r->region, r->zone, r->instance_type, o))
                continue;
            v = xgrow(v, &cap, *n + 1, sizeof(*v));
            v[(*n)++] = (struct step){t, (double)trace_spot_nodes(r, fleet)};
        }
    }
    qsort(v, *n, sizeof(*v), step_cmp);
    return v;
}

static int spot_traced(const struct bw *w, const struct offer *o, int *any_up)
{
    const struct trace *sp = w->in->spot;
    size_t i;
    int hit = 0;

    for (i = 0; sp && i < sp->nspot; i++) {
        const struct trace_spot *r = &sp->spot[i];

        if (sim_row_matches(r->cloud, r->region, r->zone, r->instance_type, o)) {
            hit = 1;
            *any_up |= trace_spot_up(r);
        }
    }
    return hit;
}

/* A committed pool's capacity: the nodes of every commitment that covers
 * the offer, over its window.  Usable (in the tail too) when some
 * commitment is active at some time: the tail may then overstate it, which
 * only lowers the bound. */
static void commit_capacity(struct bw *w, struct bpool *pl, const struct offer *o)
{
    double H = (double)w->nb * w->B;
    size_t i;

    for (i = 0; i < catalog_ncommitments(w->in->cat); i++) {
        const struct commitment *m = catalog_commitment(w->in->cat, i);
        double a = m->start > 0 ? fmax(0, m->start - w->in->t0) : 0;
        double z = m->end > 0 ? m->end - w->in->t0 : INFINITY;

        if (!catalog_commitment_in_group(m, o) || z <= a)
            continue; /* every commitment of the group, whatever its zone */
        integrate(w, pl->cap, a, fmin(z, H), m->count);
        pl->usable |= z > a;
    }
}

static void pool_capacity(struct bw *w, struct bpool *pl)
{
    const struct offer *o = catalog_offer(w->in->cat, pl->offer);
    long fleet = pl->spot ? w->in->spot_cap[pl->offer] : w->in->od_cap[pl->offer];
    double H = (double)w->nb * w->B, t = 0, cur = (double)fleet;
    int any_up = fleet > 0;
    struct step *v;
    size_t n, i;

    pl->cap = xcalloc(w->nb + 1, sizeof(double));
    if (pl->committed) {
        commit_capacity(w, pl, o);
        return;
    }
    if (!pl->spot || !spot_traced(w, o, &any_up)) {
        integrate(w, pl->cap, 0, H, cur);
        pl->usable = fleet > 0;
        return;
    }
    pl->usable = any_up;
    v = spot_steps(w, o, fleet, &n);
    for (i = 0; i < n; i++) {
        integrate(w, pl->cap, t, v[i].t, cur);
        /* Rows at one instant: the driver applies them in heap order; the
         * largest can only overstate capacity. */
        cur = t == v[i].t && i > 0 ? fmax(cur, v[i].v) : v[i].v;
        t = v[i].t;
    }
    integrate(w, pl->cap, t, H, cur);
    free(v);
}

/* Does the price trace name offer o (its price may then change, or it may
 * stop being sold)? */
static int price_traced(const struct bw *w, const struct offer *o)
{
    const struct trace *pr = w->in->prices;
    size_t k;

    for (k = 0; pr && k < pr->nprices; k++)
        if (price_row_matches(&pr->prices[k], o))
            return 1;
    return 0;
}

/* Does another offer share o's cloud, region, zone and instance type (GCP's
 * n1 types with each GPU, a TPU VM type with each slice)?  The controller
 * and the sim driver count capacity, reservations and blocks per such key,
 * the program per offer. */
static int key_shared(const struct bw *w, uint32_t offer)
{
    const struct catalog *cat = w->in->cat;
    const struct offer *o = catalog_offer(cat, offer);
    size_t i, n = catalog_noffers(cat);

    for (i = 0; i < n; i++) {
        const struct offer *x = catalog_offer(cat, i);

        if (i != offer && x->region_idx == o->region_idx && x->zone == o->zone &&
            x->instance_type == o->instance_type) /* interned */
            return 1;
    }
    return 0;
}

/* An offer whose on-demand nodes no schedule can ever fill: no job of the
 * workload is lost to an injected fault or held by a team's quota or
 * budget (no --events, no teams), its price never changes, and all the
 * jobs that could hold or reserve its nodes, each with its most nodes there
 * in any mode, fit in them at once.  Spot jobs are counted too, and a job
 * with a deadline twice: within one step of the controller, a launch's
 * reservation is counted against the on-demand pool too where a driver does
 * not tell the pools apart, and the deadline rule may stop a job's attempt
 * and launch its next one before the driver has let the first one's nodes
 * go (the stop is handed over after placement). */
static int never_full(const struct bw *w, uint32_t offer)
{
    const struct sim_input *in = w->in;

    return in->nevents == 0 && in->org == NULL && in->od_cap[offer] > 0 &&
           w->demand[offer] <= (double)in->od_cap[offer] &&
           !price_traced(w, catalog_offer(in->cat, offer)) && !key_shared(w, offer);
}

/* Is offer's cloud one a compared run confines every job to?  Such a run (a
 * baseline) skips the allowed clouds, so it may use this one as overflow
 * while they have room. */
static int narrowed(const struct bw *w, uint32_t offer)
{
    const char *cloud = catalog_offer(w->in->cat, offer)->cloud;
    size_t i;

    for (i = 0; i < w->in->nnarrowed; i++)
        if (strcmp(w->in->narrowed[i], cloud) == 0)
            return 1;
    return 0;
}

/* Overflow clouds (a rule's `overflow`) take a job only when every place its
 * allowed clouds offer is unusable at that moment: the controller tries a
 * job's candidates in the plan's order, which puts every allowed candidate
 * before every overflow one (plan_cand_cmp: tier first), and takes the
 * first it can use (sched_place.c: first_usable; patience waits only for
 * places no further down the tiers).  For a type with no spot candidate,
 * an allowed on-demand candidate whose offer is never_full is always
 * usable: it is a candidate at every moment (its price is constant, and
 * the rest of plan_rank's checks do not depend on time), and of the
 * reasons a candidate is passed over, none can hold for it: it is never
 * full (by induction on time: until it first fills, nothing is displaced
 * or preempted off it, so at most the jobs counted in its demand hold or
 * reserve its nodes, each with at most the nodes never_full counts it
 * with), no launch on it is refused (so it is never
 * blocked), the deadline rule's modes pass an on-demand candidate when the
 * job has no spot one, the job is never preempted (so never avoids a
 * region), and without teams there is no quota.  So no job of the type
 * ever reaches an overflow candidate, and the type's overflow columns are
 * left out.  (Otherwise they stay: a schedule may fill the allowed places,
 * even with other work, and then overflow is the rule.  They stay too where
 * a compared baseline confines every job to the overflow cloud: it skips
 * the allowed ones, which no schedule under the rule does, and the bound is
 * to stay below it as well.) */
static void moot_overflow(struct bw *w)
{
    size_t i, k;

    for (i = 0; i < w->ntypes; i++) {
        struct btype *t = &w->types[i];
        int open = 0, sure = 0; /* open: overflow stays open to the type */

        for (k = 0; k < t->nc; k++) {
            const struct bcand *c = &w->cand[t->c0 + k];

            open |= c->mode == PLAN_SPOT || (c->tier > 0 && narrowed(w, c->offer));
        }
        for (k = 0; !open && !sure && k < t->nc; k++) {
            const struct bcand *c = &w->cand[t->c0 + k];

            sure = c->tier == 0 && c->mode == PLAN_ONDEMAND && never_full(w, c->offer);
        }
        for (k = 0; !open && sure && k < t->nc; k++)
            w->cand[t->c0 + k].moot = w->cand[t->c0 + k].tier > 0;
    }
}

/* Jobs held to their submission time (sim_input.pin: every compared run
 * started them at once and ran them to their end on one attempt) whose
 * policy does not let them wait: no patience, no deadline (the deadline rule
 * may wait for spot), and the spec's nodes on every candidate.  The bound
 * is then for the schedules that start them when they come, as the rule
 * says and as every compared run did, not for every schedule (one that
 * lets them wait for the hours committed nodes stand idle, or prices are
 * low, is not bounded).  Such a job's work W (each node-hour on c counted
 * v(c)) is done at n v(c) an hour on one candidate c from a start in
 * [r, r + the launch delay + SIM_PROMPT_S]: by time t it has been billed for
 * at most n vmax (t - r) of work and has done at least
 * min(W, n vmin (t - r - that slack)), vmin and vmax the least and most v(c)
 * of its type.  Summed over a type's pinned jobs these bound the work the
 * type carries out of each bucket from below (lo) and above (released minus
 * cut), in the header's mapping. */
static void pin_add(struct bw *w, struct btype *t, const struct trace_job *j, double work,
                    int nodes, double vmin, double vmax, double slack)
{
    double r = j->submit_s > 0 ? j->submit_s : 0;
    size_t b = (size_t)(r / w->B);

    if (t->lo == NULL) {
        t->lo = xcalloc(w->nb + 1, sizeof(double));
        t->cut = xcalloc(w->nb + 1, sizeof(double));
    }
    for (; b < w->last; b++) { /* to the end: the carry counts every job */
        double end = (double)(b + 1) * w->B;

        t->lo[b] += work - fmin(work, nodes * vmax * fmax(0, end - r) / 3600);
        t->cut[b] += fmin(work, nodes * vmin * fmax(0, end - r - slack) / 3600);
    }
}

static void pin_jobs(struct bw *w)
{
    const struct sim_input *in = w->in;
    size_t i, k;

    for (i = 0; in->pin && i < in->work->njobs; i++) {
        const struct trace_job *j = &in->work->jobs[i];
        double vmin = INFINITY, vmax = 0;
        struct btype *t;

        if (!in->pin[i] || w->jtype[i] == UINT32_MAX || w->jpin[i] <= 0)
            continue;
        t = &w->types[w->jtype[i]];
        for (k = 0; k < t->nc; k++) {
            vmin = fmin(vmin, w->cand[t->c0 + k].speed);
            vmax = fmax(vmax, w->cand[t->c0 + k].speed);
        }
        if (!(vmin > 0))
            continue;
        pin_add(w, t, j, w->jpin[i] * j->duration_s / 3600.0, w->jpin[i], vmin, vmax,
                in->launch_delay_s + SIM_PROMPT_S);
        w->pinned++;
    }
}

/* A type whose candidates never hold a node cannot run at all. */
static void mark_dead(struct bw *w)
{
    size_t i, k;

    for (i = 0; i < w->ntypes; i++) {
        struct btype *t = &w->types[i];

        t->dead = 1;
        for (k = 0; k < t->nc; k++)
            t->dead &= w->cand[t->c0 + k].moot || !w->pools[w->cand[t->c0 + k].pool].usable;
        if (t->dead)
            w->failed += t->njobs;
        else
            w->bounded += t->njobs;
    }
}

/* ---- the program ---- */

/* The program is solved by column generation: it starts with each type's
 * two cheapest candidates per bucket and each group's cheapest region, and
 * at the duals of each solve adds, per type and bucket and per group, the
 * column with the most negative reduced cost, until none is below
 * -LP_DJ_EPS (the full program has ~80,000 columns on the ITP study, and
 * GLPK's simplex takes over a minute on it; the restricted one ~20,000,
 * most of them entered in the ~60 rounds, each warm-started).  The result
 * is the restricted optimum plus, for every column left out, its reduced
 * cost (> -LP_DJ_EPS) times the most it could carry: the Lagrangian bound,
 * so that a tolerance can never lift the bound above the full optimum.
 * Capacity rows enter with their pool's first column (until then their
 * dual is 0, which is dual-feasible for an inequality nothing uses).  An
 * artificial column per balance and group row, at a cost no real node-hour
 * approaches, keeps every restricted program feasible; one left in the
 * optimum means the full program has no solution. */
#define LP_ARTIFICIAL 1e6 /* $/node-hour */
#define LP_START 2        /* candidates per type and bucket to start with */
#define LP_DJ_EPS 1e-7    /* a reduced cost below -this enters */

struct lp {
    glp_prob *P;
    size_t nnz;
    int ncols;
    int *col_cloud;  /* per column: cloud index, or -1 (carry, artificial) */
    int *col_bucket; /* per column: bucket, or -1 (egress) */
    const double **col_share; /* per egress column: the share each cloud bills
                                 (SIM_NCLOUDS, least_egress), else NULL */
    size_t meta_cap;
    int **xcol;   /* per type: nc x (last + 1) columns, 0 = not in yet */
    int **ycol;   /* per group: one per region of its type */
    int *cap_row; /* per pool: its first capacity row, 0 = not in yet */
    int *art;     /* the artificial columns */
    size_t nart, art_cap;
    double *dual; /* per row, from the last solve */
    int ndual;    /* rows at the last solve (later ones: dual 0) */
    double slack; /* sum of min(0, reduced cost) x column bound, left out */
    int rounds;
};

/* A new column >= 0 with objective coefficient `cost` and entries val at
 * rows ind[1 .. n]. */
static int lp_col(struct lp *L, double cost, int cloud, int bucket, int n, const int *ind,
                  const double *val)
{
    int j = glp_add_cols(L->P, 1);

    glp_set_col_bnds(L->P, j, GLP_LO, 0, 0);
    glp_set_obj_coef(L->P, j, cost);
    glp_set_mat_col(L->P, j, n, ind, val);
    L->nnz += (size_t)n;
    if ((size_t)j + 1 > L->meta_cap) {
        size_t cap = L->meta_cap;

        L->col_cloud = xgrow(L->col_cloud, &cap, (size_t)j + 1, sizeof(int));
        L->col_bucket = xrealloc(L->col_bucket, cap * sizeof(int));
        L->col_share = xrealloc(L->col_share, cap * sizeof(*L->col_share));
        L->meta_cap = cap;
    }
    L->col_cloud[j] = cloud;
    L->col_bucket[j] = bucket;
    L->col_share[j] = NULL;
    L->ncols = j;
    return j;
}

static void lp_artificial(struct lp *L, int row)
{
    int ind[2] = {0, row};
    double val[2] = {0, 1};

    L->art = xgrow(L->art, &L->art_cap, L->nart + 1, sizeof(*L->art));
    L->art[L->nart++] = lp_col(L, LP_ARTIFICIAL, -1, -1, 1, ind, val);
}

static int add_rows(struct lp *L, size_t n, int type, double v)
{
    int r;
    size_t i;

    if (n == 0)
        return glp_get_num_rows(L->P) + 1;
    r = glp_add_rows(L->P, (int)n);
    for (i = 0; i < n; i++)
        glp_set_row_bnds(L->P, r + (int)i, type, v, v);
    return r;
}

/* Rows: balance per (type, bucket from its first), link per (type with
 * egress groups, region), one per group; and the carries, which are few. */
static void build_rows(struct bw *w, struct lp *L)
{
    size_t i, b;

    for (i = 0; i < w->ntypes; i++) {
        struct btype *t = &w->types[i];
        double rel = 0;

        if (t->dead)
            continue;
        t->bal0 = (size_t)add_rows(L, w->last + 1 - t->first, GLP_FX, 0);
        for (b = t->first; b <= w->last; b++)
            glp_set_row_bnds(L->P, (int)(t->bal0 + b - t->first), GLP_FX, t->rel[b],
                             t->rel[b]);
        if (t->has_groups)
            t->link0 = (size_t)add_rows(L, t->nr, GLP_LO, 0);
        for (b = t->first; b < w->last; b++) {
            int ind[3] = {0, (int)(t->bal0 + b - t->first),
                          (int)(t->bal0 + b + 1 - t->first)};
            double val[3] = {0, 1, -1};
            int col = lp_col(L, 0, -1, -1, 2, ind, val);

            rel += t->rel[b];
            if (t->lo != NULL) { /* pinned jobs: between lo and rel - cut */
                double hi = fmax(t->lo[b], rel - t->cut[b]);

                glp_set_col_bnds(L->P, col, t->lo[b] < hi ? GLP_DB : GLP_FX, t->lo[b], hi);
                lp_artificial(L, ind[1]); /* the restricted program stays feasible */
            }
        }
        lp_artificial(L, (int)(t->bal0 + w->last - t->first));
    }
    for (i = 0; i < w->ngroups; i++) {
        struct bgroup *g = &w->groups[i];

        if (w->types[g->type].dead)
            continue;
        g->row = (size_t)add_rows(L, 1, GLP_FX, g->work);
        lp_artificial(L, (int)g->row);
    }
}

static int cap_rows(struct bw *w, struct lp *L, uint32_t pool)
{
    size_t b;

    if (L->cap_row[pool] == 0) {
        L->cap_row[pool] = add_rows(L, w->nb, GLP_UP, 0);
        for (b = 0; b < w->nb; b++)
            glp_set_row_bnds(L->P, L->cap_row[pool] + (int)b, GLP_UP, 0,
                             w->pools[pool].cap[b]);
    }
    return L->cap_row[pool];
}

/* The price of candidate k of type t in bucket b, or INFINITY when it
 * cannot run then (not sold, or no capacity). */
static double x_price(const struct bw *w, const struct btype *t, size_t k, size_t b)
{
    const struct bcand *c = &w->cand[t->c0 + k];
    const struct bpool *pl = &w->pools[c->pool];

    if (b < w->nb ? pl->cap[b] <= 0 : !pl->usable)
        return INFINITY;
    if (c->moot)
        return INFINITY;
    if (c->od_pool != UINT32_MAX) { /* committed nodes are on-demand nodes too */
        const struct bpool *od = &w->pools[c->od_pool];

        if (b < w->nb ? od->cap[b] <= 0 : !od->usable)
            return INFINITY;
    }
    return c->mode == PLAN_COMMITTED ? 0 : pl->price[b];
}

static void add_x(struct bw *w, struct lp *L, size_t ti, size_t k, size_t b)
{
    const struct btype *t = &w->types[ti];
    const struct bcand *c = &w->cand[t->c0 + k];
    const struct offer *o = catalog_offer(w->in->cat, c->offer);
    int ind[5] = {0, (int)(t->bal0 + b - t->first), 0, 0, 0}, n = 1;
    double val[5] = {0, c->speed, 1, 1, 1};

    if (b < w->nb)
        ind[++n] = cap_rows(w, L, c->pool) + (int)b;
    if (b < w->nb && c->od_pool != UINT32_MAX)
        ind[++n] = cap_rows(w, L, c->od_pool) + (int)b;
    if (t->has_groups) {
        ind[++n] = (int)(t->link0 + c->slot);
        val[n] = c->speed;
    }
    L->xcol[ti][k * (w->last + 1) + b] =
        lp_col(L, x_price(w, t, k, b), sim_cloud_index(o->cloud), (int)b, n, ind, val);
}

/* Least $/GB of moving data from (cloud, region) to each catalog region by
 * any path of moves (catalog_egress_relax, as the controller moves it), and
 * for each region the share of that price each cloud bills: the cloud the
 * data leaves at each hop of the path (sched_egress_sources counts a copy's
 * move so); cached.  d[0 .. n) the prices, then n x SIM_NCLOUDS shares. */
static const double *least_egress(struct bw *w, const char *cloud, const char *region)
{
    const struct catalog *cat = w->in->cat;
    size_t n = catalog_nregions(cat), i, steps;
    uint32_t ix = (uint32_t)w->nsp, *via, u, v;
    double *d, *direct;

    if (keymap_put(&w->smap, strpool_intern(&w->keys, cloud), strpool_intern(&w->keys, region),
                   NULL, NULL, &ix))
        return w->sp[ix];
    d = xcalloc(n + 1 + n * SIM_NCLOUDS, sizeof(*d));
    direct = xmalloc((n + 1) * sizeof(*direct));
    via = xmalloc((n + 1) * sizeof(*via));
    for (i = 0; i < n; i++) {
        const struct region *rg = catalog_region_at(cat, i);

        d[i] = direct[i] =
            fmax(0, catalog_egress_per_gb(cat, cloud, region, rg->cloud, rg->name));
        via[i] = (uint32_t)n; /* from the data's location itself */
    }
    catalog_egress_relax(cat, d, via, NULL); /* the controller's chains of moves */
    for (i = 0; i < n; i++) {
        double *share = d + n + 1 + i * SIM_NCLOUDS, sum = 0;
        int k;

        /* back along the chain: each hop's price to the cloud it leaves */
        for (v = (uint32_t)i, steps = 0; via[v] != n && steps < n; v = u, steps++) {
            const struct region *a = catalog_region_at(cat, u = via[v]);
            const struct region *b = catalog_region_at(cat, v);
            double c =
                fmax(0, catalog_egress_per_gb(cat, a->cloud, a->name, b->cloud, b->name));

            share[sim_cloud_index(a->cloud)] += c;
            sum += c;
        }
        share[sim_cloud_index(cloud)] += direct[v];
        sum += direct[v];
        for (k = 0; k < SIM_NCLOUDS; k++) /* no price on any hop: the source's */
            share[k] = sum > 0 ? share[k] / sum : k == sim_cloud_index(cloud);
    }
    free(direct);
    free(via);
    w->sp = xgrow(w->sp, &w->sp_cap, w->nsp + 1, sizeof(*w->sp));
    w->sp[w->nsp++] = d;
    return d;
}

static double y_cost(struct bw *w, struct bgroup *g, size_t k)
{
    const struct btype *t = &w->types[g->type];
    size_t i;

    if (g->ycost == NULL) {
        const double *d = least_egress(w, g->dcloud, g->dregion);

        g->ycost = xcalloc(t->nr + 1, sizeof(double));
        for (i = 0; i < t->nr; i++)
            g->ycost[i] = g->rho * d[w->treg[t->r0 + i]];
    }
    return g->ycost[k];
}

static void add_y(struct bw *w, struct lp *L, size_t gi, size_t k)
{
    struct bgroup *g = &w->groups[gi];
    const struct btype *t = &w->types[g->type];
    size_t r = w->treg[t->r0 + k];
    const struct region *rg = catalog_region_at(w->in->cat, r);
    int ind[3] = {0, (int)(t->link0 + k), (int)g->row};
    double val[3] = {0, -1, 1};

    L->ycol[gi][k] =
        lp_col(L, y_cost(w, g, k), sim_cloud_index(rg->cloud), -1, 2, ind, val);
    /* its cost is billed by the clouds the data leaves on the way */
    L->col_share[L->ycol[gi][k]] = least_egress(w, g->dcloud, g->dregion) +
                                   catalog_nregions(w->in->cat) + 1 + r * SIM_NCLOUDS;
}

/* The starting columns: per type and bucket the LP_START cheapest
 * candidates, per group its cheapest region. */
static void start_cols(struct bw *w, struct lp *L)
{
    size_t i, b, k, n;

    for (i = 0; i < w->ntypes; i++) {
        const struct btype *t = &w->types[i];

        for (b = t->first; !t->dead && b <= w->last; b++) {
            for (n = 0; n < LP_START; n++) {
                size_t best = t->nc;

                for (k = 0; k < t->nc; k++)
                    if (L->xcol[i][k * (w->last + 1) + b] == 0 &&
                        isfinite(x_price(w, t, k, b)) &&
                        (best == t->nc || x_price(w, t, k, b) < x_price(w, t, best, b)))
                        best = k;
                if (best < t->nc)
                    add_x(w, L, i, best, b);
            }
        }
    }
    for (i = 0; i < w->ngroups; i++) {
        const struct btype *t = &w->types[w->groups[i].type];
        size_t best = 0;

        for (k = 1; !t->dead && k < t->nr; k++)
            if (y_cost(w, &w->groups[i], k) < y_cost(w, &w->groups[i], best))
                best = k;
        if (!t->dead)
            add_y(w, L, i, best);
    }
}

/* The reduced cost of candidate k of type t in bucket b at the last duals
 * (INFINITY when the column cannot exist). */
static double x_dj(const struct bw *w, const struct lp *L, const struct btype *t,
                   size_t k, size_t b)
{
    const struct bcand *c = &w->cand[t->c0 + k];
    double d = x_price(w, t, k, b);

    if (!isfinite(d))
        return d;
    d -= c->speed * L->dual[t->bal0 + b - t->first];
    if (t->has_groups)
        d -= c->speed * L->dual[t->link0 + c->slot];
    /* A pool's rows entered in this pass have no dual yet: 0, as before. */
    if (b < w->nb && L->cap_row[c->pool] && L->cap_row[c->pool] + (int)b <= L->ndual)
        d -= L->dual[L->cap_row[c->pool] + (int)b];
    if (b < w->nb && c->od_pool != UINT32_MAX && L->cap_row[c->od_pool] &&
        L->cap_row[c->od_pool] + (int)b <= L->ndual)
        d -= L->dual[L->cap_row[c->od_pool] + (int)b];
    return d;
}

/* One pricing pass over the x columns: per type and bucket, the one with the
 * most negative reduced cost enters (partial pricing keeps the program
 * small); the count. */
static size_t price_x(struct bw *w, struct lp *L)
{
    size_t i, k, b, added = 0;

    for (i = 0; i < w->ntypes; i++) {
        const struct btype *t = &w->types[i];
        double bound = 0;

        for (b = t->first; b <= w->last; b++)
            bound += t->rel[b]; /* no column of t runs more than its work */
        for (b = t->first; b <= w->last && !t->dead; b++) {
            size_t best = t->nc;
            double dbest = -LP_DJ_EPS;

            for (k = 0; k < t->nc; k++) {
                double d = L->xcol[i][k * (w->last + 1) + b] ? 0 : x_dj(w, L, t, k, b);

                if (d < dbest) {
                    best = k;
                    dbest = d;
                } else if (d < 0) {
                    L->slack += d * bound / w->cand[t->c0 + k].speed;
                }
            }
            if (best < t->nc) {
                add_x(w, L, i, best, b);
                added++;
            }
        }
    }
    return added;
}

/* The same over the y columns: per group, the best region enters. */
static size_t price_y(struct bw *w, struct lp *L)
{
    size_t i, k, added = 0;

    for (i = 0; i < w->ngroups; i++) {
        struct bgroup *g = &w->groups[i];
        const struct btype *t = &w->types[g->type];
        size_t best = t->nr;
        double dbest = -LP_DJ_EPS;

        for (k = 0; k < t->nr && !t->dead; k++) {
            double d = L->ycol[i][k]
                           ? 0
                           : y_cost(w, g, k) + L->dual[t->link0 + k] - L->dual[g->row];

            if (d < dbest) {
                best = k;
                dbest = d;
            } else if (d < 0) {
                L->slack += d * g->work;
            }
        }
        if (best < t->nr) {
            add_y(w, L, i, best);
            added++;
        }
    }
    return added;
}

static void lp_init(struct bw *w, struct lp *L)
{
    size_t i;

    memset(L, 0, sizeof(*L));
    L->P = glp_create_prob();
    glp_set_obj_dir(L->P, GLP_MIN);
    L->xcol = xcalloc(w->ntypes + 1, sizeof(*L->xcol));
    for (i = 0; i < w->ntypes; i++)
        L->xcol[i] = xcalloc(w->types[i].nc * (w->last + 1) + 1, sizeof(int));
    L->ycol = xcalloc(w->ngroups + 1, sizeof(*L->ycol));
    for (i = 0; i < w->ngroups; i++)
        L->ycol[i] = xcalloc(w->types[w->groups[i].type].nr + 1, sizeof(int));
    L->cap_row = xcalloc(w->npools + 1, sizeof(int));
    build_rows(w, L);
    start_cols(w, L);
}

/* Solve the restricted program from the current basis; 0 or an error. */
static int lp_solve(struct lp *L, struct err *e)
{
    glp_smcp parm;
    int rc, st, prev = glp_term_out(GLP_OFF), i, m;

    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    if (L->rounds++ == 0)
        glp_adv_basis(L->P, 0);
    rc = glp_simplex(L->P, &parm);
    if (rc == GLP_EBADB || rc == GLP_ESING || rc == GLP_ECOND) {
        glp_std_basis(L->P); /* a basis gone bad (new rows): start afresh */
        rc = glp_simplex(L->P, &parm);
    }
    glp_term_out(prev);
    st = glp_get_status(L->P);
    if (rc != 0 || st != GLP_OPT)
        return err_set(e, ST_EINTERNAL,
                       "offline bound: GLPK found no optimum (simplex %d, status %d)", rc,
                       st);
    m = glp_get_num_rows(L->P);
    L->dual = xrealloc(L->dual, (size_t)(m + 1) * sizeof(double));
    L->dual[0] = 0; /* row 0 stands for "no row" */
    for (i = 1; i <= m; i++)
        L->dual[i] = glp_get_row_dual(L->P, i);
    L->ndual = m;
    return 0;
}

/* 0 with the optimum, 1 when the program has no solution (with a finite
 * horizon: no schedule within the rules finishes by then), else an error. */
static int solve(struct bw *w, struct lp *L, struct err *e)
{
    size_t i, added = L->ncols > 0;
    int rc = 0;

    while (rc == 0 && added > 0) {
        rc = lp_solve(L, e);
        L->slack = 0;
        added = rc == 0 ? price_x(w, L) + price_y(w, L) : 0;
    }
    for (i = 0; rc == 0 && i < L->nart; i++)
        if (glp_get_col_prim(L->P, L->art[i]) > 1e-6)
            return 1;
    return rc;
}

static void lp_free(const struct bw *w, struct lp *L)
{
    size_t i;

    if (L->P)
        glp_delete_prob(L->P);
    for (i = 0; L->xcol && i < w->ntypes; i++)
        free(L->xcol[i]);
    for (i = 0; L->ycol && i < w->ngroups; i++)
        free(L->ycol[i]);
    free(L->xcol);
    free(L->ycol);
    free(L->cap_row);
    free(L->art);
    free(L->dual);
    free(L->col_cloud);
    free(L->col_bucket);
    free(L->col_share);
}

/* ---- the result ---- */

static void add_spend(const struct bw *w, struct sim_result *res, int cloud, int bucket,
                      double usd)
{
    double from = bucket >= 0 ? bucket * w->B : 0;
    size_t b0 = (size_t)(from / res->bucket_s),
           b1 = (size_t)((from + w->B) / res->bucket_s), b;

    for (b = b0; b <= b1 && b < res->nbuckets; b++) {
        double lo = fmax(from, (double)b * res->bucket_s);
        double hi = fmin(from + w->B, (double)(b + 1) * res->bucket_s);

        if (hi > lo)
            res->spend[(size_t)cloud * res->nbuckets + b] += usd * (hi - lo) / w->B;
    }
}

static void collect(const struct bw *w, const struct lp *L, struct sim_result *res)
{
    size_t i, k, b;
    int j;

    /* Columns left out could each lower the optimum by at most their
     * (tiny, above -LP_DJ_EPS) reduced cost times the work they could carry. */
    res->cost = (L->ncols > 0 ? glp_get_obj_val(L->P) : 0) + L->slack;
    for (j = 1; j <= L->ncols; j++) {
        double usd = glp_get_col_prim(L->P, j) * glp_get_obj_coef(L->P, j);

        if (L->col_cloud[j] < 0 || usd <= 0)
            continue;
        if (L->col_bucket[j] < 0)
            res->egress_cost += usd; /* a y column: moving data */
        if (L->col_share[j] != NULL) { /* by the clouds that bill it */
            int c;

            for (c = 0; c < SIM_NCLOUDS; c++)
                if (L->col_share[j][c] > 0) {
                    res->cost_by_cloud[c] += usd * L->col_share[j][c];
                    add_spend(w, res, c, L->col_bucket[j], usd * L->col_share[j][c]);
                }
            continue;
        }
        res->cost_by_cloud[L->col_cloud[j]] += usd;
        add_spend(w, res, L->col_cloud[j], L->col_bucket[j], usd);
    }
    for (i = 0; i < w->ntypes; i++) /* node-hours on committed nodes */
        for (k = 0; k < w->types[i].nc; k++)
            for (b = 0; w->cand[w->types[i].c0 + k].mode == PLAN_COMMITTED && b <= w->last; b++)
                if ((j = L->xcol[i][k * (w->last + 1) + b]) != 0)
                    res->commit_used_h += glp_get_col_prim(L->P, j);
    res->lp_rows = (size_t)glp_get_num_rows(L->P);
    res->lp_cols = (size_t)L->ncols;
    res->lp_rounds = L->rounds;
    res->lp_nnz = L->nnz;
    res->lp_horizon_s = w->tail ? 0 : (double)w->nb * w->B;
}

static void bw_init(struct bw *w, const struct sim_input *in, double bucket_s,
                    double end_s)
{
    double H = end_s > 0 ? end_s : 0;
    size_t i, n = catalog_noffers(in->cat);

    memset(w, 0, sizeof(*w));
    w->in = in;
    w->B = bucket_s > 0 ? bucket_s : SIM_BOUND_BUCKET_S;
    for (i = 0; i < in->work->njobs; i++)
        H = fmax(H, in->work->jobs[i].submit_s + in->work->jobs[i].duration_s);
    w->nb = (size_t)ceil(H / w->B);
    w->nb = w->nb > 0 ? w->nb : 1;
    w->tail = end_s <= 0;
    w->last = w->tail ? w->nb : w->nb - 1;
    w->pool_of = xcalloc(3 * n + 1, sizeof(int32_t));
    w->demand = xcalloc(n + 1, sizeof(double));
    w->stamp = xcalloc(n + 1, sizeof(uint32_t));
    w->stamp_nodes = xcalloc(n + 1, sizeof(int));
    w->jtype = xcalloc(in->work->njobs + 1, sizeof(uint32_t));
    w->jpin = xcalloc(in->work->njobs + 1, sizeof(int));
    for (i = 0; i < 3 * n; i++)
        w->pool_of[i] = -1;
    strpool_init(&w->keys);
    keymap_init(&w->tmap);
    keymap_init(&w->gmap);
    keymap_init(&w->smap);
}

static void bw_free(struct bw *w)
{
    size_t i;

    for (i = 0; i < w->nsp; i++)
        free(w->sp[i]);
    free(w->sp);
    keymap_free(&w->smap);
    for (i = 0; i < w->ntypes; i++) {
        free(w->types[i].rel);
        free(w->types[i].lo);
        free(w->types[i].cut);
    }
    free(w->jtype);
    free(w->jpin);
    for (i = 0; i < w->ngroups; i++)
        free(w->groups[i].ycost);
    for (i = 0; i < w->npools; i++) {
        free(w->pools[i].price);
        free(w->pools[i].cap);
    }
    free(w->types);
    free(w->cand);
    free(w->treg);
    free(w->groups);
    free(w->pools);
    free(w->pool_of);
    free(w->demand);
    free(w->stamp);
    free(w->stamp_nodes);
    strpool_free(&w->keys);
    keymap_free(&w->tmap);
    keymap_free(&w->gmap);
}

static int bound_once(const struct sim_input *in, const struct policy *pol,
                      double bucket_s, double end_s, struct sim_result *res,
                      struct err *e)
{
    double t0 = clock_mono();
    struct lp L;
    struct bw w;
    size_t i;
    int rc;

    sim_result_init(in, "offline-bound", res);
    res->lower_bound = 1;
    bw_init(&w, in, bucket_s, end_s);
    memset(&L, 0, sizeof(L));
    rc = classify(&w, pol, e);
    if (rc == 0) {
        for (i = 0; i < w.npools; i++) {
            pool_prices(&w, &w.pools[i]);
            pool_capacity(&w, &w.pools[i]);
        }
        moot_overflow(&w);
        pin_jobs(&w);
        mark_dead(&w);
        lp_init(&w, &L);
        rc = solve(&w, &L, e);
    }
    if (rc == 0)
        collect(&w, &L, res);
    res->njobs = in->work->njobs;
    res->lp_pinned = rc == 0 ? w.pinned : 0;
    res->failed = w.failed;
    res->succeeded = w.bounded;
    res->wall_s = clock_mono() - t0;
    lp_free(&w, &L);
    bw_free(&w);
    return rc;
}

int sim_bound_lp(const struct sim_input *in, const struct policy *pol, double bucket_s,
                 double end_s, struct sim_result *res, struct err *e)
{
    struct sim_input any = *in;
    int rc;

    if (lazyglpk_load(e) != 0) {
        sim_result_init(in, "offline-bound", res);
        return -1;
    }
    rc = bound_once(in, pol, bucket_s, end_s, res, e);

    /* The runs started the pinned jobs in a way this model of them cannot
     * (it should not happen: see pin_jobs): the bound for schedules that
     * may let them wait. */
    any.pin = NULL;
    if (rc == 1 && in->pin) {
        sim_result_free(res);
        rc = bound_once(&any, pol, bucket_s, end_s, res, e);
    }
    /* No schedule within the rules finishes by end_s (the sim world let a
     * run do what this model of it forbids, or a run failed jobs): the bound
     * for schedules that may take forever still holds. */
    if (rc == 1 && end_s > 0) {
        sim_result_free(res);
        rc = bound_once(&any, pol, bucket_s, 0, res, e);
    }
    return rc == 1
               ? err_set(e, ST_EINTERNAL, "offline bound: the program has no solution")
               : rc;
}

int sim_offline_bound(const struct sim_input *in, const struct policy *pol, double end_s,
                      struct sim_result *res, struct err *e)
{
    return sim_bound_lp(in, pol, 0, end_s, res, e);
}
