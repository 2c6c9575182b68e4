/*
 * fuzz_policy.c - libFuzzer harness for the policy parser: any bytes go to
 * policy_load_mem(); a policy that loads is then queried (match, location,
 * tier, preference) so that the readers and the queries agree on what a
 * loaded rule may contain.  Seeds: fuzz/corpus/policy/.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -I src fuzz/fuzz_policy.c \
 *     src/policy/policy.c src/util/[a-z]*.c -lyaml -lm -o /tmp/fuzz_policy
 *   /tmp/fuzz_policy -max_total_time=60 fuzz/corpus/policy
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Ask every rule about a few locations and a few workloads. */
static void exercise(const struct policy *p)
{
    static const char *const clouds[] = {"azure", "gcp", "oci", "aws", "x"};
    struct spec s;
    size_t i, c;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < SPEC_KIND__N; i++) {
        s.kind = (enum spec_kind)i;
        s.name = "eval-llama";
        s.team = i == 1 ? "research" : NULL;
        (void)policy_match(p, &s);
    }
    for (i = 0; i < p->nrules; i++)
        for (c = 0; c < sizeof(clouds) / sizeof(clouds[0]); c++) {
            const struct policy_rule *r = &p->rules[i];

            (void)policy_check_location(r, clouds[c], "europe-west4", "europe-west4-a",
                                        "europe");
            (void)policy_check_location(r, clouds[c], NULL, NULL, NULL);
            (void)policy_tier(r, clouds[c]);
            (void)policy_pref_index(r, clouds[c]);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy *p = NULL;
    struct err e;

    err_clear(&e);
    if (policy_load_mem(&p, "fuzz.yaml", (const char *)data, size, &e) == 0)
        exercise(p);
    policy_free(p);
    return 0;
}
