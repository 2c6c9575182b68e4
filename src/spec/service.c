/*
 * service.c - read the `service:` section of a spec and `stratus: service:`.
 *
 * Walks the positioned YAML tree (util/yamlx.h) once and fills a struct
 * svc_spec; the first problem stops the walk with "file:line:col: cause
 * (what to do)", unknown keys get a did-you-mean (ymap_check_keys()).
 *
 * Layout, top to bottom:
 *   context and small checks       the walk's state, URL paths, numbers
 *   readiness_probe                path, post_data (YAML -> JSON), headers
 *   replicas and replica_policy    counts, target QPS (per accelerator), delays
 *   the other service keys         load_balancing_policy, ports, tls
 *   key tables                     each section's keys and their parsers
 *   stratus: service:              users by region, SLO, scale-to-zero
 *   svc_parse(), svc_parse_stratus()  the entry points
 *   freeing and queries            svc_spec_free(), svc_target_qps()
 *
 * SkyPilot semantics kept (facts from its service schema and service_spec):
 * readiness_probe defaults to "/", its path must start with '/', a text
 * post_data must be JSON, replica_policy needs min_replicas, max_replicas
 * defaults to min_replicas, target_qps_per_replica needs max_replicas,
 * `replicas` and `replica_policy`
 * exclude each other, load_balancing_policy is matched ignoring case, ports is
 * one port in 1..65535 and wins over resources.ports.  SkyPilot also wants
 * target_qps_per_replica when min < max; its examples do not always give it,
 * so that is a warning here.
 */
#include "service.h"

#include "../util/strutil.h"
#include "../util/xmem.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_LEN 2048   /* a probe path */
#define HEADER_MAX_LEN 8192 /* one header value */
#define ACC_MAX_LEN 64      /* an accelerator name */
#define MAX_QPS 1e6
#define MAX_DELAY_S (30.0 * 86400) /* a month: anything longer is a typo */
#define MAX_PROBE_TIMEOUT_S 3600.0
#define MAX_WAIT_S 3600.0 /* a request held longer is lost anyway */
#define MAX_SLO_MS 600000.0
#define SHARE_SLACK 0.01 /* users' shares may sum to 1 +- this */
#define VIS_LEN 64

/* ------------------------------------------------------------------------ */
/* Context and small checks                                                  */

struct sctx {
    const struct ydoc *d;
    struct svc_spec *sv;
    svc_warn_fn *warn;
    void *warn_arg;
    char vis[2][VIS_LEN + 8]; /* rotating buffers for vis() */
    unsigned visn;
};

typedef int sfield_fn(struct sctx *c, const struct ynode *n, struct err *e);

/* User text made safe to quote in a message (two buffers: two per message). */
static const char *vis(struct sctx *c, const char *s)
{
    return str_vis(c->vis[c->visn++ % 2], VIS_LEN + 4, s);
}

static void swarn(struct sctx *c, const struct ynode *at, const char *msg)
{
    if (c->warn != NULL)
        c->warn(c->warn_arg, at, msg);
}

/* A URL path as a probe sends it: '/' first, printable ASCII. */
static int get_path(struct sctx *c, const struct ynode *n, const char *what, char **out,
                    struct err *e)
{
    const char *s;
    int rc = yget_str(c->d, n, what, &s, e);

    if (rc != 0)
        return rc;
    if (s[0] != '/')
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s '%s' must start with '/' (a path on the replica, e.g. /health)",
                    what, vis(c, s));
    if (strlen(s) > PATH_MAX_LEN)
        return yerr(c->d, n, ST_EINVAL, e, "%s is longer than %d characters", what,
                    PATH_MAX_LEN);
    /* It goes into a request line: printable ASCII only. */
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return yerr(c->d, n, ST_EINVAL, e,
                        "%s '%s' has a blank, control or non-ASCII character "
                        "(percent-encode it, e.g. %%20 for a space)",
                        what, vis(c, s));
    }
    free(*out);
    *out = xstrdup(s);
    return 0;
}

/* fn on n unless n is absent or null ("not given"). */
static int opt(struct sctx *c, const struct ynode *n, sfield_fn *fn, struct err *e)
{
    return ynode_is_null(n) ? 0 : fn(c, n, e);
}

/* A whole number in [min, max] into an int. */
static int get_int(struct sctx *c, const struct ynode *n, const char *what, long min,
                   long max, int *out, struct err *e)
{
    long v;
    int rc = yget_long(c->d, n, what, min, max, &v, e);

    if (rc == 0)
        *out = (int)v;
    return rc;
}

/* Seconds as a plain number (SkyPilot writes them so), in [0, max]. */
static int get_secs(struct sctx *c, const struct ynode *n, const char *what, double max,
                    double *out, struct err *e)
{
    return yget_double(c->d, n, what, 0, max, out, e);
}

