/*
 * test_quota.c - teams in the controller, in virtual time (sched_quota.c):
 * a quota makes a job wait with a reason naming it and admits it when room
 * frees; a team in a cohort borrows the other's unused quota and the owner
 * takes it back (the borrowed job is displaced and recovers later); fair
 * share orders waiting jobs of equal priority by their teams' usage;
 * quotas of one cloud steer work to the others; a hard budget holds work.
 *
 * The world is the sched fixture: 4 nodes of 8 H100 in gcp/us-central1,
 * gcp/europe-west4 and azure/eastus each.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/org.h"
#include "schedtest.h"

#define HOUR 3600.0

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

/* An 8-H100 on-demand job of `team` that runs `hours`. */
static int64_t submit(struct st *w, const char *team, int hours, int priority)
{
    char spec[320];

    snprintf(spec, sizeof(spec),
             "name: %s-job\nresources:\n  accelerators: H100:8\n  use_spot: false\n"
             "run: train\nstratus:\n  team: %s\n  duration: %dh\n  priority: %d\n",
             team, team, hours, priority);
    return st_submit(w, spec);
}

static struct org *org_of(const char *json)
{
    struct org *g = NULL;
    struct err e;

    err_clear(&e);
    if (org_parse(json, strlen(json), "test", &g, &e) != 0)
        fail_msg("org: %s", e.msg);
    return g;
}

/* The clouds hold one 8-H100 node in all: a shortage to order. */
static void one_node_world(struct st *w)
{
    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 1, 0);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_start(w);
}

static struct org *start(struct st *w, const char *json)
{
    struct org *g = org_of(json);

    st_init(w, NULL);
    st_start(w);
    sched_set_org(w->s, g);
    return g;
}

static void assert_reason_has(struct st *w, int64_t id, const char *want)
{
    struct store_job j = st_job(w, id);

    if (j.reason == NULL || strstr(j.reason, want) == NULL)
        fail_msg("job %lld: reason '%s', expected '%s'", (long long)id,
                 j.reason ? j.reason : "(none)", want);
    store_job_clear(&j);
}

static void assert_reason_lacks(struct st *w, int64_t id, const char *what)
{
    struct store_job j = st_job(w, id);

    if (j.reason != NULL && strstr(j.reason, what) != NULL)
        fail_msg("job %lld: reason '%s' has '%s'", (long long)id, j.reason, what);
    store_job_clear(&j);
}

/* What sched_quota_check (a plan's question) says of one H100 node for
 * team: over the quota `want` names, or (want NULL) fits. */
static void quota_check_says(struct st *w, const char *team, const char *want)
{
    char why[256];
    size_t i;
    int over;

    for (i = 0; i < catalog_noffers(w->cat); i++)
        if (strcmp(catalog_offer(w->cat, i)->accelerator, "H100") == 0)
            break;
    assert_true(i < catalog_noffers(w->cat));
    over = sched_quota_check(w->s, team, catalog_offer(w->cat, i), 1, why, sizeof(why));
    if (want == NULL && over)
        fail_msg("team %s: over quota (%s), expected it to fit", team, why);
    if (want != NULL && (!over || strcmp(why, want) != 0))
        fail_msg("team %s: '%s', expected '%s'", team, over ? why : "(fits)", want);
}

/* A job larger than its team's quota (with all its cohort lends) waits,
 * and says it waits for the quota to be raised, not for the others. */
static void test_quota_never_enough(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":[{\"name\":\"a\",\"cohort\":\"lab\",\"quota\":"
                             "[{\"accelerator\":\"H100\",\"gpus\":8}]}]}");
    int64_t j = st_submit(w, "name: big\nnum_nodes: 2\nresources:\n  accelerators: H100:8\n"
                             "run: train\nstratus:\n  team: a\n  duration: 1h\n");

    st_run_to(w, ST_T0 + 600);
    assert_int_equal(st_job_state(w, j), JOB_PENDING);
    assert_reason_has(w, j, "waiting: team a uses 0/8 H100 (needs 16); cohort lab uses 0/8; "
                            "it needs more than the quota can ever give (8)");
    st_free(w);
    org_free(g);
}

