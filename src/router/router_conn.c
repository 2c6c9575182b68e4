/*
 * router_conn.c - the router's sockets: client connections (accepted by a
 * worker's listener) and pooled keep-alive connections to replicas.  Each
 * is one edge-triggered event on the worker's libevent loop, registered
 * with epoll once in its life, so a proxied request costs a read and a
 * write on each side and no epoll_ctl.  Node's http_parser (Debian's
 * libhttp-parser) parses both directions; this file gathers what it
 * reports (heads, bodies) and router_proxy.c decides what to do with it.
 *
 * Nothing is freed in the middle of a callback: a client connection that
 * must go (its peer reset it, or it timed out) is marked dead and "kicked"
 * (its event made active), and on_client() frees it at the end of its own
 * callback, after anything that still points at it has unwound.  An
 * upstream connection is closed at once, but only after the request that
 * used it (rt_pxy) no longer points at it.
 */
#include "router_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RT_READ_CHUNK 65536
#define RT_OUT_HIGH (1024 * 1024) /* stop reading the replica above this */
#define RT_LINGER_S 2.0           /* after our last byte, wait this long for the client's FIN */
#define RT_IDLE_UP_S 60.0         /* an idle connection to a replica closes after this */
#define RT_MAX_RESPONSE_HEAD 65536

static void up_close(struct rt_uconn *u);
static void pool_drop(struct rt_uconn *u);

/* ---- message heads ---- */

typedef int (*keep_fn)(void *ctx, const char *name, size_t nlen, const char *value,
                       size_t vlen);

/* Headers that describe one connection, not the message (RFC 9110 7.6.1),
 * plus the framing the router sets itself. */
static int hop_by_hop(const char *k, size_t n)
{
    static const char *const hop[] = {"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                      "Trailer", "Transfer-Encoding", "Upgrade",
                                      "Content-Length", NULL};
    size_t i;

    for (i = 0; hop[i]; i++)
        if (strlen(hop[i]) == n && strncasecmp(k, hop[i], n) == 0)
            return 1;
    return 0;
}

static int name_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

static void head_reset(struct rt_head *h)
{
    buf_reset(&h->text);
    h->mark = h->vpos = h->total = 0;
    h->in_value = 0;
}

/* The header being read ends: keep it as a line, or take it out. */
static void head_end_field(struct rt_head *h, keep_fn keep, void *ctx)
{
    const char *name = h->text.data + h->mark;

    if (h->in_value && keep(ctx, name, h->vpos - 2 - h->mark, h->text.data + h->vpos,
                            h->text.len - h->vpos))
        buf_add(&h->text, "\r\n", 2);
    else
        h->text.len = h->mark;
    h->mark = h->text.len;
    h->in_value = 0;
}

/* A piece of a header name (http_parser may split one over reads). */
static void head_field(struct rt_head *h, const char *at, size_t len, keep_fn keep, void *ctx)
{
    if (h->in_value)
        head_end_field(h, keep, ctx);
    buf_add(&h->text, at, len);
}

static void head_value(struct rt_head *h, const char *at, size_t len)
{
    if (!h->in_value) {
        buf_add(&h->text, ": ", 2);
        h->vpos = h->text.len;
        h->in_value = 1;
    }
    buf_add(&h->text, at, len);
}

/* ---- the client side: parsing requests ---- */

static int keep_req(void *ctx, const char *k, size_t kn, const char *v, size_t vn)
{
    struct rt_cconn *c = ctx;

    if (name_is(k, kn, "Host")) {
        c->has_host = 1;
        return 1;
    }
    if (name_is(k, kn, "Authorization")) { /* router_proxy.c decides if it goes on */
        if (vn < sizeof(c->auth)) {
            memcpy(c->auth, v, vn);
            c->auth[vn] = '\0';
        } else {
            snprintf(c->auth, sizeof(c->auth), "!");
        }
        return 0;
    }
    if (name_is(k, kn, "Expect")) {
        c->expect_continue = vn == 12 && strncasecmp(v, "100-continue", 12) == 0;
        return 0;
    }
    return !hop_by_hop(k, kn);
}

