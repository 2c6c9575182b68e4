/*
 * cmd_jobs.c - the commands that look at jobs: status, queue, events, logs,
 * cost, and cancel.  They read the store directly (SQLite in WAL mode lets
 * them read while the controller writes); cancel files a request for it.
 * The store is only as current as the controller keeps it: while jobs are
 * active and none runs, the readers start one and wait until it has caught
 * up, or say that the state may be stale (cli_fresh_state).
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/driver.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/strutil.h"
#include "util/xmem.h"

static const char *clock_hms(double t, char *buf, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;

    localtime_r(&s, &tm);
    strftime(buf, n, "%H:%M:%S", &tm);
    return buf;
}

void cli_print_event(FILE *fp, const struct store_event *ev)
{
    char t[16];

    if (ev->from_state >= 0 && ev->to_state >= 0)
        fprintf(fp, "%s  job %lld  %s -> %s: %s\n", clock_hms(ev->at, t, sizeof(t)),
                (long long)ev->job_id, job_state_name(ev->from_state),
                job_state_name(ev->to_state), ev->msg ? ev->msg : "");
    else
        fprintf(fp, "%s  job %lld  %s: %s\n", clock_hms(ev->at, t, sizeof(t)),
                (long long)ev->job_id, ev->type, ev->msg ? ev->msg : "");
}

int cli_print_bill(FILE *fp, struct store *st, int64_t job_id)
{
    struct store_attempt *a = NULL;
    struct store_job j;
    size_t i, n = 0;
    struct err e;
    char m[32], d[32];
    double total = 0;

    if (store_job_get(st, job_id, &j, &e) != 0 || store_attempt_list(st, job_id, &a, &n, &e) != 0)
        return cli_fail(&e);
    fprintf(fp, "\njob %lld %s: %s (%s)\n", (long long)j.id, j.name, job_state_name(j.state),
            j.reason ? j.reason : "");
    for (i = 0; i < n; i++) {
        double cost = a[i].state == ATT_ENDED ? a[i].cost
                                              : store_attempt_cost_at(&a[i], clock_now(&clock_wall));
        double end = a[i].ended_at > 0 ? a[i].ended_at : clock_now(&clock_wall);
        double secs = a[i].running_at > 0 && end > a[i].running_at ? end - a[i].running_at : 0;
        const char *how = a[i].state == ATT_RUNNING     ? "running"
                          : a[i].state == ATT_LAUNCHING ? "launching"
                                                        : attempt_end_name(a[i].end_reason);

        fprintf(fp, "  attempt %d  %s/%s%s%s  %d x %s %-9s  %-9s %8s  %s\n", a[i].n, a[i].cloud,
                a[i].region, *a[i].zone ? "/" : "", a[i].zone, a[i].nodes, a[i].instance_type,
                plan_mode_name(a[i].mode), how, str_duration(d, sizeof(d), secs),
                str_money(m, sizeof(m), cost));
        total += cost;
    }
    fprintf(fp, "  total %s over %zu attempt%s, %d restart%s\n", str_money(m, sizeof(m), total), n,
            n == 1 ? "" : "s", j.restarts, j.restarts == 1 ? "" : "s");
    store_attempts_free(a, n);
    store_job_clear(&j);
    return 0;
}

/* Said by every reader's usage: what it does when no controller runs. */
static const char fresh_note[] =
    "While jobs are active and no controller runs, this starts one and waits\n"
    "(up to 15 s) until it has caught up; with STRATUS_NO_AUTOSTART set, or if\n"
    "that fails, it warns on stderr that the state shown may be stale.\n";

/* ---- status and queue ---- */

