/*
 * chart_util.c - what the simulator's SVG charts share (see chart_util.h):
 * the series and colours, then scales, labels, escaping and the page.
 *
 * The colours are fixed per cloud, so a colour means the same cloud in every
 * chart Stratus draws.  Output depends only on the arguments.
 */
#include "chart_util.h"

#include <math.h>
#include <string.h>

const char *const chart_series_name[CHART_NSERIES] = {"azure", "gcp", "oci", "aws",
                                                      "other"};
const char *const chart_series_colour[CHART_NSERIES] = {"#0078d4", "#34a853", "#c74634",
                                                        "#ff9900", "#8c8c8c"};

size_t chart_series_of(const char *cloud)
{
    size_t i;

    for (i = 0; i + 1 < CHART_NSERIES; i++)
        if (cloud && strcmp(cloud, chart_series_name[i]) == 0)
            return i;
    return CHART_NSERIES - 1;
}

/* ---- scales ---- */

double chart_nice_step(double span, int most)
{
    double raw = span / most, mag, f;

    if (!(raw > 0) || !isfinite(raw))
        return 1;
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* ---- labels ---- */

void chart_usd_label(char *out, size_t n, double v)
{
    if (v >= 1e6)
        snprintf(out, n, "$%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(out, n, "$%.3gk", v / 1e3);
    else
        snprintf(out, n, "$%.3g", v);
}

void chart_usd_full(char *out, size_t n, double v)
{
    char digits[64], *w = out;
    size_t len, i;

    snprintf(digits, sizeof(digits), "%.0f", v);
    len = strlen(digits);
    if (n < len + len / 3 + 2) { /* no room for the digits: say it short */
        snprintf(out, n, "$%.3g", v);
        return;
    }
    *w++ = '$';
    for (i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            *w++ = ',';
        *w++ = digits[i];
    }
    *w = '\0';
}

double chart_time_unit(double span_s, const char **suffix)
{
    if (span_s >= 2 * 86400) {
        *suffix = "d";
        return 86400;
    }
    if (span_s >= 2 * 3600) {
        *suffix = "h";
        return 3600;
    }
    *suffix = "m";
    return 60;
}

void chart_per_bucket(char *out, size_t n, double bucket_s)
{
    static const struct {
        const char *suffix, *word;
    } words[] = {{"d", "day"}, {"h", "hour"}, {"m", "minute"}};
    const char *suffix;
    double unit = chart_time_unit(bucket_s * 2, &suffix);
    size_t i;

    if (bucket_s != unit) {
        snprintf(out, n, "%g%s", bucket_s / unit, suffix);
        return;
    }
    for (i = 0; i < 3; i++)
        if (strcmp(suffix, words[i].suffix) == 0)
            snprintf(out, n, "%s", words[i].word);
}

void chart_put_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, out);
        }
    }
}

/* ---- the page ---- */

void chart_svg_open(FILE *out, double width, double height)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, "
            "sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(out,
            "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
            width, height);
}

void chart_legend_clouds(FILE *out, double x0, double dx, double y)
{
    size_t s;

    for (s = 0; s < CHART_NSERIES; s++) {
        double x = x0 + (double)s * dx;

        fprintf(out,
                "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                x, y, chart_series_colour[s], x + 20, y + 12, chart_series_name[s]);
    }
}

double chart_bucket_sum(const double *v, size_t nb, size_t b)
{
    double t = 0;
    size_t k;

    for (k = 0; k < CHART_NSERIES; k++)
        t += v[k * nb + b];
    return t;
}
