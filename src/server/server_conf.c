/*
 * server_conf.c - the server's configuration (server_conf.h, docs/server.md):
 * the built-in default, the YAML file, and what the server builds from it
 * (the multi driver's children, each location's controller timing).
 *
 * Decisions a reader might question:
 *  - Paths inside the file are taken from the home, not from the file's
 *    directory or the working directory: a service's working directory is
 *    arbitrary, and the home is what every other Stratus path hangs off.
 *  - A driver's timing defaults depend on its kind: the local clouds run in
 *    seconds, so their cooldowns are short (and the environment tunes them,
 *    as it did for the controller before the server); a Slurm cluster
 *    answers in seconds too but a refused partition stays full for longer;
 *    anything else gets the controller's cloud defaults.
 *  - Two drivers of one kind need distinct names: a driver named after its
 *    kind keeps its state where a home without a configuration keeps it
 *    (multi.c), the others below drivers/<name>.
 *  - The bound locations are checked against the catalog when one is given,
 *    so a typo is a startup error and not a location silently bound to no
 *    driver.
 *
 * Layout: small readers; listeners; drivers; the whole file; the default;
 * what the server builds from a configuration.
 */
#include "server_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../driver/driver.h"
#include "../driver/multi.h"
#include "../sched/sched.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#define CONF_MAX_BYTES ((size_t)1 << 20)
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define MAX_BODY_MIN ((size_t)1 << 10)
#define MAX_BODY_MAX ((size_t)1 << 30)
#define NAME_MAX_LEN 64
/* sizeof(sockaddr_un.sun_path) on Linux, less the NUL */
#define UNIX_PATH_MAX_LEN 107

/* The drivers a server may run (driver_find has no list): sim runs only
 * inside `stratus simulate`, in virtual time. */
static const char *const server_drivers[] = {"local", "slurm", NULL};

struct cctx {
    const struct ydoc *d;
    const char *home;
    const struct catalog *cat;
    struct srv_conf *c;
};

/* ---- small readers ------------------------------------------------------ */

/* Read a number from the environment (for tests and demos), else dflt. */
static double env_num(const char *name, double dflt)
{
    const char *s = getenv(name);
    double v;

    return s && str_to_double(s, &v) == 0 && v >= 0 ? v : dflt;
}

/* A path from the file: absolute as it is, else below the home. */
static char *home_path(const char *home, const char *s)
{
    return s[0] == '/' ? xstrdup(s) : xasprintf("%s/%s", home, s);
}

/* "1MiB", "512 KiB", "64k", "1000000" -> bytes; -1 when not a size. */
static int parse_size(const char *s, double *bytes)
{
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"k", 1024},
                 {"kb", 1e3},
                 {"kib", 1024},
                 {"m", 1048576.0},
                 {"mb", 1e6},
                 {"mib", 1048576.0},
                 {"g", 1073741824.0},
                 {"gb", 1e9},
                 {"gib", 1073741824.0}};
    char unit[8];
    char *end;
    double v;
    size_t i, n;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno != 0 || !(v >= 0) || !isdigit((unsigned char)*s))
        return -1;
    while (*end == ' ')
        end++;
    n = strlen(end);
    if (n >= sizeof(unit))
        return -1;
    for (i = 0; i < n && i < sizeof(unit) - 1; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    unit[i] = '\0';
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(unit, units[i].unit) == 0) {
            *bytes = v * units[i].mul;
            return 0;
        }
    return -1;
}

static int read_size(const struct cctx *x, const struct ynode *n, const char *what,
                     size_t min, size_t max, size_t *out, struct err *e)
{
    int rc = yexpect(x->d, n, Y_SCALAR, what, e);
    double v;

    if (rc != 0)
        return rc;
    if (parse_size(n->str, &v) != 0)
        return yerr(x->d, n, ST_EINVAL, e,
                    "%s must be a size such as 1MiB, 512KiB or 65536 (bytes), not '%s'",
                    what, n->str);
    if (v < (double)min || v > (double)max)
        return yerr(x->d, n, ST_EINVAL, e,
                    "%s must be between %zu KiB and %zu MiB, not %s", what, min >> 10,
                    max >> 20, n->str);
    *out = (size_t)v;
    return 0;
}

/* A non-empty string. */
static int read_text(const struct cctx *x, const struct ynode *n, const char *what,
                     const char **out, struct err *e)
{
    int rc = yget_str(x->d, n, what, out, e);

    if (rc == 0 && **out == '\0')
        return yerr(x->d, n, ST_EINVAL, e, "%s is empty", what);
    return rc;
}

