/*
 * slurm_int.h - internals of the slurm driver, shared by its files:
 *
 *   slurm.c        the driver_ops table: open, launch, poll, terminate,
 *                  capacity, next_event_in, log_path, node_addr, close;
 *                  fetching what the clusters say, at most once per poll
 *                  interval
 *   slurm_conf.c   the clusters file: which Slurm cluster is which catalog
 *                  offer, and how to reach its slurmrestd
 *   slurm_rest.c   slurmrestd's v0.0.38 API over HTTP (libcurl) and the
 *                  parsers of its JSON answers (jansson)
 *   slurm_job.c    what is submitted: the job JSON, its environment and the
 *                  batch script (built so that nothing from a spec can
 *                  inject shell or JSON)
 *   slurm_att.c    attempt records on disk, and how Slurm job states become
 *                  driver events
 *
 * The on-disk layout, below <home>/slurm/:
 *
 *   instance         a random tag of this home, part of every job name, so
 *                    two Stratus homes never mistake each other's jobs
 *   att-<id>         one live attempt: "key: value" lines (slurm_att.c),
 *                    replaced whole by rename on every change
 *   done/att-<id>    an attempt whose end was reported and acknowledged
 *
 * And on each cluster (as its nodes see the clusters file's `workdir`):
 *
 *   <workdir>/<instance>/att-<id>/batch.log        the batch script's output
 *   <workdir>/<instance>/att-<id>/node-addrs       the nodes' addresses, one a
 *                                                  line (rank order): node_addr
 *   <workdir>/<instance>/att-<id>/node-<rank>/log  setup and run of one node
 *   <workdir>/<instance>/att-<id>/node-<rank>/work the node's working directory
 */
#ifndef STRATUS_SLURM_INT_H
#define STRATUS_SLURM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

struct catalog;
struct buf;

/* The slurmrestd API version spoken (Slurm 22.05 serves it). */
#define SLURM_API "v0.0.38"
/* The file of an attempt's directory where its batch script writes the
 * nodes' addresses (slurm_job.c) and node_addr reads them (slurm.c). */
#define SLURM_NODE_ADDRS "node-addrs"
/* Largest gang. */
#define SLURM_MAX_NODES 4096
/* Longest setup or run text: both travel to every node in an environment
 * variable (base64), and Linux caps one at 128 KiB (MAX_ARG_STRLEN). */
#define SLURM_SCRIPT_MAX ((size_t)64 << 10)
/* Every variable of the spec together. */
#define SLURM_ENV_MAX ((size_t)256 << 10)
/* Defaults of the clusters file. */
#define SLURM_DEFAULT_POLL 1.0      /* seconds between two looks at a cluster */
#define SLURM_DEFAULT_PENDING 300.0 /* pending this long = no capacity there */
#define SLURM_DEFAULT_TIMEOUT 10.0  /* one HTTP request, connection included */
/* Nodes of our jobs that may wait in a cluster's own queue beyond its idle
 * nodes (slurm.c, "Capacity"). */
#define SLURM_DEFAULT_QUEUE 8
/* A record still "submitting" whose job no list shows this long after the
 * submission was lost (its controller died before the POST). */
#define SLURM_SUBMIT_GRACE 30.0

/* ---- slurm_conf.c ---- */

/* One cluster of the clusters file: one catalog offer. */
struct slurm_cluster {
    char *name;                          /* "azure-eastus": [A-Za-z0-9._-] */
    char *cloud, *region, *zone, *itype; /* the offer; zone "" when none */
    char *partition, *account, *qos;     /* NULL = the cluster's default */
    char *url;                           /* slurmrestd, no trailing '/' */
    char *user;                          /* X-SLURM-USER-NAME */
    char *token_file;                    /* the JWT is in this file, or ... */
    char *token_env;                     /* ... in this environment variable */
    char *workdir;                       /* job directories, as nodes see it */
    int gpus;                            /* GPUs per node to ask for; -1 = the offer's */
    int spot;                            /* its nodes are sold as spot (else on demand) */
    double pending_timeout;              /* seconds */
    long queue;                          /* nodes that may wait in its queue */
    size_t line;                         /* where it starts in the file */
};

