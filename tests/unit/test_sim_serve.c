/*
 * test_sim_serve.c - one service in the simulator's world
 * (src/sim/sim_serve.c): the real manager, controller and router code in
 * virtual time over the bundled catalog, on request traces made here.
 *
 * Every run checks that each request is accounted for (served + failed =
 * total).  Then: a user far from every replica sees at least the RTT
 * between the regions in its TTFT; a spot zone reclaimed under load has
 * requests retried on the other replicas and none lost when none had its
 * first token out (1-token answers); a load step scales the service up
 * (and the same low load without the step does not); the same inputs and
 * seed give the same numbers, another seed other preemptions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "sim/reqtrace.h"
#include "sim/sim_serve.h"
#include "sim/trace.h"
#include "util/xmem.h"

#include "servesim.h"

static double lead_s = 600; /* serve up this long before the first request */
static double notice_s;     /* the spot notice of the runs (0: none) */

/* rate requests/s from t0 to t1 (evenly spaced), from `region`. */
static void add_load(struct reqtrace *rt, double t0, double t1, double rate, uint32_t in,
                     uint32_t out, const char *region)
{
    double t;

    for (t = t0; t < t1; t += 1 / rate)
        reqtrace_add(rt, t, in, out, region, NULL, -1);
}

static void run_as(struct catalog *cat, const char *spec, const struct reqtrace *rt,
                   const struct trace *spot, uint64_t seed, const struct sim_serve_policy *pol,
                   struct sim_serve_result *res)
{
    struct sim_serve_input in;
    struct err e;

    serve_input(&in, cat, rt, "test.yaml", spec);
    in.spot = spot;
    in.lead_s = lead_s;
    in.notice_s = notice_s;
    in.seed = seed;
    err_clear(&e);
    if (sim_serve_run(&in, pol, res, &e) != 0)
        fail_msg("sim_serve_run %s: %s", pol->name, e.msg);
    assert_int_equal(res->served + res->failed, rt->n);
    assert_int_equal(res->requests, rt->n);
}

static void run(struct catalog *cat, const char *spec, const struct reqtrace *rt,
                const struct trace *spot, uint64_t seed, struct sim_serve_result *res)
{
    struct sim_serve_policy pol = {"stratus", SSP_STRATUS, NULL};

    run_as(cat, spec, rt, spot, seed, &pol, res);
}

static const char spec_far[] =
    "name: far\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replicas: 1\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  use_spot: false\n"
    "run: serve\n";

/* Users in Tokyo, the only replica in Iowa: every TTFT holds the RTT. */
static void test_far_user_sees_rtt(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result res;
    double rtt = catalog_rtt_ms(cat, "gcp", "asia-northeast1", "gcp", "us-central1", NULL) / 1000;

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 600, 0.5, 100, 10, "gcp/asia-northeast1");
    run(cat, spec_far, &rt, NULL, 1, &res);
    assert_true(rtt > 0.1);
    assert_int_equal(res.failed, 0);
    /* a short prompt alone on an L4 takes a few ms: without the RTT the
     * median would be far below it */
    assert_true(res.ttft_s[0] >= rtt);
    assert_true(res.ttft_s[0] < rtt + 0.5);
    assert_true(res.e2e_s[0] >= res.ttft_s[0]);
    assert_true(res.cost > 0);
    assert_true(res.spot_cost == 0);
    assert_true(res.replica_hours > 600.0 / 3600);
    reqtrace_free(&rt);
    catalog_free(cat);
}

static const char spec_spot[] =
    "name: spot\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replicas: 3\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  use_spot: true\n"
    "run: serve\n";

