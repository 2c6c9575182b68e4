/*
 * server.c - the process of `stratus server`: open and close everything a
 * home's control plane holds, and run its one event loop.
 *
 * The loop is libevent's (2.1): one well-kept library that gives us the
 * loop, timers, signal events, an HTTP/1.1 server (evhttp) and TLS through
 * its OpenSSL bufferevents, so nothing here polls by hand or parses HTTP.
 * (libuv has no HTTP server and no TLS; h2o's loop comes inside a web
 * server whose configuration model we would have to carry.)  libevent is in
 * every distribution, and tmux, memcached and Tor are built on it.
 *
 * What runs on the loop:
 *   - the controller: sched_step() from one timer (on_step), re-armed at the
 *     deadline the step reports; while jobs are live, at most the smallest
 *     `poll` of the drivers, since a driver may have news it cannot signal
 *     (a node supervisor killed without a word, a Slurm job that ended);
 *     srv_wake() (a submit, a cancel) and the drivers' wake fds fire it at
 *     once.  A failed step is logged and the controller reopened with
 *     backoff (0.25 s .. 30 s): the store is the truth, so nothing is lost.
 *   - signals: SIGTERM/SIGINT stop; SIGCHLD reaps the node supervisors this
 *     process adopts as their subreaper; SIGUSR1 wakes the controller (what
 *     commands from before the server sent).
 *   - a 1 s check that the store file is still the one opened: a stratus.db
 *     removed or replaced under the server ends it, so the next command
 *     starts a server for the new store, which adopts nothing of the old.
 *   - the HTTP listeners (http.c), opened only after the first catch-up.
 *
 * The loop is single-threaded: API handlers and steps never run at once,
 * and no transaction is open between callbacks.
 */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "metrics.h"
#include "secret.h"
#include "serve.h"
#include "server_conf.h"
#include "session.h"
#include "../catalog/catalog.h"
#include "../cli/cli.h"
#include "../driver/multi.h"
#include "../policy/org.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../serve/manager.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/lazyssl.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define SRV_MAX_WAKE_FDS 32
#define SRV_IDLE_MAX_S 60.0   /* longest sleep with nothing due (a safety net) */
#define SRV_CATCHUP_STEPS 50  /* the first catch-up gives up being idle after this */

struct srv_priv {
    int lock_fd;                /* controller.lock, flocked for the server's life; -1 */
    int late_signals;           /* SIGTERM/SIGINT held off while it closes */
    int have_db_id;             /* the store is a file whose identity we keep: */
    dev_t db_dev;
    ino_t db_ino;
    int ino_fd;                 /* inotify on the store's directory, or -1 */
    int db_still_ours;          /* what the last look at the path said */
    struct multi_child *children; /* the multi driver's world (borrowed by it) */
    struct multi_world world;
    struct srv_cfgs *cfgs;      /* per driver: the controller's config with its timing */
    struct event *sig[5];
    size_t nsig;
    struct event *wake[SRV_MAX_WAKE_FDS]; /* read events on the drivers' wake fds */
    size_t nwake;
    struct event *store_check;
    int catchup;                /* steps before the first caught-up one; -1 after */
    unsigned zero_steps;        /* consecutive steps that asked for another at once */
    int ready_written;          /* controller.ready is written */
    int stopping;               /* the store is gone: stopping */
    struct event *lease_timer;  /* shared stores: take or renew the lease */
    struct event *listen_ev;    /* shared stores: the store's notifications */
    struct event *notify_ev;    /* shared stores: NOTIFY once this turn (tell_followers) */
    int listen_fd;              /* what listen_ev waits on; -1 = none */
    char *catalog_read_at;      /* followers: the setting "catalog_read_at" last seen */
};

/* ---- files in the home: lock, pid, ready ---- */

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

/* flock(LOCK_EX | LOCK_NB) on fd, waiting (bounded) while the holder is a
 * server that is stopping: one that gives up its store removes its pid file
 * first (srv_stop_store_gone), and the command that found it gone starts a new
 * server at once.  A holder named by the pid file is a running server:
 * ST_EEXISTS without waiting. */
static int lock_wait(struct srv *s, int fd, const char *lock, struct err *e)
{
    int i;

    for (i = 0; i < 1000; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK)
            return err_set(e, ST_EIO, "cannot lock %s: %s", lock, strerror(errno));
        if (cli_controller_pid(s->home) > 0)
            break;
        clock_sleep(0.01);
    }
    return err_set(e, ST_EEXISTS, "a server already runs for %s (pid %ld)", s->home,
                   (long)cli_controller_pid(s->home));
}

/* Take home/controller.lock (the name the old controller used, so tools and
 * tests that look for it keep working) and write controller.pid.
 * ST_EEXISTS when another server holds it; another error when the lock
 * cannot be had at all (a read-only or foreign home), which must not pass
 * for "a server already runs". */
static int take_lock(struct srv *s, struct err *e)
{
    char *lock = xasprintf("%s/controller.lock", s->home), *ready;
    int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600), rc = 0;

    if (fd < 0)
        rc = err_set(e, ST_EIO, "cannot create the server lock %s: %s", lock, strerror(errno));
    else
        rc = lock_wait(s, fd, lock, e);
    free(lock);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    s->priv->lock_fd = fd;
    fchmod(fd, 0600); /* a lock from before homes were owner-only */
    /* No "caught up" mark of a previous server may stand for ours. */
    ready = xasprintf("%s/controller.ready", s->home);
    unlink(ready);
    free(ready);
    return write_pid_file(s->home, "controller.pid", e);
}

