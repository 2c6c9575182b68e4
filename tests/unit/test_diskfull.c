/*
 * test_diskfull.c - the controller on a real SQLite file whose disk fills up
 * mid-run and frees again: steps fail while it is full, nothing is decided
 * that the store did not take, and once there is room every job runs to its
 * end exactly once, with bills that add up.  The disk is a small tmpfs
 * mounted for the test, so it needs root (CI runs as root); elsewhere the
 * test is skipped.  Virtual time: tests/unit/schedtest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "schedtest.h"

#define NJOBS 24
#define DAY 86400.0

/* A checkpointed spot job; a long variable between the two halves makes its
 * rows take room, so the small disk fills in a realistic way. */
static const char *const SPEC_HEAD = "name: l4\n"
                                     "resources:\n"
                                     "  accelerators: L4:4\n"
                                     "  use_spot: true\n"
                                     "run: train\n"
                                     "envs:\n"
                                     "  PAD: ";
static const char *const SPEC_TAIL = "\n"
                                     "stratus:\n"
                                     "  duration: 2h\n"
                                     "  checkpoint:\n"
                                     "    interval: 10m\n"
                                     "  recovery:\n"
                                     "    strategy: eager-next-region\n"
                                     "    max_restarts: 20\n";

struct disk {
    char dir[64];
    int mounted;
};

static int setup(void **state)
{
    struct disk *d = calloc(1, sizeof(*d));

    snprintf(d->dir, sizeof(d->dir), "/tmp/stratus-diskfull-XXXXXX");
    if (geteuid() != 0 || mkdtemp(d->dir) == NULL) {
        *state = d;
        return 0;
    }
    d->mounted = mount("tmpfs", d->dir, "tmpfs", 0, "size=768k,mode=0700") == 0;
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct disk *d = *state;

    if (d->mounted)
        umount2(d->dir, MNT_DETACH);
    if (d->dir[0] && strchr(d->dir, 'X') == NULL)
        rmdir(d->dir);
    free(d);
    return 0;
}

/* Write to path until the disk says it is full; the bytes written. */
static long fill(const char *path)
{
    static char buf[4096];
    long total = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    memset(buf, 'x', sizeof(buf));
    for (;;) {
        ssize_t n = write(fd, buf, sizeof(buf));

        if (n <= 0)
            break;
        total += n;
    }
    assert_int_equal(errno, ENOSPC);
    close(fd);
    return total;
}

static double attempts_cost(struct st *w, int64_t job)
{
    struct store_attempt *v = NULL;
    size_t i, n = 0;
    double sum = 0;
    struct err e;

    err_clear(&e);
    assert_int_equal(store_attempt_list(w->store, job, &v, &n, &e), 0);
    for (i = 0; i < n; i++)
        sum += v[i].cost;
    store_attempts_free(v, n);
    return sum;
}

static void test_disk_fills_and_frees(void **state)
{
    struct disk *d = *state;
    struct st_opts o;
    struct st w;
    char db[128], filler[128], spec[1024], pad[201];
    int64_t i;

    if (!d->mounted)
        skip(); /* needs root to mount a small tmpfs */
    snprintf(db, sizeof(db), "%s/stratus.db", d->dir);
    snprintf(filler, sizeof(filler), "%s/filler", d->dir);
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    snprintf(spec, sizeof(spec), "%s%s%s", SPEC_HEAD, pad, SPEC_TAIL);
    memset(&o, 0, sizeof(o));
    o.store_path = db;
    st_init(&w, &o);
    for (i = 0; i < NJOBS; i++)
        st_submit(&w, spec);
    st_start(&w);
    st_run_to(&w, ST_T0 + 1800);

    /* The disk fills up while jobs run, are preempted and end. */
    assert_true(fill(filler) > 0);
    st_inject(&w, "preempt-job", "3");
    st_inject(&w, "preempt-job", "7");
    st_run_to(&w, ST_T0 + 3 * 3600);
    assert_true(w.step_errors > 0);

    /* Room again: the controller carries on from what the store holds. */
    assert_int_equal(unlink(filler), 0);
    assert_true(st_run_all(&w, ST_T0 + 3 * DAY));
    for (i = 1; i <= NJOBS; i++) {
        struct store_job j = st_job(&w, i);

        assert_int_equal(j.state, JOB_SUCCEEDED);
        assert_int_equal(st_terminal_events(&w, i), 1);
        assert_true(fabs(j.cost - attempts_cost(&w, i)) < 1e-6);
        store_job_clear(&j);
    }
    if (w.violations)
        fail_msg("%lu world violation(s), first: %s", w.violations, w.violation);
    print_message("disk full for 2.5 h of a run: %lu failed steps, %d jobs all succeeded\n",
                  (unsigned long)w.step_errors, NJOBS);
    st_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_fills_and_frees, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
