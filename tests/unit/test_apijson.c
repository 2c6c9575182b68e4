/*
 * test_apijson.c - the API's JSON codec: every field of a job, an attempt,
 * an event and a cost row survives encode -> text -> decode (with values
 * chosen so that a dropped or swapped field shows: no two fields share a
 * value), the "none" values (0 times, -1 exit codes and states) travel as
 * null and come back, a live attempt gets its elapsed time and cost so far,
 * a job carries its current placement, a job's spec and policy text are not
 * served, malformed records are refused with the field named, and an error
 * reply decodes to its code and message.  Services (schema 7): every field
 * but the texts and the API key digests (a count only) round-trips, and a
 * job's replica fields travel as numbers, or null for a plain job.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/apijson.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "store/store.h"
#include "util/xmem.h"

/* Encode, print to text, parse back: what goes over the wire. */
static json_t *wire(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    json_t *back;

    assert_non_null(text);
    back = json_loads(text, 0, NULL);
    assert_non_null(back);
    free(text);
    json_decref(o);
    return back;
}

static void str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static struct store_job full_job(void)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    j.id = 42;
    j.name = xstrdup("llama-pretrain");
    j.spec_path = xstrdup("/home/u/llama.yaml");
    j.spec_text = xstrdup("name: llama-pretrain\nenvs: {SECRET: x}\n");
    j.policy_text = xstrdup("rules: []\n");
    j.kind = SPEC_KIND_TRAIN;
    j.team = xstrdup("research");
    j.priority = 7;
    j.state = JOB_RECOVERING;
    j.reason = xstrdup("preempted at azure/eastus");
    j.submitted_at = 1700000000.125;
    j.started_at = 1700000010.25;
    j.ended_at = 1700000999.5;
    j.next_try_at = 1700000100.75;
    j.deadline_at = 1700086400.0625;
    j.restarts = 3;
    j.nattempts = 4;
    j.cur_attempt = 17;
    j.on_demand_only = 1;
    j.work_done_s = 1234.5678901234567;
    j.cost = 98.7654321012345;
    j.exit_code = 5;
    j.cancel_requested = 1;
    j.service_id = 12;
    j.svc_version = 3;
    j.port = 40123;
    j.svc_mode = SVC_MODE_SPOT;
    return j;
}

static void job_eq(const struct store_job *a, const struct store_job *b)
{
    assert_int_equal(a->id, b->id);
    str_eq(a->name, b->name);
    str_eq(a->spec_path, b->spec_path);
    assert_int_equal(a->kind, b->kind);
    str_eq(a->team, b->team);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->state, b->state);
    str_eq(a->reason, b->reason);
    assert_true(a->submitted_at == b->submitted_at);
    assert_true(a->started_at == b->started_at);
    assert_true(a->ended_at == b->ended_at);
    assert_true(a->next_try_at == b->next_try_at);
    assert_true(a->deadline_at == b->deadline_at);
    assert_int_equal(a->restarts, b->restarts);
    assert_int_equal(a->nattempts, b->nattempts);
    assert_int_equal(a->cur_attempt, b->cur_attempt);
    assert_int_equal(a->on_demand_only, b->on_demand_only);
    assert_true(a->work_done_s == b->work_done_s);
    assert_true(a->cost == b->cost);
    assert_int_equal(a->exit_code, b->exit_code);
    assert_int_equal(a->cancel_requested, b->cancel_requested);
    assert_int_equal(a->service_id, b->service_id);
    assert_int_equal(a->svc_version, b->svc_version);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->svc_mode, b->svc_mode);
}

static struct store_attempt full_attempt(int state)
{
    struct store_attempt a;

