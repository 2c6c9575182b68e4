/*
 * test_local.c - the local driver with real processes: the environment a
 * node sees (secrets through a file of their own that does not outlive the
 * node's start), exit codes, idempotent launch (and the crash window between
 * creating an attempt and starting its nodes), gang capacity, stockouts,
 * injected preemption with its notice, seeded random preemption, terminate,
 * a lost node, local.yaml errors, and the crash property: nodes keep running
 * while no driver is open, even when the controller process is SIGKILLed, and
 * a new driver reports what happened meanwhile.
 *
 * Each test gets a fresh home (setup) and its teardown SIGKILLs every node
 * process group left in it, so a failing test leaves no processes behind.
 * The test process is a subreaper: orphaned supervisors are reparented to it
 * and reaped while tests wait, instead of piling up as zombies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "driver/local.h"
#include "driver/local_int.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/xmem.h"

#include "testutil.h"

#define WAIT_S 8.0 /* longest wait for anything a node does */

static struct catalog *cat;
static int (*real_spawn)(const char *bin, const char *node_dir, struct err *e);

struct offer_ref {
    const char *cloud, *region, *zone, *itype;
};

/* Offers of tests/data/catalog-mini. */
static const struct offer_ref GCP_H100 = {"gcp", "us-central1", "us-central1-a",
                                          "a3-highgpu-8g"};
static const struct offer_ref GCP_A100 = {"gcp", "us-central1", "us-central1-a",
                                          "a2-ultragpu-8g"};
static const struct offer_ref AZ_H100 = {"azure", "eastus", "",
                                         "Standard_ND96isr_H100_v5"};
static const struct offer_ref AZ_NC = {"azure", "eastus", "", "Standard_NC40ads_H100_v5"};
static const struct offer_ref OCI_H100 = {"oci", "us-ashburn-1", "US-ASHBURN-AD-1",
                                          "BM.GPU.H100.8"};

struct world {
    char *home;
    int open;
    struct driver d;
    struct driver_config cfg;
    struct driver_event *ev; /* every event polled so far */
    size_t nev, cap;
};

/* ---- helpers ------------------------------------------------------------- */

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void w_write_conf(struct world *w, const char *yaml)
{
    tu_write(w->home, "local.yaml", yaml);
}

static int w_try_open(struct world *w, struct err *e)
{
    memset(&w->cfg, 0, sizeof(w->cfg));
    w->cfg.home = w->home;
    w->cfg.cat = cat;
    w->cfg.clock = &clock_wall;
    w->cfg.seed = 1;
    err_clear(e);
    w->open = driver_open(&w->d, &driver_local, &w->cfg, e) == 0;
    return w->open ? 0 : e->code;
}

static void w_open(struct world *w)
{
    struct err e;

    if (w_try_open(w, &e) != 0)
        fail_msg("driver_open: %s", e.msg);
}

static void w_close(struct world *w)
{
    if (w->open)
        driver_close(&w->d);
    w->open = 0;
}

static void w_reopen(struct world *w)
{
    w_close(w);
    w_open(w);
}

static int w_poll(struct world *w)
{
    struct driver_event ev[64];
    struct err e;
    int n;

    err_clear(&e);
    n = driver_poll(&w->d, ev, 64, &e);
    if (n < 0)
        fail_msg("poll: %s", e.msg);
    if (n > 0) {
        w->ev = xgrow(w->ev, &w->cap, w->nev + (size_t)n, sizeof(*w->ev));
        memcpy(w->ev + w->nev, ev, (size_t)n * sizeof(*ev));
        w->nev += (size_t)n;
    }
    reap();
    return n;
}

static int ev_index(const struct world *w, int64_t att, int node,
                    enum driver_event_type t)
{
    size_t i;

    for (i = 0; i < w->nev; i++)
        if (w->ev[i].attempt_id == att && w->ev[i].type == t &&
            (node < 0 || w->ev[i].node == node))
            return (int)i;
    return -1;
}

static const struct driver_event *ev_find(const struct world *w, int64_t att, int node,
                                          enum driver_event_type t)
{
    int i = ev_index(w, att, node, t);

    if (i < 0)
        fail_msg("no %s event for attempt %lld node %d", driver_event_name(t),
                 (long long)att, node);
    return &w->ev[i];
}

static int ev_count(const struct world *w, int64_t att, enum driver_event_type t)
{
    size_t i;
    int n = 0;

    for (i = 0; i < w->nev; i++)
        n += w->ev[i].attempt_id == att && w->ev[i].type == t;
    return n;
}

/* Poll until attempt att has count events of type t. */
static void w_wait(struct world *w, int64_t att, enum driver_event_type t, int count)
{
    double until = clock_mono() + WAIT_S;

    for (;;) {
        w_poll(w);
        if (ev_count(w, att, t) >= count)
            return;
        if (clock_mono() > until)
            fail_msg("attempt %lld: %d of %d %s events after %.0f s", (long long)att,
                     ev_count(w, att, t), count, driver_event_name(t), WAIT_S);
        clock_sleep(0.02);
    }
}

/* Poll for a while and return how many events came. */
static int w_quiet(struct world *w, double seconds)
{
    double until = clock_mono() + seconds;
    int n = 0;

    while (clock_mono() < until) {
        n += w_poll(w);
        clock_sleep(0.02);
    }
    return n;
}

static char *node_path(const struct world *w, int64_t att, int node, const char *rel)
{
    return xasprintf("%s/local/att-%lld/node-%d/%s", w->home, (long long)att, node, rel);
}

/* The whole file, or NULL when it does not exist. Caller frees. */
static char *slurp(const char *path)
{
    char *text = NULL;
    struct err e;

    if (access(path, F_OK) != 0 || fs_read_file(path, 1 << 20, &text, NULL, &e) != 0)
        return NULL;
    return text;
}

static char *node_slurp(const struct world *w, int64_t att, int node, const char *rel)
{
    char *path = node_path(w, att, node, rel), *text = slurp(path);

    free(path);
    return text;
}

static void wait_file(const struct world *w, int64_t att, int node, const char *rel)
{
    char *path = node_path(w, att, node, rel);
    double until = clock_mono() + WAIT_S;

    while (access(path, F_OK) != 0) {
        if (clock_mono() > until)
            fail_msg("%s did not appear", path);
        reap();
        clock_sleep(0.02);
    }
    free(path);
}

static int node_exists(const struct world *w, int64_t att, int node, const char *rel)
{
    char *path = node_path(w, att, node, rel);
    int ok = access(path, F_OK) == 0;

    free(path);
    return ok;
}

static struct attempt mk_att(int64_t id, int64_t job, const struct offer_ref *o,
                             int nodes, int spot, const char *run)
{
    struct attempt a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    a.job_id = job;
    a.n = 1;
    a.job_name = "test";
    a.cloud = o->cloud;
    a.region = o->region;
    a.zone = o->zone;
    a.instance_type = o->itype;
    a.accelerator = "H100";
    a.acc_count = 8;
    a.nodes = nodes;
    a.spot = spot;
    a.run = run;
    return a;
}

static void launch_ok(struct world *w, const struct attempt *a)
{
    struct err e;

    err_clear(&e);
    if (driver_launch(&w->d, a, &e) != 0)
        fail_msg("launch %lld: %s", (long long)a->id, e.msg);
}

static void inject_ok(struct world *w, const char *kind, const char *arg)
{
    struct err e;

    err_clear(&e);
    if (driver_inject(&w->d, kind, arg, &e) != 0)
        fail_msg("inject %s %s: %s", kind, arg, e.msg);
}

static long cap_of(struct world *w, const struct offer_ref *o)
{
    return driver_capacity(&w->d, o->cloud, o->region, o->zone, o->itype, 0);
}

