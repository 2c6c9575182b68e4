/*
 * import.c - SkyPilot's hosted catalog to Stratus' offers.csv (see import.h).
 *
 * SkyPilot keeps one vms.csv per cloud.  The column names are shared but their
 * order differs per cloud, upstream adds columns over time, and GCP prices a
 * GPU VM on two rows: the host VM (AcceleratorName empty) and the GPUs
 * (InstanceType empty, priced for the count on the row).  Each cloud goes
 * through the same steps:
 *
 *   read vms.csv and vms-*.csv -> drop duplicate rows -> (GCP) pair host and
 *   GPU rows (A2/A3/A4/G2 hosts by type, N1 GPUs on n1-highmem-(8*N)), name
 *   TPU rows TPU-VM -> corrections.csv -> checks (a row without accelerator
 *   is a CPU offer unless not_cpu.csv lists its type; accelerator known,
 *   count whole, some price) -> annotations (accelerator memory, interconnect)
 *
 * and every row that does not become an offer is counted under a reason.  The
 * offers of all clouds are then sorted and written through a temporary file
 * that is renamed over offers.csv, so a failed import leaves nothing behind.
 *
 * Layout: records and counters; the annotation files; reading vms.csv;
 * duplicates; GCP pairing; corrections; checks; output; the report; entry.
 */
#include "import.h"
#include "../util/csv.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Upstream vms.csv files are a few MB; annotation files are small. */
#define VMS_LIMIT ((size_t)256 << 20)
#define ANNOT_LIMIT ((size_t)16 << 20)
/* SkyPilot's instance type for a TPU VM; the TPU row's price is the whole cost. */
#define TPU_INSTANCE_TYPE "TPU-VM"
/* Largest accelerator count an offer may have (the loader's limit). */
#define MAX_ACC_COUNT 4096

static const char *const cloud_names[IMPORT_NCLOUDS] = {
#define X_(name, str) str,
    IMPORT_CLOUD_MAP(X_)
#undef X_
};

static const char *const drop_texts[] = {
#define X_(name, str) str,
    IMPORT_DROP_MAP(X_)
#undef X_
};

/* The order clouds are read in: the order SkyPilot's README lists them. */
static const int read_order[] = {IMPORT_GCP, IMPORT_AZURE,  IMPORT_OCI,
                                 IMPORT_AWS, IMPORT_LAMBDA, IMPORT_NEBIUS};

static const char *const interconnects[] = {"infiniband", "roce", "tcpx", "ici",
                                            "efa",        "none", NULL};

const char *import_cloud_name(int cloud)
{
    return cloud >= 0 && cloud < IMPORT_NCLOUDS ? cloud_names[cloud] : NULL;
}

const char *import_drop_str(int reason)
{
    return reason >= 0 && reason < IMPORT_NDROPS ? drop_texts[reason] : NULL;
}

/* ---- records ---- */

/* One vms.csv row, and later one offer (the same fields, filled in). */
struct rec {
    char *type;               /* instance type; "" on GCP GPU and TPU price rows */
    char *acc;                /* accelerator; "" = none */
    char *region, *zone;      /* zone "" when the cloud has none (Azure) */
    double count;             /* accelerators per node as read; 0 = not given */
    double vcpus, mem;        /* 0 = unknown */
    double price, spot;       /* $/node-hour; < 0 = not sold that way */
    double acc_mem;           /* GiB per accelerator (accelerators.csv); 0 = unknown */
    const char *interconnect; /* from instance_types.csv, borrowed; "" = unknown */
    long max_nodes;           /* from instance_types.csv; 0 = no limit known */
    int cloud;                /* enum import_cloud */
    const char *file;         /* the file read, borrowed from struct import */
    size_t fileno;            /* its position in reading order (ties in sorts) */
    size_t line;              /* line in that file (GCP pairs: the host's line) */
    int used;                 /* GCP GPU rows: some host took its price */
    int dropped;              /* counted under a drop reason; not an offer */
};

struct recs {
    struct rec *v;
    size_t n, cap;
};

static struct rec *recs_push(struct recs *rs)
{
    struct rec *r;

    rs->v = xgrow(rs->v, &rs->cap, rs->n + 1, sizeof(*rs->v));
    r = &rs->v[rs->n++];
    memset(r, 0, sizeof(*r));
    r->interconnect = "";
    return r;
}

static void rec_free(struct rec *r)
{
    free(r->type);
    free(r->acc);
    free(r->region);
    free(r->zone);
}

static void recs_free(struct recs *rs)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        rec_free(&rs->v[i]);
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

/* Move the records of src that are not dropped to dst; src is emptied. */
static void recs_take_alive(struct recs *dst, struct recs *src)
{
    size_t i;

    for (i = 0; i < src->n; i++) {
        if (src->v[i].dropped) {
            rec_free(&src->v[i]);
            continue;
        }
        *recs_push(dst) = src->v[i];
    }
    free(src->v);
    memset(src, 0, sizeof(*src));
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = xstrdup(s);
}

/* ---- annotation files ---- */

struct accel {
    char *name;
    double mem; /* GiB; 0 = unknown */
};

struct itype {
    char *cloud, *glob; /* cloud name or "*"; instance type glob */
    char *interconnect; /* one of interconnects[], or "" = unknown */
    long max_nodes;     /* 0 = no limit known */
};

enum { FIX_ACC, FIX_COUNT, FIX_VCPUS, FIX_MEM, FIX_PRICE, FIX_SPOT };
static const char *const fix_fields[] = {
    "accelerator", "accelerators_per_node", "vcpus", "memory_gib",
    "price_hour",  "spot_price_hour",       NULL};

struct fix {
    char *cloud, *type, *acc, *region; /* globs; "" in the file is "*" */
    int field;                         /* FIX_* */
    char *from, *to;                   /* as written */
    double from_num, to_num;           /* parsed, for numeric fields */
    size_t line;                       /* in corrections.csv */
    size_t hits;                       /* offers changed */
};

/* An instance type (glob) that is an accelerator VM although upstream names
 * no accelerator for it. */
struct notcpu {
    char *cloud, *glob;
};

