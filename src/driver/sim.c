/*
 * sim.c - the `sim` driver: a fleet of clouds in virtual time.
 *
 * Nothing runs: an attempt is a record with its offer, nodes and mode, and
 * its future is a few entries on an event heap — RUNNING after the launch
 * delay, EXITED when the job's remaining work is done — while rows of the
 * spot trace change spot capacity and take nodes back from spot attempts
 * (newest first) when capacity drops below use.  Work is saved only at
 * checkpoints: an attempt that ends early keeps floor(run / interval)
 * intervals of progress.  Work is counted in seconds of the job's first
 * accelerator (sim_jobinfo.duration_s): an attempt on another one does
 * `speed` of it per second (the throughput of its node over the first's,
 * catalog throughput.csv; 1 when either is unknown), so it runs for the
 * remaining work / speed, and what its checkpoints save is converted the
 * same way, which keeps the work when a job fails over between
 * accelerators.  Time is the driver config's clock (virtual).
 * With a notice (sim_world.notice_s, the service simulator's), a spot node
 * the trace or the rate takes gets PREEMPT_NOTICE then and is gone
 * notice_s later, as a cloud warns before it reclaims (GCP and Azure give
 * 30 s, AWS 2 minutes); its nodes count as taken back from the notice on.
 *
 * Layout: the heap; attempts and capacity; the operations.
 */
#include "driver.h"
#include "../catalog/catalog.h"
#include "../sim/bound.h"
#include "../sim/sim.h"
#include "../sim/trace.h"
#include "../util/hmap.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SEV_RUNNING, SEV_EXIT, SEV_SPOT, SEV_PREEMPT, SEV_RECLAIM };

struct sev {
    double t;
    uint32_t kind;
    uint32_t gen;           /* must equal the attempt's gen, else stale */
    int64_t ref;            /* attempt id, or spot trace row */
};

struct satt { /* 48 bytes: a study has millions */
    int64_t job;
    uint32_t offer;
    int nodes;
    uint32_t gen;
    uint8_t spot;
    uint8_t state;          /* 0 none, 1 launching, 2 running, 3 ended */
    uint8_t doomed;         /* noticed: gone at its SEV_RECLAIM */
    double running_at, work_start; /* work_start: after the restore */
    double speed;           /* work per second on this offer (see the top) */
};

struct simd {
    const struct sim_world *w;
    const struct clock *clock;
    struct sev *heap;
    size_t nheap, heap_cap;
    struct satt *att;       /* by attempt id */
    size_t natt;
    long *od_used, *spot_used, *spot_cap;
    long *doomed;           /* per offer: spot nodes noticed, not yet gone */
    char *traced;           /* per offer: its spot capacity follows a trace */
    uint32_t *row_start;    /* spot row i's offers: row_offer[row_start[i] .. [i+1]) */
    uint32_t *row_offer;
    uint64_t seed;
    double trace_span;      /* one pass of the spot trace, for replaying it */
    double *saved;          /* by job id: work saved in checkpoints */
    struct keymap cap_ix;   /* (cloud, region, zone, type) catalog pointers -> offer */
    double *stock_until;    /* per offer: launches refused until then (injected) */
    struct driver_event *out; /* events due, not yet polled */
    size_t nout, out_cap, out_head;
    size_t out_acked;       /* out[0 .. out_acked) were committed by the
                               controller (it polled again after them) */
};

/* ---- the heap ---- */

static void heap_push(struct simd *p, double t, uint32_t kind, uint32_t gen, int64_t ref)
{
    struct sev v = {t, kind, gen, ref};
    size_t i;

    p->heap = xgrow(p->heap, &p->heap_cap, p->nheap + 1, sizeof(*p->heap));
    i = p->nheap++;
    while (i > 0 && p->heap[(i - 1) / 2].t > t) {
        p->heap[i] = p->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->heap[i] = v;
}

static struct sev heap_pop(struct simd *p)
{
    struct sev top = p->heap[0], last = p->heap[--p->nheap];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= p->nheap)
            break;
        if (c + 1 < p->nheap && p->heap[c + 1].t < p->heap[c].t)
            c++;
        if (p->heap[c].t >= last.t)
            break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (p->nheap > 0)
        p->heap[i] = last;
    return top;
}

