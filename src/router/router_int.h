/*
 * router_int.h - what the router's files share: the process-wide state
 * (struct rt: the replica set and the counters, under one mutex) and each
 * event loop's state (struct rt_worker: its evhttp, its upstream connection
 * pools, its waiting requests).  router.c runs the loops, router_proxy.c
 * proxies a request, router_src.c follows the replica set, router_metrics.c
 * answers /-/metrics.
 */
#ifndef STRATUS_ROUTER_INT_H
#define STRATUS_ROUTER_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <http_parser.h>

#include "pick.h"
#include "router.h"
#include "../util/xmem.h"

struct event_base;
struct event;
struct evconnlistener;
struct evbuffer;

#define RT_MAX_TRIES 8
#define RT_NCODES 600

/* A message head being parsed: the headers to forward, as "Name: value\r\n"
 * lines; the hop-by-hop ones are taken out as each header ends. */
struct rt_head {
    struct buf text;
    size_t mark;               /* where the header being read starts in text */
    size_t vpos;               /* where its value starts (in_value) */
    size_t total;              /* bytes of head seen, for the size limit */
    int in_value;
};

enum rt_phase { PH_NONE, PH_DELAY, PH_UPSTREAM, PH_WAIT };

struct rt_worker;
struct rt_cconn;
struct rt_uconn;

/* One request, from its complete head and body to its reply; a client
 * connection serves one at a time (pipelined ones wait in its input). */
struct rt_pxy {
    struct rt_worker *w;
    struct rt_cconn *c;        /* the client; NULL once it left */
    struct rt_uconn *u;        /* the replica's connection while PH_UPSTREAM */
    struct rp_replica *rep;    /* holds an in-flight count while set */
    uint64_t rep_serial;
    int64_t rep_id;
    char rep_region[96];
    double rep_delay_ms;
    char host[256];
    int port;
    uint64_t tried[RT_MAX_TRIES];
    size_t ntried;
    enum rt_phase phase;
    int idempotent, head_only, overflow;
    int got_headers;           /* the reply's head went to the client */
    int connect_failed, timed_out, stale; /* how the last attempt failed */
    int any_timeout;           /* an attempt of this request timed out */
    int reset;                 /* the replica closed or reset before a byte of the reply */
    int refused;               /* the replica answered 503 (draining, loading): not taken */
    int stale_retried;         /* resent once on a fresh connection */
    int chunked_out;           /* the reply is chunked by the router */
    int informational;         /* a 1xx reply head is being skipped */
    int status;
    size_t bytes;
    double work;               /* the body's bytes: the request's size to the pick */
    double t0, wait_until;
    struct evbuffer *uphead;   /* the request head for the replica */
    struct event *timer;
    struct rt_pxy *next_wait;
};

/* A client's connection. */
struct rt_cconn {
    struct rt_worker *w;
    int fd;
    struct event *ev;          /* read and write, edge-triggered */
    http_parser hp;
    struct rt_head head;
    struct buf url;
    char auth[520];            /* the Authorization value ("" none, "!" too long) */
    int has_host, expect_continue;
    int err_code;              /* set by a callback that stopped the parser */
    int req_done;              /* a whole request was parsed */
    struct evbuffer *body;     /* the request's body */
    struct evbuffer *in;       /* read, not parsed yet (a pipelined request) */
    struct evbuffer *out;      /* for the client */
    struct rt_pxy px;          /* valid while busy */
    int busy, keep_alive, http10;
    int eof, dead, closing, lingering, rfull;
    int rdhup;                 /* the peer's FIN is on its way: read to the end */
    double req_start;          /* first byte of the request being read (0: none) */
    int kicked;
    double last;               /* last read, or the end of the last reply */
    double wblock;             /* since when writes wait for the client (0: none) */
    char peer[64];
    struct rt_cconn *prev, *next; /* in w->conns */
};

/* A connection to a replica, owned by one worker. */
struct rt_uconn {
    struct rt_worker *w;
    struct rt_pool *pool;
    int fd;
    struct event *ev;
    http_parser hp;
    struct rt_head head;
    char reason[64];
    struct evbuffer *out;
    struct rt_pxy *p;          /* the request on it; NULL while idle */
    int connecting, reused, done, paused;
    int rdhup;
    size_t got;                /* reply bytes read for the current request */
    double last;
    struct rt_uconn *next;     /* in pool->idle */
};

