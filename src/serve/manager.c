/*
 * manager.c - the replica manager (manager.h).  One round per service:
 * read its live replicas from the store, probe the running ones, decide
 * the count and the spot/on-demand split (autoscale.h), launch what is
 * missing as replica jobs, drain and cancel what is too many or too old,
 * and write the service's state.  Everything it decides goes through the
 * store (jobs, cancel requests), so a server killed in the middle finds
 * the same world when it comes back.
 */
#include "manager.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale.h"
#include "../catalog/catalog.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/xmem.h"

struct mrep {
    int64_t job_id;
    int version;          /* the service version it runs */
    int mode;             /* enum svc_mode */
    int running;          /* its job is RUNNING */
    int ready;            /* answered its last probes: takes traffic */
    int fails;            /* probe failures in a row */
    int probing;          /* a probe is out */
    int notice;           /* its node got a preemption notice */
    int cancelled;        /* its job was asked to stop */
    double running_at;    /* when its attempt started running */
    double next_probe_at;
    double drain_from;    /* 0 = not draining */
    int emulated;
    int placed;           /* has a live attempt (or was just given one) at cloud/region */
    double near_wait_from; /* first time placement near its users found no room; 0 = not waiting */
    char url[96];         /* "" = not reachable */
    char cloud[16], region[48], zone[48], accel[32];
    int seen;             /* in this round's list from the store */
};

struct msvc {
    int64_t id;
    char *name;
    int version;          /* of sp */
    struct spec *sp;      /* the current version's spec */
    struct as_config cfg;
    struct as_state as;
    struct sp_placer pl;
    int spot;             /* the spec allows spot: SpotHedge applies */
    int target;           /* the replica count decided last */
    struct mrep *reps;
    size_t nreps, cap;
    uint64_t ev_version;  /* of the replica set routers see */
    long waiting;         /* requests waiting for a replica (routers' report) */
    struct mrouter { char url[160], region[96]; double seen; } routers[MGR_MAX_ROUTERS];
    size_t nrouters;      /* routers that reported (the oldest replaced when full) */
    int failed;           /* replicas that failed in a row (none ready since) */
    char why[256];        /* the last one's reason */
    char *keys;           /* JSON array text of key digests, or NULL */
    struct policy *pol;   /* the policy in force for it (row->policy_text), or NULL */
    /* placement near users (see "placement near users" below) */
    struct mloc {
        const char *cloud, *region, *zone; /* the catalog's (interned) strings */
        unsigned modes;                    /* 1 << enum plan_mode it is sold in */
    } *locs;              /* where a replica could run: catalog and policy, capacity aside */
    size_t nlocs, locs_cap;
    double *slo;          /* per users' region: the RTT (ms) that counts as near; < 0 = none */
    size_t nslo;          /* = sv->nusers while the rule applies, else 0 */
    char note[256];       /* users the rule cannot serve (the service's reason says so) */
    int note_dirty;       /* note changed since the reason was written */
    const struct catalog *near_cat; /* locs were computed for this catalog ... */
    unsigned long near_pv;          /* ... at this price version; NULL = stale */
    int reps_dirty;       /* a replica event came since the list was read */
    int seen;
};

struct mgr {
    struct store *st;
    struct mgr_hooks h;
    double now;           /* of the last round (the placement hook has no clock) */
    struct msvc **svcs;
    size_t n, cap;
};

/* ---- services in memory ---- */

static struct msvc *svc_find(struct mgr *m, int64_t id)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (m->svcs[i]->id == id)
            return m->svcs[i];
    return NULL;
}

static void svc_free(struct msvc *ms)
{
    if (ms == NULL)
        return;
    spec_free(ms->sp);
    as_free(&ms->as);
    sp_free(&ms->pl);
    free(ms->reps);
    free(ms->name);
    free(ms->keys);
    policy_free(ms->pol);
    free(ms->locs);
    free(ms->slo);
    free(ms);
}

/* SpotHedge applies when the spec asks for spot (an alternative with
 * use_spot: true) and the policy in force does not forbid it for the
 * service (examples/policy.yaml keeps inference off spot). */
static int spot_allowed(const struct spec *sp, const char *policy_text)
{
    const struct policy_rule *r;
    struct policy *pol = NULL;
    struct err e;
    size_t i;
    int ok = 0;

    for (i = 0; i < sp->nres; i++)
        ok |= sp->res[i].use_spot == 1;
    err_clear(&e);
    if (!ok || policy_text == NULL ||
        policy_load_mem(&pol, "policy", policy_text, strlen(policy_text), &e) != 0)
        return ok;
    r = policy_match(pol, sp);
    ok = r == NULL || r->spot != POLICY_SPOT_FORBID;
    policy_free(pol);
    return ok;
}

/* The policy replicas are placed under, for placement near users (one that
 * does not load is left to the controller, which fails the replica). */
static void load_policy(struct msvc *ms, const char *policy_text)
{
    struct err e;

    policy_free(ms->pol);
    ms->pol = NULL;
    err_clear(&e);
    if (policy_text != NULL &&
        policy_load_mem(&ms->pol, "policy", policy_text, strlen(policy_text), &e) != 0)
        ms->pol = NULL;
}

