/*
 * cmd_plan.c - `stratus plan FILE...`: where each workload should run, at what
 * expected cost, and why everything else was passed over.
 *
 * By default the server plans (POST /v1/plan), under the org policy it keeps,
 * so `plan` and `launch` agree; with --offline, or given --catalog, the plan
 * is made here from files alone. Either way the text comes from plan_print.
 *
 * A file among FILEs that is a policy (top-level `rules:`) is taken as the
 * policy when --policy is not given, so a shell glob over examples/ plans
 * every example under the lab's policy (examples/policy.yaml).  Without
 * either, $STRATUS_POLICY is used when set; otherwise the server's policy
 * (offline: none).
 *
 * A file of several YAML documents (a pipeline or job group,
 * spec/pipeline.h) is planned stage by stage: each stage is placed on its
 * own, as the controller will place it.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../catalog/catalog.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../spec/pipeline.h"
#include "../spec/spec.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

struct plan_args {
    const char *catalog, *policy;
    const char *policy_path;  /* the policy chosen (choose_policy), or NULL */
    long top;
    int explain, json, offline;
    char **files;
    size_t nfiles;
};

static const char plan_usage[] =
    "usage: stratus plan FILE... [--policy P] [--top N] [--explain] [--json]\n"
    "                            [--offline] [--catalog DIR]\n"
    "Ranks every feasible placement of each workload by expected cost.\n"
    "The server plans, under its org policy unless --policy (or a policy file\n"
    "among FILEs, or $STRATUS_POLICY) names another; --offline (or --catalog)\n"
    "plans here from the files alone (the bundled catalog unless --catalog).\n";

