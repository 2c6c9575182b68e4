/*
 * lazylib.h - open a shared library with dlopen and fill a table of its
 * functions, once: what lazycurl.c and lazypq.c share.  Libraries with many
 * dependencies of their own (libcurl, libpq) are loaded so only by the
 * processes that use them; the others start without paying for them.
 */
#ifndef STRATUS_LAZYLIB_H
#define STRATUS_LAZYLIB_H

#include <stddef.h>

#include "err.h"

struct lazy_sym {
    const char *name; /* the library's symbol */
    size_t off;       /* offset of its pointer in the table */
};

struct lazylib {
    const char *env;          /* names another file to open (tests play a
                                 machine without the library with it) */
    const char *const *names; /* sonames to try, in order; NULL-terminated */
    const struct lazy_sym *syms;
    size_t nsyms;
    void *table; /* filled only when every symbol was found */
    size_t table_size;
    const char *what;    /* "speaking HTTP needs libcurl": for the error */
    const char *package; /* the Debian package that has it */
    /* state: set by lazylib_load */
    int tried;
    char why[512]; /* empty when the table is complete */
};

/* Open the library and fill its table, once (thread-safe; later calls are
 * free): 0, or an error that says what needs the library, why it cannot be
 * loaded and what to install.  The library is never closed. */
int lazylib_load(struct lazylib *l, struct err *e);

#endif
