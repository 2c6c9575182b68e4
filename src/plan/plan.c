/*
 * plan.c - the planner (see plan.h for the cost model and the order).
 *
 * Layout: reason tables; input resolution (accelerators, data location);
 * the per-candidate pipeline (costs, then the checks in plan.h's order);
 * enumeration over offers, modes and commitments; top-k selection and sort.
 */
#define _GNU_SOURCE /* qsort_r */
#include "plan.h"
#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const reason_keys[] = {
#define X_(id, key, text) key,
    PLAN_REASON_MAP(X_)
#undef X_
};
static const char *const reason_texts[] = {
#define X_(id, key, text) text,
    PLAN_REASON_MAP(X_)
#undef X_
};

const char *plan_reason_key(int r)
{
    return r >= 0 && r < PLAN_R__N ? reason_keys[r] : "unknown";
}

const char *plan_reason_text(int r)
{
    return r >= 0 && r < PLAN_R__N ? reason_texts[r] : "unknown";
}

const char *plan_mode_name(int mode)
{
    static const char *const names[] = {"on-demand", "spot", "committed"};

    return mode >= 0 && mode <= PLAN_COMMITTED ? names[mode] : "?";
}

const char *plan_reason_explain(const struct plan *p, int r, char *buf, size_t n)
{
    if (r >= PLAN_R_POLICY_DENIED && p->rule != NULL) {
        if (p->rule->description)
            snprintf(buf, n, "policy rule '%s' (%s)", p->rule->name, p->rule->description);
        else
            snprintf(buf, n, "policy rule '%s'", p->rule->name);
        return buf;
    }
    snprintf(buf, n, "%s", plan_reason_text(r));
    return buf;
}

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof(*p));
}

void plan_free(struct plan *p)
{
    free(p->c);
    free(p->accs);
    free(p->memo);
    memset(p, 0, sizeof(*p));
}

/* ---- inputs ---- */

static int resolve_accelerators(struct plan *p, struct err *e)
{
    const struct spec *s = p->spec;
    size_t i;

    p->accs = xgrow(p->accs, &p->accs_cap, s->nres, sizeof(*p->accs));
    for (i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];
        const char *sug;

        if (r->accelerator == NULL)
            return err_at(e, ST_EINFEASIBLE, s->path, r->line, 0,
                          "the workload asks for no accelerator, and the catalog lists "
                          "accelerator offers only; add resources.accelerators");
        p->accs[i] = catalog_accelerator(p->cat, r->accelerator);
        if (p->accs[i] != NULL)
            continue;
        sug = str_suggest(r->accelerator, catalog_accelerators(p->cat));
        return err_at(e, ST_EINVAL, s->path, r->line, 0,
                      "no offer in the catalog has accelerator '%s'%s%s%s; "
                      "'stratus offers' lists them",
                      r->accelerator, sug ? " (did you mean '" : "", sug ? sug : "",
                      sug ? "'?)" : "");
    }
    return 0;
}

static int check_data_location(struct plan *p, struct err *e)
{
    const struct spec *s = p->spec;

    if (s->data_cloud == NULL || s->data_gb <= 0)
        return 0;
    if (catalog_region(p->cat, s->data_cloud, s->data_region ? s->data_region : "") != NULL)
        return 0;
    return err_set(e, ST_EINVAL,
                   "%s: stratus.data.location '%s/%s' is not a region in the catalog "
                   "(see %s/regions.csv)",
                   s->path, s->data_cloud, s->data_region ? s->data_region : "",
                   catalog_dir(p->cat));
}

/* ---- one candidate ---- */

/* Per-region memo: egress $/GB at [2i], preemption rate at [2i+1]; NAN = unset. */
static double memo_egress(struct plan *p, const struct offer *o)
{
    double *m = &p->memo[2 * o->region_idx];

    if (isnan(*m))
        *m = catalog_egress_per_gb(p->cat, p->spec->data_cloud, p->spec->data_region,
                                   o->cloud, o->region);
    return *m;
}

static double memo_rate(struct plan *p, const struct offer *o)
{
    double *m = &p->memo[2 * o->region_idx + 1];

    if (isnan(*m))
        *m = catalog_preempt_rate(p->cat, o);
    return *m;
}

