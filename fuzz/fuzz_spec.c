/*
 * fuzz_spec.c - libFuzzer harness for the workload spec parser.
 *
 * Each input is one spec file.  Loading must end in a spec or an error with a
 * message, never a crash, a leak or undefined behaviour; the spec's strings
 * are read back so that the sanitizers see every byte the parser produced,
 * and a spec that names a dataset has a scalar that reads its name
 * (yaml_has_scalar, the holders' scan).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spec/spec.h"
#include "util/xmem.h"
#include "util/yamlx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every string the spec owns; the sum only defeats the optimiser. */
static size_t spec_touch(const struct spec *s)
{
    size_t n = strlen(s->path) + strlen(s->name) + (s->run ? strlen(s->run) : 0);

    for (size_t i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];

        n += r->accelerator ? strlen(r->accelerator) + (size_t)r->acc_count : 0;
        n += r->cloud ? strlen(r->cloud) : 0;
        n += r->region ? strlen(r->region) : 0;
        n += r->zone ? strlen(r->zone) : 0;
        n += r->instance_type ? strlen(r->instance_type) : 0;
    }
    for (size_t i = 0; i < s->nenvs; i++)
        n += strlen(s->envs[i].key) + strlen(s->envs[i].value);
    for (size_t i = 0; i < s->nwarnings; i++)
        n += strlen(s->warnings[i]);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spec *s = NULL;
    struct err e = {0};
    int rc = spec_load_mem(&s, "fuzz.yaml", (const char *)data, size, &e);

    BUG_ON(rc != 0 && (s != NULL || e.code != rc || e.msg[0] == '\0'));
    BUG_ON(rc == 0 && (s == NULL || s->nres == 0 || s->num_nodes < 1));
    if (s != NULL && spec_touch(s) == 0)
        BUG_ON(1); /* a spec always has a path and a name */
    /* the scan that finds a dataset's holders (sched_data.c) reads the name
     * of every spec that names one */
    BUG_ON(s != NULL && s->data_name != NULL &&
           !yaml_has_scalar((const char *)data, size, s->data_name));
    if (s != NULL) { /* a new workload's rules: an error with a message, or none */
        struct err ne = {0};
        int nrc = spec_check_new(s, &ne);

        BUG_ON(nrc != 0 && (ne.code != nrc || ne.msg[0] == '\0'));
    }
    spec_free(s);
    return 0;
}
