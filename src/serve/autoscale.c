/*
 * autoscale.c - the replica-count and placement policy of a service (see
 * autoscale.h for the rules).  Layout: config checks and lifetime; the
 * bucket grid (observations -> QPS readings); the hysteresis decision; the
 * per-accelerator capacity arithmetic; the SpotHedge split; the spot placer.
 *
 * Time is a grid of buckets of tick_s seconds from the origin t0 given to
 * as_init: bucket k covers [t0 + k*tick, t0 + (k+1)*tick).  A bucket closes
 * (and yields reading k) once `now` reaches its end, lazily, whenever the
 * manager calls in; missed ticks are filled in order, so the answers do not
 * depend on how often the manager calls.
 */
#include "autoscale.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/xmem.h"

/* Slack for floating-point grid positions and QPS ratios (7.0/7 * 7). */
#define AS_EPS 1e-9
/* Readings kept per autoscaler; delay / tick beyond this is a config error. */
#define AS_MAX_READINGS 100000
/* A count no service reaches; keeps the QPS arithmetic away from INT_MAX. */
#define AS_HUGE (INT_MAX / 2)

void as_config_default(struct as_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->min_replicas = 1;
    cfg->max_replicas = 1;
    cfg->upscale_delay_s = 300;
    cfg->downscale_delay_s = 1200;
    cfg->tick_s = 20;
    cfg->window_s = 60;
    cfg->agree = 0.8;
}

/* Readings that span `delay` seconds (at least one). */
static size_t readings_for(const struct as_config *cfg, double delay)
{
    double n = ceil(delay / cfg->tick_s - AS_EPS);

    return n < 1 ? 1 : (size_t)n;
}

static int check_qps_table(const struct as_config *cfg, struct err *e)
{
    size_t i;

    for (i = 0; i < cfg->naccel_qps; i++)
        if (cfg->accel_qps[i].accelerator == NULL || !(cfg->accel_qps[i].qps > 0))
            return err_set(e, ST_EINVAL,
                           "target_qps_per_replica entry %zu: needs an accelerator name "
                           "and a QPS above 0",
                           i + 1);
    return 0;
}

static int check_config(const struct as_config *cfg, struct err *e)
{
    if (cfg->min_replicas < 0 || cfg->max_replicas < cfg->min_replicas ||
        cfg->max_replicas < 1)
        return err_set(e, ST_EINVAL,
                       "replicas: min %d, max %d (need 0 <= min <= max and max >= 1)",
                       cfg->min_replicas, cfg->max_replicas);
    if (!(cfg->tick_s > 0) || !(cfg->window_s >= 0) || !(cfg->upscale_delay_s >= 0) ||
        !(cfg->downscale_delay_s >= 0))
        return err_set(e, ST_EINVAL,
                       "autoscaler: tick must be > 0, window and delays >= 0");
    if (!(cfg->agree > 0.5 && cfg->agree <= 1))
        return err_set(e, ST_EINVAL, "autoscaler: agree %g must be in (0.5, 1]",
                       cfg->agree);
    if (readings_for(cfg, cfg->upscale_delay_s) > AS_MAX_READINGS ||
        readings_for(cfg, cfg->downscale_delay_s) > AS_MAX_READINGS ||
        readings_for(cfg, cfg->window_s) > AS_MAX_READINGS)
        return err_set(e, ST_EINVAL,
                       "autoscaler: delays and window must be at most %d ticks",
                       AS_MAX_READINGS);
    if (cfg->base_ondemand < 0 || cfg->overprovision < 0)
        return err_set(e, ST_EINVAL, "base_ondemand and overprovision must be >= 0");
    return check_qps_table(cfg, e);
}

