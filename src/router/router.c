/*
 * router.c - the router's process: one or more event loops (workers), each
 * with its own listener on its own SO_REUSEPORT socket of the same port, so
 * the kernel spreads connections over them; the replica set and every
 * counter are shared under one mutex (held for a few hundred nanoseconds
 * per request: the pick and its end).  Worker 0 runs on the main thread
 * and also follows the replica set and handles SIGHUP/SIGTERM/SIGINT.
 *
 * Why threads: one loop proxies faster than one nginx worker;
 * a machine with more cores serves more with more loops, as nginx does
 * with worker_processes.  --threads 1 (the default) is a plain
 * single-threaded proxy.
 */
#include "router_int.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../util/log.h"
#include "../util/xmem.h"

#define RT_TICK_S 0.1

void rt_lock(struct rt *rt)
{
    pthread_mutex_lock(&rt->mu);
}

void rt_unlock(struct rt *rt)
{
    pthread_mutex_unlock(&rt->mu);
}

/* The loop of this thread, for its cached time (rt_now). */
static __thread struct event_base *loop_base;

double rt_now(void)
{
    struct timeval tv;
    struct timespec ts;

    /* In a loop's callbacks: the time the loop read when it woke, which
     * libevent keeps (no clock call per use; a few per request add up). */
    if (loop_base != NULL && event_base_gettimeofday_cached(loop_base, &tv) == 0)
        return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RTT from the router's region (rp_config.rtt): 0 in its own region. */
static double rtt_from_here(void *ctx, const char *cloud, const char *region)
{
    const struct rt_config *c = ctx;

    if (c->cloud == NULL || c->cat == NULL)
        return 0;
    if (cloud[0] == '\0' || region[0] == '\0')
        return -1;
    if (strcmp(c->cloud, cloud) == 0 && strcmp(c->region, region) == 0)
        return 0;
    return catalog_rtt_ms(c->cat, c->cloud, c->region, cloud, region, NULL);
}

/* ---- listening ---- */

static int bind_socket(const struct rt_config *c, int port, int reuseport, struct err *e)
{
    struct addrinfo hints, *ai = NULL;
    char ps[16];
    int fd, one = 1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(ps, sizeof(ps), "%d", port);
    rc = getaddrinfo(c->host, ps, &hints, &ai);
    if (rc != 0)
        return err_set(e, ST_EINVAL, "cannot listen on %s: %s", c->host, gai_strerror(rc));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
        rc = err_set(e, ST_EIO, "cannot listen on %s:%d: %s (another process may hold the "
                     "port: choose another with --listen)", c->host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct rt_worker *w = arg;

    (void)fd;
    (void)what;
    rt_conn_tick(w);
    if (w->accept_paused) {
        w->accept_paused = 0;
        evconnlistener_enable(w->lev);
    }
    if (w->waitq != NULL)
        rt_wake_waiting(w);
    if (w->idx == 0 && w->rt->alog != NULL)
        fflush(w->rt->alog);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int len, void *arg)
{
    char peer[64] = "-";

    (void)lev;
    (void)len;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof(peer));
    rt_client_adopt(arg, fd, peer);
}

/* Out of file descriptors: accept() would fail at once again and again, so
 * the listener rests a tick (connections wait in the backlog meanwhile). */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct rt_worker *w = arg;
    int err = EVUTIL_SOCKET_ERROR();

    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return;
    if (!w->accept_paused_logged)
        log_warn("accept: %s: not taking connections for %.1f s (raise the limit: ulimit -n)",
                 strerror(err), RT_TICK_S);
    w->accept_paused_logged = 1;
    w->accept_paused = 1;
    evconnlistener_disable(lev);
}

static int worker_open(struct rt *rt, struct rt_worker *w, int fd, struct err *e)
{
    struct event_config *ec = event_config_new();
    struct timeval tick = {0, (suseconds_t)(RT_TICK_S * 1e6)};

    (void)rt;
    /* One epoll_ctl per changed fd per loop turn instead of one per change
     * (connections are edge-triggered and registered once anyway). */
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    /* Timers on CLOCK_MONOTONIC, not libevent's default coarse clock (a
     * kernel tick, 4 ms here, behind): an emulated RTT would end early. */
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (w->base == NULL) {
        close(fd);
        return err_set(e, ST_EINTERNAL, "cannot create an event loop");
    }
    w->lev = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (w->lev == NULL) {
        close(fd);
        return err_set(e, ST_EIO, "cannot listen: %s", strerror(errno));
    }
    evconnlistener_set_error_cb(w->lev, on_accept_error);
    w->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    event_add(w->tick, &tick);
    return 0;
}

static void *worker_main(void *arg)
{
    struct rt_worker *w = arg;

    loop_base = w->base;
    if (event_base_dispatch(w->base) != 0) /* its connections hang from now on: say so */
        fprintf(stderr, "stratus router: the event loop of thread %d failed: %s\n", w->idx,
                strerror(errno));
    return NULL;
}

