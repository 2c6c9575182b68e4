/*
 * test_metrics.c - the Prometheus exposition of src/server/metrics.c, read
 * back by a parser of the text format 0.0.4 written here: every sample's
 * family has # HELP and # TYPE lines before it, names and labels are well
 * formed (escapes undone), histogram buckets are cumulative (never
 * decreasing along le, ending at +Inf == _count), _count is the number of
 * observations fed and _sum their sum; counters fed through the API are
 * exact; the scrape-time gauges match a store built by hand (jobs by state,
 * placements by cloud/region/mode, spend by cloud with a running attempt's
 * cost so far), also across several pages of records, as jobs end between
 * scrapes (the cache of final records), and when the store is replaced;
 * driver errors by the driver instance a location is bound to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "catalog/catalog.h"
#include "driver/multi.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/server_conf.h"
#include "store/store.h"
#include "util/xmem.h"

#define E (&(struct err){0})
#define OK(x) assert_int_equal((x), 0)

/* ---- a parser of the text format ---- */

#define MAXS 4096
#define MAXF 64

struct sample {
    char name[128];
    char labels[512]; /* k=v pairs, unescaped, joined by '\x1f' in order */
    char le[256];     /* the le label of a bucket, "" otherwise */
    double v;
};

struct family {
    char name[128];
    char type[64];
    int help;
};

struct expo {
    struct sample s[MAXS];
    size_t n;
    struct family f[MAXF];
    size_t nf;
};

static int name_ok(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || !(isalpha((unsigned char)p[0]) || p[0] == '_' || p[0] == ':'))
        return 0;
    for (i = 1; i < n; i++)
        if (!(isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == ':'))
            return 0;
    return 1;
}

static struct family *fam_find(struct expo *x, const char *name)
{
    size_t i;

    for (i = 0; i < x->nf; i++)
        if (strcmp(x->f[i].name, name) == 0)
            return &x->f[i];
    return NULL;
}

/* "# HELP name text" or "# TYPE name type": the family is declared. */
static void parse_comment(struct expo *x, const char *line)
{
    char kw[8], name[128], rest[64];
    struct family *f;

    assert_int_equal(sscanf(line, "# %7s %127s %63s", kw, name, rest), 3);
    assert_true(name_ok(name, strlen(name)));
    f = fam_find(x, name);
    if (f == NULL) {
        assert_true(x->nf < MAXF);
        f = &x->f[x->nf++];
        snprintf(f->name, sizeof(f->name), "%s", name);
    }
    if (strcmp(kw, "HELP") == 0) {
        assert_false(f->help); /* once per family */
        f->help = 1;
    } else {
        assert_string_equal(kw, "TYPE");
        assert_string_equal(f->type, ""); /* once, and before any sample */
        assert_true(strcmp(rest, "counter") == 0 || strcmp(rest, "gauge") == 0 ||
                    strcmp(rest, "histogram") == 0);
        snprintf(f->type, sizeof(f->type), "%s", rest);
    }
}

/* {k="v",...}: returns the end; labels go to s (le apart as well). */
static const char *parse_labels(const char *p, struct sample *s)
{
    size_t o = 0;

    assert_int_equal(*p++, '{');
    while (*p != '}') {
        const char *k = p;
        char v[256];
        size_t vn = 0;

        while (*p && *p != '=')
            p++;
        assert_true(name_ok(k, (size_t)(p - k)));
        assert_int_equal(p[1], '"');
        for (p += 2; *p != '"'; p++) {
            assert_true(*p != '\0' && *p != '\n' && vn < sizeof(v) - 1);
            if (*p == '\\') {
                p++;
                assert_true(*p == '\\' || *p == '"' || *p == 'n');
                v[vn++] = *p == 'n' ? '\n' : *p;
            } else {
                v[vn++] = *p;
            }
        }
        v[vn] = '\0';
        p++;
        if ((size_t)(strchr(k, '=') - k) == 2 && strncmp(k, "le", 2) == 0)
            snprintf(s->le, sizeof(s->le), "%s", v);
        else
            o += (size_t)snprintf(s->labels + o, sizeof(s->labels) - o, "%s%.*s=%s",
                                  o ? "\x1f" : "", (int)(strchr(k, '=') - k), k, v);
        if (*p == ',')
            p++;
        else
            assert_int_equal(*p, '}');
    }
    return p + 1;
}

