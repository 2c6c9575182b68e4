/*
 * http.c - the server's HTTP side: libevent's evhttp on every listener of
 * the configuration, turning each evhttp_request into a struct api_req for
 * api_handle() (api.c) and its struct api_resp back into a reply.  No HTTP
 * is parsed here: evhttp does it.
 *
 * Who is calling is decided here, per request, before any handler runs:
 *   - on the UNIX socket (owner-only file in the home), the peer's uid from
 *     SO_PEERCRED must be ours: it is the admin "owner"; another uid is 403.
 *     The owner may act as a token's user instead by sending the token
 *     (STRATUS_TOKEN on the home's socket), checked as on TCP;
 *   - on TCP, "Authorization: Bearer <token>" is checked with
 *     auth_token_verify; a token that does not verify is 401 here, none at
 *     all leaves the caller unauthenticated (AUTH_NONE) and the route table
 *     decides (/healthz needs no one; the rest answer 401);
 *   - on TCP without a token, a GET may carry the dashboard's session
 *     cookie (session.h): a live session is the owner, admin; a stale one
 *     is ignored (the page then asks to log in).  Only GETs: the dashboard
 *     only reads, so no cookie can make the server act, whatever a browser
 *     is tricked into sending (SameSite=Strict aside).
 * Tokens, codes and sessions are never logged, nor echoed in a message.
 *
 * TLS: a TCP listener with cert and key serves HTTPS through libevent's
 * OpenSSL bufferevents (evhttp_set_bevcb), TLS 1.2 at least.
 *
 * Body limit: the configuration's max_body.  Bodies up to twice that are
 * read and refused here with a JSON 413 the CLI can show; evhttp itself
 * refuses anything longer before reading it (with its own 413 page), so a
 * client cannot make the server hold more than that in memory.
 *
 * Streamed replies (job logs): chunked; the file is read 64 KiB at a time,
 * the next read only once the previous chunk is written (a slow client
 * slows the reads, not the memory), and at the file's end it is looked at
 * again every 0.2 s until the job has ended.  A streaming connection has no
 * read timeout (a quiet job's log is followed for as long as it runs) and is
 * closed when its reply ends.  Other connections are closed after 60 s idle
 * ($STRATUS_HTTP_TIMEOUT for tests).
 */
#define _GNU_SOURCE /* struct ucred (SO_PEERCRED) */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "metrics.h"
#include "server_conf.h"
#include "session.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/lazyssl.h"
#include "../util/xmem.h"

#define HTTP_CHUNK (64 * 1024)
#define HTTP_FOLLOW_S 0.2        /* how often a followed log is looked at */
#define HTTP_MAX_HEADERS (64 * 1024)
#define HTTP_TIMEOUT_S 60        /* an idle or stalled connection is closed */

struct http_state;

struct http_listener {
    struct http_state *hs;
    struct evhttp *h;
    const struct srv_listener *conf;
    SSL_CTX *ssl;                /* TLS listeners only */
    int port;                    /* TCP: the port it got (conf's may be 0) */
};

/* One streamed reply in progress (a followed log). */
struct stream {
    struct http_state *hs;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    char *path;
    int fd;                      /* -1 until the file exists */
    long offset;
    int64_t job;
    int follow;
    struct event *timer;
    struct stream *prev, *next;
};

/* One request held for a change (a long poll: api_resp.park). */
struct parked {
    struct http_state *hs;
    struct evhttp_request *req;
    struct auth_principal who;
    char *path, *query;
    const char *method;
    struct event *timer;         /* the hold's end: answered as things stand */
    struct parked *prev, *next;
};

struct http_state {
    struct srv *s;
    struct http_listener *ls;
    size_t nls;
    struct stream *streams;      /* live streams, ended at close */
    struct parked *parked;       /* held requests */
};

/* ---- replies ---- */

static void free_body(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)(uintptr_t)data); /* the body handed over by api_resp */
}

static void set_headers(struct evhttp_request *req, const struct api_resp *rp)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", rp->content_type ? rp->content_type : "application/json");
    if (rp->status == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer");
    if (rp->etag != NULL)
        evhttp_add_header(h, "ETag", rp->etag);
    if (rp->cache_control != NULL)
        evhttp_add_header(h, "Cache-Control", rp->cache_control);
    if (rp->location != NULL)
        evhttp_add_header(h, "Location", rp->location);
    if (rp->set_cookie != NULL)
        evhttp_add_header(h, "Set-Cookie", rp->set_cookie);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (rp->content_type != NULL && strncmp(rp->content_type, "text/html", 9) == 0) {
        /* the dashboard: its own scripts and styles only, no framing, and
         * no Referer (a login link's code stays out of other servers' logs) */
        evhttp_add_header(h, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    }
}

/* Send rp as the whole reply (its body is handed to libevent, not copied). */
static void send_resp(struct evhttp_request *req, struct api_resp *rp)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);

    set_headers(req, rp);
    if (rp->body != NULL && rp->body_len > 0 && rp->body_static)
        evbuffer_add_reference(out, rp->body, rp->body_len, NULL, NULL);
    else if (rp->body != NULL && rp->body_len > 0 &&
             evbuffer_add_reference(out, rp->body, rp->body_len, free_body, NULL) == 0)
        rp->body = NULL;
    evhttp_send_reply(req, rp->status, NULL, NULL);
}

