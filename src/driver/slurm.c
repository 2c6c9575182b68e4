/*
 * slurm.c - the `slurm` driver: real Slurm clusters as cloud locations.
 *
 * Each cluster of the clusters file (slurm_conf.c) is one catalog offer: the
 * controller picks an offer by price, policy and free capacity, and this
 * driver submits the gang there through slurmrestd (slurm_rest.c), watches
 * it, and reports what becomes of it.  Slurm does no requeueing of its own
 * (`no_requeue`): a lost node ends the job, and the controller decides where
 * it resumes from its checkpoint.
 *
 * Crash safety: every fact the driver needs lives in a record per attempt
 * below <home>/slurm/ (slurm_att.c), written before it is acted on:
 *
 *  - launch() writes the record (SUBMITTING) before the POST, and the job
 *    id after.  A controller killed in between leaves a record without a
 *    job id; the launch() its successor re-issues - or the next poll -
 *    looks for the job by its name, "stratus-<instance>-<attempt id>", in
 *    the cluster's job list, and adopts it: nothing is submitted twice.
 *    A launch with no record at all was never submitted, so the common
 *    case costs one POST and no lookup.
 *  - A job that finished while no controller ran is still in Slurm's list
 *    (for MinJobAge) and reported then; a terminal event is recorded as
 *    soon as it is seen, so it survives the job's purge.
 *  - terminate() records that it asked before it sends the DELETE, so a
 *    CANCELLED is known to be ours after a restart, and a DELETE that
 *    failed is sent again at the next look.
 *
 * Capacity (capacity()) is what the cluster's nodes say: idle nodes of the
 * partition, less the nodes of this driver's jobs that are submitted but
 * not running yet.  queue_capacity() adds the cluster's `queue` allowance:
 * that many more nodes of jobs may wait in Slurm's own queue, so Slurm
 * starts the next job the moment a node frees rather than when this driver
 * has seen the end (a poll later) and the controller has submitted again;
 * measured (bench/bench_api.sh), that wait was most of what Stratus added to
 * a stream of short jobs.  The controller asks for it only when no
 * candidate anywhere has a free node.  An offer no cluster is has none.  A
 * cluster that cannot be reached has none either, queue or not, and a job
 * pending there longer than the cluster's pending_timeout - a queued one
 * too: that bounds how long a queue keeps a job from a place that frees up
 * elsewhere - is cancelled and reported as CAPACITY, so the controller
 * moves it.
 *
 * Decisions a reader might question:
 *  - A refused or failed POST is not an error of launch(): it is reported
 *    as CAPACITY at the next poll (like a cloud answering a create request
 *    later), so the controller fails over.  Only invalid requests (no
 *    cluster is that offer, a bad environment name, a script too large)
 *    are launch() errors.
 *  - A cluster is asked at most once per poll_interval, however often the
 *    controller steps.  Up to LOOKUP_MAX jobs of ours there are asked for
 *    one by one (GET job/{id}): the job list holds every job the cluster
 *    remembers, everyone's, and costs a step about as much as one lookup
 *    per job in it (look_mode()).  The list is asked for when more jobs
 *    are live, or a job must be found by its name; with `update_time` so
 *    that an unchanged list costs a 304, and whole at least every
 *    FULL_FETCH_S all the same, in case the cluster's clock and ours
 *    disagree.
 *  - open() reads the clusters file and talks to no cluster: `stratus logs`
 *    opens the driver too.  Records are read on first use.
 *
 * Layout: helpers; the instance tag and loading; fetching and following a
 * cluster; the driver_ops; the table.
 */
#include "slurm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/lazycurl.h"
#include "../util/log.h"
#include "../util/xmem.h"

#define FULL_FETCH_S 30.0   /* a full job list at least this often */
#define UPDATE_MARGIN_S 5.0 /* update_time this much before our last good look: the
                               cluster's clock may run a little behind ours */
#define WARN_EVERY_S 30.0   /* one warning per cluster this often at most */
#define NAME_MAX_LEN 128
#define LOOKUP_MAX 32       /* live jobs on a cluster asked for one by one, at most */
#define PENDING_LOOK_S 1.0  /* a job not running yet is asked for at most this often */

