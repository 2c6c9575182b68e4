/*
 * service.h - the `service:` section of a workload spec: what SkyPilot calls a
 * service (SkyServe) plus the Stratus fields under `stratus: service:`.
 *
 * SkyPilot's section parses unchanged: readiness_probe (a path, or a mapping
 * with path, post_data, headers, initial_delay_seconds, timeout_seconds),
 * replicas or replica_policy, load_balancing_policy, ports, tls.  Stratus adds,
 * under `stratus: service:`, where the users are (shares of traffic by
 * region), a latency objective, spot over-provisioning and what a request does
 * while the service has no replica.
 *
 * This module only reads and checks the YAML; the replica manager and the
 * router act on the result.  spec.c calls svc_parse() for `service:` and
 * svc_parse_stratus() for `stratus: service:`; the result hangs off
 * spec->service and is freed by spec_free().
 */
#ifndef STRATUS_SERVICE_H
#define STRATUS_SERVICE_H

#include <stddef.h>

#include "../util/err.h"
#include "../util/yamlx.h"

#define SVC_MAX_REPLICAS 1000
#define SVC_MAX_HEADERS 64
#define SVC_MAX_POST_DATA 65536 /* bytes of probe body as JSON text */
#define SVC_MAX_USERS 256       /* regions in stratus.service.users */
#define SVC_DEFAULT_PORT 8080

/* SkyPilot's defaults (sky/serve/constants.py). */
#define SVC_DEFAULT_INITIAL_DELAY_S 1200.0
#define SVC_DEFAULT_PROBE_TIMEOUT_S 15.0
#define SVC_DEFAULT_UPSCALE_DELAY_S 300.0
#define SVC_DEFAULT_DOWNSCALE_DELAY_S 1200.0
#define SVC_DEFAULT_MAX_WAIT_S 60.0

struct svc_header {
    char *name, *value;
};

struct svc_probe {
    char *path;                 /* "/" by default; always starts with '/' */
    char *post_data;            /* compact JSON text; NULL = the probe is a GET */
    struct svc_header *headers; /* sent with every probe */
    size_t nheaders;
    double initial_delay_s; /* probe failures before this are ignored */
    double timeout_s;       /* a probe slower than this fails */
};

/* Target requests per second for one replica; accelerator NULL = any. */
struct svc_qps {
    char *accelerator; /* the name without a count ("H100", not "H100:1") */
    double qps;        /* > 0 */
};

/* Share of the traffic that comes from users near one region. */
struct svc_share {
    char *cloud, *region; /* cloud lower case, region as written */
    double share;         /* (0, 1]; all shares sum to 1 (+-0.01) */
};

struct svc_spec {
    struct svc_probe probe;
    int fixed_replicas;             /* >0: `replicas: N` (or neither given: 1);
                                       0: replica_policy */
    int min_replicas, max_replicas; /* 0 <= min <= max, max >= 1; both N when fixed */
    struct svc_qps *target_qps;     /* empty: no autoscaling on QPS (the spec was
                                       warned when min < max) */
    size_t ntarget_qps;
    double upscale_delay_s, downscale_delay_s;
    int base_ondemand;       /* base_ondemand_fallback_replicas */
    int dynamic_ondemand;    /* dynamic_ondemand_fallback */
    int overprovision;       /* spot replicas beyond the target
                                (num_overprovision, or stratus
                                spot_overprovision which wins) */
    char *lb_policy;         /* round_robin, least_load,
                                instance_aware_least_load or nearest (default) */
    int port;                /* the replica's port: service.ports, else the first
                                of resources.ports, else SVC_DEFAULT_PORT */
    int port_declared;       /* 1: service.ports or resources.ports gave port */
    struct svc_share *users; /* empty: no idea where the users are */
    size_t nusers;
    double latency_slo_ms; /* 0 = none */
    int reject_when_zero;  /* 1: 503 + Retry-After while no replica is ready;
                              0: the request waits up to max_wait_s */
    double max_wait_s;
    size_t line; /* where `service:` was written */
};

/* How the parser reports what it accepts but does not honour (tls, ...):
 * `at` is the node, msg the text without "file:line:col: warning: ". */
typedef void svc_warn_fn(void *arg, const struct ynode *at, const char *msg);

/* Parse the `service:` mapping `n` (its key is `key`) of document d into a new
 * *out the caller frees with svc_spec_free().  `resources` is the spec's top-level
 * resources mapping or NULL (its `ports` gives the default port).  Errors say
 * "file:line:col: what (what to do)"; *out is NULL then. */
int svc_parse(const struct ydoc *d, const struct ynode *key, const struct ynode *n,
              const struct ynode *resources, svc_warn_fn *warn, void *warn_arg,
              struct svc_spec **out, struct err *e);
/* Apply the `stratus: service:` mapping n to sv (which svc_parse() made). */
int svc_parse_stratus(const struct ydoc *d, const struct ynode *n, struct svc_spec *sv,
                      struct err *e);
/* Free a service spec and everything it owns; NULL is a no-op. */
void svc_spec_free(struct svc_spec *sv);

/* The target QPS per replica for a replica with `accelerator` (NULL = not
 * known): its own entry, else the entry for any accelerator, else 0 (none). */
double svc_target_qps(const struct svc_spec *sv, const char *accelerator);
/* Its own entry only (0: none names it; sv NULL: none): the planner weighs
 * alternatives by it. */
double svc_named_qps(const struct svc_spec *sv, const char *accelerator);

/* 1 when a replica must listen on the spec's declared port (as SkyPilot
 * replicas do: `python3 -m http.server 8080`): sv declares one and the run
 * command `run` (may be NULL) never reads $PORT or $STRATUS_SERVICE_PORT.
 * 0: the replica listens where $PORT says. */
int svc_port_fixed(const struct svc_spec *sv, const char *run);

#endif