static void resp_err(struct api_resp *rp, int status, int code, const char *msg)
{
    struct err e;

    err_set(&e, code, "%s", msg);
    api_resp_error(rp, status, &e);
    rp->route = "unmatched";
}

/* ---- streams ---- */

static void stream_free(struct stream *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        st->hs->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    if (st->timer)
        event_free(st->timer);
    if (st->fd >= 0)
        close(st->fd);
    free(st->path);
    free(st);
}

/* The reply is complete: end it (or, if the client left, free the request). */
static void stream_end(struct stream *st)
{
    if (st->evcon)
        evhttp_connection_set_closecb(st->evcon, NULL, NULL);
    evhttp_send_reply_end(st->req);
    stream_free(st);
}

static int job_ended(struct srv *s, int64_t id)
{
    struct store_job j;
    struct err e;
    int ended;

    memset(&j, 0, sizeof(j));
    err_clear(&e);
    if (store_job_get(s->st, id, &j, &e) != 0)
        return 1; /* gone: nothing more will be written for it */
    ended = job_state_terminal(j.state);
    store_job_clear(&j);
    return ended;
}

static void stream_pump(struct stream *st);

static void on_chunk_sent(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    stream_pump(arg);
}

static void on_stream_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_pump(arg);
}

/* Read what is new in the file; -1 at its end (or while it does not exist). */
static ssize_t stream_read(struct stream *st, char *buf, size_t n)
{
    ssize_t got;

    if (st->fd < 0)
        st->fd = open(st->path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0)
        return -1;
    got = pread(st->fd, buf, n, (off_t)st->offset);
    return got > 0 ? got : -1;
}

static void stream_pump(struct stream *st)
{
    struct timeval tv = {0, (suseconds_t)(HTTP_FOLLOW_S * 1e6)};
    /* Whether the job had ended is read before the file: all it wrote
     * before it ended is then in the file when we find its end. */
    int ended = st->follow ? job_ended(st->hs->s, st->job) : 1;
    char *buf = xmalloc(HTTP_CHUNK);
    ssize_t n = stream_read(st, buf, HTTP_CHUNK);
    struct evbuffer *out;

    if (n > 0) {
        out = evbuffer_new();
        evbuffer_add(out, buf, (size_t)n);
        st->offset += (long)n;
        free(buf);
        evhttp_send_reply_chunk_with_cb(st->req, out, on_chunk_sent, st);
        evbuffer_free(out);
        return;
    }
    free(buf);
    if (ended)
        stream_end(st);
    else
        evtimer_add(st->timer, &tv);
}

/* The client went away mid-stream; libevent has detached the request. */
static void on_stream_close(struct evhttp_connection *evcon, void *arg)
{
    struct stream *st = arg;

    (void)evcon;
    st->evcon = NULL;
    evhttp_send_reply_end(st->req); /* with no connection: frees the request */
    stream_free(st);
}

/* Seconds an idle or stalled connection is kept: HTTP_TIMEOUT_S, or
 * $STRATUS_HTTP_TIMEOUT (tests make it short). */
static int http_timeout(void)
{
    const char *v = getenv("STRATUS_HTTP_TIMEOUT");
    long n;

    return v && str_to_long(v, 1, 3600, &n) == 0 ? (int)n : HTTP_TIMEOUT_S;
}

/* While a reply streams, evhttp reads the connection only to see it close,
 * under the read timeout: a log followed through a quiet minute would be cut
 * off.  Writes keep their timeout (a client that stops reading is dropped). */
static void stream_no_read_timeout(struct stream *st)
{
    struct bufferevent *bev = st->evcon ? evhttp_connection_get_bufferevent(st->evcon) : NULL;
    struct timeval wt = {http_timeout(), 0};

    if (bev != NULL)
        bufferevent_set_timeouts(bev, NULL, &wt);
}

