/*
 * err.c - error codes, names and message formatting (see err.h).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *err_name(int code)
{
    switch (code) {
    case ST_OK:
        return "OK";
#define X_(name, msg)                                                                    \
    case ST_E##name:                                                                     \
        return "E" #name;
        ST_ERR_MAP(X_)
#undef X_
    default:
        return "EUNKNOWN";
    }
}

const char *err_str(int code)
{
    switch (code) {
    case ST_OK:
        return "success";
#define X_(name, msg)                                                                    \
    case ST_E##name:                                                                     \
        return msg;
        ST_ERR_MAP(X_)
#undef X_
    default:
        return "unknown error";
    }
}

static int err_vset(struct err *e, int code, const char *prefix, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));
static int err_vset(struct err *e, int code, const char *prefix, const char *fmt,
                    va_list ap)
{
    size_t n;

    if (e == NULL)
        return code;
    e->code = code;
    snprintf(e->msg, sizeof(e->msg), "%s", prefix);
    n = strlen(e->msg);
    vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
    return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(e, code, "", fmt, ap);
    va_end(ap);
    return code;
}

int err_at(struct err *e, int code, const char *file, size_t line, size_t col,
           const char *fmt, ...)
{
    char where[512];
    va_list ap;

    if (line > 0 && col > 0)
        snprintf(where, sizeof(where), "%s:%zu:%zu: ", file, line, col);
    else if (line > 0)
        snprintf(where, sizeof(where), "%s:%zu: ", file, line);
    else
        snprintf(where, sizeof(where), "%s: ", file);
    va_start(ap, fmt);
    err_vset(e, code, where, fmt, ap);
    va_end(ap);
    return code;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
    char old[ST_ERR_MSG_MAX];
    size_t n;
    va_list ap;

    if (e == NULL)
        return;
    memcpy(old, e->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    /* Truncation is acceptable here: the head matters most. */
    n = strlen(e->msg);
    if (n + 2 < sizeof(e->msg))
        snprintf(e->msg + n, sizeof(e->msg) - n, ": %.*s", (int)(sizeof(e->msg) - n - 3), old);
}

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    e->code = 0;
    e->msg[0] = '\0';
}
