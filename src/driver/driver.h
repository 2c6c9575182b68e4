/*
 * driver.h - the one interface between the controller and a world that runs
 * things: `local` (emulated clouds on this machine), `slurm` (real clusters),
 * `sim` (virtual time).  A driver is a const table of function pointers
 * (SQLite's sqlite3_vfs, curl's Curl_protocol); the core allocates its
 * private state (priv_size) and never asks which driver it holds.
 *
 * Contract:
 *  - launch() is idempotent per attempt id: launching an attempt the driver
 *    already knows is a no-op that returns 0.  A gang is all nodes in one
 *    location or none: if the driver cannot start every node it starts none
 *    and reports DRV_EV_CAPACITY for the attempt (or returns ST_ECAPACITY).
 *    Any other error it returns fails the attempt: ST_EINVAL, ST_ETOOBIG and
 *    ST_EPARSE mean the request itself is bad and fail the job; others
 *    (ST_EIO: a cluster that does not answer) move it elsewhere.
 *  - poll() reports what happened since the last poll, including what
 *    happened while no controller was running (drivers keep their own state).
 *    Delivery is at least once: a batch counts as delivered at the next
 *    poll (the controller polls again only after committing what it was
 *    told), and rewind() or a new driver instance delivers it again.
 *  - terminate() stops every node of an attempt; it is idempotent too, and the
 *    driver then reports DRV_EV_EXITED for the nodes it stopped.
 */
#ifndef STRATUS_DRIVER_H
#define STRATUS_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/clock.h"
#include "../util/err.h"

struct catalog;
struct offer;
struct spec_mount;

struct driver_env {
    const char *key, *value;
    int secret; /* the value is a team's secret (docs/secrets.md): the driver
                   puts it in the job's environment only, never in a log, a
                   message, a command line or a file others may read */
};

/* 1 when a node's variable `key` is the driver's to set (STRATUS_JOB_ID,
 * SKYPILOT_NODE_RANK, ..., and STRATUS__* for a driver's own use): a spec's
 * envs of that name are ignored. */
int driver_env_reserved(const char *key);

/* What a driver needs to start one attempt. Strings are borrowed for the call. */
struct attempt {
    int64_t id;                 /* globally unique; the idempotency key */
    int64_t job_id;
    int n;                      /* attempt number within the job, from 1 */
    const char *job_name;
    const char *cloud, *region, *zone, *instance_type; /* the placement */
    const char *accelerator;
    int acc_count;              /* per node */
    int nodes;
    int spot;                   /* 1 when launched as spot / preemptible */
    const char *setup, *run;    /* shell text; NULL = nothing */
    const char *workdir;        /* NULL = the driver's per-node directory */
    const struct driver_env *envs;
    size_t nenvs;
    const char *ckpt_dir;       /* STRATUS_CHECKPOINT_DIR for this attempt */
    /* Launch options of the spec (spec_launch_opts() fills them; zero/NULL =
     * none).  The driver honours what it can and says what it cannot in the
     * attempt's log; none of them is a reason to refuse a launch. */
    const char *ports;               /* "8080,10022-10040": to expose */
    const char *image;               /* image_id for this region ("docker:..." = a
                                        container image) */
    const char *disk_tier;           /* low, medium, high, ultra, best */
    const char *accelerator_args;    /* "key=value,..." (TPU options) */
    double disk_gb;                  /* boot disk size in GiB */
    const struct spec_mount *mounts; /* file_mounts (spec/spec.h): local paths
                                   to copy into the node's work dir, buckets */
    size_t nmounts;
    const char *spec_path; /* relative local sources are relative to its
                              directory; NULL = the current directory */
};

enum driver_event_type {
    DRV_EV_RUNNING,             /* a node started running */
    DRV_EV_EXITED,              /* a node's process exited: exit_code */
    DRV_EV_PREEMPT_NOTICE,      /* the cloud will take a node back soon */
    DRV_EV_PREEMPTED,           /* the cloud took a node back (or it was lost);
                                   node -1: the whole attempt is gone */
    DRV_EV_CAPACITY,            /* the launch was refused: no capacity */
    DRV_EV_FAILED               /* the launch failed for another reason */
};

