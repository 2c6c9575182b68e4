/*
 * fuzz_router.c - libFuzzer harness for what `stratus router` takes from
 * outside.  The first byte chooses:
 *   even: the bytes are a replica set document: rp_parse(), and when it
 *         parses, rp_apply() twice (the second time over a live set with
 *         requests in flight) and picks/dones, checking that every in-flight
 *         count comes back to zero;
 *   odd:  the bytes are what a client sends over loopback TCP to the
 *         router's own evhttp (rt_on_request, with a replica set of one
 *         READY replica on a closed port and a key), the loop run until the
 *         router has answered and closed, or for 0.5 s at most.
 *
 *   cmake -S . -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_router
 *   build-fuzz/fuzz_router -max_total_time=60
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "router/pick.h"
#include "router/router_int.h"
#include "util/xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_set(const char *text, size_t len)
{
    struct rp_config c;
    struct rp_set s;
    struct rp_doc d;
    struct rp_replica *held[8], *r;
    struct err e;
    int i, n = 0;

    err_clear(&e);
    if (rp_parse(text, len, "fuzz", &d, &e) != 0)
        return;
    memset(&c, 0, sizeof(c));
    c.eject_after = 2;
    c.eject_base_s = 1;
    c.eject_max_s = 10;
    rp_set_init(&s, &c);
    rp_apply(&s, &d);
    for (i = 0; i < 8; i++) {
        held[n] = rp_pick(&s, i, NULL, 0, NULL);
        if (held[n] != NULL)
            n++;
    }
    rp_apply(&s, &d); /* the same set again, requests in flight */
    for (i = 0; i < n; i++)
        rp_done(&s, held[i], i % 2, 0.01, 10);
    for (r = s.list; r; r = r->next)
        if (r->inflight != 0)
            abort();
    rp_doc_clear(&d);
    rp_set_free(&s);
}

static const char set_json[] =
    "{\"keys\":[\"8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a\"],"
    "\"replicas\":[{\"id\":1,\"url\":\"http://127.0.0.1:9\",\"state\":\"READY\"}]}";

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        event_base_loopexit(arg, NULL);
}

/* The router's loop, made once: its evhttp on a loopback port. */
static struct rt rt;
static struct rt_worker w;
static struct sockaddr_storage addr;
static int addrlen;

static void setup_router(void)
{
    static struct rt_config cfg = {.max_body = 4096, .max_header_bytes = 2048,
                                   .client_timeout_s = 1, .upstream_timeout_s = 1,
                                   .retry_after_s = 1, .retries = 1};
    struct evhttp_bound_socket *bs;
    struct rp_config pc;
    struct rp_doc d;
    struct err e;
    socklen_t len = sizeof(addr);

    memset(&pc, 0, sizeof(pc));
    rt.c = &cfg;
    rt.nw = 1;
    rt.w = &w;
    pthread_mutex_init(&rt.mu, NULL);
    rp_set_init(&rt.set, &pc);
    if (rp_parse(set_json, sizeof(set_json) - 1, "fuzz", &d, &e) != 0)
        abort();
    rp_apply(&rt.set, &d);
    rp_doc_clear(&d);
    w.rt = &rt;
    w.base = event_base_new();
    w.http = evhttp_new(w.base);
    evhttp_set_gencb(w.http, rt_on_request, &w);
    evhttp_set_max_headers_size(w.http, 8192);
    evhttp_set_max_body_size(w.http, 4096);
    evhttp_set_timeout(w.http, 1);
    bs = evhttp_bind_socket_with_handle(w.http, "127.0.0.1", 0);
    if (bs == NULL || getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&addr,
                                  &len) != 0)
        abort();
    addrlen = (int)len;
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    /* all sent: no more from this client (evhttp answers, then sees EOF) */
    shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void fuzz_request(const uint8_t *data, size_t size)
{
    struct bufferevent *client;
    struct timeval limit = {0, 500000};

    if (w.base == NULL)
        setup_router();
    client = bufferevent_socket_new(w.base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(client, on_read, on_write, on_event, w.base);
    if (bufferevent_socket_connect(client, (struct sockaddr *)&addr, addrlen) != 0)
        abort();
    bufferevent_enable(client, EV_READ | EV_WRITE);
    if (size > 0)
        bufferevent_write(client, data, size);
    else
        shutdown(bufferevent_getfd(client), SHUT_WR);
    event_base_loopexit(w.base, &limit);
    event_base_dispatch(w.base);
    bufferevent_free(client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_set((const char *)data + 1, size - 1);
    else
        fuzz_request(data + 1, size - 1);
    return 0;
}
