/*
 * test_speed.c - cost per unit of work in the controller and the sim world:
 * a spec's duration is its run time on the first alternative, an attempt on
 * another accelerator runs for that work / its speed (catalog
 * throughput.csv) in virtual time, a checkpoint keeps converted work across
 * a failover between accelerators, and the controller's progress (what the
 * deadline rule reads) counts work the same way.  Exact virtual times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "plan/plan.h"
#include "policy/policy.h"
#include "spec/pipeline.h"
#include "schedtest.h"
#include "testutil.h"

#define H 3600.0
#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-6)

/* Per GPU: H100 does twice the training work of an A10, 4x the inference. */
static const char thr_csv[] = "accelerator,train,infer,cores_per_chip,source,note\n"
                              "H100,2,4,,test,\nA10,1,1,,test,\n";

/* H100:8 first, A10:4 second: an A10 node does (4 x 1) / (8 x 2) = 1/4 of
 * the work of an H100 node per second (1/8 for inference). */
static const char spec_yaml[] = "name: alt\n"
                                "resources:\n"
                                "  accelerators: {H100: 8, A10: 4}\n"
                                "stratus:\n"
                                "  kind: %s\n"
                                "  duration: 1h\n"
                                "  checkpoint: {interval: 30m, restore: 5m}\n";

struct world {
    struct st w;
    char *dir;
};

/* A world whose catalog has the throughput table `table` (NULL: none). */
static void world_open_with(struct world *x, const char *table)
{
    struct st_opts o = {0};

    x->dir = tu_mkdtemp();
    tu_copy_dir(TEST_DATA "/sched/catalog", x->dir);
    if (table != NULL)
        tu_write(x->dir, "throughput.csv", table);
    o.catalog = x->dir;
    st_init(&x->w, &o);
}

static void world_open(struct world *x, int with_table)
{
    world_open_with(x, with_table ? thr_csv : NULL);
}

static void world_close(struct world *x)
{
    st_free(&x->w);
    tu_rmdir(x->dir);
    free(x->dir);
}

static int64_t submit(struct world *x, const char *kind)
{
    char yaml[512];

    snprintf(yaml, sizeof(yaml), spec_yaml, kind);
    return st_submit(&x->w, yaml);
}

/* Run the world to its end: job id succeeded by ST_T0 + dl_h hours, its last
 * attempt on acc. */
