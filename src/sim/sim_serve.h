/*
 * sim_serve.h - one service in the simulator's world (docs/sim-serve.md):
 * the real replica manager (serve/manager.h) places, replaces and
 * autoscales replicas through the real controller (src/sched) over the
 * `sim` driver in virtual time; each request of a request trace arrives at
 * the router of its user's region, is routed by the router's own selection
 * code (router/pick.h) and served by the continuous-batching model of the
 * replica it was sent to (sim/serve_perf.h).
 *
 * The world's rules, in short (the document gives the reasons):
 *  - a replica is READY (its probe passes) warmup_s after its attempt runs;
 *  - one router per user region, each with its own in-flight counts, fed
 *    the manager's replica set (mgr_endpoints) whenever its version moves,
 *    and reporting the requests that arrived at it every SIM_SERVE_REPORT_S
 *    (mgr_load), as a router in API mode does (it counts answers: the
 *    same rate while replicas keep up, and arrivals do not hide an
 *    overload from the autoscaler);
 *  - a request reaches its replica at once and its TTFT and end-to-end
 *    times get the RTT between its user's region and the replica's;
 *  - a request at a replica that goes away (preempted, or cancelled after
 *    draining) is retried on another replica when its first token had not
 *    been sent (up to SIM_SERVE_RETRIES times), and is lost when it had.
 */
#ifndef STRATUS_SIM_SERVE_H
#define STRATUS_SIM_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "sim.h"

struct catalog;
struct reqtrace;
struct spec;
struct trace;

/* Seconds between two load reports of a router (router_src.c RT_LOAD_S). */
#define SIM_SERVE_REPORT_S 5.0
/* Retries of a request that failed before its first byte (`stratus router`
 * --retries default). */
#define SIM_SERVE_RETRIES 2
/* Control rounds (controller step + manager round) fall on this grid of
 * virtual seconds unless the manager asks for one at once. */
#define SIM_SERVE_TICK_S 1.0
/* Replica jobs one run may create (replacements included). */
#define SIM_SERVE_MAX_JOBS 65536

/* The policies a service can be run under (docs/sim-serve.md, "Policies"):
 *  - STRATUS: the spec as written, under the org policy: replicas near the
 *    users, spot over-provisioned with on-demand fallback, routing by the
 *    spec's load_balancing_policy (nearest, overflowing when loaded);
 *  - ONDEMAND: on-demand replicas only, all in the org policy's first cloud
 *    (the first of its rule's `prefer`, else `allow`; without either, the
 *    cloud of the cheapest on-demand offer), near the users within it;
 *  - SPOT_ONLY: spot replicas only, wherever spot is cheapest (placement
 *    blind to the users), no on-demand fallback, no over-provisioning;
 *  - SKYSERVE: what SkyServe does with the same file: spot spread by its
 *    placer with the spec's on-demand fallback and SkyServe's one extra spot
 *    replica, placement blind to the users, region-blind least-load routing,
 *    and SkyServe's autoscaler rule (scale only after a whole delay of
 *    readings that all agree). */
enum sim_serve_kind { SSP_STRATUS, SSP_ONDEMAND, SSP_SPOT_ONLY, SSP_SKYSERVE, SSP_NKINDS };

/* The names of the kinds, in enum order ("stratus", "ondemand", ...). */
extern const char *const sim_serve_kind_names[SSP_NKINDS];

/* How the service is run. */
struct sim_serve_policy {
    const char *name;        /* the result's name (usually the kind's) */
    int kind;                /* enum sim_serve_kind */
    const char *policy_text; /* the org policy YAML; NULL = none */
};

/* The kind called `name`, or -1. */
int sim_serve_kind_parse(const char *name);

struct sim_serve_input {
    struct catalog *cat;           /* prices may be changed by the price trace */
    const struct reqtrace *reqs;   /* the requests, in time order */
    const struct trace *spot;      /* spot availability; NULL = catalog preemption rates */
    const struct trace *prices;    /* NULL = the catalog's prices */
    const long *od_cap, *spot_cap; /* fleet per offer; NULL = SIM_SERVE_NODES each */
    double t0;                     /* unix time of trace time 0 */
    double lead_s;                 /* the service is up this long before time 0 */
    double launch_delay_s;         /* provisioning time of a replica */
    double warmup_s;               /* from running to answering its probe */
    double notice_s;               /* warning before a spot node is taken back
                                      (0: none; sim_world.notice_s) */
    const char *spec_path;         /* for messages */
    const char *spec_text;         /* the service spec (YAML with `service:`) */
    const char *model;             /* serve_perf model; NULL = from the spec */
    uint64_t seed;                 /* regions of requests without one; the driver */
    int series;                    /* 1: fill the result's series (for a chart) */
};

/* Nodes per offer, on demand and spot, when no fleet is given. */
#define SIM_SERVE_NODES 64

struct sim_serve_result {
    char name[32];
    size_t requests, served, failed;
    size_t lost;          /* of failed: cut at their replica (after their first
                             token, or out of retries) */
    size_t lost_retired;  /* of lost: at a retired replica whose drain
                             (MGR_DRAIN_S) ended before they did */
    size_t unrouted;      /* of failed: no replica within max_wait (or refused) */
    size_t retried;       /* requests retried at least once (served or not) */
    size_t within_slo;    /* served with TTFT <= slo_ms (all served when no SLO) */
    double slo_ms;        /* the spec's latency_slo_ms (0 = none) */
    double ttft_s[3], e2e_s[3]; /* P50, P90, P99 of served requests */
    double cost, cost_by_cloud[SIM_NCLOUDS], spot_cost, ondemand_cost;
    double replica_hours, spot_replica_hours;
    long preemptions;
    long replicas_launched; /* replica jobs the manager made */
    int max_ready;          /* most replicas READY at once */
    double min_ready_share; /* share of the trace's span with >= min_replicas READY */
    double span_s;          /* virtual seconds from serve up to the last answer */
    double wall_s;
    uint64_t rounds;        /* controller + manager rounds */
    /* over time, when the input asked for series (serve_chart.h says what
     * each is; sim_serve_result_free frees them) */
    size_t nbuckets;
    double bucket_s, t_start_s;
    double *replicas, *spot, *usd; /* SIM_NCLOUDS x nbuckets, nbuckets, SIM_NCLOUDS x nbuckets */
    double *ttft, *e2e;            /* 3 x nbuckets each; NAN where no request */
};

/* Free a result's series (the rest of it is plain values). */
void sim_serve_result_free(struct sim_serve_result *res);

/* Load the run's spec into *sp (the caller frees it with spec_free, also
 * on error) and say which serve_perf model class it serves into model:
 * in->model, else the spec's MODEL variable (a name with "70b" is the 70B
 * class, anything else 8B), else 8B.  Errors: the spec (file:line), one
 * without a `service:` section, a model serve_perf does not know. */
int sim_serve_spec(const struct sim_serve_input *in, struct spec **sp, char *model, size_t n,
                   struct err *e);

/* Run the service on the trace under policy pol.  Errors: the spec (file:line),
 * a model serve_perf does not know, the controller's. */
int sim_serve_run(const struct sim_serve_input *in, const struct sim_serve_policy *pol,
                  struct sim_serve_result *res, struct err *e);

#endif