struct driver_event {
    enum driver_event_type type;
    int64_t attempt_id;
    int node;                   /* rank; -1 for the whole attempt */
    int exit_code;              /* DRV_EV_EXITED: 0..255, or 128+signal;
                                   DRV_EV_FAILED: the ST_E* code of the failure */
    double at;                  /* when it happened (driver's clock) */
    char msg[160];
};

struct driver_config {
    const char *home;           /* the store's own directory, $STRATUS_HOME/state/<store
                                   id> (cli_state_dir): drivers keep state below it */
    const struct catalog *cat;
    const struct clock *clock;
    const char *config_path;    /* driver-specific file (local.yaml, clusters.yaml),
                                   which may not exist; NULL = <home>/config_name */
    uint64_t seed;              /* for reproducible randomness */
    const void *world;          /* driver-specific in-memory input (the simulator's
                                   struct sim_world); NULL for the others */
};

struct driver;

struct driver_ops {
    const char *name;           /* "local", "slurm", "sim" */
    size_t priv_size;           /* bytes of private state the core allocates */
    /* The driver's own file in $STRATUS_HOME ("clusters.yaml"), handed to
     * open() as config_path whether or not it exists (the driver says what
     * a missing one means); NULL = none. */
    const char *config_name;
    int (*open)(struct driver *d, const struct driver_config *cfg, struct err *e);
    int (*launch)(struct driver *d, const struct attempt *a, struct err *e);
    /* Fill up to max events; returns the count (>= 0) or a negative error. */
    int (*poll)(struct driver *d, struct driver_event *ev, size_t max, struct err *e);
    int (*terminate)(struct driver *d, int64_t attempt_id, struct err *e);
    void (*close)(struct driver *d);
    /* Optional (may be NULL): */
    /* Free nodes of an instance type at a location now; < 0 = unknown. */
    long (*capacity)(struct driver *d, const char *cloud, const char *region,
                     const char *zone, const char *instance_type);
    /* Fault injection for people and tests: kind "preempt-job" (arg: job id),
     * "preempt-location" (arg: cloud/region[/zone]), "stockout" (arg:
     * "cloud/region[/zone] SECONDS"). */
    int (*inject)(struct driver *d, const char *kind, const char *arg, struct err *e);
    /* Seconds until the driver next has something to report (for sleeping);
     * < 0 = no idea. */
    double (*next_event_in)(struct driver *d);
    /* Free nodes for one purchase mode (spot or on-demand), when the driver
     * tells the two apart; otherwise capacity() answers for both. */
    long (*capacity_mode)(struct driver *d, const char *cloud, const char *region,
                          const char *zone, const char *instance_type, int spot);
    /* The file holding a node's output (for `stratus logs`); 0, or
     * ST_ENOTFOUND when the driver keeps no such file. */
    int (*log_path)(struct driver *d, int64_t attempt_id, int node, char *buf, size_t n);
    /* The controller could not commit what the last poll returned: return
     * those events again at the next poll (a driver that counts a batch as
     * delivered only at the poll after it simply forgets that it did).  A
     * driver without it is closed and opened again, which replays too. */
    void (*rewind)(struct driver *d);
    /* Descriptors that become readable when the driver may have events (an
     * event loop watches them, drains them and polls); returns how many it
     * put in fds (at most max).  NULL or 0 = none: poll on a timer. */
    int (*wake_fds)(struct driver *d, int *fds, size_t max);
    /* Nodes that may be launched now if they may also wait in the location's
     * own queue (a batch scheduler's) for nodes to free: at least what
     * capacity says.  The controller asks only when no candidate of a job
     * has free nodes.  NULL = no such queue: capacity() is the answer. */
    long (*queue_capacity)(struct driver *d, const char *cloud, const char *region,
                           const char *zone, const char *instance_type, int spot);
    /* The address node `node` of an attempt has to itself, when the driver
     * gives nodes addresses of their own (the local world's network
     * namespaces): 0, or ST_ENOTFOUND (NULL op: the same) when the node is
     * reached where the driver's other nodes are. */
    int (*node_addr)(struct driver *d, int64_t attempt_id, int node, char *buf, size_t n);
    /* Whether spot and on-demand nodes at a location are pools apart (a
     * node of one is never a node of the other).  NULL: they are when
     * capacity_mode is there (driver_modes_apart). */
    int (*modes_apart)(struct driver *d, const char *cloud, const char *region,
                       const char *zone);
    /* Free nodes of one offer of the catalog (driver_config.cat) in a mode,
     * for a driver whose pools are offers rather than instance types: an
     * instance type may carry several accelerators (GCP's n1 types with a
     * T4 or a V100, TPU-VM with each TPU), each a pool of its own (the sim
     * driver).  NULL: the driver's pools are instance types (the local
     * world's, a Slurm partition's; the multi driver's children are such),
     * and capacity_mode (or capacity) answers. */
    long (*offer_capacity)(struct driver *d, const struct offer *o, int spot);
};

