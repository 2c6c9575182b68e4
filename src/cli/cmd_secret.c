/*
 * cmd_secret.c - `stratus secret set|ls|rm`: a team's secrets on the server
 * (docs/secrets.md).  A value goes in once, from stdin, and never comes
 * back: ls shows names and times only.
 *
 * The value is read from stdin, never from an argument (which `ps` and the
 * shell's history would show); on a terminal it is read without echo.  One
 * trailing newline is stripped (echo and here-strings add one), nothing
 * else: a value may hold spaces, inner newlines and any byte but NUL.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define VALUE_MAX ((size_t)64 << 10) /* as the server's limit (secret.h) */

static const char secret_usage[] =
    "usage: stratus secret set NAME [--team TEAM]   (the value on stdin)\n"
    "       stratus secret ls [--team TEAM] [--json]\n"
    "       stratus secret rm NAME [--team TEAM]\n"
    "A secret is a value a team's jobs get in their environment at launch; a\n"
    "spec names it (envs: {HF_TOKEN: {secret: hf}}, or SkyPilot's secrets:\n"
    "{HF_TOKEN: null} for the secret HF_TOKEN). set reads the value from stdin\n"
    "(without echo on a terminal; one trailing newline is dropped) and seals\n"
    "it on the server; nothing ever shows it again. Without --team: the lab's\n"
    "shared space (specs without stratus.team). set and rm need the member\n"
    "role in the team, ls the viewer role.\n";

struct secret_opts {
    const char *team; /* "" = the lab's shared space */
    int json;
};

/* Options after the subcommand; the rest (the name) stays in argv from
 * optind.  0, or 2 after printing the usage. */
static int parse_opts(int argc, char **argv, struct secret_opts *o)
{
    static const struct option longs[] = {{"team", required_argument, NULL, 't'},
                                          {"json", no_argument, NULL, 'j'},
                                          {NULL, 0, NULL, 0}};
    int ch;

    o->team = "";
    o->json = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (ch == 't')
            o->team = optarg;
        else if (ch == 'j')
            o->json = 1;
        else {
            fputs(secret_usage, stderr);
            return 2;
        }
    }
    return 0;
}

/* 0 when name may name a secret, else 2 after saying why (before a value
 * is asked for). */
static int check_name(const char *name)
{
    char shown[64];

    if (spec_secret_name_ok(name))
        return 0;
    fprintf(stderr,
            "stratus: '%s' is not a secret name (letters, digits, '_', '-' and '.', at "
            "most %d, starting with a letter, digit or '_')\n",
            str_vis(shown, sizeof(shown), name), SPEC_SECRET_NAME_MAX);
    return 2;
}

/* "/v1/secrets[/NAME]?team=TEAM", escaped; caller frees. */
static char *secret_path(const char *name, const char *team)
{
    char *t = client_escape(team), *n = name ? client_escape(name) : NULL, *p;

    p = xasprintf("/v1/secrets%s%s?team=%s", n ? "/" : "", n ? n : "", t);
    free(t);
    free(n);
    return p;
}

/* Terminal echo off (fd is a terminal): the old settings into *old; 0 or -1. */
static int echo_off(int fd, struct termios *old)
{
    struct termios t;

    if (tcgetattr(fd, old) != 0)
        return -1;
    t = *old;
    t.c_lflag &= ~(tcflag_t)ECHO;
    return tcsetattr(fd, TCSAFLUSH, &t);
}

/* The value from stdin into *out (owned, NUL-terminated, *len bytes): on a
 * terminal one line read without echo, else everything up to EOF; one
 * trailing newline dropped.  0, or an exit status after saying why. */
