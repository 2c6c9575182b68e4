/*
 * router_proxy.c - one request through the router: the checks (401, the
 * router's own /-/ paths), the pick, the emulated RTT, the request to the
 * replica, and the reply.  router_conn.c owns the sockets and the parsing
 * (http_parser); this file owns what a request means.
 *
 * The reply streams: its head goes to the client as soon as the replica's
 * head is parsed, and each piece of body as it arrives (chunked and SSE
 * replies, LLM tokens, reach the client token by token).  A body of known
 * length keeps its Content-Length; one of unknown length is chunked by the
 * router (or, to an HTTP/1.0 client, ended by closing).
 *
 * A failed attempt is retried on another replica only when no byte of the
 * reply came back and either the method is idempotent, or the replica
 * never saw the request: the connection could not be made, or a pooled
 * keep-alive connection turned out closed by the replica (EOF before any
 * byte of the reply: a server closes only idle connections, RFC 9112 9.3).
 * A reply that fails after its head went out cannot be retried: the client
 * connection is cut, so it can tell a truncated reply from a whole one.
 *
 * Accounting: while an attempt holds a replica (p->rep) it holds one
 * in-flight count there, given back by end_attempt() exactly once.
 */
#include "router_int.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../server/auth.h"
#include "../util/xmem.h"

static void attempt(struct rt_pxy *p);

/* ---- small helpers ---- */

static int is_idempotent(unsigned m)
{
    return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_PUT || m == HTTP_DELETE ||
           m == HTTP_OPTIONS;
}

/* Count a reply (rt's lock held). */
static void count_code_locked(struct rt *rt, int code, double secs)
{
    rt->by_code[code > 0 && code < RT_NCODES ? code : 0]++;
    if (secs >= 0) {
        size_t i;

        for (i = 0; i < RP_NBUCKETS && secs > rp_buckets[i]; i++)
            ;
        rt->lat.count[i]++;
        rt->lat.sum += secs;
    }
}

static void count_code(struct rt *rt, int code, double secs)
{
    rt_lock(rt);
    count_code_locked(rt, code, secs);
    rt_unlock(rt);
}

static void access_log(const struct rt_cconn *c, int code)
{
    const struct rt_pxy *p = &c->px;
    FILE *f = c->w->rt->alog;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;

    if (f == NULL)
        return;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "%s %s %s %s %d %zu %.1fms replica=%lld region=%s attempts=%zu%s\n", ts, c->peer,
            http_method_str((enum http_method)c->hp.method), c->url.data ? c->url.data : "",
            code, p->bytes, (rt_now() - p->t0) * 1e3, (long long)p->rep_id,
            p->rep_region[0] ? p->rep_region : "-", p->ntried, p->overflow ? " overflow" : "");
}

/* A whole reply made by the router itself; extra: more header lines. */
static void reply_own(struct rt_cconn *c, int code, const char *ctype, const char *body,
                      size_t len, const char *extra)
{
    evbuffer_add_printf(c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "%s%s\r\n", code, http_status_str((enum http_status)code), ctype, len,
                        extra ? extra : "", c->keep_alive ? "" : "Connection: close\r\n");
    if (c->hp.method != HTTP_HEAD)
        evbuffer_add(c->out, body, len);
    rt_client_done(c);
}

static void reply_error(struct rt_cconn *c, int code, const char *msg, const char *extra)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":%d,\"message\":\"%s\"}}\n",
                     code, msg);

    reply_own(c, code, "application/json", body, (size_t)n, extra);
}

void rt_reply_parse_error(struct rt_cconn *c, int code, const char *msg)
{
    count_code(c->w->rt, code, -1);
    c->keep_alive = 0; /* the rest of the stream cannot be trusted */
    c->busy = 1;
    reply_error(c, code, msg, NULL);
}

/* ---- the end of a request ---- */

/* Give the replica's in-flight count back (once per attempt). */
static void end_attempt(struct rt_pxy *p, int ok, double secs)
{
    struct rt *rt = p->w->rt;

    if (p->rep == NULL)
        return;
    rt_lock(rt);
    rp_done_work(&rt->set, p->rep, ok, secs, p->work, rt_now());
    if (!ok)
        rt->upstream_errors++;
    rt_unlock(rt);
    p->rep = NULL;
}

