/*
 * fuzz_siminput.c - libFuzzer harness for the two loaders of `stratus
 * simulate` inputs that are not traces (src/sim/sim.c): the --events faults
 * file (sim_load_events) and the --fleet file (sim_load_fleet).
 *
 * A small catalog and a small workload are loaded once.  The first input
 * byte picks the loader: 0 events against the workload, 1 events against an
 * empty workload (no preempt-job can resolve), 2-3 fleet.  The rest is
 * written to a private file, which those loaders take as a path.  Every
 * outcome must be rows or an error with a message, never a crash, a leak or
 * undefined behaviour; and the rows must say what the file says: the file is
 * read a second time with the CSV reader and each row checked against it
 * (events: in time order, a preempt-job names a row 1..njobs that is the
 * field's job_id or its number, a location row's arg is the whole field and
 * reads as the sim driver reads it; fleet: each offer has the counts of the
 * first row whose globs match it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcat.h"
#include "sim/sim.h"
#include "sim/trace.h"
#include "util/csv.h"
#include "util/strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Job ids that read as numbers of other rows ("7", "2"): a preempt-job arg
 * is a job_id first, a row number only when no job_id is that text. */
static const char workload[] =
    "submit_s,job_id,team,kind,accelerator,gpus,duration_s\n"
    "0,a,t,batch,H100,8,3600\n10,\"b,c\",t,train,H100,16,7200\n"
    "20,7,t,infer,A100,1,600\n30,2,t,batch,H100|A100,8,60\n";

static struct catalog *cat;
static struct trace work, nowork;
static char path[128];

static void setup(void)
{
    struct err e;

    fz_mkdir("siminput", NULL);
    cat = fz_small_catalog();
    trace_init(&work);
    trace_init(&nowork);
    if (trace_load_jobs_mem(&work, "work.csv", workload, strlen(workload), &e) != 0)
        abort();
    snprintf(path, sizeof(path), "%s/in.csv", fz_dir);
}

/* Open the input again with the CSV reader, bound to cols. */
static void reread(struct csv *c, const struct csv_col *cols, size_t ncols)
{
    struct err e;

    if (csv_open(c, path, 0, &e) != 0 || csv_bind(c, cols, ncols, &e) != 0)
        abort(); /* the loader read this file */
}

/* Whether some offer is at loc (cloud/region[/zone]). */
static int located(const char *loc)
{
    size_t i;

    for (i = 0; i < catalog_noffers(cat); i++)
        if (catalog_offer_at(catalog_offer(cat, i), loc))
            return 1;
    return 0;
}

/* A preempt-job row: arg is a row 1..njobs, and the field named that row
 * by its job_id, or was that row's number (then written plainly) and no
 * job's id. */
static void check_job(const struct trace *w, const struct sim_event *ev,
                      const char *field)
{
    char *end;
    long long row = strtoll(ev->arg, &end, 10), asked;
    char canon[32];
    size_t i;

    if (end == ev->arg || *end != '\0' || row < 1 || (size_t)row > w->njobs)
        abort();
    if (strcmp(w->jobs[row - 1].id, field) == 0)
        return;
    for (i = 0; i < w->njobs; i++)
        if (strcmp(w->jobs[i].id, field) == 0)
            abort(); /* a job_id that was not used */
    asked = strtoll(field, &end, 10);
    if (end == field || *end != '\0' || asked != row)
        abort();
    snprintf(canon, sizeof(canon), "%lld", row);
    if (strcmp(ev->arg, canon) != 0)
        abort(); /* rewritten to the row, as a job_id is */
}

/* A location row: the arg is the field, whole, as the sim driver reads it
 * (src/driver/sim.c: sim_inject): preempt-location matches offers with the
 * whole arg; stockout reads a location and, if there is more, SECONDS, a
 * number of seconds that is not negative and is all the rest. */
static void check_location(const struct sim_event *ev, const char *field)
{
    char loc[160];
    double secs;
    int k = 0;

    if (strcmp(ev->arg, field) != 0)
        abort(); /* the row is not what the file says */
    if (strcmp(ev->kind, "preempt-location") == 0) {
        if (!located(ev->arg))
            abort();
        return;
    }
    if (strcmp(ev->kind, "stockout") != 0 || sscanf(ev->arg, "%159s%n", loc, &k) != 1 ||
        !located(loc))
        abort();
    if (ev->arg[k] != '\0' &&
        (ev->arg[k] != ' ' || str_to_double(ev->arg + k + 1, &secs) != 0 || secs < 0))
        abort();
}

