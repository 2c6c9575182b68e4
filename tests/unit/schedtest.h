/*
 * schedtest.h - the real controller in virtual time, for unit tests
 * (test_sched.c, test_deadline.c, test_crashpoints.c).  Header-only.
 *
 * A `struct st` is one world and one controller:
 *  - a catalog (by default the fixture tests/data/sched/catalog: round
 *    prices, no preemption rate, so every preemption is one a test injects)
 *    and a fleet (tests/data/sched/fleet.csv: nodes per offer);
 *  - a virtual clock w->t that only the run functions move;
 *  - a store ("mem:" unless opts say otherwise) behind the fault wrapper
 *    (src/store/faultstore.h): w->fault counts writes and commits, fails
 *    one on request, and can kill the controller at a commit;
 *  - the `sim` driver behind a thin test driver that forwards every call and
 *    watches the world: which attempts started (w->att), whether one job
 *    ever had two attempts live at once (w->violations), launches made to
 *    fail with a cloud API error (st_fail_launches);
 *  - the controller (src/sched) on top, with sched_config_default() minus
 *    checkpoint directories (w->p.cfg may be changed before st_start()).
 * Set w->capacity_unknown to have the driver hide free capacity (a cloud
 * that only refuses at launch); st_survives() runs a scenario in a child
 * process, for controllers that may abort.
 *
 * Usage:
 *     struct st w;
 *     st_init(&w, NULL);              // world, store; controller not yet open
 *     int64_t id = st_submit(&w, "name: a\nresources: ...");
 *     st_start(&w);                   // sched_open
 *     st_run_until_state(&w, id, JOB_RUNNING, ST_T0 + 3600);
 *     st_inject(&w, "preempt-job", "1"); // the cloud acts (not the controller)
 *     st_run_all(&w, ST_T0 + 86400);  // until every job has ended
 *     ... assertions on st_job(), st_attempt(), w.violations ...
 *     st_free(&w);
 *
 * A controller "killed" (st_kill, or at a commit by st_kill_at_commit /
 * st_kill_when) loses all its memory at once: nothing it would still do
 * reaches the store or the world; the store and the world survive, and the
 * next step opens a new controller on them (sched_open) at the same time.
 *
 * Setup errors (a fixture that does not load, a spec that does not parse)
 * abort with a message: they are bugs of the test, not outcomes.
 */
#ifndef STRATUS_SCHEDTEST_H
#define STRATUS_SCHEDTEST_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "catalog/catalog.h"
#include "driver/driver.h"
#include "sched/sched.h"
#include "sim/sim.h"
#include "spec/spec.h"
#include "store/faultstore.h"
#include "store/store.h"
#include "util/xmem.h"

#define ST_MAX_JOBS 512        /* job ids a world can hold */
#define ST_T0 1790000000.0     /* virtual time at st_init (2026-09-21) */
#define ST_MAX_STEPS 2000000   /* a run that needs more is wedged */
#define ST_MAX_SAME_TIME 10000 /* ... as is one that many steps at one time */

/* What the world saw of one attempt (indexed by attempt id). */
struct st_att {
    int64_t job;
    int launches; /* launch calls that reached the world */
    int started;  /* the world took it (its first launch) */
    int live;     /* it holds nodes in the world now */
    int n;        /* attempt number within the job */
    int nodes;
    uint64_t exited;                          /* ranks whose exit the world reported */
    double launched_at, running_at, ended_at; /* world times; 0 = not yet */
    char where[80];                           /* cloud/region */
};

/* Launches at a location fail with an API error until a time. */
struct st_launch_fail {
    char loc[80];       /* "cloud/region" */
    int code;           /* ST_EIO: a regional API failing */
    double from, until; /* from 0 = from the start */
};

struct st_opts {
    const char *catalog;    /* directory; NULL = the sched fixture */
    const char *fleet;      /* fleet CSV; NULL = the sched fixture's */
    const char *store_path; /* NULL = "mem:" */
    double launch_delay_s;  /* 0 = 60 s from launch to RUNNING */
    uint64_t seed;          /* the sim driver's seed (0 = 42) */
};

struct st;
/* A predicate over the world, for the run functions and st_kill_when(). */
typedef int (*st_pred)(struct st *w, void *ctx);

