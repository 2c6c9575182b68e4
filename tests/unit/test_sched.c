/*
 * test_sched.c - the controller (src/sched) scenario by scenario, in virtual
 * time: the real controller on the sim driver (schedtest.h), asserting
 * states, placements (cloud, region, mode), carried checkpoints and bills
 * exactly; and secrets opened at launch (the envs the driver gets).
 *
 * Every bill is computed here by hand from the fixture catalog
 * (tests/data/sched/catalog, $/node-hour):
 *     L4:4   gcp/us-central1  on-demand 4.00  spot 1.20
 *            gcp/europe-west4 on-demand 4.40  spot 1.60
 *     H100:8 gcp/us-central1  on-demand 80.00 spot 20.00
 *            gcp/europe-west4 on-demand 88.00 spot 24.00
 *            azure/eastus     on-demand 96.00 spot 36.00
 * The world starts an attempt 60 s after its launch (RUNNING) and runs it
 * for the job's stratus.duration minus what its checkpoints saved; the
 * catalog has no preemption rate, so only the preemptions a test injects
 * happen.  Times below are seconds after ST_T0.
 *
 * Scenarios that can crash today's controller (a BUG_ON aborts the process)
 * first run in a child (st_survives) so that one defect does not hide the
 * outcome of every later test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "schedtest.h"
#include "spec/pipeline.h"
#include "store/store_int.h"
#include "testutil.h"

#define DAY 86400.0
#define DELAY 60.0 /* launch to RUNNING in the fixture world */

/* Doubles compared in double precision (cmocka's assert_float_equal works
 * in float, too coarse for unix times). */
#define assert_dbl(actual, expected) assert_near(#actual, (actual), (expected), 1e-6)
/* Bills are exact: the controller and the test multiply the same numbers. */
#define assert_usd(actual, expected) assert_near(#actual, (actual), (expected), 1e-6)

static void assert_near(const char *what, double actual, double expected, double eps)
{
    if (!(fabs(actual - expected) <= eps))
        fail_msg("%s is %.9f, expected %.9f", what, actual, expected);
}

/* An L4 spot job: 2 h of work, checkpoints every 10 min (no restore time). */
static const char *const L4_CKPT_FAILOVER = "name: l4-ckpt\n"
                                            "resources:\n"
                                            "  accelerators: L4:4\n"
                                            "  use_spot: true\n"
                                            "run: train\n"
                                            "stratus:\n"
                                            "  duration: 2h\n"
                                            "  checkpoint:\n"
                                            "    interval: 10m\n"
                                            "  recovery:\n"
                                            "    strategy: failover\n";

static const char *const L4_CKPT_EAGER = "name: l4-eager\n"
                                         "resources:\n"
                                         "  accelerators: L4:4\n"
                                         "  use_spot: true\n"
                                         "run: train\n"
                                         "stratus:\n"
                                         "  duration: 2h\n"
                                         "  checkpoint:\n"
                                         "    interval: 10m\n"
                                         "  recovery:\n"
                                         "    strategy: eager-next-region\n";

static const char *const L4_SPOT_2H = "name: l4\n"
                                      "resources:\n"
                                      "  accelerators: L4:4\n"
                                      "  use_spot: true\n"
                                      "run: serve\n"
                                      "stratus:\n"
                                      "  duration: 2h\n";

static const char *const H100_OD_1H = "name: h100\n"
                                      "resources:\n"
                                      "  accelerators: H100:8\n"
                                      "  use_spot: false\n"
                                      "run: train\n"
                                      "stratus:\n"
                                      "  duration: 1h\n";

static void assert_place(const struct store_attempt *a, const char *cloud,
                         const char *region, int mode)
{
    assert_string_equal(a->cloud, cloud);
    assert_string_equal(a->region, region);
    assert_int_equal(a->mode, mode);
}

/* Nothing the controller did broke a world invariant (two attempts of one
 * job live at once). */
static void assert_world_ok(struct st *w)
{
    if (w->violations)
        fail_msg("%lu world violation(s), first: %s", w->violations, w->violation);
}

/* Requests left pending in the store (taking them consumes them): every
 * one, or (all = 0) those from users, the controller's own "terminate"
 * requests not counted. */
static size_t requests_left(struct st *w, int all)
{
    struct store_request *r = NULL;
    struct err e;
    size_t i, n = 0, k = 0;

    err_clear(&e);
    assert_int_equal(store_request_take(w->store, &r, &n, &e), 0);
    for (i = 0; i < n; i++)
        k += all || strcmp(r[i].kind, "terminate") != 0;
    store_requests_free(r, n);
    return k;
}

static size_t pending_requests(struct st *w)
{
    return requests_left(w, 0);
}

/* A job on L4 spot, cancelled after 30 min of running: its id. */
static int64_t run_then_cancel(struct st *w)
{
    int64_t id = st_submit(w, L4_SPOT_2H);

    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1800);
    st_cancel(w, id);
    return id;
}

/* Each test gets a world to st_init(); teardown frees it even after a
 * failed assertion. */
static int setup(void **state)
{
    *state = xcalloc(1, sizeof(struct st));
    return 0;
}

static int teardown(void **state)
{
    struct st *w = *state;

    if (w->store != NULL)
        st_free(w);
    free(w);
    return 0;
}

/* ---- preemption with recovery ---- */

/* A checkpointing L4 spot job runs 25 min on gcp/us-central1 and is
 * preempted: 20 min were saved (two 10-min checkpoints).  kill_at_recovering
 * kills the controller right after it committed RECOVERING. */
struct preempt_run {
    int64_t id;
    double t_preempt;
};

static int is_recovering(struct st *w, void *ctx)
{
    return st_job_state(w, *(int64_t *)ctx) == JOB_RECOVERING;
}

