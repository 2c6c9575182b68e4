/*
 * advise.c - the commitments advisor (see advise.h).
 *
 * Layout: the discount levels; reading usage from a store (one pass over
 * the attempts, a page at a time, into per-offer hourly curves); the choice
 * of N.
 */
#include "advise.h"
#include "../catalog/catalog.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/hmap.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* docs/commitments.md says where each number comes from and which are
 * assumptions; `--discount` overrides them.  OCI publishes none. */
#define UPTO_ASSUMED "an assumption (no published level: docs/commitments.md)"
#define UPTO_PUBLISHED "the published \"up to\" level, an upper bound"
const struct advise_level advise_levels[] = {
    {"azure", "1y", 0.32, "reserved VM instance", UPTO_ASSUMED},
    {"azure", "3y", 0.72, "reserved VM instance", UPTO_PUBLISHED},
    {"gcp", "1y", 0.37, "resource-based CUD", UPTO_ASSUMED},
    {"gcp", "3y", 0.57, "resource-based CUD", UPTO_PUBLISHED},
    {"aws", "3y", 0.72, "EC2 Instance Savings Plan", UPTO_PUBLISHED},
    {NULL, NULL, 0, NULL, NULL},
};

double advise_term_months(const char *term)
{
    char *rest;
    long n = strtol(term, &rest, 10);

    if (rest == term || n < 1 || n > 100 || rest[0] == '\0' || rest[1] != '\0')
        return 0;
    return rest[0] == 'y' ? 12.0 * (double)n : rest[0] == 'm' ? (double)n : 0;
}

/* ---- usage ---- */

#define PAGE 8192

/* Spot work that ran on committed nodes the on-demand work left free
 * (backfill): demand for spot, at the spot price it saved, not for the
 * committed nodes: counted as on-demand it made a store with commitments
 * ask for more of them, and a renewal advised buying at a loss. */
static int backfilled(const struct store_attempt *a)
{
    return a->mode == PLAN_COMMITTED && a->backfill_spot > 0;
}

static int counts(const struct store_attempt *a)
{
    return a->running_at > 0 && !backfilled(a) &&
           (a->mode == PLAN_ONDEMAND || a->mode == PLAN_COMMITTED);
}

static double run_end(const struct store_attempt *a, double now)
{
    return a->ended_at > 0 ? a->ended_at : now;
}

/* One pass over the attempts: where it writes. */
struct pass {
    struct advise_usage *u;
    size_t cap;      /* of u->o */
    size_t spot_cap; /* of u->spot */
    double now; /* live attempts run until then */
    double to;  /* the first pass: where the window ends */
    struct store *st;
    const struct policy *org; /* of jobs stored without a policy */
    char **texts;             /* the text of each of u->pols */
    struct keymap job_rules;  /* (job id, acc_count, nodes) -> index in rules:
                                 each job read once per shape of attempt */
    const struct policy_rule **rules;
    size_t nrules;
    struct err *e;
    int rc;                   /* the first error of the pass */
};

/* The offer slot of attempt a, made on first sight. */
static struct advise_offer *slot(struct pass *p, const struct store_attempt *a)
{
    struct advise_usage *u = p->u;
    size_t i;

    for (i = 0; i < u->n; i++)
        if (strcmp(u->o[i].cloud, a->cloud) == 0 &&
            strcmp(u->o[i].region, a->region) == 0 &&
            strcmp(u->o[i].instance_type, a->instance_type) == 0)
            return &u->o[i];
    u->o = xgrow(u->o, &p->cap, u->n + 1, sizeof(*u->o));
    memset(&u->o[u->n], 0, sizeof(u->o[0]));
    u->o[u->n].cloud = xstrdup(a->cloud);
    u->o[u->n].region = xstrdup(a->region);
    u->o[u->n].instance_type = xstrdup(a->instance_type);
    u->o[u->n].od_price = -1;
    u->o[u->n].usage = xcalloc(u->nbins + 1, sizeof(double));
    u->o[u->n].accelerator = xstrdup(a->accelerator ? a->accelerator : "");
    u->o[u->n].acc_count = a->acc_count;
    return &u->o[u->n++];
}

/* The spot usage of accelerator (name, count) under rule, made on first
 * sight. */