/* Zone a's spot capacity is reclaimed at 300 s (and back at 310 s). */
static const char spot_csv[] =
    "time_s,location,instance_type,available_nodes,preempted\n"
    "0,gcp/us-central1/us-central1-a,g2-standard-4,,0\n"
    "0,gcp/us-central1/us-central1-a,g2-standard-8,,0\n"
    "0,gcp/us-central1/us-central1-a,g2-standard-12,,0\n"
    "0,gcp/us-central1/us-central1-a,g2-standard-16,,0\n"
    "0,gcp/us-central1/us-central1-a,g2-standard-32,,0\n"
    "300,gcp/us-central1/us-central1-a,g2-standard-4,,1\n"
    "300,gcp/us-central1/us-central1-a,g2-standard-8,,1\n"
    "300,gcp/us-central1/us-central1-a,g2-standard-12,,1\n"
    "300,gcp/us-central1/us-central1-a,g2-standard-16,,1\n"
    "300,gcp/us-central1/us-central1-a,g2-standard-32,,1\n"
    "310,gcp/us-central1/us-central1-a,g2-standard-4,,0\n"
    "310,gcp/us-central1/us-central1-a,g2-standard-8,,0\n"
    "310,gcp/us-central1/us-central1-a,g2-standard-12,,0\n"
    "310,gcp/us-central1/us-central1-a,g2-standard-16,,0\n"
    "310,gcp/us-central1/us-central1-a,g2-standard-32,,0\n";

static void load_spot(struct trace *spot)
{
    struct err e;

    trace_init(spot);
    err_clear(&e);
    if (trace_load_spot_mem(spot, "spot.csv", spot_csv, strlen(spot_csv), &e) != 0)
        fail_msg("spot: %s", e.msg);
}

/* Spread spot replicas, one zone reclaimed under load: the requests at its
 * replica are retried on the others; with 1-token answers no request had
 * its first token out when it was cut, so none is lost. */
static void test_preemption_retries_none_lost(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct trace spot;
    struct sim_serve_result res;

    (void)state;
    load_spot(&spot);
    reqtrace_init(&rt);
    add_load(&rt, 0, 900, 4, 3000, 1, "gcp/us-central1");
    run(cat, spec_spot, &rt, &spot, 1, &res);
    assert_true(res.preemptions >= 1);
    assert_true(res.retried > 0);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.lost, 0);
    assert_int_equal(res.served, rt.n);
    assert_true(res.spot_cost > 0);
    assert_true(res.ondemand_cost == 0);
    reqtrace_free(&rt);
    trace_free(&spot);
    catalog_free(cat);
}

/* The same with long answers: requests cut while streaming are lost (and
 * counted as failed), the others retried. */
static void test_preemption_cuts_streams(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct trace spot;
    struct sim_serve_result res;

    (void)state;
    load_spot(&spot);
    reqtrace_init(&rt);
    add_load(&rt, 0, 900, 4, 1000, 400, "gcp/us-central1");
    run(cat, spec_spot, &rt, &spot, 1, &res);
    assert_true(res.preemptions >= 1);
    assert_true(res.lost > 0);
    assert_true(res.lost <= res.failed);
    reqtrace_free(&rt);
    trace_free(&spot);
    catalog_free(cat);
}

/* The same reclaim under a lighter load: without a notice the streams at
 * the reclaimed replica are cut (26 of them); with a 30 s notice the
 * manager drains it at the notice, the routers stop sending to it, and the
 * answers in flight there end before the node goes: none is lost. */
static void test_notice_drains_none_lost(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct trace spot;
    struct sim_serve_result cut, warned;

    (void)state;
    load_spot(&spot);
    reqtrace_init(&rt);
    add_load(&rt, 0, 900, 2, 500, 200, "gcp/us-central1");
    run(cat, spec_spot, &rt, &spot, 1, &cut);
    notice_s = 30;
    run(cat, spec_spot, &rt, &spot, 1, &warned);
    notice_s = 0;
    assert_true(cut.preemptions >= 1 && warned.preemptions >= 1);
    assert_true(cut.lost > 0);
    assert_int_equal(warned.lost, 0);
    assert_int_equal(warned.served, rt.n);
    reqtrace_free(&rt);
    trace_free(&spot);
    catalog_free(cat);
}

