/*
 * reqtrace.c - the request trace: its compact container, the request CSV
 * loader (docs/traces.md, "Request CSV") and writer.
 *
 * Layout: the container (records, side arrays, interned names); reading
 * fields of one line; checking one row; the line loop over a buffer and the
 * file/memory entry points; the writer.
 *
 * The loader is built for tens of millions of rows: the header is bound with
 * the shared CSV reader (same messages as the other traces), data lines are
 * split here without copying the file (a quoted field may not span lines,
 * which no request trace needs), and a file is read in 4 MB chunks.
 */
#define _GNU_SOURCE /* memrchr */
#include "reqtrace.h"
#include "trace_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/csv.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* ---- the container ---- */

/* Kinds of interned name, the second key part of rt->index. */
static const char name_region[] = "region", name_service[] = "service";

void reqtrace_init(struct reqtrace *rt)
{
    memset(rt, 0, sizeof(*rt));
    strpool_init(&rt->pool);
    keymap_init(&rt->index);
}

void reqtrace_free(struct reqtrace *rt)
{
    free(rt->req);
    free(rt->region);
    free(rt->service);
    free(rt->service_s);
    free(rt->regions);
    free(rt->services);
    strpool_free(&rt->pool);
    keymap_free(&rt->index);
    memset(rt, 0, sizeof(*rt));
}

/* Room for `need` requests in the records and every side array in use. */
static void reserve(struct reqtrace *rt, size_t need)
{
    size_t cap = rt->cap;

    if (need <= rt->cap)
        return;
    rt->req = xgrow(rt->req, &cap, need, sizeof(*rt->req));
    if (rt->region)
        rt->region = xrealloc(rt->region, cap * sizeof(*rt->region));
    if (rt->service)
        rt->service = xrealloc(rt->service, cap * sizeof(*rt->service));
    if (rt->service_s)
        rt->service_s = xrealloc(rt->service_s, cap * sizeof(*rt->service_s));
    rt->cap = cap;
}

/* Give back the room beyond n (after a load: growth doubles). */
static void shrink(struct reqtrace *rt)
{
    size_t cap = rt->n ? rt->n : 1;

    if (cap >= rt->cap)
        return;
    rt->req = xrealloc(rt->req, cap * sizeof(*rt->req));
    if (rt->region)
        rt->region = xrealloc(rt->region, cap * sizeof(*rt->region));
    if (rt->service)
        rt->service = xrealloc(rt->service, cap * sizeof(*rt->service));
    if (rt->service_s)
        rt->service_s = xrealloc(rt->service_s, cap * sizeof(*rt->service_s));
    rt->cap = cap;
}

/* Start a side array: every request so far has none (0, or -1 for times). */
static void side_start(struct reqtrace *rt, int which)
{
    size_t i, cap = rt->cap ? rt->cap : 1;

    if (which == 0 && rt->region == NULL)
        rt->region = xcalloc(cap, sizeof(*rt->region));
    else if (which == 1 && rt->service == NULL)
        rt->service = xcalloc(cap, sizeof(*rt->service));
    else if (which == 2 && rt->service_s == NULL) {
        rt->service_s = xmalloc(cap * sizeof(*rt->service_s));
        for (i = 0; i < cap; i++)
            rt->service_s[i] = -1;
    }
    if (rt->cap == 0)
        reserve(rt, 1); /* keep every array at rt->cap */
}

/* The number (1-based) of a region or service name, interning it; 0 when
 * the trace already has REQTRACE_NAMES_MAX of that kind. */
static uint16_t name_id(struct reqtrace *rt, const char *kind, const char *s)
{
    const char *k = strpool_intern(&rt->pool, s);
    int is_region = kind == name_region;
    const char ***list = is_region ? &rt->regions : &rt->services;
    size_t *n = is_region ? &rt->nregions : &rt->nservices;
    size_t *cap = is_region ? &rt->regions_cap : &rt->services_cap;
    uint32_t v = (uint32_t)*n + 1;

    if (keymap_get(&rt->index, k, kind, NULL, NULL, &v))
        return (uint16_t)v;
    if (*n >= REQTRACE_NAMES_MAX)
        return 0;
    keymap_put(&rt->index, k, kind, NULL, NULL, &v);
    *list = xgrow(*list, cap, *n + 1, sizeof(**list));
    (*list)[(*n)++] = k;
    return (uint16_t)v;
}

