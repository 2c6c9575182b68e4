/*
 * test_pipeline_sched.c - pipelines and job groups in the controller
 * (src/sched/sched_group.c), in virtual time on the sched fixture
 * (schedtest.h): a stage never starts before the one before it succeeded;
 * a failed or cancelled stage ends the rest with a reason naming it; a
 * controller killed at the commit that ends a stage continues the chain;
 * a job group's tasks start together and its auxiliary tasks stop when its
 * primary tasks have ended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schedtest.h"
#include "spec/pipeline.h"
#include "testutil.h"

#define DAY 86400.0

/* prep (L4, 1 h) -> train (H100, 2 h) -> eval (L4, 30 min); prep may be
 * pinned to gcp/us-central1 so that a test can make its launches fail. */
static const char PIPE[] = "name: flow\n"
                           "---\n"
                           "name: prep\n"
                           "resources: {accelerators: L4:4, infra: gcp/us-central1}\n"
                           "stratus: {duration: 1h}\n"
                           "run: prep\n"
                           "---\n"
                           "name: train\n"
                           "resources: {accelerators: H100:8}\n"
                           "stratus: {kind: train, duration: 2h}\n"
                           "run: train\n"
                           "---\n"
                           "name: eval\n"
                           "resources: {accelerators: L4:4}\n"
                           "stratus: {duration: 30m}\n"
                           "run: eval\n";

/* A job group: trainer (primary, 2 h) and a replay server (10 h). */
static const char GROUP[] = "name: rl\n"
                            "execution: parallel\n"
                            "primary_tasks: [trainer]\n"
                            "---\n"
                            "name: trainer\n"
                            "resources: {accelerators: H100:8, infra: azure/eastus}\n"
                            "stratus: {duration: 2h}\n"
                            "run: train\n"
                            "---\n"
                            "name: replay\n"
                            "resources: {accelerators: L4:4, infra: gcp/us-central1}\n"
                            "stratus: {duration: 10h}\n"
                            "run: serve\n";

/* Submit every stage of yaml now, as `stratus launch` does; ids[k] gets
 * stage k's job; returns the number of stages. */
static size_t submit_group(struct st *w, const char *yaml, int64_t *ids)
{
    struct pipeline *p = NULL;
    struct err e;
    size_t k, n;
    int rc;

    err_clear(&e);
    if (pipeline_load_mem(&p, "flow.yaml", yaml, strlen(yaml), &e) != 0)
        st_die("pipeline", e.msg);
    w->fault->paused = 1;
    rc = sched_submit_group(w->store, "flow.yaml", p, NULL, w->t, ids, &e);
    w->fault->paused = 0;
    if (rc != 0)
        st_die("sched_submit_group", e.msg);
    for (k = 0; k < p->n; k++)
        w->jobs[ids[k]].duration_s = p->stages[k].spec->duration_s;
    n = p->n;
    pipeline_free(p);
    if (w->s)
        sched_poke(w->s);
    return n;
}

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

static void assert_reason(struct st *w, int64_t id, int state, const char *prefix)
{
    struct store_job j = st_job(w, id);

    if (j.state != state || j.reason == NULL || strncmp(j.reason, prefix, strlen(prefix)) != 0)
        fail_msg("job %lld: %s '%s', expected %s '%s...'", (long long)id,
                 job_state_name(j.state), j.reason ? j.reason : "", job_state_name(state),
                 prefix);
    store_job_clear(&j);
}

/* Every stage runs, each launched only after the one before it ended. */
static void check_chain_ran(struct st *w, const int64_t *ids, size_t n)
{
    size_t k;

    for (k = 0; k < n; k++) {
        struct store_job j = st_job(w, ids[k]);

        assert_int_equal(j.state, JOB_SUCCEEDED);
        assert_int_equal(st_nattempts(w, ids[k]), 1);
        assert_true(j.cost > 0);
        assert_int_equal(j.group_id, ids[0]);
        assert_int_equal(j.stage, (int)k + 1);
        if (k > 0) {
            struct store_job prev = st_job(w, ids[k - 1]);
            struct store_attempt a = st_attempt(w, ids[k], 1);

            assert_true(a.launched_at >= prev.ended_at);
            assert_true(st_att_at(w, a.id)->launched_at >= prev.ended_at);
            store_attempt_clear(&a);
            store_job_clear(&prev);
        }
        store_job_clear(&j);
    }
    assert_int_equal(w->violations, 0);
}

