/*
 * catalog_net.c - the optional catalog files: egress prices, measured and
 * modelled latency, spot preemption rates, commitments, quotas and the
 * accelerators' relative throughput.
 *
 * Each file has a column schema, a row function that validates one row with
 * file:line errors, and a lookup.  Missing files fall back to documented
 * defaults (egress 0, RTT by a speed-of-light-in-fibre model, one default
 * preemption rate; no throughput ratios).
 */
#define _GNU_SOURCE /* timegm */
#include "catalog_int.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Defaults when the catalog has no latency_model.csv / no matching rule. */
#define DEFAULT_RTT_INTERCEPT_MS 5.0
#define DEFAULT_RTT_MS_PER_KM 0.02 /* ~2x the 0.01 ms/km of light in fibre */
#define DEFAULT_PREEMPT_RATE 0.05  /* per node-hour; see catalog/SOURCE.md */

typedef int (*row_fn)(struct catalog *cat, struct csv *c, struct err *e);

/* Read one optional file with a schema, calling fn per row. */
static int load_file(struct catalog *cat, const char *name, const struct csv_col *cols,
                     size_t ncols, row_fn fn, struct err *e)
{
    struct csv c;
    int rc = catalog_open_csv(cat, &c, name, 1, e);

    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    rc = csv_bind(&c, cols, ncols, e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = fn(cat, &c, e);
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

/* An interned pattern field: empty means "*". */
static const char *pattern(struct catalog *cat, const char *s)
{
    return *s ? strpool_intern(&cat->pool, s) : cat->star;
}

/* ---- egress.csv ---- */

enum { E_KIND, E_SCLOUD, E_SREGION, E_DCLOUD, E_DREGION, E_PRICE, E_NOTE };
static const struct csv_col egress_cols[] = {
    {"kind", 1},       {"src_cloud", 1}, {"src_region", 0}, {"dst_cloud", 1},
    {"dst_region", 0}, {"price_per_gb", 1}, {"note", 0},
};
static const char *const egress_kinds[] = {"same_region", "inter_region", "inter_cloud",
                                           NULL};

static int egress_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct egress_rule r;
    const char *kind = csv_get(c, E_KIND);
    int rc, i;

    memset(&r, 0, sizeof(r));
    for (i = 0; egress_kinds[i]; i++)
        if (strcmp(kind, egress_kinds[i]) == 0)
            break;
    if (egress_kinds[i] == NULL)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "kind must be same_region, inter_region or inter_cloud, not '%s'",
                      kind);
    r.kind = i;
    if ((rc = csv_double(c, E_PRICE, "price_per_gb", NULL, &r.price, e)) != 0)
        return rc;
    if (r.price < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "negative price_per_gb");
    r.scloud = pattern(cat, csv_get(c, E_SCLOUD));
    r.sregion = pattern(cat, csv_get(c, E_SREGION));
    r.dcloud = pattern(cat, csv_get(c, E_DCLOUD));
    r.dregion = pattern(cat, csv_get(c, E_DREGION));
    r.specificity = (r.scloud != cat->star) + (r.sregion != cat->star) +
                    (r.dcloud != cat->star) + (r.dregion != cat->star);
    cat->egress = xrealloc(cat->egress, (cat->negress + 1) * sizeof(r));
    cat->egress[cat->negress++] = r;
    return 0;
}

static int pat_ok(const char *pat, const char *s)
{
    return strcmp(pat, "*") == 0 || str_glob(pat, s);
}

double catalog_egress_per_gb(const struct catalog *cat, const char *scloud,
                             const char *sregion, const char *dcloud, const char *dregion)
{
    int kind = strcmp(scloud, dcloud) != 0   ? EGRESS_INTER_CLOUD
               : strcmp(sregion, dregion) != 0 ? EGRESS_INTER_REGION
                                               : EGRESS_SAME_REGION;
    const struct egress_rule *best = NULL;
    size_t i;

    for (i = 0; i < cat->negress; i++) {
        const struct egress_rule *r = &cat->egress[i];

        if (r->kind != kind || !pat_ok(r->scloud, scloud) || !pat_ok(r->sregion, sregion) ||
            !pat_ok(r->dcloud, dcloud) || !pat_ok(r->dregion, dregion))
            continue;
        if (best == NULL || r->specificity > best->specificity)
            best = r;
    }
    return best ? best->price : 0.0;
}

/* Great-circle km between two catalog regions. */
static double region_km(const struct region *a, const struct region *b)
{
    return geo_km(a->lat, a->lon, b->lat, b->lon);
}

void catalog_egress_relax(const struct catalog *cat, double *d, uint32_t *via, double *km)
{
    size_t n = catalog_nregions(cat), i, k;
    char *done = xcalloc(n + 1, 1);

    for (k = 0; k < n; k++) {
        size_t u = n;
        const struct region *a;

        for (i = 0; i < n; i++)
            if (!done[i] && (u == n || d[i] < d[u]))
                u = i;
        if (u == n)
            break;
        done[u] = 1;
        a = catalog_region_at(cat, u);
        for (i = 0; i < n; i++) {
            const struct region *b;
            double c;

            if (done[i] || d[u] >= d[i])
                continue; /* no move costs less than nothing */
            b = catalog_region_at(cat, i);
            c = d[u] + catalog_egress_per_gb(cat, a->cloud, a->name, b->cloud, b->name);
            /* of chains that cost the same, the shorter way round the world
             * (egress.csv prices intercontinental moves as others) */
            if (c < d[i] - 1e-12 ||
                (km != NULL && c < d[i] + 1e-12 && km[u] + region_km(a, b) < km[i] - 1)) {
                d[i] = c;
                if (via)
                    via[i] = (uint32_t)u;
                if (km)
                    km[i] = km[u] + region_km(a, b);
            }
        }
    }
    free(done);
}