    memset(&a, 0, sizeof(a));
    a.id = 17;
    a.job_id = 42;
    a.n = 4;
    a.state = state;
    a.cloud = xstrdup("azure");
    a.region = xstrdup("eastus");
    a.zone = xstrdup("eastus-2");
    a.instance_type = xstrdup("Standard_ND96isr_H100_v5");
    a.accelerator = xstrdup("H100");
    a.acc_count = 8;
    a.nodes = 2;
    a.mode = PLAN_SPOT;
    a.price_hour = 31.123456789;
    a.launched_at = 1700000001.5;
    a.running_at = 1700000002.25;
    a.ended_at = state == ATT_ENDED ? 1700003602.25 : 0;
    a.end_reason = state == ATT_ENDED ? ATT_END_PREEMPTED : ATT_END_NONE;
    a.exit_code = state == ATT_ENDED ? 137 : -1;
    a.cost = 12.345;
    a.ckpt_from = 16;
    a.ckpt_bytes = 1.5e9;
    a.ckpt_copy_s = 33.3;
    a.egress = 6.25;
    a.priced_at = 1700000500.125;
    return a;
}

static void attempt_eq(const struct store_attempt *a, const struct store_attempt *b)
{
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->job_id, b->job_id);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->state, b->state);
    str_eq(a->cloud, b->cloud);
    str_eq(a->region, b->region);
    str_eq(a->zone, b->zone);
    str_eq(a->instance_type, b->instance_type);
    str_eq(a->accelerator, b->accelerator);
    assert_int_equal(a->acc_count, b->acc_count);
    assert_int_equal(a->nodes, b->nodes);
    assert_int_equal(a->mode, b->mode);
    assert_true(a->price_hour == b->price_hour);
    assert_true(a->launched_at == b->launched_at);
    assert_true(a->running_at == b->running_at);
    assert_true(a->ended_at == b->ended_at);
    assert_int_equal(a->end_reason, b->end_reason);
    assert_int_equal(a->exit_code, b->exit_code);
    assert_true(a->cost == b->cost);
    assert_int_equal(a->ckpt_from, b->ckpt_from);
    assert_true(a->ckpt_bytes == b->ckpt_bytes);
    assert_true(a->ckpt_copy_s == b->ckpt_copy_s);
    assert_true(a->egress == b->egress);
    assert_true(a->priced_at == b->priced_at);
}

static void test_job_roundtrip(void **state)
{
    struct store_job j = full_job(), back;
    json_t *o;
    struct err e;

    (void)state;
    o = wire(apijson_job(&j, NULL, 0, 0));
    /* a spec may hold secrets in its environment: never served */
    assert_null(json_object_get(o, "spec_text"));
    assert_null(json_object_get(o, "policy_text"));
    {
        char *text = json_dumps(o, 0);

        assert_null(strstr(text, "SECRET"));
        free(text);
    }
    assert_true(json_is_null(json_object_get(o, "placement")));
    assert_null(json_object_get(o, "attempts_detail"));
    /* the fields `status --json` had keep their names and shapes */
    assert_string_equal(json_string_value(json_object_get(o, "state")), "RECOVERING");
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "train");
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 4);
    assert_int_equal(apijson_to_job(o, &back, &e), 0);
    job_eq(&j, &back);
    assert_null(back.spec_text);
    assert_null(back.policy_text);
    store_job_clear(&back);
    json_decref(o);
    store_job_clear(&j);
}

/* 0 times, -1 exit codes, no team or reason: null on the wire, and back. */
static void test_job_nones(void **state)
{
    struct store_job j, back;
    struct err e;
    json_t *o;

    (void)state;
    memset(&j, 0, sizeof(j));
    j.id = 1;
    j.name = xstrdup("x");
    j.state = JOB_PENDING;
    j.exit_code = -1;
    o = wire(apijson_job(&j, NULL, 0, 0));
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_true(json_is_null(json_object_get(o, "ended_at")));
    assert_true(json_is_null(json_object_get(o, "team")));
    assert_true(json_is_null(json_object_get(o, "cur_attempt")));
    assert_int_equal(apijson_to_job(o, &back, &e), 0);
    job_eq(&j, &back);
    store_job_clear(&back);
    json_decref(o);
    store_job_clear(&j);
}