static void stream_start(struct http_state *hs, struct evhttp_request *req, struct api_resp *rp)
{
    struct stream *st = xcalloc(1, sizeof(*st));
    struct evbuffer *out;

    st->hs = hs;
    st->req = req;
    st->evcon = evhttp_request_get_connection(req);
    st->path = rp->stream_path;
    rp->stream_path = NULL;
    st->fd = -1;
    st->offset = rp->stream_offset > 0 ? rp->stream_offset : 0;
    st->job = rp->stream_job;
    st->follow = rp->stream_follow;
    st->timer = evtimer_new(hs->s->base, on_stream_timer, st);
    st->next = hs->streams;
    if (hs->streams)
        hs->streams->prev = st;
    hs->streams = st;
    set_headers(req, rp);
    /* One stream per connection: evhttp closes it when the reply ends, so
     * the timeouts lifted here never apply to an idle connection. */
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    evhttp_send_reply_start(req, rp->status, NULL);
    evhttp_connection_set_closecb(st->evcon, on_stream_close, st);
    stream_no_read_timeout(st);
    if (rp->body != NULL && rp->body_len > 0) {
        out = evbuffer_new();
        evbuffer_add(out, rp->body, rp->body_len);
        evhttp_send_reply_chunk_with_cb(req, out, on_chunk_sent, st);
        evbuffer_free(out);
        return;
    }
    stream_pump(st);
}

/* ---- held requests (long polls) ---- */

static void unpark(struct parked *p)
{
    struct http_state *hs = p->hs;

    if (p->prev)
        p->prev->next = p->next;
    else
        hs->parked = p->next;
    if (p->next)
        p->next->prev = p->prev;
    evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
    event_free(p->timer);
    free(p->path);
    free(p->query);
    free(p);
}

/* Ask the handler again; the reply is sent unless it holds once more
 * (never when final).  1 when the request was answered. */
static int park_retry(struct parked *p, int final)
{
    struct api_req rq;
    struct api_resp rp;

    memset(&rq, 0, sizeof(rq));
    rq.method = p->method;
    rq.path = p->path;
    rq.query = p->query;
    rq.who = &p->who;
    rq.no_park = final;
    api_handle(p->hs->s, &rq, &rp);
    if (rp.park && !final) {
        api_resp_clear(&rp);
        return 0;
    }
    send_resp(p->req, &rp);
    api_resp_clear(&rp);
    unpark(p);
    return 1;
}

static void on_park_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    park_retry(arg, 1);
}

static void on_park_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    unpark(arg); /* the client went away; libevent frees the request */
}

/* Hold req (its reply said park) until srv_http_recheck finds an answer or
 * rp->park_s pass. */
static void park(struct http_state *hs, struct evhttp_request *req, const struct api_req *rq,
                 const struct api_resp *rp)
{
    struct parked *p = xcalloc(1, sizeof(*p));
    struct timeval tv = {(time_t)rp->park_s, 0};

    p->hs = hs;
    p->req = req;
    p->who = *rq->who;
    p->path = xstrdup(rq->path);
    p->query = rq->query ? xstrdup(rq->query) : NULL;
    p->method = rq->method; /* static strings */
    p->timer = evtimer_new(hs->s->base, on_park_timer, p);
    evtimer_add(p->timer, &tv);
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_park_close, p);
    p->next = hs->parked;
    if (hs->parked)
        hs->parked->prev = p;
    hs->parked = p;
}

void srv_http_recheck(struct srv *s)
{
    struct http_state *hs = s->http;
    struct parked *p, *next;

    for (p = hs ? hs->parked : NULL; p != NULL; p = next) {
        next = p->next;
        park_retry(p, 0);
    }
}

static const char *method_name(enum evhttp_cmd_type c);

/* ---- who is calling ---- */

/* "Authorization: Bearer <token>" (h, the header's value): the token's
 * user, or 401. */
static int identify_bearer(struct srv *s, const char *h, struct auth_principal *who,
                           struct api_resp *rp)
{
    struct err e;

    if (strncasecmp(h, "Bearer ", 7) != 0) {
        resp_err(rp, 401, ST_EINVAL, "the Authorization header must be 'Bearer <token>'");
        return -1;
    }
    for (h += 7; *h == ' '; h++)
        ;
    err_clear(&e);
    if (auth_token_verify(s->st, s->secret, h, who, &e) == 0)
        return 0;
    if (e.code == ST_ENOTFOUND) /* never e.msg: it could quote what was sent */
        resp_err(rp, 401, ST_EINVAL,
                 "the token is not valid (unknown, malformed or revoked); "
                 "an admin makes a new one with `stratus token create`");
    else
        resp_err(rp, 500, ST_EINTERNAL, "cannot check the token (see the server's log)");
    if (e.code != ST_ENOTFOUND)
        log_error("checking a token: %s", err_name(e.code));
    return -1;
}