struct annot {
    struct notcpu *ncs;
    size_t nncs, ncs_cap;
    struct accel *accs;
    size_t naccs, accs_cap;
    struct itype *its;
    size_t nits, its_cap;
    struct fix *fixes;
    size_t nfixes, fixes_cap;
    char *fix_path; /* corrections.csv, for the report */
};

typedef int (*annot_row_fn)(struct annot *an, const struct csv *c, struct err *e);

static int annot_file(struct annot *an, const char *dir, const char *name,
                      const struct csv_col *cols, size_t ncols, annot_row_fn fn,
                      struct err *e)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct csv c;
    int rc = csv_open(&c, path, ANNOT_LIMIT, e);

    free(path);
    if (rc != 0)
        return rc;
    rc = csv_bind(&c, cols, ncols, e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = fn(an, &c, e);
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

/* Every annotation row must say where its fact comes from. */
static int need_text(const struct csv *c, size_t col, const char *name, struct err *e)
{
    if (*csv_get(c, col) == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column '%s' must not be empty",
                      name);
    return 0;
}

static int one_of(const char *s, const char *const *list)
{
    size_t i;

    for (i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static int is_cloud(const char *s)
{
    int c;

    for (c = 0; c < IMPORT_NCLOUDS; c++)
        if (strcmp(s, cloud_names[c]) == 0)
            return 1;
    return 0;
}

enum { A_ACC, A_MEM, A_SOURCE };
static const struct csv_col accel_cols[] = {
    {"accelerator", 1}, {"memory_gib", 1}, {"source", 1}};

static int accel_row(struct annot *an, const struct csv *c, struct err *e)
{
    static const double zero = 0;
    struct accel a;
    size_t i;
    int rc;

    if ((rc = need_text(c, A_ACC, "accelerator", e)) != 0 ||
        (rc = need_text(c, A_SOURCE, "source", e)) != 0 ||
        (rc = csv_double(c, A_MEM, "memory_gib", &zero, &a.mem, e)) != 0)
        return rc;
    if (a.mem < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "negative memory_gib");
    for (i = 0; i < an->naccs; i++)
        if (strcmp(an->accs[i].name, csv_get(c, A_ACC)) == 0)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "accelerator '%s' listed twice", csv_get(c, A_ACC));
    a.name = xstrdup(csv_get(c, A_ACC));
    an->accs = xgrow(an->accs, &an->accs_cap, an->naccs + 1, sizeof(a));
    an->accs[an->naccs++] = a;
    return 0;
}

enum { T_CLOUD, T_TYPE, T_INTERCONNECT, T_MAX_NODES, T_SOURCE };
static const struct csv_col itype_cols[] = {{"cloud", 1},
                                            {"instance_type", 1},
                                            {"interconnect", 1},
                                            {"max_cluster_nodes", 1},
                                            {"source", 1}};

static int itype_row(struct annot *an, const struct csv *c, struct err *e)
{
    static const long none = 0;
    const char *cloud = csv_get(c, T_CLOUD), *ic = csv_get(c, T_INTERCONNECT);
    struct itype t;
    int rc;

    if ((rc = need_text(c, T_TYPE, "instance_type", e)) != 0 ||
        (rc = need_text(c, T_SOURCE, "source", e)) != 0 ||
        (rc = csv_long(c, T_MAX_NODES, "max_cluster_nodes", 1, 1000000, &none,
                       &t.max_nodes, e)) != 0)
        return rc;
    if (strcmp(cloud, "*") != 0 && !is_cloud(cloud))
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0,
            "cloud must be aws, azure, gcp, lambda, nebius, oci or '*', not '%s'", cloud);
    if (*ic && !one_of(ic, interconnects))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "interconnect must be infiniband, roce, tcpx, ici, efa, none or "
                      "empty (unknown), not '%s'",
                      ic);
    t.cloud = xstrdup(cloud);
    t.glob = xstrdup(csv_get(c, T_TYPE));
    t.interconnect = xstrdup(ic);
    an->its = xgrow(an->its, &an->its_cap, an->nits + 1, sizeof(t));
    an->its[an->nits++] = t;
    return 0;
}

enum { F_CLOUD, F_TYPE, F_ACC, F_REGION, F_FIELD, F_FROM, F_TO, F_REASON, F_SOURCE };
static const struct csv_col fix_cols[] = {
    {"cloud", 1},  {"instance_type", 1}, {"accelerator", 1},
    {"region", 1}, {"field", 1},         {"from", 1},
    {"to", 1},     {"reason", 1},        {"source", 1}};

/* Check the from and to of a correction against its field; parse numbers. */
static int fix_values(const struct csv *c, struct fix *f, struct err *e)
{
    int numeric = f->field != FIX_ACC;

    if (*f->from == '\0' || *f->to == '\0')
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "from and to must not be empty (write 'none' for a blank value)");
    if (strcmp(f->from, "price_hour") == 0 && f->field != FIX_SPOT)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "from 'price_hour' is only meaningful for spot_price_hour");
    if (numeric && strcmp(f->from, "*") != 0 && strcmp(f->from, "none") != 0 &&
        strcmp(f->from, "price_hour") != 0 &&
        (str_to_double(f->from, &f->from_num) != 0 || f->from_num < 0))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "from: '%s' is not a number >= 0, '*', 'none' or 'price_hour'",
                      f->from);
    if (numeric && strcmp(f->to, "none") != 0 &&
        (str_to_double(f->to, &f->to_num) != 0 || f->to_num < 0))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "to: '%s' is not a number >= 0 or 'none'", f->to);
    return 0;
}

static char *glob_or_star(const char *s)
{
    return xstrdup(*s ? s : "*");
}

