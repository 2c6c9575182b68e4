/*
 * test_crashpoints.c - the controller killed at every commit, and the store
 * failing every write, with the invariants checked after each run
 * (FoundationDB's and TigerBeetle's deterministic simulation, SQLite's
 * crash and I/O-error tests, in virtual time on schedtest.h).
 *
 * A seeded scenario: eight jobs of six shapes (checkpointing or not, spot
 * and on-demand, gangs of two, eager-next-region and failover, priorities
 * high enough to displace) submitted over two hours on a fleet with room
 * for two spot H100 gangs, while the world preempts jobs and a whole
 * region, stocks three locations out for a while, fails one region's
 * launch API for half an hour, and the user cancels two jobs (one of them
 * twice); one seed in three, the cloud hides its free capacity, so
 * stockouts show only as refused launches.  Odd jobs run under a policy
 * with patience, and the cheap L4 spot holds one node, so they park waiting
 * for it (and are woken) across the kills and failed writes.  One run
 * without faults counts its commits K and writes W.  Then, for each k in
 * 1..K, the controller is killed just before and just after its k-th commit
 * (its memory is dropped; store and world survive; a new controller opens
 * on them at once) and the scenario runs to its end; and for each n in 1..W
 * the n-th write fails (and for each k the k-th commit fails; and 40 writes
 * in a row fail, a disk full for a while) while the controller carries on
 * as the daemon does (logs the failed step and steps again).  After every
 * run:
 *   - every job ended, with exactly one transition into a terminal state,
 *     and never left a terminal state (checked at every commit);
 *   - no attempt id was launched for two different attempts, and no attempt
 *     of a job started in the world while another of its attempts ran;
 *   - no attempt still runs in the world once every job has ended;
 *   - a job's carried work (work_done_s) never went down (every commit), and
 *     each attempt of a checkpointing job starts from the newest earlier
 *     attempt that ran (none for a job without checkpoints);
 *   - an eager-next-region job preempted in one region relaunches in the
 *     other when that one was free (no stockout or API failure there within
 *     a block cooldown);
 *   - a job's bill is the sum of its attempts', and each attempt's is what
 *     the world ran of it at its price;
 *   - every request was consumed.
 * The runs of a sweep go on in a child process that reports each outcome
 * through a pipe: a controller that aborts (BUG_ON) ends only the child,
 * its run counts as a violation and a new child takes the next run.
 *
 * The summary lines ("crash points: N, invariant violations: V", "failed
 * writes: ...") count runs.  CRASHPOINTS_SEEDS=n changes the number of
 * seeds; CRASHPOINTS_ONE="seed k after [write span]" replays one run in this
 * process (CRASHPOINTS_TRACE=1 prints its attempts and what the world saw).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schedtest.h"

#define NJOBS 8
#define MAX_ACTS 32
#define T_END (ST_T0 + 4 * 86400.0) /* a run not done by then is wedged */
#define COOLDOWN 300.0              /* sched_config_default's block_cooldown_s */

enum act_kind { ACT_SUBMIT, ACT_PREEMPT_JOB, ACT_PREEMPT_LOC, ACT_STOCKOUT, ACT_CANCEL };

struct act {
    double t; /* after ST_T0 */
    enum act_kind kind;
    int job;
    char arg[96];
};

/* A window during which a location refused launches. */
struct window {
    char loc[64];
    double from, until;
};

struct scenario {
    uint64_t seed;
    char spec[NJOBS + 1][512];
    int tpl[NJOBS + 1];
    struct act acts[MAX_ACTS];
    size_t nacts;
    struct window bad[8]; /* stockouts and the API failure */
    size_t nbad;
    struct window api;
    int capacity_unknown;
};

/* ---- violations ---- */

#define MSG_MAX 400 /* the first violation of a run, as reported */

struct chk {
    unsigned long n;
    char first[MSG_MAX];
};

