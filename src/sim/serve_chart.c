/*
 * serve_chart.c - simulated services as plain SVG (see serve_chart.h).
 *
 * Layout: the shared scales (one time range, one replica, spend and latency
 * axis for every row, so policies compare by eye); a plot's frame and its
 * coordinates; axes; the drawings (stacked step areas, the spot hatch,
 * percentile lines with gaps, the objective); the three plots; a row; the
 * page (title, one legend).
 *
 * Time runs from the earliest bucket start of any row (the lead before trace
 * time 0, shaded) to the latest bucket end.  Replicas and spend are steps,
 * so a bucket's height is exactly its value.  Latency is on a log scale:
 * P99 is often ten times P50 or more, and a linear axis would flatten P50
 * and the objective against the floor.  Latency points sit at their
 * bucket's middle; a bucket with no request (NAN) breaks the line.
 * Every number written is finite: input that is not (or is negative where a
 * count is meant) counts as 0, or as no request for latency.
 */
#include "serve_chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/xmem.h"
#include "chart_util.h"
#include "sim.h"

#define CHART_W 1220.0
#define HEAD_H 80.0  /* title and legend */
#define ROW_H 250.0  /* one policy's row, with its titles and x labels */
#define COL_W 400.0  /* one plot with its y labels */
#define COL_X0 20.0  /* left edge of the first column */
#define PLOT_DX 62.0 /* plot's left edge inside its column (y labels) */
#define PLOT_W 318.0
#define PLOT_TOP 52.0 /* plot top inside a row */
#define PLOT_H 150.0
#define NPCT 3 /* P50, P90, P99 */

static const char *const pct_name[NPCT] = {"P50", "P90", "P99"};
static const char *const pct_class[NPCT] = {"p50", "p90", "p99"};
/* A ramp of one hue, light to dark, so the order reads without the legend;
 * no cloud uses purple.  The objective is red. */
static const char *const pct_colour[NPCT] = {"#b39ddb", "#7e57c2", "#311b92"};
#define SLO_COLOUR "#d62728"

/* ---- input, cleaned ---- */

static double count_at(const double *a, size_t i)
{
    return a && isfinite(a[i]) && a[i] > 0 ? a[i] : 0;
}

static int has_data(const struct serve_series *s)
{
    return s->nbuckets > 0 && s->bucket_s > 0 && isfinite(s->bucket_s) &&
           isfinite(s->t_start_s);
}

/* A per-cloud array (SIM_NCLOUDS rows) folded onto the chart's series:
 * CHART_NSERIES x nbuckets, 0 where the input is missing or junk. */
static double *fold(const double *a, size_t nb)
{
    double *v = xcalloc(CHART_NSERIES * (nb ? nb : 1), sizeof(*v));
    size_t c, b;

    for (c = 0; a && c < SIM_NCLOUDS; c++)
        for (b = 0; b < nb; b++)
            v[chart_series_of(sim_cloud_names[c]) * nb + b] += count_at(a, c * nb + b);
    return v;
}

/* The largest bucket total of a per-cloud array over all rows. */
static double max_stacked(const struct serve_series *s, size_t n, int usd)
{
    double m = 0;
    size_t i, b;

    for (i = 0; i < n; i++) {
        double *v;

        if (!has_data(&s[i]))
            continue;
        v = fold(usd ? s[i].usd : s[i].replicas, s[i].nbuckets);
        for (b = 0; b < s[i].nbuckets; b++)
            m = fmax(m, chart_bucket_sum(v, s[i].nbuckets, b));
        if (!usd)
            for (b = 0; b < s[i].nbuckets; b++)
                m = fmax(m, count_at(s[i].spot, b));
        free(v);
    }
    return m;
}

/* A latency to draw, or NAN for none (missing, junk, not positive). */
static double lat_at(const struct serve_series *s, int k, size_t b)
{
    double x = s->ttft ? s->ttft[(size_t)k * s->nbuckets + b] : NAN;

    return isfinite(x) && x > 0 ? x : NAN;
}

/* ---- scales shared by every row ---- */

struct scales {
    double t0, t1;         /* seconds from trace time 0 on the x axis */
    double rmax, umax;     /* replicas, USD per bucket at the top */
    double lat_lo, lat_hi; /* decades of the latency axis: 10^lo .. 10^hi */
    int any_slo;           /* some row has an objective */
};

static double round_up(double m)
{
    double step;

    if (!(m > 0) || !isfinite(m)) /* a sum of huge values can overflow */
        return 1;
    step = chart_nice_step(m, 5);
    return ceil(m / step) * step;
}