static void test_attempt_roundtrip(void **state)
{
    struct store_attempt a = full_attempt(ATT_ENDED), back;
    struct err e;
    json_t *o;

    (void)state;
    o = wire(apijson_attempt(&a, 1800000000));
    /* an ended attempt has no "so far" */
    assert_null(json_object_get(o, "elapsed_s"));
    assert_null(json_object_get(o, "cost_so_far"));
    assert_string_equal(json_string_value(json_object_get(o, "end_reason")), "preempted");
    assert_string_equal(json_string_value(json_object_get(o, "mode")), "spot");
    assert_int_equal(apijson_to_attempt(o, &back, &e), 0);
    attempt_eq(&a, &back);
    store_attempt_clear(&back);
    json_decref(o);
    store_attempt_clear(&a);
}

/* A running attempt: elapsed since running_at, and its cost so far as the
 * store computes it: its run to now and the data move it paid. */
static void test_attempt_live(void **state)
{
    struct store_attempt a = full_attempt(ATT_RUNNING), back;
    double now = a.running_at + 3600;
    struct err e;
    json_t *o;

    (void)state;
    o = wire(apijson_attempt(&a, now));
    assert_true(json_real_value(json_object_get(o, "elapsed_s")) == 3600);
    assert_true(a.egress > 0); /* paid when it started running: in the cost so far */
    assert_true(json_real_value(json_object_get(o, "cost_so_far")) ==
                store_attempt_cost_at(&a, now) + a.egress);
    assert_true(store_attempt_spent_at(&a, now) == store_attempt_cost_at(&a, now) + a.egress);
    assert_true(json_real_value(json_object_get(o, "cost_so_far")) > a.cost);
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_true(json_is_null(json_object_get(o, "ended_at")));
    assert_int_equal(apijson_to_attempt(o, &back, &e), 0);
    attempt_eq(&a, &back);
    store_attempt_clear(&back);
    json_decref(o);
    store_attempt_clear(&a);
}

/* With attempts: attempts_detail in order, placement of the current one. */
static void test_job_with_attempts(void **state)
{
    struct store_job j = full_job();
    struct store_attempt at[2];
    const json_t *p, *d;
    struct err e;
    json_t *o;
    size_t i;

    (void)state;
    at[0] = full_attempt(ATT_ENDED);
    at[0].id = 16;
    at[1] = full_attempt(ATT_RUNNING);
    free(at[1].region);
    at[1].region = xstrdup("westus3");
    o = wire(apijson_job(&j, at, 2, at[1].running_at + 60));
    p = json_object_get(o, "placement");
    assert_string_equal(json_string_value(json_object_get(p, "region")), "westus3");
    assert_string_equal(json_string_value(json_object_get(p, "mode")), "spot");
    assert_int_equal(json_integer_value(json_object_get(p, "nodes")), 2);
    assert_true(json_real_value(json_object_get(p, "price_hour")) == at[1].price_hour);
    d = json_object_get(o, "attempts_detail");
    assert_int_equal(json_array_size(d), 2);
    for (i = 0; i < 2; i++) {
        struct store_attempt back;

        assert_int_equal(apijson_to_attempt(json_array_get(d, i), &back, &e), 0);
        attempt_eq(&at[i], &back);
        store_attempt_clear(&back);
    }
    json_decref(o);
    store_attempt_clear(&at[0]);
    store_attempt_clear(&at[1]);
    store_job_clear(&j);
}

static void test_event_roundtrip(void **state)
{
    struct store_event ev = {9,           42,  17, 1700000003.5, NULL, JOB_PROVISIONING,
                             JOB_RUNNING, NULL};
    struct store_event none = {10, 42, 0, 1700000004.5, NULL, -1, -1, NULL}, back;
    struct err e;
    json_t *o;

    (void)state;
    ev.type = xstrdup("state");
    ev.msg = xstrdup("running on azure/eastus");
    none.type = xstrdup("preempted");
    o = wire(apijson_event(&ev));
    assert_string_equal(json_string_value(json_object_get(o, "to_state")), "RUNNING");
    assert_int_equal(apijson_to_event(o, &back, &e), 0);
    assert_int_equal(back.id, 9);
    assert_int_equal(back.job_id, 42);
    assert_int_equal(back.attempt_id, 17);
    assert_true(back.at == ev.at);
    assert_string_equal(back.type, "state");
    assert_int_equal(back.from_state, JOB_PROVISIONING);
    assert_int_equal(back.to_state, JOB_RUNNING);
    assert_string_equal(back.msg, ev.msg);
    free(back.type);
    free(back.msg);
    json_decref(o);
    o = wire(apijson_event(&none));
    assert_true(json_is_null(json_object_get(o, "from_state")));
    assert_int_equal(apijson_to_event(o, &back, &e), 0);
    assert_int_equal(back.from_state, -1);
    assert_int_equal(back.to_state, -1);
    assert_int_equal(back.attempt_id, 0);
    assert_null(back.msg);
    free(back.type);
    json_decref(o);
    free(ev.type);
    free(ev.msg);
    free(none.type);
}

