/*
 * multi.c - the multi driver (multi.h): several drivers as one.
 *
 * Each child is a whole driver opened with a copy of the multi driver's
 * config: its own config_path and world, and its own state directory.  A
 * child keeps its state below the multi driver's home when it is the only
 * child of its kind or is named after its kind (so the one driver of a home
 * used before server configuration existed finds its attempts again);
 * another child of the same kind gets <home>/drivers/<name>, since two
 * drivers of a kind would otherwise share (and adopt) one directory.
 *
 * Routing: launch, capacity and location faults go to the child the
 * location is bound to (the most specific pattern).  The multi driver
 * remembers which child launched or reported each attempt it has seen;
 * terminate and log_path go to that child, or to every child for an attempt
 * it has not seen (after a restart): both are idempotent or harmless for an
 * attempt a child does not know.
 *
 * poll() fills the caller's array from the children in turn, starting with
 * a different child each time, so one busy child cannot starve the others.
 * A child whose turn does not come keeps its events for the next poll (its
 * last batch is acknowledged then, which is still after the commit).  A
 * child whose poll fails is logged and skipped: a Slurm cluster that is down
 * must not stop the controller for every other location.
 *
 * Layout: patterns; the attempt map; opening and closing; the operations.
 */
#include "multi.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

struct mchild {
    const struct multi_child *c;
    struct driver d;
    struct driver_config cfg;
    char *home;
    int open;
    int failing; /* its last poll failed (said once in the log) */
};

struct amap_slot {
    int64_t id; /* 0 = empty (attempt ids start at 1) */
    int child;
};

struct multi {
    const struct multi_world *w;
    struct mchild *ch;
    size_t n;
    size_t turn; /* the child poll() starts with */
    struct amap_slot *map;
    size_t map_cap, map_n; /* cap: a power of two, or 0 */
};

static const char *child_name(const struct mchild *ch)
{
    return ch->c->name ? ch->c->name : ch->c->ops->name;
}

/* ---- patterns ----------------------------------------------------------- */

static int has_glob(const char *s)
{
    return strpbrk(s, "*?") != NULL;
}

int multi_pattern_score(const char *pat, const char *cloud, const char *region,
                        const char *zone)
{
    char buf[512];
    int slashes = 0, hit;
    const char *c;

    if (pat == NULL || cloud == NULL || region == NULL)
        return 0;
    if (strcmp(pat, "*") == 0)
        return 1;
    for (c = pat; *c; c++)
        slashes += *c == '/';
    /* A location too long for buf matches no pattern that needs it whole. */
    hit = str_glob(pat, cloud);
    if (!hit && (size_t)snprintf(buf, sizeof(buf), "%s/%s", cloud, region) < sizeof(buf))
        hit = str_glob(pat, buf);
    if (!hit && zone && *zone &&
        (size_t)snprintf(buf, sizeof(buf), "%s/%s/%s", cloud, region, zone) < sizeof(buf))
        hit = str_glob(pat, buf);
    /* deeper beats shallower; at one depth, a literal name beats a glob */
    return hit ? 2 + 2 * slashes + !has_glob(pat) : 0;
}

int multi_world_child(const struct multi_world *w, const char *cloud, const char *region,
                      const char *zone)
{
    int best = -1, best_score = 0;
    size_t i, j;

    for (i = 0; w && i < w->n; i++)
        for (j = 0; j < w->children[i].nlocations; j++) {
            int sc =
                multi_pattern_score(w->children[i].locations[j], cloud, region, zone);

            if (sc > best_score) {
                best_score = sc;
                best = (int)i;
            }
        }
    return best;
}

int multi_child_of(struct driver *d, const char *cloud, const char *region,
                   const char *zone)
{
    const struct multi *m = d->priv;

    return multi_world_child(m->w, cloud, region, zone);
}

/* ---- the attempt map: attempt id -> child that knows it ----------------- */

static size_t amap_hash(int64_t id, size_t cap)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static void amap_put(struct multi *m, int64_t id, int child);

static void amap_grow(struct multi *m)
{
    struct amap_slot *old = m->map;
    size_t oldcap = m->map_cap, i;

    m->map_cap = oldcap ? oldcap * 2 : 64;
    m->map = xcalloc(m->map_cap, sizeof(*m->map));
    m->map_n = 0;
    for (i = 0; i < oldcap; i++)
        if (old[i].id != 0)
            amap_put(m, old[i].id, old[i].child);
    free(old);
}

