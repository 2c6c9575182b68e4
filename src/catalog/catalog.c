/*
 * catalog.c - loading and indexing offers and regions (see catalog.h).
 *
 * Layout: the default directory; regions.csv; offers.csv with its validation
 * (one function per row); the accelerator index; accessors.  Network and
 * capacity files are in catalog_net.c.
 */
#include "catalog_int.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fields quoted in messages go through str_vis into buffers of this size, so
 * that a control byte in a CSV file never reaches the terminal raw. */
#define VIS_LEN 96

#ifndef STRATUS_SOURCE_CATALOG
#define STRATUS_SOURCE_CATALOG "catalog"
#endif
#ifndef STRATUS_INSTALL_CATALOG
#define STRATUS_INSTALL_CATALOG "/usr/local/share/stratus/catalog"
#endif

static int is_dir_with_offers(const char *dir)
{
    char *path = xasprintf("%s/offers.csv", dir);
    struct stat st;
    int ok = stat(path, &st) == 0;

    free(path);
    return ok;
}

char *catalog_default_dir(const char *argv0)
{
    const char *env = getenv("STRATUS_CATALOG");
    char exe[4096], path[4200];
    ssize_t n;

    (void)argv0;
    if (env && *env)
        return xstrdup(env);
    /* Installed layout: <prefix>/bin/stratus and <prefix>/share/stratus/catalog. */
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/../share/stratus/catalog", exe);
            if (is_dir_with_offers(path))
                return xstrdup(path);
        }
    }
    if (is_dir_with_offers(STRATUS_INSTALL_CATALOG))
        return xstrdup(STRATUS_INSTALL_CATALOG);
    return xstrdup(STRATUS_SOURCE_CATALOG);
}

int catalog_open_csv(struct catalog *cat, struct csv *c, const char *name, int optional,
                     struct err *e)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", cat->dir, name);
    if (optional && access(path, F_OK) != 0)
        return 1;
    return csv_open(c, path, 0, e);
}

/* Cloud and region names: lower-case letters, digits, '-', '_' (and '.'). */
static int valid_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
            *s != '_' && *s != '.')
            return 0;
    return 1;
}

/* ---- regions.csv ---- */

enum { R_CLOUD, R_REGION, R_LAT, R_LON, R_CONTINENT };
static const struct csv_col region_cols[] = {
    {"cloud", 1}, {"region", 1}, {"latitude", 1}, {"longitude", 1}, {"continent", 1},
};
static const char *const continents[] = {"africa",        "asia",    "europe",
                                         "middle-east",   "oceania", "north-america",
                                         "south-america", "antarctica", NULL};

static int region_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct region r;
    const char *cont = csv_get(c, R_CONTINENT);
    uint32_t idx = (uint32_t)cat->nregions;
    char v1[VIS_LEN], v2[VIS_LEN];
    size_t i;
    int rc;

    memset(&r, 0, sizeof(r));
    if (!valid_name(csv_get(c, R_CLOUD)) || !valid_name(csv_get(c, R_REGION)))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "cloud and region must be lower-case names, not '%s', '%s'",
                      str_vis(v1, sizeof(v1), csv_get(c, R_CLOUD)),
                      str_vis(v2, sizeof(v2), csv_get(c, R_REGION)));
    for (i = 0; continents[i]; i++)
        if (strcmp(cont, continents[i]) == 0)
            break;
    if (continents[i] == NULL) {
        const char *sug = str_suggest(cont, continents);

        return err_at(e, ST_EINVAL, c->path, c->line, 0, "unknown continent '%s'%s%s%s",
                      str_vis(v1, sizeof(v1), cont), sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
    if ((rc = csv_double(c, R_LAT, "latitude", NULL, &r.lat, e)) != 0 ||
        (rc = csv_double(c, R_LON, "longitude", NULL, &r.lon, e)) != 0)
        return rc;
    if (r.lat < -90 || r.lat > 90 || r.lon < -180 || r.lon > 180)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "coordinates %g,%g are outside [-90,90] x [-180,180]", r.lat, r.lon);
    r.cloud = strpool_intern(&cat->pool, csv_get(c, R_CLOUD));
    r.name = strpool_intern(&cat->pool, csv_get(c, R_REGION));
    r.continent = strpool_intern(&cat->pool, cont);
    if (keymap_put(&cat->region_ix, r.cloud, r.name, NULL, NULL, &idx))
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "duplicate region %s/%s", r.cloud,
                      r.name);
    cat->regions = xgrow(cat->regions, &cat->regions_cap, cat->nregions + 1,
                         sizeof(*cat->regions));
    cat->regions[cat->nregions++] = r;
    return 0;
}

