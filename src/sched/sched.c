/*
 * sched.c - the controller loop (see sched.h).
 *
 * Layout: configuration; job bookkeeping (load, find, drop); the transaction
 * and the actions that wait for its commit; transitions, events and
 * accounting; driver events; requests from the command line; the step; submit.
 *
 * The rule behind crash safety: inside a step, every decision only writes to
 * the store and queues an action; sched_step() commits, and only then runs
 * the actions (launch, terminate, inject).  Launch and terminate are
 * idempotent in every driver, so a controller killed between the commit and
 * an action simply repeats the action when it opens again (attempts still
 * LAUNCHING are launched again; events for attempts already ended make it
 * terminate them again).
 */
#include "sched_int.h"
#include "../catalog/catalog.h"
#include "../plan/plan.h"
#include "../policy/policy.h"
#include "../spec/pipeline.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* next_wake() when nothing is timed: the caller decides how long to idle. */
#define NOTHING_TIMED_S 1e9

void sched_config_default(struct sched_config *c)
{
    memset(c, 0, sizeof(*c));
    c->block_cooldown_s = 300;
    c->backoff_base_s = 5;
    c->backoff_max_s = 300;
    c->relaunch_overhead_s = 120;
    c->preempt_lower_priority = 1;
    c->max_failover = 8;
    c->wait_retry_s = 60;
    c->deadline_rule = SCHED_DEADLINE_UNIFORM;
    c->deadline_check_s = 5;
    c->data_gravity = 1;
    c->data_ttl_s = PLAN_DATA_TTL_H * 3600.0;
    c->patience = 1;
    c->commit_backfill = 1;
}

/* ---- jobs in memory ---- */

static void sched_index_attempt_unsorted(struct sched *s, int64_t attempt_id, struct sjob *sj);
static int stop_nodes(struct sched *s, int64_t attempt_id, int filed, struct err *e);

static void sjob_free(struct sjob *sj)
{
    if (sj == NULL)
        return;
    store_job_clear(&sj->j);
    store_attempt_clear(&sj->att);
    spec_free(sj->spec);
    policy_free(sj->pol);
    free(sj->node_state);
    free(sj->avoid);
    free(sj->workdir);
    free(sj->data_at);
    free(sj->alt_places);
    sched_data_job_free(sj);
    free(sj);
}

/* The spec's workdir, relative to the spec file's directory, made absolute. */
static char *resolve_workdir(const struct store_job *j, const struct spec *sp)
{
    const char *slash;

    if (sp->workdir == NULL || sp->workdir[0] == '/')
        return sp->workdir ? xstrdup(sp->workdir) : NULL;
    slash = j->spec_path ? strrchr(j->spec_path, '/') : NULL;
    if (slash == NULL)
        return xstrdup(sp->workdir);
    return xasprintf("%.*s/%s", (int)(slash - j->spec_path), j->spec_path, sp->workdir);
}

void sched_spec_from_row(struct spec *sp, const struct store_job *j)
{
    if (j->team != NULL && sp->team == NULL)
        sp->team = xstrdup(j->team);
    /* a service's replica's row is named "<service>/replica": its spec's
     * name is the service's, which its rules name */
    if (j->group_id != 0 && j->name != NULL &&
        (sp->name == NULL || strcmp(sp->name, j->name) != 0)) {
        free(sp->name);
        sp->name = xstrdup(j->name);
    }
}

/* Parse what the job row carries; takes ownership of *j, or leaves it with
 * the caller on error. */
static int sjob_new(const struct sched *s, struct store_job *j, struct sjob **out,
                    struct err *e)
{
    struct sjob *sj = xcalloc(1, sizeof(*sj));
    int rc;

    sj->offer = -1;
    sj->team_ix = -1;
    sj->j = *j;
    memset(j, 0, sizeof(*j));
    if (s->p.load_spec)
        rc = s->p.load_spec(s->p.load_spec_ctx, &sj->j, &sj->spec, e);
    else
        rc = spec_load_mem(&sj->spec, sj->j.spec_path ? sj->j.spec_path : sj->j.name,
                           sj->j.spec_text, strlen(sj->j.spec_text), e);
    if (rc == 0)
        sched_spec_from_row(sj->spec, &sj->j);
    if (rc == 0 && sj->j.policy_text)
        rc = policy_load_mem(&sj->pol, "policy", sj->j.policy_text,
                             strlen(sj->j.policy_text), e);
    sj->rule_pol = sj->pol ? sj->pol : s->p.default_policy;
    if (rc != 0) {
        *j = sj->j; /* given back: the caller fails the job */
        memset(&sj->j, 0, sizeof(sj->j));
        sjob_free(sj);
        return rc;
    }
    if (sj->j.service_id != 0 && sj->j.svc_mode != SVC_MODE_ANY) {
        size_t i;

        /* The service split its replicas between spot and on-demand
         * (mode_rule holds each to its mode): an on-demand fallback of a
         * spot service uses the same resources, as SkyServe's does. */
        for (i = 0; i < sj->spec->nres; i++)
            sj->spec->res[i].use_spot = -1;
    }
    sj->workdir = resolve_workdir(&sj->j, sj->spec);
    *out = sj;
    return 0;
}

void sched_nodes_reset(struct sjob *sj, int nodes)
{
    free(sj->node_state);
    sj->node_state = xcalloc((size_t)(nodes > 0 ? nodes : 1), sizeof(int));
    sj->nodes_running = sj->nodes_ended = 0;
}

/* Note that attempt a has ended: the next attempt starts from the newest
 * checkpoint, which is that of the newest attempt that ran (one refused at
 * launch only holds a copy of what it was given). */
static void note_ended(struct sjob *sj, const struct store_attempt *a)
{
    if (a->running_at <= 0)
        return;
    sj->ckpt_src = a->id;
    sj->ckpt_src_n = a->n;
}

/* Where the region to avoid, the checkpoint to carry and the place the data
 * was moved to come from after a restart: the job's ended attempts in the
 * store, never memory a crash erased. */
