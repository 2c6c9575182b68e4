/*
 * fuzz_catalog.c - libFuzzer harness for the catalog loader.
 *
 * The first input byte picks which file of a small valid catalog (throughput.csv
 * included) is replaced
 * by the rest of the input; the catalog is then loaded from a private
 * directory.  Every outcome must be a clean load or a clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "catalog/catalog.h"
#include "util/xmem.h"

static const char *const files[] = {"offers.csv", "regions.csv", "egress.csv", "latency.csv",
                                    "latency_model.csv", "preemption.csv",
                                    "commitments.csv", "quotas.csv", "storage.csv",
                                    "throughput.csv"};
#define NFILES (sizeof(files) / sizeof(files[0]))

static const char *const base[] = {
    "cloud,region,zone,instance_type,accelerator,accelerators_per_node,price_hour,"
    "spot_price_hour\nazure,eastus,,ND,H100,8,98.3,\ngcp,us-central1,a,a3,H100,8,88,30\n",
    "cloud,region,latitude,longitude,continent\nazure,eastus,37,-79,north-america\n"
    "gcp,us-central1,41,-95,north-america\n",
    "kind,src_cloud,src_region,dst_cloud,dst_region,price_per_gb\ninter_cloud,*,,*,,0.1\n",
    "src_cloud,src_region,dst_cloud,dst_region,rtt_ms\nazure,eastus,gcp,us-central1,30\n",
    "intercept_ms,ms_per_km\n4,0.015\n",
    "cloud,region,accelerator,rate_per_hour\ngcp,*,H100,0.1\n",
    "cloud,region,zone,instance_type,count,start,end,price_hour\n"
    "azure,eastus,,ND,4,2026-01-01,,50\n",
    "cloud,region,accelerator,limit\nazure,*,H100,64\n",
    "cloud,price_per_gb_month,note\ngcp,0.02,x\n*,0.023,\n",
    "accelerator,train,infer,cores_per_chip,source\nH100,2,2.6,,x\ntpu-v5p,1.5,,2,y\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct catalog *cat = NULL;
    struct err e;
    size_t i, pick;

    fz_mkdir("catalog", NULL);
    if (size == 0)
        return 0;
    pick = data[0] % NFILES;
    for (i = 0; i < NFILES; i++)
        if (i == pick)
            fz_put(files[i], data + 1, size - 1);
        else
            fz_put(files[i], base[i], strlen(base[i]));
    if (catalog_load(&cat, fz_dir, &e) == 0) {
        for (i = 0; i < catalog_noffers(cat); i++)
            (void)catalog_preempt_rate(cat, catalog_offer(cat, i));
        (void)catalog_throughput(cat, "tpu-v5p-8", 0);
        (void)catalog_node_throughput(cat, "h100", 8, 0, 1);
        catalog_free(cat);
    }
    return 0;
}
