/*
 * cmd_launch.c - `stratus launch FILE`: plan, submit, and follow a job.
 *
 * The command checks the spec where the user's files are (it parses, its
 * workdir exists), asks the server for the plan it will start from under
 * the org's policy (POST /v1/plan) and shows its first choice and the
 * runners-up, submits the job (POST /v1/jobs), and then follows its events
 * (GET /v1/jobs/{id}/events?after=) until it ends, printing the bill.
 * Ctrl-C (or --detach) leaves the job running.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/client.h"
#include "spec/spec.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/strutil.h"
#include "util/xmem.h"

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
    "The plan is the server's, under the org's policy (`stratus policy show`);\n"
    "--policy (or $STRATUS_POLICY) replaces it for this job (admins only).\n";

/* The line of the spec file where `workdir:` is, for the message; 0 when
 * it cannot be found (e.g. written in flow style). */
static size_t workdir_line(const char *path)
{
    FILE *fp = fopen(path, "r");
    char buf[4096];
    size_t line = 0, found = 0;

    if (fp == NULL)
        return 0;
    while (found == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
        const char *p = buf + strspn(buf, " \t"), *q;

        line++;
        if (strncmp(p, "workdir", 7) != 0)
            continue;
        q = p + 7 + strspn(p + 7, " \t");
        if (*q == ':')
            found = line;
    }
    fclose(fp);
    return found;
}

/* The workdir is copied to every node when the job starts; one that is
 * missing would leave the job an empty directory, so it fails the launch
 * now.  It is resolved as the controller resolves it: relative to the spec
 * file's directory. */
static int check_workdir(const char *path, const struct spec *sp)
{
    char abs[PATH_MAX], *dir;
    struct stat sb;
    struct err e;
    int rc = 0;

    if (sp->workdir == NULL)
        return 0;
    if (sp->workdir[0] == '/' || realpath(path, abs) == NULL || strrchr(abs, '/') == NULL)
        dir = xstrdup(sp->workdir);
    else
        dir = xasprintf("%.*s/%s", (int)(strrchr(abs, '/') - abs), abs, sp->workdir);
    err_clear(&e);
    if (stat(dir, &sb) != 0)
        rc = err_at(&e, ST_EINVAL, path, workdir_line(path), 0, "workdir %s: %s", dir,
                    strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = err_at(&e, ST_EINVAL, path, workdir_line(path), 0, "workdir %s is not a directory",
                    dir);
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

/* One candidate: "best oci/us-ashburn-1 1 x BM.GPU.H100.8 on-demand, ...". */
static void print_cand(const json_t *c, size_t i, int per_hour)
{
    char m[32];

    printf("  %s %s/%s%s%s %d x %s %s, $%.2f/h, expected %s%s\n", i ? "then" : "best",
           str_field(c, "cloud"), str_field(c, "region"), *str_field(c, "zone") ? "/" : "",
           str_field(c, "zone"), (int)json_integer_value(json_object_get(c, "nodes")),
           str_field(c, "instance_type"), str_field(c, "mode"),
           json_number_value(json_object_get(c, "hourly_cost")),
           str_money(m, sizeof(m), json_number_value(json_object_get(c, "expected_cost"))),
           per_hour ? " per hour" : "");
}

/* Show the choice the controller starts from: its best candidates and why. */
static int show_plan(const char *path, const json_t *body)
{
    const json_t *p, *cands, *rule;
    json_t *r = NULL;
    struct err e;
    size_t i;

    err_clear(&e);
    if (client_call("POST", "/v1/plan", body, &r, &e) != 0)
        return cli_fail(&e);
    p = json_object_get(r, "plan");
    cands = json_object_get(p, "candidates");
    rule = json_object_get(p, "policy_rule");
    printf("plan: %s under %s\n", str_field(p, "workload"),
           json_is_string(rule) ? json_string_value(rule) : "no policy");
    for (i = 0; i < json_array_size(cands) && i < PLAN_SHOWN; i++)
        print_cand(json_array_get(cands, i), i,
                   json_is_true(json_object_get(p, "duration_assumed")));
    printf("  (%lld feasible of %lld candidates; `stratus plan %s --explain` says why)\n",
           (long long)json_integer_value(json_object_get(p, "feasible")),
           (long long)json_integer_value(json_object_get(p, "considered")), path);
    json_decref(r);
    return 0;
}

static int submit(const json_t *body, long long *id)
{
    json_t *r = NULL;
    struct err e;

    err_clear(&e);
    if (client_call("POST", "/v1/jobs", body, &r, &e) != 0)
        return cli_fail(&e);
    *id = json_integer_value(json_object_get(r, "id"));
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

/* Follow the job's events until it ends or the user presses Ctrl-C; a
 * server of the home that dies meanwhile is started again by the client. */
static int follow(long long id)
{
    int64_t after = 0;
    int rc = 0, state = JOB_PENDING, n = 0;
    json_t *job = NULL;

    signal(SIGINT, on_sigint);
    while (!interrupted && !job_state_terminal(state)) {
        rc = follow_round(id, &after, &state);
        if (rc != 0)
            return rc;
        /* New events come at once; a quiet job is asked less often. */
        if (!job_state_terminal(state))
            clock_sleep(++n < 50 ? 0.1 : 0.25);
    }
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
        fputs(launch_usage, stderr);
        return 2;
    }
    policy = cli_policy_path(given);
    rc = check_spec(argv[optind]);
    if (rc == 0)
        rc = client_spec_body(argv[optind], policy, &body);
    if (rc == 0)
        rc = show_plan(argv[optind], body);
    if (rc == 0)
        rc = submit(body, &id);
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