/* A team at its quota waits, with a reason naming it; it is admitted as
 * soon as its own job ends (though the clouds had room all along). */
static void test_quota_waits_and_admits(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":[{\"name\":\"a\",\"quota\":"
                             "[{\"accelerator\":\"H100\",\"gpus\":8}]}]}");
    int64_t j1 = submit(w, "a", 1, 0), j2 = submit(w, "a", 1, 0);
    struct store_attempt a1, a2;

    assert_true(st_run_until_state(w, j1, JOB_RUNNING, ST_T0 + HOUR));
    st_run_to(w, w->t + 600);
    assert_int_equal(st_job_state(w, j2), JOB_PENDING);
    assert_reason_has(w, j2, "waiting: team a uses 8/8 H100 (needs 8)");
    assert_reason_lacks(w, j2, "ever"); /* it will fit */
    assert_true(st_run_all(w, ST_T0 + 5 * HOUR));
    a1 = st_attempt(w, j1, 1);
    a2 = st_attempt(w, j2, 1);
    assert_int_equal(st_nattempts(w, j2), 1);
    assert_true(a2.launched_at >= a1.ended_at); /* never both at once */
    assert_true(a2.launched_at - a1.ended_at < 120); /* admitted at once */
    store_attempt_clear(&a1);
    store_attempt_clear(&a2);
    assert_int_equal(w->violations, 0);
    st_free(w);
    org_free(g);
}

/* Teams a and b in cohort lab, 8 H100 each: a borrows b's unused 8; when b
 * asks for its own, a's borrowed job is displaced (and recovers after). */
static void test_borrow_and_reclaim(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":["
                             "{\"name\":\"a\",\"cohort\":\"lab\",\"quota\":"
                             "[{\"accelerator\":\"H100\",\"gpus\":8}]},"
                             "{\"name\":\"b\",\"cohort\":\"lab\",\"quota\":"
                             "[{\"accelerator\":\"H100\",\"gpus\":8}]}]}");
    int64_t a1 = submit(w, "a", 4, 0), a2 = submit(w, "a", 4, 0), b1;
    struct store_attempt x;

    assert_true(st_run_until_state(w, a1, JOB_RUNNING, ST_T0 + HOUR));
    assert_true(st_run_until_state(w, a2, JOB_RUNNING, ST_T0 + HOUR)); /* borrowed */
    st_run_to(w, ST_T0 + HOUR);
    b1 = submit(w, "b", 1, 0);
    assert_true(st_run_until_state(w, b1, JOB_RUNNING, ST_T0 + 2 * HOUR));
    /* a's newest job gave the quota back: displaced, waiting for quota */
    x = st_attempt(w, a2, 1);
    assert_int_equal(x.end_reason, ATT_END_DISPLACED);
    store_attempt_clear(&x);
    x = st_attempt(w, a1, 1);
    assert_int_equal(x.state, ATT_RUNNING); /* within a's own quota: kept */
    store_attempt_clear(&x);
    assert_reason_has(w, a2, "waiting: team a uses 8/8 H100 (needs 8); cohort lab uses 16/16");
    quota_check_says(w, "a", "team a uses 8/8 H100 (needs 8); cohort lab uses 16/16");
    quota_check_says(w, "b", "team b uses 8/8 H100 (needs 8); cohort lab uses 16/16");
    assert_true(st_run_all(w, ST_T0 + 12 * HOUR));
    assert_int_equal(st_job_state(w, a2), JOB_SUCCEEDED);
    /* reclaimed once: the borrower does not take the room back while b waits
     * for it (no relaunch-and-reclaim cycle) */
    assert_int_equal(st_nattempts(w, a2), 2);
    x = st_attempt(w, a2, 2); /* back when b's job ended and room freed */
    assert_true(x.launched_at >= ST_T0 + 2 * HOUR);
    store_attempt_clear(&x);
    assert_int_equal(w->violations, 0);
    st_free(w);
    org_free(g);
}

