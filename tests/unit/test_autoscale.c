/*
 * test_autoscale.c - the replica-count and placement policy (src/serve/
 * autoscale.c) in virtual time: load shapes are functions of time, the test
 * feeds one tick of requests at a time and asks for the target at every
 * tick boundary, recording each change; assertions name the exact times of
 * the changes, so a rule that scales a tick early, a tick late, or resets
 * on one noisy reading fails.
 *
 * Unless a test says otherwise: tick 10 s, window 10 s (one bucket, so a
 * reading is exactly the QPS of its tick), up delay 100 s (10 readings, 8
 * must agree), down delay 200 s (20 readings, 16 must agree), target 1 QPS
 * per replica, 1..10 replicas.  T0 is the autoscaler's origin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "serve/autoscale.h"

#define T0 1000000.0
#define TICK 10.0

/* Requests per second at time t (seconds after T0). */
typedef double load_fn(double t);

/* The changes of the target seen during a run, in order. */
struct trace {
    double t[32]; /* seconds after T0 */
    int to[32];
    size_t n;
};

static void config(struct as_config *cfg)
{
    as_config_default(cfg);
    cfg->min_replicas = 1;
    cfg->max_replicas = 10;
    cfg->target_qps = 1;
    cfg->tick_s = TICK;
    cfg->window_s = TICK;
    cfg->upscale_delay_s = 100;
    cfg->downscale_delay_s = 200;
}

static void start(struct as_state *st, const struct as_config *cfg)
{
    struct err e;

    assert_int_equal(as_init(st, cfg, T0, &e), 0);
}

/* From `from` to `to` (after T0): at each tick boundary ask for the target
 * (recording changes in tr), then feed that tick's requests mid-tick. */
static int run(struct as_state *st, const struct as_fleet *f, load_fn *load, double from,
               double to, struct trace *tr)
{
    int last = st->current, now_target = last;
    double t;

    for (t = from; t <= to + 1e-9; t += TICK) {
        now_target = as_target(st, f, T0 + t);
        if (now_target != last && tr->n < 32) {
            tr->t[tr->n] = t;
            tr->to[tr->n++] = now_target;
        }
        last = now_target;
        if (t < to)
            as_observe(st, T0 + t + TICK / 2, lround(load(t) * TICK));
    }
    return now_target;
}

static void assert_change(const struct trace *tr, size_t i, double t, int to)
{
    if (i >= tr->n)
        fail_msg("change %zu missing (expected %d at %.0f s; %zu changes)", i, to, t,
                 tr->n);
    if (fabs(tr->t[i] - t) > 1e-6 || tr->to[i] != to)
        fail_msg("change %zu: %d at %.0f s, expected %d at %.0f s", i, tr->to[i],
                 tr->t[i], to, t);
}

/* Quiet (0.5 QPS: 1 replica) until 200 s, then 4.5 QPS (5 replicas). */
static double step_up(double t)
{
    return t < 200 ? 0.5 : 4.5;
}

static double step_up_noisy_low(double t)
{
    return t >= 250 && t < 260 ? 0.5 : step_up(t);
}

/* The step with its last reading before the decision a spike to 9 QPS. */
static double step_up_spike_last(double t)
{
    return t >= 290 && t < 300 ? 9.0 : step_up(t);
}

static double step_up_three_low(double t)
{
    if ((t >= 230 && t < 240) || (t >= 250 && t < 260) || (t >= 270 && t < 280))
        return 0.5;
    return step_up(t);
}

static double quiet_with_spike(double t)
{
    return t >= 150 && t < 160 ? 9.0 : 0.5;
}

static void test_step_up_after_delay(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    assert_int_equal(run(&st, NULL, step_up, 0, 600, &tr), 5);
    /* The 10 readings of 200..300 are the first window all above 1. */
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 300, 5);
    as_free(&st);
}

/* SkyServe resets its count on any opposite reading (#4444): with one low
 * reading at 250-260 it would scale up at 360, not 300. */
