/*
 * local_int.h - internals of the local driver, shared by its files:
 *
 *   local.c        the driver_ops table: open, launch, terminate, inject,
 *                  capacity, next_event_in, log_path, close
 *   local_att.c    attempts and nodes as the controller sees them: loading
 *                  them from disk, reading a node's files, timers, events and
 *                  their acknowledgement
 *   local_conf.c   local.yaml (capacity, preemption, stockouts, seed) and the
 *                  location patterns every part of the driver matches with
 *   local_fault.c  stockouts, and the faults people and tests inject
 *   local_files.c  the on-disk protocol the driver and the node supervisor
 *                  share: atomic writes, the `pid` claim and lock, `exit`
 *   local_node.c   starting a node (posix_spawn of `stratus __node`)
 *                  and the supervisor that runs there
 *   local_proc.c   a node's cgroup and process group: nothing of a node
 *                  outlives it before the driver reports it ended
 *   local_net.c    a network namespace per node for replicas that listen
 *                  on a fixed port (STRATUS__NETNS=1 in the envs)
 *
 * The on-disk layout, below <home>/local/:
 *
 *   stockouts             injected stockouts: "LOCATION UNTIL" lines
 *   acked                 touched whenever terminal events are acknowledged
 *   wake                  a FIFO (0600): supervisors write a byte to it after
 *                         each record they write, so an event loop holding its
 *                         read end (driver_wake_fds) polls at once
 *   att-<id>/             one attempt, created whole by rename(att-<id>.tmp)
 *     attempt             "key: value" lines: job, n, location, nodes, spot
 *     setup, run          the shell text (absent = nothing to run)
 *     workdir             the spec's workdir to copy into each node (absent = none)
 *     refused             the launch was refused (no capacity): why; no nodes then
 *     reported            the refusal was reported and acknowledged
 *     node-<rank>/
 *       env               the node's environment additions, "KEY=VALUE\0..."
 *       netns             "SLOT": the node runs in network namespace
 *                         stratus-SLOT (absent: on the host's network; see
 *                         local_net.c)
 *       cgroup            the cgroup v2 directory the node's processes run in
 *                         (absent: no usable cgroup v2; see local_proc.c)
 *       work/             the working directory of setup and run
 *       log               stdout and stderr of setup and run
 *       pid               the supervisor's pid, created exclusively (the claim)
 *                         and flock()ed by it for its whole life; "0" is the
 *                         driver's tombstone: the node never started
 *       started           when the supervisor started (wall clock seconds)
 *       preempted         "TIME REASON": the driver is taking the node back
 *       terminated        "TIME": the controller asked to stop the node
 *       exit-reserved     the space of `exit`, taken when the supervisor
 *                         starts: "pending" padded; the supervisor writes the
 *                         record into it in place and renames it to `exit`
 *       exit              "CODE\n[stopped|lost]\n", written once by rename
 *       reported          the node's terminal event was acknowledged
 */
#ifndef STRATUS_LOCAL_INT_H
#define STRATUS_LOCAL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/hmap.h"
#include "driver.h"
#include "local.h"

struct catalog;

/* Nodes of each (location, instance type) offer when local.yaml says nothing:
 * enough for a few small gangs side by side, few enough that a handful of
 * example jobs run into capacity limits and fail over. */
#define LOCAL_DEFAULT_CAPACITY 4
/* Seconds from PREEMPT_NOTICE to SIGKILL: a scaled-down stand-in for the
 * clouds' 30 s (GCP, Azure) to 2 min (OCI, AWS) notices. */
#define LOCAL_DEFAULT_NOTICE 2.0
/* Seconds from terminate()'s SIGTERM to SIGKILL. */
#define LOCAL_DEFAULT_GRACE 2.0
/* A spawned node that has not claimed its `pid` by then is given up as lost. */
#define LOCAL_SPAWN_TIMEOUT 10.0
/* Process exits cannot be foreseen: while nodes live, ask to be polled this often. */
#define LOCAL_POLL_HINT 0.5
/* At open, terminal events acknowledged this long before the last
 * acknowledgement are reported again (see local_att.c). */
