/*
 * router_proxy.c - one request through the router: checks (431, 401,
 * the router's own /-/ paths), the pick, the emulated RTT, the upstream
 * request on a pooled keep-alive connection, and the reply.  evhttp parses
 * HTTP on both sides; nothing here reads raw bytes.
 *
 * The reply is buffered when the replica sends a Content-Length up to
 * RT_BUFFER_MAX (one write, the common case of small JSON answers) and
 * streamed otherwise: chunked and SSE responses (LLM tokens) go to the
 * client as each piece arrives (evhttp's chunked callback).
 *
 * A failed attempt is retried on another replica only when no byte of the
 * response came back and either the method is idempotent or the connection
 * to the replica could not be made at all (then the replica never saw the
 * request).  A request that fails after its headers were relayed cannot be
 * retried: a streamed one is cut (the client sees the connection close
 * before the last chunk), a buffered one gets 502.
 *
 * Lifetimes: a struct rt_pxy lives from the request to its reply.  While an
 * attempt holds a replica (p->rep) it holds one in-flight count there,
 * given back by end_attempt() exactly once.  When the client goes away
 * (the connection's close callback) the upstream request is cancelled and
 * the attempt ended as "ok" (the replica did nothing wrong).
 */
#include "router/router_int.h"

#include <sys/queue.h> /* TAILQ_FOREACH over evkeyvalq */

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/auth.h"
#include "util/xmem.h"

#define RT_BUFFER_MAX (256 * 1024)

enum phase { PH_NONE, PH_DELAY, PH_UPSTREAM, PH_WAIT };

struct rt_pxy {
    struct rt_worker *w;
    struct evhttp_request *dreq;   /* the client's; NULL once it left */
    struct evhttp_connection *dcon;
    struct evhttp_request *ureq;   /* to the replica, while PH_UPSTREAM */
    struct rt_conn *uc;
    struct rp_replica *rep;        /* holds an in-flight count while set */
    uint64_t rep_serial;
    int64_t rep_id;
    char rep_region[96];
    double rep_delay_ms;
    uint64_t tried[RT_MAX_TRIES];
    size_t ntried;
    enum phase phase;
    int idempotent, got_headers, streaming, err_kind, overflow;
    int status;
    size_t bytes;
    double t0, wait_until;
    struct evbuffer *body;
    struct event *timer;
    struct rt_pxy *next_wait;
};

static void attempt(struct rt_pxy *p);

/* ---- small helpers ---- */

static const char *method_str(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

static int is_idempotent(enum evhttp_cmd_type c)
{
    return c == EVHTTP_REQ_GET || c == EVHTTP_REQ_HEAD || c == EVHTTP_REQ_PUT ||
           c == EVHTTP_REQ_DELETE || c == EVHTTP_REQ_OPTIONS;
}

/* Headers that describe one connection, not the message (RFC 9110 7.6.1). */
static int hop_by_hop(const char *k)
{
    static const char *const hop[] = {"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                      "Trailer", "Transfer-Encoding", "Upgrade",
                                      "Content-Length", NULL};
    size_t i;

    for (i = 0; hop[i]; i++)
        if (strcasecmp(k, hop[i]) == 0)
            return 1;
    return 0;
}

static void count_code(struct rt *rt, int code, double secs)
{
    rt_lock(rt);
    rt->by_code[code > 0 && code < RT_NCODES ? code : 0]++;
    if (secs >= 0) {
        size_t i;

        for (i = 0; i < RP_NBUCKETS && secs > rp_buckets[i]; i++)
            ;
        rt->lat.count[i]++;
        rt->lat.sum += secs;
    }
    rt_unlock(rt);
}

static void access_log(struct rt_pxy *p, struct evhttp_request *req, int code)
{
    FILE *f = p->w->rt->alog;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    char *host = NULL;
    ev_uint16_t port = 0;

    if (f == NULL)
        return;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (p->dcon)
        evhttp_connection_get_peer(p->dcon, &host, &port);
    fprintf(f, "%s %s %s %s %d %zu %.1fms replica=%lld region=%s attempts=%zu%s\n", ts,
            host ? host : "-", method_str(evhttp_request_get_command(req)),
            evhttp_request_get_uri(req), code, p->bytes, (rt_now() - p->t0) * 1e3,
            (long long)p->rep_id, p->rep_region[0] ? p->rep_region : "-", p->ntried,
            p->overflow ? " overflow" : "");
}

/* A reply made by the router itself (JSON error, or a /-/ path). */
static void reply_own(struct evhttp_request *req, int code, const char *ctype,
                      const char *body)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evbuffer_add(out, body, strlen(body));
    evhttp_send_reply(req, code, NULL, NULL);
}

