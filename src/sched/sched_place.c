/*
 * sched_place.c - where the controller puts jobs (see sched.h).
 *
 * Layout: location blocks (failover cooldown); the deadline rule; the
 * candidate filter; placing one job (failover down the planner's ranking);
 * displacing a lower-priority spot job; placing every waiting job in
 * priority order.
 */
#include "sched_int.h"
#include "../catalog/catalog.h"
#include "../spec/spec.h"
#include "../util/log.h"
#include "../util/xmem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- blocks ---- */

int sched_block(struct sched *s, const struct store_attempt *a, int whole_region,
                const char *why, struct err *e)
{
    struct store_block b = {a->cloud, a->region, whole_region ? "" : a->zone,
                            whole_region ? "" : a->instance_type,
                            s->now + s->p.cfg.block_cooldown_s, (char *)0};
    int rc;

    b.reason = xstrdup(why);
    rc = sched_tx(s, e);
    if (rc == 0)
        rc = store_block_add(s->p.store, &b, e);
    free(b.reason);
    if (rc != 0)
        return rc;
    s->blocks = xrealloc(s->blocks, (s->nblocks + 1) * sizeof(*s->blocks));
    memset(&s->blocks[s->nblocks], 0, sizeof(*s->blocks));
    s->blocks[s->nblocks].cloud = xstrdup(b.cloud);
    s->blocks[s->nblocks].region = xstrdup(b.region);
    s->blocks[s->nblocks].zone = xstrdup(b.zone);
    s->blocks[s->nblocks].instance_type = xstrdup(b.instance_type);
    s->blocks[s->nblocks].until = b.until;
    s->nblocks++;
    return 0;
}

static int refresh_blocks(struct sched *s, struct err *e)
{
    store_blocks_free(s->blocks, s->nblocks);
    s->blocks = NULL;
    s->nblocks = 0;
    return store_block_list(s->p.store, s->now, &s->blocks, &s->nblocks, e);
}

static int blocked(const struct sched *s, const struct offer *o)
{
    size_t i;

    for (i = 0; i < s->nblocks; i++) {
        const struct store_block *b = &s->blocks[i];

        if (b->until > s->now && strcmp(b->cloud, o->cloud) == 0 &&
            strcmp(b->region, o->region) == 0 && (!*b->zone || strcmp(b->zone, o->zone) == 0) &&
            (!*b->instance_type || strcmp(b->instance_type, o->instance_type) == 0))
            return 1;
    }
    return 0;
}

/* ---- the deadline rule ----
 *
 * Rule implemented: Uniform Progress with its safety net, after "Can't Be
 * Late" (Wu et al., NSDI '24).  For a job with a deadline and a duration:
 *   progress = compute saved in checkpoints (+ the live attempt's run time)
 *   slack    = (deadline - now) - (duration - progress)
 *   c        = what one more preemption costs: relaunch overhead + restore
 *              + one checkpoint interval (the work since the last one)
 *   line     = duration x (now - submitted) / (deadline - c - submitted),
 *              the progress a job making uniform progress would have made
 * - Safety net: once slack < c, another preemption could make the job miss
 *   its deadline, so it goes on demand for good (latched); a running spot
 *   attempt is stopped and resumed on demand from its checkpoint.
 * - Uniform progress: a job ahead of the line waits for spot capacity
 *   rather than pay for on-demand; a job behind it takes spot if there is
 *   some and on-demand otherwise (the planner's order: cheapest first).
 */
enum mode_rule { MODE_ANY, MODE_SPOT_ONLY, MODE_ON_DEMAND_ONLY };

static double preemption_cost(const struct sched *s, const struct sjob *sj)
{
    return s->p.cfg.relaunch_overhead_s + sj->spec->ckpt_restore_s +
           (sj->spec->ckpt_interval_s > 0 ? sj->spec->ckpt_interval_s : sj->spec->duration_s);
}

static double slack(const struct sched *s, const struct sjob *sj)
{
    return (sj->j.deadline_at - s->now) - (sj->spec->duration_s - sched_progress(s, sj));
}