const char *reqtrace_region(const struct reqtrace *rt, size_t i)
{
    if (rt->region == NULL || rt->region[i] == 0)
        return NULL;
    return rt->regions[rt->region[i] - 1];
}

const char *reqtrace_service(const struct reqtrace *rt, size_t i)
{
    if (rt->service == NULL || rt->service[i] == 0)
        return NULL;
    return rt->services[rt->service[i] - 1];
}

double reqtrace_service_s(const struct reqtrace *rt, size_t i)
{
    return rt->service_s == NULL ? -1 : rt->service_s[i];
}

/* Append a record with no optional fields; the side arrays get "none". */
static size_t push(struct reqtrace *rt, double t, uint32_t in, uint32_t out)
{
    size_t i = rt->n;

    reserve(rt, i + 1);
    rt->req[i].arrival_s = t;
    rt->req[i].input_tokens = in;
    rt->req[i].output_tokens = out;
    if (rt->region)
        rt->region[i] = 0;
    if (rt->service)
        rt->service[i] = 0;
    if (rt->service_s)
        rt->service_s[i] = -1;
    rt->n++;
    return i;
}

void reqtrace_add(struct reqtrace *rt, double arrival_s, uint32_t in, uint32_t out,
                  const char *region, const char *service, double service_s)
{
    size_t i = push(rt, arrival_s, in, out);

    if (region && *region) {
        side_start(rt, 0);
        rt->region[i] = name_id(rt, name_region, region);
    }
    if (service && *service) {
        side_start(rt, 1);
        rt->service[i] = name_id(rt, name_service, service);
    }
    if (service_s >= 0) {
        side_start(rt, 2);
        rt->service_s[i] = (float)service_s;
    }
}

size_t reqtrace_bytes(const struct reqtrace *rt)
{
    size_t per = sizeof(*rt->req) + (rt->region ? sizeof(*rt->region) : 0) +
                 (rt->service ? sizeof(*rt->service) : 0) +
                 (rt->service_s ? sizeof(*rt->service_s) : 0);

    return rt->cap * per;
}

/* ---- fields of one data line ---- */

enum { RC_ARRIVAL, RC_IN, RC_OUT, RC_REGION, RC_SERVICE, RC_SVC_S, RC__N };

static const struct csv_col req_cols[RC__N] = {
    {"arrival_s", 1}, {"input_tokens", 1}, {"output_tokens", 1},
    {"region", 0},    {"service", 0},      {"service_s", 0},
};

#define RDR_CHUNK ((size_t)4 << 20)    /* bytes read from a file at a time */
#define LINE_MAX_BYTES ((size_t)65536) /* longest data line accepted */
#define NAME_CACHE 16                  /* names per kind remembered by the loader */

/* The loader's state for one input. */
struct rd {
    const char *path;
    struct reqtrace *rt;
    size_t line;                  /* line number of the line being checked */
    size_t nfields;               /* fields in the header */
    int col[CSV_MAX_FIELDS];      /* header field -> schema column, -1 = none */
    int has[RC__N];               /* schema column present in the header */
    double prev;                  /* time of the previous row */
    size_t prev_line;             /* its line; 0 = none yet (prev: rows already loaded) */
    int fast;                     /* columns arrival_s,input_tokens,output_tokens[,region]:
                                     row_fast may take a row */
    char f[RC__N][TRACE_STR_MAX]; /* this row's fields, unquoted, NUL-terminated */
    /* Names seen recently in this file, already checked: most traces have a
     * handful of regions, and checking and interning each row's name was a
     * fifth of the load time. */
    struct {
        char text[TRACE_STR_MAX];
        uint16_t id;
    } seen[2][NAME_CACHE];
    size_t nseen[2];
};

/* Copy a quoted field starting at p (on the quote) into out; the byte after
 * the closing quote, or NULL with an error. */
