/*
 * auth.c - roles and bearer tokens (see auth.h).
 *
 * A token is "st_" + base64url (no padding) of 32 bytes from getrandom().
 * The store keeps HMAC-SHA256(secret, token) in lowercase hex and finds a
 * token by that hash; the token itself is shown once and never stored,
 * logged or put in a message.  Why an HMAC and not a slow KDF: a token has
 * 256 random bits, so there is nothing to guess that a slow hash would
 * protect, and the server checks a token on every request; the secret
 * (home/server.secret) means a copy of the database alone does not let
 * anyone test candidate tokens offline.
 *
 * The secret file holds 64 hex digits and a newline (so it can be made by
 * `openssl rand -hex 32` and copied as text).  It is made under a temporary
 * name (O_EXCL, 0600) and linked into place, so it never exists half
 * written and a second server starting at the same moment keeps the
 * first one's secret instead of replacing it.  A secret file others may
 * read or write is refused, not fixed: someone may already have it.
 *
 * Layout: roles; random bytes, encodings, the HMAC; the secret file;
 * tokens.
 */
#include "auth.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/lazyssl.h"
#include "../util/xmem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_PREFIX "st_"
#define TOKEN_RAW 32 /* random bytes in a token */
#define TOKEN_B64 43 /* their base64url, unpadded */
#define TOKEN_LEN (sizeof(TOKEN_PREFIX) - 1 + TOKEN_B64)
#define HASH_HEX 64 /* hex digits of an HMAC-SHA256 */
#define NAME_MAX_LEN 63
#define SECRET_FILE "server.secret"

/* ---- roles -------------------------------------------------------------------- */

static const char *const role_names[] = {"none", "viewer", "member", "admin"};

/* "none" for AUTH_NONE and for a number that is not a role. */
const char *auth_role_name(enum auth_role r)
{
    return (int)r >= 0 && (int)r <= AUTH_ADMIN ? role_names[r] : "none";
}

/* Exact, lowercase names only: "none" is not a role one can be given. */
enum auth_role auth_role_parse(const char *s)
{
    int r;

    for (r = AUTH_VIEWER; s != NULL && r <= AUTH_ADMIN; r++)
        if (strcmp(s, role_names[r]) == 0)
            return (enum auth_role)r;
    return AUTH_NONE;
}

/* ---- random bytes, encodings, the HMAC ---------------------------------------- */

/* n bytes from the kernel's random source (getrandom may return fewer than
 * asked, or be interrupted). */
static int random_bytes(unsigned char *buf, size_t n, struct err *e)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(e, ST_EIO, "cannot read random bytes: %s", strerror(errno));
        got += (size_t)r;
    }
    return 0;
}

/* The alphabet of base64url (RFC 4648 section 5): what a token may hold. */
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of n bytes (n <= 48), without padding, into out (4 * n / 3 + 2
 * bytes): OpenSSL's base64 with its two URL-unsafe letters swapped and the
 * padding dropped (RFC 4648 section 5). */
static void b64url_encode(const unsigned char *in, size_t n, char *out, size_t outsz)
{
    unsigned char b64[68];
    int len = EVP_EncodeBlock(b64, in, (int)n), i;

    while (len > 0 && b64[len - 1] == '=')
        len--;
    if ((size_t)len >= outsz)
        len = (int)outsz - 1;
    for (i = 0; i < len; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[len] = '\0';
}

/* n bytes as 2n lowercase hex digits into out (2n + 1 bytes); lowercase
 * because the stored hashes have always been written that way. */
static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    size_t len = 0, i;

    if (OPENSSL_buf2hexstr_ex(out, 2 * n + 1, &len, in, n, '\0') != 1)
        len = 0;
    for (i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    out[2 * n] = '\0';
}

void auth_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        memset(md, 0, sizeof(md)); /* never matches a key's digest */
    hex_encode(md, 32, out);
}