static int load_regions(struct catalog *cat, struct err *e)
{
    struct csv c;
    int rc;

    if ((rc = catalog_open_csv(cat, &c, "regions.csv", 0, e)) != 0)
        return rc;
    rc = csv_bind(&c, region_cols, sizeof(region_cols) / sizeof(region_cols[0]), e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = region_row(cat, &c, e);
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

int catalog_need_region(struct catalog *cat, const struct csv *c, const char *cloud,
                        const char *region, uint32_t *idx, struct err *e)
{
    const char *ic = strpool_find(&cat->pool, cloud);
    const char *ir = strpool_find(&cat->pool, region);
    const char *names[64];
    const char *sug;
    char vc[VIS_LEN], vr[VIS_LEN];
    size_t i, n = 0;

    if (ic && ir && keymap_get(&cat->region_ix, ic, ir, NULL, NULL, idx))
        return 0;
    for (i = 0; i < cat->nregions && n < 63; i++)
        if (ic == cat->regions[i].cloud)
            names[n++] = cat->regions[i].name;
    names[n] = NULL;
    if (n == 0)
        return err_at(e, ST_EINVAL, c->path, c->line, csv_col_of(c, cloud),
                      "unknown cloud '%s': no region of it is in regions.csv",
                      str_vis(vc, sizeof(vc), cloud));
    sug = str_suggest(region, names);
    return err_at(e, ST_EINVAL, c->path, c->line, csv_col_of(c, region),
                  "unknown region '%s/%s' (not in regions.csv%s%s%s)",
                  str_vis(vc, sizeof(vc), cloud), str_vis(vr, sizeof(vr), region),
                  sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
}

/* ---- offers.csv ---- */

enum {
    O_CLOUD, O_REGION, O_ZONE, O_TYPE, O_ACC, O_ACC_COUNT, O_ACC_MEM, O_VCPUS, O_MEM,
    O_INTERCONNECT, O_MAX_NODES, O_PRICE, O_SPOT, O__N
};
static const struct csv_col offer_cols[O__N] = {
    {"cloud", 1},          {"region", 1},           {"zone", 0},
    {"instance_type", 1},  {"accelerator", 1},      {"accelerators_per_node", 1},
    {"accelerator_memory_gib", 0}, {"vcpus", 0},    {"memory_gib", 0},
    {"interconnect", 0},   {"max_cluster_nodes", 0}, {"price_hour", 1},
    {"spot_price_hour", 0},
};

/* A price column: empty = not sold that way (-1); negative is an error. */
static int offer_price(const struct csv *c, int col, double *out, struct err *e)
{
    static const double none = -1;
    int rc = csv_double(c, (size_t)col, offer_cols[col].name, &none, out, e);

    if (rc == 0 && *out < 0 && *csv_get(c, (size_t)col) != '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column '%s': negative price %s",
                      offer_cols[col].name, csv_get(c, (size_t)col));
    /* the dearest offer sold is about $30,000 a node-hour (a TPU pod):
     * more is a slip, and would overflow every cost */
    if (rc == 0 && *out > 1e6)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s': %s is over $1,000,000 a node-hour",
                      offer_cols[col].name, csv_get(c, (size_t)col));
    return rc;
}

static int offer_numbers(const struct csv *c, struct offer *o, struct err *e)
{
    static const double zero = 0;
    static const long lzero = 0;
    long n;
    int rc;

    /* A CPU offer (empty accelerator) may leave its count empty too; a
     * fractional one has a count between 0 and 1 (one partial accelerator). */
    if (strchr(csv_get(c, O_ACC_COUNT), '.') != NULL) {
        if ((rc = csv_double(c, O_ACC_COUNT, "accelerators_per_node", NULL, &o->acc_part,
                             e)) != 0)
            return rc;
        if (!(o->acc_part > 0 && o->acc_part <= 4096) ||
            (o->acc_part > 1 && o->acc_part != floor(o->acc_part)))
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column 'accelerators_per_node': %s is neither a whole number of "
                          "accelerators nor a share of one (between 0 and 1)",
                          csv_get(c, O_ACC_COUNT));
        o->acc_count = o->acc_part >= 1 ? (int)o->acc_part : 1;
        o->acc_part = o->acc_part >= 1 ? 0 : o->acc_part;
    } else {
        if ((rc = csv_long(c, O_ACC_COUNT, "accelerators_per_node", 0, 4096,
                           *csv_get(c, O_ACC) == '\0' ? &lzero : NULL, &n, e)) != 0)
            return rc;
        o->acc_count = (int)n;
    }
    if ((rc = csv_long(c, O_MAX_NODES, "max_cluster_nodes", 1, 1000000, &lzero, &n, e)) != 0)
        return rc;
    o->max_cluster_nodes = (int)n;
    if ((rc = csv_double(c, O_ACC_MEM, "accelerator_memory_gib", &zero, &o->acc_mem_gib, e)) ||
        (rc = csv_double(c, O_VCPUS, "vcpus", &zero, &o->vcpus, e)) ||
        (rc = csv_double(c, O_MEM, "memory_gib", &zero, &o->memory_gib, e)))
        return rc;
    if (o->acc_mem_gib < 0 || o->vcpus < 0 || o->memory_gib < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "accelerator_memory_gib, vcpus and memory_gib must not be negative");
    if ((rc = offer_price(c, O_PRICE, &o->price, e)) != 0 ||
        (rc = offer_price(c, O_SPOT, &o->spot_price, e)) != 0)
        return rc;
    if (o->price < 0 && o->spot_price < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "offer has neither price_hour nor spot_price_hour");
    return 0;
}

/* A CPU offer has an empty accelerator, no accelerators and a known shape
 * (vcpus and memory_gib, which are all a CPU task can ask for). */
static int offer_kind(const struct csv *c, const struct offer *o, struct err *e)
{
    if (*csv_get(c, O_ACC) != '\0')
        return 0;
    if (o->acc_count != 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "accelerators_per_node is %d but accelerator is empty (a CPU offer "
                      "has 0)", o->acc_count);
    if (!(o->vcpus > 0) || !(o->memory_gib > 0))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "a CPU offer (empty accelerator) needs vcpus and memory_gib");
    return 0;
}

