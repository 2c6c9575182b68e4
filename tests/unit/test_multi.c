/*
 * test_multi.c - the multi driver (src/driver/multi.c) over two fake
 * children bound to different locations: launches routed by location (the
 * most specific binding), an unbound location with no capacity and a
 * launch error, polls merged from both, terminate / log_path / inject sent
 * to the right child, rewind and reopen, wake descriptors concatenated,
 * the children's state directories; the local driver's wake FIFO with a
 * real node supervisor; and the controller's per-location timing
 * (sched_params.cfg_at) fed from a server configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "driver/local.h"
#include "driver/local_int.h"
#include "driver/multi.h"
#include "schedtest.h"
#include "server/server_conf.h"
#include "testutil.h"
#include "util/fsutil.h"

/* ---- a fake driver: records what reaches it ---- */

#define FAKE_MAX 8

struct fake {
    char tag[8];          /* its config_path: "A" or "B" */
    char home[512];       /* the cfg->home it was opened with */
    int64_t launched[16]; /* attempt ids */
    int nlaunched;
    int64_t terminated[16];
    int nterminated;
    struct driver_event pending[16]; /* what the next polls return */
    int npending;
    long cap;
    double next;
    int wake[2]; /* a pipe; wake[0] is its wake fd */
    int rewinds, injects;
    int poll_fails; /* its polls fail */
    char inject_arg[64];
    int closed;
};

static struct fake fakes[FAKE_MAX]; /* every fake opened, in order */
static int nfakes;
static int fail_open_tag_b; /* opening "B" fails */

static int fake_open(struct driver *d, const struct driver_config *cfg, struct err *e)
{
    struct fake *f = &fakes[nfakes];

    if (fail_open_tag_b && strcmp(cfg->config_path, "B") == 0)
        return err_set(e, ST_EIO, "cannot reach the cluster");
    memset(f, 0, sizeof(*f));
    snprintf(f->tag, sizeof(f->tag), "%s", cfg->config_path);
    snprintf(f->home, sizeof(f->home), "%s", cfg->home ? cfg->home : "");
    f->cap = strcmp(f->tag, "A") == 0 ? 5 : 9;
    f->next = -1;
    if (pipe(f->wake) != 0)
        return err_set(e, ST_EIO, "pipe");
    *(struct fake **)d->priv = f;
    nfakes++;
    return 0;
}

static struct fake *F(struct driver *d)
{
    return *(struct fake **)d->priv;
}

static int fake_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    struct fake *f = F(d);

    (void)e;
    f->launched[f->nlaunched++] = a->id;
    return 0;
}

static int fake_poll(struct driver *d, struct driver_event *ev, size_t max, struct err *e)
{
    struct fake *f = F(d);
    int n = 0;

    if (f->poll_fails)
        return err_set(e, ST_EIO, "slurmrestd does not answer");
    while (n < (int)max && n < f->npending) {
        ev[n] = f->pending[n];
        n++;
    }
    memmove(f->pending, f->pending + n,
            (size_t)(f->npending - n) * sizeof(f->pending[0]));
    f->npending -= n;
    return n;
}

static int fake_terminate(struct driver *d, int64_t id, struct err *e)
{
    struct fake *f = F(d);

    (void)e;
    f->terminated[f->nterminated++] = id;
    return 0;
}

static void fake_close(struct driver *d)
{
    struct fake *f = F(d);

    close(f->wake[0]);
    close(f->wake[1]);
    f->closed = 1;
}

static long fake_capacity(struct driver *d, const char *c, const char *r, const char *z,
                          const char *t)
{
    (void)c;
    (void)r;
    (void)z;
    (void)t;
    return F(d)->cap;
}

static int fake_inject(struct driver *d, const char *kind, const char *arg, struct err *e)
{
    struct fake *f = F(d);

    f->injects++;
    snprintf(f->inject_arg, sizeof(f->inject_arg), "%s %s", kind, arg);
    if (strcmp(kind, "preempt-job") == 0 && strcmp(f->tag, "A") == 0)
        return err_set(e, ST_ENOTFOUND, "job %s has no running node here", arg);
    return 0;
}