static void chk_add(struct chk *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void chk_add(struct chk *c, const char *fmt, ...)
{
    va_list ap;

    if (c->n++ > 0)
        return;
    va_start(ap, fmt);
    vsnprintf(c->first, sizeof(c->first), fmt, ap);
    va_end(ap);
}

/* ---- the scenario ---- */

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rnd_in(uint64_t *s, double lo, double hi)
{
    return lo + (double)(rnd(s) % 1000000) / 1e6 * (hi - lo);
}

/* Job shapes: 0 eager-next-region L4 with checkpoints; 1 L4 spot without;
 * 2 H100 on demand; 3 a spot gang of two H100 nodes with checkpoints, high
 * priority; 4 A10 spot or on demand; 5 a low-priority spot gang of two H100
 * nodes with checkpoints (3 displaces it when spot H100 is full). */
#define NTPL 6

static int tpl_checkpoints(int tpl)
{
    return tpl == 0 || tpl == 3 || tpl == 5;
}

static void make_spec(struct scenario *sc, int job, uint64_t *s)
{
    static const char *const res[NTPL] = {
        "  accelerators: L4:4\n  use_spot: true\n",
        "  accelerators: L4:4\n  use_spot: true\n",
        "  accelerators: H100:8\n  use_spot: false\n",
        "  accelerators: H100:8\n  use_spot: true\nnum_nodes: 2\n",
        "  accelerators: A10:4\n",
        "  accelerators: H100:8\n  use_spot: true\nnum_nodes: 2\n",
    };
    static const char *const extra[NTPL] = {
        "  checkpoint:\n    interval: 10m\n  recovery:\n    strategy: eager-next-region\n",
        "",
        "",
        "  priority: 5\n  checkpoint:\n    interval: 20m\n",
        "  priority: 1\n",
        "  priority: 0\n  checkpoint:\n    interval: 15m\n",
    };
    int tpl = (int)(rnd(s) % NTPL), minutes = 30 + (int)(rnd(s) % 150);

    sc->tpl[job] = tpl;
    snprintf(sc->spec[job], sizeof(sc->spec[job]),
             "name: job-%d\nresources:\n%srun: work\nstratus:\n  duration: %dm\n%s"
             "  recovery:\n    max_restarts: 50\n",
             job, res[tpl], minutes, extra[tpl]);
    if (tpl == 0) /* recovery: is already open: add to it */
        snprintf(sc->spec[job], sizeof(sc->spec[job]),
                 "name: job-%d\nresources:\n%srun: work\nstratus:\n  duration: %dm\n%s"
                 "    max_restarts: 50\n",
                 job, res[tpl], minutes, extra[tpl]);
}

static struct act *add_act(struct scenario *sc, double t, enum act_kind k, int job)
{
    struct act *a = &sc->acts[sc->nacts++];

    BUG_ON(sc->nacts > MAX_ACTS);
    memset(a, 0, sizeof(*a));
    a->t = t;
    a->kind = k;
    a->job = job;
    return a;
}

static void add_stockout(struct scenario *sc, uint64_t *s)
{
    static const char *const locs[] = {"gcp/us-central1", "gcp/europe-west4",
                                       "azure/eastus", "oci/us-ashburn-1"};
    const char *loc = locs[rnd(s) % 4];
    double t = rnd_in(s, 0, 3 * 3600), secs = rnd_in(s, 600, 1800);
    struct act *a = add_act(sc, t, ACT_STOCKOUT, 0);
    struct window *b = &sc->bad[sc->nbad++];

    snprintf(a->arg, sizeof(a->arg), "%s %.0f", loc, floor(secs));
    snprintf(b->loc, sizeof(b->loc), "%s", loc);
    b->from = t;
    b->until = t + floor(secs);
}

/* Time order; at one time, in the order they were made (submissions first,
 * in id order). */
static int by_time(const void *x, const void *y)
{
    const struct act *a = x, *b = y;

    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

static void make_scenario(struct scenario *sc, uint64_t seed)
{
    static const char *const regions[] = {"gcp/us-central1", "gcp/europe-west4",
                                          "azure/eastus", "oci/us-ashburn-1"};
    double at[NJOBS + 1];
    uint64_t s = seed;
    int j, i;

    memset(sc, 0, sizeof(*sc));
    sc->seed = seed;
    sc->capacity_unknown = seed % 3 == 0; /* launches refused only at the cloud */
    /* Job ids follow submission order: submit times are sorted. */
    for (j = 1; j <= NJOBS; j++)
        at[j] = j == 1 ? 0 : floor(rnd_in(&s, 0, 7200));
    qsort(at + 1, NJOBS, sizeof(at[0]), cmp_double);
    for (j = 1; j <= NJOBS; j++) {
        make_spec(sc, j, &s);
        add_act(sc, at[j], ACT_SUBMIT, j);
    }
    for (i = 0; i < 5; i++) {
        struct act *a = add_act(sc, floor(rnd_in(&s, 300, 4 * 3600)), ACT_PREEMPT_JOB,
                                1 + (int)(rnd(&s) % NJOBS));

        snprintf(a->arg, sizeof(a->arg), "%d", a->job);
    }
    snprintf(add_act(sc, floor(rnd_in(&s, 600, 3 * 3600)), ACT_PREEMPT_LOC, 0)->arg, 96,
             "%s", regions[rnd(&s) % 4]);
    for (i = 0; i < 3; i++)
        add_stockout(sc, &s);
    snprintf(sc->api.loc, sizeof(sc->api.loc), "%s", regions[rnd(&s) % 4]);
    sc->api.from = floor(rnd_in(&s, 0, 2 * 3600));
    sc->api.until = sc->api.from + 1800;
    sc->bad[sc->nbad++] = sc->api;
    j = 1 + (int)(rnd(&s) % NJOBS);
    add_act(sc, floor(rnd_in(&s, 0, 3 * 3600)), ACT_CANCEL, j)->arg[0] = '2'; /* twice */
    add_act(sc, floor(rnd_in(&s, 0, 3 * 3600)), ACT_CANCEL, 1 + (int)(rnd(&s) % NJOBS));
    qsort(sc->acts, sc->nacts, sizeof(sc->acts[0]), by_time);
}

/* ---- one run ---- */

/* Checked at every commit: carried work never goes down, an ended job never
 * comes back. */
struct tracker {
    double work[NJOBS + 1];
    int state[NJOBS + 1];
    struct chk *chk;
};

static void track_commit(struct st *w, uint64_t k, void *ctx)
{
    struct tracker *tr = ctx;
    struct store_job *v = NULL;
    struct err e;
    size_t i, n = 0;

    err_clear(&e);
    if (store_job_list(w->store, 0, &v, &n, &e) != 0)
        return;
    for (i = 0; i < n; i++) {
        int64_t id = v[i].id;

        if (id < 1 || id > NJOBS)
            continue;
        if (v[i].work_done_s < tr->work[id] - 1e-9)
            chk_add(tr->chk,
                    "commit %llu: job %lld's carried work went from %.0f s to %.0f s",
                    (unsigned long long)k, (long long)id, tr->work[id], v[i].work_done_s);
        if (job_state_terminal(tr->state[id]) && v[i].state != tr->state[id])
            chk_add(tr->chk, "commit %llu: job %lld left %s for %s",
                    (unsigned long long)k, (long long)id, job_state_name(tr->state[id]),
                    job_state_name(v[i].state));
        tr->work[id] = v[i].work_done_s;
        tr->state[id] = v[i].state;
    }
    store_jobs_free(v, n);
}

struct faults {
    uint64_t kill_k;
    int kill_after;
    uint64_t fail_write, fail_commit;
    uint64_t fail_writes; /* writes failed from fail_write on (0 = 1) */
};

/* Odd jobs run under a policy with patience: they may park waiting for a
 * place the other jobs hold (sched_place.c), across kills and failed writes. */
static const char *const PATIENT = "rules:\n  - name: patient\n    patience: 1x\n";

static void do_act(struct st *w, const struct act *a)
{
    switch (a->kind) {
    case ACT_SUBMIT:
        break; /* by run_scenario: it knows the spec */
    case ACT_PREEMPT_JOB:
        st_inject(w, "preempt-job", a->arg); /* ENOTFOUND when not running: fine */
        break;
    case ACT_PREEMPT_LOC:
        st_inject(w, "preempt-location", a->arg);
        break;
    case ACT_STOCKOUT:
        st_inject(w, "stockout", a->arg);
        break;
    case ACT_CANCEL:
        st_cancel(w, a->job);
        if (a->arg[0] == '2')
            st_cancel(w, a->job);
        break;
    }
}

static void run_scenario(struct st *w, const struct scenario *sc, const struct faults *f,
                         struct tracker *tr)
{
    size_t i;

    st_init(w, NULL);
    w->p.cfg.deadline_rule = 0; /* test_deadline.c's; here it only adds steps */
    w->capacity_unknown = sc->capacity_unknown;
    /* Two gangs of two fill spot H100: the third one displaces or waits. */
    st_set_capacity(w, "gcp", "us-central1", "a3-highgpu-8g", 4, 2);
    st_set_capacity(w, "gcp", "europe-west4", "a3-highgpu-8g", 4, 2);
    st_set_capacity(w, "azure", "eastus", "Standard_ND96isr_H100_v5", 4, 0);
    /* One node of the cheap L4 spot: the patient jobs park waiting for it. */
    st_set_capacity(w, "gcp", "us-central1", "g2-standard-48", 64, 1);
    st_fail_launches(w, sc->api.loc, ST_EIO, ST_T0 + sc->api.until);
    w->fails[0].from = ST_T0 + sc->api.from;
    w->on_commit = track_commit;
    w->on_commit_ctx = tr;
    if (f->kill_k)
        st_kill_at_commit(w, f->kill_k, f->kill_after);
    w->fault->fail_write = f->fail_write;
    w->fault->fail_writes = f->fail_writes;
    w->fault->fail_commit = f->fail_commit;
    st_start(w);
    for (i = 0; i < sc->nacts; i++) {
        const struct act *a = &sc->acts[i];

        st_run_to(w, ST_T0 + a->t);
        if (a->kind == ACT_SUBMIT)
            BUG_ON(st_submit_policy(w, sc->spec[a->job], a->job % 2 ? PATIENT : NULL) !=
                   a->job);
        else
            do_act(w, a);
    }
    st_run_all(w, T_END);
}

/* ---- the invariants after a run ---- */

static int bad_at(const struct scenario *sc, const char *region, double t)
{
    size_t i;

    for (i = 0; i < sc->nbad; i++)
        if (strcmp(sc->bad[i].loc, region) == 0 && t >= ST_T0 + sc->bad[i].from &&
            t < ST_T0 + sc->bad[i].until + COOLDOWN + 1)
            return 1;
    return 0;
}

/* eager-next-region: the attempt after a preemption avoids that region
 * when the other L4 region was free. */
static void check_eager(const struct scenario *sc, const struct store_attempt *prev,
                        const struct store_attempt *next, struct chk *c)
{
    char from[64], to[64];
    const char *other;

    if (prev->end_reason != ATT_END_PREEMPTED || next == NULL)
        return;
    snprintf(from, sizeof(from), "%s/%s", prev->cloud, prev->region);
    snprintf(to, sizeof(to), "%s/%s", next->cloud, next->region);
    other = strcmp(from, "gcp/us-central1") == 0 ? "gcp/europe-west4" : "gcp/us-central1";
    if (strcmp(from, to) == 0 && !bad_at(sc, other, next->launched_at))
        chk_add(c,
                "job %lld (eager-next-region): attempt %d preempted in %s, attempt %d "
                "relaunched there at t=%.0f though %s was free",
                (long long)prev->job_id, prev->n, from, next->n,
                next->launched_at - ST_T0, other);
}

/* The attempts of one job, in order. */
static void check_attempts(struct st *w, const struct scenario *sc,
                           const struct store_job *j, struct chk *c)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t i, n = 0;
    double sum = 0;
    int64_t ran = 0; /* the newest attempt so far that ran */
    int ckpt = tpl_checkpoints(sc->tpl[j->id]);

    err_clear(&e);
    if (store_attempt_list(w->store, j->id, &v, &n, &e) != 0) {
        chk_add(c, "job %lld: %s", (long long)j->id, e.msg);
        return;
    }
    for (i = 0; i < n; i++) {
        const struct store_attempt *a = &v[i];
        double world = st_world_cost(w, a->id, a->price_hour);

        if (a->ckpt_from != (ckpt ? ran : 0))
            chk_add(c, "job %lld attempt %d: starts from attempt id %lld, expected %lld",
                    (long long)j->id, a->n, (long long)a->ckpt_from,
                    (long long)(ckpt ? ran : 0));
        if (a->state != ATT_ENDED)
            chk_add(c, "job %lld attempt %d: still %d after the job ended",
                    (long long)j->id, a->n, a->state);
        if (fabs(world - a->cost) > 1e-6)
            chk_add(c, "job %lld attempt %d (%s/%s): billed $%.6f, the world ran $%.6f",
                    (long long)j->id, a->n, a->cloud, a->region, a->cost, world);
        if (sc->tpl[j->id] == 0 && i + 1 < n)
            check_eager(sc, a, &v[i + 1], c);
        ran = a->running_at > 0 ? a->id : ran;
        sum += a->cost;
    }
    if (fabs(sum - j->cost) > 1e-6)
        chk_add(c, "job %lld: billed $%.6f, its attempts $%.6f", (long long)j->id,
                j->cost, sum);
    store_attempts_free(v, n);
}

/* CRASHPOINTS_TRACE=1: print every run's attempts and the world's view. */
static void trace_run(struct st *w)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t i, n = 0;

    if (getenv("CRASHPOINTS_TRACE") == NULL)
        return;
    printf("  %llu steps, %llu commits, %llu writes, %llu kills\n",
           (unsigned long long)w->steps, (unsigned long long)w->fault->commits,
           (unsigned long long)w->fault->writes, (unsigned long long)w->kills);
    err_clear(&e);
    if (store_attempt_list(w->store, -1, &v, &n, &e) != 0)
        return;
    for (i = 0; i < n; i++) {
        const struct st_att *r = st_att_at(w, v[i].id);

        printf(
            "  att %lld job %lld n %d %s/%s mode %d launched %.0f run %.0f end %.0f (%s) "
            "$%.4f | world: launches %d run %.0f end %.0f live %d\n",
            (long long)v[i].id, (long long)v[i].job_id, v[i].n, v[i].cloud, v[i].region,
            v[i].mode, v[i].launched_at - ST_T0,
            v[i].running_at ? v[i].running_at - ST_T0 : 0,
            v[i].ended_at ? v[i].ended_at - ST_T0 : 0, attempt_end_name(v[i].end_reason),
            v[i].cost, r->launches, r->running_at ? r->running_at - ST_T0 : 0,
            r->ended_at ? r->ended_at - ST_T0 : 0, r->live);
    }
    store_attempts_free(v, n);
}

