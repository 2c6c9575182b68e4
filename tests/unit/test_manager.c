/*
 * test_manager.c - the replica manager (src/serve/manager.c) with the real
 * controller on the sim driver, in virtual time (schedtest.h): services as
 * sets of replica jobs, spread spot replicas, on-demand while spot is short
 * and back to spot after, replacement of replicas failing their probe,
 * rolling updates, `serve down`, autoscaling on reported load, and
 * placement near the users (on the bundled catalog and its RTTs).
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

/* A world from opts (NULL: the fixture) with a manager on it. */
static void mt_init_with(struct mt *t, const struct st_opts *opts)
{
    struct mgr_hooks h;
    struct err e;

    memset(t, 0, sizeof(*t));
    st_init(&t->w, opts);
    /* replicas serve until stopped: the world runs each job 30 days */
    for (size_t i = 0; i <= ST_MAX_JOBS; i++)
        t->w.jobs[i].duration_s = 30 * 86400.0;
    h = (struct mgr_hooks){t, probe, port, host, NULL, t->w.cat, NULL, 0};
    err_clear(&e);
    assert_int_equal(mgr_open(&t->m, t->w.store, &h, &e), 0);
    t->w.p.replica_may_use = mgr_replica_may_use;
    t->w.p.replica_event = mgr_replica_event;
    t->w.p.replica_ctx = t->m;
}

static void mt_init(struct mt *t)
{
    mt_init_with(t, NULL);
}

static void mt_free(struct mt *t)
{
    mgr_close(t->m);
    st_free(&t->w);
}

/* A service from yaml under policy (NULL: none), as `serve up` makes it. */
static int64_t mt_up_policy(struct mt *t, const char *yaml, const char *policy)
{
    struct store_service s;
    struct err e;

    memset(&s, 0, sizeof(s));
    s.name = xstrdup("llm");
    s.spec_path = xstrdup("llm.yaml");
    s.spec_text = xstrdup(yaml);
    s.policy_text = policy ? xstrdup(policy) : NULL;
    s.version = 1;
    s.state = SVC_STARTING;
    s.created_at = s.updated_at = t->w.t;
    err_clear(&e);
    assert_int_equal(store_service_insert(t->w.store, &s, &e), 0);
    t->svc = s.id;
    store_service_clear(&s);
    return t->svc;
}

