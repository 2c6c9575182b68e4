/*
 * fuzz_session.c - libFuzzer harness for the dashboard's sessions
 * (src/server/session.h): any bytes are a Cookie header for
 * session_cookie_find, and what it finds, and the bytes themselves, are
 * tried as a session and as a login code.  Nothing made up may verify or
 * redeem; the value found fits its buffer and holds no ';'.  Every 64 inputs
 * a real code is made, redeemed once (not twice), and its session found in
 * a header made around the input and verified.  Seeds: fuzz/corpus/session/.
 *
 *   cmake -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_session
 *   build-fuzz/fuzz_session -max_total_time=60 fuzz/corpus/session
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/session.h"
#include "util/xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sessions *ss;
static unsigned inputs;

/* A real code and session: the round trip must hold whatever the input. */
static void round_trip(const char *junk)
{
    char code[SESSION_VALUE_MAX], value[SESSION_VALUE_MAX], found[SESSION_VALUE_MAX];
    struct auth_principal who;
    struct err e;
    char *hdr;

    if (session_code_create(ss, 100, code, &e) != 0 ||
        session_redeem(ss, code, 101, value, &e) != 0)
        abort();
    if (session_redeem(ss, code, 102, found, &e) != ST_ENOTFOUND)
        abort(); /* a code works once */
    hdr = xasprintf("x%s=1; %s=%s", strchr(junk, ';') ? "" : junk, SESSION_COOKIE, value);
    if (session_cookie_find(hdr, found, sizeof(found)) != 0 ||
        strcmp(found, value) != 0 || session_verify(ss, found, 103, &who) != 0 ||
        who.role != AUTH_ADMIN)
        abort();
    if (session_verify(ss, found, 101 + SESSION_TTL_S, &who) == 0)
        abort(); /* expired */
    free(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size), found[SESSION_VALUE_MAX];
    struct auth_principal who;
    struct err e;

    if (ss == NULL)
        ss = sessions_new();
    if (session_cookie_find(s, found, sizeof(found)) == 0) {
        if (strlen(found) == 0 || strlen(found) >= sizeof(found) || strchr(found, ';'))
            abort();
        if (session_verify(ss, found, 103, &who) == 0)
            abort(); /* a made-up session */
    }
    if (session_verify(ss, s, 103, &who) == 0 ||
        session_redeem(ss, s, 101, found, &e) == 0)
        abort();
    if (inputs++ % 64 == 0)
        round_trip(s);
    free(s);
    return 0;
}
