/*
 * test_commit_bill.c - the commitments' bill (sched_commit_bill) attacked:
 * committed nodes cover running committed attempts, then running on-demand
 * ones, never more than are in force and never fewer than could be, across
 * prices that change or stop, commitments that start and end, backfill,
 * cancels, deadlines, restarts and kills at any commit; and what a
 * controller that opens again on a changed catalog does with an attempt the
 * bill had covered.  (helper-98's review of the first version found the
 * restart cases, which are tests here.)
 *
 * FZ_SEEDS, FZ_FLAGS (bits below, fuzz_one) and FZ_ONE=<seed> (verbose)
 * run other random worlds than the suite's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <time.h>

#include "schedtest.h"
#include "testutil.h"
#include "plan/plan.h"

#define HOUR 3600.0
#define DAY 86400.0
#define ND "Standard_ND96isr_H100_v5"

/* ---- the invariant, checked after every step ---- */

struct inv {
    double last_t[4096], last_p[4096], acc[4096];
    int seen[4096];
    unsigned long costbad, odcov, costchecked;
    unsigned long checks, over, idle;
    char why[512];
    double ndlist; /* the ND list price the checker prices committed attempts at */
};

/* committed ND nodes in force at t */
static double in_force(struct st *w, const char *cloud, const char *region,
                       const char *type)
{
    size_t k;
    double K = 0;

    for (k = 0; k < catalog_ncommitments(w->cat); k++) {
        const struct commitment *m = catalog_commitment(w->cat, k);

        if (strcmp(m->cloud, cloud) || strcmp(m->region, region) ||
            strcmp(m->instance_type, type))
            continue;
        if ((m->start == 0 || w->t >= m->start) && (m->end == 0 || w->t < m->end))
            K += m->count;
    }
    return K;
}

/* After a step: in each group, nodes billed as covered <= committed in
 * force, and == min(in force, live committed + running on-demand nodes). */
static void inv_check(struct st *w, struct inv *x, const char *cloud, const char *region,
                      const char *type)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t n = 0, i;
    double K = in_force(w, cloud, region, type), cov = 0, want_nodes = 0;

    err_clear(&e);
    if (store_attempt_page(w->store, 0, 0, &v, &n, &e) != 0)
        st_die("page", e.msg);
    for (i = 0; i < n; i++) { /* the price path each attempt was billed at */
        const struct store_attempt *a = &v[i];
        size_t id = (size_t)a->id;

        if (id >= 4096 || a->running_at <= 0)
            continue;
        if (x->seen[id]) {
            double hi = a->state == ATT_ENDED ? fmin(a->ended_at, w->t) : w->t;
            double lo = fmax(x->last_t[id], a->running_at);

            if (hi > lo)
                x->acc[id] += x->last_p[id] * a->nodes * (hi - lo) / 3600;
        }
        if (a->state == ATT_ENDED && x->seen[id] != 2) {
            double got = a->cost - a->egress;

            if (x->seen[id] == 1 && fabs(got - x->acc[id]) > 1e-6 && x->costbad++ == 0)
                snprintf(x->why, sizeof(x->why),
                         "attempt %zu (%s): cost $%.4f, its price path says $%.4f", id,
                         plan_mode_name(a->mode), got, x->acc[id]);
            x->costchecked += x->seen[id] == 1;
            x->seen[id] = 2;
            continue;
        }
        if (a->state != ATT_ENDED) {
            x->seen[id] = 1;
            x->last_t[id] = w->t;
            x->last_p[id] = a->price_hour;
        }
    }
    for (i = 0; i < n; i++) {
        const struct store_attempt *a = &v[i];
        double base;

        if (a->state == ATT_ENDED || strcmp(a->cloud, cloud) ||
            strcmp(a->region, region) || strcmp(a->instance_type, type))
            continue;
        if (a->mode == PLAN_COMMITTED && a->running_at > 0) {
            base = catalog_list_price_last(w->cat, cloud, region, type);
        } else if (a->mode == PLAN_ONDEMAND && a->running_at > 0) {
            long o = catalog_find_offer(w->cat, a->cloud, a->region, a->zone,
                                        a->instance_type, a->accelerator);

            base = o >= 0 ? catalog_offer(w->cat, (size_t)o)->price : -1;
            if (base < 0)
                base = catalog_od_price_last(w->cat, (size_t)o);
        } else
            continue;
        want_nodes += a->nodes;
        if (base > 0)
            cov += a->nodes * (1 - a->price_hour / base);
        if (base > 0 && a->mode == PLAN_ONDEMAND && a->price_hour < base - 1e-9)
            x->odcov++;
    }
    store_attempts_free(v, n);
    x->checks++;
    if (cov > K + 1e-6 && x->over++ == 0)
        snprintf(x->why, sizeof(x->why), "t=+%.0f: %.3f nodes covered, %.0f in force",
                 w->t - ST_T0, cov, K);
    if (cov < fmin(K, want_nodes) - 1e-6 && x->idle++ == 0 && x->over == 0)
        snprintf(x->why, sizeof(x->why),
                 "t=+%.0f: %.3f nodes covered, %.0f in force, %.0f nodes run",
                 w->t - ST_T0, cov, K, want_nodes);
}

