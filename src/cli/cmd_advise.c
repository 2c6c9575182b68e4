/*
 * cmd_advise.c - `stratus advise commitments`: how many nodes of which offer
 * to commit to, from actual usage, as data for negotiations.
 *
 *   stratus advise commitments [--store PATH] [--catalog DIR] [--term 1y|3y]
 *                  [--discount D] [--out FILE] [--json] [--org-policy P.yaml]
 *
 * Usage comes from a store: a server home's ($STRATUS_HOME/stratus.db, the
 * default) or a simulation's (`stratus simulate --keep-stores DIR` writes
 * DIR/POLICY.db).  The store is only read (SQLite lets a running server
 * write beside it); it is opened directly rather than through the server's
 * API because a simulation's store has no server.  The arithmetic is in
 * src/sim/advise.c; the discount levels and their sources in
 * docs/commitments.md.  --out writes the recommendation for --term as a
 * commitments file that `stratus simulate --commitments` reads.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../sim/advise.h"
#include "../store/store.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define HOURS_PER_MONTH 730.0

static const char advise_usage[] =
    "usage: stratus advise commitments [--store PATH] [--catalog DIR] [--term 1y|3y]\n"
    "                                  [--discount D] [--out FILE] [--json]\n"
    "                                  [--no-backfill] [--org-policy P.yaml]\n"
    "Reads the on-demand usage of a store (default: $STRATUS_HOME/stratus.db; a\n"
    "simulation's: `stratus simulate --keep-stores DIR` writes DIR/POLICY.db; or a\n"
    "PostgreSQL store's connection string, postgresql://...) and,\n"
    "for each offer and each published discount level of its cloud (1y and 3y;\n"
    "docs/commitments.md), the node count that saves the most: nodes in use at\n"
    "least a break-even share (1 - discount) of the hours.  --discount (0.37 or\n"
    "37%) replaces the levels for --term (default 1y).  --out FILE writes the\n"
    "--term recommendation as a commitments file for `stratus simulate\n"
    "--commitments FILE`.  Free committed nodes are counted as backfilled by the\n"
    "spot work of their accelerator, at what it paid (the controller's\n"
    "commit_backfill), when the org rule of its job allows the offer's location\n"
    "(the policy a server's job was submitted with; --org-policy for jobs stored\n"
    "without one, as a simulation's are), each node-hour of it once;\n"
    "--no-backfill counts on-demand work alone.\n";

struct advise_args {
    const char *store, *catalog, *term, *out, *org;
    double discount; /* < 0: the published levels */
    int json;
    int no_backfill; /* --no-backfill: on-demand usage alone */
};

/* One row of the answer: an offer at one level. */
struct choice {
    const struct advise_offer *o;
    const char *term;
    double discount;
    struct advise_pick pick;
    double spot_price;         /* what the backfill counted paid per node-hour */
    double month, term_saving; /* saving per month, over the term */
};

static int parse_discount(const char *v, double *out)
{
    char *rest;
    double d = strtod(v, &rest);

    if (rest != v && rest[0] == '%' && rest[1] == '\0')
        d /= 100, rest++;
    if (rest == v || *rest != '\0' || !(d >= 0 && d < 1)) {
        fprintf(stderr,
                "stratus: --discount takes a fraction in [0, 1) like 0.37 or a "
                "percentage like 37%%, not '%s'\n",
                v);
        return 2;
    }
    *out = d;
    return 0;
}

/* Has some cloud a published level for this term? */
static int published_term(const char *term)
{
    size_t k;

    for (k = 0; advise_levels[k].cloud != NULL; k++)
        if (strcmp(advise_levels[k].term, term) == 0)
            return 1;
    return 0;
}

