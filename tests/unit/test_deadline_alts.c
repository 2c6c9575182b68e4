/*
 * test_deadline_alts.c - the deadline rule (src/sched/sched_place.c) for
 * jobs whose spec lists alternatives: H100:8 does the job's hour of work in
 * 1 h, A10:4 in 4 h (throughput.csv below).  The cases a review of the
 * first version found wrong, each failing before its fix: the fastest
 * alternative counted although it had no on-demand place (A, and with
 * restarts R); a spot-only spec kept off its one usable alternative (D); a
 * slow alternative taken with no room for its launch (C); hysteresis giving
 * up a whole run without checkpoints (B), or flapping when a location's
 * timing differs from the default (H); a job of higher priority displacing
 * another for a place it would then refuse (V), or backfill stopped for a
 * committed node it would refuse (K); the fastest alternative counted though
 * its on-demand places had no nodes (A'); a job latched on demand on an
 * alternative that could not finish when only the fast one's spot could
 * (S); hysteresis deciding on the places its placement saw (T); more than
 * 64 alternatives (M); several jobs counting the one free H100 node (N);
 * a slow spot refused, or stopped, for an on-demand fallback the job could
 * not launch on (Q); a job latched on demand kept there once no on-demand
 * alternative could finish (L), or latched on one it could not launch (G).
 * Each prints the job's attempts, then asserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include "plan/plan.h"
#include "policy/org.h"
#include "schedtest.h"
#include "sim/trace.h"
#include "testutil.h"

#define H 3600.0
/* per GPU; per node: H100:8 = 16, L4:4 = 8 (speed 1/2), A10:4 = 4 (1/4) */
static const char thr_csv[] = "accelerator,train,infer,cores_per_chip,source,note\n"
                              "H100,2,4,,test,\nA10,1,1,,test,\nL4,2,2,,test,\n";
struct world {
    struct st w;
    char *dir;
    struct trace spot;
    int has_trace;
};

static void wopen(struct world *x, void (*setup)(struct st *))
{
    struct st_opts o = {0};
    memset(x, 0, sizeof(*x));
    x->dir = tu_mkdtemp();
    tu_copy_dir(TEST_DATA "/sched/catalog", x->dir);
    tu_write(x->dir, "throughput.csv", thr_csv);
    o.catalog = x->dir;
    st_init(&x->w, &o);
    x->w.p.cfg.relaunch_overhead_s = 60;
    x->w.p.cfg.deadline_rule = SCHED_DEADLINE_UNIFORM;
    if (setup)
        setup(&x->w);
    st_start(&x->w);
}
static void wclose(struct world *x)
{
    st_free(&x->w);
    if (x->has_trace)
        trace_free(&x->spot);
    tu_rmdir(x->dir);
    free(x->dir);
}
static const char *mname(int m)
{
    return m == PLAN_SPOT ? "spot" : m == PLAN_ONDEMAND ? "od" : "committed";
}
static int dump(struct st *w, int64_t id, const char *tag)
{
    struct store_job j = st_job(w, id);
    size_t n = st_nattempts(w, id), k;
    int late;
    printf("== %s: job %lld state %d on_demand_only %d submitted +0 deadline +%.0f ended "
           "+%.0f  %s\n",
           tag, (long long)id, j.state, j.on_demand_only, j.deadline_at - j.submitted_at,
           j.ended_at - j.submitted_at, j.ended_at > j.deadline_at ? "LATE" : "on time");
    for (k = 1; k <= n; k++) {
        struct store_attempt a = st_attempt(w, id, (int)k);
        printf("   att %zu %s %s %s/%s launched +%.0f running +%.0f ended +%.0f reason "
               "%d $%.2f/h\n",
               k, a.accelerator, mname(a.mode), a.cloud, a.region,
               a.launched_at - j.submitted_at, a.running_at - j.submitted_at,
               a.ended_at - j.submitted_at, a.end_reason, a.price_hour);
        store_attempt_clear(&a);
    }
    late = j.ended_at > j.deadline_at || j.state != JOB_SUCCEEDED;
    store_job_clear(&j);
    return late;
}
/* Did some attempt of job id run on accelerator acc? */
static int on_accelerator(struct st *w, int64_t id, const char *acc)
{
    size_t n = st_nattempts(w, id), k;
    int on = 0;

    for (k = 1; k <= n; k++) {
        struct store_attempt a = st_attempt(w, id, (int)k);

        on |= strcmp(a.accelerator, acc) == 0;
        store_attempt_clear(&a);
    }
    return on;
}

