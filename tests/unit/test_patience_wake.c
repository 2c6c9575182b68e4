/*
 * test_patience_wake.c - how nodes that free wake the jobs waiting for them
 * with patience (sched_place.c: wake_place, wake_passed; docs/patience.md),
 * the real controller in virtual time on the sched fixture.  4 x L4 spot:
 * c1 = gcp/us-central1 at $1.20/h, c2 = gcp/europe-west4 at $1.30/h here
 * (the fixture's $1.60 elsewhere); europe-west4 on demand $4.40/h is free.
 * A job waits for the cheapest place the lab's jobs hold and for the others
 * near its price (c2, for a job that may run anywhere):
 *
 *  - Two places free at one instant: both are taken, whichever end is
 *    handled first; a node that woke a job which then took another place,
 *    or waits again because prices changed, or was cancelled in that very
 *    step, goes on to the next job waiting there, before later jobs of the
 *    step that do not wait.
 *  - A gang waiting somewhere only as another place does not hold back a
 *    job behind it; one node wakes one job; a restart keeps all of this.
 *  - A job never waits for a place its team's quota can never give it (it
 *    would wait out its patience there, and, woken, wait there again at
 *    once: before that check and the guard of one wake a step, a loop that
 *    ran out of memory in one step); it does wait for one its own team's
 *    jobs hold within the quota.
 *
 * The first case fails on the code that waited for the cheapest place
 * alone; the others were written by helpers who attacked the versions of
 * waiting for several places after it, and each failed on one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "plan/plan.h"
#include "policy/org.h"
#include "schedtest.h"

#define HOUR 3600.0

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static const char *const PATIENT = "version: 1\n"
                                   "rules:\n"
                                   "  - name: flexible\n"
                                   "    spot: allow\n"
                                   "    patience: 1x\n";

static const char *const NONE = "version: 1\n"
                                "rules:\n"
                                "  - name: hasty\n"
                                "    spot: allow\n";

static int reason_has(struct st *w, int64_t job, const char *text)
{
    struct store_job j = st_job(w, job);
    int yes = j.reason != NULL && strstr(j.reason, text) != NULL;

    store_job_clear(&j);
    return yes;
}

/* 4 x L4 for `hours` on `nodes` nodes, pinned to an infra (NULL: none),
 * spot only or not. */
static int64_t job_in(struct st *w, const char *name, double hours, int nodes,
                      const char *infra, int spot_only, const char *policy)
{
    char spec[500], in[80] = "";

    if (infra)
        snprintf(in, sizeof(in), "  infra: %s\n", infra);
    snprintf(spec, sizeof(spec),
             "name: %s\nnum_nodes: %d\nresources:\n  accelerators: L4:4\n%s%s"
             "run: train\nstratus:\n  kind: batch\n  duration: %.0fs\n",
             name, nodes, in, spot_only ? "  use_spot: true\n" : "", hours * HOUR);
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

/* c1 = us-central1 spot ($1.20, c1 nodes); europe-west4 spot (c2 nodes) at
 * c2_spot $/h, or the fixture's $1.60 when 0; europe-west4 on demand $4.40
 * (4 nodes). */
static void world_l4(struct st *w, long c1, long c2, double c2_spot)
{
    st_init(w, NULL);
    st_set_capacity(w, "gcp", "us-central1", "g2-standard-48", 0, c1);
    st_set_capacity(w, "gcp", "europe-west4", "g2-standard-48", 4, c2);
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 0, 0);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 0, 0);
    if (c2_spot > 0)
        st_set_price(w, "gcp", "europe-west4", "g2-standard-48", 4.40, c2_spot);
    st_start(w);
}

/* c2 = europe-west4 spot at $1.30, near c1's price. */
static void world_two(struct st *w, long c1, long c2)
{
    world_l4(w, c1, c2, 1.30);
}

/* A holds c1 for a_hours and C holds c2 for c_hours (submitted C first when
 * c_first), both running. */
static void hold_both(struct st *w, double a_hours, double c_hours, int c_first,
                      int64_t *a, int64_t *c)
{
    if (c_first)
        *c = job_in(w, "c", c_hours, 1, "gcp/europe-west4", 0, NONE);
    *a = job_in(w, "a", a_hours, 1, "gcp/us-central1", 0, NONE);
    if (!c_first)
        *c = job_in(w, "c", c_hours, 1, "gcp/europe-west4", 0, NONE);
    assert_int_equal(st_run_until_state(w, *a, JOB_RUNNING, w->t + HOUR), 1);
    assert_int_equal(st_run_until_state(w, *c, JOB_RUNNING, w->t + HOUR), 1);
}

