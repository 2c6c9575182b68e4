/*
 * fuzz_slurm.c - libFuzzer harness for what the slurm driver reads from
 * outside: slurmrestd's answers (job list, node list, submit reply), the
 * clusters file, and its own attempt records (a file someone may edit).
 *
 * The first input byte picks the parser, the rest is its input.  Every
 * outcome must be a clean parse or a clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "driver/slurm_int.h"
#include "util/xmem.h"

static void fuzz_conf(const uint8_t *data, size_t size)
{
    struct slurm_conf c;
    struct err e;
    char path[128];

    fz_put("clusters.yaml", data, size);
    snprintf(path, sizeof(path), "%s/clusters.yaml", fz_dir);
    if (slurm_conf_load(&c, path, NULL, "/work", &e) == 0) {
        size_t i;

        for (i = 0; i < c.n; i++)
            (void)slurm_conf_find(&c, c.c[i].cloud, c.c[i].region, c.c[i].zone,
                                  c.c[i].itype);
        slurm_conf_free(&c);
    }
}

static void fuzz_record(const uint8_t *data, size_t size)
{
    struct slurm_cluster cl = {.name = "c1", .pending_timeout = 1};
    struct slurm_conf conf = {.c = &cl, .n = 1};
    struct satt_list l = {0};
    struct driver_event ev[16];
    struct err e;
    size_t i;
    int ended, changed;

    fz_put("att-1", data, size);
    if (satt_load_all(fz_dir, &conf, &l, &e) != 0)
        return;
    for (i = 0; i < l.n; i++) {
        (void)satt_update(l.v[i], NULL, 1e9, &changed);
        (void)satt_events(l.v[i], ev, 16, &ended);
        satt_free(l.v[i]);
    }
    free(l.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data + 1;
    struct sjob_list l = {0};
    struct err e;
    int64_t id;
    long idle;

    fz_mkdir("slurm", NULL);
    if (size == 0)
        return 0;
    switch (data[0] % 5) {
    case 0:
        if (slurm_parse_jobs(json, size - 1, "stratus-ab-", &l, &e) == 0)
            (void)sjob_find(&l, 1);
        sjob_list_free(&l);
        break;
    case 1:
        (void)slurm_parse_idle(json, size - 1, data[0] & 8 ? "gpu" : NULL, &idle, &e);
        break;
    case 2:
        (void)slurm_parse_submit(json, size - 1, &id, &e);
        break;
    case 3:
        fuzz_conf(data + 1, size - 1);
        break;
    default:
        fuzz_record(data + 1, size - 1);
        break;
    }
    return 0;
}
