/*
 * server_conf.h - the server's configuration: a YAML file (documented in
 * docs/server.md; `stratus server --check-config` validates one) that names
 * the listeners, the store and the drivers, binding every location to
 * exactly one driver. With no file, the built-in default: a UNIX socket in
 * the home, home/stratus.db, and one driver ($STRATUS_DRIVER, else local)
 * bound to every location with the timing knobs the environment sets
 * (STRATUS_BLOCK_COOLDOWN, STRATUS_BACKOFF, STRATUS_WAIT_RETRY, ...).
 */
#ifndef STRATUS_SERVER_CONF_H
#define STRATUS_SERVER_CONF_H

#include <stddef.h>

#include "../util/err.h"

struct catalog;
struct driver_ops;

enum srv_listen_kind { SRV_LISTEN_UNIX, SRV_LISTEN_TCP };

struct srv_listener {
    enum srv_listen_kind kind;
    char *path;              /* UNIX: absolute socket path */
    char *host;              /* TCP: address to bind ("127.0.0.1", "::1") */
    int port;                /* TCP: 1..65535, or 0 = any free port (tests) */
    char *tls_cert, *tls_key;/* TCP: PEM paths; both NULL = plain HTTP */
};

/* A driver's timing knobs (seconds); they override sched_config's for the
 * locations the driver serves. */
struct srv_timing {
    double block_cooldown_s, backoff_base_s, backoff_max_s, wait_retry_s;
    double relaunch_overhead_s;
    double poll_s;           /* longest sleep without looking at the driver */
};

struct srv_driver_conf {
    char *name;              /* unique instance name ("local", "lab-slurm") */
    const struct driver_ops *ops;
    char *config_path;       /* the driver's own file; absolute */
    char **locations;        /* "cloud", "cloud/region", "cloud/region/zone", or "*" */
    size_t nlocations;
    struct srv_timing timing;
};

struct srv_conf {
    char *path;              /* the file read; NULL = the built-in default */
    struct srv_listener *listen;
    size_t nlisten;
    char *store_path;        /* absolute; "mem:" allowed (tests) */
    char *catalog_dir;       /* NULL = catalog_default_dir */
    struct srv_driver_conf *drivers;
    size_t ndrivers;
    size_t max_body;         /* request body limit, bytes (default 1 MiB) */
    int displace;            /* displace lower-priority spot jobs (default 1) */
    int commit_backfill;     /* spot work backfills committed nodes (default 1;
                                sched_config.commit_backfill) */
    double data_ttl_s;       /* a shared dataset's replica kept unused this long
                                (sched_config.data_ttl_s); < 0 = the default */
    char *state_dir;         /* the drivers' state and checkpoints; NULL = the
                                home's state/<store id> (servers sharing a
                                store share it: docs/ha.md) */
    double lease_s;          /* the leader lease, when the store is shared */
};

#define SRV_LEASE_DEFAULT_S 10.0

/* Load path (relative paths in it are taken from the home), or, when path is
 * NULL, home/server.yaml if it exists, else the built-in default. cat (may be
 * NULL) checks that bound locations exist. Errors are file:line:col. */
int srv_conf_load(const char *path, const char *home, const struct catalog *cat,
                  struct srv_conf **out, struct err *e);
void srv_conf_free(struct srv_conf *c);
/* The built-in default for home (as described above). */
struct srv_conf *srv_conf_default(const char *home);

/* ---- what the server builds from a configuration (H2, for H1) ---- */

struct multi_child;
struct sched_config;

/* The multi driver's children (multi.h) for c's drivers, in c's order: *out
 * is owned by the caller (free()), the strings in it are c's.  0. */
int srv_conf_bindings(const struct srv_conf *c, struct multi_child **out, size_t *n);
/* Copy a driver's timing knobs into a controller config. */
void srv_timing_apply(const struct srv_timing *t, struct sched_config *c);
/* The controller's base config for c: sched_config_default, displacement
 * from c, the timing of the driver bound to "*" (else the first), the
 * smallest wait_retry and the largest relaunch_overhead of all drivers.
 * The caller sets ckpt_root. */
void srv_conf_sched_config(const struct srv_conf *c, struct sched_config *out);
/* Per-driver controller configs: base with each driver's timing applied
 * (copied: later changes to base are not seen). c must outlive it. */
struct srv_cfgs;
struct srv_cfgs *srv_cfgs_new(const struct srv_conf *c, const struct sched_config *base);
void srv_cfgs_free(struct srv_cfgs *t);
/* sched_params.cfg_at, with cfg_ctx a struct srv_cfgs: the config of the
 * driver bound to cloud/region (patterns naming a zone are not consulted),
 * else the base. */
const struct sched_config *srv_conf_cfg_at(void *ctx, const char *cloud, const char *region);
/* srv_conf_load, then the catalog it names (catalog_dir, else
 * catalog_default_dir), then the file again with that catalog so a bound
 * location that matches nothing is an error with its file:line:col.  On
 * success the caller owns both (srv_conf_free, catalog_free). */
int srv_conf_load_all(const char *path, const char *home, struct srv_conf **out,
                      struct catalog **cat, struct err *e);

#endif