static void assert_done_on(struct world *x, int64_t id, double dl_h, const char *acc)
{
    struct store_attempt a;
    struct store_job j;

    assert_true(st_run_all(&x->w, ST_T0 + 72 * H));
    j = st_job(&x->w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(j.ended_at <= ST_T0 + dl_h * H);
    a = st_attempt(&x->w, id, (int)st_nattempts(&x->w, id));
    assert_string_equal(a.accelerator, acc);
    store_attempt_clear(&a);
    store_job_clear(&j);
}

/* The cheapest job is on A10 spot (oci 3.60/h for 4 h, against H100 spot at
 * 20/h for 1 h): it runs 4 h of virtual time for 1 h of H100 work. */
static void test_alternative_runs_longer(void **state)
{
    struct world x;
    struct store_attempt a;
    struct store_job j;
    int64_t id;

    (void)state;
    world_open(&x, 1);
    id = submit(&x, "train");
    st_start(&x.w);
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    a = st_attempt(&x.w, id, 1);
    assert_string_equal(a.accelerator, "A10");
    assert_true(NEAR(a.ended_at - a.running_at, 4 * H));
    j = st_job(&x.w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(NEAR(j.work_done_s, H)); /* work in seconds of the first: H100 */
    assert_int_equal(st_nattempts(&x.w, id), 1);
    store_attempt_clear(&a);
    store_job_clear(&j);
    world_close(&x);
}

/* One job of `kind` alone, with or without the throughput table: its one
 * attempt ran on `acc` for `hours` of virtual time. */
static void runs_on(int table, const char *kind, const char *acc, double hours)
{
    struct world x;
    struct store_attempt a;
    int64_t id;

    world_open(&x, table);
    id = submit(&x, kind);
    st_start(&x.w);
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    a = st_attempt(&x.w, id, 1);
    assert_string_equal(a.accelerator, acc);
    assert_true(NEAR(a.ended_at - a.running_at, hours * H));
    store_attempt_clear(&a);
    world_close(&x);
}

/* Inference uses the infer column: A10 would need 8 h (28.80 at 3.60/h),
 * more than an hour of H100 spot (20): the choice flips to H100. */
static void test_inference_ratio(void **state)
{
    (void)state;
    runs_on(1, "infer", "H100", 1);
}

/* Without a table every accelerator is as fast per accelerator as the
 * first, and counts still count: an A10:4 node does half an H100:8 node's
 * work, 2 h on A10 ($7.20 of spot against $20 on H100).  Before, an unknown
 * ratio made a node of any count as fast as the first's: 1 h. */
static void test_unknown_ratio_per_accelerator(void **state)
{
    (void)state;
    runs_on(0, "train", "A10", 2);
}

/* Preempted on A10 after 1 h of work time (two 30-minute checkpoints = 1 h of
 * A10 = 15 min of H100 work), then A10 is no longer sold: the job fails over
 * to H100, restores (5 min) and runs the remaining 45 min of H100 work. */
static void test_failover_keeps_converted_work(void **state)
{
    struct world x;
    struct store_attempt a, b;
    struct store_job j;
    char arg[24];
    int64_t id;
    double t;

    (void)state;
    world_open(&x, 1);
    id = submit(&x, "train");
    st_start(&x.w);
    assert_true(st_run_until_state(&x.w, id, JOB_RUNNING, ST_T0 + H));
    a = st_attempt(&x.w, id, 1);
    assert_string_equal(a.accelerator, "A10");
    t = a.running_at + H + 60; /* an hour of work, a minute into the next interval */
    st_run_to(&x.w, t);
    /* The controller's progress counts the live attempt's run at its speed. */
    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    assert_int_equal(st_inject(&x.w, "preempt-job", arg), 0);
    st_set_price(&x.w, "oci", "us-ashburn-1", "BM.GPU.A10.4", -1, -1);
    st_set_price(&x.w, "azure", "westeurope", "Standard_NV72ads_A10_v5", -1, -1);
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    j = st_job(&x.w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(&x.w, id), 2);
    b = st_attempt(&x.w, id, 2);
    assert_string_equal(b.accelerator, "H100");
    /* restore 5 min + the 45 min left of H100 work */
    assert_true(NEAR(b.ended_at - b.running_at, 300 + 0.75 * H));
    assert_true(NEAR(j.work_done_s, H));
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    store_job_clear(&j);
    world_close(&x);
}

/* The controller's estimate of saved work after the preemption is the
 * driver's: 15 min of H100 work, not the hour of A10 it ran. */
static void test_progress_in_first_alternative_seconds(void **state)
{
    struct world x;
    struct store_attempt a;
    struct store_job j;
    char arg[24];
    int64_t id;

    (void)state;
    world_open(&x, 1);
    id = submit(&x, "train");
    st_start(&x.w);
    assert_true(st_run_until_state(&x.w, id, JOB_RUNNING, ST_T0 + H));
    a = st_attempt(&x.w, id, 1);
    st_run_to(&x.w, a.running_at + H + 60);
    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    assert_int_equal(st_inject(&x.w, "preempt-job", arg), 0);
    st_set_price(&x.w, "oci", "us-ashburn-1", "BM.GPU.A10.4", -1, -1);
    st_set_price(&x.w, "azure", "westeurope", "Standard_NV72ads_A10_v5", -1, -1);
    st_run_to(&x.w, a.running_at + H + 120); /* the controller saw the preemption */
    j = st_job(&x.w, id);
    assert_true(j.cur_attempt == 0 || st_nattempts(&x.w, id) == 2);
    if (!NEAR(j.work_done_s, 0.25 * H))
        fail_msg("work_done_s %g, want %g", j.work_done_s, 0.25 * H);
    store_attempt_clear(&a);
    store_job_clear(&j);
    world_close(&x);
}

/* submit the alternatives' job (H100 1 h, A10 4 h) with a deadline */
static int64_t submit_deadline(struct world *x, const char *deadline)
{
    char yaml[512];

    snprintf(yaml, sizeof(yaml),
             "name: alt\n"
             "resources:\n"
             "  accelerators: {H100: 8, A10: 4}\n"
             "stratus:\n"
             "  kind: train\n"
             "  duration: 1h\n"
             "  deadline: %s\n"
             "  checkpoint: {interval: 30m, restore: 5m}\n",
             deadline);
    return st_submit(&x->w, yaml);
}

/* The alternatives' job with a deadline, alone in the world (the driver
 * telling no free capacity with unknown): its first attempt ran in mode on
 * acc, and the job, latched on demand or not (on_demand_only), succeeded on
 * time. */
static void first_attempt(const char *deadline, int unknown, int mode, const char *acc,
                          int on_demand_only)
{
    struct world x;
    struct store_attempt a;
    struct store_job j;
    int64_t id;

    world_open(&x, 1);
    x.w.capacity_unknown = unknown;
    id = submit_deadline(&x, deadline);
    st_start(&x.w);
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    a = st_attempt(&x.w, id, 1);
    assert_int_equal(a.mode, mode);
    assert_string_equal(a.accelerator, acc);
    j = st_job(&x.w, id);
    assert_int_equal(j.on_demand_only, on_demand_only);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(j.ended_at <= j.deadline_at);
    store_attempt_clear(&a);
    store_job_clear(&j);
    world_close(&x);
}

/* The deadline rule's slack for a job not running counts the work left at
 * the speed of its on-demand fallback: the slowest alternative with an
 * on-demand place that can still finish in time (whichever has room when
 * the Safety Net needs it, the job makes it).  Deadline 5 h: A10 can (4 h),
 * with 1 h of slack, under twice the changeover (2 x (120 s relaunch + 5 min
 * restore + 30 min interval) = 74 min), so the Safety Net sends it on demand
 * at once, and A10 on demand is the cheaper (4 h at 8/h against 1 h at
 * 80/h), and on time -- whether or not the driver says where nodes are free
 * (counting the fastest with a free node let several jobs count the same
 * node, or one a team quota barred, and miss). */
static void test_deadline_slack_of_the_fallback(void **state)
{
    (void)state;
    first_attempt("5h", 0, PLAN_ONDEMAND, "A10", 1);
    first_attempt("5h", 1, PLAN_ONDEMAND, "A10", 1);
}

/* Deadline 3 h: A10 (4 h) cannot finish in time even on demand, so its
 * slack is not the one counted: H100's is (2 h, over 2d), and the job,
 * ahead of its line, takes H100 spot.  (Counted at the slowest
 * alternative's speed, as the rule did first, the slack was below 0 at
 * once: on demand for good, and on A10, the cheapest on demand, and late.) */
static void test_deadline_late_alternative_not_counted(void **state)
{
    (void)state;
    first_attempt("3h", 0, PLAN_SPOT, "H100", 0);
}

/* Deadline 3 h: the A10 alternative (4 h) cannot make it even on demand;
 * H100 can (slack 2 h, over 2d).  The job never runs on A10, though A10 is
 * the cheapest on demand and on spot; and, with H100 spot sold out, it goes
 * on demand on H100 when its line says so, and is on time.  (Before, slack
 * counted at A10's speed was below 0 at once: on demand for good, and on
 * A10, the cheapest on demand -- 4 h against a 3 h deadline.) */
static void test_deadline_never_on_a_late_alternative(void **state)
{
    struct world x;
    struct store_job j;
    int64_t id;
    int n, k;

    (void)state;
    world_open(&x, 1);
    /* no H100 spot anywhere */
    st_set_price(&x.w, "gcp", "us-central1", "a3-highgpu-8g", 80, -1);
    st_set_price(&x.w, "gcp", "europe-west4", "a3-highgpu-8g", 88, -1);
    st_set_price(&x.w, "azure", "eastus", "Standard_ND96isr_H100_v5", 96, -1);
    id = submit_deadline(&x, "3h");
    st_start(&x.w);
    assert_true(st_run_all(&x.w, ST_T0 + 24 * H));
    j = st_job(&x.w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(j.ended_at <= j.deadline_at);
    n = st_nattempts(&x.w, id);
    assert_true(n >= 1);
    for (k = 1; k <= n; k++) {
        struct store_attempt a = st_attempt(&x.w, id, k);

        if (strcmp(a.accelerator, "H100") != 0)
            fail_msg("attempt %d ran on %s, which finishes past the deadline", k,
                     a.accelerator);
        store_attempt_clear(&a);
    }
    store_job_clear(&j);
    world_close(&x);
}

/* The launch check counts only alternatives the policy in force lets the
 * job run: {A10: 4, H100: 8} for 8 h (H100: 2 h) with a 3 h deadline is
 * refused under a rule that keeps it on oci, which has only A10s, and the
 * message names the rule and what it keeps the job off; a rule that
 * allows azure passes it.  Before, the check looked at the catalog alone:
 * the job was accepted and could only miss (its plan put every candidate
 * late).  A pipeline stage's deadline counts the stages before it at the
 * policy's speed too (sched_min_run). */
static void test_deadline_check_sees_the_policy(void **state)
{
    static const char yaml[] = "name: dl\nresources:\n  accelerators: {A10: 4, H100: 8}\n"
                               "stratus:\n  duration: 8h\n  deadline: 3h\n";
    static const char oci_only[] = "version: 1\nrules:\n  - name: oci-only\n"
                                   "    match: {kind: batch}\n    allow: [oci]\n";
    static const char azure_too[] = "version: 1\nrules:\n  - name: oci-azure\n"
                                    "    match: {kind: batch}\n    allow: [oci, azure]\n";
    static const char aws_only[] = "version: 1\nrules:\n  - name: aws-only\n"
                                   "    match: {}\n    allow: [aws]\n";
    static const char other_kind[] = "version: 1\nrules:\n  - name: train-oci\n"
                                     "    match: {kind: train}\n    allow: [oci]\n";
    struct policy *pol = NULL;
    struct world x;
    struct spec *sp = NULL;
    struct err e;

    (void)state;
    world_open(&x, 1);
    err_clear(&e);
    assert_int_equal(spec_load_mem(&sp, "dl.yaml", yaml, strlen(yaml), &e), 0);
    assert_int_equal(sched_deadline_check(x.w.cat, NULL, sp, "dl.yaml", ST_T0, &e), 0);
    assert_int_equal(policy_load_mem(&pol, "p.yaml", oci_only, strlen(oci_only), &e), 0);
    assert_int_not_equal(sched_deadline_check(x.w.cat, pol, sp, "dl.yaml", ST_T0, &e), 0);
    assert_string_equal(e.msg,
                        "dl.yaml:6:13: stratus.deadline (3h00m) is shorter than the run "
                        "on its fastest alternative the policy allows, A10:4 (8h00m); "
                        "policy rule 'oci-only' keeps it off H100:8 (2h00m): the job "
                        "cannot finish in time");
    assert_true(NEAR(sched_min_run(x.w.cat, pol, sp, ST_T0), 8 * H));
    assert_true(NEAR(sched_min_run(x.w.cat, NULL, sp, ST_T0), 2 * H));
    policy_free(pol);
    pol = NULL;
    assert_int_equal(policy_load_mem(&pol, "p.yaml", azure_too, strlen(azure_too), &e),
                     0);
    assert_int_equal(sched_deadline_check(x.w.cat, pol, sp, "dl.yaml", ST_T0, &e), 0);
    policy_free(pol);
    pol = NULL;
    /* a rule that does not match the job leaves it free */
    assert_int_equal(policy_load_mem(&pol, "p.yaml", other_kind, strlen(other_kind), &e),
                     0);
    assert_int_equal(sched_deadline_check(x.w.cat, pol, sp, "dl.yaml", ST_T0, &e), 0);
    policy_free(pol);
    pol = NULL;
    /* no place at all (this catalog has no aws): not the deadline's error;
     * placement says why (the CLI's plan, before it submits) */
    assert_int_equal(policy_load_mem(&pol, "p.yaml", aws_only, strlen(aws_only), &e), 0);
    assert_int_equal(sched_deadline_check(x.w.cat, pol, sp, "dl.yaml", ST_T0, &e), 0);
    assert_true(NEAR(sched_min_run(x.w.cat, pol, sp, ST_T0), 8 * H));
    policy_free(pol);
    spec_free(sp);
    world_close(&x);
}

/* When the first alternative has no place the policy allows and the others
 * are of unknown speed, the message says so: it named the first as "the
 * fastest alternative the policy allows" (helper-95). */
static void test_deadline_check_unknown_speeds_only(void **state)
{
    static const char yaml[] = "name: u\nresources:\n  accelerators: {H100: 8, A10: 4}\n"
                               "stratus:\n  duration: 5h\n  deadline: 4h\n";
    static const char cheap[] = "version: 1\nrules:\n  - name: cheap\n    match: {}\n"
                                "    spot: forbid\n    max_hourly_cost: 20\n";
    struct policy *pol = NULL;
    struct world x;
    struct spec *sp = NULL;
    struct err e;

    (void)state;
    world_open_with(&x, "accelerator,train,infer,cores_per_chip,source,note\n"
                        "H100,2,4,,test,\n");
    err_clear(&e);
    assert_int_equal(spec_load_mem(&sp, "u.yaml", yaml, strlen(yaml), &e), 0);
    assert_int_equal(policy_load_mem(&pol, "p.yaml", cheap, strlen(cheap), &e), 0);
    assert_int_not_equal(sched_deadline_check(x.w.cat, pol, sp, "u.yaml", ST_T0, &e), 0);
    assert_string_equal(
        e.msg, "u.yaml:6:13: stratus.deadline (4h00m) is shorter than "
               "stratus.duration (5h00m, the run on H100:8, which has no place it "
               "may run on under the policy; the alternatives that have are of "
               "speeds catalog throughput.csv does not know, and none counts as "
               "faster): the job cannot finish in time");
    policy_free(pol);
    spec_free(sp);
    world_close(&x);
}

/* A pipeline's later stage counts the stages before it at their fastest
 * alternative's run: train ({A10: 4, H100: 8}, 8 h on the A10s, 2 h on the
 * H100s) then eval (H100:8, 1 h) with a 4 h deadline fits (2 h + 1 h).  The
 * server checks with its catalog (3 h) and then sched_submit_group checked
 * again without one, counting train's 8 h: the pipeline was refused. */
static void test_pipeline_stage_after_alternatives(void **state)
{
    static const char yaml[] = "name: flow\n---\nname: train\n"
                               "resources: {accelerators: {A10: 4, H100: 8}}\n"
                               "stratus: {duration: 8h}\n---\nname: eval\n"
                               "resources: {accelerators: H100:8}\n"
                               "stratus: {duration: 1h, deadline: 4h}\n";
    struct pipeline *p = NULL;
    struct world x;
    struct err e;
    int64_t ids[2] = {0, 0};

    (void)state;
    world_open(&x, 1);
    err_clear(&e);
    assert_int_equal(pipeline_load_mem(&p, "flow.yaml", yaml, strlen(yaml), &e), 0);
    assert_true(NEAR(sched_min_run(x.w.cat, NULL, p->stages[0].spec, ST_T0), 2 * H));
    assert_int_equal(sched_deadline_check_after(x.w.cat, NULL, p->stages[1].spec,
                                                "flow.yaml", ST_T0, 2 * H, &e),
                     0);
    assert_int_equal(sched_submit_group(x.w.store, "flow.yaml", p, NULL, ST_T0, ids, &e),
                     0);
    assert_true(ids[0] > 0 && ids[1] > 0);
    pipeline_free(p);
    world_close(&x);
}

/* A deadline shorter than `duration` (the run on the first alternative) is
 * met when a faster alternative's run fits: A10:4 first for 8 h, H100:8
 * does it in 2 h.  With the catalog, 2 h passes and 1 h is refused, naming
 * the fastest alternative and its run, at the deadline's line; without
 * one, only a passed date is refused (the server checks with its catalog).
 * Before, the spec itself was refused for 8 h > 2 h, and such a job could
 * not be submitted at all. */
static void test_deadline_met_by_a_faster_alternative(void **state)
{
    static const char fmt[] = "name: dl\nresources:\n  accelerators: {A10: 4, H100: 8}\n"
                              "stratus:\n  duration: 8h\n  deadline: %s\n";
    struct world x;
    struct spec *sp = NULL;
    char yaml[256];
    struct err e;
    int64_t id;

    (void)state;
    world_open(&x, 1);
    err_clear(&e);
    snprintf(yaml, sizeof(yaml), fmt, "2h");
    assert_int_equal(spec_load_mem(&sp, "dl.yaml", yaml, strlen(yaml), &e), 0);
    assert_int_equal(sched_deadline_check(x.w.cat, NULL, sp, "dl.yaml", ST_T0, &e), 0);
    spec_free(sp);
    snprintf(yaml, sizeof(yaml), fmt, "1h");
    assert_int_equal(spec_load_mem(&sp, "dl.yaml", yaml, strlen(yaml), &e), 0);
    assert_int_equal(sched_deadline_check(NULL, NULL, sp, "dl.yaml", ST_T0, &e), 0);
    assert_int_not_equal(sched_deadline_check(x.w.cat, NULL, sp, "dl.yaml", ST_T0, &e),
                         0);
    assert_string_equal(e.msg,
                        "dl.yaml:6:13: stratus.deadline (1h00m) is shorter than the run "
                        "on its fastest alternative, H100:8 (2h00m, catalog "
                        "throughput.csv): the job cannot finish in time");
    spec_free(sp);
    snprintf(yaml, sizeof(yaml), fmt, "2020-01-01T00:00:00Z");
    assert_int_equal(spec_load_mem(&sp, "dl.yaml", yaml, strlen(yaml), &e), 0);
    assert_int_not_equal(sched_deadline_check(NULL, NULL, sp, "dl.yaml", ST_T0, &e), 0);
    assert_non_null(strstr(e.msg, "has passed"));
    spec_free(sp);
    world_close(&x);

    /* and the controller meets it: 8 h on the first (A10:4), 3 h to go,
     * only H100:8 (2 h) can; the job ends on H100 within its deadline */
    world_open(&x, 1);
    snprintf(yaml, sizeof(yaml), fmt, "3h");
    id = st_submit(&x.w, yaml);
    st_start(&x.w);
    assert_done_on(&x, id, 3, "H100");
    world_close(&x);
}

/* The speed of an alternative whose ratio is unknown, per chip against the
 * one it is compared with: an unknown FIRST one (B300:8) makes no known one
 * faster (H100:8 stays 1x, not the 2x an A100-80GB reference gave); a TPU
 * slice counts its chips (four unknown A6000s against a v5e-16 slice are
 * 4/16 of it, not 4 slices).  And the deadline check counts only an
 * alternative of known speed that the catalog sells: {A10: 4, B300: 8} or
 * {A10: 4, B200: 8} (no B200 offer here) with 8 h on A10 and a 2 h deadline
 * is refused, naming A10.  helper-93 found each of these accepted. */
static void test_unknown_and_unsold_alternatives(void **state)
{
    static const char fmt[] = "name: u\nresources:\n  accelerators: {A10: 4, %s: 8}\n"
                              "stratus:\n  duration: 8h\n  deadline: 2h\n";
    struct world x;
    struct spec *sp = NULL;
    char yaml[256];
    struct err e;
    int known;
    const char *const alts[] = {"B300", "B200"};

    (void)state;
    world_open_with(&x, "accelerator,train,infer,cores_per_chip,source,note\n"
                        "H100,2,4,,test,\nA10,1,1,,test,\nB200,4,8,,test,\n"
                        "tpu-v5litepod,0.6,0.6,1,test,\n");
    assert_true(NEAR(catalog_speed(x.w.cat, "B300", 8, 0, "H100", 8, 0, 0, &known), 1));
    assert_int_equal(known, 0);
    assert_true(
        NEAR(catalog_speed(x.w.cat, "H100", 8, 0, "B300", 1, 0, 0, &known), 0.125));
    assert_true(
        NEAR(catalog_speed(x.w.cat, "tpu-v5litepod-16", 1, 0, "A6000", 4, 0, 0, &known),
             0.25));
    assert_true(
        NEAR(catalog_speed(x.w.cat, "tpu-v5litepod-16", 1, 0, "H100", 8, 0, 0, &known),
             (8 * 2.0) / (16 * 0.6)));
    assert_int_equal(known, 1);
    err_clear(&e);
    for (size_t i = 0; i < 2; i++) {
        snprintf(yaml, sizeof(yaml), fmt, alts[i]);
        assert_int_equal(spec_load_mem(&sp, "u.yaml", yaml, strlen(yaml), &e), 0);
        assert_int_not_equal(sched_deadline_check(x.w.cat, NULL, sp, "u.yaml", ST_T0, &e),
                             0);
        assert_non_null(strstr(e.msg,
                               "is shorter than the run on its fastest alternative, "
                               "A10:4 (8h00m)"));
        spec_free(sp);
    }
    world_close(&x);
}

/* An alternative that names only an instance type runs at the speed of the
 * accelerators its offer has: {H100: 8} or {instance_type: BM.GPU.A10.4}
 * (A10:4, a quarter of the H100s), 1 h of work, 90 min to its deadline, is
 * done on the H100s in time.  Counted at 1.0 while idle, it latched on demand
 * onto the A10s and ended 2.5 h late (helper-93). */
static void test_instance_type_alternative_speed(void **state)
{
    struct world x;
    int64_t id;

    (void)state;
    world_open(&x, 1);
    id = st_submit(&x.w, "name: it\nresources:\n  any_of:\n    - {accelerators: H100:8}\n"
                         "    - {instance_type: BM.GPU.A10.4}\n"
                         "stratus:\n  duration: 1h\n  deadline: 90m\n");
    st_start(&x.w);
    assert_done_on(&x, id, 1.5, "H100");
    world_close(&x);
}

/* After helper-94: the launch check resolves an alternative that names only
 * an instance type (a3-highgpu-8g is H100:8 here: 8 h on A10:4 is 2 h on
 * it, a 3 h deadline is met) and does not count one that cannot run where
 * it says (H100 on oci, which sells none here; three H100s a node, which
 * no offer has); a TPU family of no row counts its slice's chips (two cores
 * a chip on v3: tpu-v3-32 is 16 chips, four times a v5e-4). */
static void test_deadline_check_shapes(void **state)
{
    static const char *const ok_spec =
        "name: a\nresources:\n  any_of:\n    - {accelerators: A10:4}\n"
        "    - {instance_type: a3-highgpu-8g}\nstratus:\n  duration: 8h\n  deadline: "
        "3h\n";
    static const char *const bad[] = {
        "name: b\nresources:\n  any_of:\n    - {accelerators: A10:4}\n"
        "    - {accelerators: H100:8, cloud: oci}\nstratus:\n  duration: 8h\n  deadline: "
        "3h\n",
        "name: c\nresources:\n  accelerators: {A10: 4, H100: 3}\nstratus:\n  duration: "
        "8h\n"
        "  deadline: 3h\n"};
    struct world x;
    struct spec *sp = NULL;
    struct err e;
    int known;

    (void)state;
    world_open_with(&x,
                    "accelerator,train,infer,cores_per_chip,source,note\n"
                    "H100,2,4,,test,\nA10,1,1,,test,\ntpu-v5litepod,0.6,0.6,1,test,\n");
    err_clear(&e);
    assert_int_equal(spec_load_mem(&sp, "a.yaml", ok_spec, strlen(ok_spec), &e), 0);
    assert_int_equal(sched_deadline_check(x.w.cat, NULL, sp, "a.yaml", ST_T0, &e), 0);
    spec_free(sp);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(spec_load_mem(&sp, "b.yaml", bad[i], strlen(bad[i]), &e), 0);
        assert_int_not_equal(sched_deadline_check(x.w.cat, NULL, sp, "b.yaml", ST_T0, &e),
                             0);
        assert_non_null(strstr(e.msg, "fastest alternative, A10:4 (8h00m)"));
        spec_free(sp);
    }
    assert_true(NEAR(
        catalog_speed(x.w.cat, "tpu-v3-32", 1, 0, "tpu-v5litepod-4", 1, 0, 0, &known),
        0.25));
    world_close(&x);
}

/* A share of one GPU counts as that share: [L4:0.125, L4:1], 8 h of work
 * on an eighth of an L4, on g6f.large (1/8 L4) spot for an hour and then
 * preempted, keeps 1 h of work (six 10 min checkpoints), not 8 h.  The
 * controller took the attempt's share from the last alternative of its
 * accelerator and count (L4:1: the same count), credited it 8x, and such
 * jobs missed deadlines the sim driver's real speed made them late for
 * (helper-94); the attempt's offer says it now. */
static void test_fractional_attempt_speed(void **state)
{
    struct world x;
    struct st_opts o = {0};
    struct store_job j;
    char *fleet;
    int64_t id;

    (void)state;
    x.dir = tu_mkdtemp();
    tu_copy_dir(TEST_DATA "/sched/catalog", x.dir);
    tu_write(x.dir, "offers.csv",
             "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
             "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
             "price_hour,spot_price_hour\n"
             "gcp,us-central1,us-central1-a,g6f.large,L4,0.125,3,2,8,none,,,0.02\n"
             "gcp,us-central1,us-central1-a,g6.xlarge,L4,1,24,4,16,none,,1.00,\n");
    tu_write(x.dir, "throughput.csv",
             "accelerator,train,infer,cores_per_chip,source,note\nL4,0.25,0.4,,test,\n");
    tu_write(x.dir, "fleet.csv",
             "location,instance_type,nodes,spot_nodes\ngcp/us-central1,g6f.large,8,8\n"
             "gcp/us-central1,g6.xlarge,8,0\n");
    fleet = xasprintf("%s/fleet.csv", x.dir);
    o.catalog = x.dir;
    o.fleet = fleet;
    st_init(&x.w, &o);
    id =
        st_submit(&x.w, "name: f\nresources:\n  any_of:\n    - {accelerators: L4:0.125}\n"
                        "    - {accelerators: L4:1}\nstratus:\n  kind: train\n"
                        "  duration: 8h\n  checkpoint: {interval: 10m, restore: 1m}\n");
    st_start(&x.w);
    assert_int_equal(st_run_until_state(&x.w, id, JOB_RUNNING, ST_T0 + H), 1);
    st_run_to(&x.w, x.w.t + H);
    assert_int_equal(st_inject(&x.w, "preempt-job", "1"), 0);
    st_run_to(&x.w, x.w.t + 1);
    j = st_job(&x.w, id);
    assert_true(j.work_done_s > 3000 && j.work_done_s <= 3600 + 1);
    store_job_clear(&j);
    st_free(&x.w);
    tu_rmdir(x.dir);
    free(x.dir);
    free(fleet);
}

/* An instance type whose offers carry different accelerators counts as the
 * slowest of them: n1-highmem-8 with a T4 or a V100, beside H100:8, is a T4
 * (0.12 x 1 against 2 x 8: 0.0075), so a job with 8 h of H100 work and a
 * 12 h deadline never counts on it and runs on the H100s in time.  Counted
 * as its first offer, or as 1.0, it latched on demand onto a T4 and was not
 * done at 72 h (helper-94). */
static void test_instance_type_of_several_accelerators(void **state)
{
    static const char spec[] =
        "name: n\nresources:\n  any_of:\n    - {accelerators: H100:8}\n"
        "    - {instance_type: n1-highmem-8}\n"
        "stratus:\n  duration: 8h\n  deadline: 12h\n";
    struct world x;
    struct st_opts o = {0};
    char *fleet, *offers;
    int64_t id;

    (void)state;
    x.dir = tu_mkdtemp();
    tu_copy_dir(TEST_DATA "/sched/catalog", x.dir);
    offers = xasprintf("%s/offers.csv", x.dir);
    {
        FILE *f = fopen(offers, "a");

        assert_non_null(f);
        fputs("gcp,us-central1,us-central1-a,n1-highmem-8,T4,1,16,8,52,none,,0.90,\n"
              "gcp,us-central1,us-central1-a,n1-highmem-8,V100,1,16,8,52,none,,2.90,\n",
              f);
        fclose(f);
    }
    tu_write(x.dir, "throughput.csv",
             "accelerator,train,infer,cores_per_chip,source,note\n"
             "H100,2,4,,test,\nT4,0.12,0.15,,test,\nV100,0.4,0.35,,test,\n");
    {
        FILE *in = fopen(TEST_DATA "/sched/fleet.csv", "r"), *out;
        char buf[4096];
        size_t n;

        fleet = xasprintf("%s/fleet.csv", x.dir);
        out = fopen(fleet, "w");
        assert_non_null(in);
        assert_non_null(out);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, out);
        fputs("gcp/us-central1,n1-highmem-8,4,0\n", out);
        fclose(in);
        fclose(out);
    }
    o.catalog = x.dir;
    o.fleet = fleet;
    st_init(&x.w, &o);
    st_set_capacity(&x.w, "gcp", "us-central1", "a3-highgpu-8g", 0,
                    4); /* H100 spot only */
    st_set_capacity(&x.w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&x.w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    id = st_submit(&x.w, spec);
    {
        /* the plan marks the type's speed as its slowest offer's */
        struct spec *sp = NULL;
        struct plan p;
        struct err e;
        char *text = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&text, &len);

        err_clear(&e);
        assert_int_equal(spec_load_mem(&sp, "n.yaml", spec, strlen(spec), &e), 0);
        plan_init(&p);
        assert_int_equal(plan_rank(&p, x.w.cat, sp, NULL, NULL, &e), 0);
        assert_int_equal(p.alts[0].slowest, 0);
        assert_int_equal(p.alts[1].slowest, 1);
        assert_true(NEAR(p.alts[1].speed, 0.0075));
        plan_print(fp, &p, 0);
        fclose(fp);
        assert_non_null(strstr(text, "n1-highmem-8 0.01x (as its slowest offer)"));
        free(text);
        plan_free(&p);
        spec_free(sp);
    }
    st_start(&x.w);
    assert_done_on(&x, id, 12, "H100");
    st_free(&x.w);
    tu_rmdir(x.dir);
    free(x.dir);
    free(fleet);
    free(offers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alternative_runs_longer),
        cmocka_unit_test(test_inference_ratio),
        cmocka_unit_test(test_unknown_ratio_per_accelerator),
        cmocka_unit_test(test_failover_keeps_converted_work),
        cmocka_unit_test(test_progress_in_first_alternative_seconds),
        cmocka_unit_test(test_deadline_slack_of_the_fallback),
        cmocka_unit_test(test_deadline_late_alternative_not_counted),
        cmocka_unit_test(test_deadline_never_on_a_late_alternative),
        cmocka_unit_test(test_deadline_met_by_a_faster_alternative),
        cmocka_unit_test(test_deadline_check_sees_the_policy),
        cmocka_unit_test(test_pipeline_stage_after_alternatives),
        cmocka_unit_test(test_deadline_check_unknown_speeds_only),
        cmocka_unit_test(test_unknown_and_unsold_alternatives),
        cmocka_unit_test(test_instance_type_alternative_speed),
        cmocka_unit_test(test_deadline_check_shapes),
        cmocka_unit_test(test_fractional_attempt_speed),
        cmocka_unit_test(test_instance_type_of_several_accelerators),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