#define LOCAL_REPLAY_S 60.0
/* Largest gang; node ranks must fit `stratus logs --node`. */
#define LOCAL_MAX_NODES 4096
/* Longest cloud, region, zone or instance type name. */
#define LOCAL_NAME_MAX 128

/* ---- local_conf.c ---- */

struct local_pat {
    char *pat; /* location pattern, see local_loc_match() */
    double v;  /* nodes (capacity) or preemptions per node-minute */
};

struct local_conf {
    long cap_default;      /* nodes per offer no pattern names */
    struct local_pat *cap; /* capacity patterns, first match wins */
    size_t ncap;
    struct local_pat *rate; /* spot preemption rates, first match wins */
    size_t nrate;
    double notice;    /* seconds from preemption notice to SIGKILL */
    double grace;     /* seconds from terminate's SIGTERM to SIGKILL */
    char **stockouts; /* location patterns that refuse every launch */
    size_t nstockouts;
    int has_seed; /* local.yaml gave a seed (it wins over the controller's) */
    uint64_t seed;
};

void local_conf_default(struct local_conf *c);
/* Read local.yaml at path into c (defaults for what it leaves out); patterns
 * must match an offer of cat when cat is not NULL.  Errors say file:line:col. */
int local_conf_load(struct local_conf *c, const char *path, const struct catalog *cat,
                    struct err *e);
void local_conf_free(struct local_conf *c);
/* Does a pattern match an offer?  A pattern is glob-matched against
 * "cloud/region", "cloud/region/zone" and "cloud/region/zone/type", so naming
 * a location takes in everything inside it ("oci/us-ashburn-1", "gcp/us-*"). */
int local_loc_match(const char *pat, const char *cloud, const char *region,
                    const char *zone, const char *itype);
/* Nodes an offer has in total. */
long local_conf_capacity(const struct local_conf *c, const char *cloud,
                         const char *region, const char *zone, const char *itype);
/* Spot preemptions per node-minute at an offer. */
double local_conf_rate(const struct local_conf *c, const char *cloud, const char *region,
                       const char *zone, const char *itype);
/* Does a pattern match at least one offer of cat?  On no, e says so, with the
 * closest location as a suggestion; what names the pattern in the message. */
int local_pat_check(const struct catalog *cat, const char *pat, const char *what,
                    struct err *e);

/* ---- local_files.c ---- */

/* What `exit` says. */
struct lf_exit {
    int code;    /* 0..255 or 128+signal; -1 unknown (lost) */
    int stopped; /* the node was asked to stop (SIGTERM or killed) */
    int lost;    /* the supervisor died without saying how the job ended */
};

/* Write dir/name whole: a temporary file renamed over it.  0 or -errno. */
int lf_write(const char *dir, const char *name, const void *data, size_t len);
/* The same with the given file mode (the env, which may hold secrets: 0600). */
int lf_write_mode(const char *dir, const char *name, const void *data, size_t len,
                  int mode);
/* Read dir/name into buf (NUL-terminated, cut to n - 1 bytes); length or -errno. */
ssize_t lf_read(const char *dir, const char *name, char *buf, size_t n);
int lf_exists(const char *dir, const char *name);
/* Modification time of dir/name in seconds, 0 when missing. */
double lf_mtime(const char *dir, const char *name);
/* Create dir/name (empty) or update its time; 0 or -errno. */
int lf_touch(const char *dir, const char *name);
/* Read a "TIME ..." file: the time, 0 when missing; the rest into rest. */
double lf_read_stamp(const char *dir, const char *name, char *rest, size_t n);
/* Write "TIME REST\n" atomically. */
int lf_write_stamp(const char *dir, const char *name, double t, const char *rest);
/* Claim a node: create node_dir/pid holding pid, exclusively.  With lock_fd
 * not NULL the file is flock()ed before it appears and *lock_fd keeps the
 * lock (close-on-exec).  0, -EEXIST when already claimed, or -errno. */
