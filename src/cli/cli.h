/*
 * cli.h - subcommands of the `stratus` command, one table entry each.
 *
 * Exit codes: 0 success, 1 the request was valid but cannot be met (e.g. no
 * feasible placement), 2 bad usage or bad input (including a missing file), 3 internal failure.
 */
#ifndef STRATUS_CLI_H
#define STRATUS_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

struct cli_cmd {
    const char *name;
    const char *summary;            /* one line for `stratus --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cli_cmd cli_cmd_offers, cli_cmd_plan, cli_cmd_catalog, cli_cmd_launch,
    cli_cmd_status, cli_cmd_queue, cli_cmd_logs, cli_cmd_cancel, cli_cmd_cost, cli_cmd_events,
    cli_cmd_local, cli_cmd_controller, cli_cmd_simulate, cli_cmd_trace;

const char *cli_version(void);
/* Print "stratus: <message>" and map an error code to an exit status. */
int cli_fail(const struct err *e);
/* Exit status for an error code. */
int cli_exit_code(int code);

struct catalog;
/* Load the catalog from dir, or the default one (catalog_default_dir) when dir
 * is NULL; on failure prints the error and returns the exit status (> 0). */
int cli_load_catalog(const char *dir, struct catalog **out);

struct store;
/* $STRATUS_HOME, else ~/.stratus; created (0700) if missing.  A home that
 * others may read or write is changed to 0700 with a warning; one that
 * belongs to another user, or is not a directory, is refused: the command
 * prints why and exits 2.  Caller frees. */
char *cli_home(void);
/* Open the store of cli_home(); on failure prints and returns the exit status. */
int cli_open_store(struct store **out);
/* Where the store st of home keeps its artefacts (the driver's state, the
 * checkpoints): home/state/<store id>, created owner-only; home itself for
 * a store from before store ids (store_legacy_layout). Caller frees. */
char *cli_state_dir(const char *home, struct store *st);
/* Start the controller of cli_home() in the background unless one runs; then
 * wake it so it sees new jobs and requests at once. 0 or an exit status. */
int cli_ensure_controller(void);
/* The pid of the controller of home, or 0 when none runs: the pid in
 * controller.pid, if that process holds controller.lock (a controller that
 * has just taken the lock shows a moment later). */
pid_t cli_controller_pid(const char *home);
/* Wake a running controller (no-op when none runs). */
void cli_poke_controller(void);
/* For the commands that show job state (status, queue, events, logs, cost):
 * when jobs are active and no controller runs, start one and wait (bounded)
 * until it has caught up with what happened while none ran; when that cannot
 * be done (STRATUS_NO_AUTOSTART, a failed start, a slow start) say on stderr
 * that the state shown may be stale.  Never fails the command. */
void cli_fresh_state(struct store *st);
/* Parse a job id argument ("42"); prints an error and returns -1 if bad. */
long long cli_job_id(const char *s);
/* Choose the policy file: the given path, else $STRATUS_POLICY, else
 * $STRATUS_HOME/policy.yaml when it exists; NULL when none. Caller frees. */
char *cli_policy_path(const char *given);

struct driver_ops;
/* The driver this home runs on: $STRATUS_DRIVER, else the embedded default
 * "local".  NULL for an unknown name, with the known ones listed in e. */
const struct driver_ops *cli_driver_ops(struct err *e);

struct store_event;
/* One event as a line: "12:00:01  job 3  PROVISIONING -> RUNNING  running on ...". */
void cli_print_event(FILE *fp, const struct store_event *ev);
/* The job's bill: each attempt's placement, time and cost, and the total. */
int cli_print_bill(FILE *fp, struct store *st, int64_t job_id);

#endif