/* Give st its own copy of the per-accelerator table. */
static void copy_qps_table(struct as_state *st, const struct as_config *cfg)
{
    size_t i, n = cfg->naccel_qps;

    st->qps_copy = n ? xcalloc(n, sizeof(*st->qps_copy)) : NULL;
    st->names = n ? xcalloc(n, sizeof(*st->names)) : NULL;
    for (i = 0; i < n; i++) {
        st->names[i] = xstrdup(cfg->accel_qps[i].accelerator);
        st->qps_copy[i].accelerator = st->names[i];
        st->qps_copy[i].qps = cfg->accel_qps[i].qps;
    }
    st->cfg.accel_qps = st->qps_copy;
}

int as_init(struct as_state *st, const struct as_config *cfg, double now, struct err *e)
{
    int rc;

    memset(st, 0, sizeof(*st));
    rc = check_config(cfg, e);
    if (rc < 0)
        return rc;
    st->cfg = *cfg;
    copy_qps_table(st, cfg);
    st->t0 = now;
    st->current = cfg->min_replicas;
    st->nwin = readings_for(cfg, cfg->window_s);
    st->nread = readings_for(cfg, cfg->upscale_delay_s);
    if (readings_for(cfg, cfg->downscale_delay_s) > st->nread)
        st->nread = readings_for(cfg, cfg->downscale_delay_s);
    st->counts = xcalloc(st->nwin, sizeof(*st->counts));
    st->qps = xcalloc(st->nread, sizeof(*st->qps));
    st->scratch = xcalloc(st->nread, sizeof(*st->scratch));
    return 0;
}

void as_free(struct as_state *st)
{
    size_t i;

    for (i = 0; st->names != NULL && i < st->cfg.naccel_qps; i++)
        free(st->names[i]);
    free(st->names);
    free(st->qps_copy);
    free(st->counts);
    free(st->qps);
    free(st->scratch);
    memset(st, 0, sizeof(*st));
}

static int clip(const struct as_config *cfg, int n)
{
    if (n < cfg->min_replicas)
        return cfg->min_replicas;
    return n > cfg->max_replicas ? cfg->max_replicas : n;
}

int as_reconfig(struct as_state *st, const struct as_config *cfg, double now,
                struct err *e)
{
    struct as_state fresh;
    int rc = as_init(&fresh, cfg, now, e);

    if (rc < 0)
        return rc;
    /* The old evidence was measured against the old target QPS and bounds:
     * it restarts, but the running count and the last request carry over. */
    fresh.current = clip(cfg, st->current);
    fresh.last_request = st->last_request;
    fresh.any_request = st->any_request;
    as_free(st);
    *st = fresh;
    return 0;
}

/* Position of `now` on the grid in ticks, bounded so that converting it to
 * a long is always defined (NaN counts as the origin's far past). */
static double grid_pos(const struct as_state *st, double now)
{
    double x = (now - st->t0) / st->cfg.tick_s;

    if (!(x > -1e15))
        return -1e15;
    return x < 1e15 ? x : 1e15;
}

/* The bucket `now` falls in (negative before t0). */
static long bucket_of(const struct as_state *st, double now)
{
    return (long)floor(grid_pos(st, now) + AS_EPS);
}

double as_next_tick(const struct as_state *st, double now)
{
    return st->t0 + (double)(bucket_of(st, now) + 1) * st->cfg.tick_s;
}

/* Close the open bucket: record its reading, recycle the slot leaving the window. */
static void close_bucket(struct as_state *st)
{
    long k = st->next_k;
    double sum = 0;
    size_t i;

    for (i = 0; i < st->nwin; i++)
        sum += st->counts[i];
    st->qps[(size_t)k % st->nread] = sum / ((double)st->nwin * st->cfg.tick_s);
    st->counts[(size_t)(k + 1) % st->nwin] = 0;
    st->next_k = k + 1;
}

/* Close every bucket that ended by `now`. */
static void advance(struct as_state *st, double now)
{
    long b = bucket_of(st, now);

    /* After a long silence only the last nread readings matter, and they are
     * all 0: skip the rest instead of looping over days of ticks. */
    if (b - st->next_k > (long)(st->nwin + st->nread)) {
        memset(st->counts, 0, st->nwin * sizeof(*st->counts));
        st->next_k = b - (long)st->nread;
    }
    while (st->next_k < b)
        close_bucket(st);
}

