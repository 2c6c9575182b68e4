/*
 * sched.h - the controller: the job state machine over the store and a
 * driver.  It places jobs with the planner, launches gangs, fails over on
 * stockouts (blocklisting the location for a cooldown), recovers preempted
 * jobs from their checkpoints, moves deadline jobs between spot and
 * on-demand by "Can't Be Late"'s Uniform Progress (sched_place.c), places
 * higher priority first (and may displace lower-priority spot jobs), and
 * accounts every attempt's node-seconds at the price in force.
 *
 * Time comes only from the injected clock and the controller never sleeps:
 * a caller runs sched_step() in a loop (the daemon in real time, the
 * simulator in virtual time).  Every decision is committed to the store
 * before the driver is asked to act on it, so a controller killed at any
 * instant resumes from the store with sched_open() and loses nothing.
 */
#ifndef STRATUS_SCHED_H
#define STRATUS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "../util/clock.h"
#include "../util/err.h"

struct catalog;
struct driver;
struct offer;
struct policy;
struct store_attempt;
struct store_data_replica;
struct store_job;
struct store;
struct spec;
struct pipeline;

struct sched_config {
    double block_cooldown_s;    /* a location that refused a launch is avoided this long */
    double backoff_base_s;      /* restart backoff: base x 2^(restarts-1) ... */
    double backoff_max_s;       /* ... capped here */
    double relaunch_overhead_s; /* time a launch takes before the attempt runs: with
                                   the spec's restore time and checkpoint interval
                                   it makes the deadline rule's changeover d */
    int preempt_lower_priority; /* displace lower-priority spot jobs when full */
    size_t max_failover;        /* candidates tried per job per step */
    const char *ckpt_root;      /* checkpoint dirs live under here; NULL = none (sim) */
    double wait_retry_s;        /* a job waiting for capacity is retried at least
                                   this often (on a grid of its quarters, so
                                   that waiting jobs are retried together; and
                                   at once when capacity frees) */
    int deadline_rule;          /* enum sched_deadline_rule (sched_place.c) */
    int rank_by_price;          /* rank candidates by price alone (baselines) */
    double deadline_check_s;    /* how often running jobs are checked against
                                   their deadlines (placements always are) */
    int only_when_poked;        /* look for new jobs and requests only after
                                   sched_poke() (the simulator submits itself;
                                   the daemon looks every step) */
    int data_gravity;           /* replicas (sched_data.c, docs/data.md): data
                                   moved once per region and priced from the
                                   nearest copy; 0 = each attempt that runs
                                   away from the last one's region moves the
                                   data from its home again (the baselines) */
    double data_ttl_s;          /* a shared dataset's replica unused this long
                                   is deleted */
    int patience;               /* honour the policy rules' patience (a job
                                   waits for a cheaper place its own
                                   controller's jobs hold; sched_place.c);
                                   0 = never wait (the baselines) */
    int commit_backfill;        /* a job that would take spot takes free
                                   committed nodes no on-demand attempt needs,
                                   and gives them back when one does
                                   (sched_place.c); 0 = committed nodes only
                                   for jobs that would pay on demand */
};

/* How jobs with a deadline choose between spot and on-demand (the rules of
 * "Can't Be Late", Wu et al., NSDI '24; sched_place.c cites them). */
enum sched_deadline_rule {
    SCHED_DEADLINE_OFF,         /* no rule: the planner's order, as any job */
    SCHED_DEADLINE_UNIFORM,     /* Uniform Progress with Safety Net and hysteresis */
    SCHED_DEADLINE_GREEDY       /* the paper's Greedy: spot or wait, Safety Net */
};

/* The defaults (cooldown 300 s, backoff 5 s .. 300 s, launch time 120 s,
 * displacement on, 8 failovers per step, waiting jobs retried every 60 s,
 * Uniform Progress, ranking by expected cost). */
void sched_config_default(struct sched_config *c);

