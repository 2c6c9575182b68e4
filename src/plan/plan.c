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
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
    free(p->alts);
    free(p->eg);
    catalog_routes_free(&p->routes);
    free(p->copy_ix);
    memset(p, 0, sizeof(*p));
}

/* ---- inputs ---- */

/* An accelerator the catalog has no offer of: a known one is said to be
 * absent (never "did you mean" another GPU); an unknown one gets a spelling
 * suggestion among the catalog's names. */
static int unknown_accelerator(struct plan *p, const struct spec_res *r, struct err *e)
{
    const struct spec *s = p->spec;
    const char *sug;
    size_t line = r->acc_line ? r->acc_line : r->line, col = r->acc_line ? r->acc_col : 0;

    if (catalog_known_accelerator(r->accelerator))
        return err_at(e, ST_EINVAL, s->path, line, col,
                      "'%s' is a known accelerator, but this catalog has no offer of it; "
                      "'stratus offers' lists what it has",
                      r->accelerator);
    sug = str_suggest(r->accelerator, catalog_accelerators(p->cat));
    return err_at(e, ST_EINVAL, s->path, line, col,
                  "no offer in the catalog has accelerator '%s'%s%s%s; "
                  "'stratus offers' lists them",
                  r->accelerator, sug ? " (did you mean '" : "", sug ? sug : "",
                  sug ? "'?)" : "");
}

const char plan_acc_absent[] = "(absent)";

/* The offers an alternative looks at: those of its accelerator; CPU-only
 * offers (accelerator "") when it names none; every offer (NULL) when it
 * names only an instance type, which then says what the node has.  A known
 * accelerator the catalog lacks, among other alternatives, is skipped
 * (plan_acc_absent) as SkyPilot skips what no cloud it has sells; the plan
 * fails only when no alternative is left. */
static int resolve_accelerators(struct plan *p, struct err *e)
{
    const struct spec *s = p->spec;
    size_t i, n, absent = 0, first = 0;

    p->accs = xgrow(p->accs, &p->accs_cap, s->nres, sizeof(*p->accs));
    for (i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];

        if (r->accelerator == NULL && r->instance_type != NULL) {
            p->accs[i] = NULL;
            continue;
        }
        if (r->accelerator != NULL) {
            p->accs[i] = catalog_accelerator(p->cat, r->accelerator);
            if (p->accs[i] != NULL)
                continue;
            if (!catalog_known_accelerator(r->accelerator))
                return unknown_accelerator(p, r, e); /* a typo stops the plan */
            if (absent++ == 0)
                first = i;
            p->accs[i] = plan_acc_absent;
            continue;
        }
        /* CPU-only offers are indexed under "" (catalog.h). */
        p->accs[i] = "";
        if (catalog_offers_of(p->cat, "", &n) != NULL && n > 0)
            continue;
        return err_at(
            e, ST_EINFEASIBLE, s->path, r->line, 0,
            "the workload asks for no accelerator, and this catalog (%s) has no "
            "CPU-only offers; add resources.accelerators or use a catalog with "
            "CPU instances",
            catalog_dir(p->cat));
    }
    return absent == s->nres ? unknown_accelerator(p, &s->res[first], e) : 0;
}

/* Whether the catalog knows cloud at all (some region of it). */
static int cloud_known(const struct catalog *cat, const char *cloud)
{
    for (size_t i = 0; i < catalog_nregions(cat); i++) {
        if (strcmp(catalog_region_at(cat, i)->cloud, cloud) == 0)
            return 1;
    }
    return 0;
}

static int unknown_region(const struct catalog *cat, const char *path, size_t line,
                          size_t col, const char *what, const char *cloud,
                          const char *region, struct err *e);

/* A data location must be in the catalog.  A bucket from file_mounts has a
 * cloud and no region: its egress is priced by cloud (see memo_egress). */
int plan_check_data_location(const struct catalog *cat, const struct spec *s,
                             struct err *e)
{
    if (s->data_cloud == NULL || s->data_gb <= 0)
        return 0;
    if (s->data_region == NULL) {
        if (cloud_known(cat, s->data_cloud))
            return 0;
        return err_at(e, ST_EINVAL, s->path, s->data_line, s->data_col,
                      "the data is on %s, which has no region in the catalog (see "
                      "%s/regions.csv); set stratus.data.location",
                      s->data_cloud, catalog_dir(cat));
    }
    if (catalog_region(cat, s->data_cloud, s->data_region) != NULL)
        return 0;
    return unknown_region(cat, s->path, s->data_line, s->data_col,
                          "stratus.data.location", s->data_cloud, s->data_region, e);
}

/* A region a spec names that the catalog does not have (a typo, or a region
 * of another cloud), with the nearest name of the cloud's regions. */