/* Did job id leave on-demand (displaced) only to go on demand again? */
static int flapped(struct st *w, int64_t id)
{
    size_t n = st_nattempts(w, id), k;
    int flap = 0;

    for (k = 1; k < n; k++) {
        struct store_attempt a = st_attempt(w, id, (int)k),
                             b = st_attempt(w, id, (int)k + 1);

        flap |= a.mode == PLAN_ONDEMAND && a.end_reason == ATT_END_DISPLACED &&
                b.mode != PLAN_SPOT;
        store_attempt_clear(&a);
        store_attempt_clear(&b);
    }
    return flap;
}

/* The fixture's three H100 offers (gcp us-central1 and europe-west4, azure
 * eastus): each sold on demand and on spot at its list price (80/88/96 and
 * 20/24/36 an hour) or not (od, spot 0); or od and spot nodes of each. */
static const char *const h100s[3][3] = {{"gcp", "us-central1", "a3-highgpu-8g"},
                                        {"gcp", "europe-west4", "a3-highgpu-8g"},
                                        {"azure", "eastus", "Standard_ND96isr_H100_v5"}};

static void h100_sold(struct st *w, int od, int spot)
{
    static const double od_price[3] = {80, 88, 96}, spot_price[3] = {20, 24, 36};
    int i;

    for (i = 0; i < 3; i++)
        st_set_price(w, h100s[i][0], h100s[i][1], h100s[i][2], od ? od_price[i] : -1,
                     spot ? spot_price[i] : -1);
}

static void h100_nodes(struct st *w, long od, long spot)
{
    int i;

    for (i = 0; i < 3; i++)
        st_set_capacity(w, h100s[i][0], h100s[i][1], h100s[i][2], od, spot);
}

static int running_is(struct st *w, void *ctx)
{
    int64_t id = *(int64_t *)ctx;
    return st_job_state(w, id) == JOB_RUNNING;
}
/* Submit spec in x's world and run it to its end, on time (tag names it in
 * the dump): its id. */
static int64_t run_on_time(struct world *x, const char *spec, const char *tag)
{
    int64_t id = st_submit(&x->w, spec);

    assert_true(st_run_all(&x->w, ST_T0 + 48 * H));
    assert_int_equal(dump(&x->w, id, tag), 0);
    return id;
}

static void preempt(struct st *w, int64_t id)
{
    char arg[32];
    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    assert_int_equal(st_inject(w, "preempt-job", arg), 0);
}

/* ---- A: fast alternative sold only as spot; slow one on demand.  The
 * fast one goes away after a preemption: the job waits ahead of its line
 * (Safety Net counted at the fast speed) and takes the slow on-demand with
 * less than the changeover left. */
static void setup_a(struct st *w)
{
    h100_sold(w, 0, 1);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8, 0);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 8, 0);
}
static void test_a_fast_spot_only_then_gone(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    int64_t id;
    (void)state;
    wopen(&x, setup_a);
    id = st_submit(w, "name: alt\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                      "stratus:\n  kind: train\n  duration: 1h\n  deadline: 4h15m\n"
                      "  checkpoint: {interval: 10m, restore: 5m}\n");
    st_run_until(w, running_is, &id, ST_T0 + 2 * H);
    a = st_attempt(w, id, 1);
    printf("A: att1 %s %s running at +%.0f\n", a.accelerator, mname(a.mode),
           a.running_at - ST_T0);
    if (a.mode == PLAN_SPOT && strcmp(a.accelerator, "H100") == 0) {
        st_run_to(w, a.running_at + 57 * 60);
        preempt(w, id);
        h100_sold(w, 0, 0);
    }
    store_attempt_clear(&a);
    assert_true(st_run_all(w, ST_T0 + 24 * H));
    assert_int_equal(dump(w, id, "A"), 0); /* on time: latched on A10 on demand */
    wclose(&x);
}