/* The UNIX socket: its owner (our uid) is the admin "owner", or the user
 * of the token it sends. */
static int identify_unix(struct srv *s, struct evhttp_request *req,
                         struct auth_principal *who, struct api_resp *rp)
{
    const char *h =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    char msg[160];

    if (bev == NULL ||
        getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        resp_err(rp, 403, ST_EINVAL, "cannot tell who is calling on the server's socket");
        return -1;
    }
    if (cred.uid != geteuid()) {
        snprintf(msg, sizeof(msg), "the server's socket admits its owner only (uid %ld); "
                 "other users connect over TCP with a token", (long)geteuid());
        resp_err(rp, 403, ST_EINVAL, msg);
        return -1;
    }
    if (h != NULL)
        return identify_bearer(s, h, who, rp);
    who->role = AUTH_ADMIN;
    who->token_id = 0;
    snprintf(who->name, sizeof(who->name), "owner");
    return 0;
}

/* TCP without a token: a GET with a live dashboard session is the owner,
 * its value copied to session (SESSION_VALUE_MAX bytes); anything else is
 * unauthenticated. */
static void identify_cookie(struct srv *s, struct evhttp_request *req,
                            struct auth_principal *who, char *session)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");

    if (h == NULL || evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
        session_cookie_find(h, session, SESSION_VALUE_MAX) != 0 ||
        session_verify(s->sessions, session, clock_now(&clock_wall), who) != 0) {
        who->role = AUTH_NONE;
        session[0] = '\0';
    }
}

/* TCP: the bearer token, if any, else a session cookie (into session). */
static int identify_tcp(struct srv *s, struct evhttp_request *req, struct auth_principal *who,
                        char *session, struct api_resp *rp)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    struct err e;

    const char *fwd = evhttp_find_header(evhttp_request_get_input_headers(req),
                                         X_STRATUS_FORWARDED);

    who->role = AUTH_NONE;
    if (fwd != NULL) {
        err_clear(&e);
        if (auth_forward_verify(s->secret, fwd, method_name(evhttp_request_get_command(req)),
                                evhttp_request_get_uri(req), clock_now(&clock_wall), who,
                                &e) == 0)
            return 0;
        resp_err(rp, 401, ST_EINVAL, e.msg);
        return -1;
    }
    if (h == NULL) {
        identify_cookie(s, req, who, session);
        return 0;
    }
    return identify_bearer(s, h, who, rp);
}

/* ---- forwarding to the leader (docs/ha.md) ----
 *
 * A follower answers reads of the store itself; what needs the leader -
 * any write, the services' live state (their replica sets, the routers'
 * long polls, load reports), the teams' usage, and logs (read through the
 * leader's drivers) - it forwards to the URL in the lease, with who the
 * caller is signed in X_STRATUS_FORWARDED, and hands the leader's answer
 * back as it came (a chunked one, a followed log, chunk by chunk).
 *
 * When there is no leader to ask (the lease lapsed, a takeover under way;
 * the store cannot be reached), nothing was sent, and the caller gets 503
 * EFENCED with Retry-After: asking again is safe, and the CLI does.  When
 * a leader was asked and did not answer (it died or was paused after it
 * got the request), a read is the same, but a write may or may not have
 * been carried out: 503 ESTATE, without Retry-After, says to look first. */

struct fwd {
    struct http_state *hs;
    struct evhttp_request *in;        /* the caller's; NULL once it went away */
    struct evhttp_request *r;         /* to the leader; NULL once answered */
    struct evhttp_connection *out;    /* to the leader */
    struct evbuffer *body;            /* a whole reply, gathered */
    int streaming;                    /* a chunked reply, passed on as it comes */
    int get;                          /* a read: asking again is always safe */
    int timed_out;
};

/* Forwarded: anything but GET, the services' live state and the teams'
 * usage (the leader's memory), and logs (read through the leader's drivers). */
static int forward_wanted(const struct srv *s, const struct api_req *rq)
{
    size_t n = strlen(rq->path);

    if (!s->shared || s->leader)
        return 0;
    if (strcmp(rq->method, "GET") != 0)
        return 1;
    return strncmp(rq->path, "/v1/services", 12) == 0 || strncmp(rq->path, "/v1/teams", 9) == 0 ||
           (strncmp(rq->path, "/v1/jobs/", 9) == 0 && n > 5 &&
            strcmp(rq->path + n - 5, "/logs") == 0);
}

/* safe: nothing was done, ask again (EFENCED, Retry-After: the CLI does);
 * else the leader may have done it (ESTATE: look before asking again). */
