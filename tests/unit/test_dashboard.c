/*
 * test_dashboard.c - the dashboard's side of the API, called through
 * api_handle() on a server opened without its loop (a "mem:" store, the
 * fixture catalog): the built-in files (types, ETags, 304, redirects), the
 * login link and the session it is traded for, the session tables in time,
 * the Cookie header, and the cost series' buckets over attempts of known
 * times and costs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "server/api.h"
#include "server/dashboard.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/server_conf.h"
#include "server/session.h"
#include "store/store.h"
#include "testutil.h"
#include "util/clock.h"

#define MINI TEST_DATA "/catalog-mini"
#define E (&(struct err){0})
#define OK(x) assert_int_equal((x), 0)

struct fx {
    char *home;
    struct srv s;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct srv_conf *c = xcalloc(1, sizeof(*c));
    struct srv *s = &f->s;
    struct err e;

    f->home = tu_mkdtemp();
    c->store_path = xstrdup("mem:");
    c->max_body = 8192;
    s->home = xstrdup(f->home);
    s->conf = c;
    s->m = metrics_new();
    err_clear(&e);
    if (store_open(&s->st, c->store_path, &e) != 0 ||
        catalog_load(&s->cat, MINI, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    srv_close(&f->s);
    tu_rmdir(f->home);
    free(f->home);
    free(f);
    return 0;
}

/* One GET or POST as role (tls: over HTTPS; inm: If-None-Match). */
static void call(struct srv *s, enum auth_role role, const char *method, const char *path,
                 const char *query, const char *inm, int tls, struct api_resp *rp)
{
    struct auth_principal who = {role, 0, "owner", ""};
    struct api_req rq = {method, path, query, NULL, 0, &who, 0, inm, tls, NULL};

    api_handle(s, &rq, rp);
}

static json_t *body_json(const struct api_resp *rp)
{
    json_t *o = json_loadb(rp->body, rp->body_len, 0, NULL);

    assert_non_null(o);
    return o;
}

/* ---- the built-in files ---- */

static void test_static_files(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    struct api_resp rp;
    const char *etag;
    size_t i;

    call(s, AUTH_NONE, "GET", "/", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 302);
    assert_string_equal(rp.location, "/ui/");
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 302);
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    assert_string_equal(rp.route, "GET /ui/{rest}");
    assert_string_equal(rp.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(rp.body, "<title>Stratus</title>"));
    assert_string_equal(rp.cache_control, "no-cache");
    etag = rp.etag;
    assert_true(etag != NULL && etag[0] == '"');
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/", NULL, etag, 0, &rp);
    assert_int_equal(rp.status, 304);
    assert_int_equal(rp.body_len, 0);
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/nosuch.js", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 404);
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/../server.secret", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 404);
    api_resp_clear(&rp);
    /* every file is served, with its own ETag and a type by its name */
    assert_true(dash_nfiles >= 6);
    for (i = 0; i < dash_nfiles; i++) {
        char *path = xasprintf("/ui/%s", dash_files[i].path);

        call(s, AUTH_NONE, "GET", path, NULL, NULL, 0, &rp);
        assert_int_equal(rp.status, 200);
        assert_int_equal(rp.body_len, dash_files[i].len);
        assert_memory_equal(rp.body, dash_files[i].data, rp.body_len);
        assert_ptr_equal(rp.etag, dash_files[i].etag);
        if (strstr(path, "LICENSE"))
            assert_string_equal(rp.content_type, "text/plain; charset=utf-8");
        if (strcmp(path + strlen(path) - 3, ".js") == 0)
            assert_string_equal(rp.content_type, "text/javascript; charset=utf-8");
        api_resp_clear(&rp);
        free(path);
    }
}

/* ---- login links and sessions ---- */

static void add_tcp_listener(struct srv *s, const char *host, int port)
{
    struct srv_conf *c = s->conf;

    c->listen = xrealloc(c->listen, (c->nlisten + 1) * sizeof(*c->listen));
    memset(&c->listen[c->nlisten], 0, sizeof(*c->listen));
    c->listen[c->nlisten].kind = SRV_LISTEN_TCP;
    c->listen[c->nlisten].host = xstrdup(host);
    c->listen[c->nlisten].port = port;
    c->nlisten++;
}