static void time_range(const struct serve_series *s, size_t n, struct scales *sc)
{
    size_t i;
    int seen = 0;

    for (i = 0; i < n; i++) {
        double a = s[i].t_start_s, z = a + (double)s[i].nbuckets * s[i].bucket_s;

        if (!has_data(&s[i]) || !isfinite(z))
            continue;
        sc->t0 = seen ? fmin(sc->t0, a) : a;
        sc->t1 = seen ? fmax(sc->t1, z) : z;
        seen = 1;
    }
    if (!seen || !(sc->t1 > sc->t0)) {
        sc->t0 = 0;
        sc->t1 = 3600;
    }
}

/* Decades around every percentile and objective (the range 1 ms .. 10^4 s
 * at most: beyond, a simulated TTFT is a bug, not a point to stretch for). */
static void latency_range(const struct serve_series *s, size_t n, struct scales *sc)
{
    double lo = INFINITY, hi = 0;
    size_t i, b;
    int k;

    for (i = 0; i < n; i++) {
        if (s[i].slo_s > 0 && isfinite(s[i].slo_s)) {
            lo = fmin(lo, s[i].slo_s);
            hi = fmax(hi, s[i].slo_s);
            sc->any_slo = 1;
        }
        for (k = 0; k < NPCT && has_data(&s[i]); k++)
            for (b = 0; b < s[i].nbuckets; b++)
                if (!isnan(lat_at(&s[i], k, b))) {
                    lo = fmin(lo, lat_at(&s[i], k, b));
                    hi = fmax(hi, lat_at(&s[i], k, b));
                }
    }
    sc->lat_lo = hi > 0 ? fmax(-3, floor(log10(lo))) : -1;
    sc->lat_hi = hi > 0 ? fmin(4, ceil(log10(hi))) : 1;
    if (sc->lat_hi <= sc->lat_lo)
        sc->lat_hi = sc->lat_lo + 1;
}

static void make_scales(const struct serve_series *s, size_t n, struct scales *sc)
{
    time_range(s, n, sc);
    sc->rmax = round_up(max_stacked(s, n, 0));
    sc->umax = round_up(max_stacked(s, n, 1));
    latency_range(s, n, sc);
}

/* ---- one plot's frame ---- */

struct plot {
    double x, top; /* pixels: left and top edges */
    double t0, t1; /* seconds at the left and right edges */
    double y0, y1; /* values (log: decades) at the bottom and top */
    int log;
};

static double px(const struct plot *p, double t)
{
    return p->x + (t - p->t0) / (p->t1 - p->t0) * PLOT_W;
}

/* Values outside the axis are held at its edge, so no point leaves it. */
static double py(const struct plot *p, double v)
{
    double y = p->log ? log10(v) : v, f;

    f = (y - p->y0) / (p->y1 - p->y0);
    if (!isfinite(f))
        f = 0;
    return p->top + PLOT_H - fmin(1, fmax(0, f)) * PLOT_H;
}

/* The plot in column col of the row at top. */
static struct plot plot_at(int col, double top, const struct scales *sc)
{
    struct plot p = {
        COL_X0 + col * COL_W + PLOT_DX, top + PLOT_TOP, sc->t0, sc->t1, 0, 1, 0};

    return p;
}

/* ---- axes ---- */

static void grid_line(FILE *out, const struct plot *p, double y, const char *label)
{
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            p->x, y, p->x + PLOT_W, y, p->x - 6, y + 4, label);
}

/* Linear ticks from 0 to the top; USD or a plain count. */
static void y_ticks(FILE *out, const struct plot *p, int usd)
{
    double step = chart_nice_step(p->y1, 5), v;
    char lab[32];

    for (v = 0; v <= p->y1 * (1 + 1e-9); v += step) {
        if (usd)
            chart_usd_label(lab, sizeof(lab), v);
        else
            snprintf(lab, sizeof(lab), "%g", v);
        grid_line(out, p, py(p, v), lab);
    }
}

/* Decades, and 2 and 5 in between when there are few decades to label. */
static void log_ticks(FILE *out, const struct plot *p)
{
    static const double mant[3] = {1, 2, 5};
    int d, m, every = p->y1 - p->y0 <= 2;
    char lab[32];

    for (d = (int)p->y0; d <= (int)p->y1; d++)
        for (m = 0; m < (every ? 3 : 1); m++) {
            double v = mant[m] * pow(10, d);

            if (log10(v) > p->y1 + 1e-9)
                break;
            snprintf(lab, sizeof(lab), "%g s", v);
            grid_line(out, p, py(p, v), lab);
        }
}

