/*
 * sim.h - the simulator: the real planner and controller (src/sched) run in
 * virtual time against the `sim` driver, on real traces, one run per policy.
 *
 * The world the sim driver emulates (struct sim_world) is a fleet — nodes
 * per offer, on demand and spot — whose spot capacity follows a trace, and
 * jobs whose run time is their remaining work: duration minus what their
 * checkpoints saved (progress since the last checkpoint is lost when an
 * attempt is preempted or stopped, as on a real cloud).
 */
#ifndef STRATUS_SIM_H
#define STRATUS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct catalog;
struct policy;
struct trace;

/* What the sim driver needs to know about a job (indexed by store job id). */
struct sim_jobinfo {
    double duration_s;      /* compute the job needs, on its first accelerator
                               (the work, in seconds of that accelerator) */
    double ref_chip;        /* the first accelerator's per-chip ratio
                               (catalog_speed_parts; 0 = unknown) */
    int infer;              /* inference ratios (kind infer), else training */
    float ref_n;            /* chips per node of the first (catalog_speed_parts) */
    double ckpt_s;          /* checkpoint interval; 0 = none (a restart loses all) */
    double restore_s;       /* time to restore a checkpoint on a new attempt */
};

struct sim_world {
    const struct catalog *cat;
    const long *od_cap;     /* per offer: on-demand nodes in the fleet */
    const long *spot_cap;   /* per offer: spot nodes before the trace says otherwise */
    const struct trace *spot; /* spot availability over time (may be NULL) */
    double t0;              /* unix time of trace time 0 */
    double launch_delay_s;  /* provisioning time of a launch */
    const struct sim_jobinfo *jobs; /* by store job id (entry 0 unused) */
    size_t njobs;
    double notice_s;        /* a reclaimed spot node's warning: the notice when
                               the trace or rate takes it, gone this much later
                               (0: gone at once, no notice) */
};

/* One policy to compare. */
struct sim_policy {
    const char *name;       /* "stratus", "azure-ondemand", ... */
    const struct policy *pol; /* the policy every job runs under (NULL = none) */
    int deadline_rule;      /* enum sched_deadline_rule (0 = none) */
    int by_price;           /* rank by price alone (no preemption/egress awareness) */
    int displace;           /* displace lower-priority spot jobs */
    int ondemand_only;      /* every job on demand (the spec forbids spot) */
    const char *only_cloud; /* every job in this cloud (the spec's cloud); NULL = any */
    int teams;              /* admit by the teams of sim_input.org (quotas, cohorts,
                               fair share); 0 = first come, first served */
    int data_gravity;       /* replicas: data moved once per region, from the
                               nearest copy (sched_config.data_gravity) */
    int patience;           /* honour the policy rules' patience
                               (sched_config.patience) */
    int commit_backfill;    /* committed nodes backfilled with spot work and
                               given back (sched_config.commit_backfill) */
};

#define SIM_MAX_TEAMS 16    /* teams reported apart; more go to "(other)" */

/* What one team got in a run. */
struct sim_team_result {
    char name[40];
    size_t jobs, started;
    double gpu_hours;       /* of attempts that ran */
    double mean_queue_s, p50_queue_s, p95_queue_s; /* submit -> first run */
};

#define SIM_NCLOUDS 5       /* azure, gcp, oci, aws, other */

struct org;

struct sim_result {
    char name[32];
    size_t njobs, succeeded, failed, deadline_jobs, deadline_misses;
    double cost, cost_by_cloud[SIM_NCLOUDS];
    double lost_cost;       /* of cost: compute whose work was lost (preempted or
                               stopped since the last checkpoint) */
    double egress_cost;     /* of cost: moving jobs' data to where they ran */
    double storage_cost;    /* of cost: keeping replicas of the data (data gravity) */
    double commit_cost;     /* of cost: the commitments' fixed cost over the study
                               (sim_charge_commitments) */
    double commit_covered;  /* on-demand node-hours the commitments covered, at
                               their price: off their cost in the controller's
                               bill (sched_commit_covered) */
    double commit_expired;  /* of cost: committed attempts' node-hours past the
                               end of their commitment, at the list price */
    double commit_node_h;   /* node-hours the commitments hold over the study
                               window (sim_charge_commitments) */
    double commit_used_h;   /* of them, node-hours that ran work: committed
                               attempts and the on-demand nodes they covered
                               (the bound: its committed columns) */
    double gpu_hours, lost_gpu_hours, spot_gpu_hours;
    long preemptions;
    double mean_jct_s, p95_jct_s, mean_queue_s, p95_queue_s;
    double end_s;           /* virtual time when the last job ended */
    double done_s;          /* ... the last job that succeeded (a failed job
                               does not stretch the study's window) */
    double wall_s;          /* real seconds the run took */
    uint64_t steps, transitions;
    size_t nbuckets;
    double bucket_s;
    double *spend;          /* SIM_NCLOUDS x nbuckets, spend per bucket by cloud */
    int lower_bound;        /* 1 for the offline bound (only cost fields are set) */
    size_t lp_rows, lp_cols, lp_nnz; /* the bound's linear program */
    int lp_rounds;          /* its column-generation rounds */
    double lp_horizon_s;    /* the bound holds for schedules done by then; 0 = all */
    size_t lp_pinned;       /* jobs the bound runs from their submission (sim_input.pin) */
    unsigned char *prompt;  /* per trace job: 1 = it started within SIM_PROMPT_S of
                               its submission (plus the launch delay) and ran to its
                               end on that one attempt (runs only; sim_result_free) */
    struct sim_team_result teams[SIM_MAX_TEAMS + 1]; /* by team, in trace order */
    size_t nteams;
};

