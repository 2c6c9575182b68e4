/*
 * cmd_simulate.c - `stratus simulate`: the same planner and controller in
 * virtual time, on real traces, against baseline policies.
 *
 * Policies (all run the identical controller over the identical sim world,
 * and every one obeys the org policy: a baseline only narrows what the
 * policy allows, so no baseline is credited with a placement the lab forbids):
 *   stratus            the org policy, ranking by expected cost (preemption
 *                      loss and egress included), the deadline rule, priority
 *                      displacement
 *   azure-ondemand     everything on Azure on demand (the single-cloud world)
 *   cheapest-ondemand  the cheapest on-demand location the org policy allows
 *   spot-else-ondemand where the org policy allows, the cheapest price first
 *                      (spot when it is cheaper), failover to the next, no
 *                      deadline rule, no preemption awareness: spot while
 *                      there is some, else on demand, which it keeps (it
 *                      is never preempted): what a SkyPilot managed job does
 *                      by default (it was called greedy-spot)
 *   cbl-greedy         "Can't Be Late"'s Greedy (§3.4): as stratus, but a
 *                      deadline job takes spot or waits for it until its
 *                      slack is down to two changeovers, then on demand for
 *                      good (not in the default list)
 *   offline-bound      a lower bound on any schedule that obeys the org
 *                      policy, at the prices in force, within the fleet
 *                      (src/sim/bound.c says why); each policy's cost is also
 *                      printed as a ratio to it
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../policy/org.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../sim/chart.h"
#include "../sim/reqtrace.h"
#include "../sim/serve_bound.h"
#include "../sim/serve_chart.h"
#include "../sim/bound.h"
#include "../sim/sim.h"
#include "../sim/sim_serve.h"
#include "../sim/trace.h"
#include "../util/fsutil.h"
#include "../util/lazyglpk.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define SIM_T0 1704067200.0 /* 2024-01-01T00:00:00Z: trace time 0 */

static const char sim_usage[] =
    "usage: stratus simulate --workload W.csv --fleet F.csv [--spot S.csv] [--prices "
    "P.csv]\n"
    "         [--policies stratus,azure-ondemand,cheapest-ondemand,spot-else-ondemand,\n"
    "                     offline-bound (the default), cbl-greedy]\n"
    "         [--org-policy P.yaml] [--json] [--chart OUT.svg] [--bucket 1d]\n"
    "         [--teams ORG.json]   (stratus admits by the teams' quotas, cohorts and "
    "fair\n"
    "         share, against fcfs: the default policies become stratus,fcfs; "
    "docs/teams.md)\n"
    "         [--launch-delay 60s] [--restore 5m] [--catalog DIR] [--keep-stores DIR]\n"
    "         [--events FAULTS.csv]   (time_s,kind,arg: "
    "stockout|preempt-job|preempt-location)\n"
    "         [--commitments FILE]    (committed nodes, used first by every policy; "
    "their\n"
    "                                  fixed cost is charged to every run and the "
    "bound;\n"
    "                                  trace time 0 is 2024-01-01T00:00:00Z for their "
    "dates)\n"
    "Runs the workload under each policy in virtual time and compares cost,\n"
    "completion times, preemptions and deadline misses.  Formats: docs/traces.md.\n"
    "--keep-stores keeps each run's store (DIR/POLICY.db) for `STRATUS_HOME`-free\n"
    "inspection with sqlite3 or python.\n"
    "\n"
    "       stratus simulate --service SPEC.yaml --requests TRACE.csv [--fleet F.csv]\n"
    "         [--spot S.csv] [--prices P.csv] [--org-policy P.yaml] [--seed N] [--json]\n"
    "         [--model llama-3.1-8b|llama-3.1-70b] [--warmup 2m] [--lead 10m]\n"
    "         [--launch-delay 60s] [--notice 30s] [--catalog DIR] [--chart OUT.svg]\n"
    "         [--policies stratus,ondemand,spot-only,skyserve-like (the default)]\n"
    "Runs one service on a request trace (docs/traces.md, \"Request CSV\") under each\n"
    "policy with the real replica manager, controller and router selection code in\n"
    "virtual time and reports cost, requests served/failed, latency percentiles and\n"
    "the share within the spec's latency_slo_ms (docs/sim-serve.md).\n";

/* The policies to compare: how each drives the same controller.  A
 * baseline's narrowing (on demand only, one cloud) is applied to every job's
 * spec, so the planner intersects it with the org policy's rules. */
static const struct sim_policy sim_policies[] = {
    /* name, pol, deadline_rule, by_price, displace, ondemand_only, only_cloud, teams,
     * data_gravity (the baselines move a job's data from its home whenever an
     * attempt runs away from the region the one before ran in), patience
     * (the policy rules' patience: docs/patience.md), commit_backfill
     * (docs/commitments.md) */
    {"stratus", NULL, SCHED_DEADLINE_UNIFORM, 0, 1, 0, NULL, 0, 1, 1, 1},
    {"azure-ondemand", NULL, 0, 1, 0, 1, "azure", 0, 0, 0, 0},
    {"cheapest-ondemand", NULL, 0, 1, 0, 1, NULL, 0, 0, 0, 0},
    {"spot-else-ondemand", NULL, 0, 1, 0, 0, NULL, 0, 0, 0, 0},
    {"cbl-greedy", NULL, SCHED_DEADLINE_GREEDY, 0, 1, 0, NULL, 0, 1, 0, 1},
    /* stratus without teams: first come, first served (within priority), no
     * quota; with --teams, `stratus` admits by the teams and this is the
     * baseline it is compared against */
    {"fcfs", NULL, SCHED_DEADLINE_UNIFORM, 0, 1, 0, NULL, 0, 1, 1, 1},
};

