/*
 * slurm_conf.c - the clusters file: each Slurm cluster Stratus may use, the
 * catalog offer it is, and how to reach its slurmrestd.
 *
 *   poll_interval: 1s            # how often a cluster's jobs are looked at
 *   timeout: 10s                 # one HTTP request
 *   pending_timeout: 5m          # default of the clusters' own
 *   queue: 8                     # default of the clusters' own
 *   clusters:
 *     - name: azure-eastus       # [A-Za-z0-9._-]: used in messages only
 *       cloud: azure             # the catalog offer this cluster is:
 *       region: eastus           #   its nodes are this instance type here
 *       zone: ""                 #   (optional)
 *       instance_type: Standard_ND96isr_H100_v5
 *       partition: gpu           # optional, as are account and qos
 *       gpus_per_node: 8         # optional: --gres=gpu:N (default: the
 *                                #   offer's; 0 asks for no GPU GRES)
 *       url: http://127.0.0.1:16801   # slurmrestd
 *       user: root               # the Slurm user the token is for
 *       token_file: tokens/az    # the JWT (`scontrol token`), re-read when
 *                                #   it changes; or token_env: SLURM_JWT
 *       workdir: /shared/stratus # where job logs and working directories
 *                                #   go, as the nodes see it (optional)
 *       pending_timeout: 30s     # pending longer = no capacity here
 *       queue: 8                 # nodes of Stratus's jobs that may wait in
 *                                #   the cluster's own queue beyond its idle
 *                                #   nodes (used only when no location has a
 *                                #   free node; 0 = submit only to idle nodes)
 *       spot: false              # its nodes are spot (preemptible) capacity;
 *                                #   the controller then places only spot
 *                                #   attempts here, else only on-demand ones
 *
 * Relative token files are relative to the clusters file.  Every cluster
 * must be an offer of the catalog, and no two clusters the same offer, so
 * the controller's choice of an offer names exactly one cluster.
 *
 * Layout: checks of single values; one cluster; the file.
 */
#include "slurm_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#define CONF_MAX_BYTES ((size_t)1 << 20)
#define CONF_MAX_CLUSTERS 1024
#define CONF_NAME_MAX 128

struct conf_ctx {
    const struct ydoc *d;
    const struct catalog *cat;
    const char *default_workdir;
    struct slurm_conf *c;
};

/* ---- single values ------------------------------------------------------ */

/* Printable ASCII without spaces: what may go into a URL or an HTTP header. */
static int plain_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= CONF_NAME_MAX)
        return 0;
    return strspn(s,
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
           n;
}

/* A string value into *out (owned); empty allowed only when may_be_empty. */
static int get_text(const struct conf_ctx *x, const struct ynode *n, const char *what,
                    int may_be_empty, char **out, struct err *e)
{
    const char *s;
    int rc = yget_str(x->d, n, what, &s, e);

    if (rc != 0)
        return rc;
    if (!may_be_empty && *s == '\0')
        return yerr(x->d, n, ST_EINVAL, e, "%s must not be empty", what);
    if (strlen(s) >= 4096)
        return yerr(x->d, n, ST_EINVAL, e, "%s is too long", what);
    free(*out);
    *out = xstrdup(s);
    return 0;
}

static int check_url(const struct conf_ctx *x, const struct ynode *n, const char *url,
                     struct err *e)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return yerr(x->d, n, ST_EINVAL, e,
                    "url must start with http:// or https://, not '%.60s'", url);
    if (!plain_text(url) || strchr(url, '?') || strchr(url, '#'))
        return yerr(x->d, n, ST_EINVAL, e,
                    "url must be a plain base URL (no spaces, query or fragment)");
    return 0;
}

/* A path relative to the clusters file's directory, made absolute. */
static char *beside(const char *conf_path, const char *p)
{
    const char *slash = strrchr(conf_path, '/');

    if (p[0] == '/' || slash == NULL)
        return xstrdup(p);
    return xasprintf("%.*s/%s", (int)(slash - conf_path), conf_path, p);
}