/* ---- events out ---- */

static void emit(struct simd *p, enum driver_event_type t, int64_t att, int node, int code,
                 double at, const char *msg)
{
    struct driver_event *ev;

    p->out = xgrow(p->out, &p->out_cap, p->nout + 1, sizeof(*p->out));
    ev = &p->out[p->nout++];
    memset(ev, 0, sizeof(*ev));
    ev->type = t;
    ev->attempt_id = att;
    ev->node = node;
    ev->exit_code = code;
    ev->at = at;
    if (msg)
        strncpy(ev->msg, msg, sizeof(ev->msg) - 1);
}

/* ---- attempts and capacity ---- */

static const struct sim_jobinfo *jobinfo(const struct simd *p, int64_t job)
{
    BUG_ON(job <= 0 || (size_t)job >= p->w->njobs);
    return &p->w->jobs[job];
}

static struct satt *att_get(struct simd *p, int64_t id, int grow)
{
    if (id <= 0)
        return NULL;
    if ((size_t)id >= p->natt) {
        size_t n = p->natt ? p->natt : 1024;

        if (!grow)
            return NULL;
        while (n <= (size_t)id) /* by a quarter: the new part is zeroed, so */
            n += n / 4;         /* it all counts, used or not */
        p->att = xrealloc(p->att, n * sizeof(*p->att));
        memset(p->att + p->natt, 0, (n - p->natt) * sizeof(*p->att));
        p->natt = n;
    }
    return &p->att[id];
}

static void grow_saved(struct simd *p)
{
    if (p->saved == NULL)
        p->saved = xcalloc(p->w->njobs + 1, sizeof(*p->saved));
}

/* Stop an attempt now: free its nodes, keep the work its checkpoints saved. */
static void stop(struct simd *p, struct satt *a, double now)
{
    const struct sim_jobinfo *ji;

    if (a->state == 3 || a->state == 0)
        return; /* ended, or never launched here (no job to look up) */
    ji = jobinfo(p, a->job);
    if (a->state == 2 && now > a->work_start) {
        double run = now - a->work_start;

        if (ji->ckpt_s > 0)
            p->saved[a->job] += floor(run / ji->ckpt_s) * ji->ckpt_s * a->speed;
        if (p->saved[a->job] > ji->duration_s)
            p->saved[a->job] = ji->duration_s;
    }
    if (a->spot)
        p->spot_used[a->offer] -= a->nodes;
    else
        p->od_used[a->offer] -= a->nodes;
    if (a->doomed)
        p->doomed[a->offer] -= a->nodes;
    a->doomed = 0;
    a->state = 3;
    a->gen++;
}