/* The default policies, but for their bound (which needs GLPK). */
#define BATCH_POLICIES "stratus,azure-ondemand,cheapest-ondemand,spot-else-ondemand"
#define SERVE_POLICIES "stratus,ondemand,spot-only,skyserve-like"

struct sim_args {
    const char *workload, *fleet, *spot, *prices, *policies, *org, *chart, *catalog, *keep, *events;
    const char *teams;
    const char *commitments; /* replaces the catalog's commitments.csv */
    const char *service, *requests, *model; /* --service mode */
    double bucket_s, launch_delay_s, restore_s, warmup_s, lead_s, notice_s;
    unsigned long long seed;
    int json, policies_given, seed_given;
};

static int parse_dur(const char *opt, const char *v, double *out)
{
    if (str_to_duration(v, out) == 0)
        return 0;
    fprintf(stderr, "stratus: %s takes a duration like 90s, 5m or 1d, not '%s'\n", opt, v);
    return 2;
}

static int parse_seed(const char *v, unsigned long long *out)
{
    char *end = NULL;

    *out = strtoull(v, &end, 10);
    if (*v != '\0' && *v != '-' && end && *end == '\0')
        return 0;
    fprintf(stderr, "stratus: --seed takes a non-negative integer, not '%s'\n", v);
    return 2;
}

/* --service mode: a request trace instead of a workload; no fleet needed. */
static int check_serve_args(const struct sim_args *a, int argc)
{
    if (a->requests == NULL || a->workload != NULL || optind != argc) {
        fprintf(stderr, "stratus: simulate --service needs --requests TRACE.csv (and takes "
                        "no --workload)\n");
        fputs(sim_usage, stderr);
        return 2;
    }
    if (a->events != NULL || a->keep != NULL || a->teams != NULL) {
        /* refused rather than ignored: a run that looks faulted and is not */
        fprintf(stderr,
                "stratus: simulate --service takes no --events, --keep-stores or "
                "--teams (they are for workload studies; a service study's spot is "
                "taken back by --spot and the catalog's rates)\n");
        return 2;
    }
    if (a->commitments != NULL) {
        /* the service study does not charge their fixed cost (nor does
         * its bound): refuse rather than report committed replicas as free */
        fprintf(stderr, "stratus: simulate --service takes no --commitments (committed "
                        "capacity is modelled for workload studies)\n");
        return 2;
    }
    return 0;
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
        {"service", required_argument, NULL, 'S'},  {"requests", required_argument, NULL, 'R'},
        {"model", required_argument, NULL, 'M'},    {"warmup", required_argument, NULL, 'W'},
        {"lead", required_argument, NULL, 'L'},     {"seed", required_argument, NULL, 'D'},
        {"notice", required_argument, NULL, 'N'},   {"help", no_argument, NULL, 'h'},
        {"teams", required_argument, NULL, 'T'},
        {"commitments", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    memset(a, 0, sizeof(*a));
    a->policies = BATCH_POLICIES ",offline-bound";
    a->bucket_s = 86400;
    a->launch_delay_s = 60;
    a->restore_s = 300;
    a->warmup_s = 120;
    a->notice_s = 30;
    a->lead_s = 600;
    a->seed = 1;
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'w': a->workload = optarg; break;
        case 'f': a->fleet = optarg; break;
        case 's': a->spot = optarg; break;
        case 'p': a->prices = optarg; break;
        case 'P': a->policies = optarg; a->policies_given = 1; break;
        case 'o': a->org = optarg; break;
        case 'T': a->teams = optarg; break;
        case 'K': a->commitments = optarg; break;
        case 'j': a->json = 1; break;
        case 'c': a->chart = optarg; break;
        case 'C': a->catalog = optarg; break;
        case 'k': a->keep = optarg; break;
        case 'e': a->events = optarg; break;
        case 'S': a->service = optarg; break;
        case 'R': a->requests = optarg; break;
        case 'M': a->model = optarg; break;
        case 'W': rc = parse_dur("--warmup", optarg, &a->warmup_s); break;
        case 'N': rc = parse_dur("--notice", optarg, &a->notice_s); break;
        case 'L': rc = parse_dur("--lead", optarg, &a->lead_s); break;
        case 'D':
            rc = parse_seed(optarg, &a->seed), a->seed_given = 1;
            break;
        case 'b': rc = parse_dur("--bucket", optarg, &a->bucket_s); break;
        case 'l': rc = parse_dur("--launch-delay", optarg, &a->launch_delay_s); break;
        case 'r': rc = parse_dur("--restore", optarg, &a->restore_s); break;
        case 'h': fputs(sim_usage, stdout); return -1;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (rc == 0 && a->service != NULL)
        return check_serve_args(a, argc);
    if (rc == 0 && (a->workload == NULL || a->fleet == NULL || optind != argc)) {
        if (optind != argc)
            fprintf(stderr, "stratus: simulate takes no argument '%s' (options only)\n",
                    argv[optind]);
        else
            fprintf(stderr, "stratus: simulate needs %s\n",
                    a->workload == NULL
                        ? "--workload W.csv (or --service S.yaml --requests R.csv)"
                        : "--fleet F.csv (nodes per offer, docs/traces.md)");
        fputs(sim_usage, stderr);
        return 2;
    }
    if (rc == 0 && a->seed_given) {
        fprintf(stderr, "stratus: --seed is for --service studies; a workload study's "
                        "preemptions are drawn the same way every run\n");
        return 2;
    }
    if (rc == 0 && a->teams != NULL && !a->policies_given)
        a->policies = "stratus,fcfs";
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
    for (int c = 0; c < SIM_NCLOUDS; c++) /* the last: every other cloud */
        printf(" %13s", str_money(m, sizeof(m), r->cost_by_cloud[c]));
    if (r->lower_bound) {
        printf("   (a lower bound: the org policy, the prices in force, the fleet)\n");
        return;
    }
    printf(" %10.0f %9.0f %6ld %8.1f %8.1f %7.2f %5zu/%-5zu %5.1f%% %4zu\n", r->gpu_hours,
           r->lost_gpu_hours, r->preemptions, r->mean_jct_s / 3600, r->p95_jct_s / 3600,
           r->mean_queue_s / 3600, r->deadline_misses, r->deadline_jobs,
           r->gpu_hours > 0 ? 100 * r->spot_gpu_hours / r->gpu_hours : 0, r->failed);
}

/* Where a policy's money went: compute that made progress, compute whose
 * work was lost (preempted or stopped since the last checkpoint), egress. */
static json_t *cost_split_json(const struct sim_result *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "compute", json_real(r->cost - r->lost_cost - r->egress_cost -
                                                r->storage_cost - r->commit_cost));
    json_object_set_new(o, "lost_work", json_real(r->lost_cost));
    json_object_set_new(o, "egress", json_real(r->egress_cost));
    json_object_set_new(o, "storage", json_real(r->storage_cost));
    json_object_set_new(o, "commitments", json_real(r->commit_cost));
    return o;
}