/* The family a sample belongs to: its name, or without _bucket/_sum/_count
 * for a histogram. */
static struct family *sample_family(struct expo *x, const char *name)
{
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    struct family *f = fam_find(x, name);
    size_t i, n = strlen(name);

    for (i = 0; f == NULL && i < 3; i++) {
        char base[128];
        size_t k = strlen(sfx[i]);

        if (n > k && strcmp(name + n - k, sfx[i]) == 0) {
            snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
            f = fam_find(x, base);
            if (f != NULL)
                assert_string_equal(f->type, "histogram");
        }
    }
    return f;
}

static void parse_sample(struct expo *x, const char *line)
{
    struct sample *s;
    const char *p = line;
    char *end;

    assert_true(x->n < MAXS);
    s = &x->s[x->n++];
    memset(s, 0, sizeof(*s));
    while (*p && *p != '{' && *p != ' ')
        p++;
    assert_true(name_ok(line, (size_t)(p - line)));
    snprintf(s->name, sizeof(s->name), "%.*s", (int)(p - line), line);
    assert_non_null(sample_family(x, s->name)); /* declared before use */
    if (*p == '{')
        p = parse_labels(p, s);
    assert_int_equal(*p++, ' ');
    if (strcmp(p, "+Inf") == 0)
        s->v = INFINITY;
    else {
        s->v = strtod(p, &end);
        assert_true(end != p && *end == '\0'); /* no timestamps, no junk */
    }
}

static void parse(struct expo *x, const char *text, size_t len)
{
    char *copy = xstrndup(text, len), *save = NULL, *line;

    assert_int_equal(strlen(text), len);
    assert_true(len > 0 && text[len - 1] == '\n'); /* the last line ends too */
    memset(x, 0, sizeof(*x));
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            parse_comment(x, line);
        else
            parse_sample(x, line);
    }
    free(copy);
    for (size_t i = 0; i < x->nf; i++) {
        assert_true(x->f[i].help);
        assert_string_not_equal(x->f[i].type, "");
    }
}

/* The value of name{labels} (labels "k=v" joined by '\x1f', "" for none),
 * or NAN when there is no such sample.  Each series appears once. */
static double get(const struct expo *x, const char *name, const char *labels)
{
    double v = NAN;
    size_t i;
    int seen = 0;

    for (i = 0; i < x->n; i++)
        if (strcmp(x->s[i].name, name) == 0 && strcmp(x->s[i].labels, labels) == 0 &&
            x->s[i].le[0] == '\0') {
            assert_false(seen);
            seen = 1;
            v = x->s[i].v;
        }
    return v;
}

/* Check the histogram name{labels}: buckets in increasing le, cumulative
 * counts never decreasing, +Inf last and equal to _count; returns _count. */
static double check_hist(const struct expo *x, const char *name, const char *labels)
{
    char bucket[160];
    double last_le = -INFINITY, last = 0, count;
    size_t i, nb = 0;
    int inf = 0;

    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    for (i = 0; i < x->n; i++) {
        double le;

        if (strcmp(x->s[i].name, bucket) != 0 || strcmp(x->s[i].labels, labels) != 0)
            continue;
        assert_false(inf); /* nothing after +Inf */
        le = strcmp(x->s[i].le, "+Inf") == 0 ? INFINITY : strtod(x->s[i].le, NULL);
        assert_true(le > last_le);
        assert_true(x->s[i].v >= last);
        last_le = le;
        last = x->s[i].v;
        inf = isinf(le);
        nb++;
    }
    assert_true(inf && nb >= 2);
    count = get(x, (snprintf(bucket, sizeof(bucket), "%s_count", name), bucket), labels);
    assert_true(count == last);
    return count;
}

static double hist_sum(const struct expo *x, const char *name, const char *labels)
{
    char n[160];

    snprintf(n, sizeof(n), "%s_sum", name);
    return get(x, n, labels);
}

static void render(struct metrics *m, struct srv *s, struct expo *x)
{
    size_t len;
    char *text = metrics_render(m, s, &len);

    parse(x, text, len);
    free(text);
}

