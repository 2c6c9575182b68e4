/*
 * trace.c - loaders of the simulator's trace files (formats in trace.h and
 * docs/traces.md).
 *
 * Layout: shared helpers (locations, bounded strings, time order, the
 * converters' tally); the workload loader with its duplicate-id set; the
 * spot loader; the price loader; the file/memory entry points; sorting.
 *
 * Every loader binds the header to a column schema (unknown or missing
 * columns are errors), checks each field, and appends to the trace only when
 * the whole file is good: a failed load leaves the arrays as they were (the
 * string pool may keep a few strings, which is harmless).
 */
#define _GNU_SOURCE /* memrchr */
#include "trace.h"
#include "trace_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../catalog/catalog.h"
#include "../spec/spec.h"
#include "../util/csv.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* ---- shared helpers ---- */

static int is_token_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
}

int trace_is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!is_token_char((unsigned char)*s))
            return 0;
    return 1;
}

/* Copy the next '/'-separated part of *s into out; 0 or -1 if empty/bad. */
static int loc_part(const char **s, char *out)
{
    size_t n = 0;

    while (**s != '\0' && **s != '/') {
        if (!is_token_char((unsigned char)**s) || n + 1 >= TRACE_STR_MAX)
            return -1;
        out[n++] = *(*s)++;
    }
    out[n] = '\0';
    return n > 0 ? 0 : -1;
}

int trace_loc_parse(const char *s, int allow_zone, struct trace_loc *out)
{
    out->zone[0] = '\0';
    if (loc_part(&s, out->cloud) != 0 || *s++ != '/' || loc_part(&s, out->region) != 0)
        return -1;
    if (*s == '\0')
        return 0;
    if (!allow_zone || *s++ != '/' || loc_part(&s, out->zone) != 0 || *s != '\0')
        return -1;
    return 0;
}

void tally_init(struct trace_tally *t, const char *what)
{
    memset(t, 0, sizeof(*t));
    t->what = what;
}

void tally_add(struct trace_tally *t, const char *reason, int note)
{
    size_t i;

    for (i = 0; i < t->nreasons; i++)
        if (strcmp(t->reason[i], reason) == 0)
            break;
    BUG_ON(i == TRACE_REASONS_MAX);
    if (i == t->nreasons) {
        t->reason[t->nreasons] = reason;
        t->is_note[t->nreasons++] = note;
    }
    t->count[i]++;
}

void tally_print(const struct trace_tally *t, FILE *fp)
{
    size_t i;

    if (fp == NULL)
        return;
    fprintf(fp, "%s: %zu rows read, %zu kept, %zu dropped\n", t->what, t->read, t->kept,
            t->read - t->kept);
    for (i = 0; i < t->nreasons; i++)
        fprintf(fp, "  %-7s %8zu  %s\n", t->is_note[i] ? "note" : "dropped", t->count[i],
                t->reason[i]);
}

void trace_put_num(FILE *out, double v)
{
    if (v == 0)
        v = 0; /* no "-0" */
    fprintf(out, "%.15g", v);
}

const char *trace_kind_name(int kind)
{
    return spec_kind_name((enum spec_kind)kind);
}

/* A string field: required or not, at most TRACE_STR_MAX-1 bytes, no control
 * characters; token = letters, digits, '.', '_', '-' only. */
static int get_str(const struct csv *c, size_t col, const char *name, int required,
                   int token, const char **out, struct err *e)
{
    const char *s = csv_get(c, col);
    const char *p;

    if (*s == '\0' && required)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column '%s' is empty", name);
    if (strlen(s) >= TRACE_STR_MAX)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s' is longer than %d bytes", name, TRACE_STR_MAX - 1);
    for (p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f ||
            (token && !is_token_char((unsigned char)*p)))
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column '%s': '%s' has a character that is not allowed here "
                          "(use letters, digits, '.', '_' and '-')",
                          name, s);
    *out = s;
    return 0;
}

/* The most a column takes: more is a typo (or a unit mistaken), and would
 * overflow the study's arithmetic. */
#define MAX_S (10.0 * 366 * 86400) /* times and durations: ten years */
#define MAX_GB 1e9                 /* data: an exabyte */
#define MAX_PRICE 1e6              /* a node-hour */

/* A number >= 0 (or > 0 when positive) and at most the column's most (a
 * time, by the name's "_s", a price, or data); empty gives *dflt when dflt
 * != NULL. */