/* The lead before trace time 0, shaded behind the drawings. */
static void lead_shade(FILE *out, const struct plot *p)
{
    if (p->t0 >= 0)
        return;
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"#f3f3f3\"/>\n",
            p->x, p->top, px(p, fmin(0, p->t1)) - p->x, PLOT_H);
}

static const char *unit_word(const char *suffix)
{
    return suffix[0] == 'd' ? "days" : suffix[0] == 'h' ? "hours" : "minutes";
}

static void x_axis(FILE *out, const struct plot *p)
{
    const char *suffix;
    double unit = chart_time_unit(p->t1 - p->t0, &suffix),
           step = chart_nice_step((p->t1 - p->t0) / unit, 6) * unit,
           base = p->top + PLOT_H;
    double k;

    for (k = ceil(p->t0 / step - 1e-9); k * step <= p->t1 * (1 + 1e-9) + 1e-9; k++) {
        double t = k * step, x = px(p, t);

        fprintf(
            out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
            x, base, x, base + 5, x, base + 18, t / unit + 0.0); /* + 0.0: no "-0" */
    }
    fprintf(out,
            "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333333\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">%s "
            "since trace start</text>\n",
            p->x, p->top, base, p->x + PLOT_W, p->x + PLOT_W / 2, base + 34,
            unit_word(suffix));
}

static void plot_title(FILE *out, const struct plot *p, const char *text)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333333\">%s</text>\n", p->x,
            p->top - 10, text);
}

/* ---- drawings ---- */

/* Cumulative values of series 0..upto (upto < 0: none) per bucket. */
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

/* The corners of a step line through h[] (none along a flat run), left to
 * right or back. */
static void step_points(FILE *out, const struct plot *p, const struct serve_series *s,
                        const double *h, int backwards)
{
    size_t nb = s->nbuckets, i, b;

    for (i = 0; i < nb; i++) {
        b = backwards ? nb - 1 - i : i;
        if (i == 0 || h[b] != h[backwards ? b + 1 : b - 1])
            fprintf(out, "%.1f,%.1f ",
                    px(p, s->t_start_s + (double)(backwards ? b + 1 : b) * s->bucket_s),
                    py(p, h[b]));
        if (i + 1 == nb || h[b] != h[backwards ? b - 1 : b + 1])
            fprintf(out, "%.1f,%.1f ",
                    px(p, s->t_start_s + (double)(backwards ? b : b + 1) * s->bucket_s),
                    py(p, h[b]));
    }
}

/* Band `hi` over `lo` as one polygon with the given fill. */
static void band(FILE *out, const struct plot *p, const struct serve_series *s,
                 const double *hi, const double *lo, const char *fill)
{
    fprintf(out, "<polygon fill=\"%s\" stroke=\"none\" points=\"", fill);
    step_points(out, p, s, hi, 0);
    step_points(out, p, s, lo, 1);
    fputs("\"/>\n", out);
}

static int series_any(const double *v, size_t nb, size_t k)
{
    size_t b;

    for (b = 0; b < nb; b++)
        if (v[k * nb + b] > 0)
            return 1;
    return 0;
}

/* Stacked step areas of a folded per-cloud array (the areas tile). */
static void stacked(FILE *out, const struct plot *p, const struct serve_series *s,
                    const double *v)
{
    size_t k;

    for (k = 0; k < CHART_NSERIES; k++) {
        double *hi, *lo;

        if (!series_any(v, s->nbuckets, k))
            continue;
        hi = stack(v, s->nbuckets, (long)k);
        lo = stack(v, s->nbuckets, (long)k - 1);
        band(out, p, s, hi, lo, chart_series_colour[k]);
        free(hi);
        free(lo);
    }
}

/* The replicas on spot: hatched from 0 up to their count over the stack,
 * its top edge a dark step line (the count is for all clouds together, so
 * it is drawn from the floor, not on any one cloud's area). */
static void spot_hatch(FILE *out, const struct plot *p, const struct serve_series *s)
{
    double *h = xcalloc(s->nbuckets, sizeof(*h)),
           *zero = xcalloc(s->nbuckets, sizeof(*h));
    size_t b;
    int any = 0;

    for (b = 0; b < s->nbuckets; b++) {
        h[b] = count_at(s->spot, b);
        any |= h[b] > 0;
    }
    if (any) {
        band(out, p, s, h, zero, "url(#spot-hatch)");
        fputs("<polyline class=\"spot\" fill=\"none\" stroke=\"#222222\" "
              "stroke-width=\"1.2\" points=\"",
              out);
        step_points(out, p, s, h, 0);
        fputs("\"/>\n", out);
    }
    free(h);
    free(zero);
}