static int fix_row(struct annot *an, const struct csv *c, struct err *e)
{
    const char *field = csv_get(c, F_FIELD);
    struct fix f;
    int rc;

    memset(&f, 0, sizeof(f));
    if ((rc = need_text(c, F_REASON, "reason", e)) != 0 ||
        (rc = need_text(c, F_SOURCE, "source", e)) != 0)
        return rc;
    for (f.field = 0; fix_fields[f.field]; f.field++)
        if (strcmp(field, fix_fields[f.field]) == 0)
            break;
    if (fix_fields[f.field] == NULL)
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0,
            "field '%s' cannot be corrected (accelerator, accelerators_per_node, "
            "vcpus, memory_gib, price_hour or spot_price_hour)",
            field);
    f.from = xstrdup(csv_get(c, F_FROM));
    f.to = xstrdup(csv_get(c, F_TO));
    f.line = c->line;
    if ((rc = fix_values(c, &f, e)) != 0) {
        free(f.from);
        free(f.to);
        return rc;
    }
    f.cloud = glob_or_star(csv_get(c, F_CLOUD));
    f.type = glob_or_star(csv_get(c, F_TYPE));
    f.acc = glob_or_star(csv_get(c, F_ACC));
    f.region = glob_or_star(csv_get(c, F_REGION));
    an->fixes = xgrow(an->fixes, &an->fixes_cap, an->nfixes + 1, sizeof(f));
    an->fixes[an->nfixes++] = f;
    return 0;
}

enum { N_CLOUD, N_TYPE, N_REASON, N_SOURCE };
static const struct csv_col notcpu_cols[] = {
    {"cloud", 1}, {"instance_type", 1}, {"reason", 1}, {"source", 1}};

static int notcpu_row(struct annot *an, const struct csv *c, struct err *e)
{
    const char *cloud = csv_get(c, N_CLOUD);
    struct notcpu n;
    int rc;

    if ((rc = need_text(c, N_TYPE, "instance_type", e)) != 0 ||
        (rc = need_text(c, N_REASON, "reason", e)) != 0 ||
        (rc = need_text(c, N_SOURCE, "source", e)) != 0)
        return rc;
    if (strcmp(cloud, "*") != 0 && !is_cloud(cloud))
        return err_at(
            e, ST_EINVAL, c->path, c->line, 0,
            "cloud must be aws, azure, gcp, lambda, nebius, oci or '*', not '%s'", cloud);
    n.cloud = xstrdup(cloud);
    n.glob = xstrdup(csv_get(c, N_TYPE));
    an->ncs = xgrow(an->ncs, &an->ncs_cap, an->nncs + 1, sizeof(n));
    an->ncs[an->nncs++] = n;
    return 0;
}

/* not_cpu.csv is optional: without it every row without an accelerator is
 * a CPU offer. */
static int annot_notcpu(struct annot *an, const char *dir, struct err *e)
{
    char *path = xasprintf("%s/not_cpu.csv", dir);
    int present = access(path, F_OK) == 0;

    free(path);
    if (!present)
        return 0;
    return annot_file(an, dir, "not_cpu.csv", notcpu_cols,
                      sizeof(notcpu_cols) / sizeof(notcpu_cols[0]), notcpu_row, e);
}

static int annot_load(struct annot *an, const char *dir, struct err *e)
{
    int rc;

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
    if ((rc = annot_file(an, dir, "accelerators.csv", accel_cols, NCOLS(accel_cols),
                         accel_row, e)) != 0 ||
        (rc = annot_file(an, dir, "instance_types.csv", itype_cols, NCOLS(itype_cols),
                         itype_row, e)) != 0 ||
        (rc = annot_file(an, dir, "corrections.csv", fix_cols, NCOLS(fix_cols), fix_row,
                         e)) != 0 ||
        (rc = annot_notcpu(an, dir, e)) != 0)
        return rc;
    an->fix_path = xasprintf("%s/corrections.csv", dir);
    return 0;
}

static void annot_free(struct annot *an)
{
    size_t i;

    for (i = 0; i < an->nncs; i++) {
        free(an->ncs[i].cloud);
        free(an->ncs[i].glob);
    }
    free(an->ncs);
    for (i = 0; i < an->naccs; i++)
        free(an->accs[i].name);
    for (i = 0; i < an->nits; i++) {
        free(an->its[i].cloud);
        free(an->its[i].glob);
        free(an->its[i].interconnect);
    }
    for (i = 0; i < an->nfixes; i++) {
        struct fix *f = &an->fixes[i];

        free(f->cloud);
        free(f->type);
        free(f->acc);
        free(f->region);
        free(f->from);
        free(f->to);
    }
    free(an->accs);
    free(an->its);
    free(an->fixes);
    free(an->fix_path);
}

/* ---- the import as a whole ---- */

/* One file read: its path, cloud and number of data rows. */
struct srcfile {
    char *path;
    int cloud;
    size_t rows;
};

struct import {
    struct annot an;
    struct recs offers; /* surviving offers of every cloud */
    struct srcfile *files; /* every file read, in reading order */
    size_t nfiles, files_cap;
    struct import_stats st;
    FILE *report; /* may be NULL */
};

static void drop(struct import *im, struct rec *r, int reason)
{
    BUG_ON(r->dropped);
    r->dropped = 1;
    im->st.dropped[r->cloud][reason]++;
}

/* ---- reading vms.csv ---- */

enum { V_TYPE, V_ACC, V_COUNT, V_VCPUS, V_MEM, V_PRICE, V_SPOT, V_REGION, V_ZONE, V__N };
static const struct csv_col vms_cols[V__N] = {
    {"InstanceType", 1}, {"AcceleratorName", 1}, {"AcceleratorCount", 1},
    {"vCPUs", 1},        {"MemoryGiB", 1},       {"Price", 1},
    {"SpotPrice", 1},    {"Region", 1},          {"AvailabilityZone", 0},
};

/* Bind the header by column name.  Unlike csv_bind, columns this importer does
 * not use are allowed: upstream adds columns (GpuInfo, Generation, Arch, ...)
 * and a foreign format must not break on them. */
static int bind_by_name(struct csv *c, size_t *ncols, struct err *e)
{
    size_t i, j;
    int rc = csv_next(c, e);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_at(e, ST_EPARSE, c->path, 1, 0, "empty file: expected a header row");
    for (i = 0; i < V__N; i++) {
        c->map[i] = -1;
        for (j = 0; j < c->nfields; j++) {
            if (strcmp(c->field[j], vms_cols[i].name) != 0)
                continue;
            if (c->map[i] != -1)
                return err_at(e, ST_EPARSE, c->path, c->line, 0,
                              "column '%s' appears twice", vms_cols[i].name);
            c->map[i] = (int)j;
        }
        if (vms_cols[i].required && c->map[i] == -1)
            return err_at(e, ST_EPARSE, c->path, c->line, 0,
                          "missing column '%s': is this a SkyPilot vms.csv?",
                          vms_cols[i].name);
    }
    *ncols = c->nfields;
    return 0;
}

