/*
 * cmd_catalog.c - `stratus catalog`: work on catalogs.
 *
 *   stratus catalog import --from skypilot DIR [--out DIR] [--annotations DIR]
 *                          [--force]
 *   stratus catalog reload [--json]
 *
 * Subcommands are a table like the top-level commands.  `import` refuses to
 * write into a directory that already has files unless --force is given, and
 * then replaces only offers.csv there (see catalog_import_skypilot()).
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../catalog/catalog.h"
#include "../catalog/import.h"
#include "client.h"
#include "../util/xmem.h"

/* Where `import` writes when --out is not given: a new folder in the current
 * directory, never the bundled catalog itself. */
#define DEFAULT_OUT "catalog-imported"

#define IMPORT_USAGE                                                                     \
    "usage: stratus catalog import --from skypilot DIR [--out DIR]\n"                    \
    "                              [--annotations DIR] [--force]\n"                      \
    "\n"                                                                                 \
    "Convert SkyPilot's catalog (DIR/<cloud>/vms.csv and DIR/<cloud>/vms-*.csv\n"        \
    "for gcp, azure, oci, aws, lambda, nebius) into a Stratus offers.csv, CPU\n"         \
    "types included, and report every row dropped and why.\n"                            \
    "\n"                                                                                 \
    "  --from FORMAT        source format; only 'skypilot' today\n"                      \
    "  --out DIR            where offers.csv goes (default ./" DEFAULT_OUT ");\n"        \
    "                       created if missing\n"                                        \
    "  --annotations DIR    accelerators.csv, instance_types.csv, corrections.csv\n"     \
    "                       and not_cpu.csv (default: the bundled catalog's src/)\n"     \
    "  --force              write into a directory that already has files\n"             \
    "                       (only its offers.csv is replaced)\n"                         \
    "  -h, --help           this text\n"
static const char import_usage[] = IMPORT_USAGE;

struct import_opts {
    const char *from, *src, *out, *annot;
    int force;
};

/* The value of option argv[*i] ("--out DIR" or "--out=DIR"), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
                             struct err *e)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= argc) {
        err_set(e, ST_EUSAGE, "%s needs a value\n%s", name, import_usage);
        return NULL;
    }
    return argv[++*i];
}

static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);

    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Parse import's arguments; 1 when --help was asked for. */
static int parse_import(int argc, char **argv, struct import_opts *o, struct err *e)
{
    static const char *const names[] = {"--from", "--out", "--annotations"};
    const char **slots[] = {&o->from, &o->out, &o->annot};
    int i;
    size_t k;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "--force") == 0 || strcmp(a, "-f") == 0) {
            o->force = 1;
            continue;
        }
        for (k = 0; k < 3 && !is_opt(a, names[k]); k++)
            ;
        if (k < 3) {
            if ((*slots[k] = opt_value(argc, argv, &i, names[k], e)) == NULL)
                return ST_EUSAGE;
            continue;
        }
        if (a[0] == '-' || o->src != NULL)
            return err_set(e, ST_EUSAGE, "unexpected argument '%s'\n%s", a, import_usage);
        o->src = a;
    }
    if (o->from == NULL || o->src == NULL)
        return err_set(e, ST_EUSAGE, "--from and a source directory are required\n%s",
                       import_usage);
    if (strcmp(o->from, "skypilot") != 0)
        return err_set(e, ST_EUSAGE, "--from: unknown format '%s' (supported: skypilot)",
                       o->from);
    return 0;
}

/* 1 when dir exists and has any entry besides . and .. */
static int dir_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int any = 0;

    if (d == NULL)
        return 0;
    while (!any && (de = readdir(d)) != NULL)
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* Refuse to write where it could clobber something, unless forced. */
static int check_out(const char *out, int force, struct err *e)
{
    struct stat st;

    if (stat(out, &st) != 0)
        return errno == ENOENT ? 0 : err_set(e, ST_EIO, "%s: %s", out, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ST_EEXISTS, "%s exists and is not a directory", out);
    if (!force && dir_has_files(out))
        return err_set(e, ST_EEXISTS,
                       "%s already has files; pass --force to replace its offers.csv "
                       "(nothing else there is touched)",
                       out);
    return 0;
}