static void check_run(struct st *w, const struct scenario *sc, struct chk *c)
{
    struct store_request *r = NULL;
    struct err e;
    size_t i, n = 0;
    int64_t id;

    for (id = 1; id <= NJOBS; id++) {
        struct store_job j = st_job(w, id);
        size_t ends = st_terminal_events(w, id);

        if (!job_state_terminal(j.state))
            chk_add(c, "job %lld still %s at the end (%s)", (long long)id,
                    job_state_name(j.state), j.reason ? j.reason : "");
        else if (ends != 1)
            chk_add(c, "job %lld ended %zu times", (long long)id, ends);
        check_attempts(w, sc, &j, c);
        store_job_clear(&j);
    }
    if (w->violations)
        chk_add(c, "%s", w->violation);
    for (i = 1; i < w->natt; i++)
        if (w->att[i].live)
            chk_add(
                c,
                "attempt %zu of job %lld still runs in the world after every job ended",
                i, (long long)w->att[i].job);
    err_clear(&e);
    if (store_request_take(w->store, &r, &n, &e) == 0 && n > 0)
        chk_add(c, "%zu request(s) never consumed", n);
    store_requests_free(r, n);
}

/* ---- one run, and batches of runs in child processes ---- */

/* The outcome of one run (written whole through a pipe: < PIPE_BUF). */
struct result {
    uint32_t run; /* index in its batch */
    uint32_t violations;
    uint64_t commits, writes;
    uint32_t ends[ATT_END__N]; /* attempts by how they ended */
    char first[MSG_MAX];       /* the first violation */
};