static int sjob_load_history(struct sched *s, struct sjob *sj, struct err *e)
{
    struct store_attempt *v = NULL;
    size_t i, n = 0;
    int rc;

    if (sj->j.nattempts == 0 || (sj->j.nattempts == 1 && sj->j.cur_attempt != 0))
        return 0;
    if ((rc = store_attempt_list(s->p.store, sj->j.id, &v, &n, e)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        const struct store_attempt *a = &v[i];

        if (a->state != ATT_ENDED)
            continue;
        note_ended(sj, a);
        if (a->running_at > 0) {
            free(sj->data_at);
            sj->data_at = xstrdup(a->region);
            snprintf(sj->data_at_cloud, sizeof(sj->data_at_cloud), "%s", a->cloud);
        }
        if (a->end_reason == ATT_END_PREEMPTED &&
            sj->spec->recovery == SPEC_RECOVERY_EAGER_NEXT_REGION) {
            free(sj->avoid);
            sj->avoid = xasprintf("%s/%s", a->cloud, a->region);
        }
        if (sj->j.cur_attempt == 0 && a->n == sj->j.nattempts)
            sched_given_back(s, a); /* its last attempt: committed nodes given back? */
    }
    store_attempts_free(v, n);
    return 0;
}

/* Bring back the live attempt and its nodes after a restart. */
static int sjob_load_attempt(struct sched *s, struct sjob *sj, struct err *e)
{
    struct store_node *nodes = NULL;
    size_t i, n = 0;
    int rc;

    if ((rc = sjob_load_history(s, sj, e)) != 0 || sj->j.cur_attempt == 0)
        return rc;
    if ((rc = store_attempt_get(s->p.store, sj->j.cur_attempt, &sj->att, e)) != 0)
        return rc;
    sched_nodes_reset(sj, sj->att.nodes);
    /* backfill on committed nodes, given back when on-demand work needs them */
    sj->backfill = sj->att.mode == PLAN_COMMITTED && sj->att.backfill_spot > 0;
    sj->backfill_spot = sj->backfill ? sj->att.backfill_spot : 0;
    sj->offer = catalog_find_offer(s->p.cat, sj->att.cloud, sj->att.region, sj->att.zone,
                                   sj->att.instance_type, sj->att.accelerator);
    if ((rc = store_node_list(s->p.store, sj->att.id, &nodes, &n, e)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        if (nodes[i].rank < 0 || nodes[i].rank >= sj->att.nodes)
            continue;
        sj->node_state[nodes[i].rank] = nodes[i].state;
        sj->nodes_running += nodes[i].state == ATT_RUNNING;
        sj->nodes_ended += nodes[i].state == ATT_ENDED;
    }
    free(nodes);
    if (sj->att.state == ATT_LAUNCHING)
        sched_act(s, ACT_LAUNCH, sj->att.id, sj);
    sched_index_attempt_unsorted(s, sj->att.id, sj);
    return 0;
}

/* The attempt index: (attempt id, job) sorted by attempt id.  Attempt ids
 * only grow, so new entries are appended; entries whose job has moved on
 * are stale and skipped, and swept out when they outnumber the live ones. */
void sched_index_attempt(struct sched *s, int64_t attempt_id, struct sjob *sj)
{
    struct att_ref r = {attempt_id, sj};

    s->atts = xgrow(s->atts, &s->atts_cap, s->natts + 1, sizeof(*s->atts));
    s->atts[s->natts++] = r;
    BUG_ON(s->natts > 1 && s->atts[s->natts - 2].attempt_id >= attempt_id);
}

/* At open, attempts come in job order, not attempt order: sorted after. */
static void sched_index_attempt_unsorted(struct sched *s, int64_t attempt_id, struct sjob *sj)
{
    struct att_ref r = {attempt_id, sj};

    s->atts = xgrow(s->atts, &s->atts_cap, s->natts + 1, sizeof(*s->atts));
    s->atts[s->natts++] = r;
}

static void sweep_attempt_index(struct sched *s)
{
    size_t i, k = 0;

    for (i = 0; i < s->natts; i++)
        if (s->atts[i].sj != NULL && s->atts[i].sj->j.cur_attempt == s->atts[i].attempt_id)
            s->atts[k++] = s->atts[i];
    s->natts = k;
}

static struct sjob *find_by_attempt(const struct sched *s, int64_t attempt_id)
{
    size_t lo = 0, hi = s->natts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->atts[mid].attempt_id < attempt_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->natts && s->atts[lo].attempt_id == attempt_id && s->atts[lo].sj != NULL &&
        s->atts[lo].sj->j.cur_attempt == attempt_id)
        return s->atts[lo].sj;
    return NULL;
}

/* Jobs are kept in id order (ids only grow), so a binary search finds one. */
struct sjob *sched_job_by_id(const struct sched *s, int64_t id)
{
    size_t lo = 0, hi = s->njobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->jobs[mid]->j.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->njobs && s->jobs[lo]->j.id == id ? s->jobs[lo] : NULL;
}

void sched_wait_add(struct sched *s, struct sjob *sj)
{
    if (sj->in_wait)
        return;
    s->wait = xgrow(s->wait, &s->wait_cap, s->nwait + 1, sizeof(*s->wait));
    s->wait[s->nwait++] = sj;
    sj->in_wait = 1;
}

static void add_job(struct sched *s, struct sjob *sj)
{
    BUG_ON(s->njobs > 0 && s->jobs[s->njobs - 1]->j.id >= sj->j.id);
    s->jobs = xgrow(s->jobs, &s->jobs_cap, s->njobs + 1, sizeof(*s->jobs));
    s->jobs[s->njobs++] = sj;
    if (sj->j.id > s->max_job_id)
        s->max_job_id = sj->j.id;
    sched_group_added(s, sj);
    if ((sj->j.state == JOB_PENDING || sj->j.state == JOB_RECOVERING) && !sj->held)
        sched_wait_add(s, sj);
}

/* Forget jobs that reached a terminal state (after their commit). */
static void drop_finished(struct sched *s)
{
    size_t i, k = 0;

    if (!s->ended)
        return;
    s->ended = 0;
    for (i = 0; i < s->nwait; i++) {
        if (!job_state_terminal(s->wait[i]->j.state))
            s->wait[k++] = s->wait[i];
        else if (s->wait[i]->wake_key != 0) /* in a step that placed nothing */
            sched_patience_passed(s, s->wait[i]);
    }
    s->nwait = k;
    k = 0;
    for (i = 0; i < s->natts; i++)
        if (s->atts[i].sj && job_state_terminal(s->atts[i].sj->j.state))
            s->atts[i].sj = NULL;
    for (i = 0; i < s->njobs; i++) {
        if (job_state_terminal(s->jobs[i]->j.state))
            sjob_free(s->jobs[i]);
        else
            s->jobs[k++] = s->jobs[i];
    }
    s->njobs = k;
    if (s->natts > 2 * s->njobs + 64)
        sweep_attempt_index(s);
}

/* A job whose spec or policy no longer parses (written by another version
 * of stratus, or edited in the database) cannot be run: it fails, with the
 * parser's message as its reason, and a live attempt of it is stopped and
 * billed for what it ran. */
static int fail_unloadable(struct sched *s, struct store_job *j, const char *why,
                           struct err *e)
{
    struct store_attempt a;
    int rc = sched_tx(s, e), from = j->state;

    memset(&a, 0, sizeof(a));
    if (rc == 0 && j->cur_attempt != 0 &&
        (rc = store_attempt_get(s->p.store, j->cur_attempt, &a, e)) == 0) {
        /* its run and the data move it paid at its start, as any end bills */
        a.cost = store_attempt_spent_at(&a, s->now);
        a.state = ATT_ENDED;
        a.ended_at = s->now;
        a.end_reason = ATT_END_FAILED;
        j->cost += a.cost;
        rc = store_attempt_update(s->p.store, &a, e);
        if (rc == 0)
            rc = sched_data_unloadable_end(s, j, &a, e);
        if (rc == 0)
            rc = stop_nodes(s, a.id, 1, e);
    }
    store_attempt_clear(&a);
    free(j->reason);
    j->reason = xasprintf("cannot load the job: %s", why);
    j->state = JOB_FAILED;
    j->ended_at = s->now;
    j->cur_attempt = 0;
    if (rc == 0)
        rc = store_event_append(s->p.store, j->id, 0, s->now, "state", from, JOB_FAILED,
                                j->reason, NULL, e);
    if (rc == 0)
        rc = store_job_update(s->p.store, j, e);
    s->transitions++;
    return rc;
}

/* Pick up jobs submitted since the last look (their ids are above ours). */
static int load_new_jobs(struct sched *s, struct err *e)
{
    struct store_job *v = NULL;
    size_t i, n = 0;
    int rc = store_job_list_after(s->p.store, s->max_job_id, &v, &n, e);

    for (i = 0; rc == 0 && i < n; i++) {
        struct sjob *sj;
        struct err pe;

        if (v[i].id > s->max_job_id)
            s->max_job_id = v[i].id;
        err_clear(&pe);
        if (sjob_new(s, &v[i], &sj, &pe) != 0) {
            log_error("job %lld: %s", (long long)v[i].id, pe.msg);
            rc = fail_unloadable(s, &v[i], pe.msg, e);
            continue;
        }
        add_job(s, sj);
        rc = sjob_load_attempt(s, sj, e);
    }
    store_jobs_free(v, n);
    return rc;
}

/* ---- the transaction and its actions ---- */

int sched_tx(struct sched *s, struct err *e)
{
    int rc;

    if (s->in_tx)
        return 0;
    if ((rc = store_begin(s->p.store, e)) != 0)
        return rc;
    s->in_tx = 1;
    return 0;
}

/* Close the open transaction, if any: commit it when rc is 0 (and return
 * what the commit returns; a failed commit stores nothing), else roll it
 * back and return rc.  Either way a failure leaves memory ahead of the
 * store, so the controller is marked stale and reloads at its next step. */
static int sched_tx_end(struct sched *s, int rc, struct err *e)
{
    if (s->in_tx) {
        s->in_tx = 0;
        if (rc == 0)
            rc = store_commit(s->p.store, e);
        else
            store_rollback(s->p.store);
    }
    if (rc != 0)
        s->stale = 1;
    return rc;
}

void sched_act(struct sched *s, enum action_type t, int64_t attempt_id, struct sjob *sj)
{
    struct action *a;

    s->acts = xgrow(s->acts, &s->acts_cap, s->nacts + 1, sizeof(*s->acts));
    a = &s->acts[s->nacts++];
    memset(a, 0, sizeof(*a));
    a->type = t;
    a->attempt_id = attempt_id;
    a->job = sj;
}

/* A launch refused or failed when it was asked for, handled as the driver's
 * event at the next step. */
static void push_sync_event(struct sched *s, int64_t attempt_id, int code, const char *msg)
{
    struct driver_event *ev;

    s->sync_ev = xgrow(s->sync_ev, &s->sync_cap, s->nsync + 1, sizeof(*s->sync_ev));
    ev = &s->sync_ev[s->nsync++];
    memset(ev, 0, sizeof(*ev));
    ev->type = code == ST_ECAPACITY ? DRV_EV_CAPACITY : DRV_EV_FAILED;
    ev->exit_code = code;
    ev->attempt_id = attempt_id;
    ev->node = -1;
    ev->at = s->now;
    snprintf(ev->msg, sizeof(ev->msg), "%.*s", (int)sizeof(ev->msg) - 1, msg);
}

/* Checkpoint directory of attempt n of a job, or NULL when there is none. */
static char *ckpt_dir(const struct sched *s, int64_t job, int n)
{
    if (s->p.cfg.ckpt_root == NULL)
        return NULL;
    return xasprintf("%s/job-%lld/att-%d", s->p.cfg.ckpt_root, (long long)job, n);
}

/* Record that dst holds the carried checkpoint.  After the step's commit (a
 * launch is an action): a transaction of its own, committed now, so that
 * the store is not left locked until the next step.  If it cannot be
 * recorded the copy is removed again, so that the launch, repeated after
 * the controller reloads, copies and records it anew. */
static int record_carry(struct sched *s, struct sjob *sj, const char *dst, double bytes,
                        double t0, struct err *e)
{
    int rc;

    BUG_ON(s->in_tx);
    sj->att.ckpt_bytes = bytes;
    sj->att.ckpt_copy_s = clock_mono() - t0;
    rc = sched_tx(s, e);
    if (rc == 0)
        rc = store_attempt_update(s->p.store, &sj->att, e);
    if (rc == 0)
        rc = store_checkpoint_add(s->p.store, sj->j.id, sj->att.id, dst, bytes, s->now, e);
    if (rc == 0)
        rc = sched_log(s, sj, "checkpoint", e, "carried %.0f bytes from attempt %d in %.3f s",
                       bytes, sj->ckpt_src_n, sj->att.ckpt_copy_s);
    rc = sched_tx_end(s, rc, e);
    if (rc != 0) {
        struct err ignored;

        fs_remove_tree(dst, &ignored);
    }
    return rc;
}

/* Carry the checkpoint of the attempt this one starts from (ckpt_from: the
 * newest that ran) into this one's directory, once: the copy goes to a
 * temporary name and is renamed, so a repeated launch after a crash never
 * overwrites a directory a running job writes into.  Directories are the
 * owner's only: a checkpoint is the job's data.  *store_failed tells a
 * failure to record the copy (the store's) from one to make it. */
static int carry_checkpoint(struct sched *s, struct sjob *sj, const char *dst,
                            int *store_failed, struct err *e)
{
    char *src, *tmp;
    double bytes = 0, t0 = clock_mono();
    int rc;

    *store_failed = 0;
    if (access(dst, F_OK) == 0)
        return 0;
    if (sj->att.ckpt_from == 0 || sj->att.ckpt_from != sj->ckpt_src)
        return fs_mkdirs(dst, 0700, e);
    src = ckpt_dir(s, sj->j.id, sj->ckpt_src_n);
    tmp = xasprintf("%s.tmp", dst);
    rc = fs_remove_tree(tmp, e);
    if (rc == 0)
        rc = fs_copy_tree(src, tmp, &bytes, e);
    if (rc == 0 && access(tmp, F_OK) != 0)
        rc = fs_mkdirs(tmp, 0700, e);
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = err_set(e, ST_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc == 0) {
        rc = record_carry(s, sj, dst, bytes, t0, e);
        *store_failed = rc != 0;
    }
    free(src);
    free(tmp);
    return rc;
}

/* The replica's own variables: where to listen, and who it is. */
#define REPLICA_ENVS 4

/* The value of variable env, a reference to a secret of sj's team, opened
 * through the server's resolver into *out (owned); "" without a resolver.
 * The message names the variable and the secret, never a value. */
static int open_secret(const struct sched *s, const struct sjob *sj,
                       const struct spec_env *env, char **out, struct err *e)
{
    const char *team = sj->j.team ? sj->j.team : "";
    int rc;

    *out = NULL;
    if (s->p.secret_value == NULL) {
        *out = xstrdup("");
        return 0;
    }
    rc = s->p.secret_value(s->p.secret_ctx, team, env->secret, out, e);
    if (rc == ST_ENOTFOUND)
        return err_set(e, ST_EINVAL,
                       "%s: %s%s%s has no secret '%s' (deleted since the submit?): set it "
                       "and submit again",
                       env->key, *team ? "team '" : "the lab's space", team,
                       *team ? "'" : "", env->secret);
    if (rc != 0)
        err_prefix(e, "%s", env->key);
    return rc;
}

/* Wipe and free the n opened values of a launch (NULLs skipped). */
static void secrets_free(char **opened, size_t n)
{
    size_t i;

    for (i = 0; opened != NULL && i < n; i++) {
        if (opened[i] != NULL) {
            explicit_bzero(opened[i], strlen(opened[i]));
            free(opened[i]);
        }
    }
    free(opened);
}

/* The spec's envs for an attempt of sj; a replica of a service gets PORT
 * (its port: the local world gives each replica its own),
 * STRATUS_SERVICE_PORT (the same) and STRATUS_REPLICA (its job id) first,
 * and a spec's own variable of those names is left out; a stage of a
 * pipeline gets its directories (sched_group_envs) first.  *n gets the
 * count; vals holds the numbers' text, gvals the stage's values, opened
 * (sp->nenvs slots) the secrets' values, which the caller wipes with
 * secrets_free.  NULL when a secret cannot be opened (e says why). */
static struct driver_env *spec_envs(const struct sched *s, const struct sjob *sj,
                                    char vals[2][24], char *gvals[SCHED_GROUP_ENVS],
                                    char **opened, size_t *n, struct err *e)
{
    const struct spec *sp = sj->spec;
    struct driver_env *v =
        xcalloc(sp->nenvs + REPLICA_ENVS + SCHED_GROUP_ENVS + 1, sizeof(*v));
    size_t i, k = sched_group_envs(s, sj, v, gvals);

    if (sj->j.service_id != 0) {
        snprintf(vals[0], sizeof(vals[0]), "%d", sj->j.port);
        snprintf(vals[1], sizeof(vals[1]), "%lld", (long long)sj->j.id);
        v[k++] = (struct driver_env){.key = "PORT", .value = vals[0]};
        v[k++] = (struct driver_env){.key = "STRATUS_SERVICE_PORT", .value = vals[0]};
        v[k++] = (struct driver_env){.key = "STRATUS_REPLICA", .value = vals[1]};
        /* its port is fixed: the local world gives each node its own network */
        if (svc_port_fixed(sp->service, sp->run))
            v[k++] = (struct driver_env){.key = "STRATUS__NETNS", .value = "1"};
    }
    for (i = 0; i < sp->nenvs; i++) {
        if (sj->j.service_id != 0 && (strcmp(sp->envs[i].key, "PORT") == 0 ||
                                      strcmp(sp->envs[i].key, "STRATUS_SERVICE_PORT") == 0 ||
                                      strcmp(sp->envs[i].key, "STRATUS_REPLICA") == 0))
            continue;
        v[k].key = sp->envs[i].key;
        v[k].value = sp->envs[i].value;
        if (sp->envs[i].secret != NULL) {
            if (open_secret(s, sj, &sp->envs[i], &opened[i], e) != 0) {
                free(v);
                *n = 0;
                return NULL;
            }
            v[k].value = opened[i];
            v[k].secret = 1;
        }
        k++;
    }
    *n = k;
    return v;
}

/* Launch the live attempt of sj.  What goes wrong (copying the checkpoint,
 * the driver refusing) is the attempt's event at the next step. */
static void do_launch(struct sched *s, struct sjob *sj)
{
    const struct store_attempt *at = &sj->att;
    char *dir = ckpt_dir(s, sj->j.id, at->n), vals[2][24], *gvals[SCHED_GROUP_ENVS];
    char **opened = xcalloc(sj->spec->nenvs + 1, sizeof(*opened));
    size_t nenvs = 0;
    struct err e;
    struct driver_env *envs = spec_envs(s, sj, vals, gvals, opened, &nenvs, &e);
    /* designated: the launch options after ckpt_dir start zero */
    struct attempt a = {.id = at->id, .job_id = sj->j.id, .n = at->n,
                        .job_name = sj->j.name, .cloud = at->cloud, .region = at->region,
                        .zone = at->zone, .instance_type = at->instance_type,
                        .accelerator = at->accelerator, .acc_count = at->acc_count,
                        .nodes = at->nodes, .spot = at->mode == PLAN_SPOT,
                        .setup = sj->spec->setup, .run = sj->spec->run,
                        .workdir = sj->workdir, .envs = envs, .nenvs = nenvs,
                        .ckpt_dir = dir};
    int rc = envs == NULL ? e.code : 0, store_failed = 0;

    spec_launch_opts(sj->spec, at->cloud, at->region, &a); /* ports, image, mounts */
    if (rc == 0 && dir)
        rc = carry_checkpoint(s, sj, dir, &store_failed, &e);
    if (rc == 0)
        rc = driver_launch(s->p.driver, &a, &e);
    if (rc != 0 && store_failed)
        log_error("attempt %lld: %s; launching it after the store is reloaded",
                  (long long)at->id, e.msg);
    else if (rc != 0)
        push_sync_event(s, at->id, rc, e.msg);
    free(dir);
    free(envs);
    secrets_free(opened, sj->spec->nenvs);
    sched_group_envs_free(gvals);
}

static int run_action(struct sched *s, struct action *a)
{
    struct err e;
    int rc = 0;

    err_clear(&e);
    switch (a->type) {
    case ACT_LAUNCH:
        if (a->job->j.cur_attempt == a->attempt_id)
            do_launch(s, a->job);
        break;
    case ACT_TERMINATE:
        rc = driver_terminate(s->p.driver, a->attempt_id, &e);
        break;
    case ACT_INJECT:
        rc = driver_inject(s->p.driver, a->kind, a->arg, &e);
        break;
    }
    if (rc != 0 && a->type == ACT_INJECT)
        log_error("%s %s: %s", a->kind, a->arg, e.msg);
    else if (rc != 0)
        log_error("attempt %lld: %s", (long long)a->attempt_id, e.msg);
    free(a->kind);
    free(a->arg);
    return rc;
}

/* Forget the actions of a step that did not commit. */
static void drop_actions(struct sched *s)
{
    size_t i;

    for (i = 0; i < s->nacts; i++) {
        free(s->acts[i].kind);
        free(s->acts[i].arg);
    }
    s->nacts = 0;
}

/* base x 2^(k-1) for the k-th (k >= 1) try again, capped at max. */
static double backoff_after(const struct sched_config *c, int k)
{
    double b = c->backoff_base_s * pow(2.0, k > 1 ? k - 1 : 0);

    return b < c->backoff_max_s ? b : c->backoff_max_s;
}

/* The retry of a refused stop of attempt id, or NULL. */
static struct stop_retry *stop_retry_of(struct sched *s, int64_t id)
{
    size_t i;

    for (i = 0; i < s->nretry; i++)
        if (s->retry[i].attempt_id == id)
            return &s->retry[i];
    return NULL;
}

/* The driver refused to stop attempt id (ok 0), or stopped it (ok 1): the
 * next try waits base x 2^(refusals-1), capped at backoff_max, so a cloud
 * API that keeps refusing is asked a few times an hour, not every step. */
static void stop_tried(struct sched *s, int64_t id, int ok)
{
    struct stop_retry *r = stop_retry_of(s, id);

    if (ok) {
        if (r != NULL)
            *r = s->retry[--s->nretry];
        return;
    }
    if (r == NULL) {
        s->retry = xgrow(s->retry, &s->retry_cap, s->nretry + 1, sizeof(*s->retry));
        r = &s->retry[s->nretry++];
        r->attempt_id = id;
        r->refusals = 0;
    }
    r->at = s->now + backoff_after(&s->p.cfg, ++r->refusals);
    log_error("attempt %lld: the stop was refused %d time%s; trying again in %.0f s",
              (long long)id, r->refusals, r->refusals == 1 ? "" : "s", r->at - s->now);
}

/* The sooner of next_in and the seconds until a refused stop is due. */
static double next_retry(const struct sched *s, double next_in)
{
    size_t i;

    for (i = 0; i < s->nretry; i++)
        if (s->retry[i].at - s->now < next_in)
            next_in = s->retry[i].at > s->now ? s->retry[i].at - s->now : 0;
    return next_in;
}

/* Commit the step's decisions, then act on them: the machines to stop
 * first, then the rest in order, so that nodes given from one attempt to
 * another (committed nodes given back by backfill, a displaced job's) are
 * never held by both at once, also when a controller that opens again
 * finds the launch in the store before the stop among the requests.
 * Launch refusals handled in the step are forgotten only now: a step that
 * fails sees them again. */
static int commit_and_act(struct sched *s, struct err *e)
{
    size_t i;
    int rc = sched_tx_end(s, 0, e), pass;

    if (rc != 0)
        return rc;
    s->nsync = 0;
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < s->nacts; i++) {
            const struct action *a = &s->acts[i];

            if ((a->type == ACT_TERMINATE) != (pass == 0))
                continue;
            /* A stop the driver refused is not made: its request, taken
             * at the next step (after the backoff), makes it again. */
            if (run_action(s, &s->acts[i]) != 0) {
                s->stop_refused |= a->filed != 0;
                if (a->type == ACT_TERMINATE && a->filed)
                    stop_tried(s, a->attempt_id, 0);
                continue;
            }
            if (a->type == ACT_TERMINATE && s->nretry > 0)
                stop_tried(s, a->attempt_id, 1);
            if (!a->filed)
                continue;
            if (a->filed == 2)
                s->restop = 1; /* filed again by take_stop: the next step drops it */
            s->stopped = xgrow(s->stopped, &s->stopped_cap, s->nstopped + 1,
                               sizeof(*s->stopped));
            s->stopped[s->nstopped++] = a->attempt_id;
        }
    s->nacts = 0;
    return 0;
}