/* ---- the fed series ---- */

static void test_fed_series(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    /* the same label from another pointer: still one series */
    char alias[] = "GET /v1/jobs/{id}";
    double sum = 0;
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        metrics_api(m, "GET /v1/jobs/{id}", 200, 0.0003 * (i + 1));
        sum += 0.0003 * (i + 1);
    }
    metrics_api(m, alias, 404, 0.002);
    metrics_api(m, "POST /v1/jobs", 201, 0.004);
    metrics_api(m, "POST /v1/jobs", 400, 20.0); /* beyond the last bucket */
    metrics_step(m, 0.01, 1);
    metrics_step(m, 0.2, 0);
    metrics_step(m, -1, 1); /* a clock step backwards counts as 0 */
    metrics_driver_error(m, "local");
    metrics_driver_error(m, "lab \"slurm\"\\x\n");
    metrics_driver_error(m, "local");
    render(m, NULL, x);

    assert_true(get(x, "stratus_up", "") == 1);
    assert_true(get(x, "stratus_api_requests_total",
                    "route=GET /v1/jobs/{id}\x1f"
                    "code=200") == 5);
    assert_true(get(x, "stratus_api_requests_total",
                    "route=GET /v1/jobs/{id}\x1f"
                    "code=404") == 1);
    assert_true(get(x, "stratus_api_requests_total",
                    "route=POST /v1/jobs\x1f"
                    "code=201") == 1);
    assert_true(isnan(get(x, "stratus_api_requests_total",
                          "route=POST /v1/jobs\x1f"
                          "code=200")));
    assert_true(check_hist(x, "stratus_api_request_seconds", "route=GET /v1/jobs/{id}") ==
                6);
    assert_true(
        fabs(hist_sum(x, "stratus_api_request_seconds", "route=GET /v1/jobs/{id}") -
             (sum + 0.002)) < 1e-12);
    assert_true(check_hist(x, "stratus_api_request_seconds", "route=POST /v1/jobs") == 2);
    assert_true(check_hist(x, "stratus_controller_step_seconds", "") == 3);
    assert_true(fabs(hist_sum(x, "stratus_controller_step_seconds", "") - 0.21) < 1e-12);
    assert_true(get(x, "stratus_controller_steps_total", "") == 3);
    assert_true(get(x, "stratus_controller_step_failures_total", "") == 1);
    assert_true(get(x, "stratus_driver_errors_total", "driver=local") == 2);
    assert_true(get(x, "stratus_driver_errors_total", "driver=lab \"slurm\"\\x\n") == 1);
    free(x);
    metrics_free(m);
}

/* The buckets hold what falls at or below each bound (0.0003 is in le=0.0005
 * and not in le=0.00025). */
static void test_bucket_bounds(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    size_t i;

    (void)state;
    metrics_api(m, "GET /healthz", 200, 0.0003);
    metrics_api(m, "GET /healthz", 200, 0.001); /* exactly a bound: in it */
    render(m, NULL, x);
    for (i = 0; i < x->n; i++) {
        double le;

        if (strcmp(x->s[i].name, "stratus_api_request_seconds_bucket") != 0)
            continue;
        le = strcmp(x->s[i].le, "+Inf") == 0 ? INFINITY : strtod(x->s[i].le, NULL);
        assert_true(x->s[i].v == (le < 0.0003 ? 0 : le < 0.001 ? 1 : 2));
    }
    free(x);
    metrics_free(m);
}

/* ---- the scrape-time series ---- */

static int64_t add_job(struct store *st, int state)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.name = "job";
    j.spec_path = "job.yaml";
    j.spec_text = "name: job\n";
    j.state = state;
    j.exit_code = -1;
    OK(store_job_insert(st, &j, E));
    return j.id;
}

static void set_state(struct store *st, int64_t id, int state)
{
    struct store_job j;

    OK(store_job_get(st, id, &j, E));
    j.state = state;
    OK(store_job_update(st, &j, E));
    store_job_clear(&j);
}