/* ---- D: spot-only spec (use_spot: true) with alternatives; H100 spot
 * full, A10 spot free.  Deadline 5 h: A10 (4 h) makes it at once. */
static void setup_d(struct st *w)
{
    h100_nodes(w, 4, 0);
}
static void test_d_spot_only_spec(void **state)
{
    struct world x;
    int64_t id;
    (void)state;
    wopen(&x, setup_d);
    id = run_on_time(
        &x,
        "name: alt\nresources:\n  accelerators: {H100: 8, A10: 4}\n  use_spot: true\n"
        "stratus:\n  kind: train\n  duration: 1h\n  deadline: 5h\n"
        "  checkpoint: {interval: 30m, restore: 5m}\n",
        "D spot-only");
    assert_int_equal(st_nattempts(&x.w, id), 1); /* A10 spot at once */
    wclose(&x);
}

/* ---- C: late()'s on-demand test leaves no room for the launch. */
static void setup_c(struct st *w)
{
    h100_nodes(w, 8, 0);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8, 0);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 8, 0);
}
static void test_c_late_no_overhead(void **state)
{
    struct world x;
    int64_t id;
    (void)state;
    wopen(&x, setup_c);
    id = run_on_time(&x,
                     "name: alt\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                     "stratus:\n  kind: train\n  duration: 1h\n  deadline: 14450s\n"
                     "  checkpoint: {interval: 30m, restore: 5m}\n",
                     "C");
    assert_int_equal(on_accelerator(&x.w, id, "A10"),
                     0); /* 25 s of slack: no launch fits */
    wclose(&x);
}

/* ---- worlds with a spot trace (L4 g2-standard-48) ---- */
static void wopen_trace(struct world *x, const char *csv, void (*setup)(struct st *))
{
    struct st_opts o = {0};
    struct err e;
    memset(x, 0, sizeof(*x));
    x->dir = tu_mkdtemp();
    tu_copy_dir(TEST_DATA "/sched/catalog", x->dir);
    tu_write(x->dir, "throughput.csv", thr_csv);
    o.catalog = x->dir;
    st_init(&x->w, &o);
    trace_init(&x->spot);
    err_clear(&e);
    if (trace_load_spot_mem(&x->spot, "spot", csv, strlen(csv), &e) != 0)
        st_die("spot", e.msg);
    x->has_trace = 1;
    x->w.world.spot = &x->spot;
    x->w.p.cfg.relaunch_overhead_s = 60;
    x->w.p.cfg.deadline_rule = SCHED_DEADLINE_UNIFORM;
    if (setup)
        setup(&x->w);
    st_start(&x->w);
}
static void setup_b(struct st *w)
{
    st_set_capacity(w, "gcp", "europe-west4", "g2-standard-48", 0, 0);
}
/* B: no checkpoints, on demand for 50 min of a 1 h job, spot appears. */
static void test_b_hysteresis_no_ckpt(void **state)
{
    struct world x;
    int64_t id;
    char csv[512];
    (void)state;
    snprintf(csv, sizeof(csv),
             "time_s,location,instance_type,available_nodes\n"
             "0,gcp/us-central1/us-central1-a,g2-standard-48,0\n"
             "3000,gcp/us-central1/us-central1-a,g2-standard-48,64\n"
             "%.0f,gcp/us-central1/us-central1-a,g2-standard-48,0\n",
             30 * 86400.0);
    wopen_trace(&x, csv, setup_b);
    id = st_submit(&x.w, "name: nock\nresources:\n  accelerators: L4:4\nrun: train\n"
                         "stratus:\n  duration: 1h\n  deadline: 10h\n");
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    assert_int_equal(dump(&x.w, id, "B no-ckpt hysteresis"), 0);
    assert_int_equal(st_nattempts(&x.w, id), 1); /* leaving would give up its whole run */
    wclose(&x);
}
/* V: a higher-priority deadline job displaces a lower-priority spot job
 * from a place its late() then refuses */
