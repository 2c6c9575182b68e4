/*
 * local_conf.c - local.yaml, the shape of the emulated clouds:
 *
 *   capacity:                 # nodes per (location, instance type) offer
 *     default: 4
 *     "azure/eastus*Standard_ND96isr_H100_v5": 2
 *   preemption:
 *     notice: 2s              # PREEMPT_NOTICE to SIGKILL
 *     rates:                  # spot preemptions per node-MINUTE of wall time
 *       "gcp/us-*": 0.1       # (default 0: only injected preemptions)
 *   stockouts: ["oci/us-ashburn-1"]   # locations that refuse every launch
 *   grace: 2s                 # terminate: SIGTERM to SIGKILL
 *   seed: 1                   # wins over the controller's seed
 *
 * Keys of `capacity` and `rates` are location patterns (local_loc_match());
 * the first pattern in file order that matches an offer decides for it.
 * Every pattern must match some offer of the catalog, which catches typos
 * ("gpc/us-*") at load time instead of leaving a rule that silently never applies.
 *
 * Layout: defaults and matching; one reader per top-level key; the loader.
 */
#include "local_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#define CONF_MAX_BYTES ((size_t)1 << 20)
#define CONF_MAX_NODES 1000000L
#define CONF_MAX_RATE 1e6

void local_conf_default(struct local_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->cap_default = LOCAL_DEFAULT_CAPACITY;
    c->notice = LOCAL_DEFAULT_NOTICE;
    c->grace = LOCAL_DEFAULT_GRACE;
}

void local_conf_free(struct local_conf *c)
{
    size_t i;

    for (i = 0; i < c->ncap; i++)
        free(c->cap[i].pat);
    for (i = 0; i < c->nrate; i++)
        free(c->rate[i].pat);
    for (i = 0; i < c->nstockouts; i++)
        free(c->stockouts[i]);
    free(c->cap);
    free(c->rate);
    free(c->stockouts);
    memset(c, 0, sizeof(*c));
}

int local_loc_match(const char *pat, const char *cloud, const char *region,
                    const char *zone, const char *itype)
{
    char s[4 * LOCAL_NAME_MAX + 8];

    snprintf(s, sizeof(s), "%s/%s", cloud, region);
    if (str_glob(pat, s))
        return 1;
    if (*zone) {
        snprintf(s, sizeof(s), "%s/%s/%s", cloud, region, zone);
        if (str_glob(pat, s))
            return 1;
    }
    if (itype == NULL)
        return 0;
    snprintf(s, sizeof(s), "%s/%s/%s/%s", cloud, region, zone, itype);
    return str_glob(pat, s);
}

static const struct local_pat *first_match(const struct local_pat *v, size_t n,
                                           const char *cloud, const char *region,
                                           const char *zone, const char *itype)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (local_loc_match(v[i].pat, cloud, region, zone, itype))
            return &v[i];
    return NULL;
}

long local_conf_capacity(const struct local_conf *c, const char *cloud,
                         const char *region, const char *zone, const char *itype)
{
    const struct local_pat *m = first_match(c->cap, c->ncap, cloud, region, zone, itype);

    return m ? (long)m->v : c->cap_default;
}

double local_conf_rate(const struct local_conf *c, const char *cloud, const char *region,
                       const char *zone, const char *itype)
{
    const struct local_pat *m =
        first_match(c->rate, c->nrate, cloud, region, zone, itype);

    return m ? m->v : 0;
}

/* The catalog's "cloud/region" closest to the first two parts of pat. */
static const char *suggest_location(const struct catalog *cat, const char *pat, char *out,
                                    size_t n)
{
    size_t i, nr = catalog_nregions(cat), len = strcspn(pat, "/");
    char **names = xcalloc(nr + 1, sizeof(*names));
    const char *best;
    char want[2 * LOCAL_NAME_MAX + 2];

    if (pat[len] == '/')
        len += 1 + strcspn(pat + len + 1, "/");
    snprintf(want, sizeof(want), "%.*s", (int)len, pat);
    for (i = 0; i < nr; i++) {
        const struct region *r = catalog_region_at(cat, i);

        names[i] = xasprintf("%s/%s", r->cloud, r->name);
    }
    best = str_suggest(want, (const char *const *)names);
    if (best)
        snprintf(out, n, "%s", best);
    for (i = 0; i < nr; i++)
        free(names[i]);
    free(names);
    return best ? out : NULL;
}

int local_pat_check(const struct catalog *cat, const char *pat, const char *what,
                    struct err *e)
{
    char sug[2 * LOCAL_NAME_MAX + 2];
    size_t i, n;

    if (*pat == '\0')
        return err_set(e, ST_EINVAL, "empty %s", what);
    if (cat == NULL)
        return 0;
    n = catalog_noffers(cat);
    for (i = 0; i < n; i++) {
        const struct offer *o = catalog_offer(cat, i);

        if (local_loc_match(pat, o->cloud, o->region, o->zone, o->instance_type))
            return 0;
    }
    if (suggest_location(cat, pat, sug, sizeof(sug)))
        return err_set(e, ST_EINVAL,
                       "%s '%s' matches no offer in the catalog (did you mean '%s'?)",
                       what, pat, sug);
    return err_set(e, ST_EINVAL, "%s '%s' matches no offer in the catalog", what, pat);
}

/* ---- readers ---------------------------------------------------------- */

struct conf_ctx {
    const struct ydoc *d;
    const struct catalog *cat;
    struct local_conf *c;
};

