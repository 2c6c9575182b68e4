/*
 * test_secret.c - sealing secrets' values (src/server/secret.c): the key is
 * HKDF-SHA256 of the server's secret (a known answer computed apart, with
 * Python's hmac), values of every shape come back (empty, binary with NUL
 * bytes, the largest allowed; one byte more is refused), every seal has a
 * nonce of its own, and nothing opens with another key, team, name or
 * nonce, with any byte of the ciphertext or tag changed, or cut short; the
 * failure's message names the secret, never its value.  Name rules
 * (spec_secret_name_ok: what a spec and the API take).
 */
#define _GNU_SOURCE /* memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/secret.h"
#include "spec/spec.h"
#include "testutil.h"

static void server_secret(unsigned char s[32], unsigned char first)
{
    int i;

    for (i = 0; i < 32; i++)
        s[i] = (unsigned char)(first + i);
}

static void derive(unsigned char key[SECRET_KEY_LEN], unsigned char first)
{
    unsigned char s[32];
    struct err e;

    server_secret(s, first);
    err_clear(&e);
    if (secret_key_derive(s, key, &e) != 0)
        fail_msg("secret_key_derive: %s", e.msg);
}

/* HKDF-SHA256(ikm = 00 01 .. 1f, no salt, info "stratus secrets v1: AES-256-GCM
 * key"), by RFC 5869 in Python: the derivation is HKDF, and stays the same. */
