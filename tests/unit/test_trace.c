/*
 * test_trace.c - the simulator's trace files and converters (src/sim/trace*.c)
 * and the spend chart (src/sim/chart.c).
 *
 * Loaders: good fixtures load with the right values; every bad fixture under
 * tests/data/trace/bad is refused with its exact file:line message (a table);
 * a failed load leaves the trace as it was; a file larger than one read
 * chunk keeps its line numbers.  Converters: each turns a small fixture in
 * the source's own format into the hand-checked expected file, byte for
 * byte; a seed gives the same bytes again and another seed other bytes.
 * SkyPilot spot traces read 1 as "spot available" (not 50/50 fixtures, and
 * known windows of the real files when ../shared/data is there, else
 * skipped).  Chart: well-formed SVG with the legend, panel titles and totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "sim/chart.h"
#include "sim/trace.h"
#include "spec/spec.h"
#include "testutil.h"
#include "util/fsutil.h"

#define TD TEST_DATA "/trace"

/* ---- helpers ---- */

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    struct err e;

    if (fs_read_file(path, 1 << 24, &s, &n, &e) != 0)
        fail_msg("%s", e.msg);
    return s;
}

/* Output of a converter, captured in memory. */
struct capture {
    char *text, *report;
    size_t n, nreport;
    FILE *out, *rep;
};

static void cap_open(struct capture *c)
{
    memset(c, 0, sizeof(*c));
    c->out = open_memstream(&c->text, &c->n);
    c->rep = open_memstream(&c->report, &c->nreport);
    assert_non_null(c->out);
    assert_non_null(c->rep);
}

static void cap_close(struct capture *c)
{
    fclose(c->out);
    fclose(c->rep);
}

static void cap_free(struct capture *c)
{
    free(c->text);
    free(c->report);
}

static struct catalog *mini_catalog(void)
{
    struct catalog *cat = NULL;
    struct err e;

    if (catalog_load(&cat, TEST_DATA "/catalog-mini", &e) != 0)
        fail_msg("%s", e.msg);
    return cat;
}

/* ---- loaders: good files ---- */

static void test_load_workload(void **state)
{
    struct trace t;
    struct err e;
    const struct trace_job *j;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_jobs(&t, TD "/workload.csv", &e), 0);
    assert_int_equal(t.njobs, 3);
    j = &t.jobs[0];
    assert_string_equal(j->id, "train-1");
    assert_string_equal(j->team, "research");
    assert_int_equal(j->kind, SPEC_KIND_TRAIN);
    assert_string_equal(j->accelerator, "H100");
    assert_int_equal(j->gpus, 64);
    assert_true(j->duration_s == 86400 && j->deadline_s == 0 && j->checkpoint_s == 1800);
    assert_string_equal(j->data_cloud, "azure");
    assert_string_equal(j->data_region, "eastus");
    assert_true(j->data_gb == 500);
    assert_int_equal(j->spot_ok, -1);
    assert_int_equal(j->priority, 2);
    j = &t.jobs[1];
    assert_string_equal(j->id, "batch,2"); /* quoted field */
    assert_string_equal(j->team, "");
    assert_string_equal(j->data_cloud, "");
    assert_true(j->deadline_s == 7200);
    assert_int_equal(j->spot_ok, 1);
    assert_int_equal(j->priority, 0);
    j = &t.jobs[2];
    assert_true(j->submit_s == 30.5);
    assert_int_equal(j->kind, SPEC_KIND_INFER);
    assert_int_equal(j->spot_ok, 0);
    assert_int_equal(j->priority, -1);
    /* strings are interned: equal strings, one pointer */
    assert_ptr_equal(t.jobs[0].data_cloud, strpool_find(&t.pool, "azure"));
    /* another file appends, with its columns in another order */
    assert_int_equal(trace_load_jobs(&t, TD "/workload-min.csv", &e), 0);
    assert_int_equal(t.njobs, 4);
    assert_string_equal(t.jobs[3].id, "w1");
    assert_true(t.jobs[3].submit_s == 100 && t.jobs[3].gpus == 2);
    trace_free(&t);
}

static void test_load_spot_prices(void **state)
{
    struct trace t;
    struct err e;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_spot(&t, TD "/spot.csv", &e), 0);
    assert_int_equal(t.nspot, 4);
    assert_string_equal(t.spot[0].cloud, "gcp");
    assert_string_equal(t.spot[0].zone, "us-central1-a");
    assert_int_equal(t.spot[0].available, 16);
    assert_string_equal(t.spot[1].zone, ""); /* region-wide */
    assert_int_equal(t.spot[1].available, -1);
    assert_int_equal(t.spot[1].preempted, 0);
    assert_int_equal(t.spot[2].preempted, 1);
    assert_int_equal(t.spot[3].available, 3);
    assert_int_equal(trace_load_prices(&t, TD "/prices.csv", &e), 0);
    assert_int_equal(t.nprices, 3);
    assert_true(t.prices[0].price_hour == 88.25 && t.prices[0].spot_price_hour == 30);
    assert_true(t.prices[1].price_hour == TRACE_PRICE_UNCHANGED);
    assert_true(t.prices[1].spot_price_hour == 27.5);
    assert_true(t.prices[2].spot_price_hour == TRACE_PRICE_NOT_SOLD);
    assert_string_equal(t.prices[2].zone, "US-ASHBURN-AD-1");
    trace_free(&t);
}

/* ---- loaders: bad files, exact messages ---- */

enum which { JOBS, SPOT, PRICES };

