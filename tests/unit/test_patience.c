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
 *  - A job waits for every place worth waiting for, not only the cheapest:
 *    a second place, not dearer than the cheapest by the same margin, that
 *    frees first is taken when it frees.  A node that wakes a job which
 *    then does not take it (a cheaper place freed at the same instant, or
 *    the prices changed) goes on to the next job waiting there; a gang
 *    waiting there only as another place does not hold back a job behind
 *    it; one node wakes one job; a restart keeps all of this (the cases
 *    after test_waits_for_every_cheap_place, written by a helper who
 *    attacked the first version: the first three failed on it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "plan/plan.h"
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

/* Two places worth waiting for: us-central1 spot ($1.20), which A holds for
 * 3 h, and europe-west4 spot at $1.30 here (its node held by C for 1 h);
 * europe-west4 on demand ($4.40) is free.  B (2 h, patience 1x) parks for
 * the cheapest, and also for europe-west4 spot, which is not 20% dearer:
 * it launches there when C ends at 1 h, instead of waiting until its
 * patience runs out at 2 h. */
static void test_waits_for_every_cheap_place(void **state)
{
    struct st w;
    struct store_attempt ba;
    int64_t a, b, c;

    (void)state;
    st_init(&w, NULL);
    st_set_capacity(&w, "gcp", "us-central1", "g2-standard-48", 0, 1);
    st_set_capacity(&w, "gcp", "europe-west4", "g2-standard-48", 4, 1);
    st_set_capacity(&w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(&w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_set_price(&w, "gcp", "europe-west4", "g2-standard-48", 4.40, 1.30);
    st_start(&w);
    a = submit(&w, "a", 3, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    c = submit(&w, "c", 1, 0, NONE);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    ba = st_attempt(&w, c, 1);
    assert_string_equal(ba.region, "europe-west4");
    assert_int_equal(ba.mode, PLAN_SPOT);
    store_attempt_clear(&ba);
    b = submit(&w, "b", 2, 0, PATIENT);
    st_run_to(&w, w.t + 120);
    assert_int_equal(st_job_state(&w, b), JOB_PENDING);
    assert_true(reason_has(&w, b, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_job_state(&w, b), JOB_SUCCEEDED);
    assert_int_equal(st_nattempts(&w, b), 1);
    ba = st_attempt(&w, b, 1);
    assert_string_equal(ba.region, "europe-west4");
    assert_int_equal(ba.mode, PLAN_SPOT);
    assert_true(ba.launched_at < ST_T0 + 1.2 * HOUR); /* when C's node freed */
    store_attempt_clear(&ba);
    st_free(&w);
}

/* 4 x L4 for `hours`, num_nodes nodes, optionally pinned to an infra. */
static int64_t job_in(struct st *w, const char *name, double hours, int nodes,
                      const char *infra, const char *policy)
{
    char spec[500], in[80] = "";

    if (infra)
        snprintf(in, sizeof(in), "  infra: %s\n", infra);
    snprintf(spec, sizeof(spec),
             "name: %s\nnum_nodes: %d\nresources:\n  accelerators: L4:4\n%s"
             "run: train\nstratus:\n  kind: batch\n  duration: %.0fs\n",
             name, nodes, in, hours * HOUR);
    return st_submit_policy(w, spec, policy);
}

/* When job id's first attempt launched, in hours from the start; in region
 * (NULL: anywhere). */
static double launched(struct st *w, int64_t id, const char *region)
{
    struct store_attempt a = st_attempt(w, id, 1);
    double t = a.launched_at;

    if (region)
        assert_string_equal(a.region, region);
    store_attempt_clear(&a);
    return (t - ST_T0) / HOUR;
}

/* c1 = us-central1 spot ($1.20, 1 node), c2 = europe-west4 spot ($1.30, 1 node),
 * europe-west4 on demand $4.40 (4 nodes). */
static void world_two(struct st *w, long c1, long c2)
{
    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "g2-standard-48", 0, c1);
    st_set_capacity(w, "gcp", "europe-west4", "g2-standard-48", 4, c2);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    st_set_price(w, "gcp", "europe-west4", "g2-standard-48", 4.40, 1.30);
    st_start(w);
}

/* A (c1) and C (c2) end at the same instant (1 h).  B (any region) waits for
 * c1 and, as another place, c2; D (europe-west4 only) waits for c2 alone,
 * parked after B.  Both freed nodes are taken at 1 h: B on c1, D on c2,
 * whichever end is handled first.  (When c2's is, B is woken by c2's node,
 * takes c1 instead, and c2's node goes on to D; before it did, D waited out
 * its patience, 4 h, with c2 free.) */
static void simultaneous(int a_first)
{
    struct st w;
    int64_t a, b, c, d;
    double tb, td;

    world_two(&w, 1, 1);
    if (a_first) {
        a = job_in(&w, "a", 1, 1, "gcp/us-central1", NONE);
        c = job_in(&w, "c", 1, 1, "gcp/europe-west4", NONE);
    } else {
        c = job_in(&w, "c", 1, 1, "gcp/europe-west4", NONE);
        a = job_in(&w, "a", 1, 1, "gcp/us-central1", NONE);
    }
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    b = job_in(&w, "b", 2, 1, NULL, PATIENT);
    st_run_to(&w, w.t + 30);
    d = job_in(&w, "d", 4, 1, "gcp/europe-west4", PATIENT);
    st_run_to(&w, w.t + 30);
    assert_true(reason_has(&w, b, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(&w, d, "waiting for gcp/europe-west4 g2-standard-48 spot"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    tb = launched(&w, b, "us-central1");
    td = launched(&w, d, "europe-west4");
    assert_true(tb < 1.3);
    assert_true(td < 1.3); /* c2 freed at ~1 h */
    st_free(&w);
}

static void test_simultaneous_a_first(void **state)
{
    (void)state;
    simultaneous(1);
}

static void test_simultaneous_c_first(void **state)
{
    (void)state;
    simultaneous(0);
}

/* c1 and c2 hold 2 nodes each: c1 held by A1, A2 (3 h), c2 by C1 (1 h) and
 * C2 (3 h).  D (europe-west4 only, 1 node) waits for c2 as its cheapest; G
 * (2 nodes, any region) parked before it waits for c1 and c2 as another
 * place.  When C1's one node of c2 frees, D takes it: G's ref there (2
 * nodes, at the head of c2's list) is passed over, not waited behind. */
static void test_gang_secondary_blocks(void **state)
{
    struct st w;
    int64_t a1, a2, c1, c2, g, d;
    double td;

    (void)state;
    world_two(&w, 2, 2);
    a1 = job_in(&w, "a1", 3, 1, "gcp/us-central1", NONE);
    a2 = job_in(&w, "a2", 3, 1, "gcp/us-central1", NONE);
    c1 = job_in(&w, "c1", 1, 1, "gcp/europe-west4", NONE);
    c2 = job_in(&w, "c2", 3, 1, "gcp/europe-west4", NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c2, JOB_RUNNING, w.t + HOUR), 1);
    g = job_in(&w, "g", 4, 2, NULL, PATIENT);
    st_run_to(&w, w.t + 30);
    d = job_in(&w, "d", 4, 1, "gcp/europe-west4", PATIENT);
    st_run_to(&w, w.t + 30);
    assert_true(reason_has(&w, g, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(&w, d, "waiting for gcp/europe-west4 g2-standard-48 spot"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    launched(&w, g, NULL);
    td = launched(&w, d, "europe-west4");
    assert_true(td < 1.3); /* C1's node freed at ~1 h */
    st_free(&w);
}

/* B waits for c1 ($1.20, held by A for 3 h) and c2 ($1.30, held by C for
 * 1 h); D (europe-west4 only) waits for c2 alone, parked after B.  c2's spot
 * price then rises to $1.60 (c1 is now 25% below it).  When C ends at 1 h,
 * B is woken by c2's node and, planned again, waits for c1 alone now: the
 * node goes on to D rather than stand idle until D's patience ends. */
static void test_price_change_secondary_swallows_node(void **state)
{
    struct st w;
    int64_t a, b, c, d;
    double td;

    (void)state;
    world_two(&w, 1, 1);
    a = job_in(&w, "a", 3, 1, "gcp/us-central1", NONE);
    c = job_in(&w, "c", 1, 1, "gcp/europe-west4", NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    b = job_in(&w, "b", 4, 1, NULL, PATIENT);
    st_run_to(&w, w.t + 30);
    d = job_in(&w, "d", 4, 1, "gcp/europe-west4", PATIENT);
    st_run_to(&w, w.t + 30);
    assert_true(reason_has(&w, b, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(&w, d, "waiting for gcp/europe-west4 g2-standard-48 spot"));
    st_set_price(&w, "gcp", "europe-west4", "g2-standard-48", 4.40, 1.60);
    st_run_to(&w, w.t + 60);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    launched(&w, b, NULL);
    td = launched(&w, d, "europe-west4");
    assert_true(td < 1.3); /* c2 freed at ~1 h */
    st_free(&w);
}

/* Two jobs, both waiting for c1 and (as another place) c2; one node of c2
 * frees: exactly one of them takes it, the other keeps waiting and takes c1
 * when it frees; no attempt is refused. */
static void test_one_node_one_job(void **state)
{
    struct st w;
    int64_t a, c, b1, b2;
    double t1, t2;

    (void)state;
    world_two(&w, 1, 1);
    a = job_in(&w, "a", 2, 1, "gcp/us-central1", NONE);
    c = job_in(&w, "c", 1, 1, "gcp/europe-west4", NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    b1 = job_in(&w, "b1", 4, 1, NULL, PATIENT);
    b2 = job_in(&w, "b2", 4, 1, NULL, PATIENT);
    st_run_to(&w, w.t + 60);
    assert_true(reason_has(&w, b1, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(&w, b2, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_nattempts(&w, b1), 1);
    assert_int_equal(st_nattempts(&w, b2), 1);
    t1 = launched(&w, b1, "europe-west4");
    t2 = launched(&w, b2, "us-central1");
    assert_true(t1 < 1.3);
    assert_true(t2 > 1.9 && t2 < 2.3);
    st_free(&w);
}

/* The controller restarts while B waits for c1 and c2: B parks again and
 * still takes c2 when C ends. */
static void test_restart_while_waiting(void **state)
{
    struct st w;
    int64_t a, c, b;

    (void)state;
    world_two(&w, 1, 1);
    a = job_in(&w, "a", 3, 1, "gcp/us-central1", NONE);
    c = job_in(&w, "c", 1, 1, "gcp/europe-west4", NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    b = job_in(&w, "b", 2, 1, NULL, PATIENT);
    st_run_to(&w, w.t + 60);
    st_restart(&w);
    st_run_to(&w, w.t + 60);
    assert_int_equal(st_job_state(&w, b), JOB_PENDING);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_true(launched(&w, b, "europe-west4") < 1.3);
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
        cmocka_unit_test(test_waits_for_every_cheap_place),
        cmocka_unit_test(test_simultaneous_a_first),
        cmocka_unit_test(test_simultaneous_c_first),
        cmocka_unit_test(test_gang_secondary_blocks),
        cmocka_unit_test(test_price_change_secondary_swallows_node),
        cmocka_unit_test(test_one_node_one_job),
        cmocka_unit_test(test_restart_while_waiting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
