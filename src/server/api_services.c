/*
 * api_services.c - the API's handlers for services (`stratus serve ...`):
 * up, list, get (with its replicas), update (a rolling update to a new
 * spec), down, the replica set routers follow (endpoints), the load
 * routers report (load) and the endpoint's API keys (keys).  The replica
 * manager (serve/manager.h) does the work at the next controller step;
 * these handlers write the service's row and wake it.
 *
 * API keys: `serve up` makes one key for the service's endpoint and shows
 * it once ("sk_" + base64url of 32 random bytes); the store keeps its
 * SHA-256 in hex, which routers get with the replica set and compare with
 * the digest of what a client sends.  A service asked to be open
 * ({"open": true}) has none.  `serve keys` makes more (to rotate: make a
 * new one, move the clients, revoke the old one) and revokes them; each
 * change gives the replica set a new version, so routers long-polling it
 * stop taking a revoked key at once.  The row's keys (the live digests) is
 * what routers check; key_info lists every key made, live or revoked, by
 * id, with the first characters of the key to tell them apart.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/apijson.h"
#include "../plan/plan.h"
#include "../sched/sched.h"
#include "../serve/manager.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "serve.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "auth.h"
#include "server.h"

/* ---- finding a service ---- */

/* The live service named by the path ({id} is its name), which the caller
 * needs `role` in its team for: 0, or replied 404 (none, or of a team the
 * caller may not see: the same answer) or 403. */
static int get_service_as(struct api_call *c, struct store_service *out, enum auth_role role)
{
    struct err e;

    err_clear(&e);
    memset(out, 0, sizeof(*out));
    if (c->param == NULL || store_service_find(c->s->st, c->param, out, &e) != 0 ||
        !api_team_visible(c, out->team)) {
        store_service_clear(out);
        if (c->param == NULL || e.code == 0 || e.code == ST_ENOTFOUND)
            api_failf(c, ST_ENOTFOUND, "no service '%s' (`stratus serve status` lists them)",
                      c->param ? c->param : "");
        else
            api_fail(c, &e);
        return -1;
    }
    if (api_team_role(c, out->team) < role) {
        api_failf(c, ST_EINVAL, "'%s' may not change service '%s' of team '%s': that needs "
                  "the %s role in the team",
                  c->rq->who->user[0] ? c->rq->who->user : c->rq->who->name, out->name,
                  out->team ? out->team : "(none)", auth_role_name(role));
        c->rp->status = 403;
        store_service_clear(out);
        return -1;
    }
    return 0;
}

/* ---- API keys: what key_info holds ---- */

/* Live API keys a service may have at once (routers take up to 4096). */
#define KEYS_MAX 64
/* Revoked keys key_info keeps (for `serve keys --all`), the oldest dropped
 * first: the newest id stays, so ids are still never given twice. */
#define KEYS_REVOKED_KEPT 64
/* Characters of a key kept to tell it apart: "sk_" and 8 of its 43 random
 * ones (48 bits of 256: no help in guessing the rest). */
#define KEY_PREFIX_LEN 11

/* A key's entry in key_info; key (may be NULL) gives its prefix. */
static json_t *key_entry(json_int_t id, const char *key, const char *digest, double at)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "prefix", key ? json_stringn(key, KEY_PREFIX_LEN) : json_null());
    json_object_set_new(o, "sha256", json_string(digest));
    json_object_set_new(o, "created_at", json_real(at));
    json_object_set_new(o, "revoked_at", json_null());
    return o;
}

static int key_live(const json_t *k)
{
    const json_t *v = json_object_get(k, "revoked_at");

    return v == NULL || json_is_null(v);
}

/* Does the JSON array arr hold the string s? */
static int has_string(const json_t *arr, const char *s)
{
    size_t i;

    for (i = 0; i < json_array_size(arr); i++)
        if (json_is_string(json_array_get(arr, i)) &&
            strcmp(json_string_value(json_array_get(arr, i)), s) == 0)
            return 1;
    return 0;
}