static int get_nonneg(const struct csv *c, size_t col, const char *name, int positive,
                      const double *dflt, double *out, struct err *e)
{
    int rc = csv_double(c, col, name, dflt, out, e);
    size_t n = strlen(name);
    int is_time = n > 2 && strcmp(name + n - 2, "_s") == 0;
    int is_gb = n > 3 && strcmp(name + n - 3, "_gb") == 0;
    double max = is_time ? MAX_S : is_gb ? MAX_GB : MAX_PRICE;

    if (rc != 0)
        return rc;
    if (*out < 0 || (positive && *out == 0))
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column '%s': %s must be %s",
                      name, csv_get(c, col), positive ? "positive" : "zero or more");
    if (*out > max)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s': %s is more than %s: check its unit (%s)", name,
                      csv_get(c, col),
                      is_time ? "ten years" : is_gb ? "an exabyte" : "$1,000,000",
                      is_time ? "seconds" : is_gb ? "GB" : "USD per node-hour");
    return 0;
}

/* Rows come in time order: t >= the previous row's time. */
struct order {
    double prev;
    size_t prev_line; /* 0 = no row yet */
};

static int check_order(const struct csv *c, const char *name, double t, struct order *o,
                       struct err *e)
{
    if (o->prev_line != 0 && t < o->prev) {
        char a[32], b[32];

        snprintf(a, sizeof(a), "%.15g", t);
        snprintf(b, sizeof(b), "%.15g", o->prev);
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s': %s is earlier than %s on line %zu; rows must be in "
                      "time order",
                      name, a, b, o->prev_line);
    }
    o->prev = t;
    o->prev_line = c->line;
    return 0;
}

/* A location column; interns its parts into cloud/region/zone. */
static int get_loc(const struct csv *c, size_t col, const char *name, int allow_zone,
                   struct strpool *pool, const char **cloud, const char **region,
                   const char **zone, struct err *e)
{
    const char *s = csv_get(c, col);
    struct trace_loc l;

    if (strlen(s) >= TRACE_STR_MAX || trace_loc_parse(s, allow_zone, &l) != 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s': '%.*s' is not a location; write %s", name, 80, s,
                      allow_zone ? "cloud/region or cloud/region/zone "
                                   "(e.g. gcp/us-central1/us-central1-a)"
                                 : "cloud/region (e.g. azure/eastus)");
    *cloud = strpool_intern(pool, l.cloud);
    *region = strpool_intern(pool, l.region);
    if (zone)
        *zone = strpool_intern(pool, l.zone);
    return 0;
}

/* ---- reading rows: whole from memory, or a file in bounded chunks ---- */

#define RDR_CHUNK ((size_t)4 << 20)    /* bytes read from a file at a time */
#define RDR_ROW_MAX ((size_t)16 << 20) /* longest row accepted */

/* Rows of one input.  A file is read RDR_CHUNK bytes at a time, each chunk
 * cut after its last complete row and handed to the CSV reader with the line
 * count and the header's binding carried over, so a million-row file needs a
 * few MB of buffer rather than the whole file in memory. */
struct rdr {
    struct csv c;
    FILE *fp;  /* NULL: everything is already in c */
    char *buf; /* bytes read but not yet handed to c; starts at a row start */
    size_t len, cap;
};

/* Where the last complete row of b[0..n) ends (0 = none): after the last
 * newline outside a quoted field (b starts at a row start). */
static size_t rows_end(const char *b, size_t n)
{
    const char *nl;
    size_t i, end = 0;
    int at_start = 1, inq = 0;

    if (memchr(b, '"', n) == NULL) { /* the usual case: no quoting at all */
        nl = memrchr(b, '\n', n);
        return nl ? (size_t)(nl - b) + 1 : 0;
    }
    for (i = 0; i < n; i++) {
        if (inq) {
            if (b[i] == '"' && i + 1 < n && b[i + 1] == '"')
                i++; /* an escaped quote */
            else if (b[i] == '"')
                inq = 0;
            continue;
        }
        if (b[i] == '"' && at_start)
            inq = 1;
        else if (b[i] == '\n')
            end = i + 1;
        at_start = b[i] == ',' || b[i] == '\n';
    }
    return end;
}