/* One percentile as a path through the buckets' middles, a new subpath
 * after each gap; a point alone between gaps also gets a dot, as a path
 * of one point draws nothing. */
static int pct_line(FILE *out, const struct plot *p, const struct serve_series *s, int k)
{
    size_t b, nb = s->nbuckets, points = 0;
    int pen_up = 1;

    for (b = 0; b < nb; b++) {
        double v = lat_at(s, k, b),
               x = px(p, s->t_start_s + ((double)b + 0.5) * s->bucket_s);

        if (isnan(v)) {
            pen_up = 1;
            continue;
        }
        if (points++ == 0)
            fprintf(out,
                    "<path class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
                    "stroke-linejoin=\"round\" d=\"",
                    pct_class[k], pct_colour[k]);
        fprintf(out, "%s%c%.1f %.1f", pen_up ? (points > 1 ? " " : "") : "",
                pen_up ? 'M' : 'L', x, py(p, v));
        pen_up = 0;
    }
    if (points > 0)
        fputs("\"/>\n", out);
    for (b = 0; b < nb; b++)
        if (!isnan(lat_at(s, k, b)) && (b == 0 || isnan(lat_at(s, k, b - 1))) &&
            (b + 1 == nb || isnan(lat_at(s, k, b + 1))))
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"%s\"/>\n",
                    px(p, s->t_start_s + ((double)b + 0.5) * s->bucket_s),
                    py(p, lat_at(s, k, b)), pct_colour[k]);
    return points > 0;
}

/* "2.0 s", "0.25 s", "10 s" */
static void seconds_label(char *out, size_t n, double v)
{
    if (fabs(v * 10 - round(v * 10)) < 1e-9 && v < 100)
        snprintf(out, n, "%.1f s", v);
    else
        snprintf(out, n, "%.3g s", v);
}

/* The objective: a dashed line, labelled at its right end on a white
 * ground (lines cross it there), below the line when it hugs the top. */
static void slo_line(FILE *out, const struct plot *p, double slo_s)
{
    char lab[32];
    double y = py(p, slo_s), ty = y - 16 >= p->top ? y - 4 : y + 14, w;

    seconds_label(lab, sizeof(lab), slo_s);
    w = 7.0 * (double)(strlen(lab) + 4); /* about 7 px a character at 12 px */
    fprintf(out,
            "<line class=\"slo\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"%s\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n",
            p->x, y, p->x + PLOT_W, y, SLO_COLOUR);
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"#ffffff\" "
            "fill-opacity=\"0.85\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
            "fill=\"%s\">SLO %s</text>\n",
            p->x + PLOT_W - 2 - w, ty - 11, w, p->x + PLOT_W - 4, ty, SLO_COLOUR, lab);
}

/* ---- the three plots of a row ---- */

static void replicas_plot(FILE *out, const struct serve_series *s, double top,
                          const struct scales *sc)
{
    struct plot p = plot_at(0, top, sc);
    double *v = fold(s->replicas, s->nbuckets);

    p.y1 = sc->rmax;
    plot_title(out, &p, "replicas running (hatched: on spot)");
    lead_shade(out, &p);
    y_ticks(out, &p, 0);
    stacked(out, &p, s, v);
    spot_hatch(out, &p, s);
    x_axis(out, &p);
    free(v);
}

static void spend_plot(FILE *out, const struct serve_series *s, double top,
                       const struct scales *sc)
{
    struct plot p = plot_at(1, top, sc);
    double *v = fold(s->usd, s->nbuckets), total = 0;
    char per[32], money[48];
    size_t b;

    for (b = 0; b < s->nbuckets; b++)
        total += chart_bucket_sum(v, s->nbuckets, b);
    chart_per_bucket(per, sizeof(per), s->bucket_s);
    if (!isfinite(total))
        total = 0;
    if (total < 1000) /* a service's run is often a few dollars: show cents */
        snprintf(money, sizeof(money), "$%.2f", total);
    else
        chart_usd_full(money, sizeof(money), total);
    p.y1 = sc->umax;
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333333\">USD per %s, total "
            "<tspan font-weight=\"bold\">%s</tspan></text>\n",
            p.x, p.top - 10, per, money);
    lead_shade(out, &p);
    y_ticks(out, &p, 1);
    stacked(out, &p, s, v);
    x_axis(out, &p);
    free(v);
}

