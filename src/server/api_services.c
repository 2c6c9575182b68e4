/*
 * api_services.c - the API's handlers for services (`stratus serve ...`):
 * up, list, get (with its replicas), update (a rolling update to a new
 * spec), down, the replica set routers follow (endpoints) and the load
 * routers report (load).  The replica manager (serve/manager.h) does the
 * work at the next controller step; these handlers write the service's
 * row and wake it.
 *
 * API keys: `serve up` makes one key for the service's endpoint and shows
 * it once ("sk_" + base64url of 32 random bytes); the store keeps its
 * SHA-256 in hex, which routers get with the replica set and compare with
 * the digest of what a client sends.  A service asked to be open
 * ({"open": true}) has none.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/apijson.h"
#include "../plan/plan.h"
#include "../serve/manager.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/xmem.h"
#include "auth.h"
#include "server.h"

/* ---- finding a service ---- */

/* The live service named by the path ({id} is its name): 0, or replied 404. */
static int get_service(struct api_call *c, struct store_service *out)
{
    struct err e;

    err_clear(&e);
    if (c->param == NULL || store_service_find(c->s->st, c->param, out, &e) != 0) {
        if (e.code == ST_ENOTFOUND || c->param == NULL)
            api_failf(c, ST_ENOTFOUND, "no service '%s' (`stratus serve status` lists them)",
                      c->param ? c->param : "");
        else
            api_fail(c, &e);
        return -1;
    }
    return 0;
}

/* ---- up ---- */

/* The spec of a body, which must have a service section: 0, or replied. */
static int service_workload(struct api_call *c, struct api_workload *w)
{
    if (api_workload_read(c, w) != 0)
        return -1;
    if (w->sp->service == NULL) {
        api_failf(c, ST_EINVAL,
                  "%s: the spec has no 'service:' section; `stratus launch` runs a job, "
                  "`stratus serve up` needs a service (readiness_probe, replicas)",
                  w->file);
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

    memset(&sv, 0, sizeof(sv));
    if (service_workload(c, &w) != 0) {
        api_workload_free(&w);
        return;
    }
    err_clear(&e);
    open = json_object_get(w.body, "open");
    if (api_submit_policy(c, &w, &ptext, &e) != 0 ||
        (!json_is_true(open) && auth_key_create("sk_", key, sizeof(key), hex, &e) != 0)) {
        api_fail_with(c, &e, &w, NULL);
        api_workload_free(&w);
        return;
    }
    keys = json_array();
    if (hex[0])
        json_array_append_new(keys, json_string(hex));
    sv.name = xstrdup(w.sp->name);
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
    if (store_service_insert(c->s->st, &sv, &e) != 0) {
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
            json_object_set_new(o, "cost", json_real(j->cost + store_attempt_cost_at(&a, c->now)));
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

    if (get_service(c, &sv) != 0)
        return;
    api_reply(c, 200, service_json(c, &sv, 1));
    store_service_clear(&sv);
}

/* ---- update, down ---- */

/* PUT /v1/services/{name} (member): a new spec; the manager rolls it out. */
void api_services_update(struct api_call *c)
{
    struct store_service sv;
    struct api_workload w;
    struct err e;

    if (get_service(c, &sv) != 0)
        return;
    if (service_workload(c, &w) != 0) {
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
    } else {
        free(sv.spec_text);
        free(sv.spec_path);
        sv.spec_text = xstrdup(w.text);
        sv.spec_path = xstrdup(w.file);
        sv.version++;
        sv.state = SVC_UPDATING;
        free(sv.reason);
        sv.reason = xasprintf("serve update: rolling out version %d", sv.version);
        sv.updated_at = c->now;
        store_service_update(c->s->st, &sv, &e);
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

    if (get_service(c, &sv) != 0)
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

/* GET /v1/services/{name}/endpoints[?after=VERSION] (viewer): the replica
 * set to route to; with after, held until the set's version differs
 * (a long poll: routers learn of a change at once, not at their next poll). */
void api_services_endpoints(struct api_call *c)
{
    struct store_service sv;
    uint64_t version = 0;
    char after[32] = "";
    json_t *o;

    if (get_service(c, &sv) != 0)
        return;
    /* a held poll is asked again after every step: the version alone
     * decides whether there is anything to render */
    version = c->s->mgr ? mgr_endpoints_version(c->s->mgr, sv.id) : 0;
    if (api_query(c, "after", after, sizeof(after)) && !c->rq->no_park &&
        strtoull(after, NULL, 10) == version && c->s->base != NULL) {
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

    if (get_service(c, &sv) != 0)
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
