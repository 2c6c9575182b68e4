/*
 * local_att.c - the local driver's view of attempts and nodes: what it keeps
 * in memory, how it rebuilds that from disk, and how files become events.
 *
 * Memory holds the attempts that still have something to report.  All of it
 * can be rebuilt from the files (local_load), which is what a restarted
 * controller's driver does; nothing a node does needs a driver to be
 * running, because the supervisors write their own `started` and `exit`.
 *
 * A node goes PENDING (no `pid` yet) -> LIVE (claimed) -> ENDED (`exit`
 * read, or written by the driver for a supervisor that died without one;
 * either way only once none of the node's processes is left: see
 * local_proc.c).  A PENDING node is not spawned while another attempt of its
 * job has a node not ENDED (`deferred`, local.c).
 * Each poll first acknowledges the previous poll's terminal events, then
 * brings every node up to date with its files (local_refresh), fires the
 * timers (local_timers), and hands out what is new (local_events).
 *
 * Delivery is at least once.  A terminal event counts as delivered when the
 * controller polls again - it polls only after handling what it got - and is
 * then marked by a `reported` file, which keeps it from being reported again
 * after a restart.  Yet a controller may poll twice before it commits what
 * it handled (it loops while batches come back full), so at open the events
 * acknowledged in the last LOCAL_REPLAY_S before the latest acknowledgement
 * (the mtime of <root>/acked) are reported again too.  RUNNING events and
 * preemption notices carry no marker: a new driver reports them again for
 * every node that has not been acknowledged as ended.  The controller
 * ignores repeats.
 *
 * Layout: small helpers and the attempt file; loading; refreshing a node;
 * timers and stopping; events and acknowledgement; queries.
 */
#include "local_int.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define ATT_FILE_MAX ((size_t)64 << 10)
#define TMP_GC_AGE 600.0 /* an att-<id>.tmp older than this is no launch in flight */

double local_now(const struct local *p)
{
    return clock_now(p->clock);
}

char *local_node_dir(const struct latt *a, int rank)
{
    return xasprintf("%s/node-%d", a->dir, rank);
}

struct latt *local_att_find(const struct local *p, int64_t id)
{
    size_t i;

    for (i = 0; i < p->natt; i++)
        if (p->att[i]->id == id)
            return p->att[i];
    return NULL;
}

/* Keeps p->att ordered by id, so events come out in launch order. */
void local_att_add(struct local *p, struct latt *a)
{
    size_t i = p->natt;

    p->att = xgrow(p->att, &p->att_cap, p->natt + 1, sizeof(*p->att));
    while (i > 0 && p->att[i - 1]->id > a->id) {
        p->att[i] = p->att[i - 1];
        i--;
    }
    p->att[i] = a;
    p->natt++;
}

void local_att_free(struct latt *a)
{
    if (a == NULL)
        return;
    free(a->cloud);
    free(a->region);
    free(a->zone);
    free(a->itype);
    free(a->dir);
    free(a->node);
    free(a);
}

