/*
 * cmd_offers.c - `stratus offers`: what can be bought, cheapest first, with
 * the price per accelerator-hour (like `dstack offer`).
 */
#define _GNU_SOURCE /* qsort_r */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog.h"
#include "util/strutil.h"
#include "util/xmem.h"

struct offers_opts {
    const char *catalog, *accelerator, *cloud, *region;
    long acc_count;        /* 0 = any */
    int spot, json;
    long limit;            /* rows to print; 0 = all */
};

static const char offers_usage[] =
    "usage: stratus offers [--accelerator NAME[:COUNT]] [--cloud C] [--region R]\n"
    "                      [--spot] [--json] [--limit N] [--catalog DIR]\n"
    "Lists offers sorted by price (spot price with --spot), with $/accelerator-hour.\n";

/* The price an offer is listed at under the options; < 0 = not sold that way. */
static double listed_price(const struct offers_opts *o, const struct offer *of)
{
    return o->spot ? of->spot_price : of->price;
}

static int cmp_offers(const void *a, const void *b, void *ctx)
{
    const struct offer *x = *(const struct offer *const *)a;
    const struct offer *y = *(const struct offer *const *)b;
    double px = listed_price(ctx, x) / (x->acc_count ? x->acc_count : 1);
    double py = listed_price(ctx, y) / (y->acc_count ? y->acc_count : 1);
    int r;

    if (listed_price(ctx, x) != listed_price(ctx, y))
        return listed_price(ctx, x) < listed_price(ctx, y) ? -1 : 1;
    if (px != py)
        return px < py ? -1 : 1;
    if ((r = strcmp(x->cloud, y->cloud)) != 0 || (r = strcmp(x->region, y->region)) != 0 ||
        (r = strcmp(x->zone, y->zone)) != 0)
        return r;
    return strcmp(x->instance_type, y->instance_type);
}

static int keep(const struct offers_opts *o, const struct offer *of)
{
    if (listed_price(o, of) < 0)
        return 0;
    if (o->accelerator && strcasecmp(o->accelerator, of->accelerator) != 0)
        return 0;
    if (o->acc_count && of->acc_count != o->acc_count)
        return 0;
    if (o->cloud && strcmp(o->cloud, of->cloud) != 0)
        return 0;
    return o->region == NULL || strcmp(o->region, of->region) == 0;
}

static json_t *offer_json(const struct offer *of)
{
    json_t *j = json_object();

    json_object_set_new(j, "cloud", json_string(of->cloud));
    json_object_set_new(j, "region", json_string(of->region));
    json_object_set_new(j, "zone", json_string(of->zone));
    json_object_set_new(j, "instance_type", json_string(of->instance_type));
    json_object_set_new(j, "accelerator", json_string(of->accelerator));
    json_object_set_new(j, "accelerators_per_node", json_integer(of->acc_count));
    json_object_set_new(j, "accelerator_memory_gib", json_real(of->acc_mem_gib));
    json_object_set_new(j, "vcpus", json_real(of->vcpus));
    json_object_set_new(j, "memory_gib", json_real(of->memory_gib));
    json_object_set_new(j, "interconnect", json_string(of->interconnect));
    json_object_set_new(j, "max_cluster_nodes",
                        of->max_cluster_nodes ? json_integer(of->max_cluster_nodes) : json_null());
    json_object_set_new(j, "price_hour", of->price >= 0 ? json_real(of->price) : json_null());
    json_object_set_new(j, "spot_price_hour",
                        of->spot_price >= 0 ? json_real(of->spot_price) : json_null());
    return j;
}

static void print_price(double v)
{
    if (v < 0)
        printf(" %10s", "-");
    else
        printf(" %10.2f", v);
}