static int req_limit(struct rt_cconn *c, size_t len)
{
    c->head.total += len;
    if (c->head.total <= c->w->rt->c->max_header_bytes)
        return 0;
    c->err_code = 431;
    return -1;
}

static int on_req_begin(http_parser *hp)
{
    struct rt_cconn *c = hp->data;

    head_reset(&c->head);
    buf_reset(&c->url);
    c->req_start = rt_now();
    c->auth[0] = '\0';
    c->has_host = c->expect_continue = 0;
    c->err_code = 0;
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    return 0;
}

static int on_req_url(http_parser *hp, const char *at, size_t len)
{
    struct rt_cconn *c = hp->data;

    if (req_limit(c, len) != 0)
        return -1;
    buf_add(&c->url, at, len);
    return 0;
}

static int on_req_field(http_parser *hp, const char *at, size_t len)
{
    struct rt_cconn *c = hp->data;

    if (req_limit(c, len + 4) != 0)
        return -1;
    head_field(&c->head, at, len, keep_req, c);
    return 0;
}

static int on_req_value(http_parser *hp, const char *at, size_t len)
{
    struct rt_cconn *c = hp->data;

    if (req_limit(c, len) != 0)
        return -1;
    head_value(&c->head, at, len);
    return 0;
}

static int on_req_headers(http_parser *hp)
{
    struct rt_cconn *c = hp->data;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

    if (c->head.in_value)
        head_end_field(&c->head, keep_req, c);
    c->req_start = 0; /* the head is in: a slow body is an idle client, not a slow head */
    if (c->url.len == 0 || c->url.data[0] != '/') {
        c->err_code = 400;
        return -1;
    }
    if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > c->w->rt->c->max_body) {
        c->err_code = 413;
        return -1;
    }
    if (c->expect_continue && !hp->upgrade) {
        evbuffer_add(c->out, cont, sizeof(cont) - 1);
        rt_client_flush(c);
    }
    return 0;
}

static int on_req_body(http_parser *hp, const char *at, size_t len)
{
    struct rt_cconn *c = hp->data;

    if (evbuffer_get_length(c->body) + len > c->w->rt->c->max_body) {
        c->err_code = 413; /* chunked: the length shows only now */
        return -1;
    }
    evbuffer_add(c->body, at, len);
    return 0;
}

static int on_req_done(http_parser *hp)
{
    struct rt_cconn *c = hp->data;

    c->req_done = 1;
    http_parser_pause(hp, 1); /* one request at a time: the rest waits in c->in */
    return 0;
}

static const http_parser_settings req_settings = {
    .on_message_begin = on_req_begin,
    .on_url = on_req_url,
    .on_header_field = on_req_field,
    .on_header_value = on_req_value,
    .on_headers_complete = on_req_headers,
    .on_body = on_req_body,
    .on_message_complete = on_req_done,
};

static void parse_failed(struct rt_cconn *c, enum http_errno er)
{
    char msg[200];

    switch (c->err_code ? c->err_code : er == HPE_HEADER_OVERFLOW ? 431 : 400) {
    case 431:
        rt_reply_parse_error(c, 431, "the request line and headers are larger than the "
                                     "router takes");
        break;
    case 413:
        rt_reply_parse_error(c, 413, "the request body is larger than the router takes");
        break;
    default:
        if (c->err_code == 400)
            snprintf(msg, sizeof(msg), "the request target must be a path (origin-form, /...)");
        else
            snprintf(msg, sizeof(msg), "malformed HTTP request: %s",
                     http_errno_description(er));
        rt_reply_parse_error(c, 400, msg);
    }
}

/* Feed the parser; the bytes it used (all of them after an error). */
static size_t client_feed(struct rt_cconn *c, const char *data, size_t len)
{
    size_t n = http_parser_execute(&c->hp, &req_settings, data, len);
    enum http_errno er = HTTP_PARSER_ERRNO(&c->hp);

    if (er == HPE_PAUSED) {
        http_parser_pause(&c->hp, 0);
        return n;
    }
    if (er != HPE_OK) {
        c->req_done = 0;
        parse_failed(c, er);
        return len;
    }
    return n;
}

