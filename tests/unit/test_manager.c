/*
 * test_manager.c - the replica manager (src/serve/manager.c) with the real
 * controller on the sim driver, in virtual time (schedtest.h): services as
 * sets of replica jobs, spread spot replicas, on-demand while spot is short
 * and back to spot after, replacement of replicas failing their probe,
 * rolling updates, `serve down`, and autoscaling on reported load.
 *
 * Probes are the test's: the probe hook records which replica was asked,
 * and the test answers after the manager's round, ok unless the replica's
 * job is in `broken`.  The fixture world (tests/data/sched): L4:4 in
 * gcp/us-central1 (zone us-central1-a) and gcp/europe-west4
 * (europe-west4-b), 64 nodes each, on-demand and spot; a launch runs 60 s
 * later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan/plan.h"
#include "schedtest.h"
#include "serve/manager.h"
#include "testutil.h"

struct mt {
    struct st w;
    struct mgr *m;
    int64_t svc;
    int64_t asked[64]; /* probes asked this round */
    size_t nasked;
    int64_t broken[8]; /* replicas whose probe fails */
    size_t nbroken;
    int ports;
};

static void probe(void *ctx, int64_t job_id, const char *url, const struct svc_probe *p)
{
    struct mt *t = ctx;

    (void)url;
    (void)p;
    if (t->nasked < sizeof(t->asked) / sizeof(t->asked[0]))
        t->asked[t->nasked++] = job_id;
}

static int port(void *ctx, const struct store_job *j)
{
    (void)j;
    return 20000 + ((struct mt *)ctx)->ports++;
}

static const char *host(void *ctx, const struct store_attempt *a, int *emulated)
{
    (void)ctx;
    (void)a;
    *emulated = 1;
    return "127.0.0.1";
}

static int is_broken(const struct mt *t, int64_t id)
{
    size_t i;

    for (i = 0; i < t->nbroken; i++)
        if (t->broken[i] == id)
            return 1;
    return 0;
}

static void mt_init(struct mt *t)
{
    struct mgr_hooks h;
    struct err e;

    memset(t, 0, sizeof(*t));
    st_init(&t->w, NULL);
    /* replicas serve until stopped: the world runs each job 30 days */
    for (size_t i = 0; i <= ST_MAX_JOBS; i++)
        t->w.jobs[i].duration_s = 30 * 86400.0;
    h = (struct mgr_hooks){t, probe, port, host, NULL};
    err_clear(&e);
    assert_int_equal(mgr_open(&t->m, t->w.store, &h, &e), 0);
    t->w.p.replica_may_use = mgr_replica_may_use;
    t->w.p.replica_event = mgr_replica_event;
    t->w.p.replica_ctx = t->m;
}

static void mt_free(struct mt *t)
{
    mgr_close(t->m);
    st_free(&t->w);
}

static int64_t mt_up(struct mt *t, const char *yaml)
{
    struct store_service s;
    struct err e;

    memset(&s, 0, sizeof(s));
    s.name = xstrdup("llm");
    s.spec_path = xstrdup("llm.yaml");
    s.spec_text = xstrdup(yaml);
    s.version = 1;
    s.state = SVC_STARTING;
    s.created_at = s.updated_at = t->w.t;
    err_clear(&e);
    assert_int_equal(store_service_insert(t->w.store, &s, &e), 0);
    t->svc = s.id;
    store_service_clear(&s);
    return t->svc;
}

/* One controller step, one manager round, the probes answered. */
static double mt_step(struct mt *t)
{
    double next = st_step(&t->w), mnext = 3600;
    struct err e;
    size_t i;

    err_clear(&e);
    t->nasked = 0;
    if (mgr_tick(t->m, t->w.t, &mnext, &e) != 0)
        fail_msg("mgr_tick: %s", e.msg);
    for (i = 0; i < t->nasked; i++)
        mgr_probed(t->m, t->asked[i], !is_broken(t, t->asked[i]), t->w.t);
    return mnext < next ? mnext : next;
}

/* Run until time `until` (steps at the earlier of the two wake-ups, at
 * least every 5 s so probes and drains come round). */
static void mt_run(struct mt *t, double until)
{
    while (t->w.t < until) {
        double next = mt_step(t);

        if (next > 5)
            next = 5;
        if (next < 0.01)
            next = 0.01;
        t->w.t += next;
    }
}

struct counts {
    int live, running, spot, ondemand, ready, regions;
    int64_t first_spot;
};

