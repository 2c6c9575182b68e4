/*
 * api_dashboard.c - the API's handlers for the web dashboard
 * (docs/dashboard.md): its static files (built in: dashboard.h), the login
 * link a `stratus dashboard` asks for and the page that trades it for a
 * session cookie (session.h), and the two reads only the page needs: the
 * catalog's regions with their coordinates, and spend over time.
 *
 * Layout: static files; login; regions; the cost series.
 */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../sched/sched.h"
#include "../store/store.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "dashboard.h"
#include "server.h"
#include "session.h"

#define UI_INDEX "index.html"
/* Revalidate every time: a file changes with the binary, and a 304 costs a
 * round trip without the bytes. */
#define UI_CACHE "no-cache"

/* ---- static files ---- */

static const char *content_type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    size_t len = strlen(path), i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t el = strlen(types[i].ext);

        if (len > el && strcmp(path + len - el, types[i].ext) == 0)
            return types[i].type;
    }
    return "text/plain; charset=utf-8"; /* LICENSE files */
}

static const struct dash_file *file_find(const char *path)
{
    size_t i;

    for (i = 0; i < dash_nfiles; i++)
        if (strcmp(dash_files[i].path, path) == 0)
            return &dash_files[i];
    return NULL;
}

/* Reply with bytes built into the binary (never copied, never freed). */
static void reply_static(struct api_call *c, int status, const char *type,
                         const void *data, size_t len)
{
    struct api_resp *rp = c->rp;
    const char *route = rp->route;

    api_resp_clear(rp);
    rp->route = route;
    rp->status = status;
    rp->content_type = type;
    rp->body = (char *)(uintptr_t)data;
    rp->body_len = len;
    rp->body_static = 1;
}

/* Reply with a redirect to to (a path on this server). */
static void reply_redirect(struct api_call *c, int status, const char *to)
{
    static const char body[] = "<!doctype html><title>Stratus</title>"
                               "<a href=\"/ui/\">Stratus dashboard</a>\n";

    reply_static(c, status, "text/html; charset=utf-8", body, sizeof(body) - 1);
    c->rp->location = xstrdup(to);
    c->rp->cache_control = "no-store";
}

/* GET / and GET /ui (anyone): to the dashboard. */
void api_ui_root(struct api_call *c)
{
    reply_redirect(c, 302, "/ui/");
}

/* GET /ui/{rest} (anyone: the page holds no data; it reads the API, which
 * asks for a token or a session): a built-in file, 304 when the browser's
 * copy is that one. */
void api_ui_file(struct api_call *c)
{
    const char *want = c->param && *c->param ? c->param : UI_INDEX;
    const struct dash_file *f = file_find(want);
    char shown[128];

    if (f == NULL) {
        api_failf(c, ST_ENOTFOUND, "the dashboard has no file '%s'",
                  str_vis(shown, sizeof(shown), want));
        return;
    }
    if (c->rq->if_none_match != NULL && strstr(c->rq->if_none_match, f->etag) != NULL)
        reply_static(c, 304, content_type_of(f->path), "", 0);
    else
        reply_static(c, 200, content_type_of(f->path), f->data, f->len);
    c->rp->etag = f->etag;
    c->rp->cache_control = UI_CACHE;
}

/* ---- login ---- */

/* POST /v1/login-links (admin): a one-time code for a browser, as a link to
 * the server's TCP listener. */