static int64_t add_attempt(struct store *st, int64_t job, char *cloud, char *region,
                           int mode, int ended, double cost, double running_at,
                           double price)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.job_id = job;
    a.n = 1;
    a.cloud = cloud;
    a.region = region;
    a.zone = "z";
    a.instance_type = "t";
    a.accelerator = "H100";
    a.nodes = 2;
    a.mode = mode;
    a.state = ended ? ATT_ENDED : ATT_RUNNING;
    a.cost = cost;
    a.running_at = running_at;
    a.price_hour = price;
    a.exit_code = -1;
    OK(store_attempt_insert(st, &a, E));
    return a.id;
}

static void open_srv(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    OK(store_open(&s->st, "mem:", E));
    s->started_at = 1700000000.5;
    s->steps = 42;
    s->step_failures = 2;
}

#define JOBS(st) "state=" st

static void test_store_series(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    struct srv s;
    double now = (double)time(NULL), spend;
    int64_t run, run_att;
    struct store_attempt a;

    (void)state;
    open_srv(&s);
    OK(store_begin(s.st, E));
    add_attempt(s.st, add_job(s.st, JOB_SUCCEEDED), "aws", "us-east-1", 1, 1, 1.5, 0, 0);
    add_attempt(s.st, add_job(s.st, JOB_FAILED), "gcp", "us-central1", 0, 1, 0.25, 0, 0);
    run = add_job(s.st, JOB_RUNNING);
    /* running for an hour on 2 nodes at $3/h: $6 so far, plus $1 before */
    run_att = add_attempt(s.st, run, "aws", "us-east-1", 1, 0, 1.0, now - 3600, 3.0);
    add_job(s.st, JOB_PENDING);
    OK(store_commit(s.st, E));

    render(m, &s, x);
    assert_true(get(x, "stratus_start_time_seconds", "") == 1700000000.5);
    assert_true(get(x, "stratus_controller_steps_total", "") == 42);
    assert_true(get(x, "stratus_controller_step_failures_total", "") == 2);
    assert_true(get(x, "stratus_jobs", JOBS("SUCCEEDED")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("FAILED")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("RUNNING")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("PENDING")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("CANCELLED")) ==
                0); /* every state is there */
    assert_true(get(x, "stratus_placements_total",
                    "cloud=aws\x1fregion=us-east-1\x1fmode=spot") == 2);
    assert_true(get(x, "stratus_placements_total",
                    "cloud=gcp\x1fregion=us-central1\x1fmode=on-demand") == 1);
    spend = get(x, "stratus_spend_usd_total", "cloud=aws");
    assert_true(spend >= 1.5 + 7.0 - 1e-9 && spend < 1.5 + 7.0 + 0.1);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=gcp") == 0.25);
    /* no commitments: each cloud with spend has fees of 0, not no series
     * (spend + fees adds up by cloud on a dashboard; helper-101) */
    assert_true(get(x, "stratus_commitment_fees_usd_total", "cloud=aws") == 0);
    assert_true(get(x, "stratus_commitment_fees_usd_total", "cloud=gcp") == 0);
    assert_true(get(x, "stratus_transitions_total", "") == 0); /* no scheduler */

    /* jobs end and start between scrapes: the cached final counts follow;
     * the ended attempt is billed what the scheduler wrote, not its price */
    set_state(s.st, run, JOB_SUCCEEDED);
    OK(store_attempt_get(s.st, run_att, &a, E));
    a.state = ATT_ENDED;
    a.cost = 9.0;
    OK(store_attempt_update(s.st, &a, E));
    store_attempt_clear(&a);
    add_attempt(s.st, add_job(s.st, JOB_PROVISIONING), "gcp", "us-central1", 0, 0, 0, 0,
                1);
    add_job(s.st, JOB_CANCELLED); /* made and ended between two scrapes */
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") == 10.5);
    assert_true(get(x, "stratus_placements_total",
                    "cloud=aws\x1fregion=us-east-1\x1fmode=spot") == 2);
    assert_true(get(x, "stratus_jobs", JOBS("CANCELLED")) == 1);
    render(m, &s, x); /* nothing changed: nothing counted twice */
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") == 10.5);
    assert_true(get(x, "stratus_jobs", JOBS("CANCELLED")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("SUCCEEDED")) == 2);
    assert_true(get(x, "stratus_jobs", JOBS("RUNNING")) == 0);
    assert_true(get(x, "stratus_jobs", JOBS("PROVISIONING")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("PENDING")) == 1);
    assert_true(get(x, "stratus_placements_total",
                    "cloud=gcp\x1fregion=us-central1\x1fmode=on-demand") == 2);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=gcp") ==
                0.25); /* not running yet */
    store_close(s.st);

    /* another store: nothing of the first one's cache is left */
    open_srv(&s);
    add_job(s.st, JOB_CANCELLED);
    render(m, &s, x);
    assert_true(get(x, "stratus_jobs", JOBS("CANCELLED")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("SUCCEEDED")) == 0);
    assert_true(isnan(get(x, "stratus_spend_usd_total", "cloud=aws")));
    store_close(s.st);
    free(x);
    metrics_free(m);
}

