/*
 * test_serve_chart.c - the service chart (src/sim/serve_chart.c) on
 * synthetic runs: 48 buckets of 15 minutes from an hour before trace time 0,
 * replicas on gcp and azure (some on spot), spend, and TTFT percentiles with
 * buckets that had no request (NAN).  The SVG must be one well-formed
 * document (checked here by a small XML checker, and by xmllint when it is
 * installed), name every policy with its text escaped, never print a NAN or
 * an infinity, draw the objective only when there is one, and draw P99
 * through exactly the buckets that had requests.
 *
 * SERVE_CHART_SVG=FILE writes the two-policy chart to FILE, to look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/serve_chart.h"
#include "sim/sim.h"
#include "testutil.h"

#define NB 48
#define BUCKET_S 900.0

/* The arrays of one synthetic run. */
struct run {
    double replicas[SIM_NCLOUDS * NB], spot[NB], usd[SIM_NCLOUDS * NB], ttft[3 * NB],
        e2e[3 * NB];
    struct serve_series s;
};

/* Buckets with no request: the first hour, two in the middle, one lone
 * bucket with requests between gaps (22), and `extra` more from 40 on. */
static int no_request(size_t b, int extra)
{
    return b < 4 || b == 20 || b == 21 || b == 23 || (extra && b >= 40 && b < 44);
}

static void make_run(struct run *r, const char *policy, double slo_s, int extra)
{
    size_t b;
    int k;

    memset(r, 0, sizeof(*r));
    for (b = 0; b < NB; b++) {
        r->replicas[0 * NB + b] = 1;                         /* azure */
        r->replicas[1 * NB + b] = 2 + (b % 8 < 4 ? 1.5 : 0); /* gcp */
        r->spot[b] = b >= 10 && b < 30 ? 1.5 : 0;
        r->usd[0 * NB + b] = 1 * 12.0 * BUCKET_S / 3600;
        r->usd[1 * NB + b] = r->replicas[1 * NB + b] * 9.0 * BUCKET_S / 3600;
        for (k = 0; k < 3; k++) {
            double v = (k == 0 ? 0.3 : k == 1 ? 0.9 : 3) * (1 + 0.05 * (double)(b % 7));

            r->ttft[k * NB + b] = no_request(b, extra) ? NAN : v;
            r->e2e[k * NB + b] = no_request(b, extra) ? NAN : v * 10;
        }
    }
    r->s = (struct serve_series){policy,      NB,      BUCKET_S, -3600,   slo_s,
                                 r->replicas, r->spot, r->usd,   r->ttft, r->e2e};
}

/* The chart as a string (caller frees).  The stream's buffer pointer is
 * static: GCC's -Wdangling-pointer takes a local one, whose address
 * open_memstream keeps, for a pointer into the stack. */
static char *render(const struct serve_series *s, size_t n, const char *title)
{
    static char *buf;
    static size_t len;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(serve_chart_write_svg(f, title, s, n), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* ---- a small XML well-formedness check ---- */

/* An entity reference at p ("&amp;", "&#38;"): its length, or 0. */
static size_t entity_len(const char *p)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    size_t i;

    for (i = 0; i < 5; i++)
        if (strncmp(p, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    if (p[1] == '#') {
        for (i = 2; isalnum((unsigned char)p[i]); i++)
            ;
        return p[i] == ';' && i > 2 ? i + 1 : 0;
    }
    return 0;
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == ':' || c == '.';
}

/* Attributes up to the end of a start tag; returns the position after '>'
 * and sets *empty for "/>", or NULL when malformed. */
static const char *attributes(const char *p, int *empty)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
            *empty = *p == '/';
            return p + (*empty ? 2 : 1);
        }
        if (!name_char(*p))
            return NULL;
        while (name_char(*p))
            p++;
        if (*p++ != '=' || *p++ != '"')
            return NULL;
        for (; *p != '"'; p++)
            if (*p == '\0' || *p == '<' || (*p == '&' && entity_len(p) == 0))
                return NULL;
        p++;
    }
}

/* 1 when xml is one element with balanced tags, quoted attributes and
 * only known entities in text and attributes. */