static void cand_costs(struct plan *p, const struct offer *o, struct plan_cand *c)
{
    const struct spec *s = p->spec;
    double d = p->duration_h, n = c->nodes;
    double margin = p->rule ? p->rule->prefer_margin : 0;

    c->hourly_cost = c->mode == PLAN_COMMITTED ? 0 : c->price_hour * n;
    c->compute = c->hourly_cost * d;
    c->preemption = 0;
    if (c->mode == PLAN_SPOT) {
        double restore_h = s->ckpt_restore_s / 3600.0;
        double lost_h = s->ckpt_interval_s > 0 ? restore_h + s->ckpt_interval_s / 7200.0
                                               : restore_h + d / 2;
        double preemptions = n * memo_rate(p, o) * d;

        c->preemption = preemptions * lost_h * c->price_hour * n;
    }
    c->egress = 0;
    if (s->data_cloud && s->data_gb > 0)
        c->egress = s->data_gb * memo_egress(p, o);
    c->expected = c->compute + c->preemption + c->egress;
    c->tier = policy_tier(p->rule, o->cloud);
    c->pref = policy_pref_index(p->rule, o->cloud);
    c->key = p->by_price ? c->hourly_cost : c->expected;
    if (c->pref > 0 && margin > 0)
        c->key /= pow(1 - margin, c->pref);
}