struct sched_params {
    struct store *store;
    struct driver *driver;
    const struct catalog *cat;
    const struct clock *clock;
    struct sched_config cfg;
    /* Optional: the policy of jobs submitted without one (not owned). */
    const struct policy *default_policy;
    /* Optional: build a job's spec from its row instead of parsing its text
     * (the simulator makes a million specs directly). Returns an owned spec. */
    int (*load_spec)(void *ctx, const struct store_job *j, struct spec **out, struct err *e);
    void *load_spec_ctx;
    /* Optional: the timing of the driver a location is bound to (a server
     * with several drivers): its block_cooldown_s, backoff_base_s,
     * backoff_max_s and relaunch_overhead_s are used for what happens at
     * that location (a block there, the backoff after an attempt there
     * failed, the changeover of a job running there).  NULL, or a NULL
     * answer, = cfg.  The answer is borrowed until sched_close(). */
    const struct sched_config *(*cfg_at)(void *ctx, const char *cloud, const char *region);
    void *cfg_ctx;
    /* Optional, for services (serve/manager.h): may replica j (a job with a
     * service_id) use offer o in mode (enum plan_mode)?  NULL = yes.  The
     * replica manager spreads spot replicas with it. */
    int (*replica_may_use)(void *ctx, const struct store_job *j, const struct offer *o,
                           int mode);
    /* Optional: a replica's event of `type` ("preempt-notice", ...) as the
     * controller logs it (inside the step's transaction). */
    void (*replica_event)(void *ctx, const struct store_job *j, const char *type);
    void *replica_ctx;
    /* Optional: the value of secret `name` of `team` ("" = the lab's shared
     * space), opened for the launch of a job whose spec refers to it
     * (docs/secrets.md): 0 and an owned *value, which the controller wipes
     * and frees once the driver has it, or an error (ST_ENOTFOUND: there
     * is no such secret) that fails the attempt.  NULL = a world without
     * secrets (the simulator, whose driver runs nothing): such a variable
     * is launched empty. */
    int (*secret_value)(void *ctx, const char *team, const char *name, char **value,
                        struct err *e);
    void *secret_ctx;
};

struct sched;
struct store_block;

/* Whether block b covers offer o (an empty zone or instance type in b is
 * all of them), as the controller matches them; `until` is not looked at. */
int sched_block_covers(const struct store_block *b, const struct offer *o);
/* A block's accelerator for CPU-only offers (a CPU-only n1 type out of
 * stock says nothing of its GPU offers); "" = every offer of its place. */
#define SCHED_BLOCK_CPU "(none)"

/* Load every active job from the store and re-issue what a killed controller
 * may have left half done (launches of attempts still LAUNCHING). */
int sched_open(struct sched **out, const struct sched_params *p, struct err *e);
void sched_close(struct sched *s);

/* The lab's teams (policy/org.h): quotas, cohorts, budgets and fair-share
 * weights the controller admits by from its next step on.  g is borrowed
 * until the next call or sched_close(); NULL = no teams. */
struct org;
void sched_set_org(struct sched *s, const struct org *g);

/* What team `name` uses now: GPUs per quota entry into used[k] (k < n and
 * the team's nquota), its spend this month (ended + live attempts) and its
 * fair-share factor.  -1 when the controller knows no such team. */
int sched_team_usage(struct sched *s, const char *name, long *used, size_t n,
                     double *spend, double *factor);
/* Would placing `nodes` nodes of offer o for team `team` go over one of the
 * team's quotas now (with what its cohort lends)?  1, with why (n bytes)
 * naming the quota and its use ("team research uses 8/8 H100 (needs 8)"),
 * as a waiting job's reason does; 0 when it fits or the team is unknown.
 * Changes nothing: the question `stratus plan` asks of a server. */
int sched_quota_check(struct sched *s, const char *team, const struct offer *o, int nodes,
                      char *why, size_t n);

/* One round: requests, driver events, deadline checks, placements.  *next_in
 * (may be NULL) says how soon another round has work to do (seconds; the
 * caller may sleep that long or until it is poked). */
int sched_step(struct sched *s, double *next_in, struct err *e);

/* New jobs or requests are in the store: the next step reads them. */
void sched_poke(struct sched *s);

/* Number of jobs not yet in a terminal state. */
size_t sched_active(const struct sched *s);
/* Transitions committed since open (for benchmarks). */
uint64_t sched_transitions(const struct sched *s);
/* $ the commitments' bill took off on-demand attempts so far (this run of
 * the controller's; the simulator's commit_covered). */
double sched_commit_covered(const struct sched *s);

