/*
 * router_src.c - where the router's replica set comes from.
 *
 * File mode (--replicas FILE): read at start (an error there stops the
 * router), then again on SIGHUP and whenever the file changes (its mtime,
 * size or inode, looked at every RT_WATCH_S; an editor's rename-into-place
 * counts).  A file that does not parse on a reload is reported and the
 * set in use kept.
 *
 * API mode (--api URL --service NAME): long-polls
 * GET URL/v1/services/NAME/endpoints?after=VERSION with the bearer token;
 * the server answers when the set is newer than VERSION (or after its own
 * timeout, with the same set).  A 404 means the server has no such
 * endpoint or service yet: logged once, asked again every RT_RETRY_S.
 * Until the first set arrives there are no replicas (requests wait up to
 * --max-wait, else 503).
 *
 * Load (API mode): every RT_LOAD_S the router tells the server how many
 * requests it answered since the last report and how many had to wait for
 * a replica or were refused for want of one
 * (POST /v1/services/NAME/load, on a connection of its own: the poll holds
 * the other), which is what the service's autoscaler reads, with its own
 * URL and region (`stratus serve status` lists the routers seen lately).
 */
#include "router_int.h"

#include <errno.h>
#include <jansson.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/xmem.h"

#define RT_WATCH_S 0.5
#define RT_RETRY_S 5
#define RT_POLL_TIMEOUT_S 120
#define RT_SET_MAX (16 << 20)
#define RT_LOAD_S 5

struct rt_src {
    struct rt *rt;
    struct rt_worker *w0;
    struct event *timer;
    struct stat last;          /* file mode: what the file was at the last read */
    int have_last;
    /* API mode */
    struct evhttp_connection *evcon;
    char *host, *path_base;
    int port;
    char **apis;               /* --api's URLs (servers of one store: docs/ha.md) */
    size_t napis, cur;         /* ... and the one asked now */
    int reconnect;             /* connect to apis[cur] before the next poll */
    int64_t after;
    int warned_404;
    int have_set;              /* a set came from the server */
    /* load reports */
    struct evhttp_connection *load_conn;
    struct event *load_timer;
    char *load_path;
    uint64_t sent_total, sent_waits; /* counts at the last report */
};

/* Parse text and make it the live set; 0 or an error in e. */
static int apply_text(struct rt *rt, const char *text, size_t len, const char *origin,
                      struct err *e)
{
    struct rp_doc doc;
    size_t nready;
    int rc = rp_parse(text, len, origin, &doc, e);

    rt_lock(rt);
    if (rc != 0) {
        rt->reload_errors++;
        rt_unlock(rt);
        return rc;
    }
    rp_apply(&rt->set, &doc);
    rt->loaded = 1;
    rt->reloads++;
    nready = rp_nready(&rt->set);
    rt_unlock(rt);
    log_info("replica set %s version %lld: %zu replicas, %zu ready", origin,
             (long long)doc.version, doc.nreplicas, nready);
    rp_doc_clear(&doc);
    return 0;
}

static int load_file(struct rt_src *s, struct err *e)
{
    const char *path = s->rt->c->replicas_file;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (stat(path, &s->last) != 0)
        return err_set(e, ST_EIO, "%s: %s (the replica set file given with --replicas)",
                       path, strerror(errno));
    s->have_last = 1;
    rc = fs_read_file(path, RT_SET_MAX, &text, &len, e);
    if (rc == 0)
        rc = apply_text(s->rt, text, len, path, e);
    free(text);
    return rc;
}

void rt_src_reload(struct rt *rt)
{
    struct err e;

    if (rt->src == NULL || rt->c->replicas_file == NULL)
        return;
    err_clear(&e);
    if (load_file(rt->src, &e) != 0)
        log_error("%s (keeping the replica set in use)", e.msg);
}

static int changed(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
           a->st_size != b->st_size || a->st_ino != b->st_ino;
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    struct rt_src *s = arg;
    struct stat now;

    (void)fd;
    (void)what;
    if (stat(s->rt->c->replicas_file, &now) != 0)
        return; /* being replaced, or gone: keep the set in use */
    if (!s->have_last || changed(&now, &s->last))
        rt_src_reload(s->rt);
}

/* ---- API mode ---- */

static void api_poll(struct rt_src *s);

static void api_again(struct rt_src *s, int secs)
{
    struct timeval tv = {secs, 0};

    evtimer_add(s->timer, &tv);
}

static int api_connect(struct rt_src *s, struct err *e);

static void on_api_timer(evutil_socket_t fd, short what, void *arg)
{
    struct rt_src *s = arg;
    struct err e;

    (void)fd;
    (void)what;
    err_clear(&e);
    if (s->reconnect && api_connect(s, &e) != 0) {
        log_error("%s", e.msg);
        api_again(s, RT_RETRY_S);
        return;
    }
    s->reconnect = 0;
    api_poll(s);
}


