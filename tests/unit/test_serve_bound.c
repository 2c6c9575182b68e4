/*
 * test_serve_bound.c - the lower bound on a service's cost
 * (src/sim/serve_bound.c) over the bundled catalog, on request traces
 * made here.
 *
 * The bound is positive and below what the simulator's own policy paid on
 * the same trace; it follows the work (twice the tokens, two to four times
 * the work above the floor), the prices (a price trace that halves the
 * cheapest offer for half the time lowers it by a known amount) and the
 * floor (with no work, min_replicas x span x the cheapest price, plus the
 * warm-up before time 0); users no allowed region can answer in time make
 * it fail with a clear message; prompts due within the objective cannot
 * wait for the floor's idle time; and the work it counts is at most, and
 * close to, what one replica of the model takes for the same requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "sim/reqtrace.h"
#include "sim/serve_bound.h"
#include "sim/serve_perf.h"
#include "sim/sim_serve.h"
#include "sim/trace.h"
#include "util/xmem.h"

#include "servesim.h"

/* n requests evenly over [t0, t1) from `region`. */
static void add_load(struct reqtrace *rt, double t0, double t1, size_t n, uint32_t in,
                     uint32_t out, const char *region)
{
    size_t i;

    for (i = 0; i < n; i++)
        reqtrace_add(rt, t0 + (t1 - t0) * (double)i / (double)n, in, out, region, NULL, -1);
}

static void input(struct sim_serve_input *in, struct catalog *cat, const struct reqtrace *rt,
                  const char *spec)
{
    serve_input(in, cat, rt, "svc.yaml", spec);
}

static double bound_of(struct catalog *cat, const struct reqtrace *rt, const char *spec,
                       const struct trace *prices, struct sim_serve_result *res)
{
    struct sim_serve_input in;
    struct err e;

    input(&in, cat, rt, spec);
    in.prices = prices;
    err_clear(&e);
    if (sim_serve_bound(&in, NULL, res, &e) != 0)
        fail_msg("sim_serve_bound: %s", e.msg);
    assert_string_equal(res->name, "bound");
    assert_int_equal(res->requests, rt->n);
    assert_int_equal(res->served, rt->n);
    /* the parts add up */
    assert_true(fabs(res->spot_cost + res->ondemand_cost - res->cost) <=
                1e-9 * res->cost + 1e-12);
    assert_true(fabs(res->cost_by_cloud[0] + res->cost_by_cloud[1] + res->cost_by_cloud[2] +
                     res->cost_by_cloud[3] + res->cost_by_cloud[4] - res->cost) <=
                1e-9 * res->cost + 1e-12);
    return res->cost;
}

/* L4 replicas in gcp/us-central1, spot or not; users next door. */
static const char spec_l4[] =
    "name: l4\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replica_policy:\n"
    "    min_replicas: 2\n"
    "    max_replicas: 8\n"
    "    target_qps_per_replica: 1\n"
    "    upscale_delay_seconds: 60\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  any_of:\n"
    "    - use_spot: true\n"
    "    - use_spot: false\n"
    "run: serve\n"
    "stratus:\n"
    "  service:\n"
    "    latency_slo_ms: %d\n";

static void spec_with_slo(char *buf, size_t n, int slo_ms)
{
    snprintf(buf, n, spec_l4, slo_ms);
}

/* The least price per node-hour of the offers spec_l4 allows, on demand
 * or spot, and which offer and mode it is. */
static double cheapest_l4(const struct catalog *cat, long *which, int *spot)
{
    size_t i, n = catalog_noffers(cat);
    double best = INFINITY;

    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(cat, i);

        if (strcmp(o->accelerator, "L4") != 0 || o->acc_count != 1 ||
            strcmp(o->cloud, "gcp") != 0 || strcmp(o->region, "us-central1") != 0)
            continue;
        if (o->price >= 0 && o->price < best) {
            best = o->price;
            *which = (long)i;
            *spot = 0;
        }
        if (o->spot_price >= 0 && o->spot_price < best) {
            best = o->spot_price;
            *which = (long)i;
            *spot = 1;
        }
    }
    return best;
}

/* (1) 2,000 requests over 20 minutes: the bound is positive and below what
 * the spec's own policy paid (which served them). */