/* Without a cohort nothing is lent: b's unused quota is not a's. */
static void test_no_cohort_no_borrowing(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":["
                             "{\"name\":\"a\",\"quota\":[{\"accelerator\":\"*\",\"gpus\":8}]},"
                             "{\"name\":\"b\",\"quota\":[{\"accelerator\":\"*\",\"gpus\":8}]}]}");
    int64_t a1 = submit(w, "a", 1, 0), a2 = submit(w, "a", 1, 0);

    assert_true(st_run_until_state(w, a1, JOB_RUNNING, ST_T0 + HOUR));
    st_run_to(w, w->t + 600);
    assert_int_equal(st_job_state(w, a2), JOB_PENDING);
    assert_reason_has(w, a2, "waiting: team a uses 8/8 GPUs (needs 8)");
    quota_check_says(w, "a", "team a uses 8/8 GPUs (needs 8)");
    quota_check_says(w, "b", NULL); /* b's 8 are free, and not a's */
    quota_check_says(w, "nobody", NULL);
    st_run_to(w, w->t + 600); /* asking changed nothing */
    assert_int_equal(st_job_state(w, a2), JOB_PENDING);
    st_free(w);
    org_free(g);
}

/* A quota of one cloud sends the work to the others. */
static void test_quota_of_one_cloud(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":[{\"name\":\"a\",\"quota\":"
                             "[{\"accelerator\":\"H100\",\"cloud\":\"gcp\",\"gpus\":0}]}]}");
    int64_t j = submit(w, "a", 1, 0);
    struct store_attempt x;

    assert_true(st_run_until_state(w, j, JOB_RUNNING, ST_T0 + HOUR));
    x = st_attempt(w, j, 1);
    assert_string_equal(x.cloud, "azure"); /* gcp is cheaper, but not a's */
    store_attempt_clear(&x);
    st_free(w);
    org_free(g);
}

/* Team a queues a 1-hour job, then (a minute later) team b one; run all.
 * 1 when b's started first. */
static int b_goes_first(struct st *w)
{
    int64_t a1 = submit(w, "a", 1, 0), b1;
    struct store_attempt xa, xb;
    int first;

    st_run_to(w, w->t + 60);
    b1 = submit(w, "b", 1, 0);
    assert_true(st_run_all(w, ST_T0 + 12 * HOUR));
    xa = st_attempt(w, a1, 1);
    xb = st_attempt(w, b1, 1);
    first = xb.launched_at < xa.launched_at;
    assert_true(xa.launched_at != xb.launched_at);
    store_attempt_clear(&xa);
    store_attempt_clear(&xb);
    return first;
}

/* Fair share: the clouds hold one 8-H100 job at a time.  Team a has run for
 * hours; then a and b each queue a job of the same priority, a's first.
 * b's goes first: its usage is lower. */