/* ---- opening ---- */

/* An inotify descriptor (non-blocking) that has events to read once an
 * entry of path's directory is created, removed or renamed; -1 when the
 * kernel will not give one (the check then stats the file every time). */
static int watch_dir_of(const char *path)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    if (fd >= 0 && inotify_add_watch(fd, slash ? dir : ".",
                                     IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                         IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
        close(fd);
        fd = -1;
    }
    free(dir);
    return fd;
}

static int open_store(struct srv *s, struct err *e)
{
    const char *path = s->conf->store_path;
    struct stat sb;
    int rc = store_open(&s->st, path, e);

    if (rc == 0 && strncmp(path, "mem:", 4) != 0 && stat(path, &sb) == 0) {
        s->priv->have_db_id = 1;
        s->priv->db_dev = sb.st_dev;
        s->priv->db_ino = sb.st_ino;
        s->priv->ino_fd = watch_dir_of(path);
    }
    return rc;
}

static int open_catalog(struct srv *s, struct err *e)
{
    char *dir = s->conf->catalog_dir ? xstrdup(s->conf->catalog_dir) : catalog_default_dir(NULL);
    int rc = catalog_load(&s->cat, dir, e);

    free(dir);
    return rc;
}

/* The org policy: the store's setting "policy"; a home from before the
 * server keeps the policy.yaml it had, imported once. */
static int load_policy(struct srv *s, struct err *e)
{
    char *text = NULL, *path;
    size_t len = 0;
    int rc = store_setting_get(s->st, "policy", &text, e);

    if (rc != 0)
        return rc;
    if (text != NULL) {
        rc = policy_load_mem(&s->policy, "policy", text, strlen(text), e);
        s->policy_text = text;
        return rc;
    }
    path = xasprintf("%s/policy.yaml", s->home);
    if (access(path, F_OK) == 0) {
        rc = fs_read_file(path, 1 << 20, &text, &len, e);
        if (rc == 0)
            rc = policy_load_mem(&s->policy, path, text, len, e);
        if (rc == 0)
            rc = store_setting_put(s->st, "policy", text, e);
        if (rc == 0)
            log_info("imported the policy of %s into the server's settings", path);
        s->policy_text = text;
    }
    free(path);
    return rc;
}

static uint64_t env_seed(void)
{
    const char *v = getenv("STRATUS_SEED");
    long n;

    return v && str_to_long(v, 0, 0x7fffffffL, &n) == 0 ? (uint64_t)n : 1;
}

/* A driver call failed (multi.h): stratus_driver_errors_total{driver}. */
static void driver_failed(void *ctx, const char *driver)
{
    metrics_driver_error(((struct srv *)ctx)->m, driver);
}

static int open_drivers(struct srv *s, struct err *e)
{
    /* The multi driver's world: the configuration's drivers (borrowed strings). */
    srv_conf_bindings(s->conf, &s->priv->children, &s->priv->world.n);
    s->priv->world.children = s->priv->children;
    s->priv->world.on_error = driver_failed;
    s->priv->world.ctx = s;
    s->dcfg.home = s->state_dir;
    s->dcfg.cat = s->cat;
    s->dcfg.clock = &clock_wall;
    s->dcfg.config_path = NULL;
    s->dcfg.seed = env_seed();
    s->dcfg.world = &s->priv->world;
    return driver_open(&s->drv, &driver_multi, &s->dcfg, e);
}

/* The controller's secret resolver (sched_params.secret_value): the value
 * of (team, name), opened with the server's key.  The value goes to the
 * driver, nowhere else; messages name the secret only. */
static int secret_value(void *ctx, const char *team, const char *name, char **value,
                        struct err *e)
{
    struct srv *s = ctx;
    struct store_secret sc;
    size_t len;
    char *v = NULL;
    int rc = store_secret_get(s->st, team, name, &sc, e);

    *value = NULL;
    if (rc == 0)
        rc = secret_open(s->secrets_key, team, name, sc.ciphertext, sc.ciphertext_len,
                         sc.nonce, sc.nonce_len, &v, &len, e);
    store_secret_clear(&sc);
    if (rc != 0)
        return rc;
    /* the controller frees it with free() after wiping strlen() bytes: a
     * value never holds a NUL (the API takes none) */
    *value = v;
    return 0;
}

static int open_sched(struct srv *s, struct err *e)
{
    struct sched_params p;

    memset(&p, 0, sizeof(p));
    p.store = s->st;
    p.driver = &s->drv;
    p.cat = s->cat;
    p.clock = &clock_wall;
    srv_conf_sched_config(s->conf, &p.cfg);
    p.cfg.ckpt_root = s->ckpt_root;
    srv_cfgs_free(s->priv->cfgs);
    s->priv->cfgs = srv_cfgs_new(s->conf, &p.cfg);
    p.cfg_at = srv_conf_cfg_at;
    p.cfg_ctx = s->priv->cfgs;
    p.replica_may_use = mgr_replica_may_use;
    p.replica_event = mgr_replica_event;
    p.replica_ctx = s->mgr;
    p.secret_value = secret_value;
    p.secret_ctx = s;
    /* No default_policy: a job carries the policy text it was submitted
     * with (the server's at the time, or an admin's override), so changing
     * the org policy never changes a job already in the queue. */
    if (sched_open(&s->sched, &p, e) != 0)
        return e->code;
    sched_set_org(s->sched, s->org);
    return 0;
}

