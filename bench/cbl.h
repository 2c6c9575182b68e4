/*
 * cbl.h - the world of "Can't Be Late" (Wu et al., NSDI '24) Table 3 for the
 * real controller on the sim driver, shared by bench/bench_deadline.c (the
 * full study) and tests/unit/test_deadline.c (a small version of it).
 * Header-only.
 *
 * The paper's setting: a 48 h job, changeover d = 0.2 h, on-demand $3.06/h
 * against spot $0.9731/h, random start times on the 8 SkyPilot availability
 * traces of aws-10-26-2022 (1 = spot available, see SOURCE.md beside them).
 * Its model maps onto the sim world thus: one offer whose spot capacity
 * follows the trace (enough nodes for every job while available, none
 * otherwise, so all starts of one trace run in one simulation without
 * competing); no launch delay, and a restore of d - 1 s billed at the
 * attempt's price with a checkpoint every second, so that a changeover
 * costs d of time and money and a preemption loses nothing more (the
 * paper's d includes the lost work).  Unlike the paper, a job's first
 * attempt restores nothing, so it starts without a changeover.
 *
 * Usage: cbl_catalog() once; cbl_trace_open() per trace file;
 * cbl_run() per (deadline, policy); cbl_trace_close(); cbl_catalog_free().
 */
#ifndef STRATUS_BENCH_CBL_H
#define STRATUS_BENCH_CBL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "policy/policy.h"
#include "sched/sched.h"
#include "sim/sim.h"
#include "sim/trace.h"
#include "util/xmem.h"

#define CBL_JOB_H 48.0
#define CBL_CHANGEOVER_S 720.0
#define CBL_CKPT_S 1.0
#define CBL_OD_PRICE 3.06
#define CBL_SPOT_PRICE 0.9731
#define CBL_NTRACES 8
#define CBL_T0 1666742400.0 /* 2022-10-26, the traces' start */

static const char *const cbl_trace_names[CBL_NTRACES] = {
    "us-west-2a_k80_1", "us-west-2a_k80_8", "us-west-2a_v100_1", "us-west-2a_v100_8",
    "us-west-2b_k80_1", "us-west-2b_k80_8", "us-west-2b_v100_1", "us-west-2b_v100_8",
};

/* The policies compared: the paper's two and on-demand. */
enum cbl_policy { CBL_UP, CBL_GREEDY, CBL_OD, CBL_NPOL };
static const char *const cbl_policy_names[CBL_NPOL] = {"uniform-progress", "cbl-greedy",
                                                       "on-demand"};

struct cbl {
    char dir[64];               /* the one-offer catalog's directory */
    struct catalog *cat;
    struct policy *od;          /* "spot: forbid" */
};

/* One trace's world: its spot rows and the jobs' start times. */
struct cbl_trace {
    struct trace spot;
    size_t *starts, nstarts;    /* start ticks, sorted */
    double gap;                 /* seconds per tick */
    long *cap;                  /* nodes per offer, on demand and spot */
};

/* What one run gave (cost as a fraction of running every job on demand). */
struct cbl_result {
    double ratio, od_h, spot_h; /* od_h, spot_h: billed hours per job */
    double preemptions;         /* per job */
    size_t misses, jobs;
};

static inline void cbl_die(const char *what, const char *msg)
{
    fprintf(stderr, "cbl: %s: %s\n", what, msg ? msg : "failed");
    exit(1);
}

static inline void cbl_write(const char *dir, const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        cbl_die(path, NULL);
}

