/*
 * reqtrace_convert.c - request-trace converters: Mooncake conversation JSON
 * lines and the Alibaba GenAI (diffusion) request CSV, into the request CSV
 * (reqtrace.h), with the user regions assigned and, on request, the trace
 * repeated to a longer one at a target rate.
 *
 * Layout: seeded draws; the --users list and the diurnal weight; the
 * Mooncake parser; the Alibaba parser; region assignment and writing
 * (emit); the repeater (a k-way merge of shifted copies); entry points.
 *
 * Every rule is documented in docs/traces.md ("Request converters"); keep
 * the two in step.  Random choices are hashes of (seed, position, field),
 * not a stream, so one request's draws do not depend on the others'.
 */
#include "reqtrace.h"
#include "trace_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/csv.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* ---- seeded draws ---- */

enum { F_REGION = 1, F_OFFSET, F_ACCEPT };

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL; /* splitmix64's finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform number in [0, 1) fixed by (seed, a, b, field). */
static double draw(uint64_t seed, uint64_t a, uint64_t b, int field)
{
    uint64_t x =
        mix64(seed ^ mix64(a ^ mix64(b + 0x632be59bd9b4e019ULL * (uint64_t)field)));

    return (double)(x >> 11) * 0x1p-53;
}

/* ---- users and their daily cycle ---- */

const char reqtrace_default_users[] =
    "azure/eastus=0.5,gcp/europe-west4=0.3,gcp/asia-northeast1=0.2";

#define DIURNAL_AMP 0.5            /* rate swings between 0.5x and 1.5x the mean */
#define DIURNAL_PEAK_H 14.0        /* local solar hour of the daily peak */
#define DIURNAL_MIN_SPAN_S 86400.0 /* shorter traces: shares only */

/* Relative request rate of a region at time t (time 0 = 00:00 UTC). */
static double diurnal(const struct reqtrace_user *u, double t)
{
    double h = t / 3600 + u->utc_off_h - DIURNAL_PEAK_H;

    return 1 + DIURNAL_AMP * cos(2 * M_PI * h / 24);
}

/* One "cloud/region=share" item of s[0..n). */
static int parse_user(const char *s, size_t n, struct reqtrace_user *u, struct err *e)
{
    const char *eq = memchr(s, '=', n);
    char share[64];
    struct trace_loc l;

    if (eq == NULL || (size_t)(eq - s) >= sizeof(u->name) ||
        (size_t)(s + n - eq) >= sizeof(share))
        return err_set(e, ST_EUSAGE, "--users: '%.*s' is not cloud/region=share", (int)n,
                       s);
    memcpy(u->name, s, (size_t)(eq - s));
    u->name[eq - s] = '\0';
    memcpy(share, eq + 1, (size_t)(s + n - eq - 1));
    share[s + n - eq - 1] = '\0';
    if (trace_loc_parse(u->name, 0, &l) != 0)
        return err_set(e, ST_EUSAGE,
                       "--users: '%s' is not a region; write cloud/region "
                       "(e.g. azure/eastus)",
                       u->name);
    if (str_to_double(share, &u->share) != 0 || !(u->share > 0) || u->share > 1)
        return err_set(e, ST_EUSAGE,
                       "--users: the share of %s must be in (0, 1], not '%s'", u->name,
                       share);
    u->utc_off_h = 0;
    return 0;
}

int reqtrace_parse_users(const char *s, struct reqtrace_user *u, size_t *n, struct err *e)
{
    double sum = 0;
    size_t i;

    *n = 0;
    while (*s != '\0') {
        size_t len = strcspn(s, ",");
        int rc;

        if (*n == REQTRACE_USERS_MAX)
            return err_set(e, ST_EUSAGE, "--users: more than %d regions",
                           REQTRACE_USERS_MAX);
        rc = parse_user(s, len, &u[*n], e);
        if (rc != 0)
            return rc;
        for (i = 0; i < *n; i++)
            if (strcmp(u[i].name, u[*n].name) == 0)
                return err_set(e, ST_EUSAGE, "--users: %s is given twice", u[i].name);
        sum += u[(*n)++].share;
        s += len + (s[len] == ',');
    }
    if (*n == 0 || fabs(sum - 1) > 1e-6)
        return err_set(e, ST_EUSAGE,
                       "--users: the shares sum to %g; they must sum to 1 "
                       "(e.g. %s)",
                       sum, reqtrace_default_users);
    return 0;
}