static void setup_v(struct st *w)
{
    h100_nodes(w, 0, 0);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 0, 1);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 0, 0);
}
static void test_v_displace_for_nothing(void **state)
{
    struct world x;
    int64_t lo, hi;
    (void)state;
    wopen(&x, setup_v);
    lo = st_submit(&x.w, "name: lo\nresources:\n  accelerators: A10:4\n"
                         "stratus:\n  kind: train\n  duration: 2h\n  priority: 0\n"
                         "  checkpoint: {interval: 30m, restore: 5m}\n");
    st_run_until(&x.w, running_is, &lo, ST_T0 + H);
    hi = st_submit(
        &x.w, "name: hi\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
              "stratus:\n  kind: train\n  duration: 1h\n  deadline: 3h\n  priority: 10\n"
              "  checkpoint: {interval: 30m, restore: 5m}\n");
    st_run_to(&x.w, ST_T0 + 3 * H);
    dump(&x.w, lo, "V lo (first 3 h)");
    dump(&x.w, hi, "V hi (first 3 h)");
    assert_int_equal(st_nattempts(&x.w, lo), 1); /* never displaced for a late place */
    wclose(&x);
}

static void test_r_restart_in_a(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    int64_t id;
    (void)state;
    wopen(&x, setup_a);
    id = st_submit(w, "name: alt\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                      "stratus:\n  kind: train\n  duration: 1h\n  deadline: 4h15m\n"
                      "  checkpoint: {interval: 10m, restore: 5m}\n");
    st_run_until(w, running_is, &id, ST_T0 + 2 * H);
    a = st_attempt(w, id, 1);
    st_run_to(w, a.running_at + 30 * 60);
    st_restart(w);
    st_run_to(w, a.running_at + 57 * 60);
    preempt(w, id);
    h100_sold(w, 0, 0);
    store_attempt_clear(&a);
    st_run_to(w, ST_T0 + 8000);
    st_restart(w);
    assert_true(st_run_all(w, ST_T0 + 24 * H));
    assert_int_equal(dump(w, id, "R (A with restarts)"), 0);
    wclose(&x);
}

/* H: per-location timing (cfg_at): the location's relaunch overhead is 60 s,
 * the default 120 s.  Hysteresis' kept-slack test uses the location's d, the
 * idle Safety Net the default's. */
static struct sched_config h_loc;
static const struct sched_config *h_cfg_at(void *ctx, const char *cloud,
                                           const char *region)
{
    (void)ctx;
    (void)cloud;
    (void)region;
    return &h_loc;
}
static void setup_h(struct st *w)
{
    st_set_capacity(w, "gcp", "europe-west4", "g2-standard-48", 0, 0);
    w->p.cfg.relaunch_overhead_s = 120;
    h_loc = w->p.cfg;
    h_loc.relaunch_overhead_s = 60;
    w->p.cfg_at = h_cfg_at;
    w->p.cfg_ctx = NULL;
}
static void test_h_cfg_at_flap(void **state)
{
    struct world x;
    int64_t id;
    char csv[512];
    (void)state;
    snprintf(csv, sizeof(csv),
             "time_s,location,instance_type,available_nodes\n"
             "0,gcp/us-central1/us-central1-a,g2-standard-48,0\n"
             "21600,gcp/us-central1/us-central1-a,g2-standard-48,64\n"
             "%.0f,gcp/us-central1/us-central1-a,g2-standard-48,0\n",
             30 * 86400.0);
    wopen_trace(&x, csv, setup_h);
    x.w.p.cfg.relaunch_overhead_s = 120; /* wopen_trace sets 60 */
    id = st_submit(&x.w, "name: dl\nresources:\n  accelerators: L4:4\nrun: train\n"
                         "stratus:\n  duration: 10h\n  deadline: 38060s\n"
                         "  checkpoint:\n    interval: 10m\n    restore: 5m\n");
    assert_true(st_run_all(&x.w, ST_T0 + 30 * H));
    assert_int_equal(dump(&x.w, id, "H cfg_at"), 0);
    assert_int_equal(flapped(&x.w, id), 0);
    wclose(&x);
}

/* ---- A': the fast alternative's on-demand is priced but has no nodes (a
 * fleet that sells none, or, with capacity unknown, stockouts that block
 * it): the slack counts the alternative with on-demand room, A10, and the
 * job is on time (it waited on H100's slack and missed by 1,805 s). */
static int cap_unknown;

static void setup_cap(struct st *w)
{
    h100_nodes(w, 0, 4);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8, 0);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 8, 0);
    w->capacity_unknown =
        cap_unknown; /* a real cloud: stockouts at launch, then blocks */
}

