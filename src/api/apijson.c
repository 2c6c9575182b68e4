/*
 * apijson.c - the JSON shapes of the API (apijson.h), both ways.
 *
 * Every store field travels except a job's or a service's spec_text and
 * policy_text: a spec may carry secrets in its environment (the store is
 * owner-only for that reason), and a viewer may read any job; nor do a
 * service's API key digests (only how many there are). A plain job's
 * service_id, svc_version, port (0) and svc_mode (any) travel as null; a
 * decoder takes them as optional, so a reply of a server from before
 * services decodes.  A stage of a pipeline or job group also has group_id,
 * stage, group_mode ("pipeline", "job group"), group_primary and group_name;
 * a plain job has none of them (its JSON is as it was before pipelines).
 * Times of 0 ("not yet") travel as null, as do the -1 of exit codes and of
 * an event's from/to states; enums travel as the names the CLI prints.
 * Reals are written by jansson with 17 significant digits, so a decoded
 * double is the encoded one.
 */
#include "apijson.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plan/plan.h"
#include "../spec/pipeline.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/xmem.h"

/* ---- encoding helpers ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A time or amount where 0 means "none". */
static json_t *real_or_null(double v)
{
    return v != 0 ? json_real(v) : json_null();
}

static json_t *int_or_null(long long v, long long none)
{
    return v != none ? json_integer(v) : json_null();
}

static const char *att_state_name(int s)
{
    return s == ATT_LAUNCHING ? "launching" : s == ATT_RUNNING ? "running" : "ended";
}

/* ---- encoders ---- */

static json_t *placement_json(const struct store_attempt *a)
{
    json_t *o = json_object();

    json_object_set_new(o, "cloud", json_string(a->cloud ? a->cloud : ""));
    json_object_set_new(o, "region", json_string(a->region ? a->region : ""));
    json_object_set_new(o, "zone", json_string(a->zone ? a->zone : ""));
    json_object_set_new(o, "instance_type",
                        json_string(a->instance_type ? a->instance_type : ""));
    json_object_set_new(o, "mode", json_string(plan_mode_name(a->mode)));
    json_object_set_new(o, "nodes", json_integer(a->nodes));
    json_object_set_new(o, "price_hour", json_real(a->price_hour));
    /* what the dashboard's map counts: accelerators per node */
    json_object_set_new(o, "accelerator",
                        json_string(a->accelerator ? a->accelerator : ""));
    json_object_set_new(o, "acc_count", json_integer(a->acc_count));
    json_object_set_new(o, "state", json_string(att_state_name(a->state)));
    return o;
}

/* The fields of `stratus status --json` first, in its order, then the rest. */
static void job_fields(json_t *o, const struct store_job *j)
{
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name ? j->name : ""));
    json_object_set_new(o, "kind", json_string(spec_kind_name((enum spec_kind)j->kind)));
    json_object_set_new(o, "team", str_or_null(j->team));
    json_object_set_new(o, "priority", json_integer(j->priority));
    json_object_set_new(o, "state", json_string(job_state_name(j->state)));
    json_object_set_new(o, "reason", str_or_null(j->reason));
    json_object_set_new(o, "submitted_at", json_real(j->submitted_at));
    json_object_set_new(o, "ended_at", real_or_null(j->ended_at));
    json_object_set_new(o, "attempts", json_integer(j->nattempts));
    json_object_set_new(o, "restarts", json_integer(j->restarts));
    json_object_set_new(o, "cost", json_real(j->cost));
    json_object_set_new(o, "exit_code", int_or_null(j->exit_code, -1));
    json_object_set_new(o, "on_demand_only", json_boolean(j->on_demand_only));
    json_object_set_new(o, "spec_path", str_or_null(j->spec_path));
    json_object_set_new(o, "started_at", real_or_null(j->started_at));
    json_object_set_new(o, "next_try_at", real_or_null(j->next_try_at));
    json_object_set_new(o, "deadline_at", real_or_null(j->deadline_at));
    json_object_set_new(o, "work_done_s", json_real(j->work_done_s));
    json_object_set_new(o, "cancel_requested", json_boolean(j->cancel_requested));
    json_object_set_new(o, "cur_attempt", int_or_null(j->cur_attempt, 0));
    json_object_set_new(o, "service_id", int_or_null(j->service_id, 0));
    json_object_set_new(o, "svc_version", int_or_null(j->svc_version, 0));
    json_object_set_new(o, "port", int_or_null(j->port, 0));
    json_object_set_new(o, "svc_mode",
                        j->svc_mode != SVC_MODE_ANY
                            ? json_string(svc_mode_name(j->svc_mode))
                            : json_null());
    if (j->group_id == 0)
        return;
    json_object_set_new(o, "group_id", json_integer(j->group_id));
    json_object_set_new(o, "stage", json_integer(j->stage));
    json_object_set_new(o, "group_mode", json_string(pipeline_mode_name(j->group_mode)));
    json_object_set_new(o, "group_primary", json_boolean(j->group_primary));
    json_object_set_new(o, "group_name", str_or_null(j->group_name));
}