struct st {
    struct catalog *cat;
    double t; /* the virtual clock */
    struct clock clock;
    long *od_cap, *spot_cap; /* per offer (copied by the sim driver at start) */
    struct sim_jobinfo jobs[ST_MAX_JOBS + 1]; /* by job id: what the sim runs */
    struct sim_world world;
    struct store *store;
    struct store_fault *fault; /* the store's fault wrapper */
    struct driver_config dcfg;
    struct driver drv;  /* the test driver (forwards to sim) */
    struct driver *sim; /* the sim driver inside it: the world itself */
    int drv_open;
    struct sched_params p; /* p.cfg may be changed before st_start() */
    struct sched *s;       /* NULL while no controller runs */

    struct st_att *att; /* by attempt id */
    size_t natt;
    struct st_launch_fail fails[8];
    size_t nfails;
    int capacity_unknown;     /* the driver tells no free capacity (-1), as
                                 a cloud that only refuses at launch */
    unsigned long violations; /* world invariants the controller broke */
    char violation[512];      /* the first one */

    /* killing the controller at a commit (see st_kill_at_commit) */
    uint64_t kill_k;   /* at this commit (absolute ordinal); 0 = no */
    int kill_after;    /* 0: just before it is stored, 1: just after */
    st_pred kill_pred; /* or at the first commit where this holds */
    void *kill_ctx;
    /* called after every commit that stored (the crash harness's checks) */
    void (*on_commit)(struct st *w, uint64_t k, void *ctx);
    void *on_commit_ctx;

    uint64_t steps, kills, step_errors;
    char last_error[ST_ERR_MSG_MAX];
    char envs[1024]; /* the last launch's envs as "K=V\n", "K=(secret)V\n"
                        for a secret's (driver_env.secret) */
};

/* ---- small helpers ---- */

static inline void st_die(const char *what, const char *msg)
{
    fprintf(stderr, "schedtest: %s: %s\n", what, msg);
    abort();
}

static inline double st_clock_now(void *ctx)
{
    return ((const struct st *)ctx)->t;
}

static inline void st_violation(struct st *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void st_violation(struct st *w, const char *fmt, ...)
{
    va_list ap;

    if (w->violations++ > 0)
        return;
    va_start(ap, fmt);
    vsnprintf(w->violation, sizeof(w->violation), fmt, ap);
    va_end(ap);
}

/* Write text as a commitments file and load it into cat: the rc, e filled. */
static inline int st_load_commitments(struct catalog *cat, const char *text,
                                      struct err *e)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/c.csv", dir);
    int rc;

    tu_write(dir, "c.csv", text);
    err_clear(e);
    rc = catalog_load_commitments(cat, path, e);
    tu_rmdir(dir);
    free(dir);
    free(path);
    return rc;
}

/* The world's catalog's commitments: text's rows (a test fails on an error). */
static inline void st_commit_text(struct st *w, const char *text)
{
    struct err e;

    if (st_load_commitments(w->cat, text, &e) != 0)
        fail_msg("%s", e.msg);
}

static inline struct st_att *st_att_at(struct st *w, int64_t id)
{
    size_t n = w->natt ? w->natt : 64;

    if (id <= 0)
        st_die("attempt", "attempt id <= 0");
    if ((size_t)id < w->natt)
        return &w->att[id];
    while (n <= (size_t)id)
        n *= 2;
    w->att = xrealloc(w->att, n * sizeof(*w->att));
    memset(w->att + w->natt, 0, (n - w->natt) * sizeof(*w->att));
    w->natt = n;
    return &w->att[id];
}

/* ---- the test driver: forwards to sim, watches the world ---- */

struct st_drv {
    struct driver inner;
    struct driver_config icfg;
    struct st *w;
};

static inline int st_dead(const struct st *w)
{
    return w->fault->dead;
}

static inline int st_drv_open(struct driver *d, const struct driver_config *cfg,
                              struct err *e)
{
    struct st_drv *p = d->priv;

    p->w = (struct st *)(uintptr_t)cfg->world;
    p->icfg = *cfg;
    p->icfg.world = &p->w->world;
    p->w->sim = &p->inner;
    return driver_open(&p->inner, &driver_sim, &p->icfg, e);
}