static void fast_od_full(int unknown)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    int64_t id;

    cap_unknown = unknown;
    wopen(&x, setup_cap);
    id = st_submit(w, "name: alt\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                      "stratus:\n  kind: train\n  duration: 1h\n  deadline: 4h15m\n"
                      "  checkpoint: {interval: 10m, restore: 5m}\n");
    st_run_until(w, running_is, &id, ST_T0 + 2 * H);
    a = st_attempt(w, id, 1);
    if (a.mode == PLAN_SPOT && strcmp(a.accelerator, "H100") == 0) {
        st_run_to(w, a.running_at + 57 * 60);
        preempt(w, id);
        /* spot H100 gone; on-demand still listed at its price */
        h100_sold(w, 1, 0);
    }
    store_attempt_clear(&a);
    assert_true(st_run_all(w, ST_T0 + 24 * H));
    assert_int_equal(dump(w, id, unknown ? "A' (stockouts)" : "A' (no nodes)"), 0);
    wclose(&x);
}

static void test_a_fast_od_full(void **state)
{
    (void)state;
    fast_od_full(0);
    fast_od_full(1);
}

/* ---- K: one A10 node of azure/westeurope committed, backfilled by B (A10
 * that may take spot); X (H100 | A10, no spot, deadline 3 h: A10's 4 h would
 * be late) comes.  B is not stopped to give X a committed node X refuses
 * (it was, losing 300 s of work and a relaunch). */
static void commit_a10(struct st *w)
{
    char *dir = tu_mkdtemp();
    char path[512];
    struct err e;

    tu_write(dir, "c.csv",
             "cloud,region,zone,instance_type,nodes,term,start,discount\n"
             "azure,westeurope,,Standard_NV72ads_A10_v5,1,1y,2026-01-01,0.3\n");
    snprintf(path, sizeof(path), "%s/c.csv", dir);
    err_clear(&e);
    if (catalog_load_commitments(w->cat, path, &e) != 0)
        st_die("commitments", e.msg);
    tu_rmdir(dir);
    free(dir);
}

static void test_k_no_reclaim_for_late(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    int64_t b, id;

    (void)state;
    wopen(&x, commit_a10);
    b = st_submit(w, "name: b\nresources:\n  accelerators: A10:4\nrun: train\n"
                     "stratus:\n  duration: 4h\n"
                     "  checkpoint: {interval: 10m, restore: 5m}\n");
    assert_true(st_run_until_state(w, b, JOB_RUNNING, ST_T0 + H));
    a = st_attempt(w, b, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED); /* backfill */
    store_attempt_clear(&a);
    st_run_to(w, w->t + 25 * 60);
    id = st_submit(w, "name: x\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                      "  use_spot: false\n"
                      "stratus:\n  kind: train\n  duration: 1h\n  deadline: 3h\n"
                      "  checkpoint: {interval: 10m, restore: 5m}\n");
    assert_true(st_run_all(w, ST_T0 + 24 * H));
    dump(w, b, "K backfill");
    assert_int_equal(dump(w, id, "K"), 0);
    assert_int_equal(st_nattempts(w, b), 1); /* not stopped for a place X refuses */
    assert_int_equal(w->violations, 0);
    wclose(&x);
}

/* ---- S: H100 is sold as spot alone (free), A10 on demand; deadline 3 h.
 * No on-demand fallback can finish (A10 takes 4 h): the Safety Net has
 * nothing to save, and the job gambles on H100 spot, as a spec of H100
 * alone does, on time.  (It latched on demand on A10 and missed by 1 h.) */
static void h100_spot_only(struct st *w)
{
    h100_sold(w, 0, 1);
}

static void test_s_fast_spot_only_no_fallback(void **state)
{
    struct world x;
    int64_t id;

    (void)state;
    wopen(&x, h100_spot_only);
    id = run_on_time(&x,
                     "name: s\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                     "stratus:\n  kind: train\n  duration: 1h\n  deadline: 3h\n"
                     "  checkpoint: {interval: 10m, restore: 5m}\n",
                     "S");
    assert_int_equal(on_accelerator(&x.w, id, "A10"), 0);
    wclose(&x);
}

