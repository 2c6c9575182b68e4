/*
 * sched_data.c - data gravity (docs/data.md): where each dataset's copies
 * are, what moving them cost, and the copies the planner may start from.
 *
 * A job's data (stratus.data) belongs to a dataset: the one its spec names
 * (stratus.data.dataset), shared by every job that names it, or else the
 * job's own, "job:<id>".  The dataset's home is stratus.data.location.  When
 * an attempt starts running in a region where the dataset has no copy, a
 * replica is made there, copied from the live copy it is cheapest to copy
 * from (the home or another replica), and the attempt pays that egress, once;
 * attempts later in that region, of the job or of other jobs on the dataset,
 * pay none.  Every placement (first, failover, recovery) prices the data per
 * candidate from the nearest copy (plan_opts.copies), plus keeping a new
 * replica for the run and, for a shared dataset, its time to live.
 *
 * Expiry: a replica of a job's own data is deleted when the job ends; one of
 * a shared dataset when no attempt has run on it for cfg.data_ttl_s (default
 * 7 days), at that moment (last use + TTL).  A replica in use never expires.
 * Storage is billed from a replica's making to its deletion at its cloud's
 * object-storage price (catalog storage.csv).
 *
 * The copies are held in memory (read from the store at open and after a
 * failed step, after the active jobs) and written through in the
 * transaction of the step that changes them: a shared dataset's in a map
 * by name, a job's own data's with the job (gone with it, so a study of a
 * million jobs holds only the active jobs' own copies).  A job's own data
 * has no home row in the store: its replicas' sources say where it came
 * from, and its spec where it lives.
 */
#include "sched_int.h"
#include "../catalog/catalog.h"
#include "../spec/pipeline.h"
#include "../spec/spec.h"
#include "../util/log.h"
#include "../util/yamlx.h"
#include "../util/xmem.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dset {
    const char *name;           /* interned in s->data_pool */
    struct store_data_replica *r; /* live copies: the home (if written) and replicas */
    size_t n, cap;
};

static void dset_clear(struct dset *d)
{
    store_data_replicas_free(d->r, d->n);
    d->r = NULL;
    d->n = d->cap = 0;
}

void sched_data_job_free(struct sjob *sj)
{
    if (sj->own != NULL) {
        dset_clear(sj->own);
        free(sj->own);
        sj->own = NULL;
    }
}

void sched_data_free(struct sched *s)
{
    size_t i;

    for (i = 0; i < s->ndsets; i++)
        dset_clear(&s->dsets[i]);
    free(s->dsets);
    s->dsets = NULL;
    s->ndsets = s->dsets_cap = 0;
    keymap_free(&s->dset_ix);
    strpool_free(&s->data_pool);
    free(s->copies);
    s->copies = NULL;
    s->copies_cap = 0;
}

/* Room for a dataset's name: a spec's (SPEC_SECRET_NAME_MAX) or "job:<id>". */
#define DNAME_MAX (SPEC_SECRET_NAME_MAX + 8)

/* The dataset of sj's data, written to buf; NULL when the job has no data to
 * move. */
static char *dataset_of(const struct sjob *sj, char *buf, size_t n)
{
    const struct spec *sp = sj->spec;

    if (sp->data_cloud == NULL || sp->data_gb <= 0)
        return NULL;
    if (sp->data_name)
        snprintf(buf, n, "%s", sp->data_name);
    else
        snprintf(buf, n, "job:%" PRId64, sj->j.id);
    return buf;
}

static struct dset *dset_get(struct sched *s, const char *name, int create)
{
    const char *k = create ? strpool_intern(&s->data_pool, name)
                           : strpool_find(&s->data_pool, name);
    uint32_t ix = (uint32_t)s->ndsets;

    if (k == NULL)
        return NULL;
    if (!create)
        return keymap_get(&s->dset_ix, k, NULL, NULL, NULL, &ix) ? &s->dsets[ix] : NULL;
    if (keymap_put(&s->dset_ix, k, NULL, NULL, NULL, &ix))
        return &s->dsets[ix];
    s->dsets = xgrow(s->dsets, &s->dsets_cap, s->ndsets + 1, sizeof(*s->dsets));
    memset(&s->dsets[s->ndsets], 0, sizeof(*s->dsets));
    s->dsets[s->ndsets].name = k;
    return &s->dsets[s->ndsets++];
}

/* The copies of sj's dataset: a shared one's in the map, its own data's with
 * it; NULL when there are none and create is 0. */
static struct dset *dset_for(struct sched *s, struct sjob *sj, const char *name, int create)
{
    if (sj->spec->data_name != NULL)
        return dset_get(s, name, create);
    if (sj->own == NULL && create)
        sj->own = xcalloc(1, sizeof(*sj->own));
    return sj->own;
}

static struct store_data_replica *copy_at(struct dset *d, const char *cloud,
                                          const char *region)
{
    size_t i;

    for (i = 0; d != NULL && i < d->n; i++)
        if (strcmp(d->r[i].cloud, cloud) == 0 && strcmp(d->r[i].region, region) == 0)
            return &d->r[i];
    return NULL;
}

