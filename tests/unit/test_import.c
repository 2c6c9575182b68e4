/*
 * test_import.c - the SkyPilot catalog importer on small hand-made fixtures
 * (tests/data/skypilot-raw) with the bundled annotation files: the GCP
 * host + GPU price arithmetic (A2/G2 hosts and N1 hosts), CPU offers, the
 * corrections, the drop counts per reason, a cloud read from several files
 * (AWS vms.csv + vms-extra.csv), CRLF input (lambda), sorted and repeatable
 * output, and file:line errors for malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/import.h"
#include "testutil.h"

#define RAW TEST_DATA "/skypilot-raw"
#define ANNOT SOURCE_DIR "/catalog/src"

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *s;
    long n;

    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    s = xmalloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, fp)] = '\0';
    fclose(fp);
    return s;
}

/* Import the fixture into a new directory; returns offers.csv's text. */
static char *import_fixture(struct import_stats *st, char **report)
{
    char *out = tu_mkdtemp(), *path, *text;
    size_t rlen = 0;
    FILE *rep = open_memstream(report, &rlen);
    struct err e;

    err_clear(&e);
    if (catalog_import_skypilot_stats(RAW, out, ANNOT, rep, st, &e) != 0)
        fail_msg("%s", e.msg);
    fclose(rep);
    path = xasprintf("%s/offers.csv", out);
    text = read_all(path);
    assert_non_null(text);
    free(path);
    tu_rmdir(out);
    free(out);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    char *want = xasprintf("\n%s\n", line);

    if (strstr(text, want) == NULL)
        fail_msg("offers.csv lacks the line\n  %s\ngot:\n%s", line, text);
    free(want);
}

static void test_gcp_combine(void **state)
{
    struct import_stats st;
    char *report = NULL, *text = import_fixture(&st, &report);

    (void)state;
    /* host 0.5 + A100x1 3.0; spot 0.25 + 1.0 */
    assert_line(
        text,
        "gcp,us-central1,us-central1-a,a2-highgpu-1g,A100,1,40,12,85,none,,3.5,1.25");
    /* the GPU row is priced for its count: host 1.0 + A100x2 6.0 (not 2 x 6.0) */
    assert_line(
        text, "gcp,us-central1,us-central1-a,a2-highgpu-2g,A100,2,40,24,170,none,,7,2.5");
    /* the host has no spot price: the offer has none either */
    assert_line(
        text, "gcp,us-central1,us-central1-b,g2-standard-24,L4,2,24,24,96,none,,2.525,");
    /* TPUs: TPU-VM, one slice, exact duplicate collapsed */
    assert_line(text, "gcp,us-east5,us-east5-a,TPU-VM,tpu-v5p-8,1,380,,,ici,,16.8,6.72");
    /* N1 GPUs sit on n1-highmem-(8*N): host 0.47 + T4x1 0.35; spot 0.1 + 0.14 */
    assert_line(
        text, "gcp,us-central1,us-central1-a,n1-highmem-8,T4,1,16,8,52,none,,0.82,0.24");
    /* ... and the N1 host is also a CPU offer; other machine types are too */
    assert_line(text,
                "gcp,us-central1,us-central1-a,n1-highmem-8,,,,8,52,none,,0.47,0.1");
    assert_line(text, "gcp,us-central1,us-central1-a,n2-standard-8,,,,8,32,,,0.39,0.1");
    /* GPU hosts (A2/A3/G2) are never CPU offers */
    if (strstr(text, "a3-highgpu-8g") != NULL)
        fail_msg("the unpaired a3-highgpu-8g host became an offer:\n%s", text);
    free(text);
    free(report);
}

