/*
 * cmd_token.c - `stratus token create|list|revoke`: the API tokens of the
 * server (admin only; see src/server/auth.h).  A token is shown once, when
 * it is created: the server keeps only its hash.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char token_usage[] =
    "usage: stratus token create NAME|--name NAME [--role admin|member|viewer] [--user "
    "USER]\n"
    "       stratus token list|ls [--json]\n"
    "       stratus token revoke|rm NAME|ID\n"
    "create prints a new token (once: only its hash is kept) for a client over\n"
    "TCP (STRATUS_TOKEN, or the file STRATUS_TOKEN_FILE); member is the default\n"
    "role. Viewers may read; members may also submit and cancel; admins may\n"
    "also manage tokens, the policy and fault injection. Admins only.\n"
    "--user makes the token a user's: it sees and acts on that user's teams'\n"
    "work only, with the lower of its role and the user's role in each team\n"
    "(docs/teams.md); a token of no user is lab-wide.\n";

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static int token_create(int argc, char **argv)
{
    static const struct option longs[] = {{"name", required_argument, NULL, 'n'},
                                          {"role", required_argument, NULL, 'r'},
                                          {"user", required_argument, NULL, 'u'},
                                          {NULL, 0, NULL, 0}};
    const char *name = NULL, *role = "member", *user = NULL;
    json_t *body, *r = NULL;
    struct err e;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 'n')
            name = optarg;
        else if (ch == 'r')
            role = optarg;
        else if (ch == 'u')
            user = optarg;
        else {
            fputs(token_usage, stderr);
            return 2;
        }
    }
    if (name == NULL && optind == argc - 1)
        name = argv[optind++];
    if (name == NULL || optind != argc) {
        fprintf(stderr, "stratus: token create needs --name NAME (and nothing else)\n%s",
                token_usage);
        return 2;
    }
    if (strcmp(role, "admin") && strcmp(role, "member") && strcmp(role, "viewer")) {
        fprintf(stderr, "stratus: --role takes admin, member or viewer, not '%s'\n", role);
        return 2;
    }
    body = json_pack("{s:s, s:s}", "name", name, "role", role);
    if (user != NULL)
        json_object_set_new(body, "user", json_string(user));
    err_clear(&e);
    if (client_call("POST", "/v1/tokens", body, &r, &e) != 0) {
        json_decref(body);
        return cli_fail(&e);
    }
    /* The token alone on stdout, so that TOKEN=$(stratus token create ...)
     * works; what it is, on stderr. */
    printf("%s\n", str_field(r, "token"));
    fprintf(stderr, "stratus: token %lld '%s' (%s) created; it is shown only this once\n",
            (long long)json_integer_value(json_object_get(r, "id")), str_field(r, "name"),
            str_field(r, "role"));
    json_decref(body);
    json_decref(r);
    return 0;
}

static void print_tokens(const json_t *toks)
{
    char c[32], r[32];
    size_t i;

    printf("%5s  %-24s %-7s %-16s %-19s  %s\n", "ID", "NAME", "ROLE", "USER", "CREATED",
           "REVOKED");
    for (i = 0; i < json_array_size(toks); i++) {
        const json_t *t = json_array_get(toks, i);

        printf("%5lld  %-24s %-7s %-16s %-19s  %s\n",
               (long long)json_integer_value(json_object_get(t, "id")), str_field(t, "name"),
               str_field(t, "role"),
               json_is_string(json_object_get(t, "user")) ? str_field(t, "user") : "(lab-wide)",
               cli_when(json_object_get(t, "created_at"), c, sizeof(c)),
               cli_when(json_object_get(t, "revoked_at"), r, sizeof(r)));
    }
}

static int token_list(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    json_t *r = NULL;
    struct err e;

    if (argc > 1 && !json) {
        fputs(token_usage, stderr);
        return 2;
    }
    err_clear(&e);
    if (client_call("GET", "/v1/tokens", NULL, &r, &e) != 0)
        return cli_fail(&e);
    if (json) {
        cli_print_json(json_object_get(r, "tokens"), 0);
    } else {
        print_tokens(json_object_get(r, "tokens"));
    }
    json_decref(r);
    return 0;
}

static int token_revoke(int argc, char **argv)
{
    char *esc, *path;
    json_t *r = NULL;
    struct err e;
    int rc;

    if (argc != 2) {
        fputs(token_usage, stderr);
        return 2;
    }
    esc = client_escape(argv[1]);
    path = xasprintf("/v1/tokens/%s", esc);
    err_clear(&e);
    rc = client_call("DELETE", path, NULL, &r, &e);
    free(esc);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    printf("token %s revoked (id %lld)\n", argv[1],
           (long long)json_integer_value(json_object_get(r, "revoked")));
    json_decref(r);
    return 0;
}

static int run_token(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return token_create(argc - 1, argv + 1);
    /* ls and rm as `secret` has them */
    if (argc >= 2 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "ls") == 0))
        return token_list(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "rm") == 0))
        return token_revoke(argc - 1, argv + 1);
    if (argc >= 2)
        fprintf(stderr, "stratus token: unknown subcommand '%s'\n", argv[1]);
    fputs(token_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_token = {"token", "create, list and revoke API tokens (admin)",
                                      run_token, token_usage};
