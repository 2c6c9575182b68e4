/*
 * servesim.h - what the service simulator's unit tests share
 * (test_sim_serve.c, test_serve_bound.c): the bundled catalog and a
 * simulator input with the usual world (trace time 0 at 2024-01-01, 10
 * minutes of lead, 60 s launches, 2 minutes of warm-up).  Include after
 * cmocka.h.
 */
#ifndef STRATUS_TEST_SERVESIM_H
#define STRATUS_TEST_SERVESIM_H

#include <string.h>

#include "catalog/catalog.h"
#include "sim/sim_serve.h"

#define T0 1704067200.0

static struct catalog *cat_load(void)
{
    struct catalog *cat = NULL;
    struct err e;

    err_clear(&e);
    if (catalog_load(&cat, SOURCE_DIR "/catalog", &e) != 0)
        fail_msg("catalog: %s", e.msg);
    return cat;
}

/* in: spec (named `path`) on trace rt over catalog cat, the usual world. */
static void serve_input(struct sim_serve_input *in, struct catalog *cat,
                        const struct reqtrace *rt, const char *path, const char *spec)
{
    memset(in, 0, sizeof(*in));
    in->cat = cat;
    in->reqs = rt;
    in->t0 = T0;
    in->lead_s = 600;
    in->launch_delay_s = 60;
    in->warmup_s = 120;
    in->spec_path = path;
    in->spec_text = spec;
    in->seed = 1;
}

#endif