static const char *field_quoted(struct rd *r, const char *p, const char *end, char *out,
                                size_t *len, struct err *e)
{
    size_t n = 0;

    for (p++; p < end; p++) {
        if (*p == '"' && p + 1 < end && p[1] == '"')
            p++;
        else if (*p == '"')
            break;
        if (out && n + 1 < TRACE_STR_MAX)
            out[n] = *p;
        n++;
    }
    if (p >= end) {
        err_at(e, ST_EPARSE, r->path, r->line, 0,
               "a quoted field is never closed (fields may not span lines)");
        return NULL;
    }
    *len = n;
    return p + 1;
}

/* Split line [p, end) into the fields the schema wants (in r->f). */
static int split(struct rd *r, const char *p, const char *end, struct err *e)
{
    size_t k = 0, len;

    for (;;) {
        int c = k < r->nfields ? r->col[k] : -1;
        char *out = c >= 0 ? r->f[c] : NULL;
        const char *s = p;

        if (k >= r->nfields)
            return err_at(e, ST_EPARSE, r->path, r->line, 0,
                          "more fields than the header's %zu", r->nfields);
        if (p < end && *p == '"') {
            p = field_quoted(r, p, end, out, &len, e);
            if (p == NULL)
                return ST_EPARSE;
            if (p < end && *p != ',')
                return err_at(e, ST_EPARSE, r->path, r->line, 0,
                              "text after a closing quote in field %zu", k + 1);
        } else {
            while (p < end && *p != ',' && *p != '"')
                p++;
            if (p < end && *p == '"')
                return err_at(e, ST_EPARSE, r->path, r->line, 0,
                              "a quote inside unquoted field %zu", k + 1);
            len = (size_t)(p - s);
            if (out)
                memcpy(out, s, len < TRACE_STR_MAX ? len : 0);
        }
        if (out && len >= TRACE_STR_MAX)
            return err_at(e, ST_EINVAL, r->path, r->line, 0,
                          "column '%s' is longer than %d bytes", req_cols[c].name,
                          TRACE_STR_MAX - 1);
        if (out)
            out[len] = '\0';
        k++;
        if (p >= end)
            break;
        p++; /* the comma */
    }
    if (k != r->nfields)
        return err_at(e, ST_EPARSE, r->path, r->line, 0,
                      "%zu fields, but the header has %zu", k, r->nfields);
    return 0;
}

/* ---- one row ---- */

static int get_tokens(struct rd *r, int c, uint32_t *out, struct err *e)
{
    const char *s = r->f[c];
    uint32_t v = 0;
    long lv;
    int k;

    /* The usual case, 1 to 8 plain digits, without strtol. */
    for (k = 0; k < 9 && s[k] >= '0' && s[k] <= '9'; k++)
        v = v * 10 + (uint32_t)(s[k] - '0');
    if (k > 0 && k < 9 && s[k] == '\0' && v <= REQTRACE_TOKENS_MAX) {
        *out = v;
        return 0;
    }
    if (r->f[c][0] == '\0')
        return err_at(e, ST_EINVAL, r->path, r->line, 0, "column '%s' is empty",
                      req_cols[c].name);
    if (str_to_long(r->f[c], 0, REQTRACE_TOKENS_MAX, &lv) != 0)
        return err_at(e, ST_EINVAL, r->path, r->line, 0,
                      "column '%s': '%.80s' is not a whole number of tokens in [0, %ld]",
                      req_cols[c].name, r->f[c], REQTRACE_TOKENS_MAX);
    *out = (uint32_t)lv;
    return 0;
}

/* A time in seconds: a finite number in [0, REQTRACE_TIME_MAX]. */
static int get_seconds(struct rd *r, int c, double *out, struct err *e)
{
    if (r->f[c][0] == '\0')
        return err_at(e, ST_EINVAL, r->path, r->line, 0, "column '%s' is empty",
                      req_cols[c].name);
    if (str_to_double(r->f[c], out) != 0 || *out < 0 || *out > REQTRACE_TIME_MAX)
        return err_at(e, ST_EINVAL, r->path, r->line, 0,
                      "column '%s': '%.80s' is not a number of seconds in [0, 1e9]",
                      req_cols[c].name, r->f[c]);
    return 0;
}