/* Submit a job: validates the spec and policy text, writes the job PENDING
 * with a "submitted" event, and returns its id.  Needs no running controller
 * (the command line calls it, then pokes the controller). */
int sched_submit(struct store *st, const char *spec_path, const char *spec_text,
                 const char *policy_text, double now, int64_t *job_id, struct err *e);
/* The same for a spec already parsed (sp is borrowed); spec_text is what the
 * store keeps (a controller with a load_spec hook never parses it). */
int sched_submit_parsed(struct store *st, const char *spec_path, const char *spec_text,
                        const struct spec *sp, const char *policy_text, double now,
                        int64_t *job_id, struct err *e);
/* What the server filled in at submit that a job's spec text does not say,
 * from its row j into sp (parsed from j's text): the team of a user in one
 * team, an unnamed pipeline stage's name ("<pipeline>-<k>").  The policy's
 * rules match on them: the controller, the advisor and the server's checks
 * see one spec. */
void sched_spec_from_row(struct spec *sp, const struct store_job *j);
/* A deadline must leave the job its run (a date: from now; a passed date
 * is refused): with a catalog, the run on its fastest alternative
 * the planner places (plan_rank) under the policy in force, pol (NULL =
 * none), at its speed (plan_speed); without, only for a spec whose
 * alternatives run alike.  0, or an error at the deadline's
 * file:line:col.  sched_submit_parsed checks without a catalog; the server
 * with its own. */
struct catalog;
int sched_deadline_check(const struct catalog *cat, const struct policy *pol,
                         const struct spec *sp, const char *file, double now,
                         struct err *e);
/* The same for a pipeline's stage, which starts no sooner than after the
 * stages before it (after their shortest runs, sched_min_run). */
int sched_deadline_check_after(const struct catalog *cat, const struct policy *pol,
                               const struct spec *sp, const char *file, double now,
                               double after_s, struct err *e);
/* The shortest run sp can have (its fastest alternative's, as the check
 * counts it; 0 without a duration, and without a catalog for alternatives
 * that run differently: the server counts them with its own). */
double sched_min_run(const struct catalog *cat, const struct policy *pol,
                     const struct spec *sp, double now);
/* The simulator's submit of a trace's job: as sched_submit_parsed, but no
 * dataset home is recorded (a store lookup per job; the trace's loader
 * holds each dataset to one home, and placement records it). */
int sched_submit_trace(struct store *st, const struct spec *sp, double now,
                       int64_t *job_id, struct err *e);
/* Who bills a data move: the cloud its data leaves, at each hop (its source,
 * then each relay it went by, docs/data.md), copy r's egress split by the
 * hops' prices in the catalog now (all of it to its source when the catalog
 * prices none of them); parts of one cloud merged.  At most max parts. */
#define SCHED_EGRESS_HOPS 8
struct sched_egress_part {
    char cloud[16];
    double usd;
};
size_t sched_egress_sources(const struct catalog *cat, const struct store_data_replica *r,
                            struct sched_egress_part *out, size_t max);
/* Every copy of data a store has had, by the attempt that made it. */
struct sched_copies {
    struct store_data_replica *v;
    size_t n;
};
int sched_copies_load(struct store *st, struct sched_copies *cp, struct err *e);
void sched_copies_free(struct sched_copies *cp);
/* Attempt a's data move `usd` by the clouds that bill it: the hops of the
 * copy it made (sched_egress_sources), else all of it to `otherwise` (NULL:
 * a's cloud).  The parts in out[SCHED_EGRESS_HOPS]; their number. */
size_t sched_attempt_egress(const struct catalog *cat, const struct sched_copies *cp,
                            const struct store_attempt *a, double usd,
                            const char *otherwise, struct sched_egress_part *out);
/* Record the home of the shared dataset sp names (docs/data.md), unless the
 * store knows one there, in the transaction of a submit, `serve up` or
 * `serve update`, before the row that names it is written (so that it is
 * not taken for a holder: sched_data_home_holder).  A live home elsewhere
 * refuses it, unless nothing holds it and nothing ran on it (then it is
 * forgotten); self: the service an update changes (0: none), which does
 * not hold it. */
int sched_data_note_home(struct store *st, const struct spec *sp, int64_t self,
                         double now, struct err *e);