static void test_login_link(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    struct auth_principal who;
    struct api_resp rp;
    char value[SESSION_VALUE_MAX], *query;
    const char *url, *code;
    json_t *o;

    call(s, AUTH_ADMIN, "POST", "/v1/login-links", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 409);
    assert_non_null(strstr(rp.body, "no TCP listener"));
    assert_non_null(strstr(rp.body, "server.yaml"));
    api_resp_clear(&rp);
    call(s, AUTH_MEMBER, "POST", "/v1/login-links", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 403);
    api_resp_clear(&rp);

    add_tcp_listener(s, "0.0.0.0", 8470);
    add_tcp_listener(s, "127.0.0.1", 8471); /* loopback wins */
    call(s, AUTH_ADMIN, "POST", "/v1/login-links", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 201);
    o = body_json(&rp);
    url = json_string_value(json_object_get(o, "url"));
    assert_non_null(url);
    assert_int_equal(strncmp(url, "http://127.0.0.1:8471/ui/login?code=lc_", 39), 0);
    code = strstr(url, "code=") + 5;
    query = xasprintf("code=%s", code);
    api_resp_clear(&rp);

    call(s, AUTH_NONE, "GET", "/ui/login", query, NULL, 0, &rp);
    assert_int_equal(rp.status, 303);
    assert_string_equal(rp.location, "/ui/");
    assert_non_null(rp.set_cookie);
    assert_int_equal(strncmp(rp.set_cookie, "stratus_session=ss_", 19), 0);
    assert_non_null(strstr(rp.set_cookie, "; HttpOnly; SameSite=Strict"));
    assert_null(strstr(rp.set_cookie, "Secure"));
    OK(session_cookie_find(rp.set_cookie, value, sizeof(value)));
    OK(session_verify(s->sessions, value, clock_now(&clock_wall), &who));
    assert_int_equal(who.role, AUTH_ADMIN);
    api_resp_clear(&rp);

    /* logging out ends the session (the browser sends its cookie) */
    {
        struct auth_principal owner = {AUTH_ADMIN, 0, "dashboard", ""};
        struct api_req rq = {"GET", "/ui/logout", NULL, NULL, 0, &owner, 0, NULL, 0, value};
        struct api_resp out;

        api_handle(s, &rq, &out);
        assert_int_equal(out.status, 303);
        assert_non_null(strstr(out.set_cookie, "stratus_session=; Path=/; Max-Age=0"));
        assert_int_equal(session_verify(s->sessions, value, clock_now(&clock_wall), &who), -1);
        api_resp_clear(&out);
    }

    call(s, AUTH_NONE, "GET", "/ui/login", query, NULL, 0, &rp); /* once only */
    assert_int_equal(rp.status, 401);
    assert_string_equal(rp.content_type, "text/html; charset=utf-8");
    assert_null(strstr(rp.body, code));
    assert_null(rp.set_cookie);
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/login", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 401);
    api_resp_clear(&rp);
    free(query);
    json_decref(o);

    /* over HTTPS the cookie is Secure */
    call(s, AUTH_ADMIN, "POST", "/v1/login-links", NULL, NULL, 0, &rp);
    o = body_json(&rp);
    query = xasprintf("code=%s",
                      strstr(json_string_value(json_object_get(o, "url")), "code=") + 5);
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/ui/login", query, NULL, 1, &rp);
    assert_int_equal(rp.status, 303);
    assert_non_null(strstr(rp.set_cookie, "; Secure"));
    api_resp_clear(&rp);
    free(query);
    json_decref(o);
}

static void test_session_times(void **state)
{
    struct sessions *ss = sessions_new();
    char code[SESSION_VALUE_MAX], value[SESSION_VALUE_MAX], first[SESSION_VALUE_MAX];
    struct auth_principal who;
    struct err e;
    int i;

    (void)state;
    OK(session_code_create(ss, 1000, code, &e));
    assert_int_equal(session_redeem(ss, code, 1000 + SESSION_CODE_TTL_S, value, &e),
                     ST_ENOTFOUND); /* too late */
    OK(session_code_create(ss, 1000, code, &e));
    OK(session_redeem(ss, code, 1059, value, &e));
    OK(session_verify(ss, value, 1059 + SESSION_TTL_S - 1, &who));
    assert_int_equal(session_verify(ss, value, 1059 + SESSION_TTL_S, &who), -1);
    assert_int_equal(session_verify(ss, "ss_nosuch", 1060, &who), -1);
    assert_int_equal(session_verify(NULL, value, 1060, &who), -1);
    /* a full table drops its oldest session */
    memcpy(first, value, sizeof(first));
    for (i = 0; i < 256; i++) {
        OK(session_code_create(ss, 2000 + i, code, &e));
        OK(session_redeem(ss, code, 2000 + i, value, &e));
    }
    assert_int_equal(session_verify(ss, first, 2300, &who), -1);
    OK(session_verify(ss, value, 2300, &who));
    sessions_free(ss);
}