static double fake_next(struct driver *d)
{
    return F(d)->next;
}

static int fake_log_path(struct driver *d, int64_t id, int node, char *buf, size_t n)
{
    struct fake *f = F(d);
    int i;

    for (i = 0; i < f->nlaunched; i++)
        if (f->launched[i] == id) {
            snprintf(buf, n, "%s/%lld/%d", f->tag, (long long)id, node);
            return 0;
        }
    return ST_ENOTFOUND;
}

static void fake_rewind(struct driver *d)
{
    F(d)->rewinds++;
}

static int fake_wake_fds(struct driver *d, int *fds, size_t max)
{
    (void)max;
    fds[0] = F(d)->wake[0];
    return 1;
}

/* "fake" rewinds; "fake2" cannot (it is reopened instead). */
static const struct driver_ops fake_ops = {
    .name = "fake",
    .priv_size = sizeof(struct fake *),
    .open = fake_open,
    .launch = fake_launch,
    .poll = fake_poll,
    .terminate = fake_terminate,
    .close = fake_close,
    .capacity = fake_capacity,
    .inject = fake_inject,
    .next_event_in = fake_next,
    .log_path = fake_log_path,
    .rewind = fake_rewind,
    .wake_fds = fake_wake_fds,
};

static const struct driver_ops fake2_ops = {
    .name = "fake2",
    .priv_size = sizeof(struct fake *),
    .open = fake_open,
    .launch = fake_launch,
    .poll = fake_poll,
    .terminate = fake_terminate,
    .close = fake_close,
    .capacity = fake_capacity,
    .inject = fake_inject,
    .next_event_in = fake_next,
    .log_path = fake_log_path,
    .wake_fds = fake_wake_fds,
};

/* A: gcp/us-central1 alone.  B: the rest of gcp, and azure. */
static const char *const LOC_A[] = {"gcp/us-central1"};
static const char *const LOC_B[] = {"gcp", "azure/*"};

struct mw {
    struct multi_child ch[2];
    struct multi_world world;
    struct driver_config cfg;
    struct driver d;
    char *home;
    struct fake *a, *b;
};

static void mw_open(struct mw *m)
{
    struct err e;

    nfakes = 0;
    m->home = tu_mkdtemp();
    m->ch[0] = (struct multi_child){"alpha", &fake_ops, "A", LOC_A, 1, NULL};
    m->ch[1] = (struct multi_child){"beta", &fake2_ops, "B", LOC_B, 2, NULL};
    m->world = (struct multi_world){m->ch, 2, NULL, NULL};
    memset(&m->cfg, 0, sizeof(m->cfg));
    m->cfg.home = m->home;
    m->cfg.world = &m->world;
    err_clear(&e);
    if (driver_open(&m->d, &driver_multi, &m->cfg, &e) != 0)
        fail_msg("multi open: %s", e.msg);
    assert_int_equal(nfakes, 2);
    m->a = &fakes[0];
    m->b = &fakes[1];
    assert_string_equal(m->a->tag, "A");
    assert_string_equal(m->b->tag, "B");
}

static void mw_close(struct mw *m)
{
    driver_close(&m->d);
    tu_rmdir(m->home);
    free(m->home);
}

static struct attempt att_at(int64_t id, const char *cloud, const char *region)
{
    struct attempt a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    a.job_id = id;
    a.n = 1;
    a.cloud = cloud;
    a.region = region;
    a.zone = "";
    a.instance_type = "x";
    a.nodes = 1;
    return a;
}

static struct driver_event ev_of(int64_t id, enum driver_event_type t)
{
    struct driver_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = t;
    ev.attempt_id = id;
    return ev;
}

/* ---- tests ---- */