static inline void st_drv_close(struct driver *d)
{
    struct st_drv *p = d->priv;

    driver_close(&p->inner);
}

/* A launch an API failure refuses, or 0. */
static inline int st_launch_fault(struct st *w, const struct attempt *a, struct err *e)
{
    char loc[80];
    size_t i;

    snprintf(loc, sizeof(loc), "%s/%s", a->cloud, a->region);
    for (i = 0; i < w->nfails; i++)
        if (strcmp(w->fails[i].loc, loc) == 0 && w->t >= w->fails[i].from &&
            w->t < w->fails[i].until)
            return err_set(e, w->fails[i].code, "%s: cloud API error (injected)", loc);
    return 0;
}

/* The first launch of an attempt starts it: no other attempt of its job may
 * hold nodes in the world then. */
static inline void st_note_start(struct st *w, const struct attempt *a, struct st_att *r)
{
    size_t i;

    for (i = 1; i < w->natt; i++)
        if (w->att[i].live && w->att[i].job == a->job_id && (int64_t)i != a->id)
            st_violation(w,
                         "job %lld: attempt %lld started at t=%.0f while attempt %zu "
                         "still runs in the world",
                         (long long)a->job_id, (long long)a->id, w->t - ST_T0, i);
    r->job = a->job_id;
    r->n = a->n;
    r->started = 1;
    r->live = 1;
    r->nodes = a->nodes;
    r->launched_at = w->t;
    snprintf(r->where, sizeof(r->where), "%s/%s", a->cloud, a->region);
}

static inline int st_drv_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    struct st_drv *p = d->priv;
    struct st_att *r;
    int rc;

    if (st_dead(p->w))
        return 0; /* a dead controller reaches nothing */
    if ((rc = st_launch_fault(p->w, a, e)) != 0)
        return rc;
    r = st_att_at(p->w, a->id);
    r->launches++;
    p->w->envs[0] = '\0';
    for (size_t i = 0; i < a->nenvs; i++) {
        size_t len = strlen(p->w->envs);

        snprintf(p->w->envs + len, sizeof(p->w->envs) - len, "%s=%s%s\n", a->envs[i].key,
                 a->envs[i].secret ? "(secret)" : "", a->envs[i].value);
    }
    if (!r->started)
        st_note_start(p->w, a, r);
    else if (r->job != a->job_id || r->n != a->n)
        /* One id, two attempts: the world would take the second for a
         * repeat of the first and never run it. */
        st_violation(p->w,
                     "attempt id %lld launched for job %lld attempt %d, then for "
                     "job %lld attempt %d",
                     (long long)a->id, (long long)r->job, r->n, (long long)a->job_id,
                     a->n);
    return driver_launch(&p->inner, a, e);
}

static inline void st_att_end(struct st_att *r, double at)
{
    if (!r->live)
        return;
    r->live = 0;
    r->ended_at = at;
}

static inline void st_watch_event(struct st *w, const struct driver_event *ev)
{
    struct st_att *r = st_att_at(w, ev->attempt_id);

    switch (ev->type) {
    case DRV_EV_RUNNING:
        if (r->running_at == 0 && r->live)
            r->running_at = ev->at;
        break;
    case DRV_EV_EXITED:
        if (ev->node >= 0 && ev->node < 64)
            r->exited |= 1ULL << ev->node;
        if (r->nodes > 0 && r->nodes <= 64 &&
            r->exited == (r->nodes == 64 ? ~0ULL : (1ULL << r->nodes) - 1))
            st_att_end(r, ev->at);
        break;
    case DRV_EV_PREEMPT_NOTICE:
        break;
    case DRV_EV_PREEMPTED:
    case DRV_EV_CAPACITY:
    case DRV_EV_FAILED:
        st_att_end(r, ev->at);
        break;
    }
}

static inline int st_drv_poll(struct driver *d, struct driver_event *ev, size_t max,
                              struct err *e)
{
    struct st_drv *p = d->priv;
    int i, n;

    if (st_dead(p->w))
        return 0;
    n = driver_poll(&p->inner, ev, max, e);
    for (i = 0; i < n; i++)
        st_watch_event(p->w, &ev[i]);
    return n;
}