/* ---- transitions, events, accounting ---- */

static int vlog(struct sched *s, struct sjob *sj, const char *type, int from, int to,
                struct err *e, const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));
static int vlog(struct sched *s, struct sjob *sj, const char *type, int from, int to,
                struct err *e, const char *fmt, va_list ap)
{
    char msg[512];
    int rc;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if ((rc = sched_tx(s, e)) != 0)
        return rc;
    if (to >= 0) {
        free(sj->j.reason);
        sj->j.reason = xstrdup(msg);
    }
    if (sj->j.service_id != 0 && s->p.replica_event != NULL)
        s->p.replica_event(s->p.replica_ctx, &sj->j, type);
    return store_event_append(s->p.store, sj->j.id, sj->j.cur_attempt, s->now, type, from, to,
                              msg, NULL, e);
}

int sched_log(struct sched *s, struct sjob *sj, const char *type, struct err *e,
              const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vlog(s, sj, type, -1, -1, e, fmt, ap);
    va_end(ap);
    return rc;
}

int sched_transition(struct sched *s, struct sjob *sj, int to, struct err *e,
                     const char *fmt, ...)
{
    int from = sj->j.state, rc;
    va_list ap;

    BUG_ON(job_state_terminal(from));
    sj->j.state = to;
    if (to == JOB_RUNNING && sj->j.started_at == 0)
        sj->j.started_at = s->now;
    if (job_state_terminal(to)) {
        sj->j.ended_at = s->now;
        s->ended = 1;
        sched_group_ended(s, sj);
        if ((rc = sched_data_job_ended(s, sj, e)) != 0)
            return rc;
    }
    if (to == JOB_PENDING || to == JOB_RECOVERING)
        sched_wait_add(s, sj);
    va_start(ap, fmt);
    rc = vlog(s, sj, "state", from, to, e, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = store_job_update(s->p.store, &sj->j, e);
    s->transitions++;
    return rc;
}

/* Compute saved by checkpoints during an attempt that ran run_s seconds. */
static double saved_work(const struct spec *sp, double run_s)
{
    if (sp->ckpt_interval_s <= 0)
        return 0;
    return floor(run_s / sp->ckpt_interval_s) * sp->ckpt_interval_s;
}

/* Seconds of work the live attempt did up to `end`: its run after the
 * restore of the checkpoint it resumed from (an attempt resumes from one when
 * earlier attempts saved work; the sim driver starts work at the same point).
 * Restoring is not progress: counting it would let the deadline rule believe
 * a job is further along than it is. */
static double work_run_s(const struct sjob *sj, double end)
{
    const struct store_attempt *a = &sj->att;
    double start = a->running_at + (sj->j.work_done_s > 0 ? sj->spec->ckpt_restore_s : 0);

    return a->running_at > 0 && end > start ? end - start : 0;
}

/* ---- speed: work per second relative to the first alternative ----
 * A spec's duration is its run time on the first alternative; progress is
 * kept in those seconds, so an attempt on another accelerator adds its run
 * x its speed (the sim driver counts work the same way). */
double sched_att_speed(const struct sched *s, const struct sjob *sj)
{
    const struct store_attempt *a = &sj->att;
    const struct spec *sp = sj->spec;
    double part = 0;
    size_t i;

    if (sp->nres < 2 || a->accelerator == NULL)
        return 1.0;
    if (sj->offer >= 0 && (size_t)sj->offer < catalog_noffers(s->p.cat)) {
        /* the node it got: its offer says (a share of one GPU counts as one,
         * 1/8 of an L4 is not an L4, as the sim driver runs it) */
        const struct offer *o = catalog_offer(s->p.cat, (uint32_t)sj->offer);

        return plan_speed(s->p.cat, sp, o->accelerator, o->acc_count, o->acc_part);
    }
    for (i = 0; i < sp->nres; i++) /* not in the catalog: the alternative says */
        if (sp->res[i].accelerator && strcasecmp(sp->res[i].accelerator, a->accelerator) == 0 &&
            sp->res[i].acc_count == a->acc_count)
            part = sp->res[i].acc_part;
    return plan_speed(s->p.cat, sp, a->accelerator, a->acc_count, part);
}

double sched_alt_speed(const struct sched *s, const struct sjob *sj, size_t alt)
{
    return plan_alt_speed(s->p.cat, sj->spec, alt);
}

double sched_speed_max(const struct sched *s, const struct sjob *sj)
{
    double m = 1.0;
    size_t i;

    for (i = 1; i < sj->spec->nres; i++)
        m = fmax(m, sched_alt_speed(s, sj, i));
    return m;
}

double sched_progress_kept(const struct sched *s, const struct sjob *sj)
{
    double p = sj->j.work_done_s;

    if (sj->j.cur_attempt && sj->att.state == ATT_RUNNING)
        p += saved_work(sj->spec, work_run_s(sj, s->now)) * sched_att_speed(s, sj);
    return sj->spec->duration_s > 0 ? fmin(p, sj->spec->duration_s) : p;
}

double sched_progress(const struct sched *s, const struct sjob *sj)
{
    double p = sj->j.work_done_s;

    if (sj->j.cur_attempt && sj->att.state == ATT_RUNNING)
        p += work_run_s(sj, s->now) * sched_att_speed(s, sj);
    return sj->spec->duration_s > 0 ? fmin(p, sj->spec->duration_s) : p;
}

/* Egress of bringing the job's data to the attempt's region, unless an
 * earlier attempt of this run of the controller already brought it there. */
static double data_move_cost(const struct sched *s, struct sjob *sj, const struct store_attempt *a)
{
    const struct spec *sp = sj->spec;

    if (sp->data_cloud == NULL || sp->data_gb <= 0)
        return 0;
    if (sj->data_at && strcmp(sj->data_at, a->region) == 0 && strncmp(sj->data_at_cloud, a->cloud, sizeof(sj->data_at_cloud)) == 0)
        return 0;
    free(sj->data_at);
    sj->data_at = xstrdup(a->region);
    snprintf(sj->data_at_cloud, sizeof(sj->data_at_cloud), "%s", a->cloud);
    return sp->data_gb * catalog_egress_per_gb(s->p.cat, sp->data_cloud,
                                               sp->data_region ? sp->data_region : "",
                                               a->cloud, a->region);
}

/* The catalog's prices changed (the simulator replays price traces): a live
 * attempt pays its offer's new price from now on, and what it ran until now
 * is accounted at the old one.  Committed capacity is prepaid and keeps its
 * price; an offer no longer sold this way keeps the price of the machines
 * already running. */
static int reprice(struct sched *s, struct err *e)
{
    size_t i;
    int rc;

    s->price_version = catalog_price_version(s->p.cat);
    s->reprice_due = 0;
    for (i = 0; i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];
        struct store_attempt *a = &sj->att;
        const struct offer *o;
        double price, old;

        if (sj->j.cur_attempt == 0 || a->state == ATT_ENDED ||
            a->mode == PLAN_COMMITTED || sj->offer < 0 ||
            a->list_hour > 0) /* the commitments' bill prices those */
            continue;
        o = catalog_offer(s->p.cat, (size_t)sj->offer);
        price = a->mode == PLAN_SPOT ? o->spot_price : o->price;
        if (price < 0 || price == a->price_hour)
            continue;
        old = a->price_hour;
        if (a->running_at > 0) {
            a->cost = store_attempt_cost_at(a, s->now); /* at the old price */
            a->priced_at = s->now;
        }
        a->price_hour = price;
        if ((rc = sched_tx(s, e)) != 0 || (rc = store_attempt_update(s->p.store, a, e)) != 0 ||
            (rc = sched_log(s, sj, "price", e, "%s price of %s/%s %s: $%.2f -> $%.2f/node-h",
                            plan_mode_name(a->mode), a->cloud, a->region, a->instance_type,
                            old, price)) != 0)
            return rc;
    }
    return 0;
}

