/*
 * test_plan.c - the planner: hand-computed costs on the fixture catalog, each
 * exclusion reason, commitments, ordering under a policy, and on random
 * catalogs, specs and policies the first candidate equals an independent
 * brute-force minimum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "plan/plan.h"
#include "policy/policy.h"
#include "spec/spec.h"
#include "testutil.h"
#include "util/xmem.h"

#define MINI TEST_DATA "/catalog-mini"
#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-6 * (1 + fabs((double)(b))))

/* A spec built by hand: one alternative, everything else default. */
static void spec_init(struct spec *s, struct spec_res *r, const char *acc, int count)
{
    memset(s, 0, sizeof(*s));
    memset(r, 0, sizeof(*r));
    r->accelerator = (char *)(uintptr_t)acc;
    r->acc_count = count;
    r->use_spot = -1;
    s->path = (char *)(uintptr_t)"test.yaml";
    s->name = (char *)(uintptr_t)"test";
    s->res = r;
    s->nres = 1;
    s->num_nodes = 1;
    s->kind = SPEC_KIND_TRAIN;
    s->max_restarts = 3;
}

static struct catalog *load(const char *dir)
{
    struct catalog *cat = NULL;
    struct err e;

    if (catalog_load(&cat, dir, &e) != 0)
        fail_msg("%s", e.msg);
    return cat;
}

static const struct offer *best_offer(const struct plan *p)
{
    return catalog_offer(p->cat, p->c[0].offer);
}

static void test_costs_by_hand(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0}; /* before every commitment */
    struct err e;
    double lost_h, d = 10;

    (void)state;
    spec_init(&s, &r, "h100", 8);
    s.num_nodes = 2;
    s.duration_s = d * 3600;
    s.ckpt_interval_s = 1800;
    s.ckpt_restore_s = 360;
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    /* Cheapest: gcp us-central1 a3 spot at 30/h; rate 0.2/node-h (most specific rule). */
    assert_string_equal(best_offer(&p)->instance_type, "a3-highgpu-8g");
    assert_string_equal(best_offer(&p)->region, "us-central1");
    assert_int_equal(p.c[0].mode, PLAN_SPOT);
    /* 20 stretches of 30 min at 2 x 0.2 preemptions an hour, each retry
     * after 6 min of restore: e^(0.4 x 0.1) (e^(0.4 x 0.5) - 1) / 0.4 h
     * each; to first order 0.4 x 10 preemptions x (0.1 + 0.25) h lost */
    lost_h = 20 * exp(0.04) * (exp(0.2) - 1) / 0.4 - d;
    assert_true(lost_h > 0.4 * d * (0.1 + 0.25) && lost_h < 1.1 * 0.4 * d * (0.1 + 0.25));
    assert_true(NEAR(p.c[0].compute, 30.0 * 2 * d));
    assert_true(NEAR(p.c[0].preemption, lost_h * 30.0 * 2));
    assert_true(NEAR(p.c[0].egress, 0));
    assert_true(NEAR(p.c[0].hourly_cost, 60));
    /* Every H100:8 offer x {on-demand, spot} was considered; 1-GPU offer excluded. */
    assert_int_equal(p.considered, 12);
    assert_int_equal(p.excl[PLAN_R_ACC_COUNT].count, 2);
    assert_int_equal(p.excl[PLAN_R_NO_PRICE].count, 2); /* azure eastus + oci: no spot */
    assert_int_equal(p.feasible, 8);
    /* The order is by expected cost. */
    for (size_t i = 1; i < p.n; i++)
        assert_true(p.c[i - 1].expected <= p.c[i].expected);
    plan_free(&p);
    catalog_free(cat);
}

/* Far past what e^x holds (a 2-node gang, 1,000 h without checkpoints:
 * rate x run = 100 to 400), the expected loss still rises with the rate: a
 * riskier place never ranks as the safer one (a cap on the exponent made
 * e^cap / rate fall as the rate rose), and every number stays finite. */
static void test_preemption_past_the_cap(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;
    size_t i, k;

    (void)state;
    spec_init(&s, &r, "h100", 8);
    s.num_nodes = 2;
    s.duration_s = 1000 * 3600.0;
    r.use_spot = 1;
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    for (i = 0; i < p.n; i++) {
        const struct plan_cand *a = &p.c[i];
        double ra = catalog_preempt_rate(cat, catalog_offer(cat, a->offer));

        assert_true(isfinite(a->preemption) && a->preemption > 0 &&
                    isfinite(a->expected));
        for (k = 0; k < p.n; k++) {
            const struct plan_cand *b = &p.c[k];
            double rb = catalog_preempt_rate(cat, catalog_offer(cat, b->offer));

            if (ra < rb)
                assert_true(a->preemption / a->hourly_cost <
                            b->preemption / b->hourly_cost);
        }
    }
    assert_true(p.n >= 3); /* use_spot: every candidate is spot */
    plan_free(&p);
    catalog_free(cat);
}