/* The user region of a request at time t for the uniform draw x: weights
 * wt (the shares, or calibrated ones), times each region's daily cycle when
 * `daily`. */
static size_t pick_user(const struct reqtrace_user *u, const double *wt, size_t n,
                        int daily, double t, double x)
{
    double w[REQTRACE_USERS_MAX], total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        w[i] = wt[i] * (daily ? diurnal(&u[i], t) : 1);
        total += w[i];
    }
    x *= total;
    for (i = 0; i + 1 < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* ---- Mooncake JSON lines ---- */

/* A whole number >= 0 from a JSON number (integer, or a real with no
 * fraction); -1 when it is not one. */
static double json_whole(const json_t *v)
{
    double x;

    if (json_is_integer(v))
        return (double)json_integer_value(v);
    if (!json_is_real(v))
        return -2;
    x = json_real_value(v);
    return x == floor(x) ? x : -2;
}

int reqtrace_mooncake_line(const char *path, size_t line, const char *text, size_t len,
                           struct reqtrace *rt, const char **why, struct err *e)
{
    static const char *const keys[] = {"timestamp", "input_length", "output_length"};
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    double v[3];
    size_t i;

    if (root == NULL)
        return err_at(e, ST_EPARSE, path, line, (size_t)(je.column > 0 ? je.column : 0),
                      "%s", je.text);
    for (i = 0; i < 3; i++) {
        json_t *x = json_is_object(root) ? json_object_get(root, keys[i]) : NULL;

        v[i] = x == NULL ? -3 : json_is_number(x) ? json_whole(x) : -2;
        if (v[i] < -1) {
            json_decref(root);
            return err_at(e, ST_EPARSE, path, line, 0,
                          v[i] == -3 ? "no '%s' (a Mooncake line is an object with "
                                       "timestamp, input_length and output_length)"
                                     : "'%s' is not a whole number",
                          keys[i]);
        }
    }
    json_decref(root);
    *why = v[0] < 0                          ? "negative timestamp"
           : v[0] / 1000 > REQTRACE_TIME_MAX ? "timestamp beyond 1e9 s"
           : v[1] < 0 || v[2] < 0            ? "negative token count"
           : v[1] > REQTRACE_TOKENS_MAX || v[2] > REQTRACE_TOKENS_MAX
               ? "more than 100,000,000 tokens"
               : NULL;
    if (*why != NULL)
        return 0;
    reqtrace_add(rt, v[0] / 1000, (uint32_t)v[1], (uint32_t)v[2], NULL, NULL, -1);
    return 1;
}

#define MOONCAKE_LINE_MAX ((size_t)16 << 20) /* longest JSON line accepted */

/* Every line of a Mooncake file into rt (unsorted). */
static int mooncake_file(const char *in, struct reqtrace *rt, struct trace_tally *t,
                         struct err *e)
{
    FILE *fp = fs_open_read(in, e);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len = 0;
    int rc = 0;

    if (fp == NULL)
        return e->code;
    while (rc >= 0) {
        const char *why = NULL;

        len = getline(&line, &cap, fp);
        if (len < 0)
            break;
        lineno++;
        if ((size_t)len > MOONCAKE_LINE_MAX) {
            rc = err_at(e, ST_ETOOBIG, in, lineno, 0, "a line is longer than %zu bytes",
                        MOONCAKE_LINE_MAX);
            break;
        }
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue; /* a blank line */
        t->read++;
        rc = reqtrace_mooncake_line(in, lineno, line, (size_t)len, rt, &why, e);
        if (rc == 1)
            t->kept++;
        else if (rc == 0)
            tally_add(t, why, 0);
    }
    if (rc >= 0 && ferror(fp))
        rc = err_set(e, ST_EIO, "%s: cannot read", in);
    free(line);
    fclose(fp);
    return rc < 0 ? rc : 0;
}

/* ---- Alibaba GenAI diffusion requests ---- */

enum {
    AG_CREATE,
    AG_TYPE,
    AG_STATUS,
    AG_EXEC,
    AG_GROUP,
    AG_PROMPT,
    AG_NEG,
    AG_IMAGES,
    AG_STEPS,
    AG_MODEL,
    AG_LORA,
    AG__N
};

static const struct csv_col ag_cols[AG__N] = {
    {"gmt_create", 1},
    {"predict_type", 0},
    {"predict_status", 1},
    {"exec_time_seconds", 1},
    {"groupId", 0},
    {"prompt_length", 1},
    {"negative_prompt_length", 0},
    {"num_images_per_prompt", 1},
    {"num_inference_steps", 1},
    {"checkpoint_model_version_id", 0},
    {"num_lora", 0},
};

#define CHARS_PER_TOKEN 4.0 /* prompt characters per token (see docs) */

/* "YYYY-MM-DD HH:MM:SS" -> seconds since 1970 (the zone does not matter:
 * only differences are used). */
static int ag_time(const struct csv *c, double *out, struct err *e)
{
    const char *s = csv_get(c, AG_CREATE);
    int y, mo, d, h, mi, se, used = 0;

    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
        s[used] != '\0' || used != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'gmt_create': '%.40s' is not YYYY-MM-DD HH:MM:SS", s);
    *out = (double)clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

/* A count column (images, steps): a whole number >= 1, or NAN when empty. */
static int ag_count(const struct csv *c, size_t col, const char *name, double *out,
                    struct err *e)
{
    static const double none = NAN;
    int rc = csv_double(c, col, name, &none, out, e);

    if (rc == 0 && !isnan(*out) && (*out < 1 || *out != floor(*out) || *out > 1e6))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s': %s is not a whole number from 1 to 1,000,000", name,
                      csv_get(c, col));
    return rc;
}

/* The numbers of one row: time, execution seconds, prompt chars, images, steps. */
static int ag_numbers(const struct csv *c, double v[5], struct err *e)
{
    static const double zero = 0;
    int rc = ag_time(c, &v[0], e);

    if (rc == 0)
        rc = csv_double(c, AG_EXEC, "exec_time_seconds", NULL, &v[1], e);
    if (rc == 0)
        rc = csv_double(c, AG_PROMPT, "prompt_length", &zero, &v[2], e);
    if (rc == 0)
        rc = ag_count(c, AG_IMAGES, "num_images_per_prompt", &v[3], e);
    if (rc == 0)
        rc = ag_count(c, AG_STEPS, "num_inference_steps", &v[4], e);
    if (rc == 0 && (v[1] < 0 || v[2] < 0))
        rc = err_at(e, ST_EINVAL, c->path, c->line, 0,
                    "exec_time_seconds and prompt_length must be zero or more");
    return rc;
}

/* One row: kept into rt, dropped with a reason, or an error. */
static int ag_row(const struct csv *c, struct reqtrace *rt, struct trace_tally *t,
                  struct err *e)
{
    double v[5], out;
    int rc = ag_numbers(c, v, e);

    if (rc != 0)
        return rc;
    if (strcmp(csv_get(c, AG_STATUS), "PENDING") == 0) {
        tally_add(t, "status PENDING (never ran)", 0);
        return 0;
    }
    if (isnan(v[3]) || isnan(v[4])) {
        tally_add(t, "no num_images_per_prompt or num_inference_steps", 0);
        return 0;
    }
    out = v[3] * v[4];
    if (out > REQTRACE_TOKENS_MAX) {
        tally_add(t, "more than 100,000,000 denoising steps", 0);
        return 0;
    }
    if (strcmp(csv_get(c, AG_STATUS), "FAILED") == 0)
        tally_add(t, "status FAILED (kept: it ran for exec_time_seconds)", 1);
    /* Seconds since 1970 for now; alibaba_csv moves time 0 to the first request. */
    reqtrace_add(rt, v[0], (uint32_t)ceil(fmin(v[2] / CHARS_PER_TOKEN, 1e8)),
                 (uint32_t)out, NULL, NULL, v[1]);
    t->kept++;
    return 0;
}

/* Time 0 = the earliest kept request. */
static int ag_rebase(const char *path, struct reqtrace *rt, struct err *e)
{
    double t0 = INFINITY;
    size_t i;

    for (i = 0; i < rt->n; i++)
        t0 = fmin(t0, rt->req[i].arrival_s);
    for (i = 0; i < rt->n; i++) {
        rt->req[i].arrival_s -= t0;
        if (rt->req[i].arrival_s > REQTRACE_TIME_MAX)
            return err_set(e, ST_EINVAL, "%s: the requests span more than 1e9 s", path);
    }
    return 0;
}

static int alibaba_csv(struct csv *c, struct reqtrace *rt, struct trace_tally *t,
                       struct err *e)
{
    int rc = csv_bind(c, ag_cols, AG__N, e);

    while (rc == 0) {
        rc = csv_next(c, e);
        if (rc <= 0)
            break;
        t->read++;
        rc = ag_row(c, rt, t, e);
    }
    if (rc == 0)
        rc = ag_rebase(c->path, rt, e);
    return rc < 0 ? rc : 0;
}

int reqtrace_alibaba_mem(const char *name, const char *data, size_t n,
                         struct reqtrace *rt, FILE *report, struct err *e)
{
    struct trace_tally t;
    struct csv c;
    int rc = csv_open_mem(&c, name, data, n, e);

    if (rc != 0)
        return rc;
    tally_init(&t, "alibaba-genai");
    rc = alibaba_csv(&c, rt, &t, e);
    csv_close(&c);
    if (rc == 0)
        tally_print(&t, report);
    return rc;
}

/* ---- time order ---- */

struct order_key {
    double t;
    size_t i;
};

static int cmp_key(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Stable-sort rt by arrival (sources need not be in order); returns the
 * number of rows that were out of order. */
static size_t sort_rt(struct reqtrace *rt)
{
    struct order_key *k;
    struct reqtrace_req *req;
    float *svc = NULL;
    size_t i, late = 0;

    for (i = 1; i < rt->n; i++)
        late += rt->req[i].arrival_s < rt->req[i - 1].arrival_s;
    if (late == 0)
        return 0;
    k = xmalloc(rt->n * sizeof(*k));
    for (i = 0; i < rt->n; i++)
        k[i] = (struct order_key){rt->req[i].arrival_s, i};
    qsort(k, rt->n, sizeof(*k), cmp_key);
    req = xmalloc(rt->cap * sizeof(*req));
    if (rt->service_s)
        svc = xmalloc(rt->cap * sizeof(*svc));
    for (i = 0; i < rt->n; i++) {
        req[i] = rt->req[k[i].i];
        if (svc)
            svc[i] = rt->service_s[k[i].i];
    }
    free(rt->req);
    free(rt->service_s);
    rt->req = req;
    rt->service_s = svc;
    free(k);
    return late;
}

/* ---- assigning regions and writing ---- */

/* Print how many requests went to each region, against the asked share. */
static void report_users(FILE *report, const struct reqtrace_conv_opts *o,
                         const size_t *count, size_t total)
{
    size_t i;

    if (report == NULL)
        return;
    for (i = 0; i < o->nusers; i++)
        fprintf(report, "  region %-28s %10zu  %5.1f%% (asked %.1f%%)\n",
                o->users[i].name, count[i],
                total ? 100.0 * (double)count[i] / (double)total : 0.0,
                100 * o->users[i].share);
}

#define DAY_BINS 1440 /* minutes of a day, for calibrating the weights */
#define CALIBRATE_ROUNDS 200

/* Weights w such that, over the trace's own arrival times, each region's
 * expected share of the requests is the share asked for, while the mix
 * still follows the regions' daily cycles (iterative proportional fitting on
 * the trace's arrivals binned by minute of the day).  Without this a trace
 * whose traffic peaks at one hour of the day would hand most requests to
 * the region that is awake then. */
static void calibrate(const struct reqtrace *rt, const struct reqtrace_user *u, size_t nu,
                      double *w)
{
    static double d[DAY_BINS][REQTRACE_USERS_MAX];
    size_t *bin = xcalloc(DAY_BINS, sizeof(*bin)), i, b, r, round_;

    for (i = 0; i < rt->n; i++)
        bin[(size_t)fmod(rt->req[i].arrival_s / 60, DAY_BINS)]++;
    for (b = 0; b < DAY_BINS; b++)
        for (r = 0; r < nu; r++)
            d[b][r] = diurnal(&u[r], (b + 0.5) * 60);
    for (r = 0; r < nu; r++)
        w[r] = u[r].share;
    for (round_ = 0; round_ < CALIBRATE_ROUNDS; round_++) {
        double got[REQTRACE_USERS_MAX] = {0};

        for (b = 0; b < DAY_BINS; b++) {
            double tot = 0;

            for (r = 0; r < nu; r++)
                tot += w[r] * d[b][r];
            for (r = 0; bin[b] && r < nu; r++)
                got[r] += (double)bin[b] * w[r] * d[b][r] / tot;
        }
        for (r = 0; r < nu; r++)
            w[r] *= u[r].share * (double)rt->n / got[r];
    }
    free(bin);
}

/* Write rt as it is, each request given a user region. */
static int emit_plain(const struct reqtrace *rt, const struct reqtrace_conv_opts *o,
                      FILE *out, FILE *report, struct err *e)
{
    struct reqtrace_cols cols = {1, o->service != NULL, rt->service_s != NULL};
    size_t count[REQTRACE_USERS_MAX] = {0}, i;
    double span = rt->n ? rt->req[rt->n - 1].arrival_s - rt->req[0].arrival_s : 0;
    double w[REQTRACE_USERS_MAX];
    int daily = span >= DIURNAL_MIN_SPAN_S;

    for (i = 0; i < o->nusers; i++)
        w[i] = o->users[i].share;
    if (daily)
        calibrate(rt, o->users, o->nusers, w);
    reqtrace_put_header(out, &cols);
    for (i = 0; i < rt->n; i++) {
        size_t u = pick_user(o->users, w, o->nusers, daily, rt->req[i].arrival_s,
                             draw(o->seed, i, 0, F_REGION));

        count[u]++;
        reqtrace_put_row(out, &cols, &rt->req[i], o->users[u].name, o->service,
                         reqtrace_service_s(rt, i));
    }
    if (report)
        fprintf(report, "  regions by %s\n",
                daily ? "share and daily cycle (the trace spans a day or more)"
                      : "share only (the trace spans less than a day)");
    report_users(report, o, count, rt->n);
    if (ferror(out))
        return err_set(e, ST_EIO, "cannot write the request trace: output error");
    return 0;
}

/* ---- repeating a trace to a longer one ---- */

/* One shifted copy of the source inside a tile: its requests in time order
 * are source indices j..n-1 (wrapped to the tile's start) then 0..j-1. */
struct cursor {
    double t;     /* time of its next request */
    size_t step;  /* requests of this copy already taken */
    size_t j;     /* first source index that wraps */
    double shift; /* added to (t_i - t_first) for i < j; minus the tile for i >= j */
    uint32_t copy;
};

/* The repeater's plan and state. */
struct rep {
    const struct reqtrace *rt;
    const struct reqtrace_conv_opts *o;
    double tile; /* S: the source's span plus one mean gap */
    double rate; /* R: the mean rate asked for */
    double cand; /* rate of the candidates: copies * n / S */
    uint32_t copies;
    int daily;
    size_t count[REQTRACE_USERS_MAX], written;
    double last; /* time of the last row written */
    struct cursor *heap;
    size_t nheap;
};

static size_t cur_index(const struct rep *p, const struct cursor *c)
{
    return (c->j + c->step) % p->rt->n;
}

/* Set c->t for its next request in tile k; 0 when the copy is used up. */
static int cur_time(const struct rep *p, struct cursor *c, double base)
{
    size_t i;

    if (c->step >= p->rt->n)
        return 0;
    i = cur_index(p, c);
    c->t = base + p->rt->req[i].arrival_s - p->rt->req[0].arrival_s + c->shift -
           (i >= c->j ? p->tile : 0);
    return 1;
}

static int cur_less(const struct cursor *a, const struct cursor *b)
{
    return a->t < b->t || (a->t == b->t && a->copy < b->copy);
}

static void heap_down(struct cursor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct cursor tmp;

        if (l < n && cur_less(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && cur_less(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            return;
        tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

/* First source index whose offset from the first arrival is >= x. */
static size_t first_at(const struct reqtrace *rt, double x)
{
    size_t lo = 0, hi = rt->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (rt->req[mid].arrival_s - rt->req[0].arrival_s < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Fill the heap with the copies of tile k, each shifted by a seeded offset. */
static void tile_start(struct rep *p, uint64_t k)
{
    double base = (double)k * p->tile;
    uint32_t c;

    p->nheap = 0;
    for (c = 0; c < p->copies; c++) {
        struct cursor *cu = &p->heap[p->nheap];

        cu->copy = c;
        cu->step = 0;
        cu->shift = draw(p->o->seed, k, c, F_OFFSET) * p->tile;
        cu->j = first_at(p->rt, p->tile - cu->shift);
        if (cur_time(p, cu, base))
            p->nheap++;
    }
    for (c = (uint32_t)(p->nheap / 2); c-- > 0;)
        heap_down(p->heap, p->nheap, c);
}

/* Keep a candidate (as region *u) or thin it away: region r is kept with
 * probability R * share_r * cycle_r(t) / candidate rate. */
static int accept(const struct rep *p, double t, double x, size_t *u)
{
    size_t i;

    for (i = 0; i < p->o->nusers; i++) {
        const struct reqtrace_user *us = &p->o->users[i];
        double a = p->rate * us->share * (p->daily ? diurnal(us, t) : 1) / p->cand;

        if (x < a) {
            *u = i;
            return 1;
        }
        x -= a;
    }
    return 0;
}

/* Emit one candidate of tile k from the heap's top, then advance that copy.
 * Returns 0 when the output's end was reached. */
static int rep_step(struct rep *p, uint64_t k, const struct reqtrace_cols *cols,
                    FILE *out)
{
    struct cursor *c = &p->heap[0];
    size_t i = cur_index(p, c), u;
    struct reqtrace_req q = p->rt->req[i];

    if (c->t >= p->o->repeat_to_s)
        return 0;
    /* Milliseconds: short, still in order (max: rounding of two sums may not
     * be exact at a tile's edge). */
    q.arrival_s = fmax(round(c->t * 1000) / 1000, p->last);
    if (q.arrival_s < p->o->repeat_to_s &&
        accept(p, c->t, draw(p->o->seed, k * p->copies + c->copy, i, F_ACCEPT), &u)) {
        p->count[u]++;
        p->written++;
        p->last = q.arrival_s;
        reqtrace_put_row(out, cols, &q, p->o->users[u].name, p->o->service,
                         reqtrace_service_s(p->rt, i));
    }
    c->step++;
    if (!cur_time(p, c, (double)k * p->tile))
        p->heap[0] = p->heap[--p->nheap];
    heap_down(p->heap, p->nheap, 0);
    return 1;
}

#define REPEAT_COPIES_MAX 1000000 /* shifted copies per tile */
#define REPEAT_ROWS_MAX 1e10      /* requests one conversion may write (~350 GB) */

/* Work out S, the copies per tile and the candidate rate. */
static int rep_plan(struct rep *p, struct err *e)
{
    const struct reqtrace *rt = p->rt;
    double span, need;

    if (rt->n < 2 || rt->req[rt->n - 1].arrival_s <= rt->req[0].arrival_s)
        return err_set(
            e, ST_EINVAL,
            "--repeat-to needs a source with at least two distinct arrival times");
    span = rt->req[rt->n - 1].arrival_s - rt->req[0].arrival_s;
    p->tile = span * (double)rt->n / (double)(rt->n - 1);
    p->rate = p->o->rate > 0 ? p->o->rate : (double)rt->n / p->tile;
    p->daily = p->o->repeat_to_s >= DIURNAL_MIN_SPAN_S;
    need =
        ceil(p->rate * (p->daily ? 1 + DIURNAL_AMP : 1) * p->tile / (double)rt->n - 1e-9);
    if (need > REPEAT_COPIES_MAX)
        return err_set(e, ST_EINVAL,
                       "--rate %g needs %.0f copies of the source per %.0f s; at most %d "
                       "are allowed: ask for a lower rate or use a denser source",
                       p->rate, need, p->tile, REPEAT_COPIES_MAX);
    if (p->rate * p->o->repeat_to_s > REPEAT_ROWS_MAX)
        return err_set(
            e, ST_EINVAL,
            "--repeat-to at %g requests/s would write %.3g requests; at most %.0e "
            "are allowed",
            p->rate, p->rate * p->o->repeat_to_s, REPEAT_ROWS_MAX);
    p->copies = (uint32_t)(need < 1 ? 1 : need);
    p->cand = p->copies * (double)rt->n / p->tile;
    return 0;
}

static int emit_repeat(const struct reqtrace *rt, const struct reqtrace_conv_opts *o,
                       FILE *out, FILE *report, struct err *e)
{
    struct reqtrace_cols cols = {1, o->service != NULL, rt->service_s != NULL};
    struct rep p;
    uint64_t k, tiles;
    int rc;

    memset(&p, 0, sizeof(p));
    p.rt = rt;
    p.o = o;
    rc = rep_plan(&p, e);
    if (rc != 0)
        return rc;
    p.heap = xmalloc(p.copies * sizeof(*p.heap));
    tiles = (uint64_t)ceil(o->repeat_to_s / p.tile);
    reqtrace_put_header(out, &cols);
    for (k = 0; k < tiles && !ferror(out); k++) {
        tile_start(&p, k);
        while (p.nheap > 0 && rep_step(&p, k, &cols, out))
            ;
    }
    free(p.heap);
    if (report) {
        fprintf(report,
                "  repeat  %" PRIu64 " tiles of %.1f s, %u shifted copies each, %zu "
                "requests (%.2f/s over %.0f s)\n",
                tiles, p.tile, p.copies, p.written, (double)p.written / o->repeat_to_s,
                o->repeat_to_s);
        fprintf(report, "  regions by %s\n",
                p.daily ? "share and daily cycle" : "share only (less than a day)");
    }
    report_users(report, o, p.count, p.written);
    if (ferror(out))
        return err_set(e, ST_EIO, "cannot write the request trace: output error");
    return 0;
}

int reqtrace_emit(struct reqtrace *rt, const struct reqtrace_conv_opts *o, FILE *out,
                  FILE *report, struct err *e)
{
    size_t late = sort_rt(rt);

    if (o->users == NULL || o->nusers == 0)
        return err_set(e, ST_EUSAGE, "no user regions given");
    if (o->service &&
        (!trace_is_token(o->service) || strlen(o->service) >= TRACE_STR_MAX))
        return err_set(e, ST_EUSAGE,
                       "--service: '%.80s' must be letters, digits, '.', '_' and '-'",
                       o->service);
    if (late && report)
        fprintf(report, "  note    %8zu  arrived earlier than the row before (sorted)\n",
                late);
    if (o->repeat_to_s > 0)
        return emit_repeat(rt, o, out, report, e);
    return emit_plain(rt, o, out, report, e);
}

/* ---- entry points ---- */

int reqtrace_convert_mooncake(const char *in, const struct reqtrace_conv_opts *o,
                              FILE *out, FILE *report, struct err *e)
{
    struct reqtrace rt;
    struct trace_tally t;
    int rc;

    reqtrace_init(&rt);
    tally_init(&t, "mooncake");
    rc = mooncake_file(in, &rt, &t, e);
    if (rc == 0) {
        tally_print(&t, report);
        rc = reqtrace_emit(&rt, o, out, report, e);
    }
    reqtrace_free(&rt);
    return rc;
}

int reqtrace_convert_alibaba(const char *in, const struct reqtrace_conv_opts *o,
                             FILE *out, FILE *report, struct err *e)
{
    struct reqtrace rt;
    struct trace_tally t;
    struct csv c;
    int rc = csv_open(&c, in, 0, e);

    if (rc != 0)
        return rc;
    reqtrace_init(&rt);
    tally_init(&t, "alibaba-genai");
    rc = alibaba_csv(&c, &rt, &t, e);
    csv_close(&c);
    if (rc == 0) {
        tally_print(&t, report);
        rc = reqtrace_emit(&rt, o, out, report, e);
    }
    reqtrace_free(&rt);
    return rc;
}
