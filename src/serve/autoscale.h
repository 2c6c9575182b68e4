/*
 * autoscale.h - the replica-count and placement policy of a service: how many
 * replicas it wants (autoscaler), how many of them on spot and how many on
 * on-demand (SpotHedge split), and where the next spot replica goes (spot
 * placer).  Pure logic in virtual time: every function that depends on time
 * takes `now` (seconds, any origin, never decreasing); nothing here does I/O,
 * reads a clock or logs.  The replica manager in the controller calls it on
 * each tick and acts on the answers.
 *
 * Autoscaler.  Requests are counted in buckets of tick_s seconds.  When a
 * bucket closes it yields one reading: the QPS over the last window_s
 * seconds (the bucket and the ones before it).  A reading's "raw target" is
 * the replica count that QPS needs (ceil(qps / target_qps_per_replica), or
 * per accelerator, see as_needed; without any QPS target one replica serves
 * any load), clipped to [min_replicas, max_replicas].
 *
 * Hysteresis rule (the decision as_target takes; N = ceil(delay / tick_s)
 * readings, at least 1; q = ceil(agree * N), agree = 0.8 by default):
 *   - scale UP when, over the last N_up = upscale_delay_s / tick_s readings,
 *     the OLDEST reading is above the current target and at least q of the
 *     N_up readings are above it.  The new target is the window's median
 *     raw target (the upper one), which is above the current target since
 *     more than half the readings are.
 *   - scale DOWN symmetrically over downscale_delay_s: the oldest reading is
 *     below the current target and at least q of them are; the new target is
 *     the window's (lower) median raw target.
 *   - only readings taken after the last change count (the evidence for a
 *     change is never reused for the next one, so there is no flapping).
 * Why: SkyServe scales only after `delay` of CONSECUTIVE readings on one
 * side, and any opposite reading resets the count (its users complain,
 * skypilot#4444): one noisy reading in 300 s postpones a needed scale-up by
 * another 300 s.  Here a few readings (N - q) may disagree without effect,
 * while the "oldest reading agrees" condition keeps the promise that load
 * changed at least a full delay ago: a load step at S scales up at exactly
 * S + upscale_delay_s, noisy readings in between or not (with window_s =
 * tick_s; a longer window spreads the step over window_s); an isolated spike
 * during a quiet period is 1 reading of N and triggers nothing.  Taking the
 * median instead of the latest keeps one spike from choosing the size; it
 * reaches the load's level in one change where a low quantile would take
 * two (and each change restarts the evidence for the next, down included:
 * in the simulator, the q-th value kept a service at its peak size through
 * a whole quieter phase, 7% more replica-hours than the median on a phased
 * trace, docs/sim-serve.md).
 *
 * Zero.  The count drops to 0 (min_replicas 0 only) when the down rule says
 * 0 AND no request at all arrived for downscale_delay_s; a trickle of
 * requests keeps one replica.  From 0 the count goes to 1 at once when a
 * request is observed or the manager says one is waiting
 * (as_request_waiting): requests that arrive meanwhile wait or get a 503
 * with Retry-After (the router's business), they are never silently lost.
 */
#ifndef STRATUS_SERVE_AUTOSCALE_H
#define STRATUS_SERVE_AUTOSCALE_H

#include <stddef.h>

#include "../util/err.h"

/* One `target_qps_per_replica` entry for an accelerator ("H100", "L4"). */
struct as_qps {
    const char *accelerator; /* compared case-insensitively, ":count" ignored */
    double qps;              /* > 0 */
};

/* What the manager fills from the service spec (svc_spec). */
struct as_config {
    int min_replicas, max_replicas; /* 0 <= min <= max, max >= 1 */
    double target_qps;              /* per replica, any accelerator; <= 0: none */
    const struct as_qps *accel_qps; /* per accelerator; as_init copies it */
    size_t naccel_qps;
    double upscale_delay_s;   /* SkyServe default 300 */
    double downscale_delay_s; /* SkyServe default 1200 */
    double tick_s;            /* reading interval, default 20 */
    double window_s;          /* QPS averaging window, default 60 */
    double agree;             /* share of readings that must agree, (0.5, 1] */
    int pick_latest;          /* 1: a change goes to the latest reading's count
                                 (SkyServe's rule, with agree = 1); 0: to the
                                 q-th reading's, as below */
    int use_spot;             /* 0: every replica on-demand (as_split) */
    int base_ondemand;        /* base_ondemand_fallback_replicas */
    int dynamic_ondemand;     /* dynamic_ondemand_fallback */
    int overprovision;        /* spot replicas beyond the target */
};