/* What the driver knows of one cluster now. */
struct scluster {
    const struct slurm_cluster *conf;
    struct srest rest;
    struct sjob_list jobs; /* our jobs there, as last fetched */
    double jobs_at;        /* the last try to fetch them (our clock); 0 = never */
    double ok_at;          /* the last fetch that worked */
    double full_at;        /* when the last full list came */
    long idle;             /* idle nodes, as last fetched */
    double idle_at;        /* when; 0 = stale, fetch again */
    int idle_ok;           /* that fetch worked */
    double warned_at;
};

/* The driver's private state (d->priv). */
struct slurm {
    char *root;            /* <home>/slurm, absolute */
    char *default_workdir; /* <root>/jobs */
    const struct clock *clock;
    struct slurm_conf conf;
    struct scluster *cl; /* conf.n entries */
    char *instance;      /* this home's tag */
    char *prefix;        /* "stratus-<instance>-" */
    int loaded;
    struct satt_list att;
    int64_t *acks; /* attempts whose last terminal event the last poll returned */
    size_t nacks, acks_cap;
    int curl_ready;
};

/* ---- helpers ------------------------------------------------------------------ */

static double now_of(const struct slurm *p)
{
    return clock_now(p->clock);
}

static struct scluster *cluster_of(struct slurm *p, const struct slurm_cluster *c)
{
    return c ? &p->cl[c - p->conf.c] : NULL;
}

/* A warning about a cluster, at most once per WARN_EVERY_S. */
static void warn_cluster(struct slurm *p, struct scluster *c, const char *msg)
{
    double now = now_of(p);

    if (now - c->warned_at < WARN_EVERY_S)
        return;
    c->warned_at = now;
    log_warn("slurm driver: %s", msg);
}

static void save(struct slurm *p, const struct satt *a)
{
    struct err e;

    if (satt_save(p->root, a, &e) != 0)
        log_error("slurm driver: %s", e.msg);
}

static int check_name(const char *s, const char *what, int may_be_empty, struct err *e)
{
    const char *c;

    if (s == NULL || *s == '\0')
        return may_be_empty ? 0 : err_set(e, ST_EINVAL, "attempt without a %s", what);
    if (strlen(s) >= NAME_MAX_LEN)
        return err_set(e, ST_EINVAL, "%s name too long", what);
    for (c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '/' || (unsigned char)*c >= 0x7f)
            return err_set(e, ST_EINVAL, "bad %s name '%s'", what, s);
    return 0;
}

static int check_attempt(const struct attempt *a, struct err *e)
{
    int rc;

    if (a->id < 0)
        return err_set(e, ST_EINVAL, "attempt id %" PRId64 " < 0", a->id);
    if (a->nodes < 1 || a->nodes > SLURM_MAX_NODES)
        return err_set(e, ST_EINVAL, "attempt %" PRId64 ": %d nodes (1 to %d)", a->id,
                       a->nodes, SLURM_MAX_NODES);
    if ((rc = check_name(a->cloud, "cloud", 0, e)) != 0 ||
        (rc = check_name(a->region, "region", 0, e)) != 0 ||
        (rc = check_name(a->zone, "zone", 1, e)) != 0 ||
        (rc = check_name(a->instance_type, "instance type", 0, e)) != 0)
        return rc;
    return 0;
}

/* ---- the instance tag and loading ------------------------------------------------ */

static int tag_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 32 && strspn(s, "0123456789abcdef") == n;
}

/* Make <root>/instance unless it exists: a temporary file linked into place,
 * so two processes racing agree on one tag. */
