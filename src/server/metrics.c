/*
 * metrics.c - the server's metrics in the Prometheus text exposition format
 * 0.0.4 (# HELP and # TYPE before each family; histograms as cumulative
 * _bucket{le} series ending at le="+Inf", then _sum and _count).
 *
 * Two kinds of series:
 *   - fed as things happen, in O(1) each: API requests by route and status
 *     with a latency histogram per route, controller steps (histogram) and
 *     driver errors.  Routes are found by the pointer of their label (api.h:
 *     api_resp.route is a static string) in an open-addressing table; a
 *     pointer not seen before is compared by text once, so two copies of
 *     one literal still make one series.  Statuses index a fixed array.
 *   - read when /metrics is scraped: jobs by state, placements (attempts) by
 *     cloud/region/mode, spend by cloud, and attempts a driver failed to
 *     launch or lost (by the driver instance the configuration binds their
 *     location to, added to the driver errors fed) from the store;
 *     transitions from the scheduler; controller counters, up and start
 *     time from struct srv.
 *
 * Cost of a scrape: terminal jobs and ended attempts never change again
 * (the scheduler refuses a transition out of a terminal state, and writes an
 * attempt's final cost when it ends it), so their counts and sums are kept
 * between scrapes with the ids that were still live.  A scrape reads the
 * records created since the last one (a page at a time), the active jobs
 * and live attempts (one list each), and one record per job or attempt
 * that ended since: O(active + new + newly ended), not O(all history).  A
 * scrape that meets an attempt which moved data also reads every copy of data
 * once (sched_copies_load), to count the move in the cloud the data left.
 * The keeping of data copies is one aggregate in the store at each scrape
 * (store_data_storage: a scan of the copies in the database, no list).
 * The time that took is exported as stratus_metrics_store_read_seconds.
 *
 * Layout: histograms; the route table; the store aggregates; rendering.
 */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../catalog/catalog.h"
#include "../driver/multi.h"
#include "../plan/plan.h"
#include "../policy/org.h"
#include "../sched/sched.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/hmap.h"
#include "../util/xmem.h"
#include "server.h"

#ifndef STRATUS_VERSION
#define STRATUS_VERSION "dev"
#endif

/* Upper bounds of the latency buckets, seconds: an API read is expected in
 * tens of microseconds to a few milliseconds, a controller step in
 * milliseconds to seconds; one set covers both. */
static const double bucket_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                   0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                   1,      2.5,     5,      10};
#define NBUCKET (sizeof(bucket_le) / sizeof(bucket_le[0]))

/* Statuses counted per route: 100..599 (anything else counts as 599). */
#define STATUS_MIN 100
#define NSTATUS 500

/* Records read from the store per page while scraping. */
#define PAGE 512

struct hist {
    uint64_t n[NBUCKET + 1]; /* per bucket, not cumulative; [NBUCKET] = +Inf */
    double sum;
    uint64_t count;
};

struct route {
    char *name; /* the label (a copy) */
    struct hist h;
    uint64_t by_status[NSTATUS];
};

struct route_slot {
    const char *key; /* a pointer seen as a route label; NULL = empty */
    uint32_t idx;    /* into routes */
};

struct drv_err {
    char *name;
    uint64_t n;
};

/* The series read from attempts: placements by (cloud, region, mode),
 * spend by cloud, and attempts a driver failed or lost by driver. */
enum agg_kind { AGG_PLACE, AGG_SPEND, AGG_DRVERR, AGG__N };

struct agg {
    const char *k0, *k1, *k2; /* interned label values: cloud, region, mode;
                                 cloud; driver (unused ones NULL) */
    double v;
};

struct agg_set {
    struct keymap map; /* key -> index into v */
    struct agg *v;
    size_t n, cap;
};

struct ids {
    int64_t *v; /* sorted */
    size_t n, cap;
};

/* A live attempt's data move by the clouds that bill it, kept between
 * scrapes so that the copies are read again only for new moves. */
struct egress_memo {
    int64_t id;
    double usd; /* the move it was split for */
    size_t np;
    struct sched_egress_part p[SCHED_EGRESS_HOPS];
};

struct memos {
    struct egress_memo *v; /* sorted by id */
    size_t n, cap;
};

/* What the final records (terminal jobs, ended attempts) add up to, kept
 * between scrapes; reset when the store or the driver binding changes, or
 * when a scrape failed half-way. */
struct final_cache {
    char store_id[STORE_ID_LEN + 1];
    int64_t job_after;           /* jobs with id <= this have been seen */
    uint64_t jobs[JOB__NSTATES]; /* terminal jobs among them */
    struct ids live_jobs;        /* those that were not terminal yet */
    int64_t att_after;           /* the same for attempts */
    struct ids live_atts;
    struct memos moves; /* the live attempts' data moves, split */
    struct strpool pool;
    struct agg_set agg[AGG__N];
    const void *world; /* the driver binding the errors were sorted by */
};

/* The most each cloud's spend counter has said for a store: a counter
 * that goes down reads as a reset to Prometheus (rate() then counts all of
 * it again), and a live attempt's spend read at one instant can stand a
 * little above what it is once a lower price is committed from the step's
 * clock (a scrape on another process, or with its own clock, between the
 * two).  Kept across scrapes, also when one fails; a new store starts
 * afresh. */