static void test_fair_share_orders_waiting_jobs(void **state)
{
    struct st *w = *state;
    struct org *g = org_of("{\"teams\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
    int64_t a0;

    one_node_world(w);
    sched_set_org(w->s, g);
    a0 = submit(w, "a", 3, 0);
    assert_true(st_run_until_state(w, a0, JOB_RUNNING, ST_T0 + HOUR));
    st_run_to(w, ST_T0 + 2 * HOUR);
    assert_true(b_goes_first(w));
    st_free(w);
    org_free(g);
}

/* The same after a controller restart between the usage and the queue: the
 * new controller reads a's usage from the store's attempts. */
static void test_fair_share_survives_restart(void **state)
{
    struct st *w = *state;
    struct org *g = org_of("{\"teams\":[{\"name\":\"a\"},{\"name\":\"b\"},"
                           "{\"name\":\"c\"}]}");
    int64_t c0;

    one_node_world(w);
    sched_set_org(w->s, g);
    submit(w, "a", 3, 0); /* a's usage: 3 h of 8 GPUs, all before the restart */
    assert_true(st_run_all(w, ST_T0 + 4 * HOUR));
    st_restart(w);
    sched_set_org(w->s, g);
    c0 = submit(w, "c", 1, 0); /* holds the one node while a and b queue */
    assert_true(st_run_until_state(w, c0, JOB_RUNNING, w->t + HOUR));
    assert_true(b_goes_first(w));
    st_free(w);
    org_free(g);
}

/* Without teams the same queue is first come, first served. */
static void test_no_teams_fifo(void **state)
{
    struct st *w = *state;
    int64_t a0;

    one_node_world(w);
    a0 = submit(w, "a", 3, 0);
    assert_true(st_run_until_state(w, a0, JOB_RUNNING, ST_T0 + HOUR));
    st_run_to(w, ST_T0 + 2 * HOUR);
    assert_false(b_goes_first(w));
    st_free(w);
}

/* A hard budget: past it, new work of the team waits, naming the budget. */
static void test_hard_budget_holds(void **state)
{
    struct st *w = *state;
    struct org *g = start(w, "{\"teams\":[{\"name\":\"a\",\"budget\":{\"usd\":50,"
                             "\"limit\":\"hard\"}}]}");
    int64_t j1 = submit(w, "a", 1, 0), j2;

    assert_true(st_run_all(w, ST_T0 + 3 * HOUR)); /* 1 node at $80/h for 1 h: $80 > $50 */
    j2 = submit(w, "a", 1, 0);
    st_run_to(w, w->t + 600);
    assert_int_equal(st_job_state(w, j1), JOB_SUCCEEDED);
    assert_int_equal(st_job_state(w, j2), JOB_PENDING);
    assert_reason_has(w, j2, "waiting: team a spent $");
    assert_reason_has(w, j2, "(hard limit)");
    st_free(w);
    org_free(g);
}

/* Every team's month spend is counted, with a budget or without (`team
 * show`), by the controller that ran the work and by one that opens later. */
static void test_spend_without_budget(void **state)
{
    struct st *w = *state;
    struct org *g = org_of("{\"teams\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
    long used[4];
    double spend = -1, factor = 0;

    one_node_world(w);
    sched_set_org(w->s, g);
    submit(w, "b", 1, 0); /* 1 node at $80/h for 1 h */
    assert_true(st_run_all(w, ST_T0 + 3 * HOUR));
    assert_int_equal(sched_team_usage(w->s, "b", used, 4, &spend, &factor), 0);
    assert_true(spend >= 80 - 1e-6 && spend <= 81);
    st_restart(w);
    sched_set_org(w->s, g);
    st_run_to(w, w->t + 60);
    assert_int_equal(sched_team_usage(w->s, "b", used, 4, &spend, &factor), 0);
    assert_true(spend >= 80 - 1e-6 && spend <= 81);
    assert_int_equal(sched_team_usage(w->s, "a", used, 4, &spend, &factor), 0);
    assert_true(spend == 0);
    st_free(w);
    org_free(g);
}

/* A new document (`team set-quota`) is reflected at once, before the clock
 * moves: the running job counts against the new quota, and the teams'
 * fair-share factors are figured (before, both read 0 until a step at a
 * later time). */
static void test_usage_after_new_org(void **state)
{
    struct st *w = *state;
    struct org *g1 = org_of("{\"teams\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
    struct org *g2 = org_of("{\"teams\":[{\"name\":\"a\",\"quota\":[{\"accelerator\":"
                            "\"H100\",\"gpus\":16}]},{\"name\":\"b\"}]}");
    long used[4] = {-1, -1, -1, -1};
    double spend = -1, factor = 0;
    int64_t j;

    one_node_world(w);
    sched_set_org(w->s, g1);
    j = submit(w, "a", 4, 0);
    st_run_to(w, ST_T0 + HOUR);
    assert_int_equal(st_job_state(w, j), JOB_RUNNING);
    /* the figures of now, as a step leaves them */
    assert_int_equal(sched_team_usage(w->s, "a", used, 4, &spend, &factor), 0);
    sched_set_org(w->s, g2);
    assert_int_equal(sched_team_usage(w->s, "a", used, 4, &spend, &factor), 0);
    assert_int_equal(used[0], 8);
    assert_true(factor > 0 && factor <= 1); /* a factor, not the 0 of no figures */
    assert_int_equal(sched_team_usage(w->s, "b", used, 4, &spend, &factor), 0);
    assert_true(fabs(factor - 1.0) < 1e-9); /* b has used nothing */
    st_free(w);
    org_free(g1);
    org_free(g2);
}

/* The document's errors name the place. */
static void test_org_errors(void **state)
{
    static const struct {
        const char *doc, *want;
    } bad[] = {
        {"{\"teams\":[{\"name\":\"a b\"}]}", "teams[0].name"},
        {"{\"teams\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "a second team of this name"},
        {"{\"teams\":[{\"name\":\"a\",\"quota\":[{\"accelerator\":\"H100\",\"gpus\":-1}]}]}",
         "teams[0].quota[0].gpus"},
        {"{\"teams\":[{\"name\":\"a\",\"members\":{\"x\":\"boss\"}}]}", "teams[0].members.x"},
        {"{\"teams\":[{\"name\":\"a\",\"budget\":{\"usd\":5,\"limit\":\"firm\"}}]}",
         "teams[0].budget.limit"},
        {"{\"teams\":[{\"name\":\"a\",\"wieght\":2}]}", "unknown key 'wieght'"},
        {"{\"teams\":[{\"name\":\"a\",\"weight\":0}]}", "teams[0].weight"},
        {"[1]", "must be an object"},
        {"{\"teams\":", "test:1:"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct org *g = NULL;
        struct err e;

        err_clear(&e);
        assert_int_not_equal(org_parse(bad[i].doc, strlen(bad[i].doc), "test", &g, &e), 0);
        assert_null(g);
        if (strstr(e.msg, bad[i].want) == NULL)
            fail_msg("'%s': '%s', expected '%s'", bad[i].doc, e.msg, bad[i].want);
    }
}

/* org_to_json and org_from_json agree. */
static void test_org_round_trip(void **state)
{
    static const char doc[] =
        "{\"fair_share\":{\"half_life_h\":24},\"teams\":[{\"name\":\"a\",\"cohort\":\"c\","
        "\"weight\":2,\"quota\":[{\"accelerator\":\"H100\",\"gpus\":8,\"cloud\":\"gcp\"}],"
        "\"budget\":{\"usd\":50,\"limit\":\"soft\"},\"members\":{\"x\":\"admin\"}}]}";
    struct org *g = org_of(doc), *h = NULL;
    json_t *j = org_to_json(g), *k;
    struct err e;

    (void)state;
    assert_int_equal(org_from_json(j, &h, &e), 0);
    k = org_to_json(h);
    assert_true(json_equal(j, k));
    assert_int_equal(org_role(h, "a", "x"), ORG_ADMIN);
    assert_int_equal(org_role(h, "a", "y"), ORG_NONE);
    assert_int_equal(h->teams[0].budget_hard, 0);
    assert_true(h->half_life_s == 24 * 3600.0);
    json_decref(j);
    json_decref(k);
    org_free(g);
    org_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quota_waits_and_admits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_borrow_and_reclaim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cohort_no_borrowing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_of_one_cloud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_share_orders_waiting_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_share_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_teams_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hard_budget_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spend_without_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_never_enough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_after_new_org, setup, teardown),
        cmocka_unit_test(test_org_errors),
        cmocka_unit_test(test_org_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
