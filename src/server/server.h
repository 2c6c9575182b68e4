/*
 * server.h - `stratus server`: the one long-running control plane of a
 * $STRATUS_HOME.  One process, one libevent event loop carrying:
 *   - the API listeners (a UNIX socket in the home for its owner, TCP
 *     listeners with bearer tokens, optionally TLS), served by evhttp
 *     (http.c) and answered by the route table in api.c;
 *   - the controller: sched_step() run from a timer re-armed at the next
 *     deadline the step reports, and fired at once when a submit or a
 *     request arrives (srv_wake) or a driver's wake fd becomes readable;
 *   - the drivers, all of them behind one `multi` driver (driver/multi.h)
 *     that routes each location to the driver the configuration binds it to.
 *
 * Layout: server.c (open/close, the loop, the controller timer, signals,
 * lock and pid files), http.c (evhttp glue, auth of a connection, streaming),
 * api.c (route table, dispatcher, permissions), api_jobs.c and api_admin.c
 * (handlers), auth.c (tokens), metrics.c (Prometheus text), server_conf.c
 * (the YAML configuration).
 */
#ifndef STRATUS_SERVER_H
#define STRATUS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../driver/driver.h"
#include "../store/store.h"
#include "../util/err.h"

struct api_cache;
struct api_series_cache;
struct catalog;
struct event;
struct event_base;
struct metrics;
struct mgr;
struct policy;
struct org;
struct sched;
struct srv_conf;
struct srv_priv;
struct store;

struct srv {
    char *home;               /* $STRATUS_HOME (owned) */
    char *state_dir;          /* home/state/<store id> (cli_state_dir) */
    char *ckpt_root;          /* state_dir/checkpoints */
    struct srv_conf *conf;    /* owned */
    struct store *st;
    struct catalog *cat;
    struct driver drv;        /* driver_multi over conf->drivers */
    struct driver_config dcfg;
    struct sched *sched;      /* NULL while the controller is being reopened */
    unsigned char secret[32]; /* HMAC key for token hashes (auth_secret_load) */
    unsigned char secrets_key[32]; /* seals teams' secrets: secret_key_derive of
                                      secret (secret.h) */
    struct metrics *m;        /* owned */
    char *policy_text;        /* the org policy (admin-set, kept in the store's
                                 settings); NULL = none */
    struct policy *policy;    /* policy_text parsed; NULL = none */
    struct org *org;          /* the teams (policy/org.h; the store's setting
                                 "org"); never NULL once open */
    double started_at;
    /* the controller, for /healthz and /metrics */
    uint64_t steps;           /* steps run */
    uint64_t step_failures;   /* steps that failed (and were recovered) */
    int failures;             /* consecutive failed steps now */
    double last_step_at;      /* wall time of the last step */
    double next_step_in;      /* what the last step asked for */
    int ready;                /* caught up once after start (listeners open then) */
    /* Bumped after every controller step and every call that may write
     * (any method but GET): a reply rendered at one generation is still
     * the store's answer while the generation stands (api_cache) */
    uint64_t gen;
    struct api_cache *cache;  /* rendered GET /v1/jobs/{id} replies (api.h) */
    struct mgr *mgr;          /* the replica manager (serve/manager.h, serve.c) */
    struct sessions *sessions;/* the dashboard's login codes and sessions
                                 (session.h); NULL until the first is made */
    struct api_series_cache *series_cache; /* recent GET /v1/cost/series
                                 replies (api_dashboard.c); NULL = none yet */
    /* the event loop; NULL when handlers are called directly (tests, fuzzers) */
    struct event_base *base;
    struct event *step_timer;
    void *http;               /* http.c's state */
    struct srv_priv *priv;    /* server.c's own: lock, store identity, drivers'
                                 world, signal and wake events */
    /* Leadership (docs/ha.md): on a store several servers share, the one
     * holding the store's lease runs the controller, the drivers and the
     * services; the others (followers) serve reads and forward the rest. */
    int shared;               /* the store takes a lease (PostgreSQL) */
    int leader;               /* holds the lease: runs the controller */
    char holder[STORE_HOLDER_MAX]; /* this server's name in the lease */
    struct store_lease lease; /* as the last look at it found it */
    double lease_seen_mono;   /* clock_mono() of that look; 0 = none yet */
    double lease_ok_mono;     /* clock_mono() before the last take that held */
    int64_t epoch;            /* of this server's leadership; 0 = follower */
    uint64_t leader_terms;    /* times this server became the leader */
    double leader_since;      /* wall time it became the leader; 0 = follower */
    double first_step_at;     /* wall time of its first step as leader */
    char db_error[ST_ERR_MSG_MAX];       /* why the store cannot be reached; "" = it can */
};

