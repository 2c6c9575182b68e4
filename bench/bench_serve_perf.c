/*
 * bench_serve_perf.c - how fast the replica performance model runs: N
 * requests (default 10 M) over R replicas (default 50) of llama-3.1-8b on
 * one H100 each, routed by the power of two choices on rp_inflight().
 *
 *   bench_serve_perf [REQUESTS [REPLICAS [RATE_PER_S]]]
 *
 * Arrivals are Poisson (seeded), prompts uniform in 1..4000 tokens, outputs
 * uniform in 1..600.  Prints wall time, requests/s and events/s (an event is
 * an arrival, a first token or a completion: three per request), peak RSS,
 * and mean TTFT / end-to-end in virtual time as a sanity check.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "sim/serve_perf.h"
#include "util/xmem.h"

struct totals {
    size_t done;
    double ttft, e2e;
};

static void on_done(void *ctx, const struct rp_done *d)
{
    struct totals *t = ctx;

    t->done++;
    t->ttft += d->first_token_s - d->req.arrival_s;
    t->e2e += d->done_s - d->req.arrival_s;
}

static uint64_t rng(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 11;
}

static double unif(uint64_t *x)
{
    return ((double)rng(x) + 0.5) / 9007199254740992.0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct replica *pick(struct replica **reps, size_t nrep, double t, uint64_t *x,
                            struct totals *tot)
{
    struct replica *a = reps[rng(x) % nrep], *b = reps[rng(x) % nrep];

    rp_advance(a, t, on_done, tot);
    rp_advance(b, t, on_done, tot);
    return rp_inflight(b) < rp_inflight(a) ? b : a;
}

int main(int argc, char **argv)
{
    size_t nreq = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
    size_t nrep = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
    double rate = argc > 3 ? strtod(argv[3], NULL) : 250.0;
    struct serve_perf p;
    struct err e = {0};
    struct totals tot = {0};
    uint64_t x = 1;
    double t = 0;

    if (nrep == 0 || !(rate > 0) ||
        serve_perf_lookup("H100", "llama-3.1-8b", 1, &p, &e) < 0) {
        fprintf(stderr, "usage: bench_serve_perf [REQUESTS [REPLICAS [RATE]]] %s\n",
                e.msg);
        return 2;
    }
    struct replica **reps = xcalloc(nrep, sizeof(*reps));
    for (size_t i = 0; i < nrep; i++)
        reps[i] = rp_new(&p, &e);
    double w0 = now_s();
    for (size_t i = 0; i < nreq; i++) {
        t += -log(unif(&x)) / rate;
        struct rp_request q = {i, t, (uint32_t)(1 + rng(&x) % 4000),
                               (uint32_t)(1 + rng(&x) % 600)};
        struct replica *r = pick(reps, nrep, t, &x, &tot);
        rp_advance(r, t, on_done, &tot);
        if (rp_arrive(r, t, &q, &e) < 0) {
            fprintf(stderr, "bench_serve_perf: %s\n", e.msg);
            return 1;
        }
    }
    for (size_t i = 0; i < nrep; i++)
        rp_advance(reps[i], INFINITY, on_done, &tot);
    double wall = now_s() - w0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("requests %zu  replicas %zu  rate %.0f/s  virtual %.0f s  wall %.2f s\n", nreq,
           nrep, rate, t, wall);
    printf("requests/s %.3g  events/s %.3g  peak RSS %ld MiB\n", nreq / wall,
           3.0 * nreq / wall, ru.ru_maxrss / 1024);
    printf("done %zu  mean TTFT %.3f s  mean end-to-end %.3f s\n", tot.done,
           tot.ttft / (double)tot.done, tot.e2e / (double)tot.done);
    for (size_t i = 0; i < nrep; i++)
        rp_free(reps[i]);
    free(reps);
    return tot.done == nreq ? 0 : 1;
}
