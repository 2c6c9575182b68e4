/*
 * slurm_att.c - the slurm driver's attempts: their records on disk, and how
 * what Slurm says about a job becomes driver events.
 *
 * An attempt goes SUBMITTING (record written, job maybe submitted) ->
 * SUBMITTED (Slurm's job id known) -> ENDED (its terminal event known), or
 * -> REFUSED (no capacity: pending too long, or the submission was refused
 * or lost).  Each change is saved before it is acted on, by writing the
 * record whole under a temporary name and renaming it, so a controller
 * killed at any point finds every attempt as it last stood.
 *
 * Slurm's states become events so (the exit status is Slurm's exit_code, a
 * wait(2) status: a signal is 128 + its number):
 *
 *   PENDING                  nothing; longer than the cluster's
 *                            pending_timeout: cancelled there, CAPACITY
 *   RUNNING (CONFIGURING,    RUNNING for every node, at the job's start
 *     COMPLETING, ...)
 *   COMPLETED                EXITED for every node with the job's code
 *   FAILED, TIMEOUT          EXITED with the code (never 0)
 *   CANCELLED                EXITED 143: "stopped" when terminate() asked,
 *                            else "cancelled outside Stratus"
 *   NODE_FAIL, BOOT_FAIL,    PREEMPTED for every node: the node was lost;
 *     PREEMPTED, REQUEUED    a requeued job is cancelled, Stratus recovers it
 *   (purged from Slurm)      PREEMPTED: the job is lost
 *
 * A job that ended between two looks still gets its RUNNING events first
 * (at its start time), so the controller bills the time it ran.
 *
 * Delivery is at least once, as the driver contract asks: terminal events
 * are acknowledged at the next poll (slurm.c), and only then is the record
 * moved to done/; RUNNING carries no mark and is said again by a new driver.
 *
 * Layout: the list; the record file; loading; Slurm states -> phases;
 * events.
 */
#include "slurm_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define RECORD_MAX ((size_t)64 << 10)

/* ---- the list ------------------------------------------------------------------ */

