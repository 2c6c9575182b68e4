/*
 * cmd_dashboard.c - `stratus dashboard`: a login link for the web dashboard
 * (docs/dashboard.md).  It asks the server, over the home's UNIX socket as
 * its owner, for a one-time code (POST /v1/login-links) and prints the link
 * to the server's TCP listener that trades it for a session cookie.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static const char dashboard_usage[] =
    "usage: stratus dashboard\n"
    "Print a link that opens the web dashboard logged in as the server's owner\n"
    "(admin). The link works once, within 60 s, and the session it starts lasts\n"
    "12 hours (or until the server restarts). It is asked for over the home's UNIX\n"
    "socket, so only the user the server runs as can make one; the server needs a\n"
    "TCP listener for the browser ('- tcp: 127.0.0.1:8080' under 'listen:' in\n"
    "$STRATUS_HOME/server.yaml). Others open http://HOST:PORT/ui/ and paste a\n"
    "token (`stratus token create`).\n";

static int run_dashboard(int argc, char **argv)
{
    const char *url;
    json_t *r = NULL;
    struct err e;

    (void)argv;
    if (argc != 1) {
        fputs(dashboard_usage, stderr);
        return 2;
    }
    /* The owner's socket, never a URL or a token from the environment: the
     * link logs a browser in as the owner, so only the owner may ask.  A
     * remote server's user is told where to go instead of the home's own
     * server being started for nothing (helper-106). */
    if (getenv("STRATUS_API") != NULL && *getenv("STRATUS_API") != '\0') {
        fprintf(
            stderr,
            "stratus: dashboard makes a login link as the server's owner, over its UNIX "
            "socket on the server's machine: run it there without --api "
            "(STRATUS_API), or open %s/ui/ and sign in with your token\n",
            getenv("STRATUS_API"));
        return 2;
    }
    unsetenv("STRATUS_TOKEN");
    unsetenv("STRATUS_TOKEN_FILE");
    err_clear(&e);
    if (client_call("POST", "/v1/login-links", NULL, &r, &e) != 0)
        return cli_fail(&e);
    url = json_string_value(json_object_get(r, "url"));
    printf("%s\n", url ? url : "");
    fprintf(stderr, "stratus: open the link within %.0f s; it works once\n",
            json_number_value(json_object_get(r, "expires_in")));
    json_decref(r);
    return 0;
}

const struct cli_cmd cli_cmd_dashboard = {
    "dashboard", "a one-time login link for the web dashboard (the server's owner)",
    run_dashboard, dashboard_usage};