static void test_noisy_low_does_not_reset(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    run(&st, NULL, step_up_noisy_low, 0, 600, &tr);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 300, 5);
    as_free(&st);
}

/* The size comes from what the readings agree on (5), not the latest (9). */
static void test_spike_does_not_choose_size(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    run(&st, NULL, step_up_spike_last, 0, 300, &tr);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 300, 5);
    as_free(&st);
}

/* SkyServe's rule (agree 1, pick_latest), which the simulator's
 * skyserve-like policy runs: one low reading restarts the count (the scale
 * up comes at 360 s, a whole delay after it), and the size is the latest
 * reading's: a spike there chooses 9. */
static void test_skyserve_rule(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    cfg.agree = 1;
    cfg.pick_latest = 1;
    start(&st, &cfg);
    run(&st, NULL, step_up_noisy_low, 0, 600, &tr);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 360, 5);
    as_free(&st);
    memset(&tr, 0, sizeof(tr));
    start(&st, &cfg);
    run(&st, NULL, step_up_spike_last, 0, 300, &tr);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 300, 9);
    as_free(&st);
}

/* Low readings at 230, 250 and 270: three of ten are more than the 2 the
 * quorum tolerates, so the decision waits until the window starts after the
 * first of them and on a high reading (240..340). */
static void test_too_many_low_readings_delay(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    run(&st, NULL, step_up_three_low, 0, 600, &tr);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 340, 5);
    as_free(&st);
}

static void test_spike_does_not_scale(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    assert_int_equal(run(&st, NULL, quiet_with_spike, 0, 800, &tr), 1);
    assert_int_equal(tr.n, 0);
    as_free(&st);
}

/* Up to 5 at 300, then 1.5 QPS (2 replicas) from 400 with one spike at 500. */
static double up_then_down(double t)
{
    if (t >= 500 && t < 510)
        return 9.0;
    return t < 400 ? step_up(t) : 1.5;
}

static void test_scale_down_after_delay(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    assert_int_equal(run(&st, NULL, up_then_down, 0, 1000, &tr), 2);
    assert_int_equal(tr.n, 2);
    assert_change(&tr, 0, 300, 5);
    /* 20 readings 400..600, the spike at 500 among them: down at 600. */
    assert_change(&tr, 1, 600, 2);
    as_free(&st);
}

/* 2.5 QPS until 300, then nothing until 800, then one request at 805. */
static double busy_then_idle(double t)
{
    return t < 300 ? 2.5 : t >= 800 && t < 810 ? 0.1 : 0;
}

static void test_to_zero_and_from_zero(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    cfg.min_replicas = 0;
    start(&st, &cfg);
    assert_int_equal(st.current, 0);
    run(&st, NULL, busy_then_idle, 0, 790, &tr);
    /* The first request (at 5) wakes a replica at once, the load then needs
     * 3 after the up delay, and silence from 300 empties it at 500. */
    assert_int_equal(tr.n, 3);
    assert_change(&tr, 0, 10, 1);
    assert_change(&tr, 1, 110, 3);
    assert_change(&tr, 2, 500, 0);
    assert_int_equal(as_target(&st, NULL, T0 + 790), 0);
    as_observe(&st, T0 + 805, 1);
    assert_int_equal(as_target(&st, NULL, T0 + 805), 1);
    /* The replica that just woke is not dropped by the old idle readings. */
    assert_int_equal(as_target(&st, NULL, T0 + 900), 1);
    as_free(&st);
}

static void test_request_waiting_wakes(void **state)
{
    struct as_config cfg;
    struct as_state st;

    (void)state;
    config(&cfg);
    cfg.min_replicas = 0;
    start(&st, &cfg);
    assert_int_equal(as_target(&st, NULL, T0 + 400), 0);
    as_request_waiting(&st, T0 + 401.5);
    assert_int_equal(as_target(&st, NULL, T0 + 401.5), 1);
    as_free(&st);
}

