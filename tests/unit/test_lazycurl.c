/*
 * test_lazycurl.c - libcurl loaded on first use: the table is filled and
 * works (an easy handle is made, an option set, a URL escaped the way the
 * CLI needs), and client_escape, which no longer calls libcurl, escapes as
 * libcurl does (all but RFC 3986's unreserved characters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "util/lazycurl.h"

static void test_load_and_use(void **state)
{
    struct err e;
    CURL *c;

    (void)state;
    err_clear(&e);
    assert_null(lazycurl.easy_init); /* nothing is loaded before it is needed */
    if (lazycurl_load(&e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(lazycurl_load(&e), 0); /* again: free */
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    c = curl_easy_init();
    assert_non_null(c);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L), CURLE_OK);
    assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
    curl_easy_cleanup(c);
    curl_global_cleanup();
}

static void test_escape(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"plain-Name_1.2~x", "plain-Name_1.2~x"},
        {"a b/c?d&e=f#g%h", "a%20b%2Fc%3Fd%26e%3Df%23g%25h"},
        {"caf\xc3\xa9", "caf%C3%A9"},
        {"\x01\x7f\xff", "%01%7F%FF"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = client_escape(cases[i].in);

        assert_string_equal(got, cases[i].out);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_use),
        cmocka_unit_test(test_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