static int unknown_region(const struct catalog *cat, const char *path, size_t line,
                          size_t col, const char *what, const char *cloud,
                          const char *region, struct err *e)
{
    size_t i, n = 0, nr = catalog_nregions(cat);
    const char **names = xcalloc(nr + 1, sizeof(*names));
    const char *sug, *other = NULL;
    int rc;

    for (i = 0; i < nr; i++) {
        const struct region *r = catalog_region_at(cat, i);

        if (cloud == NULL || strcmp(r->cloud, cloud) == 0)
            names[n++] = r->name;
    }
    sug = str_suggest(region, names);
    for (i = 0; cloud != NULL && i < nr; i++) /* the name of another cloud's region */
        if (strcmp(catalog_region_at(cat, i)->name, region) == 0) {
            other = catalog_region_at(cat, i)->cloud;
            break;
        }
    rc = err_at(
        e, ST_EINVAL, path, line, col,
        "%s: '%s%s%s' is not a region in the catalog%s%s%s%s%s (see %s/regions.csv)",
        what, cloud ? cloud : "", cloud ? "/" : "", region,
        other ? "; it is a region of " : "", other ? other : "",
        sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "", catalog_dir(cat));
    free(names);
    return rc;
}

/* Every region the spec's alternatives name is one of the catalog's (of
 * their cloud, when they name one too). */
static int check_regions(struct plan *p, struct err *e)
{
    const struct spec *s = p->spec;
    size_t i, k;

    for (i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];
        int found = 0;

        for (k = 0; r->region != NULL && !found && k < catalog_nregions(p->cat); k++) {
            const struct region *g = catalog_region_at(p->cat, k);

            found = strcmp(g->name, r->region) == 0 &&
                    (r->cloud == NULL || strcmp(g->cloud, r->cloud) == 0);
        }
        if (r->region != NULL && !found)
            return unknown_region(p->cat, s->path, r->loc_line ? r->loc_line : r->line,
                                  r->loc_col, "resources", r->cloud, r->region, e);
    }
    return 0;
}

/* ---- throughput: each alternative's speed ---- */

/* An alternative's accelerators: as written, or for one that names only an
 * instance type, those of the catalog's offer of it (of its cloud, when
 * given): the node it gets has them, and its speed follows. */
struct shape {
    const char *acc;
    int count;
    double part;
    int slowest; /* an instance type's slowest offer's (catalog_type_shape 2) */
};

static struct shape res_shape(const struct catalog *cat, const struct spec *s,
                              const struct spec_res *r)
{
    struct shape h = {r->accelerator, r->acc_count, r->acc_part, 0};

    /* one whose offers carry different accelerators counts as the slowest
     * of them; none of known ratio: unknown (1.0) */
    if (r->accelerator == NULL && r->instance_type != NULL) {
        int k = catalog_type_shape(cat, r->cloud, r->instance_type,
                                   s->kind == SPEC_KIND_INFER, &h.acc, &h.count, &h.part);

        if (k == 0)
            h.acc = NULL;
        h.slowest = k == 2;
    }
    return h;
}

int plan_alt_shape(const struct catalog *cat, const struct spec *s, size_t alt,
                   const char **acc, int *count, double *part)
{
    struct shape h = res_shape(cat, s, &s->res[alt]);

    *acc = h.acc;
    *count = h.count;
    *part = h.part;
    return h.acc != NULL;
}

/* The work a node of (acc, count, part) does against one of the first
 * alternative's shape h0: for a service whose target_qps_per_replica names
 * both accelerators, the ratio of what it says a replica of each serves
 * (the replicas are scaled by it: helper-103 found plan ranking them by
 * the catalog's ratio instead, 2.5 where the spec said 4); else the
 * catalog's throughput ratio (*known: whether either knew it). */
static double speed_of(const struct catalog *cat, const struct spec *s, struct shape h0,
                       const char *acc, int count, double part, int *known)
{
    double q0 = svc_named_qps(s->service, h0.acc), q = svc_named_qps(s->service, acc);

    if (q0 > 0 && q > 0) {
        if (known)
            *known = 1;
        return q / q0;
    }
    return catalog_speed(cat, h0.acc, h0.count, h0.part, acc, count, part,
                         s->kind == SPEC_KIND_INFER, known);
}

double plan_speed(const struct catalog *cat, const struct spec *s, const char *acc,
                  int count, double part)
{
    return speed_of(cat, s, res_shape(cat, s, &s->res[0]), acc, count, part, NULL);
}

double plan_alt_speed(const struct catalog *cat, const struct spec *s, size_t alt)
{
    struct shape h = res_shape(cat, s, &s->res[alt]);

    return alt == 0 ? 1.0 : plan_speed(cat, s, h.acc, h.count, h.part);
}

