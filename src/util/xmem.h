/*
 * xmem.h - allocation wrappers that never return NULL (tmux's xmalloc, Redis'
 * zmalloc).  Out of memory is not a condition Stratus recovers from: the wrapper
 * prints one line and exits.  Also a growable byte buffer with a hard limit for
 * anything that takes outside input (curl's curlx_dyn_init(&b, toobig)).
 */
#ifndef STRATUS_XMEM_H
#define STRATUS_XMEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of nmemb elements of size to at least need elements; doubles. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* asprintf that never fails; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Always-on invariant check, separate from input validation (haproxy's BUG_ON). */
#define BUG_ON(cond)                                                                     \
    do {                                                                                 \
        if (cond)                                                                        \
            bug_fail(__FILE__, __LINE__, #cond);                                         \
    } while (0)
void bug_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* A byte buffer that refuses to grow past `limit` bytes. */
struct buf {
    char *data;   /* NUL-terminated when len > 0 or after buf_cstr() */
    size_t len;
    size_t cap;
    size_t limit; /* hard maximum of len; 0 = no limit */
};

void buf_init(struct buf *b, size_t limit);
/* Append n bytes; returns 0 or ST_ETOOBIG when the limit would be passed. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string (never NULL). */
const char *buf_cstr(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