static void test_egress_moves_the_choice(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;

    (void)state;
    spec_init(&s, &r, "H100", 8);
    r.use_spot = 0;
    s.duration_s = 3600;
    s.data_cloud = (char *)(uintptr_t)"azure";
    s.data_region = (char *)(uintptr_t)"eastus";
    s.data_gb = 200000; /* 200 TB: egress dominates */
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    /* Same region is free; OCI Ashburn over the interconnect is free too and cheaper. */
    assert_string_equal(best_offer(&p)->cloud, "oci");
    assert_true(NEAR(p.c[0].egress, 0));
    assert_string_equal(catalog_offer(cat, p.c[1].offer)->region, "eastus");
    /* GCP is reached cheapest through OCI: the interconnect (free), then
     * OCI's internet egress (0.0085/GB), not Azure's own (0.087/GB). */
    for (size_t i = 0; i < p.n; i++)
        if (strcmp(catalog_offer(cat, p.c[i].offer)->cloud, "gcp") == 0) {
            char from[160];
            uint32_t hops[8];

            assert_true(NEAR(p.c[i].egress, 200000 * 0.0085));
            /* and the plan says so: from home, by way of OCI Ashburn */
            assert_int_equal(plan_data_route(&p, &p.c[i], from, sizeof(from), hops, 8), 1);
            assert_string_equal(from, "azure/eastus");
            assert_string_equal(catalog_region_at(cat, hops[0])->name, "us-ashburn-1");
        }
    /* A controller that moves data only directly (the baselines) pays
     * Azure's internet egress; the same plan object, its memo redone. */
    o.direct_egress = 1;
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    for (size_t i = 0; i < p.n; i++)
        if (strcmp(catalog_offer(cat, p.c[i].offer)->cloud, "gcp") == 0) {
            char from[160];
            uint32_t hops[8];

            assert_true(NEAR(p.c[i].egress, 200000 * 0.087));
            assert_int_equal(plan_data_route(&p, &p.c[i], from, sizeof(from), hops, 8), 0);
            assert_string_equal(from, "azure/eastus");
        }
    o.direct_egress = 0;
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    for (size_t i = 0; i < p.n; i++)
        if (strcmp(catalog_offer(cat, p.c[i].offer)->cloud, "gcp") == 0)
            assert_true(NEAR(p.c[i].egress, 200000 * 0.0085));
    plan_free(&p);
    catalog_free(cat);
}

static void test_commitment_used_first(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts during = {.now = 1780000000.0, .top = 0, .by_price = 0},
                     after = {.now = 2090000000.0, .top = 0, .by_price = 0};
    struct err e;

    (void)state;
    spec_init(&s, &r, "H100", 8);
    s.num_nodes = 4;
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &during, &e), 0);
    assert_int_equal(p.c[0].mode, PLAN_COMMITTED);
    assert_true(NEAR(p.c[0].expected, 0));
    assert_true(NEAR(p.c[0].price_hour, 60));
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &after, &e), 0);
    assert_int_not_equal(p.c[0].mode, PLAN_COMMITTED);
    s.num_nodes = 5; /* more than the 4 committed nodes */
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &during, &e), 0);
    assert_int_not_equal(p.c[0].mode, PLAN_COMMITTED);
    plan_free(&p);
    catalog_free(cat);
}

/* A 10-hour job 4 hours before its commitment ends: the 6 hours past the
 * end are priced on demand, as the controller bills them. */
static void test_commitment_ending_priced(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    /* the fixture's commitment ends 2036-01-01 */
    struct plan_opts o = {.now = 2082758400.0 - 4 * 3600, .top = 0, .by_price = 0};
    struct err e;
    size_t k;

    (void)state;
    spec_init(&s, &r, "H100", 8);
    s.num_nodes = 4;
    s.duration_s = 10 * 3600;
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    for (k = 0; k < p.n && p.c[k].mode != PLAN_COMMITTED; k++)
        ;
    assert_true(k < p.n);
    assert_true(catalog_offer(cat, p.c[k].offer)->price > 0);
    assert_true(NEAR(p.c[k].compute, catalog_offer(cat, p.c[k].offer)->price * 4 * 6));
    assert_true(NEAR(p.c[k].hourly_cost, 0)); /* nothing more per hour while it lasts */
    o.now -= 6 * 3600;                        /* ending after the job: free */
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    assert_int_equal(p.c[0].mode, PLAN_COMMITTED);
    assert_true(NEAR(p.c[0].expected, 0));
    plan_free(&p);
    catalog_free(cat);
}

static void test_quota_fabric_and_errors(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;

    (void)state;
    spec_init(&s, &r, "A10", 4);
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    s.num_nodes = 2; /* 8 A10s > quota of 4 */
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), ST_EINFEASIBLE);
    assert_int_equal(p.excl[PLAN_R_QUOTA].count, 2);
    assert_non_null(strstr(e.msg, "2 removed: over the quota"));
    s.num_nodes = 3; /* the A10 fabric takes 2 nodes */
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), ST_EINFEASIBLE);
    assert_int_equal(p.excl[PLAN_R_FABRIC].count, 2);
    spec_init(&s, &r, "H1000", 8);
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "no offer in the catalog has accelerator 'H1000' (did you mean 'H100'?)"));
    spec_init(&s, &r, "H100", 8);
    s.data_cloud = (char *)(uintptr_t)"azure";
    s.data_region = (char *)(uintptr_t)"moon";
    s.data_gb = 1;
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "'azure/moon' is not a region in the catalog"));
    plan_free(&p);
    catalog_free(cat);
}

static char *clouds_azure[] = {"azure"};
static char *clouds_overflow[] = {"oci", "gcp"};

static void test_policy_tiers_and_exclusions(void **state)
{
    struct catalog *cat = load(MINI);
    struct policy_rule rule;
    struct policy pol = {NULL, &rule, 1};
    struct spec s;
    struct spec_res r;
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;

    (void)state;
    memset(&rule, 0, sizeof(rule));
    rule.name = "infer-azure-first";
    rule.allow = clouds_azure;
    rule.nallow = 1;
    rule.overflow = clouds_overflow;
    rule.noverflow = 2;
    rule.spot = POLICY_SPOT_FORBID;
    spec_init(&s, &r, "H100", 8);
    plan_init(&p);
    assert_int_equal(plan_rank(&p, cat, &s, &pol, &o, &e), 0);
    /* Azure first although GCP and OCI are cheaper, then OCI, then GCP. */
    assert_string_equal(best_offer(&p)->cloud, "azure");
    assert_string_equal(best_offer(&p)->region, "eastus");
    assert_string_equal(catalog_offer(cat, p.c[1].offer)->cloud, "azure");
    assert_string_equal(catalog_offer(cat, p.c[2].offer)->cloud, "oci");
    assert_string_equal(catalog_offer(cat, p.c[3].offer)->cloud, "gcp");
    assert_int_equal(p.c[3].tier, 2);
    assert_int_equal(p.excl[PLAN_R_POLICY_SPOT].count, 3); /* the spot offers */
    assert_true(p.excl[PLAN_R_POLICY_SPOT].has_best);
    assert_int_equal(p.excl[PLAN_R_POLICY_SPOT].best.mode, PLAN_SPOT);
    /* A cost cap below every price: infeasible, with the rule named. */
    rule.max_hourly_cost = 10;
    assert_int_equal(plan_rank(&p, cat, &s, &pol, &o, &e), ST_EINFEASIBLE);
    assert_non_null(strstr(e.msg, "removed: policy rule 'infer-azure-first'"));
    plan_free(&p);
    catalog_free(cat);
}