void catalog_egress_routes(const struct catalog *cat, size_t src, double *d, uint32_t *via)
{
    const struct region *a = catalog_region_at(cat, src);
    size_t n = catalog_nregions(cat), i;
    double *km = via ? xmalloc((n + 1) * sizeof(*km)) : NULL;

    for (i = 0; i < n; i++) {
        const struct region *b = catalog_region_at(cat, i);

        d[i] = i == src ? 0 : catalog_egress_per_gb(cat, a->cloud, a->name, b->cloud, b->name);
        if (via) {
            via[i] = (uint32_t)src;
            km[i] = region_km(a, b);
        }
    }
    catalog_egress_relax(cat, d, via, km);
    free(km);
}

const double *catalog_routes_row(struct egress_routes *r, const struct catalog *cat,
                                 size_t src, const uint32_t **via)
{
    size_t n = catalog_nregions(cat);

    if (n > EGRESS_ROUTES_MAX)
        return NULL;
    if (r->cat != cat || r->n != n) {
        catalog_routes_free(r);
        r->d = xmalloc(n * n * sizeof(*r->d));
        r->via = xmalloc(n * n * sizeof(*r->via));
        r->made = xcalloc(n + 1, 1);
        r->cat = cat;
        r->n = n;
    }
    if (!r->made[src]) {
        catalog_egress_routes(cat, src, &r->d[src * n], &r->via[src * n]);
        r->made[src] = 1;
    }
    if (via)
        *via = &r->via[src * n];
    return &r->d[src * n];
}

size_t catalog_route_hops(const uint32_t *via, size_t dst, uint32_t *hops, size_t max)
{
    uint32_t back[64], v;
    size_t k = 0, i;

    /* backwards from dst; the chain ends at the source, whose via is itself */
    for (v = via[dst]; k < sizeof(back) / sizeof(back[0]) && via[v] != v; v = via[v])
        back[k++] = v;
    for (i = 0; i < k && i < max; i++)
        hops[i] = back[k - 1 - i];
    return i;
}

void catalog_route_text(const struct catalog *cat, const uint32_t *hops, size_t n, char *buf,
                        size_t len)
{
    size_t i, off = 0;

    if (len > 0)
        buf[0] = '\0';
    for (i = 0; i < n && off < len; i++) {
        const struct region *h = catalog_region_at(cat, hops[i]);

        off += (size_t)snprintf(buf + off, len - off, "%s%s/%s", i ? ", " : " by way of ",
                                h->cloud, h->name);
    }
}

void catalog_routes_free(struct egress_routes *r)
{
    free(r->d);
    free(r->via);
    free(r->made);
    memset(r, 0, sizeof(*r));
}

/* ---- latency.csv and latency_model.csv ---- */

enum { L_ACLOUD, L_AREGION, L_BCLOUD, L_BREGION, L_RTT };
static const struct csv_col latency_cols[] = {
    {"src_cloud", 1}, {"src_region", 1}, {"dst_cloud", 1}, {"dst_region", 1}, {"rtt_ms", 1},
};

static int latency_row(struct catalog *cat, struct csv *c, struct err *e)
{
    uint32_t a, b, idx = (uint32_t)cat->nrtt;
    double rtt;
    int rc;

    if ((rc = catalog_need_region(cat, c, csv_get(c, L_ACLOUD), csv_get(c, L_AREGION), &a,
                                  e)) != 0 ||
        (rc = catalog_need_region(cat, c, csv_get(c, L_BCLOUD), csv_get(c, L_BREGION), &b,
                                  e)) != 0 ||
        (rc = csv_double(c, L_RTT, "rtt_ms", NULL, &rtt, e)) != 0)
        return rc;
    if (rtt < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "negative rtt_ms");
    if (keymap_put(&cat->lazy->rtt_ix, &cat->regions[a], &cat->regions[b], NULL, NULL, &idx))
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "duplicate pair %s/%s -> %s/%s",
                      cat->regions[a].cloud, cat->regions[a].name, cat->regions[b].cloud,
                      cat->regions[b].name);
    cat->rtt = xgrow(cat->rtt, &cat->rtt_cap, cat->nrtt + 1, sizeof(*cat->rtt));
    cat->rtt_pairs = xgrow(cat->rtt_pairs, &cat->rtt_pairs_cap, 2 * cat->nrtt + 2,
                           sizeof(*cat->rtt_pairs));
    cat->rtt_pairs[2 * cat->nrtt] = a;
    cat->rtt_pairs[2 * cat->nrtt + 1] = b;
    cat->rtt[cat->nrtt++] = (float)rtt;
    return 0;
}

enum { M_INTERCEPT, M_PER_KM, M_PAIRS, M_R2, M_MAE };
static const struct csv_col model_cols[] = {
    {"intercept_ms", 1}, {"ms_per_km", 1}, {"fit_pairs", 0}, {"r2", 0},
    {"median_abs_error_ms", 0},
};

static int model_row(struct catalog *cat, struct csv *c, struct err *e)
{
    int rc;

    if ((rc = csv_double(c, M_INTERCEPT, "intercept_ms", NULL, &cat->lat_intercept_ms, e)) ||
        (rc = csv_double(c, M_PER_KM, "ms_per_km", NULL, &cat->lat_ms_per_km, e)))
        return rc;
    if (cat->lat_ms_per_km <= 0 || cat->lat_intercept_ms < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "the latency model needs ms_per_km > 0 and intercept_ms >= 0");
    return 0;
}

double geo_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0, earth_km = 6371.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    return 2 * earth_km * asin(fmin(1.0, sqrt(a)));
}

double catalog_rtt_ms(const struct catalog *cat, const char *acloud, const char *aregion,
                      const char *bcloud, const char *bregion, int *measured)
{
    const struct region *a = catalog_region(cat, acloud, aregion);
    const struct region *b = catalog_region(cat, bcloud, bregion);
    const struct keymap *ix;
    uint32_t idx;

    if (measured)
        *measured = 0;
    if (a == NULL || b == NULL)
        return -1;
    ix = catalog_rtt_ix(cat);
    if (keymap_get(ix, a, b, NULL, NULL, &idx) || keymap_get(ix, b, a, NULL, NULL, &idx)) {
        if (measured)
            *measured = 1;
        return cat->rtt[idx];
    }
    return cat->lat_intercept_ms + cat->lat_ms_per_km * geo_km(a->lat, a->lon, b->lat, b->lon);
}