/* The autoscaler's configuration from the service's spec. */
static void fill_cfg(struct msvc *ms, struct as_qps *qps, size_t *nq)
{
    const struct svc_spec *sv = ms->sp->service;
    size_t i, k = 0;

    as_config_default(&ms->cfg);
    ms->cfg.min_replicas = sv->min_replicas;
    ms->cfg.max_replicas = sv->max_replicas;
    for (i = 0; i < sv->ntarget_qps; i++) {
        if (sv->target_qps[i].accelerator == NULL)
            ms->cfg.target_qps = sv->target_qps[i].qps;
        else
            qps[k++] = (struct as_qps){sv->target_qps[i].accelerator, sv->target_qps[i].qps};
    }
    *nq = k;
    ms->cfg.accel_qps = k ? qps : NULL;
    ms->cfg.naccel_qps = k;
    ms->cfg.upscale_delay_s = sv->upscale_delay_s;
    ms->cfg.downscale_delay_s = sv->downscale_delay_s;
    ms->cfg.use_spot = ms->spot;
    ms->cfg.base_ondemand = sv->base_ondemand;
    ms->cfg.dynamic_ondemand = sv->dynamic_ondemand;
    ms->cfg.overprovision = sv->overprovision;
}

/* Parse row's spec when its version is new to us, and (re)configure the
 * autoscaler: 0, or an error (the service cannot be managed). */
static int svc_sync(const struct mgr *m, struct msvc *ms, const struct store_service *row,
                    double now, struct err *e)
{
    struct spec *sp = NULL;
    struct as_qps qps[64];
    size_t nq = 0;
    int rc, fresh = ms->sp == NULL;

    free(ms->keys);
    ms->keys = row->keys ? xstrdup(row->keys) : NULL;
    if (ms->sp != NULL && ms->version == row->version)
        return 0;
    rc = spec_load_mem(&sp, row->spec_path ? row->spec_path : row->name, row->spec_text,
                       strlen(row->spec_text), e);
    if (rc == 0 && sp->service == NULL)
        rc = err_set(e, ST_EINVAL, "its spec has no service: section");
    if (rc == 0 && sp->service->ntarget_qps > sizeof(qps) / sizeof(qps[0]))
        rc = err_set(e, ST_EINVAL, "too many target_qps_per_replica entries");
    if (rc != 0) {
        spec_free(sp);
        return rc;
    }
    spec_free(ms->sp);
    if (sp->team == NULL && row->team != NULL) /* the team serve up gave it */
        sp->team = xstrdup(row->team);
    ms->sp = sp;
    ms->near_cat = NULL;
    ms->reps_dirty = 1;
    ms->version = row->version;
    ms->spot = spot_allowed(sp, row->policy_text);
    load_policy(ms, row->policy_text);
    fill_cfg(ms, qps, &nq);
    if (m->h.adjust != NULL)
        m->h.adjust(m->h.ctx, ms->sp, &ms->cfg);
    rc = fresh ? as_init(&ms->as, &ms->cfg, now, e) : as_reconfig(&ms->as, &ms->cfg, now, e);
    if (rc == 0 && fresh && row->target > 0)
        as_set_current(&ms->as, row->target, now);
    ms->ev_version++;
    return rc;
}

static struct msvc *svc_get(struct mgr *m, const struct store_service *row, double now)
{
    struct msvc *ms = svc_find(m, row->id);

    if (ms == NULL) {
        ms = xcalloc(1, sizeof(*ms));
        ms->id = row->id;
        ms->name = xstrdup(row->name);
        /* versions keep growing over a restart: routers see a change */
        ms->ev_version = (uint64_t)(now * 1000);
        sp_init(&ms->pl);
        m->svcs = xgrow(m->svcs, &m->cap, m->n + 1, sizeof(*m->svcs));
        m->svcs[m->n++] = ms;
    }
    ms->seen = 1;
    return ms;
}

/* ---- replicas in memory ---- */

static struct mrep *rep_find(struct msvc *ms, int64_t job_id)
{
    size_t i;

    for (i = 0; i < ms->nreps; i++)
        if (ms->reps[i].job_id == job_id)
            return &ms->reps[i];
    return NULL;
}

/* Replica job_id of version and mode (enum svc_mode), new to ms->reps. */
static struct mrep *rep_add(struct msvc *ms, int64_t job_id, int version, int mode)
{
    struct mrep *r;

