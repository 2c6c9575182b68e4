/*
 * bench_plan.c - prints the speed of the catalog and the planner:
 *
 *   catalog load, bundled, from CSV     (the first load after a change)
 *   catalog load, bundled, snapshot     (every later load; target: ~1 ms)
 *   catalog load, 1,000,000 offers      (target: under 2 s; too big to cache)
 *   one plan over the bundled catalog   (target: median under 50 us)
 *   one plan over 1,000,000 offers      (target: under 20 ms)
 *   `stratus plan` as a whole process   (target: under 10 ms), when given the
 *                                        binary with --stratus PATH
 *
 * usage: bench_plan [--catalog DIR] [--stratus BIN] [--spec FILE] [--offers N]
 * The synthetic catalog is written to a temporary directory and removed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/catalog_int.h" /* whether a load came from the snapshot */
#include "plan/plan.h"
#include "spec/spec.h"
#include "util/xmem.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static struct catalog *timed_load(const char *dir, double *secs)
{
    struct catalog *cat;
    struct err e;
    double t0 = now_s();

    if (catalog_load(&cat, dir, &e) != 0) {
        fprintf(stderr, "bench_plan: %s\n", e.msg);
        exit(1);
    }
    *secs = now_s() - t0;
    return cat;
}

/* Print the load time from CSV (cache off) and from the snapshot (median of
 * 20, after one load that writes it); return the catalog loaded last. */
static struct catalog *csv_and_snapshot_loads(const char *dir)
{
    const char *env = getenv("STRATUS_CATALOG_CACHE");
    char *saved = env ? xstrdup(env) : NULL;
    struct catalog *cat;
    double t, v[20];
    int i, mapped = 0;

    setenv("STRATUS_CATALOG_CACHE", "off", 1);
    cat = timed_load(dir, &t);
    printf("catalog load, bundled, CSV (%zu offers):  %8.2f ms\n", catalog_noffers(cat), t * 1e3);
    catalog_free(cat);
    if (saved)
        setenv("STRATUS_CATALOG_CACHE", saved, 1);
    else
        unsetenv("STRATUS_CATALOG_CACHE");
    free(saved);
    catalog_free(timed_load(dir, &t)); /* writes the snapshot when missing */
    for (i = 0; i < 20; i++) {
        cat = timed_load(dir, &v[i]);
        mapped = cat->map != NULL;
        if (i < 19)
            catalog_free(cat);
    }
    printf("catalog load, bundled, snapshot:          %8.2f ms%s\n", median(v, 20) * 1e3,
           mapped ? "" : " (not cached: cache off, catalog too small or changed < 1 s ago)");
    return cat;
}

/* Median and p99 of `reps` plans of spec over cat. */
static void time_plans(const struct catalog *cat, const struct spec *s, int reps,
                       double *med, double *p99, size_t *feasible)
{
    double *t = xcalloc((size_t)reps, sizeof(*t));
    struct plan_opts o = {.now = 0, .top = 10, .by_price = 0};
    struct plan p;
    struct err e;
    int i;

    plan_init(&p);
    for (i = 0; i < reps; i++) {
        double t0 = now_s();

        if (plan_rank(&p, cat, s, NULL, &o, &e) != 0) {
            fprintf(stderr, "bench_plan: %s\n", e.msg);
            exit(1);
        }
        t[i] = now_s() - t0;
    }
    *feasible = p.feasible;
    plan_free(&p);
    *med = median(t, (size_t)reps);
    *p99 = t[(size_t)reps * 99 / 100];
    free(t);
}

static const char *const SYN_ACCS[] = {"H100", "H200", "B200", "A100", "A100-80GB", "L4",
                                       "L40S", "A10", "MI300X", "H100-MEGA", "GB200",
                                       "tpu-v5p-8", "tpu-v5litepod-8", "tpu-v6e-8", "V100",
                                       "T4"};
static const int SYN_COUNTS[] = {1, 2, 4, 8};

