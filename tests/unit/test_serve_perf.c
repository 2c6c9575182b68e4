/*
 * test_serve_perf.c - the replica performance model (src/sim/serve_perf.c).
 *
 * Lookup: the accelerators the issue names resolve, with the numbers
 * docs/serve-perf.md tabulates; unknown names fail with a message listing
 * the known ones; a model that does not fit is refused.  Replica: one
 * request's TTFT and end-to-end time are exactly prompt/prefill rate and
 * (output-1)/decode rate; two requests each run slower than alone and
 * faster together (with the chunked-prefill sharing worked out by hand);
 * requests beyond max_seqs or the KV cache wait in FIFO order; an abort
 * returns exactly the requests still in flight; a run is deterministic;
 * time preconditions are enforced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/serve_perf.h"
#include "util/xmem.h"

#define EPS 1e-9

/* Collected completions, indexed by request id. */
struct sink {
    struct rp_done d[64];
    uint64_t order[64]; /* ids in callback order */
    size_t n;
};

static void on_done(void *ctx, const struct rp_done *d)
{
    struct sink *s = ctx;

    assert_true(d->req.id < 64);
    s->d[d->req.id] = *d;
    s->order[s->n++] = d->req.id;
}

/* A small hand-made model: numbers that are easy to work out. */
static struct serve_perf toy(int max_seqs, long kv_tokens)
{
    struct serve_perf p;

    memset(&p, 0, sizeof(p));
    p.prefill_tps = 1000;
    p.step_base_s = 0.010;
    p.step_seq_s = 0.001;
    p.kv_tokens = kv_tokens;
    p.max_seqs = max_seqs;
    p.chunk_tokens = 100;
    p.n_accel = 1;
    return p;
}

static void arrive(struct replica *r, double t, uint64_t id, uint32_t in, uint32_t out)
{
    struct rp_request q = {id, t, in, out};
    struct err e = {0};

    assert_int_equal(rp_arrive(r, t, &q, &e), 0);
}

static void check_near(double got, double want)
{
    if (fabs(got - want) > EPS * (1 + fabs(want)))
        fail_msg("got %.15g, want %.15g", got, want);
}