/* The server asked did not answer: the next of --api's, in a second
 * (the set in use stays meanwhile; after a whole round, RT_RETRY_S). */
static void api_next(struct rt_src *s)
{
    s->cur = (s->cur + 1) % s->napis;
    s->reconnect = 1; /* in the timer: not inside the old connection's callback */
    api_again(s, s->cur == 0 ? RT_RETRY_S : 1);
}

static void api_answer(struct rt_src *s, int code, struct evbuffer *body)
{
    size_t len = evbuffer_get_length(body);
    const char *text = len ? (const char *)evbuffer_pullup(body, -1) : "";
    struct err e;
    int64_t version;

    err_clear(&e);
    if (code == 404) {
        if (!s->warned_404)
            log_warn("%s%s: 404: the server has no endpoint list for service '%s' (no such "
                     "service, or a server without services); asking again every %d s",
                     s->apis[s->cur], s->path_base, s->rt->c->service, RT_RETRY_S);
        s->warned_404 = 1;
        api_again(s, RT_RETRY_S);
        return;
    }
    if (code >= 500 && s->napis > 1) {
        log_warn("%s%s: HTTP %d; asking the next server", s->apis[s->cur], s->path_base,
                 code);
        api_next(s);
        return;
    }
    if (code != 200) {
        log_warn("%s%s: HTTP %d; asking again in %d s", s->apis[s->cur], s->path_base, code,
                 RT_RETRY_S);
        api_again(s, RT_RETRY_S);
        return;
    }
    s->warned_404 = 0;
    if (apply_text(s->rt, text, len, s->apis[s->cur], &e) != 0) {
        log_error("%s (keeping the replica set in use)", e.msg);
        api_again(s, RT_RETRY_S);
        return;
    }
    rt_lock(s->rt);
    version = s->rt->set.version;
    rt_unlock(s->rt);
    /* A server that answers at once with a set no newer than the one we
     * have is not long-polling: do not spin on it. */
    api_again(s, version > s->after || !s->have_set ? 0 : 1);
    s->after = version;
    s->have_set = 1;
}

static void on_api_done(struct evhttp_request *req, void *arg)
{
    struct rt_src *s = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;

    if (code == 0 && s->napis > 1) {
        log_warn("cannot reach the server at %s; asking the next one", s->apis[s->cur]);
        api_next(s);
        return;
    }
    if (code == 0) {
        log_warn("cannot reach the server at %s; asking again in %d s", s->apis[s->cur],
                 RT_RETRY_S);
        api_again(s, RT_RETRY_S);
        return;
    }
    api_answer(s, code, evhttp_request_get_input_buffer(req));
}

static void api_poll(struct rt_src *s)
{
    struct evhttp_request *req = evhttp_request_new(on_api_done, s);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char *uri = xasprintf("%s?after=%lld", s->path_base, (long long)s->after);
    char *auth;

    evhttp_add_header(h, "Host", s->host);
    if (s->rt->c->token != NULL) {
        auth = xasprintf("Bearer %s", s->rt->c->token);
        evhttp_add_header(h, "Authorization", auth);
        free(auth);
    }
    if (evhttp_make_request(s->evcon, req, EVHTTP_REQ_GET, uri) != 0)
        api_again(s, RT_RETRY_S);
    free(uri);
}

static void on_load_done(struct evhttp_request *req, void *arg)
{
    int code = req ? evhttp_request_get_response_code(req) : 0;

    (void)arg;
    if (code != 200 && code != 404)
        log_warn("reporting load to the server: HTTP %d", code);
}

/* The requests answered since the last report, and those that waited for
 * a replica or were refused for want of one. */
static void report_load(struct rt_src *s)
{
    struct evhttp_request *req;
    uint64_t total = 0, waits;
    char *body, *auth, region[96];
    json_t *o;
    size_t i;

    snprintf(region, sizeof(region), "%s%s%s", s->rt->c->cloud ? s->rt->c->cloud : "",
             s->rt->c->region ? "/" : "", s->rt->c->region ? s->rt->c->region : "");

    rt_lock(s->rt);
    for (i = 0; i < RT_NCODES; i++)
        total += s->rt->by_code[i];
    waits = s->rt->waited + s->rt->no_replica;
    rt_unlock(s->rt);
    o = json_pack("{s:I, s:I, s:{s:s, s:s}}", "requests", (json_int_t)(total - s->sent_total),
                  "waiting", (json_int_t)(waits - s->sent_waits), "router", "url", s->rt->url,
                  "region", region);
    body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    s->sent_total = total;
    s->sent_waits = waits;
    req = evhttp_request_new(on_load_done, s);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", s->host);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    if (s->rt->c->token != NULL) {
        auth = xasprintf("Bearer %s", s->rt->c->token);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Authorization", auth);
        free(auth);
    }
    if (body)
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    free(body);
    evhttp_make_request(s->load_conn, req, EVHTTP_REQ_POST, s->load_path);
}

