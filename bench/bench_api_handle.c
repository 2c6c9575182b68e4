/*
 * bench_api_handle.c - what one API request costs inside the server, without
 * HTTP: api_handle() called directly on a server opened without its loop
 * (as the tests and fuzzers do), on one core.  bench_api.sh measures the
 * same requests through HTTP with wrk; the difference is the HTTP layer,
 * the connection handling and the load tool.  Prints, per operation, the
 * mean time and the rate one core would sustain if it did nothing else:
 *
 *   POST /v1/jobs          durable submit (committed before the reply)
 *   GET /v1/jobs/{id}      a job that has run, with its attempt
 *   auth_token_verify      what a TCP request adds to check its token
 *   GET /metrics           one scrape, with the store holding the submits
 *   GET /v1/jobs           the whole list, with 20,000 ended jobs more (one
 *                          attempt each: where each last ran is read)
 *   store: every job       the store read under it, with the specs and
 *                          policies every job keeps (860 B and 2.5 KB
 *                          here) and without them (the list shows neither)
 *   GET /v1/jobs?limit=1000  one page of it, from the start and newest
 *                          first (what `stratus status` and the dashboard's
 *                          "show ended" read), and every page in turn
 *   GET /metrics           one scrape with 100,000 data copies more (their
 *                          keeping is in the spend counter)
 *   GET /v1/cost/series    the dashboard's spend chart over that history
 *                          (every open page asks every 2 s; a reply is
 *                          kept a second, so each call here is computed:
 *                          the query changes)
 *
 * usage: bench_api_handle [N]   (default 5000; the home is a new directory
 * under $TMPDIR or /tmp, removed at the end; STRATUS_CATALOG as for the
 * server)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/server.h"
#include "server/server_conf.h"
#include "store/store.h"
#include "util/fsutil.h"
#include "util/xmem.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const struct err *e)
{
    if (rc != 0) {
        fprintf(stderr, "bench_api_handle: %s\n", e->msg);
        exit(1);
    }
}

/* One request as admin; exits unless the status is want. */
/* One call; with `next`, the reply's "next" (0 when null). */
static void call_q(struct srv *s, const char *method, const char *path, const char *query,
                   const char *body, int want, long long *next)
{
    static const struct auth_principal admin = {AUTH_ADMIN, 0, "owner", ""};
    struct api_req rq = {method, path, query, body, body ? strlen(body) : 0,
                         &admin, 0,    NULL,  0,    NULL};
    struct api_resp rp;

    api_handle(s, &rq, &rp);
    if (rp.status != want) {
        fprintf(stderr, "bench_api_handle: %s %s: %d %.*s\n", method, path, rp.status,
                (int)rp.body_len, rp.body ? rp.body : "");
        exit(1);
    }
    if (next != NULL) {
        json_t *o = json_loadb(rp.body, rp.body_len, 0, NULL);

        *next = json_integer_value(json_object_get(o, "next"));
        json_decref(o);
    }
    api_resp_clear(&rp);
}

static void call(struct srv *s, const char *method, const char *path, const char *body,
                 int want)
{
    call_q(s, method, path, NULL, body, want, NULL);
}

static void report(const char *what, double secs, size_t n)
{
    printf("%-28s %11.1f us   %9.0f /s on one core\n", what, secs / (double)n * 1e6,
           (double)n / secs);
}

static char *submit_body(void)
{
    json_t *o = json_pack("{s:s, s:s}", "spec",
                          "name: bench\nresources:\n  accelerators: H100:8\n"
                          "  use_spot: false\nrun: \"true\"\n",
                          "file", "/tmp/bench.yaml");
    char *text = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    return text;
}

static void bench(struct srv *s, size_t n)
{
    char *body = submit_body(), *token = NULL;
    struct auth_principal who;
    struct err e;
    int64_t token_id;
    double t0;
    size_t i;

    t0 = now_s();
    for (i = 0; i < n; i++)
        call(s, "POST", "/v1/jobs", body, 201);
    report("POST /v1/jobs", now_s() - t0, n);
    t0 = now_s();
    for (i = 0; i < n; i++)
        call(s, "GET", "/v1/jobs/1", NULL, 200);
    report("GET /v1/jobs/{id}", now_s() - t0, n);
    check(auth_token_create(s->st, s->secret, "bench", AUTH_VIEWER, (double)time(NULL),
                            &token, &token_id, &e),
          &e);
    t0 = now_s();
    for (i = 0; i < n; i++)
        check(auth_token_verify(s->st, s->secret, token, &who, &e), &e);
    report("auth_token_verify", now_s() - t0, n);
    t0 = now_s();
    for (i = 0; i < 20; i++)
        call(s, "GET", "/metrics", NULL, 200);
    report("GET /metrics", now_s() - t0, 20);
    free(token);
    free(body);
}

#define HISTORY_JOBS 20000
#define HISTORY_COPIES 100000

/* A lab's history: ended jobs with an attempt each, and data copies (nine
 * in ten deleted), written in one transaction. */