static void count_ends(struct st *w, struct result *r)
{
    struct store_attempt *v = NULL;
    struct err e;
    size_t i, n = 0;

    err_clear(&e);
    if (store_attempt_list(w->store, -1, &v, &n, &e) != 0)
        return;
    for (i = 0; i < n; i++)
        if (v[i].end_reason >= 0 && v[i].end_reason < ATT_END__N)
            r->ends[v[i].end_reason]++;
    store_attempts_free(v, n);
}

/* Run with the given faults and check the invariants. */
static void one_run(const struct scenario *sc, const struct faults *f, struct result *r)
{
    struct chk c = {0, ""};
    struct tracker tr;
    struct st w;

    memset(&tr, 0, sizeof(tr));
    tr.chk = &c;
    if (getenv("CRASHPOINTS_VERBOSE"))
        printf("run: seed %llu kill %llu after %d fail write %llu commit %llu\n",
               (unsigned long long)sc->seed, (unsigned long long)f->kill_k, f->kill_after,
               (unsigned long long)f->fail_write, (unsigned long long)f->fail_commit);
    run_scenario(&w, sc, f, &tr);
    trace_run(&w);
    check_run(&w, sc, &c);
    if (f->kill_k && w.kills != 1)
        chk_add(&c, "the controller was killed %llu times, not once",
                (unsigned long long)w.kills);
    count_ends(&w, r);
    r->violations = (uint32_t)c.n;
    r->commits = w.fault->commits;
    r->writes = w.fault->writes;
    snprintf(r->first, sizeof(r->first), "%s", c.first);
    st_free(&w);
}