/* ---- preemption.csv ---- */

enum { P_CLOUD, P_REGION, P_ACC, P_RATE, P_SOURCE };
static const struct csv_col preempt_cols[] = {
    {"cloud", 1}, {"region", 1}, {"accelerator", 1}, {"rate_per_hour", 1}, {"source", 0},
};

static int preempt_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct preempt_rule r;
    int rc;

    memset(&r, 0, sizeof(r));
    if ((rc = csv_double(c, P_RATE, "rate_per_hour", NULL, &r.rate, e)) != 0)
        return rc;
    if (r.rate < 0 || r.rate > 100)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "rate_per_hour must be in [0, 100], not %g", r.rate);
    r.cloud = pattern(cat, csv_get(c, P_CLOUD));
    r.region = pattern(cat, csv_get(c, P_REGION));
    r.accelerator = pattern(cat, csv_get(c, P_ACC));
    r.specificity = (r.cloud != cat->star) * 4 + (r.region != cat->star) * 2 +
                    (r.accelerator != cat->star);
    cat->preempt = xrealloc(cat->preempt, (cat->npreempt + 1) * sizeof(r));
    cat->preempt[cat->npreempt++] = r;
    return 0;
}

double catalog_preempt_rate(const struct catalog *cat, const struct offer *o)
{
    const struct preempt_rule *best = NULL;
    size_t i;

    for (i = 0; i < cat->npreempt; i++) {
        const struct preempt_rule *r = &cat->preempt[i];

        if (!pat_ok(r->cloud, o->cloud) || !pat_ok(r->region, o->region) ||
            !pat_ok(r->accelerator, o->accelerator))
            continue;
        if (best == NULL || r->specificity > best->specificity)
            best = r;
    }
    return best ? best->rate : cat->preempt_default;
}

size_t catalog_npreempt(const struct catalog *cat)
{
    return cat->npreempt;
}

int catalog_load_net(struct catalog *cat, struct err *e)
{
    int rc;

    cat->lat_intercept_ms = DEFAULT_RTT_INTERCEPT_MS;
    cat->lat_ms_per_km = DEFAULT_RTT_MS_PER_KM;
    cat->preempt_default = DEFAULT_PREEMPT_RATE;
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
    if ((rc = load_file(cat, "egress.csv", egress_cols, NCOLS(egress_cols), egress_row,
                        e)) != 0 ||
        (rc = load_file(cat, "latency.csv", latency_cols, NCOLS(latency_cols), latency_row,
                        e)) != 0 ||
        (rc = load_file(cat, "latency_model.csv", model_cols, NCOLS(model_cols), model_row,
                        e)) != 0)
        return rc;
    return load_file(cat, "preemption.csv", preempt_cols, NCOLS(preempt_cols), preempt_row,
                     e);
}

/* ---- commitments.csv and quotas.csv ----
 *
 * A commitment row (docs/commitments.md): cloud, region, zone (optional),
 * instance_type, nodes (the old files' `count` is read too), a window given
 * as start + term or as start/end, and either price_hour or discount off
 * the offer's on-demand list price.  Errors point at the column (its byte
 * column in the row, exact for unquoted fields) and say what to write.
 */

enum {
    C_CLOUD, C_REGION, C_ZONE, C_TYPE, C_NODES, C_COUNT, C_TERM, C_START, C_END, C_PRICE,
    C_DISCOUNT
};
static const struct csv_col commit_cols[] = {
    {"cloud", 1}, {"region", 1}, {"zone", 0},       {"instance_type", 1},
    {"nodes", 0}, {"count", 0},  {"term", 0},       {"start", 0},
    {"end", 0},   {"price_hour", 0}, {"discount", 0},
};

/* The 1-based byte column where schema column i starts in the current row
 * (0 when the file has no such column). */
static size_t field_col(const struct csv *c, size_t i)
{
    size_t col = 1;
    int k;

    if (i >= CSV_MAX_FIELDS || c->map[i] < 0)
        return 0;
    for (k = 0; k < c->map[i] && (size_t)k < c->nfields; k++)
        col += strlen(c->field[k]) + 1;
    return col;
}

/* "YYYY-MM-DD" (or with "THH:MM:SSZ"), a day of the calendar from 2000 on,
 * to unix seconds; empty is 0 (open). */
static int parse_date(const struct csv *c, size_t col, const char *name, double *out,
                      struct err *e)
{
    const char *s = csv_get(c, col);
    struct tm tm, back;
    const char *end;
    time_t t;

    *out = 0;
    if (*s == '\0')
        return 0;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end && *end == 'T')
        end = strptime(end, "T%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, col),
                      "column '%s': '%s' is not a date like 2026-01-31", name, s);
    back = tm;
    t = timegm(&back); /* normalises back: 2024-02-30 becomes March 1 */
    if (back.tm_mday != tm.tm_mday ||
        back.tm_mon != tm.tm_mon || back.tm_year != tm.tm_year)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, col),
                      "column '%s': '%s' is not a day of the calendar", name, s);
    if (tm.tm_year < 100)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, col),
                      "column '%s': '%s' is before 2000; give the commitment's own date",
                      name, s);
    *out = (double)t;
    return 0;
}

/* start + a term of N years (y), months (m) or days (d), by the calendar. */
static int term_end(const struct csv *c, double start, double *end, struct err *e)
{
    const char *s = csv_get(c, C_TERM);
    char *rest;
    long n = strtol(s, &rest, 10);
    time_t t = (time_t)start;
    struct tm tm;

    if (rest == s || n < 1 || n > 100 || rest[0] == '\0' || rest[1] != '\0' ||
        strchr("ymd", rest[0]) == NULL)
        return err_at(
            e, ST_EINVAL, c->path, c->line, field_col(c, C_TERM),
            "column 'term': '%s' is not a term like 1y, 3y, 6m or 90d (a number "
            "from 1 to 100, then y, m or d)",
            s);
    if (start <= 0)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_TERM),
                      "a term needs a start date (column 'start', like 2026-01-01)");
    gmtime_r(&t, &tm);
    if (rest[0] == 'y')
        tm.tm_year += (int)n;
    else if (rest[0] == 'm')
        tm.tm_mon += (int)n;
    else
        tm.tm_mday += (int)n;
    *end = (double)timegm(&tm);
    return 0;
}