/* A whole request was parsed: hand it over. */
static void client_dispatch(struct rt_cconn *c)
{
    c->req_done = 0;
    c->req_start = 0;
    c->keep_alive = http_should_keep_alive(&c->hp);
    c->http10 = c->hp.http_major == 1 && c->hp.http_minor == 0;
    if (c->hp.upgrade) {
        c->keep_alive = 0;
        rt_reply_parse_error(c, 501, "the router does not proxy protocol upgrades "
                                     "(WebSocket, CONNECT)");
        return;
    }
    c->busy = 1;
    rt_request(c);
}

/* Parse what waits in c->in while no request is in service. */
static void client_pump(struct rt_cconn *c)
{
    size_t len, n;
    char *d;

    while (!c->busy && !c->closing && !c->dead && evbuffer_get_length(c->in) > 0) {
        len = evbuffer_get_length(c->in);
        d = (char *)evbuffer_pullup(c->in, -1);
        n = client_feed(c, d, len);
        evbuffer_drain(c->in, n);
        if (c->req_done)
            client_dispatch(c);
        else if (n == len)
            break; /* a partial request: wait for more */
    }
}

/* ---- the client side: sockets ---- */

static void kick(struct rt_cconn *c)
{
    if (!c->kicked) {
        c->kicked = 1;
        event_active(c->ev, EV_TIMEOUT, 1);
    }
}

void rt_client_flush(struct rt_cconn *c)
{
    int n;

    while (!c->dead && evbuffer_get_length(c->out) > 0) {
        n = evbuffer_write(c->out, c->fd);
        if (n > 0) {
            c->wblock = 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->wblock == 0)
                c->wblock = rt_now();
            return; /* the next EV_WRITE edge goes on */
        }
        c->dead = 1; /* reset by the peer: freed by its own callback */
        kick(c);
        return;
    }
    if (c->busy && c->px.u != NULL && c->px.u->paused) {
        c->px.u->paused = 0; /* room again: read the replica on */
        c->px.u->last = rt_now();
        event_active(c->px.u->ev, EV_READ, 1);
    }
}

static void client_read(struct rt_cconn *c)
{
    char buf[RT_READ_CHUNK];
    size_t used, hold = c->w->rt->c->max_header_bytes + c->w->rt->c->max_body + RT_READ_CHUNK;
    ssize_t n;

    for (;;) {
        if (c->busy && evbuffer_get_length(c->in) > hold) {
            c->rfull = 1; /* read on when this request is answered */
            return;
        }
        n = read(c->fd, buf, sizeof(buf));
        if (n == 0) {
            c->eof = 1;
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                c->dead = 1;
            }
            return;
        }
        c->last = rt_now();
        if (c->lingering || c->closing) {
            /* read and forgotten */
        } else if (!c->busy && evbuffer_get_length(c->in) == 0) {
            used = client_feed(c, buf, (size_t)n);
            if (used < (size_t)n && !c->closing)
                evbuffer_add(c->in, buf + used, (size_t)n - used);
            if (c->req_done)
                client_dispatch(c);
        } else {
            evbuffer_add(c->in, buf, (size_t)n);
        }
        if ((size_t)n < sizeof(buf) && !c->rdhup)
            return; /* the socket is empty: the next edge brings more */
    }
}

static void client_free(struct rt_cconn *c)
{
    struct rt_worker *w = c->w;

    if (c->busy)
        rt_client_left(&c->px);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->ev);
    close(c->fd);
    if (c->px.timer)
        event_free(c->px.timer);
    evbuffer_free(c->px.uphead);
    evbuffer_free(c->body);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    buf_free(&c->head.text);
    buf_free(&c->url);
    free(c);
}

