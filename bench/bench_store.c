/*
 * bench_store.c - prints how many job transitions per second the store
 * commits, where one transition is what the controller writes for a state
 * change: update the job's row and append one event, in one transaction.
 *
 *   one transition per commit           (target: over 20,000 per second,
 *   100 transitions per commit           batched commits count)
 *
 * and the file system the store file lives on, which decides most of it.
 * Jobs carry a spec and a policy text of realistic size (about 1.5 KB and
 * 0.5 KB), since store_job_update writes the whole row.
 *
 * usage: bench_store [--dir DIR] [--jobs N] [--transitions N] [--pg URL]
 * The store is created in a new directory under DIR (default /tmp) and removed.
 *
 * --pg URL: the same workload on the PostgreSQL store at URL too (a
 * postgresql:// connection string; its database should be empty: the bench
 * adds its jobs to whatever store is there), then both numbers and their
 * ratio.  bench/bench_store_pg.sh starts a private PostgreSQL for it.
 */
#define _GNU_SOURCE
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/xmem.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const struct err *e)
{
    if (rc != 0) {
        fprintf(stderr, "bench_store: %s\n", e->msg);
        exit(1);
    }
}

/* The type and device of the mount that holds path (the longest matching
 * mount point in /proc/mounts). */
static void file_system_of(const char *path, char *out, size_t size)
{
    FILE *fp = setmntent("/proc/mounts", "r");
    struct mntent *m;
    size_t best = 0;

    snprintf(out, size, "unknown");
    if (fp == NULL)
        return;
    while ((m = getmntent(fp)) != NULL) {
        size_t n = strlen(m->mnt_dir);

        if (strncmp(path, m->mnt_dir, n) == 0 && (path[n] == '/' || n == 1) &&
            n >= best) {
            best = n;
            snprintf(out, size, "%s on %s (mounted at %s)", m->mnt_type, m->mnt_fsname,
                     m->mnt_dir);
        }
    }
    endmntent(fp);
}

static char *filler(size_t n, const char *line)
{
    struct buf b;
    char *s;

    buf_init(&b, 0);
    while (b.len < n)
        buf_puts(&b, line);
    s = xstrndup(buf_cstr(&b), n);
    buf_free(&b);
    return s;
}

static struct store_job *make_jobs(struct store *st, size_t njobs)
{
    struct store_job *jobs = xcalloc(njobs, sizeof(*jobs));
    char *spec = filler(1500, "run: python train.py --steps 100000 --ckpt $CKPT\n");
    char *policy = filler(500, "- match: {kind: train}\n  allow: [azure, gcp]\n");
    struct err e;
    size_t i;

    check(store_begin(st, &e), &e);
    for (i = 0; i < njobs; i++) {
        jobs[i].name = xasprintf("bench-job-%zu", i);
        jobs[i].spec_path = xstrdup("specs/bench.yaml");
        jobs[i].spec_text = xstrdup(spec);
        jobs[i].policy_text = xstrdup(policy);
        jobs[i].team = xstrdup("research");
        jobs[i].state = JOB_PENDING;
        jobs[i].submitted_at = 1732380000.0 + (double)i;
        jobs[i].exit_code = -1;
        check(store_job_insert(st, &jobs[i], &e), &e);
    }
    check(store_commit(st, &e), &e);
    free(spec);
    free(policy);
    return jobs;
}

/* One transition: the next state in a loop of the active states, and its event. */
static void transition(struct store *st, struct store_job *j, double at)
{
    int from = j->state;
    struct err e;

    j->state = (j->state + 1) % (JOB_RECOVERING + 1);
    j->started_at = at;
    check(store_job_update(st, j, &e), &e);
    check(store_event_append(st, j->id, 0, at, "state", from, j->state, "bench: moved on",
                             NULL, &e),
          &e);
}

/* Run n transitions, `batch` per transaction; returns transitions per second. */
static double run(struct store *st, struct store_job *jobs, size_t njobs, size_t n,
                  size_t batch)
{
    double t0 = now_s();
    struct err e;
    size_t i;

    for (i = 0; i < n; i++) {
        if (i % batch == 0)
            check(store_begin(st, &e), &e);
        transition(st, &jobs[i % njobs], 1732390000.0 + (double)i);
        if ((i + 1) % batch == 0 || i + 1 == n)
            check(store_commit(st, &e), &e);
    }
    return (double)n / (now_s() - t0);
}

/* Transitions per second at 1 and at 100 per commit on the store at path. */
static void bench_path(const char *path, size_t njobs, size_t n, double *one,
                       double *hundred)
{
    struct store_job *jobs;
    struct store *st;
    struct err e;

    check(store_open(&st, path, &e), &e);
    jobs = make_jobs(st, njobs);
    *one = run(st, jobs, njobs, n, 1);
    *hundred = run(st, jobs, njobs, n, 100);
    store_close(st);
    store_jobs_free(jobs, njobs);
}

static void print_rates(const char *what, double one, double hundred)
{
    printf("%s 1 per commit:      %10.0f transitions/s  (%.1f us per commit)\n", what, one,
           1e6 / one);
    printf("%s 100 per commit:    %10.0f transitions/s  (%.1f us per commit)\n", what,
           hundred, 100e6 / hundred);
}

/* The same workload on PostgreSQL, against SQLite's numbers. */
static void bench_pg(const char *url, size_t njobs, size_t n, double one, double hundred)
{
    double pone, phundred;

    bench_path(url, njobs, n, &pone, &phundred);
    printf("postgres store:    %s\n", url);
    print_rates("postgres", pone, phundred);
    printf("postgres/sqlite:   %.3f at 1 per commit, %.3f at 100 per commit\n", pone / one,
           phundred / hundred);
}

int main(int argc, char **argv)
{
    const char *base = "/tmp", *pg = NULL;
    size_t njobs = 1000, n = 100000, i;
    char fs[512], *dir, *path;
    double one, hundred;

    for (i = 1; i + 1 < (size_t)argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
        else if (strcmp(argv[i], "--jobs") == 0)
            njobs = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--transitions") == 0)
            n = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--pg") == 0)
            pg = argv[i + 1];
    }
    if (argc % 2 == 0 || njobs == 0 || n == 0) {
        fprintf(stderr, "usage: bench_store [--dir DIR] [--jobs N] [--transitions N] "
                        "[--pg URL]\n");
        return 2;
    }
    dir = xasprintf("%s/stratus-bench-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        return 1;
    }
    path = xasprintf("%s/stratus.db", dir);
    file_system_of(dir, fs, sizeof(fs));
    bench_path(path, njobs, n, &one, &hundred);
    printf("store file:        %s\n", path);
    printf("file system:       %s\n", fs);
    printf("jobs:              %zu (spec 1.5 KB + policy 0.5 KB each)\n", njobs);
    printf("transitions:       %zu per run (update job row + append event)\n", n);
    print_rates("sqlite", one, hundred);
    printf("target:                 20000 transitions/s: %s\n",
           one > 20000 || hundred > 20000 ? "met" : "NOT met");
    store_remove_file(path);
    free(path);
    rmdir(dir);
    free(dir);
    if (pg != NULL)
        bench_pg(pg, njobs, n, one, hundred);
    return 0;
}