static int has_deadline(const struct sjob *sj)
{
    return sj->j.deadline_at > 0 && sj->spec->duration_s > 0;
}

static int deadline_rule_on(const struct sched *s, const struct sjob *sj)
{
    return s->p.cfg.deadline_rule && has_deadline(sj);
}

/* Latch on-demand for a job whose slack can no longer absorb a preemption. */
static int safety_net(struct sched *s, struct sjob *sj, struct err *e)
{
    double sl = slack(s, sj), c = preemption_cost(s, sj);

    if (sj->j.on_demand_only || !deadline_rule_on(s, sj) || sl >= c)
        return 0;
    sj->j.on_demand_only = 1;
    if (sched_log(s, sj, "deadline", e,
                  "slack %.1f s < one preemption (%.1f s): on-demand from now on", sl, c) != 0)
        return e->code;
    return store_job_update(s->p.store, &sj->j, e);
}

/* Which modes this placement may use (after the safety net has run). */
static enum mode_rule mode_rule(const struct sched *s, const struct sjob *sj)
{
    double horizon, line;

    if (sj->j.on_demand_only)
        return MODE_ON_DEMAND_ONLY;
    if (!deadline_rule_on(s, sj))
        return MODE_ANY;
    horizon = sj->j.deadline_at - preemption_cost(s, sj) - sj->j.submitted_at;
    line = horizon > 0 ? sj->spec->duration_s * fmin(1.0, (s->now - sj->j.submitted_at) / horizon)
                       : sj->spec->duration_s;
    return sched_progress(s, sj) >= line && sj->j.nattempts > 0 ? MODE_SPOT_ONLY : MODE_ANY;
}

int sched_check_deadlines(struct sched *s, struct err *e)
{
    size_t i;
    int rc;

    if (!s->p.cfg.deadline_rule || s->now < s->next_deadline_check)
        return 0;
    s->next_deadline_check = s->now + s->p.cfg.deadline_check_s;
    for (i = 0; i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];

        if (sj->j.on_demand_only || job_state_terminal(sj->j.state))
            continue;
        if ((rc = safety_net(s, sj, e)) != 0)
            return rc;
        if (!sj->j.on_demand_only || sj->j.cur_attempt == 0 || sj->att.mode != PLAN_SPOT)
            continue;
        if ((rc = sched_end_attempt(s, sj, ATT_END_DISPLACED, -1, 0, e)) != 0 ||
            (rc = sched_recover(s, sj, 0, e,
                                "deadline: switching from spot to on-demand, resuming from "
                                "the checkpoint")) != 0)
            return rc;
    }
    return 0;
}

/* ---- candidates ---- */

static long reserved(const struct sched *s, const struct offer *o)
{
    long n = 0;
    size_t i;

    for (i = 0; i < s->nresv; i++)
        if (s->resv[i].cloud == o->cloud && s->resv[i].region == o->region &&
            s->resv[i].zone == o->zone && s->resv[i].instance_type == o->instance_type)
            n += s->resv[i].nodes;
    return n;
}

static void reserve(struct sched *s, const struct offer *o, long nodes)
{
    struct reservation r = {o->cloud, o->region, o->zone, o->instance_type, nodes};

    s->resv = xgrow(s->resv, &s->resv_cap, s->nresv + 1, sizeof(*s->resv));
    s->resv[s->nresv++] = r;
}

/* Why a ranked candidate cannot be used now. */
enum unusable { USE_OK = -1, NOT_DEADLINE, NOT_BLOCKED, NOT_AVOIDED, NOT_FULL, NOT__N };

static enum unusable unusable(struct sched *s, const struct sjob *sj, const struct plan_cand *c,
                              enum mode_rule rule, int avoid)
{
    const struct offer *o = catalog_offer(s->p.cat, c->offer);
    long free_nodes;