    ms->reps = xgrow(ms->reps, &ms->cap, ms->nreps + 1, sizeof(*ms->reps));
    r = &ms->reps[ms->nreps++];
    memset(r, 0, sizeof(*r));
    r->job_id = job_id;
    r->version = version;
    r->mode = mode;
    r->seen = 1;
    return r;
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* What the store says of replica j (its live attempt a, may be NULL). */
static void rep_update(struct mgr *m, struct msvc *ms, struct mrep *r,
                       const struct store_job *j, const struct store_attempt *a)
{
    const char *host = NULL;
    int was_running = r->running;

    r->version = j->svc_version;
    r->mode = j->svc_mode;
    r->cancelled = r->cancelled || j->cancel_requested;
    r->running = j->state == JOB_RUNNING && a != NULL && a->state == ATT_RUNNING;
    r->placed = a != NULL && (j->state == JOB_PROVISIONING || j->state == JOB_RUNNING);
    if (a != NULL) {
        copy_str(r->cloud, sizeof(r->cloud), a->cloud);
        copy_str(r->region, sizeof(r->region), a->region);
        copy_str(r->zone, sizeof(r->zone), a->zone);
        copy_str(r->accel, sizeof(r->accel), a->accelerator);
        r->running_at = a->running_at;
        host = m->h.host ? m->h.host(m->h.ctx, a, &r->emulated) : NULL;
    }
    if (host != NULL && r->running)
        snprintf(r->url, sizeof(r->url), "http://%s:%d", host, j->port);
    else
        r->url[0] = '\0';
    if (!r->running && (was_running || r->ready)) {
        /* preempted or recovering: out of the set until it answers again */
        r->ready = 0;
        r->fails = 0;
        r->notice = 0;
        ms->ev_version++;
    }
    r->seen = 1;
}

/* A replica ended without being asked to: a failure counts toward giving
 * the service up (a spec that cannot run must not be relaunched forever). */
static void note_end(struct mgr *m, struct msvc *ms, int64_t job_id)
{
    struct store_job j;
    struct err e;

    err_clear(&e);
    if (store_job_get(m->st, job_id, &j, &e) != 0)
        return;
    if (j.state == JOB_FAILED) {
        ms->failed++;
        snprintf(ms->why, sizeof(ms->why), "replica %lld: %s", (long long)job_id,
                 j.reason ? j.reason : "failed");
    }
    store_job_clear(&j);
}

/* Bring ms->reps in line with the store's live replicas of the service. */
static int reps_sync(struct mgr *m, struct msvc *ms, struct err *e)
{
    struct store_job *v = NULL;
    size_t n = 0, i, k;
    int rc = store_replica_list(m->st, ms->id, 1, &v, &n, e);

    if (rc != 0)
        return rc;
    for (i = 0; i < ms->nreps; i++)
        ms->reps[i].seen = 0;
    for (i = 0; i < n; i++) {
        struct mrep *r = rep_find(ms, v[i].id);
        struct store_attempt a;
        int have = 0;

        if (r == NULL)
            r = rep_add(ms, v[i].id, v[i].svc_version, v[i].svc_mode);
        if (v[i].cur_attempt != 0 && store_attempt_get(m->st, v[i].cur_attempt, &a, e) == 0)
            have = 1;
        rep_update(m, ms, r, &v[i], have ? &a : NULL);
        if (have)
            store_attempt_clear(&a);
    }
    store_jobs_free(v, n);
    for (i = k = 0; i < ms->nreps; i++) {
        if (ms->reps[i].seen) {
            ms->reps[k++] = ms->reps[i];
            continue;
        }
        if (ms->reps[i].ready || ms->reps[i].drain_from > 0)
            ms->ev_version++; /* it was in the set routers follow */
        if (!ms->reps[i].cancelled)
            note_end(m, ms, ms->reps[i].job_id);
    }
    ms->nreps = k;
    return 0;
}

/* ---- placement near users ----
 *
 * The rule (docs/serve.md, "Where replicas go"), for a service whose spec
 * says where its users are (stratus: service: users):
 *  - users' region u with share s is owed ceil(s x target) replicas near
 *    it; near = RTT from the replica's region to u (catalog_rtt_ms; 0 for
 *    u itself, as routers count it) at most the SLO: latency_slo_ms, else
 *    the RTT of the nearest location that could run a replica plus
 *    MGR_NEAR_MARGIN_MS;
 *  - while some region is owed, an offer is accepted only when it is near
 *    an owed region, unless no location that could run this replica (the
 *    catalog under the service's policy, in the replica's mode, allowed by
 *    the spot spread) is near one: an SLO nothing can meet never blocks
 *    placement (the service's reason says so) -- or unless the replica has
 *    waited MGR_NEAR_WAIT_S for room near one (such locations are full);
 *  - the controller asks in its ranking order, so among the acceptable
 *    offers the policy's first (the cheapest) wins.
 * Where a replica could run is recomputed each round (cheap: the catalog
 * is indexed by accelerator), since prices, spot sold or not, change. */

/* RTT in ms from (cloud, region) to users' region u; < 0 = unknown. */
static double rtt_to(const struct catalog *cat, const char *cloud, const char *region,
                     const struct svc_share *u)
{
    if (strcmp(cloud, u->cloud) == 0 && strcmp(region, u->region) == 0)
        return 0; /* the users' own region (the catalog would model ~23 ms) */
    return catalog_rtt_ms(cat, cloud, region, u->cloud, u->region, NULL);
}

static int is_near(const struct mgr *m, const struct msvc *ms, size_t u, const char *cloud,
                   const char *region)
{
    double r;

    if (ms->slo[u] < 0)
        return 0;
    r = rtt_to(m->h.cat, cloud, region, &ms->sp->service->users[u]);
    return r >= 0 && r <= ms->slo[u];
}

static void locs_add(struct msvc *ms, const struct offer *o, int mode)
{
    size_t i;

    /* catalog strings are interned: equal strings are equal pointers */
    for (i = 0; i < ms->nlocs; i++)
        if (ms->locs[i].cloud == o->cloud && ms->locs[i].region == o->region &&
            ms->locs[i].zone == o->zone)
            break;
    if (i == ms->nlocs) {
        ms->locs = xgrow(ms->locs, &ms->locs_cap, ms->nlocs + 1, sizeof(*ms->locs));
        ms->locs[ms->nlocs++] = (struct mloc){o->cloud, o->region, o->zone, 0};
    }
    ms->locs[i].modes |= 1u << mode;
}

/* The RTT that counts as near users' region u; < 0 when the catalog does
 * not know the region or nothing could run a replica. */
static double user_slo(const struct mgr *m, const struct msvc *ms, size_t u)
{
    const struct svc_share *us = &ms->sp->service->users[u];
    double best = -1;
    size_t i;

    if (catalog_region(m->h.cat, us->cloud, us->region) == NULL)
        return -1;
    if (ms->sp->service->latency_slo_ms > 0)
        return ms->sp->service->latency_slo_ms;
    for (i = 0; i < ms->nlocs; i++) {
        double r = rtt_to(m->h.cat, ms->locs[i].cloud, ms->locs[i].region, us);

        if (r >= 0 && (best < 0 || r < best))
            best = r;
    }
    return best < 0 ? -1 : best + MGR_NEAR_MARGIN_MS;
}

/* Some location that could run a replica is near users' region u. */
static int any_near(const struct mgr *m, const struct msvc *ms, size_t u)
{
    size_t i;

    for (i = 0; i < ms->nlocs; i++)
        if (is_near(m, ms, u, ms->locs[i].cloud, ms->locs[i].region))
            return 1;
    return 0;
}

/* What the service's reason says of users' regions the rule cannot serve
 * (logged once when it changes). */
static void near_note(const struct mgr *m, struct msvc *ms)
{
    const struct svc_spec *sv = ms->sp->service;
    char note[sizeof(ms->note)] = "";
    size_t u, len = 0;

    for (u = 0; u < ms->nslo && len < sizeof(note); u++) {
        const struct svc_share *us = &sv->users[u];

        if (catalog_region(m->h.cat, us->cloud, us->region) == NULL)
            len += (size_t)snprintf(note + len, sizeof(note) - len,
                                    "%susers' region %s/%s is not in the catalog", len ? "; " : "",
                                    us->cloud, us->region);
        else if (ms->slo[u] >= 0 && !any_near(m, ms, u))
            len += (size_t)snprintf(note + len, sizeof(note) - len,
                                    "%sno location can run a replica within %.0f ms of %s/%s",
                                    len ? "; " : "", ms->slo[u], us->cloud, us->region);
    }
    if (strcmp(note, ms->note) == 0)
        return;
    copy_str(ms->note, sizeof(ms->note), note);
    ms->note_dirty = 1;
    if (note[0])
        log_warn("service %s: %s (placed by policy and price instead)", ms->name, note);
}

/* Where a replica of ms could run and each users' region's SLO, for the
 * placement hook; the rule is off (nslo 0) without users or a catalog. */
static void near_refresh(struct mgr *m, struct msvc *ms, double now)
{
    const struct svc_spec *sv = ms->sp->service;
    struct plan_opts o = {.now = now, .top = 0, .by_price = 0};
    struct plan p;
    struct err e;
    size_t k, u;

    /* what could run a replica changes with the spec and policy (a new
     * version clears near_cat), the catalog's prices, and commitments'
     * windows (time): recomputed only then */
    if (ms->near_cat != NULL && ms->near_cat == m->h.cat &&
        ms->near_pv == catalog_price_version(m->h.cat) && catalog_ncommitments(m->h.cat) == 0)
        return;
    ms->near_cat = m->h.cat;
    ms->near_pv = m->h.cat ? catalog_price_version(m->h.cat) : 0;
    ms->nlocs = ms->nslo = 0;
    if (m->h.cat == NULL || sv->nusers == 0)
        return;
    plan_init(&p);
    err_clear(&e);
    /* infeasible: nothing to be near; the controller fails the replica */
    if (plan_rank(&p, m->h.cat, ms->sp, ms->pol, &o, &e) == 0)
        for (k = 0; k < p.n; k++)
            locs_add(ms, catalog_offer(m->h.cat, p.c[k].offer), p.c[k].mode);
    plan_free(&p);
    ms->slo = xrealloc(ms->slo, sv->nusers * sizeof(*ms->slo));
    ms->nslo = sv->nusers;
    for (u = 0; u < sv->nusers; u++)
        ms->slo[u] = user_slo(m, ms, u);
    near_note(m, ms);
}

/* ---- decisions ---- */

static int cancel_rep(struct mgr *m, struct msvc *ms, struct mrep *r, double now,
                      const char *why, struct err *e)
{
    char arg[256];
    int rc;

    if (r->cancelled)
        return 0;
    /* the job's event says who stopped it, not "the user" */
    snprintf(arg, sizeof(arg), "%lld stopped by service %s: %s", (long long)r->job_id,
             ms->name, why);
    rc = store_request_add(m->st, "cancel", arg, now, NULL, e);
    if (rc != 0)
        return rc;
    r->cancelled = 1;
    ms->reps_dirty = 1;
    if (r->ready || r->drain_from == 0)
        ms->ev_version++;
    r->ready = 0;
    log_info("service %s: replica %lld stops: %s", ms->name, (long long)r->job_id, why);
    if (m->h.wake)
        m->h.wake(m->h.ctx);
    return 0;
}

static void drain(struct msvc *ms, struct mrep *r, double now)
{
    if (r->drain_from > 0 || r->cancelled)
        return;
    r->drain_from = now;
    ms->ev_version++;
}

static int launch_rep(struct mgr *m, struct msvc *ms, const struct store_service *row,
                      int mode, double now, struct err *e)
{
    struct store_job t;
    int64_t id = 0;
    char name[200];
    int rc;

    memset(&t, 0, sizeof(t));
    snprintf(name, sizeof(name), "%s/replica", ms->name);
    t.name = name;
    t.service_id = ms->id;
    t.svc_version = ms->version;
    t.svc_mode = mode;
    /* a replica that cannot listen on $PORT keeps its declared port */
    t.port = m->h.port && !svc_port_fixed(ms->sp->service, ms->sp->run)
                 ? m->h.port(m->h.ctx, &t) : 0;
    if (t.port <= 0)
        t.port = ms->sp->service->port;
    rc = sched_submit_replica(m->st, row->spec_path ? row->spec_path : ms->name,
                              row->spec_text, ms->sp, row->policy_text, &t, now, &id, e);
    if (rc != 0)
        return rc;
    /* known from now: however soon it ends, the next round sees how */
    rep_add(ms, id, ms->version, mode);
    ms->reps_dirty = 1;
    log_info("service %s: replica %lld launched (%s, port %d)", ms->name, (long long)id,
             svc_mode_name(mode), t.port);
    if (m->h.wake)
        m->h.wake(m->h.ctx);
    return 0;
}

/* Replicas of the current version that count toward the target (not
 * draining, not stopping), by mode; ready spot ones in *ready_spot.  A
 * replica with a preemption notice still counts: its job recovers by
 * itself (a new attempt), and until it is ready again the on-demand
 * fallback covers for it (SpotHedge) instead of a second replica. */
static void count_live(const struct msvc *ms, int count[3], int *ready_spot, int *ready)
{
    size_t i;

    count[0] = count[1] = count[2] = 0;
    *ready_spot = *ready = 0;
    for (i = 0; i < ms->nreps; i++) {
        const struct mrep *r = &ms->reps[i];

        if (r->version != ms->version || r->drain_from > 0 || r->cancelled)
            continue;
        count[r->mode]++;
        *ready += r->ready;
        *ready_spot += r->ready && r->mode == SVC_MODE_SPOT;
    }
}

/* Retire `extra` replicas of mode: those not ready first, then the newest. */
static void retire(struct msvc *ms, int mode, int extra, double now)
{
    size_t i;
    int pass;

    for (pass = 0; pass < 2 && extra > 0; pass++)
        for (i = ms->nreps; i-- > 0 && extra > 0;) {
            struct mrep *r = &ms->reps[i];

            if (r->version != ms->version || r->mode != mode || r->drain_from > 0 ||
                r->cancelled || r->notice || (pass == 0 && r->ready))
                continue;
            drain(ms, r, r->ready ? now : now - MGR_DRAIN_S); /* not ready: at once */
            extra--;
        }
}

static int scale(struct mgr *m, struct msvc *ms, const struct store_service *row, double now,
                 struct err *e)
{
    const struct svc_spec *sv = ms->sp->service;
    int count[3], ready_spot, ready, want[3] = {0, 0, 0}, mode, rc = 0;

