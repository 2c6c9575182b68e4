/*
 * cmd_jobs.c - the commands that look at jobs: status, queue, events, logs,
 * cost, and cancel.  They are clients of the server (client.h): it is the
 * controller, so what it answers is current; the records come as the API's
 * JSON and are decoded with apijson_to_* so that they print exactly as they
 * did when the CLI read the store itself.
 *
 * Stages of a pipeline or job group (spec/pipeline.h) are jobs: the list
 * shows each group as a line of its own with its stages indented under it
 * (index, name, where each runs or ran, its cost); `status GROUP` prints
 * the bill per stage and the total; `cancel GROUP` cancels every stage
 * still active.  A group's id is its first stage's job id.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "../api/apijson.h"
#include "../plan/plan.h"
#include "../spec/pipeline.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char *clock_hms(double t, char *buf, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;

    localtime_r(&s, &tm);
    strftime(buf, n, "%H:%M:%S", &tm);
    return buf;
}

const char *cli_when(const json_t *v, char *buf, size_t n)
{
    struct tm tm;
    time_t t;

    if (!json_is_number(v) || json_number_value(v) <= 0)
        return "-";
    t = (time_t)json_number_value(v);
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
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

/* One attempt's line of the bill; returns what it cost (so far). */
static double print_attempt(FILE *fp, const json_t *o, const struct store_attempt *a)
{
    const json_t *so_far = json_object_get(o, "cost_so_far");
    const json_t *elapsed = json_object_get(o, "elapsed_s");
    double now = clock_now(&clock_wall), end = a->ended_at > 0 ? a->ended_at : now;
    double cost = store_attempt_spent_at(a, now);
    double secs = a->running_at > 0 && end > a->running_at ? end - a->running_at : 0;
    const char *how = a->state == ATT_RUNNING     ? "running"
                      : a->state == ATT_LAUNCHING ? "launching"
                                                  : attempt_end_name(a->end_reason);
    char m[32], d[32], e[32];

    /* A live attempt: the server's time and cost so far (its clock). */
    if (a->state != ATT_ENDED && json_is_number(so_far))
        cost = json_number_value(so_far);
    if (a->state != ATT_ENDED && json_is_number(elapsed))
        secs = json_number_value(elapsed);
    fprintf(fp, "  attempt %d  %s/%s%s%s  %d x %s %-9s  %-9s %8s  %s", a->n, a->cloud,
            a->region, *a->zone ? "/" : "", a->zone, a->nodes, a->instance_type,
            plan_mode_name(a->mode), how, str_duration(d, sizeof(d), secs),
            str_money(m, sizeof(m), cost));
    if (a->egress > 0) /* of it, the data move (docs/data.md) */
        fprintf(fp, " (data move %s)", str_money(e, sizeof(e), a->egress));
    fputc('\n', fp);
    return cost;
}

int cli_print_bill(FILE *fp, const json_t *job)
{
    const json_t *atts = json_object_get(job, "attempts_detail");
    struct store_job j;
    size_t i, n = json_array_size(atts);
    struct err e;
    char m[32];
    double total = 0;

    err_clear(&e);
    if (apijson_to_job(job, &j, &e) != 0)
        return cli_fail(&e);
    fprintf(fp, "\njob %lld %s: %s (%s)\n", (long long)j.id, j.name, job_state_name(j.state),
            j.reason ? j.reason : "");
    for (i = 0; i < n; i++) {
        struct store_attempt a;

        if (apijson_to_attempt(json_array_get(atts, i), &a, &e) != 0) {
            store_job_clear(&j);
            return cli_fail(&e);
        }
        total += print_attempt(fp, json_array_get(atts, i), &a);
        store_attempt_clear(&a);
    }
    fprintf(fp, "  total %s over %zu attempt%s, %d restart%s\n", str_money(m, sizeof(m), total), n,
            n == 1 ? "" : "s", j.restarts, j.restarts == 1 ? "" : "s");
    store_job_clear(&j);
    return 0;
}

int cli_get_job(long long id, json_t **out)
{
    char path[64];
    struct err e;

    snprintf(path, sizeof(path), "/v1/jobs/%lld", id);
    err_clear(&e);
    return client_call("GET", path, NULL, out, &e) == 0 ? 0 : cli_fail(&e);
}

/* Said by every reader's usage: where the state comes from. */
static const char server_note[] =
    "The state comes from the stratus server ($STRATUS_API, else the one of\n"
    "$STRATUS_HOME, started in the background when none runs).\n";

/* ---- status and queue ---- */

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* Column widths grow with the longest name or placement shown (up to a
 * bound), so that the columns stay aligned; short ones keep the widths of
 * old. */
#define NAME_W 24
#define NAME_W_MAX 64
#define PLACE_W 48
#define PLACE_W_MAX 96

/* "cloud/region instance_type mode" of the API's placement, or "-". */
static const char *placement_text(const json_t *pl, char *buf, size_t n)
{
    if (!json_is_object(pl))
        return "-";
    snprintf(buf, n, "%s/%s %s %s", str_field(pl, "cloud"), str_field(pl, "region"),
             str_field(pl, "instance_type"), str_field(pl, "mode"));
    return buf;
}

/* Where a job runs, or, ended, where it last ran. */
static const json_t *where_of(const json_t *o)
{
    const json_t *pl = json_object_get(o, "placement");

    return json_is_object(pl) ? pl : json_object_get(o, "last_placement");
}

static int widen(int w, size_t len, int max)
{
    return (int)len > w ? ((int)len < max ? (int)len : max) : w;
}