/* One request every 50 s: 16 of 20 readings say 0, but somebody uses it. */
static double trickle(double t)
{
    return t < 100 ? 2.5 : fmod(t, 50) < 1 ? 0.1 : 0;
}

static void test_trickle_keeps_one(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    cfg.min_replicas = 0;
    start(&st, &cfg);
    assert_int_equal(run(&st, NULL, trickle, 0, 2000, &tr), 1);
    /* Woken at 5, 3 replicas for 2.5 QPS, down to 1 at 310, never to 0 (a
     * rule without the quiet check drops to 0 at 510 and wakes again). */
    assert_int_equal(tr.n, 3);
    assert_change(&tr, 0, 10, 1);
    assert_change(&tr, 1, 110, 3);
    assert_change(&tr, 2, 310, 1);
    as_free(&st);
}

/* 10 quiet readings, a surge, 4 quiet, then the surge again. */
static double quiet_then_surge(double t)
{
    return (t >= 100 && t < 110) || t >= 150 ? 9.0 : 0.5;
}

/* With agree 0.6 at 200 both rules hold: 14 of 20 readings are below 5 and
 * 6 of the last 10 above it, the oldest of each window on its side.  The
 * surge wins. */
static void test_up_wins_over_down(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};
    struct err e;

    (void)state;
    config(&cfg);
    cfg.agree = 0.6;
    cfg.min_replicas = 5;
    start(&st, &cfg);
    cfg.min_replicas = 1;
    assert_int_equal(as_reconfig(&st, &cfg, T0, &e), 0);
    assert_int_equal(run(&st, NULL, quiet_then_surge, 0, 200, &tr), 9);
    assert_int_equal(tr.n, 1);
    assert_change(&tr, 0, 200, 9);
    as_free(&st);
}

static double heavy(double t)
{
    (void)t;
    return 8.0;
}

static double idle(double t)
{
    (void)t;
    return 0;
}

static void test_clip_to_bounds(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct trace tr = {0};
    struct err e;

    (void)state;
    config(&cfg);
    cfg.min_replicas = 2;
    cfg.max_replicas = 3;
    start(&st, &cfg);
    assert_int_equal(run(&st, NULL, heavy, 0, 300, &tr), 3);
    assert_change(&tr, 0, 100, 3);
    tr.n = 0;
    assert_int_equal(run(&st, NULL, idle, 300, 1000, &tr), 2);
    assert_change(&tr, 0, 500, 2);
    /* A rolling update to max 1... is rejected (min 2 > max 1) ... */
    cfg.max_replicas = 1;
    assert_int_equal(as_reconfig(&st, &cfg, T0 + 1000, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "min 2, max 1"));
    /* ... and one to min 1, max 1 clips the running count at once. */
    cfg.min_replicas = 1;
    assert_int_equal(as_reconfig(&st, &cfg, T0 + 1000, &e), 0);
    assert_int_equal(as_target(&st, NULL, T0 + 1000), 1);
    as_free(&st);
}

/* A count persisted before a restart resumes, clipped; fresh evidence only. */
static void test_set_current(void **state)
{
    struct as_config cfg;
    struct as_state st;

    (void)state;
    config(&cfg);
    start(&st, &cfg);
    as_set_current(&st, 4, T0 + 5);
    assert_int_equal(as_target(&st, NULL, T0 + 10), 4);
    as_set_current(&st, 40, T0 + 15);
    assert_int_equal(as_target(&st, NULL, T0 + 20), 10);
    /* The idle readings before 15 do not count toward scaling it down. */
    assert_int_equal(as_target(&st, NULL, T0 + 200), 10);
    assert_int_equal(as_target(&st, NULL, T0 + 220), 1);
    as_free(&st);
}

