/*
 * plan.h - rank every feasible placement of one workload by expected cost.
 *
 * A candidate is an offer x {on-demand, spot, committed} x node count that
 * satisfies the spec, the catalog (prices, fabric, quotas) and the policy.
 * Its expected cost is
 *
 *   compute    = price_hour x nodes x duration
 *   duration   = the spec's duration (its run time on the FIRST alternative)
 *                / the candidate's alternative's speed, its work per hour
 *                relative to the first (catalog throughput.csv: accelerators
 *                per node x the per-chip ratio of the job's kind; 1 when
 *                either ratio is unknown), so candidates are ranked by the
 *                expected cost of the whole job, not of an hour
 *   preemption = (spot only) the hours a run is expected to take past its
 *                work x price_hour x nodes: a gang of n nodes is preempted
 *                at L = n x rate (the location's per-node rate), and each
 *                stretch of t hours between checkpoints (the whole run
 *                without them), retried after r hours of restore, takes
 *                e^(L r) (e^(L t) - 1) / L hours (plan.c: spot_lost_hours;
 *                to first order, a restore and half an interval lost per
 *                preemption)
 *   egress     = data.size_gb x the price per GB from the nearest copy of
 *                the data: its location or a replica (plan_opts.copies) in
 *                force (a bucket of unknown region, from file_mounts: free
 *                on its own cloud, else that cloud's internet egress)
 *   storage    = where no copy is in the region yet, keeping the new
 *                replica: size_gb x the region's cloud's storage $/GB-month
 *                x (duration + plan_opts.copy_keep_h) / 730 (docs/data.md)
 *
 * An alternative without an accelerator looks at CPU-only offers (catalog
 * accelerator ""), one naming only an instance type at that type's offers.
 * When nothing is feasible, an alternative whose accelerator has no offer in
 * the spec's location gets a note saying where it is offered.
 *
 * Candidates are ordered by (policy overflow tier, the spec's `ordered`
 * position, expected cost / (1 - margin)^preference index), ties broken by
 * location and instance type so the order is deterministic.  Everything that
 * was considered and dropped is counted per reason, with the cheapest dropped
 * candidate of each reason kept for --explain.
 */
#ifndef STRATUS_PLAN_H
#define STRATUS_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../catalog/catalog.h"
#include "../util/err.h"

struct catalog;
struct spec;
struct policy;
struct policy_rule;

/* Reasons a candidate is removed, in the order they are checked. */
#define PLAN_REASON_MAP(X)                                                               \
    X(ACC_COUNT, "accelerator_count", "wrong number of accelerators per node")           \
    X(SPEC_LOCATION, "spec_location", "outside the spec's cloud/region/zone")            \
    X(SPEC_INSTANCE, "spec_instance_type", "not the spec's instance_type")               \
    X(SPEC_FAMILY, "cpu_family",                                                         \
      "not a default CPU family, or ARM (name an instance_type to use it)")               \
    X(SPEC_CPUS, "spec_cpus", "vCPUs do not fit the spec")                               \
    X(SPEC_MEMORY, "spec_memory", "memory does not fit the spec")                        \
    X(SPEC_SPOT, "spec_use_spot", "excluded by the spec's use_spot")                     \
    X(NO_PRICE, "not_sold", "not sold that way (no price in the catalog)")               \
    X(FABRIC, "fabric", "gang larger than one fabric takes")                             \
    X(QUOTA, "quota", "over the quota")                                                  \
    X(POLICY_DENIED, "policy_denied", "location denied by policy")                       \
    X(POLICY_LOCATION, "policy_location", "location not allowed by policy")              \
    X(POLICY_CONTINENT, "policy_continent", "continent not allowed by policy")           \
    X(POLICY_SPOT, "policy_spot", "spot rule of the policy")                             \
    X(POLICY_COST, "policy_cost_cap", "over the policy's hourly cost cap")

enum plan_reason {
#define X_(id, key, text) PLAN_R_##id,
    PLAN_REASON_MAP(X_)
#undef X_
        PLAN_R__N
};

enum plan_mode { PLAN_ONDEMAND, PLAN_SPOT, PLAN_COMMITTED };

struct plan_cand {
    uint32_t offer;        /* index in the catalog */
    uint16_t alt;          /* which of the spec's resource alternatives */
    uint8_t mode;          /* enum plan_mode */
    int nodes;
    int tier;              /* policy overflow tier (0 = primary) */
    int pref;              /* policy preference index */
    double price_hour;     /* per node, in force for this mode; committed: what
                              the commitment costs, already paid */
    double hourly_cost;    /* marginal USD per hour for the gang (0 if committed) */
    double compute, preemption, egress;
    double expected;       /* compute + preemption + egress + storage (the
                              rest: plan_cand_storage; candidates are many,
                              so the struct stays small) */
    double key;            /* expected, adjusted for preference margin */
};

