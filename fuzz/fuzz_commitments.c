/*
 * fuzz_commitments.c - libFuzzer harness for the commitments file
 * (catalog_load_commitments, as `stratus simulate --commitments` reads it).
 *
 * A small catalog is loaded once; each input is written as the commitments
 * file and loaded into it.  Every outcome must be a clean load (whose
 * commitments are then used: their cost over a window, which offers they
 * cover) or a clean error that leaves the catalog's commitments as they were.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "catalog/catalog.h"
#include "util/xmem.h"

static const char offers[] =
    "cloud,region,zone,instance_type,accelerator,accelerators_per_node,price_hour,"
    "spot_price_hour\nazure,eastus,,ND,H100,8,98.3,\ngcp,us-central1,a,a3,H100,8,88,30\n"
    "gcp,us-central1,b,a3,H100,8,90,31\noci,us-ashburn-1,,BM,H100,8,,20\n";
static const char regions[] =
    "cloud,region,latitude,longitude,continent\nazure,eastus,37,-79,north-america\n"
    "gcp,us-central1,41,-95,north-america\noci,us-ashburn-1,39,-77,north-america\n";

static struct catalog *cat;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
    struct err e;
    size_t before, i, k;

    fz_mkdir("commitments", NULL);
    if (cat == NULL) {
        fz_put("offers.csv", offers, strlen(offers));
        fz_put("regions.csv", regions, strlen(regions));
        if (catalog_load(&cat, fz_dir, &e) != 0)
            abort();
    }
    fz_put("c.csv", data, size);
    snprintf(path, sizeof(path), "%s/c.csv", fz_dir);
    before = catalog_ncommitments(cat);
    if (catalog_load_commitments(cat, path, &e) != 0) {
        if (catalog_ncommitments(cat) != before)
            abort(); /* a failed load must keep what was there */
        return 0;
    }
    for (i = 0; i < catalog_ncommitments(cat); i++) {
        const struct commitment *m = catalog_commitment(cat, i);
        double c = catalog_commitment_cost(m, 1.7e9, 1.8e9);

        if (!(c >= 0) || m->count < 1 || !(m->price_hour >= 0) || isnan(m->price_hour))
            abort();
        for (k = 0; k < catalog_noffers(cat); k++)
            (void)catalog_commitment_covers(m, catalog_offer(cat, k));
    }
    return 0;
}
