/*
 * spec.c - load a workload spec: SkyPilot task YAML plus a `stratus:` section.
 *
 * The YAML becomes a positioned tree (util/yamlx.h) that this file walks once
 * to fill a struct spec.  Errors stop the walk with "file:line:col: cause";
 * things Stratus accepts but does not honour yet become warnings in
 * spec->warnings ("file:line:col: warning: ..."), which are never printed here.
 *
 * Layout, top to bottom:
 *   context, warnings, text checks   the walk's state and small helpers
 *   clouds and locations             infra "cloud/region/zone", legacy keys
 *   accelerators                     "H100:8", [H100:8, ...], {H100: 8, ...}
 *   resource fields                  cpus, memory, disk_size, use_spot, ...
 *   launch options                   ports, image_id, disk_tier, accelerator_args
 *                                    (kept on the spec for the driver)
 *   one resources mapping            -> struct rpart (what that mapping says)
 *   alternatives                     base merged with any_of/ordered entries;
 *                                    SkyPilot's CPU defaults (cpu_defaults)
 *   task fields                      name, num_nodes, setup, run, envs, secrets, ...
 *   file_mounts                      local copies; a bucket's cloud = where
 *                                    the data is (stratus.data wins)
 *   the stratus: section             kind, team, priority, duration, ...
 *   entry points                     spec_load_file/mem, spec_free, enums
 *
 * SkyPilot semantics kept (facts from its documented YAML spec and schema):
 * fields of an any_of/ordered entry override the top-level resources fields;
 * an accelerators list is tried in order, a set/mapping is ranked by cost;
 * any_of and ordered exclude each other; several accelerators may not be
 * combined with `ordered`, nor a list of them with `any_of` (a set is crossed
 * with the any_of entries); cpus "8" is exactly 8 and "8+" at least 8; memory
 * is in GiB unless a unit says otherwise; infra is cloud[/region[/zone]] with
 * '*' for any part, or k8s/kubernetes[/CONTEXT], ssh[/POOL], slurm[/CLUSTER],
 * which need a driver of their own (skipped with a warning without one); a
 * per-region image_id map limits the regions to its keys.
 */
#include "spec.h"

#include "service.h"

#include "../driver/driver.h"
#include "../util/clock.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 128  /* name, team, instance types */
#define WORD_MAX_LEN 64   /* accelerator, cloud, region and zone names */
#define PATH_MAX_LEN 4096 /* workdir */
#define MAX_ACCS 64       /* accelerators in one list or set */
#define MAX_ENVS 1024
#define MAX_DURATION_S (10.0 * 366 * 86400) /* ten years: anything longer is a typo */
#define MAX_CPUS 100000.0
#define MAX_MEM_GIB 1e7
#define MAX_DATA_GB 1e9 /* an exabyte */
#define MAX_ACC_COUNT 1024
#define VIS_LEN 64

/* ------------------------------------------------------------------------ */
/* Context, warnings, text checks                                            */

struct ctx {
    const struct ydoc *d;
    struct spec *s;
    size_t wcap;                       /* slots allocated in s->warnings */
    size_t envcap;                     /* slots allocated in s->envs */
    size_t wdropped;                   /* warnings past SPEC_MAX_WARNINGS */
    const struct ynode *unsched;       /* first location Stratus cannot schedule on */
    const struct ynode *bucket_at;     /* the bucket that gave data_cloud, or NULL */
    char bucket_dst[VIS_LEN + 8];      /* its mount point, shown */
    char unsched_why[256];             /* "infra 'k8s': no Kubernetes driver ..." */
    size_t wpos[SPEC_MAX_WARNINGS][2]; /* line and column of each warning */
    char vis[4][VIS_LEN + 8];          /* rotating buffers for vis() and shown() */
    unsigned visn;
};

/* Add "file:line:col: warning: ..." to the spec; past the cap only count it. */
static void warn(struct ctx *c, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct ctx *c, const struct ynode *n, const char *fmt, ...)
{
    struct spec *s = c->s;
    char msg[512];
    va_list ap;

    if (s->nwarnings >= SPEC_MAX_WARNINGS) {
        c->wdropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->warnings = xgrow(s->warnings, &c->wcap, s->nwarnings + 1, sizeof(*s->warnings));
    c->wpos[s->nwarnings][0] = n->line;
    c->wpos[s->nwarnings][1] = n->col;
    s->warnings[s->nwarnings++] =
        xasprintf("%s:%zu:%zu: warning: %s", c->d->path, n->line, n->col, msg);
}

/* User text made safe to quote in a message: control bytes become '?' and
 * long text is cut with "...".  Four rotating buffers, so up to four per
 * message. */
static const char *vis(struct ctx *c, const char *s)
{
    /* VIS_LEN characters, then "..." when longer (str_vis keeps n - 4). */
    return str_vis(c->vis[c->visn++ % 4], VIS_LEN + 4, s);
}

/* A node as a message shows it: 'text' for a value, "a list" otherwise. */
static const char *shown(struct ctx *c, const struct ynode *n)
{
    const char *v;
    char *out;

    if (n->type != Y_SCALAR)
        return ynode_type_name(n->type);
    v = vis(c, n->str);
    out = c->vis[c->visn++ % 4];
    snprintf(out, VIS_LEN + 8, "'%s'", v);
    return out;
}

/* "resources" + "cpus" -> "resources.cpus" into buf (cut if absurdly long). */
static const char *path_join(char *buf, size_t n, const char *where, const char *key)
{
    snprintf(buf, n, "%s.%s", where, key);
    return buf;
}

/* A single-line text of at most max bytes, without control characters. */
static int get_line(struct ctx *c, const struct ynode *n, const char *what, size_t max,
                    const char **out, struct err *e)
{
    const char *s;
    size_t i;
    int rc = yget_str(c->d, n, what, &s, e);

    if (rc != 0)
        return rc;
    for (i = 0; s[i] != '\0'; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return yerr(c->d, n, ST_EINVAL, e, "%s must be one line of text", what);
    }
    if (i > max)
        return yerr(c->d, n, ST_EINVAL, e, "%s is longer than %zu characters", what, max);
    if (i == 0)
        return yerr(c->d, n, ST_EINVAL, e, "%s is empty", what);
    *out = s;
    return 0;
}

/* Letters, digits and the characters in `extra` only. */
static int is_word(const char *s, const char *extra)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
            return 0;
    }
    return 1;
}

/* Same letters in another order ("gpc" for "gcp"), ignoring case. */
static int anagram(const char *a, const char *b)
{
    unsigned char count[256] = {0};

    if (strlen(a) != strlen(b))
        return 0;
    for (; *a; a++, b++) {
        count[tolower((unsigned char)*a)]++;
        count[tolower((unsigned char)*b)]--;
    }
    for (size_t i = 0; i < sizeof(count); i++) {
        if (count[i] != 0)
            return 0;
    }
    return 1;
}

/* str_suggest(), plus swapped letters: its edit distance counts a swap as two
 * edits, too many for short words. */
static const char *suggest(const char *s, const char *const *cands)
{
    const char *best = str_suggest(s, cands);

    for (size_t i = 0; best == NULL && cands[i]; i++) {
        if (anagram(s, cands[i]))
            best = cands[i];
    }
    return best;
}

/* A name-like value: get_line() plus a restricted character set. */
static int get_word(struct ctx *c, const struct ynode *n, const char *what,
                    const char *extra, size_t max, const char **out, struct err *e)
{
    int rc = get_line(c, n, what, max, out, e);

    if (rc == 0 && !is_word(*out, extra))
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s '%s' has characters other than letters, digits and '%s'", what,
                    vis(c, *out), extra);
    return rc;
}

/* Scalar text with surrounding blanks removed, into buf; -1 when too long. */
static int trimmed(const char *s, char *buf, size_t n)
{
    size_t len;

    while (*s == ' ' || *s == '\t')
        s++;
    len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= n)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Clouds and locations                                                      */

/* Every cloud SkyPilot's schema knows, so that its files load; Stratus places
 * work only where its catalog has offers, which the planner decides. */
static const char *const sky_clouds[] = {
    "aws",        "azure",          "gcp",        "oci",       "lambda",
    "runpod",     "nebius",         "ibm",        "scp",       "vsphere",
    "cudo",       "fluidstack",     "paperspace", "do",        "vast",
    "hyperbolic", "primeintellect", "seeweb",     "shadeform", "kubernetes",
    "ssh",        "slurm",          NULL};

/* Infrastructure that is not a cloud region: a Kubernetes context, an SSH
 * node pool, a Slurm cluster.  Each needs a driver of its own (Stratus'
 * slurm driver runs Slurm clusters as catalog locations instead, named by
 * their cloud/region in its clusters.yaml).  Without one, alternatives there
 * are skipped with a warning rather than refused: a SkyPilot file that offers
 * `any_of: [k8s, gcp]` still runs on gcp. */
static int cloud_unschedulable(const char *cloud)
{
    if (strcmp(cloud, "kubernetes") == 0 || strcmp(cloud, "ssh") == 0)
        return driver_find(cloud) == NULL;
    return strcmp(cloud, "slurm") == 0;
}

/* "local, sim, slurm": the drivers Stratus has, for messages. */
static void driver_names(char *buf, size_t n)
{
    static const struct driver_ops *const ops[] = {&driver_local, &driver_slurm,
                                                   &driver_sim};
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", ops[i]->name);
}

struct loc {
    char *cloud, *region, *zone; /* owned; NULL = any */
};

static void loc_free(struct loc *l)
{
    free(l->cloud);
    free(l->region);
    free(l->zone);
    memset(l, 0, sizeof(*l));
}

/* The canonical (lower-case) cloud for text, or an error with a suggestion. */
static int cloud_canon(struct ctx *c, const struct ynode *n, const char *what,
                       const char *text, char **out, struct err *e)
{
    const char *sug;
    size_t i;

    if (strcasecmp(text, "k8s") == 0)
        text = "kubernetes";
    for (i = 0; sky_clouds[i]; i++) {
        if (strcasecmp(text, sky_clouds[i]) == 0) {
            free(*out); /* cloud: and infra: in one mapping; refused later */
            *out = xstrdup(sky_clouds[i]);
            return 0;
        }
    }
    sug = suggest(text, sky_clouds);
    if (sug)
        return yerr(c->d, n, ST_EINVAL, e, "%s: unknown cloud '%s' (did you mean '%s'?)",
                    what, vis(c, text), sug);
    return yerr(c->d, n, ST_EINVAL, e,
                "%s: unknown cloud '%s' (Stratus' catalog has aws, azure, gcp, oci, "
                "lambda and nebius)",
                what, vis(c, text));
}

/* Why a location Stratus cannot schedule onto is skipped, into buf:
 * "infra 'k8s/ctx': no Kubernetes driver is configured (drivers: ...)". */
static void unsched_why(struct ctx *c, const struct ynode *n, const char *cloud,
                        char *buf, size_t len)
{
    char drivers[64];
    const char *key = n->type == Y_SCALAR ? vis(c, n->str) : cloud;

    driver_names(drivers, sizeof(drivers));
    if (strcmp(cloud, "slurm") == 0)
        snprintf(buf, len,
                 "'%s': Stratus runs Slurm clusters as catalog locations (the slurm "
                 "driver's clusters.yaml names each one's cloud and region); name that "
                 "cloud/region",
                 key);
    else
        snprintf(buf, len, "'%s': no %s driver is configured (drivers: %s)", key,
                 strcmp(cloud, "ssh") == 0 ? "SSH node pool" : "Kubernetes", drivers);
}

/* Warn once per written location that Stratus cannot schedule onto. */
static void loc_note_unsched(struct ctx *c, const struct ynode *n, const char *cloud)
{
    char why[sizeof(c->unsched_why)];

    if (cloud == NULL || !cloud_unschedulable(cloud))
        return;
    unsched_why(c, n, cloud, why, sizeof(why));
    if (c->unsched == NULL) {
        c->unsched = n;
        memcpy(c->unsched_why, why, sizeof(why));
    }
    warn(c, n, "infra %s; alternatives there are skipped", why);
}

/* A region or zone name; '*' (any) only where `star` allows it. */
static int loc_part(struct ctx *c, const struct ynode *n, const char *what,
                    const char *text, int star, char **out, struct err *e)
{
    if (star && strcmp(text, "*") == 0)
        return 0;
    if (strlen(text) > WORD_MAX_LEN || !is_word(text, "-_.:"))
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s: bad location part '%s' (letters, digits, '-', '_', '.' and ':')",
                    what, vis(c, text));
    free(*out);
    *out = xstrdup(text);
    return 0;
}