static int check_order(struct rd *r, double t, struct err *e)
{
    if (t < r->prev) {
        char a[32], b[32];

        snprintf(a, sizeof(a), "%.15g", t);
        snprintf(b, sizeof(b), "%.15g", r->prev);
        if (r->prev_line == 0)
            return err_at(e, ST_EINVAL, r->path, r->line, 0,
                          "arrival_s %s is earlier than %s, the last arrival already "
                          "loaded; load files in time order",
                          a, b);
        return err_at(e, ST_EINVAL, r->path, r->line, 0,
                      "arrival_s %s is earlier than %s on line %zu; rows must be in "
                      "time order",
                      a, b, r->prev_line);
    }
    r->prev = t;
    r->prev_line = r->line;
    return 0;
}

/* The id of a name this file had before (kind 0 region, 1 service), or 0. */
static uint16_t seen_id(const struct rd *r, int kind, const char *s)
{
    size_t i;

    for (i = 0; i < r->nseen[kind]; i++)
        if (strcmp(r->seen[kind][i].text, s) == 0)
            return r->seen[kind][i].id;
    return 0;
}

static void seen_add(struct rd *r, int kind, const char *s, uint16_t id)
{
    size_t i = r->nseen[kind];

    if (i == NAME_CACHE)
        return;
    memcpy(r->seen[kind][i].text, s, strlen(s) + 1);
    r->seen[kind][i].id = id;
    r->nseen[kind]++;
}

/* The region and service of a row, interned (0 = none). */
static int row_names(struct rd *r, uint16_t *region, uint16_t *service, struct err *e)
{
    struct trace_loc l;
    const char *s = r->f[RC_REGION];

    *region = *s ? seen_id(r, 0, s) : 0;
    *service = r->f[RC_SERVICE][0] ? seen_id(r, 1, r->f[RC_SERVICE]) : 0;
    if (*s != '\0' && *region == 0) {
        if (trace_loc_parse(s, 0, &l) != 0)
            return err_at(e, ST_EINVAL, r->path, r->line, 0,
                          "column 'region': '%.80s' is not a region; write cloud/region "
                          "as the catalog names it (e.g. azure/eastus)",
                          s);
        *region = name_id(r->rt, name_region, s);
        if (*region == 0)
            return err_at(e, ST_ETOOBIG, r->path, r->line, 0,
                          "more than %d distinct regions", REQTRACE_NAMES_MAX);
        seen_add(r, 0, s, *region);
    }
    s = r->f[RC_SERVICE];
    if (*s != '\0' && *service == 0) {
        if (!trace_is_token(s))
            return err_at(e, ST_EINVAL, r->path, r->line, 0,
                          "column 'service': '%.80s' has a character that is not "
                          "allowed (use letters, digits, '.', '_' and '-')",
                          s);
        *service = name_id(r->rt, name_service, s);
        if (*service == 0)
            return err_at(e, ST_ETOOBIG, r->path, r->line, 0,
                          "more than %d distinct services", REQTRACE_NAMES_MAX);
        seen_add(r, 1, s, *service);
    }
    return 0;
}

static int row(struct rd *r, const char *p, const char *end, struct err *e)
{
    double t = 0, svc = -1;
    uint32_t in = 0, out = 0;
    uint16_t region, service;
    size_t i;
    int rc;

    rc = split(r, p, end, e);
    if (rc == 0)
        rc = get_seconds(r, RC_ARRIVAL, &t, e);
    if (rc == 0)
        rc = get_tokens(r, RC_IN, &in, e);
    if (rc == 0)
        rc = get_tokens(r, RC_OUT, &out, e);
    if (rc == 0 && r->f[RC_SVC_S][0] != '\0')
        rc = get_seconds(r, RC_SVC_S, &svc, e);
    if (rc == 0)
        rc = row_names(r, &region, &service, e);
    if (rc == 0)
        rc = check_order(r, t, e);
    if (rc != 0)
        return rc;
    i = push(r->rt, t, in, out);
    if (r->has[RC_REGION])
        r->rt->region[i] = region;
    if (r->has[RC_SERVICE])
        r->rt->service[i] = service;
    if (r->has[RC_SVC_S])
        r->rt->service_s[i] = (float)svc;
    return 0;
}

