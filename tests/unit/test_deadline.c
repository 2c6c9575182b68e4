/*
 * test_deadline.c - the deadline rule (src/sched/sched_place.c): Uniform
 * Progress with its Safety Net and hysteresis, and the paper's Greedy, after
 * "Can't Be Late" (Wu et al., NSDI '24), on the real controller and the sim
 * driver in virtual time (schedtest.h).
 *
 * The world: the sched fixture catalog with only gcp/us-central1 selling
 * L4:4 (g2-standard-48, on-demand $4.00, spot $1.20), spot capacity
 * following a trace each test writes, a launch taking 60 s, and the
 * controller told so (relaunch_overhead_s = 60).  A job's changeover d is
 * launch + restore + checkpoint interval; its line ep(t) = C0 x (t - t0) / R0.
 * Times are seconds after ST_T0.
 *
 * The last test runs a small version of the paper's Table 3 (bench/cbl.h)
 * on the shared SkyPilot traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "plan/plan.h"
#include "schedtest.h"
#include "sim/trace.h"
#include "../../bench/cbl.h"

#define H 3600.0
#define DELAY 60.0
#define CHECK 5.0 /* the controller's deadline check period (the default) */

/* 10 h of work due in 20 h, checkpoints every 10 min restored in 5 min:
 * d = 60 + 300 + 600 = 960 s. */
static const char *const JOB_10H = "name: dl\n"
                                   "resources:\n"
                                   "  accelerators: L4:4\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  duration: 10h\n"
                                   "  deadline: 20h\n"
                                   "  checkpoint:\n"
                                   "    interval: 10m\n"
                                   "    restore: 5m\n";

struct world {
    struct st w;
    struct trace spot;
};

/* A world whose L4 spot capacity follows `rows` ("time_s,nodes" lines,
 * seconds after ST_T0), under deadline rule `rule`; the controller is open. */
static void world_open(struct world *x, int rule, const char *rows)
{
    char csv[4096], *p = csv, *r = xstrdup(rows), *tok, *save = NULL;
    struct err e;

    p += snprintf(p, sizeof(csv), "time_s,location,instance_type,available_nodes\n");
    for (tok = strtok_r(r, "; ", &save); tok; tok = strtok_r(NULL, "; ", &save)) {
        double t = 0;
        long n = 0;

        if (sscanf(tok, "%lf,%ld", &t, &n) != 2)
            st_die("spot row", tok);
        p += snprintf(p, sizeof(csv) - (size_t)(p - csv),
                      "%.0f,gcp/us-central1/us-central1-a,g2-standard-48,%ld\n", t, n);
    }
    free(r);
    /* A last row far away: the trace is not replayed during a test. */
    snprintf(p, sizeof(csv) - (size_t)(p - csv),
             "%.0f,gcp/us-central1/us-central1-a,g2-standard-48,0\n", 30 * 86400.0);
    st_init(&x->w, NULL);
    st_set_capacity(&x->w, "gcp", "europe-west4", "g2-standard-48", 0, 0);
    trace_init(&x->spot);
    err_clear(&e);
    if (trace_load_spot_mem(&x->spot, "spot", csv, strlen(csv), &e) != 0)
        st_die("spot", e.msg);
    x->w.world.spot = &x->spot;
    x->w.p.cfg.relaunch_overhead_s = DELAY;
    x->w.p.cfg.deadline_rule = rule;
    st_start(&x->w);
}

static void world_close(struct world *x)
{
    st_free(&x->w);
    trace_free(&x->spot);
}

static int nattempts_is(struct st *w, void *ctx)
{
    const int64_t *v = ctx;

    return st_nattempts(w, v[0]) == (size_t)v[1];
}

/* Run until job `id` has `n` attempts; fails the test if not by t_max. */
static void run_to_attempt(struct st *w, int64_t id, int n, double t_max)
{
    int64_t v[2] = {id, n};

    if (!nattempts_is(w, v) && !st_run_until(w, nattempts_is, v, ST_T0 + t_max))
        fail_msg("job %lld: no attempt %d by t=%.0f", (long long)id, n, t_max);
}

