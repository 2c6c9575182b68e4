/*
 * test_bound.c - the simulator's offline lower bound (src/sim/bound.c) on
 * tiny worlds whose answer is computed by hand: the org policy decides where
 * a job may go, capacity sends the second job to the dearer offer, the
 * price in force when a job can run is the one it pays, egress is counted;
 * committed nodes cost nothing at the margin but only as many as are
 * committed; and on a small study the bound stays below what the simulated
 * policies pay, with and without commitments (whose fixed cost both sides
 * are charged alike).
 *
 * The tiny catalog: H100 x 8 nodes at azure/eastus (az8, and az8s with
 * spot at $10) and
 * gcp/us-central1 (gcp8, spot too), another at gcp/us-central1 (gcp8b), an
 * A100-80GB x 8 node at gcp/us-central1 (gcpa) that does half the work of an
 * H100 node per hour (throughput.csv);
 * moving data between clouds costs $0.10/GB.  Each test sets prices with
 * a price trace and capacity per offer by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "policy/policy.h"
#include "sim/bound.h"
#include "sim/sim.h"
#include "sim/trace.h"
#include "testutil.h"

#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-6 * (1 + fabs((double)(b))))

/* The lab's rule for large training, as examples/policy.yaml has it. */
static const char POLICY[] = "rules:\n"
                             "  - name: training-on-azure\n"
                             "    match: {kind: train, min_gpus: 16}\n"
                             "    allow: [azure]\n"
                             "  - name: anything\n";

struct world {
    char *dir;
    struct catalog *cat;
    struct trace work, prices;
    long *od, *spot;
    struct sim_input in;
};

static const char *extra_offers = ""; /* more rows of offers.csv, for one test */
static const char *extra_egress = ""; /* more rows of egress.csv (and OCI's region) */

static void write_catalog(const char *dir)
{
    char offers[1024];

    char egress[1024];

    tu_write(dir, "regions.csv",
             "cloud,region,latitude,longitude,continent\n"
             "azure,eastus,37,-79,north-america\ngcp,us-central1,41,-93,north-america\n"
             "oci,us-ashburn-1,39,-77,north-america\n");
    snprintf(egress, sizeof(egress), "%s%s",
             "kind,src_cloud,src_region,dst_cloud,dst_region,price_per_gb\n"
             "inter_region,*,,*,,0.02\ninter_cloud,*,,*,,0.10\n",
             extra_egress);
    tu_write(dir, "egress.csv", egress);
    tu_write(dir, "preemption.csv",
             "cloud,region,accelerator,rate_per_hour\n*,*,*,0.01\n");
    snprintf(offers, sizeof(offers), "%s%s",
             "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
             "max_cluster_nodes,price_hour,spot_price_hour\n"
             "azure,eastus,,az8,H100,8,,100,\n"
             "azure,eastus,,az8s,H100,8,,100,10\n"
             "gcp,us-central1,us-central1-a,gcp8,H100,8,,80,20\n"
             "gcp,us-central1,us-central1-a,gcp8b,H100,8,,90,\n"
             "gcp,us-central1,us-central1-a,gcpa,A100-80GB,8,,30,\n",
             extra_offers);
    tu_write(dir, "offers.csv", offers);
    tu_write(dir, "throughput.csv",
             "accelerator,train,infer,cores_per_chip,source,note\n"
             "H100,2,2,,test,\nA100-80GB,1,1,,test,\n");
}

static long offer(const struct world *w, const char *type)
{
    for (size_t i = 0; i < catalog_noffers(w->cat); i++)
        if (strcmp(catalog_offer(w->cat, i)->instance_type, type) == 0)
            return (long)i;
    fail_msg("no offer %s", type);
    return -1;
}

/* A world of the tiny catalog with the given workload and prices; capacity
 * is set by the test (none to start with). */
static void world_open(struct world *w, const char *jobs, const char *prices)
{
    struct err e;

    memset(w, 0, sizeof(*w));
    w->dir = tu_mkdtemp();
    write_catalog(w->dir);
    if (catalog_load(&w->cat, w->dir, &e) != 0)
        fail_msg("%s", e.msg);
    trace_init(&w->work);
    trace_init(&w->prices);
    if (trace_load_jobs_mem(&w->work, "jobs.csv", jobs, strlen(jobs), &e) != 0 ||
        (prices &&
         trace_load_prices_mem(&w->prices, "prices.csv", prices, strlen(prices), &e)))
        fail_msg("%s", e.msg);
    w->od = xcalloc(catalog_noffers(w->cat) + 1, sizeof(long));
    w->spot = xcalloc(catalog_noffers(w->cat) + 1, sizeof(long));
    w->in.cat = w->cat;
    w->in.work = &w->work;
    w->in.prices = prices ? &w->prices : NULL;
    w->in.od_cap = w->od;
    w->in.spot_cap = w->spot;
    w->in.t0 = 1704067200.0;
    w->in.bucket_s = 3600;
}