/* One resource alternative's speed, worked out once per plan (not per offer). */
struct plan_alt {
    double speed;          /* work per hour relative to the first alternative */
    double hours;          /* expected run time there: duration_h / speed */
    int known;             /* 1 when speed came from the throughput table (both
                              ratios known), and for the first alternative
                              (1 by definition); 0 = unknown, taken as 1 */
    size_t nonspot, spot;  /* its feasible candidates by mode (on-demand or
                              committed, and spot), before trimming to `top` */
    int slowest;           /* an instance type whose offers carry different
                              accelerators, counted as its slowest offer's */
};

struct plan_excl {
    size_t count;
    int has_best;
    struct plan_cand best; /* cheapest removed candidate (when it had a price) */
};

/* A place a copy of the spec's data already is (a replica). */
struct plan_copy {
    const char *cloud, *region;
};

/* How long the controller keeps a shared dataset's replica after its last
 * use by default (sched_config.data_ttl_s): what a plan made outside the
 * controller (`stratus plan`, POST /v1/plan) prices a new replica's keeping
 * for, as the controller does (plan_opts.copy_keep_h). */
#define PLAN_DATA_TTL_H (7 * 24.0)

struct plan_opts {
    double now;            /* unix time, for commitment windows; 0 = now */
    size_t top;            /* keep only the best `top` (0 = all) */
    int by_price;          /* rank by hourly price alone, ignoring preemption
                              and egress (what a price-only scheduler does) */
    const struct plan_copy *copies; /* replicas of the data besides its location */
    size_t ncopies;
    double copy_keep_h;    /* hours a new replica is kept after the job's run */
    int direct_egress;     /* price each move from a copy straight to the
                              region, as a controller without relays pays
                              (the baselines); 0 = by the cheapest chain of
                              moves (catalog_egress_routes) */
};

struct plan {
    const struct catalog *cat;
    const struct spec *spec;
    const struct policy_rule *rule; /* the governing policy rule, or NULL */
    double duration_h;     /* used for costs: on the first alternative */
    int duration_assumed;  /* the spec gave none: costs are for one hour */
    int by_price;          /* from plan_opts */
    const struct plan_opts *opts; /* the options of the last plan_rank (valid
                                     only during it) */
    struct plan_cand *c;   /* ranked, best first */
    size_t n, cap;
    size_t feasible;       /* feasible before trimming to `top` */
    size_t considered;     /* candidates examined */
    struct plan_excl excl[PLAN_R__N];
    struct plan_alt *alts; /* per spec alternative (spec->nres) */
    size_t alts_cap;
    /* scratch, kept between calls so a reused plan does not allocate */
    const char **accs; /* canonical accelerator per alternative; "" = CPU
                          offers, NULL = every offer of the instance type,
                          plan_acc_absent = skipped (not in the catalog) */
    size_t accs_cap;
    double *memo;          /* per region: egress $/GB, preemption rate and
                              storage $/GB-month of a new replica (0 = none) */
    int memo_copies;       /* the egress memo was made with replicas */
    double *eg;            /* region x region egress $/GB, NAN = unset: kept
                              across plans (small catalogs only, EG_MAX_REGIONS) */
    size_t eg_cap;
    const struct catalog *eg_cat; /* the catalog eg is for */
    struct egress_routes routes; /* the cheapest chains of moves, from each
                              region as it is first asked for (the controller
                              moves data by them: sched_data.c) */
    int memo_direct;       /* the egress memo was made with direct_egress */
    double lost_rate, lost_d, lost_h; /* the last spot_lost_hours asked for this
                              plan's spec (its rate and hours, NAN = none) and
                              its answer: offers in a row share them */
    long *copy_ix;         /* per plan_opts.copies: its region's index, -1 = none */
    long home_ix;          /* the data location's region index, -1 = none (a bucket) */
    size_t copy_ix_cap;
    size_t memo_cap;
    char memo_data[160];   /* the data location the egress memo is for */
    const char *memo_acc;  /* the accelerator the rate memo is for */
    const struct offer *fam_offer; /* the last offer checked for its CPU family */
    int fam_ok;            /* and the answer */
    int family_relaxed;    /* no default family fitted: other x86 ones may */
    double commit_left_h;  /* hours the commitment being considered has left
                              (INFINITY: open-ended): the run past it pays on
                              demand, as the controller bills it */
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);
/* The spec's data location is a region of the catalog (a bucket's cloud is
 * enough): 0, or the error plan_rank gives, at the location's line, with the
 * nearest region's name. */
