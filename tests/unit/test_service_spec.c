/*
 * test_service_spec.c - unit tests of the `service:` section of a spec
 * (src/spec/service.c) and of `stratus: service:`, through spec_load_mem().
 *
 * Layout: helpers; SkyPilot service files under tests/data/skypilot (and its
 * serve/ folder) with every value they must give; defaults; each field's
 * forms (ports, post_data, headers, target QPS, policies); the Stratus
 * fields; warnings; bad inputs (exact message with line:col).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/service.h"
#include "spec/spec.h"
#include "util/xmem.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static struct spec *load_ok(const char *yaml)
{
    struct spec *s = NULL;
    struct err e = {0};

    if (spec_load_mem(&s, "t.yaml", yaml, strlen(yaml), &e) != 0)
        fail_msg("unexpected error for:\n%s\n-> %s", yaml, e.msg);
    assert_non_null(s);
    return s;
}

/* A spec that must have a service; the spec is freed by the caller. */
static const struct svc_spec *svc_of(const struct spec *s)
{
    assert_non_null(s->service);
    return s->service;
}

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
    assert_true(rc < 0);
    assert_int_equal(rc, e.code);
    return e.msg;
}

static int has_warning(const struct spec *s, const char *needle)
{
    for (size_t i = 0; i < s->nwarnings; i++) {
        if (strstr(s->warnings[i], needle) != NULL)
            return 1;
    }
    return 0;
}

/* Target QPS entries as "ACC=Q,ACC=Q" ("*" for any accelerator). */
static const char *qps_text(const struct svc_spec *sv)
{
    static char buf[256];
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sv->ntarget_qps; i++)
        n += (size_t)snprintf(
            buf + n, sizeof(buf) - n, "%s%s=%g", i ? "," : "",
            sv->target_qps[i].accelerator ? sv->target_qps[i].accelerator : "*",
            sv->target_qps[i].qps);
    return buf;
}

/* Headers as "Name: value|Name: value". */
static const char *headers_text(const struct svc_spec *sv)
{
    static char buf[512];
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sv->probe.nheaders; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s: %s", i ? "|" : "",
                              sv->probe.headers[i].name, sv->probe.headers[i].value);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* SkyPilot service files                                                    */

struct svc_case {
    const char *file; /* under tests/data/skypilot */
    const char *path;
    const char *post_data; /* NULL: GET */
    const char *headers;
    double initial_delay_s, timeout_s;
    int fixed, min, max;
    const char *qps;
    double up_s, down_s;
    int base_ondemand, dynamic, overprovision;
    const char *lb;
    int port;
    size_t line;
    const char *warning; /* one warning it must give besides "service is not
                            run as a service yet"; NULL: none needed */
};

static const struct svc_case svc_cases[] = {
    {"vllm_service_set.yaml", "/v1/models", NULL, "", 1200, 15, 2, 2, 2, "", 300, 1200, 0,
     0, 0, "nearest", 8000, 1, NULL},
    {"vllm_multinode_service.yaml", "/v1/chat/completions",
     "{\"model\":\"$MODEL_ID\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}],"
     "\"max_tokens\":1}",
     "", 1200, 30, 1, 1, 1, "", 300, 1200, 0, 0, 0, "nearest", 8081, 31, NULL},
    {"sglang_anyof_spot.yaml", "/health", NULL, "", 3600, 15, 0, 0, 2, "", 300, 1200, 0,
     0, 0, "nearest", 30000, 24,
     ":29:5: warning: service.replica_policy has no target_qps_per_replica"},
    {"set_disk_nebius.yaml", "/", NULL, "", 1200, 15, 0, 1, 3, "*=5", 300, 1200, 0, 0, 0,
     "nearest", 8000, 17, NULL},
    {"serve/http_fixed.yaml", "/", NULL, "", 1200, 15, 2, 2, 2, "", 300, 1200, 0, 0, 0,
     "nearest", 8080, 2, NULL},
    {"serve/autoscale_qps.yaml", "/v1/models", NULL, "", 1200, 15, 0, 2, 10, "*=2.5", 120,
     600, 0, 0, 0, "nearest", 8000, 2, NULL},
    {"serve/spot_fallback.yaml", "/health", NULL, "", 900, 15, 0, 2, 4, "*=1", 300, 1200,
     1, 1, 1, "nearest", 8081, 3,
     ":14:18: warning: service.replica_policy.spot_placer is not honoured"},
    {"serve/probe_full.yaml", "/v1/chat/completions",
     "{\"model\":\"$MODEL_NAME\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello! "
     "What is your name?\"}],\"max_tokens\":1,\"temperature\":0.0,\"stream\":false}",
     "Authorization: Bearer secret-token|X-Probe: readiness", 1800, 30, 3, 3, 3, "", 300,
     1200, 0, 0, 0, "round_robin", 9000, 7, NULL},
    {"serve/qps_per_accelerator.yaml", "/health", NULL, "", 1200, 15, 0, 1, 6,
     "H100=8,A100=4.5,L4=1", 300, 1200, 0, 0, 0, "instance_aware_least_load", 8000, 3,
     NULL},
    {"serve/post_data_text.yaml", "/v1/completions",
     "{\"model\":\"m\",\"prompt\":\"hi\",\"max_tokens\":1}", "", 1200, 15, 0, 0, 3, "*=2",
     300, 1200, 0, 0, 0, "nearest", 8000, 3,
     ":12:5: warning: service.tls is not honoured"},
};