static void dset_add(struct dset *d, const struct store_data_replica *r)
{
    struct store_data_replica *c;

    d->r = xgrow(d->r, &d->cap, d->n + 1, sizeof(*d->r));
    c = &d->r[d->n++];
    *c = *r;
    c->dataset = xstrdup(r->dataset);
    c->cloud = xstrdup(r->cloud);
    c->region = xstrdup(r->region);
    c->src_cloud = xstrdup(r->src_cloud ? r->src_cloud : "");
    c->src_region = xstrdup(r->src_region ? r->src_region : "");
    c->via = xstrdup(r->via ? r->via : "");
}

int sched_data_same(const char *cloud, const char *region, double gb,
                    const struct spec *sp)
{
    return strcmp(cloud, sp->data_cloud) == 0 &&
           strcmp(region, sp->data_region ? sp->data_region : "") == 0 &&
           spec_same_gb(gb, sp->data_gb);
}

const struct store_data_replica *sched_data_live_home(const struct store_data_replica *v,
                                                      size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i].home && v[i].expired_at == 0)
            return &v[i];
    return NULL; /* an expired home was forgotten: no job ran on it */
}

int sched_data_home_check(const struct spec *sp, const char *file,
                          const struct store_data_replica *v, size_t n,
                          const struct data_holder *h, struct err *e)
{
    const char *region = sp->data_region ? sp->data_region : "";
    const struct store_data_replica *home = sched_data_live_home(v, n);
    size_t i = home ? (size_t)(home - v) : n;

    if (i == n || sched_data_same(v[i].cloud, v[i].region, v[i].size_gb, sp))
        return 0;
    if (v[i].last_used_at == 0) /* recorded by a submit; nothing ran on it */
        return err_at(
            e, ST_EINVAL, file, sp->data_line, sp->data_col,
            "dataset '%s' has its home in %s%s%s (%.10g GB), as %s gave it before any "
            "job ran on it; this spec says %s%s%s (%.10g GB). Give the same location "
            "and size_gb, or name the new data differently (say '%s-v2'); if that "
            "spec is the wrong one, %s, and the name is free once nothing waits on "
            "it (`stratus data ls` shows what is known)",
            sp->data_name, v[i].cloud, v[i].region[0] ? "/" : "", v[i].region,
            v[i].size_gb, h && h->who[0] ? h->who : "a waiting job or a service",
            sp->data_cloud, region[0] ? "/" : "", region, sp->data_gb, sp->data_name,
            h && h->fix[0] ? h->fix : "cancel that job or take that service down");
    return err_at(
        e, ST_EINVAL, file, sp->data_line, sp->data_col,
        "dataset '%s' is known with its home in %s%s%s (%.10g GB), as earlier jobs "
        "gave it; this spec says %s%s%s (%.10g GB): its copies would stand in for "
        "other data. Give the same location and size_gb, or name the new data "
        "differently (say '%s-v2'); `stratus data ls` shows what is known",
        sp->data_name, v[i].cloud, v[i].region[0] ? "/" : "", v[i].region, v[i].size_gb,
        sp->data_cloud, region[0] ? "/" : "", region, sp->data_gb, sp->data_name);
}

enum data_fit sched_data_fit(struct store *st, const struct spec *sp, int64_t self,
                             const struct store_data_replica *v, size_t n,
                             struct data_holder *h)
{
    const struct store_data_replica *home = sched_data_live_home(v, n);

    memset(h, 0, sizeof(*h));
    if (home == NULL || sched_data_same(home->cloud, home->region, home->size_gb, sp))
        return DATA_FITS;
    if (home->last_used_at > 0)
        return DATA_USED;
    return sched_data_home_holder(st, sp->data_name, self, h) ? DATA_HELD : DATA_FREE;
}

/* A submit's check of the dataset sp names against its live rows v (n),
 * in the submit's transaction: 0 to go on, or the error.  A home no job
 * ran on that nothing holds any more (but `self`: the service an update
 * changes) is forgotten here, which frees its name. */
static int submit_check(struct store *st, const struct spec *sp, int64_t self,
                        struct store_data_replica *v, size_t n, double now, struct err *e)
{
    struct data_holder h;
    enum data_fit fit = sched_data_fit(st, sp, self, v, n, &h);
    struct store_data_replica *home;

    if (fit == DATA_FITS)
        return 0;
    if (fit != DATA_FREE) /* the holder not named: it may be another team's */
        return sched_data_home_check(sp, sp->path, v, n, NULL, e);
    home = &v[sched_data_live_home(v, n) - v];
    home->expired_at = now;
    return store_data_put(st, home, e);
}

/* The home row of the shared dataset sp names, as the store has it (the
 * dataset's first submit recorded it), else made now and written: 0 with
 * *out filled (the caller clears it), or an error.  used: a job runs on the
 * data now, which marks the home used (last_used_at; 0 = no job has run on
 * it yet, which lets an unused home be forgotten: forget_unused_home).
 * Without used it is a submit's, in the submit's transaction, and a live
 * home elsewhere refuses it (submit_check): the server's check before it
 * ran in another transaction, so two servers on one store can each pass it
 * at once.  At a placement, a live home elsewhere is the one returned (an
 * update moved it), and a forgotten (expired) one is not this one. */