/* The spend counter never goes down (Prometheus would read a fall as a
 * reset and count everything again): a running attempt's spend to the
 * scrape, $6 at $3/h on 2 nodes for an hour, stands above its bill once it
 * ends having run less ($4: its exit was seen late); the counter holds what
 * it said until the spend passes it ($4 + $10), and a new store starts
 * afresh. */
static void test_spend_never_falls(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    struct store_attempt a;
    double now = (double)time(NULL), first;
    int64_t run, att;
    struct srv s;

    (void)state;
    open_srv(&s);
    run = add_job(s.st, JOB_RUNNING);
    att = add_attempt(s.st, run, "aws", "us-east-1", 1, 0, 0, now - 3600, 3.0);
    render(m, &s, x);
    first = get(x, "stratus_spend_usd_total", "cloud=aws");
    assert_true(first >= 6 && first < 6.1);
    set_state(s.st, run, JOB_SUCCEEDED);
    OK(store_attempt_get(s.st, att, &a, E));
    a.state = ATT_ENDED;
    a.cost = 4.0;
    OK(store_attempt_update(s.st, &a, E));
    store_attempt_clear(&a);
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") == first);
    add_attempt(s.st, add_job(s.st, JOB_SUCCEEDED), "aws", "us-east-1", 1, 1, 10, 0, 0);
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") == 14);
    store_close(s.st);
    open_srv(&s); /* another store */
    add_attempt(s.st, add_job(s.st, JOB_SUCCEEDED), "aws", "us-east-1", 1, 1, 2, 0, 0);
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") == 2);
    store_close(s.st);
    free(x);
    metrics_free(m);
}

/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
static void iso(double t, char out[32])
{
    time_t u = (time_t)t;
    struct tm tm;

    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&u, &tm));
}

/* The commitments' fees, by cloud, amortised by the hour to now, as the cost
 * report counts them (a review: the counter had the attempts' spend only, so
 * a dashboard on Prometheus lost the lab's largest fixed cost).  Two Azure
 * rows (2 nodes at $30 from 10 h ago; 1 node at $12 from 1 h ago) and one GCP
 * row that starts tomorrow: $612 for Azure, $0 for GCP. */
static void test_commitment_fees(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/commitments.csv", dir), *text;
    double now = floor((double)time(NULL)), azure;
    char t1[32], t2[32], t3[32];
    struct srv s;

    (void)state;
    open_srv(&s);
    OK(catalog_load(&s.cat, TEST_DATA "/sched/catalog", E));

    iso(now - 36000, t1);
    iso(now - 3600, t2);
    iso(now + 86400, t3);
    text = xasprintf("cloud,region,zone,instance_type,nodes,start,price_hour\n"
                     "azure,eastus,,Standard_ND96isr_H100_v5,2,%s,30\n"
                     "azure,westeurope,,Standard_NV72ads_A10_v5,1,%s,12\n"
                     "gcp,us-central1,,a3-highgpu-8g,1,%s,50\n",
                     t1, t2, t3);
    tu_write(dir, "commitments.csv", text);
    OK(catalog_load_commitments(s.cat, path, E));
    render(m, &s, x);
    azure = get(x, "stratus_commitment_fees_usd_total", "cloud=azure");
    print_message("azure $%.2f\n", azure);
    /* the scrape is a few seconds later at most: $0.0183 a second */
    assert_true(azure >= 612 && azure < 612 + 0.0183 * 60);
    assert_true(get(x, "stratus_commitment_fees_usd_total", "cloud=gcp") == 0);
    catalog_free(s.cat);
    store_close(s.st);
    tu_rmdir(dir);
    free(dir);
    free(path);
    free(text);
    free(x);
    metrics_free(m);
}