static struct preempt_run run_preempted_on(struct st *w, const char *spec,
                                           int kill_at_recovering,
                                           const struct st_opts *o)
{
    struct preempt_run r;

    st_init(w, o);
    r.id = st_submit(w, spec);
    st_start(w);
    r.t_preempt = ST_T0 + DELAY + 1500;
    st_run_to(w, r.t_preempt);
    assert_int_equal(st_job_state(w, r.id), JOB_RUNNING);
    if (kill_at_recovering)
        st_kill_when(w, is_recovering, &r.id, 1);
    assert_int_equal(st_inject(w, "preempt-job", "1"), 0);
    assert_true(st_run_all(w, ST_T0 + DAY));
    if (kill_at_recovering)
        assert_int_equal(w->kills, 1);
    return r;
}

static struct preempt_run run_preempted(struct st *w, const char *spec,
                                        int kill_at_recovering)
{
    return run_preempted_on(w, spec, kill_at_recovering, NULL);
}

/* What both strategies share: attempt 1 preempted after 1500 s having saved
 * 1200 s, attempt 2 carried that checkpoint and ran the remaining 6000 s. */
static void check_preempted(struct st *w, const struct preempt_run *r, double price2)
{
    struct store_job j = st_job(w, r->id);
    struct store_attempt a1 = st_attempt(w, r->id, 1), a2 = st_attempt(w, r->id, 2);

    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.restarts, 1);
    assert_int_equal(st_nattempts(w, r->id), 2);
    assert_place(&a1, "gcp", "us-central1", PLAN_SPOT);
    assert_int_equal(a1.end_reason, ATT_END_PREEMPTED);
    assert_dbl(a1.ended_at, r->t_preempt);
    assert_usd(a1.cost, st_usd(1.20, 1, 1500));
    assert_int_equal(a1.ckpt_from, 0);
    /* The checkpoint is carried: attempt 2 resumes from attempt 1's. */
    assert_int_equal(a2.ckpt_from, a1.id);
    assert_int_equal(a2.mode, PLAN_SPOT);
    assert_int_equal(a2.end_reason, ATT_END_EXITED);
    /* 6000 s of work left: it ends 6000 s after it ran. */
    assert_dbl(a2.ended_at - a2.running_at, 6000);
    assert_usd(a2.cost, st_usd(price2, 1, 6000));
    assert_dbl(j.work_done_s, 7200);
    assert_usd(j.cost, a1.cost + a2.cost);
    assert_int_equal(st_terminal_events(w, r->id), 1);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    store_job_clear(&j);
}

static void test_preempt_failover(void **state)
{
    struct st *w = *state;
    struct preempt_run r = run_preempted(w, L4_CKPT_FAILOVER, 0);
    struct store_attempt a2 = st_attempt(w, r.id, 2);

    check_preempted(w, &r, 1.20);
    /* failover may retry the same region: it is still the cheapest. */
    assert_place(&a2, "gcp", "us-central1", PLAN_SPOT);
    /* Backoff 5 s after the first restart, then 60 s to RUNNING. */
    assert_dbl(a2.launched_at, r.t_preempt + 5);
    assert_dbl(a2.running_at, r.t_preempt + 5 + DELAY);
    store_attempt_clear(&a2);
    st_free(w);
}

static void test_preempt_eager_next_region(void **state)
{
    struct st *w = *state;
    struct preempt_run r = run_preempted(w, L4_CKPT_EAGER, 0);
    struct store_attempt a2 = st_attempt(w, r.id, 2);

    /* eager-next-region: another region, though the first is free again. */
    check_preempted(w, &r, 1.60);
    assert_place(&a2, "gcp", "europe-west4", PLAN_SPOT);
    store_attempt_clear(&a2);
    st_free(w);
}

/* Issue 9, item 1: a controller killed right after it committed RECOVERING
 * must recover exactly as one that was not: checkpoint carried, strategy
 * honoured, same bill. */
static void test_preempt_crash_at_recovering_failover(void **state)
{
    struct st *w = *state;
    struct preempt_run r = run_preempted(w, L4_CKPT_FAILOVER, 1);

    check_preempted(w, &r, 1.20);
    st_free(w);
}

static void test_preempt_crash_at_recovering_eager(void **state)
{
    struct st *w = *state;
    struct preempt_run r = run_preempted(w, L4_CKPT_EAGER, 1);
    struct store_attempt a2 = st_attempt(w, r.id, 2);

    assert_place(&a2, "gcp", "europe-west4", PLAN_SPOT);
    check_preempted(w, &r, 1.60);
    store_attempt_clear(&a2);
    st_free(w);
}

/* The same on a real SQLite file: the fault wrapper and the kill work on
 * the default backend too. */
static void test_preempt_crash_at_recovering_sqlite(void **state)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/stratus.db", dir);
    struct st_opts o = {NULL, NULL, path, 0, 0};
    struct st *w = *state;
    struct preempt_run r = run_preempted_on(w, L4_CKPT_EAGER, 1, &o);
    struct store_attempt a2 = st_attempt(w, r.id, 2);

    assert_string_equal(w->store->ops->name, "fault");
    assert_place(&a2, "gcp", "europe-west4", PLAN_SPOT);
    check_preempted(w, &r, 1.60);
    store_attempt_clear(&a2);
    st_free(w);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* A job without checkpoints starts over: nothing carried, all work redone. */
static void test_preempt_without_checkpoint(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1, a2;
    int64_t id;

    st_init(w, NULL);
    id = st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1500);
    assert_int_equal(st_inject(w, "preempt-job", "1"), 0);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    a2 = st_attempt(w, id, 2);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(a2.ckpt_from, 0);
    assert_dbl(a2.ended_at - a2.running_at, 7200);
    assert_usd(j.cost, st_usd(1.20, 1, 1500) + st_usd(1.20, 1, 7200));
    assert_dbl(j.work_done_s, 7200);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    store_job_clear(&j);
    st_free(w);
}

/* ---- stockout and API errors ---- */

/* gcp/us-central1 refuses the launch (stockout, seen only at launch): the
 * job fails over to the next cheapest location at once, without a restart,
 * and the refused attempt costs nothing. */