static int read_path(const struct cctx *x, const struct ynode *n, const char *what,
                     char **out, struct err *e)
{
    const char *s;
    int rc = read_text(x, n, what, &s, e);

    if (rc == 0)
        *out = home_path(x->home, s);
    return rc;
}

/* ---- listeners ------------------------------------------------------------ */

/* "host:port" or "[v6]:port" into l. */
static int read_hostport(const struct cctx *x, const struct ynode *n,
                         struct srv_listener *l, struct err *e)
{
    const char *s, *colon, *host = NULL;
    size_t hlen = 0;
    long port;
    int rc = read_text(x, n, "listen.tcp", &s, e);

    if (rc != 0)
        return rc;
    colon = strrchr(s, ':');
    if (colon != NULL && s[0] == '[' && colon > s && colon[-1] == ']') {
        host = s + 1;
        hlen = (size_t)(colon - s) - 2;
    } else if (colon != NULL && memchr(s, ':', (size_t)(colon - s)) == NULL) {
        host = s;
        hlen = (size_t)(colon - s);
    }
    if (host == NULL || hlen == 0 || str_to_long(colon + 1, 0, 65535, &port) != 0)
        return yerr(x->d, n, ST_EINVAL, e,
                    "listen.tcp must be HOST:PORT (127.0.0.1:8470, [::1]:8470; port 0 "
                    "= any free one), not '%s'",
                    s);
    l->host = xstrndup(host, hlen);
    l->port = (int)port;
    return 0;
}

static int read_tls(const struct cctx *x, const struct ynode *n, struct srv_listener *l,
                    struct err *e)
{
    static const char *const keys[] = {"cert", "key", NULL};
    const struct ynode *cert = ymap_get(n, "cert"), *key = ymap_get(n, "key");
    int rc = yexpect(x->d, n, Y_MAP, "listen.tls", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "listen.tls", e);
    if (rc == 0 && (cert == NULL || key == NULL))
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "listen.tls needs both 'cert' and 'key' (PEM files)");
    if (rc == 0)
        rc = read_path(x, cert, "listen.tls.cert", &l->tls_cert, e);
    if (rc == 0)
        rc = read_path(x, key, "listen.tls.key", &l->tls_key, e);
    return rc;
}

static int read_unix(const struct cctx *x, const struct ynode *n, struct srv_listener *l,
                     struct err *e)
{
    int rc = read_path(x, n, "listen.unix", &l->path, e);

    l->kind = SRV_LISTEN_UNIX;
    if (rc == 0 && strlen(l->path) > UNIX_PATH_MAX_LEN)
        rc = yerr(
            x->d, n, ST_EINVAL, e,
            "listen.unix: the socket path %s is %zu bytes; UNIX sockets take at most "
            "%d (use a shorter home or an absolute path)",
            l->path, strlen(l->path), UNIX_PATH_MAX_LEN);
    return rc;
}

static int read_listener(const struct cctx *x, const struct ynode *n,
                         struct srv_listener *l, struct err *e)
{
    static const char *const keys[] = {"unix", "tcp", "tls", NULL};
    const struct ynode *un, *tcp, *tls;
    int rc = yexpect(x->d, n, Y_MAP, "a listen entry", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "listen", e);
    if (rc != 0)
        return rc;
    un = ymap_get(n, "unix");
    tcp = ymap_get(n, "tcp");
    tls = ymap_get(n, "tls");
    if ((un == NULL) == (tcp == NULL))
        return yerr(
            x->d, n, ST_EINVAL, e,
            "a listen entry needs exactly one of 'unix: PATH' or 'tcp: HOST:PORT'");
    if (un != NULL && tls != NULL)
        return yerr(
            x->d, tls, ST_EINVAL, e,
            "tls applies to tcp listeners (a UNIX socket is checked by its owner)");
    if (un != NULL)
        return read_unix(x, un, l, e);
    l->kind = SRV_LISTEN_TCP;
    rc = read_hostport(x, tcp, l, e);
    if (rc == 0 && tls != NULL)
        rc = read_tls(x, tls, l, e);
    return rc;
}

static int same_listener(const struct srv_listener *a, const struct srv_listener *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == SRV_LISTEN_UNIX)
        return strcmp(a->path, b->path) == 0;
    return a->port != 0 && a->port == b->port && strcmp(a->host, b->host) == 0;
}

static void default_listener(struct srv_conf *c, const char *home)
{
    c->listen = xcalloc(1, sizeof(*c->listen));
    c->nlisten = 1;
    c->listen[0].kind = SRV_LISTEN_UNIX;
    c->listen[0].path = xasprintf("%s/stratus.sock", home);
}