static const struct bad_case {
    enum which which;
    const char *file;
    const char *msg; /* after "<path>:" */
} bad_cases[] = {
    {JOBS, "w-unknown-column.csv", "1:39: unknown column 'gpu' (did you mean 'gpus'?)"},
    {JOBS, "w-missing-column.csv", "1: missing required column 'gpus'"},
    {JOBS, "w-empty.csv", "1: empty file: expected a header row"},
    {JOBS, "w-bad-number.csv",
     "3:18: column 'gpus': 'eight' is not a whole number in [1, 1000000]"},
    {JOBS, "w-negative-duration.csv", "2: column 'duration_s': -5 must be positive"},
    {JOBS, "w-zero-duration.csv", "2: column 'duration_s': 0 must be positive"},
    {JOBS, "w-nan.csv", "2:20: column 'duration_s': 'nan' is not a number"},
    {JOBS, "w-unknown-kind.csv",
     "2: column 'kind': 'trian' is not a kind; use train, batch or infer (did you mean "
     "'train'?)"},
    {JOBS, "w-bad-location.csv",
     "2: column 'data_location': 'azure-eastus' is not a location; write cloud/region "
     "(e.g. "
     "azure/eastus)"},
    {JOBS, "w-zone-location.csv",
     "2: column 'data_location': 'azure/eastus/1' is not a location; write cloud/region "
     "(e.g. "
     "azure/eastus)"},
    {JOBS, "w-time-backwards.csv",
     "4: column 'submit_s': 5 is earlier than 10 on line 2; rows must be in time order"},
    {JOBS, "w-duplicate-id.csv", "4: job_id 'a' appears twice (also on line 2)"},
    {JOBS, "w-deadline-short.csv",
     "2: deadline_s 1800 is shorter than duration_s 3600: the job could never meet it "
     "(with one accelerator; list a faster alternative, as 'A100-80GB|H100', for one "
     "that "
     "may)"},
    {JOBS, "w-data-without-location.csv",
     "2: data_gb is set but data_location is empty: say where the data is"},
    {JOBS, "w-bad-spot-ok.csv",
     "2: column 'spot_ok': 'maybe' is not 0 or 1 (or true/false, yes/no)"},
    {JOBS, "w-bad-accelerator.csv",
     "2: column 'accelerator': 'H 100' is not a name or names separated by '|' (each of "
     "letters, digits, '.', '_' and '-')"},
    {JOBS, "w-bad-alternatives.csv",
     "3: column 'accelerator': 'H100||A100-80GB' is not a name or names separated by '|' "
     "(each of letters, digits, '.', '_' and '-')"},
    {JOBS, "w-many-alternatives.csv",
     "2: column 'accelerator': 9 alternatives, at most 8"},
    {JOBS, "w-twice-alternative.csv",
     "2: column 'accelerator': 'H100' is named twice in 'H100|A100-80GB|h100': name each "
     "alternative once"},
    {JOBS, "w-bad-quote.csv", "2: text after a closing quote in field 2"},
    {SPOT, "s-both.csv", "2: set available_nodes or preempted, not both"},
    {SPOT, "s-neither.csv", "2: set one of available_nodes and preempted"},
    {SPOT, "s-preempted-2.csv",
     "2:23: column 'preempted': '2' is not a whole number in [0, 1]"},
    {SPOT, "s-bad-location.csv",
     "2: column 'location': 'gcp' is not a location; write cloud/region or "
     "cloud/region/zone "
     "(e.g. gcp/us-central1/us-central1-a)"},
    {SPOT, "s-too-deep.csv",
     "2: column 'location': 'gcp/us-central1/a/b' is not a location; write cloud/region "
     "or "
     "cloud/region/zone (e.g. gcp/us-central1/us-central1-a)"},
    {SPOT, "s-time-backwards.csv",
     "3: column 'time_s': 30 is earlier than 60 on line 2; rows must be in time order"},
    {SPOT, "s-no-state.csv",
     "1: missing column: a spot file needs available_nodes or preempted"},
    {SPOT, "s-negative-time.csv", "2: column 'time_s': -1 must be zero or more"},
    {PRICES, "p-negative.csv", "2: column 'price_hour': -1 must be zero or more"},
    {PRICES, "p-no-change.csv",
     "2: the row changes no price: set price_hour or spot_price_hour"},
    {PRICES, "p-bad-number.csv", "2:22: column 'price_hour': 'ten' is not a number"},
    {PRICES, "p-time-backwards.csv",
     "3: column 'time_s': 50 is earlier than 100 on line 2; rows must be in time order"},
};

static int load_which(struct trace *t, enum which w, const char *path, struct err *e)
{
    if (w == JOBS)
        return trace_load_jobs(t, path, e);
    if (w == SPOT)
        return trace_load_spot(t, path, e);
    return trace_load_prices(t, path, e);
}

static void test_bad_files(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char *path = xasprintf("%s/bad/%s", TD, c->file);
        char *want = xasprintf("%s:%s", path, c->msg);
        struct trace t;
        struct err e;

        trace_init(&t);
        err_clear(&e);
        if (load_which(&t, c->which, path, &e) == 0)
            fail_msg("%s loaded; expected: %s", c->file, want);
        if (strcmp(e.msg, want) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", c->file, e.msg, want);
        assert_true(e.code == ST_EINVAL || e.code == ST_EPARSE);
        assert_int_equal(t.njobs + t.nspot + t.nprices, 0);
        trace_free(&t);
        free(path);
        free(want);
    }
}

/* With alternatives a deadline shorter than duration_s (the first's run)
 * loads: a faster one may meet it. */
static void test_deadline_with_alternatives(void **state)
{
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/w.csv", dir);
    struct trace t;
    struct err e;

    (void)state;
    tu_write(dir, "w.csv",
             "submit_s,job_id,team,kind,accelerator,gpus,duration_s,deadline_s\n"
             "0,a,t,batch,A100-80GB|H100,8,36000,28800\n");
    trace_init(&t);
    err_clear(&e);
    assert_int_equal(load_which(&t, JOBS, path, &e), 0);
    assert_int_equal(t.njobs, 1);
    assert_true(t.jobs[0].deadline_s == 28800);
    trace_free(&t);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

static void test_missing_file(void **state)
{
    struct trace t;
    struct err e;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_jobs(&t, TD "/no-such.csv", &e), ST_EIO);
    assert_string_equal(e.msg, TD "/no-such.csv: cannot open: No such file or directory");
    trace_free(&t);
}

/* What a CSV file must not hide: a NUL byte (the rest of the file would be
 * lost), a row with more fields than the header (a value read as another
 * column's), a number past what the column takes; a byte-order mark is
 * skipped, and a directory is named as one. */
