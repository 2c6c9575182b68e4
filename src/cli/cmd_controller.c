/*
 * cmd_controller.c - `stratus controller run|stop|status`: the one background
 * controller per $STRATUS_HOME.
 *
 * `run` takes an exclusive flock on $STRATUS_HOME/controller.lock for its
 * whole life (a second one exits at once), writes controller.pid, opens the
 * store, the catalog and the driver, and runs sched_step() until
 * SIGTERM or SIGINT.  The driver is $STRATUS_DRIVER's (cli_driver_ops); its
 * configuration is the file its ops name in $STRATUS_HOME (config_name); it
 * and the checkpoints keep their state in the store's own directory
 * (cli_state_dir: $STRATUS_HOME/state/<store id>).
 * Between steps it waits in sigtimedwait() for at most the time the
 * controller asked for; SIGUSR1 from the command line wakes it
 * at once when a job or request arrives.  Other commands start it on demand
 * (cli_ensure_controller), so users rarely type this.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "sched/sched.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xmem.h"

struct daemon {
    char *home;
    int lock_fd;
    struct store *st;
    struct catalog *cat;
    struct driver drv;
    struct driver_config dcfg;
    struct sched *sched;
    char *driver_conf, *ckpt_root; /* driver_conf: NULL when the driver names none */
    char *state_dir;               /* the store's artefacts (cli_state_dir) */
    dev_t db_dev;                  /* the database file this controller opened ... */
    ino_t db_ino;                  /* ... (a removed or replaced one ends it) */
};

/* Write "pid\n" to home/name, owner-only, replacing it atomically. */
static int write_pid_file(const char *home, const char *name, struct err *e)
{
    char *path = xasprintf("%s/%s", home, name), *tmp = xasprintf("%s.tmp", path);
    char buf[32];
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600), rc = 0;
    int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (fd < 0 || write(fd, buf, (size_t)len) != len || close(fd) != 0 || rename(tmp, path) != 0)
        rc = err_set(e, ST_EIO, "cannot write %s: %s", path, strerror(errno));
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    free(path);
    free(tmp);
    return rc;
}

/* Take the controller lock and write the pid file.  1 when another
 * controller holds the lock (not an error: it does the work), 0 when taken,
 * or an error when the lock cannot be had for any other reason (a read-only
 * or foreign home, a lock path that is not a file): that must not pass for
 * "a controller already runs". */
static int take_lock(struct daemon *d, struct err *e)
{
    char *lock = xasprintf("%s/controller.lock", d->home), *ready;
    int rc = 0;

    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (d->lock_fd < 0)
        rc = err_set(e, ST_EIO, "cannot create the controller lock %s: %s", lock, strerror(errno));
    else if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0)
        rc = errno == EWOULDBLOCK ? 1
                                  : err_set(e, ST_EIO, "cannot lock %s: %s", lock, strerror(errno));
    free(lock);
    if (rc != 0)
        return rc;
    fchmod(d->lock_fd, 0600); /* a lock from before homes were owner-only */
    /* No "caught up" mark from a previous controller may stand for ours. */
    ready = xasprintf("%s/controller.ready", d->home);
    unlink(ready);
    free(ready);
    return write_pid_file(d->home, "controller.pid", e);
}

/* Read a number from the environment (for tests and demos), else dflt. */
static double env_num(const char *name, double dflt)
{
    const char *s = getenv(name);
    double v;

    return s && str_to_double(s, &v) == 0 && v >= 0 ? v : dflt;
}

static void local_sched_config(struct daemon *d, struct sched_config *c)
{
    /* The local world runs in seconds, so its cooldowns and backoffs are
     * scaled down from the cloud defaults; the environment may tune them. */
    sched_config_default(c);
    c->block_cooldown_s = env_num("STRATUS_BLOCK_COOLDOWN", 30);
    c->backoff_base_s = env_num("STRATUS_BACKOFF", 1);
    c->backoff_max_s = 30;
    c->relaunch_overhead_s = env_num("STRATUS_RELAUNCH_OVERHEAD", 3);
    c->preempt_lower_priority = getenv("STRATUS_NO_DISPLACE") == NULL;
    c->wait_retry_s = env_num("STRATUS_WAIT_RETRY", 2);
    c->ckpt_root = d->ckpt_root;
}

