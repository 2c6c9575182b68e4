/*
 * test_slurm.c - the slurm driver's parts that need no cluster: the clusters
 * file and its errors; the parsers of slurmrestd's answers; how Slurm job
 * states become driver events (a table); attempt records across a restart;
 * and the submission - its JSON round-trips every hostile value exactly,
 * and its batch script, run here with stand-ins for srun and scontrol, runs
 * the job's text and nothing else; and, against a stand-in slurmrestd on
 * loopback, what the driver asks a cluster for.  The real clusters are in
 * tests/cli/test_slurm.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "driver/slurm_int.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/xmem.h"

#include "testutil.h"

static struct catalog *cat;

static const char good_conf[] = "poll_interval: 0.5s\n"
                                "pending_timeout: 2m\n"
                                "clusters:\n"
                                "  - name: azure-eastus\n"
                                "    cloud: azure\n"
                                "    region: eastus\n"
                                "    instance_type: Standard_ND96isr_H100_v5\n"
                                "    partition: gpu\n"
                                "    url: http://127.0.0.1:16801/\n"
                                "    user: root\n"
                                "    token_file: tokens/az\n"
                                "  - name: oci-ashburn\n"
                                "    cloud: oci\n"
                                "    region: us-ashburn-1\n"
                                "    zone: US-ASHBURN-AD-1\n"
                                "    instance_type: BM.GPU.H100.8\n"
                                "    url: https://slurm.example.com:6820\n"
                                "    user: alice\n"
                                "    token_env: OCI_JWT\n"
                                "    workdir: /shared/stratus\n"
                                "    gpus_per_node: 0\n"
                                "    pending_timeout: 30s\n"
                                "    queue: 0\n";

/* Load conf text from a fresh directory; 0 or the error code (msg in e). */
static int load_conf(const char *text, struct slurm_conf *c, struct err *e, char **dir)
{
    char *path;
    int rc;

    *dir = tu_mkdtemp();
    tu_write(*dir, "clusters.yaml", text);
    path = xasprintf("%s/clusters.yaml", *dir);
    err_clear(e);
    rc = slurm_conf_load(c, path, cat, "/default/work", e);
    free(path);
    return rc;
}

static void rm_dir(char *dir)
{
    struct err e;

    fs_remove_tree(dir, &e);
    free(dir);
}

/* ---- the clusters file ------------------------------------------------------ */

static void test_conf_good(void **state)
{
    struct slurm_conf c;
    struct err e;
    char *dir, *tok;
    const struct slurm_cluster *az, *oci;

    (void)state;
    assert_int_equal(load_conf(good_conf, &c, &e, &dir), 0);
    assert_int_equal(c.n, 2);
    assert_true(c.poll_interval == 0.5);
    az = slurm_conf_find(&c, "azure", "eastus", "", "Standard_ND96isr_H100_v5");
    oci = slurm_conf_find(&c, "oci", "us-ashburn-1", "US-ASHBURN-AD-1", "BM.GPU.H100.8");
    assert_non_null(az);
    assert_non_null(oci);
    assert_ptr_equal(slurm_conf_named(&c, "oci-ashburn"), oci);
    assert_null(
        slurm_conf_find(&c, "gcp", "us-central1", "us-central1-a", "a3-highgpu-8g"));
    assert_string_equal(az->url, "http://127.0.0.1:16801"); /* trailing '/' dropped */
    tok = xasprintf("%s/tokens/az", dir);                   /* beside the file */
    assert_string_equal(az->token_file, tok);
    assert_string_equal(az->workdir, "/default/work");
    assert_int_equal(az->gpus, -1);
    assert_true(az->pending_timeout == 120);
    assert_string_equal(oci->token_env, "OCI_JWT");
    assert_string_equal(oci->workdir, "/shared/stratus");
    assert_int_equal(oci->gpus, 0);
    assert_true(oci->pending_timeout == 30);
    assert_int_equal(az->queue, SLURM_DEFAULT_QUEUE);
    assert_int_equal(oci->queue, 0);
    assert_null(oci->partition);
    free(tok);
    slurm_conf_free(&c);
    rm_dir(dir);
}

