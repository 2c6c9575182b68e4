/*
 * fuzzcat.h - the small catalog the harnesses of inputs that name locations
 * load (fuzz_siminput, fuzz_localconf): H100 and A100 offers of five clouds,
 * in zoned regions (gcp, oci) and in regions without zones (azure, aws), one
 * with no on-demand price.  Header-only, as fuzzutil.h.
 */
#ifndef STRATUS_FUZZCAT_H
#define STRATUS_FUZZCAT_H

#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "catalog/catalog.h"

/* Write the catalog into fz_dir (fz_mkdir first) and load it. */
static inline struct catalog *fz_small_catalog(void)
{
    static const char offers[] =
        "cloud,region,zone,instance_type,accelerator,accelerators_per_node,price_hour,"
        "spot_price_hour\nazure,eastus,,ND96,H100,8,98.3,\n"
        "gcp,us-central1,us-central1-a,a3-highgpu-8g,H100,8,88,30\n"
        "gcp,us-central1,us-central1-b,a3-highgpu-8g,H100,8,90,31\n"
        "gcp,europe-west4,europe-west4-a,a2-highgpu-1g,A100,1,4,1.2\n"
        "oci,us-ashburn-1,AD-1,BM.GPU.H100.8,H100,8,,20\n"
        "aws,us-east-1,,p5.48xlarge,H100,8,98,40\n";
    static const char regions[] =
        "cloud,region,latitude,longitude,continent\nazure,eastus,37,-79,north-america\n"
        "gcp,us-central1,41,-95,north-america\ngcp,europe-west4,53,6,europe\n"
        "oci,us-ashburn-1,39,-77,north-america\naws,us-east-1,39,-77,north-america\n";
    struct catalog *cat;
    struct err e;

    fz_put("offers.csv", offers, strlen(offers));
    fz_put("regions.csv", regions, strlen(regions));
    if (catalog_load(&cat, fz_dir, &e) != 0)
        abort();
    return cat;
}

#endif