/* A copy of s fit for one "key: value" line: control characters become '?'. */
static char *one_line(const char *s)
{
    char *t = xstrdup(s ? s : ""), *c;

    for (c = t; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return t;
}

char *local_att_text(const struct attempt *a, double now)
{
    char *name = one_line(a->job_name), *acc = one_line(a->accelerator), *text;

    text = xasprintf(
        "id: %" PRId64 "\njob_id: %" PRId64 "\nn: %d\ncloud: %s\nregion: %s\n"
        "zone: %s\ninstance_type: %s\nnodes: %d\nspot: %d\nlaunched_at: %.3f\n"
        "job_name: %s\naccelerator: %s\nacc_count: %d\n",
        a->id, a->job_id, a->n, a->cloud, a->region, a->zone ? a->zone : "",
        a->instance_type, a->nodes, a->spot ? 1 : 0, now, name, acc, a->acc_count);
    free(name);
    free(acc);
    return text;
}

/* One "key: value" line of the attempt file into a. */
static void att_field(struct latt *a, const char *key, const char *val)
{
    long v;
    double t;

    if (strcmp(key, "id") == 0 && str_to_long(val, 0, INT64_MAX, &v) == 0)
        a->id = v;
    else if (strcmp(key, "job_id") == 0 &&
             str_to_long(val, INT64_MIN, INT64_MAX, &v) == 0)
        a->job_id = v;
    else if (strcmp(key, "n") == 0 && str_to_long(val, 0, 1 << 30, &v) == 0)
        a->n = (int)v;
    else if (strcmp(key, "nodes") == 0 && str_to_long(val, 1, LOCAL_MAX_NODES, &v) == 0)
        a->nodes = (int)v;
    else if (strcmp(key, "spot") == 0 && str_to_long(val, 0, 1, &v) == 0)
        a->spot = (int)v;
    else if (strcmp(key, "launched_at") == 0 && str_to_double(val, &t) == 0)
        a->launched_at = t;
    else if (strcmp(key, "cloud") == 0 && a->cloud == NULL)
        a->cloud = xstrdup(val);
    else if (strcmp(key, "region") == 0 && a->region == NULL)
        a->region = xstrdup(val);
    else if (strcmp(key, "zone") == 0 && a->zone == NULL)
        a->zone = xstrdup(val);
    else if (strcmp(key, "instance_type") == 0 && a->itype == NULL)
        a->itype = xstrdup(val);
}

/* Parse the attempt file (text is modified); 0, or -1 when it lacks something. */
static int att_parse(struct latt *a, char *text)
{
    char *line = text, *next, *sep;

    a->id = -1;
    for (; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        sep = strstr(line, ": ");
        if (sep == NULL)
            continue;
        *sep = '\0';
        att_field(a, line, sep + 2);
    }
    if (a->zone == NULL)
        a->zone = xstrdup("");
    return a->id >= 0 && a->nodes > 0 && a->cloud && a->region && a->itype ? 0 : -1;
}

/* ---- loading ----------------------------------------------------------- */

/* Was the terminal event behind dir/reported acknowledged early enough not
 * to be replayed (see the header comment)? */
static int acked_before(const char *dir, double replay_from)
{
    double t = lf_mtime(dir, "reported");

    return t > 0 && t < replay_from;
}

static void node_load(struct local *p, struct latt *a, int r, double replay_from)
{
    struct lnode *nd = &a->node[r];
    char *dir = local_node_dir(a, r);
    double t;

    nd->pending_since = local_now(p);
    nd->pid = lf_pid(dir);
    nd->state = nd->pid >= 0 ? LN_LIVE : LN_PENDING;
    if (acked_before(dir, replay_from)) {
        nd->state = LN_ENDED;
        nd->said_end = nd->acked = 1;
    } else if ((t = lf_read_stamp(dir, "preempted", NULL, 0)) > 0) {
        /* A notice the last driver gave: finish it, and say it again. */
        nd->stopping = 1;
        nd->kill_at = t + p->conf.notice;
        nd->notice_due = !lf_exists(dir, "exit");
    } else if ((t = lf_read_stamp(dir, "terminated", NULL, 0)) > 0) {
        nd->stopping = 1;
        nd->kill_at = t + p->conf.grace;
    }
    free(dir);
}

/* Read attempt id; keep it when something is left to report. */
static void att_load(struct local *p, int64_t id, double replay_from)
{
    struct latt *a = xcalloc(1, sizeof(*a));
    char *path, *text = NULL;
    struct err e;
    int r, done = 1;

    a->dir = xasprintf("%s/att-%" PRId64, p->root, id);
    path = xasprintf("%s/attempt", a->dir);
    if (fs_read_file(path, ATT_FILE_MAX, &text, NULL, &e) != 0 ||
        att_parse(a, text) != 0 || a->id != id) {
        log_warn("local driver: ignoring %s: unreadable or incomplete", path);
        local_att_free(a);
        a = NULL;
    } else if (lf_exists(a->dir, "refused")) {
        a->refused = 1;
        lf_read(a->dir, "refused", a->why, sizeof(a->why));
        a->why[strcspn(a->why, "\n")] = '\0';
        done = acked_before(a->dir, replay_from);
    } else {
        a->node = xcalloc((size_t)a->nodes, sizeof(*a->node));
        for (r = 0; r < a->nodes; r++) {
            node_load(p, a, r, replay_from);
            done &= a->node[r].acked;
        }
    }
    if (a && done)
        local_att_free(a);
    else if (a)
        local_att_add(p, a);
    free(text);
    free(path);
}

/* "att-<id>" -> 0; "att-<id>.tmp" -> 1; anything else -> -1. */
static int att_name(const char *name, int64_t *id)
{
    char *end;
    long long v;

    if (strncmp(name, "att-", 4) != 0 || name[4] < '0' || name[4] > '9')
        return -1;
    errno = 0;
    v = strtoll(name + 4, &end, 10);
    if (errno != 0)
        return -1;
    *id = v;
    if (*end == '\0')
        return 0;
    return strcmp(end, ".tmp") == 0 ? 1 : -1;
}

int local_load(struct local *p, struct err *e)
{
    double replay_from = lf_mtime(p->root, "acked") - LOCAL_REPLAY_S, now = local_now(p);
    DIR *d = opendir(p->root);
    struct dirent *de;
    int64_t id;

    if (d == NULL)
        return err_set(e, ST_EIO, "cannot read %s: %s", p->root, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        int kind = att_name(de->d_name, &id);

        if (kind == 0) {
            att_load(p, id, replay_from);
        } else if (kind == 1 && now - lf_mtime(p->root, de->d_name) > TMP_GC_AGE) {
            /* A launch that died before its rename; it never started a node. */
            char *tmp = xasprintf("%s/%s", p->root, de->d_name);
            struct err ignored;

            fs_remove_tree(tmp, &ignored);
            free(tmp);
        }
    }
    closedir(d);
    p->loaded = 1;
    return 0;
}

/* ---- refreshing a node from its files --------------------------------- */

static void schedule_preempt(struct local *p, const struct latt *a, struct lnode *nd,
                             int r)
{
    double rate =
        local_conf_rate(&p->conf, a->cloud, a->region, a->zone, a->itype) / 60.0;

    if (a->spot && rate > 0)
        nd->preempt_at = nd->started_at + local_draw_preempt(p->seed, a->id, r, rate);
}

static void note_started(struct local *p, const struct latt *a, int r, const char *dir)
{
    struct lnode *nd = &a->node[r];

    if (nd->started_at > 0)
        return;
    nd->started_at = lf_read_stamp(dir, "started", NULL, 0);
    if (nd->started_at > 0)
        schedule_preempt(p, a, nd, r);
}

/* The supervisor is gone and left no `exit`: record one for it.  Its
 * processes are gone too (local_node_reap), whatever ended it. */
static void dead_exit(struct lnode *nd, const char *dir, struct lf_exit *x)
{
    x->code = 128 + SIGKILL;
    x->stopped = 1;
    x->lost = 0;
    if (!nd->stopping) {
        /* Nobody asked it to stop (OOM killer, a person's kill -9, a crash):
         * the node is lost. */
        x->code = -1;
        x->stopped = 0;
        x->lost = 1;
        log_info("local driver: %s lost", dir);
    } else if (nd->pid == 0) {
        x->code = 128 + SIGTERM; /* stopped before it ever started */
    }
    lf_exit_write(dir, x);
}

/* A node that ended, or was given up, without its supervisor reading its
 * `secrets` (killed first, or never started) must not keep them on disk;
 * ENOENT is the usual case: the supervisor removed the file. */
static void drop_secrets(const char *dir)
{
    char *path = xasprintf("%s/secrets", dir);

    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("local driver: cannot remove %s: %s", path, strerror(errno));
    free(path);
}

static void node_end(struct lnode *nd, const struct latt *a, int r, const char *dir,
                     const struct lf_exit *x)
{
    struct driver_event *ev = &nd->end;
    char why[sizeof(ev->msg)];

    drop_secrets(dir);
    memset(ev, 0, sizeof(*ev));
    ev->attempt_id = a->id;
    ev->node = r;
    ev->exit_code = x->code;
    ev->at = lf_mtime(dir, "exit");
    if (x->lost) {
        ev->type = DRV_EV_PREEMPTED;
        snprintf(ev->msg, sizeof(ev->msg),
                 "node lost: its supervisor ended without recording an exit status");
    } else if (x->stopped && lf_read_stamp(dir, "preempted", why, sizeof(why)) > 0) {
        ev->type = DRV_EV_PREEMPTED;
        snprintf(ev->msg, sizeof(ev->msg), "%s", why);
    } else {
        ev->type = DRV_EV_EXITED;
        snprintf(ev->msg, sizeof(ev->msg), "%s with code %d",
                 x->stopped ? "stopped" : "exited", x->code);
    }
    nd->state = LN_ENDED;
}

static void pending_check(const struct local *p, struct lnode *nd, const char *dir)
{
    long pid = lf_pid(dir);

    if (nd->deferred && pid < 0) {
        nd->pending_since = local_now(p); /* not spawned yet: no timeout runs */
        return;
    }
    if (pid < 0 && local_now(p) - nd->pending_since >= LOCAL_SPAWN_TIMEOUT) {
        /* Give it up: the tombstone keeps a late supervisor from starting. */
        if (lf_claim(dir, 0, NULL) == 0)
            log_warn("local driver: %s: no supervisor started; node lost", dir);
        drop_secrets(dir);
        pid = lf_pid(dir);
    }
    if (pid >= 0) {
        nd->pid = pid;
        nd->state = LN_LIVE;
    }
}

/* A node ends when its supervisor has ended - with an `exit`, or dead
 * without one - and not before every process of it is gone: a job whose
 * supervisor was SIGKILLed must not run on beside its next attempt. */
static void live_check(struct local *p, struct latt *a, int r, const char *dir)
{
    struct lnode *nd = &a->node[r];
    struct lf_exit x;
    int have;

    note_started(p, a, r, dir);
    have = lf_exit_read(dir, &x) == 0;
    if (!have && nd->pid > 0 && lf_alive(dir))
        return;
    /* Dead: but it may have written `exit` between our two looks, or only
     * into its reserved space (a rename that failed). */
    if (!have)
        have = lf_exit_read(dir, &x) == 0 || lf_exit_read_reserved(dir, &x) == 0;
    if (!local_node_reap(a, r, nd->pid, dir))
        return; /* something still runs: look again at the next poll */
    /* nothing is left inside its network either */
    local_net_remove(dir);
    if (!have)
        dead_exit(nd, dir, &x);
    node_end(nd, a, r, dir, &x);
}

void local_refresh(struct local *p)
{
    size_t i;
    int r;

    for (i = 0; i < p->natt; i++) {
        struct latt *a = p->att[i];

        for (r = 0; !a->refused && r < a->nodes; r++) {
            struct lnode *nd = &a->node[r];
            char *dir;

            if (nd->state == LN_ENDED)
                continue;
            dir = local_node_dir(a, r);
            if (nd->state == LN_PENDING)
                pending_check(p, nd, dir);
            if (nd->state == LN_LIVE)
                live_check(p, a, r, dir);
            free(dir);
        }
    }
}

/* ---- timers and stopping ------------------------------------------------ */

void local_node_stop(struct local *p, struct latt *a, int r, const char *preempt_why)
{
    struct lnode *nd = &a->node[r];
    struct lf_exit x = {128 + SIGTERM, 1, 0};
    double now = local_now(p);
    char *dir;

    if (nd->state == LN_ENDED || nd->stopping)
        return;
    dir = local_node_dir(a, r);
    /* The marker first: whoever sees the node die knows why. */
    if (preempt_why)
        lf_write_stamp(dir, "preempted", now, preempt_why);
    else
        lf_write_stamp(dir, "terminated", now, NULL);
    nd->stopping = 1;
    nd->notice_due = preempt_why != NULL;
    nd->kill_at = now + (preempt_why ? p->conf.notice : p->conf.grace);
    if (nd->state == LN_PENDING && lf_claim(dir, 0, NULL) == 0) {
        lf_exit_write(dir, &x); /* it never starts now */
        nd->pid = 0;
        nd->state = LN_LIVE;
    } else {
        if (nd->state == LN_PENDING) { /* a supervisor claimed it just now */
            nd->pid = lf_pid(dir);
            nd->state = LN_LIVE;
        }
        if (nd->pid > 0 && lf_alive(dir))
            local_sys.kill((pid_t)nd->pid, SIGTERM);
    }
    free(dir);
}

static void node_timers(struct local *p, struct latt *a, int r, double now)
{
    struct lnode *nd = &a->node[r];
    char why[96], *dir;

    if (nd->preempt_at > 0 && !nd->stopping && now >= nd->preempt_at) {
        snprintf(why, sizeof(why), "spot preemption (%.3f s after start)",
                 nd->preempt_at - nd->started_at);
        local_node_stop(p, a, r, why);
    }
    if (nd->kill_at > 0 && !nd->killed && now >= nd->kill_at) {
        dir = local_node_dir(a, r);
        if (nd->pid > 0 && lf_alive(dir))
            local_sys.kill(-(pid_t)nd->pid, SIGKILL);
        nd->killed = 1;
        free(dir);
    }
}

void local_timers(struct local *p)
{
    double now = local_now(p);
    size_t i;
    int r;

    for (i = 0; i < p->natt; i++)
        for (r = 0; !p->att[i]->refused && r < p->att[i]->nodes; r++)
            if (p->att[i]->node[r].state == LN_LIVE)
                node_timers(p, p->att[i], r, now);
}

/* ---- events and acknowledgement ----------------------------------------- */

static void push_ack(struct local *p, int64_t id, int node)
{
    p->acks = xgrow(p->acks, &p->acks_cap, p->nacks + 1, sizeof(*p->acks));
    p->acks[p->nacks].attempt_id = id;
    p->acks[p->nacks].node = node;
    p->nacks++;
}

static void node_event(struct driver_event *ev, enum driver_event_type t,
                       const struct latt *a, int r, double at, const char *msg)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = t;
    ev->attempt_id = a->id;
    ev->node = r;
    ev->exit_code = -1;
    ev->at = at;
    snprintf(ev->msg, sizeof(ev->msg), "%s", msg);
}

