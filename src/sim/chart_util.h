/*
 * chart_util.h - the pieces the simulator's SVG charts share (chart.c for
 * training, serve_chart.c for services): the five cloud series and their
 * colours, "nice" tick steps, USD and time labels, text escaping, the page's
 * opening tag and the cloud legend.  Internal to src/sim.
 */
#ifndef STRATUS_CHART_UTIL_H
#define STRATUS_CHART_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* azure, gcp, oci, aws, other: sim_cloud_names' order (sim.h). */
#define CHART_NSERIES 5

extern const char *const chart_series_name[CHART_NSERIES];
extern const char *const chart_series_colour[CHART_NSERIES];

/* Index of a cloud's series; any cloud not named (or NULL) is "other". */
size_t chart_series_of(const char *cloud);
/* The stacked height of bucket b: the sum over the CHART_NSERIES rows of
 * v (CHART_NSERIES x nb, row-major). */
double chart_bucket_sum(const double *v, size_t nb, size_t b);

/* A step of 1, 2 or 5 x 10^k that cuts `span` into at most `most` parts. */
double chart_nice_step(double span, int most);

/* Short USD for axes: "$0", "$950", "$12.5k", "$1.2M". */
void chart_usd_label(char *out, size_t n, double v);

/* USD with thousands separators: "$1,234,567". */
void chart_usd_full(char *out, size_t n, double v);

/* The time unit for a span: returns seconds per unit, sets its suffix
 * ("d", "h" or "m"). */
double chart_time_unit(double span_s, const char **suffix);

/* A bucket's width for "USD per ...": "hour", "day", "minute" or "15m". */
void chart_per_bucket(char *out, size_t n, double bucket_s);

/* Write s as SVG text or attribute content: &<>" escaped, control
 * characters other than tab dropped. */
void chart_put_escaped(FILE *out, const char *s);

/* The opening <svg> tag (SVG 1.1, a system sans-serif font) and a white
 * background of width x height. */
void chart_svg_open(FILE *out, double width, double height);

/* One swatch and name per cloud series, left to right from x0 every dx,
 * on the legend line whose swatch top is y. */
void chart_legend_clouds(FILE *out, double x0, double dx, double y);

#endif