/* After a callback: free a dead connection; close one that is done. */
static void client_settle(struct rt_cconn *c)
{
    if (c->dead) {
        client_free(c);
        return;
    }
    if (c->busy || evbuffer_get_length(c->out) > 0)
        return;
    if (c->eof && evbuffer_get_length(c->in) == 0) {
        client_free(c); /* it said it is done, and everything it asked is answered */
        return;
    }
    if (c->eof && c->closing) {
        client_free(c);
        return;
    }
    if (c->closing && !c->lingering) {
        /* Our half first, then its FIN: closing at once could reset the
         * connection and destroy the answer in the client's buffer. */
        shutdown(c->fd, SHUT_WR);
        c->lingering = 1;
        c->last = rt_now();
    }
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
    struct rt_cconn *c = arg;

    (void)fd;
    c->kicked = 0;
    if (what & EV_CLOSED) { /* with data in the same edge: read on to the EOF */
        c->rdhup = 1;
        what |= EV_READ;
    }
    if (what & EV_WRITE)
        rt_client_flush(c);
    if ((what & EV_READ) && !c->dead)
        client_read(c);
    if (c->rfull && !c->busy && !c->dead) {
        c->rfull = 0;
        client_read(c);
    }
    if (!c->dead)
        client_pump(c);
    if (c->eof && !c->busy && !c->dead && evbuffer_get_length(c->in) > 0)
        evbuffer_drain(c->in, evbuffer_get_length(c->in)); /* a partial request, then EOF */
    client_settle(c);
}

void rt_client_adopt(struct rt_worker *w, int fd, const char *peer)
{
    struct rt_cconn *c = xcalloc(1, sizeof(*c));
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->w = w;
    c->fd = fd;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    http_parser_init(&c->hp, HTTP_REQUEST);
    c->hp.data = c;
    buf_init(&c->head.text, 0);
    buf_init(&c->url, 0);
    c->body = evbuffer_new();
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->px.uphead = evbuffer_new();
    c->last = rt_now();
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    c->ev = event_new(w->base, fd, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET,
                      on_client, c);
    event_add(c->ev, NULL);
}

void rt_client_done(struct rt_cconn *c)
{
    c->busy = 0;
    c->px.phase = PH_NONE;
    c->last = rt_now();
    if (!c->keep_alive)
        c->closing = 1;
    rt_client_flush(c);
    if (c->closing || c->eof || c->rfull || evbuffer_get_length(c->in) > 0)
        kick(c); /* the next request, or the close, in on_client */
}

/* ---- the replica side: parsing replies ---- */

static int keep_resp(void *ctx, const char *k, size_t kn, const char *v, size_t vn)
{
    (void)ctx;
    (void)v;
    (void)vn;
    return !hop_by_hop(k, kn);
}

static int resp_limit(struct rt_uconn *u, size_t len)
{
    u->head.total += len;
    return u->head.total <= RT_MAX_RESPONSE_HEAD ? 0 : -1;
}

static int on_resp_begin(http_parser *hp)
{
    struct rt_uconn *u = hp->data;

    head_reset(&u->head);
    u->reason[0] = '\0';
    return 0;
}

static int on_resp_status(http_parser *hp, const char *at, size_t len)
{
    struct rt_uconn *u = hp->data;
    size_t have = strlen(u->reason);

    if (have + len < sizeof(u->reason)) {
        memcpy(u->reason + have, at, len);
        u->reason[have + len] = '\0';
    }
    return resp_limit(u, len);
}

static int on_resp_field(http_parser *hp, const char *at, size_t len)
{
    struct rt_uconn *u = hp->data;

    if (resp_limit(u, len + 4) != 0)
        return -1;
    head_field(&u->head, at, len, keep_resp, u);
    return 0;
}

static int on_resp_value(http_parser *hp, const char *at, size_t len)
{
    struct rt_uconn *u = hp->data;

    if (resp_limit(u, len) != 0)
        return -1;
    head_value(&u->head, at, len);
    return 0;
}

static int on_resp_headers(http_parser *hp)
{
    struct rt_uconn *u = hp->data;

    if (u->head.in_value)
        head_end_field(&u->head, keep_resp, u);
    return u->p ? rt_up_head(u->p, u) : -1;
}

