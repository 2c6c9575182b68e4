/*
 * cmd_data.c - `stratus data ls`: where each dataset's copies are and what
 * moving and keeping them has cost (docs/data.md).  From the server (the
 * home's, or $STRATUS_API), or, with --store, from a store file directly:
 * a simulation's (`stratus simulate --keep-stores DIR`) or a stopped
 * server's.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "../api/apijson.h"
#include "../store/store.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char data_usage[] =
    "usage: stratus data ls [--dataset NAME] [--all] [--json] [--store PATH]\n"
    "Datasets (stratus.data in specs) and their replicas: where each copy is,\n"
    "where it was copied from, what the copy cost in egress and what keeping it\n"
    "has cost in storage. A job's own data is listed as job:<id> once it has\n"
    "moved. --all adds the replicas already deleted (expired) and the homes\n"
    "forgotten (no job ran on them); --store reads a\n"
    "store file instead of asking the server (a simulation's --keep-stores\n"
    "file, or a stopped server's stratus.db).\n";

static const char *when(double t, char *buf, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;

    if (t <= 0)
        return "-";
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

static const char *sfield(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static double nfield(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void print_datasets(const json_t *ds, int all)
{
    char a[32], b[32], t1[32], t2[32], where[160], from[320];
    double egress = 0, storage = 0;
    size_t i, k, nrep = 0;

    printf("%-28s %-28s %10s %8s %12s %12s\n", "DATASET", "HOME", "SIZE_GB", "REPLICAS",
           "EGRESS", "STORAGE");
    for (i = 0; i < json_array_size(ds); i++) {
        const json_t *d = json_array_get(ds, i), *home = json_object_get(d, "home"),
                     *reps = json_object_get(d, "replicas");

        if (json_is_object(home))
            snprintf(where, sizeof(where), "%s/%s%s", sfield(home, "cloud"),
                     *sfield(home, "region") ? sfield(home, "region") : "(bucket)",
                     nfield(d, "home_forgotten_at") > 0 ? " (forgotten)" : "");
        else
            snprintf(where, sizeof(where), "-");
        printf("%-28s %-28s %10.1f %8zu %12s %12s\n", sfield(d, "dataset"), where,
               nfield(d, "size_gb"), json_array_size(reps),
               str_money(a, sizeof(a), nfield(d, "egress_usd")),
               str_money(b, sizeof(b), nfield(d, "storage_usd")));
        egress += nfield(d, "egress_usd");
        storage += nfield(d, "storage_usd");
        for (k = 0; k < json_array_size(reps); k++) {
            const json_t *r = json_array_get(reps, k);
            double exp = nfield(r, "expired_at");
            char state[64];

            if (exp > 0)
                snprintf(state, sizeof(state), "deleted %s", when(exp, t2, sizeof(t2)));
            else if (nfield(r, "in_use") > 0)
                snprintf(state, sizeof(state), "in use by %.0f", nfield(r, "in_use"));
            else
                snprintf(state, sizeof(state), "last used %s",
                         when(nfield(r, "last_used_at"), t2, sizeof(t2)));
            snprintf(where, sizeof(where), "%s/%s", sfield(r, "cloud"), sfield(r, "region"));
            snprintf(from, sizeof(from), "%s%s%s", sfield(r, "from"),
                     *sfield(r, "via") ? " by way of " : "", sfield(r, "via"));
            printf("  %-26s from %-24s made %s, %s  %s + %s\n", where, from,
                   when(nfield(r, "created_at"), t1, sizeof(t1)), state,
                   str_money(a, sizeof(a), nfield(r, "egress_usd")),
                   str_money(b, sizeof(b), nfield(r, "storage_usd")));
            nrep++;
        }
    }
    printf("%zu datasets, %zu replicas: egress %s, storage %s\n", json_array_size(ds), nrep,
           str_money(a, sizeof(a), egress), str_money(b, sizeof(b), storage));
    /* the copies kept now: what deleted ones cost is not in these sums
     * (helper-103 read $0 for a dataset whose copies had all expired) */
    if (!all)
        printf(
            "(the replicas kept now and what they cost; --all adds the deleted ones and "
            "what they cost)\n");
}

/* The datasets of a store file, as the server would list them. */
static int from_store(const char *path, const char *dataset, int all, json_t **out)
{
    struct store_data_replica *v = NULL;
    struct store *st = NULL;
    size_t n = 0;
    struct err e;
    int rc;

    err_clear(&e);
    if (cli_store_missing(path))
        return 2;
    if ((rc = store_open(&st, path, &e)) == 0) {
        rc = store_data_list(st, dataset, !all, &v, &n, &e);
        store_close(st);
    }
    if (rc != 0)
        return cli_fail(&e);
    if (dataset != NULL && n == 0) {
        fprintf(stderr, "stratus: %s: no dataset '%s' (`stratus data ls --store %s` lists "
                        "them)\n", path, dataset, path);
        return 1;
    }
    *out = json_pack("{s:o}", "datasets", apijson_datasets(v, n, (double)time(NULL)));
    store_data_replicas_free(v, n);
    return 0;
}

static int run_data(int argc, char **argv)
{
    static const struct option longs[] = {{"dataset", required_argument, NULL, 'd'},
                                          {"all", no_argument, NULL, 'a'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"store", required_argument, NULL, 's'},
                                          {NULL, 0, NULL, 0}};
    const char *dataset = NULL, *store = NULL;
    int all = 0, json = 0, ch, rc;
    json_t *r = NULL;

    if (argc < 2 || strcmp(argv[1], "ls") != 0) {
        if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
            fprintf(stderr, "stratus data: unknown subcommand '%s' (there is ls)\n",
                    argv[1]);
        fputs(data_usage, stderr);
        return 2;
    }
    optind = 1;
    opterr = 0; /* said below, as `stratus data ls` */
    while ((ch = getopt_long(argc - 1, argv + 1, ":", longs, NULL)) != -1) {
        if (ch == ':' || ch == '?') {
            if (ch == ':')
                fprintf(stderr, "stratus data ls: %s needs a value\n", argv[optind]);
            else
                fprintf(stderr, "stratus data ls: unknown option '%s'\n", argv[optind]);
            fputs(data_usage, stderr);
            return 2;
        }
        if (ch == 'd')
            dataset = optarg;
        else if (ch == 'a')
            all = 1;
        else if (ch == 'j')
            json = 1;
        else if (ch == 's')
            store = optarg;
        else {
            fputs(data_usage, stderr);
            return 2;
        }
    }
    if (optind < argc - 1) {
        fprintf(stderr, "stratus: data ls: unexpected argument '%s'\n%s", argv[optind + 1],
                data_usage);
        return 2;
    }
    if (store != NULL) {
        if ((rc = from_store(store, dataset, all, &r)) != 0)
            return rc;
    } else {
        char path[256];
        char *enc = dataset ? client_escape(dataset) : NULL;
        struct err e;

        snprintf(path, sizeof(path), "/v1/data?all=%d%s%s", all, enc ? "&dataset=" : "",
                 enc ? enc : "");
        free(enc);
        err_clear(&e);
        if (client_call("GET", path, NULL, &r, &e) != 0)
            return cli_fail(&e);
    }
    if (json) {
        cli_print_json(json_object_get(r, "datasets"), 0);
    } else {
        print_datasets(json_object_get(r, "datasets"), all);
    }
    json_decref(r);
    return 0;
}

const struct cli_cmd cli_cmd_data = {"data", "datasets, their replicas and what moving them cost",
                                     run_data, data_usage};