/* n must be a mapping of known keys only (did-you-mean for the others). */
static int check_map(struct sctx *c, const struct ynode *n, const char *const *known,
                     const char *where, struct err *e)
{
    int rc = yexpect(c->d, n, Y_MAP, where, e);

    return rc == 0 ? ymap_check_keys(c->d, n, known, where, e) : rc;
}

/* ------------------------------------------------------------------------ */
/* readiness_probe                                                           */

/* Plain YAML words PyYAML (SkyPilot's loader) reads as booleans. */
static int yaml_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};

    for (size_t i = 0; yes[i]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
    }
    for (size_t i = 0; no[i]; i++) {
        if (strcmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* A plain scalar as the JSON value a YAML loader would give: null, a
 * boolean, an integer, a real, else a string.  Numbers are decimal only
 * ("0x10" stays text, as it would for a JSON reader). */
static json_t *json_scalar(const struct ynode *n)
{
    long l;
    double v;
    int b;

    if (ynode_is_null(n))
        return json_null();
    if (!n->plain)
        return json_string(n->str);
    if (yaml_bool(n->str, &b))
        return json_boolean(b);
    if (strspn(n->str, "0123456789+-.eE") != strlen(n->str))
        return json_string(n->str);
    if (str_to_long(n->str, LONG_MIN, LONG_MAX, &l) == 0)
        return json_integer(l);
    if (str_to_double(n->str, &v) == 0)
        return json_real(v);
    return json_string(n->str);
}

/* Any YAML node as a new JSON value; NULL when text is not UTF-8 (libyaml
 * checks its input, so this is defensive). */
static json_t *json_from_node(const struct ynode *n)
{
    json_t *j;

    if (n == NULL || n->type == Y_NULL || n->type == Y_SCALAR)
        return n && n->type == Y_SCALAR ? json_scalar(n) : json_null();
    j = n->type == Y_MAP ? json_object() : json_array();
    for (size_t i = 0; i < n->n; i++) {
        json_t *v = json_from_node(n->items[i]);
        int bad = v == NULL;

        if (!bad && n->type == Y_MAP)
            bad = json_object_set_new(j, n->keys[i]->str, v) != 0;
        else if (!bad)
            bad = json_array_append_new(j, v) != 0;
        if (bad) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* post_data: a YAML mapping/list becomes JSON; text must already be JSON
 * (SkyPilot json.loads() it).  Stored compact. */
static int probe_post_data(struct sctx *c, const struct ynode *n, struct err *e)
{
    const char *what = "service.readiness_probe.post_data";
    json_error_t jerr;
    json_t *j;
    char *text;

    if (n->type == Y_SCALAR && !ynode_is_null(n)) {
        j = json_loads(n->str, JSON_DECODE_ANY, &jerr);
        if (j == NULL)
            return yerr(c->d, n, ST_EINVAL, e,
                        "%s is text but not JSON (%s) (write it as a YAML mapping, e.g. "
                        "post_data: {model: m}, or as JSON text)",
                        what, vis(c, jerr.text));
    } else {
        j = json_from_node(n);
        if (j == NULL)
            return yerr(c->d, n, ST_EINVAL, e, "%s is not valid UTF-8", what);
    }
    text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (text == NULL || strlen(text) > SVC_MAX_POST_DATA) {
        free(text);
        return yerr(c->d, n, ST_ETOOBIG, e, "%s is larger than %d bytes as JSON", what,
                    SVC_MAX_POST_DATA);
    }
    c->sv->probe.post_data = xstrdup(text);
    free(text);
    return 0;
}

/* An HTTP header name: RFC 9110 token characters. */
static int header_name_ok(const char *s)
{
    if (*s == '\0' || strlen(s) > 256)
        return 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
            return 0;
    }
    return 1;
}

/* A header value: one line (tabs allowed), so it cannot smuggle a header. */
static int header_value_ok(const char *s)
{
    for (; *s; s++) {
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 0;
    }
    return 1;
}

static int header_one(struct sctx *c, const struct ynode *k, const struct ynode *v,
                      struct err *e)
{
    struct svc_probe *p = &c->sv->probe;
    char what[320]; /* header names are at most 256 bytes */
    const char *val;
    int rc;

    if (!header_name_ok(k->str))
        return yerr(c->d, k, ST_EINVAL, e,
                    "service.readiness_probe.headers: '%s' is not a header name "
                    "(letters, digits and !#$%%&'*+-.^_`|~ only)",
                    vis(c, k->str));
    for (size_t i = 0; i < p->nheaders; i++) {
        if (strcasecmp(p->headers[i].name, k->str) == 0)
            return yerr(c->d, k, ST_EINVAL, e,
                        "service.readiness_probe.headers: '%s' is given twice (header "
                        "names ignore case)",
                        vis(c, k->str));
    }
    snprintf(what, sizeof(what), "service.readiness_probe.headers.%s", k->str);
    rc = yget_str(c->d, v, what, &val, e);
    if (rc != 0)
        return rc;
    if (!header_value_ok(val) || strlen(val) > HEADER_MAX_LEN)
        return yerr(c->d, v, ST_EINVAL, e, "%s must be one line of at most %d characters",
                    what, HEADER_MAX_LEN);
    p->headers[p->nheaders].name = xstrdup(k->str);
    p->headers[p->nheaders++].value = xstrdup(val);
    return 0;
}

static int probe_headers(struct sctx *c, const struct ynode *n, struct err *e)
{
    int rc = yexpect(c->d, n, Y_MAP, "service.readiness_probe.headers", e);

    if (rc != 0)
        return rc;
    if (n->n > SVC_MAX_HEADERS)
        return yerr(c->d, n, ST_ETOOBIG, e,
                    "service.readiness_probe.headers has %zu entries; at most %d", n->n,
                    SVC_MAX_HEADERS);
    c->sv->probe.headers = xcalloc(n->n ? n->n : 1, sizeof(struct svc_header));
    for (size_t i = 0; rc == 0 && i < n->n; i++)
        rc = header_one(c, n->keys[i], n->items[i], e);
    return rc;
}

static int probe_delay(struct sctx *c, const struct ynode *n, struct err *e)
{
    return get_secs(c, n, "service.readiness_probe.initial_delay_seconds", MAX_DELAY_S,
                    &c->sv->probe.initial_delay_s, e);
}

static int probe_timeout(struct sctx *c, const struct ynode *n, struct err *e)
{
    int rc = get_secs(c, n, "service.readiness_probe.timeout_seconds",
                      MAX_PROBE_TIMEOUT_S, &c->sv->probe.timeout_s, e);

    if (rc == 0 && c->sv->probe.timeout_s <= 0)
        return yerr(c->d, n, ST_EINVAL, e,
                    "service.readiness_probe.timeout_seconds must be more than 0");
    return rc;
}

static int probe_map(struct sctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {
        "path", "post_data", "headers", "timeout_seconds", "initial_delay_seconds", NULL};
    struct svc_probe *p = &c->sv->probe;
    const struct ynode *v;
    int rc = check_map(c, n, keys, "service.readiness_probe", e);

    if (rc != 0)
        return rc;
    v = ymap_get(n, "path");
    if (ynode_is_null(v))
        return yerr(c->d, n, ST_EINVAL, e,
                    "service.readiness_probe has no path (add path: /health, the URL "
                    "path that answers 200 when the replica is ready)");
    rc = get_path(c, v, "service.readiness_probe.path", &p->path, e);
    if (rc == 0)
        rc = opt(c, ymap_get(n, "post_data"), probe_post_data, e);
    if (rc == 0)
        rc = opt(c, ymap_get(n, "headers"), probe_headers, e);
    if (rc == 0)
        rc = opt(c, ymap_get(n, "initial_delay_seconds"), probe_delay, e);
    if (rc == 0)
        rc = opt(c, ymap_get(n, "timeout_seconds"), probe_timeout, e);
    return rc;
}

static int sv_probe(struct sctx *c, const struct ynode *n, struct err *e)
{
    if (n->type == Y_SCALAR)
        return get_path(c, n, "service.readiness_probe", &c->sv->probe.path, e);
    if (n->type != Y_MAP)
        return yerr(c->d, n, ST_EPARSE, e,
                    "service.readiness_probe must be a path (/health) or a mapping "
                    "{path: ..., post_data: ..., ...}, not %s",
                    ynode_type_name(n->type));
    return probe_map(c, n, e);
}

/* ------------------------------------------------------------------------ */
/* replicas and replica_policy                                               */

static int sv_replicas(struct sctx *c, const struct ynode *n, struct err *e)
{
    struct svc_spec *sv = c->sv;
    int rc =
        get_int(c, n, "service.replicas", 0, SVC_MAX_REPLICAS, &sv->fixed_replicas, e);

    if (rc == 0 && sv->fixed_replicas == 0)
        return yerr(c->d, n, ST_EINVAL, e,
                    "service.replicas must be at least 1 (to scale to zero, use "
                    "replica_policy: {min_replicas: 0, max_replicas: N, "
                    "target_qps_per_replica: Q})");
    sv->min_replicas = sv->max_replicas = sv->fixed_replicas;
    return rc;
}

/* "H100" or "H100:1" -> "H100" in buf; -1 when it is not an accelerator name. */
static int acc_name(const char *s, char *buf, size_t n)
{
    size_t len = strcspn(s, ":");
    long count;

    if (len == 0 || len >= n)
        return -1;
    if (s[len] == ':' && str_to_long(s + len + 1, 1, 1024, &count) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && strchr("-_.", s[i]) == NULL)
            return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

static int qps_value(struct sctx *c, const struct ynode *n, const char *what, double *out,
                     struct err *e)
{
    int rc = yget_double(c->d, n, what, 0, MAX_QPS, out, e);

    if (rc == 0 && *out <= 0)
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s must be more than 0 (requests per second one replica serves)",
                    what);
    return rc;
}

static int qps_entry(struct sctx *c, const struct ynode *k, const struct ynode *v,
                     struct err *e)
{
    const char *what = "service.replica_policy.target_qps_per_replica";
    struct svc_spec *sv = c->sv;
    char name[ACC_MAX_LEN], vwhat[ACC_MAX_LEN + 64];
    double q;
    int rc;

    if (acc_name(k->str, name, sizeof(name)) != 0)
        return yerr(
            c->d, k, ST_EINVAL, e,
            "%s: '%s' is not an accelerator (write e.g. H100: 10 or 'H100:1': 10)", what,
            vis(c, k->str));
    for (size_t i = 0; i < sv->ntarget_qps; i++) {
        if (strcasecmp(sv->target_qps[i].accelerator, name) == 0)
            return yerr(c->d, k, ST_EINVAL, e, "%s: %s is given twice", what, name);
    }
    snprintf(vwhat, sizeof(vwhat), "%s.%s", what, name);
    rc = qps_value(c, v, vwhat, &q, e);
    if (rc != 0)
        return rc;
    sv->target_qps[sv->ntarget_qps].accelerator = xstrdup(name);
    sv->target_qps[sv->ntarget_qps++].qps = q;
    return 0;
}

/* A number (any accelerator) or a mapping accelerator -> number. */
static int policy_qps(struct sctx *c, const struct ynode *n, struct err *e)
{
    const char *what = "service.replica_policy.target_qps_per_replica";
    struct svc_spec *sv = c->sv;
    int rc;

    if (n->type == Y_SCALAR) {
        sv->target_qps = xcalloc(1, sizeof(*sv->target_qps));
        rc = qps_value(c, n, what, &sv->target_qps[0].qps, e);
        if (rc == 0)
            sv->ntarget_qps = 1;
        return rc;
    }
    if (n->type != Y_MAP || n->n == 0)
        return yerr(c->d, n, ST_EPARSE, e,
                    "%s must be a number or a mapping of accelerators to numbers "
                    "({H100: 10, L4: 2}), not %s",
                    what,
                    n->type == Y_MAP ? "an empty mapping" : ynode_type_name(n->type));
    sv->target_qps = xcalloc(n->n, sizeof(*sv->target_qps));
    rc = 0;
    for (size_t i = 0; rc == 0 && i < n->n; i++)
        rc = qps_entry(c, n->keys[i], n->items[i], e);
    return rc;
}

/* The fields of replica_policy that are one plain value each. */
enum nkind { N_INT, N_BOOL, N_SECS };

struct nfield {
    const char *key;
    enum nkind kind;
    size_t off; /* of the int or double in struct svc_spec */
};

static const struct nfield nfields[] = {
    {"max_replicas", N_INT, offsetof(struct svc_spec, max_replicas)},
    {"num_overprovision", N_INT, offsetof(struct svc_spec, overprovision)},
    {"base_ondemand_fallback_replicas", N_INT, offsetof(struct svc_spec, base_ondemand)},
    {"dynamic_ondemand_fallback", N_BOOL, offsetof(struct svc_spec, dynamic_ondemand)},
    {"upscale_delay_seconds", N_SECS, offsetof(struct svc_spec, upscale_delay_s)},
    {"downscale_delay_seconds", N_SECS, offsetof(struct svc_spec, downscale_delay_s)},
};
#define NNFIELDS (sizeof(nfields) / sizeof(nfields[0]))

static int policy_field(struct sctx *c, const struct nfield *f, const struct ynode *v,
                        struct err *e)
{
    char what[96];
    char *at = (char *)c->sv + f->off;

    snprintf(what, sizeof(what), "service.replica_policy.%s", f->key);
    switch (f->kind) {
    case N_INT:
        return get_int(c, v, what, 0, SVC_MAX_REPLICAS, (int *)(void *)at, e);
    case N_BOOL:
        return yget_bool(c->d, v, what, (int *)(void *)at, e);
    default:
        return get_secs(c, v, what, MAX_DELAY_S, (double *)(void *)at, e);
    }
}

/* Accepted, not honoured: SkyPilot's spot placer names its own algorithm. */
static int policy_placer(struct sctx *c, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc = yget_str(c->d, n, "service.replica_policy.spot_placer", &s, e);

    if (rc == 0)
        swarn(c, n,
              "service.replica_policy.spot_placer is not honoured (Stratus spreads spot "
              "replicas over zones, regions and clouds itself)");
    return rc;
}

static int policy_numbers(struct sctx *c, const struct ynode *n, struct err *e)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < NNFIELDS; i++) {
        const struct ynode *v = ymap_get(n, nfields[i].key);

        if (!ynode_is_null(v))
            rc = policy_field(c, &nfields[i], v, e);
    }
    if (rc == 0)
        rc = opt(c, ymap_get(n, "target_qps_per_replica"), policy_qps, e);
    if (rc == 0)
        rc = opt(c, ymap_get(n, "spot_placer"), policy_placer, e);
    return rc;
}

static void policy_no_qps_warn(struct sctx *c, const struct ynode *n)
{
    char msg[320];

    snprintf(msg, sizeof(msg),
             "service.replica_policy has no target_qps_per_replica: the replica count is "
             "not scaled on request rate between min_replicas (%d) and max_replicas (%d) "
             "(add target_qps_per_replica: N to autoscale on load)",
             c->sv->min_replicas, c->sv->max_replicas);
    swarn(c, n, msg);
}

/* min <= max, max >= 1, and autoscaling only with a target QPS (SkyPilot). */
static int policy_check(struct sctx *c, const struct ynode *n, struct err *e)
{
    const char *p = "service.replica_policy";
    struct svc_spec *sv = c->sv;
    const struct ynode *max = ymap_get(n, "max_replicas");

    if (ynode_is_null(max) && sv->ntarget_qps > 0)
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s sets target_qps_per_replica but no max_replicas (add "
                    "max_replicas: the most replicas autoscaling may start)",
                    p);
    if (ynode_is_null(max))
        sv->max_replicas = sv->min_replicas;
    if (sv->max_replicas < sv->min_replicas)
        return yerr(c->d, max, ST_EINVAL, e,
                    "%s.max_replicas (%d) is less than min_replicas (%d)", p,
                    sv->max_replicas, sv->min_replicas);
    if (sv->max_replicas == 0)
        return yerr(c->d, ynode_is_null(max) ? n : max, ST_EINVAL, e,
                    "%s allows no replica at all (set max_replicas to 1 or more; "
                    "min_replicas: 0 already lets the service scale to zero)",
                    p);
    /* SkyPilot's own code refuses this, yet its published examples use it
     * (deepseek-r1: 0 to 2 without a target): accepted, with a warning. */
    if (sv->max_replicas != sv->min_replicas && sv->ntarget_qps == 0)
        policy_no_qps_warn(c, n);
    return 0;
}

static int sv_policy(struct sctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"min_replicas",
                                       "max_replicas",
                                       "target_qps_per_replica",
                                       "upscale_delay_seconds",
                                       "downscale_delay_seconds",
                                       "base_ondemand_fallback_replicas",
                                       "dynamic_ondemand_fallback",
                                       "num_overprovision",
                                       "spot_placer",
                                       NULL};
    const struct ynode *v;
    int rc = check_map(c, n, keys, "service.replica_policy", e);

    if (rc != 0)
        return rc;
    v = ymap_get(n, "min_replicas");
    if (ynode_is_null(v))
        return yerr(c->d, n, ST_EINVAL, e,
                    "service.replica_policy has no min_replicas (add min_replicas: the "
                    "fewest replicas to keep, 0 to allow scaling to zero)");
    c->sv->fixed_replicas = 0;
    rc = get_int(c, v, "service.replica_policy.min_replicas", 0, SVC_MAX_REPLICAS,
                 &c->sv->min_replicas, e);
    if (rc == 0)
        rc = policy_numbers(c, n, e);
    return rc == 0 ? policy_check(c, n, e) : rc;
}

