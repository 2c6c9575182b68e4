/*
 * cmd_controller.c - `stratus controller run|stop|status`: the one background
 * controller per $STRATUS_HOME.
 *
 * `run` takes an exclusive flock on $STRATUS_HOME/controller.lock for its
 * whole life (a second one exits at once), writes controller.pid, opens the
 * store, the catalog and the driver, and runs sched_step() until
 * SIGTERM or SIGINT.  The driver is $STRATUS_DRIVER's (cli_driver_ops); its
 * configuration is the file its ops name in $STRATUS_HOME (config_name).
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
};

static int take_lock(struct daemon *d)
{
    char *lock = xasprintf("%s/controller.lock", d->home);
    char *pidf = xasprintf("%s/controller.pid", d->home), *tmp = xasprintf("%s.tmp", pidf);
    FILE *fp;
    int ok;

    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ok = d->lock_fd >= 0 && flock(d->lock_fd, LOCK_EX | LOCK_NB) == 0;
    if (ok && (fp = fopen(tmp, "w")) != NULL) {
        fprintf(fp, "%ld\n", (long)getpid());
        fclose(fp);
        ok = rename(tmp, pidf) == 0;
    }
    free(lock);
    free(pidf);
    free(tmp);
    return ok;
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

static int daemon_open(struct daemon *d, struct err *e)
{
    const struct driver_ops *ops = cli_driver_ops();
    struct sched_params p;
    char *catdir = catalog_default_dir(NULL), *dbpath = xasprintf("%s/stratus.db", d->home);
    int rc;

    if (ops->config_name)
        d->driver_conf = xasprintf("%s/%s", d->home, ops->config_name);
    d->ckpt_root = xasprintf("%s/checkpoints", d->home);
    rc = store_open(&d->st, dbpath, e);
    if (rc == 0)
        rc = catalog_load(&d->cat, catdir, e);
    free(catdir);
    free(dbpath);
    if (rc != 0)
        return rc;
    d->dcfg.home = d->home;
    d->dcfg.cat = d->cat;
    d->dcfg.clock = &clock_wall;
    d->dcfg.config_path =
        d->driver_conf && access(d->driver_conf, R_OK) == 0 ? d->driver_conf : NULL;
    d->dcfg.seed = (uint64_t)env_num("STRATUS_SEED", 1);
    if ((rc = driver_open(&d->drv, ops, &d->dcfg, e)) != 0)
        return rc;
    memset(&p, 0, sizeof(p));
    p.store = d->st;
    p.driver = &d->drv;
    p.cat = d->cat;
    p.clock = &clock_wall;
    local_sched_config(d, &p.cfg);
    return sched_open(&d->sched, &p, e);
}

static void daemon_close(struct daemon *d)
{
    sched_close(d->sched);
    driver_close(&d->drv);
    catalog_free(d->cat);
    store_close(d->st);
    free(d->driver_conf);
    free(d->ckpt_root);
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

static int daemon_loop(struct daemon *d)
{
    sigset_t set;
    struct err e;

    block_signals(&set);
    for (;;) {
        double next = 0.5;
        struct timespec ts;
        int sig;

        err_clear(&e);
        if (sched_step(d->sched, &next, &e) != 0)
            log_error("step: %s", e.msg); /* keep going: the store is the truth */
        if (next > 0.5)
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
    if (!take_lock(&d)) {
        fprintf(stderr, "stratus: a controller already runs for %s\n", d.home);
        free(d.home);
        return 0;
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

static int controller_stop(void)
{
    char *home = cli_home(), *pidf = xasprintf("%s/controller.pid", home);
    FILE *fp = fopen(pidf, "r");
    long pid = 0;
    int i;

    if (fp && fscanf(fp, "%ld", &pid) != 1)
        pid = 0;
    if (fp)
        fclose(fp);
    free(pidf);
    free(home);
    if (pid <= 0 || kill((pid_t)pid, SIGTERM) != 0) {
        printf("no controller is running\n");
        return 0;
    }
    for (i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
        clock_sleep(0.01);
    printf("controller %ld stopped\n", pid);
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
                    "  stop   stop the running controller (jobs keep running)\n");
    return 2;
}

const struct cli_cmd cli_cmd_controller = {"controller",
                                           "run, start or stop the background controller",
                                           run_controller};