/* The commitments' node-hours over the study and the share that ran work. */
static json_t *commit_use_json(const struct sim_result *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "node_hours", json_real(r->commit_node_h));
    json_object_set_new(o, "used_node_hours", json_real(r->commit_used_h));
    json_object_set_new(o, "utilisation",
                        json_real(r->commit_node_h > 0 ? r->commit_used_h / r->commit_node_h : 0));
    return o;
}

/* The offline bound among the results, or NULL. */
static const struct sim_result *find_bound(const struct sim_result *res, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (res[i].lower_bound)
            return &res[i];
    return NULL;
}

/* Each policy's cost as a ratio to the bound (how far from the best any
 * schedule under the same rules could do), and the bound's program. */
static void print_ratios(const struct sim_result *res, size_t n)
{
    const struct sim_result *lb = find_bound(res, n);
    size_t i, nfailed = 0;

    if (lb == NULL)
        return;
    printf("\nCost / offline bound:");
    for (i = 0; i < n; i++)
        if (!res[i].lower_bound)
            printf("  %s %.3f%s", res[i].name, lb->cost > 0 ? res[i].cost / lb->cost : 0,
                   res[i].failed > lb->failed ? "*" : "");
    printf("\n");
    /* The bound runs every job some schedule can run (the others every run
     * fails too); a run that failed more did less work, and its ratio (even
     * below 1) compares unlike things. */
    for (i = 0; i < n; i++)
        if (!res[i].lower_bound && res[i].failed > lb->failed && ++nfailed)
            printf(
                "(* %s failed %zu job%s the bound runs, so its ratio is not a comparison "
                "of the same work)\n",
                res[i].name, res[i].failed - lb->failed,
                res[i].failed - lb->failed == 1 ? "" : "s");
    if (lb->lp_horizon_s > 0)
        printf("(the bound: any schedule under the org policy that is done by %.1f days: "
               "when the last run above was%s, or a job's submission plus its run on its "
               "first alternative if later, in whole buckets of %.0f h)\n",
               lb->lp_horizon_s / 86400,
               nfailed ? " done with the jobs it did not fail" : "",
               SIM_BOUND_BUCKET_S / 3600);
    if (lb->lp_pinned > 0)
        printf("(and that starts the %zu jobs the policy does not let wait when they come, "
               "as every run above did)\n", lb->lp_pinned);
    fprintf(stderr, "offline-bound: an LP of %zu rows, %zu columns, %zu nonzeros, %.2f s\n",
            lb->lp_rows, lb->lp_cols, lb->lp_nnz, lb->wall_s);
}

static void print_table(const struct sim_result *res, size_t n)
{
    size_t i;

    printf("%-18s %14s %13s %13s %13s %13s %13s %10s %9s %6s %8s %8s %7s %11s %6s %4s\n",
           "POLICY", "COST", "AZURE", "GCP", "OCI", "AWS", "OTHER", "GPU-H", "LOST-GPUH", "PREEMP", "JCT-H",
           "P95JCT-H", "QUEUE-H", "DL-MISS", "SPOT", "FAIL");
    for (i = 0; i < n; i++)
        print_row(&res[i]);
    for (i = 0; i < n; i++)
        if (!res[i].lower_bound)
            fprintf(stderr, "%s: %zu jobs, %llu controller steps, %llu transitions, %.2f s\n",
                    res[i].name, res[i].njobs, (unsigned long long)res[i].steps,
                    (unsigned long long)res[i].transitions, res[i].wall_s);
    print_ratios(res, n);
}

/* Where each policy's money went (the README's study tables): compute that
 * made progress, work lost, egress, storage, and the commitments' fixed cost
 * with the share of their node-hours that ran work, when there are any. */
static void print_split(const struct sim_result *res, size_t n, int commits)
{
    char m[5][32];
    size_t i;

    printf("\n%-18s %14s %14s %14s %14s %14s", "COST SPLIT", "COMPUTE", "LOST-WORK",
           "EGRESS", "STORAGE", "COMMITMENTS");
    printf(commits ? " %10s\n" : "\n", "COMMIT-USE");
    for (i = 0; i < n; i++) {
        const struct sim_result *r = &res[i];
        double use = r->commit_node_h > 0 ? 100 * r->commit_used_h / r->commit_node_h : 0;
        double compute =
            r->cost - r->lost_cost - r->egress_cost - r->storage_cost - r->commit_cost;

        printf("%-18s %14s %14s %14s %14s %14s", r->name,
               str_money(m[0], sizeof(m[0]), compute),
               r->lower_bound ? "-" : str_money(m[1], sizeof(m[1]), r->lost_cost),
               str_money(m[2], sizeof(m[2]), r->egress_cost),
               str_money(m[3], sizeof(m[3]), r->storage_cost),
               str_money(m[4], sizeof(m[4]), r->commit_cost));
        if (commits)
            printf(" %9.1f%%", use);
        printf("\n");
    }
    if (commits)
        printf(
            "(COMMIT-USE: of the node-hours committed over the study, the share that ran "
            "work)\n");
}

