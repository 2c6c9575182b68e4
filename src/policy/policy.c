/*
 * policy.c - the organisation policy (see policy.h for the file format and
 * what each key means).
 *
 * Layout: the tables of names (clouds, continents, kinds, spot settings) and
 * their lookup with suggestions; location patterns; the list reader; one
 * reader per rule key; the coherence checks of a rule and of the rule order;
 * the loader; and last the questions the planner asks of a rule.
 *
 * Rules keep the plain arrays of strings declared in policy.h, and location
 * patterns are split again at each query: a policy has a handful of short
 * patterns, and keeping one representation keeps the struct honest.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#define POLICY_MAX_BYTES ((size_t)1 << 20) /* a policy is a page of YAML */
#define PART_MAX 128 /* bytes of one part of a location pattern, with its NUL */

/* A word people write for one of ours.  It is never accepted, only suggested:
 * one spelling per thing keeps policies greppable. */
struct alias {
    const char *word;
    const char *means;
    const char *why; /* said instead of "did you mean" when set */
};

/* The catalog's clouds (issue 15 added lambda and nebius). */
static const char *const cloud_names[] = {"azure",  "gcp",    "oci", "aws",
                                          "lambda", "nebius", NULL};
static const struct alias cloud_aliases[] = {
    {"oracle", "oci", NULL}, {"oraclecloud", "oci", NULL},
    {"google", "gcp", NULL}, {"googlecloud", "gcp", NULL},
    {"gce", "gcp", NULL},    {"microsoft", "azure", NULL},
    {"amazon", "aws", NULL}, {"ec2", "aws", NULL},
    {NULL, NULL, NULL},
};

/* The catalog's continents (catalog.h, struct region). */
static const char *const continent_names[] = {
    "africa",        "asia",    "europe",        "middle-east",
    "north-america", "oceania", "south-america", NULL,
};
static const struct alias continent_aliases[] = {
    {"eu", "europe",
     "continents are geographic: write europe, and deny the European regions "
     "outside the EU, as examples/policies/eu-data.yaml does"},
    {"apac", "asia", "APAC spans two continents: write [asia, oceania]"},
    {"us", "north-america", NULL},
    {"usa", "north-america", NULL},
    {"na", "north-america", NULL},
    {"australia", "oceania", NULL},
    {"me", "middle-east", NULL},
    {"latam", "south-america", NULL},
    {NULL, NULL, NULL},
};

/* Indexed by enum spec_kind.  Our own table rather than spec_kind_parse() so
 * that policy errors can explain the kinds people expect and do not find. */
static const char *const kind_names[] = {"train", "batch", "infer", NULL};
_Static_assert(SPEC_KIND_TRAIN == 0 && SPEC_KIND_BATCH == 1 && SPEC_KIND_INFER == 2 &&
                   SPEC_KIND__N == 3,
               "kind_names[] follows enum spec_kind");
#define EVAL_WHY                                                                         \
    "evaluation jobs are kind batch; to single them out, match their names, "            \
    "e.g. name: \"eval-*\""
static const struct alias kind_aliases[] = {
    {"eval", "batch", EVAL_WHY}, {"evaluation", "batch", EVAL_WHY},
    {"training", "train", NULL}, {"inference", "infer", NULL},
    {"serve", "infer", NULL},    {"serving", "infer", NULL},
    {NULL, NULL, NULL},
};

/* Indexed by enum policy_spot. */
static const char *const spot_names[] = {"allow", "require", "forbid", NULL};
static const struct alias spot_aliases[] = {
    {"true", "allow", NULL},   {"yes", "allow", NULL},    {"false", "forbid", NULL},
    {"no", "forbid", NULL},    {"never", "forbid", NULL}, {"always", "require", NULL},
    {"only", "require", NULL}, {NULL, NULL, NULL},
};

static int name_find(const char *s, const char *const *names)
{
    int i;

    for (i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const struct alias *alias_find(const struct alias *aliases, const char *s)
{
    for (; aliases->word; aliases++)
        if (strcasecmp(s, aliases->word) == 0)
            return aliases;
    return NULL;
}

/* names joined with ", " into buf (the tables above are short). */
static const char *join(char *buf, size_t size, const char *const *names)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; names[i]; i++) {
        int k = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", names[i]);

        BUG_ON(k < 0 || (size_t)k >= size - o);
        o += (size_t)k;
    }
    return buf;
}