static struct counts mt_count(struct mt *t)
{
    struct counts c = {0, 0, 0, 0, 0, 0, 0};
    struct store_job *v = NULL;
    char seen[8][48];
    size_t n = 0, i, k, ns = 0;
    struct err e;

    err_clear(&e);
    assert_int_equal(store_replica_list(t->w.store, t->svc, 1, &v, &n, &e), 0);
    for (i = 0; i < n; i++) {
        struct store_attempt a;
        const char *st = mgr_replica_state(t->m, t->svc, v[i].id);

        c.live++;
        c.ready += st && strcmp(st, "READY") == 0;
        if (v[i].state != JOB_RUNNING || v[i].cur_attempt == 0 ||
            store_attempt_get(t->w.store, v[i].cur_attempt, &a, &e) != 0)
            continue;
        c.running++;
        if (a.mode == PLAN_SPOT) {
            c.spot++;
            if (c.first_spot == 0)
                c.first_spot = v[i].id;
        } else {
            c.ondemand++;
        }
        for (k = 0; k < ns && strcmp(seen[k], a.region) != 0; k++)
            ;
        if (k == ns && ns < 8)
            snprintf(seen[ns++], sizeof(seen[0]), "%s", a.region);
        store_attempt_clear(&a);
    }
    c.regions = (int)ns;
    store_jobs_free(v, n);
    return c;
}

/* STRATUS_TEST_DEBUG=1: the replicas as the store and the manager see them. */
static void mt_dump(struct mt *t, const char *when)
{
    struct store_job *v = NULL;
    size_t n = 0, i;
    struct err e;

    if (getenv("STRATUS_TEST_DEBUG") == NULL)
        return;
    err_clear(&e);
    store_replica_list(t->w.store, t->svc, 0, &v, &n, &e);
    fprintf(stderr, "-- %s t=%.0f\n", when, t->w.t - ST_T0);
    for (i = 0; i < n; i++) {
        const char *st = mgr_replica_state(t->m, t->svc, v[i].id);

        fprintf(stderr, "  job %lld v%d mode %d %s mgr %s cancel %d: %s\n", (long long)v[i].id,
                v[i].svc_version, v[i].svc_mode, job_state_name(v[i].state), st ? st : "-",
                v[i].cancel_requested, v[i].reason ? v[i].reason : "");
    }
    store_jobs_free(v, n);
}

static int svc_state(struct mt *t)
{
    struct store_service s;
    struct err e;
    int st;

    err_clear(&e);
    assert_int_equal(store_service_get(t->w.store, t->svc, &s, &e), 0);
    st = s.state;
    store_service_clear(&s);
    return st;
}

#define SPOT3                                                                            \
    "name: llm\n"                                                                        \
    "resources:\n"                                                                       \
    "  accelerators: L4:4\n"                                                             \
    "  use_spot: true\n"                                                                 \
    "run: serve\n"                                                                       \
    "stratus:\n"                                                                         \
    "  duration: 30d\n"                                                                  \
    "service:\n"                                                                         \
    "  readiness_probe: /health\n"                                                       \
    "  replica_policy:\n"                                                                \
    "    min_replicas: 3\n"                                                              \
    "    max_replicas: 3\n"                                                              \
    "    dynamic_ondemand_fallback: true\n"

/* Three spot replicas spread over both regions, all ready; the service READY. */
static void test_spot_spread(void **state)
{
    struct mt t;
    struct counts c;

    (void)state;
    mt_init(&t);
    mt_up(&t, SPOT3);
    mt_run(&t, ST_T0 + 300);
    mt_dump(&t, "spread");
    c = mt_count(&t);
    assert_int_equal(c.live, 3);
    assert_int_equal(c.spot, 3);
    assert_int_equal(c.ready, 3);
    assert_int_equal(c.regions, 2); /* at most 2 of 3 in one zone */
    assert_int_equal(svc_state(&t), SVC_READY);
    mt_free(&t);
}

/* A preempted spot replica with spot gone from its region: on-demand fills
 * in while spot is short, and is retired once spot replicas are READY again. */