static size_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);

        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

/* Runs from..n in a child, each outcome written to fd as it is known. */
static void batch_child(const struct scenario *sc, const struct faults *fv, size_t from,
                        size_t n, int fd)
{
    size_t i;

    for (i = from; i < n; i++) {
        struct result r;

        memset(&r, 0, sizeof(r));
        r.run = (uint32_t)i;
        one_run(sc, &fv[i], &r);
        if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(3);
    }
    fflush(NULL);
    _exit(0);
}

/* Run fv[0..n) and fill res[0..n).  The runs go on in child processes: a
 * BUG_ON (abort) in the controller ends only its child, its run counts as
 * a violation, and a new child goes on with the next run. */
static void run_batch(const struct scenario *sc, const struct faults *fv, size_t n,
                      struct result *res)
{
    size_t next = 0;

    while (next < n) {
        struct result r;
        int fd[2], status = 0;
        pid_t pid;

        BUG_ON(pipe(fd) != 0);
        fflush(NULL);
        pid = fork();
        BUG_ON(pid < 0);
        if (pid == 0) {
            close(fd[0]);
            batch_child(sc, fv, next, n, fd[1]);
        }
        close(fd[1]);
        while (read_full(fd[0], &r, sizeof(r)) == sizeof(r) && r.run < n) {
            res[r.run] = r;
            next = r.run + 1;
        }
        close(fd[0]);
        BUG_ON(waitpid(pid, &status, 0) != pid);
        if (next < n && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            memset(&res[next], 0, sizeof(res[next]));
            res[next].violations = 1;
            snprintf(res[next].first, sizeof(res[next].first),
                     "the controller died (%s %d: a BUG_ON or a sanitizer)",
                     WIFSIGNALED(status) ? "signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            next++;
        }
    }
}

/* ---- the sweeps ---- */

/* Seeds per sweep.  Under AddressSanitizer a run costs some 20 to 40 times
 * more (12-25 ms instead of 0.6 ms on a loaded two-core machine): one seed
 * keeps the binary within its 20 s there; the full sweep runs in other
 * builds. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SEEDS 1
#define WRITE_STRIDE 2 /* and every other write */
#else
#define DEFAULT_SEEDS 8
#define WRITE_STRIDE 1
#endif

static unsigned long seeds(void)
{
    const char *v = getenv("CRASHPOINTS_SEEDS");

    return v && atol(v) > 0 ? (unsigned long)atol(v) : DEFAULT_SEEDS;
}

struct tally {
    unsigned long runs, bad, shown;
    unsigned long ends[ATT_END__N]; /* of the runs without faults */
};

static void note(struct tally *t, const struct result *r, const char *what,
                 const struct scenario *sc, uint64_t k)
{
    t->runs++;
    if (r->violations == 0)
        return;
    t->bad++;
    if (t->shown++ < 8)
        printf("  seed %llu, %s %llu: %s\n", (unsigned long long)sc->seed, what,
               (unsigned long long)k, r->first);
}

/* The run without faults: how many commits and writes it makes. */
static void reference(const struct scenario *sc, struct tally *t, struct result *r)
{
    struct faults none = {0, 0, 0, 0, 0};
    int i;

    run_batch(sc, &none, 1, r);
    for (i = 0; i < ATT_END__N; i++)
        t->ends[i] += r->ends[i];
    if (r->violations)
        printf("  seed %llu, without faults: %s\n", (unsigned long long)sc->seed,
               r->first);
}

static void print_coverage(const struct tally *t)
{
    int i;

    printf("attempts in the runs without faults:");
    for (i = 0; i < ATT_END__N; i++)
        printf(" %s %lu", attempt_end_name(i), t->ends[i]);
    printf("\n");
}

/* CRASHPOINTS_ONE="seed k after [write span]": that run alone (killed at
 * commit k, 0 = not killed; writes write.. failed), in this process (to look
 * at a violation, with CRASHPOINTS_TRACE=1 or under a debugger). */
static int one_only(void)
{
    const char *v = getenv("CRASHPOINTS_ONE");
    unsigned long long seed, k, fw = 0, span = 0;
    int after;
    struct scenario sc;
    struct faults f = {0, 0, 0, 0, 0};
    struct result r;

    if (v == NULL ||
        sscanf(v, "%llu %llu %d %llu %llu", &seed, &k, &after, &fw, &span) < 3)
        return 0;
    make_scenario(&sc, seed);
    f.kill_k = k;
    f.kill_after = after;
    f.fail_write = fw;
    f.fail_writes = span;
    memset(&r, 0, sizeof(r));
    one_run(&sc, &f, &r);
    printf("seed %llu kill %llu after %d: %u violation(s) %s\n", seed, k, after,
           r.violations, r.first);
    return 1;
}

static void crash_sweep(const struct scenario *sc, struct tally *t)
{
    struct result ref, *res;
    struct faults *fv;
    size_t i, n;

    reference(sc, t, &ref);
    n = 2 * ref.commits;
    fv = xcalloc(n + 1, sizeof(*fv));
    res = xcalloc(n + 1, sizeof(*res));
    for (i = 0; i < n; i++) {
        fv[i].kill_k = i / 2 + 1;
        fv[i].kill_after = (int)(i % 2);
    }
    run_batch(sc, fv, n, res);
    for (i = 0; i < n; i++)
        note(t, &res[i],
             fv[i].kill_after ? "killed just after commit" : "killed just before commit",
             sc, fv[i].kill_k);
    free(fv);
    free(res);
}

static void test_crash_at_every_commit(void **state)
{
    struct tally t;
    unsigned long s;

    (void)state;
    if (one_only())
        return;
    memset(&t, 0, sizeof(t));
    for (s = 1; s <= seeds(); s++) {
        struct scenario sc;

        make_scenario(&sc, s);
        crash_sweep(&sc, &t);
    }
    print_coverage(&t);
    printf("crash points: %lu, invariant violations: %lu\n", t.runs, t.bad);
    assert_int_equal(t.bad, 0);
}

#define DISK_FULL_WRITES 40 /* a disk full for a while: this many writes fail */

/* Fail each write in turn (n in 1..writes, every WRITE_STRIDE-th), then
 * each commit, then a run of DISK_FULL_WRITES writes from every 10th write. */
static void fault_sweep(const struct scenario *sc, struct tally *tw, struct tally *tc,
                        struct tally *tf)
{
    struct result ref, *res;
    struct faults *fv;
    size_t i, n, nw, nc;