struct slurm_conf {
    char *path;
    struct slurm_cluster *c;
    size_t n;
    double poll_interval; /* seconds between two fetches of a cluster's jobs */
    double timeout;       /* one HTTP request */
};

/* Read the clusters file at path; every cluster must be an offer of cat
 * (when cat is not NULL).  Errors say file:line:col.  default_workdir is
 * where job directories go when a cluster names no workdir. */
int slurm_conf_load(struct slurm_conf *c, const char *path, const struct catalog *cat,
                    const char *default_workdir, struct err *e);
void slurm_conf_free(struct slurm_conf *c);
/* The cluster that is this offer, or NULL. */
const struct slurm_cluster *slurm_conf_find(const struct slurm_conf *c, const char *cloud,
                                            const char *region, const char *zone,
                                            const char *itype);
/* The cluster with this name, or NULL. */
const struct slurm_cluster *slurm_conf_named(const struct slurm_conf *c,
                                             const char *name);

/* ---- slurm_rest.c ---- */

/* A Slurm job state, as v0.0.38 spells it in job_state. */
enum sjstate {
    SJ_PENDING,
    SJ_RUNNING, /* also CONFIGURING, COMPLETING, SUSPENDED, STAGE_OUT... */
    SJ_COMPLETED,
    SJ_FAILED, /* also OUT_OF_MEMORY, DEADLINE */
    SJ_TIMEOUT,
    SJ_CANCELLED,
    SJ_NODE_FAIL, /* also BOOT_FAIL */
    SJ_PREEMPTED, /* also REQUEUED and the like: Slurm took the nodes back */
    SJ_UNKNOWN
};

/* What the driver needs of one Slurm job. */
struct sjob {
    int64_t job_id;
    int64_t attempt_id; /* from the job name; -1 when not one of ours */
    enum sjstate state;
    char state_name[24]; /* job_state as Slurm said it */
    char reason[48];     /* state_reason: why pending, why it ended */
    int status;          /* exit_code: a wait(2) status; -1 unknown */
    double start, end;   /* start_time, end_time (cluster clock), 0 unknown */
    char nodes[64];      /* allocated nodes ("az[1-2]"); "" = never ran */
};

struct sjob_list {
    struct sjob *v; /* sorted by attempt_id */
    size_t n, cap;
};

/* One slurmrestd. */
struct srest {
    void *curl; /* CURL *, reused: connections are kept alive */
    char *base; /* <url>/slurm/v0.0.38 */
    const struct slurm_cluster *cl;
    char *token;        /* the JWT; never logged, never in a message */
    double token_mtime; /* of token_file when it was read */
    long timeout_ms;
};

int srest_init(struct srest *r, const struct slurm_cluster *cl, double timeout,
               struct err *e);
void srest_free(struct srest *r);
/* POST job/submit; *job_id on success.  ST_ECAPACITY when Slurm refused
 * the job, ST_EINVAL when it refused the token; other errors leave open
 * whether the job was submitted. */
int srest_submit(struct srest *r, const char *body, int64_t *job_id, struct err *e);
/* GET jobs: ours (names "<prefix><attempt id>") into out, replacing it.
 * With since > 0 only when something changed since then: *unchanged = 1
 * and out untouched otherwise. */
int srest_jobs(struct srest *r, const char *prefix, double since, struct sjob_list *out,
               int *unchanged, struct err *e);
/* GET job/{id}: ST_ENOTFOUND when the cluster no longer knows it. */
int srest_job(struct srest *r, int64_t job_id, const char *prefix, struct sjob *out,
              struct err *e);
/* DELETE job/{id} (SIGTERM, then SIGKILL after the cluster's KillWait);
 * a job already gone is no error. */
int srest_cancel(struct srest *r, int64_t job_id, struct err *e);
/* GET nodes: the idle nodes of the cluster's partition. */
int srest_idle(struct srest *r, long *idle, struct err *e);

/* The parsers, apart from HTTP so tests and fuzzers can feed them. */
int slurm_parse_jobs(const char *json, size_t len, const char *prefix,
                     struct sjob_list *out, struct err *e);
int slurm_parse_idle(const char *json, size_t len, const char *partition, long *idle,
                     struct err *e);
int slurm_parse_submit(const char *json, size_t len, int64_t *job_id, struct err *e);
enum sjstate slurm_state_parse(const char *s);
const struct sjob *sjob_find(const struct sjob_list *l, int64_t attempt_id);
void sjob_list_free(struct sjob_list *l);