static void test_file_hygiene(void **state)
{
    static const char hdr[] = "submit_s,job_id,team,kind,accelerator,gpus,duration_s\n";
    static const char nul[] = "submit_s,job_id,team,kind,accelerator,gpus,duration_s\n"
                              "0,a,t,batch,H100,1,60\n\0001,b,t,batch,H100,1,60\n";
    char *bom = xasprintf("\xEF\xBB\xBF%s0,a,t,batch,H100,1,60\n", hdr);
    char *extra = xasprintf("%s0,a,t,batch,H100,1,60\n1,b,t,batch,H100,1,60,500\n", hdr);
    char *long_run = xasprintf("%s0,a,t,batch,H100,1,60\n0,b,t,batch,H100,1,1e9\n", hdr);
    char *late = xasprintf("%s4e8,a,t,batch,H100,1,60\n", hdr);
    struct trace t;
    struct err e;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_jobs_mem(&t, "bom.csv", bom, strlen(bom), &e), 0);
    assert_int_equal(t.njobs, 1);
    trace_free(&t);
    trace_init(&t);
    assert_int_equal(trace_load_jobs_mem(&t, "nul.csv", nul, sizeof(nul) - 1, &e), ST_EPARSE);
    assert_string_equal(e.msg, "nul.csv:3: a NUL byte: this is not a text file (a CSV file "
                               "was expected)");
    assert_int_equal(trace_load_jobs_mem(&t, "x.csv", extra, strlen(extra), &e), ST_EPARSE);
    assert_string_equal(e.msg, "x.csv:3: more fields than the header's 7 columns (a comma "
                               "too many, or a field with a comma that is not quoted)");
    assert_int_equal(trace_load_jobs_mem(&t, "l.csv", long_run, strlen(long_run), &e),
                     ST_EINVAL);
    assert_string_equal(e.msg, "l.csv:3: column 'duration_s': 1e9 is more than ten years: "
                               "check its unit (seconds)");
    assert_int_equal(trace_load_jobs_mem(&t, "s.csv", late, strlen(late), &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "s.csv:2: column 'submit_s': 4e8 is more than ten years"));
    assert_int_equal(trace_load_jobs(&t, TD, &e), ST_EIO);
    assert_string_equal(e.msg, TD ": is a directory, not a file");
    assert_int_equal(t.njobs, 0);
    trace_free(&t);
    free(bom);
    free(extra);
    free(long_run);
    free(late);
}

/* With a catalog, a row naming what it lacks is an error at its line: a
 * typo in an accelerator (a job that could never run), a data region, a
 * spot or price row's place or instance type (a row that would change
 * nothing). */
static void test_catalog_names(void **state)
{
    static const char hdr[] = "submit_s,job_id,team,kind,accelerator,gpus,duration_s,"
                              "data_location,data_gb\n";
    static const char acc[] = "submit_s,job_id,team,kind,accelerator,gpus,duration_s\n"
                              "0,a,t,batch,H100,8,60\n1,b,t,batch,H100|H10O,8,60\n";
    char *loc = xasprintf("%s0,a,t,batch,H100,8,60,azure/nowhere,5\n", hdr);
    static const char spot[] = "time_s,location,instance_type,available_nodes\n"
                               "0,azure/eastus,Standard_ND96isr_H100_v5,2\n"
                               "5,azure/eastus,Standard_FOO,2\n";
    static const char price[] = "time_s,location,instance_type,price_hour,spot_price_hour\n"
                                "0,azure/nowhere,Standard_ND96isr_H100_v5,5,\n";
    struct catalog *cat = mini_catalog();
    struct trace t;
    struct err e;

    (void)state;
    trace_init(&t);
    t.cat = cat;
    assert_int_equal(trace_load_jobs_mem(&t, "a.csv", acc, strlen(acc), &e), ST_EINVAL);
    assert_string_equal(e.msg, "a.csv:3: column 'accelerator': no offer of the catalog has "
                               "'H10O' (did you mean 'H100'?)");
    assert_int_equal(trace_load_jobs_mem(&t, "l.csv", loc, strlen(loc), &e), ST_EINVAL);
    assert_string_equal(e.msg,
                        "l.csv:2: column 'data_location': the catalog has no region "
                        "azure/nowhere");
    assert_int_equal(trace_load_spot_mem(&t, "s.csv", spot, strlen(spot), &e), ST_EINVAL);
    assert_string_equal(e.msg, "s.csv:3: column 'instance_type': no offer of the catalog is "
                               "a 'Standard_FOO'");
    assert_int_equal(trace_load_prices_mem(&t, "p.csv", price, strlen(price), &e), ST_EINVAL);
    assert_string_equal(e.msg, "p.csv:2: column 'location': the catalog has no region "
                               "azure/nowhere");
    assert_int_equal(t.njobs + t.nspot + t.nprices, 0);
    t.cat = NULL; /* without one, names are not checked */
    assert_int_equal(trace_load_jobs_mem(&t, "a.csv", acc, strlen(acc), &e), 0);
    trace_free(&t);
    catalog_free(cat);
    free(loc);
}

/* A failed load keeps what earlier loads added; ids stay unique across files
 * (and the ids of a failed file do not count). */
static void test_failed_load_keeps_trace(void **state)
{
    static const char hdr[] = "submit_s,job_id,team,kind,accelerator,gpus,duration_s\n";
    char *bad = xasprintf("%s0,x1,t,batch,H100,1,60\n1,train-1,t,bad,H100,1,60\n", hdr);
    char *dup = xasprintf("%s5,train-1,t,batch,H100,1,60\n", hdr);
    char *again = xasprintf("%s0,x1,t,batch,H100,1,60\n", hdr);
    struct trace t;
    struct err e;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_jobs(&t, TD "/workload.csv", &e), 0);
    assert_int_equal(trace_load_jobs_mem(&t, "bad.csv", bad, strlen(bad), &e), ST_EINVAL);
    assert_string_equal(e.msg,
                        "bad.csv:3: column 'kind': 'bad' is not a kind; use train, "
                        "batch or infer");
    assert_int_equal(t.njobs, 3);
    assert_int_equal(trace_load_jobs_mem(&t, "dup.csv", dup, strlen(dup), &e), ST_EINVAL);
    assert_string_equal(e.msg, "dup.csv:2: job_id 'train-1' was already loaded from an "
                               "earlier file");
    /* x1 was read from the failed file only: it is new here */
    assert_int_equal(trace_load_jobs_mem(&t, "again.csv", again, strlen(again), &e), 0);
    assert_int_equal(t.njobs, 4);
    trace_free(&t);
    free(bad);
    free(dup);
    free(again);
}