static int well_formed(const char *xml)
{
    const char *stack[64], *p = xml;
    size_t lens[64], depth = 0, roots = 0;

    while (*p) {
        if (*p == '&' && entity_len(p) == 0)
            return 0;
        if (*p != '<') {
            if (depth == 0 && !isspace((unsigned char)*p))
                return 0; /* text outside the root */
            p++;
            continue;
        }
        if (p[1] == '/') {
            size_t n = 0;

            while (name_char(p[2 + n]))
                n++;
            if (depth == 0 || n != lens[depth - 1] ||
                strncmp(p + 2, stack[depth - 1], n) || p[2 + n] != '>')
                return 0;
            depth--;
            p += n + 3;
            continue;
        }
        const char *name = p + 1, *after;
        size_t n = 0;
        int empty = 0;

        while (name_char(name[n]))
            n++;
        after = n ? attributes(name + n, &empty) : NULL;
        if (after == NULL || depth >= 64)
            return 0;
        roots += depth == 0;
        if (!empty) {
            stack[depth] = name;
            lens[depth++] = n;
        }
        p = after;
    }
    return depth == 0 && roots == 1;
}

/* xmllint's verdict on text, when xmllint is installed: 1 good, 0 bad,
 * -1 not installed.  Its complaints go to stderr unless quiet. */
static int xmllint_ok(const char *text, int quiet)
{
    char *dir, *path, *cmd;
    int rc;

    if (system("command -v xmllint >/dev/null 2>&1") != 0)
        return -1;
    dir = tu_mkdtemp();
    path = xasprintf("%s/c.svg", dir);
    tu_write(dir, "c.svg", text);
    cmd = xasprintf("xmllint --noout '%s'%s", path, quiet ? " 2>/dev/null" : "");
    rc = system(cmd);
    tu_rmdir(dir);
    free(cmd);
    free(path);
    free(dir);
    return rc == 0;
}

/* ---- tests ---- */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The points of the i-th path of class cls: its M and L commands (only
 * its M commands, its pieces, when moves). */
static size_t path_count(const char *svg, const char *cls, size_t i, int moves)
{
    char *key = xasprintf("<path class=\"%s\"", cls);
    const char *p = strstr(svg, key), *d;
    size_t n = 0;

    while (p && i--)
        p = strstr(p + 1, key);
    free(key);
    if (p == NULL)
        return 0;
    d = strstr(p, " d=\"") + 4;
    for (; *d != '"'; d++)
        n += *d == 'M' || (!moves && *d == 'L');
    return n;
}

static size_t path_points(const char *svg, const char *cls, size_t i)
{
    return path_count(svg, cls, i, 0);
}