static int read_listen(const struct cctx *x, const struct ynode *n, struct err *e)
{
    size_t i, j;
    int rc;

    if (n == NULL) {
        default_listener(x->c, x->home);
        return 0;
    }
    rc = yexpect(x->d, n, Y_SEQ, "listen", e);
    if (rc != 0)
        return rc;
    if (n->n == 0)
        return yerr(x->d, n, ST_EINVAL, e,
                    "listen has no entries (leave it out for the "
                    "UNIX socket in the home)");
    x->c->listen = xcalloc(n->n, sizeof(*x->c->listen));
    for (i = 0; i < n->n; i++) {
        x->c->nlisten = i + 1;
        rc = read_listener(x, n->items[i], &x->c->listen[i], e);
        if (rc != 0)
            return rc;
        for (j = 0; j < i; j++)
            if (same_listener(&x->c->listen[j], &x->c->listen[i]))
                return yerr(x->d, n->items[i], ST_EINVAL, e,
                            "this listener is listed twice (also line %zu)",
                            n->items[j]->line);
    }
    return 0;
}

/* ---- drivers ------------------------------------------------------------ */

/* The defaults of a kind (see the top of the file). */
static void timing_default(const struct driver_ops *ops, struct srv_timing *t)
{
    struct sched_config c;

    if (ops == &driver_local) {
        t->block_cooldown_s = env_num("STRATUS_BLOCK_COOLDOWN", 30);
        t->backoff_base_s = env_num("STRATUS_BACKOFF", 1);
        t->backoff_max_s = 30;
        t->relaunch_overhead_s = env_num("STRATUS_RELAUNCH_OVERHEAD", 3);
        t->wait_retry_s = env_num("STRATUS_WAIT_RETRY", 2);
        t->poll_s = 0.5;
        return;
    }
    if (ops == &driver_slurm) {
        *t = (struct srv_timing){60, 5, 300, 10, 30, 1};
        return;
    }
    sched_config_default(&c);
    t->block_cooldown_s = c.block_cooldown_s;
    t->backoff_base_s = c.backoff_base_s;
    t->backoff_max_s = c.backoff_max_s;
    t->wait_retry_s = c.wait_retry_s;
    t->relaunch_overhead_s = c.relaunch_overhead_s;
    t->poll_s = 1;
}

/* A duration as the spec writes them ("30s", "2m", "1h30m", "90"), or in
 * milliseconds ("250ms"), which a poll interval may want. */
static int read_duration(const struct cctx *x, const struct ynode *n, const char *what,
                         double *seconds, struct err *e)
{
    size_t len = n && n->type == Y_SCALAR ? strlen(n->str) : 0;
    char num[64];
    double v;

    if (len > 2 && len < sizeof(num) && strcmp(n->str + len - 2, "ms") == 0) {
        snprintf(num, sizeof(num), "%.*s", (int)(len - 2), n->str);
        if (str_to_double(num, &v) == 0 && v >= 0) {
            *seconds = v / 1000;
            return 0;
        }
    }
    return yget_duration(x->d, n, what, seconds, e);
}

static int read_timing(const struct cctx *x, const struct ynode *n, struct srv_timing *t,
                       struct err *e)
{
    static const char *const keys[] = {
        "block_cooldown",    "backoff_base", "backoff_max", "wait_retry",
        "relaunch_overhead", "poll",         NULL};
    double *const dst[] = {&t->block_cooldown_s,    &t->backoff_base_s,
                           &t->backoff_max_s,       &t->wait_retry_s,
                           &t->relaunch_overhead_s, &t->poll_s};
    const struct ynode *v;
    char what[64];
    size_t i;
    int rc = yexpect(x->d, n, Y_MAP, "timing", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "timing", e);
    for (i = 0; rc == 0 && keys[i]; i++) {
        v = ymap_get(n, keys[i]);
        if (v == NULL)
            continue;
        snprintf(what, sizeof(what), "timing.%s", keys[i]);
        rc = read_duration(x, v, what, dst[i], e);
    }
    if (rc == 0 && t->poll_s < 0.01)
        rc = yerr(x->d, ymap_get(n, "poll"), ST_EINVAL, e,
                  "timing.poll must be at least 10ms (it is how often the server looks)");
    if (rc == 0 && t->backoff_max_s < t->backoff_base_s)
        rc =
            yerr(x->d, ymap_get(n, "backoff_max") ? ymap_get(n, "backoff_max") : n,
                 ST_EINVAL, e, "timing.backoff_max (%gs) is less than backoff_base (%gs)",
                 t->backoff_max_s, t->backoff_base_s);
    return rc;
}

/* "local, slurm" */
static const char *driver_list(char *buf, size_t n)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; server_drivers[i]; i++)
        snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? ", " : "",
                 server_drivers[i]);
    return buf;
}

