/*
 * test_server_conf.c - the server configuration (src/server/server_conf.c):
 * a full file read back field by field, the built-in default and its
 * environment knobs, every user error with its exact file:line:col message,
 * and what the server builds from a configuration (the multi driver's
 * children, the controller's base timing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "catalog/catalog.h"
#include "driver/driver.h"
#include "driver/multi.h"
#include "sched/sched.h"
#include "server/server_conf.h"
#include "testutil.h"

struct fx {
    char *home;
    struct catalog *cat;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct err e;

    f->home = tu_mkdtemp();
    if (catalog_load(&f->cat, TEST_DATA "/sched/catalog", &e) != 0)
        fail_msg("%s", e.msg);
    unsetenv("STRATUS_DRIVER");
    unsetenv("STRATUS_BLOCK_COOLDOWN");
    unsetenv("STRATUS_BACKOFF");
    unsetenv("STRATUS_WAIT_RETRY");
    unsetenv("STRATUS_RELAUNCH_OVERHEAD");
    unsetenv("STRATUS_NO_DISPLACE");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    tu_rmdir(f->home);
    free(f->home);
    catalog_free(f->cat);
    free(f);
    return 0;
}

#define assert_dbl(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* Write text as home/server.yaml and load it (path NULL: found in the home). */
static int load(struct fx *f, const char *text, struct srv_conf **c, struct err *e)
{
    tu_write(f->home, "server.yaml", text);
    err_clear(e);
    *c = NULL;
    return srv_conf_load(NULL, f->home, f->cat, c, e);
}

static char *hp(const struct fx *f, const char *name)
{
    return xasprintf("%s/%s", f->home, name);
}

static const char *const GOOD =
    "# the example of docs/server.md\n"
    "listen:\n"
    "  - unix: stratus.sock\n"
    "  - tcp: 127.0.0.1:8470\n"
    "    tls: {cert: server.crt, key: /etc/stratus/server.key}\n"
    "  - tcp: \"[::1]:0\"\n"
    "store: state/stratus.db\n"
    "catalog: /opt/catalog\n"
    "max_body: 2MiB\n"
    "displace: false\n"
    "commit_backfill: false\n"
    "data_ttl: 2d\n"
    "drivers:\n"
    "  - name: local\n"
    "    driver: local\n"
    "    config: local.yaml\n"
    "    locations: [\"*\"]\n"
    "    timing: {block_cooldown: 30s, backoff_base: 1s, backoff_max: 30s,\n"
    "             wait_retry: 2s, relaunch_overhead: 3s, poll: 1s}\n"
    "  - name: lab-slurm\n"
    "    driver: slurm\n"
    "    config: /etc/stratus/clusters.yaml\n"
    "    locations: [azure/eastus, gcp/us-central1]\n"
    "    timing:\n"
    "      block_cooldown: 2m\n"
    "      poll: 250ms\n";

static void test_good_file(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char *p;

    assert_int_equal(load(f, GOOD, &c, &e), 0);
    p = hp(f, "server.yaml");
    assert_string_equal(c->path, p);
    free(p);
    assert_int_equal(c->nlisten, 3);
    assert_int_equal(c->listen[0].kind, SRV_LISTEN_UNIX);
    p = hp(f, "stratus.sock");
    assert_string_equal(c->listen[0].path, p);
    free(p);
    assert_int_equal(c->listen[1].kind, SRV_LISTEN_TCP);
    assert_string_equal(c->listen[1].host, "127.0.0.1");
    assert_int_equal(c->listen[1].port, 8470);
    p = hp(f, "server.crt");
    assert_string_equal(c->listen[1].tls_cert, p);
    free(p);
    assert_string_equal(c->listen[1].tls_key, "/etc/stratus/server.key");
    assert_string_equal(c->listen[2].host, "::1");
    assert_int_equal(c->listen[2].port, 0);
    assert_null(c->listen[2].tls_cert);
    p = hp(f, "state/stratus.db");
    assert_string_equal(c->store_path, p);
    free(p);
    assert_string_equal(c->catalog_dir, "/opt/catalog");
    assert_int_equal(c->max_body, 2 << 20);
    assert_int_equal(c->displace, 0);
    assert_int_equal(c->commit_backfill, 0);
    assert_dbl(c->data_ttl_s, 2 * 86400);
    assert_int_equal(c->ndrivers, 2);
    assert_string_equal(c->drivers[0].name, "local");
    assert_ptr_equal(c->drivers[0].ops, &driver_local);
    p = hp(f, "local.yaml");
    assert_string_equal(c->drivers[0].config_path, p);
    free(p);
    assert_int_equal(c->drivers[0].nlocations, 1);
    assert_string_equal(c->drivers[0].locations[0], "*");
    assert_dbl(c->drivers[0].timing.poll_s, 1);
    assert_dbl(c->drivers[0].timing.relaunch_overhead_s, 3);
    assert_string_equal(c->drivers[1].name, "lab-slurm");
    assert_ptr_equal(c->drivers[1].ops, &driver_slurm);
    assert_string_equal(c->drivers[1].config_path, "/etc/stratus/clusters.yaml");
    assert_int_equal(c->drivers[1].nlocations, 2);
    assert_string_equal(c->drivers[1].locations[0], "azure/eastus");
    assert_string_equal(c->drivers[1].locations[1], "gcp/us-central1");
    assert_dbl(c->drivers[1].timing.block_cooldown_s, 120);
    assert_dbl(c->drivers[1].timing.poll_s, 0.25);
    /* left out: the slurm kind's defaults */
    assert_dbl(c->drivers[1].timing.backoff_base_s, 5);
    assert_dbl(c->drivers[1].timing.backoff_max_s, 300);
    srv_conf_free(c);
}