json_t *apijson_job(const struct store_job *j, const struct store_attempt *atts, size_t n,
                    double now)
{
    json_t *o = json_object(), *placement = json_null();
    size_t i;

    job_fields(o, j);
    for (i = 0; i < n; i++)
        if (j->cur_attempt != 0 && atts[i].id == j->cur_attempt) {
            json_decref(placement);
            placement = placement_json(&atts[i]);
            /* the job's cost holds its ended attempts; a live one adds its own */
            if (atts[i].state != ATT_ENDED)
                json_object_set_new(
                    o, "cost_so_far",
                    json_real(j->cost + store_attempt_spent_at(&atts[i], now)));
        }
    json_object_set_new(o, "placement", placement);
    /* an ended job: where it last ran (its last attempt that ran; none when
     * none did), so that a list of jobs says where each one went */
    if (job_state_terminal(j->state)) {
        const struct store_attempt *last = NULL;

        for (i = 0; i < n; i++)
            if (atts[i].running_at > 0 && (last == NULL || atts[i].n > last->n))
                last = &atts[i];
        if (last != NULL)
            json_object_set_new(o, "last_placement", placement_json(last));
    }
    if (atts != NULL && n > 0) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, apijson_attempt(&atts[i], now));
        json_object_set_new(o, "attempts_detail", arr);
    }
    return o;
}

json_t *apijson_attempt(const struct store_attempt *a, double now)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "job_id", json_integer(a->job_id));
    json_object_set_new(o, "n", json_integer(a->n));
    json_object_set_new(o, "state", json_string(att_state_name(a->state)));
    json_object_set_new(o, "cloud", json_string(a->cloud ? a->cloud : ""));
    json_object_set_new(o, "region", json_string(a->region ? a->region : ""));
    json_object_set_new(o, "zone", json_string(a->zone ? a->zone : ""));
    json_object_set_new(o, "instance_type",
                        json_string(a->instance_type ? a->instance_type : ""));
    json_object_set_new(o, "accelerator",
                        json_string(a->accelerator ? a->accelerator : ""));
    json_object_set_new(o, "acc_count", json_integer(a->acc_count));
    json_object_set_new(o, "nodes", json_integer(a->nodes));
    json_object_set_new(o, "mode", json_string(plan_mode_name(a->mode)));
    json_object_set_new(o, "price_hour", json_real(a->price_hour));
    json_object_set_new(o, "launched_at", real_or_null(a->launched_at));
    json_object_set_new(o, "running_at", real_or_null(a->running_at));
    json_object_set_new(o, "ended_at", real_or_null(a->ended_at));
    json_object_set_new(o, "end_reason", json_string(attempt_end_name(a->end_reason)));
    json_object_set_new(o, "exit_code", int_or_null(a->exit_code, -1));
    json_object_set_new(o, "cost", json_real(a->cost));
    json_object_set_new(o, "ckpt_from", int_or_null(a->ckpt_from, 0));
    json_object_set_new(o, "ckpt_bytes", json_real(a->ckpt_bytes));
    json_object_set_new(o, "ckpt_copy_s", json_real(a->ckpt_copy_s));
    json_object_set_new(o, "egress", json_real(a->egress));
    json_object_set_new(o, "priced_at", real_or_null(a->priced_at));
    json_object_set_new(o, "backfill_spot", json_real(a->backfill_spot));
    if (a->state != ATT_ENDED) {
        /* What `status` shows for a live attempt: its time and cost so far. */
        double secs = a->running_at > 0 && now > a->running_at ? now - a->running_at : 0;

        json_object_set_new(o, "elapsed_s", json_real(secs));
        json_object_set_new(o, "cost_so_far", json_real(store_attempt_spent_at(a, now)));
    }
    return o;
}