/* Split "a/b/c" in place at '/' into at most max parts; the count, or -1 for
 * an empty part or too many parts. */
static int split_slash(char *s, char **parts, int max)
{
    int n = 0;

    for (;;) {
        char *slash = strchr(s, '/');

        if (n == max)
            return -1;
        parts[n++] = s;
        if (slash == NULL)
            break;
        *slash = '\0';
        s = slash + 1;
    }
    for (int i = 0; i < n; i++) {
        if (parts[i][0] == '\0')
            return -1;
    }
    return n;
}

/* Parse "cloud[/region[/zone]]" (SkyPilot's infra, '*' = any) into l.  With
 * star == 0 it is a data location: no wildcards, no zone. */
static int loc_parse(struct ctx *c, const struct ynode *n, const char *what, int star,
                     struct loc *l, struct err *e)
{
    char buf[3 * WORD_MAX_LEN + 8], *p = buf, *parts[3];
    const char *text;
    int np, rc = yget_str(c->d, n, what, &text, e);

    if (rc != 0)
        return rc;
    if (trimmed(text, buf, sizeof(buf)) != 0)
        return yerr(c->d, n, ST_EINVAL, e, "%s is too long", what);
    while (*p == '/')
        p++;
    while (*p && p[strlen(p) - 1] == '/')
        p[strlen(p) - 1] = '\0';
    if (*p == '\0')
        return 0;
    np = split_slash(p, parts, star ? 3 : 2);
    if (star &&
        (strcasecmp(parts[0], "k8s") == 0 || strcasecmp(parts[0], "kubernetes") == 0 ||
         strcasecmp(parts[0], "ssh") == 0 || strcasecmp(parts[0], "slurm") == 0))
        np = 1; /* a context or pool name may hold slashes; it is not used */
    if (np < 0)
        return yerr(c->d, n, ST_EINVAL, e, "%s must be %s, not '%s'", what,
                    star ? "cloud, cloud/region or cloud/region/zone"
                         : "cloud or cloud/region",
                    vis(c, text));
    if (!(star && strcmp(parts[0], "*") == 0)) {
        if ((rc = cloud_canon(c, n, what, parts[0], &l->cloud, e)) != 0)
            return rc;
    }
    if (np > 1 && (rc = loc_part(c, n, what, parts[1], star, &l->region, e)) != 0)
        return rc;
    if (np > 2 && (rc = loc_part(c, n, what, parts[2], star, &l->zone, e)) != 0)
        return rc;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Accelerators                                                              */

struct acc {
    char *name;             /* owned, as written ("H100", "tpu-v5p-8") */
    int count;              /* per node, >= 1 (1 for a share) */
    double part;            /* a share of one, in (0, 1) ("L4:0.125"); 0 = whole ones */
    const struct ynode *at; /* where it was written */
};

enum acc_form {
    ACC_ONE,  /* a single accelerator, or none */
    ACC_LIST, /* a list: alternatives in preference order */
    ACC_SET   /* a set or mapping: alternatives ranked by cost */
};

/* A count "8" (or "8.0", as YAML numbers may be written) in [1, MAX_ACC_COUNT]. */
static int acc_count(const char *text, int *out)
{
    double v;

    if (str_to_double(text, &v) != 0 || v != floor(v) || v < 1 || v > MAX_ACC_COUNT)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parse "NAME" or "NAME:COUNT" (blanks around either allowed) into a. */
static int acc_from_text(struct ctx *c, const struct ynode *at, const char *what,
                         const char *text, struct acc *a, struct err *e)
{
    char buf[2 * WORD_MAX_LEN], name[WORD_MAX_LEN + 1], *colon;
    int count = 1;
    double part = 0;

    if (trimmed(text, buf, sizeof(buf)) != 0)
        return yerr(c->d, at, ST_EINVAL, e, "%s: accelerator '%s' is too long", what,
                    vis(c, text));
    colon = strchr(buf, ':');
    if (colon != NULL) {
        *colon = '\0';
        /* a share of one accelerator ("L4:0.125"): the offers that sell
         * exactly that share (AWS g6f, Azure NVv4), as SkyPilot matches */
        int bad = trimmed(colon + 1, name, sizeof(name)) != 0;

        if (!bad && (str_to_double(name, &part) != 0 || !(part > 0 && part < 1))) {
            part = 0;
            bad = acc_count(name, &count) != 0;
        }
        if (bad)
            return yerr(
                c->d, at, ST_EINVAL, e,
                "%s: bad accelerator count in '%s' (write NAME:COUNT with COUNT a "
                "whole number from 1 to %d, as in 'H100:8', or a share of one, as "
                "in 'L4:0.5')",
                what, vis(c, text), MAX_ACC_COUNT);
    }
    if (trimmed(buf, name, sizeof(name)) != 0 || !is_word(name, "-_."))
        return yerr(
            c->d, at, ST_EINVAL, e,
            "%s: bad accelerator name in '%s' (letters, digits, '-', '_' and '.', "
            "as in 'H100' or 'A100-80GB')",
            what, vis(c, text));
    a->name = xstrdup(name);
    a->count = count;
    a->part = part;
    a->at = at;
    return 0;
}

/* What one resources mapping (the top level or one any_of/ordered entry)
 * says.  A field counts only when its RP_* bit is in `set`. */
struct rpart {
    unsigned set;     /* RP_* bits of the fields given */
    struct acc *accs; /* owned; none = no accelerator */
    size_t naccs, acap;
    enum acc_form form;
    struct loc loc;            /* location given here */
    unsigned locset;           /* LOC_* bits: which location keys were given */
    const struct ynode *locat; /* where the location was given */
    const char *instance_type; /* borrowed from the YAML tree */
    int use_spot;              /* -1, 0, 1 as in struct spec_res */
    double cpus, mem_gib, disk_gb;
    int cpus_exact, mem_exact;
    size_t line; /* the mapping's line */
};

enum { RP_ACC = 1, RP_ITYPE = 2, RP_SPOT = 4, RP_CPUS = 8, RP_MEM = 16, RP_DISK = 32 };
enum { LOC_INFRA = 1, LOC_CLOUD = 2, LOC_REGION = 4, LOC_ZONE = 8 };

static void rpart_free(struct rpart *p)
{
    for (size_t i = 0; i < p->naccs; i++)
        free(p->accs[i].name);
    free(p->accs);
    loc_free(&p->loc);
    memset(p, 0, sizeof(*p));
}

/* Append one accelerator written as text at node `at`. */
static int acc_add(struct ctx *c, struct rpart *p, const struct ynode *at,
                   const char *what, const char *text, struct err *e)
{
    int rc;

    if (p->naccs == MAX_ACCS)
        return yerr(c->d, at, ST_ETOOBIG, e, "%s: more than %d accelerators", what,
                    MAX_ACCS);

    p->accs = xgrow(p->accs, &p->acap, p->naccs + 1, sizeof(*p->accs));
    rc = acc_from_text(c, at, what, text, &p->accs[p->naccs], e);
    if (rc == 0)
        p->naccs++;
    return rc;
}

/* SkyPilot also takes a list or set as one string: "[A100:1, V100:1]" or
 * "{'A100:1', 'V100:1'}" (quotes optional).  Split it at commas. */
static int accs_from_flow(struct ctx *c, const struct ynode *n, const char *what,
                          const char *text, struct rpart *p, struct err *e)
{
    size_t len = strlen(text);
    char close = text[0] == '[' ? ']' : '}';
    char *copy, *piece, *save = NULL;
    int rc = 0;

    if (len < 2 || text[len - 1] != close)
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s: '%s' opens with '%c' but does not end with '%c'", what,
                    vis(c, text), text[0], close);
    p->form = close == ']' ? ACC_LIST : ACC_SET;
    copy = xstrndup(text + 1, len - 2);
    for (char *q = copy; *q; q++) {
        if (*q == '\'' || *q == '"')
            *q = ' ';
    }
    for (piece = strtok_r(copy, ",", &save); piece && rc == 0;
         piece = strtok_r(NULL, ",", &save)) {
        if (strspn(piece, " \t") != strlen(piece))
            rc = acc_add(c, p, n, what, piece, e);
    }
    free(copy);
    return rc;
}

/* {H100: 8, A100-80GB: 8} (name: count) or {H100:8, A100:8} (a set: the keys
 * are NAME:COUNT and the values empty). */
static int accs_from_map(struct ctx *c, const struct ynode *n, const char *what,
                         struct rpart *p, struct err *e)
{
    char text[2 * WORD_MAX_LEN + 2];
    int rc = 0;

    p->form = ACC_SET;
    for (size_t i = 0; i < n->n && rc == 0; i++) {
        const struct ynode *k = n->keys[i], *v = n->items[i];

        if (ynode_is_null(v)) {
            rc = acc_add(c, p, k, what, k->str, e);
            continue;
        }
        if (v->type != Y_SCALAR || strchr(k->str, ':') != NULL ||
            snprintf(text, sizeof(text), "%s:%s", k->str, v->str) >= (int)sizeof(text))
            return yerr(c->d, v, ST_EINVAL, e,
                        "%s: write each accelerator as NAME: COUNT, as in 'H100: 8'",
                        what);
        rc = acc_add(c, p, k, what, text, e);
    }
    return rc;
}

/* resources.accelerators in any of SkyPilot's forms. */
static int accs_parse(struct ctx *c, const struct ynode *n, const char *what,
                      struct rpart *p, struct err *e)
{
    int rc = 0;

    p->form = ACC_ONE;
    if (ynode_is_null(n))
        return 0;
    if (n->type == Y_MAP) {
        rc = accs_from_map(c, n, what, p, e);
    } else if (n->type == Y_SCALAR) {
        if (n->str[strspn(n->str, " ")] == '[' || n->str[strspn(n->str, " ")] == '{')
            rc = accs_from_flow(c, n, what, n->str + strspn(n->str, " "), p, e);
        else
            rc = acc_add(c, p, n, what, n->str, e);
    } else {
        p->form = ACC_LIST;
        for (size_t i = 0; i < n->n && rc == 0; i++) {
            if (n->items[i]->type != Y_SCALAR || ynode_is_null(n->items[i]))
                return yerr(c->d, n->items[i], ST_EINVAL, e,
                            "%s: each item must be NAME or NAME:COUNT, as in 'H100:8'",
                            what);
            rc = acc_add(c, p, n->items[i], what, n->items[i]->str, e);
        }
    }
    /* SkyPilot takes an empty set or list as no accelerator; so does this,
     * but says so: it is more often a slip than a CPU job. */
    if (rc == 0 && p->naccs == 0)
        warn(c, n,
             "%s names no accelerator, so the job runs on CPUs only; name one "
             "(as in 'H100: 8') or leave the key out",
             what);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Resource fields: one parser per key, dispatched from a table              */

/* "8", "8+", "0.5": a positive number with an optional trailing '+'. */
static int res_cpus(struct ctx *c, const struct ynode *n, const char *what,
                    struct rpart *p, struct err *e)
{
    char buf[32];
    size_t len;