static void make_tag(const char *root)
{
    unsigned char r[4];
    char text[16], *tmp = xasprintf("%s/.instance.%ld", root, (long)getpid());
    char *path = xasprintf("%s/instance", root);
    int fd;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        unsigned v = (unsigned)getpid() ^ (unsigned)(clock_mono() * 1e6);

        memcpy(r, &v, sizeof(r));
    }
    snprintf(text, sizeof(text), "%02x%02x%02x%02x\n", r[0], r[1], r[2], r[3]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0 && write(fd, text, 9) == 9 && close(fd) == 0) {
        fd = -1;
        if (link(tmp, path) != 0 && errno != EEXIST)
            log_warn("slurm driver: cannot create %s: %s", path, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    free(path);
}

static int load_tag(struct slurm *p, struct err *e)
{
    char *path = xasprintf("%s/instance", p->root), *text = NULL;
    int rc;

    if (access(path, F_OK) != 0)
        make_tag(p->root);
    rc = fs_read_file(path, 64, &text, NULL, e);
    if (rc == 0) {
        text[strcspn(text, "\n")] = '\0';
        if (!tag_ok(text))
            rc = err_set(e, ST_EINVAL, "%s: not an instance tag", path);
    }
    if (rc == 0) {
        p->instance = xstrdup(text);
        p->prefix = xasprintf("stratus-%s-", text);
    }
    free(text);
    free(path);
    return rc;
}

static int ensure_loaded(struct slurm *p, struct err *e)
{
    int rc;

    if (p->loaded)
        return 0;
    rc = load_tag(p, e);
    if (rc == 0)
        rc = satt_load_all(p->root, &p->conf, &p->att, e);
    if (rc == 0)
        p->loaded = 1;
    return rc;
}

/* ---- fetching and following a cluster ---------------------------------------------- */

/* Does the driver still wait to hear from this cluster about attempt a? */
static int wants_news(const struct satt *a)
{
    return satt_live(a) || (a->phase == SA_REFUSED && a->cleanup);
}

/* The job of a in a list: the one with a's job id when known. */
static const struct sjob *job_of(const struct sjob_list *l, const struct satt *a)
{
    const struct sjob *j = sjob_find(l, a->id), *end = l->v + l->n;

    if (j == NULL || a->job_id == 0)
        return j;
    for (; j < end && j->attempt_id == a->id; j++)
        if (j->job_id == a->job_id)
            return j;
    return NULL;
}

static int fetch_jobs(struct slurm *p, struct scluster *c, double now)
{
    double since = 0;
    struct err e;
    int unchanged = 0;

    if (c->full_at > 0 && now - c->full_at < FULL_FETCH_S && c->ok_at > 0)
        since = c->ok_at - UPDATE_MARGIN_S;
    err_clear(&e);
    if (srest_jobs(&c->rest, p->prefix, since, &c->jobs, &unchanged, &e) != 0) {
        warn_cluster(p, c, e.msg);
        c->jobs_at = now; /* try again after a poll interval, not at once */
        return -1;
    }
    c->jobs_at = c->ok_at = now;
    if (since == 0)
        c->full_at = now;
    return 0;
}

/* Send the DELETE for a's job; remember it went out. */
static void cancel_job(struct slurm *p, struct scluster *c, struct satt *a)
{
    struct err e;

    err_clear(&e);
    if (a->job_id == 0)
        return;
    if (srest_cancel(&c->rest, a->job_id, &e) == 0)
        a->cancel_sent = 1;
    else
        warn_cluster(p, c, e.msg);
}

/* The list no longer shows a's job: ask for it alone. */
static void lookup_job(struct slurm *p, struct scluster *c, struct satt *a, double now)
{
    struct sjob j;
    struct err e;
    int changed = 0;

    err_clear(&e);
    if (srest_job(&c->rest, a->job_id, p->prefix, &j, &e) == 0) {
        if (satt_update(a, &j, now, &changed) == SACT_CANCEL)
            cancel_job(p, c, a);
    } else if (e.code == ST_ENOTFOUND) {
        satt_lost(a, now);
        changed = 1;
    } else {
        warn_cluster(p, c, e.msg);
    }
    if (changed)
        save(p, a);
}

/* Bring a up to date with its job j (NULL: the cluster does not show it)
 * and act on what that says. */
static void follow_one(struct slurm *p, struct scluster *c, struct satt *a,
                       const struct sjob *j, double now)
{
    enum satt_phase was = a->phase;
    double started = a->started_at;
    int changed = 0;

    switch (satt_update(a, j, now, &changed)) {
    case SACT_CANCEL:
        if (changed) /* a refusal is saved before its cancel goes out */
            save(p, a);
        changed = 0;
        cancel_job(p, c, a);
        break;
    case SACT_LOOKUP:
        lookup_job(p, c, a, now);
        break;
    case SACT_NONE:
        break;
    }
    if (changed)
        save(p, a);
    if (a->phase != was || a->started_at != started)
        c->idle_at = 0; /* nodes were taken or given back: look again */
}

/* Follow a by its job alone (GET job/{id}); -1 when the cluster did not
 * answer, so the caller stops asking it until the next poll. */
static int follow_by_id(struct slurm *p, struct scluster *c, struct satt *a, double now)
{
    struct sjob j;
    struct err e;

    err_clear(&e);
    if (srest_job(&c->rest, a->job_id, p->prefix, &j, &e) == 0) {
        follow_one(p, c, a, &j, now);
    } else if (e.code == ST_ENOTFOUND && a->phase == SA_SUBMITTED) {
        satt_lost(a, now);
        save(p, a);
        c->idle_at = 0;
    } else if (e.code == ST_ENOTFOUND) {
        follow_one(p, c, a, NULL, now); /* a refused attempt: its job is gone */
    } else {
        warn_cluster(p, c, e.msg);
        return -1;
    }
    return 0;
}

/* How the driver looks at cluster c: 0 = nothing to ask, 1 = each job by
 * its id, 2 = the whole job list.  slurmrestd's job list carries every job
 * the cluster remembers (everyone's, for MinJobAge), and costs about one
 * job lookup per job in it: 150 jobs took 600 ms against 4-10 ms for one
 * job (on a loaded 2-core machine), and a controller step waits for it.
 * So a few jobs of ours are asked for one by one; the list is for many of
 * them, and for attempts whose job id is not known (a submission to adopt
 * by its name). */
static int look_mode(const struct slurm *p, const struct scluster *c)
{
    size_t k, n = 0;
    int by_name = 0;

    for (k = 0; k < p->att.n; k++) {
        const struct satt *a = p->att.v[k];

        if (a->cl != c->conf || !wants_news(a))
            continue;
        n++;
        by_name |= a->job_id == 0;
    }
    if (n == 0)
        return 0;
    return by_name || n > LOOKUP_MAX ? 2 : 1;
}

/* Is a due for a look by its id?  A job that waits in the cluster's queue
 * is asked for at most every PENDING_LOOK_S: when a queue holds a few jobs
 * per node, asking for every one at every poll kept the server's loop
 * (and its API) busy, while Slurm starts them on its own; what their start
 * changes (queue room, billing from the job's start time) can wait that
 * long.  Running jobs are asked for at every poll: their end frees nodes. */
static int look_now(const struct slurm *p, const struct satt *a, double now)
{
    double every =
        p->conf.poll_interval > PENDING_LOOK_S ? p->conf.poll_interval : PENDING_LOOK_S;

    return a->phase != SA_SUBMITTED || a->started_at > 0 || a->terminated ||
           now - a->looked_at >= every;
}

/* Look at cluster c, which has something to tell, by job or by list. */
static void follow_cluster(struct slurm *p, struct scluster *c, int mode, double now)
{
    size_t k;

    if (mode == 2 && fetch_jobs(p, c, now) != 0)
        return;
    if (mode == 1) {
        c->jobs_at = now;
        c->full_at = 0; /* the list kept is stale now: the next one is whole */
    }
    for (k = 0; k < p->att.n; k++) {
        struct satt *a = p->att.v[k];

        if (a->cl != c->conf || !wants_news(a))
            continue;
        if (mode == 2) {
            follow_one(p, c, a, job_of(&c->jobs, a), now);
            continue;
        }
        if (!look_now(p, a, now))
            continue;
        a->looked_at = now;
        if (follow_by_id(p, c, a, now) != 0)
            break;
    }
}

/* Look at every cluster that is due and has something to tell, at most
 * once per poll interval however often the controller steps. */
static void follow_clusters(struct slurm *p, double now)
{
    size_t i;

    for (i = 0; i < p->conf.n; i++) {
        struct scluster *c = &p->cl[i];
        int mode = look_mode(p, c);

        if (mode != 0 && now - c->jobs_at >= p->conf.poll_interval)
            follow_cluster(p, c, mode, now);
    }
}

/* Acknowledge the terminal events the previous poll returned. */
static void ack(struct slurm *p)
{
    struct err e;
    size_t i;

    for (i = 0; i < p->nacks; i++) {
        struct satt *a = satt_find(&p->att, p->acks[i]);

        if (a == NULL)
            continue;
        a->acked = 1;
        if (!a->cleanup && satt_retire(p->root, a, &e) != 0)
            log_error("slurm driver: %s", e.msg);
    }
    p->nacks = 0;
    satt_forget_acked(&p->att);
}

/* Retire refused attempts whose cleanup finished after their ack. */
static void retire_cleaned(struct slurm *p)
{
    struct err e;
    size_t i;

    for (i = 0; i < p->att.n; i++) {
        struct satt *a = p->att.v[i];

        if (a->acked && !a->cleanup && satt_retire(p->root, a, &e) != 0)
            log_error("slurm driver: %s", e.msg);
    }
    satt_forget_acked(&p->att);
}

static size_t events(struct slurm *p, struct driver_event *ev, size_t max)
{
    size_t i, k = 0;

    for (i = 0; i < p->att.n && k < max; i++) {
        int ended = 0;

        k += satt_events(p->att.v[i], ev + k, max - k, &ended);
        if (ended) {
            p->acks = xgrow(p->acks, &p->acks_cap, p->nacks + 1, sizeof(*p->acks));
            p->acks[p->nacks++] = p->att.v[i]->id;
        }
    }
    return k;
}

/* ---- launching ------------------------------------------------------------------------
 */

/* Submit a's job for record at; on any failure the attempt is refused (and
 * reported as CAPACITY), never an error: the controller fails over. */
static void submit(struct slurm *p, struct satt *at, const char *body)
{
    struct scluster *c = cluster_of(p, at->cl);
    int64_t job_id = 0;
    struct err e;

    err_clear(&e);
    if (srest_submit(&c->rest, body, &job_id, &e) == 0) {
        at->job_id = job_id;
        at->phase = SA_SUBMITTED;
        at->looked_at = now_of(p); /* Slurm starts it seconds later at best */
    } else {
        /* Unless Slurm said no, the job may exist all the same: keep looking. */
        at->cleanup = e.code != ST_ECAPACITY && e.code != ST_EINVAL;
        satt_refuse(at, now_of(p), e.msg);
        log_warn("slurm driver: attempt %" PRId64 ": %s", at->id, e.msg);
        /* Only a refusal calls for a new look at the nodes: a job submitted
         * counts as pending (pending_nodes()) until it is seen running, and
         * a look after every submission cost a request per job in a burst. */
        c->idle_at = 0;
    }
    save(p, at);
}

/* A record left SUBMITTING by a controller that died: adopt the job if it
 * exists, else submit it now. */
static void resume_submit(struct slurm *p, struct satt *at, const char *body)
{
    struct scluster *c = cluster_of(p, at->cl);
    const struct sjob *j;

    if (at->cl == NULL || fetch_jobs(p, c, now_of(p)) != 0)
        return; /* the poll adopts it, or gives it up, later */
    j = job_of(&c->jobs, at);
    if (j) {
        at->job_id = j->job_id;
        at->phase = SA_SUBMITTED;
        save(p, at);
        return;
    }
    submit(p, at, body);
}

static struct satt *new_record(struct slurm *p, const struct attempt *a,
                               const struct slurm_cluster *cl)
{
    struct satt *at = xcalloc(1, sizeof(*at));

    at->id = a->id;
    at->cluster = xstrdup(cl->name);
    at->cl = cl;
    at->nodes = a->nodes;
    at->submitted_at = now_of(p);
    at->dir = xasprintf("%s/%s/att-%" PRId64, cl->workdir, p->instance, a->id);
    at->phase = SA_SUBMITTING;
    at->end.attempt_id = a->id;
    at->end.node = -1;
    return at;
}

static int slurm_launch(struct driver *d, const struct attempt *a, struct err *e)
{
    struct slurm *p = d->priv;
    const struct slurm_cluster *cl;
    struct satt *at;
    char *name, *dir, *body = NULL;
    int rc = ensure_loaded(p, e);

    /* A clusters file that cannot be read is not the job's fault: not a bad
     * request (driver.h), so the controller retries rather than failing it. */
    if (rc != 0) {
        e->code = ST_ESTATE;
        return ST_ESTATE;
    }
    if ((rc = check_attempt(a, e)) != 0)
        return rc;
    if (a->image || a->nmounts || a->ports || a->disk_tier || a->accelerator_args)
        log_warn("slurm driver: attempt %" PRId64 ": image_id, file_mounts, ports, "
                 "disk_tier and accelerator_args are not applied on Slurm clusters", a->id);
    cl = slurm_conf_find(&p->conf, a->cloud, a->region, a->zone, a->instance_type);
    if (cl == NULL)
        return err_set(e, ST_ENOTFOUND, "no cluster in %s is %s at %s/%s%s%s",
                       p->conf.path, a->instance_type, a->cloud, a->region,
                       a->zone && *a->zone ? "/" : "", a->zone ? a->zone : "");
    at = satt_find(&p->att, a->id);
    if ((at && at->phase != SA_SUBMITTING) || (!at && satt_known(p->root, a->id)))
        return 0; /* launched already: idempotent */
    name = slurm_job_name(p->prefix, a->id);
    dir = xasprintf("%s/%s/att-%" PRId64, cl->workdir, p->instance, a->id);
    rc = slurm_job_body(a, cl, name, dir, &body, e);
    if (rc == 0 && at) {
        resume_submit(p, at, body);
    } else if (rc == 0) {
        at = new_record(p, a, cl);
        rc = satt_save(p->root, at, e); /* before the POST: see the header */
        if (rc == 0) {
            satt_add(&p->att, at);
            submit(p, at, body);
        } else {
            satt_free(at);
        }
    }
    free(body);
    free(dir);
    free(name);
    return rc;
}

/* ---- the other operations ------------------------------------------------------------
 */

static int slurm_poll(struct driver *d, struct driver_event *ev, size_t max,
                      struct err *e)
{
    struct slurm *p = d->priv;
    int rc = ensure_loaded(p, e);

    if (rc != 0)
        return rc;
    ack(p);
    follow_clusters(p, now_of(p));
    retire_cleaned(p);
    return (int)events(p, ev, max < INT_MAX ? max : INT_MAX);
}

static int slurm_terminate(struct driver *d, int64_t attempt_id, struct err *e)
{
    struct slurm *p = d->priv;
    struct satt *a;
    int rc = ensure_loaded(p, e);

    if (rc != 0)
        return rc;
    a = satt_find(&p->att, attempt_id);
    if (a == NULL || !satt_live(a) || (a->terminated && a->cancel_sent))
        return 0; /* over, refused or never launched: nothing runs */
    if (!a->terminated) {
        a->terminated = 1;
        if ((rc = satt_save(p->root, a, e)) != 0)
            return rc;
    }
    if (a->cl)
        cancel_job(p, cluster_of(p, a->cl), a); /* else, or on failure: the next look */
    return 0;
}

/* Nodes of cluster c that this driver's jobs will take but do not run on yet. */
static long pending_nodes(const struct slurm *p, const struct slurm_cluster *c)
{
    long n = 0;
    size_t i;

    for (i = 0; i < p->att.n; i++) {
        const struct satt *a = p->att.v[i];

        if (a->cl == c && satt_live(a) && a->started_at <= 0)
            n += a->nodes;
    }
    return n;
}

/* Nodes of cluster cl that may be launched on now: its idle nodes, plus
 * its queue allowance when queue is set, less the nodes of our jobs that
 * do not run yet (they take idle nodes first, then queue places). */
static long cluster_room(struct slurm *p, const struct slurm_cluster *cl, int queue)
{
    struct scluster *c;
    double now = now_of(p);
    struct err e;
    long n;

    if (cl == NULL || ensure_loaded(p, &e) != 0)
        return 0; /* not a Slurm cluster of ours: none of it */
    c = cluster_of(p, cl);
    if (c->idle_at <= 0 || now - c->idle_at >= p->conf.poll_interval) {
        err_clear(&e);
        c->idle_ok = srest_idle(&c->rest, &c->idle, &e) == 0;
        if (!c->idle_ok) {
            warn_cluster(p, c, e.msg);
            c->idle = 0; /* unreachable: no capacity */
        }
        c->idle_at = now;
    }
    /* A cluster that does not answer has no room, queue or not. */
    n = c->idle + (queue && c->idle_ok ? cl->queue : 0) - pending_nodes(p, cl);
    return n > 0 ? n : 0;
}

static long slurm_capacity(struct driver *d, const char *cloud, const char *region,
                           const char *zone, const char *instance_type)
{
    struct slurm *p = d->priv;
    const struct slurm_cluster *cl =
        slurm_conf_find(&p->conf, cloud, region, zone, instance_type);

    return cluster_room(p, cl, 0);
}

/* A cluster sells its nodes one way: spot, or on demand. */
static long slurm_capacity_mode(struct driver *d, const char *cloud, const char *region,
                                const char *zone, const char *instance_type, int spot)
{
    struct slurm *p = d->priv;
    const struct slurm_cluster *cl =
        slurm_conf_find(&p->conf, cloud, region, zone, instance_type);

    if (cl == NULL || cl->spot != (spot != 0))
        return 0;
    return slurm_capacity(d, cloud, region, zone, instance_type);
}

static long slurm_queue_capacity(struct driver *d, const char *cloud, const char *region,
                                 const char *zone, const char *instance_type, int spot)
{
    struct slurm *p = d->priv;
    const struct slurm_cluster *cl =
        slurm_conf_find(&p->conf, cloud, region, zone, instance_type);

    if (cl == NULL || cl->spot != (spot != 0))
        return 0;
    return cluster_room(p, cl, 1);
}

static double slurm_next_event_in(struct driver *d)
{
    struct slurm *p = d->priv;
    double now = now_of(p), best = -1;
    size_t i;

    if (!p->loaded)
        return -1;
    for (i = 0; i < p->att.n; i++) {
        const struct satt *a = p->att.v[i];
        const struct scluster *c;
        double t;

        if (satt_has_news(a))
            return 0;
        if (!wants_news(a) || a->cl == NULL)
            continue;
        c = &p->cl[a->cl - p->conf.c];
        t = c->jobs_at + p->conf.poll_interval - now;
        if (best < 0 || t < best)
            best = t > 0 ? t : 0;
    }
    return best;
}

/* The directory of an attempt from its record, live or done. */
static char *record_dir(const struct slurm *p, int64_t id)
{
    static const char *const where[] = {"", "done/"};
    char *path, *text = NULL, *dir = NULL, *s;
    struct err e;
    size_t i;

    for (i = 0; i < 2 && dir == NULL; i++) {
        path = xasprintf("%s/%satt-%" PRId64, p->root, where[i], id);
        if (access(path, F_OK) == 0 &&
            fs_read_file(path, 1 << 16, &text, NULL, &e) == 0 &&
            (s = strstr(text, "\ndir: ")) != NULL) {
            s += 6;
            dir = xstrndup(s, strcspn(s, "\n"));
        }
        free(text);
        text = NULL;
        free(path);
    }
    return dir;
}

static int slurm_log_path(struct driver *d, int64_t attempt_id, int node, char *buf,
                          size_t n)
{
    const struct slurm *p = d->priv;
    char *dir = record_dir(p, attempt_id);
    int len, rc = ST_ENOTFOUND;

    if (dir == NULL)
        return ST_ENOTFOUND;
    len = snprintf(buf, n, "%s/node-%d/log", dir, node);
    if (len >= 0 && (size_t)len < n && access(buf, F_OK) == 0)
        rc = 0;
    if (rc != 0 && node == 0) { /* no node started: what the batch script said */
        len = snprintf(buf, n, "%s/batch.log", dir);
        if (len >= 0 && (size_t)len < n && access(buf, F_OK) == 0)
            rc = 0;
    }
    free(dir);
    return rc;
}

/* Is s[0..len) an address or a host name a URL may carry: letters, digits
 * and . - _ : only (no space, control byte or anything that ends a host). */
static int addr_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

/* Line node+1 of text into buf: 0, ST_ENOTFOUND (no such line), ST_EINVAL
 * (not an address) or ST_ETOOBIG (buf too small). */
static int nth_addr(const char *text, int node, char *buf, size_t n)
{
    const char *s = text;
    size_t len;
    int i;

    for (i = 0; i < node && s != NULL; i++) {
        s = strchr(s, '\n');
        if (s != NULL)
            s++;
    }
    if (s == NULL || *s == '\0')
        return ST_ENOTFOUND;
    len = strcspn(s, "\n");
    if (!addr_ok(s, len))
        return ST_EINVAL;
    if (len >= n)
        return ST_ETOOBIG;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

/* The address of node `node` as the batch script found it (scontrol's
 * NodeAddr) and wrote it to the attempt's directory: ST_ENOTFOUND until
 * the script has run (the file is replaced whole, never seen half-written). */
static int slurm_node_addr(struct driver *d, int64_t attempt_id, int node, char *buf,
                           size_t n)
{
    const struct slurm *p = d->priv;
    char *dir = record_dir(p, attempt_id), *path, *text = NULL;
    struct err e;
    int rc = ST_ENOTFOUND;

    if (dir == NULL || node < 0 || node >= SLURM_MAX_NODES) {
        free(dir);
        return ST_ENOTFOUND;
    }
    path = xasprintf("%s/" SLURM_NODE_ADDRS, dir);
    err_clear(&e);
    if (access(path, F_OK) == 0 && fs_read_file(path, 1 << 20, &text, NULL, &e) == 0)
        rc = nth_addr(text, node, buf, n);
    free(text);
    free(path);
    free(dir);
    return rc;
}

static void slurm_close(struct driver *d)
{
    struct slurm *p = d->priv;
    size_t i;

    for (i = 0; p->cl && i < p->conf.n; i++) {
        srest_free(&p->cl[i].rest);
        sjob_list_free(&p->cl[i].jobs);
    }
    for (i = 0; i < p->att.n; i++)
        satt_free(p->att.v[i]);
    free(p->att.v);
    free(p->cl);
    free(p->acks);
    free(p->root);
    free(p->default_workdir);
    free(p->instance);
    free(p->prefix);
    slurm_conf_free(&p->conf);
    if (p->curl_ready)
        curl_global_cleanup();
    memset(p, 0, sizeof(*p));
}

static int open_root(struct slurm *p, const char *home, struct err *e)
{
    char *root = xasprintf("%s/slurm", home), *abs;
    int rc = fs_mkdirs(root, 0700, e);

    if (rc == 0 && (abs = realpath(root, NULL)) == NULL)
        rc = err_set(e, ST_EIO, "cannot resolve %s: %s", root, strerror(errno));
    if (rc == 0) {
        p->root = xstrdup(abs);
        p->default_workdir = xasprintf("%s/jobs", abs);
        free(abs);
    }
    free(root);
    return rc;
}

/* $STRATUS_CLUSTERS, else the controller's choice, else <home>/clusters.yaml. */
static int open_conf(struct slurm *p, const struct driver_config *cfg, struct err *e)
{
    const char *env = getenv("STRATUS_CLUSTERS");
    char *path = env && *env        ? xstrdup(env)
                 : cfg->config_path ? xstrdup(cfg->config_path)
                                    : xasprintf("%s/clusters.yaml", cfg->home);
    int rc;

    if (access(path, F_OK) != 0)
        rc = err_set(e, ST_EIO,
                     "%s: cannot open: the slurm driver needs a clusters file there "
                     "(or in $STRATUS_CLUSTERS); see docs/slurm.md",
                     path);
    else
        rc = slurm_conf_load(&p->conf, path, cfg->cat, p->default_workdir, e);
    free(path);
    return rc;
}

static int open_clusters(struct slurm *p, struct err *e)
{
    size_t i;
    int rc = 0;

    if (lazycurl_load(e) != 0)
        return e->code;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return err_set(e, ST_EINTERNAL, "cannot initialise libcurl");
    p->curl_ready = 1;
    p->cl = xcalloc(p->conf.n, sizeof(*p->cl));
    for (i = 0; rc == 0 && i < p->conf.n; i++) {
        p->cl[i].conf = &p->conf.c[i];
        rc = srest_init(&p->cl[i].rest, &p->conf.c[i], p->conf.timeout, e);
    }
    return rc;
}

static int slurm_open(struct driver *d, const struct driver_config *cfg, struct err *e)
{
    struct slurm *p = d->priv;
    int rc;

    if (cfg->home == NULL || *cfg->home == '\0')
        return err_set(e, ST_EINVAL,
                       "the slurm driver needs a home directory ($STRATUS_HOME)");
    p->clock = cfg->clock ? cfg->clock : &clock_wall;
    rc = open_root(p, cfg->home, e);
    if (rc == 0)
        rc = open_conf(p, cfg, e);
    if (rc == 0)
        rc = open_clusters(p, e);
    if (rc != 0)
        slurm_close(d);
    return rc;
}

const struct driver_ops driver_slurm = {
    .name = "slurm",
    .priv_size = sizeof(struct slurm),
    .config_name = "clusters.yaml",
    .open = slurm_open,
    .launch = slurm_launch,
    .poll = slurm_poll,
    .terminate = slurm_terminate,
    .close = slurm_close,
    .capacity = slurm_capacity,
    .capacity_mode = slurm_capacity_mode,
    .inject = NULL,
    .next_event_in = slurm_next_event_in,
    .log_path = slurm_log_path,
    .queue_capacity = slurm_queue_capacity,
    .node_addr = slurm_node_addr,
};