json_t *apijson_event(const struct store_event *ev)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(ev->id));
    json_object_set_new(o, "job_id", json_integer(ev->job_id));
    json_object_set_new(o, "attempt_id", int_or_null(ev->attempt_id, 0));
    json_object_set_new(o, "at", json_real(ev->at));
    json_object_set_new(o, "type", json_string(ev->type ? ev->type : ""));
    json_object_set_new(o, "from_state",
                        ev->from_state >= 0 && ev->from_state < JOB__NSTATES
                            ? json_string(job_state_name(ev->from_state))
                            : json_null());
    json_object_set_new(o, "to_state",
                        ev->to_state >= 0 && ev->to_state < JOB__NSTATES
                            ? json_string(job_state_name(ev->to_state))
                            : json_null());
    json_object_set_new(o, "msg", str_or_null(ev->msg));
    return o;
}

json_t *apijson_cost_row(const struct store_cost_row *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "key", json_string(r->key ? r->key : ""));
    json_object_set_new(o, "name", str_or_null(r->name));
    json_object_set_new(o, "usd", json_real(r->usd));
    json_object_set_new(o, "compute_usd", json_real(r->compute_usd));
    json_object_set_new(o, "egress_usd", json_real(r->egress_usd));
    json_object_set_new(o, "storage_usd", json_real(r->storage_usd));
    json_object_set_new(o, "commitment_usd", json_real(r->commitment_usd));
    json_object_set_new(o, "node_hours", json_real(r->node_hours));
    json_object_set_new(o, "lost_node_hours", json_real(r->lost_node_hours));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    return o;
}

/* How many digests the JSON array `keys` holds; 0 for NULL (and for a
 * text that is not an array, which the server never writes). */
static size_t keys_count(const char *keys)
{
    json_t *arr = keys != NULL ? json_loads(keys, 0, NULL) : NULL;
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;

    json_decref(arr);
    return n;
}

json_t *apijson_service(const struct store_service *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(s->id));
    json_object_set_new(o, "name", json_string(s->name ? s->name : ""));
    json_object_set_new(o, "state", json_string(svc_state_name(s->state)));
    json_object_set_new(o, "reason", str_or_null(s->reason));
    json_object_set_new(o, "version", json_integer(s->version));
    json_object_set_new(o, "target", json_integer(s->target));
    json_object_set_new(o, "spec_path", str_or_null(s->spec_path));
    json_object_set_new(o, "created_at", json_real(s->created_at));
    json_object_set_new(o, "updated_at", real_or_null(s->updated_at));
    json_object_set_new(o, "ended_at", real_or_null(s->ended_at));
    json_object_set_new(o, "keys", json_integer((json_int_t)keys_count(s->keys)));
    return o;
}

json_t *apijson_error(const struct err *e)
{
    json_t *o = json_object(), *in = json_object();
    int code = e && e->code ? e->code : ST_EINTERNAL;

    json_object_set_new(in, "code", json_string(err_name(code)));
    json_object_set_new(in, "message",
                        json_string(e && e->msg[0] ? e->msg : err_str(code)));
    json_object_set_new(o, "error", in);
    return o;
}

/* ---- decoding ---- */

/* A field reader: remembers the first field that was missing or of the
 * wrong type, so a decoder reads every field and checks once. */
struct rd {
    const json_t *o;
    const char *what; /* "job", "attempt", ... for the message */
    const char *bad;  /* first bad field, or NULL */
};

static const json_t *rd_get(struct rd *r, const char *key)
{
    const json_t *v = json_object_get(r->o, key);

    if (v == NULL && r->bad == NULL)
        r->bad = key;
    return v;
}

static void rd_bad(struct rd *r, const char *key)
{
    if (r->bad == NULL)
        r->bad = key;
}

/* An integer field that may be missing (added after the first API):
 * none when missing or null. */
static long long rd_int_opt(struct rd *r, const char *key, long long none)
{
    const json_t *v = json_object_get(r->o, key);

    if (v == NULL || json_is_null(v))
        return none;
    if (!json_is_integer(v))
        rd_bad(r, key);
    return json_integer_value(v);
}

static double rd_real(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        rd_bad(r, key);
    return json_number_value(v);
}

static long long rd_int(struct rd *r, const char *key, long long none)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return none;
    if (!json_is_integer(v))
        rd_bad(r, key);
    return json_integer_value(v);
}

static int rd_bool(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v != NULL && !json_is_boolean(v))
        rd_bad(r, key);
    return v != NULL && json_is_true(v);
}