/* One job of the list, o as the API gives it: its cost is what it has
 * spent so far when an attempt runs (its ended attempts' cost, and the live
 * one's run and data move), else what its ended attempts cost. */
static void print_job_line(const struct store_job *j, const json_t *o, int nw, int pw)
{
    const json_t *so_far = json_object_get(o, "cost_so_far");
    double cost = json_is_number(so_far) ? json_number_value(so_far) : j->cost;
    char m[32], loc[160];

    printf("%5lld  %-*.*s %-6s %3d  %-12s %-*.*s %10s  %s\n", (long long)j->id, nw, nw,
           j->name, spec_kind_name((enum spec_kind)j->kind), j->priority,
           job_state_name(j->state), pw, pw,
           placement_text(where_of(o), loc, sizeof(loc)), str_money(m, sizeof(m), cost),
           j->reason ? j->reason : "");
}

/* ---- groups: pipelines and job groups ---- */

/* What one stage shows: where it runs (or last ran) and what it cost. */
struct stage_view {
    char where[160];
    double cost;
};

/* The stage's last attempt's placement and the cost of all its attempts
 * (a live one's so far), from GET /v1/jobs/{id}. */
static void stage_view(long long id, struct stage_view *v)
{
    json_t *o = NULL;
    const json_t *atts;
    size_t i, n;

    snprintf(v->where, sizeof(v->where), "-");
    v->cost = 0;
    if (cli_get_job(id, &o) != 0)
        return;
    atts = json_object_get(o, "attempts_detail");
    n = json_array_size(atts);
    for (i = 0; i < n; i++) {
        const json_t *a = json_array_get(atts, i);
        const json_t *so_far = json_object_get(a, "cost_so_far");

        v->cost += json_is_number(so_far) ? json_number_value(so_far)
                                          : json_number_value(json_object_get(a, "cost"));
    }
    /* as the list shows a job: where it runs, else where it last ran */
    placement_text(where_of(o), v->where, sizeof(v->where));
    json_decref(o);
}

/* A stage's cost to the millionth of a dollar under $1 (to the hundredth
 * of a cent under $100): stages are often short and cheap (a CPU stage of a
 * minute costs a fraction of a cent), and "$0.00" per stage would say
 * nothing. */
static const char *stage_money(char *buf, size_t n, double usd)
{
    if (usd >= 100)
        return str_money(buf, n, usd);
    snprintf(buf, n, usd < 1 ? "$%.6f" : "$%.4f", usd);
    return buf;
}

/* "name (pipeline, 3 stages)" of the group whose first listed stage is o. */
static const char *group_label(const json_t *o, size_t n, char *buf, size_t len)
{
    snprintf(buf, len, "%s (%s, %zu stage%s)", str_field(o, "group_name"),
             str_field(o, "group_mode"), n, n == 1 ? "" : "s");
    return buf;
}

/* The jobs of group g among the list, in stage order (their id order). */
static json_t *group_members(const json_t *jobs, long long g)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < json_array_size(jobs); i++) {
        const json_t *o = json_array_get(jobs, i);

        if (json_integer_value(json_object_get(o, "group_id")) == g)
            json_array_append(out, json_array_get(jobs, i));
    }
    return out;
}

/* The group's state: its first active stage's, else its first stage that
 * did not succeed, else SUCCEEDED; *which gets that stage (NULL when all
 * succeeded).  A job group's auxiliary tasks end stopped when its primary
 * tasks have ended: only its primary tasks say how it went. */
static const char *group_state(const json_t *members, const json_t **which)
{
    size_t i;

    *which = NULL;
    for (i = 0; i < json_array_size(members) && *which == NULL; i++) {
        const json_t *o = json_array_get(members, i);

        if (!job_state_terminal(job_state_parse(str_field(o, "state"))))
            *which = o;
    }
    for (i = 0; i < json_array_size(members) && *which == NULL; i++) {
        const json_t *o = json_array_get(members, i);
        int aux = strcmp(str_field(o, "group_mode"), pipeline_mode_name(PIPE_PARALLEL)) == 0 &&
                  !json_is_true(json_object_get(o, "group_primary"));

        if (!aux && strcmp(str_field(o, "state"), "SUCCEEDED") != 0)
            *which = o;
    }
    return *which ? str_field(*which, "state") : "SUCCEEDED";
}

/* 1 when jobs[i] is the first of its group in the list. */
static int first_of_group(const json_t *jobs, size_t i)
{
    json_int_t g = json_integer_value(json_object_get(json_array_get(jobs, i), "group_id"));
    size_t k;

    for (k = 0; k < i; k++)
        if (json_integer_value(json_object_get(json_array_get(jobs, k), "group_id")) == g)
            return 0;
    return 1;
}

/* 1 when job id is in list. */
static int listed(const json_t *list, json_int_t id)
{
    size_t i;

    for (i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "id")) == id)
            return 1;
    return 0;
}

/* The group's line (of all its stages: members), then a line per stage of
 * shown (the ones the list holds), indented; returns 0 or an exit status. */