static int parse_args(int argc, char **argv, struct advise_args *a)
{
    static const struct option longs[] = {{"store", required_argument, NULL, 's'},
                                          {"catalog", required_argument, NULL, 'C'},
                                          {"term", required_argument, NULL, 't'},
                                          {"discount", required_argument, NULL, 'd'},
                                          {"out", required_argument, NULL, 'o'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"no-backfill", no_argument, NULL, 'B'},
                                          {"org-policy", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    memset(a, 0, sizeof(*a));
    a->term = "1y";
    a->discount = -1;
    if (argc < 2 || strcmp(argv[1], "commitments") != 0) {
        fprintf(stderr, "stratus: advise what? (stratus advise commitments ...)\n");
        fputs(advise_usage, stderr);
        return 2;
    }
    optind = 2;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 's':
            a->store = optarg;
            break;
        case 'C':
            a->catalog = optarg;
            break;
        case 't':
            a->term = optarg;
            break;
        case 'd':
            rc = parse_discount(optarg, &a->discount);
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'B':
            a->no_backfill = 1;
            break;
        case 'p':
            a->org = optarg;
            break;
        case 'h':
            fputs(advise_usage, stdout);
            return -1;
        default:
            fputs(advise_usage, stderr);
            return 2;
        }
    }
    if (rc == 0 && advise_term_months(a->term) <= 0) {
        fprintf(stderr, "stratus: --term takes a term like 1y, 3y or 6m, not '%s'\n",
                a->term);
        rc = 2;
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "stratus: advise commitments: unexpected '%s'\n", argv[optind]);
        rc = 2;
    }
    if (rc == 0 && a->discount < 0 && !published_term(a->term)) {
        fprintf(stderr,
                "stratus: no cloud publishes a discount for a %s term (the published "
                "levels are of 1y and 3y terms, docs/commitments.md): give --discount D "
                "with --term %s\n",
                a->term, a->term);
        rc = 2;
    }
    return rc;
}

static double hours_of(const struct advise_usage *u)
{
    return (double)u->nbins * ADVISE_BIN_S / 3600;
}

/* Row c (offer, term and discount set): the best N, counting as backfill
 * the spot work rem still holds (NULL: none), and taking from rem what the
 * N nodes fill. */
static void choose(const struct advise_usage *u, double *const *rem, struct choice *c)
{
    const struct advise_offer *o = c->o;
    double hours = hours_of(u);
    double *b = rem ? xcalloc(u->nbins + 1, sizeof(double)) : NULL;
    double *fill = rem ? xcalloc(u->nbins + 1, sizeof(double)) : NULL;

    c->spot_price = rem ? advise_backfill(u, o, rem, b) : 0;
    advise_best_gangs((const double *const *)o->gang_usage, o->gangs, o->ngangs, b,
                      c->spot_price, u->nbins, ADVISE_BIN_S / 3600, o->od_price,
                      o->od_price * (1 - c->discount), &c->pick, fill);
    if (rem)
        advise_take_backfill(u, o, rem, b, fill);
    c->month = c->pick.saving * HOURS_PER_MONTH / hours;
    c->term_saving = c->month * advise_term_months(c->term);
    free(b);
    free(fill);
}

/* Every (offer, level) row: the published levels of its cloud, or the one
 * --discount gives.  The rows of one term are one plan, chosen most spend
 * first: the spot work an offer's nodes backfill is not counted again for
 * the next offers of that term (each term is an alternative, and counts it
 * all).  Caller frees. */