/* Hand buf[0..end) to c as its new contents, keeping line count and binding. */
static int rdr_swap(struct rdr *r, size_t end, struct err *e)
{
    size_t next_line = r->c.next_line, width = r->c.width;
    int map[CSV_MAX_FIELDS], rc;
    char *path = xstrdup(r->c.path);

    memcpy(map, r->c.map, sizeof(map));
    csv_close(&r->c);
    rc = csv_open_mem_at(&r->c, path, r->buf, end, next_line, e);
    free(path);
    if (rc != 0)
        return rc;
    r->c.width = width;
    memcpy(r->c.map, map, sizeof(map));
    memmove(r->buf, r->buf + end, r->len - end);
    r->len -= end;
    return 0;
}

/* Read until buf holds a complete row or the file ends, then hand the
 * complete rows to c.  1 when c got rows, 0 at the end of the file. */
static int rdr_refill(struct rdr *r, struct err *e)
{
    size_t end = 0, got = RDR_CHUNK;
    int rc;

    while (end == 0 && got == RDR_CHUNK) {
        if (r->len >= RDR_ROW_MAX)
            return err_at(e, ST_ETOOBIG, r->c.path, r->c.next_line, 0,
                          "a row is longer than %zu bytes", RDR_ROW_MAX);
        r->buf = xgrow(r->buf, &r->cap, r->len + RDR_CHUNK, 1);
        got = fread(r->buf + r->len, 1, RDR_CHUNK, r->fp);
        if (got < RDR_CHUNK && ferror(r->fp))
            return err_set(e, ST_EIO, "%s: cannot read", r->c.path);
        end = rows_end(r->buf, r->len + got);
        r->len += got;
    }
    if (got < RDR_CHUNK)
        end = r->len; /* the end of the file ends the last row */
    if (end == 0)
        return 0;
    if ((rc = rdr_swap(r, end, e)) != 0)
        return rc;
    return 1;
}

/* The next row: 1, 0 at the end, or a negative error. */
static int rdr_next(struct rdr *r, struct err *e)
{
    int rc;

    for (;;) {
        if ((rc = csv_next(&r->c, e)) != 0 || r->fp == NULL)
            return rc;
        if ((rc = rdr_refill(r, e)) <= 0)
            return rc;
    }
}

/* ---- workloads ---- */

enum {
    J_SUBMIT,
    J_ID,
    J_TEAM,
    J_KIND,
    J_ACC,
    J_GPUS,
    J_DUR,
    J_DEADLINE,
    J_CKPT,
    J_DATALOC,
    J_DATAGB,
    J_SPOT,
    J_PRIO,
    J_DATASET,
    J__N
};

static const struct csv_col job_cols[J__N] = {
    {"submit_s", 1},     {"job_id", 1},        {"team", 1},       {"kind", 1},
    {"accelerator", 1},  {"gpus", 1},          {"duration_s", 1}, {"deadline_s", 0},
    {"checkpoint_s", 0}, {"data_location", 0}, {"data_gb", 0},    {"spot_ok", 0},
    {"priority", 0},     {"dataset", 0},
};

static int get_kind(const struct csv *c, int *kind, struct err *e)
{
    static const char *const kinds[] = {"train", "batch", "infer", NULL};
    const char *s = csv_get(c, J_KIND), *sug;

    *kind = spec_kind_parse(s);
    if (*kind >= 0)
        return 0;
    sug = str_suggest(s, kinds);
    return err_at(e, ST_EINVAL, c->path, c->line, 0,
                  "column 'kind': '%.*s' is not a kind; use train, batch or infer%s%s%s",
                  80, s, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
}

static int get_spot_ok(const struct csv *c, int *out, struct err *e)
{
    const char *s = csv_get(c, J_SPOT);

    if (*s == '\0')
        *out = -1;
    else if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
        *out = 1;
    else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
        *out = 0;
    else
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'spot_ok': '%.*s' is not 0 or 1 (or true/false, yes/no)",
                      80, s);
    return 0;
}

/* The accelerator column: one name, or alternatives "H100|A100-80GB" (at
 * most TRACE_MAX_ALTS), each a name of letters, digits, '.', '_', '-'. */