/* The controller over the daemon's store, catalog and driver. */
static int daemon_sched_open(struct daemon *d, struct err *e)
{
    struct sched_params p;

    memset(&p, 0, sizeof(p));
    p.store = d->st;
    p.driver = &d->drv;
    p.cat = d->cat;
    p.clock = &clock_wall;
    local_sched_config(d, &p.cfg);
    return sched_open(&d->sched, &p, e);
}

static int daemon_open(struct daemon *d, struct err *e)
{
    const struct driver_ops *ops = cli_driver_ops(e);
    char *catdir = catalog_default_dir(NULL), *dbpath = xasprintf("%s/stratus.db", d->home);
    struct stat dbst;
    int rc;

    if (ops == NULL) {
        free(catdir);
        free(dbpath);
        return e->code;
    }
    if (ops->config_name)
        d->driver_conf = xasprintf("%s/%s", d->home, ops->config_name);
    rc = store_open(&d->st, dbpath, e);
    if (rc == 0 && stat(dbpath, &dbst) == 0) {
        d->db_dev = dbst.st_dev;
        d->db_ino = dbst.st_ino;
    }
    if (rc == 0)
        rc = catalog_load(&d->cat, catdir, e);
    free(catdir);
    free(dbpath);
    if (rc != 0)
        return rc;
    /* The driver's state and the checkpoints belong to this store, not to
     * the home: a new store in it must not adopt them. */
    d->state_dir = cli_state_dir(d->home, d->st);
    d->ckpt_root = xasprintf("%s/checkpoints", d->state_dir);
    d->dcfg.home = d->state_dir;
    d->dcfg.cat = d->cat;
    d->dcfg.clock = &clock_wall;
    d->dcfg.config_path = d->driver_conf;
    d->dcfg.seed = (uint64_t)env_num("STRATUS_SEED", 1);
    if ((rc = driver_open(&d->drv, ops, &d->dcfg, e)) != 0)
        return rc;
    return daemon_sched_open(d, e);
}

static void daemon_close(struct daemon *d)
{
    sched_close(d->sched);
    driver_close(&d->drv);
    catalog_free(d->cat);
    store_close(d->st);
    free(d->driver_conf);
    free(d->ckpt_root);
    free(d->state_dir);
}

/* The signals the loop waits for, blocked: from before the pid file shows,
 * since a command that sees it may send SIGUSR1 at once, and SIGUSR1's
 * default action, while daemon_open() still loads, would end the process. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigprocmask(SIG_BLOCK, set, NULL);
}

/* After a failed step: a driver that cannot hand out its last events again
 * in-process is closed and opened again (a new driver replays what was not
 * acknowledged), and the controller with it, which reloads from the store. */
static int daemon_recover(struct daemon *d, struct err *e)
{
    if (d->sched != NULL && driver_can_rewind(&d->drv))
        return 0;
    sched_close(d->sched);
    d->sched = NULL;
    if (d->drv.ops != NULL)
        driver_close(&d->drv);
    memset(&d->drv, 0, sizeof(d->drv));
    if (driver_open(&d->drv, cli_driver_ops(e), &d->dcfg, e) != 0)
        return e->code;
    return daemon_sched_open(d, e);
}

/* One step, or the recovery from a failed one; a failure (a full disk, a
 * store that cannot be written) is retried with backoff up to 30 s: the
 * store is the truth, so nothing is lost meanwhile. */
static double daemon_step(struct daemon *d, int *failures)
{
    double next = 0.5, wait;
    struct err e;
    int rc;

    err_clear(&e);
    rc = d->sched ? sched_step(d->sched, &next, &e) : -1;
    if (rc == 0 && *failures == 0)
        return next;
    if (rc != 0 && d->sched != NULL)
        log_error("step: %s", e.msg);
    if (rc != 0 || d->sched == NULL) {
        err_clear(&e);
        if (daemon_recover(d, &e) != 0) {
            log_error("reopening the controller: %s", e.msg);
            rc = -1;
        }
    }
    *failures = rc == 0 ? 0 : *failures + 1;
    wait = *failures == 0 ? 0 : 0.25 * (double)(1 << (*failures < 7 ? *failures : 7));
    return wait < 30 ? wait : 30;
}

/* After a step: once the controller has caught up with the world (a step
 * committed with no more work due at once, or after enough steps that it
 * never will be idle), write controller.ready so that a command which just
 * started it can show state that is current (cli_fresh_state). */
static void mark_ready(struct daemon *d, int ok, double next, int *steps)
{
    struct err e;

    if (*steps < 0 || !ok)
        return;
    if (next <= 0 && ++*steps < 50)
        return;
    *steps = -1;
    err_clear(&e);
    if (write_pid_file(d->home, "controller.ready", &e) != 0)
        log_error("%s", e.msg); /* commands wait for it in vain, then warn */
}