static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
    char body[512];

    snprintf(body, sizeof(body), "{\"error\":{\"code\":%d,\"message\":\"%s\"}}\n", code, msg);
    reply_own(req, code, "application/json", body);
}

/* ---- connection pools ---- */

static struct rt_pool *pool_of(struct rt_worker *w, const struct rt_pxy *p, const char *host,
                               int port)
{
    struct rt_pool *pl;

    for (pl = w->pools; pl; pl = pl->next)
        if (pl->serial == p->rep_serial)
            return pl;
    pl = xcalloc(1, sizeof(*pl));
    pl->serial = p->rep_serial;
    pl->host = xstrdup(host);
    pl->port = port;
    pl->next = w->pools;
    w->pools = pl;
    return pl;
}

static struct rt_conn *conn_get(struct rt_worker *w, struct rt_pool *pl)
{
    struct rt_conn *c = pl->idle;

    if (c != NULL) {
        pl->idle = c->next;
    } else {
        c = xcalloc(1, sizeof(*c));
        c->pool = pl;
        c->evcon = evhttp_connection_base_new(w->base, NULL, pl->host, (ev_uint16_t)pl->port);
        if (c->evcon == NULL) {
            free(c);
            return NULL;
        }
        evhttp_connection_set_timeout(c->evcon, w->rt->c->upstream_timeout_s);
        evhttp_connection_set_retries(c->evcon, 0);
    }
    pl->busy++;
    return c;
}

static void conn_put(struct rt_conn *c)
{
    c->pool->busy--;
    c->next = c->pool->idle;
    c->pool->idle = c;
}

void rt_pool_gc(struct rt_worker *w)
{
    struct rt_pool **pp = &w->pools, *pl;
    struct rt_conn *c;
    int alive;

    while ((pl = *pp) != NULL) {
        rt_lock(w->rt);
        alive = rp_alive(&w->rt->set, pl->serial);
        rt_unlock(w->rt);
        if (!alive) {
            while ((c = pl->idle) != NULL) {
                pl->idle = c->next;
                evhttp_connection_free(c->evcon);
                free(c);
            }
        }
        if (!alive && pl->busy == 0) {
            *pp = pl->next;
            free(pl->host);
            free(pl);
        } else {
            pp = &pl->next;
        }
    }
}

void rt_pools_free(struct rt_worker *w)
{
    struct rt_pool *pl;
    struct rt_conn *c;

    while ((pl = w->pools) != NULL) {
        w->pools = pl->next;
        while ((c = pl->idle) != NULL) {
            pl->idle = c->next;
            evhttp_connection_free(c->evcon);
            free(c);
        }
        free(pl->host);
        free(pl);
    }
}

/* ---- the end of a request ---- */

static void pxy_free(struct rt_pxy *p)
{
    BUG_ON(p->rep != NULL);
    if (p->timer)
        event_free(p->timer);
    if (p->body)
        evbuffer_free(p->body);
    free(p);
}

/* Give the replica's in-flight count back (once per attempt). */
static void end_attempt(struct rt_pxy *p, int ok, double secs)
{
    struct rt *rt = p->w->rt;

    if (p->rep == NULL)
        return;
    rt_lock(rt);
    rp_done(&rt->set, p->rep, ok, secs, rt_now());
    if (!ok)
        rt->upstream_errors++;
    rt_unlock(rt);
    p->rep = NULL;
}

/* Stop watching the client's connection: after the reply it may be reused
 * or freed, and its close callback must not find this request. */
