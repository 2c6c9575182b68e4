/*
 * fuzz_import.c - libFuzzer harness for the SkyPilot catalog importer.
 *
 * The first input byte picks which file of a small valid SkyPilot catalog and
 * annotation set is replaced by the rest of the input: one of the four
 * <cloud>/vms.csv files or one of the three annotation files.  The import then
 * runs in a private directory.  Every outcome must be a clean import or a
 * clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "catalog/import.h"

static const char *const files[] = {
    "src/gcp/vms.csv",       "src/azure/vms.csv",      "src/oci/vms.csv",
    "src/aws/vms.csv",       "annot/accelerators.csv", "annot/instance_types.csv",
    "annot/corrections.csv",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static const char *const base[NFILES] = {
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
    "AvailabilityZone,Price,SpotPrice\n"
    "a2-highgpu-1g,12,85,,,,us-central1,us-central1-a,0.5,0.25\n"
    ",,,A100,1,x,us-central1,us-central1-a,3,1\n"
    ",,,tpu-v5p-8,1,x,us-east5,us-east5-a,700.0,6.72\n",
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
    "SpotPrice,"
    "Region,Generation\n"
    "Standard_ND96isr_H100_v5,H100,12,96,1900,H100,98.32,98.32,eastus,V2\n",
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
    "SpotPrice,"
    "Region,AvailabilityZone\nBM.GPU.H100.8,H100,8,224,2048,x,80,,us-ashburn-1,AD-1\n",
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
    "SpotPrice,"
    "Region,AvailabilityZone,Arch\np5.48xlarge,H100,8.0,192,2048,x,55.04,,us-east-1,az4,"
    "x\n",
    "accelerator,memory_gib,source\nA100,40,s\nH100,80,s\ntpu-v5p-8,380,s\n",
    "cloud,instance_type,interconnect,max_cluster_nodes,source\n"
    "oci,BM.GPU*.8,roce,8192,s\n*,*,none,,s\n",
    "cloud,instance_type,accelerator,region,field,from,to,reason,source\n"
    "azure,Standard_ND96isr_H100_v5,H100,*,accelerators_per_node,12,8,r,s\n"
    "azure,*,*,*,spot_price_hour,price_hour,none,r,s\n"
    "gcp,TPU-VM,tpu-*,*,price_hour,700,none,r,s\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const subs[] = {"/src",     "/src/gcp", "/src/azure", "/src/oci",
                                       "/src/aws", "/annot",   "/out",       NULL};
    char src[96], annot[96], out[96];
    struct import_stats st;
    struct err e;
    size_t i, pick;

    fz_mkdir("import", subs);
    if (size == 0)
        return 0;
    pick = data[0] % NFILES;
    for (i = 0; i < NFILES; i++)
        if (i == pick)
            fz_put(files[i], data + 1, size - 1);
        else
            fz_put(files[i], base[i], strlen(base[i]));
    snprintf(src, sizeof(src), "%s/src", fz_dir);
    snprintf(annot, sizeof(annot), "%s/annot", fz_dir);
    snprintf(out, sizeof(out), "%s/out", fz_dir);
    (void)catalog_import_skypilot_stats(src, out, annot, NULL, &st, &e);
    return 0;
}
