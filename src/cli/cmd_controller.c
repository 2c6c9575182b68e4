/*
 * cmd_controller.c - `stratus controller run|start|stop`: the names the
 * background controller had before `stratus server`, kept as aliases.
 *
 * run   = `stratus server` in the foreground with the home's configuration
 *         (home/server.yaml, else the default); one already running is not
 *         an error, as it never was;
 * start = start one in the background unless one runs (cli_ensure_controller);
 * stop  = SIGTERM the process that holds $STRATUS_HOME/controller.lock and
 *         wait until it is gone.  Jobs keep running: the local driver's node
 *         supervisors outlive the server.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"

/* Only the process that holds the lock is the server: a pid file left by
 * one that died may name any process now (cli_controller_pid). */
static int controller_stop(void)
{
    char *home = cli_home();
    pid_t pid = cli_controller_pid(home);
    int i;

    if (pid <= 0 || kill(pid, SIGTERM) != 0) {
        printf("no controller is running\n");
        free(home);
        return 0;
    }
    for (i = 0; i < 1000 && cli_controller_pid(home) == pid; i++)
        clock_sleep(0.01);
    free(home);
    if (i == 1000) {
        fprintf(stderr, "stratus: controller %ld did not stop within 10 s\n", (long)pid);
        return 3;
    }
    printf("controller %ld stopped\n", (long)pid);
    return 0;
}

static int run_controller(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "run") == 0)
        return cli_server_run(NULL, 1);
    if (argc == 2 && strcmp(argv[1], "stop") == 0)
        return controller_stop();
    if (argc == 2 && strcmp(argv[1], "start") == 0)
        return cli_ensure_controller();
    fprintf(stderr, "usage: stratus controller run|start|stop\n"
                    "  run    run the server in the foreground (`stratus server`)\n"
                    "  start  start it in the background unless one runs\n"
                    "  stop   stop the running server (jobs keep running)\n");
    return 2;
}

static const char controller_help[] =
    "usage: stratus controller run|start|stop\n"
    "  run    run in the foreground (what the other commands start)\n"
    "  start  start in the background unless one runs\n"
    "  stop   stop the running controller (jobs keep running)\n";

const struct cli_cmd cli_cmd_controller = {"controller",
                                           "run, start or stop the background controller",
                                           run_controller, controller_help};