static void test_single_request_exact(void **state)
{
    (void)state;
    struct serve_perf p = toy(4, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    arrive(r, 2.0, 0, 500, 101);
    check_near(rp_next_event_time(r), 2.5);
    assert_int_equal(rp_advance(r, 100.0, on_done, &s), 1);
    check_near(s.d[0].first_token_s - 2.0, 500 / 1000.0);
    check_near(s.d[0].done_s - 2.0, 0.5 + 100 * 0.011);
    assert_int_equal(rp_inflight(r), 0);
    assert_true(isinf(rp_next_event_time(r)));
    rp_free(r);

    /* The same law with a looked-up model. */
    struct err e = {0};
    assert_int_equal(serve_perf_lookup("H100", "8b", 1, &p, &e), 0);
    r = rp_new(&p, &e);
    memset(&s, 0, sizeof(s));
    arrive(r, 0.0, 1, 2000, 256);
    rp_advance(r, 1e6, on_done, &s);
    double ttft = 2000 / p.prefill_tps;
    check_near(s.d[1].first_token_s, ttft);
    check_near(s.d[1].done_s, ttft + 255 / serve_perf_decode_tps(&p, 1));
    rp_free(r);
}

static void test_one_output_token_ends_at_prefill(void **state)
{
    (void)state;
    struct serve_perf p = toy(4, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    arrive(r, 0.0, 3, 300, 1);
    rp_advance(r, 10.0, on_done, &s);
    assert_int_equal(s.n, 1);
    check_near(s.d[3].done_s, 0.3);
    check_near(s.d[3].first_token_s, 0.3);
    rp_free(r);
}

/* Two prompt-less requests together: each at batch-2 speed, both done in
 * the time one would take at batch 2, which is less than two in a row. */
static void test_batch_slower_each_faster_total(void **state)
{
    (void)state;
    struct serve_perf p = toy(4, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    arrive(r, 0.0, 0, 0, 101);
    arrive(r, 0.0, 1, 0, 101);
    rp_advance(r, 100.0, on_done, &s);
    double alone = 100 * 0.011, both = 100 * 0.012;
    check_near(s.d[0].done_s, both);
    check_near(s.d[1].done_s, both);
    assert_int_equal(s.order[0], 0); /* a tie goes in admission order */
    assert_int_equal(s.order[1], 1);
    assert_true(s.d[0].done_s > alone);
    assert_true(s.d[1].done_s < 2 * alone);
    assert_true(serve_perf_decode_tps(&p, 2) < serve_perf_decode_tps(&p, 1));
    assert_true(serve_perf_decode_agg(&p, 2) > serve_perf_decode_agg(&p, 1));
    rp_free(r);
}

/* Chunked prefill shares steps with decode: B's prompt runs at
 * (chunk-1)/(step(1) + (chunk-1)/P) while A decodes one token per step. */
static void test_prefill_shares_steps_with_decode(void **state)
{
    (void)state;
    struct serve_perf p = toy(4, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    arrive(r, 0.0, 0, 100, 11);
    arrive(r, 0.0, 1, 100, 11);
    rp_advance(r, 100.0, on_done, &s);
    double ttft_a = 0.1;
    double step = 0.011 + 99 / 1000.0, pf_b = 100 / (99 / step);
    double a_tokens = pf_b / step; /* A's decode progress during B's prompt */
    double both = (10 - a_tokens) * 0.012;
    double b_rest = (10 - (10 - a_tokens)) * 0.011;
    check_near(s.d[0].first_token_s, ttft_a);
    check_near(s.d[1].first_token_s, ttft_a + pf_b);
    check_near(s.d[0].done_s, ttft_a + pf_b + both);
    check_near(s.d[1].done_s, ttft_a + pf_b + both + b_rest);
    assert_int_equal(s.order[0], 0);
    rp_free(r);
}

static void test_queue_fifo_beyond_max_seqs(void **state)
{
    (void)state;
    struct serve_perf p = toy(2, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    for (uint64_t i = 0; i < 6; i++)
        arrive(r, 0.0, i, (uint32_t)(50 + 10 * (5 - i)), 21);
    assert_int_equal(rp_inflight(r), 6);
    assert_int_equal(rp_running(r), 2);
    rp_advance(r, 1000.0, on_done, &s);
    assert_int_equal(s.n, 6);
    for (uint64_t i = 1; i < 6; i++)
        assert_true(s.d[i].first_token_s > s.d[i - 1].first_token_s);
    /* The third waited for a slot: its prompt starts when the first ends. */
    double end0 = s.d[0].done_s;
    assert_true(s.d[2].first_token_s > end0);
    assert_true(s.d[2].first_token_s - end0 >= 80 / 1000.0 - EPS);
    rp_free(r);
}

static void test_kv_cache_bounds_admission(void **state)
{
    (void)state;
    struct serve_perf p = toy(8, 1000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};

    arrive(r, 0.0, 0, 300, 301); /* needs 601 KV tokens */
    arrive(r, 0.0, 1, 300, 301);
    assert_int_equal(rp_running(r), 1);
    rp_advance(r, 1000.0, on_done, &s);
    check_near(s.d[1].first_token_s, s.d[0].done_s + 0.3);
    /* A request larger than the whole cache still runs, alone. */
    arrive(r, 1000.0, 2, 2000, 2);
    rp_advance(r, 2000.0, on_done, &s);
    check_near(s.d[2].done_s, 1000.0 + 2.0 + 0.011);
    rp_free(r);
}

static void test_abort_returns_exactly_inflight(void **state)
{
    (void)state;
    struct serve_perf p = toy(2, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct sink s = {0};
    struct rp_request *out = NULL;
    size_t n = 0;
    struct err e = {0};

    arrive(r, 0.0, 0, 10, 2); /* the only one done by 1.0 */
    arrive(r, 0.0, 1, 100, 500);
    arrive(r, 0.0, 2, 100, 500);
    arrive(r, 0.0, 3, 100, 500);
    rp_advance(r, 1.0, on_done, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.order[0], 0);
    assert_int_equal(rp_abort_all(r, 1.0, &out, &n, &e), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].id, i + 1);
        assert_int_equal(out[i].in_tokens, 100);
        assert_int_equal(out[i].out_tokens, 500);
    }
    free(out);
    assert_int_equal(rp_inflight(r), 0);
    assert_true(isinf(rp_next_event_time(r)));
    assert_int_equal(rp_advance(r, 5.0, on_done, &s), 0);
    /* The replica serves again afterwards, from its time. */
    arrive(r, 5.0, 9, 100, 1);
    rp_advance(r, 10.0, on_done, &s);
    check_near(s.d[9].done_s, 5.1);
    rp_free(r);
}

static void test_time_preconditions(void **state)
{
    (void)state;
    struct serve_perf p = toy(2, 100000);
    struct replica *r = rp_new(&p, NULL);
    struct rp_request q = {0, 0.0, 100, 5};
    struct rp_request *out = NULL;
    size_t n = 0;
    struct err e = {0};

    assert_int_equal(rp_arrive(r, 1.0, &q, &e), 0);
    /* The prompt ends at 1.1: arriving at 2.0 without advancing is refused. */
    assert_int_equal(rp_arrive(r, 2.0, &q, &e), ST_ESTATE);
    assert_non_null(strstr(e.msg, "rp_advance"));
    assert_int_equal(rp_arrive(r, 0.5, &q, &e), ST_ESTATE);
    assert_int_equal(rp_abort_all(r, 2.0, &out, &n, &e), ST_ESTATE);
    /* Arriving exactly at an event's time is allowed. */
    assert_int_equal(rp_arrive(r, 1.1, &q, &e), 0);
    rp_free(r);
    p.chunk_tokens = 2;
    assert_null(rp_new(&p, &e));
    assert_int_equal(e.code, ST_EINVAL);
}

struct digest {
    uint64_t h;
    size_t n;
};

static void on_digest(void *ctx, const struct rp_done *d)
{
    struct digest *g = ctx;
    uint64_t bits[3];

    memcpy(&bits[0], &d->first_token_s, 8);
    memcpy(&bits[1], &d->done_s, 8);
    bits[2] = d->req.id;
    for (int i = 0; i < 3; i++)
        g->h = (g->h ^ bits[i]) * 1099511628211ULL;
    g->n++;
}

static struct digest run_mix(void)
{
    struct serve_perf p;
    struct err e = {0};
    struct digest g = {1469598103934665603ULL, 0};
    uint64_t x = 42;
    double t = 0;

    assert_int_equal(serve_perf_lookup("A100-80GB", "llama-3.1-8b", 1, &p, &e), 0);
    struct replica *r = rp_new(&p, &e);
    for (uint64_t i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        t += (double)(x >> 40) / (double)(1ULL << 24) * 0.5;
        rp_advance(r, t, on_digest, &g);
        struct rp_request q = {i, t, (uint32_t)(1 + (x >> 20) % 4000),
                               (uint32_t)(1 + (x >> 8) % 600)};
        assert_int_equal(rp_arrive(r, t, &q, &e), 0);
    }
    rp_advance(r, INFINITY, on_digest, &g);
    assert_int_equal(rp_inflight(r), 0);
    rp_free(r);
    return g;
}

static void test_deterministic(void **state)
{
    (void)state;
    struct digest a = run_mix(), b = run_mix();

    assert_int_equal(a.n, 20000);
    assert_int_equal(a.n, b.n);
    assert_true(a.h == b.h);
}

static void test_lookup_known_and_numbers(void **state)
{
    (void)state;
    static const char *const names[] = {
        "H100",      "H100-NVL", "H100-MEGA", "H200",   "A100-80GB", "A100",
        "L4",        "A10",      "L40S",      "MI300X", "B200",      "tpu-v5litepod-4",
        "tpu-v5p-8", "tpu-v6e-4"};
    struct serve_perf p;
    struct err e = {0};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (serve_perf_lookup(names[i], "llama-3.1-8b", 0, &p, &e) != 0)
            fail_msg("%s: %s", names[i], e.msg);
        assert_true(p.prefill_tps > 1000 && p.kv_tokens >= 8192);
        assert_true(serve_perf_decode_tps(&p, 1) > serve_perf_decode_tps(&p, 64));
    }
    /* docs/serve-perf.md's table: H100, 8B, 1 GPU. */
    assert_int_equal(serve_perf_lookup("H100", "8b", 0, &p, &e), 0);
    assert_int_equal(p.n_accel, 1);
    assert_true(fabs(p.prefill_tps - 22170) < 50);
    assert_true(fabs(serve_perf_decode_tps(&p, 1) - 162) < 2);
    /* A100-40GB batch 1 is the calibration point: ~75 tokens/s. */
    assert_int_equal(serve_perf_lookup("A100", "8b", 1, &p, &e), 0);
    assert_true(fabs(serve_perf_decode_tps(&p, 1) - 75) < 1.5);
    /* 70B takes 4 H100s when none is said (2 hold too small a batch), one
     * MI300X; a v5p-8 slice is 4 chips. */
    assert_int_equal(serve_perf_lookup("H100", "70b", 0, &p, &e), 0);
    assert_int_equal(p.n_accel, 4);
    assert_int_equal(serve_perf_lookup("H100", "70b", 2, &p, &e), 0);
    assert_int_equal(p.n_accel, 2);
    assert_int_equal(serve_perf_lookup("MI300X", "70b", 0, &p, &e), 0);
    assert_int_equal(p.n_accel, 1);
    assert_int_equal(serve_perf_lookup("tpu-v5p-8", "70b", 0, &p, &e), 0);
    assert_int_equal(p.n_accel, 4);
}

static void test_lookup_errors(void **state)
{
    (void)state;
    struct serve_perf p;
    struct err e = {0};

    assert_int_equal(serve_perf_lookup("K80", "8b", 1, &p, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "'K80'"));
    assert_non_null(strstr(e.msg, "H100"));
    assert_non_null(strstr(e.msg, "A100-80GB"));
    assert_non_null(strstr(e.msg, "tpu-v5p-N"));
    assert_int_equal(serve_perf_lookup("H100", "gpt-5", 1, &p, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "llama-3.1-70b"));
    assert_int_equal(serve_perf_lookup("L4", "70b", 1, &p, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_int_equal(serve_perf_lookup("tpu-v5litepod-1", "8b", 0, &p, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "a larger slice"));
    assert_int_equal(serve_perf_lookup("tpu-v5p-8", "8b", 2, &p, &e), ST_EINVAL);
    assert_int_equal(serve_perf_lookup("tpu-v5p-x", "8b", 0, &p, &e), ST_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_request_exact),
        cmocka_unit_test(test_one_output_token_ends_at_prefill),
        cmocka_unit_test(test_batch_slower_each_faster_total),
        cmocka_unit_test(test_prefill_shares_steps_with_decode),
        cmocka_unit_test(test_queue_fifo_beyond_max_seqs),
        cmocka_unit_test(test_kv_cache_bounds_admission),
        cmocka_unit_test(test_abort_returns_exactly_inflight),
        cmocka_unit_test(test_time_preconditions),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_lookup_known_and_numbers),
        cmocka_unit_test(test_lookup_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