/* Everything left out: the defaults; a lone driver is bound everywhere. */
static void test_minimal_file(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char *p;

    setenv("STRATUS_BLOCK_COOLDOWN", "12", 1);
    assert_int_equal(load(f, "drivers:\n  - driver: slurm\n", &c, &e), 0);
    assert_int_equal(c->nlisten, 1);
    assert_int_equal(c->listen[0].kind, SRV_LISTEN_UNIX);
    p = hp(f, "stratus.db");
    assert_string_equal(c->store_path, p);
    free(p);
    assert_int_equal(c->max_body, 1 << 20);
    assert_int_equal(c->displace, 1);
    assert_int_equal(c->commit_backfill, 1);
    assert_true(c->data_ttl_s < 0); /* the controller's default */
    assert_string_equal(c->drivers[0].name, "slurm");
    p = hp(f, "clusters.yaml");
    assert_string_equal(c->drivers[0].config_path, p);
    free(p);
    assert_string_equal(c->drivers[0].locations[0], "*");
    /* the environment tunes the local clouds, not a Slurm cluster */
    assert_dbl(c->drivers[0].timing.block_cooldown_s, 60);
    srv_conf_free(c);
    /* an empty file: the default driver (local, tuned by the environment) */
    assert_int_equal(load(f, "", &c, &e), 0);
    assert_int_equal(c->ndrivers, 1);
    assert_ptr_equal(c->drivers[0].ops, &driver_local);
    assert_dbl(c->drivers[0].timing.block_cooldown_s, 12);
    assert_non_null(c->path);
    srv_conf_free(c);
    assert_int_equal(load(f, "store: \"mem:\"\nmax_body: 64k\n", &c, &e), 0);
    assert_string_equal(c->store_path, "mem:");
    assert_int_equal(c->max_body, 65536);
    srv_conf_free(c);
}

static void test_default(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char *p;

    err_clear(&e);
    assert_int_equal(srv_conf_load(NULL, f->home, f->cat, &c, &e), 0);
    assert_null(c->path);
    assert_int_equal(c->nlisten, 1);
    p = hp(f, "stratus.sock");
    assert_string_equal(c->listen[0].path, p);
    free(p);
    p = hp(f, "stratus.db");
    assert_string_equal(c->store_path, p);
    free(p);
    assert_null(c->catalog_dir);
    assert_int_equal(c->max_body, 1 << 20);
    assert_int_equal(c->displace, 1);
    assert_int_equal(c->ndrivers, 1);
    assert_string_equal(c->drivers[0].name, "local");
    assert_ptr_equal(c->drivers[0].ops, &driver_local);
    p = hp(f, "local.yaml");
    assert_string_equal(c->drivers[0].config_path, p);
    free(p);
    assert_int_equal(c->drivers[0].nlocations, 1);
    assert_string_equal(c->drivers[0].locations[0], "*");
    assert_dbl(c->drivers[0].timing.block_cooldown_s, 30);
    assert_dbl(c->drivers[0].timing.backoff_base_s, 1);
    assert_dbl(c->drivers[0].timing.backoff_max_s, 30);
    assert_dbl(c->drivers[0].timing.relaunch_overhead_s, 3);
    assert_dbl(c->drivers[0].timing.wait_retry_s, 2);
    assert_dbl(c->drivers[0].timing.poll_s, 0.5);
    srv_conf_free(c);
}

