/*
 * api_admin.c - the API's handlers for running the server: health, metrics,
 * the org policy, tokens, and fault injection into the local clouds (the
 * checks of `stratus local`, then a request filed for the controller).
 */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

#include "../api/apijson.h"
#include "../catalog/catalog.h"
#include "../sched/sched.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "auth.h"
#include "metrics.h"
#include "server.h"
#include "server_conf.h"

#ifndef STRATUS_VERSION
#define STRATUS_VERSION "unknown"
#endif

/* ---- health, metrics ---- */

static json_t *drivers_json(const struct srv *s)
{
    json_t *arr = json_array();
    size_t i, k;

    for (i = 0; s->conf && i < s->conf->ndrivers; i++) {
        const struct srv_driver_conf *d = &s->conf->drivers[i];
        json_t *o = json_object(), *locs = json_array();

        for (k = 0; k < d->nlocations; k++)
            json_array_append_new(locs, json_string(d->locations[k]));
        json_object_set_new(o, "name", json_string(d->name ? d->name : ""));
        json_object_set_new(o, "driver",
                            json_string(d->ops && d->ops->name ? d->ops->name : ""));
        json_object_set_new(o, "locations", locs);
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The leadership part of /healthz (docs/ha.md). */
static json_t *leadership_json(const struct srv *s)
{
    json_t *o = json_object(), *l = json_object();

    json_object_set_new(o, "role", json_string(srv_leads(s) ? "leader" : "follower"));
    json_object_set_new(o, "holder", json_string(s->holder));
    json_object_set_new(o, "epoch", json_integer((json_int_t)s->epoch));
    json_object_set_new(o, "terms", json_integer((json_int_t)s->leader_terms));
    json_object_set_new(o, "leader_since",
                        s->leader_since > 0 ? json_real(s->leader_since) : json_null());
    json_object_set_new(o, "first_step_at",
                        s->first_step_at > 0 ? json_real(s->first_step_at) : json_null());
    json_object_set_new(o, "store_error",
                        s->db_error[0] ? json_string(s->db_error) : json_null());
    json_object_set_new(l, "holder", json_string(s->lease.holder));
    json_object_set_new(l, "url", json_string(s->lease.url));
    json_object_set_new(l, "epoch", json_integer((json_int_t)s->lease.epoch));
    json_object_set_new(l, "expires_in", json_real(s->lease.expires_in));
    json_object_set_new(l, "age", json_real(s->lease.age));
    json_object_set_new(l, "seen_s_ago", s->lease_seen_mono > 0
                                             ? json_real(clock_mono() - s->lease_seen_mono)
                                             : json_null());
    json_object_set_new(o, "lease", l);
    return o;
}

/* GET /healthz (anyone): 200, or 503 while the controller's steps fail or
 * the store cannot be reached. */
void api_healthz(struct api_call *c)
{
    const struct srv *s = c->s;
    json_t *o = json_object(), *ctl = json_object();
    int ok = s->failures == 0 && s->st != NULL;

    json_object_set_new(o, "ok", json_boolean(ok));
    json_object_set_new(o, "role", json_string(!s->shared ? "single"
                                               : srv_leads(s) ? "leader" : "follower"));
    json_object_set_new(o, "version", json_string(STRATUS_VERSION));
    json_object_set_new(o, "uptime_s",
                        json_real(s->started_at > 0 ? c->now - s->started_at : 0));
    json_object_set_new(o, "store", s->st ? json_string(store_id(s->st)) : json_null());
    json_object_set_new(o, "drivers", drivers_json(s));
    json_object_set_new(ctl, "steps", json_integer((json_int_t)s->steps));
    json_object_set_new(ctl, "failures", json_integer(s->failures));
    json_object_set_new(ctl, "last_step_at",
                        s->last_step_at > 0 ? json_real(s->last_step_at) : json_null());
    json_object_set_new(ctl, "active_jobs",
                        s->sched ? json_integer((json_int_t)sched_active(s->sched))
                                 : json_null());
    json_object_set_new(ctl, "ready", json_boolean(s->ready));
    json_object_set_new(o, "controller", ctl);
    if (s->shared) {
        ok = ok && s->db_error[0] == '\0';
        json_object_set_new(o, "ok", json_boolean(ok));
        json_object_set_new(o, "leadership", leadership_json(s));
    }
    api_reply(c, ok ? 200 : 503, o);
}

/* GET /metrics (viewer): the Prometheus exposition (metrics.c). */
void api_metrics(struct api_call *c)
{
    size_t len = 0;
    char *text = c->s->m ? metrics_render(c->s->m, c->s, &len) : NULL;

    if (text == NULL) {
        api_failf(c, ST_EINTERNAL, "the server keeps no metrics");
        return;
    }
    c->rp->status = 200;
    c->rp->body = text;
    c->rp->body_len = len;
    c->rp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- policy ---- */

/* GET /v1/policy (viewer): the org policy's text, or null. */
void api_policy_get(struct api_call *c)
{
    json_t *o = json_object();

    json_object_set_new(o, "policy",
                        c->s->policy_text ? json_string(c->s->policy_text) : json_null());
    api_reply(c, 200, o);
}

/* PUT /v1/policy (admin): validate and set (or clear) the org policy. */
void api_policy_put(struct api_call *c)
{
    const char *text;
    json_t *b, *o;
    struct err e;
    int bad = 0;

    if (api_body(c, &b) != 0)
        return;
    text = api_body_str(c, b, "policy", &bad);
    if (!bad && json_object_get(b, "policy") == NULL) {
        api_failf(c, ST_EINVAL,
                  "the body needs \"policy\": the policy's YAML text, or null "
                  "to clear it");
        bad = 1;
    }
    err_clear(&e);
    if (!bad && srv_set_policy(c->s, text, &e) != 0) {
        api_fail(c, &e);
        bad = 1;
    }
    if (!bad) {
        o = json_object();
        json_object_set_new(o, "policy", text ? json_string(text) : json_null());
        api_reply(c, 200, o);
    }
    json_decref(b);
}

/* ---- the catalog ---- */

/* POST /v1/catalog/reload (admin): read the catalog's directory again and
 * take its prices (srv_reload_catalog); the controller reprices the live
 * attempts at once.  On a shared store the leader does it (the call is
 * forwarded) and the followers read theirs when told. */
void api_catalog_reload(struct api_call *c)
{
    struct catalog_reprice r;
    struct err e;
    json_t *o;
    char at[32];

    err_clear(&e);
    if (srv_reload_catalog(c->s, &r, &e) != 0) {
        size_t n = strlen(e.msg);

        /* the message may be cut short, never the reply */
        if (n + 40 < sizeof(e.msg))
            memcpy(e.msg + n, " (the server keeps the prices it had)", 38);
        api_fail(c, &e);
        return;
    }
    snprintf(at, sizeof(at), "%.6f", c->now);
    if (c->s->shared && store_setting_put(c->s->st, "catalog_read_at", at, &e) != 0)
        log_warn("telling the other servers the catalog was read again: %s", e.msg);
    srv_changed(c->s);
    srv_wake(c->s);
    o = json_object();
    json_object_set_new(o, "dir", json_string(catalog_dir(c->s->cat)));
    json_object_set_new(o, "repriced", json_integer((json_int_t)r.repriced));
    json_object_set_new(o, "unsold", json_integer((json_int_t)r.unsold));
    json_object_set_new(o, "added", json_integer((json_int_t)r.added));
    json_object_set_new(o, "free", json_integer((json_int_t)r.free_now));
    json_object_set_new(o, "not_taken",
                        r.others[0] ? json_string(r.others) : json_null());
    api_reply(c, 200, o);
}

/* ---- tokens ---- */

static json_t *token_json(const struct store_token *t)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "name", json_string(t->name ? t->name : ""));
    json_object_set_new(o, "role", json_string(t->role ? t->role : ""));
    json_object_set_new(o, "user", t->user ? json_string(t->user) : json_null());
    json_object_set_new(o, "created_at", json_real(t->created_at));
    json_object_set_new(o, "revoked_at",
                        t->revoked_at > 0 ? json_real(t->revoked_at) : json_null());
    return o;
}

/* GET /v1/tokens (admin): every token, never its secret or hash. */
void api_tokens_list(struct api_call *c)
{
    struct store_token *v = NULL;
    size_t i, n = 0;
    struct err e;
    json_t *o, *arr;

    err_clear(&e);
    if (store_token_list(c->s->st, 0, &v, &n, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, token_json(&v[i]));
    store_tokens_free(v, n);
    o = json_object();
    json_object_set_new(o, "tokens", arr);
    api_reply(c, 200, o);
}

/* POST /v1/tokens (admin): make a token; the reply holds its only copy. */
void api_tokens_create(struct api_call *c)
{
    const char *name, *role, *user;
    char *token = NULL, shown[64];
    enum auth_role r = AUTH_MEMBER;
    int64_t id = 0;
    json_t *b, *o;
    struct err e;
    int bad = 0;

    if (api_body(c, &b) != 0)
        return;
    name = api_body_str(c, b, "name", &bad);
    role = api_body_str(c, b, "role", &bad);
    user = api_body_str(c, b, "user", &bad);
    if (role != NULL)
        r = auth_role_parse(role);
    if (!bad && r == AUTH_NONE) {
        api_failf(c, ST_EINVAL, "a role is admin, member or viewer, not '%s'",
                  str_vis(shown, sizeof(shown), role));
        bad = 1;
    }
    if (!bad && name == NULL) {
        api_failf(c, ST_EINVAL, "the body needs \"name\": what the token is for");
        bad = 1;
    }
    err_clear(&e);
    if (!bad && auth_token_create_user(c->s->st, c->s->secret, name, user, r, c->now,
                                       &token, &id, &e) != 0) {
        api_fail(c, &e);
        bad = 1;
    }
    if (!bad) {
        o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "role", json_string(auth_role_name(r)));
        if (user != NULL)
            json_object_set_new(o, "user", json_string(user));
        json_object_set_new(o, "token", json_string(token));
        api_reply(c, 201, o);
    }
    free(token);
    json_decref(b);
}

/* The id of the live token name_or_id names (digits: an id), or 0. */
static int64_t token_id_of(struct store *st, const char *name_or_id)
{
    size_t len = strlen(name_or_id), i, n = 0;
    struct store_token *v = NULL;
    int64_t id = 0;
    struct err e;

    if (len <= 18 && strspn(name_or_id, "0123456789") == len)
        return strtoll(name_or_id, NULL, 10);
    if (store_token_list(st, 1, &v, &n, &e) != 0)
        return 0;
    for (i = 0; i < n && id == 0; i++)
        if (strcmp(v[i].name, name_or_id) == 0)
            id = v[i].id;
    store_tokens_free(v, n);
    return id;
}

/* DELETE /v1/tokens/{id} (admin): revoke a live token by name or id. */
void api_tokens_revoke(struct api_call *c)
{
    int64_t id = token_id_of(c->s->st, c->param);
    struct err e;
    json_t *o;

    err_clear(&e);
    if (auth_token_revoke(c->s->st, c->param, c->now, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    o = json_object();
    json_object_set_new(o, "revoked", json_integer(id));
    api_reply(c, 200, o);
}

/* ---- fault injection ---- */

/* A job to preempt must exist and still run (or be about to). */
static int check_job(struct store *st, const char *arg, struct err *e)
{
    struct store_job j;
    char shown[64];
    long id;
    int rc;

    if (str_to_long(arg, 1, 0x7fffffffL, &id) != 0)
        return err_set(e, ST_EINVAL,
                       "'%s' is not a job id (a job id is a number like 42)",
                       str_vis(shown, sizeof(shown), arg));
    rc = store_job_get(st, id, &j, e);
    if (rc == ST_ENOTFOUND)
        return err_set(
            e, rc, "no job %ld (`stratus queue` lists the active ones); nothing filed",
            id);
    if (rc != 0)
        return rc;
    if (job_state_terminal(j.state))
        rc = err_set(e, ST_ESTATE,
                     "job %ld already ended (%s): there is nothing to preempt; "
                     "nothing filed",
                     id, job_state_name(j.state));
    store_job_clear(&j);
    return rc;
}

/* Does some offer of the catalog sit at loc ("cloud/region[/zone]", each
 * part may be a glob, as the local driver takes them)? */
static int location_known(const struct catalog *cat, const char *loc)
{
    size_t i, n = cat ? catalog_noffers(cat) : 0;
    char cr[256], crz[384];
    int found = 0;

    for (i = 0; i < n && !found; i++) {
        const struct offer *o = catalog_offer(cat, i);

        snprintf(cr, sizeof(cr), "%s/%s", o->cloud, o->region);
        snprintf(crz, sizeof(crz), "%s/%s", cr, o->zone);
        found = str_glob(loc, cr) || (*o->zone && str_glob(loc, crz));
    }
    return found;
}

/* "LOCATION[ SECONDS]": the location is in the catalog and the seconds (for
 * stockout and api-error, which need them) are 0 .. 366 days. */
static int check_location(const struct srv *s, const char *kind, const char *arg,
                          struct err *e)
{
    char loc[512], shown[128];
    const char *secs = strchr(arg, ' ');
    int timed = strcmp(kind, "preempt-location") != 0;
    double v;

    snprintf(loc, sizeof(loc), "%.*s", (int)(secs ? (size_t)(secs - arg) : strlen(arg)),
             arg);
    if (!location_known(s->cat, loc)) {
        /* the nearest cloud/region of the catalog, for a typo */
        size_t i, nr = s->cat ? catalog_nregions(s->cat) : 0;
        char **names = xcalloc(nr + 1, sizeof(*names)), near[300] = "";
        const char *sug;
        int rc;

        for (i = 0; i < nr; i++)
            names[i] = xasprintf("%s/%s", catalog_region_at(s->cat, i)->cloud,
                                 catalog_region_at(s->cat, i)->name);
        if ((sug = str_suggest(loc, (const char *const *)names)) != NULL)
            snprintf(near, sizeof(near), "; did you mean '%s'?", sug);
        rc = err_set(e, ST_EINVAL,
                     "no offer of the catalog is at '%s'%s (a location is "
                     "CLOUD/REGION[/ZONE]; `stratus offers` lists them); nothing filed",
                     str_vis(shown, sizeof(shown), loc), near);
        for (i = 0; i < nr; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (timed != (secs != NULL) ||
        (secs && (str_to_double(secs + 1, &v) != 0 || v < 0 || v > 366 * 86400.0)))
        return err_set(e, ST_EINVAL, "%s takes \"LOCATION%s\", not '%s'; nothing filed",
                       kind, timed ? " SECONDS\" (0 .. 31622400)" : "\"",
                       str_vis(shown, sizeof(shown), arg));
    return 0;
}

static int check_inject(const struct srv *s, const char *kind, const char *arg,
                        struct err *e)
{
    char shown[64];

    if (strcmp(kind, "preempt-job") == 0)
        return check_job(s->st, arg, e);
    if (strcmp(kind, "preempt-location") && strcmp(kind, "stockout") &&
        strcmp(kind, "api-error"))
        return err_set(e, ST_EINVAL,
                       "kind is preempt-job, preempt-location, stockout or "
                       "api-error, not '%s'",
                       str_vis(shown, sizeof(shown), kind));
    return check_location(s, kind, arg, e);
}

/* POST /v1/local/inject (admin): check as `stratus local` does, then file it. */
void api_local_inject(struct api_call *c)
{
    const char *kind, *arg;
    json_t *b, *o;
    struct err e;
    int bad = 0;

    if (api_body(c, &b) != 0)
        return;
    kind = api_body_str(c, b, "kind", &bad);
    arg = api_body_str(c, b, "arg", &bad);
    if (!bad && (kind == NULL || arg == NULL)) {
        api_failf(c, ST_EINVAL, "the body needs \"kind\" and \"arg\"");
        bad = 1;
    }
    err_clear(&e);
    if (!bad && (check_inject(c->s, kind, arg, &e) != 0 ||
                 store_request_add(c->s->st, kind, arg, c->now, NULL, &e) != 0)) {
        api_fail(c, &e);
        bad = 1;
    }
    if (!bad) {
        srv_wake(c->s);
        o = json_object();
        json_object_set_new(o, "requested", json_true());
        json_object_set_new(o, "kind", json_string(kind));
        json_object_set_new(o, "arg", json_string(arg));
        api_reply(c, 202, o);
    }
    json_decref(b);
}