struct satt *satt_find(const struct satt_list *l, int64_t id)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->v[mid]->id == id)
            return l->v[mid];
        if (l->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void satt_add(struct satt_list *l, struct satt *a)
{
    size_t i = l->n;

    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    while (i > 0 && l->v[i - 1]->id > a->id) {
        l->v[i] = l->v[i - 1];
        i--;
    }
    l->v[i] = a;
    l->n++;
}

void satt_free(struct satt *a)
{
    if (a == NULL)
        return;
    free(a->cluster);
    free(a->dir);
    free(a);
}

void satt_forget_acked(struct satt_list *l)
{
    size_t i, k = 0;

    for (i = 0; i < l->n; i++) {
        if (l->v[i]->acked && !l->v[i]->cleanup)
            satt_free(l->v[i]);
        else
            l->v[k++] = l->v[i];
    }
    l->n = k;
}

/* ---- the record file ------------------------------------------------------------ */

static const char *const phase_names[] = {"submitting", "submitted", "refused", "ended"};
static const char *const type_names[] = {"running", "exited", "preempt-notice",
                                         "preempted", "capacity"};

/* Write dir/name whole: a temporary file renamed over it. */
static int write_atomic(const char *dir, const char *name, const char *text,
                        struct err *e)
{
    char *tmp = xasprintf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
    char *path = xasprintf("%s/%s", dir, name);
    size_t len = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        rc = err_set(e, ST_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = err_set(e, ST_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = err_set(e, ST_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

/* A copy of s fit for one "key: value" line. */
static char *one_line(const char *s)
{
    char *t = xstrdup(s ? s : ""), *c;

    for (c = t; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return t;
}

int satt_save(const char *root, const struct satt *a, struct err *e)
{
    char name[40], *msg = one_line(a->end.msg), *text;
    int rc;

    text = xasprintf(
        "id: %" PRId64 "\ncluster: %s\njob_id: %" PRId64 "\nnodes: %d\n"
        "submitted_at: %.3f\ndir: %s\nphase: %s\nterminated: %d\ncleanup: %d\n"
        "started_at: %.3f\nend: %s %d %.3f\nmsg: %s\n",
        a->id, a->cluster, a->job_id, a->nodes, a->submitted_at, a->dir,
        phase_names[a->phase], a->terminated ? 1 : 0, a->cleanup ? 1 : 0, a->started_at,
        type_names[a->end.type], a->end.exit_code, a->end.at, msg);
    snprintf(name, sizeof(name), "att-%" PRId64, a->id);
    rc = write_atomic(root, name, text, e);
    free(text);
    free(msg);
    return rc;
}

int satt_retire(const char *root, const struct satt *a, struct err *e)
{
    char *done = xasprintf("%s/done", root);
    char *from = xasprintf("%s/att-%" PRId64, root, a->id);
    char *to = xasprintf("%s/att-%" PRId64, done, a->id);
    int rc = fs_mkdirs(done, 0700, e);

    if (rc == 0 && rename(from, to) != 0 && errno != ENOENT)
        rc = err_set(e, ST_EIO, "cannot rename %s: %s", from, strerror(errno));
    free(done);
    free(from);
    free(to);
    return rc;
}

int satt_known(const char *root, int64_t id)
{
    char *live = xasprintf("%s/att-%" PRId64, root, id);
    char *done = xasprintf("%s/done/att-%" PRId64, root, id);
    int known = access(live, F_OK) == 0 || access(done, F_OK) == 0;

    free(live);
    free(done);
    return known;
}

/* ---- loading ---------------------------------------------------------------------- */

static int name_index(const char *const *names, size_t n, const char *s)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static void parse_end(struct satt *a, const char *v)
{
    char type[24];
    double at;
    int code, t;

    if (sscanf(v, "%23s %d %lf", type, &code, &at) != 3)
        return;
    t = name_index(type_names, 5, type);
    a->end.type = t >= 0 ? (enum driver_event_type)t : DRV_EV_EXITED;
    a->end.exit_code = code;
    a->end.at = at;
}

/* One "key: value" line into a. */
static void record_field(struct satt *a, const char *k, const char *v)
{
    long n;
    double t;
    int i;

    if (strcmp(k, "id") == 0 && str_to_long(v, 0, INT64_MAX, &n) == 0)
        a->id = n;
    else if (strcmp(k, "cluster") == 0 && a->cluster == NULL)
        a->cluster = xstrdup(v);
    else if (strcmp(k, "job_id") == 0 && str_to_long(v, 0, INT64_MAX, &n) == 0)
        a->job_id = n;
    else if (strcmp(k, "nodes") == 0 && str_to_long(v, 1, SLURM_MAX_NODES, &n) == 0)
        a->nodes = (int)n;
    else if (strcmp(k, "submitted_at") == 0 && str_to_double(v, &t) == 0)
        a->submitted_at = t;
    else if (strcmp(k, "dir") == 0 && a->dir == NULL)
        a->dir = xstrdup(v);
    else if (strcmp(k, "phase") == 0 && (i = name_index(phase_names, 4, v)) >= 0)
        a->phase = (enum satt_phase)i;
    else if (strcmp(k, "terminated") == 0)
        a->terminated = strcmp(v, "1") == 0;
    else if (strcmp(k, "cleanup") == 0)
        a->cleanup = strcmp(v, "1") == 0;
    else if (strcmp(k, "started_at") == 0 && str_to_double(v, &t) == 0)
        a->started_at = t;
    else if (strcmp(k, "end") == 0)
        parse_end(a, v);
    else if (strcmp(k, "msg") == 0)
        snprintf(a->end.msg, sizeof(a->end.msg), "%s", v);
}

/* Parse a record (text is modified); NULL when it lacks something. */
static struct satt *record_parse(char *text)
{
    struct satt *a = xcalloc(1, sizeof(*a));
    char *line, *next, *sep;

    a->id = -1;
    a->phase = SA_SUBMITTING;
    for (line = text; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        sep = strstr(line, ": ");
        if (sep == NULL)
            continue;
        *sep = '\0';
        record_field(a, line, sep + 2);
    }
    if (a->id < 0 || a->nodes <= 0 || a->cluster == NULL || a->dir == NULL) {
        satt_free(a);
        return NULL;
    }
    a->end.attempt_id = a->id;
    a->end.node = -1;
    return a;
}

static void record_load(const char *root, const char *name, const struct slurm_conf *conf,
                        struct satt_list *l)
{
    char *path = xasprintf("%s/%s", root, name), *text = NULL;
    struct satt *a = NULL;
    struct err e;

    if (fs_read_file(path, RECORD_MAX, &text, NULL, &e) == 0)
        a = record_parse(text);
    if (a == NULL) {
        log_warn("slurm driver: ignoring %s: unreadable or incomplete", path);
    } else {
        a->cl = slurm_conf_named(conf, a->cluster);
        if (a->cl == NULL && (a->phase == SA_SUBMITTING || a->phase == SA_SUBMITTED)) {
            satt_lost(a, a->submitted_at);
            snprintf(a->end.msg, sizeof(a->end.msg),
                     "cluster %s is no longer in the clusters file", a->cluster);
        }
        satt_add(l, a);
    }
    free(text);
    free(path);
}

int satt_load_all(const char *root, const struct slurm_conf *conf, struct satt_list *l,
                  struct err *e)
{
    DIR *d = opendir(root);
    struct dirent *de;

    if (d == NULL)
        return err_set(e, ST_EIO, "cannot read %s: %s", root, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        const char *p = de->d_name;

        if (strncmp(p, "att-", 4) == 0 && p[4] &&
            strspn(p + 4, "0123456789") == strlen(p + 4))
            record_load(root, p, conf, l);
    }
    closedir(d);
    return 0;
}

/* ---- Slurm states -> phases -----------------------------------------------------------
 */

static int code_of(int status)
{
    if (status < 0)
        return -1;
    if ((status & 0x7f) != 0)
        return 128 + (status & 0x7f);
    return (status >> 8) & 0xff;
}

static void set_end(struct satt *a, enum driver_event_type t, int code, double at,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_end(struct satt *a, enum driver_event_type t, int code, double at,
                    const char *fmt, ...)
{
    va_list ap;

    memset(&a->end, 0, sizeof(a->end));
    a->end.type = t;
    a->end.attempt_id = a->id;
    a->end.node = -1;
    a->end.exit_code = code;
    a->end.at = at;
    va_start(ap, fmt);
    vsnprintf(a->end.msg, sizeof(a->end.msg), fmt, ap);
    va_end(ap);
}

/* The terminal event of a job in a terminal state. */
static void job_end(struct satt *a, const struct sjob *j, double at)
{
    int code = code_of(j->status);
    const char *where = a->cluster;

    if (a->terminated && j->state != SJ_COMPLETED) {
        set_end(a, DRV_EV_EXITED, 128 + SIGTERM, at, "stopped on %s", where);
        return;
    }
    switch (j->state) {
    case SJ_COMPLETED:
        set_end(a, DRV_EV_EXITED, code > 0 ? code : 0, at, "exited with code %d on %s",
                code > 0 ? code : 0, where);
        break;
    case SJ_FAILED:
    case SJ_TIMEOUT:
        code = code > 0 ? code : j->state == SJ_TIMEOUT ? 128 + SIGTERM : 1;
        set_end(a, DRV_EV_EXITED, code, at, "%s on %s (%s) with code %d",
                j->state == SJ_TIMEOUT ? "time limit reached" : "failed", where,
                j->reason, code);
        break;
    case SJ_CANCELLED:
        set_end(a, DRV_EV_EXITED, code > 0 ? code : 128 + SIGTERM, at,
                "job %" PRId64 " cancelled on %s outside Stratus", j->job_id, where);
        break;
    default: /* SJ_NODE_FAIL, SJ_PREEMPTED */
        set_end(a, DRV_EV_PREEMPTED, -1, at, "%s: Slurm job %" PRId64 " %s (%s%s%s)",
                where, j->job_id,
                j->state == SJ_NODE_FAIL ? "lost a node" : "was preempted", j->state_name,
                j->nodes[0] ? " on " : "", j->nodes);
        break;
    }
}

static enum satt_action job_pending(struct satt *a, const struct sjob *j, double now,
                                    int *changed)
{
    char why[160];
    double waited = now - a->submitted_at;

    if (a->terminated || a->cl == NULL || waited < a->cl->pending_timeout)
        return SACT_NONE;
    snprintf(why, sizeof(why),
             "pending %.0f s on %s (%s): the cluster is full; job %" PRId64
             " cancelled there",
             waited, a->cluster, j->reason[0] ? j->reason : "no reason given", j->job_id);
    satt_refuse(a, now, why);
    a->cleanup = 1; /* until the cancel shows */
    *changed = 1;
    return SACT_CANCEL;
}

static enum satt_action follow(struct satt *a, const struct sjob *j, double now,
                               int *changed)
{
    int active = j->state == SJ_PENDING || j->state == SJ_RUNNING;

    if (j->state == SJ_RUNNING && a->started_at <= 0)
        a->started_at = j->start > 0 ? j->start : now;
    if (a->terminated && active)
        return a->cancel_sent ? SACT_NONE : SACT_CANCEL;
    switch (j->state) {
    case SJ_PENDING:
        return job_pending(a, j, now, changed);
    case SJ_RUNNING:
        return SACT_NONE;
    case SJ_UNKNOWN:
        return SACT_NONE;
    default:
        break;
    }
    if (j->nodes[0] && a->started_at <= 0) /* it ran, and ended between two looks */
        a->started_at = j->start > 0 ? j->start : now;
    job_end(a, j, j->end > 0 ? j->end : now);
    a->phase = SA_ENDED;
    *changed = 1;
    /* A requeued job would run again somewhere: Stratus recovers it instead. */
    return j->state == SJ_PREEMPTED ? SACT_CANCEL : SACT_NONE;
}

enum satt_action satt_update(struct satt *a, const struct sjob *j, double now,
                             int *changed)
{
    *changed = 0;
    switch (a->phase) {
    case SA_ENDED:
        return SACT_NONE;
    case SA_REFUSED: /* a job that outlived its refusal is cancelled */
        if (j && (j->state == SJ_PENDING || j->state == SJ_RUNNING))
            return SACT_CANCEL;
        /* Gone, or never there: a submission still in flight has had time. */
        if (a->cleanup && (j != NULL || now - a->end.at > SLURM_SUBMIT_GRACE)) {
            a->cleanup = 0;
            *changed = 1;
        }
        return SACT_NONE;
    case SA_SUBMITTING:
        if (j == NULL) {
            if (now - a->submitted_at > SLURM_SUBMIT_GRACE) {
                satt_refuse(a, now, "the submission to Slurm was lost");
                *changed = 1;
            }
            return SACT_NONE;
        }
        a->job_id = j->job_id;
        a->phase = SA_SUBMITTED;
        *changed = 1;
        break;
    case SA_SUBMITTED:
        if (j == NULL)
            return SACT_LOOKUP;
        break;
    }
    return follow(a, j, now, changed);
}

void satt_lost(struct satt *a, double now)
{
    if (a->terminated)
        set_end(a, DRV_EV_EXITED, 128 + SIGTERM, now, "stopped on %s", a->cluster);
    else
        set_end(a, DRV_EV_PREEMPTED, -1, now,
                "%s no longer knows Slurm job %" PRId64 ": the job is lost", a->cluster,
                a->job_id);
    a->phase = SA_ENDED;
}

void satt_refuse(struct satt *a, double now, const char *why)
{
    set_end(a, DRV_EV_CAPACITY, -1, now, "%s", why);
    a->phase = SA_REFUSED;
}

/* ---- events
 * ------------------------------------------------------------------------------ */

int satt_has_news(const struct satt *a)
{
    if (a->phase == SA_REFUSED)
        return a->end_said == 0;
    if (a->started_at > 0 && a->running_said < a->nodes)
        return 1;
    return a->phase == SA_ENDED && a->end_said < a->nodes;
}

int satt_live(const struct satt *a)
{
    return a->phase == SA_SUBMITTING || a->phase == SA_SUBMITTED;
}

size_t satt_events(struct satt *a, struct driver_event *ev, size_t max, int *ended)
{
    size_t k = 0;

    *ended = 0;
    if (a->phase == SA_REFUSED) {
        if (a->end_said == 0 && max > 0) {
            ev[k++] = a->end;
            a->end_said = 1;
            *ended = 1;
        }
        return k;
    }
    for (; a->started_at > 0 && a->running_said < a->nodes && k < max; k++) {
        memset(&ev[k], 0, sizeof(ev[k]));
        ev[k].type = DRV_EV_RUNNING;
        ev[k].attempt_id = a->id;
        ev[k].node = a->running_said++;
        ev[k].exit_code = -1;
        ev[k].at = a->started_at;
    }
    if (a->phase != SA_ENDED || (a->started_at > 0 && a->running_said < a->nodes))
        return k;
    if (a->end_said == a->nodes)
        return k;
    for (; a->end_said < a->nodes && k < max; k++) {
        ev[k] = a->end;
        ev[k].node = a->end_said++;
    }
    *ended = a->end_said == a->nodes;
    return k;
}