static void test_bad_config(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct as_qps bad = {"H100", 0};
    struct err e;

    (void)state;
    config(&cfg);
    cfg.agree = 0.5;
    assert_int_equal(as_init(&st, &cfg, T0, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "agree"));
    as_free(&st);
    config(&cfg);
    cfg.tick_s = 0;
    assert_int_equal(as_init(&st, &cfg, T0, &e), ST_EINVAL);
    config(&cfg);
    cfg.accel_qps = &bad;
    cfg.naccel_qps = 1;
    assert_int_equal(as_init(&st, &cfg, T0, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "target_qps_per_replica"));
    as_free(&st);
}

/* The QPS reading averages window_s; days of silence cost no time. */
static void test_window_and_long_gap(void **state)
{
    struct as_config cfg;
    struct as_state st;

    (void)state;
    config(&cfg);
    cfg.window_s = 30;
    start(&st, &cfg);
    as_observe(&st, T0 + 5, 30);
    as_target(&st, NULL, T0 + 10);
    assert_true(fabs(as_qps(&st) - 1.0) < 1e-9); /* 30 requests / 30 s */
    as_observe(&st, T0 + 15, 60);
    as_target(&st, NULL, T0 + 20);
    assert_true(fabs(as_qps(&st) - 3.0) < 1e-9); /* -10..20 holds both */
    as_target(&st, NULL, T0 + 40);
    assert_true(fabs(as_qps(&st) - 2.0) < 1e-9); /* 10..40 holds the 60 */
    as_target(&st, NULL, T0 + 50);
    assert_true(as_qps(&st) == 0); /* 20..50: nothing */
    assert_int_equal(as_target(&st, NULL, T0 + 30 * 86400.0), 1);
    assert_true(as_qps(&st) == 0);
    assert_true(as_next_tick(&st, T0 + 30 * 86400.0 + 3) == T0 + 30 * 86400.0 + 10);
    assert_true(as_next_tick(&st, T0 + 30 * 86400.0 + 10) == T0 + 30 * 86400.0 + 20);
    as_free(&st);
}

static const struct as_qps ACCEL_QPS[] = {{"H100", 10}, {"L4", 2}};

static double qps_9(double t)
{
    (void)t;
    return 9;
}

static double qps_25(double t)
{
    (void)t;
    return 25;
}

static void test_per_accelerator_qps(void **state)
{
    struct as_config cfg;
    struct as_state st;
    double mixed[] = {2, 10}; /* an L4 and an H100 */
    double one_h100[] = {10};
    struct as_fleet fm = {mixed, 2, 2};
    struct as_fleet fh = {one_h100, 1, 2}; /* new replicas come as L4s */
    struct trace tr = {0};

    (void)state;
    config(&cfg);
    cfg.target_qps = 0;
    cfg.accel_qps = ACCEL_QPS;
    cfg.naccel_qps = 2;
    assert_true(as_accel_qps(&cfg, "h100:8") == 10);
    assert_true(as_accel_qps(&cfg, "L4") == 2);
    assert_true(as_accel_qps(&cfg, "A100") == 2); /* unknown: the weakest */
    assert_int_equal(as_needed(&cfg, &fm, 11), 2);
    assert_int_equal(as_needed(&cfg, &fm, 15), 4); /* 12 + 2 more L4s */
    fm.next_qps = 10;
    assert_int_equal(as_needed(&cfg, &fm, 15), 3);  /* 12 + 1 more H100 */
    assert_int_equal(as_needed(&cfg, &fm, 9.5), 1); /* the H100 alone */
    start(&st, &cfg);
    /* One H100 carries 9 QPS; a single-rate rule at 2 QPS would want 5. */
    assert_int_equal(run(&st, &fh, qps_9, 0, 300, &tr), 1);
    assert_int_equal(tr.n, 0);
    /* 25 QPS: the H100's 10 plus ceil(15 / 2) L4s. */
    assert_int_equal(run(&st, &fh, qps_25, 300, 600, &tr), 9);
    assert_change(&tr, 0, 400, 9);
    as_free(&st);
}

