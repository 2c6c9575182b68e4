/*
 * chart.c - spend over time by cloud, one panel per policy, as plain SVG
 * (see chart.h).
 *
 * Layout: series (clouds folded onto the five fixed colours); the page
 * (title, legend); one panel (frame, grid, stacked step areas, axes, title
 * with totals).  Colours, ticks, labels and escaping are chart_util.c's,
 * shared with the service chart (serve_chart.c).
 *
 * Every panel shares one y scale so that policies compare by eye; the areas
 * are steps, so each bucket's height is exactly its spend whatever the number
 * of buckets.  Output depends only on the input: no clock, no randomness.
 */
#include "chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/xmem.h"
#include "chart_util.h"

#define NSERIES CHART_NSERIES
#define CHART_W 1000.0
#define PLOT_X 90.0 /* left edge of a plot (room for USD labels) */
#define PLOT_W (CHART_W - PLOT_X - 30)
#define HEAD_H 80.0   /* title and legend */
#define PANEL_H 250.0 /* one panel, including its title and x labels */
#define PLOT_TOP 34.0 /* plot top inside a panel */
#define PLOT_H (PANEL_H - PLOT_TOP - 46)

/* Spend of one panel folded onto the series: NSERIES x nbuckets. */
static double *fold(const struct chart_panel *p)
{
    double *v = xcalloc(NSERIES * (p->nbuckets ? p->nbuckets : 1), sizeof(*v));
    size_t c, b;

    for (c = 0; c < p->nclouds; c++)
        for (b = 0; b < p->nbuckets; b++) {
            double x = p->usd[c * p->nbuckets + b];

            if (isfinite(x) && x > 0) /* spend is never negative; ignore junk */
                v[chart_series_of(p->clouds[c]) * p->nbuckets + b] += x;
        }
    return v;
}

static int series_spent(const double *v, size_t nb, size_t s)
{
    size_t b;

    for (b = 0; b < nb; b++)
        if (v[s * nb + b] > 0)
            return 1;
    return 0;
}

/* ---- the page ---- */

static void page_head(FILE *out, const char *title, double height)
{
    chart_svg_open(out, CHART_W, height);
    fputs("<text x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\">", out);
    chart_put_escaped(out, title ? title : "Spend over time by cloud");
    fputs("</text>\n<g class=\"legend\">\n", out);
    chart_legend_clouds(out, PLOT_X, 110, 48);
    fputs("</g>\n", out);
}

/* ---- one panel ---- */

struct frame {
    double top;  /* y of the plot's top edge */
    double ymax; /* USD at the top edge (shared by all panels) */
    double span; /* seconds covered by the x axis */
};

static double px(const struct frame *f, double t)
{
    return PLOT_X + (f->span > 0 ? t / f->span : 0) * PLOT_W;
}

static double py(const struct frame *f, double usd)
{
    return f->top + PLOT_H - (f->ymax > 0 ? usd / f->ymax : 0) * PLOT_H;
}

static void y_axis(FILE *out, const struct frame *f, double bucket_s)
{
    double step = chart_nice_step(f->ymax, 5), v;
    char lab[32];

    for (v = 0; v <= f->ymax * (1 + 1e-9); v += step) {
        chart_usd_label(lab, sizeof(lab), v);
        fprintf(
            out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            PLOT_X, py(f, v), PLOT_X + PLOT_W, py(f, v), PLOT_X - 6, py(f, v) + 4, lab);
    }
    chart_per_bucket(lab, sizeof(lab), bucket_s);
    fprintf(out,
            "<text x=\"16\" y=\"%.1f\" transform=\"rotate(-90 16 %.1f)\" "
            "text-anchor=\"middle\" "
            "fill=\"#555555\">USD per %s</text>\n",
            f->top + PLOT_H / 2, f->top + PLOT_H / 2, lab);
}

static void x_axis(FILE *out, const struct frame *f)
{
    const char *suffix;
    double unit = chart_time_unit(f->span, &suffix),
           step = chart_nice_step(f->span / unit, 10) * unit, t;
    double base = f->top + PLOT_H;

    for (t = 0; t <= f->span * (1 + 1e-9); t += step)
        fprintf(
            out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g%s</text>\n",
            px(f, t), base, px(f, t), base + 5, px(f, t), base + 18, t / unit, suffix);
    fprintf(
        out,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>"
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
        PLOT_X, base, PLOT_X + PLOT_W, base, PLOT_X, f->top, PLOT_X, base);
    fprintf(
        out,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">time since "
        "the start</text>\n",
        PLOT_X + PLOT_W / 2, base + 34);
}

/* Cumulative spend of series 0..upto (inclusive; upto < 0 = none) per bucket. */
static double *stack(const double *v, size_t nb, long upto)
{
    double *c = xcalloc(nb ? nb : 1, sizeof(*c));
    size_t b;
    long k;

    for (b = 0; b < nb; b++)
        for (k = 0; k <= upto; k++)
            c[b] += v[(size_t)k * nb + b];
    return c;
}

