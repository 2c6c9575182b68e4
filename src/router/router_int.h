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

#include "router/pick.h"
#include "router/router.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_request;
struct evhttp_connection;
struct evbuffer;

#define RT_MAX_TRIES 8
#define RT_NCODES 600

/* One idle-or-busy connection to a replica, owned by one worker. */
struct rt_conn {
    struct evhttp_connection *evcon;
    struct rt_pool *pool;
    struct rt_conn *next;      /* in pool->idle */
};

/* A worker's connections to one replica (by serial). */
struct rt_pool {
    uint64_t serial;
    char *host;
    int port;
    struct rt_conn *idle;
    int busy;                  /* connections lent to requests */
    struct rt_pool *next;
};

struct rt;
struct rt_pxy;

struct rt_worker {
    struct rt *rt;
    int idx;
    struct event_base *base;
    struct evhttp *http;
    struct rt_pool *pools;
    struct event *tick;        /* pool GC, waiting requests, log flush */
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
    /* replica source (worker 0 only) */
    struct rt_src *src;
    char url[160];             /* where it listens ("http://HOST:PORT"), for load reports */
};

/* router.c */
void rt_lock(struct rt *rt);
void rt_unlock(struct rt *rt);
double rt_now(void);

/* router_proxy.c: the evhttp callback of every listener (arg: worker). */
void rt_on_request(struct evhttp_request *req, void *arg);
/* Retry the waiting requests of w (a replica may have come), 503 the
 * ones past their wait. */
void rt_wake_waiting(struct rt_worker *w);
/* Free idle connections of replicas that left the set. */
void rt_pool_gc(struct rt_worker *w);
void rt_pools_free(struct rt_worker *w);

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