static void assert_mix(struct as_mix m, int spot, int ondemand)
{
    if (m.spot != spot || m.ondemand != ondemand)
        fail_msg("split %d spot + %d on-demand, expected %d + %d", m.spot, m.ondemand,
                 spot, ondemand);
}

static void test_split_spot_shortage(void **state)
{
    struct as_config cfg;

    (void)state;
    as_config_default(&cfg);
    cfg.use_spot = 1;
    cfg.base_ondemand = 1;
    cfg.dynamic_ondemand = 1;
    cfg.overprovision = 1;
    /* Target 4: 3 spot needed + 1 over-provisioned, 1 base on-demand.  Four
     * spot replicas launching but none READY: on-demand fills all 3. */
    assert_mix(as_split(&cfg, 4, 0), 4, 4);
    /* As spot replicas turn READY the on-demand stand-ins retire. */
    assert_mix(as_split(&cfg, 4, 1), 4, 3);
    assert_mix(as_split(&cfg, 4, 2), 4, 2);
    assert_mix(as_split(&cfg, 4, 3), 4, 1);
    /* The over-provisioned spare absorbs a preemption without on-demand. */
    assert_mix(as_split(&cfg, 4, 4), 4, 1);
    /* One of 4 READY spot preempted: 3 READY still cover the 3 needed. */
    assert_mix(as_split(&cfg, 4, 3), 4, 1);
    /* Two preempted: one on-demand until a spot replica is READY again. */
    assert_mix(as_split(&cfg, 4, 2), 4, 2);
    cfg.dynamic_ondemand = 0;
    assert_mix(as_split(&cfg, 4, 0), 4, 1);
    /* Base never exceeds the target; zero means nothing at all. */
    assert_mix(as_split(&cfg, 1, 0), 1, 1);
    cfg.base_ondemand = 2;
    assert_mix(as_split(&cfg, 1, 0), 1, 1);
    assert_mix(as_split(&cfg, 0, 0), 0, 0);
    cfg.use_spot = 0;
    assert_mix(as_split(&cfg, 3, 0), 0, 3);
}

static struct sp_placer three_locations(void)
{
    struct sp_placer p;

    sp_init(&p);
    assert_int_equal(sp_add(&p, "gcp", "us-central1", "us-central1-a", 1.0), 0);
    assert_int_equal(sp_add(&p, "gcp", "us-central1", "us-central1-b", 1.1), 1);
    assert_int_equal(sp_add(&p, "aws", "us-east-1", "us-east-1a", 1.5), 2);
    return p;
}

static void test_placer_spreads(void **state)
{
    struct sp_placer p = three_locations();
    int counts[3] = {0, 0, 0};
    long i, got[3];

    (void)state;
    for (i = 0; i < 3; i++) {
        got[i] = sp_pick(&p, counts);
        assert_true(got[i] >= 0);
        counts[got[i]]++;
    }
    /* Cheapest first, then another region before the second zone of the
     * first one, then the remaining zone: never all in one place. */
    assert_int_equal(got[0], 0);
    assert_int_equal(got[1], 2);
    assert_int_equal(got[2], 1);
    /* Two already in zone a, none elsewhere: the next goes elsewhere. */
    counts[0] = 2, counts[1] = 0, counts[2] = 0;
    assert_int_not_equal(sp_pick(&p, counts), 0);
    assert_int_equal(sp_find(&p, "aws", "us-east-1", "us-east-1a"), 2);
    assert_int_equal(sp_find(&p, "aws", "us-east-1", NULL), -1);
    sp_free(&p);
}

static void test_placer_moves_off_preempted(void **state)
{
    struct sp_placer p = three_locations();
    int counts[3] = {1, 1, 1};

    (void)state;
    /* The replica in zone a is preempted: a is the emptiest, but PREEMPTED. */
    counts[0] = 0;
    sp_preempted(&p, 0);
    assert_int_equal(p.locs[0].state, SP_PREEMPTED);
    assert_int_equal(sp_nactive(&p), 2);
    assert_int_equal(sp_pick(&p, counts), 1);
    /* Capacity is back in a (a replica there turned READY). */
    sp_active(&p, 0);
    assert_int_equal(sp_pick(&p, counts), 0);
    sp_free(&p);
}