static int on_resp_body(http_parser *hp, const char *at, size_t len)
{
    struct rt_uconn *u = hp->data;

    if (u->p == NULL)
        return -1;
    rt_up_body(u->p, at, len);
    return 0;
}

static int on_resp_done(http_parser *hp)
{
    struct rt_uconn *u = hp->data;

    if (u->p != NULL && u->p->informational) {
        u->p->informational = 0; /* a 1xx head, skipped: the real one follows */
        return 0;
    }
    u->done = 1;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings resp_settings = {
    .on_message_begin = on_resp_begin,
    .on_status = on_resp_status,
    .on_header_field = on_resp_field,
    .on_header_value = on_resp_value,
    .on_headers_complete = on_resp_headers,
    .on_body = on_resp_body,
    .on_message_complete = on_resp_done,
};

/* ---- the replica side: connections ---- */

/* Replica URLs carry addresses; a host name is resolved here, once per
 * replica, on the loop (a slow resolver delays this worker that once). */
static void pool_resolve(struct rt_pool *pl)
{
    struct addrinfo hints, *ai = NULL;
    char ps[16];

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(ps, sizeof(ps), "%d", pl->port);
    if (getaddrinfo(pl->host, ps, &hints, &ai) == 0 && ai->ai_addrlen <= sizeof(pl->addr)) {
        memcpy(&pl->addr, ai->ai_addr, ai->ai_addrlen);
        pl->addrlen = ai->ai_addrlen;
    }
    if (ai)
        freeaddrinfo(ai);
}

static struct rt_pool *pool_of(struct rt_worker *w, const struct rt_pxy *p)
{
    struct rt_pool *pl;

    for (pl = w->pools; pl; pl = pl->next)
        if (pl->serial == p->rep_serial)
            break;
    if (pl == NULL) {
        pl = xcalloc(1, sizeof(*pl));
        pl->serial = p->rep_serial;
        pl->host = xstrdup(p->host);
        pl->port = p->port;
        pl->next = w->pools;
        w->pools = pl;
    }
    if (pl->addrlen == 0) /* again: a failure may have passed (out of descriptors) */
        pool_resolve(pl);
    return pl;
}

static void on_up(evutil_socket_t fd, short what, void *arg);

/* A new connection to the pool's replica; NULL when connect() failed at once. */
static struct rt_uconn *up_new(struct rt_worker *w, struct rt_pool *pl)
{
    struct rt_uconn *u;
    int fd, one = 1, rc;

    if (pl->addrlen == 0)
        return NULL;
    fd = socket(pl->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, (struct sockaddr *)&pl->addr, pl->addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        return NULL;
    }
    u = xcalloc(1, sizeof(*u));
    u->w = w;
    u->pool = pl;
    u->fd = fd;
    u->connecting = rc != 0;
    buf_init(&u->head.text, 0);
    u->out = evbuffer_new();
    u->ev = event_new(w->base, fd, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET, on_up, u);
    event_add(u->ev, NULL);
    return u;
}

static void up_close(struct rt_uconn *u)
{
    event_free(u->ev);
    close(u->fd);
    evbuffer_free(u->out);
    buf_free(&u->head.text);
    free(u);
}

/* Take u from its request (before either goes on alone). */
static struct rt_pxy *up_detach(struct rt_uconn *u)
{
    struct rt_pxy *p = u->p;

    if (p != NULL) {
        p->u = NULL;
        u->p = NULL;
        u->pool->busy--;
    }
    return p;
}

enum up_why { UP_CONNECT, UP_CLOSED, UP_BROKEN, UP_TIMEOUT };

/* The attempt on u failed: close it and let the request decide.  Only a
 * pooled connection the replica closed before any byte of the reply is
 * "stale" (the replica never took the request: servers close idle
 * connections); a timeout or a broken reply says nothing of the kind. */
static void up_fail(struct rt_uconn *u, enum up_why why)
{
    int stale = why == UP_CLOSED && u->reused && u->got == 0;
    size_t u_got = u->got;
    struct rt_pxy *p = up_detach(u);

    if (p == NULL) { /* an idle one: out of its pool first, or the pool keeps a freed one */
        pool_drop(u);
        return;
    }
    up_close(u);
    p->connect_failed = why == UP_CONNECT;
    p->stale = stale;
    p->reset = why == UP_CLOSED && u_got == 0;
    p->timed_out = why == UP_TIMEOUT;
    p->any_timeout |= p->timed_out;
    rt_up_failed(p);
}

/* The reply is complete: u back to its pool (or closed), then the request ends.
 * A replica may answer before it has read the whole request (a 413 to a big
 * body): what of the request is still unsent would go out ahead of the next
 * request on u, so u is not reused then. */
static void up_finish(struct rt_uconn *u, int reusable)
{
    struct rt_pxy *p = up_detach(u);
    struct rt_pool *pl = u->pool;

    if (reusable && evbuffer_get_length(u->out) == 0 && http_should_keep_alive(&u->hp)) {
        u->last = rt_now();
        u->next = pl->idle;
        pl->idle = u;
    } else {
        up_close(u);
    }
    rt_up_complete(p);
}

/* Write the request on; 1 when u failed (and is gone). */
static int up_flush(struct rt_uconn *u)
{
    int n;

    while (evbuffer_get_length(u->out) > 0) {
        n = evbuffer_write(u->out, u->fd);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        up_fail(u, errno == EPIPE || errno == ECONNRESET ? UP_CLOSED : UP_BROKEN);
        return 1;
    }
    return 0;
}

/* An idle connection leaves its pool (closed by the replica, or broken). */
static void pool_drop(struct rt_uconn *u)
{
    struct rt_uconn **pp;

    for (pp = &u->pool->idle; *pp; pp = &(*pp)->next)
        if (*pp == u) {
            *pp = u->next;
            break;
        }
    up_close(u);
}

/* Reply bytes: parse them; 1 when u is gone (finished or failed). */
static int up_got(struct rt_uconn *u, const char *buf, size_t n)
{
    struct rt_cconn *c = u->p->c;
    size_t used;
    enum http_errno er;

    u->got += n;
    used = http_parser_execute(&u->hp, &resp_settings, buf, n);
    er = HTTP_PARSER_ERRNO(&u->hp);
    if (u->done) {
        http_parser_pause(&u->hp, 0);
        up_finish(u, used == n); /* bytes past the reply: not a connection to reuse */
        return 1;
    }
    if (er != HPE_OK) {
        up_fail(u, UP_BROKEN);
        return 1;
    }
    rt_client_flush(c);
    if (evbuffer_get_length(c->out) > RT_OUT_HIGH)
        u->paused = 1; /* the client reads slower than the replica writes */
    return 0;
}

static void up_eof(struct rt_uconn *u)
{
    if (u->p != NULL) {
        http_parser_execute(&u->hp, &resp_settings, NULL, 0); /* a body that ends at EOF */
        if (u->done) {
            up_finish(u, 0);
            return;
        }
    }
    up_fail(u, UP_CLOSED);
}

static void up_read(struct rt_uconn *u)
{
    char buf[RT_READ_CHUNK];
    ssize_t n;

    if (u->p == NULL) { /* idle: EOF or stray bytes, either way it is done */
        pool_drop(u);
        return;
    }
    while (!u->paused) {
        n = read(u->fd, buf, sizeof(buf));
        if (n == 0) {
            up_eof(u);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                up_fail(u, errno == ECONNRESET ? UP_CLOSED : UP_BROKEN);
            return;
        }
        u->last = rt_now();
        if (up_got(u, buf, (size_t)n) || ((size_t)n < sizeof(buf) && !u->rdhup))
            return;
    }
}

static void on_up(evutil_socket_t fd, short what, void *arg)
{
    struct rt_uconn *u = arg;
    int err = 0;
    socklen_t len = sizeof(err);

    if (what & EV_CLOSED) {
        u->rdhup = 1;
        what |= EV_READ;
    }
    if (u->connecting) {
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            up_fail(u, UP_CONNECT);
            return;
        }
        if (!(what & EV_WRITE))
            return;
        u->connecting = 0;
    }
    if ((what & EV_WRITE) && evbuffer_get_length(u->out) > 0 && up_flush(u))
        return;
    if (what & EV_READ)
        up_read(u);
}