/* The environment, as the controller read it before the server. */
static void test_default_env(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char *p;

    setenv("STRATUS_DRIVER", "slurm", 1);
    setenv("STRATUS_BLOCK_COOLDOWN", "7", 1);
    setenv("STRATUS_BACKOFF", "0.5", 1);
    setenv("STRATUS_WAIT_RETRY", "1", 1);
    setenv("STRATUS_RELAUNCH_OVERHEAD", "4", 1);
    setenv("STRATUS_NO_DISPLACE", "1", 1);
    err_clear(&e);
    assert_int_equal(srv_conf_load(NULL, f->home, NULL, &c, &e), 0);
    assert_ptr_equal(c->drivers[0].ops, &driver_slurm);
    assert_string_equal(c->drivers[0].name, "slurm");
    p = hp(f, "clusters.yaml");
    assert_string_equal(c->drivers[0].config_path, p);
    free(p);
    assert_dbl(c->drivers[0].timing.block_cooldown_s, 7);
    assert_dbl(c->drivers[0].timing.backoff_base_s, 0.5);
    assert_dbl(c->drivers[0].timing.wait_retry_s, 1);
    assert_dbl(c->drivers[0].timing.relaunch_overhead_s, 4);
    assert_int_equal(c->displace, 0);
    srv_conf_free(c);
    c = srv_conf_default(f->home);
    assert_ptr_equal(c->drivers[0].ops, &driver_slurm);
    srv_conf_free(c);

    setenv("STRATUS_DRIVER", "slurmm", 1);
    assert_int_equal(srv_conf_load(NULL, f->home, NULL, &c, &e), ST_EINVAL);
    assert_null(c);
    assert_string_equal(e.msg,
                        "unknown driver 'slurmm' in STRATUS_DRIVER; the drivers are: "
                        "local, slurm (unset it for local)");
    c = srv_conf_default(f->home); /* cannot fail: local */
    assert_ptr_equal(c->drivers[0].ops, &driver_local);
    srv_conf_free(c);
    setenv("STRATUS_DRIVER", "sim", 1);
    assert_int_equal(srv_conf_load(NULL, f->home, NULL, &c, &e), ST_EINVAL);
    assert_string_equal(e.msg,
                        "a server cannot run the driver 'sim' in STRATUS_DRIVER; the "
                        "drivers are: local, slurm (unset it for local)");
}

/* An explicit path wins over home/server.yaml; a missing one is an error. */
static void test_explicit_path(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char *p = hp(f, "other.yaml"), *missing = hp(f, "nope.yaml");

    tu_write(f->home, "server.yaml", "bogus: 1\n");
    tu_write(f->home, "other.yaml", "max_body: 4KiB\n");
    err_clear(&e);
    assert_int_equal(srv_conf_load(p, f->home, NULL, &c, &e), 0);
    assert_string_equal(c->path, p);
    assert_int_equal(c->max_body, 4096);
    srv_conf_free(c);
    assert_int_equal(srv_conf_load(missing, f->home, NULL, &c, &e), ST_EIO);
    assert_non_null(strstr(e.msg, "nope.yaml: cannot open"));
    free(p);
    free(missing);
}

/* One bad file: the message after "<home>/server.yaml:". */
struct bad {
    const char *text;
    const char *msg;
};