    p->set |= RP_CPUS;
    p->cpus = 0;
    if (ynode_is_null(n))
        return 0;
    if (n->type != Y_SCALAR || trimmed(n->str, buf, sizeof(buf)) != 0)
        goto bad;
    len = strlen(buf);
    p->cpus_exact = !(len > 0 && buf[len - 1] == '+');
    if (!p->cpus_exact)
        buf[len - 1] = '\0';
    if (str_to_double(buf, &p->cpus) != 0 || p->cpus <= 0 || p->cpus > MAX_CPUS)
        goto bad;
    return 0;
bad:
    p->cpus = 0;
    return yerr(
        c->d, n, ST_EINVAL, e,
        "%s must be a number of vCPUs such as 8 (exactly) or 8+ (at least), not %s", what,
        shown(c, n));
}

/* GiB in one unit: "", K, M, G, T or P, alone or followed by B or i, in any
 * case (SkyPilot's units are binary; no unit means GiB).  -1 if not a unit. */
static double unit_gib(const char *u)
{
    static const char letters[] = "kmgtp";
    static const double gib[] = {1.0 / 1048576, 1.0 / 1024, 1, 1024, 1048576};
    const char *at;
    int second;

    if (*u == '\0')
        return 1;
    at = strchr(letters, tolower((unsigned char)u[0]));
    if (at == NULL)
        return -1;
    second = tolower((unsigned char)u[1]);
    if (second != '\0' && ((second != 'b' && second != 'i') || u[2] != '\0'))
        return -1;
    return gib[at - letters];
}

/* "32", "32+", "64GB", "1.5TB+" into GiB; plus says whether '+' is allowed.
 * Returns 0, or -1 when the text is not such a size. */
static int size_gib(const char *text, int plus, double *gib, int *exact)
{
    char buf[48], num[32];
    size_t len, k;
    double v, mul;

    if (trimmed(text, buf, sizeof(buf)) != 0)
        return -1;
    len = strlen(buf);
    *exact = !(len > 0 && buf[len - 1] == '+');
    if (!*exact) {
        if (!plus)
            return -1;
        buf[--len] = '\0';
    }
    k = strspn(buf, "0123456789.");
    if (k == 0 || k >= sizeof(num))
        return -1;
    memcpy(num, buf, k);
    num[k] = '\0';
    mul = unit_gib(buf + k + strspn(buf + k, " "));
    if (mul < 0 || str_to_double(num, &v) != 0)
        return -1;
    *gib = v * mul;
    return 0;
}

static int res_memory(struct ctx *c, const struct ynode *n, const char *what,
                      struct rpart *p, struct err *e)
{
    p->set |= RP_MEM;
    p->mem_gib = 0;
    if (ynode_is_null(n))
        return 0;
    if (n->type != Y_SCALAR || size_gib(n->str, 1, &p->mem_gib, &p->mem_exact) != 0 ||
        p->mem_gib <= 0 || p->mem_gib > MAX_MEM_GIB) {
        p->mem_gib = 0;
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s must be a memory size such as 32 (GiB, exactly), 32+ (at least) "
                    "or 64GB, not %s",
                    what, shown(c, n));
    }
    return 0;
}

/* disk_size: whole GiB, or a size with a unit rounded down to GiB (SkyPilot). */
static int res_disk(struct ctx *c, const struct ynode *n, const char *what,
                    struct rpart *p, struct err *e)
{
    int exact;

    p->set |= RP_DISK;
    p->disk_gb = 0;
    if (ynode_is_null(n))
        return 0;
    if (n->type != Y_SCALAR || size_gib(n->str, 0, &p->disk_gb, &exact) != 0 ||
        floor(p->disk_gb) < 1 || p->disk_gb > MAX_MEM_GIB) {
        p->disk_gb = 0;
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s must be a disk size such as 256 (GiB) or 1TB, not %s", what,
                    shown(c, n));
    }
    p->disk_gb = floor(p->disk_gb);
    return 0;
}

static int res_spot(struct ctx *c, const struct ynode *n, const char *what,
                    struct rpart *p, struct err *e)
{
    p->set |= RP_SPOT;
    p->use_spot = -1;
    if (ynode_is_null(n))
        return 0;
    return yget_bool(c->d, n, what, &p->use_spot, e);
}

static int res_itype(struct ctx *c, const struct ynode *n, const char *what,
                     struct rpart *p, struct err *e)
{
    p->set |= RP_ITYPE;
    p->instance_type = NULL;
    if (ynode_is_null(n))
        return 0;
    return get_word(c, n, what, "-_.:/+", NAME_MAX_LEN, &p->instance_type, e);
}

static int res_accs(struct ctx *c, const struct ynode *n, const char *what,
                    struct rpart *p, struct err *e)
{
    if (p->set & RP_ACC)
        return yerr(c->d, n, ST_EINVAL, e,
                    "%s: give accelerators or gpus (its alias), not both", what);
    p->set |= RP_ACC;
    return accs_parse(c, n, what, p, e);
}

static int res_infra(struct ctx *c, const struct ynode *n, const char *what,
                     struct rpart *p, struct err *e)
{
    p->locset |= LOC_INFRA;
    p->locat = n;
    if (ynode_is_null(n))
        return 0;
    return loc_parse(c, n, what, 1, &p->loc, e);
}

/* The legacy keys cloud, region and zone (SkyPilot before `infra`). */
static int res_legacy(struct ctx *c, const struct ynode *n, const char *what,
                      unsigned bit, struct rpart *p, struct err *e)
{
    const char *text;
    int rc;

    p->locset |= bit;
    p->locat = n;
    if (ynode_is_null(n))
        return 0;
    if ((rc = yget_str(c->d, n, what, &text, e)) != 0)
        return rc;
    if (bit == LOC_CLOUD)
        return cloud_canon(c, n, what, text, &p->loc.cloud, e);
    return loc_part(c, n, what, text, 0,
                    bit == LOC_REGION ? &p->loc.region : &p->loc.zone, e);
}

static int res_cloud(struct ctx *c, const struct ynode *n, const char *what,
                     struct rpart *p, struct err *e)
{
    return res_legacy(c, n, what, LOC_CLOUD, p, e);
}

static int res_region(struct ctx *c, const struct ynode *n, const char *what,
                      struct rpart *p, struct err *e)
{
    return res_legacy(c, n, what, LOC_REGION, p, e);
}

static int res_zone(struct ctx *c, const struct ynode *n, const char *what,
                    struct rpart *p, struct err *e)
{
    return res_legacy(c, n, what, LOC_ZONE, p, e);
}

/* ---- launch options, passed to the driver (top of resources only) ---- */

#define PORTS_MAX_LEN 1024
#define IMAGE_MAX_LEN 512
#define MAX_IMAGES 256

/* One port "8080" or range "10022-10040" appended to buf as text. */
static int port_piece(struct ctx *c, const struct ynode *n, const char *what,
                      const char *text, char *buf, size_t len, struct err *e)
{
    char t[32], *dash;
    long lo, hi;
    size_t off = strlen(buf);

    if (trimmed(text, t, sizeof(t)) != 0)
        goto bad;
    dash = strchr(t, '-');
    if (dash != NULL)
        *dash = '\0';
    if (str_to_long(t, 1, 65535, &lo) != 0 ||
        (dash && str_to_long(dash + 1, 1, 65535, &hi) != 0))
        goto bad;
    if (!dash)
        hi = lo;
    if (hi < lo)
        goto bad;
    if (hi == lo)
        snprintf(t, sizeof(t), "%ld", lo);
    else
        snprintf(t, sizeof(t), "%ld-%ld", lo, hi);
    if (off + strlen(t) + 2 > len)
        return yerr(c->d, n, ST_ETOOBIG, e, "%s: too many ports", what);
    snprintf(buf + off, len - off, "%s%s", off ? "," : "", t);
    return 0;
bad:
    return yerr(c->d, n, ST_EINVAL, e,
                "%s: '%s' is not a port (1-65535) or a range such as 10022-10040", what,
                vis(c, text));
}

/* ports: 8081, "10052-10100", or a list of those (SkyPilot). */
static int res_ports(struct ctx *c, const struct ynode *n, const char *what,
                     struct rpart *p, struct err *e)
{
    char buf[PORTS_MAX_LEN] = "";
    int rc = 0;

    (void)p;
    if (ynode_is_null(n))
        return 0;
    if (n->type == Y_MAP)
        return yexpect(c->d, n, Y_SEQ, what, e);
    if (n->type == Y_SCALAR)
        rc = port_piece(c, n, what, n->str, buf, sizeof(buf), e);
    for (size_t i = 0; n->type == Y_SEQ && i < n->n && rc == 0; i++) {
        if (n->items[i]->type != Y_SCALAR)
            return yexpect(c->d, n->items[i], Y_SCALAR, what, e);
        rc = port_piece(c, n->items[i], what, n->items[i]->str, buf, sizeof(buf), e);
    }
    if (rc == 0 && buf[0] != '\0') {
        free(c->s->ports);
        c->s->ports = xstrdup(buf);
    }
    return rc;
}

static void image_add(struct spec *s, const char *region, const char *image)
{
    s->images = xrealloc(s->images, (s->nimages + 1) * sizeof(*s->images));
    s->images[s->nimages].region = region ? xstrdup(region) : NULL;
    s->images[s->nimages++].image = xstrdup(image);
}

/* image_id: one image, or a mapping region -> image (SkyPilot: then only
 * those regions are used). */
static int res_image(struct ctx *c, const struct ynode *n, const char *what,
                     struct rpart *p, struct err *e)
{
    const char *img;
    int rc;

    (void)p;
    if (ynode_is_null(n))
        return 0;
    if (n->type == Y_SCALAR) {
        if ((rc = get_line(c, n, what, IMAGE_MAX_LEN, &img, e)) == 0)
            image_add(c->s, NULL, img);
        return rc;
    }
    if ((rc = yexpect(c->d, n, Y_MAP, what, e)) != 0)
        return rc;
    if (n->n > MAX_IMAGES)
        return yerr(c->d, n, ST_ETOOBIG, e, "%s: more than %d regions", what, MAX_IMAGES);
    for (size_t i = 0; i < n->n; i++) {
        const char *region;

        if ((rc = get_word(c, n->keys[i], what, "-_.", WORD_MAX_LEN, &region, e)) != 0 ||
            (rc = get_line(c, n->items[i], what, IMAGE_MAX_LEN, &img, e)) != 0)
            return rc;
        image_add(c->s, region, img);
    }
    return 0;
}

static int res_disk_tier(struct ctx *c, const struct ynode *n, const char *what,
                         struct rpart *p, struct err *e)
{
    static const char *const tiers[] = {"low", "medium", "high", "ultra", "best", NULL};
    const char *t, *sug;
    int rc;

    (void)p;
    if (ynode_is_null(n))
        return 0;
    if ((rc = get_line(c, n, what, WORD_MAX_LEN, &t, e)) != 0)
        return rc;
    for (size_t i = 0; tiers[i]; i++) {
        if (strcasecmp(t, tiers[i]) == 0) {
            free(c->s->disk_tier);
            c->s->disk_tier = xstrdup(tiers[i]);
            return 0;
        }
    }
    sug = suggest(t, tiers);
    return yerr(c->d, n, ST_EINVAL, e,
                "%s must be low, medium, high, ultra or best, not '%s'%s%s%s", what,
                vis(c, t), sug ? " (did you mean '" : "", sug ? sug : "",
                sug ? "'?)" : "");
}

/* accelerator_args: a mapping of single values, kept as "key=value,...". */
static int res_acc_args(struct ctx *c, const struct ynode *n, const char *what,
                        struct rpart *p, struct err *e)
{
    char buf[1024];
    size_t off = 0;
    int rc;

    (void)p;
    if (ynode_is_null(n))
        return 0;
    if ((rc = yexpect(c->d, n, Y_MAP, what, e)) != 0)
        return rc;
    buf[0] = '\0';
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *v = n->items[i];
        int w;

        if (v->type != Y_SCALAR)
            return yerr(c->d, v, ST_EINVAL, e, "%s.%s must be a single value", what,
                        vis(c, n->keys[i]->str));
        w = snprintf(buf + off, sizeof(buf) - off, "%s%s=%s", off ? "," : "",
                     n->keys[i]->str, v->str);
        if (w < 0 || (size_t)w >= sizeof(buf) - off)
            return yerr(c->d, n, ST_ETOOBIG, e, "%s is too long", what);
        off += (size_t)w;
    }
    free(c->s->accelerator_args);
    c->s->accelerator_args = off ? xstrdup(buf) : NULL;
    return 0;
}

/* SkyPilot's managed-job recovery maps onto Stratus' own: FAILOVER and
 * EAGER_NEXT_REGION are the same two strategies.  stratus.recovery, parsed
 * later, wins when both are given. */
static int recovery_parse(struct ctx *c, const struct ynode *n, const char *what,
                          const char *text, struct err *e)
{
    static const char *const names[] = {"failover", "eager-next-region", NULL};
    char buf[32];
    const char *sug;

    if (trimmed(text, buf, sizeof(buf)) == 0) {
        for (char *q = buf; *q; q++)
            *q = *q == '_' ? '-' : (char)tolower((unsigned char)*q);
        for (int i = 0; names[i]; i++) {
            if (strcmp(buf, names[i]) == 0)
                return c->s->recovery = (enum spec_recovery)i, 0;
        }
    }
    sug = suggest(text, names);
    return yerr(c->d, n, ST_EINVAL, e,
                "%s must be failover or eager-next-region, not '%s'%s%s%s", what,
                vis(c, text), sug ? " (did you mean '" : "", sug ? sug : "",
                sug ? "'?)" : "");
}