/* ---- the common row, fast ----
 *
 * Most rows of a large trace are plain: unquoted numbers and a region seen
 * a line before.  row_fast reads those straight from the line (no field
 * copies, no second pass); anything else, including every error, goes to
 * row(), which decides and words the message.  The numbers come out bit
 * for bit as row() makes them: an arrival of at most 15 digits is
 * integer / power of ten, as str_to_double's own fast path computes it. */

/* digits[.digits] (at most 15 digits) up to the next ',', or NULL. */
static const char *fast_seconds(const char *p, const char *end, double *t)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    uint64_t mant = 0;
    int digits = 0, frac = -1;

    for (; p < end && *p != ','; p++) {
        if (*p == '.' && frac < 0 && digits > 0) {
            frac = 0;
            continue;
        }
        if (*p < '0' || *p > '9' || ++digits > 15)
            return NULL;
        mant = mant * 10 + (uint64_t)(*p - '0');
        frac += frac >= 0;
    }
    if (p == end || digits == 0 || frac == 0)
        return NULL;
    *t = (double)mant / pow10[frac > 0 ? frac : 0];
    return p;
}

/* 1 to 8 digits (at most REQTRACE_TOKENS_MAX) up to the next ',' or the
 * end, or NULL. */
static const char *fast_tokens(const char *p, const char *end, uint32_t *v)
{
    const char *s = p;
    uint32_t x = 0;

    for (; p < end && *p >= '0' && *p <= '9' && p - s < 9; p++)
        x = x * 10 + (uint32_t)(*p - '0');
    if (p == s || p - s > 8 || (p < end && *p != ','))
        return NULL;
    *v = x;
    return p;
}

/* The id of the region text [p, end) if this file had it before (0 = none
 * given); -1 when row() must look. */
static int fast_region(const struct rd *r, const char *p, const char *end)
{
    size_t len = (size_t)(end - p), i;

    if (len == 0)
        return 0;
    for (i = 0; len < TRACE_STR_MAX && i < r->nseen[0]; i++)
        if (r->seen[0][i].text[len] == '\0' && memcmp(r->seen[0][i].text, p, len) == 0)
            return r->seen[0][i].id;
    return -1;
}

/* 1 = the row [p, end) is loaded; 0 = row() must take it. */
static int row_fast(struct rd *r, const char *p, const char *end)
{
    double t = 0;
    uint32_t in = 0, out = 0;
    int region = 0;
    size_t i;

    if (!r->fast)
        return 0;
    p = fast_seconds(p, end, &t);
    if (p == NULL || t > REQTRACE_TIME_MAX || t < r->prev)
        return 0;
    p = fast_tokens(p + 1, end, &in);
    if (p == NULL || p == end)
        return 0;
    p = fast_tokens(p + 1, end, &out);
    if (p == NULL || (p == end) != (r->nfields == 3))
        return 0;
    if (r->nfields == 4 && (region = fast_region(r, p + 1, end)) < 0)
        return 0;
    r->prev = t;
    r->prev_line = r->line;
    i = push(r->rt, t, in, out);
    if (r->nfields == 4)
        r->rt->region[i] = (uint16_t)region;
    return 1;
}

/* ---- lines ---- */

/* A blank line: nothing, or a lone CR. */
static int blank(const char *p, const char *end)
{
    return p == end || (end - p == 1 && *p == '\r');
}