/* ------------------------------------------------------------------------ */
/* The other service keys                                                    */

static const char *const lb_policies[] = {"nearest", "least_load", "round_robin",
                                          "instance_aware_least_load", NULL};

static int sv_lb(struct sctx *c, const struct ynode *n, struct err *e)
{
    const char *what = "service.load_balancing_policy", *s, *sug;
    int rc = yget_str(c->d, n, what, &s, e);

    if (rc != 0)
        return rc;
    for (size_t i = 0; lb_policies[i]; i++) {
        if (strcasecmp(s, lb_policies[i]) == 0) {
            free(c->sv->lb_policy);
            c->sv->lb_policy = xstrdup(lb_policies[i]);
            return 0;
        }
    }
    sug = str_suggest(s, lb_policies);
    if (sug != NULL)
        return yerr(c->d, n, ST_EINVAL, e, "%s '%s' is not a policy (did you mean '%s'?)",
                    what, vis(c, s), sug);
    return yerr(c->d, n, ST_EINVAL, e,
                "%s '%s' is not a policy (nearest, least_load, round_robin or "
                "instance_aware_least_load)",
                what, vis(c, s));
}

static int sv_ports(struct sctx *c, const struct ynode *n, struct err *e)
{
    return get_int(c, n, "service.ports", 1, 65535, &c->sv->port, e);
}