/* The entries of key_info that are well formed (a copy), each live one
 * still live only while its digest is in keys; *next gets the next id. */
static json_t *keys_known(const json_t *info, const json_t *keys, double now,
                          json_int_t *next)
{
    json_t *out = json_array();
    size_t i;

    *next = 1;
    for (i = 0; i < json_array_size(info); i++) {
        const json_t *k = json_array_get(info, i), *id = json_object_get(k, "id");
        const char *d = json_string_value(json_object_get(k, "sha256"));
        json_t *x;

        if (!json_is_integer(id) || d == NULL)
            continue;
        x = json_deep_copy(k);
        if (key_live(x) && !has_string(keys, d))
            json_object_set_new(x, "revoked_at", json_real(now));
        if (json_integer_value(id) >= *next)
            *next = json_integer_value(id) + 1;
        json_array_append_new(out, x);
    }
    return out;
}

/* Every key the service has had (a new array), oldest first.  The row's
 * keys (what routers check) decides which are live; a digest there with
 * no live entry in key_info (a row from before schema 8 had no key_info)
 * is listed as a key made when the service started, with the next id:
 * old rows load as they are, and get their key_info at the first change.
 * *next (may be NULL) gets the id the next key takes. */
static json_t *keys_load(const struct store_service *sv, json_int_t *next_id)
{
    json_t *keys = sv->keys ? json_loads(sv->keys, 0, NULL) : NULL;
    json_t *info = sv->key_info ? json_loads(sv->key_info, 0, NULL) : NULL;
    json_t *out, *live = json_array();
    json_int_t next;
    size_t i;

    out = keys_known(info, keys, sv->updated_at, &next);
    for (i = 0; i < json_array_size(out); i++)
        if (key_live(json_array_get(out, i)))
            json_array_append(live, json_object_get(json_array_get(out, i), "sha256"));
    for (i = 0; i < json_array_size(keys); i++) {
        const char *d = json_string_value(json_array_get(keys, i));

        if (d != NULL && !has_string(live, d)) {
            json_array_append_new(out, key_entry(next++, NULL, d, sv->created_at));
            json_array_append_new(live, json_string(d));
        }
    }
    json_decref(live);
    json_decref(keys);
    json_decref(info);
    if (next_id != NULL)
        *next_id = next;
    return out;
}

/* How many of the keys are live. */
static size_t keys_nlive(const json_t *all)
{
    size_t i, n = 0;

    for (i = 0; i < json_array_size(all); i++)
        n += key_live(json_array_get(all, i));
    return n;
}

/* The live key with id `id` in all, or NULL. */
static json_t *key_by_id(json_t *all, json_int_t id)
{
    size_t i;

    for (i = 0; i < json_array_size(all); i++) {
        json_t *k = json_array_get(all, i);

        if (key_live(k) && json_integer_value(json_object_get(k, "id")) == id)
            return k;
    }
    return NULL;
}

/* Write all back into sv and the store: key_info, and keys (the live
 * digests, what routers check).  Then the manager's copy of keys, with a
 * new version of the replica set: long polls of routers answer after the
 * step srv_wake asks for (they are asked again after every step). */
static int keys_save(struct api_call *c, struct store_service *sv, json_t *all,
                     struct err *e)
{
    json_t *live = json_array();
    size_t i, revoked = json_array_size(all) - keys_nlive(all);
    int rc;

    for (i = 0; i < json_array_size(all);) {
        const json_t *k = json_array_get(all, i);

        if (!key_live(k) && revoked > KEYS_REVOKED_KEPT) {
            json_array_remove(all, i); /* the oldest revoked ones first */
            revoked--;
            continue;
        }
        if (key_live(k))
            json_array_append(live, json_object_get(k, "sha256"));
        i++;
    }
    free(sv->keys);
    free(sv->key_info);
    sv->keys = json_dumps(live, JSON_COMPACT);
    sv->key_info = json_dumps(all, JSON_COMPACT);
    sv->updated_at = c->now;
    json_decref(live);
    rc = store_service_update(c->s->st, sv, e);
    if (rc == 0 && c->s->mgr != NULL)
        mgr_keys_changed(c->s->mgr, sv->id, sv->keys);
    if (rc == 0)
        srv_wake(c->s);
    return rc;
}