/* An owned copy of a string field; NULL for null (or when missing/bad). */
static char *rd_str(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        rd_bad(r, key);
        return NULL;
    }
    return xstrdup(json_string_value(v));
}

/* A string field that must be present: "" when missing. */
static char *rd_str_req(struct rd *r, const char *key)
{
    char *s = rd_str(r, key);

    if (s == NULL) {
        rd_bad(r, key);
        s = xstrdup("");
    }
    return s;
}

/* The group fields of a stage (absent for a plain job). */
static void rd_group(struct rd *r, struct store_job *j)
{
    const json_t *mode = json_object_get(r->o, "group_mode");
    const json_t *name = json_object_get(r->o, "group_name");
    int m;

    j->group_id = rd_int_opt(r, "group_id", 0);
    j->stage = (int)rd_int_opt(r, "stage", 0);
    j->group_primary = json_is_true(json_object_get(r->o, "group_primary"));
    if (json_is_string(name))
        j->group_name = xstrdup(json_string_value(name));
    for (m = PIPE_SERIAL; json_is_string(mode) && m <= PIPE_PARALLEL; m++)
        if (strcmp(json_string_value(mode), pipeline_mode_name(m)) == 0)
            j->group_mode = m;
    if (j->group_id != 0 && j->group_mode == PIPE_NONE)
        rd_bad(r, "group_mode");
}

/* An enum given by name: its number from names(0..n-1), or dflt (and bad). */
static int rd_enum(struct rd *r, const char *key, const char *(*names)(int), int n,
                   int dflt)
{
    const json_t *v = rd_get(r, key);
    int i;

    if (v == NULL || json_is_null(v))
        return dflt;
    for (i = 0; json_is_string(v) && i < n; i++)
        if (strcmp(names(i), json_string_value(v)) == 0)
            return i;
    rd_bad(r, key);
    return dflt;
}

static const char *kind_name_int(int k)
{
    return spec_kind_name((enum spec_kind)k);
}

static const char *att_state_name_int(int s)
{
    return att_state_name(s);
}

static int rd_done(struct rd *r, struct err *e)
{
    if (!json_is_object(r->o))
        return err_set(e, ST_EPARSE, "the server's reply has no %s object", r->what);
    if (r->bad)
        return err_set(e, ST_EPARSE, "the server's reply has a %s without a valid '%s'",
                       r->what, r->bad);
    return 0;
}

int apijson_to_job(const json_t *o, struct store_job *out, struct err *e)
{
    struct rd r = {o, "job", NULL};
    struct store_job *j = out;

    memset(j, 0, sizeof(*j));
    j->id = rd_int(&r, "id", 0);
    j->name = rd_str_req(&r, "name");
    j->spec_path = rd_str(&r, "spec_path");
    j->kind = rd_enum(&r, "kind", kind_name_int, SPEC_KIND__N, 0);
    j->team = rd_str(&r, "team");
    j->priority = (int)rd_int(&r, "priority", 0);
    j->state = rd_enum(&r, "state", job_state_name, JOB__NSTATES, 0);
    j->reason = rd_str(&r, "reason");
    j->submitted_at = rd_real(&r, "submitted_at");
    j->started_at = rd_real(&r, "started_at");
    j->ended_at = rd_real(&r, "ended_at");
    j->next_try_at = rd_real(&r, "next_try_at");
    j->deadline_at = rd_real(&r, "deadline_at");
    j->restarts = (int)rd_int(&r, "restarts", 0);
    j->nattempts = (int)rd_int(&r, "attempts", 0);
    j->cur_attempt = rd_int(&r, "cur_attempt", 0);
    j->on_demand_only = rd_bool(&r, "on_demand_only");
    j->work_done_s = rd_real(&r, "work_done_s");
    j->cost = rd_real(&r, "cost");
    j->exit_code = (int)rd_int(&r, "exit_code", -1);
    j->cancel_requested = rd_bool(&r, "cancel_requested");
    j->service_id = rd_int_opt(&r, "service_id", 0);
    j->svc_version = (int)rd_int_opt(&r, "svc_version", 0);
    j->port = (int)rd_int_opt(&r, "port", 0);
    j->svc_mode =
        json_object_get(o, "svc_mode") != NULL
            ? rd_enum(&r, "svc_mode", svc_mode_name, SVC_MODE_ON_DEMAND + 1, SVC_MODE_ANY)
            : SVC_MODE_ANY;
    rd_group(&r, j);
    if (rd_done(&r, e) != 0) {
        store_job_clear(j);
        memset(j, 0, sizeof(*j));
        return e->code;
    }
    return 0;
}

