/*
 * fuzz_forward.c - libFuzzer harness for a forwarded request's identity
 * (auth_forward_verify, src/server/auth.h: the header a follower signs and
 * the leader takes, docs/ha.md).  Any bytes are the header, verified
 * against a fixed key: nothing made up may verify.  Every 64 inputs a real
 * principal (its name made of the input's allowed bytes) is signed and must
 * verify as itself, and must not once the method, the URI or the time is
 * changed.  Seeds: fuzz/corpus/forward/.
 *
 *   cmake -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_forward
 *   build-fuzz/fuzz_forward -max_total_time=60 fuzz/corpus/forward
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"
#include "util/xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                      30, 31};
static unsigned inputs;

/* A name of the input's bytes that names may hold ([A-Za-z0-9._-]). */
static void name_of(const char *s, char *out, size_t n)
{
    size_t k = 0;

    for (; *s && k + 1 < n; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '.' || *s == '_' || *s == '-')
            out[k++] = *s;
    out[k] = '\0';
}

static void round_trip(const char *junk)
{
    struct auth_principal who, got;
    char hdr[AUTH_FORWARD_MAX];
    struct err e;

    memset(&who, 0, sizeof(who));
    who.role = (enum auth_role)(strlen(junk) % 4);
    who.token_id = (int64_t)strlen(junk) * 7;
    name_of(junk, who.name, sizeof(who.name));
    name_of(junk + strlen(junk) / 2, who.user, sizeof(who.user));
    if (auth_forward_sign(key, &who, "POST", "/v1/jobs?x=1", 1000, hdr, &e) != 0 ||
        auth_forward_verify(key, hdr, "POST", "/v1/jobs?x=1", 1010, &got, &e) != 0 ||
        got.role != who.role || got.token_id != who.token_id ||
        strcmp(got.name, who.name) != 0 || strcmp(got.user, who.user) != 0)
        abort();
    if (auth_forward_verify(key, hdr, "GET", "/v1/jobs?x=1", 1010, &got, &e) == 0 ||
        auth_forward_verify(key, hdr, "POST", "/v1/jobs?x=2", 1010, &got, &e) == 0 ||
        auth_forward_verify(key, hdr, "POST", "/v1/jobs?x=1", 1000 + AUTH_FORWARD_AGE_S + 1,
                            &got, &e) == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    struct auth_principal who;
    struct err e;

    memset(&who, 0, sizeof(who));
    if (auth_forward_verify(key, s, "POST", "/v1/jobs", 1796400000, &who, &e) == 0)
        abort(); /* a forged identity verified */
    if (++inputs % 64 == 0)
        round_trip(s);
    free(s);
    return 0;
}
