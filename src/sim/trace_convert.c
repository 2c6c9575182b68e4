/*
 * trace_convert.c - workload converters: the Microsoft ITP (ElasticFlow)
 * job trace and the Alibaba openb pod list, into the workload CSV (trace.h).
 *
 * Layout: the seeded draws; the assignment rules for the fields the sources
 * lack; the workload writer; the ITP reader (one file, a directory, several
 * files merged by submit time); the Alibaba reader.
 *
 * The rules are documented, with their numbers, in docs/traces.md; keep the
 * two in step.  Every random field is drawn from a hash of (seed, job id,
 * field), not from a stream, so a job's assignment does not depend on which
 * other jobs or files are converted with it, and changing one rule does not
 * shift the others.
 */
#include "trace.h"
#include "trace_int.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../spec/spec.h"
#include "../util/csv.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* ---- seeded draws ---- */

enum draw_field {
    DRAW_DEADLINE,
    DRAW_DEADLINE_FACTOR,
    DRAW_TEAM,
    DRAW_DATA_LOC,
    DRAW_DATA_GB
};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL; /* splitmix64's finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}


/* A uniform number in [0, 1) fixed by (seed, job id, field). */
static double draw(uint64_t seed, const char *id, enum draw_field f)
{
    uint64_t x =
        mix64(seed ^ mix64(str_hash(STR_HASH_INIT, id) + 0x632be59bd9b4e019ULL * (uint64_t)(f + 1)));

    return (double)(x >> 11) * 0x1p-53;
}

/* ---- assignment rules (docs/traces.md, "Assignment rules") ---- */

#define TRAIN_MIN_GPUS 2         /* rule 2: train = multi-GPU ... */
#define TRAIN_MIN_S (4 * 3600.0) /* ... and at least 4 h long */
#define H100_MIN_GPUS 8          /* rule 1: 8+ GPUs -> H100, else A100-80GB */
#define DEADLINE_SHARE 0.30      /* rule 3: share of batch jobs with a deadline */
#define TEN_YEARS_S (10.0 * 366 * 86400) /* the most a workload row takes */
#define DEADLINE_LO 1.5          /* deadline = duration x U(LO, HI) */
#define DEADLINE_HI 4.0
#define CKPT_MIN_S 3600.0   /* rule 4: jobs longer than this checkpoint ... */
#define CKPT_EVERY_S 1800.0 /* ... every 30 minutes */

struct weighted {
    const char *name;
    double w; /* weights of a table sum to 1 */
};

static const struct weighted teams[] = {
    {"research", 0.40}, {"product", 0.30}, {"platform", 0.15}, {"eval", 0.15}};
static const struct weighted data_locs[] = {{"azure/eastus", 0.45},
                                            {"gcp/us-central1", 0.25},
                                            {"oci/us-ashburn-1", 0.15},
                                            {"aws/us-east-1", 0.15}};

static const char *pick(const struct weighted *t, size_t n, double u)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (u < t[i].w)
            return t[i].name;
        u -= t[i].w;
    }
    return t[n - 1].name;
}

/* Log-uniform in [lo, hi], rounded to 0.1. */
static double log_uniform(double lo, double hi, double u)
{
    return round(lo * pow(hi / lo, u) * 10) / 10;
}

/* One job as read from a source, before assignment. */
struct src_job {
    double submit_s, duration_s;
    const char *id; /* interned in the converter's pool */
    int gpus;
    int kind;       /* -1 = by rule 2 */
    uint32_t order; /* position in the input, for a stable merge */
};

/* The workload row of a source job: every rule applied. */
struct out_job {
    const char *team, *kind, *accelerator, *data_location;
    double deadline_s, checkpoint_s, data_gb;
};

static void assign(const struct src_job *s, uint64_t seed, struct out_job *o,
                   struct trace_tally *t)
{
    int kind = s->kind;

    if (kind < 0)
        kind = s->gpus >= TRAIN_MIN_GPUS && s->duration_s >= TRAIN_MIN_S
                   ? SPEC_KIND_TRAIN
                   : SPEC_KIND_BATCH;
    static const char *const kind_notes[SPEC_KIND__N] = {
        "assigned kind train", "assigned kind batch", "assigned kind infer"};