static int get_accelerators(const struct csv *c, const char **out, struct err *e)
{
    const char *s, *p;
    int rc = get_str(c, J_ACC, "accelerator", 1, 0, &s, e), n = 1;

    if (rc != 0)
        return rc;
    for (p = s; *p; p++) {
        int empty = *p == '|' && (p == s || p[-1] == '|' || p[1] == '\0');

        n += *p == '|';
        if (empty || (*p != '|' && !is_token_char((unsigned char)*p)))
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column 'accelerator': '%s' is not a name or names separated by "
                          "'|' (each of letters, digits, '.', '_' and '-')",
                          s);
    }
    if (n > TRACE_MAX_ALTS)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'accelerator': %d alternatives, at most %d", n, TRACE_MAX_ALTS);
    for (p = s; n > 1 && p != NULL; p = strchr(p, '|'), p = p ? p + 1 : NULL) {
        size_t len = strcspn(p, "|");
        const char *q;

        for (q = strchr(p, '|'); q != NULL; q = strchr(q + 1, '|'))
            if (strncasecmp(p, q + 1, len) == 0 &&
                (q[1 + len] == '|' || q[1 + len] == '\0'))
                return err_at(e, ST_EINVAL, c->path, c->line, 0,
                              "column 'accelerator': '%.*s' is named twice in '%s': name "
                              "each alternative once",
                              (int)len, p, s);
    }
    *out = s;
    return 0;
}

/* The string columns of a job row, interned. */
static int job_strings(const struct csv *c, struct trace *t, struct trace_job *j,
                       struct err *e)
{
    const char *id, *team, *acc = "";
    int rc;

    if ((rc = get_str(c, J_ID, "job_id", 1, 0, &id, e)) != 0 ||
        (rc = get_str(c, J_TEAM, "team", 0, 1, &team, e)) != 0 ||
        (rc = get_accelerators(c, &acc, e)) != 0)
        return rc;
    j->team = strpool_intern(&t->pool, team);
    j->accelerator = strpool_intern(&t->pool, acc);
    j->data_cloud = j->data_region = strpool_intern(&t->pool, "");
    j->dataset = j->data_cloud;
    if (*csv_get(c, J_DATASET) != '\0') {
        const char *ds = csv_get(c, J_DATASET);

        if (!spec_secret_name_ok(ds))
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column 'dataset': '%.*s' is not a dataset name (letters, digits, "
                          "'_', '-', '.'; not starting with '-' or '.')",
                          80, ds);
        if (*csv_get(c, J_DATALOC) == '\0')
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "dataset is set but data_location is empty: say where the data is");
        j->dataset = strpool_intern(&t->pool, ds);
    }
    if (*csv_get(c, J_DATALOC) != '\0' &&
        (rc = get_loc(c, J_DATALOC, "data_location", 0, &t->pool, &j->data_cloud,
                      &j->data_region, NULL, e)) != 0)
        return rc;
    j->id = strpool_intern(&t->ids, id); /* last: only a good row adds its id */
    return 0;
}

/* The numeric columns of a job row, each in range, and their consistency. */
static int job_numbers(const struct csv *c, struct trace_job *j, struct err *e)
{
    static const double zero = 0;
    static const long lzero = 0;
    long gpus, prio;
    int rc;

    if ((rc = get_nonneg(c, J_SUBMIT, "submit_s", 0, NULL, &j->submit_s, e)) != 0 ||
        (rc = csv_long(c, J_GPUS, "gpus", 1, 1000000, NULL, &gpus, e)) != 0 ||
        (rc = get_nonneg(c, J_DUR, "duration_s", 1, NULL, &j->duration_s, e)) != 0 ||
        (rc = get_nonneg(c, J_DEADLINE, "deadline_s", 0, &zero, &j->deadline_s, e)) !=
            0 ||
        (rc = get_nonneg(c, J_CKPT, "checkpoint_s", 0, &zero, &j->checkpoint_s, e)) !=
            0 ||
        (rc = get_nonneg(c, J_DATAGB, "data_gb", 0, &zero, &j->data_gb, e)) != 0 ||
        (rc = csv_long(c, J_PRIO, "priority", -1000000, 1000000, &lzero, &prio, e)) !=
            0 ||
        (rc = get_spot_ok(c, &j->spot_ok, e)) != 0 ||
        (rc = get_kind(c, &j->kind, e)) != 0)
        return rc;
    j->gpus = (int)gpus;
    j->priority = (int)prio;
    /* with alternatives ("A100-80GB|H100"), a faster one may meet it:
     * duration_s is the run on the first */
    if (j->deadline_s > 0 && j->deadline_s < j->duration_s &&
        strchr(csv_get(c, J_ACC), '|') == NULL)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "deadline_s %s is shorter than duration_s %s: the job could never "
                      "meet it (with one accelerator; list a faster alternative, as "
                      "'A100-80GB|H100', for one that may)",
                      csv_get(c, J_DEADLINE), csv_get(c, J_DUR));
    return 0;
}