/* A file larger than the loader's read chunk (4 MB): rows that straddle a
 * chunk edge (quoted fields with commas, one with a newline) still load, and
 * messages keep the right line numbers. */
static void test_large_file_lines(void **state)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/big.csv", dir);
    FILE *fp = fopen(path, "w");
    struct trace t;
    struct err e;
    size_t i, rows = 120000, bad_line;
    char *want;

    (void)state;
    assert_non_null(fp);
    fputs("submit_s,job_id,team,kind,accelerator,gpus,duration_s\n", fp);
    for (i = 0; i < rows; i++) /* ~50 bytes a row: 6 MB */
        fprintf(fp, "%zu,\"job,%08zu\",team-%zu,batch,A100-80GB,1,3600\n", i, i, i % 7);
    fclose(fp);
    trace_init(&t);
    assert_int_equal(trace_load_jobs(&t, path, &e), 0);
    assert_int_equal(t.njobs, rows);
    assert_string_equal(t.jobs[rows - 1].id, "job,00119999");
    trace_free(&t);
    /* now a bad row at the very end, after a quoted newline far from it */
    fp = fopen(path, "a");
    fprintf(fp, "%zu,\"line\nbreak\",t,batch,A100-80GB,1,60\n", rows);
    fclose(fp);
    bad_line = rows + 2; /* header + rows, then the bad row starts */
    want = xasprintf("%s:%zu: column 'job_id': 'line\nbreak' has a character that is not "
                     "allowed here (use letters, digits, '.', '_' and '-')",
                     path, bad_line);
    trace_init(&t);
    assert_int_equal(trace_load_jobs(&t, path, &e), ST_EINVAL);
    assert_string_equal(e.msg, want);
    assert_int_equal(t.njobs, 0);
    trace_free(&t);
    free(want);
    unlink(path);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

static void test_sort_is_stable(void **state)
{
    static const char a[] = "time_s,location,instance_type,available_nodes\n"
                            "0,gcp/r,x,1\n10,gcp/r,x,2\n20,gcp/r,x,3\n";
    static const char b[] = "time_s,location,instance_type,available_nodes\n"
                            "5,gcp/r,y,4\n10,gcp/r,y,5\n";
    static const long want[] = {1, 4, 2, 5, 3};
    struct trace t;
    struct err e;
    size_t i;

    (void)state;
    trace_init(&t);
    assert_int_equal(trace_load_spot_mem(&t, "a", a, sizeof(a) - 1, &e), 0);
    assert_int_equal(trace_load_spot_mem(&t, "b", b, sizeof(b) - 1, &e), 0);
    trace_sort(&t);
    for (i = 0; i < 5; i++)
        assert_int_equal(t.spot[i].available, want[i]);
    trace_free(&t);
}

/* Many rows from several files, in random time order across files: sorted,
 * and rows of equal time keep their load order. */
static void test_sort_many(void **state)
{
    struct buf b;
    struct trace t;
    struct err e;
    size_t f, i, n = 0;
    unsigned seed = 1;

    (void)state;
    trace_init(&t);
    for (f = 0; f < 3; f++) {
        double time = 0;

        buf_init(&b, 0);
        buf_puts(&b, "time_s,location,instance_type,available_nodes\n");
        for (i = 0; i < 400; i++) {
            seed = seed * 1103515245 + 12345;
            time += (seed >> 16) % 3; /* many equal times */
            buf_printf(&b, "%.0f,gcp/r,x,%zu\n", time, n++);
        }
        assert_int_equal(trace_load_spot_mem(&t, "f", buf_cstr(&b), b.len, &e), 0);
        buf_free(&b);
    }
    trace_sort(&t);
    assert_int_equal(t.nspot, 1200);
    for (i = 1; i < t.nspot; i++) {
        assert_true(t.spot[i - 1].time_s <= t.spot[i].time_s);
        if (t.spot[i - 1].time_s == t.spot[i].time_s)
            assert_true(t.spot[i - 1].available < t.spot[i].available);
    }
    trace_free(&t);
}

/* ---- converters ---- */

static void expect_file(const struct capture *c, const char *expected_path)
{
    char *want = slurp(expected_path);

    if (strcmp(c->text, want) != 0)
        fail_msg("output differs from %s:\n--- got\n%s--- want\n%s", expected_path,
                 c->text, want);
    free(want);
}