/* A data move is spent in the cloud the data left, as `stratus cost --by
 * cloud` counts it (docs/data.md item 5): before, the counter put it in the
 * row of the cloud the attempt ran in.  On the mini catalog an ended GCP
 * attempt moved $87 straight from Azure; a running one $8.5 from Azure by
 * way of OCI over the free interconnect (OCI's, all of it); a third moved
 * $2 with no copy on record (its own cloud's). */
static void test_spend_egress_by_source(void **state)
{
    struct metrics *m = metrics_new(), *m2;
    struct expo *x = xmalloc(sizeof(*x));
    double now = (double)time(NULL), gcp;
    static char via0[] = "", via1[] = "oci/us-ashburn-1";
    char *const via[] = {via0, via1};
    static const double move[] = {87, 8.5, 2};
    struct store_attempt a;
    struct store_data_replica d;
    int64_t run = 0, run_att = 0;
    struct srv s;
    int i;

    (void)state;
    open_srv(&s);
    OK(catalog_load(&s.cat, TEST_DATA "/catalog-mini", E));
    OK(store_begin(s.st, E));
    for (i = 0; i < 3; i++) {
        int64_t id = add_job(s.st, i == 1 ? JOB_RUNNING : JOB_SUCCEEDED);

        /* an ended attempt's cost holds its move; a live one's is added */
        OK(store_attempt_get(s.st,
                             add_attempt(s.st, id, "gcp", "us-central1", 0, i != 1,
                                         i == 1 ? 0 : 10 + move[i], now - 3600, 5.0),
                             &a, E));
        a.egress = move[i];
        OK(store_attempt_update(s.st, &a, E));
        if (i == 1) {
            run = id;
            run_att = a.id;
        }
        if (i < 2) {
            memset(&d, 0, sizeof(d));
            d.dataset = i ? "job:b" : "job:a";
            d.cloud = "gcp";
            d.region = "us-central1";
            d.src_cloud = "azure";
            d.src_region = "eastus";
            d.via = via[i];
            d.size_gb = 1000;
            d.created_at = d.last_used_at = a.running_at;
            d.egress = move[i];
            d.job_id = id;
            d.attempt_id = a.id;
            OK(store_data_put(s.st, &d, E));
        }
        store_attempt_clear(&a);
    }
    OK(store_commit(s.st, E));
    for (i = 0; i < 2; i++) { /* the second scrape: the ended ones from the cache */
        render(m, &s, x);
        assert_true(get(x, "stratus_spend_usd_total", "cloud=azure") == 87);
        assert_true(get(x, "stratus_spend_usd_total", "cloud=oci") == 8.5);
        /* 10 + 12 of compute (the ended ones), the move with no copy, and the
         * running one's 2 nodes at $5/h for an hour (a second or two more) */
        gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
        assert_true(gcp >= 22 + 10 - 1e-9 && gcp < 22 + 10 + 0.1);
    }
    /* A scrape keeps the running attempt's split: the copies are not read
     * again for it (were they, this row, rewritten as a straight move from
     * Azure, would now say Azure), nor when it ends. */
    memset(&d, 0, sizeof(d));
    d.dataset = "job:b";
    d.cloud = "gcp";
    d.region = "us-central1";
    d.src_cloud = "azure";
    d.src_region = "eastus";
    d.via = via0;
    d.size_gb = 1000;
    d.created_at = d.last_used_at = now - 3600;
    d.egress = move[1];
    d.job_id = run;
    d.attempt_id = run_att;
    OK(store_data_put(s.st, &d, E));
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=oci") == 8.5);
    OK(store_attempt_get(s.st, run_att, &a, E));
    a.state = ATT_ENDED;
    a.ended_at = now;
    a.cost = 10 + move[1];
    OK(store_attempt_update(s.st, &a, E));
    store_attempt_clear(&a);
    render(m, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=oci") == 8.5);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=azure") == 87);
    /* $32, or what the live attempt said a second or two later than `now`,
     * which the counter holds (test_spend_never_falls) */
    gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
    assert_true(gcp >= 32 - 1e-9 && gcp < 32 + 0.1);
    /* with no catalog (a bare server in a harness) as the report counts it:
     * the moves are their sources' (helper-100) */
    catalog_free(s.cat);
    s.cat = NULL;
    m2 = metrics_new();
    render(m2, &s, x);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=azure") == 95.5);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=gcp") == 32);
    metrics_free(m2);
    store_close(s.st);
    free(x);
    metrics_free(m);
}