static int spec_fits(const struct spec_res *r, const struct offer *o)
{
    if (r->cloud && strcmp(r->cloud, o->cloud) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (r->region && strcmp(r->region, o->region) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (r->zone && strcmp(r->zone, o->zone) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (r->instance_type && strcmp(r->instance_type, o->instance_type) != 0)
        return PLAN_R_SPEC_INSTANCE;
    /* Unknown vCPUs or memory (0, e.g. TPU VMs) cannot be checked and pass. */
    if (r->cpus > 0 && o->vcpus > 0 && (r->cpus_exact ? o->vcpus != r->cpus : o->vcpus < r->cpus))
        return PLAN_R_SPEC_CPUS;
    if (r->memory_gib > 0 && o->memory_gib > 0 &&
        (r->memory_exact ? o->memory_gib != r->memory_gib : o->memory_gib < r->memory_gib))
        return PLAN_R_SPEC_MEMORY;
    return -1;
}

static int policy_fits(const struct plan *p, const struct offer *o, const struct plan_cand *c)
{
    const struct policy_rule *rule = p->rule;
    const struct region *rg = catalog_region_at(p->cat, o->region_idx);

    if (rule == NULL)
        return -1;
    switch (policy_check_location(rule, o->cloud, o->region, o->zone, rg->continent)) {
    case POLICY_DENIED:
        return PLAN_R_POLICY_DENIED;
    case POLICY_NOT_ALLOWED:
        return PLAN_R_POLICY_LOCATION;
    case POLICY_CONTINENT:
        return PLAN_R_POLICY_CONTINENT;
    default:
        break;
    }
    if (rule->spot == POLICY_SPOT_FORBID && c->mode == PLAN_SPOT)
        return PLAN_R_POLICY_SPOT;
    if (rule->spot == POLICY_SPOT_REQUIRE && c->mode != PLAN_SPOT)
        return PLAN_R_POLICY_SPOT;
    if (rule->max_hourly_cost > 0 && c->hourly_cost > rule->max_hourly_cost)
        return PLAN_R_POLICY_COST;
    return -1;
}

/* The first reason candidate c is removed, or -1 when it is feasible. */
static int cand_check(struct plan *p, const struct spec_res *r, const struct offer *o,
                      const struct plan_cand *c)
{
    const struct quota *q;
    int why = spec_fits(r, o);

    if (why >= 0)
        return why;
    if ((r->use_spot == 1 && c->mode != PLAN_SPOT) || (r->use_spot == 0 && c->mode == PLAN_SPOT))
        return PLAN_R_SPEC_SPOT;
    if (c->price_hour < 0)
        return PLAN_R_NO_PRICE;
    if (c->nodes > 1 && o->max_cluster_nodes > 0 && c->nodes > o->max_cluster_nodes)
        return PLAN_R_FABRIC;
    q = catalog_quota(p->cat, o->cloud, o->region, o->accelerator);
    if (q && (long)c->nodes * o->acc_count > q->limit)
        return PLAN_R_QUOTA;
    return policy_fits(p, o, c);
}

static void record(struct plan *p, const struct plan_cand *c, int why)
{
    struct plan_excl *x;

    p->considered++;
    if (why < 0) {
        p->c = xgrow(p->c, &p->cap, p->n + 1, sizeof(*p->c));
        p->c[p->n++] = *c;
        return;
    }
    x = &p->excl[why];
    x->count++;
    if (c->price_hour < 0 || why == PLAN_R_ACC_COUNT)
        return;
    if (!x->has_best || plan_cand_cmp(p, c, &x->best) < 0) {
        x->best = *c;
        x->has_best = 1;
    }
}

static void consider(struct plan *p, size_t alt, uint32_t oi, int mode, double price)
{
    const struct offer *o = catalog_offer(p->cat, oi);
    const struct spec_res *r = &p->spec->res[alt];
    struct plan_cand c;

    memset(&c, 0, sizeof(c));
    c.offer = oi;
    c.alt = (uint16_t)alt;
    c.mode = (uint8_t)mode;
    c.nodes = p->spec->num_nodes;
    c.price_hour = price;
    if (o->acc_count != r->acc_count) {
        record(p, &c, PLAN_R_ACC_COUNT);
        return;
    }
    if (price >= 0)
        cand_costs(p, o, &c);
    record(p, &c, cand_check(p, r, o, &c));
}

/* Commitments active at `now` that cover this offer with enough nodes. */
static void consider_commitments(struct plan *p, size_t alt, uint32_t oi, double now)
{
    const struct offer *o = catalog_offer(p->cat, oi);
    size_t i, n = catalog_ncommitments(p->cat);

    for (i = 0; i < n; i++) {
        const struct commitment *m = catalog_commitment(p->cat, i);

        if (m->cloud != o->cloud || m->region != o->region ||
            m->instance_type != o->instance_type || (*m->zone && m->zone != o->zone))
            continue;
        if ((m->start && now < m->start) || (m->end && now >= m->end) ||
            m->count < p->spec->num_nodes)
            continue;
        consider(p, alt, oi, PLAN_COMMITTED, m->price_hour);
    }
}

/* ---- ordering ---- */

int plan_cand_cmp(const struct plan *p, const struct plan_cand *a, const struct plan_cand *b)
{
    const struct offer *oa = catalog_offer(p->cat, a->offer);
    const struct offer *ob = catalog_offer(p->cat, b->offer);
    int r;

    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    if (p->spec->ordered && a->alt != b->alt)
        return a->alt < b->alt ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if ((r = strcmp(oa->cloud, ob->cloud)) != 0 || (r = strcmp(oa->region, ob->region)) != 0 ||
        (r = strcmp(oa->zone, ob->zone)) != 0 ||
        (r = strcmp(oa->instance_type, ob->instance_type)) != 0)
        return r;
    if (a->mode != b->mode)
        return a->mode < b->mode ? -1 : 1;
    return a->offer < b->offer ? -1 : a->offer > b->offer;
}

static int cmp_r(const void *a, const void *b, void *ctx)
{
    return plan_cand_cmp(ctx, a, b);
}

/* Keep the best k of p->c in order: a max-heap of k, then a sort (O(n log k)). */
static void sift_down(struct plan *p, size_t i, size_t k)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct plan_cand t;

        if (l < k && plan_cand_cmp(p, &p->c[l], &p->c[m]) > 0)
            m = l;
        if (r < k && plan_cand_cmp(p, &p->c[r], &p->c[m]) > 0)
            m = r;
        if (m == i)
            return;
        t = p->c[i];
        p->c[i] = p->c[m];
        p->c[m] = t;
        i = m;
    }
}

static void select_top(struct plan *p, size_t k)
{
    size_t i;

    if (k > 0 && p->n > k) {
        for (i = k / 2; i-- > 0;)
            sift_down(p, i, k);
        for (i = k; i < p->n; i++) {
            if (plan_cand_cmp(p, &p->c[i], &p->c[0]) < 0) {
                p->c[0] = p->c[i];
                sift_down(p, 0, k);
            }
        }
        p->n = k;
    }
    qsort_r(p->c, p->n, sizeof(*p->c), cmp_r, p);
}

/* ---- the whole ---- */

static int infeasible(struct plan *p, struct err *e)
{
    char msg[ST_ERR_MSG_MAX], why[256];
    size_t off = 0;
    int r;

    off += (size_t)snprintf(msg, sizeof(msg),
                            "no feasible placement for '%s': %zu candidates considered",
                            p->spec->name, p->considered);
    for (r = 0; r < PLAN_R__N && off < sizeof(msg); r++)
        if (p->excl[r].count)
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, "; %zu removed: %s",
                                    p->excl[r].count,
                                    plan_reason_explain(p, r, why, sizeof(why)));
    return err_set(e, ST_EINFEASIBLE, "%s", msg);
}

