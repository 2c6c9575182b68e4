/*
 * sched_int.h - the inside of the controller, shared by sched.c (the loop,
 * events, requests, transitions, accounting) and sched_place.c (placement,
 * failover, deadlines, priorities).  Not for other modules.
 */
#ifndef STRATUS_SCHED_INT_H
#define STRATUS_SCHED_INT_H

#include "sched.h"
#include "../driver/driver.h"
#include "../plan/plan.h"
#include "../store/store.h"
#include "../util/hmap.h"

/* What the controller knows about one active job. */
struct sjob {
    struct store_job j;
    struct spec *spec;          /* parsed from j.spec_text */
    struct policy *pol;         /* parsed from j.policy_text; NULL = none */
    const struct policy *rule_pol; /* the policy in force: pol, or the default */
    int waiting;                /* waiting for capacity (woken when some frees) */
    int in_wait;                /* on the controller's list of jobs to place */
    struct store_attempt att;   /* the live attempt, valid when j.cur_attempt != 0 */
    long offer;                 /* att's catalog offer, -1 = not in the catalog */
    int *node_state;            /* per node of att: enum attempt_state */
    int nodes_running, nodes_ended;
    char *avoid;                /* "cloud/region" to avoid next (eager-next-region) */
    unsigned char *alt_places;  /* per alternative of the spec, from its last ranked
                                    plan: ALT_OD, ALT_ANY (sched_place.c);
                                    NULL = not ranked yet */
    int top_spot_only;          /* that ranking had spot candidates alone */
    char *workdir;              /* the spec's workdir made absolute, or NULL */
    char *data_at;              /* region the job's data was last moved to */
    char data_at_cloud[16];     /* ... and its cloud */
    int64_t ckpt_src;           /* the newest ended attempt that ran: where a
                                   next attempt's checkpoint comes from; 0 = none */
    int ckpt_src_n;             /* ... its number within the job */
    int held;                   /* a pipeline stage whose earlier stages have not
                                   all succeeded: not placed (sched_group.c) */
    int team_ix;                /* its team in s->org, -1 = none (sched_quota.c) */
    unsigned org_gen;           /* s->org_gen when team_ix was found */
    double fs;                  /* its team's fair-share factor this step */
    double reason_at;           /* when its waiting reason was last stored */
    long awaits;                /* patience: 1 + the offer x 2 + spot it is
                                   parked waiting for, 0 = not parked */
    uint32_t park_gen;          /* its parks so far */
    int woken;                  /* unparked because its place freed */
    size_t wake_key;            /* 1 + the place (own_ix) whose freed nodes
                                   woke it, until it is placed: they pass on
                                   to the next job parked there if it does not
                                   take them; 0 = none */
    int wake_nodes;             /* ... how many */
    uint64_t woken_step;        /* the step (s->nsteps) it was last woken in */
    uint64_t shape;             /* its shape's hash (sched_place.c), valid while
                                   shape_of says so: of shape_pol, shape_od and
                                   shape_team as they were then */
    const void *shape_pol;
    int shape_od, shape_team;
    struct plan_cand await_cand; /* the candidate it was parked for, the
                                    await_rank-th of its plan then, at the
                                    catalog's await_prices price version */
    size_t await_rank;
    unsigned long await_prices;
    struct dset *own;           /* the live copies of its own data (sched_data.c);
                                   NULL = none known */
    int backfill;               /* its live attempt is on committed nodes it
                                   took in place of spot: given back when an
                                   on-demand attempt needs them (not kept
                                   across a restart) */
    double backfill_spot;       /* the spot price per node-hour it would pay
                                   without the committed nodes (backfill) */
    long promised_offer;        /* committed nodes of this offer's group were
                                   given back to it and are kept from backfill
                                   until it launches, or until promised_until */
    long promised_nodes;
    double promised_until;
    double cov_since; /* what commitments covered of its on-demand
                         attempt is counted until here (sched_cover_accrue) */
    int64_t cov_att;  /* the attempt cov_in was found for */
    int cov_in;       /* ... it is in a group with commitments */
};

enum action_type { ACT_LAUNCH, ACT_TERMINATE, ACT_INJECT };

/* Something to do once the current transaction has committed. */
struct action {
    enum action_type type;
    int64_t attempt_id;
    struct sjob *job;           /* ACT_LAUNCH: the job (still active after commit) */
    char *kind, *arg;           /* ACT_INJECT */
    int filed;                  /* ACT_TERMINATE: a `terminate` request in the
                                   store stands for it: 1 filed with the
                                   decision (stop_nodes), 2 filed again by
                                   take_stop */
};