const char *catalog_shape(char *buf, size_t n, const char *acc, int count, double part)
{
    if (part > 0)
        snprintf(buf, n, "%s:%g", acc, part);
    else
        snprintf(buf, n, "%s:%d", acc, count);
    return buf;
}

uint32_t catalog_acc_slot(struct catalog *cat, const char *acc)
{
    uint32_t ai = (uint32_t)cat->naccs;

    if (!keymap_put(&cat->acc_ix, acc, NULL, NULL, NULL, &ai)) {
        cat->accs = xgrow(cat->accs, &cat->accs_cap, cat->naccs + 1, sizeof(*cat->accs));
        memset(&cat->accs[cat->naccs], 0, sizeof(*cat->accs));
        cat->accs[cat->naccs++].name = acc;
    }
    return ai;
}

void catalog_acc_push(struct catalog *cat, uint32_t slot, uint32_t offer)
{
    struct acc_list *l = &cat->accs[slot];

    l->idx = xgrow(l->idx, &l->cap, l->n + 1, sizeof(*l->idx));
    l->idx[l->n++] = offer;
}

void catalog_acc_finish(struct catalog *cat)
{
    size_t i, n;

    /* CPU offers are indexed under "" but "" is no accelerator name. */
    cat->acc_names = xcalloc(cat->naccs + 1, sizeof(*cat->acc_names));
    for (i = 0, n = 0; i < cat->naccs; i++)
        if (*cat->accs[i].name != '\0')
            cat->acc_names[n++] = cat->accs[i].name;
}

/* Duplicate offers while parsing: a set of offer indices by the hash of
 * (region, zone, type, accelerator), 8 bytes a slot.  (The catalog's own
 * index by name, 40 bytes a slot, is built only if someone looks an offer
 * up by name: at a million offers it would be 160 MB and a third of the
 * load.) */