/* ---- up ---- */

/* The spec of a body, which must have a service section: 0, or replied.
 * self: the service an update changes (0: a new one). */
static int service_workload(struct api_call *c, struct api_workload *w, int64_t self)
{
    struct err e;

    if (api_workload_read(c, w) != 0)
        return -1;
    if (w->sp->service == NULL) {
        api_failf(c, ST_EINVAL,
                  "%s: the spec has no 'service:' section; `stratus launch` runs a job, "
                  "`stratus serve up` needs a service (readiness_probe, replicas)",
                  w->file);
        return -1;
    }
    if (srv_serve_check(c->s, w->sp, w->file, &e) != 0) {
        api_fail(c, &e);
        return -1;
    }
    if (api_dataset_check(c, w, self, &e) != 0 ||
        api_secrets_check(c, w->sp, w->file, &e) != 0) {
        api_fail_with(c, &e, w, NULL);
        return -1;
    }
    return 0;
}

/* POST /v1/services (member): {spec, file[, open]} -> the service, its key. */
void api_services_up(struct api_call *c)
{
    struct api_workload w;
    struct store_service sv;
    const char *ptext = NULL;
    char key[64] = "", hex[65] = "";
    const json_t *open;
    struct err e;
    json_t *o, *keys;
    int forbidden = 0;

    memset(&sv, 0, sizeof(sv));
    if (service_workload(c, &w, 0) != 0) {
        api_workload_free(&w);
        return;
    }
    err_clear(&e);
    open = json_object_get(w.body, "open");
    if (api_team_assign(c, w.sp, &forbidden, &e) != 0) {
        api_fail_with(c, &e, &w, NULL);
        if (forbidden)
            c->rp->status = 403;
        api_workload_free(&w);
        return;
    }
    if (api_submit_policy(c, &w, &ptext, &e) != 0 ||
        (!json_is_true(open) && auth_key_create("sk_", key, sizeof(key), hex, &e) != 0)) {
        api_fail_with(c, &e, &w, NULL);
        api_workload_free(&w);
        return;
    }
    keys = json_array();
    if (hex[0]) {
        json_t *info = json_array();

        json_array_append_new(keys, json_string(hex));
        json_array_append_new(info, key_entry(1, key, hex, c->now));
        sv.key_info = json_dumps(info, JSON_COMPACT);
        json_decref(info);
    }
    sv.name = xstrdup(w.sp->name);
    sv.team = w.sp->team ? xstrdup(w.sp->team) : NULL;
    sv.spec_path = xstrdup(w.file);
    sv.spec_text = xstrdup(w.text);
    sv.policy_text = ptext ? xstrdup(ptext) : NULL;
    sv.version = 1;
    sv.state = SVC_STARTING;
    sv.reason = xstrdup("serve up: launching replicas");
    sv.created_at = sv.updated_at = c->now;
    sv.target = w.sp->service->min_replicas;
    sv.keys = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    /* The service and its dataset's home (with no replica yet, nothing else
     * would record it) in one transaction: a home elsewhere refuses both. */
    if (store_begin(c->s->st, &e) != 0 ||
        sched_data_note_home(c->s->st, w.sp, 0, c->now, &e) != 0 ||
        store_service_insert(c->s->st, &sv, &e) != 0 || store_commit(c->s->st, &e) != 0) {
        store_rollback(c->s->st);
        if (e.code == ST_EEXISTS)
            err_set(&e, ST_EEXISTS, "a service called '%s' is up already: `stratus serve "
                    "update %s FILE` changes it, `stratus serve down %s` ends it",
                    sv.name, sv.name, sv.name);
        api_fail_with(c, &e, &w, NULL);
    } else {
        srv_wake(c->s);
        o = json_object();
        json_object_set_new(o, "service", apijson_service(&sv));
        json_object_set_new(o, "key", key[0] ? json_string(key) : json_null());
        json_object_set(o, "warnings", w.warnings);
        api_reply(c, 201, o);
    }
    store_service_clear(&sv);
    api_workload_free(&w);
}

