/*
 * test_router_work.c - the router's latency-aware pick (rp_pick_work,
 * rp_done_work in src/router/pick.c): requests of known size go where they
 * should start soonest, RTT plus the bytes ahead over the learned work
 * rate; without a learned rate, a size, or under least_load, the plain pick.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router/pick.h"

/* RTT from "here" (azure/eastus): eastus 0, westeurope 80 ms. */
static double fake_rtt(void *ctx, const char *cloud, const char *region)
{
    (void)ctx;
    (void)cloud;
    return strcmp(region, "eastus") == 0 ? 0 : strcmp(region, "westeurope") == 0 ? 80 : -1;
}

#define REP(id, region)                                                                     \
    "{\"id\":" #id ",\"url\":\"http://127.0.0.1:" #id "000\",\"cloud\":\"azure\","          \
    "\"region\":\"" region "\",\"state\":\"READY\",\"max_inflight\":8}"

/* One replica near (eastus), one an ocean away (westeurope). */
static const char near_far[] =
    "{\"service\":\"llm\",\"version\":1,\"replicas\":[" REP(1, "eastus") ","
    REP(2, "westeurope") "]}";

static void setup(struct rp_set *s, enum rp_policy pol)
{
    struct rp_config c;
    struct rp_doc d;
    struct err e;

    memset(&c, 0, sizeof(c));
    c.policy = pol;
    c.rtt = fake_rtt;
    rp_set_init(s, &c);
    err_clear(&e);
    if (rp_parse(near_far, strlen(near_far), "set.json", &d, &e) != 0)
        fail_msg("%s", e.msg);
    rp_apply(s, &d);
    rp_doc_clear(&d);
}

static struct rp_replica *by_id(struct rp_set *s, int64_t id)
{
    struct rp_replica *r;

    for (r = s->list; r; r = r->next)
        if (r->id == id)
            return r;
    fail_msg("no replica %lld", (long long)id);
    return NULL;
}

/* Teach the set a rate of `rate` bytes/s with answered requests. */
static void learn(struct rp_set *s, double rate)
{
    struct rp_replica *r = rp_pick_work(s, 0, NULL, 0, rate, NULL);

    assert_non_null(r);
    rp_done_work(s, r, 1, 1.0, rate, 1);
}

/* Before any answer the set knows no rate: the plain nearest pick (by
 * count), even with a big request at the near replica. */
static void test_no_rate_plain_pick(void **state)
{
    struct rp_set s;
    struct rp_replica *a, *b;

    (void)state;
    setup(&s, RP_NEAREST);
    assert_true(s.work_rate == 0);
    a = rp_pick_work(&s, 0, NULL, 0, 1e6, NULL);
    b = rp_pick_work(&s, 0, NULL, 0, 100, NULL);
    assert_int_equal(a->id, 1);
    assert_int_equal(b->id, 1); /* below its limit of 8: nearest wins */
    /* the bytes count as in flight all the same: done takes back only its own */
    assert_true(a->work == 1e6 + 100);
    rp_done_work(&s, b, 0, -1, 100, 1);
    assert_true(a->work == 1e6);
    b = rp_pick_work(&s, 0, NULL, 0, 100, NULL);
    rp_done_work(&s, a, 0, -1, 1e6, 1);
    rp_done_work(&s, b, 0, -1, 100, 1);
    rp_set_free(&s);
}

/* A long prompt at the near replica: with a rate of 10 kB/s, 100 kB ahead
 * is 10 s of work, far more than the 80 ms to the far replica, so a short
 * request goes far; with only 500 bytes ahead (50 ms) it stays near. */