static void test_corrections(void **state)
{
    struct import_stats st;
    char *report = NULL, *text = import_fixture(&st, &report);

    (void)state;
    /* 12 -> 8 GPUs; spot equal to on-demand blanked */
    assert_line(
        text,
        "azure,eastus,,Standard_ND96isr_H100_v5,H100,8,80,96,1900,infiniband,,98.32,");
    assert_line(
        text, "azure,eastus,,Standard_NC24ads_A100_v4,A100-80GB,1,80,24,220,none,,3.673,"
              "0.444433");
    /* TPU 700.0 placeholder: the spot price goes, the real price stays */
    assert_line(
        text,
        "gcp,southamerica-west1,southamerica-west1-a,TPU-VM,tpu-v6e-1,1,32,,,ici,,2.7,");
    assert_line(text, "oci,us-ashburn-1,US-ASHBURN-AD-1,BM.GPU.H100.8,H100,8,80,224,2048,"
                      "roce,8192,80,");
    assert_line(
        text, "aws,us-east-1,use1-az4,p5.48xlarge,H100,8,80,192,2048,efa,,55.04,10.2397");
    /* a second AWS file (vms-extra.csv) with a CPU row; lambda's file is CRLF */
    assert_line(text, "aws,us-east-1,use1-az1,m6i.large,,,,2,8,,,0.096,0.0397");
    assert_line(text, "lambda,us-east-1,,cpu_4x_general,,,,4,16,,,0.2,");
    /* fractional GPUs: a share of one, with that share of its memory */
    assert_non_null(strstr(text, "\naws,us-east-1,use1-az1,g6f.large,L4,0.125,3,2,8,"));
    assert_non_null(strstr(text, ",Standard_NV12ads_A10_v5,A10,0.333,7.992,12,"));
    assert_line(text, "lambda,us-east-1,,gpu_1x_h100_pcie,H100,1,80,26,200,none,,2.49,");
    assert_null(strchr(text, '\r'));
    assert_int_equal(st.corrected, 5); /* ND96 count + spot, three TPU placeholders */
    assert_non_null(strstr(report, "accelerators_per_node 12 -> 8: 1 offer\n"));
    /* corrections that matched nothing are pointed out, not silently ignored */
    assert_non_null(strstr(report, "(matched nothing: still needed?)"));
    free(text);
    free(report);
}

static void test_drop_counts(void **state)
{
    struct import_stats st;
    char *report = NULL, *text = import_fixture(&st, &report);
    size_t want[IMPORT_NCLOUDS][IMPORT_NDROPS];
    int c, d;

    (void)state;
    memset(want, 0, sizeof(want));
    want[IMPORT_GCP][IMPORT_DROP_DUPLICATE] = 1;   /* tpu-v5p-8 twice */
    want[IMPORT_GCP][IMPORT_DROP_GPU_NO_HOST] = 1; /* H100x8 in zone f */
    want[IMPORT_GCP][IMPORT_DROP_HOST_NO_GPU] = 1; /* a3-highgpu-8g in zone c */
    want[IMPORT_GCP][IMPORT_DROP_NO_PRICE] = 1;    /* 700.0 / 700.0 */
    want[IMPORT_AZURE][IMPORT_DROP_NOT_CPU] = 1;   /* NC8ads_A10_v4 (not_cpu.csv) */
    want[IMPORT_AWS][IMPORT_DROP_NO_PRICE] = 1;
    want[IMPORT_AWS][IMPORT_DROP_UNKNOWN_ACCELERATOR] = 1; /* f1 FPGA */
    want[IMPORT_AWS][IMPORT_DROP_BAD_COUNT] = 1;           /* 1.5 L4s (made up) */
    want[IMPORT_LAMBDA][IMPORT_DROP_NO_TYPE] = 1;          /* a row without a type */
    for (c = 0; c < IMPORT_NCLOUDS; c++)
        for (d = 0; d < IMPORT_NDROPS; d++)
            if (st.dropped[c][d] != want[c][d])
                fail_msg("%s / %s: dropped %zu, want %zu", import_cloud_name(c),
                         import_drop_str(d), st.dropped[c][d], want[c][d]);
    assert_int_equal(st.rows[IMPORT_GCP], 15);
    assert_int_equal(st.rows[IMPORT_AZURE], 4);
    assert_int_equal(st.rows[IMPORT_AWS], 6); /* vms.csv 2 + vms-extra.csv 4 */
    assert_int_equal(st.rows[IMPORT_LAMBDA], 3);
    assert_int_equal(st.offers[IMPORT_GCP], 8);
    assert_int_equal(st.cpu_offers[IMPORT_GCP], 2);
    assert_int_equal(st.offers[IMPORT_AZURE], 3); /* with 0.333 of an A10 */
    assert_int_equal(st.offers[IMPORT_OCI], 2);
    assert_int_equal(st.offers[IMPORT_AWS], 3); /* with g6f.large, 1/8 of an L4 */
    assert_int_equal(st.cpu_offers[IMPORT_AWS], 1);
    assert_int_equal(st.offers[IMPORT_LAMBDA], 2);
    assert_int_equal(st.offers[IMPORT_NEBIUS], 0);
    assert_non_null(strstr(report, "aws/vms-extra.csv: 4 rows\n"));
    assert_non_null(strstr(report, "wrote "));
    assert_non_null(strstr(report, "gcp         1  GCP host VM with no GPU price row"));
    free(text);
    free(report);
}