/* The teams: the store's setting "org" (none: no teams). */
static int load_org(struct srv *s, struct err *e)
{
    char *text = NULL;
    int rc = store_setting_get(s->st, "org", &text, e);

    if (rc == 0 && text != NULL)
        rc = org_parse(text, strlen(text), "the store's teams (setting 'org')", &s->org, e);
    else if (rc == 0)
        rc = org_from_json(NULL, &s->org, e);
    free(text);
    return rc;
}

int srv_set_org(struct srv *s, struct org *g, struct err *e)
{
    json_t *doc = org_to_json(g);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = store_setting_put(s->st, "org", text, e);

    json_decref(doc);
    free(text);
    if (rc != 0) {
        org_free(g);
        return rc;
    }
    if (s->sched)
        sched_set_org(s->sched, g);
    org_free(s->org);
    s->org = g;
    return 0;
}

/* This server's name in the lease: host, pid and 32 random bits, so that a
 * server restarted with the pid of a dead one is another holder. */
static int holder_name(struct srv *s, struct err *e)
{
    char host[64] = "";
    uint32_t r;

    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return err_set(e, ST_EIO, "cannot read random bytes: %s", strerror(errno));
    gethostname(host, sizeof(host) - 1);
    snprintf(s->holder, sizeof(s->holder), "%s/%ld/%08x", host[0] ? host : "?",
             (long)getpid(), (unsigned)r);
    return 0;
}

/* The servers of a shared store must have one secret (tokens are HMACs
 * under it, secrets sealed with a key from it): the first to start leaves
 * its fingerprint in the store's settings, and one with another secret
 * refuses to start rather than fail every forwarded request later. */
static int same_secret(struct srv *s, struct err *e)
{
    char mine[65], *theirs = NULL;
    int rc = auth_secret_fingerprint(s->secret, mine, e);

    if (rc == 0)
        rc = store_setting_get(s->st, "server_secret_check", &theirs, e);
    if (rc == 0 && theirs == NULL)
        rc = store_setting_put(s->st, "server_secret_check", mine, e);
    else if (rc == 0 && strcmp(theirs, mine) != 0)
        rc = err_set(e, ST_EINVAL,
                     "%s/server.secret is not the secret of the other servers of this store "
                     "(tokens and secrets would not verify): copy server.secret from the "
                     "home of one of them into %s (mode 0600) and start this server again "
                     "(docs/ha.md)",
                     s->home, s->home);
    free(theirs);
    return rc;
}

int srv_open(struct srv *s, const char *home, struct srv_conf *conf, struct err *e)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->home = xstrdup(home);
    s->conf = conf;
    s->priv = xcalloc(1, sizeof(*s->priv));
    s->priv->lock_fd = -1;
    s->priv->ino_fd = -1;
    s->started_at = clock_now(&clock_wall);
    s->m = metrics_new();
    /* OpenSSL is opened here, not at the process's start (lazyssl.h): a
     * machine without it is told so before the server takes anything */
    rc = lazyssl_load(e);
    if (rc == 0)
        rc = take_lock(s, e);
    if (rc == 0)
        rc = open_store(s, e);
    if (rc == 0)
        rc = open_catalog(s, e);
    if (rc != 0)
        return rc;
    /* The driver's state and the checkpoints belong to this store, not to
     * the home: a new store in it must not adopt them. */
    s->state_dir = s->conf->state_dir ? xstrdup(s->conf->state_dir)
                                      : cli_state_dir(s->home, s->st);
    s->ckpt_root = xasprintf("%s/checkpoints", s->state_dir);
    s->shared = store_shared(s->st);
    if (s->shared) { /* what the catalog we just read is as new as */
        struct err ig;

        err_clear(&ig);
        store_setting_get(s->st, "catalog_read_at", &s->priv->catalog_read_at, &ig);
    }
    s->priv->listen_fd = -1;
    rc = auth_secret_load(s->home, s->secret, e);
    if (rc == 0)
        rc = secret_key_derive(s->secret, s->secrets_key, e);
    if (rc == 0)
        rc = load_policy(s, e);
    if (rc == 0)
        rc = load_org(s, e);
    if (rc == 0 && s->shared)
        rc = same_secret(s, e);
    if (rc == 0 && s->shared)
        return holder_name(s, e); /* the controller waits for the lease */
    if (rc == 0)
        rc = open_drivers(s, e);
    if (rc == 0)
        rc = srv_serve_open(s, e);
    if (rc == 0)
        rc = open_sched(s, e);
    return rc;
}

static void on_late_signal(int sig)
{
    (void)sig; /* already stopping: a second `controller stop` waits for it */
}