static void assert_between(const char *what, double v, double lo, double hi)
{
    if (!(v >= lo && v <= hi))
        fail_msg("%s is %.1f, expected %.1f .. %.1f", what, v, lo, hi);
}

/* Run the world to its end (by t_max after ST_T0): job id succeeded, on time. */
static void assert_on_time(struct st *w, int64_t id, double t_max)
{
    struct store_job j;

    assert_true(st_run_all(w, ST_T0 + t_max));
    j = st_job(w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(j.ended_at <= j.deadline_at);
    store_job_clear(&j);
}

/* Uniform Progress, one job through its phases:
 *   0-4 h spot: attempt 1 on spot, 13,800 s saved when spot goes at 4 h;
 *   4-6 h no spot: ahead of the line (ep(4 h) = 7,200 s), it waits;
 *   6-8 h spot: attempt 2 on spot; saved 20,400 s when spot goes at 8 h;
 *   8-12 h no spot: it waits until the line reaches 20,400 s (t = 40,800),
 *     then goes on-demand (attempt 3, working after its 300 s restore from
 *     41,160);
 *   12 h on spot: hysteresis keeps it on on-demand until cp >= ep(t + 2d),
 *     i.e. 20,400 + t - 41,160 >= (t + 1,920) / 2: t >= 43,440 (plain
 *     uniform progress would leave at 43,200), counting only the work its
 *     checkpoints keep (leaving gives up the rest): at its next checkpoint,
 *     43,560 (every 600 s of work from 41,160); then it rides spot to the
 *     end and meets its deadline. */
static void test_uniform_progress_phases(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;

    (void)state;
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,64; 14400,0; 21600,64; 28800,0; 43200,64");
    int64_t id = st_submit(w, JOB_10H);

    run_to_attempt(w, id, 1, 60);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.mode, PLAN_SPOT);
    store_attempt_clear(&a);

    /* Ahead of the line with no spot: waits (no on-demand) until spot is back. */
    st_run_to(w, ST_T0 + 6 * H - 1);
    assert_int_equal(st_nattempts(w, id), 1);
    run_to_attempt(w, id, 2, 6 * H + CHECK);
    a = st_attempt(w, id, 2);
    assert_int_equal(a.mode, PLAN_SPOT);
    assert_between("attempt 2 launch", a.launched_at - ST_T0, 6 * H, 6 * H + CHECK);
    store_attempt_clear(&a);

    /* Behind the line with no spot: on-demand, exactly when it falls behind. */
    run_to_attempt(w, id, 3, 12 * H);
    a = st_attempt(w, id, 3);
    assert_int_equal(a.mode, PLAN_ONDEMAND);
    assert_between("attempt 3 launch", a.launched_at - ST_T0, 40800, 40800 + CHECK);
    store_attempt_clear(&a);

    /* Hysteresis: back to spot once ahead of the line 2d ahead: cp = wd + t -
     * (running + 300) >= (t + 1,920) / 2, with cp what its checkpoints keep:
     * the first checkpoint (every 600 s of work from running + 300) after. */
    assert_true(st_run_until_state(w, id, JOB_RUNNING, ST_T0 + 12 * H));
    a = st_attempt(w, id, 3);
    j = st_job(w, id);
    double live = 2 * (a.running_at - ST_T0 + 300 - j.work_done_s) + 1920;
    double base = a.running_at - ST_T0 + 300;
    double leave = base + 600 * ceil((live - base) / 600);

    assert_between("hysteresis point", live, 43440, 43440 + 3 * CHECK);
    assert_between("first checkpoint after it", leave, 43560, 43560 + 3 * CHECK);
    store_attempt_clear(&a);
    store_job_clear(&j);
    run_to_attempt(w, id, 4, 13 * H);
    a = st_attempt(w, id, 4);
    assert_int_equal(a.mode, PLAN_SPOT);
    assert_between("attempt 4 launch", a.launched_at - ST_T0, leave, leave + CHECK);
    store_attempt_clear(&a);
    a = st_attempt(w, id, 3);
    assert_int_equal(a.end_reason, ATT_END_DISPLACED);
    store_attempt_clear(&a);

    assert_on_time(w, id, 30 * H);
    assert_int_equal(st_nattempts(w, id), 4);
    assert_int_equal(w->violations, 0);
    world_close(&x);
}