/* Check every line of b[0..n) (complete lines; the last may lack '\n'). */
static int lines(struct rd *r, const char *b, size_t n, struct err *e)
{
    const char *p = b, *end = b + n;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;

        r->line++;
        if (le > p && le[-1] == '\r')
            le--;
        if ((size_t)(le - p) > LINE_MAX_BYTES)
            return err_at(e, ST_ETOOBIG, r->path, r->line, 0,
                          "a line is longer than %zu bytes", LINE_MAX_BYTES);
        rc = blank(p, le) || row_fast(r, p, le) ? 0 : row(r, p, le, e);
        if (rc != 0)
            return rc;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* Bind the header: b[0..n) holds at least the first non-blank line (or is
 * the whole input), after `skipped` lines already dropped.  Returns the
 * bytes used, or a negative error. */
static long header(struct rd *r, const char *b, size_t n, size_t skipped, struct err *e)
{
    struct csv c;
    const char *p = b, *nl = memchr(b, '\n', n);
    size_t i;
    int rc;

    /* Leading blank lines belong to the header's part (csv_bind skips them). */
    while (nl != NULL && (nl == p || (nl == p + 1 && *p == '\r'))) {
        p = nl + 1;
        nl = memchr(p, '\n', (size_t)(b + n - p));
    }
    nl = nl ? nl + 1 : b + n;
    rc = csv_open_mem(&c, r->path, b, (size_t)(nl - b), e);
    if (rc != 0)
        return rc;
    c.next_line += skipped;
    rc = csv_bind(&c, req_cols, RC__N, e);
    r->line = c.line;
    r->nfields = c.nfields;
    for (i = 0; i < CSV_MAX_FIELDS; i++)
        r->col[i] = -1;
    for (i = 0; rc == 0 && i < RC__N; i++) {
        r->has[i] = c.map[i] >= 0;
        if (c.map[i] >= 0)
            r->col[c.map[i]] = (int)i;
    }
    csv_close(&c);
    return rc != 0 ? rc : (long)(nl - b);
}

static void rd_start(struct rd *r, struct reqtrace *rt, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->rt = rt;
    r->prev = rt->n ? rt->req[rt->n - 1].arrival_s : 0;
}

/* After the header: start the side arrays of the optional columns it has. */
static void rd_columns(struct rd *r)
{
    r->fast = (r->nfields == 3 || (r->nfields == 4 && r->col[3] == RC_REGION)) &&
              r->col[0] == RC_ARRIVAL && r->col[1] == RC_IN && r->col[2] == RC_OUT;
    if (r->has[RC_REGION])
        side_start(r->rt, 0);
    if (r->has[RC_SERVICE])
        side_start(r->rt, 1);
    if (r->has[RC_SVC_S])
        side_start(r->rt, 2);
}

/* Which side arrays existed before a load (bit 0 region, 1 service, 2 time). */
static int sides(const struct reqtrace *rt)
{
    return (rt->region != NULL) | (rt->service != NULL) << 1 |
           (rt->service_s != NULL) << 2;
}

/* Forget a failed load: its rows, and the side arrays it started. */
static void undo(struct reqtrace *rt, size_t n0, int had)
{
    rt->n = n0;
    if (!(had & 1)) {
        free(rt->region);
        rt->region = NULL;
    }
    if (!(had & 2)) {
        free(rt->service);
        rt->service = NULL;
    }
    if (!(had & 4)) {
        free(rt->service_s);
        rt->service_s = NULL;
    }
}

int reqtrace_load_mem(struct reqtrace *rt, const char *name, const char *data, size_t n,
                      struct err *e)
{
    struct rd r;
    size_t n0 = rt->n;
    int had = sides(rt), rc;
    long used;

    rd_start(&r, rt, name);
    used = header(&r, data, n, 0, e);
    if (used < 0)
        return (int)used;
    rd_columns(&r);
    rc = lines(&r, data + used, n - (size_t)used, e);
    if (rc != 0)
        undo(rt, n0, had);
    shrink(rt);
    return rc;
}

/* Append the next chunk of the file to buf; *eof once it is all read. */
static int fill(FILE *fp, const char *path, char **buf, size_t *len, size_t *cap,
                int *eof, struct err *e)
{
    size_t got;

    *buf = xgrow(*buf, cap, *len + RDR_CHUNK + 1, 1);
    got = fread(*buf + *len, 1, RDR_CHUNK, fp);
    if (got < RDR_CHUNK && ferror(fp))
        return err_set(e, ST_EIO, "%s: cannot read", path);
    *len += got;
    *eof = got < RDR_CHUNK;
    return 0;
}

/* 1 when b[0..n) has a character other than line ends. */
static int has_text(const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (b[i] != '\n' && b[i] != '\r')
            return 1;
    return 0;
}

/* Drop the blank lines at the start of a file from buf, counting them. */
static void skip_blank(char *buf, size_t *len, size_t done, size_t *skipped)
{
    size_t i;

    for (i = 0; i < done; i++)
        *skipped += buf[i] == '\n';
    memmove(buf, buf + done, *len - done);
    *len -= done;
}

/* The line loop over a file: complete lines of each chunk, the rest carried. */
static int load_file(struct rd *r, FILE *fp, struct err *e)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, done, skipped = 0;
    int eof = 0, rc = 0, bound = 0;

    while (rc == 0 && !(eof && len == 0)) {
        const char *last;

        if (!eof)
            rc = fill(fp, r->path, &buf, &len, &cap, &eof, e);
        if (rc != 0)
            break;
        last = memrchr(buf, '\n', len);
        done = eof ? len : last ? (size_t)(last - buf) + 1 : 0;
        if (done == 0 && len > LINE_MAX_BYTES + 2) {
            rc = err_at(e, ST_ETOOBIG, r->path, r->line + 1, 0,
                        "a line is longer than %zu bytes", LINE_MAX_BYTES);
            break;
        }
        if (done == 0)
            continue;
        if (!bound && !eof && !has_text(buf, done)) {
            skip_blank(buf, &len, done, &skipped); /* the header is further on */
            continue;
        }
        if (!bound) {
            long used = header(r, buf, done, skipped, e);

            if (used < 0) {
                rc = (int)used;
                break;
            }
            rd_columns(r);
            bound = 1;
            memmove(buf, buf + used, len - (size_t)used);
            len -= (size_t)used;
            done -= (size_t)used;
        }
        rc = lines(r, buf, done, e);
        memmove(buf, buf + done, len - done);
        len -= done;
    }
    free(buf);
    if (rc == 0 && !bound)
        rc = (int)header(r, "", 0, skipped, e); /* "empty file: expected a header row" */
    return rc;
}

