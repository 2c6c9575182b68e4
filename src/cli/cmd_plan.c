/*
 * cmd_plan.c - `stratus plan FILE...`: where each workload should run, at what
 * expected cost, and why everything else was passed over.
 *
 * A file among FILEs that is a policy (top-level `rules:`) is taken as the
 * policy when --policy is not given, so a shell glob over examples/ plans
 * every example under the lab's policy (examples/policy.yaml).  Without either, $STRATUS_POLICY is
 * used when set; otherwise no policy applies.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "plan/plan.h"
#include "policy/policy.h"
#include "spec/spec.h"
#include "util/strutil.h"
#include "util/xmem.h"
#include "util/yamlx.h"

struct plan_args {
    const char *catalog, *policy;
    long top;
    int explain, json;
    char **files;
    size_t nfiles;
};

static const char plan_usage[] =
    "usage: stratus plan FILE... [--policy P] [--top N] [--explain] [--json]\n"
    "                            [--catalog DIR]\n"
    "Ranks every feasible placement of each workload by expected cost.\n";

static int parse_plan_args(int argc, char **argv, struct plan_args *a)
{
    static const struct option longs[] = {
        {"policy", required_argument, NULL, 'p'}, {"top", required_argument, NULL, 't'},
        {"explain", no_argument, NULL, 'e'},      {"json", no_argument, NULL, 'j'},
        {"catalog", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
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
    err_clear(&e);
    if (policy_load_file(pol, path, &e) != 0)
        return cli_fail(&e);
    return 0;
}

/* ---- text output ---- */

static void print_cand_line(const struct plan *p, const struct plan_cand *c, size_t rank)
{
    const struct offer *o = catalog_offer(p->cat, c->offer);
    char loc[160], m1[32], m2[32], m3[32], m4[32], m5[32];

    snprintf(loc, sizeof(loc), "%s/%s%s%s", o->cloud, o->region, *o->zone ? "/" : "", o->zone);
    printf("%3zu  %-38s %-26s %-9s %9.2f %11s %11s %10s %9s %12s\n", rank, loc,
           o->instance_type, plan_mode_name(c->mode), c->price_hour,
           str_money(m1, sizeof(m1), c->hourly_cost), str_money(m2, sizeof(m2), c->compute),
           str_money(m3, sizeof(m3), c->preemption), str_money(m4, sizeof(m4), c->egress),
           str_money(m5, sizeof(m5), c->expected));
}

static void print_header(const struct plan *p)
{
    const struct spec *s = p->spec;
    char dur[32];
    size_t i;

    printf("%s: %s, %d node%s x ", s->name, spec_kind_name(s->kind), s->num_nodes,
           s->num_nodes == 1 ? "" : "s");
    for (i = 0; i < s->nres; i++)
        printf("%s%s:%d", i ? (s->ordered ? " > " : " | ") : "", p->accs[i], s->res[i].acc_count);
    if (p->duration_assumed)
        printf(", no duration given: costs are per hour\n");
    else
        printf(", %s\n", str_duration(dur, sizeof(dur), s->duration_s));
    if (p->rule && p->rule->description)
        printf("policy: rule '%s' (%s)\n", p->rule->name, p->rule->description);
    else if (p->rule)
        printf("policy: rule '%s'\n", p->rule->name);
    else
        printf("policy: none applies\n");
}

static void print_explain(const struct plan *p)
{
    char why[512], loc[160], delta[32];
    int r;

    printf("\nexcluded (%zu of %zu candidates):\n", p->considered - p->feasible, p->considered);
    for (r = 0; r < PLAN_R__N; r++) {
        const struct plan_excl *x = &p->excl[r];
        const struct offer *o;
        double d;

        if (x->count == 0)
            continue;
        printf("  %6zu  %s", x->count, plan_reason_explain(p, r, why, sizeof(why)));
        if (!x->has_best || p->n == 0) {
            putchar('\n');
            continue;
        }
        o = catalog_offer(p->cat, x->best.offer);
        snprintf(loc, sizeof(loc), "%s/%s%s%s", o->cloud, o->region, *o->zone ? "/" : "",
                 o->zone);
        d = p->c[0].expected - x->best.expected;
        printf(" — best removed: %s %s %s would have cost %s %s\n", loc, o->instance_type,
               plan_mode_name(x->best.mode), str_money(delta, sizeof(delta), d < 0 ? -d : d),
               d >= 0 ? "less" : "more");
    }
}

static void print_plan(const struct plan *p, int explain)
{
    size_t i;

    print_header(p);
    printf("%3s  %-38s %-26s %-9s %9s %11s %11s %10s %9s %12s\n", "#", "LOCATION", "INSTANCE",
           "MODE", "$/NODE-H", "$/HOUR", "COMPUTE", "PREEMPT", "EGRESS", "EXPECTED");
    for (i = 0; i < p->n; i++)
        print_cand_line(p, &p->c[i], i + 1);
    printf("%zu feasible of %zu candidates considered%s\n", p->feasible, p->considered,
           p->n < p->feasible ? " (--top 0 shows all)" : "");
    if (explain)
        print_explain(p);
}

/* ---- one file ---- */

static int plan_one(const struct plan_args *a, const struct catalog *cat,
                    const struct policy *pol, const char *file, json_t *out)
{
    struct plan_opts opts = {0, (size_t)a->top, 0};
    struct spec *s;
    struct plan p;
    struct err e;
    size_t i;
    int rc;

    err_clear(&e);
    if (spec_load_file(&s, file, &e) != 0)
        return cli_fail(&e);
    for (i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "%s\n", s->warnings[i]);
    plan_init(&p);
    rc = plan_rank(&p, cat, s, pol, &opts, &e);
    if (rc == 0 && out)
        json_array_append_new(out, plan_to_json(&p, a->explain));
    else if (rc == 0)
        print_plan(&p, a->explain);
    else if (rc == ST_EINFEASIBLE && a->explain && !out)
        print_explain(&p);
    if (rc != 0)
        rc = cli_fail(&e);
    plan_free(&p);
    spec_free(s);
    return rc;
}

static int run_plan(int argc, char **argv)
{
    struct plan_args a;
    struct policy *pol = NULL;
    struct catalog *cat = NULL;
    json_t *out = NULL;
    int rc = parse_plan_args(argc, argv, &a), worst = 0;
    size_t i, done = 0;

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = choose_policy(&a, &pol)) != 0 || (rc = cli_load_catalog(a.catalog, &cat)) != 0) {
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
        rc = plan_one(&a, cat, pol, a.files[i], out);
        if (rc > worst)
            worst = rc;
    }
    if (out) {
        json_t *one = json_array_size(out) == 1 ? json_array_get(out, 0) : out;

        json_dumpf(one, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        putchar('\n');
        json_decref(out);
    }
    if (done == 0) {
        fprintf(stderr, "stratus: no workload file among the arguments\n");
        worst = 2;
    }
    catalog_free(cat);
    policy_free(pol);
    return worst;
}

const struct cli_cmd cli_cmd_plan = {"plan", "rank where workloads should run, with costs",
                                     run_plan};