static int sv_tls(struct sctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"keyfile", "certfile", NULL};
    char what[32];
    const char *s;
    int rc = check_map(c, n, keys, "service.tls", e);

    for (size_t i = 0; rc == 0 && keys[i]; i++) {
        if (ynode_is_null(ymap_get(n, keys[i])))
            return yerr(c->d, n, ST_EINVAL, e,
                        "service.tls needs both keyfile and certfile");
        snprintf(what, sizeof(what), "service.tls.%s", keys[i]);
        rc = yget_str(c->d, ymap_get(n, keys[i]), what, &s, e);
    }
    if (rc != 0)
        return rc;
    swarn(c, n,
          "service.tls is not honoured yet (the router serves plain HTTP; put a TLS "
          "proxy in front of it)");
    return 0;
}

/* The first port of resources.ports (8080, "8080", "8000-8010" or a list of
 * those); 0 when it gives none. */
static int resources_port(const struct ynode *res)
{
    const struct ynode *p = ymap_get(res, "ports");
    long v;

    if (p != NULL && p->type == Y_SEQ)
        p = p->n > 0 ? p->items[0] : NULL;
    if (p == NULL || p->type != Y_SCALAR)
        return 0;
    if (str_to_long(p->str, 1, 65535, &v) == 0)
        return (int)v;
    if (strchr(p->str, '-') != NULL) {
        char buf[16];

        snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p->str, "-"), p->str);
        if (str_to_long(buf, 1, 65535, &v) == 0)
            return (int)v;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Key tables                                                                */

