/*
 * test_controller_pid.c - which process is a home's server
 * (cli_controller_pid, src/cli/cli_common.c): the process the pid file
 * names, if it holds the flock on controller.lock.  Found every time while
 * other processes take and drop thousands of locks (the kernel's table of
 * locks, read a page at a time, missed it in about 3% of reads then, and
 * `controller stop` returned while the server still answered); not found
 * for a process that has ended, for one that only waits for the lock, for
 * a stranger with no lock, or for a holder of a lock on another file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/xmem.h"

#define CHURNERS 6
#define CHURN_FILES 40

static char home[64];

static void write_pid(pid_t pid)
{
    char *path = xasprintf("%s/controller.pid", home);
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fprintf(fp, "%ld\n", (long)pid);
    fclose(fp);
    free(path);
}

/* A child that flocks `name` in the home (blocking: it may wait behind
 * another) and then sleeps until killed; returns once it holds the lock,
 * or at once when `wait_for_it` is 0. */
static pid_t locker(const char *name, int wait_for_it)
{
    int p[2];
    pid_t pid;
    char c;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *path = xasprintf("%s/%s", home, name);
        int fd = open(path, O_RDWR | O_CREAT, 0600);

        close(p[0]);
        signal(SIGPIPE, SIG_IGN); /* nobody may read: a waiter's parent went on */
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        (void)!write(p[1], "x", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    if (wait_for_it)
        assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static void end(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A child that takes and drops POSIX locks on files of its own for ever:
 * the kernel's table of locks changes all the time. */
static pid_t churner(int k)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd[CHURN_FILES], i;
        struct flock fl;

        for (i = 0; i < CHURN_FILES; i++) {
            char *path = xasprintf("%s/churn-%d-%d", home, k, i);

            fd[i] = open(path, O_RDWR | O_CREAT, 0600);
            if (fd[i] < 0)
                _exit(1);
        }
        memset(&fl, 0, sizeof(fl));
        fl.l_whence = SEEK_SET;
        for (;;) {
            fl.l_type = F_WRLCK;
            for (i = 0; i < CHURN_FILES; i++)
                fcntl(fd[i], F_SETLK, &fl);
            fl.l_type = F_UNLCK;
            for (i = 0; i < CHURN_FILES; i++)
                fcntl(fd[i], F_SETLK, &fl);
        }
    }
    return pid;
}

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof(home), "/tmp/stratus-cpid-XXXXXX");
    assert_non_null(mkdtemp(home));
    return 0;
}

static int teardown(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", home);

    (void)state;
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static void test_holder_found_while_locks_churn(void **state)
{
    pid_t holder, churn[CHURNERS];
    int i, missed = 0;

    (void)state;
    holder = locker("controller.lock", 1);
    write_pid(holder);
    for (i = 0; i < CHURNERS; i++)
        churn[i] = churner(i);
    for (i = 0; i < 3000; i++)
        missed += cli_controller_pid(home) != holder;
    for (i = 0; i < CHURNERS; i++)
        end(churn[i]);
    end(holder);
    assert_int_equal(missed, 0);
    assert_int_equal(cli_controller_pid(home), 0); /* ended: no server */
}

static void test_not_holders(void **state)
{
    pid_t holder, waiter, other;

    (void)state;
    holder = locker("controller.lock", 1);
    waiter = locker("controller.lock", 0); /* blocks behind the holder */
    other = locker("other.lock", 1);
    usleep(100000); /* the waiter is in flock() or about to be: either way it holds
                       nothing */
    write_pid(waiter);
    assert_int_equal(cli_controller_pid(home), 0);
    write_pid(other);
    assert_int_equal(cli_controller_pid(home), 0);
    write_pid(getpid()); /* alive, no lock */
    assert_int_equal(cli_controller_pid(home), 0);
    write_pid(holder);
    assert_int_equal(cli_controller_pid(home), holder);
    end(holder); /* the waiter takes the lock now */
    write_pid(waiter);
    for (int i = 0; i < 2000 && cli_controller_pid(home) != waiter; i++)
        usleep(10000);
    assert_int_equal(cli_controller_pid(home), waiter);
    end(waiter);
    end(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_holder_found_while_locks_churn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_holders, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