static void fwd_unavailable(struct evhttp_request *in, int safe, const char *why)
{
    struct api_resp rp;

    memset(&rp, 0, sizeof(rp));
    resp_err(&rp, 503, safe ? ST_EFENCED : ST_ESTATE, why);
    if (safe)
        evhttp_add_header(evhttp_request_get_output_headers(in), "Retry-After", "1");
    send_resp(in, &rp);
    api_resp_clear(&rp);
}

static void fwd_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void fwd_done(struct fwd *f)
{
    if (f->in != NULL)
        evhttp_connection_set_closecb(evhttp_request_get_connection(f->in), NULL, NULL);
    /* not from inside the connection's own callback */
    event_base_once(f->hs->s->base, -1, EV_TIMEOUT, fwd_free_cb, f->out, NULL);
    evbuffer_free(f->body);
    free(f);
}

static void fwd_headers(struct fwd *f, struct evhttp_request *r)
{
    static const char *const keep[] = {"Content-Type", "Retry-After", "ETag", "Location",
                                       "Cache-Control", "Set-Cookie", "WWW-Authenticate",
                                       NULL};
    struct evkeyvalq *h = evhttp_request_get_output_headers(f->in);
    const char *v;
    int i;

    for (i = 0; keep[i] != NULL; i++)
        if ((v = evhttp_find_header(evhttp_request_get_input_headers(r), keep[i])) != NULL)
            evhttp_add_header(h, keep[i], v);
    evhttp_add_header(h, "X-Stratus-Leader", "forwarded");
}

/* Part of the leader's reply: a chunked one (a followed log) is passed on
 * at once; anything else is gathered and sent whole. */
static void on_fwd_chunk(struct evhttp_request *r, void *arg)
{
    struct fwd *f = arg;
    const char *te = evhttp_find_header(evhttp_request_get_input_headers(r),
                                        "Transfer-Encoding");

    if (f->in == NULL)
        return;
    if (!f->streaming && te != NULL && strcasecmp(te, "chunked") == 0) {
        f->streaming = 1;
        fwd_headers(f, r);
        evhttp_send_reply_start(f->in, evhttp_request_get_response_code(r),
                                evhttp_request_get_response_code_line(r));
    }
    if (f->streaming)
        evhttp_send_reply_chunk(f->in, evhttp_request_get_input_buffer(r));
    else
        evbuffer_add_buffer(f->body, evhttp_request_get_input_buffer(r));
}

static void on_fwd_error(enum evhttp_request_error why, void *arg)
{
    ((struct fwd *)arg)->timed_out = why == EVREQ_HTTP_TIMEOUT;
}

static void on_fwd_reply(struct evhttp_request *r, void *arg)
{
    struct fwd *f = arg;
    int code = r ? evhttp_request_get_response_code(r) : 0;

    f->r = NULL;
    if (f->in != NULL && f->streaming) {
        evhttp_send_reply_end(f->in);
    } else if (f->in != NULL && code == 0) {
        if (f->get)
            fwd_unavailable(f->in, 1, "the leader did not answer (a takeover may be under "
                                      "way): try again");
        else
            fwd_unavailable(f->in, 0, f->timed_out
                                          ? "the leader did not answer in time (paused, or "
                                            "cut off?): the request may or may not have been "
                                            "carried out; look before trying again"
                                          : "the leader went away before it answered (a "
                                            "takeover may be under way): the request may or "
                                            "may not have been carried out; look before "
                                            "trying again");
    } else if (f->in != NULL) {
        fwd_headers(f, r);
        evbuffer_add_buffer(f->body, evhttp_request_get_input_buffer(r));
        evhttp_send_reply(f->in, code, evhttp_request_get_response_code_line(r), f->body);
    }
    fwd_done(f);
}

static void on_fwd_client_close(struct evhttp_connection *evcon, void *arg)
{
    struct fwd *f = arg;

    (void)evcon;
    f->in = NULL; /* libevent frees the caller's request */
    if (f->r != NULL) {
        /* the leader's answer is for nobody now: stop it (a followed log
         * would go on until its job ends); its callback is not called */
        evhttp_request_set_error_cb(f->r, NULL);
        evhttp_cancel_request(f->r);
        fwd_done(f);
    }
}

/* A forward that could not be sent: nothing was done; f is freed. */
static void fwd_drop(struct fwd *f, const char *why)
{
    if (f->out)
        evhttp_connection_free(f->out);
    if (f->body)
        evbuffer_free(f->body);
    fwd_unavailable(f->in, 1, why);
    free(f);
}