static void put_copy(struct store *st, const char *dataset, const char *cloud, int home,
                     double created, double expired, int64_t job)
{
    struct store_data_replica d;
    char ds[32], cl[16];

    snprintf(ds, sizeof(ds), "%s", dataset);
    snprintf(cl, sizeof(cl), "%s", cloud);
    memset(&d, 0, sizeof(d));
    d.dataset = ds;
    d.cloud = cl;
    d.region = strcmp(cloud, "aws") == 0 ? "us-east-1" : "us-central1";
    d.src_cloud = home ? "" : "azure";
    d.src_region = home ? "" : "eastus";
    d.via = "";
    d.home = home;
    d.size_gb = 730; /* at $1 a GB-month: $1 an hour */
    d.storage_gb_month = 1;
    d.created_at = d.last_used_at = created;
    d.expired_at = expired;
    d.job_id = home ? 0 : job;
    OK(store_data_put(st, &d, E));
}

/* The keeping of data copies is spent in the copy's cloud, as `stratus cost`
 * counts it (its STORAGE column): before, the counter left it out.  A copy
 * deleted before the first scrape ($6), one present ($3 so far), a home
 * (nothing); then the present one is deleted ($3.50 in all) and another made
 * in its place, and one in AWS ($1 so far); then one made and deleted
 * between two scrapes ($1). */
static void test_spend_counts_storage(void **state)
{
    struct metrics *m = metrics_new(), *m2 = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    double now = floor((double)time(NULL)), gcp;
    int64_t job;
    struct srv s;

    (void)state;
    open_srv(&s);
    job = add_job(s.st, JOB_SUCCEEDED);
    put_copy(s.st, "d1", "gcp", 0, now - 36000, now - 14400, job);
    put_copy(s.st, "d2", "gcp", 0, now - 10800, 0, job);
    put_copy(s.st, "d2", "azure", 1, now - 99999, 0, job);
    render(m, &s, x);
    gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
    assert_true(gcp >= 6 + 3 && gcp < 6 + 3 + 0.02); /* a minute later at most */
    /* deleted half an hour after the scrape (as a clock of the test's):
     * $3.50, more than the counter said of it */
    put_copy(s.st, "d2", "gcp", 0, now - 10800, now + 1800, job);
    put_copy(s.st, "d2", "gcp", 0, now + 1801, 0, job); /* made again */
    put_copy(s.st, "d3", "aws", 0, now - 3600, 0, job);
    render(m, &s, x);
    gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
    assert_true(gcp >= 9.5 && gcp < 9.5 + 1e-9);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=aws") >= 1);
    assert_true(get(x, "stratus_spend_usd_total", "cloud=azure") == 0 ||
                isnan(get(x, "stratus_spend_usd_total", "cloud=azure")));
    /* a copy made and deleted between two scrapes ($1: helper-102 found
     * the counter never saw it) */
    put_copy(s.st, "d4", "gcp", 0, now - 7200, now - 3600, job);
    render(m, &s, x);
    gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
    assert_true(gcp >= 10.5 && gcp < 10.5 + 1e-9);
    render(m2, &s, x); /* a new reader of the same store: the same */
    gcp = get(x, "stratus_spend_usd_total", "cloud=gcp");
    assert_true(gcp >= 10.5 && gcp < 10.5 + 1e-9);
    store_close(s.st);
    free(x);
    metrics_free(m);
    metrics_free(m2);
}

/* Many pages of records, a live job in the middle of terminal ones (the
 * cached prefix stops there), then it ends: counts stay exact. */