int lf_claim(const char *node_dir, long pid, int *lock_fd);
/* The pid in node_dir/pid: > 0 a supervisor, 0 the tombstone, -1 none yet. */
long lf_pid(const char *node_dir);
/* 1 while a supervisor holds node_dir/pid locked, else 0. */
int lf_alive(const char *node_dir);
int lf_exit_write(const char *node_dir, const struct lf_exit *x);
/* 0 and *x, or -ENOENT when the node has not ended. */
int lf_exit_read(const char *node_dir, struct lf_exit *x);
/* Supervisor: take the space the exit record needs now (node_dir/
 * exit-reserved, written and synced), so that a disk that fills up later
 * cannot keep the record from being written; the open fd, or -errno. */
int lf_exit_reserve(const char *node_dir);
/* Supervisor: write the record into the reserved file in place and rename it
 * to `exit`; 0 or -errno (then try again: nothing is lost).  Does not close
 * fd. */
int lf_exit_commit(int fd, const char *node_dir, const struct lf_exit *x);
/* Driver, for a supervisor that is dead: the record it wrote into
 * exit-reserved but could not rename; 0 and *x, or -ENOENT. */
int lf_exit_read_reserved(const char *node_dir, struct lf_exit *x);

/* ---- local_node.c ---- */

/* How the driver touches processes; tests replace members (SQLite's aSyscall). */
struct local_sys {
    /* Start the supervisor of the node in node_dir, detached; 0 or an error. */
    int (*spawn)(const char *bin, const char *node_dir, struct err *e);
    int (*kill)(pid_t pid, int sig);
    /* write(2) for every file of local_files.c: tests fail it (a full disk) */
    ssize_t (*write)(int fd, const void *buf, size_t n);
};
extern struct local_sys local_sys;
/* Reap the supervisors this process started that have ended (the driver's
 * poll): they are its children, unless a SIGCHLD handler (the server's)
 * reaped them first. */
void local_node_reap_kids(void);

/* Supervisor: tell a driver watching <root>/wake that node_dir wrote a
 * record (nothing happens when no driver holds it open). */
void local_node_wake(const char *node_dir);

/* ---- local_mounts.c ---- */

/* The attempt's `mounts` file: its local file_mounts, sources made absolute
 * (*out NULL when there are none).  ST_EINVAL when a source is missing or a
 * destination leaves the work directory. */
int local_mounts_text(const struct attempt *a, char **out, struct err *e);
/* The attempt's `notes`: what the local driver does not honour (image_id,
 * disk_tier, accelerator_args, buckets), one line each; NULL when nothing. */
char *local_launch_notes(const struct attempt *a);
/* Supervisor: copy what a `mounts` file lists into the work directory. */
int local_mounts_copy(const char *mounts, const char *work, struct err *e);

/* ---- local_proc.c ---- */

/* The directory (cgroup v2) below which nodes get a cgroup each, created if
 * need be; NULL when there is no cgroup v2 we may write (or
 * STRATUS_CGROUP=off).  Caller frees. */
char *local_cg_root(void);
/* Remove the empty node cgroups below cgroot that were left over long ago
 * (nodes that ended while no driver looked, in homes that are gone). */
void local_cg_sweep(const char *cgroot);
/* A fresh cgroup path below cgroot for one node. Caller frees. */
char *local_cg_name(const char *cgroot, const char *node_dir, int64_t attempt_id,
                    int rank);
/* Supervisor: create the cgroup node_dir/cgroup names and move this process
 * into it; 0 (also when the node has none) or -errno. */
int local_cg_join(const char *node_dir);