int reqtrace_load(struct reqtrace *rt, const char *path, struct err *e)
{
    struct rd r;
    size_t n0 = rt->n;
    int had = sides(rt), rc;
    FILE *fp = fs_open_read(path, e);

    if (fp == NULL)
        return e->code;
    rd_start(&r, rt, path);
    rc = load_file(&r, fp, e);
    fclose(fp);
    if (rc != 0)
        undo(rt, n0, had);
    shrink(rt);
    return rc;
}

/* ---- the writer ---- */

/* A float the shortest way that reads back as the same float (a service
 * time stored as 28.7f prints "28.7", not its double expansion). */
static void put_float(FILE *out, float v)
{
    char b[32];
    int prec;

    for (prec = 6; prec < 9; prec++) {
        snprintf(b, sizeof(b), "%.*g", prec, (double)v);
        if (strtof(b, NULL) == v)
            break;
    }
    snprintf(b, sizeof(b), "%.*g", prec, (double)v);
    fputs(b, out);
}

void reqtrace_put_header(FILE *out, const struct reqtrace_cols *c)
{
    fputs("arrival_s,input_tokens,output_tokens", out);
    fputs(c->region ? ",region" : "", out);
    fputs(c->service ? ",service" : "", out);
    fputs(c->service_s ? ",service_s\n" : "\n", out);
}

void reqtrace_put_row(FILE *out, const struct reqtrace_cols *c,
                      const struct reqtrace_req *q, const char *region,
                      const char *service, double service_s)
{
    trace_put_num(out, q->arrival_s);
    fprintf(out, ",%u,%u", q->input_tokens, q->output_tokens);
    if (c->region)
        fprintf(out, ",%s", region ? region : "");
    if (c->service)
        fprintf(out, ",%s", service ? service : "");
    if (c->service_s) {
        fputc(',', out);
        if (service_s >= 0)
            put_float(out, (float)service_s);
    }
    fputc('\n', out);
}

int reqtrace_write(const struct reqtrace *rt, FILE *out, struct err *e)
{
    struct reqtrace_cols c = {rt->region != NULL, rt->service != NULL,
                              rt->service_s != NULL};
    size_t i;

    reqtrace_put_header(out, &c);
    for (i = 0; i < rt->n; i++)
        reqtrace_put_row(out, &c, &rt->req[i], reqtrace_region(rt, i),
                         reqtrace_service(rt, i), reqtrace_service_s(rt, i));
    if (ferror(out))
        return err_set(e, ST_EIO, "cannot write the request trace: output error");
    return 0;
}