static int print_group(const json_t *members, const json_t *shown, int nw, int pw)
{
    const json_t *first = json_array_get(members, 0), *which;
    const char *state = group_state(members, &which);
    struct stage_view *v = xcalloc(json_array_size(members), sizeof(*v));
    char name[160], m[32], reason[512];
    double total = 0;
    size_t i;

    for (i = 0; i < json_array_size(members); i++) {
        stage_view(json_integer_value(json_object_get(json_array_get(members, i), "id")), &v[i]);
        total += v[i].cost;
    }
    group_label(first, json_array_size(members), name, sizeof(name));
    snprintf(reason, sizeof(reason), "%s%s%s", which ? "stage " : "",
             which ? str_field(which, "name") : "", which ? ": " : "");
    printf("%5lld  %-*.*s %-6s %3s  %-12s %-*s %10s  %s%s\n",
           (long long)json_integer_value(json_object_get(first, "group_id")), nw, nw, name,
           "group", "", state, pw, "", stage_money(m, sizeof(m), total), reason,
           which ? str_field(which, "reason") : "every stage succeeded");
    for (i = 0; i < json_array_size(members); i++) {
        const json_t *o = json_array_get(members, i);

        if (!listed(shown, json_integer_value(json_object_get(o, "id"))))
            continue;
        snprintf(name, sizeof(name), "  %lld %s",
                 (long long)json_integer_value(json_object_get(o, "stage")),
                 str_field(o, "name"));
        printf("%5lld  %-*.*s %-6s %3lld  %-12s %-*.*s %10s  %s\n",
               (long long)json_integer_value(json_object_get(o, "id")), nw, nw, name,
               str_field(o, "kind"), (long long)json_integer_value(json_object_get(o, "priority")),
               str_field(o, "state"), pw, pw, v[i].where, stage_money(m, sizeof(m), v[i].cost),
               str_field(o, "reason"));
    }
    free(v);
    return 0;
}

static int fetch_jobs_from(int active_only, long long group, json_t **out);

/* The table of jobs; partial: the list may hold only some of a group's
 * stages (queue, --last), whose group line is then of all of them (read
 * from the server), not of those listed (helper-106). */
static int print_table(const json_t *jobs, int partial)
{
    int nw = NAME_W, pw = PLACE_W;
    char loc[160];
    size_t i;
    struct err e;

    for (i = 0; i < json_array_size(jobs); i++) {
        const json_t *o = json_array_get(jobs, i);
        char label[160];

        nw = widen(nw, strlen(str_field(o, "name")), NAME_W_MAX);
        /* a stage's name is shown after its index; its group's label above it */
        if (json_integer_value(json_object_get(o, "group_id")) != 0) {
            nw = widen(nw, strlen(str_field(o, "name")) + 5, NAME_W_MAX);
            nw = widen(nw, strlen(group_label(o, PIPELINE_MAX_STAGES, label, sizeof(label))),
                       NAME_W_MAX);
        }
        pw =
            widen(pw, strlen(placement_text(where_of(o), loc, sizeof(loc))), PLACE_W_MAX);
    }
    printf("%5s  %-*s %-6s %3s  %-12s %-*s %10s  %s\n", "ID", nw, "NAME", "KIND", "PRI", "STATE",
           pw, "PLACEMENT", "COST", "REASON");
    err_clear(&e);
    for (i = 0; i < json_array_size(jobs); i++) {
        const json_t *o = json_array_get(jobs, i);
        struct store_job j;

        if (apijson_to_job(o, &j, &e) != 0)
            return cli_fail(&e);
        if (j.group_id != 0 && first_of_group(jobs, i)) {
            /* a group is shown where its first listed stage is, all its
             * stages under it (`queue` may list only the later ones) */
            json_t *members = group_members(jobs, j.group_id), *all = NULL, *whole;

            if (partial && fetch_jobs_from(0, j.group_id, &all) == 0) {
                whole = group_members(all, j.group_id);
                print_group(whole, members, nw, pw);
                json_decref(whole);
                json_decref(all);
            } else {
                print_group(members, members, nw, pw);
            }
            json_decref(members);
        } else if (j.group_id == 0) {
            print_job_line(&j, o, nw, pw);
        }
        store_job_clear(&j);
    }
    return 0;
}

/* One page of GET /v1/jobs (path): *r the reply (caller decrefs), *jobs
 * its array (borrowed), *next its cursor (0: none; a server without pages
 * sends every job and no "next").  0 or an exit status. */
static int get_page(const char *path, json_t **r, json_t **jobs, long long *next)
{
    json_t *nx;
    struct err e;

    err_clear(&e);
    if (client_call("GET", path, NULL, r, &e) != 0)
        return cli_fail(&e);
    *jobs = json_object_get(*r, "jobs");
    nx = json_object_get(*r, "next");
    *next = json_is_integer(nx) ? json_integer_value(nx) : 0;
    if (!json_is_array(*jobs) || (nx != NULL && !json_is_null(nx) && *next <= 0)) {
        json_decref(*r);
        *r = NULL;
        err_set(&e, ST_EINTERNAL,
                "the server's job list has no \"jobs\" array, or a "
                "\"next\" that is not a job id");
        return cli_fail(&e);
    }
    return 0;
}

/* GET /v1/jobs a page at a time (a lab's history is tens of thousands of
 * jobs: one reply of all of them kept the server from anything else for
 * the better part of a second): the "jobs" of every page into *out (caller
 * decrefs); 0 or an exit status.  group > 0: only from the group's first
 * stage on, until a job of another group (a group's stages have
 * consecutive ids: they are committed together), not the whole history.
 * $STRATUS_LIST_PAGE sets the page's size (tests make it small). */
#define LIST_PAGE 1000
#define GROUP_PAGE 64