/* nodes, or the old name count: exactly one of them. */
static int commit_nodes(const struct csv *c, long *nodes, struct err *e)
{
    int has_n = *csv_get(c, C_NODES) != '\0', has_c = *csv_get(c, C_COUNT) != '\0';

    if (has_n == has_c)
        return err_at(e, ST_EINVAL, c->path, c->line,
                      field_col(c, has_n ? C_COUNT : C_NODES),
                      has_n ? "give 'nodes' or its old name 'count', not both"
                            : "missing 'nodes': how many nodes are committed");
    return csv_long(c, has_n ? C_NODES : C_COUNT, has_n ? "nodes" : "count", 1, 1000000, NULL,
                    nodes, e);
}

/* The window: start, and an end from `end` or from `term` (not both). */
static int commit_window(const struct csv *c, struct commitment *m, struct err *e)
{
    int rc = parse_date(c, C_START, "start", &m->start, e);

    if (rc != 0)
        return rc;
    if (*csv_get(c, C_TERM) && *csv_get(c, C_END))
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_END),
                      "give 'term' or 'end', not both");
    rc = *csv_get(c, C_TERM) ? term_end(c, m->start, &m->end, e)
                             : parse_date(c, C_END, "end", &m->end, e);
    if (rc == 0 && m->end && m->end <= m->start)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_END),
                      "the end (%s) is not after the start (%s): check the dates, or "
                      "give a term (1y, 3y) instead of an end",
                      *csv_get(c, C_END) ? csv_get(c, C_END) : csv_get(c, C_TERM),
                      csv_get(c, C_START));
    return rc;
}

/* "0.37" or "37%": a fraction in [0, 1). */
static int parse_discount(const struct csv *c, double *out, struct err *e)
{
    const char *s = csv_get(c, C_DISCOUNT);
    char *rest;
    double v = strtod(s, &rest);

    if (rest != s && rest[0] == '%' && rest[1] == '\0')
        v /= 100, rest++;
    if (rest == s || *rest != '\0' || !(v >= 0 && v < 1))
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_DISCOUNT),
                      "column 'discount': '%s' is not a fraction in [0, 1) like 0.37 "
                      "or a percentage like 37%%",
                      s);
    *out = v;
    return 0;
}

/* The least on-demand list price of the offers m covers; -1 = none of them
 * is sold on demand; -2 = m covers no offer at all. */
static double list_price(const struct catalog *cat, const struct commitment *m)
{
    double best = -1;
    int found = 0;
    size_t i;

    for (i = 0; i < cat->noffers; i++) {
        const struct offer *o = &cat->offers[i];

        if (!catalog_commitment_covers(m, o))
            continue;
        found = 1;
        if (o->price >= 0 && (best < 0 || o->price < best))
            best = o->price;
    }
    return found ? best : -2;
}

/* No node costs this much an hour (an 8-GPU node is about $100): a larger
 * price_hour is a slip of the keyboard, and its fees would overflow every
 * total. */
#define COMMIT_PRICE_MAX 100000.0

/* price_hour, or discount off the list price: exactly one of them. */
static int commit_price(const struct csv *c, struct commitment *m, double list, struct err *e)
{
    int has_p = *csv_get(c, C_PRICE) != '\0', has_d = *csv_get(c, C_DISCOUNT) != '\0';
    int rc;

    if (has_p == has_d)
        return err_at(e, ST_EINVAL, c->path, c->line,
                      field_col(c, has_p ? C_DISCOUNT : C_PRICE),
                      has_p ? "give 'price_hour' or 'discount', not both"
                            : "missing price: give 'price_hour' ($/node-hour) or 'discount' "
                              "(off the on-demand list price, like 0.37)");
    if (has_p) {
        if ((rc = csv_double(c, C_PRICE, "price_hour", NULL, &m->price_hour, e)) != 0)
            return rc;
        if (!(m->price_hour >= 0 && m->price_hour <= COMMIT_PRICE_MAX))
            return err_at(
                e, ST_EINVAL, c->path, c->line, field_col(c, C_PRICE),
                "price_hour must be from 0 to %g (USD per committed node-hour), "
                "not %s",
                COMMIT_PRICE_MAX, csv_get(c, C_PRICE));
        return 0;
    }
    if ((rc = parse_discount(c, &m->discount, e)) != 0)
        return rc;
    if (list < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_DISCOUNT),
                      "%s is not sold on demand in %s/%s: a discount needs a list price "
                      "(give price_hour instead)",
                      m->instance_type, m->cloud, m->region);
    m->price_hour = list * (1 - m->discount);
    if (!(m->price_hour <= COMMIT_PRICE_MAX))
        return err_at(
            e, ST_EINVAL, c->path, c->line, field_col(c, C_DISCOUNT),
            "%s's list price in %s/%s ($%g a node-hour) less the discount is over "
            "$%g: check offers.csv, or give price_hour",
            m->instance_type, m->cloud, m->region, list, COMMIT_PRICE_MAX);
    return 0;
}

/* m names a zone that does not sell its instance type: at the zone's
 * column, the zones that do (or that the region has none in the catalog);
 * 0 when the type is not sold in the region at all (not the zone's fault). */