static void worker_close(struct rt_worker *w)
{
    if (w->tick)
        event_free(w->tick);
    if (w->lev)
        evconnlistener_free(w->lev);
    if (w->base)
        rt_conns_free(w);
    if (w->base)
        event_base_free(w->base);
}

/* ---- signals (worker 0) ---- */

/* Why the router stops is always said on stderr (whatever STRATUS_LOG is):
 * a router found gone is otherwise a mystery. */
static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    struct rt_worker *w = arg;

    (void)what;
    fprintf(stderr, "stratus router: signal %d (%s): stopping\n", (int)sig,
            strsignal((int)sig));
    fflush(stderr);
    w->rt->stopping = 1;
    event_base_loopexit(w->base, NULL);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    rt_src_reload(arg);
}

static int open_workers(struct rt *rt, int *port, struct err *e)
{
    int i, fd, rc = 0;

    rt->w = xcalloc((size_t)rt->nw, sizeof(*rt->w));
    for (i = 0; i < rt->nw && rc == 0; i++) {
        rt->w[i].rt = rt;
        rt->w[i].idx = i;
        fd = bind_socket(rt->c, *port, rt->nw > 1, e);
        if (fd < 0)
            return fd;
        if (i == 0)
            *port = bound_port(fd);
        rc = worker_open(rt, &rt->w[i], fd, e);
    }
    return rc;
}

static int open_log(struct rt *rt, struct err *e)
{
    const char *f = rt->c->access_log;

    if (f == NULL)
        return 0;
    rt->alog = strcmp(f, "-") == 0 ? stderr : fopen(f, "a");
    if (rt->alog == NULL)
        return err_set(e, ST_EIO, "cannot open the access log %s: %s", f, strerror(errno));
    return 0;
}

static void serve(struct rt *rt, int port)
{
    struct rt_worker *w0 = &rt->w[0];
    struct event *sigs[3];
    int i, rc;

    sigs[0] = evsignal_new(w0->base, SIGTERM, on_stop, w0);
    sigs[1] = evsignal_new(w0->base, SIGINT, on_stop, w0);
    sigs[2] = evsignal_new(w0->base, SIGHUP, on_hup, rt);
    for (i = 0; i < 3; i++)
        event_add(sigs[i], NULL);
    for (i = 1; i < rt->nw; i++)
        pthread_create(&rt->w[i].th, NULL, worker_main, &rt->w[i]);
    snprintf(rt->url, sizeof(rt->url), "http://%s%s%s:%d", strchr(rt->c->host, ':') ? "[" : "",
             rt->c->host, strchr(rt->c->host, ':') ? "]" : "", port);
    /* Tests and scripts read the port from this line (--listen HOST:0). */
    fprintf(stderr, "stratus router: listening on http://%s%s%s:%d (%d thread%s)\n",
            strchr(rt->c->host, ':') ? "[" : "", rt->c->host,
            strchr(rt->c->host, ':') ? "]" : "", port, rt->nw, rt->nw > 1 ? "s" : "");
    fflush(stderr);
    loop_base = w0->base;
    rc = event_base_dispatch(w0->base);
    loop_base = NULL;
    if (!rt->stopping) /* not asked to: the loop failed (epoll) or ran out of events */
        fprintf(stderr, "stratus router: the event loop ended (%s%s): stopping\n",
                rc < 0 ? "error: " : "nothing left to wait for",
                rc < 0 ? strerror(errno) : "");
    for (i = 0; i < 3; i++)
        event_free(sigs[i]);
}

static void rt_free(struct rt *rt)
{
    int i;

    rt_src_stop(rt);
    for (i = 0; rt->w && i < rt->nw; i++)
        worker_close(&rt->w[i]);
    free(rt->w);
    if (rt->alog && rt->alog != stderr)
        fclose(rt->alog);
    rp_set_free(&rt->set);
    pthread_mutex_destroy(&rt->mu);
}

int rt_run(const struct rt_config *c, struct err *e)
{
    struct rt rt;
    struct rp_config pc;
    int port = c->port, rc;

    memset(&rt, 0, sizeof(rt));
    memset(&pc, 0, sizeof(pc));
    rt.c = c;
    rt.nw = c->threads > 0 ? c->threads : 1;
    pthread_mutex_init(&rt.mu, NULL);
    pc.policy = c->policy;
    pc.max_inflight = c->max_inflight;
    pc.eject_after = c->eject_after;
    pc.eject_base_s = c->eject_base_s;
    pc.eject_max_s = 300;
    pc.rtt = rtt_from_here;
    pc.rtt_ctx = (void *)(uintptr_t)c;
    rp_set_init(&rt.set, &pc);
    signal(SIGPIPE, SIG_IGN);
    rc = open_log(&rt, e);
    if (rc == 0)
        rc = open_workers(&rt, &port, e);
    if (rc == 0)
        rc = rt_src_start(&rt, &rt.w[0], e);
    if (rc == 0) {
        serve(&rt, port);
        if (rt.nw > 1) { /* the other loops hold no state worth a clean stop */
            if (rt.alog != NULL)
                fflush(rt.alog);
            _exit(0);
        }
    }
    rt_free(&rt);
    return rc;
}
