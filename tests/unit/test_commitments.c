/*
 * test_commitments.c - committed capacity: the commitments file (new and old
 * columns, errors with file:line:col), its fixed cost over a window, the
 * controller never running more nodes on a commitment than it holds (also
 * across a restart), the simulator's charge, and the advisor's choice on
 * usage curves whose best node count is known by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "schedtest.h"
#include "util/fsutil.h"
#include "testutil.h"
#include "plan/plan.h"
#include "policy/policy.h"
#include "sim/advise.h"
#include "sim/trace.h"

#define SCHED_CAT TEST_DATA "/sched/catalog"
#define DAY 86400.0
#define HOUR 3600.0

static struct catalog *load_cat(void)
{
    struct catalog *cat = NULL;
    struct err e;

    err_clear(&e);
    if (catalog_load(&cat, SCHED_CAT, &e) != 0)
        fail_msg("%s", e.msg);
    return cat;
}

static void test_format(void **state)
{
    struct catalog *cat = load_cat();
    const struct commitment *m;
    struct err e;

    (void)state;
    assert_int_equal(st_load_commitments(
                         cat,
                         "cloud,region,zone,instance_type,nodes,term,start,discount,"
                         "price_hour\n"
                         "azure,eastus,,Standard_ND96isr_H100_v5,3,1y,2026-01-01,37%,\n"
                         "gcp,us-central1,,a3-highgpu-8g,2,6m,2026-03-01,,50\n",
                         &e),
                     0);
    assert_int_equal(catalog_ncommitments(cat), 2);
    m = catalog_commitment(cat, 0);
    assert_int_equal(m->count, 3);
    assert_true(m->start == 1767225600.0);           /* 2026-01-01 */
    assert_true(m->end == 1767225600.0 + 365 * DAY); /* one calendar year on */
    assert_true(fabs(m->discount - 0.37) < 1e-12);
    assert_true(fabs(m->price_hour - 96.0 * 0.63) < 1e-9); /* off the list price */
    m = catalog_commitment(cat, 1);
    assert_true(m->price_hour == 50 && m->discount == 0);
    assert_true(m->end ==
                1772323200.0 + (31 + 30 + 31 + 30 + 31 + 31) * DAY); /* 2026-09-01 */
    /* the old columns still read */
    assert_int_equal(
        st_load_commitments(cat,
                            "cloud,region,zone,instance_type,count,start,end,price_hour\n"
                            "azure,eastus,,Standard_ND96isr_H100_v5,4,,,60\n",
                            &e),
        0);
    assert_int_equal(catalog_ncommitments(cat), 1);
    assert_int_equal(catalog_commitment(cat, 0)->count, 4);
    assert_true(catalog_commitment(cat, 0)->end == 0);
    catalog_free(cat);
}

struct bad {
    const char *row;    /* after the header below */
    const char *expect; /* substring of the message */
};

static const char HDR[] =
    "cloud,region,zone,instance_type,nodes,term,start,end,price_hour,"
    "discount,count\n";

static const struct bad bads[] = {
    {"azure,eastus,,Standard_ND96isr_H100_v5,,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:40: missing 'nodes'"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,0.3,2\n",
     "c.csv:2:62: give 'nodes' or its old name 'count', not both"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1w,2026-01-01,,,0.3,\n",
     "c.csv:2:42: column 'term': '1w' is not a term like 1y"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,,,,0.3,\n",
     "c.csv:2:42: a term needs a start date"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,2027-01-01,,0.3,\n",
     "c.csv:2:56: give 'term' or 'end', not both"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,,\n",
     "c.csv:2:57: missing price: give 'price_hour'"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,50,0.3,\n",
     "c.csv:2:60: give 'price_hour' or 'discount', not both"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,1.5,\n",
     "c.csv:2:58: column 'discount': '1.5' is not a fraction in [0, 1)"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,-3,,\n",
     "c.csv:2:57: price_hour must be from 0 to 100000 (USD per committed node-hour), not "
     "-3"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,1e308,,\n",
     "c.csv:2:57: price_hour must be from 0 to 100000 (USD per committed node-hour), not "
     "1e308"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,9999y,2026-01-01,,,0.3,\n",
     "c.csv:2:42: column 'term': '9999y' is not a term like 1y, 3y, 6m or 90d (a number "
     "from 1 to 100, then y, m or d)"},
    {"azure,eastus,,ND_H100,2,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:15: no offer ND_H100 in azure/eastus to commit to"},
    /* a zone that does not sell it: at the zone, with the zones that do
     * (the instance type's column before; helper-101) */
    {"azure,eastus,1,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:14: azure/eastus has no zones in the catalog: leave zone empty"},
    {"gcp,us-central1,us-central1-b,a3-highgpu-8g,2,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:17: a3-highgpu-8g is not sold in zone us-central1-b of gcp/us-central1; "
     "its "
     "zones there: us-central1-a (or leave zone empty"},
    {"gcp,us-central1,us-central1-a,ND_H100,2,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:31: no offer ND_H100 in gcp/us-central1 to commit to"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,0,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:40: column 'nodes'"},
    {"azure,westus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,0.3,\n",
     "c.csv:2:7: unknown region 'azure/westus'"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-02-30,,,0.3,\n",
     "c.csv:2:45: column 'start': '2026-02-30' is not a day of the calendar"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,,2023-01-01,1970-01-01,,0.3,\n",
     "c.csv:2:54: column 'end': '1970-01-01' is before 2000"},
    {"azure,eastus,,Standard_ND96isr_H100_v5,2,1y,2026-01-01,,,0.3,,9\n",
     "c.csv:2: more fields than the header's 11 columns"},
};

static void test_errors(void **state)
{
    struct catalog *cat = load_cat();
    size_t i;

    (void)state;
    assert_int_equal(st_load_commitments(
                         cat,
                         "cloud,region,zone,instance_type,nodes,term,start,price_hour\n"
                         "azure,eastus,,Standard_ND96isr_H100_v5,1,1y,2026-01-01,40\n",
                         &(struct err){0}),
                     0);
    for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        char *text = xasprintf("%s%s", HDR, bads[i].row);
        struct err e;
        int rc = st_load_commitments(cat, text, &e);

        if (rc == 0 || strstr(e.msg, bads[i].expect) == NULL)
            fail_msg("case %zu: rc=%d, message '%s' lacks '%s'", i, rc, e.msg,
                     bads[i].expect);
        /* a failed load keeps the commitments the catalog had */
        assert_int_equal(catalog_ncommitments(cat), 1);
        assert_true(catalog_commitment(cat, 0)->price_hour == 40);
        free(text);
    }
    catalog_free(cat);
}

static void test_cost_window(void **state)
{
    struct commitment m = {"azure",       "eastus",      "", "X", 2,
                           1000.0 * 3600, 2000.0 * 3600, 10, 0,   0};
    struct commitment open = m;

    (void)state;
    /* 2 nodes x $10 x the hours of [1000 h, 2000 h) inside the window */
    assert_true(fabs(catalog_commitment_cost(&m, 0, 1500.0 * 3600) - 2 * 10 * 500) <
                1e-9);
    assert_true(fabs(catalog_commitment_cost(&m, 0, 9000.0 * 3600) - 2 * 10 * 1000) <
                1e-9);
    assert_true(catalog_commitment_cost(&m, 2000.0 * 3600, 3000.0 * 3600) == 0);
    assert_true(catalog_commitment_cost(&m, 0, 999.0 * 3600) == 0);
    open.start = 0;
    open.end = 0;
    assert_true(fabs(catalog_commitment_cost(&open, 100.0 * 3600, 110.0 * 3600) - 200) <
                1e-9);
}

/* The simulator charges every run the same fixed cost over the study. */
static void test_sim_charge(void **state)
{
    struct catalog *cat = load_cat();
    struct trace tr;
    struct trace_job jobs[2];
    struct sim_input in;
    struct sim_result r;
    struct err e;
    double t0 = 1767225600.0; /* 2026-01-01 */

    (void)state;
    assert_int_equal(
        st_load_commitments(cat,
                            "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                            "azure,eastus,,Standard_ND96isr_H100_v5,3,2026-01-02,,50\n"
                            "gcp,us-central1,,a3-highgpu-8g,1,2025-01-01,2026-01-01,70\n",
                            &e),
        0);
    memset(&in, 0, sizeof(in));
    memset(&r, 0, sizeof(r));
    memset(jobs, 0, sizeof(jobs));
    trace_init(&tr);
    jobs[0].submit_s = 0;
    jobs[0].duration_s = 3600;
    jobs[1].submit_s = 2 * DAY;
    jobs[1].duration_s = 2 * DAY; /* the study ends at day 4 without a run's end */
    tr.jobs = jobs;
    tr.njobs = 2;
    in.cat = cat;
    in.work = &tr;
    in.t0 = t0;
    r.cost = 100;
    r.cost_by_cloud[0] = 100;
    sim_charge_commitments(&in, 3 * DAY, &r); /* the runs were done by day 3 */
    assert_true(fabs(r.commit_cost - 3 * 50 * 48) <
                1e-6); /* day 1 to 3; the gcp one ended */
    assert_true(fabs(r.cost - 100 - 3 * 50 * 48) < 1e-6);
    assert_true(fabs(r.cost_by_cloud[0] - 100 - 3 * 50 * 48) < 1e-6);
    memset(&r, 0, sizeof(r));
    sim_charge_commitments(&in, 0, &r);
    assert_true(fabs(r.commit_cost - 3 * 50 * 72) < 1e-6);
    tr.jobs = NULL;
    tr.njobs = 0;
    trace_free(&tr);
    catalog_free(cat);
}

/* ---- the controller ---- */

