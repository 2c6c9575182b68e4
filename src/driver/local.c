/*
 * local.c - the `local` driver: the catalog's cloud locations emulated on
 * this machine with real processes (one process tree per node).  The files
 * it keeps are described in local_int.h, the node supervisor in
 * local_node.c, the events in local_att.c, local.yaml in local_conf.c,
 * stockouts and fault injection in local_fault.c.
 *
 * Crash safety.  Every fact lives in files under <home>/local/, so a driver
 * opened by a restarted controller knows everything the dead one knew:
 *
 *  - launch() builds att-<id>.tmp completely (attempt file, scripts, one
 *    directory and env per node) and renames it to att-<id>; nodes are
 *    spawned only after that rename.  A controller killed before the rename
 *    leaves a .tmp that never had a process: the next launch() of that
 *    attempt deletes and rebuilds it, and open() sweeps old ones.  Killed
 *    after it, it leaves an attempt whose nodes have no `pid`: launch() is
 *    idempotent yet starts exactly those nodes, and the controller re-issues
 *    launch() for attempts its store says are LAUNCHING.
 *  - A node runs at most once: its supervisor must create `pid` with an
 *    exclusive link().  A supervisor spawned by a dead controller and one
 *    spawned again by its successor race for it; the loser exits without
 *    running anything.  A node nobody claims within LOCAL_SPAWN_TIMEOUT is
 *    given up: the driver claims it with a tombstone and reports it lost.
 *  - A refused launch is an attempt directory too (with `refused`), so it
 *    stays refused after a restart and its CAPACITY event is not lost.
 *  - Deadlines (SIGKILL after a notice or grace) are derived from the
 *    `preempted` and `terminated` markers, so a new driver finishes them.
 *  - A node is reported ended (or lost) only once none of its processes is
 *    left - its cgroup where cgroup v2 is usable, its process group always
 *    (local_proc.c) - so the controller never starts the next attempt of a
 *    job beside the last one, whatever killed the supervisor.
 *  - A finished job is never taken for a lost node: its exit record's
 *    space is reserved before it runs (local_files.c).
 *  - Everything below <home>/local, and the checkpoint directories the
 *    driver creates, is the owner's alone (0700 / 0600): envs, logs and
 *    checkpoints may hold secrets.  A team's secrets (struct driver_env's
 *    secret) are kept apart, in each node's `secrets`, which the node's
 *    supervisor reads once it has claimed the node and then removes: from
 *    then on the value is only in the job's processes (docs/secrets.md).
 *
 * Decisions a reader might question:
 *  - No capacity is refused synchronously: launch() returns 0 and poll()
 *    reports DRV_EV_CAPACITY, as a cloud answers a create request later.
 *    One path for stockouts whenever they are found.  Invalid requests (an
 *    offer not in the catalog, spot where none is sold, a bad env name)
 *    are errors of launch() itself.
 *  - A node holds capacity until its process tree is gone, not until the
 *    controller terminates the attempt.
 *  - Only one process should drive a home (the controller holds a lock for
 *    it); others may open the driver to find logs.  open() therefore only
 *    reads local.yaml: the attempts are read on first use of the live state.
 *  - The spec's workdir is copied into each node's work/ (as SkyPilot syncs
 *    it to every node), by the supervisor, so launch() never waits on it.
 *  - The spec's envs cannot override the variables the driver sets.
 *  - Time: the driver's own deadlines use cfg->clock, but supervisors stamp
 *    `started` and `exit` with the wall clock, and processes run in real
 *    time; the local world only makes sense with the wall clock.
 *
 * Layout: checks of an attempt; launching; the other driver_ops; the table.
 */
#include "local_int.h"

#define CLOSE_WAIT_S                                                                     \
    5.0 /* how long a closing driver waits for nodes it stops (within                    \
           `controller stop`'s 10 s); $STRATUS_LOCAL_CLOSE_WAIT_S sets it */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define ENV_MAX_BYTES ((size_t)1 << 20)
#define ENV_VAR_MAX ((size_t)128 << 10) /* Linux's MAX_ARG_STRLEN, with the NUL */

static int ensure_loaded(struct local *p, struct err *e);

/* ---- checks of an attempt ----------------------------------------------- */

