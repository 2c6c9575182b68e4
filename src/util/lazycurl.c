/*
 * lazycurl.c - dlopen libcurl on first use (see lazycurl.h).
 */
#include "lazycurl.h"

#include <stddef.h>

#include "lazylib.h"

struct lazycurl lazycurl;

/* The library by its SONAME (libcurl's ABI has been .so.4 since 2006), then
 * the development link as a last resort; $STRATUS_LIBCURL names another
 * (tests use it to play a machine without libcurl). */
static const char *const LIBNAMES[] = {"libcurl.so.4", "libcurl.so", NULL};

#define SYM(field, name) {name, offsetof(struct lazycurl, field)}
static const struct lazy_sym SYMS[] = {
    SYM(global_init, "curl_global_init"),
    SYM(global_cleanup, "curl_global_cleanup"),
    SYM(easy_init, "curl_easy_init"),
    SYM(easy_cleanup, "curl_easy_cleanup"),
    SYM(easy_reset, "curl_easy_reset"),
    SYM(easy_setopt, "curl_easy_setopt"),
    SYM(easy_getinfo, "curl_easy_getinfo"),
    SYM(easy_perform, "curl_easy_perform"),
    SYM(easy_strerror, "curl_easy_strerror"),
    SYM(slist_append, "curl_slist_append"),
    SYM(slist_free_all, "curl_slist_free_all"),
};

static struct lazylib lib = {
    .env = "STRATUS_LIBCURL",
    .names = LIBNAMES,
    .syms = SYMS,
    .nsyms = sizeof(SYMS) / sizeof(SYMS[0]),
    .table = &lazycurl,
    .table_size = sizeof(lazycurl),
    .what = "speaking HTTP needs libcurl",
    .package = "libcurl4",
};

int lazycurl_load(struct err *e)
{
    return lazylib_load(&lib, e);
}
