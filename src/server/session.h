/*
 * session.h - the dashboard's browser sessions: one-time login codes and
 * the session cookies they are exchanged for (docs/dashboard.md).
 *
 * `stratus dashboard` asks the server, over its UNIX socket as its owner,
 * for a login code (POST /v1/login-links); the code is good once, for
 * SESSION_CODE_TTL_S seconds.  GET /ui/login?code=... trades it for a
 * session: a cookie the TCP listeners accept, for GET requests, as the
 * owner (admin).  Codes and sessions live in memory only (a restart logs
 * every browser out), each known by the SHA-256 of its value: the values
 * themselves are handed out once and never kept, logged or put in a
 * message.  Both tables are bounded: past their size the oldest entry goes.
 */
#ifndef STRATUS_SESSION_H
#define STRATUS_SESSION_H

#include <stddef.h>

#include "../util/err.h"
#include "auth.h"

#define SESSION_CODE_TTL_S 60.0
#define SESSION_TTL_S (12 * 3600.0)
#define SESSION_COOKIE "stratus_session"
/* Room for a code or a session value and its NUL: a prefix of 3 and 43
 * characters of base64url. */
#define SESSION_VALUE_MAX 64

struct sessions;

/* A new, empty pair of tables (never NULL); free with sessions_free. */
struct sessions *sessions_new(void);
void sessions_free(struct sessions *ss);
/* Make a login code valid until now + SESSION_CODE_TTL_S into code
 * (SESSION_VALUE_MAX bytes): "lc_" + 43 characters. */
int session_code_create(struct sessions *ss, double now, char *code, struct err *e);
/* Trade code for a new session, its cookie value into value
 * (SESSION_VALUE_MAX bytes): the code is then spent.  ST_ENOTFOUND (with
 * no part of the code in the message) when it is unknown, spent or expired. */
int session_redeem(struct sessions *ss, const char *code, double now, char *value,
                   struct err *e);
/* Who holds session value: 0 and *who filled (admin "owner"), or -1
 * when it is unknown or expired. */
int session_verify(struct sessions *ss, const char *value, double now,
                   struct auth_principal *who);
/* End session value now (logging out); unknown values are ignored. */
void session_end(struct sessions *ss, const char *value);
/* The value of cookie SESSION_COOKIE in a Cookie header ("a=1; b=2") into
 * out (n bytes): 0, or -1 when it is absent, empty or does not fit. */
int session_cookie_find(const char *header, char *out, size_t n);

#endif
