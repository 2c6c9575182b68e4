/*
 * serve.c - the server's side of the replica manager (serve/manager.h): its
 * hooks (probes as asynchronous HTTP requests on the server's libevent loop,
 * a free loopback port per replica, where a replica answers) and the round
 * run after every controller step; and what `serve up` must refuse on this
 * machine (fixed ports where nodes cannot have networks of their own).
 *
 * Probes: one evhttp connection per probe, freed once its answer is in (a
 * probe every MGR_PROBE_EVERY_S per replica is too rare for keep-alive to
 * matter); the probe's timeout_seconds bounds it; a 2xx is a pass.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"
#include "server_conf.h"
#include "../driver/local.h"
#include "../driver/multi.h"
#include "../plan/plan.h"
#include "../serve/manager.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "../util/xmem.h"

struct probe {
    struct srv *s;
    int64_t job_id;
    struct evhttp_connection *conn;
};

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void on_probe(struct evhttp_request *req, void *arg)
{
    struct probe *p = arg;
    struct srv *s = p->s;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    struct timeval now = {0, 0};

    if (s->mgr != NULL)
        mgr_probed(s->mgr, p->job_id, code >= 200 && code < 300, clock_now(&clock_wall));
    /* not from inside its own callback: once the loop is back */
    event_base_once(s->base, -1, EV_TIMEOUT, free_conn, p->conn, &now);
    free(p);
    srv_http_recheck(s); /* a replica turned ready or stopped answering */
    srv_wake(s);
}

static void probe(void *ctx, int64_t job_id, const char *url, const struct svc_probe *sp)
{
    struct srv *s = ctx;
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    struct probe *p;
    struct evhttp_request *req;
    char target[1024];
    size_t i;

    if (s->base == NULL || host == NULL || evhttp_uri_get_port(u) <= 0) {
        evhttp_uri_free(u);
        mgr_probed(s->mgr, job_id, 0, clock_now(&clock_wall));
        return;
    }
    p = xcalloc(1, sizeof(*p));
    p->s = s;
    p->job_id = job_id;
    p->conn = evhttp_connection_base_new(s->base, NULL, host, (unsigned short)evhttp_uri_get_port(u));
    evhttp_connection_set_timeout(p->conn, sp->timeout_s > 1 ? (int)sp->timeout_s : 1);
    req = evhttp_request_new(on_probe, p);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    for (i = 0; i < sp->nheaders; i++)
        evhttp_add_header(evhttp_request_get_output_headers(req), sp->headers[i].name,
                          sp->headers[i].value);
    if (sp->post_data) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), sp->post_data,
                     strlen(sp->post_data));
    }
    snprintf(target, sizeof(target), "%s", evhttp_uri_get_path(u) ? evhttp_uri_get_path(u) : "/");
    evhttp_uri_free(u);
    if (evhttp_make_request(p->conn, req, sp->post_data ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
                            target) != 0) {
        /* the request was freed by libevent */
        evhttp_connection_free(p->conn);
        free(p);
        mgr_probed(s->mgr, job_id, 0, clock_now(&clock_wall));
    }
}

/* A free loopback port: bound to port 0 and let go (the replica binds it
 * moments later; a collision fails its probe and it is replaced). */
static int free_port(void *ctx, const struct store_job *j)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

    (void)ctx;
    (void)j;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The local world's replicas answer on loopback, or on the address of
 * their head node's network namespace when their port is fixed (the driver
 * knows it: driver_node_addr); they are emulated: routers add the RTT
 * between regions.  A Slurm replica answers on its head node's address as
 * the job's batch script found it (driver_node_addr again; NULL until the
 * script has written it: no probe, no traffic yet); a cluster's network is
 * real, so routers add nothing.  The answer lives until the next call (the
 * manager copies it at once). */
static const char *host(void *ctx, const struct store_attempt *a, int *emulated)
{
    /* 64: the manager's URL holds 96 bytes; a longer name gives no URL
     * rather than a cut one */
    static char addr[64], url_host[68];
    struct srv *s = ctx;
    int i = multi_child_of(&s->drv, a->cloud, a->region, a->zone), local;

    *emulated = 0;
    if (i < 0 || (size_t)i >= s->conf->ndrivers)
        return NULL;
    local = s->conf->drivers[i].ops == &driver_local;
    if (!local && s->conf->drivers[i].ops != &driver_slurm)
        return NULL;
    *emulated = local;
    if (driver_node_addr(&s->drv, a->id, 0, addr, sizeof(addr)) != 0)
        return local ? "127.0.0.1" : NULL;
    if (strchr(addr, ':') == NULL)
        return addr;
    snprintf(url_host, sizeof(url_host), "[%s]", addr); /* IPv6 in a URL */
    return url_host;
}

/* Can a replica of sp be placed anywhere the catalog knows (policy aside:
 * an admin's own may differ, and the controller applies it)?  A spec that
 * names a cloud or an accelerator no offer has is refused at `serve up`,
 * where the user is, not left to fail replica after replica. */
static int plannable(const struct srv *s, const struct spec *sp, struct err *e)
{
    struct plan p;
    struct plan_opts o = {.now = 0, .top = 1, .by_price = 0};
    int rc;

    if (s->cat == NULL)
        return 0;
    plan_init(&p);
    rc = plan_rank(&p, s->cat, sp, NULL, &o, e);
    plan_free(&p);
    return rc;
}

int srv_serve_check(const struct srv *s, const struct spec *sp, const char *file,
                    struct err *e)
{
    const struct svc_spec *sv = sp->service;
    char why[200];
    size_t i;
    int local = 0;

    if (plannable(s, sp, e) != 0)
        return e->code;
    for (i = 0; i < s->conf->ndrivers; i++)
        local = local || s->conf->drivers[i].ops == &driver_local;
    if (!local || !svc_port_fixed(sv, sp->run) || sv->max_replicas <= 1 ||
        local_net_usable(why, sizeof(why)))
        return 0;
    return err_set(e, ST_EINVAL,
                   "%s:%zu: the replicas listen on the fixed port %d (the run command does "
                   "not read $PORT), so on the local clouds, where every replica is a "
                   "process on this machine, each needs a network of its own; but %s "
                   "(listen on $PORT in the run command, e.g. `--port $PORT`, or run "
                   "`stratus server` as root with iproute2 installed)",
                   file, sv->line, sv->port, why);
}

static void wake(void *ctx)
{
    srv_wake(ctx);
}

int srv_serve_open(struct srv *s, struct err *e)
{
    struct mgr_hooks h = {s, probe, free_port, host, wake, s->cat, NULL, 0};

    return mgr_open(&s->mgr, s->st, &h, e);
}

void srv_serve_close(struct srv *s)
{
    mgr_close(s->mgr);
    s->mgr = NULL;
}

double srv_serve_tick(struct srv *s)
{
    double next = 3600;
    struct err e;

    if (s->mgr == NULL)
        return next;
    err_clear(&e);
    if (mgr_tick(s->mgr, clock_now(&clock_wall), &next, &e) != 0) {
        log_error("services: %s", e.msg);
        next = 1;
    }
    return next;
}
