/*
 * sim.c - the simulator's engine (see sim.h).
 *
 * Layout: the fleet file; the virtual clock; specs made from trace rows; one
 * run (submit jobs as virtual time reaches them, step the real controller
 * over the sim driver until every job has ended); the results; the events
 * file.  The offline lower bound is bound.c.
 */
#include "sim.h"
#include "bound.h"
#include "trace.h"
#include "../catalog/catalog.h"
#include "../driver/driver.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/csv.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const sim_cloud_names[SIM_NCLOUDS] = {"azure", "gcp", "oci", "aws", "other"};

static int cloud_index(const char *c)
{
    int i;

    for (i = 0; i < SIM_NCLOUDS - 1; i++)
        if (strcmp(c, sim_cloud_names[i]) == 0)
            return i;
    return SIM_NCLOUDS - 1;
}

int sim_cloud_index(const char *cloud)
{
    return cloud_index(cloud);
}

/* ---- the fleet file ---- */

enum { F_LOC, F_TYPE, F_NODES, F_SPOT };
static const struct csv_col fleet_cols[] = {
    {"location", 1}, {"instance_type", 1}, {"nodes", 1}, {"spot_nodes", 0},
};

static int loc_matches(const char *pat, const struct offer *o)
{
    char loc[256];

    snprintf(loc, sizeof(loc), "%s/%s/%s", o->cloud, o->region, o->zone);
    if (str_glob(pat, loc))
        return 1;
    snprintf(loc, sizeof(loc), "%s/%s", o->cloud, o->region);
    return str_glob(pat, loc);
}

static int fleet_row(const struct catalog *cat, const struct csv *c, long *od, long *spot,
                     char *set, struct err *e)
{
    static const long zero = 0;
    long nodes, snodes;
    size_t i, hit = 0;
    int rc;

    if ((rc = csv_long(c, F_NODES, "nodes", 0, 100000000, NULL, &nodes, e)) != 0 ||
        (rc = csv_long(c, F_SPOT, "spot_nodes", 0, 100000000, &zero, &snodes, e)) != 0)
        return rc;
    for (i = 0; i < catalog_noffers(cat); i++) {
        const struct offer *o = catalog_offer(cat, i);

        if (!loc_matches(csv_get(c, F_LOC), o) || !str_glob(csv_get(c, F_TYPE), o->instance_type))
            continue;
        hit++;
        if (set[i])
            continue; /* the first matching row wins */
        set[i] = 1;
        od[i] = nodes;
        spot[i] = snodes;
    }
    if (hit == 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "no catalog offer matches location '%s' and instance type '%s'",
                      csv_get(c, F_LOC), csv_get(c, F_TYPE));
    return 0;
}

int sim_load_fleet(const struct catalog *cat, const char *path, long **od_cap, long **spot_cap,
                   struct err *e)
{
    size_t n = catalog_noffers(cat);
    long *od = xcalloc(n + 1, sizeof(long)), *spot = xcalloc(n + 1, sizeof(long));
    char *set = xcalloc(n + 1, 1);
    struct csv c;
    int rc = csv_open(&c, path, 0, e);

    if (rc == 0) {
        rc = csv_bind(&c, fleet_cols, sizeof(fleet_cols) / sizeof(fleet_cols[0]), e);
        while (rc == 0 && (rc = csv_next(&c, e)) == 1)
            rc = fleet_row(cat, &c, od, spot, set, e);
        csv_close(&c);
    }
    free(set);
    if (rc < 0) {
        free(od);
        free(spot);
        return rc;
    }
    *od_cap = od;
    *spot_cap = spot;
    return 0;
}

/* ---- the virtual clock ---- */

struct vclock {
    double t;
};

static double vclock_now(void *ctx)
{
    return ((const struct vclock *)ctx)->t;
}

/* ---- specs from trace rows ---- */

/* GPUs to a gang shape: up to 8 GPUs on one node, rounded up to 1, 2, 4 or 8
 * (the shapes clouds sell); more as nodes of 8. */
static void gang_shape(int gpus, int *per_node, int *nodes)
{
    if (gpus > 8) {
        *per_node = 8;
        *nodes = (gpus + 7) / 8;
        return;
    }
    *nodes = 1;
    *per_node = gpus <= 1 ? 1 : gpus <= 2 ? 2 : gpus <= 4 ? 4 : 8;
}

/* The accelerators of a trace row: "H100|A100-80GB" gives two, in order,
 * each a NUL-terminated name in names[i] (trace.c checked the row). */
static size_t job_accelerators(const struct trace_job *tj, char names[TRACE_MAX_ALTS][256])
{
    const char *p = tj->accelerator;
    size_t n = 0;

    while (n < TRACE_MAX_ALTS) {
        size_t k = strcspn(p, "|");

        snprintf(names[n++], 256, "%.*s", (int)k, p);
        if (p[k] != '|')
            break;
        p += k + 1;
    }
    return n;
}

/* A baseline's restrictions (sim_policy) become the spec's, so the planner
 * applies them together with the org policy, never instead of it.  A row
 * with alternatives ("H100|A100-80GB") becomes a spec whose alternatives have
 * the same shape; the planner picks the cheapest for the whole job (not in
 * preference order), and duration_s is the run time on the first. */
static struct spec *spec_of(const struct sim_input *in, const struct sim_policy *pol,
                            const struct trace_job *tj)
{
    struct spec *s = xcalloc(1, sizeof(*s));
    char names[TRACE_MAX_ALTS][256];
    size_t i, n = job_accelerators(tj, names);
    struct spec_res *r = xcalloc(n, sizeof(*r));

    s->path = xstrdup("trace");
    s->name = xstrdup(tj->id);
    s->res = r;
    s->nres = n;
    r->accelerator = xstrdup(names[0]);
    gang_shape(tj->gpus, &r->acc_count, &s->num_nodes);
    r->use_spot = tj->spot_ok == 0 ? 0 : -1;
    r->line = 1;
    s->kind = (enum spec_kind)tj->kind;
    s->team = *tj->team ? xstrdup(tj->team) : NULL;
    s->priority = tj->priority;
    s->duration_s = tj->duration_s;
    s->deadline_s = tj->deadline_s;
    s->ckpt_interval_s = tj->checkpoint_s;
    s->ckpt_restore_s = tj->checkpoint_s > 0 ? in->restore_s : 0;
    if (*tj->data_cloud) {
        s->data_cloud = xstrdup(tj->data_cloud);
        s->data_region = xstrdup(tj->data_region);
        s->data_gb = tj->data_gb;
        if (tj->dataset && *tj->dataset)
            s->data_name = xstrdup(tj->dataset);
    }
    s->recovery = SPEC_RECOVERY_FAILOVER;
    s->max_restarts = 1000; /* a study wants every job to finish */
    if (pol && pol->ondemand_only)
        r->use_spot = 0;
    if (pol && pol->only_cloud)
        r->cloud = xstrdup(pol->only_cloud);
    for (i = 1; i < n; i++) {
        r[i] = r[0];
        r[i].accelerator = xstrdup(names[i]);
        r[i].cloud = r[0].cloud ? xstrdup(r[0].cloud) : NULL;
    }
    return s;
}