/* ---- pipelines ---- */

static void test_stages_in_order(void **state)
{
    struct st *w = *state;
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    st_start(w);
    assert_true(st_run_until_state(w, ids[0], JOB_RUNNING, ST_T0 + DAY));
    /* stage 1 runs: the others wait, never placed */
    assert_int_equal(st_nattempts(w, ids[1]), 0);
    assert_int_equal(st_nattempts(w, ids[2]), 0);
    assert_reason(w, ids[1], JOB_PENDING, "waiting for stage 1 'prep'");
    st_run_to(w, ST_T0 + 3000); /* most of prep's hour */
    assert_int_equal(st_nattempts(w, ids[1]), 0);
    assert_true(st_run_all(w, ST_T0 + DAY));
    check_chain_ran(w, ids, 3);
}

static void test_failed_stage_fails_the_rest(void **state)
{
    struct st *w = *state;
    int64_t ids[3];

    st_init(w, NULL);
    /* a bad request: the driver refuses prep, which fails (no retry) */
    st_fail_launches(w, "gcp/us-central1", ST_EINVAL, ST_T0 + DAY);
    submit_group(w, PIPE, ids);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_reason(w, ids[0], JOB_FAILED, "launch refused");
    assert_reason(w, ids[1], JOB_FAILED, "stage 1 'prep' failed: launch refused");
    assert_reason(w, ids[2], JOB_FAILED, "stage 1 'prep' failed: launch refused");
    assert_int_equal(st_nattempts(w, ids[1]), 0);
    assert_int_equal(st_nattempts(w, ids[2]), 0);
    assert_int_equal(st_terminal_events(w, ids[2]), 1);
}

static void test_cancelled_stage_cancels_the_rest(void **state)
{
    struct st *w = *state;
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    st_start(w);
    assert_true(st_run_until_state(w, ids[0], JOB_RUNNING, ST_T0 + DAY));
    st_cancel(w, ids[0]);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_reason(w, ids[0], JOB_CANCELLED, "cancelled by the user");
    assert_reason(w, ids[1], JOB_CANCELLED, "stage 1 'prep' was cancelled");
    assert_reason(w, ids[2], JOB_CANCELLED, "stage 1 'prep' was cancelled");
    assert_int_equal(st_nattempts(w, ids[1]), 0);
}

/* `stratus cancel GROUP` once the first stage has succeeded: the running
 * stage is stopped (and billed), the last never starts. */
static void test_cancel_group_after_first_stage(void **state)
{
    struct st *w = *state;
    struct store_attempt a;
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    st_start(w);
    assert_true(st_run_until_state(w, ids[1], JOB_RUNNING, ST_T0 + DAY));
    st_run_to(w, w->t + 1800);
    st_cancel(w, ids[0]);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_int_equal(st_job_state(w, ids[0]), JOB_SUCCEEDED);
    assert_reason(w, ids[1], JOB_CANCELLED, "cancelled by the user");
    assert_reason(w, ids[2], JOB_CANCELLED, "stage 2 'train' was cancelled");
    a = st_attempt(w, ids[1], 1);
    assert_int_equal(a.end_reason, ATT_END_CANCELLED);
    assert_true(a.cost > 0);
    assert_int_equal(st_att_at(w, a.id)->live, 0);
    store_attempt_clear(&a);
    assert_int_equal(st_nattempts(w, ids[2]), 0);
}

static int first_succeeded(struct st *w, void *ctx)
{
    return st_job_state(w, *(const int64_t *)ctx) == JOB_SUCCEEDED;
}

/* The controller dies at the commit that ends stage 1 (before it is stored,
 * then just after): the chain continues, stage 2 launched once. */
