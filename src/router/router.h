/*
 * router.h - `stratus router`, the data plane of a service: an HTTP/1.1
 * reverse proxy (libevent's evhttp on both sides) that follows a replica
 * set (a file, or the server's endpoint API) and sends each request to the
 * replica pick.h chooses.  docs/router.md describes it for users.
 */
#ifndef STRATUS_ROUTER_H
#define STRATUS_ROUTER_H

#include <stddef.h>

#include "pick.h"
#include "../util/err.h"

struct catalog;

struct rt_config {
    const char *host;          /* listen address, "127.0.0.1" */
    int port;                  /* 0: any free port (printed) */
    const char *cloud, *region; /* the router's own region; NULL: none */
    const char *replicas_file; /* file mode */
    const char *api, *service; /* API mode: server URL (http://) and service name */
    const char *token;         /* API mode: bearer token, NULL for none */
    enum rp_policy policy;
    int max_inflight;          /* per replica; 0: from the replica set */
    int retries;               /* extra attempts after a failed one */
    int retry_reset;           /* retry any method when the replica closed or reset
                                * the connection before a byte of the reply, or
                                * answered 503 */
    size_t max_body;           /* bytes; larger request bodies get 413 */
    size_t max_header_bytes;   /* request line + headers; larger get 431 */
    int client_timeout_s;      /* idle or slow client */
    int upstream_timeout_s;    /* replica silent this long: 504 / cut */
    int eject_after;           /* circuit breaker: consecutive failures */
    double eject_base_s;
    double max_wait_s;         /* no replica: wait this long, then 503 */
    int retry_after_s;         /* Retry-After of a 503 */
    int threads;               /* event loops (SO_REUSEPORT listeners) */
    const char *access_log;    /* file, "-" for stderr, NULL for none */
    const struct catalog *cat; /* RTTs; NULL: every region at RTT 0 */
};

/* Run the router in the foreground until SIGTERM or SIGINT; 0, or an error
 * in e (bad replica file, port taken, ...) before it started serving. */
int rt_run(const struct rt_config *c, struct err *e);

#endif