static void amap_put(struct multi *m, int64_t id, int child)
{
    size_t i;

    if (id <= 0)
        return;
    if ((m->map_n + 1) * 2 > m->map_cap)
        amap_grow(m);
    for (i = amap_hash(id, m->map_cap); m->map[i].id != 0 && m->map[i].id != id;
         i = (i + 1) & (m->map_cap - 1))
        ;
    m->map_n += m->map[i].id == 0;
    m->map[i].id = id;
    m->map[i].child = child;
}

/* The child that launched or reported attempt id, or -1. */
static int amap_get(const struct multi *m, int64_t id)
{
    size_t i;

    if (m->map_cap == 0 || id <= 0)
        return -1;
    for (i = amap_hash(id, m->map_cap); m->map[i].id != 0; i = (i + 1) & (m->map_cap - 1))
        if (m->map[i].id == id)
            return m->map[i].child;
    return -1;
}

/* ---- opening and closing ------------------------------------------------ */

/* Does the child share the multi driver's home?  See the top of the file. */
static int shares_home(const struct multi_world *w, size_t k)
{
    const struct multi_child *c = &w->children[k];
    size_t i, same = 0;

    if (c->name == NULL || strcmp(c->name, c->ops->name) == 0)
        return 1;
    for (i = 0; i < w->n; i++)
        same += w->children[i].ops == c->ops;
    return same == 1;
}

static int child_open(struct multi *m, size_t k, struct err *e)
{
    struct mchild *ch = &m->ch[k];
    int rc;

    rc = ch->home ? fs_mkdirs(ch->home, 0700, e) : 0;
    if (rc == 0)
        rc = driver_open(&ch->d, ch->c->ops, &ch->cfg, e);
    if (rc != 0) {
        err_prefix(e, "driver %s (%s)", child_name(ch), ch->c->ops->name);
        return rc;
    }
    ch->open = 1;
    return 0;
}

static void multi_close(struct driver *d)
{
    struct multi *m = d->priv;
    size_t i;

    for (i = 0; i < m->n; i++) {
        if (m->ch[i].open)
            driver_close(&m->ch[i].d);
        free(m->ch[i].home);
    }
    free(m->ch);
    free(m->map);
    memset(m, 0, sizeof(*m));
}

static void child_config(struct multi *m, size_t k, const struct driver_config *cfg)
{
    struct mchild *ch = &m->ch[k];

    ch->c = &m->w->children[k];
    ch->cfg = *cfg;
    ch->cfg.config_path = ch->c->config_path;
    ch->cfg.world = ch->c->world;
    if (cfg->home && !shares_home(m->w, k)) {
        ch->home = xasprintf("%s/drivers/%s", cfg->home, ch->c->name);
        ch->cfg.home = ch->home;
    }
}

static int multi_open(struct driver *d, const struct driver_config *cfg, struct err *e)
{
    struct multi *m = d->priv;
    size_t k;
    int rc = 0;

    m->w = cfg->world;
    if (m->w == NULL || m->w->n == 0)
        return err_set(e, ST_EINVAL,
                       "the multi driver needs its children (a multi_world)");
    m->n = m->w->n;
    m->ch = xcalloc(m->n, sizeof(*m->ch));
    for (k = 0; rc == 0 && k < m->n; k++)
        if (m->w->children[k].ops == NULL || m->w->children[k].ops == &driver_multi)
            rc = err_set(e, ST_EINVAL, "child %zu of the multi driver has no driver", k);
    for (k = 0; rc == 0 && k < m->n; k++) {
        child_config(m, k, cfg);
        rc = child_open(m, k, e);
    }
    if (rc != 0)
        multi_close(d);
    return rc;
}

/* ---- the operations ----------------------------------------------------- */

/* The child bound to the attempt's location, or -1 with e set. */
static int route(struct multi *m, const char *cloud, const char *region, const char *zone,
                 struct err *e)
{
    int k = multi_world_child(m->w, cloud, region, zone);

    if (k < 0)
        err_set(e, ST_EINVAL, "location %s/%s%s%s is bound to no driver (server config)",
                cloud ? cloud : "?", region ? region : "?", zone && *zone ? "/" : "",
                zone ? zone : "");
    return k;
}

/* Tell the world's owner (the server's metrics) that child k failed a
 * poll or terminate with rc: not for "no capacity" or a request it refuses
 * as bad, which are answers, not failures. */
static void told(const struct multi *m, size_t k, int rc)
{
    if (rc < 0 && rc != ST_ECAPACITY && rc != ST_EINVAL && rc != ST_ETOOBIG &&
        m->w->on_error != NULL)
        m->w->on_error(m->w->ctx, child_name(&m->ch[k]));
}

