/*
 * test_spec.c - unit tests of the workload spec parser (src/spec/spec.c).
 *
 * Table-driven: each table row is one YAML input and what it must give.
 * Layout: helpers; accelerator forms; any_of/ordered merging; locations;
 * cpus/memory/disk; task fields; the stratus: section; warnings; bad inputs
 * (exact message with line:col); fixture files under tests/data/spec and
 * tests/data/skypilot; limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "spec/spec.h"
#include "util/xmem.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* Load YAML text as "t.yaml"; fail the test with the message on error. */
static struct spec *load_ok(const char *yaml)
{
    struct spec *s = NULL;
    struct err e = {0};

    if (spec_load_mem(&s, "t.yaml", yaml, strlen(yaml), &e) != 0)
        fail_msg("unexpected error for:\n%s\n-> %s", yaml, e.msg);
    assert_non_null(s);
    return s;
}

/* Load YAML text that must fail; returns the message (static buffer). */
static const char *load_err(const char *yaml)
{
    static struct err e;
    struct spec *s = NULL;
    int rc;

    memset(&e, 0, sizeof(e));
    rc = spec_load_mem(&s, "t.yaml", yaml, strlen(yaml), &e);
    if (rc == 0)
        fail_msg("expected an error for:\n%s", yaml);
    assert_null(s);
    assert_int_equal(rc, e.code);
    assert_true(rc < 0);
    return e.msg;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("'%s'\n  does not contain\n'%s'", hay, needle);
}

/* Does any warning contain needle? */
static int has_warning(const struct spec *s, const char *needle)
{
    for (size_t i = 0; i < s->nwarnings; i++) {
        if (strstr(s->warnings[i], needle) != NULL)
            return 1;
    }
    return 0;
}

/* Alternatives as "ACC:N@cloud/region/zone spot" joined by ", " ('-' for
 * none, '*' for any), for compact table expectations. */
static const char *alts(const struct spec *s)
{
    static char buf[4096];
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < s->nres && o < sizeof(buf) - 200; i++) {
        const struct spec_res *r = &s->res[i];

        char n[32];

        if (r->acc_part > 0)
            snprintf(n, sizeof(n), "%g", r->acc_part);
        else
            snprintf(n, sizeof(n), "%d", r->acc_count);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%s@%s/%s/%s%s",
                              i ? ", " : "", r->accelerator ? r->accelerator : "-",
                              n, r->cloud ? r->cloud : "*",
                              r->region ? r->region : "*", r->zone ? r->zone : "*",
                              r->use_spot == 1   ? " spot"
                              : r->use_spot == 0 ? " od"
                                                 : "");
    }
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Accelerator forms                                                         */

struct acc_case {
    const char *yaml;
    const char *alts;
    int ordered;
};

static const struct acc_case acc_cases[] = {
    {"resources: {accelerators: H100:8}\nrun: x\n", "H100:8@*/*/*", 0},
    {"resources: {accelerators: H100}\nrun: x\n", "H100:1@*/*/*", 0},
    {"resources: {accelerators: ' A100-80GB : 4 '}\nrun: x\n", "A100-80GB:4@*/*/*", 0},
    {"resources: {accelerators: tpu-v5p-8}\nrun: x\n", "tpu-v5p-8:1@*/*/*", 0},
    {"resources: {accelerators: 'H100:8.0'}\nrun: x\n", "H100:8@*/*/*", 0},
    {"resources:\n  accelerators: [H100:8, A100-80GB:8]\nrun: x\n",
     "H100:8@*/*/*, A100-80GB:8@*/*/*", 1},
    {"resources:\n  accelerators:\n    - L4:1\n    - H100:1\nrun: x\n",
     "L4:1@*/*/*, H100:1@*/*/*", 1},
    {"resources:\n  accelerators: {H100: 8, A100: 8}\nrun: x\n",
     "H100:8@*/*/*, A100:8@*/*/*", 0},
    {"resources:\n  accelerators: {H100:8, A100:4}\nrun: x\n",
     "H100:8@*/*/*, A100:4@*/*/*", 0},
    {"resources:\n  accelerators: {H100: ~, L4}\nrun: x\n", "H100:1@*/*/*, L4:1@*/*/*",
     0},
    {"resources:\n  accelerators: \"{'L4:1', 'H100:1'}\"\nrun: x\n",
     "L4:1@*/*/*, H100:1@*/*/*", 0},
    {"resources:\n  accelerators: \"[L4:1, H100:2]\"\nrun: x\n",
     "L4:1@*/*/*, H100:2@*/*/*", 1},
    {"resources:\n  gpus: A10G:2\nrun: x\n", "A10G:2@*/*/*", 0},
    /* a share of one accelerator (AWS g6f, Azure NVv4), as SkyPilot writes it */
    {"resources: {accelerators: 'L4:0.5'}\nrun: x\n", "L4:0.5@*/*/*", 0},
    {"resources:\n  accelerators: {L4: 0.125, A10: 0.25}\nrun: x\n",
     "L4:0.125@*/*/*, A10:0.25@*/*/*", 0},
    {"resources:\n  accelerators:\nrun: x\n", "-:0@*/*/*", 0},
    {"resources:\n  accelerators: []\nrun: x\n", "-:0@*/*/*", 0},
    {"resources:\n  cpus: 4\nrun: x\n", "-:0@*/*/*", 0},
    {"run: x\n", "-:0@*/*/*", 0},
};

static void test_accelerator_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(acc_cases); i++) {
        struct spec *s = load_ok(acc_cases[i].yaml);

        assert_string_equal(alts(s), acc_cases[i].alts);
        assert_int_equal(s->ordered, acc_cases[i].ordered);
        spec_free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* any_of / ordered merging                                                  */

static const struct acc_case merge_cases[] = {
    /* Entries override base fields; base fields fill the rest. */
    {"resources:\n  accelerators: H100:8\n  any_of:\n    - infra: aws/us-west-2\n"
     "    - infra: gcp/us-central1\n      accelerators: A100:8\nrun: x\n",
     "H100:8@aws/us-west-2/*, A100:8@gcp/us-central1/*", 0},
    /* A set crosses with any_of entries that do not name accelerators. */
    {"resources:\n  accelerators: {H200:8, H100:8}\n  any_of:\n    - use_spot: true\n"
     "    - use_spot: false\nrun: x\n",
     "H200:8@*/*/* spot, H100:8@*/*/* spot, H200:8@*/*/* od, H100:8@*/*/* od", 0},
    {"resources:\n  ordered:\n    - {infra: azure/eastus, accelerators: H100:8}\n"
     "    - {infra: oci, accelerators: H100:8}\nrun: x\n",
     "H100:8@azure/eastus/*, H100:8@oci/*/*", 1},
    /* A single accelerator in a list is still fine with ordered. */
    {"resources:\n  accelerators: [H100:8]\n  ordered:\n"
     "    - cloud: gcp\n    - cloud: azure\nrun: x\n",
     "H100:8@gcp/*/*, H100:8@azure/*/*", 1},
    /* Base use_spot kept unless an entry overrides it; null resets it. */
    {"resources:\n  use_spot: true\n  accelerators: L4\n  any_of:\n    - {}\n"
     "    - use_spot: null\n    - use_spot: false\nrun: x\n",
     "L4:1@*/*/* spot, L4:1@*/*/*, L4:1@*/*/* od", 0},
    /* An entry's accelerator replaces the base's; null means none. */
    {"resources:\n  accelerators: H100:8\n  any_of:\n"
     "    - accelerators: ~\n    - {}\nrun: x\n",
     "-:0@*/*/*, H100:8@*/*/*", 0},
    /* Empty lists count as absent (as in SkyPilot). */
    {"resources:\n  accelerators: [A:1, B:1]\n  any_of: []\nrun: x\n",
     "A:1@*/*/*, B:1@*/*/*", 1},
    /* Kubernetes alternatives are skipped. */
    {"resources:\n  accelerators: H100:1\n  ordered:\n    - infra: k8s/ctx/with/slashes\n"
     "    - infra: gcp\n    - infra: ssh/pool\nrun: x\n",
     "H100:1@gcp/*/*", 1},
};

static void test_any_of_ordered_merge(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(merge_cases); i++) {
        struct spec *s = load_ok(merge_cases[i].yaml);

        assert_string_equal(alts(s), merge_cases[i].alts);
        assert_int_equal(s->ordered, merge_cases[i].ordered);
        spec_free(s);
    }
}