static inline int st_drv_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    struct st_drv *p = d->priv;

    struct st_att *r;

    if (st_dead(p->w) || attempt_id <= 0)
        return 0;
    r = st_att_at(p->w, attempt_id);
    if (!r->started)
        return 0; /* never reached the world (and sim.c's stop() would take
                     the unknown attempt's job 0 for a BUG) */
    st_att_end(r, p->w->t);
    return driver_terminate(&p->inner, attempt_id, e);
}

static inline int st_drv_inject(struct driver *d, const char *kind, const char *arg,
                                struct err *e)
{
    struct st_drv *p = d->priv;

    return st_dead(p->w) ? 0 : driver_inject(&p->inner, kind, arg, e);
}

static inline long st_drv_capacity(struct driver *d, const char *cloud,
                                   const char *region, const char *zone,
                                   const char *instance_type, int spot)
{
    struct st_drv *p = d->priv;

    if (p->w->capacity_unknown)
        return -1;
    return driver_capacity(&p->inner, cloud, region, zone, instance_type, spot);
}

static inline long st_drv_offer_capacity(struct driver *d, const struct offer *o,
                                         int spot)
{
    struct st_drv *p = d->priv;

    if (p->w->capacity_unknown)
        return -1;
    return driver_offer_capacity(&p->inner, o, spot);
}

static inline double st_drv_next(struct driver *d)
{
    struct st_drv *p = d->priv;

    return driver_next_event_in(&p->inner);
}

static inline void st_drv_rewind(struct driver *d)
{
    struct st_drv *p = d->priv;

    driver_rewind(&p->inner);
}

static const struct driver_ops st_driver_ops = {
    .name = "sim-test",
    .priv_size = sizeof(struct st_drv),
    .open = st_drv_open,
    .launch = st_drv_launch,
    .poll = st_drv_poll,
    .terminate = st_drv_terminate,
    .close = st_drv_close,
    .capacity_mode = st_drv_capacity,
    .offer_capacity = st_drv_offer_capacity,
    .inject = st_drv_inject,
    .next_event_in = st_drv_next,
    .rewind = st_drv_rewind,
};

/* ---- killing the controller at a commit ---- */

static inline void st_commit_hook(void *ctx, uint64_t k, int after, int rc)
{
    struct st *w = ctx;

    if (after && rc == 0 && w->on_commit)
        w->on_commit(w, k, w->on_commit_ctx);
    if (after != w->kill_after)
        return;
    if ((w->kill_k != 0 && k == w->kill_k) ||
        (w->kill_pred != NULL && w->kill_pred(w, w->kill_ctx))) {
        w->fault->dead = 1;
        w->kill_k = 0;
        w->kill_pred = NULL;
    }
}

/* Kill the controller at the k-th commit of the store (counted since
 * st_init, the test's own writes excluded): just before it is stored
 * (after = 0) or just after (after = 1). */
static inline void st_kill_at_commit(struct st *w, uint64_t k, int after)
{
    w->kill_k = k;
    w->kill_after = after;
}

/* Kill the controller at the first commit at which pred holds (evaluated
 * before the commit, on what the transaction wrote, when after = 0; on the
 * committed store when after = 1). */
static inline void st_kill_when(struct st *w, st_pred pred, void *ctx, int after)
{
    w->kill_pred = pred;
    w->kill_ctx = ctx;
    w->kill_after = after;
}

/* ---- setup ---- */

