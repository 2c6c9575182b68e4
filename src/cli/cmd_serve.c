/*
 * cmd_serve.c - `stratus serve up|status|update|logs|down|endpoints|keys`: inference
 * services, kept running by the server's replica manager (serve/manager.h)
 * as replicas on spot and on-demand, and reached through `stratus router`.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "../spec/spec.h"
#include "../util/xmem.h"

static const char serve_usage[] =
    "usage: stratus serve up FILE [--open]\n"
    "       stratus serve status [NAME] [--all] [--json]\n"
    "       stratus serve update NAME FILE\n"
    "       stratus serve logs NAME [--replica ID] [--follow]\n"
    "       stratus serve endpoints NAME\n"
    "       stratus serve down NAME\n"
    "       stratus serve keys NAME [--all] [--json]\n"
    "       stratus serve keys NAME --create\n"
    "       stratus serve keys NAME --revoke ID [--force]\n"
    "up starts a service from a spec with a SkyPilot `service:` section and\n"
    "prints its endpoint's API key once (--open: no key); its replicas run as\n"
    "jobs the controller places, fails over and bills.  update rolls out a new\n"
    "spec (the old replicas serve until the new ones are ready); down drains and\n"
    "stops every replica.  Clients reach a service through `stratus router`.\n"
    "status lists the services that are not DOWN (--all: those too).\n"
    "keys lists the endpoint's API keys (id, first characters, when made; --all\n"
    "adds revoked ones); --create makes one more and prints it once; --revoke\n"
    "ends one (routers refuse it at once).  Revoking the last key opens the\n"
    "endpoint to anyone who reaches a router: that needs --force.\n";

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static void print_warnings(const json_t *r)
{
    const json_t *w = json_object_get(r, "warnings");
    size_t i;

    for (i = 0; i < json_array_size(w); i++)
        fprintf(stderr, "%s\n", json_string_value(json_array_get(w, i)));
}

/* A service's workdir is copied to every replica: a big one is worth a
 * warning here, where the user's files are.  A spec that does not parse is
 * the server's to refuse, with its message. */
static void warn_workdir(const char *path)
{
    struct spec *sp = NULL;
    struct err e;
    char *dir;

    err_clear(&e);
    if (spec_load_file(&sp, path, &e) != 0)
        return;
    if ((dir = cli_workdir_path(path, sp->workdir)) != NULL)
        cli_workdir_warn(path, dir);
    free(dir);
    spec_free(sp);
}

static int serve_up(int argc, char **argv)
{
    json_t *body = NULL, *r = NULL;
    struct err e;
    int open = argc == 3 && strcmp(argv[2], "--open") == 0, rc;

    if (argc != 2 && !open) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if ((rc = client_spec_body(argv[1], NULL, &body)) != 0)
        return rc;
    warn_workdir(argv[1]);
    if (open)
        json_object_set_new(body, "open", json_true());
    err_clear(&e);
    rc = client_call("POST", "/v1/services", body, &r, &e);
    json_decref(body);
    if (rc != 0)
        return cli_fail(&e);
    print_warnings(r);
    printf("service %s is starting (`stratus serve status %s`)\n",
           str_field(json_object_get(r, "service"), "name"),
           str_field(json_object_get(r, "service"), "name"));
    if (json_is_string(json_object_get(r, "key")))
        printf("API key (shown only this once; clients send \"Authorization: Bearer KEY\"):\n"
               "%s\n",
               str_field(r, "key"));
    json_decref(r);
    return 0;
}

/* METHOD /v1/services/NAME[tail] with body (may be NULL): 0 with the reply
 * in *r (caller decrefs), or the exit status after saying what is wrong. */
static int svc_call(const char *method, const char *name, const char *tail,
                    const json_t *body, json_t **r)
{
    char *esc = client_escape(name), *path = xasprintf("/v1/services/%s%s", esc, tail);
    struct err e;
    int rc;

    err_clear(&e);
    rc = client_call(method, path, body, r, &e);
    free(esc);
    free(path);
    return rc != 0 ? cli_fail(&e) : 0;
}

static void print_replicas(const json_t *reps)
{
    size_t i;

    printf("  %6s %-3s %-9s %-13s %-34s %-9s %-10s %9s\n", "ID", "VER", "STATE", "JOB",
           "LOCATION", "MODE", "ACCEL", "COST");
    for (i = 0; i < json_array_size(reps); i++) {
        const json_t *r = json_array_get(reps, i);
        char where[128];

        snprintf(where, sizeof(where), "%s%s%s%s%s", str_field(r, "cloud"),
                 *str_field(r, "region") ? "/" : "", str_field(r, "region"),
                 *str_field(r, "zone") ? "/" : "", str_field(r, "zone"));
        printf("  %6lld %-3lld %-9s %-13s %-34s %-9s %-10s %9.4f\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               (long long)json_integer_value(json_object_get(r, "version")),
               str_field(r, "state"), str_field(r, "job_state"), where[0] ? where : "-",
               *str_field(r, "mode") ? str_field(r, "mode") : "-",
               *str_field(r, "accelerator") ? str_field(r, "accelerator") : "-",
               json_number_value(json_object_get(r, "cost")));
    }
}