/* The corners of a step line through h[] (one point where a step starts or
 * ends, none along a flat run, which keeps long flat series small). */
static void step_points(FILE *out, const struct frame *f, const double *h, size_t nb,
                        double bucket_s, int backwards)
{
    size_t i, b;

    for (i = 0; i < nb; i++) {
        b = backwards ? nb - 1 - i : i;
        if (i == 0 || h[b] != h[backwards ? b + 1 : b - 1])
            fprintf(out, "%.1f,%.1f ", px(f, (double)(backwards ? b + 1 : b) * bucket_s),
                    py(f, h[b]));
        if (i + 1 == nb || h[b] != h[backwards ? b - 1 : b + 1])
            fprintf(out, "%.1f,%.1f ", px(f, (double)(backwards ? b : b + 1) * bucket_s),
                    py(f, h[b]));
    }
}

/* One series as a step area between the cumulative sums below and through it. */
static void area(FILE *out, const struct frame *f, const double *v, size_t nb,
                 double bucket_s, size_t s)
{
    double *hi = stack(v, nb, (long)s), *lo = stack(v, nb, (long)s - 1);

    fprintf(
        out,
        "<polygon fill=\"%s\" stroke=\"none\" shape-rendering=\"crispEdges\" points=\"",
        chart_series_colour[s]);
    step_points(out, f, hi, nb, bucket_s, 0); /* upper edge, left to right */
    step_points(out, f, lo, nb, bucket_s, 1); /* lower edge, right to left */
    fputs("\"/>\n", out);
    free(hi);
    free(lo);
}

/* "stratus  total $1,234 (azure $1,000, gcp $234)" */
static void panel_title(FILE *out, const struct chart_panel *p, const double *v,
                        double top)
{
    double sum[NSERIES] = {0}, total = 0;
    char money[48];
    size_t s, b, shown = 0;

    for (s = 0; s < NSERIES; s++)
        for (b = 0; b < p->nbuckets; b++)
            sum[s] += v[s * p->nbuckets + b];
    for (s = 0; s < NSERIES; s++)
        total += sum[s];
    fprintf(out,
            "<text x=\"%.0f\" y=\"%.1f\" font-size=\"14\"><tspan font-weight=\"bold\">",
            PLOT_X, top - 12);
    chart_put_escaped(out, p->title ? p->title : "");
    chart_usd_full(money, sizeof(money), total);
    fprintf(out, "</tspan>  total %s", money);
    for (s = 0; s < NSERIES; s++) {
        if (sum[s] <= 0)
            continue;
        chart_usd_full(money, sizeof(money), sum[s]);
        fprintf(out, "%s%s %s", shown++ ? ", " : " (", chart_series_name[s], money);
    }
    fputs(shown ? ")</text>\n" : "</text>\n", out);
}

static void panel(FILE *out, const struct chart_panel *p, double top, double ymax)
{
    double *v = fold(p);
    struct frame f = {top + PLOT_TOP, ymax, (double)p->nbuckets * p->bucket_s};
    size_t s;

    fprintf(out, "<g class=\"panel\">\n");
    panel_title(out, p, v, f.top);
    if (p->nbuckets > 0 && p->bucket_s > 0) {
        y_axis(out, &f, p->bucket_s);
        for (s = 0; s < NSERIES; s++) /* the areas tile: none covers another */
            if (series_spent(v, p->nbuckets, s))
                area(out, &f, v, p->nbuckets, p->bucket_s, s);
        x_axis(out, &f);
    } else {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">no spend recorded</text>\n",
                PLOT_X + 10, f.top + PLOT_H / 2);
    }
    fputs("</g>\n", out);
    free(v);
}

/* The largest bucket total of any panel, rounded up to a tick. */
static double shared_ymax(const struct chart_panel *panels, size_t npanels)
{
    double m = 0, step;
    size_t i, b;

    for (i = 0; i < npanels; i++) {
        double *v = fold(&panels[i]);

        for (b = 0; b < panels[i].nbuckets; b++)
            m = fmax(m, chart_bucket_sum(v, panels[i].nbuckets, b));
        free(v);
    }
    if (m <= 0)
        return 1;
    step = chart_nice_step(m, 5);
    return ceil(m / step) * step;
}

int chart_write_svg(FILE *out, const char *title, const struct chart_panel *panels,
                    size_t npanels)
{
    double ymax = shared_ymax(panels, npanels);
    size_t i;

    page_head(out, title, HEAD_H + (double)(npanels ? npanels : 1) * PANEL_H);
    for (i = 0; i < npanels; i++)
        panel(out, &panels[i], HEAD_H + (double)i * PANEL_H, ymax);
    if (npanels == 0)
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">no policy to show</text>\n", PLOT_X,
                HEAD_H + 40);
    fputs("</svg>\n", out);
    return ferror(out) ? err_set(NULL, ST_EIO, "chart: output error") : 0;
}