static int64_t mt_up(struct mt *t, const char *yaml)
{
    return mt_up_policy(t, yaml, NULL);
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

/* ---- placement near the users (stratus: service: users, latency_slo_ms) ----
 *
 * The bundled catalog (catalog/, with its RTTs): A10:1 on demand sold by
 * azure in US regions only and by oci everywhere; the fleet has nodes in
 * azure/eastus and (FLEET_EU) in oci/eu-frankfurt-1.  The policy
 * puts inference on azure first, overflowing to oci: by price and policy
 * alone every replica goes to azure/eastus.  RTT(eastus, eu-frankfurt-1)
 * is about 90 ms.  (The fleet is given per test.) */

#define AZURE_FIRST                                                                      \
    "version: 1\n"                                                                       \
    "rules:\n"                                                                           \
    "  - name: inference-azure-first\n"                                                  \
    "    description: inference on azure first, overflowing to oci, then gcp\n"          \
    "    match: {kind: infer}\n"                                                         \
    "    allow: [azure]\n"                                                               \
    "    overflow: [oci, gcp]\n"                                                         \
    "    spot: forbid\n"

#define A10_SERVICE(stratus_service, replicas)                                           \
    "name: llm\n"                                                                        \
    "resources:\n"                                                                       \
    "  accelerators: A10:1\n"                                                            \
    "run: serve\n"                                                                       \
    "stratus:\n"                                                                         \
    "  duration: 30d\n" stratus_service "service:\n"                                     \
    "  readiness_probe: /health\n"                                                       \
    "  replicas: " replicas "\n"

#define TWO_CONTINENTS                                                                   \
    "  service:\n"                                                                       \
    "    users: {azure/eastus: 0.5, oci/eu-frankfurt-1: 0.5}\n"

#define FLEET_HEAD "location,instance_type,nodes,spot_nodes\n"
#define FLEET_US "azure/eastus,Standard_NV36ads_A10_v5,4,0\n"
#define FLEET_EU "oci/eu-frankfurt-1,VM.GPU.A10.1,4,0\n"

/* A world on the bundled catalog with fleet (CSV text); returns the
 * directory to pass to mt_free_near. */
static char *mt_init_near(struct mt *t, const char *fleet_csv)
{
    char *dir = tu_mkdtemp(), *fleet = xasprintf("%s/fleet.csv", dir);
    struct st_opts o;

    tu_write(dir, "fleet.csv", fleet_csv);
    memset(&o, 0, sizeof(o));
    o.catalog = SOURCE_DIR "/catalog";
    o.fleet = fleet;
    mt_init_with(t, &o);
    free(fleet);
    return dir;
}

static void mt_free_near(struct mt *t, char *dir)
{
    mt_free(t);
    tu_rmdir(dir);
    free(dir);
}

/* Running replicas of the service in "cloud/region". */
static int mt_where(struct mt *t, const char *loc)
{
    struct store_job *v = NULL;
    size_t n = 0, i;
    struct err e;
    int k = 0;

    err_clear(&e);
    assert_int_equal(store_replica_list(t->w.store, t->svc, 1, &v, &n, &e), 0);
    for (i = 0; i < n; i++) {
        struct store_attempt a;
        char here[128];

        if (v[i].state != JOB_RUNNING || v[i].cur_attempt == 0 ||
            store_attempt_get(t->w.store, v[i].cur_attempt, &a, &e) != 0)
            continue;
        snprintf(here, sizeof(here), "%s/%s", a.cloud, a.region);
        k += strcmp(here, loc) == 0;
        store_attempt_clear(&a);
    }
    store_jobs_free(v, n);
    return k;
}

/* Zones the service's running replicas are in. */
static int mt_zones(struct mt *t)
{
    struct store_job *v = NULL;
    char seen[8][48];
    size_t n = 0, i, k, ns = 0;
    struct err e;

    err_clear(&e);
    assert_int_equal(store_replica_list(t->w.store, t->svc, 1, &v, &n, &e), 0);
    for (i = 0; i < n; i++) {
        struct store_attempt a;

        if (v[i].state != JOB_RUNNING || v[i].cur_attempt == 0 ||
            store_attempt_get(t->w.store, v[i].cur_attempt, &a, &e) != 0)
            continue;
        for (k = 0; k < ns && strcmp(seen[k], a.zone) != 0; k++)
            ;
        if (k == ns && ns < 8)
            snprintf(seen[ns++], sizeof(seen[0]), "%s", a.zone);
        store_attempt_clear(&a);
    }
    store_jobs_free(v, n);
    return (int)ns;
}

static char *svc_reason(struct mt *t)
{
    struct store_service s;
    struct err e;
    char *r;

    err_clear(&e);
    assert_int_equal(store_service_get(t->w.store, t->svc, &s, &e), 0);
    r = xstrdup(s.reason ? s.reason : "");
    store_service_clear(&s);
    return r;
}

/* Users half in North America, half in Europe, within 40 ms (and with the
 * default SLO, the nearest location's RTT + MGR_NEAR_MARGIN_MS): one of
 * two replicas goes to Europe although the policy prefers azure, which
 * sells A10 only in the US. */
static void test_near_users(void **state)
{
    static const char *const specs[] = {
        A10_SERVICE(TWO_CONTINENTS "    latency_slo_ms: 40\n", "2"),
        A10_SERVICE(TWO_CONTINENTS, "2"),
    };
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        struct mt t;
        char *dir = mt_init_near(&t, FLEET_HEAD FLEET_US FLEET_EU);

        mt_up_policy(&t, specs[k], AZURE_FIRST);
        mt_run(&t, ST_T0 + 300);
        mt_dump(&t, "near users");
        assert_int_equal(mt_count(&t).ready, 2);
        assert_int_equal(mt_where(&t, "azure/eastus"), 1);
        assert_int_equal(mt_where(&t, "oci/eu-frankfurt-1"), 1);
        assert_int_equal(svc_state(&t), SVC_READY);
        mt_free_near(&t, dir);
    }
}