void rt_up_send(struct rt_pxy *p, int fresh)
{
    struct rt_pool *pl = pool_of(p->w, p);
    struct rt_uconn *u = fresh ? NULL : pl->idle;

    if (u != NULL) {
        pl->idle = u->next;
        u->reused = 1;
    } else {
        u = up_new(p->w, pl);
        if (u == NULL) {
            p->connect_failed = 1;
            p->stale = 0;
            rt_up_failed(p);
            return;
        }
        u->reused = 0;
    }
    pl->busy++;
    u->p = p;
    p->u = u;
    u->done = u->paused = u->rdhup = 0;
    u->got = 0;
    u->last = rt_now();
    http_parser_init(&u->hp, HTTP_RESPONSE);
    u->hp.data = u;
    evbuffer_add_buffer_reference(u->out, p->uphead);
    if (evbuffer_get_length(p->c->body) > 0)
        evbuffer_add_buffer_reference(u->out, p->c->body);
    if (!u->connecting)
        up_flush(u);
}

void rt_up_abandon(struct rt_pxy *p)
{
    struct rt_uconn *u = p->u;

    if (u != NULL) {
        up_detach(u);
        up_close(u); /* a reply half read cannot be resumed */
    }
}

/* ---- timeouts and pools ---- */

static void tick_client(struct rt_cconn *c, double now)
{
    const struct rt_config *cf = c->w->rt->c;
    struct rt_uconn *u = c->busy && c->px.phase == PH_UPSTREAM ? c->px.u : NULL;

    if (c->lingering && now - c->last > RT_LINGER_S)
        c->dead = 1;
    else if (!c->busy && c->req_start > 0 && now - c->req_start > cf->client_timeout_s &&
             !c->closing)
        /* a request head that does not come whole in time, however it trickles */
        rt_reply_parse_error(c, 408, "the request did not arrive in time");
    else if (!c->busy && now - c->last > cf->client_timeout_s)
        c->dead = 1; /* idle keep-alive */
    else if (c->wblock > 0 && now - c->wblock > cf->client_timeout_s)
        c->dead = 1; /* a client that stopped reading its reply */
    if (c->dead) {
        kick(c);
        return;
    }
    /* a replica held back for a slow client is not a silent one */
    if (u != NULL && !u->paused && now - u->last > cf->upstream_timeout_s)
        up_fail(u, UP_TIMEOUT);
}