/* The names of a row the catalog was found to have, by their interned
 * pointers, so that each is looked up once: which names k0..k2 are. */
static const char KNOWN_REGION[] = "region", KNOWN_ACC[] = "acc", KNOWN_OFFER[] = "offer";

/* Already found in the catalog (or no catalog to check against)? */
static int known(const struct trace *t, const void *k0, const void *k1, const void *k2,
                 const char *what)
{
    uint32_t v;

    return t->cat == NULL || keymap_get(&t->known, k0, k1, k2, what, &v);
}

/* Found in the catalog: not looked up again.  Returns 0. */
static int found(struct trace *t, const void *k0, const void *k1, const void *k2,
                 const char *what)
{
    keymap_set(&t->known, k0, k1, k2, what, 1);
    return 0;
}

/* Is the region of a location column (interned) one the catalog has (when
 * t has a catalog)?  0, or the error at the row. */
static int known_region(const struct csv *c, struct trace *t, const char *col,
                        const char *cloud, const char *region, struct err *e)
{
    if (known(t, cloud, region, NULL, KNOWN_REGION))
        return 0;
    if (catalog_region(t->cat, cloud, region) != NULL)
        return found(t, cloud, region, NULL, KNOWN_REGION);
    return err_at(e, ST_EINVAL, c->path, c->line, 0,
                  "column '%s': the catalog has no region %s/%s", col, cloud, region);
}

/* Every accelerator of a job row (interned) is one the catalog has (when t
 * has one). */
static int known_accelerators(const struct csv *c, struct trace *t, const char *acc,
                              struct err *e)
{
    const char *p = acc;

    if (known(t, acc, NULL, NULL, KNOWN_ACC))
        return 0;
    for (;;) {
        size_t k = strcspn(p, "|");
        char name[256];
        const char *sug;

        snprintf(name, sizeof(name), "%.*s", (int)k, p);
        if (catalog_accelerator(t->cat, name) == NULL) {
            sug = str_suggest(name, catalog_accelerators(t->cat));
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column 'accelerator': no offer of the catalog has '%s'%s%s%s",
                          name, sug ? " (did you mean '" : "", sug ? sug : "",
                          sug ? "'?)" : "");
        }
        if (p[k] != '|')
            break;
        p += k + 1;
    }
    return found(t, acc, NULL, NULL, KNOWN_ACC);
}

/* A spot or price row's place and instance type (interned) are the
 * catalog's. */
static int known_offer(const struct csv *c, struct trace *t, const char *cloud,
                       const char *region, const char *type, struct err *e)
{
    int rc;

    if (known(t, cloud, region, type, KNOWN_OFFER))
        return 0;
    if ((rc = known_region(c, t, "location", cloud, region, e)) != 0)
        return rc;
    if (catalog_has_type(t->cat, type))
        return found(t, cloud, region, type, KNOWN_OFFER);
    return err_at(e, ST_EINVAL, c->path, c->line, 0,
                  "column 'instance_type': no offer of the catalog is a '%s'", type);
}

/* Index of the loaded job with this (interned) id, or -1. */
static long find_job(const struct trace *t, const char *id)
{
    size_t i;

    for (i = 0; i < t->njobs; i++)
        if (t->jobs[i].id == id)
            return (long)i;
    return -1;
}

/* A dataset is one set of data: every row naming it gives the home and size
 * its first row gave, or its replicas would stand in for other data. */
static int same_dataset(const struct csv *c, struct trace *t, const struct trace_job *j,
                        size_t n0, const uint32_t *lines, struct err *e)
{
    const struct trace_job *f;
    uint32_t first = (uint32_t)t->njobs;
    char where[48];

    if (keymap_put(&t->datasets, j->dataset, NULL, NULL, NULL, &first) == 0)
        return 0;            /* the first row naming it (this one is appended next) */
    if (first >= t->njobs) { /* its row was in a file that failed to load */
        keymap_set(&t->datasets, j->dataset, NULL, NULL, NULL, (uint32_t)t->njobs);
        return 0;
    }
    f = &t->jobs[first];
    if (f->data_cloud == j->data_cloud && f->data_region == j->data_region &&
        spec_same_gb(f->data_gb, j->data_gb))
        return 0;
    if (first >= n0)
        snprintf(where, sizeof(where), "line %u", (unsigned)lines[first - n0]);
    else
        snprintf(where, sizeof(where), "an earlier file");
    return err_at(
        e, ST_EINVAL, c->path, c->line, 0,
        "dataset '%s' is at %s%s%s (%g GB) on %s, at %s%s%s (%g GB) here: give every "
        "row of one dataset the same data_location and data_gb, or name the other "
        "data differently",
        j->dataset, f->data_cloud, *f->data_region ? "/" : "", f->data_region, f->data_gb,
        where, j->data_cloud, *j->data_region ? "/" : "", j->data_region, j->data_gb);
}