/* End the request with an answer of the router's own. */
static void finish_error(struct rt_pxy *p, int code, const char *msg)
{
    char ra[48];

    snprintf(ra, sizeof(ra), "Retry-After: %d\r\n", p->w->rt->c->retry_after_s);
    access_log(p->c, code);
    count_code(p->w->rt, code, -1);
    reply_error(p->c, code, msg, code == 503 ? ra : NULL);
}

/* The replica failed after the head was relayed: what was relayed goes
 * out, then the connection closes, so the client sees the reply end early
 * (no last chunk, or fewer bytes than its Content-Length). */
static void finish_cut(struct rt_pxy *p)
{
    struct rt_cconn *c = p->c;

    access_log(c, p->status);
    count_code(p->w->rt, p->status, -1);
    c->keep_alive = 0;
    rt_client_done(c);
}

void rt_client_left(struct rt_pxy *p)
{
    struct rt *rt = p->w->rt;
    struct rt_pxy **pp;

    rt_lock(rt);
    rt->client_aborts++;
    rt_unlock(rt);
    if (p->phase == PH_UPSTREAM)
        rt_up_abandon(p);
    if (p->phase == PH_DELAY)
        event_del(p->timer);
    if (p->phase == PH_WAIT)
        for (pp = &p->w->waitq; *pp; pp = &(*pp)->next_wait)
            if (*pp == p) {
                *pp = p->next_wait;
                break;
            }
    end_attempt(p, 1, -1); /* the replica did nothing wrong */
    p->phase = PH_NONE;
}

/* ---- heads without printf (the hot path: a few per request) ---- */

static void add_str(struct evbuffer *b, const char *s)
{
    evbuffer_add(b, s, strlen(s));
}

/* "NAME: N\r\n" for a count; N in decimal. */
static void add_num_header(struct evbuffer *b, const char *name, unsigned long long n)
{
    char d[48], *q = d + sizeof(d);

    *--q = '\n';
    *--q = '\r';
    do
        *--q = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    add_str(b, name);
    evbuffer_add(b, q, (size_t)(d + sizeof(d) - q));
}

static void add_status_line(struct evbuffer *b, int status, const char *reason)
{
    char line[16] = "HTTP/1.1 000 ";

    line[9] = (char)('0' + status / 100 % 10);
    line[10] = (char)('0' + status / 10 % 10);
    line[11] = (char)('0' + status % 10);
    evbuffer_add(b, line, 13);
    add_str(b, reason);
    evbuffer_add(b, "\r\n", 2);
}

/* ---- the reply ---- */

/* Another attempt is within --retries. */
static int retry_left(const struct rt_pxy *p)
{
    return p->ntried < (size_t)(1 + p->w->rt->c->retries) && p->ntried < RT_MAX_TRIES;
}

int rt_up_head(struct rt_pxy *p, struct rt_uconn *u)
{
    struct rt_cconn *c = p->c;
    int status = u->hp.status_code;
    int no_body = p->head_only || status == 204 || status == 304;

    if (status == 101)
        return -1; /* an upgrade nobody asked for (requests that ask get 501) */
    if (status == 503 && retry_left(p) && (p->idempotent || p->w->rt->c->retry_reset)) {
        /* Not taken: a replica draining (a preemption notice reaches its
         * node before the replica set reaches us) or still loading answers
         * 503 without running the request; another replica may take it.
         * Without a try left, the 503 goes to the client as it is. */
        p->refused = 1;
        return -1;
    }
    if (status >= 100 && status < 200) {
        p->informational = 1; /* 100 Continue, 103 Early Hints: not for the client */
        return 0;
    }
    p->got_headers = 1;
    p->status = status;
    add_status_line(c->out, status,
                    u->reason[0] ? u->reason : http_status_str((enum http_status)status));
    evbuffer_add(c->out, u->head.text.data, u->head.text.len);
    if ((u->hp.flags & F_CONTENTLENGTH) && status != 204)
        add_num_header(c->out, "Content-Length: ", (unsigned long long)u->hp.content_length);
    else if (!no_body && !c->http10)
        p->chunked_out = 1;
    else if (!no_body)
        c->keep_alive = 0; /* HTTP/1.0: the end of the body is the end of the connection */
    if (p->chunked_out)
        evbuffer_add(c->out, "Transfer-Encoding: chunked\r\n", 28);
    if (!c->keep_alive)
        evbuffer_add(c->out, "Connection: close\r\n", 19);
    else if (c->http10)
        evbuffer_add(c->out, "Connection: keep-alive\r\n", 24);
    evbuffer_add(c->out, "\r\n", 2);
    return no_body; /* 1: the parser expects no body (bytes there end the connection) */
}