/* ---- list, get ---- */

/* A replica as `serve status` shows it: where, in which mode, how it is
 * doing (the manager's view when it has one), its cost so far. */
static json_t *replica_json(struct api_call *c, const struct store_job *j)
{
    json_t *o = json_object();
    struct store_attempt a;
    const char *st = c->s->mgr ? mgr_replica_state(c->s->mgr, j->service_id, j->id) : NULL;
    struct err e;

    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "version", json_integer(j->svc_version));
    json_object_set_new(o, "job_state", json_string(job_state_name(j->state)));
    json_object_set_new(o, "state", json_string(st ? st : job_state_name(j->state)));
    json_object_set_new(o, "port", json_integer(j->port));
    json_object_set_new(o, "cost", json_real(j->cost));
    err_clear(&e);
    if (j->cur_attempt != 0 && store_attempt_get(c->s->st, j->cur_attempt, &a, &e) == 0) {
        json_object_set_new(o, "cloud", json_string(a.cloud));
        json_object_set_new(o, "region", json_string(a.region));
        json_object_set_new(o, "zone", json_string(a.zone ? a.zone : ""));
        json_object_set_new(o, "mode", json_string(plan_mode_name(a.mode)));
        json_object_set_new(o, "accelerator", json_string(a.accelerator));
        /* the job's cost holds its ended attempts; a live one adds its own */
        if (a.state != ATT_ENDED)
            json_object_set_new(o, "cost",
                                json_real(j->cost + store_attempt_spent_at(&a, c->now)));
        store_attempt_clear(&a);
    }
    return o;
}

static json_t *service_json(struct api_call *c, const struct store_service *sv, int detail)
{
    json_t *o = apijson_service(sv), *arr = json_array();
    struct store_job *v = NULL;
    size_t n = 0, i;
    struct err e;
    double cost = 0;

    err_clear(&e);
    if (store_replica_list(c->s->st, sv->id, !detail, &v, &n, &e) == 0) {
        for (i = 0; i < n; i++) {
            json_t *r = replica_json(c, &v[i]);

            cost += json_real_value(json_object_get(r, "cost"));
            if (detail || !job_state_terminal(v[i].state))
                json_array_append_new(arr, r);
            else
                json_decref(r);
        }
        store_jobs_free(v, n);
    }
    json_object_set_new(o, "replicas", arr);
    json_object_set_new(o, "qps", json_real(c->s->mgr ? mgr_qps(c->s->mgr, sv->id) : 0));
    json_object_set_new(o, "routers",
                        c->s->mgr ? mgr_routers(c->s->mgr, sv->id, c->now) : json_array());
    json_object_set_new(o, "cost", json_real(cost));
    return o;
}