static void forward(struct http_state *hs, struct evhttp_request *in,
                    const struct auth_principal *who, const char *method)
{
    static const char *const passed[2] = {"Content-Type", "If-None-Match"};
    struct srv *s = hs->s;
    int lapsed = s->lease.holder[0] == '\0' || s->lease.expires_in <= 0;
    struct evhttp_uri *u = !lapsed && s->lease.url[0] ? evhttp_uri_parse(s->lease.url) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    int port = u ? evhttp_uri_get_port(u) : -1;
    char sig[AUTH_FORWARD_MAX], hostport[300], why[STORE_HOLDER_MAX + 200];
    struct evhttp_request *r;
    struct evkeyvalq *h;
    const char *v;
    struct fwd *f;
    struct err e;
    int i;

    err_clear(&e);
    if (host == NULL || port <= 0 ||
        auth_forward_sign(s->secret, who, method, evhttp_request_get_uri(in),
                          clock_now(&clock_wall), sig, &e) != 0) {
        if (s->db_error[0])
            snprintf(why, sizeof(why), "this server cannot reach the store, so the leader is "
                     "not known: try again");
        else if (!lapsed && e.code == 0)
            snprintf(why, sizeof(why), "the leader (%s) has no TCP listener to forward to: "
                     "give it one in its server.yaml (docs/ha.md)", s->lease.holder);
        else
            snprintf(why, sizeof(why), "no server is the leader just now (a takeover is "
                     "under way): try again");
        fwd_unavailable(in, 1, why);
        if (u)
            evhttp_uri_free(u);
        return;
    }
    f = xcalloc(1, sizeof(*f));
    f->hs = hs;
    f->in = in;
    f->get = strcmp(method, "GET") == 0;
    f->body = evbuffer_new();
    f->out = evhttp_connection_base_new(s->base, NULL, host, (unsigned short)port);
    f->r = f->out && f->body ? evhttp_request_new(on_fwd_reply, f) : NULL;
    if (f->r == NULL) {
        fwd_drop(f, "cannot open a connection to the leader: try again");
        evhttp_uri_free(u);
        return;
    }
    r = f->r;
    evhttp_request_set_chunked_cb(r, on_fwd_chunk);
    evhttp_request_set_error_cb(r, on_fwd_error);
    /* A write the leader takes more than two leases to answer is not coming
     * (it was paused or cut off, and deposed meanwhile); reads may be long
     * polls (ENDPOINTS_HOLD_S) or followed logs (no limit: fed by chunks). */
    evhttp_connection_set_timeout(f->out, f->get ? 300 : (int)(2 * s->conf->lease_s) + 5);
    h = evhttp_request_get_output_headers(r);
    snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
    evhttp_add_header(h, "Host", hostport);
    evhttp_add_header(h, X_STRATUS_FORWARDED, sig);
    for (i = 0; i < 2; i++)
        if ((v = evhttp_find_header(evhttp_request_get_input_headers(in), passed[i])))
            evhttp_add_header(h, passed[i], v);
    evbuffer_add_buffer(evhttp_request_get_output_buffer(r), evhttp_request_get_input_buffer(in));
    evhttp_connection_set_closecb(evhttp_request_get_connection(in), on_fwd_client_close, f);
    if (evhttp_make_request(f->out, r, evhttp_request_get_command(in),
                            evhttp_request_get_uri(in)) != 0) {
        /* libevent freed r and will not call back */
        evhttp_connection_set_closecb(evhttp_request_get_connection(in), NULL, NULL);
        fwd_drop(f, "cannot send the request to the leader: try again");
    }
    evhttp_uri_free(u);
}

/* ---- requests ---- */

static const char *method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    default:
        return "OTHER";
    }
}

