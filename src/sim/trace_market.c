/*
 * trace_market.c - converters of market traces: SkyPilot's spot
 * availability/preemption JSON files into the spot CSV, and the GCP GPU VM
 * price history into the price CSV (formats in trace.h, docs/traces.md).
 *
 * Layout: reading an input whole (plain, "-" for stdin, or .xz through the
 * xz program); the catalog checks; the SkyPilot converter (mapping file,
 * directory walk, one JSON trace, run-length output); the GCP price
 * converter (dates, per-key state, emission of changes).
 */
#include "trace.h"
#include "trace_int.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../util/csv.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define MARKET_INPUT_MAX ((size_t)256 << 20) /* bytes of one decompressed input */
#define SPOT_JSON_MAX ((size_t)64 << 20)     /* bytes of one spot-trace JSON file */
#define SPOT_FILES_MAX 100000                /* files under a spot-trace directory */
#define SPOT_DEPTH_MAX 8                     /* folder depth walked */
#define SPOT_MAP_MAX 10000                   /* mapping rows */
/* Ticks one trace may be repeated to with --horizon: a year of 3 s ticks,
 * almost 40 times the densest shared trace (30 s) over 90 days, and at most
 * 160 MB of rows per trace; a tiny gap_seconds would otherwise make the loop
 * endless. */
#define SPOT_TICKS_MAX 10000000

extern char **environ;

/* ---- reading an input ---- */

static int read_stream(int fd, const char *name, size_t limit, struct buf *b,
                       struct err *e)
{
    char chunk[65536];
    ssize_t got;

    for (;;) {
        got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return err_set(e, ST_EIO, "%s: cannot read: %s", name, strerror(errno));
        if (got == 0)
            return 0;
        if (buf_add(b, chunk, (size_t)got) != 0)
            return err_set(e, ST_ETOOBIG, "%s: more than %zu bytes", name, limit);
    }
}

/* Decompress path with `xz -dc` into b.  (An external program rather than a
 * new library dependency: only this one public trace ships compressed.) */