/* A pattern key: it must match some offer; the message points at the key. */
static int read_pat(const struct conf_ctx *x, const struct ynode *key, const char *what,
                    struct err *e)
{
    struct err sub;

    err_clear(&sub);
    if (local_pat_check(x->cat, key->str, what, &sub) != 0)
        return yerr(x->d, key, sub.code, e, "%s", sub.msg);
    return 0;
}

static int read_capacity(const struct conf_ctx *x, const struct ynode *n, struct err *e)
{
    size_t i;
    int rc = yexpect(x->d, n, Y_MAP, "capacity", e);

    for (i = 0; rc == 0 && i < n->n; i++) {
        const struct ynode *k = n->keys[i];
        struct local_pat *p;
        long v;

        rc = yget_long(x->d, n->items[i], "a capacity", 0, CONF_MAX_NODES, &v, e);
        if (rc == 0 && strcmp(k->str, "default") == 0) {
            x->c->cap_default = v;
            continue;
        }
        if (rc == 0)
            rc = read_pat(x, k, "capacity pattern", e);
        if (rc != 0)
            break;
        x->c->cap = xrealloc(x->c->cap, (x->c->ncap + 1) * sizeof(*x->c->cap));
        p = &x->c->cap[x->c->ncap++];
        p->pat = xstrdup(k->str);
        p->v = (double)v;
    }
    return rc;
}

static int read_rates(const struct conf_ctx *x, const struct ynode *n, struct err *e)
{
    size_t i;
    int rc = yexpect(x->d, n, Y_MAP, "preemption.rates", e);

    for (i = 0; rc == 0 && i < n->n; i++) {
        struct local_pat *p;
        double v;

        rc = yget_double(x->d, n->items[i], "a preemption rate (per node-minute)", 0,
                         CONF_MAX_RATE, &v, e);
        if (rc == 0)
            rc = read_pat(x, n->keys[i], "preemption pattern", e);
        if (rc != 0)
            break;
        x->c->rate = xrealloc(x->c->rate, (x->c->nrate + 1) * sizeof(*x->c->rate));
        p = &x->c->rate[x->c->nrate++];
        p->pat = xstrdup(n->keys[i]->str);
        p->v = v;
    }
    return rc;
}

static int read_preemption(const struct conf_ctx *x, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"notice", "rates", NULL};
    const struct ynode *v;
    int rc = yexpect(x->d, n, Y_MAP, "preemption", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "preemption", e);
    if (rc == 0 && (v = ymap_get(n, "notice")) != NULL)
        rc = yget_duration(x->d, v, "preemption.notice", &x->c->notice, e);
    if (rc == 0 && (v = ymap_get(n, "rates")) != NULL && !ynode_is_null(v))
        rc = read_rates(x, v, e);
    return rc;
}

static int read_stockouts(const struct conf_ctx *x, const struct ynode *n, struct err *e)
{
    size_t i;
    int rc = yexpect(x->d, n, Y_SEQ, "stockouts", e);

    for (i = 0; rc == 0 && i < n->n; i++) {
        const char *s;

        rc = yget_str(x->d, n->items[i], "a stockout location", &s, e);
        if (rc == 0)
            rc = read_pat(x, n->items[i], "stockout location", e);
        if (rc != 0)
            break;
        x->c->stockouts =
            xrealloc(x->c->stockouts, (x->c->nstockouts + 1) * sizeof(*x->c->stockouts));
        x->c->stockouts[x->c->nstockouts++] = xstrdup(s);
    }
    return rc;
}

static int read_seed(const struct conf_ctx *x, const struct ynode *n, struct err *e)
{
    long v;
    int rc = yget_long(x->d, n, "seed", 0, 0x7fffffffL, &v, e);

    if (rc == 0) {
        x->c->has_seed = 1;
        x->c->seed = (uint64_t)v;
    }
    return rc;
}

static int read_conf(const struct conf_ctx *x, struct err *e)
{
    static const char *const keys[] = {"capacity", "preemption", "stockouts",
                                       "grace",    "seed",       NULL};
    const struct ynode *root = x->d->root, *v;
    int rc;

    if (ynode_is_null(root))
        return 0; /* an empty local.yaml means the defaults */
    rc = yexpect(x->d, root, Y_MAP, "local.yaml", e);
    if (rc == 0)
        rc = ymap_check_keys(x->d, root, keys, "local.yaml", e);
    if (rc == 0 && (v = ymap_get(root, "capacity")) != NULL && !ynode_is_null(v))
        rc = read_capacity(x, v, e);
    if (rc == 0 && (v = ymap_get(root, "preemption")) != NULL && !ynode_is_null(v))
        rc = read_preemption(x, v, e);
    if (rc == 0 && (v = ymap_get(root, "stockouts")) != NULL && !ynode_is_null(v))
        rc = read_stockouts(x, v, e);
    if (rc == 0 && (v = ymap_get(root, "grace")) != NULL)
        rc = yget_duration(x->d, v, "grace", &x->c->grace, e);
    if (rc == 0 && (v = ymap_get(root, "seed")) != NULL)
        rc = read_seed(x, v, e);
    return rc;
}

int local_conf_load(struct local_conf *c, const char *path, const struct catalog *cat,
                    struct err *e)
{
    struct ydoc d;
    struct conf_ctx x = {&d, cat, c};
    int rc;

    local_conf_default(c);
    rc = ydoc_load_file(&d, path, CONF_MAX_BYTES, e);
    if (rc != 0)
        return rc;
    rc = read_conf(&x, e);
    ydoc_free(&d);
    if (rc != 0)
        local_conf_free(c);
    return rc;
}