/* A one-offer catalog at the paper's prices, and the on-demand policy. */
static inline void cbl_catalog(struct cbl *c)
{
    static const char od[] = "rules:\n  - name: on-demand\n    spot: forbid\n";
    char offers[512];
    struct err e;

    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "/tmp/stratus-cbl-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        cbl_die("mkdtemp", NULL);
    snprintf(offers, sizeof(offers),
             "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
             "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
             "price_hour,spot_price_hour\n"
             "aws,us-west-2,us-west-2a,p3.2xlarge,V100,1,16,8,61,,,%.4f,%.4f\n",
             CBL_OD_PRICE, CBL_SPOT_PRICE);
    cbl_write(c->dir, "offers.csv", offers);
    cbl_write(c->dir, "regions.csv", "cloud,region,latitude,longitude,continent\n"
                                     "aws,us-west-2,45.84,-119.7,north-america\n");
    err_clear(&e);
    if (catalog_load(&c->cat, c->dir, &e) != 0)
        cbl_die("catalog", e.msg);
    if (policy_load_mem(&c->od, "on-demand", od, strlen(od), &e) != 0)
        cbl_die("policy", e.msg);
}

static inline void cbl_catalog_free(struct cbl *c)
{
    char path[128];

    policy_free(c->od);
    catalog_free(c->cat);
    snprintf(path, sizeof(path), "%s/offers.csv", c->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/regions.csv", c->dir);
    unlink(path);
    rmdir(c->dir);
}

/* data[] of a SkyPilot trace file as 0/1 (1 = available); returns the tick
 * count (0 when the file cannot be read: msg says why). */
static inline size_t cbl_load_json(const char *path, char **bits, double *gap, char *msg,
                                   size_t n)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *data;
    size_t i, len;

    if (root == NULL) {
        snprintf(msg, n, "%s:%d: %s", path, je.line, je.text);
        return 0;
    }
    data = json_object_get(root, "data");
    *gap = json_number_value(json_object_get(json_object_get(root, "metadata"), "gap_seconds"));
    len = json_is_array(data) ? json_array_size(data) : 0;
    if (len == 0 || *gap <= 0) {
        snprintf(msg, n, "%s: no data array or gap_seconds", path);
        json_decref(root);
        return 0;
    }
    *bits = xmalloc(len);
    for (i = 0; i < len; i++)
        (*bits)[i] = json_integer_value(json_array_get(data, i)) != 0;
    json_decref(root);
    return len;
}

/* Spot CSV text: `nodes` while available, 0 otherwise (a row where it
 * changes, and one at the end so that a pass of the trace spans all of it). */
static inline char *cbl_spot_csv(const char *bits, size_t n, double gap, long nodes)
{
    size_t cap = 256 + (n + 1) * 64, len = 0, i;
    char *s = xmalloc(cap);

    len += (size_t)snprintf(s, cap, "time_s,location,instance_type,available_nodes\n");
    for (i = 0; i <= n; i++) {
        size_t k = i < n ? i : n - 1;

        if (i > 0 && i < n && bits[i] == bits[i - 1])
            continue;
        len += (size_t)snprintf(s + len, cap - len,
                                "%.0f,aws/us-west-2/us-west-2a,p3.2xlarge,%ld\n",
                                (double)i * gap, bits[k] ? nodes : 0L);
    }
    return s;
}