/* Fill rq from req; -1 (rp filled) when the request cannot be served. */
static int build_req(struct srv *s, struct evhttp_request *req, struct api_req *rq,
                     char **path, struct api_resp *rp)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    size_t len = 0;
    char msg[200];

    *path = raw ? evhttp_uridecode(raw, 0, &len) : NULL;
    if (*path == NULL || len != strlen(*path) || (*path)[0] != '/') {
        resp_err(rp, 400, ST_EINVAL, "the request's path is not valid");
        return -1;
    }
    rq->method = method_name(evhttp_request_get_command(req));
    rq->path = *path;
    rq->if_none_match = evhttp_find_header(evhttp_request_get_input_headers(req),
                                           "If-None-Match");
    rq->query = evhttp_uri_get_query(uri);
    rq->body_len = evbuffer_get_length(in);
    if (rq->body_len > s->conf->max_body) {
        snprintf(msg, sizeof(msg), "the request body is %zu bytes, more than the server takes "
                 "(%zu: max_body in its configuration)", rq->body_len, s->conf->max_body);
        resp_err(rp, 413, ST_ETOOBIG, msg);
        return -1;
    }
    rq->body = rq->body_len ? (const char *)evbuffer_pullup(in, -1) : NULL;
    return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct http_listener *l = arg;
    struct srv *s = l->hs->s;
    struct auth_principal who;
    struct api_req rq;
    struct api_resp rp;
    double t0 = clock_mono();
    char *path = NULL, session[SESSION_VALUE_MAX] = "";
    int rc;

    memset(&who, 0, sizeof(who));
    memset(&rq, 0, sizeof(rq));
    memset(&rp, 0, sizeof(rp));
    rq.who = &who;
    if (!srv_store_still_ours(s)) {
        resp_err(&rp, 503, ST_ESTATE, "the server's store was removed or replaced; it stops "
                 "(the next command starts one for the new store)");
        srv_stop_store_gone(s);
        rc = -1;
    } else if (l->conf->kind == SRV_LISTEN_UNIX) {
        rc = identify_unix(s, req, &who, &rp);
    } else {
        rc = identify_tcp(s, req, &who, session, &rp);
    }
    if (rc == 0)
        rc = build_req(s, req, &rq, &path, &rp);
    rq.tls = l->ssl != NULL;
    rq.session = session[0] ? session : NULL;
    if (rc == 0 && forward_wanted(s, &rq)) {
        forward(l->hs, req, &who, rq.method);
        free(path);
        return;
    }
    if (rc == 0)
        api_handle(s, &rq, &rp);
    metrics_api(s->m, rp.route ? rp.route : "unmatched", rp.status, clock_mono() - t0);
    if (rp.park && s->base != NULL)
        park(l->hs, req, &rq, &rp);
    else if (rp.stream_path != NULL && rp.status < 300)
        stream_start(l->hs, req, &rp);
    else
        send_resp(req, &rp);
    api_resp_clear(&rp);
    free(path);
}

/* ---- listeners ---- */

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    struct http_listener *l = arg;
    SSL *ssl = SSL_new(l->ssl);

    return ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE)
               : NULL;
}

static int open_tls(struct http_listener *l, struct err *e)
{
    const struct srv_listener *c = l->conf;
    char why[256];

    l->ssl = SSL_CTX_new(TLS_server_method());
    if (l->ssl != NULL && SSL_CTX_set_min_proto_version(l->ssl, TLS1_2_VERSION) == 1 &&
        SSL_CTX_use_certificate_chain_file(l->ssl, c->tls_cert) == 1 &&
        SSL_CTX_use_PrivateKey_file(l->ssl, c->tls_key, SSL_FILETYPE_PEM) == 1 &&
        SSL_CTX_check_private_key(l->ssl) == 1) {
        evhttp_set_bevcb(l->h, tls_bev, l);
        return 0;
    }
    ERR_error_string_n(ERR_get_error(), why, sizeof(why));
    return err_set(e, ST_EINVAL, "TLS for %s:%d: cannot use certificate %s and key %s: %s "
                   "(both PEM files; the key must match the certificate)",
                   c->host, c->port, c->tls_cert, c->tls_key, why);
}

static int is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

static int open_tcp(struct http_listener *l, struct err *e)
{
    const struct srv_listener *c = l->conf;
    struct evhttp_bound_socket *b = evhttp_bind_socket_with_handle(l->h, c->host,
                                                                   (ev_uint16_t)c->port);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int port = c->port, v6;

    if (b == NULL)
        return err_set(e, ST_EIO, "cannot listen on %s:%d: %s (another process may hold the "
                       "port; change `tcp:` under `listen` in the server configuration)",
                       c->host, c->port, strerror(errno));
    if (getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    l->port = port;
    if (c->tls_cert != NULL && open_tls(l, e) != 0)
        return e->code;
    /* The port chosen for port 0 is only known from here: tests read it. */
    v6 = strchr(c->host, ':') != NULL;
    log_info("listening on %s://%s%s%s:%d", l->ssl ? "https" : "http", v6 ? "[" : "", c->host,
             v6 ? "]" : "", port);
    if (l->ssl == NULL && !is_loopback(c->host))
        log_warn("%s:%d serves plain HTTP beyond this machine: bearer tokens cross the network "
                 "in clear text (give the listener `tls: {cert, key}`)", c->host, port);
    return 0;
}

/* A UNIX socket, owner-only from birth (umask around bind).  A file left at
 * its path by a server that died is removed: we hold the home's lock, so no
 * live server uses it; anything there that is not a socket is left alone. */
static int open_unix(struct http_listener *l, struct event_base *base, struct err *e)
{
    const char *path = l->conf->path;
    struct sockaddr_un sa;
    struct evconnlistener *lev;
    struct stat sb;
    mode_t old;
    int fd, rc;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set(e, ST_EINVAL, "the socket path %s is longer than %zu bytes: set "
                       "STRATUS_HOME to a shorter path", path, sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path));
    if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode))
        return err_set(e, ST_EEXISTS, "%s exists and is not a socket: move it away", path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    old = umask(0177);
    rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc == 0)
        rc = listen(fd, 1024);
    lev = rc == 0 ? evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, 0, fd) : NULL;
    if (lev == NULL || evhttp_bind_listener(l->h, lev) == NULL) {
        rc = err_set(e, ST_EIO, "cannot listen on %s: %s", path, strerror(errno));
        if (lev != NULL)
            evconnlistener_free(lev);
        else if (fd >= 0)
            close(fd);
        return rc;
    }
    log_info("listening on %s", path);
    return 0;
}