/* Each case: a change to good_conf (from -> to) and what the error must say. */
static void test_conf_errors(void **state)
{
    static const struct {
        const char *from, *to, *want;
    } cases[] = {
        {"    partition: gpu\n", "    partitoin: gpu\n",
         "clusters.yaml:8:5: unknown key 'partitoin' in a cluster (did you mean "
         "'partition'?)"},
        {"    url: http://127.0.0.1:16801/\n", "    url: ftp://x\n",
         "url must start with http:// or https://"},
        {"    url: http://127.0.0.1:16801/\n", "", "cluster without url"},
        {"  - name: oci-ashburn\n", "  - name: azure-eastus\n",
         "two clusters are named azure-eastus"},
        {"    cloud: oci\n    region: us-ashburn-1\n    zone: US-ASHBURN-AD-1\n"
         "    instance_type: BM.GPU.H100.8\n",
         "    cloud: azure\n    region: eastus\n    instance_type: "
         "Standard_ND96isr_H100_v5\n",
         "the same offer as cluster azure-eastus"},
        {"    region: eastus\n", "    region: eastus9\n",
         "no offer Standard_ND96isr_H100_v5 at azure/eastus9 in the catalog"},
        {"    token_env: OCI_JWT\n", "    token_env: OCI_JWT\n    token_file: /x\n",
         "exactly one of token_file and token_env"},
        {"    workdir: /shared/stratus\n", "    workdir: shared\n",
         "workdir must be an absolute path"},
        {"  - name: azure-eastus\n", "  - name: \"azure eastus\"\n",
         "use letters, digits, '.', '_' and '-'"},
        {"    user: root\n", "    user: \"ro ot\"\n", "cannot hold spaces"},
        {"    gpus_per_node: 0\n", "    gpus_per_node: many\n", "gpus_per_node"},
        {"clusters:\n", "clustres:\n", "unknown key 'clustres'"},
        {"    queue: 0\n", "    queue: -1\n", "queue"},
        {"clusters:\n", "queue: lots\nclusters:\n", "queue"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *at = strstr(good_conf, cases[i].from);
        struct slurm_conf c;
        struct err e;
        char *text, *dir;

        assert_non_null(at);
        text = xasprintf("%.*s%s%s", (int)(at - good_conf), good_conf, cases[i].to,
                         at + strlen(cases[i].from));
        if (load_conf(text, &c, &e, &dir) == 0)
            fail_msg("case %zu: loaded, expected '%s'", i, cases[i].want);
        if (strstr(e.msg, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, e.msg, cases[i].want);
        free(text);
        rm_dir(dir);
    }
}

/* ---- the parsers ----------------------------------------------------------------- */

static const char jobs_json[] =
    "{\"meta\": {}, \"errors\": [], \"jobs\": ["
    "{\"job_id\": 100007, \"name\": \"stratus-ab12-7\", \"job_state\": \"FAILED\","
    " \"state_reason\": \"NonZeroExitCode\", \"exit_code\": 768, \"start_time\": 50,"
    " \"end_time\": 60, \"nodes\": \"az[1-2]\"},"
    "{\"job_id\": 100003, \"name\": \"stratus-ab12-3\", \"job_state\": \"RUNNING\","
    " \"exit_code\": 0, \"start_time\": 40, \"end_time\": 99999, \"nodes\": \"az3\"},"
    "{\"job_id\": 100004, \"name\": \"someone-else\", \"job_state\": \"RUNNING\"},"
    "{\"job_id\": 100005, \"name\": \"stratus-ffff-3\", \"job_state\": \"RUNNING\"},"
    "{\"job_id\": 100006, \"name\": \"stratus-ab12-3x\", \"job_state\": \"RUNNING\"},"
    "{\"job_id\": \"x\", \"name\": \"stratus-ab12-9\"},"
    "{\"job_id\": 100008, \"name\": \"stratus-ab12-8\", \"job_state\": \"WEIRD\","
    " \"exit_code\": null}"
    "]}";

static void test_parse_jobs(void **state)
{
    struct sjob_list l = {0};
    const struct sjob *j;
    struct err e;

    (void)state;
    assert_int_equal(
        slurm_parse_jobs(jobs_json, strlen(jobs_json), "stratus-ab12-", &l, &e), 0);
    assert_int_equal(l.n, 3); /* foreign names, other instances and bad ids are dropped */
    assert_int_equal(l.v[0].attempt_id, 3);
    assert_int_equal(l.v[1].attempt_id, 7);
    j = sjob_find(&l, 7);
    assert_non_null(j);
    assert_int_equal(j->job_id, 100007);
    assert_int_equal(j->state, SJ_FAILED);
    assert_int_equal(j->status, 768);
    assert_string_equal(j->nodes, "az[1-2]");
    assert_string_equal(j->reason, "NonZeroExitCode");
    assert_true(j->start == 50 && j->end == 60);
    j = sjob_find(&l, 8);
    assert_int_equal(j->state, SJ_UNKNOWN);
    assert_int_equal(j->status, -1);
    assert_null(sjob_find(&l, 4));
    assert_int_not_equal(slurm_parse_jobs("{\"jobs\": 3}", 11, "s-", &l, &e), 0);
    assert_int_not_equal(slurm_parse_jobs("[", 1, "s-", &l, &e), 0);
    sjob_list_free(&l);
}

static void test_parse_nodes_and_submit(void **state)
{
    static const char nodes[] =
        "{\"nodes\": ["
        "{\"name\": \"n1\", \"state\": \"idle\", \"state_flags\": [], \"partitions\": "
        "[\"gpu\"]},"
        "{\"name\": \"n2\", \"state\": \"idle\", \"state_flags\": [\"DRAIN\"], "
        "\"partitions\": [\"gpu\"]},"
        "{\"name\": \"n3\", \"state\": \"allocated\", \"state_flags\": [], "
        "\"partitions\": [\"gpu\"]},"
        "{\"name\": \"n4\", \"state\": \"down\", \"state_flags\": [], \"partitions\": "
        "[\"gpu\"]},"
        "{\"name\": \"n5\", \"state\": \"idle\", \"state_flags\": [\"NOT_RESPONDING\"], "
        "\"partitions\": [\"gpu\"]},"
        "{\"name\": \"n6\", \"state\": \"idle\", \"state_flags\": [\"CLOUD\"], "
        "\"partitions\": [\"gpu\", \"x\"]},"
        "{\"name\": \"n7\", \"state\": \"idle\", \"partitions\": [\"cpu\"]},"
        "{\"name\": \"n8\", \"state\": \"mixed\", \"partitions\": [\"gpu\"]}]}";
    static const char ok_reply[] = "{\"errors\": [], \"job_id\": 42}";
    static const char no_reply[] =
        "{\"errors\": [{\"error\": \"Requested node configuration "
        "is not available\", \"error_number\": 2014}]}";
    struct err e;
    int64_t id = 0;
    long idle = -1;

    (void)state;
    assert_int_equal(slurm_parse_idle(nodes, strlen(nodes), "gpu", &idle, &e), 0);
    assert_int_equal(idle, 2); /* n1, n6 */
    assert_int_equal(slurm_parse_idle(nodes, strlen(nodes), NULL, &idle, &e), 0);
    assert_int_equal(idle, 3); /* and n7 */
    assert_int_equal(slurm_parse_submit(ok_reply, strlen(ok_reply), &id, &e), 0);
    assert_int_equal(id, 42);
    assert_int_equal(slurm_parse_submit(no_reply, strlen(no_reply), &id, &e),
                     ST_ECAPACITY);
    assert_non_null(strstr(e.msg, "Requested node configuration is not available"));
    assert_int_equal(slurm_parse_submit("<html>", 6, &id, &e), ST_EIO);
}

/* ---- Slurm states -> events ------------------------------------------------------ */

static struct satt *att(int nodes, int terminated)
{
    static struct slurm_cluster cl = {.name = "c1", .pending_timeout = 10};
    struct satt *a = xcalloc(1, sizeof(*a));

    a->id = 5;
    a->cluster = xstrdup("c1");
    a->cl = &cl;
    a->job_id = 900;
    a->nodes = nodes;
    a->submitted_at = 1000;
    a->dir = xstrdup("/d");
    a->phase = SA_SUBMITTED;
    a->terminated = terminated != 0;
    return a;
}

static struct sjob job(const char *state, int status, const char *nodes)
{
    struct sjob j;

    memset(&j, 0, sizeof(j));
    j.job_id = 900;
    j.attempt_id = 5;
    snprintf(j.state_name, sizeof(j.state_name), "%s", state);
    j.state = slurm_state_parse(state);
    j.status = status;
    j.start = 1001;
    j.end = 1005;
    snprintf(j.nodes, sizeof(j.nodes), "%s", nodes);
    return j;
}

static void test_states(void **state)
{
    static const struct {
        const char *state;
        int status, terminated;
        const char *nodes;
        int running;    /* RUNNING events expected first */
        int type, code; /* then this per node; type -1: nothing */
        int action;
    } cases[] = {
        {"PENDING", 0, 0, "", 0, -1, 0, SACT_NONE},
        {"RUNNING", 0, 0, "n[1-2]", 1, -1, 0, SACT_NONE},
        {"COMPLETING", 0, 0, "n[1-2]", 1, -1, 0, SACT_NONE},
        {"COMPLETED", 0, 0, "n[1-2]", 1, DRV_EV_EXITED, 0, SACT_NONE},
        {"FAILED", 3 << 8, 0, "n[1-2]", 1, DRV_EV_EXITED, 3, SACT_NONE},
        {"FAILED", 9, 0, "n[1-2]", 1, DRV_EV_EXITED, 128 + 9, SACT_NONE},
        {"FAILED", 0, 0, "n1", 1, DRV_EV_EXITED, 1, SACT_NONE},
        {"TIMEOUT", 0, 0, "n[1-2]", 1, DRV_EV_EXITED, 128 + SIGTERM, SACT_NONE},
        {"OUT_OF_MEMORY", 0, 0, "n[1-2]", 1, DRV_EV_EXITED, 1, SACT_NONE},
        {"CANCELLED", 0, 0, "n[1-2]", 1, DRV_EV_EXITED, 128 + SIGTERM, SACT_NONE},
        {"CANCELLED", 0, 0, "", 0, DRV_EV_EXITED, 128 + SIGTERM, SACT_NONE},
        {"CANCELLED", 0, 1, "n[1-2]", 1, DRV_EV_EXITED, 128 + SIGTERM, SACT_NONE},
        {"NODE_FAIL", 0, 0, "n[1-2]", 1, DRV_EV_PREEMPTED, -1, SACT_NONE},
        {"BOOT_FAIL", 0, 0, "", 0, DRV_EV_PREEMPTED, -1, SACT_NONE},
        {"PREEMPTED", 0, 0, "n[1-2]", 1, DRV_EV_PREEMPTED, -1, SACT_CANCEL},
        {"REQUEUED", 0, 0, "n[1-2]", 1, DRV_EV_PREEMPTED, -1, SACT_CANCEL},
        {"NODE_FAIL", 0, 1, "n[1-2]", 1, DRV_EV_EXITED, 128 + SIGTERM, SACT_NONE},
        {"RUNNING", 0, 1, "n[1-2]", 1, -1, 0, SACT_CANCEL},
        {"WHATEVER", 0, 0, "n[1-2]", 0, -1, 0, SACT_NONE},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct satt *a = att(2, cases[i].terminated);
        struct sjob j = job(cases[i].state, cases[i].status, cases[i].nodes);
        struct driver_event ev[8];
        int changed, ended, action = (int)satt_update(a, &j, 1002, &changed);
        size_t n = satt_events(a, ev, 8, &ended), k = 0;

        if (action != cases[i].action)
            fail_msg("case %zu (%s): action %d, expected %d", i, cases[i].state, action,
                     cases[i].action);
        if (cases[i].running) {
            assert_true(n >= 2);
            assert_int_equal(ev[0].type, DRV_EV_RUNNING);
            assert_int_equal(ev[1].type, DRV_EV_RUNNING);
            assert_int_equal(ev[1].node, 1);
            assert_true(ev[0].at == 1001);
            k = 2;
        }
        if (cases[i].type < 0) {
            assert_int_equal(n, k);
            assert_false(ended);
        } else {
            if (n != k + 2 || (int)ev[k].type != cases[i].type ||
                ev[k].exit_code != cases[i].code || ev[k + 1].node != 1 || !ended)
                fail_msg("case %zu (%s): %zu events, type %d code %d", i, cases[i].state,
                         n, n > k ? (int)ev[k].type : -1, n > k ? ev[k].exit_code : 0);
            assert_true(ev[k].at == 1005);
            assert_int_equal(satt_events(a, ev, 8, &ended), 0); /* said once */
        }
        satt_free(a);
    }
}

static void test_pending_and_lost(void **state)
{
    struct satt *a = att(2, 0);
    struct sjob j = job("PENDING", 0, "");
    struct driver_event ev[4];
    int changed, ended;

    (void)state;
    assert_int_equal(satt_update(a, &j, 1005, &changed), SACT_NONE); /* 5 s < 10 s */
    assert_int_equal(satt_update(a, &j, 1011, &changed), SACT_CANCEL);
    assert_true(changed);
    assert_int_equal(a->phase, SA_REFUSED);
    assert_int_equal(satt_events(a, ev, 4, &ended), 1);
    assert_int_equal(ev[0].type, DRV_EV_CAPACITY);
    assert_int_equal(ev[0].node, -1);
    assert_non_null(strstr(ev[0].msg, "pending 11 s on c1"));
    assert_true(a->cleanup); /* until the list shows the cancel */
    j = job("CANCELLED", 0, "");
    assert_int_equal(satt_update(a, &j, 1012, &changed), SACT_NONE);
    assert_false(a->cleanup);
    satt_free(a);

    a = att(1, 0); /* the list no longer shows the job */
    assert_int_equal(satt_update(a, NULL, 1002, &changed), SACT_LOOKUP);
    satt_lost(a, 1003);
    assert_int_equal(satt_events(a, ev, 4, &ended), 1);
    assert_int_equal(ev[0].type, DRV_EV_PREEMPTED);
    satt_free(a);

    a = att(1, 0); /* a record left SUBMITTING: adopted, or given up */
    a->phase = SA_SUBMITTING;
    a->job_id = 0;
    j = job("RUNNING", 0, "n1");
    assert_int_equal(satt_update(a, NULL, 1010, &changed), SACT_NONE);
    assert_int_equal(a->phase, SA_SUBMITTING);
    assert_int_equal(satt_update(a, &j, 1011, &changed), SACT_NONE);
    assert_int_equal(a->phase, SA_SUBMITTED);
    assert_int_equal(a->job_id, 900);
    a->phase = SA_SUBMITTING;
    assert_int_equal(satt_update(a, NULL, 1000 + SLURM_SUBMIT_GRACE + 1, &changed),
                     SACT_NONE);
    assert_int_equal(a->phase, SA_REFUSED);
    satt_free(a);
}

/* ---- records ----------------------------------------------------------------------- */

static void test_records(void **state)
{
    char *root = tu_mkdtemp();
    struct slurm_conf conf = {0};
    struct slurm_cluster cl = {.name = "c1"};
    struct satt_list l = {0};
    struct satt *a = att(3, 1), *b;
    struct sjob j = job("NODE_FAIL", 0, "n[1-3]");
    struct err e;
    int changed;

    (void)state;
    conf.c = &cl;
    conf.n = 1;
    satt_update(a, &j, 1002, &changed);
    assert_int_equal(satt_save(root, a, &e), 0);
    assert_int_equal(satt_load_all(root, &conf, &l, &e), 0);
    assert_int_equal(l.n, 1);
    b = l.v[0];
    assert_int_equal(b->id, 5);
    assert_int_equal(b->job_id, 900);
    assert_int_equal(b->nodes, 3);
    assert_int_equal(b->phase, SA_ENDED);
    assert_true(b->terminated);
    assert_ptr_equal(b->cl, &cl);
    assert_int_equal(b->end.type, a->end.type);
    assert_int_equal(b->end.exit_code, a->end.exit_code);
    assert_string_equal(b->end.msg, a->end.msg);
    assert_true(b->started_at == 1001 && b->end.at == 1005);
    assert_true(satt_known(root, 5));
    assert_false(satt_known(root, 6));
    assert_int_equal(satt_retire(root, b, &e), 0);
    assert_true(satt_known(root, 5)); /* done, still known: launch stays a no-op */
    satt_free(b);
    free(l.v);
    memset(&l, 0, sizeof(l));
    assert_int_equal(satt_load_all(root, &conf, &l, &e), 0);
    assert_int_equal(l.n, 0);
    satt_free(a);
    rm_dir(root);
}

/* ---- the submission ---------------------------------------------------------------- */

static const char hostile[] =
    "x\"; $(touch PWNED) `touch PWNED` ' \\ %n %j {\"a\": 1}\n"
    "'\"}, \"script\": \"#!/bin/sh\\ntouch PWNED\"\nSTRATUS_NODE_PROGRAM\n";

static void test_body_roundtrip(void **state)
{
    static struct slurm_cluster cl = {.name = "c1", .gpus = -1, .partition = "gpu"};
    struct driver_env envs[] = {{"A", hostile, 0},
                                {"STRATUS_NODE_RANK", "7", 0},
                                {"B", "", 0},
                                {"HF_TOKEN", "s3cr3t-v4lue", 1}};
    struct attempt a = {.id = 12,
                        .job_id = 3,
                        .n = 2,
                        .job_name = hostile,
                        .cloud = "azure",
                        .region = "eastus",
                        .zone = "",
                        .instance_type = "ND",
                        .acc_count = 8,
                        .nodes = 2,
                        .run = hostile,
                        .envs = envs,
                        .nenvs = 4,
                        .ckpt_dir = "/ck"};
    json_t *root, *job, *env;
    json_error_t je;
    char *body;
    struct err e;
    const char *script;

    (void)state;
    assert_int_equal(slurm_job_body(&a, &cl, "stratus-ab-12", "/w/att-12", &body, &e), 0);
    root = json_loads(body, 0, &je);
    assert_non_null(root);
    job = json_object_get(root, "job");
    env = json_object_get(job, "environment");
    assert_string_equal(json_string_value(json_object_get(env, "A")), hostile);
    assert_string_equal(json_string_value(json_object_get(env, "B")), "");
    /* a secret: in the job's environment, and nowhere else of the request */
    assert_string_equal(json_string_value(json_object_get(env, "HF_TOKEN")),
                        "s3cr3t-v4lue");
    assert_non_null(strstr(body, "s3cr3t-v4lue"));
    assert_null(strstr(strstr(body, "s3cr3t-v4lue") + 1, "s3cr3t-v4lue"));
    assert_null(json_object_get(env, "STRATUS_NODE_RANK")); /* the driver's own */
    assert_string_equal(json_string_value(json_object_get(env, "STRATUS__DIR")),
                        "/w/att-12");
    assert_string_equal(json_string_value(json_object_get(env, "STRATUS_CHECKPOINT_DIR")),
                        "/ck");
    assert_string_equal(json_string_value(json_object_get(job, "name")), "stratus-ab-12");
    assert_string_equal(json_string_value(json_object_get(job, "gres")), "gpu:8");
    assert_string_equal(json_string_value(json_object_get(job, "partition")), "gpu");
    assert_true(json_is_true(json_object_get(job, "no_requeue")));
    assert_int_equal(json_integer_value(json_object_get(job, "nodes")), 2);
    assert_null(strchr(json_string_value(json_object_get(job, "comment")), '\n'));
    script = json_string_value(json_object_get(root, "script"));
    assert_null(strstr(script, "PWNED")); /* the run text is only base64 there */
    json_decref(root);
    free(body);

    envs[0].key = "BAD-NAME";
    assert_int_equal(slurm_job_body(&a, &cl, "n", "/w", &body, &e), ST_EINVAL);
    envs[0].key = "A";
    envs[0].value = "\xff\xfe";
    assert_int_equal(slurm_job_body(&a, &cl, "n", "/w", &body, &e), ST_EINVAL);
}

/* A stand-in for srun: run the command once per node with SLURM_PROCID set. */
static const char fake_srun[] =
    "#!/bin/bash\n"
    "n=1\n"
    "while [ $# -gt 0 ]; do case $1 in --ntasks=*) n=${1#--ntasks=}; shift;;"
    " --*) shift;; *) break;; esac; done\n"
    "for ((i = 0; i < n; i++)); do SLURM_PROCID=$i \"$@\" || exit $?; done\n";

/* Run the batch script of a in dir as Slurm would: with the job's
 * environment (from the JSON) and nothing else.  Returns its exit status. */
static int run_script(const struct attempt *a, const char *dir)
{
    static struct slurm_cluster cl = {.name = "c1", .gpus = -1};
    char *body, *bin = xasprintf("%s/bin", dir), *work = xasprintf("%s/att", dir), *sh;
    const char *k;
    json_t *root, *env, *v;
    json_error_t je;
    struct err e;
    pid_t pid;
    int st;

    assert_int_equal(slurm_job_body(a, &cl, "n", work, &body, &e), 0);
    root = json_loads(body, 0, &je);
    mkdir(bin, 0755);
    tu_write(bin, "srun", fake_srun);
    tu_write(bin, "scontrol", "#!/bin/sh\nexit 1\n");
    tu_write(dir, "batch.sh", json_string_value(json_object_get(root, "script")));
    sh = xasprintf("chmod +x %s/srun %s/scontrol", bin, bin);
    assert_int_equal(system(sh), 0);
    pid = fork();
    if (pid == 0) {
        clearenv();
        env = json_object_get(json_object_get(root, "job"), "environment");
        json_object_foreach(env, k, v) setenv(k, json_string_value(v), 1);
        setenv("PATH", xasprintf("%s:/usr/bin:/bin", bin), 1);
        setenv("SLURM_JOB_NODELIST", "n[1-2]", 1);
        if (chdir(dir) == 0)
            execl("/bin/bash", "bash", "batch.sh", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    json_decref(root);
    free(body);
    free(sh);
    free(bin);
    free(work);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_script_runs_text_only(void **state)
{
    char *dir = tu_mkdtemp(), *log0, *log1, *out = NULL, *pwned,
         *wd = xasprintf("%s/wd", dir);
    char *run = xasprintf("printf '<%%s>\\n' \"$A\"\n%s\necho \"rank $STRATUS_NODE_RANK "
                          "of $STRATUS_NUM_NODES in $(basename $(pwd)) gpus "
                          "$SKYPILOT_NUM_GPUS_PER_NODE file $(cat f)\"\n"
                          "cat <<'STRATUS_NODE_PROGRAM'\n'\nSTRATUS_NODE_PROGRAM\n",
                          hostile);
    struct driver_env envs[] = {{"A", hostile, 0}};
    struct attempt a = {.id = 12,
                        .job_id = 3,
                        .n = 1,
                        .job_name = hostile,
                        .cloud = "c",
                        .region = "r",
                        .instance_type = "t",
                        .acc_count = 8,
                        .nodes = 2,
                        .setup = "echo setup-ran",
                        .run = run,
                        .envs = envs,
                        .nenvs = 1,
                        .workdir = wd};
    struct err e;

    (void)state;
    mkdir(wd, 0755);
    tu_write(wd, "f", "copied");
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(run_script(&a, dir), 0);
    pwned = xasprintf("%s/PWNED", dir);
    assert_int_not_equal(access(pwned, F_OK), 0);
    log0 = xasprintf("%s/att/node-0/log", dir);
    log1 = xasprintf("%s/att/node-1/log", dir);
    assert_int_equal(fs_read_file(log0, 1 << 16, &out, NULL, &e), 0);
    assert_non_null(strstr(out, "setup-ran\n"));
    assert_non_null(
        strstr(out, "<x\"; $(touch PWNED) `touch PWNED` ' \\ %n %j {\"a\": 1}\n"));
    assert_non_null(
        strstr(out, "STRATUS_NODE_PROGRAM: command not found")); /* ran as text */
    free(out);
    /* run stops at the failing line only because bash -c runs on: use one that passes */
    a.run = "echo \"rank $STRATUS_NODE_RANK of $STRATUS_NUM_NODES in $(basename $(pwd)) "
            "file $(cat f) env ${STRATUS__RUN_B64:-gone}\"";
    assert_int_equal(run_script(&a, dir), 0);
    assert_int_equal(fs_read_file(log1, 1 << 16, &out, NULL, &e), 0);
    assert_non_null(strstr(out, "rank 1 of 2 in work file copied env gone"));
    assert_int_not_equal(access(pwned, F_OK), 0);
    free(out);
    assert_int_equal(chdir("/"), 0);
    free(pwned);
    free(log0);
    free(log1);
    free(run);
    free(wd);
    rm_dir(dir);
}

/* ---- what the driver asks a cluster for --------------------------------------------- */

/* A stand-in slurmrestd: one thread, one connection at a time, keep-alive.
 * It runs every job it is given at once (or, with pend, leaves it PENDING),
 * has idle_nodes idle nodes, and counts the requests by kind. */
#define FAKE_JOBS 64
struct fake {
    int lfd, port, stop;
    pthread_t th;
    pthread_mutex_t mu;
    int njobs;
    char names[FAKE_JOBS][64];
    char states[FAKE_JOBS][16];
    int list_gets, job_gets, node_gets, submits;
    int idle_nodes, pend;
};

static char *fake_job_json(struct fake *f, int k)
{
    return xasprintf("{\"job_id\": %d, \"name\": \"%s\", \"job_state\": \"%s\", "
                     "\"state_reason\": \"None\", \"exit_code\": 0, \"start_time\": 1000, "
                     "\"end_time\": 0, \"nodes\": \"n1\"}",
                     100 + k, f->names[k], f->states[k]);
}

/* The reply body to one request (the lock held). */
static char *fake_answer(struct fake *f, const char *method, const char *path,
                         const char *body)
{
    const char *api = "/slurm/v0.0.38";
    char *out, *one;
    int k;

    if (strncmp(path, api, strlen(api)) != 0)
        return xstrdup("{\"errors\": [{\"error\": \"no such path\"}]}");
    path += strlen(api);
    if (strcmp(method, "POST") == 0 && strcmp(path, "/job/submit") == 0) {
        json_t *root = json_loads(body, 0, NULL);
        const char *name = json_string_value(json_object_get(json_object_get(root, "job"), "name"));

        k = f->njobs++;
        snprintf(f->names[k], sizeof(f->names[k]), "%s", name ? name : "");
        snprintf(f->states[k], sizeof(f->states[k]), f->pend ? "PENDING" : "RUNNING");
        json_decref(root);
        f->submits++;
        return xasprintf("{\"job_id\": %d, \"errors\": []}", 100 + k);
    }
    if (strcmp(path, "/nodes") == 0) {
        f->node_gets++;
        out = xstrdup("{\"errors\": [], \"nodes\": [");
        for (k = 0; k < f->idle_nodes; k++) {
            one = out;
            out = xasprintf("%s%s{\"name\": \"n%d\", \"state\": \"idle\", "
                            "\"partitions\": [\"gpu\"], \"state_flags\": []}",
                            one, k ? ", " : "", k + 1);
            free(one);
        }
        one = out;
        out = xasprintf("%s]}", one);
        free(one);
        return out;
    }
    if (strncmp(path, "/job/", 5) == 0) {
        f->job_gets++;
        k = atoi(path + 5) - 100;
        if (k < 0 || k >= f->njobs)
            return xstrdup("{\"errors\": [{\"error_number\": 2017, \"error\": \"no job\"}]}");
        one = fake_job_json(f, k);
        out = xasprintf("{\"errors\": [], \"jobs\": [%s]}", one);
        free(one);
        return out;
    }
    f->list_gets++; /* /jobs */
    out = xstrdup("{\"errors\": [], \"jobs\": [");
    for (k = 0; k < f->njobs; k++) {
        char *prev = out;

        one = fake_job_json(f, k);
        out = xasprintf("%s%s%s", prev, k ? ", " : "", one);
        free(one);
        free(prev);
    }
    one = out;
    out = xasprintf("%s]}", one);
    free(one);
    return out;
}

/* Serve one request read from fd; -1 when the connection is over. */
static int fake_serve_one(struct fake *f, int fd)
{
    char req[65536], method[8], path[256], *hdr_end, *cl, *answer, *head;
    size_t len = 0, want;
    ssize_t n;

    req[0] = '\0';
    for (hdr_end = NULL; hdr_end == NULL; hdr_end = strstr(req, "\r\n\r\n")) {
        n = read(fd, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        req[len] = '\0';
    }
    cl = strstr(req, "Content-Length:"); /* as curl spells it */
    want = (size_t)(hdr_end + 4 - req) + (cl && cl < hdr_end ? (size_t)atol(cl + 15) : 0);
    while (len < want && len < sizeof(req) - 1) {
        n = read(fd, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        req[len] = '\0';
    }
    if (sscanf(req, "%7s %255s", method, path) != 2)
        return -1;
    pthread_mutex_lock(&f->mu);
    answer = fake_answer(f, method, path, hdr_end + 4);
    pthread_mutex_unlock(&f->mu);
    head = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     strlen(answer));
    n = write(fd, head, strlen(head));
    if (n >= 0)
        n = write(fd, answer, strlen(answer));
    free(head);
    free(answer);
    return n < 0 ? -1 : 0;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    while (!f->stop) {
        struct pollfd pf = {.fd = f->lfd, .events = POLLIN};
        int fd;

        if (poll(&pf, 1, 50) <= 0)
            continue;
        fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        while (!f->stop) {
            struct pollfd cf = {.fd = fd, .events = POLLIN};

            if (poll(&cf, 1, 50) == 0)
                continue;
            if (fake_serve_one(f, fd) != 0)
                break;
        }
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);

    memset(f, 0, sizeof(*f));
    f->idle_nodes = 1;
    pthread_mutex_init(&f->mu, NULL);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
    close(f->lfd);
    pthread_mutex_destroy(&f->mu);
}

static double manual_now(void *ctx)
{
    return *(double *)ctx;
}

/* Count events of a type among n. */
static int count_events(const struct driver_event *ev, int n, enum driver_event_type t)
{
    int i, k = 0;

    for (i = 0; i < n; i++)
        k += ev[i].type == t;
    return k;
}

/* A few jobs of ours on a cluster are followed one by one (GET job/{id}),
 * never through the job list, which holds every job the cluster remembers
 * and made each controller step wait for it; and a cluster is asked at most
 * once per poll interval, however often the driver is polled. */
static void test_few_jobs_looked_up_alone(void **state)
{
    char *dir = tu_mkdtemp(), *conf, *home = xasprintf("%s/home", dir), *path;
    double now = 1000;
    struct clock clk = {manual_now, &now};
    struct driver_config cfg = {0};
    struct driver_event ev[16];
    struct driver d = {0};
    struct fake f;
    struct err e;
    int i, n, asked;

    (void)state;
    fake_start(&f);
    tu_write(dir, "tok", "a-token\n");
    conf = xasprintf("poll_interval: 1s\nclusters:\n  - name: azure-eastus\n"
                     "    cloud: azure\n    region: eastus\n"
                     "    instance_type: Standard_ND96isr_H100_v5\n    partition: gpu\n"
                     "    url: http://127.0.0.1:%d\n    user: root\n    token_file: tok\n",
                     f.port);
    tu_write(dir, "clusters.yaml", conf);
    path = xasprintf("%s/clusters.yaml", dir);
    assert_int_equal(mkdir(home, 0700), 0);
    cfg.home = home;
    cfg.cat = cat;
    cfg.clock = &clk;
    cfg.config_path = path;
    err_clear(&e);
    assert_int_equal(driver_open(&d, &driver_slurm, &cfg, &e), 0);
    for (i = 1; i <= 3; i++) {
        struct attempt a = {.id = i, .job_id = i, .n = 1, .job_name = "j", .cloud = "azure",
                            .region = "eastus", .zone = "",
                            .instance_type = "Standard_ND96isr_H100_v5",
                            .accelerator = "H100", .acc_count = 8, .nodes = 1, .run = "true"};

        assert_int_equal(driver_launch(&d, &a, &e), 0);
    }
    assert_int_equal(f.submits, 3);
    now += 1.5;
    n = driver_poll(&d, ev, 16, &e);
    assert_int_equal(count_events(ev, n, DRV_EV_RUNNING), 3);
    asked = f.job_gets;
    assert_int_equal(asked, 3);
    for (i = 0; i < 5; i++) /* within the poll interval: no request */
        assert_int_equal(driver_poll(&d, ev, 16, &e), 0);
    assert_int_equal(f.job_gets, asked);
    pthread_mutex_lock(&f.mu);
    snprintf(f.states[1], sizeof(f.states[1]), "COMPLETED");
    pthread_mutex_unlock(&f.mu);
    now += 1.5;
    n = driver_poll(&d, ev, 16, &e);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, DRV_EV_EXITED);
    assert_int_equal(ev[0].attempt_id, 2);
    assert_int_equal(ev[0].exit_code, 0);
    assert_int_equal(f.job_gets, asked + 3);
    assert_int_equal(f.list_gets, 0);
    driver_close(&d);
    fake_stop(&f);
    free(conf);
    free(path);
    free(home);
    rm_dir(dir);
}

/* A 1-node job of the azure cluster for attempt id. */
static struct attempt azure_attempt(int64_t id)
{
    struct attempt a = {.id = id, .job_id = id, .n = 1, .job_name = "j", .cloud = "azure",
                        .region = "eastus", .zone = "",
                        .instance_type = "Standard_ND96isr_H100_v5",
                        .accelerator = "H100", .acc_count = 8, .nodes = 1, .run = "true"};

    return a;
}

static long az_room(struct driver *d, int queue, int spot)
{
    static const char *const o[] = {"azure", "eastus", "", "Standard_ND96isr_H100_v5"};

    return queue ? driver_queue_capacity(d, o[0], o[1], o[2], o[3], spot)
                 : driver_capacity(d, o[0], o[1], o[2], o[3], spot);
}

/* The queue allowance: beyond its idle nodes a cluster takes `queue` more
 * nodes of jobs that wait in its own queue, so Slurm starts the next job
 * the moment a node frees, without waiting for the controller to notice.
 * capacity() stays the idle nodes (free now, what the controller tries
 * first); queue_capacity() adds the allowance; both less our jobs that do
 * not run yet.  A cluster that does not answer has room for none. */
static void test_queue_allowance(void **state)
{
    char *dir = tu_mkdtemp(), *conf, *home = xasprintf("%s/home", dir), *path;
    double now = 1000;
    struct clock clk = {manual_now, &now};
    struct driver_config cfg = {0};
    struct driver_event ev[16];
    struct driver d = {0};
    struct fake f;
    struct err e;
    int i, n;

    (void)state;
    fake_start(&f);
    f.idle_nodes = 2;
    f.pend = 1;
    tu_write(dir, "tok", "a-token\n");
    conf = xasprintf("poll_interval: 0.5s\nqueue: 3\nclusters:\n  - name: azure-eastus\n"
                     "    cloud: azure\n    region: eastus\n"
                     "    instance_type: Standard_ND96isr_H100_v5\n    partition: gpu\n"
                     "    url: http://127.0.0.1:%d\n    user: root\n    token_file: tok\n"
                     "    queue: 2\n",
                     f.port);
    tu_write(dir, "clusters.yaml", conf);
    path = xasprintf("%s/clusters.yaml", dir);
    assert_int_equal(mkdir(home, 0700), 0);
    cfg.home = home;
    cfg.cat = cat;
    cfg.clock = &clk;
    cfg.config_path = path;
    err_clear(&e);
    assert_int_equal(driver_open(&d, &driver_slurm, &cfg, &e), 0);
    assert_int_equal(az_room(&d, 0, 0), 2); /* idle */
    assert_int_equal(az_room(&d, 1, 0), 4); /* idle + the cluster's queue: 2 */
    assert_int_equal(az_room(&d, 1, 1), 0); /* not a spot cluster */
    assert_int_equal(driver_queue_capacity(&d, "gcp", "us-central1", "us-central1-a",
                                           "a3-highgpu-8g", 0),
                     0);
    for (i = 1; i <= 3; i++) {
        struct attempt a = azure_attempt(i);

        assert_int_equal(driver_launch(&d, &a, &e), 0);
    }
    /* Three pending: two take the idle nodes, one a queue place. */
    assert_int_equal(az_room(&d, 0, 0), 0);
    assert_int_equal(az_room(&d, 1, 0), 1);
    {
        struct attempt a = azure_attempt(4);

        assert_int_equal(driver_launch(&d, &a, &e), 0);
    }
    assert_int_equal(az_room(&d, 1, 0), 0);
    assert_int_equal(f.submits, 4);
    assert_int_equal(f.node_gets, 1); /* a submission needs no new look at the nodes */
    /* Jobs waiting in the queue are asked for at most once a second (Slurm
     * starts them on its own); one that runs, at every poll. */
    now += 0.5;
    assert_int_equal(driver_poll(&d, ev, 16, &e), 0);
    assert_int_equal(f.job_gets, 0);
    pthread_mutex_lock(&f.mu);
    snprintf(f.states[0], sizeof(f.states[0]), "RUNNING");
    pthread_mutex_unlock(&f.mu);
    now += 0.5;
    n = driver_poll(&d, ev, 16, &e);
    assert_int_equal(count_events(ev, n, DRV_EV_RUNNING), 1);
    assert_int_equal(f.job_gets, 4);
    now += 0.5;
    assert_int_equal(driver_poll(&d, ev, 16, &e), 0);
    assert_int_equal(f.job_gets, 5); /* the running one */
    now += 0.5;
    assert_int_equal(driver_poll(&d, ev, 16, &e), 0);
    assert_int_equal(f.job_gets, 9);
    /* The cluster stops answering: no room at all, queue or not. */
    fake_stop(&f);
    now += 5;
    assert_int_equal(az_room(&d, 1, 0), 0);
    driver_close(&d);
    free(conf);
    free(path);
    free(home);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_good),
        cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_parse_jobs),
        cmocka_unit_test(test_parse_nodes_and_submit),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_pending_and_lost),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_body_roundtrip),
        cmocka_unit_test(test_script_runs_text_only),
        cmocka_unit_test(test_few_jobs_looked_up_alone),
        cmocka_unit_test(test_queue_allowance),
    };
    struct err e;
    int rc;

    err_clear(&e);
    if (catalog_load(&cat, TEST_DATA "/catalog-mini", &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    catalog_free(cat);
    return rc;
}