void rt_up_body(struct rt_pxy *p, const char *at, size_t len)
{
    struct evbuffer *out = p->c->out;

    p->bytes += len;
    if (len == 0)
        return;
    if (p->chunked_out)
        evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add(out, at, len);
    if (p->chunked_out)
        evbuffer_add(out, "\r\n", 2);
}

void rt_up_complete(struct rt_pxy *p)
{
    struct rt_cconn *c = p->c;

    struct rt *rt = p->w->rt;
    double now = rt_now();

    if (p->chunked_out)
        evbuffer_add(c->out, "0\r\n\r\n", 5);
    /* one lock for both: with several loops the lock is what they share */
    rt_lock(rt);
    if (p->rep != NULL) {
        int ok = p->status != 502 && p->status != 503 && p->status != 504;

        rp_done_work(&rt->set, p->rep, ok, now - p->t0, p->work, now);
        rt->upstream_errors += !ok;
    }
    count_code_locked(rt, p->status, now - p->t0);
    rt_unlock(rt);
    p->rep = NULL;
    access_log(c, p->status);
    rt_client_done(c);
}

static int may_retry(const struct rt_pxy *p)
{
    return !p->got_headers &&
           (p->idempotent || p->connect_failed || p->stale || p->refused ||
            (p->reset && p->w->rt->c->retry_reset)) &&
           retry_left(p);
}

void rt_up_failed(struct rt_pxy *p)
{
    p->phase = PH_NONE;
    if (p->stale && !p->stale_retried && !p->got_headers) {
        /* The replica closed a pooled connection it had kept idle: it did
         * nothing wrong and saw nothing; the same replica, a new connection. */
        p->stale_retried = 1;
        p->phase = PH_UPSTREAM;
        rt_up_send(p, 1);
        return;
    }
    end_attempt(p, 0, -1);
    if (may_retry(p)) {
        rt_lock(p->w->rt);
        p->w->rt->retries++;
        rt_unlock(p->w->rt);
        attempt(p);
        return;
    }
    if (p->got_headers)
        finish_cut(p);
    else if (p->timed_out)
        finish_error(p, 504, "the replica did not answer in time");
    else
        finish_error(p, 502, "the replica failed before answering (connection refused or "
                             "closed)");
}

/* ---- sending to the replica ---- */