static void unwatch_client(struct rt_pxy *p)
{
    if (p->dreq != NULL && evhttp_request_get_connection(p->dreq) != NULL)
        evhttp_connection_set_closecb(p->dcon, NULL, NULL);
}

/* End the request with an answer of the router's own. */
static void finish_error(struct rt_pxy *p, int code, const char *msg)
{
    char ra[16];

    if (p->dreq != NULL) {
        unwatch_client(p);
        if (code == 503) {
            snprintf(ra, sizeof(ra), "%d", p->w->rt->c->retry_after_s);
            evhttp_add_header(evhttp_request_get_output_headers(p->dreq), "Retry-After", ra);
        }
        access_log(p, p->dreq, code);
        reply_error(p->dreq, code, msg);
    }
    count_code(p->w->rt, code, -1);
    pxy_free(p);
}

static void finish_ok(struct rt_pxy *p, struct evhttp_request *ureq)
{
    if (p->dreq != NULL) {
        unwatch_client(p);
        access_log(p, p->dreq, p->status);
        if (p->streaming)
            evhttp_send_reply_end(p->dreq);
        else
            evhttp_send_reply(p->dreq, p->status, evhttp_request_get_response_code_line(ureq),
                              p->body);
    }
    count_code(p->w->rt, p->status, rt_now() - p->t0);
    pxy_free(p);
}

/* The replica failed after the headers were relayed: cut the client off
 * so that it can tell a truncated reply from a whole one. */
static void finish_cut(struct rt_pxy *p)
{
    if (p->dreq != NULL) {
        access_log(p, p->dreq, p->status);
        unwatch_client(p);
        evhttp_connection_free(p->dcon); /* frees p->dreq with it */
        p->dreq = NULL;
    }
    count_code(p->w->rt, p->status, -1);
    pxy_free(p);
}

/* ---- upstream callbacks ---- */

static void copy_headers(struct evkeyvalq *from, struct evkeyvalq *to, const char *skip)
{
    struct evkeyval *kv;

    TAILQ_FOREACH(kv, from, next)
        if (!hop_by_hop(kv->key) && (skip == NULL || strcasecmp(kv->key, skip) != 0))
            evhttp_add_header(to, kv->key, kv->value);
}

static int on_up_headers(struct evhttp_request *ureq, void *arg)
{
    struct rt_pxy *p = arg;
    struct evkeyvalq *in = evhttp_request_get_input_headers(ureq);
    const char *cl = evhttp_find_header(in, "Content-Length");
    const char *ct = evhttp_find_header(in, "Content-Type");
    struct bufferevent *bev;

    p->got_headers = 1;
    p->status = evhttp_request_get_response_code(ureq);
    p->streaming = cl == NULL || strtoull(cl, NULL, 10) > RT_BUFFER_MAX ||
                   (ct != NULL && strncasecmp(ct, "text/event-stream", 17) == 0);
    if (p->dreq == NULL)
        return 0;
    copy_headers(in, evhttp_request_get_output_headers(p->dreq), NULL);
    if (!p->streaming)
        return 0;
    if (cl != NULL) /* a large body of known length: passed on unchunked */
        evhttp_add_header(evhttp_request_get_output_headers(p->dreq), "Content-Length", cl);
    evhttp_send_reply_start(p->dreq, p->status, evhttp_request_get_response_code_line(ureq));
    /* A stream may be quiet between tokens for longer than the client
     * timeout; writes keep theirs (a client that stops reading is dropped). */
    bev = evhttp_connection_get_bufferevent(p->dcon);
    if (bev != NULL) {
        struct timeval wt = {p->w->rt->c->client_timeout_s, 0};

        bufferevent_set_timeouts(bev, NULL, &wt);
    }
    return 0;
}

static void on_up_chunk(struct evhttp_request *ureq, void *arg)
{
    struct rt_pxy *p = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(ureq);

    p->bytes += evbuffer_get_length(in);
    if (p->dreq == NULL)
        return; /* drained by evhttp */
    if (p->streaming) {
        evhttp_send_reply_chunk(p->dreq, in);
        return;
    }
    if (p->body == NULL)
        p->body = evbuffer_new();
    evbuffer_add_buffer(p->body, in);
}