/* Does text have a line that is exactly line? */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while (p && *p) {
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return 1;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

/* The node's cgroup path (its `cgroup` file), or NULL. Caller frees. */
static char *node_cgroup(const char *node_dir)
{
    char *path = xasprintf("%s/cgroup", node_dir), *cg = slurp(path);

    free(path);
    if (cg)
        cg[strcspn(cg, "\n")] = '\0';
    return cg;
}

/* SIGKILL what runs in the node's cgroup and remove it (a failed test's). */
static void kill_cgroup(const char *node_dir)
{
    char *cg = node_cgroup(node_dir), *path;
    double until = clock_mono() + WAIT_S;
    FILE *fp;

    if (cg == NULL || access(cg, F_OK) != 0) {
        free(cg);
        return;
    }
    path = xasprintf("%s/cgroup.kill", cg);
    fp = fopen(path, "w");
    if (fp) {
        fputs("1\n", fp);
        fclose(fp);
    }
    while (rmdir(cg) != 0 && errno == EBUSY && clock_mono() < until)
        clock_sleep(0.01);
    free(path);
    free(cg);
}

/* SIGKILL the process group of every supervisor still alive under home, and
 * whatever runs in the nodes' cgroups. */
static void kill_nodes(const char *home)
{
    char *root = xasprintf("%s/local", home);
    DIR *d = opendir(root), *nd;
    struct dirent *de, *ne;

    while (d && (de = readdir(d)) != NULL) {
        char *att = xasprintf("%s/%s", root, de->d_name);

        nd = strncmp(de->d_name, "att-", 4) == 0 ? opendir(att) : NULL;
        while (nd && (ne = readdir(nd)) != NULL) {
            char *node = xasprintf("%s/%s", att, ne->d_name);
            long pid = strncmp(ne->d_name, "node-", 5) == 0 ? lf_pid(node) : -1;

            if (pid > 0 && lf_alive(node))
                kill(-(pid_t)pid, SIGKILL);
            kill_cgroup(node);
            free(node);
        }
        if (nd)
            closedir(nd);
        free(att);
    }
    if (d)
        closedir(d);
    free(root);
}

static int setup(void **state)
{
    struct world *w = xcalloc(1, sizeof(*w));

    w->home = tu_mkdtemp();
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    struct err e;
    char *path;

    w_close(w);
    kill_nodes(w->home);
    path = xasprintf("%s/mnt", w->home); /* test_full_tmpfs's, if mounted */
    umount2(path, 0);
    free(path);
    clock_sleep(0.05);
    reap();
    fs_remove_tree(w->home, &e);
    free(w->home);
    free(w->ev);
    free(w);
    return 0;
}

/* Run `stratus __node` on a node by hand; its exit status. */
static int run_supervisor(const struct world *w, int64_t att, int node)
{
    char *dir = node_path(w, att, node, "");
    pid_t pid = fork();
    int st = -1;

    if (pid == 0) {
        execl(STRATUS_BIN_PATH, "stratus", "__node", dir, (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    free(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int spawn_nothing(const char *bin, const char *node_dir, struct err *e)
{
    (void)bin;
    (void)node_dir;
    (void)e;
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static const char tricky[] = "a'b\"c $(touch pwned1) `touch pwned2`; touch pwned3\nline2";

/* Node 1 of attempt 11 saw every variable the driver sets, and the spec's. */
static void check_node_env(const struct world *w, const char *ckpt)
{
    static const char *const want[] = {"STRATUS_JOB_ID=7",
                                       "STRATUS_ATTEMPT=2",
                                       "STRATUS_ATTEMPT_ID=11",
                                       "STRATUS_NODE_RANK=1",
                                       "STRATUS_NUM_NODES=2",
                                       "STRATUS_CLOUD=gcp",
                                       "STRATUS_REGION=us-central1",
                                       "STRATUS_ZONE=us-central1-a",
                                       "STRATUS_SPOT=1",
                                       "SKYPILOT_NODE_RANK=1",
                                       "SKYPILOT_NUM_NODES=2",
                                       "SKYPILOT_TASK_ID=stratus-7-2",
                                       "SKYPILOT_NUM_GPUS_PER_NODE=8",
                                       "MODEL=llama",
                                       NULL};
    char *text = node_slurp(w, 11, 1, "work/env.out"), *line;
    int i;

    assert_non_null(text);
    for (i = 0; want[i]; i++) /* the spec's STRATUS_NODE_RANK=99 lost */
        if (!has_line(text, want[i]))
            fail_msg("node env lacks %s:\n%s", want[i], text);
    line = xasprintf("STRATUS_CHECKPOINT_DIR=%s", ckpt);
    assert_true(has_line(text, line));
    free(line);
    free(text);
    text = node_slurp(w, 11, 0, "work/ips.out");
    assert_string_equal(text, "127.0.0.1\n127.0.0.1");
    free(text);
    /* Values reach the job byte for byte and run nothing on the way. */
    text = node_slurp(w, 11, 0, "work/tricky.out");
    assert_string_equal(text, tricky);
    free(text);
    assert_false(node_exists(w, 11, 0, "work/pwned1") ||
                 node_exists(w, 11, 0, "work/pwned2") ||
                 node_exists(w, 11, 0, "work/pwned3"));
}

/* ... ran in its work/ (setup first, the workdir copied in), logged its output. */
static void check_node_files(struct world *w)
{
    char *work = node_path(w, 11, 1, "work"), *real = realpath(work, NULL), *text, *line;
    char path[4096];
    struct stat st;

    text = node_slurp(w, 11, 1, "work/q.out");
    assert_string_equal(text, "it's \"quoted\"\n");
    free(text);
    text = node_slurp(w, 11, 1, "work/pwd.out");
    line = xasprintf("%s\n", real);
    assert_string_equal(text, line);
    free(line);
    free(text);
    text = node_slurp(w, 11, 1, "work/copied.out");
    assert_string_equal(text, "from the workdir\n");
    free(text);
    assert_int_equal(driver_log_path(&w->d, 11, 1, path, sizeof(path)), 0);
    text = slurp(path);
    assert_non_null(strstr(text, "hello-1"));
    free(text);
    assert_int_equal(driver_log_path(&w->d, 11, 5, path, sizeof(path)), ST_ENOTFOUND);
    line = node_path(w, 11, 1, "env"); /* it may carry secrets */
    assert_int_equal(stat(line, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(line);
    line = xasprintf("%s/local/att-11/attempt", w->home);
    text = slurp(line);
    assert_true(has_line(text, "nodes: 2") && has_line(text, "spot: 1") &&
                has_line(text, "job_id: 7") && has_line(text, "zone: us-central1-a"));
    free(text);
    free(line);
    free(real);
    free(work);
}

static void test_env_and_files(void **state)
{
    struct world *w = *state;
    const struct driver_env envs[] = {
        {"MODEL", "llama", 0}, {"TRICKY", tricky, 0}, {"STRATUS_NODE_RANK", "99", 0}};
    char *ckpt = xasprintf("%s/ckpt/job-7/att-2", w->home);
    char *src = xasprintf("%s/src", w->home);
    struct attempt a =
        mk_att(11, 7, &GCP_H100, 2, 1,
               "env > env.out; printf '%s' \"$TRICKY\" > tricky.out; "
               "printf '%s' \"$STRATUS_NODE_IPS\" > ips.out; "
               "test -f setup.out && echo \"it's \\\"quoted\\\"\" > q.out; "
               "pwd > pwd.out; cat hello.txt > copied.out; "
               "echo hello-$STRATUS_NODE_RANK");
    int r;

    assert_int_equal(mkdir(src, 0755), 0);
    tu_write(src, "hello.txt", "from the workdir\n");
    a.n = 2;
    a.setup = "echo setup > setup.out";
    a.envs = envs;
    a.nenvs = 3;
    a.ckpt_dir = ckpt;
    a.workdir = src;
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 11, DRV_EV_EXITED, 2);
    for (r = 0; r < 2; r++) {
        assert_true(ev_index(w, 11, r, DRV_EV_RUNNING) <
                    ev_index(w, 11, r, DRV_EV_EXITED));
        assert_int_equal(ev_find(w, 11, r, DRV_EV_EXITED)->exit_code, 0);
        assert_true(ev_find(w, 11, r, DRV_EV_RUNNING)->at > 0);
    }
    assert_int_equal(access(ckpt, F_OK), 0);
    check_node_env(w, ckpt);
    check_node_files(w);
    free(src);
    free(ckpt);
}

/* A secret (driver_env.secret) reaches the job's environment through the
 * node's own `secrets` file, never its `env`; the supervisor removes the
 * file once it has read it, and a node stopped before it ever started does
 * not keep it either. */
static void test_secret_env(void **state)
{
    struct world *w = *state;
    const struct driver_env envs[] = {{"PLAIN", "p", 0}, {"TOKEN", "s3cr3t-v4lue", 1}};
    struct attempt a = mk_att(91, 9, &GCP_H100, 2, 0,
                              "printf '%s/%s' \"$PLAIN\" \"$TOKEN\" > tok.out");
    struct attempt b = mk_att(92, 9, &GCP_H100, 1, 0, "true");
    struct err e;
    char *text;
    int r;

    a.envs = b.envs = envs;
    a.nenvs = b.nenvs = 2;
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 91, DRV_EV_EXITED, 2);
    for (r = 0; r < 2; r++) {
        text = node_slurp(w, 91, r, "work/tok.out");
        assert_string_equal(text, "p/s3cr3t-v4lue");
        free(text);
        text = node_slurp(w, 91, r, "env");
        assert_non_null(strstr(text, "PLAIN=p"));
        assert_null(strstr(text, "s3cr3t"));
        free(text);
        assert_false(node_exists(w, 91, r, "secrets"));
    }
    local_sys.spawn = spawn_nothing; /* its supervisor never starts */
    launch_ok(w, &b);
    local_sys.spawn = real_spawn;
    assert_true(node_exists(w, 92, 0, "secrets"));
    err_clear(&e);
    assert_int_equal(driver_terminate(&w->d, 92, &e), 0);
    w_wait(w, 92, DRV_EV_EXITED, 1);
    assert_false(node_exists(w, 92, 0, "secrets"));
}

static void test_exit_codes(void **state)
{
    struct world *w = *state;
    struct attempt a1 = mk_att(21, 1, &GCP_H100, 3, 0, "exit $((STRATUS_NODE_RANK + 3))");
    struct attempt a2 = mk_att(22, 2, &GCP_A100, 1, 0, "touch ran");
    struct attempt a3 = mk_att(23, 3, &AZ_NC, 1, 0, "kill -USR1 $$");
    char *log;
    int r;

    a2.setup = "exit 7";
    w_open(w);
    assert_true(driver_next_event_in(&w->d) < 0); /* nothing runs */
    launch_ok(w, &a1);
    launch_ok(w, &a2);
    launch_ok(w, &a3);
    assert_true(driver_next_event_in(&w->d) >= 0);
    w_wait(w, 21, DRV_EV_EXITED, 3);
    w_wait(w, 22, DRV_EV_EXITED, 1);
    w_wait(w, 23, DRV_EV_EXITED, 1);
    for (r = 0; r < 3; r++)
        assert_int_equal(ev_find(w, 21, r, DRV_EV_EXITED)->exit_code, r + 3);
    assert_int_equal(ev_find(w, 22, 0, DRV_EV_EXITED)->exit_code, 7);
    assert_false(node_exists(w, 22, 0, "work/ran"));
    log = node_slurp(w, 22, 0, "log");
    assert_non_null(strstr(log, "setup exited with code 7; run skipped"));
    free(log);
    assert_int_equal(ev_find(w, 23, 0, DRV_EV_EXITED)->exit_code, 128 + SIGUSR1);
    assert_int_equal(w_quiet(w, 0.1), 0); /* acknowledged, nothing more */
    assert_true(driver_next_event_in(&w->d) < 0);
}

static void test_idempotent_launch(void **state)
{
    struct world *w = *state;
    char *count = xasprintf("%s/count", w->home), *text;
    const struct driver_env envs[] = {{"COUNT", count, 0}};
    struct attempt a = mk_att(31, 3, &GCP_H100, 2, 0,
                              "echo $STRATUS_NODE_RANK >> \"$COUNT\"; sleep 0.3");

    a.envs = envs;
    a.nenvs = 1;
    w_open(w);
    launch_ok(w, &a);
    launch_ok(w, &a); /* at once: the nodes have not even claimed themselves */
    w_wait(w, 31, DRV_EV_EXITED, 2);
    launch_ok(w, &a); /* after the end */
    assert_int_equal(w_quiet(w, 0.5), 0);
    launch_ok(w, &a); /* after the driver forgot it */
    assert_int_equal(w_quiet(w, 0.3), 0);
    text = slurp(count);
    assert_int_equal(strlen(text), 4); /* two lines: each node ran once */
    free(text);
    free(count);
}

static void test_launch_after_crash_window(void **state)
{
    struct world *w = *state;
    char *count = xasprintf("%s/count", w->home), *text;
    const struct driver_env envs[] = {{"COUNT", count, 0}};
    struct attempt a =
        mk_att(32, 3, &GCP_H100, 2, 0, "echo $STRATUS_NODE_RANK >> \"$COUNT\"");

    a.envs = envs;
    a.nenvs = 1;
    w_open(w);
    local_sys.spawn = spawn_nothing; /* the controller dies before spawning */
    launch_ok(w, &a);
    local_sys.spawn = real_spawn;
    w_close(w);
    assert_true(node_exists(w, 32, 0, "env") && !node_exists(w, 32, 0, "pid"));
    /* Its successor re-issues the launch: the missing nodes start, once. */
    w_open(w);
    launch_ok(w, &a);
    launch_ok(w, &a);
    w_wait(w, 32, DRV_EV_EXITED, 2);
    /* A supervisor of the dead controller that starts only now loses the
     * claim and runs nothing. */
    assert_int_equal(run_supervisor(w, 32, 1), 0);
    text = slurp(count);
    assert_int_equal(strlen(text), 4);
    free(text);
    free(count);
}

static void test_gang_capacity(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(41, 4, &GCP_H100, 2, 0, "sleep 30");
    struct attempt b = mk_att(42, 5, &GCP_H100, 2, 0, "sleep 30");
    struct attempt c = mk_att(43, 6, &GCP_H100, 1, 0, "sleep 30");
    struct err e;
    char *att42;

    w_write_conf(w,
                 "capacity:\n  default: 4\n  \"gcp/us-central1/*/a3-highgpu-8g\": 3\n");
    w_open(w);
    assert_int_equal(cap_of(w, &GCP_H100), 3);
    assert_int_equal(cap_of(w, &AZ_H100), 4);
    assert_int_equal(
        driver_capacity(&w->d, "gcp", "us-central1", "us-central1-a", "nope", 0), 0);
    launch_ok(w, &a);
    assert_int_equal(cap_of(w, &GCP_H100), 1);
    launch_ok(w, &b); /* 2 nodes, 1 free: refused whole */
    w_wait(w, 42, DRV_EV_CAPACITY, 1);
    assert_non_null(strstr(ev_find(w, 42, -1, DRV_EV_CAPACITY)->msg, "no capacity"));
    assert_int_equal(ev_find(w, 42, -1, DRV_EV_CAPACITY)->node, -1);
    assert_false(node_exists(w, 42, 0, "."));
    att42 = xasprintf("%s/local/att-42/refused", w->home);
    assert_int_equal(access(att42, F_OK), 0);
    free(att42);
    assert_int_equal(cap_of(w, &GCP_H100), 1);
    launch_ok(w, &b); /* still refused, not reported twice */
    w_quiet(w, 0.1);
    assert_int_equal(ev_count(w, 42, DRV_EV_CAPACITY), 1);
    launch_ok(w, &c);
    w_wait(w, 43, DRV_EV_RUNNING, 1);
    w_wait(w, 41, DRV_EV_RUNNING, 2);
    assert_int_equal(cap_of(w, &GCP_H100), 0);
    err_clear(&e);
    assert_int_equal(driver_terminate(&w->d, 41, &e), 0);
    assert_int_equal(driver_terminate(&w->d, 43, &e), 0);
    w_wait(w, 41, DRV_EV_EXITED, 2);
    w_wait(w, 43, DRV_EV_EXITED, 1);
    assert_int_equal(cap_of(w, &GCP_H100), 3);
}

static void test_stockout(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(51, 5, &OCI_H100, 1, 0, "true");
    struct attempt b = mk_att(52, 6, &GCP_H100, 1, 0, "true");
    struct attempt c = mk_att(53, 7, &GCP_H100, 1, 0, "true");
    struct err e;

    w_write_conf(w, "stockouts: [\"oci/us-ashburn-1\"]\n");
    w_open(w);
    assert_int_equal(cap_of(w, &OCI_H100), 0);
    launch_ok(w, &a);
    w_wait(w, 51, DRV_EV_CAPACITY, 1);
    assert_non_null(
        strstr(ev_find(w, 51, -1, DRV_EV_CAPACITY)->msg, "stockout at oci/us-ashburn-1"));

    inject_ok(w, "stockout", "gcp/us-central1 60");
    assert_int_equal(cap_of(w, &GCP_H100), 0);
    assert_int_equal(cap_of(w, &AZ_H100), 4);
    launch_ok(w, &b);
    w_wait(w, 52, DRV_EV_CAPACITY, 1);
    assert_non_null(strstr(ev_find(w, 52, -1, DRV_EV_CAPACITY)->msg, "injected"));
    w_reopen(w); /* injected stockouts survive a restart */
    assert_int_equal(cap_of(w, &GCP_H100), 0);
    inject_ok(w, "stockout", "gcp/us-central1 0"); /* 0 clears */
    assert_int_equal(cap_of(w, &GCP_H100), 4);
    launch_ok(w, &c);
    w_wait(w, 53, DRV_EV_EXITED, 1);

    inject_ok(w, "stockout", "gcp/us-central1/us-central1-a 0.3");
    assert_int_equal(cap_of(w, &GCP_A100), 0);
    clock_sleep(0.4);
    assert_int_equal(cap_of(w, &GCP_A100), 4);
    inject_ok(w, "stockout", "azure/eastus"); /* no duration: until cleared */
    w_reopen(w);
    assert_int_equal(cap_of(w, &AZ_NC), 0);
    inject_ok(w, "stockout", "azure/eastus 0");
    assert_int_equal(cap_of(w, &AZ_NC), 4);

    err_clear(&e);
    assert_int_equal(driver_inject(&w->d, "stockout", "gpc/us-central1 5", &e),
                     ST_EINVAL);
    assert_non_null(strstr(e.msg, "did you mean 'gcp/us-central1'"));
    assert_int_equal(driver_inject(&w->d, "stockout", "gcp/us-central1 soon", &e),
                     ST_EINVAL);
    assert_int_equal(driver_inject(&w->d, "stockout", "gcp 5", &e), ST_EINVAL);
    assert_int_equal(driver_inject(&w->d, "preempt-jb", "1", &e), ST_EUSAGE);
    assert_non_null(strstr(e.msg, "did you mean 'preempt-job'"));
}

static void test_preempt_notice(void **state)
{
    struct world *w = *state;
    struct attempt a =
        mk_att(61, 6, &GCP_H100, 2, 0,
               "trap 'echo TERM >> term.out' TERM; echo ready > ready.out; "
               "while :; do sleep 0.05; done");
    double t0, next;
    char *text;
    struct err e;

    w_write_conf(w, "preemption: {notice: 1s}\ngrace: 0.3s\n");
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 61, DRV_EV_RUNNING, 2);
    wait_file(w, 61, 0, "work/ready.out");
    wait_file(w, 61, 1, "work/ready.out");
    t0 = clock_mono();
    inject_ok(w, "preempt-job", "6"); /* works on on-demand nodes too */
    next = driver_next_event_in(&w->d);
    assert_true(next >= 0 && next <= 1.0);
    w_wait(w, 61, DRV_EV_PREEMPTED, 1);
    /* The job got SIGTERM, ignored it, and was killed when the notice ran out. */
    assert_true(clock_mono() - t0 >= 0.9);
    assert_true(ev_index(w, 61, 0, DRV_EV_PREEMPT_NOTICE) >= 0);
    assert_true(ev_index(w, 61, 0, DRV_EV_PREEMPT_NOTICE) <
                ev_index(w, 61, 0, DRV_EV_PREEMPTED));
    assert_non_null(strstr(ev_find(w, 61, 0, DRV_EV_PREEMPTED)->msg, "injected"));
    text = node_slurp(w, 61, 0, "work/term.out");
    assert_string_equal(text, "TERM\n");
    free(text);
    assert_true(node_exists(w, 61, 0, "preempted"));
    assert_int_equal(ev_count(w, 61, DRV_EV_EXITED), 0); /* node 1 runs on */

    err_clear(&e);
    assert_int_equal(driver_terminate(&w->d, 61, &e), 0);
    assert_int_equal(driver_terminate(&w->d, 61, &e), 0);
    w_wait(w, 61, DRV_EV_EXITED, 1);
    assert_int_equal(ev_find(w, 61, 1, DRV_EV_EXITED)->exit_code, 128 + SIGKILL);
    text = node_slurp(w, 61, 1, "work/term.out");
    assert_string_equal(text, "TERM\n"); /* one SIGTERM for two terminates */
    free(text);
    assert_int_equal(driver_inject(&w->d, "preempt-job", "6", &e), ST_ENOTFOUND);
}

/* A location outage takes every node there, and only there. */
static void test_preempt_location(void **state)
{
    struct world *w = *state;
    struct attempt b = mk_att(62, 7, &AZ_H100, 1, 0, "sleep 30");
    struct attempt c = mk_att(63, 8, &GCP_A100, 1, 0, "sleep 30");
    struct err e;

    w_open(w);
    err_clear(&e);
    launch_ok(w, &b);
    launch_ok(w, &c);
    w_wait(w, 62, DRV_EV_RUNNING, 1);
    w_wait(w, 63, DRV_EV_RUNNING, 1);
    inject_ok(w, "preempt-location", "azure/eastus");
    w_wait(w, 62, DRV_EV_PREEMPTED, 1);
    assert_non_null(
        strstr(ev_find(w, 62, 0, DRV_EV_PREEMPTED)->msg, "outage at azure/eastus"));
    assert_int_equal(ev_count(w, 63, DRV_EV_PREEMPT_NOTICE), 0);
    assert_int_equal(driver_terminate(&w->d, 63, &e), 0);
    w_wait(w, 63, DRV_EV_EXITED, 1);
    assert_int_equal(ev_find(w, 63, 0, DRV_EV_EXITED)->exit_code, 128 + SIGTERM);
}

/* Run a world with random spot preemption; the reasons of attempt 71's
 * three nodes (they carry the drawn delays) into why[]. */
static void run_spot_world(uint64_t seed, int with_on_demand, char why[3][160])
{
    struct world *w;
    struct attempt a = mk_att(71, 7, &GCP_H100, 3, 1, "sleep 30");
    struct attempt b = mk_att(72, 8, &GCP_A100, 1, 0, "sleep 1");
    char yaml[256];
    int r;

    setup((void **)&w);
    snprintf(yaml, sizeof(yaml),
             "preemption:\n  notice: 0.2s\n  rates: {\"gcp/us-*\": 120}\nseed: %llu\n",
             (unsigned long long)seed);
    w_write_conf(w, yaml);
    w_open(w);
    launch_ok(w, &a);
    if (with_on_demand)
        launch_ok(w, &b);
    w_wait(w, 71, DRV_EV_PREEMPTED, 3);
    for (r = 0; r < 3; r++) {
        char *dir = node_path(w, 71, r, "");

        assert_true(lf_read_stamp(dir, "preempted", why[r], 160) > 0);
        assert_non_null(strstr(why[r], "spot preemption"));
        assert_int_equal(ev_count(w, 71, DRV_EV_PREEMPT_NOTICE), 3);
        free(dir);
    }
    if (with_on_demand) { /* same rate, but on-demand: never preempted */
        w_wait(w, 72, DRV_EV_EXITED, 1);
        assert_int_equal(ev_find(w, 72, 0, DRV_EV_EXITED)->exit_code, 0);
    }
    teardown((void **)&w);
}

static void test_random_preemption(void **state)
{
    char a[3][160], b[3][160], c[3][160];
    double sum = 0;
    int i;

    (void)state;
    run_spot_world(5, 1, a);
    run_spot_world(5, 0, b);
    run_spot_world(6, 0, c);
    for (i = 0; i < 3; i++)
        assert_string_equal(a[i], b[i]);
    assert_true(strcmp(a[0], c[0]) != 0 || strcmp(a[1], c[1]) != 0 ||
                strcmp(a[2], c[2]) != 0);
    /* The draw: reproducible, per node, exponential with the given rate. */
    assert_true(local_draw_preempt(5, 71, 0, 2.0) == local_draw_preempt(5, 71, 0, 2.0));
    assert_true(local_draw_preempt(5, 71, 0, 2.0) != local_draw_preempt(5, 71, 1, 2.0));
    assert_true(local_draw_preempt(5, 71, 0, 2.0) != local_draw_preempt(5, 72, 0, 2.0));
    for (i = 0; i < 20000; i++)
        sum += local_draw_preempt(9, i, i % 7, 2.0);
    assert_true(fabs(sum / 20000 - 0.5) < 0.02);
}

static void test_terminate(void **state)
{
    struct world *w = *state;
    struct attempt a =
        mk_att(81, 8, &GCP_H100, 2, 0,
               "if [ $STRATUS_NODE_RANK = 1 ]; then trap 'echo T >> t.out' TERM; "
               "fi; echo ready > ready.out; while :; do sleep 0.05; done");
    struct attempt b = mk_att(82, 9, &GCP_H100, 2, 0, "echo ran > ran.out");
    double t0;
    char *text;
    struct err e;

    w_write_conf(w, "grace: 0.5s\n");
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 81, DRV_EV_RUNNING, 2);
    wait_file(w, 81, 0, "work/ready.out");
    wait_file(w, 81, 1, "work/ready.out");
    err_clear(&e);
    t0 = clock_mono();
    assert_int_equal(driver_terminate(&w->d, 81, &e), 0);
    assert_int_equal(driver_terminate(&w->d, 81, &e), 0);
    assert_true(clock_mono() - t0 < 0.2); /* never waits for the grace */
    w_wait(w, 81, DRV_EV_EXITED, 2);
    assert_int_equal(ev_find(w, 81, 0, DRV_EV_EXITED)->exit_code, 128 + SIGTERM);
    assert_int_equal(ev_find(w, 81, 1, DRV_EV_EXITED)->exit_code, 128 + SIGKILL);
    text = node_slurp(w, 81, 1, "work/t.out");
    assert_string_equal(text, "T\n");
    free(text);
    text = node_slurp(w, 81, 1, "exit");
    assert_string_equal(text, "137\nstopped\n");
    free(text);
    assert_int_equal(driver_terminate(&w->d, 81, &e), 0);
    assert_int_equal(driver_terminate(&w->d, 999, &e), 0);
    assert_int_equal(w_quiet(w, 0.1), 0);

    /* Terminated before its nodes ever started: they never will. */
    local_sys.spawn = spawn_nothing;
    launch_ok(w, &b);
    local_sys.spawn = real_spawn;
    assert_int_equal(driver_terminate(&w->d, 82, &e), 0);
    w_wait(w, 82, DRV_EV_EXITED, 2);
    assert_int_equal(ev_count(w, 82, DRV_EV_RUNNING), 0);
    w_reopen(w);
    launch_ok(w, &b);
    clock_sleep(0.3);
    assert_false(node_exists(w, 82, 0, "started") ||
                 node_exists(w, 82, 0, "work/ran.out"));
}

/* Age every `reported` marker under dir by two minutes (past the replay window). */
static void age_reported(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d && (de = readdir(d)) != NULL) {
        char *p = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;

        if (de->d_name[0] != '.' && strcmp(de->d_name, "work") != 0 &&
            lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                age_reported(p);
            } else if (strcmp(de->d_name, "reported") == 0) {
                struct timespec ts[2] = {{st.st_mtim.tv_sec - 120, 0},
                                         {st.st_mtim.tv_sec - 120, 0}};

                utimensat(AT_FDCWD, p, ts, 0);
            }
        }
        free(p);
    }
    if (d)
        closedir(d);
}

/* A controller process that launches and is SIGKILLed: its nodes carry on
 * and its successor's driver reports them. */
static void test_crash_sigkill(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(91, 9, &GCP_H100, 2, 0, "sleep 0.5; echo done > done.out");
    struct attempt b = mk_att(92, 10, &GCP_A100, 1, 0, "sleep 30");
    int pfd[2];
    char byte = 0;
    pid_t pid;
    struct err e;

    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    if (pid == 0) {
        struct world cw = {w->home, 0, {0}, {0}, NULL, 0, 0};

        close(pfd[0]);
        if (w_try_open(&cw, &e) != 0 || driver_launch(&cw.d, &a, &e) != 0 ||
            driver_launch(&cw.d, &b, &e) != 0)
            _exit(1);
        if (write(pfd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(pfd[1]);
    assert_int_equal(read(pfd[0], &byte, 1), 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* The nodes carry on with no driver open anywhere. */
    wait_file(w, 91, 0, "work/done.out");
    wait_file(w, 91, 1, "work/done.out");
    w_open(w);
    w_wait(w, 91, DRV_EV_EXITED, 2);
    assert_int_equal(ev_count(w, 91, DRV_EV_RUNNING), 2);
    assert_int_equal(ev_find(w, 91, 0, DRV_EV_EXITED)->exit_code, 0);
    assert_int_equal(ev_find(w, 91, 1, DRV_EV_EXITED)->exit_code, 0);
    w_wait(w, 92, DRV_EV_RUNNING, 1);
    launch_ok(w, &b); /* the successor's re-issued launch changes nothing */
    launch_ok(w, &a);
    assert_int_equal(w_quiet(w, 0.2), 0);
    assert_int_equal(driver_terminate(&w->d, 92, &e), 0);
    w_wait(w, 92, DRV_EV_EXITED, 1);
}

/* A driver closed without terminating, between polls: a new one reports
 * what happened, at least once, until it is acknowledged. */
static void test_crash_close(void **state)
{
    struct world *w = *state;
    struct attempt b = mk_att(92, 10, &GCP_A100, 1, 0, "sleep 30");
    struct attempt c = mk_att(93, 11, &AZ_H100, 1, 0, "sleep 0.3; echo done > done.out");
    char *root = xasprintf("%s/local", w->home);
    struct err e;

    w_open(w);
    err_clear(&e);
    launch_ok(w, &b);
    launch_ok(w, &c);
    w_close(w);
    wait_file(w, 93, 0, "work/done.out");
    w_open(w);
    w_wait(w, 93, DRV_EV_EXITED, 1);
    assert_int_equal(ev_count(w, 93, DRV_EV_RUNNING), 1);
    /* Not acknowledged (no poll after it): reported again, at least once. */
    w_reopen(w);
    w_wait(w, 93, DRV_EV_EXITED, 2);
    w_poll(w); /* acknowledges */
    assert_int_equal(driver_terminate(&w->d, 92, &e), 0);
    w_wait(w, 92, DRV_EV_EXITED, 1);
    w_poll(w);
    /* Acknowledged long ago: a new driver has nothing to say. */
    age_reported(root);
    w_reopen(w);
    assert_int_equal(w_quiet(w, 0.2), 0);
    assert_true(driver_next_event_in(&w->d) < 0);
    free(root);
}

static void test_lost_node(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(101, 10, &GCP_H100, 1, 0, "sleep 30");
    char *dir = node_path(w, 101, 0, "");
    double until;
    long pid;

    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 101, DRV_EV_RUNNING, 1);
    pid = lf_pid(dir);
    assert_true(pid > 0);
    kill((pid_t)pid, SIGKILL); /* the supervisor alone: its job is orphaned */
    w_wait(w, 101, DRV_EV_PREEMPTED, 1);
    assert_non_null(strstr(ev_find(w, 101, 0, DRV_EV_PREEMPTED)->msg, "node lost"));
    /* ... and what it left behind was killed with it. */
    until = clock_mono() + WAIT_S;
    while (kill(-(pid_t)pid, 0) == 0) {
        if (clock_mono() > until)
            fail_msg("process group %ld still alive", pid);
        reap();
        clock_sleep(0.02);
    }
    free(dir);
}

/* ---- a full disk (issue 9, item 4) ---------------------------------------- */

/* While the file full_flag exists, the disk is full: writes that would grow
 * a file fail with ENOSPC, and with full_all every write fails. */
static char *full_flag;
static int full_all;

static ssize_t full_disk_write(int fd, const void *buf, size_t n)
{
    struct stat st;
    off_t off = lseek(fd, 0, SEEK_CUR);

    if (access(full_flag, F_OK) == 0 &&
        (full_all || fstat(fd, &st) != 0 || off < 0 || off + (off_t)n > st.st_size)) {
        errno = ENOSPC;
        return -1;
    }
    return write(fd, buf, n);
}

/* Run the supervisor in a child of this process, with the full-disk write. */
static int spawn_full_disk(const char *bin, const char *node_dir, struct err *e)
{
    pid_t pid = fork();

    (void)bin;
    if (pid < 0)
        return err_set(e, ST_EINTERNAL, "fork: %s", strerror(errno));
    if (pid == 0) {
        char *log = xasprintf("%s/log", node_dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd >= 0) { /* as sys_spawn does */
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setsid();
        local_sys.write = full_disk_write;
        _exit(local_node_main(node_dir));
    }
    return 0;
}

/* The job fills the disk, then exits 0: it must be reported EXITED 0, never
 * a lost node (which would run the finished job again). */
static void test_full_disk_exit(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(121, 12, &GCP_H100, 1, 0, "touch \"$FULL\"; echo done");
    struct driver_env env = {"FULL", NULL, 0};
    const struct driver_event *ev;

    full_flag = xasprintf("%s/disk-full", w->home);
    full_all = 0;
    env.value = full_flag;
    a.envs = &env;
    a.nenvs = 1;
    local_sys.spawn = spawn_full_disk;
    w_open(w);
    launch_ok(w, &a);
    local_sys.spawn = real_spawn;
    w_wait(w, 121, DRV_EV_EXITED, 1);
    ev = ev_find(w, 121, 0, DRV_EV_EXITED);
    assert_int_equal(ev->exit_code, 0);
    assert_string_equal(ev->msg, "exited with code 0");
    assert_int_equal(ev_count(w, 121, DRV_EV_PREEMPTED), 0);
    assert_true(access(full_flag, F_OK) == 0); /* the disk was full throughout */
    free(full_flag);
}

/* Even the reserved space cannot be written (every write fails): the
 * supervisor stays alive, so the node is not lost, and records the exit
 * once the disk has room again. */
static void test_full_disk_retry(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(122, 12, &GCP_H100, 1, 0, "touch \"$FULL\"; exit 0");
    struct driver_env env = {"FULL", NULL, 0};
    char *dir = node_path(w, 122, 0, ""), *log;
    const struct driver_event *ev;

    full_flag = xasprintf("%s/disk-full", w->home);
    full_all = 1;
    env.value = full_flag;
    a.envs = &env;
    a.nenvs = 1;
    local_sys.spawn = spawn_full_disk;
    w_open(w);
    launch_ok(w, &a);
    local_sys.spawn = real_spawn;
    w_wait(w, 122, DRV_EV_RUNNING, 1);
    wait_file(w, 122, 0, "../../../disk-full");
    w_quiet(w, 0.5); /* a lost node would be reported by now */
    assert_int_equal(ev_count(w, 122, DRV_EV_PREEMPTED), 0);
    assert_int_equal(ev_count(w, 122, DRV_EV_EXITED), 0);
    assert_true(lf_alive(dir)); /* retrying, not gone */
    log = node_slurp(w, 122, 0, "log");
    assert_non_null(strstr(log, "No space left on device; retrying"));
    free(log);
    assert_int_equal(unlink(full_flag), 0); /* room again */
    w_wait(w, 122, DRV_EV_EXITED, 1);
    ev = ev_find(w, 122, 0, DRV_EV_EXITED);
    assert_int_equal(ev->exit_code, 0);
    assert_int_equal(ev_count(w, 122, DRV_EV_PREEMPTED), 0);
    free(full_flag);
    free(dir);
}

/* The same through a real file system that is full: a 512 KiB tmpfs the
 * job fills.  Mounting needs root (CAP_SYS_ADMIN); skipped otherwise.  The
 * teardown unmounts it by path whatever happens. */
static void test_full_tmpfs(void **state)
{
    struct world *w = *state;
    char *mnt = xasprintf("%s/mnt", w->home), *att = xasprintf("%s/att", mnt),
         *node = xasprintf("%s/node-0", att), *work = xasprintf("%s/work", node);
    static const char env[] = "STRATUS_ATTEMPT_ID=1\0STRATUS_NODE_RANK=0";
    struct lf_exit x;
    struct err e;
    pid_t pid;

    assert_int_equal(mkdir(mnt, 0700), 0);
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=512k") != 0) {
        free(work);
        free(node);
        free(att);
        free(mnt);
        skip();
    }
    assert_int_equal(fs_mkdirs(work, 0700, &e), 0);
    assert_int_equal(lf_write(node, "env", env, sizeof(env)), 0);
    tu_write(att, "run", "dd if=/dev/zero of=fill bs=4k 2>/dev/null; exit 0");
    pid = fork();
    if (pid == 0) {
        execl(STRATUS_BIN_PATH, "stratus", "__node", node, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(lf_exit_read(node, &x),
                     0); /* the disk was full, the record is there */
    assert_int_equal(x.code, 0);
    assert_false(x.stopped || x.lost);
    free(work);
    free(node);
    free(att);
    free(mnt);
}

/* A supervisor that died after writing its record but before the rename:
 * the record in exit-reserved is the node's exit, not a lost node. */
static void test_exit_reserved_only(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(123, 12, &GCP_H100, 1, 0, "true");
    char *dir = node_path(w, 123, 0, ""), *done = node_path(w, 123, 0, "exit"),
         *rsv = node_path(w, 123, 0, "exit-reserved");
    struct lf_exit x = {0, 0, 0}, got;
    int fd;

    local_sys.spawn = spawn_nothing;
    w_open(w);
    launch_ok(w, &a);
    local_sys.spawn = real_spawn;
    assert_int_equal(lf_claim(dir, 999999, NULL), 0); /* a dead supervisor's claim */
    fd = lf_exit_reserve(dir);
    assert_true(fd >= 0);
    assert_int_not_equal(lf_exit_read_reserved(dir, &got), 0); /* "pending" */
    assert_int_equal(lf_exit_commit(fd, dir, &x), 0);
    close(fd);
    assert_int_equal(lf_exit_read(dir, &got), 0);
    assert_int_equal(got.code, 0);
    /* undo the rename: the record is only in the reserved space */
    assert_int_equal(rename(done, rsv), 0);
    w_wait(w, 123, DRV_EV_EXITED, 1);
    assert_int_equal(ev_find(w, 123, 0, DRV_EV_EXITED)->exit_code, 0);
    assert_int_equal(ev_count(w, 123, DRV_EV_PREEMPTED), 0);
    free(rsv);
    free(done);
    free(dir);
}

/* ---- two copies of a job (issue 9, item 6) ------------------------------- */

/* Is the process alive (neither gone nor a zombie)? */
static int proc_alive(long pid)
{
    char *path = xasprintf("/proc/%ld/stat", pid), *text = slurp(path), *rp;
    int alive = 0;

    if (text && (rp = strrchr(text, ')')) != NULL)
        alive = rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
    free(text);
    free(path);
    return alive;
}

static long file_pid(const struct world *w, int64_t att, const char *rel)
{
    char *text = node_slurp(w, att, 0, rel);
    long pid = text ? atol(text) : -1;

    free(text);
    return pid;
}

/* The supervisor is SIGKILLed during a preemption notice that its job
 * ignores (it traps TERM), and a child of the job escaped the process group
 * with setsid().  When the driver reports the node, none of them runs. */
static void test_supervisor_killed_in_notice(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(131, 13, &GCP_H100, 1, 0,
                              "trap 'echo TERM >> term.out' TERM; "
                              "setsid bash -c 'echo $$ > esc.pid; exec sleep 300' & "
                              "echo $$ > job.pid; "
                              "while :; do sleep 0.05; done");
    char *dir = node_path(w, 131, 0, ""), *cg;
    long sup, job, esc;
    int with_cgroup;

    w_write_conf(w, "preemption: {notice: 60s}\n"); /* the driver's SIGKILL never comes */
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 131, DRV_EV_RUNNING, 1);
    wait_file(w, 131, 0, "work/job.pid");
    wait_file(w, 131, 0, "work/esc.pid");
    inject_ok(w, "preempt-job", "13");
    wait_file(w, 131, 0, "work/term.out"); /* the job got its notice, and runs on */
    w_wait(w, 131, DRV_EV_PREEMPT_NOTICE, 1);
    sup = lf_pid(dir);
    job = file_pid(w, 131, "work/job.pid");
    esc = file_pid(w, 131, "work/esc.pid");
    assert_true(sup > 0 && job > 0 && esc > 0 && proc_alive(job) && proc_alive(esc));
    cg = node_cgroup(dir);
    with_cgroup = cg != NULL && access(cg, F_OK) == 0;
    assert_int_equal(kill((pid_t)sup, SIGKILL), 0);
    w_wait(w, 131, DRV_EV_PREEMPTED, 1);
    /* reported: so nothing of the node may run any more */
    assert_false(proc_alive(job));
    if (with_cgroup) {
        assert_false(proc_alive(esc));             /* a cgroup has no way out */
        assert_int_not_equal(access(cg, F_OK), 0); /* and it was removed */
    } else {
        print_message("no usable cgroup v2: the setsid() escape is not checked\n");
        kill((pid_t)esc, SIGKILL);
    }
    assert_non_null(strstr(ev_find(w, 131, 0, DRV_EV_PREEMPTED)->msg, "injected"));
    free(cg);
    free(dir);
}

/* The supervisor is SIGKILLed while its job runs on, after the job made a
 * cgroup of its own inside the node's and moved a child out to the parent
 * cgroup (which root may).  The child is found by its process group, and
 * the node's cgroup is removed with the one inside it, so the node is
 * reported and nothing of it runs.  (left.pid is written whole, by a
 * rename: read while `echo` had created it but not yet written, it read as
 * no pid, once, in a fresh clone's run beside a long simulation.) */
static void test_cgroup_left_and_nested(void **state)
{
    struct world *w = *state;
    struct attempt a =
        mk_att(132, 13, &GCP_H100, 1, 0,
               "cg=$(cat ../cgroup); "
               "if [ -d \"$cg\" ]; then mkdir \"$cg/sub\"; "
               "  bash -c 'echo $$ > \"${0%/*}/cgroup.procs\"; echo $$ > left.tmp; "
               "mv left.tmp left.pid; exec sleep 300' \"$cg\" & "
               "else echo none > left.tmp; mv left.tmp left.pid; fi; "
               "while :; do sleep 0.05; done");
    char *dir = node_path(w, 132, 0, ""), *cg, *sub;
    long sup, left;

    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 132, DRV_EV_RUNNING, 1);
    wait_file(w, 132, 0, "work/left.pid");
    cg = node_cgroup(dir);
    if (cg == NULL || access(cg, F_OK) != 0) {
        print_message("no usable cgroup v2: leaving one is not checked\n");
        free(cg);
        free(dir);
        return;
    }
    sub = xasprintf("%s/sub", cg);
    left = file_pid(w, 132, "work/left.pid");
    assert_true(left > 0 && proc_alive(left) && access(sub, F_OK) == 0);
    sup = lf_pid(dir);
    assert_int_equal(kill((pid_t)sup, SIGKILL), 0);
    w_wait(w, 132, DRV_EV_PREEMPTED, 1);
    assert_false(proc_alive(left));            /* out of the cgroup, not of the group */
    assert_int_not_equal(access(cg, F_OK), 0); /* removed, with the cgroup inside */
    free(sub);
    free(cg);
    free(dir);
}

/* A job starts with no signal ignored or blocked, whatever the controller
 * had: glibc's posix_spawn() leaves its two reserved signals ignored, and
 * the supervisor sets them back. */
static void test_job_signals_default(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(133, 13, &GCP_H100, 1, 0,
                              "grep -E '^Sig(Ign|Blk):' /proc/self/status > sig.out");
    char *text;

    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 133, DRV_EV_EXITED, 1);
    text = node_slurp(w, 133, 0, "work/sig.out");
    assert_non_null(text);
    assert_non_null(strstr(text, "SigBlk:\t0000000000000000"));
    assert_non_null(strstr(text, "SigIgn:\t0000000000000000"));
    free(text);
}

/* Wait until the file at path has n lines. */
static void wait_lines(const char *path, int n)
{
    double until = clock_mono() + WAIT_S;
    char *text;
    int lines;

    for (;;) {
        text = slurp(path);
        lines = 0;
        for (const char *c = text ? text : ""; *c; c++)
            lines += *c == '\n';
        free(text);
        if (lines >= n)
            return;
        if (clock_mono() > until)
            fail_msg("%s: %d of %d lines", path, lines, n);
        reap();
        clock_sleep(0.02);
    }
}

/* One node of a gang is preempted: the controller ends the attempt, stops
 * the other node (which uses its whole grace) and launches the next attempt
 * at once.  That attempt's nodes start only once the old node is gone. */
static void test_next_attempt_waits(void **state)
{
    struct world *w = *state;
    char *trace = xasprintf("%s/trace", w->home);
    const struct driver_env envs[] = {{"TRACE", trace, 0}};
    static const char run1[] =
        "if [ $STRATUS_NODE_RANK = 1 ]; then trap 'echo T >> t.out' TERM; fi; "
        "echo \"$$ 1\" >> \"$TRACE\"; while :; do sleep 0.05; done";
    static const char run2[] =
        "for p in $(cut -d' ' -f1 \"$TRACE\"); do "
        "  s=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -c1); "
        "  if [ -n \"$s\" ] && [ \"$s\" != Z ]; then echo overlap >> \"$TRACE.bad\"; fi; "
        "done; echo \"$$ 2\" >> \"$TRACE\"";
    struct attempt a = mk_att(151, 15, &GCP_H100, 2, 0, run1);
    struct attempt b = mk_att(152, 15, &GCP_A100, 1, 0, run2);
    char *bad = xasprintf("%s.bad", trace);
    struct err e;

    a.envs = b.envs = envs;
    a.nenvs = b.nenvs = 1;
    b.n = 2;
    w_write_conf(w, "preemption: {notice: 0.2s}\ngrace: 1s\n");
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 151, DRV_EV_RUNNING, 2);
    wait_lines(trace, 2); /* both nodes run their job */
    inject_ok(w, "preempt-job", "15");
    w_wait(w, 151, DRV_EV_PREEMPTED, 1);
    err_clear(&e);
    assert_int_equal(driver_terminate(&w->d, 151, &e), 0);
    launch_ok(w, &b); /* as the controller does, without waiting */
    assert_false(node_exists(w, 152, 0, "pid")); /* node 1 of 151 is in its grace */
    w_wait(w, 152, DRV_EV_EXITED, 1);
    assert_int_equal(ev_find(w, 152, 0, DRV_EV_EXITED)->exit_code, 0);
    assert_true(ev_index(w, 151, 1, DRV_EV_EXITED) < ev_index(w, 152, 0, DRV_EV_RUNNING));
    assert_int_not_equal(access(bad, F_OK), 0); /* never two attempts at once */
    free(bad);
    free(trace);
}

/* Logs, node directories and checkpoint directories are the owner's alone. */
static void test_owner_only(void **state)
{
    struct world *w = *state;
    struct attempt a = mk_att(141, 14, &GCP_H100, 1, 0, "echo secret");
    char *ckpt = xasprintf("%s/ckpt/job-14/att-1", w->home);
    static const char *const files[] = {"log",     "env",  "pid",
                                        "started", "exit", "reported"};
    char *path;
    struct stat st;
    size_t i;

    a.ckpt_dir = ckpt;
    w_open(w);
    launch_ok(w, &a);
    w_wait(w, 141, DRV_EV_EXITED, 1);
    w_poll(w); /* acknowledges: `reported` */
    path = xasprintf("%s/local", w->home);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(path);
    path = node_path(w, 141, 0, "");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(path);
    path = node_path(w, 141, 0, "work");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(path);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path = node_path(w, 141, 0, files[i]);
        if (stat(path, &st) != 0)
            fail_msg("%s: %s", path, strerror(errno));
        if ((st.st_mode & 0777) != 0600)
            fail_msg("%s is %03o, not 0600", path, (unsigned)(st.st_mode & 0777));
        free(path);
    }
    assert_int_equal(stat(ckpt, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(ckpt);
}

static void test_bad_config(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"capacty:\n  default: 2\n", "local.yaml:1:1: unknown key 'capacty' in "
                                     "local.yaml (did you mean 'capacity'?)"},
        {"capacity:\n  default: 2\n  \"gpc/us-central1/*\": 1\n",
         "local.yaml:3:3: capacity pattern 'gpc/us-central1/*' matches no offer in the "
         "catalog "
         "(did you mean 'gcp/us-central1'?)"},
        {"capacity:\n  default: lots\n", "local.yaml:2:12:"},
        {"preemption:\n  notise: 1s\n", "did you mean 'notice'?"},
        {"preemption:\n  notice: soon\n", "local.yaml:2:11:"},
        {"preemption:\n  rates: {\"gcp/us-*\": -1}\n", "between"},
        {"stockouts: oci\n", "local.yaml:1:12:"},
        {"stockouts: [\"oci/nowhere\"]\n", "matches no offer"},
        {"seed: x\n", "seed"},
    };
    struct world *w = *state;
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        w_write_conf(w, cases[i].yaml);
        assert_int_not_equal(w_try_open(w, &e), 0);
        if (strstr(e.msg, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
    }
    w_write_conf(w,
                 "capacity: {default: 2, \"azure/eastus*Standard_ND96isr_H100_v5\": 1}\n"
                 "preemption: {notice: 3s, rates: {\"gcp/*\": 0.5}}\n"
                 "stockouts: [\"oci/us-ashburn-1\"]\ngrace: 1s\nseed: 3\n");
    w_open(w);
    assert_int_equal(cap_of(w, &AZ_H100), 1);
    assert_int_equal(cap_of(w, &AZ_NC), 2);
    assert_int_equal(cap_of(w, &OCI_H100), 0);
    w_close(w);
    w_write_conf(w, "");
    w_open(w);
    assert_int_equal(cap_of(w, &GCP_H100), LOCAL_DEFAULT_CAPACITY);
}

static void test_bad_attempt(void **state)
{
    struct world *w = *state;
    const struct driver_env bad1[] = {{"A=B", "x", 0}}, bad2[] = {{"1X", "x", 0}};
    struct attempt a = mk_att(111, 1, &GCP_H100, 1, 0, "true");
    struct err e;
    char *dir = xasprintf("%s/local/att-111", w->home);

    w_open(w);
    a.envs = bad1;
    a.nenvs = 1;
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_EINVAL);
    a.envs = bad2;
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_EINVAL);
    a.nenvs = 0;
    a.instance_type = "nope";
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_ENOTFOUND);
    a = mk_att(111, 1, &AZ_H100, 1, 1, "true");
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_EINVAL); /* no spot sold there */
    assert_non_null(strstr(e.msg, "spot"));
    a = mk_att(111, 1, &GCP_H100, 0, 0, "true");
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_EINVAL);
    a = mk_att(111, 1, &GCP_H100, 1, 0, "true");
    a.cloud = "gcp/x";
    assert_int_equal(driver_launch(&w->d, &a, &e), ST_EINVAL);
    assert_int_not_equal(access(dir, F_OK), 0);
    free(dir);
}

static void test_no_home(void **state)
{
    struct driver d;
    struct driver_config cfg;
    struct err e;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    err_clear(&e);
    assert_int_equal(driver_open(&d, &driver_local, &cfg, &e), ST_EINVAL);
    assert_ptr_equal(driver_find("local"), &driver_local);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_launch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_after_crash_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gang_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_notice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_location, setup, teardown),
        cmocka_unit_test(test_random_preemption),
        cmocka_unit_test_setup_teardown(test_terminate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_reserved_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supervisor_killed_in_notice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_left_and_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_signals_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_attempt_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_attempt, setup, teardown),
        cmocka_unit_test(test_no_home),
    };
    struct err e;
    int rc;

    setenv("STRATUS_BIN", STRATUS_BIN_PATH, 1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    real_spawn = local_sys.spawn;
    err_clear(&e);
    if (catalog_load(&cat, TEST_DATA "/catalog-mini", &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    catalog_free(cat);
    /* Every process a test started was a descendant of this subreaper: none
     * may be left. */
    clock_sleep(0.1);
    reap();
    if (waitpid(-1, NULL, WNOHANG) == 0) {
        fprintf(stderr, "test_local: node processes were left running\n");
        return 1;
    }
    return rc;
}