/* 1 when word (lower case) occurs in text in any case: "nan", "NaN", "-inf". */
static int has_ci(const char *text, const char *word)
{
    char *low = xstrdup(text), *p;
    int found;

    for (p = low; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    found = strstr(low, word) != NULL;
    free(low);
    return found;
}

static size_t requested(int extra)
{
    size_t b, n = 0;

    for (b = 0; b < NB; b++)
        n += !no_request(b, extra);
    return n;
}

static void save_if_asked(const char *svg)
{
    const char *path = getenv("SERVE_CHART_SVG");
    FILE *f = path ? fopen(path, "w") : NULL;

    if (f) {
        fputs(svg, f);
        fclose(f);
    }
}

static void test_two_policies(void **state)
{
    static struct run r[2];
    char *svg;
    size_t len;

    (void)state;
    make_run(&r[0], "stratus", 2.0, 0);
    make_run(&r[1], "ondemand", 2.0, 1);
    svg = render((struct serve_series[]){r[0].s, r[1].s}, 2, "chat-small");
    len = strlen(svg);
    save_if_asked(svg);
    assert_true(strncmp(svg, "<svg", 4) == 0);
    assert_true(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
    assert_true(well_formed(svg));
    assert_int_not_equal(xmllint_ok(svg, 0), 0);
    assert_non_null(strstr(svg, ">stratus<"));
    assert_non_null(strstr(svg, ">ondemand<"));
    assert_non_null(strstr(svg, ">chat-small<"));
    assert_false(has_ci(svg, "nan"));
    assert_false(has_ci(svg, "inf"));
    /* The objective: one dashed line per row, labelled. */
    assert_int_equal(count_of(svg, "class=\"slo\""), 2);
    assert_int_equal(count_of(svg, ">SLO 2.0 s<"), 2);
    /* P99 goes through the buckets that had requests, one point each. */
    assert_int_equal(count_of(svg, "<path class=\"p99\""), 2);
    assert_int_equal(path_points(svg, "p99", 0), requested(0));
    assert_int_equal(path_points(svg, "p99", 1), requested(1));
    assert_int_equal(path_points(svg, "p50", 1), requested(1));
    /* A gap breaks the line: 4-19, 22, 24-47 (and 24-39, 44-47). */
    assert_int_equal(path_count(svg, "p99", 0, 1), 3);
    assert_int_equal(path_count(svg, "p99", 1, 1), 4);
    /* Spend totals: 12 $/h on azure, gcp 9 $/h x 2 or 3.5 replicas over 12 h. */
    assert_non_null(strstr(svg, "$441.00<"));
    free(svg);
}

static void test_escaped(void **state)
{
    static struct run r;
    char *svg;

    (void)state;
    make_run(&r, "a<&>\"b", 2.0, 0);
    svg = render(&r.s, 1, "x & <y>");
    assert_non_null(strstr(svg, ">a&lt;&amp;&gt;&quot;b<"));
    assert_non_null(strstr(svg, ">x &amp; &lt;y&gt;<"));
    assert_null(strstr(svg, "a<&>"));
    assert_true(well_formed(svg));
    assert_int_not_equal(xmllint_ok(svg, 0), 0);
    free(svg);
}

static void test_no_slo(void **state)
{
    static struct run r[2];
    char *svg;

    (void)state;
    make_run(&r[0], "stratus", 0, 0);
    make_run(&r[1], "spot-only", 0, 1);
    svg = render((struct serve_series[]){r[0].s, r[1].s}, 2, NULL);
    assert_null(strstr(svg, "class=\"slo\""));
    assert_null(strstr(svg, "SLO"));
    assert_null(strstr(svg, "objective"));
    assert_true(well_formed(svg));
    free(svg);
}

/* Junk the chart must survive: no request at all, infinities and negative
 * counts, a row with no buckets, and no rows. */
static void test_degenerate(void **state)
{
    static struct run r[2];
    struct serve_series empty = {"empty", 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL};
    char *svg;
    size_t b;

    (void)state;
    make_run(&r[0], "idle", 2.0, 0);
    for (b = 0; b < 3 * NB; b++)
        r[0].ttft[b] = NAN;
    make_run(&r[1], "junk", 0.25, 0);
    r[1].usd[3] = INFINITY;
    r[1].replicas[5] = -2;
    r[1].spot[7] = NAN;
    r[1].ttft[2 * NB + 10] = INFINITY;
    r[1].usd[1 * NB + 8] = r[1].usd[3 * NB + 8] = DBL_MAX; /* their sum overflows */
    svg = render((struct serve_series[]){r[0].s, r[1].s, empty}, 3, "t");
    assert_true(well_formed(svg));
    assert_false(has_ci(svg, "nan"));
    assert_false(has_ci(svg, "inf"));
    assert_non_null(strstr(svg, "no request served"));
    assert_non_null(strstr(svg, ">SLO 0.25 s<"));
    assert_non_null(strstr(svg, "nothing recorded"));
    assert_int_equal(count_of(svg, "<path class=\"p99\""), 1);
    assert_int_equal(path_points(svg, "p99", 0), requested(0) - 1);
    free(svg);
    svg = render(NULL, 0, NULL);
    assert_true(well_formed(svg));
    assert_non_null(strstr(svg, "no policy to show"));
    free(svg);
}

/* The checker itself rejects what it must, so a pass above means something. */
static void test_checker(void **state)
{
    (void)state;
    assert_true(well_formed("<svg a=\"1\"><g><text>x &amp; y</text></g><rect/></svg>\n"));
    assert_false(well_formed("<svg><g></svg>"));
    assert_false(well_formed("<svg><text>a & b</text></svg>"));
    assert_false(well_formed("<svg><text>a<b</text></svg>"));
    assert_false(well_formed("<svg a=1></svg>"));
    assert_false(well_formed("<svg></svg><svg></svg>"));
    assert_int_not_equal(xmllint_ok("<svg><g></g></svg>", 0), 0);
    assert_int_not_equal(xmllint_ok("<svg><g></svg>", 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_policies), cmocka_unit_test(test_escaped),
        cmocka_unit_test(test_no_slo),       cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_checker),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
