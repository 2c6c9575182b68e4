/*
 * cmd_router.c - `stratus router`: parse the options into a struct
 * rt_config and run the router (src/router/) in the foreground.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../router/router.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

static const char router_usage[] =
    "usage: stratus router (--replicas FILE | --api URL --service NAME) [options]\n"
    "Proxy HTTP/1.1 requests (keep-alive, streamed replies) to a service's replicas.\n"
    "  --replicas FILE      the replica set as JSON (re-read on change and on SIGHUP)\n"
    "  --api URL[,URL...]   follow the set from a server (http://HOST:PORT; the\n"
    "                       servers of one store, tried in turn: docs/ha.md)...\n"
    "  --service NAME       ...for this service (token: $STRATUS_TOKEN, or the file\n"
    "                       $STRATUS_TOKEN_FILE / stratus --token-file F router ...)\n"
    "  --listen HOST:PORT   where to listen (default 127.0.0.1:8088; port 0 = any)\n"
    "  --region CLOUD/REGION  the router's region: nearest replicas first\n"
    "  --policy nearest|least_load  latency-aware (default) or region-blind\n"
    "  --max-inflight N     requests per replica before overflowing (default: the\n"
    "                       replica's max_inflight, else ceil(target_qps), else 64)\n"
    "  --retries N          more attempts on other replicas (default 2)\n"
    "  --no-retry-reset     do not retry a POST whose replica closed or reset the\n"
    "                       connection before answering, or answered 503 (default:\n"
    "                       retry it, as an inference request changes nothing)\n"
    "  --max-body BYTES     larger request bodies get 413 (default 16777216)\n"
    "  --max-header-bytes N larger request heads get 431 (default 32768)\n"
    "  --client-timeout S   slow or idle clients are dropped (default 60)\n"
    "  --upstream-timeout S a replica silent this long: 504 (default 300)\n"
    "  --eject-after N      consecutive failures that eject a replica (default 5; 0 never)\n"
    "  --eject-time S       base ejection time, x times ejected (default 5)\n"
    "  --max-wait S         with no replica, wait this long before 503 (default 0)\n"
    "  --retry-after S      Retry-After of a 503 (default 5)\n"
    "  --threads N          event loops sharing the port (default 1)\n"
    "  --access-log FILE    one line per request ('-' = stderr; default none)\n"
    "  --catalog DIR        the catalog for RTTs (default: as other commands)\n"
    "Its own paths: /-/healthz, /-/metrics (Prometheus), /-/replicas. See docs/router.md.\n";

enum { O_REPLICAS = 256, O_API, O_SERVICE, O_LISTEN, O_REGION, O_POLICY, O_MAXIN, O_RETRIES,
       O_MAXBODY, O_MAXHDR, O_CTIMEOUT, O_UTIMEOUT, O_EJECT, O_EJECTT, O_WAIT, O_RA,
       O_THREADS, O_ALOG, O_CATALOG, O_NORESET };

static const struct option router_opts[] = {
    {"replicas", required_argument, NULL, O_REPLICAS},
    {"api", required_argument, NULL, O_API},
    {"service", required_argument, NULL, O_SERVICE},
    {"listen", required_argument, NULL, O_LISTEN},
    {"region", required_argument, NULL, O_REGION},
    {"policy", required_argument, NULL, O_POLICY},
    {"max-inflight", required_argument, NULL, O_MAXIN},
    {"retries", required_argument, NULL, O_RETRIES},
    {"max-body", required_argument, NULL, O_MAXBODY},
    {"max-header-bytes", required_argument, NULL, O_MAXHDR},
    {"client-timeout", required_argument, NULL, O_CTIMEOUT},
    {"upstream-timeout", required_argument, NULL, O_UTIMEOUT},
    {"eject-after", required_argument, NULL, O_EJECT},
    {"eject-time", required_argument, NULL, O_EJECTT},
    {"max-wait", required_argument, NULL, O_WAIT},
    {"retry-after", required_argument, NULL, O_RA},
    {"threads", required_argument, NULL, O_THREADS},
    {"access-log", required_argument, NULL, O_ALOG},
    {"catalog", required_argument, NULL, O_CATALOG},
    {"no-retry-reset", no_argument, NULL, O_NORESET},
    {NULL, 0, NULL, 0}};

struct router_args {
    struct rt_config c;
    char *host, *cloud, *region, *token;
    const char *catalog;
};

static int bad_opt(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, "stratus: router: %s '%s': %s\n", opt, val, want);
    return 2;
}

static int int_opt(const char *opt, const char *val, long min, long max, int *out)
{
    long n;

    if (str_to_long(val, min, max, &n) != 0) {
        fprintf(stderr, "stratus: router: %s '%s': an integer from %ld to %ld\n", opt, val,
                min, max);
        return 2;
    }
    *out = (int)n;
    return 0;
}

static int num_opt(const char *opt, const char *val, double *out)
{
    if (str_to_double(val, out) != 0 || *out < 0 || *out > 86400)
        return bad_opt(opt, val, "a number of seconds from 0 to 86400");
    return 0;
}

static int listen_opt(struct router_args *a, const char *v)
{
    const char *colon = strrchr(v, ':');
    int port;

    if (colon == NULL || colon == v || int_opt("--listen", colon + 1, 0, 65535, &port) != 0)
        return bad_opt("--listen", v, "HOST:PORT, e.g. 127.0.0.1:8088 (port 0: any free)");
    free(a->host);
    if (v[0] == '[' && colon[-1] == ']')
        a->host = xstrndup(v + 1, (size_t)(colon - v - 2));
    else
        a->host = xstrndup(v, (size_t)(colon - v));
    a->c.port = port;
    return 0;
}

static int region_opt(struct router_args *a, const char *v)
{
    const char *slash = strchr(v, '/');

    if (slash == NULL || slash == v || slash[1] == '\0' || strchr(slash + 1, '/'))
        return bad_opt("--region", v, "CLOUD/REGION, e.g. azure/eastus");
    a->cloud = xstrndup(v, (size_t)(slash - v));
    a->region = xstrdup(slash + 1);
    return 0;
}

static int size_opt(const char *opt, const char *v, size_t *out)
{
    long n;

    if (str_to_long(v, 1024, 1L << 34, &n) != 0)
        return bad_opt(opt, v, "a number of bytes from 1024 to 17179869184");
    *out = (size_t)n;
    return 0;
}

static int policy_opt(struct router_args *a, const char *v)
{
    if (strcmp(v, "nearest") == 0)
        a->c.policy = RP_NEAREST;
    else if (strcmp(v, "least_load") == 0)
        a->c.policy = RP_LEAST_LOAD;
    else
        return bad_opt("--policy", v, "nearest (latency-aware) or least_load (region-blind)");
    return 0;
}

static int take_opt(struct router_args *a, int ch, const char *v)
{
    struct rt_config *c = &a->c;

    switch (ch) {
    case O_REPLICAS: c->replicas_file = v; return 0;
    case O_API: c->api = v; return 0;
    case O_SERVICE: c->service = v; return 0;
    case O_LISTEN: return listen_opt(a, v);
    case O_REGION: return region_opt(a, v);
    case O_POLICY: return policy_opt(a, v);
    case O_MAXIN: return int_opt("--max-inflight", v, 1, 1000000, &c->max_inflight);
    case O_RETRIES: return int_opt("--retries", v, 0, 7, &c->retries);
    case O_MAXBODY: return size_opt("--max-body", v, &c->max_body);
    case O_MAXHDR: return size_opt("--max-header-bytes", v, &c->max_header_bytes);
    case O_CTIMEOUT: return int_opt("--client-timeout", v, 1, 86400, &c->client_timeout_s);
    case O_UTIMEOUT: return int_opt("--upstream-timeout", v, 1, 86400, &c->upstream_timeout_s);
    case O_EJECT: return int_opt("--eject-after", v, 0, 1000, &c->eject_after);
    case O_EJECTT: return num_opt("--eject-time", v, &c->eject_base_s);
    case O_WAIT: return num_opt("--max-wait", v, &c->max_wait_s);
    case O_RA: return int_opt("--retry-after", v, 0, 86400, &c->retry_after_s);
    case O_THREADS: return int_opt("--threads", v, 1, 64, &c->threads);
    case O_ALOG: c->access_log = v; return 0;
    case O_CATALOG: a->catalog = v; return 0;
    case O_NORESET: c->retry_reset = 0; return 0;
    default: fputs(router_usage, stderr); return 2;
    }
}

static void defaults(struct router_args *a)
{
    memset(a, 0, sizeof(*a));
    a->host = xstrdup("127.0.0.1");
    a->c.port = 8088;
    a->c.policy = RP_NEAREST;
    a->c.retries = 2;
    a->c.retry_reset = 1;
    a->c.max_body = 16u << 20;
    a->c.max_header_bytes = 32768;
    a->c.client_timeout_s = 60;
    a->c.upstream_timeout_s = 300;
    a->c.eject_after = 5;
    a->c.eject_base_s = 5;
    a->c.retry_after_s = 5;
    a->c.threads = 1;
}

/* The token for --api: $STRATUS_TOKEN, else $STRATUS_TOKEN_FILE's first line. */
static int read_token(struct router_args *a)
{
    const char *t = getenv("STRATUS_TOKEN"), *f = getenv("STRATUS_TOKEN_FILE");
    struct err e;
    char *text = NULL;

    if (t != NULL && *t) {
        a->token = xstrdup(t);
        return 0;
    }
    if (f == NULL || *f == '\0')
        return 0;
    err_clear(&e);
    if (fs_read_file(f, 4096, &text, NULL, &e) != 0)
        return cli_fail(&e);
    text[strcspn(text, "\r\n \t")] = '\0';
    a->token = text;
    return 0;
}