static void test_short_request_avoids_long_queue(void **state)
{
    struct rp_set s;
    struct rp_replica *big, *r;
    int ov = 0;

    (void)state;
    setup(&s, RP_NEAREST);
    learn(&s, 10000);
    assert_true(s.work_rate > 9999 && s.work_rate < 10001);
    big = rp_pick_work(&s, 2, NULL, 0, 100000, NULL);
    assert_int_equal(big->id, 1);
    assert_true(big->work == 100000);
    r = rp_pick_work(&s, 2, NULL, 0, 1000, &ov);
    assert_int_equal(r->id, 2);
    assert_int_equal(ov, 1);
    assert_int_equal((int)s.overflows, 1);
    rp_done_work(&s, r, 1, 0.5, 1000, 3);
    rp_done_work(&s, big, 1, 10, 100000, 12);
    assert_true(by_id(&s, 1)->work == 0 && by_id(&s, 2)->work == 0);
    assert_int_equal(by_id(&s, 1)->inflight, 0);
    /* a small one ahead: the near replica still starts it sooner */
    big = rp_pick_work(&s, 20, NULL, 0, 500, NULL);
    r = rp_pick_work(&s, 20, NULL, 0, 500, NULL);
    assert_int_equal(big->id, 1);
    assert_int_equal(r->id, 1);
    rp_done_work(&s, big, 1, 1, 500, 21);
    rp_done_work(&s, r, 1, 1, 500, 21);
    rp_set_free(&s);
}

/* Region-blind least_load ignores sizes: it counts requests (SkyServe's
 * rule), so a short request queues behind the long one as often as not. */
static void test_least_load_counts_requests(void **state)
{
    struct rp_set s;
    struct rp_replica *a, *b, *c;

    (void)state;
    setup(&s, RP_LEAST_LOAD);
    learn(&s, 10000);
    a = rp_pick_work(&s, 2, NULL, 0, 100000, NULL);
    b = rp_pick_work(&s, 2, NULL, 0, 1000, NULL);
    c = rp_pick_work(&s, 2, NULL, 0, 1000, NULL);
    assert_int_not_equal(a->id, b->id); /* by count: the other one */
    assert_int_equal(c->inflight, 2);   /* then either, by count */
    rp_done_work(&s, a, 1, 1, 100000, 3);
    rp_done_work(&s, b, 1, 1, 1000, 3);
    rp_done_work(&s, c, 1, 1, 1000, 3);
    assert_int_equal(by_id(&s, 1)->inflight + by_id(&s, 2)->inflight, 0);
    rp_set_free(&s);
}

/* Failures and retries give the bytes back without teaching the rate; a
 * removed replica with bytes in flight is freed at its last done. */
static void test_accounting(void **state)
{
    static const char only_far[] =
        "{\"service\":\"llm\",\"version\":2,\"replicas\":[" REP(2, "westeurope") "]}";
    struct rp_set s;
    struct rp_replica *r, *gone;
    struct rp_doc d;
    struct err e;
    double rate;

    (void)state;
    setup(&s, RP_NEAREST);
    learn(&s, 10000);
    rate = s.work_rate;
    r = rp_pick_work(&s, 2, NULL, 0, 4000, NULL);
    rp_done_work(&s, r, 0, -1, 4000, 3);
    assert_true(s.work_rate == rate);
    assert_true(r->work == 0);
    gone = rp_pick_work(&s, 4, NULL, 0, 2000, NULL);
    assert_int_equal(gone->id, 1);
    err_clear(&e);
    assert_int_equal(rp_parse(only_far, strlen(only_far), "set.json", &d, &e), 0);
    rp_apply(&s, &d);
    rp_doc_clear(&d);
    r = rp_pick_work(&s, 5, NULL, 0, 2000, NULL);
    assert_int_equal(r->id, 2);
    /* a slow answer (2000 B in 10 s) moves the learned rate down, a little */
    rp_done_work(&s, gone, 1, 10, 2000, 14);
    assert_true(s.work_rate < rate && s.work_rate > 0.9 * rate);
    rp_done_work(&s, r, 1, 1, 2000, 6);
    assert_int_equal(rp_nready(&s), 1);
    rp_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rate_plain_pick),
        cmocka_unit_test(test_short_request_avoids_long_queue),
        cmocka_unit_test(test_least_load_counts_requests),
        cmocka_unit_test(test_accounting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