static int fetch_jobs_from(int active_only, long long group, json_t **out)
{
    json_t *all = json_array();
    const char *env = getenv("STRATUS_LIST_PAGE");
    long long after = group > 0 ? group - 1 : 0;
    long dflt = group > 0 ? GROUP_PAGE : LIST_PAGE, page = dflt;
    int rc = 0, past = 0;

    if (env != NULL && str_to_long(env, 1, 10000, &page) != 0)
        page = dflt;
    while (rc == 0 && !past) {
        json_t *r = NULL, *jobs;
        long long next;
        char path[96];
        size_t i;

        snprintf(path, sizeof(path), "/v1/jobs?limit=%ld&after=%lld%s", page, after,
                 active_only ? "&active=1" : "");
        if ((rc = get_page(path, &r, &jobs, &next)) != 0)
            break;
        if (next != 0 && next <= after) {
            struct err e;

            json_decref(r);
            err_set(&e, ST_EINTERNAL,
                    "the server's job list went back: next %lld after %lld", next, after);
            rc = cli_fail(&e);
            break;
        }
        for (i = 0; group > 0 && i < json_array_size(jobs); i++)
            past |= json_integer_value(
                        json_object_get(json_array_get(jobs, i), "group_id")) != group;
        json_array_extend(all, jobs);
        json_decref(r);
        after = next;
        past |= after == 0;
    }
    if (rc != 0) {
        json_decref(all);
        return rc;
    }
    *out = all;
    return 0;
}

static int fetch_jobs(int active_only, json_t **out)
{
    return fetch_jobs_from(active_only, 0, out);
}

/* The newest `last` jobs (one page, newest first), shown oldest first as
 * the whole list is, and a line saying when there are older ones. */
static int list_last(long last, int json)
{
    json_t *r = NULL, *jobs, *v;
    long long next;
    char path[64];
    size_t i, n;
    int rc;

    snprintf(path, sizeof(path), "/v1/jobs?order=desc&limit=%ld", last);
    if ((rc = get_page(path, &r, &jobs, &next)) != 0)
        return rc;
    n = json_array_size(jobs);
    v = json_array();
    for (i = n; i > 0; i--)
        json_array_append(v, json_array_get(jobs, i - 1));
    if (json)
        cli_print_json(v, 0);
    rc = json ? 0 : print_table(v, 1);
    if (!json && rc == 0 && next != 0)
        printf(
            "(the newest %zu job%s; older ones: stratus status, or --last with more)\n",
            n, n == 1 ? "" : "s");
    json_decref(v);
    json_decref(r);
    return rc;
}

static int list_jobs(int active_only, int json)
{
    json_t *jobs = NULL;
    int rc = fetch_jobs(active_only, &jobs);

    if (rc != 0)
        return rc;
    if (json)
        cli_print_json(jobs, 0);
    rc = json ? 0 : print_table(jobs, active_only);
    json_decref(jobs);
    return rc;
}

int cli_print_group_bill(FILE *fp, long long group)
{
    json_t *jobs = NULL, *members;
    const json_t *which;
    char m[32];
    double total = 0;
    size_t i, n;
    int rc = fetch_jobs_from(0, group, &jobs);

    if (rc != 0)
        return rc;
    members = group_members(jobs, group);
    n = json_array_size(members);
    if (n > 0)
        fprintf(fp, "\n%s '%s' (group %lld): %s\n",
                str_field(json_array_get(members, 0), "group_mode"),
                str_field(json_array_get(members, 0), "group_name"), group,
                group_state(members, &which));
    for (i = 0; i < n; i++) {
        const json_t *o = json_array_get(members, i);
        long long id = json_integer_value(json_object_get(o, "id"));
        struct stage_view v;

        stage_view(id, &v);
        total += v.cost;
        fprintf(fp, "  stage %lld  job %lld  %-16s %-10s %-44s %10s  %s\n",
                (long long)json_integer_value(json_object_get(o, "stage")), id,
                str_field(o, "name"), str_field(o, "state"), v.where,
                stage_money(m, sizeof(m), v.cost), str_field(o, "reason"));
    }
    fprintf(fp, "  total %s over %zu stage%s\n", stage_money(m, sizeof(m), total), n,
            n == 1 ? "" : "s");
    json_decref(members);
    json_decref(jobs);
    return 0;
}

/* 1 when the API's job heads a group (its id is the group's). */
static int heads_group(const json_t *o)
{
    json_int_t g = json_integer_value(json_object_get(o, "group_id"));

    return g != 0 && g == json_integer_value(json_object_get(o, "id"));
}

static int show_job(long long id, int json)
{
    json_t *o = NULL;
    int rc = cli_get_job(id, &o);

    if (rc != 0)
        return rc;
    if (json)
        cli_print_json(o, 0);
    else if (heads_group(o))
        rc = cli_print_group_bill(stdout, id);
    else
        rc = cli_print_bill(stdout, o);
    json_decref(o);
    return rc;
}

/* What is wrong with argument i of a reader's command line (then its usage
 * follows): an option that needs a value, one it does not know, or one
 * argument too many. */
static void bad_arg(const char *cmd, int argc, char **argv, int i)
{
    static const char *const valued[] = {"--by", "--month", NULL};
    const char *a = i < argc ? argv[i] : "";
    size_t k;

    for (k = 0; valued[k] != NULL; k++)
        if (strcmp(a, valued[k]) == 0) {
            fprintf(stderr, "stratus %s: %s needs a value\n", cmd, a);
            return;
        }
    if (a[0] == '-')
        fprintf(stderr, "stratus %s: unknown option '%s'\n", cmd, a);
    else
        fprintf(stderr, "stratus %s: unexpected '%s'\n", cmd, a);
}