static void test_stockout_failover(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1, a2;
    int64_t id;

    st_init(w, NULL);
    w->capacity_unknown = 1;
    id = st_submit(w, H100_OD_1H);
    st_start(w);
    assert_int_equal(st_inject(w, "stockout", "gcp/us-central1 3600"), 0);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    a2 = st_attempt(w, id, 2);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.restarts, 0);
    assert_int_equal(st_nattempts(w, id), 2);
    assert_place(&a1, "gcp", "us-central1", PLAN_ONDEMAND);
    assert_int_equal(a1.end_reason, ATT_END_CAPACITY);
    assert_usd(a1.cost, 0);
    assert_place(&a2, "gcp", "europe-west4", PLAN_ONDEMAND);
    assert_dbl(a2.launched_at, ST_T0);
    assert_dbl(j.ended_at, ST_T0 + DELAY + 3600);
    assert_usd(j.cost, 88.00);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    store_job_clear(&j);
    st_free(w);
}

/* gcp/us-central1's API fails the launch (ST_EIO): the region is blocked,
 * the job restarts once (after the 5 s backoff) in another region. */
static void test_api_error(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1, a2;
    int64_t id;

    st_init(w, NULL);
    st_fail_launches(w, "gcp/us-central1", ST_EIO, ST_T0 + 3600);
    id = st_submit(w, H100_OD_1H);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    a2 = st_attempt(w, id, 2);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.restarts, 1);
    assert_int_equal(st_nattempts(w, id), 2);
    assert_place(&a1, "gcp", "us-central1", PLAN_ONDEMAND);
    assert_int_equal(a1.end_reason, ATT_END_FAILED);
    assert_usd(a1.cost, 0);
    assert_place(&a2, "gcp", "europe-west4", PLAN_ONDEMAND);
    assert_dbl(a2.launched_at, ST_T0 + 5);
    assert_usd(j.cost, 88.00);
    assert_int_equal(st_att_at(w, a1.id)->started, 0);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    store_job_clear(&j);
    st_free(w);
}

/* ---- cancel ---- */

/* Cancelled after 30 min of running: billed 30 min, stopped in the world. */
static void test_cancel_running(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    id = run_then_cancel(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(j.state, JOB_CANCELLED);
    assert_dbl(j.ended_at, ST_T0 + DELAY + 1800);
    assert_int_equal(a1.end_reason, ATT_END_CANCELLED);
    assert_usd(j.cost, st_usd(1.20, 1, 1800));
    assert_int_equal(st_att_at(w, a1.id)->live, 0);
    assert_int_equal(st_terminal_events(w, id), 1);
    assert_int_equal(pending_requests(w), 0);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_job_clear(&j);
    st_free(w);
}

/* Cancelled, and the controller killed right after the step that ended the
 * attempt committed (before it stopped the machine), then the next one
 * killed right after its own first commit (which took the stop filed with
 * the cancel): the third stops it, and no request is left.  The job has
 * ended, so nothing but the requests remembers the machine. */
static int kill_again(struct st *w, void *ctx)
{
    int *armed = ctx;

    if (*armed && w->kills == 1) {
        *armed = 0;
        st_kill_at_commit(w, w->fault->commits + 1, 1);
    }
    return w->kills == 2;
}

static void test_cancel_killed_twice(void **state)
{
    struct st *w = *state;
    struct store_attempt a1;
    int armed = 1;
    int64_t id;

    st_init(w, NULL);
    id = run_then_cancel(w);
    st_kill_at_commit(w, w->fault->commits + 1, 1);
    assert_true(st_run_until(w, kill_again, &armed, ST_T0 + DAY));
    a1 = st_attempt(w, id, 1);
    assert_int_equal(a1.end_reason, ATT_END_CANCELLED);
    assert_int_equal(st_job_state(w, id), JOB_CANCELLED);
    assert_int_equal(st_att_at(w, a1.id)->live, 1); /* no one has stopped it yet */
    st_run_to(w, w->t + 3600);
    assert_int_equal(st_att_at(w, a1.id)->live, 0);
    assert_int_equal(requests_left(w, 1), 0); /* the stop filed again was dropped once made */
    assert_world_ok(w);
    store_attempt_clear(&a1);
    st_free(w);
}

/* The cloud refuses the first stops (an API error): the stop is tried
 * again after the backoff until it is made, and its request then dropped. */
static int refusals;
static int refusing_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    if (refusals > 0) {
        refusals--;
        return err_set(e, ST_EIO, "terminate: cloud API error (test)");
    }
    return st_drv_terminate(d, attempt_id, e);
}

/* The world's driver with terminate replaced by fn. */
static void open_with_terminate(struct st *w,
                                int (*fn)(struct driver *, int64_t, struct err *))
{
    static struct driver_ops ops;
    struct err e;

    ops = st_driver_ops;
    ops.terminate = fn;
    err_clear(&e);
    assert_int_equal(driver_open(&w->drv, &ops, &w->dcfg, &e), 0);
    w->drv_open = 1;
}

static void test_cancel_stop_refused(void **state)
{
    struct st *w = *state;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    open_with_terminate(w, refusing_terminate);
    refusals = 3;
    id = run_then_cancel(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    a1 = st_attempt(w, id, 1);
    st_run_to(w, w->t + 3600);
    assert_int_equal(refusals, 0);
    assert_int_equal(st_att_at(w, a1.id)->live, 0);
    /* three refusals, tried again after 1, 2 and 4 x the backoff base */
    assert_true(st_att_at(w, a1.id)->ended_at <=
                ST_T0 + DELAY + 1800 + 7 * w->p.cfg.backoff_base_s + 1);
    assert_int_equal(requests_left(w, 1), 0);
    store_attempt_clear(&a1);
    st_free(w);
}

/* A cloud that refuses a stop for an hour (the job's nodes would run 90 min
 * more) is asked again after a backoff that doubles up to backoff_max: a
 * dozen times, not at every step (720 times at the base); once it takes
 * stops again, the stop is made within backoff_max. */
static int terminate_calls;
static int counting_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    terminate_calls++;
    return refusing_terminate(d, attempt_id, e);
}

