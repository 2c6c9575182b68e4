/*
 * cmd_policy.c - `stratus policy show|set FILE|clear`: the org's placement
 * policy, kept by the server (GET/PUT /v1/policy), so that `plan` and
 * `launch` of every user rank under the same one.  Setting it is for admins.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "../util/fsutil.h"

static const char policy_usage[] =
    "usage: stratus policy show\n"
    "       stratus policy set FILE\n"
    "       stratus policy clear\n"
    "show prints the server's policy (nothing when none is set); set replaces\n"
    "it with FILE (checked first: file:line:col on an error); clear removes it.\n"
    "set and clear are for admins.\n";

static int policy_show(void)
{
    json_t *r = NULL;
    const char *text;
    struct err e;

    err_clear(&e);
    if (client_call("GET", "/v1/policy", NULL, &r, &e) != 0)
        return cli_fail(&e);
    text = json_string_value(json_object_get(r, "policy"));
    if (text) {
        fputs(text, stdout);
        if (*text && text[strlen(text) - 1] != '\n')
            putchar('\n');
    } else {
        fprintf(stderr, "stratus: no policy is set (`stratus policy set FILE` sets one)\n");
    }
    json_decref(r);
    return 0;
}

/* The server names the text it checked "policy"; the user knows it as file. */
static void name_file(struct err *e, const char *file)
{
    char msg[ST_ERR_MSG_MAX];

    if (strncmp(e->msg, "policy:", 7) != 0)
        return;
    snprintf(msg, sizeof(msg), "%s:%s", file, e->msg + 7);
    memcpy(e->msg, msg, sizeof(msg));
}

/* PUT the policy: text, or NULL to clear it. */
static int policy_put(const char *text, const char *file)
{
    json_t *body = json_object(), *r = NULL;
    struct err e;
    int rc;

    json_object_set_new(body, "policy", text ? json_string(text) : json_null());
    err_clear(&e);
    rc = client_call("PUT", "/v1/policy", body, &r, &e);
    json_decref(body);
    json_decref(r);
    if (rc != 0 && file)
        name_file(&e, file);
    if (rc != 0)
        return cli_fail(&e);
    if (file)
        printf("policy set from %s\n", file);
    else
        printf("policy cleared\n");
    return 0;
}

static int run_policy(int argc, char **argv)
{
    char *text = NULL;
    struct err e;
    int rc;

    if (argc == 2 && strcmp(argv[1], "show") == 0)
        return policy_show();
    if (argc == 2 && strcmp(argv[1], "clear") == 0)
        return policy_put(NULL, NULL);
    if (argc == 3 && strcmp(argv[1], "set") == 0) {
        err_clear(&e);
        if (fs_read_file(argv[2], 1 << 20, &text, NULL, &e) != 0)
            return cli_fail(&e);
        rc = policy_put(text, argv[2]);
        free(text);
        return rc;
    }
    fputs(policy_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_policy = {"policy", "show or set the org's placement policy",
                                       run_policy, policy_usage};