/* A number column: empty gives `empty`; text and negative numbers are errors. */
static int vms_number(const struct csv *c, size_t col, double empty, double *out,
                      struct err *e)
{
    int rc = csv_double(c, col, vms_cols[col].name, &empty, out, e);

    if (rc == 0 && *csv_get(c, col) != '\0' && *out < 0)
        return err_at(e, ST_EINVAL, c->path, c->line, 0, "column '%s': negative value %s",
                      vms_cols[col].name, csv_get(c, col));
    return rc;
}

/* Region names are lower-case API names (the catalog loader insists). */
static int valid_region(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
            *s != '_' && *s != '.')
            return 0;
    return 1;
}

static int vms_row(const struct csv *c, size_t ncols, const struct import *im,
                   struct recs *out, struct err *e)
{
    const struct srcfile *sf = &im->files[im->nfiles - 1];
    struct rec *r;
    double num[5];
    int rc;

    if (c->nfields != ncols)
        return err_at(e, ST_EPARSE, c->path, c->line, 0,
                      "row has %zu fields, the header has %zu", c->nfields, ncols);
    if (!valid_region(csv_get(c, V_REGION)))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'Region': '%s' is not a lower-case region name",
                      csv_get(c, V_REGION));
    if ((rc = vms_number(c, V_COUNT, 0, &num[0], e)) != 0 ||
        (rc = vms_number(c, V_VCPUS, 0, &num[1], e)) != 0 ||
        (rc = vms_number(c, V_MEM, 0, &num[2], e)) != 0 ||
        (rc = vms_number(c, V_PRICE, -1, &num[3], e)) != 0 ||
        (rc = vms_number(c, V_SPOT, -1, &num[4], e)) != 0)
        return rc;
    r = recs_push(out);
    r->count = num[0];
    r->vcpus = num[1];
    r->mem = num[2];
    r->price = num[3];
    r->spot = num[4];
    r->type = xstrdup(csv_get(c, V_TYPE));
    r->acc = xstrdup(csv_get(c, V_ACC));
    r->region = xstrdup(csv_get(c, V_REGION));
    r->zone = xstrdup(csv_get(c, V_ZONE));
    r->cloud = sf->cloud;
    r->file = sf->path;
    r->fileno = im->nfiles - 1;
    r->line = c->line;
    return 0;
}

/* Read one file of a cloud into rows (its own header binds its columns). */
static int read_one(struct import *im, char *path, int cloud, struct recs *rows,
                    struct err *e)
{
    struct srcfile *sf;
    struct csv c;
    size_t ncols = 0;
    int rc;

    im->files = xgrow(im->files, &im->files_cap, im->nfiles + 1, sizeof(*im->files));
    sf = &im->files[im->nfiles++];
    sf->path = path; /* owned by im from here on */
    sf->cloud = cloud;
    sf->rows = 0;
    if ((rc = csv_open(&c, path, VMS_LIMIT, e)) != 0)
        return rc;
    rc = bind_by_name(&c, &ncols, e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1) {
        rc = vms_row(&c, ncols, im, rows, e);
        sf->rows++;
        im->st.rows[cloud]++;
    }
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

/* Read <src>/<cloud>/vms.csv, then every <src>/<cloud>/vms-*.csv in name
 * order (SkyPilot's file, or extracts of it such as AWS's accelerator rows and
 * CPU families), into rows; 1 when the cloud has none of them. */
static int read_vms(struct import *im, const char *src, int cloud, struct recs *rows,
                    struct err *e)
{
    char *path = xasprintf("%s/%s/vms.csv", src, cloud_names[cloud]);
    char *pattern = xasprintf("%s/%s/vms-*.csv", src, cloud_names[cloud]);
    glob_t g;
    size_t i;
    int rc = 0, found = 0;

    if (access(path, F_OK) == 0) {
        found = 1;
        rc = read_one(im, path, cloud, rows, e);
    } else {
        free(path);
    }
    memset(&g, 0, sizeof(g));
    if (rc == 0 && glob(pattern, 0, NULL, &g) == 0) { /* glob sorts the names */
        for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
            found = 1;
            rc = read_one(im, xstrdup(g.gl_pathv[i]), cloud, rows, e);
        }
    }
    globfree(&g);
    free(pattern);
    if (rc != 0)
        return rc;
    return found ? 0 : 1;
}

/* ---- duplicates ---- */

static int cmp_str_key(const struct rec *x, const struct rec *y)
{
    int d;

    if ((d = x->cloud - y->cloud) != 0 || (d = strcmp(x->region, y->region)) != 0 ||
        (d = strcmp(x->zone, y->zone)) != 0 || (d = strcmp(x->type, y->type)) != 0)
        return d;
    return strcmp(x->acc, y->acc);
}

/* Ties: reading order (file, then line). */
static int cmp_read_order(const struct rec *x, const struct rec *y)
{
    if (x->fileno != y->fileno)
        return x->fileno < y->fileno ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return 0;
}

/* Raw rows: GCP GPU rows differ only by count, so the count is in the key. */
static int cmp_raw(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a,
                     *y = *(const struct rec *const *)b;
    int d = cmp_str_key(x, y);

    if (d == 0 && x->count != y->count)
        d = x->count < y->count ? -1 : 1;
    return d != 0 ? d : cmp_read_order(x, y);
}

/* Offers: one per (cloud, region, zone, instance type, accelerator). */
static int cmp_offer(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a,
                     *y = *(const struct rec *const *)b;
    int d = cmp_str_key(x, y);

    return d != 0 ? d : cmp_read_order(x, y);
}

static int same_values(const struct rec *x, const struct rec *y)
{
    return x->count == y->count && x->vcpus == y->vcpus && x->mem == y->mem &&
           x->price == y->price && x->spot == y->spot;
}

/* Within one group of equal keys (sorted by line): keep the first of exact
 * copies; when the copies disagree, nothing is known for sure: drop them all. */