/* No location that sells the replica is within 10 ms of the users (the
 * nearest is ~25 ms away): placement goes by policy at once, and the
 * service's reason says why the users' region got no replica. */
static void test_near_slo_impossible(void **state)
{
    struct mt t;
    char *dir = mt_init_near(&t, FLEET_HEAD FLEET_US FLEET_EU), *why;

    (void)state;
    mt_up_policy(&t,
                 A10_SERVICE("  service:\n    users: {gcp/europe-west4: 1.0}\n"
                             "    latency_slo_ms: 10\n",
                             "2"),
                 AZURE_FIRST);
    mt_run(&t, ST_T0 + 300);
    mt_dump(&t, "slo impossible");
    assert_int_equal(mt_count(&t).ready, 2);
    assert_int_equal(mt_where(&t, "azure/eastus"), 2);
    why = svc_reason(&t);
    assert_non_null(strstr(why, "gcp/europe-west4"));
    free(why);
    mt_free_near(&t, dir);
}

/* Locations near the users exist but have no room: the replica owed to
 * them waits at most MGR_NEAR_WAIT_S, then goes where the policy says. */
static void test_near_full_waits_then_policy(void **state)
{
    struct mt t;
    char *dir = mt_init_near(&t, FLEET_HEAD FLEET_US);

    (void)state;
    mt_up_policy(&t, A10_SERVICE(TWO_CONTINENTS "    latency_slo_ms: 40\n", "2"), AZURE_FIRST);
    mt_run(&t, ST_T0 + 200);
    assert_int_equal(mt_count(&t).running, 1);
    assert_int_equal(mt_where(&t, "azure/eastus"), 1);
    mt_run(&t, ST_T0 + MGR_NEAR_WAIT_S + 300);
    mt_dump(&t, "near full");
    assert_int_equal(mt_count(&t).ready, 2);
    assert_int_equal(mt_where(&t, "azure/eastus"), 2);
    mt_free_near(&t, dir);
}

/* Spot replicas with users in Europe: all three go to gcp/europe-west4
 * (spot $1.83) rather than the cheaper us-central1 ($1.60), and the spot
 * spread still holds there (no zone takes more than 2). */
static void test_near_users_spot(void **state)
{
    struct mt t;
    char *dir = mt_init_near(&t, FLEET_HEAD "gcp/us-central1,g2-standard-48,64,64\n"
                                            "gcp/europe-west4,g2-standard-48,64,64\n");
    struct counts c;

    (void)state;
    mt_up(&t, "name: llm\nresources:\n  accelerators: L4:4\n  use_spot: true\nrun: serve\n"
              "stratus:\n  duration: 30d\n  service:\n    users: {gcp/europe-west4: 1.0}\n"
              "    latency_slo_ms: 40\nservice:\n  readiness_probe: /health\n  replicas: 3\n");
    mt_run(&t, ST_T0 + 300);
    mt_dump(&t, "near users spot");
    c = mt_count(&t);
    assert_int_equal(c.spot, 3);
    assert_int_equal(c.ready, 3);
    assert_int_equal(mt_where(&t, "gcp/europe-west4"), 3);
    assert_true(mt_zones(&t) >= 2);
    mt_free_near(&t, dir);
}

/* Without users: by policy and price, as ever (both in azure/eastus). */
static void test_near_no_users(void **state)
{
    struct mt t;
    char *dir = mt_init_near(&t, FLEET_HEAD FLEET_US FLEET_EU);

    (void)state;
    mt_up_policy(&t, A10_SERVICE("", "2"), AZURE_FIRST);
    mt_run(&t, ST_T0 + 300);
    assert_int_equal(mt_count(&t).ready, 2);
    assert_int_equal(mt_where(&t, "azure/eastus"), 2);
    mt_free_near(&t, dir);
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
        cmocka_unit_test(test_near_users),
        cmocka_unit_test(test_near_slo_impossible),
        cmocka_unit_test(test_near_full_waits_then_policy),
        cmocka_unit_test(test_near_users_spot),
        cmocka_unit_test(test_near_no_users),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