static void latency_plot(FILE *out, const struct serve_series *s, double top,
                         const struct scales *sc)
{
    struct plot p = plot_at(2, top, sc);
    int k, drawn = 0;

    p.log = 1;
    p.y0 = sc->lat_lo;
    p.y1 = sc->lat_hi;
    plot_title(out, &p, "TTFT P50, P90, P99 (log scale)");
    lead_shade(out, &p);
    log_ticks(out, &p);
    for (k = 0; k < NPCT; k++)
        drawn |= pct_line(out, &p, s, k);
    if (s->slo_s > 0 && isfinite(s->slo_s)) /* over the lines: its label stays legible */
        slo_line(out, &p, s->slo_s);
    if (!drawn)
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "fill=\"#555555\">no request served</text>\n",
                p.x + PLOT_W / 2, p.top + PLOT_H / 2);
    x_axis(out, &p);
}

/* ---- a row, the page ---- */

static void row(FILE *out, const struct serve_series *s, size_t i,
                const struct scales *sc)
{
    double top = HEAD_H + (double)i * ROW_H;

    fputs("<g class=\"row\">\n", out);
    if (i > 0)
        fprintf(out,
                "<line x1=\"10\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#cccccc\"/>\n",
                top + 4, CHART_W - 10, top + 4);
    fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">",
            COL_X0, top + 24);
    chart_put_escaped(out, s->policy ? s->policy : "");
    fputs("</text>\n", out);
    if (has_data(s)) {
        replicas_plot(out, s, top, sc);
        spend_plot(out, s, top, sc);
        latency_plot(out, s, top, sc);
    } else {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">nothing recorded</text>\n",
                COL_X0 + PLOT_DX, top + PLOT_TOP + PLOT_H / 2);
    }
    fputs("</g>\n", out);
}

/* A line swatch in the legend: returns the next free x. */
static double legend_line(FILE *out, double x, const char *colour, const char *dash,
                          const char *name)
{
    fprintf(out,
            "<line x1=\"%.0f\" y1=\"55\" x2=\"%.0f\" y2=\"55\" stroke=\"%s\" "
            "stroke-width=\"2\"%s%s%s/><text x=\"%.0f\" y=\"60\">%s</text>\n",
            x, x + 22, colour, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "", x + 28, name);
    return x + 78;
}

static void legend(FILE *out, int any_slo)
{
    double x = COL_X0 + 5 * 92;
    int k;

    fputs("<g class=\"legend\">\n", out);
    chart_legend_clouds(out, COL_X0, 92, 48);
    fprintf(out,
            "<rect x=\"%.0f\" y=\"48\" width=\"14\" height=\"14\" fill=\"#8c8c8c\"/>"
            "<rect x=\"%.0f\" y=\"48\" width=\"14\" height=\"14\" "
            "fill=\"url(#spot-hatch)\" stroke=\"#222222\"/>"
            "<text x=\"%.0f\" y=\"60\">on spot</text>\n",
            x, x, x + 20);
    x += 92;
    for (k = 0; k < NPCT; k++)
        x = legend_line(out, x, pct_colour[k], NULL, pct_name[k]);
    if (any_slo)
        legend_line(out, x, SLO_COLOUR, "6 4", "TTFT objective");
    fputs("</g>\n", out);
}

static void page_head(FILE *out, const char *title, double height, int any_slo)
{
    chart_svg_open(out, CHART_W, height);
    /* White stripes: over a cloud's colour they keep the colour readable. */
    fputs("<defs><pattern id=\"spot-hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" "
          "height=\"6\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" "
          "x2=\"0\" y2=\"6\" stroke=\"#ffffff\" stroke-width=\"2.5\" "
          "stroke-opacity=\"0.85\"/></pattern></defs>\n",
          out);
    fputs("<text x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\">", out);
    chart_put_escaped(out, title ? title : "Service over time by policy");
    fputs("</text>\n", out);
    legend(out, any_slo);
}

int serve_chart_write_svg(FILE *out, const char *title, const struct serve_series *s,
                          size_t n)
{
    struct scales sc = {0};
    size_t i;

    make_scales(s, n, &sc);
    page_head(out, title, HEAD_H + (double)(n ? n : 1) * ROW_H, sc.any_slo);
    for (i = 0; i < n; i++)
        row(out, &s[i], i, &sc);
    if (n == 0)
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">no policy to show</text>\n",
                COL_X0 + PLOT_DX, HEAD_H + 40);
    fputs("</svg>\n", out);
    return ferror(out) ? err_set(NULL, ST_EIO, "serve chart: output error") : 0;
}