struct svkey {
    const char *key;
    sfield_fn *parse;
};

static const struct svkey svkeys[] = {
    {"readiness_probe", sv_probe}, {"replicas", sv_replicas},
    {"replica_policy", sv_policy}, {"load_balancing_policy", sv_lb},
    {"ports", sv_ports},           {"tls", sv_tls},
};
#define NSVKEYS (sizeof(svkeys) / sizeof(svkeys[0]))

/* Check n's keys against the table, then parse each non-null value in file
 * order with its key's function. */
static int parse_table(struct sctx *c, const struct ynode *n, const struct svkey *keys,
                       size_t nkeys, const char *where, struct err *e)
{
    const char *names[16];
    int rc;

    BUG_ON(nkeys >= sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < nkeys; i++)
        names[i] = keys[i].key;
    names[nkeys] = NULL;
    rc = check_map(c, n, names, where, e);
    for (size_t i = 0; rc == 0 && i < n->n; i++) {
        for (size_t k = 0; rc == 0 && k < nkeys; k++) {
            if (strcmp(n->keys[i]->str, keys[k].key) == 0)
                rc = opt(c, n->items[i], keys[k].parse, e);
        }
    }
    return rc;
}

/* A key of the other section written in this one gets a pointer to the right
 * place rather than a did-you-mean. */