/* Once per plan: every alternative's speed and run time.  Costs below use
 * the candidate's alternative's run time (compute, preemption exposure). */
static void alt_speeds(struct plan *p)
{
    const struct spec *s = p->spec;
    struct shape h0 = res_shape(p->cat, s, &s->res[0]);

    p->alts = xgrow(p->alts, &p->alts_cap, s->nres, sizeof(*p->alts));
    for (size_t i = 0; i < s->nres; i++) {
        struct shape h = i == 0 ? h0 : res_shape(p->cat, s, &s->res[i]);
        int known;

        p->alts[i].speed = speed_of(p->cat, s, h0, h.acc, h.count, h.part, &known);
        p->alts[i].known = i == 0 || known; /* the first: 1 by definition */
        p->alts[i].slowest = h.slowest;
        p->alts[i].hours = p->duration_h / p->alts[i].speed;
    }
}

/* ---- one candidate ---- */

/* Per-region memo, MEMO_W doubles a region: egress $/GB at [0], preemption
 * rate at [1], storage $/GB-month of a new replica at [2] (0 when a copy is
 * there already), the catalog region the data comes from at [3] (-1: the
 * home outside the catalog); NAN = unset. */
#define MEMO_W 4

/* Egress between regions by index, from a matrix kept across plans (a
 * replica's copies make every plan price its regions afresh; the catalog's
 * rule lookup is the cost of that).  Catalogs with more regions than this
 * look the price up each time. */
#define EG_MAX_REGIONS 1024

static double eg_between(struct plan *p, long s, const struct offer *o)
{
    size_t nreg = catalog_nregions(p->cat);
    const struct region *a, *b;
    double *m;

    if (s < 0 || nreg > EG_MAX_REGIONS)
        return NAN;
    if (!p->opts || !p->opts->direct_egress) {
        const double *row = catalog_routes_row(&p->routes, p->cat, (size_t)s, NULL);

        return row ? row[o->region_idx] : NAN;
    }
    if (p->eg_cat != p->cat || p->eg_cap < nreg * nreg) {
        p->eg = xgrow(p->eg, &p->eg_cap, nreg * nreg, sizeof(*p->eg));
        for (size_t i = 0; i < nreg * nreg; i++)
            p->eg[i] = NAN;
        p->eg_cat = p->cat;
    }
    m = &p->eg[(size_t)s * nreg + o->region_idx];
    if (isnan(*m)) {
        a = catalog_region_at(p->cat, (size_t)s);
        b = catalog_region_at(p->cat, o->region_idx);
        *m = catalog_egress_per_gb(p->cat, a->cloud, a->name, b->cloud, b->name);
    }
    return *m;
}

/* Is a copy at (cloud, region), of catalog region index ix (-1 = not in the
 * catalog: compared by name), in o's region? */
static int copy_in(long ix, const char *cloud, const char *region, const struct offer *o)
{
    return ix >= 0 ? ix == (long)o->region_idx
                   : region != NULL && strcmp(cloud, o->cloud) == 0 &&
                         strcmp(region, o->region) == 0;
}

static double memo_egress(struct plan *p, const struct offer *o)
{
    double *m = &p->memo[MEMO_W * o->region_idx];
    const struct plan_opts *opt = p->opts;
    size_t i;

    if (!isnan(*m))
        return *m;
    /* A bucket of unknown region (a file_mounts URL): on the same cloud it is
     * counted as free, since SkyPilot users keep buckets where they run;
     * from another cloud it costs that cloud's internet egress, the same
     * from every region (the inter_cloud rows match any source region). */
    m[2] = 0;
    m[3] = (double)p->home_ix;
    if (p->spec->data_region == NULL && strcmp(p->spec->data_cloud, o->cloud) == 0) {
        *m = 0;
        return *m;
    }
    if (copy_in(p->home_ix, p->spec->data_cloud, p->spec->data_region, o)) {
        *m = 0;
        return *m;
    }
    *m = eg_between(p, p->home_ix, o);
    if (isnan(*m))
        *m = catalog_egress_per_gb(p->cat, p->spec->data_cloud,
                                   p->spec->data_region ? p->spec->data_region : "", o->cloud,
                                   o->region);
    /* The nearest copy: a replica in the region costs nothing to use. */
    for (i = 0; opt && i < opt->ncopies && *m > 0; i++) {
        const struct plan_copy *c = &opt->copies[i];
        double r;

        if (copy_in(p->copy_ix[i], c->cloud, c->region, o)) {
            *m = 0;
            m[3] = (double)p->copy_ix[i];
            return *m;
        }
        r = eg_between(p, p->copy_ix[i], o);
        if (isnan(r))
            r = catalog_egress_per_gb(p->cat, c->cloud, c->region, o->cloud, o->region);
        if (r < *m) {
            *m = r;
            m[3] = (double)p->copy_ix[i];
        }
    }
    for (; opt && i < opt->ncopies; i++)
        if (copy_in(p->copy_ix[i], opt->copies[i].cloud, opt->copies[i].region, o))
            return *m;
    m[2] = catalog_storage_per_gb_month(p->cat, o->cloud);
    return *m;
}

