/*
 * fuzz_org.c - libFuzzer harness for the teams document (policy/org.h),
 * which admins send to the API (PUT /v1/teams/...) and the simulator reads
 * from a file: any bytes go to org_parse(); a document that loads must
 * write out and read back to the same document, and answer role and quota
 * questions.  Seeds: fuzz/corpus/org/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/org.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct org *g = NULL, *h = NULL;
    struct err e;
    json_t *a, *b;
    size_t i, k;

    err_clear(&e);
    if (org_parse((const char *)data, size, "fuzz", &g, &e) != 0) {
        if (g != NULL || e.msg[0] == '\0')
            abort(); /* a refusal says why and leaves nothing behind */
        return 0;
    }
    a = org_to_json(g);
    if (org_from_json(a, &h, &e) != 0)
        abort(); /* what we write, we read */
    b = org_to_json(h);
    if (!json_equal(a, b))
        abort();
    for (i = 0; i < g->nteams; i++) {
        const struct org_team *t = &g->teams[i];

        if (org_team(g, t->name) != t || !org_name_ok(t->name) || !(t->weight > 0))
            abort();
        for (k = 0; k < t->nmembers; k++)
            if (org_role(g, t->name, t->members[k].user) == ORG_NONE)
                abort();
        for (k = 0; k < t->nquota; k++)
            (void)org_quota_covers(&t->quota[k], "H100", "gcp");
    }
    (void)org_user_teams(g, "x", NULL);
    json_decref(a);
    json_decref(b);
    org_free(g);
    org_free(h);
    return 0;
}
