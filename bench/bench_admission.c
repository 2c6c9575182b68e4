/*
 * bench_admission.c - prints what admission by team costs the controller:
 * 10,000 jobs pending across 20 teams with quotas (half of the teams in one
 * cohort, borrowing and reclaiming; the rest alone), on the full catalog,
 * a real SQLite store file and the simulator's driver in virtual time (the
 * clouds are the simulator's; the controller, the planner and the store
 * are the real ones).  Jobs last 1-4 h, so capacity frees every few virtual
 * minutes and the waiting jobs are looked at again.
 *
 *   time per scheduling step (sched_step) while >= 9,000 jobs wait:
 *   median, p99 and max.  Target: < 10 ms.
 *
 * usage: bench_admission [--jobs N] [--teams N] [--steps N] [--catalog DIR]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "policy/org.h"
#include "sched/sched.h"
#include "sim/sim.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/xmem.h"

static void die(const struct err *e)
{
    fprintf(stderr, "bench_admission: %s\n", e->msg);
    exit(1);
}

struct vclock {
    double t;
};

static double vnow(void *ctx)
{
    return ((const struct vclock *)ctx)->t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static const char *const SHAPES[] = {"H100:8", "H100:1", "{H100: 8, A100-80GB: 8}",
                                     "A100-80GB:8", "H100:2"};

int main(int argc, char **argv)
{
    const char *catdir = getenv("STRATUS_CATALOG");
    char home[] = "/tmp/stratus-bench-admission-XXXXXX", *db;
    long njobs = 10000, nteams = 20, nsteps = 400;
    struct vclock vc = {1.8e9};
    struct clock clk = {vnow, &vc};
    struct driver_config dcfg = {0};
    struct sched_params p;
    struct catalog *cat = NULL;
    struct sim_jobinfo *infos;
    struct sim_world w;
    struct driver drv;
    struct store *st = NULL;
    struct sched *s = NULL;
    struct org *g = NULL;
    struct err e;
    long *od, *spot, i;
    double *times, t0, total = 0;
    size_t nt = 0, pending = 0;
    json_t *doc, *teams;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--jobs") == 0)
            njobs = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--teams") == 0)
            nteams = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            nsteps = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--catalog") == 0)
            catdir = argv[i + 1];
    }
    if (njobs < 1 || nteams < 1 || nsteps < 1 || mkdtemp(home) == NULL)
        return 2;
    db = xasprintf("%s/stratus.db", home);
    if (catalog_load(&cat, catdir ? catdir : "catalog", &e) != 0 || store_open(&st, db, &e) != 0)
        die(&e);
    /* the teams: 64 GPUs of any kind each, 32 of them H100; even teams in
     * the cohort "lab" */
    doc = json_object();
    teams = json_array();
    for (i = 0; i < nteams; i++) {
        char name[32];
        json_t *t;

        snprintf(name, sizeof(name), "team%02ld", i);
        t = json_pack("{s:s,s:f,s:[{s:s,s:i},{s:s,s:i}]}", "name", name, "weight",
                      1.0 + (double)(i % 3), "quota", "accelerator", "*", "gpus", 64,
                      "accelerator", "H100", "gpus", 32);
        if (i % 2 == 0)
            json_object_set_new(t, "cohort", json_string("lab"));
        json_array_append_new(teams, t);
    }
    json_object_set_new(doc, "teams", teams);
    if (org_from_json(doc, &g, &e) != 0)
        die(&e);
    json_decref(doc);
    /* the jobs, all pending at the start */
    infos = xcalloc((size_t)njobs + 1, sizeof(*infos));
    srand(7);
    t0 = clock_mono();
    for (i = 0; i < njobs; i++) {
        char spec[256];
        int64_t id;

        snprintf(spec, sizeof(spec),
                 "name: j%ld\nresources: {accelerators: \"%s\"}\nrun: train\n"
                 "stratus: {team: team%02ld, priority: %d}\n",
                 i, SHAPES[i % 5], i % nteams, (int)(i % 3));
        if (sched_submit(st, "bench.yaml", spec, NULL, vc.t, &id, &e) != 0)
            die(&e);
        infos[id].duration_s = 3600.0 * (1 + rand() % 4);
    }
    printf("submitted %ld jobs of %ld teams in %.2f s\n", njobs, nteams, clock_mono() - t0);
    od = xcalloc(catalog_noffers(cat) + 1, sizeof(long));
    spot = xcalloc(catalog_noffers(cat) + 1, sizeof(long));
    for (i = 0; i < (long)catalog_noffers(cat); i++)
        od[i] = 64; /* the quotas, not the clouds, are short */
    memset(&w, 0, sizeof(w));
    w.cat = cat;
    w.od_cap = od;
    w.spot_cap = spot;
    w.t0 = vc.t;
    w.launch_delay_s = 60;
    w.jobs = infos;
    w.njobs = (size_t)njobs + 1;
    dcfg.cat = cat;
    dcfg.clock = &clk;
    dcfg.world = &w;
    dcfg.seed = 42;
    if (driver_open(&drv, &driver_sim, &dcfg, &e) != 0)
        die(&e);
    memset(&p, 0, sizeof(p));
    p.store = st;
    p.driver = &drv;
    p.cat = cat;
    p.clock = &clk;
    sched_config_default(&p.cfg);
    t0 = clock_mono();
    if (sched_open(&s, &p, &e) != 0)
        die(&e);
    printf("controller opened on %zu active jobs in %.2f s\n", sched_active(s),
           clock_mono() - t0);
    sched_set_org(s, g);
    times = xcalloc((size_t)nsteps, sizeof(*times));
    {
        double next = 0, t1 = clock_mono();

        if (sched_step(s, &next, &e) != 0) /* every job's first look: its reason written */
            die(&e);
        printf("first step (every job looked at once, its waiting reason stored): %.0f ms\n",
               (clock_mono() - t1) * 1e3);
        vc.t += next > 0 ? (next < 600 ? next : 600) : 1;
    }
    for (i = 0; i < nsteps; i++) {
        double next = 0, t1 = clock_mono();
        uint64_t tr = sched_transitions(s);

        if (sched_step(s, &next, &e) != 0)
            die(&e);
        t1 = clock_mono() - t1;
        if (getenv("BENCH_VERBOSE") && t1 > 0.02)
            fprintf(stderr, "step %ld at +%.0f s: %.1f ms, %llu transitions\n", i,
                    vc.t - w.t0, t1 * 1e3, (unsigned long long)(sched_transitions(s) - tr));
        if (sched_active(s) >= (size_t)(njobs * 9 / 10)) {
            times[nt++] = t1;
            total += t1;
        }
        vc.t += next > 0 ? (next < 600 ? next : 600) : 1;
    }
    pending = sched_active(s);
    qsort(times, nt, sizeof(*times), cmp_double);
    if (nt == 0) {
        fprintf(stderr, "bench_admission: no step ran with 90%% of the jobs waiting\n");
        return 1;
    }
    printf("%zu steps with >= %ld jobs waiting (%zu active at the end, %.1f h virtual)\n", nt,
           njobs * 9 / 10, pending, (vc.t - w.t0) / 3600.0);
    {
        size_t over = 0, k;

        for (k = 0; k < nt; k++)
            over += times[k] > 0.010;
        printf("steps over 10 ms: %zu of %zu\n", over, nt);
    }
    printf("step time: median %.2f ms, p99 %.2f ms, max %.2f ms, mean %.2f ms "
           "(target < 10 ms)\n",
           times[nt / 2] * 1e3, times[nt * 99 / 100] * 1e3, times[nt - 1] * 1e3,
           total / (double)nt * 1e3);
    sched_close(s);
    org_free(g);
    driver_close(&drv);
    store_close(st);
    if (getenv("BENCH_KEEP"))
        printf("store kept: %s\n", db);
    else {
        store_remove_file(db);
        rmdir(home);
    }
    free(db);
    free(od);
    free(spot);
    free(infos);
    free(times);
    catalog_free(cat);
    return 0;
}
