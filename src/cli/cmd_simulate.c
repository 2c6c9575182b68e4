/*
 * cmd_simulate.c - `stratus simulate`: the same planner and controller in
 * virtual time, on real traces, against baseline policies.
 *
 * Policies (all run the identical controller over the identical sim world):
 *   stratus            the org policy, ranking by expected cost (preemption
 *                      loss and egress included), the deadline rule, priority
 *                      displacement
 *   azure-ondemand     everything on Azure on demand (the single-cloud world)
 *   cheapest-ondemand  every job to the cheapest on-demand location
 *   greedy-spot        where the org policy allows, the cheapest price first
 *                      (spot when it is cheaper), failover to the next, no
 *                      deadline rule, no preemption awareness: what a
 *                      SkyPilot managed job does by default
 *   offline-bound      a lower bound on any schedule (sim.c says why)
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "policy/policy.h"
#include "sim/chart.h"
#include "sim/sim.h"
#include "sim/trace.h"
#include "util/strutil.h"
#include "util/xmem.h"

#define SIM_T0 1704067200.0 /* 2024-01-01T00:00:00Z: trace time 0 */

static const char sim_usage[] =
    "usage: stratus simulate --workload W.csv --fleet F.csv [--spot S.csv] [--prices P.csv]\n"
    "         [--policies stratus,azure-ondemand,cheapest-ondemand,greedy-spot,offline-bound]\n"
    "         [--org-policy P.yaml] [--json] [--chart OUT.svg] [--bucket 1d]\n"
    "         [--launch-delay 60s] [--restore 5m] [--catalog DIR] [--keep-stores DIR]\n"
    "         [--events FAULTS.csv]   (time_s,kind,arg: stockout|preempt-job|preempt-location)\n"
    "Runs the workload under each policy in virtual time and compares cost,\n"
    "completion times, preemptions and deadline misses.  Formats: docs/traces.md.\n"
    "--keep-stores keeps each run's store (DIR/POLICY.db) for `STRATUS_HOME`-free\n"
    "inspection with sqlite3 or python.\n";

static const char AZURE_OD[] = "rules:\n  - name: azure-ondemand\n    description: everything on "
                               "azure, on demand\n    allow: [azure]\n    spot: forbid\n";
static const char CHEAPEST_OD[] = "rules:\n  - name: cheapest-ondemand\n    description: the "
                                  "cheapest on-demand location\n    spot: forbid\n";

struct sim_args {
    const char *workload, *fleet, *spot, *prices, *policies, *org, *chart, *catalog, *keep, *events;
    double bucket_s, launch_delay_s, restore_s;
    int json;
};

static int parse_dur(const char *opt, const char *v, double *out)
{
    if (str_to_duration(v, out) == 0)
        return 0;
    fprintf(stderr, "stratus: %s takes a duration like 90s, 5m or 1d, not '%s'\n", opt, v);
    return 2;
}