static struct advise_spot *spot_slot(struct pass *p, const char *acc, int count,
                                     const struct policy_rule *rule)
{
    struct advise_usage *u = p->u;
    size_t i;

    for (i = 0; i < u->nspot; i++)
        if (strcmp(u->spot[i].accelerator, acc) == 0 && u->spot[i].acc_count == count &&
            u->spot[i].rule == rule)
            return &u->spot[i];
    u->spot = xgrow(u->spot, &p->spot_cap, u->nspot + 1, sizeof(*u->spot));
    memset(&u->spot[u->nspot], 0, sizeof(u->spot[0]));
    u->spot[u->nspot].accelerator = xstrdup(acc);
    u->spot[u->nspot].acc_count = count;
    u->spot[u->nspot].rule = rule;
    u->spot[u->nspot].usage = xcalloc(u->nbins + 1, sizeof(double));
    return &u->spot[u->nspot++];
}

/* A job's own policy (the text it was submitted with), parsed once. */
static const struct policy *job_policy(struct pass *p, const struct store_job *j)
{
    struct advise_usage *u = p->u;
    size_t i;

    for (i = 0; i < u->npols; i++)
        if (strcmp(p->texts[i], j->policy_text) == 0)
            return u->pols[i];
    u->pols = xrealloc(u->pols, (u->npols + 1) * sizeof(*u->pols));
    p->texts = xrealloc(p->texts, (u->npols + 1) * sizeof(*p->texts));
    if ((p->rc = policy_load_mem(&u->pols[u->npols], "policy", j->policy_text,
                                 strlen(j->policy_text), p->e)) != 0) {
        err_prefix(p->e, "job %lld's stored policy", (long long)j->id);
        return NULL;
    }
    p->texts[u->npols] = xstrdup(j->policy_text);
    return u->pols[u->npols++];
}

/* The org rule that governs attempt a's job, under the policy the job was
 * submitted with, else p->org; NULL when there is none.  Matched as the
 * controller matches it, on the job's spec as it parses it from the store
 * (its name, kind, team, and its gang's GPUs: the largest alternative's);
 * a simulation's jobs have no spec text, so theirs is made of the row and
 * the attempt (the alternative it ran). */
static const struct policy_rule *match_rule(struct pass *p, const struct store_attempt *a)
{
    const struct policy *pol = p->org;
    const struct policy_rule *r = NULL;
    struct spec *full = NULL;
    struct store_job j;
    struct spec_res res;
    struct spec sp;
    struct err ignored;

    if (p->rc != 0)
        return NULL;
    if ((p->rc = store_job_get(p->st, a->job_id, &j, p->e)) != 0)
        return NULL;
    if (j.policy_text != NULL)
        pol = job_policy(p, &j);
    if (pol != NULL && j.spec_text != NULL && j.spec_text[0] != '\0' &&
        spec_load_mem(&full, j.spec_path ? j.spec_path : j.name, j.spec_text,
                      strlen(j.spec_text), &ignored) == 0) {
        sched_spec_from_row(full, &j);
        r = policy_match(pol, full);
        spec_free(full);
    } else if (pol != NULL) {
        memset(&sp, 0, sizeof(sp));
        memset(&res, 0, sizeof(res));
        res.acc_count = a->acc_count;
        sp.res = &res;
        sp.nres = 1;
        sp.num_nodes = a->nodes;
        sp.name = j.name;
        sp.kind = (enum spec_kind)j.kind;
        sp.team = j.team;
        r = policy_match(pol, &sp);
    }
    store_job_clear(&j);
    return r;
}

/* match_rule, once per job and shape of attempt (what it depends on). */
static const struct policy_rule *job_rule(struct pass *p, const struct store_attempt *a)
{
    const void *job = (const void *)(uintptr_t)a->job_id; /* ids start at 1 */
    const void *acc = (const void *)(uintptr_t)a->acc_count;
    const void *nodes = (const void *)(uintptr_t)a->nodes;
    const struct policy_rule *r;
    uint32_t ix;

    if (keymap_get(&p->job_rules, job, acc, nodes, NULL, &ix))
        return p->rules[ix];
    r = match_rule(p, a);
    if (p->rc != 0)
        return NULL;
    for (ix = 0; ix < p->nrules && p->rules[ix] != r; ix++)
        ;
    if (ix == p->nrules) {
        p->rules = xrealloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
        p->rules[p->nrules++] = r;
    }
    keymap_set(&p->job_rules, job, acc, nodes, NULL, ix);
    return r;
}