    ms->target = sv->fixed_replicas > 0 ? sv->fixed_replicas : as_target(&ms->as, NULL, now);
    count_live(ms, count, &ready_spot, &ready);
    if (ms->spot) {
        struct as_mix mix = as_split(&ms->cfg, ms->target, ready_spot);

        want[SVC_MODE_SPOT] = mix.spot;
        want[SVC_MODE_ON_DEMAND] = mix.ondemand;
    } else {
        want[SVC_MODE_ANY] = ms->target;
    }
    for (mode = 0; mode < 3 && rc == 0; mode++) {
        for (; count[mode] < want[mode] && rc == 0; count[mode]++)
            rc = launch_rep(m, ms, row, mode, now, e);
        if (count[mode] > want[mode])
            retire(ms, mode, count[mode] - want[mode], now);
    }
    return rc;
}

/* Older versions (a rolling update): drained once the current version has
 * as many ready replicas as the target, or at once when they are not ready. */
static void retire_old(struct msvc *ms, double now)
{
    int count[3], ready_spot, ready;
    size_t i;

    count_live(ms, count, &ready_spot, &ready);
    for (i = 0; i < ms->nreps; i++) {
        struct mrep *r = &ms->reps[i];

        if (r->version != ms->version && (!r->ready || ready >= ms->target))
            drain(ms, r, r->ready ? now : now - MGR_DRAIN_S);
    }
}

/* Probes due, replicas to replace, drains done. */
static int upkeep(struct mgr *m, struct msvc *ms, double now, double *next, struct err *e)
{
    const struct svc_probe *p = &ms->sp->service->probe;
    size_t i;
    int rc = 0;

    for (i = 0; i < ms->nreps && rc == 0; i++) {
        struct mrep *r = &ms->reps[i];

        if (r->drain_from > 0 && !r->cancelled) {
            if (now >= r->drain_from + MGR_DRAIN_S)
                rc = cancel_rep(m, ms, r, now, "retired", e);
            else if (r->drain_from + MGR_DRAIN_S < *next)
                *next = r->drain_from + MGR_DRAIN_S;
            continue;
        }
        if (r->fails >= MGR_PROBE_FAILS && !r->cancelled) {
            rc = cancel_rep(m, ms, r, now, "it fails its readiness probe; replacing it", e);
            continue;
        }
        if (!r->running || r->url[0] == '\0' || r->cancelled || r->probing)
            continue;
        if (now >= r->next_probe_at && m->h.probe) {
            char url[sizeof(r->url) + 512];

            snprintf(url, sizeof(url), "%s%s", r->url, p->path);
            r->probing = 1;
            r->next_probe_at = now + MGR_PROBE_EVERY_S;
            m->h.probe(m->h.ctx, r->job_id, url, p);
        }
        if (r->next_probe_at < *next)
            *next = r->next_probe_at;
    }
    return rc;
}

/* The state the service shows, written when it changed. */
static int write_state(struct mgr *m, struct msvc *ms, struct store_service *row,
                       double now, struct err *e)
{
    int count[3], ready_spot, ready, state, old = 0, rc;
    size_t i;

    count_live(ms, count, &ready_spot, &ready);
    for (i = 0; i < ms->nreps; i++)
        old += ms->reps[i].version != ms->version && !ms->reps[i].cancelled;
    state = old > 0 ? SVC_UPDATING : ready > 0 ? SVC_READY : SVC_STARTING;
    if (state == row->state && ms->target == row->target && !ms->note_dirty)
        return 0;
    row->state = state;
    row->target = ms->target;
    row->updated_at = now;
    free(row->reason);
    row->reason = xasprintf("%d of %d replicas ready%s%s", ready, ms->target,
                            ms->note[0] ? "; " : "", ms->note);
    rc = store_service_update(m->st, row, e);
    if (rc == 0)
        ms->note_dirty = 0;
    return rc;
}

/* The service's row, ended (row->ended_at set), written; with it, its
 * dataset's home forgotten if no job ever ran on it (docs/data.md). */
static int service_ended(struct mgr *m, const struct msvc *ms,
                         const struct store_service *row, struct err *e)
{
    int rc = store_begin(m->st, e);

    if (rc == 0 && (rc = store_service_update(m->st, row, e)) == 0)
        rc = sched_data_forget_unused(m->st, ms->sp, row->id, row->ended_at, e);
    if (rc == 0)
        return store_commit(m->st, e);
    store_rollback(m->st);
    return rc;
}

static int shut_down(struct mgr *m, struct msvc *ms, struct store_service *row, double now,
                     struct err *e)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < ms->nreps && rc == 0; i++)
        rc = cancel_rep(m, ms, &ms->reps[i], now, "the service is going down", e);
    if (rc != 0 || ms->nreps > 0)
        return rc;
    row->state = SVC_DOWN;
    row->ended_at = now;
    row->updated_at = now;
    free(row->reason);
    row->reason = xstrdup("serve down: every replica stopped");
    return service_ended(m, ms, row, e);
}