/* "unknown cloud 'oracle' in allow (did you mean 'oci'?)", at n; `in` names
 * the key when the noun alone would not ("cloud" in allow, deny, prefer...). */
static int name_error(const struct ydoc *d, const struct ynode *n, const char *in,
                      const char *noun, const char *s, const char *const *names,
                      const struct alias *aliases, struct err *e)
{
    const struct alias *a = alias_find(aliases, s);
    const char *sug = a ? a->means : str_suggest(s, names);
    char where[64], known[160];

    snprintf(where, sizeof(where), "%s%s", in ? " in " : "", in ? in : "");
    if (a != NULL && a->why != NULL)
        return yerr(d, n, ST_EINVAL, e, "unknown %s '%s'%s (%s)", noun, s, where, a->why);
    if (sug != NULL)
        return yerr(d, n, ST_EINVAL, e, "unknown %s '%s'%s (did you mean '%s'?)", noun, s,
                    where, sug);
    return yerr(d, n, ST_EINVAL, e, "unknown %s '%s'%s (known: %s)", noun, s, where,
                join(known, sizeof(known), names));
}

/* The index in names of the scalar n, or a negative error code. */
static int name_index(const struct ydoc *d, const struct ynode *n, const char *field,
                      const char *noun, const char *const *names,
                      const struct alias *aliases, struct err *e)
{
    const char *s;
    int rc = yget_str(d, n, field, &s, e);

    if (rc != 0)
        return rc;
    rc = name_find(s, names);
    if (rc >= 0)
        return rc;
    return name_error(d, n, NULL, noun, s, names, aliases, e);
}

/* ---- location patterns ------------------------------------------------ */

/* Split a location pattern into its parts; how many (1 to 3), or -1 when it
 * has more, an empty part, or a part of PART_MAX bytes or more. */
static int pattern_split(const char *pat, char parts[3][PART_MAX])
{
    int n = 0;

    for (;;) {
        size_t len = strcspn(pat, "/");

        if (n == 3 || len == 0 || len >= PART_MAX)
            return -1;
        memcpy(parts[n], pat, len);
        parts[n++][len] = '\0';
        if (pat[len] == '\0')
            return n;
        pat += len + 1;
    }
}

int policy_location_match(const char *pattern, const char *cloud, const char *region,
                          const char *zone)
{
    char parts[3][PART_MAX];
    const char *loc[3];
    int n = pattern_split(pattern, parts), i;

    loc[0] = cloud ? cloud : "";
    loc[1] = region ? region : "";
    loc[2] = zone ? zone : "";
    for (i = 0; i < n; i++)
        if (!str_glob(parts[i], loc[i]))
            return 0;
    return n > 0;
}

/* Does the pattern's cloud part match cloud (whatever its other parts say)? */
static int pattern_names_cloud(const char *pattern, const char *cloud)
{
    char parts[3][PART_MAX];

    return pattern_split(pattern, parts) > 0 && str_glob(parts[0], cloud);
}

/* Does the pattern cover every location of cloud: "oci", "*", or "oci" followed
 * by parts that are all stars? */
static int pattern_covers_cloud(const char *pattern, const char *cloud)
{
    char parts[3][PART_MAX];
    int n = pattern_split(pattern, parts), i;

    if (n <= 0 || !str_glob(parts[0], cloud))
        return 0;
    for (i = 1; i < n; i++)
        if (parts[i][strspn(parts[i], "*")] != '\0')
            return 0;
    return 1;
}

/* A cloud part is a known cloud, or a glob that matches at least one. */
static int check_pattern_cloud(const struct ydoc *d, const struct ynode *n,
                               const char *field, const char *cloud, struct err *e)
{
    char known[160];
    int i;

    if (strpbrk(cloud, "*?") == NULL) {
        if (name_find(cloud, cloud_names) >= 0)
            return 0;
        return name_error(d, n, field, "cloud", cloud, cloud_names, cloud_aliases, e);
    }
    for (i = 0; cloud_names[i]; i++)
        if (str_glob(cloud, cloud_names[i]))
            return 0;
    return yerr(d, n, ST_EINVAL, e,
                "location pattern '%s' in %s matches no cloud (known: %s)", n->str, field,
                join(known, sizeof(known), cloud_names));
}

