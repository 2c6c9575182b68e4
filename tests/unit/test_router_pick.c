/*
 * test_router_pick.c - the router's replica set and pick (src/router/pick.c)
 * in virtual time: parsing the replica JSON, nearest-first with overflow,
 * least outstanding within a level, the region-blind policy, DRAINING and
 * removed replicas, the circuit breaker, in-flight accounting under churn,
 * API keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/pick.h"
#include "router/router.h"
#include "server/auth.h"
#include "util/xmem.h"

/* RTT from "here" (azure/eastus): eastus 0, westus 60, westeurope 80. */
static double fake_rtt(void *ctx, const char *cloud, const char *region)
{
    (void)ctx;
    (void)cloud;
    if (strcmp(region, "eastus") == 0)
        return 0;
    if (strcmp(region, "westus") == 0)
        return 60;
    if (strcmp(region, "westeurope") == 0)
        return 80;
    return -1;
}

static void setup(struct rp_set *s, enum rp_policy pol, int max_inflight)
{
    struct rp_config c;

    memset(&c, 0, sizeof(c));
    c.policy = pol;
    c.max_inflight = max_inflight;
    c.eject_after = 3;
    c.eject_base_s = 10;
    c.eject_max_s = 100;
    c.rtt = fake_rtt;
    rp_set_init(s, &c);
}

/* Apply a document given as JSON text; the test fails if it does not parse. */
static void apply(struct rp_set *s, const char *json)
{
    struct rp_doc d;
    struct err e;

    err_clear(&e);
    if (rp_parse(json, strlen(json), "set.json", &d, &e) != 0)
        fail_msg("%s", e.msg);
    rp_apply(s, &d);
    rp_doc_clear(&d);
}

#define REP(id, region, state)                                                               \
    "{\"id\":" #id ",\"url\":\"http://127.0.0.1:" #id "000\",\"cloud\":\"azure\","          \
    "\"region\":\"" region "\",\"state\":\"" state "\"}"

static const char three_regions[] =
    "{\"service\":\"llm\",\"version\":1,\"replicas\":[" REP(1, "westeurope", "READY") ","
    REP(2, "eastus", "READY") "," REP(3, "eastus", "READY") "," REP(4, "westus", "READY") "]}";