int apijson_to_attempt(const json_t *o, struct store_attempt *out, struct err *e)
{
    struct rd r = {o, "attempt", NULL};
    struct store_attempt *a = out;

    memset(a, 0, sizeof(*a));
    a->id = rd_int(&r, "id", 0);
    a->job_id = rd_int(&r, "job_id", 0);
    a->n = (int)rd_int(&r, "n", 0);
    a->state = rd_enum(&r, "state", att_state_name_int, ATT_ENDED + 1, ATT_ENDED);
    a->cloud = rd_str_req(&r, "cloud");
    a->region = rd_str_req(&r, "region");
    a->zone = rd_str_req(&r, "zone");
    a->instance_type = rd_str_req(&r, "instance_type");
    a->accelerator = rd_str_req(&r, "accelerator");
    a->acc_count = (int)rd_int(&r, "acc_count", 0);
    a->nodes = (int)rd_int(&r, "nodes", 0);
    a->mode = rd_enum(&r, "mode", plan_mode_name, PLAN_COMMITTED + 1, 0);
    a->price_hour = rd_real(&r, "price_hour");
    a->launched_at = rd_real(&r, "launched_at");
    a->running_at = rd_real(&r, "running_at");
    a->ended_at = rd_real(&r, "ended_at");
    a->end_reason = rd_enum(&r, "end_reason", attempt_end_name, ATT_END__N, ATT_END_NONE);
    a->exit_code = (int)rd_int(&r, "exit_code", -1);
    a->cost = rd_real(&r, "cost");
    a->ckpt_from = rd_int(&r, "ckpt_from", 0);
    a->ckpt_bytes = rd_real(&r, "ckpt_bytes");
    a->ckpt_copy_s = rd_real(&r, "ckpt_copy_s");
    a->egress = rd_real(&r, "egress");
    a->priced_at = rd_real(&r, "priced_at");
    a->backfill_spot = (float)rd_real(&r, "backfill_spot");
    if (rd_done(&r, e) != 0) {
        store_attempt_clear(a);
        memset(a, 0, sizeof(*a));
        return e->code;
    }
    return 0;
}

int apijson_to_event(const json_t *o, struct store_event *out, struct err *e)
{
    struct rd r = {o, "event", NULL};

    memset(out, 0, sizeof(*out));
    out->id = rd_int(&r, "id", 0);
    out->job_id = rd_int(&r, "job_id", 0);
    out->attempt_id = rd_int(&r, "attempt_id", 0);
    out->at = rd_real(&r, "at");
    out->type = rd_str_req(&r, "type");
    out->from_state = rd_enum(&r, "from_state", job_state_name, JOB__NSTATES, -1);
    out->to_state = rd_enum(&r, "to_state", job_state_name, JOB__NSTATES, -1);
    out->msg = rd_str(&r, "msg");
    if (rd_done(&r, e) != 0) {
        free(out->type);
        free(out->msg);
        memset(out, 0, sizeof(*out));
        return e->code;
    }
    return 0;
}

int apijson_to_cost_row(const json_t *o, struct store_cost_row *out, struct err *e)
{
    struct rd r = {o, "cost row", NULL};

    memset(out, 0, sizeof(*out));
    out->key = rd_str_req(&r, "key");
    out->name = rd_str(&r, "name");
    out->usd = rd_real(&r, "usd");
    out->compute_usd = rd_real(&r, "compute_usd");
    out->egress_usd = rd_real(&r, "egress_usd");
    {
        const json_t *st = json_object_get(o, "storage_usd"); /* a server before it: 0 */

        out->storage_usd = json_is_number(st) ? json_number_value(st) : 0;
        st = json_object_get(o, "commitment_usd");
        out->commitment_usd = json_is_number(st) ? json_number_value(st) : 0;
    }
    out->node_hours = rd_real(&r, "node_hours");
    out->lost_node_hours = rd_real(&r, "lost_node_hours");
    out->attempts = (int)rd_int(&r, "attempts", 0);
    if (rd_done(&r, e) != 0) {
        free(out->key);
        free(out->name);
        memset(out, 0, sizeof(*out));
        return e->code;
    }
    return 0;
}