static void test_convert_itp(void **state)
{
    const char *const files[] = {TD "/itp/c1.csv", TD "/itp/c2.csv"};
    const char *const dir[] = {TD "/itp"};
    struct capture c, d, other;
    struct err e;

    (void)state;
    cap_open(&c);
    assert_int_equal(trace_convert_itp_files(files, 2, c.out, 7, c.rep, &e), 0);
    cap_close(&c);
    expect_file(&c, TD "/itp-seed7.csv");
    assert_non_null(strstr(c.report, "itp: 9 rows read, 6 kept, 3 dropped"));
    assert_non_null(strstr(c.report, "dropped        1  duration zero or negative"));
    assert_non_null(strstr(c.report, "dropped        1  num_gpu zero or negative"));
    assert_non_null(strstr(c.report, "dropped        1  job id seen before (duplicate)"));
    /* a folder stands for its .csv files in name order: the same bytes */
    cap_open(&d);
    assert_int_equal(trace_convert_itp_files(dir, 1, d.out, 7, NULL, &e), 0);
    cap_close(&d);
    assert_string_equal(d.text, c.text);
    /* another seed: other random fields, same jobs */
    cap_open(&other);
    assert_int_equal(trace_convert_itp(TD "/itp", other.out, 8, NULL, &e), 0);
    cap_close(&other);
    assert_string_not_equal(other.text, c.text);
    cap_free(&c);
    cap_free(&d);
    cap_free(&other);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_convert_itp_seeds(void **state)
{
    struct capture a, b, x;
    struct err e;

    (void)state;
    cap_open(&a);
    cap_open(&b);
    cap_open(&x);
    assert_int_equal(trace_convert_itp(TD "/itp", a.out, 12345, NULL, &e), 0);
    assert_int_equal(trace_convert_itp(TD "/itp", b.out, 12345, NULL, &e), 0);
    assert_int_equal(trace_convert_itp(TD "/itp", x.out, 12346, NULL, &e), 0);
    cap_close(&a);
    cap_close(&b);
    cap_close(&x);
    assert_string_equal(a.text, b.text);
    assert_string_not_equal(a.text, x.text);
    assert_int_equal(count_lines(a.text), count_lines(x.text));
    cap_free(&a);
    cap_free(&b);
    cap_free(&x);
}

static void test_convert_itp_errors(void **state)
{
    char *dir = tu_mkdtemp(), *bad = xasprintf("%s/bad.csv", dir);
    struct capture c;
    struct err e;
    char *want;

    (void)state;
    tu_write(dir, "bad.csv",
             "job_id,submission_time,duration,num_gpu\nj1,0,60,1\nj2,x,60,1\n");
    cap_open(&c);
    assert_int_equal(trace_convert_itp(bad, c.out, 1, NULL, &e), ST_EINVAL);
    want = xasprintf("%s:3:4: column 'submission_time': 'x' is not a number", bad);
    assert_string_equal(e.msg, want);
    free(want);
    tu_write(dir, "bad.csv", "job_id,submission_time,duration,num_gpus\n");
    assert_int_equal(trace_convert_itp(bad, c.out, 1, NULL, &e), ST_EPARSE);
    want = xasprintf("%s:1:33: unknown column 'num_gpus' (did you mean 'num_gpu'?)", bad);
    assert_string_equal(e.msg, want);
    free(want);
    cap_close(&c);
    cap_free(&c);
    unlink(bad);
    tu_rmdir(dir);
    free(bad);
    free(dir);
}

static void test_convert_alibaba(void **state)
{
    struct capture c, d;
    struct err e;

    (void)state;
    cap_open(&c);
    assert_int_equal(trace_convert_alibaba(TD "/alibaba/pods.csv", c.out, 7, c.rep, &e),
                     0);
    cap_close(&c);
    expect_file(&c, TD "/alibaba-seed7.csv");
    assert_non_null(strstr(c.report, "alibaba: 7 rows read, 4 kept, 3 dropped"));
    assert_non_null(strstr(c.report, "CPU-only pod (num_gpu 0)"));
    assert_non_null(strstr(c.report, "never scheduled (Pending, no scheduled_time)"));
    assert_non_null(strstr(c.report, "ran zero seconds"));
    assert_non_null(strstr(
        c.report, "note           1  fractional GPU (gpu_milli < 1000) rounded up"));
    cap_open(&d);
    assert_int_equal(trace_convert_alibaba(TD "/alibaba/pods.csv", d.out, 99, NULL, &e),
                     0);
    cap_close(&d);
    assert_string_not_equal(c.text, d.text);
    cap_free(&c);
    cap_free(&d);
}

static void test_convert_spot(void **state)
{
    struct catalog *cat = mini_catalog();
    struct trace_conv_opts o = {cat, NULL, 0};
    struct capture c, h;
    struct trace t;
    struct err e;

    (void)state;
    cap_open(&c);
    assert_int_equal(trace_convert_skypilot_spot_ex(TD "/spot", TD "/spot-mapping.csv",
                                                    &o, c.out, c.rep, &e),
                     0);
    cap_close(&c);
    expect_file(&c, TD "/spot-expected.csv");
    /* 1-node source: data [0,0,1,1,0,1] every 30 s, 1 = available, so it is
     * written as preempted = 1 - value */
    assert_non_null(strstr(c.text, "\n0,azure/westeurope,Standard_ND96isr_H100_v5,,1\n"
                                   "0,gcp/us-central1/us-central1-a,a3-highgpu-8g,0,\n"
                                   "60,azure/westeurope,Standard_ND96isr_H100_v5,,0\n"));
    assert_non_null(strstr(c.report, "1-node (1 = available), available 50.0%"));
    assert_non_null(strstr(c.report, "not in the mapping, ignored: "
                                     "availability/1-node/aws-z/zone-c_k80_8.json"));
    /* the output is a valid spot file */
    trace_init(&t);
    assert_int_equal(trace_load_spot_mem(&t, "out", c.text, c.n, &e), 0);
    assert_int_equal(t.nspot, 8);
    assert_int_equal(t.spot[2].preempted, 0);
    assert_int_equal(t.spot[2].available, -1);
    trace_free(&t);
    /* --horizon repeats the trace: 400 s of a 180 s trace */
    o.horizon_s = 400;
    cap_open(&h);
    assert_int_equal(trace_convert_skypilot_spot_ex(TD "/spot", TD "/spot-mapping.csv",
                                                    &o, h.out, NULL, &e),
                     0);
    cap_close(&h);
    assert_non_null(strstr(h.text, "\n150,azure/westeurope,Standard_ND96isr_H100_v5,,0\n"
                                   "180,azure/westeurope,Standard_ND96isr_H100_v5,,1\n"
                                   "240,azure/westeurope,Standard_ND96isr_H100_v5,,0\n"));
    assert_null(strstr(h.text, "\n600,"));
    cap_free(&c);
    cap_free(&h);
    catalog_free(cat);
}

/* ---- SkyPilot 1-node orientation: 1 = available ---- */

/* The `preempted` value in force at time `at` for instance type `type`
 * (-1 before its first row), as the simulator reads it: a row holds until
 * the next row of the same pair. */
static int preempted_at(const struct trace *t, const char *type, double at)
{
    int v = -1;
    size_t i;

    for (i = 0; i < t->nspot && t->spot[i].time_s <= at; i++)
        if (strcmp(t->spot[i].instance_type, type) == 0)
            v = t->spot[i].preempted;
    return v;
}

/* Share of [0, end) during which `type` has spot (preempted 0). */
static double available_share(const struct trace *t, const char *type, double end)
{
    double up = 0, since = -1;
    size_t i;

    for (i = 0; i < t->nspot; i++) {
        if (strcmp(t->spot[i].instance_type, type) != 0)
            continue;
        if (since >= 0)
            up += t->spot[i].time_s - since;
        since = t->spot[i].preempted ? -1 : t->spot[i].time_s;
    }
    if (since >= 0)
        up += end - since;
    return up / end;
}

/* Convert the files named by `rows` (mapping rows after the header) under
 * `in_dir`, without a catalog, and load the output into t. */
static void convert_rows(const char *in_dir, const char *rows, struct capture *c,
                         struct trace *t)
{
    char *dir = tu_mkdtemp(), *map = xasprintf("%s/map.csv", dir);
    char *text = xasprintf("trace_file,location,instance_type\n%s", rows);
    struct err e;

    tu_write(dir, "map.csv", text);
    cap_open(c);
    if (trace_convert_skypilot_spot(in_dir, map, c->out, c->rep, &e) != 0)
        fail_msg("%s", e.msg);
    cap_close(c);
    trace_init(t);
    if (trace_load_spot_mem(t, "out", c->text, c->n, &e) != 0)
        fail_msg("%s", e.msg);
    unlink(map);
    tu_rmdir(dir);
    free(text);
    free(map);
    free(dir);
}

/* Fixtures whose availability is not 50%, so that reading them upside down
 * cannot pass: [1,1,0] every 600 s (availability/) is available for 1200 s
 * of 1800; [0,0,1,1,0,1] every 30 s (preemption/) only from 60 to 120 s and
 * from 150 s on. */
static void test_convert_spot_orientation(void **state)
{
    struct capture c;
    struct trace t;

    (void)state;
    convert_rows(TD "/spot",
                 "availability/1-node/aws-z/zone-c_k80_8.json,gcp/r/r-a,x\n"
                 "preemption/1-node/aws-x/zone-a_v100_1.json,gcp/r/r-b,y\n",
                 &c, &t);
    assert_string_equal(c.text,
                        "time_s,location,instance_type,available_nodes,preempted\n"
                        "0,gcp/r/r-a,x,,0\n"
                        "0,gcp/r/r-b,y,,1\n"
                        "60,gcp/r/r-b,y,,0\n"
                        "120,gcp/r/r-b,y,,1\n"
                        "150,gcp/r/r-b,y,,0\n"
                        "1200,gcp/r/r-a,x,,1\n");
    assert_non_null(strstr(c.report,
                           "zone-c_k80_8.json -> gcp/r/r-a x: 3 ticks of 600 s "
                           "(0.0 days), 1-node (1 = available), available 66.7%"));
    assert_true(fabs(available_share(&t, "x", 1800) - 2.0 / 3) < 1e-12);
    assert_int_equal(preempted_at(&t, "x", 600), 0);
    assert_int_equal(preempted_at(&t, "x", 1500), 1);
    assert_int_equal(preempted_at(&t, "y", 30), 1);
    assert_int_equal(preempted_at(&t, "y", 90), 0);
    assert_int_equal(preempted_at(&t, "y", 179), 0);
    trace_free(&t);
    cap_free(&c);
}

/* The shared copy of the public traces: $SHARED_DATA, else ../shared/data
 * beside the source tree (absent outside development and CI: skipped). */
static char *shared_spot_dir(void)
{
    const char *env = getenv("SHARED_DATA");
    char *dir = env && *env ? xasprintf("%s/traces/spot-availability-skypilot", env)
                            : xstrdup(SOURCE_DIR "/../shared/data/traces/"
                                                 "spot-availability-skypilot");
    char *probe =
        xasprintf("%s/availability/1-node/aws-10-26-2022/us-west-2a_v100_1.json", dir);
    struct stat st;
    int there = stat(probe, &st) == 0;

    free(probe);
    if (there)
        return dir;
    print_message("skipped: no shared SkyPilot traces at %s (set SHARED_DATA)\n", dir);
    free(dir);
    return NULL;
}

/* Known windows of three real files, checked against their JSON by hand.
 * us-west-2a V100 (600 s ticks) starts 1 0 0 1 1 1 1 0 0 1 and has 3,087
 * ones in 3,895 ticks: spot 79% of the time (the paper's V100 us-west-2a is
 * mostly available).  AWS us-east-1c V100 preemption (32 s) starts with 350
 * zeros, then ones; 6,274 ones of 19,961.  GCP c3-88 us-central1-a (30 s) is
 * 0 then 5,475 ones: spot held all but the first tick. */
static void test_convert_spot_shared(void **state)
{
    char *dir = shared_spot_dir();
    struct capture c;
    struct trace t;

    (void)state;
    if (dir == NULL)
        skip();
    convert_rows(
        dir,
        "availability/1-node/aws-10-26-2022/us-west-2a_v100_1.json,aws/us-west-2,v\n"
        "preemption/1-node/aws-04-22-2023/us-east-1c_v100_1.json,aws/us-east-1,p\n"
        "preemption/1-node/gcp-04-30-2023/us-central1-a_c3-88.json,gcp/us-central1,g\n",
        &c, &t);
    assert_non_null(strstr(c.text, "\n0,aws/us-west-2,v,,0\n"));
    assert_non_null(strstr(c.text, "\n600,aws/us-west-2,v,,1\n"));
    assert_non_null(strstr(c.text, "\n1800,aws/us-west-2,v,,0\n"));
    assert_non_null(strstr(c.text, "\n4200,aws/us-west-2,v,,1\n"));
    assert_non_null(strstr(c.text, "\n5400,aws/us-west-2,v,,0\n"));
    assert_int_equal(preempted_at(&t, "v", 1200), 1);
    assert_int_equal(preempted_at(&t, "v", 3000), 0);
    assert_int_equal(preempted_at(&t, "v", 4800), 1);
    assert_true(fabs(available_share(&t, "v", 3895 * 600.0) - 3087.0 / 3895) < 1e-9);
    assert_true(fabs(available_share(&t, "v", 3895 * 600.0) - 0.79) < 0.01);
    assert_non_null(strstr(c.report,
                           "us-west-2a_v100_1.json -> aws/us-west-2 v: 3895 ticks "
                           "of 600 s (27.0 days), 1-node (1 = available), "
                           "available 79.3%"));
    assert_non_null(strstr(c.text, "\n0,aws/us-east-1,p,,1\n"));
    assert_non_null(strstr(c.text, "\n11200,aws/us-east-1,p,,0\n"));
    assert_int_equal(preempted_at(&t, "p", 11199), 1);
    assert_true(fabs(available_share(&t, "p", 19961 * 32.0) - 6274.0 / 19961) < 1e-9);
    assert_int_equal(preempted_at(&t, "g", 0), 1);
    assert_int_equal(preempted_at(&t, "g", 30), 0);
    assert_true(available_share(&t, "g", 5476 * 30.0) > 0.999);
    trace_free(&t);
    cap_free(&c);
    free(dir);
}

static const struct map_case {
    const char *mapping; /* rows after the header */
    const char *msg;     /* after "<mapping path>:" */
} map_cases[] = {
    {"nothing/*.json,gcp/us-central1/us-central1-a,a3-highgpu-8g\n",
     "2: 'nothing/*.json' matches no .json file under " TD "/spot"},
    {"*.json,gcp/us-central1/us-central1-a,a3-highgpu-8g\n",
     "2: '*.json' matches more than one trace file "
     "(availability/1-node/aws-z/zone-c_k80_8.json, "
     "availability/16-node/aws-y/zone-b_v100_1.json): one location takes one trace"},
    {"*zone-b*,gcp/us-central1,a4-highgpu-8g\n",
     "2: the catalog has no offer of a4-highgpu-8g at gcp/us-central1"},
    {"*zone-b*,gcp,a3-highgpu-8g\n", "2: column 'location': 'gcp' is not a location; "
                                     "write cloud/region or cloud/region/zone "
                                     "(e.g. gcp/us-central1/us-central1-a)"},
    {"*zone-b*,gcp/us-central1,a3-highgpu-8g\n*zone-a*,gcp/us-central1,a3-highgpu-8g\n",
     "3: gcp/us-central1 a3-highgpu-8g is already fed by line 2: one location takes one "
     "trace"},
};

static void test_convert_spot_errors(void **state)
{
    struct catalog *cat = mini_catalog();
    struct trace_conv_opts o = {cat, NULL, 0};
    char *dir = tu_mkdtemp(), *map = xasprintf("%s/map.csv", dir);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
        char *text =
            xasprintf("trace_file,location,instance_type\n%s", map_cases[i].mapping);
        char *want = xasprintf("%s:%s", map, map_cases[i].msg);
        struct capture c;
        struct err e;

        tu_write(dir, "map.csv", text);
        cap_open(&c);
        err_clear(&e);
        assert_int_not_equal(
            trace_convert_skypilot_spot_ex(TD "/spot", map, &o, c.out, NULL, &e), 0);
        cap_close(&c);
        if (strcmp(e.msg, want) != 0)
            fail_msg("case %zu:\n  got  %s\n  want %s", i, e.msg, want);
        cap_free(&c);
        free(text);
        free(want);
    }
    unlink(map);
    tu_rmdir(dir);
    free(map);
    free(dir);
    catalog_free(cat);
}