static void test_pattern_score(void **state)
{
    (void)state;
    assert_int_equal(multi_pattern_score("*", "gcp", "us-central1", ""), 1);
    assert_int_equal(multi_pattern_score("aws", "gcp", "us-central1", ""), 0);
    assert_int_equal(multi_pattern_score("gcp/europe-west4", "gcp", "us-central1", ""),
                     0);
    assert_true(multi_pattern_score("gcp", "gcp", "us-central1", "") >
                multi_pattern_score("*", "gcp", "us-central1", ""));
    assert_true(multi_pattern_score("gcp/us-*", "gcp", "us-central1", "") >
                multi_pattern_score("gcp", "gcp", "us-central1", ""));
    assert_true(multi_pattern_score("gcp/us-central1", "gcp", "us-central1", "") >
                multi_pattern_score("gcp/us-*", "gcp", "us-central1", ""));
    assert_true(
        multi_pattern_score("gcp/us-central1/us-central1-a", "gcp", "us-central1",
                            "us-central1-a") >
        multi_pattern_score("gcp/us-central1", "gcp", "us-central1", "us-central1-a"));
    assert_int_equal(multi_pattern_score("gcp/us-central1/b", "gcp", "us-central1", "a"),
                     0);
}

/* Launches go to the child the location is bound to, the most specific
 * binding winning; an unbound location is an error naming it. */
static void test_launch_routed(void **state)
{
    struct mw m;
    struct attempt a1 = att_at(1, "gcp", "us-central1"),
                   a2 = att_at(2, "gcp", "europe-west4"),
                   a3 = att_at(3, "azure", "eastus"),
                   a4 = att_at(4, "oci", "us-ashburn-1");
    struct err e;

    (void)state;
    mw_open(&m);
    err_clear(&e);
    assert_int_equal(driver_launch(&m.d, &a1, &e), 0);
    assert_int_equal(driver_launch(&m.d, &a2, &e), 0);
    assert_int_equal(driver_launch(&m.d, &a3, &e), 0);
    assert_int_equal(m.a->nlaunched, 1);
    assert_int_equal(m.a->launched[0], 1);
    assert_int_equal(m.b->nlaunched, 2);
    assert_int_equal(m.b->launched[0], 2);
    assert_int_equal(m.b->launched[1], 3);
    assert_int_equal(driver_launch(&m.d, &a4, &e), ST_EINVAL);
    assert_string_equal(
        e.msg, "location oci/us-ashburn-1 is bound to no driver (server config)");
    assert_int_equal(m.a->nlaunched + m.b->nlaunched, 3);
    assert_int_equal(multi_child_of(&m.d, "gcp", "us-central1", ""), 0);
    assert_int_equal(multi_child_of(&m.d, "gcp", "asia-east1", ""), 1);
    assert_int_equal(multi_child_of(&m.d, "oci", "us-ashburn-1", ""), -1);
    mw_close(&m);
}

static void test_capacity_routed(void **state)
{
    struct mw m;

    (void)state;
    mw_open(&m);
    assert_int_equal(driver_capacity(&m.d, "gcp", "us-central1", "", "x", 0), 5);
    assert_int_equal(driver_capacity(&m.d, "gcp", "us-central1", "", "x", 1), 5);
    assert_int_equal(driver_capacity(&m.d, "gcp", "europe-west4", "", "x", 1), 9);
    assert_int_equal(driver_capacity(&m.d, "azure", "eastus", "", "x", 0), 9);
    assert_int_equal(driver_capacity(&m.d, "oci", "us-ashburn-1", "", "x", 0), 0);
    assert_int_equal(driver_capacity(&m.d, "aws", "us-east-1", "", "x", 1), 0);
    mw_close(&m);
}

/* One poll returns both children's events; with little room, repeated
 * polls still deliver every event of both (neither child is starved). */
