/*
 * cmd_launch.c - `stratus launch FILE`: plan, submit, and follow a job.
 *
 * The command checks the spec where the user's files are (it parses, its
 * workdir exists), asks the server for the plan it will start from under
 * the org's policy (POST /v1/plan) and shows its first choice and the
 * runners-up, submits the job (POST /v1/jobs), and then follows its events
 * (GET /v1/jobs/{id}/events?after=) until it ends, printing the bill.
 * Ctrl-C (or --detach) leaves the job running.
 *
 * A file of several YAML documents is a pipeline or a job group
 * (spec/pipeline.h): each stage is checked and its plan shown, the whole
 * file is submitted at once (the server makes one job per stage), and the
 * stages are followed in order; the bill is printed per stage with the
 * total (cli_print_group_bill).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "../spec/pipeline.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* How many candidates of the plan launch shows: the choice and two more. */
#define PLAN_SHOWN 3

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char launch_usage[] =
    "usage: stratus launch FILE [--policy P] [--detach]\n"
    "Plans the workload, submits it to the controller and follows it to the end.\n"
    "A file of several YAML documents ('---') is a pipeline (tasks run in order)\n"
    "or a job group (`execution: parallel`): every stage is a job of its own.\n"
    "The plan is the server's, under the org's policy (`stratus policy show`);\n"
    "--policy (or $STRATUS_POLICY) replaces it for this job (admins only).\n";

/* The workdir is copied to every node when the job starts; one that is
 * missing would leave the job an empty directory, so it fails the launch
 * now, and a big one is worth a warning.  It is resolved as the controller
 * resolves it: relative to the spec file's directory. */