static void test_cost_row_roundtrip(void **state)
{
    struct store_cost_row r, back;
    struct err e;
    json_t *o;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.key = xstrdup("7");
    r.name = xstrdup("nightly-eval");
    r.usd = 10.5;
    r.egress_usd = 6.25;
    r.compute_usd = 4.25;
    r.node_hours = 3.125;
    r.lost_node_hours = 0.5;
    r.attempts = 3;
    o = wire(apijson_cost_row(&r));
    assert_int_equal(apijson_to_cost_row(o, &back, &e), 0);
    assert_string_equal(back.key, "7");
    assert_string_equal(back.name, "nightly-eval");
    assert_true(back.usd == 10.5 && back.egress_usd == 6.25 && back.compute_usd == 4.25);
    assert_true(back.node_hours == 3.125 && back.lost_node_hours == 0.5);
    assert_int_equal(back.attempts, 3);
    free(back.key);
    free(back.name);
    json_decref(o);
    free(r.key);
    free(r.name);
}

/* A record with a field missing or of the wrong type is refused, the field
 * named, and leaves nothing to free. */
static void test_malformed(void **state)
{
    struct store_job j = full_job(), back;
    struct store_attempt ab;
    struct store_event eb;
    struct err e;
    json_t *o;

    (void)state;
    o = apijson_job(&j, NULL, 0, 0);
    json_object_set_new(o, "state", json_string("SLEEPING"));
    assert_int_equal(apijson_to_job(o, &back, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "'state'"));
    assert_null(back.name);
    json_object_del(o, "state");
    json_object_set_new(o, "priority", json_string("high"));
    assert_int_equal(apijson_to_job(o, &back, &e), ST_EPARSE);
    json_decref(o);
    o = json_array();
    assert_int_equal(apijson_to_job(o, &back, &e), ST_EPARSE);
    assert_int_equal(apijson_to_attempt(o, &ab, &e), ST_EPARSE);
    assert_int_equal(apijson_to_event(o, &eb, &e), ST_EPARSE);
    json_decref(o);
    o = json_pack("{s:i}", "id", 3);
    assert_int_equal(apijson_to_attempt(o, &ab, &e), ST_EPARSE);
    assert_null(ab.cloud);
    json_decref(o);
    store_job_clear(&j);
}

/* A replica carries its service, version and port; a plain job has null
 * there, and a reply without them (a server from before services) decodes
 * to a plain job. */