/* ---- one cluster ----------------------------------------------------------- */

static int cluster_offer(const struct conf_ctx *x, const struct ynode *n,
                         const struct slurm_cluster *cl, struct err *e)
{
    const struct slurm_cluster *first =
        slurm_conf_find(x->c, cl->cloud, cl->region, cl->zone, cl->itype);
    size_t i, no;

    if (first != cl)
        return yerr(x->d, n, ST_EINVAL, e,
                    "cluster %s is the same offer as cluster %s; one cluster per offer",
                    cl->name, first->name);
    if (x->cat == NULL)
        return 0;
    no = catalog_noffers(x->cat);
    for (i = 0; i < no; i++) {
        const struct offer *o = catalog_offer(x->cat, i);

        if (strcmp(o->cloud, cl->cloud) == 0 && strcmp(o->region, cl->region) == 0 &&
            strcmp(o->zone, cl->zone) == 0 && strcmp(o->instance_type, cl->itype) == 0)
            return 0;
    }
    return yerr(
        x->d, n, ST_EINVAL, e,
        "cluster %s: no offer %s at %s/%s%s%s in the catalog (see `stratus offers`)",
        cl->name, cl->itype, cl->cloud, cl->region, *cl->zone ? "/" : "", cl->zone);
}

/* The cluster's text keys: where each goes, and whether it may be "". */
static const struct {
    const char *key;
    size_t off; /* of the char * in struct slurm_cluster */
    int may_be_empty;
} text_keys[] = {
    {"name", offsetof(struct slurm_cluster, name), 0},
    {"cloud", offsetof(struct slurm_cluster, cloud), 0},
    {"region", offsetof(struct slurm_cluster, region), 0},
    {"zone", offsetof(struct slurm_cluster, zone), 1},
    {"instance_type", offsetof(struct slurm_cluster, itype), 0},
    {"partition", offsetof(struct slurm_cluster, partition), 0},
    {"account", offsetof(struct slurm_cluster, account), 0},
    {"qos", offsetof(struct slurm_cluster, qos), 0},
    {"url", offsetof(struct slurm_cluster, url), 0},
    {"user", offsetof(struct slurm_cluster, user), 0},
    {"token_file", offsetof(struct slurm_cluster, token_file), 0},
    {"token_env", offsetof(struct slurm_cluster, token_env), 0},
    {"workdir", offsetof(struct slurm_cluster, workdir), 0},
};

