/*
 * cmd_launch.c - `stratus launch FILE`: plan, submit, and follow a job.
 *
 * The command validates the spec and the policy, shows the plan the
 * controller will start from (its first choice and the runners-up), submits
 * the job to the store, makes sure the background controller runs, and then
 * follows the job's events until it ends, printing the bill.  Ctrl-C (or
 * --detach) leaves the job running.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "plan/plan.h"
#include "policy/policy.h"
#include "sched/sched.h"
#include "spec/spec.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/fsutil.h"
#include "util/strutil.h"
#include "util/xmem.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char launch_usage[] =
    "usage: stratus launch FILE [--policy P] [--detach]\n"
    "Plans the workload, submits it to the controller and follows it to the end.\n";

/* Show the choice the controller starts from: its best candidates and why. */
static int show_plan(const char *path, const char *policy_path, struct spec **sp,
                     struct policy **pol)
{
    struct plan_opts o = {0, 3, 0};
    struct catalog *cat;
    struct plan p;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    if (spec_load_file(sp, path, &e) != 0)
        return cli_fail(&e);
    for (i = 0; i < (*sp)->nwarnings; i++)
        fprintf(stderr, "%s\n", (*sp)->warnings[i]);
    if (policy_path && policy_load_file(pol, policy_path, &e) != 0)
        return cli_fail(&e);
    if ((rc = cli_load_catalog(NULL, &cat)) != 0)
        return rc;
    plan_init(&p);
    rc = plan_rank(&p, cat, *sp, *pol, &o, &e);
    if (rc == 0) {
        char m[32];

        printf("plan: %s under %s\n", (*sp)->name,
               p.rule ? p.rule->name : "no policy");
        for (i = 0; i < p.n; i++) {
            const struct offer *of = catalog_offer(cat, p.c[i].offer);

            printf("  %s %s/%s%s%s %d x %s %s, $%.2f/h, expected %s%s\n", i ? "then" : "best",
                   of->cloud, of->region, *of->zone ? "/" : "", of->zone, p.c[i].nodes,
                   of->instance_type, plan_mode_name(p.c[i].mode), p.c[i].hourly_cost,
                   str_money(m, sizeof(m), p.c[i].expected),
                   p.duration_assumed ? " per hour" : "");
        }
        printf("  (%zu feasible of %zu candidates; `stratus plan %s --explain` says why)\n",
               p.feasible, p.considered, path);
    } else {
        rc = cli_fail(&e);
    }
    plan_free(&p);
    catalog_free(cat);
    return rc;
}

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

static int submit(const char *path, const char *policy_path, int64_t *id)
{
    char *text = NULL, *ptext = NULL, abs[PATH_MAX];
    struct store *st;
    struct err e;
    int rc;

    err_clear(&e);
    if (realpath(path, abs) == NULL)
        snprintf(abs, sizeof(abs), "%s", path);
    if (fs_read_file(path, 1 << 20, &text, NULL, &e) != 0 ||
        (policy_path && fs_read_file(policy_path, 1 << 20, &ptext, NULL, &e) != 0)) {
        free(text);
        return cli_fail(&e);
    }
    if ((rc = cli_open_store(&st)) == 0) {
        if (sched_submit(st, abs, text, ptext, clock_now(&clock_wall), id, &e) != 0)
            rc = cli_fail(&e);
        store_close(st);
    }
    free(text);
    free(ptext);
    return rc;
}

/* Follow the job's events until it ends or the user presses Ctrl-C; a
 * controller that dies meanwhile is restarted (cli_fresh_state). */
static int follow(int64_t id)
{
    struct store *st;
    int64_t after = 0;
    int rc, state = JOB_PENDING, polls = 0;

    if ((rc = cli_open_store(&st)) != 0)
        return rc;
    signal(SIGINT, on_sigint);
    while (!interrupted && !job_state_terminal(state)) {
        struct store_event *ev = NULL;
        struct store_job j;
        size_t i, n = 0;
        struct err e;

        /* State first, then events: every event up to a terminal state was
         * committed with it, so none is missed when the loop ends. */
        if (store_job_get(st, id, &j, &e) != 0 ||
            store_event_list(st, id, after, 0, &ev, &n, &e) != 0) {
            rc = cli_fail(&e);
            break;
        }
        for (i = 0; i < n; i++) {
            cli_print_event(stdout, &ev[i]);
            after = ev[i].id;
        }
        fflush(stdout);
        store_events_free(ev, n);
        state = j.state;
        store_job_clear(&j);
        /* A controller that died while we follow is restarted (or its
         * absence said), as every command that shows job state does. */
        if (!job_state_terminal(state) && ++polls % 20 == 0)
            cli_fresh_state(st);
        if (!job_state_terminal(state))
            clock_sleep(0.1);
    }
    if (interrupted)
        printf("\ndetached: job %lld keeps running (`stratus status %lld`, `stratus logs %lld`)\n",
               (long long)id, (long long)id, (long long)id);
    else if (rc == 0)
        rc = cli_print_bill(stdout, st, id) == 0 && state == JOB_SUCCEEDED ? 0 : 1;
    store_close(st);
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
    struct spec *sp = NULL;
    struct policy *pol = NULL;
    int detach = 0, ch, rc;
    int64_t id = 0;

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
    rc = show_plan(argv[optind], policy, &sp, &pol);
    if (rc == 0)
        rc = check_workdir(argv[optind], sp);
    if (rc == 0)
        rc = submit(argv[optind], policy, &id);
    spec_free(sp);
    policy_free(pol);
    free(policy);
    if (rc != 0)
        return rc;
    printf("job %lld submitted\n", (long long)id);
    fflush(stdout);
    if ((rc = cli_ensure_controller()) != 0)
        return rc;
    if (detach) {
        printf("follow it with `stratus status %lld` and `stratus logs %lld --follow`\n",
               (long long)id, (long long)id);
        return 0;
    }
    return follow(id);
}

const struct cli_cmd cli_cmd_launch = {"launch", "plan, start and follow a workload", run_launch};