/* ---- random catalogs against a brute force ---- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static const char *const R_CLOUDS[] = {"azure", "gcp", "oci"};
static const char *const R_REGIONS[] = {"r1", "r2", "r3"};
static const char *const R_ACCS[] = {"H100", "A100", "L4"};
static const int R_COUNTS[] = {1, 2, 4, 8};

static void write_random_catalog(const char *dir, int n)
{
    struct buf b;
    int i, c, r;

    buf_init(&b, 0);
    buf_puts(&b, "cloud,region,latitude,longitude,continent\n");
    for (c = 0; c < 3; c++)
        for (r = 0; r < 3; r++)
            buf_printf(&b, "%s,%s,%d,%d,europe\n", R_CLOUDS[c], R_REGIONS[r], c * 10 + r, r * 10);
    tu_write(dir, "regions.csv", buf_cstr(&b));
    buf_reset(&b);
    buf_puts(&b, "kind,src_cloud,src_region,dst_cloud,dst_region,price_per_gb\n");
    buf_printf(&b, "inter_region,*,,*,,0.0%u\ninter_cloud,*,,*,,0.%u\n", 1 + rnd(9), 1 + rnd(9));
    tu_write(dir, "egress.csv", buf_cstr(&b));
    buf_reset(&b);
    buf_puts(&b, "cloud,region,accelerator,rate_per_hour\n");
    for (c = 0; c < 3; c++)
        buf_printf(&b, "%s,*,*,0.%02u\n", R_CLOUDS[c], rnd(30));
    tu_write(dir, "preemption.csv", buf_cstr(&b));
    buf_reset(&b);
    buf_puts(&b, "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
                 "max_cluster_nodes,price_hour,spot_price_hour\n");
    for (i = 0; i < n; i++) {
        int cnt = R_COUNTS[rnd(4)];
        char spot[32] = "";

        if (rnd(3))
            snprintf(spot, sizeof(spot), "%u.%03u", rnd(10), rnd(1000));
        buf_printf(&b, "%s,%s,z%d,t%d,%s,%d,%s,%u.%03u,%s\n", R_CLOUDS[rnd(3)],
                   R_REGIONS[rnd(3)], i, i, R_ACCS[rnd(3)], cnt, rnd(4) ? "" : "2",
                   1 + rnd(40), rnd(1000), spot);
    }
    tu_write(dir, "offers.csv", buf_cstr(&b));
    buf_free(&b);
}

static int in_list(char **l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i], s) == 0)
            return (int)i + 1;
    return 0;
}

/* The brute force: every offer x mode, the rules written out again. */
static int brute_best(const struct catalog *cat, const struct spec *s,
                      const struct policy_rule *rule, double *best_key, int *best_tier)
{
    double d = s->duration_s > 0 ? s->duration_s / 3600 : 1;
    int best = -1;

    for (size_t i = 0; i < catalog_noffers(cat); i++) {
        const struct offer *o = catalog_offer(cat, i);

        for (int spot = 0; spot < 2; spot++) {
            double price = spot ? o->spot_price : o->price, n = s->num_nodes, cost, key;
            int tier = 0, pref;

            if (strcasecmp(o->accelerator, s->res[0].accelerator) != 0 ||
                o->acc_count != s->res[0].acc_count || price < 0)
                continue;
            if (s->res[0].cloud && strcmp(s->res[0].cloud, o->cloud) != 0)
                continue;
            if ((s->res[0].use_spot == 1 && !spot) || (s->res[0].use_spot == 0 && spot))
                continue;
            if (s->num_nodes > 1 && o->max_cluster_nodes && s->num_nodes > o->max_cluster_nodes)
                continue;
            if ((rule->spot == POLICY_SPOT_FORBID && spot) ||
                (rule->spot == POLICY_SPOT_REQUIRE && !spot))
                continue;
            if (rule->nallow && !in_list(rule->allow, rule->nallow, o->cloud) &&
                !in_list(rule->overflow, rule->noverflow, o->cloud))
                continue;
            if (rule->max_hourly_cost > 0 && price * n > rule->max_hourly_cost)
                continue;
            cost = price * n * d;
            if (spot) {
                /* a stretch of t hours: the first try ends after the
                 * least of t and a preemption; a preempted one is retried
                 * from its checkpoint (r hours of restore, then t) until
                 * a try survives (1 - e^-Lt) of the time, each try's
                 * expected length (e^L(r+t) - 1)/L */
                double L = n * catalog_preempt_rate(cat, o), r = s->ckpt_restore_s / 3600;
                double t = s->ckpt_interval_s > 0 && s->ckpt_interval_s / 3600 < d
                               ? s->ckpt_interval_s / 3600
                               : d;
                double seg = L > 0 ? (1 - exp(-L * t)) / L +
                                         (1 - exp(-L * t)) * (exp(L * (r + t)) - 1) / L
                                   : t;

                cost += (d / t * seg - d) * price * n;
            }
            if (s->data_cloud)
                cost += s->data_gb * catalog_egress_per_gb(cat, s->data_cloud, s->data_region,
                                                           o->cloud, o->region);
            tier = in_list(rule->overflow, rule->noverflow, o->cloud);
            pref = rule->nprefer ? in_list(rule->prefer, rule->nprefer, o->cloud) : 1;
            pref = pref ? pref - 1 : (int)rule->nprefer;
            key = cost / pow(1 - rule->prefer_margin, pref);
            if (best < 0 || tier < *best_tier || (tier == *best_tier && key < *best_key)) {
                best = (int)i * 2 + spot;
                *best_key = key;
                *best_tier = tier;
            }
        }
    }
    return best;
}