/* ---- slurm_job.c ---- */

/* The job name of an attempt: "<prefix><id>", prefix "stratus-<instance>-". */
char *slurm_job_name(const char *prefix, int64_t attempt_id);
/* The JSON body of job/submit for attempt a on cluster cl; dir is the
 * attempt's directory on the cluster.  Caller frees. */
int slurm_job_body(const struct attempt *a, const struct slurm_cluster *cl,
                   const char *name, const char *dir, char **body, struct err *e);
/* The batch script alone (for tests).  Caller frees. */
char *slurm_job_script(const struct attempt *a);
/* Is k a valid environment variable name? */
int slurm_env_key_ok(const char *k);

/* ---- slurm_att.c ---- */

enum satt_phase {
    SA_SUBMITTING, /* the record exists; the job may or may not */
    SA_SUBMITTED,  /* job_id is known */
    SA_REFUSED,    /* no capacity: CAPACITY is (to be) reported */
    SA_ENDED       /* the terminal event is known (end) */
};

/* One attempt the driver still has something to say about. */
struct satt {
    int64_t id;
    char *cluster;                  /* the cluster's name */
    const struct slurm_cluster *cl; /* NULL when no longer configured */
    int64_t job_id;                 /* 0 = not known yet */
    int nodes;
    double submitted_at;
    char *dir; /* on the cluster: <workdir>/<instance>/att-<id> */
    enum satt_phase phase;
    unsigned terminated : 1;  /* terminate() asked: a cancel is ours */
    unsigned cancel_sent : 1; /* this driver sent the DELETE */
    unsigned cleanup : 1;     /* SA_REFUSED: a job may still be queued there; the
                                 record stays until a job list says it is not */
    double started_at;        /* the job ran from then (cluster clock); 0 = not */
    struct driver_event end;  /* SA_REFUSED / SA_ENDED: what to report */
    int running_said;         /* RUNNING events returned (nodes 0..n-1) */
    int end_said;             /* terminal events returned */
    unsigned acked : 1;       /* the terminal events were acknowledged */
    double looked_at;         /* the last look at its job alone (not saved) */
};

struct satt_list {
    struct satt **v; /* sorted by id */
    size_t n, cap;
};

struct satt *satt_find(const struct satt_list *l, int64_t id);
void satt_add(struct satt_list *l, struct satt *a);
void satt_free(struct satt *a);
/* Drop (and free) acknowledged attempts with nothing left to clean up. */
void satt_forget_acked(struct satt_list *l);

/* Write a's record (root/att-<id>) whole; 0 or an error. */
int satt_save(const char *root, const struct satt *a, struct err *e);
/* Move the record to root/done/: the attempt is over and acknowledged. */
int satt_retire(const char *root, const struct satt *a, struct err *e);
/* Is there a record of attempt id (live or done)? */
int satt_known(const char *root, int64_t id);
/* Read every live record below root into l. */
int satt_load_all(const char *root, const struct slurm_conf *conf, struct satt_list *l,
                  struct err *e);
/* Bring a up to date with its job j (NULL: not in the list) at time now.
 * Returns what to do about it: SACT_NONE, SACT_CANCEL (DELETE the job),
 * SACT_LOOKUP (ask for the job alone: the list no longer shows it).  Sets
 * *changed when the record must be saved. */
enum satt_action { SACT_NONE, SACT_CANCEL, SACT_LOOKUP };
enum satt_action satt_update(struct satt *a, const struct sjob *j, double now,
                             int *changed);
/* The job is gone from the cluster (GET job/{id} said so). */
void satt_lost(struct satt *a, double now);
/* Refuse a for lack of capacity, with the reason. */
void satt_refuse(struct satt *a, double now, const char *why);
/* Copy up to max events of a out; returns the count; *ended = 1 when the
 * terminal events are now all out. */
size_t satt_events(struct satt *a, struct driver_event *ev, size_t max, int *ended);
/* Has a events ready to be returned now? */
int satt_has_news(const struct satt *a);
/* Is the attempt's job waiting or running on its cluster (holds or will
 * hold nodes)? */
int satt_live(const struct satt *a);

#endif