static int multi_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    struct multi *m = d->priv;
    int k = route(m, a->cloud, a->region, a->zone, e), rc;

    if (k < 0)
        return e->code;
    rc = driver_launch(&m->ch[k].d, a, e);
    amap_put(m, a->id, k); /* even on error: a failed launch may have left state */
    return rc; /* a failed launch is counted by its attempt (metrics.c), not here */
}

/* A child's poll failed: said once (until it answers again), not at every
 * poll. */
static void note_poll(struct mchild *ch, int r, const struct err *e)
{
    if (r < 0 && !ch->failing)
        log_warn("driver %s: poll failed: %s (its events wait until it answers)",
                 child_name(ch), e->msg);
    else if (r >= 0 && ch->failing)
        log_info("driver %s: polls again", child_name(ch));
    ch->failing = r < 0;
}

/* One child failing does not stop the others' events (nor the controller,
 * for a cluster that is down): the poll fails only when every child
 * polled failed and none had anything to say.  Events already taken from
 * a child are always returned, since it counts them as delivered at its
 * next poll. */
static int multi_poll(struct driver *d, struct driver_event *ev, size_t max,
                      struct err *e)
{
    struct multi *m = d->priv;
    size_t got = 0, i, j, polled = 0, failed = 0;
    struct err sub;

    for (i = 0; i < m->n && got < max; i++) {
        size_t k = (m->turn + i) % m->n;
        int r;

        err_clear(&sub);
        r = driver_poll(&m->ch[k].d, ev + got, max - got, &sub);
        note_poll(&m->ch[k], r, &sub);
        told(m, k, r);
        polled++;
        if (r < 0 && failed++ == 0) {
            *e = sub;
            err_prefix(e, "driver %s", child_name(&m->ch[k]));
        }
        for (j = got; r > 0 && j < got + (size_t)r; j++)
            amap_put(m, ev[j].attempt_id, (int)k);
        got += r > 0 ? (size_t)r : 0;
    }
    m->turn = m->n ? (m->turn + 1) % m->n : 0;
    if (got == 0 && failed > 0 && failed == polled)
        return e->code;
    return (int)got;
}

static int multi_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    struct multi *m = d->priv;
    int k = amap_get(m, attempt_id), rc = 0, r;
    struct err sub;
    size_t i;

    if (k >= 0) {
        rc = driver_terminate(&m->ch[k].d, attempt_id, e);
        told(m, (size_t)k, rc);
        return rc;
    }
    for (i = 0; i < m->n; i++) {
        err_clear(&sub);
        r = driver_terminate(&m->ch[i].d, attempt_id, &sub);
        told(m, i, r);
        if (r != 0 && rc == 0) {
            rc = r;
            *e = sub;
        }
    }
    return rc;
}

static long multi_capacity_mode(struct driver *d, const char *cloud, const char *region,
                                const char *zone, const char *itype, int spot)
{
    struct multi *m = d->priv;
    int k = multi_world_child(m->w, cloud, region, zone);

    return k < 0 ? 0 : driver_capacity(&m->ch[k].d, cloud, region, zone, itype, spot);
}

static int multi_modes_apart(struct driver *d, const char *cloud, const char *region,
                             const char *zone)
{
    struct multi *m = d->priv;
    int k = multi_world_child(m->w, cloud, region, zone);

    return k >= 0 && driver_modes_apart(&m->ch[k].d, cloud, region, zone);
}

static long multi_queue_capacity(struct driver *d, const char *cloud, const char *region,
                                 const char *zone, const char *itype, int spot)
{
    struct multi *m = d->priv;
    int k = multi_world_child(m->w, cloud, region, zone);

    if (k < 0)
        return 0;
    return driver_queue_capacity(&m->ch[k].d, cloud, region, zone, itype, spot);
}

static long multi_capacity(struct driver *d, const char *cloud, const char *region,
                           const char *zone, const char *itype)
{
    return multi_capacity_mode(d, cloud, region, zone, itype, 0);
}

/* "cloud/region[/zone][ REST]" split into its parts (in buf). */
static int split_location(const char *arg, char *buf, size_t n, const char **cloud,
                          const char **region, const char **zone)
{
    char *s1, *s2;

    snprintf(buf, n, "%.*s", (int)strcspn(arg, " \t"), arg);
    s1 = strchr(buf, '/');
    if (s1 == NULL)
        return -1;
    *s1++ = '\0';
    s2 = strchr(s1, '/');
    if (s2)
        *s2++ = '\0';
    *cloud = buf;
    *region = s1;
    *zone = s2 ? s2 : "";
    return 0;
}

/* A fault that names no location (preempt-job): every child that takes
 * faults is asked; it worked when one child took it. */