static char *all_clouds[] = {"azure", "gcp", "oci"};

static void random_rule(struct policy_rule *rule)
{
    static char *allow[3], *overflow[1], *prefer[3];

    memset(rule, 0, sizeof(*rule));
    rule->name = "random";
    rule->spot = (enum policy_spot)rnd(3);
    if (rnd(2)) {
        allow[0] = all_clouds[rnd(3)];
        rule->allow = allow;
        rule->nallow = 1;
        overflow[0] = all_clouds[rnd(3)];
        if (rnd(2) && overflow[0] != allow[0]) {
            rule->overflow = overflow;
            rule->noverflow = 1;
        }
    }
    if (rnd(2)) {
        for (int i = 0; i < 3; i++)
            prefer[i] = all_clouds[(i + rnd(3)) % 3];
        rule->prefer = prefer;
        rule->nprefer = 1 + rnd(2);
        if (rule->nprefer == 2 && prefer[0] == prefer[1])
            rule->nprefer = 1;
        rule->prefer_margin = rnd(30) / 100.0;
    }
    if (rnd(3) == 0)
        rule->max_hourly_cost = 20 + rnd(100);
}

static void test_random_vs_brute_force(void **state)
{
    char *dir = tu_mkdtemp();
    int round, agreed = 0, infeasible = 0;

    (void)state;
    rng_state = 42;
    for (round = 0; round < 300; round++) {
        struct catalog *cat;
        struct policy_rule rule;
        struct policy pol = {NULL, &rule, 1};
        struct spec s;
        struct spec_res r;
        struct plan p;
        struct plan_opts o = {.now = 1.0, .top = (size_t)rnd(3), .by_price = 0}; /* top-k must not change the best */
        struct err e;
        double bkey = 0;
        int btier = 0, best, rc;

        write_random_catalog(dir, 20 + (int)rnd(200));
        cat = load(dir);
        spec_init(&s, &r, R_ACCS[rnd(3)], R_COUNTS[rnd(4)]);
        s.num_nodes = 1 + (int)rnd(4);
        s.duration_s = rnd(2) ? 3600.0 * (1 + rnd(48)) : 0;
        s.ckpt_interval_s = rnd(2) ? 60.0 * (1 + rnd(120)) : 0;
        s.ckpt_restore_s = 60.0 * rnd(20);
        r.use_spot = (int)rnd(3) - 1;
        if (rnd(4) == 0)
            r.cloud = (char *)(uintptr_t)R_CLOUDS[rnd(3)];
        if (rnd(2)) {
            s.data_cloud = (char *)(uintptr_t)R_CLOUDS[rnd(3)];
            s.data_region = (char *)(uintptr_t)R_REGIONS[rnd(3)];
            s.data_gb = rnd(5000);
        }
        random_rule(&rule);
        best = brute_best(cat, &s, &rule, &bkey, &btier);
        plan_init(&p);
        rc = plan_rank(&p, cat, &s, &pol, &o, &e);
        if (best < 0) {
            assert_int_equal(rc, ST_EINFEASIBLE);
            infeasible++;
        } else {
            if (rc != 0)
                fail_msg("round %d: planner failed (%s) where brute force found offer %d",
                         round, e.msg, best / 2);
            assert_int_equal(p.c[0].tier, btier);
            if (!NEAR(p.c[0].key, bkey))
                fail_msg("round %d: planner key %f, brute force %f (offer %d %s)", round,
                         p.c[0].key, bkey, best / 2, best % 2 ? "spot" : "on-demand");
            agreed++;
        }
        plan_free(&p);
        catalog_free(cat);
    }
    /* Both outcomes must have been exercised for the comparison to mean something. */
    assert_true(agreed > 100);
    assert_true(infeasible > 10);
    tu_rmdir(dir);
    free(dir);
}

/* ---- issue 15: CPU work, accelerator names, where data and offers are ---- */

#define CPUCAT TEST_DATA "/catalog-cpu"

/* Plan YAML text on catalog cat: 0 and the plan, or the error in e. */
static int plan_yaml(struct plan *p, const struct catalog *cat, const char *yaml,
                     struct spec **sp, struct err *e)
{
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};

    if (spec_load_mem(sp, "t.yaml", yaml, strlen(yaml), e) != 0)
        fail_msg("spec: %s", e->msg);
    plan_init(p);
    return plan_rank(p, cat, *sp, NULL, &o, e);
}

static void plan_done(struct plan *p, struct spec *s)
{
    plan_free(p);
    spec_free(s);
}

/* A region the catalog does not have is an error at the line and column it
 * was written, with the nearest name or the cloud that has it (it was a plan
 * with nothing feasible, which read as "no capacity"). */