/* The driver kind called name, or NULL with e set (pos for the message). */
static const struct driver_ops *find_kind(const struct cctx *x, const struct ynode *pos,
                                          const char *name, struct err *e)
{
    const struct driver_ops *ops = driver_find(name);
    const char *sug = str_suggest(name, server_drivers);
    char list[64], shown[64];

    if (ops == &driver_sim) {
        yerr(x->d, pos, ST_EINVAL, e,
             "the sim driver runs only inside `stratus simulate`, "
             "not in a server; the drivers are: %s",
             driver_list(list, sizeof(list)));
        return NULL;
    }
    if (ops != NULL)
        return ops;
    str_vis(shown, sizeof(shown), name);
    if (sug)
        yerr(x->d, pos, ST_EINVAL, e,
             "unknown driver '%s' (did you mean '%s'?); the drivers "
             "are: %s",
             shown, sug, driver_list(list, sizeof(list)));
    else
        yerr(x->d, pos, ST_EINVAL, e, "unknown driver '%s'; the drivers are: %s", shown,
             driver_list(list, sizeof(list)));
    return NULL;
}

static int name_ok(const char *s)
{
    size_t i;

    if (*s == '\0' || *s == '.' || *s == '-' || strlen(s) > NAME_MAX_LEN)
        return 0;
    for (i = 0; s[i]; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

/* The catalog's "cloud/region" closest to the first two parts of pat. */
static const char *suggest_location(const struct catalog *cat, const char *pat)
{
    size_t i, nr = catalog_nregions(cat);
    char **names = xcalloc(nr + 1, sizeof(*names));
    static char best[160];
    const char *b;

    for (i = 0; i < nr; i++) {
        const struct region *r = catalog_region_at(cat, i);

        names[i] = xasprintf("%s/%s", r->cloud, r->name);
    }
    b = str_suggest(pat, (const char *const *)names);
    if (b)
        snprintf(best, sizeof(best), "%s", b);
    for (i = 0; i < nr; i++)
        free(names[i]);
    free(names);
    return b ? best : NULL;
}

/* A location pattern must name some offer of the catalog. */
static int check_location(const struct cctx *x, const struct ynode *n, struct err *e)
{
    size_t i, no;
    const char *sug;

    if (x->cat == NULL || strcmp(n->str, "*") == 0)
        return 0;
    no = catalog_noffers(x->cat);
    for (i = 0; i < no; i++) {
        const struct offer *o = catalog_offer(x->cat, i);

        if (multi_pattern_score(n->str, o->cloud, o->region, o->zone) > 0)
            return 0;
    }
    sug = suggest_location(x->cat, n->str);
    if (sug)
        return yerr(
            x->d, n, ST_EINVAL, e,
            "location '%s' matches no location in the catalog (did you mean '%s'?)",
            n->str, sug);
    return yerr(x->d, n, ST_EINVAL, e,
                "location '%s' matches no location in the catalog (cloud, cloud/region, "
                "cloud/region/zone, globs allowed, or \"*\")",
                n->str);
}

static int read_locations(const struct cctx *x, const struct ynode *n,
                          struct srv_driver_conf *dc, struct err *e)
{
    const struct ynode *const *items = n->type == Y_SEQ
                                           ? (const struct ynode *const *)n->items
                                           : (const struct ynode *const *)&n;
    size_t cnt = n->type == Y_SEQ ? n->n : 1, i;
    const char *s;
    int rc = 0;

    if (n->type == Y_SEQ && cnt == 0)
        return yerr(x->d, n, ST_EINVAL, e,
                    "locations is empty: bind the driver to at least one location");
    dc->locations = xcalloc(cnt, sizeof(*dc->locations));
    for (i = 0; rc == 0 && i < cnt; i++) {
        rc = read_text(x, items[i], "a location", &s, e);
        if (rc == 0)
            rc = check_location(x, items[i], e);
        if (rc == 0) {
            dc->locations[i] = xstrdup(s);
            dc->nlocations = i + 1;
        }
    }
    return rc;
}

static void bind_everywhere(struct srv_driver_conf *dc)
{
    dc->locations = xcalloc(1, sizeof(*dc->locations));
    dc->locations[0] = xstrdup("*");
    dc->nlocations = 1;
}

static int read_driver_name(const struct cctx *x, const struct ynode *n,
                            struct srv_driver_conf *dc, struct err *e)
{
    const struct ynode *v = ymap_get(n, "name");
    const char *s = dc->ops->name;
    int rc = v ? read_text(x, v, "name", &s, e) : 0;

    if (rc == 0 && !name_ok(s))
        rc =
            yerr(x->d, v, ST_EINVAL, e,
                 "driver name '%s' must be letters, digits, '-', '_' or '.' (at most %d, "
                 "not starting with '.' or '-'): it names a directory",
                 s, NAME_MAX_LEN);
    if (rc == 0)
        dc->name = xstrdup(s);
    return rc;
}

static int read_driver(const struct cctx *x, const struct ynode *n, size_t ndrivers,
                       struct srv_driver_conf *dc, struct err *e)
{
    static const char *const keys[] = {"name",      "driver", "config",
                                       "locations", "timing", NULL};
    const struct ynode *kind = ymap_get(n, "driver"), *config = ymap_get(n, "config");
    const struct ynode *locs = ymap_get(n, "locations"), *timing = ymap_get(n, "timing");
    const char *s;
    int rc = yexpect(x->d, n, Y_MAP, "a drivers entry", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "a drivers entry", e);
    if (rc == 0 && kind == NULL)
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "a drivers entry needs 'driver: KIND' (local, slurm)");
    if (rc == 0)
        rc = read_text(x, kind, "driver", &s, e);
    if (rc == 0)
        dc->ops = find_kind(x, kind, s, e);
    if (rc == 0 && dc->ops == NULL)
        rc = e->code;
    if (rc == 0)
        rc = read_driver_name(x, n, dc, e);
    if (rc == 0 && config != NULL)
        rc = read_path(x, config, "config", &dc->config_path, e);
    else if (rc == 0 && dc->ops->config_name)
        dc->config_path = home_path(x->home, dc->ops->config_name);
    if (rc == 0 && locs != NULL)
        rc = read_locations(x, locs, dc, e);
    else if (rc == 0 && ndrivers == 1)
        bind_everywhere(dc);
    else if (rc == 0)
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "driver '%s' needs 'locations' (with several "
                  "drivers, each says which locations it serves)",
                  dc->name);
    if (rc == 0)
        timing_default(dc->ops, &dc->timing);
    if (rc == 0 && timing != NULL)
        rc = read_timing(x, timing, &dc->timing, e);
    return rc;
}

