/*
 * auth.h - who is calling: roles, and bearer tokens.
 *
 * A token is "st_" + 43 characters of base64url (32 random bytes from
 * getrandom). It is shown once, when created; the store keeps only
 * HMAC-SHA256(server secret, token) in hex, the secret being 32 random bytes
 * in home/server.secret (0600), made on first use. A token is looked up by
 * that hash; a revoked one no longer verifies. Tokens never go to a log.
 */
#ifndef STRATUS_AUTH_H
#define STRATUS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct store;

enum auth_role {
    AUTH_NONE = 0,  /* not authenticated */
    AUTH_VIEWER,    /* reads only */
    AUTH_MEMBER,    /* + submit, cancel */
    AUTH_ADMIN      /* + tokens, policy, fault injection */
};

struct auth_principal {
    enum auth_role role;
    int64_t token_id;     /* 0 for the UNIX socket's owner */
    char name[64];        /* the token's name; "owner" on the UNIX socket */
    char user[64];        /* the token's user ("" = a lab-wide token: no user,
                             its role in every team; docs/teams.md) */
};

/* "viewer" ... ; auth_role_parse returns AUTH_NONE for an unknown name. */
const char *auth_role_name(enum auth_role r);
enum auth_role auth_role_parse(const char *s);

/* Read home/server.secret into key (32 bytes), creating it (0600) first if
 * missing. */
int auth_secret_load(const char *home, unsigned char key[32], struct err *e);

/* Make a token named name (unique among live tokens; [A-Za-z0-9._-], 1-63
 * chars) with role; *token_out (caller frees) is the only copy of it. */
int auth_token_create(struct store *st, const unsigned char key[32], const char *name,
                      enum auth_role role, double now, char **token_out, int64_t *id_out,
                      struct err *e);
/* The same for a token of user (NULL = lab-wide; same rules as name). */
int auth_token_create_user(struct store *st, const unsigned char key[32], const char *name,
                           const char *user, enum auth_role role, double now,
                           char **token_out, int64_t *id_out, struct err *e);
/* Who holds token: ST_ENOTFOUND (no message with the token in it) when it is
 * unknown, malformed or revoked. */
int auth_token_verify(struct store *st, const unsigned char key[32], const char *token,
                      struct auth_principal *out, struct err *e);
/* Forget the tokens auth_token_verify remembers (it keeps those that
 * verified, by their HMAC, for a second): auth_token_revoke calls it. */
void auth_cache_forget(void);
/* The lowercase hex SHA-256 of data (out: 65 bytes): what a service's API
 * key is known by (the server keeps it, routers compare it). */
void auth_sha256_hex(const void *data, size_t len, char out[65]);
/* A new API key, prefix + base64url of 32 random bytes, into key (n bytes,
 * room for the prefix and 44 more), and its auth_sha256_hex into digest. */
int auth_key_create(const char *prefix, char *key, size_t n, char digest[65], struct err *e);
/* A follower's request forwarded to the leader (docs/ha.md) carries who the
 * follower found the caller to be, signed with the servers' shared secret:
 * the header X_STRATUS_FORWARDED, "ROLE TOKEN_ID TIME =NAME =USER HMAC"
 * (each of NAME and USER after a '=', empty or not; the HMAC is over those
 * and the method and URI).
 * auth_forward_sign writes it into out (AUTH_FORWARD_MAX bytes);
 * auth_forward_verify takes it (within AUTH_FORWARD_AGE_S of now) or says
 * ST_EINVAL. */
#define X_STRATUS_FORWARDED "X-Stratus-Forwarded"
#define AUTH_FORWARD_MAX 320
#define AUTH_FORWARD_AGE_S 300
int auth_forward_sign(const unsigned char key[32], const struct auth_principal *who,
                      const char *method, const char *uri, double now, char *out,
                      struct err *e);
int auth_forward_verify(const unsigned char key[32], const char *header, const char *method,
                        const char *uri, double now, struct auth_principal *who,
                        struct err *e);

/* What the servers of one shared store compare to know they have the same
 * secret (an HMAC of a fixed text under it; hex, 65 bytes with the NUL). */
int auth_secret_fingerprint(const unsigned char key[32], char out[65], struct err *e);

/* Revoke a live token by name or by id ("7"); ST_ENOTFOUND if none. */
int auth_token_revoke(struct store *st, const char *name_or_id, double now, struct err *e);

#endif