static int parse_plan_args(int argc, char **argv, struct plan_args *a)
{
    static const struct option longs[] = {
        {"policy", required_argument, NULL, 'p'}, {"top", required_argument, NULL, 't'},
        {"explain", no_argument, NULL, 'e'},      {"json", no_argument, NULL, 'j'},
        {"catalog", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {"offline", no_argument, NULL, 'o'},       {NULL, 0, NULL, 0}};
    int ch;

    memset(a, 0, sizeof(*a));
    a->top = 10;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'p': a->policy = optarg; break;
        case 'e': a->explain = 1; break;
        case 'j': a->json = 1; break;
        case 'C': a->catalog = optarg; break;
        case 'o': a->offline = 1; break;
        case 't':
            if (str_to_long(optarg, 0, 1000000, &a->top) != 0) {
                fprintf(stderr, "stratus: --top must be a whole number, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(plan_usage, stdout); return -1;
        default: fputs(plan_usage, stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "stratus: plan needs a workload file\n%s", plan_usage);
        return 2;
    }
    a->files = argv + optind;
    a->nfiles = (size_t)(argc - optind);
    return 0;
}

/* 1 when the YAML file is a policy (top-level `rules:` and no `run`/`resources`). */
static int is_policy_file(const char *path)
{
    struct ydoc d;
    struct err e;
    int yes;

    if (ydoc_load_file(&d, path, 0, &e) != 0)
        return 0;
    yes = ymap_get(d.root, "rules") != NULL && ymap_get(d.root, "resources") == NULL &&
          ymap_get(d.root, "run") == NULL;
    ydoc_free(&d);
    return yes;
}

/* Pick the policy: --policy, else one policy file among FILEs, else
 * $STRATUS_POLICY.  Policy files found among FILEs are marked NULL. */
static int choose_policy(struct plan_args *a, struct policy **pol)
{
    const char *path = a->policy;
    struct err e;
    size_t i;

    *pol = NULL;
    for (i = 0; i < a->nfiles; i++) {
        if (!is_policy_file(a->files[i]))
            continue;
        if (path && path != a->policy) {
            fprintf(stderr, "stratus: two policy files given (%s, %s); name one with --policy\n",
                    path, a->files[i]);
            return 2;
        }
        if (path == NULL)
            path = a->files[i];
        a->files[i] = NULL;
    }
    if (path == NULL)
        path = getenv("STRATUS_POLICY");
    if (path == NULL || *path == '\0')
        return 0;
    a->policy_path = path;
    err_clear(&e);
    if (policy_load_file(pol, path, &e) != 0)
        return cli_fail(&e);
    return 0;
}

/* ---- one file ---- */

/* Plan spec s (borrowed; a pipeline's stage) as plan_one does a file's. */
static int plan_spec(const struct plan_args *a, const struct catalog *cat,
                     const struct policy *pol, const struct spec *s, json_t *out)
{
    struct plan_opts opts = {.now = 0, .top = (size_t)a->top, .by_price = 0,
                             .copy_keep_h = s->data_name ? PLAN_DATA_TTL_H : 0};
    struct plan p;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    for (i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "%s\n", s->warnings[i]);
    plan_init(&p);
    rc = plan_rank(&p, cat, s, pol, &opts, &e);
    if (rc == 0 && out)
        json_array_append_new(out, plan_to_json(&p, a->explain));
    else if (rc == 0)
        plan_print(stdout, &p, a->explain);
    else if (rc == ST_EINFEASIBLE && a->explain && !out)
        plan_print_explain(stdout, &p);
    if (rc != 0)
        rc = cli_fail(&e);
    plan_free(&p);
    return rc;
}

static int plan_one(const struct plan_args *a, const struct catalog *cat,
                    const struct policy *pol, const char *file, json_t *out)
{
    struct spec *s;
    struct err e;
    int rc;

    err_clear(&e);
    if (spec_load_file(&s, file, &e) != 0)
        return cli_fail(&e);
    if (spec_check_new(s, &e) != 0) {
        spec_free(s);
        return cli_fail(&e);
    }
    rc = plan_spec(a, cat, pol, s, out);
    spec_free(s);
    return rc;
}

/* ---- one file, planned by the server ---- */

/* The body of POST /v1/plan for file (its text: stage, or else the file's):
 * NULL with e set when it cannot be read. */
static json_t *remote_body(const struct plan_args *a, const char *policy_text, const char *file,
                           const char *stage, struct err *e)
{
    char *text = NULL;
    size_t len = 0;
    json_t *body, *spec;

    if (stage != NULL) {
        text = xstrdup(stage);
        len = strlen(stage);
    } else if (fs_read_file(file, 1 << 20, &text, &len, e) != 0)
        return NULL;
    spec = json_stringn(text, len);
    free(text);
    if (spec == NULL) {
        err_set(e, ST_EPARSE, "%s: not UTF-8 text", file);
        return NULL;
    }
    body = json_object();
    json_object_set_new(body, "spec", spec);
    json_object_set_new(body, "file", json_string(file));
    json_object_set_new(body, "top", json_integer(a->top));
    json_object_set_new(body, "explain", json_boolean(a->explain));
    if (policy_text) {
        json_object_set_new(body, "policy", json_string(policy_text));
        if (a->policy_path)
            json_object_set_new(body, "policy_file", json_string(a->policy_path));
    }
    return body;
}

/* The spec's warnings (stderr) and the plan (into out, or its text to
 * stdout); an infeasible one asked to explain prints why, as offline. */
static int plan_remote(const struct plan_args *a, const char *policy_text,
                       const char *file, const char *stage, const char *stage_name,
                       json_t *out)
{
    json_t *body, *reply = NULL, *w;
    const char *text;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    body = remote_body(a, policy_text, file, stage, &e);
    if (body == NULL)
        return cli_fail(&e);
    if (stage_name != NULL)
        json_object_set_new(body, "stage_name", json_string(stage_name));
    rc = client_call_keep("POST", "/v1/plan", body, &reply, &e);
    json_decref(body);
    /* stderr's lines after the stdout of the spec before (piped, stdout is
     * kept in a buffer: each spec's notes ran ahead of its table) */
    fflush(stdout);
    w = json_object_get(reply, "warnings");
    for (i = 0; i < json_array_size(w); i++)
        fprintf(stderr, "%s\n", json_string_value(json_array_get(w, i)));
    text = json_string_value(json_object_get(reply, "text"));
    if (rc == 0 && out)
        json_array_append(out, json_object_get(reply, "plan"));
    else if ((rc == 0 || (rc == ST_EINFEASIBLE && a->explain && !out)) && text)
        fputs(text, stdout);
    if (rc == 0 && !out && json_is_string(json_object_get(reply, "now"))) {
        fflush(stdout); /* under its table, also when piped */
        fputs(json_string_value(json_object_get(reply, "now")), stderr);
    }
    json_decref(reply);
    return rc == 0 ? 0 : cli_fail(&e);
}

/* The text of the chosen policy file for the server, or NULL for none
 * (the server's applies): 0, or the exit status. */
static int policy_text_of(const struct plan_args *a, char **text)
{
    struct err e;

    *text = NULL;
    err_clear(&e);
    if (a->policy_path && fs_read_file(a->policy_path, 1 << 20, text, NULL, &e) != 0)
        return cli_fail(&e);
    return 0;
}

/* A pipeline or job group: each stage planned on its own; 0 when the file
 * is not one (*done stays 0). */
static int plan_stages(const struct plan_args *a, const struct catalog *cat,
                       const struct policy *pol, const char *ptext, const char *file,
                       json_t *out, int *done)
{
    struct pipeline *pl = NULL;
    char *text = NULL;
    size_t len = 0, k;
    struct err e;
    int rc = 0, worst = 0;

    err_clear(&e);
    *done = fs_read_file(file, 1 << 20, &text, &len, &e) == 0 && pipeline_is_multi(text, len);
    free(text);
    if (!*done)
        return 0;
    if (pipeline_load_file(&pl, file, &e) != 0)
        return cli_fail(&e);
    /* each stage is what a launch takes, and their datasets agree */
    for (k = 0; k < pl->n; k++)
        if (spec_check_new(pl->stages[k].spec, &e) != 0 ||
            sched_data_stage_agrees(file, pl, k, &e) != 0) {
            pipeline_free(pl);
            return cli_fail(&e);
        }
    for (k = 0; k < pl->n; k++) {
        if (!out)
            printf("%s%s '%s', stage %zu of %zu:\n", k ? "\n" : "",
                   pipeline_mode_name(pl->mode), pl->name, k + 1, pl->n);
        rc = cat ? plan_spec(a, cat, pol, pl->stages[k].spec, out)
                 : plan_remote(a, ptext, file, pl->stages[k].text,
                               pl->stages[k].spec->name, out);
        worst = rc > worst ? rc : worst;
    }
    pipeline_free(pl);
    return worst;
}

static int run_plan(int argc, char **argv)
{
    struct plan_args a;
    struct policy *pol = NULL;
    struct catalog *cat = NULL;
    char *ptext = NULL;
    json_t *out = NULL;
    int rc = parse_plan_args(argc, argv, &a), worst = 0, offline, multi;
    size_t i, done = 0;

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    offline = a.offline || a.catalog != NULL;
    rc = choose_policy(&a, &pol);
    if (rc == 0)
        rc = offline ? cli_load_catalog(a.catalog, &cat) : policy_text_of(&a, &ptext);
    if (rc != 0) {
        policy_free(pol);
        return rc;
    }
    if (a.json)
        out = json_array();
    for (i = 0; i < a.nfiles; i++) {
        if (a.files[i] == NULL)
            continue;
        if (done++ && !a.json)
            putchar('\n');
        rc = plan_stages(&a, cat, pol, ptext, a.files[i], out, &multi);
        if (!multi && offline)
            rc = plan_one(&a, cat, pol, a.files[i], out);
        else if (!multi)
            rc = plan_remote(&a, ptext, a.files[i], NULL, NULL, out);
        if (rc > worst)
            worst = rc;
    }
    if (out) {
        json_t *one = json_array_size(out) == 1 ? json_array_get(out, 0) : out;

        cli_print_json(one, JSON_REAL_PRECISION(12));
        json_decref(out);
    }
    if (done == 0) {
        fprintf(stderr, "stratus: no workload file among the arguments\n");
        worst = 2;
    }
    catalog_free(cat);
    policy_free(pol);
    free(ptext);
    return worst;
}

const struct cli_cmd cli_cmd_plan = {
    "plan", "rank where workloads should run, with costs", run_plan, plan_usage};
