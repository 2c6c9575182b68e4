/*
 * lazycurl.c - dlopen libcurl on first use (see lazycurl.h).
 */
#include "lazycurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lazycurl lazycurl;

/* The library by its SONAME (libcurl's ABI has been .so.4 since 2006), then
 * the development link as a last resort; $STRATUS_LIBCURL names another
 * (tests use it to play a machine without libcurl). */
static const char *const LIBNAMES[] = {"libcurl.so.4", "libcurl.so"};

struct sym {
    const char *name;
    size_t off; /* offset of the pointer in struct lazycurl */
};

#define SYM(field, name) {name, offsetof(struct lazycurl, field)}
static const struct sym SYMS[] = {
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

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512]; /* empty when the table is complete */

static void fill_table(void *lib)
{
    struct lazycurl t;
    size_t i;

    memset(&t, 0, sizeof(t));
    for (i = 0; i < sizeof(SYMS) / sizeof(SYMS[0]); i++) {
        void *f = dlsym(lib, SYMS[i].name);

        if (f == NULL) {
            snprintf(load_error, sizeof(load_error), "libcurl lacks %s", SYMS[i].name);
            return;
        }
        /* POSIX guarantees that a function's address survives void *. */
        memcpy((char *)&t + SYMS[i].off, &f, sizeof(f));
    }
    lazycurl = t;
}

static void load_once(void)
{
    const char *env = getenv("STRATUS_LIBCURL"); /* tests: a missing libcurl */
    void *lib = NULL;
    size_t i;

    if (env && *env)
        lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    else
        for (i = 0; lib == NULL && i < sizeof(LIBNAMES) / sizeof(LIBNAMES[0]); i++)
            lib = dlopen(LIBNAMES[i], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();

        snprintf(load_error, sizeof(load_error), "%s", why ? why : "not found");
        return;
    }
    fill_table(lib); /* never dlclose'd: curl keeps global state */
}

int lazycurl_load(struct err *e)
{
    pthread_once(&once, load_once);
    if (load_error[0] != '\0')
        return err_set(e, ST_EINTERNAL,
                       "speaking HTTP needs libcurl, which cannot be loaded (%s); install "
                       "libcurl4 (scripts/install-deps.sh)",
                       load_error);
    return 0;
}