struct driver {
    const struct driver_ops *ops;
    void *priv;                 /* priv_size bytes, zeroed, owned by the core */
    const struct driver_config *cfg;
};

extern const struct driver_ops driver_local, driver_sim, driver_slurm;

/* The registry (tmux's cmd_table): look a driver up by name; NULL if unknown. */
const struct driver_ops *driver_find(const char *name);

/* Allocate d->priv and open. On error nothing stays allocated. */
int driver_open(struct driver *d, const struct driver_ops *ops,
                const struct driver_config *cfg, struct err *e);
void driver_close(struct driver *d);

static inline int driver_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    return d->ops->launch(d, a, e);
}

static inline int driver_poll(struct driver *d, struct driver_event *ev, size_t max,
                              struct err *e)
{
    return d->ops->poll(d, ev, max, e);
}

static inline int driver_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    return d->ops->terminate(d, attempt_id, e);
}

static inline long driver_capacity(struct driver *d, const char *cloud, const char *region,
                                   const char *zone, const char *instance_type, int spot)
{
    if (d->ops->capacity_mode)
        return d->ops->capacity_mode(d, cloud, region, zone, instance_type, spot);
    return d->ops->capacity ? d->ops->capacity(d, cloud, region, zone, instance_type) : -1;
}

/* Free nodes of offer o in a mode now (< 0 = unknown): the offer's own pool
 * where the driver keeps pools by offer, else its instance type's. */
long driver_offer_capacity(struct driver *d, const struct offer *o, int spot);

static inline int driver_modes_apart(struct driver *d, const char *cloud, const char *region,
                                     const char *zone)
{
    if (d->ops->modes_apart)
        return d->ops->modes_apart(d, cloud, region, zone);
    return d->ops->capacity_mode != NULL;
}

static inline long driver_queue_capacity(struct driver *d, const char *cloud,
                                         const char *region, const char *zone,
                                         const char *instance_type, int spot)
{
    if (d->ops->queue_capacity)
        return d->ops->queue_capacity(d, cloud, region, zone, instance_type, spot);
    return driver_capacity(d, cloud, region, zone, instance_type, spot);
}

static inline int driver_inject(struct driver *d, const char *kind, const char *arg,
                                struct err *e)
{
    if (d->ops->inject == NULL)
        return err_set(e, ST_EUSAGE, "the %s driver does not support fault injection",
                       d->ops->name);
    return d->ops->inject(d, kind, arg, e);
}

static inline double driver_next_event_in(struct driver *d)
{
    return d->ops->next_event_in ? d->ops->next_event_in(d) : -1;
}

static inline int driver_log_path(struct driver *d, int64_t attempt_id, int node, char *buf,
                                  size_t n)
{
    return d->ops->log_path ? d->ops->log_path(d, attempt_id, node, buf, n) : ST_ENOTFOUND;
}

static inline int driver_node_addr(struct driver *d, int64_t attempt_id, int node,
                                   char *buf, size_t n)
{
    return d->ops->node_addr ? d->ops->node_addr(d, attempt_id, node, buf, n) : ST_ENOTFOUND;
}

/* 1 when the driver can deliver its last poll's events again in-process. */
static inline int driver_can_rewind(const struct driver *d)
{
    return d->ops->rewind != NULL;
}

static inline void driver_rewind(struct driver *d)
{
    if (d->ops->rewind)
        d->ops->rewind(d);
}

/* The driver's wake descriptors (see driver_ops.wake_fds); 0 when none. */
static inline int driver_wake_fds(struct driver *d, int *fds, size_t max)
{
    return d->ops->wake_fds && max > 0 ? d->ops->wake_fds(d, fds, max) : 0;
}

const char *driver_event_name(enum driver_event_type t);

#endif