/* A uniform draw in (0, 1) from (seed, attempt): splitmix64. */
static double draw(uint64_t seed, int64_t id)
{
    uint64_t z = seed ^ ((uint64_t)id * 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

/* The cloud takes attempt id's spot nodes back: at once, or with a notice
 * now and the nodes gone notice_s later. */
static void take_back(struct simd *p, int64_t id, struct satt *a, double t, const char *why)
{
    if (!(p->w->notice_s > 0)) {
        stop(p, a, t);
        emit(p, DRV_EV_PREEMPTED, id, -1, 0, t, why);
        return;
    }
    if (a->doomed)
        return;
    a->doomed = 1;
    p->doomed[a->offer] += a->nodes;
    emit(p, DRV_EV_PREEMPT_NOTICE, id, -1, 0, t, why);
    heap_push(p, t + p->w->notice_s, SEV_RECLAIM, a->gen, id);
}

/* Spot capacity no trace describes is taken back at the catalog's rate (the
 * same rates the planner prices in): the gang is preempted when the first of
 * its nodes is, an exponential wait at nodes x rate per hour. */
static void schedule_preemption(struct simd *p, int64_t id, const struct satt *a, double t)
{
    double rate = catalog_preempt_rate(p->w->cat, catalog_offer(p->w->cat, a->offer)) * a->nodes;

    if (rate <= 0)
        return;
    heap_push(p, t - log(draw(p->seed, id)) * 3600.0 / rate, SEV_PREEMPT, a->gen, id);
}

/* Work per second of the job's first accelerator that a node of this offer
 * does, as the planner counts it (catalog_speed_of: an unknown ratio is the
 * first's, per accelerator). */
static double offer_speed(const struct simd *p, const struct sim_jobinfo *ji, uint32_t offer)
{
    const struct offer *o = catalog_offer(p->w->cat, offer);
    double r, n;

    catalog_speed_parts(p->w->cat, o->accelerator, o->acc_count, o->acc_part, ji->infer,
                        &r, &n);
    return catalog_speed_of(ji->ref_chip, ji->ref_n, r, n);
}

static void on_running(struct simd *p, int64_t id, struct satt *a, double t)
{
    const struct sim_jobinfo *ji = jobinfo(p, a->job);
    double restore = p->saved[a->job] > 0 ? ji->restore_s : 0;
    int r;

    a->state = 2;
    a->running_at = t;
    a->work_start = t + restore;
    a->speed = offer_speed(p, ji, a->offer);
    for (r = 0; r < a->nodes; r++)
        emit(p, DRV_EV_RUNNING, id, r, 0, t, NULL);
    heap_push(p, a->work_start + (ji->duration_s - p->saved[a->job]) / a->speed, SEV_EXIT,
              a->gen, id);
    if (a->spot && !p->traced[a->offer])
        schedule_preemption(p, id, a, t);
}

static void on_exit_ok(struct simd *p, int64_t id, struct satt *a, double t)
{
    int r;

    p->saved[a->job] = jobinfo(p, a->job)->duration_s;
    stop(p, a, t);
    for (r = 0; r < a->nodes; r++)
        emit(p, DRV_EV_EXITED, id, r, 0, t, NULL);
}

/* Preempt spot attempts on one offer, newest first, until use fits capacity. */
static void reclaim(struct simd *p, uint32_t offer, double t)
{
    size_t id;

    for (id = p->natt;
         id-- > 1 && p->spot_used[offer] - p->doomed[offer] > p->spot_cap[offer];) {
        struct satt *a = &p->att[id];

        if (a->offer != offer || !a->spot || a->state == 0 || a->state == 3 || a->doomed)
            continue;
        take_back(p, (int64_t)id, a, t, "spot capacity reclaimed (trace)");
    }
}

static void on_spot_row(struct simd *p, size_t row, double t)
{
    const struct trace_spot *r = &p->w->spot->spot[row];
    uint32_t k;

    for (k = p->row_start[row]; k < p->row_start[row + 1]; k++) {
        uint32_t i = p->row_offer[k];

        p->spot_cap[i] = trace_spot_nodes(r, p->w->spot_cap[i]);
        reclaim(p, i, t);
    }
}

/* Apply every heap entry due by now. */
static void advance(struct simd *p, double now)
{
    while (p->nheap > 0 && p->heap[0].t <= now) {
        struct sev v = heap_pop(p);
        struct satt *a = v.kind == SEV_SPOT ? NULL : att_get(p, v.ref, 0);

        if (v.kind == SEV_SPOT) {
            on_spot_row(p, (size_t)v.ref, v.t);
            /* Replay the trace pass after pass for as long as the study runs. */
            if (p->trace_span > 0 && p->nheap > 0)
                heap_push(p, v.t + p->trace_span, SEV_SPOT, 0, v.ref);
        }
        else if (a == NULL || a->gen != v.gen)
            continue; /* stale: the attempt was stopped */
        else if (v.kind == SEV_RUNNING)
            on_running(p, v.ref, a, v.t);
        else if (v.kind == SEV_PREEMPT)
            take_back(p, v.ref, a, v.t, "spot node reclaimed");
        else if (v.kind == SEV_RECLAIM) {
            stop(p, a, v.t);
            emit(p, DRV_EV_PREEMPTED, v.ref, -1, 0, v.t, "spot node reclaimed after its notice");
        } else
            on_exit_ok(p, v.ref, a, v.t);
    }
}

/* ---- fault injection (the same requests the local driver takes) ---- */

static int inject_stockout(struct simd *p, const char *arg, double now, struct err *e)
{
    char loc[256];
    double secs = -1;
    size_t i, hit = 0;
    int n = sscanf(arg, "%255s %lf", loc, &secs);

    if (n < 1)
        return err_set(e, ST_EINVAL, "stockout: expected 'LOCATION [SECONDS]', not '%s'", arg);
    for (i = 0; i < catalog_noffers(p->w->cat); i++) {
        if (!catalog_offer_at(catalog_offer(p->w->cat, i), loc))
            continue;
        /* SECONDS 0 clears; no number means until cleared. */
        p->stock_until[i] = n < 2 ? 1e300 : secs > 0 ? now + secs : 0;
        hit++;
    }
    return hit ? 0 : err_set(e, ST_EINVAL, "stockout: no offer at '%s'", loc);
}

static int inject_preempt(struct simd *p, int by_job, const char *arg, double now, struct err *e)
{
    long long job = 0;
    size_t id, hit = 0;

    if (by_job && sscanf(arg, "%lld", &job) != 1)
        return err_set(e, ST_EINVAL, "preempt-job: '%s' is not a job id", arg);
    for (id = 1; id < p->natt; id++) {
        struct satt *a = &p->att[id];

        if (a->state != 2 && a->state != 1)
            continue;
        if (by_job ? a->job != job
                   : !catalog_offer_at(catalog_offer(p->w->cat, a->offer), arg))
            continue;
        stop(p, a, now);
        emit(p, DRV_EV_PREEMPTED, (int64_t)id, -1, 0, now, "preempted (injected)");
        hit++;
    }
    if (hit == 0 && by_job)
        return err_set(e, ST_ENOTFOUND, "job %lld has no running node in the simulated clouds", job);
    return 0;
}

static int sim_inject(struct driver *d, const char *kind, const char *arg, struct err *e)
{
    struct simd *p = d->priv;
    double now = clock_now(p->clock);

    if (strcmp(kind, "stockout") == 0)
        return inject_stockout(p, arg, now, e);
    if (strcmp(kind, "preempt-job") == 0 || strcmp(kind, "preempt-location") == 0)
        return inject_preempt(p, kind[8] == 'j', arg, now, e);
    return err_set(e, ST_EINVAL, "unknown fault '%s'", kind);
}

/* ---- operations ---- */

/* Which offers each spot row speaks of (found once, not at every replay),
 * and which offers any trace covers.  Rows of one location repeat, so the
 * offers are matched once per location (its interned strings are the key)
 * and copied for the location's other rows. */
static void index_spot_rows(struct simd *p, size_t n)
{
    size_t i, k, cap = 0, used = 0, nrows = p->w->spot ? p->w->spot->nspot : 0;
    struct keymap seen;

    keymap_init(&seen);
    p->row_start = xcalloc(nrows + 1, sizeof(*p->row_start));
    for (i = 0; i < nrows; i++) {
        const struct trace_spot *r = &p->w->spot->spot[i];
        uint32_t first = (uint32_t)i;

        p->row_start[i] = (uint32_t)used;
        heap_push(p, p->w->t0 + r->time_s, SEV_SPOT, 0, (int64_t)i);
        if (r->time_s > p->trace_span)
            p->trace_span = r->time_s;
        if (keymap_put(&seen, r->cloud, r->region, r->zone, r->instance_type, &first)) {
            for (k = p->row_start[first]; k < p->row_start[first + 1]; k++) {
                p->row_offer = xgrow(p->row_offer, &cap, used + 1, sizeof(*p->row_offer));
                p->row_offer[used++] = p->row_offer[k];
            }
        } else {
            for (k = 0; k < n; k++) {
                if (!sim_row_matches(r->cloud, r->region, r->zone, r->instance_type,
                                     catalog_offer(p->w->cat, k)))
                    continue;
                p->row_offer = xgrow(p->row_offer, &cap, used + 1, sizeof(*p->row_offer));
                p->row_offer[used++] = (uint32_t)k;
                p->traced[k] = 1;
            }
        }
        p->row_start[i + 1] = (uint32_t)used;
    }
    keymap_free(&seen);
}

static int sim_open(struct driver *d, const struct driver_config *cfg, struct err *e)
{
    struct simd *p = d->priv;
    size_t n, i;

    if (cfg->world == NULL)
        return err_set(e, ST_EUSAGE, "the sim driver runs only inside `stratus simulate`");
    p->w = cfg->world;
    p->clock = cfg->clock;
    n = catalog_noffers(p->w->cat);
    p->od_used = xcalloc(n + 1, sizeof(long));
    p->spot_used = xcalloc(n + 1, sizeof(long));
    p->doomed = xcalloc(n + 1, sizeof(long));
    p->spot_cap = xcalloc(n + 1, sizeof(long));
    memcpy(p->spot_cap, p->w->spot_cap, n * sizeof(long));
    grow_saved(p);
    keymap_init(&p->cap_ix);
    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(p->w->cat, i);
        uint32_t v = (uint32_t)i;

        keymap_put(&p->cap_ix, o->cloud, o->region, o->zone, o->instance_type, &v);
    }
    p->traced = xcalloc(n + 1, 1);
    p->stock_until = xcalloc(n + 1, sizeof(double));
    p->seed = cfg->seed;
    index_spot_rows(p, n);
    if (p->trace_span > 0)
        p->trace_span += 3600; /* one more tick between passes */
    return 0;
}

static int sim_launch(struct driver *d, const struct attempt *at, struct err *e)
{
    struct simd *p = d->priv;
    double now = clock_now(p->clock);
    struct satt *a = att_get(p, at->id, 1);
    long oi = catalog_find_offer(p->w->cat, at->cloud, at->region, at->zone,
                                 at->instance_type, at->accelerator);
    long *used, cap;

    if (a->state != 0)
        return 0; /* idempotent */
    if (oi < 0)
        return err_set(e, ST_EINVAL, "sim: no offer %s in %s/%s/%s", at->instance_type,
                       at->cloud, at->region, at->zone);
    used = at->spot ? &p->spot_used[oi] : &p->od_used[oi];
    cap = p->stock_until[oi] > now ? 0 : at->spot ? p->spot_cap[oi] : p->w->od_cap[oi];
    a->job = at->job_id;
    a->offer = (uint32_t)oi;
    a->nodes = at->nodes;
    a->spot = at->spot;
    if (*used + at->nodes > cap) {
        a->state = 3;
        emit(p, DRV_EV_CAPACITY, at->id, -1, 0, now, at->spot ? "no spot capacity" : "no capacity");
        return 0;
    }
    *used += at->nodes;
    a->state = 1;
    heap_push(p, now + p->w->launch_delay_s, SEV_RUNNING, a->gen, at->id);
    return 0;
}

static int sim_poll(struct driver *d, struct driver_event *ev, size_t max, struct err *e)
{
    struct simd *p = d->priv;
    size_t k = 0;

    (void)e;
    p->out_acked = p->out_head; /* a poll says the last batch was committed */
    if (p->out_acked == p->nout) {
        p->nout = p->out_head = p->out_acked = 0;
    } else if (p->out_acked > 4096 && p->out_acked > p->nout / 2) {
        memmove(p->out, p->out + p->out_acked, (p->nout - p->out_acked) * sizeof(*p->out));
        p->nout -= p->out_acked;
        p->out_head = p->out_acked = 0;
    }
    advance(p, clock_now(p->clock));
    while (k < max && p->out_head < p->nout)
        ev[k++] = p->out[p->out_head++];
    return (int)k;
}

/* The controller did not commit the last batch: hand it out again. */
static void sim_rewind(struct driver *d)
{
    struct simd *p = d->priv;

    p->out_head = p->out_acked;
}

static int sim_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    struct simd *p = d->priv;
    struct satt *a = att_get(p, attempt_id, 0);

    (void)e;
    if (a != NULL)
        stop(p, a, clock_now(p->clock));
    return 0;
}