struct spend_high {
    char store_id[STORE_ID_LEN + 1];
    struct {
        char *cloud;
        double v;
    } * v;
    size_t n, cap;
};

struct metrics {
    struct route *routes;
    size_t nroutes, routes_cap;
    struct route_slot *slots; /* power-of-two table by pointer */
    size_t slots_cap, nslots;
    struct hist step;
    uint64_t steps, step_failures; /* as fed by metrics_step */
    struct drv_err *drv;
    size_t ndrv, drv_cap;
    uint64_t trans_base, trans_last; /* transitions of schedulers before a reopen */
    struct final_cache fin;
    struct spend_high high;
};

/* ---- histograms ---- */

static void hist_observe(struct hist *h, double v)
{
    size_t lo = 0, hi = NBUCKET;

    if (!(v >= 0)) /* negative (a clock step) or NaN */
        v = 0;
    while (lo < hi) { /* first bucket with v <= le */
        size_t mid = (lo + hi) / 2;

        if (v <= bucket_le[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    h->n[lo]++;
    h->sum += v;
    h->count++;
}

/* ---- routes by pointer ---- */

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;

    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (size_t)x;
}

static void slot_put(struct metrics *m, const char *key, uint32_t idx)
{
    size_t i = ptr_hash(key) & (m->slots_cap - 1);

    while (m->slots[i].key != NULL)
        i = (i + 1) & (m->slots_cap - 1);
    m->slots[i].key = key;
    m->slots[i].idx = idx;
    m->nslots++;
}

static void slots_grow(struct metrics *m)
{
    struct route_slot *old = m->slots;
    size_t i, cap = m->slots_cap;

    m->slots_cap = cap ? cap * 2 : 64;
    m->slots = xcalloc(m->slots_cap, sizeof(*m->slots));
    m->nslots = 0;
    for (i = 0; i < cap; i++)
        if (old[i].key != NULL)
            slot_put(m, old[i].key, old[i].idx);
    free(old);
}

/* The route series for label `name`, made on first sight.  A new pointer is
 * compared by text with the routes known (once per pointer: it is then in
 * the table). */
static struct route *route_get(struct metrics *m, const char *name)
{
    size_t i = ptr_hash(name) & (m->slots_cap - 1);
    uint32_t idx;

    for (; m->slots[i].key != NULL; i = (i + 1) & (m->slots_cap - 1))
        if (m->slots[i].key == name)
            return &m->routes[m->slots[i].idx];
    for (idx = 0; idx < m->nroutes; idx++)
        if (strcmp(m->routes[idx].name, name) == 0)
            break;
    if (idx == m->nroutes) {
        m->routes = xgrow(m->routes, &m->routes_cap, m->nroutes + 1, sizeof(*m->routes));
        memset(&m->routes[idx], 0, sizeof(m->routes[idx]));
        m->routes[idx].name = xstrdup(name);
        m->nroutes++;
    }
    if (2 * (m->nslots + 1) > m->slots_cap)
        slots_grow(m);
    slot_put(m, name, idx);
    return &m->routes[idx];
}

/* ---- the public feed ---- */

/* A new, empty set of metrics. */
struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof(*m));

    slots_grow(m);
    return m; /* the final cache is zeroed: a valid empty one */
}

static void final_cache_free(struct final_cache *f)
{
    int k;

    strpool_free(&f->pool);
    free(f->live_jobs.v);
    free(f->live_atts.v);
    free(f->moves.v);
    for (k = 0; k < AGG__N; k++) {
        keymap_free(&f->agg[k].map);
        free(f->agg[k].v);
    }
}

static void spend_high_clear(struct spend_high *h)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        free(h->v[i].cloud);
    h->n = 0;
}

/* Free m and everything it holds (NULL is fine). */
void metrics_free(struct metrics *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nroutes; i++)
        free(m->routes[i].name);
    free(m->routes);
    free(m->slots);
    for (i = 0; i < m->ndrv; i++)
        free(m->drv[i].name);
    free(m->drv);
    final_cache_free(&m->fin);
    spend_high_clear(&m->high);
    free(m->high.v);
    free(m);
}

/* Count one answered request of `route` (a static label) with its status and
 * latency. */
void metrics_api(struct metrics *m, const char *route, int status, double seconds)
{
    struct route *r;

    if (m == NULL)
        return;
    r = route_get(m, route ? route : "unmatched");
    /* The HTTP layer only sends 1xx..5xx; keep anything else visible. */
    if (status < STATUS_MIN || status >= STATUS_MIN + NSTATUS)
        status = STATUS_MIN + NSTATUS - 1;
    r->by_status[status - STATUS_MIN]++;
    hist_observe(&r->h, seconds);
}

/* Count one controller step (ok = 0: it failed) and its duration. */
void metrics_step(struct metrics *m, double seconds, int ok)
{
    if (m == NULL)
        return;
    hist_observe(&m->step, seconds);
    m->steps++;
    m->step_failures += !ok;
}

/* Count one failed driver call; drivers are few and errors rare, so the
 * lookup by name is a short scan. */