static void test_job_replica_fields(void **state)
{
    struct store_job j = full_job(), back;
    struct err e;
    json_t *o;

    (void)state;
    j.service_id = 9;
    j.svc_version = 2;
    j.port = 40007;
    j.svc_mode = SVC_MODE_ON_DEMAND;
    o = wire(apijson_job(&j, NULL, 0, 0));
    assert_string_equal(json_string_value(json_object_get(o, "svc_mode")), "on-demand");
    assert_int_equal(json_integer_value(json_object_get(o, "service_id")), 9);
    assert_int_equal(json_integer_value(json_object_get(o, "svc_version")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 40007);
    assert_int_equal(apijson_to_job(o, &back, &e), 0);
    job_eq(&j, &back);
    store_job_clear(&back);
    json_decref(o);
    j.service_id = 0;
    j.svc_version = 0;
    j.port = 0;
    j.svc_mode = SVC_MODE_ANY;
    o = wire(apijson_job(&j, NULL, 0, 0));
    assert_true(json_is_null(json_object_get(o, "service_id")));
    assert_true(json_is_null(json_object_get(o, "svc_mode")));
    assert_true(json_is_null(json_object_get(o, "svc_version")));
    assert_true(json_is_null(json_object_get(o, "port")));
    json_object_del(o, "service_id");
    json_object_del(o, "svc_version");
    json_object_del(o, "port");
    json_object_del(o, "svc_mode");
    assert_int_equal(apijson_to_job(o, &back, &e), 0);
    job_eq(&j, &back);
    store_job_clear(&back);
    json_object_set_new(o, "svc_mode", json_string("sometimes"));
    assert_int_equal(apijson_to_job(o, &back, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "'svc_mode'"));
    json_object_del(o, "svc_mode");
    json_object_set_new(o, "port", json_string("80"));
    assert_int_equal(apijson_to_job(o, &back, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "'port'"));
    assert_null(back.name);
    json_decref(o);
    store_job_clear(&j);
}

static struct store_service full_service(void)
{
    struct store_service s;

    memset(&s, 0, sizeof(s));
    s.id = 3;
    s.name = xstrdup("llm");
    s.spec_path = xstrdup("/home/u/llm.yaml");
    s.spec_text = xstrdup("service: {replicas: 2}\nenvs: {SECRET: x}\n");
    s.policy_text = xstrdup("rules: []\n");
    s.version = 4;
    s.state = SVC_UPDATING;
    s.reason = xstrdup("rolling update to version 4");
    s.created_at = 1700000000.125;
    s.updated_at = 1700000050.25;
    s.ended_at = 1700000099.5;
    s.target = 6;
    s.keys = xstrdup("[\"aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000\","
                     "\"bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000\"]");
    return s;
}

/* Every field but the texts and the key digests survives; the digests
 * travel as their count only. */
static void test_service_roundtrip(void **state)
{
    struct store_service s = full_service(), back;
    struct err e;
    json_t *o;
    char *text;

    (void)state;
    o = wire(apijson_service(&s));
    text = json_dumps(o, 0);
    assert_null(strstr(text, "SECRET"));
    assert_null(strstr(text, "rules"));
    assert_null(strstr(text, "aaaa0000"));
    free(text);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "UPDATING");
    assert_int_equal(json_integer_value(json_object_get(o, "keys")), 2);
    assert_int_equal(apijson_to_service(o, &back, &e), 0);
    assert_int_equal(back.id, s.id);
    str_eq(back.name, s.name);
    str_eq(back.spec_path, s.spec_path);
    assert_null(back.spec_text);
    assert_null(back.policy_text);
    assert_null(back.keys);
    assert_int_equal(back.version, s.version);
    assert_int_equal(back.state, s.state);
    str_eq(back.reason, s.reason);
    assert_true(back.created_at == s.created_at);
    assert_true(back.updated_at == s.updated_at);
    assert_true(back.ended_at == s.ended_at);
    assert_int_equal(back.target, s.target);
    store_service_clear(&back);
    json_decref(o);

    /* the nones: not ended, no reason or path, an open endpoint */
    free(s.keys);
    free(s.reason);
    free(s.spec_path);
    s.keys = s.reason = s.spec_path = NULL;
    s.ended_at = 0;
    s.state = SVC_READY;
    o = wire(apijson_service(&s));
    assert_int_equal(json_integer_value(json_object_get(o, "keys")), 0);
    assert_true(json_is_null(json_object_get(o, "ended_at")));
    assert_true(json_is_null(json_object_get(o, "reason")));
    assert_int_equal(apijson_to_service(o, &back, &e), 0);
    assert_true(back.ended_at == 0);
    assert_null(back.reason);
    assert_null(back.spec_path);
    assert_int_equal(back.state, SVC_READY);
    store_service_clear(&back);

    /* malformed: refused with the field named, nothing left to free */
    json_object_set_new(o, "state", json_string("SLEEPING"));
    assert_int_equal(apijson_to_service(o, &back, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "'state'"));
    assert_null(back.name);
    json_object_set_new(o, "state", json_string("READY"));
    json_object_del(o, "keys");
    assert_int_equal(apijson_to_service(o, &back, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "'keys'"));
    json_decref(o);
    o = json_array();
    assert_int_equal(apijson_to_service(o, &back, &e), ST_EPARSE);
    json_decref(o);
    store_service_clear(&s);
}