static void test_stop_refused_backs_off(void **state)
{
    struct st *w = *state;
    struct store_attempt a1;
    double base, max, t;
    int64_t id;
    int most, least;

    st_init(w, NULL);
    open_with_terminate(w, counting_terminate);
    base = w->p.cfg.backoff_base_s;
    max = w->p.cfg.backoff_max_s;
    refusals = 1 << 30;
    terminate_calls = 0;
    id = run_then_cancel(w);
    st_submit(w, L4_SPOT_2H); /* its events make steps of their own */
    t = w->t;
    st_run_to(w, t + 3600);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(st_att_at(w, a1.id)->live, 1);
    /* base, 2 base, ... up to max, then every max */
    least = (int)((3600 - 2 * max) / max);
    most = (int)log2(max / base) + 2 + (int)(3600 / max) + 2;
    assert_true(terminate_calls >= least);
    assert_true(terminate_calls <= most);
    refusals = 0; /* its request was kept all along: the stop is made */
    t = w->t;
    st_run_to(w, t + max + 1);
    assert_int_equal(st_att_at(w, a1.id)->live, 0);
    assert_true(st_att_at(w, a1.id)->ended_at <= t + max + 1);
    st_run_to(w, w->t + 60);
    assert_int_equal(requests_left(w, 1), 0);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    st_free(w);
}

/* The controller is killed just after it committed CANCELLED, before it
 * asked the cloud to stop the nodes: the one that starts next must stop
 * them (the store says the attempt ended; the world still runs it). */
static int is_cancelled(struct st *w, void *ctx)
{
    return st_job_state(w, *(int64_t *)ctx) == JOB_CANCELLED;
}

static void test_cancel_crash_after_commit(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    id = st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1800);
    st_kill_when(w, is_cancelled, &id, 1);
    st_cancel(w, id);
    assert_true(st_run_all(w, ST_T0 + DAY));
    st_run_to(w, ST_T0 + DELAY + 1900);
    assert_int_equal(w->kills, 1);
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(j.state, JOB_CANCELLED);
    if (st_att_at(w, a1.id)->live)
        fail_msg("attempt %lld still runs in the world 100 s after its job was cancelled",
                 (long long)a1.id);
    assert_usd(st_world_cost(w, a1.id, 1.20), j.cost);
    assert_usd(j.cost, st_usd(1.20, 1, 1800));
    store_attempt_clear(&a1);
    store_job_clear(&j);
    st_free(w);
}

/* The job started running while no controller ran, and was cancelled then:
 * the controller that opens next bills the time it ran (the RUNNING at
 * 60 s, the cancel taken at 600 s), not $0. */
static void test_cancel_while_down_bills_what_ran(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    id = st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + 1);
    st_kill(w);
    w->t = ST_T0 + 600; /* no controller meanwhile; the world runs the job */
    st_cancel(w, id);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(j.state, JOB_CANCELLED);
    assert_dbl(a1.running_at, ST_T0 + DELAY);
    assert_usd(j.cost, st_usd(1.20, 1, 600 - DELAY));
    assert_usd(st_world_cost(w, a1.id, 1.20), j.cost);
    store_attempt_clear(&a1);
    store_job_clear(&j);
    st_free(w);
}

/* Issue 9, item 2: two cancels of one job, filed together (e.g. while the
 * controller was down), and two more after it ended. */
static void sc_cancel_twice(struct st *w)
{
    st_init(w, NULL);
    st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1800);
    st_kill(w);
    st_cancel(w, 1);
    st_cancel(w, 1);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1900);
    st_cancel(w, 1);
    st_cancel(w, 1);
    st_run_to(w, ST_T0 + DELAY + 2000);
}

static void test_cancel_twice(void **state)
{
    char why[256];
    struct st *w = *state;
    struct store_job j;

    if (!st_survives(sc_cancel_twice, why, sizeof(why)))
        fail_msg("two cancels of one job: %s", why);
    sc_cancel_twice(w);
    j = st_job(w, 1);
    assert_int_equal(j.state, JOB_CANCELLED);
    assert_dbl(j.ended_at, ST_T0 + DELAY + 1800);
    assert_usd(j.cost, st_usd(1.20, 1, 1800));
    assert_int_equal(st_terminal_events(w, 1), 1);
    assert_int_equal(st_nattempts(w, 1), 1);
    assert_int_equal(pending_requests(w), 0);
    assert_world_ok(w);
    store_job_clear(&j);
    st_free(w);
}

/* A cancel of a job that has finished, and of a job that never existed:
 * answered and consumed, nothing changes. */
static void sc_cancel_ended_unknown(struct st *w)
{
    st_init(w, NULL);
    st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_all(w, ST_T0 + DAY);
    st_cancel(w, 1);
    st_cancel(w, 999);
    st_run_to(w, w->t + 60);
}

static void test_cancel_ended_and_unknown(void **state)
{
    char why[256];
    struct st *w = *state;
    struct store_job j;

    if (!st_survives(sc_cancel_ended_unknown, why, sizeof(why)))
        fail_msg("cancel of an ended or unknown job: %s", why);
    sc_cancel_ended_unknown(w);
    j = st_job(w, 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.cancel_requested, 0);
    assert_usd(j.cost, st_usd(1.20, 1, 7200));
    assert_int_equal(st_terminal_events(w, 1), 1);
    assert_int_equal(pending_requests(w), 0);
    store_job_clear(&j);
    st_free(w);
}

/* ---- priorities ---- */

/* One spot H100 node in the whole fleet.  A low-priority checkpointing job
 * holds it for 1 h (two 30-min checkpoints) when a priority-10 job comes:
 * the low one is displaced (not a restart), the high one runs its hour, and
 * the low one then resumes from its checkpoint for the hour it has left. */
