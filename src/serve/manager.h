/*
 * manager.h - the replica manager: keeps every live service (store.h,
 * "services") at the replicas it should have.  A replica is a job
 * (store_job.service_id), so placement, failover after a preemption,
 * accounting and crash safety are the controller's; the manager decides
 * how many replicas, which of them spot and which on-demand (SpotHedge,
 * serve/autoscale.h), where they may go (replica_may_use: spot ones spread
 * over zones, and near the users when the spec says where they are),
 * which take traffic (readiness probes), which drain, and when a service
 * is up, updated or down, or has FAILED (replicas failing in a row with
 * none ever ready: a spec that cannot run is not relaunched forever).
 *
 * It runs in the server next to the controller: mgr_tick() after every
 * controller step and when its own deadline comes (next_in), always with
 * the caller's clock (virtual time in tests).  Probes are the caller's
 * I/O: mgr_tick asks for them through hooks.probe and hears the answer
 * through mgr_probed().  What the manager keeps in memory (readiness,
 * autoscaler readings, preempted locations) is rebuilt after a restart:
 * replicas are probed again, the replica count resumes from the store.
 *
 * A replica's life as routers see it (mgr_endpoints): STARTING (launching
 * or not yet answering its probe) -> READY (answers; takes traffic) ->
 * DRAINING (retired, or its node got a preemption notice: no new
 * requests, the ones in flight finish) -> gone (its job cancelled or
 * ended).  A replica that fails its probe 3 times in a row once past the
 * probe's initial delay is replaced.
 */
#ifndef STRATUS_SERVE_MANAGER_H
#define STRATUS_SERVE_MANAGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct as_config;
struct catalog;
struct offer;
struct store;
struct store_attempt;
struct spec;
struct store_job;
struct svc_probe;

/* Probe failures in a row (past the initial delay) that replace a replica. */
#define MGR_PROBE_FAILS 3
/* Seconds between probes of one replica. */
#define MGR_PROBE_EVERY_S 2.0
/* Replicas failing in a row (and at least twice the target) with none
 * ready that make the service FAILED. */
#define MGR_GIVE_UP 3
/* A router not heard from for this long is no longer listed. */
#define MGR_ROUTER_STALE_S 60.0
/* Routers listed per service at most. */
#define MGR_MAX_ROUTERS 32
/* Seconds a retired replica drains before its job is cancelled. */
#define MGR_DRAIN_S 5.0
/* Placement near users (docs/serve.md): without latency_slo_ms, a location
 * is near a users' region when its RTT is at most this much over the RTT of
 * the nearest location that could run the replica. */
#define MGR_NEAR_MARGIN_MS 30.0
/* Seconds a replica owed to its users waits for room near them (when such
 * locations exist but are full) before it goes where the policy ranks it. */
#define MGR_NEAR_WAIT_S 300.0

struct mgr_hooks {
    void *ctx;
    /* Probe replica job_id at url ("http://host:port/path") with p; the
     * answer comes back through mgr_probed(). */
    void (*probe)(void *ctx, int64_t job_id, const char *url, const struct svc_probe *p);
    /* A port for a new replica: the local world gives each its own free
     * loopback port; 0 = the spec's (a replica per node elsewhere). */
    int (*port)(void *ctx, const struct store_job *j);
    /* The host a running replica answers on, and whether it is in the
     * emulated local world (routers add the RTT between regions); NULL =
     * not reachable from here (no traffic, no probes). */
    const char *(*host)(void *ctx, const struct store_attempt *a, int *emulated);
    /* New replica jobs or cancel requests are in the store: step soon. */
    void (*wake)(void *ctx);
    /* The controller's catalog (borrowed; outlives the manager): where a
     * replica could run and the RTTs to its users.  NULL = placement
     * ignores `stratus: service: users`. */
    const struct catalog *cat;
    /* The simulator's baseline policies run a service otherwise than its
     * spec says (placement blind to users, no on-demand fallback,
     * SkyServe's autoscaler rule): called with each version's freshly
     * parsed spec and autoscaler configuration, before either is used.
     * NULL = the service runs as written. */
    void (*adjust)(void *ctx, struct spec *sp, struct as_config *cfg);
    /* 1: a service's replica list is read from the store again only after
     * one of its replicas had an event (mgr_replica_event), a launch or a
     * cancel -- the simulator, where every change comes through the
     * controller; 0: every round (the server: a replica's address can
     * appear without an event). */
    int sync_on_events;
};

struct mgr;

int mgr_open(struct mgr **out, struct store *st, const struct mgr_hooks *h, struct err *e);
void mgr_close(struct mgr *m);
/* One round over every live service at `now`; *next_in (may be NULL) gets
 * the seconds until the manager has work again. */
int mgr_tick(struct mgr *m, double now, double *next_in, struct err *e);
/* The answer to a probe hooks.probe asked for. */
void mgr_probed(struct mgr *m, int64_t job_id, int ok, double now);
/* A router's report: n requests arrived for service_id since its last
 * report, `waiting` wait for a replica now. */
void mgr_load(struct mgr *m, int64_t service_id, long n, long waiting, double now);
/* Router `url` in `region` (may be "") reported for service_id at now. */
void mgr_router_seen(struct mgr *m, int64_t service_id, const char *url, const char *region,
                     double now);
/* The routers that reported within MGR_ROUTER_STALE_S of now: [{"url",
 * "region", "seen_s_ago"}] (an empty array when none). */
json_t *mgr_routers(struct mgr *m, int64_t service_id, double now);
/* The replica set routers follow: {"service", "version", "keys", "replicas":
 * [...]} (docs/router.md); *version (may be NULL) gets the version, which
 * grows whenever the set changes.  NULL when the service is not live here. */
json_t *mgr_endpoints(struct mgr *m, int64_t service_id, uint64_t *version);
/* The version mgr_endpoints would say now (0: not live here). */
uint64_t mgr_endpoints_version(struct mgr *m, int64_t service_id);
/* Service service_id's API keys are now `keys` (the JSON array of digests
 * its store row holds; NULL = none): the set routers follow gets a new
 * version at once, so a revoked key stops working at their next poll. */
void mgr_keys_changed(struct mgr *m, int64_t service_id, const char *keys);
/* What the manager knows of replica job_id: its state as routers see it
 * ("STARTING", "READY", "DRAINING") or NULL. */
const char *mgr_replica_state(struct mgr *m, int64_t service_id, int64_t job_id);
/* The latest request rate the autoscaler read for service_id (0 if none). */
double mgr_qps(struct mgr *m, int64_t service_id);

/* The controller's hooks (sched_params.replica_may_use / replica_event).
 * mgr_replica_may_use says whether replica j may take offer o in mode
 * (enum plan_mode); a yes is its placement.  The rules are docs/serve.md's
 * "Where replicas go": spot spread, then near the users. */
int mgr_replica_may_use(void *ctx, const struct store_job *j, const struct offer *o, int mode);
void mgr_replica_event(void *ctx, const struct store_job *j, const char *type);

#endif