static int check_pattern(const struct ydoc *d, const struct ynode *n, const char *field,
                         struct err *e)
{
    char parts[3][PART_MAX];

    if (pattern_split(n->str, parts) < 0)
        return yerr(d, n, ST_EINVAL, e,
                    "bad location pattern '%s' in %s (write cloud, cloud/region or "
                    "cloud/region/zone, each part non-empty and under %d characters)",
                    n->str, field, PART_MAX);
    return check_pattern_cloud(d, n, field, parts[0], e);
}

/* ---- lists ------------------------------------------------------------ */

typedef int (*item_check_fn)(const struct ydoc *d, const struct ynode *n,
                             const char *field, struct err *e);

/* A list key takes one value or a list: item i of either form. */
static const struct ynode *list_item(const struct ynode *n, size_t i)
{
    return n->type == Y_SEQ ? n->items[i] : n;
}

static size_t list_len(const struct ynode *n)
{
    return n->type == Y_SEQ ? n->n : 1;
}

/* An empty list is refused where it would read as "nothing" to one reader and
 * as "no constraint" to another (allow, continents, match fields). */
static int list_shape(const struct ydoc *d, const struct ynode *n, const char *key,
                      int empty_ok, struct err *e)
{
    if (n->type == Y_MAP)
        return yerr(d, n, ST_EPARSE, e,
                    "%s must be one value or a list of values, not a mapping", key);
    if (n->type == Y_SEQ && n->n == 0 && !empty_ok)
        return yerr(d, n, ST_EINVAL, e,
                    "%s is an empty list; leave %s out to place no constraint", key, key);
    return 0;
}

static int check_word(const struct ydoc *d, const struct ynode *n, const char *field,
                      struct err *e)
{
    if (n->str[0] != '\0')
        return 0;
    return yerr(d, n, ST_EINVAL, e, "%s must not be empty", field);
}

static int check_cloud(const struct ydoc *d, const struct ynode *n, const char *field,
                       struct err *e)
{
    if (name_find(n->str, cloud_names) >= 0)
        return 0;
    return name_error(d, n, field, "cloud", n->str, cloud_names, cloud_aliases, e);
}

static int check_continent(const struct ydoc *d, const struct ynode *n, const char *field,
                           struct err *e)
{
    if (name_find(n->str, continent_names) >= 0)
        return 0;
    return name_error(d, n, field, "continent", n->str, continent_names,
                      continent_aliases, e);
}

/* Read map[key] - one string or a list of them, each passing check - into a
 * new array; *out and *nout stay valid for policy_free() on error. */
static int read_list(const struct ydoc *d, const struct ynode *map, const char *key,
                     item_check_fn check, int empty_ok, char ***out, size_t *nout,
                     struct err *e)
{
    const struct ynode *n = ymap_get(map, key);
    size_t i, len;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = list_shape(d, n, key, empty_ok, e);
    if (rc != 0)
        return rc;
    len = list_len(n);
    *out = xcalloc(len, sizeof(**out));
    for (i = 0; i < len; i++) {
        const struct ynode *it = list_item(n, i);
        const char *s;

        rc = yget_str(d, it, key, &s, e);
        if (rc == 0)
            rc = check(d, it, key, e);
        if (rc != 0)
            return rc;
        (*out)[(*nout)++] = xstrdup(s);
    }
    return 0;
}