/* The node of location j of driver entry n (NULL: the implied "*"). */
static const struct ynode *loc_node(const struct ynode *n, size_t j)
{
    const struct ynode *l = ymap_get(n, "locations");

    if (l == NULL)
        return NULL;
    return l->type == Y_SEQ ? l->items[j] : l;
}

static const struct ynode *node_or(const struct ynode *n, const struct ynode *dflt)
{
    return n ? n : dflt;
}

/* Location j of driver k written before (by an earlier driver, or earlier
 * in k's own list)? */
static int check_bound_once(const struct cctx *x, const struct ynode *list, size_t k,
                            size_t j, struct err *e)
{
    const struct srv_driver_conf *dk = &x->c->drivers[k];
    size_t i, l;

    for (i = 0; i <= k; i++)
        for (l = 0; l < (i == k ? j : x->c->drivers[i].nlocations); l++) {
            if (strcmp(x->c->drivers[i].locations[l], dk->locations[j]) != 0)
                continue;
            return yerr(x->d, loc_node(list->items[k], j), ST_EINVAL, e,
                        "location '%s' is bound twice: to driver '%s' (line %zu) and to "
                        "'%s'; bind each location to one driver",
                        dk->locations[j], x->c->drivers[i].name,
                        node_or(loc_node(list->items[i], l), list->items[i])->line,
                        dk->name);
        }
    return 0;
}

/* Names unique; no location pattern bound twice (across drivers or in one). */
static int check_drivers(const struct cctx *x, const struct ynode *list, size_t k,
                         struct err *e)
{
    const struct srv_driver_conf *dk = &x->c->drivers[k];
    size_t i, j;
    int rc = 0;

    for (i = 0; i < k; i++)
        if (strcmp(x->c->drivers[i].name, dk->name) == 0)
            return yerr(
                x->d, node_or(ymap_get(list->items[k], "name"), list->items[k]),
                ST_EINVAL, e,
                "driver name '%s' is used twice (also line %zu); give each driver "
                "its own 'name'",
                dk->name, list->items[i]->line);
    for (j = 0; rc == 0 && j < dk->nlocations; j++)
        rc = check_bound_once(x, list, k, j, e);
    return rc;
}

static int read_drivers(const struct cctx *x, const struct ynode *n, struct err *e)
{
    size_t i;
    int rc = yexpect(x->d, n, Y_SEQ, "drivers", e);

    if (rc == 0 && n->n == 0)
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "drivers is empty (leave it out for the default: "
                  "$STRATUS_DRIVER, else local, everywhere)");
    if (rc != 0)
        return rc;
    x->c->drivers = xcalloc(n->n, sizeof(*x->c->drivers));
    for (i = 0; rc == 0 && i < n->n; i++) {
        x->c->ndrivers = i + 1;
        rc = read_driver(x, n->items[i], n->n, &x->c->drivers[i], e);
        if (rc == 0)
            rc = check_drivers(x, n, i, e);
    }
    return rc;
}