static size_t node_events(struct local *p, struct latt *a, int r, struct driver_event *ev,
                          size_t max)
{
    struct lnode *nd = &a->node[r];
    char why[sizeof(ev->msg)], *dir;
    double t;
    size_t k = 0;

    if (k < max && nd->started_at > 0 && !nd->said_running) {
        node_event(&ev[k++], DRV_EV_RUNNING, a, r, nd->started_at, "");
        nd->said_running = 1;
    }
    if (k < max && nd->notice_due) {
        dir = local_node_dir(a, r);
        t = lf_read_stamp(dir, "preempted", why, sizeof(why));
        node_event(&ev[k++], DRV_EV_PREEMPT_NOTICE, a, r, t, why);
        nd->notice_due = 0;
        free(dir);
    }
    if (k < max && nd->state == LN_ENDED && !nd->said_end &&
        (nd->said_running || nd->started_at <= 0) && !nd->notice_due) {
        ev[k++] = nd->end;
        nd->said_end = 1;
        push_ack(p, a->id, r);
    }
    return k;
}

size_t local_events(struct local *p, struct driver_event *ev, size_t max)
{
    size_t i, k = 0;
    int r;

    for (i = 0; i < p->natt && k < max; i++) {
        struct latt *a = p->att[i];

        if (a->refused && !a->said_refused) {
            memset(&ev[k], 0, sizeof(ev[k]));
            ev[k].type = DRV_EV_CAPACITY;
            ev[k].attempt_id = a->id;
            ev[k].node = -1;
            ev[k].exit_code = -1;
            ev[k].at = a->launched_at;
            snprintf(ev[k].msg, sizeof(ev[k].msg), "%s", a->why);
            k++;
            a->said_refused = 1;
            push_ack(p, a->id, -1);
        }
        for (r = 0; !a->refused && r < a->nodes && k < max; r++)
            k += node_events(p, a, r, ev + k, max - k);
    }
    return k;
}