/* The curve of o's gangs of `nodes` nodes, made on first sight (the sizes
 * kept increasing). */
static double *gang_curve(const struct advise_usage *u, struct advise_offer *o, int nodes)
{
    size_t i = 0, k;

    while (i < o->ngangs && o->gangs[i] < nodes)
        i++;
    if (i < o->ngangs && o->gangs[i] == nodes)
        return o->gang_usage[i];
    o->gangs = xrealloc(o->gangs, (o->ngangs + 1) * sizeof(*o->gangs));
    o->gang_usage = xrealloc(o->gang_usage, (o->ngangs + 1) * sizeof(*o->gang_usage));
    for (k = o->ngangs; k > i; k--) {
        o->gangs[k] = o->gangs[k - 1];
        o->gang_usage[k] = o->gang_usage[k - 1];
    }
    o->gangs[i] = nodes;
    o->gang_usage[i] = xcalloc(u->nbins + 1, sizeof(double));
    o->ngangs++;
    return o->gang_usage[i];
}

/* Spread nodes run over [a, z) into the bins of curves c1 and c2 (may be
 * NULL); the node-hours. */
static double spread(const struct advise_usage *u, double *c1, double *c2, double a, double z,
                     int nodes)
{
    size_t b = (size_t)((a - u->from) / ADVISE_BIN_S);
    double h = 0;

    for (; b < u->nbins; b++) {
        double lo = fmax(a, u->from + ADVISE_BIN_S * (double)b);
        double hi = fmin(z, u->from + ADVISE_BIN_S * (double)(b + 1));

        if (hi <= lo)
            break;
        c1[b] += nodes * (hi - lo) / ADVISE_BIN_S;
        if (c2 != NULL)
            c2[b] += nodes * (hi - lo) / ADVISE_BIN_S;
        h += nodes * (hi - lo) / 3600.0;
    }
    return h;
}

/* An attempt's nodes, over the bins it ran in. */
static void add_run(const struct advise_usage *u, struct advise_offer *o, double a,
                    double z, int nodes)
{
    o->node_hours += spread(u, o->usage, gang_curve(u, o, nodes), a, z, nodes);
}

typedef void (*att_fn)(struct pass *p, const struct store_attempt *a);

/* Call fn for every attempt of the store, a page at a time. */
static int each_attempt(struct store *st, struct pass *p, att_fn fn, struct err *e)
{
    int64_t after = 0;
    int rc;

    for (;;) {
        struct store_attempt *a = NULL;
        size_t n = 0, i;

        if ((rc = store_attempt_page(st, after, PAGE, &a, &n, e)) != 0)
            return rc;
        for (i = 0; i < n; i++)
            fn(p, &a[i]);
        if (n > 0)
            after = a[n - 1].id;
        store_attempts_free(a, n);
        if (n < PAGE)
            return 0;
    }
}

/* First pass: the window [from, to) of every attempt that ran. */
static void span_of(struct pass *p, const struct store_attempt *a)
{
    if (a->running_at <= 0)
        return;
    if (p->u->nbins == 0 || a->running_at < p->u->from)
        p->u->from = a->running_at;
    p->u->nbins = 1;
    p->to = fmax(p->to, run_end(a, p->now));
}

/* Second pass: the curves. */
static void add_usage(struct pass *p, const struct store_attempt *a)
{
    struct advise_offer *o;

    if (a->running_at > 0 && (a->mode == PLAN_SPOT || backfilled(a))) {
        const struct policy_rule *rule = job_rule(p, a);
        struct advise_spot *sp;
        double h;

        if (p->rc != 0)
            return;
        sp = spot_slot(p, a->accelerator ? a->accelerator : "", a->acc_count, rule);
        h = spread(p->u, sp->usage, NULL, a->running_at, run_end(a, p->now), a->nodes);

        sp->node_hours += h;
        sp->cost += h * (backfilled(a) ? a->backfill_spot : a->price_hour);
        return;
    }
    if (!counts(a))
        return;
    o = slot(p, a);
    if (a->mode == PLAN_COMMITTED)
        p->u->committed_h += (run_end(a, p->now) - a->running_at) * a->nodes / 3600.0;
    if (a->mode == PLAN_ONDEMAND && a->price_hour > o->od_price)
        o->od_price = a->price_hour; /* until the catalog says otherwise */
    add_run(p->u, o, a->running_at, run_end(a, p->now), a->nodes);
}