/* Record a new target decided at `now`; only readings of buckets that start
 * at or after `now` may justify the next change. */
static void set_current(struct as_state *st, int to, double now)
{
    st->current = to;
    st->first_k = (long)ceil(grid_pos(st, now) - AS_EPS);
}

void as_set_current(struct as_state *st, int n, double now)
{
    set_current(st, clip(&st->cfg, n), now);
}

void as_request_waiting(struct as_state *st, double now)
{
    if (st->current == 0)
        set_current(st, clip(&st->cfg, 1), now);
}

void as_observe(struct as_state *st, double now, long n)
{
    if (n <= 0)
        return;
    advance(st, now);
    /* A late observation (now before the open bucket) counts in the open one. */
    st->counts[(size_t)st->next_k % st->nwin] += (double)n;
    if (!st->any_request || now > st->last_request)
        st->last_request = now;
    st->any_request = 1;
    as_request_waiting(st, now);
}

double as_qps(const struct as_state *st)
{
    if (st->next_k <= 0)
        return 0;
    return st->qps[(size_t)(st->next_k - 1) % st->nread];
}

/* "H100:8" and "h100" name the same accelerator. */
static int accel_name_eq(const char *a, const char *b)
{
    size_t la = strcspn(a, ":"), lb = strcspn(b, ":");

    return la == lb && strncasecmp(a, b, la) == 0;
}

double as_accel_qps(const struct as_config *cfg, const char *accelerator)
{
    double least = 0;
    size_t i;

    for (i = 0; accelerator != NULL && i < cfg->naccel_qps; i++)
        if (accel_name_eq(cfg->accel_qps[i].accelerator, accelerator))
            return cfg->accel_qps[i].qps;
    if (cfg->target_qps > 0)
        return cfg->target_qps;
    /* An accelerator the table does not name: assume the weakest listed, so
     * the service is over- rather than under-provisioned. */
    for (i = 0; i < cfg->naccel_qps; i++)
        if (least == 0 || cfg->accel_qps[i].qps < least)
            least = cfg->accel_qps[i].qps;
    return least;
}

/* as_needed on a fleet whose qps[] is sorted from the largest down. */
static int needed_sorted(const struct as_config *cfg, const struct as_fleet *fleet,
                         double qps)
{
    double per =
        fleet != NULL && fleet->next_qps > 0 ? fleet->next_qps : as_accel_qps(cfg, NULL);
    double left = qps, more;
    size_t i;
    int n = 0;

    if (!(qps > AS_EPS))
        return 0;
    if (!(per > 0))
        return 1; /* no QPS target: one replica serves any load */
    /* Largest replicas first: the fewest of today's replicas that carry qps. */
    for (i = 0; fleet != NULL && i < fleet->n && left > AS_EPS; i++, n++)
        left -= fleet->qps[i] > 0 ? fleet->qps[i] : per;
    if (left <= AS_EPS)
        return n;
    more = ceil(left / per - AS_EPS);
    return more >= AS_HUGE - n ? AS_HUGE : n + (int)more;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x < y) - (x > y);
}

/* A copy of fleet with qps[] sorted from the largest down; *buf to free. */
static struct as_fleet sorted_fleet(const struct as_fleet *fleet, double **buf)
{
    struct as_fleet s = *fleet;

    *buf = xmalloc((fleet->n ? fleet->n : 1) * sizeof(**buf));
    if (fleet->n)
        memcpy(*buf, fleet->qps, fleet->n * sizeof(**buf));
    qsort(*buf, fleet->n, sizeof(**buf), cmp_desc);
    s.qps = *buf;
    return s;
}