static void test_error_roundtrip(void **state)
{
    struct err in, out;
    json_t *o;

    (void)state;
    err_set(&in, ST_EPARSE, "spec.yaml:3:5: unknown key 'acelerators'");
    o = wire(apijson_error(&in));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "error"), "code")),
        "EPARSE");
    apijson_to_error(o, 400, &out);
    assert_int_equal(out.code, ST_EPARSE);
    assert_string_equal(out.msg, in.msg);
    json_decref(o);
    /* an unknown code is internal; a reply without a message says the status */
    o = json_pack("{s:{s:s}}", "error", "code", "EWHAT");
    apijson_to_error(o, 502, &out);
    assert_int_equal(out.code, ST_EINTERNAL);
    assert_non_null(strstr(out.msg, "502"));
    json_decref(o);
}

/* A dataset whose home is a bucket of unknown region: its replicas say they
 * came from "aws/(bucket)", as the controller's events do (it was "aws/"). */
static void test_dataset_from_bucket(void **state)
{
    struct store_data_replica v[2] = {
        {.dataset = "b", .cloud = "aws", .region = "", .src_cloud = "", .src_region = "",
         .home = 1, .size_gb = 10},
        {.dataset = "b", .cloud = "gcp", .region = "us-central1", .src_cloud = "aws",
         .src_region = "", .size_gb = 10, .created_at = 100, .egress = 0.9,
         .storage_gb_month = 0.02, .job_id = 1, .attempt_id = 1},
    };
    json_t *ds = apijson_datasets(v, 2, 200), *d = json_array_get(ds, 0);
    json_t *r = json_array_get(json_object_get(d, "replicas"), 0);

    (void)state;
    assert_int_equal(json_array_size(ds), 1);
    assert_string_equal(json_string_value(json_object_get(r, "from")), "aws/(bucket)");
    assert_string_equal(json_string_value(json_object_get(r, "region")), "us-central1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "home"), "cloud")), "aws");
    json_decref(ds);
}

/* The home shown: the live one, else the one forgotten last. */
static void test_dataset_home_shown(void **state)
{
    struct store_data_replica v[3] = {
        {.dataset = "d",
         .cloud = "azure",
         .region = "eastus",
         .src_cloud = "",
         .src_region = "",
         .home = 1,
         .size_gb = 1,
         .expired_at = 20},
        {.dataset = "d",
         .cloud = "gcp",
         .region = "us-central1",
         .src_cloud = "",
         .src_region = "",
         .home = 1,
         .size_gb = 2,
         .expired_at = 30},
        {.dataset = "d",
         .cloud = "oci",
         .region = "us-ashburn-1",
         .src_cloud = "",
         .src_region = "",
         .home = 1,
         .size_gb = 3},
    };
    static const char *const want[] = {"azure", "gcp", "oci"};
    size_t n;

    (void)state;
    for (n = 1; n <= 3; n++) {
        json_t *ds = apijson_datasets(v, n, 100), *d = json_array_get(ds, 0);

        assert_string_equal(
            json_string_value(json_object_get(json_object_get(d, "home"), "cloud")),
            want[n - 1]);
        assert_float_equal(json_number_value(json_object_get(d, "home_forgotten_at")),
                           n == 3   ? 0
                           : n == 2 ? 30
                                    : 20,
                           1e-9);
        assert_float_equal(json_number_value(json_object_get(d, "size_gb")), (double)n,
                           1e-9);
        json_decref(ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_roundtrip),
        cmocka_unit_test(test_job_nones),
        cmocka_unit_test(test_attempt_roundtrip),
        cmocka_unit_test(test_attempt_live),
        cmocka_unit_test(test_job_with_attempts),
        cmocka_unit_test(test_event_roundtrip),
        cmocka_unit_test(test_cost_row_roundtrip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_roundtrip),
        cmocka_unit_test(test_job_replica_fields),
        cmocka_unit_test(test_service_roundtrip),
        cmocka_unit_test(test_dataset_from_bucket),
        cmocka_unit_test(test_dataset_home_shown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