static int misplaced(struct sctx *c, const struct ynode *n, const struct svkey *other,
                     size_t nother, const char *here, const char *there, struct err *e)
{
    for (size_t i = 0; n->type == Y_MAP && i < n->n; i++) {
        for (size_t k = 0; k < nother; k++) {
            if (strcmp(n->keys[i]->str, other[k].key) == 0)
                return yerr(c->d, n->keys[i], ST_EPARSE, e,
                            "'%s' belongs under '%s', not '%s' (%s: {%s: ...})",
                            other[k].key, there, here, there, other[k].key);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* stratus: service:                                                         */

/* "50%" -> 0.5; -1 when the text is not a percentage. */
static int percent(const char *s, double *out)
{
    char buf[64];
    size_t len = strlen(s);

    if (len < 2 || len >= sizeof(buf) || s[len - 1] != '%')
        return -1;
    memcpy(buf, s, len - 1);
    buf[len - 1] = '\0';
    if (str_to_double(buf, out) != 0)
        return -1;
    *out /= 100;
    return 0;
}

/* A share of the traffic, 0.5 or "50%", in (0, 1]. */
static int share_value(struct sctx *c, const struct ynode *n, const char *what,
                       double *out, struct err *e)
{
    int rc = yexpect(c->d, n, Y_SCALAR, what, e);

    if (rc != 0)
        return rc;
    if (percent(n->str, out) == 0 && !(*out > 0 && *out <= 1))
        return yerr(c->d, n, ST_EINVAL, e, "%s must be more than 0%% and at most 100%%",
                    what);
    if (percent(n->str, out) == 0)
        return 0;
    if (str_to_double(n->str, out) != 0 || !(*out > 0 && *out <= 1))
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s must be a share of the traffic: a fraction in (0, 1] or a "
                    "percentage such as 40%%, not '%s'",
                    what, vis(c, n->str));
    return 0;
}

/* A "cloud/region" key of users: two words, the cloud lower-cased. */
static int user_loc(struct sctx *c, const struct ynode *k, struct svc_share *u,
                    struct err *e)
{
    const char *s = k->str, *slash = strchr(s, '/');
    size_t clen = slash ? (size_t)(slash - s) : 0;
    int ok =
        slash != NULL && clen > 0 && slash[1] != '\0' && strchr(slash + 1, '/') == NULL;

    for (const char *p = s; ok && *p; p++)
        ok = p == slash || isalnum((unsigned char)*p) || strchr("-_.", *p) != NULL;
    if (!ok || strlen(s) > 128)
        return yerr(c->d, k, ST_EINVAL, e,
                    "stratus.service.users: '%s' is not a cloud region (write it as "
                    "cloud/region, e.g. 'azure/eastus': 0.5)",
                    vis(c, s));
    u->cloud = xstrndup(s, clen);
    for (char *p = u->cloud; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    u->region = xstrdup(slash + 1);
    return 0;
}

static int user_one(struct sctx *c, const struct ynode *k, const struct ynode *v,
                    struct err *e)
{
    struct svc_spec *sv = c->sv;
    struct svc_share *u = &sv->users[sv->nusers];
    char what[192];
    int rc;

    rc = user_loc(c, k, u, e);
    if (rc != 0)
        return rc;
    sv->nusers++; /* owned from here on, whatever follows */
    for (size_t i = 0; i + 1 < sv->nusers; i++) {
        if (strcmp(sv->users[i].cloud, u->cloud) == 0 &&
            strcasecmp(sv->users[i].region, u->region) == 0)
            return yerr(c->d, k, ST_EINVAL, e,
                        "stratus.service.users: %s/%s is given twice", u->cloud,
                        vis(c, u->region));
    }
    snprintf(what, sizeof(what), "stratus.service.users.%s/%s", u->cloud,
             vis(c, u->region));
    return share_value(c, v, what, &u->share, e);
}

static int st_users(struct sctx *c, const struct ynode *n, struct err *e)
{
    struct svc_spec *sv = c->sv;
    double sum = 0;
    int rc = yexpect(c->d, n, Y_MAP, "stratus.service.users", e);

    if (rc != 0)
        return rc;
    if (n->n == 0 || n->n > SVC_MAX_USERS)
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.service.users must list 1 to %d regions, not %zu",
                    SVC_MAX_USERS, n->n);
    sv->users = xcalloc(n->n, sizeof(*sv->users));
    for (size_t i = 0; rc == 0 && i < n->n; i++) {
        rc = user_one(c, n->keys[i], n->items[i], e);
        sum += sv->users[i].share;
    }
    if (rc != 0)
        return rc;
    if (fabs(sum - 1) > SHARE_SLACK)
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.service.users shares sum to %.3g; they are the fractions of "
                    "the traffic from each region and must sum to 1",
                    sum);
    return 0;
}

static int st_slo(struct sctx *c, const struct ynode *n, struct err *e)
{
    int rc = yget_double(c->d, n, "stratus.service.latency_slo_ms", 0, MAX_SLO_MS,
                         &c->sv->latency_slo_ms, e);

    if (rc == 0 && c->sv->latency_slo_ms <= 0)
        return yerr(
            c->d, n, ST_EINVAL, e,
            "stratus.service.latency_slo_ms must be more than 0 (leave it out for "
            "no objective)");
    return rc;
}

static int st_overprovision(struct sctx *c, const struct ynode *n, struct err *e)
{
    return get_int(c, n, "stratus.service.spot_overprovision", 0, SVC_MAX_REPLICAS,
                   &c->sv->overprovision, e);
}

static int st_zero(struct sctx *c, const struct ynode *n, struct err *e)
{
    static const char *const modes[] = {"wait", "reject", NULL};
    const char *what = "stratus.service.when_scaled_to_zero", *s, *sug;
    int rc = yget_str(c->d, n, what, &s, e);

    if (rc != 0)
        return rc;
    if (strcmp(s, "wait") == 0 || strcmp(s, "reject") == 0) {
        c->sv->reject_when_zero = strcmp(s, "reject") == 0;
        return 0;
    }
    sug = str_suggest(s, modes);
    if (sug != NULL)
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s must be wait or reject, not '%s' (did you mean '%s'?)", what,
                    vis(c, s), sug);
    return yerr(c->d, n, ST_EINVAL, e,
                "%s must be wait (hold requests until a replica is ready) or reject "
                "(answer 503 with Retry-After), not '%s'",
                what, vis(c, s));
}

