/*
 * pick.c - the router's replica set and its choice of replica (see pick.h).
 *
 * Layout: parsing the replica set document (jansson; errors carry
 * file:line:col), merging a document into the live set, the pick, and the
 * bookkeeping when a request ends (circuit breaker, latency histogram).
 */
#include "pick.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xmem.h"

const double rp_buckets[RP_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,      2.5,   5,    10,   30,    60};

#define RP_DEFAULT_LIMIT 64
#define RP_MAX_LIMIT 1000000 /* a target_qps beyond any replica's still fits an int */
#define RP_UNKNOWN_RTT 1e9
#define RP_MAX_REPLICAS 4096
#define RP_MAX_KEYS 4096

/* ---- parsing ---- */

static void replica_clear(struct rp_replica *r)
{
    free(r->url);
    free(r->host);
    free(r->cloud);
    free(r->region);
    free(r->zone);
    free(r->mode);
    free(r->accelerator);
    free(r->state_name);
    memset(r, 0, sizeof(*r));
}

void rp_doc_clear(struct rp_doc *doc)
{
    size_t i;

    for (i = 0; i < doc->nreplicas; i++)
        replica_clear(&doc->replicas[i]);
    for (i = 0; i < doc->nkeys; i++)
        free(doc->keys[i]);
    free(doc->replicas);
    free(doc->keys);
    free(doc->service);
    memset(doc, 0, sizeof(*doc));
}

/* "http://host:port" (a trailing "/" allowed); 0 or -1. */
static int parse_url(const char *url, char **host, int *port)
{
    const char *h, *colon, *end;
    char *stop;
    long p;

    if (strncmp(url, "http://", 7) != 0)
        return -1;
    h = url + 7;
    end = h + strcspn(h, "/");
    if (*end == '/' && end[1] != '\0')
        return -1;
    colon = memchr(h, ':', (size_t)(end - h));
    if (colon == NULL || colon == h || memchr(colon + 1, ':', (size_t)(end - colon - 1)))
        return -1;
    p = strtol(colon + 1, &stop, 10);
    if (stop != end || p < 1 || p > 65535)
        return -1;
    *host = xstrndup(h, (size_t)(colon - h));
    *port = (int)p;
    return 0;
}

static enum rp_state state_of(const char *s)
{
    if (strcmp(s, "READY") == 0)
        return RP_READY;
    if (strcmp(s, "DRAINING") == 0)
        return RP_DRAINING;
    return RP_OTHER;
}

/* A string member, "" when absent; -1 when present but not a string. */
static int opt_str(json_t *o, const char *key, char **out)
{
    json_t *v = json_object_get(o, key);

    if (v != NULL && !json_is_string(v))
        return -1;
    *out = xstrdup(v ? json_string_value(v) : "");
    return 0;
}

static int bad(struct err *e, const char *origin, const char *what, size_t i)
{
    return err_at(e, ST_EINVAL, origin, 0, 0,
                  "replica %zu: %s (each replica: {\"id\": N, \"url\": \"http://HOST:PORT\", "
                  "\"state\": \"READY\", \"cloud\": ..., \"region\": ...})", i, what);
}

static int parse_numbers(json_t *o, struct rp_replica *r)
{
    json_t *v;

    v = json_object_get(o, "target_qps");
    if (v != NULL && (!json_is_number(v) || json_number_value(v) < 0 ||
                      !isfinite(json_number_value(v))))
        return -1;
    r->target_qps = v ? json_number_value(v) : 0;
    v = json_object_get(o, "max_inflight");
    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
                      json_integer_value(v) > 1000000))
        return -1;
    r->max_inflight = v ? (int)json_integer_value(v) : 0;
    v = json_object_get(o, "emulated");
    if (v != NULL && !json_is_boolean(v))
        return -1;
    r->emulated = v ? json_is_true(v) : 0;
    return 0;
}

static int parse_replica(json_t *o, size_t i, const char *origin, struct rp_replica *r,
                         struct err *e)
{
    json_t *id = json_object_get(o, "id"), *url = json_object_get(o, "url");

