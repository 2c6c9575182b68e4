/*
 * secret.h - the values of teams' secrets (docs/secrets.md): sealed by the
 * server before they reach the store, opened only to start a job.
 *
 * A value is sealed with AES-256-GCM under a key derived from the server's
 * secret (home/server.secret, auth_secret_load) by HKDF-SHA256 with a fixed
 * info string, so the store holds ciphertext, a random 96-bit nonce and the
 * 128-bit tag (at the end of the ciphertext), never the value.  The
 * additional data binds the team and the name: a ciphertext copied to
 * another row, another team's or another name, does not open.
 *
 * Everything here is OpenSSL's EVP; nothing is home-made crypto.  A value
 * handed out by secret_open is freed with secret_free, which wipes it.
 */
#ifndef STRATUS_SECRET_H
#define STRATUS_SECRET_H

#include <stddef.h>

#include "../util/err.h"

#define SECRET_KEY_LEN 32
#define SECRET_NONCE_LEN 12
#define SECRET_TAG_LEN 16
#define SECRET_VALUE_MAX ((size_t)64 << 10) /* bytes of one value */

/* The sealing key from the server's 32-byte secret: HKDF-SHA256, no salt,
 * info SECRET_HKDF_INFO.  0, or ST_EINTERNAL when OpenSSL fails. */
int secret_key_derive(const unsigned char server_secret[32],
                      unsigned char key[SECRET_KEY_LEN], struct err *e);

/* Seal len bytes of value (at most SECRET_VALUE_MAX) as secret `name` of
 * `team` ("" = the lab's shared space): *ct (owned, len + SECRET_TAG_LEN
 * bytes into *ct_len) and a fresh random nonce. */
int secret_seal(const unsigned char key[SECRET_KEY_LEN], const char *team,
                const char *name, const void *value, size_t len, unsigned char **ct,
                size_t *ct_len, unsigned char nonce[SECRET_NONCE_LEN], struct err *e);

/* Open what secret_seal made for (team, name): *value (owned, NUL added,
 * *len bytes without it; free with secret_free).  A wrong key, team, name
 * or nonce, or a changed byte, fails with ST_ESTATE and a message that
 * names the secret, never its bytes. */
int secret_open(const unsigned char key[SECRET_KEY_LEN], const char *team,
                const char *name, const unsigned char *ct, size_t ct_len,
                const unsigned char *nonce, size_t nonce_len, char **value, size_t *len,
                struct err *e);

/* Wipe len bytes of a value from secret_open (and its NUL), then free it;
 * NULL is a no-op. */
void secret_free(char *value, size_t len);

#endif