static int run_import(int argc, char **argv)
{
    struct import_opts o;
    struct err e;
    char *catdir = NULL, *annot = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    err_clear(&e);
    rc = parse_import(argc, argv, &o, &e);
    if (rc == 1) {
        fputs(import_usage, stdout);
        return 0;
    }
    if (rc != 0)
        return cli_fail(&e);
    if (o.out == NULL)
        o.out = DEFAULT_OUT;
    if (o.annot == NULL) {
        catdir = catalog_default_dir("stratus");
        annot = xasprintf("%s/src", catdir);
        o.annot = annot;
    }
    rc = check_out(o.out, o.force, &e);
    if (rc == 0)
        rc = catalog_import_skypilot(o.src, o.out, o.annot, stdout, &e);
    free(catdir);
    free(annot);
    return rc ? cli_fail(&e) : 0;
}

#define RELOAD_USAGE                                                                     \
    "usage: stratus catalog reload [--json]\n"                                           \
    "\n"                                                                                 \
    "The server reads its catalog directory again and takes the new prices:\n"           \
    "each offer's on-demand and spot price, and offers gone from offers.csv\n"           \
    "are sold no more.  Running attempts pay the new price from now on (each\n"          \
    "job's events say so) and new placements are planned at it.  New offers\n"           \
    "and changes to the other files (commitments, egress, latency, preemption\n"         \
    "rates, throughput, storage, quotas) are listed and wait for a restart\n"            \
    "(stratus controller stop; the next command starts it).  A catalog in\n"             \
    "error is refused with its file:line, and the prices stay as they were.\n"           \
    "Needs the admin role.\n"
static const char reload_usage[] = RELOAD_USAGE;

static int run_reload(int argc, char **argv)
{
    json_t *r = NULL;
    struct err e;
    int json = 0, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(reload_usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr, "stratus catalog reload: unexpected '%s'\n%s", argv[i],
                    reload_usage);
            return 2;
        }
        json = 1;
    }
    err_clear(&e);
    if (client_call("POST", "/v1/catalog/reload", NULL, &r, &e) != 0)
        return cli_fail(&e);
    if (json) {
        cli_print_json(r, 0);
    } else {
        const char *others = json_string_value(json_object_get(r, "not_taken"));
        long long added = json_integer_value(json_object_get(r, "added"));

        printf("read %s again: %lld offer%s repriced, %lld sold no more\n",
               json_string_value(json_object_get(r, "dir")),
               (long long)json_integer_value(json_object_get(r, "repriced")),
               json_integer_value(json_object_get(r, "repriced")) == 1 ? "" : "s",
               (long long)json_integer_value(json_object_get(r, "unsold")));
        if (json_integer_value(json_object_get(r, "free")) > 0)
            printf("warning: %lld offer%s now cost $0.00 an hour (on demand or as spot): "
                   "the planner takes them first; check offers.csv\n",
                   (long long)json_integer_value(json_object_get(r, "free")),
                   json_integer_value(json_object_get(r, "free")) == 1 ? "" : "s");
        if (added > 0)
            printf("%lld new offer%s: not taken until the server restarts\n", added,
                   added == 1 ? "" : "s");
        if (others != NULL)
            printf("differ, not taken until the server restarts: %s\n", others);
        if (added > 0 || others != NULL)
            printf("(stratus controller stop; the next command starts it again)\n");
    }
    json_decref(r);
    return 0;
}

static const struct catalog_sub {
    const char *name, *summary;
    int (*run)(int argc, char **argv);
} subs[] = {
    {"import", "build offers.csv from another tool's catalog (SkyPilot)", run_import},
    {"reload", "the server reads its catalog again and takes the new prices", run_reload},
};

static void usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "usage: stratus catalog <subcommand> [options]\n\nsubcommands:\n");
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        fprintf(fp, "  %-8s %s\n", subs[i].name, subs[i].summary);
    fprintf(fp, "\n'stratus catalog <subcommand> --help' describes a subcommand.\n");
}

static int run_catalog(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "stratus: unknown catalog subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

/* Any --help on the line prints this (main.c): both subcommands' usage. */
static const char catalog_usage[] = IMPORT_USAGE "\n" RELOAD_USAGE;

const struct cli_cmd cli_cmd_catalog = {
    "catalog", "work on catalogs (import from SkyPilot; reload prices)", run_catalog,
    catalog_usage};