static int parse_sim_args(int argc, char **argv, struct sim_args *a)
{
    static const struct option longs[] = {
        {"workload", required_argument, NULL, 'w'}, {"fleet", required_argument, NULL, 'f'},
        {"spot", required_argument, NULL, 's'},     {"prices", required_argument, NULL, 'p'},
        {"policies", required_argument, NULL, 'P'}, {"org-policy", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},           {"chart", required_argument, NULL, 'c'},
        {"bucket", required_argument, NULL, 'b'},   {"launch-delay", required_argument, NULL, 'l'},
        {"restore", required_argument, NULL, 'r'},  {"catalog", required_argument, NULL, 'C'},
        {"keep-stores", required_argument, NULL, 'k'},
        {"events", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    memset(a, 0, sizeof(*a));
    a->policies = "stratus,azure-ondemand,cheapest-ondemand,greedy-spot,offline-bound";
    a->bucket_s = 86400;
    a->launch_delay_s = 60;
    a->restore_s = 300;
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'w': a->workload = optarg; break;
        case 'f': a->fleet = optarg; break;
        case 's': a->spot = optarg; break;
        case 'p': a->prices = optarg; break;
        case 'P': a->policies = optarg; break;
        case 'o': a->org = optarg; break;
        case 'j': a->json = 1; break;
        case 'c': a->chart = optarg; break;
        case 'C': a->catalog = optarg; break;
        case 'k': a->keep = optarg; break;
        case 'e': a->events = optarg; break;
        case 'b': rc = parse_dur("--bucket", optarg, &a->bucket_s); break;
        case 'l': rc = parse_dur("--launch-delay", optarg, &a->launch_delay_s); break;
        case 'r': rc = parse_dur("--restore", optarg, &a->restore_s); break;
        case 'h': fputs(sim_usage, stdout); return -1;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (rc == 0 && (a->workload == NULL || a->fleet == NULL || optind != argc)) {
        fputs(sim_usage, stderr);
        return 2;
    }
    if (rc == 0 && a->bucket_s <= 0) {
        fprintf(stderr, "stratus: --bucket must be longer than 0\n");
        return 2;
    }
    return rc;
}

/* ---- output ---- */

static void print_row(const struct sim_result *r)
{
    char m[32];

    printf("%-18s %14s", r->name, str_money(m, sizeof(m), r->cost));
    for (int c = 0; c < 4; c++)
        printf(" %13s", str_money(m, sizeof(m), r->cost_by_cloud[c]));
    if (r->lower_bound) {
        printf("   (a lower bound: no capacity limits, no preemptions, lowest prices)\n");
        return;
    }
    printf(" %10.0f %9.0f %6ld %8.1f %8.1f %7.2f %5zu/%-5zu %5.1f%% %4zu\n", r->gpu_hours,
           r->lost_gpu_hours, r->preemptions, r->mean_jct_s / 3600, r->p95_jct_s / 3600,
           r->mean_queue_s / 3600, r->deadline_misses, r->deadline_jobs,
           r->gpu_hours > 0 ? 100 * r->spot_gpu_hours / r->gpu_hours : 0, r->failed);
}

static void print_table(const struct sim_result *res, size_t n)
{
    size_t i;

    printf("%-18s %14s %13s %13s %13s %13s %10s %9s %6s %8s %8s %7s %11s %6s %4s\n", "POLICY",
           "COST", "AZURE", "GCP", "OCI", "AWS", "GPU-H", "LOST-GPUH", "PREEMP", "JCT-H",
           "P95JCT-H", "QUEUE-H", "DL-MISS", "SPOT", "FAIL");
    for (i = 0; i < n; i++)
        print_row(&res[i]);
    for (i = 0; i < n; i++)
        if (!res[i].lower_bound)
            fprintf(stderr, "%s: %zu jobs, %llu controller steps, %llu transitions, %.2f s\n",
                    res[i].name, res[i].njobs, (unsigned long long)res[i].steps,
                    (unsigned long long)res[i].transitions, res[i].wall_s);
}

static json_t *result_json(const struct sim_result *r)
{
    json_t *o = json_object(), *by = json_object();
    int c;

    json_object_set_new(o, "policy", json_string(r->name));
    json_object_set_new(o, "lower_bound", json_boolean(r->lower_bound));
    json_object_set_new(o, "cost", json_real(r->cost));
    for (c = 0; c < SIM_NCLOUDS; c++)
        json_object_set_new(by, sim_cloud_names[c], json_real(r->cost_by_cloud[c]));
    json_object_set_new(o, "cost_by_cloud", by);
    json_object_set_new(o, "jobs", json_integer((json_int_t)r->njobs));
    json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
    if (!r->lower_bound) {
        json_object_set_new(o, "gpu_hours", json_real(r->gpu_hours));
        json_object_set_new(o, "lost_gpu_hours", json_real(r->lost_gpu_hours));
        json_object_set_new(o, "preemptions", json_integer(r->preemptions));
        json_object_set_new(o, "mean_jct_hours", json_real(r->mean_jct_s / 3600));
        json_object_set_new(o, "p95_jct_hours", json_real(r->p95_jct_s / 3600));
        json_object_set_new(o, "mean_queue_hours", json_real(r->mean_queue_s / 3600));
        json_object_set_new(o, "p95_queue_hours", json_real(r->p95_queue_s / 3600));
        json_object_set_new(o, "deadline_jobs", json_integer((json_int_t)r->deadline_jobs));
        json_object_set_new(o, "deadline_misses", json_integer((json_int_t)r->deadline_misses));
        json_object_set_new(o, "spot_share", json_real(r->gpu_hours > 0 ? r->spot_gpu_hours / r->gpu_hours : 0));
        json_object_set_new(o, "wall_seconds", json_real(r->wall_s));
        json_object_set_new(o, "transitions", json_integer((json_int_t)r->transitions));
    }
    return o;
}

static int write_chart(const char *path, const struct sim_result *res, size_t n)
{
    struct chart_panel *panels = xcalloc(n + 1, sizeof(*panels));
    double **usd = xcalloc(n + 1, sizeof(*usd));
    FILE *fp = fopen(path, "w");
    size_t i;
    int rc;

    if (fp == NULL) {
        fprintf(stderr, "stratus: cannot write %s\n", path);
        free(usd);
        free(panels);
        return 2;
    }
    size_t used = 1, b;
    int c;

    /* Every panel shares the time axis, up to the last bucket with spend. */
    for (i = 0; i < n; i++)
        for (c = 0; c < SIM_NCLOUDS; c++)
            for (b = 0; b < res[i].nbuckets; b++)
                if (res[i].spend[(size_t)c * res[i].nbuckets + b] > 0 && b + 1 > used)
                    used = b + 1;
    for (i = 0; i < n; i++) {
        panels[i].title = res[i].name;
        panels[i].nbuckets = used < res[i].nbuckets ? used : res[i].nbuckets;
        panels[i].bucket_s = res[i].bucket_s;
        panels[i].nclouds = SIM_NCLOUDS;
        panels[i].clouds = sim_cloud_names;
        usd[i] = xcalloc(SIM_NCLOUDS * panels[i].nbuckets + 1, sizeof(double));
        for (c = 0; c < SIM_NCLOUDS; c++)
            memcpy(usd[i] + (size_t)c * panels[i].nbuckets,
                   res[i].spend + (size_t)c * res[i].nbuckets,
                   panels[i].nbuckets * sizeof(double));
        panels[i].usd = usd[i];
    }
    rc = chart_write_svg(fp, "Spend over time by cloud", panels, n);
    if (fclose(fp) != 0)
        rc = ST_EIO;
    for (i = 0; i < n; i++)
        free(usd[i]);
    free(usd);
    free(panels);
    if (rc != 0)
        fprintf(stderr, "stratus: cannot write the chart to %s\n", path);
    return rc == 0 ? 0 : 3;
}

/* ---- running ---- */

/* One line on stderr: how big the fleet is. */
static void print_fleet(const struct catalog *cat, const long *od, const long *sp)
{
    double nodes = 0, gpus = 0, spot = 0;
    size_t i;

    for (i = 0; i < catalog_noffers(cat); i++) {
        nodes += (double)od[i];
        gpus += (double)od[i] * catalog_offer(cat, i)->acc_count;
        spot += (double)sp[i] * catalog_offer(cat, i)->acc_count;
    }
    fprintf(stderr, "fleet: %.0f nodes, %.0f GPUs on demand, %.0f spot GPUs before traces\n",
            nodes, gpus, spot);
}

static int load_inputs(const struct sim_args *a, struct catalog *cat, struct trace *work,
                       struct trace *spot, struct trace *prices, long **od, long **sp,
                       struct sim_event **events, struct sim_input *in)
{
    struct err e;

    err_clear(&e);
    if (trace_load_jobs(work, a->workload, &e) != 0 ||
        (a->spot && trace_load_spot(spot, a->spot, &e) != 0) ||
        (a->prices && trace_load_prices(prices, a->prices, &e) != 0) ||
        sim_load_fleet(cat, a->fleet, od, sp, &e) != 0 ||
        (a->events && sim_load_events(a->events, events, &in->nevents, &e) != 0))
        return cli_fail(&e);
    in->events = *events;
    in->od_cap = *od;
    in->spot_cap = *sp;
    print_fleet(cat, *od, *sp);
    in->cat = cat;
    in->work = work;
    in->spot = a->spot ? spot : NULL;
    in->prices = a->prices ? prices : NULL;
    in->t0 = SIM_T0;
    in->launch_delay_s = a->launch_delay_s;
    in->restore_s = a->restore_s;
    in->bucket_s = a->bucket_s;
    in->store_dir = a->keep;
    return 0;
}

static int load_policy_text(const char *name, const char *text, struct policy **out)
{
    struct err e;

    err_clear(&e);
    return policy_load_mem(out, name, text, strlen(text), &e) == 0 ? 0 : cli_fail(&e);
}

static int run_one(const char *name, const struct sim_input *in, const struct policy *org,
                   struct sim_result *res)
{
    struct sim_policy sp = {name, org, 1, 0, 1};
    struct policy *own = NULL;
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (strcmp(name, "offline-bound") == 0)
        return sim_offline_bound(in, NULL, res, &e) == 0 ? 0 : cli_fail(&e);
    if (strcmp(name, "azure-ondemand") == 0 || strcmp(name, "cheapest-ondemand") == 0) {
        rc = load_policy_text(name, name[0] == 'a' ? AZURE_OD : CHEAPEST_OD, &own);
        sp = (struct sim_policy){name, own, 0, 1, 0};
    } else if (strcmp(name, "greedy-spot") == 0) {
        sp = (struct sim_policy){name, org, 0, 1, 0};
    } else if (strcmp(name, "stratus") != 0) {
        fprintf(stderr, "stratus: unknown policy '%s' (stratus, azure-ondemand, "
                        "cheapest-ondemand, greedy-spot, offline-bound)\n", name);
        return 2;
    }
    if (rc == 0 && sim_run(in, &sp, res, &e) != 0)
        rc = cli_fail(&e);
    policy_free(own);
    return rc;
}

static int run_simulate(int argc, char **argv)
{
    struct sim_args a;
    struct catalog *cat = NULL;
    struct policy *org = NULL;
    struct trace work, spot, prices;
    struct sim_input in;
    struct sim_result res[8];
    char *list, *tok, *save = NULL;
    long *od = NULL, *sp = NULL;
    struct sim_event *events = NULL;
    size_t n = 0, i;
    int rc = parse_sim_args(argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    memset(&in, 0, sizeof(in));
    memset(res, 0, sizeof(res));
    trace_init(&work);
    trace_init(&spot);
    trace_init(&prices);
    if ((rc = cli_load_catalog(a.catalog, &cat)) == 0 && a.org) {
        struct err e;

        if (policy_load_file(&org, a.org, &e) != 0)
            rc = cli_fail(&e);
    }
    if (rc == 0)
        rc = load_inputs(&a, cat, &work, &spot, &prices, &od, &sp, &events, &in);
    list = xstrdup(a.policies);
    for (tok = strtok_r(list, ",", &save); rc == 0 && tok && n < 8; tok = strtok_r(NULL, ",", &save)) {
        rc = run_one(tok, &in, org, &res[n]);
        if (rc == 0)
            n++;
    }
    if (rc == 0 && a.json) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, result_json(&res[i]));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    } else if (rc == 0) {
        print_table(res, n);
    }
    if (rc == 0 && a.chart)
        rc = write_chart(a.chart, res, n);
    for (i = 0; i < n; i++)
        sim_result_free(&res[i]);
    free(list);
    free(od);
    free(sp);
    free(events);
    trace_free(&work);
    trace_free(&spot);
    trace_free(&prices);
    policy_free(org);
    catalog_free(cat);
    return rc;
}

const struct cli_cmd cli_cmd_simulate = {"simulate",
                                         "compare scheduling policies on traces, in virtual time",
                                         run_simulate};
