/*
 * cmd_server.c - `stratus server [--config FILE] [--check-config]`: the
 * control plane of $STRATUS_HOME in the foreground (for systemd: see
 * contrib/stratus.service), or a check of its configuration.
 *
 * The configuration is FILE, else $STRATUS_HOME/server.yaml when it exists,
 * else the built-in default (a UNIX socket in the home, one driver for every
 * location): docs/server.md.  The work is in src/server/ (server.c runs the
 * loop); this file only reads the command line and maps errors to exit
 * codes.  `stratus controller run` is this with no options.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../server/server.h"
#include "../server/server_conf.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/xmem.h"

static const char server_usage[] =
    "usage: stratus server [--config FILE] [--check-config]\n"
    "Run the control plane of $STRATUS_HOME in the foreground: the controller, the\n"
    "HTTP API and the drivers, until SIGTERM or SIGINT. Logs go to stderr.\n"
    "\n"
    "  --config FILE    the server configuration (default: $STRATUS_HOME/server.yaml\n"
    "                   when it exists, else a UNIX socket in the home and the\n"
    "                   $STRATUS_DRIVER driver, local by default, for every location)\n"
    "  --check-config   check the configuration, print a summary and exit\n"
    "                   (0 when valid, 2 with file:line:col and the reason when not)\n"
    "\n"
    "One server runs per home (the lock is $STRATUS_HOME/controller.lock). Several\n"
    "servers, each with its home, may share one PostgreSQL store: one leads, the\n"
    "others follow and take over (docs/ha.md). The configuration's keys are\n"
    "described in docs/server.md.\n";

static void summary(const struct srv_conf *c)
{
    char *store_path;
    size_t i;

    printf("%s: valid\n", c->path ? c->path : "built-in default configuration");
    for (i = 0; i < c->nlisten; i++)
        if (c->listen[i].kind == SRV_LISTEN_UNIX)
            printf("  listen  unix %s\n", c->listen[i].path);
        else
            printf("  listen  %s://%s:%d\n", c->listen[i].tls_cert ? "https" : "http",
                   c->listen[i].host, c->listen[i].port);
    store_path = store_redact(c->store_path); /* no password on screen */
    printf("  store   %s\n", store_path);
    if (strncmp(store_path, "postgres", 8) == 0) {
        printf("  lease   %gs (servers of this store share it: docs/ha.md)\n", c->lease_s);
        if (c->state_dir == NULL)
            printf("  note    no state_dir: the drivers' state is this server's own; servers "
                   "of one store should share one (docs/ha.md)\n");
    }
    free(store_path);
    if (c->state_dir != NULL)
        printf("  state   %s\n", c->state_dir);
    for (i = 0; i < c->ndrivers; i++) {
        size_t j;

        printf("  driver  %s (%s):", c->drivers[i].name, c->drivers[i].ops->name);
        for (j = 0; j < c->drivers[i].nlocations; j++)
            printf(" %s", c->drivers[i].locations[j]);
        printf("\n");
    }
}

/* The configuration, checked against the catalog when one loads (a bound
 * location that no cloud has is then an error too). */
static int load_conf(const char *home, const char *path, struct srv_conf **out, struct err *e)
{
    char *dir = catalog_default_dir(NULL);
    struct catalog *cat = NULL;
    struct err ce;
    int rc;

    err_clear(&ce);
    if (catalog_load(&cat, dir, &ce) != 0)
        cat = NULL; /* the server says so when it starts */
    free(dir);
    rc = srv_conf_load(path, home, cat, out, e);
    catalog_free(cat);
    return rc;
}

static void on_early_usr1(int sig)
{
    (void)sig; /* a wake-up from an old command, before the loop runs */
}

/* Process-wide settings of a server: node supervisors are its children,
 * and what their jobs leave orphaned is adopted (reaped in the loop), which
 * keeps finished ones from lingering as zombies when the system's init does
 * not reap promptly;
 * SIGUSR1 (what commands from before the server send to wake the
 * controller) must not end it while it opens. */
static void server_process(void)
{
    struct sigaction sa;

    prctl(PR_SET_CHILD_SUBREAPER, 1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_early_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    log_set_level(LOG_INFO);
}

int cli_server_run(const char *config, int as_controller)
{
    char *home = cli_home();
    struct srv_conf *conf = NULL;
    struct srv s;
    struct err e;
    int rc;

    err_clear(&e);
    memset(&s, 0, sizeof(s));
    rc = load_conf(home, config, &conf, &e);
    if (rc == 0) {
        server_process();
        log_info("server %ld starting for %s", (long)getpid(), home);
        rc = srv_open(&s, home, conf, &e); /* takes conf */
        if (rc == 0)
            rc = srv_run(&s, &e);
        srv_close(&s);
    }
    free(home);
    if (rc == ST_EEXISTS && as_controller) {
        fprintf(stderr, "stratus: %s\n", e.msg);
        return 0; /* as `controller run` always did: the running one does the work */
    }
    if (rc != 0)
        return cli_fail(&e);
    log_info("server %ld stopped", (long)getpid());
    return 0;
}

/* The configuration and the catalog it names, loaded as the server will
 * load them: a catalog that does not load (a missing directory, a bad
 * commitments.csv) fails the check as it would fail the server's start. */
static int check_config(const char *config)
{
    char *home = cli_home();
    struct srv_conf *conf = NULL;
    struct catalog *cat = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    rc = srv_conf_load_all(config, home, &conf, &cat, &e);
    free(home);
    if (rc != 0)
        return cli_fail(&e);
    summary(conf);
    printf("  catalog %s (%zu offers, %zu regions, %zu commitments)\n", catalog_dir(cat),
           catalog_noffers(cat), catalog_nregions(cat), catalog_ncommitments(cat));
    catalog_free(cat);
    srv_conf_free(conf);
    return 0;
}

static int run_server(int argc, char **argv)
{
    const char *config = NULL;
    int check = 0, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9] != '\0') {
            config = argv[i] + 9;
        } else {
            fprintf(stderr, "stratus: server: %s '%s'\n%s",
                    strcmp(argv[i], "--config") == 0 ? "missing FILE after" : "unknown argument",
                    argv[i], server_usage);
            return 2;
        }
    }
    return check ? check_config(config) : cli_server_run(config, 0);
}

const struct cli_cmd cli_cmd_server = {"server", "run the control plane (controller + HTTP API)",
                                       run_server, server_usage};
