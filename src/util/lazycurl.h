/*
 * lazycurl.h - libcurl, loaded with dlopen the first time HTTP is needed.
 *
 * Linking libcurl pulls in some 30 shared libraries (TLS, Kerberos, LDAP,
 * SSH, ...) whose loading and relocation cost every `stratus` process about
 * 5 ms, although only the CLI's client and the Slurm driver speak HTTP.  So
 * libcurl is not linked: include this header instead of <curl/curl.h> (for
 * curl's types and constants), call lazycurl_load() before the first curl
 * call, and keep calling curl's functions by their names, which the macros
 * below route through a table filled by dlsym.  A machine without libcurl
 * runs every command that needs no HTTP and gets a clear error on one that
 * does.
 */
#ifndef STRATUS_LAZYCURL_H
#define STRATUS_LAZYCURL_H

#include <curl/curl.h>

#include "err.h"

struct lazycurl {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *c);
    void (*easy_reset)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    CURLcode (*easy_perform)(CURL *c);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};

/* The table; every pointer is NULL until lazycurl_load() succeeded. */
extern struct lazycurl lazycurl;

/* Load libcurl once (thread-safe; later calls are free); 0, or an error that
 * says libcurl is missing and what needs it. */
int lazycurl_load(struct err *e);

/* curl.h may define these as type-checking macros (GCC): ours replace them. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init lazycurl.global_init
#define curl_global_cleanup lazycurl.global_cleanup
#define curl_easy_init lazycurl.easy_init
#define curl_easy_cleanup lazycurl.easy_cleanup
#define curl_easy_reset lazycurl.easy_reset
#define curl_easy_setopt lazycurl.easy_setopt
#define curl_easy_getinfo lazycurl.easy_getinfo
#define curl_easy_perform lazycurl.easy_perform
#define curl_easy_strerror lazycurl.easy_strerror
#define curl_slist_append lazycurl.slist_append
#define curl_slist_free_all lazycurl.slist_free_all

#endif