static void world_close(struct world *w)
{
    trace_free(&w->work);
    trace_free(&w->prices);
    catalog_free(w->cat);
    free(w->od);
    free(w->spot);
    tu_rmdir(w->dir);
    free(w->dir);
}

/* The bound with hourly buckets, for schedules done by end_s (0 = ever). */
/* Load `csv` as the world's commitments file. */
static void world_commit(struct world *w, const char *csv)
{
    char *path = xasprintf("%s/c.csv", w->dir);
    struct err e;

    tu_write(w->dir, "c.csv", csv);
    if (catalog_load_commitments(w->cat, path, &e) != 0)
        fail_msg("%s", e.msg);
    free(path);
}

static double bound(struct world *w, const struct policy *pol, double end_s)
{
    struct sim_result r;
    struct err e;
    double cost;

    if (sim_bound_lp(&w->in, pol, 3600, end_s, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(r.failed, 0);
    cost = r.cost;
    sim_result_free(&r);
    return cost;
}

static struct policy *lab_policy(void)
{
    struct policy *p = NULL;
    struct err e;

    if (policy_load_mem(&p, "policy.yaml", POLICY, strlen(POLICY), &e) != 0)
        fail_msg("%s", e.msg);
    return p;
}

#define JOBS_HEAD "submit_s,job_id,team,kind,accelerator,gpus,duration_s,spot_ok\n"

/* Two 1-hour 8 x H100 jobs that may not use spot, both at 0, and one of
 * gcp8's two on-demand nodes committed (at $30). */
static void two_jobs_one_committed(struct world *w)
{
    world_open(w, JOBS_HEAD "0,a,lab,batch,H100,8,3600,0\n0,b,lab,batch,H100,8,3600,0\n",
               NULL);
    w->od[offer(w, "gcp8")] = 2;
    world_commit(w, "cloud,region,instance_type,nodes,price_hour\n"
                    "gcp,us-central1,gcp8,1,30\n");
}

/* A 2-node training job the policy keeps on Azure: bounded at Azure's $100
 * x 2 nodes x 1 h, though GCP spot would cost 2 x $20.  (The bound before
 * this one ignored the policy and said $40.) */
static void test_policy_respected(void **state)
{
    struct world w;
    struct policy *pol = lab_policy();

    (void)state;
    world_open(&w, JOBS_HEAD "0,big,lab,train,H100,16,3600,\n", NULL);
    w.od[offer(&w, "az8")] = 4;
    w.od[offer(&w, "gcp8")] = 4;
    w.spot[offer(&w, "gcp8")] = 4;
    assert_true(NEAR(bound(&w, pol, 0), 200));
    assert_true(NEAR(bound(&w, NULL, 0), 40)); /* with no policy, GCP spot */
    policy_free(pol);
    world_close(&w);
}

/* Two 1-node jobs at 0 that must be done within the hour, one node of the
 * $80 offer: the second takes the $90 one ($170).  Given two hours, both
 * fit on the cheap node one after the other ($160).  (The old bound, with
 * no capacity, said $160 for both.) */
static void test_capacity_binds(void **state)
{
    struct world w;

    (void)state;
    world_open(&w, JOBS_HEAD "0,a,lab,batch,H100,8,3600,0\n0,b,lab,batch,H100,8,3600,0\n",
               NULL);
    w.od[offer(&w, "gcp8")] = 1;
    w.od[offer(&w, "gcp8b")] = 1;
    assert_true(NEAR(bound(&w, NULL, 3600), 170));
    assert_true(NEAR(bound(&w, NULL, 7200), 160));
    w.od[offer(&w, "gcp8b")] = 0; /* no second offer: only time helps */
    assert_true(NEAR(bound(&w, NULL, 7200), 160));
    world_close(&w);
}

/* The price of gcp8 drops from $50 to $10 at 2 h.  A job released at 3 h
 * pays $10; one that must be done by 1 h pays $50 (the old bound took the
 * lowest price of the whole trace, $10, for both).  With one node until
 * 4 h, a 2-hour job from 0 and a 1-hour job from 3 h: the cheap stretch
 * [2 h, 4 h) holds two of the three node-hours, so the bound is 10 + 10 +
 * 50 = $70. */
static void test_prices_in_force(void **state)
{
    static const char prices[] =
        "time_s,location,instance_type,price_hour,spot_price_hour\n"
        "0,gcp/us-central1,gcp8,50,none\n"
        "7200,gcp/us-central1,gcp8,10,\n";
    struct world w;

    (void)state;
    world_open(&w, JOBS_HEAD "10800,late,lab,batch,H100,8,3600,0\n", prices);
    w.od[offer(&w, "gcp8")] = 1;
    assert_true(NEAR(bound(&w, NULL, 4 * 3600), 10));
    world_close(&w);

    world_open(&w, JOBS_HEAD "0,early,lab,batch,H100,8,3600,0\n", prices);
    w.od[offer(&w, "gcp8")] = 1;
    assert_true(NEAR(bound(&w, NULL, 3600), 50));
    assert_true(NEAR(bound(&w, NULL, 0), 10)); /* no end: it may wait for the drop */
    world_close(&w);

    world_open(&w,
               JOBS_HEAD
               "0,long,lab,batch,H100,8,7200,0\n10800,short,lab,batch,H100,8,3600,0\n",
               prices);
    w.od[offer(&w, "gcp8")] = 1;
    assert_true(NEAR(bound(&w, NULL, 4 * 3600), 70));
    world_close(&w);
}

/* Data in azure/eastus, 100 GB: GCP spot ($20) plus moving the data
 * ($0.10 x 100) beats Azure ($100); with 1,000 GB Azure wins.  The move
 * is in the cost of the cloud the data left. */
static void test_egress_counted(void **state)
{
    struct world w;
    struct sim_result r;
    struct err e;

    (void)state;
    world_open(
        &w,
        "submit_s,job_id,team,kind,accelerator,gpus,duration_s,data_location,data_gb\n"
        "0,d,lab,batch,H100,8,3600,azure/eastus,100\n",
        NULL);
    w.od[offer(&w, "az8")] = 1;
    w.spot[offer(&w, "gcp8")] = 1;
    assert_true(NEAR(bound(&w, NULL, 0), 30));
    /* the move is Azure's bill (the data leaves it), the node GCP's; the
     * bound counted all of it where the job ran before */
    if (sim_bound_lp(&w.in, NULL, 3600, 0, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(NEAR(r.cost_by_cloud[sim_cloud_index("azure")], 10));
    assert_true(NEAR(r.cost_by_cloud[sim_cloud_index("gcp")], 20));
    assert_true(NEAR(r.egress_cost, 10));
    sim_result_free(&r);
    world_close(&w);
    world_open(
        &w,
        "submit_s,job_id,team,kind,accelerator,gpus,duration_s,data_location,data_gb\n"
        "0,d,lab,batch,H100,8,3600,azure/eastus,1000\n",
        NULL);
    w.od[offer(&w, "az8")] = 1;
    w.spot[offer(&w, "gcp8")] = 1;
    assert_true(NEAR(bound(&w, NULL, 0), 100));
    world_close(&w);
}

/* A relayed move is billed by each cloud the data leaves: 100 GB from GCP
 * to Azure go by OCI ($0.02 + $0.03 a GB, against $0.10 straight), so of
 * the $5 GCP bills $2 and OCI $3; the node on Azure $100. */
static void test_egress_relayed_by_source(void **state)
{
    struct world w;
    struct sim_result r;
    struct err e;

    (void)state;
    extra_egress = "inter_cloud,gcp,us-central1,oci,us-ashburn-1,0.02\n"
                   "inter_cloud,oci,us-ashburn-1,azure,eastus,0.03\n";
    world_open(
        &w,
        "submit_s,job_id,team,kind,accelerator,gpus,duration_s,data_location,data_gb\n"
        "0,d,lab,batch,H100,8,3600,gcp/us-central1,100\n",
        NULL);
    extra_egress = "";
    w.od[offer(&w, "az8")] = 1;
    if (sim_bound_lp(&w.in, NULL, 3600, 0, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(NEAR(r.cost, 105));
    assert_true(NEAR(r.cost_by_cloud[sim_cloud_index("azure")], 100));
    assert_true(NEAR(r.cost_by_cloud[sim_cloud_index("gcp")], 2));
    assert_true(NEAR(r.cost_by_cloud[sim_cloud_index("oci")], 3));
    sim_result_free(&r);
    world_close(&w);
}

/* Inference kept on Azure ($100), overflowing to GCP ($80) only when Azure
 * is full.  Two 1-node jobs at once with two Azure nodes: Azure is never
 * full, so no schedule overflows and the bound is 2 x $100 (it said 2 x $80
 * before it knew overflow).  With one Azure node a schedule may fill it and
 * send the other job to GCP, so overflow stays open to the program, which
 * then puts both there ($160, below the $180 a schedule pays).  A simulated
 * run pays at least the bound in both, and an injected fault (which can
 * leave Azure unusable) keeps the overflow open too; so do a compared
 * baseline that puts every job on GCP (it skips Azure), and another offer
 * of Azure's instance type (the controller counts capacity per type). */
static void test_overflow_only_when_full(void **state)
{
    static const char pol_text[] = "rules:\n"
                                   "  - name: inference-azure-first\n"
                                   "    match: {kind: infer}\n"
                                   "    allow: [azure]\n"
                                   "    overflow: [gcp]\n"
                                   "    spot: forbid\n";
    static const struct sim_event stockout[] = {
        {1800, "stockout", "azure/eastus 3600", "(test)", 1, 3600}};
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};
    struct policy *pol = NULL;
    struct sim_result r;
    struct world w;
    struct err e;

    (void)state;
    if (policy_load_mem(&pol, "policy.yaml", pol_text, strlen(pol_text), &e) != 0)
        fail_msg("%s", e.msg);
    sp.pol = pol;
    world_open(&w, JOBS_HEAD "0,a,lab,infer,H100,8,3600,\n0,b,lab,infer,H100,8,3600,\n", NULL);
    w.od[offer(&w, "az8")] = 2;
    w.od[offer(&w, "gcp8")] = 2;
    assert_true(NEAR(bound(&w, pol, 3600), 200));
    assert_true(NEAR(bound(&w, NULL, 3600), 160)); /* no policy: GCP for both */
    w.in.launch_delay_s = 60;
    if (sim_run(&w.in, &sp, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(r.cost >= bound(&w, pol, r.end_s) - 1e-6);
    sim_result_free(&r);
    w.in.events = stockout;
    w.in.nevents = 1;
    assert_true(NEAR(bound(&w, pol, 3600), 160));
    w.in.events = NULL;
    w.in.nevents = 0;
    w.od[offer(&w, "az8")] = 1;
    assert_true(NEAR(bound(&w, pol, 3600), 160));
    if (sim_run(&w.in, &sp, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(r.cost >= bound(&w, pol, r.end_s) - 1e-6);
    sim_result_free(&r);
    w.od[offer(&w, "az8")] = 2;
    assert_true(NEAR(bound(&w, pol, 3600), 200));
    {
        /* a compared baseline that puts every job on GCP skips Azure */
        static const char *const gcp_only[] = {"gcp"};

        w.in.narrowed = gcp_only;
        w.in.nnarrowed = 1;
        assert_true(NEAR(bound(&w, pol, 3600), 160));
        w.in.narrowed = NULL;
        w.in.nnarrowed = 0;
    }
    world_close(&w);
    /* another offer of the same cloud, region, zone and instance type (the
     * controller counts capacity and blocks per instance type, not per
     * offer): overflow stays open */
    extra_offers = "azure,eastus,,az8,A100-80GB,8,,50,\n";
    world_open(&w, JOBS_HEAD "0,a,lab,infer,H100,8,3600,\n0,b,lab,infer,H100,8,3600,\n", NULL);
    extra_offers = "";
    for (size_t i = 0; i < catalog_noffers(w.cat); i++)
        if (strcmp(catalog_offer(w.cat, i)->instance_type, "az8") == 0)
            w.od[i] = 2;
    w.od[offer(&w, "gcp8")] = 2;
    assert_true(NEAR(bound(&w, pol, 3600), 160));
    policy_free(pol);
    world_close(&w);
}

/* What a run of the controller holds of an on-demand pool within one step
 * is more than one attempt per job of it: a spot launch's reservation
 * counts against the offer's on-demand nodes where a driver does not tell
 * the pools apart, and the deadline rule may stop an attempt and launch the
 * next before the driver lets the first go.  Two worlds a reviewer built,
 * where the bound that counted neither closed the overflow and then stood
 * above what the controller paid ($110 against $90; $10,010 against
 * $8,180): now each run pays at least the bound. */
static void test_overflow_bound_holds_within_a_step(void **state)
{
#define RULES(train_spot)                                                                  \
    "rules:\n  - name: inference-azure-first\n    match: {kind: infer}\n"                    \
    "    allow: [azure]\n    overflow: [gcp]\n    spot: forbid\n"                             \
    "  - name: training\n    match: {kind: train}\n    allow: [azure]\n"                       \
    "    spot: " train_spot "\n"
    static const char *const pol_text[2] = {RULES("require"), RULES("allow")};
#undef RULES
    static const char spot_trace[] = "time_s,location,instance_type,preempted\n"
                                     "0,azure/eastus,az8s,1\n3000,azure/eastus,az8s,0\n";
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};
    struct trace spot;

    (void)state;
    for (int c = 0; c < 2; c++) {
        struct policy *pol = NULL;
        struct sim_result r;
        struct world w;
        struct err e;

        if (policy_load_mem(&pol, "policy.yaml", pol_text[c], strlen(pol_text[c]), &e) != 0)
            fail_msg("%s", e.msg);
        sp.pol = pol;
        if (c == 0) { /* a spot job and an inference job at once */
            world_open(&w, JOBS_HEAD "0,s,lab,train,H100,8,3600,\n0,a,lab,infer,H100,8,3600,\n",
                       NULL);
            w.od[offer(&w, "az8s")] = 1;
            w.spot[offer(&w, "az8s")] = 1;
        } else { /* a deadline job the rule switches as an inference job arrives */
            world_open(&w,
                       "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s\n"
                       "0,j,lab,train,H100,8,3600,13000\n3000,a,lab,infer,H100,8,360000,\n",
                       NULL);
            w.od[offer(&w, "az8s")] = 2;
            w.spot[offer(&w, "az8s")] = 1;
            trace_init(&spot);
            if (trace_load_spot_mem(&spot, "spot.csv", spot_trace, strlen(spot_trace), &e) != 0)
                fail_msg("%s", e.msg);
            w.in.spot = &spot;
            w.in.restore_s = 300;
        }
        w.od[offer(&w, "gcp8")] = 1;
        w.in.launch_delay_s = 60;
        if (sim_run(&w.in, &sp, &r, &e) != 0)
            fail_msg("%s", e.msg);
        assert_int_equal(r.failed, 0);
        print_message("world %d: stratus $%.2f >= bound $%.2f\n", c, r.cost,
                      bound(&w, pol, r.end_s));
        assert_true(r.cost >= bound(&w, pol, r.end_s) - 1e-6);
        sim_result_free(&r);
        if (c == 1)
            trace_free(&spot);
        policy_free(pol);
        world_close(&w);
    }
}

/* A job no offer with capacity can take is counted as failed, not priced. */
static void test_no_capacity_fails(void **state)
{
    struct world w;
    struct sim_result r;
    struct err e;

    (void)state;
    world_open(&w, JOBS_HEAD "0,a,lab,batch,H100,8,3600,0\n", NULL);
    assert_int_equal(sim_bound_lp(&w.in, NULL, 3600, 0, &r, &e), 0);
    assert_int_equal(r.failed, 1);
    assert_true(NEAR(r.cost, 0));
    sim_result_free(&r);
    world_close(&w);
}

/* ---- a small study on the shipped catalog, fleet and policy ---- */

static char *small_workload(void)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(
        &b,
        "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s,checkpoint_s,"
        "data_location,data_gb\n");
    for (int i = 0; i < 60; i++) {
        int g = i % 5 == 0 ? 16 : i % 3 == 0 ? 8 : 1;
        int d = 900 + (i * 977) % 14000;

        buf_printf(&b, "%d,j%d,lab,%s,%s,%d,%d,,%s,%s,%d\n", i * 900, i,
                   g >= 8 && d > 3600 ? "train" : "batch", g >= 8 ? "H100" : "A100-80GB",
                   g, d, d > 3600 ? "1800" : "",
                   i % 2 ? "azure/eastus" : "gcp/us-central1", 10 + i);
    }
    char *out = xstrdup(buf_cstr(&b));

    buf_free(&b);
    return out;
}

/* One node of gcp8 committed (at $30, paid whatever runs): committed
 * node-hours cost 0 in the program, but only one node at a time.  Two
 * 1-node jobs done within the hour: one on the commitment, one on demand at
 * $80 (a bound that let every node of the offer run at the commitment's
 * price would say $60).  Given two hours both run on the commitment. */
static void test_committed_nodes(void **state)
{
    struct world w;

    (void)state;
    two_jobs_one_committed(&w);
    assert_true(NEAR(bound(&w, NULL, 3600), 80));
    assert_true(NEAR(bound(&w, NULL, 7200), 0));
    world_close(&w);
}

/* A committed attempt that outlives its commitment runs on demand from the
 * commitment's end, and the bill says so: one committed node of gcp8 until
 * 1 h into the study, a 4-hour job that may not use spot: 1 hour committed,
 * then 3 hours at gcp8's $80 (a review found the run billed $0 for all 4
 * and below the bound).  The bound stays below the run. */
static void test_commitment_ends(void **state)
{
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};
    struct sim_result r, lb;
    struct world w;
    struct err e;

    (void)state;
    world_open(&w, JOBS_HEAD "0,a,lab,batch,H100,8,14400,0\n", NULL);
    w.od[offer(&w, "gcp8")] = 1;
    world_commit(&w, "cloud,region,instance_type,nodes,start,end,price_hour\n"
                     "gcp,us-central1,gcp8,1,,2024-01-01T01:00:00Z,30\n");
    if (sim_run(&w.in, &sp, &r, &e) != 0 ||
        sim_offline_bound(&w.in, NULL, r.end_s, &lb, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(r.failed, 0);
    print_message("expired $%.2f, run $%.2f, bound $%.2f\n", r.commit_expired, r.cost, lb.cost);
    /* launched at 0, running from the launch delay: past 1 h, 3 h at $80 */
    assert_true(fabs(r.commit_expired - 80 * (r.end_s - 3600) / 3600) < 1e-6);
    sim_charge_commitments(&w.in, r.end_s, &r);
    sim_charge_commitments(&w.in, r.end_s, &lb);
    assert_true(r.cost >= lb.cost - 1e-6);
    sim_result_free(&r);
    sim_result_free(&lb);
    world_close(&w);
}

/* Jobs held to their submission (sim_input.pin; the policy gives them no
 * patience and every run started them at once): the two 1-hour jobs of
 * test_committed_nodes may no longer take turns on the one committed node
 * within two hours.  Both start at 0 (within SIM_PROMPT_S, no launch delay
 * here): by 1 h each has done at least 3540 s of its hour, 1.967 node-hours
 * in all, of which the committed node gives 1 and gcp8 on demand the rest,
 * at $80.  A run that starts them at once is marked so; one that makes the
 * second wait (one node on demand) is not. */
static void test_pinned_jobs(void **state)
{
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};
    static const unsigned char both[2] = {1, 1};
    struct sim_result r;
    struct world w;
    struct err e;

    (void)state;
    two_jobs_one_committed(&w);
    assert_true(NEAR(bound(&w, NULL, 7200), 0));
    w.in.pin = both;
    assert_true(NEAR(bound(&w, NULL, 7200), 80 * (2 * (3600 - SIM_PROMPT_S) / 3600 - 1)));
    w.in.pin = NULL;
    if (sim_run(&w.in, &sp, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_true(r.prompt[0] && r.prompt[1]);
    sim_result_free(&r);
    w.od[offer(&w, "gcp8")] = 1; /* the second waits for the first */
    if (sim_run(&w.in, &sp, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(r.prompt[0] + r.prompt[1], 1);
    sim_result_free(&r);
    world_close(&w);
}

/* How much of the committed node-hours ran work.  One committed node of
 * gcp8b over a study of two 1-hour jobs (spot_ok 0): run together, the
 * committed node serves one of them for its hour; a 2-node gang serves it
 * only through the bill (its on-demand nodes covered: the give-back).  The
 * program given two hours keeps it busy for both jobs' hours. */
static void test_commitment_use(void **state)
{
    static const char *const jobs[] = {
        JOBS_HEAD "0,a,lab,batch,H100,8,3600,0\n0,b,lab,batch,H100,8,3600,0\n",
        JOBS_HEAD "0,g,lab,batch,H100,16,3600,0\n"};
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct sim_result r, lb;
        struct world w;
        struct err e;

        world_open(&w, jobs[i], NULL);
        w.od[offer(&w, "gcp8b")] = 2;
        w.in.launch_delay_s = 60;
        world_commit(&w, "cloud,region,instance_type,nodes,price_hour\n"
                         "gcp,us-central1,gcp8b,1,30\n");
        if (sim_run(&w.in, &sp, &r, &e) != 0 ||
            sim_bound_lp(&w.in, NULL, 3600, 7200, &lb, &e) != 0)
            fail_msg("%s", e.msg);
        assert_int_equal(r.failed, 0);
        sim_charge_commitments(&w.in, r.end_s, &r);
        print_message("use %d: %.4f of %.4f node-hours; bound %.4f\n", i, r.commit_used_h,
                      r.commit_node_h, lb.commit_used_h);
        assert_true(NEAR(r.commit_node_h, r.end_s / 3600)); /* one node over the study */
        assert_true(NEAR(r.commit_used_h, 1.0));            /* one node for the hour */
        assert_true(NEAR(lb.commit_used_h, 2.0));           /* both jobs, one after the other */
        sim_result_free(&r);
        sim_result_free(&lb);
        world_close(&w);
    }
}

/* The bill gives back on-demand node-hours with free committed nodes of
 * the commitment's group (cloud, region, instance type) for any gang: a
 * 2-node gang on gcp8b beside one committed node ($20 of its $180 given
 * back).  With the commitment bound to another zone the bill gives nothing
 * back (it covers machines in its zone alone); the program pools it with
 * the region's, which only lowers the bound.  The program gave committed
 * nodes only to jobs the plan offered them to (a gang no larger than one
 * commitment, in its zone) and stood above the run: now each run pays at
 * least the bound, fixed costs on both sides. */
static void test_commitment_group_gives_back(void **state)
{
    static const char *const files[] = {
        "cloud,region,instance_type,nodes,price_hour\ngcp,us-central1,gcp8b,1,30\n",
        "cloud,region,zone,instance_type,nodes,price_hour\n"
        "gcp,us-central1,us-central1-b,gcp8b,1,30\n"};
    struct sim_policy sp = {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1};

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct sim_result r, lb;
        struct world w;
        struct err e;

        if (i == 1) /* the commitment's zone needs an offer of its own */
            extra_offers = "gcp,us-central1,us-central1-b,gcp8b,H100,8,,90,\n";
        world_open(&w, JOBS_HEAD "0,g,lab,batch,H100,16,3600,0\n", NULL);
        extra_offers = "";
        w.od[offer(&w, "gcp8b")] = 2; /* the first: zone a */
        w.in.launch_delay_s = 60;
        world_commit(&w, files[i]);
        if (sim_run(&w.in, &sp, &r, &e) != 0 ||
            sim_offline_bound(&w.in, NULL, r.end_s, &lb, &e) != 0)
            fail_msg("%s", e.msg);
        assert_int_equal(r.failed, 0);
        /* the bill gave some back, in the commitment's zone only */
        assert_true(i == 0 ? r.commit_covered > 0 : r.commit_covered == 0);
        sim_charge_commitments(&w.in, r.end_s, &r);
        sim_charge_commitments(&w.in, r.end_s, &lb);
        print_message("commitments %d: stratus $%.2f >= bound $%.2f\n", i, r.cost, lb.cost);
        assert_true(r.cost >= lb.cost - 1e-6);
        sim_result_free(&r);
        sim_result_free(&lb);
        world_close(&w);
    }
}

/* Every simulated policy, all of which obey the org policy, pays at least
 * the bound for schedules done when the last of them was; with commitments
 * (committed ND H100 nodes in azure/eastus) both sides pay their fixed cost
 * over the same window. */
static void below_simulated(const char *commitments)
{
    struct sim_policy pols[] = {
        {"stratus", NULL, 1, 0, 1, 0, NULL, 0, 1, 1, 1},
        {"spot-else-ondemand", NULL, 0, 1, 0, 0, NULL, 0, 0, 0, 0},
        {"cheapest-ondemand", NULL, 0, 1, 0, 1, NULL, 0, 0, 0, 0},
    };
    struct sim_result r[3], lb, blind;
    struct policy *pol = NULL;
    struct catalog *cat = NULL;
    struct trace work;
    struct sim_input in;
    char *jobs = small_workload();
    unsigned char *pin;
    double end_s = 0;
    struct err e;
    long *od = NULL, *sp = NULL;

    trace_init(&work);
    if (catalog_load(&cat, SOURCE_DIR "/catalog", &e) != 0 ||
        policy_load_file(&pol, SOURCE_DIR "/examples/policy.yaml", &e) != 0 ||
        trace_load_jobs_mem(&work, "jobs.csv", jobs, strlen(jobs), &e) != 0 ||
        sim_load_fleet(cat, SOURCE_DIR "/examples/sim/fleet.csv", &od, &sp, &e) != 0)
        fail_msg("%s", e.msg);
    if (commitments) {
        char *dir = tu_mkdtemp(), *path = xasprintf("%s/c.csv", dir);

        tu_write(dir, "c.csv", commitments);
        if (catalog_load_commitments(cat, path, &e) != 0)
            fail_msg("%s", e.msg);
        tu_rmdir(dir);
        free(dir);
        free(path);
    }
    memset(&in, 0, sizeof(in));
    in = (struct sim_input){.cat = cat,
                            .work = &work,
                            .od_cap = od,
                            .spot_cap = sp,
                            .t0 = 1704067200.0,
                            .launch_delay_s = 60,
                            .restore_s = 300,
                            .bucket_s = 86400};
    for (int i = 0; i < 3; i++) {
        pols[i].pol = pol;
        if (sim_run(&in, &pols[i], &r[i], &e) != 0)
            fail_msg("%s", e.msg);
        assert_int_equal(r[i].failed, 0);
        end_s = fmax(end_s, r[i].end_s);
    }
    /* the jobs all three started at once and ran on one attempt: held to
     * their submission where the policy does not let them wait */
    pin = xcalloc(work.njobs + 1, 1);
    for (size_t j = 0; j < work.njobs; j++)
        pin[j] = r[0].prompt[j] && r[1].prompt[j] && r[2].prompt[j];
    in.pin = pin;
    if (sim_offline_bound(&in, pol, end_s, &lb, &e) != 0)
        fail_msg("%s", e.msg);
    in.pin = NULL;
    if (sim_offline_bound(&in, NULL, end_s, &blind, &e) != 0)
        fail_msg("%s", e.msg);
    print_message("pinned %zu jobs\n", lb.lp_pinned);
    assert_true(lb.lp_pinned > 0);
    assert_true(lb.cost > 0);
    for (int i = 0; i < 3; i++)
        sim_charge_commitments(&in, end_s, &r[i]);
    sim_charge_commitments(&in, end_s, &lb);
    sim_charge_commitments(&in, end_s, &blind);
    assert_true((lb.commit_cost > 0) == (commitments != NULL));
    for (int i = 0; i < 3; i++) {
        assert_true(NEAR(r[i].commit_cost, lb.commit_cost));
        print_message("%s $%.2f >= bound $%.2f\n", r[i].name, r[i].cost, lb.cost);
        assert_true(r[i].cost >= lb.cost);
        sim_result_free(&r[i]);
    }
    assert_true(blind.cost <= lb.cost + 1e-6); /* the policy only takes choices away */
    assert_int_equal(lb.lp_horizon_s > 0, 1);
    sim_result_free(&lb);
    sim_result_free(&blind);
    free(pin);
    free(jobs);
    free(od);
    free(sp);
    trace_free(&work);
    policy_free(pol);
    catalog_free(cat);
}

static void test_below_simulated(void **state)
{
    (void)state;
    below_simulated(NULL);
}

static void test_below_simulated_committed(void **state)
{
    (void)state;
    below_simulated("cloud,region,zone,instance_type,nodes,term,start,discount\n"
                    "azure,eastus,,Standard_ND96isr_H100_v5,6,1y,2024-01-01,0.32\n"
                    "azure,eastus,,Standard_NC24ads_A100_v4,2,1y,2024-01-01,0.32\n");
}

/* A job of one H100-hour that may run on A100-80GB (half as fast): ever,
 * two hours of gcpa at $30 ($60) beat one of gcp8 at $80; by one hour, gcpa's
 * one node-hour does half the work and gcp8 the other half: 30 + 40 = $70.
 * The bound counts node-hours at each candidate's speed; the simulated run
 * pays at least it. */
static void test_speed_of_alternatives(void **state)
{
    struct sim_policy pol = {"stratus", NULL, 0, 0, 0, 0, NULL, 0, 1, 0, 0};
    struct sim_result r;
    struct world w;
    struct err e;

    (void)state;
    world_open(&w, JOBS_HEAD "0,a,lab,batch,H100|A100-80GB,8,3600,0\n", NULL);
    w.od[offer(&w, "gcp8")] = 1;
    w.od[offer(&w, "gcpa")] = 1;
    assert_true(NEAR(bound(&w, NULL, 0), 60));
    assert_true(NEAR(bound(&w, NULL, 3600), 70));
    w.od[offer(&w, "gcpa")] = 0; /* only H100 left: one hour of it */
    assert_true(NEAR(bound(&w, NULL, 0), 80));
    w.od[offer(&w, "gcpa")] = 1;
    w.in.launch_delay_s = 60;
    if (sim_run(&w.in, &pol, &r, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(r.failed, 0);
    assert_true(NEAR(r.cost, 60)); /* two hours on gcpa */
    assert_true(r.cost >= bound(&w, NULL, r.end_s) - 1e-6);
    sim_result_free(&r);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_respected),
        cmocka_unit_test(test_capacity_binds),
        cmocka_unit_test(test_prices_in_force),
        cmocka_unit_test(test_egress_counted),
        cmocka_unit_test(test_egress_relayed_by_source),
        cmocka_unit_test(test_no_capacity_fails),
        cmocka_unit_test(test_below_simulated),
        cmocka_unit_test(test_committed_nodes),
        cmocka_unit_test(test_below_simulated_committed),
        cmocka_unit_test(test_speed_of_alternatives),
        cmocka_unit_test(test_overflow_only_when_full),
        cmocka_unit_test(test_overflow_bound_holds_within_a_step),
        cmocka_unit_test(test_commitment_group_gives_back),
        cmocka_unit_test(test_commitment_use),
        cmocka_unit_test(test_pinned_jobs),
        cmocka_unit_test(test_commitment_ends),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