static int read_value(const char *name, char **out, size_t *len)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old;
    char *buf = xmalloc(VALUE_MAX + 2);
    size_t n = 0;
    int c, echo = 0;

    if (tty) {
        fprintf(stderr, "value of secret %s (not shown): ", name);
        fflush(stderr);
        echo = echo_off(STDIN_FILENO, &old) == 0;
    }
    while (n < VALUE_MAX + 1 && (c = getchar()) != EOF) {
        buf[n++] = (char)c;
        if (tty && c == '\n')
            break;
    }
    if (echo)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (tty)
        fputc('\n', stderr);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    if (n > VALUE_MAX || memchr(buf, '\0', n) != NULL || ferror(stdin)) {
        fprintf(stderr, "stratus: secret %s: %s\n", name,
                ferror(stdin)   ? strerror(errno)
                : n > VALUE_MAX ? "the value is over 64 KiB; keep large data in a file "
                                  "and the secret to open it"
                                : "the value holds a NUL byte; a variable cannot");
        explicit_bzero(buf, VALUE_MAX + 2);
        free(buf);
        return 2;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int secret_set(int argc, char **argv)
{
    struct secret_opts o;
    json_t *body, *r = NULL;
    char *value, *path;
    size_t len;
    struct err e;
    int rc = parse_opts(argc, argv, &o);

    if (rc == 0 && optind != argc - 1) {
        fprintf(stderr, "stratus: secret set needs one NAME\n%s", secret_usage);
        rc = 2;
    }
    if (rc != 0 || (rc = check_name(argv[optind])) != 0 ||
        (rc = read_value(argv[optind], &value, &len)) != 0)
        return rc;
    body = json_object();
    json_object_set_new(body, "value", json_stringn(value, len));
    explicit_bzero(value, len);
    free(value);
    path = secret_path(argv[optind], o.team);
    err_clear(&e);
    rc = client_call("PUT", path, body, &r, &e);
    /* jansson's copy of the value, before it is freed */
    explicit_bzero((void *)(uintptr_t)json_string_value(json_object_get(body, "value")),
                   len);
    json_decref(body);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    fprintf(stderr, "stratus: secret %s set%s%s%s\n", argv[optind],
            *o.team ? " for team " : "", o.team,
            *o.team ? "" : " in the lab's shared space");
    json_decref(r);
    return 0;
}

static void print_secrets(const json_t *v)
{
    char c[32], u[32];
    size_t i;

    printf("%-32s %-19s  %s\n", "NAME", "CREATED", "UPDATED");
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *s = json_array_get(v, i);

        printf("%-32s %-19s  %s\n", json_string_value(json_object_get(s, "name")),
               cli_when(json_object_get(s, "created_at"), c, sizeof(c)),
               cli_when(json_object_get(s, "updated_at"), u, sizeof(u)));
    }
}

static int secret_ls(int argc, char **argv)
{
    struct secret_opts o;
    json_t *r = NULL;
    char *path;
    struct err e;
    int rc = parse_opts(argc, argv, &o);

    if (rc == 0 && optind != argc) {
        fputs(secret_usage, stderr);
        rc = 2;
    }
    if (rc != 0)
        return rc;
    path = secret_path(NULL, o.team);
    err_clear(&e);
    rc = client_call("GET", path, NULL, &r, &e);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    if (o.json) {
        cli_print_json(json_object_get(r, "secrets"), 0);
    } else {
        print_secrets(json_object_get(r, "secrets"));
    }
    json_decref(r);
    return 0;
}

static int secret_rm(int argc, char **argv)
{
    struct secret_opts o;
    char *path;
    struct err e;
    int rc = parse_opts(argc, argv, &o);

    if (rc == 0 && optind != argc - 1) {
        fprintf(stderr, "stratus: secret rm needs one NAME\n%s", secret_usage);
        rc = 2;
    }
    if (rc != 0 || (rc = check_name(argv[optind])) != 0)
        return rc;
    path = secret_path(argv[optind], o.team);
    err_clear(&e);
    rc = client_call("DELETE", path, NULL, NULL, &e);
    free(path);
    if (rc != 0)
        return cli_fail(&e);
    printf("secret %s removed%s%s\n", argv[optind], *o.team ? " from team " : "", o.team);
    return 0;
}

static int run_secret(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "set") == 0)
        return secret_set(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0))
        return secret_ls(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "rm") == 0 || strcmp(argv[1], "delete") == 0))
        return secret_rm(argc - 1, argv + 1);
    fputs(secret_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_secret = {"secret", "set, list and remove a team's secrets",
                                       run_secret, secret_usage};