static void tick_pools(struct rt_worker *w, double now)
{
    struct rt_pool **pp = &w->pools, *pl;
    struct rt_uconn **up, *u;
    int alive;

    while ((pl = *pp) != NULL) {
        rt_lock(w->rt);
        alive = rp_alive(&w->rt->set, pl->serial);
        rt_unlock(w->rt);
        for (up = &pl->idle; (u = *up) != NULL;) {
            if (!alive || now - u->last > RT_IDLE_UP_S) {
                *up = u->next;
                up_close(u);
            } else {
                up = &u->next;
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

void rt_conn_tick(struct rt_worker *w)
{
    double now = rt_now();
    struct rt_cconn *c;

    for (c = w->conns; c; c = c->next)
        tick_client(c, now); /* frees nothing: dead ones go in their callback */
    tick_pools(w, now);
}

void rt_conns_free(struct rt_worker *w)
{
    struct rt_pool *pl;
    struct rt_uconn *u;

    while (w->conns != NULL)
        client_free(w->conns); /* ends its request, closing its upstream */
    while ((pl = w->pools) != NULL) {
        w->pools = pl->next;
        while ((u = pl->idle) != NULL) {
            pl->idle = u->next;
            up_close(u);
        }
        free(pl->host);
        free(pl);
    }
}
