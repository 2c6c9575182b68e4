/*
 * test_data.c - data gravity (src/sched/sched_data.c, docs/data.md): the
 * real controller in virtual time (schedtest.h) on a catalog with round
 * egress prices (tests/data/datagravity: azure -> anywhere $0.09/GB, gcp
 * between its regions $0.02/GB, storage $0.02/GB-month).
 *
 * L4 is sold only on GCP (us-central1 spot $1.20/h, europe-west4 $1.60/h), so
 * a job whose 1,000 GB of data live in azure/eastus always moves it.  The
 * faults are the cloud's: stockouts and preemptions injected into the world.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "api/apijson.h"
#include "plan/plan.h"
#include "schedtest.h"
#include "testutil.h"

#define DG_CATALOG TEST_DATA "/datagravity"
#define GB 1000.0

static const char *const OWN = "name: own\n"
                               "resources:\n"
                               "  accelerators: L4:4\n"
                               "  use_spot: true\n"
                               "run: train\n"
                               "stratus:\n"
                               "  duration: 4h\n"
                               "  checkpoint:\n"
                               "    interval: 10m\n"
                               "  data:\n"
                               "    location: azure/eastus\n"
                               "    size_gb: 1000\n";

static const char *const SHARED = "name: shared\n"
                                  "resources:\n"
                                  "  accelerators: L4:4\n"
                                  "  use_spot: true\n"
                                  "run: train\n"
                                  "stratus:\n"
                                  "  duration: 2h\n"
                                  "  data:\n"
                                  "    location: azure/eastus\n"
                                  "    size_gb: 1000\n"
                                  "    dataset: corpus\n";

static void dg_init(struct st *w, int gravity)
{
    struct st_opts o = {0};

    o.catalog = DG_CATALOG;
    st_init(w, &o);
    w->p.cfg.data_gravity = gravity;
}

/* Egress of the attempts of job that ran, in order, into v; their count. */
static size_t ran_egress(struct st *w, int64_t job, double *v, size_t max)
{
    struct store_attempt *a = NULL;
    size_t i, n = 0, k = 0;
    struct err e;

    err_clear(&e);
    if (store_attempt_list(w->store, job, &a, &n, &e) != 0)
        st_die("store_attempt_list", e.msg);
    for (i = 0; i < n && k < max; i++)
        if (a[i].running_at > 0)
            v[k++] = a[i].egress;
    store_attempts_free(a, n);
    return k;
}

static struct store_data_replica *replicas(struct st *w, const char *dataset, size_t *n)
{
    struct store_data_replica *v = NULL;
    struct err e;

    err_clear(&e);
    if (store_data_list(w->store, dataset, 0, &v, n, &e) != 0)
        st_die("store_data_list", e.msg);
    return v;
}

static const struct store_data_replica *find(const struct store_data_replica *v, size_t n,
                                             const char *cloud, const char *region)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(v[i].cloud, cloud) == 0 && strcmp(v[i].region, region) == 0)
            return &v[i];
    fail_msg("no copy in %s/%s", cloud, region);
    return NULL;
}

/* Runs until the job is RUNNING. */
static void run_running(struct st *w, int64_t job)
{
    assert_int_equal(st_run_until_state(w, job, JOB_RUNNING, w->t + 6 * 3600), 1);
}

/* The world just took the job's nodes: runs until it has recovered. */
static void run_recovered(struct st *w, int64_t job)
{
    assert_int_equal(st_run_until_state(w, job, JOB_RECOVERING, w->t + 3600), 1);
    run_running(w, job);
}

/* The region of the job's latest attempt. */
static void assert_last_region(struct st *w, int64_t job, const char *region)
{
    struct store_attempt a = st_attempt(w, job, (int)st_nattempts(w, job));

    assert_string_equal(a.region, region);
    store_attempt_clear(&a);
}

/* The cloud takes the job's region away twice; each recovery goes where the
 * data is cheapest to get, from the nearest copy, and never moves it twice
 * to one region.  Without data gravity every move starts at home again. */
