/*
 * secret.c - sealing and opening secrets' values (see secret.h).
 *
 * Layout: the key (HKDF); the additional data; seal; open.
 *
 * Decisions a reader might question:
 *  - A random nonce per seal, not a counter: the store holds few secrets
 *    and each put seals once, far below the 2^32 seals under one key that
 *    random 96-bit GCM nonces allow.  The nonce is kept beside the
 *    ciphertext in its own column.
 *  - The key is derived, not the server's secret itself: that secret is
 *    the HMAC key of token hashes (auth.c), and one key should serve one
 *    purpose; the info string names this one and its version.
 *  - No salt: the input key is already 32 uniformly random bytes, for which
 *    HKDF needs none (RFC 5869, 3.1).
 *  - The additional data is "stratus-secret-v1", team and name, each ended
 *    by a NUL: names hold no NUL, so no two (team, name) pairs share it.
 */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

#include "../util/lazyssl.h"
#include "../util/xmem.h"

#define SECRET_HKDF_INFO "stratus secrets v1: AES-256-GCM key"
#define AAD_PREFIX "stratus-secret-v1"

/* ---- the key ---- */

int secret_key_derive(const unsigned char server_secret[32],
                      unsigned char key[SECRET_KEY_LEN], struct err *e)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    static char digest[] = "SHA256", info[] = SECRET_HKDF_INFO;
    OSSL_PARAM params[4];
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    /* OSSL_PARAM takes void *: the key is only read */
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)(uintptr_t)server_secret, 32);
    params[2] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info) - 1);
    params[3] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_KDF_derive(ctx, key, SECRET_KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    if (!ok)
        return err_set(e, ST_EINTERNAL,
                       "secrets: deriving the key failed (OpenSSL HKDF)");
    return 0;
}

/* ---- the additional data ---- */

/* AAD_PREFIX, team and name, each with its NUL; owned, *n bytes. */
static unsigned char *aad_of(const char *team, const char *name, size_t *n)
{
    size_t a = sizeof(AAD_PREFIX), t = strlen(team) + 1, m = strlen(name) + 1;
    unsigned char *p = xmalloc(a + t + m);

    memcpy(p, AAD_PREFIX, a);
    memcpy(p + a, team, t);
    memcpy(p + a + t, name, m);
    *n = a + t + m;
    return p;
}

/* A GCM context for key and nonce, encrypting or decrypting, with the
 * additional data for (team, name) given; NULL when OpenSSL fails. */
static EVP_CIPHER_CTX *gcm_start(const unsigned char *key, const unsigned char *nonce,
                                 int enc, const char *team, const char *name)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    size_t alen;
    unsigned char *aad = aad_of(team, name, &alen);
    int n, ok;

    ok = c != NULL &&
         EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) == 1 &&
         EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(c, NULL, &n, aad, (int)alen) == 1;
    free(aad);
    if (!ok) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

/* ---- seal ---- */

int secret_seal(const unsigned char key[SECRET_KEY_LEN], const char *team,
                const char *name, const void *value, size_t len, unsigned char **ct,
                size_t *ct_len, unsigned char nonce[SECRET_NONCE_LEN], struct err *e)
{
    EVP_CIPHER_CTX *c;
    unsigned char *out;
    int n = 0, fin = 0, ok;

    *ct = NULL;
    *ct_len = 0;
    if (len > SECRET_VALUE_MAX)
        return err_set(e, ST_ETOOBIG, "secret '%s': the value is %zu bytes; at most %zu",
                       name, len, SECRET_VALUE_MAX);
    if (RAND_bytes(nonce, SECRET_NONCE_LEN) != 1)
        return err_set(e, ST_EINTERNAL, "secret '%s': no random nonce (OpenSSL)", name);
    c = gcm_start(key, nonce, 1, team, name);
    out = xmalloc(len + SECRET_TAG_LEN);
    ok = c != NULL && (len == 0 || EVP_EncryptUpdate(c, out, &n, value, (int)len) == 1) &&
         EVP_EncryptFinal_ex(c, out + n, &fin) == 1 && (size_t)(n + fin) == len &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN, out + len) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        free(out);
        return err_set(e, ST_EINTERNAL, "secret '%s': sealing failed (OpenSSL)", name);
    }
    *ct = out;
    *ct_len = len + SECRET_TAG_LEN;
    return 0;
}

/* ---- open ---- */

static int open_failed(const char *team, const char *name, struct err *e)
{
    return err_set(e, ST_ESTATE,
                   "secret '%s'%s%s%s does not open: it was sealed under another server "
                   "secret (home/server.secret) or changed in the store; set it again "
                   "(stratus secret set %s%s%s)",
                   name, *team ? " of team '" : "", team, *team ? "'" : "", name,
                   *team ? " --team " : "", team);
}

int secret_open(const unsigned char key[SECRET_KEY_LEN], const char *team,
                const char *name, const unsigned char *ct, size_t ct_len,
                const unsigned char *nonce, size_t nonce_len, char **value, size_t *len,
                struct err *e)
{
    EVP_CIPHER_CTX *c;
    size_t plen;
    char *out;
    int n = 0, fin = 0, ok;

    *value = NULL;
    *len = 0;
    if (nonce_len != SECRET_NONCE_LEN || ct_len < SECRET_TAG_LEN ||
        ct_len - SECRET_TAG_LEN > SECRET_VALUE_MAX)
        return open_failed(team, name, e);
    plen = ct_len - SECRET_TAG_LEN;
    c = gcm_start(key, nonce, 0, team, name);
    out = xmalloc(plen + 1);
    /* the tag is set before the final call, which checks it */
    ok = c != NULL &&
         (plen == 0 ||
          EVP_DecryptUpdate(c, (unsigned char *)out, &n, ct, (int)plen) == 1) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN,
                             (void *)(uintptr_t)(ct + plen)) == 1 &&
         EVP_DecryptFinal_ex(c, (unsigned char *)out + n, &fin) == 1 &&
         (size_t)(n + fin) == plen;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        secret_free(out, plen);
        return open_failed(team, name, e);
    }
    out[plen] = '\0';
    *value = out;
    *len = plen;
    return 0;
}

void secret_free(char *value, size_t len)
{
    if (value == NULL)
        return;
    OPENSSL_cleanse(value, len + 1);
    free(value);
}