static struct choice *choices(const struct advise_args *a, const struct advise_usage *u,
                              size_t *n)
{
    struct choice *v = NULL;
    double **rem = xcalloc(u->nspot + 1, sizeof(*rem));
    size_t i, k, cap = 0;

    *n = 0;
    for (i = 0; i < u->n; i++) {
        const struct advise_offer *o = &u->o[i];

        if (o->od_price <= 0)
            continue;
        for (k = 0; a->discount >= 0 ? k < 1 : advise_levels[k].cloud != NULL; k++) {
            if (a->discount < 0 && strcmp(advise_levels[k].cloud, o->cloud) != 0)
                continue;
            v = xgrow(v, &cap, *n + 1, sizeof(*v));
            memset(&v[*n], 0, sizeof(v[0]));
            v[*n].o = o;
            v[*n].term = a->discount >= 0 ? a->term : advise_levels[k].term;
            v[*n].discount = a->discount >= 0 ? a->discount : advise_levels[k].discount;
            (*n)++;
        }
    }
    for (i = 0; i < *n; i++) { /* the first row of each term chooses its term's rows */
        for (k = 0; k < i && strcmp(v[k].term, v[i].term) != 0; k++)
            ;
        if (k < i)
            continue;
        for (k = 0; k < u->nspot; k++)
            rem[k] = a->no_backfill ? NULL
                                    : memcpy(xrealloc(rem[k], u->nbins * sizeof(double)),
                                             u->spot[k].usage, u->nbins * sizeof(double));
        for (k = i; k < *n; k++)
            if (strcmp(v[k].term, v[i].term) == 0)
                choose(u, a->no_backfill ? NULL : rem, &v[k]);
    }
    for (k = 0; k < u->nspot; k++)
        free(rem[k]);
    free(rem);
    return v;
}

/* Under the table: where each discount level shown comes from (most are
 * "up to" levels or assumptions, not a price), and a window too short to
 * scale to a term with confidence (helper-103: 126 hours of usage read as
 * $1.8 M over 3 years, at an assumed level, with no word of either). */
static void print_caveats(const struct advise_usage *u, const struct choice *c, size_t n,
                          int own_discount)
{
    size_t i, k, j;

    for (i = 0; i < n && !own_discount; i++) {
        for (j = 0; j < i && !(strcmp(c[j].o->cloud, c[i].o->cloud) == 0 &&
                               strcmp(c[j].term, c[i].term) == 0);
             j++)
            ;
        if (j < i)
            continue; /* said already */
        for (k = 0; advise_levels[k].cloud != NULL; k++)
            if (strcmp(advise_levels[k].cloud, c[i].o->cloud) == 0 &&
                strcmp(advise_levels[k].term, c[i].term) == 0 && advise_levels[k].basis)
                printf("DISC %s %s %.0f%% (%s) is %s: ask %s for the lab's rate "
                       "(--discount).\n",
                       c[i].o->cloud, c[i].term, 100 * advise_levels[k].discount,
                       advise_levels[k].what, advise_levels[k].basis, c[i].o->cloud);
    }
    if (n > 0 && hours_of(u) < 30 * 24)
        printf(
            "The usage seen covers %.1f days: the savings scale it to a month and a term "
            "as if it were typical; read more usage before committing.\n",
            hours_of(u) / 24);
}