static json_t *job_json(const struct store_job *j)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name));
    json_object_set_new(o, "kind", json_string(spec_kind_name((enum spec_kind)j->kind)));
    json_object_set_new(o, "team", j->team ? json_string(j->team) : json_null());
    json_object_set_new(o, "priority", json_integer(j->priority));
    json_object_set_new(o, "state", json_string(job_state_name(j->state)));
    json_object_set_new(o, "reason", j->reason ? json_string(j->reason) : json_null());
    json_object_set_new(o, "submitted_at", json_real(j->submitted_at));
    json_object_set_new(o, "ended_at", j->ended_at > 0 ? json_real(j->ended_at) : json_null());
    json_object_set_new(o, "attempts", json_integer(j->nattempts));
    json_object_set_new(o, "restarts", json_integer(j->restarts));
    json_object_set_new(o, "cost", json_real(j->cost));
    json_object_set_new(o, "exit_code", j->exit_code >= 0 ? json_integer(j->exit_code) : json_null());
    json_object_set_new(o, "on_demand_only", json_boolean(j->on_demand_only));
    return o;
}

static void print_job_line(const struct store_job *j, const struct store_attempt *a)
{
    char m[32], loc[160] = "-";

    if (a)
        snprintf(loc, sizeof(loc), "%s/%s %s %s", a->cloud, a->region, a->instance_type,
                 plan_mode_name(a->mode));
    printf("%5lld  %-24.24s %-6s %3d  %-12s %-48.48s %10s  %s\n", (long long)j->id, j->name,
           spec_kind_name((enum spec_kind)j->kind), j->priority, job_state_name(j->state), loc,
           str_money(m, sizeof(m), j->cost), j->reason ? j->reason : "");
}

static int list_jobs(int active_only, int json)
{
    struct store_job *v = NULL;
    struct store *st;
    size_t i, n = 0;
    struct err e;
    int rc;

    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    cli_fresh_state(st);
    if (store_job_list(st, active_only, &v, &n, &e) != 0) {
        store_close(st);
        return cli_fail(&e);
    }
    if (json) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, job_json(&v[i]));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    } else {
        printf("%5s  %-24s %-6s %3s  %-12s %-48s %10s  %s\n", "ID", "NAME", "KIND", "PRI",
               "STATE", "PLACEMENT", "COST", "REASON");
        for (i = 0; i < n; i++) {
            struct store_attempt a, *ap = NULL;

            if (v[i].cur_attempt && store_attempt_get(st, v[i].cur_attempt, &a, &e) == 0)
                ap = &a;
            print_job_line(&v[i], ap);
            if (ap)
                store_attempt_clear(ap);
        }
    }
    store_jobs_free(v, n);
    store_close(st);
    return 0;
}

static int show_job(long long id, int json)
{
    struct store *st;
    struct store_job j;
    struct err e;
    int rc;

    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    cli_fresh_state(st);
    err_clear(&e);
    if ((rc = store_job_get(st, id, &j, &e)) != 0) {
        store_close(st);
        return cli_fail(&e);
    }
    if (json) {
        json_t *o = job_json(&j);

        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        rc = cli_print_bill(stdout, st, id);
    }
    store_job_clear(&j);
    store_close(st);
    return rc;
}

static int run_status(int argc, char **argv)
{
    int json = 0, i;
    const char *job = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (job == NULL && argv[i][0] != '-')
            job = argv[i];
        else {
            fprintf(stderr, "usage: stratus status [JOB] [--json]\n%s", fresh_note);
            return 2;
        }
    }
    if (job == NULL)
        return list_jobs(0, json);
    return cli_job_id(job) < 0 ? 2 : show_job(cli_job_id(job), json);
}

static int run_queue(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;

    if (argc > 1 && !json) {
        fprintf(stderr, "usage: stratus queue [--json]\n%s", fresh_note);
        return 2;
    }
    return list_jobs(1, json);
}

/* ---- events ---- */

/* `stratus CMD JOB`: check the usage, open the store and read the job.  On
 * success the caller owns *st and *j; otherwise the exit status is returned. */