static void test_store_pages(void **state)
{
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    struct srv s;
    int64_t mid = 0;
    int i;

    (void)state;
    open_srv(&s);
    OK(store_begin(s.st, E));
    for (i = 0; i < 1500; i++) {
        int64_t id = add_job(s.st, i == 700 ? JOB_RUNNING : JOB_SUCCEEDED);

        add_attempt(s.st, id, i % 2 ? "aws" : "azure", "r", 2, i != 700, 0.5, 0, 0);
        if (i == 700)
            mid = id;
    }
    OK(store_commit(s.st, E));
    for (i = 0; i < 2; i++) { /* the second scrape starts from the cache */
        render(m, &s, x);
        assert_true(get(x, "stratus_jobs", JOBS("SUCCEEDED")) == 1499);
        assert_true(get(x, "stratus_jobs", JOBS("RUNNING")) == 1);
        assert_true(get(x, "stratus_placements_total",
                        "cloud=aws\x1fregion=r\x1fmode=committed") == 750);
        assert_true(get(x, "stratus_spend_usd_total", "cloud=azure") == 375);
    }
    set_state(s.st, mid, JOB_FAILED);
    add_job(s.st, JOB_PENDING);
    render(m, &s, x);
    assert_true(get(x, "stratus_jobs", JOBS("SUCCEEDED")) == 1499);
    assert_true(get(x, "stratus_jobs", JOBS("FAILED")) == 1);
    assert_true(get(x, "stratus_jobs", JOBS("RUNNING")) == 0);
    assert_true(get(x, "stratus_jobs", JOBS("PENDING")) == 1);
    assert_true(get(x, "stratus_placements_total",
                    "cloud=azure\x1fregion=r\x1fmode=committed") == 750);
    store_close(s.st);
    free(x);
    metrics_free(m);
}

/* An ended attempt of a job of its own, ended for `why`. */
static void end_attempt(struct store *st, char *cloud, char *region, int why)
{
    struct store_attempt a;
    int64_t id = add_attempt(st, add_job(st, JOB_FAILED), cloud, region, 0, 1, 0, 0, 0);

    OK(store_attempt_get(st, id, &a, E));
    a.end_reason = why;
    OK(store_attempt_update(st, &a, E));
    store_attempt_clear(&a);
}

/* Attempts a driver failed to launch or lost count against the driver
 * instance their location is bound to, with the failures the server fed;
 * a stockout is not a driver error. */
static void test_driver_errors(void **state)
{
    static const char *const any[] = {"*"}, *const lab[] = {"azure/eastus"};
    const struct multi_child kids[] = {{"local", NULL, NULL, any, 1, NULL},
                                       {"lab-slurm", NULL, NULL, lab, 1, NULL}};
    struct multi_world w = {kids, 2, NULL, NULL};
    struct srv_conf conf;
    struct metrics *m = metrics_new();
    struct expo *x = xmalloc(sizeof(*x));
    struct srv s;

    (void)state;
    open_srv(&s);
    memset(&conf, 0, sizeof(conf));
    s.conf = &conf;
    s.dcfg.world = &w;
    end_attempt(s.st, "azure", "eastus", ATT_END_FAILED);
    end_attempt(s.st, "gcp", "us-central1", ATT_END_LOST);
    end_attempt(s.st, "azure", "eastus", ATT_END_CAPACITY);
    metrics_driver_error(m, "lab-slurm");
    render(m, &s, x);
    assert_true(get(x, "stratus_driver_errors_total", "driver=lab-slurm") == 2);
    assert_true(get(x, "stratus_driver_errors_total", "driver=local") == 1);
    render(m, &s, x); /* from the cache now: the same */
    assert_true(get(x, "stratus_driver_errors_total", "driver=lab-slurm") == 2);
    assert_true(get(x, "stratus_driver_errors_total", "driver=local") == 1);
    store_close(s.st);
    free(x);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fed_series),
        cmocka_unit_test(test_bucket_bounds),
        cmocka_unit_test(test_store_series),
        cmocka_unit_test(test_store_pages),
        cmocka_unit_test(test_driver_errors),
        cmocka_unit_test(test_commitment_fees),
        cmocka_unit_test(test_spend_egress_by_source),
        cmocka_unit_test(test_spend_counts_storage),
        cmocka_unit_test(test_spend_never_falls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