int sched_end_attempt(struct sched *s, struct sjob *sj, int reason, int code, double at,
                      struct err *e)
{
    struct store_attempt *a = &sj->att;
    double end = at > 0 ? at : s->now;
    double run_s = work_run_s(sj, end); /* work done, the restore not counted */
    double speed = sched_att_speed(s, sj); /* before the attempt is cleared */
    int rc;

    BUG_ON(sj->j.cur_attempt == 0);
    a->state = ATT_ENDED;
    a->ended_at = end;
    a->end_reason = reason;
    a->exit_code = code;
    /* Node-seconds from the moment the gang ran to its end at the price in
     * force (cost already holds the stretches before its last price change;
     * the node-hours are those the cost report sums), plus moving the job's
     * data to where the attempt ran; an attempt refused at launch never ran
     * and costs nothing. */
    a->cost = store_attempt_cost_at(a, end);
    sched_cover_accrue(s, sj, end);
    sj->cov_since = 0;
    s->cover_gen++;
    if (a->running_at > 0) {
        if (!s->p.cfg.data_gravity)
            a->egress = data_move_cost(s, sj, a);
        else if ((rc = sched_data_leave(s, sj, a, end, e)) != 0)
            return rc; /* a->egress: what making its replica cost (at arrival) */
        a->cost += a->egress;
    }
    note_ended(sj, a);
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_attempt_update(s->p.store, a, e)) != 0)
        return rc;
    sj->j.cost += a->cost;
    sched_quota_spent(s, sj, a->cost);
    sj->j.exit_code = code;
    sj->j.work_done_s +=
        speed * (reason == ATT_END_EXITED && code == 0 ? run_s : saved_work(sj->spec, run_s));
    sj->j.cur_attempt = 0;
    if (a->running_at > 0 || reason == ATT_END_CAPACITY)
        s->capacity_freed = 1; /* jobs waiting for room may fit now */
    sched_patience_freed(s, sj); /* its nodes: own counts, parked jobs */
    if (sj->nodes_ended < a->nodes && (rc = stop_nodes(s, a->id, 1, e)) != 0)
        return rc;
    return store_job_update(s->p.store, &sj->j, e);
}