static const char spec_scale[] =
    "name: scale\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replica_policy:\n"
    "    min_replicas: 1\n"
    "    max_replicas: 6\n"
    "    target_qps_per_replica: 1\n"
    "    upscale_delay_seconds: 60\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  use_spot: false\n"
    "run: serve\n";

/* 0.5 requests/s, then 3.5 from 600 s: the routers' reports make the
 * autoscaler add replicas (4 wanted); without the step one is enough. */
static void test_load_step_scales_up(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace step, flat;
    struct sim_serve_result res;

    (void)state;
    reqtrace_init(&step);
    reqtrace_init(&flat);
    add_load(&step, 0, 600, 0.5, 200, 20, "gcp/us-central1");
    add_load(&step, 600, 1500, 3.5, 200, 20, "gcp/us-central1");
    add_load(&flat, 0, 1500, 0.5, 200, 20, "gcp/us-central1");
    run(cat, spec_scale, &step, NULL, 1, &res);
    assert_true(res.max_ready >= 4);
    assert_true(res.replicas_launched >= 4);
    assert_int_equal(res.failed, 0);
    run(cat, spec_scale, &flat, NULL, 1, &res);
    assert_int_equal(res.max_ready, 1);
    assert_int_equal(res.replicas_launched, 1);
    reqtrace_free(&step);
    reqtrace_free(&flat);
    catalog_free(cat);
}

/* Requests without a region take the spec's users (seeded): a far share
 * raises the tail above the RTT to it. */
static const char spec_users[] =
    "name: users\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replicas: 2\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  use_spot: true\n"
    "run: serve\n"
    "stratus:\n"
    "  service:\n"
    "    users: {gcp/us-central1: 0.5, gcp/asia-northeast1: 0.5}\n"
    "    latency_slo_ms: 100\n";

static void same_numbers(const struct sim_serve_result *a, const struct sim_serve_result *b)
{
    struct sim_serve_result x = *a, y = *b;

    x.wall_s = y.wall_s = 0;
    assert_memory_equal(&x, &y, sizeof(x));
}

/* Same inputs and seed: the same numbers, field for field. */
static void test_deterministic(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result a, b;
    double rtt = catalog_rtt_ms(cat, "gcp", "asia-northeast1", "gcp", "us-central1", NULL) / 1000;

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 1800, 2, 100, 50, NULL);
    run(cat, spec_users, &rt, NULL, 5, &a);
    run(cat, spec_users, &rt, NULL, 5, &b);
    same_numbers(&a, &b);
    /* half the users are an ocean away: the 90th percentile holds their RTT,
     * and about half the requests miss the 100 ms objective */
    assert_true(a.ttft_s[1] >= rtt);
    assert_true(a.within_slo < a.served * 6 / 10);
    assert_true(a.within_slo > a.served * 3 / 10);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* Up at time 0: the first replica is ready after launch (60 s) and warm-up
 * (120 s).  Requests wait for it up to max_wait_seconds: with 60 s the
 * first ~2 minutes of them time out, with 600 s every one is served. */
static const char spec_wait[] =
    "name: wait\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replicas: 1\n"
    "resources:\n"
    "  cloud: gcp\n"
    "  region: us-central1\n"
    "  accelerators: L4:1\n"
    "  use_spot: false\n"
    "run: serve\n"
    "stratus:\n"
    "  service:\n"
    "    max_wait_seconds: %d\n";

static void test_wait_for_first_replica(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result res;
    char spec[sizeof(spec_wait) + 16];

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 600, 1, 100, 10, "gcp/us-central1");
    lead_s = 0;
    snprintf(spec, sizeof(spec), spec_wait, 60);
    run(cat, spec, &rt, NULL, 1, &res);
    /* arrivals before ~120 s cannot be served within 60 s of arriving */
    assert_true(res.unrouted >= 100 && res.unrouted <= 130);
    assert_int_equal(res.failed, res.unrouted);
    snprintf(spec, sizeof(spec), spec_wait, 600);
    run(cat, spec, &rt, NULL, 1, &res);
    assert_int_equal(res.failed, 0);
    /* the first request waited for the replica: the tail shows it */
    assert_true(res.ttft_s[2] >= 100);
    lead_s = 600;
    reqtrace_free(&rt);
    catalog_free(cat);
}