static void run_killed_at_stage_end(struct st *w, int after)
{
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    st_kill_when(w, first_succeeded, &ids[0], after);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_true(w->steps > 0);
    check_chain_ran(w, ids, 3);
}

static void test_restart_before_stage_end(void **state)
{
    run_killed_at_stage_end(*state, 0);
}

static void test_restart_after_stage_end(void **state)
{
    run_killed_at_stage_end(*state, 1);
}

/* A controller restarted while stage 1 runs keeps stage 2 held. */
static void test_restart_keeps_later_stages_held(void **state)
{
    struct st *w = *state;
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    st_start(w);
    assert_true(st_run_until_state(w, ids[0], JOB_RUNNING, ST_T0 + DAY));
    st_kill(w);
    st_run_to(w, w->t + 600);
    assert_int_equal(st_nattempts(w, ids[1]), 0);
    assert_true(st_run_all(w, ST_T0 + DAY));
    check_chain_ran(w, ids, 3);
}

/* A stage whose text no longer loads (written by another version, edited in
 * the database) fails when the controller opens; the stages after it fail
 * with it, though it was never in the controller's memory. */
static void test_unloadable_stage_fails_the_rest(void **state)
{
    struct st *w = *state;
    struct store_job j;
    struct err e;
    int64_t ids[3];

    st_init(w, NULL);
    submit_group(w, PIPE, ids);
    j = st_job(w, ids[0]);
    free(j.spec_text);
    j.spec_text = xstrdup("run: [unclosed\n");
    err_clear(&e);
    w->fault->paused = 1;
    assert_int_equal(store_job_update(w->store, &j, &e), 0);
    w->fault->paused = 0;
    store_job_clear(&j);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_reason(w, ids[0], JOB_FAILED, "cannot load the job");
    assert_reason(w, ids[1], JOB_FAILED, "stage 1 'prep' failed: cannot load the job");
    assert_reason(w, ids[2], JOB_FAILED, "stage 1 'prep' failed: cannot load the job");
    assert_int_equal(st_nattempts(w, ids[1]), 0);
}

/* ---- job groups ---- */

static void test_group_primary_ends_auxiliary(void **state)
{
    struct st *w = *state;
    struct store_attempt t, r;
    struct store_job tj;
    int64_t ids[2];

    st_init(w, NULL);
    submit_group(w, GROUP, ids);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    t = st_attempt(w, ids[0], 1);
    r = st_attempt(w, ids[1], 1);
    tj = st_job(w, ids[0]);
    assert_true(t.launched_at == r.launched_at); /* launched together */
    assert_int_equal(tj.state, JOB_SUCCEEDED);
    assert_reason(w, ids[1], JOB_CANCELLED, "the primary tasks of job group 'rl' have ended");
    assert_true(r.ended_at <= tj.ended_at);          /* stopped with it, not 10 h later */
    assert_true(r.ended_at < ST_T0 + 3 * 3600);
    assert_true(r.cost > 0);
    assert_int_equal(st_att_at(w, r.id)->live, 0);
    assert_int_equal(w->violations, 0);
    store_attempt_clear(&t);
    store_attempt_clear(&r);
    store_job_clear(&tj);
}

static void test_group_failed_task_stops_the_others(void **state)
{
    struct st *w = *state;
    int64_t ids[2];

    st_init(w, NULL);
    st_fail_launches(w, "gcp/us-central1", ST_EINVAL, ST_T0 + DAY); /* replay's */
    submit_group(w, GROUP, ids);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + DAY));
    assert_reason(w, ids[1], JOB_FAILED, "launch refused");
    assert_reason(w, ids[0], JOB_CANCELLED, "task 2 'replay' failed: launch refused");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_stages_in_order),
        T(test_failed_stage_fails_the_rest),
        T(test_cancelled_stage_cancels_the_rest),
        T(test_cancel_group_after_first_stage),
        T(test_restart_before_stage_end),
        T(test_restart_after_stage_end),
        T(test_restart_keeps_later_stages_held),
        T(test_unloadable_stage_fails_the_rest),
        T(test_group_primary_ends_auxiliary),
        T(test_group_failed_task_stops_the_others),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
