/*
 * cmd_local.c - `stratus local ...`: fault injection into the embedded local
 * clouds, for people and tests.  Each command files a request in the store;
 * the controller hands it to its driver (driver_inject) and records what
 * follows (preemption notices, recoveries, failovers).  What the request
 * names is checked first (the job exists and has not ended, the location is
 * in the catalog), so that a typo fails here, with the reason, instead of
 * being filed, "requested" and ignored.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/strutil.h"
#include "util/xmem.h"

static const char local_usage[] =
    "usage: stratus local preempt --job JOB\n"
    "       stratus local preempt --location CLOUD/REGION[/ZONE]\n"
    "       stratus local stockout --location CLOUD/REGION[/ZONE] [--for DURATION]\n"
    "       stratus local api-error --location CLOUD/REGION[/ZONE] [--for DURATION]\n"
    "preempt takes a node back from a job (or every node at a location), after\n"
    "the notice period, as a cloud reclaims spot capacity;\n"
    "stockout makes a location refuse launches for lack of capacity, api-error\n"
    "makes its API fail them (for 10m unless --for says).\n";

/* A job to preempt must exist and still run (or be about to). */
static int check_job(struct store *st, long long id, struct err *e)
{
    struct store_job j;
    int rc = store_job_get(st, id, &j, e);

    if (rc == ST_ENOTFOUND)
        return err_set(e, rc, "no job %lld (`stratus queue` lists the active ones); nothing filed",
                       id);
    if (rc != 0)
        return rc;
    if (job_state_terminal(j.state))
        rc = err_set(e, ST_ESTATE, "job %lld already ended (%s): there is nothing to preempt; "
                     "nothing filed", id, job_state_name(j.state));
    store_job_clear(&j);
    return rc;
}

/* Does some offer of the catalog sit at loc ("cloud/region[/zone]", each
 * part may be a glob, as the local driver takes them)? */
static int location_known(const struct catalog *cat, const char *loc)
{
    size_t i, n = catalog_noffers(cat);
    int found = 0;

    for (i = 0; i < n && !found; i++) {
        const struct offer *o = catalog_offer(cat, i);
        char *cr = xasprintf("%s/%s", o->cloud, o->region);
        char *crz = xasprintf("%s/%s", cr, o->zone);

        found = str_glob(loc, cr) || (*o->zone && str_glob(loc, crz));
        free(cr);
        free(crz);
    }
    return found;
}

static int check_location(const char *loc, struct err *e)
{
    struct catalog *cat;
    char shown[128];
    int rc = cli_load_catalog(NULL, &cat);

    if (rc != 0)
        return err_set(e, ST_EIO, "cannot check the location without the catalog");
    if (!location_known(cat, loc))
        rc = err_set(e, ST_EINVAL, "no offer of the catalog is at '%s' (a location is "
                     "CLOUD/REGION[/ZONE]; `stratus offers` lists them); nothing filed",
                     str_vis(shown, sizeof(shown), loc));
    catalog_free(cat);
    return rc;
}

/* kind's target: a job id for preempt-job, else "LOCATION[ SECONDS]". */
static int check_target(struct store *st, const char *kind, const char *arg, struct err *e)
{
    char loc[512];

    if (strcmp(kind, "preempt-job") == 0)
        return check_job(st, cli_job_id(arg), e);
    snprintf(loc, sizeof(loc), "%s", arg);
    loc[strcspn(loc, " ")] = '\0';
    return check_location(loc, e);
}

static int file_request(const char *kind, const char *arg)
{
    struct store *st;
    struct err e;
    int rc;

    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    err_clear(&e);
    rc = check_target(st, kind, arg, &e);
    if (rc == 0)
        rc = store_request_add(st, kind, arg, clock_now(&clock_wall), NULL, &e);
    store_close(st);
    if (rc != 0)
        return cli_fail(&e);
    printf("%s %s: requested\n", kind, arg);
    return cli_ensure_controller();
}

static int run_local(int argc, char **argv)
{
    static const struct option longs[] = {{"job", required_argument, NULL, 'j'},
                                          {"location", required_argument, NULL, 'l'},
                                          {"for", required_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    const char *job = NULL, *loc = NULL, *dur = "10m";
    double secs;
    char arg[512];
    int ch;

    if (argc < 2 || (strcmp(argv[1], "preempt") != 0 && strcmp(argv[1], "stockout") != 0 &&
                     strcmp(argv[1], "api-error") != 0)) {
        fputs(local_usage, argc < 2 ? stderr : stdout);
        return argc < 2 || strcmp(argv[1], "--help") != 0 ? 2 : 0;
    }
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 'j')
            job = optarg;
        else if (ch == 'l')
            loc = optarg;
        else if (ch == 'f')
            dur = optarg;
        else {
            fputs(local_usage, stderr);
            return 2;
        }
    }
    if (optind != argc || (job == NULL) == (loc == NULL) ||
        (strcmp(argv[1], "preempt") != 0 && loc == NULL)) {
        fputs(local_usage, stderr);
        return 2;
    }
    if (job)
        return cli_job_id(job) < 0 ? 2 : file_request("preempt-job", job);
    if (strcmp(argv[1], "preempt") == 0)
        return file_request("preempt-location", loc);
    if (str_to_duration(dur, &secs) != 0 || secs > 366 * 86400.0) {
        fprintf(stderr, "stratus: --for takes a duration like 90s, 10m or 2d (at most 366d; "
                        "--for 0 lifts it), not '%s'\n", dur);
        return 2;
    }
    snprintf(arg, sizeof(arg), "%s %.0f", loc, secs);
    return file_request(argv[1], arg);
}

const struct cli_cmd cli_cmd_local = {"local", "inject preemptions, stockouts and API errors (local clouds)",
                                      run_local};