static int zone_error(const struct catalog *cat, const struct csv *c,
                      const struct commitment *m, struct err *e)
{
    char zones[256] = "";
    size_t i, len = 0;
    int any = 0, n;

    for (i = 0; i < cat->noffers; i++) {
        const struct offer *o = &cat->offers[i];

        if (!catalog_commitment_in_group(m, o))
            continue;
        any = 1;
        if (*o->zone == '\0' || strstr(zones, o->zone) != NULL)
            continue;
        n = snprintf(zones + len, sizeof(zones) - len, "%s%s", len ? ", " : "", o->zone);
        if (n < 0 || (size_t)n >= sizeof(zones) - len) { /* full: what fits, ended */
            snprintf(zones + (len < sizeof(zones) - 4 ? len : sizeof(zones) - 4), 4,
                     "...");
            len = sizeof(zones) - 1;
            break;
        }
        len += (size_t)n;
    }
    if (!any)
        return 0;
    if (len == 0)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_ZONE),
                      "%s/%s has no zones in the catalog: leave zone empty for a "
                      "commitment of the region",
                      m->cloud, m->region);
    return err_at(
        e, ST_EINVAL, c->path, c->line, field_col(c, C_ZONE),
        "%s is not sold in zone %s of %s/%s; its zones there: %s (or leave zone "
        "empty for a commitment of the region)",
        m->instance_type, m->zone, m->cloud, m->region, zones);
}

static int commit_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct commitment m;
    uint32_t ri;
    long count;
    double list;
    int rc;

    memset(&m, 0, sizeof(m));
    if ((rc = catalog_need_region(cat, c, csv_get(c, C_CLOUD), csv_get(c, C_REGION), &ri,
                                  e)) != 0 ||
        (rc = commit_nodes(c, &count, e)) != 0 || (rc = commit_window(c, &m, e)) != 0)
        return rc;
    m.cloud = cat->regions[ri].cloud;
    m.region = cat->regions[ri].name;
    m.zone = strpool_intern(&cat->pool, csv_get(c, C_ZONE));
    m.instance_type = strpool_intern(&cat->pool, csv_get(c, C_TYPE));
    m.count = (int)count;
    m.line = (uint32_t)c->line;
    /* A commitment must name something that is sold there (any zone if none given). */
    list = list_price(cat, &m);
    if (list < -1.5 && *m.zone && (rc = zone_error(cat, c, &m, e)) != 0)
        return rc;
    if (list < -1.5)
        return err_at(e, ST_EINVAL, c->path, c->line, field_col(c, C_TYPE),
                      "no offer %s in %s/%s to commit to (see `stratus offers`)",
                      m.instance_type, m.cloud, m.region);
    if ((rc = commit_price(c, &m, list, e)) != 0)
        return rc;
    cat->commits = xrealloc(cat->commits, (cat->ncommits + 1) * sizeof(m));
    cat->commits[cat->ncommits++] = m;
    return 0;
}

int catalog_commitment_in_group(const struct commitment *m, const struct offer *o)
{
    return m->cloud == o->cloud && m->region == o->region &&
           m->instance_type == o->instance_type;
}

int catalog_commitment_covers(const struct commitment *m, const struct offer *o)
{
    return catalog_commitment_in_group(m, o) && (*m->zone == '\0' || m->zone == o->zone);
}

int catalog_offer_at(const struct offer *o, const char *loc)
{
    size_t nc = strlen(o->cloud), nr = strlen(o->region);

    if (strncmp(loc, o->cloud, nc) != 0 || loc[nc] != '/' ||
        strncmp(loc + nc + 1, o->region, nr) != 0)
        return 0;
    loc += nc + 1 + nr;
    return *loc == '\0' || (*loc == '/' && strcmp(loc + 1, o->zone) == 0);
}

static double least_price(const struct catalog *cat, const char *cloud,
                          const char *region, const char *instance_type, int last)
{
    double best = -1;
    size_t i;

    for (i = 0; cat != NULL && i < catalog_noffers(cat); i++) {
        const struct offer *f = catalog_offer(cat, i);
        double p = last ? catalog_od_price_last(cat, i) : f->price;

        if (p >= 0 && strcmp(f->cloud, cloud) == 0 && strcmp(f->region, region) == 0 &&
            strcmp(f->instance_type, instance_type) == 0 && (best < 0 || p < best))
            best = p;
    }
    return best;
}

double catalog_list_price(const struct catalog *cat, const char *cloud,
                          const char *region, const char *instance_type)
{
    return least_price(cat, cloud, region, instance_type, 0);
}

double catalog_list_price_last(const struct catalog *cat, const char *cloud,
                               const char *region, const char *instance_type)
{
    return least_price(cat, cloud, region, instance_type, 1);
}

double catalog_commitment_hours(const struct commitment *m, double from, double to)
{
    double a = m->start > from ? m->start : from;
    double z = m->end > 0 && m->end < to ? m->end : to;

    return z > a ? m->count * (z - a) / 3600.0 : 0;
}

double catalog_commitment_cost(const struct commitment *m, double from, double to)
{
    return m->price_hour * catalog_commitment_hours(m, from, to);
}