static void test_displacement(void **state)
{
    static const char *const low = "name: low\n"
                                   "resources:\n"
                                   "  accelerators: H100:8\n"
                                   "  use_spot: true\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  priority: 0\n"
                                   "  duration: 2h\n"
                                   "  checkpoint:\n"
                                   "    interval: 30m\n";
    static const char *const high = "name: high\n"
                                    "resources:\n"
                                    "  accelerators: H100:8\n"
                                    "  use_spot: true\n"
                                    "run: eval\n"
                                    "stratus:\n"
                                    "  priority: 10\n"
                                    "  duration: 1h\n";
    struct st *w = *state;
    struct store_job jl, jh;
    struct store_attempt l1, l2, h1;
    int64_t lo, hi;

    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 1);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    lo = st_submit(w, low);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 3600);
    hi = st_submit(w, high);
    assert_true(st_run_all(w, ST_T0 + DAY));
    jl = st_job(w, lo);
    jh = st_job(w, hi);
    l1 = st_attempt(w, lo, 1);
    l2 = st_attempt(w, lo, 2);
    h1 = st_attempt(w, hi, 1);
    assert_int_equal(jh.state, JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(w, hi), 1);
    assert_usd(jh.cost, 20.00);
    assert_int_equal(l1.end_reason, ATT_END_DISPLACED);
    assert_dbl(l1.ended_at, ST_T0 + DELAY + 3600);
    assert_true(h1.launched_at >= l1.ended_at);
    assert_true(l2.launched_at >= h1.ended_at);
    assert_int_equal(l2.ckpt_from, l1.id);
    assert_int_equal(jl.state, JOB_SUCCEEDED);
    assert_int_equal(jl.restarts, 0);
    assert_dbl(l2.ended_at - l2.running_at, 3600);
    assert_dbl(jl.work_done_s, 7200);
    assert_usd(jl.cost, 20.00 + 20.00);
    assert_world_ok(w);
    store_attempt_clear(&l1);
    store_attempt_clear(&l2);
    store_attempt_clear(&h1);
    store_job_clear(&jl);
    store_job_clear(&jh);
    st_free(w);
}

/* A higher-priority job that may not run on spot does not displace a spot
 * job: the node it would free is a spot node (the simulator counts the pools
 * apart).  It used to, and the victim relaunched on the same node and was
 * stopped again, without end.  Here the high job waits for europe-west4's
 * on-demand node, held by another job for an hour; the low one runs its
 * two hours once. */
static void test_no_displacement_for_a_node_it_cannot_use(void **state)
{
    static const char *const low = "name: low\nresources:\n  accelerators: H100:8\n"
                                   "  use_spot: true\nrun: train\nstratus:\n  priority: 0\n"
                                   "  duration: 2h\n";
    static const char *const mid = "name: mid\nresources:\n  accelerators: H100:8\n"
                                   "  use_spot: false\nrun: train\nstratus:\n  priority: 20\n"
                                   "  duration: 1h\n";
    static const char *const high = "name: high\nresources:\n  accelerators: H100:8\n"
                                    "  use_spot: false\nrun: eval\nstratus:\n  priority: 10\n"
                                    "  duration: 1h\n";
    struct st *w = *state;
    struct store_attempt h1;
    int64_t lo, md, hi;

    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 1);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 1, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    lo = st_submit(w, low);
    md = st_submit(w, mid);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 60);
    hi = st_submit(w, high);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_int_equal(st_job_state(w, lo), JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(w, lo), 1);
    assert_int_equal(st_job_state(w, md), JOB_SUCCEEDED);
    assert_int_equal(st_job_state(w, hi), JOB_SUCCEEDED);
    h1 = st_attempt(w, hi, 1);
    assert_place(&h1, "gcp", "europe-west4", PLAN_ONDEMAND);
    assert_world_ok(w);
    store_attempt_clear(&h1);
    st_free(w);
}

/* The one spot node frees while the priority-10 job waits out a long retry
 * (its region was blocked by an API error): a priority-0 job that arrives
 * then must not take the room first (it would only be displaced later).
 * The high one is placed in the low one's step; the low one waits for it. */
static void test_priority_waiter_first(void **state)
{
    static const char *const low = "name: low\n"
                                   "resources:\n"
                                   "  accelerators: H100:8\n"
                                   "  use_spot: true\n"
                                   "run: train\n"
                                   "stratus:\n"
                                   "  priority: 0\n"
                                   "  duration: 1h\n";
    static const char *const high = "name: high\n"
                                    "resources:\n"
                                    "  accelerators: H100:8\n"
                                    "  use_spot: true\n"
                                    "run: eval\n"
                                    "stratus:\n"
                                    "  priority: 10\n"
                                    "  duration: 1h\n";
    struct st *w = *state;
    struct store_job jl, jh;
    struct store_attempt l1, h2;
    int64_t lo, hi;

    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 1);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_fail_launches(w, "gcp/us-central1", ST_EIO, ST_T0 + 1);
    w->p.cfg.block_cooldown_s = 30;
    w->p.cfg.wait_retry_s = 600;
    hi = st_submit(w, high);
    st_start(w);
    st_run_to(w, ST_T0 + 100);
    assert_int_equal(st_job_state(w, hi), JOB_PENDING); /* waiting, retry 450-600 s on */
    lo = st_submit(w, low);
    assert_true(st_run_all(w, ST_T0 + DAY));
    jl = st_job(w, lo);
    jh = st_job(w, hi);
    l1 = st_attempt(w, lo, 1);
    h2 = st_attempt(w, hi, 2);
    assert_int_equal(jh.state, JOB_SUCCEEDED);
    assert_int_equal(jl.state, JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(w, hi), 2); /* the failed launch, then the run */
    assert_int_equal(st_nattempts(w, lo), 1);
    assert_true(h2.launched_at < ST_T0 + 200);
    assert_true(l1.launched_at >= h2.ended_at);
    assert_int_equal(st_count_events(w, hi, "displace", -1), 0);
    assert_world_ok(w);
    store_attempt_clear(&l1);
    store_attempt_clear(&h2);
    store_job_clear(&jl);
    store_job_clear(&jh);
    st_free(w);
}

/* ---- prices ---- */

/* The spot price of gcp/us-central1 L4 doubles after 30 min of a 2 h run:
 * 30 min at $1.20, 90 min at $2.40. */