static int home_row(struct store *st, const struct spec *sp, int64_t self, double now,
                    int used, struct store_data_replica *out, struct err *e)
{
    const char *region = sp->data_region ? sp->data_region : "";
    const struct store_data_replica *live;
    struct store_data_replica *v = NULL;
    size_t i, n = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = store_data_list(st, sp->data_name, 1, &v, &n, e)) != 0)
        return rc;
    if (!used && (rc = submit_check(st, sp, self, v, n, now, e)) != 0) {
        store_data_replicas_free(v, n);
        return rc;
    }
    for (i = 0; i < n; i++)
        if (v[i].home && v[i].expired_at == 0 &&
            strcmp(v[i].cloud, sp->data_cloud) == 0 &&
            strcmp(v[i].region, region) == 0) /* (submit_check may have expired one) */
            break;
    /* A placement of a job whose spec gives the home an update has since
     * moved (a service's old replica, placed before the manager retired
     * it): one dataset keeps one home, so none is written; *out is the
     * live one, elsewhere (the caller says so). */
    if (i == n && used && (live = sched_data_live_home(v, n)) != NULL)
        i = (size_t)(live - v);
    if (i < n) {
        *out = v[i];
        memset(&v[i], 0, sizeof(v[i])); /* moved to *out */
    }
    store_data_replicas_free(v, n);
    if (i < n) {
        if (!used || out->last_used_at > 0)
            return 0;
        out->last_used_at = now; /* a job runs on it: the home stays */
        return store_data_put(st, out, e);
    }
    out->dataset = xstrdup(sp->data_name);
    out->cloud = xstrdup(sp->data_cloud);
    out->region = xstrdup(region);
    out->src_cloud = xstrdup("");
    out->src_region = xstrdup("");
    out->home = 1;
    out->size_gb = sp->data_gb;
    out->created_at = now;
    out->last_used_at = used ? now : 0;
    return store_data_put(st, out, e);
}

/* A shared dataset's home is known from its first submit, not only from its
 * first placement: a second spec giving the same name another home is then
 * refused (the server's dataset check) even while the first job waits. */
int sched_data_note_home(struct store *st, const struct spec *sp, int64_t self,
                         double now, struct err *e)
{
    struct store_data_replica r;
    int rc;

    if (sp->data_name == NULL || sp->data_cloud == NULL)
        return 0;
    rc = home_row(st, sp, self, now, 0, &r, e);
    store_data_replica_clear(&r);
    return rc;
}