void metrics_driver_error(struct metrics *m, const char *driver)
{
    size_t i;

    if (m == NULL)
        return;
    if (driver == NULL)
        driver = "unknown";
    for (i = 0; i < m->ndrv; i++)
        if (strcmp(m->drv[i].name, driver) == 0)
            break;
    if (i == m->ndrv) {
        m->drv = xgrow(m->drv, &m->drv_cap, m->ndrv + 1, sizeof(*m->drv));
        m->drv[i].name = xstrdup(driver);
        m->drv[i].n = 0;
        m->ndrv++;
    }
    m->drv[i].n++;
}

/* ---- aggregates read from the store ---- */

/* Add v to the series (k0, k1, k2) of kind (NULL parts unused). */
static void agg_add(struct final_cache *f, int kind, const char *k0, const char *k1,
                    const char *k2, double v)
{
    struct agg_set *g = &f->agg[kind];
    const char *c0 = strpool_intern(&f->pool, k0 ? k0 : "");
    const char *c1 = k1 ? strpool_intern(&f->pool, k1) : NULL;
    const char *c2 = k2 ? strpool_intern(&f->pool, k2) : NULL;
    uint32_t idx = (uint32_t)g->n;

    if (keymap_put(&g->map, c0, c1, c2, NULL, &idx) == 0) {
        g->v = xgrow(g->v, &g->cap, g->n + 1, sizeof(*g->v));
        g->v[idx] = (struct agg){c0, c1, c2, 0};
        g->n++;
    }
    g->v[idx].v += v;
}

/* The driver instance the server binds a's location to, or NULL (no
 * server configuration: a bare srv in tests). */
static const char *driver_of(const struct srv *s, const struct store_attempt *a)
{
    const struct multi_world *w = s->conf ? s->dcfg.world : NULL;
    int i = w ? multi_world_child(w, a->cloud, a->region, a->zone) : -1;

    return i >= 0 ? w->children[i].name : NULL;
}

/* What one scrape reads of attempts: the server, its clock, the live
 * attempts' moves split at the last scrape (old) and at this one (next),
 * and the copies of data, read once when a move is not in old. */
struct scan {
    struct srv *s;
    double now;
    const struct memos *old;
    struct memos next;
    struct sched_copies copies;
    int copies_read; /* 1 read, -1 the read failed */
};

static int memo_cmp(const void *a, const void *b)
{
    const struct egress_memo *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* Attempt a's data move `usd` by the clouds that bill it into p (their
 * number in *np): as the last scrape split it, else from the copies
 * (sched_attempt_egress, as `stratus cost --by cloud` counts it).  A live
 * attempt's split is kept for the next scrape.  -1: the copies could not
 * be read. */
static int split_move(struct scan *x, const struct store_attempt *a, double usd,
                      struct sched_egress_part *p, size_t *np, struct err *e)
{
    struct egress_memo key, *m = NULL;

    key.id = a->id;
    if (x->old->n > 0)
        m = bsearch(&key, x->old->v, x->old->n, sizeof(*m), memo_cmp);
    if (m != NULL && m->usd == usd) {
        *np = m->np;
        memcpy(p, m->p, m->np * sizeof(*p));
    } else {
        if (x->copies_read == 0)
            x->copies_read = sched_copies_load(x->s->st, &x->copies, e) == 0 ? 1 : -1;
        if (x->copies_read < 0)
            return -1;
        *np = sched_attempt_egress(x->s->cat, x->copies_read > 0 ? &x->copies : NULL, a,
                                   usd, NULL, p);
    }
    if (a->state != ATT_ENDED) {
        x->next.v = xgrow(x->next.v, &x->next.cap, x->next.n + 1, sizeof(*x->next.v));
        m = &x->next.v[x->next.n++];
        m->id = a->id;
        m->usd = usd;
        m->np = *np;
        memcpy(m->p, p, *np * sizeof(*p));
    }
    return 0;
}

/* A spend of attempt a by the clouds that bill it: its data move to the
 * clouds the data left, the rest to a's cloud.  -1: the copies could not
 * be read. */
static int agg_spend(struct final_cache *f, struct scan *x, const struct store_attempt *a,
                     struct err *e)
{
    /* an ended attempt's cost is all of it; a live one's grows until now */
    double usd = store_attempt_spent_at(a, x->now);
    struct sched_egress_part p[SCHED_EGRESS_HOPS];
    size_t np = 0, i;

    if (a->running_at > 0 && a->egress > 0 && split_move(x, a, a->egress, p, &np, e) != 0)
        return -1;
    for (i = 0; i < np; i++) {
        agg_add(f, AGG_SPEND, p[i].cloud, NULL, NULL, p[i].usd);
        usd -= p[i].usd;
    }
    agg_add(f, AGG_SPEND, a->cloud, NULL, NULL, usd);
    return 0;
}

static int agg_attempt(struct final_cache *f, struct scan *x,
                       const struct store_attempt *a, struct err *e)
{
    agg_add(f, AGG_PLACE, a->cloud, a->region, plan_mode_name(a->mode), 1);
    if (agg_spend(f, x, a, e) != 0)
        return -1;
    if (a->state == ATT_ENDED &&
        (a->end_reason == ATT_END_FAILED || a->end_reason == ATT_END_LOST)) {
        const char *d = driver_of(x->s, a);

        agg_add(f, AGG_DRVERR, d ? d : "unbound", NULL, NULL, 1);
    }
    return 0;
}