static int res_job_recovery(struct ctx *c, const struct ynode *n, const char *what,
                            struct rpart *p, struct err *e)
{
    static const char *const keys[] = {"strategy", "max_restarts_on_errors",
                                       "recover_on_exit_codes", NULL};
    const struct ynode *strategy = n;
    int rc;

    (void)p;
    if (ynode_is_null(n))
        return 0;
    if (n->type == Y_MAP) {
        if ((rc = ymap_check_keys(c->d, n, keys, what, e)) != 0)
            return rc;
        for (size_t i = 0; i < n->n; i++) {
            if (strcmp(n->keys[i]->str, "strategy") != 0)
                warn(c, n->keys[i],
                     "%s.%s is not honoured yet (stratus.recovery.max_restarts counts "
                     "every restart)",
                     what, n->keys[i]->str);
        }
        strategy = ymap_get(n, "strategy");
        if (ynode_is_null(strategy))
            return 0;
    }
    if (strategy->type != Y_SCALAR)
        return yexpect(c->d, strategy, Y_SCALAR, what, e);
    if (strcasecmp(strategy->str, "none") == 0) {
        warn(c, strategy,
             "%s 'none' is not honoured: Stratus always recovers "
             "(set stratus.recovery.max_restarts: 0 to never restart)",
             what);
        return 0;
    }
    return recovery_parse(c, strategy, what, strategy->str, e);
}

typedef int (*rfield_fn)(struct ctx *c, const struct ynode *v, const char *what,
                         struct rpart *p, struct err *e);

/* Where a resources key may be written. */
enum rscope {
    RS_ANY,      /* the top of resources and any_of/ordered entries */
    RS_BASE,     /* the top only: an error inside an entry */
    RS_BASE_USED /* used at the top only, warned about inside an entry */
};

/* One key of a resources mapping: parsed, or accepted with a warning. */
struct rkey {
    const char *key;
    rfield_fn parse; /* NULL: accepted but not honoured yet */
    const char *why; /* for the warning when parse is NULL */
    enum rscope scope;
};

static const struct rkey rkeys[] = {
    {"accelerators", res_accs, NULL, RS_ANY},
    {"gpus", res_accs, NULL, RS_ANY},
    {"infra", res_infra, NULL, RS_ANY},
    {"cloud", res_cloud, NULL, RS_ANY},
    {"region", res_region, NULL, RS_ANY},
    {"zone", res_zone, NULL, RS_ANY},
    {"instance_type", res_itype, NULL, RS_ANY},
    {"use_spot", res_spot, NULL, RS_ANY},
    {"cpus", res_cpus, NULL, RS_ANY},
    {"memory", res_memory, NULL, RS_ANY},
    {"disk_size", res_disk, NULL, RS_ANY},
    {"job_recovery", res_job_recovery, NULL, RS_BASE_USED},
    {"spot_recovery", res_job_recovery, NULL, RS_BASE_USED},
    {"any_of", NULL, NULL, RS_BASE},  /* handled by alts_build() */
    {"ordered", NULL, NULL, RS_BASE}, /* handled by alts_build() */
    {"accelerator_args", res_acc_args, NULL, RS_BASE_USED},
    {"disk_tier", res_disk_tier, NULL, RS_BASE_USED},
    {"network_tier", NULL, "each offer carries its own interconnect", RS_ANY},
    {"local_disk", NULL, "local disks are not attached", RS_ANY},
    {"ephemeral_storage", NULL, "disk_size is used", RS_ANY},
    {"volumes", NULL, "volumes are not attached", RS_ANY},
    {"image_id", res_image, NULL, RS_BASE_USED},
    {"ports", res_ports, NULL, RS_BASE_USED},
    {"labels", NULL, "instances are not labelled", RS_ANY},
    {"autostop", NULL, "nodes stop when the job ends", RS_ANY},
    {"max_hourly_cost", NULL, "set max_hourly_cost in the organisation policy", RS_ANY},
    {"priority", NULL, "use stratus.priority", RS_ANY},
    {"priority_class", NULL, "there are no priority classes", RS_ANY},
};
#define NRKEYS (sizeof(rkeys) / sizeof(rkeys[0]))