static inline uint64_t cbl_rand(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int cbl_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/* Load a trace file and draw `nstarts` start ticks (uniform, from `seed`)
 * whose window of `max_deadline_h` lies within the first `span_h` hours of
 * the trace (0 = all of it).  Returns 0, or -1 with msg. */
static inline int cbl_trace_open(struct cbl_trace *t, const char *path, size_t nstarts,
                                 double max_deadline_h, double span_h, uint64_t seed,
                                 char *msg, size_t msgn)
{
    char *bits = NULL, *text;
    size_t n, i, last;
    struct err e;

    memset(t, 0, sizeof(*t));
    n = cbl_load_json(path, &bits, &t->gap, msg, msgn);
    if (n == 0)
        return -1;
    if (span_h > 0 && (size_t)(span_h * 3600 / t->gap) < n)
        n = (size_t)(span_h * 3600 / t->gap);
    last = (size_t)(max_deadline_h * 3600 / t->gap);
    if (last >= n) {
        snprintf(msg, msgn, "%s: shorter than a deadline", path);
        free(bits);
        return -1;
    }
    last = n - last;
    t->nstarts = nstarts;
    t->starts = xcalloc(nstarts, sizeof(*t->starts));
    for (i = 0; i < nstarts; i++)
        t->starts[i] = (size_t)(cbl_rand(&seed) % last);
    qsort(t->starts, nstarts, sizeof(*t->starts), cbl_cmp_size);
    t->cap = xcalloc(2, sizeof(long));
    t->cap[0] = (long)nstarts;
    trace_init(&t->spot);
    text = cbl_spot_csv(bits, n, t->gap, (long)nstarts);
    free(bits);
    err_clear(&e);
    if (trace_load_spot_mem(&t->spot, path, text, strlen(text), &e) != 0)
        cbl_die("spot trace", e.msg);
    free(text);
    return 0;
}

static inline void cbl_trace_close(struct cbl_trace *t)
{
    trace_free(&t->spot);
    free(t->starts);
    free(t->cap);
}

/* Workload CSV text: one 48 h job per start, deadline `ddl_h`. */
static inline char *cbl_work_csv(const struct cbl_trace *t, double ddl_h)
{
    size_t cap = 256 + t->nstarts * 128, len = 0, i;
    char *s = xmalloc(cap);

    len += (size_t)snprintf(s, cap, "submit_s,job_id,team,kind,accelerator,gpus,duration_s,"
                                    "deadline_s,checkpoint_s,data_location,data_gb,spot_ok,"
                                    "priority\n");
    for (i = 0; i < t->nstarts; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "%.0f,j%zu,,train,V100,1,%.0f,%.0f,%.0f,,,1,0\n",
                                (double)t->starts[i] * t->gap, i, CBL_JOB_H * 3600,
                                ddl_h * 3600, CBL_CKPT_S);
    return s;
}

/* Every start of one trace under one policy with deadline `ddl_h`, on the
 * real controller (sim_run). */
static inline struct cbl_result cbl_run(const struct cbl *c, const struct cbl_trace *t,
                                        double ddl_h, enum cbl_policy pol)
{
    struct cbl_result r;
    struct sim_result res;
    struct sim_policy sp;
    struct sim_input in;
    struct trace work;
    struct err e;
    char *text = cbl_work_csv(t, ddl_h);
    double od_cost = (double)t->nstarts * CBL_JOB_H * CBL_OD_PRICE;

    err_clear(&e);
    trace_init(&work);
    if (trace_load_jobs_mem(&work, "work", text, strlen(text), &e) != 0)
        cbl_die("workload", e.msg);
    memset(&in, 0, sizeof(in));
    in.cat = c->cat;
    in.work = &work;
    in.spot = &t->spot;
    in.od_cap = t->cap;
    in.spot_cap = t->cap;
    in.t0 = CBL_T0;
    in.launch_delay_s = 0;
    in.restore_s = CBL_CHANGEOVER_S - CBL_CKPT_S;
    in.bucket_s = 7 * 86400;
    memset(&sp, 0, sizeof(sp));
    sp.name = cbl_policy_names[pol];
    sp.deadline_rule = pol == CBL_UP       ? SCHED_DEADLINE_UNIFORM
                       : pol == CBL_GREEDY ? SCHED_DEADLINE_GREEDY
                                           : SCHED_DEADLINE_OFF;
    sp.pol = pol == CBL_OD ? c->od : NULL;
    if (sim_run(&in, &sp, &res, &e) != 0)
        cbl_die(sp.name, e.msg);
    /* Every job's on-demand cost is the same: the mean of the ratios is the
     * total over the total. */
    r.ratio = res.cost / od_cost;
    r.od_h = (res.gpu_hours - res.spot_gpu_hours) / (double)t->nstarts;
    r.spot_h = res.spot_gpu_hours / (double)t->nstarts;
    r.preemptions = (double)res.preemptions / (double)t->nstarts;
    r.misses = res.deadline_misses;
    r.jobs = res.njobs;
    sim_result_free(&res);
    trace_free(&work);
    free(text);
    return r;
}

#endif