static void sim_close(struct driver *d)
{
    struct simd *p = d->priv;

    free(p->heap);
    free(p->att);
    free(p->od_used);
    free(p->spot_used);
    free(p->doomed);
    free(p->spot_cap);
    free(p->saved);
    free(p->traced);
    free(p->stock_until);
    free(p->row_start);
    free(p->row_offer);
    free(p->out);
    keymap_free(&p->cap_ix);
}

static long sim_capacity_mode(struct driver *d, const char *cloud, const char *region,
                              const char *zone, const char *instance_type, int spot)
{
    struct simd *p = d->priv;
    uint32_t oi;
    long free_nodes;

    /* The controller passes the catalog's own (interned) strings; anything
     * else is not an offer of this fleet.  The fleet is known capacity
     * (reservations, quotas), which the controller may see as it sees idle
     * nodes of a Slurm cluster. */
    if (!keymap_get(&p->cap_ix, cloud, region, zone, instance_type, &oi))
        return -1;
    if (p->stock_until[oi] > clock_now(p->clock))
        return 0;
    free_nodes = spot ? p->spot_cap[oi] - p->spot_used[oi] : p->w->od_cap[oi] - p->od_used[oi];
    return free_nodes > 0 ? free_nodes : 0;
}

/* The offer's own pool: the controller's offers are the world's catalog's
 * (a pointer into it), else looked up with the accelerator.  Offers that
 * share an instance type (GCP's n1 with a T4 or a V100, TPU-VM) are pools
 * apart, as sim_launch counts them. */