/* B (b_hours, any region) parks for c1 (and c2 as another place), then D
 * (4 h, europe-west4 only) for c2. */
static void park_b_then_d(struct st *w, double b_hours, int64_t *b, int64_t *d)
{
    *b = job_in(w, "b", b_hours, 1, NULL, 0, PATIENT);
    st_run_to(w, w->t + 30);
    *d = job_in(w, "d", 4, 1, "gcp/europe-west4", 0, PATIENT);
    st_run_to(w, w->t + 30);
    assert_true(reason_has(w, *b, "waiting for gcp/us-central1 g2-standard-48 spot"));
    assert_true(reason_has(w, *d, "waiting for gcp/europe-west4 g2-standard-48 spot"));
}

/* Two places worth waiting for: c1, which A holds for 3 h, and c2 (its node
 * held by C for 1 h); europe-west4 on demand is free.  B (2 h, patience 1x)
 * parks for the cheapest, and also for c2, which is not 20% dearer: it
 * launches there when C ends at 1 h, instead of waiting until its patience
 * runs out at 2 h. */
static void test_waits_for_every_cheap_place(void **state)
{
    struct st w;
    struct store_attempt ba;
    int64_t a, b, c;

    (void)state;
    world_two(&w, 1, 1);
    a = job_in(&w, "a", 3, 1, NULL, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    c = job_in(&w, "c", 1, 1, NULL, 0, NONE);
    assert_int_equal(st_run_until_state(&w, c, JOB_RUNNING, w.t + HOUR), 1);
    ba = st_attempt(&w, c, 1);
    assert_string_equal(ba.region, "europe-west4");
    assert_int_equal(ba.mode, PLAN_SPOT);
    store_attempt_clear(&ba);
    b = job_in(&w, "b", 2, 1, NULL, 0, PATIENT);
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
    hold_both(&w, 1, 1, !a_first, &a, &c);
    park_b_then_d(&w, 2, &b, &d);
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
    a1 = job_in(&w, "a1", 3, 1, "gcp/us-central1", 0, NONE);
    a2 = job_in(&w, "a2", 3, 1, "gcp/us-central1", 0, NONE);
    c1 = job_in(&w, "c1", 1, 1, "gcp/europe-west4", 0, NONE);
    c2 = job_in(&w, "c2", 3, 1, "gcp/europe-west4", 0, NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, c2, JOB_RUNNING, w.t + HOUR), 1);
    g = job_in(&w, "g", 4, 2, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    d = job_in(&w, "d", 4, 1, "gcp/europe-west4", 0, PATIENT);
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
    hold_both(&w, 3, 1, 0, &a, &c);
    park_b_then_d(&w, 4, &b, &d);
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
    hold_both(&w, 2, 1, 0, &a, &c);
    b1 = job_in(&w, "b1", 4, 1, NULL, 0, PATIENT);
    b2 = job_in(&w, "b2", 4, 1, NULL, 0, PATIENT);
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
    hold_both(&w, 3, 1, 0, &a, &c);
    b = job_in(&w, "b", 2, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 60);
    st_restart(&w);
    st_run_to(&w, w.t + 60);
    assert_int_equal(st_job_state(&w, b), JOB_PENDING);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_true(launched(&w, b, "europe-west4") < 1.3);
    st_free(&w);
}

/* Only c1 is held (1 node); europe-west4 has 4 spot nodes at the fixture's
 * $1.60 (not near c1's price). */
static void world_one(struct st *w)
{
    world_l4(w, 1, 4, 0);
}

/* C (c2) and A (c1) end at the same instant, C's end handled first.  B
 * waits for c1 (and c2 as another place); D (europe-west4 only) waits for
 * c2, parked after B; Y (europe-west4 spot only, no patience) came after D
 * and waits for room there.  c2's node wakes B, which takes c1 and passes
 * c2 on to D, placed next: D, older than Y, takes it. */
static void test_passed_on_before_later_jobs(void **state)
{
    struct st w;
    int64_t a, b, c, d, y;

    (void)state;
    world_two(&w, 1, 1);
    hold_both(&w, 1, 1, 1, &a, &c);
    park_b_then_d(&w, 2, &b, &d);
    y = job_in(&w, "y", 4, 1, "gcp/europe-west4", 1, NONE);
    st_run_to(&w, w.t + 30);
    assert_int_equal(st_job_state(&w, y), JOB_PENDING);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    launched(&w, b, "us-central1");
    launched(&w, y, "europe-west4");
    assert_true(launched(&w, d, "europe-west4") < 1.3); /* c2 freed at ~1 h */
    st_free(&w);
}

/* A holds c1 for 1 h; B then C (4 h each) park for it.  B is cancelled at
 * the instant A ends (before: `before` seconds earlier): its cancel is
 * taken in the step that wakes it, and the step drops it before its turn.
 * With `stop`, the same step also cancels a running job Z (a stop: the step
 * places nothing, so B is dropped only when the step ends, and its nodes go
 * on from there).  C takes the node at ~1 h in every case rather than wait
 * out its 4 h of patience. */
static void cancelled_when_woken(double before, int stop)
{
    struct st w;
    struct store_attempt aa;
    int64_t a, b, c, z = 0;
    double end;

    world_one(&w);
    a = job_in(&w, "a", 1, 1, NULL, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    if (stop) {
        z = job_in(&w, "z", 5, 1, NULL, 0, NONE); /* europe-west4 */
        assert_int_equal(st_run_until_state(&w, z, JOB_RUNNING, w.t + HOUR), 1);
    }
    b = job_in(&w, "b", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    c = job_in(&w, "c", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    assert_int_equal(st_job_state(&w, b), JOB_PENDING);
    assert_int_equal(st_job_state(&w, c), JOB_PENDING);
    assert_true(reason_has(&w, b, "waiting for gcp/us-central1"));
    assert_true(reason_has(&w, c, "waiting for gcp/us-central1"));
    aa = st_attempt(&w, a, 1);
    end = aa.running_at + 1 * HOUR;
    store_attempt_clear(&aa);
    if (before > 0) {
        st_run_to(&w, end - before);
    } else {
        st_run_to(&w, end - 1);
        assert_int_equal(st_job_state(&w, a), JOB_RUNNING);
        w.t = end + 0.5; /* A has ended in the world; the controller has not looked */
    }
    st_cancel(&w, b);
    if (stop)
        st_cancel(&w, z);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_job_state(&w, b), JOB_CANCELLED);
    assert_true(launched(&w, c, "us-central1") < 1.3);
    st_free(&w);
}

static void test_woken_then_cancelled_same_step(void **state)
{
    (void)state;
    cancelled_when_woken(0, 0);
}

static void test_cancelled_before_woken(void **state)
{
    (void)state;
    cancelled_when_woken(60, 0);
}

/* A's end wakes B in a step that also stops a running job Z (cancelled at
 * that instant: the step places nothing); B takes the node at the next. */
static void test_woken_in_a_step_that_places_nothing(void **state)
{
    struct st w;
    struct store_attempt aa;
    int64_t a, b, z;
    double end;

    (void)state;
    world_one(&w);
    a = job_in(&w, "a", 1, 1, NULL, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    z = job_in(&w, "z", 5, 1, NULL, 0, NONE); /* europe-west4 */
    assert_int_equal(st_run_until_state(&w, z, JOB_RUNNING, w.t + HOUR), 1);
    b = job_in(&w, "b", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    assert_int_equal(st_job_state(&w, b), JOB_PENDING);
    aa = st_attempt(&w, a, 1);
    end = aa.running_at + 1 * HOUR;
    store_attempt_clear(&aa);
    st_run_to(&w, end - 1);
    w.t = end + 0.5;
    st_cancel(&w, z);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_true(launched(&w, b, "us-central1") < 1.3);
    st_free(&w);
}

/* 4 x A10: oci/us-ashburn-1 spot ($3.00 here) and azure/westeurope spot
 * ($4.00).  Team t may not use oci (0 A10 GPUs there); team u has no quota
 * and its jobs hold oci. */
static const char *const ORG =
    "{\"teams\":[{\"name\":\"t\",\"quota\":[{\"accelerator\":\"A10\",\"cloud\":\"oci\","
    "\"gpus\":0}]},{\"name\":\"u\"}]}";

static int64_t a10(struct st *w, const char *name, const char *team, double hours,
                   const char *infra, int eager, const char *policy)
{
    char spec[600], in[80] = "";

    if (infra)
        snprintf(in, sizeof(in), "  infra: %s\n", infra);
    snprintf(spec, sizeof(spec),
             "name: %s\nresources:\n  accelerators: A10:4\n%s"
             "run: train\nstratus:\n  team: %s\n  kind: batch\n  duration: %.0fs\n%s",
             name, in, team, hours * HOUR,
             eager ? "  recovery:\n    strategy: eager-next-region\n" : "");
    return st_submit_policy(w, spec, policy);
}

static struct org *parse_org(const char *doc)
{
    struct org *g = NULL;
    struct err e;

    err_clear(&e);
    if (org_parse(doc, strlen(doc), "test", &g, &e) != 0)
        fail_msg("org: %s", e.msg);
    return g;
}

/* The teams of doc (the caller frees them); oci/us-ashburn-1 spot (oci
 * nodes) at oci_spot $/h, azure/westeurope spot (az nodes). */
static struct org *org_world(struct st *w, const char *doc, long oci, long az,
                             double oci_spot)
{
    struct org *g = parse_org(doc);

    st_init(w, NULL);
    st_set_capacity(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 0, oci);
    st_set_capacity(w, "azure", "westeurope", "Standard_NV72ads_A10_v5", 0, az);
    st_set_price(w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8.00, oci_spot);
    st_start(w);
    sched_set_org(w->s, g);
    return g;
}

/* X (team t) comes while u's jobs hold both oci nodes: it launches on azure
 * at once rather than wait out its patience for oci. */
static void test_no_wait_for_a_place_the_quota_forbids(void **state)
{
    struct st w;
    struct org *g;
    struct store_attempt xa;
    int64_t a1, a2, x;

    (void)state;
    g = org_world(&w, ORG, 2, 4, 3.00);
    a1 = a10(&w, "a1", "u", 6, "oci/us-ashburn-1", 0, PATIENT);
    a2 = a10(&w, "a2", "u", 6, "oci/us-ashburn-1", 0, PATIENT);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    x = a10(&w, "x", "t", 4, NULL, 0, PATIENT);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    xa = st_attempt(&w, x, 1);
    assert_string_equal(xa.cloud, "azure");
    assert_true(xa.launched_at < ST_T0 + 0.3 * HOUR);
    store_attempt_clear(&xa);
    st_free(&w);
    org_free(g);
}

static void on_alarm(int sig)
{
    static const char m[] = "the controller did not get through a1's end in 20 s\n";

    (void)sig;
    (void)!write(2, m, sizeof(m) - 1);
    _exit(3);
}

/* W (team t, eager-next-region) runs on azure and is preempted there (so it
 * avoids azure/westeurope, and its shape is its own: no other job's verdict
 * skips it) while u's jobs hold oci.  When a1 (oci, 1 h) ends, nothing may
 * wake W again and again in one step (in a child with 2 GB of address space
 * and 20 s: the loop there was ran out of memory). */
static void quota_loop(void)
{
    struct st w;
    struct org *g;
    int64_t a1, a2, x;
    char arg[32];

    signal(SIGALRM, on_alarm);
    g = org_world(&w, ORG, 2, 4, 3.00);
    x = a10(&w, "w", "t", 4, NULL, 1, PATIENT);
    assert_int_equal(st_run_until_state(&w, x, JOB_RUNNING, w.t + HOUR), 1);
    a1 = a10(&w, "a1", "u", 1, "oci/us-ashburn-1", 0, PATIENT);
    a2 = a10(&w, "a2", "u", 5, "oci/us-ashburn-1", 0, PATIENT);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    snprintf(arg, sizeof(arg), "%lld", (long long)x);
    assert_int_equal(st_inject(&w, "preempt-job", arg), 0);
    st_run_to(&w, w.t + 120);
    alarm(20);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    alarm(0);
    assert_int_equal(st_job_state(&w, x), JOB_SUCCEEDED);
    st_free(&w);
    org_free(g);
}

/* Run fn in a child with 2 GB of address space (a loop that allocates
 * ends there, not in the machine's memory) and its 20 s alarm. */
static void in_child(void (*fn)(void))
{
    struct rlimit rl = {2UL << 30, 2UL << 30};
    int status = 0;
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) == 0) {
        if (!UNDER_ASAN) /* its shadow memory needs more address space */
            setrlimit(RLIMIT_AS, &rl);
        fn();
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the controller did not get through a1's end (child status 0x%x)",
                 status);
}

static void test_no_wake_loop(void **state)
{
    (void)state;
    in_child(quota_loop);
}

static void test_woken_cancelled_in_a_step_that_places_nothing(void **state)
{
    (void)state;
    cancelled_when_woken(0, 1);
}

/* Team t may use 4 A10 GPUs on oci (one node).  Its own job a1 holds the
 * only oci node (cheap, $3) for 1 h; X (team t, patient, 4 h) comes then.
 * When a1 ends, both the node and t's oci quota free together, so X can take
 * oci at ~1 h: the quota keeps a job from waiting only for a place it can
 * never have (it looked at the usage now, a1's included, and sent X to
 * azure at $4 at once). */
static const char *const ORG_OWN =
    "{\"teams\":[{\"name\":\"t\",\"quota\":[{\"accelerator\":\"A10\",\"cloud\":\"oci\","
    "\"gpus\":4}]},{\"name\":\"u\"}]}";

static void test_waits_for_its_own_teams_place(void **state)
{
    struct st w;
    struct org *g;
    struct store_attempt xa;
    int64_t a1, x;

    (void)state;
    g = org_world(&w, ORG_OWN, 1, 4, 3.00);
    a1 = a10(&w, "a1", "t", 1, "oci/us-ashburn-1", 0, NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    x = a10(&w, "x", "t", 4, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 60);
    assert_true(reason_has(&w, x, "waiting for oci/us-ashburn-1"));
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    xa = st_attempt(&w, x, 1);
    assert_string_equal(xa.cloud, "oci");
    store_attempt_clear(&xa);
    st_free(&w);
    org_free(g);
}

/* Team t may use 4 A10 GPUs on oci, and its job t1 uses them there (5 h).
 * W (team t, eager-next-region) runs on azure (oci is not 20% cheaper yet);
 * then oci's price falls, u's a1 takes oci's other node for 1 h, and W is
 * preempted: it avoids azure, its shape is its own (no other job's verdict
 * skips it), and it waits for oci, over its quota now (it frees when t1
 * ends).  When a1 ends, W is woken,
 * still cannot take oci, waits for it again, and passes the node on: its
 * own new entry must not wake it again in that step (without the guard of
 * one wake a step, for ever). */
static void over_quota_loop(void)
{
    struct st w;
    struct org *g;
    int64_t t1, a1, x;
    char arg[32];

    signal(SIGALRM, on_alarm);
    g = org_world(&w, ORG_OWN, 2, 4, 3.90); /* t may use 4 A10 GPUs on oci */
    t1 = a10(&w, "t1", "t", 5, "oci/us-ashburn-1", 0, NONE);
    assert_int_equal(st_run_until_state(&w, t1, JOB_RUNNING, w.t + HOUR), 1);
    x = a10(&w, "w", "t", 4, NULL, 1, PATIENT); /* oci is not 20% cheaper yet */
    assert_int_equal(st_run_until_state(&w, x, JOB_RUNNING, w.t + HOUR), 1);
    st_set_price(&w, "oci", "us-ashburn-1", "BM.GPU.A10.4", 8.00, 3.00);
    a1 = a10(&w, "a1", "u", 1, "oci/us-ashburn-1", 0, NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    snprintf(arg, sizeof(arg), "%lld", (long long)x);
    assert_int_equal(st_inject(&w, "preempt-job", arg), 0);
    st_run_to(&w, w.t + 120);
    assert_true(reason_has(&w, x, "waiting for oci/us-ashburn-1"));
    alarm(20);
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    alarm(0);
    assert_int_equal(st_job_state(&w, x), JOB_SUCCEEDED);
    st_free(&w);
    org_free(g);
}

static void test_no_wake_loop_over_quota_now(void **state)
{
    (void)state;
    in_child(over_quota_loop);
}

/* c1 has 2 nodes, held by A2 (1 h) and A (1 h + 2 s); B, C and D park for
 * c1 in that order; Z runs in europe-west4.  A2's end wakes B, which
 * launches on c1 (a reservation of that step); 2 s later A's end wakes C in
 * a step that cancels C and Z and so places nothing.  C's node goes on to D
 * at ~1 h: the last placing step's reservation, which the driver already
 * counts, is not counted against it again. */
static void test_passed_on_after_a_reservation(void **state)
{
    struct st w;
    struct store_attempt a0;
    int64_t a, a2, b, c, d, z;
    double e2, e1;

    (void)state;
    world_l4(&w, 2, 4, 0);
    a2 = job_in(&w, "a2", 1, 1, NULL, 0, NONE);
    a = job_in(&w, "a", 1 + 2 / HOUR, 1, NULL, 0, NONE);
    assert_int_equal(st_run_until_state(&w, a, JOB_RUNNING, w.t + HOUR), 1);
    assert_int_equal(st_run_until_state(&w, a2, JOB_RUNNING, w.t + HOUR), 1);
    z = job_in(&w, "z", 5, 1, NULL, 0, NONE); /* europe-west4 */
    assert_int_equal(st_run_until_state(&w, z, JOB_RUNNING, w.t + HOUR), 1);
    b = job_in(&w, "b", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    c = job_in(&w, "c", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    d = job_in(&w, "d", 4, 1, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 30);
    assert_int_equal(st_job_state(&w, d), JOB_PENDING);
    a0 = st_attempt(&w, a2, 1);
    e2 = a0.running_at + HOUR;
    store_attempt_clear(&a0);
    a0 = st_attempt(&w, a, 1);
    e1 = a0.running_at + HOUR + 2;
    store_attempt_clear(&a0);
    assert_true(e1 - e2 > 1.5 && e1 - e2 < 2.5);
    st_run_to(&w, e2 - 1);
    assert_int_equal(st_job_state(&w, a2), JOB_RUNNING);
    w.t = e2 + 0.25;
    st_step(&w); /* A2's end: B woken and launched on c1 */
    assert_int_equal(st_nattempts(&w, b), 1);
    w.t = e1 + 0.25; /* no deadline check or placement in between */
    st_cancel(&w, c);
    st_cancel(&w, z);
    st_step(&w); /* A's end wakes C; C and Z cancelled: places nothing */
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    assert_int_equal(st_job_state(&w, c), JOB_CANCELLED);
    assert_true(launched(&w, d, "us-central1") < 1.3);
    st_free(&w);
}

/* X (team t, patient) parks for oci, which u's job holds for 6 h; then the
 * teams' document changes to give t no A10 on oci (`stratus team
 * set-quota`): X is looked at again and launches on azure at once, not
 * after waiting out its patience. */
static void test_quota_change_wakes_parked_jobs(void **state)
{
    static const char *const ORG_FREE = "{\"teams\":[{\"name\":\"t\"},{\"name\":\"u\"}]}";
    struct st w;
    struct org *g0, *g1;
    struct store_attempt xa;
    int64_t a1, x;
    double change;

    (void)state;
    g0 = org_world(&w, ORG_FREE, 1, 4, 3.00);
    g1 = parse_org(ORG);
    a1 = a10(&w, "a1", "u", 6, "oci/us-ashburn-1", 0, NONE);
    assert_int_equal(st_run_until_state(&w, a1, JOB_RUNNING, w.t + HOUR), 1);
    x = a10(&w, "x", "t", 4, NULL, 0, PATIENT);
    st_run_to(&w, w.t + 60);
    assert_true(reason_has(&w, x, "waiting for oci/us-ashburn-1"));
    sched_set_org(w.s, g1);
    change = w.t;
    assert_int_equal(st_run_all(&w, w.t + 48 * HOUR), 1);
    xa = st_attempt(&w, x, 1);
    assert_string_equal(xa.cloud, "azure");
    assert_true(xa.launched_at < change + 0.1 * HOUR);
    store_attempt_clear(&xa);
    st_free(&w);
    org_free(g0);
    org_free(g1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_for_every_cheap_place),
        cmocka_unit_test(test_simultaneous_a_first),
        cmocka_unit_test(test_simultaneous_c_first),
        cmocka_unit_test(test_gang_secondary_blocks),
        cmocka_unit_test(test_price_change_secondary_swallows_node),
        cmocka_unit_test(test_one_node_one_job),
        cmocka_unit_test(test_restart_while_waiting),
        cmocka_unit_test(test_passed_on_before_later_jobs),
        cmocka_unit_test(test_woken_then_cancelled_same_step),
        cmocka_unit_test(test_cancelled_before_woken),
        cmocka_unit_test(test_woken_in_a_step_that_places_nothing),
        cmocka_unit_test(test_no_wait_for_a_place_the_quota_forbids),
        cmocka_unit_test(test_no_wake_loop),
        cmocka_unit_test(test_woken_cancelled_in_a_step_that_places_nothing),
        cmocka_unit_test(test_waits_for_its_own_teams_place),
        cmocka_unit_test(test_no_wake_loop_over_quota_now),
        cmocka_unit_test(test_passed_on_after_a_reservation),
        cmocka_unit_test(test_quota_change_wakes_parked_jobs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
