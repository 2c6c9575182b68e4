/*
 * serve.h - the replica manager inside `stratus server` (serve.c): opened
 * with the controller, ticked after every controller step.
 */
#ifndef STRATUS_SERVER_SERVE_H
#define STRATUS_SERVER_SERVE_H

#include "../util/err.h"

struct spec;
struct srv;

/* Make s->mgr with the server's hooks (probes on s->base, loopback ports). */
int srv_serve_open(struct srv *s, struct err *e);
void srv_serve_close(struct srv *s);
/* One round of the manager now; the seconds until it has work again. */
double srv_serve_tick(struct srv *s);
/* Can the service spec sp (from file) run here?  No: the catalog has no
 * offer for it (the planner's error), or its replicas listen on a fixed
 * port, which on the local clouds needs a network each, and there are more
 * than one with no way to make namespaces (not root, no `ip`): an error
 * that says what to do. */
int srv_serve_check(const struct srv *s, const struct spec *sp, const char *file,
                    struct err *e);

#endif