static int att_done(const struct latt *a)
{
    int r;

    if (a->refused)
        return a->acked;
    for (r = 0; r < a->nodes; r++)
        if (!a->node[r].acked)
            return 0;
    return 1;
}

/* Forget attempts with nothing left to say (their directories stay for logs). */
static void forget_done(struct local *p)
{
    size_t i, k = 0;

    for (i = 0; i < p->natt; i++) {
        if (att_done(p->att[i]))
            local_att_free(p->att[i]);
        else
            p->att[k++] = p->att[i];
    }
    p->natt = k;
}

void local_ack(struct local *p)
{
    size_t i;

    for (i = 0; i < p->nacks; i++) {
        struct latt *a = local_att_find(p, p->acks[i].attempt_id);
        char *dir;

        if (a == NULL)
            continue;
        if (p->acks[i].node < 0) {
            lf_touch(a->dir, "reported");
            a->acked = 1;
            continue;
        }
        dir = local_node_dir(a, p->acks[i].node);
        lf_touch(dir, "reported");
        a->node[p->acks[i].node].acked = 1;
        free(dir);
    }
    if (p->nacks > 0)
        lf_touch(p->root, "acked");
    p->nacks = 0;
    forget_done(p);
}

/* ---- queries ------------------------------------------------------------ */