static int run_status(int argc, char **argv)
{
    int json = 0, i;
    const char *job = NULL;
    long last = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--last") == 0) {
            if (i + 1 >= argc || str_to_long(argv[i + 1], 1, 10000, &last) != 0) {
                fprintf(stderr,
                        "stratus status: --last takes a number of jobs from 1 to "
                        "10000%s%s%s\n",
                        i + 1 < argc ? ", not '" : "", i + 1 < argc ? argv[i + 1] : "",
                        i + 1 < argc ? "'" : "");
                return 2;
            }
            i++;
        } else if (job == NULL && argv[i][0] != '-')
            job = argv[i];
        else {
            bad_arg("status", argc, argv, i);
            fprintf(stderr, "usage: stratus status [JOB | --last N] [--json]\n%s",
                    server_note);
            return 2;
        }
    }
    if (job != NULL && last > 0) {
        fprintf(stderr, "stratus status: JOB or --last, not both\n");
        return 2;
    }
    if (job == NULL)
        return last > 0 ? list_last(last, json) : list_jobs(0, json);
    return cli_job_id(job) < 0 ? 2 : show_job(cli_job_id(job), json);
}

static int run_queue(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;

    if (argc > 1 && !json) {
        bad_arg("queue", argc, argv, strcmp(argv[1], "--json") == 0 ? 2 : 1);
        fprintf(stderr, "usage: stratus queue [--json]\n%s", server_note);
        return 2;
    }
    return list_jobs(1, json);
}

/* ---- events ---- */

int cli_print_events(const json_t *events, int64_t *after)
{
    struct err e;
    size_t i;

    err_clear(&e);
    for (i = 0; i < json_array_size(events); i++) {
        struct store_event ev;

        if (apijson_to_event(json_array_get(events, i), &ev, &e) != 0)
            return cli_fail(&e);
        cli_print_event(stdout, &ev);
        *after = ev.id;
        free(ev.type);
        free(ev.msg);
    }
    return 0;
}

int cli_job_events(long long id, int64_t after, json_t **out)
{
    char path[96];
    struct err e;

    snprintf(path, sizeof(path), "/v1/jobs/%lld/events?after=%lld", id, (long long)after);
    err_clear(&e);
    return client_call("GET", path, NULL, out, &e) == 0 ? 0 : cli_fail(&e);
}

/* Every event of a job, page by page (the server may cap a reply). */
static int collect_events(long long id, json_t *all)
{
    int64_t after = 0;
    size_t i, n;
    int rc;

    do {
        json_t *r = NULL, *ev;

        rc = cli_job_events(id, after, &r);
        if (rc != 0)
            return rc;
        ev = json_object_get(r, "events");
        n = json_array_size(ev);
        for (i = 0; i < n; i++) {
            json_array_append(all, json_array_get(ev, i));
            after = json_integer_value(json_object_get(json_array_get(ev, i), "id"));
        }
        json_decref(r);
    } while (n > 0);
    return 0;
}

static int run_events(int argc, char **argv)
{
    int json = argc == 3 && strcmp(argv[2], "--json") == 0;
    json_t *all;
    int64_t after = 0;
    long long id;
    int rc;

    if (argc != 2 && !json) {
        if (argc > 2)
            bad_arg("events", argc, argv, strcmp(argv[2], "--json") == 0 ? 3 : 2);
        fprintf(stderr, "usage: stratus events JOB [--json]\n%s", server_note);
        return 2;
    }
    id = cli_job_id(argv[1]);
    if (id < 0)
        return 2;
    all = json_array();
    rc = collect_events(id, all);
    if (rc == 0 && json)
        cli_print_json(all, 0);
    else if (rc == 0)
        rc = cli_print_events(all, &after);
    json_decref(all);
    return rc;
}

/* ---- cancel ---- */

static int cancel_one(long long id)
{
    char path[64];
    json_t *r = NULL;
    struct err e;

    snprintf(path, sizeof(path), "/v1/jobs/%lld/cancel", id);
    err_clear(&e);
    if (client_call("POST", path, NULL, &r, &e) != 0)
        return cli_fail(&e);
    if (strcmp(str_field(r, "cancel"), "already-ended") == 0)
        printf("job %lld already ended: %s\n", id, str_field(r, "state"));
    else
        printf("job %lld: cancel requested\n", id);
    json_decref(r);
    return 0;
}

/* A group's id cancels every stage still active (the first may have ended;
 * the controller ends the later stages of a cancelled one as well). */
static int cancel_group(long long group)
{
    json_t *jobs = NULL, *members;
    size_t i, n = 0;
    int rc = fetch_jobs_from(1, group, &jobs), worst = 0;

    if (rc != 0)
        return rc;
    members = group_members(jobs, group);
    for (i = 0; i < json_array_size(members); i++) {
        rc = cancel_one(json_integer_value(json_object_get(json_array_get(members, i), "id")));
        worst = rc > worst ? rc : worst;
        n++;
    }
    printf("group %lld: %zu stage%s still active, cancel requested\n", group, n,
           n == 1 ? "" : "s");
    json_decref(members);
    json_decref(jobs);
    return worst;
}

/* A job, or a whole group when the id is a group's. */
static int cancel_id(long long id)
{
    json_t *o = NULL;
    int rc = cli_get_job(id, &o), group;

    if (rc != 0)
        return rc;
    group = heads_group(o);
    json_decref(o);
    return group ? cancel_group(id) : cancel_one(id);
}

/* Every id is checked before any is cancelled; then each is tried, and the
 * exit status is the worst. */
static int run_cancel(int argc, char **argv)
{
    int i, rc, worst = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: stratus cancel JOB|GROUP...\n");
        return 2;
    }
    for (i = 1; i < argc; i++)
        if (cli_job_id(argv[i]) < 0)
            return 2;
    for (i = 1; i < argc; i++) {
        rc = cancel_id(cli_job_id(argv[i]));
        worst = rc > worst ? rc : worst;
    }
    return worst;
}