/* ---- T: hysteresis decides on the alternatives' places now, not as the
 * job's placement saw them.  On H100 on demand (A10 not sold then); H100
 * spot from +600 s, A10 on demand sold from +900 s.  At its first
 * checkpoint it leaves for H100 spot, and is not latched back on demand (it
 * was, as A10, counted only then, had under 2d of slack). */
static void t_setup(struct st *w)
{
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 4, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 4, 0);
    st_set_price(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", -1, -1);
    st_set_price(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", -1, -1);
}

static void test_t_hysteresis_on_places_now(void **state)
{
    struct world x;
    char csv[512];
    int64_t id;

    (void)state;
    snprintf(csv, sizeof(csv),
             "time_s,location,instance_type,available_nodes\n"
             "0,gcp/us-central1/us-central1-a,a3-highgpu-8g,0\n"
             "600,gcp/us-central1/us-central1-a,a3-highgpu-8g,4\n"
             "%.0f,gcp/us-central1/us-central1-a,a3-highgpu-8g,0\n",
             30 * 86400.0);
    wopen_trace(&x, csv, t_setup);
    id = st_submit(&x.w, "name: t\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                         "stratus:\n  kind: train\n  duration: 1h\n  deadline: 13300s\n"
                         "  checkpoint: {interval: 30m, restore: 5m}\n");
    st_run_to(&x.w, ST_T0 + 900);
    st_set_price(&x.w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 25, -1);
    assert_true(st_run_all(&x.w, ST_T0 + 48 * H));
    assert_int_equal(dump(&x.w, id, "T"), 0);
    assert_int_equal(flapped(&x.w, id), 0);
    wclose(&x);
}

/* ---- M: 64 H100 alternatives, then an A10 one with no place at all (A10
 * on gcp: no such offer).  The 65th is counted by its places as the first
 * 64 are: H100 spot at $20, as with 2 alternatives (it was counted
 * whatever its places, and the job latched on demand for $80). */
static void test_m_many_alternatives(void **state)
{
    struct world x;
    char *y = xcalloc(1, 8192);
    size_t n = 0;
    int64_t id;
    int i;

    (void)state;
    wopen(&x, NULL);
    n += (size_t)sprintf(y + n, "name: m\nresources:\n  any_of:\n");
    for (i = 0; i < 64; i++)
        n += (size_t)sprintf(y + n, "    - {accelerators: H100:8}\n");
    n +=
        (size_t)sprintf(y + n, "    - {accelerators: A10:4, cloud: gcp}\n"
                               "stratus:\n  kind: train\n  duration: 1h\n  deadline: 5h\n"
                               "  checkpoint: {interval: 30m, restore: 5m}\n");
    id = run_on_time(&x, y, "M");
    free(y);
    {
        struct store_attempt a = st_attempt(&x.w, id, 1);

        assert_int_equal(a.mode, PLAN_SPOT);
        store_attempt_clear(&a);
    }
    wclose(&x);
}

/* ---- N: one free H100 on-demand node, A10 on demand plenty; three jobs
 * {H100, A10}, 1 h, deadline 6 h, under the greedy rule (spot or wait until
 * the net).  Each counts its A10 fallback, not the one H100 node all three
 * would count, and all are on time (counting the node that had room when
 * each was ranked, all but one missed, by about 3 h). */
static void n_setup(struct st *w)
{
    h100_nodes(w, 0, 0);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 1, 0);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8, 0);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 8, 0);
    w->p.cfg.deadline_rule = SCHED_DEADLINE_GREEDY;
}

static void test_n_one_node_many_jobs(void **state)
{
    struct world x;
    int64_t id[3];
    int i;

    (void)state;
    wopen(&x, n_setup);
    for (i = 0; i < 3; i++)
        id[i] =
            st_submit(&x.w, "name: n\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                            "stratus:\n  kind: train\n  duration: 1h\n  deadline: 6h\n"
                            "  checkpoint: {interval: 10m, restore: 5m}\n");
    assert_true(st_run_all(&x.w, ST_T0 + 48 * H));
    for (i = 0; i < 3; i++)
        assert_int_equal(dump(&x.w, id[i], "N"), 0);
    wclose(&x);
}