static inline void st_init(struct st *w, const struct st_opts *o)
{
    static const struct st_opts none;
    char *cat_dir, *fleet;
    struct err e;

    o = o ? o : &none;
    memset(w, 0, sizeof(*w));
    err_clear(&e);
    w->t = ST_T0;
    w->clock.now = st_clock_now;
    w->clock.ctx = w;
    cat_dir = o->catalog ? xstrdup(o->catalog) : xstrdup(TEST_DATA "/sched/catalog");
    fleet = o->fleet ? xstrdup(o->fleet) : xstrdup(TEST_DATA "/sched/fleet.csv");
    if (catalog_load(&w->cat, cat_dir, &e) != 0)
        st_die(cat_dir, e.msg);
    if (sim_load_fleet(w->cat, fleet, &w->od_cap, &w->spot_cap, &e) != 0)
        st_die(fleet, e.msg);
    free(cat_dir);
    free(fleet);
    if (store_open(&w->store, o->store_path ? o->store_path : "mem:", &e) != 0)
        st_die("store", e.msg);
    w->fault = store_fault_wrap(w->store);
    w->fault->on_commit = st_commit_hook;
    w->fault->ctx = w;
    w->world = (struct sim_world){
        w->cat,  w->od_cap,      w->spot_cap,
        NULL,    ST_T0,          o->launch_delay_s > 0 ? o->launch_delay_s : 60,
        w->jobs, ST_MAX_JOBS + 1, 0};
    w->dcfg.cat = w->cat;
    w->dcfg.clock = &w->clock;
    w->dcfg.seed = o->seed ? o->seed : 42;
    w->dcfg.world = w;
    w->p.store = w->store;
    w->p.driver = &w->drv;
    w->p.cat = w->cat;
    w->p.clock = &w->clock;
    sched_config_default(&w->p.cfg);
    w->p.cfg.ckpt_root = NULL; /* the sim world keeps checkpoints as numbers */
}

/* Offer index of (cloud, region, instance_type); aborts when there is none. */
static inline size_t st_offer(const struct st *w, const char *cloud, const char *region,
                              const char *instance_type)
{
    size_t i;

    for (i = 0; i < catalog_noffers(w->cat); i++) {
        const struct offer *of = catalog_offer(w->cat, i);

        if (strcmp(of->cloud, cloud) == 0 && strcmp(of->region, region) == 0 &&
            strcmp(of->instance_type, instance_type) == 0)
            return i;
    }
    st_die("st_offer: no such offer", instance_type);
    return 0;
}

/* Nodes the fleet has of one offer (before st_start: the sim driver copies
 * spot capacity when it opens). */
static inline void st_set_capacity(struct st *w, const char *cloud, const char *region,
                                   const char *instance_type, long od, long spot)
{
    size_t i = st_offer(w, cloud, region, instance_type);

    if (w->drv_open)
        st_die("st_set_capacity", "call it before st_start()");
    w->od_cap[i] = od;
    w->spot_cap[i] = spot;
}

/* Change an offer's prices now (< 0 = not sold that way): the controller
 * reprices live attempts at its next step. */
static inline void st_set_price(struct st *w, const char *cloud, const char *region,
                                const char *instance_type, double od, double spot)
{
    catalog_set_price(w->cat, st_offer(w, cloud, region, instance_type), od, spot);
}

/* Launches at "cloud/region" fail with `code` (a cloud API error) until
 * virtual time `until` (set fails[i].from for a window that starts later). */
static inline void st_fail_launches(struct st *w, const char *loc, int code, double until)
{
    struct st_launch_fail *f;

    if (w->nfails >= sizeof(w->fails) / sizeof(w->fails[0]))
        st_die("st_fail_launches", "too many");
    f = &w->fails[w->nfails++];
    snprintf(f->loc, sizeof(f->loc), "%s", loc);
    f->code = code;
    f->from = 0;
    f->until = until;
}

/* The controller died in the middle of something: the database drops its
 * open transaction, a new driver instance hands out again what the last
 * poll returned. */
static inline void st_bury(struct st *w)
{
    store_fault_reset(w->store);
    driver_rewind(w->sim);
    w->kills++;
}

/* Open the world's driver (once) and a controller on the store.  An open
 * killed at a commit, or failed by an injected store fault, is tried again
 * (as the daemon is started again). */
static inline void st_start(struct st *w)
{
    struct err e;
    int tries;

    err_clear(&e);
    if (!w->drv_open && driver_open(&w->drv, &st_driver_ops, &w->dcfg, &e) != 0)
        st_die("driver", e.msg);
    w->drv_open = 1;
    for (tries = 0; w->s == NULL && tries < 100; tries++) {
        uint64_t failed = w->fault->failed;

        err_clear(&e);
        if (sched_open(&w->s, &w->p, &e) == 0)
            return;
        w->s = NULL;
        if (st_dead(w))
            st_bury(w);
        else if (w->fault->failed == failed)
            st_die("sched_open", e.msg);
    }
    if (w->s == NULL)
        st_die("sched_open", "fails again and again");
}