/* A bad JSON trace is a clear error naming the file, and so is a horizon
 * that would need more ticks than SPOT_TICKS_MAX. */
static void test_convert_spot_bad_json(void **state)
{
    char *dir = tu_mkdtemp(), *sub = xasprintf("%s/1-node", dir);
    char *map = xasprintf("%s/map.csv", dir), *want;
    struct trace_conv_opts day = {NULL, NULL, 86400};
    struct capture c;
    struct err e;

    (void)state;
    assert_int_equal(mkdir(sub, 0700), 0);
    tu_write(dir, "map.csv",
             "trace_file,location,instance_type\n1-node/t.json,gcp/r,x\n");
    tu_write(sub, "t.json", "{\"metadata\": {\"gap_seconds\": 60}, \"data\": [0, 1, 2]}");
    cap_open(&c);
    assert_int_equal(trace_convert_skypilot_spot(dir, map, c.out, NULL, &e), ST_EINVAL);
    want =
        xasprintf("%s/1-node/t.json: data[2] is not a whole number in [0, 1] (a 1-node "
                  "trace)",
                  dir);
    assert_string_equal(e.msg, want);
    free(want);
    tu_write(sub, "t.json", "{\"metadata\": {\"gap_seconds\": 60},\n \"data\": [0, 1,]}");
    assert_int_equal(trace_convert_skypilot_spot(dir, map, c.out, NULL, &e), ST_EPARSE);
    want = xasprintf("%s/1-node/t.json:2:", dir);
    assert_memory_equal(e.msg, want, strlen(want));
    free(want);
    tu_write(sub, "t.json", "{\"data\": [0]}");
    assert_int_equal(trace_convert_skypilot_spot(dir, map, c.out, NULL, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "no positive metadata.gap_seconds"));
    /* a tiny gap repeated to a horizon is refused, not looped over for ever */
    tu_write(sub, "t.json", "{\"metadata\": {\"gap_seconds\": 1e-6}, \"data\": [0, 1]}");
    assert_int_equal(trace_convert_skypilot_spot_ex(dir, map, &day, c.out, NULL, &e),
                     ST_ETOOBIG);
    want = xasprintf("%s/1-node/t.json: ticks of 1e-06 s up to the horizon make "
                     "86400000000, more than 10000000: give a shorter --horizon",
                     dir);
    assert_string_equal(e.msg, want);
    free(want);
    cap_close(&c);
    cap_free(&c);
    tu_rmdir(sub);
    tu_rmdir(dir);
    free(sub);
    free(map);
    free(dir);
}