static void test_price_change(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    id = st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1800);
    st_set_price(w, "gcp", "us-central1", "g2-standard-48", 4.00, 2.40);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_dbl(a1.price_hour, 2.40);
    assert_dbl(a1.priced_at, ST_T0 + DELAY + 1800);
    assert_usd(a1.cost, st_usd(1.20, 1, 1800) + st_usd(2.40, 1, 5400));
    assert_usd(j.cost, 0.60 + 3.60);
    assert_int_equal(st_count_events(w, id, "price", -1), 1);
    store_attempt_clear(&a1);
    store_job_clear(&j);
    st_free(w);
}

/* The 2 h run ends while no controller runs; its price doubles after it
 * ended, before a controller opens again and sees the exit.  It is billed
 * its 2 h at $1.20, not the time until the new price was applied (the
 * reprice came before the exit in the step: the gap between the exit and
 * the reprice was billed at the old price). */
static void test_exit_seen_after_price_change(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct store_attempt a1;
    int64_t id;

    st_init(w, NULL);
    id = st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_to(w, ST_T0 + DELAY + 1800);
    st_kill(w);
    w->t = ST_T0 + DELAY + 3 * 3600; /* the world runs the job to its end */
    st_set_price(w, "gcp", "us-central1", "g2-standard-48", 4.00, 2.40);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    j = st_job(w, id);
    a1 = st_attempt(w, id, 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_dbl(a1.ended_at, ST_T0 + DELAY + 7200);
    assert_usd(a1.cost, st_usd(1.20, 1, 7200));
    assert_usd(j.cost, 2.40);
    store_attempt_clear(&a1);
    store_job_clear(&j);
    st_free(w);
}

/* ---- a failed commit ---- */

static int is_provisioning(struct st *w, void *ctx)
{
    return st_job_state(w, *(int64_t *)ctx) == JOB_PROVISIONING;
}

/* The ordinal of the commit that first stores job 1 PROVISIONING. */
static uint64_t g_launch_commit;

static void note_launch_commit(struct st *w, uint64_t k, void *ctx)
{
    int64_t id = 1;

    (void)ctx;
    if (g_launch_commit == 0 && is_provisioning(w, &id))
        g_launch_commit = k;
}

/* Issue 9, item 3: the commit of the step that places the job fails (disk
 * full for an instant); the store works again at once. */
static void sc_failed_commit(struct st *w)
{
    st_init(w, NULL);
    w->fault->fail_commit = g_launch_commit;
    st_submit(w, L4_SPOT_2H);
    st_start(w);
    st_run_all(w, ST_T0 + DAY);
}

static void test_failed_commit(void **state)
{
    char why[256];
    struct st *w = *state;
    struct store_job j;

    /* Find the commit that places the job, in a run without faults. */
    st_init(w, NULL);
    w->on_commit = note_launch_commit;
    st_submit(w, L4_SPOT_2H);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    st_free(w);
    assert_true(g_launch_commit > 0);

    if (!st_survives(sc_failed_commit, why, sizeof(why)))
        fail_msg("a failed commit: %s", why);
    sc_failed_commit(w);
    assert_int_equal(w->fault->failed, 1);
    assert_true(w->step_errors >= 1);
    j = st_job(w, 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(w, 1), 1);
    assert_usd(j.cost, st_usd(1.20, 1, 7200));
    assert_int_equal(st_terminal_events(w, 1), 1);
    assert_world_ok(w);
    store_job_clear(&j);
    st_free(w);
}

/* ---- secrets ---- */

/* The server's resolver, as a test: research's "hf" and nothing else. */
static int fake_secret(void *ctx, const char *team, const char *name, char **value,
                       struct err *e)
{
    (void)ctx;
    if (strcmp(team, "research") != 0 || strcmp(name, "hf") != 0)
        return err_set(e, ST_ENOTFOUND, "no secret '%s'", name);
    *value = xstrdup("hf-value");
    return 0;
}

#define SECRET_JOB(ref)                                                                  \
    "name: s\nresources:\n  accelerators: L4:4\nrun: x\nenvs:\n  A: '1'\n"              \
    "  HF_TOKEN: {secret: " ref "}\nstratus:\n  team: research\n  duration: 1h\n"

/* A secret reaches the driver at launch, marked secret; one its team lacks
 * (deleted after the submit) fails the job with an event that names the
 * variable and the secret; a world without a resolver launches it empty. */
static void test_secrets_at_launch(void **state)
{
    struct st *w = *state;
    struct store_job j;
    int64_t ok, gone;

    st_init(w, NULL);
    w->p.secret_value = fake_secret;
    ok = st_submit(w, SECRET_JOB("hf"));
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_non_null(strstr(w->envs, "A=1\n"));
    assert_non_null(strstr(w->envs, "HF_TOKEN=(secret)hf-value\n"));
    j = st_job(w, ok);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    store_job_clear(&j);
    gone = st_submit(w, SECRET_JOB("gone"));
    sched_poke(w->s);
    assert_true(st_run_all(w, ST_T0 + 2 * DAY));
    j = st_job(w, gone);
    assert_int_equal(j.state, JOB_FAILED);
    assert_non_null(strstr(j.reason, "HF_TOKEN: team 'research' has no secret 'gone'"));
    assert_null(strstr(j.reason, "hf-value"));
    store_job_clear(&j);
    st_free(w);
    /* the simulator's world: no resolver, an empty value */
    st_init(w, NULL);
    st_submit(w, SECRET_JOB("hf"));
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_non_null(strstr(w->envs, "HF_TOKEN=(secret)\n"));
    st_free(w);
}

/* One a3-highgpu-8g node on demand and one spot in gcp/us-central1 (the
 * simulator counts the two pools apart); europe-west4's on-demand node is
 * dearer.  A spot job and an on-demand job placed in one step both get
 * us-central1: the spot launch's reservation is of the spot pool, and
 * leaves the on-demand node free (it used to count against both). */
/* A step that stops machines places nothing, so that the next places on
 * the nodes they free; but one cancel a step, step after step, must not
 * hold placement off: every other step places, whatever it stops. */
static void test_cancel_storm_places(void **state)
{
    struct st *w = *state;
    int64_t ids[12], x;
    int i, steps;

    st_init(w, NULL);
    for (i = 0; i < 12; i++)
        ids[i] = st_submit(w, L4_SPOT_2H);
    st_start(w);
    assert_true(st_run_until_state(w, ids[11], JOB_RUNNING, ST_T0 + 3600));
    x = st_submit(w, H100_OD_1H);
    for (steps = 0; steps < 12 && st_job_state(w, x) == JOB_PENDING; steps++) {
        st_cancel(w, ids[steps]);
        st_step(w);
    }
    assert_true(steps <= 2); /* placed at the first step or the second */
    assert_int_equal(w->violations, 0);
}

static void test_reservations_per_pool(void **state)
{
    static const char *const spot = "name: s\nresources:\n  accelerators: H100:8\n"
                                    "  use_spot: true\nrun: train\nstratus:\n  duration: 1h\n";
    struct st *w = *state;
    struct store_attempt a1, s1;
    int64_t s, a;

    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 1, 1);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 1, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    s = st_submit(w, spot);
    a = st_submit(w, H100_OD_1H);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    s1 = st_attempt(w, s, 1);
    a1 = st_attempt(w, a, 1);
    assert_place(&s1, "gcp", "us-central1", PLAN_SPOT);
    assert_place(&a1, "gcp", "us-central1", PLAN_ONDEMAND);
    assert_dbl(a1.launched_at, ST_T0);
    assert_dbl(s1.launched_at, ST_T0);
    assert_world_ok(w);
    store_attempt_clear(&a1);
    store_attempt_clear(&s1);
    st_free(w);
}