/* The controller dies between steps: its memory is gone; a new driver
 * instance would hand out again what the last poll returned, so the world
 * does.  The next st_start() (or st_restart) opens a new one. */
static inline void st_kill(struct st *w)
{
    sched_close(w->s);
    w->s = NULL;
    if (w->drv_open)
        driver_rewind(w->sim);
    w->kills++;
}

static inline void st_restart(struct st *w)
{
    st_kill(w);
    st_start(w);
}

static inline void st_free(struct st *w)
{
    sched_close(w->s);
    if (w->drv_open)
        driver_close(&w->drv);
    store_close(w->store);
    catalog_free(w->cat);
    free(w->od_cap);
    free(w->spot_cap);
    free(w->att);
    memset(w, 0, sizeof(*w));
}

/* ---- jobs and requests (as the command line files them) ---- */

/* The world's record of job id, submitted from sp (freed): the sim runs it
 * for its stratus.duration, saving work at its checkpoint interval. */
static inline int64_t st_submitted(struct st *w, int64_t id, struct spec *sp)
{
    if (id <= 0 || id > ST_MAX_JOBS)
        st_die("st_submit", "job id out of the world's range");
    w->jobs[id].duration_s = sp->duration_s;
    w->jobs[id].ckpt_s = sp->ckpt_interval_s;
    w->jobs[id].restore_s = sp->ckpt_restore_s;
    w->jobs[id].infer = sp->kind == SPEC_KIND_INFER; /* work on the first alternative */
    {
        double r0, n0;

        catalog_speed_parts(w->cat, sp->res[0].accelerator, sp->res[0].acc_count,
                            sp->res[0].acc_part, w->jobs[id].infer, &r0, &n0);
        w->jobs[id].ref_chip = r0;
        w->jobs[id].ref_n = (float)n0;
    }
    spec_free(sp);
    if (w->s)
        sched_poke(w->s);
    return id;
}

/* Submit a spec (YAML text) with an optional policy (YAML text or NULL) now;
 * returns the job id.  The sim runs it for its stratus.duration, saving
 * work at its checkpoint interval. */
static inline int64_t st_submit_policy(struct st *w, const char *yaml, const char *policy)
{
    struct spec *sp = NULL;
    struct err e;
    int64_t id = 0;
    int rc;

    err_clear(&e);
    if (policy != NULL) {
        w->fault->paused = 1;
        rc = sched_submit(w->store, "test.yaml", yaml, policy, w->t, &id, &e);
        w->fault->paused = 0;
        if (rc != 0)
            st_die("sched_submit", e.msg);
    }
    if (spec_load_mem(&sp, "test.yaml", yaml, strlen(yaml), &e) != 0)
        st_die("spec", e.msg);
    if (policy == NULL) {
        w->fault->paused = 1;
        rc = sched_submit_parsed(w->store, "test.yaml", yaml, sp, NULL, w->t, &id, &e);
        w->fault->paused = 0;
        if (rc != 0)
            st_die("sched_submit", e.msg);
    }
    return st_submitted(w, id, sp);
}

static inline int64_t st_submit(struct st *w, const char *yaml)
{
    return st_submit_policy(w, yaml, NULL);
}

/* Submit yaml as the server does once it has filled in what the text does
 * not say: the job row takes its team and name from sp (the caller's one
 * team, a pipeline stage's name), the store keeps the text as written. */
static inline int64_t st_submit_as(struct st *w, const char *yaml, const char *team,
                                   const char *name, const char *policy)
{
    struct spec *sp = NULL;
    struct err e;
    int64_t id = 0;
    int rc;

    err_clear(&e);
    if (spec_load_mem(&sp, "test.yaml", yaml, strlen(yaml), &e) != 0)
        st_die("spec", e.msg);
    if (team != NULL) {
        free(sp->team);
        sp->team = xstrdup(team);
    }
    if (name != NULL) {
        free(sp->name);
        sp->name = xstrdup(name);
    }
    w->fault->paused = 1;
    rc = sched_submit_parsed(w->store, "test.yaml", yaml, sp, policy, w->t, &id, &e);
    w->fault->paused = 0;
    if (rc != 0)
        st_die("sched_submit", e.msg);
    return st_submitted(w, id, sp);
}

