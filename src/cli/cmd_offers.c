/*
 * cmd_offers.c - `stratus offers`: what can be bought, cheapest first, with
 * the price per accelerator-hour (like `dstack offer`).  By default the
 * server lists its catalog (GET /v1/offers); with --offline, or given
 * --catalog, the listing is made here from the files.  Both print with
 * plan/offers.c, so the two outputs are the same.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../catalog/catalog.h"
#include "../plan/offers.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

struct offers_opts {
    struct offers_query q;
    const char *catalog;
    char *acc_arg;         /* a copy of --accelerator, cut at its ':' (q.accelerator) */
    int json, offline;
};

static const char offers_usage[] =
    "usage: stratus offers [--accelerator NAME[:COUNT]] [--cloud C] [--region R]\n"
    "                      [--spot] [--json] [--limit N] [--offline] [--catalog DIR]\n"
    "Lists offers sorted by price (spot price with --spot), with $/accelerator-hour.\n"
    "The server's catalog unless --offline (the catalog a server started here would\n"
    "read: $STRATUS_CATALOG, else the bundled one) or --catalog DIR.\n";

static int parse_accelerator(struct offers_opts *o, const char *arg)
{
    struct err e;

    free(o->acc_arg);
    o->acc_arg = xstrdup(arg);
    err_clear(&e);
    if (offers_parse_accelerator(&o->q, o->acc_arg, &e) != 0)
        return cli_fail(&e);
    return 0;
}

static int parse_offers_args(int argc, char **argv, struct offers_opts *o)
{
    static const struct option longs[] = {
        {"accelerator", required_argument, NULL, 'a'}, {"cloud", required_argument, NULL, 'c'},
        {"region", required_argument, NULL, 'r'},      {"spot", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},              {"limit", required_argument, NULL, 'n'},
        {"catalog", required_argument, NULL, 'C'},     {"help", no_argument, NULL, 'h'},
        {"offline", no_argument, NULL, 'o'},           {NULL, 0, NULL, 0}};
    int ch;

    memset(o, 0, sizeof(*o));
    o->q.limit = 50;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (parse_accelerator(o, optarg) != 0)
                return 2;
            break;
        case 'c': o->q.cloud = optarg; break;
        case 'r': o->q.region = optarg; break;
        case 's': o->q.spot = 1; break;
        case 'j': o->json = 1; break;
        case 'C': o->catalog = optarg; break;
        case 'o': o->offline = 1; break;
        case 'n':
            if (str_to_long(optarg, 0, 100000000, &o->q.limit) != 0) {
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

/* From the files: the catalog of --catalog, or the bundled one. */
static int offers_local(const struct offers_opts *o)
{
    const struct offer **rows = NULL;
    struct catalog *cat;
    size_t i, n = 0, shown;
    struct err e;
    int rc;

    if ((rc = cli_load_catalog(o->catalog, &cat)) != 0)
        return rc;
    err_clear(&e);
    if (offers_select(cat, &o->q, &rows, &n, &e) != 0) {
        catalog_free(cat);
        return cli_fail(&e);
    }
    shown = offers_shown(&o->q, n);
    if (o->json) {
        json_t *a = json_array();

        for (i = 0; i < shown; i++)
            json_array_append_new(a, offers_json(rows[i]));
        cli_print_json(a, JSON_REAL_PRECISION(10));
        json_decref(a);
    } else {
        offers_print(stdout, &o->q, rows, shown, n);
    }
    free(rows);
    catalog_free(cat);
    return n == 0 ? 1 : 0;
}

/* GET /v1/offers?... for the options. Caller frees. */
static char *offers_path(const struct offers_opts *o)
{
    char acc[160];
    const char *keys[] = {"accelerator", "cloud", "region"};
    const char *vals[] = {o->q.accelerator ? acc : NULL, o->q.cloud, o->q.region};
    struct buf b;
    char *path;
    size_t i;

    /* o->acc_arg was cut at its ':' when parsed */
    if (o->q.acc_part > 0)
        snprintf(acc, sizeof(acc), "%s:%g", o->q.accelerator ? o->q.accelerator : "",
                 o->q.acc_part);
    else if (o->q.acc_count)
        snprintf(acc, sizeof(acc), "%s:%ld", o->q.accelerator ? o->q.accelerator : "",
                 o->q.acc_count);
    else
        snprintf(acc, sizeof(acc), "%s", o->q.accelerator ? o->q.accelerator : "");
    buf_init(&b, 0);
    buf_printf(&b, "/v1/offers?limit=%ld&spot=%d", o->q.limit, o->q.spot);
    for (i = 0; i < 3; i++) {
        char *v = vals[i] ? client_escape(vals[i]) : NULL;

        if (v)
            buf_printf(&b, "&%s=%s", keys[i], v);
        free(v);
    }
    path = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return path;
}

/* From the server's catalog. */
static int offers_remote(const struct offers_opts *o)
{
    char *path = offers_path(o);
    json_t *reply = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    rc = client_call("GET", path, NULL, &reply, &e);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    if (o->json)
        cli_print_json(json_object_get(reply, "offers"), JSON_REAL_PRECISION(10));
    else
        fputs(json_string_value(json_object_get(reply, "text")), stdout);
    rc = json_integer_value(json_object_get(reply, "total")) == 0 ? 1 : 0;
    json_decref(reply);
    return rc;
}

static int run_offers(int argc, char **argv)
{
    struct offers_opts o;
    int rc = parse_offers_args(argc, argv, &o);

    if (rc == 0)
        rc = o.offline || o.catalog ? offers_local(&o) : offers_remote(&o);
    free(o.acc_arg);
    return rc < 0 ? 0 : rc;
}

const struct cli_cmd cli_cmd_offers = {"offers", "list offers, cheapest first",
                                       run_offers, offers_usage};