/* Make the per-region memo valid for this plan.  It outlives one plan:
 * egress depends only on the data location and rates only on the
 * accelerator (forget_rates), so a reused plan keeps what it computed for
 * the same ones (the controller plans thousands of jobs of a few shapes). */
static void memo_prepare(struct plan *p, const struct catalog *cat, const struct spec *s)
{
    size_t i, nreg = catalog_nregions(cat);
    int fresh = p->memo_cap < 2 * nreg || p->cat != cat;
    char data[sizeof(p->memo_data)];
    int same_data;

    snprintf(data, sizeof(data), "%s/%s", s->data_cloud ? s->data_cloud : "",
             s->data_region ? s->data_region : "");
    same_data = !fresh && strcmp(data, p->memo_data) == 0;
    p->memo = xgrow(p->memo, &p->memo_cap, 2 * nreg, sizeof(*p->memo));
    for (i = 0; i < nreg; i++) {
        if (!same_data)
            p->memo[2 * i] = NAN;
        if (fresh)
            p->memo[2 * i + 1] = NAN;
    }
    if (fresh)
        p->memo_acc = NULL;
    memcpy(p->memo_data, data, sizeof(data));
}

static void plan_reset(struct plan *p, const struct catalog *cat, const struct spec *s,
                       const struct policy *pol)
{
    memo_prepare(p, cat, s);
    p->cat = cat;
    p->spec = s;
    p->rule = policy_match(pol, s);
    p->n = p->feasible = p->considered = 0;
    memset(p->excl, 0, sizeof(p->excl));
    p->duration_assumed = s->duration_s <= 0;
    p->duration_h = p->duration_assumed ? 1.0 : s->duration_s / 3600.0;
}

/* Forget memoised preemption rates unless they are for accelerator acc. */
static void forget_rates(struct plan *p, const char *acc)
{
    size_t i, nreg = catalog_nregions(p->cat);

    if (p->memo_acc == acc)
        return;
    for (i = 0; i < nreg; i++)
        p->memo[2 * i + 1] = NAN;
    p->memo_acc = acc;
}

int plan_rank(struct plan *p, const struct catalog *cat, const struct spec *s,
              const struct policy *pol, const struct plan_opts *o, struct err *e)
{
    double now = o && o->now > 0 ? o->now : (double)time(NULL);
    int has_commits = catalog_ncommitments(cat) > 0;
    size_t alt, i, n;
    int rc;

    plan_reset(p, cat, s, pol);
    p->by_price = o ? o->by_price : 0;
    if ((rc = resolve_accelerators(p, e)) != 0 || (rc = check_data_location(p, e)) != 0)
        return rc;
    for (alt = 0; alt < s->nres; alt++) {
        const uint32_t *idx = catalog_offers_of(cat, p->accs[alt], &n);

        forget_rates(p, p->accs[alt]);
        for (i = 0; i < n; i++) {
            const struct offer *of = catalog_offer(cat, idx[i]);

            consider(p, alt, idx[i], PLAN_ONDEMAND, of->price);
            consider(p, alt, idx[i], PLAN_SPOT, of->spot_price);
            if (has_commits)
                consider_commitments(p, alt, idx[i], now);
        }
    }
    p->feasible = p->n;
    if (p->n == 0)
        return infeasible(p, e);
    select_top(p, o ? o->top : 0);
    return 0;
}
