/*
 * lazyssl.c - dlopen OpenSSL (through libevent_openssl) on first use (see
 * lazyssl.h).
 */
#define LAZYSSL_TABLE
#include "lazyssl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "lazylib.h"

static struct lazyssl table;
static int loaded; /* set once the table is complete (atomic) */

/* libevent_openssl by its SONAME (Debian 12), then the development link;
 * dlsym finds OpenSSL's functions among the libraries it needs (libssl.so.3,
 * libcrypto.so.3).  $STRATUS_LIBSSL names another (tests use it to play a
 * machine without them). */
static const char *const LIBNAMES[] = {"libevent_openssl-2.1.so.7", "libevent_openssl.so",
                                       NULL};

/* The field and the symbol by one name (clang-format would take the
 * stringizing # for a directive). */
/* clang-format off */
#define SYM(name) {#name, offsetof(struct lazyssl, name)}
/* clang-format on */
static const struct lazy_sym SYMS[] = {
    SYM(OPENSSL_cleanse),
    SYM(CRYPTO_memcmp),
    SYM(OPENSSL_hexstr2buf_ex),
    SYM(OPENSSL_buf2hexstr_ex),
    SYM(ERR_get_error),
    SYM(ERR_error_string_n),
    SYM(RAND_bytes),
    SYM(EVP_sha256),
    SYM(EVP_aes_256_gcm),
    SYM(EVP_Digest),
    SYM(EVP_EncodeBlock),
    SYM(EVP_MAC_fetch),
    SYM(EVP_MAC_free),
    SYM(EVP_MAC_CTX_new),
    SYM(EVP_MAC_CTX_dup),
    SYM(EVP_MAC_CTX_free),
    SYM(EVP_MAC_init),
    SYM(EVP_MAC_update),
    SYM(EVP_MAC_final),
    SYM(EVP_KDF_fetch),
    SYM(EVP_KDF_free),
    SYM(EVP_KDF_CTX_new),
    SYM(EVP_KDF_CTX_free),
    SYM(EVP_KDF_derive),
    SYM(EVP_CIPHER_CTX_new),
    SYM(EVP_CIPHER_CTX_free),
    SYM(EVP_CIPHER_CTX_ctrl),
    SYM(EVP_CipherInit_ex),
    SYM(EVP_CipherUpdate),
    SYM(EVP_EncryptUpdate),
    SYM(EVP_EncryptFinal_ex),
    SYM(EVP_DecryptUpdate),
    SYM(EVP_DecryptFinal_ex),
    SYM(OSSL_PARAM_construct_utf8_string),
    SYM(OSSL_PARAM_construct_octet_string),
    SYM(OSSL_PARAM_construct_end),
    SYM(TLS_server_method),
    SYM(SSL_new),
    SYM(SSL_CTX_new),
    SYM(SSL_CTX_free),
    SYM(SSL_CTX_ctrl),
    SYM(SSL_CTX_use_certificate_chain_file),
    SYM(SSL_CTX_use_PrivateKey_file),
    SYM(SSL_CTX_check_private_key),
    SYM(bufferevent_openssl_socket_new),
};

static struct lazylib lib = {
    .env = "STRATUS_LIBSSL",
    .names = LIBNAMES,
    .syms = SYMS,
    .nsyms = sizeof(SYMS) / sizeof(SYMS[0]),
    .table = &table,
    .table_size = sizeof(table),
    .what = "the server (TLS, tokens, secrets) needs OpenSSL and libevent_openssl",
    .package = "libssl3 and libevent-openssl-2.1-7",
};

int lazyssl_load(struct err *e)
{
    int rc = lazylib_load(&lib, e);

    if (rc == 0)
        __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
    return rc;
}

const struct lazyssl *lazyssl_table(void)
{
    struct err e;

    if (!__atomic_load_n(&loaded, __ATOMIC_ACQUIRE) && lazyssl_load(&e) != 0) {
        fprintf(stderr, "stratus: %s\n", e.msg);
        exit(3);
    }
    return &table;
}