static int cluster_key(const struct conf_ctx *x, struct slurm_cluster *cl, const char *k,
                       const struct ynode *v, struct err *e)
{
    size_t i;
    long g;
    int rc;

    for (i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
        if (strcmp(k, text_keys[i].key) == 0) {
            char **field = (char **)(void *)((char *)cl + text_keys[i].off);

            rc = get_text(x, v, k, text_keys[i].may_be_empty, field, e);
            return rc == 0 && field == &cl->url ? check_url(x, v, cl->url, e) : rc;
        }
    if (strcmp(k, "pending_timeout") == 0)
        return yget_duration(x->d, v, "pending_timeout", &cl->pending_timeout, e);
    if (strcmp(k, "spot") == 0)
        return yget_bool(x->d, v, "spot", &cl->spot, e);
    if (strcmp(k, "queue") == 0)
        return yget_long(x->d, v, "queue", 0, SLURM_MAX_NODES, &cl->queue, e);
    BUG_ON(strcmp(k, "gpus_per_node") != 0); /* ymap_check_keys let no other key in */
    rc = yget_long(x->d, v, "gpus_per_node", 0, 1024, &g, e);
    if (rc == 0)
        cl->gpus = (int)g;
    return rc;
}

/* What a cluster must have, once all its keys are read. */
static int cluster_check(const struct conf_ctx *x, const struct ynode *n,
                         struct slurm_cluster *cl, struct err *e)
{
    static const char *const need[] = {"name",          "cloud", "region",
                                       "instance_type", "url",   "user"};
    const char *const have[] = {cl->name,  cl->cloud, cl->region,
                                cl->itype, cl->url,   cl->user};
    size_t i;

    for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (have[i] == NULL)
            return yerr(x->d, n, ST_EINVAL, e, "cluster without %s", need[i]);
    if (!name_ok(cl->name))
        return yerr(x->d, n, ST_EINVAL, e,
                    "cluster name '%.60s': use letters, digits, '.', '_' and '-'",
                    cl->name);
    if (slurm_conf_named(x->c, cl->name) != cl)
        return yerr(x->d, n, ST_EINVAL, e, "two clusters are named %s", cl->name);
    if (!plain_text(cl->user) || (cl->partition && !plain_text(cl->partition)))
        return yerr(x->d, n, ST_EINVAL, e,
                    "cluster %s: user and partition cannot hold spaces or control "
                    "characters",
                    cl->name);
    if ((cl->token_file == NULL) == (cl->token_env == NULL))
        return yerr(x->d, n, ST_EINVAL, e,
                    "cluster %s needs exactly one of token_file and token_env", cl->name);
    if (cl->workdir && cl->workdir[0] != '/')
        return yerr(x->d, n, ST_EINVAL, e, "cluster %s: workdir must be an absolute path",
                    cl->name);
    return cluster_offer(x, n, cl, e);
}

/* A cluster of n; def holds the file's defaults (pending_timeout, queue). */
static int read_cluster(const struct conf_ctx *x, const struct ynode *n,
                        const struct slurm_cluster *def, struct err *e)
{
    static const char *const keys[] = {
        "name",       "cloud",     "region",  "zone",          "instance_type",
        "partition",  "account",   "qos",     "url",           "user",
        "token_file", "token_env", "workdir", "gpus_per_node", "pending_timeout",
        "spot",       "queue",     NULL};
    struct slurm_cluster *cl;
    size_t i;
    int rc = yexpect(x->d, n, Y_MAP, "a cluster", e);

    if (rc == 0)
        rc = ymap_check_keys(x->d, n, keys, "a cluster", e);
    if (rc != 0)
        return rc;
    x->c->c = xrealloc(x->c->c, (x->c->n + 1) * sizeof(*x->c->c));
    cl = &x->c->c[x->c->n++];
    memset(cl, 0, sizeof(*cl));
    cl->gpus = -1;
    cl->pending_timeout = def->pending_timeout;
    cl->queue = def->queue;
    cl->line = n->line;
    for (i = 0; rc == 0 && i < n->n; i++)
        rc = cluster_key(x, cl, n->keys[i]->str, n->items[i], e);
    if (rc == 0 && cl->zone == NULL)
        cl->zone = xstrdup("");
    if (rc == 0)
        rc = cluster_check(x, n, cl, e);
    if (rc == 0 && cl->token_file) {
        char *abs = beside(x->c->path, cl->token_file);

        free(cl->token_file);
        cl->token_file = abs;
    }
    if (rc == 0 && cl->workdir == NULL)
        cl->workdir = xstrdup(x->default_workdir);
    while (rc == 0 && strlen(cl->url) > 8 && cl->url[strlen(cl->url) - 1] == '/')
        cl->url[strlen(cl->url) - 1] = '\0';
    return rc;
}

/* ---- the file ---------------------------------------------------------------- */

static int read_clusters(const struct conf_ctx *x, const struct ynode *n,
                         const struct slurm_cluster *def, struct err *e)
{
    size_t i;
    int rc = yexpect(x->d, n, Y_SEQ, "clusters", e);

    if (rc == 0 && n->n == 0)
        return yerr(x->d, n, ST_EINVAL, e, "clusters: the list is empty");
    if (rc == 0 && n->n > CONF_MAX_CLUSTERS)
        return yerr(x->d, n, ST_EINVAL, e, "clusters: more than %d", CONF_MAX_CLUSTERS);
    for (i = 0; rc == 0 && i < n->n; i++)
        rc = read_cluster(x, n->items[i], def, e);
    return rc;
}

static int read_root(const struct conf_ctx *x, struct err *e)
{
    static const char *const keys[] = {"poll_interval", "timeout", "pending_timeout",
                                       "queue", "clusters", NULL};
    const struct ynode *root = x->d->root, *v;
    struct slurm_cluster def = {.pending_timeout = SLURM_DEFAULT_PENDING,
                                .queue = SLURM_DEFAULT_QUEUE};
    int rc;

    if (ynode_is_null(root))
        return err_set(e, ST_EINVAL, "%s: no clusters", x->c->path);
    rc = yexpect(x->d, root, Y_MAP, "the clusters file", e);
    if (rc == 0)
        rc = ymap_check_keys(x->d, root, keys, "the clusters file", e);
    if (rc == 0 && (v = ymap_get(root, "poll_interval")) != NULL)
        rc = yget_duration(x->d, v, "poll_interval", &x->c->poll_interval, e);
    if (rc == 0 && (v = ymap_get(root, "timeout")) != NULL) {
        rc = yget_duration(x->d, v, "timeout", &x->c->timeout, e);
        if (rc == 0 && x->c->timeout < 0.1)
            rc = yerr(x->d, v, ST_EINVAL, e, "timeout must be at least 0.1 s");
    }
    if (rc == 0 && (v = ymap_get(root, "pending_timeout")) != NULL)
        rc = yget_duration(x->d, v, "pending_timeout", &def.pending_timeout, e);
    if (rc == 0 && (v = ymap_get(root, "queue")) != NULL)
        rc = yget_long(x->d, v, "queue", 0, SLURM_MAX_NODES, &def.queue, e);
    if (rc == 0 && (v = ymap_get(root, "clusters")) == NULL)
        rc = yerr(x->d, root, ST_EINVAL, e, "the clusters file has no `clusters` list");
    if (rc == 0)
        rc = read_clusters(x, v, &def, e);
    return rc;
}

int slurm_conf_load(struct slurm_conf *c, const char *path, const struct catalog *cat,
                    const char *default_workdir, struct err *e)
{
    struct ydoc d;
    struct conf_ctx x = {&d, cat, default_workdir, c};
    int rc;

    memset(c, 0, sizeof(*c));
    c->path = xstrdup(path);
    c->poll_interval = SLURM_DEFAULT_POLL;
    c->timeout = SLURM_DEFAULT_TIMEOUT;
    rc = ydoc_load_file(&d, path, CONF_MAX_BYTES, e);
    if (rc != 0) {
        slurm_conf_free(c);
        return rc;
    }
    rc = read_root(&x, e);
    ydoc_free(&d);
    if (rc != 0)
        slurm_conf_free(c);
    return rc;
}

void slurm_conf_free(struct slurm_conf *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        struct slurm_cluster *cl = &c->c[i];
        char *const fields[] = {cl->name,   cl->cloud,     cl->region,     cl->zone,
                                cl->itype,  cl->partition, cl->account,    cl->qos,
                                cl->url,    cl->user,      cl->token_file, cl->token_env,
                                cl->workdir};
        size_t k;

        for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
            free(fields[k]);
    }
    free(c->c);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

const struct slurm_cluster *slurm_conf_find(const struct slurm_conf *c, const char *cloud,
                                            const char *region, const char *zone,
                                            const char *itype)
{
    size_t i;

    zone = zone ? zone : "";
    for (i = 0; i < c->n; i++) {
        const struct slurm_cluster *cl = &c->c[i];

        if (cl->cloud && cl->region && cl->zone && cl->itype &&
            strcmp(cl->cloud, cloud) == 0 && strcmp(cl->region, region) == 0 &&
            strcmp(cl->zone, zone) == 0 && strcmp(cl->itype, itype) == 0)
            return cl;
    }
    return NULL;
}

const struct slurm_cluster *slurm_conf_named(const struct slurm_conf *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (c->c[i].name && strcmp(c->c[i].name, name) == 0)
            return &c->c[i];
    return NULL;
}