static void dedupe_group(struct import *im, struct rec **g, size_t n)
{
    size_t i;
    int conflict = 0;

    for (i = 1; i < n; i++)
        conflict |= !same_values(g[0], g[i]);
    if (!conflict) {
        for (i = 1; i < n; i++)
            drop(im, g[i], IMPORT_DROP_DUPLICATE);
        return;
    }
    for (i = 0; i < n; i++) {
        if (im->report)
            fprintf(im->report,
                    "warning: %s:%zu: %s %s %s in %s %s disagrees with %s:%zu: "
                    "dropped\n",
                    g[i]->file, g[i]->line, cloud_names[g[i]->cloud], g[i]->type,
                    g[i]->acc, g[i]->region, g[i]->zone, g[0]->file, g[0]->line);
        drop(im, g[i], IMPORT_DROP_CONFLICT);
    }
}

static void dedupe(struct import *im, struct recs *rs,
                   int (*cmp)(const void *, const void *))
{
    struct rec **p = xcalloc(rs->n, sizeof(*p));
    size_t i, j, n = 0;

    for (i = 0; i < rs->n; i++)
        if (!rs->v[i].dropped)
            p[n++] = &rs->v[i];
    qsort(p, n, sizeof(*p), cmp);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && cmp_str_key(p[i], p[j]) == 0 &&
                        (cmp == cmp_offer || p[i]->count == p[j]->count);
             j++)
            ;
        if (j - i > 1)
            dedupe_group(im, p + i, j - i);
    }
    free(p);
}

/* ---- GCP: pair host VMs with their GPU rows ---- */

/* Which GPUs a GCP GPU host type carries (GCP machine-type documentation: the
 * A2, A3, A4 and G2 families; each type has a fixed GPU model and count). */
static const struct gcp_host {
    const char *type, *acc;
    int count;
} gcp_hosts[] = {
    {"a2-highgpu-1g", "A100", 1},       {"a2-highgpu-2g", "A100", 2},
    {"a2-highgpu-4g", "A100", 4},       {"a2-highgpu-8g", "A100", 8},
    {"a2-megagpu-16g", "A100", 16},     {"a2-ultragpu-1g", "A100-80GB", 1},
    {"a2-ultragpu-2g", "A100-80GB", 2}, {"a2-ultragpu-4g", "A100-80GB", 4},
    {"a2-ultragpu-8g", "A100-80GB", 8}, {"a3-highgpu-1g", "H100", 1},
    {"a3-highgpu-2g", "H100", 2},       {"a3-highgpu-4g", "H100", 4},
    {"a3-highgpu-8g", "H100", 8},       {"a3-megagpu-8g", "H100-MEGA", 8},
    {"a3-ultragpu-8g", "H200", 8},      {"a4-highgpu-8g", "B200", 8},
    {"a3-edgegpu-8g", "H100", 8},       {"a3-edgegpu-8g-nolssd", "H100", 8},
    {"a3-ultragpu-8g-nolssd", "H200", 8},
    {"g2-standard-4", "L4", 1},         {"g2-standard-8", "L4", 1},
    {"g2-standard-12", "L4", 1},        {"g2-standard-16", "L4", 1},
    {"g2-standard-24", "L4", 2},        {"g2-standard-32", "L4", 1},
    {"g2-standard-48", "L4", 4},        {"g2-standard-96", "L4", 8},
};

static const struct gcp_host *gcp_host_of(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(gcp_hosts) / sizeof(gcp_hosts[0]); i++)
        if (strcmp(gcp_hosts[i].type, type) == 0)
            return &gcp_hosts[i];
    return NULL;
}

/* GPU rows sorted by (region, zone, accelerator, count) for bsearch. */
static int cmp_gpu(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a,
                     *y = *(const struct rec *const *)b;
    int d;

    if ((d = strcmp(x->region, y->region)) != 0 || (d = strcmp(x->zone, y->zone)) != 0 ||
        (d = strcmp(x->acc, y->acc)) != 0)
        return d;
    return x->count < y->count ? -1 : x->count > y->count;
}

/* A price that needs both parts: blank when either part is. */
static double sum_parts(double host, double gpu)
{
    return host < 0 || gpu < 0 ? -1 : host + gpu;
}

static struct rec *new_offer(struct recs *out, const struct rec *from, const char *type)
{
    struct rec *o = recs_push(out);

    o->type = xstrdup(type);
    o->acc = xstrdup(from->acc);
    o->region = xstrdup(from->region);
    o->zone = xstrdup(from->zone);
    o->count = from->count;
    o->vcpus = from->vcpus;
    o->mem = from->mem;
    o->price = from->price;
    o->spot = from->spot;
    o->cloud = from->cloud;
    o->file = from->file;
    o->fileno = from->fileno;
    o->line = from->line;
    return o;
}

/* One host row: find the GPU row of its zone and add the two prices. */
static void gcp_host_offer(struct import *im, struct rec *h, struct rec **gpus,
                           size_t ngpus, struct recs *out)
{
    const struct gcp_host *gh = gcp_host_of(h->type);
    struct rec key, *kp = &key, **hit, *o;
    char acc[64];

    BUG_ON(gh == NULL);
    memset(&key, 0, sizeof(key));
    key.region = h->region;
    key.zone = h->zone;
    snprintf(acc, sizeof(acc), "%s", gh->acc);
    key.acc = acc;
    key.count = gh->count;
    hit = ngpus ? bsearch(&kp, gpus, ngpus, sizeof(*gpus), cmp_gpu) : NULL;
    if (hit == NULL) {
        drop(im, h, IMPORT_DROP_HOST_NO_GPU);
        return;
    }
    (*hit)->used = 1;
    o = new_offer(out, h, h->type);
    set_str(&o->acc, gh->acc);
    o->count = gh->count;
    o->price = sum_parts(h->price, (*hit)->price);
    o->spot = sum_parts(h->spot, (*hit)->spot);
}

static int is_tpu(const struct rec *r)
{
    return *r->type == '\0' && strncmp(r->acc, "tpu-", 4) == 0;
}

/* GPUs that GCP attaches to N1 VMs (any N1 type within a per-count vCPU and
 * memory limit) rather than selling in a fixed machine type. */
static int is_n1_gpu(const char *acc)
{
    static const char *const n1_gpus[] = {"T4", "V100", "P100", "P4", "K80", NULL};

    return one_of(acc, n1_gpus);
}