static int open_job(int argc, char **argv, const char *cmd, int fresh, struct store **st,
                    struct store_job *j, long long *id)
{
    struct err e;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: stratus %s JOB\n%s", cmd, strcmp(cmd, "events") ? "" : fresh_note);
        return 2;
    }
    if ((*id = cli_job_id(argv[1])) < 0)
        return 2;
    if ((rc = cli_open_store(st)) != 0)
        return rc;
    if (fresh)
        cli_fresh_state(*st);
    err_clear(&e);
    if (store_job_get(*st, *id, j, &e) != 0) {
        store_close(*st);
        return cli_fail(&e);
    }
    return 0;
}

static int run_events(int argc, char **argv)
{
    struct store_event *ev = NULL;
    struct store *st;
    struct store_job j;
    size_t i, n = 0;
    struct err e;
    long long id;
    int rc = open_job(argc, argv, "events", 1, &st, &j, &id);

    if (rc != 0)
        return rc;
    store_job_clear(&j);
    err_clear(&e);
    if (store_event_list(st, id, 0, 0, &ev, &n, &e) != 0)
        rc = cli_fail(&e);
    for (i = 0; i < n; i++)
        cli_print_event(stdout, &ev[i]);
    store_events_free(ev, n);
    store_close(st);
    return rc;
}

/* ---- cancel ---- */

static int run_cancel(int argc, char **argv)
{
    struct store *st;
    struct store_job j;
    struct err e;
    long long id;
    int rc = open_job(argc, argv, "cancel", 0, &st, &j, &id);

    if (rc != 0)
        return rc;
    err_clear(&e);
    if (job_state_terminal(j.state)) {
        printf("job %lld already ended: %s\n", id, job_state_name(j.state));
    } else if (store_request_add(st, "cancel", argv[1], clock_now(&clock_wall), NULL, &e) != 0) {
        rc = cli_fail(&e);
    } else {
        printf("job %lld: cancel requested\n", id);
        rc = cli_ensure_controller();
    }
    store_job_clear(&j);
    store_close(st);
    return rc;
}

/* ---- cost ---- */

static int run_cost(int argc, char **argv)
{
    const char *by = "cloud";
    struct store_cost_row *r = NULL;
    struct store *st;
    size_t i, n = 0;
    double total = 0, hours = 0, lost = 0;
    struct err e;
    char m[32];
    int rc;

    if (argc == 3 && strcmp(argv[1], "--by") == 0)
        by = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: stratus cost [--by cloud|team|job]\n%s", fresh_note);
        return 2;
    }
    if (strcmp(by, "cloud") && strcmp(by, "team") && strcmp(by, "job")) {
        fprintf(stderr, "stratus: --by takes cloud, team or job, not '%s'\n", by);
        return 2;
    }
    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    cli_fresh_state(st);
    err_clear(&e);
    if (store_cost_report(st, by, &r, &n, &e) != 0) {
        store_close(st);
        return cli_fail(&e);
    }
    printf("%-28s %12s %12s %14s %9s\n", by, "COST", "NODE-HOURS", "LOST NODE-H", "ATTEMPTS");
    for (i = 0; i < n; i++) {
        printf("%-28.28s %12s %12.4f %14.4f %9d\n", r[i].key, str_money(m, sizeof(m), r[i].usd),
               r[i].node_hours, r[i].lost_node_hours, r[i].attempts);
        total += r[i].usd;
        hours += r[i].node_hours;
        lost += r[i].lost_node_hours;
    }
    printf("%-28s %12s %12.4f %14.4f\n", "total", str_money(m, sizeof(m), total), hours, lost);
    store_cost_rows_free(r, n);
    store_close(st);
    return 0;
}

/* ---- logs ---- */

static int print_file(const char *path, long *offset)
{
    FILE *fp = fopen(path, "r");
    char buf[8192];
    size_t n;

    if (fp == NULL)
        return -1;
    fseek(fp, *offset, SEEK_SET);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        fwrite(buf, 1, n, stdout);
    *offset = ftell(fp);
    fclose(fp);
    fflush(stdout);
    return 0;
}