static int inject_all(struct multi *m, const char *kind, const char *arg, struct err *e)
{
    int rc = ST_EUSAGE, ok = 0;
    size_t i;

    err_set(e, ST_EUSAGE, "no driver of this server supports fault injection");
    for (i = 0; i < m->n && !ok; i++) {
        struct err sub;

        if (m->ch[i].d.ops->inject == NULL)
            continue;
        err_clear(&sub);
        ok = driver_inject(&m->ch[i].d, kind, arg, &sub) == 0;
        if (!ok && (rc == ST_EUSAGE || sub.code != ST_ENOTFOUND)) {
            rc = sub.code;
            *e = sub;
        }
    }
    return ok ? 0 : rc;
}

static int multi_inject(struct driver *d, const char *kind, const char *arg,
                        struct err *e)
{
    struct multi *m = d->priv;
    const char *cloud, *region, *zone;
    char buf[512];
    int k;

    if (strcmp(kind, "preempt-job") == 0 || arg == NULL ||
        split_location(arg, buf, sizeof(buf), &cloud, &region, &zone) != 0)
        return inject_all(m, kind, arg, e);
    k = route(m, cloud, region, zone, e);
    return k < 0 ? e->code : driver_inject(&m->ch[k].d, kind, arg, e);
}

static double multi_next_event_in(struct driver *d)
{
    struct multi *m = d->priv;
    double best = -1;
    size_t i;

    for (i = 0; i < m->n; i++) {
        double t = driver_next_event_in(&m->ch[i].d);

        if (t >= 0 && (best < 0 || t < best))
            best = t;
    }
    return best;
}

static int multi_log_path(struct driver *d, int64_t attempt_id, int node, char *buf,
                          size_t n)
{
    struct multi *m = d->priv;
    int k = amap_get(m, attempt_id), rc = ST_ENOTFOUND;
    size_t i;

    if (k >= 0)
        return driver_log_path(&m->ch[k].d, attempt_id, node, buf, n);
    for (i = 0; i < m->n && rc != 0; i++)
        rc = driver_log_path(&m->ch[i].d, attempt_id, node, buf, n);
    return rc;
}

static int multi_node_addr(struct driver *d, int64_t attempt_id, int node, char *buf,
                           size_t n)
{
    struct multi *m = d->priv;
    int k = amap_get(m, attempt_id), rc = ST_ENOTFOUND;
    size_t i;

    if (k >= 0)
        return driver_node_addr(&m->ch[k].d, attempt_id, node, buf, n);
    for (i = 0; i < m->n && rc != 0; i++)
        rc = driver_node_addr(&m->ch[i].d, attempt_id, node, buf, n);
    return rc;
}

/* A child that cannot rewind is opened again, which replays what it did
 * not count as delivered (driver.h).  The new instance is opened before the
 * old one is closed: if it cannot be opened, the old one stays (its events
 * are replayed by the next server instead), so no call ever finds a closed
 * child.  Its wake descriptors may change: callers fetch them again. */
static void multi_rewind(struct driver *d)
{
    struct multi *m = d->priv;
    struct driver fresh;
    struct err e;
    size_t i;

    for (i = 0; i < m->n; i++) {
        struct mchild *ch = &m->ch[i];

        if (driver_can_rewind(&ch->d)) {
            driver_rewind(&ch->d);
            continue;
        }
        if (driver_open(&fresh, ch->c->ops, &ch->cfg, &e) != 0) {
            log_warn("driver %s: cannot reopen it to replay events: %s", child_name(ch),
                     e.msg);
            continue;
        }
        driver_close(&ch->d);
        ch->d = fresh;
    }
}

static int multi_wake_fds(struct driver *d, int *fds, size_t max)
{
    struct multi *m = d->priv;
    size_t got = 0, i;

    for (i = 0; i < m->n && got < max; i++)
        got += (size_t)driver_wake_fds(&m->ch[i].d, fds + got, max - got);
    return (int)got;
}

const struct driver_ops driver_multi = {
    .name = "multi",
    .priv_size = sizeof(struct multi),
    .config_name = NULL,
    .open = multi_open,
    .launch = multi_launch,
    .poll = multi_poll,
    .terminate = multi_terminate,
    .close = multi_close,
    .capacity = multi_capacity,
    .inject = multi_inject,
    .next_event_in = multi_next_event_in,
    .capacity_mode = multi_capacity_mode,
    .modes_apart = multi_modes_apart,
    .queue_capacity = multi_queue_capacity,
    .log_path = multi_log_path,
    .node_addr = multi_node_addr,
    .rewind = multi_rewind,
    .wake_fds = multi_wake_fds,
};