static void free_events(struct srv *s)
{
    struct srv_priv *p = s->priv;
    struct sigaction sa;
    size_t i;

    for (i = 0; p && i < p->nsig; i++)
        event_free(p->sig[i]);
    /* Freeing the loop's signal events puts back the default action, and
     * the server still has its drivers to close (the local one waits for
     * the nodes it is stopping): a SIGTERM now must not kill it halfway.
     * A handler, not SIG_IGN, which exec would pass on to node supervisors. */
    if (p && p->nsig > 0) {
        p->late_signals = 1;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_late_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    for (i = 0; p && i < p->nwake; i++)
        event_free(p->wake[i]);
    if (p && p->store_check)
        event_free(p->store_check);
    if (p && p->lease_timer)
        event_free(p->lease_timer);
    if (p && p->listen_ev)
        event_free(p->listen_ev);
    if (p && p->notify_ev)
        event_free(p->notify_ev);
    if (p) {
        p->nsig = p->nwake = 0;
        p->store_check = NULL;
        p->lease_timer = NULL;
        p->listen_ev = NULL;
        p->notify_ev = NULL;
    }
    if (s->step_timer)
        event_free(s->step_timer);
    s->step_timer = NULL;
}

void srv_close(struct srv *s)
{
    if (s->base != NULL) {
        srv_http_close(s);
        free_events(s);
        event_base_free(s->base);
        s->base = NULL;
    }
    sched_close(s->sched);
    srv_serve_close(s);
    if (s->drv.ops != NULL)
        driver_close(&s->drv);
    if (s->priv != NULL && s->priv->late_signals) { /* closed: as before it opened */
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
    }
    catalog_free(s->cat);
    store_close(s->st);
    policy_free(s->policy);
    org_free(s->org);
    metrics_free(s->m);
    api_cache_free(s->cache);
    api_series_cache_free(s->series_cache);
    sessions_free(s->sessions);
    srv_conf_free(s->conf);
    if (s->priv != NULL) {
        if (s->priv->ino_fd >= 0)
            close(s->priv->ino_fd);
        if (s->priv->lock_fd >= 0)
            close(s->priv->lock_fd); /* releases the lock: the last thing we hold */
        free(s->priv->children);
        srv_cfgs_free(s->priv->cfgs);
        free(s->priv->catalog_read_at);
        free(s->priv);
    }
    free(s->policy_text);
    free(s->ckpt_root);
    free(s->state_dir);
    free(s->home);
    memset(s, 0, sizeof(*s));
}

int srv_set_policy(struct srv *s, const char *text, struct err *e)
{
    struct policy *p = NULL;
    int rc = 0;

    if (text != NULL)
        rc = policy_load_mem(&p, "policy", text, strlen(text), e);
    if (rc == 0)
        rc = store_setting_put(s->st, "policy", text, e);
    if (rc != 0) {
        policy_free(p);
        return rc;
    }
    policy_free(s->policy);
    free(s->policy_text);
    s->policy = p;
    s->policy_text = text ? xstrdup(text) : NULL;
    return 0;
}

int srv_reload_catalog(struct srv *s, struct catalog_reprice *r, struct err *e)
{
    struct catalog *nc = NULL;
    int rc = catalog_load(&nc, catalog_dir(s->cat), e);

    if (rc != 0)
        return rc;
    catalog_reprice_from(s->cat, nc, r);
    catalog_free(nc);
    log_info("read the catalog %s again: %zu offers repriced, %zu sold no more, %zu new "
             "(not taken)%s%s",
             catalog_dir(s->cat), r->repriced, r->unsold, r->added,
             r->others[0] ? "; differing, not taken until a restart: " : "", r->others);
    return 0;
}

/* A follower: the leader read its catalog again (the setting
 * "catalog_read_at" moved): read ours again too, for the previews and
 * offers we serve. */
static void follow_catalog(struct srv *s)
{
    char *at = NULL;
    struct catalog_reprice r;
    struct err e;

    err_clear(&e);
    if (store_setting_get(s->st, "catalog_read_at", &at, &e) != 0 || at == NULL)
        return;
    if (strcmp(at, s->priv->catalog_read_at ? s->priv->catalog_read_at : "") != 0) {
        if (srv_reload_catalog(s, &r, &e) != 0)
            log_warn("the leader read its catalog again; reading ours: %s", e.msg);
        free(s->priv->catalog_read_at);
        s->priv->catalog_read_at = at;
        return;
    }
    free(at);
}

int srv_store_still_ours(const struct srv *s)
{
    struct srv_priv *p = s->priv;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct stat sb;

    if (p == NULL || !p->have_db_id)
        return 1;
    /* Every request asks; a stat of the path each time costs more than the
     * reads of small replies, so the directory's inotify events say when
     * looking again is worth it.  The removal of the file happened before
     * any request that comes after it, so its event is already queued. */
    if (p->ino_fd >= 0 && read(p->ino_fd, buf, sizeof(buf)) < 0 && errno == EAGAIN &&
        p->db_still_ours)
        return 1;
    while (p->ino_fd >= 0 && read(p->ino_fd, buf, sizeof(buf)) > 0)
        ; /* drain: one stat answers for all of them */
    p->db_still_ours = stat(s->conf->store_path, &sb) == 0 && sb.st_dev == p->db_dev &&
                       sb.st_ino == p->db_ino;
    return p->db_still_ours;
}

/* ---- the controller ---- */

static void watch_wake_fds(struct srv *s);
static void unwatch_wake_fds(struct srv *s);
static void step_down(struct srv *s, const char *why);
static void tell_followers(struct srv *s);

/* After a failed step: a driver that cannot hand out its last events again
 * in-process is closed and opened again (a new driver replays what was not
 * acknowledged), and the controller with it, which reloads from the store. */
static int recover(struct srv *s, struct err *e)
{
    if (s->shared && !s->leader)
        return 0; /* the controller is the leader's */
    if (s->sched != NULL && driver_can_rewind(&s->drv))
        return 0;
    sched_close(s->sched);
    s->sched = NULL;
    unwatch_wake_fds(s); /* before their fds close */
    if (s->drv.ops != NULL)
        driver_close(&s->drv);
    memset(&s->drv, 0, sizeof(s->drv));
    if (driver_open(&s->drv, &driver_multi, &s->dcfg, e) != 0)
        return e->code;
    watch_wake_fds(s);
    return open_sched(s, e);
}

/* One step, or the recovery from a failed one; returns the seconds the
 * step asked for, or the backoff after a failure (0.25 s doubling to 30 s). */
static double step_once(struct srv *s)
{
    double next = SRV_IDLE_MAX_S, t0 = clock_mono(), wait;
    struct err e;
    int rc;

    err_clear(&e);
    rc = s->sched ? sched_step(s->sched, &next, &e) : -1;
    if (rc == 0) {
        double svc_next = srv_serve_tick(s);

        next = svc_next < next ? svc_next : next;
        srv_http_recheck(s); /* long polls waiting for what the step changed */
        if (s->shared)
            tell_followers(s);
    }
    if (rc != 0 && e.code == ST_EFENCED) {
        step_down(s, e.msg);
        return SRV_IDLE_MAX_S;
    }
    if (s->shared && s->leader && s->first_step_at == 0 && rc == 0)
        s->first_step_at = clock_now(&clock_wall);
    s->gen++; /* the step may have written: rendered replies are stale */
    s->steps++;
    s->last_step_at = clock_now(&clock_wall);
    if (s->sched != NULL)
        metrics_step(s->m, clock_mono() - t0, rc == 0);
    if (rc == 0 && s->failures == 0)
        return next;
    if (rc != 0 && s->sched != NULL) {
        log_error("step: %s", e.msg);
        s->step_failures++;
    }
    if (rc != 0 || s->sched == NULL) {
        err_clear(&e);
        rc = recover(s, &e);
        if (rc != 0)
            log_error("reopening the controller: %s", e.msg);
    }
    s->failures = rc == 0 ? 0 : s->failures + 1;
    wait = s->failures == 0 ? 0 : 0.25 * (double)(1 << (s->failures < 7 ? s->failures : 7));
    return wait < 30 ? wait : 30;
}

/* Once the controller has caught up with the world (a step committed with
 * no more work due at once, or enough steps that it never will be idle)
 * and the listeners are open, write controller.ready, as the old
 * controller did: a command that waits for it can connect at once. */
static void mark_ready(struct srv *s, double next)
{
    struct srv_priv *p = s->priv;
    struct err e;

    if (p->catchup >= 0 && s->failures == 0 &&
        (next > 0 || ++p->catchup >= SRV_CATCHUP_STEPS)) {
        p->catchup = -1;
        s->ready = 1;
    }
    if (!s->ready || s->http == NULL || p->ready_written)
        return;
    p->ready_written = 1;
    err_clear(&e);
    if (write_pid_file(s->home, "controller.ready", &e) != 0)
        log_error("%s", e.msg);
}

/* The smallest poll interval of the drivers (0 = none set). */
static double min_poll(const struct srv_conf *c)
{
    double m = 0;
    size_t i;

    for (i = 0; i < c->ndrivers; i++)
        if (c->drivers[i].timing.poll_s > 0 && (m == 0 || c->drivers[i].timing.poll_s < m))
            m = c->drivers[i].timing.poll_s;
    return m;
}

/* How long to sleep after a step that asked for `next` seconds. */
static double next_wait(struct srv *s, double next)
{
    double poll = min_poll(s->conf);

    if (s->failures > 0)
        return next; /* the backoff */
    if (next < 0 || next > SRV_IDLE_MAX_S)
        next = SRV_IDLE_MAX_S;
    /* "Live" is approximated by active jobs: a job waiting for capacity has
     * no attempt, but polling for it costs one cheap step per poll_s. */
    if (s->sched != NULL && sched_active(s->sched) > 0 && poll > 0 && next > poll)
        next = poll;
    s->priv->zero_steps = next <= 0 ? s->priv->zero_steps + 1 : 0;
    /* A controller that asks for a step at once over and over is working
     * through a backlog; past a thousand such steps, a millisecond between
     * them keeps a bug of that kind from spinning a core. */
    if (next <= 0 && s->priv->zero_steps > 1000)
        next = 0.001;
    return next > 0 ? next : 0;
}

static void arm_step(struct srv *s, double seconds)
{
    struct timeval tv;

    s->next_step_in = seconds;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    evtimer_add(s->step_timer, &tv); /* re-adding moves the deadline */
}

/* The store is gone: stop, saying so first by removing the pid and ready
 * files, so that a server started for the new store at once waits for our
 * lock instead of taking us for a running server (lock_wait). */
void srv_stop_store_gone(struct srv *s)
{
    char *pid = xasprintf("%s/controller.pid", s->home);
    char *ready = xasprintf("%s/controller.ready", s->home);

    if (s->priv->stopping) {
        free(ready);
        free(pid);
        return;
    }
    s->priv->stopping = 1;
    unlink(ready);
    unlink(pid);
    free(ready);
    free(pid);
    log_error("%s was removed or replaced: this server's store is gone, so it stops (the "
              "next command starts one for the new store)", s->conf->store_path);
    srv_stop(s);
}

static int lease_fresh(struct srv *s);

static void on_step(evutil_socket_t fd, short what, void *arg)
{
    struct srv *s = arg;
    double next;

    (void)fd;
    (void)what;
    if (!srv_store_still_ours(s)) {
        srv_stop_store_gone(s);
        return;
    }
    if (s->shared && !lease_fresh(s))
        return; /* a follower: the lease timer makes it the leader, if ever */
    next = step_once(s);
    mark_ready(s, next);
    arm_step(s, next_wait(s, next));
}

void srv_wake(struct srv *s)
{
    struct timeval now = {0, 0};

    if (s->base == NULL || s->step_timer == NULL)
        return;
    if (s->failures > 0)
        return; /* backing off: the next try reads the store anyway */
    s->next_step_in = 0;
    evtimer_add(s->step_timer, &now);
}

void srv_stop(struct srv *s)
{
    if (s->base != NULL)
        event_base_loopbreak(s->base);
}

/* ---- signals, wake fds, the store check ---- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct srv *s = arg;

    (void)what;
    if (sig == SIGCHLD) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ; /* node supervisors (its children) and what they left (adopted) */
    } else if (sig == SIGUSR1) {
        srv_wake(s);
    } else {
        log_info("server %ld: signal %d, stopping", (long)getpid(), (int)sig);
        srv_stop(s);
    }
}

