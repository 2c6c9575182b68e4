/*
 * bench_router_backend.c - the fast backend of bench/bench_router.sh: a
 * keep-alive HTTP/1.1 server (libevent's evhttp, one loop) that answers
 * every request with the same small JSON body, so that what the bench
 * measures is the proxy in front of it.
 *
 *   bench_router_backend PORT    (prints "ready" when listening)
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\","
                           "\"choices\":[{\"text\":\"hello\",\"index\":0}]}\n";

static void on_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);

    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evbuffer_add_reference(out, body, sizeof(body) - 1, NULL, NULL);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    struct event_config *ec = event_config_new();
    struct event_base *base;
    struct evhttp *h;
    struct event *term;
    int port = argc > 1 ? atoi(argv[1]) : 0;

    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(ec);
    event_config_free(ec);
    h = evhttp_new(base);
    evhttp_set_gencb(h, on_request, NULL);
    if (port <= 0 || evhttp_bind_socket(h, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "usage: bench_router_backend PORT (a free port)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    term = evsignal_new(base, SIGTERM, on_term, base);
    event_add(term, NULL);
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);
    event_free(term);
    evhttp_free(h);
    event_base_free(base);
    return 0;
}
