/*
 * fuzz_localconf.c - libFuzzer harness for the local clouds' configuration
 * ($STRATUS_HOME/local.yaml: capacity, preemption rates and notice,
 * stockouts, grace, seed; src/driver/local_conf.c).
 *
 * The input is written as local.yaml in a scratch directory and loaded with
 * local_conf_load() against fuzzcat.h's small catalog (the patterns must match one of
 * its offers).  The first byte of the input picks whether the catalog is
 * given (patterns checked) or not.  Every outcome must be a configuration or
 * an error with a message, never a crash, a leak or undefined behaviour; a
 * configuration that loads must answer what the driver asks of it (capacity
 * and rate of each offer, which stockouts match) with numbers in range.
 * Seeds: fuzz/corpus/localconf/.
 *
 *   cmake -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_localconf
 *   build-fuzz/fuzz_localconf -max_total_time=60 fuzz/corpus/localconf
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcat.h"
#include "driver/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct catalog *cat;
static char path[128];

static void setup(void)
{
    fz_mkdir("localconf", NULL);
    cat = fz_small_catalog();
    snprintf(path, sizeof(path), "%s/local.yaml", fz_dir);
}

/* Ask a loaded configuration what the driver asks: every number in range. */
static void exercise(const struct local_conf *c)
{
    size_t i, k;

    if (c->cap_default < 0 || !(c->notice >= 0) || !(c->grace >= 0))
        abort();
    for (i = 0; i < catalog_noffers(cat); i++) {
        const struct offer *o = catalog_offer(cat, i);
        long n = local_conf_capacity(c, o->cloud, o->region, o->zone, o->instance_type);
        double r = local_conf_rate(c, o->cloud, o->region, o->zone, o->instance_type);

        if (n < 0 || !(r >= 0) || !isfinite(r))
            abort();
        for (k = 0; k < c->nstockouts; k++)
            (void)local_loc_match(c->stockouts[k], o->cloud, o->region, o->zone,
                                  o->instance_type);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct local_conf c;
    struct err e;
    int rc;

    if (size == 0)
        return 0;
    if (cat == NULL)
        setup();
    fz_put("local.yaml", data + 1, size - 1);
    err_clear(&e);
    rc = local_conf_load(&c, path, data[0] & 1 ? cat : NULL, &e);
    if (rc != 0) {
        if (e.msg[0] == '\0')
            abort(); /* an error says what is wrong */
        return 0;
    }
    exercise(&c);
    local_conf_free(&c);
    return 0;
}