static void test_parse_errors(void **state)
{
    static const struct { const char *json, *want; } cases[] = {
        {"{\"replicas\": [", "set.json:1:"},
        {"[]", "must be a JSON object"},
        {"{\"version\":1}", "\"replicas\" must be an array"},
        {"{\"replicas\":[{\"id\":1,\"url\":\"https://x:1\",\"state\":\"READY\"}]}", "http://HOST:PORT"},
        {"{\"replicas\":[{\"id\":1,\"url\":\"http://x:0\",\"state\":\"READY\"}]}", "http://HOST:PORT"},
        {"{\"replicas\":[{\"id\":1,\"url\":\"http://x:80/a\",\"state\":\"READY\"}]}", "http://HOST:PORT"},
        {"{\"replicas\":[{\"url\":\"http://x:1\",\"state\":\"READY\"}]}", "\"id\" must be"},
        {"{\"replicas\":[{\"id\":1,\"url\":\"http://x:1\"}]}", "\"state\" is missing"},
        {"{\"replicas\":[{\"id\":1,\"url\":\"http://x:1\",\"state\":\"READY\",\"max_inflight\":0}]}",
         "max_inflight"},
        {"{\"replicas\":[],\"keys\":[\"abc\"]}", "keys[0] is not a sha256"},
        {"{\"replicas\":[],\"version\":\"7\"}", "\"version\" must be an integer"},
    };
    struct rp_doc d;
    struct err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_clear(&e);
        assert_int_not_equal(rp_parse(cases[i].json, strlen(cases[i].json), "set.json", &d, &e),
                             0);
        if (strstr(e.msg, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' not in '%s'", i, cases[i].want, e.msg);
    }
}

static void test_parse_fields(void **state)
{
    const char *js = "{\"service\":\"llm\",\"version\":7,\"keys\":[\"" /* sha256("k") */
                     "8254C329A92850F6D539DD376F4816EE2764517DA5E0235514AF433164480D7A\"],"
                     "\"replicas\":[{\"id\":3,\"url\":\"http://127.0.0.1:41234\",\"cloud\":"
                     "\"azure\",\"region\":\"eastus\",\"zone\":\"eastus-1\",\"state\":"
                     "\"DRAINING\",\"mode\":\"spot\",\"accelerator\":\"H100\",\"target_qps\":"
                     "2.5,\"emulated\":true}]}";
    struct rp_doc d;
    struct err e;
    char hex[65];

    (void)state;
    err_clear(&e);
    assert_int_equal(rp_parse(js, strlen(js), "x", &d, &e), 0);
    assert_string_equal(d.service, "llm");
    assert_int_equal(d.version, 7);
    assert_int_equal(d.nreplicas, 1);
    assert_string_equal(d.replicas[0].host, "127.0.0.1");
    assert_int_equal(d.replicas[0].port, 41234);
    assert_int_equal(d.replicas[0].state, RP_DRAINING);
    assert_true(d.replicas[0].emulated);
    assert_true(d.replicas[0].target_qps == 2.5);
    auth_sha256_hex("k", 1, hex);
    assert_string_equal(d.keys[0], hex); /* lowercased */
    rp_doc_clear(&d);
}

static void test_nearest_then_overflow(void **state)
{
    struct rp_set s;
    struct rp_replica *r[6];
    int ov;

    (void)state;
    setup(&s, RP_NEAREST, 2);
    apply(&s, three_regions);
    /* eastus (2 replicas x 2) first, spread by least outstanding */
    r[0] = rp_pick(&s, 0, NULL, 0, &ov);
    r[1] = rp_pick(&s, 0, NULL, 0, &ov);
    assert_string_equal(r[0]->region, "eastus");
    assert_string_equal(r[1]->region, "eastus");
    assert_false(ov);
    assert_int_not_equal(r[0]->id, r[1]->id); /* least outstanding spreads */
    r[2] = rp_pick(&s, 0, NULL, 0, &ov);
    r[3] = rp_pick(&s, 0, NULL, 0, &ov);
    assert_string_equal(r[3]->region, "eastus");
    assert_false(ov);
    /* eastus saturated: the next nearest (westus), then westeurope */
    r[4] = rp_pick(&s, 0, NULL, 0, &ov);
    assert_string_equal(r[4]->region, "westus");
    assert_true(ov);
    r[5] = rp_pick(&s, 0, NULL, 0, &ov);
    assert_string_equal(r[5]->region, "westus");
    assert_int_equal(s.overflows, 2);
    /* a local request ends: local again */
    rp_done(&s, r[0], 1, 0.1, 0);
    assert_string_equal(rp_pick(&s, 0, NULL, 0, &ov)->region, "eastus");
    assert_false(ov);
    rp_set_free(&s);
}

static void test_all_saturated_least_loaded(void **state)
{
    struct rp_set s;
    struct rp_replica *r;
    int i;

    (void)state;
    setup(&s, RP_NEAREST, 1);
    apply(&s, three_regions);
    for (i = 0; i < 4; i++)
        rp_pick(&s, 0, NULL, 0, NULL);
    /* every replica at its limit: still answered, by the least loaded */
    r = rp_pick(&s, 0, NULL, 0, NULL);
    assert_non_null(r);
    assert_int_equal(r->inflight, 2);
    assert_int_equal(s.saturated, 1);
    rp_set_free(&s);
}

static void test_least_load_is_region_blind(void **state)
{
    struct rp_set s;
    int i, far = 0;
    struct rp_replica *r;

    (void)state;
    setup(&s, RP_LEAST_LOAD, 100);
    apply(&s, three_regions);
    for (i = 0; i < 8; i++) {
        r = rp_pick(&s, 0, NULL, 0, NULL);
        far += strcmp(r->region, "eastus") != 0;
    }
    assert_int_equal(far, 4); /* least outstanding over all 4: 2 each */
    for (r = s.list; r; r = r->next)
        assert_int_equal(r->inflight, 2);
    rp_set_free(&s);
}

static void test_draining_and_tried_skipped(void **state)
{
    struct rp_set s;
    struct rp_replica *r;
    uint64_t tried[1];
    int i;

    (void)state;
    setup(&s, RP_NEAREST, 100);
    apply(&s, "{\"replicas\":[" REP(1, "eastus", "DRAINING") "," REP(2, "westus", "READY") ","
              REP(3, "eastus", "PROVISIONING") "]}");
    for (i = 0; i < 5; i++)
        assert_int_equal(rp_pick(&s, 0, NULL, 0, NULL)->id, 2);
    r = rp_pick(&s, 0, NULL, 0, NULL);
    tried[0] = r->serial;
    assert_null(rp_pick(&s, 0, tried, 1, NULL)); /* the only one already failed */
    assert_int_equal(rp_nready(&s), 1);
    rp_set_free(&s);
}

static void test_breaker_in_virtual_time(void **state)
{
    struct rp_set s;
    struct rp_replica *a, *r;
    int i;

    (void)state;
    setup(&s, RP_NEAREST, 100);
    apply(&s, "{\"replicas\":[" REP(1, "eastus", "READY") "," REP(2, "westus", "READY") "]}");
    for (i = 0; i < 3; i++) {
        a = rp_pick(&s, 100, NULL, 0, NULL);
        assert_int_equal(a->id, 1);
        rp_done(&s, a, 0, -1, 100); /* three failures in a row: ejected */
    }
    assert_int_equal(s.ejections, 1);
    assert_int_equal(rp_pick(&s, 109.9, NULL, 0, NULL)->id, 2); /* 10 s x 1 */
    r = rp_pick(&s, 110, NULL, 0, NULL);
    assert_int_equal(r->id, 1);
    /* a success resets the count: two failures do not eject */
    rp_done(&s, r, 1, 0.01, 110);
    for (i = 0; i < 2; i++)
        rp_done(&s, rp_pick(&s, 110, NULL, 0, NULL), 0, -1, 110);
    assert_int_equal(rp_pick(&s, 110, NULL, 0, NULL)->id, 1);
    rp_set_free(&s);
}

static void test_churn_accounting(void **state)
{
    struct rp_set s;
    struct rp_replica *held[3], *r;
    size_t n = 0;
    int i;

    (void)state;
    setup(&s, RP_NEAREST, 100);
    apply(&s, "{\"version\":1,\"replicas\":[" REP(1, "eastus", "READY") "]}");
    for (i = 0; i < 3; i++)
        held[i] = rp_pick(&s, 0, NULL, 0, NULL);
    /* replica 1 leaves while 3 requests are in flight; replica 2 comes */
    apply(&s, "{\"version\":2,\"replicas\":[" REP(2, "eastus", "READY") "]}");
    assert_int_equal(held[0]->inflight, 3);
    assert_true(held[0]->removed);
    assert_int_equal(rp_pick(&s, 0, NULL, 0, NULL)->id, 2);
    /* ... and comes back (same id and url) before they end: a new entry,
     * the old one's requests still counted on the old one */
    apply(&s, "{\"version\":3,\"replicas\":[" REP(1, "eastus", "READY") ","
              REP(2, "eastus", "READY") "]}");
    for (i = 0; i < 3; i++)
        rp_done(&s, held[i], 1, 0.01, 0);
    for (r = s.list; r; r = r->next) {
        n++;
        assert_false(r->removed);
    }
    assert_int_equal(n, 2); /* the removed one was freed at its last request */
    for (r = s.list; r; r = r->next)
        assert_int_equal(r->inflight, r->id == 2 ? 1 : 0);
    /* same replica in the next version keeps its count */
    apply(&s, "{\"version\":4,\"replicas\":[" REP(2, "eastus", "DRAINING") "]}");
    assert_int_equal(s.list->inflight + (s.list->next ? s.list->next->inflight : 0), 1);
    rp_set_free(&s);
}

/* A tiny deterministic generator (the test must not depend on libc's rand). */
static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

/* Each live or removed replica's in-flight count equals the picks held on
 * it, and every held pick points into the set (not at a freed replica). */
static void check_counts(const struct rp_set *s, struct rp_replica *const *held, size_t nheld)
{
    const struct rp_replica *r;
    size_t i;
    unsigned n;

    for (i = 0; i < nheld; i++) {
        for (r = s->list; r && r != held[i]; r = r->next)
            ;
        if (r == NULL)
            fail_msg("a pick in flight points at a replica no longer in the set");
    }
    for (r = s->list; r; r = r->next) {
        for (n = 0, i = 0; i < nheld; i++)
            n += held[i] == r;
        if (r->inflight != n)
            fail_msg("replica %lld: inflight %u, %u picks held", (long long)r->id, r->inflight, n);
        if (r->removed && r->inflight == 0)
            fail_msg("replica %lld: removed with nothing in flight, still kept", (long long)r->id);
    }
}

/* A random replica set over ids 1..6 and two ports each: replicas come,
 * go, come back with the same id and url, change state and region, and
 * appear twice. */
static void random_set(struct rp_set *s, uint32_t *x, int version)
{
    static const char *const regions[] = {"eastus", "westus", "westeurope"};
    static const char *const states[] = {"READY", "READY", "READY", "DRAINING", "STARTING"};
    char js[4096];
    size_t len;
    int id, n = 0;

    len = (size_t)snprintf(js, sizeof(js), "{\"version\":%d,\"replicas\":[", version);
    for (id = 1; id <= 6; id++) {
        int copies = lcg(x) % 8 == 0 ? 2 : lcg(x) % 4 != 0;

        while (copies-- > 0)
            len += (size_t)snprintf(js + len, sizeof(js) - len,
                                    "%s{\"id\":%d,\"url\":\"http://127.0.0.1:%u\",\"cloud\":"
                                    "\"azure\",\"region\":\"%s\",\"state\":\"%s\"}",
                                    n++ ? "," : "", id, 1000u * (unsigned)id + lcg(x) % 2,
                                    regions[lcg(x) % 3], states[lcg(x) % 5]);
    }
    snprintf(js + len, sizeof(js) - len, "]}");
    apply(s, js);
}

static void test_churn_random(void **state)
{
    struct rp_set s;
    struct rp_replica *held[64], *r;
    uint64_t tried[2];
    uint32_t x = 12345;
    size_t nheld = 0, k;
    int step, version = 0;

    (void)state;
    setup(&s, RP_NEAREST, 2);
    random_set(&s, &x, ++version);
    for (step = 0; step < 20000; step++) {
        unsigned op = lcg(&x) % 10;

        if (op < 5 && nheld < 64) {
            tried[0] = lcg(&x) % 16; /* serials this request "already failed on" */
            tried[1] = lcg(&x) % 16;
            r = rp_pick(&s, step * 0.01, tried, lcg(&x) % 3, NULL);
            if (r != NULL)
                held[nheld++] = r;
        } else if (op < 9 && nheld > 0) {
            k = lcg(&x) % nheld;
            rp_done(&s, held[k], lcg(&x) % 4 != 0, 0.01, step * 0.01);
            held[k] = held[--nheld];
        } else {
            random_set(&s, &x, ++version);
        }
        check_counts(&s, held, nheld);
    }
    while (nheld > 0)
        rp_done(&s, held[--nheld], 1, 0.01, 200);
    random_set(&s, &x, ++version);
    for (r = s.list; r; r = r->next) {
        assert_int_equal(r->inflight, 0);
        assert_false(r->removed);
    }
    rp_set_free(&s);
}

static void test_limit_from_target_qps(void **state)
{
    struct rp_set s;
    struct rp_replica *r;

    (void)state;
    setup(&s, RP_NEAREST, 0);
    apply(&s, "{\"replicas\":[{\"id\":1,\"url\":\"http://h:1\",\"state\":\"READY\","
              "\"region\":\"eastus\",\"target_qps\":2.5},{\"id\":2,\"url\":\"http://h:2\","
              "\"state\":\"READY\",\"region\":\"eastus\",\"max_inflight\":7},"
              "{\"id\":3,\"url\":\"http://h:3\",\"state\":\"READY\",\"region\":\"eastus\"}]}");
    for (r = s.list; r; r = r->next)
        assert_int_equal(r->limit, r->id == 1 ? 3 : r->id == 2 ? 7 : 64);
    rp_set_free(&s);
}

static void test_keys(void **state)
{
    struct rp_set s;
    char hex[65], js[256];

    (void)state;
    setup(&s, RP_NEAREST, 0);
    auth_sha256_hex("secret", 6, hex);
    snprintf(js, sizeof(js), "{\"replicas\":[],\"keys\":[\"%s\"]}", hex);
    apply(&s, js);
    assert_true(rp_key_ok(&s, hex));
    auth_sha256_hex("secreT", 6, hex);
    assert_false(rp_key_ok(&s, hex));
    rp_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_nearest_then_overflow),
        cmocka_unit_test(test_all_saturated_least_loaded),
        cmocka_unit_test(test_least_load_is_region_blind),
        cmocka_unit_test(test_draining_and_tried_skipped),
        cmocka_unit_test(test_breaker_in_virtual_time),
        cmocka_unit_test(test_churn_accounting),
        cmocka_unit_test(test_churn_random),
        cmocka_unit_test(test_limit_from_target_qps),
        cmocka_unit_test(test_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