/* A synthetic catalog of n offers over 4 clouds x 50 regions x 3 zones. */
static char *write_synthetic(size_t n)
{
    char *dir = xstrdup("/tmp/stratus-bench-XXXXXX"), *path;
    FILE *fp;
    size_t i;
    int c, r;
    static const char *const clouds[] = {"azure", "gcp", "oci", "aws"};

    if (mkdtemp(dir) == NULL)
        exit(1);
    path = xasprintf("%s/regions.csv", dir);
    fp = fopen(path, "w");
    fprintf(fp, "cloud,region,latitude,longitude,continent\n");
    for (c = 0; c < 4; c++)
        for (r = 0; r < 50; r++)
            fprintf(fp, "%s,region-%d,%d,%d,europe\n", clouds[c], r, r - 25, c * 40 - 80);
    fclose(fp);
    free(path);
    path = xasprintf("%s/offers.csv", dir);
    fp = fopen(path, "w");
    fprintf(fp, "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
                "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
                "price_hour,spot_price_hour\n");
    srand(7);
    for (i = 0; i < n; i++) {
        int cnt = SYN_COUNTS[rand() % 4];
        double price = (1 + rand() % 4000) / 100.0 * cnt;

        fprintf(fp, "%s,region-%d,zone-%d,type-%zu,%s,%d,80,%d,%d,roce,,%.2f,%.2f\n",
                clouds[i % 4], (int)(i / 4 % 50), (int)(i % 3), i, SYN_ACCS[rand() % 16], cnt,
                cnt * 12, cnt * 120, price, price * 0.4);
    }
    fclose(fp);
    free(path);
    return dir;
}

static void remove_synthetic(char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);

    if (system(cmd) != 0)
        fprintf(stderr, "bench_plan: could not remove %s\n", dir);
    free(cmd);
    free(dir);
}

/* Median wall time of running `stratus plan SPEC` as a process. */
static double time_process(const char *bin, const char *spec, const char *catalog, int reps)
{
    double *t = xcalloc((size_t)reps, sizeof(*t)), m;
    int i;

    for (i = 0; i < reps; i++) {
        double t0;
        pid_t pid;

        fflush(stdout); /* the child must not inherit unwritten output */
        t0 = now_s();
        pid = fork();
        int st;

        if (pid == 0) {
            if (freopen("/dev/null", "w", stdout) == NULL)
                _exit(127);
            execl(bin, bin, "plan", spec, "--catalog", catalog, (char *)NULL);
            _exit(127);
        }
        waitpid(pid, &st, 0);
        t[i] = now_s() - t0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_plan: %s plan %s failed\n", bin, spec);
            exit(1);
        }
    }
    m = median(t, (size_t)reps);
    free(t);
    return m;
}

int main(int argc, char **argv)
{
    const char *catdir = getenv("STRATUS_CATALOG"), *bin = NULL, *specfile = NULL;
    size_t big = 1000000, feasible;
    struct catalog *cat;
    struct spec *s;
    struct err e;
    double t, med, p99;
    char *syn;
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--catalog") == 0)
            catdir = argv[i + 1];
        else if (strcmp(argv[i], "--stratus") == 0)
            bin = argv[i + 1];
        else if (strcmp(argv[i], "--spec") == 0)
            specfile = argv[i + 1];
        else if (strcmp(argv[i], "--offers") == 0)
            big = (size_t)atol(argv[i + 1]);
    }
    if (catdir == NULL || specfile == NULL) {
        fprintf(stderr, "usage: bench_plan --catalog DIR --spec FILE [--stratus BIN] [--offers N]\n");
        return 2;
    }
    if (spec_load_file(&s, specfile, &e) != 0) {
        fprintf(stderr, "bench_plan: %s\n", e.msg);
        return 1;
    }
    cat = csv_and_snapshot_loads(catdir);
    time_plans(cat, s, 20000, &med, &p99, &feasible);
    printf("plan, bundled catalog (%zu feasible):     median %6.1f us, p99 %6.1f us\n",
           feasible, med * 1e6, p99 * 1e6);
    catalog_free(cat);
    if (bin) {
        for (i = 0; i < 5; i++) /* warm the page cache */
            time_process(bin, specfile, catdir, 1);
        printf("stratus plan, whole process:             median %6.2f ms\n",
               time_process(bin, specfile, catdir, 50) * 1e3);
    }
    if (big > 0) {
        syn = write_synthetic(big);
        cat = timed_load(syn, &t);
        printf("catalog load, synthetic (%zu offers): %8.2f ms\n", catalog_noffers(cat), t * 1e3);
        time_plans(cat, s, 50, &med, &p99, &feasible);
        printf("plan, synthetic catalog (%zu feasible): median %6.2f ms, p99 %6.2f ms\n",
               feasible, med * 1e3, p99 * 1e3);
        catalog_free(cat);
        remove_synthetic(syn);
    }
    spec_free(s);
    return 0;
}