static int check_workdir(const char *path, const struct spec *sp)
{
    char *dir = cli_workdir_path(path, sp->workdir);
    struct stat sb;
    struct err e;
    int rc = 0;

    if (dir == NULL)
        return 0;
    err_clear(&e);
    if (stat(dir, &sb) != 0)
        rc = err_at(&e, ST_EINVAL, path, cli_workdir_line(path), 0, "workdir %s: %s", dir,
                    strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = err_at(&e, ST_EINVAL, path, cli_workdir_line(path), 0,
                    "workdir %s is not a directory", dir);
    else
        cli_workdir_warn(path, dir);
    free(dir);
    return rc == 0 ? 0 : cli_fail(&e);
}

/* The spec checked here, with the user's files at hand: it parses (its
 * warnings on stderr) and its workdir exists.  The server checks it again. */
static int check_spec(const char *path)
{
    struct spec *sp = NULL;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    if (spec_load_file(&sp, path, &e) != 0)
        return cli_fail(&e);
    if (spec_check_new(sp, &e) != 0) {
        spec_free(sp);
        return cli_fail(&e);
    }
    for (i = 0; i < sp->nwarnings; i++)
        fprintf(stderr, "%s\n", sp->warnings[i]);
    rc = check_workdir(path, sp);
    spec_free(sp);
    return rc;
}

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* Why candidate c (the i-th of the plan) cannot be had now, by the reply's
 * now_candidates, into buf ("" when it can, or when the server cannot
 * tell); 1 when it cannot. */
static int not_now(const json_t *nowc, size_t i, const json_t *c, char *buf, size_t n)
{
    const json_t *x = json_array_get(nowc, i), *f;
    int nodes = (int)json_integer_value(json_object_get(c, "nodes"));

    buf[0] = '\0';
    if (!json_is_object(x))
        return 0;
    f = json_object_get(x, "free_nodes");
    if (json_number_value(json_object_get(x, "blocked_for_s")) > 0)
        snprintf(buf, n, " (blocked now: %s)", str_field(x, "blocked_reason"));
    else if (*str_field(x, "over_quota"))
        snprintf(buf, n, " (over quota now: %s)", str_field(x, "over_quota"));
    else if (json_is_integer(f) && json_integer_value(f) < nodes)
        snprintf(buf, n, " (full now: %lld of the %d node%s free)",
                 (long long)json_integer_value(f), nodes, nodes == 1 ? "" : "s");
    return buf[0] != '\0';
}

/* One candidate: "best oci/us-ashburn-1 1 x BM.GPU.H100.8 on-demand, ...",
 * with why it cannot be had now, if it cannot. */
static void print_cand(const char *what, const json_t *c, int per_hour, const char *note)
{
    char m[32];

    printf(
        "  %s %s/%s%s%s %d x %s %s, $%.2f/h, expected %s%s%s\n", what,
        str_field(c, "cloud"), str_field(c, "region"), *str_field(c, "zone") ? "/" : "",
        str_field(c, "zone"), (int)json_integer_value(json_object_get(c, "nodes")),
        str_field(c, "instance_type"), str_field(c, "mode"),
        json_number_value(json_object_get(c, "hourly_cost")),
        str_money(m, sizeof(m), json_number_value(json_object_get(c, "expected_cost"))),
        per_hour ? " per hour" : "", note);
}

/* Show the choice the controller starts from: its best candidates and why;
 * a stage's plan (stage > 0) says which stage it is. */
static int show_plan(const char *path, const json_t *body, int stage)
{
    const json_t *p, *cands, *rule, *nowc;
    json_t *r = NULL;
    struct err e;
    size_t i;

    err_clear(&e);
    if (client_call("POST", "/v1/plan", body, &r, &e) != 0)
        return cli_fail(&e);
    p = json_object_get(r, "plan");
    cands = json_object_get(p, "candidates");
    nowc = json_object_get(r, "now_candidates");
    rule = json_object_get(p, "policy_rule");
    if (stage > 0)
        printf("stage %d ", stage);
    printf("plan: %s under %s\n", str_field(p, "workload"),
           json_is_string(rule) ? json_string_value(rule) : "no policy");
    {
        /* the late ones (slower alternatives that cannot finish by the
         * deadline) are passed over while one on time is there: the
         * controller does not take them (stratus plan marks them) */
        size_t late = 0, shown = 0, on_time = 0, room = SIZE_MAX;
        int per_hour = json_is_true(json_object_get(p, "duration_assumed"));
        char note[320];

        for (i = 0; i < json_array_size(cands); i++)
            on_time += !json_is_true(json_object_get(json_array_get(cands, i), "late"));
        /* the first the controller could take now (it also weighs patience
         * and the deadline rule): a preview of a committed $0.00 that is
         * full, the job then paying on demand, said nothing (helper-103) */
        for (i = 0; i < json_array_size(cands) && room == SIZE_MAX; i++) {
            const json_t *c = json_array_get(cands, i);

            if (!(on_time > 0 && json_is_true(json_object_get(c, "late"))) &&
                !not_now(nowc, i, c, note, sizeof(note)))
                room = i;
        }
        for (i = 0; i < json_array_size(cands) && shown < PLAN_SHOWN; i++) {
            const json_t *c = json_array_get(cands, i);

            if (on_time > 0 && json_is_true(json_object_get(c, "late"))) {
                late++;
                continue;
            }
            not_now(nowc, i, c, note, sizeof(note));
            print_cand(shown++ ? "then" : "best", c, per_hour, note);
        }
        if (room != SIZE_MAX && room >= i)
            print_cand("first with room now:", json_array_get(cands, room), per_hour, "");
        else if (room == SIZE_MAX && json_array_size(nowc) > 0 &&
                 json_array_size(cands) > 0)
            printf("  (none of these has room now: the job waits for one)\n");
        if (late > 0)
            printf(
                "  (%zu cheaper candidate%s would finish past the deadline: not taken)\n",
                late, late == 1 ? "" : "s");
        else if (on_time == 0 && json_array_size(cands) > 0 &&
                 json_is_true(json_object_get(json_array_get(cands, 0), "late")))
            printf("  (every candidate shown would finish past the deadline)\n");
    }
    if (stage > 0)
        printf("  (%lld feasible of %lld candidates)\n",
               (long long)json_integer_value(json_object_get(p, "feasible")),
               (long long)json_integer_value(json_object_get(p, "considered")));
    else
        printf("  (%lld feasible of %lld candidates; `stratus plan %s --explain` says why)\n",
               (long long)json_integer_value(json_object_get(p, "feasible")),
               (long long)json_integer_value(json_object_get(p, "considered")), path);
    json_decref(r);
    return 0;
}

/* POST /v1/jobs; *reply (may be NULL) gets the server's answer. */
static int submit(const json_t *body, long long *id, json_t **reply)
{
    json_t *r = NULL;
    struct err e;

    err_clear(&e);
    if (client_call("POST", "/v1/jobs", body, &r, &e) != 0)
        return cli_fail(&e);
    *id = json_integer_value(json_object_get(r, "id"));
    if (reply != NULL)
        *reply = json_incref(r);
    json_decref(r);
    if (*id <= 0) {
        err_set(&e, ST_EINTERNAL, "the server accepted the job but did not say its id");
        return cli_fail(&e);
    }
    return 0;
}

/* One round of following: print the events after *after and learn the
 * state (read by the server before the events, so that every event up to
 * a terminal state is in the same reply). */
static int follow_round(long long id, int64_t *after, int *state)
{
    json_t *r = NULL;
    int rc = cli_job_events(id, *after, &r), s;

    if (rc != 0)
        return rc;
    rc = cli_print_events(json_object_get(r, "events"), after);
    fflush(stdout);
    *state = JOB_PENDING;
    for (s = 0; s < JOB__NSTATES; s++)
        if (strcmp(job_state_name(s), str_field(r, "state")) == 0)
            *state = s;
    json_decref(r);
    return rc;
}

/* Print the job's events until it ends or the user presses Ctrl-C; a
 * server of the home that dies meanwhile is started again by the client. */
static int follow_events(long long id, int *state)
{
    int64_t after = 0;
    int rc = 0, n = 0;

    *state = JOB_PENDING;
    signal(SIGINT, on_sigint);
    while (!interrupted && !job_state_terminal(*state)) {
        rc = follow_round(id, &after, state);
        if (rc != 0)
            return rc;
        /* New events come at once; a quiet job is asked less often. */
        if (!job_state_terminal(*state))
            clock_sleep(++n < 50 ? 0.1 : 0.25);
    }
    return 0;
}

/* Follow the job to its end and print its bill. */
static int follow(long long id)
{
    int rc, state;
    json_t *job = NULL;

    rc = follow_events(id, &state);
    if (rc != 0)
        return rc;
    if (interrupted) {
        printf("\ndetached: job %lld keeps running (`stratus status %lld`, `stratus logs %lld`)\n",
               id, id, id);
        return 0;
    }
    rc = cli_get_job(id, &job);
    if (rc != 0)
        return rc;
    rc = cli_print_bill(stdout, job) == 0 && state == JOB_SUCCEEDED ? 0 : 1;
    json_decref(job);
    return rc;
}

/* ---- pipelines and job groups ---- */

/* 1 when the file holds several YAML documents (unreadable: 0, and the
 * single-document path says why). */
static int is_multi_file(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    struct err e;
    int multi;

    err_clear(&e);
    if (fs_read_file(path, SPEC_MAX_BYTES, &text, &len, &e) != 0)
        return 0;
    multi = pipeline_is_multi(text, len);
    free(text);
    return multi;
}

/* Each stage parses (warnings on stderr) and its workdir exists. */
static int check_group(const char *path, struct pipeline **out)
{
    struct err e;
    size_t k, i;
    int rc = 0;

    err_clear(&e);
    if (pipeline_load_file(out, path, &e) != 0)
        return cli_fail(&e);
    for (k = 0; rc == 0 && k < (*out)->n; k++) {
        const struct spec *sp = (*out)->stages[k].spec;

        for (i = 0; i < sp->nwarnings; i++)
            fprintf(stderr, "%s\n", sp->warnings[i]);
        rc = check_workdir(path, sp);
    }
    return rc;
}

/* The plan of every stage: the body with each stage's text in turn. */
static int show_group_plans(const char *path, const struct pipeline *pl, const json_t *body)
{
    size_t k;
    int rc = 0;

    for (k = 0; rc == 0 && k < pl->n; k++) {
        json_t *b = json_deep_copy(body);

        json_object_set_new(b, "spec", json_string(pl->stages[k].text));
        json_object_set_new(b, "stage_name", json_string(pl->stages[k].spec->name));
        rc = show_plan(path, b, (int)k + 1);
        json_decref(b);
    }
    return rc;
}

/* "pipeline 'x' submitted as group 7:" and a line per stage. */
static void print_group_ids(const struct pipeline *pl, const json_t *r, long long *ids)
{
    const json_t *arr = json_object_get(r, "ids");
    size_t k;

    printf("%s '%s' submitted as group %lld:\n", pipeline_mode_name(pl->mode), pl->name,
           (long long)json_integer_value(json_object_get(r, "group_id")));
    for (k = 0; k < pl->n; k++) {
        ids[k] = json_integer_value(json_array_get(arr, k));
        printf("  stage %zu '%s': job %lld%s\n", k + 1, pl->stages[k].spec->name, ids[k],
               pl->mode == PIPE_PARALLEL && pl->stages[k].primary ? " (primary)" : "");
    }
    fflush(stdout);
}

/* Follow every stage in order (a job group's tasks run together: each is
 * followed to its end in turn), then print the bill per stage.  Success is
 * every stage succeeding (a job group: every primary task; the others are
 * stopped when those end). */
static int follow_group(long long group, const struct pipeline *pl, const long long *ids)
{
    size_t k;
    int rc = 0, state = JOB_PENDING, ok = 1;

    for (k = 0; rc == 0 && k < pl->n && !interrupted; k++) {
        rc = follow_events(ids[k], &state);
        if (pl->mode != PIPE_PARALLEL || pl->stages[k].primary)
            ok = ok && state == JOB_SUCCEEDED;
    }
    if (rc != 0)
        return rc;
    if (interrupted) {
        printf("\ndetached: group %lld keeps running (`stratus status %lld`)\n", group, group);
        return 0;
    }
    rc = cli_print_group_bill(stdout, group);
    return rc != 0 ? rc : ok ? 0 : 1;
}

static int launch_group(const char *path, const char *policy, int detach)
{
    struct pipeline *pl = NULL;
    json_t *body = NULL, *reply = NULL;
    long long id = 0, ids[PIPELINE_MAX_STAGES];
    int rc = check_group(path, &pl);

    if (rc == 0)
        rc = client_spec_body(path, policy, &body);
    if (rc == 0)
        rc = show_group_plans(path, pl, body);
    if (rc == 0)
        rc = submit(body, &id, &reply);
    if (rc == 0)
        print_group_ids(pl, reply, ids);
    if (rc == 0 && detach)
        printf("follow it with `stratus status %lld`\n", id);
    else if (rc == 0)
        rc = follow_group(id, pl, ids);
    json_decref(body);
    json_decref(reply);
    pipeline_free(pl);
    return rc;
}

static int run_launch(int argc, char **argv)
{
    static const struct option longs[] = {{"policy", required_argument, NULL, 'p'},
                                          {"detach", no_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *given = NULL;
    char *policy;
    json_t *body = NULL;
    int detach = 0, ch, rc;
    long long id = 0;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'p': given = optarg; break;
        case 'd': detach = 1; break;
        case 'h': fputs(launch_usage, stdout); return 0;
        default: fputs(launch_usage, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        if (optind == argc)
            fprintf(stderr, "stratus launch: which workload? give its YAML file\n");
        else
            fprintf(stderr,
                    "stratus launch: one workload file at a time, not %d ('%s', '%s'%s); "
                    "put several stages in one file, separated by '---'\n",
                    argc - optind, argv[optind], argv[optind + 1],
                    argc - optind > 2 ? ", ..." : "");
        fputs(launch_usage, stderr);
        return 2;
    }
    policy = cli_policy_path(given);
    if (is_multi_file(argv[optind])) {
        rc = launch_group(argv[optind], policy, detach);
        free(policy);
        return rc;
    }
    rc = check_spec(argv[optind]);
    if (rc == 0)
        rc = client_spec_body(argv[optind], policy, &body);
    if (rc == 0)
        rc = show_plan(argv[optind], body, 0);
    if (rc == 0)
        rc = submit(body, &id, NULL);
    json_decref(body);
    free(policy);
    if (rc != 0)
        return rc;
    printf("job %lld submitted\n", id);
    fflush(stdout);
    if (detach) {
        printf("follow it with `stratus status %lld` and `stratus logs %lld --follow`\n", id, id);
        return 0;
    }
    return follow(id);
}

const struct cli_cmd cli_cmd_launch = {"launch", "plan, start and follow a workload",
                                       run_launch, launch_usage};