    if ((rule == MODE_ON_DEMAND_ONLY && c->mode == PLAN_SPOT) ||
        (rule == MODE_SPOT_ONLY && c->mode != PLAN_SPOT))
        return NOT_DEADLINE;
    if (blocked(s, o))
        return NOT_BLOCKED;
    if (avoid && sj->avoid && strncmp(sj->avoid, o->cloud, strlen(o->cloud)) == 0 &&
        strcmp(sj->avoid + strlen(o->cloud) + 1, o->region) == 0)
        return NOT_AVOIDED;
    free_nodes = driver_capacity(s->p.driver, o->cloud, o->region, o->zone, o->instance_type,
                                 c->mode == PLAN_SPOT);
    if (free_nodes >= 0 && free_nodes - reserved(s, o) < c->nodes)
        return NOT_FULL;
    return USE_OK;
}

static int create_attempt(struct sched *s, struct sjob *sj, const struct plan_cand *c,
                          struct err *e)
{
    const struct offer *o = catalog_offer(s->p.cat, c->offer);
    struct store_attempt *a = &sj->att;
    int64_t prev = a->id;
    int rc;

    store_attempt_clear(a);
    memset(a, 0, sizeof(*a));
    a->job_id = sj->j.id;
    a->n = ++sj->j.nattempts;
    a->state = ATT_LAUNCHING;
    a->cloud = xstrdup(o->cloud);
    a->region = xstrdup(o->region);
    a->zone = xstrdup(o->zone);
    a->instance_type = xstrdup(o->instance_type);
    a->accelerator = xstrdup(o->accelerator);
    a->acc_count = o->acc_count;
    a->nodes = c->nodes;
    a->mode = c->mode;
    a->price_hour = c->price_hour;
    a->launched_at = s->now;
    a->exit_code = -1;
    a->ckpt_from = sj->spec->ckpt_interval_s > 0 ? prev : 0;
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_attempt_insert(s->p.store, a, e)) != 0)
        return rc;
    sj->j.cur_attempt = a->id;
    sj->offer = (long)c->offer;
    sched_index_attempt(s, a->id, sj);
    sched_nodes_reset(sj, a->nodes);
    reserve(s, o, c->nodes);
    sched_act(s, ACT_LAUNCH, a->id, sj);
    return sched_transition(s, sj, JOB_PROVISIONING, e,
                            "launching attempt %d on %s/%s%s%s: %d x %s %s at $%.2f/node-h "
                            "(rank %zu, expected $%.2f)",
                            a->n, a->cloud, a->region, *a->zone ? "/" : "", a->zone, a->nodes,
                            a->instance_type, plan_mode_name(a->mode), a->price_hour,
                            (size_t)(c - s->plan.c) + 1, c->expected);
}

/* ---- displacement ---- */

/* A running lower-priority spot job on an offer this job could use. */
static struct sjob *victim(struct sched *s, const struct sjob *sj)
{
    struct sjob *best = NULL;
    size_t i, k;

    for (i = 0; i < s->njobs; i++) {
        struct sjob *v = s->jobs[i];

        if (v->j.priority >= sj->j.priority || v->j.cur_attempt == 0 ||
            v->att.mode != PLAN_SPOT || v->att.state != ATT_RUNNING)
            continue;
        for (k = 0; k < s->plan.n; k++) {
            const struct offer *o = catalog_offer(s->p.cat, s->plan.c[k].offer);

            if (strcmp(o->cloud, v->att.cloud) == 0 && strcmp(o->region, v->att.region) == 0 &&
                strcmp(o->zone, v->att.zone) == 0 &&
                strcmp(o->instance_type, v->att.instance_type) == 0 &&
                v->att.nodes >= s->plan.c[k].nodes &&
                (best == NULL || v->j.priority < best->j.priority))
                best = v;
        }
    }
    return best;
}

static int displace(struct sched *s, struct sjob *sj, struct sjob *v, struct err *e)
{
    int rc;

    if ((rc = sched_end_attempt(s, v, ATT_END_DISPLACED, -1, 0, e)) != 0 ||
        (rc = sched_recover(s, v, 0, e, "displaced by higher-priority job %lld (%s, priority %d)",
                            (long long)sj->j.id, sj->j.name, sj->j.priority)) != 0)
        return rc;
    /* Retry once the victim's nodes are gone, not in this same step. */
    v->j.next_try_at = s->now + s->p.cfg.backoff_base_s;
    sj->j.next_try_at = 0;
    return sched_log(s, sj, "displace", e, "stopping job %lld (priority %d) to make room",
                     (long long)v->j.id, v->j.priority);
}