    o->kind = spec_kind_name((enum spec_kind)kind);
    tally_add(t, kind_notes[kind], 1);
    o->accelerator = s->gpus >= H100_MIN_GPUS ? "H100" : "A100-80GB";
    tally_add(t,
              s->gpus >= H100_MIN_GPUS ? "assigned accelerator H100 (8+ GPUs)"
                                       : "assigned accelerator A100-80GB (1-7 GPUs)",
              1);
    o->deadline_s = 0;
    if (kind == SPEC_KIND_BATCH && draw(seed, s->id, DRAW_DEADLINE) < DEADLINE_SHARE) {
        double f = DEADLINE_LO +
                   (DEADLINE_HI - DEADLINE_LO) * draw(seed, s->id, DRAW_DEADLINE_FACTOR);

        o->deadline_s = round(s->duration_s * f);
        tally_add(t, "assigned a deadline (batch)", 1);
    }
    o->checkpoint_s =
        kind != SPEC_KIND_INFER && s->duration_s > CKPT_MIN_S ? CKPT_EVERY_S : 0;
    o->team = pick(teams, sizeof(teams) / sizeof(teams[0]), draw(seed, s->id, DRAW_TEAM));
    o->data_location = pick(data_locs, sizeof(data_locs) / sizeof(data_locs[0]),
                            draw(seed, s->id, DRAW_DATA_LOC));
    if (kind == SPEC_KIND_TRAIN)
        o->data_gb = log_uniform(100, 2000, draw(seed, s->id, DRAW_DATA_GB));
    else if (kind == SPEC_KIND_INFER)
        o->data_gb = log_uniform(10, 200, draw(seed, s->id, DRAW_DATA_GB));
    else
        o->data_gb = log_uniform(1, 200, draw(seed, s->id, DRAW_DATA_GB));
}

/* ---- the workload writer ---- */

static const char workload_header[] =
    "submit_s,job_id,team,kind,accelerator,gpus,duration_s,"
    "deadline_s,checkpoint_s,data_location,data_gb\n";

/* Write an id as a CSV field, quoted when it must be. */
static void put_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_job(FILE *out, const struct src_job *s, const struct out_job *o)
{
    trace_put_num(out, s->submit_s);
    fputc(',', out);
    put_field(out, s->id);
    fprintf(out, ",%s,%s,%s,%d,", o->team, o->kind, o->accelerator, s->gpus);
    trace_put_num(out, s->duration_s);
    fputc(',', out);
    if (o->deadline_s > 0)
        trace_put_num(out, o->deadline_s);
    fputc(',', out);
    if (o->checkpoint_s > 0)
        trace_put_num(out, o->checkpoint_s);
    fprintf(out, ",%s,", o->data_location);
    trace_put_num(out, o->data_gb);
    fputc('\n', out);
}

/* A list of source jobs being collected. */
struct src_list {
    struct strpool ids;
    struct src_job *v;
    size_t n, cap;
};