/* Without spot, a job behind the line takes on-demand at once (ep > 0 = cp
 * right after submission), and no deadline is missed. */
static void test_behind_takes_ondemand(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;

    (void)state;
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,0");
    int64_t id = st_submit(w, JOB_10H);

    run_to_attempt(w, id, 1, 60);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.mode, PLAN_ONDEMAND);
    assert_between("attempt 1 launch", a.launched_at - ST_T0, 0, CHECK);
    store_attempt_clear(&a);
    assert_on_time(w, id, 30 * H);
    world_close(&x);
}

/* Hysteresis leaves on-demand only when the slack the job keeps once idle
 * (the work since its last checkpoint given up) is 2d too.  10 h due in
 * 10 h 34 min 20 s (2,060 s to spare), no spot until 6 h: on demand from
 * 60 s, slack 2,000 s all along, over 2d = 1,920.  It is 2d ahead of its
 * line from about t = 34,680 s, 420 s after its last checkpoint (every
 * 600 s of its run from 60 s): leaving then gives up 420 s, the slack falls
 * to 1,580, and the Safety Net put it back on demand at once, the work lost
 * (the rule before).  Now it leaves just after its next checkpoint and
 * rides spot, free of the net. */
static void test_hysteresis_leaves_at_a_checkpoint(void **state)
{
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;

    (void)state;
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,0; 21600,64");
    int64_t id = st_submit(w, "name: dl\n"
                              "resources:\n"
                              "  accelerators: L4:4\n"
                              "run: train\n"
                              "stratus:\n"
                              "  duration: 10h\n"
                              "  deadline: 38060s\n"
                              "  checkpoint:\n"
                              "    interval: 10m\n"
                              "    restore: 5m\n");

    run_to_attempt(w, id, 1, 60);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.mode, PLAN_ONDEMAND);
    store_attempt_clear(&a);
    run_to_attempt(w, id, 2, 11 * H);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.end_reason, ATT_END_DISPLACED);
    /* left within a check of a checkpoint: nothing worth a changeover lost */
    assert_between("work given up", fmod(a.ended_at - a.running_at, 600), 0, 80);
    store_attempt_clear(&a);
    a = st_attempt(w, id, 2);
    assert_int_equal(a.mode, PLAN_SPOT);
    store_attempt_clear(&a);
    j = st_job(w, id);
    assert_int_equal(j.on_demand_only, 0);
    store_job_clear(&j);
    assert_on_time(w, id, 30 * H);
    world_close(&x);
}

/* The paper's Greedy waits for spot until the Safety Net: idle with slack <
 * 2d, d = 60 + 300 + 600 = 960 s the real changeover.  1 h due in 3 h:
 * slack = 7,200 - t, so on-demand (latched) at t = 5,280. */
static void test_safety_net_at_real_changeover(void **state)
{
    static const char *const job = "name: greedy\n"
                                   "resources:\n"
                                   "  accelerators: L4:4\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  duration: 1h\n"
                                   "  deadline: 3h\n"
                                   "  checkpoint:\n"
                                   "    interval: 10m\n"
                                   "    restore: 5m\n";
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;

    (void)state;
    world_open(&x, SCHED_DEADLINE_GREEDY, "0,0");
    int64_t id = st_submit(w, job);

    st_run_to(w, ST_T0 + 5280 - 1);
    assert_int_equal(st_nattempts(w, id), 0);
    run_to_attempt(w, id, 1, 5280 + CHECK);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.mode, PLAN_ONDEMAND);
    assert_between("attempt 1 launch", a.launched_at - ST_T0, 5280, 5280 + CHECK);
    store_attempt_clear(&a);
    j = st_job(w, id);
    assert_int_equal(j.on_demand_only, 1);
    store_job_clear(&j);
    assert_on_time(w, id, 10 * H);
    world_close(&x);
}

/* Exploitation: a job on a working spot attempt rides it until the cloud
 * takes it back, even when the rule would now send an idle job to
 * on-demand (here: a controller restarted with a changeover longer than the
 * slack); after the preemption it goes on-demand for good. */