static void on_up_error(enum evhttp_request_error kind, void *arg)
{
    struct rt_pxy *p = arg;

    p->err_kind = (int)kind;
}

static int may_retry(const struct rt_pxy *p, int connect_failed)
{
    return p->dreq != NULL && !p->got_headers && (p->idempotent || connect_failed) &&
           p->ntried < (size_t)(1 + p->w->rt->c->retries) && p->ntried < RT_MAX_TRIES;
}

static void up_failed(struct rt_pxy *p)
{
    /* No error callback: evhttp could not connect, the replica never saw
     * the request (libevent 2.1 fails a refused connect this way). */
    int connect_failed = p->err_kind < 0;

    end_attempt(p, p->dreq == NULL, -1);
    if (p->dreq == NULL) {
        pxy_free(p); /* counted in on_client_close */
        return;
    }
    if (may_retry(p, connect_failed)) {
        rt_lock(p->w->rt);
        p->w->rt->retries++;
        rt_unlock(p->w->rt);
        p->got_headers = p->streaming = 0;
        attempt(p);
        return;
    }
    if (p->got_headers && p->streaming)
        finish_cut(p);
    else if (p->err_kind == EVREQ_HTTP_TIMEOUT)
        finish_error(p, 504, "the replica did not answer in time");
    else
        finish_error(p, 502, "the replica failed before answering (connection refused or "
                             "closed)");
}

static void on_up_done(struct evhttp_request *ureq, void *arg)
{
    struct rt_pxy *p = arg;
    int code = ureq ? evhttp_request_get_response_code(ureq) : 0;

    p->ureq = NULL;
    p->phase = PH_NONE;
    conn_put(p->uc);
    p->uc = NULL;
    if (code == 0 || !p->got_headers || p->err_kind >= 0) {
        up_failed(p);
        return;
    }
    end_attempt(p, p->dreq == NULL || (code != 502 && code != 503 && code != 504),
                rt_now() - p->t0);
    finish_ok(p, ureq);
}

/* ---- sending upstream ---- */

static void build_upstream(struct rt_pxy *p, struct evhttp_request *u)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(u);
    struct evbuffer *body = evhttp_request_get_input_buffer(p->dreq);
    size_t n = evbuffer_get_length(body);
    char *peer = NULL, len[32];
    ev_uint16_t port = 0;
    int keys;

    rt_lock(p->w->rt);
    keys = p->w->rt->set.nkeys > 0;
    rt_unlock(p->w->rt);
    /* With keys the router authenticates: the key is not the model's. */
    copy_headers(evhttp_request_get_input_headers(p->dreq), out, keys ? "Authorization" : NULL);
    if (evhttp_find_header(out, "Host") == NULL)
        evhttp_add_header(out, "Host", "replica");
    evhttp_connection_get_peer(p->dcon, &peer, &port);
    if (peer != NULL)
        evhttp_add_header(out, "X-Forwarded-For", peer);
    if (n > 0 || evhttp_request_get_command(p->dreq) == EVHTTP_REQ_POST ||
        evhttp_request_get_command(p->dreq) == EVHTTP_REQ_PUT) {
        snprintf(len, sizeof(len), "%zu", n);
        evhttp_add_header(out, "Content-Length", len);
    }
    if (n > 0) /* by reference: a retry sends the same bytes again */
        evbuffer_add_buffer_reference(evhttp_request_get_output_buffer(u), body);
}