/* A fault filed at a virtual time, exactly as `stratus local ...` files it
 * in the real world (a request the controller hands to its driver). */
struct sim_event {
    double time_s;          /* from the start of the study */
    char kind[32];          /* stockout, preempt-job, preempt-location */
    char arg[160];          /* preempt-job: the job's row in the workload (1 = the
                               first), which is its id in each run's store */
    const char *path;       /* the events file, for messages */
    uint32_t line;          /* its line there */
    double stock_s;         /* stockout: its SECONDS (0 clears), -1 = until cleared */
};

/* Events file: CSV time_s,kind,arg.  Each row is checked against the
 * catalog (a location names some offer) and the workload (a preempt-job
 * names a job_id of it, or a row number, and is rewritten to the row).
 * Caller frees *out; path must outlive it. */
int sim_load_events(const char *path, const struct catalog *cat, const struct trace *work,
                    struct sim_event **out, size_t *n, struct err *e);

struct sim_input {
    struct catalog *cat;    /* prices may be changed by the price trace */
    const struct trace *work;
    const struct trace *spot;   /* may be NULL */
    const struct trace *prices; /* may be NULL */
    const long *od_cap, *spot_cap; /* fleet, per offer */
    double t0;
    double launch_delay_s;
    double restore_s;       /* restore time assumed for checkpointing jobs */
    double bucket_s;        /* width of a spend bucket in the chart */
    const char *store_dir;  /* keep each run's store as DIR/<policy>.db; NULL = memory */
    const struct sim_event *events; /* faults to inject, in time order */
    size_t nevents;
    const struct org *org;  /* the teams policies with `teams` admit by; may be NULL */
    const char *const *narrowed; /* clouds a compared run confines every job to
                                    (a baseline's only_cloud): the bound keeps
                                    overflow open to them (bound.c) */
    size_t nnarrowed;
    const unsigned char *pin; /* per trace job: the bound is for schedules that
                                 start it when it is submitted, as every compared
                                 run did (bound.c: pin_jobs); NULL = none */
};

#define SIM_PROMPT_S 60.0   /* "started at once": within this of its submission,
                               beyond the launch delay */

extern const char *const sim_cloud_names[SIM_NCLOUDS];

/* Run the workload under one policy. res->spend is allocated (sim_result_free). */
int sim_run(const struct sim_input *in, const struct sim_policy *pol, struct sim_result *res,
            struct err *e);
/* A lower bound on the cost of any schedule of the workload that obeys `pol`,
 * at the prices in force, within the fleet's capacity, and that has run
 * every job it can place by end_s (seconds from the study's start; <= 0 =
 * whenever).  bound.c says why it is one. */
int sim_offline_bound(const struct sim_input *in, const struct policy *pol, double end_s,
                      struct sim_result *res, struct err *e);
void sim_result_free(struct sim_result *res);
/* Add the fixed cost of the catalog's commitments over the study window
 * [t0, t0 + end_s] to res (cost, its cloud, commit_cost): nodes x price x the
 * hours of each commitment's window inside it.  end_s <= 0: until the last
 * job's release plus duration.  The same for every policy and the bound:
 * the nodes are the lab's whoever schedules them. */
void sim_charge_commitments(const struct sim_input *in, double end_s, struct sim_result *res);
/* Apply the rows of a price trace whose time (t0 + time_s) is at or before
 * now to cat's prices; *k is the next row, kept by the caller between calls. */
void sim_prices_due(struct catalog *cat, const struct trace *prices, double t0, size_t *k,
                    double now);

/* Fleet file: CSV location,instance_type,nodes,spot_nodes (globs allowed, the
 * first matching row wins; offers no row matches have no capacity).  Fills
 * per-offer arrays (caller frees): each offer a row matches has that many
 * nodes of its own, so offers of one instance type with different
 * accelerators (GCP's n1 with a T4 or a V100, TPU-VM) are pools apart, as
 * the sim driver counts them (driver_offer_capacity). */
int sim_load_fleet(const struct catalog *cat, const char *path, long **od_cap,
                   long **spot_cap, struct err *e);

#endif