static void test_bad_spec(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_input in;
    struct sim_serve_policy pol = {"stratus", SSP_STRATUS, NULL};
    struct sim_serve_result res;
    struct err e;

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 10, 1, 10, 10, NULL);
    serve_input(&in, cat, &rt, "job.yaml", "name: job\nresources:\n  accelerators: L4:1\nrun: x\n");
    err_clear(&e);
    assert_int_not_equal(sim_serve_run(&in, &pol, &res, &e), 0);
    assert_non_null(strstr(e.msg, "job.yaml"));
    assert_non_null(strstr(e.msg, "service:"));
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* A service with spot and on-demand alternatives on Google Cloud, one
 * on-demand base replica, users in the Netherlands (Google's cheapest L4s
 * are in Seoul and the US) and an objective only replicas near them meet.
 * The cloud is pinned: AWS sells spot L4s for less in Spain, next to these
 * users, which would leave a price-only pick nothing to get wrong. */
static const char spec_mixed[] =
    "name: mixed\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replica_policy:\n"
    "    min_replicas: 3\n"
    "    max_replicas: 3\n"
    "    base_ondemand_fallback_replicas: 1\n"
    "resources:\n"
    "  accelerators: L4:1\n"
    "  infra: gcp\n"
    "  any_of:\n"
    "    - use_spot: true\n"
    "    - use_spot: false\n"
    "run: serve\n"
    "stratus:\n"
    "  service:\n"
    "    users: {gcp/europe-west4: 1}\n"
    "    latency_slo_ms: 40\n";

/* The same on an accelerator two clouds sell (gcp and azure). */
static const char spec_a100[] =
    "name: a100\n"
    "service:\n"
    "  readiness_probe: /health\n"
    "  replicas: 2\n"
    "resources:\n"
    "  accelerators: A100-80GB:1\n"
    "  any_of:\n"
    "    - use_spot: true\n"
    "    - use_spot: false\n"
    "run: serve\n";

static int clouds_paid(const struct sim_serve_result *r)
{
    int c, n = 0;

    for (c = 0; c < SIM_NCLOUDS; c++)
        n += r->cost_by_cloud[c] > 0;
    return n;
}

/* Each policy does what it promises: ondemand never buys spot and stays in
 * one cloud (the org policy's first); spot-only never buys on demand;
 * stratus keeps its on-demand base and buys spot; skyserve-like, blind to
 * where the users are, answers them later than stratus, which placed its
 * replicas near them. */