/* The routers that reported load lately: where clients reach the service. */
static void print_routers(const json_t *rs)
{
    size_t i;

    for (i = 0; i < json_array_size(rs); i++) {
        const json_t *r = json_array_get(rs, i);

        printf("  endpoint %s  (router in %s, seen %.0f s ago)\n", str_field(r, "url"),
               *str_field(r, "region") ? str_field(r, "region") : "no region",
               json_number_value(json_object_get(r, "seen_s_ago")));
    }
}

static void print_service(const json_t *s)
{
    printf("%s  %s  version %lld  target %lld  %.2f req/s  $%.4f  (%s)\n", str_field(s, "name"),
           str_field(s, "state"), (long long)json_integer_value(json_object_get(s, "version")),
           (long long)json_integer_value(json_object_get(s, "target")),
           json_number_value(json_object_get(s, "qps")),
           json_number_value(json_object_get(s, "cost")), str_field(s, "reason"));
    print_replicas(json_object_get(s, "replicas"));
    print_routers(json_object_get(s, "routers"));
}

static int serve_status(int argc, char **argv)
{
    const char *name = NULL;
    int json = 0, all = 0, rc, i;
    size_t k, down = 0;
    json_t *r = NULL, *list, *svc;
    struct err e;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (argv[i][0] != '-' && name == NULL)
            name = argv[i];
        else {
            fputs(serve_usage, stderr);
            return 2;
        }
    }
    err_clear(&e);
    /* The list always asks for every service, so that it can say how many
     * are DOWN when it shows only the others. */
    if (name != NULL)
        rc = svc_call("GET", name, "", NULL, &r);
    else if ((rc = client_call("GET", "/v1/services?all=1", NULL, &r, &e)) != 0)
        rc = cli_fail(&e);
    if (rc != 0)
        return rc;
    if (name != NULL) {
        if (json) {
            cli_print_json(r, 0);
        } else {
            print_service(r);
        }
        json_decref(r);
        return 0;
    }
    list = json_object_get(r, "services");
    for (k = json_array_size(list); k-- > 0;) {
        svc = json_array_get(list, k);
        if (strcmp(str_field(svc, "state"), "DOWN") != 0 || all)
            continue;
        json_array_remove(list, k);
        down++;
    }
    if (json) {
        cli_print_json(list, 0);
    } else {
        if (json_array_size(list) == 0)
            printf("no services%s (`stratus serve up FILE` starts one)\n",
                   down ? " that are not DOWN" : "");
        for (k = 0; k < json_array_size(list); k++)
            print_service(json_array_get(list, k));
        if (down)
            printf("(%zu DOWN: `stratus serve status --all` lists them too)\n", down);
    }
    json_decref(r);
    return 0;
}

static int serve_update(int argc, char **argv)
{
    json_t *body = NULL, *r = NULL;
    int rc;

    if (argc != 3) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if ((rc = client_spec_body(argv[2], NULL, &body)) != 0)
        return rc;
    warn_workdir(argv[2]);
    rc = svc_call("PUT", argv[1], "", body, &r);
    json_decref(body);
    if (rc != 0)
        return rc;
    printf("service %s: rolling out version %lld\n", argv[1],
           (long long)json_integer_value(json_object_get(r, "version")));
    json_decref(r);
    return 0;
}

static int serve_down(int argc, char **argv)
{
    json_t *r = NULL;
    int rc;

    if (argc != 2) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if ((rc = svc_call("DELETE", argv[1], "", NULL, &r)) != 0)
        return rc;
    printf("service %s: %s\n", argv[1], str_field(r, "state"));
    json_decref(r);
    return 0;
}

static int serve_endpoints(int argc, char **argv)
{
    json_t *r = NULL;
    int rc;

    if (argc != 2) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if ((rc = svc_call("GET", argv[1], "/endpoints", NULL, &r)) != 0)
        return rc;
    cli_print_json(r, 0);
    json_decref(r);
    return 0;
}

/* `serve logs NAME [--replica ID] [--follow]`: a replica's log (the first
 * live one unless --replica says which) through `stratus logs`. */