static int st_wait(struct sctx *c, const struct ynode *n, struct err *e)
{
    return get_secs(c, n, "stratus.service.max_wait_seconds", MAX_WAIT_S,
                    &c->sv->max_wait_s, e);
}

static const struct svkey stkeys[] = {
    {"users", st_users},
    {"latency_slo_ms", st_slo},
    {"spot_overprovision", st_overprovision},
    {"when_scaled_to_zero", st_zero},
    {"max_wait_seconds", st_wait},
};
#define NSTKEYS (sizeof(stkeys) / sizeof(stkeys[0]))

/* ------------------------------------------------------------------------ */
/* svc_parse()                                                               */

static struct svc_spec *svc_new(size_t line)
{
    struct svc_spec *sv = xcalloc(1, sizeof(*sv));

    sv->probe.initial_delay_s = SVC_DEFAULT_INITIAL_DELAY_S;
    sv->probe.timeout_s = SVC_DEFAULT_PROBE_TIMEOUT_S;
    sv->fixed_replicas = sv->min_replicas = sv->max_replicas = 1;
    sv->upscale_delay_s = SVC_DEFAULT_UPSCALE_DELAY_S;
    sv->downscale_delay_s = SVC_DEFAULT_DOWNSCALE_DELAY_S;
    sv->max_wait_s = SVC_DEFAULT_MAX_WAIT_S;
    sv->line = line;
    return sv;
}