static void check_svc_file(const struct svc_case *k)
{
    char path[1024];
    struct spec *s = NULL;
    struct err e = {0};
    const struct svc_spec *sv;

    snprintf(path, sizeof(path), "%s/skypilot/%s", TEST_DATA, k->file);
    if (spec_load_file(&s, path, &e) != 0)
        fail_msg("%s", e.msg);
    sv = svc_of(s);
    assert_int_equal(s->kind, SPEC_KIND_INFER);
    assert_string_equal(sv->probe.path, k->path);
    if (k->post_data == NULL)
        assert_null(sv->probe.post_data);
    else
        assert_string_equal(sv->probe.post_data, k->post_data);
    assert_string_equal(headers_text(sv), k->headers);
    assert_true(sv->probe.initial_delay_s == k->initial_delay_s);
    assert_true(sv->probe.timeout_s == k->timeout_s);
    assert_int_equal(sv->fixed_replicas, k->fixed);
    assert_int_equal(sv->min_replicas, k->min);
    assert_int_equal(sv->max_replicas, k->max);
    assert_string_equal(qps_text(sv), k->qps);
    assert_true(sv->upscale_delay_s == k->up_s);
    assert_true(sv->downscale_delay_s == k->down_s);
    assert_int_equal(sv->base_ondemand, k->base_ondemand);
    assert_int_equal(sv->dynamic_ondemand, k->dynamic);
    assert_int_equal(sv->overprovision, k->overprovision);
    assert_string_equal(sv->lb_policy, k->lb);
    assert_int_equal(sv->port, k->port);
    assert_int_equal(sv->line, k->line);
    assert_int_equal(sv->nusers, 0);
    if (k->warning != NULL && !has_warning(s, k->warning))
        fail_msg("%s: no warning '%s'", k->file, k->warning);
    spec_free(s);
}

/* Every service file in tests/data/skypilot and skypilot/serve has a row. */
static void test_skypilot_service_files(void **state)
{
    static const char *const dirs[] = {"", "serve/"};
    size_t seen = 0;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(svc_cases); i++)
        check_svc_file(&svc_cases[i]);
    for (size_t d = 0; d < ARRAY_LEN(dirs); d++) {
        char dir[1024], file[1536], *text;
        DIR *dp;
        struct dirent *de;

        snprintf(dir, sizeof(dir), "%s/skypilot/%s", TEST_DATA, dirs[d]);
        dp = opendir(dir);
        assert_non_null(dp);
        for (de = readdir(dp); de != NULL; de = readdir(dp)) {
            size_t len = strlen(de->d_name), k;
            FILE *fp;

            if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
                continue;
            snprintf(file, sizeof(file), "%s%s", dir, de->d_name);
            text = xcalloc(1, 1 << 16);
            fp = fopen(file, "r");
            assert_non_null(fp);
            assert_true(fread(text, 1, (1 << 16) - 1, fp) > 0);
            fclose(fp);
            if (strstr(text, "\nservice:") || strncmp(text, "service:", 8) == 0) {
                snprintf(file, sizeof(file), "%s%s", dirs[d], de->d_name);
                for (k = 0; k < ARRAY_LEN(svc_cases); k++) {
                    if (strcmp(svc_cases[k].file, file) == 0)
                        break;
                }
                if (k == ARRAY_LEN(svc_cases))
                    fail_msg("%s has a service: section but no row in svc_cases", file);
                seen++;
            }
            free(text);
        }
        closedir(dp);
    }
    assert_int_equal(seen, ARRAY_LEN(svc_cases));
}