static int open_listener(struct http_state *hs, struct http_listener *l, struct err *e)
{
    struct srv *s = hs->s;
    size_t cap = s->conf->max_body;

    l->hs = hs;
    l->h = evhttp_new(s->base);
    if (l->h == NULL)
        return err_set(e, ST_EINTERNAL, "cannot create an HTTP server");
    evhttp_set_gencb(l->h, on_request, l);
    evhttp_set_allowed_methods(l->h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE);
    evhttp_set_max_headers_size(l->h, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(l->h, (ev_ssize_t)(cap < ((size_t)1 << 40) ? 2 * cap : cap));
    evhttp_set_timeout(l->h, http_timeout());
    return l->conf->kind == SRV_LISTEN_UNIX ? open_unix(l, s->base, e) : open_tcp(l, e);
}

int srv_http_open(struct srv *s, struct err *e)
{
    struct http_state *hs = xcalloc(1, sizeof(*hs));
    size_t i;
    int rc = 0;

    hs->s = s;
    hs->ls = xcalloc(s->conf->nlisten ? s->conf->nlisten : 1, sizeof(*hs->ls));
    s->http = hs;
    for (i = 0; i < s->conf->nlisten && rc == 0; i++) {
        hs->ls[i].conf = &s->conf->listen[i];
        hs->nls = i + 1;
        rc = open_listener(hs, &hs->ls[i], e);
    }
    return rc;
}

/* The host part of a URL for a listener bound to host: a wildcard address
 * is reached on loopback; IPv6 is bracketed. */
static void url_host(const char *host, char *buf, size_t n)
{
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
        snprintf(buf, n, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(buf, n, "[::1]");
    else if (strchr(host, ':') != NULL)
        snprintf(buf, n, "[%s]", host);
    else
        snprintf(buf, n, "%s", host);
}

int srv_http_url(const struct srv *s, char *buf, size_t n, struct err *e)
{
    const struct http_state *hs = s->http;
    const struct srv_listener *best = NULL;
    char host[300], where[4096];
    int port = 0;
    size_t i;

    for (i = 0; s->conf != NULL && i < s->conf->nlisten; i++) {
        const struct srv_listener *l = &s->conf->listen[i];
        int got = hs != NULL && i < hs->nls ? hs->ls[i].port : l->port;

        if (l->kind != SRV_LISTEN_TCP || got <= 0)
            continue;
        if (best == NULL || (!is_loopback(best->host) && is_loopback(l->host))) {
            best = l;
            port = got;
        }
    }
    if (s->conf != NULL && s->conf->path != NULL)
        snprintf(where, sizeof(where), "%s", s->conf->path);
    else
        snprintf(where, sizeof(where), "%s/server.yaml", s->home ? s->home : "$STRATUS_HOME");
    if (best == NULL)
        return err_set(e, ST_ENOTFOUND,
                       "the server has no TCP listener, so a browser cannot reach it: add "
                       "'- tcp: 127.0.0.1:8080' under 'listen:' in %s (keep '- unix: "
                       "stratus.sock' there too) and restart the server (`stratus controller "
                       "stop`; the next command starts it again)",
                       where);
    url_host(best->host, host, sizeof(host));
    snprintf(buf, n, "%s://%s:%d", best->tls_cert ? "https" : "http", host, port);
    return 0;
}

void srv_http_close(struct srv *s)
{
    struct http_state *hs = s->http;
    size_t i;

    if (hs == NULL)
        return;
    while (hs->streams != NULL)
        stream_end(hs->streams);
    while (hs->parked != NULL)
        park_retry(hs->parked, 1);
    for (i = 0; i < hs->nls; i++) {
        if (hs->ls[i].h != NULL)
            evhttp_free(hs->ls[i].h);
        if (hs->ls[i].ssl != NULL)
            SSL_CTX_free(hs->ls[i].ssl);
        if (hs->ls[i].conf->kind == SRV_LISTEN_UNIX && hs->ls[i].h != NULL)
            unlink(hs->ls[i].conf->path);
    }
    free(hs->ls);
    free(hs);
    s->http = NULL;
}
