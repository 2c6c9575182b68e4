/*
 * cli_common.c - what every subcommand shares: exit codes, error printing.
 */
#include "cli/cli.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/strutil.h"
#include "util/xmem.h"

#ifndef STRATUS_VERSION
#define STRATUS_VERSION "dev"
#endif

const char *cli_version(void)
{
    return STRATUS_VERSION;
}

int cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return 0;
    case ST_EINFEASIBLE:
    case ST_ECAPACITY:
    case ST_ENOTFOUND:
        return 1;
    case ST_EIO: /* almost always a missing or unreadable input file */
    case ST_EPARSE:
    case ST_EINVAL:
    case ST_EUSAGE:
    case ST_ETOOBIG:
    case ST_EEXISTS:
    case ST_ESTATE:
        return 2;
    default:
        return 3;
    }
}

int cli_fail(const struct err *e)
{
    fprintf(stderr, "stratus: %s\n", e->msg[0] ? e->msg : err_str(e->code));
    return cli_exit_code(e->code);
}

int cli_load_catalog(const char *dir, struct catalog **out)
{
    char *d = dir ? NULL : catalog_default_dir(NULL);
    struct err e;
    int rc;

    err_clear(&e);
    rc = catalog_load(out, dir ? dir : d, &e);
    free(d);
    if (rc != 0)
        return cli_fail(&e);
    return 0;
}

char *cli_home(void)
{
    const char *h = getenv("STRATUS_HOME");
    char *home;
    struct err e;

    if (h && *h)
        home = xstrdup(h);
    else
        home = xasprintf("%s/.stratus", getenv("HOME") ? getenv("HOME") : ".");
    if (fs_mkdirs(home, 0700, &e) != 0)
        fprintf(stderr, "stratus: %s\n", e.msg);
    return home;
}

int cli_open_store(struct store **out)
{
    char *home = cli_home(), *path = xasprintf("%s/stratus.db", home);
    struct err e;
    int rc;

    err_clear(&e);
    rc = store_open(out, path, &e);
    free(home);
    free(path);
    return rc == 0 ? 0 : cli_fail(&e);
}

/* Is the lock held by someone (1), or free (0)?  Testing takes the lock for
 * a moment, so another command testing at the same time can see it held. */
static int lock_held(const char *lock)
{
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600), held;

    if (fd < 0)
        return 0;
    held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd); /* closing drops a lock we took just to test */
    return held;
}

static pid_t read_pid(const char *pidf)
{
    FILE *fp = fopen(pidf, "r");
    long v = 0;

    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%ld", &v) != 1)
        v = 0;
    fclose(fp);
    return (pid_t)v;
}

/* The pid of the running controller, or 0.  The lock says whether one runs;
 * the pid file says which, and a live pid confirms it (a held lock with a
 * dead pid is another command testing the lock, or a controller that has not
 * yet written its pid: look again for a moment). */
static pid_t controller_pid(const char *home)
{
    char *lock = xasprintf("%s/controller.lock", home), *pidf = xasprintf("%s/controller.pid", home);
    pid_t pid = 0;
    int i;

    for (i = 0; i < 50 && lock_held(lock); i++) {
        pid = read_pid(pidf);
        if (pid > 0 && kill(pid, 0) == 0)
            break;
        pid = 0;
        clock_sleep(0.01);
    }
    free(lock);
    free(pidf);
    return pid;
}

void cli_poke_controller(void)
{
    char *home = cli_home();
    pid_t pid = controller_pid(home);

    if (pid > 0)
        kill(pid, SIGUSR1);
    free(home);
}

/* Double fork so the controller is nobody's child and outlives this command. */
static void spawn_controller(const char *home)
{
    char *log = xasprintf("%s/controller.log", home);
    pid_t pid = fork();

    if (pid == 0) {
        int fd;

        setsid();
        if (fork() != 0)
            _exit(0);
        fd = open("/dev/null", O_RDONLY);
        dup2(fd, 0);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("/proc/self/exe", "stratus", "controller", "run", (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    free(log);
}

int cli_ensure_controller(void)
{
    char *home = cli_home();
    pid_t pid = controller_pid(home);
    int i;

    /* STRATUS_NO_AUTOSTART: only file the work (tests that start the
     * controller themselves, batch submissions). */
    if (pid <= 0 && getenv("STRATUS_NO_AUTOSTART") != NULL) {
        free(home);
        return 0;
    }
    if (pid <= 0) {
        spawn_controller(home);
        for (i = 0; i < 200 && (pid = controller_pid(home)) <= 0; i++)
            clock_sleep(0.01);
    }
    free(home);
    if (pid <= 0) {
        fprintf(stderr, "stratus: the controller did not start; see $STRATUS_HOME/controller.log\n");
        return 3;
    }
    kill(pid, SIGUSR1);
    return 0;
}

long long cli_job_id(const char *s)
{
    long v;

    if (s == NULL || str_to_long(s, 1, 0x7fffffffL, &v) != 0) {
        fprintf(stderr, "stratus: '%s' is not a job id (a positive number; 'stratus queue' lists them)\n",
                s ? s : "");
        return -1;
    }
    return v;
}

char *cli_policy_path(const char *given)
{
    const char *env = getenv("STRATUS_POLICY");
    char *home, *p;

    if (given)
        return xstrdup(given);
    if (env && *env)
        return xstrdup(env);
    home = cli_home();
    p = xasprintf("%s/policy.yaml", home);
    free(home);
    if (access(p, R_OK) == 0)
        return p;
    free(p);
    return NULL;
}

const struct driver_ops *cli_driver_ops(void)
{
    const char *name = getenv("STRATUS_DRIVER");
    const struct driver_ops *ops;

    if (name == NULL || *name == '\0')
        return &driver_local;
    ops = driver_find(name);
    if (ops == NULL) {
        fprintf(stderr, "stratus: unknown driver '%s' in STRATUS_DRIVER; using local\n", name);
        return &driver_local;
    }
    return ops;
}
