/*
 * api.c - the API's route table and its one dispatcher (api.h): a path is
 * matched against every pattern ("{id}" and "{key}" match one segment
 * each); no pattern matching is 404, a pattern matching with another
 * method 405; then the caller's role is checked against the route's least
 * role (401 when the caller is not authenticated at all, 403 when the role
 * is too low) before the handler runs. Helpers the handlers share
 * (replies, bodies, queries) live here too.
 */
#include "api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "../api/apijson.h"
#include "../util/clock.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "server.h"
#include "server_conf.h"

struct api_route {
    const char *method;
    const char *pattern;
    const char *label;   /* "GET /v1/jobs/{id}": the metrics label */
    enum auth_role role; /* least role; AUTH_NONE = anyone */
    api_handler fn;
};

#define ROUTE(m, p, role, fn)                                                            \
    {                                                                                    \
        m, p, m " " p, role, fn                                                          \
    }

static const struct api_route routes[] = {
    ROUTE("GET", "/healthz", AUTH_NONE, api_healthz),
    ROUTE("GET", "/", AUTH_NONE, api_ui_root),
    ROUTE("GET", "/ui", AUTH_NONE, api_ui_root),
    ROUTE("GET", "/ui/login", AUTH_NONE, api_ui_login),
    ROUTE("GET", "/ui/logout", AUTH_NONE, api_ui_logout),
    ROUTE("GET", "/ui/{rest}", AUTH_NONE, api_ui_file),
    ROUTE("POST", "/v1/login-links", AUTH_ADMIN, api_login_links_create),
    ROUTE("GET", "/v1/regions", AUTH_VIEWER, api_regions),
    ROUTE("GET", "/metrics", AUTH_VIEWER, api_metrics),
    ROUTE("POST", "/v1/jobs", AUTH_MEMBER, api_jobs_submit),
    ROUTE("GET", "/v1/jobs", AUTH_VIEWER, api_jobs_list),
    ROUTE("GET", "/v1/jobs/{id}", AUTH_VIEWER, api_jobs_get),
    ROUTE("POST", "/v1/jobs/{id}/cancel", AUTH_MEMBER, api_jobs_cancel),
    ROUTE("GET", "/v1/jobs/{id}/events", AUTH_VIEWER, api_jobs_events),
    ROUTE("GET", "/v1/jobs/{id}/logs", AUTH_VIEWER, api_jobs_logs),
    ROUTE("POST", "/v1/services", AUTH_MEMBER, api_services_up),
    ROUTE("GET", "/v1/services", AUTH_VIEWER, api_services_list),
    ROUTE("GET", "/v1/services/{id}", AUTH_VIEWER, api_services_get),
    ROUTE("PUT", "/v1/services/{id}", AUTH_MEMBER, api_services_update),
    ROUTE("DELETE", "/v1/services/{id}", AUTH_MEMBER, api_services_down),
    ROUTE("GET", "/v1/services/{id}/endpoints", AUTH_VIEWER, api_services_endpoints),
    ROUTE("POST", "/v1/services/{id}/load", AUTH_MEMBER, api_services_load),
    ROUTE("GET", "/v1/services/{id}/keys", AUTH_MEMBER, api_services_keys_list),
    ROUTE("POST", "/v1/services/{id}/keys", AUTH_MEMBER, api_services_keys_create),
    ROUTE("DELETE", "/v1/services/{id}/keys/{key}", AUTH_MEMBER,
          api_services_keys_revoke),
    /* a team's role is checked by the handlers too (api_team_role) */
    ROUTE("PUT", "/v1/secrets/{id}", AUTH_MEMBER, api_secrets_put),
    ROUTE("GET", "/v1/secrets", AUTH_VIEWER, api_secrets_list),
    ROUTE("DELETE", "/v1/secrets/{id}", AUTH_MEMBER, api_secrets_delete),
    ROUTE("POST", "/v1/plan", AUTH_VIEWER, api_plan),
    ROUTE("GET", "/v1/offers", AUTH_VIEWER, api_offers),
    ROUTE("GET", "/v1/cost", AUTH_VIEWER, api_cost),
    ROUTE("GET", "/v1/data", AUTH_VIEWER, api_data),
    ROUTE("GET", "/v1/cost/series", AUTH_VIEWER, api_cost_series),
    ROUTE("POST", "/v1/local/inject", AUTH_ADMIN, api_local_inject),
    ROUTE("POST", "/v1/catalog/reload", AUTH_ADMIN, api_catalog_reload),
    ROUTE("GET", "/v1/policy", AUTH_VIEWER, api_policy_get),
    ROUTE("PUT", "/v1/policy", AUTH_ADMIN, api_policy_put),
    ROUTE("GET", "/v1/tokens", AUTH_ADMIN, api_tokens_list),
    ROUTE("POST", "/v1/tokens", AUTH_ADMIN, api_tokens_create),
    ROUTE("DELETE", "/v1/tokens/{id}", AUTH_ADMIN, api_tokens_revoke),
    ROUTE("GET", "/v1/whoami", AUTH_VIEWER, api_whoami),
    ROUTE("GET", "/v1/teams", AUTH_VIEWER, api_teams_list),
    ROUTE("GET", "/v1/teams/{id}", AUTH_VIEWER, api_teams_get),
    ROUTE("PUT", "/v1/teams/{id}", AUTH_ADMIN, api_teams_put),
    ROUTE("DELETE", "/v1/teams/{id}", AUTH_ADMIN, api_teams_delete),
    ROUTE("PUT", "/v1/teams/{id}/members/{key}", AUTH_MEMBER, api_teams_member_put),
    ROUTE("DELETE", "/v1/teams/{id}/members/{key}", AUTH_MEMBER, api_teams_member_delete),
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define PARAM_MAX 256

const char *api_route_at(size_t i, const char **method, const char **pattern,
                         enum auth_role *role)
{
    if (i >= NROUTES)
        return NULL;
    *method = routes[i].method;
    *pattern = routes[i].pattern;
    *role = routes[i].role;
    return routes[i].label;
}

/* ---- matching ---- */

/* Does path match pattern? The {id} segment is copied to param[0], the
 * {key} one to param[1]; a pattern ending in {rest} takes the rest of the
 * path, slashes and all (maybe nothing), into param[0]. */
static int path_match(const char *pattern, const char *path, char param[2][PARAM_MAX])
{
    const char *p = pattern, *q = path;

    param[0][0] = param[1][0] = '\0';
    while (*p) {
        size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
        int which = pl == 4 && strncmp(p, "{id}", 4) == 0    ? 0
                    : pl == 5 && strncmp(p, "{key}", 5) == 0 ? 1
                                                             : -1;

        if (strcmp(p, "{rest}") == 0 && strlen(q) < PARAM_MAX) {
            memcpy(param[0], q, strlen(q) + 1);
            return 1;
        }
        if (*q == '\0')
            return 0;
        if (which >= 0) {
            if (ql == 0 || ql >= PARAM_MAX)
                return 0;
            memcpy(param[which], q, ql);
            param[which][ql] = '\0';
        } else if (pl != ql || strncmp(p, q, pl) != 0) {
            return 0;
        }
        p += pl;
        q += ql;
        if (*p != *q)
            return 0;
        if (*p == '/') {
            p++;
            q++;
        }
    }
    return *q == '\0';
}

/* The route for rq, or NULL with *path_known set when only the method is
 * wrong. */
static const struct api_route *find_route(const struct api_req *rq,
                                          char param[2][PARAM_MAX], int *path_known)
{
    size_t i;

    *path_known = 0;
    for (i = 0; i < NROUTES; i++) {
        if (!path_match(routes[i].pattern, rq->path, param))
            continue;
        *path_known = 1;
        if (strcmp(routes[i].method, rq->method) == 0)
            return &routes[i];
    }
    return NULL;
}

/* 0 when who may use route r; else replied 401 or 403. */
static int check_role(struct api_call *c, const struct api_route *r)
{
    const struct auth_principal *who = c->rq->who;

    if (r->role == AUTH_ADMIN && who->role >= AUTH_ADMIN && who->user[0] != '\0') {
        struct err e;
        char name[sizeof(who->user) * 4];

        err_set(&e, ST_EINVAL,
                "'%s' may not %s: that needs a server admin (the server's owner, or an "
                "admin token of no user); a user's admin token is admin in its teams only",
                str_vis(name, sizeof(name), who->user), r->label);
        api_resp_error(c->rp, 403, &e);
        return -1;
    }
    if (r->role == AUTH_NONE || who->role >= r->role)
        return 0;
    if (who->role == AUTH_NONE) {
        struct err e;

        err_set(&e, ST_EINVAL,
                "%s needs a token: send \"Authorization: Bearer TOKEN\" "
                "(an admin makes one with `stratus token create`)",
                r->label);
        api_resp_error(c->rp, 401, &e);
        return -1;
    }
    {
        struct err e;
        char name[sizeof(who->name) * 4];

        err_set(&e, ST_EINVAL, "'%s' (role %s) may not %s: that needs the %s role",
                str_vis(name, sizeof(name), who->name), auth_role_name(who->role),
                r->label, auth_role_name(r->role));
        api_resp_error(c->rp, 403, &e);
    }
    return -1;
}

void api_handle(struct srv *s, const struct api_req *rq, struct api_resp *rp)
{
    static const struct auth_principal nobody = {AUTH_NONE, 0, "", ""};
    struct api_req q = *rq;
    struct api_call c = {s, &q, rp, NULL, clock_now(&clock_wall), NULL};
    const struct api_route *r = NULL;
    char param[2][PARAM_MAX], m[32], p[256];
    int known = 0;

    if (q.who == NULL) /* api.h says never; were it so, nobody calls */
        q.who = &nobody;
    memset(rp, 0, sizeof(*rp));
    rp->route = "unmatched";
    if (q.method && q.path)
        r = find_route(&q, param, &known);
    if (r == NULL && known) {
        api_failf(&c, ST_EUSAGE, "%s is not allowed on %s",
                  str_vis(m, sizeof(m), q.method), str_vis(p, sizeof(p), q.path));
        rp->status = 405;
        return;
    }
    if (r == NULL) {
        api_failf(&c, ST_ENOTFOUND,
                  "no such API path: %s (docs/api/openapi.yaml lists them)",
                  q.path ? str_vis(p, sizeof(p), q.path) : "(none)");
        return;
    }
    rp->route = r->label;
    c.param = param[0][0] || strstr(r->pattern, "{rest}") ? param[0] : NULL;
    c.key = param[1][0] ? param[1] : NULL;
    if (check_role(&c, r) != 0)
        return;
    if (s->conf && s->conf->max_body && q.body_len > s->conf->max_body) {
        api_failf(&c, ST_ETOOBIG,
                  "the request body is over the server's limit of %zu bytes",
                  s->conf->max_body);
        return;
    }
    r->fn(&c);
    if (strcmp(r->method, "GET") != 0)
        srv_changed(s); /* it may have written: rendered replies are stale (api_jobs.c) */
}

/* ---- replies ---- */

/* Let go of rp's body before another is put there. */
static void body_drop(struct api_resp *rp)
{
    if (!rp->body_static)
        free(rp->body);
    rp->body = NULL;
    rp->body_static = 0;
}

void api_resp_clear(struct api_resp *rp)
{
    body_drop(rp);
    free(rp->stream_path);
    free(rp->location);
    free(rp->set_cookie);
    memset(rp, 0, sizeof(*rp));
}

int api_status_of(int code)
{
    switch (code) {
    case ST_EPARSE:
    case ST_EINVAL:
    case ST_EUSAGE:
    case ST_EIO: /* a message about input that cannot be read */
        return 400;
    case ST_ENOTFOUND:
        return 404;
    case ST_ETOOBIG:
        return 413;
    case ST_ESTATE:
    case ST_EEXISTS:
        return 409;
    case ST_EINFEASIBLE:
    case ST_ECAPACITY:
        return 422;
    case ST_EFENCED:
        return 503;
    default:
        return 500;
    }
}

void api_reply(struct api_call *c, int status, json_t *o)
{
    struct api_resp *rp = c->rp;

    body_drop(rp);
    rp->status = status;
    rp->body = json_dumps(o, JSON_COMPACT);
    rp->body_len = rp->body ? strlen(rp->body) : 0;
    rp->content_type = "application/json";
    json_decref(o);
}

void api_resp_error(struct api_resp *rp, int status, const struct err *e)
{
    const char *route = rp->route;
    json_t *o = apijson_error(e);

    body_drop(rp);
    rp->status = status;
    rp->body = json_dumps(o, JSON_COMPACT);
    rp->body_len = rp->body ? strlen(rp->body) : 0;
    rp->content_type = "application/json";
    rp->route = route ? route : "unmatched";
    json_decref(o);
}

void api_fail(struct api_call *c, const struct err *e)
{
    api_resp_error(c->rp, api_status_of(e->code), e);
}

void api_failf(struct api_call *c, int code, const char *fmt, ...)
{
    struct err e;
    va_list ap;

    err_clear(&e);
    e.code = code;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    api_fail(c, &e);
}

/* ---- requests ---- */

int api_body(struct api_call *c, json_t **out)
{
    json_error_t je;
    json_t *o;

    *out = NULL;
    if (c->rq->body == NULL || c->rq->body_len == 0) {
        api_failf(c, ST_EINVAL, "this call needs a JSON object as its body");
        return -1;
    }
    o = json_loadb(c->rq->body, c->rq->body_len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL || !json_is_object(o)) {
        if (o == NULL)
            api_failf(c, ST_EPARSE, "the body is not JSON: line %d column %d: %s",
                      je.line, je.column, je.text);
        else
            api_failf(c, ST_EINVAL, "the body must be a JSON object");
        json_decref(o);
        return -1;
    }
    *out = o;
    return 0;
}

const char *api_body_str(struct api_call *c, const json_t *o, const char *key, int *bad)
{
    const json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
        return json_string_value(v);
    if (!*bad)
        api_failf(c, ST_EINVAL, "'%s' in the body must be a string (without NUL bytes)",
                  key);
    *bad = 1;
    return NULL;
}

/* Decode len bytes of a query part ("%41+b" -> "A b") into buf (cut to n),
 * with libevent's URI decoder. */
static void query_decode(const char *s, size_t len, char *buf, size_t n)
{
    char *raw = xstrndup(s, len), *dec = evhttp_uridecode(raw, 1, NULL);

    snprintf(buf, n, "%s", dec ? dec : "");
    free(dec);
    free(raw);
}

int api_query(const struct api_call *c, const char *key, char *buf, size_t n)
{
    const char *q = c->rq->query;
    size_t kl = strlen(key);

    while (q && *q) {
        size_t len = strcspn(q, "&");
        size_t name = strcspn(q, "=&");

        if (name == kl && strncmp(q, key, kl) == 0) {
            if (q[name] == '=')
                query_decode(q + name + 1, len - name - 1, buf, n);
            else
                buf[0] = '\0';
            return 1;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return 0;
}

int api_query_long(struct api_call *c, const char *key, long min, long max, long dflt,
                   long *out)
{
    char buf[64];

    *out = dflt;
    if (!api_query(c, key, buf, sizeof(buf)))
        return 0;
    if (str_to_long(buf, min, max, out) != 0) {
        char shown[128];

        api_failf(c, ST_EINVAL, "?%s= takes a whole number from %ld to %ld, not '%s'",
                  key, min, max, str_vis(shown, sizeof(shown), buf));
        return -1;
    }
    return 0;
}

int api_job_id(struct api_call *c, int64_t *id)
{
    long v;
    char shown[128];

    if (c->param && str_to_long(c->param, 1, 0x7fffffffL, &v) == 0) {
        *id = v;
        return 0;
    }
    api_failf(c, ST_EINVAL, "'%s' is not a job id (a job id is a number like 42)",
              str_vis(shown, sizeof(shown), c->param ? c->param : ""));
    return -1;
}
