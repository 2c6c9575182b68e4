/*
 * serve.h - the replica manager inside `stratus server` (serve.c): opened
 * with the controller, ticked after every controller step.
 */
#ifndef STRATUS_SERVER_SERVE_H
#define STRATUS_SERVER_SERVE_H

#include "util/err.h"

struct srv;

/* Make s->mgr with the server's hooks (probes on s->base, loopback ports). */
int srv_serve_open(struct srv *s, struct err *e);
void srv_serve_close(struct srv *s);
/* One round of the manager now; the seconds until it has work again. */
double srv_serve_tick(struct srv *s);

#endif