static void scenario_failovers(struct st *w, double *eg, size_t *n)
{
    int64_t id = st_submit(w, OWN);

    st_start(w);
    run_running(w, id);
    st_run_to(w, w->t + 1800);
    st_inject(w, "stockout", "gcp/us-central1");
    st_inject(w, "preempt-job", "1");
    run_recovered(w, id);
    assert_last_region(w, id, "europe-west4");
    st_run_to(w, w->t + 3600); /* past the cooldown of the refused launch */
    st_inject(w, "stockout", "gcp/us-central1 0");
    st_inject(w, "stockout", "gcp/europe-west4");
    st_inject(w, "preempt-job", "1");
    run_recovered(w, id);
    assert_last_region(w, id, "us-central1");
    assert_int_equal(st_run_all(w, w->t + 86400), 1);
    assert_int_equal(st_job_state(w, id), JOB_SUCCEEDED);
    *n = ran_egress(w, id, eg, 8);
}

static void test_failover_moves_data_once_per_region(void **state)
{
    struct st w;
    double eg[8];
    size_t n, nr;
    struct store_data_replica *v;
    const struct store_data_replica *us, *eu;
    struct store_job j;

    (void)state;
    dg_init(&w, 1);
    scenario_failovers(&w, eg, &n);
    assert_int_equal(n, 3);
    assert_float_equal(eg[0], 0.09 * GB, 1e-6); /* azure/eastus -> gcp: home */
    assert_float_equal(eg[1], 0.02 * GB, 1e-6); /* from the us-central1 replica */
    assert_float_equal(eg[2], 0, 1e-9);         /* back where a replica is */
    v = replicas(&w, "job:1", &nr);
    assert_int_equal(nr, 2); /* two replicas; a job's own data has no home row */
    us = find(v, nr, "gcp", "us-central1");
    eu = find(v, nr, "gcp", "europe-west4");
    assert_string_equal(eu->src_cloud, "gcp");
    assert_string_equal(eu->src_region, "us-central1");
    assert_int_equal(us->in_use, 0);
    assert_int_equal(eu->in_use, 0);
    /* a job's own data is deleted when it ends, and billed until then */
    j = st_job(&w, 1);
    assert_float_equal(us->expired_at, j.ended_at, 1e-6);
    assert_float_equal(eu->expired_at, j.ended_at, 1e-6);
    {
        /* the listing finds the home from the first replica's source */
        json_t *ds = apijson_datasets(v, nr, j.ended_at), *home;

        assert_int_equal(json_array_size(ds), 1);
        home = json_object_get(json_array_get(ds, 0), "home");
        assert_string_equal(json_string_value(json_object_get(home, "cloud")), "azure");
        assert_string_equal(json_string_value(json_object_get(home, "region")), "eastus");
        assert_int_equal(json_array_size(json_object_get(json_array_get(ds, 0), "replicas")), 2);
        assert_float_equal(json_number_value(json_object_get(json_array_get(ds, 0), "egress_usd")),
                           0.11 * GB, 1e-6);
        json_decref(ds);
    }
    assert_float_equal(store_data_storage_cost(us, 0),
                       GB * 0.02 * (j.ended_at - us->created_at) / (730 * 3600.0), 1e-9);
    store_job_clear(&j);
    store_data_replicas_free(v, nr);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

static void test_without_gravity_each_move_is_from_home(void **state)
{
    struct st w;
    double eg[8];
    size_t n, nr;
    struct store_data_replica *v;

    (void)state;
    dg_init(&w, 0);
    scenario_failovers(&w, eg, &n);
    assert_int_equal(n, 3);
    assert_float_equal(eg[0], 0.09 * GB, 1e-6);
    assert_float_equal(eg[1], 0.09 * GB, 1e-6);
    assert_float_equal(eg[2], 0.09 * GB, 1e-6);
    v = replicas(&w, NULL, &nr);
    assert_int_equal(nr, 0);
    store_data_replicas_free(v, nr);
    st_free(&w);
}

/* Jobs naming one dataset share its replicas; one nobody used for the TTL
 * is deleted at last use + TTL, and billed until then. */
static void test_shared_dataset_and_ttl(void **state)
{
    struct st w;
    double eg[4];
    size_t nr;
    int64_t a, b;
    struct store_data_replica *v;
    const struct store_data_replica *r;
    double last;

    (void)state;
    dg_init(&w, 1);
    a = st_submit(&w, SHARED);
    st_start(&w);
    run_running(&w, a);
    b = st_submit(&w, SHARED);
    run_running(&w, b);
    v = replicas(&w, "corpus", &nr);
    assert_int_equal(nr, 2); /* recorded home and the us-central1 replica */
    assert_int_equal(find(v, nr, "gcp", "us-central1")->in_use, 2);
    assert_int_equal(find(v, nr, "azure", "eastus")->home, 1);
    store_data_replicas_free(v, nr);
    assert_int_equal(ran_egress(&w, a, eg, 4), 1);
    assert_float_equal(eg[0], 0.09 * GB, 1e-6);
    assert_int_equal(ran_egress(&w, b, eg, 4), 1);
    assert_float_equal(eg[0], 0, 1e-9); /* the replica a's attempt made */
    assert_int_equal(st_run_all(&w, w.t + 86400), 1);
    v = replicas(&w, "corpus", &nr);
    r = find(v, nr, "gcp", "us-central1");
    assert_int_equal(r->in_use, 0);
    assert_float_equal(r->expired_at, 0, 0); /* shared: kept after the jobs */
    last = r->last_used_at;
    {
        struct store_attempt ab = st_attempt(&w, b, 1);

        assert_float_equal(last, ab.ended_at, 1e-6);
        store_attempt_clear(&ab);
    }
    store_data_replicas_free(v, nr);
    st_run_to(&w, last + 6.5 * 86400);
    v = replicas(&w, "corpus", &nr);
    assert_float_equal(find(v, nr, "gcp", "us-central1")->expired_at, 0, 0);
    store_data_replicas_free(v, nr);
    /* deleted at its time (the controller wakes for it), not at an hourly
     * sweep up to an hour on, which dated it back after a report or the
     * spend counter had billed the copy past it (helper-102) */
    st_run_to(&w, last + 7 * 86400 + 1);
    v = replicas(&w, "corpus", &nr);
    r = find(v, nr, "gcp", "us-central1");
    assert_float_equal(r->expired_at, last + 7 * 86400, 1e-6);
    store_data_replicas_free(v, nr);
    st_run_to(&w, last + 8 * 86400);
    v = replicas(&w, "corpus", &nr);
    r = find(v, nr, "gcp", "us-central1");
    assert_float_equal(r->expired_at, last + 7 * 86400, 1e-6);
    assert_float_equal(find(v, nr, "azure", "eastus")->expired_at, 0, 0); /* home stays */
    store_data_replicas_free(v, nr);
    st_free(&w);
}

/* A replica of a shared dataset made again where one expired is a new copy:
 * the expired one stays on record with what it cost, so `data ls --all`
 * adds up to the attempts' egress.  On the in-memory store and on an SQLite
 * file, with a restart between (the controller reads the history back). */
static void remade_after_expiry(const char *store_path)
{
    struct st_opts o = {0};
    struct st w;
    double eg[4], sum = 0;
    size_t nr, i, at_uc = 0, live = 0;
    struct store_data_replica *v;
    json_t *ds;
    int64_t a, b;

    o.catalog = DG_CATALOG;
    o.store_path = store_path;
    st_init(&w, &o);
    w.p.cfg.data_gravity = 1;
    a = st_submit(&w, SHARED);
    st_start(&w);
    assert_int_equal(st_run_all(&w, w.t + 86400), 1);
    st_run_to(&w, w.t + 8 * 86400); /* past the TTL: the replica is deleted */
    st_restart(&w);
    b = st_submit(&w, SHARED);
    assert_int_equal(st_run_all(&w, w.t + 86400), 1);
    assert_int_equal(ran_egress(&w, a, eg, 4), 1);
    assert_float_equal(eg[0], 0.09 * GB, 1e-6);
    assert_int_equal(ran_egress(&w, b, eg, 4), 1);
    assert_float_equal(eg[0], 0.09 * GB, 1e-6); /* moved again: the copy was gone */
    v = replicas(&w, "corpus", &nr);
    for (i = 0; i < nr; i++) {
        if (strcmp(v[i].region, "us-central1") == 0)
            at_uc++, sum += v[i].egress;
        live += v[i].expired_at == 0;
    }
    assert_int_equal(at_uc, 2); /* the deleted copy and the new one */
    assert_int_equal(live, 2);  /* the home and the new copy */
    assert_float_equal(sum, 2 * 0.09 * GB, 1e-6);
    ds = apijson_datasets(v, nr, w.t);
    assert_float_equal(
        json_number_value(json_object_get(json_array_get(ds, 0), "egress_usd")),
        2 * 0.09 * GB, 1e-6);
    json_decref(ds);
    store_data_replicas_free(v, nr);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

static void test_replica_remade_after_expiry(void **state)
{
    char *dir = tu_mkdtemp(), *db = xasprintf("%s/stratus.db", dir);

    (void)state;
    remade_after_expiry("mem:");
    remade_after_expiry(db);
    tu_rmdir(dir);
    free(db);
    free(dir);
}

/* A job stored before stratus.data needed a size (its spec gives none) is
 * read again by a controller that restarts, and runs: the rule is for new
 * submits (spec_check_new), not for jobs a store already holds. */
static void test_unsized_stored_job_still_runs(void **state)
{
    static const char *const UNSIZED = "name: old\n"
                                       "resources:\n"
                                       "  accelerators: L4:4\n"
                                       "run: train\n"
                                       "stratus:\n"
                                       "  duration: 1h\n"
                                       "  data:\n"
                                       "    location: azure/eastus\n";
    struct st w;
    int64_t id;

    (void)state;
    dg_init(&w, 1);
    id = st_submit(&w, UNSIZED);
    st_start(&w);
    run_running(&w, id);
    st_restart(&w);
    assert_int_equal(st_run_all(&w, w.t + 86400), 1);
    assert_int_equal(st_job_state(&w, id), JOB_SUCCEEDED);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

/* Make the stored spec of job id one that no longer loads (a valid YAML
 * that a later version's rules refuse: here, a duration it cannot read). */
static void break_spec(struct st *w, int64_t id)
{
    struct store_job j = st_job(w, id);
    char *at = strstr(j.spec_text, "duration: ");
    struct err e;

    assert_non_null(at);
    memcpy(at, "duration: ?", 11);
    err_clear(&e);
    w->fault->paused = 1;
    assert_int_equal(store_job_update(w->store, &j, &e), 0);
    w->fault->paused = 0;
    store_job_clear(&j);
}

/* A running job whose spec no longer loads when the controller restarts
 * fails, and its attempt bills the data move it paid as any end does; its
 * own data's copy is deleted, and a shared dataset's copy let go (so that
 * it can expire), as the end of a job that loads does. */
static void test_unloadable_job_lets_its_data_go(void **state)
{
    struct st w;
    struct store_data_replica *v;
    struct store_attempt a;
    size_t nr;
    int64_t own, shared;

    (void)state;
    dg_init(&w, 1);
    own = st_submit(&w, OWN);
    shared = st_submit(&w, SHARED);
    st_start(&w);
    run_running(&w, own);
    run_running(&w, shared);
    st_kill(&w);
    break_spec(&w, own);
    break_spec(&w, shared);
    st_start(&w);
    st_run_to(&w, w.t + 60);
    assert_int_equal(st_job_state(&w, own), JOB_FAILED);
    assert_int_equal(st_job_state(&w, shared), JOB_FAILED);
    a = st_attempt(&w, own, 1);
    assert_float_equal(a.egress, 0.09 * GB, 1e-6);
    assert_true(a.cost >= a.egress); /* the move it paid is in its cost */
    store_attempt_clear(&a);
    v = replicas(&w, "job:1", &nr);
    assert_true(find(v, nr, "gcp", "us-central1")->expired_at > 0);
    store_data_replicas_free(v, nr);
    v = replicas(&w, "corpus", &nr);
    assert_int_equal(find(v, nr, "gcp", "us-central1")->in_use, 0);
    store_data_replicas_free(v, nr);
    st_run_to(&w, w.t + 8 * 86400); /* and the shared copy expires by its TTL */
    v = replicas(&w, "corpus", &nr);
    assert_true(find(v, nr, "gcp", "us-central1")->expired_at > 0);
    store_data_replicas_free(v, nr);
    st_free(&w);
}

/* A controller that restarts knows the replicas from the store: a failover
 * after the restart copies from the replica, not from home. */
static void test_restart_keeps_replicas(void **state)
{
    struct st w;
    double eg[8];
    size_t nr;
    int64_t id;
    struct store_data_replica *v;

    (void)state;
    dg_init(&w, 1);
    id = st_submit(&w, OWN);
    st_start(&w);
    run_running(&w, id);
    st_kill(&w);
    st_restart(&w);
    st_run_to(&w, w.t + 600);
    v = replicas(&w, "job:1", &nr);
    assert_int_equal(find(v, nr, "gcp", "us-central1")->in_use, 1);
    store_data_replicas_free(v, nr);
    st_inject(&w, "stockout", "gcp/us-central1");
    st_inject(&w, "preempt-job", "1");
    run_recovered(&w, id);
    assert_int_equal(ran_egress(&w, id, eg, 8), 2);
    assert_float_equal(eg[1], 0.02 * GB, 1e-6);
    assert_int_equal(w.violations, 0);
    st_free(&w);
}

/* The planner prices each candidate from the nearest copy, and keeping a new
 * replica for the run (and the TTL it is given) where none is. */
static void test_plan_prices_nearest_copy(void **state)
{
    struct catalog *cat = NULL;
    struct spec *sp = NULL;
    struct plan p;
    struct err e;
    const struct plan_copy copies[] = {{"gcp", "europe-west4"}};
    struct plan_opts o = {.now = ST_T0, .top = 0, .by_price = 0};
    size_t i;
    int seen = 0;

    (void)state;
    err_clear(&e);
    assert_int_equal(catalog_load(&cat, DG_CATALOG, &e), 0);
    assert_int_equal(spec_load_mem(&sp, "own.yaml", OWN, strlen(OWN), &e), 0);
    plan_init(&p);
    o.copies = copies;
    o.ncopies = 1;
    o.copy_keep_h = 24;
    assert_int_equal(plan_rank(&p, cat, sp, NULL, &o, &e), 0);
    for (i = 0; i < p.n; i++) {
        const struct offer *of = catalog_offer(cat, p.c[i].offer);

        if (strcmp(of->region, "europe-west4") == 0) {
            assert_float_equal(p.c[i].egress, 0, 1e-9);
            assert_float_equal(plan_cand_storage(&p.c[i]), 0, 1e-9);
            seen |= 1;
        } else if (strcmp(of->region, "us-central1") == 0) {
            assert_float_equal(p.c[i].egress, 0.02 * GB, 1e-9);
            assert_float_equal(plan_cand_storage(&p.c[i]), GB * 0.02 * (4 + 24) / 730.0, 1e-9);
            seen |= 2;
        }
    }
    assert_int_equal(seen, 3);
    /* without the copy: from home, and the replica kept for the run only */
    o.ncopies = 0;
    o.copy_keep_h = 0;
    assert_int_equal(plan_rank(&p, cat, sp, NULL, &o, &e), 0);
    for (i = 0; i < p.n; i++) {
        assert_float_equal(p.c[i].egress, 0.09 * GB, 1e-9);
        assert_float_equal(plan_cand_storage(&p.c[i]), GB * 0.02 * 4 / 730.0, 1e-9);
    }
    plan_free(&p);
    spec_free(sp);
    catalog_free(cat);
}

/* Bad names are refused with the line and what a name may hold. */
/* The text of the job's events of one type, joined. */
static char *event_text(struct st *w, int64_t job, const char *type)
{
    struct store_event *v = NULL;
    struct err e;
    size_t i, n = 0, len = 1;
    char *out;

    err_clear(&e);
    if (store_event_list(w->store, job, 0, 0, &v, &n, &e) != 0)
        st_die("store_event_list", e.msg);
    for (i = 0; i < n; i++)
        len += strlen(v[i].msg ? v[i].msg : "") + 1;
    out = calloc(1, len);
    for (i = 0; i < n; i++)
        if (strcmp(v[i].type, type) == 0 && v[i].msg) {
            strcat(out, v[i].msg);
            strcat(out, "\n");
        }
    store_events_free(v, n);
    return out;
}

/* With a free interconnect from azure/eastus to OCI, the data reaches GCP
 * cheapest by way of OCI ($0 + OCI's $0.01/GB) rather than by Azure's own
 * egress ($0.09/GB): the controller moves it that way, says so, and charges
 * that; the planner priced it so.  Without data gravity (the baselines'
 * mover) it goes directly and pays $0.09/GB. */
static void test_relay_through_interconnect(void **state)
{
    struct st w;
    struct st_opts o = {0};
    double eg[4];
    int64_t id;
    char *msg;
    int gravity;

    (void)state;
    for (gravity = 1; gravity >= 0; gravity--) {
        o.catalog = TEST_DATA "/datagravity-relay";
        st_init(&w, &o);
        w.p.cfg.data_gravity = gravity;
        id = st_submit(&w, OWN);
        st_start(&w);
        assert_int_equal(st_run_all(&w, w.t + 86400), 1);
        assert_int_equal(st_job_state(&w, id), JOB_SUCCEEDED);
        assert_int_equal(ran_egress(&w, id, eg, 4), 1);
        assert_last_region(&w, id, "us-central1");
        if (gravity) {
            assert_float_equal(eg[0], 0.01 * GB, 1e-6);
            msg = event_text(&w, id, "data");
            assert_non_null(strstr(msg, "copied to gcp/us-central1 from azure/eastus by way of "
                                        "oci/us-ashburn-1: $10.00"));
            free(msg);
        } else {
            assert_float_equal(eg[0], 0.09 * GB, 1e-6);
        }
        st_free(&w);
    }
}

/* Two servers on one store can both pass the server's dataset check before
 * either submits: the submit's own transaction refuses the second, at its
 * spec's data line, and stores nothing of it. */
static void test_conflicting_submit_refused_in_its_transaction(void **state)
{
    static const char other[] = "name: other\n"
                                "resources:\n"
                                "  accelerators: L4:4\n"
                                "run: train\n"
                                "stratus:\n"
                                "  duration: 2h\n"
                                "  data:\n"
                                "    location: gcp/us-central1\n"
                                "    size_gb: 5\n"
                                "    dataset: corpus\n";
    struct store_job *jobs = NULL;
    struct spec *sp = NULL;
    struct st w;
    struct err e;
    size_t n = 0;
    int64_t id = 0;

    (void)state;
    dg_init(&w, 1);
    st_submit(&w, SHARED);
    err_clear(&e);
    assert_int_equal(spec_load_mem(&sp, "other.yaml", other, strlen(other), &e), 0);
    assert_int_not_equal(
        sched_submit_parsed(w.store, "other.yaml", other, sp, NULL, w.t, &id, &e), 0);
    assert_non_null(strstr(e.msg, "other.yaml:8:"));
    assert_non_null(
        strstr(e.msg, "dataset 'corpus' has its home in azure/eastus (1000 GB), "
                      "as a waiting job or a service gave it before any job ran on it"));
    assert_non_null(strstr(e.msg, "cancel that job or take that service down"));
    err_clear(&e);
    assert_int_equal(store_job_list(w.store, 0, &jobs, &n, &e), 0);
    assert_int_equal(n, 1); /* the second submit's job was rolled back */
    store_jobs_free(jobs, n);
    spec_free(sp);
    st_free(&w);
}

/* Who holds a home nothing ran on: a live service naming the dataset, else
 * a job not ended that names it, however its spec spells the name (a YAML
 * escape here); a service's own replicas do not hold it against the
 * service (its update may move the home). */
static void test_home_holders(void **state)
{
    static const char svc[] = "name: svc\n"
                              "resources:\n"
                              "  accelerators: L4:4\n"
                              "run: serve\n"
                              "service:\n"
                              "  readiness_probe: /health\n"
                              "  replicas: 1\n"
                              "stratus:\n"
                              "  data:\n"
                              "    location: azure/eastus\n"
                              "    size_gb: 1000\n"
                              "    dataset: corpus\n";
    static const char escaped[] = "name: esc\n"
                                  "resources:\n"
                                  "  accelerators: L4:4\n"
                                  "run: train\n"
                                  "stratus:\n"
                                  "  data:\n"
                                  "    location: azure/eastus\n"
                                  "    size_gb: 10\n"
                                  "    dataset: \"\\u0078\\u0034\"\n"; /* x4 */
    struct store_service sv;
    struct store_job tmpl;
    struct data_holder h;
    struct spec *sp = NULL;
    struct st w;
    struct err e;
    char want[32];
    int64_t id = 0;

    (void)state;
    dg_init(&w, 1);
    err_clear(&e);
    memset(&sv, 0, sizeof(sv));
    sv.name = xstrdup("svc");
    sv.spec_text = xstrdup(svc);
    sv.version = 1;
    sv.team = xstrdup("research");
    assert_int_equal(store_service_insert(w.store, &sv, &e), 0);
    assert_int_equal(spec_load_mem(&sp, "svc.yaml", svc, strlen(svc), &e), 0);
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.service_id = sv.id;
    tmpl.svc_version = 1;
    assert_int_equal(
        sched_submit_replica(w.store, "svc.yaml", svc, sp, NULL, &tmpl, w.t, &id, &e), 0);
    assert_int_equal(sched_data_home_holder(w.store, "corpus", 0, &h), 1);
    assert_string_equal(h.who, "service 'svc'");
    assert_string_equal(h.fix, "`stratus serve down svc`");
    assert_string_equal(h.team, "research");
    assert_int_equal(sched_data_home_holder(w.store, "corpus", sv.id, &h), 0);
    spec_free(sp);
    store_service_clear(&sv);
    id = st_submit(&w, escaped);
    snprintf(want, sizeof(want), "job %lld", (long long)id);
    assert_int_equal(sched_data_home_holder(w.store, "x4", 0, &h), 1);
    assert_string_equal(h.who, want);
    st_free(&w);
}

/* A home nothing ran on and nothing holds (left by an older version, say)
 * does not keep its name: the next submit forgets it. */
/* cloud/region: where the orphan is; the submit gives azure/eastus, 1000 GB. */
static void orphan_scenario(const char *cloud, const char *region)
{
    struct store_data_replica r, *v;
    struct st w;
    struct err e;
    size_t n, i, live = 0;

    dg_init(&w, 1);
    memset(&r, 0, sizeof(r));
    r.dataset = xstrdup("corpus");
    r.cloud = xstrdup(cloud);
    r.region = xstrdup(region);
    r.src_cloud = xstrdup("");
    r.src_region = xstrdup("");
    r.home = 1;
    r.size_gb = 5;
    r.created_at = w.t;
    err_clear(&e);
    assert_int_equal(store_data_put(w.store, &r, &e), 0);
    store_data_replica_clear(&r);
    st_submit(&w, SHARED); /* azure/eastus, 1000 GB: accepted */
    v = replicas(&w, "corpus", &n);
    for (i = 0; i < n; i++) {
        assert_true(v[i].home);
        if (v[i].expired_at == 0) {
            live++;
            assert_string_equal(v[i].cloud, "azure");
            assert_float_equal(v[i].size_gb, 1000, 1e-9); /* the submit's */
        }
    }
    assert_int_equal(live, 1);
    store_data_replicas_free(v, n);
    st_free(&w);
}

static void test_orphan_home_forgotten_at_submit(void **state)
{
    (void)state;
    orphan_scenario("gcp", "us-central1"); /* elsewhere */
    orphan_scenario("azure", "eastus");    /* the same place, another size */
}

/* A job whose spec gives a home an update has since moved (a service's old
 * replica, placed before the manager retired it) runs on the dataset's
 * current data: at the live home with no move, else copied from there, and
 * no second home is recorded: one dataset, one home, copies of one data.
 * moved_to: the live home's GCP region; the job runs in us-central1 (L4's
 * cheaper region). */
static void moved_home_scenario(const char *moved_to, double want_egress)
{
    char region[32];
    struct store_data_replica r, *v;
    double eg[1];
    struct st w;
    struct err e;
    size_t n, i, homes = 0, copies = 0;
    int64_t id;

    dg_init(&w, 1);
    id = st_submit(&w, SHARED); /* records the home in azure/eastus */
    v = replicas(&w, "corpus", &n);
    assert_int_equal(n, 1);
    err_clear(&e);
    v[0].expired_at = w.t; /* ... which an update then moves */
    assert_int_equal(store_data_put(w.store, &v[0], &e), 0);
    r = v[0];
    r.cloud = (char *)"gcp"; /* borrowed: not freed through r */
    snprintf(region, sizeof(region), "%s", moved_to);
    r.region = region;
    r.expired_at = 0;
    assert_int_equal(store_data_put(w.store, &r, &e), 0);
    store_data_replicas_free(v, n);
    st_start(&w);
    run_running(&w, id);
    assert_last_region(&w, id, "us-central1");
    v = replicas(&w, "corpus", &n);
    for (i = 0; i < n; i++) {
        if (v[i].home && v[i].expired_at == 0) {
            homes++;
            assert_string_equal(v[i].cloud, "gcp");
            assert_string_equal(v[i].region, moved_to);
            assert_true(v[i].last_used_at > 0); /* a job ran on it: it stays */
        } else if (!v[i].home) {
            copies++; /* copied from the live home, not the spec's */
            assert_string_equal(v[i].src_cloud, "gcp");
            assert_string_equal(v[i].src_region, moved_to);
            assert_int_equal(v[i].in_use, 1);
        }
    }
    assert_int_equal(homes, 1);
    assert_int_equal(copies, want_egress > 0);
    store_data_replicas_free(v, n);
    assert_true(st_count_events(&w, id, "data", -1) >= 1);
    assert_int_equal(ran_egress(&w, id, eg, 1), 1);
    assert_float_equal(eg[0], want_egress, 1e-6);
    assert_int_equal(st_run_all(&w, w.t + 86400), 1);
    v = replicas(&w, "corpus", &n);
    for (i = 0; i < n; i++)
        assert_int_equal(v[i].in_use, 0); /* given back when the job ended */
    store_data_replicas_free(v, n);
    st_free(&w);
}

static void test_no_second_home_at_placement(void **state)
{
    (void)state;
    moved_home_scenario("us-central1", 0);          /* runs where the home is now */
    moved_home_scenario("europe-west4", 0.02 * GB); /* copied from there */
}

/* A job whose attempts all failed before running (its clouds were out of
 * capacity), then cancelled, leaves no home behind: nothing ran on it. */
static void test_home_forgotten_after_failed_attempts(void **state)
{
    struct store_data_replica *v;
    struct st w;
    size_t n;
    int64_t id;

    (void)state;
    dg_init(&w, 1);
    id = st_submit(&w, SHARED);
    st_start(&w);
    assert_int_equal(st_run_until_state(&w, id, JOB_PROVISIONING, w.t + 600), 1);
    st_inject(&w, "stockout", "gcp/us-central1"); /* L4's only places */
    st_inject(&w, "stockout", "gcp/europe-west4");
    assert_int_equal(st_inject(&w, "preempt-job", "1"), 0); /* before it ran */
    assert_int_equal(st_run_until_state(&w, id, JOB_PENDING, w.t + 600), 1);
    assert_int_equal(st_nattempts(&w, id), 1);
    v = replicas(&w, "corpus", &n);
    assert_int_equal(n, 1);
    assert_true(v[0].home && v[0].expired_at == 0); /* recorded at the submit */
    store_data_replicas_free(v, n);
    st_cancel(&w, id);
    assert_int_equal(st_run_until_state(&w, id, JOB_CANCELLED, w.t + 600), 1);
    v = replicas(&w, "corpus", &n);
    assert_int_equal(n, 1);
    assert_true(v[0].home && v[0].expired_at > 0);
    store_data_replicas_free(v, n);
    st_free(&w);
}

static void test_dataset_name_checked(void **state)
{
    static const char bad[] = "name: x\nresources:\n  accelerators: L4:4\nstratus:\n"
                              "  data:\n    location: azure/eastus\n    size_gb: 10\n"
                              "    dataset: ../etc\n";
    struct spec *sp = NULL;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_not_equal(spec_load_mem(&sp, "bad.yaml", bad, strlen(bad), &e), 0);
    assert_non_null(strstr(e.msg, "bad.yaml:8"));
    assert_non_null(strstr(e.msg, "stratus.data.dataset"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_moves_data_once_per_region),
        cmocka_unit_test(test_without_gravity_each_move_is_from_home),
        cmocka_unit_test(test_shared_dataset_and_ttl),
        cmocka_unit_test(test_replica_remade_after_expiry),
        cmocka_unit_test(test_unsized_stored_job_still_runs),
        cmocka_unit_test(test_unloadable_job_lets_its_data_go),
        cmocka_unit_test(test_restart_keeps_replicas),
        cmocka_unit_test(test_plan_prices_nearest_copy),
        cmocka_unit_test(test_relay_through_interconnect),
        cmocka_unit_test(test_conflicting_submit_refused_in_its_transaction),
        cmocka_unit_test(test_home_forgotten_after_failed_attempts),
        cmocka_unit_test(test_no_second_home_at_placement),
        cmocka_unit_test(test_orphan_home_forgotten_at_submit),
        cmocka_unit_test(test_home_holders),
        cmocka_unit_test(test_dataset_name_checked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