static double memo_rate(struct plan *p, const struct offer *o)
{
    double *m = &p->memo[MEMO_W * o->region_idx + 1];

    if (p->memo_acc == NULL)
        return catalog_preempt_rate(p->cat, o); /* offers of mixed accelerators */
    if (isnan(*m))
        *m = catalog_preempt_rate(p->cat, o);
    return *m;
}

/* e^x, and past EXP_CAP a line that keeps rising (so a longer or riskier
 * run still costs more), where e^x would overflow what a cost can hold. */
#define EXP_CAP 300.0
static double exp_capped(double x)
{
    return x <= EXP_CAP ? exp(x) : exp(EXP_CAP) * (1 + x - EXP_CAP);
}

/* The hours a spot gang of d hours' work is expected to lose to preemptions
 * that come at `rate` per hour (the gang's: the first of its nodes taken
 * ends it), each rerunning from the last checkpoint, or from the start
 * without one.  The work is cut into segments of one checkpoint interval
 * (all of it without checkpoints); a segment of t hours, with r hours of
 * restore before each retry, takes e^(rate r) (e^(rate t) - 1) / rate hours
 * on average.  For rate x t small this is t + rate t (t/2 + r): half an
 * interval and a restore lost per preemption.  For a long segment it grows
 * as e^(rate t): a 13.4 h run without checkpoints at 0.49 preemptions an
 * hour is expected to take 1,450 h, not 13.4 + 44.  Past e^300 it grows
 * linearly instead (exp_capped): still rising with the rate and the
 * segment, and finite. */
static double spot_lost_hours(const struct spec *s, double d, double rate)
{
    double seg = s->ckpt_interval_s > 0 ? fmin(s->ckpt_interval_s / 3600.0, d) : d;
    double r = s->ckpt_restore_s / 3600.0, x, grow;

    if (!(rate > 0) || !(seg > 0))
        return 0;
    x = rate * seg;
    grow = x <= EXP_CAP ? expm1(x) : exp_capped(x);
    return (d / seg) * exp_capped(rate * r) * grow / rate - d;
}

static void cand_costs(struct plan *p, const struct offer *o, struct plan_cand *c)
{
    const struct spec *s = p->spec;
    double d = p->alts[c->alt].hours, n = c->nodes; /* run time on this alternative */
    double storage = 0;
    double margin = p->rule ? p->rule->prefer_margin : 0;

    c->hourly_cost = c->mode == PLAN_COMMITTED ? 0 : c->price_hour * n;
    c->compute = c->hourly_cost * d;
    if (c->mode == PLAN_COMMITTED && d > p->commit_left_h)
        c->compute =
            fmax(catalog_od_price_last(p->cat, c->offer), 0) * n *
            (d - p->commit_left_h); /* past its end, at the price last in force */
    c->preemption = 0;
    if (c->mode == PLAN_SPOT) {
        double rate = n * memo_rate(p, o);

        if (rate != p->lost_rate || d != p->lost_d) {
            p->lost_rate = rate;
            p->lost_d = d;
            p->lost_h = spot_lost_hours(s, d, rate);
        }
        c->preemption = p->lost_h * c->price_hour * n;
    }
    c->egress = 0;
    if (s->data_cloud && s->data_gb > 0) {
        double keep_h = d + (p->opts ? p->opts->copy_keep_h : 0);

        c->egress = s->data_gb * memo_egress(p, o);
        storage = s->data_gb * p->memo[MEMO_W * o->region_idx + 2] * keep_h / 730.0;
    }
    c->expected = c->compute + c->preemption + c->egress + storage;
    c->tier = policy_tier(p->rule, o->cloud);
    c->pref = policy_pref_index(p->rule, o->cloud);
    c->key = p->by_price ? c->hourly_cost : c->expected;
    if (c->pref > 0 && margin > 0)
        c->key /= pow(1 - margin, c->pref);
}

