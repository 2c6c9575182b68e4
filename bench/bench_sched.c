/*
 * bench_sched.c - prints how fast the controller moves jobs on the local
 * driver: 1,000 trivial jobs (`true`) submitted at once, with real node
 * processes and a real SQLite file.
 *
 *   time until every job is placed and running, and until all have finished
 *   transitions committed per second (job state changes)
 *   controller CPU per transition (this process's user+system time; the node
 *   processes are other processes and not counted)
 *
 * usage: bench_sched [--jobs N] [--catalog DIR]   (needs STRATUS_BIN or runs
 * from the build directory where ./stratus is)
 *
 * The world's files (the store, the nodes' directories) go under $TMPDIR
 * (default /tmp).  Each job makes about ten files and directories and
 * removes them again; on a file system whose inode allocation is slow under
 * that churn (ext4 without a journal checks every recently freed inode), the
 * kernel's share of the controller's CPU is mostly that: compare a run with
 * TMPDIR=/dev/shm (the controller's own work) with one on the disk.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "sched/sched.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/xmem.h"

static const char SPEC[] = "name: trivial\n"
                           "resources:\n"
                           "  accelerators: {H100: 8, A100-80GB: 8, A100: 8, L4: 1, A10: 4}\n"
                           "run: 'true'\n";

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const struct err *e)
{
    fprintf(stderr, "bench_sched: %s\n", e->msg);
    exit(1);
}

/* Count jobs per state from the store. */
static void counts(struct store *st, size_t *running_or_done, size_t *done)
{
    struct store_job *v = NULL;
    size_t i, n = 0;
    struct err e;

    *running_or_done = *done = 0;
    if (store_job_list(st, 0, &v, &n, &e) != 0)
        die(&e);
    for (i = 0; i < n; i++) {
        *done += job_state_terminal(v[i].state);
        *running_or_done += v[i].state == JOB_RUNNING || job_state_terminal(v[i].state);
    }
    store_jobs_free(v, n);
}

int main(int argc, char **argv)
{
    const char *catdir = getenv("STRATUS_CATALOG");
    const char *tmpdir = getenv("TMPDIR");
    char *home, *db, *ckpt;
    long jobs = 1000;
    struct driver_config dcfg = {0};
    struct sched_params p;
    struct catalog *cat = NULL;
    struct driver drv;
    struct store *st = NULL;
    struct sched *s = NULL;
    struct err e;
    double t0, t_running = 0, c0, next;
    size_t i, run = 0, done = 0, steps = 0;
    int64_t id;

    for (i = 1; i + 1 < (size_t)argc; i += 2) {
        if (strcmp(argv[i], "--jobs") == 0)
            jobs = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--catalog") == 0)
            catdir = argv[i + 1];
    }
    if (getenv("STRATUS_BIN") == NULL && access("./stratus", X_OK) == 0) {
        char *bin = realpath("./stratus", NULL);

        setenv("STRATUS_BIN", bin, 1);
        free(bin);
    }
    home =
        xasprintf("%s/stratus-bench-sched-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (mkdtemp(home) == NULL) {
        perror(home);
        return 1;
    }
    printf("home: %s\n", home);
    db = xasprintf("%s/stratus.db", home);
    ckpt = xasprintf("%s/checkpoints", home);
    if (catalog_load(&cat, catdir ? catdir : "catalog", &e) != 0 || store_open(&st, db, &e) != 0)
        die(&e);
    dcfg.home = home;
    dcfg.cat = cat;
    dcfg.clock = &clock_wall;
    if (driver_open(&drv, &driver_local, &dcfg, &e) != 0)
        die(&e);
    memset(&p, 0, sizeof(p));
    p.store = st;
    p.driver = &drv;
    p.cat = cat;
    p.clock = &clock_wall;
    sched_config_default(&p.cfg);
    p.cfg.ckpt_root = ckpt;
    t0 = clock_mono();
    for (i = 0; i < (size_t)jobs; i++)
        if (sched_submit(st, "trivial.yaml", SPEC, NULL, clock_now(&clock_wall), &id, &e) != 0)
            die(&e);
    printf("submitted %ld jobs in %.3f s\n", jobs, clock_mono() - t0);
    c0 = cpu_s();
    t0 = clock_mono();
    if (sched_open(&s, &p, &e) != 0)
        die(&e);
    while (done < (size_t)jobs && clock_mono() - t0 < 300) {
        if (sched_step(s, &next, &e) != 0)
            die(&e);
        steps++;
        counts(st, &run, &done);
        if (t_running == 0 && run == (size_t)jobs)
            t_running = clock_mono() - t0;
        clock_sleep(next < 0.005 ? next : 0.005);
    }
    counts(st, &run, &done);
    printf("all %zu jobs placed and running after %.2f s, all finished after %.2f s (%zu steps)\n",
           done, t_running, clock_mono() - t0, steps);
    printf("transitions committed: %llu, %.0f per second of wall time\n",
           (unsigned long long)sched_transitions(s),
           (double)sched_transitions(s) / (clock_mono() - t0));
    printf("controller CPU: %.3f s, %.1f us per transition\n", cpu_s() - c0,
           (cpu_s() - c0) / (double)sched_transitions(s) * 1e6);
    sched_close(s);
    driver_close(&drv);
    store_close(st);
    catalog_free(cat);
    {
        struct err e2;

        fs_remove_tree(home, &e2);
    }
    free(db);
    free(ckpt);
    free(home);
    return done == (size_t)jobs ? 0 : 1;
}