static void test_key_known_answer(void **state)
{
    static const char want[] =
        "aa316fa3582df8d7b887746e651d18e2204f1fa6c3fb5bc712f7e8c0cb6c39aa";
    unsigned char key[SECRET_KEY_LEN], other[SECRET_KEY_LEN];
    char hex[2 * SECRET_KEY_LEN + 1];
    int i;

    (void)state;
    derive(key, 0);
    for (i = 0; i < SECRET_KEY_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    assert_string_equal(hex, want);
    derive(other, 1);
    assert_memory_not_equal(key, other, SECRET_KEY_LEN);
}

/* Seal value (n bytes) and open it again: the same bytes and length. */
static void roundtrip(const unsigned char *key, const char *team, const char *name,
                      const char *value, size_t n)
{
    unsigned char *ct, nonce[SECRET_NONCE_LEN];
    size_t ct_len, len;
    char *got;
    struct err e;

    err_clear(&e);
    if (secret_seal(key, team, name, value, n, &ct, &ct_len, nonce, &e) != 0)
        fail_msg("secret_seal: %s", e.msg);
    assert_int_equal(ct_len, n + SECRET_TAG_LEN);
    if (n >= 16) /* the value is not there in the clear */
        assert_true(memmem(ct, ct_len, value, 16) == NULL);
    if (secret_open(key, team, name, ct, ct_len, nonce, sizeof(nonce), &got, &len, &e) !=
        0)
        fail_msg("secret_open: %s", e.msg);
    assert_int_equal(len, n);
    assert_memory_equal(got, value, n);
    assert_int_equal(got[n], '\0');
    secret_free(got, len);
    free(ct);
}

static void test_roundtrip(void **state)
{
    unsigned char key[SECRET_KEY_LEN], *ct, nonce[SECRET_NONCE_LEN];
    char *big = xmalloc(SECRET_VALUE_MAX + 1);
    size_t i, ct_len;
    struct err e;

    (void)state;
    derive(key, 7);
    roundtrip(key, "research", "hf", "hf_abcdefghijklmnopqrstuvwxyz0123", 34);
    roundtrip(key, "", "HF_TOKEN", "", 0);
    roundtrip(key, "t", "bin", "a\0b\0\377\n", 6);
    for (i = 0; i < SECRET_VALUE_MAX + 1; i++)
        big[i] = (char)('a' + i % 26);
    roundtrip(key, "t", "big", big, SECRET_VALUE_MAX);
    err_clear(&e);
    assert_int_equal(
        secret_seal(key, "t", "big", big, SECRET_VALUE_MAX + 1, &ct, &ct_len, nonce, &e),
        ST_ETOOBIG);
    assert_null(ct);
    free(big);
}

/* Two seals of one value differ (a nonce each), and so do their ciphertexts. */
static void test_fresh_nonces(void **state)
{
    unsigned char key[SECRET_KEY_LEN], *c1, *c2, n1[SECRET_NONCE_LEN],
        n2[SECRET_NONCE_LEN];
    size_t l1, l2;
    struct err e;

    (void)state;
    derive(key, 3);
    err_clear(&e);
    assert_int_equal(secret_seal(key, "t", "x", "same value", 10, &c1, &l1, n1, &e), 0);
    assert_int_equal(secret_seal(key, "t", "x", "same value", 10, &c2, &l2, n2, &e), 0);
    assert_memory_not_equal(n1, n2, SECRET_NONCE_LEN);
    assert_memory_not_equal(c1, c2, l1);
    free(c1);
    free(c2);
}

/* Opening must fail with ST_ESTATE, a message naming the secret and not
 * holding the value, and no value handed out. */
static void must_not_open(const unsigned char *key, const char *team, const char *name,
                          const unsigned char *ct, size_t ct_len,
                          const unsigned char *nonce, size_t nonce_len)
{
    static char untouched[] = "untouched";
    char *got = untouched;
    size_t len = 99;
    struct err e;

    err_clear(&e);
    assert_int_equal(
        secret_open(key, team, name, ct, ct_len, nonce, nonce_len, &got, &len, &e),
        ST_ESTATE);
    assert_null(got);
    assert_int_equal(len, 0);
    assert_non_null(strstr(e.msg, "does not open"));
    assert_null(strstr(e.msg, "hf_value"));
}

static void test_tamper_fails(void **state)
{
    static const char value[] = "hf_value_that_must_stay_secret";
    unsigned char key[SECRET_KEY_LEN], other[SECRET_KEY_LEN], *ct,
        nonce[SECRET_NONCE_LEN];
    size_t ct_len, i;
    struct err e;

    (void)state;
    derive(key, 9);
    derive(other, 10);
    err_clear(&e);
    assert_int_equal(secret_seal(key, "research", "hf", value, sizeof(value) - 1, &ct,
                                 &ct_len, nonce, &e),
                     0);
    must_not_open(other, "research", "hf", ct, ct_len, nonce, sizeof(nonce));
    /* the additional data: another team, the lab's space, another name */
    must_not_open(key, "infer", "hf", ct, ct_len, nonce, sizeof(nonce));
    must_not_open(key, "", "hf", ct, ct_len, nonce, sizeof(nonce));
    must_not_open(key, "research", "hf2", ct, ct_len, nonce, sizeof(nonce));
    /* team and name are not one string: ("researchh", "f") is another pair */
    must_not_open(key, "researchh", "f", ct, ct_len, nonce, sizeof(nonce));
    for (i = 0; i < ct_len; i++) { /* every byte, tag included */
        ct[i] ^= 0x01;
        must_not_open(key, "research", "hf", ct, ct_len, nonce, sizeof(nonce));
        ct[i] ^= 0x01;
    }
    nonce[0] ^= 0x80;
    must_not_open(key, "research", "hf", ct, ct_len, nonce, sizeof(nonce));
    nonce[0] ^= 0x80;
    must_not_open(key, "research", "hf", ct, ct_len - 1, nonce, sizeof(nonce));
    must_not_open(key, "research", "hf", ct, SECRET_TAG_LEN - 1, nonce, sizeof(nonce));
    must_not_open(key, "research", "hf", ct, ct_len, nonce, sizeof(nonce) - 1);
    {
        char *got;
        size_t len;

        assert_int_equal(secret_open(key, "research", "hf", ct, ct_len, nonce,
                                     sizeof(nonce), &got, &len, &e),
                         0);
        assert_string_equal(got, value);
        secret_free(got, len);
    }
    free(ct);
    secret_free(NULL, 0);
}

static void test_names(void **state)
{
    static const char *const good[] = {"hf", "HF_TOKEN", "_x", "a.b-c", "9lives"};
    static const char *const bad[] = {"", "-x", ".env", "a/b", "a b", "a%2f", "é", NULL};
    char longest[SPEC_SECRET_NAME_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(spec_secret_name_ok(good[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(spec_secret_name_ok(bad[i]));
    memset(longest, 'a', sizeof(longest));
    longest[SPEC_SECRET_NAME_MAX] = '\0';
    assert_true(spec_secret_name_ok(longest));
    longest[SPEC_SECRET_NAME_MAX] = 'a';
    longest[SPEC_SECRET_NAME_MAX + 1] = '\0';
    assert_false(spec_secret_name_ok(longest));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_known_answer),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_fresh_nonces),
        cmocka_unit_test(test_tamper_fails),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