/* ------------------------------------------------------------------------ */
/* Defaults and kinds                                                        */

static void test_defaults(void **state)
{
    struct spec *s = load_ok("run: x\n\nservice: {}\n");
    const struct svc_spec *sv = svc_of(s);

    (void)state;
    assert_int_equal(s->kind, SPEC_KIND_INFER);
    assert_string_equal(sv->probe.path, "/");
    assert_null(sv->probe.post_data);
    assert_int_equal(sv->probe.nheaders, 0);
    assert_true(sv->probe.initial_delay_s == 1200);
    assert_true(sv->probe.timeout_s == 15);
    assert_int_equal(sv->fixed_replicas, 1);
    assert_int_equal(sv->min_replicas, 1);
    assert_int_equal(sv->max_replicas, 1);
    assert_int_equal(sv->ntarget_qps, 0);
    assert_true(sv->upscale_delay_s == 300);
    assert_true(sv->downscale_delay_s == 1200);
    assert_int_equal(sv->base_ondemand, 0);
    assert_int_equal(sv->dynamic_ondemand, 0);
    assert_int_equal(sv->overprovision, 0);
    assert_string_equal(sv->lb_policy, "nearest");
    assert_int_equal(sv->port, 8080);
    assert_int_equal(sv->nusers, 0);
    assert_true(sv->latency_slo_ms == 0);
    assert_int_equal(sv->reject_when_zero, 0);
    assert_true(sv->max_wait_s == 60);
    assert_int_equal(sv->line, 3);
    spec_free(s);

    /* Null fields mean "not given". */
    s = load_ok("run: x\nservice:\n  readiness_probe:\n  replicas: ~\n  ports:\n");
    sv = svc_of(s);
    assert_string_equal(sv->probe.path, "/");
    assert_int_equal(sv->fixed_replicas, 1);
    assert_int_equal(sv->port, 8080);
    spec_free(s);

    /* stratus.kind still wins over the service's infer; no service, no field. */
    s = load_ok("run: x\nservice: {replicas: 2}\nstratus: {kind: batch}\n");
    assert_int_equal(s->kind, SPEC_KIND_BATCH);
    assert_int_equal(svc_of(s)->fixed_replicas, 2);
    spec_free(s);
    s = load_ok("run: x\n");
    assert_null(s->service);
    assert_int_equal(s->kind, SPEC_KIND_BATCH);
    spec_free(s);

    /* An empty service: is no service (SkyPilot skips a null section). */
    s = load_ok("run: x\nservice:\n");
    assert_null(s->service);
    assert_int_equal(s->kind, SPEC_KIND_BATCH);
    assert_true(has_warning(s, "t.yaml:2:1: warning: service is empty, so there is no "
                               "service: the spec runs as a plain job"));
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* Field forms                                                               */

static void test_ports(void **state)
{
    static const struct {
        const char *yaml;
        int port;
    } cases[] = {
        {"run: x\nservice: {}\nresources: {ports: 8000}\n", 8000},
        {"run: x\nservice: {}\nresources: {ports: '8001'}\n", 8001},
        {"run: x\nservice: {}\nresources: {ports: 8002-8010}\n", 8002},
        {"run: x\nservice: {}\nresources: {ports: [8003, 9000]}\n", 8003},
        {"run: x\nservice: {}\nresources: {ports: ['8004-8005']}\n", 8004},
        {"run: x\nservice: {ports: 9000}\nresources: {ports: 8000}\n", 9000},
        {"run: x\nservice: {ports: 1}\n", 1},
        {"run: x\nservice: {ports: 65535}\n", 65535},
        {"run: x\nservice: {}\nresources: {ports: []}\n", 8080},
        {"run: x\nservice: {}\nresources: {cpus: 2}\n", 8080},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct spec *s = load_ok(cases[i].yaml);

        if (svc_of(s)->port != cases[i].port)
            fail_msg("%s: port %d, expected %d", cases[i].yaml, svc_of(s)->port,
                     cases[i].port);
        spec_free(s);
    }
}

static void test_probe_forms(void **state)
{
    static const struct {
        const char *probe; /* the readiness_probe value, flow style */
        const char *path;
        const char *post; /* NULL: GET */
    } cases[] = {
        {"/health", "/health", NULL},
        {"'/v1/models?x=1'", "/v1/models?x=1", NULL},
        {"{path: /p}", "/p", NULL},
        {"{path: /p, post_data: {a: 1, b: 1.5, c: true, d: yes, e: '1', f: null, g: ~, "
         "h: x, i: [1, two], j: {}, k: [], l: 0x10, m: -2e3}}",
         "/p",
         "{\"a\":1,\"b\":1.5,\"c\":true,\"d\":true,\"e\":\"1\",\"f\":null,\"g\":null,"
         "\"h\":\"x\",\"i\":[1,\"two\"],\"j\":{},\"k\":[],\"l\":\"0x10\",\"m\":-2000.0}"},
        {"{path: /p, post_data: [1, 2]}", "/p", "[1,2]"},
        {"{path: /p, post_data: '[1, 2]'}", "/p", "[1,2]"},
        {"{path: /p, post_data: '\"text\"'}", "/p", "\"text\""},
        {"{path: /p, post_data: 5}", "/p", "5"},
        {"{path: /p, post_data: \"{\\\"q\\\": \\\"\\u00e9\\\\n\\\"}\"}", "/p",
         "{\"q\":\"\xc3\xa9\\n\"}"},
        {"{path: /p, post_data: ~}", "/p", NULL},
    };
    char yaml[1024];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct spec *s;
        const struct svc_spec *sv;

        snprintf(yaml, sizeof(yaml), "run: x\nservice:\n  readiness_probe: %s\n",
                 cases[i].probe);
        s = load_ok(yaml);
        sv = svc_of(s);
        assert_string_equal(sv->probe.path, cases[i].path);
        if (cases[i].post == NULL && sv->probe.post_data != NULL)
            fail_msg("%s: post_data %s, expected none", cases[i].probe,
                     sv->probe.post_data);
        if (cases[i].post != NULL && (sv->probe.post_data == NULL ||
                                      strcmp(sv->probe.post_data, cases[i].post) != 0))
            fail_msg("%s: post_data %s, expected %s", cases[i].probe,
                     sv->probe.post_data ? sv->probe.post_data : "(none)", cases[i].post);
        spec_free(s);
    }
}