int as_needed(const struct as_config *cfg, const struct as_fleet *fleet, double qps)
{
    struct as_fleet s;
    double *buf;
    int n;

    if (fleet == NULL)
        return needed_sorted(cfg, NULL, qps);
    s = sorted_fleet(fleet, &buf);
    n = needed_sorted(cfg, &s, qps);
    free(buf);
    return n;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/* Fill st->scratch with the clipped raw targets of the last n readings, in
 * time order; returns 0, or -1 when they reach back before the last change. */
static int window_targets(struct as_state *st, const struct as_fleet *sorted, size_t n)
{
    long from = st->next_k - (long)n, k;

    if (from < st->first_k || from < 0)
        return -1;
    for (k = from; k < st->next_k; k++)
        st->scratch[k - from] = clip(
            &st->cfg, needed_sorted(&st->cfg, sorted, st->qps[(size_t)k % st->nread]));
    return 0;
}

/* How many of n readings must agree. */
static size_t quorum(const struct as_config *cfg, size_t n)
{
    double q = ceil(cfg->agree * (double)n - AS_EPS);

    return q < 1 ? 1 : q > (double)n ? n : (size_t)q;
}

/* The up rule of autoscale.h; returns the new count or -1 for no change. */
static int decide_up(struct as_state *st, const struct as_fleet *sorted)
{
    size_t n = readings_for(&st->cfg, st->cfg.upscale_delay_s), q = quorum(&st->cfg, n);

    int latest;

    if (window_targets(st, sorted, n) < 0 || st->scratch[0] <= st->current)
        return -1;
    latest = st->scratch[n - 1];
    qsort(st->scratch, n, sizeof(*st->scratch), cmp_int);
    /* The q-th largest exceeds current iff at least q readings do. */
    if (st->scratch[n - q] <= st->current)
        return -1;
    /* the window's (upper) median: more than half the readings are above
     * current, so it is too; one spike cannot choose it */
    return st->cfg.pick_latest ? latest : st->scratch[n / 2];
}

/* The down rule of autoscale.h (zero only after a quiet downscale delay). */
static int decide_down(struct as_state *st, const struct as_fleet *sorted, double now)
{
    size_t n = readings_for(&st->cfg, st->cfg.downscale_delay_s), q = quorum(&st->cfg, n);
    int quiet = !st->any_request || now - st->last_request >= st->cfg.downscale_delay_s;
    int to, latest;

    if (window_targets(st, sorted, n) < 0 || st->scratch[0] >= st->current)
        return -1;
    latest = st->scratch[n - 1];
    qsort(st->scratch, n, sizeof(*st->scratch), cmp_int);
    if (st->scratch[q - 1] >= st->current)
        return -1;
    to = st->cfg.pick_latest ? latest : st->scratch[(n - 1) / 2]; /* lower median */
    /* Readings average over window_s; a request within the whole delay is
     * somebody still using the service: keep one replica for them. */
    if (to == 0 && !quiet)
        to = 1;
    return to < st->current ? to : -1;
}

int as_target(struct as_state *st, const struct as_fleet *fleet, double now)
{
    struct as_fleet s;
    double *buf = NULL;
    int to;

    advance(st, now);
    st->current = clip(&st->cfg, st->current);
    if (fleet != NULL)
        s = sorted_fleet(fleet, &buf);
    /* Up first: when both windows agree on opposite sides (a long quiet
     * period just ended by a surge), serving the surge wins. */
    to = decide_up(st, fleet != NULL ? &s : NULL);
    if (to < 0)
        to = decide_down(st, fleet != NULL ? &s : NULL, now);
    if (to >= 0)
        set_current(st, to, now);
    free(buf);
    return st->current;
}

struct as_mix as_split(const struct as_config *cfg, int target, int ready_spot)
{
    struct as_mix m = {0, 0};
    int base, spot_needed;

    if (target <= 0)
        return m; /* scaled to zero: no base on-demand, no over-provisioning */
    if (!cfg->use_spot) {
        m.ondemand = target;
        return m;
    }
    /* base never exceeds the target: target 1 with base 2 is 1 on-demand. */
    base = cfg->base_ondemand < target ? cfg->base_ondemand : target;
    spot_needed = target - base;
    m.spot = spot_needed + cfg->overprovision;
    m.ondemand = base;
    /* READY spot only: a launching spot replica may never come up (no
     * capacity), and retiring its on-demand stand-in early leaves a hole. */
    if (cfg->dynamic_ondemand && ready_spot < spot_needed)
        m.ondemand += spot_needed - (ready_spot > 0 ? ready_spot : 0);
    return m;
}

/* Spot placer ---------------------------------------------------------- */

void sp_init(struct sp_placer *p)
{
    memset(p, 0, sizeof(*p));
}

void sp_free(struct sp_placer *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        free(p->locs[i].cloud);
        free(p->locs[i].region);
        free(p->locs[i].zone);
    }
    free(p->locs);
    sp_init(p);
}