static void test_unknown_region_named_where_written(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"resources:\n  accelerators: H100:8\n  cloud: gcp\n  region: us-centrl1\n",
         "t.yaml:4:11: resources: 'gcp/us-centrl1' is not a region in the catalog; did you "
         "mean 'us-central1'?"},
        {"resources:\n  accelerators: H100:8\n  infra: azure/us-central1\n",
         "t.yaml:3:10: resources: 'azure/us-central1' is not a region in the catalog; it is a "
         "region of gcp"},
        {"resources:\n  any_of:\n    - {accelerators: H100:8, infra: azure/eastus}\n"
         "    - {accelerators: H100:8, region: mars-1}\n",
         "t.yaml:4:38: resources: 'mars-1' is not a region in the catalog"},
        {"resources:\n  accelerators: H100:8\nstratus:\n  data:\n    size_gb: 10\n"
         "    location: azure/eastu\n",
         "t.yaml:6:15: stratus.data.location: 'azure/eastu' is not a region in the catalog; "
         "did you mean 'eastus'?"},
    };
    struct catalog *cat = load(MINI);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spec *sp = NULL;
        struct plan p;
        struct err e;

        assert_int_equal(plan_yaml(&p, cat, cases[i].yaml, &sp, &e), ST_EINVAL);
        if (strstr(e.msg, cases[i].want) == NULL)
            fail_msg("case %zu: %s", i, e.msg);
        plan_done(&p, sp);
    }
    catalog_free(cat);
}

/* Every candidate of a CPU spec is a CPU offer, and the best is what the
 * spec's cpus/memory (or SkyPilot's default: 8+ vCPUs, 4 GiB per vCPU) ask,
 * among SkyPilot's default CPU families. */
static void test_cpu_work(void **state)
{
    static const struct {
        const char *res, *best;
        size_t feasible;
    } cases[] = {
        /* default: 8+ vCPU and >= 4 GiB/vCPU rules out m6i.large (2 vCPU),
         * n2-standard-4 (4 vCPU) and c6i.2xlarge (2 GiB/vCPU) */
        {"{use_spot: false}", "m6i.2xlarge", 6},
        {"{cpus: 4, memory: 16, use_spot: false}", "n2-standard-4", 1},
        {"{cpus: 2+, use_spot: false}", "m6i.large", 8},
        {"{cpus: 8, memory: 64+, use_spot: false}", "r6i.2xlarge", 1},
        {"{memory: 16, use_spot: false}", "n2-standard-4", 2},
        {"{cpus: 8+, infra: gcp, use_spot: false}", "n2-standard-8", 1},
        /* SkyPilot's default CPU families: the cheaper ARM t2a-standard-8
         * and Standard_D8ps_v5 are not chosen unless named */
        {"{cpus: 8, memory: 32, use_spot: false}", "m6i.2xlarge", 4},
        {"{instance_type: t2a-standard-8, use_spot: false}", "t2a-standard-8", 1},
        /* no default family has 1 vCPU: other x86 ones may, ARM t2a never */
        {"{cpus: 1, use_spot: false}", "t2d-standard-1", 1},
    };
    struct catalog *cat = load(CPUCAT);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[256];
        struct spec *s;
        struct plan p;
        struct err e;

        snprintf(yaml, sizeof(yaml), "run: x\nresources: %s\n", cases[i].res);
        if (plan_yaml(&p, cat, yaml, &s, &e) != 0)
            fail_msg("%s: %s", cases[i].res, e.msg);
        if (strcmp(best_offer(&p)->instance_type, cases[i].best) != 0 ||
            p.feasible != cases[i].feasible)
            fail_msg("%s: best %s of %zu, want %s of %zu", cases[i].res,
                     best_offer(&p)->instance_type, p.feasible, cases[i].best,
                     cases[i].feasible);
        for (size_t k = 0; k < p.n; k++)
            assert_int_equal(catalog_offer(cat, p.c[k].offer)->acc_count, 0);
        plan_done(&p, s);
    }
    catalog_free(cat);
}