static void test_headers(void **state)
{
    struct spec *s = load_ok("run: x\nservice:\n  readiness_probe:\n    path: /h\n"
                             "    headers: {Authorization: Bearer k, X-N: 5, x-empty: '',"
                             " X-Tab: \"a\\tb\"}\n");
    const struct svc_spec *sv = svc_of(s);

    (void)state;
    assert_string_equal(headers_text(sv),
                        "Authorization: Bearer k|X-N: 5|x-empty: |X-Tab: a\tb");
    spec_free(s);
    s = load_ok("run: x\nservice: {readiness_probe: {path: /h, headers: {}}}\n");
    assert_int_equal(svc_of(s)->probe.nheaders, 0);
    spec_free(s);
}

static void test_replica_policies(void **state)
{
    struct spec *s;
    const struct svc_spec *sv;

    (void)state;
    s = load_ok("run: x\nservice:\n  replica_policy: {min_replicas: 3}\n");
    sv = svc_of(s);
    assert_int_equal(sv->fixed_replicas, 0);
    assert_int_equal(sv->min_replicas, 3);
    assert_int_equal(sv->max_replicas, 3);
    assert_int_equal(sv->ntarget_qps, 0);
    assert_false(has_warning(s, "target_qps_per_replica"));
    spec_free(s);

    s = load_ok("run: x\nservice:\n  replica_policy:\n    min_replicas: 0\n"
                "    max_replicas: 1000\n    target_qps_per_replica: {'L4:1': 0.5, "
                "A100-80GB: 3}\n    dynamic_ondemand_fallback: false\n"
                "    upscale_delay_seconds: 0\n    downscale_delay_seconds: 30.5\n");
    sv = svc_of(s);
    assert_int_equal(sv->min_replicas, 0);
    assert_int_equal(sv->max_replicas, 1000);
    assert_string_equal(qps_text(sv), "L4=0.5,A100-80GB=3");
    assert_int_equal(sv->dynamic_ondemand, 0);
    assert_true(sv->upscale_delay_s == 0);
    assert_true(sv->downscale_delay_s == 30.5);
    spec_free(s);

    s = load_ok("run: x\nservice: {replicas: 1000}\n");
    assert_int_equal(svc_of(s)->fixed_replicas, 1000);
    assert_int_equal(svc_of(s)->max_replicas, 1000);
    spec_free(s);
}