/* Host rows sorted by (region, zone, instance type) for bsearch. */
static int cmp_host(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a,
                     *y = *(const struct rec *const *)b;
    int d;

    if ((d = strcmp(x->region, y->region)) != 0 || (d = strcmp(x->zone, y->zone)) != 0)
        return d;
    return strcmp(x->type, y->type);
}

/* N1 GPUs: GCP sells no machine type with them, so each GPU price row (N
 * GPUs in a zone) is paired with ONE host, n1-highmem-(8*N), in the same
 * zone: 8 vCPUs and 52 GB per GPU is within GCP's per-count limits for T4,
 * V100, P100 and P4 (cloud.google.com/compute/docs/gpus, "GPU models": the
 * smallest limit is V100 x1 with 12 vCPUs / 78 GB) and keeps one offer per
 * (zone, instance type, accelerator).  Other N1 sizes are not offered with
 * GPUs, to keep the catalog small. */
static void gcp_n1_offers(struct recs *rows, struct rec **gpus, size_t ngpus,
                          struct recs *out)
{
    struct rec **hosts = xcalloc(rows->n + 1, sizeof(*hosts));
    size_t i, nhosts = 0;

    for (i = 0; i < rows->n; i++)
        if (!rows->v[i].dropped && strncmp(rows->v[i].type, "n1-highmem-", 11) == 0 &&
            *rows->v[i].acc == '\0')
            hosts[nhosts++] = &rows->v[i];
    qsort(hosts, nhosts, sizeof(*hosts), cmp_host);
    for (i = 0; i < ngpus; i++) {
        struct rec *g = gpus[i], key, *kp = &key, **hit, *o;
        char type[32];

        if (g->used || !is_n1_gpu(g->acc) || g->count < 1 || g->count > 8)
            continue;
        snprintf(type, sizeof(type), "n1-highmem-%d", 8 * (int)g->count);
        memset(&key, 0, sizeof(key));
        key.region = g->region;
        key.zone = g->zone;
        key.type = type;
        hit = nhosts ? bsearch(&kp, hosts, nhosts, sizeof(*hosts), cmp_host) : NULL;
        if (hit == NULL)
            continue;
        g->used = 1;
        o = new_offer(out, *hit, (*hit)->type);
        set_str(&o->acc, g->acc);
        o->count = g->count;
        o->price = sum_parts((*hit)->price, g->price);
        o->spot = sum_parts((*hit)->spot, g->spot);
    }
    free(hosts);
}

/* GCP rows to offers: hosts with their GPUs, TPU rows as TPU-VM, rows that
 * already name both an instance type and an accelerator as they are, and
 * every other machine type as a CPU offer (the A2/A3/A4/G2 hosts are never
 * sold without their GPUs, so they are not CPU offers; N1 types are, and
 * also carry the N1 GPUs). */
static void gcp_pair(struct import *im, struct recs *rows, struct recs *out)
{
    struct rec **gpus = xcalloc(rows->n + 1, sizeof(*gpus));
    size_t i, ngpus = 0;

    for (i = 0; i < rows->n; i++) {
        struct rec *r = &rows->v[i];

        if (!r->dropped && *r->type == '\0' && *r->acc != '\0' && !is_tpu(r))
            gpus[ngpus++] = r;
    }
    qsort(gpus, ngpus, sizeof(*gpus), cmp_gpu);
    for (i = 0; i < rows->n; i++) {
        struct rec *r = &rows->v[i];

        if (r->dropped || (*r->type == '\0' && *r->acc != '\0' && !is_tpu(r)))
            continue;
        if (is_tpu(r))
            new_offer(out, r, TPU_INSTANCE_TYPE);
        else if (*r->acc != '\0')
            new_offer(out, r, r->type);
        else if (gcp_host_of(r->type) != NULL)
            gcp_host_offer(im, r, gpus, ngpus, out);
        else if (*r->type != '\0')
            new_offer(out, r, r->type); /* a CPU offer */
        else
            drop(im, r, IMPORT_DROP_NO_TYPE);
    }
    gcp_n1_offers(rows, gpus, ngpus, out);
    for (i = 0; i < ngpus; i++)
        if (!gpus[i]->used)
            drop(im, gpus[i], IMPORT_DROP_GPU_NO_HOST);
    free(gpus);
}

/* ---- corrections ---- */

static int glob_ok(const char *pat, const char *s)
{
    return strcmp(pat, "*") == 0 || str_glob(pat, s);
}

/* The current value of a numeric field; *blank says whether it is empty. */
static double *fix_slot(struct rec *r, int field, int *blank)
{
    double *v = field == FIX_COUNT   ? &r->count
                : field == FIX_VCPUS ? &r->vcpus
                : field == FIX_MEM   ? &r->mem
                : field == FIX_PRICE ? &r->price
                                     : &r->spot;

    *blank = (field == FIX_PRICE || field == FIX_SPOT) ? *v < 0 : *v == 0;
    return v;
}

static int fix_applies(const struct fix *f, struct rec *r)
{
    double *v;
    int blank;

    if (!glob_ok(f->cloud, cloud_names[r->cloud]) || !glob_ok(f->type, r->type) ||
        !glob_ok(f->acc, r->acc) || !glob_ok(f->region, r->region))
        return 0;
    if (strcmp(f->from, "*") == 0)
        return 1;
    if (f->field == FIX_ACC)
        return strcmp(f->from, "none") == 0 ? *r->acc == '\0'
                                            : strcmp(f->from, r->acc) == 0;
    v = fix_slot(r, f->field, &blank);
    if (strcmp(f->from, "none") == 0)
        return blank;
    if (strcmp(f->from, "price_hour") == 0)
        return !blank && r->price >= 0 && fabs(*v - r->price) < 1e-9;
    return !blank && fabs(*v - f->from_num) < 1e-9;
}

static void fix_apply(const struct fix *f, struct rec *r)
{
    int blank, none = strcmp(f->to, "none") == 0;
    double *v;

    if (f->field == FIX_ACC) {
        set_str(&r->acc, none ? "" : f->to);
        return;
    }
    v = fix_slot(r, f->field, &blank);
    if (none)
        *v = (f->field == FIX_PRICE || f->field == FIX_SPOT) ? -1 : 0;
    else
        *v = f->to_num;
}