/* Where the fees of commitment m are counted from in the cost reports: its
 * start, or for one the catalog gives no start ("already in force") the
 * server's first record, its first job's submission (now when it has none):
 * the report does not know since when it has been paid. */
struct commitment;
double srv_commit_from(struct srv *s, double now, const struct commitment *m);
/* The server's first job's submission into *at (now when it has none): 0,
 * or the store's error (*at = now). */
int srv_first_record(struct srv *s, double now, double *at);

/* Open everything but the loop: store, catalog, secret, policy, drivers and
 * controller, for conf (taken over, freed by srv_close).  home is copied. */
int srv_open(struct srv *s, const char *home, struct srv_conf *conf, struct err *e);
/* Close what srv_open opened (safe on a partly opened or zeroed srv). */
void srv_close(struct srv *s);
/* Run the loop in the foreground until SIGTERM/SIGINT (0) or a fatal error. */
int srv_run(struct srv *s, struct err *e);
/* Ask for a controller step as soon as the loop is idle (after a submit or a
 * request was committed). No-op when s->base is NULL. */
void srv_wake(struct srv *s);
/* Read the catalog's directory again and take its new prices into the
 * catalog in use (catalog_reprice_from: r says what was and was not
 * taken); the controller reprices live attempts at its next step.  A
 * catalog in error is refused whole (e: its file:line) and the prices stay. */
struct catalog_reprice;
int srv_reload_catalog(struct srv *s, struct catalog_reprice *r, struct err *e);
/* Set the org policy (text already validated or NULL to clear): parsed into
 * s->policy and saved in the store's settings. */
int srv_set_policy(struct srv *s, const char *text, struct err *e);
/* Replace the teams document with g (taken over): saved in the store's
 * settings, then in force for the controller and the API. */
int srv_set_org(struct srv *s, struct org *g, struct err *e);
/* 1 while the store file the server opened is still the one at its path
 * (a removed or replaced stratus.db ends the server); 1 for "mem:". */
int srv_store_still_ours(const struct srv *s);
/* Does this server lead now: always on a store it owns alone; on a shared
 * one, while it holds the lease and renewed it lately enough to act (a
 * leader that could not renew in time says it no longer leads before
 * another can take the lease: two never both say so). */
int srv_leads(const struct srv *s);
/* A call may have written: what was rendered is stale here (s->gen), and
 * on a shared store's leader, the other servers are told (NOTIFY). */
void srv_changed(struct srv *s);
/* Stop the loop after the current callback (srv_run then returns 0). */
void srv_stop(struct srv *s);
/* The store file is gone: remove the pid file (a server started for the new
 * store then waits for our lock), log why, and stop. */
void srv_stop_store_gone(struct srv *s);

/* http.c, called by server.c: open every listener of s->conf on s->base
 * (after the first catch-up), and close them. */
int srv_http_open(struct srv *s, struct err *e);
void srv_http_close(struct srv *s);
/* The base URL ("http://127.0.0.1:8080") a browser on this machine reaches
 * the server at: its first TCP listener (a loopback one if any), with the
 * port it was given.  0, or ST_ENOTFOUND when it has no TCP listener. */
int srv_http_url(const struct srv *s, char *buf, size_t n, struct err *e);
/* Ask every held request (a long poll) again: after a controller step or
 * anything else that may have changed what they wait for. */
void srv_http_recheck(struct srv *s);

#endif