struct spec *sim_job_spec(const struct sim_input *in, const struct trace_job *tj)
{
    return spec_of(in, NULL, tj);
}

struct run {
    const struct sim_input *in;
    const struct sim_policy *pol;
};

/* The controller's load_spec hook: job id k is the k-th trace row. */
static int load_spec(void *ctx, const struct store_job *j, struct spec **out, struct err *e)
{
    const struct run *r = ctx;

    if (j->id < 1 || (size_t)j->id > r->in->work->njobs)
        return err_set(e, ST_EINTERNAL, "sim: job %lld is not in the trace", (long long)j->id);
    *out = spec_of(r->in, r->pol, &r->in->work->jobs[j->id - 1]);
    return 0;
}

/* ---- one run ---- */

static struct sim_jobinfo *job_infos(const struct sim_input *in)
{
    struct sim_jobinfo *v = xcalloc(in->work->njobs + 1, sizeof(*v));
    size_t i;

    for (i = 0; i < in->work->njobs; i++) {
        const struct trace_job *tj = &in->work->jobs[i];
        char names[TRACE_MAX_ALTS][256];
        int per_node, nodes;

        job_accelerators(tj, names);
        gang_shape(tj->gpus, &per_node, &nodes);
        v[i + 1].infer = tj->kind == SPEC_KIND_INFER;
        {
            double r0, n0;

            catalog_speed_parts(in->cat, names[0], per_node, 0, v[i + 1].infer, &r0, &n0);
            v[i + 1].ref_chip = r0;
            v[i + 1].ref_n = (float)n0;
        }
        v[i + 1].duration_s = in->work->jobs[i].duration_s;
        v[i + 1].ckpt_s = in->work->jobs[i].checkpoint_s;
        v[i + 1].restore_s = in->work->jobs[i].checkpoint_s > 0 ? in->restore_s : 0;
    }
    return v;
}

static int submit_due(const struct sim_input *in, const struct sim_policy *pol, struct store *st,
                      struct sched *s, size_t *k, double now, struct err *e)
{
    while (*k < in->work->njobs && in->t0 + in->work->jobs[*k].submit_s <= now) {
        struct spec *sp = spec_of(in, pol, &in->work->jobs[*k]);
        int64_t id = 0;
        int rc = sched_submit_trace(st, sp, now, &id, e);

        spec_free(sp);
        if (rc != 0)
            return rc;
        BUG_ON(id != (int64_t)*k + 1);
        (*k)++;
        sched_poke(s);
    }
    return 0;
}

/* Whether job `arg` (its id in the store) has a live attempt: 1, 0, or -1
 * when it is not submitted yet. */
static int job_live(struct store *st, const char *arg, int *live, struct err *e)
{
    struct store_job j;
    struct store_attempt a;
    int rc = store_job_get(st, strtoll(arg, NULL, 10), &j, e);

    *live = 0;
    if (rc == ST_ENOTFOUND) {
        err_clear(e);
        *live = -1; /* not submitted yet */
        return 0;
    }
    if (rc != 0)
        return rc;
    if (j.cur_attempt != 0 && (rc = store_attempt_get(st, j.cur_attempt, &a, e)) == 0) {
        *live = a.state != ATT_ENDED;
        store_attempt_clear(&a);
    }
    store_job_clear(&j);
    return rc;
}

/* What the faults filed so far leave pending: when the last stockout with
 * an end lifts, and the last one without an end (NULL: none). */
struct stock_left {
    double lift;
    const struct sim_event *forever;
};

static void note_stockout(struct stock_left *sl, const struct sim_event *ev, double now)
{
    size_t n = strcspn(ev->arg, " "); /* its location */

    if (strcmp(ev->kind, "stockout") != 0)
        return;
    if (ev->stock_s < 0)
        sl->forever = ev; /* until cleared */
    else if (ev->stock_s > 0)
        sl->lift = fmax(sl->lift, now + ev->stock_s);
    else if (sl->forever != NULL && strncmp(sl->forever->arg, ev->arg, n) == 0 &&
             sl->forever->arg[n] == '\0')
        sl->forever = NULL; /* cleared */
}

/* File the faults whose time has come as requests, as the CLI would.  A
 * job the row preempts may run under one policy and not (yet, or any more)
 * under another: there the row does nothing, and says so. */
static int inject_due(const struct sim_input *in, const struct sim_policy *pol,
                      struct store *st, struct sched *s, size_t *k, double now,
                      struct stock_left *sl, struct err *e)
{
    while (*k < in->nevents && in->t0 + in->events[*k].time_s <= now) {
        const struct sim_event *ev = &in->events[(*k)++];
        int rc, live = 1;

        note_stockout(sl, ev, now);

        if (strcmp(ev->kind, "preempt-job") == 0 &&
            (rc = job_live(st, ev->arg, &live, e)) != 0)
            return rc;
        if (live <= 0) {
            fprintf(stderr,
                    "stratus: warning: %s:%u: under %s, job %s (%s) is %s at %.0f s: "
                    "nothing preempted\n",
                    ev->path, ev->line, pol->name, ev->arg,
                    in->work->jobs[strtoul(ev->arg, NULL, 10) - 1].id,
                    live < 0 ? "not submitted yet" : "not running", ev->time_s);
            continue;
        }
        if ((rc = store_request_add(st, ev->kind, ev->arg, now, NULL, e)) != 0)
            return rc;
        sched_poke(s);
    }
    return 0;
}