/* Each team's share and wait under each policy (--teams). */
static void print_teams(const struct sim_result *res, size_t n)
{
    size_t i, t;

    printf("\n%-18s %-14s %7s %10s %6s %9s %9s %9s\n", "POLICY", "TEAM", "JOBS", "GPU-H",
           "SHARE", "WAIT-H", "P50WAIT-H", "P95WAIT-H");
    for (i = 0; i < n; i++) {
        if (res[i].lower_bound)
            continue;
        for (t = 0; t <= SIM_MAX_TEAMS; t++) {
            const struct sim_team_result *r = &res[i].teams[t];

            if (r->jobs == 0)
                continue;
            printf("%-18s %-14s %7zu %10.0f %5.1f%% %9.2f %9.2f %9.2f\n", res[i].name, r->name,
                   r->jobs, r->gpu_hours,
                   res[i].gpu_hours > 0 ? 100 * r->gpu_hours / res[i].gpu_hours : 0,
                   r->mean_queue_s / 3600, r->p50_queue_s / 3600, r->p95_queue_s / 3600);
        }
    }
}

static json_t *teams_json(const struct sim_result *r)
{
    json_t *arr = json_array();
    size_t t;

    for (t = 0; t <= SIM_MAX_TEAMS; t++) {
        const struct sim_team_result *tr = &r->teams[t];

        if (tr->jobs == 0)
            continue;
        json_array_append_new(
            arr, json_pack("{s:s,s:I,s:f,s:f,s:f,s:f,s:f}", "team", tr->name, "jobs",
                           (json_int_t)tr->jobs, "gpu_hours", tr->gpu_hours, "share",
                           r->gpu_hours > 0 ? tr->gpu_hours / r->gpu_hours : 0.0,
                           "mean_wait_h", tr->mean_queue_s / 3600, "p50_wait_h",
                           tr->p50_queue_s / 3600, "p95_wait_h", tr->p95_queue_s / 3600));
    }
    return arr;
}

static json_t *bound_json(const struct sim_result *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "rows", json_integer((json_int_t)r->lp_rows));
    json_object_set_new(o, "columns", json_integer((json_int_t)r->lp_cols));
    json_object_set_new(o, "nonzeros", json_integer((json_int_t)r->lp_nnz));
    json_object_set_new(o, "horizon_days", json_real(r->lp_horizon_s / 86400));
    json_object_set_new(o, "pinned", json_integer((json_int_t)r->lp_pinned));
    return o;
}

/* One result; `lb` (may be NULL) is the bound the cost is a ratio to. */
static json_t *result_json(const struct sim_result *r, const struct sim_result *lb)
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
    if (r->commit_node_h > 0)
        json_object_set_new(o, "commitment_use", commit_use_json(r));
    if (!r->lower_bound)
        json_object_set_new(o, "teams", teams_json(r));
    if (r->lower_bound) {
        json_object_set_new(o, "commitments", json_real(r->commit_cost));
        json_object_set_new(o, "lp", bound_json(r));
        json_object_set_new(o, "wall_seconds", json_real(r->wall_s));
        json_object_set_new(o, "cost_split", cost_split_json(r)); /* compute and egress */
    } else if (lb && lb->cost > 0) {
        json_object_set_new(o, "ratio_to_bound", json_real(r->cost / lb->cost));
        /* false: the run failed jobs the bound runs (the same work was not done) */
        json_object_set_new(o, "ratio_comparable", json_boolean(r->failed <= lb->failed));
    }
    if (!r->lower_bound) {
        json_object_set_new(o, "gpu_hours", json_real(r->gpu_hours));
        json_object_set_new(o, "commitment_covered", json_real(r->commit_covered));
        json_object_set_new(o, "commitment_expired", json_real(r->commit_expired));
        json_object_set_new(o, "lost_gpu_hours", json_real(r->lost_gpu_hours));
        json_object_set_new(o, "cost_split", cost_split_json(r));
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
    work->cat = spot->cat = prices->cat = cat;
    if (trace_load_jobs(work, a->workload, &e) != 0 ||
        (a->spot && trace_load_spot(spot, a->spot, &e) != 0) ||
        (a->prices && trace_load_prices(prices, a->prices, &e) != 0) ||
        sim_load_fleet(cat, a->fleet, od, sp, &e) != 0 ||
        (a->events &&
         sim_load_events(a->events, cat, work, events, &in->nevents, &e) != 0))
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
    if (a->keep && fs_mkdirs(a->keep, 0700, &e) != 0)
        return cli_fail(&e);
    return 0;
}

/* Commitments the study cannot use are still charged: say which, by line.
 * One never in force while the workload runs (trace time 0 is SIM_T0,
 * 2024-01-01), or of an offer the fleet has fewer on-demand nodes of than
 * it commits (committed nodes are on-demand nodes of the fleet). */