/* prefix + base64url of TOKEN_RAW random bytes into out (n bytes, room
 * for the prefix, TOKEN_B64 and a NUL): a token or a service's API key. */
static int random_secret(const char *prefix, char *out, size_t n, struct err *e)
{
    unsigned char raw[TOKEN_RAW];
    size_t plen = strlen(prefix);
    int rc;

    if (n < plen + TOKEN_B64 + 1)
        return err_set(e, ST_EINTERNAL, "%zu bytes are too few for a secret", n);
    rc = random_bytes(raw, sizeof(raw), e);
    if (rc != 0)
        return rc;
    memcpy(out, prefix, plen);
    b64url_encode(raw, sizeof(raw), out + plen, n - plen);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

int auth_key_create(const char *prefix, char *key, size_t n, char digest[65], struct err *e)
{
    int rc = random_secret(prefix, key, n, e);

    if (rc == 0)
        auth_sha256_hex(key, strlen(key), digest);
    return rc;
}

/* 2n hex digits (either case) into n bytes; -1 when they are not that. */
static int hex_decode(const char *in, unsigned char *out, size_t n)
{
    size_t len = 0;
    char text[2 * 64 + 1];

    if (n > 64)
        return -1;
    memcpy(text, in, 2 * n);
    text[2 * n] = '\0';
    if (OPENSSL_hexstr2buf_ex(out, n, &len, text, '\0') != 1 || len != n)
        return -1;
    return 0;
}

/* The stored form of a token: HMAC-SHA256(key, token) in hex (HASH_HEX + 1). */
/* An HMAC-SHA256 context with key set, made once per key: HMAC() looked
 * the algorithm up and keyed a new context on every call, most of a
 * token check's cost.  Each hash works on a copy.  NULL if OpenSSL fails. */
static EVP_MAC_CTX *hmac_keyed(const unsigned char key[32])
{
    static EVP_MAC_CTX *ctx;
    static unsigned char ctx_key[32];
    OSSL_PARAM params[2];
    EVP_MAC *mac;

    if (ctx != NULL && CRYPTO_memcmp(key, ctx_key, sizeof(ctx_key)) == 0)
        return ctx;
    EVP_MAC_CTX_free(ctx);
    ctx = NULL;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    if (ctx != NULL && EVP_MAC_init(ctx, key, 32, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    if (ctx != NULL)
        memcpy(ctx_key, key, sizeof(ctx_key));
    return ctx;
}

static int token_hash(const unsigned char key[32], const char *token, char *out,
                      struct err *e)
{
    EVP_MAC_CTX *base = hmac_keyed(key), *c = base ? EVP_MAC_CTX_dup(base) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t len = 0;
    int ok = c != NULL &&
             EVP_MAC_update(c, (const unsigned char *)token, strlen(token)) == 1 &&
             EVP_MAC_final(c, md, &len, sizeof(md)) == 1 && len == HASH_HEX / 2;

    EVP_MAC_CTX_free(c);
    if (!ok)
        return err_set(e, ST_EINTERNAL, "cannot compute a token's HMAC (OpenSSL)");
    hex_encode(md, len, out);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

/* Does s have the shape of a token: the prefix and 43 base64url characters? */
static int token_well_formed(const char *s)
{
    size_t plen = sizeof(TOKEN_PREFIX) - 1;

    return s != NULL && strlen(s) == TOKEN_LEN && strncmp(s, TOKEN_PREFIX, plen) == 0 &&
           strspn(s + plen, b64url) == TOKEN_B64;
}

/* ---- the secret file ---------------------------------------------------------- */

/* Put the finished file tmp at path.  link() never replaces: when another
 * process made the file first (EEXIST), its secret stays and ours is
 * dropped.  A file system without hard links gets rename(), atomic too. */
static int secret_install(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0 || errno == EEXIST)
        return 0;
    if (errno != EPERM && errno != EOPNOTSUPP)
        return -1;
    return rename(tmp, path);
}

/* Write a new secret to a temporary file (O_EXCL, 0600) beside path, then
 * install it. */
static int secret_create(const char *path, struct err *e)
{
    unsigned char raw[32], rnd[8];
    char text[HASH_HEX + 2], tag[17], *tmp;
    int fd, rc = random_bytes(raw, sizeof(raw), e);

    if (rc == 0)
        rc = random_bytes(rnd, sizeof(rnd), e);
    if (rc != 0)
        return rc;
    hex_encode(raw, sizeof(raw), text);
    text[HASH_HEX] = '\n';
    hex_encode(rnd, sizeof(rnd), tag);
    tmp = xasprintf("%s.new-%s", path, tag);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, HASH_HEX + 1) != HASH_HEX + 1 || fsync(fd) != 0)
        rc = err_set(e, ST_EIO, "%s: cannot write the server's secret: %s", tmp,
                     strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == 0 && secret_install(tmp, path) != 0)
        rc = err_set(e, ST_EIO, "%s: cannot create the server's secret: %s", path,
                     strerror(errno));
    unlink(tmp);
    free(tmp);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

/* Refuse a secret file that is not ours alone: a regular file, owned by
 * this user, with no permission for group or others. */
static int secret_check_mode(const char *path, const struct stat *sb, struct err *e)
{
    if (!S_ISREG(sb->st_mode))
        return err_set(e, ST_EINVAL,
                       "%s: not a regular file; the server's secret must be "
                       "one (remove it to have a new one made)",
                       path);
    if (sb->st_uid != geteuid())
        return err_set(e, ST_EINVAL,
                       "%s: owned by uid %u, not by this user (uid %u); "
                       "the server's secret must be its own",
                       path, (unsigned)sb->st_uid, (unsigned)geteuid());
    if ((sb->st_mode & 077) != 0)
        return err_set(e, ST_EINVAL,
                       "%s: others may read or write it (mode %04o): refusing the "
                       "server's secret, as anyone who read it can check stolen token "
                       "hashes; make it owner-only (chmod 600 %s), or remove it to "
                       "make a new one (every token then stops working)",
                       path, (unsigned)(sb->st_mode & 07777), path);
    return 0;
}

/* 64 hex digits and an optional newline, nothing else; never quoted back. */
static int secret_parse(const char *path, const char *text, size_t len,
                        unsigned char key[32], struct err *e)
{
    if (len == HASH_HEX + 1 && text[HASH_HEX] == '\n')
        len--;
    if (len != HASH_HEX || hex_decode(text, key, 32) != 0)
        return err_set(e, ST_EINVAL,
                       "%s: damaged: the server's secret must be 64 hex "
                       "digits (remove the file to make a new one; every token then "
                       "stops working)",
                       path);
    return 0;
}

static int secret_read(const char *path, unsigned char key[32], struct err *e)
{
    char text[HASH_HEX + 8];
    struct stat sb;
    ssize_t len = -1;
    int rc = 0, fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return err_set(e, errno == ENOENT ? ST_ENOTFOUND : ST_EIO,
                       "%s: cannot open the server's secret: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0)
        rc = err_set(e, ST_EIO, "%s: %s", path, strerror(errno));
    if (rc == 0)
        rc = secret_check_mode(path, &sb, e);
    if (rc == 0) {
        do
            len = read(fd, text, sizeof(text));
        while (len < 0 && errno == EINTR);
        if (len < 0)
            rc = err_set(e, ST_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    close(fd);
    if (rc == 0)
        rc = secret_parse(path, text, (size_t)len, key, e);
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

int auth_secret_load(const char *home, unsigned char key[32], struct err *e)
{
    char *path;
    int rc;

    memset(key, 0, 32);
    if (home == NULL || home[0] == '\0')
        return err_set(e, ST_EINVAL, "auth: no home directory for the server's secret");
    path = xasprintf("%s/%s", home, SECRET_FILE);
    rc = secret_read(path, key, e);
    if (rc == ST_ENOTFOUND) {
        err_clear(e);
        rc = secret_create(path, e);
        if (rc == 0)
            rc = secret_read(path, key, e);
    }
    free(path);
    if (rc != 0)
        memset(key, 0, 32);
    return rc;
}

/* ---- tokens ------------------------------------------------------------------- */

/* Names: 1-63 of [A-Za-z0-9._-]; not digits only, which auth_token_revoke
 * would read as an id; not starting with the tokens' prefix, so that a
 * token pasted where a name belongs is never taken for one (nor echoed in
 * a message). */
static int name_check(const char *name, struct err *e)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789._-";
    size_t len = name != NULL ? strlen(name) : 0;

    if (len == 0 || len > NAME_MAX_LEN)
        return err_set(e, ST_EINVAL, "a token's name must have 1 to %d characters",
                       NAME_MAX_LEN);
    if (strncmp(name, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) == 0)
        return err_set(e, ST_EINVAL, "a token's name may not start with '%s' (tokens do)",
                       TOKEN_PREFIX);
    if (strspn(name, ok) != len)
        return err_set(e, ST_EINVAL,
                       "token name '%.*s': use only letters, digits, "
                       "'.', '_' and '-'",
                       NAME_MAX_LEN, name);
    if (strspn(name, "0123456789") == len)
        return err_set(e, ST_EINVAL,
                       "token name '%s': a name of digits only would read "
                       "as a token id; add a letter",
                       name);
    return 0;
}

/* A new token into buf (TOKEN_LEN + 1) and its hash into hash. */
static int token_make(const unsigned char key[32], char *buf, char *hash, struct err *e)
{
    int rc = random_secret(TOKEN_PREFIX, buf, TOKEN_LEN + 1, e);

    return rc != 0 ? rc : token_hash(key, buf, hash, e);
}

int auth_token_create(struct store *st, const unsigned char key[32], const char *name,
                      enum auth_role role, double now, char **token_out, int64_t *id_out,
                      struct err *e)
{
    return auth_token_create_user(st, key, name, NULL, role, now, token_out, id_out, e);
}

int auth_token_create_user(struct store *st, const unsigned char key[32], const char *name,
                           const char *user, enum auth_role role, double now,
                           char **token_out, int64_t *id_out, struct err *e)
{
    char token[TOKEN_LEN + 1], hash[HASH_HEX + 1];
    struct store_token t;
    int rc = name_check(name, e);

    *token_out = NULL;
    *id_out = 0;
    if (rc != 0)
        return rc;
    if (user != NULL && (rc = name_check(user, e)) != 0)
        return err_set(e, ST_EINVAL, "a user's name is 1-63 letters, digits, '.', '_' or '-'");
    if (role < AUTH_VIEWER || role > AUTH_ADMIN)
        return err_set(e, ST_EINVAL, "a token's role must be viewer, member or admin");
    rc = token_make(key, token, hash, e);
    memset(&t, 0, sizeof(t));
    t.name = xstrdup(name);
    t.role = xstrdup(auth_role_name(role));
    t.hash = xstrdup(hash);
    t.user = user ? xstrdup(user) : NULL;
    t.created_at = now;
    if (rc == 0)
        rc = store_token_insert(st, &t, e);
    if (rc == 0) {
        *token_out = xstrdup(token);
        *id_out = t.id;
    }
    store_token_clear(&t);
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}

/* The one message for every token that does not verify: whether it was
 * malformed or unknown is nobody's business, and it never quotes the token. */
static int token_refused(struct err *e)
{
    return err_set(e, ST_ENOTFOUND, "invalid or unknown token");
}

/* The store found the row by its hash; comparing the hashes again in
 * constant time costs nothing and keeps a lookup that matched loosely (a
 * backend comparing case-insensitively, say) from admitting anyone. */
static int principal_of(const struct store_token *t, const char *hash,
                        struct auth_principal *out, struct err *e)
{
    enum auth_role role = auth_role_parse(t->role);

    if (t->hash == NULL || strlen(t->hash) != HASH_HEX ||
        CRYPTO_memcmp(t->hash, hash, HASH_HEX) != 0)
        return token_refused(e);
    if (t->revoked_at != 0)
        return err_set(e, ST_ENOTFOUND, "the token '%s' was revoked", t->name);
    if (role == AUTH_NONE)
        return err_set(e, ST_EIO, "the token '%s' has an unknown role '%s' in the store",
                       t->name, t->role);
    out->role = role;
    out->token_id = t->id;
    snprintf(out->name, sizeof(out->name), "%s", t->name);
    snprintf(out->user, sizeof(out->user), "%s", t->user ? t->user : "");
    return 0;
}

/* ---- tokens verified lately ----------------------------------------------------
 *
 * The server checks a token on every TCP request; the store's row for it
 * was a query per request.  A token that verified is remembered by its
 * HMAC (what the store holds, never the token) for VCACHE_TTL_S: a revoke
 * through auth_token_revoke forgets them all at once, and the short life
 * bounds what a change the process cannot see (the store edited by hand)
 * is missed for.  Only successes are kept: a wrong token costs what it did. */

#define VCACHE_SLOTS 64
#define VCACHE_TTL_S 1.0

struct vcache_entry {
    const struct store *st;
    char hash[HASH_HEX + 1];
    struct auth_principal who;
    double until; /* clock_mono() */
};

static struct vcache_entry vcache[VCACHE_SLOTS];

static struct vcache_entry *vcache_slot(const char *hash)
{
    unsigned char first = 0;

    hex_decode(hash, &first, 1); /* a hash is hex digits: its first byte spreads evenly */
    return &vcache[first % VCACHE_SLOTS];
}

static int vcache_get(const struct store *st, const char *hash,
                      struct auth_principal *out)
{
    const struct vcache_entry *v = vcache_slot(hash);

    if (v->st != st || v->until <= clock_mono() ||
        CRYPTO_memcmp(v->hash, hash, HASH_HEX) != 0)
        return -1;
    *out = v->who;
    return 0;
}

static void vcache_put(const struct store *st, const char *hash,
                       const struct auth_principal *who)
{
    struct vcache_entry *v = vcache_slot(hash);

    v->st = st;
    memcpy(v->hash, hash, sizeof(v->hash));
    v->who = *who;
    v->until = clock_mono() + VCACHE_TTL_S;
}

void auth_cache_forget(void)
{
    OPENSSL_cleanse(vcache, sizeof(vcache));
}

int auth_token_verify(struct store *st, const unsigned char key[32], const char *token,
                      struct auth_principal *out, struct err *e)
{
    char hash[HASH_HEX + 1];
    struct store_token t;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!token_well_formed(token))
        return token_refused(e);
    rc = token_hash(key, token, hash, e);
    if (rc != 0)
        return rc;
    if (vcache_get(st, hash, out) == 0)
        return 0;
    rc = store_token_by_hash(st, hash, &t, e); /* its messages never name a token */
    if (rc == ST_ENOTFOUND)
        return token_refused(e);
    if (rc != 0)
        return rc;
    rc = principal_of(&t, hash, out, e);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    else
        vcache_put(st, hash, out);
    store_token_clear(&t);
    return rc;
}

/* The id of the live token named name; ST_ENOTFOUND when none. */
static int live_id_by_name(struct store *st, const char *name, int64_t *id, struct err *e)
{
    struct store_token *v;
    size_t i, n;
    int rc = store_token_list(st, 1, &v, &n, e);

    *id = 0;
    for (i = 0; rc == 0 && i < n && *id == 0; i++)
        if (strcmp(v[i].name, name) == 0)
            *id = v[i].id;
    if (rc == 0)
        store_tokens_free(v, n);
    if (rc == 0 && *id == 0)
        rc = name_check(name, NULL) == 0
                 ? err_set(e, ST_ENOTFOUND, "no live token named '%s'", name)
                 : err_set(e, ST_ENOTFOUND, "no live token with that name or id");
    return rc;
}

/* Digits only is an id (names never are, see name_check). */
int auth_token_revoke(struct store *st, const char *name_or_id, double now, struct err *e)
{
    size_t len = name_or_id != NULL ? strlen(name_or_id) : 0;
    int64_t id = 0;
    int rc = 0;

    if (len == 0)
        return err_set(e, ST_EINVAL, "revoke which token? give its name or id");
    if (len <= 18 && strspn(name_or_id, "0123456789") == len)
        id = strtoll(name_or_id, NULL, 10);
    else
        rc = live_id_by_name(st, name_or_id, &id, e);
    if (rc != 0)
        return rc;
    rc = store_token_revoke(st, id, now, e);
    auth_cache_forget(); /* after the commit: a request between sees it */
    return rc;
}

/* ---- forwarded requests --------------------------------------------------------- */

static void forward_text(const struct auth_principal *who, long ts, const char *method,
                         const char *uri, char *out, size_t n)
{
    snprintf(out, n, "%d %lld %ld =%s =%s %s %s", (int)who->role, (long long)who->token_id,
             ts, who->name, who->user, method, uri);
}

int auth_forward_sign(const unsigned char key[32], const struct auth_principal *who,
                      const char *method, const char *uri, double now, char *out,
                      struct err *e)
{
    char text[8192], mac[HASH_HEX + 1];
    long ts = (long)now;
    int rc;

    forward_text(who, ts, method, uri, text, sizeof(text));
    rc = token_hash(key, text, mac, e);
    if (rc == 0)
        snprintf(out, AUTH_FORWARD_MAX, "%d %lld %ld =%s =%s %s", (int)who->role,
                 (long long)who->token_id, ts, who->name, who->user, mac);
    return rc;
}

int auth_forward_verify(const unsigned char key[32], const char *header, const char *method,
                        const char *uri, double now, struct auth_principal *who,
                        struct err *e)
{
    struct auth_principal p;
    char name[66], user[66], mac[HASH_HEX + 1], want[HASH_HEX + 1], text[8192];
    long long tok;
    long ts;
    int role;

    memset(&p, 0, sizeof(p));
    if (sscanf(header, "%d %lld %ld %65s %65s %64s", &role, &tok, &ts, name, user, mac) != 6 ||
        role < AUTH_NONE || role > AUTH_ADMIN || strlen(mac) != HASH_HEX || name[0] != '=' ||
        user[0] != '=' || strlen(name) > sizeof(p.name) || strlen(user) > sizeof(p.user))
        return err_set(e, ST_EINVAL, "a forwarded request's %s header is malformed",
                       X_STRATUS_FORWARDED);
    if (fabs(now - (double)ts) > AUTH_FORWARD_AGE_S)
        return err_set(e, ST_EINVAL, "a forwarded request is too old (or the servers' clocks "
                       "differ by more than %d s)", AUTH_FORWARD_AGE_S);
    p.role = (enum auth_role)role;
    p.token_id = tok;
    memcpy(p.name, name + 1, strlen(name)); /* with its NUL; fits (checked above) */
    memcpy(p.user, user + 1, strlen(user));
    forward_text(&p, ts, method, uri, text, sizeof(text));
    if (token_hash(key, text, want, e) != 0)
        return e->code;
    if (CRYPTO_memcmp(want, mac, HASH_HEX) != 0)
        return err_set(e, ST_EINVAL, "a forwarded request's signature does not verify (do "
                       "the servers share one server.secret? docs/ha.md)");
    *who = p;
    return 0;
}

int auth_secret_fingerprint(const unsigned char key[32], char out[65], struct err *e)
{
    return token_hash(key, "stratus: the secret of the servers of one store", out, e);
}