/* Apply the price-trace rows whose time has come to the catalog: the planner
 * ranks by the prices in force, and the controller's next step sees the
 * catalog's new price version and moves running attempts to them. */
void sim_prices_due(struct catalog *cat, const struct trace *prices, double t0, size_t *k,
                    double now)
{
    size_t i, n = catalog_noffers(cat);

    while (prices && *k < prices->nprices && t0 + prices->prices[*k].time_s <= now) {
        const struct trace_price *r = &prices->prices[(*k)++];

        for (i = 0; i < n; i++) {
            const struct offer *o = catalog_offer(cat, i);
            double od = o->price, sp = o->spot_price;

            if (strcmp(r->cloud, o->cloud) || strcmp(r->region, o->region) ||
                (*r->zone && strcmp(r->zone, o->zone)) || strcmp(r->instance_type, o->instance_type))
                continue;
            if (r->price_hour != TRACE_PRICE_UNCHANGED)
                od = r->price_hour == TRACE_PRICE_NOT_SOLD ? -1 : r->price_hour;
            if (r->spot_price_hour != TRACE_PRICE_UNCHANGED)
                sp = r->spot_price_hour == TRACE_PRICE_NOT_SOLD ? -1 : r->spot_price_hour;
            catalog_set_price(cat, i, od, sp);
        }
    }
}

/* A study in which nothing has changed for this long, with every input
 * consumed and nothing running, waits for room the fleet never has. */
#define SIM_STALL_S (30 * 86400.0)
/* Nothing due for this long is nothing due at all: longer than any run a
 * workload may ask for (its loader takes at most ten years) */
#define SIM_NEVER_S (20 * 366 * 86400.0)

/* Called when no transition happened for SIM_STALL_S: 0 while attempts
 * still run (a long job), else an error naming a job left waiting. */
static int check_stall(struct store *st, const char *policy, size_t active,
                       const struct sim_event *forever, struct err *e)
{
    char hint[320] = "";
    struct store_attempt *a = NULL;
    struct store_job *j = NULL;
    size_t na = 0, nj = 0;
    int rc = store_attempt_list(st, 0, &a, &na, e);

    store_attempts_free(a, na);
    if (rc != 0 || na > 0)
        return rc;
    if ((rc = store_job_list(st, 1, &j, &nj, e)) != 0)
        return rc;
    if (forever != NULL)
        snprintf(hint, sizeof(hint),
                 "; the stockout of %s:%u has no end: give it SECONDS, or add a row "
                 "that clears it",
                 forever->path, forever->line);
    rc = err_set(
        e, ST_ECAPACITY,
        "sim: under %s, %zu job%s can never run: nothing changed for 30 days with "
        "nothing running; job %s: %s (give the fleet room for it, or drop it%s)",
        policy, active, active == 1 ? "" : "s", nj ? j[0].name : "?",
        nj && j[0].reason ? j[0].reason : "waiting", hint);
    store_jobs_free(j, nj);
    return rc;
}

/* The most nodes a pool of offer oi ever has: the fleet's on demand (the
 * committed nodes run as on-demand nodes of it), or spot: the fleet's, or
 * the most a row of the spot trace for it gives.  memo: per offer x mode,
 * -1 until worked out. */
static long pool_peak(const struct sim_input *in, uint32_t oi, int spot, long *memo)
{
    const struct offer *o = catalog_offer(in->cat, oi);
    long *peak = &memo[2 * (size_t)oi + (spot != 0)];
    size_t i;

    if (*peak >= 0)
        return *peak;
    *peak = spot ? in->spot_cap[oi] : in->od_cap[oi];
    for (i = 0; spot && in->spot != NULL && i < in->spot->nspot; i++) {
        const struct trace_spot *r = &in->spot->spot[i];
        long v = trace_spot_nodes(r, in->spot_cap[oi]);

        if (v > *peak &&
            sim_row_matches(r->cloud, r->region, r->zone, r->instance_type, o))
            *peak = v;
    }
    return *peak;
}

/* Whether job `id` (its store id) is one no place it may take ever holds:
 * every candidate of its plan is a pool whose nodes, at their most, are
 * fewer than it needs there.  Asked only when no price is left to change
 * and no commitment to start (a price trace may yet sell an offer the plan
 * cannot see now, and a commitment add a place it offers only from then). */
static int never_fits(const struct sim_input *in, const struct sim_policy *pol,
                      int64_t id, double now, struct plan *p, long *memo, struct err *e)
{
    struct spec *sp = spec_of(in, pol, &in->work->jobs[id - 1]);
    struct plan_opts o = {.now = now, .top = 0, .by_price = 0};
    int rc = plan_rank(p, in->cat, sp, pol->pol, &o, e);
    size_t k;

    spec_free(sp);
    if (rc != 0) {
        err_clear(e); /* not for this check: the controller says why */
        return 0;
    }
    for (k = 0; k < p->n; k++)
        if (pool_peak(in, p->c[k].offer, p->c[k].mode == PLAN_SPOT, memo) >=
            p->c[k].nodes)
            return 0;
    return 1;
}

/* Jobs that have never launched and that no place they may take ever
 * holds: an error naming one that has waited SIM_STALL_S (a study would
 * otherwise wait for it until everything else has ended, which a job
 * churning on spot can put off for a simulated year), counting them all. */
static int check_dead(const struct sim_input *in, const struct sim_policy *pol,
                      struct store *st, double now, struct err *e)
{
    struct store_job *j = NULL;
    size_t nj = 0, i, dead = 0, first = 0, pass;
    long *memo = NULL;
    struct plan p;
    int rc;

    if ((rc = store_job_list(st, 1, &j, &nj, e)) != 0)
        return rc;
    plan_init(&p);
    /* first those that have waited long enough to end the study, then, if
     * one of them can never run, the others, for the count */
    for (pass = 0; pass < 2 && (pass == 0 || dead > 0); pass++)
        for (i = 0; i < nj; i++) {
            if (j[i].nattempts != 0 ||
                (j[i].submitted_at <= now - SIM_STALL_S) != (pass == 0))
                continue;
            if (memo == NULL) {
                memo = xmalloc(2 * catalog_noffers(in->cat) * sizeof(*memo));
                memset(memo, 0xff, 2 * catalog_noffers(in->cat) * sizeof(*memo)); /* -1 */
            }
            if (never_fits(in, pol, j[i].id, now, &p, memo, e) && dead++ == 0)
                first = i;
        }
    plan_free(&p);
    free(memo);
    if (dead > 0)
        rc = err_set(e, ST_ECAPACITY,
                     "sim: under %s, %zu job%s can never run: no place %s may take ever "
                     "has the nodes %s needs, in the fleet or the spot trace; job %s: %s "
                     "(give the fleet room for it, or drop it)",
                     pol->name, dead, dead == 1 ? "" : "s", dead == 1 ? "it" : "they",
                     dead == 1 ? "it" : "each", j[first].name,
                     j[first].reason ? j[first].reason : "waiting");
    store_jobs_free(j, nj);
    return rc;
}