/* 1 while $STRATUS_HOME/stratus.db is still the file this controller opened.
 * Deleted (or replaced) under it, the store it writes is gone for every
 * other command: it must stop, so that the next command starts a
 * controller for the new store, which adopts nothing of the old one. */
static int store_still_ours(const struct daemon *d)
{
    char *path = xasprintf("%s/stratus.db", d->home);
    struct stat st;
    int ours = stat(path, &st) == 0 && st.st_dev == d->db_dev && st.st_ino == d->db_ino;

    free(path);
    return ours;
}

static int daemon_loop(struct daemon *d)
{
    sigset_t set;
    int failures = 0;
    int steps = 0; /* steps before the first caught-up one; -1 after */

    block_signals(&set);
    for (;;) {
        double next = daemon_step(d, &failures);
        struct timespec ts;
        int sig;

        mark_ready(d, failures == 0, next, &steps);
        if (next > 0.5 && failures == 0)
            next = 0.5;
        if (next < 0.002)
            next = 0.002;
        ts.tv_sec = (time_t)next;
        ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
        sig = sigtimedwait(&set, NULL, &ts);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ; /* node supervisors that ended, adopted as their subreaper */
        if (sig == SIGTERM || sig == SIGINT)
            return 0;
        if (!store_still_ours(d)) {
            log_error("%s/stratus.db was removed or replaced: this controller's store is "
                      "gone, so it stops (the next command starts one for the new store)",
                      d->home);
            return 0;
        }
    }
}

static int controller_run(void)
{
    struct daemon d;
    sigset_t wake;
    struct err e;
    int rc;

    memset(&d, 0, sizeof(d));
    block_signals(&wake);
    d.home = cli_home();
    err_clear(&e);
    rc = take_lock(&d, &e);
    if (rc != 0) {
        if (rc == 1)
            fprintf(stderr, "stratus: a controller already runs for %s\n", d.home);
        if (d.lock_fd >= 0)
            close(d.lock_fd);
        free(d.home);
        return rc == 1 ? 0 : cli_fail(&e);
    }
    /* Node supervisors are double-forked orphans; adopting them (and reaping
     * them in the loop) keeps finished ones from lingering as zombies when
     * the system's init does not reap promptly. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    log_set_level(LOG_INFO);
    log_info("controller %ld started for %s", (long)getpid(), d.home);
    err_clear(&e);
    rc = daemon_open(&d, &e);
    if (rc == 0)
        rc = daemon_loop(&d);
    else
        log_error("%s", e.msg);
    daemon_close(&d);
    log_info("controller %ld stopped", (long)getpid());
    free(d.home);
    return rc == 0 ? 0 : cli_exit_code(rc);
}

/* Only the process that holds the lock is the controller: a pid file left
 * by one that died may name any process now (cli_controller_pid). */
static int controller_stop(void)
{
    char *home = cli_home();
    pid_t pid = cli_controller_pid(home);
    int i;

    if (pid <= 0 || kill(pid, SIGTERM) != 0) {
        printf("no controller is running\n");
        free(home);
        return 0;
    }
    for (i = 0; i < 1000 && cli_controller_pid(home) == pid; i++)
        clock_sleep(0.01);
    free(home);
    if (i == 1000) {
        fprintf(stderr, "stratus: controller %ld did not stop within 10 s\n", (long)pid);
        return 3;
    }
    printf("controller %ld stopped\n", (long)pid);
    return 0;
}

static int run_controller(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "run") == 0)
        return controller_run();
    if (argc == 2 && strcmp(argv[1], "stop") == 0)
        return controller_stop();
    if (argc == 2 && strcmp(argv[1], "start") == 0)
        return cli_ensure_controller();
    fprintf(stderr, "usage: stratus controller run|start|stop\n"
                    "  run    run in the foreground (what the other commands start)\n"
                    "  start  start in the background unless one runs\n"
                    "  stop   stop the running controller (jobs keep running)\n"
                    "While jobs are active, status, queue, events, logs and cost start a\n"
                    "stopped controller and wait until it has caught up; with\n"
                    "STRATUS_NO_AUTOSTART set they say instead that the state may be stale.\n");
    return 2;
}

const struct cli_cmd cli_cmd_controller = {"controller",
                                           "run, start or stop the background controller",
                                           run_controller};