static void test_spot_ridden_until_preempted(void **state)
{
    static const char *const job = "name: ride\n"
                                   "resources:\n"
                                   "  accelerators: L4:4\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  duration: 2h\n"
                                   "  deadline: 4h\n"
                                   "  checkpoint:\n"
                                   "    interval: 10m\n";
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;
    char arg[32];

    (void)state;
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,64");
    int64_t id = st_submit(w, job);

    run_to_attempt(w, id, 1, 60);
    st_run_to(w, ST_T0 + 1800);
    w->p.cfg.relaunch_overhead_s = 30000; /* slack 7,140 s < d */
    st_restart(w);
    st_run_to(w, ST_T0 + 3600);
    assert_int_equal(st_nattempts(w, id), 1);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.state, ATT_RUNNING);
    store_attempt_clear(&a);
    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    assert_int_equal(st_inject(w, "preempt-job", arg), 0);
    run_to_attempt(w, id, 2, 3600 + 600);
    a = st_attempt(w, id, 2);
    assert_int_equal(a.mode, PLAN_ONDEMAND);
    store_attempt_clear(&a);
    assert_true(st_run_all(w, ST_T0 + 10 * H));
    j = st_job(w, id);
    assert_int_equal(j.on_demand_only, 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_true(j.ended_at <= j.deadline_at);
    store_job_clear(&j);
    world_close(&x);
}

/* A job only spot can hold whose slack falls below one changeover while
 * its spot attempt is still launching is not stopped to go on-demand
 * (which it cannot use: it would only launch on spot again): the Safety
 * Net latches it once, says it stays on spot, and the attempt goes on
 * (here: a controller restarted mid-launch with a changeover longer than
 * the slack).  Only spot holds it: its spec (`use_spot: true`), or a rule
 * whose cost cap ($3/h) is below on-demand ($4/h) and above spot (an
 * attack found the rule's case stopped and relaunched on spot). */
static void spot_only_not_switched(const char *use_spot, const char *policy)
{
    char job[300];
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;
    int64_t id;

    snprintf(job, sizeof(job),
             "name: spotonly\nresources:\n  accelerators: L4:4\n%s"
             "run: train\nstratus:\n  duration: 2h\n  deadline: 4h\n"
             "  checkpoint:\n    interval: 10m\n",
             use_spot);
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,64");
    id = policy ? st_submit_policy(w, job, policy) : st_submit(w, job);
    run_to_attempt(w, id, 1, 60);
    a = st_attempt(w, id, 1);
    assert_int_equal(a.mode, PLAN_SPOT);
    assert_int_equal(a.state, ATT_LAUNCHING);
    store_attempt_clear(&a);
    w->p.cfg.relaunch_overhead_s = 30000; /* slack about 7,200 s < d */
    st_restart(w);
    assert_true(st_run_all(w, ST_T0 + 10 * H));
    assert_int_equal(st_nattempts(w, id), 1);
    j = st_job(w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.on_demand_only, 1);
    store_job_clear(&j);
    assert_int_equal(st_count_events(w, id, "deadline", -1), 1);
    world_close(&x);
}

static void test_spot_only_not_switched(void **state)
{
    (void)state;
    spot_only_not_switched("  use_spot: true\n", NULL);
    spot_only_not_switched("",
                           "version: 1\nrules:\n  - name: cap\n    max_hourly_cost: 3\n");
}

/* Restoring a checkpoint is not work: an attempt preempted before its 30 min
 * restore is over adds nothing to the job's progress (the sim world starts
 * work after the restore too). */
