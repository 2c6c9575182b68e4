/*
 * bench_deadline.c - reproduces the setting of Table 3 of "Can't Be Late"
 * (Wu et al., NSDI '24) with the real controller on the sim driver (the
 * world is described in bench/cbl.h): a 48 h job, deadlines 52 h and 60 h,
 * changeover d = 0.2 h, on-demand $3.06/h against spot $0.9731/h,
 * `--starts` random start times (300) on each of the 8 SkyPilot
 * availability traces of aws-10-26-2022.  Prints, per trace and overall,
 * the mean cost as a fraction of on-demand and the deadline misses of
 * Uniform Progress (`stratus`'s deadline rule), the paper's Greedy and
 * on-demand, beside the figures of the paper's own simulator, and the
 * hours each spent on on-demand and spot beside the paper's Table 3.
 *
 * Start windows lie in the first `--span-h` hours of each trace (336: the
 * paper evaluates on "a 2-week availability trace started on 10/26/2022",
 * §6.1, while the public files run 27 days); --span-h 0 uses all of it.
 *
 * usage: bench_deadline [--traces DIR] [--starts N] [--seed S] [--span-h H]
 *   DIR defaults to ../shared/data/traces/spot-availability-skypilot/
 *   availability/1-node/aws-10-26-2022 (run from the repository root).
 */
#define _GNU_SOURCE
#include "cbl.h"
#include "util/clock.h"

static const double deadlines_h[] = {52, 60};
#define NDEADLINES 2

/* The paper's simulator on the same setting (issue 10): mean cost / on-demand. */
static const double paper_up[NDEADLINES] = {0.830, 0.723};
static const double paper_greedy[NDEADLINES] = {0.874, 0.784};

struct cell {
    double ratio_sum;     /* sum over traces of the mean cost ratio */
    double od_h, spot_h, preemptions; /* sums over traces of the per-job means */
    size_t misses, jobs;
};

struct args {
    const char *dir;
    size_t nstarts;
    uint64_t seed;
    double span_h;
};

static int parse(int argc, char **argv, struct args *a)
{
    int i;

    a->dir = "../shared/data/traces/spot-availability-skypilot/availability/1-node/"
             "aws-10-26-2022";
    a->nstarts = 300;
    a->seed = 20221026;
    a->span_h = 336;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--traces") == 0)
            a->dir = argv[i + 1];
        else if (strcmp(argv[i], "--starts") == 0)
            a->nstarts = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            a->seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--span-h") == 0)
            a->span_h = atof(argv[i + 1]);
        else
            break;
    }
    if (i < argc || a->nstarts == 0) {
        fprintf(stderr, "usage: bench_deadline [--traces DIR] [--starts N] [--seed S] "
                        "[--span-h H]\n");
        return -1;
    }
    return 0;
}

static void add(struct cell *c, const struct cbl_result *r)
{
    c->ratio_sum += r->ratio;
    c->od_h += r->od_h;
    c->spot_h += r->spot_h;
    c->preemptions += r->preemptions;
    c->misses += r->misses;
    c->jobs += r->jobs;
}

static void one_trace(const struct cbl *c, const struct args *a, int k,
                      struct cell cells[NDEADLINES][CBL_NPOL])
{
    char path[1024], msg[1400];
    struct cbl_trace t;
    int d, p;

    snprintf(path, sizeof(path), "%s/%s.json", a->dir, cbl_trace_names[k]);
    if (cbl_trace_open(&t, path, a->nstarts, deadlines_h[NDEADLINES - 1], a->span_h,
                       a->seed + (uint64_t)k, msg, sizeof(msg)) != 0)
        cbl_die("trace", msg);
    for (d = 0; d < NDEADLINES; d++) {
        printf("%-18s %2.0f h", cbl_trace_names[k], deadlines_h[d]);
        for (p = 0; p < CBL_NPOL; p++) {
            struct cbl_result r = cbl_run(c, &t, deadlines_h[d], (enum cbl_policy)p);

            add(&cells[d][p], &r);
            printf("  %-16s %6.3f %4zu", cbl_policy_names[p], r.ratio, r.misses);
        }
        printf("\n");
        fflush(stdout);
    }
    cbl_trace_close(&t);
}

static void summary(const struct args *a, struct cell cells[NDEADLINES][CBL_NPOL])
{
    int d, p;

    printf("\nmean over %d traces x %zu starts  uniform-progress (paper)  cbl-greedy (paper)  "
           "on-demand  misses UP/Greedy/OD\n", CBL_NTRACES, a->nstarts);
    for (d = 0; d < NDEADLINES; d++)
        printf("deadline %2.0f h                    %8.3f (%.3f)         %6.3f (%.3f)  %9.3f  "
               "%zu/%zu/%zu of %zu\n",
               deadlines_h[d], cells[d][CBL_UP].ratio_sum / CBL_NTRACES, paper_up[d],
               cells[d][CBL_GREEDY].ratio_sum / CBL_NTRACES, paper_greedy[d],
               cells[d][CBL_OD].ratio_sum / CBL_NTRACES, cells[d][CBL_UP].misses,
               cells[d][CBL_GREEDY].misses, cells[d][CBL_OD].misses, cells[d][CBL_UP].jobs);
    printf("\nbilled hours per job, on-demand / spot (changeovers included), and preemptions "
           "per job;\nthe paper's Table 3 (60 h, compute only): Greedy 30.8 / 17.2, "
           "Uniform Progress 25.1 / 22.9\n");
    for (d = 0; d < NDEADLINES; d++)
        for (p = 0; p < CBL_NPOL; p++)
            printf("deadline %2.0f h  %-16s %5.1f / %5.1f  %5.2f\n", deadlines_h[d],
                   cbl_policy_names[p], cells[d][p].od_h / CBL_NTRACES,
                   cells[d][p].spot_h / CBL_NTRACES, cells[d][p].preemptions / CBL_NTRACES);
}

int main(int argc, char **argv)
{
    struct cell cells[NDEADLINES][CBL_NPOL];
    struct args a;
    struct cbl c;
    double t0 = clock_mono();
    int k;

    if (parse(argc, argv, &a) != 0)
        return 2;
    memset(cells, 0, sizeof(cells));
    cbl_catalog(&c);
    printf("Can't Be Late Table 3 setting: %.0f h job, d = %.1f h, $%.2f vs $%.4f/h, "
           "%zu starts per trace in its first %.0f h\n(per trace: policy, mean cost / "
           "on-demand, deadline misses)\n",
           CBL_JOB_H, CBL_CHANGEOVER_S / 3600, CBL_OD_PRICE, CBL_SPOT_PRICE, a.nstarts,
           a.span_h);
    for (k = 0; k < CBL_NTRACES; k++)
        one_trace(&c, &a, k, cells);
    summary(&a, cells);
    printf("(%.1f s)\n", clock_mono() - t0);
    cbl_catalog_free(&c);
    return 0;
}