static void test_policies_keep_their_promises(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result st, od, so, sk, oda;
    struct sim_serve_policy p_st = {"stratus", SSP_STRATUS, NULL};
    struct sim_serve_policy p_od = {"ondemand", SSP_ONDEMAND, NULL};
    struct sim_serve_policy p_so = {"spot-only", SSP_SPOT_ONLY, NULL};
    struct sim_serve_policy p_sk = {"skyserve-like", SSP_SKYSERVE, NULL};
    struct sim_serve_policy p_oda = {"ondemand", SSP_ONDEMAND,
                                     "rules:\n  - name: r\n    prefer: [azure]\n"};

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 1800, 1, 200, 20, "gcp/europe-west4");
    run_as(cat, spec_mixed, &rt, NULL, 1, &p_st, &st);
    run_as(cat, spec_mixed, &rt, NULL, 1, &p_od, &od);
    run_as(cat, spec_mixed, &rt, NULL, 1, &p_so, &so);
    run_as(cat, spec_mixed, &rt, NULL, 1, &p_sk, &sk);
    run_as(cat, spec_a100, &rt, NULL, 1, &p_oda, &oda);
    assert_true(od.spot_cost == 0 && od.spot_replica_hours == 0 && od.cost > 0);
    assert_int_equal(clouds_paid(&od), 1);
    /* without an org policy: the cheapest on-demand L4 is on gcp; with one
     * that prefers azure: azure, although gcp sells A100s for less */
    assert_true(od.cost_by_cloud[1] == od.cost);
    assert_true(oda.cost_by_cloud[0] > 0 && oda.cost_by_cloud[0] == oda.cost);
    assert_true(so.ondemand_cost == 0 && so.spot_cost > 0);
    assert_true(st.ondemand_cost > 0 && st.spot_cost > 0);
    assert_true(st.cost < od.cost);
    assert_string_equal(st.name, "stratus");
    assert_string_equal(sk.name, "skyserve-like");
    /* near replicas answer within the RTT objective; blind ones do not */
    /* near replicas: a 200-token prompt on an L4 (~60 ms), no RTT; blind
     * ones: Seoul or the US, 100+ ms away */
    assert_true(st.ttft_s[0] < 0.1);
    assert_true(sk.ttft_s[0] > st.ttft_s[0] + 0.1);
    reqtrace_free(&rt);
    catalog_free(cat);
}

/* The series for the chart account for what the totals say: spend by
 * bucket sums to the cost, replica-buckets to the replica-hours. */
static void test_series_add_up(void **state)
{
    struct catalog *cat = cat_load();
    struct reqtrace rt;
    struct sim_serve_result r;
    struct sim_serve_input in;
    struct sim_serve_policy pol = {"stratus", SSP_STRATUS, NULL};
    struct err e;
    double usd = 0, rh = 0;
    size_t k, served = 0;

    (void)state;
    reqtrace_init(&rt);
    add_load(&rt, 0, 1800, 1, 200, 20, "gcp/asia-northeast1");
    serve_input(&in, cat, &rt, "test.yaml", spec_mixed);
    in.series = 1;
    err_clear(&e);
    assert_int_equal(sim_serve_run(&in, &pol, &r, &e), 0);
    assert_true(r.nbuckets >= (1800 + 600) / r.bucket_s);
    assert_true(r.t_start_s == -lead_s);
    for (k = 0; k < SIM_NCLOUDS * r.nbuckets; k++) {
        /* the last bucket holds only the end of the run: its count is a
         * mean over what it holds */
        double wid = k % r.nbuckets == r.nbuckets - 1
                         ? r.span_s - (double)(r.nbuckets - 1) * r.bucket_s
                         : r.bucket_s;

        usd += r.usd[k];
        rh += r.replicas[k] * wid / 3600;
    }
    assert_true(fabs(usd - r.cost) < 1e-6 * r.cost);
    assert_true(fabs(rh - r.replica_hours) < 1e-6 * r.replica_hours);
    for (k = 0; k < r.nbuckets; k++) {
        if (isnan(r.ttft[k]))
            continue;
        served++;
        assert_true(r.ttft[k] <= r.ttft[r.nbuckets + k] &&
                    r.ttft[r.nbuckets + k] <= r.ttft[2 * r.nbuckets + k]);
    }
    /* the lead has no requests; every minute of the trace has some */
    assert_true(isnan(r.ttft[0]));
    assert_true(served >= 1800 / r.bucket_s);
    sim_serve_result_free(&r);
    reqtrace_free(&rt);
    catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_far_user_sees_rtt),
        cmocka_unit_test(test_preemption_retries_none_lost),
        cmocka_unit_test(test_preemption_cuts_streams),
        cmocka_unit_test(test_notice_drains_none_lost),
        cmocka_unit_test(test_load_step_scales_up),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_wait_for_first_replica),
        cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_policies_keep_their_promises),
        cmocka_unit_test(test_series_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