/* Nodes of an ended attempt may still run: stop them after the commit.  The
 * intent is stored with the decision, as a "terminate" request, so that a
 * controller killed between the commit and the action still stops them once
 * it is back (take_stop; terminate is idempotent).  filed: 1 with the
 * decision, 2 again by take_stop (struct action). */
static int file_stop(struct sched *s, int64_t attempt_id, struct err *e)
{
    char arg[24];

    snprintf(arg, sizeof(arg), "%lld", (long long)attempt_id);
    return store_request_add(s->p.store, "terminate", arg, s->now, NULL, e);
}

static int stop_nodes(struct sched *s, int64_t attempt_id, int filed, struct err *e)
{
    sched_act(s, ACT_TERMINATE, attempt_id, NULL);
    s->acts[s->nacts - 1].filed = filed;
    return file_stop(s, attempt_id, e);
}

const struct sched_config *sched_cfg_at(const struct sched *s, const char *cloud,
                                        const char *region)
{
    const struct sched_config *c = NULL;

    if (s->p.cfg_at != NULL && cloud != NULL && region != NULL)
        c = s->p.cfg_at(s->p.cfg_ctx, cloud, region);
    return c ? c : &s->p.cfg;
}

/* Backoff before restart k (k >= 1): base x 2^(k-1), capped; the timing of
 * where the job's last attempt ran (sj->att outlives the attempt's end). */
static double backoff(const struct sched *s, const struct sjob *sj, int k)
{
    return backoff_after(sched_cfg_at(s, sj->att.cloud, sj->att.region), k);
}

int sched_recover(struct sched *s, struct sjob *sj, int count_restart, struct err *e,
                  const char *fmt, ...)
{
    char why[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (count_restart && sj->j.restarts >= sj->spec->max_restarts)
        return sched_transition(s, sj, JOB_FAILED, e, "%s; max_restarts (%d) reached", why,
                                sj->spec->max_restarts);
    if (count_restart) {
        sj->j.restarts++;
        sj->j.next_try_at = s->now + backoff(s, sj, sj->j.restarts);
    } else {
        sj->j.next_try_at = 0;
    }
    return sched_transition(s, sj, sj->j.started_at > 0 ? JOB_RECOVERING : JOB_PENDING, e, "%s",
                            why);
}

int sched_retry_at(struct sched *s, struct sjob *sj, double at, struct err *e)
{
    sj->j.next_try_at = at;
    return store_job_update(s->p.store, &sj->j, e);
}

/* ---- driver events ---- */

/* "cloud/region[/zone]" of an attempt, in buf. */
static const char *att_where(const struct store_attempt *a, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s%s%s", a->cloud, a->region, *a->zone ? "/" : "", a->zone);
    return buf;
}

/* Nodes that are gone (exited, or taken by a preemption): one, or (node -1)
 * every one; those need no stop. */
static void mark_ended(struct sjob *sj, int node)
{
    int r;

    for (r = 0; r < sj->att.nodes; r++) {
        if ((node >= 0 && r != node) || sj->node_state[r] == ATT_ENDED)
            continue;
        if (sj->node_state[r] == ATT_RUNNING)
            sj->nodes_running--;
        sj->node_state[r] = ATT_ENDED;
        sj->nodes_ended++;
    }
}

static int on_node_running(struct sched *s, struct sjob *sj, const struct driver_event *ev,
                           struct err *e)
{
    struct store_node nd = {sj->att.id, ev->node, ATT_RUNNING, -1, ev->at, 0};
    char where[256];
    int rc;

    if (ev->node < 0 || ev->node >= sj->att.nodes || sj->node_state[ev->node] != ATT_LAUNCHING)
        return 0; /* a repeat (at-least-once delivery) */
    sj->node_state[ev->node] = ATT_RUNNING;
    sj->nodes_running++;
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_node_put(s->p.store, &nd, e)) != 0)
        return rc;
    if (sj->nodes_running < sj->att.nodes || sj->att.state != ATT_LAUNCHING)
        return 0;
    sj->att.state = ATT_RUNNING;
    sj->att.running_at = ev->at > 0 ? ev->at : s->now;
    if ((rc = sched_data_arrive(s, sj, &sj->att, e)) != 0 ||
        (rc = store_attempt_update(s->p.store, &sj->att, e)) != 0)
        return rc;
    return sched_transition(s, sj, JOB_RUNNING, e, "running on %s (%d x %s, %s)",
                            att_where(&sj->att, where, sizeof(where)), sj->att.nodes,
                            sj->att.instance_type, plan_mode_name(sj->att.mode));
}

static int on_node_exited(struct sched *s, struct sjob *sj, const struct driver_event *ev,
                          struct err *e)
{
    struct store_node nd = {sj->att.id, ev->node, ATT_ENDED, ev->exit_code, 0, ev->at};
    int rc;

    if (ev->node < 0 || ev->node >= sj->att.nodes || sj->node_state[ev->node] == ATT_ENDED)
        return 0;
    mark_ended(sj, ev->node);
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_node_put(s->p.store, &nd, e)) != 0)
        return rc;
    if (ev->exit_code != 0) {
        /* One node failing fails the gang: stop the others. */
        if ((rc = sched_end_attempt(s, sj, ATT_END_EXITED, ev->exit_code, ev->at, e)) != 0)
            return rc;
        return sched_transition(s, sj, JOB_FAILED, e, "node %d exited with code %d", ev->node,
                                ev->exit_code);
    }
    if (sj->nodes_ended < sj->att.nodes)
        return 0;
    if ((rc = sched_end_attempt(s, sj, ATT_END_EXITED, 0, ev->at, e)) != 0)
        return rc;
    return sched_transition(s, sj, JOB_SUCCEEDED, e, "all %d node%s exited 0", sj->att.nodes,
                            sj->att.nodes == 1 ? "" : "s");
}

static int on_preempted(struct sched *s, struct sjob *sj, const struct driver_event *ev,
                        struct err *e)
{
    char where[256], which[32];
    int rc;

    att_where(&sj->att, where, sizeof(where));
    mark_ended(sj, ev->node);
    if (ev->node >= 0)
        snprintf(which, sizeof(which), "node %d", ev->node);
    else
        snprintf(which, sizeof(which), "all nodes");
    if ((rc = sched_end_attempt(s, sj, ATT_END_PREEMPTED, -1, ev->at, e)) != 0)
        return rc;
    if (sj->j.service_id != 0 && s->p.replica_event != NULL)
        s->p.replica_event(s->p.replica_ctx, &sj->j, "preempted");
    if (sj->spec->recovery == SPEC_RECOVERY_EAGER_NEXT_REGION) {
        free(sj->avoid);
        sj->avoid = xasprintf("%s/%s", sj->att.cloud, sj->att.region);
    }
    return sched_recover(s, sj, 1, e, "preempted on %s (%s%s%s)", where, which,
                         ev->msg[0] ? ": " : "", ev->msg);
}

static int on_capacity(struct sched *s, struct sjob *sj, const struct driver_event *ev,
                       struct err *e)
{
    char where[256];
    int rc;

    if ((rc = sched_block(s, &sj->att, 0, "launch refused: no capacity", e)) != 0 ||
        (rc = sched_end_attempt(s, sj, ATT_END_CAPACITY, -1, ev->at, e)) != 0)
        return rc;
    return sched_recover(s, sj, 0, e, "no capacity in %s: %s; failing over",
                         att_where(&sj->att, where, sizeof(where)),
                         ev->msg[0] ? ev->msg : "stockout");
}

/* A launch that failed other than for capacity: a bad request (the spec asks
 * for what no driver can do) fails the job; anything else (a cloud's regional
 * API failing, a cluster not answering) blocks the whole region for a while
 * and counts as a restart, so a failure everywhere ends too. */
static int on_failed(struct sched *s, struct sjob *sj, const struct driver_event *ev,
                     struct err *e)
{
    int bad = ev->exit_code == ST_EINVAL || ev->exit_code == ST_ETOOBIG ||
              ev->exit_code == ST_EPARSE;
    const char *why = ev->msg[0] ? ev->msg : "launch failed";
    char where[256];
    int rc;

    att_where(&sj->att, where, sizeof(where));
    if ((!bad && (rc = sched_block(s, &sj->att, 1, "launch failed", e)) != 0) ||
        (rc = sched_end_attempt(s, sj, ATT_END_FAILED, -1, ev->at, e)) != 0)
        return rc;
    if (bad)
        return sched_transition(s, sj, JOB_FAILED, e, "launch refused on %s: %s", where, why);
    return sched_recover(s, sj, 1, e, "launch failed on %s: %s; failing over", where, why);
}