    reference(sc, tw, &ref);
    nw = (ref.writes + WRITE_STRIDE - 1) / WRITE_STRIDE;
    nc = ref.commits;
    n = nw + nc + ref.writes / 10;
    fv = xcalloc(n + 1, sizeof(*fv));
    res = xcalloc(n + 1, sizeof(*res));
    for (i = 0; i < n; i++) {
        if (i < nw) {
            fv[i].fail_write = i * WRITE_STRIDE + 1;
        } else if (i < nw + nc) {
            fv[i].fail_commit = i - nw + 1;
        } else {
            fv[i].fail_write = (i - nw - nc) * 10 + 1;
            fv[i].fail_writes = DISK_FULL_WRITES;
        }
    }
    run_batch(sc, fv, n, res);
    for (i = 0; i < n; i++) {
        if (i < nw)
            note(tw, &res[i], "failed write", sc, fv[i].fail_write);
        else if (i < nw + nc)
            note(tc, &res[i], "failed commit", sc, fv[i].fail_commit);
        else
            note(tf, &res[i], "disk full from write", sc, fv[i].fail_write);
    }
    free(fv);
    free(res);
}

static void test_failed_writes(void **state)
{
    struct tally tw, tc, tf;
    unsigned long s;

    (void)state;
    if (getenv("CRASHPOINTS_ONE"))
        return;
    memset(&tw, 0, sizeof(tw));
    memset(&tc, 0, sizeof(tc));
    memset(&tf, 0, sizeof(tf));
    for (s = 1; s <= seeds(); s++) {
        struct scenario sc;

        make_scenario(&sc, s);
        fault_sweep(&sc, &tw, &tc, &tf);
    }
    printf("failed writes: %lu, invariant violations: %lu\n", tw.runs, tw.bad);
    printf("failed commits: %lu, invariant violations: %lu\n", tc.runs, tc.bad);
    printf("disks full for %d writes: %lu, invariant violations: %lu\n", DISK_FULL_WRITES,
           tf.runs, tf.bad);
    assert_int_equal(tw.bad + tc.bad + tf.bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_at_every_commit),
        cmocka_unit_test(test_failed_writes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