int plan_check_data_location(const struct catalog *cat, const struct spec *s,
                             struct err *e);
/* Rank the candidates of spec.  pol may be NULL.  Returns 0 with p->n >= 1;
 * ST_EINFEASIBLE when nothing fits (e says why, per reason); ST_EINVAL when
 * the spec names something the catalog does not have (accelerator, data
 * location), with the spec's file:line and a suggestion. */
int plan_rank(struct plan *p, const struct catalog *cat, const struct spec *s,
              const struct policy *pol, const struct plan_opts *o, struct err *e);

/* 1 when a CPU-only instance type is of SkyPilot's default families on its
 * cloud (families.c), where CPU work without an instance_type is placed. */
int plan_cpu_default_family(const char *cloud, const char *instance_type);
/* 1 when an instance type is an ARM (aarch64) one: AWS Graviton families
 * (m7g, c6gn, t4g, ...), GCP t2a/c4a, Azure sizes with a 'p' feature letter
 * (D8ps_v5, E4pds_v6). */
int plan_cpu_arm(const char *cloud, const char *instance_type);
/* Work per hour of a node of `count` accelerators acc (or a share `part` >
 * 0 of one) relative to a node of the spec's first alternative, for the
 * spec's kind (inference ratios for infer, training ratios otherwise): what
 * the planner, the controller's progress and the simulator's attempts use
 * (catalog_speed_of: an unknown ratio is the other's, per chip; a first
 * alternative that names only an instance type has its offer's
 * accelerators). */
double plan_speed(const struct catalog *cat, const struct spec *s, const char *acc, int count,
                  double part);
/* The same for the spec's alternative alt (one that names only an instance
 * type: its offer's accelerators). */
double plan_alt_speed(const struct catalog *cat, const struct spec *s, size_t alt);
/* The accelerators of the spec's alternative alt: as written, or its
 * instance type's when every offer of it has the same (catalog_type_shape);
 * 0 when neither says (CPUs only is "" and 1). */
int plan_alt_shape(const struct catalog *cat, const struct spec *s, size_t alt,
                   const char **acc, int *count, double *part);
/* p->accs[i] of an alternative whose known accelerator the catalog lacks. */
extern const char plan_acc_absent[];

const char *plan_reason_key(int r);
const char *plan_reason_text(int r);
const char *plan_mode_name(int mode);
/* Total order used for ranking; < 0 when a ranks before b. */
int plan_cand_cmp(const struct plan *p, const struct plan_cand *a,
                  const struct plan_cand *b);
/* "policy rule 'training-on-azure' (training only on Azure)" for policy
 * reasons, else the reason's text; written to buf. */
const char *plan_reason_explain(const struct plan *p, int r, char *buf, size_t n);

/* The plan as one JSON object (jansson json_t *; caller decrefs):
 * {"workload", "kind", "policy_rule", "nodes", "duration_hours",
 *  "duration_assumed", "alternatives": [{"resources", "speed",
 *  "speed_known", "duration_hours"}], "considered", "feasible",
 *  "candidates": [... each with "duration_hours" and "speed"],
 *  "excluded": {reason: count}} and, with explain, "explain": [{"reason",
 *  "text", "count", "best": candidate, "delta"}]. */
void *plan_to_json(const struct plan *p, int explain);

/* The hours the spec's deadline leaves (after submission, or from now for a
 * date), or -1 when it has none. */
double plan_deadline_h(const struct plan *p);
/* Whether candidate c's run, on its alternative, takes longer than that. */
int plan_cand_late(const struct plan *p, const struct plan_cand *c);

/* The plan as `stratus plan` prints it (a header, the ranked table, and with
 * explain what was removed and why); -1 on a write error. */
int plan_print(FILE *fp, const struct plan *p, int explain);
/* Keeping a new replica where c runs: what its expected cost holds beyond
 * compute, preemption and egress. */
static inline double plan_cand_storage(const struct plan_cand *c)
{
    double v = c->expected - c->compute - c->preemption - c->egress;

    return v > 1e-9 ? v : 0;
}
/* Where candidate c's data is moved from ("cloud/region", "cloud/(bucket)")
 * into from, "" when it moves none; the regions the move passes through on
 * the way (a relay: catalog_egress_routes) into hops (at most max), and
 * their count. */
size_t plan_data_route(const struct plan *p, const struct plan_cand *c, char *from, size_t nf,
                       uint32_t *hops, size_t max);
/* Only the "excluded" part (what `plan --explain` prints for an infeasible
 * workload). */
void plan_print_explain(FILE *fp, const struct plan *p);

#endif
