/*
 * cmd_team.c - `stratus team ...` and `stratus whoami`: the lab's teams,
 * their members, quotas and budgets (docs/teams.md), through the server's
 * /v1/teams routes.  Changes to a team's settings need a server admin;
 * membership needs an admin of the team.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char team_usage[] =
    "usage: stratus team ls [--json]\n"
    "       stratus team show TEAM [--json]\n"
    "       stratus team create TEAM [--cohort C] [--weight W]\n"
    "       stratus team set-quota TEAM [--gpus ACC=N[@CLOUD]]... [--budget USD]\n"
    "                              [--limit hard|soft] [--cohort C|-] [--weight W] [--clear]\n"
    "       stratus team add TEAM USER [--role viewer|member|admin]\n"
    "       stratus team remove TEAM USER\n"
    "       stratus team rm TEAM\n"
    "Teams share the lab: a user's token sees and acts on its teams' work only.\n"
    "Quotas are concurrent GPUs by accelerator ('*' = any; @CLOUD for one cloud;\n"
    "N '-' drops that quota); a budget is US dollars per calendar month, a hard\n"
    "limit stops admission, a soft one warns. Teams in a cohort lend each other\n"
    "unused quota and take it back when they need it. docs/teams.md says more.\n";

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static char *team_path(const char *team, const char *user)
{
    char *t = client_escape(team), *u = user ? client_escape(user) : NULL, *p;

    p = u ? xasprintf("/v1/teams/%s/members/%s", t, u) : xasprintf("/v1/teams/%s", t);
    free(t);
    free(u);
    return p;
}

static int call(const char *method, char *path, json_t *body, json_t **out)
{
    struct err e;
    int rc;

    err_clear(&e);
    rc = client_call(method, path, body, out, &e);
    free(path);
    json_decref(body);
    return rc != 0 ? cli_fail(&e) : 0;
}

static void print_team(json_t *t)
{
    json_t *q = json_object_get(t, "quota"), *m = json_object_get(t, "members"), *v;
    const char *user;
    char money[32], money2[32];
    size_t i;

    printf("team %s", str_field(t, "name"));
    if (json_object_get(t, "cohort"))
        printf("  cohort %s", str_field(t, "cohort"));
    printf("  weight %g", json_number_value(json_object_get(t, "weight")));
    if (json_object_get(t, "fair_share"))
        printf("  fair-share %.3f", json_number_value(json_object_get(t, "fair_share")));
    printf("\n");
    for (i = 0; i < json_array_size(q); i++) {
        const json_t *e = json_array_get(q, i);
        const json_t *used = json_object_get(e, "used");

        printf("  quota  %-12s %-6s %5lld / %lld GPUs\n", str_field(e, "accelerator"),
               json_object_get(e, "cloud") ? str_field(e, "cloud") : "any",
               (long long)json_integer_value(used),
               (long long)json_integer_value(json_object_get(e, "gpus")));
    }
    if (json_object_get(t, "budget")) {
        const json_t *b = json_object_get(t, "budget");

        printf("  budget %s a month (%s limit), spent %s this month\n",
               str_money(money, sizeof(money), json_number_value(json_object_get(b, "usd"))),
               str_field(b, "limit"),
               str_money(money2, sizeof(money2),
                         json_number_value(json_object_get(t, "month_spend"))));
    } else if (json_object_get(t, "month_spend")) {
        printf("  spent %s this month (no budget)\n",
               str_money(money, sizeof(money),
                         json_number_value(json_object_get(t, "month_spend"))));
    }
    json_object_foreach(m, user, v)
        printf("  member %-20s %s\n", user, json_string_value(v));
}

static int team_ls(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    json_t *r = NULL, *teams;
    int rc;
    size_t i;

    if (argc > 1 && !json) {
        fputs(team_usage, stderr);
        return 2;
    }
    if ((rc = call("GET", xstrdup("/v1/teams"), NULL, &r)) != 0)
        return rc;
    teams = json_object_get(r, "teams");
    if (json) {
        cli_print_json(teams, 0);
    } else if (json_array_size(teams) == 0) {
        printf("no teams (`stratus team create NAME` makes one)\n");
    }
    for (i = 0; !json && i < json_array_size(teams); i++)
        print_team(json_array_get(teams, i));
    json_decref(r);
    return 0;
}

static int team_show(int argc, char **argv)
{
    int json = argc == 3 && strcmp(argv[2], "--json") == 0;
    json_t *r = NULL;
    int rc;

    if (argc < 2 || (argc > 2 && !json)) {
        fputs(team_usage, stderr);
        return 2;
    }
    if ((rc = call("GET", team_path(argv[1], NULL), NULL, &r)) != 0)
        return rc;
    if (json) {
        cli_print_json(r, 0);
    } else {
        print_team(r);
    }
    json_decref(r);
    return 0;
}

/* "H100=64", "H100=64@gcp", "*=16", "H100=-": into quota (replacing an
 * entry of the same accelerator and cloud). */