/* Autoscaler state; the fields are private to autoscale.c. */
struct as_state {
    struct as_config cfg;    /* a copy; accel_qps points at qps_copy */
    struct as_qps *qps_copy; /* owned copy of the per-accelerator table */
    char **names;            /* owned accelerator names of qps_copy */
    double t0;               /* origin of the bucket grid */
    int current;             /* the target last decided */
    long next_k;             /* index of the open (not yet closed) bucket */
    long first_k;            /* readings before this index predate the last change */
    double *counts;          /* requests per bucket, ring of nwin */
    size_t nwin;
    double *qps; /* reading k (QPS) at qps[k % nread] */
    size_t nread;
    int *scratch;        /* nread raw targets, for one decision */
    double last_request; /* time of the last observed request */
    int any_request;     /* whether last_request is set */
};

/* The replicas a target is computed against, for per-accelerator QPS. */
struct as_fleet {
    const double *qps; /* target QPS of each counted replica (READY or launching) */
    size_t n;
    double next_qps; /* target QPS of a replica to be added; <= 0: cheapest case */
};

/* A split of a replica target between spot and on-demand. */
struct as_mix {
    int spot;
    int ondemand;
};

/* Fill cfg with SkyServe's defaults (1 fixed replica, delays 300/1200 s,
 * tick 20 s, window 60 s, agree 0.8, no spot). */
void as_config_default(struct as_config *cfg);

/* Start an autoscaler at `now` with the count min_replicas; returns 0, or
 * ST_EINVAL with a message when cfg is inconsistent.  Free with as_free. */
int as_init(struct as_state *st, const struct as_config *cfg, double now, struct err *e);

/* Release what as_init allocated (st may be zeroed or freed twice). */
void as_free(struct as_state *st);

/* Replace the config (a rolling update) keeping the current count clipped
 * to the new bounds; the evidence windows restart at `now`. */
int as_reconfig(struct as_state *st, const struct as_config *cfg, double now,
                struct err *e);

/* Count n requests that arrived at `now`; at a count of 0 a request makes it
 * 1 at once (somebody is waiting). */
void as_observe(struct as_state *st, double now, long n);

/* A request is waiting for a replica at `now`: scale from 0 to 1 at once. */
void as_request_waiting(struct as_state *st, double now);

/* The replica count wanted at `now` after applying the hysteresis rule;
 * fleet NULL means every replica serves cfg.target_qps. */
int as_target(struct as_state *st, const struct as_fleet *fleet, double now);

/* Resume a count persisted before a controller restart (clipped to the
 * bounds); the evidence windows restart at `now`. */
void as_set_current(struct as_state *st, int n, double now);

/* When the next reading is taken (the end of the open bucket): the time the
 * manager's timer should wake for the next decision. */
double as_next_tick(const struct as_state *st, double now);

/* The latest QPS reading (0 before the first bucket closes). */
double as_qps(const struct as_state *st);

/* Target QPS of one replica with this accelerator: its entry, else
 * target_qps, else the smallest entry (assume the weakest); 0 = no target. */
double as_accel_qps(const struct as_config *cfg, const char *accelerator);

/* Replicas needed to serve qps with `fleet` (NULL: homogeneous), unclipped. */
int as_needed(const struct as_config *cfg, const struct as_fleet *fleet, double qps);

/* SpotHedge: spot = target - base + overprovision; on-demand = base plus,
 * with dynamic fallback, the spot replicas still missing among the READY
 * ones (launching ones do not count: they may never come up). */
struct as_mix as_split(const struct as_config *cfg, int target, int ready_spot);

/* Spot placer ---------------------------------------------------------- */

enum sp_state { SP_ACTIVE, SP_PREEMPTED };

/* One place a spot replica can go. */
struct sp_location {
    char *cloud, *region, *zone; /* zone may be NULL (region-wide) */
    double price;                /* USD per hour of one replica there */
    enum sp_state state;
};

/* The spot locations of one service; owns its strings. */
struct sp_placer {
    struct sp_location *locs;
    size_t n, cap;
};

/* Empty placer. */
void sp_init(struct sp_placer *p);

/* Release the locations and their strings. */
void sp_free(struct sp_placer *p);

/* Add an ACTIVE location (strings copied); returns its index. */
size_t sp_add(struct sp_placer *p, const char *cloud, const char *region,
              const char *zone, double price);

/* Index of the location with these names (zone NULL matches NULL), or -1. */
long sp_find(const struct sp_placer *p, const char *cloud, const char *region,
             const char *zone);

/* A spot replica at location i was preempted: mark it PREEMPTED; when fewer
 * than 2 locations stay ACTIVE, all become ACTIVE again (SkyServe's rule). */
void sp_preempted(struct sp_placer *p, size_t i);

/* A spot replica at location i became READY: capacity is back there. */
void sp_active(struct sp_placer *p, size_t i);

/* Number of ACTIVE locations. */
size_t sp_nactive(const struct sp_placer *p);

/* The location for the next spot replica given counts[i] spot replicas at
 * location i now: an ACTIVE one with the fewest replicas, then the fewest in
 * its region, then in its cloud, then the cheapest; -1 when none is ACTIVE. */
long sp_pick(const struct sp_placer *p, const int *counts);

#endif