static void test_below_stratus(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_input in;
    struct sim_serve_policy pol = {"stratus", SSP_STRATUS, NULL};
    struct sim_serve_result b, run;
    char spec[sizeof(spec_l4) + 16];
    struct err e;

    (void)state;
    spec_with_slo(spec, sizeof(spec), 5000);
    reqtrace_init(&rt);
    add_load(&rt, 0, 1200, 2000, 800, 120, "gcp/us-central1");
    bound_of(cat, &rt, spec, NULL, &b);
    input(&in, cat, &rt, spec);
    err_clear(&e);
    if (sim_serve_run(&in, &pol, &run, &e) != 0)
        fail_msg("sim_serve_run: %s", e.msg);
    print_message("bound $%.4f (%.3f replica-h), stratus $%.4f (%.3f replica-h, "
                  "%zu/%zu served)\n",
                  b.cost, b.replica_hours, run.cost, run.replica_hours, run.served,
                  run.requests);
    assert_true(b.cost > 0);
    assert_true(b.replica_hours > 0);
    assert_true(b.cost <= run.cost);
    assert_true(b.replica_hours <= run.replica_hours);
    /* gcp only: the whole bound is gcp's */
    assert_true(fabs(b.cost_by_cloud[1] - b.cost) <= 1e-9 * b.cost);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* (2) Twice the tokens: the work above the floor at least doubles, and at
 * most quadruples (prefill and each sequence's step cost are linear in the
 * tokens; its share of the steps' base, by KV footprint, is tokens x
 * footprint).  At 4 requests/s of 3,000 + 200 tokens an L4 is busy ~1.9 s
 * per request, so the work (~7.6 replicas) is above the floor of 2 all
 * along. */
static void test_twice_the_tokens(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace one, two;
    struct sim_serve_result a, b;
    char spec[sizeof(spec_l4) + 16];
    long which = -1;
    int spot = 0;
    double q = cheapest_l4(cat, &which, &spot), floor_usd, wa, wb;

    (void)state;
    spec_with_slo(spec, sizeof(spec), 5000);
    reqtrace_init(&one);
    reqtrace_init(&two);
    add_load(&one, 0, 1200, 4800, 3000, 200, "gcp/us-central1");
    add_load(&two, 0, 1200, 4800, 6000, 400, "gcp/us-central1");
    bound_of(cat, &one, spec, NULL, &a);
    bound_of(cat, &two, spec, NULL, &b);
    floor_usd = 2 * q * (one.req[one.n - 1].arrival_s / 3600);
    /* replica-hours of work: the cost less the floor's warm-up, at the one
     * price the bound pays (the work is above the floor all along) */
    wa = a.cost / q - 2 * 120.0 / 3600;
    wb = b.cost / q - 2 * 120.0 / 3600;
    print_message("bound %.4f -> %.4f replica-h (floor %.4f)\n", wa, wb, floor_usd / q);
    assert_true(a.cost > 2 * floor_usd); /* the work, not the floor, sets it */
    assert_true(wb >= 2 * wa * (1 - 1e-9));
    assert_true(wb <= 4 * wa);
    reqtrace_free(&one);
    reqtrace_free(&two);
    catalog_free(cat);
}

/* (3) A price trace halves the cheapest offer's price for the second half
 * of the span: with the floor alone setting the bound, it falls by a
 * quarter, or less when another offer is cheaper than half. */
static void test_price_trace_lowers(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct trace prices;
    struct sim_serve_result a, b;
    char spec[sizeof(spec_l4) + 16], csv[512], half[64];
    long which = -1;
    int spot = 0;
    double q = cheapest_l4(cat, &which, &spot), floor_usd = 2 * q * 1200 / 3600;
    double warm_usd = 2 * q * 120 / 3600; /* the floor's warm-up before time 0 */
    const struct offer *o;
    struct err e;

    (void)state;
    assert_true(which >= 0);
    o = catalog_offer(cat, (size_t)which);
    snprintf(half, sizeof(half), spot ? ",%.6f" : "%.6f,", q / 2);
    spec_with_slo(spec, sizeof(spec), 5000);
    reqtrace_init(&rt);
    add_load(&rt, 0, 1200, 200, 100, 10, "gcp/us-central1");
    reqtrace_add(&rt, 1200, 100, 10, "gcp/us-central1", NULL, -1);
    /* the other way of buying it keeps its price (an empty field) */
    snprintf(csv, sizeof(csv),
             "time_s,location,instance_type,price_hour,spot_price_hour\n"
             "600,%s/%s/%s,%s,%s\n",
             o->cloud, o->region, o->zone, o->instance_type, half);
    trace_init(&prices);
    err_clear(&e);
    if (trace_load_prices_mem(&prices, "prices.csv", csv, strlen(csv), &e) != 0)
        fail_msg("prices: %s (%s)", e.msg, csv);
    bound_of(cat, &rt, spec, NULL, &a);
    bound_of(cat, &rt, spec, &prices, &b);
    print_message("bound $%.9f -> $%.9f with the price halved for half the span (q %g)\n",
                  a.cost, b.cost, q);
    /* the floor, 2 replicas x 1,200 s, their warm-up, and the last
     * request's 0.05 s of work (after the floor's end); the others' work
     * fits in the floor */
    assert_true(a.cost >= (floor_usd + warm_usd) * (1 - 1e-9));
    assert_true(a.cost <= floor_usd + warm_usd + q / 3600);
    /* half the floor at half the price: a quarter of it less */
    assert_true(b.cost < a.cost);
    assert_true(b.cost >= (0.75 * floor_usd + warm_usd) * (1 - 1e-9));
    assert_true(b.cost <= 0.75 * floor_usd + warm_usd + q / 3600);
    reqtrace_free(&rt);
    trace_free(&prices);
    catalog_free(cat);
}

/* (4) An objective of 5 ms for users in Tokyo, replicas only in Iowa: no
 * policy meets it, and the call says so. */
static void test_slo_too_small(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_input in;
    struct sim_serve_result res;
    char spec[sizeof(spec_l4) + 16];
    struct err e;

    (void)state;
    spec_with_slo(spec, sizeof(spec), 5);
    reqtrace_init(&rt);
    add_load(&rt, 0, 600, 100, 100, 10, "gcp/asia-northeast1");
    input(&in, cat, &rt, spec);
    err_clear(&e);
    assert_int_equal(sim_serve_bound(&in, NULL, &res, &e), ST_EINFEASIBLE);
    assert_non_null(strstr(e.msg, "svc.yaml"));
    assert_non_null(strstr(e.msg, "latency_slo_ms 5"));
    assert_non_null(strstr(e.msg, "gcp/asia-northeast1"));
    assert_non_null(strstr(e.msg, "us-central1"));
    /* users next to the replicas can be answered within the same 5 ms */
    reqtrace_free(&rt);
    reqtrace_init(&rt);
    add_load(&rt, 0, 600, 100, 100, 10, "gcp/us-central1");
    bound_of(cat, &rt, spec, NULL, &res);
    assert_true(res.cost > 0);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* (5) The floor: requests with no work to speak of (1 token in, 1 out) at
 * 0 and 1,200 s give min_replicas x (1,200 s + the 120 s warm-up before
 * time 0) x the cheapest price (and the last one's work: the floor ends
 * at the last arrival); no requests at all, nothing (the trace has no
 * span). */
static void test_floor(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result res;
    char spec[sizeof(spec_l4) + 16];
    long which = -1;
    int spot = 0;
    double q = cheapest_l4(cat, &which, &spot), want = 2 * (1200 + 120) * q / 3600;

    (void)state;
    spec_with_slo(spec, sizeof(spec), 5000);
    reqtrace_init(&rt);
    bound_of(cat, &rt, spec, NULL, &res);
    assert_true(res.cost == 0);
    reqtrace_add(&rt, 0, 1, 1, "gcp/us-central1", NULL, -1);
    reqtrace_add(&rt, 1200, 1, 1, "gcp/us-central1", NULL, -1);
    bound_of(cat, &rt, spec, NULL, &res);
    print_message("floor $%.10f, want $%.10f (q %g)\n", res.cost, want, q);
    /* and the last prompt's 0.26 ms, after the floor's end */
    assert_true(res.cost >= want * (1 - 1e-12));
    assert_true(res.cost <= want + q * 0.001 / 3600);
    assert_true(fabs(res.replica_hours - 2 * 1320.0 / 3600) <= 0.001 / 3600);
    assert_true(spot ? res.spot_cost == res.cost : res.ondemand_cost == res.cost);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* A request that must be answered within the objective cannot be
 * postponed: 1,000 prompts at one instant take 1,000 x 4,000 / 3,918 s of
 * L4 prefill, due within 2 s, far above the floor of 2 replicas. */
static void test_burst_needs_replicas(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result res;
    char spec[sizeof(spec_l4) + 16];
    long which = -1;
    int spot = 0;
    double q = cheapest_l4(cat, &which, &spot), prefill_h = 1000 * 4000.0 / 3918 / 3600;

    (void)state;
    spec_with_slo(spec, sizeof(spec), 2000);
    reqtrace_init(&rt);
    add_load(&rt, 600, 600.001, 1000, 4000, 1, "gcp/us-central1");
    reqtrace_add(&rt, 1200, 1, 1, "gcp/us-central1", NULL, -1);
    bound_of(cat, &rt, spec, NULL, &res);
    print_message("burst: $%.4f, %.4f replica-h (prefill %.4f)\n", res.cost,
                  res.replica_hours, prefill_h);
    /* the floor's 20 s around the burst hold ~0.011 replica-h of it */
    assert_true(res.replica_hours >= 2 * 1200.0 / 3600 + prefill_h - 0.02);
    assert_true(res.cost >= q * (2 * 1200.0 / 3600 + prefill_h - 0.02));
    reqtrace_free(&rt);
    catalog_free(cat);
}

static void last_done(void *ctx, const struct rp_done *d)
{
    double *t = ctx;

    *t = fmax(*t, d->done_s);
}

/* Point 1 of the argument against the replica model itself: 200 requests
 * at once on one L4 keep it busy until the last is done, which takes at
 * least the work the bound counts (no floor: the trace has no span and no
 * warm-up), and not much more: the bound is near what a full replica
 * needs. */
static void test_work_vs_replica(void **state)
{
    static const char spec[] = "name: one\n"
                               "service:\n"
                               "  readiness_probe: /health\n"
                               "  replicas: 1\n"
                               "resources:\n"
                               "  cloud: gcp\n"
                               "  region: us-central1\n"
                               "  accelerators: L4:1\n"
                               "run: serve\n";
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_input in;
    struct sim_serve_result res;
    struct serve_perf p;
    struct replica *r;
    struct err e;
    double makespan = 0;
    size_t i;

    (void)state;
    err_clear(&e);
    assert_int_equal(serve_perf_lookup("L4", "llama-3.1-8b", 1, &p, &e), 0);
    r = rp_new(&p, &e);
    assert_non_null(r);
    reqtrace_init(&rt);
    for (i = 0; i < 200; i++) {
        struct rp_request q = {i, 0, (uint32_t)(1000 + 37 * i), (uint32_t)(50 + 3 * i)};

        reqtrace_add(&rt, 0, q.in_tokens, q.out_tokens, "gcp/us-central1", NULL, -1);
        assert_int_equal(rp_arrive(r, 0, &q, &e), 0);
    }
    assert_int_equal(rp_advance(r, INFINITY, last_done, &makespan), 200);
    rp_free(r);
    input(&in, cat, &rt, spec);
    in.warmup_s = 0;
    if (sim_serve_bound(&in, NULL, &res, &e) != 0)
        fail_msg("sim_serve_bound: %s", e.msg);
    print_message("work %.1f s, one replica done after %.1f s\n", res.replica_hours * 3600,
                  makespan);
    assert_true(res.replica_hours * 3600 <= makespan);
    assert_true(res.replica_hours * 3600 >= 0.8 * makespan);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* The org policy keeps the bound where policies may run: H100 replicas
 * anywhere in the world (an objective every region meets), then only on
 * Google Cloud on demand: all of the second bound is Google's and on
 * demand, and it is above the first. */
static void test_org_policy(void **state)
{
    static const char spec[] =
        "name: h100\n"
        "service:\n"
        "  readiness_probe: /health\n"
        "  replica_policy:\n"
        "    min_replicas: 1\n"
        "    max_replicas: 4\n"
        "    target_qps_per_replica: 1\n"
        "resources:\n"
        "  accelerators: H100:1\n"
        "  any_of:\n"
        "    - use_spot: true\n"
        "    - use_spot: false\n"
        "run: serve\n"
        "stratus:\n"
        "  service:\n"
        "    latency_slo_ms: 60000\n";
    static const char gcp_od[] = "version: 1\nrules:\n  - name: a\n    allow: [gcp]\n"
                                   "    spot: forbid\n";
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_input in;
    struct sim_serve_result any, az;
    struct err e;

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 1200, 600, 2000, 200, "gcp/europe-west4");
    bound_of(cat, &rt, spec, NULL, &any);
    input(&in, cat, &rt, spec);
    err_clear(&e);
    if (sim_serve_bound(&in, gcp_od, &az, &e) != 0)
        fail_msg("sim_serve_bound: %s", e.msg);
    print_message("anywhere $%.4f (spot $%.4f), gcp on demand $%.4f\n", any.cost,
                  any.spot_cost, az.cost);
    assert_true(az.cost > 0 && az.spot_cost == 0);
    assert_true(fabs(az.cost_by_cloud[1] - az.cost) <= 1e-9 * az.cost);
    assert_true(az.cost >= any.cost * (1 - 1e-9));
    /* the world's cheapest H100 replica-hour is spot, not Google's on demand */
    assert_true(any.spot_cost > 0 && az.cost > any.cost);
    /* a policy that is not YAML is an error, not a bound without it */
    assert_int_not_equal(sim_serve_bound(&in, "rules: [", &az, &e), 0);
    reqtrace_free(&rt);
    catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below_stratus),
        cmocka_unit_test(test_twice_the_tokens),
        cmocka_unit_test(test_price_trace_lowers),
        cmocka_unit_test(test_slo_too_small),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_burst_needs_replicas),
        cmocka_unit_test(test_work_vs_replica),
        cmocka_unit_test(test_org_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