static int logs_path(struct store *st, long long id, int node, char *path, size_t n,
                     int *state, struct err *e)
{
    struct store_attempt *a = NULL;
    const struct driver_ops *ops;
    struct store_job j;
    struct driver d;
    struct driver_config cfg = {0};
    size_t na = 0;
    char *home = cli_home(), *state_dir, *conf;
    int rc;

    if ((rc = store_job_get(st, id, &j, e)) != 0) {
        free(home);
        return rc;
    }
    *state = j.state;
    store_job_clear(&j);
    if ((rc = store_attempt_list(st, id, &a, &na, e)) != 0 || na == 0) {
        free(home);
        return rc ? rc : err_set(e, ST_ENOTFOUND, "job %lld has not been launched yet", id);
    }
    state_dir = cli_state_dir(home, st); /* where this store's driver keeps its logs */
    cfg.home = state_dir;
    cfg.clock = &clock_wall;
    ops = cli_driver_ops(e);
    conf = ops && ops->config_name ? xasprintf("%s/%s", home, ops->config_name) : NULL;
    cfg.config_path = conf; /* the driver's file is the home's, as the controller's */
    rc = ops ? driver_open(&d, ops, &cfg, e) : e->code;
    if (rc == 0) {
        rc = driver_log_path(&d, a[na - 1].id, node, path, n);
        if (rc != 0)
            err_set(e, rc, "no log for job %lld node %d", id, node);
        driver_close(&d);
    }
    store_attempts_free(a, na);
    free(state_dir);
    free(conf);
    free(home);
    return rc;
}

static int run_logs(int argc, char **argv)
{
    static const struct option longs[] = {{"node", required_argument, NULL, 'n'},
                                          {"follow", no_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    long node = 0, off = 0;
    int follow = 0, ch, rc, state = JOB_PENDING;
    char path[4096], last[4096] = "";
    struct store *st;
    struct err e;
    long long id;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "f", longs, NULL)) != -1) {
        if (ch == 'n' && str_to_long(optarg, 0, 4095, &node) == 0)
            continue;
        if (ch == 'f') {
            follow = 1;
            continue;
        }
        fprintf(stderr, "usage: stratus logs JOB [--node N] [--follow]\n%s", fresh_note);
        return 2;
    }
    if (optind != argc - 1 || (id = cli_job_id(argv[optind])) < 0)
        return 2;
    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    cli_fresh_state(st);
    err_clear(&e);
    for (;;) {
        /* Re-resolve each round: a recovery moves the job to a new attempt. */
        rc = logs_path(st, id, (int)node, path, sizeof(path), &state, &e);
        if (rc != 0 && (!follow || rc != ST_ENOTFOUND))
            break;
        if (rc == 0 && strcmp(path, last) != 0) {
            if (last[0] != '\0')
                printf("--- the job moved: %s ---\n", path);
            snprintf(last, sizeof(last), "%s", path);
            off = 0;
        }
        if (rc == 0 && print_file(path, &off) != 0 && !follow) {
            rc = err_set(&e, ST_ENOTFOUND, "no log yet for job %lld node %ld", id, node);
            break;
        }
        if (!follow || job_state_terminal(state))
            break;
        clock_sleep(0.2);
    }
    if (rc == ST_ENOTFOUND && follow)
        rc = 0;
    store_close(st);
    return rc == 0 ? 0 : cli_fail(&e);
}

const struct cli_cmd cli_cmd_status = {"status", "show jobs, or one job's attempts and cost",
                                       run_status};
const struct cli_cmd cli_cmd_queue = {"queue", "list jobs not yet finished", run_queue};
const struct cli_cmd cli_cmd_events = {"events", "a job's event log", run_events};
const struct cli_cmd cli_cmd_cancel = {"cancel", "cancel a job", run_cancel};
const struct cli_cmd cli_cmd_cost = {"cost", "what was spent, by cloud, team or job", run_cost};
const struct cli_cmd cli_cmd_logs = {"logs", "a node's output", run_logs};