    if (!json_is_object(o))
        return bad(e, origin, "not an object", i);
    if (!json_is_integer(id))
        return bad(e, origin, "\"id\" must be an integer", i);
    r->id = json_integer_value(id);
    if (!json_is_string(url) || parse_url(json_string_value(url), &r->host, &r->port) != 0)
        return bad(e, origin, "\"url\" must be http://HOST:PORT (https is not supported)", i);
    r->url = xstrdup(json_string_value(url));
    if (opt_str(o, "cloud", &r->cloud) || opt_str(o, "region", &r->region) ||
        opt_str(o, "zone", &r->zone) || opt_str(o, "mode", &r->mode) ||
        opt_str(o, "accelerator", &r->accelerator) || opt_str(o, "state", &r->state_name))
        return bad(e, origin, "cloud, region, zone, mode, accelerator and state are strings", i);
    if (r->state_name[0] == '\0')
        return bad(e, origin, "\"state\" is missing (READY, DRAINING, ...)", i);
    r->state = state_of(r->state_name);
    if (parse_numbers(o, r) != 0)
        return bad(e, origin, "target_qps >= 0, max_inflight an integer >= 1, emulated a "
                   "boolean", i);
    return 0;
}

static int is_hex64(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return i == 64;
}

static int parse_keys(json_t *keys, const char *origin, struct rp_doc *doc, struct err *e)
{
    size_t i, j;

    if (keys == NULL || json_is_null(keys))
        return 0;
    if (!json_is_array(keys) || json_array_size(keys) > RP_MAX_KEYS)
        return err_at(e, ST_EINVAL, origin, 0, 0, "\"keys\" must be an array of sha256 hex "
                      "digests (at most %d)", RP_MAX_KEYS);
    doc->keys = xcalloc(json_array_size(keys) + 1, sizeof(char *));
    for (i = 0; i < json_array_size(keys); i++) {
        const char *k = json_string_value(json_array_get(keys, i));

        if (k == NULL || !is_hex64(k))
            return err_at(e, ST_EINVAL, origin, 0, 0, "keys[%zu] is not a sha256 hex digest "
                          "(64 hex digits: `printf %%s KEY | sha256sum`)", i);
        doc->keys[doc->nkeys] = xstrdup(k);
        for (j = 0; j < 64; j++)
            if (doc->keys[doc->nkeys][j] >= 'A' && doc->keys[doc->nkeys][j] <= 'F')
                doc->keys[doc->nkeys][j] = (char)(doc->keys[doc->nkeys][j] - 'A' + 'a');
        doc->nkeys++;
    }
    return 0;
}

