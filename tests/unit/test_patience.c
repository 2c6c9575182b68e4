/*
 * test_patience.c - a policy rule's patience (sched_place.c, "patience"):
 * the real controller in virtual time on the sched fixture, where 4 x L4
 * spot costs $1.20/h in gcp/us-central1 and $1.60/h in gcp/europe-west4
 * (25% more).  The cheap place holds one node; job A holds it; job B, of
 * the same shape, finds only the dear place free.
 *
 *  - With `patience: 1x` B waits for the cheap place while A runs and takes
 *    it when A ends; the wait's reason names the place and the rule.
 *  - If A runs longer than B's patience (one run time of B), B gives up at
 *    the end of it and takes the dear place.
 *  - Without patience, with a `cheaper` above 25%, or when the cheap place
 *    is full with nothing of the lab's own in it (nothing will free it that
 *    the controller knows of), B takes the dear place at once.
 *  - A job with a deadline follows the deadline rule, not patience: a
 *    deadline that leaves no room has it on demand at once (the Safety
 *    Net), a distant one on the first free spot (Uniform Progress: an idle
 *    job is behind its line).
 *  - A job the Safety Net has moved to on demand is placed before older jobs
 *    of its priority, so jobs that waited do not push it past its deadline.
 *  - A job never waits for a place in one of its rule's overflow clouds while
 *    an allowed one is free: overflow is for when the allowed clouds are full.
 *  - A parked job that gave up waiting does not hold back those parked after
 *    it: a node that frees wakes the next live one that fits.
 *  - A job waits for every place worth waiting for, not only the cheapest,
 *    and how nodes that free wake the jobs waiting for them: in
 *    test_patience_wake.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "schedtest.h"

#define HOUR 3600.0

static const char *const PATIENT = "version: 1\n"
                                   "rules:\n"
                                   "  - name: flexible\n"
                                   "    spot: allow\n"
                                   "    patience: 1x\n";

static const char *const PICKY = "version: 1\n"
                                 "rules:\n"
                                 "  - name: picky\n"
                                 "    spot: allow\n"
                                 "    patience: {late: 1x, cheaper: 30%}\n";

static const char *const NONE = "version: 1\n"
                                "rules:\n"
                                "  - name: hasty\n"
                                "    spot: allow\n";

/* A 4 x L4 job of `hours` (spot or on demand, as the policy allows), with a deadline
 * `dl_hours` after now (0 = none). */
static int64_t submit(struct st *w, const char *name, double hours, double dl_hours,
                      const char *policy)
{
    char spec[400], dl[64] = "";

    if (dl_hours > 0)
        snprintf(dl, sizeof(dl), "  deadline: %.0fs\n", dl_hours * HOUR);
    snprintf(spec, sizeof(spec),
             "name: %s\nresources:\n  accelerators: L4:4\n"
             "run: train\nstratus:\n  kind: batch\n  duration: %.0fs\n%s",
             name, hours * HOUR, dl);
    return st_submit_policy(w, spec, policy);
}

/* The world: the cheap place holds `cheap` spot nodes, the dear one 4, and
 * 4 on demand ($4.40/h). */
static void world(struct st *w, long cheap)
{
    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "g2-standard-48", 0, cheap);
    st_set_capacity(w, "gcp", "europe-west4", "g2-standard-48", 4, 4);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_start(w);
}

/* Where job's only attempt ran, and when it started running. */
static void ran(struct st *w, int64_t job, const char *region, double *running_at)
{
    struct store_attempt a;

    assert_int_equal(st_nattempts(w, job), 1);
    a = st_attempt(w, job, 1);
    assert_string_equal(a.region, region);
    *running_at = a.running_at;
    store_attempt_clear(&a);
}

static int reason_has(struct st *w, int64_t job, const char *text)
{
    struct store_job j = st_job(w, job);
    int yes = j.reason != NULL && strstr(j.reason, text) != NULL;

    store_job_clear(&j);
    return yes;
}

/* A holds the cheap place for `a_hours`; B (2 h) comes a minute later under
 * `policy`; both run to the end.  B's region and its start after its
 * submission, in hours. */