static void forward(struct rt_pxy *p, const char *host, int port)
{
    struct rt_pool *pl = pool_of(p->w, p, host, port);
    struct evhttp_request *u;

    p->err_kind = -1;
    p->uc = conn_get(p->w, pl);
    if (p->uc == NULL) {
        up_failed(p);
        return;
    }
    u = evhttp_request_new(on_up_done, p);
    evhttp_request_set_header_cb(u, on_up_headers);
    evhttp_request_set_chunked_cb(u, on_up_chunk);
    evhttp_request_set_error_cb(u, on_up_error);
    build_upstream(p, u);
    p->ureq = u;
    p->phase = PH_UPSTREAM;
    if (evhttp_make_request(p->uc->evcon, u, evhttp_request_get_command(p->dreq),
                            evhttp_request_get_uri(p->dreq)) != 0) {
        /* evhttp freed u; the replica saw nothing */
        p->ureq = NULL;
        p->phase = PH_NONE;
        conn_put(p->uc);
        p->uc = NULL;
        up_failed(p);
    }
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    struct rt_pxy *p = arg;
    struct rt *rt = p->w->rt;
    char host[256];
    int port;

    (void)fd;
    (void)what;
    rt_lock(rt);
    snprintf(host, sizeof(host), "%s", p->rep->host);
    port = p->rep->port;
    rt_unlock(rt);
    p->phase = PH_NONE;
    forward(p, host, port);
}

static void set_timer(struct rt_pxy *p, double secs)
{
    struct timeval tv = {(time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6)};

    if (p->timer == NULL)
        p->timer = evtimer_new(p->w->base, on_delay, p);
    evtimer_add(p->timer, &tv);
}

static void wait_for_replica(struct rt_pxy *p)
{
    if (p->phase != PH_WAIT) {
        rt_lock(p->w->rt);
        p->w->rt->waited++;
        rt_unlock(p->w->rt);
    }
    p->phase = PH_WAIT;
    p->next_wait = p->w->waitq;
    p->w->waitq = p;
}

/* Pick a replica and send (after the emulated RTT, if any). */
static void attempt(struct rt_pxy *p)
{
    struct rt *rt = p->w->rt;
    struct rp_replica *r;
    char host[256];
    int port = 0, ov = 0;

    rt_lock(rt);
    r = rp_pick(&rt->set, rt_now(), p->tried, p->ntried, &ov);
    if (r != NULL) {
        p->rep = r;
        p->rep_serial = r->serial;
        p->rep_id = r->id;
        p->tried[p->ntried++] = r->serial;
        p->overflow |= ov;
        snprintf(p->rep_region, sizeof(p->rep_region), "%s/%s", r->cloud, r->region);
        p->rep_delay_ms = r->emulated && r->rtt_ms < 1e8 ? r->rtt_ms : 0;
        snprintf(host, sizeof(host), "%s", r->host);
        port = r->port;
    } else if (p->ntried == 0 && rt->c->max_wait_s <= 0) {
        rt->no_replica++;
    }
    rt_unlock(rt);
    if (r == NULL && p->ntried == 0 && rt->c->max_wait_s > 0 && rt_now() < p->wait_until) {
        wait_for_replica(p);
        return;
    }
    if (r == NULL) {
        if (p->ntried > 0)
            finish_error(p, 502, "every replica tried failed before answering");
        else
            finish_error(p, 503, "no replica is ready to take the request; retry later");
        return;
    }
    if (p->rep_delay_ms > 0) {
        p->phase = PH_DELAY;
        set_timer(p, p->rep_delay_ms / 1e3);
        return;
    }
    forward(p, host, port);
}

void rt_wake_waiting(struct rt_worker *w)
{
    struct rt_pxy *q = w->waitq, *p;

    w->waitq = NULL;
    while ((p = q) != NULL) {
        q = p->next_wait;
        p->next_wait = NULL;
        attempt(p); /* back on w->waitq if still nothing */
    }
}

/* ---- the client ---- */

static void unlink_wait(struct rt_pxy *p)
{
    struct rt_pxy **pp;

    for (pp = &p->w->waitq; *pp; pp = &(*pp)->next_wait)
        if (*pp == p) {
            *pp = p->next_wait;
            return;
        }
}