/* Most on-demand spend first (the offers a negotiation is about). */
static int by_spend(const void *a, const void *b)
{
    const struct advise_offer *x = a, *y = b;
    double sx = x->node_hours * x->od_price, sy = y->node_hours * y->od_price;
    int c;

    if (sx != sy)
        return sx > sy ? -1 : 1;
    c = strcmp(x->cloud, y->cloud);
    if (c == 0)
        c = strcmp(x->region, y->region);
    return c != 0 ? c : strcmp(x->instance_type, y->instance_type);
}

/* May the work of spot slot sp backfill offer o: its accelerator, and a
 * rule that lets it run where o is (not as overflow: the controller takes an
 * overflow cloud only when the allowed ones are unusable)? */
static int may_backfill(const struct catalog *cat, const struct advise_spot *sp,
                        const struct advise_offer *o)
{
    const struct region *rg = cat ? catalog_region(cat, o->cloud, o->region) : NULL;

    if (strcmp(sp->accelerator, o->accelerator) != 0 || sp->acc_count != o->acc_count ||
        sp->node_hours <= 0)
        return 0;
    return sp->rule == NULL ||
           (policy_check_location(sp->rule, o->cloud, o->region, "",
                                  rg && rg->continent ? rg->continent : "") == POLICY_OK &&
            policy_tier(sp->rule, o->cloud) == 0);
}

int advise_read_store(struct store *st, const struct catalog *cat, const struct policy *org,
                      double now, struct advise_usage *u, struct err *e)
{
    struct pass p = {u, 0, 0, now, 0, st, org, NULL, {NULL, 0, 0}, NULL, 0, e, 0};
    size_t i;
    int rc;

    memset(u, 0, sizeof(*u));
    if ((rc = each_attempt(st, &p, span_of, e)) != 0)
        return rc;
    if (u->nbins == 0)
        return err_set(e, ST_ENOTFOUND,
                       "no attempt in the store has run: there is no usage "
                       "to advise on");
    u->from = floor(u->from / 3600) * 3600;
    /* whole hours, so that the window reads as hours */
    u->nbins = (size_t)ceil((p.to - u->from) / 3600) * (size_t)(3600 / ADVISE_BIN_S);
    u->nbins = u->nbins > 0 ? u->nbins : (size_t)(3600 / ADVISE_BIN_S);
    rc = each_attempt(st, &p, add_usage, e);
    rc = rc != 0 ? rc : p.rc;
    for (i = 0; i < u->npols && p.texts; i++)
        free(p.texts[i]);
    free(p.texts);
    keymap_free(&p.job_rules);
    free(p.rules);
    if (rc == 0 && u->n == 0)
        rc = err_set(e, ST_EINFEASIBLE,
                     "no on-demand or committed usage in the store (only "
                     "spot, which no commitment beats)");
    if (rc != 0) {
        advise_usage_free(u);
        return rc;
    }
    for (i = 0; i < u->n; i++) {
        struct advise_offer *o = &u->o[i];
        double lp = catalog_list_price(cat, o->cloud, o->region, o->instance_type);
        size_t h;

        if (lp >= 0)
            o->od_price = lp;
        for (h = 0; h < u->nbins; h++)
            o->peak = fmax(o->peak, o->usage[h]);
        o->spot_ok = xcalloc(u->nspot + 1, 1);
        for (h = 0; h < u->nspot; h++) /* the spot work that could backfill it */
            o->spot_ok[h] = (unsigned char)may_backfill(cat, &u->spot[h], o);
    }
    qsort(u->o, u->n, sizeof(*u->o), by_spend);
    return 0;
}

void advise_usage_free(struct advise_usage *u)
{
    size_t i;

    for (i = 0; i < u->n; i++) {
        size_t k;

        for (k = 0; k < u->o[i].ngangs; k++)
            free(u->o[i].gang_usage[k]);
        free(u->o[i].gang_usage);
        free(u->o[i].gangs);
        free(u->o[i].cloud);
        free(u->o[i].region);
        free(u->o[i].instance_type);
        free(u->o[i].usage);
        free(u->o[i].accelerator);
        free(u->o[i].spot_ok);
    }
    for (i = 0; i < u->nspot; i++) {
        free(u->spot[i].accelerator);
        free(u->spot[i].usage);
    }
    for (i = 0; i < u->npols; i++)
        policy_free(u->pols[i]);
    free(u->pols);
    free(u->spot);
    free(u->o);
    memset(u, 0, sizeof(*u));
}