/* Does a commitment start after now?  Its committed nodes are a place the
 * planner offers only from then (check_dead waits for it). */
static int commitment_to_come(const struct catalog *cat, double now)
{
    size_t k;

    for (k = 0; k < catalog_ncommitments(cat); k++)
        if (catalog_commitment(cat, k)->start > now)
            return 1;
    return 0;
}

/* Step the controller until every job has ended. */
static int run_loop(const struct sim_input *in, const struct sim_policy *pol, struct store *st,
                    struct sched *s, struct vclock *vc, struct sim_result *res, struct err *e)
{
    size_t k = 0, kev = 0, kp = 0, i;
    struct stock_left sl = {0, NULL};
    uint64_t seen = 0;
    double last_change = vc->t, dead_check = vc->t + SIM_STALL_S, span = 0,
           stall = SIM_STALL_S;
    int rc, up = 0;

    /* The sim driver replays the spot trace pass after pass (its span and an
     * hour): where it ever brings nodes, a stall is also a whole pass in
     * which nothing changed, so each row that brings them has come. */
    for (i = 0; in->spot != NULL && i < in->spot->nspot; i++) {
        const struct trace_spot *r = &in->spot->spot[i];

        span = fmax(span, r->time_s);
        up |= trace_spot_up(r);
    }
    if (up && span > 0)
        stall = fmax(stall, span + 3600);

    for (;;) {
        double next = 0, t_next;
        size_t before = kev;

        sim_prices_due(in->cat, in->prices, in->t0, &kp, vc->t);
        /* Faults due now take effect before jobs due now are placed: a fault
         * acts after the step that read it commits, as in the real world. */
        if ((rc = inject_due(in, pol, st, s, &kev, vc->t, &sl, e)) != 0 ||
            (kev > before && (rc = sched_step(s, NULL, e)) != 0) ||
            (rc = submit_due(in, pol, st, s, &k, vc->t, e)) != 0 ||
            (rc = sched_step(s, &next, e)) != 0)
            return rc;
        res->steps++;
        if (k >= in->work->njobs && sched_active(s) == 0)
            return 0;
        /* pending inputs, and a stockout still to lift, are changes to come */
        if (sched_transitions(s) != seen || k < in->work->njobs || kev < in->nevents ||
            vc->t < sl.lift) {
            seen = sched_transitions(s);
            last_change = vc->t;
        } else if (vc->t - last_change > stall) {
            if ((rc = check_stall(st, pol->name, sched_active(s), sl.forever, e)) != 0)
                return rc;
            last_change = vc->t;
        }
        if (vc->t >= dead_check) {
            /* only once no price is left to change and no commitment to
             * start: see never_fits */
            if ((!in->prices || kp >= in->prices->nprices) &&
                !commitment_to_come(in->cat, vc->t) &&
                (rc = check_dead(in, pol, st, vc->t, e)) != 0)
                return rc;
            /* every tenth of it: a job submitted after the study began is
             * looked at soon after its 30 days, not up to 30 days later */
            dead_check = vc->t + SIM_STALL_S / 10;
        }
        t_next = vc->t + next;
        if (k < in->work->njobs && in->t0 + in->work->jobs[k].submit_s < t_next)
            t_next = in->t0 + in->work->jobs[k].submit_s;
        if (kev < in->nevents && in->t0 + in->events[kev].time_s < t_next)
            t_next = in->t0 + in->events[kev].time_s;
        if (in->prices && kp < in->prices->nprices && in->t0 + in->prices->prices[kp].time_s < t_next)
            t_next = in->t0 + in->prices->prices[kp].time_s;
        if (t_next >= vc->t + SIM_NEVER_S)
            return err_set(e, ST_EINTERNAL,
                           "sim: under %s, %zu jobs active with nothing left to happen",
                           pol->name, sched_active(s));
        vc->t = t_next > vc->t ? t_next : vc->t;
    }
}

/* Spread an attempt's cost over the buckets its run covers. */
static void add_spend(const struct sim_input *in, struct sim_result *res, int cloud, double from,
                      double to, double usd)
{
    size_t b0, b1, b;

    if (usd <= 0 || to <= from)
        return;
    b0 = (size_t)fmax(0, (from - in->t0) / res->bucket_s);
    b1 = (size_t)fmax(0, (to - in->t0) / res->bucket_s);
    for (b = b0; b <= b1 && b < res->nbuckets; b++) {
        double lo = fmax(from, in->t0 + (double)b * res->bucket_s);
        double hi = fmin(to, in->t0 + (double)(b + 1) * res->bucket_s);

        if (hi > lo)
            res->spend[(size_t)cloud * res->nbuckets + b] += usd * (hi - lo) / (to - from);
    }
}

/* GPU-hours an attempt that did not finish lost: the run since its last
 * checkpoint (all of it without checkpoints), the same model the sim world
 * uses for progress. */
static double lost_hours(const struct sim_input *in, const struct store_attempt *a, double hours)
{
    double ckpt = in->work->jobs[a->job_id - 1].checkpoint_s / 3600.0;

    if (a->end_reason == ATT_END_EXITED)
        return 0;
    return ckpt > 0 ? hours - floor(hours / ckpt) * ckpt : hours;
}

/* The team slot of name (NULL = "(none)"), made on first sight. */
static size_t team_slot(struct sim_result *res, const char *name)
{
    size_t i;

    if (name == NULL || *name == '\0')
        name = "(none)";
    for (i = 0; i < res->nteams; i++)
        if (strcmp(res->teams[i].name, name) == 0)
            return i;
    if (res->nteams == SIM_MAX_TEAMS) {
        snprintf(res->teams[SIM_MAX_TEAMS].name, sizeof(res->teams[0].name), "(other)");
        return SIM_MAX_TEAMS;
    }
    snprintf(res->teams[res->nteams].name, sizeof(res->teams[0].name), "%s", name);
    return res->nteams++;
}