/* Replicas keep failing and none became ready: the service FAILED (its
 * reason quotes the last failure), its other replicas stopped. */
static int give_up(struct mgr *m, struct msvc *ms, struct store_service *row, double now,
                   struct err *e)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < ms->nreps && rc == 0; i++)
        rc = cancel_rep(m, ms, &ms->reps[i], now, "the service failed", e);
    if (rc != 0)
        return rc;
    log_error("service %s: %d replicas failed in a row; giving up (%s)", ms->name, ms->failed,
              ms->why);
    row->state = SVC_FAILED;
    row->ended_at = now;
    row->updated_at = now;
    free(row->reason);
    row->reason = xasprintf("%d replicas failed in a row, none ready; last: %s", ms->failed,
                            ms->why);
    return service_ended(m, ms, row, e);
}

static int tick_service(struct mgr *m, struct store_service *row, double now, double *next,
                        struct err *e)
{
    struct msvc *ms = svc_get(m, row, now);
    int rc = svc_sync(m, ms, row, now, e);

    if (rc == 0)
        near_refresh(m, ms, now);
    if (rc == 0 && (ms->reps_dirty || !m->h.sync_on_events)) {
        ms->reps_dirty = 0;
        rc = reps_sync(m, ms, e);
    }
    if (rc != 0)
        return rc;
    if (row->state == SVC_SHUTTING_DOWN)
        return shut_down(m, ms, row, now, e);
    if (ms->failed >= MGR_GIVE_UP && ms->failed >= 2 * ms->target)
        return give_up(m, ms, row, now, e);
    rc = upkeep(m, ms, now, next, e);
    if (rc == 0)
        rc = scale(m, ms, row, now, e);
    if (rc == 0)
        retire_old(ms, now);
    if (rc == 0)
        rc = write_state(m, ms, row, now, e);
    if (rc == 0 && ms->sp->service->fixed_replicas == 0) {
        double t = as_next_tick(&ms->as, now);

        if (t < *next)
            *next = t;
    }
    return rc;
}