static int index_in(char *const *v, size_t n, const char *s)
{
    size_t i;

    if (s == NULL)
        return -1;
    for (i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return (int)i;
    return -1;
}

/* ---- one reader per rule key ------------------------------------------ */

static int read_kinds(const struct ydoc *d, const struct ynode *n, struct policy_rule *r,
                      struct err *e)
{
    size_t i;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = list_shape(d, n, "kind", 0, e);
    for (i = 0; rc == 0 && i < list_len(n); i++) {
        int k =
            name_index(d, list_item(n, i), "kind", "kind", kind_names, kind_aliases, e);

        if (k < 0)
            return k;
        r->kinds |= 1u << k;
    }
    return rc;
}

static int read_match(const struct ydoc *d, const struct ynode *m, struct policy_rule *r,
                      struct err *e)
{
    static const char *const keys[] = {"kind", "team", "name", "min_gpus", "max_gpus", NULL};
    const struct ynode *lo, *hi;
    long v;
    int rc;

    if (ynode_is_null(m))
        return 0;
    rc = yexpect(d, m, Y_MAP, "match", e);
    if (rc == 0)
        rc = ymap_check_keys(d, m, keys, "match", e);
    lo = ymap_get(m, "min_gpus");
    hi = ymap_get(m, "max_gpus");
    if (rc == 0 && lo && (rc = yget_long(d, lo, "match.min_gpus", 1, 1000000, &v, e)) == 0)
        r->min_gpus = (int)v;
    if (rc == 0 && hi && (rc = yget_long(d, hi, "match.max_gpus", 1, 1000000, &v, e)) == 0)
        r->max_gpus = (int)v;
    if (rc == 0 && r->min_gpus && r->max_gpus && r->min_gpus > r->max_gpus)
        rc = yerr(d, lo, ST_EINVAL, e, "match.min_gpus (%d) is above match.max_gpus (%d)",
                  r->min_gpus, r->max_gpus);
    if (rc == 0)
        rc = read_kinds(d, ymap_get(m, "kind"), r, e);
    if (rc == 0)
        rc = read_list(d, m, "team", check_word, 0, &r->teams, &r->nteams, e);
    if (rc == 0)
        rc = read_list(d, m, "name", check_word, 0, &r->names, &r->nnames, e);
    return rc;
}

/* name (default "rule N", 1-based) and description. */
static int read_labels(const struct ydoc *d, const struct ynode *n, size_t idx,
                       struct policy_rule *r, struct err *e)
{
    const struct ynode *name = ymap_get(n, "name"), *desc = ymap_get(n, "description");
    const char *s;
    int rc;

    if (ynode_is_null(name)) {
        r->name = xasprintf("rule %zu", idx + 1);
    } else {
        rc = yget_str(d, name, "name", &s, e);
        if (rc == 0)
            rc = check_word(d, name, "name", e);
        if (rc != 0)
            return rc;
        r->name = xstrdup(s);
    }
    if (ynode_is_null(desc))
        return 0;
    rc = yget_str(d, desc, "description", &s, e);
    if (rc == 0)
        r->description = xstrdup(s);
    return rc;
}

/* "15%" or 0.15; a bare 15 is almost surely meant as 15%, so say so. */
static int read_margin(const struct ydoc *d, const struct ynode *n, struct policy_rule *r,
                       struct err *e)
{
    const char *s;
    double v;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = yget_str(d, n, "prefer_margin", &s, e);
    if (rc != 0)
        return rc;
    if (str_to_fraction(s, &v) == 0) {
        r->prefer_margin = v;
        return 0;
    }
    if (str_to_double(s, &v) == 0 && v >= 1 && v < 100)
        return yerr(d, n, ST_EINVAL, e,
                    "prefer_margin %s would be %g%% (did you mean '%s%%'?)", s, v * 100,
                    s);
    return yerr(d, n, ST_EINVAL, e,
                "prefer_margin must be a percentage such as 15%% or a fraction such as "
                "0.15, at least 0 and below 100%%, not '%s'",
                s);
}

static int read_spot(const struct ydoc *d, const struct ynode *n, struct policy_rule *r,
                     struct err *e)
{
    int k;

    if (ynode_is_null(n))
        return 0;
    k = name_index(d, n, "spot", "spot setting", spot_names, spot_aliases, e);
    if (k < 0)
        return k;
    r->spot = (enum policy_spot)k;
    return 0;
}

/* A positive number of dollars; "$800" is accepted as 800.  0 is refused
 * rather than read as "no cap": leave the key out for that. */
static int read_cost(const struct ydoc *d, const struct ynode *n, struct policy_rule *r,
                     struct err *e)
{
    const char *s;
    double v;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = yget_str(d, n, "max_hourly_cost", &s, e);
    if (rc != 0)
        return rc;
    if (s[0] == '$')
        s++;
    if (str_to_double(s, &v) != 0 || !(v > 0))
        return yerr(d, n, ST_EINVAL, e,
                    "max_hourly_cost must be a positive number of US dollars per hour, "
                    "such as 800, not '%s'",
                    n->str);
    r->max_hourly_cost = v;
    return 0;
}

/* "1x", "0.5x" or a bare number of run times, 0 to 100. */
static int read_late(const struct ydoc *d, const struct ynode *n, const char *key,
                     struct policy_rule *r, struct err *e)
{
    char tmp[64];
    const char *s;
    size_t len;
    double v;
    int rc = yget_str(d, n, key, &s, e);

    if (rc != 0)
        return rc;
    len = strlen(s);
    if (len > 0 && len < sizeof(tmp) && (s[len - 1] == 'x' || s[len - 1] == 'X')) {
        memcpy(tmp, s, len - 1);
        tmp[len - 1] = '\0';
        s = tmp;
    }
    if (str_to_double(s, &v) != 0 || !(v >= 0 && v <= 100))
        return yerr(d, n, ST_EINVAL, e,
                    "%s is how late a job may become waiting for a cheaper place, in run "
                    "times: a number from 0x to 100x such as 1x, not '%s'",
                    key, n->str);
    r->patience = v;
    return 0;
}

/* patience: 1x, or {late: 1x, cheaper: 20%}. */
static int read_patience(const struct ydoc *d, const struct ynode *n, struct policy_rule *r,
                         struct err *e)
{
    static const char *const keys[] = {"late", "cheaper", NULL};
    const struct ynode *c;
    const char *s;
    int rc;

    r->patience_cheaper = 0.2;
    if (ynode_is_null(n))
        return 0;
    if (n->type != Y_MAP)
        return read_late(d, n, "patience", r, e);
    if ((rc = ymap_check_keys(d, n, keys, "patience", e)) != 0)
        return rc;
    if (ynode_is_null(ymap_get(n, "late")))
        return yerr(d, n, ST_EINVAL, e,
                    "patience needs late: how late a job may become waiting, such as 1x");
    if ((rc = read_late(d, ymap_get(n, "late"), "late", r, e)) != 0)
        return rc;
    c = ymap_get(n, "cheaper");
    if (ynode_is_null(c))
        return 0;
    if ((rc = yget_str(d, c, "cheaper", &s, e)) != 0)
        return rc;
    if (str_to_fraction(s, &r->patience_cheaper) != 0)
        return yerr(d, c, ST_EINVAL, e,
                    "cheaper must be a percentage such as 20%% or a fraction such as 0.2, "
                    "at least 0 and below 100%%, not '%s'",
                    s);
    return 0;
}

static int read_effects(const struct ydoc *d, const struct ynode *n,
                        struct policy_rule *r, struct err *e)
{
    int rc = read_list(d, n, "allow", check_pattern, 0, &r->allow, &r->nallow, e);

    if (rc == 0)
        rc = read_list(d, n, "deny", check_pattern, 1, &r->deny, &r->ndeny, e);
    if (rc == 0)
        rc = read_list(d, n, "continents", check_continent, 0, &r->continents,
                       &r->ncontinents, e);
    if (rc == 0)
        rc = read_list(d, n, "prefer", check_cloud, 1, &r->prefer, &r->nprefer, e);
    if (rc == 0)
        rc = read_list(d, n, "overflow", check_cloud, 1, &r->overflow, &r->noverflow, e);
    if (rc == 0)
        rc = read_margin(d, ymap_get(n, "prefer_margin"), r, e);
    if (rc == 0)
        rc = read_spot(d, ymap_get(n, "spot"), r, e);
    if (rc == 0)
        rc = read_cost(d, ymap_get(n, "max_hourly_cost"), r, e);
    if (rc == 0)
        rc = read_patience(d, ymap_get(n, "patience"), r, e);
    return rc;
}

/* ---- coherence --------------------------------------------------------- */

/* The first deny pattern that covers the whole of cloud, or NULL. */
static const char *deny_covering(const struct policy_rule *r, const char *cloud)
{
    size_t i;

    for (i = 0; i < r->ndeny; i++)
        if (pattern_covers_cloud(r->deny[i], cloud))
            return r->deny[i];
    return NULL;
}

/* Can some location of cloud pass `allow` (see policy.h on overflow clouds)? */
static int allow_admits_cloud(const struct policy_rule *r, const char *cloud)
{
    size_t i;

    if (r->nallow == 0 || policy_tier(r, cloud) > 0)
        return 1;
    for (i = 0; i < r->nallow; i++)
        if (pattern_names_cloud(r->allow[i], cloud))
            return 1;
    return 0;
}

/* Each cloud of prefer or overflow (list node n): listed once, not denied
 * whole, and admitted by allow. */
static int check_clouds(const struct ydoc *d, const struct ynode *n,
                        const struct policy_rule *r, char *const *clouds, size_t count,
                        const char *key, struct err *e)
{
    size_t i;

    for (i = 0; i < count; i++) {
        const struct ynode *it = list_item(n, i);
        const char *deny = deny_covering(r, clouds[i]);

        if (index_in(clouds, i, clouds[i]) >= 0)
            return yerr(d, it, ST_EINVAL, e, "cloud '%s' is listed twice in %s",
                        clouds[i], key);
        if (deny != NULL)
            return yerr(d, it, ST_EINVAL, e,
                        "cloud '%s' in %s is denied whole by deny pattern '%s'; drop it "
                        "from one of the two",
                        clouds[i], key, deny);
        if (!allow_admits_cloud(r, clouds[i]))
            return yerr(d, it, ST_EINVAL, e,
                        "cloud '%s' in %s is outside allow; add it to allow or overflow, "
                        "or drop it from %s",
                        clouds[i], key, key);
    }
    return 0;
}

/* No allow pattern of one cloud (its cloud part no glob) lies wholly in a
 * cloud a deny pattern covers: the two would contradict each other (allow
 * [azure] with deny [azure] admits nothing). */
static int check_allow_denied(const struct ydoc *d, const struct ynode *n,
                              const struct policy_rule *r, struct err *e)
{
    char parts[3][PART_MAX];
    const char *deny;
    size_t i;

    for (i = 0; i < r->nallow; i++) {
        if (pattern_split(r->allow[i], parts) <= 0 || strpbrk(parts[0], "*?") != NULL ||
            (deny = deny_covering(r, parts[0])) == NULL)
            continue;
        return yerr(d, list_item(ymap_get(n, "allow"), i), ST_EINVAL, e,
                    "allow '%s' is denied whole by deny pattern '%s': the rule would "
                    "never admit it; drop it from one of the two",
                    r->allow[i], deny);
    }
    return 0;
}

static int check_rule(const struct ydoc *d, const struct ynode *n,
                      const struct policy_rule *r, struct err *e)
{
    const struct ynode *margin = ymap_get(n, "prefer_margin");
    int rc = check_allow_denied(d, n, r, e);

    if (rc != 0)
        return rc;
    if (!ynode_is_null(margin) && r->nprefer == 0)
        return yerr(d, margin, ST_EINVAL, e,
                    "prefer_margin needs prefer: the clouds the margin favours");
    rc = check_clouds(d, ymap_get(n, "prefer"), r, r->prefer, r->nprefer, "prefer", e);
    if (rc == 0)
        rc = check_clouds(d, ymap_get(n, "overflow"), r, r->overflow, r->noverflow,
                          "overflow", e);
    return rc;
}

static int read_rule(const struct ydoc *d, const struct ynode *n, size_t idx,
                     struct policy_rule *r, struct err *e)
{
    static const char *const keys[] = {
        "name",     "description", "match",           "allow",
        "deny",     "continents",  "prefer",          "prefer_margin",
        "overflow", "spot",        "max_hourly_cost", "patience",
        NULL,
    };
    char *where;
    int rc = yexpect(d, n, Y_MAP, "a rule", e);

    if (rc != 0)
        return rc;
    r->line = n->line;
    rc = read_labels(d, n, idx, r, e);
    if (rc != 0)
        return rc;
    where = xasprintf("rule '%s'", r->name);
    rc = ymap_check_keys(d, n, keys, where, e);
    free(where);
    if (rc == 0)
        rc = read_match(d, ymap_get(n, "match"), r, e);
    if (rc == 0)
        rc = read_effects(d, n, r, e);
    if (rc == 0)
        rc = check_rule(d, n, r, e);
    return rc;
}

/* Does r match every workload (so that nothing after it is reachable)? */
static int rule_is_catchall(const struct policy_rule *r)
{
    size_t i;

    if (r->kinds != 0 && r->kinds != (1u << SPEC_KIND__N) - 1)
        return 0;
    if (r->nteams != 0 || r->min_gpus > 1 || r->max_gpus != 0)
        return 0;
    for (i = 0; i < r->nnames; i++)
        if (r->names[i][strspn(r->names[i], "*")] == '\0')
            return 1;
    return r->nnames == 0;
}

/* The last rule read (node n) has a name no earlier rule has, and can match. */
static int check_order(const struct ydoc *d, const struct ynode *n,
                       const struct policy *p, struct err *e)
{
    const struct policy_rule *r = &p->rules[p->nrules - 1];
    const struct ynode *name = ymap_get(n, "name");
    size_t i;

    for (i = 0; i + 1 < p->nrules; i++) {
        const struct policy_rule *q = &p->rules[i];

        if (strcmp(q->name, r->name) == 0)
            return yerr(d, name ? name : n, ST_EINVAL, e,
                        "duplicate rule name '%s' (first at line %zu)", r->name, q->line);
        if (rule_is_catchall(q))
            return yerr(
                d, n, ST_EINVAL, e,
                "rule '%s' can never match: rule '%s' (line %zu) before it matches "
                "every workload; move the catch-all last",
                r->name, q->name, q->line);
    }
    return 0;
}

static int read_rules(const struct ydoc *d, const struct ynode *list, struct policy *p,
                      struct err *e)
{
    size_t i;
    int rc = yexpect(d, list, Y_SEQ, "rules", e);

    if (rc != 0)
        return rc;
    p->rules = xcalloc(list->n, sizeof(*p->rules));
    for (i = 0; i < list->n; i++) {
        p->nrules++; /* counted first: a half-read rule is still freed */
        rc = read_rule(d, list->items[i], i, &p->rules[i], e);
        if (rc == 0)
            rc = check_order(d, list->items[i], p, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_version(const struct ydoc *d, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = yget_str(d, n, "version", &s, e);
    if (rc == 0 && strcmp(s, "1") != 0)
        rc = yerr(d, n, ST_EINVAL, e,
                  "unsupported policy version '%s' (this Stratus reads version 1)", s);
    return rc;
}

static int read_policy(const struct ydoc *d, struct policy *p, struct err *e)
{
    static const char *const keys[] = {"version", "rules", NULL};
    const struct ynode *root = d->root, *rules;
    int rc;

    if (ynode_is_null(root))
        return yerr(d, NULL, ST_EPARSE, e,
                    "empty policy (expected a mapping with a 'rules' list; write "
                    "'rules: []' for a policy without rules)");
    rc = yexpect(d, root, Y_MAP, "a policy", e);
    if (rc == 0)
        rc = ymap_check_keys(d, root, keys, "the policy", e);
    if (rc == 0)
        rc = read_version(d, ymap_get(root, "version"), e);
    if (rc != 0)
        return rc;
    rules = ymap_get(root, "rules");
    if (rules == NULL)
        return yerr(d, root, ST_EPARSE, e, "missing 'rules', the policy's list of rules");
    if (ynode_is_null(rules))
        return 0;
    return read_rules(d, rules, p, e);
}

/* ---- loading and freeing ------------------------------------------------ */

static int policy_from_doc(struct policy **out, const struct ydoc *d, struct err *e)
{
    struct policy *p = xcalloc(1, sizeof(*p));
    int rc;

    p->path = xstrdup(d->path);
    rc = read_policy(d, p, e);
    if (rc != 0) {
        policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int policy_load_mem(struct policy **out, const char *name, const char *data, size_t len,
                    struct err *e)
{
    struct ydoc d;
    int rc;

    *out = NULL;
    if (len > POLICY_MAX_BYTES)
        return err_set(e, ST_ETOOBIG, "%s: policy larger than %zu bytes", name,
                       POLICY_MAX_BYTES);
    rc = ydoc_load_mem(&d, name, data, len, e);
    if (rc != 0)
        return rc;
    rc = policy_from_doc(out, &d, e);
    ydoc_free(&d);
    return rc;
}

int policy_load_file(struct policy **out, const char *path, struct err *e)
{
    struct ydoc d;
    int rc;

    *out = NULL;
    rc = ydoc_load_file(&d, path, POLICY_MAX_BYTES, e);
    if (rc != 0)
        return rc;
    rc = policy_from_doc(out, &d, e);
    ydoc_free(&d);
    return rc;
}

static void strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void rule_free(struct policy_rule *r)
{
    free(r->name);
    free(r->description);
    strv_free(r->teams, r->nteams);
    strv_free(r->names, r->nnames);
    strv_free(r->allow, r->nallow);
    strv_free(r->deny, r->ndeny);
    strv_free(r->continents, r->ncontinents);
    strv_free(r->prefer, r->nprefer);
    strv_free(r->overflow, r->noverflow);
}

void policy_free(struct policy *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    free(p->path);
    free(p);
}

/* ---- queries ----------------------------------------------------------- */

/* The gang's GPUs: nodes x the largest accelerator count of its alternatives. */
static int spec_gpus(const struct spec *s)
{
    int most = 0;
    size_t i;

    for (i = 0; i < s->nres; i++)
        if (s->res[i].acc_count > most)
            most = s->res[i].acc_count;
    return most * (s->num_nodes > 0 ? s->num_nodes : 1);
}

static int rule_fits(const struct policy_rule *r, const struct spec *s)
{
    size_t i;

    if ((r->min_gpus && spec_gpus(s) < r->min_gpus) || (r->max_gpus && spec_gpus(s) > r->max_gpus))
        return 0;
    if (r->kinds != 0 &&
        ((unsigned)s->kind >= SPEC_KIND__N || !(r->kinds & (1u << s->kind))))
        return 0;
    if (r->nteams != 0 && index_in(r->teams, r->nteams, s->team) < 0)
        return 0;
    if (r->nnames == 0)
        return 1;
    for (i = 0; i < r->nnames; i++)
        if (str_glob(r->names[i], s->name ? s->name : ""))
            return 1;
    return 0;
}

const struct policy_rule *policy_match(const struct policy *p, const struct spec *s)
{
    size_t i;

    BUG_ON(s == NULL);
    if (p == NULL)
        return NULL;
    for (i = 0; i < p->nrules; i++)
        if (rule_fits(&p->rules[i], s))
            return &p->rules[i];
    return NULL;
}

static int any_location(char *const *patterns, size_t n, const char *cloud,
                        const char *region, const char *zone)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (policy_location_match(patterns[i], cloud, region, zone))
            return 1;
    return 0;
}

/* An overflow cloud passes `allow` unless some allow pattern names it. */
static int allowed(const struct policy_rule *r, const char *cloud, const char *region,
                   const char *zone)
{
    size_t i;

    if (r->nallow == 0 || any_location(r->allow, r->nallow, cloud, region, zone))
        return 1;
    if (cloud == NULL || policy_tier(r, cloud) == 0)
        return 0;
    for (i = 0; i < r->nallow; i++)
        if (pattern_names_cloud(r->allow[i], cloud))
            return 0;
    return 1;
}

enum policy_verdict policy_check_location(const struct policy_rule *r, const char *cloud,
                                          const char *region, const char *zone,
                                          const char *continent)
{
    if (r == NULL)
        return POLICY_OK;
    if (any_location(r->deny, r->ndeny, cloud, region, zone))
        return POLICY_DENIED;
    if (r->ncontinents != 0 && index_in(r->continents, r->ncontinents, continent) < 0)
        return POLICY_CONTINENT;
    if (!allowed(r, cloud, region, zone))
        return POLICY_NOT_ALLOWED;
    return POLICY_OK;
}

/* prefer and overflow hold distinct known clouds, so their indices fit an int. */
int policy_tier(const struct policy_rule *r, const char *cloud)
{
    if (r == NULL)
        return 0;
    return index_in(r->overflow, r->noverflow, cloud) + 1;
}

int policy_pref_index(const struct policy_rule *r, const char *cloud)
{
    int i;

    if (r == NULL || r->nprefer == 0)
        return 0;
    i = index_in(r->prefer, r->nprefer, cloud);
    return i >= 0 ? i : (int)r->nprefer;
}

const char *policy_verdict_str(enum policy_verdict v)
{
    switch (v) {
    case POLICY_OK:
        return "allowed by policy";
    case POLICY_NOT_ALLOWED:
        return "not in the policy's allowed locations";
    case POLICY_DENIED:
        return "denied by policy";
    case POLICY_CONTINENT:
        return "outside the policy's continents";
    }
    return "unknown verdict";
}

const char *policy_spot_name(enum policy_spot s)
{
    BUG_ON((unsigned)s >= sizeof(spot_names) / sizeof(spot_names[0]) - 1);
    return spot_names[s];
}