size_t sp_add(struct sp_placer *p, const char *cloud, const char *region,
              const char *zone, double price)
{
    struct sp_location *l;

    p->locs = xgrow(p->locs, &p->cap, p->n + 1, sizeof(*p->locs));
    l = &p->locs[p->n];
    l->cloud = xstrdup(cloud);
    l->region = xstrdup(region);
    l->zone = zone != NULL ? xstrdup(zone) : NULL;
    l->price = price;
    l->state = SP_ACTIVE;
    return p->n++;
}

static int str_eq_null(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

long sp_find(const struct sp_placer *p, const char *cloud, const char *region,
             const char *zone)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->locs[i].cloud, cloud) == 0 &&
            strcmp(p->locs[i].region, region) == 0 && str_eq_null(p->locs[i].zone, zone))
            return (long)i;
    return -1;
}

size_t sp_nactive(const struct sp_placer *p)
{
    size_t i, n = 0;

    for (i = 0; i < p->n; i++)
        n += p->locs[i].state == SP_ACTIVE;
    return n;
}

void sp_preempted(struct sp_placer *p, size_t i)
{
    size_t j;

    BUG_ON(i >= p->n);
    p->locs[i].state = SP_PREEMPTED;
    /* With one ACTIVE location left every replica would pile into it, the
     * correlated failure spreading exists to avoid: forget the marks. */
    if (sp_nactive(p) < 2)
        for (j = 0; j < p->n; j++)
            p->locs[j].state = SP_ACTIVE;
}

void sp_active(struct sp_placer *p, size_t i)
{
    BUG_ON(i >= p->n);
    p->locs[i].state = SP_ACTIVE;
}

/* Replicas in the region (cloud_only 0) or the cloud (1) of location i. */
static long spread_count(const struct sp_placer *p, const int *counts, size_t i,
                         int cloud_only)
{
    long n = 0;
    size_t j;

    for (j = 0; j < p->n; j++)
        if (strcmp(p->locs[j].cloud, p->locs[i].cloud) == 0 &&
            (cloud_only || strcmp(p->locs[j].region, p->locs[i].region) == 0))
            n += counts[j];
    return n;
}

/* Whether location a is a better next spot home than b (lexicographic). */
static int better(const struct sp_placer *p, const int *counts, size_t a, size_t b)
{
    long ra, rb;

    if (counts[a] != counts[b])
        return counts[a] < counts[b];
    ra = spread_count(p, counts, a, 0);
    rb = spread_count(p, counts, b, 0);
    if (ra != rb)
        return ra < rb;
    ra = spread_count(p, counts, a, 1);
    rb = spread_count(p, counts, b, 1);
    if (ra != rb)
        return ra < rb;
    return p->locs[a].price < p->locs[b].price;
}

long sp_pick(const struct sp_placer *p, const int *counts)
{
    long best = -1;
    size_t i;

    for (i = 0; i < p->n; i++)
        if (p->locs[i].state == SP_ACTIVE &&
            (best < 0 || better(p, counts, i, (size_t)best)))
            best = (long)i;
    return best;
}