static void print_table(const struct advise_usage *u, const struct choice *c, size_t n,
                        const char *store)
{
    char day[32], m[3][32];
    time_t t = (time_t)u->from;
    struct tm tm;
    size_t i;

    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d %H:%M", &tm);
    printf("usage seen: %.0f hour%s from %s UTC (%s)\n\n", hours_of(u),
           hours_of(u) >= 0.5 && hours_of(u) < 1.5 ? "" : "s", day, store);
    printf("%-52s %4s %6s %6s %6s %6s %6s %14s %14s %15s\n", "OFFER", "TERM", "DISC",
           "NODES", "PEAK", "UTIL", "BREAK", "ON-DEMAND/MO", "SAVING/MO", "SAVING/TERM");
    for (i = 0; i < n; i++) {
        char name[160];

        snprintf(name, sizeof(name), "%s/%s %s", c[i].o->cloud, c[i].o->region,
                 c[i].o->instance_type);
        printf("%-52s %4s %5.0f%% %6ld %6.0f %5.0f%% %5.0f%% %14s %14s %15s\n", name,
               c[i].term, 100 * c[i].discount, c[i].pick.nodes, c[i].o->peak,
               100 * c[i].pick.utilisation, 100 * c[i].pick.break_even,
               str_money(m[0], sizeof(m[0]),
                         c[i].o->node_hours * c[i].o->od_price * HOURS_PER_MONTH /
                             hours_of(u)),
               str_money(m[1], sizeof(m[1]), c[i].month),
               str_money(m[2], sizeof(m[2]), c[i].term_saving));
    }
    printf(
        "\nNODES: committed nodes that save the most over the hours seen; PEAK: the most "
        "nodes of it in use, on demand or committed, on average over a 5-minute bin; "
        "UTIL: their "
        "expected use (on-demand work, and spot work of the same accelerator "
        "backfilling\n"
        "what it leaves free, unless --no-backfill); BREAK: the on-demand use below "
        "which a "
        "node would not pay (1 - discount).\n"
        "Savings per month are the hours seen scaled to 730 h; over the term, if usage "
        "stays as it was.\n");
    if (u->committed_h > 0)
        printf(
            "%.0f node-hours of this usage ran on committed nodes: counted as on-demand "
            "work (what it would pay without them; spot work that backfilled them counts "
            "as spot), so NODES is the whole set to hold, not an addition to the "
            "commitments held.\n",
            u->committed_h);
}

static json_t *to_json(const struct advise_usage *u, const struct choice *c, size_t n)
{
    json_t *o = json_object(), *arr = json_array();
    size_t i;

    json_object_set_new(o, "from", json_real(u->from));
    json_object_set_new(o, "hours", json_real(hours_of(u)));
    json_object_set_new(o, "committed_node_hours", json_real(u->committed_h));
    for (i = 0; i < n; i++)
        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:s,s:f,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
                      "cloud", c[i].o->cloud, "region", c[i].o->region, "instance_type",
                      c[i].o->instance_type, "on_demand_price_hour", c[i].o->od_price,
                      "node_hours", c[i].o->node_hours, "peak_nodes", c[i].o->peak,
                      "term", c[i].term, "discount", c[i].discount, "nodes",
                      (json_int_t)c[i].pick.nodes, "utilisation", c[i].pick.utilisation,
                      "backfill_utilisation", c[i].pick.backfill, "backfill_price_hour",
                      c[i].spot_price,
                      "break_even_utilisation", c[i].pick.break_even, "saving_observed",
                      c[i].pick.saving, "saving_per_month", c[i].month,
                      "saving_over_term", c[i].term_saving));
    json_object_set_new(o, "recommendations", arr);
    return o;
}

/* The --term rows with nodes to commit, as a commitments file (written to
 * FILE.tmp and renamed). */