/* A snapshot for one scrape: the final records' cache plus what is live. */
struct scrape {
    uint64_t jobs[JOB__NSTATES];
    struct final_cache live; /* aggregates of the live attempts */
    struct final_cache all;  /* the final ones' and live's merged */
    double read_s;           /* time spent reading the store */
    double now;              /* when it was read */
    int ok;                  /* the store answered */
};

static void final_reset(struct final_cache *f, const char *id, const void *world)
{
    final_cache_free(f);
    memset(f, 0, sizeof(*f));
    snprintf(f->store_id, sizeof(f->store_id), "%s", id);
    f->world = world;
}

/* Ids, kept sorted (they are pushed in increasing order, or sorted). */
static void ids_push(struct ids *x, int64_t id)
{
    x->v = xgrow(x->v, &x->cap, x->n + 1, sizeof(*x->v));
    x->v[x->n++] = id;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void ids_sort(struct ids *x)
{
    if (x->n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(x->v, x->n, sizeof(*x->v), id_cmp);
}

static int ids_has(const struct ids *x, int64_t id)
{
    return x->n > 0 && bsearch(&id, x->v, x->n, sizeof(*x->v), id_cmp) != NULL;
}

/* The final cache's set of live ids becomes `keep` (taken over). */
static void ids_replace(struct ids *x, struct ids *keep)
{
    free(x->v);
    *x = *keep;
    memset(keep, 0, sizeof(*keep));
}

static int job_state_of(const struct store_job *j)
{
    return j->state >= 0 && j->state < JOB__NSTATES ? j->state : 0;
}

/* Jobs created since the last scrape (id > job_after): the terminal ones
 * are final; the others are in the active list that follows. */
static int new_jobs(struct final_cache *f, struct store *st, struct err *e)
{
    for (;;) {
        struct store_job *v = NULL;
        size_t n = 0, i;
        struct store_job_scan q = {0, 0, f->job_after, PAGE, 1}; /* no specs: not read */
        int rc = store_job_scan(st, &q, &v, &n, e);

        if (rc != 0)
            return rc;
        for (i = 0; i < n; i++) {
            if (job_state_terminal(job_state_of(&v[i])))
                f->jobs[job_state_of(&v[i])]++;
            f->job_after = v[i].id;
        }
        store_jobs_free(v, n);
        if (n < PAGE)
            return 0;
    }
}

/* A job live at the last scrape and not any more: it has ended (final). */
static int ended_job(struct final_cache *f, struct store *st, int64_t id, struct err *e)
{
    struct store_job j;
    int rc = store_job_get(st, id, &j, e);

    if (rc == ST_ENOTFOUND) /* gone from the store: nothing to count */
        return 0;
    if (rc == 0 && job_state_terminal(job_state_of(&j)))
        f->jobs[job_state_of(&j)]++;
    if (rc == 0)
        store_job_clear(&j);
    return rc;
}

/* Jobs by state: the final counts kept, updated with the jobs created or
 * ended since the last scrape; the active jobs counted afresh into live. */
static int scan_jobs(struct final_cache *f, struct store *st, uint64_t *live,
                     struct err *e)
{
    struct store_job *act = NULL;
    struct ids now = {0}, keep = {0};
    size_t nact = 0, i;
    int rc = new_jobs(f, st, e);

    if (rc == 0)
        rc = store_job_list(st, 1, &act, &nact, e);
    for (i = 0; rc == 0 && i < nact; i++) {
        live[job_state_of(&act[i])]++;
        ids_push(&now, act[i].id);
        /* one created after new_jobs read (none: one thread) waits for the next */
        if (act[i].id <= f->job_after)
            ids_push(&keep, act[i].id);
    }
    ids_sort(&now);
    for (i = 0; rc == 0 && i < f->live_jobs.n; i++)
        if (!ids_has(&now, f->live_jobs.v[i]))
            rc = ended_job(f, st, f->live_jobs.v[i], e);
    ids_sort(&keep);
    ids_replace(&f->live_jobs, &keep);
    free(now.v);
    store_jobs_free(act, nact);
    return rc;
}

/* Attempts created since the last scrape: the ended ones are final. */
static int new_attempts(struct final_cache *f, struct scan *x, struct err *e)
{
    for (;;) {
        struct store_attempt *v = NULL;
        size_t n = 0, i;
        int rc = store_attempt_page(x->s->st, f->att_after, PAGE, &v, &n, e);

        for (i = 0; rc == 0 && i < n; i++) {
            if (v[i].state == ATT_ENDED)
                rc = agg_attempt(f, x, &v[i], e);
            f->att_after = v[i].id;
        }
        store_attempts_free(v, n);
        if (rc != 0 || n < PAGE)
            return rc;
    }
}

static int ended_attempt(struct final_cache *f, struct scan *x, int64_t id, struct err *e)
{
    struct store_attempt a;
    int rc = store_attempt_get(x->s->st, id, &a, e);

    if (rc == ST_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (a.state == ATT_ENDED)
        rc = agg_attempt(f, x, &a, e);
    store_attempt_clear(&a);
    return rc;
}

/* Attempts as jobs: the ended ones' series kept and updated, the live
 * ones' (store_attempt_list(0): every attempt not ended) into live. */
static int scan_attempts(struct final_cache *f, struct final_cache *live, struct scan *x,
                         struct err *e)
{
    struct store_attempt *act = NULL;
    struct ids ids = {0}, keep = {0};
    size_t nact = 0, i;
    int rc = new_attempts(f, x, e);

    if (rc == 0)
        rc = store_attempt_list(x->s->st, 0, &act, &nact, e);
    for (i = 0; rc == 0 && i < nact; i++) {
        rc = agg_attempt(live, x, &act[i], e);
        ids_push(&ids, act[i].id);
        if (act[i].id <= f->att_after)
            ids_push(&keep, act[i].id);
    }
    ids_sort(&ids);
    for (i = 0; rc == 0 && i < f->live_atts.n; i++)
        if (!ids_has(&ids, f->live_atts.v[i]))
            rc = ended_attempt(f, x, f->live_atts.v[i], e);
    ids_sort(&keep);
    ids_replace(&f->live_atts, &keep);
    free(ids.v);
    store_attempts_free(act, nact);
    return rc;
}

/* The keeping of data copies, as the report counts it (api_cost.c,
 * add_storage: store_data_storage_cost of each copy a job made, in the
 * copy's cloud) to now: one aggregate in the store at each scrape, into the
 * series read afresh, so that a copy made and deleted between two scrapes
 * is in it. */
static int scan_copies(struct final_cache *live, struct scan *x, struct err *e)
{
    struct store_cost_row *v = NULL;
    size_t n = 0, i;
    int rc = store_data_storage(x->s->st, x->now, &v, &n, e);

    for (i = 0; rc == 0 && i < n; i++)
        agg_add(live, AGG_SPEND, v[i].key, NULL, NULL, v[i].usd);
    store_cost_rows_free(v, n);
    return rc;
}

/* The cached final records and the live ones as one set of series (a
 * series per key: a location with ended and running attempts is one line). */
static void merge_aggs(struct final_cache *all, const struct final_cache *f,
                       const struct final_cache *g)
{
    const struct final_cache *src[2] = {f, g};
    size_t i;
    int j, k;

    for (j = 0; j < 2; j++)
        for (k = 0; k < AGG__N; k++)
            for (i = 0; i < src[j]->agg[k].n; i++) {
                const struct agg *a = &src[j]->agg[k].v[i];

                agg_add(all, k, a->k0, a->k1, a->k2, a->v);
            }
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each cloud's spend as at least the most said before for store `id`. */
static void spend_monotone(struct spend_high *h, const char *id, struct agg_set *g)
{
    size_t i, k;

    if (strcmp(h->store_id, id) != 0) {
        spend_high_clear(h);
        snprintf(h->store_id, sizeof(h->store_id), "%s", id);
    }
    for (i = 0; i < g->n; i++) {
        for (k = 0; k < h->n && strcmp(h->v[k].cloud, g->v[i].k0) != 0; k++)
            ;
        if (k == h->n) {
            h->v = xgrow(h->v, &h->cap, h->n + 1, sizeof(*h->v));
            h->v[k].cloud = xstrdup(g->v[i].k0);
            h->v[h->n++].v = g->v[i].v;
        }
        if (g->v[i].v < h->v[k].v)
            g->v[i].v = h->v[k].v;
        h->v[k].v = g->v[i].v;
    }
}

static void scrape_store(struct metrics *m, struct srv *s, struct scrape *sc)
{
    struct scan x = {0};
    struct err e;
    double t0 = mono_now();
    const char *id;

    memset(sc, 0, sizeof(*sc));
    if (s == NULL || s->st == NULL)
        return;
    id = store_id(s->st);
    /* a new store, or a new binding of locations to drivers: start over */
    if (strcmp(id, m->fin.store_id) != 0 || s->dcfg.world != m->fin.world)
        final_reset(&m->fin, id, s->dcfg.world);
    sc->now =
        clock_now(&clock_wall); /* as the API's reports read it, to the microsecond */
    x.s = s;
    x.now = sc->now;
    x.old = &m->fin.moves;
    sc->ok = scan_jobs(&m->fin, s->st, sc->jobs, &e) == 0 &&
             scan_attempts(&m->fin, &sc->live, &x, &e) == 0 &&
             scan_copies(&sc->live, &x, &e) == 0;
    sched_copies_free(&x.copies);
    if (x.next.n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(x.next.v, x.next.n, sizeof(*x.next.v), memo_cmp);
    free(m->fin.moves.v); /* on a failure, final_reset below empties it */
    m->fin.moves = x.next;
    if (sc->ok) {
        merge_aggs(&sc->all, &m->fin, &sc->live);
        spend_monotone(&m->high, id, &sc->all.agg[AGG_SPEND]);
    } else /* half-updated: start over next time; this scrape omits the series */
        final_reset(&m->fin, "", NULL);
    sc->read_s = mono_now() - t0;
}

/* ---- rendering ---- */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format wants (\\, \", \n). */
static void label_value(struct buf *b, const char *v)
{
    buf_add(b, "\"", 1);
    for (; *v; v++) {
        if (*v == '\\')
            buf_puts(b, "\\\\");
        else if (*v == '"')
            buf_puts(b, "\\\"");
        else if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_add(b, v, 1);
    }
    buf_add(b, "\"", 1);
}

/* Floats as Prometheus reads them (Go's ParseFloat: +Inf, NaN, decimal). */
static void num(struct buf *b, double v)
{
    if (isnan(v))
        buf_puts(b, "NaN");
    else if (isinf(v))
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else { /* the shortest of 15 or 17 digits that reads back as v */
        char t[32];

        snprintf(t, sizeof(t), "%.15g", v);
        if (strtod(t, NULL) != v)
            snprintf(t, sizeof(t), "%.17g", v);
        buf_puts(b, t);
    }
}

/* name{labels,le="..."} lines of h, then _sum and _count; labels is "" or
 * a rendered `k="v",` list (with the trailing comma). */
static void hist_render(struct buf *b, const char *name, const char *labels,
                        const struct hist *h)
{
    uint64_t cum = 0;
    size_t i, k = strlen(labels);

    for (i = 0; i < NBUCKET; i++) {
        cum += h->n[i];
        buf_printf(b, "%s_bucket{%sle=\"", name, labels);
        num(b, bucket_le[i]);
        buf_printf(b, "\"} %" PRIu64 "\n", cum);
    }
    cum += h->n[NBUCKET];
    buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
    /* _sum/_count take the same labels without the trailing comma */
    buf_printf(b, "%s_sum", name);
    if (k > 0)
        buf_printf(b, "{%.*s}", (int)(k - 1), labels);
    buf_puts(b, " ");
    num(b, h->sum);
    buf_printf(b, "\n%s_count", name);
    if (k > 0)
        buf_printf(b, "{%.*s}", (int)(k - 1), labels);
    buf_printf(b, " %" PRIu64 "\n", h->count);
}

static void render_process(struct buf *b, struct srv *s)
{
    family(b, "stratus_up", "gauge", "1 when the server answers.");
    buf_puts(b, "stratus_up 1\n");
    family(b, "stratus_build_info", "gauge", "The server's version, as a label.");
    buf_puts(b, "stratus_build_info{version=");
    label_value(b, STRATUS_VERSION);
    buf_puts(b, "} 1\n");
    if (s == NULL)
        return;
    family(b, "stratus_start_time_seconds", "gauge",
           "When the server started, seconds since the Unix epoch.");
    buf_puts(b, "stratus_start_time_seconds ");
    num(b, s->started_at);
    buf_puts(b, "\n");
    if (!s->shared)
        return;
    family(b, "stratus_leader", "gauge",
           "1 while this server holds the store's lease and runs the controller.");
    buf_printf(b, "stratus_leader %d\n", srv_leads(s));
    family(b, "stratus_leader_terms_total", "counter", "Times this server became the leader.");
    buf_printf(b, "stratus_leader_terms_total %" PRIu64 "\n", s->leader_terms);
    family(b, "stratus_lease_epoch", "gauge", "The lease's epoch as last seen.");
    buf_printf(b, "stratus_lease_epoch %lld\n", (long long)s->lease.epoch);
    family(b, "stratus_lease_age_seconds", "gauge",
           "Seconds since the lease's holder renewed it, at the last look (every lease/4).");
    buf_puts(b, "stratus_lease_age_seconds ");
    num(b, s->lease.age);
    buf_puts(b, "\n");
    family(b, "stratus_store_up", "gauge", "1 when the last look at the store's lease worked.");
    buf_printf(b, "stratus_store_up %d\n", s->db_error[0] ? 0 : 1);
}

static void render_jobs(struct buf *b, const struct metrics *m, const struct scrape *sc)
{
    int i;

    if (!sc->ok)
        return;
    family(b, "stratus_jobs", "gauge", "Jobs in the store by state.");
    for (i = 0; i < JOB__NSTATES; i++) {
        buf_puts(b, "stratus_jobs{state=");
        label_value(b, job_state_name(i));
        buf_printf(b, "} %" PRIu64 "\n", m->fin.jobs[i] + sc->jobs[i]);
    }
}

/* Transitions of the schedulers this server has run: a reopened scheduler
 * counts from 0 again, so what the last one had counted is carried over. */
static uint64_t transitions(struct metrics *m, struct srv *s)
{
    uint64_t t;

    if (s == NULL || s->sched == NULL)
        return m->trans_base + m->trans_last;
    t = sched_transitions(s->sched);
    if (t < m->trans_last)
        m->trans_base += m->trans_last;
    m->trans_last = t;
    return m->trans_base + t;
}

/* The series of one kind: name{labels...} value, labels named by keys. */
static void render_aggs(struct buf *b, const char *name, const struct agg_set *g,
                        const char *const keys[3])
{
    size_t i;
    int k;

    for (i = 0; i < g->n; i++) {
        const char *vals[3] = {g->v[i].k0, g->v[i].k1, g->v[i].k2};

        buf_printf(b, "%s{", name);
        for (k = 0; k < 3 && keys[k]; k++) {
            buf_printf(b, "%s%s=", k ? "," : "", keys[k]);
            label_value(b, vals[k]);
        }
        buf_puts(b, "} ");
        num(b, g->v[i].v);
        buf_puts(b, "\n");
    }
}

static void fee_sample(struct buf *b, const char *cloud, double usd)
{
    buf_puts(b, "stratus_commitment_fees_usd_total{cloud=");
    label_value(b, cloud);
    buf_puts(b, "} ");
    num(b, usd);
    buf_puts(b, "\n");
}

/* Is `cloud` the cloud of one of the catalog's first n commitments? */
static int has_commitment(const struct srv *s, size_t n, const char *cloud)
{
    size_t k;

    for (k = 0; k < n; k++)
        if (strcmp(catalog_commitment(s->cat, k)->cloud, cloud) == 0)
            return 1;
    return 0;
}

/* The fees of the catalog's commitments by cloud, amortised by the hour
 * from where the cost report counts each from (srv_commit_from) to now:
 * what `stratus cost` adds to the attempts' spend; 0 for each other cloud
 * with spend. */
static void render_commitment_fees(struct buf *b, struct srv *s, double now,
                                   const struct agg_set *spend)
{
    size_t i, k, n = s->cat ? catalog_ncommitments(s->cat) : 0;
    double first = now;

    for (i = 0; i < n; i++) /* one without a start counts from the first job */
        if (catalog_commitment(s->cat, i)->start <= 0) {
            if (srv_first_record(s, now, &first) != 0)
                return; /* this scrape omits the series, as for the spend */
            break;
        }
    if (n == 0 && spend->n == 0)
        return;
    family(b, "stratus_commitment_fees_usd_total", "counter",
           "Fees of committed capacity in USD by cloud, amortised by the hour to now.");
    for (i = 0; i < n; i++) {
        const char *cloud = catalog_commitment(s->cat, i)->cloud;
        double usd = 0;

        if (has_commitment(s, i, cloud))
            continue; /* its cloud's sample is out */
        for (k = i; k < n; k++) {
            const struct commitment *m = catalog_commitment(s->cat, k);
            double from = m->start > 0 ? m->start : first;

            if (strcmp(m->cloud, cloud) == 0 && now > from)
                usd += catalog_commitment_cost(m, from, now);
        }
        fee_sample(b, cloud, usd);
    }
    /* 0 for every other cloud with spend: spend + fees adds up by cloud */
    for (i = 0; i < spend->n; i++)
        if (!has_commitment(s, n, spend->v[i].k0))
            fee_sample(b, spend->v[i].k0, 0);
}

static void render_sched(struct buf *b, struct metrics *m, struct srv *s,
                         const struct scrape *sc)
{
    static const char *const place_keys[3] = {"cloud", "region", "mode"};
    static const char *const cloud_key[3] = {"cloud", NULL, NULL};

    family(b, "stratus_transitions_total", "counter",
           "Job state transitions the controller has committed.");
    buf_printf(b, "stratus_transitions_total %" PRIu64 "\n", transitions(m, s));
    if (!sc->ok)
        return;
    family(b, "stratus_placements_total", "counter",
           "Attempts placed, by cloud, region and purchase mode.");
    render_aggs(b, "stratus_placements_total", &sc->all.agg[AGG_PLACE], place_keys);
    family(b, "stratus_spend_usd_total", "counter",
           "Spend in USD by cloud: ended attempts, and running ones so far; "
           "a data move in the cloud the data left; keeping data copies in the "
           "copy's cloud; never less than said before.");
    render_aggs(b, "stratus_spend_usd_total", &sc->all.agg[AGG_SPEND], cloud_key);
    render_commitment_fees(b, s, sc->now, &sc->all.agg[AGG_SPEND]);
    family(b, "stratus_metrics_store_read_seconds", "gauge",
           "Time this scrape spent reading the store.");
    buf_puts(b, "stratus_metrics_store_read_seconds ");
    num(b, sc->read_s);
    buf_puts(b, "\n");
}

static void render_api(struct buf *b, const struct metrics *m)
{
    size_t i, k;

    family(b, "stratus_api_requests_total", "counter",
           "API requests answered, by route and status.");
    for (i = 0; i < m->nroutes; i++)
        for (k = 0; k < NSTATUS; k++) {
            if (m->routes[i].by_status[k] == 0)
                continue;
            buf_puts(b, "stratus_api_requests_total{route=");
            label_value(b, m->routes[i].name);
            buf_printf(b, ",code=\"%zu\"} %" PRIu64 "\n", k + STATUS_MIN,
                       m->routes[i].by_status[k]);
        }
    family(b, "stratus_api_request_seconds", "histogram",
           "Time to answer an API request, by route.");
    for (i = 0; i < m->nroutes; i++) {
        struct buf l;

        buf_init(&l, 0);
        buf_puts(&l, "route=");
        label_value(&l, m->routes[i].name);
        buf_puts(&l, ",");
        hist_render(b, "stratus_api_request_seconds", buf_cstr(&l), &m->routes[i].h);
        buf_free(&l);
    }
}

/* Driver errors: the failed calls the server reported (metrics_driver_error)
 * and the attempts a driver failed to launch (not for capacity) or lost,
 * by the driver instance their location is bound to. */
static void render_driver_errors(struct buf *b, const struct metrics *m,
                                 struct scrape *sc)
{
    static const char *const driver_key[3] = {"driver", NULL, NULL};
    size_t i;

    for (i = 0; i < m->ndrv; i++)
        agg_add(&sc->all, AGG_DRVERR, m->drv[i].name, NULL, NULL, (double)m->drv[i].n);
    family(b, "stratus_driver_errors_total", "counter",
           "Driver errors by driver: failed calls, and attempts it failed to launch or "
           "lost.");
    render_aggs(b, "stratus_driver_errors_total", &sc->all.agg[AGG_DRVERR], driver_key);
}

static void render_controller(struct buf *b, const struct metrics *m, const struct srv *s)
{
    family(b, "stratus_controller_step_seconds", "histogram",
           "Duration of a controller step.");
    hist_render(b, "stratus_controller_step_seconds", "", &m->step);
    family(b, "stratus_controller_steps_total", "counter", "Controller steps run.");
    buf_printf(b, "stratus_controller_steps_total %" PRIu64 "\n",
               s ? s->steps : m->steps);
    family(b, "stratus_controller_step_failures_total", "counter",
           "Controller steps that failed (the controller was reopened).");
    buf_printf(b, "stratus_controller_step_failures_total %" PRIu64 "\n",
               s ? s->step_failures : m->step_failures);
}

/* team="t",accelerator="a",cloud="c" for quota k of team t into l. */
static void quota_labels(struct buf *l, const struct org_team *t, size_t k)
{
    buf_puts(l, "{team=");
    label_value(l, t->name);
    buf_puts(l, ",accelerator=");
    label_value(l, t->quota[k].accelerator);
    buf_puts(l, ",cloud=");
    label_value(l, t->quota[k].cloud ? t->quota[k].cloud : "");
    buf_puts(l, "}");
}

/* name{team="t"} v */
static void team_sample(struct buf *b, const char *name, const char *team, double v)
{
    buf_printf(b, "%s{team=", name);
    label_value(b, team);
    buf_puts(b, "} ");
    num(b, v);
    buf_puts(b, "\n");
}

#define TEAM_QUOTAS_MAX 64

/* Each team's quotas and what they hold, its month's spend, budget and
 * fair-share factor (docs/teams.md), from the controller; each family's
 * samples together, as the format wants. */
static void render_teams(struct buf *b, struct srv *s)
{
    const struct org *g = s ? s->org : NULL;
    long (*used)[TEAM_QUOTAS_MAX];
    double *spend, *factor;
    int *ok;
    size_t i, k;

    if (g == NULL || g->nteams == 0 || s->sched == NULL)
        return;
    used = xcalloc(g->nteams, sizeof(*used));
    spend = xcalloc(g->nteams, sizeof(double));
    factor = xcalloc(g->nteams, sizeof(double));
    ok = xcalloc(g->nteams, sizeof(int));
    for (i = 0; i < g->nteams; i++)
        ok[i] = sched_team_usage(s->sched, g->teams[i].name, used[i], TEAM_QUOTAS_MAX,
                                 &spend[i], &factor[i]) == 0;
    family(b, "stratus_team_quota_gpus", "gauge",
           "A team's quota of concurrent GPUs, by accelerator ('*' = any) and cloud.");
    for (i = 0; i < g->nteams; i++)
        for (k = 0; ok[i] && k < g->teams[i].nquota && k < TEAM_QUOTAS_MAX; k++) {
            buf_puts(b, "stratus_team_quota_gpus");
            quota_labels(b, &g->teams[i], k);
            buf_printf(b, " %ld\n", g->teams[i].quota[k].gpus);
        }
    family(b, "stratus_team_quota_used_gpus", "gauge",
           "GPUs of a team's live attempts that a quota covers.");
    for (i = 0; i < g->nteams; i++)
        for (k = 0; ok[i] && k < g->teams[i].nquota && k < TEAM_QUOTAS_MAX; k++) {
            buf_puts(b, "stratus_team_quota_used_gpus");
            quota_labels(b, &g->teams[i], k);
            buf_printf(b, " %ld\n", used[i][k]);
        }
    family(b, "stratus_team_month_spend_usd", "gauge",
           "What a team spent this calendar month (UTC), live attempts so far included.");
    for (i = 0; i < g->nteams; i++)
        if (ok[i])
            team_sample(b, "stratus_team_month_spend_usd", g->teams[i].name, spend[i]);
    family(b, "stratus_team_budget_usd", "gauge", "A team's monthly budget (teams with one).");
    for (i = 0; i < g->nteams; i++)
        if (ok[i] && g->teams[i].budget_usd > 0)
            team_sample(b, "stratus_team_budget_usd", g->teams[i].name, g->teams[i].budget_usd);
    family(b, "stratus_team_fair_share", "gauge",
           "A team's fair-share factor, 2^(-usage share / weight share).");
    for (i = 0; i < g->nteams; i++)
        if (ok[i])
            team_sample(b, "stratus_team_fair_share", g->teams[i].name, factor[i]);
    free(used);
    free(spend);
    free(factor);
    free(ok);
}

/* The whole exposition (NUL-terminated; *len without the NUL); caller frees.
 * s may be NULL (only what m was fed, up and build info). */
char *metrics_render(struct metrics *m, struct srv *s, size_t *len)
{
    struct scrape sc;
    struct buf b;
    char *out;

    buf_init(&b, 0);
    scrape_store(m, s, &sc);
    render_process(&b, s);
    render_jobs(&b, m, &sc);
    render_sched(&b, m, s, &sc);
    render_controller(&b, m, s);
    render_driver_errors(&b, m, &sc);
    render_teams(&b, s);
    render_api(&b, m);
    final_cache_free(&sc.live);
    final_cache_free(&sc.all);
    *len = b.len;
    out = b.data; /* never empty: up and build info are always there */
    return out;
}