static void on_wake_fd(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];

    (void)what;
    while (read(fd, buf, sizeof(buf)) > 0)
        ; /* drained: one step reads whatever the driver has */
    srv_wake(arg);
}

static void unwatch_wake_fds(struct srv *s)
{
    size_t i;

    for (i = 0; i < s->priv->nwake; i++)
        event_free(s->priv->wake[i]);
    s->priv->nwake = 0;
}

/* Read events on the drivers' wake fds (a local node supervisor writes a
 * byte to its FIFO after each record).  Called again after the driver is
 * reopened, since a new driver has new fds. */
static void watch_wake_fds(struct srv *s)
{
    struct srv_priv *p = s->priv;
    int fds[SRV_MAX_WAKE_FDS], n = 0, i;

    unwatch_wake_fds(s);
    if (s->drv.ops != NULL && s->base != NULL)
        n = driver_wake_fds(&s->drv, fds, SRV_MAX_WAKE_FDS);
    for (i = 0; i < n; i++) {
        p->wake[p->nwake] = event_new(s->base, fds[i], EV_READ | EV_PERSIST, on_wake_fd, s);
        if (p->wake[p->nwake] == NULL || event_add(p->wake[p->nwake], NULL) != 0) {
            log_error("cannot watch the driver's wake fd %d; its news waits for the poll",
                      fds[i]);
            if (p->wake[p->nwake] != NULL)
                event_free(p->wake[p->nwake]);
            continue;
        }
        p->nwake++;
    }
}