static int job_row(struct csv *c, struct trace *t, size_t n0, struct order *o,
                   uint32_t **lines, size_t *lines_cap, struct err *e)
{
    struct trace_job j;
    size_t before = t->ids.n;
    long first;
    int rc;

    memset(&j, 0, sizeof(j));
    if ((rc = job_numbers(c, &j, e)) != 0 || (rc = job_strings(c, t, &j, e)) != 0 ||
        (rc = check_order(c, "submit_s", j.submit_s, o, e)) != 0 ||
        (rc = known_accelerators(c, t, j.accelerator, e)) != 0 ||
        (*j.data_cloud &&
         (rc = known_region(c, t, "data_location", j.data_cloud, j.data_region, e)) != 0))
        return rc;
    if (j.data_gb > 0 && *j.data_cloud == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "data_gb is set but data_location is empty: say where the data is");
    /* An id interned before is a repeat, unless it came from a file that failed
     * to load (its ids stay in the pool): look for the job only then. */
    if (t->ids.n == before && (first = find_job(t, j.id)) >= 0) {
        if ((size_t)first < n0)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "job_id '%s' was already loaded from an earlier file", j.id);
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "job_id '%s' appears twice (also on line %u)", j.id,
                      (unsigned)(*lines)[first - (long)n0]);
    }
    if (*j.dataset && (rc = same_dataset(c, t, &j, n0, *lines, e)) != 0)
        return rc;
    t->jobs = xgrow(t->jobs, &t->jobs_cap, t->njobs + 1, sizeof(*t->jobs));
    *lines = xgrow(*lines, lines_cap, t->njobs - n0 + 1, sizeof(**lines));
    (*lines)[t->njobs - n0] = (uint32_t)c->line;
    t->jobs[t->njobs++] = j;
    return 0;
}

static int load_jobs(struct trace *t, struct rdr *r, struct err *e)
{
    struct csv *c = &r->c;
    struct order o = {0, 0};
    size_t n0 = t->njobs, lines_cap = 0;
    uint32_t *lines = NULL; /* line of each job of this file, for messages */
    int rc;

    if ((rc = csv_bind(c, job_cols, J__N, e)) != 0)
        return rc;
    while ((rc = rdr_next(r, e)) > 0)
        if ((rc = job_row(c, t, n0, &o, &lines, &lines_cap, e)) != 0)
            break;
    free(lines);
    if (rc < 0)
        t->njobs = n0;
    return rc < 0 ? rc : 0;
}

/* ---- spot availability ---- */

enum { S_TIME, S_LOC, S_TYPE, S_AVAIL, S_PREEMPTED, S__N };

static const struct csv_col spot_cols[S__N] = {
    {"time_s", 1},          {"location", 1},  {"instance_type", 1},
    {"available_nodes", 0}, {"preempted", 0},
};

static int spot_state(const struct csv *c, struct trace_spot *s, struct err *e)
{
    int has_avail = *csv_get(c, S_AVAIL) != '\0',
        has_pre = *csv_get(c, S_PREEMPTED) != '\0';
    long v;
    int rc;

    if (has_avail == has_pre)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      has_avail ? "set available_nodes or preempted, not both"
                                : "set one of available_nodes and preempted");
    s->available = -1;
    s->preempted = 0;
    if (has_avail)
        return csv_long(c, S_AVAIL, "available_nodes", 0, 100000000, NULL, &s->available,
                        e);
    if ((rc = csv_long(c, S_PREEMPTED, "preempted", 0, 1, NULL, &v, e)) != 0)
        return rc;
    s->preempted = (int)v;
    return 0;
}