static void warn_commitments(const char *file, const struct catalog *cat,
                             const struct sim_input *in)
{
    size_t nm = catalog_ncommitments(cat), no = catalog_noffers(cat), i, k;
    double last = 0;

    for (i = 0; i < in->work->njobs; i++) {
        const struct trace_job *j = &in->work->jobs[i];

        last = fmax(last, j->submit_s + j->duration_s);
    }
    last += in->t0;
    for (i = 0; i < nm; i++) {
        const struct commitment *m = catalog_commitment(cat, i);
        long fleet = 0;

        if (m->start >= last || (m->end > 0 && m->end <= in->t0))
            fprintf(
                stderr,
                "stratus: warning: %s:%u: this commitment is never in force while the "
                "workload runs (trace time 0 is 2024-01-01T00:00:00Z; its last job "
                "could end %.1f days after it): it is charged nothing and used never; "
                "give it a start within the study\n",
                file, m->line, (last - in->t0) / 86400);
        for (k = 0; k < no; k++) {
            const struct offer *o = catalog_offer(cat, k);

            if (strcmp(o->cloud, m->cloud) == 0 && strcmp(o->region, m->region) == 0 &&
                strcmp(o->instance_type, m->instance_type) == 0 &&
                (!*m->zone || strcmp(o->zone, m->zone) == 0))
                fleet += in->od_cap[k];
        }
        if (fleet < m->count)
            fprintf(
                stderr,
                "stratus: warning: %s:%u: %d nodes committed of %s/%s %s, but the fleet "
                "has %ld on demand there: %s (committed nodes are on-demand nodes of "
                "the fleet); add them to the fleet or commit fewer\n",
                file, m->line, m->count, m->cloud, m->region, m->instance_type, fleet,
                fleet == 0 ? "none of them can run, and all are charged"
                           : "the rest cannot run, and are charged");
    }
}

/* Run policy `name`; the bound (end_s: when the other runs were done) is
 * left to run_all. */
static int run_one(const char *name, const struct sim_input *in, const struct policy *org,
                   struct sim_result *res)
{
    struct sim_policy sp;
    struct err e;
    size_t i;

    err_clear(&e);
    for (i = 0; i < sizeof(sim_policies) / sizeof(sim_policies[0]); i++)
        if (strcmp(name, sim_policies[i].name) == 0)
            break;
    if (i == sizeof(sim_policies) / sizeof(sim_policies[0])) {
        fprintf(stderr, "stratus: unknown policy '%s' (stratus, azure-ondemand, "
                        "cheapest-ondemand, spot-else-ondemand, cbl-greedy, fcfs, "
                        "offline-bound)\n",
                name);
        return 2;
    }
    sp = sim_policies[i];
    sp.pol = org;
    sp.teams = strcmp(name, "stratus") == 0 && in->org != NULL;
    return sim_run(in, &sp, res, &e) == 0 ? 0 : cli_fail(&e);
}

/* Run every policy of the list into res[0 .. *n), in the list's order, the
 * offline bound last: it bounds the schedules that are done by the time the
 * last of the compared runs was (each of them is such a schedule), so that
 * capacity counts; alone, it bounds schedules that may take forever. */
/* The jobs every run in res[0 .. n) started at once and ran on one attempt
 * (NULL: none, or no run): the bound holds them to their submission where
 * the policy does not let them wait (bound.c: pin_jobs), and stays a lower
 * bound on each run. */
static unsigned char *prompt_jobs(const struct sim_input *in, const char *const *names,
                                  const struct sim_result *res, size_t n)
{
    unsigned char *pin = xcalloc(in->work->njobs + 1, 1);
    size_t i, j, runs = 0, held = 0;

    for (i = 0; i < n; i++)
        runs += strcmp(names[i], "offline-bound") != 0 && res[i].prompt != NULL;
    for (j = 0; runs > 0 && j < in->work->njobs; j++) {
        pin[j] = 1;
        for (i = 0; pin[j] && i < n; i++)
            if (strcmp(names[i], "offline-bound") != 0 && res[i].prompt != NULL &&
                !res[i].prompt[j])
                pin[j] = 0;
        held += pin[j];
    }
    if (held == 0) {
        free(pin);
        pin = NULL;
    }
    return pin;
}

/* Whether GLPK, which a bound needs (opened with dlopen: lazyglpk.h),
 * loads; when not, *e says why, and when the policies are the default the
 * others run without their bound (named `bound`), with a warning. */
static int glpk_loads(const struct sim_args *a, const char *bound, struct err *e)
{
    if (lazyglpk_load(e) == 0)
        return 1;
    if (!a->policies_given)
        fprintf(
            stderr,
            "stratus: warning: %s; the table has no lower bound (`--policies` without "
            "%s runs without GLPK)\n",
            e->msg, bound);
    return 0;
}

/* A bound asked for by --policies without GLPK stops the run before the
 * others take their time; the default's is left out. */
static int bound_needs_glpk(struct sim_args *a)
{
    struct err e;

    if (strstr(a->policies, "offline-bound") == NULL ||
        glpk_loads(a, "offline-bound", &e))
        return 0;
    if (a->policies_given)
        return cli_fail(&e);
    a->policies = BATCH_POLICIES;
    return 0;
}

static int run_all(const char *policies, const struct sim_input *in, const struct policy *org,
                   struct sim_result *res, size_t max, size_t *n)
{
    unsigned char *pin = NULL;
    char *list = xstrdup(policies), *tok, *save = NULL;
    const char *names[8];
    double end_s = 0;
    size_t i, nb = 0;
    int rc = 0;

