/*
 * lazyssl.h - OpenSSL (and libevent's bufferevents over it), loaded with
 * dlopen the first time TLS or a cryptographic function is needed: by the
 * server (tokens, secrets, sessions, TLS listeners), which loads it when it
 * opens.
 *
 * libcrypto alone makes the dynamic loader write some 90 pages of
 * relocations at every process's start (its .data.rel.ro is 371 KB), which
 * `stratus plan` and every other client command paid for without using it.
 * So, as with libpq (lazypq.h) and GLPK (lazyglpk.h), neither libssl,
 * libcrypto nor libevent_openssl is linked: include this header instead of
 * the OpenSSL headers (for their types and constants) and call the functions
 * by their names, which the macros below route through a table filled by
 * dlsym from libevent_openssl and the two libraries it needs.  A caller
 * that did not load it (lazyssl_load) gets it loaded at its first call; a
 * machine without the libraries then stops with the reason (as the dynamic
 * loader stopped every command before).
 */
#ifndef STRATUS_LAZYSSL_H
#define STRATUS_LAZYSSL_H

#include <event2/bufferevent_ssl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "err.h"

struct lazyssl {
    __typeof__(OPENSSL_cleanse) *OPENSSL_cleanse;
    __typeof__(CRYPTO_memcmp) *CRYPTO_memcmp;
    __typeof__(OPENSSL_hexstr2buf_ex) *OPENSSL_hexstr2buf_ex;
    __typeof__(OPENSSL_buf2hexstr_ex) *OPENSSL_buf2hexstr_ex;
    __typeof__(ERR_get_error) *ERR_get_error;
    __typeof__(ERR_error_string_n) *ERR_error_string_n;
    __typeof__(RAND_bytes) *RAND_bytes;
    __typeof__(EVP_sha256) *EVP_sha256;
    __typeof__(EVP_aes_256_gcm) *EVP_aes_256_gcm;
    __typeof__(EVP_Digest) *EVP_Digest;
    __typeof__(EVP_EncodeBlock) *EVP_EncodeBlock;
    __typeof__(EVP_MAC_fetch) *EVP_MAC_fetch;
    __typeof__(EVP_MAC_free) *EVP_MAC_free;
    __typeof__(EVP_MAC_CTX_new) *EVP_MAC_CTX_new;
    __typeof__(EVP_MAC_CTX_dup) *EVP_MAC_CTX_dup;
    __typeof__(EVP_MAC_CTX_free) *EVP_MAC_CTX_free;
    __typeof__(EVP_MAC_init) *EVP_MAC_init;
    __typeof__(EVP_MAC_update) *EVP_MAC_update;
    __typeof__(EVP_MAC_final) *EVP_MAC_final;
    __typeof__(EVP_KDF_fetch) *EVP_KDF_fetch;
    __typeof__(EVP_KDF_free) *EVP_KDF_free;
    __typeof__(EVP_KDF_CTX_new) *EVP_KDF_CTX_new;
    __typeof__(EVP_KDF_CTX_free) *EVP_KDF_CTX_free;
    __typeof__(EVP_KDF_derive) *EVP_KDF_derive;
    __typeof__(EVP_CIPHER_CTX_new) *EVP_CIPHER_CTX_new;
    __typeof__(EVP_CIPHER_CTX_free) *EVP_CIPHER_CTX_free;
    __typeof__(EVP_CIPHER_CTX_ctrl) *EVP_CIPHER_CTX_ctrl;
    __typeof__(EVP_CipherInit_ex) *EVP_CipherInit_ex;
    __typeof__(EVP_CipherUpdate) *EVP_CipherUpdate;
    __typeof__(EVP_EncryptUpdate) *EVP_EncryptUpdate;
    __typeof__(EVP_EncryptFinal_ex) *EVP_EncryptFinal_ex;
    __typeof__(EVP_DecryptUpdate) *EVP_DecryptUpdate;
    __typeof__(EVP_DecryptFinal_ex) *EVP_DecryptFinal_ex;
    __typeof__(OSSL_PARAM_construct_utf8_string) *OSSL_PARAM_construct_utf8_string;
    __typeof__(OSSL_PARAM_construct_octet_string) *OSSL_PARAM_construct_octet_string;
    __typeof__(OSSL_PARAM_construct_end) *OSSL_PARAM_construct_end;
    __typeof__(TLS_server_method) *TLS_server_method;
    __typeof__(SSL_new) *SSL_new;
    __typeof__(SSL_CTX_new) *SSL_CTX_new;
    __typeof__(SSL_CTX_free) *SSL_CTX_free;
    __typeof__(SSL_CTX_ctrl) *SSL_CTX_ctrl;
    __typeof__(SSL_CTX_use_certificate_chain_file) *SSL_CTX_use_certificate_chain_file;
    __typeof__(SSL_CTX_use_PrivateKey_file) *SSL_CTX_use_PrivateKey_file;
    __typeof__(SSL_CTX_check_private_key) *SSL_CTX_check_private_key;
    __typeof__(bufferevent_openssl_socket_new) *bufferevent_openssl_socket_new;
};