/* ---- the interface ---- */

int mgr_open(struct mgr **out, struct store *st, const struct mgr_hooks *h, struct err *e)
{
    struct mgr *m = xcalloc(1, sizeof(*m));

    (void)e;
    m->st = st;
    if (h)
        m->h = *h;
    *out = m;
    return 0;
}

void mgr_close(struct mgr *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++)
        svc_free(m->svcs[i]);
    free(m->svcs);
    free(m);
}

int mgr_tick(struct mgr *m, double now, double *next_in, struct err *e)
{
    struct store_service *v = NULL;
    size_t n = 0, i, k;
    double next = now + 3600;
    int rc = store_service_list(m->st, 1, &v, &n, e);

    m->now = now;
    for (i = 0; i < m->n; i++)
        m->svcs[i]->seen = 0;
    for (i = 0; i < n && rc == 0; i++) {
        struct err se;

        err_clear(&se);
        if (tick_service(m, &v[i], now, &next, &se) != 0) {
            /* one service's trouble is logged; the others go on */
            log_error("service %s: %s", v[i].name, se.msg);
            svc_get(m, &v[i], now)->seen = 1;
        }
    }
    store_services_free(v, n);
    for (i = k = 0; i < m->n; i++) {
        if (m->svcs[i]->seen)
            m->svcs[k++] = m->svcs[i];
        else
            svc_free(m->svcs[i]);
    }
    m->n = k;
    if (next_in)
        *next_in = next > now ? next - now : 0;
    return rc;
}

static struct mrep *rep_anywhere(struct mgr *m, int64_t job_id, struct msvc **ms)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        struct mrep *r = rep_find(m->svcs[i], job_id);

        if (r != NULL) {
            *ms = m->svcs[i];
            return r;
        }
    }
    return NULL;
}

static void mark_location(struct msvc *ms, const struct mrep *r, int preempted)
{
    long i = sp_find(&ms->pl, r->cloud, r->region, r->zone[0] ? r->zone : NULL);

    if (i < 0 && preempted)
        i = (long)sp_add(&ms->pl, r->cloud, r->region, r->zone[0] ? r->zone : NULL, 0);
    if (i >= 0 && preempted)
        sp_preempted(&ms->pl, (size_t)i);
    else if (i >= 0)
        sp_active(&ms->pl, (size_t)i);
}

void mgr_probed(struct mgr *m, int64_t job_id, int ok, double now)
{
    struct msvc *ms = NULL;
    struct mrep *r = rep_anywhere(m, job_id, &ms);

    if (r == NULL)
        return;
    r->probing = 0;
    if (ok) {
        r->fails = 0;
        if (!r->ready && !r->cancelled && r->drain_from == 0 && !r->notice) {
            r->ready = 1;
            ms->failed = 0;
            ms->ev_version++;
            if (r->mode == SVC_MODE_SPOT)
                mark_location(ms, r, 0);
            log_info("service %s: replica %lld is ready", ms->name, (long long)job_id);
        }
        return;
    }
    if (!r->ready && now - r->running_at < ms->sp->service->probe.initial_delay_s)
        return; /* still starting: failures do not count yet */
    r->fails++;
    if (r->ready && r->fails >= MGR_PROBE_FAILS) {
        r->ready = 0;
        ms->ev_version++;
    }
}