/* ---- Q: A10 sold as spot alone, its two nodes held until ~1h45m by jobs
 * without a deadline; H100 on demand priced but barred to X -- its team's
 * H100 quota held by another of its jobs for 10 h (quota), or no H100 node
 * at all (capacity known, and unknown).  X {H100, A10}, deadline 6 h, takes
 * the A10 spot when it frees (900 s of slack: under the spot margin, but
 * no on-demand fallback could be launched) and keeps it through its
 * changeover, on time.  (It refused that spot for the margin, or stopped
 * it for an on-demand place it could not get, and missed by 3 h.) */
static int q_cap0, q_unknown;

static void q_setup(struct st *w)
{
    st_set_price(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", -1, 3.6);
    st_set_price(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", -1, 4.0);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 0, 1);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 0, 1);
    if (q_cap0) {
        h100_nodes(w, 0, 0);
        w->capacity_unknown = q_unknown;
    } else {
        st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 4, 4);
    }
}

/* Team a's quota of 8 H100 GPUs, all held by its job z on demand for 10 h
 * (submitted; z's id in *z): the org to free. */
static struct org *h100_quota_held(struct world *x, int64_t *z)
{
    static const char org_json[] =
        "{\"teams\":[{\"name\":\"a\",\"quota\":[{\"accelerator\":"
        "\"H100\",\"gpus\":8}]},{\"name\":\"b\"}]}";
    struct org *g = NULL;
    struct err e;

    err_clear(&e);
    if (org_parse(org_json, strlen(org_json), "test", &g, &e) != 0)
        st_die("org", e.msg);
    sched_set_org(x->w.s, g);
    *z = st_submit(&x->w,
                   "name: z\nresources:\n  accelerators: H100:8\n  use_spot: false\n"
                   "run: train\nstratus:\n  team: a\n  duration: 10h\n");
    return g;
}

static void fallback_barred(int cap0, int unknown)
{
    struct world x;
    struct org *g = NULL;
    int64_t z, y2, id;

    q_cap0 = cap0;
    q_unknown = unknown;
    wopen(&x, q_setup);
    if (!cap0)
        g = h100_quota_held(&x, &z);
    st_submit(&x.w, "name: y1\nresources:\n  accelerators: A10:4\n  use_spot: true\n"
                    "run: train\nstratus:\n  team: b\n  duration: 1h45m\n");
    y2 = st_submit(&x.w, "name: y2\nresources:\n  accelerators: A10:4\n  use_spot: true\n"
                         "run: train\nstratus:\n  team: b\n  duration: 1h45m\n");
    st_run_until(&x.w, running_is, &y2, ST_T0 + H);
    id = st_submit(&x.w,
                   "name: x\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                   "stratus:\n  team: a\n  kind: train\n  duration: 1h\n  deadline: 6h\n"
                   "  checkpoint: {interval: 10m, restore: 5m}\n");
    assert_true(st_run_all(&x.w, ST_T0 + 48 * H));
    assert_int_equal(
        dump(&x.w, id,
             cap0 ? (unknown ? "Q no H100 (unknown)" : "Q no H100") : "Q quota"),
        0);
    wclose(&x);
    org_free(g);
}

static void test_q_fallback_barred(void **state)
{
    (void)state;
    fallback_barred(0, 0);
    fallback_barred(1, 0);
    fallback_barred(1, 1);
}

/* ---- L: H100 sold as spot alone, its one node held for 1 h by a job
 * without a deadline; A10 sold on demand alone, with no node (capacity
 * known, and unknown: stockouts).  X {H100, A10}, 1 h, deadline 5 h, is
 * latched on demand on its A10 fallback; once A10 can no longer finish, the
 * net has nothing to save: X takes the H100 spot when it frees, on time.
 * (It stayed latched, ignoring the spot for 3.4 h, and was late.) */
static int l_unknown;

static void l_setup(struct st *w)
{
    h100_sold(w, 0, 1);
    st_set_price(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8, -1);
    st_set_price(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 9.2, -1);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 0, 0);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 0, 0);
    h100_nodes(w, 0, 0);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 1);
    w->capacity_unknown = l_unknown;
}