static int spec_fits(const struct spec *s, const struct spec_res *r,
                     const struct offer *o)
{
    if (r->cloud && strcmp(r->cloud, o->cloud) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (r->region && strcmp(r->region, o->region) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (r->zone && strcmp(r->zone, o->zone) != 0)
        return PLAN_R_SPEC_LOCATION;
    if (!spec_region_has_image(s, o->region))
        return PLAN_R_SPEC_LOCATION; /* a per-region image_id map names the regions */
    if (r->instance_type && strcmp(r->instance_type, o->instance_type) != 0)
        return PLAN_R_SPEC_INSTANCE;
    /* Unknown vCPUs or memory (0, e.g. TPU VMs) cannot be checked and pass. */
    if (r->cpus > 0 && o->vcpus > 0 && (r->cpus_exact ? o->vcpus != r->cpus : o->vcpus < r->cpus))
        return PLAN_R_SPEC_CPUS;
    if (r->memory_gib > 0 && o->memory_gib > 0 &&
        (r->memory_exact ? o->memory_gib != r->memory_gib : o->memory_gib < r->memory_gib))
        return PLAN_R_SPEC_MEMORY;
    if (r->mem_per_cpu > 0 && o->vcpus > 0 && o->memory_gib > 0 &&
        o->memory_gib < r->mem_per_cpu * o->vcpus)
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

/* SkyPilot places CPU work without an instance type on its default
 * families only (families.c); when none fits, other families may do, but
 * never ARM ones (a task's x86 image would not run).  Asked once per offer
 * (both modes follow). */
static int cpu_family_ok(struct plan *p, const struct offer *o)
{
    if (p->fam_offer != o) {
        p->fam_offer = o;
        p->fam_ok = !plan_cpu_arm(o->cloud, o->instance_type) &&
                    (p->family_relaxed || plan_cpu_default_family(o->cloud, o->instance_type));
    }
    return p->fam_ok;
}

/* The first reason candidate c is removed, or -1 when it is feasible. */
static int cand_check(struct plan *p, const struct spec_res *r, const struct offer *o,
                      const struct plan_cand *c)
{
    const struct quota *q;
    int why = spec_fits(p->spec, r, o);

    if (why >= 0)
        return why;
    if (r->accelerator == NULL && r->instance_type == NULL && !cpu_family_ok(p, o))
        return PLAN_R_SPEC_FAMILY;
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
    /* An alternative naming only an instance type takes what it has; a
     * share of one accelerator matches offers of that share only. */
    if ((o->acc_count != r->acc_count || !CATALOG_SAME_PART(o->acc_part, r->acc_part)) &&
        p->accs[alt] != NULL) {
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

        if (!catalog_commitment_covers(m, o))
            continue;
        if ((m->start && now < m->start) || (m->end && now >= m->end) ||
            m->count < p->spec->num_nodes)
            continue;
        p->commit_left_h = m->end ? (m->end - now) / 3600.0 : INFINITY;
        consider(p, alt, oi, PLAN_COMMITTED, m->price_hour);
    }
}

/* ---- ordering ---- */

int plan_cand_cmp(const struct plan *p, const struct plan_cand *a, const struct plan_cand *b)
{
    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    if (p->spec->ordered && a->alt != b->alt)
        return a->alt < b->alt ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    /* then by cloud, region, zone and instance type names (interned: equal
     * names are one pointer, and most ties share all but the last) */
    if (a->offer != b->offer) {
        const struct offer *oa = catalog_offer(p->cat, a->offer);
        const struct offer *ob = catalog_offer(p->cat, b->offer);
        int r;

        if ((oa->cloud != ob->cloud && (r = strcmp(oa->cloud, ob->cloud)) != 0) ||
            (oa->region != ob->region && (r = strcmp(oa->region, ob->region)) != 0) ||
            (oa->zone != ob->zone && (r = strcmp(oa->zone, ob->zone)) != 0) ||
            (oa->instance_type != ob->instance_type &&
             (r = strcmp(oa->instance_type, ob->instance_type)) != 0))
            return r;
    }
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

/* "on azure", "in aws/us-east-1", "in region eastus": the spec's location. */
static void loc_text(const struct spec_res *r, char *buf, size_t n)
{
    if (r->cloud && !r->region && !r->zone)
        snprintf(buf, n, "on %s", r->cloud);
    else if (r->cloud)
        snprintf(buf, n, "in %s/%s%s%s", r->cloud, r->region ? r->region : "*",
                 r->zone ? "/" : "", r->zone ? r->zone : "");
    else
        snprintf(buf, n, "in %s %s", r->zone ? "zone" : "region",
                 r->zone ? r->zone : r->region);
}

static int in_location(const struct spec_res *r, const struct offer *o)
{
    return (!r->cloud || strcmp(r->cloud, o->cloud) == 0) &&
           (!r->region || strcmp(r->region, o->region) == 0) &&
           (!r->zone || strcmp(r->zone, o->zone) == 0);
}

static double list_price(const struct offer *o)
{
    return o->price >= 0 ? o->price : o->spot_price;
}

/* The offer to point at: one that fits the alternative but for its
 * location if any, cheapest first; NULL when some offer is in the spec's
 * location (nothing to say: another reason removed them). */
static const struct offer *best_elsewhere(const struct plan *p, size_t alt, int *none)
{
    const struct spec_res *r = &p->spec->res[alt];
    struct spec_res anywhere = *r;
    const struct offer *best = NULL;
    size_t i, n;
    const uint32_t *idx = catalog_offers_of(p->cat, p->accs[alt], &n);
    int bfits = 0;

    anywhere.cloud = anywhere.region = anywhere.zone = NULL;
    *none = 0;
    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(p->cat, idx[i]);
        int fits = o->acc_count == r->acc_count && CATALOG_SAME_PART(o->acc_part, r->acc_part) &&
                   spec_fits(p->spec, &anywhere, o) < 0 &&
                   (r->accelerator || r->instance_type ||
                    !plan_cpu_arm(o->cloud, o->instance_type));

        if (in_location(r, o)) {
            *none = 1;
            return NULL;
        }
        if (best == NULL || (fits && !bfits) ||
            (fits == bfits && list_price(o) < list_price(best))) {
            best = o;
            bfits = fits;
        }
    }
    return best;
}

/* How many regions of `cloud` have offers of the alternative's accelerator. */
static size_t regions_of(const struct plan *p, size_t alt, const char *cloud)
{
    size_t i, n, count = 0;
    const uint32_t *idx = catalog_offers_of(p->cat, p->accs[alt], &n);
    unsigned char *seen = xcalloc(catalog_nregions(p->cat) + 1, 1);

    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(p->cat, idx[i]);

        if (o->cloud == cloud && !seen[o->region_idx]++)
            count++;
    }
    free(seen);
    return count;
}

/* Where the offers of an alternative's accelerator are, when none is in the
 * spec's location: "A10G is not offered on azure; aws offers it in 12
 * regions, cheapest us-east-1 g5.xlarge (A10G:1) $1.006/h".  Appends to msg
 * at *off (kept <= len); nothing when the location has some. */
static void note_elsewhere(struct plan *p, size_t alt, char *msg, size_t len, size_t *off)
{
    const struct spec_res *r = &p->spec->res[alt];
    const struct offer *best;
    char where[160], shape[64];
    int gpu, some_here;
    size_t nreg;

    if (p->accs[alt] == NULL || p->accs[alt] == plan_acc_absent ||
        (!r->cloud && !r->region && !r->zone) || *off >= len)
        return;
    best = best_elsewhere(p, alt, &some_here);
    if (some_here)
        return;
    gpu = p->accs[alt][0] != '\0';
    loc_text(r, where, sizeof(where));
    if (best == NULL) {
        snprintf(msg + *off, len - *off, ": %s %s not offered %s",
                 gpu ? p->accs[alt] : "CPU-only instances", gpu ? "is" : "are", where);
    } else {
        nreg = regions_of(p, alt, best->cloud);
        if (gpu)
            catalog_shape(shape, sizeof(shape), best->accelerator, best->acc_count,
                          best->acc_part);
        else
            snprintf(shape, sizeof(shape), "%g vCPU, %g GiB", best->vcpus,
                     best->memory_gib);
        snprintf(msg + *off, len - *off,
                 ": %s %s not offered %s; %s offers %s in %zu region%s, cheapest %s %s "
                 "(%s) $%.3f/h",
                 gpu ? p->accs[alt] : "CPU-only instances", gpu ? "is" : "are", where,
                 best->cloud, gpu ? "it" : "them", nreg, nreg == 1 ? "" : "s",
                 best->region, best->instance_type, shape, list_price(best));
    }
    *off += strlen(msg + *off);
}

/* A zone no offer of the catalog is in (of the alternative's region, and
 * cloud when given): the spec's error, at its line, with the region's zones
 * (found only when nothing was feasible: the offers are walked then). */
static int unknown_zone(const struct plan *p, struct err *e)
{
    const struct spec *s = p->spec;

    for (size_t i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];
        char zones[512] = "";
        size_t k, off = 0, nz = 0;
        int found = 0;

        if (r->zone == NULL)
            continue;
        for (k = 0; k < catalog_noffers(p->cat) && !found; k++) {
            const struct offer *o = catalog_offer(p->cat, k);

            if ((r->cloud != NULL && strcmp(o->cloud, r->cloud) != 0) ||
                (r->region != NULL && strcmp(o->region, r->region) != 0))
                continue;
            if (strcmp(o->zone, r->zone) == 0)
                found = 1;
            else if (*o->zone && !strstr(zones, o->zone) &&
                     off + strlen(o->zone) + 8 < sizeof(zones)) {
                off += (size_t)snprintf(zones + off, sizeof(zones) - off, "%s%s",
                                        nz++ ? ", " : "", o->zone);
            }
        }
        if (!found)
            return err_at(e, ST_EINVAL, s->path, r->loc_line ? r->loc_line : r->line,
                          r->loc_col, "'%s' is not a zone of %s%s%s in the catalog; %s%s",
                          r->zone, r->cloud ? r->cloud : "",
                          r->cloud && r->region ? "/" : "", r->region ? r->region : "",
                          nz ? "its zones: "
                             : "its offers there are regional: leave the "
                               "zone out",
                          zones);
    }
    return 0;
}

static int infeasible(struct plan *p, struct err *e)
{
    char msg[ST_ERR_MSG_MAX], why[256];
    size_t off = 0, head;
    int r;

    if (unknown_zone(p, e) != 0)
        return e->code;

    off += (size_t)snprintf(msg, sizeof(msg), "no feasible placement for '%s'",
                            p->spec->name);
    head = off;
    for (size_t alt = 0; alt < p->spec->nres && alt < 4; alt++)
        note_elsewhere(p, alt, msg, sizeof(msg), &off);
    if (off < sizeof(msg))
        off +=
            (size_t)snprintf(msg + off, sizeof(msg) - off, "%s %zu candidates considered",
                             off == head ? ":" : ";", p->considered);
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
    int fresh = p->memo_cap < MEMO_W * nreg || p->cat != cat;
    char data[sizeof(p->memo_data)];
    int same_data, copies = p->opts && p->opts->ncopies > 0;

    snprintf(data, sizeof(data), "%s/%s", s->data_cloud ? s->data_cloud : "",
             s->data_region ? s->data_region : "");
    /* replicas are the job's own: an egress memo made with them is not reused */
    same_data = !fresh && !copies && !p->memo_copies && strcmp(data, p->memo_data) == 0 &&
                p->memo_direct == (p->opts && p->opts->direct_egress);
    p->memo_copies = copies;
    p->memo_direct = p->opts && p->opts->direct_egress;
    if (!same_data) {
        const struct region *h = s->data_cloud && s->data_region
                                     ? catalog_region(cat, s->data_cloud, s->data_region)
                                     : NULL;

        p->home_ix = h ? (long)(h - catalog_region_at(cat, 0)) : -1;
    }
    if (copies) { /* the replicas' regions by index, for eg_between */
        const struct region *r0 = catalog_nregions(cat) ? catalog_region_at(cat, 0) : NULL;

        p->copy_ix = xgrow(p->copy_ix, &p->copy_ix_cap, p->opts->ncopies, sizeof(*p->copy_ix));
        for (i = 0; i < p->opts->ncopies; i++) {
            const struct region *r =
                catalog_region(cat, p->opts->copies[i].cloud, p->opts->copies[i].region);

            p->copy_ix[i] = r && r0 ? (long)(r - r0) : -1;
        }
    }
    p->memo = xgrow(p->memo, &p->memo_cap, MEMO_W * nreg, sizeof(*p->memo));
    for (i = 0; i < nreg; i++) {
        if (!same_data)
            p->memo[MEMO_W * i] = NAN;
        if (fresh)
            p->memo[MEMO_W * i + 1] = NAN;
    }
    if (fresh)
        p->memo_acc = NULL;
    memcpy(p->memo_data, data, sizeof(data));
}

static void plan_reset(struct plan *p, const struct catalog *cat, const struct spec *s,
                       const struct policy *pol)
{
    memo_prepare(p, cat, s);
    p->lost_rate = NAN; /* the spec's checkpoints may differ */
    p->cat = cat;
    p->spec = s;
    p->rule = policy_match(pol, s);
    p->n = p->feasible = p->considered = 0;
    p->fam_offer = NULL;
    p->family_relaxed = 0;
    memset(p->excl, 0, sizeof(p->excl));
    p->duration_assumed = s->duration_s <= 0;
    p->duration_h = p->duration_assumed ? 1.0 : s->duration_s / 3600.0;
    alt_speeds(p);
}

/* Forget memoised preemption rates unless they are for accelerator acc. */
static void forget_rates(struct plan *p, const char *acc)
{
    size_t i, nreg = catalog_nregions(p->cat);

    if (p->memo_acc == acc)
        return;
    for (i = 0; i < nreg; i++)
        p->memo[MEMO_W * i + 1] = NAN;
    p->memo_acc = acc;
}

/* Every mode (and commitment) of offer idx for alternative alt. */
static void consider_offer(struct plan *p, size_t alt, uint32_t idx, int has_commits,
                           double now)
{
    const struct offer *of = catalog_offer(p->cat, idx);

    consider(p, alt, idx, PLAN_ONDEMAND, of->price);
    consider(p, alt, idx, PLAN_SPOT, of->spot_price);
    if (has_commits)
        consider_commitments(p, alt, idx, now);
}

/* An alternative that names only an instance type looks at the offers of
 * that type, whatever they carry; one the catalog lacks is an error. */
static int consider_instance_type(struct plan *p, size_t alt, int has_commits, double now,
                                  struct err *e)
{
    const struct spec_res *r = &p->spec->res[alt];
    size_t i, n = catalog_noffers(p->cat), seen = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(catalog_offer(p->cat, i)->instance_type, r->instance_type) != 0)
            continue;
        seen++;
        consider_offer(p, alt, (uint32_t)i, has_commits, now);
    }
    if (seen > 0)
        return 0;
    return err_at(
        e, ST_EINVAL, p->spec->path, r->line, 0,
        "no offer in the catalog has instance type '%s'; 'stratus offers' lists "
        "them",
        r->instance_type);
}