static const struct bad BAD[] = {
    {"listne:\n  - unix: s.sock\n",
     "1:1: unknown key 'listne' in the server configuration (did you mean 'listen'?)"},
    {"drivers:\n  - driver: slurmm\n", "2:13: unknown driver 'slurmm' (did you mean "
                                       "'slurm'?); the drivers are: local, slurm"},
    {"drivers:\n  - driver: kubernetes\n",
     "2:13: unknown driver 'kubernetes'; the drivers are: local, slurm"},
    {"drivers:\n  - driver: sim\n",
     "2:13: the sim driver runs only inside `stratus simulate`, not in a server; the "
     "drivers are: local, slurm"},
    {"drivers:\n  - name: a\n",
     "2:5: a drivers entry needs 'driver: KIND' (local, slurm)"},
    {"drivers:\n  - driver: local\n    locatons: [gcp]\n",
     "3:5: unknown key 'locatons' in a drivers entry (did you mean 'locations'?)"},
    {"drivers:\n"
     "  - driver: local\n    locations: [\"*\", gcp]\n"
     "  - driver: slurm\n    locations: [azure, gcp]\n",
     "5:24: location 'gcp' is bound twice: to driver 'local' (line 3) and to 'slurm'; "
     "bind "
     "each location to one driver"},
    {"drivers:\n"
     "  - driver: local\n    locations: [\"*\"]\n"
     "  - driver: slurm\n    locations: [\"*\"]\n",
     "5:17: location '*' is bound twice: to driver 'local' (line 3) and to 'slurm'; bind "
     "each location to one driver"},
    {"drivers:\n"
     "  - driver: local\n    locations: [gcp]\n"
     "  - driver: local\n    locations: [azure]\n",
     "4:5: driver name 'local' is used twice (also line 2); give each driver its own "
     "'name'"},
    {"drivers:\n"
     "  - driver: local\n    locations: [gcp]\n"
     "  - driver: slurm\n",
     "4:5: driver 'slurm' needs 'locations' (with several drivers, each says which "
     "locations it serves)"},
    {"drivers:\n  - driver: local\n    locations: [gcp/us-centrl1]\n",
     "3:17: location 'gcp/us-centrl1' matches no location in the catalog (did you mean "
     "'gcp/us-central1'?)"},
    {"drivers:\n  - driver: local\n    locations: []\n",
     "3:16: locations is empty: bind the driver to at least one location"},
    {"drivers:\n  - driver: local\n    name: \"../x\"\n",
     "3:11: driver name '../x' must be letters, digits, '-', '_' or '.' (at most 64, not "
     "starting with '.' or '-'): it names a directory"},
    {"drivers:\n  - driver: local\n    timing: {block_cooldown: soon}\n",
     "3:30: timing.block_cooldown must be a duration such as 90s, 30m, 2h or 1h30m, not "
     "'soon'"},
    {"drivers:\n  - driver: local\n    timing: {pol: 1s}\n",
     "3:14: unknown key 'pol' in timing (did you mean 'poll'?)"},
    {"drivers:\n  - driver: local\n    timing: {poll: 0s}\n",
     "3:20: timing.poll must be at least 10ms (it is how often the server looks)"},
    {"drivers:\n  - driver: local\n    timing: {backoff_base: 1m, backoff_max: 10s}\n",
     "3:45: timing.backoff_max (10s) is less than backoff_base (60s)"},
    {"drivers: []\n",
     "1:10: drivers is empty (leave it out for the default: $STRATUS_DRIVER, else local, "
     "everywhere)"},
    {"max_body: lots\n",
     "1:11: max_body must be a size such as 1MiB, 512KiB or 65536 (bytes), not 'lots'"},
    {"max_body: 2GiB\n", "1:11: max_body must be between 1 KiB and 1024 MiB, not 2GiB"},
    {"listen:\n  - tcp: localhost\n",
     "2:10: listen.tcp must be HOST:PORT (127.0.0.1:8470, [::1]:8470; port 0 = any free "
     "one), not 'localhost'"},
    {"listen:\n  - tcp: 127.0.0.1:70000\n",
     "2:10: listen.tcp must be HOST:PORT (127.0.0.1:8470, [::1]:8470; port 0 = any free "
     "one), not '127.0.0.1:70000'"},
    {"listen:\n  - unix: a.sock\n    tcp: 127.0.0.1:1\n",
     "2:5: a listen entry needs exactly one of 'unix: PATH' or 'tcp: HOST:PORT'"},
    {"listen:\n  - unix: a.sock\n    tls: {cert: c, key: k}\n",
     "3:10: tls applies to tcp listeners (a UNIX socket is checked by its owner)"},
    {"listen:\n  - tcp: 127.0.0.1:1\n    tls: {cert: c}\n",
     "3:10: listen.tls needs both 'cert' and 'key' (PEM files)"},
    {"listen:\n  - tcp: 127.0.0.1:8470\n  - tcp: 127.0.0.1:8470\n",
     "3:5: this listener is listed twice (also line 2)"},
    {"listen: []\n",
     "1:9: listen has no entries (leave it out for the UNIX socket in the home)"},
    {"displace: maybe\n", NULL}, /* yget_bool's own message; only the position checked */
    {"commit_backfill: 2\n", "1:18: commit_backfill must be true or false, not '2'"},
    {"data_ttl: 400d\n", "1:11: data_ttl must be 0s to 365d (how long a shared dataset's "
                         "replica is kept after its last use; 0: deleted once no attempt "
                         "runs on it)"},
    {"data_ttl: soon\n",
     "1:11: data_ttl must be a duration such as 90s, 30m, 2h or 1h30m, not 'soon'"},
    {"- a\n- b\n", "1:1: the server configuration must be a mapping, not a list"},
};