static void check_events(const struct trace *w, const struct sim_event *v, size_t n)
{
    static const struct csv_col cols[] = {{"time_s", 1}, {"kind", 1}, {"arg", 1}};
    struct csv c;
    struct err e;
    double t;
    size_t i;

    reread(&c, cols, 3);
    for (i = 0; i < n; i++) {
        if (csv_next(&c, &e) != 1 || v[i].path != path || v[i].line != c.line ||
            str_to_double(csv_get(&c, 0), &t) != 0 || t != v[i].time_s || !(t >= 0) ||
            (i > 0 && t < v[i - 1].time_s) || strcmp(v[i].kind, csv_get(&c, 1)) != 0)
            abort();
        if (strcmp(v[i].kind, "preempt-job") == 0)
            check_job(w, &v[i], csv_get(&c, 2));
        else
            check_location(&v[i], csv_get(&c, 2));
    }
    if (csv_next(&c, &e) != 0)
        abort(); /* a row the loader did not return */
    csv_close(&c);
}

static void fuzz_events(const struct trace *w)
{
    struct sim_event *v = NULL;
    size_t n = 0;
    struct err e;

    err_clear(&e);
    if (sim_load_events(path, cat, w, &v, &n, &e) != 0) {
        if (e.msg[0] == '\0' || v != NULL)
            abort(); /* every error says what is wrong, and hands back nothing */
        return;
    }
    check_events(w, v, n);
    free(v);
}

/* Does the fleet row's location glob match offer o, as the loader's doc says
 * (cloud/region/zone or cloud/region)? */
static int row_matches(const struct csv *c, const struct offer *o)
{
    char loc[256];

    if (!str_glob(csv_get(c, 1), o->instance_type))
        return 0;
    snprintf(loc, sizeof(loc), "%s/%s/%s", o->cloud, o->region, o->zone);
    if (str_glob(csv_get(c, 0), loc))
        return 1;
    snprintf(loc, sizeof(loc), "%s/%s", o->cloud, o->region);
    return str_glob(csv_get(c, 0), loc);
}

/* Each offer has the counts of the first row matching it (0 if none does),
 * and every row matches some offer. */
static void check_fleet(const long *od, const long *spot)
{
    static const struct csv_col cols[] = {
        {"location", 1}, {"instance_type", 1}, {"nodes", 1}, {"spot_nodes", 0}};
    size_t i, no = catalog_noffers(cat);
    long want_od[16] = {0}, want_spot[16] = {0}, nodes, snodes;
    char set[16] = {0};
    struct csv c;
    struct err e;
    int hit;

    if (no > 16)
        abort();
    reread(&c, cols, 4);
    while (csv_next(&c, &e) == 1) {
        if (str_to_long(csv_get(&c, 2), 0, 100000000, &nodes) != 0)
            abort();
        snodes = 0;
        if (*csv_get(&c, 3) && str_to_long(csv_get(&c, 3), 0, 100000000, &snodes) != 0)
            abort();
        for (i = 0, hit = 0; i < no; i++) {
            if (!row_matches(&c, catalog_offer(cat, i)))
                continue;
            hit = 1;
            if (!set[i]) {
                set[i] = 1;
                want_od[i] = nodes;
                want_spot[i] = snodes;
            }
        }
        if (!hit)
            abort();
    }
    csv_close(&c);
    for (i = 0; i < no; i++)
        if (od[i] != want_od[i] || spot[i] != want_spot[i])
            abort();
}

static void fuzz_fleet(void)
{
    long *od = NULL, *spot = NULL;
    struct err e;

    err_clear(&e);
    if (sim_load_fleet(cat, path, &od, &spot, &e) != 0) {
        if (e.msg[0] == '\0' || od != NULL || spot != NULL)
            abort();
        return;
    }
    check_fleet(od, spot);
    free(od);
    free(spot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int pick;

    if (size == 0)
        return 0;
    if (cat == NULL)
        setup();
    pick = data[0] % 4;
    fz_put("in.csv", data + 1, size - 1);
    if (pick < 2)
        fuzz_events(pick == 0 ? &work : &nowork);
    else
        fuzz_fleet();
    return 0;
}