/* GET /v1/services[?all=1] (viewer): live services (all: ended ones too). */
void api_services_list(struct api_call *c)
{
    struct store_service *v = NULL;
    size_t n = 0, i;
    struct err e;
    long all;
    json_t *arr, *o;

    if (api_query_long(c, "all", 0, 1, 0, &all) != 0)
        return;
    err_clear(&e);
    if (store_service_list(c->s->st, !all, &v, &n, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++)
        if (api_team_visible(c, v[i].team))
            json_array_append_new(arr, service_json(c, &v[i], 0));
    store_services_free(v, n);
    o = json_object();
    json_object_set_new(o, "services", arr);
    api_reply(c, 200, o);
}

/* GET /v1/services/{name} (viewer): the service with every replica it had. */
void api_services_get(struct api_call *c)
{
    struct store_service sv;

    if (get_service_as(c, &sv, AUTH_VIEWER) != 0)
        return;
    api_reply(c, 200, service_json(c, &sv, 1));
    store_service_clear(&sv);
}

/* ---- update, down ---- */

/* The service's current spec, parsed (NULL when it does not parse). */
static struct spec *spec_of_service(const struct store_service *sv)
{
    struct spec *sp = NULL;
    struct err e;

    if (sv->spec_text == NULL ||
        spec_load_mem(&sp, sv->spec_path ? sv->spec_path : sv->name, sv->spec_text,
                      strlen(sv->spec_text), &e) != 0)
        return NULL;
    return sp;
}

/* PUT /v1/services/{name} (member): a new spec; the manager rolls it out. */
void api_services_update(struct api_call *c)
{
    struct store_service sv;
    struct api_workload w;
    struct spec *old = NULL;
    struct err e;

    if (get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    if (service_workload(c, &w, sv.id) != 0) {
        api_workload_free(&w);
        store_service_clear(&sv);
        return;
    }
    err_clear(&e);
    if (sv.ended_at > 0 || sv.state == SVC_SHUTTING_DOWN) {
        err_set(&e, ST_ESTATE, "service '%s' is %s: `stratus serve up` starts it again",
                sv.name, svc_state_name(sv.state));
    } else if (strcmp(w.sp->name, sv.name) != 0) {
        err_set(&e, ST_EINVAL, "%s: the spec is named '%s', not '%s' (a service keeps its name)",
                w.file, w.sp->name, sv.name);
    } else if (w.sp->team != NULL &&
               (sv.team == NULL || strcmp(w.sp->team, sv.team) != 0)) {
        /* its replicas would take the spec's team: another team's quota
         * and rules, and out of sight of the service's own members */
        err_set(
            &e, ST_EINVAL,
            "%s: the spec names team '%s', but service '%s' is %s%s%s (a service keeps "
            "its team: `stratus serve down` it and `serve up` the spec to move it)",
            w.file, w.sp->team, sv.name, sv.team ? "team '" : "the lab's (no team)",
            sv.team ? sv.team : "", sv.team ? "'s" : "");
    } else {
        /* the old version's dataset, if the update changed it, is free
         * once nothing ran on it and nothing else holds it */
        old = spec_of_service(&sv);
        free(sv.spec_text);
        free(sv.spec_path);
        sv.spec_text = xstrdup(w.text);
        sv.spec_path = xstrdup(w.file);
        sv.version++;
        sv.state = SVC_UPDATING;
        free(sv.reason);
        sv.reason = xasprintf("serve update: rolling out version %d", sv.version);
        sv.updated_at = c->now;
        if (old && old->data_name && old->data_cloud && w.sp->data_name &&
            strcmp(old->data_name, w.sp->data_name) == 0 &&
            sched_data_same(old->data_cloud, old->data_region ? old->data_region : "",
                            old->data_gb, w.sp)) {
            spec_free(old); /* the same data: nothing to free */
            old = NULL;
        }
        if (store_begin(c->s->st, &e) != 0 ||
            (old && sched_data_forget_unused(c->s->st, old, sv.id, c->now, &e) != 0) ||
            sched_data_note_home(c->s->st, w.sp, sv.id, c->now, &e) != 0 ||
            store_service_update(c->s->st, &sv, &e) != 0 ||
            store_commit(c->s->st, &e) != 0)
            store_rollback(c->s->st);
        spec_free(old);
    }
    if (e.code != 0) {
        api_fail_with(c, &e, &w, NULL);
    } else {
        srv_wake(c->s);
        api_reply(c, 200, apijson_service(&sv));
    }
    api_workload_free(&w);
    store_service_clear(&sv);
}

/* DELETE /v1/services/{name} (member): drain and stop every replica. */
void api_services_down(struct api_call *c)
{
    struct store_service sv;
    struct err e;

    if (get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    err_clear(&e);
    if (sv.ended_at == 0 && sv.state != SVC_SHUTTING_DOWN) {
        sv.state = SVC_SHUTTING_DOWN;
        free(sv.reason);
        sv.reason = xstrdup("serve down: stopping every replica");
        sv.updated_at = c->now;
        if (store_service_update(c->s->st, &sv, &e) != 0) {
            api_fail(c, &e);
            store_service_clear(&sv);
            return;
        }
        srv_wake(c->s);
    }
    api_reply(c, 202, apijson_service(&sv));
    store_service_clear(&sv);
}

/* ---- what routers use ---- */

/* How long a router's poll is held when nothing changed (its own timeout
 * is longer). */
#define ENDPOINTS_HOLD_S 25

/* After a restart the manager knows no replica's readiness until its first
 * probes answer (a probe may take the spec's timeout_seconds, a POST to a
 * model seconds): a set rendered then would list none of the replicas that
 * ran all along, and a router given it would drop the set it routes with
 * (503s until the next answer).  So for up to ENDPOINTS_WARMUP_S after the
 * server's start, a router's poll is held while a replica running since
 * before the start is not READY yet: the router keeps its set meanwhile. */
#define ENDPOINTS_WARMUP_S 20

static int warming_up(struct api_call *c, const struct store_service *sv)
{
    struct store_job *v = NULL;
    size_t n = 0, i;
    struct err e;
    /* since when the manager runs: the server's start, or its leadership's */
    double since = c->s->shared ? c->s->leader_since : c->s->started_at;
    int held = 0;

    err_clear(&e);
    if (c->s->mgr == NULL || c->now - since > ENDPOINTS_WARMUP_S ||
        store_replica_list(c->s->st, sv->id, 1, &v, &n, &e) != 0)
        return 0;
    for (i = 0; i < n && !held; i++) {
        const char *st = mgr_replica_state(c->s->mgr, sv->id, v[i].id);
        struct store_attempt a;

        if (v[i].state != JOB_RUNNING || v[i].cur_attempt == 0 ||
            (st != NULL && strcmp(st, "STARTING") != 0) ||
            store_attempt_get(c->s->st, v[i].cur_attempt, &a, &e) != 0)
            continue;
        held = a.state == ATT_RUNNING && a.running_at > 0 && a.running_at < since;
        store_attempt_clear(&a);
    }
    store_jobs_free(v, n);
    return held;
}

/* GET /v1/services/{name}/endpoints[?after=VERSION] (viewer): the replica
 * set to route to; with after, held until the set's version differs
 * (a long poll: routers learn of a change at once, not at their next poll),
 * and while the server, just restarted, is still finding its replicas ready
 * (warming_up). */
void api_services_endpoints(struct api_call *c)
{
    struct store_service sv;
    uint64_t version = 0;
    char after[32] = "";
    json_t *o;

    if (get_service_as(c, &sv, AUTH_VIEWER) != 0)
        return;
    if (c->s->mgr == NULL && c->s->shared) {
        /* a poll held by a leader that stepped down since: an empty set
         * would make its router drop the one it routes with */
        store_service_clear(&sv);
        api_failf(c, ST_EFENCED, "this server is no longer the leader: ask another");
        return;
    }
    /* a held poll is asked again after every step: the version alone
     * decides whether there is anything to render */
    version = c->s->mgr ? mgr_endpoints_version(c->s->mgr, sv.id) : 0;
    if (api_query(c, "after", after, sizeof(after)) && !c->rq->no_park &&
        c->s->base != NULL && (strtoull(after, NULL, 10) == version || warming_up(c, &sv))) {
        c->rp->park = 1;
        c->rp->park_s = ENDPOINTS_HOLD_S;
        store_service_clear(&sv);
        return;
    }
    o = c->s->mgr ? mgr_endpoints(c->s->mgr, sv.id, NULL) : NULL;
    if (o == NULL) {
        /* not (yet) in the manager: a set with nothing in it */
        o = json_object();
        json_object_set_new(o, "service", json_string(sv.name));
        json_object_set_new(o, "version", json_integer(0));
        json_object_set_new(o, "keys", sv.keys ? json_loads(sv.keys, 0, NULL) : json_array());
        json_object_set_new(o, "replicas", json_array());
    }
    api_reply(c, 200, o);
    store_service_clear(&sv);
}

/* POST /v1/services/{name}/load (member): a router's count of requests
 * since its last report and of those waiting now, for the autoscaler. */
void api_services_load(struct api_call *c)
{
    struct store_service sv;
    const json_t *n, *wait, *router;
    json_t *body, *o;

    if (get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    if (api_body(c, &body) != 0) {
        store_service_clear(&sv);
        return;
    }
    n = json_object_get(body, "requests");
    wait = json_object_get(body, "waiting");
    router = json_object_get(body, "router");
    if (!json_is_integer(n) || json_integer_value(n) < 0 ||
        (wait != NULL && (!json_is_integer(wait) || json_integer_value(wait) < 0))) {
        api_failf(c, ST_EINVAL, "the body needs \"requests\" (and may have \"waiting\"): "
                  "whole numbers >= 0");
    } else {
        if (c->s->mgr)
            mgr_load(c->s->mgr, sv.id, (long)json_integer_value(n),
                     wait ? (long)json_integer_value(wait) : 0, c->now);
        /* who reported, for `serve status` (url and region are the router's
         * own strings; anything else is ignored) */
        if (c->s->mgr && json_is_string(json_object_get(router, "url")))
            mgr_router_seen(c->s->mgr, sv.id, json_string_value(json_object_get(router, "url")),
                            json_is_string(json_object_get(router, "region"))
                                ? json_string_value(json_object_get(router, "region"))
                                : "",
                            c->now);
        if (wait && json_integer_value(wait) > 0)
            srv_wake(c->s);
        o = json_object();
        json_object_set_new(o, "ok", json_true());
        api_reply(c, 200, o);
    }
    json_decref(body);
    store_service_clear(&sv);
}

/* ---- API keys ---- */

/* A key as listed: no digest of it, never the key. */
static json_t *key_shown(const json_t *k)
{
    json_t *o = json_object();

    json_object_set(o, "id", json_object_get(k, "id"));
    json_object_set(o, "prefix", json_object_get(k, "prefix"));
    json_object_set(o, "created_at", json_object_get(k, "created_at"));
    json_object_set(o, "revoked_at", json_object_get(k, "revoked_at"));
    return o;
}

/* GET /v1/services/{name}/keys[?all=1] (member): the live API keys (all:
 * revoked ones too) by id, prefix and time made. */
void api_services_keys_list(struct api_call *c)
{
    struct store_service sv;
    json_t *all, *arr, *o;
    long every;
    size_t i;

    if (api_query_long(c, "all", 0, 1, 0, &every) != 0 || get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    all = keys_load(&sv, NULL);
    arr = json_array();
    for (i = 0; i < json_array_size(all); i++)
        if (every || key_live(json_array_get(all, i)))
            json_array_append_new(arr, key_shown(json_array_get(all, i)));
    o = json_object();
    json_object_set_new(o, "service", json_string(sv.name));
    json_object_set_new(o, "open", json_boolean(keys_nlive(all) == 0));
    json_object_set_new(o, "keys", arr);
    api_reply(c, 200, o);
    json_decref(all);
    store_service_clear(&sv);
}

/* 0 when sv's keys may change; else replied 409 (an ended service, or one
 * on its way down). */
static int keys_changeable(struct api_call *c, const struct store_service *sv)
{
    if (sv->ended_at == 0 && sv->state != SVC_SHUTTING_DOWN)
        return 0;
    api_failf(c, ST_ESTATE, "service '%s' is %s: its keys can no longer change", sv->name,
              svc_state_name(sv->state));
    return -1;
}

/* POST /v1/services/{name}/keys (member): a new key, shown once; the
 * others stay valid (rotation: make one, move the clients, revoke the old
 * one).  An open service gets its first key: from then on it needs one. */
void api_services_keys_create(struct api_call *c)
{
    struct store_service sv;
    char key[64] = "", hex[65] = "";
    json_int_t next;
    json_t *all, *k = NULL, *o;
    struct err e;
    int rc;

    if (get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    all = keys_load(&sv, &next);
    err_clear(&e);
    if (keys_changeable(c, &sv) != 0)
        goto out;
    if (keys_nlive(all) >= KEYS_MAX) {
        api_failf(c, ST_ESTATE, "service '%s' has %d keys, the most it may have: revoke one "
                  "first (`stratus serve keys %s --revoke ID`)", sv.name, KEYS_MAX, sv.name);
        goto out;
    }
    rc = auth_key_create("sk_", key, sizeof(key), hex, &e);
    if (rc == 0) {
        k = key_entry(next, key, hex, c->now);
        json_array_append(all, k);
        rc = keys_save(c, &sv, all, &e);
    }
    if (rc != 0) {
        api_fail(c, &e);
    } else {
        o = key_shown(k);
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(o, "keys", json_integer((json_int_t)keys_nlive(all)));
        api_reply(c, 201, o);
    }
out:
    json_decref(k);
    json_decref(all);
    store_service_clear(&sv);
}

/* The {key} of a path as a key id: 0, or replied 400. */
static int key_id_of(struct api_call *c, json_int_t *id)
{
    char shown[64];
    long v;

    if (c->key != NULL && str_to_long(c->key, 1, 0x7fffffffL, &v) == 0) {
        *id = v;
        return 0;
    }
    api_failf(c, ST_EINVAL, "'%s' is not a key id (a number like 2: `stratus serve keys "
              "NAME` lists them)", str_vis(shown, sizeof(shown), c->key ? c->key : ""));
    return -1;
}

/* DELETE /v1/services/{name}/keys/{key}[?force=1] (member): revoke a live
 * key.  The last one only with force: the endpoint is then open to anyone
 * who reaches a router. */
void api_services_keys_revoke(struct api_call *c)
{
    struct store_service sv;
    json_int_t id;
    json_t *all, *k, *o;
    struct err e;
    long force;

    if (key_id_of(c, &id) != 0 || api_query_long(c, "force", 0, 1, 0, &force) != 0 ||
        get_service_as(c, &sv, AUTH_MEMBER) != 0)
        return;
    all = keys_load(&sv, NULL);
    k = key_by_id(all, id);
    err_clear(&e);
    if (k != NULL)
        json_object_set_new(k, "revoked_at", json_real(c->now));
    if (k == NULL) {
        api_failf(c, ST_ENOTFOUND, "service '%s' has no live key %lld (`stratus serve keys "
                  "%s` lists them)", sv.name, (long long)id, sv.name);
    } else if (keys_changeable(c, &sv) != 0) {
        /* replied */
    } else if (keys_nlive(all) == 0 && !force) {
        api_failf(c, ST_ESTATE, "key %lld is the last key of service '%s': without it the "
                  "endpoint is open to anyone who reaches a router.  Make a new key first "
                  "(`stratus serve keys %s --create`), or --force to open it",
                  (long long)id, sv.name, sv.name);
    } else if (keys_save(c, &sv, all, &e) != 0) {
        api_fail(c, &e);
    } else {
        o = json_object();
        json_object_set_new(o, "revoked", json_integer(id));
        json_object_set_new(o, "keys", json_integer((json_int_t)keys_nlive(all)));
        json_object_set_new(o, "open", json_boolean(keys_nlive(all) == 0));
        api_reply(c, 200, o);
    }
    json_decref(all);
    store_service_clear(&sv);
}