int sched_data_load(struct sched *s, struct err *e)
{
    struct store_data_replica *v = NULL;
    size_t i, n = 0;
    int rc;

    sched_data_free(s);
    strpool_init(&s->data_pool);
    keymap_init(&s->dset_ix);
    s->data_sweep_at = 0;
    for (i = 0; i < s->njobs; i++)
        sched_data_job_free(s->jobs[i]);
    if ((rc = store_data_list(s->p.store, NULL, 1, &v, &n, e)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        struct sjob *sj;

        if (strncmp(v[i].dataset, "job:", 4) != 0) {
            /* A home no job has run on is left in the store: the first
             * arrival reads it (home_row), and one forgotten meanwhile,
             * where this controller does not look, is not held here. */
            if (!v[i].home || v[i].last_used_at > 0)
                dset_add(dset_get(s, v[i].dataset, 1), &v[i]);
            continue;
        }
        sj = sched_job_by_id(s, strtoll(v[i].dataset + 4, NULL, 10));
        if (sj != NULL) /* else: an ended job's, which ending deleted */
            dset_add(dset_for(s, sj, v[i].dataset, 1), &v[i]);
    }
    store_data_replicas_free(v, n);
    return 0;
}

/* Is (cloud, region) where the spec's data already is?  A bucket of unknown
 * region is at home anywhere on its cloud (the planner's rule). */
static int at_home(const struct spec *sp, const char *cloud, const char *region)
{
    if (strcmp(sp->data_cloud, cloud) != 0)
        return 0;
    return sp->data_region == NULL || strcmp(sp->data_region, region) == 0;
}

void sched_data_opts(struct sched *s, struct sjob *sj, struct plan_opts *o)
{
    char buf[DNAME_MAX];
    char *name;
    struct dset *d;
    size_t i, k = 0;

    o->copies = NULL;
    o->ncopies = 0;
    o->copy_keep_h = 0;
    o->direct_egress = !s->p.cfg.data_gravity;
    if (!s->p.cfg.data_gravity || (name = dataset_of(sj, buf, sizeof(buf))) == NULL)
        return;
    if (sj->spec->data_name)
        o->copy_keep_h = s->p.cfg.data_ttl_s / 3600.0;
    if ((d = dset_for(s, sj, name, 0)) == NULL)
        return;
    s->copies = xgrow(s->copies, &s->copies_cap, d->n + 1, sizeof(*s->copies));
    for (i = 0; i < d->n; i++) {
        if (d->r[i].home)
            continue;
        s->copies[k].cloud = d->r[i].cloud;
        s->copies[k].region = d->r[i].region;
        k++;
    }
    o->copies = s->copies;
    o->ncopies = k;
}

/* $/GB from (scloud, sregion) to (dcloud, dregion), catalog region dst
 * (NULL = not in the catalog): the cheapest chain of moves (the rows the
 * controller's plan keeps), else, when either end is not a catalog region,
 * the direct move.  The regions the data passes through on the way are
 * written to chain ("" when none). */
static double move_rate(struct sched *s, const char *scloud, const char *sregion,
                        const char *dcloud, const char *dregion, const struct region *dst,
                        char *chain, size_t n)
{
    const struct region *src = sregion ? catalog_region(s->p.cat, scloud, sregion) : NULL;
    const struct region *r0 = catalog_region_at(s->p.cat, 0);
    const uint32_t *via;
    const double *d = src && dst ? catalog_routes_row(&s->plan.routes, s->p.cat,
                                                      (size_t)(src - r0), &via)
                                 : NULL;
    uint32_t hops[8];
    size_t ix;

    chain[0] = '\0';
    if (d == NULL)
        return catalog_egress_per_gb(s->p.cat, scloud, sregion ? sregion : "", dcloud,
                                     dregion);
    ix = (size_t)(dst - r0);
    catalog_route_text(s->p.cat, hops, catalog_route_hops(via, ix, hops, 8), chain, n);
    return d[ix];
}

/* The copy of d (or the home, when d has none there) it is cheapest to copy
 * from into (cloud, region): its $/GB, with *from the copy (NULL = home) and
 * the regions it is relayed through written to chain. */
static double cheapest_source(struct sched *s, const struct spec *sp, struct dset *d,
                              const char *cloud, const char *region,
                              const struct store_data_replica **from, char *chain, size_t n)
{
    const struct region *dst = catalog_region(s->p.cat, cloud, region);
    char c2[256];
    double best = move_rate(s, sp->data_cloud, sp->data_region, cloud, region, dst, chain, n);
    size_t i;

    *from = NULL;
    for (i = 0; d != NULL && i < d->n; i++) {
        double r;

        if (d->r[i].home)
            continue;
        r = move_rate(s, d->r[i].cloud, d->r[i].region, cloud, region, dst, c2, sizeof(c2));
        if (r < best) {
            best = r;
            *from = &d->r[i];
            snprintf(chain, n, "%s", c2);
        }
    }
    return best;
}

/* sp, or, when the shared dataset's live home (in d) is elsewhere than sp
 * gives it (a service update moved it after this job was submitted), a
 * copy of sp in *eff that gives that home and size: the dataset's copies
 * are all of its current data, so the job's moves start from there. */
static const struct spec *live_spec(const struct dset *d, const struct spec *sp,
                                    struct spec *eff)
{
    size_t i;

    for (i = 0; d != NULL && i < d->n; i++) {
        const struct store_data_replica *h = &d->r[i];

        if (!h->home || h->expired_at > 0 || at_home(sp, h->cloud, h->region))
            continue;
        *eff = *sp; /* shallow, read only: the strings stay d's and sp's */
        eff->data_cloud = h->cloud;
        eff->data_region = *h->region ? h->region : NULL;
        eff->data_gb = h->size_gb;
        return eff;
    }
    return sp;
}

int sched_data_arrive(struct sched *s, struct sjob *sj, struct store_attempt *a,
                      struct err *e)
{
    const struct spec *sp = sj->spec;
    char buf[DNAME_MAX];
    char *name = dataset_of(sj, buf, sizeof(buf));
    struct store_data_replica r, *c;
    const struct store_data_replica *from;
    struct spec eff;
    char chain[256];
    struct dset *d;
    double rate;
    int rc;

    a->egress = 0;
    if (name == NULL || !s->p.cfg.data_gravity)
        return 0;
    d = dset_for(s, sj, name, 1);
    memset(&r, 0, sizeof(r));
    /* A shared dataset's home is recorded at its first submit (this
     * controller may not have read it yet), so that `stratus data ls` lists
     * it; a job's own data only once it moves. */
    if (sp->data_name && (c = copy_at(d, sp->data_cloud,
                                      sp->data_region ? sp->data_region : "")) == NULL) {
        rc = sched_tx(s, e);
        if (rc == 0 && (rc = home_row(s->p.store, sp, 0, s->now, 1, &r, e)) == 0)
            dset_add(d, &r);
        if (rc == 0 && !at_home(sp, r.cloud, r.region))
            rc =
                sched_log(s, sj, "data", e,
                          "dataset %s has its home in %s/%s now (a service update moved "
                          "it from %s/%s, where this job's spec gives it): the job runs "
                          "on the data there, and no second home is recorded",
                          name, r.cloud, *r.region ? r.region : "(bucket)",
                          sp->data_cloud, sp->data_region ? sp->data_region : "(bucket)");
        store_data_replica_clear(&r);
        if (rc != 0)
            return rc;
        memset(&r, 0, sizeof(r));
    } else if (sp->data_name && c->home && c->last_used_at == 0) {
        c->last_used_at = s->now; /* a job runs on it: the home stays */
        if ((rc = sched_tx(s, e)) != 0 || (rc = store_data_put(s->p.store, c, e)) != 0)
            return rc;
    }
    if (sp->data_name)
        sp = live_spec(d, sp, &eff);
    if (at_home(sp, a->cloud, a->region))
        return 0;
    if ((c = copy_at(d, a->cloud, a->region)) != NULL) {
        c->in_use++;
        c->last_used_at = fmax(c->last_used_at, a->running_at);
        if ((rc = sched_tx(s, e)) != 0 || (rc = store_data_put(s->p.store, c, e)) != 0)
            return rc;
        return 0;
    }
    rate = cheapest_source(s, sp, d, a->cloud, a->region, &from, chain, sizeof(chain));
    r.dataset = name;
    r.cloud = a->cloud;
    r.region = a->region;
    r.src_cloud = from ? from->cloud : sp->data_cloud;
    r.src_region = from ? from->region : sp->data_region ? sp->data_region : "";
    r.via = chain[0] ? chain + strlen(" by way of ") : ""; /* catalog_route_text's */
    r.size_gb = sp->data_gb;
    r.in_use = 1;
    r.created_at = r.last_used_at = a->running_at;
    r.egress = sp->data_gb * rate;
    r.storage_gb_month = catalog_storage_per_gb_month(s->p.cat, a->cloud);
    r.job_id = sj->j.id;
    r.attempt_id = a->id;
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_data_put(s->p.store, &r, e)) != 0)
        return rc;
    dset_add(d, &r);
    a->egress = r.egress;
    /* A job's own data is not named (its event is the job's): the same move
     * of the same size reads the same, and the store keeps one copy. */
    return sched_log(s, sj, "data", e, "data%s%s (%.1f GB) copied to %s/%s from %s/%s%s: $%.2f",
                     sp->data_name ? " " : "", sp->data_name ? name : "", sp->data_gb, a->cloud,
                     a->region, r.src_cloud, *r.src_region ? r.src_region : "(bucket)", chain,
                     r.egress);
}

