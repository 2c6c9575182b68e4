/*
 * main.c - the `stratus` command: a table of subcommands (tmux's cmd_table).
 *
 * Order of business: global options (--api, --token-file) before the command,
 * which main.c turns into the environment variables the client reads; then
 * `stratus --help` / `help [CMD]` / `--version`; then the command: a --help
 * or -h among its arguments prints its usage (struct cli_cmd.usage) to stdout
 * so that every command answers --help the same way; anything else runs it.
 * An unknown command gets a "did you mean" from the table and exit status 2.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/strutil.h"

extern const struct cli_cmd cli_cmd_node; /* hidden: the local driver's node supervisor */
extern const struct cli_cmd cli_cmd_router; /* cmd_router.c: the data plane */

static const struct cli_cmd *const cli_table[] = {
    &cli_cmd_offers, &cli_cmd_plan,   &cli_cmd_launch, &cli_cmd_status,
    &cli_cmd_queue,  &cli_cmd_logs,   &cli_cmd_cancel, &cli_cmd_cost,   &cli_cmd_data,
    &cli_cmd_events, &cli_cmd_local,  &cli_cmd_catalog, &cli_cmd_controller,
    &cli_cmd_simulate, &cli_cmd_trace, &cli_cmd_advise,
    &cli_cmd_serve,  &cli_cmd_secret, &cli_cmd_token, &cli_cmd_team,  &cli_cmd_whoami,
    &cli_cmd_policy, &cli_cmd_server, &cli_cmd_store, &cli_cmd_dashboard, &cli_cmd_router,
    &cli_cmd_node,    NULL,
};

/* Options taken before the command; each sets the variable the client reads. */
static const struct global_opt {
    const char *name, *env, *what;
} global_opts[] = {
    {"--api", "STRATUS_API", "URL"},
    {"--token-file", "STRATUS_TOKEN_FILE", "FILE"},
};
#define N_GLOBAL_OPTS (sizeof(global_opts) / sizeof(global_opts[0]))

static void usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "usage: stratus [--api URL] [--token-file FILE] <command> [options]\n\n"
                "commands:\n");
    for (i = 0; cli_table[i]; i++)
        if (cli_table[i]->name[0] != '_') /* internal commands stay unlisted */
            fprintf(fp, "  %-10s %s\n", cli_table[i]->name, cli_table[i]->summary);
    fprintf(fp, "\noptions:\n"
                "  --api URL          the server to talk to (sets STRATUS_API)\n"
                "  --token-file FILE  the token to send to it (sets STRATUS_TOKEN_FILE)\n"
                "\n'stratus <command> --help' describes a command.\n");
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static const struct cli_cmd *find_cmd(const char *name)
{
    size_t i;

    for (i = 0; cli_table[i]; i++)
        if (strcmp(name, cli_table[i]->name) == 0)
            return cli_table[i];
    return NULL;
}

/* A command's --help: its usage text, or its summary when it has none yet. */
static int cmd_help(const struct cli_cmd *c)
{
    if (c->usage != NULL)
        fputs(c->usage, stdout);
    else
        printf("usage: stratus %s [options]\n%s\n", c->name, c->summary);
    return 0;
}

/* Typos first (edit distance), then a unique prefix ("stat" -> status). */
static const char *suggest_cmd(const char *name)
{
    const char *names[sizeof(cli_table) / sizeof(cli_table[0])];
    const char *sug, *prefix = NULL;
    size_t i, n = 0, nprefix = 0;

    for (i = 0; cli_table[i]; i++)
        if (cli_table[i]->name[0] != '_')
            names[n++] = cli_table[i]->name;
    names[n] = NULL;
    sug = str_suggest(name, names);
    if (sug != NULL || strlen(name) < 2)
        return sug;
    for (i = 0; i < n; i++)
        if (strncmp(names[i], name, strlen(name)) == 0) {
            prefix = names[i];
            nprefix++;
        }
    return nprefix == 1 ? prefix : NULL;
}

static int unknown_cmd(const char *name)
{
    const char *sug = suggest_cmd(name);

    if (sug != NULL)
        fprintf(stderr, "stratus: unknown command '%s' (did you mean %s?)\n", name, sug);
    else
        fprintf(stderr,
                "stratus: unknown command '%s' ('stratus --help' lists the commands)\n",
                name);
    return 2;
}

/* Matches argv[*i] against the global options ("--api URL" or "--api=URL");
 * 1 when it was one (and *i moved past its value), 0 when it is not, -1 after
 * printing an error. */
static int take_global(int argc, char **argv, int *i)
{
    const char *a = argv[*i], *val;
    size_t j, n;

    for (j = 0; j < N_GLOBAL_OPTS; j++) {
        n = strlen(global_opts[j].name);
        if (strncmp(a, global_opts[j].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
            continue;
        if (a[n] == '=')
            val = a + n + 1;
        else if (*i + 1 < argc)
            val = argv[++*i];
        else
            val = NULL;
        /* "--api --help" is a forgotten value, not a URL named --help */
        if (val == NULL || val[0] == '\0' || val[0] == '-') {
            fprintf(stderr, "stratus: %s needs a %s (stratus %s %s <command> ...)\n",
                    global_opts[j].name, global_opts[j].what, global_opts[j].name,
                    global_opts[j].what);
            return -1;
        }
        if (setenv(global_opts[j].env, val, 1) != 0) {
            perror("stratus: setenv");
            return -1;
        }
        return 1;
    }
    return 0;
}

/* Runs c, unless --help or -h comes before a "--" among its arguments. */
static int run_cmd(const struct cli_cmd *c, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i]))
            return cmd_help(c);
    return c->run(argc, argv);
}

/* `stratus help [CMD]`. */
static int run_help(int argc, char **argv)
{
    const struct cli_cmd *c;

    if (argc < 2 || is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    c = find_cmd(argv[1]);
    return c != NULL ? cmd_help(c) : unknown_cmd(argv[1]);
}

int main(int argc, char **argv)
{
    const struct cli_cmd *c;
    int i = 1, rc;

    log_init();
    while (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
        rc = take_global(argc, argv, &i);
        if (rc < 0)
            return 2;
        if (rc == 0)
            break; /* --help, --version or an unknown option: handled below */
        i++;
    }
    argc -= i - 1;
    argv += i - 1; /* argv[0] stays a placeholder; argv[1] is the command */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0)
        return run_help(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("stratus %s\n", cli_version());
        return 0;
    }
    c = find_cmd(argv[1]);
    if (c == NULL && argv[1][0] == '-') {
        fprintf(stderr, "stratus: unknown option '%s' before the command\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return c != NULL ? run_cmd(c, argc - 1, argv + 1) : unknown_cmd(argv[1]);
}