static int on_event(struct sched *s, const struct driver_event *ev, struct err *e)
{
    struct sjob *sj = find_by_attempt(s, ev->attempt_id);

    if (sj == NULL) {
        /* An attempt already ended here whose nodes still report: make sure
         * they are stopped (terminate is idempotent). */
        if (ev->type == DRV_EV_RUNNING)
            sched_act(s, ACT_TERMINATE, ev->attempt_id, NULL);
        return 0;
    }
    switch (ev->type) {
    case DRV_EV_RUNNING:
        return on_node_running(s, sj, ev, e);
    case DRV_EV_EXITED:
        return on_node_exited(s, sj, ev, e);
    case DRV_EV_PREEMPT_NOTICE:
        return sched_log(s, sj, "preempt-notice", e, "node %d: %s", ev->node,
                         ev->msg[0] ? ev->msg : "the cloud will take it back soon");
    case DRV_EV_PREEMPTED:
        return on_preempted(s, sj, ev, e);
    case DRV_EV_CAPACITY:
        return on_capacity(s, sj, ev, e);
    case DRV_EV_FAILED:
        return on_failed(s, sj, ev, e);
    }
    return 0;
}

/* One poll per step: a driver counts an event as delivered at its next
 * poll, which comes only after this step's commit, so a controller killed
 * before the commit is told again.  A full batch asks for another step at once. */
static int poll_events(struct sched *s, struct err *e)
{
    struct driver_event ev[512];
    size_t i;
    int n, rc;

    for (i = 0; i < s->nsync; i++)
        if ((rc = on_event(s, &s->sync_ev[i], e)) != 0)
            return rc;
    n = driver_poll(s->p.driver, ev, sizeof(ev) / sizeof(ev[0]), e);
    if (n < 0)
        return n;
    s->more_events = n == (int)(sizeof(ev) / sizeof(ev[0]));
    for (i = 0; i < (size_t)n; i++)
        if ((rc = on_event(s, &ev[i], e)) != 0)
            return rc;
    return 0;
}

/* ---- requests from the command line ---- */

/* Cancel is idempotent: a request about a job that has ended (perhaps by
 * an earlier cancel in this same batch) or never existed is consumed and
 * changes nothing.  why: who cancels, for the event ("" or NULL: the
 * user). */
static int cancel_job(struct sched *s, int64_t id, const char *why, struct err *e)
{
    struct sjob *sj = sched_job_by_id(s, id);
    int rc;

    if (sj == NULL || job_state_terminal(sj->j.state)) {
        log_info("cancel of job %lld: %s", (long long)id,
                 sj ? "it has ended already" : "no such active job");
        return 0;
    }
    sj->j.cancel_requested = 1;
    if (sj->j.cur_attempt && (rc = sched_end_attempt(s, sj, ATT_END_CANCELLED, -1, 0, e)) != 0)
        return rc;
    return sched_transition(s, sj, JOB_CANCELLED, e, "%s",
                            why && *why ? why : "cancelled by the user");
}

/* A cancel of the first stage of a pipeline or job group (whose id names
 * the group) cancels every stage still active, even when the first one has
 * ended: `stratus cancel GROUP` stops the rest.  Held stages are left to
 * sched_groups(), which ends them naming the cancelled stage before them. */
static int cancel_group(struct sched *s, int64_t id, struct err *e)
{
    const struct sjob *head = sched_job_by_id(s, id);
    size_t i;
    int rc = 0;

    /* a job in memory that heads no group: nothing to look for (the scan
     * is for a head that has ended, or a group's id) */
    if (head != NULL && head->j.group_id != id)
        return 0;
    for (i = 0; rc == 0 && i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];

        if (sj->j.group_id == id && sj->j.id != id && !sj->held &&
            !job_state_terminal(sj->j.state))
            rc = cancel_job(s, sj->j.id, NULL, e);
    }
    return rc;
}

static int cmp_abs_id(const void *a, const void *b)
{
    long long x = llabs(*(const int64_t *)a), y = llabs(*(const int64_t *)b);

    return x < y ? -1 : x > y;
}

/* A `terminate` request is done once its nodes were stopped after a commit
 * that holds the request taken.  This controller drops a request for nodes
 * it stopped itself after filing or taking it (s->stopped, where only stops
 * the driver took are put; the entry is marked used by its sign); a request
 * it never acted on (filed or taken by a controller that died before it
 * stopped the nodes, or a stop the driver refused) it acts on and files
 * again, for its next step to drop.  So a stop outlives any number of
 * crashes, each between a commit and its action, and is tried again while
 * the driver refuses it: after a backoff that doubles per refusal
 * (stop_tried); until then its request is only filed again. */
static int take_stop(struct sched *s, int64_t id, struct err *e)
{
    int64_t *hit = s->nstopped == 0 ? NULL
                                    : bsearch(&id, s->stopped, s->nstopped, sizeof(*s->stopped),
                                              cmp_abs_id);
    const struct stop_retry *r = stop_retry_of(s, id);

    if (hit != NULL && *hit > 0) {
        *hit = -*hit;
        return 0;
    }
    if (r != NULL && r->at > s->now) { /* refused lately: kept, not tried yet */
        s->stop_refused = 1;
        return file_stop(s, id, e);
    }
    return stop_nodes(s, id, 2, e); /* once made, dropped at once (restop) */
}

/* The stops take_stop matched are forgotten; a failed step forgets them
 * too (its requests come back, and are acted on again: a no-op). */
static void forget_stops(struct sched *s)
{
    size_t i, k = 0;

    for (i = 0; i < s->nstopped; i++)
        if (s->stopped[i] > 0)
            s->stopped[k++] = s->stopped[i];
    s->nstopped = k;
}

static int take_requests(struct sched *s, struct err *e)
{
    struct store_request *r = NULL;
    size_t i, n = 0;
    int rc;

    if ((rc = sched_tx(s, e)) != 0 || (rc = store_request_take(s->p.store, &r, &n, e)) != 0)
        return rc;
    if (s->nstopped > 1)
        qsort(s->stopped, s->nstopped, sizeof(*s->stopped), cmp_abs_id);
    s->restop = s->stop_refused = 0;
    for (i = 0; rc == 0 && i < n; i++) {
        long long id;
        int at = 0;

        if (strcmp(r[i].kind, "cancel") == 0 &&
            sscanf(r[i].arg, "%lld %n", &id, &at) == 1) {
            rc = cancel_job(s, id, r[i].arg + at, e); /* "ID [WHO: WHY]" */
            if (rc == 0)
                rc = cancel_group(s, id, e);
        } else if (strcmp(r[i].kind, "terminate") == 0 &&
                   sscanf(r[i].arg, "%lld", &id) == 1) {
            rc = take_stop(s, id, e);
        } else {
            sched_act(s, ACT_INJECT, 0, NULL);
            s->acts[s->nacts - 1].kind = xstrdup(r[i].kind);
            s->acts[s->nacts - 1].arg = xstrdup(r[i].arg);
        }
    }
    store_requests_free(r, n);
    forget_stops(s);
    return rc;
}

/* ---- the step ---- */

static int stops_queued(const struct sched *s)
{
    size_t i;

    for (i = 0; i < s->nacts; i++)
        if (s->acts[i].type == ACT_TERMINATE)
            return 1;
    return 0;
}

static double next_wake(const struct sched *s)
{
    double next = NOTHING_TIMED_S, d = driver_next_event_in(s->p.driver),
           bill = sched_commit_next(s);
    size_t i;

    if (d >= 0 && d < next)
        next = d;
    for (i = 0; i < s->nwait; i++) {
        const struct store_job *j = &s->wait[i]->j;

        if ((j->state == JOB_PENDING || j->state == JOB_RECOVERING) && j->next_try_at > s->now &&
            j->next_try_at - s->now < next)
            next = j->next_try_at - s->now;
    }
    if (sched_patience_next(s) - s->now < next)
        next = sched_patience_next(s) - s->now;
    if (s->next_deadline_check > s->now && s->next_deadline_check - s->now < next &&
        s->p.cfg.deadline_rule)
        next = s->next_deadline_check - s->now;
    if (bill < next) /* the bill of committed attempts changes there */
        next = bill;
    if (sched_data_sweep_next(s) - s->now < next) /* a replica expires */
        next = sched_data_sweep_next(s) - s->now;
    return next > 0 ? next : 0;
}

static int cmp_att_ref(const void *a, const void *b);

/* Load every active job from the store, as at open: their live attempts
 * (indexed, then sorted: they come in job order), and, at the next step,
 * prices checked and requests read. */
static int load_all(struct sched *s, struct err *e)
{
    int rc;

    s->reprice_due = 1;
    s->cover_strays = 1; /* the catalog may have changed: the bill looks */
    s->poked = 1; /* requests filed while no controller ran */
    rc = load_new_jobs(s, e);
    if (rc == 0)
        sched_given_settle(s);
    if (rc == 0)
        rc = sched_data_load(s, e); /* after the jobs: a job's own copies go with it */
    if (s->natts > 1)
        qsort(s->atts, s->natts, sizeof(*s->atts), cmp_att_ref);
    return rc;
}

/* Forget what memory holds of jobs and blocks and load it again from the
 * store, as a controller that has just opened does: after a failed step
 * memory may hold decisions the store never took (and SQLite may hand a
 * rolled-back attempt's id to the next one). */
static int reload(struct sched *s, struct err *e)
{
    size_t i;
    int rc;

    for (i = 0; i < s->njobs; i++)
        sjob_free(s->jobs[i]);
    s->njobs = s->natts = s->nwait = 0;
    s->ngended = s->nheld = 0;
    s->max_job_id = 0;
    drop_actions(s);
    store_blocks_free(s->blocks, s->nblocks);
    s->blocks = NULL;
    s->nblocks = 0;
    s->ended = 0;
    s->ngiven = 0;
    s->capacity_freed = 1;
    sched_patience_reset(s); /* the jobs come back unparked */
    rc = load_all(s, e);
    if (rc == 0)
        s->stale = 0;
    log_info("reloaded %zu active jobs from the store%s", s->njobs, rc ? " (failed)" : "");
    return rc;
}

