/*
 * cmd_trace.c - `stratus trace`: convert public traces into the simulator's
 * formats, and check a trace file.
 *
 *   stratus trace convert --from itp|alibaba|skypilot-spot|gcp-prices IN...
 *                 [--mapping F] [--seed N] [--out FILE] [--catalog DIR | --no-catalog]
 *                 [--since YYYY-MM-DD] [--horizon DURATION]
 *   stratus trace convert --from mooncake|alibaba-genai IN [--users R=S,...]
 *                 [--repeat-to DURATION [--rate R]] [--service NAME] [--seed N]
 *   stratus trace check --workload F | --spot F | --prices F | --requests F
 *
 * The converted trace goes to stdout or --out (written to FILE.tmp and
 * renamed, so a failed conversion never leaves half a file); what was kept
 * and dropped, by reason, goes to stderr.  Formats: docs/traces.md.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../sim/reqtrace.h"
#include "../sim/trace.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char trace_usage[] =
    "usage: stratus trace convert --from FORMAT IN... [--mapping F] [--seed N]\n"
    "                     [--out FILE] [--catalog DIR | --no-catalog]\n"
    "                     [--since YYYY-MM-DD] [--horizon DURATION]\n"
    "       stratus trace convert --from mooncake|alibaba-genai IN [--users R=S,...]\n"
    "                     [--repeat-to DURATION [--rate R]] [--service NAME] [--seed N]\n"
    "       stratus trace check (--workload | --spot | --prices | --requests) FILE...\n"
    "FORMAT: itp (IN: cluster CSV files or a folder of them), alibaba (an openb\n"
    "pod list), skypilot-spot (IN: the spot-traces folder; --mapping says which\n"
    "trace feeds which location; --horizon repeats each trace to cover that\n"
    "long), gcp-prices (the price history CSV, .xz or - for stdin; --since\n"
    "sets time 0).  The catalog (default: the bundled one) checks locations.\n"
    "Request traces: mooncake (conversation JSON lines), alibaba-genai (the\n"
    "diffusion lora_request_trace.csv).  --users gives user regions and their\n"
    "shares (default azure/eastus=0.5,gcp/europe-west4=0.3,gcp/asia-northeast1=0.2);\n"
    "--repeat-to generates that long a trace from the source's shape, at --rate\n"
    "requests/s (default: the source's); --service names the service.\n"
    "Formats and rules: docs/traces.md.\n";

enum trace_from {
    FROM_NONE,
    FROM_ITP,
    FROM_ALIBABA,
    FROM_SPOT,
    FROM_PRICES,
    FROM_MOONCAKE,
    FROM_GENAI
};

struct trace_args {
    enum trace_from from;
    const char *mapping, *out, *catalog, *since;
    const char *users, *service; /* request traces */
    int no_catalog;
    unsigned long long seed;
    double horizon_s;
    double repeat_to_s, rate; /* request traces: --repeat-to, --rate */
    char **in;
    size_t nin;
};