    *n = 0;
    for (tok = strtok_r(list, ",", &save); tok && *n < max; tok = strtok_r(NULL, ",", &save))
        names[(*n)++] = tok;
    for (i = 0; rc == 0 && i < *n; i++) {
        if (strcmp(names[i], "offline-bound") == 0) {
            nb++;
            continue;
        }
        rc = run_one(names[i], in, org, &res[i]);
        end_s = rc == 0 && res[i].done_s > end_s ? res[i].done_s : end_s;
    }
    /* Commitments are paid over the study whoever uses them: the same
     * window [0, end_s] for every run and the bound (not each run's end),
     * until the last job that succeeded in any run (one baseline's job that
     * restarts for weeks and then fails does not stretch it for all). */
    for (i = 0; rc == 0 && i < *n; i++)
        if (strcmp(names[i], "offline-bound") != 0)
            sim_charge_commitments(in, end_s, &res[i]);
    if (rc == 0 && nb > 0)
        pin = prompt_jobs(in, names, res, *n);
    for (i = 0; rc == 0 && nb > 0 && i < *n; i++) {
        const char *narrowed[8];
        struct sim_input bin = *in;
        struct err e;
        size_t k, u;

        err_clear(&e);
        if (strcmp(names[i], "offline-bound") != 0)
            continue;
        /* a baseline that confines every job to one cloud may put a job in
         * a rule's overflow cloud while the allowed ones have room */
        for (k = 0; k < *n; k++)
            for (u = 0; u < sizeof(sim_policies) / sizeof(sim_policies[0]); u++)
                if (strcmp(names[k], sim_policies[u].name) == 0 && sim_policies[u].only_cloud &&
                    bin.nnarrowed < sizeof(narrowed) / sizeof(narrowed[0]))
                    narrowed[bin.nnarrowed++] = sim_policies[u].only_cloud;
        bin.narrowed = narrowed;
        bin.pin = pin;
        if (sim_offline_bound(&bin, org, end_s, &res[i], &e) != 0) {
            rc = cli_fail(&e);
        } else {
            sim_charge_commitments(in, end_s, &res[i]);
            /* the program's committed pools reach to the end of its last
             * bucket, past the window the fixed cost is charged over */
            res[i].commit_used_h = fmin(res[i].commit_used_h, res[i].commit_node_h);
        }
    }
    free(pin);
    free(list);
    return rc;
}

/* ---- one service on a request trace (--service) ---- */

static void print_serve_head(void)
{
    int c;

    printf("%-14s %10s", "POLICY", "COST");
    for (c = 0; c < SIM_NCLOUDS; c++)
        printf(" %9s", sim_cloud_names[c]);
    printf(" %9s %9s %8s %8s %6s %5s %7s %7s %23s %23s %6s %7s %6s\n", "SPOT", "ONDEMAND",
           "REQUESTS", "SERVED", "FAILED", "LOST", "RETRIED", "IN-SLO", "TTFT P50/P90/P99 S",
           "E2E P50/P90/P99 S", "PREEMP", "REPL-H", "SPOT-H");
}

static void print_serve(const struct sim_serve_result *r)
{
    char m[32];
    int c;

    printf("%-14s %10s", r->name, str_money(m, sizeof(m), r->cost));
    for (c = 0; c < SIM_NCLOUDS; c++)
        printf(" %9s", str_money(m, sizeof(m), r->cost_by_cloud[c]));
    printf(" %9s", str_money(m, sizeof(m), r->spot_cost));
    if (strcmp(r->name, "bound") == 0) {
        printf(" %9s %8zu %-103s %7.1f %6.1f\n", str_money(m, sizeof(m), r->ondemand_cost),
               r->requests, "  (a lower bound on the cost of serving them all within the "
               "objective: docs/serve-bound.md)", r->replica_hours, r->spot_replica_hours);
        return;
    }
    printf(" %9s %8zu %8zu %6zu %5zu %7zu %6.2f%% %7.3f/%6.3f/%7.3f %7.2f/%6.2f/%7.2f %6ld "
           "%7.1f %6.1f\n",
           str_money(m, sizeof(m), r->ondemand_cost), r->requests, r->served, r->failed, r->lost,
           r->retried, r->served ? 100.0 * (double)r->within_slo / (double)r->requests : 0,
           r->ttft_s[0], r->ttft_s[1], r->ttft_s[2], r->e2e_s[0], r->e2e_s[1], r->e2e_s[2],
           r->preemptions, r->replica_hours, r->spot_replica_hours);
}

static void print_serve_notes(const struct sim_serve_result *r, size_t n)
{
    size_t i;

    printf("(IN-SLO: share of all requests answered with TTFT within latency_slo_ms = %.0f ms;\n"
           " FAILED = LOST (cut at a replica that went away after its first token, or out of "
           "retries) + refused or timed out waiting for a replica)\n",
           n ? r[0].slo_ms : 0);
    for (i = 0; i < n; i++) {
        if (strcmp(r[i].name, "bound") == 0)
            continue;
        printf("%-14s %ld replica jobs, at most %d ready at once, >= min_replicas ready "
               "%.2f%% of the time; %zu lost at a retired replica, %zu never sent\n",
               r[i].name, r[i].replicas_launched, r[i].max_ready,
               100 * r[i].min_ready_share, r[i].lost_retired, r[i].unrouted);
        fprintf(stderr, "%s: %zu requests, %llu control rounds, %.1f virtual hours, %.2f s\n",
                r[i].name, r[i].requests, (unsigned long long)r[i].rounds, r[i].span_s / 3600,
                r[i].wall_s);
    }
}

static json_t *triple(const double v[3])
{
    return json_pack("{s:f, s:f, s:f}", "p50", v[0], "p90", v[1], "p99", v[2]);
}