/* Load the libraries once (thread-safe; later calls are free); 0, or an
 * error that says they are missing and what needs them. */
int lazyssl_load(struct err *e);
/* The table, loaded first if need be (on failure: the reason on stderr,
 * exit status 3). */
const struct lazyssl *lazyssl_table(void);

#ifndef LAZYSSL_TABLE /* lazyssl.c names the fields themselves */
#define OPENSSL_cleanse (lazyssl_table()->OPENSSL_cleanse)
#define CRYPTO_memcmp (lazyssl_table()->CRYPTO_memcmp)
#define OPENSSL_hexstr2buf_ex (lazyssl_table()->OPENSSL_hexstr2buf_ex)
#define OPENSSL_buf2hexstr_ex (lazyssl_table()->OPENSSL_buf2hexstr_ex)
#define ERR_get_error (lazyssl_table()->ERR_get_error)
#define ERR_error_string_n (lazyssl_table()->ERR_error_string_n)
#define RAND_bytes (lazyssl_table()->RAND_bytes)
#define EVP_sha256 (lazyssl_table()->EVP_sha256)
#define EVP_aes_256_gcm (lazyssl_table()->EVP_aes_256_gcm)
#define EVP_Digest (lazyssl_table()->EVP_Digest)
#define EVP_EncodeBlock (lazyssl_table()->EVP_EncodeBlock)
#define EVP_MAC_fetch (lazyssl_table()->EVP_MAC_fetch)
#define EVP_MAC_free (lazyssl_table()->EVP_MAC_free)
#define EVP_MAC_CTX_new (lazyssl_table()->EVP_MAC_CTX_new)
#define EVP_MAC_CTX_dup (lazyssl_table()->EVP_MAC_CTX_dup)
#define EVP_MAC_CTX_free (lazyssl_table()->EVP_MAC_CTX_free)
#define EVP_MAC_init (lazyssl_table()->EVP_MAC_init)
#define EVP_MAC_update (lazyssl_table()->EVP_MAC_update)
#define EVP_MAC_final (lazyssl_table()->EVP_MAC_final)
#define EVP_KDF_fetch (lazyssl_table()->EVP_KDF_fetch)
#define EVP_KDF_free (lazyssl_table()->EVP_KDF_free)
#define EVP_KDF_CTX_new (lazyssl_table()->EVP_KDF_CTX_new)
#define EVP_KDF_CTX_free (lazyssl_table()->EVP_KDF_CTX_free)
#define EVP_KDF_derive (lazyssl_table()->EVP_KDF_derive)
#define EVP_CIPHER_CTX_new (lazyssl_table()->EVP_CIPHER_CTX_new)
#define EVP_CIPHER_CTX_free (lazyssl_table()->EVP_CIPHER_CTX_free)
#define EVP_CIPHER_CTX_ctrl (lazyssl_table()->EVP_CIPHER_CTX_ctrl)
#define EVP_CipherInit_ex (lazyssl_table()->EVP_CipherInit_ex)
#define EVP_CipherUpdate (lazyssl_table()->EVP_CipherUpdate)
#define EVP_EncryptUpdate (lazyssl_table()->EVP_EncryptUpdate)
#define EVP_EncryptFinal_ex (lazyssl_table()->EVP_EncryptFinal_ex)
#define EVP_DecryptUpdate (lazyssl_table()->EVP_DecryptUpdate)
#define EVP_DecryptFinal_ex (lazyssl_table()->EVP_DecryptFinal_ex)
#define OSSL_PARAM_construct_utf8_string                                                 \
    (lazyssl_table()->OSSL_PARAM_construct_utf8_string)
#define OSSL_PARAM_construct_octet_string                                                \
    (lazyssl_table()->OSSL_PARAM_construct_octet_string)
#define OSSL_PARAM_construct_end (lazyssl_table()->OSSL_PARAM_construct_end)
#define TLS_server_method (lazyssl_table()->TLS_server_method)
#define SSL_new (lazyssl_table()->SSL_new)
#define SSL_CTX_new (lazyssl_table()->SSL_CTX_new)
#define SSL_CTX_free (lazyssl_table()->SSL_CTX_free)
#define SSL_CTX_ctrl (lazyssl_table()->SSL_CTX_ctrl)
#define SSL_CTX_use_certificate_chain_file                                               \
    (lazyssl_table()->SSL_CTX_use_certificate_chain_file)
#define SSL_CTX_use_PrivateKey_file (lazyssl_table()->SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_check_private_key (lazyssl_table()->SSL_CTX_check_private_key)
#define bufferevent_openssl_socket_new (lazyssl_table()->bufferevent_openssl_socket_new)
#endif

#endif