static void on_load_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    report_load(arg);
}

/* A URL of --api: http://HOST[:PORT]; *host (the caller frees) and *port. */
static int api_parse(const char *api, char **host, int *port, struct err *e)
{
    const char *h, *colon, *end;

    *host = NULL;
    if (strncmp(api, "http://", 7) != 0)
        return err_set(e, ST_EINVAL, "--api %s: the router reaches the server over http:// "
                       "(put it on a loopback or private listener)", api);
    h = api + 7;
    end = h + strcspn(h, "/");
    colon = memchr(h, ':', (size_t)(end - h));
    *host = xstrndup(h, (size_t)((colon ? colon : end) - h));
    *port = colon ? atoi(colon + 1) : 80;
    if ((*host)[0] == '\0' || *port <= 0 || *port > 65535)
        return err_set(e, ST_EINVAL, "--api %s: not a URL http://HOST[:PORT]", api);
    return 0;
}

/* (Re)connect both connections to s->apis[s->cur]. */
static int api_connect(struct rt_src *s, struct err *e)
{
    const char *api = s->apis[s->cur];
    int rc;

    free(s->host);
    if ((rc = api_parse(api, &s->host, &s->port, e)) != 0)
        return rc;
    if (s->evcon != NULL)
        evhttp_connection_free(s->evcon);
    if (s->load_conn != NULL)
        evhttp_connection_free(s->load_conn);
    s->evcon = evhttp_connection_base_new(s->w0->base, NULL, s->host, (ev_uint16_t)s->port);
    s->load_conn = evhttp_connection_base_new(s->w0->base, NULL, s->host, (ev_uint16_t)s->port);
    if (s->evcon == NULL || s->load_conn == NULL)
        return err_set(e, ST_EINTERNAL, "cannot make a connection to %s", api);
    evhttp_connection_set_timeout(s->evcon, RT_POLL_TIMEOUT_S);
    evhttp_connection_set_timeout(s->load_conn, 30);
    return 0;
}

/* --api URL[,URL...] into s->apis. */
static void api_split(struct rt_src *s, const char *list)
{
    const char *p = list, *comma;

    while (*p) {
        comma = strchr(p, ',');
        if (comma != p) {
            s->apis = xrealloc(s->apis, (s->napis + 1) * sizeof(*s->apis));
            s->apis[s->napis++] = comma ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
}

static int api_start(struct rt_src *s, struct err *e)
{
    struct timeval tv = {RT_LOAD_S, 0};
    char *esc, *host;
    size_t i;
    int rc = 0, port;

    api_split(s, s->rt->c->api);
    if (s->napis == 0)
        return err_set(e, ST_EINVAL, "--api: no URL given");
    for (i = 0; rc == 0 && i < s->napis; i++) { /* every URL checked now */
        rc = api_parse(s->apis[i], &host, &port, e);
        free(host);
    }
    if (rc == 0)
        rc = api_connect(s, e); /* the first */
    if (rc != 0)
        return rc;
    esc = evhttp_encode_uri(s->rt->c->service);
    s->path_base = xasprintf("/v1/services/%s/endpoints", esc);
    s->load_path = xasprintf("/v1/services/%s/load", esc);
    free(esc);
    s->timer = evtimer_new(s->w0->base, on_api_timer, s);
    api_again(s, 0);
    s->load_timer = event_new(s->w0->base, -1, EV_PERSIST, on_load_timer, s);
    event_add(s->load_timer, &tv);
    return 0;
}

int rt_src_start(struct rt *rt, struct rt_worker *w0, struct err *e)
{
    struct rt_src *s = xcalloc(1, sizeof(*s));
    struct timeval tv = {0, (suseconds_t)(RT_WATCH_S * 1e6)};
    int rc;

    s->rt = rt;
    s->w0 = w0;
    rt->src = s;
    if (rt->c->replicas_file == NULL)
        return api_start(s, e);
    rc = load_file(s, e);
    if (rc != 0)
        return rc;
    s->timer = event_new(w0->base, -1, EV_PERSIST, on_watch, s);
    event_add(s->timer, &tv);
    return 0;
}

void rt_src_stop(struct rt *rt)
{
    struct rt_src *s = rt->src;

    if (s == NULL)
        return;
    if (s->timer)
        event_free(s->timer);
    if (s->evcon)
        evhttp_connection_free(s->evcon);
    if (s->load_timer)
        event_free(s->load_timer);
    if (s->load_conn)
        evhttp_connection_free(s->load_conn);
    free(s->load_path);
    free(s->host);
    free(s->path_base);
    while (s->napis > 0)
        free(s->apis[--s->napis]);
    free(s->apis);
    free(s);
    rt->src = NULL;
}