static int spot_row(struct csv *c, struct trace *t, struct order *o, struct err *e)
{
    struct trace_spot s;
    const char *type;
    int rc;

    memset(&s, 0, sizeof(s));
    if ((rc = get_nonneg(c, S_TIME, "time_s", 0, NULL, &s.time_s, e)) != 0 ||
        (rc = get_loc(c, S_LOC, "location", 1, &t->pool, &s.cloud, &s.region, &s.zone,
                      e)) != 0 ||
        (rc = get_str(c, S_TYPE, "instance_type", 1, 1, &type, e)) != 0 ||
        (rc = spot_state(c, &s, e)) != 0 ||
        (rc = check_order(c, "time_s", s.time_s, o, e)) != 0)
        return rc;
    s.instance_type = strpool_intern(&t->pool, type);
    if ((rc = known_offer(c, t, s.cloud, s.region, s.instance_type, e)) != 0)
        return rc;
    t->spot = xgrow(t->spot, &t->spot_cap, t->nspot + 1, sizeof(*t->spot));
    t->spot[t->nspot++] = s;
    return 0;
}

static int load_spot(struct trace *t, struct rdr *r, struct err *e)
{
    struct csv *c = &r->c;
    struct order o = {0, 0};
    size_t n0 = t->nspot;
    int rc;

    if ((rc = csv_bind(c, spot_cols, S__N, e)) != 0)
        return rc;
    if (c->map[S_AVAIL] < 0 && c->map[S_PREEMPTED] < 0)
        return err_at(e, ST_EPARSE, c->path, c->line, 0,
                      "missing column: a spot file needs available_nodes or preempted");
    while ((rc = rdr_next(r, e)) > 0)
        if ((rc = spot_row(c, t, &o, e)) != 0)
            break;
    if (rc < 0)
        t->nspot = n0;
    return rc < 0 ? rc : 0;
}

/* ---- prices ---- */

enum { P_TIME, P_LOC, P_TYPE, P_PRICE, P_SPOT, P__N };

static const struct csv_col price_cols[P__N] = {
    {"time_s", 1},     {"location", 1},        {"instance_type", 1},
    {"price_hour", 1}, {"spot_price_hour", 1},
};

/* A price: a number >= 0, empty = unchanged, "none" = not sold. */
static int get_price(const struct csv *c, size_t col, const char *name, double *out,
                     struct err *e)
{
    if (*csv_get(c, col) == '\0') {
        *out = TRACE_PRICE_UNCHANGED;
        return 0;
    }
    if (strcmp(csv_get(c, col), "none") == 0) {
        *out = TRACE_PRICE_NOT_SOLD;
        return 0;
    }
    return get_nonneg(c, col, name, 0, NULL, out, e);
}

static int price_row(struct csv *c, struct trace *t, struct order *o, struct err *e)
{
    struct trace_price p;
    const char *type;
    int rc;

    memset(&p, 0, sizeof(p));
    if ((rc = get_nonneg(c, P_TIME, "time_s", 0, NULL, &p.time_s, e)) != 0 ||
        (rc = get_loc(c, P_LOC, "location", 1, &t->pool, &p.cloud, &p.region, &p.zone,
                      e)) != 0 ||
        (rc = get_str(c, P_TYPE, "instance_type", 1, 1, &type, e)) != 0 ||
        (rc = get_price(c, P_PRICE, "price_hour", &p.price_hour, e)) != 0 ||
        (rc = get_price(c, P_SPOT, "spot_price_hour", &p.spot_price_hour, e)) != 0 ||
        (rc = check_order(c, "time_s", p.time_s, o, e)) != 0)
        return rc;
    if (p.price_hour == TRACE_PRICE_UNCHANGED &&
        p.spot_price_hour == TRACE_PRICE_UNCHANGED)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "the row changes no price: set price_hour or spot_price_hour");
    p.instance_type = strpool_intern(&t->pool, type);
    if ((rc = known_offer(c, t, p.cloud, p.region, p.instance_type, e)) != 0)
        return rc;
    t->prices = xgrow(t->prices, &t->prices_cap, t->nprices + 1, sizeof(*t->prices));
    t->prices[t->nprices++] = p;
    return 0;
}

static int load_prices(struct trace *t, struct rdr *r, struct err *e)
{
    struct csv *c = &r->c;
    struct order o = {0, 0};
    size_t n0 = t->nprices;
    int rc;

    if ((rc = csv_bind(c, price_cols, P__N, e)) != 0)
        return rc;
    while ((rc = rdr_next(r, e)) > 0)
        if ((rc = price_row(c, t, &o, e)) != 0)
            break;
    if (rc < 0)
        t->nprices = n0;
    return rc < 0 ? rc : 0;
}

/* ---- entry points ---- */