static void forward(struct rt_pxy *p)
{
    p->phase = PH_UPSTREAM;
    p->connect_failed = p->stale = p->timed_out = p->reset = p->refused = 0;
    rt_up_send(p, 0);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    forward(arg);
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
    int ov = 0;

    p->work = p->c != NULL ? (double)evbuffer_get_length(p->c->body) : 0;
    rt_lock(rt);
    r = rp_pick_work(&rt->set, rt_now(), p->tried, p->ntried, p->work, &ov);
    if (r != NULL) {
        p->rep = r;
        p->rep_serial = r->serial;
        p->rep_id = r->id;
        p->tried[p->ntried++] = r->serial;
        p->overflow |= ov;
        snprintf(p->rep_region, sizeof(p->rep_region), "%s/%s", r->cloud, r->region);
        p->rep_delay_ms = r->emulated && r->rtt_ms < 1e8 ? r->rtt_ms : 0;
        snprintf(p->host, sizeof(p->host), "%s", r->host);
        p->port = r->port;
    } else if (p->ntried == 0 && rt->c->max_wait_s <= 0) {
        rt->no_replica++;
    }
    rt_unlock(rt);
    if (r == NULL && p->ntried == 0 && rt->c->max_wait_s > 0 && rt_now() < p->wait_until) {
        wait_for_replica(p);
        return;
    }
    if (r == NULL) {
        if (p->ntried > 0 && p->any_timeout)
            finish_error(p, 504, "no replica tried answered in time");
        else if (p->ntried > 0 && p->refused)
            finish_error(p, 503, "no replica is ready to take the request; retry later");
        else if (p->ntried > 0)
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
    forward(p);
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

/* ---- the request ---- */

/* Authorization: Bearer KEY against the set's keys; 0 when it may pass.
 * *keys: whether the set has keys (then the key is not the model's). */
static int check_key(struct rt *rt, const char *h, int *keys)
{
    char hex[65];
    int ok, bearer = strncasecmp(h, "Bearer ", 7) == 0;

    if (bearer) {
        for (h += 7; *h == ' '; h++)
            ;
        auth_sha256_hex(h, strlen(h), hex);
    }
    rt_lock(rt);
    *keys = rt->set.nkeys > 0;
    ok = !*keys || (bearer && rp_key_ok(&rt->set, hex));
    rt_unlock(rt);
    return ok ? 0 : -1;
}

static void own_path(struct rt_cconn *c, const char *uri)
{
    struct rt *rt = c->w->rt;
    struct evbuffer *tmp;
    char body[256];
    size_t ready;
    int64_t version;
    char *js;

    if (strcmp(uri, "/-/metrics") == 0) {
        tmp = evbuffer_new();
        rt_metrics(rt, tmp);
        reply_own(c, 200, "text/plain; version=0.0.4", (const char *)evbuffer_pullup(tmp, -1),
                  evbuffer_get_length(tmp), NULL);
        evbuffer_free(tmp);
    } else if (strcmp(uri, "/-/healthz") == 0) {
        rt_lock(rt);
        ready = rp_nready(&rt->set);
        version = rt->set.version;
        rt_unlock(rt);
        snprintf(body, sizeof(body), "{\"status\":\"ok\",\"ready_replicas\":%zu,"
                 "\"version\":%lld}\n", ready, (long long)version);
        reply_own(c, 200, "application/json", body, strlen(body), NULL);
    } else if (strcmp(uri, "/-/replicas") == 0) {
        js = rt_replicas_json(rt);
        reply_own(c, 200, "application/json", js, strlen(js), NULL);
        free(js);
    } else {
        reply_error(c, 404, "the router's own paths are /-/healthz, /-/metrics, /-/replicas",
                    NULL);
    }
}

/* The head the replica gets: the client's, less hop-by-hop headers. */
static void build_upstream(struct rt_cconn *c, int keys)
{
    struct evbuffer *h = c->px.uphead;
    size_t n = evbuffer_get_length(c->body);
    unsigned m = c->hp.method;

    evbuffer_drain(h, evbuffer_get_length(h));
    add_str(h, http_method_str((enum http_method)m));
    evbuffer_add(h, " ", 1);
    evbuffer_add(h, c->url.data, c->url.len);
    evbuffer_add(h, " HTTP/1.1\r\n", 11);
    evbuffer_add(h, c->head.text.data, c->head.text.len);
    if (!c->has_host)
        evbuffer_add(h, "Host: replica\r\n", 15);
    if (!keys && c->auth[0] != '\0' && c->auth[0] != '!') {
        add_str(h, "Authorization: ");
        add_str(h, c->auth);
        evbuffer_add(h, "\r\n", 2);
    }
    add_str(h, "X-Forwarded-For: ");
    add_str(h, c->peer);
    evbuffer_add(h, "\r\n", 2);
    if (n > 0 || m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH)
        add_num_header(h, "Content-Length: ", n);
    evbuffer_add(h, "\r\n", 2);
}

void rt_request(struct rt_cconn *c)
{
    struct rt *rt = c->w->rt;
    struct rt_pxy *p = &c->px;
    const char *uri = c->url.data;
    int keys = 0;

    p->w = c->w;
    p->c = c;
    p->t0 = rt_now();
    p->rep = NULL;
    p->rep_id = 0;
    p->rep_region[0] = '\0';
    p->ntried = p->bytes = 0;
    p->overflow = p->got_headers = p->chunked_out = p->informational = 0;
    p->connect_failed = p->timed_out = p->stale = p->refused = 0;
    p->any_timeout = p->stale_retried = 0;
    p->status = 0;
    p->phase = PH_NONE;
    if (strncmp(uri, "/-/", 3) == 0) {
        own_path(c, uri);
        return;
    }
    if (check_key(rt, c->auth, &keys) != 0) {
        count_code(rt, 401, -1);
        reply_error(c, 401, "a valid API key is required: Authorization: Bearer KEY",
                    "WWW-Authenticate: Bearer\r\n");
        return;
    }
    p->idempotent = is_idempotent(c->hp.method);
    p->head_only = c->hp.method == HTTP_HEAD;
    p->wait_until = p->t0 + rt->c->max_wait_s;
    build_upstream(c, keys);
    attempt(p);
}