static void test_errors(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        char *want =
            xasprintf("%s/server.yaml:%s", f->home, BAD[i].msg ? BAD[i].msg : "1:11:");

        if (load(f, BAD[i].text, &c, &e) == 0)
            fail_msg("case %zu loaded: %s", i, BAD[i].text);
        assert_null(c);
        if (BAD[i].msg ? strcmp(e.msg, want) != 0
                       : strncmp(e.msg, want, strlen(want)) != 0)
            fail_msg("case %zu:\n  got  %s\n  want %s", i, e.msg, want);
        free(want);
    }
}

/* A long home makes the socket path too long for a UNIX socket. */
static void test_socket_too_long(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct err e;
    char text[256];

    snprintf(text, sizeof(text), "listen:\n  - unix: %0120d.sock\n", 0);
    assert_int_equal(load(f, text, &c, &e), ST_EINVAL);
    assert_non_null(strstr(e.msg, "server.yaml:2:11: listen.unix: the socket path"));
    assert_non_null(strstr(e.msg, "UNIX sockets take at most 107"));
}

/* The multi driver's children and the controller's timing from a file. */
static void test_bindings(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct multi_child *ch;
    struct multi_world w;
    struct sched_config base;
    size_t n;
    struct err e;

    assert_int_equal(load(f, GOOD, &c, &e), 0);
    assert_int_equal(srv_conf_bindings(c, &ch, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ch[1].name, "lab-slurm");
    assert_ptr_equal(ch[1].ops, &driver_slurm);
    assert_string_equal(ch[1].config_path, "/etc/stratus/clusters.yaml");
    assert_int_equal(ch[1].nlocations, 2);
    w = (struct multi_world){ch, n, NULL, NULL};
    assert_int_equal(multi_world_child(&w, "gcp", "us-central1", "us-central1-a"), 1);
    assert_int_equal(multi_world_child(&w, "gcp", "europe-west4", ""), 0);
    assert_int_equal(multi_world_child(&w, "azure", "eastus", ""), 1);
    free(ch);
    srv_conf_sched_config(c, &base);
    assert_int_equal(base.preempt_lower_priority, 0); /* displace: false */
    assert_int_equal(base.commit_backfill, 0);        /* commit_backfill: false */
    assert_dbl(base.data_ttl_s, 2 * 86400);           /* data_ttl: 2d */
    assert_dbl(base.block_cooldown_s, 30);            /* the "*" driver's */
    assert_dbl(base.wait_retry_s, 2);                 /* the smallest */
    assert_dbl(base.relaunch_overhead_s, 30);         /* the largest: slurm's */
    srv_conf_free(c);
}

/* The catalog the file names, then the file checked against it. */
static void test_load_all(void **state)
{
    struct fx *f = *state;
    struct srv_conf *c;
    struct catalog *cat;
    struct err e;
    char text[512];

    snprintf(text, sizeof(text),
             "catalog: %s/sched/catalog\n"
             "drivers:\n  - driver: local\n    locations: [oci/us-ashburn-1]\n",
             TEST_DATA);
    tu_write(f->home, "server.yaml", text);
    err_clear(&e);
    assert_int_equal(srv_conf_load_all(NULL, f->home, &c, &cat, &e), 0);
    assert_non_null(cat);
    assert_true(catalog_noffers(cat) == catalog_noffers(f->cat));
    srv_conf_free(c);
    catalog_free(cat);
    /* aws is in the default catalog but not in the one the file names */
    snprintf(text, sizeof(text),
             "catalog: %s/sched/catalog\n"
             "drivers:\n  - driver: local\n    locations: [aws]\n",
             TEST_DATA);
    tu_write(f->home, "server.yaml", text);
    assert_int_equal(srv_conf_load_all(NULL, f->home, &c, &cat, &e), ST_EINVAL);
    assert_null(c);
    assert_null(cat);
    assert_non_null(strstr(e.msg,
                           "server.yaml:4:17: location 'aws' matches no location in "
                           "the catalog"));
    tu_write(f->home, "server.yaml", "catalog: nowhere\n");
    assert_int_equal(srv_conf_load_all(NULL, f->home, &c, &cat, &e) != 0, 1);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_all, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