/* ---- committed nodes at work ----
 *
 * The controller bills commitments as the clouds do (sched_commit_bill): at
 * each moment, the committed nodes in force go to the group's committed
 * attempts and then to its on-demand nodes that run, and what they cover
 * is off those attempts' cost (sched_commit_covered).  Here, from the
 * attempts that ran, how many node-hours of the committed nodes ran work:
 * their own attempts' and the on-demand nodes they covered. */

struct cov_att {
    uint32_t group;     /* index into the commitments' (cloud, region, type) groups */
    int committed;      /* a committed attempt, else on demand */
    double from, to, nodes;
};

struct cov {
    const struct commitment **grp; /* one commitment per (cloud, region, type) group */
    size_t ngrp;
    struct cov_att *v;
    size_t n, cap;
};

static long cov_group(const struct cov *cv, const struct store_attempt *a)
{
    size_t i;

    for (i = 0; i < cv->ngrp; i++)
        if (strcmp(cv->grp[i]->cloud, a->cloud) == 0 &&
            strcmp(cv->grp[i]->region, a->region) == 0 &&
            strcmp(cv->grp[i]->instance_type, a->instance_type) == 0)
            return (long)i;
    return -1;
}

static void cov_init(const struct sim_input *in, struct cov *cv)
{
    size_t i, k, n = catalog_ncommitments(in->cat);

    memset(cv, 0, sizeof(*cv));
    cv->grp = xcalloc(n + 1, sizeof(*cv->grp));
    for (i = 0; i < n; i++) {
        const struct commitment *m = catalog_commitment(in->cat, i);

        for (k = 0; k < cv->ngrp; k++)
            if (cv->grp[k]->cloud == m->cloud && cv->grp[k]->region == m->region &&
                cv->grp[k]->instance_type == m->instance_type)
                break;
        if (k == cv->ngrp)
            cv->grp[cv->ngrp++] = m;
    }
}

static void cov_add(struct cov *cv, const struct store_attempt *a)
{
    long g;

    if (cv->ngrp == 0 || a->mode == PLAN_SPOT || a->running_at <= 0 ||
        a->ended_at <= a->running_at || (g = cov_group(cv, a)) < 0)
        return;
    cv->v = xgrow(cv->v, &cv->cap, cv->n + 1, sizeof(*cv->v));
    cv->v[cv->n++] = (struct cov_att){(uint32_t)g, a->mode == PLAN_COMMITTED,
                                      a->running_at, a->ended_at, a->nodes};
}

/* Committed nodes of group g in force at t (every commitment of the group). */
static double cov_nodes(const struct sim_input *in, const struct cov *cv, size_t g, double t)
{
    size_t i, n = catalog_ncommitments(in->cat);
    double k = 0;

    for (i = 0; i < n; i++) {
        const struct commitment *m = catalog_commitment(in->cat, i);

        if (m->cloud == cv->grp[g]->cloud && m->region == cv->grp[g]->region &&
            m->instance_type == cv->grp[g]->instance_type && m->start <= t &&
            (m->end <= 0 || t < m->end))
            k += m->count;
    }
    return k;
}

struct cov_ev {
    double t;
    double used, od; /* change of committed and of on-demand nodes running */
};

static int cmp_ev(const void *a, const void *b)
{
    double x = ((const struct cov_ev *)a)->t, y = ((const struct cov_ev *)b)->t;

    return x < y ? -1 : x > y;
}

/* A sweep per group over the attempts' starts and ends and the
 * commitments' windows: the committed nodes at work are min(in force,
 * committed attempts' nodes + on-demand nodes running). */
static void cov_used(const struct sim_input *in, struct cov *cv, struct sim_result *res)
{
    size_t nm = catalog_ncommitments(in->cat), g, i, k, ne;
    struct cov_ev *ev = xcalloc(2 * cv->n + 2 * nm + 1, sizeof(*ev));

    for (g = 0; g < cv->ngrp; g++) {
        double used = 0, od = 0;

        ne = 0;
        for (i = 0; i < cv->n; i++) {
            const struct cov_att *c = &cv->v[i];

            if (c->group != g)
                continue;
            ev[ne++] = (struct cov_ev){c->from, c->committed ? c->nodes : 0,
                                       c->committed ? 0 : c->nodes};
            ev[ne++] = (struct cov_ev){c->to, c->committed ? -c->nodes : 0,
                                       c->committed ? 0 : -c->nodes};
        }
        for (i = 0; i < nm; i++) { /* the windows: the count changes there */
            const struct commitment *m = catalog_commitment(in->cat, i);

            ev[ne++] = (struct cov_ev){m->start, 0, 0};
            if (m->end > 0)
                ev[ne++] = (struct cov_ev){m->end, 0, 0};
        }
        qsort(ev, ne, sizeof(*ev), cmp_ev);
        for (k = 0; k + 1 < ne; k++) {
            used += ev[k].used;
            od += ev[k].od;
            if (ev[k + 1].t == ev[k].t)
                continue; /* every change at one instant first */
            res->commit_used_h += fmin(cov_nodes(in, cv, g, ev[k].t), used + od) *
                                  (ev[k + 1].t - ev[k].t) / 3600;
        }
    }
    free(ev);
}

/* Attempt a's data move by cloud: the cloud's its data left, as the clouds
 * bill it (sched_attempt_egress): the hops of the copy it made, else (a run
 * without data gravity moves it from its home) the job's data home. */
static void egress_by_cloud(const struct sim_input *in, const struct store_attempt *a,
                            const struct sched_copies *cp, struct sim_result *res)
{
    struct sched_egress_part p[SCHED_EGRESS_HOPS];
    const char *home = NULL;
    size_t np, i;

    if (a->job_id >= 1 && (size_t)a->job_id <= in->work->njobs &&
        *in->work->jobs[a->job_id - 1].data_cloud)
        home = in->work->jobs[a->job_id - 1].data_cloud;
    np = sched_attempt_egress(in->cat, cp, a, a->egress, home, p);
    for (i = 0; i < np; i++)
        res->cost_by_cloud[cloud_index(p[i].cloud)] += p[i].usd;
}