/* ---- placing ---- */

static int wait_for_capacity(struct sched *s, struct sjob *sj, const char *why, struct err *e)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "waiting for capacity: %s", why);
    sj->waiting = 1;
    sj->j.next_try_at = s->now + s->p.cfg.wait_retry_s;
    if (sched_tx(s, e) != 0)
        return e->code;
    if (sj->j.reason && strcmp(sj->j.reason, msg) == 0)
        return store_job_update(s->p.store, &sj->j, e);
    free(sj->j.reason);
    sj->j.reason = xstrdup(msg);
    if (sched_log(s, sj, "waiting", e, "%s", msg) != 0)
        return e->code;
    return store_job_update(s->p.store, &sj->j, e);
}

static int plan_has_spot(const struct plan *p)
{
    size_t k;

    for (k = 0; k < p->n; k++)
        if (p->c[k].mode == PLAN_SPOT)
            return 1;
    return 0;
}

/* The first usable candidate among the ranked ones, or NULL; counts why the
 * others were passed over. */
static const struct plan_cand *first_usable(struct sched *s, const struct sjob *sj,
                                            enum mode_rule rule, size_t *counts)
{
    size_t k;
    int pass;

    /* First pass honours eager-next-region; the second drops it rather than wait. */
    for (pass = 0; pass < 2; pass++) {
        for (k = 0; k < s->plan.n; k++) {
            enum unusable u = unusable(s, sj, &s->plan.c[k], rule, pass == 0);

            if (u == USE_OK)
                return &s->plan.c[k];
            if (pass == 0)
                counts[u]++;
        }
        if (sj->avoid == NULL)
            break;
    }
    return NULL;
}

/* Placement needs only the best few candidates: rank the top k, and widen
 * (x8) only while none of them can be used and more exist. */
static int rank_and_pick(struct sched *s, struct sjob *sj, const struct plan_cand **pick,
                         enum mode_rule *rule, size_t *counts, struct err *e)
{
    struct plan_opts opts = {s->now, 32, s->p.cfg.rank_by_price};
    int rc;

    for (;;) {
        memset(counts, 0, NOT__N * sizeof(*counts));
        if ((rc = plan_rank(&s->plan, s->p.cat, sj->spec, sj->rule_pol, &opts, e)) != 0)
            return rc;
        if (opts.top == 32) {
            if ((rc = safety_net(s, sj, e)) != 0)
                return rc;
            *rule = mode_rule(s, sj);
            if (*rule == MODE_SPOT_ONLY && !plan_has_spot(&s->plan))
                *rule = MODE_ANY; /* spec or policy rule spot out: nothing to wait for */
        }
        *pick = first_usable(s, sj, *rule, counts);
        if (*pick != NULL || s->plan.n >= s->plan.feasible)
            return 0;
        opts.top *= 8;
    }
}

static int place_one(struct sched *s, struct sjob *sj, struct err *e)
{
    size_t counts[NOT__N] = {0};
    const struct plan_cand *pick = NULL;
    enum mode_rule rule = MODE_ANY;
    struct sjob *v;
    char why[200];
    int rc = rank_and_pick(s, sj, &pick, &rule, counts, e);

    if (rc != 0)
        return sched_transition(s, sj, JOB_FAILED, e, "cannot be placed: %s", e->msg);
    sj->waiting = 0;
    if (pick != NULL)
        return create_attempt(s, sj, pick, e);
    if (s->p.cfg.preempt_lower_priority && (v = victim(s, sj)) != NULL)
        return displace(s, sj, v, e);
    snprintf(why, sizeof(why), "%zu candidates: %zu full, %zu blocked after a stockout%s",
             s->plan.feasible, counts[NOT_FULL], counts[NOT_BLOCKED],
             rule == MODE_ON_DEMAND_ONLY ? ", spot ruled out by the deadline"
             : rule == MODE_SPOT_ONLY    ? ", ahead of schedule: waiting for spot"
                                         : "");
    return wait_for_capacity(s, sj, why, e);
}