static double scenario(long cheap, double a_hours, const char *policy, double b_dl_hours,
                       const char **region, int *waited_for_cheap)
{
    static char where[64];
    struct st w;
    struct store_attempt b1;
    int64_t a = 0, b;
    double t_b, at;

    world(&w, cheap);
    if (cheap > 0) {
        a = submit(&w, "a", a_hours, 0, NONE);
        assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    }
    st_run_to(&w, w.t + 60);
    t_b = w.t;
    b = submit(&w, "b", 2, b_dl_hours, policy);
    st_run_to(&w, w.t + 120);
    *waited_for_cheap =
        st_job_state(&w, b) == JOB_PENDING &&
        reason_has(&w, b, "waiting for gcp/us-central1 g2-standard-48 spot");
    if (*waited_for_cheap)
        assert_true(reason_has(&w, b, "policy rule 'flexible': patience 1x"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_job_state(&w, b), JOB_SUCCEEDED);
    if (a)
        assert_int_equal(st_job_state(&w, a), JOB_SUCCEEDED);
    b1 = st_attempt(&w, b, 1);
    snprintf(where, sizeof(where), "%s", b1.region);
    store_attempt_clear(&b1);
    ran(&w, b, where, &at);
    *region = where;
    st_free(&w);
    return (at - t_b) / HOUR;
}

static void test_waits_for_the_cheaper_place(void **state)
{
    const char *region;
    int waited;
    double start;

    (void)state;
    start = scenario(1, 1, PATIENT, 0, &region, &waited);
    assert_true(waited);
    assert_string_equal(region, "us-central1");
    /* A ran 1 h from a minute before B: B starts once A's node is gone and
     * its own launch (60 s) is done, not before */
    assert_true(start > 1 - 1.0 / 60 && start < 1.2);
}

static void test_gives_up_after_its_patience(void **state)
{
    const char *region;
    int waited;
    double start;

    (void)state;
    start = scenario(1, 5, PATIENT, 0, &region, &waited);
    assert_true(waited);
    assert_string_equal(region, "europe-west4");
    /* one run time (2 h) late at most, then the launch */
    assert_true(start >= 2 && start < 2.1);
}

static void test_no_wait_without_patience_or_margin(void **state)
{
    const char *region;
    int waited;
    double start;

    (void)state;
    start = scenario(1, 1, NONE, 0, &region, &waited);
    assert_false(waited);
    assert_string_equal(region, "europe-west4");
    assert_true(start < 0.1);
    start = scenario(1, 1, PICKY, 0, &region, &waited); /* 25% < 30% */
    assert_false(waited);
    assert_string_equal(region, "europe-west4");
    assert_true(start < 0.1);
}

static void test_no_wait_for_a_place_nothing_frees(void **state)
{
    const char *region;
    int waited;
    double start;

    (void)state;
    start = scenario(0, 0, PATIENT, 0, &region, &waited);
    assert_false(waited);
    assert_string_equal(region, "europe-west4");
    assert_true(start < 0.1);
}

static void test_deadline_jobs_follow_the_deadline_rule(void **state)
{
    const char *region;
    int waited;
    double start;

    (void)state;
    /* 2 h of work due in 2.2 h: behind the line from the start */
    start = scenario(1, 1, PATIENT, 2.2, &region, &waited);
    assert_false(waited);
    assert_string_equal(region, "europe-west4");
    assert_true(start < 0.1);
    /* due in 20 h: the first free spot */
    start = scenario(1, 1, PATIENT, 20, &region, &waited);
    assert_false(waited);
    assert_string_equal(region, "europe-west4");
    assert_true(start < 0.1);
}

/* One on-demand node in all: a job the Safety Net has moved to on-demand gets
 * it before an older job of the same priority without a deadline (which,
 * after its patience, may take any place). */
static void test_safety_net_goes_first(void **state)
{
    struct st w;
    int64_t x, y, z;
    struct store_attempt ay, az;
    struct store_job jz;

    (void)state;
    st_init(&w, NULL);
    st_set_capacity(&w, "gcp", "us-central1", "g2-standard-48", 0, 0);
    st_set_capacity(&w, "gcp", "europe-west4", "g2-standard-48", 1, 0);
    st_set_capacity(&w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_start(&w);
    x = submit(&w, "x", 1, 0, NONE);
    assert_int_equal(st_run_until_state(&w, x, JOB_RUNNING, w.t + HOUR), 1);
    y = submit(&w, "y", 2, 0, NONE);
    st_run_to(&w, w.t + 60);
    z = submit(&w, "z", 2, 2.5, NONE); /* 2 h of work due in 2.5 h */
    st_run_to(&w, w.t + 120);
    jz = st_job(&w, z);
    assert_true(jz.on_demand_only); /* latched by the Safety Net */
    store_job_clear(&jz);
    assert_int_equal(st_job_state(&w, y), JOB_PENDING);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    ay = st_attempt(&w, y, 1);
    az = st_attempt(&w, z, 1);
    assert_true(az.launched_at < ay.launched_at);
    assert_true(az.launched_at < ST_T0 + 1.2 * HOUR); /* when x's node freed */
    store_attempt_clear(&ay);
    store_attempt_clear(&az);
    st_free(&w);
}

/* 4 x A10 spot: $3.60/h in oci/us-ashburn-1 (one node, held by job a) and
 * $4.00/h in azure/westeurope (10% more).  A rule that waits for 5% but
 * keeps the job on Azure, with OCI as overflow, launches it on Azure at
 * once; the same rule with OCI allowed waits for OCI. */
static void test_no_wait_for_an_overflow_cloud(void **state)
{
    static const char *const rules[2] = {
        "version: 1\nrules:\n  - name: azure-first\n    allow: [azure]\n"
        "    overflow: [oci]\n    spot: allow\n    patience: {late: 1x, cheaper: 5%}\n",
        "version: 1\nrules:\n  - name: either\n    allow: [azure, oci]\n"
        "    spot: allow\n    patience: {late: 1x, cheaper: 5%}\n"};
#define A10_JOB(name)                                                                      \
    "name: " name "\nresources:\n  accelerators: A10:4\n"                                   \
    "run: train\nstratus:\n  kind: batch\n  duration: 7200s\n"

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct st w;
        struct store_attempt b1;
        int64_t a, b;

        st_init(&w, NULL);
        st_set_capacity(&w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 0, 1);
        st_set_capacity(&w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 0, 4);
        st_start(&w);
        a = st_submit_policy(&w, A10_JOB("a"), NONE);
        assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
        b = st_submit_policy(&w, A10_JOB("b"), rules[i]);
        assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
        assert_int_equal(st_job_state(&w, b), JOB_SUCCEEDED);
        assert_int_equal(st_nattempts(&w, b), 1);
        b1 = st_attempt(&w, b, 1);
        assert_string_equal(b1.cloud, i == 0 ? "azure" : "oci");
        assert_true(i == 0 ? b1.launched_at < ST_T0 + 0.1 * HOUR
                           : b1.launched_at > ST_T0 + 1.9 * HOUR);
        store_attempt_clear(&b1);
        st_free(&w);
    }
#undef A10_JOB
}

/* The cheap place holds two nodes, both held (by a1 until 1 h, a2 until
 * 3 h).  m, a 2-node job of 30 minutes, parks for it, then s, a 1-node job
 * of 4 h (so its patience outlasts both).  m's patience runs out first and
 * it runs at the dear place.  When a1's node frees at 1 h, s takes it: m's
 * stale entry ahead of it, which asked for two nodes, is dropped rather
 * than waited on until a2 ends. */
static void test_stale_waiter_holds_no_one_back(void **state)
{
    struct st w;
    struct store_attempt sa;
    int64_t a1, a2, m, s;
    char spec[300];

    (void)state;
    world(&w, 2);
    a1 = submit(&w, "a1", 1, 0, NONE);
    a2 = submit(&w, "a2", 3, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    snprintf(spec, sizeof(spec),
             "name: m\nnum_nodes: 2\nresources:\n  accelerators: L4:4\n"
             "run: train\nstratus:\n  kind: batch\n  duration: 1800s\n");
    m = st_submit_policy(&w, spec, PATIENT);
    st_run_to(&w, w.t + 60);
    s = submit(&w, "s", 4, 0, PATIENT);
    st_run_to(&w, w.t + 60);
    assert_true(reason_has(&w, m, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(&w, s, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_int_equal(st_run_until_state(&w, m, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_job_state(&w, s), JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(&w, s), 1);
    sa = st_attempt(&w, s, 1);
    assert_string_equal(sa.region, "us-central1");
    assert_true(sa.launched_at < ST_T0 + 1.2 * HOUR); /* when a1's node freed */
    store_attempt_clear(&sa);
    st_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_for_the_cheaper_place),
        cmocka_unit_test(test_gives_up_after_its_patience),
        cmocka_unit_test(test_no_wait_without_patience_or_margin),
        cmocka_unit_test(test_no_wait_for_a_place_nothing_frees),
        cmocka_unit_test(test_deadline_jobs_follow_the_deadline_rule),
        cmocka_unit_test(test_safety_net_goes_first),
        cmocka_unit_test(test_no_wait_for_an_overflow_cloud),
        cmocka_unit_test(test_stale_waiter_holds_no_one_back),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