/* File a request as the command line does ("cancel", "preempt-job", ...). */
static inline void st_request(struct st *w, const char *kind, const char *arg)
{
    struct err e;
    int rc;

    err_clear(&e);
    w->fault->paused = 1;
    rc = store_request_add(w->store, kind, arg, w->t, NULL, &e);
    w->fault->paused = 0;
    if (rc != 0)
        st_die("store_request_add", e.msg);
    if (w->s)
        sched_poke(w->s);
}

static inline void st_cancel(struct st *w, int64_t id)
{
    char arg[32];

    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    st_request(w, "cancel", arg);
}

/* The world acts by itself now ("preempt-job" ID, "preempt-location"
 * cloud/region, "stockout" "cloud/region SECONDS"): the cloud, not the
 * controller.  Returns the driver's answer (ST_ENOTFOUND: nothing ran). */
static inline int st_inject(struct st *w, const char *kind, const char *arg)
{
    struct err e;

    err_clear(&e);
    return driver_inject(w->sim, kind, arg, &e);
}

/* ---- running ---- */

/* One controller step at the current time; returns when the controller
 * wants the next one (seconds).  A controller killed during the step is
 * replaced by a new one on the same store and world. */
static inline double st_step(struct st *w)
{
    double next = 1.0;
    struct err e;
    int rc;

    if (w->s == NULL)
        st_start(w);
    err_clear(&e);
    rc = sched_step(w->s, &next, &e);
    w->steps++;
    if (st_dead(w)) {
        sched_close(w->s);
        w->s = NULL;
        st_bury(w);
        st_start(w);
        return 0;
    }
    if (rc != 0) {
        /* As the daemon: log and go on, the store is the truth. */
        w->step_errors++;
        snprintf(w->last_error, sizeof(w->last_error), "%s", e.msg);
        return 1.0;
    }
    return next;
}

/* Step until pred holds (checked after each step) or the clock would pass
 * t_max; 1 when it held.  The clock stays at the step where it held. */
static inline int st_run_until(struct st *w, st_pred pred, void *ctx, double t_max)
{
    uint64_t n, same = 0;

    for (n = 0; n < ST_MAX_STEPS; n++) {
        double next = st_step(w), t = w->t;

        if (pred != NULL && pred(w, ctx))
            return 1;
        if (w->t >= t_max)
            return 0;
        w->t = w->t + next < t_max ? w->t + next : t_max;
        same = w->t > t ? 0 : same + 1;
        if (same > ST_MAX_SAME_TIME) {
            snprintf(w->last_error, sizeof(w->last_error),
                     "%d steps at t=%.0f without time moving on", ST_MAX_SAME_TIME,
                     t - ST_T0);
            return 0; /* a controller that always has more to do now is wedged */
        }
    }
    return 0;
}

/* Step through every wake-up up to and including time t; the clock ends at t. */
static inline void st_run_to(struct st *w, double t)
{
    st_run_until(w, NULL, NULL, t);
}

static inline int st_job_state(struct st *w, int64_t id)
{
    struct store_job j;
    struct err e;
    int s;

    err_clear(&e);
    if (store_job_get(w->store, id, &j, &e) != 0)
        return -1;
    s = j.state;
    store_job_clear(&j);
    return s;
}

/* 1 when no job of the store is active. */
static inline int st_all_ended(struct st *w, void *ctx)
{
    struct store_job *v = NULL;
    struct err e;
    size_t n = 0;

    (void)ctx;
    err_clear(&e);
    if (store_job_list(w->store, 1, &v, &n, &e) != 0)
        return 0;
    store_jobs_free(v, n);
    return n == 0;
}

/* Run until every job has ended; 0 when some had not by t_max. */
static inline int st_run_all(struct st *w, double t_max)
{
    return st_all_ended(w, NULL) || st_run_until(w, st_all_ended, NULL, t_max);
}

struct st_state_want {
    int64_t job;
    int state;
};

static inline int st_has_state(struct st *w, void *ctx)
{
    const struct st_state_want *want = ctx;

    return st_job_state(w, want->job) == want->state;
}