/* ---- cost ---- */

#define KEY_W 28
#define KEY_W_MAX 80

/* The row's first column: the key, and by job the job's name after its id. */
static const char *row_key(const struct store_cost_row *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", r->key, r->name ? " " : "", r->name ? r->name : "");
    return buf;
}

/* The rows decoded (*n of them; caller frees with store_cost_rows_free). */
static int decode_rows(const json_t *rows, struct store_cost_row **out, size_t *n)
{
    struct err e;
    size_t i;

    *n = json_array_size(rows);
    *out = xcalloc(*n ? *n : 1, sizeof(**out));
    err_clear(&e);
    for (i = 0; i < *n; i++)
        if (apijson_to_cost_row(json_array_get(rows, i), &(*out)[i], &e) != 0) {
            store_cost_rows_free(*out, i);
            return cli_fail(&e);
        }
    return 0;
}

/* The table of a cost reply: its rows, by team or job the commitments'
 * fees on a line of their own (they are the lab's: by cloud they are in
 * each cloud's row), and the total. */
static int print_cost_rows(const char *by, const json_t *reply)
{
    double total = 0, egress = 0, storage = 0, commit = 0, hours = 0, lost = 0, fees = 0;
    double line, early = 0, first = 0, compute = 0;
    const json_t *cv = json_object_get(reply, "commitments");
    struct store_cost_row *r;
    char m[32], cp[32], g[32], st[32], cm[32], key[160];
    size_t i, n;
    int kw = KEY_W, mw = 12, own,
        rc = decode_rows(json_object_get(reply, "rows"), &r, &n);

    if (rc != 0)
        return rc;
    for (i = 0; i < json_array_size(cv); i++) {
        const json_t *c = json_array_get(cv, i);

        fees += json_number_value(json_object_get(c, "usd"));
        early += json_number_value(json_object_get(c, "usd_before_first_job"));
        first = json_number_value(json_object_get(c, "first_job_at"));
    }
    for (i = 0; i < n; i++) {
        kw = widen(kw, strlen(row_key(&r[i], key, sizeof(key))), KEY_W_MAX);
        total += r[i].usd;
        compute += r[i].compute_usd;
        egress += r[i].egress_usd;
        storage += r[i].storage_usd;
        commit += r[i].commitment_usd;
        hours += r[i].node_hours;
        lost += r[i].lost_node_hours;
    }
    own = commit < fees * (1 - 1e-9); /* not in the rows: the lab's own line */
    line = own ? fees - commit : 0;
    total += line;
    commit += line;
    /* money columns as wide as the largest amount (the total) */
    mw = widen(mw, strlen(str_money(m, sizeof(m), total)), 31);
    mw = widen(mw, strlen(str_money(m, sizeof(m), commit)), 31);
    /* COMPUTE: the attempts' machines (compute_usd), so that the money
     * columns add up to COST (helper-103: compute was in --json only) */
    printf("%-*s %*s %*s %*s %*s %*s %12s %14s %9s\n", kw, by, mw, "COST", mw, "COMPUTE",
           mw, "EGRESS", mw, "STORAGE", mw, "COMMITMENTS", "NODE-HOURS", "STOPPED NODE-H",
           "ATTEMPTS");
    for (i = 0; i < n; i++)
        printf("%-*.*s %*s %*s %*s %*s %*s %12.4f %14.4f %9d\n", kw, kw,
               row_key(&r[i], key, sizeof(key)), mw, str_money(m, sizeof(m), r[i].usd),
               mw, str_money(cp, sizeof(cp), r[i].compute_usd), mw,
               str_money(g, sizeof(g), r[i].egress_usd), mw,
               str_money(st, sizeof(st), r[i].storage_usd), mw,
               str_money(cm, sizeof(cm), r[i].commitment_usd), r[i].node_hours,
               r[i].lost_node_hours, r[i].attempts);
    if (own)
        printf("%-*s %*s %*s %*s %*s %*s\n", kw, "(commitments)", mw,
               str_money(m, sizeof(m), line), mw, "-", mw, "-", mw, "-", mw,
               str_money(cm, sizeof(cm), line));
    printf("%-*s %*s %*s %*s %*s %*s %12.4f %14.4f\n", kw, "total", mw,
           str_money(m, sizeof(m), total), mw, str_money(cp, sizeof(cp), compute), mw,
           str_money(g, sizeof(g), egress), mw, str_money(st, sizeof(st), storage), mw,
           str_money(cm, sizeof(cm), commit), hours, lost);
    if (commit > 0)
        printf(
            "(COMMITMENTS: the fees of the commitments in the server's catalog, by the "
            "hour from each one's start, used or not: docs/commitments.md)\n");
    if (early >= 0.005) {
        char day[32];
        time_t t = (time_t)first;
        struct tm tm;

        strftime(day, sizeof(day), "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
        printf("(%s of COMMITMENTS is from before this server's first job, %s: "
               "commitments.csv's start says since when each is counted)\n",
               str_money(m, sizeof(m), early), day);
    }
    if (lost > 0)
        printf("(STOPPED NODE-H: of attempts that ended other than by exiting: preempted, "
               "displaced, cancelled, a replica scaled down or replaced; a checkpoint may "
               "have kept part of their work)\n");
    store_cost_rows_free(r, n);
    return 0;
}

/* Each team's month: budget, what is left, the forecast to the month's end;
 * SPENT is what the budget counts (compute and data moves, not storage), so
 * SPENT + LEFT is the budget (the server's budget_spend_usd; usd from a
 * server before it). */
static void print_budgets(const json_t *rows, const char *month)
{
    char a[32], b[32], c[32], d[32];
    size_t i;
    int tw = 20, mw = 12, fw = 14;

    for (i = 0; i < json_array_size(rows); i++) { /* as wide as the widest */
        const json_t *r = json_array_get(rows, i);
        const json_t *spent = json_object_get(r, "budget_spend_usd");

        tw = widen(tw, strlen(json_string_value(json_object_get(r, "key"))), KEY_W_MAX);
        mw = widen(mw,
                   strlen(str_money(
                       a, sizeof(a),
                       json_number_value(spent ? spent : json_object_get(r, "usd")))),
                   31);
        mw = widen(mw,
                   strlen(str_money(a, sizeof(a),
                                    json_number_value(json_object_get(r, "budget_usd")))),
                   31);
        mw = widen(
            mw,
            strlen(str_money(a, sizeof(a),
                             json_number_value(json_object_get(r, "remaining_usd")))),
            31);
        fw = widen(
            fw,
            strlen(str_money(a, sizeof(a),
                             json_number_value(json_object_get(r, "forecast_usd")))),
            31);
    }
    printf("\n%-*s %*s %*s %*s %*s  %s\n", tw, "TEAM", mw, "SPENT", mw, "BUDGET", mw,
           "LEFT", fw, "FORECAST", month);
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *r = json_array_get(rows, i);
        const json_t *budget = json_object_get(r, "budget_usd");
        const json_t *spent = json_object_get(r, "budget_spend_usd");

        printf("%-*s %*s %*s %*s %*s  %s\n", tw,
               json_string_value(json_object_get(r, "key")), mw,
               str_money(a, sizeof(a),
                         json_number_value(spent ? spent : json_object_get(r, "usd"))),
               mw, budget ? str_money(b, sizeof(b), json_number_value(budget)) : "-", mw,
               budget ? str_money(c, sizeof(c),
                                  json_number_value(json_object_get(r, "remaining_usd")))
                      : "-",
               fw,
               str_money(d, sizeof(d),
                         json_number_value(json_object_get(r, "forecast_usd"))),
               budget && json_number_value(json_object_get(r, "remaining_usd")) < 0
                   ? "over budget" /* already (helper-103: "by month end" read oddly) */
               : json_is_true(json_object_get(r, "forecast_over"))
                   ? "over budget by month end"
               : budget ? "within budget"
                        : "");
    }
}