static int serve_logs(int argc, char **argv)
{
    json_t *r = NULL;
    const json_t *reps;
    long long id = 0;
    int follow = 0, i, rc;
    char idbuf[32], *largv[4];

    if (argc < 2) {
        fputs(serve_usage, stderr);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
            follow = 1;
        else if (strcmp(argv[i], "--replica") == 0 && i + 1 < argc)
            id = strtoll(argv[++i], NULL, 10);
        else {
            fputs(serve_usage, stderr);
            return 2;
        }
    }
    if ((rc = svc_call("GET", argv[1], "", NULL, &r)) != 0)
        return rc;
    reps = json_object_get(r, "replicas");
    for (i = (int)json_array_size(reps) - 1; id == 0 && i >= 0; i--)
        if (strcmp(str_field(json_array_get(reps, (size_t)i), "job_state"), "RUNNING") == 0)
            id = json_integer_value(json_object_get(json_array_get(reps, (size_t)i), "id"));
    json_decref(r);
    if (id <= 0) {
        fprintf(stderr, "stratus: service %s has no running replica; --replica ID names one "
                "(`stratus serve status %s` lists them)\n", argv[1], argv[1]);
        return 1;
    }
    snprintf(idbuf, sizeof(idbuf), "%lld", id);
    largv[0] = (char *)"logs";
    largv[1] = idbuf;
    largv[2] = follow ? (char *)"--follow" : NULL;
    largv[3] = NULL;
    return cli_cmd_logs.run(follow ? 3 : 2, largv);
}

static void print_keys(const json_t *r)
{
    const json_t *keys = json_object_get(r, "keys");
    char c[32], v[32];
    size_t i;

    if (json_is_true(json_object_get(r, "open")))
        printf("service %s is open: no key is needed (`stratus serve keys %s --create` "
               "makes one)\n", str_field(r, "service"), str_field(r, "service"));
    if (json_array_size(keys) == 0)
        return;
    printf("%5s  %-14s %-19s  %s\n", "ID", "KEY", "CREATED", "REVOKED");
    for (i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        char shown[32];

        /* a key made before keys were listed has no prefix kept */
        snprintf(shown, sizeof(shown), "%s...",
                 *str_field(k, "prefix") ? str_field(k, "prefix") : "sk_?");
        printf("%5lld  %-14s %-19s  %s\n", (long long)json_integer_value(json_object_get(k, "id")),
               shown, cli_when(json_object_get(k, "created_at"), c, sizeof(c)),
               cli_when(json_object_get(k, "revoked_at"), v, sizeof(v)));
    }
}

static int keys_create(const char *name)
{
    json_t *r = NULL;
    int rc = svc_call("POST", name, "/keys", NULL, &r);

    if (rc != 0)
        return rc;
    if (json_integer_value(json_object_get(r, "keys")) == 1)
        fprintf(stderr, "stratus: service %s had no key: from now on its routers require "
                "one\n", name);
    printf("key %lld of service %s (shown only this once; clients send "
           "\"Authorization: Bearer KEY\"):\n%s\n",
           (long long)json_integer_value(json_object_get(r, "id")), name, str_field(r, "key"));
    json_decref(r);
    return 0;
}

static int keys_revoke(const char *name, const char *id, int force)
{
    char *esc = client_escape(id), *tail = xasprintf("/keys/%s%s", esc, force ? "?force=1" : "");
    json_t *r = NULL;
    int rc = svc_call("DELETE", name, tail, NULL, &r);

    free(esc);
    free(tail);
    if (rc != 0)
        return rc;
    printf("service %s: key %lld revoked; %lld left%s\n", name,
           (long long)json_integer_value(json_object_get(r, "revoked")),
           (long long)json_integer_value(json_object_get(r, "keys")),
           json_is_true(json_object_get(r, "open")) ? ": the endpoint is open (no key needed)"
                                                    : "");
    json_decref(r);
    return 0;
}

/* `serve keys NAME [--all] [--json] | --create | --revoke ID [--force]`. */
static int serve_keys(int argc, char **argv)
{
    const char *revoke = NULL;
    int create = 0, force = 0, all = 0, json = 0, i, rc;
    json_t *r = NULL;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--create") == 0)
            create = 1;
        else if (strcmp(argv[i], "--revoke") == 0 && i + 1 < argc)
            revoke = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            break;
    }
    if (argc < 2 || i < argc || (create && revoke) || (force && !revoke) ||
        ((create || revoke) && (all || json))) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if (create)
        return keys_create(argv[1]);
    if (revoke)
        return keys_revoke(argv[1], revoke, force);
    rc = svc_call("GET", argv[1], all ? "/keys?all=1" : "/keys", NULL, &r);
    if (rc != 0)
        return rc;
    if (json) {
        cli_print_json(r, 0);
    } else {
        print_keys(r);
    }
    json_decref(r);
    return 0;
}

static int run_serve(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"up", serve_up},         {"status", serve_status}, {"update", serve_update},
                {"down", serve_down},     {"logs", serve_logs},     {"endpoints", serve_endpoints},
                {"keys", serve_keys}};
    size_t i;

    for (i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    fputs(serve_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_serve = {"serve", "inference services: up, status, update, down, keys",
                                      run_serve, serve_usage};