struct latt;
/* SIGKILL whatever is left of node rank of a (its supervisor, its process
 * group pgid, its cgroup) and wait a moment for it; 1 when nothing is left,
 * 0 when something still runs (call again later). */
int local_node_reap(const struct latt *a, int rank, long pgid, const char *dir);

/* ---- local_net.c ---- */

/* Nodes with a network namespace each, machine-wide (10.213.0.0/16 in /30s). */
#define LOCAL_NET_SLOTS 16384

/* 1 when attempt a asks for a network per node (STRATUS__NETNS=1). */
int local_net_wanted(const struct attempt *a);
/* Claim a free slot for the node whose (final, absolute) directory is
 * node_dir; 0 and *slot, or an error. */
int local_net_reserve(const char *node_dir, int *slot, struct err *e);
/* Free the slot node_dir claimed, with its namespace if one was made. */
void local_net_release(int slot, const char *node_dir);
/* The host end (inside 0) or the node's end (inside 1) of slot's /30. */
void local_net_addr(int slot, int inside, char *buf, size_t n);
/* The address of the node in node_dir: 0, or ST_ENOTFOUND when it runs on
 * the host's network. */
int local_net_node_addr(const char *node_dir, char *buf, size_t n);
/* Supervisor: make the node's namespace (when its `netns` says it has one)
 * and enter it; 0, or -1 (said on stderr: the node must not run). */
int local_net_enter(const char *node_dir);
/* Driver: the node has ended and nothing of it runs: remove its namespace
 * and free its slot (no-op when it has none). */
void local_net_remove(const char *node_dir);
/* Remove the namespaces and slots of nodes that are over or gone (a crash
 * of the driver or of a whole home); only as root. */
void local_net_sweep(void);

/* ---- local_att.c ---- */

enum lnode_state {
    LN_PENDING, /* no supervisor has claimed the node yet */
    LN_LIVE,    /* claimed; its `exit` not seen yet */
    LN_ENDED    /* the terminal event is known (node->end) */
};

struct lnode {
    enum lnode_state state;
    long pid;              /* supervisor = process group id; 0 tombstone */
    double spawned_at;     /* this driver started a supervisor then; 0 = not */
    double pending_since;  /* PENDING: lost when unclaimed LOCAL_SPAWN_TIMEOUT later */
    double started_at;     /* from `started`; 0 = not started */
    double preempt_at;     /* spot: the drawn preemption time; 0 = none */
    double kill_at;        /* SIGKILL the group then; 0 = no SIGTERM sent */
    unsigned stopping : 1; /* `preempted` or `terminated` is written */
    unsigned killed : 1;   /* SIGKILL sent */
    unsigned said_running : 1; /* RUNNING returned by this driver instance */
    unsigned notice_due : 1;   /* PREEMPT_NOTICE still to return */
    unsigned said_end : 1;     /* the terminal event returned */
    unsigned acked : 1;        /* ... and acknowledged: `reported` exists */
    unsigned deferred : 1;     /* not spawned: another attempt of the job is not over */
    struct driver_event end;   /* LN_ENDED: the terminal event */
};

struct latt {
    int64_t id, job_id;
    int n; /* attempt number within the job */
    int nodes, spot;
    char *cloud, *region, *zone, *itype; /* zone "" when the cloud has none */
    char *dir;                           /* <root>/att-<id> */
    double launched_at;
    int refused;   /* refused at launch: no nodes, one CAPACITY event */
    char why[160]; /* refused: the reason */
    unsigned said_refused : 1, acked : 1;
    struct lnode *node; /* nodes entries; NULL when refused */
};

/* An injected refusal: a stockout (the launch is refused for capacity) or an
 * API error (the cloud's API fails the request: launch() returns ST_EIO). */
struct local_stockout {
    char *loc;     /* cloud/region[/zone] */
    double until;  /* wall clock; 0 = until cleared */
    int api_error; /* 1 = an API error, 0 = a stockout */
};