/* SkyPilot's default CPU families by cloud, and ARM types (families.c). */
static void test_cpu_families(void **state)
{
    static const struct {
        const char *cloud, *it;
        int ok;
    } cases[] = {
        {"aws", "m6i.2xlarge", 1},           {"aws", "c6id.xlarge", 1},
        {"aws", "r7i.large", 1},             {"aws", "m7g.large", 0},
        {"aws", "m6in.large", 0},            {"aws", "t3.micro", 0},
        {"gcp", "n2-highmem-8", 1},          {"gcp", "n4-standard-4", 1},
        {"gcp", "e2-standard-4", 0},         {"gcp", "t2a-standard-8", 0},
        {"azure", "Standard_D8s_v5", 1},     {"azure", "Standard_E16s_v5", 1},
        {"azure", "Standard_F8s_v2", 1},     {"azure", "Standard_D8ps_v5", 0},
        {"azure", "Standard_E8-4s_v5", 0},   {"azure", "Standard_D13_v2_Promo", 0},
        {"azure", "Standard_D8as_v5", 0},    {"oci", "VM.Standard.E4.Flex$_4_64", 1},
        {"oci", "VM.Standard3.Flex$_8_32", 1}, {"oci", "VM.Standard.A1.Flex$_4_24", 0},
        {"lambda", "cpu_4x_general", 1},     {"nebius", "cpu-d3_4vcpu-16gb", 1},
    };

    static const struct {
        const char *cloud, *it;
        int arm;
    } arm[] = {
        {"aws", "m7g.large", 1},         {"aws", "c6gn.xlarge", 1},
        {"aws", "g5g.xlarge", 1},        {"aws", "x2gd.large", 1},
        {"aws", "m6i.large", 0},         {"aws", "g5.xlarge", 0},
        {"aws", "inf2.xlarge", 0},       {"gcp", "t2a-standard-8", 1},
        {"gcp", "c4a-highmem-4", 1},     {"gcp", "t2d-standard-1", 0},
        {"azure", "Standard_D8ps_v5", 1}, {"azure", "Standard_E4pds_v6", 1},
        {"azure", "Standard_D2pls_v5", 1}, {"azure", "Standard_D8s_v5", 0},
        {"azure", "Standard_DC8ads_v5", 0}, {"oci", "VM.Standard.A1.Flex$_4_24", 1},
        {"oci", "VM.Standard.E4.Flex$_4_64", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (plan_cpu_default_family(cases[i].cloud, cases[i].it) != cases[i].ok)
            fail_msg("%s %s: want %d", cases[i].cloud, cases[i].it, cases[i].ok);
    }
    for (size_t i = 0; i < sizeof(arm) / sizeof(arm[0]); i++) {
        if (plan_cpu_arm(arm[i].cloud, arm[i].it) != arm[i].arm)
            fail_msg("%s %s: arm want %d", arm[i].cloud, arm[i].it, arm[i].arm);
    }
}

/* A catalog without CPU offers says so (not "accelerator offers only"). */
static void test_cpu_without_cpu_offers(void **state)
{
    struct catalog *cat = load(MINI);
    struct spec *s;
    struct plan p;
    struct err e;

    (void)state;
    assert_int_equal(plan_yaml(&p, cat, "run: x\n", &s, &e), ST_EINFEASIBLE);
    assert_non_null(strstr(e.msg, "has no CPU-only offers"));
    plan_done(&p, s);
    catalog_free(cat);
}

/* SkyPilot spellings: any case, sets, lists; an instance type alone. */
static void test_accelerator_names(void **state)
{
    struct catalog *cat = load(CPUCAT);
    struct spec *s;
    struct plan p;
    struct err e;

    (void)state;
    assert_int_equal(
        plan_yaml(&p, cat, "run: x\nresources: {accelerators: a10g}\n", &s, &e), 0);
    assert_string_equal(best_offer(&p)->accelerator, "A10G");
    plan_done(&p, s);
    assert_int_equal(plan_yaml(&p, cat,
                               "run: x\nresources: {accelerators: '{A10g:1, l4}', "
                               "use_spot: false}\n",
                               &s, &e),
                     0);
    assert_string_equal(best_offer(&p)->instance_type, "g2-standard-4"); /* cheapest */
    plan_done(&p, s);
    assert_int_equal(
        plan_yaml(&p, cat, "run: x\nresources: {accelerators: [h100, A10G:4]}\n", &s, &e),
        0);
    assert_string_equal(best_offer(&p)->accelerator, "H100"); /* a list is in order */
    plan_done(&p, s);
    /* a known accelerator the catalog lacks is skipped among others */
    assert_int_equal(plan_yaml(&p, cat,
                               "run: x\nresources: {accelerators: '{A40:1, a10g:1}'}\n",
                               &s, &e),
                     0);
    assert_string_equal(p.accs[0], plan_acc_absent);
    assert_string_equal(best_offer(&p)->accelerator, "A10G");
    plan_done(&p, s);
    /* ... but a typo among them is an error */
    assert_int_equal(
        plan_yaml(&p, cat, "run: x\nresources: {accelerators: [A10G, H1000]}\n", &s, &e),
        ST_EINVAL);
    assert_non_null(strstr(e.msg, "'H1000' (did you mean 'H100'?)"));
    plan_done(&p, s);
    /* ... and when none is left, the first is named */
    assert_int_equal(
        plan_yaml(&p, cat, "run: x\nresources: {accelerators: [V100, B300]}\n", &s, &e),
        ST_EINVAL);
    assert_non_null(strstr(e.msg, "'V100' is a known accelerator"));
    plan_done(&p, s);
    assert_int_equal(
        plan_yaml(&p, cat, "run: x\nresources: {instance_type: g5.12xlarge}\n", &s, &e),
        0);
    assert_int_equal(best_offer(&p)->acc_count, 4);
    plan_done(&p, s);
    catalog_free(cat);
}

/* A known accelerator the catalog lacks is never "corrected" into another
 * GPU; a typo still gets its suggestion. */
static void test_known_accelerator_absent(void **state)
{
    static const struct {
        const char *acc, *msg;
    } cases[] = {
        {"V100",
         "t.yaml:2:27: 'V100' is a known accelerator, but this catalog has no offer"},
        {"t4", "'t4' is a known accelerator, but this catalog has no offer of it"},
        {"tpu-v2-8", "'tpu-v2-8' is a known accelerator"},
        {"B300", "'B300' is a known accelerator"},
        {"A10x", "no offer in the catalog has accelerator 'A10x' (did you mean 'A10G'?)"},
    };
    struct catalog *cat = load(CPUCAT);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[128];
        struct spec *s;
        struct plan p;
        struct err e;

        snprintf(yaml, sizeof(yaml), "run: x\nresources: {accelerators: %s}\n",
                 cases[i].acc);
        assert_int_equal(plan_yaml(&p, cat, yaml, &s, &e), ST_EINVAL);
        if (strstr(e.msg, cases[i].msg) == NULL ||
            (i < 4 && strstr(e.msg, "did you mean") != NULL))
            fail_msg("%s: %s", cases[i].acc, e.msg);
        plan_done(&p, s);
    }
    catalog_free(cat);
}

/* Offered, but not where the spec asks: say where it is. */
static void test_not_offered_there(void **state)
{
    static const struct {
        const char *res, *msg;
    } cases[] = {
        {"{accelerators: A10G, infra: azure}",
         "no feasible placement for 't': A10G is not offered on azure; aws offers it in "
         "2 "
         "regions, cheapest us-east-1 g5.xlarge (A10G:1) $1.006/h; 6 candidates"},
        {"{accelerators: L4, infra: aws/us-east-1}",
         "L4 is not offered in aws/us-east-1; gcp offers it in 1 region, cheapest "
         "us-central1 g2-standard-4 (L4:1) $0.700/h"},
        {"{cpus: 4, memory: 16, infra: lambda}",
         "CPU-only instances are not offered on lambda; gcp offers them in 1 region, "
         "cheapest us-central1 n2-standard-4 (4 vCPU, 16 GiB) $0.134/h"},
    };
    struct catalog *cat = load(CPUCAT);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[128];
        struct spec *s;
        struct plan p;
        struct err e;

        snprintf(yaml, sizeof(yaml), "run: x\nresources: %s\n", cases[i].res);
        assert_int_equal(plan_yaml(&p, cat, yaml, &s, &e), ST_EINFEASIBLE);
        if (strstr(e.msg, cases[i].msg) == NULL)
            fail_msg("%s:\n  got  %s\n  want %s", cases[i].res, e.msg, cases[i].msg);
        plan_done(&p, s);
    }
    catalog_free(cat);
}

