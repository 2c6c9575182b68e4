/*
 * pick.h - the router's view of a service's replicas and the choice of a
 * replica for each request: pure logic, no I/O, time passed in (`now`), so
 * unit tests drive it in virtual time.
 *
 * The replica set arrives as JSON (a file or the server's endpoint API):
 *   {"service":"llm","version":7,"keys":["<sha256 hex of an API key>",...],
 *    "replicas":[{"id":3,"url":"http://127.0.0.1:41234","cloud":"azure",
 *                 "region":"eastus","zone":"eastus-1","state":"READY",
 *                 "mode":"spot","accelerator":"H100","target_qps":10.0,
 *                 "max_inflight":8,"emulated":true}]}
 * rp_parse() checks it; rp_apply() merges it into the live set, keeping each
 * replica (by id and url) with its in-flight count, so a set that changes
 * under load never loses or double-counts a request.
 *
 * Choosing (rp_pick): only READY replicas, not ejected by the circuit
 * breaker, not already tried by this request.  Policy "nearest": the
 * replicas are ranked by the RTT from the router's region to theirs (the
 * priority levels); the nearest level with a replica below its in-flight
 * limit wins, the least loaded (in-flight / limit) of that level, ties
 * broken round-robin.  When every level is saturated the least loaded
 * replica anywhere takes it (overload beats a refusal).  Policy
 * "least_load": the same with every replica on one level (region-blind).
 *
 * Latency-aware "nearest" (rp_pick_work, once the set has learned a work
 * rate): a request whose size is known (its body's bytes: a prompt) goes
 * to the replica where it should start soonest, by
 *     RTT + (bytes in flight there + its own bytes) / work rate,
 * among those below their limit, else among all.  The work rate is learned
 * from answered requests (an average of bytes / duration), so the queue
 * term is in the same seconds as the RTT: a replica across an ocean takes
 * the request only when the near ones hold more than that RTT's worth of
 * work.  Counting bytes rather than requests is what keeps a short prompt
 * from queueing behind a long one (prompt sizes are heavy-tailed: the
 * Mooncake trace's P99 prompt is 12 times its median); region-blind least
 * load (SkyServe's) counts requests.
 *
 * Accounting: rp_pick adds one in-flight request to the replica it returns
 * and rp_done takes it off, exactly once per pick.  A replica that leaves
 * the set stays allocated (removed) until its last request is done, so the
 * counters cannot go negative under churn (SkyServe #10444).
 */
#ifndef STRATUS_ROUTER_PICK_H
#define STRATUS_ROUTER_PICK_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

enum rp_state { RP_READY, RP_DRAINING, RP_OTHER };
enum rp_policy { RP_NEAREST, RP_LEAST_LOAD };

#define RP_NBUCKETS 15 /* latency histogram buckets, +Inf apart */
extern const double rp_buckets[RP_NBUCKETS];

struct rp_hist {
    uint64_t count[RP_NBUCKETS + 1]; /* per bucket (not cumulative); last = +Inf */
    double sum;                      /* seconds */
};

/* One replica as parsed (rp_parse) and as kept live (rp_set). */
struct rp_replica {
    int64_t id;
    char *url;                 /* "http://host:port" */
    char *host;                /* from url */
    int port;
    char *cloud, *region, *zone, *mode, *accelerator; /* "" when absent */
    char *state_name;          /* as given ("READY", "PROVISIONING", ...) */
    enum rp_state state;
    double target_qps;         /* 0 = not given */
    int max_inflight;          /* 0 = not given */
    int emulated;              /* add the emulated RTT before forwarding */
    /* live fields (rp_set only) */
    uint64_t serial;           /* unique over the router's life: pools key on it */
    double rtt_ms;             /* router region -> replica region; 1e9 unknown */
    int limit;                 /* in-flight limit in use */
    unsigned inflight;
    double work;               /* bytes of the requests in flight (rp_pick_work) */
    int removed;               /* left the set; freed at inflight 0 */
    int consec_fail;           /* circuit breaker */
    int nejections;
    double ejected_until;
    uint64_t nreq, nfail, nretried;
    struct rp_hist lat;
    struct rp_replica *next;   /* in rp_set.list (live and removed alike) */
};