static int run_cost(int argc, char **argv)
{
    const char *by = "cloud", *month = NULL;
    json_t *r = NULL;
    char path[96];
    struct err e;
    int json = 0, i, rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            by = argv[++i];
        else if (strcmp(argv[i], "--month") == 0 && i + 1 < argc)
            month = argv[++i];
        else {
            bad_arg("cost", argc, argv, i);
            fprintf(stderr, "usage: stratus cost [--by cloud|team|job] [--month YYYY-MM] "
                    "[--json]\n%s", server_note);
            return 2;
        }
    }
    if (month != NULL &&
        (strlen(month) != 7 || month[4] != '-' || strspn(month, "0123456789-") != 7 ||
         strspn(month, "0123456789") != 4 || atoi(month + 5) < 1 ||
         atoi(month + 5) > 12)) {
        fprintf(stderr, "stratus: --month takes a month as YYYY-MM (2026-12), not '%s'\n",
                month);
        return 2;
    }
    if (strcmp(by, "cloud") && strcmp(by, "team") && strcmp(by, "job")) {
        fprintf(stderr, "stratus: --by takes cloud, team or job, not '%s'\n", by);
        return 2;
    }
    snprintf(path, sizeof(path), "/v1/cost?by=%s%s%s", by, month ? "&month=" : "",
             month ? month : "");
    err_clear(&e);
    if (client_call("GET", path, NULL, &r, &e) != 0)
        return cli_fail(&e);
    rc = 0;
    if (json)
        cli_print_json(r, 0);
    else
        rc = print_cost_rows(by, r);
    if (!json && rc == 0 && month != NULL && strcmp(by, "team") == 0)
        print_budgets(json_object_get(r, "rows"), month);
    json_decref(r);
    return rc;
}

/* ---- logs ---- */

/* The job's latest attempt: its id (0 when none yet) and "attempt N on
 * cloud/region" in where; *ended when the job has ended.  0 or an exit
 * status. */
static int latest_attempt(long long id, int64_t *att, char *where, size_t n, int *ended)
{
    json_t *job = NULL;
    const json_t *atts, *a;
    struct store_job j;
    struct err e;
    int rc = cli_get_job(id, &job);

    if (rc != 0)
        return rc;
    err_clear(&e);
    if (apijson_to_job(job, &j, &e) != 0) {
        json_decref(job);
        return cli_fail(&e);
    }
    *ended = job_state_terminal(j.state);
    store_job_clear(&j);
    atts = json_object_get(job, "attempts_detail");
    a = json_array_get(atts, json_array_size(atts) - 1);
    *att = a ? json_integer_value(json_object_get(a, "id")) : 0;
    snprintf(where, n, "attempt %lld on %s/%s",
             (long long)json_integer_value(json_object_get(a, "n")), str_field(a, "cloud"),
             str_field(a, "region"));
    json_decref(job);
    return 0;
}

/* How long `logs --follow` waits for a server that went away mid-stream
 * (killed, restarted by systemd, or started again by the next call for a
 * home's own socket) before it gives up. */