/* ---- the whole file ------------------------------------------------------- */

static int env_driver(const char *home, struct srv_driver_conf *dc, struct err *e);

/* A path (relative to the home), or as it is: "mem:" (an in-memory store,
 * for tests) or a PostgreSQL connection string (docs/postgres.md). */
static int read_store(const struct cctx *x, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc = read_text(x, n, "store", &s, e);
    int as_is;

    if (rc != 0)
        return rc;
    as_is = strcmp(s, "mem:") == 0 || strncmp(s, "postgresql://", 13) == 0 ||
            strncmp(s, "postgres://", 11) == 0;
    x->c->store_path = as_is ? xstrdup(s) : home_path(x->home, s);
    return 0;
}

/* The leader lease's time (docs/ha.md): a duration of 1 s to 5 min. */
static int read_lease(const struct cctx *x, const struct ynode *n, double *out,
                      struct err *e)
{
    int rc = read_duration(x, n, "lease", out, e);

    if (rc == 0 && (*out < 1 || *out > 300))
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "lease must be 1s to 5m (how long a leader that stopped answering "
                  "keeps the lease: a follower takes over within about that)");
    return rc;
}

/* How long a shared dataset's replica is kept unused (docs/data.md): a
 * duration of 0 to 365 days. */
static int read_data_ttl(const struct cctx *x, const struct ynode *n, double *out,
                         struct err *e)
{
    int rc = read_duration(x, n, "data_ttl", out, e);

    if (rc == 0 && (*out < 0 || *out > 365 * 86400.0))
        rc = yerr(x->d, n, ST_EINVAL, e,
                  "data_ttl must be 0s to 365d (how long a shared dataset's replica is "
                  "kept after its last use; 0: deleted once no attempt runs on it)");
    return rc;
}

static int read_top(const struct cctx *x, const struct ynode *root, struct err *e)
{
    static const char *const keys[] = {
        "listen",    "store", "catalog",         "max_body", "displace", "drivers",
        "state_dir", "lease", "commit_backfill", "data_ttl", NULL};
    const struct ynode *ttl = ymap_get(root, "data_ttl");
    const struct ynode *store = ymap_get(root, "store"), *cat = ymap_get(root, "catalog");
    const struct ynode *body = ymap_get(root, "max_body"),
                       *disp = ymap_get(root, "displace"),
                       *backfill = ymap_get(root, "commit_backfill");
    const struct ynode *drivers = ymap_get(root, "drivers");
    const struct ynode *sdir = ymap_get(root, "state_dir"), *lease = ymap_get(root, "lease");
    int rc = ymap_check_keys(x->d, root, keys, "the server configuration", e);

    if (rc == 0)
        rc = read_listen(x, ymap_get(root, "listen"), e);
    if (rc == 0 && store != NULL)
        rc = read_store(x, store, e);
    if (rc == 0 && cat != NULL)
        rc = read_path(x, cat, "catalog", &x->c->catalog_dir, e);
    if (rc == 0 && body != NULL)
        rc = read_size(x, body, "max_body", MAX_BODY_MIN, MAX_BODY_MAX, &x->c->max_body,
                       e);
    if (rc == 0 && disp != NULL)
        rc = yget_bool(x->d, disp, "displace", &x->c->displace, e);
    if (rc == 0 && backfill != NULL)
        rc = yget_bool(x->d, backfill, "commit_backfill", &x->c->commit_backfill, e);
    if (rc == 0 && sdir != NULL)
        rc = read_path(x, sdir, "state_dir", &x->c->state_dir, e);
    if (rc == 0 && lease != NULL)
        rc = read_lease(x, lease, &x->c->lease_s, e);
    if (rc == 0 && ttl != NULL)
        rc = read_data_ttl(x, ttl, &x->c->data_ttl_s, e);
    if (rc == 0 && drivers != NULL)
        return read_drivers(x, drivers, e);
    if (rc == 0) {
        x->c->drivers = xcalloc(1, sizeof(*x->c->drivers));
        x->c->ndrivers = 1;
        rc = env_driver(x->home, x->c->drivers, e);
    }
    return rc;
}

static int load_file(const char *path, const char *home, const struct catalog *cat,
                     struct srv_conf **out, struct err *e)
{
    struct ydoc d;
    struct srv_conf *c = xcalloc(1, sizeof(*c));
    struct cctx x = {&d, home, cat, c};
    int rc = ydoc_load_file(&d, path, CONF_MAX_BYTES, e);