int sched_step(struct sched *s, double *next_in, struct err *e)
{
    uint64_t gen;
    int rc;

    s->now = clock_now(s->p.clock);
    s->nsteps++;
    s->wake_again = 0;
    if (s->stale && (rc = reload(s, e)) != 0)
        goto fail;
    /* What the driver says happened comes before requests: a cancel filed
     * while the controller was down must bill the time the job ran.  And
     * before new prices: an attempt that ended before them (seen late,
     * after a restart on a new catalog) is billed at the price it ran at
     * to its end, not to the reprice. */
    if (!s->p.cfg.only_when_poked || s->poked) {
        if ((rc = load_new_jobs(s, e)) != 0)
            goto fail;
    }
    if ((rc = poll_events(s, e)) != 0)
        goto fail;
    if ((s->reprice_due || catalog_price_version(s->p.cat) != s->price_version) &&
        (rc = reprice(s, e)) != 0)
        goto fail;
    if (!s->p.cfg.only_when_poked || s->poked) {
        s->poked = 0;
        if ((rc = take_requests(s, e)) != 0)
            goto fail;
    }
    /* after the events: an attempt that ended gives its committed nodes on */
    if ((rc = sched_commit_bill(s, e)) != 0)
        goto fail;
    gen = s->cover_gen;
    /* Stages released by stages that ended in the events above are placed
     * in this step; a stage ending in placement (a spec no offer fits) is
     * acted on after it, and what it releases is placed at the next step,
     * at once (groups_again). */
    s->groups_again = 0;
    rc = sched_data_sweep(s, e);
    rc = rc != 0 ? rc : sched_check_deadlines(s, e);
    rc = rc != 0 ? rc : sched_groups(s, e);
    /* Nodes a stop of this step frees are free to the driver only once it
     * is made, after the commit: a job placed now would find them full and
     * go elsewhere (to on demand, while committed nodes free).  So a step
     * that stops machines (a cancel, a deadline's changeover, the stops a
     * dead controller filed) places nothing; the next, at once, does,
     * whatever it stops itself (a storm of cancels, a step each, must not
     * hold placement off). */
    s->stops_first = !s->stops_first && stops_queued(s);
    rc = rc != 0 || s->stops_first ? rc : sched_place_all(s, e);
    rc = rc != 0 ? rc : sched_groups(s, e);
    /* and again if placement ended an attempt: its nodes cover others now */
    if (rc == 0 && s->cover_gen != gen)
        rc = sched_commit_bill(s, e);
    if (rc != 0)
        goto fail;
    if ((rc = commit_and_act(s, e)) != 0)
        goto fail;
    /* the driver has this step's launches now: their reservations would
     * count them twice (a step that places nothing keeps the last ones) */
    s->nresv = 0;
    drop_finished(s);
    if (next_in) {
        *next_in = s->nsync > 0 || s->more_events || s->groups_again || s->restop ||
                           s->stops_first || s->promised || s->wake_again
                       ? 0
                       : next_wake(s);
        if (s->stop_refused) /* when the first refused stop is due */
            *next_in = next_retry(s, *next_in);
    }
    s->poked |= s->restop | s->stop_refused;
    return 0;

fail:
    /* Nothing of this step is stored: drop its actions, have the driver
     * tell this step's events again, and reload memory at the next step. */
    sched_tx_end(s, rc, e);
    drop_actions(s);
    /* its stops are made again by the next step, which places after them */
    s->stops_first = 0;
    driver_rewind(s->p.driver);
    if (next_in)
        *next_in = 1;
    return rc;
}

void sched_poke(struct sched *s)
{
    s->poked = 1;
}

static int cmp_att_ref(const void *a, const void *b)
{
    const struct att_ref *x = a, *y = b;

    return x->attempt_id < y->attempt_id ? -1 : x->attempt_id > y->attempt_id;
}