static int parse_from(const char *s, enum trace_from *f)
{
    static const char *const names[] = {"itp",        "alibaba",  "skypilot-spot",
                                        "gcp-prices", "mooncake", "alibaba-genai",
                                        NULL};
    const char *sug;
    size_t i;

    for (i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (enum trace_from)(i + 1);
            return 0;
        }
    sug = str_suggest(s, names);
    fprintf(stderr,
            "stratus: --from must be itp, alibaba, skypilot-spot, gcp-prices, mooncake "
            "or alibaba-genai, not '%s'%s%s%s\n",
            s, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    return 2;
}

/* The options of the request-trace converters. */
static int request_opt(int ch, struct trace_args *a)
{
    switch (ch) {
    case 'U':
        a->users = optarg;
        return 0;
    case 'V':
        a->service = optarg;
        return 0;
    case 'R':
        if (str_to_duration(optarg, &a->repeat_to_s) != 0 || !(a->repeat_to_s > 0) ||
            a->repeat_to_s > 3650 * 86400.0) {
            fprintf(stderr,
                    "stratus: --repeat-to must be a duration up to 10 years (e.g. 7d), "
                    "not '%s'\n",
                    optarg);
            return 2;
        }
        return 0;
    case 'r':
        if (str_to_double(optarg, &a->rate) != 0 || !(a->rate > 0) || a->rate > 1e6) {
            fprintf(stderr,
                    "stratus: --rate must be requests per second in (0, 1000000], not "
                    "'%s'\n",
                    optarg);
            return 2;
        }
        return 0;
    default:
        fputs(trace_usage, stderr);
        return 2;
    }
}

static int convert_opt(int ch, struct trace_args *a)
{
    switch (ch) {
    case 'f':
        return parse_from(optarg, &a->from);
    case 'm':
        a->mapping = optarg;
        return 0;
    case 'o':
        a->out = optarg;
        return 0;
    case 'C':
        a->catalog = optarg;
        return 0;
    case 'N':
        a->no_catalog = 1;
        return 0;
    case 'S':
        a->since = optarg;
        return 0;
    case 's': {
        char *end;

        a->seed = strtoull(optarg, &end, 10);
        if (*optarg == '\0' || *optarg == '-' || *end != '\0') {
            fprintf(stderr, "stratus: --seed must be a whole number, not '%s'\n", optarg);
            return 2;
        }
        return 0;
    }
    case 'H':
        if (str_to_duration(optarg, &a->horizon_s) != 0 ||
            a->horizon_s > 3650 * 86400.0) {
            fprintf(stderr,
                    "stratus: --horizon must be a duration up to 10 years "
                    "(e.g. 90d), not '%s'\n",
                    optarg);
            return 2;
        }
        return 0;
    case 'h':
        fputs(trace_usage, stdout);
        return -1;
    default:
        return request_opt(ch, a);
    }
}

/* The rules a format places on the arguments. */
static int check_convert_args(const struct trace_args *a)
{
    const char *bad = NULL;

    if (a->from == FROM_NONE)
        bad = "--from is required";
    else if (a->nin == 0)
        bad = "give the input to convert";
    else if (a->nin > 1 && a->from != FROM_ITP)
        bad = "only --from itp takes more than one input";
    else if ((a->from == FROM_SPOT) != (a->mapping != NULL))
        bad = a->mapping ? "--mapping is for --from skypilot-spot"
                         : "--from skypilot-spot needs --mapping FILE";
    else if (a->since && a->from != FROM_PRICES)
        bad = "--since is for --from gcp-prices";
    else if (a->horizon_s > 0 && a->from != FROM_SPOT)
        bad = "--horizon is for --from skypilot-spot";
    else if ((a->users || a->service || a->repeat_to_s > 0) && a->from != FROM_MOONCAKE &&
             a->from != FROM_GENAI)
        bad =
            "--users, --service and --repeat-to are for --from mooncake or alibaba-genai";
    else if (a->rate > 0 && a->repeat_to_s <= 0)
        bad = "--rate needs --repeat-to DURATION";
    else if (a->no_catalog && (a->from == FROM_MOONCAKE || a->from == FROM_GENAI))
        bad = "the request converters need the catalog (the user regions' longitudes)";
    if (bad == NULL)
        return 0;
    fprintf(stderr, "stratus: trace convert: %s\n%s", bad, trace_usage);
    return 2;
}

static int parse_convert_args(int argc, char **argv, struct trace_args *a)
{
    static const struct option longs[] = {{"from", required_argument, NULL, 'f'},
                                          {"mapping", required_argument, NULL, 'm'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"out", required_argument, NULL, 'o'},
                                          {"catalog", required_argument, NULL, 'C'},
                                          {"no-catalog", no_argument, NULL, 'N'},
                                          {"since", required_argument, NULL, 'S'},
                                          {"horizon", required_argument, NULL, 'H'},
                                          {"users", required_argument, NULL, 'U'},
                                          {"service", required_argument, NULL, 'V'},
                                          {"repeat-to", required_argument, NULL, 'R'},
                                          {"rate", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int ch, rc;

    memset(a, 0, sizeof(*a));
    a->seed = 1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1)
        if ((rc = convert_opt(ch, a)) != 0)
            return rc;
    a->in = argv + optind;
    a->nin = (size_t)(argc - optind);
    return check_convert_args(a);
}

/* The --users list (or the default), each region checked against the
 * catalog and given its local solar time offset (longitude / 15 h). */
static int request_users(const struct trace_args *a, const struct catalog *cat,
                         struct reqtrace_user *u, size_t *n, struct err *e)
{
    int rc = reqtrace_parse_users(a->users ? a->users : reqtrace_default_users, u, n, e);
    size_t i;

    for (i = 0; rc == 0 && i < *n; i++) {
        char cloud[256];
        const char *slash = strchr(u[i].name, '/');
        const struct region *r;

        snprintf(cloud, sizeof(cloud), "%.*s", (int)(slash - u[i].name), u[i].name);
        r = catalog_region(cat, cloud, slash + 1);
        if (r == NULL)
            return err_set(e, ST_EUSAGE,
                           "--users: the catalog has no region %s (see `stratus catalog "
                           "regions` or catalog/regions.csv)",
                           u[i].name);
        u[i].utc_off_h = r->lon / 15;
    }
    return rc;
}

static int run_request_converter(const struct trace_args *a, const struct catalog *cat,
                                 FILE *out, struct err *e)
{
    struct reqtrace_user users[REQTRACE_USERS_MAX];
    struct reqtrace_conv_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = request_users(a, cat, users, &o.nusers, e);
    if (rc != 0)
        return rc;
    o.seed = a->seed;
    o.users = users;
    o.repeat_to_s = a->repeat_to_s;
    o.rate = a->rate;
    o.service = a->service;
    if (a->from == FROM_MOONCAKE)
        return reqtrace_convert_mooncake(a->in[0], &o, out, stderr, e);
    return reqtrace_convert_alibaba(a->in[0], &o, out, stderr, e);
}

static int run_converter(const struct trace_args *a, const struct catalog *cat, FILE *out,
                         struct err *e)
{
    struct trace_conv_opts o = {cat, a->since, a->horizon_s};

    switch (a->from) {
    case FROM_MOONCAKE:
    case FROM_GENAI:
        return run_request_converter(a, cat, out, e);
    case FROM_ITP:
        return trace_convert_itp_files((const char *const *)a->in, a->nin, out, a->seed,
                                       stderr, e);
    case FROM_ALIBABA:
        return trace_convert_alibaba(a->in[0], out, a->seed, stderr, e);
    case FROM_SPOT:
        return trace_convert_skypilot_spot_ex(a->in[0], a->mapping, &o, out, stderr, e);
    case FROM_PRICES:
        return trace_convert_gcp_prices_ex(a->in[0], &o, out, stderr, e);
    default:
        return err_set(e, ST_EUSAGE, "no format");
    }
}

/* Convert into --out through a temporary file renamed at the end. */
static int convert_to_file(const struct trace_args *a, const struct catalog *cat,
                           struct err *e)
{
    char *tmp = xasprintf("%s.tmp", a->out);
    FILE *fp = fopen(tmp, "w");
    int rc;

    if (fp == NULL) {
        rc = err_set(e, ST_EIO, "%s: cannot create", tmp);
        free(tmp);
        return rc;
    }
    rc = run_converter(a, cat, fp, e);
    if (fclose(fp) != 0 && rc == 0)
        rc = err_set(e, ST_EIO, "%s: cannot write", tmp);
    if (rc == 0 && rename(tmp, a->out) != 0)
        rc = err_set(e, ST_EIO, "%s: cannot rename to %s", tmp, a->out);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int trace_convert(int argc, char **argv)
{
    struct trace_args a;
    struct catalog *cat = NULL;
    struct err e;
    int rc = parse_convert_args(argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    err_clear(&e);
    if ((a.from == FROM_SPOT || a.from == FROM_PRICES || a.from == FROM_MOONCAKE ||
         a.from == FROM_GENAI) &&
        !a.no_catalog && (rc = cli_load_catalog(a.catalog, &cat)) != 0)
        return rc;
    if (a.out)
        rc = convert_to_file(&a, cat, &e);
    else if ((rc = run_converter(&a, cat, stdout, &e)) == 0 && fflush(stdout) != 0)
        rc = err_set(&e, ST_EIO, "cannot write to stdout");
    if (cat)
        catalog_free(cat);
    return rc != 0 ? cli_fail(&e) : 0;
}

/* ---- check ---- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const struct trace *t, const char *what, double secs)
{
    double gpu_h = 0, last = 0;
    size_t i, n = 0;

    if (strcmp(what, "workload") == 0) {
        for (i = 0; i < t->njobs; i++)
            gpu_h += t->jobs[i].gpus * t->jobs[i].duration_s / 3600;
        n = t->njobs;
        last = n ? t->jobs[n - 1].submit_s : 0;
        printf("%zu jobs, last submitted at %.1f days, %.0f GPU-hours", n, last / 86400,
               gpu_h);
    } else if (strcmp(what, "spot") == 0) {
        n = t->nspot;
        last = n ? t->spot[n - 1].time_s : 0;
        printf("%zu spot rows over %.1f days", n, last / 86400);
    } else {
        n = t->nprices;
        last = n ? t->prices[n - 1].time_s : 0;
        printf("%zu price rows over %.1f days", n, last / 86400);
    }
    printf("; loaded in %.3f s (%.0f rows/s)\n", secs, secs > 0 ? (double)n / secs : 0.0);
}

static const struct trace_kind {
    const char *flag, *what;
    int (*load)(struct trace *t, const char *path, struct err *e);
} trace_kinds[] = {
    {"--workload", "workload", trace_load_jobs},
    {"--spot", "spot", trace_load_spot},
    {"--prices", "prices", trace_load_prices},
};

/* `check --requests F...`: load the files as one request trace. */
static int check_requests(int argc, char **argv)
{
    struct reqtrace rt;
    struct err e;
    double t0 = now_s(), secs, span;
    int i, rc = 0;

    reqtrace_init(&rt);
    err_clear(&e);
    for (i = 2; i < argc && rc == 0; i++)
        rc = reqtrace_load(&rt, argv[i], &e);
    secs = now_s() - t0;
    if (rc == 0) {
        span = rt.n ? rt.req[rt.n - 1].arrival_s : 0;
        printf("%zu requests over %.2f h (%.2f/s), %zu regions, %zu services; "
               "loaded in %.3f s (%.0f rows/s), %.1f bytes/request\n",
               rt.n, span / 3600, span > 0 ? (double)rt.n / span : 0.0, rt.nregions,
               rt.nservices, secs, secs > 0 ? (double)rt.n / secs : 0.0,
               rt.n ? (double)reqtrace_bytes(&rt) / (double)rt.n : 0.0);
    }
    reqtrace_free(&rt);
    return rc != 0 ? cli_fail(&e) : 0;
}

static int trace_check(int argc, char **argv)
{
    const struct trace_kind *k = NULL;
    struct catalog *cat = NULL;
    struct trace t;
    struct err e;
    double t0;
    size_t j;
    int i, rc = 0;

    if (argc >= 3 && strcmp(argv[1], "--requests") == 0)
        return check_requests(argc, argv);
    for (j = 0; argc >= 2 && j < sizeof(trace_kinds) / sizeof(trace_kinds[0]); j++)
        if (strcmp(argv[1], trace_kinds[j].flag) == 0)
            k = &trace_kinds[j];
    if (k == NULL || argc < 3) {
        fputs(trace_usage, stderr);
        return 2;
    }
    if ((rc = cli_load_catalog(NULL, &cat)) != 0)
        return rc;
    trace_init(&t);
    t.cat = cat; /* the bundled catalog has each row's accelerator or offer */
    err_clear(&e);
    t0 = now_s();
    for (i = 2; i < argc && rc == 0; i++)
        rc = k->load(&t, argv[i], &e);
    if (rc == 0) {
        trace_sort(&t);
        print_summary(&t, k->what, now_s() - t0);
    }
    trace_free(&t);
    catalog_free(cat);
    return rc != 0 ? cli_fail(&e) : 0;
}

static int run_trace(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "convert") == 0)
        return trace_convert(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return trace_check(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(trace_usage, stdout);
        return 0;
    }
    fputs(trace_usage, stderr);
    return 2;
}

const struct cli_cmd cli_cmd_trace = {
    "trace", "convert public traces and check trace files", run_trace, trace_usage};