/* Consider every alternative's offers. */
static int enumerate(struct plan *p, int has_commits, double now, struct err *e)
{
    size_t alt, i, n;
    int rc;

    for (alt = 0; alt < p->spec->nres; alt++) {
        const uint32_t *idx;

        if (p->accs[alt] == plan_acc_absent)
            continue;
        forget_rates(p, p->accs[alt]);
        if (p->accs[alt] == NULL) {
            if ((rc = consider_instance_type(p, alt, has_commits, now, e)) != 0)
                return rc;
            continue;
        }
        idx = catalog_offers_of(p->cat, p->accs[alt], &n);
        for (i = 0; i < n; i++)
            consider_offer(p, alt, idx[i], has_commits, now);
    }
    return 0;
}

int plan_rank(struct plan *p, const struct catalog *cat, const struct spec *s,
              const struct policy *pol, const struct plan_opts *o, struct err *e)
{
    double now = o && o->now > 0 ? o->now : (double)time(NULL);
    int has_commits = catalog_ncommitments(cat) > 0;
    int rc;

    p->opts = o;
    plan_reset(p, cat, s, pol);
    p->by_price = o ? o->by_price : 0;
    if ((rc = resolve_accelerators(p, e)) != 0 || (rc = check_regions(p, e)) != 0 ||
        (rc = plan_check_data_location(cat, s, e)) != 0 ||
        (rc = enumerate(p, has_commits, now, e)) != 0)
        return rc;
    /* CPU work that fits no default family (cpus: 1 exactly, say) may use
     * other x86 families rather than fail: plan again with them. */
    if (p->n == 0 && p->excl[PLAN_R_SPEC_FAMILY].count > 0) {
        p->considered = 0;
        memset(p->excl, 0, sizeof(p->excl));
        p->family_relaxed = 1;
        p->fam_offer = NULL; /* its cached answer was for the strict rule */
        if ((rc = enumerate(p, has_commits, now, e)) != 0)
            return rc;
    }
    p->feasible = p->n;
    for (size_t i = 0; i < p->spec->nres; i++)
        p->alts[i].nonspot = p->alts[i].spot = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct plan_alt *a = &p->alts[p->c[i].alt];

        a->spot += p->c[i].mode == PLAN_SPOT;
        a->nonspot += p->c[i].mode != PLAN_SPOT;
    }
    if (p->n == 0)
        return infeasible(p, e);
    select_top(p, o ? o->top : 0);
    return 0;
}