static json_t *serve_json(const struct sim_serve_result *r)
{
    json_t *o = json_object(), *by = json_object();
    int c;

    json_object_set_new(o, "policy", json_string(r->name));
    if (strcmp(r->name, "bound") == 0)
        json_object_set_new(o, "lower_bound", json_true());
    json_object_set_new(o, "cost", json_real(r->cost));
    for (c = 0; c < SIM_NCLOUDS; c++)
        json_object_set_new(by, sim_cloud_names[c], json_real(r->cost_by_cloud[c]));
    json_object_set_new(o, "cost_by_cloud", by);
    json_object_set_new(o, "cost_spot", json_real(r->spot_cost));
    json_object_set_new(o, "cost_ondemand", json_real(r->ondemand_cost));
    json_object_set_new(o, "requests", json_integer((json_int_t)r->requests));
    json_object_set_new(o, "served", json_integer((json_int_t)r->served));
    json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
    json_object_set_new(o, "lost_after_first_token", json_integer((json_int_t)r->lost));
    json_object_set_new(o, "lost_at_retired_replica", json_integer((json_int_t)r->lost_retired));
    json_object_set_new(o, "no_replica", json_integer((json_int_t)r->unrouted));
    json_object_set_new(o, "retried", json_integer((json_int_t)r->retried));
    json_object_set_new(o, "latency_slo_ms", json_real(r->slo_ms));
    json_object_set_new(o, "within_slo", json_integer((json_int_t)r->within_slo));
    json_object_set_new(o, "within_slo_share",
                        json_real(r->requests ? (double)r->within_slo / (double)r->requests : 0));
    json_object_set_new(o, "ttft_s", triple(r->ttft_s));
    json_object_set_new(o, "e2e_s", triple(r->e2e_s));
    json_object_set_new(o, "preemptions", json_integer(r->preemptions));
    json_object_set_new(o, "replica_hours", json_real(r->replica_hours));
    json_object_set_new(o, "spot_replica_hours", json_real(r->spot_replica_hours));
    json_object_set_new(o, "replica_jobs", json_integer(r->replicas_launched));
    json_object_set_new(o, "max_ready", json_integer(r->max_ready));
    json_object_set_new(o, "min_ready_share", json_real(r->min_ready_share));
    json_object_set_new(o, "virtual_hours", json_real(r->span_s / 3600));
    json_object_set_new(o, "control_rounds", json_integer((json_int_t)r->rounds));
    json_object_set_new(o, "wall_seconds", json_real(r->wall_s));
    return o;
}

/* Inputs of a service run that the training run does not take. */
static int serve_inputs(const struct sim_args *a, struct catalog *cat, struct reqtrace *rq,
                        char **spec_text, char **pol_text, struct sim_serve_input *in)
{
    size_t len;
    struct err e;

    err_clear(&e);
    if (fs_read_file(a->service, 1 << 20, spec_text, &len, &e) != 0 ||
        (a->org && fs_read_file(a->org, 1 << 20, pol_text, &len, &e) != 0) ||
        reqtrace_load(rq, a->requests, &e) != 0)
        return cli_fail(&e);
    in->cat = cat;
    in->reqs = rq;
    in->t0 = SIM_T0;
    in->lead_s = a->lead_s;
    in->launch_delay_s = a->launch_delay_s;
    in->warmup_s = a->warmup_s;
    in->notice_s = a->notice_s;
    in->spec_path = a->service;
    in->spec_text = *spec_text;
    in->model = a->model;
    in->seed = a->seed;
    return 0;
}

/* The policies of --policies for a service: each a kind of sim_serve.h. */
static int serve_policies(const char *list, int *kinds, size_t max, size_t *n)
{
    char *l = xstrdup(list), *tok, *save = NULL;
    int rc = 0;

    *n = 0;
    for (tok = strtok_r(l, ",", &save); rc == 0 && tok; tok = strtok_r(NULL, ",", &save)) {
        int k = strcmp(tok, "bound") == 0 ? SSP_NKINDS : sim_serve_kind_parse(tok);

        if (k < 0 || *n == max) {
            fprintf(stderr, "stratus: simulate --service: %s policy '%s' (the policies are "
                            "stratus, ondemand, spot-only, skyserve-like and bound)\n",
                    k < 0 ? "unknown" : "too many; one more", tok);
            rc = 2;
        } else {
            kinds[(*n)++] = k;
        }
    }
    free(l);
    if (rc == 0 && *n == 0) {
        fprintf(stderr, "stratus: simulate --service: --policies names no policy\n");
        rc = 2;
    }
    return rc;
}

static void serve_output(const struct sim_args *a, const struct sim_serve_result *res,
                         size_t n)
{
    size_t i;

    if (a->json) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, serve_json(&res[i]));
        cli_print_json(arr, 0);
        json_decref(arr);
        return;
    }
    print_serve_head();
    for (i = 0; i < n; i++)
        print_serve(&res[i]);
    print_serve_notes(res, n);
}

/* The service chart: a row per policy run (the bound has no series). */
static int write_serve_chart(const char *path, const struct sim_serve_result *res, size_t n)
{
    struct serve_series *ss = xcalloc(n + 1, sizeof(*ss));
    FILE *fp = fopen(path, "w");
    size_t i, k = 0;
    int rc;

    if (fp == NULL) {
        fprintf(stderr, "stratus: cannot write the chart to %s: %s\n", path, strerror(errno));
        free(ss);
        return 3;
    }
    for (i = 0; i < n; i++) {
        if (res[i].nbuckets == 0)
            continue;
        ss[k] = (struct serve_series){res[i].name, res[i].nbuckets, res[i].bucket_s,
                                      res[i].t_start_s, res[i].slo_ms / 1000, res[i].replicas,
                                      res[i].spot, res[i].usd, res[i].ttft, res[i].e2e};
        k++;
    }
    rc = serve_chart_write_svg(fp, "Service over time", ss, k);
    if (fclose(fp) != 0)
        rc = ST_EIO;
    free(ss);
    if (rc != 0)
        fprintf(stderr, "stratus: cannot write the chart to %s\n", path);
    return rc == 0 ? 0 : 3;
}