static int parse_doc(json_t *root, const char *origin, struct rp_doc *doc, struct err *e)
{
    json_t *reps = json_object_get(root, "replicas"), *v;
    size_t i;
    int rc;

    if (!json_is_object(root))
        return err_at(e, ST_EINVAL, origin, 0, 0, "the replica set must be a JSON object "
                      "{\"service\", \"version\", \"replicas\": [...]}");
    v = json_object_get(root, "version");
    if (v != NULL && !json_is_integer(v))
        return err_at(e, ST_EINVAL, origin, 0, 0, "\"version\" must be an integer");
    doc->version = v ? json_integer_value(v) : 0;
    v = json_object_get(root, "service");
    doc->service = xstrdup(json_is_string(v) ? json_string_value(v) : "");
    if (!json_is_array(reps) || json_array_size(reps) > RP_MAX_REPLICAS)
        return err_at(e, ST_EINVAL, origin, 0, 0, "\"replicas\" must be an array (at most %d)",
                      RP_MAX_REPLICAS);
    rc = parse_keys(json_object_get(root, "keys"), origin, doc, e);
    if (rc != 0)
        return rc;
    doc->replicas = xcalloc(json_array_size(reps) + 1, sizeof(*doc->replicas));
    for (i = 0; i < json_array_size(reps); i++) {
        rc = parse_replica(json_array_get(reps, i), i, origin, &doc->replicas[i], e);
        doc->nreplicas = i + 1; /* cleared by rp_doc_clear, even half-filled */
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rp_parse(const char *text, size_t len, const char *origin, struct rp_doc *doc,
             struct err *e)
{
    json_error_t je;
    json_t *root;
    int rc;

    memset(doc, 0, sizeof(*doc));
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return err_at(e, ST_EPARSE, origin, (size_t)(je.line > 0 ? je.line : 0),
                      (size_t)(je.column > 0 ? je.column : 0), "%s", je.text);
    rc = parse_doc(root, origin, doc, e);
    json_decref(root);
    if (rc != 0)
        rp_doc_clear(doc);
    return rc;
}

/* ---- the live set ---- */

void rp_set_init(struct rp_set *s, const struct rp_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->next_serial = 1;
}

static void free_keys(struct rp_set *s)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    free(s->keys);
    s->keys = NULL;
    s->nkeys = 0;
}

void rp_set_free(struct rp_set *s)
{
    struct rp_replica *r, *next;

    for (r = s->list; r; r = next) {
        next = r->next;
        replica_clear(r);
        free(r);
    }
    free_keys(s);
    free(s->service);
    memset(s, 0, sizeof(*s));
}

/* Limit: the replica's own, the router's, else target_qps (Little's law
 * with a one-second request, the order of an LLM completion), else 64. */
static int limit_of(const struct rp_set *s, const struct rp_replica *r)
{
    if (r->max_inflight > 0)
        return r->max_inflight;
    if (s->cfg.max_inflight > 0)
        return s->cfg.max_inflight;
    if (r->target_qps > 0)
        return (int)fmin(RP_MAX_LIMIT, fmax(1, ceil(r->target_qps)));
    return RP_DEFAULT_LIMIT;
}

/* Copy the descriptive fields of src into the live replica r. */
static void take_fields(struct rp_set *s, struct rp_replica *r, const struct rp_replica *src)
{
    double rtt;

    free(r->state_name);
    free(r->zone);
    free(r->mode);
    free(r->accelerator);
    r->state_name = xstrdup(src->state_name);
    r->zone = xstrdup(src->zone);
    r->mode = xstrdup(src->mode);
    r->accelerator = xstrdup(src->accelerator);
    r->state = src->state;
    r->target_qps = src->target_qps;
    r->max_inflight = src->max_inflight;
    r->emulated = src->emulated;
    r->limit = limit_of(s, r);
    rtt = s->cfg.rtt ? s->cfg.rtt(s->cfg.rtt_ctx, r->cloud, r->region) : 0;
    r->rtt_ms = rtt < 0 ? RP_UNKNOWN_RTT : rtt;
}

static struct rp_replica *new_replica(struct rp_set *s, const struct rp_replica *src)
{
    struct rp_replica *r = xcalloc(1, sizeof(*r));

    r->id = src->id;
    r->url = xstrdup(src->url);
    r->host = xstrdup(src->host);
    r->port = src->port;
    r->cloud = xstrdup(src->cloud);
    r->region = xstrdup(src->region);
    r->serial = s->next_serial++;
    take_fields(s, r, src);
    r->next = s->list;
    s->list = r;
    return r;
}

/* The live replica not yet matched in this rp_apply (removed == 2) that
 * src is: same id, url and location; NULL when none. */
static struct rp_replica *find_unmatched(struct rp_set *s, const struct rp_replica *src)
{
    struct rp_replica *r;

    for (r = s->list; r; r = r->next)
        if (r->removed == 2 && r->id == src->id && strcmp(r->url, src->url) == 0 &&
            strcmp(r->cloud, src->cloud) == 0 && strcmp(r->region, src->region) == 0)
            return r;
    return NULL;
}

/* Unlink and free removed replicas with nothing in flight. */
static void sweep(struct rp_set *s)
{
    struct rp_replica **pp = &s->list, *r;

    while ((r = *pp) != NULL) {
        if (r->removed && r->inflight == 0) {
            *pp = r->next;
            replica_clear(r);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

void rp_apply(struct rp_set *s, const struct rp_doc *doc)
{
    struct rp_replica *r;
    size_t i;

    for (r = s->list; r; r = r->next)
        if (!r->removed)
            r->removed = 2; /* 2: not seen yet in doc */
    for (i = 0; i < doc->nreplicas; i++) {
        r = find_unmatched(s, &doc->replicas[i]);
        if (r == NULL) /* new (a duplicate entry is a second replica) */
            r = new_replica(s, &doc->replicas[i]);
        else
            take_fields(s, r, &doc->replicas[i]);
        r->removed = 0;
    }
    for (r = s->list; r; r = r->next)
        if (r->removed == 2)
            r->removed = 1;
    free_keys(s);
    s->keys = xcalloc(doc->nkeys + 1, sizeof(char *));
    for (i = 0; i < doc->nkeys; i++)
        s->keys[i] = xstrdup(doc->keys[i]);
    s->nkeys = doc->nkeys;
    free(s->service);
    s->service = xstrdup(doc->service ? doc->service : "");
    s->version = doc->version;
    sweep(s);
}

/* ---- the pick ---- */

static int was_tried(const struct rp_replica *r, const uint64_t *tried, size_t ntried)
{
    size_t i;

    for (i = 0; i < ntried; i++)
        if (tried[i] == r->serial)
            return 1;
    return 0;
}

static int usable(const struct rp_replica *r, double now, const uint64_t *tried, size_t ntried)
{
    return !r->removed && r->state == RP_READY && now >= r->ejected_until &&
           !was_tried(r, tried, ntried);
}

struct cand {
    struct rp_replica *r;
    double level, load;
    unsigned order;            /* round-robin position */
};

/* a before b: nearer level, then lighter load, then round-robin order. */
static int better(const struct cand *a, const struct cand *b, int by_level)
{
    if (by_level && a->level != b->level)
        return a->level < b->level;
    if (a->load != b->load)
        return a->load < b->load;
    return a->order < b->order;
}

static void cand_of(struct cand *c, const struct rp_set *s, struct rp_replica *r, unsigned pos)
{
    c->r = r;
    c->level = s->cfg.policy == RP_NEAREST ? r->rtt_ms : 0;
    c->load = (double)r->inflight / r->limit;
    c->order = (pos + s->rr) * 2654435761u; /* a spread, not a fixed order */
}

/* Every usable replica is at its limit: the least loaded anywhere (by
 * load, then order; levels do not count).  A second pass over the list,
 * taken only then, so that the usual pick compares each replica once. */
static struct cand least_loaded(const struct rp_set *s, double now, const uint64_t *tried,
                                size_t ntried)
{
    struct cand c, best = {0};
    struct rp_replica *r;
    unsigned pos = 0;

    for (r = s->list; r; r = r->next, pos++) {
        if (!usable(r, now, tried, ntried))
            continue;
        cand_of(&c, s, r, pos);
        if (!best.r || better(&c, &best, 0))
            best = c;
    }
    return best;
}

/* Seconds until a request of `work` bytes would start at r (the
 * latency-aware rank): the RTT and the work ahead of it. */
static double eta(const struct rp_set *s, const struct rp_replica *r, double work)
{
    return (r->rtt_ms < 1e8 ? r->rtt_ms / 1000 : 1e5) + (r->work + work) / s->work_rate;
}

/* The latency-aware choice: the soonest start among replicas below their
 * limit, else among all (saturated); ties to the nearer, then round-robin. */
static struct rp_replica *pick_eta(struct rp_set *s, double now, const uint64_t *tried,
                                   size_t ntried, double work, int *overflow)
{
    struct cand c, free_best = {0}, any_best = {0};
    struct rp_replica *r;
    double nearest = INFINITY;
    unsigned pos = 0;

    for (r = s->list; r; r = r->next, pos++) {
        if (!usable(r, now, tried, ntried))
            continue;
        cand_of(&c, s, r, pos);
        c.load = eta(s, r, work);
        nearest = fmin(nearest, c.level);
        if (r->inflight < (unsigned)r->limit && (!free_best.r || better(&c, &free_best, 0)))
            free_best = c;
        if (!any_best.r || better(&c, &any_best, 0))
            any_best = c;
    }
    if (free_best.r == NULL && any_best.r != NULL) {
        s->saturated++;
        free_best = any_best;
    }
    if (free_best.r != NULL && free_best.level > nearest) {
        s->overflows++;
        *overflow = 1;
    }
    return free_best.r;
}

struct rp_replica *rp_pick_work(struct rp_set *s, double now, const uint64_t *tried,
                                size_t ntried, double work, int *overflow)
{
    struct rp_replica *r;
    int ov = 0;

    if (s->cfg.policy != RP_NEAREST || !(s->work_rate > 0) || !(work > 0)) {
        r = rp_pick(s, now, tried, ntried, overflow);
    } else {
        s->rr++;
        r = pick_eta(s, now, tried, ntried, work, &ov);
        if (overflow)
            *overflow = ov;
        if (r != NULL) {
            r->inflight++;
            r->nreq++;
        }
    }
    /* however it was chosen, its bytes are in flight there until
     * rp_done_work takes them off */
    if (r != NULL && work > 0)
        r->work += work;
    return r;
}

struct rp_replica *rp_pick(struct rp_set *s, double now, const uint64_t *tried, size_t ntried,
                           int *overflow)
{
    struct cand c, best = {0};
    struct rp_replica *r;
    double nearest = INFINITY, level;
    unsigned pos = 0;
    int any = 0;

    s->rr++;
    for (r = s->list; r; r = r->next, pos++) {
        if (!usable(r, now, tried, ntried))
            continue;
        any = 1;
        level = s->cfg.policy == RP_NEAREST ? r->rtt_ms : 0;
        if (level < nearest)
            nearest = level;
        /* a full one, or one on a farther level than the best so far, cannot win */
        if (r->inflight >= (unsigned)r->limit || (best.r && level > best.level))
            continue;
        cand_of(&c, s, r, pos);
        if (!best.r || better(&c, &best, 1))
            best = c;
    }
    if (overflow)
        *overflow = 0;
    if (best.r == NULL && any) {
        s->saturated++;
        best = least_loaded(s, now, tried, ntried);
    }
    if (best.r == NULL)
        return NULL;
    if (best.level > nearest) {
        s->overflows++;
        if (overflow)
            *overflow = 1;
    }
    best.r->inflight++;
    best.r->nreq++;
    return best.r;
}

static void observe(struct rp_hist *h, double secs)
{
    size_t i;

    for (i = 0; i < RP_NBUCKETS && secs > rp_buckets[i]; i++)
        ;
    h->count[i]++;
    h->sum += secs;
}

void rp_done(struct rp_set *s, struct rp_replica *r, int ok, double secs, double now)
{
    double t;

    BUG_ON(r->inflight == 0);
    r->inflight--;
    if (secs >= 0)
        observe(&r->lat, secs);
    if (ok) {
        r->consec_fail = 0;
    } else {
        r->nfail++;
        r->consec_fail++;
        if (s->cfg.eject_after > 0 && r->consec_fail >= s->cfg.eject_after) {
            r->nejections++;
            t = fmin(s->cfg.eject_base_s * r->nejections, s->cfg.eject_max_s);
            r->ejected_until = now + t;
            r->consec_fail = 0;
            s->ejections++;
        }
    }
    if (r->removed && r->inflight == 0)
        sweep(s);
}

/* Weight of the newest answer in the learned work rate: about the last 50
 * answers count. */
#define RP_RATE_WEIGHT 0.02

void rp_done_work(struct rp_set *s, struct rp_replica *r, int ok, double secs, double work,
                  double now)
{
    if (work > 0) {
        r->work = r->work > work ? r->work - work : 0;
        if (ok && secs > 0) {
            double x = work / secs;

            s->work_rate = s->work_rate > 0 ? s->work_rate + RP_RATE_WEIGHT * (x - s->work_rate)
                                            : x;
        }
    }
    rp_done(s, r, ok, secs, now); /* last: it may free r */
}

size_t rp_nready(const struct rp_set *s)
{
    const struct rp_replica *r;
    size_t n = 0;

    for (r = s->list; r; r = r->next)
        n += !r->removed && r->state == RP_READY;
    return n;
}

int rp_alive(const struct rp_set *s, uint64_t serial)
{
    const struct rp_replica *r;

    for (r = s->list; r; r = r->next)
        if (r->serial == serial)
            return !r->removed;
    return 0;
}

int rp_key_ok(const struct rp_set *s, const char *hex)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i], hex) == 0)
            return 1;
    return 0;
}