size_t plan_data_route(const struct plan *p, const struct plan_cand *c, char *from, size_t nf,
                       uint32_t *hops, size_t max)
{
    const struct spec *s = p->spec;
    const struct egress_routes *r = &p->routes;
    const struct region *src;
    long from_ix;

    from[0] = '\0';
    if (!(c->egress > 0))
        return 0;
    /* the copy it comes from: the memo of the last ranking, per region */
    from_ix = (long)p->memo[MEMO_W * catalog_offer(p->cat, c->offer)->region_idx + 3];
    if (from_ix < 0) {
        snprintf(from, nf, "%s/%s", s->data_cloud, s->data_region ? s->data_region : "(bucket)");
        return 0;
    }
    src = catalog_region_at(p->cat, (size_t)from_ix);
    snprintf(from, nf, "%s/%s", src->cloud, src->name);
    /* the chains were made while ranking (eg_between); direct moves have none */
    if (p->memo_direct || r->via == NULL || r->cat != p->cat || !r->made[from_ix])
        return 0;
    return catalog_route_hops(&r->via[(size_t)from_ix * r->n],
                              catalog_offer(p->cat, c->offer)->region_idx, hops, max);
}

double plan_deadline_h(const struct plan *p)
{
    const struct spec *s = p->spec;

    if (s->deadline_s > 0)
        return s->deadline_s / 3600.0;
    if (s->deadline_at > 0)
        return fmax(0, (s->deadline_at - (double)time(NULL)) / 3600.0);
    return -1;
}

int plan_cand_late(const struct plan *p, const struct plan_cand *c)
{
    double dl = plan_deadline_h(p);

    return dl >= 0 && !p->duration_assumed && p->alts[c->alt].hours > dl;
}