static int read_xz(const char *path, struct buf *b, struct err *e)
{
    char *argv[] = {"xz", "-dc", "--", (char *)(uintptr_t)path, NULL};
    posix_spawn_file_actions_t fa;
    int fds[2], status = 0, rc;
    pid_t pid;

    if (access(path, R_OK) != 0)
        return err_set(e, ST_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (pipe(fds) != 0)
        return err_set(e, ST_EIO, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    rc = posix_spawnp(&pid, "xz", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return err_set(e, ST_EIO,
                       "%s: cannot run xz to decompress it (%s); run xz -dk first", path,
                       strerror(rc));
    }
    rc = read_stream(fds[0], path, b->limit, b, e);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = err_set(e, ST_EIO, "%s: xz -dc failed (status %d)", path, status);
    return rc;
}

/* Open a CSV input: a file, "-" for stdin, or a .xz file. */
static int open_input(struct csv *c, const char *path, struct err *e)
{
    size_t len = strlen(path);
    struct buf b;
    int rc;

    if (strcmp(path, "-") != 0 && (len < 3 || strcmp(path + len - 3, ".xz") != 0))
        return csv_open(c, path, MARKET_INPUT_MAX, e);
    buf_init(&b, MARKET_INPUT_MAX);
    if (strcmp(path, "-") == 0)
        rc = read_stream(0, "stdin", MARKET_INPUT_MAX, &b, e);
    else
        rc = read_xz(path, &b, e);
    if (rc == 0)
        rc = csv_open_mem(c, strcmp(path, "-") == 0 ? "stdin" : path,
                          b.data ? b.data : "", b.len, e);
    buf_free(&b);
    return rc;
}

/* ---- the catalog ---- */

/* The first offer at (cloud, region[, zone]) of an instance type, or NULL.
 * An empty zone matches every zone of the region. */
static const struct offer *find_offer(const struct catalog *cat, const char *cloud,
                                      const char *region, const char *zone,
                                      const char *type)
{
    size_t i;

    for (i = 0; i < catalog_noffers(cat); i++) {
        const struct offer *o = catalog_offer(cat, i);

        if (strcmp(o->instance_type, type) == 0 && strcmp(o->cloud, cloud) == 0 &&
            strcmp(o->region, region) == 0 &&
            (*zone == '\0' || strcmp(o->zone, zone) == 0))
            return o;
    }
    return NULL;
}

/* ---- SkyPilot spot traces: the mapping file ---- */

struct spot_map {
    char *glob;       /* trace_file pattern, relative to the input directory */
    char *location;   /* as written */
    char *type;       /* instance type */
    size_t line;      /* in the mapping file */
    const char *file; /* the one trace file it matched (in the file list) */
    int nodes;        /* N of the file's "N-node" folder */
};

struct spot_conv {
    struct spot_map *map;
    size_t nmap, map_cap;
    char **files; /* .json files under the input directory, relative, sorted */
    size_t nfiles, files_cap;
    struct spot_out {
        double time_s;
        uint32_t map;  /* which mapping row */
        int32_t value; /* the source's value: nodes available (0..N; 0/1 in 1-node) */
    } * rows;
    size_t nrows, rows_cap;
};

enum { M_FILE, M_LOC, M_TYPE, M__N };

static const struct csv_col map_cols[M__N] = {
    {"trace_file", 1}, {"location", 1}, {"instance_type", 1}};

static int map_row(const struct csv *c, struct spot_conv *sc, const struct catalog *cat,
                   struct err *e)
{
    const char *glob = csv_get(c, M_FILE), *loc = csv_get(c, M_LOC),
               *type = csv_get(c, M_TYPE);
    struct trace_loc l;
    size_t i;

    if (*glob == '\0' || strlen(glob) >= TRACE_STR_MAX)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column 'trace_file' is empty");
    if (strlen(loc) >= TRACE_STR_MAX || trace_loc_parse(loc, 1, &l) != 0)
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0,
            "column 'location': '%.*s' is not a location; write cloud/region or "
            "cloud/region/zone (e.g. gcp/us-central1/us-central1-a)",
            80, loc);
    if (strlen(type) >= TRACE_STR_MAX || !trace_is_token(type))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'instance_type': '%.*s' is not an instance type", 80, type);
    for (i = 0; i < sc->nmap; i++)
        if (strcmp(sc->map[i].location, loc) == 0 && strcmp(sc->map[i].type, type) == 0)
            return err_at(
                e, ST_EINVAL, c->path, c->line, 0,
                "%s %s is already fed by line %zu: one location takes one trace", loc,
                type, sc->map[i].line);
    if (cat && find_offer(cat, l.cloud, l.region, l.zone, type) == NULL)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "the catalog has no offer of %s at %s", type, loc);
    if (sc->nmap == SPOT_MAP_MAX)
        return err_at(e, ST_ETOOBIG, c->path, c->line, 0, "more than %d mapping rows",
                      SPOT_MAP_MAX);
    sc->map = xgrow(sc->map, &sc->map_cap, sc->nmap + 1, sizeof(*sc->map));
    sc->map[sc->nmap].glob = xstrdup(glob);
    sc->map[sc->nmap].location = xstrdup(loc);
    sc->map[sc->nmap].type = xstrdup(type);
    sc->map[sc->nmap].line = c->line;
    sc->map[sc->nmap++].file = NULL;
    return 0;
}

static int load_mapping(struct spot_conv *sc, const char *path, const struct catalog *cat,
                        struct err *e)
{
    struct csv c;
    int rc;