/* The client's connection closed before the reply was complete. */
static void on_client_close(struct evhttp_connection *evcon, void *arg)
{
    struct rt_pxy *p = arg;
    struct evhttp_request *d = p->dreq;

    (void)evcon;
    p->dreq = NULL;
    rt_lock(p->w->rt);
    p->w->rt->client_aborts++;
    rt_unlock(p->w->rt);
    switch (p->phase) {
    case PH_UPSTREAM:
        /* libevent 2.1 calls only the error callback of a cancelled
         * request, not its done callback: p ends here. */
        evhttp_cancel_request(p->ureq);
        p->ureq = NULL;
        conn_put(p->uc);
        p->uc = NULL;
        end_attempt(p, 1, -1);
        pxy_free(p);
        break;
    case PH_DELAY:
        end_attempt(p, 1, -1);
        pxy_free(p);
        break;
    case PH_WAIT:
        unlink_wait(p);
        pxy_free(p);
        break;
    default:
        break;
    }
    /* evhttp detached the unanswered request from the dying connection:
     * it is ours to free (one still attached is freed with it). */
    if (d != NULL && evhttp_request_get_connection(d) == NULL)
        evhttp_request_free(d);
}

static size_t header_bytes(struct evhttp_request *req)
{
    struct evkeyval *kv;
    size_t n = strlen(evhttp_request_get_uri(req)) + 16;

    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
        n += strlen(kv->key) + strlen(kv->value) + 4;
    return n;
}

/* Authorization: Bearer KEY against the set's keys; 0 when it may pass. */
static int check_key(struct rt *rt, struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    char hex[65];
    int ok;

    rt_lock(rt);
    ok = rt->set.nkeys == 0;
    rt_unlock(rt);
    if (ok)
        return 0;
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return -1;
    for (h += 7; *h == ' '; h++)
        ;
    auth_sha256_hex(h, strlen(h), hex);
    rt_lock(rt);
    ok = rp_key_ok(&rt->set, hex);
    rt_unlock(rt);
    return ok ? 0 : -1;
}

static void own_path(struct rt_worker *w, struct evhttp_request *req, const char *uri)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    char body[256];
    size_t ready;
    int64_t version;
    char *js;

    if (strcmp(uri, "/-/metrics") == 0) {
        rt_metrics(w->rt, out);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4");
        evhttp_send_reply(req, 200, "OK", NULL);
    } else if (strcmp(uri, "/-/healthz") == 0) {
        rt_lock(w->rt);
        ready = rp_nready(&w->rt->set);
        version = w->rt->set.version;
        rt_unlock(w->rt);
        snprintf(body, sizeof(body), "{\"status\":\"ok\",\"ready_replicas\":%zu,"
                 "\"version\":%lld}\n", ready, (long long)version);
        reply_own(req, 200, "application/json", body);
    } else if (strcmp(uri, "/-/replicas") == 0) {
        js = rt_replicas_json(w->rt);
        reply_own(req, 200, "application/json", js);
        free(js);
    } else {
        reply_error(req, 404, "the router's own paths are /-/healthz, /-/metrics, "
                              "/-/replicas");
    }
}

void rt_on_request(struct evhttp_request *req, void *arg)
{
    struct rt_worker *w = arg;
    struct rt *rt = w->rt;
    const char *uri = evhttp_request_get_uri(req);
    struct rt_pxy *p;

    if (uri == NULL || uri[0] != '/') {
        count_code(rt, 400, -1);
        reply_error(req, 400, "the request target must be a path (origin-form, /...)");
        return;
    }
    if (header_bytes(req) > rt->c->max_header_bytes) {
        count_code(rt, 431, -1);
        reply_error(req, 431, "the request line and headers are larger than the router takes");
        return;
    }
    if (strncmp(uri, "/-/", 3) == 0) {
        own_path(w, req, uri);
        return;
    }
    if (check_key(rt, req) != 0) {
        count_code(rt, 401, -1);
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
        reply_error(req, 401, "a valid API key is required: Authorization: Bearer KEY");
        return;
    }
    p = xcalloc(1, sizeof(*p));
    p->w = w;
    p->dreq = req;
    p->dcon = evhttp_request_get_connection(req);
    p->idempotent = is_idempotent(evhttp_request_get_command(req));
    p->t0 = rt_now();
    p->wait_until = p->t0 + rt->c->max_wait_s;
    p->err_kind = -1;
    evhttp_connection_set_closecb(p->dcon, on_client_close, p);
    attempt(p);
}