static void test_restore_is_not_progress(void **state)
{
    static const char *const job = "name: restore\n"
                                   "resources:\n"
                                   "  accelerators: L4:4\n"
                                   "  use_spot: true\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  duration: 2h\n"
                                   "  checkpoint:\n"
                                   "    interval: 10m\n"
                                   "    restore: 30m\n";
    struct world x;
    struct st *w = &x.w;
    struct store_attempt a;
    struct store_job j;
    char arg[32];

    (void)state;
    world_open(&x, SCHED_DEADLINE_UNIFORM, "0,64");
    int64_t id = st_submit(w, job);

    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    assert_true(st_run_until_state(w, id, JOB_RUNNING, ST_T0 + 600));
    st_run_to(w, ST_T0 + DELAY + 1810); /* 1,810 s of work: 1,800 saved */
    assert_int_equal(st_inject(w, "preempt-job", arg), 0);
    run_to_attempt(w, id, 2, 3 * H);
    j = st_job(w, id);
    assert_true(fabs(j.work_done_s - 1800) < 1e-6);
    store_job_clear(&j);

    assert_true(st_run_until_state(w, id, JOB_RUNNING, ST_T0 + 3 * H));
    a = st_attempt(w, id, 2);
    st_run_to(w, a.running_at + 1500); /* 25 min of the 30 min restore */
    store_attempt_clear(&a);
    assert_int_equal(st_inject(w, "preempt-job", arg), 0);
    run_to_attempt(w, id, 3, 6 * H);
    j = st_job(w, id);
    assert_true(fabs(j.work_done_s - 1800) < 1e-6);
    store_job_clear(&j);
    assert_true(st_run_all(w, ST_T0 + 10 * H));
    world_close(&x);
}

/* A small Table 3 of "Can't Be Late" on the shared SkyPilot traces (all 8,
 * 20 starts each in their first 2 weeks): no deadline missed, Uniform
 * Progress cheaper than Greedy cheaper than on-demand, and Uniform Progress
 * near the paper's simulator (0.830 at 52 h, 0.723 at 60 h; the rule this
 * replaced paid 0.90 and 0.87 in bench_deadline and missed 80 and 55 of
 * 2,400 deadlines). */
static void test_small_table3(void **state)
{
    static const double ddl[2] = {52, 60}, paper_up[2] = {0.830, 0.723};
    const char *dir = SOURCE_DIR "/../shared/data/traces/spot-availability-skypilot/"
                                 "availability/1-node/aws-10-26-2022";
    double up[2] = {0, 0}, greedy[2] = {0, 0};
    char path[1024], msg[1400];
    struct cbl c;
    int k, d;

    (void)state;
    snprintf(path, sizeof(path), "%s/%s.json", dir, cbl_trace_names[0]);
    if (access(path, R_OK) != 0)
        skip();
    cbl_catalog(&c);
    for (k = 0; k < CBL_NTRACES; k++) {
        struct cbl_trace t;

        snprintf(path, sizeof(path), "%s/%s.json", dir, cbl_trace_names[k]);
        if (cbl_trace_open(&t, path, 20, 60, 336, 7 + (uint64_t)k, msg, sizeof(msg)) != 0)
            fail_msg("%s", msg);
        for (d = 0; d < 2; d++) {
            struct cbl_result u = cbl_run(&c, &t, ddl[d], CBL_UP);
            struct cbl_result g = cbl_run(&c, &t, ddl[d], CBL_GREEDY);

            assert_int_equal(u.misses, 0);
            assert_int_equal(g.misses, 0);
            assert_int_equal(u.jobs, 20);
            up[d] += u.ratio / CBL_NTRACES;
            greedy[d] += g.ratio / CBL_NTRACES;
        }
        cbl_trace_close(&t);
    }
    cbl_catalog_free(&c);
    for (d = 0; d < 2; d++) {
        print_message("deadline %.0f h: uniform progress %.3f (paper %.3f), greedy %.3f\n",
                      ddl[d], up[d], paper_up[d], greedy[d]);
        assert_true(up[d] < greedy[d]);
        assert_true(greedy[d] < 1.0);
        assert_true(fabs(up[d] - paper_up[d]) < 0.05);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_progress_phases),
        cmocka_unit_test(test_behind_takes_ondemand),
        cmocka_unit_test(test_hysteresis_leaves_at_a_checkpoint),
        cmocka_unit_test(test_safety_net_at_real_changeover),
        cmocka_unit_test(test_spot_only_not_switched),
        cmocka_unit_test(test_spot_ridden_until_preempted),
        cmocka_unit_test(test_restore_is_not_progress),
        cmocka_unit_test(test_small_table3),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