/* ---- the choice ---- */

void advise_best(const double *usage, size_t nbins, double bin_h, double od_price,
                 double commit_price, struct advise_pick *out)
{
    static const int one = 1;

    advise_best_gangs(&usage, &one, 1, NULL, 0, nbins, bin_h, od_price, commit_price, out,
                      NULL);
}

void advise_best_gangs(const double *const *curves, const int *gangs, size_t ngangs,
                       const double *backfill, double spot_price, size_t nbins,
                       double bin_h, double od_price, double commit_price,
                       struct advise_pick *out, double *fill)
{
    double *cum = xcalloc(nbins + 1, sizeof(double)); /* the gangs of at most n nodes */
    double peak = 0, best = 0, covered_best = 0, filled_best = 0;
    long n, top, best_n = 0;
    size_t h, g = 0;

    memset(out, 0, sizeof(*out));
    out->break_even = od_price > 0 ? commit_price / od_price : 1;
    for (h = 0; h < nbins; h++) {
        double all = backfill ? backfill[h] : 0;

        for (g = 0; g < ngangs; g++)
            all += curves[g][h];
        peak = fmax(peak, all);
    }
    top = (long)ceil(peak - 1e-9);
    for (n = 1, g = 0; n <= top && od_price > 0; n++) {
        double covered = 0, filled = 0, s;

        for (; g < ngangs && gangs[g] <= n; g++)
            for (h = 0; h < nbins; h++)
                cum[h] += curves[g][h];
        for (h = 0; h < nbins; h++) {
            double c = fmin(cum[h], (double)n);

            covered += c;
            filled += backfill ? fmin(backfill[h], (double)n - c) : 0;
        }
        s = (od_price * covered + spot_price * filled -
             (double)n * commit_price * (double)nbins) *
            bin_h;
        if (s > best + 1e-9) {
            best = s;
            best_n = n;
            covered_best = covered;
            filled_best = filled;
        }
    }
    if (fill != NULL) { /* what best_n nodes take of the backfill, bin by bin */
        memset(cum, 0, nbins * sizeof(double));
        for (g = 0; g < ngangs && gangs[g] <= best_n; g++)
            for (h = 0; h < nbins; h++)
                cum[h] += curves[g][h];
        for (h = 0; h < nbins; h++)
            fill[h] = backfill ? fmax(0, fmin(backfill[h], (double)best_n -
                                                              fmin(cum[h], (double)best_n)))
                               : 0;
    }
    free(cum);
    out->nodes = best_n;
    out->saving = best;
    out->utilisation =
        best_n > 0 ? (covered_best + filled_best) / ((double)best_n * (double)nbins) : 0;
    out->backfill = best_n > 0 ? filled_best / ((double)best_n * (double)nbins) : 0;
}

double advise_backfill(const struct advise_usage *u, const struct advise_offer *o,
                       double *const *rem, double *b)
{
    double nh = 0, cost = 0;
    size_t k, h;

    memset(b, 0, u->nbins * sizeof(double));
    for (k = 0; k < u->nspot; k++) {
        const double *c = rem ? rem[k] : u->spot[k].usage;
        double left = 0, all = 0;

        if (!o->spot_ok[k])
            continue;
        for (h = 0; h < u->nbins; h++) {
            b[h] += c[h];
            left += c[h];
            all += u->spot[k].usage[h];
        }
        /* each slot's price weighs by the work of it still left */
        if (all > 0) {
            nh += u->spot[k].node_hours * left / all;
            cost += u->spot[k].cost * left / all;
        }
    }
    return nh > 0 ? cost / nh : 0;
}

void advise_take_backfill(const struct advise_usage *u, const struct advise_offer *o,
                          double *const *rem, const double *b, const double *fill)
{
    size_t k, h;

    for (k = 0; k < u->nspot; k++)
        for (h = 0; o->spot_ok[k] && h < u->nbins; h++)
            if (b[h] > 0)
                rem[k][h] = fmax(0, rem[k][h] - fill[h] * rem[k][h] / b[h]);
}