static long sim_offer_capacity(struct driver *d, const struct offer *o, int spot)
{
    struct simd *p = d->priv;
    size_t n = catalog_noffers(p->w->cat);
    const struct offer *first = n > 0 ? catalog_offer(p->w->cat, 0) : NULL;
    long oi, free_nodes;

    if (first != NULL && o >= first && o < first + n)
        oi = (long)(o - first);
    else if ((oi = catalog_find_offer(p->w->cat, o->cloud, o->region, o->zone,
                                      o->instance_type, o->accelerator)) < 0)
        return -1;
    if (p->stock_until[oi] > clock_now(p->clock))
        return 0;
    free_nodes =
        spot ? p->spot_cap[oi] - p->spot_used[oi] : p->w->od_cap[oi] - p->od_used[oi];
    return free_nodes > 0 ? free_nodes : 0;
}

static double sim_next_event_in(struct driver *d)
{
    struct simd *p = d->priv;
    double now = clock_now(p->clock);

    if (p->out_head < p->nout)
        return 0;
    if (p->nheap == 0)
        return -1;
    return p->heap[0].t > now ? p->heap[0].t - now : 0;
}

const struct driver_ops driver_sim = {
    .name = "sim",
    .priv_size = sizeof(struct simd),
    .open = sim_open,
    .launch = sim_launch,
    .poll = sim_poll,
    .terminate = sim_terminate,
    .close = sim_close,
    .capacity_mode = sim_capacity_mode,
    .offer_capacity = sim_offer_capacity,
    .inject = sim_inject,
    .next_event_in = sim_next_event_in,
    .rewind = sim_rewind,
};