static void test_cookie_header(void **state)
{
    static const struct {
        const char *header, *want; /* want NULL: not found */
    } cases[] = {
        {"stratus_session=abc", "abc"},
        {"a=1; stratus_session=abc; b=2", "abc"},
        {"a=1;stratus_session=abc ", "abc"},
        {"xstratus_session=abc", NULL},
        {"stratus_sessionx=abc", NULL},
        {"stratus_session=", NULL},
        {"stratus_session", NULL},
        {"", NULL},
        {"a=b", NULL},
    };
    char out[SESSION_VALUE_MAX], small[4];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = session_cookie_find(cases[i].header, out, sizeof(out));

        if (cases[i].want == NULL) {
            assert_int_equal(rc, -1);
        } else {
            OK(rc);
            assert_string_equal(out, cases[i].want);
        }
    }
    assert_int_equal(session_cookie_find("stratus_session=abcd", small, sizeof(small)),
                     -1);
    assert_int_equal(session_cookie_find(NULL, out, sizeof(out)), -1);
}

/* ---- the cost series ---- */

static int64_t add_job(struct store *st, char *team)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.name = "job";
    j.spec_path = "job.yaml";
    j.spec_text = "name: job\n";
    j.team = team;
    j.state = JOB_SUCCEEDED;
    j.exit_code = 0;
    OK(store_job_insert(st, &j, E));
    return j.id;
}

static void add_attempt(struct store *st, int64_t job, char *cloud, double from,
                        double to, double cost)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.job_id = job;
    a.n = 1;
    a.cloud = cloud;
    a.region = "r";
    a.zone = "";
    a.instance_type = "t";
    a.accelerator = "H100";
    a.nodes = 1;
    a.state = ATT_ENDED;
    a.cost = cost;
    a.launched_at = from;
    a.running_at = from;
    a.ended_at = to;
    a.exit_code = 0;
    OK(store_attempt_insert(st, &a, E));
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* Replace the catalog's commitments by the rows of text (a header alone:
 * none). */
static void set_commitments(struct srv *s, const char *rows)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/c.csv", dir);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fprintf(f, "cloud,region,zone,instance_type,nodes,start,end,price_hour\n%s", rows);
    fclose(f);
    OK(catalog_load_commitments(s->cat, path, E));
    tu_rmdir(dir);
    free(path);
    free(dir);
}