static void latched_stranded(int unknown)
{
    struct world x;
    int64_t b, id;

    l_unknown = unknown;
    wopen(&x, l_setup);
    b = st_submit(&x.w, "name: b\nresources:\n  accelerators: H100:8\n  use_spot: true\n"
                        "run: train\nstratus:\n  duration: 1h\n");
    st_run_until(&x.w, running_is, &b, ST_T0 + H);
    id = st_submit(&x.w, "name: x\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                         "stratus:\n  kind: train\n  duration: 1h\n  deadline: 5h\n"
                         "  checkpoint: {interval: 10m, restore: 5m}\n");
    assert_true(st_run_all(&x.w, ST_T0 + 48 * H));
    assert_int_equal(dump(&x.w, id, unknown ? "L (stockouts)" : "L (no node)"), 0);
    wclose(&x);
}

static void test_l_latched_without_fallback(void **state)
{
    (void)state;
    latched_stranded(0);
    latched_stranded(1);
}

/* ---- G: H100 sold on demand alone but barred to X (its team's quota held
 * by another job for 10 h; or no H100 node, capacity known and unknown);
 * L4 sold as spot alone, one node free all along.  X {H100, L4} (1 h; 2 h
 * on L4), deadline 2h30m, no checkpoints: the Safety Net does not latch it
 * on an on-demand fallback it cannot launch, and it takes the L4 spot at
 * once, on time.  (It was latched on the H100s, waited until they could
 * no longer finish, and missed by an hour.) */
static int g_cap0, g_unknown;

static void g_setup(struct st *w)
{
    h100_sold(w, 1, 0);
    st_set_price(w, "gcp", "us-central1", "g2-standard-48", -1, 1.2);
    st_set_price(w, "gcp", "europe-west4", "g2-standard-48", -1, -1);
    st_set_price(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", -1, -1);
    st_set_price(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", -1, -1);
    st_set_capacity(w, "gcp", "us-central1", "g2-standard-48", 0, 1);
    if (g_cap0) {
        h100_nodes(w, 0, 0);
        w->capacity_unknown = g_unknown;
    }
    w->p.cfg.deadline_rule = SCHED_DEADLINE_GREEDY;
}

static void latch_barred(int cap0, int unknown)
{
    struct world x;
    struct org *g = NULL;
    int64_t z, id;

    g_cap0 = cap0;
    g_unknown = unknown;
    wopen(&x, g_setup);
    if (!cap0) {
        g = h100_quota_held(&x, &z);
        st_run_until(&x.w, running_is, &z, ST_T0 + H);
    }
    id = st_submit(&x.w, "name: x\nresources:\n  accelerators: {H100: 8, L4: 4}\n"
                         "stratus:\n  team: a\n  kind: train\n  duration: 1h\n"
                         "  deadline: 2h30m\n");
    assert_true(st_run_all(&x.w, ST_T0 + 48 * H));
    assert_int_equal(
        dump(&x.w, id,
             cap0 ? (unknown ? "G no H100 (unknown)" : "G no H100") : "G quota"),
        0);
    wclose(&x);
    org_free(g);
}

static void test_g_no_latch_on_a_barred_fallback(void **state)
{
    (void)state;
    latch_barred(0, 0);
    latch_barred(1, 0);
    latch_barred(1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_fast_spot_only_then_gone),
        cmocka_unit_test(test_a_fast_od_full),
        cmocka_unit_test(test_k_no_reclaim_for_late),
        cmocka_unit_test(test_s_fast_spot_only_no_fallback),
        cmocka_unit_test(test_t_hysteresis_on_places_now),
        cmocka_unit_test(test_m_many_alternatives),
        cmocka_unit_test(test_n_one_node_many_jobs),
        cmocka_unit_test(test_q_fallback_barred),
        cmocka_unit_test(test_l_latched_without_fallback),
        cmocka_unit_test(test_g_no_latch_on_a_barred_fallback),
        cmocka_unit_test(test_d_spot_only_spec),
        cmocka_unit_test(test_c_late_no_overhead),
        cmocka_unit_test(test_b_hysteresis_no_ckpt),
        cmocka_unit_test(test_v_displace_for_nothing),
        cmocka_unit_test(test_r_restart_in_a),
        cmocka_unit_test(test_h_cfg_at_flap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