#define FOLLOW_RESUME_S 60.0

/* The latest attempt once the server answers again after a broken stream:
 * 0, or the error of the last try after FOLLOW_RESUME_S. */
static int reattach(long long id, int64_t *att, char *where, size_t n, int *ended)
{
    double until = clock_mono() + FOLLOW_RESUME_S;
    int rc;

    for (;;) {
        rc = latest_attempt(id, att, where, n, ended);
        if (rc == 0 || clock_mono() > until)
            return rc;
        clock_sleep(0.5);
    }
}

/* `logs --follow`: the server streams one attempt's log until the job ends;
 * a job that recovered meanwhile ran on a new attempt, whose log follows
 * under a line that says so (as when the CLI read the files itself).  A job
 * not launched yet is waited for.  A stream that breaks off because the
 * server went away is taken up again, once the server answers, from the
 * byte it stopped at (nothing printed twice, nothing skipped). */
static int follow_logs(long long id, long node)
{
    char path[160], where[256];
    int64_t att = 0, now = 0;
    long offset = 0, got;
    int ended = 0, rc, broke;
    struct err e;

    rc = latest_attempt(id, &att, where, sizeof(where), &ended);
    while (rc == 0 && att == 0 && !ended) {
        clock_sleep(0.2);
        rc = latest_attempt(id, &att, where, sizeof(where), &ended);
    }
    if (rc != 0 || att == 0)
        return rc;
    for (;;) {
        snprintf(path, sizeof(path), "/v1/jobs/%lld/logs?node=%ld&follow=1&offset=%ld", id,
                 node, offset);
        err_clear(&e);
        got = 0;
        rc = client_stream(path, stdout, &got, &e);
        fflush(stdout);
        offset += got;
        broke = rc == ST_EIO;
        if (rc != 0 && e.code != ST_ENOTFOUND && !broke)
            return cli_fail(&e);
        rc = broke ? reattach(id, &now, where, sizeof(where), &ended)
                   : latest_attempt(id, &now, where, sizeof(where), &ended);
        if (rc != 0)
            return rc;
        if (now == att && broke)
            continue; /* the same attempt: on from where the stream broke */
        if (now == att)
            return 0;
        printf("--- the job moved: %s ---\n", where);
        att = now;
        offset = 0;
    }
}

static int run_logs(int argc, char **argv)
{
    static const struct option longs[] = {{"node", required_argument, NULL, 'n'},
                                          {"follow", no_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    long node = 0;
    int follow = 0, ch;
    char path[128];
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
        if (ch == 'n')
            fprintf(stderr, "stratus logs: --node takes a node's number from 0, not '%s'\n",
                    optarg);
        fprintf(stderr, "usage: stratus logs JOB [--node N] [--follow]\n%s", server_note);
        return 2;
    }
    if (optind != argc - 1 || (id = cli_job_id(argv[optind])) < 0)
        return 2;
    if (follow)
        return follow_logs(id, node);
    snprintf(path, sizeof(path), "/v1/jobs/%lld/logs?node=%ld", id, node);
    err_clear(&e);
    if (client_stream(path, stdout, NULL, &e) != 0)
        return cli_fail(&e);
    fflush(stdout);
    return 0;
}

static const char status_help[] =
    "usage: stratus status [JOB | --last N] [--json]\n"
    "Without JOB: every job with its state, placement and cost (--last N: the N\n"
    "newest only).  With JOB: that job's attempts (where, how long, what each\n"
    "cost) and its bill.\n";
static const char queue_help[] =
    "usage: stratus queue [--json]\n"
    "Lists the jobs not yet finished, in the order they were submitted (PRI is each\n"
    "one's priority: the controller places the highest first).\n";
static const char events_help[] =
    "usage: stratus events JOB [--json]\n"
    "Prints JOB's event log: submission, placements, preemptions, retries, end.\n";
static const char cancel_help[] =
    "usage: stratus cancel JOB...\n"
    "Asks the controller to stop each JOB; its nodes are terminated.\n";
static const char cost_help[] =
    "usage: stratus cost [--by cloud|team|job] [--month YYYY-MM] [--json]\n"
    "What was spent (compute, data moves and keeping data copies), grouped by cloud\n"
    "(the default), team or job, and the fees of the commitments in the server's\n"
    "catalog (by cloud in each cloud's row; by team or job a line of their own:\n"
    "they are the lab's), amortised by the hour from each one's start.\n"
    "--month counts only that calendar month (UTC); by team it adds each team's\n"
    "budget, what is left and the forecast to the month's end (commitments are\n"
    "in no team's budget). A user's token sees its teams' spend only, and no\n"
    "commitments.\n";
static const char logs_help[] =
    "usage: stratus logs JOB [--node N] [--follow]\n"
    "Prints node N's output (node 0 by default); --follow waits for more until\n"
    "the job ends.\n";

const struct cli_cmd cli_cmd_status = {
    "status", "show jobs, or one job's attempts and cost", run_status, status_help};
const struct cli_cmd cli_cmd_queue = {"queue", "list jobs not yet finished", run_queue,
                                      queue_help};
const struct cli_cmd cli_cmd_events = {"events", "a job's event log", run_events,
                                       events_help};
const struct cli_cmd cli_cmd_cancel = {"cancel", "cancel jobs", run_cancel, cancel_help};
const struct cli_cmd cli_cmd_cost = {"cost", "what was spent, by cloud, team or job",
                                     run_cost, cost_help};
const struct cli_cmd cli_cmd_logs = {"logs", "a node's output", run_logs, logs_help};