static void test_lb_policies(void **state)
{
    static const char *const in[] = {"nearest", "least_load", "ROUND_ROBIN",
                                     "Instance_Aware_Least_Load"};
    static const char *const out[] = {"nearest", "least_load", "round_robin",
                                      "instance_aware_least_load"};
    char yaml[256];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(in); i++) {
        struct spec *s;

        snprintf(yaml, sizeof(yaml), "run: x\nservice: {load_balancing_policy: %s}\n",
                 in[i]);
        s = load_ok(yaml);
        assert_string_equal(svc_of(s)->lb_policy, out[i]);
        spec_free(s);
    }
}

static void test_target_qps_lookup(void **state)
{
    struct spec *s = load_ok("run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
                             "    max_replicas: 4\n"
                             "    target_qps_per_replica: {H100: 8, l4: 2}\n");
    const struct svc_spec *sv = svc_of(s);

    (void)state;
    assert_true(svc_target_qps(sv, "H100") == 8);
    assert_true(svc_target_qps(sv, "h100") == 8);
    assert_true(svc_target_qps(sv, "L4") == 2);
    assert_true(svc_target_qps(sv, "A100") == 0);
    assert_true(svc_target_qps(sv, NULL) == 0);
    spec_free(s);
    s = load_ok("run: x\nservice:\n  replica_policy: {min_replicas: 1, max_replicas: 4, "
                "target_qps_per_replica: 3}\n");
    assert_true(svc_target_qps(svc_of(s), "H100") == 3);
    assert_true(svc_target_qps(svc_of(s), NULL) == 3);
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* stratus: service:                                                         */

static void test_stratus_fields(void **state)
{
    struct spec *s;
    const struct svc_spec *sv;

    (void)state;
    s = load_ok(
        "run: x\nservice:\n  replica_policy: {min_replicas: 1, num_overprovision: 1}\n"
        "stratus:\n  service:\n    users: {azure/eastus: 0.5, OCI/us-ashburn-1: 30%,"
        " gcp/europe-west4: 0.2}\n    latency_slo_ms: 250\n    spot_overprovision: 2\n"
        "    when_scaled_to_zero: reject\n    max_wait_seconds: 5.5\n");
    sv = svc_of(s);
    assert_int_equal(sv->nusers, 3);
    assert_string_equal(sv->users[0].cloud, "azure");
    assert_string_equal(sv->users[0].region, "eastus");
    assert_true(sv->users[0].share == 0.5);
    assert_string_equal(sv->users[1].cloud, "oci");
    assert_string_equal(sv->users[1].region, "us-ashburn-1");
    assert_true(sv->users[1].share > 0.2999 && sv->users[1].share < 0.3001);
    assert_string_equal(sv->users[2].cloud, "gcp");
    assert_true(sv->users[2].share == 0.2);
    assert_true(sv->latency_slo_ms == 250);
    assert_int_equal(sv->overprovision, 2); /* stratus wins over num_overprovision */
    assert_int_equal(sv->reject_when_zero, 1);
    assert_true(sv->max_wait_s == 5.5);
    spec_free(s);

    /* The stratus section may come first in the file: it still wins. */
    s = load_ok(
        "stratus: {service: {spot_overprovision: 0, when_scaled_to_zero: wait}}\n"
        "run: x\nservice:\n  replica_policy: {min_replicas: 1, num_overprovision: 3}\n");
    assert_int_equal(svc_of(s)->overprovision, 0);
    assert_int_equal(svc_of(s)->reject_when_zero, 0);
    spec_free(s);

    /* Shares may be off by rounding. */
    s = load_ok(
        "run: x\nservice: {}\nstratus: {service: {users: {a/b: 0.333, c/d: 0.333, "
        "e/f: 0.333}}}\n");
    assert_int_equal(svc_of(s)->nusers, 3);
    spec_free(s);
}

/* ------------------------------------------------------------------------ */
/* Bad inputs: the exact message, with line:col                              */

static void test_bad_inputs(void **state)
{
    static const struct {
        const char *yaml;
        const char *msg;
    } cases[] = {
        {"run: x\nservice: [1]\n", "t.yaml:2:10: service must be a mapping"},
        {"run: x\nservice:\n  replicas: 2\n  readyness_probe: /\n",
         "t.yaml:4:3: unknown key 'readyness_probe' in service (did you mean "
         "'readiness_probe'?)"},
        {"run: x\nservice:\n  readiness_probe: health\n",
         "t.yaml:3:20: service.readiness_probe 'health' must start with '/' (a path on "
         "the replica, e.g. /health)"},
        {"run: x\nservice:\n  readiness_probe: '/a b'\n",
         "t.yaml:3:20: service.readiness_probe '/a b' has a blank, control or "
         "non-ASCII character (percent-encode it, e.g. %20 for a space)"},
        {"run: x\nservice:\n  readiness_probe: /caf\xc3\xa9\n",
         "t.yaml:3:20: service.readiness_probe '/caf\xc3\xa9' has a blank, control or "
         "non-ASCII character"},
        {"run: x\nservice:\n  readiness_probe: [/a]\n",
         "t.yaml:3:20: service.readiness_probe must be a path (/health) or a mapping"},
        {"run: x\nservice:\n  readiness_probe:\n    timeout_seconds: 5\n",
         "t.yaml:4:5: service.readiness_probe has no path (add path: /health"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n"
         "    initial_delay_second: 5\n",
         "t.yaml:5:5: unknown key 'initial_delay_second' in service.readiness_probe "
         "(did you mean 'initial_delay_seconds'?)"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n    timeout_seconds: 0\n",
         "t.yaml:5:22: service.readiness_probe.timeout_seconds must be more than 0"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n    timeout_seconds: -1\n",
         "t.yaml:5:22: service.readiness_probe.timeout_seconds must be between 0 and "
         "3600, not -1"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n"
         "    initial_delay_seconds: soon\n",
         "t.yaml:5:28: service.readiness_probe.initial_delay_seconds must be a number, "
         "not 'soon'"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n"
         "    post_data: '{\"a\": }'\n",
         "t.yaml:5:16: service.readiness_probe.post_data is text but not JSON ("},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n    headers: [a]\n",
         "t.yaml:5:14: service.readiness_probe.headers must be a mapping, not a list"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n    headers: {'X A': b}\n",
         "t.yaml:5:15: service.readiness_probe.headers: 'X A' is not a header name"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n"
         "    headers: {X-A: \"b\\r\\nEvil: 1\"}\n",
         "t.yaml:5:20: service.readiness_probe.headers.X-A must be one line"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n"
         "    headers: {X-A: b, x-a: c}\n",
         "t.yaml:5:23: service.readiness_probe.headers: 'x-a' is given twice (header "
         "names ignore case)"},
        {"run: x\nservice:\n  readiness_probe:\n    path: /h\n    headers: {X-A: [b]}\n",
         "t.yaml:5:20: service.readiness_probe.headers.X-A must be a single value, not "
         "a list"},
        {"run: x\nservice:\n  replicas: 2\n  replica_policy: {min_replicas: 1}\n",
         "t.yaml:4:19: service has both replicas and replica_policy (keep one: "
         "replicas: N for a fixed count, replica_policy for autoscaling)"},
        {"run: x\nservice:\n  replica_policy: {min_replicas: 1}\n  replicas: 2\n",
         "t.yaml:4:13: service has both replicas and replica_policy"},
        {"run: x\nservice:\n  replicas: 0\n",
         "t.yaml:3:13: service.replicas must be at least 1 (to scale to zero, use "
         "replica_policy: {min_replicas: 0, max_replicas: N, target_qps_per_replica: "
         "Q})"},
        {"run: x\nservice:\n  replicas: 1001\n",
         "t.yaml:3:13: service.replicas must be a whole number from 0 to 1000, not "
         "'1001'"},
        {"run: x\nservice:\n  replicas: two\n",
         "t.yaml:3:13: service.replicas must be a whole number from 0 to 1000, not "
         "'two'"},
        {"run: x\nservice:\n  replica_policy: 3\n",
         "t.yaml:3:19: service.replica_policy must be a mapping, not a single value"},
        {"run: x\nservice:\n  replica_policy:\n    max_replicas: 3\n",
         "t.yaml:4:5: service.replica_policy has no min_replicas (add min_replicas: "
         "the fewest replicas to keep, 0 to allow scaling to zero)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replica: 3\n",
         "t.yaml:5:5: unknown key 'max_replica' in service.replica_policy (did you "
         "mean 'max_replicas'?)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: -1\n",
         "t.yaml:4:19: service.replica_policy.min_replicas must be a whole number from "
         "0 to 1000, not '-1'"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 3\n"
         "    max_replicas: 2\n    target_qps_per_replica: 1\n",
         "t.yaml:5:19: service.replica_policy.max_replicas (2) is less than "
         "min_replicas (3)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 0\n",
         "t.yaml:4:5: service.replica_policy allows no replica at all (set "
         "max_replicas to 1 or more; min_replicas: 0 already lets the service scale to "
         "zero)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 0\n"
         "    max_replicas: 0\n",
         "t.yaml:5:19: service.replica_policy allows no replica at all"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    target_qps_per_replica: 2\n",
         "t.yaml:4:5: service.replica_policy sets target_qps_per_replica but no "
         "max_replicas (add max_replicas: the most replicas autoscaling may start)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replicas: 2\n    target_qps_per_replica: 0\n",
         "t.yaml:6:29: service.replica_policy.target_qps_per_replica must be more than "
         "0 (requests per second one replica serves)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replicas: 2\n    target_qps_per_replica: {}\n",
         "t.yaml:6:29: service.replica_policy.target_qps_per_replica must be a number "
         "or a mapping of accelerators to numbers ({H100: 10, L4: 2}), not an empty "
         "mapping"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replicas: 2\n    target_qps_per_replica: {'H 100': 1}\n",
         "t.yaml:6:30: service.replica_policy.target_qps_per_replica: 'H 100' is not "
         "an accelerator (write e.g. H100: 10 or 'H100:1': 10)"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replicas: 2\n    target_qps_per_replica: {H100: 1, 'h100:1': 2}\n",
         "t.yaml:6:39: service.replica_policy.target_qps_per_replica: h100 is given "
         "twice"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    max_replicas: 2\n    target_qps_per_replica: {H100: fast}\n",
         "t.yaml:6:36: service.replica_policy.target_qps_per_replica.H100 must be a "
         "number, not 'fast'"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    dynamic_ondemand_fallback: maybe\n",
         "t.yaml:5:32: service.replica_policy.dynamic_ondemand_fallback must be true "
         "or false, not 'maybe'"},
        {"run: x\nservice:\n  replica_policy:\n    min_replicas: 1\n"
         "    upscale_delay_seconds: -5\n",
         "t.yaml:5:28: service.replica_policy.upscale_delay_seconds must be between 0 "
         "and"},
        {"run: x\nservice:\n  load_balancing_policy: least_loaded\n",
         "t.yaml:3:26: service.load_balancing_policy 'least_loaded' is not a policy "
         "(did you mean 'least_load'?)"},
        {"run: x\nservice:\n  load_balancing_policy: random\n",
         "t.yaml:3:26: service.load_balancing_policy 'random' is not a policy "
         "(nearest, least_load, round_robin or instance_aware_least_load)"},
        {"run: x\nservice:\n  ports: 0\n",
         "t.yaml:3:10: service.ports must be a whole number from 1 to 65535, not '0'"},
        {"run: x\nservice:\n  ports: [8080]\n",
         "t.yaml:3:10: service.ports must be a single value, not a list"},
        {"run: x\nservice:\n  tls: {keyfile: k}\n",
         "t.yaml:3:8: service.tls needs both keyfile and certfile"},
        {"run: x\nservice:\n  tls: {keyfile: k, certfile: c, ca: d}\n",
         "t.yaml:3:34: unknown key 'ca' in service.tls"},
        {"run: x\nstratus:\n  service: {latency_slo_ms: 100}\n",
         "t.yaml:3:12: stratus.service configures a service, but the spec has no "
         "'service:' section (add one, e.g. service: {readiness_probe: /health})"},
        {"run: x\nservice: {}\nstratus:\n  service: {user: {a/b: 1}}\n",
         "t.yaml:4:13: unknown key 'user' in stratus.service (did you mean 'users'?)"},
        {"run: x\nservice:\n  readiness_probe: /\n  users: {a/b: 1}\n",
         "t.yaml:4:3: 'users' belongs under 'stratus: service', not 'service' "
         "(stratus: service: {users: ...})"},
        {"run: x\nservice: {}\nstratus:\n  service: {replicas: 2}\n",
         "t.yaml:4:13: 'replicas' belongs under 'service', not 'stratus: service' "
         "(service: {replicas: ...})"},
        {"run: x\nservice: {}\nstratus:\n  service: [1]\n",
         "t.yaml:4:12: stratus.service must be a mapping, not a list"},
        {"run: x\nservice: {}\nstratus:\n  service:\n"
         "    users: {azure/eastus: 0.5, gcp/us-east1: 0.3}\n",
         "t.yaml:5:12: stratus.service.users shares sum to 0.8; they are the fractions "
         "of the traffic from each region and must sum to 1"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {eastus: 1}\n",
         "t.yaml:5:13: stratus.service.users: 'eastus' is not a cloud region (write it "
         "as cloud/region, e.g. 'azure/eastus': 0.5)"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {azure/eastus/1: 1}\n",
         "t.yaml:5:13: stratus.service.users: 'azure/eastus/1' is not a cloud region"},
        {"run: x\nservice: {}\nstratus:\n  service:\n"
         "    users: {azure/eastus: 0.5, Azure/EastUS: 0.5}\n",
         "t.yaml:5:32: stratus.service.users: azure/EastUS is given twice"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {azure/eastus: 1.5}\n",
         "t.yaml:5:27: stratus.service.users.azure/eastus must be a share of the "
         "traffic: a fraction in (0, 1] or a percentage such as 40%, not '1.5'"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {azure/eastus: 0}\n",
         "t.yaml:5:27: stratus.service.users.azure/eastus must be a share of the "
         "traffic"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {azure/eastus: 150%}\n",
         "t.yaml:5:27: stratus.service.users.azure/eastus must be more than 0% and at "
         "most 100%"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    users: {}\n",
         "t.yaml:5:12: stratus.service.users must list 1 to 256 regions, not 0"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    latency_slo_ms: 0\n",
         "t.yaml:5:21: stratus.service.latency_slo_ms must be more than 0 (leave it "
         "out for no objective)"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    spot_overprovision: -1\n",
         "t.yaml:5:25: stratus.service.spot_overprovision must be a whole number from "
         "0 to 1000, not '-1'"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    when_scaled_to_zero: rejct\n",
         "t.yaml:5:26: stratus.service.when_scaled_to_zero must be wait or reject, not "
         "'rejct' (did you mean 'reject'?)"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    when_scaled_to_zero: drop\n",
         "t.yaml:5:26: stratus.service.when_scaled_to_zero must be wait (hold requests "
         "until a replica is ready) or reject (answer 503 with Retry-After), not 'drop'"},
        {"run: x\nservice: {}\nstratus:\n  service:\n    max_wait_seconds: 7200\n",
         "t.yaml:5:23: stratus.service.max_wait_seconds must be between 0 and 3600, "
         "not 7200"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *msg = load_err(cases[i].yaml);

        if (strncmp(msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("for:\n%s\n got: %s\nwant: %s", cases[i].yaml, msg, cases[i].msg);
    }
}

/* ------------------------------------------------------------------------ */
/* Warnings                                                                  */

static void test_warnings(void **state)
{
    struct spec *s;

    (void)state;
    s = load_ok(
        "run: x\nservice:\n  replica_policy: {min_replicas: 1, max_replicas: 3}\n");
    assert_true(has_warning(s, "t.yaml:3:19: warning: service.replica_policy has no "
                               "target_qps_per_replica: the replica count is not scaled "
                               "on request rate between min_replicas (1) and "
                               "max_replicas (3)"));
    assert_int_equal(svc_of(s)->ntarget_qps, 0);
    spec_free(s);

    s = load_ok("run: x\nservice:\n  tls: {keyfile: k.pem, certfile: c.pem}\n");
    assert_true(has_warning(s, "t.yaml:3:8: warning: service.tls is not honoured yet"));
    spec_free(s);

    /* Warnings come in file order, the service's own among the others. */
    s = load_ok("service:\n  tls: {keyfile: k, certfile: c}\nrun: x\nvolumes: {}\n");
    assert_int_equal(s->nwarnings, 2);
    assert_non_null(strstr(s->warnings[0], "t.yaml:2:8: warning: service.tls"));
    assert_non_null(strstr(s->warnings[1], "t.yaml:4:1: warning: volumes"));
    spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skypilot_service_files),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_probe_forms),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_replica_policies),
        cmocka_unit_test(test_lb_policies),
        cmocka_unit_test(test_target_qps_lookup),
        cmocka_unit_test(test_stratus_fields),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_warnings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