/* A job parked waiting for a cheaper place (sched_place.c, patience): its
 * id and the park_gen of that wait (stale once it was woken or parked again). */
struct park_ref {
    int64_t id;
    uint32_t gen;
    int32_t nodes; /* the nodes it needs there */
};

struct park_list {              /* first parked first */
    struct park_ref *v;
    size_t head, n, cap;
};

struct park_due {
    double t;
    int64_t id;
    uint32_t gen;
};

/* Nodes promised to launches of this step, not yet seen by the driver. */
struct reservation {
    const char *cloud, *region, *zone, *instance_type; /* catalog-interned */
    const char *accelerator; /* the pool's too, where the driver's pools are offers */
    long nodes;
    int spot; /* its pool: spot, or on-demand (committed nodes are on-demand ones) */
};

/* One entry of the attempt index (see sched.c). */
struct att_ref {
    int64_t attempt_id;
    struct sjob *sj;            /* NULL once the job is gone */
};

struct sched {
    struct sched_params p;
    struct sjob **jobs;         /* active jobs, in id order */
    size_t njobs, jobs_cap;
    int64_t max_job_id;         /* the newest job loaded from the store */
    struct att_ref *atts;       /* attempt id -> job, sorted by attempt id */
    size_t natts, atts_cap;
    struct plan plan;           /* reused by every placement */
    struct action *acts;
    size_t nacts, acts_cap;
    int64_t *stopped;           /* attempts stopped after a commit for a
                                   `terminate` request not taken since, sorted
                                   when requests are taken (take_stop) */
    size_t nstopped, stopped_cap;
    struct driver_event *sync_ev; /* launch refusals seen after a commit */
    size_t nsync, sync_cap;
    struct reservation *resv;
    size_t nresv, resv_cap;
    long *commit_used;          /* per catalog commitment: nodes of live committed
                                   attempts on its cloud/region/instance type
                                   (counted from the jobs at each placement
                                   round, then kept up by create_attempt) */
    size_t commit_used_cap;
    long *commit_od;            /* ... and of live on-demand attempts there (the
                                   nodes the commitment's bill covers first) */
    double commit_covered;      /* $ the commitments covered of on-demand
                                   attempts, as counted by sched_cover_accrue
                                   (this run of the controller's) */
    long *commit_promised;      /* ... and given back to a job that has not yet
                                   launched on them (kept from backfill) */
    struct given_back {         /* committed nodes given back by backfill (a
                                   backfill attempt stopped for a job that would
                                   pay on demand) whose job has not launched
                                   again, found when the jobs are loaded: the
                                   job they were given to gets its promise back
                                   when the event log names it (given_to), else
                                   they are kept from backfill for a wait_retry,
                                   for whichever job of the group takes them */
        long offer;
        long nodes;
        double at;    /* when it was given back */
        int64_t from; /* the job whose backfill attempt gave them back */
        double until;
    } * given;
    size_t ngiven, given_cap;
    const struct plan_cand *backfill_pick; /* first_usable's last pick was
                                   committed nodes in place of spot ... */
    double backfill_spot;       /* ... of this price per node-hour */
    long *own_nodes;            /* per catalog offer x {on demand, spot}: nodes
                                   of this controller's live attempts (valid
                                   when own_valid; sched_place.c, patience) */
    long *freed_nodes;          /* ... nodes freed there not yet taken by a
                                   job parked for them */
    struct park_list *parked;   /* ... the jobs parked waiting for it */
    size_t own_cap;             /* entries of the three (offers x 2) */
    int own_valid;
    struct park_due *park_due;  /* parked jobs by when their patience runs out
                                   (a binary heap) */
    size_t npark_due, park_due_cap;
    uint64_t cover_gen;         /* attempts ended so far: who the commitments'
                                   bill covers may have changed
                                   (sched_commit_bill) */
    int cover_strays;           /* loaded: attempts the bill covered may be
                                   in no group with commitments now */
    uint64_t nsteps;            /* steps so far (patience: a job is woken by a
                                   place at most once a step) */
    int wake_again;             /* a job that ended in this step passed on the
                                   nodes that woke it: step again at once */
    uint64_t *failed;           /* shapes that found no room this step */
    size_t nfailed, failed_cap;
    struct store_block *blocks; /* active location blocks */
    size_t nblocks;
    int in_tx;
    int stale;                  /* a step failed: memory may differ from the
                                   store, so the next step reloads it first */
    int reprice_due;            /* check live attempts' prices at the next step */
    int more_events;            /* the last poll filled its batch */
    int capacity_freed;         /* an attempt ended this step: wake waiting jobs */
    int queue_ok;               /* placing into locations' own queues (place_one) */
    int poked;                  /* new jobs or requests to read (sched_poke) */
    int restop;                 /* a stop take_stop filed again was made:
                                   step again at once to drop its request */
    int promised;               /* committed nodes were given back to a job that
                                   waits for their stop: step again at once */
    int stops_first;            /* this step stops machines: it places nothing,
                                   and the next, at once, places on the nodes
                                   they free (and places whatever it stops) */
    int stop_refused;           /* the driver refused a stop: try its request
                                   again after the backoff */
    struct stop_retry {         /* stops the driver refused: each is tried
                                   again at `at`, the backoff doubling per
                                   refusal up to backoff_max (memory only:
                                   a controller that opens tries at once) */
        int64_t attempt_id;
        int refusals;
        double at;
    } * retry;
    size_t nretry, retry_cap;
    int ended;                  /* a job reached a terminal state this step */
    struct sjob **wait;         /* jobs that may be PENDING or RECOVERING (some
                                   may have moved on: filtered when read) */
    size_t nwait, wait_cap;
    double next_deadline_check; /* when the deadline rule looks at running jobs */
    uint64_t transitions;
    unsigned long price_version; /* of the catalog prices live attempts pay */
    double now;                 /* the clock, read once per step */
    /* pipelines and job groups (sched_group.c) */
    struct sjob **gended;       /* stages that reached a terminal state this
                                   step (valid until drop_finished) */
    size_t ngended, gended_cap;
    size_t nheld;               /* jobs with held set */
    int groups_due;             /* gended or held jobs to look at */
    int groups_again;           /* a stage was released after placement: step
                                   again at once */
    /* teams: quotas, borrowing, fair share, budgets (sched_quota.c) */
    const struct org *org;      /* borrowed (sched_set_org); NULL = no teams */
    unsigned org_gen;           /* bumped at every sched_set_org */
    struct team_state *ts;      /* per team of org */
    size_t nts;
    double fs_at;               /* when fair-share usage was last brought up to date */
    int usage_known;            /* fair-share usage was read from the store's history */
    uint64_t quota_trans;       /* transitions at the last refresh of the teams' figures */
    unsigned quota_gen;         /* org_gen at that refresh */
    int spend_month;            /* yyyymm the budgets' spend is of; 0 = to count */
    char quota_why[320];        /* place_one: the first quota that refused */
    struct sjob *quota_victim;  /* place_one: borrowed work to reclaim */
    int quota_reclaimer;        /* place_one: the victim is for this team */
    int quota_looked;           /* place_one: borrowed work was looked for */
    /* data gravity (sched_data.c) */
    struct dset *dsets;         /* datasets with live copies */
    size_t ndsets, dsets_cap;
    struct keymap dset_ix;      /* interned name -> dsets index */
    struct strpool data_pool;   /* dataset names */
    struct plan_copy *copies;   /* scratch for plan_opts.copies */
    size_t copies_cap;
    double data_sweep_at;       /* when shared replicas are next looked at */
};

