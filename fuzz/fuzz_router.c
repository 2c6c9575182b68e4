/*
 * fuzz_router.c - libFuzzer harness for what `stratus router` takes from
 * outside.  The first byte chooses:
 *   even: the bytes are a replica set document: rp_parse(), and when it
 *         parses, rp_apply() twice (the second time over a live set with
 *         requests in flight) and picks/dones, checking that every in-flight
 *         count comes back to zero;
 *   odd:  the bytes are what a client sends to the router (a socket pair,
 *         the router's end adopted as a client connection, with a replica
 *         set of one READY replica on a closed port and a key), the loop
 *         run until the router has answered and closed, or for 0.5 s at
 *         most.
 *
 *   cmake -S . -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_router
 *   build-fuzz/fuzz_router -max_total_time=60
 */
#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The router's loop, made once, with a replica set of one. */
static struct rt rt;
static struct rt_worker w;

static void setup_router(void)
{
    static struct rt_config cfg = {.max_body = 4096, .max_header_bytes = 2048,
                                   .client_timeout_s = 1, .upstream_timeout_s = 1,
                                   .retry_after_s = 1, .retries = 1};
    struct rp_config pc;
    struct rp_doc d;
    struct err e;

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
}

struct peer {
    int fd;
    const uint8_t *data;
    size_t size, sent;
    struct event *ev;
};

/* The client's end: send the bytes, then half-close; read the answers
 * until the router closes. */
static void on_peer(evutil_socket_t fd, short what, void *arg)
{
    struct peer *pe = arg;
    char buf[4096];
    ssize_t n;

    if ((what & EV_WRITE) && pe->sent < pe->size) {
        n = write(fd, pe->data + pe->sent, pe->size - pe->sent);
        if (n > 0)
            pe->sent += (size_t)n;
        if (pe->sent == pe->size)
            shutdown(fd, SHUT_WR);
    }
    if (what & EV_READ) {
        n = read(fd, buf, sizeof(buf));
        if (n <= 0 && !(n < 0 && errno == EAGAIN))
            event_base_loopexit(w.base, NULL);
    }
}

static void fuzz_request(const uint8_t *data, size_t size)
{
    struct timeval limit = {0, 500000};
    struct peer pe = {.data = data, .size = size};
    int sv[2];

    if (w.base == NULL)
        setup_router();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    pe.fd = sv[1];
    if (size == 0)
        shutdown(sv[1], SHUT_WR);
    rt_client_adopt(&w, sv[0], "fuzz");
    pe.ev = event_new(w.base, sv[1], EV_READ | EV_WRITE | EV_PERSIST, on_peer, &pe);
    event_add(pe.ev, NULL);
    event_base_loopexit(w.base, &limit);
    event_base_dispatch(w.base);
    event_free(pe.ev);
    close(sv[1]);
    rt_conns_free(&w); /* whatever is left of it (timed out): freed, its request ended */
    rt.waited = 0;
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