static void print_table(const struct offers_opts *o, const struct offer **rows, size_t n,
                        size_t total)
{
    size_t i;

    printf("%-5s %-28s %-24s %-12s %6s %5s %7s %-10s %10s %10s %9s\n", "CLOUD",
           "REGION/ZONE", "INSTANCE", "ACCELERATOR", "VRAM", "VCPU", "MEM", "FABRIC",
           "$/H", "SPOT $/H", "$/ACC-H");
    for (i = 0; i < n; i++) {
        const struct offer *of = rows[i];
        char loc[128], acc[64];

        snprintf(loc, sizeof(loc), "%s%s%s", of->region, *of->zone ? "/" : "", of->zone);
        snprintf(acc, sizeof(acc), "%s:%d", of->accelerator, of->acc_count);
        printf("%-5s %-28s %-24s %-12s %5.0fG %5.0f %6.0fG %-10s", of->cloud, loc,
               of->instance_type, acc, of->acc_mem_gib, of->vcpus, of->memory_gib,
               of->interconnect);
        print_price(of->price);
        print_price(of->spot_price);
        printf(" %9.3f\n", listed_price(o, of) / (of->acc_count ? of->acc_count : 1));
    }
    if (n < total)
        printf("... %zu more (--limit 0 shows all)\n", total - n);
    printf("%zu offer%s\n", total, total == 1 ? "" : "s");
}

static int parse_offers_args(int argc, char **argv, struct offers_opts *o)
{
    static const struct option longs[] = {
        {"accelerator", required_argument, NULL, 'a'}, {"cloud", required_argument, NULL, 'c'},
        {"region", required_argument, NULL, 'r'},      {"spot", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},              {"limit", required_argument, NULL, 'n'},
        {"catalog", required_argument, NULL, 'C'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;

    memset(o, 0, sizeof(*o));
    o->limit = 50;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'a': {
            char *colon = strchr(optarg, ':');

            o->accelerator = optarg;
            if (colon) {
                *colon = '\0';
                if (str_to_long(colon + 1, 1, 4096, &o->acc_count) != 0) {
                    fprintf(stderr, "stratus: --accelerator: '%s' is not a count\n", colon + 1);
                    return 2;
                }
            }
            break;
        }
        case 'c': o->cloud = optarg; break;
        case 'r': o->region = optarg; break;
        case 's': o->spot = 1; break;
        case 'j': o->json = 1; break;
        case 'C': o->catalog = optarg; break;
        case 'n':
            if (str_to_long(optarg, 0, 100000000, &o->limit) != 0) {
                fprintf(stderr, "stratus: --limit must be a whole number, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(offers_usage, stdout); return -1;
        default: fputs(offers_usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "stratus: offers takes no argument '%s'\n%s", argv[optind], offers_usage);
        return 2;
    }
    return 0;
}

static int run_offers(int argc, char **argv)
{
    struct offers_opts o;
    struct catalog *cat;
    const struct offer **rows;
    size_t i, n = 0, shown;
    int rc = parse_offers_args(argc, argv, &o);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = cli_load_catalog(o.catalog, &cat)) != 0)
        return rc;
    if (o.accelerator && catalog_accelerator(cat, o.accelerator) == NULL) {
        const char *sug = str_suggest(o.accelerator, catalog_accelerators(cat));

        fprintf(stderr, "stratus: no offer has accelerator '%s'%s%s%s\n", o.accelerator,
                sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
        catalog_free(cat);
        return 1;
    }
    rows = xcalloc(catalog_noffers(cat) + 1, sizeof(*rows));
    for (i = 0; i < catalog_noffers(cat); i++)
        if (keep(&o, catalog_offer(cat, i)))
            rows[n++] = catalog_offer(cat, i);
    qsort_r(rows, n, sizeof(*rows), cmp_offers, &o);
    shown = o.limit > 0 && (size_t)o.limit < n ? (size_t)o.limit : n;
    if (o.json) {
        json_t *a = json_array();

        for (i = 0; i < shown; i++)
            json_array_append_new(a, offer_json(rows[i]));
        json_dumpf(a, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        putchar('\n');
        json_decref(a);
    } else {
        print_table(&o, rows, shown, n);
    }
    free(rows);
    catalog_free(cat);
    return n == 0 ? 1 : 0;
}

const struct cli_cmd cli_cmd_offers = {"offers", "list offers, cheapest first", run_offers};
