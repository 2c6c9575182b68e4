/*
 * bench_holders.c - prints what finding a dataset home's holder costs
 * (sched_data_home_holder, docs/data.md): the lookup behind a refused
 * conflicting submit, a service's end and `serve update`, which reads the
 * store's services and jobs that have not ended and looks for the name in
 * their specs.  A real SQLite store file with --jobs pending jobs (10,000 by
 * default), each on its own shared dataset, with a multi-line run command
 * that quotes an argument and ends its lines in backslashes, as real ones
 * do: a backslash and a double quote could be a YAML escape spelling the
 * name, so each such spec is scanned (and parsed if a scalar reads it).
 *
 *   the lookup of a name no job holds (every spec read and scanned), and of
 *   a name the last job holds: median and max over --rounds.
 *
 * usage: bench_holders [--jobs N] [--rounds N]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/sched.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/xmem.h"

static void die(const struct err *e)
{
    fprintf(stderr, "bench_holders: %s\n", e->msg);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static const char SPEC[] = "name: train-%ld\n"
                           "resources:\n"
                           "  accelerators: H100:8\n"
                           "run: |\n"
                           "  torchrun --nproc_per_node 8 train.py \\\n"
                           "    --run-name \"nightly %ld\" \\\n"
                           "    --steps 100000\n"
                           "stratus:\n"
                           "  duration: 4h\n"
                           "  data:\n"
                           "    location: azure/eastus\n"
                           "    size_gb: 500\n"
                           "    dataset: corpus-%ld\n";

/* One lookup of `name`, in ms; *found: whether something holds it. */
static double lookup(struct store *st, const char *name, int *found)
{
    struct data_holder h;
    double t0 = clock_mono();

    *found = sched_data_home_holder(st, name, 0, &h);
    return (clock_mono() - t0) * 1e3;
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
    printf("%-44s median %8.2f ms   max %8.2f ms\n", what, ms[n / 2], ms[n - 1]);
}

int main(int argc, char **argv)
{
    char home[] = "/tmp/stratus-bench-holders-XXXXXX", *db, text[sizeof(SPEC) + 64],
         last[64];
    long njobs = 10000, rounds = 20, i;
    double *none, *held, t0;
    struct store *st;
    struct err e;
    int a, found;

    for (a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--jobs") == 0)
            njobs = atol(argv[a + 1]);
        else if (strcmp(argv[a], "--rounds") == 0)
            rounds = atol(argv[a + 1]);
    }
    if (njobs < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_holders [--jobs N] [--rounds N]\n");
        return 2;
    }
    if (mkdtemp(home) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    db = xasprintf("%s/stratus.db", home);
    err_clear(&e);
    if (store_open(&st, db, &e) != 0)
        die(&e);
    t0 = clock_mono();
    for (i = 1; i <= njobs; i++) {
        int64_t id;

        snprintf(text, sizeof(text), SPEC, i, i, i);
        if (sched_submit(st, "train.yaml", text, NULL, 1.8e9 + (double)i, &id, &e) != 0)
            die(&e);
    }
    printf("%ld pending jobs submitted in %.1f s (SQLite file %s)\n", njobs,
           clock_mono() - t0, db);
    none = xcalloc((size_t)rounds, sizeof(*none));
    held = xcalloc((size_t)rounds, sizeof(*held));
    snprintf(last, sizeof(last), "corpus-%ld", njobs);
    for (i = 0; i < rounds; i++) {
        none[i] = lookup(st, "nobody-holds-this", &found);
        if (found) {
            fprintf(stderr, "bench_holders: a holder of a name no job gives\n");
            return 1;
        }
        held[i] = lookup(st, last, &found);
        if (!found) {
            fprintf(stderr, "bench_holders: no holder found for %s\n", last);
            return 1;
        }
    }
    report("holder of a name no job gives (all scanned)", none, (int)rounds);
    report("holder of the last job's dataset", held, (int)rounds);
    store_close(st);
    unlink(db);
    {
        char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);

        unlink(wal);
        unlink(shm);
        free(wal);
        free(shm);
    }
    rmdir(home);
    free(db);
    free(none);
    free(held);
    return 0;
}