static int check_args(struct router_args *a, const struct catalog *cat)
{
    if ((a->c.replicas_file != NULL) == (a->c.api != NULL)) {
        fprintf(stderr, "stratus: router needs --replicas FILE or --api URL --service NAME "
                        "(one of them)\n");
        return 2;
    }
    if (a->c.api != NULL && a->c.service == NULL) {
        fprintf(stderr, "stratus: router: --api needs --service NAME\n");
        return 2;
    }
    if (a->cloud != NULL && catalog_region(cat, a->cloud, a->region) == NULL) {
        fprintf(stderr, "stratus: router: --region %s/%s is not a region of the catalog "
                        "(%s/regions.csv lists them)\n", a->cloud, a->region, catalog_dir(cat));
        return 2;
    }
    return 0;
}

static int router_run(int argc, char **argv)
{
    struct router_args a;
    struct catalog *cat = NULL;
    struct err e;
    int ch, rc = 0;

    defaults(&a);
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", router_opts, NULL)) != -1)
        rc = take_opt(&a, ch, optarg);
    if (rc == 0 && optind != argc)
        rc = bad_opt("router", argv[optind], "takes no arguments (options only)");
    if (rc == 0)
        rc = cli_load_catalog(a.catalog, &cat);
    if (rc == 0)
        rc = check_args(&a, cat);
    if (rc == 0 && a.c.api != NULL)
        rc = read_token(&a);
    if (rc == 0) {
        a.c.host = a.host;
        a.c.cloud = a.cloud;
        a.c.region = a.region;
        a.c.token = a.token;
        a.c.cat = cat;
        err_clear(&e);
        if (rt_run(&a.c, &e) != 0)
            rc = cli_fail(&e);
    }
    if (cat)
        catalog_free(cat);
    free(a.host);
    free(a.cloud);
    free(a.region);
    free(a.token);
    return rc;
}

const struct cli_cmd cli_cmd_router = {"router", "proxy requests to a service's replicas",
                                       router_run, router_usage};