int apijson_to_service(const json_t *o, struct store_service *out, struct err *e)
{
    struct rd r = {o, "service", NULL};

    memset(out, 0, sizeof(*out));
    out->id = rd_int(&r, "id", 0);
    out->name = rd_str_req(&r, "name");
    out->state = rd_enum(&r, "state", svc_state_name, SVC__NSTATES, 0);
    out->reason = rd_str(&r, "reason");
    out->version = (int)rd_int(&r, "version", 0);
    out->target = (int)rd_int(&r, "target", 0);
    out->spec_path = rd_str(&r, "spec_path");
    out->created_at = rd_real(&r, "created_at");
    out->updated_at = rd_real(&r, "updated_at");
    out->ended_at = rd_real(&r, "ended_at");
    if (rd_int(&r, "keys", 0) < 0)
        rd_bad(&r, "keys");
    if (rd_done(&r, e) != 0) {
        store_service_clear(out);
        return e->code;
    }
    return 0;
}

/* The ST_E* code named name ("EPARSE"), or 0. */
static int code_by_name(const char *name)
{
    int c;

    for (c = ST__ERR_FIRST + 1; c < ST__ERR_LAST; c++)
        if (strcmp(err_name(c), name) == 0)
            return c;
    return 0;
}

void apijson_to_error(const json_t *o, int http_status, struct err *e)
{
    const json_t *in = json_object_get(o, "error");
    const char *code = json_string_value(json_object_get(in, "code"));
    const char *msg = json_string_value(json_object_get(in, "message"));
    int c = code ? code_by_name(code) : 0;

    if (c == 0)
        c = ST_EINTERNAL;
    if (msg != NULL)
        err_set(e, c, "%s", msg);
    else
        err_set(e, c, "the server answered HTTP %d without an error message",
                http_status);
}

/* ---- datasets ---- */

static json_t *place_json(const char *cloud, const char *region)
{
    return json_pack("{s:s, s:s}", "cloud", cloud, "region", region);
}

json_t *apijson_datasets(const struct store_data_replica *v, size_t n, double now)
{
    json_t *out = json_array(), *ds = NULL, *reps = NULL;
    double egress = 0, storage = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        const struct store_data_replica *r = &v[i];
        double st = store_data_storage_cost(r, now);
        char from[160];

        if (ds == NULL || strcmp(r->dataset, v[i - 1].dataset) != 0) {
            if (ds != NULL) {
                json_object_set_new(ds, "egress_usd", json_real(egress));
                json_object_set_new(ds, "storage_usd", json_real(storage));
            }
            ds = json_pack("{s:s, s:n, s:f}", "dataset", r->dataset, "home", "size_gb",
                           r->size_gb);
            reps = json_array();
            json_object_set_new(ds, "replicas", reps);
            json_array_append_new(out, ds);
            egress = storage = 0;
        }
        if (r->home) {
            /* the live home; else (with all) the one forgotten last */
            double f = json_number_value(json_object_get(ds, "home_forgotten_at"));
            int have = !json_is_null(json_object_get(ds, "home"));

            if (!have || (f > 0 && (r->expired_at == 0 || r->expired_at > f))) {
                json_object_set_new(ds, "home", place_json(r->cloud, r->region));
                json_object_set_new(ds, "size_gb", json_real(r->size_gb));
                json_object_set_new(ds, "home_forgotten_at", json_real(r->expired_at));
            }
            continue;
        }
        /* a job's own data has no home row: its first replica came from home */
        if (json_is_null(json_object_get(ds, "home")) && json_array_size(reps) == 0)
            json_object_set_new(ds, "home", place_json(r->src_cloud ? r->src_cloud : "",
                                                       r->src_region ? r->src_region : ""));
        egress += r->egress;
        storage += st;
        /* a bucket of unknown region is named as the events name it */
        snprintf(from, sizeof(from), "%s/%s", r->src_cloud ? r->src_cloud : "",
                 r->src_region && *r->src_region ? r->src_region : "(bucket)");
        json_array_append_new(
            reps,
            json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:f, s:f, s:I, s:I}",
                      "cloud", r->cloud, "region", r->region, "from", from, "via",
                      r->via ? r->via : "", "created_at", r->created_at, "last_used_at",
                      r->last_used_at, "expired_at", r->expired_at, "in_use", r->in_use,
                      "egress_usd", r->egress, "storage_usd", st, "job_id",
                      (json_int_t)r->job_id, "attempt_id", (json_int_t)r->attempt_id));
    }
    if (ds != NULL) {
        json_object_set_new(ds, "egress_usd", json_real(egress));
        json_object_set_new(ds, "storage_usd", json_real(storage));
    }
    return out;
}