int catalog_load_commitments(struct catalog *cat, const char *path, struct err *e)
{
    struct commitment *old = cat->commits;
    size_t nold = cat->ncommits;
    struct csv c;
    int rc = csv_open(&c, path, 16 << 20, e);

    if (rc != 0)
        return rc;
    cat->commits = NULL;
    cat->ncommits = 0;
    rc = csv_bind(&c, commit_cols, NCOLS(commit_cols), e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = commit_row(cat, &c, e);
    csv_close(&c);
    if (rc < 0) {
        free(cat->commits);
        cat->commits = old;
        cat->ncommits = nold;
        return rc;
    }
    if (cat->map == NULL || cat->commits_heap)
        free(old);
    cat->commits_heap = 1;
    return 0;
}

enum { Q_CLOUD, Q_REGION, Q_ACC, Q_LIMIT };
static const struct csv_col quota_cols[] = {
    {"cloud", 1}, {"region", 1}, {"accelerator", 1}, {"limit", 1},
};

static int quota_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct quota q;
    const char *acc;
    uint32_t ri;
    int rc;

    memset(&q, 0, sizeof(q));
    if (strcmp(csv_get(c, Q_REGION), "*") != 0 &&
        (rc = catalog_need_region(cat, c, csv_get(c, Q_CLOUD), csv_get(c, Q_REGION), &ri,
                                  e)) != 0)
        return rc;
    if ((rc = csv_long(c, Q_LIMIT, "limit", 0, 100000000, NULL, &q.limit, e)) != 0)
        return rc;
    acc = catalog_accelerator(cat, csv_get(c, Q_ACC));
    if (acc == NULL) {
        const char *sug = str_suggest(csv_get(c, Q_ACC), cat->acc_names);

        return err_at(e, ST_EINVAL, c->path, c->line, 0, "unknown accelerator '%s'%s%s%s",
                      csv_get(c, Q_ACC), sug ? " (did you mean '" : "", sug ? sug : "",
                      sug ? "'?)" : "");
    }
    q.cloud = strpool_intern(&cat->pool, csv_get(c, Q_CLOUD));
    q.region = strpool_intern(&cat->pool, csv_get(c, Q_REGION));
    q.accelerator = acc;
    cat->quotas = xrealloc(cat->quotas, (cat->nquotas + 1) * sizeof(q));
    cat->quotas[cat->nquotas++] = q;
    return 0;
}

int catalog_load_capacity(struct catalog *cat, struct err *e)
{
    int rc = load_file(cat, "commitments.csv", commit_cols, NCOLS(commit_cols), commit_row,
                       e);

    if (rc != 0)
        return rc;
    return load_file(cat, "quotas.csv", quota_cols, NCOLS(quota_cols), quota_row, e);
}

size_t catalog_ncommitments(const struct catalog *cat)
{
    return cat->ncommits;
}

const struct commitment *catalog_commitment(const struct catalog *cat, size_t i)
{
    BUG_ON(i >= cat->ncommits);
    return &cat->commits[i];
}

const struct quota *catalog_quota(const struct catalog *cat, const char *cloud,
                                  const char *region, const char *accelerator)
{
    const struct quota *best = NULL;
    size_t i;

    /* A region's own quota beats a cloud-wide one. */
    for (i = 0; i < cat->nquotas; i++) {
        const struct quota *q = &cat->quotas[i];

        if (q->accelerator != accelerator || strcmp(q->cloud, cloud) != 0)
            continue;
        if (strcmp(q->region, region) == 0)
            return q;
        if (strcmp(q->region, "*") == 0)
            best = q;
    }
    return best;
}

/* ---- throughput.csv ---- */

enum { T_ACC, T_TRAIN, T_INFER, T_CORES, T_SOURCE, T_NOTE };
static const struct csv_col thr_cols[] = {
    {"accelerator", 1}, {"train", 1},  {"infer", 1},
    {"cores_per_chip", 0}, {"source", 1}, {"note", 0},
};

/* A ratio: empty = unknown (0), else in (0, 1000]. */
static int thr_ratio(const struct csv *c, size_t col, const char *name, double *out,
                     struct err *e)
{
    static const double unknown = 0;
    int rc = csv_double(c, col, name, &unknown, out, e);

    if (rc != 0)
        return rc;
    if (*out < 0 || *out > 1000 || (*out == 0 && *csv_get(c, col) != '\0'))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "%s must be in (0, 1000] (empty = unknown), not %s", name,
                      csv_get(c, col));
    return 0;
}

static const struct thr_row *thr_named(const struct catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->nthr; i++)
        if (strcasecmp(cat->thr[i].accelerator, name) == 0)
            return &cat->thr[i];
    return NULL;
}

/* A row may name an accelerator this catalog does not sell (the table is
 * shared by catalogs of different sizes) or a TPU family ('tpu-v5p'); a
 * name that is neither, nor one SkyPilot knows, and is close to one this
 * catalog sells is a misspelling, whose ratios would silently not be used. */
static int thr_name_check(const struct catalog *cat, const struct csv *c, const char *acc,
                          struct err *e)
{
    const char *sug;

    if (catalog_accelerator(cat, acc) != NULL || catalog_known_accelerator(acc) ||
        strncasecmp(acc, "tpu-", 4) == 0)
        return 0;
    if ((sug = str_suggest(acc, catalog_accelerators(cat))) == NULL)
        return 0;
    return err_at(
        e, ST_EINVAL, c->path, c->line, csv_col_at(c, T_ACC),
        "unknown accelerator '%s' (did you mean '%s'?): its ratios would be used "
        "for no offer; fix the name, or remove the row",
        acc, sug);
}

static int thr_row_add(struct catalog *cat, struct csv *c, struct err *e)
{
    struct thr_row r;
    const struct thr_row *dup;
    const char *acc = csv_get(c, T_ACC);
    long cores;
    int rc;

    memset(&r, 0, sizeof(r));
    if (*acc == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "empty accelerator");
    if ((dup = thr_named(cat, acc)) != NULL)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "accelerator '%s' is already on line %u", acc, (unsigned)dup->line);
    if ((rc = thr_name_check(cat, c, acc, e)) != 0)
        return rc;
    if ((rc = thr_ratio(c, T_TRAIN, "train", &r.train, e)) != 0 ||
        (rc = thr_ratio(c, T_INFER, "infer", &r.infer, e)) != 0)
        return rc;
    if (*csv_get(c, T_SOURCE) == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "every row needs a source (where its numbers come from)");
    if (*csv_get(c, T_CORES) != '\0') {
        if (strncasecmp(acc, "tpu-", 4) != 0 || strchr(acc + 4, '-') != NULL)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "cores_per_chip is for a TPU family ('tpu-v5p'), not '%s'", acc);
        if ((rc = csv_long(c, T_CORES, "cores_per_chip", 1, 8, NULL, &cores, e)) != 0)
            return rc;
        r.cores_per_chip = (int)cores;
    }
    r.accelerator = strpool_intern(&cat->pool, acc);
    r.line = (uint32_t)c->line;
    cat->thr = xrealloc(cat->thr, (cat->nthr + 1) * sizeof(r));
    cat->thr[cat->nthr++] = r;
    return 0;
}