static const struct rkey *rkey_find(const char *key)
{
    for (size_t i = 0; i < NRKEYS; i++) {
        if (strcmp(rkeys[i].key, key) == 0)
            return &rkeys[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* One resources mapping                                                     */

/* Unknown keys are errors with a suggestion; any_of/ordered inside an entry
 * get their own message. */
static int rpart_check_keys(struct ctx *c, const struct ynode *map, const char *where,
                            int base, struct err *e)
{
    const char *names[NRKEYS + 1];
    size_t i;

    for (i = 0; i < NRKEYS; i++)
        names[i] = rkeys[i].key;
    names[NRKEYS] = NULL;
    for (i = 0; i < map->n; i++) {
        const struct rkey *k = rkey_find(map->keys[i]->str);

        if (k != NULL && k->scope == RS_BASE && !base)
            return yerr(c->d, map->keys[i], ST_EINVAL, e,
                        "%s cannot be given inside %s; put it at the top of resources",
                        k->key, where);
    }
    return ymap_check_keys(c->d, map, names, where, e);
}

/* Parse a resources mapping (where = "resources" or "resources.any_of[2]"). */
static int rpart_parse(struct ctx *c, const struct ynode *map, const char *where,
                       int base, struct rpart *p, struct err *e)
{
    char what[96];
    int rc;

    p->use_spot = -1;
    p->line = map->line;
    if ((rc = yexpect(c->d, map, Y_MAP, where, e)) != 0)
        return rc;
    if ((rc = rpart_check_keys(c, map, where, base, e)) != 0)
        return rc;
    for (size_t i = 0; i < map->n; i++) {
        const struct rkey *k = rkey_find(map->keys[i]->str);

        path_join(what, sizeof(what), where, k->key);
        if (k->scope == RS_BASE_USED && !base)
            warn(c, map->keys[i], "%s is honoured only at the top of resources", what);
        else if (k->parse != NULL)
            rc = k->parse(c, map->items[i], what, p, e);
        else if (k->why != NULL)
            warn(c, map->keys[i], "%s is not honoured yet (%s)", what, k->why);
        if (rc != 0)
            return rc;
    }
    if ((p->locset & LOC_INFRA) && (p->locset & ~(unsigned)LOC_INFRA))
        return yerr(c->d, ymap_get(map, "infra"), ST_EINVAL, e,
                    "%s: give either infra or cloud/region/zone, not both", where);
    if (p->locat != NULL)
        loc_note_unsched(c, p->locat, p->loc.cloud);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Alternatives                                                              */

/* Location of one alternative.  An entry's infra replaces the base location;
 * a legacy key replaces its level and clears the levels below it (a new cloud
 * drops the base's region and zone, which belonged to the old cloud). */
static void loc_merge(const struct rpart *b, const struct rpart *a, const char **cloud,
                      const char **region, const char **zone)
{
    const struct loc *l = (a && (a->locset & LOC_INFRA)) ? &a->loc : &b->loc;

    *cloud = l->cloud;
    *region = l->region;
    *zone = l->zone;
    if (a == NULL || (a->locset & LOC_INFRA))
        return;
    if (a->locset & LOC_CLOUD) {
        *cloud = a->loc.cloud;
        *region = *zone = NULL;
    }
    if (a->locset & LOC_REGION) {
        *region = a->loc.region;
        *zone = NULL;
    }
    if (a->locset & LOC_ZONE)
        *zone = a->loc.zone;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* SkyPilot's default for CPU work (no accelerator, no instance type): its
 * AWS, GCP and Azure catalogs (sky/catalog/{aws,gcp,azure}_catalog.py,
 * get_default_instance_type) ask for _DEFAULT_NUM_VCPUS = 8 as "8+" when
 * neither cpus nor memory is given, and for memory of at least
 * _DEFAULT_MEMORY_CPU_RATIO = 4 GiB per vCPU when memory is not given.  Its
 * restriction to a few default instance families is not copied: every CPU
 * offer that fits may be chosen. */
#define CPU_DEFAULT_VCPUS 8
#define CPU_DEFAULT_GIB_PER_VCPU 4

static void cpu_defaults(struct spec_res *r)
{
    if (r->accelerator != NULL || r->instance_type != NULL)
        return;
    if (r->cpus <= 0 && r->memory_gib <= 0) {
        r->cpus = CPU_DEFAULT_VCPUS;
        r->cpus_exact = 0;
    }
    if (r->memory_gib <= 0)
        r->mem_per_cpu = CPU_DEFAULT_GIB_PER_VCPU;
}

/* Fill r from the base merged with entry a (may be NULL) and one accelerator. */
static void res_fill(struct spec_res *r, const struct rpart *b, const struct rpart *a,
                     const struct acc *acc)
{
    const char *cloud, *region, *zone;
#define PICK(bit) (a && (a->set & (bit)) ? a : b)

    memset(r, 0, sizeof(*r));
    loc_merge(b, a, &cloud, &region, &zone);
    r->cloud = dup_or_null(cloud);
    r->region = dup_or_null(region);
    r->zone = dup_or_null(zone);
    r->accelerator = acc ? xstrdup(acc->name) : NULL;
    r->acc_count = acc ? acc->count : 0;
    r->acc_part = acc ? acc->part : 0;
    r->instance_type = dup_or_null(PICK(RP_ITYPE)->instance_type);
    r->use_spot = PICK(RP_SPOT)->use_spot;
    r->cpus = PICK(RP_CPUS)->cpus;
    r->cpus_exact = r->cpus > 0 && PICK(RP_CPUS)->cpus_exact;
    r->memory_gib = PICK(RP_MEM)->mem_gib;
    r->memory_exact = r->memory_gib > 0 && PICK(RP_MEM)->mem_exact;
    r->disk_gb = PICK(RP_DISK)->disk_gb;
#undef PICK
    cpu_defaults(r);
}

/* Append the alternatives of base + entry a: one per accelerator, or one
 * without.  Alternatives on infrastructure Stratus cannot use are skipped. */
static int alts_expand(struct ctx *c, const struct ynode *at, const struct rpart *b,
                       const struct rpart *a, size_t *cap, struct err *e)
{
    const struct rpart *src = a && (a->set & RP_ACC) ? a : b;
    const struct rpart *loc = a && a->locset ? a : b; /* where the location was given */
    size_t n = src->naccs ? src->naccs : 1;
    struct spec *s = c->s;

    for (size_t i = 0; i < n; i++) {
        const struct acc *acc = src->naccs ? &src->accs[i] : NULL;
        struct spec_res r;

        if (s->nres == SPEC_MAX_ALTERNATIVES)
            return yerr(c->d, at, ST_ETOOBIG, e,
                        "resources expand to more than %d alternatives",
                        SPEC_MAX_ALTERNATIVES);
        res_fill(&r, b, a, acc);
        r.line = acc && src->naccs > 1 ? acc->at->line : a ? a->line : b->line;
        if (acc != NULL && acc->at != NULL) {
            r.acc_line = acc->at->line;
            r.acc_col = acc->at->col;
        }
        if (loc->locat != NULL) {
            r.loc_line = loc->locat->line;
            r.loc_col = loc->locat->col;
        }
        if (r.cloud && cloud_unschedulable(r.cloud)) {
            free(r.cloud);
            free(r.region);
            free(r.zone);
            free(r.accelerator);
            free(r.instance_type);
            continue;
        }
        s->res = xgrow(s->res, cap, s->nres + 1, sizeof(*s->res));
        s->res[s->nres++] = r;
    }
    return 0;
}

/* The any_of or ordered list, with SkyPilot's rules on combining them. */
static int alts_list(struct ctx *c, const struct ynode *res, const struct rpart *b,
                     const struct ynode **list, struct err *e)
{
    const struct ynode *any = ymap_get(res, "any_of"), *ord = ymap_get(res, "ordered");

    /* An empty or null list means no list at all, as in SkyPilot; said when
     * nothing else asks for an accelerator (more often a slip than CPU work) */
    if (b->naccs == 0 && b->instance_type == NULL)
        for (size_t k = 0; k < 2; k++) {
            const struct ynode *l = k ? ord : any;

            if (!ynode_is_null(l) && l->type == Y_SEQ && l->n == 0)
                warn(c, l,
                     "resources.%s is empty, so the job runs on CPUs only; list its "
                     "alternatives or leave the key out",
                     k ? "ordered" : "any_of");
        }
    if (ynode_is_null(any) || (any->type == Y_SEQ && any->n == 0))
        any = NULL;
    if (ynode_is_null(ord) || (ord->type == Y_SEQ && ord->n == 0))
        ord = NULL;
    if (any && ord)
        return yerr(c->d, ord, ST_EINVAL, e,
                    "resources: give any_of or ordered, not both");
    *list = any ? any : ord;
    if (*list && (*list)->type != Y_SEQ)
        return yexpect(c->d, *list, Y_SEQ, any ? "resources.any_of" : "resources.ordered",
                       e);
    if (ord && b->naccs > 1)
        return yerr(c->d, b->accs[0].at, ST_EINVAL, e,
                    "resources: several accelerators cannot be combined with ordered; "
                    "give each accelerator in its own ordered entry");
    if (any && b->naccs > 1 && b->form == ACC_LIST)
        return yerr(
            c->d, b->accs[0].at, ST_EINVAL, e,
            "resources: a list of accelerators (tried in order) cannot be combined "
            "with any_of; write them as a set {A: n, B: n} or inside the entries");
    c->s->ordered = ord != NULL || (*list == NULL && b->form == ACC_LIST && b->naccs > 1);
    return 0;
}

/* Parse one any_of/ordered entry and expand it. */
static int alt_entry(struct ctx *c, const struct ynode *item, const char *listname,
                     size_t i, const struct rpart *b, size_t *cap, struct err *e)
{
    struct rpart a;
    char where[48];
    int rc;

    memset(&a, 0, sizeof(a));
    snprintf(where, sizeof(where), "resources.%s[%zu]", listname, i);
    rc = rpart_parse(c, item, where, 0, &a, e);
    if (rc == 0 && a.naccs > 1)
        rc = yerr(
            c->d, a.accs[0].at, ST_EINVAL, e,
            "%s.accelerators must name one accelerator; give one entry per accelerator",
            where);
    if (rc == 0)
        rc = alts_expand(c, item, b, &a, cap, e);
    rpart_free(&a);
    return rc;
}

/* All alternatives of the resources mapping res (NULL when the spec has none). */
static int alts_build(struct ctx *c, const struct ynode *res, struct err *e)
{
    const struct ynode *list = NULL;
    struct rpart b;
    size_t cap = 0;
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.use_spot = -1;
    if (!ynode_is_null(res)) {
        rc = rpart_parse(c, res, "resources", 1, &b, e);
        if (rc == 0)
            rc = alts_list(c, res, &b, &list, e);
    }
    for (size_t i = 0; rc == 0 && list && i < list->n; i++)
        rc = alt_entry(c, list->items[i],
                       ymap_get(res, "any_of") == list ? "any_of" : "ordered", i, &b,
                       &cap, e);
    if (rc == 0 && list == NULL)
        rc = alts_expand(c, res ? res : c->d->root, &b, NULL, &cap, e);
    if (rc == 0 && c->s->nres == 0)
        rc = yerr(c->d, c->unsched, ST_EINVAL, e,
                  "infra %s, and no other alternative is left; name a cloud (aws, "
                  "azure, gcp, oci, lambda or nebius) instead",
                  c->unsched_why);
    rpart_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Task fields                                                               */

static int task_name(struct ctx *c, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc;

    if (ynode_is_null(n))
        return 0;
    if ((rc = get_line(c, n, "name", NAME_MAX_LEN, &s, e)) != 0)
        return rc;
    c->s->name = xstrdup(s);
    return 0;
}

static int task_num_nodes(struct ctx *c, const struct ynode *n, struct err *e)
{
    long v = 1;
    int rc;

    if (ynode_is_null(n))
        return 0;
    rc = yget_long(c->d, n, "num_nodes", 1, SPEC_MAX_NUM_NODES, &v, e);
    c->s->num_nodes = (int)v;
    return rc;
}

/* setup and run: shell text, any length the file allows. */
static int task_script(struct ctx *c, const struct ynode *n, const char *what, char **out,
                       struct err *e)
{
    const char *s;
    int rc;

    if (ynode_is_null(n))
        return 0;
    if (n->type != Y_SCALAR)
        return yerr(
            c->d, n, ST_EINVAL, e,
            "%s must be a shell script (a single value; use '|' for several lines), "
            "not %s",
            what, ynode_type_name(n->type));
    if ((rc = yget_str(c->d, n, what, &s, e)) != 0)
        return rc;
    *out = xstrdup(s);
    return 0;
}

/* workdir: a local path, or SkyPilot's {url, ref} git form (not honoured). */
static int task_workdir(struct ctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"url", "ref", NULL};
    const char *s;
    int rc;

    if (ynode_is_null(n))
        return 0;
    if (n->type == Y_MAP) {
        if ((rc = ymap_check_keys(c->d, n, keys, "workdir", e)) != 0)
            return rc;
        warn(c, n, "workdir from a git repository is not honoured yet");
        return 0;
    }
    if ((rc = get_line(c, n, "workdir", PATH_MAX_LEN, &s, e)) != 0)
        return rc;
    c->s->workdir = xstrdup(s);
    return 0;
}

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]* (as SkyPilot checks). */
static int env_name_ok(const char *k)
{
    return (isalpha((unsigned char)k[0]) || k[0] == '_') && is_word(k, "_") &&
           strlen(k) <= 256;
}

int spec_secret_name_ok(const char *name)
{
    size_t i;

    if (name == NULL || name[0] == '\0' || strlen(name) > SPEC_SECRET_NAME_MAX ||
        name[0] == '-' || name[0] == '.')
        return 0;
    for (i = 0; name[i]; i++) {
        char ch = name[i];

        /* ASCII only, whatever the locale says isalnum() is */
        if (!(ch == '_' || ch == '-' || ch == '.' || (ch >= 'a' && ch <= 'z') ||
              (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return 0;
    }
    return 1;
}

size_t spec_secret_refs(const struct spec *s)
{
    size_t i, n = 0;

    for (i = 0; i < s->nenvs; i++)
        n += s->envs[i].secret != NULL;
    return n;
}

/* A new variable `key` written at k, after checking that neither envs: nor
 * secrets: has it already (the two share one namespace: the environment). */
static int env_add(struct ctx *c, const struct ynode *k, const char *where,
                   struct spec_env **out, struct err *e)
{
    struct spec *s = c->s;
    struct spec_env *env;

    if (!env_name_ok(k->str))
        return yerr(c->d, k, ST_EINVAL, e,
                    "%s: '%s' is not a variable name (letters, digits and '_', not "
                    "starting with a digit)",
                    where, vis(c, k->str));
    for (size_t i = 0; i < s->nenvs; i++) {
        if (strcmp(s->envs[i].key, k->str) == 0)
            return yerr(c->d, k, ST_EINVAL, e,
                        "%s.%s: the variable is set at line %zu already (in envs: or "
                        "secrets:); give it one value",
                        where, k->str, s->envs[i].line);
    }
    if (s->nenvs >= MAX_ENVS)
        return yerr(c->d, k, ST_ETOOBIG, e,
                    "%s: more than %d variables with envs and secrets together", where,
                    MAX_ENVS);
    s->envs = xgrow(s->envs, &c->envcap, s->nenvs + 1, sizeof(*s->envs));
    env = &s->envs[s->nenvs++];
    memset(env, 0, sizeof(*env));
    env->key = xstrdup(k->str);
    env->line = k->line;
    env->col = k->col;
    *out = env;
    return 0;
}

/* {secret: NAME} as the value of variable env: it refers to the team's
 * secret NAME, which the job gets at launch. */
static int env_secret_ref(struct ctx *c, const char *where, const struct ynode *v,
                          struct spec_env *env, struct err *e)
{
    static const char *const keys[] = {"secret", NULL};
    const struct ynode *name = ymap_get(v, "secret");
    char what[300];
    int rc;

    snprintf(what, sizeof(what), "%s.%s", where, env->key);
    if (name == NULL)
        return yerr(c->d, v, ST_EINVAL, e,
                    "%s must be a single value or {secret: NAME} (a secret of the "
                    "job's team), not another mapping",
                    what);
    if ((rc = ymap_check_keys(c->d, v, keys, what, e)) != 0)
        return rc;
    if (ynode_is_null(name) || name->type != Y_SCALAR)
        return yerr(c->d, v, ST_EINVAL, e,
                    "%s needs the name of a secret: {secret: NAME} (stratus secret ls "
                    "lists a team's)",
                    what);
    if (!spec_secret_name_ok(name->str))
        return yerr(c->d, name, ST_EINVAL, e,
                    "%s: '%s' is not a secret name (letters, digits, '_', '-' and '.', "
                    "at most %d, starting with a letter, digit or '_')",
                    what, vis(c, name->str), SPEC_SECRET_NAME_MAX);
    env->secret = xstrdup(name->str);
    env->value = xstrdup("");
    return 0;
}

static int task_envs(struct ctx *c, const struct ynode *n, struct err *e)
{
    int rc;

    if (ynode_is_null(n))
        return 0;
    if ((rc = yexpect(c->d, n, Y_MAP, "envs", e)) != 0)
        return rc;
    if (n->n > MAX_ENVS)
        return yerr(c->d, n, ST_ETOOBIG, e, "envs: more than %d variables", MAX_ENVS);
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *k = n->keys[i], *v = n->items[i];
        struct spec_env *env;

        if ((rc = env_add(c, k, "envs", &env, e)) != 0)
            return rc;
        if (v->type == Y_MAP) {
            if ((rc = env_secret_ref(c, "envs", v, env, e)) != 0)
                return rc;
            continue;
        }
        if (!ynode_is_null(v) && v->type != Y_SCALAR)
            return yerr(c->d, v, ST_EINVAL, e,
                        "envs.%s must be a single value or {secret: NAME}, not %s",
                        vis(c, k->str), ynode_type_name(v->type));
        env->unset = ynode_is_null(v);
        env->value = xstrdup(env->unset ? "" : v->str);
        if (env->unset)
            warn(c, k,
                 "envs.%s has no value; SkyPilot expects it at launch (--env), "
                 "Stratus runs the job with it empty",
                 vis(c, k->str));
    }
    return 0;
}

/* SkyPilot's secrets: {K: null} (given at launch with --secret there) is
 * the team's secret named K here; {K: {secret: NAME}} the team's secret
 * NAME.  A value written in the spec is refused: the spec text is stored
 * with the job, so the value would be kept in the clear. */
static int top_secrets(struct ctx *c, const struct ynode *n, struct err *e)
{
    int rc;

    if (ynode_is_null(n))
        return 0;
    if ((rc = yexpect(c->d, n, Y_MAP, "secrets", e)) != 0)
        return rc;
    if (n->n > MAX_ENVS)
        return yerr(c->d, n, ST_ETOOBIG, e, "secrets: more than %d variables", MAX_ENVS);
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *k = n->keys[i], *v = n->items[i];
        struct spec_env *env;

        if ((rc = env_add(c, k, "secrets", &env, e)) != 0)
            return rc;
        if (v->type == Y_MAP) {
            if ((rc = env_secret_ref(c, "secrets", v, env, e)) != 0)
                return rc;
            continue;
        }
        if (!ynode_is_null(v))
            return yerr(
                c->d, v, ST_EINVAL, e,
                "secrets.%s: a value written in the spec would be stored with the "
                "job in plain text; keep it in the server (stratus secret set %s "
                "--team TEAM, the value on stdin) and write '%s: null' (the "
                "team's secret %s) or '%s: {secret: NAME}'",
                vis(c, k->str), vis(c, k->str), vis(c, k->str), vis(c, k->str),
                vis(c, k->str));
        if (!spec_secret_name_ok(k->str))
            return yerr(c->d, k, ST_EINVAL, e,
                        "secrets.%s: a secret's name may have at most %d characters; "
                        "write '%s: {secret: NAME}' with a shorter name",
                        vis(c, k->str), SPEC_SECRET_NAME_MAX, vis(c, k->str));
        env->secret = xstrdup(k->str);
        env->value = xstrdup("");
    }
    return 0;
}

/* ---- file_mounts: local copies and where buckets are ---- */

#define MAX_MOUNTS 256

/* The cloud a bucket URL is on: "aws" for s3://, ...; NULL for a local path.
 * *known says whether the scheme is one SkyPilot mounts.  Cloudflare R2
 * (r2://) and IBM COS (cos://) are buckets on clouds Stratus' catalog has no
 * offers on: R2 charges no egress, COS egress is not priced. */
static const char *bucket_cloud(const char *src, int *bucket)
{
    static const struct {
        const char *prefix, *cloud;
    } schemes[] = {
        {"s3://", "aws"},  {"gs://", "gcp"},        {"az://", "azure"},
        {"oci://", "oci"}, {"nebius://", "nebius"}, {"r2://", "cloudflare"},
        {"cos://", "ibm"},
    };

    *bucket = strstr(src, "://") != NULL;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncasecmp(src, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
            return schemes[i].cloud;
    }
    /* Azure Blob Storage: https://ACCOUNT.blob.core.windows.net/CONTAINER */
    if (strncasecmp(src, "https://", 8) == 0 &&
        strstr(src, ".blob.core.windows.net") != NULL)
        return "azure";
    return NULL;
}

/* A bucket tells the planner where the data is (stratus.data, parsed later,
 * wins); its region is unknown, so egress is priced by cloud (plan.c). */
static void mount_data_location(struct ctx *c, const struct ynode *at, const char *dst,
                                const char *cloud)
{
    struct spec *s = c->s;

    if (strcmp(cloud, "cloudflare") == 0)
        return; /* R2 has no egress fees: nothing to price */
    if (strcmp(cloud, "ibm") == 0) {
        warn(c, at, "file_mounts.%s: egress from IBM Cloud Object Storage is not priced",
             vis(c, dst));
        return;
    }
    if (s->data_cloud == NULL) {
        s->data_cloud = xstrdup(cloud);
        c->bucket_at = at;
        snprintf(c->bucket_dst, sizeof(c->bucket_dst), "%s", vis(c, dst));
        return;
    }
    if (strcmp(s->data_cloud, cloud) != 0)
        warn(c, at,
             "file_mounts.%s: buckets on %s and %s; egress is priced from %s, the "
             "first (stratus.data.location says otherwise)",
             vis(c, dst), s->data_cloud, cloud, s->data_cloud);
}

static void mount_add(struct spec *s, const char *dst, const char *src, int bucket,
                      const char *cloud)
{
    struct spec_mount *m;

    s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof(*s->mounts));
    m = &s->mounts[s->nmounts++];
    m->dst = xstrdup(dst);
    m->src = xstrdup(src);
    m->is_bucket = bucket;
    m->cloud = cloud ? xstrdup(cloud) : NULL;
}

/* A bucket given by name (and store), without a source: SkyPilot mounts it,
 * creating it if needed.  Its store says the cloud; Stratus creates none. */
static int mount_by_name(struct ctx *c, const struct ynode *k, const struct ynode *v,
                         struct err *e)
{
    static const char *const stores[][2] = {
        {"s3", "aws"},        {"gcs", "gcp"}, {"azure", "azure"},   {"oci", "oci"},
        {"r2", "cloudflare"}, {"ibm", "ibm"}, {"nebius", "nebius"},
    };
    const struct ynode *st = ymap_get(v, "store");
    const char *store = NULL;
    int rc;

    if (!ynode_is_null(st) &&
        (rc = get_line(c, st, "file_mounts store", WORD_MAX_LEN, &store, e)) != 0)
        return rc;
    for (size_t i = 0; store && i < sizeof(stores) / sizeof(stores[0]); i++) {
        if (strcasecmp(store, stores[i][0]) == 0) {
            const struct ynode *nm = ymap_get(v, "name");

            mount_data_location(c, st, k->str, stores[i][1]);
            mount_add(c->s, k->str,
                      nm && nm->type == Y_SCALAR && !ynode_is_null(nm) ? nm->str : store,
                      1, stores[i][1]);
            return 0;
        }
    }
    warn(c, k,
         "file_mounts.%s names a bucket without a source%s; Stratus neither creates nor "
         "mounts it (the job must write to it itself)",
         vis(c, k->str), store ? " on an unknown store" : " or store");
    return 0;
}

/* The source of a storage mount {source: ..., mode: ...}; NULL when there is
 * none to read (a new bucket by name, or a list of local paths: warned). */
static int mount_source(struct ctx *c, const struct ynode *k, const struct ynode *v,
                        const char **src, struct err *e)
{
    static const char *const keys[] = {"name", "source", "store", "persistent",
                                       "mode", "config", NULL};
    const struct ynode *so;
    int rc;

    *src = NULL;
    if ((rc = ymap_check_keys(c->d, v, keys, "file_mounts entry", e)) != 0)
        return rc;
    so = ymap_get(v, "source");
    if (ynode_is_null(so))
        return mount_by_name(c, k, v, e);
    if (so->type != Y_SCALAR) {
        warn(c, so, "file_mounts.%s: a list of sources is not copied yet",
             vis(c, k->str));
        return 0;
    }
    return get_line(c, so, "file_mounts source", PATH_MAX_LEN, src, e);
}

static int mount_one(struct ctx *c, const struct ynode *k, const struct ynode *v,
                     struct err *e)
{
    const char *dst, *src = NULL, *cloud;
    int rc, bucket;

    if ((rc = get_line(c, k, "file_mounts destination", PATH_MAX_LEN, &dst, e)) != 0)
        return rc;
    if (ynode_is_null(v))
        return yerr(c->d, v, ST_EINVAL, e,
                    "file_mounts.%s needs a source: a local path, a bucket URL "
                    "(s3://, gs://, ...) or {source: ..., mode: ...}",
                    vis(c, dst));
    if (v->type == Y_MAP)
        rc = mount_source(c, k, v, &src, e);
    else if (v->type == Y_SCALAR)
        rc = get_line(c, v, "file_mounts source", PATH_MAX_LEN, &src, e);
    else
        rc = yexpect(c->d, v, Y_SCALAR, "file_mounts entry", e);
    if (rc != 0 || src == NULL)
        return rc;
    cloud = bucket_cloud(src, &bucket);
    if (bucket && cloud == NULL)
        warn(c, v,
             "file_mounts.%s: '%s' is not a bucket Stratus knows; it is not mounted",
             vis(c, dst), vis(c, src));
    if (cloud != NULL)
        mount_data_location(c, v, dst, cloud);
    mount_add(c->s, dst, src, bucket, cloud);
    return 0;
}

/* file_mounts: destination -> local path, bucket URL or storage mapping.
 * Local paths are copied to the node (the driver does it); buckets tell the
 * planner where the data is. */
static int top_file_mounts(struct ctx *c, const struct ynode *n, struct err *e)
{
    int rc;

    if (ynode_is_null(n))
        return 0;
    if ((rc = yexpect(c->d, n, Y_MAP, "file_mounts", e)) != 0)
        return rc;
    if (n->n > MAX_MOUNTS)
        return yerr(c->d, n, ST_ETOOBIG, e, "file_mounts: more than %d entries",
                    MAX_MOUNTS);
    for (size_t i = 0; i < n->n; i++) {
        if ((rc = mount_one(c, n->keys[i], n->items[i], e)) != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The stratus: section                                                      */

static int st_kind(struct ctx *c, const struct ynode *n, struct err *e)
{
    static const char *const kinds[] = {"train", "batch", "infer", NULL};
    const char *s, *sug;
    int k, rc;

    if ((rc = yget_str(c->d, n, "stratus.kind", &s, e)) != 0)
        return rc;
    k = spec_kind_parse(s);
    if (k >= 0) {
        c->s->kind = (enum spec_kind)k;
        return 0;
    }
    sug = suggest(s, kinds);
    if (sug)
        return yerr(
            c->d, n, ST_EINVAL, e,
            "stratus.kind must be train, batch or infer, not '%s' (did you mean '%s'?)",
            vis(c, s), sug);
    return yerr(c->d, n, ST_EINVAL, e,
                "stratus.kind must be train, batch or infer, not '%s'", vis(c, s));
}

static int st_team(struct ctx *c, const struct ynode *n, struct err *e)
{
    const char *s = NULL;
    int rc = get_line(c, n, "stratus.team", NAME_MAX_LEN, &s, e);

    if (rc == 0) {
        c->s->team = xstrdup(s);
        c->s->team_line = (uint32_t)n->line;
        c->s->team_col = (uint32_t)n->col;
    }
    return rc;
}

static int st_priority(struct ctx *c, const struct ynode *n, struct err *e)
{
    long v;
    int rc = yget_long(c->d, n, "stratus.priority", -1000, 1000, &v, e);

    if (rc == 0)
        c->s->priority = (int)v;
    return rc;
}

/* A duration in [0, MAX_DURATION_S]; min > 0 refuses zero. */
static int get_secs(struct ctx *c, const struct ynode *n, const char *what, double *out,
                    struct err *e)
{
    int rc = yget_duration(c->d, n, what, out, e);

    if (rc == 0 && (!isfinite(*out) || *out > MAX_DURATION_S)) {
        *out = 0;
        return yerr(c->d, n, ST_EINVAL, e, "%s is longer than ten years", what);
    }
    return rc;
}

static int st_duration(struct ctx *c, const struct ynode *n, struct err *e)
{
    int rc = get_secs(c, n, "stratus.duration", &c->s->duration_s, e);

    if (rc == 0 && !ynode_is_null(n) && !(c->s->duration_s > 0))
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.duration must be more than 0 (how long the job runs, as "
                    "'3h'); leave it out when that is not known");
    return rc;
}

/* n digits at *p into *out; advances *p.  -1 when they are not all digits. */
static int digits(const char **p, int n, long *out)
{
    long v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* The zone part of an ISO-8601 time: Z, +HH:MM, +HHMM or +HH; seconds east. */
static int iso_zone(const char *p, long *east)
{
    long hh, mm = 0;
    int sign;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return *east = 0, 0;
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 2, &hh) != 0)
        return -1;
    if (*p == ':')
        p++;
    if (*p != '\0' && digits(&p, 2, &mm) != 0)
        return -1;
    if (*p != '\0' || hh > 14 || mm > 59)
        return -1;
    *east = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* "YYYY-MM-DD" at *p into y, m, d (a real date from 1970 on); advances *p. */
static int iso_date(const char **p, long *y, long *m, long *d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap;

    if (digits(p, 4, y) != 0 || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, m) != 0 || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, d) != 0 || *y < 1970 || *m < 1 || *m > 12 || *d < 1 ||
        *d > mdays[*m - 1])
        return -1;
    leap = *y % 4 == 0 && (*y % 100 != 0 || *y % 400 == 0);
    return *m == 2 && *d == 29 && !leap ? -1 : 0;
}

/* "HH:MM[:SS[.fff]]" at *p into seconds of the day; advances *p. */
static int iso_clock(const char **p, double *secs)
{
    long h, mi, sec = 0;
    double frac = 0, scale = 0.1;

    if (digits(p, 2, &h) != 0 || **p != ':')
        return -1;
    (*p)++;
    if (digits(p, 2, &mi) != 0 || h > 23 || mi > 59)
        return -1;
    if (**p == ':') {
        (*p)++;
        if (digits(p, 2, &sec) != 0 || sec > 60)
            return -1;
    }
    if (**p == '.' || **p == ',') {
        for ((*p)++; isdigit((unsigned char)**p); (*p)++, scale /= 10)
            frac += (**p - '0') * scale;
    }
    *secs = (double)(h * 3600 + mi * 60 + sec) + frac;
    return 0;
}

enum iso_rc { ISO_OK = 0, ISO_BAD = -1, ISO_NO_TIME = -2, ISO_NO_ZONE = -3 };

/* Parse "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM)" into unix seconds. */
static enum iso_rc iso_time(const char *p, double *out)
{
    long y, m, d, east;
    double secs;

    if (iso_date(&p, &y, &m, &d) != 0)
        return ISO_BAD;
    if (*p == '\0')
        return ISO_NO_TIME;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return ISO_BAD;
    p++;
    if (iso_clock(&p, &secs) != 0)
        return ISO_BAD;
    if (*p == '\0')
        return ISO_NO_ZONE;
    if (iso_zone(p, &east) != 0)
        return ISO_BAD;
    *out = (double)clock_days_from_civil(y, m, d) * 86400 + secs - (double)east;
    return ISO_OK;
}

/* A deadline: a duration after submission ("48h"), or a date and time. */
static int st_deadline(struct ctx *c, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc = yget_str(c->d, n, "stratus.deadline", &s, e);

    if (rc != 0)
        return rc;
    if (!(strspn(s, "0123456789") == 4 && s[4] == '-')) {
        rc = get_secs(c, n, "stratus.deadline", &c->s->deadline_s, e);
        if (rc == 0 && c->s->deadline_s <= 0)
            return yerr(c->d, n, ST_EINVAL, e,
                        "stratus.deadline must be after submission");
        return rc;
    }
    switch (iso_time(s, &c->s->deadline_at)) {
    case ISO_OK:
        c->s->deadline_line = (uint32_t)n->line;
        c->s->deadline_col = (uint32_t)n->col;
        return 0;
    case ISO_NO_TIME:
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.deadline '%s' has no time of day; write e.g. '%sT00:00:00Z'",
                    vis(c, s), vis(c, s));
    case ISO_NO_ZONE:
        return yerr(
            c->d, n, ST_EINVAL, e,
            "stratus.deadline '%s' has no time zone; add 'Z' for UTC or an offset "
            "such as '+01:00'",
            vis(c, s));
    default:
        return yerr(
            c->d, n, ST_EINVAL, e,
            "stratus.deadline must be a duration (48h) or a date and time such as "
            "'2026-12-01T12:00:00Z', not '%s'",
            vis(c, s));
    }
}

static int st_checkpoint(struct ctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"interval", "restore", NULL};
    const struct ynode *v;
    int rc;

    if ((rc = yexpect(c->d, n, Y_MAP, "stratus.checkpoint", e)) != 0 ||
        (rc = ymap_check_keys(c->d, n, keys, "stratus.checkpoint", e)) != 0)
        return rc;
    v = ymap_get(n, "interval");
    if (!ynode_is_null(v) && (rc = get_secs(c, v, "stratus.checkpoint.interval",
                                            &c->s->ckpt_interval_s, e)) != 0)
        return rc;
    if (!ynode_is_null(v) && !(c->s->ckpt_interval_s > 0))
        return yerr(c->d, v, ST_EINVAL, e,
                    "stratus.checkpoint.interval must be more than 0 (leave checkpoint "
                    "out for a job that does not save its work)");
    v = ymap_get(n, "restore");
    if (!ynode_is_null(v) && (rc = get_secs(c, v, "stratus.checkpoint.restore",
                                            &c->s->ckpt_restore_s, e)) != 0)
        return rc;
    if (c->s->ckpt_restore_s > 0 && c->s->ckpt_interval_s <= 0)
        warn(c, n, "stratus.checkpoint.restore without an interval has no effect");
    return 0;
}

static int st_data_size(struct ctx *c, const struct ynode *n, struct err *e)
{
    const char *s;
    int rc = yget_str(c->d, n, "stratus.data.size_gb", &s, e);

    if (rc != 0)
        return rc;
    if (str_to_gb(s, &c->s->data_gb) != 0 || !isfinite(c->s->data_gb) ||
        c->s->data_gb > MAX_DATA_GB) {
        c->s->data_gb = 0;
        return yerr(
            c->d, n, ST_EINVAL, e,
            "stratus.data.size_gb must be a size such as 500 (GB) or 2TB, not '%s'",
            vis(c, s));
    }
    return 0;
}

/* Without a size the data would be free to move: no move priced, no
 * replica made, and a dataset's home not held by the jobs on it.  Noted
 * for spec_check_new (n: the data map, size: its size_gb). */
static void data_unsized(struct ctx *c, const struct ynode *n, const struct ynode *size)
{
    const struct ynode *at = ynode_is_null(size) ? n : size;

    if (!ynode_is_null(size) && (c->s->data_name == NULL || c->s->data_gb > 0))
        return;
    c->s->data_unsized = ynode_is_null(size) ? 1 : 2;
    c->s->data_unsized_line = at->line < UINT32_MAX ? (uint32_t)at->line : UINT32_MAX;
    c->s->data_unsized_col = at->col < 65535 ? (unsigned short)at->col : 65535;
}

static int st_data(struct ctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"location", "size_gb", "dataset", NULL};
    const struct ynode *v, *size;
    struct loc l;
    int rc;

    if ((rc = yexpect(c->d, n, Y_MAP, "stratus.data", e)) != 0 ||
        (rc = ymap_check_keys(c->d, n, keys, "stratus.data", e)) != 0)
        return rc;
    v = ymap_get(n, "dataset");
    if (!ynode_is_null(v)) {
        const char *name;

        if ((rc = get_line(c, v, "stratus.data.dataset", SPEC_SECRET_NAME_MAX, &name, e)) != 0)
            return rc;
        if (!spec_secret_name_ok(name))
            return yerr(c->d, v, ST_EINVAL, e,
                        "stratus.data.dataset '%s' must be letters, digits, '_', '-' and "
                        "'.', not starting with '-' or '.' (e.g. 'imagenet-2012')",
                        name);
        free(c->s->data_name);
        c->s->data_name = xstrdup(name);
    }
    v = ymap_get(n, "size_gb");
    if (!ynode_is_null(v) && (rc = st_data_size(c, v, e)) != 0)
        return rc;
    size = v;
    v = ymap_get(n, "location");
    if (ynode_is_null(v) && c->s->data_cloud == NULL &&
        (c->s->data_gb > 0 || c->s->data_name != NULL))
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.data has no location, and no bucket in file_mounts gives "
                    "one: say where the data is (location: azure/eastus)");
    if (ynode_is_null(v) && c->s->data_name != NULL)
        data_unsized(c, n, size); /* a bucket's data, named */
    if (ynode_is_null(v)) {       /* the home from a bucket: its errors point here */
        c->s->data_line = n->line;
        c->s->data_col = n->col;
        return 0;
    }
    memset(&l, 0, sizeof(l));
    rc = loc_parse(c, v, "stratus.data.location", 0, &l, e);
    if (rc == 0 && l.cloud && cloud_unschedulable(l.cloud))
        rc = yerr(c->d, v, ST_EINVAL, e,
                  "stratus.data.location must be a cloud region such as 'azure/eastus'");
    if (rc == 0)
        data_unsized(c, n, size);
    if (rc == 0) {
        free(c->s->data_cloud); /* stratus.data wins over buckets in file_mounts */
        free(c->s->data_region);
        c->s->data_cloud = l.cloud;
        c->s->data_region = l.region;
        c->s->data_line = v->line;
        c->s->data_col = v->col;
        l.cloud = l.region = NULL;
    }
    loc_free(&l);
    return rc;
}

static int st_recovery(struct ctx *c, const struct ynode *n, struct err *e)
{
    static const char *const keys[] = {"strategy", "max_restarts", NULL};
    const struct ynode *v;
    long max;
    int rc;

    if ((rc = yexpect(c->d, n, Y_MAP, "stratus.recovery", e)) != 0 ||
        (rc = ymap_check_keys(c->d, n, keys, "stratus.recovery", e)) != 0)
        return rc;
    v = ymap_get(n, "strategy");
    if (!ynode_is_null(v)) {
        if ((rc = yexpect(c->d, v, Y_SCALAR, "stratus.recovery.strategy", e)) != 0 ||
            (rc = recovery_parse(c, v, "stratus.recovery.strategy", v->str, e)) != 0)
            return rc;
    }
    v = ymap_get(n, "max_restarts");
    if (ynode_is_null(v))
        return 0;
    rc = yget_long(c->d, v, "stratus.recovery.max_restarts", 0, 1000, &max, e);
    if (rc == 0)
        c->s->max_restarts = (int)max;
    return rc;
}

typedef int (*field_fn)(struct ctx *c, const struct ynode *v, struct err *e);

struct skey {
    const char *key;
    field_fn parse;
};

/* stratus.service: the Stratus fields of the `service:` section (service.c). */
static int st_service(struct ctx *c, const struct ynode *n, struct err *e)
{
    if (c->s->service == NULL)
        return yerr(c->d, n, ST_EINVAL, e,
                    "stratus.service configures a service, but the spec has no "
                    "'service:' section (add one, e.g. service: {readiness_probe: "
                    "/health})");
    return svc_parse_stratus(c->d, n, c->s->service, e);
}

static const struct skey skeys[] = {
    {"kind", st_kind},         {"team", st_team},         {"priority", st_priority},
    {"duration", st_duration}, {"deadline", st_deadline}, {"checkpoint", st_checkpoint},
    {"data", st_data},         {"recovery", st_recovery}, {"service", st_service},
};
#define NSKEYS (sizeof(skeys) / sizeof(skeys[0]))

static const struct skey *skey_find(const char *key)
{
    for (size_t i = 0; i < NSKEYS; i++) {
        if (strcmp(skeys[i].key, key) == 0)
            return &skeys[i];
    }
    return NULL;
}

static int stratus_section(struct ctx *c, const struct ynode *n, struct err *e)
{
    const char *names[NSKEYS + 1];
    char d1[32], d2[32];
    const struct ynode *dl;
    int rc;

    for (size_t i = 0; i < NSKEYS; i++)
        names[i] = skeys[i].key;
    names[NSKEYS] = NULL;
    if ((rc = yexpect(c->d, n, Y_MAP, "stratus", e)) != 0 ||
        (rc = ymap_check_keys(c->d, n, names, "stratus", e)) != 0)
        return rc;
    for (size_t i = 0; i < n->n; i++) {
        if (ynode_is_null(n->items[i]))
            continue;
        if ((rc = skey_find(n->keys[i]->str)->parse(c, n->items[i], e)) != 0)
            return rc;
    }
    dl = ymap_get(n, "deadline");
    if (!ynode_is_null(dl)) { /* where it was written, for the checks at submission */
        c->s->deadline_line = (uint32_t)dl->line;
        c->s->deadline_col = (uint32_t)dl->col;
        if (c->s->service != NULL)
            warn(c, dl,
                 "stratus.deadline is not followed for a service: it runs until it is "
                 "taken down (serve down)");
        else if (!(c->s->duration_s > 0))
            warn(
                c, dl,
                "stratus.deadline without stratus.duration is not followed: the deadline "
                "rule needs the run time to know how late the job may start (give "
                "duration: 10h)");
    }
    if (c->s->deadline_s > 0 && c->s->deadline_s < c->s->duration_s &&
        !spec_alts_differ(c->s))
        return yerr(
            c->d, dl, ST_EINVAL, e,
            "stratus.deadline (%s) is shorter than stratus.duration (%s): the job "
            "cannot finish in time",
            str_duration(d1, sizeof(d1), c->s->deadline_s),
            str_duration(d2, sizeof(d2), c->s->duration_s));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The top level                                                             */

static int top_name(struct ctx *c, const struct ynode *v, struct err *e)
{
    return task_name(c, v, e);
}

static int top_num_nodes(struct ctx *c, const struct ynode *v, struct err *e)
{
    return task_num_nodes(c, v, e);
}

static int top_setup(struct ctx *c, const struct ynode *v, struct err *e)
{
    return task_script(c, v, "setup", &c->s->setup, e);
}

static int top_run(struct ctx *c, const struct ynode *v, struct err *e)
{
    return task_script(c, v, "run", &c->s->run, e);
}

static void svc_warn(void *arg, const struct ynode *at, const char *msg)
{
    warn(arg, at, "%s", msg);
}

/* service: parsed by service.c (`stratus serve up` runs it).  An empty
 * `service:` is no service, as in SkyPilot (it skips a null section). */
static int top_service(struct ctx *c, const struct ynode *v, struct err *e)
{
    const struct ynode *root = c->d->root, *key = NULL;

    for (size_t i = 0; i < root->n && key == NULL; i++) {
        if (root->items[i] == v)
            key = root->keys[i];
    }
    if (ynode_is_null(v)) {
        warn(c, key,
             "service is empty, so there is no service: the spec runs as a plain "
             "job (write e.g. service: {readiness_probe: /health})");
        return 0;
    }
    /* `stratus serve up` runs it as a service; `stratus launch` says what
     * it does with one (a job of kind infer, once). */
    return svc_parse(c->d, key, v, ymap_get(root, "resources"), svc_warn, c, &c->s->service,
                     e);
}

/* Top-level keys: parsed, handled elsewhere (resources, stratus) or accepted
 * with a warning.  `why` doubles as the warning's reason. */
struct tkey {
    const char *key;
    field_fn parse;  /* NULL: see why */
    const char *why; /* NULL: handled elsewhere; else not honoured yet */
};

static const struct tkey tkeys[] = {
    {"name", top_name, NULL},
    {"num_nodes", top_num_nodes, NULL},
    {"setup", top_setup, NULL},
    {"run", top_run, NULL},
    {"workdir", task_workdir, NULL},
    {"envs", task_envs, NULL},
    {"resources", NULL, NULL},
    {"stratus", NULL, NULL},
    {"file_mounts", top_file_mounts, NULL},
    {"secrets", top_secrets, NULL},
    {"managed_secrets", NULL, "secrets are not passed to the job"},
    {"volumes", NULL, "volumes are not attached"},
    {"volume_mounts", NULL, "volumes are not attached"},
    {"service", top_service, NULL},
    {"pool", NULL, "worker pools are not supported"},
    {"config", NULL, "SkyPilot configuration overrides do not apply"},
    {"experimental", NULL, "SkyPilot configuration overrides do not apply"},
    {"event_callback", NULL, "no callbacks are run"},
    {"inputs", NULL, "inputs are not tracked"},
    {"outputs", NULL, "outputs are not tracked"},
    {"file_mounts_mapping", NULL, "files are not mounted"},
    {"api_server_access", NULL, "there is no SkyPilot API server"},
    {"_metadata", NULL, "SkyPilot metadata is ignored"},
};
#define NTKEYS (sizeof(tkeys) / sizeof(tkeys[0]))

static const struct tkey *tkey_find(const char *key)
{
    for (size_t i = 0; i < NTKEYS; i++) {
        if (strcmp(tkeys[i].key, key) == 0)
            return &tkeys[i];
    }
    return NULL;
}

/* Unknown top-level keys: a Stratus or resources key in the wrong place gets a
 * pointer to the right one, anything else a did-you-mean. */
static int top_check_keys(struct ctx *c, const struct ynode *root, struct err *e)
{
    const char *names[NTKEYS + 1];

    for (size_t i = 0; i < root->n; i++) {
        const struct ynode *k = root->keys[i];

        if (tkey_find(k->str) != NULL)
            continue;
        if (skey_find(k->str) != NULL)
            return yerr(c->d, k, ST_EPARSE, e,
                        "'%s' belongs under 'stratus:' (stratus: {%s: ...})", k->str,
                        k->str);
        if (rkey_find(k->str) != NULL)
            return yerr(c->d, k, ST_EPARSE, e,
                        "'%s' belongs under 'resources:' (resources: {%s: ...})", k->str,
                        k->str);
    }
    for (size_t i = 0; i < NTKEYS; i++)
        names[i] = tkeys[i].key;
    names[NTKEYS] = NULL;
    return ymap_check_keys(c->d, root, names, "the workload spec", e);
}

static int top_fields(struct ctx *c, const struct ynode *root, struct err *e)
{
    int rc;

    for (size_t i = 0; i < root->n; i++) {
        const struct tkey *k = tkey_find(root->keys[i]->str);

        if (k->parse != NULL && (rc = k->parse(c, root->items[i], e)) != 0)
            return rc;
        if (k->parse == NULL && k->why != NULL)
            warn(c, root->keys[i], "%s is not honoured yet (%s)", k->key, k->why);
    }
    return 0;
}

/* The default name: the file's base name without .yaml/.yml (and without a
 * SkyPilot-style ".sky" before it: "serve.sky.yaml" is "serve"). */
static char *default_name(const char *path)
{
    const char *base = strrchr(path, '/');
    char *name, *dot;

    name = xstrdup(base ? base + 1 : path);
    dot = strrchr(name, '.');
    if (dot && dot != name && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        *dot = '\0';
    dot = strrchr(name, '.');
    if (dot && dot != name && strcmp(dot, ".sky") == 0)
        *dot = '\0';
    if (name[0] == '\0') {
        free(name);
        name = xstrdup("workload");
    }
    return name;
}

static struct spec *spec_new(const char *path)
{
    struct spec *s = xcalloc(1, sizeof(*s));

    s->path = xstrdup(path);
    s->num_nodes = 1;
    s->kind = SPEC_KIND_BATCH;
    s->recovery = SPEC_RECOVERY_FAILOVER;
    s->max_restarts = 3;
    return s;
}

/* Put the warnings in file order (they are made section by section) and
 * close the list with how many did not fit. */
static void warn_finish(struct ctx *c)
{
    struct spec *s = c->s;

    for (size_t i = 1; i < s->nwarnings; i++) {
        for (size_t j = i; j > 0; j--) {
            size_t *a = c->wpos[j - 1], *b = c->wpos[j], t0 = b[0], t1 = b[1];
            char *w = s->warnings[j];

            if (a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]))
                break;
            b[0] = a[0];
            b[1] = a[1];
            a[0] = t0;
            a[1] = t1;
            s->warnings[j] = s->warnings[j - 1];
            s->warnings[j - 1] = w;
        }
    }
    if (c->wdropped == 0)
        return;
    s->warnings = xgrow(s->warnings, &c->wcap, s->nwarnings + 1, sizeof(*s->warnings));
    s->warnings[s->nwarnings++] =
        xasprintf("%s: warning: %zu more warnings not shown", c->d->path, c->wdropped);
}

/* Walk the document: top-level keys, resources, then stratus (so that its
 * recovery strategy wins over SkyPilot's job_recovery). */
static int spec_walk(struct ctx *c, struct err *e)
{
    const struct ynode *root = c->d->root, *st;
    int rc;

    if (root == NULL)
        return err_at(e, ST_EPARSE, c->d->path, 0, 0,
                      "the file is empty; a workload spec needs at least 'run:'");
    if (root->type != Y_MAP)
        return yerr(
            c->d, root, ST_EPARSE, e,
            "a workload spec must be a mapping of keys (name:, resources:, run:, ...), "
            "not %s",
            ynode_type_name(root->type));
    if ((rc = top_check_keys(c, root, e)) != 0 || (rc = top_fields(c, root, e)) != 0 ||
        (rc = alts_build(c, ymap_get(root, "resources"), e)) != 0)
        return rc;
    if (c->s->service != NULL)
        c->s->kind = SPEC_KIND_INFER;
    st = ymap_get(root, "stratus");
    if (!ynode_is_null(st) && (rc = stratus_section(c, st, e)) != 0)
        return rc;
    /* a bucket's data of unknown size: the planner prices moving it at $0 */
    if (c->bucket_at != NULL && c->s->data_region == NULL && !(c->s->data_gb > 0))
        warn(c, c->bucket_at,
             "file_mounts.%s: how much data the bucket holds is not known, so moving it "
             "off %s is priced at $0; give its size (stratus.data: {size_gb: 500}) to "
             "have placement weigh the move",
             c->bucket_dst, c->s->data_cloud);
    if (c->s->run == NULL)
        warn(c, root, "no 'run:' command: the job has nothing to run");
    if (c->s->name == NULL)
        c->s->name = default_name(c->d->path);
    return 0;
}

static int spec_from_doc(struct spec **out, const struct ydoc *d, struct err *e)
{
    struct ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.d = d;
    c.s = spec_new(d->path);
    rc = spec_walk(&c, e);
    if (rc != 0) {
        spec_free(c.s);
        return rc;
    }
    warn_finish(&c);
    *out = c.s;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

int spec_load_mem(struct spec **out, const char *name, const char *data, size_t len,
                  struct err *e)
{
    struct ydoc d;
    int rc;

    *out = NULL;
    if (len > SPEC_MAX_BYTES)
        return err_set(e, ST_ETOOBIG, "%s: spec larger than %zu bytes", name,
                       SPEC_MAX_BYTES);
    if ((rc = ydoc_load_mem(&d, name, data, len, e)) != 0)
        return rc;
    rc = spec_from_doc(out, &d, e);
    ydoc_free(&d);
    return rc;
}

int spec_load_file(struct spec **out, const char *path, struct err *e)
{
    struct ydoc d;
    int rc;

    *out = NULL;
    if ((rc = ydoc_load_file(&d, path, SPEC_MAX_BYTES, e)) != 0)
        return rc;
    rc = spec_from_doc(out, &d, e);
    ydoc_free(&d);
    return rc;
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcasecmp(a, b) == 0);
}

int spec_alts_differ(const struct spec *s)
{
    for (size_t i = 1; i < s->nres; i++) {
        const struct spec_res *a = &s->res[0], *b = &s->res[i];

        if (!same_text(a->accelerator, b->accelerator) || a->acc_count != b->acc_count ||
            a->acc_part != b->acc_part ||
            (a->accelerator == NULL && !same_text(a->instance_type, b->instance_type)))
            return 1;
    }
    return 0;
}

int spec_check_new(const struct spec *s, struct err *e)
{
    if (s->data_unsized == 1)
        return err_at(e, ST_EINVAL, s->path, s->data_unsized_line, s->data_unsized_col,
                      "stratus.data has no size_gb: say how much data the job reads "
                      "(size_gb: 200, or 2TB); moves and replicas are priced by it");
    if (s->data_unsized == 2)
        return err_at(
            e, ST_EINVAL, s->path, s->data_unsized_line, s->data_unsized_col,
            "stratus.data.size_gb of dataset '%s' must be more than 0 (size_gb: "
            "200, or 2TB): moves and replicas are priced by it",
            s->data_name);
    return 0;
}

void spec_free(struct spec *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nres; i++) {
        free(s->res[i].accelerator);
        free(s->res[i].cloud);
        free(s->res[i].region);
        free(s->res[i].zone);
        free(s->res[i].instance_type);
    }
    for (size_t i = 0; i < s->nenvs; i++) {
        free(s->envs[i].key);
        free(s->envs[i].value);
        free(s->envs[i].secret);
    }
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->res);
    free(s->envs);
    free(s->warnings);
    free(s->path);
    free(s->name);
    free(s->setup);
    free(s->run);
    free(s->workdir);
    free(s->team);
    free(s->data_cloud);
    free(s->data_region);
    free(s->data_name);
    free(s->ports);
    free(s->disk_tier);
    free(s->accelerator_args);
    for (size_t i = 0; i < s->nimages; i++) {
        free(s->images[i].region);
        free(s->images[i].image);
    }
    free(s->images);
    for (size_t i = 0; i < s->nmounts; i++) {
        free(s->mounts[i].dst);
        free(s->mounts[i].src);
        free(s->mounts[i].cloud);
    }
    free(s->mounts);
    svc_spec_free(s->service);
    free(s);
}

