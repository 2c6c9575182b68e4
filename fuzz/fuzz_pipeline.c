/*
 * fuzz_pipeline.c - libFuzzer harness for multi-document files: the YAML
 * stream loader (util/yamlx.c) and pipelines and job groups
 * (spec/pipeline.c).
 *
 * Each input is one file.  Loading must end in a pipeline or an error with a
 * message, never a crash, a leak or undefined behaviour; every stage's text
 * and name are read back so that the sanitizers see every byte produced.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spec/pipeline.h"
#include "spec/spec.h"
#include "util/xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pipeline *p = NULL;
    struct err e = {0};
    size_t k, n = 0;
    int multi = pipeline_is_multi((const char *)data, size);
    int rc = pipeline_load_mem(&p, "fuzz.yaml", (const char *)data, size, &e);

    BUG_ON(rc != 0 && (p != NULL || e.code != rc || e.msg[0] == '\0'));
    BUG_ON(rc == 0 && (p == NULL || p->n == 0 || p->n > PIPELINE_MAX_STAGES));
    BUG_ON(multi && rc == 0 && p->n < 1);
    for (k = 0; p != NULL && k < p->n; k++) {
        n += strlen(p->stages[k].text) + strlen(p->stages[k].spec->name);
        BUG_ON(p->stages[k].line < 1);
    }
    BUG_ON(p != NULL && n == 0);
    pipeline_free(p);
    return 0;
}