void trace_init(struct trace *t)
{
    memset(t, 0, sizeof(*t));
    strpool_init(&t->pool);
    strpool_init(&t->ids);
    keymap_init(&t->known);
    keymap_init(&t->datasets);
}

void trace_free(struct trace *t)
{
    free(t->jobs);
    free(t->spot);
    free(t->prices);
    strpool_free(&t->pool);
    strpool_free(&t->ids);
    keymap_free(&t->known);
    keymap_free(&t->datasets);
    memset(t, 0, sizeof(*t));
}

typedef int (*loader_fn)(struct trace *t, struct rdr *r, struct err *e);

static int load_path(struct trace *t, const char *path, loader_fn fn, struct err *e)
{
    struct rdr r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.fp = fs_open_read(path, e);
    if (r.fp == NULL)
        return e->code;
    /* An empty reader named after the file; the first refill fills it. */
    if ((rc = csv_open_mem(&r.c, path, "", 0, e)) == 0 && (rc = rdr_refill(&r, e)) >= 0)
        rc = fn(t, &r, e);
    csv_close(&r.c);
    fclose(r.fp);
    free(r.buf);
    return rc < 0 ? rc : 0;
}

static int load_mem(struct trace *t, const char *name, const char *data, size_t n,
                    loader_fn fn, struct err *e)
{
    struct rdr r;
    int rc;

    memset(&r, 0, sizeof(r));
    if ((rc = csv_open_mem(&r.c, name, data, n, e)) != 0)
        return rc;
    rc = fn(t, &r, e);
    csv_close(&r.c);
    return rc;
}

int trace_load_jobs(struct trace *t, const char *path, struct err *e)
{
    return load_path(t, path, load_jobs, e);
}

int trace_load_spot(struct trace *t, const char *path, struct err *e)
{
    return load_path(t, path, load_spot, e);
}

int trace_load_prices(struct trace *t, const char *path, struct err *e)
{
    return load_path(t, path, load_prices, e);
}

int trace_load_jobs_mem(struct trace *t, const char *name, const char *data, size_t n,
                        struct err *e)
{
    return load_mem(t, name, data, n, load_jobs, e);
}

int trace_load_spot_mem(struct trace *t, const char *name, const char *data, size_t n,
                        struct err *e)
{
    return load_mem(t, name, data, n, load_spot, e);
}

int trace_load_prices_mem(struct trace *t, const char *name, const char *data, size_t n,
                          struct err *e)
{
    return load_mem(t, name, data, n, load_prices, e);
}

/* ---- sorting ---- */

/* Time of an element: the first member of every record is its time. */
static double rec_time(const void *p)
{
    double v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Merge the sorted runs src[l..m) and src[m..end) into dst[l..end). */
static void merge_runs(const char *src, char *dst, size_t size, size_t l, size_t m,
                       size_t end)
{
    size_t i = l, r = m, k = l;

    while (i < m || r < end) {
        int left =
            r >= end || (i < m && rec_time(src + i * size) <= rec_time(src + r * size));

        memcpy(dst + k++ * size, src + (left ? i++ : r++) * size, size);
    }
}

/* Bottom-up merge sort by rec_time: stable, O(n log n), one scratch copy.
 * (qsort is not stable, and equal times must keep their load order.) */
static void sort_by_time(void *base, size_t n, size_t size)
{
    char *a = base, *b, *src, *dst, *tmp;
    size_t width, i;

    for (i = 1; i < n && rec_time(a + (i - 1) * size) <= rec_time(a + i * size); i++)
        ;
    if (i >= n)
        return; /* already in order: the usual case */
    b = xmalloc(n * size);
    src = a;
    dst = b;
    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width)
            merge_runs(src, dst, size, i, i + width < n ? i + width : n,
                       i + 2 * width < n ? i + 2 * width : n);
        tmp = src;
        src = dst;
        dst = tmp;
    }
    if (src != a)
        memcpy(a, src, n * size);
    free(b);
}

void trace_sort(struct trace *t)
{
    /* rec_time reads the first member; keep these records starting with time. */
    BUG_ON(offsetof(struct trace_job, submit_s) != 0);
    BUG_ON(offsetof(struct trace_spot, time_s) != 0);
    BUG_ON(offsetof(struct trace_price, time_s) != 0);
    sort_by_time(t->jobs, t->njobs, sizeof(*t->jobs));
    sort_by_time(t->spot, t->nspot, sizeof(*t->spot));
    sort_by_time(t->prices, t->nprices, sizeof(*t->prices));
}