static void apply_fixes(struct import *im, struct rec *r)
{
    size_t i;

    for (i = 0; i < im->an.nfixes; i++) {
        struct fix *f = &im->an.fixes[i];

        if (!fix_applies(f, r))
            continue;
        fix_apply(f, r);
        f->hits++;
        im->st.corrected++;
    }
}

/* ---- checks and annotations ---- */

static const struct accel *find_accel(const struct annot *an, const char *name)
{
    size_t i;

    for (i = 0; i < an->naccs; i++)
        if (strcmp(an->accs[i].name, name) == 0)
            return &an->accs[i];
    return NULL;
}

/* Interconnect and cluster limit from instance_types.csv; an accelerator
 * offer no row matches is counted (CPU offers are not: unknown is normal). */
static void annotate_type(struct import *im, struct rec *r)
{
    size_t i;

    for (i = 0; i < im->an.nits; i++) {
        const struct itype *t = &im->an.its[i];

        if (glob_ok(t->cloud, cloud_names[r->cloud]) && str_glob(t->glob, r->type)) {
            r->interconnect = t->interconnect;
            r->max_nodes = t->max_nodes;
            return;
        }
    }
    if (*r->acc != '\0')
        im->st.unannotated++;
}

static int is_not_cpu(const struct annot *an, const struct rec *r)
{
    size_t i;

    for (i = 0; i < an->nncs; i++)
        if (glob_ok(an->ncs[i].cloud, cloud_names[r->cloud]) &&
            str_glob(an->ncs[i].glob, r->type))
            return 1;
    return 0;
}

/* A row without an accelerator: a CPU offer when it is a CPU VM with a shape
 * and a price (the loader needs vcpus and memory_gib for CPU offers). */
static void finish_cpu(struct import *im, struct rec *r)
{
    if (is_not_cpu(&im->an, r)) {
        drop(im, r, IMPORT_DROP_NOT_CPU);
        return;
    }
    if (!(r->vcpus > 0) || !(r->mem > 0)) {
        drop(im, r, IMPORT_DROP_CPU_NO_SHAPE);
        return;
    }
    if (r->price < 0 && r->spot < 0) {
        drop(im, r, IMPORT_DROP_NO_PRICE);
        return;
    }
    r->count = 0; /* Nebius writes 0, the others leave it empty */
    annotate_type(im, r);
}

/* Correct, check and annotate one offer; a failed check drops it. */
static void finish_offer(struct import *im, struct rec *r)
{
    const struct accel *a;

    apply_fixes(im, r);
    if (*r->type == '\0') { /* the loader needs one; no offer can be launched without */
        drop(im, r, IMPORT_DROP_NO_TYPE);
        return;
    }
    if (*r->acc == '\0') {
        finish_cpu(im, r);
        return;
    }
    if ((a = find_accel(&im->an, r->acc)) == NULL) {
        drop(im, r, IMPORT_DROP_UNKNOWN_ACCELERATOR);
        return;
    }
    /* a whole number, or a share of one (AWS g6f, Azure NVv4: 1/8 to 1/2) */
    if (!(r->count > 0 && r->count < 1) &&
        (r->count < 1 || r->count > MAX_ACC_COUNT || r->count != floor(r->count))) {
        drop(im, r, IMPORT_DROP_BAD_COUNT);
        return;
    }
    if (r->price < 0 && r->spot < 0) {
        drop(im, r, IMPORT_DROP_NO_PRICE);
        return;
    }
    r->acc_mem = r->count < 1 ? a->mem * r->count : a->mem; /* a share's memory */
    annotate_type(im, r);
}

/* One cloud from vms.csv to offers appended to im->offers; 1 when absent. */
static int import_cloud(struct import *im, const char *src, int cloud, struct err *e)
{
    struct recs rows = {0}, offers = {0};
    size_t i;
    int rc = read_vms(im, src, cloud, &rows, e);

    if (rc != 0) {
        recs_free(&rows);
        return rc;
    }
    dedupe(im, &rows, cmp_raw);
    if (cloud == IMPORT_GCP) {
        gcp_pair(im, &rows, &offers); /* copies what it keeps */
        recs_free(&rows);
    } else {
        recs_take_alive(&offers, &rows);
    }
    for (i = 0; i < offers.n; i++)
        finish_offer(im, &offers.v[i]);
    recs_take_alive(&im->offers, &offers);
    return 0;
}

/* ---- output ---- */

static int cmp_final(const void *a, const void *b)
{
    return cmp_str_key(a, b);
}

/* A number as the shortest decimal with at most 6 places ("2.65389", "8"). */
static const char *fmt_num(char *buf, size_t n, double v)
{
    char *p;

    snprintf(buf, n, "%.6f", v);
    p = buf + strlen(buf) - 1;
    while (p > buf && *p == '0')
        *p-- = '\0';
    if (*p == '.')
        *p = '\0';
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, n, "0");
    return buf;
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void put_field(FILE *fp, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, fp);
    } else {
        fputc('"', fp);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', fp);
            fputc(*s, fp);
        }
        fputc('"', fp);
    }
    fputc(last ? '\n' : ',', fp);
}

/* A number field, empty when the value means "blank" (v <= blank_below). */
static void put_num(FILE *fp, double v, double blank_below, int last)
{
    char buf[64];

    put_field(fp, v <= blank_below ? "" : fmt_num(buf, sizeof(buf), v), last);
}

static void put_offer(FILE *fp, const struct rec *r)
{
    put_field(fp, cloud_names[r->cloud], 0);
    put_field(fp, r->region, 0);
    put_field(fp, r->zone, 0);
    put_field(fp, r->type, 0);
    put_field(fp, r->acc, 0);
    put_num(fp, r->count, 0, 0);
    put_num(fp, r->acc_mem, 0, 0);
    put_num(fp, r->vcpus, 0, 0);
    put_num(fp, r->mem, 0, 0);
    put_field(fp, r->interconnect, 0);
    put_num(fp, (double)r->max_nodes, 0, 0);
    put_num(fp, r->price, -0.5, 0);
    put_num(fp, r->spot, -0.5, 1);
}

static const char offers_header[] =
    "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
    "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
    "price_hour,spot_price_hour\n";