/* What the controller keeps of a team (sched_quota.c). */
struct team_state {
    long *used;                 /* per quota entry: GPUs of the team's live attempts */
    long *cohort_used;          /* per quota entry: of the cohort's teams, same kind */
    long *cohort_cap;           /* per quota entry: the cohort's total quota of it */
    double *owner_wait;         /* per quota entry: when a job of the team last
                                   waited for its own quota, lent out (0 = not) */
    double fs_usage;            /* GPU-seconds, decayed by the half-life */
    double fs_gpus;             /* GPUs running at the last update */
    double month_spend;         /* USD of attempts that ended this month */
    double live_spend;          /* USD of its live attempts so far (at refresh) */
    double factor;              /* fair-share factor (at refresh) */
    int warned_month;           /* soft budget: yyyymm the warning was logged */
};

/* sched.c */
int sched_tx(struct sched *s, struct err *e);
int sched_transition(struct sched *s, struct sjob *sj, int to, struct err *e,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int sched_log(struct sched *s, struct sjob *sj, const char *type, struct err *e,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sched_act(struct sched *s, enum action_type t, int64_t attempt_id, struct sjob *sj);
/* End the live attempt at time `at` (0 = now): account its cost, queue the
 * termination of nodes still running. */
int sched_end_attempt(struct sched *s, struct sjob *sj, int reason, int code, double at,
                      struct err *e);
void sched_cover_accrue(struct sched *s, struct sjob *sj, double until);
int sched_recover(struct sched *s, struct sjob *sj, int count_restart, struct err *e,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A job whose attempt was just stopped to make room for another is placed
 * again once its nodes are gone, not in this same step: at `at`, stored
 * with the job, so that a controller that opens again waits as well. */
int sched_retry_at(struct sched *s, struct sjob *sj, double at, struct err *e);
/* At load: a waiting job's last attempt a; if it was backfill given back,
 * its nodes are kept from backfill as the promise of the job they were
 * given to was (struct given_back). */
void sched_given_back(struct sched *s, const struct store_attempt *a);
/* Once every job is loaded: what jobs that are not backfill have launched
 * on since it was given back is theirs, no longer kept; and nothing is kept
 * when no job that came before the give-back still waits (the one it was
 * for has gone). */
void sched_given_settle(struct sched *s);
/* Work done so far, in seconds of the spec's first alternative: saved work
 * plus the live attempt's run x its speed (sched_att_speed). */
double sched_progress(const struct sched *s, const struct sjob *sj);
/* What of it the job would keep if its live attempt stopped now: the work
 * saved in checkpoints (all of it for a job not running). */
double sched_progress_kept(const struct sched *s, const struct sjob *sj);
/* Patience (sched_place.c): sj's attempt has launched, or is ending (which
 * wakes jobs parked for its place); drop every park (before a reload); when
 * the next parked job's patience runs out (INFINITY = none). */
void sched_patience_launched(struct sched *s, const struct sjob *sj);
void sched_patience_freed(struct sched *s, const struct sjob *sj);
/* sj, woken by nodes freeing at a place, ended before its turn: the nodes go
 * on to the next job parked there (s->wake_again when one was woken). */
void sched_patience_passed(struct sched *s, struct sjob *sj);
/* Every parked job back to the jobs to place now (the teams' quotas changed). */
void sched_patience_unpark_all(struct sched *s);
void sched_patience_reset(struct sched *s);
double sched_patience_next(const struct sched *s);
/* The active job of that id, or NULL. */
struct sjob *sched_job_by_id(const struct sched *s, int64_t id);
/* Work per second of the live attempt relative to the spec's first
 * alternative (plan_speed: catalog throughput.csv); 1 for a spec with one
 * alternative or when a ratio is unknown.  alt_speed: that of the spec's
 * alternative alt; speed_max: the fastest alternative's (the deadline
 * rule's speed for a job not running whose plan gave no alternative a
 * place: sched_place.c's idle_speed). */
double sched_att_speed(const struct sched *s, const struct sjob *sj);
double sched_alt_speed(const struct sched *s, const struct sjob *sj, size_t alt);
double sched_speed_max(const struct sched *s, const struct sjob *sj);
/* The timing for a location: p.cfg_at's answer, else p.cfg (cloud or
 * region NULL: p.cfg). */
const struct sched_config *sched_cfg_at(const struct sched *s, const char *cloud,
                                        const char *region);
/* Forget node states and size them for an attempt of `nodes` nodes. */
void sched_nodes_reset(struct sjob *sj, int nodes);

/* Put a job on the list of jobs to place (once). */
void sched_wait_add(struct sched *s, struct sjob *sj);
/* Index a new attempt of sj (attempt ids only grow). */
void sched_index_attempt(struct sched *s, int64_t attempt_id, struct sjob *sj);

/* sched_data.c */
/* (Re)read the live copies of every dataset from the store. */
int sched_data_load(struct sched *s, struct err *e);
void sched_data_free(struct sched *s);
/* Forget what memory holds of sj's own data (sjob_free). */
void sched_data_job_free(struct sjob *sj);
/* Set o's copies (and the time a new replica is kept) for planning sj. */
void sched_data_opts(struct sched *s, struct sjob *sj, struct plan_opts *o);
/* a (of sj) runs from a->running_at: use the copy there or make one, setting
 * a->egress to what making it cost. */
int sched_data_arrive(struct sched *s, struct sjob *sj, struct store_attempt *a,
                      struct err *e);
/* a (of sj), which ran, ended at `end`: its copy is one user fewer. */
int sched_data_leave(struct sched *s, struct sjob *sj, const struct store_attempt *a,
                     double end, struct err *e);
/* sj reached a terminal state: the replicas of its own data are deleted. */
int sched_data_job_ended(struct sched *s, struct sjob *sj, struct err *e);
/* Delete shared datasets' replicas unused for cfg.data_ttl_s, at their time. */
int sched_data_sweep(struct sched *s, struct err *e);
/* When the sweep next deletes a replica (INFINITY: none waits). */
double sched_data_sweep_next(const struct sched *s);

/* sched_quota.c */
/* Bring the teams' usage and fair-share factors up to date (once per
 * placement round, before jobs are ordered). */
int sched_quota_refresh(struct sched *s, struct err *e);
/* The team index of sj in s->org (-1 = no team, or a team the org lacks). */
int sched_team_of(struct sched *s, struct sjob *sj);
/* May sj's team run `nodes` nodes of offer o?  0: yes; 1: no, s->quota_why
 * says why (and s->quota_victim may name borrowed work to reclaim). */
int sched_quota_admit(struct sched *s, const struct sjob *sj, const struct offer *o, int nodes);
/* Would the team's quota let sj run nodes of o now (no side effect)? */
int sched_quota_fits(struct sched *s, const struct sjob *sj, const struct offer *o,
                     int nodes);
/* Would nodes of o put sj's team over a quota even with none of it in use
 * (and all of its cohort's borrowed)? */
int sched_quota_never(const struct sched *s, const struct sjob *sj, const struct offer *o,
                      int nodes);
/* Before planning: 1 and why when every alternative of sj's spec is over a
 * quota of its team that covers every cloud (planning cannot change that). */
int sched_quota_blocks_all(struct sched *s, struct sjob *sj, char *why, size_t n);
/* An attempt of sj on o was created: count it at once. */
void sched_quota_add(struct sched *s, struct sjob *sj, const struct offer *o, int nodes);
/* A hard budget sj's team has spent: 1 and why (n bytes) when it may not start. */
int sched_budget_blocks(struct sched *s, struct sjob *sj, char *why, size_t n,
                        struct err *e);
/* Stop borrowed work v so that sj's team gets its quota back. */
int sched_reclaim(struct sched *s, struct sjob *sj, struct sjob *v, struct err *e);
/* An attempt of sj ended with cost usd: the month's spend of its team. */
void sched_quota_spent(struct sched *s, struct sjob *sj, double usd);
void sched_quota_free(struct sched *s);

/* sched_group.c */
/* Note a job added to the controller: a pipeline stage after the first that
 * has never been placed is held until its earlier stages have succeeded. */
void sched_group_added(struct sched *s, struct sjob *sj);
/* Note that sj reached a terminal state (sched_transition). */
void sched_group_ended(struct sched *s, struct sjob *sj);
/* Act on this step's ended stages: end the later stages of a failed or
 * cancelled pipeline stage, stop a job group's other tasks when its primary
 * tasks have ended or a task failed; release held stages whose earlier
 * stages all succeeded.  Inside the step's transaction. */
int sched_groups(struct sched *s, struct err *e);
/* The variables of a stage (STRATUS_PIPELINE_DIR, ...) into v (room for
 * SCHED_GROUP_ENVS); their values are put in vals, which the caller frees
 * with sched_group_envs_free.  Makes the directories.  0 for a plain job. */
#define SCHED_GROUP_ENVS 5
size_t sched_group_envs(const struct sched *s, const struct sjob *sj, struct driver_env *v,
                        char *vals[SCHED_GROUP_ENVS]);
void sched_group_envs_free(char *vals[SCHED_GROUP_ENVS]);

/* sched_place.c */
int sched_place_all(struct sched *s, struct err *e);
int sched_commit_bill(struct sched *s, struct err *e);
double sched_commit_next(const struct sched *s);
int sched_check_deadlines(struct sched *s, struct err *e);
/* Keep placements off a's location (its whole region when whole_region) for
 * the cooldown; why is recorded with the block. */
int sched_block(struct sched *s, const struct store_attempt *a, int whole_region,
                const char *why, struct err *e);

#endif