static void on_store_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if (!srv_store_still_ours(arg))
        srv_stop_store_gone(arg);
}

/* ---- leadership (a store several servers share: docs/ha.md) ----
 *
 * Every server of the store tries to take the lease every lease/4; the one
 * that holds it opens the drivers, the services' manager and the
 * controller and steps; the others serve reads and forward the rest
 * (http.c).  The leader renews on the same timer and acts only while
 * its last renewal is younger than LEASE_SAFE x lease by its own monotonic
 * clock: a leader that was paused or cut off from the database stops on
 * its own before its lease can lapse, and should a step of it still get to
 * the database, the fence (store.h) refuses it.  A leader that cannot
 * renew, is deposed or fenced closes all of that without touching what
 * runs (the drivers' work lives on; the next leader adopts it) and is a
 * follower again. */

#define LEASE_SAFE 0.75   /* of the lease: a leader acts only this long after a renewal */
#define LEASE_TRIES 4     /* takes or renewals per lease */

static void on_listen(evutil_socket_t fd, short what, void *arg);

/* Close the controller, the manager and the drivers (nothing they run is
 * stopped: closing a driver leaves its work running). */
static void close_controller(struct srv *s)
{
    sched_close(s->sched);
    s->sched = NULL;
    srv_serve_close(s);
    unwatch_wake_fds(s);
    if (s->drv.ops != NULL)
        driver_close(&s->drv);
    memset(&s->drv, 0, sizeof(s->drv));
}

static void step_down(struct srv *s, const char *why)
{
    if (!s->leader)
        return;
    log_error("server %ld: no longer the leader (epoch %lld): %s", (long)getpid(),
              (long long)s->epoch, why);
    close_controller(s);
    s->leader = 0;
    s->epoch = 0;
    s->leader_since = 0;
    s->failures = 0;
    s->gen++;
    srv_http_recheck(s); /* held polls answer as a follower would */
}

static int become_leader(struct srv *s, struct err *e)
{
    int rc = open_drivers(s, e);

    if (rc == 0) {
        watch_wake_fds(s);
        rc = srv_serve_open(s, e);
    }
    if (rc == 0)
        rc = open_sched(s, e);
    if (rc != 0) {
        close_controller(s);
        return rc;
    }
    s->leader = 1;
    s->epoch = s->lease.epoch;
    s->leader_terms++;
    s->leader_since = clock_now(&clock_wall);
    s->first_step_at = 0;
    s->failures = 0;
    s->gen++;
    log_info("server %ld: the leader now (epoch %lld); resuming from the store",
             (long)getpid(), (long long)s->epoch);
    return 0;
}