static int by_priority(const void *a, const void *b)
{
    const struct sjob *x = *(const struct sjob *const *)a, *y = *(const struct sjob *const *)b;

    if (x->j.priority != y->j.priority)
        return x->j.priority > y->j.priority ? -1 : 1;
    if (x->j.submitted_at != y->j.submitted_at)
        return x->j.submitted_at < y->j.submitted_at ? -1 : 1;
    return x->j.id < y->j.id ? -1 : x->j.id > y->j.id;
}

/* Waiting jobs to consider now: those whose time has come, and every job
 * waiting for capacity when an attempt has ended (room may have freed). */
static int due(const struct sched *s, const struct sjob *sj)
{
    if (sj->j.state != JOB_PENDING && sj->j.state != JOB_RECOVERING)
        return 0;
    return sj->j.next_try_at <= s->now || (s->capacity_freed && sj->waiting);
}

/* Jobs of one shape (alternatives, nodes, policy, mode rule) that found no
 * room in a step all find none: remember the shape and skip the rest.  The
 * key is approximate on purpose (blocks and eager-next-region differ per
 * job only after a failure, and then the job is simply tried next step). */
static int shape_failed(struct sched *s, const struct sjob *sj, int record)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < sj->spec->nres; i++) {
        const char *a = sj->spec->res[i].accelerator ? sj->spec->res[i].accelerator : "";

        for (; *a; a++)
            h = (h ^ (unsigned char)*a) * 1099511628211ULL;
        h = (h ^ (uint64_t)sj->spec->res[i].acc_count) * 1099511628211ULL;
        h = (h ^ (uint64_t)(sj->spec->res[i].use_spot + 2)) * 1099511628211ULL;
    }
    h = (h ^ (uint64_t)sj->spec->num_nodes) * 1099511628211ULL;
    h = (h ^ (uint64_t)(uintptr_t)sj->rule_pol) * 1099511628211ULL;
    h = (h ^ (uint64_t)sj->j.on_demand_only) * 1099511628211ULL;
    if (sj->avoid != NULL || has_deadline(sj))
        return 0; /* individual: never share a verdict */
    for (i = 0; i < s->nfailed; i++)
        if (s->failed[i] == h)
            return 1;
    if (record) {
        s->failed = xgrow(s->failed, &s->failed_cap, s->nfailed + 1, sizeof(*s->failed));
        s->failed[s->nfailed++] = h;
    }
    return 0;
}

int sched_place_all(struct sched *s, struct err *e)
{
    struct sjob **wait = NULL;
    size_t i, k = 0, n = 0;
    int rc = 0;

    s->nresv = 0;
    s->nfailed = 0;
    /* Drop from the list the jobs that have moved on; count the due ones. */
    for (i = 0; i < s->nwait; i++) {
        struct sjob *sj = s->wait[i];

        if (sj->j.state != JOB_PENDING && sj->j.state != JOB_RECOVERING) {
            sj->in_wait = 0;
            continue;
        }
        s->wait[k++] = sj;
        n += due(s, sj);
    }
    s->nwait = k;
    if (n == 0) {
        s->capacity_freed = 0;
        return 0;
    }
    if ((rc = refresh_blocks(s, e)) != 0)
        return rc;
    wait = xcalloc(n, sizeof(*wait));
    for (i = 0, n = 0; i < s->nwait; i++)
        if (due(s, s->wait[i]))
            wait[n++] = s->wait[i];
    s->capacity_freed = 0;
    qsort(wait, n, sizeof(*wait), by_priority);
    for (i = 0; rc == 0 && i < n; i++) {
        struct sjob *sj = wait[i];

        if (sj->j.state != JOB_PENDING && sj->j.state != JOB_RECOVERING)
            continue;
        if (sj->waiting && shape_failed(s, sj, 0))
            continue; /* same shape found no room this step: stays waiting */
        rc = place_one(s, sj, e);
        if (rc == 0 && sj->waiting)
            shape_failed(s, sj, 1);
    }
    free(wait);
    return rc;
}