/* Committed nodes free for offer o now: its commitments' nodes in force
 * less those the controller's live committed attempts hold (backfill
 * included), or -1 when no commitment covers o's group.  What `stratus
 * plan` shows for a committed candidate. */
long sched_commit_free(const struct sched *s, const struct offer *o);
/* A job whose spec no longer loads ends (its attempt a ended now): the copy
 * its attempt ran on is let go (its dataset read from the YAML alone), its
 * own data's copies deleted, as the end of a job that loads does. */
int sched_data_unloadable_end(struct sched *s, const struct store_job *j,
                              const struct store_attempt *a, struct err *e);
/* Stage k of pl (from file) names its dataset as the stages before it do
 * (the store knows none of them before the submit): 0, or an error at its
 * data line.  The server's submit and `stratus plan` of a pipeline. */
int sched_data_stage_agrees(const char *file, const struct pipeline *pl, size_t k,
                            struct err *e);
/* Does sp give its dataset this home (cloud, region; "" = a bucket) and
 * size? */
int sched_data_same(const char *cloud, const char *region, double gb,
                    const struct spec *sp);
/* Who keeps a dataset's home recorded before any job ran on it, in words
 * for a message: who ("service 'chat'", "job 12") and what frees it. */
struct data_holder {
    char who[160];
    char fix[192];
    char team[128]; /* the holder's team ("" = none): who may see it */
};
/* A dataset is one set of data: a spec naming one the store knows must
 * give its home and size as the jobs before it did, or its copies (made
 * from the old home, of the old size) would stand in for other data.
 * v (n): the dataset's rows in the store; file: where sp was written (the
 * error's file:line:col); h: who holds a home nothing ran on (NULL: not
 * known, and said so). */
int sched_data_home_check(const struct spec *sp, const char *file,
                          const struct store_data_replica *v, size_t n,
                          const struct data_holder *h, struct err *e);
/* The dataset's home among its rows v (n), unless forgotten; NULL when none. */
const struct store_data_replica *sched_data_live_home(const struct store_data_replica *v,
                                                      size_t n);
/* What keeps dataset `name`'s home: a live service other than `self` (0:
 * none) that names it, else a job not ended that does (not a replica of
 * `self`).  1 with *h filled,
 * or 1 with *h empty when they cannot be read; 0 when nothing does. */
int sched_data_home_holder(struct store *st, const char *name, int64_t self,
                           struct data_holder *h);
/* How sp's dataset stands against the store's rows of it, v (n):
 *   DATA_FITS  no live home, or the one sp gives (home and size);
 *   DATA_FREE  another home that no job ran on and nothing but the service
 *              `self` (0: none) holds: the submit may forget it;
 *   DATA_HELD  the same, but something holds it: *h says what (empty when
 *              that could not be read);
 *   DATA_USED  another home that a job has run on. */
enum data_fit { DATA_FITS, DATA_FREE, DATA_HELD, DATA_USED };
enum data_fit sched_data_fit(struct store *st, const struct spec *sp, int64_t self,
                             const struct store_data_replica *v, size_t n,
                             struct data_holder *h);
/* sp's dataset is no longer named by the service `self` (it ended, or an
 * update changed its data; 0: no service): its home is forgotten if no
 * job ran on it, no job waits on it and no other live service names it,
 * as a job's end does (docs/data.md). */
int sched_data_forget_unused(struct store *st, const struct spec *sp, int64_t self,
                             double now, struct err *e);
/* Submit a replica of a service: a job as sched_submit_parsed makes from
 * the service's spec, with the replica fields of tmpl (service_id,
 * svc_version, port, svc_mode) and its name. */
int sched_submit_replica(struct store *st, const char *spec_path, const char *spec_text,
                         const struct spec *sp, const char *policy_text,
                         const struct store_job *tmpl, double now, int64_t *job_id,
                         struct err *e);

/* Submit every stage of a pipeline or job group (pl is borrowed) as a job,
 * all in one transaction: stage k's job keeps its own document's text,
 * group_id is the first stage's job id, and ids[k] (room for pl->n) gets
 * stage k's.  The controller runs them as sched_group.c says. */
int sched_submit_group(struct store *st, const char *spec_path, const struct pipeline *pl,
                       const char *policy_text, double now, int64_t *ids, struct err *e);

#endif
