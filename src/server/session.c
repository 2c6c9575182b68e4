/*
 * session.c - login codes and browser sessions (session.h).
 *
 * Two fixed tables of entries, each the SHA-256 (hex) of a value and when
 * it expires.  A value is "lc_" (a code) or "ss_" (a session) + base64url
 * of 32 random bytes (auth_key_create), so a plain hash is enough: there is
 * nothing to guess that a slow or keyed hash would protect, and a memory
 * dump shows no value that works.  Lookups compare every entry with
 * CRYPTO_memcmp.  A full table drops its oldest entry: a flood of codes
 * from the owner, or of logins, costs only older browsers their session.
 *
 * Layout: the tables; codes; sessions; the Cookie header.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/lazyssl.h"
#include "../util/xmem.h"

#define CODES_MAX 32
#define SESSIONS_MAX 256

struct entry {
    char digest[65]; /* "" = a free slot */
    double made, expires;
};

struct sessions {
    struct entry codes[CODES_MAX];
    struct entry live[SESSIONS_MAX];
};

/* ---- the tables ---- */

struct sessions *sessions_new(void)
{
    return xcalloc(1, sizeof(struct sessions));
}

void sessions_free(struct sessions *ss)
{
    if (ss != NULL)
        OPENSSL_cleanse(ss, sizeof(*ss));
    free(ss);
}

/* The slot a new entry takes: a free or expired one, else the oldest. */
static struct entry *slot_new(struct entry *t, size_t n, double now)
{
    struct entry *old = &t[0];
    size_t i;

    for (i = 0; i < n; i++) {
        if (t[i].digest[0] == '\0' || t[i].expires <= now)
            return &t[i];
        if (t[i].made < old->made)
            old = &t[i];
    }
    return old;
}

/* The live entry for value, or NULL. */
static struct entry *slot_find(struct entry *t, size_t n, const char *value, double now)
{
    char digest[65];
    size_t i;

    auth_sha256_hex(value, strlen(value), digest);
    for (i = 0; i < n; i++)
        if (t[i].digest[0] != '\0' && CRYPTO_memcmp(t[i].digest, digest, 64) == 0)
            return t[i].expires > now ? &t[i] : NULL;
    return NULL;
}

/* A new value with prefix into value, its entry in t valid for ttl. */
static int entry_add(struct entry *t, size_t n, const char *prefix, double now,
                     double ttl, char *value, struct err *e)
{
    struct entry *en = slot_new(t, n, now);
    char digest[65];
    int rc = auth_key_create(prefix, value, SESSION_VALUE_MAX, digest, e);

    if (rc != 0)
        return rc;
    memcpy(en->digest, digest, sizeof(digest));
    en->made = now;
    en->expires = now + ttl;
    return 0;
}

/* ---- codes ---- */

int session_code_create(struct sessions *ss, double now, char *code, struct err *e)
{
    return entry_add(ss->codes, CODES_MAX, "lc_", now, SESSION_CODE_TTL_S, code, e);
}

int session_redeem(struct sessions *ss, const char *code, double now, char *value,
                   struct err *e)
{
    struct entry *en = slot_find(ss->codes, CODES_MAX, code, now);

    if (en == NULL)
        return err_set(e, ST_ENOTFOUND,
                       "this login link is not valid: unknown, used already or older "
                       "than %.0f s (run `stratus dashboard` again for a new one)",
                       SESSION_CODE_TTL_S);
    memset(en, 0, sizeof(*en)); /* spent, whatever comes next */
    return entry_add(ss->live, SESSIONS_MAX, "ss_", now, SESSION_TTL_S, value, e);
}

/* ---- sessions ---- */

int session_verify(struct sessions *ss, const char *value, double now,
                   struct auth_principal *who)
{
    if (ss == NULL || slot_find(ss->live, SESSIONS_MAX, value, now) == NULL)
        return -1;
    memset(who, 0, sizeof(*who));
    who->role = AUTH_ADMIN;
    snprintf(who->name, sizeof(who->name), "owner"); /* as on the UNIX socket */
    return 0;
}

void session_end(struct sessions *ss, const char *value)
{
    /* now = -1: found whenever it expires */
    struct entry *en = ss ? slot_find(ss->live, SESSIONS_MAX, value, -1) : NULL;

    if (en != NULL)
        memset(en, 0, sizeof(*en));
}

/* ---- the Cookie header ---- */

int session_cookie_find(const char *header, char *out, size_t n)
{
    const size_t nl = sizeof(SESSION_COOKIE) - 1;
    const char *p = header;

    while (p != NULL && *p) {
        size_t len;

        p += strspn(p, " \t;");
        len = strcspn(p, ";");
        if (len > nl && strncmp(p, SESSION_COOKIE, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t vl = len - nl - 1;

            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl == 0 || vl >= n)
                return -1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
        p += len;
    }
    return -1;
}