void mgr_load(struct mgr *m, int64_t service_id, long n, long waiting, double now)
{
    struct msvc *ms = svc_find(m, service_id);

    if (ms == NULL || ms->sp == NULL)
        return;
    if (n > 0)
        as_observe(&ms->as, now, n);
    ms->waiting = waiting;
    if (waiting > 0)
        as_request_waiting(&ms->as, now);
}

void mgr_router_seen(struct mgr *m, int64_t service_id, const char *url, const char *region,
                     double now)
{
    struct msvc *ms = svc_find(m, service_id);
    size_t i, k = 0;

    if (ms == NULL || url == NULL || url[0] == '\0')
        return;
    for (i = 0; i < ms->nrouters; i++) {
        if (strcmp(ms->routers[i].url, url) == 0)
            break;
        if (ms->routers[i].seen < ms->routers[k].seen)
            k = i; /* the oldest, replaced when the list is full */
    }
    if (i == ms->nrouters)
        i = ms->nrouters < MGR_MAX_ROUTERS ? ms->nrouters++ : k;
    copy_str(ms->routers[i].url, sizeof(ms->routers[i].url), url);
    copy_str(ms->routers[i].region, sizeof(ms->routers[i].region), region);
    ms->routers[i].seen = now;
}

json_t *mgr_routers(struct mgr *m, int64_t service_id, double now)
{
    struct msvc *ms = svc_find(m, service_id);
    json_t *arr = json_array();
    size_t i;

    for (i = 0; ms != NULL && i < ms->nrouters; i++) {
        const struct mrouter *r = &ms->routers[i];

        if (now - r->seen > MGR_ROUTER_STALE_S)
            continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:f}", "url", r->url, "region",
                                             r->region, "seen_s_ago", now - r->seen));
    }
    return arr;
}

static const char *rep_state(const struct mrep *r)
{
    if (r->drain_from > 0 || r->notice || r->cancelled)
        return "DRAINING";
    return r->ready ? "READY" : "STARTING";
}

json_t *mgr_endpoints(struct mgr *m, int64_t service_id, uint64_t *version)
{
    struct msvc *ms = svc_find(m, service_id);
    json_t *o, *arr;
    size_t i;

    if (ms == NULL || ms->sp == NULL)
        return NULL;
    o = json_object();
    arr = json_array();
    json_object_set_new(o, "service", json_string(ms->name));
    json_object_set_new(o, "version", json_integer((json_int_t)ms->ev_version));
    json_object_set_new(o, "keys", ms->keys ? json_loads(ms->keys, 0, NULL) : json_array());
    if (json_object_get(o, "keys") == NULL)
        json_object_set_new(o, "keys", json_array());
    for (i = 0; i < ms->nreps; i++) {
        const struct mrep *r = &ms->reps[i];
        json_t *x;

        if (r->url[0] == '\0' || (!r->ready && r->drain_from == 0 && !r->notice))
            continue; /* not answering yet: routers need not know it */
        x = json_object();
        json_object_set_new(x, "id", json_integer(r->job_id));
        json_object_set_new(x, "url", json_string(r->url));
        json_object_set_new(x, "cloud", json_string(r->cloud));
        json_object_set_new(x, "region", json_string(r->region));
        json_object_set_new(x, "zone", json_string(r->zone));
        json_object_set_new(x, "state", json_string(rep_state(r)));
        json_object_set_new(x, "mode", json_string(svc_mode_name(r->mode)));
        json_object_set_new(x, "accelerator", json_string(r->accel));
        json_object_set_new(x, "target_qps",
                            json_real(svc_target_qps(ms->sp->service, r->accel)));
        json_object_set_new(x, "emulated", json_boolean(r->emulated));
        json_array_append_new(arr, x);
    }
    json_object_set_new(o, "replicas", arr);
    if (version)
        *version = ms->ev_version;
    return o;
}

uint64_t mgr_endpoints_version(struct mgr *m, int64_t service_id)
{
    const struct msvc *ms = svc_find(m, service_id);

    return ms && ms->sp ? ms->ev_version : 0;
}

void mgr_keys_changed(struct mgr *m, int64_t service_id, const char *keys)
{
    struct msvc *ms = svc_find(m, service_id);

    if (ms == NULL)
        return; /* not managed yet: its first round reads the row */
    free(ms->keys);
    ms->keys = keys ? xstrdup(keys) : NULL;
    ms->ev_version++;
}

const char *mgr_replica_state(struct mgr *m, int64_t service_id, int64_t job_id)
{
    struct msvc *ms = svc_find(m, service_id);
    const struct mrep *r = ms ? rep_find(ms, job_id) : NULL;

    return r ? rep_state(r) : NULL;
}

double mgr_qps(struct mgr *m, int64_t service_id)
{
    struct msvc *ms = svc_find(m, service_id);

    return ms && ms->sp ? as_qps(&ms->as) : 0;
}

/* A yes to the controller is the replica's placement: note it now, so the
 * next replica placed in the same step counts it. */
static void claim(struct msvc *ms, const struct store_job *j, const struct offer *o)
{
    struct mrep *r = rep_find(ms, j->id);

    if (r == NULL)
        r = rep_add(ms, j->id, j->svc_version, j->svc_mode);
    copy_str(r->cloud, sizeof(r->cloud), o->cloud);
    copy_str(r->region, sizeof(r->region), o->region);
    copy_str(r->zone, sizeof(r->zone), o->zone);
    r->placed = 1;
    r->near_wait_from = 0;
}

/* Spot replicas spread: no more than half the spot target (rounded up) in
 * one zone once the target is 2 or more, and never into a location marked
 * preempted while another is active (the placer's reset rule keeps at
 * least 2 active).  May spot replica job_id go to (cloud, region, zone)? */