static void test_cost_series(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    double base = floor(clock_now(&clock_wall) / 10) * 10 - 200;
    struct api_resp rp;
    const json_t *ser, *usd;
    char *q;
    json_t *o;
    size_t b;

    set_commitments(s, ""); /* the fixture's: test_cost_series_commitments */
    add_attempt(s->st, add_job(s->st, "research"), "gcp", base, base + 60, 6.0);
    add_attempt(s->st, add_job(s->st, "product"), "oci", base + 30, base + 50, 1.0);
    add_attempt(s->st, add_job(s->st, NULL), "gcp", base + 100, base + 100, 0.5);
    q = xasprintf("by=cloud&step=10&since=%.0f", base);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_true(fabs(num(o, "total") - 7.5) < 1e-9);
    assert_true(num(o, "start") == base && num(o, "step") == 10);
    ser = json_array_get(json_object_get(o, "series"), 0); /* the largest first */
    assert_string_equal(json_string_value(json_object_get(ser, "key")), "gcp");
    usd = json_object_get(ser, "usd");
    assert_int_equal(json_array_size(usd), json_array_size(json_object_get(o, "t")));
    for (b = 0; b < 6; b++) /* $6 over 60 s: $1 in each 10 s */
        assert_true(fabs(json_number_value(json_array_get(usd, b)) - 1.0) < 1e-9);
    assert_true(json_number_value(json_array_get(usd, 6)) == 0);
    assert_true(fabs(json_number_value(json_array_get(usd, 10)) - 0.5) <
                1e-9); /* no run time */
    ser = json_array_get(json_object_get(o, "series"), 1);
    usd = json_object_get(ser, "usd");
    assert_true(fabs(json_number_value(json_array_get(usd, 3)) - 0.5) < 1e-9);
    assert_true(fabs(json_number_value(json_array_get(usd, 4)) - 0.5) < 1e-9);
    json_decref(o);
    api_resp_clear(&rp);

    /* the same question within a second: the same answer, even if the
     * store moved; another caller's is its own */
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    add_attempt(s->st, add_job(s->st, "research"), "gcp", base, base + 10, 100.0);
    {
        struct api_resp again;
        json_t *o2;

        call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &again);
        assert_int_equal(again.status, 200);
        assert_string_equal(again.route, "GET /v1/cost/series");
        assert_int_equal(again.body_len, rp.body_len);
        assert_memory_equal(again.body, rp.body, rp.body_len);
        api_resp_clear(&again);
        call(s, AUTH_ADMIN, "GET", "/v1/cost/series", q, NULL, 0, &again);
        o2 = body_json(&again);
        assert_true(fabs(num(o2, "total") - 107.5) < 1e-9);
        json_decref(o2);
        api_resp_clear(&again);
    }
    api_resp_clear(&rp);
    free(q);

    /* by team; from a later start only what ran after it */
    q = xasprintf("by=team&step=10&since=%.0f", base + 30);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_true(fabs(num(o, "total") - 4.5) < 1e-9); /* 3 + 1 + 0.5: $100 ran before */
    ser = json_object_get(o, "series");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ser, 0), "key")),
                        "research");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ser, 2), "key")),
                        "(none)");
    json_decref(o);
    api_resp_clear(&rp);
    free(q);

    /* a step of its own choosing, and bad queries */
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_true(json_array_size(json_object_get(o, "t")) <= 240);
    json_decref(o);
    api_resp_clear(&rp);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", "by=job", NULL, 0, &rp);
    assert_int_equal(rp.status, 400);
    api_resp_clear(&rp);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", "step=1&since=1", NULL, 0, &rp);
    assert_int_equal(rp.status, 400);
    assert_non_null(strstr(rp.body, "larger step"));
    api_resp_clear(&rp);
    call(s, AUTH_NONE, "GET", "/v1/cost/series", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 401);
    api_resp_clear(&rp);
}

/* By cloud, an attempt's data move is in the series of the cloud its data
 * left (docs/data.md): a gcp attempt's $3 move of data from azure/eastus is
 * Azure's, its $6 of compute GCP's. */
static void test_cost_series_egress(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    double base = floor(clock_now(&clock_wall) / 10) * 10 - 200;
    struct store_data_replica d;
    struct store_attempt *v = NULL;
    struct api_resp rp;
    const json_t *ser;
    size_t n = 0, i;
    char *q;
    json_t *o;
    int64_t job;

    set_commitments(s, "");
    job = add_job(s->st, "research");
    add_attempt(s->st, job, "gcp", base, base + 60, 9.0);
    OK(store_attempt_list(s->st, -1, &v, &n, E));
    assert_int_equal(n, 1);
    v[0].egress = 3;
    OK(store_attempt_update(s->st, &v[0], E));
    memset(&d, 0, sizeof(d));
    d.dataset = "job:1";
    d.cloud = "gcp";
    d.region = "us-central1";
    d.src_cloud = "azure";
    d.src_region = "eastus";
    d.size_gb = 10;
    d.created_at = d.last_used_at = base;
    d.egress = 3;
    d.job_id = job;
    d.attempt_id = v[0].id;
    OK(store_data_put(s->st, &d, E));
    store_attempts_free(v, n);
    q = xasprintf("by=cloud&step=10&since=%.0f", base);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_true(fabs(num(o, "total") - 9) < 1e-9);
    for (i = 0; i < 2; i++) {
        const char *k;

        ser = json_array_get(json_object_get(o, "series"), i);
        k = json_string_value(json_object_get(ser, "key"));
        assert_true(fabs(num(ser, "total") - (strcmp(k, "gcp") == 0 ? 6 : 3)) < 1e-9);
        if (strcmp(k, "azure") == 0) /* all of it when it started */
            assert_true(
                fabs(json_number_value(json_array_get(json_object_get(ser, "usd"), 0)) -
                     3) < 1e-9);
    }
    assert_int_equal(json_array_size(json_object_get(o, "series")), 2);
    json_decref(o);
    api_resp_clear(&rp);
    free(q);
}

