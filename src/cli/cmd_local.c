/*
 * cmd_local.c - `stratus local ...`: fault injection into the embedded local
 * clouds, for people and tests.  Each command asks the server
 * (POST /v1/local/inject), which files a request in the store; the
 * controller hands it to its driver (driver_inject) and records what
 * follows (preemption notices, recoveries, failovers).
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char local_usage[] =
    "usage: stratus local preempt --job JOB\n"
    "       stratus local preempt --service NAME --replica ID\n"
    "       stratus local preempt --location CLOUD/REGION[/ZONE]\n"
    "       stratus local stockout --location CLOUD/REGION[/ZONE] [--for DURATION]\n"
    "       stratus local api-error --location CLOUD/REGION[/ZONE] [--for DURATION]\n"
    "preempt takes a node back from a job (or every node at a location), after\n"
    "the notice period, as a cloud reclaims spot capacity (a service's replica\n"
    "is its job: `stratus serve status NAME` lists their ids);\n"
    "stockout makes a location refuse launches for lack of capacity, api-error\n"
    "makes its API fail them (for 10m unless --for says).\n";

/* File the request with the server, which checks what it names first (the
 * job exists and has not ended, the location is in its catalog) and says
 * why it refuses, so that a typo fails here instead of being "requested"
 * and ignored. */
static int file_request(const char *kind, const char *arg)
{
    json_t *body = json_object(), *r = NULL;
    struct err e;
    int rc;

    json_object_set_new(body, "kind", json_string(kind));
    json_object_set_new(body, "arg", json_string(arg));
    err_clear(&e);
    rc = client_call("POST", "/v1/local/inject", body, &r, &e);
    json_decref(body);
    json_decref(r);
    if (rc != 0)
        return cli_fail(&e);
    printf("%s %s: requested\n", kind, arg);
    return 0;
}

/* The job of replica `rep` of service `name`, checked with the server. */
static int replica_job(const char *name, const char *rep, char *job, size_t n)
{
    char *esc = client_escape(name), *path = xasprintf("/v1/services/%s", esc);
    const json_t *reps;
    json_t *r = NULL;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    rc = client_call("GET", path, NULL, &r, &e);
    free(esc);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    reps = json_object_get(r, "replicas");
    for (i = 0; i < json_array_size(reps); i++) {
        const json_t *x = json_array_get(reps, i);

        snprintf(job, n, "%lld", (long long)json_integer_value(json_object_get(x, "id")));
        if (strcmp(job, rep) == 0) {
            json_decref(r);
            return 0;
        }
    }
    json_decref(r);
    fprintf(stderr, "stratus: service %s has no replica %s (`stratus serve status %s` lists "
            "them)\n", name, rep, name);
    return 1;
}

static int run_local(int argc, char **argv)
{
    static const struct option longs[] = {{"job", required_argument, NULL, 'j'},
                                          {"location", required_argument, NULL, 'l'},
                                          {"for", required_argument, NULL, 'f'},
                                          {"service", required_argument, NULL, 's'},
                                          {"replica", required_argument, NULL, 'r'},
                                          {NULL, 0, NULL, 0}};
    const char *job = NULL, *loc = NULL, *dur = "10m", *svc = NULL, *rep = NULL;
    double secs;
    char arg[512], rjob[32];
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
        else if (ch == 's')
            svc = optarg;
        else if (ch == 'r')
            rep = optarg;
        else {
            fputs(local_usage, stderr);
            return 2;
        }
    }
    if ((svc == NULL) != (rep == NULL) || (svc && (job || loc))) {
        fputs(local_usage, stderr);
        return 2;
    }
    if (svc != NULL) {
        int rc = replica_job(svc, rep, rjob, sizeof(rjob));

        if (rc != 0)
            return rc;
        job = rjob;
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

const struct cli_cmd cli_cmd_local = {
    "local", "inject preemptions, stockouts and API errors (local clouds)", run_local,
    local_usage};
