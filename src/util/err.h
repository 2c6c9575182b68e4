/*
 * err.h - the one error convention of Stratus.
 *
 * A function that can fail returns 0 on success or a negative ST_E* code, and
 * fills a caller-owned `struct err` with the code and a human message.  Messages
 * about user input carry "file:line:col: " in front, a cause, and where it
 * helps a suggestion.  Codes and their default texts come from one X-macro
 * list (after libuv's UV_ERRNO_MAP), so names and messages never drift apart.
 */
#ifndef STRATUS_ERR_H
#define STRATUS_ERR_H

#include <stddef.h>

#define ST_ERR_MAP(X)                                                           \
    X(NOMEM, "out of memory")                                                   \
    X(IO, "input/output error")                                                 \
    X(PARSE, "parse error")                                                     \
    X(INVAL, "invalid value")                                                   \
    X(NOTFOUND, "not found")                                                    \
    X(EXISTS, "already exists")                                                 \
    X(TOOBIG, "input too large")                                                \
    X(INFEASIBLE, "no feasible placement")                                      \
    X(USAGE, "usage error")                                                     \
    X(STATE, "invalid state")                                                   \
    X(CAPACITY, "no capacity")                                                  \
    X(INTERNAL, "internal error")                                               \
    X(FENCED, "no longer the leader")

enum st_errcode {
    ST_OK = 0,
#define X_(name, msg) ST_E##name,
    ST__ERR_FIRST = -100,
    ST_ERR_MAP(X_)
#undef X_
        ST__ERR_LAST
};

#define ST_ERR_MSG_MAX 1024

struct err {
    int code;                  /* negative ST_E* code, 0 when clear */
    char msg[ST_ERR_MSG_MAX];  /* full message, already prefixed with location */
};

/* Name of a code ("EPARSE"), for logs and JSON; "OK" for 0. */
const char *err_name(int code);

/* Default text of a code ("parse error"). */
const char *err_str(int code);

/* Set e (if not NULL) to code and a printf-style message; returns code so a
 * caller can write `return err_set(e, ST_EINVAL, "...")`. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set, with "file:line:col: " in front.  line/col of 0 are omitted. */
int err_at(struct err *e, int code, const char *file, size_t line, size_t col,
           const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prepend "prefix: " to an existing message (keeps the code). */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to the clear state. */
void err_clear(struct err *e);

#endif