/* Offers that share an instance type are pools apart: GCP's n1-highmem-16
 * with a T4 and with a V100, one node each.  A T4 job and a V100 job both
 * run at once.  Before, the controller asked the driver for free nodes by
 * instance type, and the sim driver answered with one of the two offers'
 * counts, so one job waited for capacity (or was refused at launch and its
 * place blocked) while its own pool stood idle. */
static void test_pools_by_offer(void **state)
{
    static const char *const t4 = "name: t4\nresources:\n  accelerators: T4:1\n"
                                  "  use_spot: false\nrun: x\nstratus:\n  duration: 1h\n";
    static const char *const v100 =
        "name: v\nresources:\n  accelerators: V100:1\n"
        "  use_spot: false\nrun: x\nstratus:\n  duration: 1h\n";
    struct st *w = *state;
    char *dir = tu_mkdtemp(), *fleet = xasprintf("%s/fleet.csv", dir);
    struct store_attempt a, b;
    int64_t ja, jb;
    int order;

    for (order = 0; order < 2; order++) { /* either offer first in the catalog */
        char *cat = xasprintf("%s/catalog%d", dir, order); /* a snapshot each */
        struct st_opts o = {cat, fleet, NULL, 0, 0};

        assert_int_equal(mkdir(cat, 0700), 0);
        tu_copy_dir(TEST_DATA "/sched/catalog", cat);
        tu_write(
            cat, "offers.csv",
            order == 0
                ? "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
                  "accelerator_memory_gib,vcpus,memory_gib,interconnect,"
                  "max_cluster_nodes,price_hour,spot_price_hour\n"
                  "gcp,us-central1,us-central1-a,n1-highmem-16,T4,1,16,16,104,none,,1.00,"
                  "\n"
                  "gcp,us-central1,us-central1-a,n1-highmem-16,V100,1,16,16,104,none,,3."
                  "00,\n"
                : "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
                  "accelerator_memory_gib,vcpus,memory_gib,interconnect,"
                  "max_cluster_nodes,price_hour,spot_price_hour\n"
                  "gcp,us-central1,us-central1-a,n1-highmem-16,V100,1,16,16,104,none,,3."
                  "00,\n"
                  "gcp,us-central1,us-central1-a,n1-highmem-16,T4,1,16,16,104,none,,1.00,"
                  "\n");
        tu_write(dir, "fleet.csv",
                 "location,instance_type,nodes,spot_nodes\ngcp/"
                 "us-central1,n1-highmem-16,1,0\n");
        st_init(w, &o);
        {
            const char *acc;
            int count;
            double part;

            /* one type, two accelerators, and no throughput table to tell the
             * slower: no shape to count it by */
            assert_int_equal(
                catalog_type_shape(w->cat, NULL, "n1-highmem-16", 0, &acc, &count, &part),
                0);
        }
        ja = st_submit(w, t4);
        jb = st_submit(w, v100);
        st_start(w);
        assert_true(st_run_all(w, ST_T0 + DAY));
        a = st_attempt(w, ja, 1);
        b = st_attempt(w, jb, 1);
        assert_string_equal(a.accelerator, "T4");
        assert_string_equal(b.accelerator, "V100");
        assert_dbl(a.launched_at, ST_T0);
        assert_dbl(b.launched_at, ST_T0);
        assert_int_equal(st_nattempts(w, ja), 1);
        assert_int_equal(st_nattempts(w, jb), 1);
        assert_world_ok(w);
        store_attempt_clear(&a);
        store_attempt_clear(&b);
        st_free(w);
        free(cat);
    }
    tu_rmdir(dir);
    free(fleet);
    free(dir);
}

/* A block is for its instance type's accelerator: GCP's n1 types carry a
 * T4 or a V100, and a V100 stockout says nothing of the T4s (it blocked
 * them for the cooldown).  A block without one (a whole region, a block
 * from before schema 16) covers every offer of its place. */