const char *spec_image_for(const struct spec *s, const char *region)
{
    for (size_t i = 0; i < s->nimages; i++) {
        if (s->images[i].region == NULL ||
            (region != NULL && strcmp(s->images[i].region, region) == 0))
            return s->images[i].image;
    }
    return NULL;
}

int spec_same_gb(double a, double b)
{
    return fabs(a - b) <= fmax(0.5, 1e-3 * fmax(a, b));
}

int spec_region_has_image(const struct spec *s, const char *region)
{
    return s->nimages == 0 || spec_image_for(s, region) != NULL;
}

void spec_launch_opts(const struct spec *s, const char *cloud, const char *region,
                      struct attempt *a)
{
    a->ports = s->ports;
    a->image = spec_image_for(s, region);
    a->disk_tier = s->disk_tier;
    a->accelerator_args = s->accelerator_args;
    a->disk_gb = 0;
    /* The alternative's disk_size: the first on this cloud, else the first. */
    for (size_t i = 0; i < s->nres; i++) {
        const struct spec_res *r = &s->res[i];

        if (r->disk_gb > 0 &&
            (a->disk_gb <= 0 || (r->cloud && cloud && strcmp(r->cloud, cloud) == 0))) {
            a->disk_gb = r->disk_gb;
            if (r->cloud && cloud && strcmp(r->cloud, cloud) == 0)
                break;
        }
    }
    a->mounts = s->mounts;
    a->nmounts = s->nmounts;
    a->spec_path = s->path;
}

const char *spec_kind_name(enum spec_kind k)
{
    static const char *const names[] = {"train", "batch", "infer"};

    return (unsigned)k < SPEC_KIND__N ? names[k] : "?";
}

int spec_kind_parse(const char *s)
{
    for (int k = 0; k < SPEC_KIND__N; k++) {
        if (strcmp(s, spec_kind_name((enum spec_kind)k)) == 0)
            return k;
    }
    return -1;
}

const char *spec_recovery_name(enum spec_recovery r)
{
    switch (r) {
    case SPEC_RECOVERY_FAILOVER:
        return "failover";
    case SPEC_RECOVERY_EAGER_NEXT_REGION:
        return "eager-next-region";
    default:
        return "?";
    }
}