/* A parsed replica set document. */
struct rp_doc {
    char *service;
    int64_t version;
    char **keys;               /* lowercase hex sha256, 64 chars */
    size_t nkeys;
    struct rp_replica *replicas;
    size_t nreplicas;
};

/* RTT in ms from the router's region to (cloud, region), < 0 unknown. */
typedef double (*rp_rtt_fn)(void *ctx, const char *cloud, const char *region);

struct rp_config {
    enum rp_policy policy;
    int max_inflight;          /* default limit; 0: from target_qps, else 64 */
    int eject_after;           /* consecutive failures that eject (0: never) */
    double eject_base_s;       /* ejection time = base x times ejected */
    double eject_max_s;
    rp_rtt_fn rtt;
    void *rtt_ctx;
};

struct rp_set {
    struct rp_config cfg;
    struct rp_replica *list;   /* live and removed replicas */
    char *service;
    int64_t version;
    char **keys;
    size_t nkeys;
    uint64_t next_serial;
    unsigned rr;               /* round-robin tie breaker */
    double work_rate;          /* bytes answered per second of a request's
                                  life, learned (rp_done_work); 0 = not yet */
    /* counters */
    uint64_t overflows;        /* went past the nearest level with a ready replica */
    uint64_t saturated;        /* every level full: least loaded anywhere */
    uint64_t ejections;
};

/* Parse a replica set document (text of len bytes); origin names it in
 * errors ("file:line:col: ..."). On success *doc is filled (rp_doc_clear). */
int rp_parse(const char *text, size_t len, const char *origin, struct rp_doc *doc,
             struct err *e);
void rp_doc_clear(struct rp_doc *doc);

void rp_set_init(struct rp_set *s, const struct rp_config *cfg);
/* Free everything, in-flight or not (at exit). */
void rp_set_free(struct rp_set *s);
/* Make doc the live set (doc is left untouched). */
void rp_apply(struct rp_set *s, const struct rp_doc *doc);

/* The replica for a request, its in-flight count raised; NULL when none can
 * take it.  tried/ntried: serials this request already failed on.  *overflow
 * (may be NULL) is set when it went past the nearest level. */
struct rp_replica *rp_pick(struct rp_set *s, double now, const uint64_t *tried, size_t ntried,
                           int *overflow);
/* As rp_pick, for a request of `work` bytes (0 = unknown): with policy
 * nearest and a learned work rate, the latency-aware choice above; the
 * bytes count as in flight at the replica until rp_done_work. */
struct rp_replica *rp_pick_work(struct rp_set *s, double now, const uint64_t *tried,
                                size_t ntried, double work, int *overflow);
/* A request picked on r is over: ok = 0 counts towards ejection (connection
 * failed, 502/503/504), secs its duration (< 0: do not record).  Frees r when
 * it was removed and this was its last request. */
void rp_done(struct rp_set *s, struct rp_replica *r, int ok, double secs, double now);
/* As rp_done for a request picked with rp_pick_work(work): its bytes leave
 * r, and an answered one teaches the set its work rate. */
void rp_done_work(struct rp_set *s, struct rp_replica *r, int ok, double secs, double work,
                  double now);
/* Replicas that could take traffic now (READY, not removed). */
size_t rp_nready(const struct rp_set *s);
/* Whether the replica with this serial is still in the set (not removed). */
int rp_alive(const struct rp_set *s, uint64_t serial);
/* Whether the sha256 hex of a key is in the set's keys (1) or not (0). */
int rp_key_ok(const struct rp_set *s, const char *hex);

#endif