/* ---- 1: not sold on demand any more, then a restart ---- */

static const char *const OD_AZURE = "resources:\n  cloud: azure\n  region: eastus\n"
                                    "  accelerators: H100:8\n  use_spot: false\n"
                                    "run: train\nstratus:\n";

/* One ND node committed for good; a job of c_dur takes it and one of d_dur
 * runs on demand beside it (both pinned to azure/eastus): the second's id
 * (the first's is one less). */
static int64_t beside_one_node(struct st *w, const char *c_dur, const char *d_dur)
{
    char *spec;
    int64_t d;

    st_commit_text(w, "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                      "azure,eastus,," ND ",1,,,30\n");
    spec = xasprintf("name: c\n%s  duration: %s\n", OD_AZURE, c_dur);
    (void)st_submit(w, spec);
    free(spec);
    spec = xasprintf("name: d\n%s  duration: %s\n", OD_AZURE, d_dur);
    d = st_submit(w, spec);
    free(spec);
    return d;
}

struct unsold_watch {
    int restart, priced, restarted;
    int64_t od;
    struct inv inv;
};

static int unsold_step(struct st *w, void *ctx)
{
    struct unsold_watch *x = ctx;

    inv_check(w, &x->inv, "azure", "eastus", ND);
    if (!x->priced && w->t > ST_T0 + 2.5 * HOUR) {
        x->priced = 1;
        st_set_price(w, "azure", "eastus", ND, -1, 36); /* no longer sold on demand */
    }
    if (x->restart && !x->restarted && w->t > ST_T0 + 3 * HOUR) {
        x->restarted = 1;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

static double unsold(int gang, int restart)
{
    static struct unsold_watch x;
    struct store_attempt a, b;
    struct st w;
    double list = 96, t1, t2 = ST_T0 + 4 * HOUR, want;
    int64_t c;
    char *spec;

    memset(&x, 0, sizeof(x));
    x.restart = restart;
    st_init(&w, NULL);
    /* one node committed until +4 h */
    st_commit_text(&w, "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                       "azure,eastus,," ND ",1,,2026-09-21T18:13:20Z,30\n");
    spec = xasprintf("name: c\n%s  duration: 2h\n", OD_AZURE);
    c = st_submit(&w, spec);
    free(spec);
    spec = xasprintf("name: d\nnum_nodes: %d\n%s  duration: 8h\n", gang, OD_AZURE);
    x.od = st_submit(&w, spec);
    free(spec);
    st_start(&w);
    assert_true(st_run_until(&w, unsold_step, &x, ST_T0 + DAY));
    a = st_attempt(&w, c, 1);
    b = st_attempt(&w, x.od, 1);
    assert_int_equal(a.mode, PLAN_COMMITTED);
    assert_int_equal(b.mode, PLAN_ONDEMAND);
    t1 = a.ended_at;
    /* list until the committed job ends; one node covered until +4 h; list
     * (the price last in force) after the commitment's end */
    want = list * gang * (t1 - b.running_at) / 3600 +
           list * (gang - 1) * (t2 - t1) / 3600 + list * gang * (b.ended_at - t2) / 3600;
    print_message(
        "unsold gang %d restart %d: attempt $%.2f (price now $%.2f/node-h), want "
        "$%.2f (diff %.6f)\n",
        gang, restart, b.cost, b.price_hour, want, b.cost - want);
    print_message("  invariant: %lu checks, %lu over, %lu idle: %s\n", x.inv.checks,
                  x.inv.over, x.inv.idle, x.inv.why);
    want = fabs(b.cost - want);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    st_free(&w);
    return want;
}

static void test_unsold_restart(void **state)
{
    double d00, d01, d10, d11;

    (void)state;
    d00 = unsold(1, 0);
    d10 = unsold(2, 0);
    d01 = unsold(1, 1);
    d11 = unsold(2, 1);
    assert_true(d00 < 1e-4);
    assert_true(d10 < 1e-4);
    assert_true(d01 < 1e-4);
    assert_true(d11 < 1e-4);
}

/* ---- 2: random worlds, the invariant after every step ---- */

static uint64_t rng_state;
static unsigned long g_odcov, g_costs, g_kills, g_backfill, g_displaced, g_dl;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int rnd_int(int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

enum act_kind { A_SUBMIT, A_CANCEL, A_RESTART, A_PRICE, A_PREEMPT };

struct act {
    double t;
    enum act_kind k;
    int job;  /* index into the jobs */
    double p; /* price */
    char *spec;
    int done;
};

struct fz {
    struct act acts[64];
    int nacts;
    int64_t ids[32];
    struct inv inv, inv2;
    unsigned seed;
    int verbose;
};

static int fz_step(struct st *w, void *ctx)
{
    struct fz *f = ctx;
    int i;

    inv_check(w, &f->inv, "azure", "eastus", ND);
    inv_check(w, &f->inv2, "gcp", "us-central1", "a3-highgpu-8g");
    for (i = 0; i < f->nacts; i++) {
        struct act *a = &f->acts[i];

        if (a->done || w->t < a->t)
            continue;
        a->done = 1;
        switch (a->k) {
        case A_SUBMIT:
            f->ids[a->job] = st_submit(w, a->spec);
            break;
        case A_CANCEL:
            if (f->ids[a->job] > 0)
                st_cancel(w, f->ids[a->job]);
            break;
        case A_PREEMPT:
            if (f->ids[a->job] > 0) {
                char arg[32];

                snprintf(arg, sizeof(arg), "%lld", (long long)f->ids[a->job]);
                (void)st_inject(w, "preempt-job", arg);
            }
            break;
        case A_RESTART:
            st_restart(w);
            break;
        case A_PRICE:
            st_set_price(w, "azure", "eastus", ND, a->p, 36);
            break;
        }
    }
    for (i = 0; i < f->nacts; i++)
        if (!f->acts[i].done)
            return 0;
    return st_all_ended(w, NULL);
}

static char *iso_at(double t)
{
    time_t u = (time_t)t;
    struct tm tm;
    char *out = xmalloc(32);

    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&u, &tm));
    return out;
}

/* flags: 1 restarts, 2 price changes, 4 cancels, 8 commitments start/end,
 * 16 spot allowed (backfill) */
static unsigned long fuzz_one(unsigned seed, int flags, int verbose)
{
    static struct fz f;
    struct st w;
    char text[2048];
    int i, nc, njobs, len;
    unsigned long bad;

    memset(&f, 0, sizeof(f));
    rng_state = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)seed * 0x100000001b3ULL);
    rnd();
    f.seed = seed;
    st_init(&w, NULL);
    len = snprintf(text, sizeof(text),
                   "cloud,region,zone,instance_type,nodes,start,end,price_hour\n");
    nc = rnd_int(1, (flags & 256) ? 5 : 3);
    for (i = 0; i < nc; i++) {
        char *s = NULL, *e = NULL;

        if ((flags & 8) && rnd_int(0, 1))
            s = iso_at(ST_T0 + rnd_int(0, 10) * 1800 + rnd_int(0, 1) * 7);
        if ((flags & 8) && rnd_int(0, 1))
            e = iso_at((s ? ST_T0 + 12 * HOUR : ST_T0) + rnd_int(1, 12) * 1800);
        if (s && e && strcmp(s, e) >= 0) {
            free(e);
            e = NULL;
        }
        len += snprintf(text + len, sizeof(text) - (size_t)len,
                        (flags & 256) && rnd_int(0, 1)
                            ? "gcp,us-central1,,a3-highgpu-8g,%d,%s,%s,30\n"
                            : "azure,eastus,," ND ",%d,%s,%s,30\n",
                        rnd_int(1, 2), s ? s : "", e ? e : "");
        free(s);
        free(e);
    }
    st_commit_text(&w, text);
    if (verbose)
        print_message("%s", text);
    njobs = rnd_int(2, 7);
    for (i = 0; i < njobs; i++) {
        struct act *a = &f.acts[f.nacts++];
        int spot = (flags & 16) && rnd_int(0, i < 2 ? 1 : 2) == 0;

        a->t = i < 2 ? ST_T0 : ST_T0 + rnd_int(0, 16) * 900 + rnd_int(0, 59);
        a->k = A_SUBMIT;
        a->job = i;
        {
            int dur = rnd_int(4, 40) * 10,
                pin = !spot || ((flags & 128) && rnd_int(0, 1));
            char dl[64] = "";

            if ((flags & 128) && spot)
                snprintf(dl, sizeof(dl), "  deadline: %dm\n", dur + rnd_int(1, 8) * 10);
            a->spec = xasprintf(
                "name: j%d\nnum_nodes: %d\nresources:\n%s"
                "  accelerators: H100:8\n%srun: train\n"
                "stratus:\n  duration: %dm\n%s  checkpoint:\n    interval: 30m\n"
                "    restore: 5m\n",
                i, rnd_int(1, 3) > 2 ? 2 : 1,
                pin ? ((flags & 256) && rnd_int(0, 1)
                           ? "  cloud: gcp\n  region: us-central1\n"
                           : "  cloud: azure\n  region: eastus\n")
                    : "",
                spot ? "" : "  use_spot: false\n", dur, dl);
        }
        if ((flags & 128) && spot && rnd_int(0, 1)) {
            struct act *c = &f.acts[f.nacts++];

            c->t = a->t + rnd_int(1, 20) * 300 + rnd_int(0, 59);
            c->k = A_PREEMPT;
            c->job = i;
            if (verbose)
                print_message("t+%.0f preempt j%d\n", c->t - ST_T0, i);
        }
        if (verbose)
            print_message("t+%.0f submit %s", a->t - ST_T0, a->spec);
        if ((flags & 4) && rnd_int(0, 3) == 0) {
            struct act *c = &f.acts[f.nacts++];

            c->t = a->t + rnd_int(1, 20) * 600 + rnd_int(0, 59);
            c->k = A_CANCEL;
            c->job = i;
            if (verbose)
                print_message("t+%.0f cancel j%d\n", c->t - ST_T0, i);
        }
    }
    if (flags & 1)
        for (i = rnd_int(0, 3); i > 0; i--) {
            struct act *a = &f.acts[f.nacts++];

            a->t = ST_T0 + rnd_int(1, 40) * 600 + rnd_int(0, 59);
            a->k = A_RESTART;
            if (verbose)
                print_message("t+%.0f restart\n", a->t - ST_T0);
        }
    if (flags & 2)
        for (i = rnd_int(0, 3); i > 0; i--) {
            static const double prices[] = {96, 120, 80, 110, -1};
            struct act *a = &f.acts[f.nacts++];

            a->t = ST_T0 + rnd_int(1, 40) * 600 + rnd_int(0, 59);
            a->k = A_PRICE;
            a->p = prices[rnd_int(0, (flags & 32) ? 4 : 3)];
            if (verbose)
                print_message("t+%.0f price %.0f\n", a->t - ST_T0, a->p);
        }
    if (flags & 64) {
        uint64_t k = (uint64_t)rnd_int(3, 120);

        st_kill_at_commit(&w, w.fault->commits + k, rnd_int(0, 1));
    }
    st_start(&w);
    if (!st_run_until(&w, fz_step, &f, ST_T0 + 3 * DAY))
        print_message("seed %u: did not end (%s)\n", seed, w.last_error);
    {
        struct store_attempt *v = NULL;
        struct err e;
        size_t n = 0, k;

        err_clear(&e);
        if (store_attempt_page(w.store, 0, 0, &v, &n, &e) == 0) {
            for (k = 0; k < n; k++) {
                g_backfill += v[k].backfill_spot > 0;
                g_displaced += v[k].end_reason == ATT_END_DISPLACED;
            }
            store_attempts_free(v, n);
        }
        for (k = 0; k < 32; k++)
            if (f.ids[k] > 0)
                g_dl += st_count_events(&w, f.ids[k], "deadline", -1);
    }
    g_odcov += f.inv.odcov;
    g_kills += w.kills;
    g_costs += f.inv.costchecked;
    bad = f.inv.over + f.inv.idle + f.inv.costbad + f.inv2.over + f.inv2.idle;
    if (f.inv2.over + f.inv2.idle)
        print_message("seed %u gcp: %lu over %lu idle: %s\n", seed, f.inv2.over,
                      f.inv2.idle, f.inv2.why);
    if (bad || verbose)
        print_message("seed %u flags %d: %lu checks, %lu over, %lu idle, %lu cost: %s\n",
                      seed, flags, f.inv.checks, f.inv.over, f.inv.idle, f.inv.costbad,
                      f.inv.why);
    for (i = 0; i < f.nacts; i++)
        free(f.acts[i].spec);
    st_free(&w);
    return bad;
}

static void test_bill_fuzz(void **state)
{
    const char *env = getenv("FZ_SEEDS"), *fl = getenv("FZ_FLAGS"),
               *one = getenv("FZ_ONE");
    unsigned n = env ? (unsigned)atoi(env) : 60, s, failed = 0;
    /* every kind of event but the second group's; then all but backfill
     * (spot jobs with deadlines), with both groups */
    int flags = fl ? atoi(fl) : 127, k;

    (void)state;
    if (one) {
        fuzz_one((unsigned)atoi(one), flags, 1);
        return;
    }
    for (k = 0; k < (fl ? 1 : 2); k++, flags = 511)
        for (s = 1; s <= n; s++)
            failed += fuzz_one(s, flags, 0) != 0;
    print_message(
        "flags %d: %u of %u seeds broke the invariant (%lu od-covered checks, %lu costs "
        "checked, %lu kills, %lu backfill, %lu displaced, %lu deadline ev)\n",
        flags, failed, n, g_odcov, g_costs, g_kills, g_backfill, g_displaced, g_dl);
    assert_int_equal(failed, 0);
}

/* ---- 3: the job's log across a restart while covered ---- */

static void print_price_events(struct st *w, int64_t job)
{
    struct store_event *v = NULL;
    struct err e;
    size_t i, n = 0;

    err_clear(&e);
    if (store_event_list(w->store, job, 0, 0, &v, &n, &e) != 0)
        st_die("store_event_list", e.msg);
    for (i = 0; i < n; i++)
        if (strcmp(v[i].type, "price") == 0)
            print_message("  t+%.0f %s: %s\n", v[i].at - ST_T0, v[i].type, v[i].msg);
    store_events_free(v, n);
}

/* When job's k-th "price" event (from 1) was, or 0. */
static double price_event_at(struct st *w, int64_t job, size_t k)
{
    struct store_event *v = NULL;
    struct err e;
    size_t i, n = 0, seen = 0;
    double at = 0;

    err_clear(&e);
    if (store_event_list(w->store, job, 0, 0, &v, &n, &e) != 0)
        st_die("store_event_list", e.msg);
    for (i = 0; i < n && at == 0; i++)
        if (strcmp(v[i].type, "price") == 0 && ++seen == k)
            at = v[i].at;
    store_events_free(v, n);
    return at;
}

struct rs_watch {
    int done;
};

static int rs_step(struct st *w, void *ctx)
{
    struct rs_watch *x = ctx;

    if (!x->done && w->t > ST_T0 + 3 * HOUR) {
        x->done = 1;
        st_restart(w);
    }
    return st_all_ended(w, NULL);
}

static void test_restart_log(void **state)
{
    struct rs_watch x = {0};
    struct st w;
    int64_t d;

    (void)state;
    st_init(&w, NULL);
    d = beside_one_node(&w, "2h", "4h");
    st_start(&w);
    assert_true(st_run_until(&w, rs_step, &x, ST_T0 + DAY));
    print_price_events(&w, d);
    /* covered once the committed job ended; the restart changes nothing
     * (a review: it put the list price back, then the covered one) */
    assert_int_equal(st_count_events(&w, d, "price", -1), 1);
    st_free(&w);
}

/* ---- 4: restart with a catalog that no longer has the offer nor the
 * commitment: the covered price is kept for good ---- */

struct gone_watch {
    int done;
    struct catalog *newcat;
};

static int gone_step(struct st *w, void *ctx)
{
    struct gone_watch *x = ctx;

    if (!x->done && w->t > ST_T0 + 3 * HOUR) {
        x->done = 1;
        st_kill(w);
        w->p.cat = x->newcat; /* the operator's new catalog; the world keeps its own */
        st_start(w);
    }
    return st_all_ended(w, NULL);
}

static void test_offer_gone_restart(void **state)
{
    struct gone_watch x = {0, NULL};
    struct store_attempt b;
    struct st w;
    struct err e;
    int64_t d;
    char *dir = tu_mkdtemp();

    (void)state;
    tu_write(dir, "offers.csv",
             "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
             "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
             "price_hour,spot_price_hour\n"
             "gcp,us-central1,us-central1-a,a3-highgpu-8g,H100,8,80,208,1872,tcpx,,80.00,"
             "20.00\n");
    tu_write(dir, "preemption.csv",
             "cloud,region,accelerator,rate_per_hour,source\n*,*,*,0,tests\n");
    tu_write(dir, "regions.csv",
             "cloud,region,latitude,longitude,continent\n"
             "azure,eastus,37.3719,-79.8164,north-america\n"
             "gcp,us-central1,41.2619,-95.8608,north-america\n");
    err_clear(&e);
    if (catalog_load(&x.newcat, dir, &e) != 0)
        fail_msg("%s", e.msg);
    st_init(&w, NULL);
    d = beside_one_node(&w, "2h", "6h");
    st_start(&w);
    assert_true(st_run_until(&w, gone_step, &x, ST_T0 + DAY));
    b = st_attempt(&w, d, 1);
    print_message(
        "offer and commitment gone at +3 h: attempt $%.2f, $%.2f/node-h at its end "
        "(ran %.2f h, %.2f h of them at $0)\n",
        b.cost, b.price_hour, (b.ended_at - b.running_at) / 3600,
        (b.ended_at - b.running_at) / 3600 - b.cost / 96);
    print_price_events(&w, d);
    {
        struct store_attempt c = st_attempt(&w, d - 1, 1);
        double t_back = price_event_at(&w, d, 2);

        /* list until c ended, covered until the controller opened on the
         * new catalog, list from then (a review: covered for good) */
        assert_int_equal(st_count_events(&w, d, "price", -1), 2);
        assert_true(t_back >= ST_T0 + 3 * HOUR && t_back < ST_T0 + 3 * HOUR + 60);
        assert_true(b.price_hour == 96);
        assert_true(
            fabs(b.cost - 96 * ((c.ended_at - b.running_at) + (b.ended_at - t_back)) /
                              3600) < 1e-6);
        store_attempt_clear(&c);
    }
    store_attempt_clear(&b);
    w.p.cat = w.cat;
    st_free(&w);
    catalog_free(x.newcat);
    tu_rmdir(dir);
    free(dir);
}

/* ---- 4b: restart on a catalog that drops the commitment and lowers the
 * price: a covered on-demand attempt pays the offer's new price, and a
 * committed one the list price (helper-99: the first paid the price stored
 * before the restart until the next one; the second $0 for good) ---- */

/* Submit c3, and restart on the new catalog once its committed launch is
 * made and before it runs: it is billed too once it runs (at the new
 * catalog's list price). */
struct gone3_watch {
    struct gone_watch g;
    int64_t c3;
};

static int gone3_step(struct st *w, void *ctx)
{
    struct gone3_watch *x = ctx;

    if (x->c3 == 0) {
        char *spec = xasprintf("name: c3\n%s  duration: 1h\n", OD_AZURE);

        x->c3 = st_submit(w, spec);
        free(spec);
    } else if (x->c3 != 0 && !x->g.done && st_nattempts(w, x->c3) > 0) {
        struct store_attempt a = st_attempt(w, x->c3, 1);

        if (a.running_at <= 0) {
            x->g.done = 1;
            st_kill(w);
            w->p.cat = x->g.newcat;
            st_start(w);
        }
        store_attempt_clear(&a);
    }
    return x->g.done && st_all_ended(w, NULL);
}

static void test_commitment_gone_restart(void **state)
{
    struct gone3_watch x3 = {{0, NULL}, 0};
    struct gone_watch x = {0, NULL};
    struct store_attempt c2, d;
    int64_t jc1, jc2, jd;
    struct st w;
    struct err e;
    char *dir = tu_mkdtemp(), *spec;
    double t_back;

    (void)state;
    tu_write(dir, "offers.csv",
             "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
             "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,"
             "price_hour,spot_price_hour\n"
             "azure,eastus,," ND ",H100,8,80,96,1900,infiniband,,90.00,36.00\n");
    tu_write(dir, "preemption.csv",
             "cloud,region,accelerator,rate_per_hour,source\n*,*,*,0,tests\n");
    tu_write(dir, "regions.csv",
             "cloud,region,latitude,longitude,continent\n"
             "azure,eastus,37.3719,-79.8164,north-america\n");
    err_clear(&e);
    if (catalog_load(&x.newcat, dir, &e) != 0)
        fail_msg("%s", e.msg);
    st_init(&w, NULL);
    st_commit_text(&w, "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                       "azure,eastus,," ND ",2,,,30\n");
    spec = xasprintf("name: c1\n%s  duration: 1h\n", OD_AZURE);
    jc1 = st_submit(&w, spec);
    free(spec);
    spec = xasprintf("name: c2\n%s  duration: 6h\n", OD_AZURE);
    jc2 = st_submit(&w, spec);
    free(spec);
    spec = xasprintf("name: d\n%s  duration: 6h\n", OD_AZURE);
    jd = st_submit(&w, spec);
    free(spec);
    st_start(&w);
    assert_true(st_run_until(&w, gone_step, &x, ST_T0 + DAY));
    c2 = st_attempt(&w, jc2, 1);
    d = st_attempt(&w, jd, 1);
    print_price_events(&w, jc2);
    print_price_events(&w, jd);
    {
        struct store_attempt c1 = st_attempt(&w, jc1, 1);

        assert_int_equal(c1.mode, PLAN_COMMITTED);
        store_attempt_clear(&c1);
    }
    assert_int_equal(c2.mode, PLAN_COMMITTED);
    assert_int_equal(d.mode, PLAN_ONDEMAND);
    t_back = price_event_at(&w, jd, 2);
    assert_true(t_back >= ST_T0 + 3 * HOUR && t_back < ST_T0 + 3 * HOUR + 60);
    assert_true(price_event_at(&w, jc2, 1) == t_back);
    assert_true(d.price_hour == 90 && c2.price_hour == 90);
    /* c2: $0 until the restart, $90 after; d: $96 until c1 ended, $0 until
     * the restart, $90 after */
    assert_true(fabs(c2.cost - 90 * (c2.ended_at - t_back) / 3600) < 1e-6);
    assert_true(fabs(d.cost - 96 * (price_event_at(&w, jd, 1) - d.running_at) / 3600 -
                     90 * (d.ended_at - t_back) / 3600) < 1e-6);
    store_attempt_clear(&c2);
    store_attempt_clear(&d);
    w.p.cat = w.cat;
    st_free(&w);

    /* the same, with a committed launch made but not yet running at the
     * restart (helper-99's case, one step earlier): it pays from its run */
    st_init(&w, NULL);
    st_commit_text(&w, "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
                       "azure,eastus,," ND ",1,,,30\n");
    x3.g.newcat = x.newcat;
    st_start(&w);
    assert_true(st_run_until(&w, gone3_step, &x3, ST_T0 + DAY));
    assert_true(x3.g.done);
    {
        struct store_attempt c3 = st_attempt(&w, x3.c3, 1);

        print_price_events(&w, x3.c3);
        assert_int_equal(c3.mode, PLAN_COMMITTED);
        assert_true(c3.price_hour == 90);
        assert_true(fabs(c3.cost - 90 * (c3.ended_at - c3.running_at) / 3600) < 1e-6);
        store_attempt_clear(&c3);
    }
    w.p.cat = w.cat;
    st_free(&w);
    catalog_free(x.newcat);
    tu_rmdir(dir);
    free(dir);
}

/* ---- 5: a committed launch the cloud refuses takes the coverage from a
 * running on-demand attempt while no committed machine runs ---- */

struct so_watch {
    int done;
    int64_t c;
};

static int so_step(struct st *w, void *ctx)
{
    struct so_watch *x = ctx;

    if (!x->done && w->t >= ST_T0 + 3 * HOUR) {
        char *spec = xasprintf("name: c\n%s  duration: 1h\n", OD_AZURE);

        x->done = 1;
        w->capacity_unknown = 1;
        (void)st_inject(w, "stockout", "azure/eastus 3600");
        x->c = st_submit(w, spec);
        free(spec);
    }
    return st_all_ended(w, NULL);
}

static void test_refused_committed_launch(void **state)
{
    struct so_watch x = {0, 0};
    struct store_attempt a, b;
    struct st w;
    int64_t ja, jb;
    size_t i, n;
    double t_list = 0;

    (void)state;
    st_init(&w, NULL);
    jb = beside_one_node(&w, "2h", "6h");
    ja = jb - 1;
    st_start(&w);
    assert_true(st_run_until(&w, so_step, &x, ST_T0 + 2 * DAY));
    a = st_attempt(&w, ja, 1);
    b = st_attempt(&w, jb, 1);
    n = st_nattempts(&w, x.c);
    print_message("job c: %zu attempts\n", n);
    for (i = 1; i <= n; i++) {
        struct store_attempt c = st_attempt(&w, x.c, (int)i);

        print_message("  c#%zu %s launched +%.0f running +%.0f ended +%.0f reason %d\n",
                      i, plan_mode_name(c.mode), c.launched_at - ST_T0,
                      c.running_at ? c.running_at - ST_T0 : -1, c.ended_at - ST_T0,
                      c.end_reason);
        store_attempt_clear(&c);
    }
    /* b: list until a ends; then covered, except while a committed machine
     * of c runs */
    t_list = (b.cost - 96 * (a.ended_at - b.running_at) / 3600) / 96 * 3600;
    print_message("b: $%.2f; after a ended, %.0f s billed at list\n", b.cost, t_list);
    print_price_events(&w, jb);
    /* refused launches held no committed node: b paid list only while c's
     * committed machine ran (1 h), and its log has those changes alone (a
     * review: a pair of events per refused launch) */
    {
        struct store_attempt c = st_attempt(&w, x.c, (int)n);

        assert_true(c.running_at > 0);
        assert_true(fabs(t_list - (c.ended_at - c.running_at)) < 1e-6);
        store_attempt_clear(&c);
    }
    assert_int_equal(st_count_events(&w, jb, "price", -1), 3);
    store_attempt_clear(&a);
    store_attempt_clear(&b);
    st_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsold_restart),
        cmocka_unit_test(test_bill_fuzz),
        cmocka_unit_test(test_restart_log),
        cmocka_unit_test(test_offer_gone_restart),
        cmocka_unit_test(test_commitment_gone_restart),
        cmocka_unit_test(test_refused_committed_launch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