static void test_poll_merged(void **state)
{
    struct mw m;
    struct driver_event ev[16];
    struct err e;
    int n, i, seen[8] = {0}, total = 0, polls;
    int64_t order[8] = {0};

    (void)state;
    mw_open(&m);
    m.a->pending[m.a->npending++] = ev_of(1, DRV_EV_RUNNING);
    m.b->pending[m.b->npending++] = ev_of(2, DRV_EV_RUNNING);
    m.b->pending[m.b->npending++] = ev_of(3, DRV_EV_CAPACITY);
    err_clear(&e);
    n = driver_poll(&m.d, ev, 16, &e);
    assert_int_equal(n, 3);
    for (i = 0; i < n; i++)
        seen[ev[i].attempt_id]++;
    assert_int_equal(seen[1] + seen[2] + seen[3], 3);
    assert_int_equal(seen[1], 1);
    for (i = 0; i < 3; i++) {
        m.a->pending[m.a->npending++] = ev_of(4, DRV_EV_EXITED);
        m.b->pending[m.b->npending++] = ev_of(5, DRV_EV_EXITED);
    }
    memset(seen, 0, sizeof(seen));
    for (polls = 0; polls < 10 && total < 6; polls++) {
        n = driver_poll(&m.d, ev, 1, &e);
        assert_true(n >= 0 && n <= 1);
        for (i = 0; i < n; i++) {
            seen[ev[i].attempt_id]++;
            order[total] = ev[i].attempt_id;
        }
        total += n;
    }
    assert_true(order[0] != order[1]); /* each child in turn, not A until empty */
    assert_int_equal(seen[4], 3);
    assert_int_equal(seen[5], 3);
    assert_true(polls <= 7); /* one event a poll: no empty turns */
    mw_close(&m);
}

/* The world's on_error hook: how many failed calls, and whose the last. */
struct told {
    int n;
    char last[32];
};

static void count_failed(void *ctx, const char *driver)
{
    struct told *t = ctx;

    t->n++;
    snprintf(t->last, sizeof(t->last), "%s", driver);
}

/* A child that cannot be polled does not hold back the other's events; the
 * poll fails only when every child does and none had events.  Every failed
 * poll of a child is told to the world's owner (the server's metrics). */
static void test_poll_child_fails(void **state)
{
    struct mw m;
    struct driver_event ev[8];
    struct err e;
    struct told t = {0, ""};
    int i;

    (void)state;
    mw_open(&m);
    m.world.on_error = count_failed;
    m.world.ctx = &t;
    m.b->poll_fails = 1;
    m.a->pending[m.a->npending++] = ev_of(1, DRV_EV_RUNNING);
    err_clear(&e);
    for (i = 0; i < 2; i++) { /* whichever child comes first */
        m.a->pending[0] = ev_of(1, DRV_EV_RUNNING);
        m.a->npending = 1;
        assert_int_equal(driver_poll(&m.d, ev, 8, &e), 1);
        assert_int_equal(ev[0].attempt_id, 1);
    }
    assert_int_equal(driver_poll(&m.d, ev, 8, &e), 0); /* A quiet, B down: no error */
    assert_int_equal(t.n, 3); /* B failed each of the three polls */
    assert_string_equal(t.last, "beta");
    m.a->poll_fails = 1;
    assert_int_equal(driver_poll(&m.d, ev, 8, &e), ST_EIO);
    assert_int_equal(t.n, 5);
    assert_non_null(strstr(e.msg, ": slurmrestd does not answer"));
    assert_true(strncmp(e.msg, "driver alpha: ", 14) == 0 ||
                strncmp(e.msg, "driver beta: ", 13) == 0);
    m.a->poll_fails = m.b->poll_fails = 0;
    assert_int_equal(driver_poll(&m.d, ev, 8, &e), 0);
    assert_int_equal(t.n, 5); /* answers again: nothing more told */
    mw_close(&m);
}

/* terminate and log_path go to the child that launched (or reported) the
 * attempt; an attempt this instance never saw goes to every child. */
