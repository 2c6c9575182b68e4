/*
 * import.h - building a Stratus offers.csv from another tool's catalog.
 *
 * One source format today: SkyPilot's hosted catalog
 * (github.com/skypilot-org/skypilot-catalog), a directory with one folder per
 * cloud holding vms.csv and/or extracts of it named vms-*.csv (all of a
 * cloud's files are read, vms.csv first, then the extracts in name order, as
 * one table).  The import writes <out>/offers.csv in the format of catalog.h,
 * sorted by (cloud, region, zone, instance_type, accelerator), and counts
 * every input row it does not turn into an offer under a reason.  Rows with
 * no accelerator become CPU offers (accelerator "", count 0) unless
 * not_cpu.csv says the type is an accelerator VM.
 *
 * What SkyPilot lacks or gets wrong comes from four annotation files, kept in
 * the bundled catalog's src/ folder (each row names its source):
 *
 *   accelerators.csv    accelerator,memory_gib,source
 *                       the accelerators Stratus ships; rows naming any other
 *                       accelerator are dropped
 *   instance_types.csv  cloud,instance_type,interconnect,max_cluster_nodes,source
 *                       instance_type is a glob; the first matching row wins
 *   corrections.csv     cloud,instance_type,accelerator,region,field,from,to,
 *                       reason,source
 *                       the four match columns are globs ('' = '*'); field is
 *                       an offers.csv column (accelerator, accelerators_per_node,
 *                       vcpus, memory_gib, price_hour, spot_price_hour); from is
 *                       the value the row must have now ('*' any, 'none' blank,
 *                       'price_hour' equal to the on-demand price); to is the new
 *                       value ('none' = blank).  Applied in file order.
 *   not_cpu.csv         cloud,instance_type,reason,source  (optional file)
 *                       types whose upstream rows name no accelerator but
 *                       which are GPU/FPGA VMs: dropped instead of becoming
 *                       CPU offers
 */
#ifndef STRATUS_IMPORT_H
#define STRATUS_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "../util/err.h"

/* The clouds SkyPilot's catalog has that Stratus imports, in output order. */
#define IMPORT_CLOUD_MAP(X)                                                              \
    X(AWS, "aws")                                                                        \
    X(AZURE, "azure")                                                                    \
    X(GCP, "gcp")                                                                        \
    X(LAMBDA, "lambda")                                                                  \
    X(NEBIUS, "nebius")                                                                  \
    X(OCI, "oci")

enum import_cloud {
#define X_(name, str) IMPORT_##name,
    IMPORT_CLOUD_MAP(X_)
#undef X_
        IMPORT_NCLOUDS
};

/* Why an input row did not become an offer, in the order the checks run. */
#define IMPORT_DROP_MAP(X)                                                               \
    X(DUPLICATE, "exact duplicate of an earlier row")                                    \
    X(CONFLICT, "same offer twice with different values (all copies dropped)")           \
    X(GPU_NO_HOST, "GCP GPU price row that no host VM in its zone uses")                 \
    X(HOST_NO_GPU, "GCP host VM with no GPU price row in its zone")                      \
    X(NO_TYPE, "no instance type (and not a GCP GPU or TPU price row)")                  \
    X(NOT_CPU, "accelerator VM with no accelerator named upstream (not_cpu.csv)")       \
    X(CPU_NO_SHAPE, "CPU type without vCPUs or memory")                                  \
    X(UNKNOWN_ACCELERATOR, "accelerator not in accelerators.csv")                        \
    X(BAD_COUNT, "accelerator count neither a whole number >= 1 nor a share of one")     \
    X(NO_PRICE, "neither an on-demand nor a spot price")

enum import_drop {
#define X_(name, str) IMPORT_DROP_##name,
    IMPORT_DROP_MAP(X_)
#undef X_
        IMPORT_NDROPS
};

/* What one import did, for reports and tests.  dropped[] counts input rows,
 * except for GCP GPU VMs, where a host row and its GPU row are paired first and
 * later checks count the pair once. */
struct import_stats {
    size_t rows[IMPORT_NCLOUDS];   /* data rows read from each cloud's files */
    size_t offers[IMPORT_NCLOUDS]; /* offers written */
    size_t cpu_offers[IMPORT_NCLOUDS]; /* of which CPU offers (no accelerator) */
    size_t dropped[IMPORT_NCLOUDS][IMPORT_NDROPS];
    size_t corrected;   /* (offer, correction) applications */
    size_t unannotated; /* offers no instance_types.csv row matched */
};

/* Name of a cloud ("gcp"), or NULL when out of range. */
const char *import_cloud_name(int cloud);
/* Text of a drop reason, or NULL when out of range. */
const char *import_drop_str(int reason);

/* Read SkyPilot's catalog in src_dir (<cloud>/vms.csv and <cloud>/vms-*.csv
 * for whichever of the clouds above exist) with the annotation files in
 * annot_dir, and write out_dir/offers.csv (out_dir is created if missing; an
 * existing offers.csv is replaced atomically).  A summary with the drop counts
 * goes to report (may be NULL).  Malformed input is an error naming file:line and nothing is written. */
int catalog_import_skypilot(const char *src_dir, const char *out_dir,
                            const char *annot_dir, FILE *report, struct err *e);

/* catalog_import_skypilot that also fills *st (may be NULL). */
int catalog_import_skypilot_stats(const char *src_dir, const char *out_dir,
                                  const char *annot_dir, FILE *report,
                                  struct import_stats *st, struct err *e);

#endif