/* A bucket in file_mounts (region unknown) prices egress by cloud: data on
 * S3 moves a set {A10G, L4} from the cheaper L4 on GCP to A10G on AWS. */
static void test_bucket_egress(void **state)
{
    static const char *const base =
        "run: x\nresources: {accelerators: '{A10G:1, L4:1}', use_spot: false}\n";
    struct catalog *cat = load(CPUCAT);
    struct spec *s;
    struct plan p;
    struct err e;
    char yaml[512];

    (void)state;
    assert_int_equal(plan_yaml(&p, cat, base, &s, &e), 0);
    assert_string_equal(best_offer(&p)->cloud, "gcp");
    plan_done(&p, s);
    snprintf(yaml, sizeof(yaml),
             "%sfile_mounts: {/data: {source: s3://b, mode: MOUNT}}\n"
             "stratus: {data: {size_gb: 1000}}\n",
             base);
    assert_int_equal(plan_yaml(&p, cat, yaml, &s, &e), 0);
    assert_string_equal(best_offer(&p)->cloud, "aws");
    assert_true(NEAR(p.c[0].egress, 0)); /* same cloud, region unknown: free */
    for (size_t k = 0; k < p.n; k++) {
        const struct offer *o = catalog_offer(cat, p.c[k].offer);

        if (strcmp(o->cloud, "gcp") == 0)
            assert_true(NEAR(p.c[k].egress, 1000 * 0.09)); /* aws internet egress */
    }
    plan_done(&p, s);
    catalog_free(cat);
}

/* A per-region image_id map limits the regions (SkyPilot). */
static void test_image_regions(void **state)
{
    struct catalog *cat = load(CPUCAT);
    struct spec *s;
    struct plan p;
    struct err e;

    (void)state;
    assert_int_equal(
        plan_yaml(&p, cat,
                  "run: x\nresources:\n  accelerators: A10G\n  use_spot: true\n"
                  "  image_id: {us-east-1: ami-1}\n",
                  &s, &e),
        0);
    for (size_t k = 0; k < p.n; k++)
        assert_string_equal(catalog_offer(cat, p.c[k].offer)->region, "us-east-1");
    assert_true(p.excl[PLAN_R_SPEC_LOCATION].count > 0);
    plan_done(&p, s);
    catalog_free(cat);
}

/* Fractional GPUs in the bundled catalog: 'L4:0.5' gets only offers of
 * half an L4 (AWS g6f.4xlarge, gr6f), 'L4:1' never one of them, and the
 * header says what was asked. */
static void test_fractional_gpus(void **state)
{
    struct catalog *cat = load(SOURCE_DIR "/catalog");
    struct spec *s = NULL;
    struct plan p;
    struct err e;
    size_t i, half = 0;
    char head[64];

    (void)state;
    assert_int_equal(plan_yaml(&p, cat, "resources:\n  accelerators: L4:0.5\nrun: x\n", &s, &e),
                     0);
    assert_true(p.n > 0);
    for (i = 0; i < p.n; i++) {
        const struct offer *o = catalog_offer(cat, p.c[i].offer);

        assert_string_equal(o->accelerator, "L4");
        assert_true(o->acc_count == 1 && o->acc_part == 0.5);
        half += strncmp(o->instance_type, "g6f.4xlarge", 11) == 0;
    }
    assert_true(half > 0);
    assert_string_equal(catalog_shape(head, sizeof(head), "L4", s->res[0].acc_count,
                                      s->res[0].acc_part),
                        "L4:0.5");
    plan_done(&p, s);
    assert_int_equal(plan_yaml(&p, cat, "resources:\n  accelerators: L4:1\nrun: x\n", &s, &e), 0);
    for (i = 0; i < p.n; i++)
        assert_true(catalog_offer(cat, p.c[i].offer)->acc_part == 0);
    assert_true(p.excl[PLAN_R_ACC_COUNT].count > 0); /* the shares were looked at */
    plan_done(&p, s);
    /* a share no offer sells: no placement, not a whole GPU instead */
    assert_int_not_equal(
        plan_yaml(&p, cat, "resources:\n  accelerators: L4:0.3\nrun: x\n", &s, &e), 0);
    plan_done(&p, s);
    catalog_free(cat);
}

/* ---- cost per unit of work (throughput.csv) ---- */

/* The mini catalog without commitments, with a throughput table where H100
 * does `h100` times the work of A100-80GB per GPU (NULL: no table). */
static char *thr_catalog(const char *h100)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/commitments.csv", dir), *text;

    tu_copy_dir(MINI, dir);
    unlink(path);
    free(path);
    if (h100 != NULL) {
        text = xasprintf("accelerator,train,infer,cores_per_chip,source,note\n"
                         "A100-80GB,1,1,,ref,\nH100,%s,3,,test,\n",
                         h100);
        tu_write(dir, "throughput.csv", text);
        free(text);
    }
    return dir;
}

/* H100:8 | A100-80GB:8, 10 h on H100 (the first), on-demand: the cheapest
 * on-demand H100:8 is oci at 80/h, A100-80GB:8 gcp at 40.22/h. */
static void rank_alternatives(const char *dir, struct plan *p, struct spec *s,
                              struct spec_res r[2])
{
    struct catalog *cat = load(dir);
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;

    spec_init(s, &r[0], "H100", 8);
    r[1] = r[0];
    r[1].accelerator = (char *)(uintptr_t)"A100-80GB";
    r[0].use_spot = r[1].use_spot = 0;
    s->res = r;
    s->nres = 2;
    s->duration_s = 10 * 3600;
    plan_init(p);
    if (plan_rank(p, cat, s, NULL, &o, &e) != 0)
        fail_msg("%s", e.msg);
}