/* Was the lease renewed lately enough to act on it? */
static int lease_young(const struct srv *s)
{
    return clock_mono() - s->lease_ok_mono <= s->conf->lease_s * LEASE_SAFE;
}

/* Take or renew the lease, and act on what it says. */
static void lease_tick(struct srv *s)
{
    char url[STORE_LEASE_URL_MAX] = "", why[STORE_HOLDER_MAX + 96];
    struct store_lease l;
    double t0 = clock_mono();
    struct err e;
    int held = 0;

    err_clear(&e);
    if (s->http == NULL || srv_http_url(s, url, sizeof(url), &e) != 0)
        url[0] = '\0'; /* no TCP listener: followers cannot forward to us */
    err_clear(&e);
    if (store_lease_take(s->st, s->holder, url, s->conf->lease_s, &held, &l, &e) != 0) {
        if (s->db_error[0] == '\0')
            log_error("server %ld: the store cannot be reached: %s", (long)getpid(), e.msg);
        snprintf(s->db_error, sizeof(s->db_error), "%s", e.msg);
        if (s->leader && !lease_young(s))
            step_down(s, "the lease could not be renewed in time, so this server stops "
                         "acting (it takes the lease again once the store answers)");
        return;
    }
    if (s->db_error[0] != '\0')
        log_info("server %ld: the store answers again", (long)getpid());
    s->db_error[0] = '\0';
    s->lease = l;
    s->lease_seen_mono = clock_mono();
    if (s->priv->listen_ev == NULL)
        on_listen(-1, 0, s); /* (again) after the database was away */
    if (!held) {
        snprintf(why, sizeof(why), "%s holds the lease (epoch %lld)", l.holder,
                 (long long)l.epoch);
        step_down(s, why);
        return;
    }
    s->lease_ok_mono = t0;
    if (s->leader && s->epoch == l.epoch)
        return;
    step_down(s, "the lease was taken anew (a newer epoch)");
    if (become_leader(s, &e) != 0) {
        log_error("server %ld: cannot run the controller, so it gives the lease up: %s",
                  (long)getpid(), e.msg);
        err_clear(&e);
        store_lease_drop(s->st, s->holder, &e);
        return;
    }
    srv_wake(s);
}

static void on_lease_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    lease_tick(arg);
}

/* May the leader act now?  Renews first when the last renewal is too old
 * (a leader resumed after a pause finds out here, before it acts). */
static int lease_fresh(struct srv *s)
{
    if (s->leader && !lease_young(s))
        lease_tick(s);
    return s->leader;
}

int srv_leads(const struct srv *s)
{
    return !s->shared || (s->leader && lease_young(s));
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    struct srv *s = arg;
    struct err e;

    (void)fd;
    (void)what;
    err_clear(&e);
    if (s->leader && store_notify(s->st, &e) != 0)
        log_warn("notifying the other servers: %s", e.msg);
}

/* After a leader's step or write: NOTIFY, so followers' caches and copies
 * see what it changed - once per turn of the loop, however many steps and
 * calls wrote in it (a burst of submits is one NOTIFY, not one each). */
static void tell_followers(struct srv *s)
{
    if (s->leader && s->priv->notify_ev != NULL)
        event_active(s->priv->notify_ev, EV_TIMEOUT, 0);
}

void srv_changed(struct srv *s)
{
    s->gen++;
    if (s->shared)
        tell_followers(s);
}

/* The store's notifications: another server changed something.  A
 * follower drops what it rendered, reloads the settings it keeps (the
 * policy, the teams) and answers held requests that can be; a leader
 * steps (a write by a command that went to the store itself).  Called
 * with fd -1 to (re)open the listening side. */
static void on_listen(evutil_socket_t fd, short what, void *arg)
{
    struct srv *s = arg;
    struct srv_priv *p = s->priv;
    int n = 0, newfd = p->listen_fd, renewed = 1;
    struct err e;

    (void)what;
    err_clear(&e);
    if (fd < 0 || p->listen_ev == NULL)
        n = store_listen(s->st, &newfd, &e) == 0 ? 1 : -1;
    else
        n = store_listen_read(s->st, &newfd, &renewed, &e);
    if (renewed || newfd != p->listen_fd || n < 0) {
        if (p->listen_ev != NULL)
            event_free(p->listen_ev);
        p->listen_ev = NULL;
        p->listen_fd = n < 0 ? -1 : newfd;
        if (p->listen_fd >= 0) {
            p->listen_ev = event_new(s->base, p->listen_fd, EV_READ | EV_PERSIST, on_listen, s);
            if (p->listen_ev == NULL || event_add(p->listen_ev, NULL) != 0)
                log_error("cannot watch the store's notifications; they wait for the lease "
                          "timer");
        }
    }
    if (n <= 0)
        return;
    if (s->leader) {
        srv_wake(s);
        return;
    }
    s->gen++;
    free(s->policy_text);
    s->policy_text = NULL;
    policy_free(s->policy);
    s->policy = NULL;
    org_free(s->org);
    s->org = NULL;
    err_clear(&e);
    if (load_policy(s, &e) != 0 || load_org(s, &e) != 0)
        log_warn("reloading the settings: %s", e.msg);
    if (s->org == NULL)
        org_from_json(NULL, &s->org, &e);
    follow_catalog(s);
    srv_http_recheck(s);
}