/* A worker's connections to one replica (by serial). */
struct rt_pool {
    uint64_t serial;
    char *host;
    int port;
    struct sockaddr_storage addr; /* resolved once, when the pool is made */
    socklen_t addrlen;            /* 0: host did not resolve */
    struct rt_uconn *idle;
    int busy;                  /* connections lent to requests */
    struct rt_pool *next;
};

struct rt;

struct rt_worker {
    struct rt *rt;
    int idx;
    struct event_base *base;
    struct evconnlistener *lev;
    int accept_paused;         /* out of descriptors: the listener rests a tick */
    int accept_paused_logged;
    struct rt_pool *pools;
    struct rt_cconn *conns;    /* every client connection */
    struct event *tick;        /* pool GC, waiting requests, timeouts, log flush */
    struct rt_pxy *waitq;      /* requests waiting for a replica */
    pthread_t th;
};

struct rt {
    const struct rt_config *c;
    pthread_mutex_t mu;        /* guards everything below */
    struct rp_set set;
    int loaded;                /* a replica set was applied */
    uint64_t by_code[RT_NCODES];
    struct rp_hist lat;        /* all proxied requests, end to end */
    uint64_t retries, no_replica, client_aborts, upstream_errors, reloads, reload_errors;
    uint64_t waited;
    FILE *alog;                /* access log, or NULL */
    struct rt_worker *w;
    int nw;
    int stopping;              /* a signal asked the router to stop */
    /* replica source (worker 0 only) */
    struct rt_src *src;
    char url[160];             /* where it listens ("http://HOST:PORT"), for load reports */
};

/* router.c */
void rt_lock(struct rt *rt);
void rt_unlock(struct rt *rt);
double rt_now(void);

/* router_conn.c: sockets.  Adopt an accepted client socket (peer: its
 * address, for logs and X-Forwarded-For). */
void rt_client_adopt(struct rt_worker *w, int fd, const char *peer);
/* Write what c->out holds (as much as the socket takes now). */
void rt_client_flush(struct rt_cconn *c);
/* The request on c is answered: serve the next one (or close). */
void rt_client_done(struct rt_cconn *c);
/* Send p's request (p->uphead and the body) to host:port on a pooled
 * connection (fresh: on a new one); the reply arrives through rt_up_* in
 * router_proxy.c. */
void rt_up_send(struct rt_pxy *p, int fresh);
/* Drop p's upstream connection (the client left or the reply is cut). */
void rt_up_abandon(struct rt_pxy *p);
/* Close idle connections of replicas that left the set; time out idle and
 * slow connections. */
void rt_conn_tick(struct rt_worker *w);
void rt_conns_free(struct rt_worker *w);

/* router_proxy.c: the requests. */
/* Answer c with an error of the router's own and close it after (a
 * request that could not be parsed: 400, 413, 431, 501; or too slow: 408). */
void rt_reply_parse_error(struct rt_cconn *c, int code, const char *msg);
/* A whole request arrived on c (head in c->head/c->url, body in c->body). */
void rt_request(struct rt_cconn *c);
/* The client of p left before its reply was complete. */
void rt_client_left(struct rt_pxy *p);
/* The reply's head was parsed (status, headers in u->head): relay it. */
int rt_up_head(struct rt_pxy *p, struct rt_uconn *u);
/* Body bytes of the reply. */
void rt_up_body(struct rt_pxy *p, const char *at, size_t len);
/* The reply is complete. */
void rt_up_complete(struct rt_pxy *p);
/* The attempt failed (connect refused, reset, timeout, closed early). */
void rt_up_failed(struct rt_pxy *p);
/* Retry the waiting requests of w (a replica may have come), 503 the
 * ones past their wait. */
void rt_wake_waiting(struct rt_worker *w);

/* router_src.c: follow the replica set; the first set is loaded before
 * rt_src_start returns 0 in file mode (in API mode: asynchronously). */
int rt_src_start(struct rt *rt, struct rt_worker *w0, struct err *e);
void rt_src_stop(struct rt *rt);
/* Re-read the file now (SIGHUP). */
void rt_src_reload(struct rt *rt);

/* router_metrics.c: the Prometheus text of /-/metrics into out. */
void rt_metrics(struct rt *rt, struct evbuffer *out);
/* The replica set as JSON (/-/replicas), caller frees. */
char *rt_replicas_json(struct rt *rt);

#endif