int catalog_load_throughput(struct catalog *cat, struct err *e)
{
    return load_file(cat, "throughput.csv", thr_cols, NCOLS(thr_cols), thr_row_add, e);
}

/* ---- storage.csv: object storage per GB-month, what a data replica costs
 * to keep (docs/data.md) ---- */

enum { S_CLOUD, S_PRICE, S_NOTE };
static const struct csv_col storage_cols[] = {
    {"cloud", 1}, {"price_per_gb_month", 1}, {"note", 0},
};

static int storage_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct storage_price sp;
    const char *cloud = csv_get(c, S_CLOUD);
    size_t i;
    int rc;

    memset(&sp, 0, sizeof(sp));
    if (*cloud == '\0' || strlen(cloud) >= sizeof(sp.cloud))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'cloud': '%s' is not a cloud name (or '*' for any other)",
                      cloud);
    if ((rc = csv_double(c, S_PRICE, "price_per_gb_month", NULL, &sp.per_gb_month, e)) != 0)
        return rc;
    if (!(sp.per_gb_month >= 0 && sp.per_gb_month < 100))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "price_per_gb_month must be in [0, 100) USD, not %g", sp.per_gb_month);
    memcpy(sp.cloud, cloud, strlen(cloud) + 1);
    for (i = 0; i < cat->nstorage; i++)
        if (strcmp(cat->storage[i].cloud, sp.cloud) == 0)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "a second row for cloud '%s': keep one", sp.cloud);
    cat->storage = xrealloc(cat->storage, (cat->nstorage + 1) * sizeof(sp));
    cat->storage[cat->nstorage++] = sp;
    return 0;
}

int catalog_load_storage(struct catalog *cat, struct err *e)
{
    return load_file(cat, "storage.csv", storage_cols, NCOLS(storage_cols), storage_row, e);
}

double catalog_storage_per_gb_month(const struct catalog *cat, const char *cloud)
{
    const struct storage_price *any = NULL;
    size_t i;

    for (i = 0; i < cat->nstorage; i++) {
        if (strcmp(cat->storage[i].cloud, cloud) == 0)
            return cat->storage[i].per_gb_month;
        if (strcmp(cat->storage[i].cloud, "*") == 0)
            any = &cat->storage[i];
    }
    return any ? any->per_gb_month : 0;
}

/* A TPU slice "tpu-v5p-8" of a family row "tpu-v5p": its chips, or 0. */
static double tpu_chips(const struct thr_row *r, const char *name)
{
    size_t k = strlen(r->accelerator);
    const char *n = name + k + 1;

    if (r->cores_per_chip == 0 || strncasecmp(name, r->accelerator, k) != 0 ||
        name[k] != '-' || *n == '\0' || strspn(n, "0123456789") != strlen(n) || strlen(n) > 6)
        return 0;
    return fmax(1.0, floor(atof(n) / r->cores_per_chip));
}

/* The row of the throughput table an accelerator's ratios come from: its
 * own (*chips 1), or its TPU family's (*chips: the slice's); NULL: none. */
static const struct thr_row *thr_row_of(const struct catalog *cat, const char *acc,
                                        double *chips)
{
    const struct thr_row *r;
    size_t i;

    *chips = 1;
    if (acc == NULL || *acc == '\0')
        return NULL;
    r = thr_named(cat, acc);
    if (r != NULL && r->cores_per_chip == 0)
        return r;
    for (i = 0; i < cat->nthr; i++)
        if ((*chips = tpu_chips(&cat->thr[i], acc)) > 0)
            return &cat->thr[i];
    *chips = 1;
    return NULL;
}

double catalog_throughput(const struct catalog *cat, const char *accelerator, int infer)
{
    double chips;
    const struct thr_row *r = thr_row_of(cat, accelerator, &chips);

    return r != NULL ? chips * (infer ? r->infer : r->train) : 0;
}

double catalog_node_throughput(const struct catalog *cat, const char *accelerator, int count,
                               double part, int infer)
{
    double per = catalog_throughput(cat, accelerator, infer);

    return part > 0 ? per * part : per * count;
}

/* Chips in one accelerator as offers count it: a TPU slice's, from its name
 * and its family's row; 1 for every other (and a TPU of no row). */
static double accel_chips(const struct catalog *cat, const char *acc)
{
    double chips;

    if (thr_row_of(cat, acc, &chips) != NULL || acc == NULL)
        return chips;
    chips = 0;
    if (strncasecmp(acc, "tpu-v", 5) == 0) {
        /* a family of no row: its slice names count TensorCores, two a chip
         * up to v4 and on v5p (Google's TPU pages), one on v5e and v6e */
        const char *dash = strrchr(acc, '-');
        char fam[32];

        if (dash != NULL && (size_t)(dash - acc) < sizeof(fam)) {
            struct thr_row fr;

            memset(&fr, 0, sizeof(fr));
            memcpy(fam, acc, (size_t)(dash - acc));
            fam[dash - acc] = '\0';
            fr.accelerator = fam;
            fr.cores_per_chip =
                strcasecmp(fam, "tpu-v5litepod") == 0 || strcasecmp(fam, "tpu-v6e") == 0
                    ? 1
                    : 2;
            chips = tpu_chips(&fr, acc);
        }
    }
    return chips > 0 ? chips : 1;
}

void catalog_speed_parts(const struct catalog *cat, const char *acc, int count,
                         double part, int infer, double *r, double *n)
{
    double chips = accel_chips(cat, acc);

    *r = catalog_throughput(cat, acc, infer) / chips;
    *n = (part > 0 ? part : count) * chips;
}

double catalog_speed(const struct catalog *cat, const char *ref, int ref_count,
                     double ref_part, const char *acc, int count, double part, int infer,
                     int *known)
{
    double r0, n0, r, n;

    catalog_speed_parts(cat, ref, ref_count, ref_part, infer, &r0, &n0);
    catalog_speed_parts(cat, acc, count, part, infer, &r, &n);
    if (known != NULL)
        *known = r0 > 0 && r > 0;
    return catalog_speed_of(r0, n0, r, n);
}