static int check_name(const char *s, const char *what, int may_be_empty, struct err *e)
{
    const char *c;

    if (s == NULL || *s == '\0')
        return may_be_empty ? 0 : err_set(e, ST_EINVAL, "attempt without a %s", what);
    if (strlen(s) >= LOCAL_NAME_MAX)
        return err_set(e, ST_EINVAL, "%s name too long", what);
    for (c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '/' || *c == 0x7f)
            return err_set(e, ST_EINVAL, "bad %s name '%s'", what, s);
    return 0;
}

static int env_key_ok(const char *k)
{
    size_t i;

    if (k == NULL ||
        !(k[0] == '_' || (k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z')))
        return 0;
    for (i = 1; k[i]; i++)
        if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
              (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
            return 0;
    return 1;
}

/* Offers by (cloud, region, zone, type), indexed on first use: capacity() is
 * asked about every candidate of every waiting job at each scheduling step. */
static void index_offers(struct local *p)
{
    size_t i, n = catalog_noffers(p->cat);

    strpool_init(&p->names);
    keymap_init(&p->offers);
    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(p->cat, i);
        uint32_t v = (uint32_t)i;

        keymap_put(&p->offers, strpool_intern(&p->names, o->cloud),
                   strpool_intern(&p->names, o->region),
                   strpool_intern(&p->names, o->zone),
                   strpool_intern(&p->names, o->instance_type), &v);
    }
    p->indexed = 1;
}

static const struct offer *find_offer(struct local *p, const char *cloud,
                                      const char *region, const char *zone,
                                      const char *itype)
{
    const char *k[4];
    uint32_t v;

    if (!p->indexed)
        index_offers(p);
    k[0] = strpool_find(&p->names, cloud);
    k[1] = strpool_find(&p->names, region);
    k[2] = strpool_find(&p->names, zone);
    k[3] = strpool_find(&p->names, itype);
    if (!k[0] || !k[1] || !k[2] || !k[3] ||
        !keymap_get(&p->offers, k[0], k[1], k[2], k[3], &v))
        return NULL;
    return catalog_offer(p->cat, v);
}

static int check_offer(struct local *p, const struct attempt *a, struct err *e)
{
    const char *zone = a->zone ? a->zone : "";
    const struct offer *o;

    if (p->cat == NULL)
        return 0;
    o = find_offer(p, a->cloud, a->region, zone, a->instance_type);
    if (o == NULL)
        return err_set(e, ST_ENOTFOUND, "no offer %s at %s/%s%s%s in the catalog",
                       a->instance_type, a->cloud, a->region, *zone ? "/" : "", zone);
    if (a->spot && o->spot_price < 0)
        return err_set(e, ST_EINVAL, "%s at %s/%s is not sold as spot", a->instance_type,
                       a->cloud, a->region);
    return 0;
}

static int check_attempt(struct local *p, const struct attempt *a, struct err *e)
{
    size_t i;
    int rc;

    if (a->id < 0)
        return err_set(e, ST_EINVAL, "attempt id %" PRId64 " is negative", a->id);
    if (a->nodes < 1 || a->nodes > LOCAL_MAX_NODES)
        return err_set(e, ST_EINVAL, "attempt %" PRId64 ": %d nodes (1 to %d)", a->id,
                       a->nodes, LOCAL_MAX_NODES);
    if ((rc = check_name(a->cloud, "cloud", 0, e)) != 0 ||
        (rc = check_name(a->region, "region", 0, e)) != 0 ||
        (rc = check_name(a->zone, "zone", 1, e)) != 0 ||
        (rc = check_name(a->instance_type, "instance type", 0, e)) != 0)
        return rc;
    for (i = 0; i < a->nenvs; i++)
        if (!env_key_ok(a->envs[i].key) || a->envs[i].value == NULL)
            return err_set(e, ST_EINVAL, "bad environment variable name '%s'",
                           a->envs[i].key ? a->envs[i].key : "(null)");
    if ((rc = check_offer(p, a, e)) != 0)
        return rc;
    {
        char *mounts = NULL; /* a missing local source fails the launch now */

        rc = local_mounts_text(a, &mounts, e);
        free(mounts);
    }
    return rc;
}

/* ---- launching ----------------------------------------------------------- */

/* Why the launch of a must be refused, or "" when it fits. */
static void refusal(const struct local *p, const struct attempt *a, char *why, size_t n)
{
    const char *zone = a->zone ? a->zone : "";
    long limit, used;

    why[0] = '\0';
    if (local_stocked_out(p, a->cloud, a->region, zone, a->instance_type, why, n))
        return;
    limit = local_conf_capacity(&p->conf, a->cloud, a->region, zone, a->instance_type);
    used = local_used(p, a->cloud, a->region, zone, a->instance_type);
    if (used + a->nodes > limit)
        snprintf(why, n, "no capacity for %d x %s at %s/%s%s%s: %ld of %ld nodes free",
                 a->nodes, a->instance_type, a->cloud, a->region, *zone ? "/" : "", zone,
                 limit - used > 0 ? limit - used : 0, limit);
}

static void env_add(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, "%s=%s", key, value);
    buf_add(b, "", 1);
}

static void env_addf(struct buf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void env_addf(struct buf *b, const char *key, const char *fmt, ...)
{
    char v[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    env_add(b, key, v);
}

/* The node's `env`: "KEY=VALUE\0" entries, the spec's first; the secrets'
 * go to sec instead (the node's `secrets`, which its supervisor reads once
 * and removes).  execve() refuses (E2BIG) a variable of more than
 * ENV_VAR_MAX bytes, so such a spec is a bad request, said now rather than
 * as a node that cannot start. */
static int node_env(const struct attempt *a, int rank, const char *ips, struct buf *b,
                    struct buf *sec, struct err *e)
{
    size_t i;

    buf_init(b, 0); /* measured at the end: a cut environment must never be used */
    buf_init(sec, 0);
    for (i = 0; i < a->nenvs; i++) {
        size_t len = strlen(a->envs[i].key) + strlen(a->envs[i].value) + 2;

        if (driver_env_reserved(a->envs[i].key))
            continue;
        if (len > ENV_VAR_MAX)
            return err_set(e, ST_ETOOBIG,
                           "attempt %" PRId64 ": envs.%s is %zu bytes; a process gets at "
                           "most %zu per variable (pass large data in a file)",
                           a->id, a->envs[i].key, len, ENV_VAR_MAX);
        env_add(a->envs[i].secret ? sec : b, a->envs[i].key, a->envs[i].value);
    }
    env_addf(b, "STRATUS_JOB_ID", "%" PRId64, a->job_id);
    env_addf(b, "STRATUS_ATTEMPT", "%d", a->n);
    env_addf(b, "STRATUS_ATTEMPT_ID", "%" PRId64, a->id);
    env_addf(b, "STRATUS_NODE_RANK", "%d", rank);
    env_addf(b, "STRATUS_NUM_NODES", "%d", a->nodes);
    env_add(b, "STRATUS_NODE_IPS", ips);
    env_add(b, "STRATUS_CLOUD", a->cloud);
    env_add(b, "STRATUS_REGION", a->region);
    env_add(b, "STRATUS_ZONE", a->zone ? a->zone : "");
    env_addf(b, "STRATUS_SPOT", "%d", a->spot ? 1 : 0);
    if (a->ckpt_dir)
        env_add(b, "STRATUS_CHECKPOINT_DIR", a->ckpt_dir);
    env_addf(b, "SKYPILOT_NODE_RANK", "%d", rank);
    env_addf(b, "SKYPILOT_NUM_NODES", "%d", a->nodes);
    env_add(b, "SKYPILOT_NODE_IPS", ips);
    env_addf(b, "SKYPILOT_TASK_ID", "stratus-%" PRId64 "-%d", a->job_id, a->n);
    env_addf(b, "SKYPILOT_NUM_GPUS_PER_NODE", "%d", a->acc_count);
    /* resources.ports: every port of the local world is reachable already;
     * the job learns which ones the spec exposes. */
    if (a->ports)
        env_add(b, "STRATUS_PORTS", a->ports);
    if (b->len + sec->len > ENV_MAX_BYTES)
        return err_set(e, ST_ETOOBIG, "attempt %" PRId64 ": environment over %zu bytes",
                       a->id, ENV_MAX_BYTES);
    return 0;
}

/* Free a buffer that held secrets' values, wiped first. */
static void buf_wipe(struct buf *b)
{
    if (b->data != NULL)
        explicit_bzero(b->data, b->cap);
    buf_free(b);
}

/* The node's `env` and, when the attempt has secrets, its `secrets`; both
 * 0600 (the driver's files are the owner's alone). */
static int write_env(const struct attempt *a, const char *dir, int r, const char *ips,
                     struct err *e)
{
    struct buf b, sec;
    int rc = node_env(a, r, ips, &b, &sec, e), wrc = 0;

    if (rc == 0 && (wrc = lf_write_mode(dir, "env", buf_cstr(&b), b.len, 0600)) != 0)
        rc = err_set(e, ST_EIO, "cannot write %s/env: %s", dir, strerror(-wrc));
    if (rc == 0 && sec.len > 0 &&
        (wrc = lf_write_mode(dir, "secrets", sec.data, sec.len, 0600)) != 0)
        rc = err_set(e, ST_EIO, "cannot write %s/secrets: %s", dir, strerror(-wrc));
    buf_free(&b);
    buf_wipe(&sec);
    return rc;
}

/* "127.0.0.1" per node, one a line: the local world is one host. */
static char *node_ips(int nodes)
{
    char *s = xmalloc((size_t)nodes * 10);
    int i;

    s[0] = '\0';
    for (i = 0; i < nodes; i++)
        memcpy(s + (size_t)i * 10, i + 1 < nodes ? "127.0.0.1\n" : "127.0.0.1", 10);
    return s;
}

static int write_text(const char *dir, const char *name, const char *text, struct err *e)
{
    int rc;

    if (text == NULL)
        return 0;
    rc = lf_write(dir, name, text, strlen(text));
    return rc == 0
               ? 0
               : err_set(e, ST_EIO, "cannot write %s/%s: %s", dir, name, strerror(-rc));
}

/* The node's `cgroup` file: a fresh cgroup named for the node's final
 * directory (tmp less its ".tmp"), when cgroups are usable. */
static int write_cgroup(const struct local *p, const char *dir, const struct attempt *a,
                        int r, struct err *e)
{
    char *final, *cg, *text;
    int rc;

    if (p->cgroot == NULL)
        return 0;
    final = xasprintf("%s/att-%" PRId64 "/node-%d", p->root, a->id, r);
    cg = local_cg_name(p->cgroot, final, a->id, r);
    text = xasprintf("%s\n", cg);
    rc = write_text(dir, "cgroup", text, e);
    free(text);
    free(cg);
    free(final);
    return rc;
}

/* The node's `netns` file: its network slot, when it has one. */
static int write_netns(const char *dir, const int *slots, int r, struct err *e)
{
    char text[24];

    if (slots == NULL)
        return 0;
    snprintf(text, sizeof(text), "%d\n", slots[r]);
    return write_text(dir, "netns", text, e);
}

static int write_node(const struct local *p, const char *tmp, const struct attempt *a,
                      int r, const char *ips, const int *slots, struct err *e)
{
    char *dir = xasprintf("%s/node-%d", tmp, r), *work = xasprintf("%s/work", dir);
    int rc = fs_mkdirs(work, 0700, e);

    if (rc == 0)
        rc = write_env(a, dir, r, ips, e);
    if (rc == 0)
        rc = write_cgroup(p, dir, a, r, e);
    if (rc == 0)
        rc = write_netns(dir, slots, r, e);
    free(work);
    free(dir);
    return rc;
}

/* Each node's own address, one a line (nodes with a network each). */
static char *net_ips(const int *slots, int nodes)
{
    struct buf b;
    char addr[32], *ips;
    int i;

    buf_init(&b, 0);
    for (i = 0; i < nodes; i++) {
        local_net_addr(slots[i], 1, addr, sizeof(addr));
        buf_printf(&b, "%s%s", addr, i + 1 < nodes ? "\n" : "");
    }
    ips = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return ips;
}

/* The attempt's `mounts` and `notes` (local_mounts.c). */
static int write_launch_opts(const char *tmp, const struct attempt *a, struct err *e)
{
    char *mounts = NULL, *notes = local_launch_notes(a);
    int rc = local_mounts_text(a, &mounts, e);

    if (rc == 0)
        rc = write_text(tmp, "mounts", mounts, e);
    if (rc == 0)
        rc = write_text(tmp, "notes", notes, e);
    free(mounts);
    free(notes);
    return rc;
}

/* Fill the temporary directory of an attempt. */
static int write_attempt(struct local *p, const char *tmp, const struct attempt *a,
                         const char *why, const int *slots, struct err *e)
{
    char *text = local_att_text(a, local_now(p)),
         *ips = slots ? net_ips(slots, a->nodes) : node_ips(a->nodes), *refused = NULL;
    int r, rc = fs_mkdirs(tmp, 0700, e);

    if (*why)
        refused = xasprintf("%s\n", why);
    if (rc == 0)
        rc = write_text(tmp, "attempt", text, e);
    if (rc == 0)
        rc = write_text(tmp, "setup", a->setup, e);
    if (rc == 0)
        rc = write_text(tmp, "run", a->run, e);
    if (rc == 0)
        rc = write_text(tmp, "workdir", a->workdir, e);
    if (rc == 0)
        rc = write_launch_opts(tmp, a, e);
    if (rc == 0)
        rc = write_text(tmp, "refused", refused, e);
    for (r = 0; rc == 0 && !*why && r < a->nodes; r++)
        rc = write_node(p, tmp, a, r, ips, slots, e);
    free(refused);
    free(ips);
    free(text);
    return rc;
}

static struct latt *att_from(const struct attempt *a, const char *dir, const char *why,
                             double now)
{
    struct latt *at = xcalloc(1, sizeof(*at));
    int r;

    at->id = a->id;
    at->job_id = a->job_id;
    at->n = a->n;
    at->nodes = a->nodes;
    at->spot = a->spot ? 1 : 0;
    at->cloud = xstrdup(a->cloud);
    at->region = xstrdup(a->region);
    at->zone = xstrdup(a->zone ? a->zone : "");
    at->itype = xstrdup(a->instance_type);
    at->dir = xstrdup(dir);
    at->launched_at = now;
    at->refused = *why != '\0';
    snprintf(at->why, sizeof(at->why), "%s", why);
    if (!at->refused) {
        at->node = xcalloc((size_t)a->nodes, sizeof(*at->node));
        for (r = 0; r < a->nodes; r++)
            at->node[r].pending_since = now;
    }
    return at;
}

/* Free the network slots of nodes 0 .. n-1 of the attempt in dir. */
static void release_slots(const char *dir, const int *slots, int n)
{
    int r;

    for (r = 0; slots != NULL && r < n; r++) {
        char *nd = xasprintf("%s/node-%d", dir, r);

        local_net_release(slots[r], nd);
        free(nd);
    }
}

/* A network slot per node when the attempt asks for networks of their own
 * and this machine can make them (*out stays NULL otherwise: the nodes run
 * on the host's network, and `serve up` refused what would collide there). */
static int reserve_slots(const char *dir, const struct attempt *a, const char *why,
                         int **out, struct err *e)
{
    char reason[200];
    int r, rc = 0, *slots;

    *out = NULL;
    if (*why || !local_net_wanted(a) || !local_net_usable(reason, sizeof(reason)))
        return 0;
    slots = xcalloc((size_t)a->nodes, sizeof(*slots));
    for (r = 0; rc == 0 && r < a->nodes; r++) {
        char *nd = xasprintf("%s/node-%d", dir, r);

        rc = local_net_reserve(nd, &slots[r], e);
        free(nd);
    }
    if (rc != 0) {
        release_slots(dir, slots, r - 1);
        free(slots);
        return rc;
    }
    *out = slots;
    return 0;
}

/* Build att-<id>.tmp and rename it into place: the attempt exists whole or not. */
static int create_attempt(struct local *p, const struct attempt *a, const char *why,
                          struct latt **out, struct err *e)
{
    char *dir = xasprintf("%s/att-%" PRId64, p->root, a->id),
         *tmp = xasprintf("%s.tmp", dir);
    int rc = fs_remove_tree(tmp, e), *slots = NULL;

    if (rc == 0)
        rc = reserve_slots(dir, a, why, &slots, e);
    if (rc == 0)
        rc = write_attempt(p, tmp, a, why, slots, e);
    if (rc == 0 && rename(tmp, dir) != 0)
        rc = err_set(e, ST_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc != 0) {
        struct err ignored;

        fs_remove_tree(tmp, &ignored);
        release_slots(dir, slots, slots ? a->nodes : 0);
    } else {
        *out = att_from(a, dir, why, local_now(p));
        local_att_add(p, *out);
    }
    free(slots);
    free(tmp);
    free(dir);
    return rc;
}

/* Does another attempt of a's job still have a node that is not over?  Its
 * processes may run (a gang's other nodes in their grace after one was
 * preempted), and two attempts of a job must never run side by side. */
static int job_busy(const struct local *p, const struct latt *a)
{
    size_t i;
    int r;

    for (i = 0; i < p->natt; i++) {
        const struct latt *o = p->att[i];

        if (o == a || o->job_id != a->job_id || o->refused)
            continue;
        for (r = 0; r < o->nodes; r++)
            if (o->node[r].state != LN_ENDED)
                return 1;
    }
    return 0;
}

/* Spawn every node that no supervisor has claimed and this driver has not
 * spawned yet - or defer them while another attempt of the job is not over
 * (local_start_deferred() starts them then). */
static int start_missing(struct local *p, struct latt *a, struct err *e)
{
    int r, rc = 0, busy = job_busy(p, a);

    for (r = 0; rc == 0 && !a->refused && r < a->nodes; r++) {
        struct lnode *nd = &a->node[r];
        char *dir;

        if (nd->state != LN_PENDING || nd->spawned_at > 0 || nd->stopping)
            continue;
        nd->deferred = busy;
        if (busy)
            continue;
        dir = local_node_dir(a, r);
        if (lf_pid(dir) < 0) {
            rc = local_sys.spawn(p->bin, dir, e);
            if (rc == 0)
                nd->spawned_at = nd->pending_since = local_now(p);
        }
        free(dir);
    }
    return rc;
}

void local_start_deferred(struct local *p)
{
    size_t i;
    int r;
    struct err e;

    for (i = 0; i < p->natt; i++) {
        struct latt *a = p->att[i];
        int any = 0;

        for (r = 0; !a->refused && r < a->nodes; r++)
            any |= a->node[r].deferred && a->node[r].state == LN_PENDING;
        if (any && start_missing(p, a, &e) != 0)
            log_warn("local driver: attempt %" PRId64 ": %s", a->id, e.msg);
    }
}

static int local_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    struct local *p = d->priv;
    struct latt *at = NULL;
    char why[160], *dir;
    int rc = ensure_loaded(p, e), known;

    if (rc == 0)
        rc = check_attempt(p, a, e);
    if (rc != 0)
        return rc;
    at = local_att_find(p, a->id);
    if (at)
        return start_missing(p, at, e);
    dir = xasprintf("%s/att-%" PRId64, p->root, a->id);
    known = access(dir, F_OK) == 0; /* launched before, and over */
    free(dir);
    if (known)
        return 0;
    /* the API failed the request: nothing was created, nothing to remember */
    if (local_api_error(p, a->cloud, a->region, a->zone ? a->zone : "", a->instance_type, why,
                        sizeof(why)))
        return err_set(e, ST_EIO, "%s", why);
    refusal(p, a, why, sizeof(why));
    if (!*why && a->ckpt_dir && (rc = fs_mkdirs(a->ckpt_dir, 0700, e)) != 0)
        return rc;
    rc = create_attempt(p, a, why, &at, e);
    if (rc == 0 && !*why)
        rc = start_missing(p, at, e);
    return rc;
}

/* ---- the other operations -------------------------------------------------- */

static int ensure_loaded(struct local *p, struct err *e)
{
    int rc;

    if (p->loaded)
        return 0;
    local_stockouts_load(p);
    rc = local_load(p, e);
    if (rc == 0)
        local_refresh(p);
    return rc;
}

static int open_root(struct local *p, const char *home, struct err *e)
{
    char *root = xasprintf("%s/local", home), *abs;
    int rc = fs_mkdirs(root, 0700, e);

    /* owner-only even when an older version created it 0755 */
    if (rc == 0)
        chmod(root, 0700);

    if (rc == 0 && (abs = realpath(root, NULL)) == NULL)
        rc = err_set(e, ST_EIO, "cannot resolve %s: %s", root, strerror(errno));
    if (rc == 0) {
        p->root = xstrdup(abs);
        free(abs);
    }
    free(root);
    return rc;
}

static int open_conf(struct local *p, const struct driver_config *cfg, struct err *e)
{
    char *path = cfg->config_path ? xstrdup(cfg->config_path)
                                  : xasprintf("%s/local.yaml", cfg->home);
    int rc = 0;

    if (access(path, F_OK) == 0) /* none: every offer with the defaults */
        rc = local_conf_load(&p->conf, path, cfg->cat, e);
    else
        local_conf_default(&p->conf);
    free(path);
    return rc;
}

/* The binary whose `__node` subcommand supervises a node. */
static int open_bin(struct local *p, struct err *e)
{
    const char *s = getenv("STRATUS_BIN");
    char *abs;

    if (s == NULL || *s == '\0') {
        p->bin = xstrdup("/proc/self/exe");
        return 0;
    }
    abs = realpath(s, NULL);
    if (abs == NULL || access(abs, X_OK) != 0) {
        free(abs);
        return err_set(e, ST_EINVAL, "STRATUS_BIN=%s is not an executable", s);
    }
    p->bin = xstrdup(abs);
    free(abs);
    return 0;
}

/* Nodes this driver is stopping, still being torn down. */
static size_t stopping_nodes(const struct local *p)
{
    size_t i, n = 0;
    int r;

    for (i = 0; i < p->natt; i++)
        for (r = 0; !p->att[i]->refused && r < p->att[i]->nodes; r++)
            n += p->att[i]->node[r].stopping && p->att[i]->node[r].state != LN_ENDED;
    return n;
}

/* How long a closing driver waits for the nodes it is stopping: CLOSE_WAIT_S,
 * or $STRATUS_LOCAL_CLOSE_WAIT_S seconds (0 to 3600), for a machine so
 * loaded that a node told to stop takes longer to end (a test that checks
 * the reaping sets it, so that it does not depend on the machine's speed). */
static double close_wait_s(void)
{
    const char *v = getenv("STRATUS_LOCAL_CLOSE_WAIT_S");
    double s;

    if (v != NULL && *v != '\0' && str_to_double(v, &s) == 0 && s >= 0 && s <= 3600)
        return s;
    return CLOSE_WAIT_S;
}

static void local_close(struct driver *d)
{
    struct local *p = d->priv;
    double until = clock_mono() + close_wait_s();
    size_t i;

    /* A node told to stop (a cancel, `serve down` just before `controller
     * stop`) usually ends within a moment: let it, so that it is reaped
     * here and its cgroup goes with it.  One still running past the wait
     * is left, as every node is, to the next server. */
    while (p->loaded && stopping_nodes(p) > 0 && clock_mono() < until) {
        clock_sleep(0.01);
        local_refresh(p);
    }
    for (i = 0; i < p->natt; i++)
        local_att_free(p->att[i]);
    for (i = 0; i < p->nso; i++)
        free(p->so[i].loc);
    free(p->att);
    free(p->so);
    free(p->acks);
    free(p->root);
    free(p->bin);
    free(p->cgroot);
    if (p->wake_owned)
        close(p->wake_fd);
    local_conf_free(&p->conf);
    if (p->indexed) {
        strpool_free(&p->names);
        keymap_free(&p->offers);
    }
    memset(p, 0, sizeof(*p));
}

/* Read ends of the wake FIFOs this process opened, by root, kept open for
 * the process's life: a driver opened again on the same root (the multi
 * driver reopens a child that cannot rewind, the server reopens after a
 * failed step) hands out the same descriptor, so an event loop watching it
 * need not learn a new one.  Past WAKE_CACHE roots (tests open many homes)
 * an instance owns its descriptor. */
#define WAKE_CACHE 64
static struct {
    char *root;
    int fd;
} wake_cache[WAKE_CACHE];
static size_t nwake_cache;

/* The wake FIFO (local_int.h), made if need be; without it (a filesystem
 * without FIFOs) the server polls on its timer alone, so failing is only
 * logged.  O_RDWR: the FIFO then always has a writer, and a reader never
 * sees end-of-file between supervisors. */
static void open_wake(struct local *p)
{
    char *path = xasprintf("%s/wake", p->root);
    struct stat st, cached;
    size_t i;

    /* the cached one only while it is still the FIFO at that path */
    for (i = 0; i < nwake_cache; i++)
        if (strcmp(wake_cache[i].root, p->root) == 0 && lstat(path, &st) == 0 &&
            fstat(wake_cache[i].fd, &cached) == 0 && st.st_ino == cached.st_ino &&
            st.st_dev == cached.st_dev) {
            p->wake_fd = wake_cache[i].fd;
            p->has_wake = 1;
            free(path);
            return;
        }
    if (lstat(path, &st) == 0 && !S_ISFIFO(st.st_mode))
        unlink(path); /* not ours to keep: something else took the name */
    if (mkfifo(path, 0600) != 0 && errno != EEXIST)
        log_warn("local driver: cannot make %s: %s", path, strerror(errno));
    chmod(path, 0600); /* owner-only even when made under another umask */
    p->wake_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    p->has_wake = p->wake_fd >= 0;
    if (!p->has_wake)
        log_warn("local driver: cannot open %s: %s", path, strerror(errno));
    else if (nwake_cache < WAKE_CACHE) {
        wake_cache[nwake_cache].root = xstrdup(p->root);
        wake_cache[nwake_cache++].fd = p->wake_fd;
    } else {
        p->wake_owned = 1;
    }
    free(path);
}

static int local_wake_fds(struct driver *d, int *fds, size_t max)
{
    const struct local *p = d->priv;

    if (!p->has_wake || max < 1)
        return 0;
    fds[0] = p->wake_fd;
    return 1;
}

static int local_open(struct driver *d, const struct driver_config *cfg, struct err *e)
{
    struct local *p = d->priv;
    int rc;

    if (cfg->home == NULL || *cfg->home == '\0')
        return err_set(e, ST_EINVAL,
                       "the local driver needs a home directory ($STRATUS_HOME)");
    p->clock = cfg->clock ? cfg->clock : &clock_wall;
    p->cat = cfg->cat;
    rc = open_root(p, cfg->home, e);
    if (rc == 0)
        rc = open_conf(p, cfg, e);
    if (rc == 0)
        rc = open_bin(p, e);
    if (rc != 0) {
        local_close(d);
        return rc;
    }
    p->seed = p->conf.has_seed ? p->conf.seed : cfg->seed;
    open_wake(p);
    p->cgroot = local_cg_root();
    if (p->cgroot)
        local_cg_sweep(p->cgroot);
    local_net_sweep();
    return 0;
}

static int local_poll(struct driver *d, struct driver_event *ev, size_t max,
                      struct err *e)
{
    struct local *p = d->priv;
    int rc = ensure_loaded(p, e);

    if (rc != 0)
        return rc;
    local_ack(p);
    local_node_reap_kids();
    local_refresh(p);
    local_start_deferred(p);
    local_timers(p);
    return (int)local_events(p, ev, max < INT_MAX ? max : INT_MAX);
}

static int local_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    struct local *p = d->priv;
    struct latt *a;
    int r, rc = ensure_loaded(p, e);

    if (rc != 0)
        return rc;
    a = local_att_find(p, attempt_id);
    if (a == NULL || a->refused)
        return 0; /* over already, or never launched: nothing runs */
    local_refresh(p);
    for (r = 0; r < a->nodes; r++)
        local_node_stop(p, a, r, NULL);
    return 0;
}

static long local_capacity(struct driver *d, const char *cloud, const char *region,
                           const char *zone, const char *instance_type)
{
    struct local *p = d->priv;
    char why[160];
    struct err e;
    long free_nodes;

    if (ensure_loaded(p, &e) != 0)
        return -1;
    zone = zone ? zone : "";
    if (p->cat && find_offer(p, cloud, region, zone, instance_type) == NULL)
        return 0;
    if (local_stocked_out(p, cloud, region, zone, instance_type, why, sizeof(why)))
        return 0;
    free_nodes = local_conf_capacity(&p->conf, cloud, region, zone, instance_type) -
                 local_used(p, cloud, region, zone, instance_type);
    return free_nodes > 0 ? free_nodes : 0;
}

static int local_inject(struct driver *d, const char *kind, const char *arg,
                        struct err *e)
{
    struct local *p = d->priv;
    int rc = ensure_loaded(p, e);

    return rc != 0 ? rc : local_inject_fault(p, kind, arg, e);
}

static double local_next_event_in(struct driver *d)
{
    struct local *p = d->priv;
    struct err e;

    if (ensure_loaded(p, &e) != 0)
        return -1;
    return local_next(p);
}

static int local_log_path(struct driver *d, int64_t attempt_id, int node, char *buf,
                          size_t n)
{
    const struct local *p = d->priv;
    int len =
        snprintf(buf, n, "%s/att-%" PRId64 "/node-%d/log", p->root, attempt_id, node);

    if (len < 0 || (size_t)len >= n)
        return ST_ETOOBIG;
    return access(buf, F_OK) == 0 ? 0 : ST_ENOTFOUND;
}

static int local_node_addr(struct driver *d, int64_t attempt_id, int node, char *buf,
                           size_t n)
{
    const struct local *p = d->priv;
    char *dir = xasprintf("%s/att-%" PRId64 "/node-%d", p->root, attempt_id, node);
    int rc = local_net_node_addr(dir, buf, n);

    free(dir);
    return rc;
}

const struct driver_ops driver_local = {
    .name = "local",
    .priv_size = sizeof(struct local),
    /* in $STRATUS_HOME, which is not cfg->home (the store's own directory) */
    .config_name = "local.yaml",
    .open = local_open,
    .launch = local_launch,
    .poll = local_poll,
    .terminate = local_terminate,
    .close = local_close,
    .capacity = local_capacity,
    .inject = local_inject,
    .next_event_in = local_next_event_in,
    .log_path = local_log_path,
    .wake_fds = local_wake_fds,
    .node_addr = local_node_addr,
};