static void attempt_metrics(const struct sim_input *in, const struct store_attempt *a,
                            struct sim_result *res, struct cov *cv,
                            const struct sched_copies *cp)
{
    double hours = a->running_at > 0 && a->ended_at > a->running_at
                       ? (a->ended_at - a->running_at) / 3600.0
                       : 0;
    double gpu_h = hours * a->nodes * a->acc_count;
    int c = cloud_index(a->cloud);

    /* a committed attempt's compute is prepaid: what it cost is the time its
     * nodes ran past their commitments, at the on-demand price (the
     * controller's bill, sched_commit_bill) */
    if (a->mode == PLAN_COMMITTED)
        res->commit_expired += a->cost - a->egress;

    res->egress_cost += a->egress;
    if (hours > 0)
        res->lost_cost += (a->cost - a->egress) * lost_hours(in, a, hours) / hours;
    cov_add(cv, a);
    res->cost += a->cost;
    res->cost_by_cloud[c] += a->cost - a->egress;
    egress_by_cloud(in, a, cp, res);
    res->gpu_hours += gpu_h;
    if (a->job_id >= 1 && (size_t)a->job_id <= in->work->njobs) /* job k: trace row k */
        res->teams[team_slot(res, in->work->jobs[a->job_id - 1].team)].gpu_hours += gpu_h;
    res->lost_gpu_hours += lost_hours(in, a, hours) * a->nodes * a->acc_count;
    if (a->mode == PLAN_SPOT)
        res->spot_gpu_hours += gpu_h;
    res->preemptions += a->end_reason == ATT_END_PREEMPTED;
    add_spend(in, res, c, a->running_at, a->ended_at, a->cost);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Job metrics, one job at a time: completion and queueing times are kept
 * for the means and 95th percentiles. */
struct job_acc {
    double prompt_s; /* started "at once": within this of submission */
    double *jct, *q;
    size_t nj, nq, cap;
    double *tq[SIM_MAX_TEAMS + 1]; /* per team: queue times */
};

static void job_acc_init(struct job_acc *acc, size_t njobs)
{
    memset(acc, 0, sizeof(*acc));
    acc->cap = njobs;
    acc->jct = xcalloc(njobs + 1, sizeof(double));
    acc->q = xcalloc(njobs + 1, sizeof(double));
}

static void job_acc_free(struct job_acc *acc)
{
    size_t i;

    free(acc->jct);
    free(acc->q);
    for (i = 0; i <= SIM_MAX_TEAMS; i++)
        free(acc->tq[i]);
}

static void job_acc_add(struct job_acc *acc, const struct store_job *j, struct sim_result *res)
{
    BUG_ON(acc->nj >= acc->cap + 1 || acc->nq >= acc->cap + 1);
    res->njobs++;
    res->succeeded += j->state == JOB_SUCCEEDED;
    res->failed += j->state != JOB_SUCCEEDED;
    if (j->deadline_at > 0) {
        res->deadline_jobs++;
        res->deadline_misses += j->state != JOB_SUCCEEDED || j->ended_at > j->deadline_at;
    }
    if (j->state == JOB_SUCCEEDED)
        acc->jct[acc->nj++] = j->ended_at - j->submitted_at;
    if (j->id >= 1 && (size_t)j->id <= acc->cap)
        res->prompt[j->id - 1] = j->state == JOB_SUCCEEDED && j->nattempts == 1 &&
                                 j->started_at > 0 &&
                                 j->started_at - j->submitted_at <= acc->prompt_s;
    if (j->started_at > 0)
        acc->q[acc->nq++] = j->started_at - j->submitted_at;
    {
        size_t t = team_slot(res, j->team);
        struct sim_team_result *tr = &res->teams[t];

        if (acc->tq[t] == NULL)
            acc->tq[t] = xcalloc(acc->cap + 1, sizeof(double));
        tr->jobs++;
        if (j->started_at > 0)
            acc->tq[t][tr->started++] = j->started_at - j->submitted_at;
    }
    if (j->ended_at > res->end_s)
        res->end_s = j->ended_at;
    if (j->state == JOB_SUCCEEDED && j->ended_at > res->done_s)
        res->done_s = j->ended_at;
}

/* The p-quantile (0 < p <= 1) of v[0..n), sorted, by nearest rank: the
 * smallest value with at least p of them at or below it; 0 when n is 0. */
static double quantile(const double *v, size_t n, double p)
{
    size_t r = (size_t)ceil(p * (double)n - 1e-9);

    return n ? v[r > 0 ? r - 1 : 0] : 0;
}

static void job_acc_finish(struct job_acc *acc, struct sim_result *res)
{
    size_t i, nj = acc->nj, nq = acc->nq;

    if (nj > 0)
        qsort(acc->jct, nj, sizeof(double), cmp_double);
    if (nq > 0)
        qsort(acc->q, nq, sizeof(double), cmp_double);
    for (i = 0; i < nj; i++)
        res->mean_jct_s += acc->jct[i] / (double)nj;
    for (i = 0; i < nq; i++)
        res->mean_queue_s += acc->q[i] / (double)nq;
    res->p95_jct_s = quantile(acc->jct, nj, 0.95);
    res->p95_queue_s = quantile(acc->q, nq, 0.95);
    for (i = 0; i <= SIM_MAX_TEAMS; i++) {
        struct sim_team_result *tr = &res->teams[i];
        size_t k, m = tr->started;

        if (acc->tq[i] == NULL || m == 0)
            continue;
        qsort(acc->tq[i], m, sizeof(double), cmp_double);
        for (k = 0; k < m; k++)
            tr->mean_queue_s += acc->tq[i][k] / (double)m;
        tr->p50_queue_s = quantile(acc->tq[i], m, 0.5);
        tr->p95_queue_s = quantile(acc->tq[i], m, 0.95);
    }
    job_acc_free(acc);
}

/* Read the run's attempts and jobs back a page at a time (a million-job
 * study would otherwise hold a second copy of them all). */
#define COLLECT_PAGE 8192

/* Keeping the replicas data gravity made, until they were deleted or the
 * study ended (its last job: res->end_s, still absolute here), when those
 * still kept are deleted (and so recorded, for `stratus data ls --store`). */
static int collect_storage(const struct sim_input *in, struct store *st,
                           struct sim_result *res, struct err *e)
{
    struct store_data_replica *v = NULL;
    size_t i, n = 0;
    int rc = store_data_list(st, NULL, 0, &v, &n, e);

    for (i = 0; rc == 0 && i < n; i++) {
        double end = v[i].expired_at > 0 ? v[i].expired_at : res->end_s;
        double usd = store_data_storage_cost(&v[i], end);
        int c = cloud_index(v[i].cloud);

        if (v[i].expired_at <= 0 && !v[i].home) {
            v[i].expired_at = end;
            rc = store_data_put(st, &v[i], e);
        }
        res->storage_cost += usd;
        res->cost += usd;
        res->cost_by_cloud[c] += usd;
        add_spend(in, res, c, v[i].created_at, end, usd);
    }
    store_data_replicas_free(v, n);
    return rc;
}

static int collect(const struct sim_input *in, struct store *st, struct sim_result *res,
                   struct err *e)
{
    struct job_acc acc;
    struct sched_copies cp;
    struct cov cv;
    int64_t after = 0;
    size_t i, n;
    int rc;

    if ((rc = sched_copies_load(st, &cp, e)) != 0)
        return rc;
    cov_init(in, &cv);
    do {
        struct store_attempt *a = NULL;

        if ((rc = store_attempt_page(st, after, COLLECT_PAGE, &a, &n, e)) != 0) {
            sched_copies_free(&cp);
            free(cv.grp);
            free(cv.v);
            return rc;
        }
        for (i = 0; i < n; i++)
            attempt_metrics(in, &a[i], res, &cv, &cp);
        after = n ? a[n - 1].id : after;
        store_attempts_free(a, n);
    } while (n == COLLECT_PAGE);
    cov_used(in, &cv, res);
    sched_copies_free(&cp);
    free(cv.grp);
    free(cv.v);
    job_acc_init(&acc, in->work->njobs);
    acc.prompt_s = in->launch_delay_s + SIM_PROMPT_S;
    res->prompt = xcalloc(in->work->njobs + 1, 1);
    after = 0;
    do {
        struct store_job *v = NULL;

        if ((rc = store_job_page(st, after, COLLECT_PAGE, &v, &n, e)) != 0) {
            job_acc_free(&acc);
            return rc;
        }
        for (i = 0; i < n; i++)
            job_acc_add(&acc, &v[i], res);
        after = n ? v[n - 1].id : after;
        store_jobs_free(v, n);
    } while (n == COLLECT_PAGE);
    job_acc_finish(&acc, res);
    if ((rc = collect_storage(in, st, res, e)) != 0)
        return rc;
    if (res->end_s > 0)
        res->end_s -= in->t0;
    if (res->done_s > 0)
        res->done_s -= in->t0;
    return 0;
}

static void result_init(const struct sim_input *in, const char *name, struct sim_result *res)
{
    double span = 0;
    size_t i;

    memset(res, 0, sizeof(*res));
    snprintf(res->name, sizeof(res->name), "%s", name);
    for (i = 0; i < in->work->njobs; i++)
        span = fmax(span, in->work->jobs[i].submit_s + in->work->jobs[i].duration_s);
    res->bucket_s = in->bucket_s > 0 ? in->bucket_s : 86400;
    res->nbuckets = (size_t)(span * 3 / res->bucket_s) + 2; /* room for queueing */
    res->spend = xcalloc(SIM_NCLOUDS * res->nbuckets, sizeof(double));
}

void sim_result_init(const struct sim_input *in, const char *name, struct sim_result *res)
{
    result_init(in, name, res);
}

static void config_for(const struct sim_input *in, const struct sim_policy *pol,
                       struct sched_config *c)
{
    sched_config_default(c);
    c->deadline_rule = pol->deadline_rule;
    /* The deadline rule's changeover d starts with the launch the sim world
     * really takes (the rest, restore and checkpoint interval, comes from
     * each job's spec). */
    c->relaunch_overhead_s = in->launch_delay_s;
    c->rank_by_price = pol->by_price;
    c->preempt_lower_priority = pol->displace;
    c->wait_retry_s = 600;
    c->ckpt_root = NULL;
    c->only_when_poked = 1;
    c->deadline_check_s = 60;
    c->data_gravity = pol->data_gravity;
    c->patience = pol->patience;
    c->commit_backfill = pol->commit_backfill;
}

int sim_run(const struct sim_input *in, const struct sim_policy *pol, struct sim_result *res,
            struct err *e)
{
    struct vclock vc = {in->t0 + (in->work->njobs ? in->work->jobs[0].submit_s : 0)};
    struct clock clk = {vclock_now, &vc};
    struct sim_jobinfo *infos = job_infos(in);
    struct sim_world w = {in->cat, in->od_cap, in->spot_cap, in->spot, in->t0,
                          in->launch_delay_s, infos, in->work->njobs + 1, 0};
    struct driver_config dcfg = {0};
    struct sched_params p;
    struct run r = {in, pol};
    struct store *st = NULL;
    struct sched *s = NULL;
    struct driver drv;
    double t0 = clock_mono();
    int rc;

    double *saved = catalog_prices_save(in->cat); /* a run starts from the catalog's own prices */

    result_init(in, pol->name, res);
    dcfg.cat = in->cat;
    dcfg.clock = &clk;
    dcfg.world = &w;
    dcfg.seed = 42;
    memset(&p, 0, sizeof(p));
    char *path = in->store_dir ? xasprintf("%s/%s.db", in->store_dir, pol->name) : NULL;

    if (path) /* a kept store is this run's: an earlier run's goes, WAL and all */
        store_remove_file(path);
    rc = store_open(&st, path ? path : "mem:", e);
    free(path);
    if (rc != 0 || (rc = driver_open(&drv, &driver_sim, &dcfg, e)) != 0) {
        store_close(st);
        free(infos);
        catalog_prices_restore(in->cat, saved);
        return rc;
    }
    p.store = st;
    p.driver = &drv;
    p.cat = in->cat;
    p.clock = &clk;
    config_for(in, pol, &p.cfg);
    p.default_policy = pol->pol;
    p.load_spec = load_spec;
    p.load_spec_ctx = &r;
    rc = sched_open(&s, &p, e);
    if (rc == 0 && pol->teams)
        sched_set_org(s, in->org);
    if (rc == 0)
        rc = run_loop(in, pol, st, s, &vc, res, e);
    if (rc == 0) {
        res->transitions = sched_transitions(s);
        res->commit_covered = sched_commit_covered(s);
        rc = collect(in, st, res, e);
    }
    res->wall_s = clock_mono() - t0;
    sched_close(s);
    driver_close(&drv);
    store_close(st);
    free(infos);
    catalog_prices_restore(in->cat, saved);
    return rc;
}

void sim_charge_commitments(const struct sim_input *in, double end_s, struct sim_result *res)
{
    double end = end_s;
    size_t i;

    if (end <= 0)
        for (i = 0; i < in->work->njobs; i++)
            end = fmax(end, in->work->jobs[i].submit_s + in->work->jobs[i].duration_s);
    for (i = 0; i < catalog_ncommitments(in->cat); i++) {
        const struct commitment *m = catalog_commitment(in->cat, i);
        double c = catalog_commitment_cost(m, in->t0, in->t0 + end);

        res->commit_node_h += catalog_commitment_hours(m, in->t0, in->t0 + end);
        res->commit_cost += c;
        res->cost += c;
        res->cost_by_cloud[cloud_index(m->cloud)] += c;
    }
}

void sim_result_free(struct sim_result *res)
{
    free(res->spend);
    res->spend = NULL;
    free(res->prompt);
    res->prompt = NULL;
}

/* The offline lower bound lives in bound.c. */

/* ---- the events file ---- */

enum { V_TIME, V_KIND, V_ARG };
static const struct csv_col event_cols[] = {{"time_s", 1}, {"kind", 1}, {"arg", 1}};

static int names_offers(const struct catalog *cat, const char *loc)
{
    size_t i;

    for (i = 0; i < catalog_noffers(cat); i++)
        if (catalog_offer_at(catalog_offer(cat, i), loc))
            return 1;
    return 0;
}

/* What an event's arg names must exist: a job of the workload (its job_id,
 * else its row number; either is rewritten to the row), a location some
 * offer is at.  The whole CSV field is checked, as the sim driver will read
 * it: a preempt-location's is the location (the driver matches offers with
 * all of it), a stockout's a location and maybe " SECONDS", a number >= 0
 * and nothing after (sscanf's "%lf" took "1h" for 1 s), kept in
 * ev->stock_s; one too long for ev->arg is refused rather than cut. */
static int event_arg(const struct csv *c, struct sim_event *ev, const struct catalog *cat,
                     const struct trace *work, struct err *e)
{
    const char *arg = csv_get(c, V_ARG);
    char loc[160], *end;
    long long row;
    size_t i, n;

    if (strcmp(ev->kind, "preempt-job") == 0) {
        for (i = 0; i < work->njobs; i++)
            if (strcmp(work->jobs[i].id, arg) == 0)
                break;
        row = (long long)i + 1;
        if (i == work->njobs && ((row = strtoll(arg, &end, 10)) < 1 || end == arg ||
                                 *end != '\0' || (size_t)row > work->njobs))
            return err_at(
                e, ST_EINVAL, c->path, c->line, 0,
                "preempt-job: '%s' is not a job_id of the workload, nor a row number "
                "from 1 to %zu",
                arg, work->njobs);
        snprintf(ev->arg, sizeof(ev->arg), "%lld", row);
        return 0;
    }
    if (strlen(arg) >= sizeof(ev->arg))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "%s: arg is longer than %zu bytes", ev->kind, sizeof(ev->arg) - 1);
    n = ev->kind[0] == 's' ? strcspn(arg, " ") : strlen(arg);
    snprintf(loc, sizeof(loc), "%.*s", (int)n, arg);
    if (n == 0 || loc[strcspn(loc, " \t\r\n\v\f")] != '\0' ||
        (arg[n] != '\0' &&
         (str_to_double(arg + n + 1, &ev->stock_s) != 0 || ev->stock_s < 0)))
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0, "%s: expected '%s', not '%s'", ev->kind,
            ev->kind[0] == 's' ? "CLOUD/REGION[/ZONE] [SECONDS]" : "CLOUD/REGION[/ZONE]",
            arg);
    if (!names_offers(cat, loc))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "%s: no offer of the catalog is at '%s' (a location is "
                      "CLOUD/REGION[/ZONE]; `stratus offers` lists them)",
                      ev->kind, loc);
    snprintf(ev->arg, sizeof(ev->arg), "%s", arg);
    return 0;
}

