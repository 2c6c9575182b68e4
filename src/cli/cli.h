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

#include "../util/err.h"

struct cli_cmd {
    const char *name;
    const char *summary;            /* one line for `stratus --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *usage;              /* `stratus NAME --help` prints it to stdout */
};

extern const struct cli_cmd cli_cmd_offers, cli_cmd_plan, cli_cmd_catalog, cli_cmd_launch,
    cli_cmd_status, cli_cmd_queue, cli_cmd_logs, cli_cmd_cancel, cli_cmd_cost, cli_cmd_events,
    cli_cmd_local, cli_cmd_controller, cli_cmd_simulate, cli_cmd_trace;
extern const struct cli_cmd cli_cmd_advise; /* cmd_advise.c: commitments advisor */
/* The server's tokens and policy (cmd_token.c, cmd_policy.c). */
extern const struct cli_cmd cli_cmd_token, cli_cmd_policy;
extern const struct cli_cmd cli_cmd_team, cli_cmd_whoami; /* cmd_team.c */
/* The web dashboard's login link (cmd_dashboard.c). */
extern const struct cli_cmd cli_cmd_dashboard;
extern const struct cli_cmd cli_cmd_serve; /* cmd_serve.c: inference services */
extern const struct cli_cmd cli_cmd_secret; /* cmd_secret.c: teams' secrets */
extern const struct cli_cmd cli_cmd_data;   /* cmd_data.c: datasets and replicas */
/* `stratus server` (cmd_server.c). */
extern const struct cli_cmd cli_cmd_server;
/* `stratus store migrate` (cmd_store.c): a SQLite store into PostgreSQL. */
extern const struct cli_cmd cli_cmd_store;
/* Run the server of cli_home() in the foreground with the configuration at
 * config (NULL: home/server.yaml, else the default) until SIGTERM; with
 * as_controller, one already running is not an error (`controller run`). */
int cli_server_run(const char *config, int as_controller);

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
/* Where the store st of home keeps its artefacts (the driver's state, the
 * checkpoints): home/state/<store id>, created owner-only; home itself for
 * a store from before store ids (store_legacy_layout). Caller frees. */
char *cli_state_dir(const char *home, struct store *st);
/* Make sure the server of cli_home() answers (started in the background
 * unless one runs; client.h): for `stratus controller start`.  0 or an
 * exit status (the reason printed). */
int cli_ensure_controller(void);
/* The pid of the controller (the server) of home, or 0 when none runs: the
 * pid in controller.pid, if that process holds controller.lock (a server
 * that has just taken the lock shows a moment later). */
pid_t cli_controller_pid(const char *home);
/* Parse a job id argument ("42"); prints an error and returns -1 if bad. */
long long cli_job_id(const char *s);
/* The policy file a launch overrides the server's policy with: the given
 * path, else $STRATUS_POLICY; NULL when none (the server's applies).
 * Caller frees. */
char *cli_policy_path(const char *given);

struct driver_ops;
/* The driver this home runs on: $STRATUS_DRIVER, else the embedded default
 * "local".  NULL for an unknown name, with the known ones listed in e. */
const struct driver_ops *cli_driver_ops(struct err *e);

struct store_event;
struct json_t;
/* One event as a line: "12:00:01  job 3  PROVISIONING -> RUNNING  running on ...". */
void cli_print_event(FILE *fp, const struct store_event *ev);
/* A time (epoch seconds, a JSON number) as lists show it, local:
 * "2026-12-03 14:05:09"; "-" when absent or 0.  Returns buf or "-". */
const char *cli_when(const struct json_t *v, char *buf, size_t n);
/* A store the command is told to read (--store PATH) that does not exist:
 * says so on stderr with what to give, and returns 1; else 0.  store_open
 * would create a missing file; a PostgreSQL URL is no file (its errors are
 * store_open's). */
int cli_store_missing(const char *path);
/* The spec's workdir as the controller resolves it (relative to the spec
 * file's directory), malloc'd; NULL when the spec has none. */
char *cli_workdir_path(const char *spec_path, const char *workdir);
/* A warning on stderr when dir, the workdir of the spec at spec_path as
 * cli_workdir_path resolved it, holds more than CLI_WORKDIR_WARN_BYTES: it
 * is copied to every node of every attempt.  Counting stops at the limit,
 * so a huge tree is not walked to its end. */
#define CLI_WORKDIR_WARN_BYTES (256LL << 20)
void cli_workdir_warn(const char *spec_path, const char *dir);
/* The line of `workdir:` in the spec file, for messages; 0 when it cannot
 * be found (e.g. written in flow style). */
size_t cli_workdir_line(const char *path);
/* A --json answer on stdout: indented by 2, a newline after; flags adds
 * jansson's (JSON_REAL_PRECISION for costs and prices). */
void cli_print_json(const struct json_t *j, size_t flags);
/* Each event of the API's array as a line; *after becomes the last one's
 * id.  0 or an exit status. */
int cli_print_events(const struct json_t *events, int64_t *after);
/* The job's bill from the API's job (GET /v1/jobs/{id}, with its
 * attempts_detail): each attempt's placement, time and cost, and the total.
 * 0 or an exit status. */
int cli_print_bill(FILE *fp, const struct json_t *job);
/* The bill of a pipeline or job group (cmd_jobs.c): a line per stage (its
 * state, where it ran, its cost) and the total.  0 or an exit status. */
int cli_print_group_bill(FILE *fp, long long group);
/* GET /v1/jobs/{id} into *out (caller decrefs); 0 or an exit status, the
 * error printed. */
int cli_get_job(long long id, struct json_t **out);
/* GET /v1/jobs/{id}/events?after= into *out ({"state", "events"}; caller
 * decrefs); 0 or an exit status, the error printed. */
int cli_job_events(long long id, int64_t after, struct json_t **out);

#endif