int sched_data_leave(struct sched *s, struct sjob *sj, const struct store_attempt *a,
                     double end, struct err *e)
{
    char buf[DNAME_MAX];
    char *name = dataset_of(sj, buf, sizeof(buf));
    const struct spec *sp = sj->spec;
    struct store_data_replica *c;
    struct spec eff;
    struct dset *d;
    int rc;

    if (name == NULL || !s->p.cfg.data_gravity || a->running_at <= 0)
        return 0;
    d = dset_for(s, sj, name, 0);
    if (sp->data_name)
        sp = live_spec(d, sp, &eff); /* as the arrival saw it */
    if (at_home(sp, a->cloud, a->region))
        return 0;
    c = copy_at(d, a->cloud, a->region);
    if (c == NULL || c->home)
        return 0; /* made before this controller knew of replicas */
    if (c->in_use > 0)
        c->in_use--;
    c->last_used_at = fmax(c->last_used_at, end);
    if (c->in_use == 0) /* the sweep deletes it at its time, not later */
        s->data_sweep_at = fmin(s->data_sweep_at, c->last_used_at + s->p.cfg.data_ttl_s);
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_data_put(s->p.store, c, e)) != 0)
        return rc;
    return 0;
}

/* Delete replica i of d at `at`: written, then dropped from memory. */
static int expire(struct sched *s, struct dset *d, size_t i, double at, struct err *e)
{
    struct store_data_replica *c = &d->r[i];
    int rc;

    c->expired_at = fmax(at, c->created_at);
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_data_put(s->p.store, c, e)) != 0)
        return rc;
    store_data_replica_clear(c);
    d->r[i] = d->r[--d->n];
    return 0;
}

/* Does the spec text (from path) name dataset `name`?  One that does not
 * parse names nothing. */
static int spec_names(const char *path, const char *text, const char *name)
{
    struct spec *sp;
    struct err pe;
    int found;

    err_clear(&pe);
    /* the name is in the text as written, unless an escape of a
     * double-quoted scalar spells it ("\u0078"): then a scalar of the text
     * reads it (an event scan, half a spec's parse), and the parse tells */
    if (text == NULL ||
        (strstr(text, name) == NULL &&
         (strchr(text, '\\') == NULL || strchr(text, '"') == NULL ||
          !yaml_has_scalar(text, strlen(text), name))) ||
        spec_load_mem(&sp, path, text, strlen(text), &pe) != 0)
        return 0;
    found = sp->data_name != NULL && strcmp(sp->data_name, name) == 0;
    spec_free(sp);
    return found;
}

/* Does a live service other than `self` (0: none) name dataset `name` (its
 * replicas may run on it later, even with none now)?  1, with h (when not
 * NULL) saying which, or when the services cannot be read. */
static int service_names(struct store *st, const char *name, int64_t self,
                         struct data_holder *h)
{
    struct store_service *v = NULL;
    struct err pe;
    size_t i, n = 0;
    int rc = store_service_list(st, 1, &v, &n, &pe), found = 0;