static int make_dir(const char *dir, struct err *e)
{
    struct stat st;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return err_set(e, ST_EINVAL, "%s: not a directory", dir);
        return 0;
    }
    if (mkdir(dir, 0777) != 0)
        return err_set(e, ST_EIO, "%s: cannot create directory: %s", dir,
                       strerror(errno));
    return 0;
}

/* Write out_dir/offers.csv via a temporary file and rename(). */
static int write_offers(struct import *im, const char *out_dir, struct err *e)
{
    char *path = xasprintf("%s/offers.csv", out_dir);
    char *tmp = xasprintf("%s/.offers.csv.tmp", out_dir);
    FILE *fp;
    size_t i;
    int rc = make_dir(out_dir, e);

    if (rc == 0 && (fp = fopen(tmp, "w")) == NULL)
        rc = err_set(e, ST_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    if (rc == 0) {
        fputs(offers_header, fp);
        for (i = 0; i < im->offers.n; i++)
            put_offer(fp, &im->offers.v[i]);
        int bad = ferror(fp);

        if (fclose(fp) != 0 || bad)
            rc = err_set(e, ST_EIO, "%s: write failed: %s", tmp, strerror(errno));
        else if (rename(tmp, path) != 0)
            rc = err_set(e, ST_EIO, "%s: cannot rename to %s: %s", tmp, path,
                         strerror(errno));
        if (rc != 0)
            unlink(tmp);
    }
    free(path);
    free(tmp);
    return rc;
}

/* ---- the report ---- */

static void report_drops(FILE *fp, const struct import_stats *st)
{
    size_t total = 0;
    int c, d;

    for (d = 0; d < IMPORT_NDROPS; d++)
        for (c = 0; c < IMPORT_NCLOUDS; c++)
            total += st->dropped[c][d];
    fprintf(fp, "dropped: %zu\n", total);
    for (d = 0; d < IMPORT_NDROPS; d++)
        for (c = 0; c < IMPORT_NCLOUDS; c++)
            if (st->dropped[c][d])
                fprintf(fp, "  %-6s %6zu  %s\n", cloud_names[c], st->dropped[c][d],
                        drop_texts[d]);
}

static void report_fixes(FILE *fp, const struct annot *an)
{
    size_t i;

    fprintf(fp, "corrections from %s:\n", an->fix_path);
    for (i = 0; i < an->nfixes; i++) {
        const struct fix *f = &an->fixes[i];

        fprintf(fp, "  line %-3zu %s %s %s: %s %s -> %s: %zu offer%s%s\n", f->line,
                f->cloud, f->type, f->acc, fix_fields[f->field], f->from, f->to, f->hits,
                f->hits == 1 ? "" : "s",
                f->hits ? "" : " (matched nothing: still needed?)");
    }
}

static void write_report(const struct import *im, const char *out_dir)
{
    FILE *fp = im->report;
    size_t total = 0, i;
    int c;

    if (fp == NULL)
        return;
    for (i = 0; i < im->nfiles; i++)
        fprintf(fp, "read %s: %zu rows\n", im->files[i].path, im->files[i].rows);
    for (c = 0; c < IMPORT_NCLOUDS; c++)
        total += im->st.offers[c];
    fprintf(fp, "wrote %s/offers.csv: %zu offers (", out_dir, total);
    for (c = 0; c < IMPORT_NCLOUDS; c++)
        fprintf(fp, "%s%s %zu (%zu CPU)", c ? ", " : "", cloud_names[c], im->st.offers[c],
                im->st.cpu_offers[c]);
    fprintf(fp, ")\n");
    report_drops(fp, &im->st);
    report_fixes(fp, &im->an);
    if (im->st.unannotated)
        fprintf(fp, "offers with no instance_types.csv row (interconnect unknown): %zu\n",
                im->st.unannotated);
}

/* ---- entry points ---- */

static int import_all(struct import *im, const char *src_dir, struct err *e)
{
    struct recs alive = {0};
    struct stat st;
    size_t i;
    int found = 0, rc;

    if (stat(src_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(e, ST_EIO, "%s: cannot open directory: %s", src_dir,
                       errno ? strerror(errno) : "not a directory");
    for (i = 0; i < sizeof(read_order) / sizeof(read_order[0]); i++) {
        rc = import_cloud(im, src_dir, read_order[i], e);
        if (rc < 0)
            return rc;
        found |= rc == 0;
    }
    if (!found)
        return err_set(e, ST_EINVAL,
                       "%s: no SkyPilot catalog here (expected <cloud>/vms.csv or "
                       "<cloud>/vms-*.csv for gcp, azure, oci, aws, lambda or nebius)",
                       src_dir);
    dedupe(im, &im->offers, cmp_offer); /* a safety net: normally finds nothing */
    recs_take_alive(&alive, &im->offers);
    im->offers = alive;
    if (im->offers.n > 0) /* v is NULL when no offer survived */
        qsort(im->offers.v, im->offers.n, sizeof(*im->offers.v), cmp_final);
    for (i = 0; i < im->offers.n; i++) {
        im->st.offers[im->offers.v[i].cloud]++;
        im->st.cpu_offers[im->offers.v[i].cloud] += *im->offers.v[i].acc == '\0';
    }
    return 0;
}

int catalog_import_skypilot_stats(const char *src_dir, const char *out_dir,
                                  const char *annot_dir, FILE *report_fp,
                                  struct import_stats *st, struct err *e)
{
    struct import im;
    size_t i;
    int rc;

    memset(&im, 0, sizeof(im));
    im.report = report_fp;
    rc = annot_load(&im.an, annot_dir, e);
    if (rc == 0)
        rc = import_all(&im, src_dir, e);
    if (rc == 0)
        rc = write_offers(&im, out_dir, e);
    if (rc == 0)
        write_report(&im, out_dir);
    if (rc == 0 && st)
        *st = im.st;
    recs_free(&im.offers);
    for (i = 0; i < im.nfiles; i++)
        free(im.files[i].path);
    free(im.files);
    annot_free(&im.an);
    return rc;
}

int catalog_import_skypilot(const char *src_dir, const char *out_dir,
                            const char *annot_dir, FILE *report_fp, struct err *e)
{
    return catalog_import_skypilot_stats(src_dir, out_dir, annot_dir, report_fp, NULL, e);
}