void api_login_links_create(struct api_call *c)
{
    char base[512], code[SESSION_VALUE_MAX];
    struct err e;
    json_t *o;

    err_clear(&e);
    if (srv_http_url(c->s, base, sizeof(base), &e) != 0) {
        e.code = ST_ESTATE;
        api_fail(c, &e);
        return;
    }
    if (c->s->sessions == NULL)
        c->s->sessions = sessions_new();
    if (session_code_create(c->s->sessions, c->now, code, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    o = json_object();
    json_object_set_new(o, "url", json_sprintf("%s/ui/login?code=%s", base, code));
    json_object_set_new(o, "expires_in", json_real(SESSION_CODE_TTL_S));
    json_object_set_new(o, "expires_at", json_real(c->now + SESSION_CODE_TTL_S));
    api_reply(c, 201, o);
}

/* The page a link that does not work shows (the code is not repeated). */
static void login_refused(struct api_call *c, const struct err *e)
{
    static const char head[] =
        "<!doctype html><meta charset=utf-8><title>Stratus: login link</title>"
        "<body style=\"font:16px system-ui,sans-serif;margin:3em\"><h1>Login link "
        "refused</h1><p>";
    const char *route = c->rp->route;
    char *page = xasprintf("%s%s</p><p><a href=\"/ui/\">Open the dashboard with a "
                           "token instead</a></p>\n",
                           head, e->msg);

    api_resp_clear(c->rp);
    c->rp->route = route;
    c->rp->status = 401;
    c->rp->content_type = "text/html; charset=utf-8";
    c->rp->body = page;
    c->rp->body_len = strlen(page);
    c->rp->cache_control = "no-store";
}

/* GET /ui/login?code=... (anyone holding a code): the code for a session
 * cookie, then to the dashboard. */
void api_ui_login(struct api_call *c)
{
    char code[SESSION_VALUE_MAX + 1], value[SESSION_VALUE_MAX];
    struct err e;
    int tls = c->rq->tls;

    err_clear(&e);
    if (!api_query(c, "code", code, sizeof(code)) || c->s->sessions == NULL ||
        session_redeem(c->s->sessions, code, c->now, value, &e) != 0) {
        if (e.code == 0)
            err_set(&e, ST_ENOTFOUND,
                    "this login link is not valid (run `stratus "
                    "dashboard` for a new one)");
        login_refused(c, &e);
        return;
    }
    reply_redirect(c, 303, "/ui/");
    c->rp->set_cookie =
        xasprintf("%s=%s; Path=/; Max-Age=%.0f; HttpOnly; SameSite=Strict%s",
                  SESSION_COOKIE, value, SESSION_TTL_S, tls ? "; Secure" : "");
}

/* GET /ui/logout (anyone): end the session the browser came with, if any,
 * and have it forget the cookie; then to the dashboard (a token in the
 * tab's sessionStorage is the page's to forget). */
void api_ui_logout(struct api_call *c)
{
    if (c->rq->session != NULL)
        session_end(c->s->sessions, c->rq->session);
    reply_redirect(c, 303, "/ui/");
    c->rp->set_cookie = xasprintf("%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                                  SESSION_COOKIE, c->rq->tls ? "; Secure" : "");
}

/* ---- regions ---- */

/* GET /v1/regions (viewer): every region of the catalog, with coordinates. */
void api_regions(struct api_call *c)
{
    json_t *arr = json_array(), *o;
    size_t i, n = c->s->cat ? catalog_nregions(c->s->cat) : 0;

    for (i = 0; i < n; i++) {
        const struct region *r = catalog_region_at(c->s->cat, i);

        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:f, s:f, s:s}", "cloud", r->cloud,
                                        "region", r->name, "lat", r->lat, "lon", r->lon,
                                        "continent", r->continent ? r->continent : ""));
    }
    o = json_object();
    json_object_set_new(o, "regions", arr);
    api_reply(c, 200, o);
}

/* ---- the cost series ----
 * Each attempt's data move counts when it started running, its compute over
 * the time it ran at each price (store_attempt_split: the stretch at its
 * last price exactly, the ones before spread evenly), summed per bucket of
 * `step` seconds per key (cloud or team).  An attempt whose price changed
 * more than once has the earlier changes spread; never the total. */
#define SERIES_MAX_BUCKETS 5000
#define SERIES_AUTO_BUCKETS 240

struct series {
    char *key;
    double *usd; /* one per bucket */
    double total;
};