static void test_placer_reset(void **state)
{
    struct sp_placer p = three_locations();
    int counts[3] = {0, 0, 0};

    (void)state;
    sp_preempted(&p, 0);
    sp_preempted(&p, 2);
    /* One ACTIVE left (< 2): everything is ACTIVE again. */
    assert_int_equal(sp_nactive(&p), 3);
    assert_int_equal(sp_pick(&p, counts), 0);
    sp_free(&p);
    sp_init(&p);
    assert_int_equal(sp_pick(&p, counts), -1);
    sp_free(&p);
}

static double step_to_3(double t)
{
    return t < 200 ? 0.5 : 2.5;
}

/* The loop a replica manager runs, the three parts together: a load step
 * to 3 replicas, placed on spot over 3 locations; a preemption in one zone;
 * on-demand stands in until the replacement spot replica is READY elsewhere
 * (launching is not enough). */
static void test_manager_loop(void **state)
{
    struct as_config cfg;
    struct as_state st;
    struct sp_placer p = three_locations();
    struct trace tr = {0};
    int counts[3] = {0, 0, 0}, i;
    long loc;

    (void)state;
    config(&cfg);
    cfg.use_spot = 1;
    cfg.dynamic_ondemand = 1;
    start(&st, &cfg);
    counts[sp_pick(&p, counts)]++; /* min_replicas 1: one spot replica */
    assert_mix(as_split(&cfg, 1, 1), 1, 0);
    assert_int_equal(run(&st, NULL, step_to_3, 0, 300, &tr), 3);
    assert_change(&tr, 0, 300, 3);
    for (i = 0; i < 2; i++)
        counts[sp_pick(&p, counts)]++;
    assert_true(counts[0] == 1 && counts[1] == 1 && counts[2] == 1);
    assert_mix(as_split(&cfg, 3, 1), 3, 2); /* 2 spot launching */
    assert_mix(as_split(&cfg, 3, 3), 3, 0);
    /* The aws replica is preempted: the emptiest zone now, but avoided. */
    sp_preempted(&p, 2);
    counts[2]--;
    assert_mix(as_split(&cfg, 3, 2), 3, 1);
    loc = sp_pick(&p, counts);
    assert_true(loc == 0 || loc == 1);
    counts[loc]++;
    assert_mix(as_split(&cfg, 3, 2), 3, 1); /* replacement launching */
    assert_mix(as_split(&cfg, 3, 3), 3, 0); /* replacement READY */
    sp_free(&p);
    as_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_up_after_delay),
        cmocka_unit_test(test_noisy_low_does_not_reset),
        cmocka_unit_test(test_spike_does_not_choose_size),
        cmocka_unit_test(test_skyserve_rule),
        cmocka_unit_test(test_too_many_low_readings_delay),
        cmocka_unit_test(test_spike_does_not_scale),
        cmocka_unit_test(test_scale_down_after_delay),
        cmocka_unit_test(test_to_zero_and_from_zero),
        cmocka_unit_test(test_request_waiting_wakes),
        cmocka_unit_test(test_trickle_keeps_one),
        cmocka_unit_test(test_up_wins_over_down),
        cmocka_unit_test(test_clip_to_bounds),
        cmocka_unit_test(test_set_current),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_window_and_long_gap),
        cmocka_unit_test(test_per_accelerator_qps),
        cmocka_unit_test(test_split_spot_shortage),
        cmocka_unit_test(test_placer_spreads),
        cmocka_unit_test(test_placer_moves_off_preempted),
        cmocka_unit_test(test_placer_reset),
        cmocka_unit_test(test_manager_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