/* The commitments' fees in the series, by the hour as `stratus cost`
 * counts them: 2 nodes at $180/node-h are $1 in each 10 s bucket, under
 * their cloud, by team under "(commitments)"; not for a user's token. */
static void test_cost_series_commitments(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    double base = floor(clock_now(&clock_wall) / 10) * 10 - 200;
    struct auth_principal who = {AUTH_ADMIN, 5, "alice-token", "alice"};
    struct api_req rq = {"GET", "/v1/cost/series", NULL, NULL, 0, &who, 0, NULL, 0, NULL};
    struct api_resp rp;
    const json_t *ser, *usd;
    char *q;
    json_t *o;
    size_t b;

    set_commitments(s, "azure,eastus,,Standard_ND96isr_H100_v5,2,2020-01-01,,180.00\n");
    add_attempt(s->st, add_job(s->st, "research"), "gcp", base, base + 60, 6.0);
    q = xasprintf("by=cloud&step=10&since=%.0f", base);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    ser = json_array_get(json_object_get(o, "series"), 0); /* the largest first */
    assert_string_equal(json_string_value(json_object_get(ser, "key")), "azure");
    usd = json_object_get(ser, "usd");
    for (b = 0; b + 1 < json_array_size(usd); b++) /* the last: up to now */
        assert_true(fabs(json_number_value(json_array_get(usd, b)) - 1.0) < 1e-9);
    assert_true(fabs(num(o, "total") - 6.0 - num(ser, "total")) < 1e-9);
    assert_true(num(ser, "total") >= 20 - 1e-9);
    json_decref(o);
    api_resp_clear(&rp);
    free(q);

    q = xasprintf("by=team&step=10&since=%.0f", base);
    call(s, AUTH_VIEWER, "GET", "/v1/cost/series", q, NULL, 0, &rp);
    o = body_json(&rp);
    ser = json_array_get(json_object_get(o, "series"), 0);
    assert_string_equal(json_string_value(json_object_get(ser, "key")), "(commitments)");
    json_decref(o);
    api_resp_clear(&rp);

    /* asked from no given time: from the commitment's start (2020-01-01),
     * as stratus cost counts it, not only from the first attempt */
    {
        struct api_resp all;
        double t0 = clock_now(&clock_wall);
        json_t *oa;

        call(s, AUTH_VIEWER, "GET", "/v1/cost/series", "by=cloud", NULL, 0, &all);
        assert_int_equal(all.status, 200);
        oa = body_json(&all);
        assert_true(num(oa, "start") <= 1577836800.0);
        ser = json_array_get(json_object_get(oa, "series"), 0);
        assert_string_equal(json_string_value(json_object_get(ser, "key")), "azure");
        assert_true(fabs(num(ser, "total") - 360 * (t0 - 1577836800.0) / 3600) < 360 * 2);
        json_decref(oa);
        api_resp_clear(&all);
    }

    rq.query = q; /* a user's token: its teams' spend only */
    api_handle(s, &rq, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_int_equal(json_array_size(json_object_get(o, "series")), 0);
    json_decref(o);
    api_resp_clear(&rp);
    free(q);
}

static void test_regions(void **state)
{
    struct srv *s = &((struct fx *)*state)->s;
    struct api_resp rp;
    const json_t *r;
    json_t *o;

    call(s, AUTH_VIEWER, "GET", "/v1/regions", NULL, NULL, 0, &rp);
    assert_int_equal(rp.status, 200);
    o = body_json(&rp);
    assert_int_equal(json_array_size(json_object_get(o, "regions")),
                     catalog_nregions(s->cat));
    r = json_array_get(json_object_get(o, "regions"), 0);
    assert_non_null(json_object_get(r, "lat"));
    assert_non_null(json_object_get(r, "lon"));
    json_decref(o);
    api_resp_clear(&rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_static_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_link, setup, teardown),
        cmocka_unit_test(test_session_times),
        cmocka_unit_test(test_cookie_header),
        cmocka_unit_test_setup_teardown(test_cost_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_series_commitments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_series_egress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regions, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