/* Sorted by (cloud, region, zone, instance_type, accelerator); same bytes twice. */
static void test_sorted_and_repeatable(void **state)
{
    char *r1 = NULL, *r2 = NULL;
    char *a = import_fixture(NULL, &r1), *b = import_fixture(NULL, &r2);
    char *line, *save = NULL, *prev = NULL;

    (void)state;
    assert_string_equal(a, b);
    for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (prev && strncmp(prev, "cloud,", 6) != 0 && strcmp(prev, line) >= 0)
            fail_msg("not sorted:\n  %s\n  %s", prev, line);
        prev = line;
    }
    free(a);
    free(b);
    free(r1);
    free(r2);
}

static const char gcp_header[] = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,"
                                 "AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,"
                                 "SpotPrice\n";

/* Malformed vms.csv files: each fails with its code and a file:line message. */
static void test_bad_input(void **state)
{
    static const struct {
        const char *body; /* after the header */
        int code;
        const char *msg;
    } cases[] = {
        {"a2-highgpu-1g,12,85,,,,us-central1,us-central1-a,abc,0.2\n", ST_EINVAL,
         "gcp/vms.csv:2:50: column 'Price': 'abc' is not a number"},
        {"ok,12,85,,,,us-central1,us-central1-a,1,1\nx,12,85,,,,us-central1,z,-1,1\n",
         ST_EINVAL, "gcp/vms.csv:3: column 'Price': negative value -1"},
        {"a2-highgpu-1g,12,85,,,\"open,us-central1,z,1,1\n", ST_EPARSE,
         "gcp/vms.csv:2: a quoted field is never closed"},
        {"a2-highgpu-1g,12,85,,,,us-central1,us-central1-a,1\n", ST_EPARSE,
         "gcp/vms.csv:2: row has 9 fields, the header has 10"},
        {"a2-highgpu-1g,12,85,,,,US-Central1,us-central1-a,1,1\n", ST_EINVAL,
         "gcp/vms.csv:2: column 'Region': 'US-Central1' is not a lower-case region name"},
        {"a2-highgpu-1g,twelve,85,,,,us-central1,us-central1-a,1,1\n", ST_EINVAL,
         "gcp/vms.csv:2:15: column 'vCPUs': 'twelve' is not a number"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *src = tu_mkdtemp(), *out = tu_mkdtemp(), *dir = xasprintf("%s/gcp", src);
        char *text = xasprintf("%s%s", gcp_header, cases[i].body), *offers;
        struct err e;

        mkdir(dir, 0777);
        tu_write(dir, "vms.csv", text);
        err_clear(&e);
        assert_int_equal(catalog_import_skypilot(src, out, ANNOT, NULL, &e),
                         cases[i].code);
        if (strstr(e.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, e.msg, cases[i].msg);
        offers = xasprintf("%s/offers.csv", out);
        assert_int_not_equal(access(offers, F_OK), 0); /* nothing written */
        tu_rmdir(dir);
        tu_rmdir(src);
        tu_rmdir(out);
        free(offers);
        free(text);
        free(dir);
        free(src);
        free(out);
    }
}

static void test_missing_column_and_empty_dir(void **state)
{
    char *src = tu_mkdtemp(), *out = tu_mkdtemp(), *dir = xasprintf("%s/aws", src);
    struct err e;

    (void)state;
    assert_int_equal(catalog_import_skypilot(src, out, ANNOT, NULL, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "no SkyPilot catalog here"));
    mkdir(dir, 0777);
    tu_write(dir, "vms.csv",
             "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
             "MemoryGiB,Price,Region\np5.48xlarge,H100,8,192,2048,1,us-east-1\n");
    assert_int_equal(catalog_import_skypilot(src, out, ANNOT, NULL, &e), ST_EPARSE);
    assert_non_null(strstr(e.msg, "aws/vms.csv:1: missing column 'SpotPrice'"));
    tu_rmdir(dir);
    tu_rmdir(src);
    tu_rmdir(out);
    free(dir);
    free(src);
    free(out);
}

/* Annotation files are ours: strict, every row with a source. */
static void test_bad_annotations(void **state)
{
    static const struct {
        const char *file, *text, *msg;
    } cases[] = {
        {"corrections.csv",
         "cloud,instance_type,accelerator,region,field,from,to,reason,source\n"
         "azure,X,*,*,color,12,8,why,where\n",
         "corrections.csv:2: field 'color' cannot be corrected"},
        {"corrections.csv",
         "cloud,instance_type,accelerator,region,field,from,to,reason,source\n"
         "azure,X,*,*,price_hour,1,2,why,\n",
         "corrections.csv:2: column 'source' must not be empty"},
        {"corrections.csv",
         "cloud,instance_type,accelerator,region,field,from,to,reason,source\n"
         "azure,X,*,*,vcpus,1,lots,why,where\n",
         "corrections.csv:2: to: 'lots' is not a number"},
        {"instance_types.csv",
         "cloud,instance_type,interconnect,max_cluster_nodes,source\n"
         "gcp,a3-*,nvlink-switch,,where\n",
         "instance_types.csv:2: interconnect must be"},
        {"instance_types.csv",
         "cloud,instance_type,interconnect,max_cluster_nodes,source\n"
         "google,a3-*,tcpx,,where\n",
         "instance_types.csv:2: cloud must be aws, azure, gcp, lambda, nebius, oci "
         "or '*', not 'google'"},
        {"not_cpu.csv", "cloud,instance_type,reason,source\nazure,Standard_NP*,fpga,\n",
         "not_cpu.csv:2: column 'source' must not be empty"},
        {"accelerators.csv", "accelerator,memory_gib,source\nH100,80,a\nH100,80,b\n",
         "accelerators.csv:3: accelerator 'H100' listed twice"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *annot = tu_mkdtemp(), *out = tu_mkdtemp();
        struct err e;

        tu_copy_dir(ANNOT, annot);
        tu_write(annot, cases[i].file, cases[i].text);
        err_clear(&e);
        assert_int_not_equal(catalog_import_skypilot(RAW, out, annot, NULL, &e), 0);
        if (strstr(e.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, e.msg, cases[i].msg);
        tu_rmdir(annot);
        tu_rmdir(out);
        free(annot);
        free(out);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(import_cloud_name(IMPORT_OCI), "oci");
    assert_null(import_cloud_name(IMPORT_NCLOUDS));
    assert_non_null(import_drop_str(IMPORT_DROP_NO_PRICE));
    assert_null(import_drop_str(-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcp_combine),
        cmocka_unit_test(test_corrections),
        cmocka_unit_test(test_drop_counts),
        cmocka_unit_test(test_sorted_and_repeatable),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_missing_column_and_empty_dir),
        cmocka_unit_test(test_bad_annotations),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