static int event_row(const struct csv *c, struct sim_event *ev,
                     const struct sim_event *prev, const struct catalog *cat,
                     const struct trace *work, struct err *e)
{
    const char *kind = csv_get(c, V_KIND);
    int rc = csv_double(c, V_TIME, "time_s", NULL, &ev->time_s, e);

    if (rc != 0)
        return rc;
    if (ev->time_s < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "time_s must be zero or more (seconds from the start), not %g",
                      ev->time_s);
    if (prev != NULL && ev->time_s < prev->time_s)
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0,
            "time_s goes backwards: %g after %g at line %u (rows are in time order)",
            ev->time_s, prev->time_s, prev->line);
    /* the workload's own limit (trace.c): a study steps through the time
     * up to its last input */
    if (ev->time_s > 10.0 * 366 * 86400)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "time_s %g is more than ten years after the start", ev->time_s);
    if (strcmp(kind, "stockout") && strcmp(kind, "preempt-job") && strcmp(kind, "preempt-location"))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "kind must be stockout, preempt-job or preempt-location, not '%s'", kind);
    snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
    ev->line = (uint32_t)c->line;
    ev->stock_s = -1; /* a stockout without SECONDS: until cleared */
    return event_arg(c, ev, cat, work, e);
}

int sim_load_events(const char *path, const struct catalog *cat, const struct trace *work,
                    struct sim_event **out, size_t *n, struct err *e)
{
    struct sim_event *v = NULL;
    size_t cap = 0, k = 0;
    struct csv c;
    int rc = csv_open(&c, path, 0, e);

    if (rc == 0) {
        rc = csv_bind(&c, event_cols, 3, e);
        while (rc == 0 && (rc = csv_next(&c, e)) == 1) {
            v = xgrow(v, &cap, k + 1, sizeof(*v));
            v[k].path = path;
            rc = event_row(&c, &v[k], k ? &v[k - 1] : NULL, cat, work, e);
            k++;
        }
        csv_close(&c);
    }
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}
