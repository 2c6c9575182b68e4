/*
 * chart.h - SVG charts of a simulation: spend over time by cloud, one panel
 * per policy.  Plain SVG 1.1 text, no external fonts or scripts, so it opens
 * in any browser and renders headless.
 */
#ifndef STRATUS_CHART_H
#define STRATUS_CHART_H

#include <stddef.h>
#include <stdio.h>

/* One policy's cumulative (or per-bucket) spend by cloud over time. */
struct chart_panel {
    const char *title;        /* the policy name */
    size_t nbuckets;          /* time buckets, equal width */
    double bucket_s;          /* width of one bucket in seconds */
    size_t nclouds;
    const char *const *clouds; /* cloud names, nclouds */
    const double *usd;        /* nclouds x nbuckets, row-major: spend in the bucket */
};

/* Write a chart of panels (stacked areas of spend per bucket by cloud, with
 * axes, labels, a legend and each panel's total) to out. 0 or ST_EIO. */
int chart_write_svg(FILE *out, const char *title, const struct chart_panel *panels,
                    size_t npanels);

#endif