static void test_convert_gcp_prices(void **state)
{
    struct catalog *cat = mini_catalog();
    struct trace_conv_opts o = {cat, NULL, 0};
    struct capture c, s;
    struct trace t;
    struct err e;

    (void)state;
    cap_open(&c);
    assert_int_equal(
        trace_convert_gcp_prices_ex(TD "/gcp/prices.csv", &o, c.out, c.rep, &e), 0);
    cap_close(&c);
    expect_file(&c, TD "/gcp-expected.csv");
    assert_non_null(strstr(c.report, "gcp-prices: 8 rows read, 6 kept, 2 dropped"));
    assert_non_null(strstr(c.report, "upstream glitch: machine entry without a GPU key"));
    assert_non_null(
        strstr(c.report, "machine type not offered in that region by the catalog"));
    trace_init(&t);
    assert_int_equal(trace_load_prices_mem(&t, "out", c.text, c.n, &e), 0);
    assert_int_equal(t.nprices, 4);
    assert_true(t.prices[0].spot_price_hour == TRACE_PRICE_UNCHANGED);
    assert_true(t.prices[2].time_s == 7 * 86400 && t.prices[2].spot_price_hour == 29);
    trace_free(&t);
    /* --since: earlier rows give the prices in force at time 0; no catalog */
    o.cat = NULL;
    o.since = "2023-05-10";
    cap_open(&s);
    assert_int_equal(
        trace_convert_gcp_prices_ex(TD "/gcp/prices.csv", &o, s.out, NULL, &e), 0);
    cap_close(&s);
    expect_file(&s, TD "/gcp-since.csv");
    o.since = "2023-13-01";
    assert_int_equal(
        trace_convert_gcp_prices_ex(TD "/gcp/prices.csv", &o, s.out, NULL, &e),
        ST_EUSAGE);
    assert_string_equal(e.msg, "--since: '2023-13-01' is not a date (YYYY-MM-DD)");
    cap_free(&c);
    cap_free(&s);
    catalog_free(cat);
}