static const char *const H100_2H = "name: h100\n"
                                   "resources:\n"
                                   "  accelerators: H100:8\n"
                                   "  use_spot: false\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  duration: 2h\n";

struct watch {
    long max_committed; /* most nodes on committed attempts at once */
    int restarted;
};

/* Nodes of committed attempts live in the store (world: that the world
 * runs now); *cost (if given) adds their costs and prices. */
static long committed_nodes(struct st *w, int world, double *cost)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t n = 0, i;
    long nodes = 0;

    err_clear(&e);
    if (store_attempt_page(w->store, 0, 0, &v, &n, &e) != 0)
        st_die("store_attempt_page", e.msg);
    for (i = 0; i < n; i++) {
        if (v[i].mode != PLAN_COMMITTED)
            continue;
        if (world ? (size_t)v[i].id < w->natt && w->att[v[i].id].live
                  : v[i].state != ATT_ENDED)
            nodes += v[i].nodes;
        if (cost)
            *cost += v[i].cost + v[i].price_hour;
    }
    store_attempts_free(v, n);
    return nodes;
}

static long live_committed(struct st *w, double *cost)
{
    return committed_nodes(w, 0, cost);
}

static int watch_step(struct st *w, void *ctx)
{
    struct watch *x = ctx;
    long c = live_committed(w, NULL);

    x->max_committed = c > x->max_committed ? c : x->max_committed;
    /* a controller killed while the commitment is full must not forget it */
    if (c == 2 && !x->restarted) {
        x->restarted = 1;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

/* Commit `nodes` ND H100 v5 nodes in azure/eastus (1 year from 2026). */
static void commit_nd(struct st *w, int nodes)
{
    char *text = xasprintf("cloud,region,zone,instance_type,nodes,term,start,discount\n"
                           "azure,eastus,,Standard_ND96isr_H100_v5,%d,1y,2026-01-01,0.3\n",
                           nodes);
    struct err e;

    if (st_load_commitments(w->cat, text, &e) != 0)
        fail_msg("%s", e.msg);
    free(text);
}

static void test_sched_never_oversubscribes(void **state)
{
    struct st w;
    struct watch x = {0, 0};
    double cost = 0;
    int64_t ids[6];
    int i, committed = 0, ondemand = 0;

    (void)state;
    st_init(&w, NULL);
    /* 2 committed nodes of the 4 on-demand ones in azure/eastus; the
     * cheapest on demand is gcp (80 < 96): committed must still come first */
    commit_nd(&w, 2);
    for (i = 0; i < 6; i++)
        ids[i] = st_submit(&w, H100_2H);
    st_start(&w);
    assert_true(st_run_until(&w, watch_step, &x, ST_T0 + DAY));
    assert_true(x.restarted);
    assert_int_equal(x.max_committed, 2);
    for (i = 0; i < 6; i++) {
        struct store_attempt a = st_attempt(&w, ids[i], 1);

        committed += a.mode == PLAN_COMMITTED;
        ondemand += a.mode == PLAN_ONDEMAND;
        if (a.mode == PLAN_COMMITTED)
            assert_string_equal(a.region, "eastus");
        store_attempt_clear(&a);
    }
    assert_int_equal(committed, 2); /* the first two took it, the rest moved on */
    assert_int_equal(ondemand, 4);
    (void)live_committed(&w, &cost);
    assert_true(cost == 0); /* prepaid: no marginal compute */
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

/* A committed attempt that outlives its commitment is billed on demand from
 * the commitment's end, in the store (what `stratus cost` sums), as the
 * simulator bills it: one committed ND node until an hour after the start,
 * a 2-hour job that may not use spot launched at once, so about an hour at
 * $0 and the rest at the offer's list price.  With `again`, a second
 * commitment of the group starts at 1.5 h: $0 again from then.  With
 * `restart`, the controller is killed and opened again after the end (it
 * decides from now and the stored prices: nothing is billed twice). */
struct ends_watch {
    int restart, restarted;
};

static int ends_step(struct st *w, void *ctx)
{
    struct ends_watch *x = ctx;

    if (x->restart && !x->restarted && w->t > ST_T0 + 3600 + 600) {
        x->restarted = 1;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

static void commitment_ends(int restart, int again)
{
    struct ends_watch x = {restart, 0};
    struct store_attempt a;
    struct st w;
    struct err e;
    double list, billed;
    int64_t id;

    st_init(&w, NULL);
    if (st_load_commitments(
            w.cat,
            again ? "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                    "azure,eastus,,Standard_ND96isr_H100_v5,1,,2026-09-21T15:13:20Z,30\n"
                    "azure,eastus,,Standard_ND96isr_H100_v5,1,2026-09-21T15:43:20Z,,30\n"
                  : "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                    "azure,eastus,,Standard_ND96isr_H100_v5,1,,2026-09-21T15:13:20Z,30\n",
            &e) != 0)
        fail_msg("%s", e.msg);
    id = st_submit(&w, H100_2H);
    st_start(&w);
    assert_true(st_run_until(&w, ends_step, &x, ST_T0 + DAY));
    assert_int_equal(x.restarted, restart);
    a = st_attempt(&w, id, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_true(a.running_at > ST_T0 && a.running_at < ST_T0 + 3600);
    list = catalog_list_price(w.cat, "azure", "eastus", "Standard_ND96isr_H100_v5");
    assert_true(list > 0);
    billed = again ? 1800 : a.ended_at - (ST_T0 + 3600);
    print_message("list $%.2f, attempt $%.2f for %.0f s past the end\n", list, a.cost, billed);
    assert_true(fabs(a.cost - list * a.nodes * billed / 3600) < 1e-6);
    store_attempt_clear(&a);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

/* The bill follows who holds the committed nodes, node by node (a review
 * found it decided only at a commitment's ends, and per whole attempt).
 * Two ND nodes committed, one of them until 1 h: with `gang`, a 3-node gang
 * (its first 3 nodes committed until 1 h, 2 more with no end) and a 1-node
 * job, each 2 h: past 1 h the gang keeps 2 of its 3 nodes and the job none,
 * so 2 nodes pay the list price; else a 90-minute job and a 4-hour one: past
 * 1 h the newer pays, and only until the older ends. */
static void bill_follows(int gang)
{
    struct store_attempt a, b;
    struct st w;
    struct err e;
    double list, t1 = ST_T0 + 3600, want;
    int64_t x, y;

    st_init(&w, NULL);
    if (st_load_commitments(
            w.cat,
            gang ? "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                   "azure,eastus,,Standard_ND96isr_H100_v5,3,,2026-09-21T15:13:20Z,30\n"
                   "azure,eastus,,Standard_ND96isr_H100_v5,2,,,30\n"
                 : "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                   "azure,eastus,,Standard_ND96isr_H100_v5,1,,,30\n"
                   "azure,eastus,,Standard_ND96isr_H100_v5,1,,2026-09-21T15:13:20Z,30\n",
            &e) != 0)
        fail_msg("%s", e.msg);
    if (gang)
        st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 8, 4);
    x = st_submit(&w, gang ? "name: g\nnum_nodes: 3\nresources:\n  accelerators: H100:8\n"
                             "  use_spot: false\nrun: train\nstratus:\n  duration: 2h\n"
                           : "name: a\nresources:\n  accelerators: H100:8\n  use_spot: false\n"
                             "run: train\nstratus:\n  duration: 90m\n");
    y = st_submit(&w, gang ? H100_2H
                           : "name: b\nresources:\n  accelerators: H100:8\n  use_spot: false\n"
                             "run: train\nstratus:\n  duration: 4h\n");
    st_start(&w);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    a = st_attempt(&w, x, 1);
    b = st_attempt(&w, y, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(b.mode, PLAN_COMMITTED);
    assert_true(a.launched_at <= b.launched_at);
    list = catalog_list_price(w.cat, "azure", "eastus", "Standard_ND96isr_H100_v5");
    /* gang: 1 of its 3 nodes and the job's 1, each until its end; else the
     * newer from 1 h until the older ends */
    want = gang ? list * ((a.ended_at - t1) + (b.ended_at - t1)) / 3600
                : list * (a.ended_at - t1) / 3600;
    print_message("list $%.2f: $%.2f + $%.2f, want $%.2f\n", list, a.cost, b.cost, want);
    assert_true(fabs(a.cost + b.cost - want) < 1e-6);
    if (!gang)
        assert_true(a.cost == 0);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

/* The bill covers on-demand nodes too, as the clouds' invoices do (a
 * review: only the simulator gave them back; `stratus cost` billed them at
 * list price while committed nodes stood idle).  One ND node committed; a
 * 2-hour job takes it, and a 4-hour job of `gang` nodes that may not use
 * spot pays on demand beside it.  Once the first ends, the commitment covers
 * one node of the second: all of it (gang 1), or half (gang 2).  With
 * `restart`, the controller is killed and opened again while it is covered:
 * the covered price is kept, not put back to the list price. */
struct cover_watch {
    int64_t od;
    int restart, restarted;
};

static int cover_step(struct st *w, void *ctx)
{
    struct cover_watch *x = ctx;

    if (x->restart && !x->restarted && w->t > ST_T0 + 3 * 3600) {
        x->restarted = 1;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

static void on_demand_covered(int gang, int restart)
{
    static const char *const ON_AZURE = "resources:\n  cloud: azure\n  region: eastus\n"
                                        "  accelerators: H100:8\n  use_spot: false\n"
                                        "run: train\nstratus:\n";
    struct cover_watch x = {0, restart, 0};
    struct store_attempt a, b;
    struct st w;
    struct err e;
    double list, t, want;
    int64_t c;
    char *spec;

    st_init(&w, NULL);
    if (st_load_commitments(w.cat,
                            "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                            "azure,eastus,,Standard_ND96isr_H100_v5,1,,,30\n",
                            &e) != 0)
        fail_msg("%s", e.msg);
    spec = xasprintf("name: c\n%s  duration: 2h\n", ON_AZURE);
    c = st_submit(&w, spec);
    free(spec);
    spec = xasprintf("name: d\nnum_nodes: %d\n%s  duration: 4h\n", gang, ON_AZURE);
    x.od = st_submit(&w, spec);
    free(spec);
    st_start(&w);
    assert_true(st_run_until(&w, cover_step, &x, ST_T0 + DAY));
    assert_int_equal(x.restarted, restart);
    a = st_attempt(&w, c, 1);
    b = st_attempt(&w, x.od, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(b.mode, PLAN_ONDEMAND);
    assert_int_equal(b.nodes, gang);
    assert_string_equal(b.instance_type, "Standard_ND96isr_H100_v5");
    assert_true(a.ended_at > b.running_at && a.ended_at < b.ended_at);
    list = catalog_list_price(w.cat, "azure", "eastus", "Standard_ND96isr_H100_v5");
    /* every node at list price until the committed job ends; then one
     * covered (the attempt's cost holds the data move too: none here) */
    t = a.ended_at;
    want = list * gang * (t - b.running_at) / 3600 +
           list * (gang - 1) * (b.ended_at - t) / 3600;
    print_message("gang %d: list $%.2f, attempt $%.2f, want $%.2f\n", gang, list, b.cost,
                  want);
    assert_true(b.egress == 0);
    assert_true(fabs(b.cost - want) < 1e-6);
    assert_true(a.cost == 0);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

static void test_on_demand_covered(void **state)
{
    (void)state;
    on_demand_covered(1, 0);
    on_demand_covered(2, 0);
    on_demand_covered(1, 1);
    on_demand_covered(2, 1);
}

/* A zone-bound commitment (an AWS zonal reserved instance) covers machines
 * in its zone alone (a review: the bill let it cover any zone of its
 * region).  One a3-highgpu-8g node committed in us-central1-a; a 2-hour job
 * runs on it, and a 4-hour on-demand job beside it in zone `zone`: once the
 * first ends, the commitment covers the second in zone a, and not in b. */
static void zonal_cover(const char *zone)
{
    struct st_opts o = {0};
    struct store_attempt a, b;
    struct st w;
    struct err e;
    double list, want;
    int64_t c, d;
    char *dir = tu_mkdtemp(), *offers, *text = NULL, *spec;
    size_t len;

    /* the sched fixture with a second zone of us-central1 */
    tu_copy_dir(TEST_DATA "/sched/catalog", dir);
    offers = xasprintf("%s/offers.csv", dir);
    if (fs_read_file(offers, 1 << 20, &text, &len, &e) != 0)
        fail_msg("%s", e.msg);
    free(offers);
    offers = xasprintf("%sgcp,us-central1,us-central1-b,a3-highgpu-8g,H100,8,80,208,1872,"
                       "tcpx,,80.00,20.00\n",
                       text);
    tu_write(dir, "offers.csv", offers);
    o.catalog = dir;
    st_init(&w, &o);
    if (st_load_commitments(w.cat,
                            "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                            "gcp,us-central1,us-central1-a,a3-highgpu-8g,1,,,20\n",
                            &e) != 0)
        fail_msg("%s", e.msg);
    c = st_submit(&w, "name: c\nresources:\n  cloud: gcp\n  region: us-central1\n"
                      "  accelerators: H100:8\n  use_spot: false\n"
                      "run: train\nstratus:\n  duration: 2h\n");
    spec = xasprintf("name: d\nresources:\n  cloud: gcp\n  region: us-central1\n"
                     "  zone: %s\n  accelerators: H100:8\n  use_spot: false\n"
                     "run: train\nstratus:\n  duration: 4h\n",
                     zone);
    d = st_submit(&w, spec);
    st_start(&w);
    st_run_all(&w, ST_T0 + DAY);
    a = st_attempt(&w, c, 1);
    b = st_attempt(&w, d, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_string_equal(a.zone, "us-central1-a");
    assert_int_equal(b.mode, PLAN_ONDEMAND);
    assert_string_equal(b.zone, zone);
    assert_true(a.ended_at > b.running_at && a.ended_at < b.ended_at);
    list = 80;
    want = strcmp(zone, "us-central1-a") == 0
               ? list * (a.ended_at - b.running_at) / 3600 /* then covered */
               : list * (b.ended_at - b.running_at) / 3600;
    print_message("zone %s: attempt $%.2f, want $%.2f\n", zone, b.cost, want);
    assert_true(fabs(b.cost - want) < 1e-6);
    assert_true(a.cost == 0);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    assert_int_equal(w.violations, 0);
    st_free(&w);
    tu_rmdir(dir);
    free(dir);
    free(text);
    free(offers);
    free(spec);
}

static void test_zonal_covers_its_zone(void **state)
{
    (void)state;
    zonal_cover("us-central1-a");
    zonal_cover("us-central1-b");
}

static void test_commitment_ends(void **state)
{
    (void)state;
    commitment_ends(0, 0);
    commitment_ends(1, 0);
    commitment_ends(0, 1);
    commitment_ends(1, 1);
    bill_follows(0);
    bill_follows(1);
}

/* Backfill: jobs that would take spot take committed nodes no on-demand
 * attempt needs, and give them back to one that would pay on demand.  Two
 * 4-hour jobs that may use spot (GCP spot at $20 is their first choice
 * without the commitment) take azure/eastus's two committed nodes; then a
 * job that may not use spot arrives: a backfill attempt is stopped (the
 * newest; these two started together) and it takes the committed node, and the stopped job goes on (to spot)
 * from its checkpoint.  Never more than the two committed nodes at once. */
static const char *const ANY_4H = "name: s\nresources:\n  accelerators: H100:8\n"
                                  "run: train\nstratus:\n  duration: 4h\n";
static const char *const ANY_4H_CK =
    "name: s\nresources:\n  accelerators: H100:8\n"
    "run: train\nstratus:\n  duration: 4h\n"
    "  checkpoint:\n    interval: 10m\n    restore: 5m\n";

/* Two jobs of `spec` (that may take spot) started, and an hour after they
 * run, a 2-hour job that may not use spot submitted: its id. */
static int64_t backfill_two(struct st *w, const char *spec, int64_t *s1, int64_t *s2)
{
    *s1 = st_submit(w, spec);
    *s2 = st_submit(w, spec);
    st_start(w);
    assert_true(st_run_until_state(w, *s2, JOB_RUNNING, ST_T0 + DAY));
    st_run_to(w, w->t + 3600);
    return st_submit(w, H100_2H);
}

/* One ND H100 v5 node of azure/eastus committed, and a job of `spec` (that
 * may take spot) started on it: its id. */
static int64_t backfill_one(struct st *w, const char *spec)
{
    int64_t id;

    commit_nd(w, 1);
    id = st_submit(w, spec);
    st_start(w);
    assert_true(st_run_until_state(w, id, JOB_RUNNING, ST_T0 + DAY));
    return id;
}

struct bf_watch {
    long top;        /* most committed nodes at once */
    long top_world;  /* ... that the world ran, looked at every commit */
    int64_t od;      /* the job that takes them back */
    int restart;     /* kill the controller once it has launched it */
    int twice;       /* kill the next one too, right after its first commit */
};

static void world_watch(struct st *w, uint64_t k, void *ctx)
{
    struct bf_watch *x = ctx;
    long c = committed_nodes(w, 1, NULL);

    (void)k;
    x->top_world = c > x->top_world ? c : x->top_world;
}

static int max_committed(struct st *w, void *ctx)
{
    struct bf_watch *x = ctx;
    long c = live_committed(w, NULL);

    x->top = c > x->top ? c : x->top;
    world_watch(w, 0, x);
    if (x->twice && w->kills == 1) {
        x->twice = 0;
        st_kill_at_commit(w, w->fault->commits + 1, 1);
    }
    if (x->restart && st_job_state(w, x->od) != JOB_PENDING) {
        x->restart = 0;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

/* restart 1: the controller is also killed right after the step that gave
 * the nodes back and launched the job that took them (nothing is lost,
 * nothing runs twice).  restart 2: it is killed while both backfill
 * attempts run, before it has seen the job that would pay on demand: the
 * one that opens then knows them as backfill from the store and gives one
 * back (a review found a restart left them as committed until they ended).
 * restart 3: it is killed at the commit of the step that gave the nodes
 * back, before it stopped the backfill attempt or launched the job that
 * took them: the one that opens then stops it before it launches (a review
 * found the world running three committed nodes for an instant).
 * restart 4: as 3, and the next controller is killed too, right after its
 * first step commits: that step took the stop filed as a request and filed
 * it again, not having made it, so the one after makes it (a review found
 * the stopped attempt running on for hours beside its job's next one). */
static void backfill_given_back(int restart)
{
    struct store_attempt a1, a2, b2, d;
    struct store_job j2;
    struct bf_watch x = {0, 0, 0, restart == 1, restart == 4};
    struct st w;
    int64_t s1, s2, od;

    st_init(&w, NULL);
    commit_nd(&w, 2);
    w.on_commit = world_watch;
    w.on_commit_ctx = &x;
    od = x.od = backfill_two(&w, ANY_4H, &s1, &s2);
    if (restart == 2)
        st_restart(&w);
    if (restart >= 3)
        st_kill_at_commit(&w, w.fault->commits + 1, 1);
    assert_true(st_run_until(&w, max_committed, &x, ST_T0 + 2 * DAY));
    assert_int_equal(x.restart, 0);
    a1 = st_attempt(&w, s1, 1);
    assert_true(a1.backfill_spot > 0); /* the spot price it would pay instead */
    a2 = st_attempt(&w, s2, 1);
    d = st_attempt(&w, od, 1);
    /* both took the committed nodes rather than spot */
    assert_int_equal(a1.mode, PLAN_COMMITTED);
    assert_int_equal(a2.mode, PLAN_COMMITTED);
    /* one of them (launched together) gave its node back to the job that
     * would pay on demand */
    assert_int_equal((a1.end_reason == ATT_END_DISPLACED) + (a2.end_reason == ATT_END_DISPLACED),
                     1);
    assert_int_equal(a1.end_reason + a2.end_reason, ATT_END_DISPLACED + ATT_END_EXITED);
    assert_int_equal(d.mode, PLAN_COMMITTED);
    j2 = st_job(&w, od);
    assert_int_equal(j2.nattempts, 1);
    store_job_clear(&j2);
    if (a1.end_reason == ATT_END_DISPLACED)
        s2 = s1;
    j2 = st_job(&w, s2);
    assert_int_equal(j2.state, JOB_SUCCEEDED);
    b2 = st_attempt(&w, s2, j2.nattempts);
    assert_int_equal(b2.mode, PLAN_SPOT); /* went on where it would have gone */
    assert_true(x.top <= 2);
    assert_true(x.top_world <= 2);
    assert_int_equal(w.violations, 0);
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    store_attempt_clear(&b2);
    store_attempt_clear(&d);
    store_job_clear(&j2);
    st_free(&w);
}

static void test_backfill_given_back(void **state)
{
    (void)state;
    backfill_given_back(0);
    backfill_given_back(1);
    backfill_given_back(2);
    backfill_given_back(3);
    backfill_given_back(4);
}

/* The given-back nodes are kept for the job they were given back to.  With
 * the on-demand fleet of azure/eastus cut to the two committed nodes, the job
 * that can only pay on demand finds nothing free and must wait for the
 * stopped backfill attempt's node; the stopped job, placed again a few
 * seconds later, must not backfill that node again (a review found them
 * taking turns, and the on-demand job going to gcp on demand).
 *
 * The same across a fault at the k-th commit after that job came (1: the
 * step that gives the node back, 2: the next one, which places the job on
 * it): the controller killed before the commit is stored (BEFORE) or after
 * (AFTER), the next one opening `down` seconds later, or the commit failing
 * once (FAILS: the controller reloads from the store).  The promise of the
 * node is in memory, so the controller that loads the jobs again keeps the
 * node from backfill for the job, and it stops the machines the dead one
 * meant to stop before it places anything (else the node is still busy
 * and the job goes to gcp on demand); the stopped job waits its backoff as
 * stored.  With `urgent`, a job of higher priority that may take spot comes
 * right after the kill: it must not backfill the node either.  Reviews
 * found each of these taking a second backfill job's node or sending the
 * job to gcp. */
/* The end of a no-churn run: job od took the committed node in eastus;
 * one of the backfill jobs s1 and s2 was stopped, once, the other ran to
 * its end; then the world is freed. */
static void no_churn_end(struct st *w, int64_t od, int64_t s1, int64_t s2)
{
    struct store_attempt d = st_attempt(w, od, 1);
    struct store_job j1 = st_job(w, s1), j2 = st_job(w, s2);

    assert_int_equal(d.mode, PLAN_COMMITTED);
    assert_string_equal(d.region, "eastus");
    assert_int_equal(j1.nattempts + j2.nattempts, 3);
    assert_int_equal(w->violations, 0);
    store_job_clear(&j1);
    store_job_clear(&j2);
    store_attempt_clear(&d);
    st_free(w);
}

enum bf_fault { BEFORE, AFTER, FAILS };

struct bf_down {
    double down;
    unsigned long kills;
};

static int opens_later(struct st *w, void *ctx)
{
    struct bf_down *d = ctx;

    if (w->kills != d->kills) { /* a new controller: it opens `down` later */
        d->kills = w->kills;
        w->t += d->down;
    }
    return st_all_ended(w, NULL);
}

static int killed(struct st *w, void *ctx)
{
    (void)ctx;
    return w->kills > 0;
}

static void backfill_no_churn(int k, enum bf_fault how, double down, int urgent)
{
    static const char *const URGENT = "name: u\nresources:\n  accelerators: H100:8\n"
                                      "run: train\nstratus:\n  duration: 4h\n"
                                      "  priority: 9\n";
    struct bf_down dd = {down, 0};
    struct st w;
    int64_t s1, s2, od, u = 0;

    st_init(&w, NULL);
    commit_nd(&w, 2);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 4);
    od = backfill_two(&w, ANY_4H_CK, &s1, &s2);
    if (k > 0 && how == FAILS)
        w.fault->fail_commit = w.fault->commits + (uint64_t)k;
    else if (k > 0)
        st_kill_at_commit(&w, w.fault->commits + (uint64_t)k, how == AFTER);
    if (urgent) {
        assert_true(st_run_until(&w, killed, NULL, ST_T0 + DAY));
        u = st_submit(&w, URGENT);
    }
    assert_true(st_run_until(&w, opens_later, &dd, ST_T0 + 3 * DAY));
    assert_int_equal(w.kills, k > 0 && how != FAILS);
    if (u != 0) {
        struct store_attempt a = st_attempt(&w, u, 1);

        assert_int_equal(a.mode, PLAN_SPOT); /* the node is not its to backfill */
        store_attempt_clear(&a);
    }
    no_churn_end(&w, od, s1, s2);
}

static void test_backfill_no_churn(void **state)
{
    int k;

    (void)state;
    backfill_no_churn(0, BEFORE, 0, 0);
    for (k = 1; k <= 2; k++) {
        backfill_no_churn(k, BEFORE, 0, 0);
        backfill_no_churn(k, AFTER, 0, 0);
        backfill_no_churn(k, AFTER, 30, 0);
        backfill_no_churn(k, FAILS, 0, 0);
    }
    backfill_no_churn(1, AFTER, 0, 1);
}

/* A machine stopped in a step frees its nodes for the next step, at once:
 * a job placed in the same step would find them busy.  Two jobs hold the
 * two committed nodes of azure/eastus (its whole on-demand fleet); the
 * user cancels one and submits a job that may not use spot before the next
 * step; or a patient job waits for the node the cancelled one holds.  Each
 * takes the committed node the cancel frees, not gcp on demand (a review
 * found both going to gcp, as the first of them did only when submitted in
 * the cancel's step; and the first again when that step's commit failed and
 * its retry placed beside the stop). */
static void test_cancel_frees_for_next(void **state)
{
    static const char *const OD_4H =
        "name: a\nresources:\n  accelerators: H100:8\n"
        "  use_spot: false\nrun: train\nstratus:\n  duration: 4h\n";
    static const char *const PATIENT = "version: 1\nrules:\n  - name: flexible\n"
                                       "    spot: allow\n    patience: 1x\n";
    static const char *const BATCH =
        "name: b\nresources:\n  accelerators: H100:8\n"
        "  use_spot: false\nrun: train\nstratus:\n  kind: batch\n"
        "  duration: 2h\n";
    int patient;

    (void)state;
    for (patient = 0; patient <= 2;
         patient++) { /* 2: as 0, the cancel's commit failing once */
        struct store_attempt c1;
        struct st w;
        int64_t a, b, c = 0;

        st_init(&w, NULL);
        commit_nd(&w, 2);
        st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 0);
        a = st_submit(&w, OD_4H);
        b = st_submit(&w, OD_4H);
        st_start(&w);
        assert_true(st_run_until_state(&w, b, JOB_RUNNING, ST_T0 + DAY));
        if (patient == 1) { /* it waits for a committed node: both are held */
            c = st_submit_policy(&w, BATCH, PATIENT);
            st_run_to(&w, ST_T0 + HOUR);
            assert_int_equal(st_job_state(&w, c), JOB_PENDING);
            st_cancel(&w, a);
        } else {
            st_run_to(&w, ST_T0 + HOUR);
            st_cancel(&w, a);
            c = st_submit(&w, H100_2H);
            if (patient == 2) /* the step is made again: it must defer again */
                w.fault->fail_commit = w.fault->commits + 1;
        }
        assert_true(st_run_all(&w, ST_T0 + DAY));
        c1 = st_attempt(&w, c, 1);
        assert_int_equal(c1.mode, PLAN_COMMITTED);
        assert_string_equal(c1.region, "eastus");
        assert_true(c1.launched_at < ST_T0 + HOUR + 60);
        assert_int_equal(w.violations, 0);
        store_attempt_clear(&c1);
        st_free(&w);
    }
}

/* A controller that loads the jobs again keeps committed nodes given back
 * from backfill only while nobody has taken them: here the job they were
 * given to already runs on them when the controller restarts (or reloads
 * after a failed commit), and the other backfill job is cancelled, so one
 * committed node is idle; the stopped job, placed after its backoff, must
 * backfill it as it does without the fault (a review found a rebuilt
 * promise keeping it idle and the job on spot for its whole run). */
static int launched(struct st *w, void *ctx)
{
    int s = st_job_state(w, *(const int64_t *)ctx);

    return s == JOB_PROVISIONING || s == JOB_RUNNING;
}

/* Which of the two backfill jobs s1 and s2 gave its node back (its first
 * attempt was stopped). */
static int64_t given_back_by(struct st *w, int64_t s1, int64_t s2)
{
    struct store_attempt a1 = st_attempt(w, s1, 1);
    int64_t v = a1.end_reason == ATT_END_DISPLACED ? s1 : s2;

    store_attempt_clear(&a1);
    return v;
}

/* The end of a run where job v, stopped to give its node back, must have
 * backfilled the committed nodes again; then the world is freed. */
static void backfills_again(struct st *w, int64_t v)
{
    struct store_attempt v2 = st_attempt(w, v, 2);

    assert_int_equal(v2.mode, PLAN_COMMITTED);
    assert_int_equal(w->violations, 0);
    store_attempt_clear(&v2);
    st_free(w);
}

static void test_given_back_taken(void **state)
{
    int fault;

    (void)state;
    for (fault = 0; fault <= 2; fault++) { /* none, a restart, a failed commit */
        struct st w;
        int64_t s1, s2, od, v;

        st_init(&w, NULL);
        commit_nd(&w, 2);
        st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 4);
        od = backfill_two(&w, ANY_4H_CK, &s1, &s2);
        assert_true(st_run_until(&w, launched, &od, ST_T0 + DAY));
        v = given_back_by(&w, s1, s2);
        if (fault == 1)
            st_restart(&w);
        if (fault == 2)
            w.fault->fail_commit = w.fault->commits + 1;
        st_cancel(&w, v == s1 ? s2 : s1);
        assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
        backfills_again(&w, v);
    }
}

/* A driver whose stop frees the nodes a little later, as the local one does
 * (a node holds its capacity until its processes are gone, and the driver
 * wakes the controller then): the harness's driver, with a stopped
 * attempt's on-demand nodes held HELD_S more seconds.  The job committed
 * nodes were given back to waits for them while its promise holds, rather
 * than go to gcp on demand at the step right after the give-back (a review
 * found it going there, and the stopped backfill job then taking its node
 * back). */
#define HELD_S 2.0

static struct held {
    char cloud[32], region[32], type[64];
    long nodes;
    double until;
} g_held[8];
static size_t g_nheld;
static struct st *g_w;

static int held_terminate(struct driver *d, int64_t id, struct err *e)
{
    struct store_attempt a;
    struct err e2;

    err_clear(&e2);
    if (!st_dead(g_w) && g_nheld < 8 && store_attempt_get(g_w->store, id, &a, &e2) == 0) {
        struct held *h = &g_held[g_nheld];

        if (a.mode != PLAN_SPOT) {
            snprintf(h->cloud, sizeof(h->cloud), "%s", a.cloud);
            snprintf(h->region, sizeof(h->region), "%s", a.region);
            snprintf(h->type, sizeof(h->type), "%s", a.instance_type);
            h->nodes = a.nodes;
            h->until = g_w->t + HELD_S;
            g_nheld++;
        }
        store_attempt_clear(&a);
    }
    return st_drv_terminate(d, id, e);
}

static long held_capacity(struct driver *d, const char *cloud, const char *region,
                          const char *zone, const char *type, int spot)
{
    long n = st_drv_capacity(d, cloud, region, zone, type, spot);
    size_t i;

    for (i = 0; n >= 0 && !spot && i < g_nheld; i++)
        if (g_held[i].until > g_w->t && strcmp(g_held[i].cloud, cloud) == 0 &&
            strcmp(g_held[i].region, region) == 0 && strcmp(g_held[i].type, type) == 0)
            n -= g_held[i].nodes;
    return n > 0 || n < 0 ? n : 0;
}

static double held_next(struct driver *d)
{
    double n = st_drv_next(d);
    size_t i;

    for (i = 0; i < g_nheld; i++)
        if (g_held[i].until > g_w->t && (n < 0 || g_held[i].until - g_w->t < n))
            n = g_held[i].until - g_w->t;
    return n;
}

static void promised_slow_stop(int killed_after_give_back)
{
    static struct driver_ops ops;
    struct st w;
    struct err e;
    int64_t s1, s2, od;

    ops = st_driver_ops;
    ops.terminate = held_terminate;
    ops.capacity_mode = held_capacity;
    ops.next_event_in = held_next;
    g_nheld = 0;
    st_init(&w, NULL);
    g_w = &w;
    commit_nd(&w, 2);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 4);
    err_clear(&e);
    if (driver_open(&w.drv, &ops, &w.dcfg, &e) != 0)
        fail_msg("%s", e.msg);
    w.drv_open = 1;
    od = backfill_two(&w, ANY_4H_CK, &s1, &s2);
    if (killed_after_give_back) /* the next controller finds the promise's job */
        st_kill_at_commit(&w, w.fault->commits + 1, 1);
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    no_churn_end(&w, od, s1, s2);
}

static void test_promised_slow_stop(void **state)
{
    (void)state;
    promised_slow_stop(0);
    promised_slow_stop(1);
}

/* The controller is killed right after it gave a backfill node back, and
 * the job it was for is cancelled once the next controller has opened: the
 * stopped backfill job takes its node back, as it does without the kill
 * (the next controller finds which job the node was given to in the event
 * log, and the promise goes with that job; a review found a promise not
 * tied to its job keeping the node from backfill, and the job on spot for
 * its run). */
static void test_given_back_cancelled(void **state)
{
    int kill;

    (void)state;
    for (kill = 0; kill <= 1; kill++) {
        struct st w;
        int64_t s1, s2, od;

        st_init(&w, NULL);
        commit_nd(&w, 2);
        st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 4);
        od = backfill_two(&w, ANY_4H_CK, &s1, &s2);
        if (kill) {
            st_kill_at_commit(&w, w.fault->commits + 1, 1);
            assert_true(st_run_until(&w, killed, NULL, ST_T0 + DAY));
        } else {
            st_step(&w); /* the give-back's step */
        }
        st_cancel(&w, od);
        assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
        backfills_again(&w, given_back_by(&w, s1, s2));
    }
}

/* Two jobs that may not use spot come in one step, while backfill holds
 * both committed nodes: the first is given one back, and the second must
 * not count that node as free to it; it takes the other back (a review
 * found it paying on demand on gcp while backfill kept the second node). */
static void test_give_back_two_at_once(void **state)
{
    struct store_attempt a, b;
    struct st w;
    int64_t s1, s2, od1, od2;

    (void)state;
    st_init(&w, NULL);
    commit_nd(&w, 2);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 2, 4);
    od1 = backfill_two(&w, ANY_4H_CK, &s1, &s2);
    od2 = st_submit(&w, H100_2H);
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    a = st_attempt(&w, od1, 1);
    b = st_attempt(&w, od2, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(b.mode, PLAN_COMMITTED);
    assert_int_equal(w.violations, 0);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    st_free(&w);
}

/* The same for a gang that takes back NGANG committed nodes in one step: its
 * reclaim line comes after NGANG stopped jobs' lines, more than a page of the
 * event log (a review found the first of them left out of its promise, and
 * on spot for its run once the gang was cancelled). */
#define NGANG 34

static void test_given_back_to_gang(void **state)
{
    char *gang = xasprintf("name: g\nnum_nodes: %d\nresources:\n  accelerators: H100:8\n"
                           "  use_spot: false\nrun: train\nstratus:\n  duration: 2h\n",
                           NGANG);
    int64_t bf[NGANG], g;
    struct st w;
    int i, back = 0;

    (void)state;
    st_init(&w, NULL);
    commit_nd(&w, NGANG);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", NGANG, 4);
    for (i = 0; i < NGANG; i++)
        bf[i] = st_submit(&w, ANY_4H_CK);
    st_start(&w);
    assert_true(st_run_until_state(&w, bf[NGANG - 1], JOB_RUNNING, ST_T0 + DAY));
    st_run_to(&w, w.t + 3600);
    g = st_submit(&w, gang);
    st_kill_at_commit(&w, w.fault->commits + 1, 1);
    assert_true(st_run_until(&w, killed, NULL, ST_T0 + DAY));
    st_cancel(&w, g);
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    for (i = 0; i < NGANG; i++) {
        struct store_attempt a1 = st_attempt(&w, bf[i], 1), a2;

        if (a1.end_reason == ATT_END_DISPLACED) {
            a2 = st_attempt(&w, bf[i], 2);
            back += a2.mode == PLAN_COMMITTED;
            store_attempt_clear(&a2);
        } else {
            back++; /* never stopped */
        }
        store_attempt_clear(&a1);
    }
    assert_int_equal(back, NGANG);
    assert_int_equal(w.violations, 0);
    st_free(&w);
    free(gang);
}

/* A backfill attempt is stopped only when the work it loses is less than
 * what the give-back saves: 7 hours into an 8-hour run with no checkpoint,
 * it keeps its node from a 10-minute job, which pays on demand instead. */
static void test_backfill_loss_weighed(void **state)
{
    static const char *const LONG = "name: l\nresources:\n  accelerators: H100:8\n"
                                    "run: train\nstratus:\n  duration: 8h\n";
    static const char *const SHORT = "name: s\nresources:\n  accelerators: H100:8\n"
                                     "  use_spot: false\nrun: train\n"
                                     "stratus:\n  duration: 10m\n";
    struct store_attempt a, b;
    struct st w;
    int64_t l, sh;

    (void)state;
    st_init(&w, NULL);
    l = backfill_one(&w, LONG);
    st_run_to(&w, w.t + 7 * 3600);
    sh = st_submit(&w, SHORT);
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    a = st_attempt(&w, l, 1);
    b = st_attempt(&w, sh, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(a.end_reason, ATT_END_EXITED); /* not stopped */
    assert_int_equal(b.mode, PLAN_ONDEMAND);
    assert_int_equal(w.violations, 0);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    st_free(&w);
}

/* A gang larger than the commitment runs on demand in its group (the policy
 * keeps it on azure): the backfill attempt on the committed node is stopped
 * so that the bill covers one of the gang's nodes with it. */
static void test_backfill_covers_on_demand(void **state)
{
    static const char *const AZURE = "version: 1\n"
                                     "rules:\n"
                                     "  - name: az\n"
                                     "    allow: [azure]\n"
                                     "    spot: forbid\n";
    static const char *const GANG = "name: g\nnum_nodes: 2\nresources:\n"
                                    "  accelerators: H100:8\n  use_spot: false\nrun: train\n"
                                    "stratus:\n  duration: 2h\n";
    struct store_attempt a, g;
    struct st w;
    int64_t s, gang;

    (void)state;
    st_init(&w, NULL);
    s = backfill_one(&w, ANY_4H);
    gang = st_submit_policy(&w, GANG, AZURE);
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    a = st_attempt(&w, s, 1);
    g = st_attempt(&w, gang, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(a.end_reason, ATT_END_DISPLACED);
    assert_int_equal(g.mode, PLAN_ONDEMAND);
    assert_string_equal(g.region, "eastus");
    assert_int_equal(st_job_state(&w, s), JOB_SUCCEEDED);
    assert_int_equal(st_job_state(&w, gang), JOB_SUCCEEDED);
    assert_int_equal(w.violations, 0);
    store_attempt_clear(&a);
    store_attempt_clear(&g);
    st_free(&w);
}

/* A spec of `nodes` ND H100 v5 nodes for `hours`, that may use spot or not,
 * of a batch kind or none. */
static void nd_spec(char *buf, size_t n, const char *name, int nodes, double hours,
                    int spot, int batch)
{
    snprintf(buf, n,
             "name: %s\nnum_nodes: %d\nresources:\n  accelerators: H100:8\n%s"
             "run: train\nstratus:\n%s  duration: %.0fs\n",
             name, nodes, spot ? "" : "  use_spot: false\n",
             batch ? "  kind: batch\n" : "", hours * 3600);
}

/* Job a_spec (started and running), then a minute later b_spec under
 * `policy`: b's id; *t_b when it came. */
static int64_t a_then_b(struct st *w, const char *a_spec, const char *b_spec,
                        const char *policy, double *t_b)
{
    int64_t a = st_submit(w, a_spec);

    st_start(w);
    assert_true(st_run_until_state(w, a, JOB_RUNNING, ST_T0 + DAY));
    st_run_to(w, w->t + 60);
    *t_b = w->t;
    return st_submit_policy(w, b_spec, policy);
}

/* Run to the end: b ran once and succeeded, nothing was oversubscribed; the
 * mode b ran in, and when it started in hours after t_b. */
static double b_ran(struct st *w, int64_t b, double t_b, int *mode)
{
    struct store_attempt b1;
    double start;

    assert_true(st_run_all(w, ST_T0 + 2 * DAY));
    assert_int_equal(st_job_state(w, b), JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(w, b), 1);
    b1 = st_attempt(w, b, 1);
    *mode = b1.mode;
    start = (b1.running_at - t_b) / 3600;
    store_attempt_clear(&b1);
    assert_int_equal(w->violations, 0);
    return start;
}

/* Patience waits for committed nodes the lab's own jobs hold, as it does for
 * any such place (docs/patience.md): one ND H100 v5 node committed, held by
 * a job A that may not use spot; B, of the same shape and 2 hours, comes a
 * minute later.  With `patience: 1x`, B waits for A's node rather than pay
 * on demand, and takes it when A ends (A runs 1 h), or gives up at the end
 * of its patience and pays on demand (A runs 5 h).  Without patience it pays
 * on demand at once; and a B that may use spot takes spot, which is cheaper
 * than on demand, and leaves the committed node to a job that would pay on
 * demand (first_usable). */
static void patient_for_commitment(double a_hours, const char *policy, int b_spot,
                                   int want_mode, double start_lo, double start_hi)
{
    char a_spec[200], b_spec[200];
    struct store_job bj;
    struct st w;
    int64_t b;
    double t_b, start;
    int mode;

    nd_spec(a_spec, sizeof(a_spec), "a", 1, a_hours, 0, 0);
    nd_spec(b_spec, sizeof(b_spec), "b", 1, 2, b_spot, 1);
    st_init(&w, NULL);
    commit_nd(&w, 1);
    b = a_then_b(&w, a_spec, b_spec, policy, &t_b);
    st_run_to(&w, w.t + 120);
    bj = st_job(&w, b);
    if (want_mode == PLAN_COMMITTED || start_lo > 0.5) {
        assert_int_equal(bj.state, JOB_PENDING);
        assert_non_null(bj.reason);
        assert_non_null(strstr(bj.reason,
                               "waiting for azure/eastus Standard_ND96isr_H100_v5 "
                               "committed, held by the lab's running jobs"));
    } else {
        assert_int_not_equal(bj.state, JOB_PENDING);
    }
    store_job_clear(&bj);
    start = b_ran(&w, b, t_b, &mode);
    assert_int_equal(mode, want_mode);
    assert_true(start > start_lo);
    assert_true(start < start_hi);
    st_free(&w);
}

/* The commitments a patient job waits for change while it waits.  A job
 * `a` of a_nodes ND H100 v5 nodes (a_hours) holds committed nodes; `b`, of
 * b_nodes and 3 hours, that may not use spot and has patience, comes a
 * minute later.  *mode: the mode b ran in; returns when it started, in
 * hours after its submission. */
static double commitments_change(const char *commitments, int a_nodes, double a_hours,
                                 int b_nodes, int *mode)
{
    static const char *const PATIENT = "version: 1\nrules:\n  - name: flexible\n"
                                       "    spot: allow\n    patience: 1x\n";
    char a_spec[200], b_spec[200];
    struct st w;
    struct err e;
    int64_t b;
    double t_b, start;

    nd_spec(a_spec, sizeof(a_spec), "a", a_nodes, a_hours, 0, 0);
    nd_spec(b_spec, sizeof(b_spec), "b", b_nodes, 3, 0, 1);
    st_init(&w, NULL);
    if (st_load_commitments(w.cat, commitments, &e) != 0)
        fail_msg("%s", e.msg);
    b = a_then_b(&w, a_spec, b_spec, PATIENT, &t_b);
    start = b_ran(&w, b, t_b, mode);
    st_free(&w);
    return start;
}

/* (An attack found each: the job waited out its patience in all three.)
 *  - a commitment that ends before b could have run on it (at 2 h) is not
 *    waited for: b pays on demand at once;
 *  - one that starts while b waits (at 0.5 h) is taken when it starts;
 *  - a gang of 2 waiting on a commitment of 2 with 1 node free is woken
 *    when a's node frees (at 1 h), though only 1 node freed then. */
static void test_patience_commitments_change(void **state)
{
    static const char *const CHDR =
        "cloud,region,zone,instance_type,nodes,start,term,end,discount\n";
    char c[400];
    int mode;
    double t;

    (void)state;
    snprintf(c, sizeof(c),
             "%sazure,eastus,,Standard_ND96isr_H100_v5,1,2026-01-01,,"
             "2026-09-21T16:13:20Z,0.3\n",
             CHDR);
    t = commitments_change(c, 1, 8, 1, &mode);
    assert_int_equal(mode, PLAN_ONDEMAND);
    assert_true(t < 0.1);
    snprintf(c, sizeof(c),
             "%sazure,eastus,,Standard_ND96isr_H100_v5,1,2026-01-01,1y,,0.3\n"
             "azure,eastus,,Standard_ND96isr_H100_v5,1,2026-09-21T14:43:20Z,1y,,0.3\n",
             CHDR);
    t = commitments_change(c, 1, 8, 1, &mode);
    assert_int_equal(mode, PLAN_COMMITTED);
    assert_true(t > 0.45 && t < 0.55);
    snprintf(c, sizeof(c),
             "%sazure,eastus,,Standard_ND96isr_H100_v5,2,2026-01-01,1y,,0.3\n", CHDR);
    t = commitments_change(c, 1, 1, 2, &mode);
    assert_int_equal(mode, PLAN_COMMITTED);
    assert_true(t > 0.95 && t < 1.1);
}

static void test_patience_waits_for_commitment(void **state)
{
    static const char *const PATIENT = "version: 1\nrules:\n  - name: flexible\n"
                                       "    spot: allow\n    patience: 1x\n";
    static const char *const NONE =
        "version: 1\nrules:\n  - name: hasty\n    spot: allow\n";

    (void)state;
    /* A ends 1 h after it ran, B a minute after that: B's launch (60 s)
     * follows A's end */
    patient_for_commitment(1, PATIENT, 0, PLAN_COMMITTED, 1 - 1.0 / 60, 1.2);
    /* B's patience: 2 h late; then the first free place */
    patient_for_commitment(5, PATIENT, 0, PLAN_ONDEMAND, 2 - 1.0 / 60, 2.2);
    patient_for_commitment(1, NONE, 0, PLAN_ONDEMAND, 0, 0.1);
    patient_for_commitment(1, PATIENT, 1, PLAN_SPOT, 0, 0.1);
}

/* ---- the advisor ---- */

static void test_advise_best(void **state)
{
    double u[100];
    struct advise_pick p;
    int i;

    (void)state;
    /* 5 nodes half the time, 3 for a fifth, none for the rest: nodes 1-3 are
     * in use 70% of the time, nodes 4-5 50% */
    for (i = 0; i < 100; i++)
        u[i] = i < 50 ? 5 : i < 70 ? 3 : 0;
    /* break-even 0.6: only nodes 1-3 pay */
    advise_best(u, 100, 1.0, 10, 6, &p);
    assert_int_equal(p.nodes, 3);
    assert_true(fabs(p.saving - (10.0 * 210 - 3 * 6 * 100)) < 1e-9);
    assert_true(fabs(p.utilisation - 0.7) < 1e-12);
    assert_true(fabs(p.break_even - 0.6) < 1e-12);
    /* break-even 0.4: all five */
    advise_best(u, 100, 1.0, 10, 4, &p);
    assert_int_equal(p.nodes, 5);
    assert_true(fabs(p.saving - (10.0 * 310 - 5 * 4 * 100)) < 1e-9);
    /* break-even 0.8: none pays */
    advise_best(u, 100, 1.0, 10, 8, &p);
    assert_int_equal(p.nodes, 0);
    assert_true(p.saving == 0);
    /* bins of 5 minutes scale the saving, not the choice */
    advise_best(u, 100, 1.0 / 12, 10, 6, &p);
    assert_int_equal(p.nodes, 3);
    assert_true(fabs(p.saving - (10.0 * 210 - 3 * 6 * 100) / 12) < 1e-9);
    assert_true(advise_term_months("1y") == 12 && advise_term_months("3y") == 36 &&
                advise_term_months("6m") == 6 && advise_term_months("1w") == 0);
}

/* An 8-node gang half the time, 3 one-node jobs 40% of the time, partly
 * together: a node-count view says commit 3 (nodes 1-3 busy 70% of the time,
 * break-even 60%), but 3 committed nodes serve only the one-node jobs, busy
 * 40%; 8 or more serve both, at 57.5% at best.  So: none. */
static void test_advise_gangs(void **state)
{
    double one[100], eight[100], all[100];
    const double *curves[2] = {one, eight};
    const int gangs[2] = {1, 8};
    struct advise_pick p;
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        eight[i] = i < 50 ? 8 : 0;
        one[i] = i >= 30 && i < 70 ? 3 : 0;
        all[i] = one[i] + eight[i];
    }
    advise_best(all, 100, 1.0, 10, 6, &p);
    assert_int_equal(p.nodes, 3);
    advise_best_gangs(curves, gangs, 2, NULL, 0, 100, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 0);
    /* at break-even 40% 8 nodes pay (the gang and the jobs after it: 400 + 60
     * node-bins; 11 would cover 520 for 300 more) */
    advise_best_gangs(curves, gangs, 2, NULL, 0, 100, 1.0, 10, 4, &p, NULL);
    assert_int_equal(p.nodes, 8);
    assert_true(fabs(p.saving - (10.0 * 460 - 8 * 4 * 100)) < 1e-9);
    /* at 10% the three extra nodes pay too */
    advise_best_gangs(curves, gangs, 2, NULL, 0, 100, 1.0, 10, 1, &p, NULL);
    assert_int_equal(p.nodes, 11);
    assert_true(fabs(p.saving - (10.0 * 520 - 11 * 1 * 100)) < 1e-9);
}

/* Backfill: spot work fills what on-demand work leaves free, worth its spot
 * price.  On-demand 2 nodes half the time, spot 1 node all the time, $10 on
 * demand, $6 committed, $5 spot: alone the on-demand work pays for no node
 * (1 node: 10 x 50 - 6 x 100 < 0); backfilled, one node is busy all the
 * time (10 x 50 + 5 x 50 - 600 = 150), a second not (1000 + 250 - 1200 =
 * 50).  With spot at $7, spot work alone of 3 nodes pays for three more
 * nodes beside a steady on-demand one (1000 + 7 x 300 - 4 x 600 = 700). */
static void test_advise_backfill(void **state)
{
    double od[100], spot[100], one[100], three[100];
    const double *c1[1] = {od}, *c2[1] = {one};
    const int gangs[1] = {1};
    struct advise_pick p;
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        od[i] = i < 50 ? 2 : 0;
        spot[i] = 1;
        one[i] = 1;
        three[i] = 3;
    }
    advise_best_gangs(c1, gangs, 1, NULL, 0, 100, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 0);
    advise_best_gangs(c1, gangs, 1, spot, 5, 100, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 1);
    assert_true(fabs(p.saving - 150) < 1e-9);
    assert_true(fabs(p.utilisation - 1.0) < 1e-9);
    assert_true(fabs(p.backfill - 0.5) < 1e-9);
    advise_best_gangs(c2, gangs, 1, three, 5, 100, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 1); /* spot at 5 < 6 committed: no node for it alone */
    advise_best_gangs(c2, gangs, 1, three, 7, 100, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 4);
    assert_true(fabs(p.saving - 700) < 1e-9);
    assert_true(fabs(p.backfill - 0.75) < 1e-9);
}

/* Usage read back from a store: on-demand and committed count; spot apart,
 * per accelerator, as the work that could backfill. */
static void test_advise_store(void **state)
{
    struct st w;
    struct advise_usage u;
    struct err e;
    double *b, price;
    int i;

    (void)state;
    st_init(&w, NULL);
    err_clear(&e);
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no attempt in the store has run"));
    for (i = 0; i < 3; i++)
        st_submit(&w, H100_2H);
    st_submit(&w, ANY_4H); /* spot: the work that could backfill */
    st_start(&w);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), 0);
    assert_int_equal(u.nspot, 1); /* 8 x H100 spot, at gcp's $20 or $24 */
    assert_string_equal(u.spot[0].accelerator, "H100");
    assert_int_equal(u.spot[0].acc_count, 8);
    assert_true(u.spot[0].node_hours >= 4 - 1e-6);
    assert_int_equal(u.o[0].spot_ok[0], 1);
    b = xcalloc(u.nbins, sizeof(double));
    price = advise_backfill(&u, &u.o[0], NULL, b);
    assert_true(price >= 20 && price <= 24);
    free(b);
    assert_int_equal(u.n, 1); /* all three on the cheapest on demand: gcp us-central1 */
    assert_string_equal(u.o[0].instance_type, "a3-highgpu-8g");
    assert_true(u.o[0].od_price == 80);
    assert_true(fabs(u.o[0].node_hours - 3 * 2) < 1e-6);
    assert_true(fabs(u.o[0].peak - 3) < 1e-6);
    assert_int_equal(u.o[0].ngangs, 1);
    assert_int_equal(u.o[0].gangs[0], 1);
    advise_usage_free(&u);
    st_free(&w);
}

/* A spot job that backfilled a committed node is spot work to the advisor
 * (at the spot price it would have paid), not on-demand demand for the
 * commitment: counted so, a store that ran with commitments asked for
 * more of them, and a renewal read from it advised buying at a loss. */
static void test_advise_store_backfill(void **state)
{
    struct st w;
    struct advise_usage u;
    struct store_attempt a, b;
    struct err e;
    int64_t id, od;
    double nd = 0;
    size_t i;

    (void)state;
    st_init(&w, NULL);
    id = backfill_one(&w, ANY_4H);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    a = st_attempt(&w, id, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_true(a.backfill_spot > 0);
    err_clear(&e);
    /* nothing ran on demand or committed for an on-demand payer */
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e),
                     ST_EINFEASIBLE);
    od = st_submit(&w, H100_2H); /* would pay on demand: takes the committed node */
    assert_true(st_run_all(&w, ST_T0 + 2 * DAY));
    b = st_attempt(&w, od, 1);
    assert_int_equal(b.mode, PLAN_COMMITTED);
    assert_true(b.backfill_spot == 0);
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), 0);
    for (i = 0; i < u.n; i++) /* the ND node's demand: that job's 2 h alone */
        if (strcmp(u.o[i].instance_type, a.instance_type) == 0)
            nd += u.o[i].node_hours;
    assert_true(fabs(nd - 2) < 1e-6);
    assert_true(fabs(u.committed_h - 2) < 1e-6);
    assert_int_equal(u.nspot, 1); /* its 4 h are 8 x H100 spot work */
    assert_true(fabs(u.spot[0].node_hours - 4) < 1e-6);
    assert_true(fabs(u.spot[0].cost - 4 * a.backfill_spot) < 1e-3);
    advise_usage_free(&u);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    st_free(&w);
}

/* The advisor judges a job's spot work under the rule the controller
 * placed it by: one matching the team the server gave it (the caller's one
 * team; the spec's text names none).  It matched the text alone, and put
 * the job under the catch-all (helper-96). */
static void test_advise_rule_of_the_team_given(void **state)
{
    static const char pol[] = "version: 1\nrules:\n"
                              "  - name: research-gcp\n    match: {team: research}\n"
                              "    allow: [gcp]\n"
                              "  - name: anything\n    match: {}\n";
    struct st w;
    struct advise_usage u;
    struct err e;

    (void)state;
    st_init(&w, NULL);
    st_submit_as(&w, ANY_4H, "research", NULL, pol);
    st_submit_as(&w, H100_2H, NULL, NULL, pol);
    st_start(&w);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    err_clear(&e);
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), 0);
    assert_int_equal(u.nspot, 1);
    assert_non_null(u.spot[0].rule);
    assert_string_equal(u.spot[0].rule->name, "research-gcp");
    advise_usage_free(&u);
    st_free(&w);
}

/* Two offers of one gang size at $10 on demand, the first with on-demand
 * usage c0 and the second c1, over 10 bins, beside nspot spot slots that
 * may backfill both. */
static void two_offers(struct advise_offer *o, double **c0, double **c1,
                       struct advise_usage *u, struct advise_spot *sp, size_t nspot)
{
    static int gangs[1] = {1};
    static unsigned char ok[2] = {1, 1};
    int i;

    memset(o, 0, 2 * sizeof(*o));
    for (i = 0; i < 2; i++) {
        o[i].gang_usage = i == 0 ? c0 : c1;
        o[i].gangs = gangs;
        o[i].ngangs = 1;
        o[i].od_price = 10;
        o[i].spot_ok = ok;
    }
    memset(u, 0, sizeof(*u));
    u->nbins = 10;
    u->o = o;
    u->n = 2;
    u->spot = sp;
    u->nspot = nspot;
}

/* Spot work backfills one commitment: the offer chosen first (most spend)
 * takes what its nodes fill, and the next sees only the rest. */
static void test_advise_shared(void **state)
{
    double zero[10] = {0}, spot[10], b[10], fill[10], *rem[1], left[10];
    double *curves[1] = {zero};
    int gangs[1] = {1};
    struct advise_spot sp;
    struct advise_offer o[2];
    struct advise_usage u;
    struct advise_pick p;
    int i;

    (void)state;
    for (i = 0; i < 10; i++)
        spot[i] = left[i] = 2;
    memset(&sp, 0, sizeof(sp));
    sp.usage = spot;
    sp.node_hours = 20;
    sp.cost = 140; /* $7 a node-hour, above the $6 committed */
    two_offers(o, curves, curves, &u, &sp, 1);
    rem[0] = left;
    assert_true(fabs(advise_backfill(&u, &o[0], rem, b) - 7) < 1e-9);
    advise_best_gangs((const double *const *)curves, gangs, 1, b, 7, 10, 1.0, 10, 6, &p, fill);
    assert_int_equal(p.nodes, 2); /* every spot node-hour backfills it */
    assert_true(fabs(fill[3] - 2) < 1e-9);
    advise_take_backfill(&u, &o[0], rem, b, fill);
    assert_true(fabs(left[3]) < 1e-9);
    advise_backfill(&u, &o[1], rem, b);
    advise_best_gangs((const double *const *)curves, gangs, 1, b, 7, 10, 1.0, 10, 6, &p, fill);
    assert_int_equal(p.nodes, 0); /* nothing left for the second */
    advise_backfill(&u, &o[1], NULL, b); /* all of it, as another term's plan */
    advise_best_gangs((const double *const *)curves, gangs, 1, b, 7, 10, 1.0, 10, 6, &p, NULL);
    assert_int_equal(p.nodes, 2);
}

/* What backfill would pay is priced on the spot work left to the offer: the
 * first offer's nodes fill the $7 work (its on-demand work holds them the
 * rest of the time), and the second sees only the $9 work, at $9 (over all
 * the work ever seen, $8). */
static void test_advise_shared_price(void **state)
{
    double od[10], zero[10] = {0}, cheap[10], dear[10], lc[10], ld[10], b[10], fill[10];
    double *rem[2] = {lc, ld}, *c0[1] = {od}, *c1[1] = {zero};
    int gangs[1] = {1};
    struct advise_spot sp[2];
    struct advise_offer o[2];
    struct advise_usage u;
    struct advise_pick p;
    int i;

    (void)state;
    for (i = 0; i < 10; i++) {
        od[i] = i < 5 ? 0 : 2;
        cheap[i] = lc[i] = i < 5 ? 2 : 0;
        dear[i] = ld[i] = i < 5 ? 0 : 2;
    }
    memset(sp, 0, sizeof(sp));
    sp[0].usage = cheap, sp[0].node_hours = 10, sp[0].cost = 70;
    sp[1].usage = dear, sp[1].node_hours = 10, sp[1].cost = 90;
    two_offers(o, c0, c1, &u, sp, 2);
    assert_true(fabs(advise_backfill(&u, &o[0], rem, b) - 8) < 1e-9);
    advise_best_gangs((const double *const *)c0, gangs, 1, b, 8, 10, 1.0, 10, 6, &p, fill);
    assert_int_equal(p.nodes, 2);
    advise_take_backfill(&u, &o[0], rem, b, fill);
    assert_true(fabs(lc[2]) < 1e-9 && fabs(ld[7] - 2) < 1e-9);
    assert_true(fabs(advise_backfill(&u, &o[1], rem, b) - 9) < 1e-9);
    assert_true(fabs(advise_backfill(&u, &o[1], NULL, b) - 8) < 1e-9); /* another term */
}

/* Spot work counts as backfill of an offer only where its job's org rule
 * lets it run: the policy it was submitted with, else the one the advisor
 * is given. */
static void test_advise_rules(void **state)
{
    static const char *const OWN = "rules:\n  - name: own\n    allow: [gcp, aws]\n";
    static const char *const ORG = "rules:\n  - name: org\n    allow: [aws]\n";
    struct policy *org = NULL;
    struct advise_usage u;
    struct st w;
    struct err e;
    size_t k;
    int i, own = 0, confined = 0;

    (void)state;
    st_init(&w, NULL);
    err_clear(&e);
    assert_int_equal(policy_load_mem(&org, "org", ORG, strlen(ORG), &e), 0);
    for (i = 0; i < 3; i++)
        st_submit(&w, H100_2H);
    st_submit_policy(&w, ANY_4H, OWN); /* spot on gcp, which its own policy allows */
    st_submit(&w, ANY_4H);             /* spot on gcp; no policy of its own */
    st_start(&w);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    assert_int_equal(advise_read_store(w.store, w.cat, org, ST_T0, &u, &e), 0);
    assert_int_equal(u.n, 1);
    assert_string_equal(u.o[0].cloud, "gcp");
    assert_int_equal(u.nspot, 2); /* one per rule */
    for (k = 0; k < u.nspot; k++) {
        assert_non_null(u.spot[k].rule);
        if (strcmp(u.spot[k].rule->name, "own") == 0)
            own = 1, assert_int_equal(u.o[0].spot_ok[k], 1);
        else if (strcmp(u.spot[k].rule->name, "org") == 0)
            confined = 1, assert_int_equal(u.o[0].spot_ok[k], 0); /* aws only */
    }
    assert_true(own && confined);
    advise_usage_free(&u);
    /* without --org-policy, the job stored without one may go anywhere */
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), 0);
    for (k = 0; k < u.nspot; k++)
        assert_int_equal(u.o[0].spot_ok[k], 1);
    advise_usage_free(&u);
    policy_free(org);
    st_free(&w);
}

/* The rule is the controller's: matched on the job's spec, whose GPUs are
 * its largest alternative's.  A 2-node job of {H100: 8, A10: 4} falls under
 * `big` (16 GPUs), which keeps it off azure, and runs on oci A10 spot; the
 * 8 GPUs of the alternative it ran would match `small` (azure only), which
 * would count it as backfill of an azure A10 commitment it can never use. */
static void test_advise_rule_alternatives(void **state)
{
    static const char *const POL =
        "rules:\n"
        "  - name: big\n    match: {min_gpus: 16}\n    allow: [oci, gcp]\n"
        "  - name: small\n    allow: [azure]\n";
    static const char *const ALT = "name: alt\nnum_nodes: 2\nresources:\n"
                                   "  accelerators: {H100: 8, A10: 4}\n  use_spot: true\n"
                                   "run: train\nstratus:\n  duration: 2h\n";
    static const char *const OD = "name: od\nresources:\n  accelerators: A10:4\n"
                                  "  use_spot: false\n  infra: azure/westeurope\n"
                                  "run: train\nstratus:\n  duration: 2h\n";
    struct advise_usage u;
    struct store_attempt a;
    struct st w;
    struct err e;
    size_t k, i, azure = 0;
    int64_t alt;

    (void)state;
    st_init(&w, NULL);
    st_set_capacity(&w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    alt = st_submit_policy(&w, ALT, POL);
    st_submit_policy(&w, OD, POL);
    st_start(&w);
    assert_true(st_run_all(&w, ST_T0 + DAY));
    a = st_attempt(&w, alt, 1);
    assert_int_equal(a.mode, PLAN_SPOT);
    assert_string_equal(a.cloud, "oci"); /* the controller's rule: big */
    store_attempt_clear(&a);
    err_clear(&e);
    assert_int_equal(advise_read_store(w.store, w.cat, NULL, ST_T0, &u, &e), 0);
    assert_int_equal(u.nspot, 1);
    assert_string_equal(u.spot[0].rule->name, "big");
    for (i = 0; i < u.n; i++)
        for (k = 0; k < u.nspot && strcmp(u.o[i].cloud, "azure") == 0; k++, azure++)
            assert_int_equal(u.o[i].spot_ok[k], 0); /* the job may not run on azure */
    assert_true(azure > 0);
    advise_usage_free(&u);
    st_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cost_window),
        cmocka_unit_test(test_sim_charge),
        cmocka_unit_test(test_sched_never_oversubscribes),
        cmocka_unit_test(test_commitment_ends),
        cmocka_unit_test(test_on_demand_covered),
        cmocka_unit_test(test_zonal_covers_its_zone),
        cmocka_unit_test(test_backfill_given_back),
        cmocka_unit_test(test_backfill_covers_on_demand),
        cmocka_unit_test(test_backfill_no_churn),
        cmocka_unit_test(test_cancel_frees_for_next),
        cmocka_unit_test(test_given_back_taken),
        cmocka_unit_test(test_promised_slow_stop),
        cmocka_unit_test(test_given_back_cancelled),
        cmocka_unit_test(test_given_back_to_gang),
        cmocka_unit_test(test_give_back_two_at_once),
        cmocka_unit_test(test_backfill_loss_weighed),
        cmocka_unit_test(test_patience_waits_for_commitment),
        cmocka_unit_test(test_patience_commitments_change),
        cmocka_unit_test(test_advise_best),
        cmocka_unit_test(test_advise_gangs),
        cmocka_unit_test(test_advise_backfill),
        cmocka_unit_test(test_advise_store),
        cmocka_unit_test(test_advise_store_backfill),
        cmocka_unit_test(test_advise_rule_of_the_team_given),
        cmocka_unit_test(test_advise_shared),
        cmocka_unit_test(test_advise_shared_price),
        cmocka_unit_test(test_advise_rules),
        cmocka_unit_test(test_advise_rule_alternatives),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