static void test_ondemand_while_spot_short(void **state)
{
    struct mt t;
    struct counts c;
    char arg[32];

    (void)state;
    mt_init(&t);
    mt_up(&t, SPOT3);
    mt_run(&t, ST_T0 + 300);
    c = mt_count(&t);
    assert_int_equal(c.spot, 3);
    /* spot no longer sold: the preempted replica cannot come back on spot */
    st_set_price(&t.w, "gcp", "us-central1", "g2-standard-48", 4.00, -1);
    st_set_price(&t.w, "gcp", "europe-west4", "g2-standard-48", 4.40, -1);
    snprintf(arg, sizeof(arg), "%lld", (long long)c.first_spot);
    assert_int_equal(st_inject(&t.w, "preempt-job", arg), 0);
    mt_run(&t, ST_T0 + 900);
    mt_dump(&t, "spot short");
    c = mt_count(&t);
    assert_int_equal(c.spot, 2);
    assert_int_equal(c.ondemand, 1);
    assert_int_equal(c.ready, 3);
    /* spot is back: the waiting spot replica runs, the on-demand one goes */
    st_set_price(&t.w, "gcp", "us-central1", "g2-standard-48", 4.00, 1.20);
    st_set_price(&t.w, "gcp", "europe-west4", "g2-standard-48", 4.40, 1.60);
    mt_run(&t, ST_T0 + 2400);
    mt_dump(&t, "spot back");
    c = mt_count(&t);
    assert_int_equal(c.spot, 3);
    assert_int_equal(c.ondemand, 0);
    assert_int_equal(c.ready, 3);
    mt_free(&t);
}

/* A replica that never answers its probe is replaced (past the delay). */
static void test_probe_failure_replaced(void **state)
{
    struct mt t;
    struct counts c;
    struct store_job j;
    struct err e;

    (void)state;
    mt_init(&t);
    mt_up(&t, "name: llm\nresources:\n  accelerators: L4:4\n  use_spot: false\n"
              "run: serve\nstratus:\n  duration: 30d\nservice:\n"
              "  readiness_probe:\n    path: /health\n    initial_delay_seconds: 120\n"
              "  replicas: 1\n");
    t.broken[t.nbroken++] = 1; /* the first replica's job id */
    mt_run(&t, ST_T0 + 600);
    c = mt_count(&t);
    assert_int_equal(c.live, 1);
    assert_int_equal(c.ready, 1);
    err_clear(&e);
    assert_int_equal(store_job_get(t.w.store, 1, &j, &e), 0);
    assert_int_equal(j.state, JOB_CANCELLED);
    store_job_clear(&j);
    mt_free(&t);
}

/* A rolling update: version 2 replicas come up while version 1 serves;
 * version 1 is stopped only once version 2 is ready; then `down`. */
static void test_update_and_down(void **state)
{
    struct mt t;
    struct store_service s;
    struct store_job *v = NULL;
    size_t n = 0, i;
    struct err e;
    const char *v1 = "name: llm\nresources:\n  accelerators: L4:4\n  use_spot: false\n"
                     "run: serve\nstratus:\n  duration: 30d\nservice:\n"
                     "  readiness_probe: /health\n  replicas: 2\n";
    const char *v2 = "name: llm\nresources:\n  accelerators: L4:4\n  use_spot: false\n"
                     "run: serve --v2\nstratus:\n  duration: 30d\nservice:\n"
                     "  readiness_probe: /health\n  replicas: 2\n";

    (void)state;
    mt_init(&t);
    mt_up(&t, v1);
    mt_run(&t, ST_T0 + 300);
    assert_int_equal(mt_count(&t).ready, 2);
    err_clear(&e);
    assert_int_equal(store_service_get(t.w.store, t.svc, &s, &e), 0);
    free(s.spec_text);
    s.spec_text = xstrdup(v2);
    s.version = 2;
    assert_int_equal(store_service_update(t.w.store, &s, &e), 0);
    mt_run(&t, ST_T0 + 310);
    /* v2 launching, v1 still serving */
    assert_int_equal(mt_count(&t).live, 4);
    assert_int_equal(mt_count(&t).ready, 2);
    assert_int_equal(svc_state(&t), SVC_UPDATING);
    mt_run(&t, ST_T0 + 600);
    assert_int_equal(store_replica_list(t.w.store, t.svc, 1, &v, &n, &e), 0);
    assert_int_equal(n, 2);
    for (i = 0; i < n; i++)
        assert_int_equal(v[i].svc_version, 2);
    store_jobs_free(v, n);
    assert_int_equal(svc_state(&t), SVC_READY);
    s.state = SVC_SHUTTING_DOWN;
    assert_int_equal(store_service_update(t.w.store, &s, &e), 0);
    store_service_clear(&s);
    mt_run(&t, ST_T0 + 700);
    assert_int_equal(mt_count(&t).live, 0);
    assert_int_equal(svc_state(&t), SVC_DOWN);
    mt_free(&t);
}