static void add_history(struct srv *s)
{
    double now = (double)time(NULL);
    /* texts of a real job's size: a spec of 860 bytes (examples/batch-eval.yaml)
     * and the policy in force of 2.5 KB (examples/policy.yaml), which every job
     * keeps; the list shows neither */
    char *spec = xcalloc(1, 861), *pol = xcalloc(1, 2561);
    struct err e;
    size_t i;

    memcpy(spec, "name: old\nrun: \"true\"\n", 22);
    memset(spec + 22, '#', 860 - 23);
    spec[859] = '\n';
    memset(pol, '#', 2559);
    pol[2559] = '\n';

    check(store_begin(s->st, &e), &e);
    for (i = 0; i < HISTORY_JOBS; i++) {
        struct store_job j;
        struct store_attempt a;

        memset(&j, 0, sizeof(j));
        j.name = "old";
        j.spec_path = "/tmp/old.yaml";
        j.spec_text = spec;
        j.policy_text = pol;
        j.state = JOB_SUCCEEDED;
        j.nattempts = 1;
        j.submitted_at = now - 7200;
        j.ended_at = now - 3600;
        check(store_job_insert(s->st, &j, &e), &e);
        memset(&a, 0, sizeof(a));
        a.job_id = j.id;
        a.n = 1;
        a.cloud = "gcp";
        a.region = "us-central1";
        a.zone = "us-central1-a";
        a.instance_type = "a2-ultragpu-1g";
        a.accelerator = "A100-80GB";
        a.nodes = 1;
        a.state = ATT_ENDED;
        a.running_at = now - 7000;
        a.ended_at = now - 3600;
        a.price_hour = 1;
        a.cost = 1;
        check(store_attempt_insert(s->st, &a, &e), &e);
    }
    for (i = 0; i < HISTORY_COPIES; i++) {
        struct store_data_replica d;
        char name[32];

        snprintf(name, sizeof(name), "job-%zu", i + 1);
        memset(&d, 0, sizeof(d));
        d.dataset = name;
        d.cloud = "gcp";
        d.region = "us-central1";
        d.src_cloud = "azure";
        d.src_region = "eastus";
        d.via = "";
        d.size_gb = 100;
        d.created_at = d.last_used_at = now - 7200;
        d.expired_at = i % 10 ? now - 3600 : 0;
        d.storage_gb_month = 0.02;
        d.job_id = (int64_t)(i % HISTORY_JOBS) + 1;
        check(store_data_put(s->st, &d, &e), &e);
    }
    check(store_commit(s->st, &e), &e);
    free(spec);
    free(pol);
}

static void bench_history(struct srv *s)
{
    double t0;
    size_t i;

    add_history(s);
    {
        /* the store read under the list: with the texts, and without */
        struct store_job_scan bare = {0, 0, 0, 0, 1};
        struct store_job *v;
        struct err e;
        size_t n;

        t0 = now_s();
        for (i = 0; i < 5; i++) {
            check(store_job_list(s->st, 0, &v, &n, &e), &e);
            store_jobs_free(v, n);
        }
        report("  store: every job, texts", now_s() - t0, 5);
        t0 = now_s();
        for (i = 0; i < 5; i++) {
            check(store_job_scan(s->st, &bare, &v, &n, &e), &e);
            store_jobs_free(v, n);
        }
        report("  store: every job, no texts", now_s() - t0, 5);
    }
    t0 = now_s();
    for (i = 0; i < 5; i++)
        call(s, "GET", "/v1/jobs", NULL, 200);
    report("GET /v1/jobs (+20k ended)", now_s() - t0, 5);
    t0 = now_s();
    for (i = 0; i < 20; i++)
        call_q(s, "GET", "/v1/jobs", "limit=1000", NULL, 200, NULL);
    report("  ?limit=1000 (first page)", now_s() - t0, 20);
    t0 = now_s();
    for (i = 0; i < 20; i++)
        call_q(s, "GET", "/v1/jobs", "limit=1000&order=desc", NULL, 200, NULL);
    report("  ?limit=1000&order=desc", now_s() - t0, 20);
    t0 = now_s();
    for (i = 0; i < 5; i++) {
        long long after = 0;
        size_t pages = 0;
        char q[64];

        do {
            snprintf(q, sizeof(q), "limit=1000&after=%lld", after);
            call_q(s, "GET", "/v1/jobs", q, NULL, 200, &after);
            pages++;
        } while (after != 0);
        if (i == 0)
            printf("  (every page: %zu pages of at most 1,000)\n", pages);
    }
    report("  every page, in turn", now_s() - t0, 5);
    t0 = now_s();
    for (i = 0; i < 20; i++)
        call(s, "GET", "/metrics", NULL, 200);
    report("GET /metrics (+100k copies)", now_s() - t0, 20);
    t0 = now_s();
    for (i = 0; i < 10; i++) {
        char q[64];

        snprintf(q, sizeof(q), "by=%s&since=%.0f", i % 2 ? "team" : "cloud",
                 (double)time(NULL) - 86400 - (double)i);
        call_q(s, "GET", "/v1/cost/series", q, NULL, 200, NULL);
    }
    report("GET /v1/cost/series (history)", now_s() - t0, 10);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *home = xasprintf("%s/stratus-bench-api-XXXXXX", tmp);
    struct srv s;
    struct err e;

    if (n == 0 || mkdtemp(home) == NULL) {
        fprintf(stderr, "usage: bench_api_handle [N > 0] (and a writable %s)\n", tmp);
        return 2;
    }
    check(srv_open(&s, home, srv_conf_default(home), &e), &e);
    printf("bench_api_handle: %zu requests each, store %s/stratus.db\n", n, home);
    bench(&s, n);
    bench_history(&s);
    srv_close(&s);
    fs_remove_tree(home, &e);
    free(home);
    return 0;
}