size_t catalog_nthroughput(const struct catalog *cat)
{
    return cat->nthr;
}

/* ---- reading the catalog again (catalog_reprice_from) ---- */

static int str_same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int commits_same(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    if (a->ncommits != b->ncommits)
        return 0;
    for (i = 0; i < a->ncommits; i++) {
        const struct commitment *x = &a->commits[i], *y = &b->commits[i];

        if (!str_same(x->cloud, y->cloud) || !str_same(x->region, y->region) ||
            !str_same(x->zone, y->zone) ||
            !str_same(x->instance_type, y->instance_type) || x->count != y->count ||
            x->start != y->start || x->end != y->end || x->price_hour != y->price_hour ||
            x->discount != y->discount)
            return 0;
    }
    return 1;
}

static int egress_same(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    if (a->negress != b->negress)
        return 0;
    for (i = 0; i < a->negress; i++) {
        const struct egress_rule *x = &a->egress[i], *y = &b->egress[i];

        if (x->kind != y->kind || x->price != y->price ||
            !str_same(x->scloud, y->scloud) || !str_same(x->sregion, y->sregion) ||
            !str_same(x->dcloud, y->dcloud) || !str_same(x->dregion, y->dregion))
            return 0;
    }
    return 1;
}

static int regions_same(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    if (a->nregions != b->nregions || a->nrtt != b->nrtt ||
        a->lat_intercept_ms != b->lat_intercept_ms ||
        a->lat_ms_per_km != b->lat_ms_per_km)
        return 0;
    for (i = 0; i < a->nregions; i++)
        if (!str_same(a->regions[i].cloud, b->regions[i].cloud) ||
            !str_same(a->regions[i].name, b->regions[i].name) ||
            a->regions[i].lat != b->regions[i].lat ||
            a->regions[i].lon != b->regions[i].lon)
            return 0;
    for (i = 0; i < a->nrtt; i++)
        if (a->rtt[i] != b->rtt[i] || a->rtt_pairs[2 * i] != b->rtt_pairs[2 * i] ||
            a->rtt_pairs[2 * i + 1] != b->rtt_pairs[2 * i + 1])
            return 0;
    return 1;
}

static int preempt_same(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    if (a->npreempt != b->npreempt || a->preempt_default != b->preempt_default)
        return 0;
    for (i = 0; i < a->npreempt; i++)
        if (!str_same(a->preempt[i].cloud, b->preempt[i].cloud) ||
            !str_same(a->preempt[i].region, b->preempt[i].region) ||
            !str_same(a->preempt[i].accelerator, b->preempt[i].accelerator) ||
            a->preempt[i].rate != b->preempt[i].rate)
            return 0;
    return 1;
}

static int thr_same(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    if (a->nthr != b->nthr)
        return 0;
    for (i = 0; i < a->nthr; i++)
        if (!str_same(a->thr[i].accelerator, b->thr[i].accelerator) ||
            a->thr[i].train != b->thr[i].train || a->thr[i].infer != b->thr[i].infer ||
            a->thr[i].cores_per_chip != b->thr[i].cores_per_chip)
            return 0;
    return 1;
}

static int storage_quotas_same(const struct catalog *a, const struct catalog *b,
                               int quotas)
{
    size_t i;

    if (quotas) {
        if (a->nquotas != b->nquotas)
            return 0;
        for (i = 0; i < a->nquotas; i++)
            if (!str_same(a->quotas[i].cloud, b->quotas[i].cloud) ||
                !str_same(a->quotas[i].region, b->quotas[i].region) ||
                !str_same(a->quotas[i].accelerator, b->quotas[i].accelerator) ||
                a->quotas[i].limit != b->quotas[i].limit)
                return 0;
        return 1;
    }
    if (a->nstorage != b->nstorage)
        return 0;
    for (i = 0; i < a->nstorage; i++)
        if (strcmp(a->storage[i].cloud, b->storage[i].cloud) != 0 ||
            a->storage[i].per_gb_month != b->storage[i].per_gb_month)
            return 0;
    return 1;
}

static void note_other(struct catalog_reprice *r, const char *file)
{
    size_t n = strlen(r->others);

    snprintf(r->others + n, sizeof(r->others) - n, "%s%s", n ? ", " : "", file);
}

void catalog_reprice_from(struct catalog *cat, const struct catalog *nc,
                          struct catalog_reprice *r)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < cat->noffers; i++) {
        const struct offer *o = &cat->offers[i];
        long j = catalog_find_offer(nc, o->cloud, o->region, o->zone, o->instance_type,
                                    o->accelerator);
        double price = j >= 0 ? nc->offers[j].price : -1;
        double spot = j >= 0 ? nc->offers[j].spot_price : -1;

        if (price == o->price && spot == o->spot_price)
            continue;
        if (j < 0)
            r->unsold += o->price >= 0 || o->spot_price >= 0;
        else
            r->repriced++;
        r->free_now += price == 0 || spot == 0;
        catalog_set_price(cat, i, price, spot);
    }
    for (i = 0; i < nc->noffers; i++) {
        const struct offer *o = &nc->offers[i];

        r->added += catalog_find_offer(cat, o->cloud, o->region, o->zone,
                                       o->instance_type, o->accelerator) < 0;
    }
    if (!commits_same(cat, nc))
        note_other(r, "commitments.csv");
    if (!egress_same(cat, nc))
        note_other(r, "egress.csv");
    if (!regions_same(cat, nc))
        note_other(r, "regions.csv or latency");
    if (!preempt_same(cat, nc))
        note_other(r, "preemption.csv");
    if (!thr_same(cat, nc))
        note_other(r, "throughput.csv");
    if (!storage_quotas_same(cat, nc, 0))
        note_other(r, "storage.csv");
    if (!storage_quotas_same(cat, nc, 1))
        note_other(r, "quotas.csv");
}