#define SPOT3_NO_FALLBACK                                                                \
    "name: llm\n"                                                                        \
    "resources:\n"                                                                       \
    "  accelerators: L4:4\n"                                                             \
    "  use_spot: true\n"                                                                 \
    "run: serve\n"                                                                       \
    "stratus:\n"                                                                         \
    "  duration: 30d\n"                                                                  \
    "service:\n"                                                                         \
    "  readiness_probe: /health\n"                                                       \
    "  replicas: 3\n"

/* A rolling update of spot replicas spread over both zones (no on-demand
 * fallback to lean on): the new version's replicas are not kept out of
 * the zones the old ones hold, which leave only once the new are ready. */
static void test_update_spot(void **state)
{
    struct mt t;
    struct store_service s;
    struct err e;

    (void)state;
    mt_init(&t);
    mt_up(&t, SPOT3_NO_FALLBACK);
    mt_run(&t, ST_T0 + 300);
    assert_int_equal(mt_count(&t).ready, 3);
    err_clear(&e);
    assert_int_equal(store_service_get(t.w.store, t.svc, &s, &e), 0);
    free(s.spec_text);
    s.spec_text = xstrdup(SPOT3_NO_FALLBACK "  ports: 8081\n");
    s.version = 2;
    assert_int_equal(store_service_update(t.w.store, &s, &e), 0);
    store_service_clear(&s);
    mt_run(&t, ST_T0 + 900);
    mt_dump(&t, "updated");
    assert_int_equal(mt_count(&t).live, 3);
    assert_int_equal(mt_count(&t).ready, 3);
    assert_int_equal(mt_count(&t).regions, 2);
    assert_int_equal(svc_state(&t), SVC_READY);
    mt_free(&t);
}

/* Load reported by routers scales the service up after the upscale delay
 * and back down after the downscale delay. */
static void test_autoscale_on_load(void **state)
{
    struct mt t;
    double at;

    (void)state;
    mt_init(&t);
    mt_up(&t, "name: llm\nresources:\n  accelerators: L4:4\n  use_spot: false\n"
              "run: serve\nstratus:\n  duration: 30d\nservice:\n"
              "  readiness_probe: /health\n  replica_policy:\n    min_replicas: 1\n"
              "    max_replicas: 4\n    target_qps_per_replica: 2\n"
              "    upscale_delay_seconds: 60\n    downscale_delay_seconds: 120\n");
    mt_run(&t, ST_T0 + 300);
    assert_int_equal(mt_count(&t).ready, 1);
    /* 7 req/s: 4 replicas wanted */
    for (at = ST_T0 + 300; at < ST_T0 + 600; at += 1) {
        mgr_load(t.m, t.svc, 7, 0, at);
        mt_run(&t, at + 1);
    }
    assert_int_equal(mt_count(&t).live, 4);
    assert_int_equal(mt_count(&t).ready, 4);
    /* quiet: back to the minimum */
    mt_run(&t, ST_T0 + 1200);
    assert_int_equal(mt_count(&t).live, 1);
    mt_free(&t);
}

/* Replicas that can never run (no such accelerator): the service FAILED
 * after a few, with the reason, instead of relaunching forever. */
static void test_gives_up(void **state)
{
    struct mt t;
    struct store_service s;
    struct store_job *v = NULL;
    size_t n = 0;
    struct err e;

    (void)state;
    mt_init(&t);
    mt_up(&t, "name: llm\nresources:\n  accelerators: B300:8\n"
              "run: serve\nservice:\n  readiness_probe: /health\n  replicas: 1\n");
    mt_run(&t, ST_T0 + 3600);
    err_clear(&e);
    assert_int_equal(store_service_get(t.w.store, t.svc, &s, &e), 0);
    assert_int_equal(s.state, SVC_FAILED);
    assert_non_null(strstr(s.reason, "B300"));
    store_service_clear(&s);
    assert_int_equal(store_replica_list(t.w.store, t.svc, 0, &v, &n, &e), 0);
    assert_true(n >= MGR_GIVE_UP && n <= MGR_GIVE_UP + 1);
    store_jobs_free(v, n);
    mt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spot_spread),
        cmocka_unit_test(test_ondemand_while_spot_short),
        cmocka_unit_test(test_probe_failure_replaced),
        cmocka_unit_test(test_update_and_down),
        cmocka_unit_test(test_update_spot),
        cmocka_unit_test(test_autoscale_on_load),
        cmocka_unit_test(test_gives_up),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