static int cmp_src(const void *a, const void *b)
{
    const struct src_job *x = a, *y = b;

    if (x->submit_s != y->submit_s)
        return x->submit_s < y->submit_s ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by submit time (ties: input order), assign and write every job. */
static int write_jobs(struct src_list *l, uint64_t seed, FILE *out, struct trace_tally *t,
                      struct err *e)
{
    size_t i;

    if (l->n > 0)
        qsort(l->v, l->n, sizeof(*l->v), cmp_src);
    fputs(workload_header, out);
    for (i = 0; i < l->n; i++) {
        struct out_job o;

        assign(&l->v[i], seed, &o, t);
        put_job(out, &l->v[i], &o);
    }
    if (ferror(out))
        return err_set(e, ST_EIO, "cannot write the workload: output error");
    return 0;
}

/* Keep a job unless its id was seen already (then count the drop). */
static void keep_job(struct src_list *l, struct trace_tally *t, struct src_job *j,
                     const char *id)
{
    if (strpool_find(&l->ids, id) != NULL) {
        tally_add(t, "job id seen before (duplicate)", 0);
        return;
    }
    j->id = strpool_intern(&l->ids, id);
    j->order = (uint32_t)l->n;
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = *j;
    t->kept++;
}

/* An id field: non-empty, bounded, no control characters. */
static int src_id(const struct csv *c, size_t col, const char *name, const char **out,
                  struct err *e)
{
    const char *s = csv_get(c, col), *p;

    if (*s == '\0' || strlen(s) >= TRACE_STR_MAX)
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column '%s' must be 1 to %d bytes", name, TRACE_STR_MAX - 1);
    for (p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "column '%s' has a control character", name);
    *out = s;
    return 0;
}

/* ---- Microsoft ITP / ElasticFlow ---- */

enum { ITP_ID, ITP_SUBMIT, ITP_DUR, ITP_GPUS, ITP__N };

static const struct csv_col itp_cols[ITP__N] = {
    {"job_id", 1}, {"submission_time", 1}, {"duration", 1}, {"num_gpu", 1}};

static int itp_row(const struct csv *c, struct src_list *l, struct trace_tally *t,
                   struct err *e)
{
    struct src_job j;
    const char *id;
    long gpus;
    int rc;

    memset(&j, 0, sizeof(j));
    j.kind = -1;
    if ((rc = src_id(c, ITP_ID, "job_id", &id, e)) != 0 ||
        (rc = csv_double(c, ITP_SUBMIT, "submission_time", NULL, &j.submit_s, e)) != 0 ||
        (rc = csv_double(c, ITP_DUR, "duration", NULL, &j.duration_s, e)) != 0 ||
        (rc = csv_long(c, ITP_GPUS, "num_gpu", -1000000, 1000000, NULL, &gpus, e)) != 0)
        return rc;
    j.gpus = (int)gpus;
    if (j.submit_s < 0)
        tally_add(t, "negative submission_time", 0);
    else if (j.duration_s <= 0)
        tally_add(t, "duration zero or negative", 0);
    else if (j.duration_s > TEN_YEARS_S || j.submit_s > TEN_YEARS_S)
        tally_add(t, "duration or submission_time beyond ten years", 0);
    else if (j.gpus <= 0)
        tally_add(t, "num_gpu zero or negative", 0);
    else
        keep_job(l, t, &j, id);
    return 0;
}

static int itp_file(const char *path, struct src_list *l, struct trace_tally *t,
                    FILE *report, struct err *e)
{
    struct csv c;
    size_t read0 = t->read, kept0 = t->kept;
    int rc;

    if ((rc = csv_open(&c, path, 0, e)) != 0)
        return rc;
    if ((rc = csv_bind(&c, itp_cols, ITP__N, e)) == 0) {
        while ((rc = csv_next(&c, e)) > 0) {
            t->read++;
            if ((rc = itp_row(&c, l, t, e)) != 0)
                break;
        }
    }
    csv_close(&c);
    if (rc == 0 && report)
        fprintf(report, "itp: %s: %zu rows, %zu kept\n", path, t->read - read0,
                t->kept - kept0);
    return rc < 0 ? rc : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The *.csv files of a directory, sorted by name; caller frees each and the array. */
static int list_csv(const char *dir, char ***out, size_t *n, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (d == NULL)
        return err_set(e, ST_EIO, "%s: cannot open the directory", dir);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0)
            continue;
        *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
        (*out)[(*n)++] = xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (*n == 0)
        return err_set(e, ST_EINVAL, "%s: no .csv file in the directory", dir);
    qsort(*out, *n, sizeof(**out), cmp_str);
    return 0;
}

/* One input: a file, or a directory standing for its *.csv files. */
static int itp_input(const char *path, struct src_list *l, struct trace_tally *t,
                     FILE *report, struct err *e)
{
    struct stat st;
    char **files;
    size_t n, i;
    int rc;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return itp_file(path, l, t, report, e);
    rc = list_csv(path, &files, &n, e);
    for (i = 0; i < n; i++) {
        if (rc == 0)
            rc = itp_file(files[i], l, t, report, e);
        free(files[i]);
    }
    free(files);
    return rc;
}

int trace_convert_itp_files(const char *const *in_csv, size_t n, FILE *out, uint64_t seed,
                            FILE *report, struct err *e)
{
    struct src_list l;
    struct trace_tally t;
    size_t i;
    int rc = 0;

    memset(&l, 0, sizeof(l));
    strpool_init(&l.ids);
    tally_init(&t, "itp");
    for (i = 0; i < n && rc == 0; i++)
        rc = itp_input(in_csv[i], &l, &t, report, e);
    if (rc == 0)
        rc = write_jobs(&l, seed, out, &t, e);
    if (rc == 0)
        tally_print(&t, report);
    free(l.v);
    strpool_free(&l.ids);
    return rc;
}

int trace_convert_itp(const char *in_csv, FILE *out, uint64_t seed, FILE *report,
                      struct err *e)
{
    return trace_convert_itp_files(&in_csv, 1, out, seed, report, e);
}

/* ---- Alibaba openb pod list ---- */

enum {
    AB_NAME,
    AB_CPU,
    AB_MEM,
    AB_GPUS,
    AB_MILLI,
    AB_SPEC,
    AB_QOS,
    AB_PHASE,
    AB_CREATE,
    AB_DELETE,
    AB_SCHED,
    AB__N
};

static const struct csv_col ab_cols[AB__N] = {
    {"name", 1},          {"cpu_milli", 0},      {"memory_mib", 0},
    {"num_gpu", 1},       {"gpu_milli", 1},      {"gpu_spec", 0},
    {"qos", 1},           {"pod_phase", 1},      {"creation_time", 1},
    {"deletion_time", 1}, {"scheduled_time", 1},
};

/* Times of a pod: created, scheduled (NAN when never), deleted. */
static int ab_times(const struct csv *c, double *created, double *sched, double *deleted,
                    struct err *e)
{
    static const double never = NAN;
    int rc;

    if ((rc = csv_double(c, AB_CREATE, "creation_time", NULL, created, e)) != 0 ||
        (rc = csv_double(c, AB_SCHED, "scheduled_time", &never, sched, e)) != 0 ||
        (rc = csv_double(c, AB_DELETE, "deletion_time", &never, deleted, e)) != 0)
        return rc;
    return 0;
}

/* The reason a pod is dropped, or NULL to keep it. */
static const char *ab_drop(const struct csv *c, long gpus, double created, double sched,
                           double deleted)
{
    if (gpus == 0)
        return "CPU-only pod (num_gpu 0)";
    if (created < 0)
        return "negative creation_time";
    if (isnan(sched) || strcmp(csv_get(c, AB_PHASE), "Pending") == 0)
        return "never scheduled (Pending, no scheduled_time)";
    if (isnan(deleted))
        return "no deletion_time";
    if (deleted - sched <= 0)
        return "ran zero seconds (deletion_time <= scheduled_time)";
    return NULL;
}

static int ab_row(const struct csv *c, struct src_list *l, struct trace_tally *t,
                  struct err *e)
{
    struct src_job j;
    const char *id, *why;
    double created, sched, deleted;
    long gpus, milli;
    int rc;

    if ((rc = src_id(c, AB_NAME, "name", &id, e)) != 0 ||
        (rc = csv_long(c, AB_GPUS, "num_gpu", 0, 1000000, NULL, &gpus, e)) != 0 ||
        (rc = csv_long(c, AB_MILLI, "gpu_milli", 0, 1000, NULL, &milli, e)) != 0 ||
        (rc = ab_times(c, &created, &sched, &deleted, e)) != 0)
        return rc;
    if ((why = ab_drop(c, gpus, created, sched, deleted)) != NULL) {
        tally_add(t, why, 0);
        return 0;
    }
    memset(&j, 0, sizeof(j));
    j.submit_s = created;
    j.duration_s = deleted - sched;
    j.gpus = (int)gpus;
    j.kind = strcmp(csv_get(c, AB_QOS), "LS") == 0 ? SPEC_KIND_INFER : -1;
    if (gpus == 1 && milli < 1000)
        tally_add(t, "fractional GPU (gpu_milli < 1000) rounded up to 1 GPU", 1);
    if (strcmp(csv_get(c, AB_PHASE), "Failed") == 0)
        tally_add(t, "final phase Failed (kept: it held its GPUs until deletion)", 1);
    else if (strcmp(csv_get(c, AB_PHASE), "Running") == 0)
        tally_add(t, "final phase Running (kept: deletion_time taken as its end)", 1);
    keep_job(l, t, &j, id);
    return 0;
}

int trace_convert_alibaba(const char *in_csv, FILE *out, uint64_t seed, FILE *report,
                          struct err *e)
{
    struct src_list l;
    struct trace_tally t;
    struct csv c;
    int rc;

    memset(&l, 0, sizeof(l));
    strpool_init(&l.ids);
    tally_init(&t, "alibaba");
    if ((rc = csv_open(&c, in_csv, 0, e)) != 0)
        return rc;
    if ((rc = csv_bind(&c, ab_cols, AB__N, e)) == 0) {
        while ((rc = csv_next(&c, e)) > 0) {
            t.read++;
            if ((rc = ab_row(&c, &l, &t, e)) != 0)
                break;
        }
    }
    csv_close(&c);
    if (rc == 0)
        rc = write_jobs(&l, seed, out, &t, e);
    if (rc == 0)
        tally_print(&t, report);
    free(l.v);
    strpool_free(&l.ids);
    return rc < 0 ? rc : 0;
}