struct series_set {
    struct series *v;
    size_t n, cap, nb;
    double t0, step;
};

static struct series *series_of(struct series_set *ss, const char *key)
{
    size_t i;

    for (i = 0; i < ss->n; i++)
        if (strcmp(ss->v[i].key, key) == 0)
            return &ss->v[i];
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? 2 * ss->cap : 8;
        ss->v = xrealloc(ss->v, ss->cap * sizeof(*ss->v));
    }
    ss->v[ss->n].key = xstrdup(key);
    ss->v[ss->n].usd = xcalloc(ss->nb, sizeof(double));
    ss->v[ss->n].total = 0;
    return &ss->v[ss->n++];
}

/* Add usd spent evenly over [from, to) to key's buckets (what falls outside
 * the buckets' span is not shown). */
static void series_add(struct series_set *ss, const char *key, double from, double to,
                       double usd)
{
    double end = ss->t0 + ss->step * (double)ss->nb, len = to - from;
    struct series *se;
    size_t b;

    if (usd == 0 || to < ss->t0 || from >= end)
        return;
    se = series_of(ss, key);
    if (len <= 0) {
        b = (size_t)((from - ss->t0) / ss->step);
        se->usd[b < ss->nb ? b : ss->nb - 1] += usd;
        se->total += usd;
        return;
    }
    b = from > ss->t0 ? (size_t)((from - ss->t0) / ss->step) : 0;
    for (; b < ss->nb && ss->t0 + ss->step * (double)b < to; b++) {
        double lo = ss->t0 + ss->step * (double)b, hi = lo + ss->step;
        double ov = fmin(hi, to) - fmax(lo, from);

        if (ov > 0) {
            se->usd[b] += usd * ov / len;
            se->total += usd * ov / len;
        }
    }
}

/* Attempt a's data move, when it started running: by cloud to the clouds
 * that bill it (sched_attempt_egress), else to key k. */
static void series_egress(struct series_set *ss, const char *by, const char *k,
                          const struct store_attempt *a, const struct sched_copies *cp,
                          const struct catalog *cat)
{
    struct sched_egress_part p[SCHED_EGRESS_HOPS];
    size_t np, i;

    if (strcmp(by, "cloud") != 0) {
        series_add(ss, k, a->running_at, a->running_at, a->egress);
        return;
    }
    np = sched_attempt_egress(cat, cp, a, a->egress, k, p);
    for (i = 0; i < np; i++)
        series_add(ss, p[i].cloud, a->running_at, a->running_at, p[i].usd);
}

static void series_free(struct series_set *ss)
{
    size_t i;

    for (i = 0; i < ss->n; i++) {
        free(ss->v[i].key);
        free(ss->v[i].usd);
    }
    free(ss->v);
}

static int series_by_total(const void *a, const void *b)
{
    const struct series *x = a, *y = b;

    return x->total < y->total ? 1 : x->total > y->total ? -1 : strcmp(x->key, y->key);
}