    for (i = 0; rc == 0 && !found && i < n; i++)
        found = v[i].id != self && spec_names(v[i].spec_path ? v[i].spec_path : v[i].name,
                                              v[i].spec_text, name);
    if (found && h) {
        snprintf(h->who, sizeof(h->who), "service '%s'", v[i - 1].name);
        snprintf(h->fix, sizeof(h->fix), "`stratus serve down %s`", v[i - 1].name);
        snprintf(h->team, sizeof(h->team), "%s", v[i - 1].team ? v[i - 1].team : "");
    }
    store_services_free(v, n);
    return rc != 0 || found; /* unreadable: keep the home */
}

/* Does a job of the store that has not ended, other than a replica of the
 * service `self` (0: none), name dataset `name` in its spec?  1, with h
 * (when not NULL) saying which, or when the jobs cannot be read. */
static int job_names(struct store *st, const char *name, int64_t self,
                     struct data_holder *h)
{
    struct store_job *v = NULL;
    struct err pe;
    size_t i, n = 0;
    int rc = store_job_list(st, 1, &v, &n, &pe), found = 0;

    for (i = 0; rc == 0 && !found && i < n; i++)
        found =
            (self == 0 || v[i].service_id != self) &&
            spec_names(v[i].spec_path ? v[i].spec_path : "spec", v[i].spec_text, name);
    if (found && h) {
        snprintf(h->who, sizeof(h->who), "job %lld", (long long)v[i - 1].id);
        snprintf(h->fix, sizeof(h->fix), "`stratus cancel %lld`", (long long)v[i - 1].id);
        snprintf(h->team, sizeof(h->team), "%s", v[i - 1].team ? v[i - 1].team : "");
    }
    store_jobs_free(v, n);
    return rc != 0 || found; /* unreadable: keep the home */
}

int sched_data_home_holder(struct store *st, const char *name, int64_t self,
                           struct data_holder *h)
{
    memset(h, 0, sizeof(*h));
    return service_names(st, name, self, h) || job_names(st, name, self, h);
}

/* The dataset's home, into *out (cleared by the caller), when it is all the
 * store has of it, no job has run on it, and no live service but `self`
 * names it: one that may be forgotten.  0 with *found, or an error. */
static int unused_home(struct store *st, const char *name, int64_t self,
                       struct store_data_replica *out, int *found, struct err *e)
{
    struct store_data_replica *v = NULL;
    size_t n = 0;
    int rc;

    *found = 0;
    memset(out, 0, sizeof(*out));
    if (service_names(st, name, self, NULL))
        return 0; /* a live service's replicas may run on it */
    if ((rc = store_data_list(st, name, 1, &v, &n, e)) == 0 && n == 1 && v[0].home &&
        v[0].last_used_at == 0) {
        *out = v[0];
        memset(&v[0], 0, sizeof(v[0])); /* moved to *out */
        *found = 1;
    }
    store_data_replicas_free(v, n);
    return rc;
}

/* A shared dataset's home recorded at a submit, on which no job has run,
 * is forgotten (expired) when the last job naming it ends without running:
 * a spec cancelled before it ran does not keep the name for other data. */
static int forget_unused_home(struct sched *s, const struct sjob *sj, struct err *e)
{
    const char *name = sj->spec->data_name;
    struct store_data_replica r;
    struct dset *d;
    size_t i;
    int rc, found;

    for (i = 0; i < s->njobs; i++) {
        const struct sjob *o = s->jobs[i];

        if (o != sj && o->spec && o->spec->data_name && !job_state_terminal(o->j.state) &&
            strcmp(o->spec->data_name, name) == 0)
            return 0; /* another job will run on it */
    }
    if ((rc = unused_home(s->p.store, name, 0, &r, &found, e)) == 0 && found) {
        r.expired_at = s->now;
        if ((rc = sched_tx(s, e)) == 0)
            rc = store_data_put(s->p.store, &r, e);
        if (rc == 0 && (d = dset_get(s, name, 0)) != NULL)
            dset_clear(d); /* at most the home: the store had nothing else */
    }
    store_data_replica_clear(&r);
    return rc;
}

int sched_data_forget_unused(struct store *st, const struct spec *sp, int64_t self,
                             double now, struct err *e)
{
    struct store_data_replica r;
    int rc, found;

    if (sp->data_name == NULL || sp->data_cloud == NULL ||
        job_names(st, sp->data_name, self, NULL))
        return 0;
    if ((rc = unused_home(st, sp->data_name, self, &r, &found, e)) == 0 && found) {
        r.expired_at = now;
        rc = store_data_put(st, &r, e);
    }
    store_data_replica_clear(&r);
    return rc;
}

/* Has a job run on the shared dataset sp names?  Its home is then held
 * here, marked used: an arrival reads it so (home_row), and a load keeps
 * only used homes.  The quick answer for a job's end (its attempts may all
 * have failed before running, so their count does not tell). */
static int home_used(struct sched *s, const struct spec *sp)
{
    const struct store_data_replica *c =
        copy_at(dset_get(s, sp->data_name, 0), sp->data_cloud,
                sp->data_region ? sp->data_region : "");

    return c != NULL && c->home && c->last_used_at > 0;
}