static void test_terminate_and_logs(void **state)
{
    struct mw m;
    struct attempt a1 = att_at(11, "gcp", "us-central1"),
                   a2 = att_at(12, "azure", "eastus");
    struct driver_event ev[4];
    char buf[64];
    struct err e;

    (void)state;
    mw_open(&m);
    err_clear(&e);
    assert_int_equal(driver_launch(&m.d, &a1, &e), 0);
    assert_int_equal(driver_launch(&m.d, &a2, &e), 0);
    assert_int_equal(driver_terminate(&m.d, 12, &e), 0);
    assert_int_equal(m.a->nterminated, 0);
    assert_int_equal(m.b->nterminated, 1);
    assert_int_equal(m.b->terminated[0], 12);
    /* unknown here (launched by an earlier server): both are asked */
    assert_int_equal(driver_terminate(&m.d, 99, &e), 0);
    assert_int_equal(m.a->nterminated, 1);
    assert_int_equal(m.b->nterminated, 2);
    /* learnt from a poll: only the child that reported it */
    m.a->pending[m.a->npending++] = ev_of(77, DRV_EV_RUNNING);
    assert_int_equal(driver_poll(&m.d, ev, 4, &e), 1);
    assert_int_equal(driver_terminate(&m.d, 77, &e), 0);
    assert_int_equal(m.a->nterminated, 2);
    assert_int_equal(m.b->nterminated, 2);
    assert_int_equal(driver_log_path(&m.d, 12, 0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "B/12/0");
    assert_int_equal(driver_log_path(&m.d, 11, 1, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "A/11/1");
    assert_int_equal(driver_log_path(&m.d, 55, 0, buf, sizeof(buf)), ST_ENOTFOUND);
    mw_close(&m);
}

static void test_inject_routed(void **state)
{
    struct mw m;
    struct err e;

    (void)state;
    mw_open(&m);
    err_clear(&e);
    assert_int_equal(driver_inject(&m.d, "stockout", "gcp/us-central1 60", &e), 0);
    assert_int_equal(m.a->injects, 1);
    assert_int_equal(m.b->injects, 0);
    assert_int_equal(driver_inject(&m.d, "preempt-location", "azure/eastus", &e), 0);
    assert_int_equal(m.b->injects, 1);
    assert_string_equal(m.b->inject_arg, "preempt-location azure/eastus");
    assert_int_equal(driver_inject(&m.d, "stockout", "oci/us-ashburn-1 60", &e),
                     ST_EINVAL);
    assert_non_null(strstr(e.msg, "bound to no driver"));
    /* a job is not a location: A does not know it, B does */
    assert_int_equal(driver_inject(&m.d, "preempt-job", "7", &e), 0);
    assert_int_equal(m.a->injects, 2);
    assert_int_equal(m.b->injects, 2);
    mw_close(&m);
}

/* The soonest child decides; wake fds of both, in order; rewind rewinds
 * the child that can and reopens the one that cannot. */
static void test_next_wake_rewind(void **state)
{
    struct mw m;
    int fds[4];
    struct fake *b_old;

    (void)state;
    mw_open(&m);
    assert_true(driver_next_event_in(&m.d) < 0);
    m.b->next = 7;
    assert_true(fabs(driver_next_event_in(&m.d) - 7) < 1e-9);
    m.a->next = 3;
    assert_true(fabs(driver_next_event_in(&m.d) - 3) < 1e-9);
    assert_int_equal(driver_wake_fds(&m.d, fds, 4), 2);
    assert_int_equal(fds[0], m.a->wake[0]);
    assert_int_equal(fds[1], m.b->wake[0]);
    assert_int_equal(driver_wake_fds(&m.d, fds, 1), 1);
    assert_int_equal(fds[0], m.a->wake[0]);
    assert_true(driver_can_rewind(&m.d));
    b_old = m.b;
    driver_rewind(&m.d);
    assert_int_equal(m.a->rewinds, 1);
    assert_int_equal(nfakes, 3);        /* B opened again ... */
    assert_int_equal(b_old->closed, 1); /* ... and the old B closed */
    assert_string_equal(fakes[2].tag, "B");
    assert_int_equal(driver_wake_fds(&m.d, fds, 4), 2);
    assert_int_equal(fds[1], fakes[2].wake[0]);
    mw_close(&m);
    assert_int_equal(fakes[2].closed, 1);
    assert_int_equal(m.a->closed, 1);
}

/* A child that cannot open fails the whole driver, naming the child, and
 * leaves nothing open. */
static void test_open_fails(void **state)
{
    struct mw m;
    struct err e;

    (void)state;
    nfakes = 0;
    m.home = tu_mkdtemp();
    m.ch[0] = (struct multi_child){"alpha", &fake_ops, "A", LOC_A, 1, NULL};
    m.ch[1] = (struct multi_child){"beta", &fake2_ops, "B", LOC_B, 2, NULL};
    m.world = (struct multi_world){m.ch, 2, NULL, NULL};
    memset(&m.cfg, 0, sizeof(m.cfg));
    m.cfg.home = m.home;
    m.cfg.world = &m.world;
    fail_open_tag_b = 1;
    err_clear(&e);
    assert_int_equal(driver_open(&m.d, &driver_multi, &m.cfg, &e), ST_EIO);
    fail_open_tag_b = 0;
    assert_string_equal(e.msg, "driver beta (fake2): cannot reach the cluster");
    assert_int_equal(nfakes, 1);
    assert_int_equal(fakes[0].closed, 1);
    m.cfg.world = NULL;
    assert_int_equal(driver_open(&m.d, &driver_multi, &m.cfg, &e), ST_EINVAL);
    tu_rmdir(m.home);
    free(m.home);
}

/* A child named after its kind, or the only one of its kind, keeps its
 * state in the home; a second child of a kind gets drivers/<name>. */
static void test_child_homes(void **state)
{
    struct mw m;
    struct err e;
    char *want;
    struct stat st;

    (void)state;
    nfakes = 0;
    m.home = tu_mkdtemp();
    m.ch[0] = (struct multi_child){"fake", &fake_ops, "A", LOC_A, 1, NULL};
    m.ch[1] = (struct multi_child){"lab-2", &fake_ops, "B", LOC_B, 2, NULL};
    m.world = (struct multi_world){m.ch, 2, NULL, NULL};
    memset(&m.cfg, 0, sizeof(m.cfg));
    m.cfg.home = m.home;
    m.cfg.world = &m.world;
    err_clear(&e);
    assert_int_equal(driver_open(&m.d, &driver_multi, &m.cfg, &e), 0);
    assert_string_equal(fakes[0].home, m.home);
    want = xasprintf("%s/drivers/lab-2", m.home);
    assert_string_equal(fakes[1].home, want);
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(want);
    driver_close(&m.d);
    /* one child of each kind: both in the home, whatever their names */
    nfakes = 0;
    m.ch[0] = (struct multi_child){"first", &fake_ops, "A", LOC_A, 1, NULL};
    m.ch[1] = (struct multi_child){"second", &fake2_ops, "B", LOC_B, 2, NULL};
    assert_int_equal(driver_open(&m.d, &driver_multi, &m.cfg, &e), 0);
    assert_string_equal(fakes[0].home, m.home);
    assert_string_equal(fakes[1].home, m.home);
    driver_close(&m.d);
    tu_rmdir(m.home);
    free(m.home);
}

/* ---- the local driver's wake FIFO ---- */

static pid_t node_pid;

/* The supervisor in a child of this process (as test_local.c does). */
static int spawn_here(const char *bin, const char *node_dir, struct err *e)
{
    pid_t pid = fork();

    (void)bin;
    if (pid < 0)
        return err_set(e, ST_EINTERNAL, "fork: %s", strerror(errno));
    if (pid == 0) {
        char *log = xasprintf("%s/log", node_dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setsid();
        _exit(local_node_main(node_dir));
    }
    node_pid = pid;
    return 0;
}

/* Bytes read from fd within 60 s until want have come (or none more come). */
static int read_wakes(int fd, int want)
{
    int got = 0, i;
    char buf[16];

    for (i = 0; i < 600 && got < want; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        n = read(fd, buf, sizeof(buf));
        if (n > 0)
            got += (int)n;
    }
    return got;
}

/* A node directory of attempt 5 (local_node_wake needs only its path). */
static const char *node_dir_of(const char *home)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "%s/local/att-5/node-0", home);
    return buf;
}

/* The FIFO is made owner-only at open and given out by wake_fds; a node
 * supervisor writes to it when it starts and when it has recorded the exit. */
static void test_local_wake(void **state)
{
    char *home = tu_mkdtemp(), *fifo = xasprintf("%s/local/wake", home);
    struct driver_config cfg;
    struct driver d;
    struct attempt a = att_at(5, "gcp", "us-central1");
    struct stat st;
    struct pollfd p;
    struct err e;
    int fds[2], status;
    int (*real_spawn)(const char *, const char *, struct err *) = local_sys.spawn;

    (void)state;
    setenv("STRATUS_CGROUP", "off", 1);
    memset(&cfg, 0, sizeof(cfg));
    cfg.home = home;
    cfg.clock = &clock_wall;
    err_clear(&e);
    assert_int_equal(driver_open(&d, &driver_local, &cfg, &e), 0);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(driver_wake_fds(&d, fds, 2), 1);
    assert_int_equal(driver_wake_fds(&d, fds, 0), 0);
    p = (struct pollfd){fds[0], POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0); /* nothing yet */
    a.run = "exit 3";
    a.instance_type = "a3-highgpu-8g";
    local_sys.spawn = spawn_here;
    assert_int_equal(driver_launch(&d, &a, &e), 0);
    local_sys.spawn = real_spawn;
    /* started, then exit recorded: two bytes */
    assert_int_equal(read_wakes(fds[0], 2), 2);
    assert_int_equal(waitpid(node_pid, &status, 0), node_pid);
    driver_close(&d);
    /* opened again (a reopen after a failed step): the same descriptor,
     * still the FIFO's read end, so an event loop keeps watching it */
    assert_int_equal(driver_open(&d, &driver_local, &cfg, &e), 0);
    assert_int_equal(driver_wake_fds(&d, fds + 1, 1), 1);
    assert_int_equal(fds[1], fds[0]);
    local_node_wake(node_dir_of(home));
    assert_int_equal(read_wakes(fds[0], 1), 1);
    driver_close(&d);
    fs_remove_tree(home, &e);
    free(fifo);
    free(home);
}

/* ---- per-location timing in the controller (sched_params.cfg_at) ---- */

/* gcp's driver: 40 s cooldown and 17 s backoff; azure's: 9 s and 2 s. */
static const char *const TIMED =
    "drivers:\n"
    "  - name: local\n"
    "    driver: local\n"
    "    locations: [gcp]\n"
    "    timing: {block_cooldown: 40s, backoff_base: 17s, backoff_max: 1m}\n"
    "  - name: lab\n"
    "    driver: slurm\n"
    "    locations: [\"*\"]\n"
    "    timing: {block_cooldown: 9s, backoff_base: 2s}\n";

static const char *const H100_OD_1H = "name: h100\n"
                                      "resources:\n"
                                      "  accelerators: H100:8\n"
                                      "run: train\n"
                                      "stratus:\n"
                                      "  duration: 1h\n";

struct timed {
    char *home;
    struct srv_conf *conf;
    struct srv_cfgs *cfgs;
};

static void timed_setup(struct st *w, struct timed *t)
{
    struct err e;

    t->home = tu_mkdtemp();
    tu_write(t->home, "server.yaml", TIMED);
    err_clear(&e);
    if (srv_conf_load(NULL, t->home, w->cat, &t->conf, &e) != 0)
        fail_msg("%s", e.msg);
    srv_conf_sched_config(t->conf, &w->p.cfg);
    w->p.cfg.ckpt_root = NULL;
    t->cfgs = srv_cfgs_new(t->conf, &w->p.cfg);
    w->p.cfg_at = srv_conf_cfg_at;
    w->p.cfg_ctx = t->cfgs;
}

static void timed_free(struct timed *t)
{
    srv_cfgs_free(t->cfgs);
    srv_conf_free(t->conf);
    tu_rmdir(t->home);
    free(t->home);
}

/* The cooldown of a block at a location. */
static double block_until(struct st *w, const char *cloud, const char *region)
{
    struct store_block *b;
    size_t n, i;
    double until = 0;
    struct err e;

    if (store_block_list(w->store, ST_T0, &b, &n, &e) != 0)
        fail_msg("%s", e.msg);
    for (i = 0; i < n; i++)
        if (strcmp(b[i].cloud, cloud) == 0 && strcmp(b[i].region, region) == 0)
            until = b[i].until;
    store_blocks_free(b, n);
    return until;
}

/* gcp/us-central1's API fails the launch: the block lasts gcp's 40 s and
 * the restart waits gcp's 17 s backoff (not the base's). */
static void test_timing_per_location(void **state)
{
    struct st *w = xcalloc(1, sizeof(*w));
    struct timed t;
    struct store_job j;
    struct store_attempt a2;
    int64_t id;

    (void)state;
    st_init(w, NULL);
    timed_setup(w, &t);
    /* the base is the "*" driver's timing, with the smallest wait_retry */
    assert_true(fabs(w->p.cfg.block_cooldown_s - 9) < 1e-9);
    assert_true(fabs(w->p.cfg.backoff_base_s - 2) < 1e-9);
    st_fail_launches(w, "gcp/us-central1", ST_EIO, ST_T0 + 3600);
    id = st_submit(w, H100_OD_1H);
    st_start(w);
    assert_true(st_run_all(w, ST_T0 + 86400));
    j = st_job(w, id);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    assert_int_equal(j.restarts, 1);
    assert_true(fabs(block_until(w, "gcp", "us-central1") - (ST_T0 + 40)) < 1e-6);
    a2 = st_attempt(w, id, 2);
    assert_true(fabs(a2.launched_at - (ST_T0 + 17)) < 1e-6);
    store_attempt_clear(&a2);
    store_job_clear(&j);
    st_free(w);
    timed_free(&t);
    free(w);
}

/* The lookup itself: the most specific binding's timing, "*" for the rest. */
static void test_cfg_at_lookup(void **state)
{
    struct st *w = xcalloc(1, sizeof(*w));
    struct timed t;

    (void)state;
    st_init(w, NULL);
    timed_setup(w, &t);
    assert_true(fabs(srv_conf_cfg_at(t.cfgs, "gcp", "europe-west4")->block_cooldown_s -
                     40) < 1e-9);
    assert_true(fabs(srv_conf_cfg_at(t.cfgs, "gcp", "us-central1")->backoff_max_s - 60) <
                1e-9);
    assert_true(fabs(srv_conf_cfg_at(t.cfgs, "azure", "eastus")->block_cooldown_s - 9) <
                1e-9);
    assert_true(fabs(srv_conf_cfg_at(t.cfgs, "azure", "eastus")->backoff_base_s - 2) <
                1e-9);
    /* slurm's default backoff_max, relaunch overhead from the kind */
    assert_true(fabs(srv_conf_cfg_at(t.cfgs, "oci", "x")->backoff_max_s - 300) < 1e-9);
    st_free(w);
    timed_free(&t);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_score),
        cmocka_unit_test(test_launch_routed),
        cmocka_unit_test(test_capacity_routed),
        cmocka_unit_test(test_poll_merged),
        cmocka_unit_test(test_poll_child_fails),
        cmocka_unit_test(test_terminate_and_logs),
        cmocka_unit_test(test_inject_routed),
        cmocka_unit_test(test_next_wake_rewind),
        cmocka_unit_test(test_open_fails),
        cmocka_unit_test(test_child_homes),
        cmocka_unit_test(test_local_wake),
        cmocka_unit_test(test_timing_per_location),
        cmocka_unit_test(test_cfg_at_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