static void test_convert_gcp_errors(void **state)
{
    static const char hdr[] =
        "snapshot_commit_date,commit,machine_type,gpu_model,gpu_count,"
        "vcpu,memory_gb,region,ondemand_usd_per_hour,spot_usd_per_hour\n";
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/p.csv", dir), *text, *want;
    struct capture c;
    struct err e;

    (void)state;
    text = xasprintf("%s2023-05-02,a,g2-standard-4,l4,1,4,16,us-east1,0.7,0.2\n"
                     "2023-05-01,a,g2-standard-4,l4,1,4,16,us-east1,0.7,0.2\n",
                     hdr);
    tu_write(dir, "p.csv", text);
    cap_open(&c);
    assert_int_equal(trace_convert_gcp_prices(path, c.out, NULL, &e), ST_EINVAL);
    want = xasprintf(
        "%s:3: column 'snapshot_commit_date': 2023-05-01 is earlier than the row "
        "before; rows must be in date order",
        path);
    assert_string_equal(e.msg, want);
    free(want);
    free(text);
    text = xasprintf("%s2023-02-30,a,g2-standard-4,l4,1,4,16,us-east1,0.7,0.2\n", hdr);
    tu_write(dir, "p.csv", text);
    assert_int_equal(trace_convert_gcp_prices(path, c.out, NULL, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg,
                           "p.csv:2: column 'snapshot_commit_date': '2023-02-30' is "
                           "not a date (YYYY-MM-DD)"));
    cap_close(&c);
    cap_free(&c);
    free(text);
    unlink(path);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* ---- chart ---- */

static void test_chart(void **state)
{
    static const char *const clouds[] = {"azure", "gcp", "lambda"};
    static const double a[3 * 4] = {100, 200, 300, 400, 50, 0, 50, 0, 0, 0, 0, 1234.4};
    static const double b[3 * 4] = {1000, 1000, 1000, 1000, 0, 0, 0, 0, 0, 0, 0, 0};
    const struct chart_panel p[2] = {{"stratus", 4, 21600, 3, clouds, a},
                                     {"azure-ondemand <&>", 4, 21600, 3, clouds, b}};
    char *svg = NULL;
    size_t n = 0, i;
    FILE *fp = open_memstream(&svg, &n);
    static const char *const want[] = {
        "<svg xmlns=\"http://www.w3.org/2000/svg\"",
        ">azure</text>",
        ">gcp</text>",
        ">oci</text>",
        ">aws</text>",
        ">other</text>",
        "#0078d4",
        "#34a853",
        "#8c8c8c",
        ">stratus</tspan>  total $2,334 (azure $1,000, gcp $100, other $1,234)",
        ">azure-ondemand &lt;&amp;&gt;</tspan>  total $4,000 (azure $4,000)",
        ">$1k</text>",
        ">0h</text>",
        ">20h</text>",
        "USD per 6h",
        "</svg>\n"};

    (void)state;
    assert_int_equal(chart_write_svg(fp, "Spend & time", p, 2), 0);
    fclose(fp);
    assert_memory_equal(svg, "<svg ", 5);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(svg, want[i]) == NULL)
            fail_msg("'%s' not in the chart:\n%s", want[i], svg);
    assert_non_null(strstr(svg, "Spend &amp; time"));
    assert_null(strstr(svg, "#c74634\" stroke")); /* no oci area: nothing spent there */
    assert_null(strstr(svg, "nan"));
    free(svg);
    /* no panels, and a panel without buckets: still a complete document */
    fp = open_memstream(&svg, &n);
    assert_int_equal(chart_write_svg(fp, NULL, NULL, 0), 0);
    fclose(fp);
    assert_non_null(strstr(svg, "no policy to show"));
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_workload),
        cmocka_unit_test(test_load_spot_prices),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_deadline_with_alternatives),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_file_hygiene),
        cmocka_unit_test(test_catalog_names),
        cmocka_unit_test(test_failed_load_keeps_trace),
        cmocka_unit_test(test_large_file_lines),
        cmocka_unit_test(test_sort_is_stable),
        cmocka_unit_test(test_sort_many),
        cmocka_unit_test(test_convert_itp),
        cmocka_unit_test(test_convert_itp_seeds),
        cmocka_unit_test(test_convert_itp_errors),
        cmocka_unit_test(test_convert_alibaba),
        cmocka_unit_test(test_convert_spot),
        cmocka_unit_test(test_convert_spot_orientation),
        cmocka_unit_test(test_convert_spot_shared),
        cmocka_unit_test(test_convert_spot_errors),
        cmocka_unit_test(test_convert_spot_bad_json),
        cmocka_unit_test(test_convert_gcp_prices),
        cmocka_unit_test(test_convert_gcp_errors),
        cmocka_unit_test(test_chart),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