static int quota_arg(json_t *quota, const char *arg)
{
    char acc[64], cloud[64] = "", *eq, *at, num[32];
    long n = -1;
    size_t i;

    if ((eq = strchr(arg, '=')) == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(acc)) {
        fprintf(stderr, "stratus: --gpus takes ACC=N[@CLOUD] (H100=64, A100-80GB=16@gcp, "
                "'*=8'), not '%s'\n", arg);
        return -1;
    }
    snprintf(acc, sizeof(acc), "%.*s", (int)(eq - arg), arg);
    snprintf(num, sizeof(num), "%s", eq + 1);
    if ((at = strchr(num, '@')) != NULL) {
        snprintf(cloud, sizeof(cloud), "%s", at + 1);
        *at = '\0';
    }
    if (strcmp(num, "-") != 0 && str_to_long(num, 0, 10000000, &n) != 0) {
        fprintf(stderr, "stratus: --gpus %s: the count must be a whole number from 0 to "
                "10000000, or '-' to drop the quota\n", arg);
        return -1;
    }
    for (i = 0; i < json_array_size(quota); i++) {
        const json_t *e = json_array_get(quota, i);

        if (strcasecmp(str_field(e, "accelerator"), acc) == 0 &&
            strcmp(str_field(e, "cloud"), cloud) == 0) {
            json_array_remove(quota, i);
            break;
        }
    }
    if (n >= 0) {
        json_t *e = json_pack("{s:s,s:I}", "accelerator", acc, "gpus", (json_int_t)n);

        if (cloud[0])
            json_object_set_new(e, "cloud", json_string(cloud));
        json_array_append_new(quota, e);
    }
    return 0;
}

/* create and set-quota: the same PUT, set-quota starting from the team. */
static int team_put(int argc, char **argv, int create)
{
    static const struct option longs[] = {{"cohort", required_argument, NULL, 'c'},
                                          {"weight", required_argument, NULL, 'w'},
                                          {"gpus", required_argument, NULL, 'g'},
                                          {"budget", required_argument, NULL, 'b'},
                                          {"limit", required_argument, NULL, 'l'},
                                          {"clear", no_argument, NULL, 'C'},
                                          {NULL, 0, NULL, 0}};
    json_t *body = json_object(), *quota = NULL, *cur = NULL, *r = NULL;
    const char *team, *limit = NULL;
    double budget = -1, w;
    int ch, quota_set = 0, rc;

    if (argc < 2 || argv[1][0] == '-') {
        fputs(team_usage, stderr);
        json_decref(body);
        return 2;
    }
    team = argv[1];
    if (!create) {
        if ((rc = call("GET", team_path(team, NULL), NULL, &cur)) != 0) {
            json_decref(body);
            return rc;
        }
        quota = json_deep_copy(json_object_get(cur, "quota"));
        if (!json_is_array(quota)) {
            json_decref(quota);
            quota = json_array();
        }
        for (size_t i = 0; i < json_array_size(quota); i++) /* what the server adds */
            json_object_del(json_array_get(quota, i), "used");
    } else {
        quota = json_array();
    }
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'c':
            json_object_set_new(body, "cohort",
                                strcmp(optarg, "-") == 0 ? json_null() : json_string(optarg));
            break;
        case 'w':
            if (str_to_double(optarg, &w) != 0 || !(w > 0)) {
                fprintf(stderr, "stratus: --weight takes a number above 0, not '%s'\n", optarg);
                goto usage;
            }
            json_object_set_new(body, "weight", json_real(w));
            break;
        case 'g':
            if (quota_arg(quota, optarg) != 0)
                goto usage;
            quota_set = 1;
            break;
        case 'b':
            if (str_to_double(optarg, &budget) != 0 || budget < 0) {
                fprintf(stderr, "stratus: --budget takes US dollars a month (0 = none), not "
                        "'%s'\n", optarg);
                goto usage;
            }
            break;
        case 'l':
            if (strcmp(optarg, "hard") && strcmp(optarg, "soft")) {
                fprintf(stderr, "stratus: --limit takes hard or soft, not '%s'\n", optarg);
                goto usage;
            }
            limit = optarg;
            break;
        case 'C':
            json_array_clear(quota);
            quota_set = 1;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc || (create && (quota_set || budget >= 0 || limit))) {
        if (create && optind == argc)
            fprintf(stderr, "stratus: team create takes --cohort and --weight; quotas and "
                    "budgets are `stratus team set-quota`\n");
        goto usage;
    }
    if (quota_set)
        json_object_set(body, "quota", quota);
    if (budget == 0)
        json_object_set_new(body, "budget", json_null());
    else if (budget > 0 || limit != NULL) {
        const json_t *b = json_object_get(cur, "budget");
        double usd = budget > 0 ? budget : json_number_value(json_object_get(b, "usd"));

        if (!(usd > 0)) {
            fprintf(stderr, "stratus: --limit needs a budget: add --budget USD\n");
            goto usage;
        }
        json_object_set_new(body, "budget",
                            json_pack("{s:f,s:s}", "usd", usd, "limit",
                                      limit ? limit
                                            : json_object_get(b, "limit") ? str_field(b, "limit")
                                                                          : "hard"));
    }
    json_decref(quota);
    json_decref(cur);
    if ((rc = call("PUT", team_path(team, NULL), body, &r)) != 0)
        return rc;
    print_team(r);
    json_decref(r);
    return 0;