struct local_ack {
    int64_t attempt_id;
    int node; /* -1: the attempt's refusal */
};

/* The driver's private state (d->priv). */
struct local {
    char *root;   /* <home>/local, absolute */
    char *bin;    /* what to exec for a node: /proc/self/exe or $STRATUS_BIN */
    char *cgroot; /* where nodes get their cgroups; NULL: none (local_proc.c) */
    int wake_fd;  /* read end of <root>/wake, when has_wake (local.c) */
    int has_wake;
    int wake_owned; /* this instance closes wake_fd (else it stays open) */
    const struct clock *clock;
    const struct catalog *cat; /* NULL: offers are not checked */
    int indexed;               /* names and offers are built (on first use) */
    struct strpool names;      /* the catalog's offer names, interned again */
    struct keymap offers;      /* (cloud, region, zone, type) -> offer index */
    uint64_t seed;
    struct local_conf conf;
    int loaded;        /* attempts read from disk (done on first use) */
    struct latt **att; /* live attempts, by id */
    size_t natt, att_cap;
    struct local_stockout *so; /* injected stockouts */
    size_t nso, so_cap;
    struct local_ack *acks; /* terminal events the last poll returned */
    size_t nacks, acks_cap;
};

double local_now(const struct local *p);
char *local_node_dir(const struct latt *a, int rank);
struct latt *local_att_find(const struct local *p, int64_t id);
void local_att_add(struct local *p, struct latt *a);
void local_att_free(struct latt *a);
/* Read every attempt below p->root that still has something to report. */
int local_load(struct local *p, struct err *e);
/* Bring every node up to date with its files (and act on what it finds: lost
 * nodes, tombstones). */
void local_refresh(struct local *p);
/* Spawn the nodes whose start waited for another attempt of their job to be
 * over, now that it is (local.c). */
void local_start_deferred(struct local *p);
/* Fire due timers: spot preemptions and SIGKILLs after a notice or grace. */
void local_timers(struct local *p);
/* Stop a node: write the `preempted` (reason not NULL) or `terminated`
 * marker, SIGTERM the supervisor and schedule the SIGKILL. */
void local_node_stop(struct local *p, struct latt *a, int rank, const char *preempt_why);
/* Copy up to max pending events out; remembers the terminal ones for ack. */
size_t local_events(struct local *p, struct driver_event *ev, size_t max);
/* Acknowledge what the previous poll returned (write `reported`). */
void local_ack(struct local *p);
/* Seconds until a timer fires or LOCAL_POLL_HINT while nodes live; < 0 none. */
double local_next(const struct local *p);
/* Nodes of an offer held by live attempts. */
long local_used(const struct local *p, const char *cloud, const char *region,
                const char *zone, const char *itype);
/* Seconds after its start that a spot node is preempted: an exponential draw
 * with the given rate (per second) from a generator seeded by (seed,
 * attempt id, rank), so a run is reproducible. */
double local_draw_preempt(uint64_t seed, int64_t attempt_id, int rank, double rate_per_s);
/* The attempt file's text for a. Caller frees. */
char *local_att_text(const struct attempt *a, double now);

/* ---- local_fault.c ---- */

/* Read the injected stockouts that a previous driver left in <root>/stockouts. */
void local_stockouts_load(struct local *p);
/* Is the offer stocked out now (local.yaml or injected)?  Says why in why. */
int local_stocked_out(const struct local *p, const char *cloud, const char *region,
                      const char *zone, const char *itype, char *why, size_t n);
/* Does the cloud's API fail requests for the offer now (injected)?  Says
 * why in why. */
int local_api_error(const struct local *p, const char *cloud, const char *region,
                    const char *zone, const char *itype, char *why, size_t n);
/* driver_inject(): kind "preempt-job", "preempt-location", "stockout" or
 * "api-error". */
int local_inject_fault(struct local *p, const char *kind, const char *arg, struct err *e);

#endif