/* Every base field reaches every alternative; lines point at the entries. */
static void test_merge_all_fields(void **state)
{
    struct spec *s = load_ok("resources:\n"
                             "  cpus: 8+\n"
                             "  memory: 32\n"
                             "  disk_size: 100\n"
                             "  instance_type: Standard_ND96isr_H100_v5\n"
                             "  any_of:\n"
                             "    - infra: azure/eastus\n"
                             "    - cpus: 16\n"
                             "      memory: 64+\n"
                             "      disk_size: 1TB\n"
                             "      instance_type: BM.GPU.H100.8\n"
                             "run: x\n");

    (void)state;
    assert_int_equal(s->nres, 2);
    assert_true(s->res[0].cpus == 8 && !s->res[0].cpus_exact);
    assert_true(s->res[0].memory_gib == 32 && s->res[0].memory_exact);
    assert_true(s->res[0].disk_gb == 100);
    assert_string_equal(s->res[0].instance_type, "Standard_ND96isr_H100_v5");
    assert_int_equal(s->res[0].line, 7);
    assert_true(s->res[1].cpus == 16 && s->res[1].cpus_exact);
    assert_true(s->res[1].memory_gib == 64 && !s->res[1].memory_exact);
    assert_true(s->res[1].disk_gb == 1024);
    assert_string_equal(s->res[1].instance_type, "BM.GPU.H100.8");
    assert_int_equal(s->res[1].line, 8);
    assert_null(s->res[1].cloud);
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* Locations                                                                 */

struct loc_case {
    const char *resources; /* the body of resources: */
    const char *alts;
};

static const struct loc_case loc_cases[] = {
    {"infra: aws", "-:0@aws/*/*"},
    {"infra: AWS/us-east-1", "-:0@aws/us-east-1/*"},
    {"infra: gcp/us-central1/us-central1-a", "-:0@gcp/us-central1/us-central1-a"},
    {"infra: azure/eastus/1", "-:0@azure/eastus/1"},
    {"infra: oci/us-ashburn-1/Uocm:US-ASHBURN-AD-1",
     "-:0@oci/us-ashburn-1/Uocm:US-ASHBURN-AD-1"},
    {"infra: '*'", "-:0@*/*/*"},
    {"infra: '*/us-east-1'", "-:0@*/us-east-1/*"},
    {"infra: '*/*/us-east-1a'", "-:0@*/*/us-east-1a"},
    {"infra: 'aws/*/us-east-1a'", "-:0@aws/*/us-east-1a"},
    {"infra: ' /gcp/ '", "-:0@gcp/*/*"},
    {"infra: nebius/eu-north1", "-:0@nebius/eu-north1/*"},
    {"cloud: GCP", "-:0@gcp/*/*"},
    {"cloud: aws\n  region: us-west-2\n  zone: us-west-2a",
     "-:0@aws/us-west-2/us-west-2a"},
    {"region: us-east-1", "-:0@*/us-east-1/*"},
    /* an entry's cloud drops the base's region and zone, its region the zone */
    {"infra: aws/us-east-1/us-east-1a\n  any_of:\n    - cloud: gcp\n"
     "    - region: us-west-2\n    - zone: us-east-1b\n    - infra: azure",
     "-:0@gcp/*/*, -:0@aws/us-west-2/*, -:0@aws/us-east-1/us-east-1b, -:0@azure/*/*"},
    {"cloud: gcp\n  ordered:\n    - region: us-central1\n    - region: europe-west4",
     "-:0@gcp/us-central1/*, -:0@gcp/europe-west4/*"},
};

static void test_locations(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(loc_cases); i++) {
        char yaml[512];
        struct spec *s;

        snprintf(yaml, sizeof(yaml), "resources:\n  %s\nrun: x\n",
                 loc_cases[i].resources);
        s = load_ok(yaml);
        assert_string_equal(alts(s), loc_cases[i].alts);
        spec_free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* cpus, memory, disk                                                        */

struct size_case {
    const char *field; /* "cpus: 8" */
    double cpus;
    int cpus_exact;
    double mem;
    int mem_exact;
    double disk;
};

static const struct size_case size_cases[] = {
    {"cpus: 8", 8, 1, 0, 0, 0},
    {"cpus: 8+", 8, 0, 0, 0, 0},
    {"cpus: '0.5'", 0.5, 1, 0, 0, 0},
    {"cpus: ' 4+ '", 4, 0, 0, 0, 0},
    {"memory: 32", 0, 0, 32, 1, 0},
    {"memory: 32+", 0, 0, 32, 0, 0},
    {"memory: 64GB", 0, 0, 64, 1, 0},
    {"memory: 1024MB+", 0, 0, 1, 0, 0},
    {"memory: 2tb", 0, 0, 2048, 1, 0},
    {"memory: 512Mi", 0, 0, 0.5, 1, 0},
    {"memory: 1.5", 0, 0, 1.5, 1, 0},
    {"disk_size: 256", 0, 0, 0, 0, 256},
    {"disk_size: 256GB", 0, 0, 0, 0, 256},
    {"disk_size: 1TB", 0, 0, 0, 0, 1024},
    {"disk_size: 1500MB", 0, 0, 0, 0, 1},
};

static void test_sizes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(size_cases); i++) {
        const struct size_case *k = &size_cases[i];
        char yaml[256];
        struct spec *s;

        /* an accelerator, so that no CPU default (test_cpu_defaults) applies */
        snprintf(yaml, sizeof(yaml), "resources:\n  accelerators: H100\n  %s\nrun: x\n",
                 k->field);
        s = load_ok(yaml);
        assert_true(s->res[0].cpus == k->cpus);
        assert_int_equal(s->res[0].cpus_exact, k->cpus_exact);
        assert_true(s->res[0].memory_gib == k->mem);
        assert_int_equal(s->res[0].memory_exact, k->mem_exact);
        assert_true(s->res[0].disk_gb == k->disk);
        spec_free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* Task fields                                                               */

static void test_task_fields(void **state)
{
    struct spec *s =
        load_ok("name: my-job\n"
                "num_nodes: 4\n"
                "workdir: ~/code\n"
                "setup: pip install -e .\n"
                "run: |\n  python a.py\n  python b.py\n"
                "envs:\n  N: 08\n  LR: 1e-4\n  ON: true\n  EMPTY: ''\n  TOKEN:\n");

    (void)state;
    assert_string_equal(s->name, "my-job");
    assert_string_equal(s->path, "t.yaml");
    assert_int_equal(s->num_nodes, 4);
    assert_string_equal(s->workdir, "~/code");
    assert_string_equal(s->setup, "pip install -e .");
    assert_string_equal(s->run, "python a.py\npython b.py\n");
    assert_int_equal(s->nenvs, 5);
    assert_string_equal(s->envs[0].key, "N");
    assert_string_equal(s->envs[0].value, "08"); /* numbers kept as written */
    assert_string_equal(s->envs[1].value, "1e-4");
    assert_string_equal(s->envs[2].value, "true");
    assert_string_equal(s->envs[3].value, "");
    assert_int_equal(s->envs[3].unset, 0);
    assert_string_equal(s->envs[4].value, "");
    assert_int_equal(s->envs[4].unset, 1);
    assert_true(has_warning(s, "t.yaml:13:3: warning: envs.TOKEN has no value"));
    spec_free(s);
}

static void test_defaults(void **state)
{
    struct spec *s = load_ok("run: x\n");

    (void)state;
    assert_string_equal(s->name, "t");
    assert_int_equal(s->num_nodes, 1);
    assert_int_equal(s->kind, SPEC_KIND_BATCH);
    assert_int_equal(s->recovery, SPEC_RECOVERY_FAILOVER);
    assert_int_equal(s->max_restarts, 3);
    assert_int_equal(s->nres, 1);
    assert_null(s->res[0].accelerator);
    assert_int_equal(s->res[0].use_spot, -1);
    assert_int_equal(s->res[0].line, 0);
    assert_null(s->team);
    assert_null(s->setup);
    assert_int_equal(s->nwarnings, 0);
    spec_free(s);
}

/* An explicit null (or empty value) means "not given", everywhere. */
static void test_nulls_mean_absent(void **state)
{
    struct spec *s = load_ok("name:\n"
                             "num_nodes:\n"
                             "setup:\n"
                             "run: x\n"
                             "workdir: ~\n"
                             "envs:\n"
                             "resources:\n"
                             "  accelerators:\n"
                             "  infra: /\n"
                             "  cpus:\n"
                             "  memory: ~\n"
                             "  disk_size:\n"
                             "  use_spot: null\n"
                             "  instance_type:\n"
                             "  job_recovery: {max_restarts_on_errors: 2}\n"
                             "  any_of: ~\n"
                             "stratus:\n"
                             "  kind:\n"
                             "  data: {location: ~, size_gb: ~}\n"
                             "  checkpoint: {interval: ~, restore: ~}\n"
                             "  recovery: {strategy: ~, max_restarts: ~}\n");

    (void)state;
    assert_string_equal(s->name, "t");
    assert_int_equal(s->num_nodes, 1);
    assert_null(s->setup);
    assert_null(s->workdir);
    assert_int_equal(s->nenvs, 0);
    assert_string_equal(alts(s), "-:0@*/*/*");
    assert_null(s->res[0].instance_type);
    assert_int_equal(s->kind, SPEC_KIND_BATCH);
    assert_null(s->data_cloud);
    assert_int_equal(s->max_restarts, 3);
    assert_int_equal(s->nwarnings, 1); /* max_restarts_on_errors */
    spec_free(s);
    s = load_ok("resources: {cloud: ~, region: ~, zone: ~}\nrun: x\n");
    assert_string_equal(alts(s), "-:0@*/*/*");
    spec_free(s);
}

struct name_case {
    const char *path, *name;
};

static void test_default_name(void **state)
{
    static const struct name_case cases[] = {
        {"dir/train.yaml", "train"}, {"serve.sky.yaml", "serve"}, {"/a/b/job.yml", "job"},
        {"job.v2.yaml", "job.v2"},   {"noext", "noext"},          {".yaml", ".yaml"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct spec *s = NULL;
        struct err e = {0};

        assert_int_equal(spec_load_mem(&s, cases[i].path, "run: x\n", 7, &e), 0);
        assert_string_equal(s->name, cases[i].name);
        spec_free(s);
    }
}

/* ------------------------------------------------------------------------ */
/* The stratus: section                                                      */

static void test_stratus_fields(void **state)
{
    struct spec *s =
        load_ok("run: x\n"
                "stratus:\n"
                "  kind: train\n"
                "  team: foundation\n"
                "  priority: -5\n"
                "  duration: 1h30m\n"
                "  deadline: 2d\n"
                "  checkpoint: {interval: 30m, restore: 90s}\n"
                "  data: {location: Azure/eastus, size_gb: 500}\n"
                "  recovery: {strategy: eager-next-region, max_restarts: 0}\n");

    (void)state;
    assert_int_equal(s->kind, SPEC_KIND_TRAIN);
    assert_string_equal(s->team, "foundation");
    assert_int_equal(s->priority, -5);
    assert_true(s->duration_s == 5400);
    assert_true(s->deadline_s == 2 * 86400);
    assert_true(s->deadline_at == 0);
    assert_true(s->ckpt_interval_s == 1800);
    assert_true(s->ckpt_restore_s == 90);
    assert_string_equal(s->data_cloud, "azure");
    assert_string_equal(s->data_region, "eastus");
    assert_true(s->data_gb == 500);
    assert_int_equal(s->recovery, SPEC_RECOVERY_EAGER_NEXT_REGION);
    assert_int_equal(s->max_restarts, 0);
    spec_free(s);
}

/* size_gb is in GB of 10^9 bytes: decimal units as they are, binary ones
 * converted (2 TiB is 2,199 GB, not 2,048). */
static void test_data_size_units(void **state)
{
    static const struct {
        const char *size;
        double gb;
    } cases[] = {{"500", 500},
                 {"2TB", 2000},
                 {"2 TB", 2000},
                 {"2TiB", 2199.023255552},
                 {"512GiB", 549.755813888},
                 {"512MiB", 0.536870912},
                 {"750MB", 0.75},
                 {"1.5T", 1500},
                 {"2tb", 2000}, /* any case */
                 {"500gb", 500},
                 {"1PB", 1e6},
                 {"1 pib", 1125899.906842624},
                 {"1e6", 1e6}};
    static const char *const bad[] = {"0x10", "inf",  "nan", "0x10GB",
                                      "GB",   "-2TB", "2XB"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[160];
        struct err e;
        struct spec *s = NULL;

        snprintf(yaml, sizeof(yaml),
                 "run: x\nstratus:\n  data: {location: azure/eastus, size_gb: '%s'}\n",
                 bad[i]);
        err_clear(&e);
        if (spec_load_mem(&s, "t.yaml", yaml, strlen(yaml), &e) == 0)
            fail_msg("size_gb '%s' accepted as %g GB", bad[i], s->data_gb);
        assert_non_null(strstr(e.msg, "must be a size such as 500 (GB) or 2TB"));
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[160];
        struct spec *s;

        snprintf(yaml, sizeof(yaml),
                 "run: x\nstratus:\n  data: {location: azure/eastus, size_gb: %s}\n",
                 cases[i].size);
        s = load_ok(yaml);
        if (fabs(s->data_gb - cases[i].gb) > 1e-9)
            fail_msg("size_gb %s: %.9f GB, want %.9f", cases[i].size, s->data_gb,
                     cases[i].gb);
        spec_free(s);
    }
}

struct kind_case {
    const char *yaml;
    enum spec_kind kind;
    enum spec_recovery recovery;
};

static void test_kind_and_recovery_sources(void **state)
{
    static const struct kind_case cases[] = {
        {"run: x\nservice: {replicas: 2}\n", SPEC_KIND_INFER, SPEC_RECOVERY_FAILOVER},
        {"run: x\nservice: {replicas: 2}\nstratus: {kind: batch}\n", SPEC_KIND_BATCH,
         SPEC_RECOVERY_FAILOVER},
        {"run: x\nresources: {job_recovery: EAGER_NEXT_REGION}\n", SPEC_KIND_BATCH,
         SPEC_RECOVERY_EAGER_NEXT_REGION},
        {"run: x\nresources: {job_recovery: {strategy: failover}}\n", SPEC_KIND_BATCH,
         SPEC_RECOVERY_FAILOVER},
        {"run: x\nresources: {spot_recovery: eager_next_region}\n", SPEC_KIND_BATCH,
         SPEC_RECOVERY_EAGER_NEXT_REGION},
        /* stratus.recovery wins over SkyPilot's job_recovery */
        {"run: x\nresources: {job_recovery: EAGER_NEXT_REGION}\n"
         "stratus: {recovery: {strategy: failover}}\n",
         SPEC_KIND_BATCH, SPEC_RECOVERY_FAILOVER},
        {"run: x\nstratus: {kind: infer}\n", SPEC_KIND_INFER, SPEC_RECOVERY_FAILOVER},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct spec *s = load_ok(cases[i].yaml);

        assert_int_equal(s->kind, cases[i].kind);
        assert_int_equal(s->recovery, cases[i].recovery);
        spec_free(s);
    }
}

struct dur_case {
    const char *text;
    double seconds;
};

static void test_durations(void **state)
{
    static const struct dur_case cases[] = {
        {"6h", 21600},  {"90m", 5400},    {"1h30m", 5400}, {"45s", 45},
        {"3600", 3600}, {"1.5d", 129600}, {"2w", 1209600}, {"10min", 600},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char yaml[128];
        struct spec *s;

        snprintf(yaml, sizeof(yaml), "run: x\nstratus: {duration: '%s'}\n",
                 cases[i].text);
        s = load_ok(yaml);
        assert_true(s->duration_s == cases[i].seconds);
        spec_free(s);
    }
    /* decimal only: 0x10h was 16 h and 0x10d 269 s */
    for (size_t i = 0; i < 3; i++) {
        static const char *const bad[] = {"0x10h", "0x10d", "0x10"};
        char yaml[128];
        struct spec *s = NULL;
        struct err e;

        snprintf(yaml, sizeof(yaml), "run: x\nstratus: {duration: '%s'}\n", bad[i]);
        err_clear(&e);
        assert_int_not_equal(spec_load_mem(&s, "t.yaml", yaml, strlen(yaml), &e), 0);
        assert_non_null(strstr(e.msg, "stratus.duration must be a duration such as"));
    }
}

static void test_deadlines(void **state)
{
    static const struct dur_case cases[] = {
        /* absolute: unix seconds */
        {"2026-12-01T12:00:00Z", 1796126400},
        {"2026-12-01T12:00Z", 1796126400},
        {"2026-12-01 12:00:00z", 1796126400},
        {"2026-12-01T13:00:00+01:00", 1796126400},
        {"2026-12-01T07:00:00-0500", 1796126400},
        {"2026-12-01T12:00:00.5Z", 1796126400.5},
        {"2028-02-29T00:00:00Z", 1835395200},
        {"1970-01-01T00:00:00Z", 0}, /* the epoch itself reads as "none": fine */
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char yaml[128];
        struct spec *s;

        snprintf(yaml, sizeof(yaml), "run: x\nstratus: {deadline: '%s'}\n",
                 cases[i].text);
        s = load_ok(yaml);
        assert_true(s->deadline_at == cases[i].seconds);
        assert_true(s->deadline_s == 0);
        spec_free(s);
    }
}

static void test_deadline_vs_duration(void **state)
{
    struct spec *s;

    (void)state;
    s = load_ok("run: x\nstratus: {duration: 6h, deadline: 6h}\n"); /* equal is fine */
    assert_true(s->deadline_s == 21600);
    spec_free(s);
    /* an absolute deadline cannot be compared before submission */
    s = load_ok("run: x\nstratus: {duration: 6h, deadline: '2026-01-01T00:00:00Z'}\n");
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* Warnings                                                                  */

/* Secrets by reference (docs/secrets.md): envs: {K: {secret: NAME}} and
 * SkyPilot's secrets: {K: null} / {K: {secret: NAME}}; a value written in
 * the spec, a bad name, a variable set twice are refused where written. */
static void test_secret_refs(void **state)
{
    struct spec *s = load_ok("run: x\n"
                             "envs:\n"
                             "  A: 1\n"
                             "  HF_TOKEN: {secret: hf}\n"
                             "secrets:\n"
                             "  WANDB_API_KEY: null\n"
                             "  AWS_KEY: {secret: aws.prod-1}\n");

    (void)state;
    assert_int_equal(s->nenvs, 4);
    assert_int_equal(spec_secret_refs(s), 3);
    assert_string_equal(s->envs[0].key, "A");
    assert_null(s->envs[0].secret);
    assert_string_equal(s->envs[1].key, "HF_TOKEN");
    assert_string_equal(s->envs[1].secret, "hf");
    assert_string_equal(s->envs[1].value, "");
    assert_int_equal(s->envs[1].line, 4);
    assert_int_equal(s->envs[1].col, 3);
    assert_string_equal(s->envs[2].key, "WANDB_API_KEY");
    assert_string_equal(s->envs[2].secret, "WANDB_API_KEY");
    assert_string_equal(s->envs[3].secret, "aws.prod-1");
    assert_int_equal(s->nwarnings, 0);
    spec_free(s);
    /* secrets: first, then envs: the same namespace either way */
    assert_contains(load_err("secrets: {HF_TOKEN: null}\nenvs: {HF_TOKEN: x}\nrun: x\n"),
                    "t.yaml:2:8: envs.HF_TOKEN: the variable is set at line 1 already");
    assert_contains(load_err("envs: {HF_TOKEN: x}\nsecrets: {HF_TOKEN: null}\nrun: x\n"),
                    "t.yaml:2:11: secrets.HF_TOKEN: the variable is set at line 1");
    assert_contains(load_err("secrets: {HF_TOKEN: hf_abc}\nrun: x\n"),
                    "t.yaml:1:21: secrets.HF_TOKEN: a value written in the spec would be "
                    "stored with the job in plain text; keep it in the server (stratus "
                    "secret set HF_TOKEN --team TEAM");
    assert_contains(load_err("envs: {K: {secret: 'a/b'}}\n"),
                    "t.yaml:1:20: envs.K: 'a/b' is not a secret name");
    assert_contains(load_err("envs: {K: {secret: null}}\n"),
                    "t.yaml:1:11: envs.K needs the name of a secret: {secret: NAME}");
    assert_contains(load_err("envs: {K: {secrte: x}}\n"),
                    "t.yaml:1:11: envs.K must be a single value or {secret: NAME} (a secret "
                    "of the job's team), not another mapping");
    assert_contains(load_err("envs: {K: {secret: x, team: y}}\n"), "unknown key 'team' in envs.K");
    assert_contains(load_err("envs: {K: [a]}\n"),
                    "envs.K must be a single value or {secret: NAME}, not a list");
    assert_contains(load_err("secrets: [A]\n"), "t.yaml:1:10: secrets");
    assert_contains(load_err("secrets: {9X: null}\n"),
                    "secrets: '9X' is not a variable name");
}

/* stratus.data's size: a new workload must give it (spec_check_new); a
 * stored job accepted before the rule still loads. */
static void test_data_size_required_when_new(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"run: x\nstratus:\n  data: {location: azure/eastus}\n",
         "t.yaml:3:9: stratus.data has no size_gb: say how much data the job reads"},
        {"run: x\nstratus:\n  data: {location: azure/eastus, dataset: web, size_gb: 0}\n",
         "t.yaml:3:57: stratus.data.size_gb of dataset 'web' must be more than 0"},
        {"file_mounts: {/d: s3://a}\nrun: x\nstratus:\n  data: {dataset: web}\n",
         "t.yaml:4:9: stratus.data has no size_gb"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct spec *s = load_ok(cases[i].yaml);
        struct err e = {0};

        assert_int_equal(spec_check_new(s, &e), ST_EINVAL);
        assert_contains(e.msg, cases[i].want);
        spec_free(s);
    }
    {
        struct spec *s = load_ok("run: x\nstratus:\n  data: {location: azure/eastus, "
                                 "size_gb: 0}\n"); /* the job's own data, said to be 0 */
        struct err e = {0};

        assert_int_equal(spec_check_new(s, &e), 0);
        spec_free(s);
    }
}

static void test_warnings_not_honoured(void **state)
{
    struct spec *s = load_ok("file_mounts: {/data: s3://x}\n"
                             "resources:\n"
                             "  ports: [8080, 10022-10040]\n"
                             "  labels: {a: b}\n"
                             "  any_of:\n"
                             "    - image_id: docker:x\n"
                             "      job_recovery: FAILOVER\n"
                             "run: x\n"
                             "managed_secrets: [A]\n"
                             "config: {docker: {run_options: x}}\n"
                             "workdir: {url: 'https://x/y.git', ref: main}\n");
    static const char *const expect[] = {
        "t.yaml:1:22: warning: file_mounts./data: how much data the bucket holds",
        "t.yaml:4:3: warning: resources.labels is not honoured yet",
        "t.yaml:6:7: warning: resources.any_of[0].image_id is honoured only at the top",
        "t.yaml:7:7: warning: resources.any_of[0].job_recovery is honoured only",
        "t.yaml:9:1: warning: managed_secrets is not honoured yet",
        "t.yaml:10:1: warning: config is not honoured yet",
        "t.yaml:11:10: warning: workdir from a git repository is not honoured yet",
    };

    (void)state;
    /* in file order, although sections are parsed in another order */
    assert_int_equal(s->nwarnings, ARRAY_LEN(expect));
    for (size_t i = 0; i < ARRAY_LEN(expect); i++)
        assert_contains(s->warnings[i], expect[i]);
    assert_null(s->workdir);
    spec_free(s);
}

static void test_warnings_misc(void **state)
{
    struct spec *s;

    (void)state;
    s = load_ok("resources: {accelerators: H100:8}\n");
    assert_true(has_warning(s, "t.yaml:1:1: warning: no 'run:' command"));
    spec_free(s);
    s = load_ok("run: x\nstratus: {checkpoint: {restore: 5m}}\n");
    assert_true(has_warning(s, "restore without an interval"));
    spec_free(s);
    s = load_ok("run: x\nresources: {job_recovery: {strategy: none, "
                "recover_on_exit_codes: [33]}}\n");
    assert_true(has_warning(s, "'none' is not honoured"));
    assert_true(has_warning(s, "recover_on_exit_codes is not honoured"));
    assert_int_equal(s->recovery, SPEC_RECOVERY_FAILOVER);
    spec_free(s);
    /* an empty set or list is no accelerator, as in SkyPilot, but said */
    static const char *const empty[] = {"{}", "[]", "'[]'", "'{}'"};
    for (size_t i = 0; i < ARRAY_LEN(empty); i++) {
        char text[128];

        snprintf(text, sizeof(text), "run: x\nresources:\n  accelerators: %s\n",
                 empty[i]);
        s = load_ok(text);
        assert_true(has_warning(s,
                                "t.yaml:3:17: warning: resources.accelerators names no "
                                "accelerator, so the job runs on CPUs only"));
        assert_null(s->res[0].accelerator);
        spec_free(s);
    }
    s = load_ok("run: x\nresources: {accelerators: H100:8}\n");
    assert_false(has_warning(s, "names no accelerator"));
    spec_free(s);
}

/* Past SPEC_MAX_WARNINGS, one closing line counts the rest. */
static void test_warnings_cap(void **state)
{
    struct buf b;
    struct spec *s;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, "run: x\nenvs:\n");
    for (int i = 0; i < SPEC_MAX_WARNINGS + 10; i++)
        buf_printf(&b, "  V%d:\n", i);
    s = load_ok(buf_cstr(&b));
    assert_int_equal(s->nwarnings, SPEC_MAX_WARNINGS + 1);
    assert_contains(s->warnings[SPEC_MAX_WARNINGS], "t.yaml: warning: 10 more warnings");
    spec_free(s);
    buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Bad inputs: the exact message, with line and column                       */

struct bad_case {
    const char *yaml;
    const char *msg; /* a substring of the error message */
};

static const struct bad_case bad_cases[] = {
    /* task fields */
    {"num_nodes: two\n",
     "t.yaml:1:12: num_nodes must be a whole number from 1 to 4096, not 'two'"},
    {"num_nodes: 0\n",
     "t.yaml:1:12: num_nodes must be a whole number from 1 to 4096, not '0'"},
    {"num_nodes: 4097\n", "t.yaml:1:12: num_nodes must be a whole number from 1 to 4096"},
    {"name: [a]\n", "t.yaml:1:7: name must be a single value, not a list"},
    {"name: \"a\\nb\"\n", "t.yaml:1:7: name must be one line of text"},
    {"name: \"\"\n", "t.yaml:1:7: name is empty"},
    {"run: [a, b]\n", "t.yaml:1:6: run must be a shell script (a single value"},
    {"envs: [A]\n", "t.yaml:1:7: envs must be a mapping, not a list"},
    {"envs:\n  MY-VAR: 1\n", "t.yaml:2:3: envs: 'MY-VAR' is not a variable name"},
    {"envs:\n  1X: 1\n", "t.yaml:2:3: envs: '1X' is not a variable name"},
    {"envs:\n  X: {a: 1}\n",
     "t.yaml:2:6: envs.X must be a single value or {secret: NAME}"},
    {"workdir: {url: x, branch: y}\n", "t.yaml:1:19: unknown key 'branch' in workdir"},
    /* structure */
    {"", "t.yaml: the file is empty"},
    {"# only a comment\n", "t.yaml: the file is empty"},
    {"- a\n- b\n", "t.yaml:1:1: a workload spec must be a mapping of keys"},
    {"just text\n", "t.yaml:1:1: a workload spec must be a mapping of keys"},
    {"run: x\n  bad: indent\n", "t.yaml:2:6: invalid YAML"},
    {"a: &x 1\nb: *x\n", "t.yaml:2:4: YAML aliases (*name) are not supported"},
    {"run: x\nrun: y\n", "t.yaml:2:1: duplicate key 'run'"},
    {"resorces: {}\n",
     "t.yaml:1:1: unknown key 'resorces' in the workload spec (did you mean "
     "'resources'?)"},
    {"kind: train\n", "t.yaml:1:1: 'kind' belongs under 'stratus:'"},
    {"priority: 3\n", "t.yaml:1:1: 'priority' belongs under 'stratus:'"},
    {"accelerators: H100\n", "t.yaml:1:1: 'accelerators' belongs under 'resources:'"},
    {"resources: []\n", "t.yaml:1:12: resources must be a mapping, not a list"},
    {"resources:\n  acelerators: H100\n",
     "t.yaml:2:3: unknown key 'acelerators' in resources (did you mean 'accelerators'?)"},
    /* a word that is the start of one key: that key (helper-103) */
    {"stratus:\n  data: {location: azure/eastus, size: 1TB}\n",
     "t.yaml:2:34: unknown key 'size' in stratus.data (did you mean 'size_gb'?)"},
    {"resources:\n  any_of:\n    - acelerators: H100\n",
     "t.yaml:3:7: unknown key 'acelerators' in resources.any_of[0] (did you mean "
     "'accelerators'?)"},
    /* accelerators */
    {"resources:\n  accelerators: H100:x\n",
     "t.yaml:2:17: resources.accelerators: bad accelerator count in 'H100:x'"},
    {"resources:\n  accelerators: H100:0\n",
     "t.yaml:2:17: resources.accelerators: bad accelerator "
     "count in 'H100:0'"},
    {"resources:\n  accelerators: 'H100:1.5'\n",
     "t.yaml:2:17: resources.accelerators: bad accelerator count in 'H100:1.5' (write "
     "NAME:COUNT with COUNT a whole number from 1 to 1024, as in 'H100:8', or a share "
     "of one, as in 'L4:0.5')"},
    {"resources:\n  accelerators: H100:8:2\n", "bad accelerator count in 'H100:8:2'"},
    {"resources:\n  accelerators: ':8'\n",
     "t.yaml:2:17: resources.accelerators: bad accelerator "
     "name in ':8'"},
    {"resources:\n  accelerators: 'H 100'\n", "bad accelerator name in 'H 100'"},
    {"resources:\n  accelerators: {H100: two}\n",
     "t.yaml:2:18: resources.accelerators: bad accelerator count in 'H100:two'"},
    {"resources:\n  accelerators: {H100: [8]}\n",
     "t.yaml:2:24: resources.accelerators: write each accelerator as NAME: COUNT"},
    {"resources:\n  accelerators: [H100:8, [A100]]\n",
     "t.yaml:2:26: resources.accelerators: each item must be NAME or NAME:COUNT"},
    {"resources:\n  accelerators: '[H100:8, A100:8'\n",
     "t.yaml:2:17: resources.accelerators: '[H100:8, A100:8' opens with '[' but does not "
     "end "
     "with ']'"},
    {"resources:\n  gpus: H100\n  accelerators: H100\n",
     "t.yaml:3:17: resources.accelerators: give accelerators or gpus (its alias), not "
     "both"},
    /* any_of / ordered */
    {"resources:\n  accelerators: [H100:8, A100:8]\n  any_of:\n    - infra: aws\n",
     "t.yaml:2:18: resources: a list of accelerators (tried in order) cannot be combined "
     "with "
     "any_of"},
    {"resources:\n  accelerators: {H100: 8, A100: 8}\n  ordered:\n    - infra: aws\n",
     "t.yaml:2:18: resources: several accelerators cannot be combined with ordered"},
    {"resources:\n  any_of:\n    - infra: aws\n  ordered:\n    - infra: gcp\n",
     "t.yaml:5:5: resources: give any_of or ordered, not both"},
    {"resources:\n  any_of:\n    - any_of: []\n",
     "t.yaml:3:7: any_of cannot be given inside resources.any_of[0]"},
    {"resources:\n  ordered: {infra: aws}\n",
     "t.yaml:2:12: resources.ordered must be a list, not a mapping"},
    {"resources:\n  any_of:\n    - infra: aws\n    - H100\n",
     "t.yaml:4:7: resources.any_of[1] must be a mapping, not a single value"},
    {"resources:\n  any_of:\n    - accelerators: {H100: 8, A100: 8}\n",
     "t.yaml:3:22: resources.any_of[0].accelerators must name one accelerator"},
    /* locations */
    {"resources:\n  infra: gpc/us-central1\n",
     "t.yaml:2:10: resources.infra: unknown cloud 'gpc' (did you mean 'gcp'?)"},
    {"resources:\n  infra: azur\n",
     "t.yaml:2:10: resources.infra: unknown cloud 'azur' (did you mean 'azure'?)"},
    {"resources:\n  infra: mycloud\n", "t.yaml:2:10: resources.infra: unknown cloud "
                                       "'mycloud' (Stratus' catalog has aws, azure, gcp, "
                                       "oci, lambda and nebius)"},
    {"resources:\n  infra: aws/us-east-1/a/b\n",
     "t.yaml:2:10: resources.infra must be cloud, cloud/region or cloud/region/zone, not "
     "'aws/us-east-1/a/b'"},
    {"resources:\n  infra: aws//us-east-1a\n",
     "t.yaml:2:10: resources.infra must be cloud, cloud/region or cloud/region/zone"},
    {"resources:\n  infra: 'aws/us east'\n",
     "t.yaml:2:10: resources.infra: bad location part "
     "'us east'"},
    {"resources:\n  infra: aws\n  region: us-east-1\n",
     "t.yaml:2:10: resources: give either infra or cloud/region/zone, not both"},
    {"resources:\n  cloud: amazon\n",
     "t.yaml:2:10: resources.cloud: unknown cloud 'amazon'"},
    {"resources:\n  region: '*'\n",
     "t.yaml:2:11: resources.region: bad location part '*'"},
    {"resources:\n  infra: k8s\n",
     "t.yaml:2:10: infra 'k8s': no Kubernetes driver is configured (drivers: local, "
     "slurm, "
     "sim), and no other alternative is left; name a cloud"},
    {"resources:\n  infra: kubernetes/my-ctx\n",
     "t.yaml:2:10: infra 'kubernetes/my-ctx': no Kubernetes driver is configured"},
    {"resources:\n  cloud: kubernetes\n",
     "t.yaml:2:10: infra 'kubernetes': no Kubernetes driver is configured"},
    {"resources:\n  any_of:\n    - infra: ssh/my-pool\n",
     "t.yaml:3:14: infra 'ssh/my-pool': no SSH node pool driver is configured"},
    {"resources:\n  infra: slurm/mycluster\n",
     "t.yaml:2:10: infra 'slurm/mycluster': Stratus runs Slurm clusters as catalog "
     "locations"},
    /* launch options and file_mounts */
    {"resources:\n  ports: 70000\n",
     "t.yaml:2:10: resources.ports: '70000' is not a port (1-65535) or a range"},
    {"resources:\n  ports: [8080, 9000-8000]\n",
     "t.yaml:2:17: resources.ports: '9000-8000' is not a port"},
    {"resources:\n  ports: {a: 1}\n", "t.yaml:2:10: resources.ports must be a list"},
    {"resources:\n  disk_tier: fast\n",
     "t.yaml:2:14: resources.disk_tier must be low, medium, high, ultra or best, not "
     "'fast'"},
    {"resources:\n  disk_tier: hihg\n", "(did you mean 'high'?)"},
    {"resources:\n  accelerator_args: {a: [1]}\n",
     "t.yaml:2:25: resources.accelerator_args.a must be a single value"},
    {"resources:\n  image_id: {'us east': ami-1}\n", "resources.image_id 'us east' has "
                                                     "characters"},
    {"file_mounts: [a]\n", "t.yaml:1:14: file_mounts must be a mapping"},
    {"file_mounts: {/data: }\n", "t.yaml:1:22: file_mounts./data needs a source"},
    {"file_mounts: {/data: {source: s3://x, bogus: 1}}\n",
     "unknown key 'bogus' in file_mounts entry"},
    /* other resource fields */
    {"resources:\n  cpus: many\n", "t.yaml:2:9: resources.cpus must be a number of vCPUs "
                                   "such as 8 (exactly) or 8+ (at least), "
                                   "not 'many'"},
    {"resources:\n  cpus: 0\n", "t.yaml:2:9: resources.cpus must be a number of vCPUs"},
    {"resources:\n  cpus: [8]\n",
     "t.yaml:2:9: resources.cpus must be a number of vCPUs such as 8 "
     "(exactly) or 8+ (at least), not a list"},
    {"resources:\n  memory: 32XB\n", "t.yaml:2:11: resources.memory must be a memory "
                                     "size such as 32 (GiB, exactly), 32+ (at "
                                     "least) or 64GB, not '32XB'"},
    {"resources:\n  memory: '+'\n",
     "t.yaml:2:11: resources.memory must be a memory size"},
    {"resources:\n  disk_size: 256+\n",
     "t.yaml:2:14: resources.disk_size must be a disk size"},
    {"resources:\n  disk_size: 0.5\n",
     "t.yaml:2:14: resources.disk_size must be a disk size"},
    {"resources:\n  use_spot: maybe\n",
     "t.yaml:2:13: resources.use_spot must be true or false, not 'maybe'"},
    {"resources:\n  instance_type: 'p5 48xlarge'\n",
     "t.yaml:2:18: resources.instance_type 'p5 48xlarge' has characters other than"},
    {"resources:\n  job_recovery: SOMETIMES\n",
     "t.yaml:2:17: resources.job_recovery must be failover or eager-next-region, not "
     "'SOMETIMES'"},
    {"resources:\n  job_recovery: {stratgy: FAILOVER}\n",
     "t.yaml:2:18: unknown key 'stratgy' in resources.job_recovery (did you mean "
     "'strategy'?)"},
    {"resources:\n  job_recovery: {strategy: [FAILOVER]}\n",
     "t.yaml:2:28: resources.job_recovery must be a single value, not a list"},
    {"resources:\n  infra: [aws]\n",
     "t.yaml:2:10: resources.infra must be a single value"},
    {"resources:\n  region: [a]\n",
     "t.yaml:2:11: resources.region must be a single value"},
    /* stratus */
    {"stratus: [train]\n", "t.yaml:1:10: stratus must be a mapping, not a list"},
    {"stratus:\n  knd: train\n",
     "t.yaml:2:3: unknown key 'knd' in stratus (did you mean 'kind'?)"},
    {"stratus:\n  kind: trian\n",
     "t.yaml:2:9: stratus.kind must be train, batch or infer, not 'trian' (did you mean "
     "'train'?)"},
    {"stratus:\n  kind: serving\n",
     "t.yaml:2:9: stratus.kind must be train, batch or infer, not 'serving'"},
    {"stratus:\n  priority: high\n", "t.yaml:2:13: stratus.priority must be a whole "
                                     "number from -1000 to 1000, not 'high'"},
    {"stratus:\n  team: \"a\\tb\"\n",
     "t.yaml:2:9: stratus.team must be one line of text"},
    {"stratus:\n  duration: forever\n", "t.yaml:2:13: stratus.duration must be a "
                                        "duration such as 90s, 30m, 2h or 1h30m, not "
                                        "'forever'"},
    {"stratus:\n  duration: 1e308w\n", "t.yaml:2:13: stratus.duration must be a duration "
                                       "such as 90s, 30m, 2h or 1h30m, not '1e308w'"},
    {"stratus:\n  duration: 11000d\n",
     "t.yaml:2:13: stratus.duration is longer than ten years"},
    {"stratus:\n  duration: 0s\n", "t.yaml:2:13: stratus.duration must be more than 0"},
    {"stratus:\n  duration: 0\n", "t.yaml:2:13: stratus.duration must be more than 0"},
    {"stratus:\n  duration: 6h\n  deadline: 2h\n",
     "t.yaml:3:13: stratus.deadline (2h00m) is shorter than stratus.duration (6h00m): "
     "the job "
     "cannot finish in time"},
    {"stratus:\n  deadline: 0\n",
     "t.yaml:2:13: stratus.deadline must be after submission"},
    {"stratus:\n  checkpoint: {interval: 0}\n",
     "t.yaml:2:26: stratus.checkpoint.interval must be more than 0 (leave checkpoint out "
     "for a job that does not save its work)"},
    {"stratus:\n  deadline: 2026-12-01\n",
     "t.yaml:2:13: stratus.deadline '2026-12-01' has no time of day; write e.g. "
     "'2026-12-01T00:00:00Z'"},
    {"stratus:\n  deadline: 2026-12-01T12:00\n",
     "t.yaml:2:13: stratus.deadline '2026-12-01T12:00' has no time zone; add 'Z' for "
     "UTC"},
    {"stratus:\n  deadline: 2026-02-30T12:00Z\n",
     "t.yaml:2:13: stratus.deadline must be a duration (48h) or a date and time such as "
     "'2026-12-01T12:00:00Z', not '2026-02-30T12:00Z'"},
    {"stratus:\n  deadline: 2027-02-29T00:00Z\n",
     "t.yaml:2:13: stratus.deadline must be a "
     "duration"},
    {"stratus:\n  deadline: 2026-12-01T25:00Z\n",
     "t.yaml:2:13: stratus.deadline must be a "
     "duration"},
    {"stratus:\n  deadline: 2026-12-01T12:00+2500\n",
     "t.yaml:2:13: stratus.deadline must be a "
     "duration"},
    {"stratus:\n  deadline: 2026-12-01T12:00:00Zjunk\n",
     "t.yaml:2:13: stratus.deadline must be "
     "a duration"},
    {"stratus:\n  deadline: 1969-12-31T00:00Z\n",
     "t.yaml:2:13: stratus.deadline must be a "
     "duration"},
    {"stratus:\n  checkpoint: 30m\n",
     "t.yaml:2:15: stratus.checkpoint must be a mapping"},
    {"stratus:\n  checkpoint: {intervall: 30m}\n",
     "t.yaml:2:16: unknown key 'intervall' in stratus.checkpoint (did you mean "
     "'interval'?)"},
    {"stratus:\n  checkpoint: {interval: forever}\n",
     "t.yaml:2:26: stratus.checkpoint.interval must be a duration"},
    {"stratus:\n  data: {location: azure/eastus/1}\n",
     "t.yaml:2:20: stratus.data.location must be cloud or cloud/region, not "
     "'azure/eastus/1'"},
    {"stratus:\n  data: {location: '*/eastus'}\n",
     "t.yaml:2:20: stratus.data.location: unknown cloud '*'"},
    {"stratus:\n  data: {location: k8s}\n",
     "t.yaml:2:20: stratus.data.location must be a cloud region such as 'azure/eastus'"},
    {"stratus:\n  duration: [6h]\n",
     "t.yaml:2:13: stratus.duration must be a single value"},
    {"stratus:\n  deadline: {at: x}\n",
     "t.yaml:2:13: stratus.deadline must be a single value"},
    {"stratus:\n  kind: [train]\n", "t.yaml:2:9: stratus.kind must be a single value"},
    {"stratus:\n  recovery: {strategy: [failover]}\n",
     "t.yaml:2:24: stratus.recovery.strategy must be a single value"},
    {"stratus:\n  data: {size_gb: [1]}\n",
     "t.yaml:2:19: stratus.data.size_gb must be a single "
     "value"},
    {"stratus:\n  data: 5\n", "t.yaml:2:9: stratus.data must be a mapping"},
    {"stratus:\n  recovery: 5\n", "t.yaml:2:13: stratus.recovery must be a mapping"},
    {"stratus:\n  data: {size_gb: lots}\n", "t.yaml:2:19: stratus.data.size_gb must be a "
                                            "size such as 500 (GB) or 2TB, not 'lots'"},
    {"stratus:\n  data: {size_gb: 1e300TB}\n",
     "t.yaml:2:19: stratus.data.size_gb must be a size"},
    {"stratus:\n  data: {size_gb: 5}\n",
     "t.yaml:2:9: stratus.data has no location, and no bucket in file_mounts gives one"},
    {"stratus:\n  data: {dataset: web}\n", "t.yaml:2:9: stratus.data has no location"},

    {"stratus:\n  recovery: {strategy: eager}\n",
     "t.yaml:2:24: stratus.recovery.strategy must be failover or eager-next-region, not "
     "'eager'"},
    {"stratus:\n  recovery: {strategy: failvoer}\n", "(did you mean 'failover'?)"},
    {"stratus:\n  recovery: {max_restarts: -1}\n",
     "t.yaml:2:28: stratus.recovery.max_restarts must be a whole number from 0 to 1000, "
     "not '-1'"},
};

/* Every row is checked and every mismatch printed before the test fails. */
static void test_bad_inputs(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        struct spec *s = NULL;
        struct err e = {0};
        const char *y = bad_cases[i].yaml;

        if (spec_load_mem(&s, "t.yaml", y, strlen(y), &e) == 0) {
            print_error("row %zu: no error for:\n%s\n", i, y);
            spec_free(s);
            bad++;
        } else if (strstr(e.msg, bad_cases[i].msg) == NULL) {
            print_error("row %zu:\n  got  %s\n  want %s\n", i, e.msg, bad_cases[i].msg);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------------ */
/* Fixture files                                                             */

static void test_fixture_train_full(void **state)
{
    struct spec *s = NULL;
    struct err e = {0};

    (void)state;
    if (spec_load_file(&s, TEST_DATA "/spec/train_full.yaml", &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(s->name, "llm-pretrain-70b");
    assert_int_equal(s->kind, SPEC_KIND_TRAIN);
    assert_int_equal(s->num_nodes, 16);
    assert_string_equal(alts(s), "H100:8@azure/eastus/*, H100:8@azure/westus3/* spot");
    assert_true(s->res[1].memory_gib == 1800 && s->res[1].disk_gb == 2048);
    assert_true(s->duration_s == 36 * 3600 && s->deadline_s == 3 * 86400);
    assert_string_equal(s->data_region, "eastus");
    assert_true(s->data_gb == 2000);
    assert_int_equal(s->max_restarts, 10);
    assert_int_equal(s->nenvs, 3);
    assert_int_equal(s->nwarnings, 0);
    spec_free(s);
}

static void test_fixture_cpu_only(void **state)
{
    struct spec *s = NULL;
    struct err e = {0};

    (void)state;
    if (spec_load_file(&s, TEST_DATA "/spec/cpu_only.yaml", &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(s->name, "cpu_only");
    assert_string_equal(alts(s), "-:0@gcp/europe-west4/*");
    assert_true(s->res[0].cpus == 16 && s->res[0].cpus_exact);
    assert_true(s->deadline_at == 1796122800); /* 11:00Z */
    spec_free(s);
}

static void test_fixture_bad_files(void **state)
{
    static const struct bad_case cases[] = {
        {"bad_unknown_key.yaml",
         "bad_unknown_key.yaml:4:3: unknown key 'use_sopt' in resources (did you mean "
         "'use_spot'?)"},
        {"bad_deadline.yaml",
         "bad_deadline.yaml:5:13: stratus.deadline (4h00m) is shorter than "
         "stratus.duration (6h00m)"},
        {"bad_accelerator.yaml",
         "bad_accelerator.yaml:4:21: resources.any_of[1].accelerators: bad accelerator "
         "count in "
         "'A100:eight'"},
        {"bad_syntax.yaml", "bad_syntax.yaml:3:2: invalid YAML"},
        {"bad_k8s_only.yaml", "bad_k8s_only.yaml:2:10: infra 'k8s/onprem': no Kubernetes "
                              "driver is configured"},
        {"does_not_exist.yaml", "does_not_exist.yaml: cannot open"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char path[1024];
        struct spec dummy, *s = &dummy; /* must be reset to NULL */
        struct err e = {0};

        snprintf(path, sizeof(path), "%s/spec/%s", TEST_DATA, cases[i].yaml);
        assert_true(spec_load_file(&s, path, &e) < 0);
        assert_null(s);
        assert_contains(e.msg, cases[i].msg);
    }
}

/* What each SkyPilot-format file must give; warnings listed must appear. */
struct sky_case {
    const char *file;
    const char *alts;
    int ordered, num_nodes;
    enum spec_kind kind;
    const char *warn[3];
};

static const struct sky_case sky_cases[] = {
    {"accel_list_ordered.yaml",
     "L4:1@*/*/*, H100:1@*/*/*, A100:1@*/*/*",
     1,
     1,
     SPEC_KIND_BATCH,
     {NULL}},
    {"anyof_infra.yaml",
     "A10G:1@aws/us-west-2/*, L4:1@gcp/us-central1/*",
     0,
     1,
     SPEC_KIND_BATCH,
     {NULL}},
    {"ddp_torchrun.yaml", "L4:1@*/*/*", 0, 2, SPEC_KIND_BATCH, {NULL}},
    {"deepspeed_hostfile.yaml", "A100:1@*/*/*", 0, 2, SPEC_KIND_BATCH, {NULL}},
    {"hello_minimal.yaml", "A100:8@aws/*/*", 0, 1, SPEC_KIND_BATCH, {NULL}},
    {"k8s_then_cloud.yaml",
     "H100:1@gcp/*/*",
     1,
     1,
     SPEC_KIND_BATCH,
     {":7:14: warning: infra 'k8s/onprem-context': no Kubernetes driver is configured "
      "(drivers: local, "
      "slurm, sim); alternatives there are skipped",
      ":15:1: warning: config is not honoured yet"}},
    {"legacy_cloud_region.yaml",
     "A100:1@gcp/us-central1/* spot",
     0,
     1,
     SPEC_KIND_BATCH,
     {":21:3: warning: envs.HF_TOKEN has no value",
      ":22:3: warning: envs.BUCKET has no value"}},
    {"lora_spot_mounts.yaml",
     "A100:8@*/*/* spot",
     0,
     1,
     SPEC_KIND_BATCH,
     {":4:3: warning: envs.HF_TOKEN has no value",
      ":15:3: warning: file_mounts./output names a bucket without a source or store"}},
    {"managed_job_recovery.yaml",
     "A100:8@*/*/* spot",
     0,
     1,
     SPEC_KIND_BATCH,
     {":8:5: warning: resources.job_recovery.max_restarts_on_errors is not honoured "
      "yet"}},
    {"ordered_regions.yaml",
     "A100:8@aws/us-east-1/*, A100:8@gcp/us-central1/*, A100:4@aws/us-west-2/*, "
     "A100:4@gcp/europe-west4/*",
     1,
     1,
     SPEC_KIND_BATCH,
     {NULL}},
    {"set_disk_nebius.yaml",
     "H100:1@nebius/eu-north1/*, H200:1@nebius/eu-north1/*",
     0,
     1,
     SPEC_KIND_INFER,
     {NULL}},
    {"sglang_anyof_spot.yaml",
     "H200:8@*/*/* spot, H100:8@*/*/* spot, A100-80GB:8@*/*/* spot, H200:8@*/*/* od, "
     "H100:8@*/*/* od, A100-80GB:8@*/*/* od",
     0,
     2,
     SPEC_KIND_INFER,
     {":29:5: warning: service.replica_policy has no target_qps_per_replica"}},
    {"tpu_pod.yaml", "tpu-v2-8:1@*/*/*", 0, 2, SPEC_KIND_BATCH, {NULL}},
    {"tpu_v6e_secrets.yaml",
     "tpu-v6e-8:1@*/*/*",
     0,
     1,
     SPEC_KIND_BATCH,
     {NULL}},
    {"vllm_multinode_service.yaml",
     "H100:8@*/*/*",
     0,
     2,
     SPEC_KIND_INFER,
     {":9:3: warning: resources.network_tier"}},
    {"vllm_service_set.yaml",
     "L4:1@*/*/*, A10G:1@*/*/*, A10:1@*/*/*, A100:1@*/*/*, A100-80GB:1@*/*/*",
     0,
     1,
     SPEC_KIND_INFER,
     {NULL}},
};

static const struct sky_case *sky_case_find(const char *file)
{
    for (size_t i = 0; i < ARRAY_LEN(sky_cases); i++) {
        if (strcmp(sky_cases[i].file, file) == 0)
            return &sky_cases[i];
    }
    return NULL;
}

static void check_sky_file(const char *file)
{
    const struct sky_case *k = sky_case_find(file);
    char path[1024];
    struct spec *s = NULL;
    struct err e = {0};

    if (k == NULL)
        fail_msg("tests/data/skypilot/%s has no row in sky_cases", file);
    snprintf(path, sizeof(path), "%s/skypilot/%s", TEST_DATA, file);
    if (spec_load_file(&s, path, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(alts(s), k->alts);
    assert_int_equal(s->ordered, k->ordered);
    assert_int_equal(s->num_nodes, k->num_nodes);
    assert_int_equal(s->kind, k->kind);
    for (size_t w = 0; w < ARRAY_LEN(k->warn) && k->warn[w]; w++) {
        if (!has_warning(s, k->warn[w]))
            fail_msg("%s: no warning '%s'", file, k->warn[w]);
    }
    if (k->warn[0] == NULL && s->nwarnings != 0)
        fail_msg("%s: unexpected warning %s", file, s->warnings[0]);
    assert_non_null(s->run);
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* CPU work, launch options, file_mounts (issue 15)                          */

/* SkyPilot's default for CPU work: 8+ vCPUs when neither cpus nor memory is
 * given, memory >= 4 GiB per vCPU when memory is not given. */
static void test_cpu_defaults(void **state)
{
    static const struct {
        const char *res;
        double cpus;
        int exact;
        double mem, per_cpu;
    } cases[] = {
        {"{}", 8, 0, 0, 4},
        {"{cpus: 2}", 2, 1, 0, 4},
        {"{cpus: 4+}", 4, 0, 0, 4},
        {"{memory: 16+}", 0, 0, 16, 0},
        {"{cpus: 8, memory: 64}", 8, 1, 64, 0},
        {"{accelerators: H100:1}", 0, 0, 0, 0},
        {"{instance_type: m6i.large}", 0, 0, 0, 0},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char yaml[256];
        struct spec *s;

        snprintf(yaml, sizeof(yaml), "resources: %s\nrun: x\n", cases[i].res);
        s = load_ok(yaml);
        if (s->res[0].cpus != cases[i].cpus || s->res[0].cpus_exact != cases[i].exact ||
            s->res[0].memory_gib != cases[i].mem ||
            s->res[0].mem_per_cpu != cases[i].per_cpu)
            fail_msg("%s: cpus %g exact %d memory %g per cpu %g", cases[i].res,
                     s->res[0].cpus, s->res[0].cpus_exact, s->res[0].memory_gib,
                     s->res[0].mem_per_cpu);
        spec_free(s);
    }
    /* no resources at all: the same default */
    {
        struct spec *s = load_ok("run: x\n");

        assert_true(s->res[0].cpus == 8 && !s->res[0].cpus_exact);
        assert_null(s->res[0].accelerator);
        spec_free(s);
    }
}

/* ports, image_id, disk_tier, accelerator_args: parsed (no warning) and
 * handed to the driver by spec_launch_opts(). */
static void test_launch_options(void **state)
{
    struct spec *s =
        load_ok("resources:\n"
                "  accelerators: tpu-v5p-8\n"
                "  ports: [8080, '10022-10040']\n"
                "  disk_size: 512\n"
                "  disk_tier: Best\n"
                "  image_id: docker:vllm/vllm-openai:latest\n"
                "  accelerator_args: {runtime_version: tpu-vm-base, tpu_vm: true}\n"
                "run: x\n");
    struct attempt a;

    (void)state;
    assert_int_equal(s->nwarnings, 0);
    assert_string_equal(s->ports, "8080,10022-10040");
    assert_string_equal(s->disk_tier, "best");
    assert_string_equal(s->accelerator_args, "runtime_version=tpu-vm-base,tpu_vm=true");
    memset(&a, 0, sizeof(a));
    spec_launch_opts(s, "gcp", "us-east5", &a);
    assert_string_equal(a.ports, "8080,10022-10040");
    assert_string_equal(a.image, "docker:vllm/vllm-openai:latest");
    assert_string_equal(a.disk_tier, "best");
    assert_true(a.disk_gb == 512);
    assert_string_equal(a.spec_path, "t.yaml");
    spec_free(s);

    s = load_ok("resources: {ports: 8081}\nrun: x\n");
    assert_string_equal(s->ports, "8081");
    spec_free(s);

    /* a per-region image map: only those regions may be used */
    s = load_ok("resources:\n  image_id:\n    us-east-1: ami-1\n    us-west-2: ami-2\n"
                "run: x\n");
    assert_int_equal(s->nwarnings, 0);
    assert_string_equal(spec_image_for(s, "us-west-2"), "ami-2");
    assert_null(spec_image_for(s, "eu-west-1"));
    assert_true(spec_region_has_image(s, "us-east-1"));
    assert_false(spec_region_has_image(s, "eu-west-1"));
    spec_free(s);
    s = load_ok("run: x\n");
    assert_true(spec_region_has_image(s, "anywhere"));
    spec_free(s);
}

/* Buckets in file_mounts say where the data is; local paths are kept for
 * the driver to copy; stratus.data.location wins. */
static void test_file_mounts(void **state)
{
    static const struct {
        const char *src, *cloud;
    } urls[] = {
        {"s3://my-bucket/data", "aws"},
        {"gs://my-bucket", "gcp"},
        {"https://acct.blob.core.windows.net/container/x", "azure"},
        {"az://acct/container", "azure"},
        {"oci://bucket@ns", "oci"},
        {"r2://bucket", NULL}, /* R2 has no egress fees */
    };
    struct spec *s;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(urls); i++) {
        char yaml[256];

        snprintf(yaml, sizeof(yaml),
                 "file_mounts:\n  /data:\n    source: %s\n    mode: MOUNT\nrun: x\n",
                 urls[i].src);
        s = load_ok(yaml);
        if (urls[i].cloud)
            assert_string_equal(s->data_cloud, urls[i].cloud);
        else
            assert_null(s->data_cloud);
        assert_null(s->data_region);
        /* its size unknown: a move off its cloud would be priced at $0 */
        assert_int_equal(s->nwarnings, urls[i].cloud != NULL);
        if (urls[i].cloud)
            assert_true(has_warning(s, "t.yaml:3:5: warning: file_mounts./data: how much "
                                       "data the bucket holds is not known"));
        assert_int_equal(s->nmounts, 1);
        assert_true(s->mounts[0].is_bucket);
        spec_free(s);
    }
    s = load_ok("file_mounts:\n  ~/.ssh/key: ~/.ssh/cluster-key\n  /configs: ./configs\n"
                "  /out: s3://a\n  /in: gs://b\n  /cos: cos://us-east/bkt\nrun: x\n");
    assert_int_equal(s->nmounts, 5);
    assert_string_equal(s->mounts[0].dst, "~/.ssh/key");
    assert_string_equal(s->mounts[1].src, "./configs");
    assert_false(s->mounts[1].is_bucket);
    assert_string_equal(s->data_cloud, "aws"); /* the first bucket */
    assert_true(
        has_warning(s, "t.yaml:5:8: warning: file_mounts./in: buckets on aws and gcp"));
    assert_true(has_warning(s, "egress from IBM Cloud Object Storage is not priced"));
    spec_free(s);
    s = load_ok("file_mounts: {/d: s3://a}\nstratus:\n  data: {location: azure/eastus, "
                "size_gb: 100}\nrun: x\n");
    assert_string_equal(s->data_cloud, "azure");
    assert_string_equal(s->data_region, "eastus");
    spec_free(s);
    /* a bucket by name: its store says the cloud */
    s = load_ok(
        "file_mounts:\n  /ckpt: {name: my-ckpt, store: gcs, mode: MOUNT}\nrun: x\n");
    assert_string_equal(s->data_cloud, "gcp");
    assert_string_equal(s->mounts[0].src, "my-ckpt");
    assert_true(has_warning(s, "file_mounts./ckpt: how much data the bucket holds"));
    spec_free(s);
    /* its size given: priced, no warning */
    s = load_ok("file_mounts: {/d: s3://a}\nstratus:\n  data: {size_gb: 2TB}\nrun: x\n");
    assert_string_equal(s->data_cloud, "aws");
    assert_true(s->data_gb == 2000);
    assert_int_equal(s->nwarnings, 0);
    assert_int_equal(s->data_line, 3); /* a dataset check's errors point at data: */
    spec_free(s);
}

/* A deadline shorter than `duration` (the first alternative's run) is
 * refused when every alternative runs alike, and left to the check with the
 * catalog (sched_deadline_check) when another may be faster. */
static void test_deadline_with_alternatives(void **state)
{
    struct spec *s;

    (void)state;
    s = load_ok("resources:\n  accelerators: {A100-80GB: 8, H100: 8}\nrun: x\nstratus:\n"
                "  duration: 10h\n  deadline: 8h\n");
    assert_true(spec_alts_differ(s));
    assert_int_equal(s->deadline_line, 6);
    spec_free(s);
    s = load_ok("resources:\n  any_of:\n    - {accelerators: H100:8, cloud: azure}\n"
                "    - {accelerators: H100:8, cloud: gcp}\nrun: x\n");
    assert_false(spec_alts_differ(s)); /* places apart, the same speed */
    spec_free(s);
    /* one dataset size: 2TiB and 2199, 745.058GiB and 800; not 200 and 201 */
    assert_true(spec_same_gb(2 * 1.099511627776e3, 2199));
    assert_true(spec_same_gb(745.058 * 1.073741824, 800));
    assert_true(spec_same_gb(1e6, 1e6 + 900));
    assert_false(spec_same_gb(200, 201));
    assert_false(spec_same_gb(1e6, 1e6 + 1100));
    /* an empty any_of with nothing else asked: CPUs, said */
    s = load_ok("resources: {any_of: []}\nrun: x\n");
    assert_true(has_warning(s,
                            "t.yaml:1:21: warning: resources.any_of is empty, so the job "
                            "runs on CPUs only"));
    spec_free(s);
    /* nor for a service, which runs until taken down */
    s = load_ok("run: x\nservice: {replicas: 1}\nstratus:\n  deadline: 5h\n");
    assert_true(
        has_warning(s, "t.yaml:4:13: warning: stratus.deadline is not followed for a "
                       "service"));
    spec_free(s);
    /* without a duration the rule cannot follow it: said, not silent */
    s = load_ok("run: x\nstratus:\n  deadline: 5h\n");
    assert_true(has_warning(s, "t.yaml:3:13: warning: stratus.deadline without "
                               "stratus.duration is not followed"));
    spec_free(s);
}

/* Every file in tests/data/skypilot loads, and every one has a table row. */
static void test_skypilot_files(void **state)
{
    DIR *dir = opendir(TEST_DATA "/skypilot");
    struct dirent *de;
    size_t n = 0;

    (void)state;
    assert_non_null(dir);
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        check_sky_file(de->d_name);
        n++;
    }
    closedir(dir);
    assert_int_equal(n, ARRAY_LEN(sky_cases));
}

/* ------------------------------------------------------------------------ */
/* Limits and odd inputs                                                     */

static void test_limits(void **state)
{
    struct buf b;
    char *big;
    struct spec *s = NULL;
    struct err e = {0};

    (void)state;
    /* file size */
    big = xmalloc(SPEC_MAX_BYTES + 2);
    memset(big, '#', SPEC_MAX_BYTES + 1);
    big[SPEC_MAX_BYTES + 1] = '\0';
    assert_int_equal(spec_load_mem(&s, "big.yaml", big, SPEC_MAX_BYTES + 1, &e),
                     ST_ETOOBIG);
    assert_contains(e.msg, "big.yaml: spec larger than 1048576 bytes");
    free(big);

    /* alternatives: 64 accelerators x 5 entries = 320 > 256 */
    buf_init(&b, 0);
    buf_puts(&b, "resources:\n  accelerators: {");
    for (int i = 0; i < 64; i++)
        buf_printf(&b, "%sA%d: 1", i ? ", " : "", i);
    buf_puts(&b, "}\n  any_of: [{}, {}, {}, {}, {}]\n");
    assert_contains(load_err(buf_cstr(&b)),
                    "resources expand to more than 256 alternatives");
    buf_reset(&b);

    /* accelerators in one set */
    buf_puts(&b, "resources:\n  accelerators: [");
    for (int i = 0; i < 65; i++)
        buf_printf(&b, "%sA%d", i ? ", " : "", i);
    buf_puts(&b, "]\n");
    assert_contains(load_err(buf_cstr(&b)),
                    "resources.accelerators: more than 64 accelerators");
    buf_reset(&b);

    /* envs */
    buf_puts(&b, "envs:\n");
    for (int i = 0; i < 1025; i++)
        buf_printf(&b, "  V%d: x\n", i);
    assert_contains(load_err(buf_cstr(&b)), "t.yaml:2:3: envs: more than 1024 variables");
    buf_reset(&b);

    /* long names */
    buf_puts(&b, "name: ");
    for (int i = 0; i < 200; i++)
        buf_puts(&b, "n");
    assert_contains(load_err(buf_cstr(&b)),
                    "t.yaml:1:7: name is longer than 128 characters");
    buf_reset(&b);
    buf_puts(&b, "resources: {accelerators: ");
    for (int i = 0; i < 200; i++)
        buf_puts(&b, "A");
    buf_puts(&b, "}");
    assert_contains(load_err(buf_cstr(&b)), "resources.accelerators: accelerator 'AAAA");
    assert_contains(load_err(buf_cstr(&b)), "...' is too long");
    buf_free(&b);
}

/* Messages quote user text safely: control bytes shown as '?'. */
static void test_message_quoting(void **state)
{
    (void)state;
    assert_contains(load_err("resources: {cloud: \"a\\x1b[31m\"}\n"),
                    "unknown cloud 'a?[31m'");
}

/* Long user text is cut before a whole UTF-8 sequence, never inside one. */
static void test_message_utf8_cut(void **state)
{
    struct buf b;
    const char *msg, *dots;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, "resources: {cloud: a");
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "\xc3\xa9"); /* e-acute, two bytes */
    buf_puts(&b, "}\n");
    msg = load_err(buf_cstr(&b));
    dots = strstr(msg, "...'");
    assert_non_null(dots);
    assert_int_equal((unsigned char)dots[-1], 0xa9); /* a whole character before */
    buf_free(&b);
}

static void test_not_nul_terminated(void **state)
{
    static const char data[] = {'r', 'u', 'n', ':', ' ', 'x', 'X'};
    struct spec *s = NULL;
    struct err e = {0};

    (void)state;
    assert_int_equal(spec_load_mem(&s, "n.yaml", data, 6, &e), 0);
    assert_string_equal(s->run, "x");
    spec_free(s);
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(spec_kind_name(SPEC_KIND_TRAIN), "train");
    assert_string_equal(spec_kind_name(SPEC_KIND_BATCH), "batch");
    assert_string_equal(spec_kind_name(SPEC_KIND_INFER), "infer");
    assert_string_equal(spec_kind_name(SPEC_KIND__N), "?");
    assert_int_equal(spec_kind_parse("infer"), SPEC_KIND_INFER);
    assert_int_equal(spec_kind_parse("Train"), -1);
    assert_int_equal(spec_kind_parse(""), -1);
    assert_string_equal(spec_recovery_name(SPEC_RECOVERY_FAILOVER), "failover");
    assert_string_equal(spec_recovery_name(SPEC_RECOVERY_EAGER_NEXT_REGION),
                        "eager-next-region");
    spec_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accelerator_forms),
        cmocka_unit_test(test_any_of_ordered_merge),
        cmocka_unit_test(test_merge_all_fields),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_task_fields),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_nulls_mean_absent),
        cmocka_unit_test(test_default_name),
        cmocka_unit_test(test_stratus_fields),
        cmocka_unit_test(test_data_size_units),
        cmocka_unit_test(test_kind_and_recovery_sources),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_deadline_vs_duration),
        cmocka_unit_test(test_data_size_required_when_new),
        cmocka_unit_test(test_warnings_not_honoured),
        cmocka_unit_test(test_secret_refs),
        cmocka_unit_test(test_warnings_misc),
        cmocka_unit_test(test_warnings_cap),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_fixture_train_full),
        cmocka_unit_test(test_fixture_cpu_only),
        cmocka_unit_test(test_fixture_bad_files),
        cmocka_unit_test(test_skypilot_files),
        cmocka_unit_test(test_cpu_defaults),
        cmocka_unit_test(test_launch_options),
        cmocka_unit_test(test_file_mounts),
        cmocka_unit_test(test_deadline_with_alternatives),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_message_quoting),
        cmocka_unit_test(test_message_utf8_cut),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_enum_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