/* The job of id in v (n jobs in id order), or NULL. */
static const struct store_job *job_find(const struct store_job *v, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid].id == id)
            return &v[mid];
        if (v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The query of GET /v1/cost/series: 0, or replied 400 and -1. */
static int series_query(struct api_call *c, char *by, size_t n, long *step, long *since)
{
    char shown[64];

    snprintf(by, n, "cloud");
    if (api_query(c, "by", by, n) && strcmp(by, "cloud") != 0 &&
        strcmp(by, "team") != 0) {
        api_failf(c, ST_EINVAL, "?by= takes cloud or team, not '%s'",
                  str_vis(shown, sizeof(shown), by));
        return -1;
    }
    if (api_query_long(c, "step", 1, 366L * 86400, 0, step) != 0 ||
        api_query_long(c, "since", 0, 1L << 40, 0, since) != 0)
        return -1;
    return 0;
}

/* The span the buckets cover: from since (else the first start) to now, in
 * steps of step (else the first of a ladder that makes at most
 * SERIES_AUTO_BUCKETS). 0, or replied 400 and -1. */
static int series_span(struct api_call *c, struct series_set *ss, double first, long step,
                       long since)
{
    static const long ladder[] = {10, 30, 60, 300, 900, 3600, 21600, 86400, 604800};
    double from = since > 0 ? (double)since : first > 0 ? first : c->now;
    double span = fmax(c->now - from, 1), nb;
    size_t i;

    for (i = 0; step == 0 && i < sizeof(ladder) / sizeof(ladder[0]); i++)
        if (span / (double)ladder[i] <= SERIES_AUTO_BUCKETS ||
            i + 1 == sizeof(ladder) / sizeof(ladder[0]))
            step = ladder[i];
    ss->step = (double)step;
    ss->t0 = floor(from / ss->step) * ss->step;
    nb = ceil((c->now - ss->t0) / ss->step);
    if (nb > SERIES_MAX_BUCKETS) {
        api_failf(c, ST_EINVAL,
                  "?step=%ld makes %.0f buckets, more than %d: ask for a larger step or "
                  "a later ?since=",
                  step, nb, SERIES_MAX_BUCKETS);
        return -1;
    }
    ss->nb = nb < 1 ? 1 : (size_t)nb;
    return 0;
}

/* The series as JSON: {"by", "step", "start", "end", "t", "series", "total"}. */
static json_t *series_json(struct series_set *ss, const char *by, double now)
{
    json_t *o = json_object(), *t = json_array(), *arr = json_array();
    double total = 0;
    size_t i, b;

    if (ss->n > 1)
        qsort(ss->v, ss->n, sizeof(*ss->v), series_by_total);
    for (b = 0; b < ss->nb; b++)
        json_array_append_new(t, json_real(ss->t0 + ss->step * (double)b));
    for (i = 0; i < ss->n; i++) {
        json_t *u = json_array();

        for (b = 0; b < ss->nb; b++)
            json_array_append_new(u, json_real(ss->v[i].usd[b]));
        json_array_append_new(arr, json_pack("{s:s, s:o, s:f}", "key", ss->v[i].key,
                                             "usd", u, "total", ss->v[i].total));
        total += ss->v[i].total;
    }
    json_object_set_new(o, "by", json_string(by));
    json_object_set_new(o, "step", json_real(ss->step));
    json_object_set_new(o, "start", json_real(ss->t0));
    json_object_set_new(o, "end", json_real(now));
    json_object_set_new(o, "t", t);
    json_object_set_new(o, "series", arr);
    json_object_set_new(o, "total", json_real(total));
    return o;
}

/* 1 when attempt a counts for the caller: it ran, and its job's team is
 * one the caller may see. */
static int series_counts(struct api_call *c, const struct store_attempt *a,
                         const struct store_job *j)
{
    return j != NULL && a->running_at > 0 && api_team_role(c, j->team) >= AUTH_VIEWER;
}

/* What attempt a of job j is summed under: its team or its cloud. */
static const char *series_key(const char *by, const struct store_job *j,
                              const struct store_attempt *a)
{
    const char *k = strcmp(by, "team") == 0 ? j->team : a->cloud;

    return k != NULL && *k ? k : "(none)";
}

/* Keeping the data replicas jobs made, over their keeping (as `stratus
 * cost` counts it, each copy to the job that made it), for the jobs the
 * caller sees.  jobs (nj): every job, by id; cp: every copy when they were
 * read already (by cloud, for the data moves), else NULL. */
static void series_storage(struct api_call *c, struct series_set *ss, const char *by,
                           const struct store_job *jobs, size_t nj,
                           const struct sched_copies *cp)
{
    struct store_data_replica *v = NULL, *own = NULL;
    size_t i, n = 0;
    struct err e;

    err_clear(&e);
    if (cp != NULL) {
        v = cp->v;
        n = cp->n;
    } else if (store_data_list(c->s->st, NULL, 0, &own, &n, &e) != 0) {
        return; /* the compute series stand without it */
    } else {
        v = own;
    }
    for (i = 0; i < n; i++) {
        const struct store_job *j = job_find(jobs, nj, v[i].job_id);
        const char *k = strcmp(by, "team") == 0 ? (j ? j->team : NULL) : v[i].cloud;

        if (j == NULL || v[i].home || api_team_role(c, j->team) < AUTH_VIEWER)
            continue;
        series_add(ss, k != NULL && *k ? k : "(none)", v[i].created_at,
                   v[i].expired_at > 0 ? v[i].expired_at : c->now,
                   store_data_storage_cost(&v[i], c->now));
    }
    store_data_replicas_free(own, own ? n : 0);
}

/* The fees of the catalog's commitments, by the hour over their windows up
 * to now (as `stratus cost` counts them: api_cost.c), under their cloud, or
 * by team under "(commitments)": they are the lab's.  Only for a caller who
 * sees every team. */
static void series_commitments(struct api_call *c, struct series_set *ss, const char *by)
{
    size_t i;

    if (c->rq->who->user[0] != '\0' || c->s->cat == NULL)
        return;
    for (i = 0; i < catalog_ncommitments(c->s->cat); i++) {
        const struct commitment *m = catalog_commitment(c->s->cat, i);
        double from = fmax(srv_commit_from(c->s, c->now, m), ss->t0);
        double to = m->end > 0 ? fmin(m->end, c->now) : c->now;

        if (to > from)
            series_add(ss, strcmp(by, "team") == 0 ? "(commitments)" : m->cloud, from, to,
                       catalog_commitment_cost(m, from, to));
    }
}

/* The series, computed from every job and attempt of the store. */
static void series_compute(struct api_call *c)
{
    /* every job in id order, without the specs, which it does not read */
    static const struct store_job_scan all_bare = {0, 0, 0, 0, 1};
    struct store_attempt *a = NULL;
    struct store_job *jobs = NULL;
    struct series_set ss;
    struct sched_copies cp;
    size_t i, na = 0, nj = 0;
    double first = 0;
    long step, since;
    char by[16];
    struct err e;

    memset(&ss, 0, sizeof(ss));
    memset(&cp, 0, sizeof(cp));
    if (series_query(c, by, sizeof(by), &step, &since) != 0)
        return;
    err_clear(&e);
    if (store_job_scan(c->s->st, &all_bare, &jobs, &nj, &e) != 0 ||
        store_attempt_list(c->s->st, -1, &a, &na, &e) != 0 ||
        (strcmp(by, "cloud") == 0 && sched_copies_load(c->s->st, &cp, &e) != 0)) {
        store_jobs_free(jobs, nj);
        store_attempts_free(a, na);
        api_fail(c, &e);
        return;
    }
    for (i = 0; i < na; i++)
        if (series_counts(c, &a[i], job_find(jobs, nj, a[i].job_id)) &&
            (first == 0 || a[i].running_at < first))
            first = a[i].running_at;
    if (c->rq->who->user[0] == '\0' && c->s->cat != NULL) /* the fees since they began */
        for (i = 0; i < catalog_ncommitments(c->s->cat); i++) {
            double f = srv_commit_from(c->s, c->now, catalog_commitment(c->s->cat, i));

            if (f < c->now && (first == 0 || f < first))
                first = f;
        }
    if (series_span(c, &ss, first, step, since) == 0) {
        for (i = 0; i < na; i++) {
            const struct store_job *j = job_find(jobs, nj, a[i].job_id);
            int ended = a[i].ended_at > 0;

            if (series_counts(c, &a[i], j)) {
                const char *k = series_key(by, j, &a[i]);
                double p0, before, last;

                /* its data move when it started; its compute at each price
                 * over the time it ran at it */
                store_attempt_split(&a[i], c->now, &p0, &before, &last);
                series_egress(&ss, by, k, &a[i], &cp, c->s->cat);
                series_add(&ss, k, a[i].running_at, p0, before);
                series_add(&ss, k, p0, ended ? a[i].ended_at : c->now, last);
            }
        }
        series_storage(c, &ss, by, jobs, nj, strcmp(by, "cloud") == 0 ? &cp : NULL);
        series_commitments(c, &ss, by);
        api_reply(c, 200, series_json(&ss, by, c->now));
    }
    series_free(&ss);
    store_attempts_free(a, na);
    store_jobs_free(jobs, nj);
    sched_copies_free(&cp);
}

/* ---- recent series replies ----
 * Every open dashboard asks for the series every 2 s, and each answer reads
 * every job and attempt of the store.  A reply is served again for
 * SERIES_CACHE_S to the same caller (token, role, user: teams change what
 * one sees) with the same query: the spend of the last second is all it
 * can miss.  A few slots, the oldest replaced. */
#define SERIES_CACHE_SLOTS 8
#define SERIES_CACHE_S 1.0

struct series_slot {
    char *key;      /* "token id|role|user|query"; NULL = empty */
    char *body;
    size_t len;
    double made_at;
};

struct api_series_cache {
    struct series_slot slot[SERIES_CACHE_SLOTS];
};

void api_series_cache_free(struct api_series_cache *sc)
{
    size_t i;

    if (sc == NULL)
        return;
    for (i = 0; i < SERIES_CACHE_SLOTS; i++) {
        free(sc->slot[i].key);
        free(sc->slot[i].body);
    }
    free(sc);
}

static char *series_cache_key(const struct api_call *c)
{
    const struct auth_principal *who = c->rq->who;

    return xasprintf("%lld|%d|%s|%s", (long long)who->token_id, (int)who->role, who->user,
                     c->rq->query ? c->rq->query : "");
}

/* Answer from a recent reply to the same caller and query: 1, else 0. */
static int series_cached(struct api_call *c, const char *key)
{
    const struct api_series_cache *sc = c->s->series_cache;
    size_t i;

    for (i = 0; sc != NULL && i < SERIES_CACHE_SLOTS; i++) {
        const struct series_slot *sl = &sc->slot[i];

        if (sl->key == NULL || strcmp(sl->key, key) != 0 || c->now < sl->made_at ||
            c->now - sl->made_at > SERIES_CACHE_S)
            continue;
        const char *route = c->rp->route;

        api_resp_clear(c->rp);
        c->rp->route = route;
        c->rp->status = 200;
        c->rp->content_type = "application/json";
        c->rp->body = xmalloc(sl->len);
        memcpy(c->rp->body, sl->body, sl->len);
        c->rp->body_len = sl->len;
        return 1;
    }
    return 0;
}

/* Keep the reply just made (key is taken over). */
static void series_cache_put(struct api_call *c, char *key)
{
    struct series_slot *sl;
    size_t i;

    if (c->s->series_cache == NULL)
        c->s->series_cache = xcalloc(1, sizeof(*c->s->series_cache));
    sl = &c->s->series_cache->slot[0];
    for (i = 1; i < SERIES_CACHE_SLOTS; i++)
        if (c->s->series_cache->slot[i].made_at < sl->made_at)
            sl = &c->s->series_cache->slot[i];
    free(sl->key);
    free(sl->body);
    sl->key = key;
    sl->len = c->rp->body_len;
    sl->body = xmalloc(sl->len ? sl->len : 1);
    memcpy(sl->body, c->rp->body, sl->len);
    sl->made_at = c->now;
}

/* GET /v1/cost/series?by=cloud|team&step=SECONDS&since=UNIX (viewer). */
void api_cost_series(struct api_call *c)
{
    char *key = series_cache_key(c);

    if (series_cached(c, key)) {
        free(key);
        return;
    }
    series_compute(c);
    if (c->rp->status == 200 && c->rp->body != NULL)
        series_cache_put(c, key);
    else
        free(key);
}