usage:
    fputs(team_usage, stderr);
    json_decref(body);
    json_decref(quota);
    json_decref(cur);
    return 2;
}

static int team_member(int argc, char **argv, int add)
{
    static const struct option longs[] = {{"role", required_argument, NULL, 'r'},
                                          {NULL, 0, NULL, 0}};
    const char *role = "member";
    json_t *r = NULL;
    int rc;
    int ch;

    optind = 3;
    while (argc >= 3 && (ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 'r' && add) {
            role = optarg;
        } else {
            fputs(team_usage, stderr);
            return 2;
        }
    }
    if (argc < 3 || optind != argc) {
        fputs(team_usage, stderr);
        return 2;
    }
    if (strcmp(role, "admin") && strcmp(role, "member") && strcmp(role, "viewer")) {
        fprintf(stderr, "stratus: --role takes viewer, member or admin, not '%s'\n", role);
        return 2;
    }
    if ((rc = call(add ? "PUT" : "DELETE", team_path(argv[1], argv[2]),
                   add ? json_pack("{s:s}", "role", role) : NULL, &r)) != 0)
        return rc;
    if (add)
        printf("%s is %s of team %s\n", argv[2], role, argv[1]);
    else
        printf("%s is no longer in team %s\n", argv[2], argv[1]);
    json_decref(r);
    return 0;
}

static int team_rm(int argc, char **argv)
{
    json_t *r = NULL;
    int rc;

    if (argc != 2) {
        fputs(team_usage, stderr);
        return 2;
    }
    if ((rc = call("DELETE", team_path(argv[1], NULL), NULL, &r)) != 0)
        return rc;
    printf("team %s removed (its jobs keep their team's name)\n", argv[1]);
    json_decref(r);
    return 0;
}

static int run_team(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";

    if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
        return team_ls(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return team_show(argc - 1, argv + 1);
    if (strcmp(sub, "create") == 0)
        return team_put(argc - 1, argv + 1, 1);
    if (strcmp(sub, "set-quota") == 0 || strcmp(sub, "set") == 0)
        return team_put(argc - 1, argv + 1, 0);
    if (strcmp(sub, "add") == 0)
        return team_member(argc - 1, argv + 1, 1);
    if (strcmp(sub, "remove") == 0)
        return team_member(argc - 1, argv + 1, 0);
    if (strcmp(sub, "rm") == 0 || strcmp(sub, "delete") == 0)
        return team_rm(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(team_usage, stdout);
        return 0;
    }
    fputs(team_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_team = {"team", "teams: members, quotas, budgets (docs/teams.md)",
                                     run_team, team_usage};

static const char whoami_usage[] =
    "usage: stratus whoami [--json]\n"
    "Who the server takes you for: the token, its user and role, your teams.\n";

static int run_whoami(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    json_t *r = NULL, *v;
    int rc;
    const char *team;

    if (argc > 1 && !json) {
        fputs(whoami_usage, stderr);
        return 2;
    }
    if ((rc = call("GET", xstrdup("/v1/whoami"), NULL, &r)) != 0)
        return rc;
    if (json) {
        cli_print_json(r, 0);
    } else {
        printf("token %s, role %s%s%s%s\n", str_field(r, "token"), str_field(r, "role"),
               json_is_string(json_object_get(r, "user")) ? ", user " : "",
               str_field(r, "user"),
               json_is_true(json_object_get(r, "server_admin")) ? " (server admin)" : "");
        json_object_foreach(json_object_get(r, "teams"), team, v)
            printf("  team %-20s %s\n", team, json_string_value(v));
    }
    json_decref(r);
    return 0;
}

const struct cli_cmd cli_cmd_whoami = {"whoami", "the token, user and teams you act as",
                                       run_whoami, whoami_usage};