/* Run the service under each policy of --policies, in order. */
static int serve_runs(const struct sim_args *a, const struct sim_serve_input *in,
                      const char *pol_text, struct sim_serve_result *res, size_t *n)
{
    int kinds[8];
    size_t i, nk;
    struct err e;
    int rc = serve_policies(a->policies_given            ? a->policies
                            : glpk_loads(a, "bound", &e) ? SERVE_POLICIES ",bound"
                                                         : SERVE_POLICIES,
                            kinds, 8, &nk);

    err_clear(&e);
    *n = 0;
    for (i = 0; rc == 0 && i < nk; i++) {
        struct sim_serve_policy pol = {NULL, kinds[i], pol_text};
        struct sim_serve_result *r = &res[*n];

        memset(r, 0, sizeof(*r));
        (*n)++;
        if (kinds[i] != SSP_NKINDS) {
            pol.name = sim_serve_kind_names[kinds[i]];
            rc = sim_serve_run(in, &pol, r, &e);
        } else if ((rc = sim_serve_bound(in, pol_text, r, &e)) == ST_EINFEASIBLE) {
            /* an objective no offer meets for some users: no bound, the
             * policies still compare */
            fprintf(stderr, "stratus: no lower bound: %s\n", e.msg);
            err_clear(&e);
            (*n)--;
            rc = 0;
        }
        if (rc != 0)
            rc = cli_fail(&e);
    }
    return rc;
}

static int run_serve(const struct sim_args *a)
{
    struct catalog *cat = NULL;
    struct trace spot, prices;
    struct reqtrace rq;
    struct sim_serve_input in;
    struct sim_serve_result res[8];
    char *spec_text = NULL, *pol_text = NULL;
    long *od = NULL, *sp = NULL;
    size_t n = 0;
    struct err e;
    int rc;

    memset(&in, 0, sizeof(in));
    trace_init(&spot);
    trace_init(&prices);
    reqtrace_init(&rq);
    err_clear(&e);
    rc = cli_load_catalog(a->catalog, &cat);
    if (rc == 0)
        rc = serve_inputs(a, cat, &rq, &spec_text, &pol_text, &in);
    spot.cat = prices.cat = cat;
    if (rc == 0 && ((a->spot && trace_load_spot(&spot, a->spot, &e) != 0) ||
                    (a->prices && trace_load_prices(&prices, a->prices, &e) != 0) ||
                    (a->fleet && sim_load_fleet(cat, a->fleet, &od, &sp, &e) != 0)))
        rc = cli_fail(&e);
    in.spot = a->spot ? &spot : NULL;
    in.prices = a->prices ? &prices : NULL;
    in.od_cap = od;
    in.spot_cap = sp;
    in.series = a->chart != NULL;
    if (rc == 0)
        rc = serve_runs(a, &in, pol_text, res, &n);
    if (rc == 0)
        serve_output(a, res, n);
    if (rc == 0 && a->chart)
        rc = write_serve_chart(a->chart, res, n);
    while (n > 0)
        sim_serve_result_free(&res[--n]);
    free(od);
    free(sp);
    free(spec_text);
    free(pol_text);
    reqtrace_free(&rq);
    trace_free(&spot);
    trace_free(&prices);
    catalog_free(cat);
    return rc;
}

static int run_simulate(int argc, char **argv)
{
    struct sim_args a;
    struct catalog *cat = NULL;
    struct policy *org = NULL;
    struct org *teams = NULL;
    struct trace work, spot, prices;
    struct sim_input in;
    struct sim_result res[8];
    long *od = NULL, *sp = NULL;
    struct sim_event *events = NULL;
    size_t n = 0, i;
    int rc = parse_sim_args(argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.service != NULL)
        return run_serve(&a);
    memset(&in, 0, sizeof(in));
    memset(res, 0, sizeof(res));
    trace_init(&work);
    trace_init(&spot);
    trace_init(&prices);
    rc = cli_load_catalog(a.catalog, &cat);
    if (rc == 0 && a.commitments) {
        struct err e;

        if (catalog_load_commitments(cat, a.commitments, &e) != 0)
            rc = cli_fail(&e);
        else if (catalog_ncommitments(cat) == 0)
            fprintf(stderr,
                    "stratus: warning: %s has no commitments (a header and no rows): "
                    "the study runs with none\n",
                    a.commitments);
    }
    if (rc == 0 && a.org) {
        struct err e;

        if (policy_load_file(&org, a.org, &e) != 0)
            rc = cli_fail(&e);
    }
    if (rc == 0)
        rc = load_inputs(&a, cat, &work, &spot, &prices, &od, &sp, &events, &in);
    if (rc == 0 && a.commitments)
        warn_commitments(a.commitments, cat, &in);
    if (rc == 0 && a.teams) {
        struct err e;
        char *text = NULL;
        size_t len = 0;

        if (fs_read_file(a.teams, 16 << 20, &text, &len, &e) != 0 ||
            org_parse(text, len, a.teams, &teams, &e) != 0)
            rc = cli_fail(&e);
        free(text);
        in.org = teams;
    }
    if (rc == 0)
        rc = bound_needs_glpk(&a);
    if (rc == 0)
        rc = run_all(a.policies, &in, org, res, 8, &n);
    if (rc == 0 && a.json) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, result_json(&res[i], find_bound(res, n)));
        cli_print_json(arr, 0);
        json_decref(arr);
    } else if (rc == 0) {
        print_table(res, n);
        print_split(res, n, catalog_ncommitments(cat) > 0);
        if (a.teams)
            print_teams(res, n);
    }
    if (rc == 0 && a.chart)
        rc = write_chart(a.chart, res, n);
    for (i = 0; i < n; i++)
        sim_result_free(&res[i]);
    free(od);
    free(sp);
    free(events);
    trace_free(&work);
    trace_free(&spot);
    trace_free(&prices);
    policy_free(org);
    org_free(teams);
    catalog_free(cat);
    return rc;
}

const struct cli_cmd cli_cmd_simulate = {
    "simulate", "compare scheduling policies on traces, in virtual time", run_simulate,
    sim_usage};