int sched_data_job_ended(struct sched *s, struct sjob *sj, struct err *e)
{
    char buf[DNAME_MAX];
    char *name;
    struct dset *d;
    size_t i;
    int rc;

    if (sj->spec && sj->spec->data_name && sj->spec->data_cloud &&
        s->p.cfg.data_gravity && !home_used(s, sj->spec))
        return forget_unused_home(s, sj, e);
    if (sj->spec == NULL || sj->spec->data_name || !s->p.cfg.data_gravity ||
        (name = dataset_of(sj, buf, sizeof(buf))) == NULL || (d = sj->own) == NULL)
        return 0;
    for (i = d->n; i-- > 0;)
        if ((rc = expire(s, d, i, s->now, e)) != 0)
            return rc;
    sched_data_job_free(sj);
    return 0;
}

/* Shared datasets' replicas no attempt runs on are deleted at their last use
 * + TTL: the sweep runs then (data_sweep_at, the earliest such time, in the
 * controller's wake-ups), so that a copy's keeping is billed to the rule's
 * time and no later than it was counted (a sweep an hour apart dated its
 * deletions back, and a report or counter read between had billed more). */
int sched_data_sweep(struct sched *s, struct err *e)
{
    double ttl = s->p.cfg.data_ttl_s;
    size_t i, k;
    int rc;

    if (s->now < s->data_sweep_at || s->ndsets == 0)
        return 0;
    s->data_sweep_at = INFINITY; /* the next copy's time, below */
    for (i = 0; i < s->ndsets; i++) {
        struct dset *d = &s->dsets[i];

        for (k = d->n; k-- > 0;) {
            const struct store_data_replica *c = &d->r[k];

            if (c->home || c->in_use > 0)
                continue;
            if (c->last_used_at + ttl > s->now) {
                s->data_sweep_at = fmin(s->data_sweep_at, c->last_used_at + ttl);
                continue;
            }
            if ((rc = expire(s, d, k, c->last_used_at + ttl, e)) != 0) {
                s->data_sweep_at = s->now; /* look again */
                return rc;
            }
        }
    }
    return 0;
}

double sched_data_sweep_next(const struct sched *s)
{
    return s->ndsets > 0 ? s->data_sweep_at : INFINITY;
}

/* The dataset a stored spec names (stratus.data.dataset) read from its YAML
 * alone, into buf: for a job whose spec no longer loads (another version's
 * rules), whose data copies must still be let go.  NULL when it names none
 * or its YAML does not read either. */
static const char *stored_dataset(const char *text, char *buf, size_t n)
{
    const struct ynode *v;
    struct ydoc d;
    struct err e;
    int found;

    err_clear(&e);
    if (text == NULL || ydoc_load_mem(&d, "spec", text, strlen(text), &e) != 0)
        return NULL;
    v = ymap_get(d.root, "stratus");
    v = v && v->type == Y_MAP ? ymap_get(v, "data") : NULL;
    v = v && v->type == Y_MAP ? ymap_get(v, "dataset") : NULL;
    found = v && v->type == Y_SCALAR && *v->str;
    if (found)
        snprintf(buf, n, "%s", v->str);
    ydoc_free(&d);
    return found ? buf : NULL;
}

int sched_data_unloadable_end(struct sched *s, const struct store_job *j,
                              const struct store_attempt *a, struct err *e)
{
    struct store_data_replica *v = NULL;
    char buf[DNAME_MAX];
    const char *name = stored_dataset(j->spec_text, buf, sizeof(buf));
    int shared = name != NULL, rc;
    size_t i, n = 0;

    if (shared && a->running_at <= 0)
        return 0;
    if (!shared) {
        snprintf(buf, sizeof(buf), "job:%" PRId64, j->id);
        name = buf;
    }
    /* from the store: this runs as the controller opens, before it reads
     * the copies (sched_data_load) */
    if ((rc = store_data_list(s->p.store, name, 1, &v, &n, e)) != 0)
        return rc;
    for (i = 0; rc == 0 && i < n; i++) {
        struct store_data_replica *c = &v[i];

        /* a shared copy: the one it ran on has one user fewer; its own
         * data's: no other job uses them, and they go with it */
        if (c->home || (shared && (c->in_use == 0 || strcmp(c->cloud, a->cloud) != 0 ||
                                   strcmp(c->region, a->region) != 0)))
            continue;
        c->in_use = shared ? c->in_use - 1 : 0;
        c->last_used_at = fmax(c->last_used_at, s->now);
        if (!shared)
            c->expired_at = fmax(s->now, c->created_at);
        rc = store_data_put(s->p.store, c, e);
    }
    store_data_replicas_free(v, n);
    return rc;
}

/* Stage k names its dataset as the stages before it do (the store knows
 * none of them yet): 0, or an error at its data line. */
int sched_data_stage_agrees(const char *file, const struct pipeline *pl, size_t k,
                            struct err *e)
{
    const struct spec *sp = pl->stages[k].spec, *o;
    size_t j;