    c->path = xstrdup(path);
    c->max_body = DEFAULT_MAX_BODY;
    c->lease_s = SRV_LEASE_DEFAULT_S;
    c->displace = getenv("STRATUS_NO_DISPLACE") == NULL;
    c->commit_backfill = 1;
    c->data_ttl_s = -1;
    if (rc == 0 && d.root != NULL && !ynode_is_null(d.root))
        rc = yexpect(&d, d.root, Y_MAP, "the server configuration", e);
    if (rc == 0)
        rc = read_top(&x, d.root && d.root->type == Y_MAP ? d.root : NULL, e);
    if (rc == 0 && c->store_path == NULL)
        c->store_path = xasprintf("%s/stratus.db", home);
    ydoc_free(&d);
    if (rc != 0) {
        srv_conf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* ---- the default ---------------------------------------------------------- */

/* The driver $STRATUS_DRIVER names (else local) bound everywhere, with the
 * timing the environment sets, whatever its kind (as before the server). */
static int env_driver(const char *home, struct srv_driver_conf *dc, struct err *e)
{
    const char *name = getenv("STRATUS_DRIVER");
    char list[64], shown[64];

    if (name == NULL || *name == '\0')
        name = "local";
    dc->ops = driver_find(name);
    if (dc->ops == NULL || dc->ops == &driver_sim)
        return err_set(e, ST_EINVAL,
                       "%s driver '%s' in STRATUS_DRIVER; the drivers are: %s "
                       "(unset it for local)",
                       dc->ops ? "a server cannot run the" : "unknown",
                       str_vis(shown, sizeof(shown), name),
                       driver_list(list, sizeof(list)));
    dc->name = xstrdup(dc->ops->name);
    if (dc->ops->config_name)
        dc->config_path = xasprintf("%s/%s", home, dc->ops->config_name);
    bind_everywhere(dc);
    timing_default(&driver_local, &dc->timing);
    return 0;
}

/* Everything of the default but its driver (c->drivers: one, zeroed). */
static struct srv_conf *conf_new(const char *home)
{
    struct srv_conf *c = xcalloc(1, sizeof(*c));

    c->lease_s = SRV_LEASE_DEFAULT_S;

    default_listener(c, home);
    c->store_path = xasprintf("%s/stratus.db", home);
    c->max_body = DEFAULT_MAX_BODY;
    c->displace = getenv("STRATUS_NO_DISPLACE") == NULL;
    c->commit_backfill = 1;
    c->data_ttl_s = -1;
    c->drivers = xcalloc(1, sizeof(*c->drivers));
    c->ndrivers = 1;
    return c;
}

static int default_conf(const char *home, struct srv_conf **out, struct err *e)
{
    struct srv_conf *c = conf_new(home);
    int rc = env_driver(home, c->drivers, e);

    if (rc != 0) {
        srv_conf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

struct srv_conf *srv_conf_default(const char *home)
{
    struct srv_conf *c = conf_new(home);
    struct srv_driver_conf *dc = c->drivers;
    struct err e;

    if (env_driver(home, dc, &e) == 0)
        return c;
    /* $STRATUS_DRIVER names no driver: srv_conf_load says so; here, local */
    dc->ops = &driver_local;
    dc->name = xstrdup("local");
    dc->config_path = xasprintf("%s/local.yaml", home);
    bind_everywhere(dc);
    timing_default(&driver_local, &dc->timing);
    return c;
}

void srv_conf_free(struct srv_conf *c)
{
    size_t i, j;

    if (c == NULL)
        return;
    for (i = 0; i < c->nlisten; i++) {
        free(c->listen[i].path);
        free(c->listen[i].host);
        free(c->listen[i].tls_cert);
        free(c->listen[i].tls_key);
    }
    free(c->listen);
    for (i = 0; i < c->ndrivers; i++) {
        free(c->drivers[i].name);
        free(c->drivers[i].config_path);
        for (j = 0; j < c->drivers[i].nlocations; j++)
            free(c->drivers[i].locations[j]);
        free(c->drivers[i].locations);
    }
    free(c->drivers);
    free(c->path);
    free(c->store_path);
    free(c->catalog_dir);
    free(c->state_dir);
    free(c);
}

int srv_conf_load(const char *path, const char *home, const struct catalog *cat,
                  struct srv_conf **out, struct err *e)
{
    char *dflt = xasprintf("%s/server.yaml", home);
    int rc;

    *out = NULL;
    if (path != NULL)
        rc = load_file(path, home, cat, out, e);
    else if (access(dflt, F_OK) == 0)
        rc = load_file(dflt, home, cat, out, e);
    else
        rc = default_conf(home, out, e);
    free(dflt);
    return rc;
}

/* ---- what the server builds from a configuration ------------------------- */

int srv_conf_bindings(const struct srv_conf *c, struct multi_child **out, size_t *n)
{
    struct multi_child *ch = xcalloc(c->ndrivers ? c->ndrivers : 1, sizeof(*ch));
    size_t i;

    for (i = 0; i < c->ndrivers; i++) {
        ch[i].name = c->drivers[i].name;
        ch[i].ops = c->drivers[i].ops;
        ch[i].config_path = c->drivers[i].config_path;
        ch[i].locations = (const char *const *)c->drivers[i].locations;
        ch[i].nlocations = c->drivers[i].nlocations;
        ch[i].world = NULL;
    }
    *out = ch;
    *n = c->ndrivers;
    return 0;
}

void srv_timing_apply(const struct srv_timing *t, struct sched_config *c)
{
    c->block_cooldown_s = t->block_cooldown_s;
    c->backoff_base_s = t->backoff_base_s;
    c->backoff_max_s = t->backoff_max_s;
    c->relaunch_overhead_s = t->relaunch_overhead_s;
    c->wait_retry_s = t->wait_retry_s;
}

void srv_conf_sched_config(const struct srv_conf *c, struct sched_config *out)
{
    size_t i, j, k = 0;

    sched_config_default(out);
    out->preempt_lower_priority = c->displace;
    out->commit_backfill = c->commit_backfill;
    if (c->data_ttl_s >= 0)
        out->data_ttl_s = c->data_ttl_s;
    if (c->ndrivers == 0)
        return;
    /* the timing of "anywhere": the driver bound to "*", else the first */
    for (i = 0; i < c->ndrivers; i++)
        for (j = 0; j < c->drivers[i].nlocations; j++)
            if (strcmp(c->drivers[i].locations[j], "*") == 0)
                k = i;
    srv_timing_apply(&c->drivers[k].timing, out);
    /* not tied to a location: a waiting job is retried as often as the
     * most eager driver wants, and an idle job's changeover (the deadline
     * rule) assumes the slowest launch, the safe side */
    for (i = 0; i < c->ndrivers; i++) {
        const struct srv_timing *t = &c->drivers[i].timing;

        if (t->wait_retry_s < out->wait_retry_s)
            out->wait_retry_s = t->wait_retry_s;
        if (t->relaunch_overhead_s > out->relaunch_overhead_s)
            out->relaunch_overhead_s = t->relaunch_overhead_s;
    }
}

struct srv_cfgs {
    struct multi_world w;
    struct multi_child *ch;
    struct sched_config *cfg; /* per driver */
    struct sched_config base;
};

struct srv_cfgs *srv_cfgs_new(const struct srv_conf *c, const struct sched_config *base)
{
    struct srv_cfgs *t = xcalloc(1, sizeof(*t));
    size_t i, n;

    srv_conf_bindings(c, &t->ch, &n);
    t->w.children = t->ch;
    t->w.n = n;
    t->base = *base;
    t->cfg = xcalloc(n ? n : 1, sizeof(*t->cfg));
    for (i = 0; i < n; i++) {
        t->cfg[i] = *base;
        srv_timing_apply(&c->drivers[i].timing, &t->cfg[i]);
    }
    return t;
}

void srv_cfgs_free(struct srv_cfgs *t)
{
    if (t == NULL)
        return;
    free(t->ch);
    free(t->cfg);
    free(t);
}

const struct sched_config *srv_conf_cfg_at(void *ctx, const char *cloud,
                                           const char *region)
{
    const struct srv_cfgs *t = ctx;
    int k = multi_world_child(&t->w, cloud, region, "");

    return k < 0 ? &t->base : &t->cfg[k];
}

int srv_conf_load_all(const char *path, const char *home, struct srv_conf **out,
                      struct catalog **cat, struct err *e)
{
    struct srv_conf *c = NULL;
    char *dir;
    int rc = srv_conf_load(path, home, NULL, &c, e);

    *out = NULL;
    *cat = NULL;
    if (rc != 0)
        return rc;
    dir = c->catalog_dir ? xstrdup(c->catalog_dir) : catalog_default_dir(NULL);
    rc = catalog_load(cat, dir, e);
    free(dir);
    if (rc == 0 && c->path != NULL) {
        /* again, now that the catalog can check the locations */
        char *again = xstrdup(c->path);

        srv_conf_free(c);
        c = NULL;
        rc = srv_conf_load(again, home, *cat, &c, e);
        free(again);
    }
    if (rc != 0) {
        srv_conf_free(c);
        catalog_free(*cat);
        *cat = NULL;
        return rc;
    }
    *out = c;
    return 0;
}