/* The timer and the first take; the listeners are open (the lease
 * carries their URL). */
static int start_leadership(struct srv *s, struct err *e)
{
    struct srv_priv *p = s->priv;
    double every = s->conf->lease_s / LEASE_TRIES;
    struct timeval tv = {(time_t)every, (suseconds_t)((every - (double)(time_t)every) * 1e6)};

    char url[STORE_LEASE_URL_MAX];
    struct err ue;

    err_clear(&ue);
    if (srv_http_url(s, url, sizeof(url), &ue) != 0)
        log_warn("this server has no TCP listener: while it leads, the other servers of "
                 "the store cannot forward to it (give it one: docs/ha.md)");
    if (s->conf->state_dir == NULL)
        log_warn("state_dir is not set, so the drivers' state is this server's own (%s): "
                 "work another server of the store started on the local clouds is not "
                 "found when this one leads (set the same state_dir for all: docs/ha.md)",
                 s->state_dir);
    p->lease_timer = event_new(s->base, -1, EV_PERSIST, on_lease_timer, s);
    p->notify_ev = event_new(s->base, -1, 0, on_notify, s);
    if (p->lease_timer == NULL || p->notify_ev == NULL || event_add(p->lease_timer, &tv) != 0)
        return err_set(e, ST_EINTERNAL, "cannot create the lease's timer");
    lease_tick(s);
    if (p->listen_ev == NULL && s->db_error[0] == '\0')
        on_listen(-1, 0, s);
    return 0;
}

/* A clean stop: the leader gives the lease up, so a follower need not wait
 * for it to lapse. */
static void end_leadership(struct srv *s)
{
    struct err e;

    if (!s->leader)
        return;
    close_controller(s);
    s->leader = 0;
    err_clear(&e);
    if (store_lease_drop(s->st, s->holder, &e) != 0)
        log_warn("giving the lease up: %s (the others wait for it to lapse)", e.msg);
}

static void on_sigpipe(int sig)
{
    (void)sig; /* a client that went away: the write fails with EPIPE instead */
}

static int add_events(struct srv *s, struct err *e)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGCHLD, SIGUSR1};
    struct srv_priv *p = s->priv;
    struct timeval sec = {1, 0};
    struct sigaction sa;
    size_t i;

    /* A handler rather than SIG_IGN: an ignored SIGPIPE would be inherited
     * through exec by node supervisors and the jobs they run. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    s->step_timer = evtimer_new(s->base, on_step, s);
    p->store_check = event_new(s->base, -1, EV_PERSIST, on_store_check, s);
    if (s->step_timer == NULL || p->store_check == NULL || event_add(p->store_check, &sec) != 0)
        return err_set(e, ST_EINTERNAL, "cannot create the server's timers");
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        p->sig[p->nsig] = evsignal_new(s->base, sigs[i], on_signal, s);
        if (p->sig[p->nsig] == NULL || evsignal_add(p->sig[p->nsig], NULL) != 0)
            return err_set(e, ST_EINTERNAL, "cannot watch signal %d", sigs[i]);
        p->nsig++;
    }
    watch_wake_fds(s);
    return 0;
}

/* The first catch-up, before any listener opens, so that a client that
 * started the server never sees state older than the world: steps until one
 * has nothing due at once (or SRV_CATCHUP_STEPS of them).  A failing step
 * ends it early; the listeners open anyway so /healthz can say so. */
static double catch_up(struct srv *s)
{
    double next = 0;
    int i;

    for (i = 0; i < SRV_CATCHUP_STEPS && next <= 0; i++) {
        next = step_once(s);
        mark_ready(s, next);
        if (s->failures > 0)
            break;
    }
    return next;
}

/* The loop: on epoll, changes to what a descriptor waits for are gathered
 * and made once per turn of the loop (libevent's changelist) instead of one
 * epoll_ctl() each; evhttp turns reading and writing on and off several
 * times for every request, so this is a large share of a small reply's
 * cost.  (The changelist's caveat, descriptors dup()ed and watched twice,
 * does not arise here: every event has its own descriptor.) */
static struct event_base *new_base(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
        return event_base_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base ? base : event_base_new();
}

int srv_run(struct srv *s, struct err *e)
{
    double next;
    int rc;

    s->base = new_base();
    if (s->base == NULL)
        return err_set(e, ST_EINTERNAL, "cannot create the event loop");
    rc = add_events(s, e);
    if (rc != 0)
        return rc;
    if (s->shared) {
        /* Listeners first: followers serve, and the lease carries our URL. */
        rc = srv_http_open(s, e);
        if (rc == 0)
            rc = start_leadership(s, e);
        if (rc != 0)
            return rc;
        next = s->leader ? catch_up(s) : 1;
    } else {
        next = catch_up(s);
        if (!srv_store_still_ours(s)) {
            srv_stop_store_gone(s);
            return 0;
        }
        rc = srv_http_open(s, e);
        if (rc != 0)
            return rc;
    }
    mark_ready(s, next);
    arm_step(s, next_wait(s, next));
    log_info("server %ld ready for %s", (long)getpid(), s->home);
    if (event_base_dispatch(s->base) < 0)
        rc = err_set(e, ST_EINTERNAL, "the event loop failed");
    end_leadership(s);
    srv_http_close(s);
    free_events(s);
    event_base_free(s->base);
    s->base = NULL;
    return rc;
}