    if ((rc = csv_open(&c, path, 1 << 24, e)) != 0)
        return rc;
    if ((rc = csv_bind(&c, map_cols, M__N, e)) == 0)
        while ((rc = csv_next(&c, e)) > 0)
            if ((rc = map_row(&c, sc, cat, e)) != 0)
                break;
    if (rc == 0 && sc->nmap == 0)
        rc = err_at(e, ST_EINVAL, path, 0, 0, "the mapping has no rows");
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

/* ---- SkyPilot spot traces: the files ---- */

static int walk(struct spot_conv *sc, const char *root, const char *rel, int depth,
                struct err *e)
{
    char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        rc =
            err_set(e, ST_EIO, "%s: cannot open the directory: %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char *r, *full;
        struct stat st;
        size_t len = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        full = xasprintf("%s/%s", dir, de->d_name);
        if (stat(full, &st) != 0) {
            /* vanished or unreadable: not a trace */
        } else if (S_ISDIR(st.st_mode) && depth < SPOT_DEPTH_MAX) {
            rc = walk(sc, root, r, depth + 1, e);
        } else if (S_ISREG(st.st_mode) && len > 5 &&
                   strcmp(de->d_name + len - 5, ".json") == 0) {
            if (sc->nfiles == SPOT_FILES_MAX)
                rc = err_set(e, ST_ETOOBIG, "%s: more than %d trace files", root,
                             SPOT_FILES_MAX);
            sc->files =
                xgrow(sc->files, &sc->files_cap, sc->nfiles + 1, sizeof(*sc->files));
            sc->files[sc->nfiles++] = r;
            r = NULL;
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* N of the last "N-node" folder in a relative path; 0 when there is none. */
static int path_nodes(const char *rel)
{
    const char *p = rel;
    int nodes = 0;

    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        long v;
        char part[32];

        if (end && len > 5 && len < sizeof(part) &&
            strncmp(p + len - 5, "-node", 5) == 0) {
            memcpy(part, p, len - 5);
            part[len - 5] = '\0';
            if (str_to_long(part, 1, 1000000, &v) == 0)
                nodes = (int)v;
        }
        p = end ? end + 1 : p + len;
    }
    return nodes;
}

/* Give each mapping row its one file. */
static int match_files(struct spot_conv *sc, const char *mapping, const char *dir,
                       struct err *e)
{
    size_t i, k;

    for (i = 0; i < sc->nmap; i++) {
        struct spot_map *m = &sc->map[i];
        size_t hits = 0;

        for (k = 0; k < sc->nfiles; k++) {
            if (!str_glob(m->glob, sc->files[k]))
                continue;
            if (hits++ > 0)
                return err_at(
                    e, ST_EINVAL, mapping, m->line, 0,
                    "'%s' matches more than one trace file (%s, %s): one location "
                    "takes one trace",
                    m->glob, m->file, sc->files[k]);
            m->file = sc->files[k];
        }
        if (hits == 0)
            return err_at(e, ST_EINVAL, mapping, m->line, 0,
                          "'%s' matches no .json file under %s", m->glob, dir);
        if ((m->nodes = path_nodes(m->file)) == 0)
            return err_at(e, ST_EINVAL, mapping, m->line, 0,
                          "%s: no 'N-node' folder in its path, so 0/1 (1-node: 1 = "
                          "available) and node counts cannot be told apart",
                          m->file);
    }
    return 0;
}

/* ---- SkyPilot spot traces: one JSON trace ---- */

struct spot_json {
    double gap_s;
    size_t n;
    int32_t *v; /* n values */
};

static int json_fail(const char *path, const char *what, struct err *e)
{
    return err_at(e, ST_EPARSE, path, 0, 0,
                  "%s (expected {\"metadata\": {\"gap_seconds\": G}, "
                  "\"data\": [...]})",
                  what);
}

static int spot_values(json_t *data, const char *path, int nodes, struct spot_json *sj,
                       struct err *e)
{
    size_t i;

    sj->n = json_array_size(data);
    if (sj->n == 0)
        return json_fail(path, "'data' is empty", e);
    sj->v = xmalloc(sj->n * sizeof(*sj->v));
    for (i = 0; i < sj->n; i++) {
        json_t *x = json_array_get(data, i);
        json_int_t v = json_is_integer(x) ? json_integer_value(x) : -1;

        if (v < 0 || v > (nodes == 1 ? 1 : nodes))
            return err_at(e, ST_EINVAL, path, 0, 0,
                          "data[%zu] is not a whole number in [0, %d] (a %d-node trace)",
                          i, nodes == 1 ? 1 : nodes, nodes);
        sj->v[i] = (int32_t)v;
    }
    return 0;
}

static int load_spot_json(const char *path, int nodes, struct spot_json *sj,
                          struct err *e)
{
    json_error_t je;
    json_t *root, *gap;
    struct stat st;
    int rc;

    memset(sj, 0, sizeof(*sj));
    if (stat(path, &st) != 0)
        return err_set(e, ST_EIO, "%s: cannot open: %s", path, strerror(errno));
    if ((size_t)st.st_size > SPOT_JSON_MAX)
        return err_set(e, ST_ETOOBIG, "%s: larger than %zu bytes", path, SPOT_JSON_MAX);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return err_at(e, ST_EPARSE, path, (size_t)(je.line > 0 ? je.line : 0),
                      (size_t)(je.column > 0 ? je.column : 0), "%s", je.text);
    gap = json_object_get(json_object_get(root, "metadata"), "gap_seconds");
    if (!json_is_number(gap) || !(json_number_value(gap) > 0) ||
        !isfinite(json_number_value(gap)))
        rc = json_fail(path, "no positive metadata.gap_seconds", e);
    else if (!json_is_array(json_object_get(root, "data")))
        rc = json_fail(path, "no 'data' array", e);
    else
        rc = spot_values(json_object_get(root, "data"), path, nodes, sj, e);
    sj->gap_s = json_is_number(gap) ? json_number_value(gap) : 0;
    json_decref(root);
    return rc;
}

/* How many ticks the output covers: the trace once, or repeated (and cut)
 * until horizon_s when that is > 0. */
static int spot_ticks(const struct spot_json *sj, double horizon_s, const char *path,
                      size_t *ticks, struct err *e)
{
    double n = horizon_s > 0 ? ceil(horizon_s / sj->gap_s) : (double)sj->n;

    if (n > (double)SPOT_TICKS_MAX && n > (double)sj->n)
        return err_set(e, ST_ETOOBIG,
                       "%s: ticks of %g s up to the horizon make %.0f, more than %d: "
                       "give a shorter --horizon",
                       path, sj->gap_s, n, SPOT_TICKS_MAX);
    *ticks = (size_t)n;
    return 0;
}

/* Append the change points of the first `ticks` ticks of one trace (repeated
 * end to end when ticks > its length). */
static size_t spot_emit(struct spot_conv *sc, uint32_t mi, const struct spot_json *sj,
                        size_t ticks)
{
    size_t k, n0 = sc->nrows;
    int32_t prev = -1;

    for (k = 0; k < ticks; k++) {
        int32_t v = sj->v[k % sj->n];

        if (v == prev)
            continue;
        sc->rows = xgrow(sc->rows, &sc->rows_cap, sc->nrows + 1, sizeof(*sc->rows));
        sc->rows[sc->nrows].time_s = (double)k * sj->gap_s;
        sc->rows[sc->nrows].map = mi;
        sc->rows[sc->nrows++].value = v;
        prev = v;
    }
    return sc->nrows - n0;
}

static void spot_report(FILE *report, const struct spot_map *m,
                        const struct spot_json *sj, size_t changes, double horizon_s)
{
    double up = 0, span = (double)sj->n * sj->gap_s;
    size_t i;

    if (report == NULL)
        return;
    for (i = 0; i < sj->n; i++)
        up += (double)sj->v[i] / m->nodes;
    fprintf(
        report,
        "skypilot-spot: line %zu: %s -> %s %s: %zu ticks of %g s (%.1f days), %d-node "
        "(%s), available %.1f%%, %zu rows%s\n",
        m->line, m->file, m->location, m->type, sj->n, sj->gap_s, span / 86400, m->nodes,
        m->nodes == 1 ? "1 = available" : "count of available nodes",
        100 * up / (double)sj->n, changes,
        horizon_s > span ? " (repeated to cover the horizon)" : "");
}

/* ---- SkyPilot spot traces: output ---- */

static int cmp_spot_out(const void *a, const void *b)
{
    const struct spot_out *x = a, *y = b;

    if (x->time_s != y->time_s)
        return x->time_s < y->time_s ? -1 : 1;
    return x->map < y->map ? -1 : x->map > y->map;
}

/* Every value of a SkyPilot trace, in 1-node files too, counts the spot
 * instances that could be had (or were held) at that tick: upstream's README
 * says "the number of available instances", and the authors' simulator reads
 * its own copies, whose column is named `preempted` and holds the bit-inverse
 * of the public files, as `spot_available = not trace[tick]` (the evidence is
 * in the shared copy's SOURCE.md).  So a 1-node value v becomes the
 * `preempted` form 1 - v: 1 (available) -> 0, 0 (not available) -> 1.  The
 * `preempted` form, not `available_nodes` 1, because a 1-node trace probes one
 * instance: it says whether the pool has spot at all, not that it has one node
 * (driver/sim.c gives `preempted` 0 the fleet's whole spot capacity). */
static int spot_write(const struct spot_conv *sc, FILE *out, struct err *e)
{
    size_t i;

    fputs("time_s,location,instance_type,available_nodes,preempted\n", out);
    for (i = 0; i < sc->nrows; i++) {
        const struct spot_out *r = &sc->rows[i];
        const struct spot_map *m = &sc->map[r->map];

        trace_put_num(out, r->time_s);
        if (m->nodes == 1)
            fprintf(out, ",%s,%s,,%d\n", m->location, m->type, 1 - (int)r->value);
        else
            fprintf(out, ",%s,%s,%d,\n", m->location, m->type, (int)r->value);
    }
    if (ferror(out))
        return err_set(e, ST_EIO, "cannot write the spot trace: output error");
    return 0;
}

static void spot_conv_free(struct spot_conv *sc)
{
    size_t i;

    for (i = 0; i < sc->nmap; i++) {
        free(sc->map[i].glob);
        free(sc->map[i].location);
        free(sc->map[i].type);
    }
    for (i = 0; i < sc->nfiles; i++)
        free(sc->files[i]);
    free(sc->map);
    free(sc->files);
    free(sc->rows);
}

/* Load, check and emit every mapping row's trace. */
static int spot_traces(struct spot_conv *sc, const char *in_dir, double horizon_s,
                       FILE *report, struct err *e)
{
    size_t i;

    for (i = 0; i < sc->nmap; i++) {
        struct spot_json sj;
        char *path = xasprintf("%s/%s", in_dir, sc->map[i].file);
        size_t ticks = 0;
        int rc = load_spot_json(path, sc->map[i].nodes, &sj, e);

        if (rc == 0)
            rc = spot_ticks(&sj, horizon_s, path, &ticks, e);
        if (rc == 0)
            spot_report(report, &sc->map[i], &sj, spot_emit(sc, (uint32_t)i, &sj, ticks),
                        horizon_s);
        free(path);
        free(sj.v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void spot_unmapped(const struct spot_conv *sc, FILE *report)
{
    size_t i, k, n = 0;

    for (k = 0; k < sc->nfiles; k++) {
        for (i = 0; i < sc->nmap && sc->map[i].file != sc->files[k]; i++)
            ;
        if (i == sc->nmap && report)
            fprintf(report, "skypilot-spot: not in the mapping, ignored: %s\n",
                    sc->files[k]);
        n += i == sc->nmap;
    }
    if (report)
        fprintf(report,
                "skypilot-spot: %zu trace files, %zu mapped to %zu locations, %zu rows\n",
                sc->nfiles, sc->nfiles - n, sc->nmap, sc->nrows);
}

int trace_convert_skypilot_spot_ex(const char *in_dir, const char *mapping,
                                   const struct trace_conv_opts *o, FILE *out,
                                   FILE *report, struct err *e)
{
    struct spot_conv sc;
    int rc;

    memset(&sc, 0, sizeof(sc));
    rc = load_mapping(&sc, mapping, o ? o->cat : NULL, e);
    if (rc == 0)
        rc = walk(&sc, in_dir, "", 0, e);
    if (rc == 0 && sc.nfiles == 0)
        rc = err_set(e, ST_EINVAL, "%s: no spot trace (.json file) under the directory",
                     in_dir);
    if (rc == 0) {
        qsort(sc.files, sc.nfiles, sizeof(*sc.files), cmp_str);
        rc = match_files(&sc, mapping, in_dir, e);
    }
    if (rc == 0)
        rc = spot_traces(&sc, in_dir, o ? o->horizon_s : 0, report, e);
    if (rc == 0) {
        if (sc.nrows > 0)
            qsort(sc.rows, sc.nrows, sizeof(*sc.rows), cmp_spot_out);
        rc = spot_write(&sc, out, e);
        spot_unmapped(&sc, report);
    }
    spot_conv_free(&sc);
    return rc;
}

int trace_convert_skypilot_spot(const char *in_dir, const char *mapping, FILE *out,
                                FILE *report, struct err *e)
{
    return trace_convert_skypilot_spot_ex(in_dir, mapping, NULL, out, report, e);
}

/* ---- GCP GPU VM price history ---- */

enum {
    G_DATE,
    G_COMMIT,
    G_TYPE,
    G_GPU,
    G_GPUS,
    G_VCPU,
    G_MEM,
    G_REGION,
    G_OD,
    G_SPOT,
    G__N
};

static const struct csv_col gcp_cols[G__N] = {
    {"snapshot_commit_date", 1},
    {"commit", 1},
    {"machine_type", 1},
    {"gpu_model", 1},
    {"gpu_count", 1},
    {"vcpu", 1},
    {"memory_gb", 1},
    {"region", 1},
    {"ondemand_usd_per_hour", 1},
    {"spot_usd_per_hour", 1},
};

/* Days since 1970-01-01 of a strict "YYYY-MM-DD"; 0 or -1. */
static int parse_day(const char *s, long *day)
{
    struct tm tm, back;
    time_t t;
    int i;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    t = timegm(&tm);
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != atoi(s + 8) ||
        back.tm_mon != atoi(s + 5) - 1)
        return -1;
    *day = (long)(t / 86400);
    return 0;
}

/* One (machine type, region): the prices in force and the ones last written.
 * NAN = not known (spot before upstream tracked it). */
struct gkey {
    const char *type, *region; /* interned */
    double od, spot, out_od, out_spot;
    int written;
};

struct gcp_conv {
    struct strpool pool;
    struct keymap index; /* (type, region) -> gkey index */
    struct keymap sold;  /* (type, region) in the catalog (when one is given) */
    struct gkey *k;
    size_t nk, kcap;
    long origin, day; /* days since 1970; day = the date being read */
    int have_origin, have_day, flushed;
    FILE *out;
    size_t written;
};

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Write every key whose prices changed since last written, at time_s. */
static void gcp_emit(struct gcp_conv *g, double time_s)
{
    size_t i;

    for (i = 0; i < g->nk; i++) {
        struct gkey *k = &g->k[i];

        if (k->written && same(k->od, k->out_od) && same(k->spot, k->out_spot))
            continue;
        trace_put_num(g->out, time_s);
        fprintf(g->out, ",gcp/%s,%s,", k->region, k->type);
        trace_put_num(g->out, k->od);
        fputc(',', g->out);
        if (!isnan(k->spot))
            trace_put_num(g->out, k->spot);
        fputc('\n', g->out);
        k->out_od = k->od;
        k->out_spot = k->spot;
        k->written = 1;
        g->written++;
    }
}

/* A new date begins (or the input ends, day = -1): close the previous one. */
static void gcp_next_day(struct gcp_conv *g, long day)
{
    if (g->have_day && g->day >= g->origin)
        gcp_emit(g, (double)(g->day - g->origin) * 86400);
    /* Prices set before the origin are the ones in force at time 0. */
    if (!g->flushed && (day < 0 || day >= g->origin)) {
        gcp_emit(g, 0);
        g->flushed = 1;
    }
    g->day = day;
    g->have_day = 1;
}

static struct gkey *gcp_key(struct gcp_conv *g, const char *type, const char *region)
{
    const char *t = strpool_intern(&g->pool, type), *r = strpool_intern(&g->pool, region);
    uint32_t idx = (uint32_t)g->nk;

    if (keymap_put(&g->index, t, r, NULL, NULL, &idx) == 1)
        return &g->k[idx];
    g->k = xgrow(g->k, &g->kcap, g->nk + 1, sizeof(*g->k));
    memset(&g->k[g->nk], 0, sizeof(g->k[g->nk]));
    g->k[g->nk].type = t;
    g->k[g->nk].region = r;
    g->k[g->nk].spot = NAN;
    return &g->k[g->nk++];
}

static int gcp_day(const struct csv *c, struct gcp_conv *g, struct err *e)
{
    long day;

    if (parse_day(csv_get(c, G_DATE), &day) != 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'snapshot_commit_date': '%.*s' is not a date (YYYY-MM-DD)",
                      40, csv_get(c, G_DATE));
    if (g->have_day && day < g->day)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'snapshot_commit_date': %s is earlier than the row before; "
                      "rows must be in date order",
                      csv_get(c, G_DATE));
    if (!g->have_origin) {
        g->origin = day;
        g->have_origin = 1;
    }
    if (!g->have_day || day != g->day)
        gcp_next_day(g, day);
    return 0;
}

static int gcp_row(const struct csv *c, struct gcp_conv *g, const struct catalog *cat,
                   struct trace_tally *t, struct err *e)
{
    static const double unknown = NAN;
    const char *type = csv_get(c, G_TYPE), *region = csv_get(c, G_REGION);
    double od, spot;
    uint32_t dummy;
    struct gkey *k;
    int rc;

    if ((rc = gcp_day(c, g, e)) != 0 ||
        (rc = csv_double(c, G_OD, "ondemand_usd_per_hour", NULL, &od, e)) != 0 ||
        (rc = csv_double(c, G_SPOT, "spot_usd_per_hour", &unknown, &spot, e)) != 0)
        return rc;
    if (!trace_is_token(type) || !trace_is_token(region) ||
        strlen(type) >= TRACE_STR_MAX || strlen(region) >= TRACE_STR_MAX)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "machine_type '%.*s' or region '%.*s' is not a name", 80, type, 80,
                      region);
    if (od < 0 || spot < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "a price is negative");
    if (*csv_get(c, G_GPU) == '\0') {
        tally_add(t, "upstream glitch: machine entry without a GPU key", 0);
        return 0;
    }
    if (cat && !keymap_get(&g->sold, strpool_intern(&g->pool, type),
                           strpool_intern(&g->pool, region), NULL, NULL, &dummy)) {
        tally_add(t, "machine type not offered in that region by the catalog", 0);
        return 0;
    }
    k = gcp_key(g, type, region);
    k->od = od;
    if (!isnan(spot))
        k->spot = spot; /* empty = not tracked yet: keep what is known */
    t->kept++;
    return 0;
}

static void gcp_index_catalog(struct gcp_conv *g, const struct catalog *cat)
{
    size_t i;
    uint32_t one = 1;

    for (i = 0; cat && i < catalog_noffers(cat); i++) {
        const struct offer *o = catalog_offer(cat, i);

        if (strcmp(o->cloud, "gcp") == 0)
            keymap_put(&g->sold, strpool_intern(&g->pool, o->instance_type),
                       strpool_intern(&g->pool, o->region), NULL, NULL, &one);
    }
}

static int gcp_since(struct gcp_conv *g, const char *since, struct err *e)
{
    if (since == NULL)
        return 0;
    if (parse_day(since, &g->origin) != 0)
        return err_set(e, ST_EUSAGE, "--since: '%s' is not a date (YYYY-MM-DD)", since);
    g->have_origin = 1;
    return 0;
}

static int gcp_read(struct csv *c, struct gcp_conv *g, const struct catalog *cat,
                    struct trace_tally *t, struct err *e)
{
    int rc;

    if ((rc = csv_bind(c, gcp_cols, G__N, e)) != 0)
        return rc;
    fputs("time_s,location,instance_type,price_hour,spot_price_hour\n", g->out);
    while ((rc = csv_next(c, e)) > 0) {
        t->read++;
        if ((rc = gcp_row(c, g, cat, t, e)) != 0)
            return rc;
    }
    if (rc == 0)
        gcp_next_day(g, -1);
    return rc;
}

int trace_convert_gcp_prices_ex(const char *in_csv, const struct trace_conv_opts *o,
                                FILE *out, FILE *report, struct err *e)
{
    const struct catalog *cat = o ? o->cat : NULL;
    struct gcp_conv g;
    struct trace_tally t;
    struct csv c;
    int rc;

    memset(&g, 0, sizeof(g));
    strpool_init(&g.pool);
    keymap_init(&g.index);
    keymap_init(&g.sold);
    g.out = out;
    tally_init(&t, "gcp-prices");
    gcp_index_catalog(&g, cat);
    rc = gcp_since(&g, o ? o->since : NULL, e);
    if (rc == 0 && (rc = open_input(&c, in_csv, e)) == 0) {
        rc = gcp_read(&c, &g, cat, &t, e);
        csv_close(&c);
    }
    if (rc == 0 && ferror(out))
        rc = err_set(e, ST_EIO, "cannot write the prices: output error");
    if (rc == 0) {
        tally_print(&t, report);
        if (report)
            fprintf(report,
                    "gcp-prices: %zu (machine type, region) series, %zu price rows "
                    "written (changes only)\n",
                    g.nk, g.written);
    }
    free(g.k);
    keymap_free(&g.index);
    keymap_free(&g.sold);
    strpool_free(&g.pool);
    return rc < 0 ? rc : 0;
}

int trace_convert_gcp_prices(const char *in_csv, FILE *out, FILE *report, struct err *e)
{
    return trace_convert_gcp_prices_ex(in_csv, NULL, out, report, e);
}