int sched_open(struct sched **out, const struct sched_params *p, struct err *e)
{
    struct sched *s = xcalloc(1, sizeof(*s));
    int rc;

    s->p = *p;
    plan_init(&s->plan);
    s->now = clock_now(p->clock);
    s->price_version = catalog_price_version(p->cat);
    /* A driver that outlived an earlier controller (in-process, as in the
     * crash tests) may have handed it events it never committed. */
    driver_rewind(p->driver);
    rc = load_all(s, e);
    /* The launches a dead controller left are issued again by the first
     * step, with the stops it filed as requests (take_requests): stops
     * first (commit_and_act), so that nodes it gave from one attempt to
     * another are never held by both. */
    if (rc == 0)
        rc = sched_tx_end(s, 0, e);
    if (rc != 0) {
        sched_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sched_close(struct sched *s)
{
    size_t i;

    if (s == NULL)
        return;
    if (s->in_tx)
        store_rollback(s->p.store);
    for (i = 0; i < s->njobs; i++)
        sjob_free(s->jobs[i]);
    drop_actions(s);
    free(s->jobs);
    free(s->wait);
    free(s->atts);
    free(s->acts);
    free(s->stopped);
    free(s->retry);
    free(s->sync_ev);
    free(s->resv);
    free(s->commit_used);
    free(s->commit_od);
    free(s->commit_promised);
    free(s->given);
    free(s->own_nodes);
    sched_patience_reset(s);
    free(s->parked);
    free(s->park_due);
    free(s->freed_nodes);
    free(s->failed);
    free(s->gended);
    store_blocks_free(s->blocks, s->nblocks);
    plan_free(&s->plan);
    sched_quota_free(s);
    sched_data_free(s);
    free(s);
}

size_t sched_active(const struct sched *s)
{
    return s->njobs;
}

uint64_t sched_transitions(const struct sched *s)
{
    return s->transitions;
}

/* ---- submit ---- */

static void job_from_spec(struct store_job *j, const struct spec *sp, double now)
{
    j->name = xstrdup(sp->name);
    j->kind = (int)sp->kind;
    j->team = sp->team ? xstrdup(sp->team) : NULL;
    j->priority = sp->priority;
    j->state = JOB_PENDING;
    j->reason = xstrdup("submitted");
    j->submitted_at = now;
    j->deadline_at = sp->deadline_at > 0 ? sp->deadline_at
                     : sp->deadline_s > 0 ? now + sp->deadline_s
                                          : 0;
    j->exit_code = -1;
}

int sched_submit(struct store *st, const char *spec_path, const char *spec_text,
                 const char *policy_text, double now, int64_t *job_id, struct err *e)
{
    struct spec *sp = NULL;
    struct policy *pol = NULL;
    int rc;

    if ((rc = spec_load_mem(&sp, spec_path, spec_text, strlen(spec_text), e)) != 0)
        return rc;
    if (policy_text)
        rc = policy_load_mem(&pol, "policy", policy_text, strlen(policy_text), e);
    if (rc == 0)
        rc = sched_submit_parsed(st, spec_path, spec_text, sp, policy_text, now, job_id, e);
    spec_free(sp);
    policy_free(pol);
    return rc;
}

/* home: the spec whose dataset's home the submit records (NULL = none). */
static int submit(struct store *st, struct store_job *j, const struct spec *home,
                  const char *spec_path, const char *spec_text, const char *policy_text,
                  double now, int64_t *job_id, struct err *e)
{
    int rc;

    j->spec_path = xstrdup(spec_path);
    j->spec_text = xstrdup(spec_text);
    j->policy_text = policy_text ? xstrdup(policy_text) : NULL;
    rc = store_begin(st, e);
    if (rc == 0 && home != NULL) /* before the job that names it */
        rc = sched_data_note_home(st, home, 0, now, e);
    if (rc == 0 && (rc = store_job_insert(st, j, e)) == 0)
        rc = store_event_append(st, j->id, 0, now, "submitted", -1, JOB_PENDING,
                                spec_path, NULL, e);
    if (rc == 0)
        rc = store_commit(st, e);
    else
        store_rollback(st);
    *job_id = j->id;
    store_job_clear(j);
    return rc;
}

/* A job row from a parsed spec, submitted; with note_home its dataset's
 * home is recorded too. */
static int submit_spec(struct store *st, const struct spec *sp, int note_home,
                       const char *spec_path, const char *spec_text,
                       const char *policy_text, double now, int64_t *job_id,
                       struct err *e)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    job_from_spec(&j, sp, now);
    return submit(st, &j, note_home ? sp : NULL, spec_path, spec_text, policy_text, now,
                  job_id, e);
}

/* The shortest run sp's alternatives take, in seconds (its duration on the
 * first over the fastest's speed), and that one's index in *which: among
 * those the planner finds a place for under the policy in force (pol, NULL =
 * none) -- an offer of its accelerators where the spec and the policy let it
 * run, in a mode the policy allows, under its price cap -- and of a speed the
 * throughput table knows (an assumed speed does not make a shorter deadline
 * possible).  Without a catalog, or when none is left, its duration.  Team
 * quotas are not counted: they change while a job waits.  -1 when the
 * planner finds no place at all (it says why when the job is placed). */
static double fastest_run(const struct catalog *cat, const struct policy *pol,
                          const struct spec *sp, double now, size_t *which)
{
    struct plan_opts opts = {.now = now, .top = 1};
    struct plan p;
    struct err pe;
    double best = -1;
    size_t i;

    *which = 0;
    if (cat == NULL || !spec_alts_differ(sp))
        return sp->duration_s; /* alternatives that run alike: the first's */
    plan_init(&p);
    err_clear(&pe);
    if (plan_rank(&p, cat, sp, pol, &opts, &pe) != 0) {
        plan_free(&p);
        return -1;
    }
    for (i = 0; i < sp->nres; i++) {
        const struct plan_alt *a = &p.alts[i];
        double run = sp->duration_s / a->speed;

        if (a->nonspot + a->spot == 0 || !a->known || !(a->speed > 0))
            continue; /* it cannot run, or its speed is not known */
        if (best < 0 || run < best)
            best = run, *which = i;
    }
    plan_free(&p);
    if (best < 0)
        *which = sp->nres; /* none with a place is of known speed */
    return best < 0 ? sp->duration_s : best;
}

double sched_min_run(const struct catalog *cat, const struct policy *pol,
                     const struct spec *sp, double now)
{
    size_t k;
    double run;

    if (!(sp->duration_s > 0) || (cat == NULL && spec_alts_differ(sp)))
        return 0; /* without a catalog, alternatives that differ: not known */
    run = fastest_run(cat, pol, sp, now, &k);
    return run < 0 ? sp->duration_s : run;
}

int sched_deadline_check(const struct catalog *cat, const struct policy *pol,
                         const struct spec *sp, const char *file, double now,
                         struct err *e)
{
    return sched_deadline_check_after(cat, pol, sp, file, now, 0, e);
}

/* Alternative k of sp as the deadline check names it: its accelerators
 * ("H100:8"), and the instance type when the spec names only that. */
static const char *alt_text(const struct catalog *cat, const struct spec *sp, size_t k,
                            char *buf, size_t n)
{
    const struct spec_res *r = &sp->res[k];
    const char *acc = NULL;
    int count = 0;
    double part = 0;
    char shape[96];

    if (cat == NULL || !plan_alt_shape(cat, sp, k, &acc, &count, &part) || *acc == '\0')
        snprintf(shape, sizeof(shape), "%s",
                 r->accelerator     ? r->accelerator
                 : r->instance_type ? r->instance_type
                                    : "CPU");
    else
        catalog_shape(shape, sizeof(shape), acc, count, part);
    snprintf(buf, n, "%s%s%s", shape,
             r->accelerator == NULL && r->instance_type ? " on " : "",
             r->accelerator == NULL && r->instance_type ? r->instance_type : "");
    return buf;
}

int sched_deadline_check_after(const struct catalog *cat, const struct policy *pol,
                               const struct spec *sp, const char *file, double now,
                               double after_s, struct err *e)
{
    char when[32], d1[32], d2[32], d3[32], what[720] = "stratus.duration", after[96] = "";
    time_t t = (time_t)sp->deadline_at;
    int differ = spec_alts_differ(sp);
    double left =
               (sp->deadline_at > 0 ? sp->deadline_at - now : sp->deadline_s) - after_s,
           run;
    size_t k;
    struct tm tm;

    if (!(sp->duration_s > 0) || (sp->deadline_at <= 0 && !(sp->deadline_s > 0)))
        return 0;
    if (sp->deadline_at > 0) {
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (differ && cat == NULL && !(sp->deadline_at > 0 && sp->deadline_at <= now))
        return 0; /* which alternative it gets decides: checked with the catalog */
    if (after_s > 0)
        snprintf(after, sizeof(after), ", after the stages before it (at least %s)",
                 str_duration(d3, sizeof(d3), after_s));
    run = fastest_run(cat, pol, sp, now, &k);
    if (sp->deadline_at > 0 && sp->deadline_at <= now)
        return err_at(
            e, ST_EINVAL, file, sp->deadline_line, sp->deadline_col,
            "stratus.deadline (%s) has passed (%s ago); give a later date, or a "
            "duration after submission such as 48h",
            when, str_duration(d1, sizeof(d1), now - sp->deadline_at));
    if (left >= run || run < 0)
        return 0; /* run < 0: no place at all, which placement reports */
    if (differ) {
        char shape[200], kept[320] = "";
        const struct policy_rule *rule = policy_match(pol, sp);
        size_t k2;
        double run2 = rule != NULL ? fastest_run(cat, NULL, sp, now, &k2) : run;

        /* a faster alternative the policy keeps out: say which rule */
        if (run2 >= 0 && run2 < run && k2 < sp->nres) {
            char shape2[200];

            snprintf(kept, sizeof(kept), "; policy rule '%s' keeps it off %s (%s)",
                     rule->name, alt_text(cat, sp, k2, shape2, sizeof(shape2)),
                     str_duration(d3, sizeof(d3), run2));
        }
        if (k == sp->nres) /* its first has no place; the others' speed is not known */
            snprintf(what, sizeof(what),
                     "stratus.duration (%s, the run on %s, which has no place it may run "
                     "on%s; the alternatives that have are of speeds catalog "
                     "throughput.csv does not know, and none counts as faster)",
                     str_duration(d2, sizeof(d2), run),
                     alt_text(cat, sp, 0, shape, sizeof(shape)),
                     rule != NULL ? " under the policy" : "");
        else
            snprintf(what, sizeof(what),
                     "the run on its fastest alternative%s, %s (%s%s)%s",
                     rule != NULL ? " the policy allows" : "",
                     alt_text(cat, sp, k, shape, sizeof(shape)),
                     str_duration(d2, sizeof(d2), run),
                     k == 0 ? "" : ", catalog throughput.csv", kept);
    } else {
        snprintf(what, sizeof(what), "stratus.duration (%s)",
                 str_duration(d2, sizeof(d2), sp->duration_s));
    }
    if (sp->deadline_at <= 0)
        return err_at(
            e, ST_EINVAL, file, sp->deadline_line, sp->deadline_col,
            "stratus.deadline (%s) is shorter than %s%s: the job cannot finish in "
            "time",
            str_duration(d1, sizeof(d1), sp->deadline_s), what, after);
    return err_at(
        e, ST_EINVAL, file, sp->deadline_line, sp->deadline_col,
        "stratus.deadline (%s) is %s from now, shorter than %s%s: the job cannot "
        "finish in time; give a later date",
        when, str_duration(d1, sizeof(d1), left + after_s), what, after);
}

int sched_submit_parsed(struct store *st, const char *spec_path, const char *spec_text,
                        const struct spec *sp, const char *policy_text, double now,
                        int64_t *job_id, struct err *e)
{
    int rc = sched_deadline_check(NULL, NULL, sp, spec_path, now, e);

    return rc != 0 ? rc
                   : submit_spec(st, sp, 1, spec_path, spec_text, policy_text, now,
                                 job_id, e);
}

int sched_submit_trace(struct store *st, const struct spec *sp, double now,
                       int64_t *job_id, struct err *e)
{
    return submit_spec(st, sp, 0, "trace", "", NULL, now, job_id, e);
}

int sched_submit_replica(struct store *st, const char *spec_path, const char *spec_text,
                         const struct spec *sp, const char *policy_text,
                         const struct store_job *tmpl, double now, int64_t *job_id,
                         struct err *e)
{
    struct store_job j;

    memset(&j, 0, sizeof(j));
    job_from_spec(&j, sp, now);
    if (tmpl->name) {
        free(j.name);
        j.name = xstrdup(tmpl->name);
    }
    j.service_id = tmpl->service_id;
    j.svc_version = tmpl->svc_version;
    j.port = tmpl->port;
    j.svc_mode = tmpl->svc_mode;
    return submit(st, &j, sp, spec_path, spec_text, policy_text, now, job_id, e);
}

/* Stage k (from 0) of pl as a job row: held stages say what they wait for. */
static void stage_job(struct store_job *j, const struct pipeline *pl, size_t k,
                      const char *spec_path, const char *policy_text, double now)
{
    const struct pipeline_stage *st = &pl->stages[k];

    memset(j, 0, sizeof(*j));
    job_from_spec(j, st->spec, now);
    j->spec_path = xstrdup(spec_path);
    j->spec_text = xstrdup(st->text);
    j->policy_text = policy_text ? xstrdup(policy_text) : NULL;
    j->stage = (int)k + 1;
    j->group_mode = (int)pl->mode;
    j->group_primary = st->primary;
    j->group_name = xstrdup(pl->name);
    if (pl->mode == PIPE_SERIAL && k > 0) {
        free(j->reason);
        j->reason = xasprintf("waiting for stage %zu '%s'", k, pl->stages[k - 1].spec->name);
    }
}

static int insert_stage(struct store *st, struct store_job *j, const struct pipeline *pl,
                        double now, int64_t *ids, size_t k, struct err *e)
{
    int rc;

    j->group_id = k > 0 ? ids[0] : 0;
    rc = store_job_insert(st, j, e);
    if (rc == 0 && k == 0) {
        j->group_id = j->id; /* the first stage's id names the group */
        rc = store_job_update(st, j, e);
    }
    ids[k] = j->id;
    if (rc == 0)
        rc = store_event_append(st, j->id, 0, now, "submitted", -1, JOB_PENDING, j->spec_path,
                                NULL, e);
    if (rc == 0) {
        char *msg = xasprintf("stage %d of %zu of %s '%s' (group %lld)", j->stage, pl->n,
                              pipeline_mode_name(pl->mode), pl->name, (long long)ids[0]);

        rc = store_event_append(st, j->id, 0, now, "stage", -1, -1, msg, NULL, e);
        free(msg);
    }
    return rc;
}

int sched_submit_group(struct store *st, const char *spec_path, const struct pipeline *pl,
                       const char *policy_text, double now, int64_t *ids, struct err *e)
{
    double before = 0; /* a stage starts after those before it */
    size_t k;
    int rc = 0;

    for (k = 0; rc == 0 && k < pl->n; k++) {
        rc = sched_deadline_check_after(NULL, NULL, pl->stages[k].spec, spec_path, now,
                                        before, e);
        if (pl->mode == PIPE_SERIAL)
            before += sched_min_run(NULL, NULL, pl->stages[k].spec, now);
    }
    if (rc != 0 || (rc = store_begin(st, e)) != 0)
        return rc;
    for (k = 0; rc == 0 && k < pl->n; k++) /* before the stages that name them */
        rc = sched_data_note_home(st, pl->stages[k].spec, 0, now, e);
    for (k = 0; rc == 0 && k < pl->n; k++) {
        struct store_job j;

        stage_job(&j, pl, k, spec_path, policy_text, now);
        rc = insert_stage(st, &j, pl, now, ids, k, e);
        store_job_clear(&j);
    }
    if (rc == 0)
        rc = store_commit(st, e);
    else
        store_rollback(st);
    return rc;
}