/* Is something ready for the next poll without waiting? */
static int node_has_news(const struct lnode *nd)
{
    return (nd->started_at > 0 && !nd->said_running) || nd->notice_due ||
           (nd->state == LN_ENDED && !nd->said_end);
}

/* The earliest deadline of a node not yet ended (absolute), or 0 for none. */
static double node_deadline(const struct lnode *nd)
{
    double t = 0;

    if (nd->kill_at > 0 && !nd->killed)
        t = nd->kill_at;
    if (nd->preempt_at > 0 && !nd->stopping && (t == 0 || nd->preempt_at < t))
        t = nd->preempt_at;
    if (nd->state == LN_PENDING &&
        (t == 0 || nd->pending_since + LOCAL_SPAWN_TIMEOUT < t))
        t = nd->pending_since + LOCAL_SPAWN_TIMEOUT;
    return t;
}

double local_next(const struct local *p)
{
    double now = local_now(p), best = -1, t;
    size_t i;
    int r;

    for (i = 0; i < p->natt; i++) {
        const struct latt *a = p->att[i];

        if (a->refused && !a->said_refused)
            return 0;
        for (r = 0; !a->refused && r < a->nodes; r++) {
            const struct lnode *nd = &a->node[r];

            if (node_has_news(nd))
                return 0;
            if (nd->state == LN_ENDED)
                continue;
            t = node_deadline(nd);
            t = t > 0 && t - now < LOCAL_POLL_HINT ? t - now : LOCAL_POLL_HINT;
            if (best < 0 || t < best)
                best = t;
        }
    }
    return best < 0 ? -1 : best > 0 ? best : 0;
}

long local_used(const struct local *p, const char *cloud, const char *region,
                const char *zone, const char *itype)
{
    long used = 0;
    size_t i;
    int r;

    for (i = 0; i < p->natt; i++) {
        const struct latt *a = p->att[i];

        if (a->refused || strcmp(a->cloud, cloud) != 0 ||
            strcmp(a->region, region) != 0 || strcmp(a->zone, zone) != 0 ||
            strcmp(a->itype, itype) != 0)
            continue;
        for (r = 0; r < a->nodes; r++)
            used += a->node[r].state != LN_ENDED;
    }
    return used;
}

/* splitmix64 (Steele, Lea and Flood): a tiny generator whose every output is
 * a good hash of its state, so nearby seeds give unrelated streams. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double local_draw_preempt(uint64_t seed, int64_t attempt_id, int rank, double rate_per_s)
{
    uint64_t s = seed, x;
    double u;

    x = splitmix64(&s);
    s = x ^ (uint64_t)attempt_id;
    x = splitmix64(&s);
    s = x ^ (uint64_t)(uint32_t)rank;
    x = splitmix64(&s);
    u = ((double)(x >> 11) + 1.0) * 0x1.0p-53; /* uniform in (0, 1] */
    return -log(u) / rate_per_s;
}