static void test_block_per_accelerator(void **state)
{
    struct offer t4 = {0}, v100 = {0}, cpu = {0};
    struct store_block b = {"gcp", "us-central1", "us-central1-a", "n1-highmem-16",
                            0,     "x",           "V100"};

    (void)state;
    t4.cloud = v100.cloud = "gcp";
    t4.region = v100.region = "us-central1";
    t4.zone = v100.zone = "us-central1-a";
    t4.instance_type = v100.instance_type = "n1-highmem-16";
    t4.accelerator = "T4";
    v100.accelerator = "V100";
    cpu = t4;
    cpu.accelerator = NULL;
    assert_true(sched_block_covers(&b, &v100));
    assert_false(sched_block_covers(&b, &t4));
    assert_false(sched_block_covers(&b, &cpu));
    /* a CPU-only offer's block covers it alone (helper-96: '' covered all) */
    b.accelerator = SCHED_BLOCK_CPU;
    assert_true(sched_block_covers(&b, &cpu));
    assert_false(sched_block_covers(&b, &t4));
    b.accelerator = "";
    assert_true(sched_block_covers(&b, &t4));
    b.accelerator = NULL;
    assert_true(sched_block_covers(&b, &t4));
}

/* Jobs that come to wait one after another are tried again together: 100
 * on-demand H100 jobs arrive 13 s apart (over 22 minutes) while one holds
 * the only node for 10 h.  Each tried again at its own arrival plus
 * wait_retry (60 s) made a step for every one of them
 * (a simulated study with thousands waiting ran for hours; here the hour
 * after the last arrives took 3,601 steps); on a grid of quarters of
 * wait_retry it takes 721.  All 101 still run, one after another. */
/* The policy's rules match on what the server filled in at submit, which
 * the spec's text does not say: the team of a user in one team, an unnamed
 * pipeline stage's name ("pl-1").  The controller read the text alone: a
 * team's rule keeping it on azure was passed over for the catch-all, and
 * the job ran on the cheaper gcp (and so did the stage); the launch check,
 * which had the team, judged it under the other rule.  A row named other
 * than its spec outside a pipeline (a service's replica, "<svc>/replica")
 * keeps its spec's name, which its rules name (helper-96: a first version
 * took the row's name, and replicas ran under the catch-all). */
static void test_rules_match_the_team_and_name_submitted(void **state)
{
    static const char pol[] = "version: 1\nrules:\n"
                              "  - name: research-azure\n    match: {team: research}\n"
                              "    allow: [azure]\n"
                              "  - name: stage-azure\n    match: {name: \"pl-*\"}\n"
                              "    allow: [azure]\n"
                              "  - name: h100-azure\n    match: {name: h100}\n"
                              "    allow: [azure]\n"
                              "  - name: anything\n    match: {}\n";
    static const char other[] =
        "name: other\nresources:\n  accelerators: H100:8\n"
        "  use_spot: false\nrun: train\nstratus:\n  duration: 1h\n";
    static const char pipe[] = "name: pl\n---\nresources: {accelerators: H100:8, "
                               "use_spot: false}\nrun: train\nstratus: {duration: 1h}\n";
    struct st *w = *state;
    int64_t team_job, stage_job[1] = {0}, replica, plain;
    struct store_attempt a;
    struct pipeline *p = NULL;
    struct err e;

    st_init(w, NULL);
    st_start(w);
    team_job = st_submit_as(w, other, "research", NULL, pol);
    err_clear(&e);
    assert_int_equal(pipeline_load_mem(&p, "flow.yaml", pipe, strlen(pipe), &e), 0);
    assert_string_equal(p->stages[0].spec->name, "pl-1");
    w->fault->paused = 1;
    assert_int_equal(
        sched_submit_group(w->store, "flow.yaml", p, pol, w->t, stage_job, &e), 0);
    w->fault->paused = 0;
    w->jobs[stage_job[0]].duration_s = 3600;
    pipeline_free(p);
    replica = st_submit_as(w, H100_OD_1H, NULL, "chat/replica", pol);
    plain = st_submit_as(w, other, NULL, NULL, pol);
    sched_poke(w->s);
    assert_true(st_run_all(w, w->t + 24 * 3600.0));
    a = st_attempt(w, team_job, 1);
    assert_string_equal(a.cloud, "azure");
    store_attempt_clear(&a);
    a = st_attempt(w, stage_job[0], 1);
    assert_string_equal(a.cloud, "azure");
    store_attempt_clear(&a);
    a = st_attempt(w, replica, 1);
    assert_string_equal(a.cloud, "azure");
    store_attempt_clear(&a);
    a = st_attempt(w, plain, 1);
    assert_string_equal(a.cloud, "gcp"); /* the cheapest, under the catch-all */
    store_attempt_clear(&a);
    assert_world_ok(w);
    st_free(w);
}

static void test_waiting_jobs_retried_together(void **state)
{
    struct st *w = *state;
    int64_t first, id = 0;
    uint64_t steps;
    int i;

    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 1, 0);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_start(w);
    first = st_submit(w, "name: long\nresources:\n  accelerators: H100:8\n"
                         "  use_spot: false\nrun: train\nstratus:\n  duration: 10h\n");
    assert_int_equal(st_run_until_state(w, first, JOB_RUNNING, w->t + 3600), 1);
    for (i = 0; i < 100; i++) {
        id = st_submit(w, H100_OD_1H);
        st_run_to(w, w->t + 13);
    }
    assert_int_equal(st_job_state(w, id), JOB_PENDING);
    steps = w->steps;
    st_run_to(w, w->t + 3600);
    assert_true(w->steps - steps < 1800); /* 3,601 before: one a second */
    assert_int_equal(st_job_state(w, id), JOB_PENDING);
    assert_true(st_run_all(w, w->t + 200 * 3600.0));
    assert_world_ok(w);
    st_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waiting_jobs_retried_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_secrets_at_launch, setup, teardown),
        cmocka_unit_test(test_block_per_accelerator),
        cmocka_unit_test_setup_teardown(test_rules_match_the_team_and_name_submitted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_eager_next_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_crash_at_recovering_failover, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_preempt_crash_at_recovering_eager, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_preempt_crash_at_recovering_sqlite, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_preempt_without_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stockout_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_killed_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_stop_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_refused_backs_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_crash_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_while_down_bills_what_ran, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_ended_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_displacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_waiter_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_price_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_seen_after_price_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_storm_places, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations_per_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pools_by_offer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_displacement_for_a_node_it_cannot_use,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