/* Run until job `id` is in `state`; 0 when it was not by t_max. */
static inline int st_run_until_state(struct st *w, int64_t id, int state, double t_max)
{
    struct st_state_want want = {id, state};

    return st_has_state(w, &want) || st_run_until(w, st_has_state, &want, t_max);
}

/* ---- reading the outcome (records owned by the caller) ---- */

static inline struct store_job st_job(struct st *w, int64_t id)
{
    struct store_job j;
    struct err e;

    err_clear(&e);
    if (store_job_get(w->store, id, &j, &e) != 0)
        st_die("store_job_get", e.msg);
    return j;
}

/* Number of attempts of a job in the store. */
static inline size_t st_nattempts(struct st *w, int64_t job)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t n = 0;

    err_clear(&e);
    if (store_attempt_list(w->store, job, &v, &n, &e) != 0)
        st_die("store_attempt_list", e.msg);
    store_attempts_free(v, n);
    return n;
}

/* Attempt number n (from 1) of a job; aborts when there is none. */
static inline struct store_attempt st_attempt(struct st *w, int64_t job, int n)
{
    struct store_attempt *v = NULL, a;
    struct err e;
    size_t i, cnt = 0;

    err_clear(&e);
    memset(&a, 0, sizeof(a));
    if (store_attempt_list(w->store, job, &v, &cnt, &e) != 0)
        st_die("store_attempt_list", e.msg);
    for (i = 0; i < cnt; i++)
        if (v[i].n == n) {
            a = v[i];
            memset(&v[i], 0, sizeof(v[i]));
        }
    store_attempts_free(v, cnt);
    if (a.id == 0)
        st_die("st_attempt", "no such attempt");
    return a;
}

/* Events of a job of one type (NULL = any) ending in state `to` (-1 = any). */
static inline size_t st_count_events(struct st *w, int64_t job, const char *type, int to)
{
    struct store_event *v = NULL;
    struct err e;
    size_t i, n = 0, k = 0;

    err_clear(&e);
    if (store_event_list(w->store, job, 0, 0, &v, &n, &e) != 0)
        st_die("store_event_list", e.msg);
    for (i = 0; i < n; i++)
        k += (type == NULL || strcmp(v[i].type, type) == 0) &&
             (to < 0 || v[i].to_state == to);
    store_events_free(v, n);
    return k;
}

/* Transitions of a job into a terminal state (exactly 1 once it ended). */
static inline size_t st_terminal_events(struct st *w, int64_t job)
{
    return st_count_events(w, job, "state", JOB_SUCCEEDED) +
           st_count_events(w, job, "state", JOB_FAILED) +
           st_count_events(w, job, "state", JOB_CANCELLED);
}

/* USD for nodes x seconds at price $/node-hour (how a bill is computed by hand). */
static inline double st_usd(double price_hour, int nodes, double seconds)
{
    return price_hour * nodes * seconds / 3600.0;
}

/* What the world ran of an attempt, at price_hour: from its RUNNING to its
 * end (or now). */
static inline double st_world_cost(struct st *w, int64_t attempt_id, double price_hour)
{
    const struct st_att *r = st_att_at(w, attempt_id);
    double end = r->live ? w->t : r->ended_at;

    if (r->running_at <= 0 || end <= r->running_at)
        return 0;
    return st_usd(price_hour, r->nodes, end - r->running_at);
}

/* ---- surviving a scenario ---- */

/* Run scenario(w) on a fresh world in a child process and report whether
 * the controller survived it (a BUG_ON aborts the whole process, which
 * would end the test binary): 1 when the child finished, else 0 with the
 * cause in why.  The scenario must not use the test framework's asserts;
 * run it again in the test process to check its outcome (it is
 * deterministic). */
static inline int st_survives(void (*scenario)(struct st *w), char *why, size_t n)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        st_die("fork", "failed");
    if (pid == 0) {
        struct st w;

        scenario(&w);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid)
        st_die("waitpid", "failed");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 1;
    if (WIFSIGNALED(status))
        snprintf(why, n, "the controller died of signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGABRT ? " (SIGABRT: a BUG_ON or a sanitizer)"
                                             : "");
    else
        snprintf(why, n, "the scenario exited with status %d", WEXITSTATUS(status));
    return 0;
}

#endif