static int spread_ok(const struct msvc *ms, int64_t job_id, const char *cloud,
                     const char *region, const char *zone)
{
    long li = sp_find(&ms->pl, cloud, region, zone[0] ? zone : NULL);
    int here = 0, cap, spot_target;
    size_t i;

    if (li >= 0 && ms->pl.locs[li].state == SP_PREEMPTED && sp_nactive(&ms->pl) >= 1)
        return 0;
    spot_target = as_split(&ms->cfg, ms->target, 0).spot;
    if (spot_target < 2)
        return 1;
    cap = (spot_target + 1) / 2;
    for (i = 0; i < ms->nreps; i++) {
        const struct mrep *r = &ms->reps[i];

        /* replicas of an older version or draining are on their way out */
        here += r->job_id != job_id && r->mode == SVC_MODE_SPOT && !r->cancelled &&
                r->version == ms->version && r->drain_from == 0 && !r->notice &&
                strcmp(r->cloud, cloud) == 0 && strcmp(r->region, region) == 0 &&
                strcmp(r->zone, zone) == 0;
    }
    return here < cap;
}

/* Users' region u is owed replicas near it (replica job_id, being placed,
 * not counted; neither are replicas on their way out or not placed). */
static int owed(const struct mgr *m, const struct msvc *ms, size_t u, int64_t job_id)
{
    int want = (int)ceil(ms->sp->service->users[u].share * ms->target - 1e-9), have = 0;
    size_t i;

    if (ms->slo[u] < 0)
        return 0;
    for (i = 0; i < ms->nreps && have < want; i++) {
        const struct mrep *r = &ms->reps[i];

        have += r->job_id != job_id && r->placed && r->version == ms->version &&
                !r->cancelled && r->drain_from == 0 && !r->notice &&
                is_near(m, ms, u, r->cloud, r->region);
    }
    return have < want;
}

/* Some location could take replica j near users' region u: sold in the
 * replica's mode (enum svc_mode) and, when only as spot, allowed by the
 * spot spread. */
static int could_be_near(const struct mgr *m, const struct msvc *ms, const struct store_job *j,
                         size_t u)
{
    unsigned want = j->svc_mode == SVC_MODE_SPOT        ? 1u << PLAN_SPOT
                    : j->svc_mode == SVC_MODE_ON_DEMAND ? ~(1u << PLAN_SPOT)
                                                        : ~0u;
    size_t i;

    for (i = 0; i < ms->nlocs; i++) {
        const struct mloc *l = &ms->locs[i];
        unsigned modes = l->modes & want;

        if (modes == 0 || !is_near(m, ms, u, l->cloud, l->region))
            continue;
        if (modes == 1u << PLAN_SPOT && !spread_ok(ms, j->id, l->cloud, l->region, l->zone))
            continue;
        return 1;
    }
    return 0;
}

/* Replica j has waited MGR_NEAR_WAIT_S for room near its users (the wait
 * starts at the first offer refused for being far). */
static int waited_enough(const struct mgr *m, struct msvc *ms, const struct store_job *j)
{
    struct mrep *r = rep_find(ms, j->id);

    if (r == NULL)
        r = rep_add(ms, j->id, j->svc_version, j->svc_mode);
    if (r->near_wait_from == 0)
        r->near_wait_from = m->now;
    if (m->now - r->near_wait_from < MGR_NEAR_WAIT_S)
        return 0;
    log_info("service %s: replica %lld found no room near its users for %.0f s; "
             "placing it by policy and price",
             ms->name, (long long)j->id, m->now - r->near_wait_from);
    return 1;
}

/* The placement-near-users rule for replica j and offer o (1: o may take it). */
static int near_ok(const struct mgr *m, struct msvc *ms, const struct store_job *j,
                   const struct offer *o)
{
    int owing = 0, reachable = 0;
    size_t u;

    for (u = 0; u < ms->nslo; u++) {
        if (!owed(m, ms, u, j->id))
            continue;
        if (is_near(m, ms, u, o->cloud, o->region))
            return 1;
        owing = 1;
        reachable = reachable || could_be_near(m, ms, j, u);
    }
    if (!owing || !reachable)
        return 1;
    return waited_enough(m, ms, j);
}

/* Spot replicas spread (spread_ok); replicas of a service with users go
 * near them (near_ok, "placement near users").  Other replicas go where
 * the controller ranks them. */
int mgr_replica_may_use(void *ctx, const struct store_job *j, const struct offer *o, int mode)
{
    struct mgr *m = ctx;
    struct msvc *ms = svc_find(m, j->service_id);

    if (ms == NULL || ms->sp == NULL)
        return 1;
    if (mode == PLAN_SPOT && !spread_ok(ms, j->id, o->cloud, o->region, o->zone))
        return 0;
    if (ms->nslo > 0 && !near_ok(m, ms, j, o))
        return 0;
    if (mode == PLAN_SPOT || ms->nslo > 0)
        claim(ms, j, o);
    return 1;
}

void mgr_replica_event(void *ctx, const struct store_job *j, const char *type)
{
    struct msvc *ms = NULL;
    struct mrep *r = rep_anywhere(ctx, j->id, &ms);

    if (r == NULL) {
        ms = svc_find(ctx, j->service_id);
        if (ms != NULL)
            ms->reps_dirty = 1;
        return;
    }
    ms->reps_dirty = 1;
    if (strcmp(type, "preempt-notice") == 0 && !r->notice) {
        r->notice = 1; /* drain: no new requests; the ones in flight finish */
        ms->ev_version++;
        mark_location(ms, r, 1);
    } else if (strcmp(type, "preempted") == 0) {
        mark_location(ms, r, 1);
    }
}