struct dup_set {
    uint32_t *idx1;            /* offer index + 1; 0 = empty */
    uint32_t *tag;             /* the hash's high half, to skip most compares */
    size_t cap, n;             /* cap is a power of two */
};

static uint64_t offer_key_hash(const struct catalog *cat, const struct offer *o)
{
    const void *k[4] = {&cat->regions[o->region_idx], o->zone, o->instance_type,
                        o->accelerator};
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    int i;

    for (i = 0; i < 4; i++) {
        h ^= (uint64_t)(uintptr_t)k[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    return h;
}

static int same_offer_key(const struct offer *a, const struct offer *b)
{
    return a->region_idx == b->region_idx && a->zone == b->zone &&
           a->instance_type == b->instance_type && a->accelerator == b->accelerator;
}

/* The slot of o's key: empty, or holding the offer with the same key. */
static size_t dup_slot(const struct catalog *cat, const struct dup_set *d,
                       const struct offer *o, uint64_t h)
{
    size_t j = h & (d->cap - 1);

    for (;; j = (j + 1) & (d->cap - 1))
        if (d->idx1[j] == 0 ||
            (d->tag[j] == (uint32_t)(h >> 32) && same_offer_key(&cat->offers[d->idx1[j] - 1], o)))
            return j;
}

static void dup_grow(const struct catalog *cat, struct dup_set *d)
{
    size_t i;

    free(d->idx1);
    free(d->tag);
    d->cap = d->cap ? d->cap * 2 : 1024;
    d->idx1 = xcalloc(d->cap, sizeof(*d->idx1));
    d->tag = xcalloc(d->cap, sizeof(*d->tag));
    for (i = 0; i + 1 < cat->noffers; i++) { /* all but the last: distinct */
        uint64_t h = offer_key_hash(cat, &cat->offers[i]);
        size_t j = dup_slot(cat, d, &cat->offers[i], h);

        d->idx1[j] = (uint32_t)i + 1;
        d->tag[j] = (uint32_t)(h >> 32);
    }
}

/* Add the last offer; -1, or the index of the earlier offer it repeats. */
static long dup_add(const struct catalog *cat, struct dup_set *d)
{
    const struct offer *o = &cat->offers[cat->noffers - 1];
    uint64_t h;
    size_t j;

    if ((cat->noffers + 1) * 2 > d->cap)
        dup_grow(cat, d);
    h = offer_key_hash(cat, o);
    j = dup_slot(cat, d, o, h);
    if (d->idx1[j] != 0)
        return (long)d->idx1[j] - 1;
    d->idx1[j] = (uint32_t)cat->noffers;
    d->tag[j] = (uint32_t)(h >> 32);
    return -1;
}

/* Intern a field, reusing the previous row's string of that column when
 * equal: rows come sorted, so zones, accelerators and fabrics repeat, and a
 * compare is cheaper than a hash lookup. */
static const char *intern_col(struct catalog *cat, int col, const char *s)
{
    _Static_assert(O__N <= sizeof(cat->last_col) / sizeof(cat->last_col[0]),
                   "last_col needs a slot per offers.csv column");
    const char **last = &cat->last_col[col];

    if (*last == NULL || strcmp(*last, s) != 0)
        *last = strpool_intern(&cat->pool, s);
    return *last;
}

/* The region of a row, by the same reuse. */
static int row_region(struct catalog *cat, const struct csv *c, uint32_t *idx, struct err *e)
{
    const struct region *r = cat->nregions ? &cat->regions[cat->last_region] : NULL;
    int rc;

    if (r && strcmp(r->name, csv_get(c, O_REGION)) == 0 &&
        strcmp(r->cloud, csv_get(c, O_CLOUD)) == 0) {
        *idx = cat->last_region;
        return 0;
    }
    rc = catalog_need_region(cat, c, csv_get(c, O_CLOUD), csv_get(c, O_REGION), idx, e);
    if (rc == 0)
        cat->last_region = *idx;
    return rc;
}

static int offer_row(struct catalog *cat, struct csv *c, struct dup_set *d, struct err *e)
{
    struct offer o;
    const char *ic;
    long first;
    int rc;

    memset(&o, 0, sizeof(o));
    if ((rc = row_region(cat, c, &o.region_idx, e)) != 0)
        return rc;
    if (*csv_get(c, O_TYPE) == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "instance_type must not be empty");
    if ((rc = offer_numbers(c, &o, e)) != 0 || (rc = offer_kind(c, &o, e)) != 0)
        return rc;
    ic = csv_get(c, O_INTERCONNECT);
    o.cloud = cat->regions[o.region_idx].cloud;
    o.region = cat->regions[o.region_idx].name;
    o.zone = intern_col(cat, O_ZONE, csv_get(c, O_ZONE));
    o.instance_type = intern_col(cat, O_TYPE, csv_get(c, O_TYPE));
    o.accelerator = intern_col(cat, O_ACC, csv_get(c, O_ACC));
    o.interconnect = intern_col(cat, O_INTERCONNECT, *ic ? ic : "none");
    o.line = (uint32_t)c->line;
    cat->offers = xgrow(cat->offers, &cat->offers_cap, cat->noffers + 1, sizeof(o));
    cat->offers[cat->noffers++] = o;
    /* TPU offers share one instance type (TPU-VM): the accelerator is part of
     * what makes an offer unique. */
    first = dup_add(cat, d);
    if (first >= 0) {
        char vz[VIS_LEN], vt[VIS_LEN], va[VIS_LEN];

        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "duplicate offer %s/%s/%s %s %s (first at line %u)", o.cloud, o.region,
                      str_vis(vz, sizeof(vz), o.zone), str_vis(vt, sizeof(vt), o.instance_type),
                      str_vis(va, sizeof(va), o.accelerator), cat->offers[first].line);
    }
    /* Rows come in runs of one accelerator: a hash lookup per run. */
    if (o.accelerator != cat->last_acc || cat->naccs == 0) {
        cat->last_acc = o.accelerator;
        cat->last_acc_slot = catalog_acc_slot(cat, o.accelerator);
    }
    catalog_acc_push(cat, cat->last_acc_slot, (uint32_t)cat->noffers - 1);
    return 0;
}

static int load_offers(struct catalog *cat, struct err *e)
{
    struct dup_set d = {NULL, NULL, 0, 0};
    struct csv c;
    int rc;

    if ((rc = catalog_open_csv(cat, &c, "offers.csv", 0, e)) != 0)
        return rc;
    rc = csv_bind(&c, offer_cols, O__N, e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = offer_row(cat, &c, &d, e);
    csv_close(&c);
    free(d.idx1);
    free(d.tag);
    if (rc < 0)
        return rc;
    catalog_acc_finish(cat);
    return 0;
}

struct catalog *catalog_new(const char *dir)
{
    struct catalog *cat = xcalloc(1, sizeof(*cat));

    cat->dir = xstrdup(dir);
    strpool_init(&cat->pool);
    cat->star = strpool_intern(&cat->pool, "*");
    cat->lazy = xcalloc(1, sizeof(*cat->lazy));
    pthread_mutex_init(&cat->lazy->mu, NULL);
    return cat;
}

/* Parse the CSV files; the RTT index is built on the way (it catches
 * duplicates), the offer index on first use. */
static int load_csv(struct catalog *cat, struct err *e)
{
    int rc;

    cat->lazy->rtt_built = 1;
    if ((rc = load_regions(cat, e)) != 0 || (rc = load_offers(cat, e)) != 0 ||
        (rc = catalog_load_net(cat, e)) != 0 || (rc = catalog_load_capacity(cat, e)) != 0 ||
        (rc = catalog_load_throughput(cat, e)) != 0 || (rc = catalog_load_storage(cat, e)) != 0)
        return rc;
    return 0;
}

int catalog_load(struct catalog **out, const char *dir, struct err *e)
{
    struct snap_key *key = snap_key_make(dir), *after;
    struct catalog *cat = catalog_new(dir);
    int rc;

    *out = NULL;
    if (key && snap_load(cat, key)) {
        free(key);
        *out = cat;
        return 0;
    }
    if (key) { /* a stale or corrupt snapshot may have left something */
        catalog_free(cat);
        cat = catalog_new(dir);
    }
    rc = load_csv(cat, e);
    if (rc != 0) {
        catalog_free(cat);
        free(key);
        return rc;
    }
    /* Cache what was parsed unless a file changed while it was read. */
    after = key ? snap_key_make(dir) : NULL;
    if (after && snap_key_equal(key, after))
        snap_save(cat, key);
    free(after);
    free(key);
    *out = cat;
    return 0;
}

static void build_offer_ix(const struct catalog *cat, struct keymap *m)
{
    size_t i;

    for (i = 0; i < cat->noffers; i++) {
        const struct offer *o = &cat->offers[i];
        uint32_t idx = (uint32_t)i;

        keymap_put(m, &cat->regions[o->region_idx], o->zone, o->instance_type,
                   o->accelerator, &idx);
    }
}

const struct keymap *catalog_offer_ix(const struct catalog *cat)
{
    struct catalog_lazy *lz = cat->lazy;

    pthread_mutex_lock(&lz->mu);
    if (!lz->offers_built) {
        build_offer_ix(cat, &lz->offer_ix);
        lz->offers_built = 1;
    }
    pthread_mutex_unlock(&lz->mu);
    return &lz->offer_ix;
}

/* The slowest GPU shape of a type, per kind, among those of known ratio. */
static void type_slowest(const struct catalog *cat, struct type_shape *t,
                         const struct offer *o)
{
    for (int k = 0; k < 2 && *o->accelerator; k++) {
        double thr =
            catalog_node_throughput(cat, o->accelerator, o->acc_count, o->acc_part, k);

        if (thr > 0 && (t->slow_acc[k] == NULL || thr < t->slow_thr[k])) {
            t->slow_acc[k] = o->accelerator;
            t->slow_count[k] = o->acc_count;
            t->slow_part[k] = o->acc_part;
            t->slow_thr[k] = thr;
        }
    }
}

static void type_note(const struct catalog *cat, struct catalog_lazy *lz,
                      const char *cloud, const struct offer *o)
{
    uint32_t at = (uint32_t)lz->ntypes;
    struct type_shape *t;

    if (keymap_put(&lz->type_ix, o->instance_type, cloud, NULL, NULL, &at)) {
        t = &lz->types[at]; /* known: the same accelerators? */
        t->several |= t->acc != o->accelerator || t->count != o->acc_count ||
                      t->part != o->acc_part;
        type_slowest(cat, t, o);
        return;
    }
    lz->types = xgrow(lz->types, &lz->types_cap, lz->ntypes + 1, sizeof(*lz->types));
    t = &lz->types[lz->ntypes++];
    memset(t, 0, sizeof(*t));
    t->acc = o->accelerator;
    t->count = o->acc_count;
    t->part = o->acc_part;
    type_slowest(cat, t, o);
}

int catalog_type_shape(const struct catalog *cat, const char *cloud,
                       const char *instance_type, int infer, const char **acc, int *count,
                       double *part)
{
    struct catalog_lazy *lz = cat->lazy;
    const char *it = strpool_find(&cat->pool, instance_type);
    const char *ic = cloud ? strpool_find(&cat->pool, cloud) : NULL;
    uint32_t at;
    int found;

    if (it == NULL || (cloud != NULL && ic == NULL))
        return 0;
    pthread_mutex_lock(&lz->mu);
    if (!lz->types_built) {
        for (size_t i = 0; i < cat->noffers; i++) {
            type_note(cat, lz, cat->offers[i].cloud, &cat->offers[i]);
            type_note(cat, lz, NULL, &cat->offers[i]);
        }
        lz->types_built = 1;
    }
    found = keymap_get(&lz->type_ix, it, ic, NULL, NULL, &at);
    if (found && !lz->types[at].several) {
        *acc = lz->types[at].acc;
        *count = lz->types[at].count;
        *part = lz->types[at].part;
    } else if (found && lz->types[at].slow_acc[infer != 0] != NULL) {
        const struct type_shape *t = &lz->types[at];

        *acc = t->slow_acc[infer != 0];
        *count = t->slow_count[infer != 0];
        *part = t->slow_part[infer != 0];
        found = 2;
    } else {
        found = 0;
    }
    pthread_mutex_unlock(&lz->mu);
    return found;
}

const struct keymap *catalog_rtt_ix(const struct catalog *cat)
{
    struct catalog_lazy *lz = cat->lazy;
    size_t i;

    pthread_mutex_lock(&lz->mu);
    for (i = 0; !lz->rtt_built && i < cat->nrtt; i++) {
        uint32_t idx = (uint32_t)i;

        keymap_put(&lz->rtt_ix, &cat->regions[cat->rtt_pairs[2 * i]],
                   &cat->regions[cat->rtt_pairs[2 * i + 1]], NULL, NULL, &idx);
    }
    lz->rtt_built = 1;
    pthread_mutex_unlock(&lz->mu);
    return &lz->rtt_ix;
}

void catalog_free(struct catalog *cat)
{
    size_t i;

    if (cat == NULL)
        return;
    free(cat->sold_last);
    free(cat->acc_names);
    if (cat->map) {
        if (cat->commits_heap)
            free(cat->commits);
        snap_unmap(cat); /* the arrays live in the mapped snapshot */
    } else {
        for (i = 0; i < cat->naccs; i++)
            free(cat->accs[i].idx);
        free(cat->accs);
        free(cat->offers);
        free(cat->regions);
        free(cat->egress);
        free(cat->rtt);
        free(cat->rtt_pairs);
        free(cat->preempt);
        free(cat->thr);
        free(cat->commits);
        free(cat->quotas);
        free(cat->storage);
    }
    keymap_free(&cat->lazy->offer_ix);
    keymap_free(&cat->lazy->rtt_ix);
    keymap_free(&cat->lazy->type_ix);
    free(cat->lazy->types);
    pthread_mutex_destroy(&cat->lazy->mu);
    free(cat->lazy);
    keymap_free(&cat->region_ix);
    keymap_free(&cat->acc_ix);
    strpool_free(&cat->pool);
    free(cat->dir);
    free(cat);
}

/* ---- accessors ---- */

const char *catalog_dir(const struct catalog *cat)
{
    return cat->dir;
}

size_t catalog_noffers(const struct catalog *cat)
{
    return cat->noffers;
}

/* Accelerator names SkyPilot knows (its catalogs' AcceleratorName values and
 * a few it accepts for Kubernetes and neoclouds), so that a known name the
 * catalog lacks is told apart from a typo.  TPU shapes are recognised by
 * form (known_tpu).  Matching ignores case, as SkyPilot's does. */
static const char *const known_accs[] = {
    "A10",      "A100",      "A100-80GB", "A10G",      "A40",        "A4000",
    "A5000",    "A6000",     "B200",      "B300",      "GB200",      "GB300",
    "GH200",    "H100",      "H100-MEGA", "H100-NVL",  "H200",       "K80",
    "L4",       "L40",       "L40S",      "M60",       "MI250X",     "MI300X",
    "MI325X",   "MI355X",    "P100",      "P4",        "RTX3060",    "RTX3070",
    "RTX3080",  "RTX3090",   "RTX4090",   "RTX5090",   "RTX6000",    "RTXPRO6000",
    "T4",       "T4g",       "V100",      "V100-32GB", "Inferentia", "Inferentia2",
    "Trainium", "Trainium2", "Gaudi",     NULL};

/* "tpu-v2-8", "tpu-v5litepod-16", "tpu-v6e-8": SkyPilot's TPU names. */
static int known_tpu(const char *name)
{
    static const char *const gens[] = {"v2-",  "v3-",  "v4-", "v5litepod-", "v5p-",
                                       "v5e-", "v6e-", "v7-", "v7x-",       NULL};

    if (strncasecmp(name, "tpu-", 4) != 0)
        return 0;
    for (size_t i = 0; gens[i]; i++) {
        size_t k = strlen(gens[i]);

        if (strncasecmp(name + 4, gens[i], k) == 0 && name[4 + k] != '\0' &&
            strspn(name + 4 + k, "0123456789") == strlen(name + 4 + k))
            return 1;
    }
    return 0;
}

int catalog_known_accelerator(const char *name)
{
    for (size_t i = 0; known_accs[i]; i++) {
        if (strcasecmp(name, known_accs[i]) == 0)
            return 1;
    }
    return known_tpu(name);
}

const struct offer *catalog_offer(const struct catalog *cat, size_t i)
{
    BUG_ON(i >= cat->noffers);
    return &cat->offers[i];
}

size_t catalog_nregions(const struct catalog *cat)
{
    return cat->nregions;
}

const struct region *catalog_region_at(const struct catalog *cat, size_t i)
{
    BUG_ON(i >= cat->nregions);
    return &cat->regions[i];
}

const struct region *catalog_region(const struct catalog *cat, const char *cloud,
                                    const char *region)
{
    const char *ic = strpool_find(&cat->pool, cloud);
    const char *ir = strpool_find(&cat->pool, region);
    uint32_t idx;

    if (ic && ir && keymap_get(&cat->region_ix, ic, ir, NULL, NULL, &idx))
        return &cat->regions[idx];
    return NULL;
}

const char *catalog_accelerator(const struct catalog *cat, const char *name)
{
    size_t i;

    for (i = 0; i < cat->naccs; i++)
        if (*name != '\0' && strcasecmp(cat->accs[i].name, name) == 0)
            return cat->accs[i].name;
    return NULL;
}

const char *const *catalog_accelerators(const struct catalog *cat)
{
    return cat->acc_names;
}

const uint32_t *catalog_offers_of(const struct catalog *cat, const char *accelerator,
                                  size_t *n)
{
    uint32_t ai;

    /* "" (CPU offers) need not be the interned pointer. */
    if (accelerator && *accelerator == '\0')
        accelerator = strpool_find(&cat->pool, "");
    if (!keymap_get(&cat->acc_ix, accelerator, NULL, NULL, NULL, &ai)) {
        *n = 0;
        return NULL;
    }
    *n = cat->accs[ai].n;
    return cat->accs[ai].idx;
}

const char *catalog_intern(struct catalog *cat, const char *s)
{
    return strpool_intern(&cat->pool, s);
}

int catalog_has_type(const struct catalog *cat, const char *instance_type)
{
    return strpool_find(&cat->pool, instance_type) != NULL;
}

long catalog_find_offer(const struct catalog *cat, const char *cloud, const char *region,
                        const char *zone, const char *instance_type, const char *accelerator)
{
    const struct region *r = catalog_region(cat, cloud, region);
    const char *iz = strpool_find(&cat->pool, zone ? zone : "");
    const char *it = strpool_find(&cat->pool, instance_type);
    const char *ia = strpool_find(&cat->pool, accelerator);
    uint32_t idx;

    if (r == NULL || iz == NULL || it == NULL || ia == NULL ||
        !keymap_get(catalog_offer_ix(cat), r, iz, it, ia, &idx))
        return -1;
    return (long)idx;
}

void catalog_set_price(struct catalog *cat, size_t i, double price, double spot_price)
{
    BUG_ON(i >= cat->noffers);
    if (cat->offers[i].price == price && cat->offers[i].spot_price == spot_price)
        return;
    if (cat->offers[i].price >= 0 && price < 0) {
        if (cat->sold_last == NULL) {
            size_t k;

            cat->sold_last = xmalloc(cat->noffers * sizeof(*cat->sold_last));
            for (k = 0; k < cat->noffers; k++)
                cat->sold_last[k] = -1;
        }
        cat->sold_last[i] = cat->offers[i].price;
    }
    cat->offers[i].price = price;
    cat->offers[i].spot_price = spot_price;
    cat->price_version++;
}

unsigned long catalog_price_version(const struct catalog *cat)
{
    return cat->price_version;
}

double *catalog_prices_save(const struct catalog *cat)
{
    double *v = xcalloc(2 * cat->noffers + 1, sizeof(*v));
    size_t i;

    for (i = 0; i < cat->noffers; i++) {
        v[2 * i] = cat->offers[i].price;
        v[2 * i + 1] = cat->offers[i].spot_price;
    }
    return v;
}

void catalog_prices_restore(struct catalog *cat, double *saved)
{
    size_t i;

    for (i = 0; i < cat->noffers; i++)
        catalog_set_price(cat, i, saved[2 * i], saved[2 * i + 1]);
    free(saved);
    free(cat->sold_last); /* the prices are as they were: so is their past */
    cat->sold_last = NULL;
}

double catalog_od_price_last(const struct catalog *cat, size_t i)
{
    BUG_ON(i >= cat->noffers);
    if (cat->offers[i].price >= 0 || cat->sold_last == NULL)
        return cat->offers[i].price;
    return cat->sold_last[i];
}
