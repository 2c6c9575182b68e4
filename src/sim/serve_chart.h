/*
 * serve_chart.h - an SVG chart of simulated services (`stratus simulate
 * --service --chart FILE`): a row per policy with three plots over the same
 * time axis: replicas running by cloud (the share on spot hatched), spend
 * per bucket by cloud, and TTFT percentiles against the latency objective.
 * Plain SVG 1.1 text, no external fonts or scripts (as chart.h).
 */
#ifndef STRATUS_SERVE_CHART_H
#define STRATUS_SERVE_CHART_H

#include <stddef.h>
#include <stdio.h>

/* One policy's run, bucketed over time.  Arrays are the caller's; rows by
 * cloud follow sim_cloud_names (sim.h).  A NULL array draws nothing. */
struct serve_series {
    const char *policy; /* panel title */
    size_t nbuckets;    /* equal buckets from serve up to the last answer */
    double bucket_s;
    double t_start_s;       /* start of bucket 0 relative to trace time 0
                               (negative: the lead before the first request) */
    double slo_s;           /* latency objective on TTFT; 0 = none */
    const double *replicas; /* SIM_NCLOUDS x nbuckets (row-major by cloud):
                               mean replicas running in the bucket */
    const double *spot;     /* nbuckets: of those, mean on spot (all clouds) */
    const double *usd;      /* SIM_NCLOUDS x nbuckets: spend in the bucket */
    const double *ttft;     /* 3 x nbuckets: P50, P90, P99 seconds of the
                               requests that arrived in the bucket and were
                               served; NAN where none */
    const double *e2e;      /* 3 x nbuckets, the same for end-to-end (not
                               drawn today) */
};

/* Write one SVG with a row per policy: replicas by cloud (stacked, spot
 * share marked), spend by cloud per bucket (stacked), latency percentiles
 * (lines, the objective as a dashed line).  0 or ST_EIO. */
int serve_chart_write_svg(FILE *out, const char *title, const struct serve_series *s,
                          size_t n);

#endif