static void done(struct plan *p, char *dir)
{
    catalog_free((struct catalog *)(uintptr_t)p->cat);
    plan_free(p);
    tu_rmdir(dir);
    free(dir);
}

static void test_cost_per_unit_of_work(void **state)
{
    struct spec s;
    struct spec_res r[2];
    struct plan p;
    char *dir;

    (void)state;
    /* No table: an hour is an hour, the cheaper hour wins (40.22 x 10 h). */
    dir = thr_catalog(NULL);
    rank_alternatives(dir, &p, &s, r);
    assert_string_equal(best_offer(&p)->accelerator, "A100-80GB");
    assert_true(NEAR(p.c[0].compute, 402.2));
    assert_false(p.alts[1].known);
    assert_true(p.alts[1].speed == 1 && p.alts[1].hours == 10);
    assert_true(p.alts[0].known && p.alts[0].speed == 1 && p.alts[0].hours == 10);
    done(&p, dir);
    /* H100 does 2.5x the work: A100-80GB needs 25 h (1005.5) against 800 on H100. */
    dir = thr_catalog("2.5");
    rank_alternatives(dir, &p, &s, r);
    assert_string_equal(best_offer(&p)->accelerator, "H100");
    assert_true(NEAR(p.c[0].compute, 800) && NEAR(p.c[0].expected, 800));
    assert_true(p.alts[0].known && p.alts[1].known);
    assert_true(NEAR(p.alts[1].speed, 0.4) && NEAR(p.alts[1].hours, 25));
    for (size_t i = 0; i < p.n; i++)
        if (p.c[i].alt == 1)
            assert_true(NEAR(p.c[i].compute, catalog_offer(p.cat, p.c[i].offer)->price * 25));
    done(&p, dir);
    /* Only 1.5x: A100-80GB's 15 h cost 603.3, less than H100's 800. */
    dir = thr_catalog("1.5");
    rank_alternatives(dir, &p, &s, r);
    assert_string_equal(best_offer(&p)->accelerator, "A100-80GB");
    assert_true(NEAR(p.c[0].compute, 40.22 * 15));
    done(&p, dir);
    /* Inference uses the infer column (3x): A100-80GB needs 30 h. */
    dir = thr_catalog("1.5");
    rank_alternatives(dir, &p, &s, r);
    assert_true(NEAR(p.alts[1].hours, 15));
    s.kind = SPEC_KIND_INFER;
    {
        struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
        struct err e;

        assert_int_equal(plan_rank(&p, p.cat, &s, NULL, &o, &e), 0);
    }
    assert_true(NEAR(p.alts[1].hours, 30));
    assert_string_equal(best_offer(&p)->accelerator, "H100");
    done(&p, dir);
}

/* Spot: the preemption exposure is over the alternative's own run time.
 * A100-80GB spot at gcp us-central1 (12/h, rate 0.1/node-h), 25 h, no
 * checkpoints: a run from the start each time, (e^2.5 - 1) / 0.1 = 111.8 h
 * expected, 86.8 h lost x 12/h = $1,042 (first order: 0.1 x 25 x 12.5 h
 * x 12/h = $375). */
static void test_preemption_over_alternative_hours(void **state)
{
    struct catalog *cat;
    struct spec s;
    struct spec_res r[2];
    struct plan p;
    struct plan_opts o = {.now = 1.0, .top = 0, .by_price = 0};
    struct err e;
    char *dir = thr_catalog("2.5");
    size_t i;
    int seen = 0;

    (void)state;
    rank_alternatives(dir, &p, &s, r);
    r[0].use_spot = r[1].use_spot = -1;
    cat = (struct catalog *)(uintptr_t)p.cat;
    assert_int_equal(plan_rank(&p, cat, &s, NULL, &o, &e), 0);
    for (i = 0; i < p.n; i++) {
        if (p.c[i].alt != 1 || p.c[i].mode != PLAN_SPOT)
            continue;
        assert_true(NEAR(p.c[i].compute, 12 * 25));
        assert_true(NEAR(p.c[i].preemption, (expm1(2.5) / 0.1 - 25) * 12));
        seen++;
    }
    assert_int_equal(seen, 1);
    /* plan_speed: what the controller and the simulator use */
    assert_true(NEAR(plan_speed(cat, &s, "A100-80GB", 8, 0), 0.4));
    assert_true(NEAR(plan_speed(cat, &s, "H100", 4, 0), 0.5));
    assert_true(plan_speed(cat, &s, "L4", 8, 0) == 1); /* unknown */
    done(&p, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_costs_by_hand),
        cmocka_unit_test(test_egress_moves_the_choice),
        cmocka_unit_test(test_commitment_used_first),
        cmocka_unit_test(test_commitment_ending_priced),
        cmocka_unit_test(test_quota_fabric_and_errors),
        cmocka_unit_test(test_policy_tiers_and_exclusions),
        cmocka_unit_test(test_random_vs_brute_force),
        cmocka_unit_test(test_cpu_work),
        cmocka_unit_test(test_cpu_families),
        cmocka_unit_test(test_cpu_without_cpu_offers),
        cmocka_unit_test(test_accelerator_names),
        cmocka_unit_test(test_known_accelerator_absent),
        cmocka_unit_test(test_not_offered_there),
        cmocka_unit_test(test_bucket_egress),
        cmocka_unit_test(test_unknown_region_named_where_written),
        cmocka_unit_test(test_image_regions),
        cmocka_unit_test(test_fractional_gpus),
        cmocka_unit_test(test_cost_per_unit_of_work),
        cmocka_unit_test(test_preemption_over_alternative_hours),
        cmocka_unit_test(test_preemption_past_the_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