static int svc_fields(struct sctx *c, const struct ynode *n, struct err *e)
{
    const struct ynode *fixed = ymap_get(n, "replicas"),
                       *pol = ymap_get(n, "replica_policy");
    int rc;

    /* Checked first: which of the two is wrong depends on neither's value. */
    if (!ynode_is_null(fixed) && !ynode_is_null(pol))
        return yerr(c->d, fixed->line > pol->line ? fixed : pol, ST_EINVAL, e,
                    "service has both replicas and replica_policy (keep one: replicas: N "
                    "for a fixed count, replica_policy for autoscaling)");
    rc = misplaced(c, n, stkeys, NSTKEYS, "service", "stratus: service", e);
    return rc == 0 ? parse_table(c, n, svkeys, NSVKEYS, "service", e) : rc;
}

int svc_parse(const struct ydoc *d, const struct ynode *key, const struct ynode *n,
              const struct ynode *resources, svc_warn_fn *warn, void *warn_arg,
              struct svc_spec **out, struct err *e)
{
    struct sctx c;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.d = d;
    c.warn = warn;
    c.warn_arg = warn_arg;
    if (ynode_is_null(n) || n->type != Y_MAP)
        return yerr(d, ynode_is_null(n) ? key : n, ST_EPARSE, e,
                    "service must be a mapping (e.g. service: {readiness_probe: /health, "
                    "replicas: 2}), not %s",
                    ynode_is_null(n) ? "empty" : ynode_type_name(n->type));
    c.sv = svc_new(key != NULL ? key->line : n->line);
    rc = svc_fields(&c, n, e);
    if (rc != 0) {
        svc_spec_free(c.sv);
        return rc;
    }
    if (c.sv->probe.path == NULL)
        c.sv->probe.path = xstrdup("/");
    if (c.sv->lb_policy == NULL)
        c.sv->lb_policy = xstrdup("nearest");
    if (c.sv->port == 0)
        c.sv->port = resources_port(resources);
    c.sv->port_declared = c.sv->port != 0;
    if (c.sv->port == 0)
        c.sv->port = SVC_DEFAULT_PORT;
    *out = c.sv;
    return 0;
}

int svc_parse_stratus(const struct ydoc *d, const struct ynode *n, struct svc_spec *sv,
                      struct err *e)
{
    struct sctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.d = d;
    c.sv = sv;
    rc = misplaced(&c, n, svkeys, NSVKEYS, "stratus: service", "service", e);
    return rc == 0 ? parse_table(&c, n, stkeys, NSTKEYS, "stratus.service", e) : rc;
}

/* ------------------------------------------------------------------------ */
/* Freeing and queries                                                       */

void svc_spec_free(struct svc_spec *sv)
{
    if (sv == NULL)
        return;
    free(sv->probe.path);
    free(sv->probe.post_data);
    for (size_t i = 0; i < sv->probe.nheaders; i++) {
        free(sv->probe.headers[i].name);
        free(sv->probe.headers[i].value);
    }
    free(sv->probe.headers);
    for (size_t i = 0; i < sv->ntarget_qps; i++)
        free(sv->target_qps[i].accelerator);
    free(sv->target_qps);
    for (size_t i = 0; i < sv->nusers; i++) {
        free(sv->users[i].cloud);
        free(sv->users[i].region);
    }
    free(sv->users);
    free(sv->lb_policy);
    free(sv);
}

double svc_named_qps(const struct svc_spec *sv, const char *accelerator)
{
    for (size_t i = 0; sv != NULL && accelerator != NULL && i < sv->ntarget_qps; i++)
        if (sv->target_qps[i].accelerator != NULL &&
            strcasecmp(sv->target_qps[i].accelerator, accelerator) == 0)
            return sv->target_qps[i].qps;
    return 0;
}

double svc_target_qps(const struct svc_spec *sv, const char *accelerator)
{
    double named = svc_named_qps(sv, accelerator);

    for (size_t i = 0; named == 0 && i < sv->ntarget_qps; i++)
        if (sv->target_qps[i].accelerator == NULL)
            return sv->target_qps[i].qps; /* the one for any accelerator */
    return named;
}

/* Does text read shell variable `name` ($NAME or ${NAME...})? */
static int reads_var(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strchr(text, '$'); p != NULL; p = strchr(p + 1, '$')) {
        const char *v = p[1] == '{' ? p + 2 : p + 1;

        if (strncmp(v, name, n) == 0 && !isalnum((unsigned char)v[n]) && v[n] != '_')
            return 1;
    }
    return 0;
}

int svc_port_fixed(const struct svc_spec *sv, const char *run)
{
    if (sv == NULL || !sv->port_declared)
        return 0;
    /* A command that reads $PORT listens where it is told (the local world
     * then gives it a free loopback port, as examples/serve-llm.yaml wants). */
    return run == NULL || (!reads_var(run, "PORT") && !reads_var(run, "STRATUS_SERVICE_PORT"));
}