    if (sp->data_name == NULL || sp->data_cloud == NULL)
        return 0;
    for (j = 0; j < k; j++) {
        o = pl->stages[j].spec;
        if (o->data_name == NULL || o->data_cloud == NULL ||
            strcmp(o->data_name, sp->data_name) != 0 ||
            sched_data_same(o->data_cloud, o->data_region ? o->data_region : "",
                            o->data_gb, sp))
            continue;
        return err_at(
            e, ST_EINVAL, file, sp->data_line, sp->data_col,
            "stage '%s' gives dataset '%s' its home in %s%s%s (%g GB); stage '%s' "
            "says %s%s%s (%g GB): one dataset is one set of data. Give the same "
            "location and size_gb, or name the other data differently",
            o->name, sp->data_name, o->data_cloud, o->data_region ? "/" : "",
            o->data_region ? o->data_region : "", o->data_gb, sp->name, sp->data_cloud,
            sp->data_region ? "/" : "", sp->data_region ? sp->data_region : "",
            sp->data_gb);
    }
    return 0;
}

/* ---- who bills a data move ---- */

/* "cloud/region" at s (up to ", " or the end) into p; the rest after it. */
static const char *hop_at(const char *s, char *cloud, size_t nc, char *region, size_t nr)
{
    const char *slash = strchr(s, '/'), *end = strstr(s, ", ");

    if (end == NULL)
        end = s + strlen(s);
    if (slash == NULL || slash > end || (size_t)(slash - s) >= nc ||
        (size_t)(end - slash - 1) >= nr)
        return NULL;
    snprintf(cloud, nc, "%.*s", (int)(slash - s), s);
    snprintf(region, nr, "%.*s", (int)(end - slash - 1), slash + 1);
    return *end ? end + 2 : end;
}

size_t sched_egress_sources(const struct catalog *cat, const struct store_data_replica *r,
                            struct sched_egress_part *out, size_t max)
{
    char cl[SCHED_EGRESS_HOPS + 1][16], rg[SCHED_EGRESS_HOPS + 1][64];
    double w[SCHED_EGRESS_HOPS], sum = 0;
    size_t n = 1, i, k, np = 0;
    const char *v = r->via ? r->via : "";

    if (max == 0 || !(r->egress > 0))
        return 0;
    snprintf(cl[0], sizeof(cl[0]), "%s", r->src_cloud ? r->src_cloud : "");
    snprintf(rg[0], sizeof(rg[0]), "%s", r->src_region ? r->src_region : "");
    while (*v && n < SCHED_EGRESS_HOPS &&
           (v = hop_at(v, cl[n], sizeof(cl[n]), rg[n], sizeof(rg[n]))) != NULL)
        n++;
    snprintf(cl[n], sizeof(cl[n]), "%s", r->cloud);
    snprintf(rg[n], sizeof(rg[n]), "%s", r->region);
    for (i = 0; i < n; i++) { /* hop i: from point i to point i + 1 */
        w[i] = cat ? catalog_egress_per_gb(cat, cl[i], rg[i], cl[i + 1], rg[i + 1]) : 0;
        sum += w[i] > 0 ? w[i] : 0;
    }
    for (i = 0; i < n; i++) {
        double usd = sum > 0  ? r->egress * (w[i] > 0 ? w[i] : 0) / sum
                     : i == 0 ? r->egress
                              : 0;

        if (!(usd > 0))
            continue;
        for (k = 0; k < np && strcmp(out[k].cloud, cl[i]) != 0; k++)
            ;
        if (k == np) {
            if (np == max)
                continue;
            snprintf(out[np].cloud, sizeof(out[np].cloud), "%s", cl[i]);
            out[np++].usd = 0;
        }
        out[k].usd += usd;
    }
    return np;
}

static int cmp_copy_att(const void *a, const void *b)
{
    const struct store_data_replica *x = a, *y = b;

    return x->attempt_id < y->attempt_id ? -1 : x->attempt_id > y->attempt_id;
}

int sched_copies_load(struct store *st, struct sched_copies *cp, struct err *e)
{
    memset(cp, 0, sizeof(*cp));
    if (store_data_list(st, NULL, 0, &cp->v, &cp->n, e) != 0)
        return -1;
    if (cp->n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(cp->v, cp->n, sizeof(*cp->v), cmp_copy_att);
    return 0;
}

void sched_copies_free(struct sched_copies *cp)
{
    store_data_replicas_free(cp->v, cp->n);
    memset(cp, 0, sizeof(*cp));
}

size_t sched_attempt_egress(const struct catalog *cat, const struct sched_copies *cp,
                            const struct store_attempt *a, double usd,
                            const char *otherwise, struct sched_egress_part *out)
{
    const struct store_data_replica *d = NULL;
    size_t np = 0;

    if (!(usd > 0))
        return 0;
    if (cp != NULL && cp->n > 0 && a->id > 0) {
        struct store_data_replica key;

        memset(&key, 0, sizeof(key));
        key.attempt_id = a->id;
        d = bsearch(&key, cp->v, cp->n, sizeof(*cp->v), cmp_copy_att);
    }
    if (d != NULL && fabs(d->egress - usd) < 1e-6)
        np = sched_egress_sources(cat, d, out, SCHED_EGRESS_HOPS);
    if (np > 0)
        return np;
    snprintf(out[0].cloud, sizeof(out[0].cloud), "%s",
             otherwise  ? otherwise
             : a->cloud ? a->cloud
                        : "(none)");
    out[0].usd = usd;
    return 1;
}