static int write_out(const char *path, const struct advise_usage *u,
                     const struct choice *c, size_t n, const char *term)
{
    char *tmp = xasprintf("%s.tmp", path), day[16];
    time_t t = (time_t)u->from;
    FILE *f = fopen(tmp, "w");
    struct tm tm;
    size_t i, rows = 0;
    int bad;

    if (f == NULL) {
        fprintf(stderr, "stratus: cannot write %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return 3;
    }
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    fprintf(f, "cloud,region,zone,instance_type,nodes,term,start,discount\n");
    for (i = 0; i < n; i++) {
        if (strcmp(c[i].term, term) != 0 || c[i].pick.nodes <= 0)
            continue;
        fprintf(f, "%s,%s,,%s,%ld,%s,%s,%.4f\n", c[i].o->cloud, c[i].o->region,
                c[i].o->instance_type, c[i].pick.nodes, term, day, c[i].discount);
        rows++;
    }
    bad = fclose(f) != 0 || rename(tmp, path) != 0;
    if (bad)
        fprintf(stderr, "stratus: cannot write %s: %s\n", path, strerror(errno));
    else
        fprintf(stderr, "wrote %zu commitment%s (%s, starting %s) to %s\n", rows,
                rows == 1 ? "" : "s", term, day, path);
    free(tmp);
    return bad ? 3 : 0;
}

/* Why there is nothing to recommend: no on-demand usage, or none on a cloud
 * with a published discount level (naming the clouds it was on). */
static void no_levels(const struct advise_usage *u)
{
    char clouds[256] = "";
    size_t i, k, len = 0;

    for (i = 0; i < u->n && len < sizeof(clouds); i++) {
        for (k = 0; k < i; k++)
            if (u->o[k].od_price > 0 && strcmp(u->o[k].cloud, u->o[i].cloud) == 0)
                break;
        if (u->o[i].od_price <= 0 || k < i)
            continue; /* no on-demand usage, or its cloud is listed already */
        len += (size_t)snprintf(clouds + len, sizeof(clouds) - len, "%s%s",
                                len ? ", " : "", u->o[i].cloud);
    }
    if (clouds[0] == '\0')
        fprintf(stderr,
                "stratus: the store has no on-demand usage, so there is nothing to "
                "commit to (committed nodes replace on-demand ones)\n");
    else
        fprintf(stderr,
                "stratus: no discount level is published for the clouds the on-demand "
                "usage was on (%s; docs/commitments.md lists the published ones): "
                "give --discount D --term T, a discount you were offered\n",
                clouds);
}

static int advise(const struct advise_args *a, const char *store_path, struct store *st,
                  const struct catalog *cat, const struct policy *org)
{
    struct advise_usage u;
    struct choice *c;
    struct err e;
    size_t n;
    int rc;

    err_clear(&e);
    if (a->out) { /* said before the table, not after it */
        char *tmp = xasprintf("%s.tmp", a->out);
        FILE *f = fopen(tmp, "w");

        if (f == NULL) {
            fprintf(stderr, "stratus: cannot write --out %s: %s\n", a->out,
                    strerror(errno));
            free(tmp);
            return 2;
        }
        fclose(f);
        unlink(tmp);
        free(tmp);
    }
    if (advise_read_store(st, cat, org, (double)time(NULL), &u, &e) != 0) {
        err_prefix(&e, "%s", store_path);
        return cli_fail(&e);
    }
    c = choices(a, &u, &n);
    if (n == 0) {
        no_levels(&u);
        rc = 2;
    } else if (a->json) {
        json_t *j = to_json(&u, c, n);

        cli_print_json(j, 0);
        json_decref(j);
        rc = 0;
    } else {
        print_table(&u, c, n, store_path);
        print_caveats(&u, c, n, a->discount >= 0);
        rc = 0;
    }
    if (rc == 0 && a->out)
        rc = write_out(a->out, &u, c, n, a->term);
    free(c);
    advise_usage_free(&u);
    return rc;
}

static int run_advise(int argc, char **argv)
{
    struct advise_args a;
    struct catalog *cat = NULL;
    struct policy *org = NULL;
    struct store *st = NULL;
    char *home = NULL, *path;
    struct err e;
    int rc = parse_args(argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.store == NULL)
        home = cli_home();
    path = a.store ? xstrdup(a.store) : xasprintf("%s/stratus.db", home);
    free(home);
    err_clear(&e);
    if (cli_store_missing(path)) {
        rc = 2;
    } else if (a.org && policy_load_file(&org, a.org, &e) != 0) {
        rc = cli_fail(&e);
    } else if ((rc = cli_load_catalog(a.catalog, &cat)) == 0) {
        if (store_open(&st, path, &e) != 0)
            rc = cli_fail(&e);
        else {
            char *shown = store_redact(path); /* no password on screen */

            rc = advise(&a, shown, st, cat, org);
            free(shown);
        }
    }
    if (st)
        store_close(st);
    catalog_free(cat);
    policy_free(org);
    free(path);
    return rc;
}

const struct cli_cmd cli_cmd_advise = {
    "advise", "advise commitments: nodes to commit to, from actual usage", run_advise,
    advise_usage};
