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
#include "../policy/policy.h"
#include "../spec/spec.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- blocks ---- */

/* The accelerator a block of an offer or attempt of accelerator acc names
 * (SCHED_BLOCK_CPU for CPU-only ones). */
static const char *block_acc(const char *acc)
{
    return acc == NULL || *acc == '\0' ? SCHED_BLOCK_CPU : acc;
}

int sched_block(struct sched *s, const struct store_attempt *a, int whole_region,
                const char *why, struct err *e)
{
    struct store_block b = {a->cloud,
                            a->region,
                            whole_region ? "" : a->zone,
                            whole_region ? "" : a->instance_type,
                            s->now +
                                sched_cfg_at(s, a->cloud, a->region)->block_cooldown_s,
                            (char *)0,
                            (char *)0};
    int rc;

    b.reason = xstrdup(why);
    b.accelerator = xstrdup(whole_region ? "" : block_acc(a->accelerator));
    rc = sched_tx(s, e);
    if (rc == 0)
        rc = store_block_add(s->p.store, &b, e);
    free(b.reason);
    if (rc != 0) {
        free(b.accelerator);
        return rc;
    }
    s->blocks = xrealloc(s->blocks, (s->nblocks + 1) * sizeof(*s->blocks));
    memset(&s->blocks[s->nblocks], 0, sizeof(*s->blocks));
    s->blocks[s->nblocks].cloud = xstrdup(b.cloud);
    s->blocks[s->nblocks].region = xstrdup(b.region);
    s->blocks[s->nblocks].zone = xstrdup(b.zone);
    s->blocks[s->nblocks].instance_type = xstrdup(b.instance_type);
    s->blocks[s->nblocks].accelerator = b.accelerator; /* its own copy */
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

int sched_block_covers(const struct store_block *b, const struct offer *o)
{
    return strcmp(b->cloud, o->cloud) == 0 && strcmp(b->region, o->region) == 0 &&
           (!*b->zone || strcmp(b->zone, o->zone) == 0) &&
           (!*b->instance_type || strcmp(b->instance_type, o->instance_type) == 0) &&
           (b->accelerator == NULL || !*b->accelerator ||
            strcmp(b->accelerator, block_acc(o->accelerator)) == 0);
}

static int blocked(const struct sched *s, const struct offer *o)
{
    size_t i;

    for (i = 0; i < s->nblocks; i++)
        if (s->blocks[i].until > s->now && sched_block_covers(&s->blocks[i], o))
            return 1;
    return 0;
}

/* ---- the deadline rule ----
 *
 * The rules of "Can't Be Late: Optimizing Spot Instance Savings under
 * Deadlines" (Wu et al., NSDI '24), for a job with duration C0 submitted at
 * t0 with deadline t0 + R0.  At time t:
 *   cp(t)   progress: work actually done (sched_progress: restores are not
 *           work), saved in checkpoints or made by the live attempt
 *   ep(t)   the uniform-progress line, C0 x (t - t0) / R0 (§5.2.1)
 *   slack   R(t) - C(t) = (deadline - t) - (C0 - cp) / speed, work in
 *           seconds of the spec's first alternative and speed that of the
 *           live attempt (sched_att_speed: a spec with alternatives runs
 *           longer on a slower accelerator), or, for a job not running, of
 *           its on-demand fallback (idle_speed).  A job not running takes
 *           no alternative too slow for its deadline while the counted one
 *           is on time: `late` below.  Once on a slower one, the rules
 *           below use its speed.
 *   d       the changeover delay (§3.1): the launch, the restore of the
 *           checkpoint, and the work a preemption loses (one checkpoint
 *           interval at most; all of it without checkpoints, at the same
 *           speed as the slack)
 * Rules applied (the paper's names):
 *   Safety Net (§3.3)   idle and slack < 2d: on-demand until the end
 *                       (latched); a job already on on-demand latches the
 *                       same way rather than leave it.  A spot attempt still
 *                       in its changeover when slack < d moves to on-demand
 *                       (the rest of its changeover could not be absorbed).
 *   Exploitation (§3.3) a job on a working spot attempt stays on it until it
 *                       is preempted, even once it would rather be on
 *                       on-demand: slack does not shrink while it works, and
 *                       it was >= d when the attempt started working.
 *   Uniform Progress (§5.2.2, rule 1) idle and cp < ep: on-demand when no
 *                       spot is to be had; ahead of the line, wait for spot.
 *   Taking Risks (rule 2) spot whenever it is available, even behind the line.
 *   Hysteresis (rule 3) a job on on-demand stays there until cp >= ep(t + 2d)
 *                       (and while slack < 2d), then moves to spot once some
 *                       is available; it never goes from on-demand to idle.
 * Greedy (§3.4) is the Safety Net and Exploitation alone: spot whenever
 * available, wait otherwise, on-demand for good once the net latches.
 * Idle jobs are looked at every deadline check: the rule, not a restart
 * backoff or the retry period of jobs waiting for room, decides when a
 * deadline job acts.
 */
enum mode_rule { MODE_ANY, MODE_SPOT_ONLY, MODE_SPOT_FIRST, MODE_ON_DEMAND_ONLY };

static double slack_from(const struct sched *s, const struct sjob *sj, double done,
                         double speed);

/* What an attempt needs before it works: its launch, and the restore of a
 * checkpoint when there is work to restore. */
static double lead_time(const struct sched *s, const struct sjob *sj, double kept)
{
    return s->p.cfg.relaunch_overhead_s + (kept > 0 ? sj->spec->ckpt_restore_s : 0);
}

/* What the last ranked plan of a job said of each of its alternatives. */
enum { ALT_OD = 1, ALT_ANY = 2 };

static unsigned places(const struct sjob *sj, size_t i)
{
    return sj->alt_places ? sj->alt_places[i] : ALT_OD | ALT_ANY;
}

/* The speed the deadline rule counts for sj idle: that of its on-demand
 * fallback, the slowest of its alternatives with an on-demand place that
 * can still finish in time after their launch (whichever of them has room
 * when the Safety Net needs one, the job can still make it); with no
 * fallback at all, the fastest alternative with any place (the net cannot
 * save the job: latching it on demand would only make the miss sure).
 * Counting the slowest of all alternatives latched a job whose spec lists
 * one too slow for its deadline at once, which then took it, late; counting
 * the fastest, or the fastest with a free node when ranked, let jobs wait on
 * a slack their H100s could not give -- no on-demand node, a stockout, the
 * last free node counted by several jobs, a team quota -- and miss on their
 * A10s.  The price: a job whose slow alternative can just make it goes on
 * demand sooner than one of its fast alternative alone would. */
static double idle_speed(const struct sched *s, const struct sjob *sj)
{
    double kept, lead, slow = 0, any = 0;
    size_t i;

    if (sj->spec->nres < 2)
        return 1.0;
    kept = sched_progress_kept(s, sj);
    lead = lead_time(s, sj, kept);
    for (i = 0; i < sj->spec->nres; i++) {
        unsigned f = places(sj, i);
        double v;

        if (!(f & ALT_ANY))
            continue;
        v = sched_alt_speed(s, sj, i);
        any = fmax(any, v);
        if ((f & ALT_OD) && slack_from(s, sj, kept, v) >= lead && (slow == 0 || v < slow))
            slow = v;
    }
    return slow > 0 ? slow : any > 0 ? any : sched_speed_max(s, sj);
}

/* The alternative whose speed idle_speed gave (top): one with an
 * on-demand place at that speed, else the first at it. */
static size_t counted_alt(const struct sched *s, const struct sjob *sj, double top)
{
    size_t i, first = 0;
    int seen = 0;

    for (i = 0; i < sj->spec->nres; i++) {
        if (sched_alt_speed(s, sj, i) != top)
            continue;
        if (places(sj, i) & ALT_OD)
            return i;
        if (!seen)
            first = i, seen = 1;
    }
    return first;
}

static long commit_free(const struct sched *s, const struct offer *o);
static long reserved(const struct sched *s, const struct offer *o, int spot);

/* Could sj launch on an on-demand (or committed) place of alternative alt
 * now, by its plan s->plan: one not blocked after a stockout, its team's
 * quota letting it, and nodes free where the driver says (unknown: yes)?
 * (s->plan not sj's: yes.) */
static int od_usable_now(struct sched *s, const struct sjob *sj, size_t alt)
{
    size_t k;

    if (s->plan.spec != sj->spec)
        return 1;
    for (k = 0; k < s->plan.n; k++) {
        const struct plan_cand *c = &s->plan.c[k];
        const struct offer *o = catalog_offer(s->p.cat, c->offer);
        long n;

        if (c->alt != alt || c->mode == PLAN_SPOT || blocked(s, o) ||
            (s->org != NULL && !sched_quota_fits(s, sj, o, c->nodes)))
            continue;
        n = c->mode == PLAN_COMMITTED ? commit_free(s, o)
                                      : driver_offer_capacity(s->p.driver, o, 0);
        if (n < 0 || n - (c->mode == PLAN_COMMITTED ? 0 : reserved(s, o, 0)) >= c->nodes)
            return 1;
    }
    return s->plan.n < s->plan.feasible; /* trimmed: others may be */
}

/* Has sj an on-demand fallback (idle_speed): an alternative with an
 * on-demand place that can still finish after its launch -- and, with
 * launchable, one it could launch on now by its plan s->plan
 * (od_usable_now)?  A job of one alternative: yes (the Safety Net's own
 * rules decide). */
static int fallback(struct sched *s, const struct sjob *sj, int launchable)
{
    double kept, lead;
    size_t i;

    if (sj->spec->nres < 2)
        return 1;
    kept = sched_progress_kept(s, sj);
    lead = lead_time(s, sj, kept);
    for (i = 0; i < sj->spec->nres; i++)
        if ((places(sj, i) & ALT_OD) &&
            slack_from(s, sj, kept, sched_alt_speed(s, sj, i)) >= lead &&
            (!launchable || od_usable_now(s, sj, i)))
            return 1;
    return 0;
}

/* After ranking sj's plan (s->plan): which alternatives have on-demand
 * places, and which any (every one, not only the first 64). */
static void note_alt_places(struct sched *s, struct sjob *sj)
{
    const struct plan *p = &s->plan;
    size_t n = sj->spec->nres, i;
    int od = 0, any = 0;

    if (p->alts == NULL)
        return;
    sj->alt_places = xrealloc(sj->alt_places, n);
    memset(sj->alt_places, 0, n);
    for (i = 0; i < n; i++) {
        if (p->alts[i].nonspot > 0) {
            sj->alt_places[i] |= ALT_OD;
            od = 1;
        }
        if (p->alts[i].nonspot + p->alts[i].spot > 0) {
            sj->alt_places[i] |= ALT_ANY;
            any = 1;
        }
    }
    sj->top_spot_only = !od && any;
}

/* Work per second where the job runs, or, idle, at idle_speed: the most
 * slack it has. */
static double speed_here(const struct sched *s, const struct sjob *sj)
{
    return sj->j.cur_attempt != 0 ? sched_att_speed(s, sj) : idle_speed(s, sj);
}

/* d at a speed (an alternative's), for the job where it runs, or, with
 * idle (or not running), as the Safety Net counts it for the job idle */
static double changeover_at(const struct sched *s, const struct sjob *sj, double speed,
                            int idle)
{
    const struct spec *sp = sj->spec;
    /* where the job runs; an idle job's next location is not known yet */
    const struct sched_config *c = sj->j.cur_attempt != 0 && !idle
                                       ? sched_cfg_at(s, sj->att.cloud, sj->att.region)
                                       : &s->p.cfg;

    /* without checkpoints a preemption loses the whole run: the duration's
     * work at this speed */
    return c->relaunch_overhead_s + sp->ckpt_restore_s +
           (sp->ckpt_interval_s > 0 ? sp->ckpt_interval_s : sp->duration_s / speed);
}

static double changeover(const struct sched *s, const struct sjob *sj)
{
    return changeover_at(s, sj, speed_here(s, sj), 0);
}

static double slack_from(const struct sched *s, const struct sjob *sj, double done,
                         double speed)
{
    return (sj->j.deadline_at - s->now) - (sj->spec->duration_s - done) / speed;
}

static double slack(const struct sched *s, const struct sjob *sj)
{
    return slack_from(s, sj, sched_progress(s, sj), speed_here(s, sj));
}

/* ep(t): the progress of a job that progresses uniformly until its deadline. */
static double line_at(const struct sjob *sj, double t)
{
    double r0 = sj->j.deadline_at - sj->j.submitted_at;

    if (r0 <= 0)
        return sj->spec->duration_s;
    return sj->spec->duration_s * fmin(1.0, fmax(0.0, (t - sj->j.submitted_at) / r0));
}

static int has_deadline(const struct sjob *sj)
{
    return sj->j.deadline_at > 0 && sj->spec->duration_s > 0;
}

static int deadline_rule_on(const struct sched *s, const struct sjob *sj)
{
    return s->p.cfg.deadline_rule != SCHED_DEADLINE_OFF && has_deadline(sj);
}

static int on_spot(const struct sjob *sj)
{
    return sj->j.cur_attempt != 0 && sj->att.mode == PLAN_SPOT;
}

static int plan_has_nonspot(const struct plan *p);

/* A job whose plan has only spot candidates (its spec, its policy rule's
 * `spot: require`, or prices and rules that leave no other place): the
 * deadline rule cannot move it to on-demand, and rank_and_pick lets it take
 * spot (it may miss).  Ranks a plan of its own: s->plan may be in use. */
static int spot_only(struct sched *s, struct sjob *sj)
{
    struct plan_opts opts = {.now = s->now, .top = 0, .by_price = s->p.cfg.rank_by_price};
    struct plan p;
    struct err pe;
    int only;

    if (sj->j.svc_mode == SVC_MODE_ON_DEMAND)
        return 0;
    sched_data_opts(s, sj, &opts);
    plan_init(&p);
    err_clear(&pe);
    only = plan_rank(&p, s->p.cat, sj->spec, sj->rule_pol, &opts, &pe) == 0 &&
           p.feasible > 0 && !plan_has_nonspot(&p);
    plan_free(&p);
    return only;
}

/* spot_only for a job whose plan s->plan is (rank_and_pick's): no second
 * ranking, which the Safety Net's latches of a large study would pay for
 * (a trimmed plan counts as having other places, as rank_and_pick takes it) */
static int plan_spot_only(const struct sched *s, const struct sjob *sj)
{
    return sj->j.svc_mode != SVC_MODE_ON_DEMAND && s->plan.feasible > 0 &&
           !plan_has_nonspot(&s->plan);
}

/* only: spot_only(s, sj), asked by the caller */
static int latch_on_demand(struct sched *s, struct sjob *sj, double sl, double limit,
                           int only, struct err *e)
{
    /* a job kept on spot is latched all the same, so this is said once */
    sj->j.on_demand_only = 1;
    if (sched_log(s, sj, "deadline", e, "slack %.1f s < %.1f s (changeover %.1f s): %s",
                  sl, limit, changeover(s, sj),
                  only ? "its spec or policy keeps it on spot: stays on spot, and "
                         "may miss its deadline"
                       : "on-demand from now on") != 0)
        return e->code;
    return store_job_update(s->p.store, &sj->j, e);
}

/* The Safety Net, for a job that is idle (ranked: s->plan is its plan, just
 * ranked) or on on-demand (it has a place other than spot). */
static int safety_net(struct sched *s, struct sjob *sj, int ranked, struct err *e)
{
    double sl, limit;

    if (sj->j.on_demand_only || !deadline_rule_on(s, sj) || on_spot(sj))
        return 0;
    /* no on-demand alternative can finish, or (its plan just ranked) none
     * could be launched now: nothing to latch onto */
    if (sj->j.cur_attempt == 0 && !fallback(s, sj, ranked))
        return 0;
    sl = slack(s, sj);
    limit = 2 * changeover(s, sj);
    return sl < limit
               ? latch_on_demand(s, sj, sl, limit, ranked && plan_spot_only(s, sj), e)
               : 0;
}

/* Which modes an idle job's placement may use (after the Safety Net ran). */
static enum mode_rule mode_rule(const struct sched *s, const struct sjob *sj)
{
    if (sj->j.on_demand_only || sj->j.svc_mode == SVC_MODE_ON_DEMAND)
        return MODE_ON_DEMAND_ONLY;
    if (sj->j.svc_mode == SVC_MODE_SPOT)
        return MODE_SPOT_ONLY; /* the service's split, not the policy's */
    if (!deadline_rule_on(s, sj))
        return MODE_ANY;
    if (s->p.cfg.deadline_rule == SCHED_DEADLINE_GREEDY)
        return MODE_SPOT_ONLY;
    return sched_progress(s, sj) >= line_at(sj, s->now) ? MODE_SPOT_ONLY : MODE_SPOT_FIRST;
}

/* ---- candidates ---- */

/* Does the deadline rule's mode let a job take a candidate of this mode? */
static int mode_allows(enum mode_rule rule, int mode)
{
    return !((rule == MODE_ON_DEMAND_ONLY && mode == PLAN_SPOT) ||
             (rule == MODE_SPOT_ONLY && mode != PLAN_SPOT));
}

/* Nodes of o taken by launches this step has made and not yet handed to the
 * driver: those of the pool asked for (spot or on-demand) where the driver
 * counts the two apart, else all; of o's instance type, or of o alone where
 * the driver's pools are offers (driver_offer_capacity). */
static long reserved(const struct sched *s, const struct offer *o, int spot)
{
    int apart = -1, by_offer = s->p.driver->ops->offer_capacity != NULL;
    long n = 0;
    size_t i;

    for (i = 0; i < s->nresv; i++) {
        const struct reservation *r = &s->resv[i];

        if (r->cloud != o->cloud || r->region != o->region || r->zone != o->zone ||
            r->instance_type != o->instance_type ||
            (by_offer && r->accelerator != o->accelerator))
            continue;
        if (r->spot != spot && apart < 0)
            apart = driver_modes_apart(s->p.driver, o->cloud, o->region, o->zone);
        if (r->spot == spot || !apart)
            n += r->nodes;
    }
    return n;
}

static void reserve(struct sched *s, const struct offer *o, long nodes, int spot)
{
    struct reservation r = {o->cloud,       o->region, o->zone, o->instance_type,
                            o->accelerator, nodes,     spot};

    s->resv = xgrow(s->resv, &s->resv_cap, s->nresv + 1, sizeof(*s->resv));
    s->resv[s->nresv++] = r;
}

/* ---- committed capacity ----
 *
 * A commitment holds `count` nodes: committed attempts on it never run more
 * at once.  Its use is counted from the live attempts (which the controller
 * reloads from the store after a restart), pooled per cloud/region/instance
 * type: the capacity for an offer is the sum of the active commitments that
 * cover it, the use every live committed attempt of that instance type in
 * the region.  With zone-bound commitments in several zones of one region
 * this may refuse a node that is free (never grant one that is not); the
 * advisor writes zone-free ones.  They come before on-demand nodes, not
 * before spot (first_usable): spent on work that would have run on spot they
 * save only the spot price, and the on-demand work they were bought for
 * (the advisor's usage) pays full price beside them.
 */

static int same_key(const struct commitment *m, const struct store_attempt *a)
{
    return strcmp(m->cloud, a->cloud) == 0 && strcmp(m->region, a->region) == 0 &&
           strcmp(m->instance_type, a->instance_type) == 0;
}

/* A commitment of offer o's group (each of the group's commitments holds the
 * group's counts alike, commit_add), or -1 when o's group has none. */
static long group_key(const struct sched *s, const struct offer *o)
{
    size_t k, n = catalog_ncommitments(s->p.cat);

    for (k = 0; k < n; k++)
        if (catalog_commitment_in_group(catalog_commitment(s->p.cat, k), o))
            return (long)k;
    return -1;
}

/* Add nodes to v[k] for every commitment k of offer o's group. */
static void commit_add(struct sched *s, const struct offer *o, long nodes, long *v)
{
    size_t k, n = catalog_ncommitments(s->p.cat);

    for (k = 0; k < n; k++) {
        const struct commitment *m = catalog_commitment(s->p.cat, k);

        if (catalog_commitment_in_group(m, o))
            v[k] += nodes;
    }
}

/* Count each commitment's used nodes afresh (once per placement round). */
static void commit_count(struct sched *s)
{
    size_t i, k, n = catalog_ncommitments(s->p.cat);

    if (n == 0)
        return;
    if (s->commit_used_cap < n) {
        size_t cap = s->commit_used_cap, cap2 = s->commit_used_cap;

        s->commit_used = xgrow(s->commit_used, &s->commit_used_cap, n, sizeof(long));
        s->commit_od = xgrow(s->commit_od, &cap, n, sizeof(long));
        s->commit_promised = xgrow(s->commit_promised, &cap2, n, sizeof(long));
    }
    memset(s->commit_used, 0, n * sizeof(long));
    memset(s->commit_od, 0, n * sizeof(long));
    memset(s->commit_promised, 0, n * sizeof(long));
    for (i = 0; i < s->njobs; i++) {
        const struct sjob *sj = s->jobs[i];

        if (sj->promised_until > s->now && sj->promised_offer >= 0)
            commit_add(s, catalog_offer(s->p.cat, (uint32_t)sj->promised_offer),
                       sj->promised_nodes, s->commit_promised);
        if (sj->j.cur_attempt == 0 || sj->att.state == ATT_ENDED ||
            sj->att.mode == PLAN_SPOT)
            continue;
        for (k = 0; k < n; k++)
            if (same_key(catalog_commitment(s->p.cat, k), &sj->att))
                (sj->att.mode == PLAN_COMMITTED ? s->commit_used : s->commit_od)[k] +=
                    sj->att.nodes;
    }
    for (i = 0, k = 0; i < s->ngiven; i++)
        if (s->given[i].until > s->now && s->given[i].nodes > 0) {
            s->given[k++] = s->given[i];
            commit_add(s, catalog_offer(s->p.cat, (uint32_t)s->given[i].offer),
                       s->given[i].nodes, s->commit_promised);
        }
    s->ngiven = k;
}

void sched_given_back(struct sched *s, const struct store_attempt *a)
{
    long offer;

    if (catalog_ncommitments(s->p.cat) == 0 || a->mode != PLAN_COMMITTED ||
        a->backfill_spot <= 0 || a->end_reason != ATT_END_DISPLACED)
        return;
    offer = catalog_find_offer(s->p.cat, a->cloud, a->region, a->zone, a->instance_type,
                               a->accelerator);
    if (offer >= 0) {
        struct given_back g = {offer, a->nodes, a->ended_at, a->job_id,
                               s->now + s->p.cfg.wait_retry_s};

        s->given = xgrow(s->given, &s->given_cap, s->ngiven + 1, sizeof(*s->given));
        s->given[s->ngiven++] = g;
    }
}

/* Are offers a and b of one commitment group? */
static int offers_grouped(const struct sched *s, const struct offer *a,
                          const struct offer *b)
{
    long k = group_key(s, a);

    return k >= 0 && k == group_key(s, b);
}

/* The job g's nodes were given to, if it still waits: the event log has the
 * stopped job's transition at the give-back and, right after it in the same
 * step, the "reclaim" line of the job it was for (reclaim_for).  NULL when
 * the log does not say (the promise then stays the group's). */
static struct sjob *given_to(struct sched *s, const struct given_back *g)
{
    const struct offer *o = catalog_offer(s->p.cat, (uint32_t)g->offer);
    char *line = xasprintf("committed nodes on %s/%s ", o->cloud, o->region);
    size_t len = strlen(line);
    struct store_event *v = NULL;
    int64_t after = 0, who = 0;
    size_t i, n = 0;
    int more = 1;
    struct err e;

    err_clear(&e);
    if (store_event_list(s->p.store, g->from, 0, 0, &v, &n, &e) == 0)
        for (i = n; i-- > 0 && after == 0;)
            if (v[i].at == g->at && strcmp(v[i].type, "state") == 0)
                after = v[i].id;
    store_events_free(v, n);
    /* the rest of that step, a page at a time (a gang's give-back stops
     * many jobs before its line) */
    while (after != 0 && who == 0 && more) {
        v = NULL;
        n = 0;
        if (store_event_list(s->p.store, 0, after, 256, &v, &n, &e) != 0)
            break;
        more = n == 256;
        for (i = 0; i < n && who == 0; i++) {
            if (v[i].at != g->at) {
                more = 0; /* past the step */
                break;
            }
            if (v[i].job_id != g->from && strcmp(v[i].type, "reclaim") == 0 &&
                strncmp(v[i].msg, line, len) == 0)
                who = v[i].job_id;
            after = v[i].id;
        }
        store_events_free(v, n);
    }
    free(line);
    if (who != 0) {
        struct sjob *b = sched_job_by_id(s, who);

        if (b != NULL && b->j.cur_attempt == 0 &&
            (b->j.state == JOB_PENDING || b->j.state == JOB_RECOVERING))
            return b;
    }
    return NULL;
}

void sched_given_settle(struct sched *s)
{
    size_t i, k;

    for (i = 0; i < s->njobs && s->ngiven > 0; i++) {
        const struct sjob *sj = s->jobs[i];
        long nodes = sj->att.nodes;

        if (sj->j.cur_attempt == 0 || sj->att.state == ATT_ENDED ||
            sj->att.mode == PLAN_SPOT || sj->backfill || sj->offer < 0)
            continue;
        for (k = 0; k < s->ngiven && nodes > 0; k++) {
            struct given_back *g = &s->given[k];
            long take = g->nodes < nodes ? g->nodes : nodes;

            if (sj->att.launched_at < g->at ||
                !offers_grouped(s, catalog_offer(s->p.cat, (uint32_t)g->offer),
                                catalog_offer(s->p.cat, (uint32_t)sj->offer)))
                continue;
            g->nodes -= take;
            nodes -= take;
        }
    }
    for (k = 0; k < s->ngiven; k++) {
        struct given_back *g = &s->given[k];
        struct sjob *b;

        if (g->nodes <= 0)
            continue;
        if ((b = given_to(s, g)) != NULL) { /* its promise again, as it was */
            if (b->promised_until <= s->now || b->promised_offer != g->offer)
                b->promised_nodes = 0;
            b->promised_offer = g->offer;
            b->promised_nodes += g->nodes;
            b->promised_until = g->until;
            g->nodes = 0;
            continue;
        }
        for (i = 0; i < s->njobs; i++) {
            const struct sjob *w = s->jobs[i];

            if (w->j.id != g->from && w->j.cur_attempt == 0 &&
                (w->j.state == JOB_PENDING || w->j.state == JOB_RECOVERING) &&
                w->j.submitted_at <= g->at)
                break;
        }
        if (i == s->njobs)
            g->nodes = 0;
    }
}

/* A job that is not backfill takes c's committed or on-demand nodes: what
 * was given back in their group is its (struct given_back). */
static void given_taken(struct sched *s, const struct offer *o, long nodes)
{
    size_t i;

    for (i = 0; i < s->ngiven && nodes > 0; i++) {
        const struct offer *g = catalog_offer(s->p.cat, (uint32_t)s->given[i].offer);
        long take = s->given[i].nodes < nodes ? s->given[i].nodes : nodes;

        if (s->given[i].until <= s->now || !offers_grouped(s, g, o))
            continue;
        s->given[i].nodes -= take;
        nodes -= take;
        commit_add(s, g, -take, s->commit_promised);
    }
}

/* Nodes of the commitments in force now for offer o's group that cover o;
 * *key: the group's index k among the catalog's commitments (-1: none). */
static long commit_in_force(const struct sched *s, const struct offer *o, long *key)
{
    size_t k, n = catalog_ncommitments(s->p.cat);
    long cap = 0;

    *key = -1;
    for (k = 0; k < n; k++) {
        const struct commitment *m = catalog_commitment(s->p.cat, k);

        if (!catalog_commitment_in_group(m, o))
            continue;
        *key = (long)k; /* every commitment of the group has one key */
        if (catalog_commitment_covers(m, o) && (m->start == 0 || s->now >= m->start) &&
            (m->end == 0 || s->now < m->end))
            cap += m->count;
    }
    return cap;
}

/* Nodes of committed capacity free for offer o now. */
static long commit_free(const struct sched *s, const struct offer *o)
{
    long key, cap = commit_in_force(s, o, &key);

    return key < 0 ? cap : cap - s->commit_used[key];
}

long sched_commit_free(const struct sched *s, const struct offer *o)
{
    long key, cap = commit_in_force(s, o, &key);
    const struct commitment *m;
    size_t i;

    if (key < 0)
        return -1; /* no commitment of o's group */
    /* counted from the jobs held now (commit_used is as of the last placement) */
    m = catalog_commitment(s->p.cat, (size_t)key);
    for (i = 0; i < s->njobs; i++) {
        const struct sjob *sj = s->jobs[i];

        if (sj->j.cur_attempt != 0 && sj->att.state != ATT_ENDED &&
            sj->att.mode == PLAN_COMMITTED && same_key(m, &sj->att))
            cap -= sj->att.nodes;
    }
    return cap;
}

/* Committed nodes free for o that no live on-demand attempt of its group
 * needs (the bill covers those first, so backfill leaves them alone), and
 * that were not given back to a job about to take them;
 * below 0, the on-demand nodes the commitment does not cover.  0 where no
 * commitment covers o. */
static long commit_spare(const struct sched *s, const struct offer *o)
{
    long f = commit_free(s, o), k = group_key(s, o);

    return k < 0 ? f : f - s->commit_od[k] - s->commit_promised[k];
}

/* Run time left of a job (spec duration minus progress), or INFINITY when
 * its duration is unknown. */
static double time_left(const struct sched *s, const struct sjob *sj)
{
    return sj->spec->duration_s > 0 ? sj->spec->duration_s - sched_progress(s, sj)
                                    : INFINITY;
}

/* Does some commitment in force that covers o last until `until`?  Past
 * its end a committed node is billed on demand: backfill, which would
 * otherwise pay the spot price, takes only nodes that stay committed for
 * its run. */
static int commit_lasts(const struct sched *s, const struct offer *o, double until)
{
    size_t k, n = catalog_ncommitments(s->p.cat);

    for (k = 0; k < n; k++) {
        const struct commitment *m = catalog_commitment(s->p.cat, k);

        if (catalog_commitment_covers(m, o) && (m->start == 0 || s->now >= m->start) &&
            (m->end == 0 || m->end >= until))
            return 1;
    }
    return 0;
}

/* The commitments' bill, as the clouds make it (a reservation, a savings
 * plan or RI, a committed use discount covers, each hour, the matching
 * machines that run, up to the committed count, whichever they are).  Each
 * step, after the driver's events and again after placement, per group
 * (cloud, region, instance type): the nodes the group's commitments in
 * force hold go to its running committed attempts first, then to its
 * running on-demand ones, the oldest first in each, node by node.  An attempt's
 * nodes they do not cover pay the on-demand price: a committed attempt's
 * the group's list price in force, an on-demand one's its offer's; so an
 * attempt is billed that price times its uncovered share per node-hour,
 * from now, and less again once more of its nodes are covered (an older
 * attempt ended, a commitment started).  A gang that started on demand
 * while the commitment was full is covered once committed work ends.  The
 * controller wakes at each commitment's start and end (sched_commit_next),
 * so the bill follows them to the step.  It decides from now and the stored
 * prices only: a controller that opens again rewrites nothing before. */
static int same_group(const struct commitment *m, const struct commitment *g)
{
    return strcmp(m->cloud, g->cloud) == 0 && strcmp(m->region, g->region) == 0 &&
           strcmp(m->instance_type, g->instance_type) == 0;
}

/* Committed attempts first, then on-demand ones; the oldest first in each. */
static int att_cover_cmp(const void *a, const void *b)
{
    const struct sjob *x = *(struct sjob *const *)a, *y = *(struct sjob *const *)b;

    if ((x->att.mode == PLAN_COMMITTED) != (y->att.mode == PLAN_COMMITTED))
        return x->att.mode == PLAN_COMMITTED ? -1 : 1;
    if (x->att.launched_at != y->att.launched_at)
        return x->att.launched_at < y->att.launched_at ? -1 : 1;
    return x->att.id < y->att.id ? -1 : x->att.id > y->att.id;
}

/* What an on-demand attempt's nodes pay uncovered: its offer's price in
 * force; an offer no longer sold this way keeps the price its machines ran
 * at (as reprice does), which the store keeps (list_hour) once the bill has
 * covered any of them. */
static double on_demand_base(const struct sched *s, const struct sjob *sj)
{
    const struct offer *o =
        sj->offer >= 0 ? catalog_offer(s->p.cat, (size_t)sj->offer) : NULL;

    if (o != NULL && o->price >= 0)
        return o->price;
    return sj->att.list_hour > 0 ? sj->att.list_hour : sj->att.price_hour;
}

/* What the commitments covered of sj's on-demand attempt until `until`,
 * counted since last asked (sched_commit_covered: the simulator's
 * commit_covered; this run of the controller's). */
void sched_cover_accrue(struct sched *s, struct sjob *sj, double until)
{
    const struct store_attempt *a = &sj->att;
    double from = fmax(sj->cov_since, fmax(a->running_at, a->priced_at));

    if (a->mode != PLAN_ONDEMAND || a->list_hour <= 0 || a->running_at <= 0)
        return;
    if (until > from && a->list_hour > a->price_hour)
        s->commit_covered +=
            (a->list_hour - a->price_hour) * a->nodes * (until - from) / 3600;
    sj->cov_since = until;
}

double sched_commit_covered(const struct sched *s)
{
    return s->commit_covered;
}

/* Bill sj's attempt `want` per node-hour from now (list: its uncovered
 * price, kept for an on-demand one), with an event of the job's when the
 * price changes. */
static int cover_price(struct sched *s, struct sjob *sj, double want, double list,
                       long covered, struct err *e)
{
    struct store_attempt *a = &sj->att;
    int moved = fabs(want - a->price_hour) >= 1e-9;
    int rc;

    if (!moved && list == a->list_hour)
        return 0;
    sched_cover_accrue(s, sj, s->now); /* at the old prices */
    if (moved) {
        if (a->running_at > 0 && s->now > a->running_at)
            a->cost = store_attempt_cost_at(a, s->now); /* at the old price */
        a->priced_at = s->now;
        a->price_hour = want;
    }
    a->list_hour = list;
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_attempt_update(s->p.store, a, e)) != 0)
        return rc;
    if (!moved)
        return 0;
    if (covered < 0) /* its group has no commitment now */
        return sched_log(s, sj, "price", e,
                         "no commitment covers %s/%s %s now: $%.2f/node-h", a->cloud,
                         a->region, a->instance_type, want);
    return sched_log(s, sj, "price", e,
                     "committed nodes of %s/%s %s cover %ld of its %d: $%.2f/node-h "
                     "(the rest at the on-demand price)",
                     a->cloud, a->region, a->instance_type, covered, a->nodes, want);
}

/* The nodes an attempt in `zone` takes of what the commitments in force of
 * its group hold: those bound to its zone first, then the regional ones
 * (*held), at most `want`.  zn[0 .. nz): the zone-bound nodes left by zone
 * (an AWS zonal reserved instance covers machines in its zone alone). */
struct zone_held {
    const char *zone; /* interned by the catalog */
    long n;
};

static long take_covered(struct zone_held *zn, size_t nz, long *held, const char *zone,
                         long want)
{
    long got = 0, t;
    size_t i;

    for (i = 0; i < nz && want > 0; i++)
        if (zone != NULL && strcmp(zn[i].zone, zone) == 0) {
            t = zn[i].n < want ? zn[i].n : want;
            zn[i].n -= t;
            got += t;
            want -= t;
        }
    t = *held < want ? *held : want;
    *held -= t;
    return got + t;
}

/* g's group, among the attempts all[0 .. nall) the bill covers (v: room
 * for nall). */
static int commit_bill_group(struct sched *s, const struct commitment *g,
                             struct sjob *const *all, size_t nall, struct sjob **v,
                             struct err *e)
{
    size_t i, k, n = 0, nz = 0, nm = catalog_ncommitments(s->p.cat);
    struct zone_held *zn = NULL;
    long held = 0;
    double list = -1;
    int rc = 0;

    for (k = 0; k < nm; k++) {
        const struct commitment *m = catalog_commitment(s->p.cat, k);

        if (!same_group(m, g) || (m->start != 0 && s->now < m->start) ||
            (m->end != 0 && s->now >= m->end))
            continue;
        if (*m->zone == '\0') {
            held += m->count;
            continue;
        }
        for (i = 0; i < nz && zn[i].zone != m->zone; i++)
            ;
        if (i == nz) {
            zn = xrealloc(zn, (nz + 1) * sizeof(*zn));
            zn[nz++] = (struct zone_held){m->zone, 0};
        }
        zn[i].n += m->count;
    }
    for (i = 0; i < nall; i++)
        if (same_key(g, &all[i]->att))
            v[n++] = all[i];
    qsort(v, n, sizeof(*v), att_cover_cmp);
    for (i = 0; rc == 0 && i < n; i++) {
        struct store_attempt *a = &v[i]->att;
        long covered = take_covered(zn, nz, &held, a->zone, a->nodes);
        double want = 0, base;

        if (a->mode == PLAN_COMMITTED) {
            /* not sold now: its nodes keep the price last in force, as
             * running machines do (reprice) and as the bound bills them */
            if (list < 0 && covered < a->nodes)
                list = catalog_list_price_last(s->p.cat, g->cloud, g->region,
                                               g->instance_type);
            base = list > 0 ? list : 0;
        } else {
            base = on_demand_base(s, v[i]);
        }
        if (covered < a->nodes)
            want = base * (double)(a->nodes - covered) / a->nodes;
        rc = cover_price(s, v[i], want, a->mode == PLAN_ONDEMAND ? base : 0, covered, e);
    }
    free(zn);
    return rc;
}

/* Is sj's live attempt in a group with commitments (its offer's)?  Asked
 * each step: the answer is kept for the attempt. */
static int cov_grouped(const struct sched *s, struct sjob *sj)
{
    if (sj->cov_att != sj->att.id) {
        sj->cov_att = sj->att.id;
        sj->cov_in = sj->offer >= 0 &&
                     group_key(s, catalog_offer(s->p.cat, (size_t)sj->offer)) >= 0;
    }
    return sj->cov_in;
}

/* An attempt the bill covered (or a committed one) in a group the catalog
 * the controller opened with has no commitment for, or whose offer it no
 * longer has: its nodes pay on demand from now, the offer's price in force,
 * else the price they paid uncovered (an on-demand one), else the group's
 * list price last in force (a committed one). */
static int stray_price(struct sched *s, struct sjob *sj, struct err *e)
{
    const struct store_attempt *a = &sj->att;
    double want;

    if (a->mode == PLAN_ONDEMAND && a->list_hour > 0)
        want = on_demand_base(s, sj);
    else if (a->mode == PLAN_COMMITTED)
        want = catalog_list_price_last(s->p.cat, a->cloud, a->region, a->instance_type);
    else
        return 0;
    return want > 0 ? cover_price(s, sj, want, 0, -1, e) : 0;
}

int sched_commit_bill(struct sched *s, struct err *e)
{
    size_t nm = catalog_ncommitments(s->p.cat), i, k, nall = 0, cap = 0;
    struct sjob **all = NULL;
    int rc = 0, strays = s->cover_strays;

    if (nm == 0 && !strays)
        return 0;
    s->cover_strays = 0;
    /* every step: the jobs once, for the attempts that run in a group with
     * commitments, committed or on demand (room for them twice: the second
     * half is each group's) */
    for (i = 0; rc == 0 && i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];
        const struct store_attempt *a = &sj->att;

        if (sj->j.cur_attempt == 0 || a->state == ATT_ENDED || a->mode == PLAN_SPOT)
            continue;
        if (a->running_at <= 0) {
            /* a committed launch the catalog has no commitment for now is
             * billed once it runs */
            if (strays && a->mode == PLAN_COMMITTED && !cov_grouped(s, sj))
                s->cover_strays = 1;
            continue;
        }
        if (cov_grouped(s, sj)) {
            all = xgrow(all, &cap, 2 * (nall + 1), sizeof(*all));
            all[nall++] = sj;
        } else if (strays) {
            rc = stray_price(s, sj, e);
        }
    }
    for (k = 0; rc == 0 && nall > 0 && k < nm; k++) { /* each group once */
        const struct commitment *g = catalog_commitment(s->p.cat, k);

        for (i = 0; i < k && !same_group(catalog_commitment(s->p.cat, i), g); i++)
            ;
        if (i == k)
            rc = commit_bill_group(s, g, all, nall, all + nall, e);
    }
    free(all);
    return rc;
}

/* Seconds to the next start or end of a commitment (INFINITY: none). */
double sched_commit_next(const struct sched *s)
{
    size_t k, nm = catalog_ncommitments(s->p.cat);
    double next = INFINITY;

    for (k = 0; k < nm; k++) {
        const struct commitment *m = catalog_commitment(s->p.cat, k);

        if (m->start > s->now)
            next = fmin(next, m->start - s->now);
        if (m->end > s->now)
            next = fmin(next, m->end - s->now);
    }
    return next;
}

/* A new attempt of `nodes` on offer o, committed or on demand: count it at
 * once. */
static void commit_take(struct sched *s, const struct offer *o, long nodes, int committed)
{
    commit_add(s, o, nodes, committed ? s->commit_used : s->commit_od);
}

/* Is o in the region sj is to avoid next (eager-next-region)? */
static int avoided(const struct sjob *sj, const struct offer *o)
{
    return sj->avoid && strncmp(sj->avoid, o->cloud, strlen(o->cloud)) == 0 &&
           strcmp(sj->avoid + strlen(o->cloud) + 1, o->region) == 0;
}

/* Why a ranked candidate cannot be used now. */
enum unusable {
    USE_OK = -1,
    NOT_DEADLINE,
    NOT_BLOCKED,
    NOT_AVOIDED,
    NOT_FULL,
    NOT_QUOTA,
    NOT_LATE,
    NOT__N
};

/* Would candidate c make sj late: its alternative, slower than the one the
 * rule counts for the job idle (idle_speed), finish past the deadline even
 * if it ran from now on without a break -- after its launch and restore --
 * while that one would not?  A spot candidate also needs the margin the
 * Safety Net asks of an idle job (slack >= 2d at its speed) when that one
 * has it: else moving to a slow spot attempt would latch the job on demand
 * at once, or leave it late; not when the job's plan is all spot (no net to
 * fall back on: waiting for a faster spot place only shrinks its slack).
 * When every alternative is late, the deadline is lost: the rule's other
 * parts decide, as for a job of one alternative.  Asked of a running job too
 * (is there spot to move to?), as it would be once idle. */
static int late(struct sched *s, const struct sjob *sj, const struct plan_cand *c)
{
    double v, top, sv, st, kept, lead;

    if (sj->spec->nres < 2 || !deadline_rule_on(s, sj))
        return 0;
    v = sched_alt_speed(s, sj, c->alt);
    top = idle_speed(s, sj);
    if (!(v < top))
        return 0;
    kept = sched_progress_kept(s, sj); /* a running job leaves its live work */
    sv = slack_from(s, sj, kept, v);
    st = slack_from(s, sj, kept, top);
    if (c->mode == PLAN_SPOT && !sj->top_spot_only &&
        sv < 2 * changeover_at(s, sj, v, 1) && st >= 2 * changeover_at(s, sj, top, 1) &&
        od_usable_now(s, sj, counted_alt(s, sj, top)))
        return 1;
    lead = lead_time(s, sj, kept);
    return sv < lead && st >= lead;
}

static enum unusable unusable(struct sched *s, const struct sjob *sj, const struct plan_cand *c,
                              enum mode_rule rule, int avoid)
{
    const struct offer *o = catalog_offer(s->p.cat, c->offer);
    long free_nodes;

    if (!mode_allows(rule, c->mode))
        return NOT_DEADLINE;
    if (late(s, sj, c))
        return NOT_LATE;
    if (blocked(s, o))
        return NOT_BLOCKED;
    if (c->mode == PLAN_COMMITTED && commit_free(s, o) < c->nodes)
        return NOT_FULL; /* the commitment's nodes are all in use */
    if (avoid && avoided(sj, o))
        return NOT_AVOIDED;
    if (s->org != NULL && sched_quota_admit(s, sj, o, c->nodes) != 0)
        return NOT_QUOTA;
    if (s->queue_ok)
        free_nodes = driver_queue_capacity(s->p.driver, o->cloud, o->region, o->zone,
                                           o->instance_type, c->mode == PLAN_SPOT);
    else
        free_nodes = driver_offer_capacity(s->p.driver, o, c->mode == PLAN_SPOT);
    if (free_nodes >= 0 && free_nodes - reserved(s, o, c->mode == PLAN_SPOT) < c->nodes)
        return NOT_FULL;
    /* last: a yes here is the placement (the service counts it at once) */
    if (sj->j.service_id != 0 && s->p.replica_may_use != NULL &&
        !s->p.replica_may_use(s->p.replica_ctx, &sj->j, o, c->mode))
        return NOT_AVOIDED; /* the service spreads its replicas elsewhere */
    return USE_OK;
}

/* Launch sj's next attempt on candidate c, the rank-th of its plan. */
static int create_attempt(struct sched *s, struct sjob *sj, const struct plan_cand *c,
                          size_t rank, struct err *e)
{
    const struct offer *o = catalog_offer(s->p.cat, c->offer);
    struct store_attempt *a = &sj->att;
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
    /* committed nodes are paid for whether used or not (the commitment's
     * fixed cost): an attempt on them costs nothing more */
    a->price_hour = c->mode == PLAN_COMMITTED ? 0 : c->price_hour;
    a->launched_at = s->now;
    a->exit_code = -1;
    a->ckpt_from = sj->spec->ckpt_interval_s > 0 ? sj->ckpt_src : 0;
    a->backfill_spot = c == s->backfill_pick ? (float)s->backfill_spot : 0;
    if ((rc = sched_tx(s, e)) != 0 || (rc = store_attempt_insert(s->p.store, a, e)) != 0)
        return rc;
    sj->j.cur_attempt = a->id;
    sj->offer = (long)c->offer;
    sched_patience_launched(s, sj);
    sched_index_attempt(s, a->id, sj);
    sched_nodes_reset(sj, a->nodes);
    reserve(s, o, c->nodes, c->mode == PLAN_SPOT);
    sj->backfill = a->backfill_spot > 0;
    sj->backfill_spot = a->backfill_spot;
    if (sj->promised_until > s->now) /* the promise is kept */
        commit_add(s, catalog_offer(s->p.cat, (uint32_t)sj->promised_offer),
                   -sj->promised_nodes, s->commit_promised);
    sj->promised_until = 0;
    if (c->mode != PLAN_SPOT && !sj->backfill)
        given_taken(s, o, c->nodes);
    if (c->mode != PLAN_SPOT)
        commit_take(s, o, c->nodes, c->mode == PLAN_COMMITTED);
    sched_quota_add(s, sj, o, c->nodes);
    sched_act(s, ACT_LAUNCH, a->id, sj);
    return sched_transition(s, sj, JOB_PROVISIONING, e,
                            "launching attempt %d on %s/%s%s%s: %d x %s %s at $%.2f/node-h "
                            "(rank %zu, expected $%.2f)",
                            a->n, a->cloud, a->region, *a->zone ? "/" : "", a->zone, a->nodes,
                            a->instance_type, plan_mode_name(a->mode), a->price_hour,
                            rank, c->expected);
}

/* ---- backfill on committed nodes ----
 *
 * Committed nodes are paid for whether they run or not.  A job whose first
 * choice without them is spot takes free ones that no on-demand attempt of
 * the commitment's group needs (commit_spare) rather than pay for spot
 * (first_usable): backfill.  It gives them back when a job that would pay
 * on demand needs them: one whose plan has committed nodes that backfill
 * holds waits a step for them (reclaim_for), and an on-demand attempt
 * launched in the group takes back what it needs to be covered by the bill
 * (reclaim_cover).  A backfill attempt given back is stopped and placed
 * again from its last checkpoint, on spot as it would have been.  Which
 * attempts are backfill, and the spot price each would pay instead, is in
 * the store (store_attempt.backfill_spot): a controller that opens again
 * gives them back as the one before would have. */

/* Is b running a backfill attempt in o's group? */
static int backfills(const struct sjob *b, const struct offer *o)
{
    return b->backfill && b->j.cur_attempt != 0 && b->att.state == ATT_RUNNING &&
           b->att.mode == PLAN_COMMITTED && strcmp(b->att.cloud, o->cloud) == 0 &&
           strcmp(b->att.region, o->region) == 0 &&
           strcmp(b->att.instance_type, o->instance_type) == 0;
}

/* The node-hours of work v's attempt would lose if stopped now: since its
 * last checkpoint, or all of its run without checkpoints. */
static double backfill_loss(const struct sched *s, const struct sjob *v)
{
    double run = s->now - v->att.running_at, ck = v->spec->ckpt_interval_s;

    run = run > 0 ? run : 0;
    return v->att.nodes * (ck > 0 ? fmod(run, ck) : run) / 3600;
}

/* Is b a backfill attempt of o's group worth stopping for a job that would
 * pay on demand for `left` more hours: does the give-back save more than it
 * costs?  It saves o's on-demand price on b's nodes for as long as both
 * would still run, less the spot price b pays there instead; it costs the
 * work b loses, redone at that spot price. */
static int worth_giving_back(const struct sched *s, const struct sjob *b, const struct offer *o,
                             double left)
{
    double p = o->price, q = b->backfill_spot;

    return backfills(b, o) && p > q &&
           backfill_loss(s, b) * q < b->att.nodes * fmin(left, time_left(s, b) / 3600) * (p - q);
}

/* Nodes of o's group that backfill worth stopping for sj holds. */
static long backfill_held(const struct sched *s, const struct sjob *sj, const struct offer *o)
{
    double left = time_left(s, sj) / 3600;
    long n = 0;
    size_t i;

    for (i = 0; i < s->njobs; i++)
        n += worth_giving_back(s, s->jobs[i], o, left) ? s->jobs[i]->att.nodes : 0;
    return n;
}

/* Stop backfill attempts of o's group worth stopping for sj, the least
 * loss first, until `need` nodes are given back or none is left. */
static int give_back(struct sched *s, const struct sjob *sj, const struct offer *o, long need,
                     struct err *e)
{
    double left = time_left(s, sj) / 3600;
    size_t i;
    int rc;

    while (need > 0) {
        struct sjob *v = NULL;
        double vloss = 0;
        long nodes;

        for (i = 0; i < s->njobs; i++) {
            struct sjob *b = s->jobs[i];
            double loss;

            if (!worth_giving_back(s, b, o, left))
                continue;
            loss = backfill_loss(s, b);
            if (v == NULL || loss < vloss)
                v = b, vloss = loss;
        }
        if (v == NULL)
            break;
        nodes = v->att.nodes;
        v->backfill = 0;
        if ((rc = sched_end_attempt(s, v, ATT_END_DISPLACED, -1, 0, e)) != 0 ||
            (rc = sched_recover(s, v, 0, e,
                                "committed nodes given back to job %lld (%s), which would "
                                "pay on demand",
                                (long long)sj->j.id, sj->j.name)) != 0)
            return rc;
        if ((rc = sched_retry_at(
                 s, v, s->now + sched_cfg_at(s, o->cloud, o->region)->backoff_base_s,
                 e)) != 0)
            return rc;
        commit_take(s, o, -nodes, 1);
        need -= nodes;
    }
    return 0;
}

/* Were committed nodes of o's group given back to sj, and not yet taken? */
static int promised_to(const struct sched *s, const struct sjob *sj,
                       const struct offer *o)
{
    return sj->promised_until > s->now && sj->promised_offer >= 0 &&
           offers_grouped(s, catalog_offer(s->p.cat, (uint32_t)sj->promised_offer), o);
}

/* Committed nodes of o's group given back to jobs other than sj that have
 * not launched on them yet. */
static long promised_others(const struct sched *s, const struct sjob *sj,
                            const struct offer *o)
{
    long k = group_key(s, o);

    return k < 0
               ? 0
               : s->commit_promised[k] - (promised_to(s, sj, o) ? sj->promised_nodes : 0);
}

/* sj, which can only pay on demand (about to, or finding nothing free), has
 * committed nodes in its plan that backfill holds: give them back and
 * launch sj on them (*waits = 1, placed or waiting for them).  The first
 * such candidate in the plan's order. */
static int reclaim_for(struct sched *s, struct sjob *sj, enum mode_rule rule, int *waits,
                       struct err *e)
{
    size_t k;

    *waits = 0;
    for (k = 0; k < s->plan.n; k++) {
        const struct plan_cand *c = &s->plan.c[k];
        const struct offer *o = catalog_offer(s->p.cat, c->offer);
        long free_nodes;

        if (c->mode != PLAN_COMMITTED || !mode_allows(rule, c->mode) || blocked(s, o) ||
            avoided(sj, o) || late(s, sj, c))
            continue;
        /* nodes given back to another job that has not launched yet are
         * not free to this one */
        free_nodes = commit_free(s, o) - promised_others(s, sj, o);
        if (free_nodes >= c->nodes && promised_to(s, sj, o) &&
            unusable(s, sj, c, rule, 1) == NOT_FULL) {
            /* given back to it, and still held in the driver (its stop is
             * under way): it waits for them, while the promise holds */
            *waits = 1;
            sj->j.next_try_at = 0;
            return 0;
        }
        if (free_nodes >= c->nodes || free_nodes + backfill_held(s, sj, o) < c->nodes)
            continue;
        if (give_back(s, sj, o, c->nodes - free_nodes, e) != 0)
            return e->code;
        *waits = 1;
        /* take them now, before a backfill job does (the stops go to the
         * driver first); if the driver has no room until they are gone,
         * they are kept from backfill for it until it launches */
        if (unusable(s, sj, c, rule, 1) == USE_OK)
            return create_attempt(s, sj, c, k + 1, e);
        sj->promised_offer = (long)c->offer;
        sj->promised_nodes = c->nodes;
        sj->promised_until = s->now + s->p.cfg.wait_retry_s;
        commit_add(s, o, c->nodes, s->commit_promised);
        sj->j.next_try_at = 0;
        s->promised = 1;
        return sched_log(s, sj, "reclaim", e,
                         "committed nodes on %s/%s given back by backfill: taking them next",
                         o->cloud, o->region);
    }
    return 0;
}

/* An on-demand attempt just launched on o: take back from backfill what
 * the commitment's bill needs to cover the group's on-demand nodes. */
static int reclaim_cover(struct sched *s, const struct sjob *sj, const struct offer *o,
                         struct err *e)
{
    long need = -commit_spare(s, o);

    return need > 0 ? give_back(s, sj, o, need, e) : 0;
}

/* ---- displacement ---- */

/* A running lower-priority spot job on an offer this job could use. */
static struct sjob *victim(struct sched *s, const struct sjob *sj, enum mode_rule rule)
{
    struct sjob *best = NULL;
    size_t i, k;

    for (i = 0; i < s->njobs; i++) {
        struct sjob *v = s->jobs[i];

        if (v->j.priority >= sj->j.priority || v->j.cur_attempt == 0 ||
            v->att.mode != PLAN_SPOT || v->att.state != ATT_RUNNING)
            continue;
        for (k = 0; k < s->plan.n; k++) {
            const struct plan_cand *c = &s->plan.c[k];
            const struct offer *o = catalog_offer(s->p.cat, c->offer);

            /* the victim's spot node must be one sj may take: a spot
             * candidate its mode rule allows, or, where the driver does not
             * tell spot from on-demand nodes, any (else the victim would be
             * stopped for nothing, and relaunch, and be stopped again) */
            if (!mode_allows(rule, c->mode) || late(s, sj, c) ||
                (c->mode != PLAN_SPOT &&
                 (c->mode == PLAN_COMMITTED ||
                  driver_modes_apart(s->p.driver, o->cloud, o->region, o->zone))))
                continue;
            if (strcmp(o->cloud, v->att.cloud) == 0 && strcmp(o->region, v->att.region) == 0 &&
                strcmp(o->zone, v->att.zone) == 0 &&
                strcmp(o->instance_type, v->att.instance_type) == 0 &&
                v->att.nodes >= c->nodes &&
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
    if ((rc = sched_retry_at(
             s, v, s->now + sched_cfg_at(s, v->att.cloud, v->att.region)->backoff_base_s,
             e)) != 0)
        return rc;
    sj->j.next_try_at = 0;
    return sched_log(s, sj, "displace", e, "stopping job %lld (priority %d) to make room",
                     (long long)v->j.id, v->j.priority);
}

/* ---- placing ---- */

#define REASON_REFRESH_S 60.0

/* The same wait, its figures aside: equal up to the first digit. */
static int same_wait(const char *a, const char *b)
{
    size_t n = strcspn(a, "0123456789");

    return n == strcspn(b, "0123456789") && strncmp(a, b, n) == 0;
}

/* When a job that waits for room is tried again: within wait_retry, at the
 * last quarter of it on a grid of quarters of wait_retry from time 0, so that
 * jobs that come to wait one after another are tried again together, in one
 * step.  (Each at its own now + wait_retry, a study whose small fleet kept
 * thousands waiting stepped for every one of them: Alibaba's 6,203 jobs on
 * 14 nodes, 26 million steps and 7 minutes for 27,621 transitions.) */
static double retry_at(const struct sched *s)
{
    double q = s->p.cfg.wait_retry_s / 4, t = s->now + s->p.cfg.wait_retry_s;
    double grid = q > 0 ? floor(t / q) * q : t;

    return grid > s->now ? grid : t;
}

/* Wait, with msg as the reason (logged when it changed). */
static int wait_because(struct sched *s, struct sjob *sj, const char *msg, struct err *e)
{
    int team_wait = strncmp(msg, "waiting: ", 9) == 0;

    sj->waiting = 1;
    sj->j.next_try_at = retry_at(s);
    /* A team's quota or budget: the job is woken when room frees, so an
     * unchanged reason stores nothing; one whose figures moved (what the
     * team uses) is stored at most every REASON_REFRESH_S, or thousands of
     * waiting jobs would be rewritten whenever one of the team's ends. */
    if (team_wait && sj->j.reason &&
        (strcmp(sj->j.reason, msg) == 0 ||
         (same_wait(sj->j.reason, msg) && s->now - sj->reason_at < REASON_REFRESH_S)))
        return 0;
    sj->reason_at = s->now;
    if (sched_tx(s, e) != 0)
        return e->code;
    if (sj->j.reason && strcmp(sj->j.reason, msg) == 0)
        return store_job_update(s->p.store, &sj->j, e);
    if (team_wait && sj->j.reason && same_wait(sj->j.reason, msg)) {
        free(sj->j.reason); /* new figures of the same wait: stored, not logged again */
        sj->j.reason = xstrdup(msg);
        return store_job_update(s->p.store, &sj->j, e);
    }
    free(sj->j.reason);
    sj->j.reason = xstrdup(msg);
    if (sched_log(s, sj, "waiting", e, "%s", msg) != 0)
        return e->code;
    return store_job_update(s->p.store, &sj->j, e);
}

static int wait_for_capacity(struct sched *s, struct sjob *sj, const char *why, struct err *e)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "waiting for capacity: %s", why);
    return wait_because(s, sj, msg, e);
}

static int plan_has_spot(const struct plan *p)
{
    size_t k;

    for (k = 0; k < p->n; k++)
        if (p->c[k].mode == PLAN_SPOT)
            return 1;
    return 0;
}

/* Whether the plan may have a candidate that is not spot (on demand or
 * committed): one among those ranked, or some not ranked. */
static int plan_has_nonspot(const struct plan *p)
{
    size_t k;

    for (k = 0; k < p->n; k++)
        if (p->c[k].mode != PLAN_SPOT)
            return 1;
    return p->n < p->feasible;
}

/* The first usable candidate among the ranked ones, or NULL; counts why the
 * others were passed over. */
static const struct plan_cand *first_usable(struct sched *s, const struct sjob *sj,
                                            enum mode_rule rule, size_t *counts)
{
    size_t k;
    int pass;

    /* Taking Risks: spot first when some is to be had, else any mode. */
    if (rule == MODE_SPOT_FIRST) {
        const struct plan_cand *c = first_usable(s, sj, MODE_SPOT_ONLY, counts);

        if (c != NULL)
            return c;
        memset(counts, 0, NOT__N * sizeof(*counts));
        rule = MODE_ANY;
    }
    s->backfill_pick = NULL;
    /* First pass honours eager-next-region; the second drops it rather than wait. */
    for (pass = 0; pass < 2; pass++) {
        const struct plan_cand *committed = NULL;

        for (k = 0; k < s->plan.n; k++) {
            const struct plan_cand *c = &s->plan.c[k];
            enum unusable u;

            if (committed != NULL && c->mode == PLAN_COMMITTED)
                continue;
            u = unusable(s, sj, c, rule, pass == 0);
            /* Committed nodes stand in for on-demand ones, where they save
             * the whole price: a job whose first choice without them is spot
             * takes the spot, and leaves them to one that would pay on demand
             * (a service's replica is counted once asked: it takes them) --
             * unless no on-demand attempt needs them now (backfill): then it
             * takes them, and gives them back when one does (reclaim). */
            if (u == USE_OK && c->mode == PLAN_COMMITTED && sj->j.service_id == 0) {
                committed = c;
                continue;
            }
            if (u == USE_OK && committed != NULL && c->mode == PLAN_SPOT &&
                s->p.cfg.commit_backfill &&
                commit_spare(s, catalog_offer(s->p.cat, committed->offer)) >= committed->nodes &&
                commit_lasts(s, catalog_offer(s->p.cat, committed->offer),
                             s->now + time_left(s, sj))) {
                s->backfill_spot = c->price_hour;
                return s->backfill_pick = committed;
            }
            if (u == USE_OK)
                return committed != NULL && c->mode != PLAN_SPOT ? committed : c;
            if (pass == 0)
                counts[u]++;
        }
        if (committed != NULL)
            return committed;
        if (sj->avoid == NULL)
            break;
    }
    return NULL;
}

/* ---- the deadline rule on jobs that run (see "the deadline rule") ---- */

/* Some spot candidate of the job could be launched now. */
static int spot_to_be_had(struct sched *s, struct sjob *sj)
{
    struct plan_opts opts = {.now = s->now, .top = 32, .by_price = s->p.cfg.rank_by_price};
    size_t counts[NOT__N] = {0};
    struct err pe;

    sched_data_opts(s, sj, &opts);
    /* A job that cannot be ranked now stays where it is (placement reports
     * why when it next has to place it). */
    err_clear(&pe);
    if (plan_rank(&s->plan, s->p.cat, sj->spec, sj->rule_pol, &opts, &pe) != 0)
        return 0;
    note_alt_places(s, sj);
    return first_usable(s, sj, MODE_SPOT_ONLY, counts) != NULL;
}

/* Stop the live attempt and place the job again at once. */
static int switch_now(struct sched *s, struct sjob *sj, const char *why, struct err *e)
{
    int rc = sched_end_attempt(s, sj, ATT_END_DISPLACED, -1, 0, e);

    return rc != 0 ? rc : sched_recover(s, sj, 0, e, "deadline: %s", why);
}

/* Hysteresis: a job on on-demand leaves it for spot once it is ahead of the
 * line by 2d and spot is to be had, counting only the work it keeps (that in
 * checkpoints: leaving gives up the rest) -- and once the slack it would
 * have idle, as the Safety Net counts it then, is 2d as well: else the net
 * would put it back on demand at once, the work lost. */
static int hysteresis(struct sched *s, struct sjob *sj, struct err *e)
{
    double d = changeover(s, sj), top, kept = sched_progress_kept(s, sj);

    /* ahead with the work it keeps: leaving gives up the rest (all of a
     * job without checkpoints) */
    if (s->p.cfg.deadline_rule != SCHED_DEADLINE_UNIFORM ||
        sj->att.state != ATT_RUNNING || kept < line_at(sj, s->now + 2 * d) ||
        slack(s, sj) < 2 * d)
        return 0;
    if (!spot_to_be_had(s, sj)) /* ranks its plan: its alternatives' places now */
        return 0;
    top = idle_speed(s, sj);
    if (slack_from(s, sj, kept, top) < 2 * changeover_at(s, sj, top, 1))
        return 0;
    return switch_now(s, sj, "ahead of the uniform-progress line by 2 changeovers and spot "
                             "is available: leaving on-demand for spot", e);
}

/* Could sj, of alternatives, launch now on an on-demand place of one that
 * can still finish?  Ranks its plan (a deadline check's, rare). */
static int od_fallback_now(struct sched *s, struct sjob *sj)
{
    struct plan_opts opts = {.now = s->now, .top = 0, .by_price = s->p.cfg.rank_by_price};
    struct err pe;

    sched_data_opts(s, sj, &opts);
    err_clear(&pe);
    if (plan_rank(&s->plan, s->p.cat, sj->spec, sj->rule_pol, &opts, &pe) != 0)
        return 1; /* cannot tell: as before */
    note_alt_places(s, sj);
    return fallback(s, sj, 1);
}

/* A spot attempt still in its changeover (launching or restoring) when slack
 * can no longer absorb the rest of it goes to on-demand. */
static int changeover_guard(struct sched *s, struct sjob *sj, struct err *e)
{
    const struct store_attempt *a = &sj->att;
    double sl = slack(s, sj), d = changeover(s, sj);
    int working = a->state == ATT_RUNNING && sched_progress(s, sj) > sj->j.work_done_s;
    int rc, only;

    if (working || a->state == ATT_ENDED || sl >= d)
        return 0;
    /* a job of alternatives none of whose on-demand places it could launch
     * on now (quota, stockouts, no node) keeps its spot attempt: stopping
     * it would leave it nothing */
    if (sj->spec->nres > 1 && !od_fallback_now(s, sj))
        return 0;
    only = spot_only(s, sj);
    if ((rc = latch_on_demand(s, sj, sl, d, only, e)) != 0 || only)
        return rc; /* stopping it would only start it on spot again */
    return switch_now(s, sj, "slack below one changeover before spot made progress: "
                             "resuming on on-demand", e);
}

static int check_one(struct sched *s, struct sjob *sj, struct err *e)
{
    int rc;

    if (!deadline_rule_on(s, sj) || job_state_terminal(sj->j.state))
        return 0;
    if (sj->j.cur_attempt == 0) {
        /* Idle: decide now (sched_place_all places it this step), unless
         * its last attempt crashed or failed to launch: that backoff stays. */
        if ((sj->j.state == JOB_PENDING || sj->j.state == JOB_RECOVERING) &&
            sj->j.next_try_at > s->now && sj->att.end_reason != ATT_END_EXITED &&
            sj->att.end_reason != ATT_END_FAILED && sj->att.end_reason != ATT_END_LOST)
            sj->j.next_try_at = s->now;
        return 0;
    }
    if (on_spot(sj))
        return sj->j.on_demand_only ? 0 : changeover_guard(s, sj, e);
    if (sj->j.on_demand_only)
        return 0;
    rc = safety_net(s, sj, 0, e);
    return rc != 0 || sj->j.on_demand_only ? rc : hysteresis(s, sj, e);
}

int sched_check_deadlines(struct sched *s, struct err *e)
{
    size_t i;
    int rc;

    if (s->p.cfg.deadline_rule == SCHED_DEADLINE_OFF || s->now < s->next_deadline_check)
        return 0;
    s->next_deadline_check = s->now + s->p.cfg.deadline_check_s;
    s->nresv = 0; /* reservations live for one step; placement comes after this */
    for (i = 0; i < s->njobs; i++)
        if ((rc = check_one(s, s->jobs[i], e)) != 0)
            return rc;
    return 0;
}

/* A job the Safety Net holds to on-demand whose deadline even on-demand
 * can no longer meet, and no on-demand place is free: the net has nothing
 * left to save, so it takes the best usable place of any mode rather than
 * wait, perhaps for ever (a gang no on-demand pool can hold), for one. */
static int lost_deadline_pick(struct sched *s, struct sjob *sj,
                              const struct plan_cand **pick, enum mode_rule *rule,
                              size_t *counts, struct err *e)
{
    memset(counts, 0, NOT__N * sizeof(*counts));
    *pick = first_usable(s, sj, MODE_ANY, counts);
    if (*pick == NULL || (*pick)->mode != PLAN_SPOT)
        return 0;
    *rule = MODE_ANY;
    return sched_log(
        s, sj, "deadline", e,
        "slack %.1f s: the deadline is lost even on demand, and no on-demand "
        "place is free: takes spot",
        slack(s, sj));
}

/* Placement needs only the best few candidates: rank the top k, and widen
 * (x8) only while none of them can be used and more exist. */
static int rank_and_pick(struct sched *s, struct sjob *sj, const struct plan_cand **pick,
                         enum mode_rule *rule, size_t *counts, struct err *e)
{
    struct plan_opts opts = {.now = s->now, .top = 32, .by_price = s->p.cfg.rank_by_price};
    int rc;

    sched_data_opts(s, sj, &opts);
    for (;;) {
        memset(counts, 0, NOT__N * sizeof(*counts));
        if ((rc = plan_rank(&s->plan, s->p.cat, sj->spec, sj->rule_pol, &opts, e)) != 0)
            return rc;
        note_alt_places(s, sj);
        if (opts.top == 32) {
            if ((rc = safety_net(s, sj, 1, e)) != 0)
                return rc;
            *rule = mode_rule(s, sj);
            /* spec or policy rule spot out: nothing to wait for; but a spot
             * replica waits (its service has on-demand ones for that) */
            if (*rule == MODE_SPOT_ONLY && !plan_has_spot(&s->plan) &&
                sj->j.svc_mode != SVC_MODE_SPOT)
                *rule = MODE_ANY;
        }
        /* a job latched on demand whose every on-demand alternative can
         * no longer finish: the net has nothing left to save, and spot on
         * a faster one may still make it */
        if (*rule == MODE_ON_DEMAND_ONLY && sj->j.on_demand_only &&
            sj->j.svc_mode != SVC_MODE_ON_DEMAND && deadline_rule_on(s, sj) &&
            !fallback(s, sj, 1))
            *rule = MODE_ANY;
        /* nor may the deadline rule move to on-demand a job its spec or
         * policy keeps on spot (`spot: require`): it takes spot, and may
         * miss its deadline, rather than wait for ever */
        if (*rule == MODE_ON_DEMAND_ONLY && s->plan.feasible > 0 &&
            !plan_has_nonspot(&s->plan) && sj->j.svc_mode != SVC_MODE_ON_DEMAND)
            *rule = MODE_ANY;
        *pick = first_usable(s, sj, *rule, counts);
        if (*pick == NULL && s->plan.n >= s->plan.feasible &&
            *rule == MODE_ON_DEMAND_ONLY && sj->j.svc_mode != SVC_MODE_ON_DEMAND &&
            has_deadline(sj) && slack(s, sj) < 0)
            return lost_deadline_pick(s, sj, pick, rule, counts, e);
        if (*pick != NULL || s->plan.n >= s->plan.feasible)
            return 0;
        opts.top *= 8;
    }
}

/* No free node anywhere: a location with a queue of its own (a Slurm
 * cluster) may hold the job until one of its nodes frees, the best-ranked
 * first.  Free nodes elsewhere always come first (first_usable). */
static const struct plan_cand *queue_pick(struct sched *s, const struct sjob *sj,
                                          enum mode_rule rule)
{
    size_t scratch[NOT__N] = {0};
    const struct plan_cand *pick;

    if (s->p.driver->ops->queue_capacity == NULL)
        return NULL; /* no location has a queue: the same answer again */
    s->queue_ok = 1;
    pick = first_usable(s, sj, rule, scratch);
    s->queue_ok = 0;
    return pick;
}

/* ---- patience ----
 *
 * The first free candidate may cost much more than one that is full only
 * because this controller's own jobs hold it, and those free their nodes as
 * they end.  A job whose policy rule has patience waits for the cheapest such
 * candidate when the free one costs more than 1 / (1 - cheaper) times as
 * much (both as the planner ranks them: the expected cost of the whole job,
 * with the rule's preference margin), until it is patience x its run time
 * late (the time since submission beyond the work done).  A job with a
 * deadline follows the deadline rule instead (which has it wait for spot
 * only while ahead of its line, and an idle job is not).  It waits for the
 * other such candidates too, those the cheapest is not `cheaper` below (so
 * that when one of them frees, the job, planned again, takes it rather than
 * wait on): it is woken when an attempt on any of them ends, and when its
 * patience runs out.  Waiting for the cheapest alone left a node of the
 * second cheapest idle while jobs waited.  Services and jobs of unknown run
 * time never wait. */

/* The per-place arrays: what the lab's own live attempts hold there, and the
 * jobs parked waiting for it (by offer x mode, own_ix). */
static void own_ensure(struct sched *s)
{
    size_t n = catalog_noffers(s->p.cat) * 2;

    if (s->own_cap >= n)
        return;
    s->own_nodes = xrealloc(s->own_nodes, n * sizeof(*s->own_nodes));
    s->freed_nodes = xrealloc(s->freed_nodes, n * sizeof(*s->freed_nodes));
    s->parked = xrealloc(s->parked, n * sizeof(*s->parked));
    memset(s->freed_nodes + s->own_cap, 0, (n - s->own_cap) * sizeof(*s->freed_nodes));
    memset(s->parked + s->own_cap, 0, (n - s->own_cap) * sizeof(*s->parked));
    s->own_cap = n;
    s->own_valid = 0;
}

#define PARK_ALSO 16 /* the most places a job waits for at once */

static size_t own_ix(long offer, int spot)
{
    return (size_t)offer * 2 + (spot != 0);
}

/* The place of a candidate, and of a job's attempt (its offer >= 0). */
static size_t cand_ix(const struct plan_cand *c)
{
    return own_ix(c->offer, c->mode == PLAN_SPOT);
}

static size_t att_ix(const struct sjob *sj)
{
    return own_ix(sj->offer, sj->att.mode == PLAN_SPOT);
}

/* Nodes this controller's live attempts hold on an offer in a mode: counted
 * from the jobs once (and after a reload), then kept up as attempts start
 * (sched_patience_launched) and end (sched_patience_freed). */
static long own_nodes(struct sched *s, uint32_t offer, int spot)
{
    size_t i;

    own_ensure(s);
    if (!s->own_valid) {
        memset(s->own_nodes, 0, s->own_cap * sizeof(*s->own_nodes));
        for (i = 0; i < s->njobs; i++) {
            const struct sjob *sj = s->jobs[i];

            if (sj->j.cur_attempt != 0 && sj->att.state != ATT_ENDED && sj->offer >= 0)
                s->own_nodes[att_ix(sj)] += sj->att.nodes;
        }
        s->own_valid = 1;
    }
    return s->own_nodes[own_ix(offer, spot)];
}

void sched_patience_launched(struct sched *s, const struct sjob *sj)
{
    if (s->own_valid && sj->offer >= 0 && own_ix(sj->offer, 1) < s->own_cap)
        s->own_nodes[att_ix(sj)] += sj->att.nodes;
}

void sched_patience_reset(struct sched *s)
{
    size_t i;

    for (i = 0; i < s->own_cap; i++) {
        free(s->parked[i].v);
        memset(&s->parked[i], 0, sizeof(s->parked[i]));
        s->freed_nodes[i] = 0;
    }
    s->npark_due = 0;
    s->own_valid = 0;
}

/* Is sj (NULL = gone) still parked as a reference (gen, key) says?  It may
 * have been woken, cancelled or parked again since. */
static int parked_as(const struct sjob *sj, uint32_t gen)
{
    return sj != NULL && sj->park_gen == gen && sj->awaits > 0 &&
           (sj->j.state == JOB_PENDING || sj->j.state == JOB_RECOVERING);
}

/* A parked job back to the jobs to place now (freed: its place freed). */
static void unpark(struct sched *s, struct sjob *sj, int freed)
{
    sj->awaits = 0;
    sj->woken = freed;
    sj->j.next_try_at = s->now;
    sched_wait_add(s, sj);
}

/* Wake the jobs parked for place k, first parked first, as many as the
 * nodes freed there fit (the rest would find it taken); each woken one is
 * inserted into *out (of *nout, grown; cap) as well at *at, which moves past
 * it, when out is not NULL. */
static void wake_place(struct sched *s, size_t k, struct sjob ***out, size_t *at,
                       size_t *nout, size_t *cap)
{
    struct park_list *l = &s->parked[k];
    long committed = 0; /* committed nodes of the jobs woken here */

    while (l->head < l->n) {
        const struct park_ref *r = &l->v[l->head];
        struct sjob *w = sched_job_by_id(s, r->id);
        int cheapest; /* the place it parked for, not another */

        if (!parked_as(w, r->gen)) { /* woken or gone since: dropped */
            l->head++;
            continue;
        }
        if (w->woken_step == s->nsteps)
            break; /* woken in this step already, and parked again since: it
                      and those parked after it have had their turn */
        cheapest = (size_t)w->awaits == k + 1;
        if (w->await_cand.mode == PLAN_COMMITTED) {
            /* committed nodes: those free now count, not only these */
            long f = sched_commit_free(s, catalog_offer(s->p.cat, w->await_cand.offer));

            if (w->await_cand.nodes > f - committed)
                break;
            committed += w->await_cand.nodes;
        } else if (r->nodes > s->freed_nodes[k]) {
            if (cheapest || s->freed_nodes[k] <= 0)
                break;
            /* one of its other places, needing more nodes than freed (a
             * gang): dropped, not holding back those parked after it */
            l->head++;
            continue;
        } else {
            s->freed_nodes[k] -= r->nodes;
            w->wake_key = k + 1;
            w->wake_nodes = r->nodes;
        }
        /* planned again unless this is the place it parked for */
        unpark(s, w, cheapest);
        w->woken_step = s->nsteps;
        if (out != NULL) { /* placed next, before the jobs after it */
            *out = xgrow(*out, cap, *nout + 1, sizeof(**out));
            memmove(*out + *at + 1, *out + *at, (*nout - *at) * sizeof(**out));
            (*out)[(*at)++] = w;
            (*nout)++;
        }
        l->head++;
    }
    if (l->head == l->n) {
        l->head = l->n = 0;
        s->freed_nodes[k] = 0;
    }
}

void sched_patience_freed(struct sched *s, const struct sjob *sj)
{
    size_t k;

    if (sj->offer < 0 || s->own_cap <= own_ix(sj->offer, 1))
        return;
    k = att_ix(sj);
    if (s->own_valid)
        s->own_nodes[k] -= sj->att.nodes;
    if (s->parked[k].head == s->parked[k].n)
        return;
    s->freed_nodes[k] += sj->att.nodes;
    wake_place(s, k, NULL, NULL, NULL, NULL);
}

/* sj was woken by nodes freeing at a place and has had its turn: if it did
 * not launch there (it was planned again and took a cheaper place that freed
 * too, or the prices changed and it waits again, or it was cancelled), the
 * nodes go to the next job parked there, placed next (inserted into the
 * step's *wait at *at; wait NULL: only put back on the jobs to place). */
static void wake_passed(struct sched *s, struct sjob *sj, struct sjob ***wait, size_t *at,
                        size_t *n, size_t *cap)
{
    size_t k;
    const struct offer *o;
    long room;

    if (sj->wake_key == 0)
        return;
    k = sj->wake_key - 1;
    sj->wake_key = 0;
    if (sj->j.cur_attempt != 0 && sj->att.state != ATT_ENDED && sj->offer >= 0 &&
        sj->att.mode != PLAN_COMMITTED && att_ix(sj) == k)
        return;
    /* only what is still free there: a job placed before it in this step
     * may have taken them, and then every job woken in turn would find the
     * place full and wait again */
    o = catalog_offer(s->p.cat, (uint32_t)(k / 2));
    room = driver_offer_capacity(s->p.driver, o, (int)(k % 2));
    if (room >= 0 && (room -= reserved(s, o, (int)(k % 2))) <= 0)
        return;
    if (room < 0) /* the driver does not say: as many as woke it */
        room = sj->wake_nodes;
    s->freed_nodes[k] += sj->wake_nodes < room ? sj->wake_nodes : room;
    wake_place(s, k, wait, at, n, cap);
}

void sched_patience_unpark_all(struct sched *s)
{
    size_t i;

    for (i = 0; i < s->njobs; i++)
        if (s->jobs[i]->awaits > 0)
            unpark(s, s->jobs[i], 0); /* their entries are stale now */
}

void sched_patience_passed(struct sched *s, struct sjob *sj)
{
    size_t n = s->nwait;

    wake_passed(s, sj, NULL, NULL, NULL, NULL);
    s->wake_again |= s->nwait > n;
}

/* Add sj's park (its park_gen) to place key's list, needing nodes there. */
static void park_at(struct sched *s, const struct sjob *sj, size_t key, int nodes)
{
    struct park_list *l = &s->parked[key];

    if (l->head > 0 && l->head * 2 >= l->n) { /* drop the consumed half */
        memmove(l->v, l->v + l->head, (l->n - l->head) * sizeof(*l->v));
        l->n -= l->head;
        l->head = 0;
    }
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n].id = sj->j.id;
    l->v[l->n].gen = sj->park_gen;
    l->v[l->n++].nodes = nodes;
}

/* Park sj waiting for candidate c until `until` (when its patience runs
 * out), and for the nalso places of also[] as well. */
static void park(struct sched *s, struct sjob *sj, const struct plan_cand *c,
                 double until, const struct plan_cand *const *also, size_t nalso)
{
    struct park_due d = {until, sj->j.id, 0};
    size_t i;

    own_ensure(s); /* a wait for committed nodes counted none of own_nodes */
    sj->awaits = (long)cand_ix(c) + 1;
    sj->await_cand = *c;
    sj->await_rank = (size_t)(c - s->plan.c) + 1;
    sj->await_prices = catalog_price_version(s->p.cat);
    d.gen = ++sj->park_gen;
    park_at(s, sj, cand_ix(c), c->nodes);
    for (i = 0; i < nalso; i++)
        park_at(s, sj, cand_ix(also[i]), also[i]->nodes);
    /* when its patience runs out: a binary heap by time */
    s->park_due = xgrow(s->park_due, &s->park_due_cap, s->npark_due + 1, sizeof(*s->park_due));
    for (i = s->npark_due++; i > 0 && s->park_due[(i - 1) / 2].t > until; i = (i - 1) / 2)
        s->park_due[i] = s->park_due[(i - 1) / 2];
    s->park_due[i] = d;
}

/* Jobs whose patience has run out: back to the jobs to place. */
static void unpark_due(struct sched *s)
{
    while (s->npark_due > 0 && s->park_due[0].t <= s->now) {
        struct park_due top = s->park_due[0], last = s->park_due[--s->npark_due];
        struct sjob *sj = sched_job_by_id(s, top.id);
        size_t i = 0, c;

        while ((c = 2 * i + 1) < s->npark_due) {
            if (c + 1 < s->npark_due && s->park_due[c + 1].t < s->park_due[c].t)
                c++;
            if (last.t <= s->park_due[c].t)
                break;
            s->park_due[i] = s->park_due[c];
            i = c;
        }
        if (s->npark_due > 0)
            s->park_due[i] = last;
        if (parked_as(sj, top.gen))
            unpark(s, sj, 0);
    }
}

double sched_patience_next(const struct sched *s)
{
    return s->npark_due > 0 ? s->park_due[0].t : INFINITY;
}

/* How much longer sj may wait for a cheaper place (<= 0: not at all). */
static double patience_left(struct sched *s, const struct sjob *sj)
{
    const struct policy_rule *r = s->plan.rule;

    if (!s->p.cfg.patience || r == NULL || !(r->patience > 0) || sj->j.service_id != 0 ||
        !(sj->spec->duration_s > 0))
        return 0;
    if (deadline_rule_on(s, sj))
        return 0; /* the deadline rule decides when it waits */
    return r->patience * sj->spec->duration_s -
           ((s->now - sj->j.submitted_at) - sched_progress(s, sj));
}

/* Committed nodes c are worth waiting for instead of pick only when pick
 * would pay on demand (a job whose first free choice is spot leaves them to
 * one that would: first_usable), the lab's own attempts hold them all
 * (nothing else can) and enough of them are held by attempts that pay on
 * demand otherwise, so they free as those end (backfill is not given back
 * to a job that may take spot: it would only trade places with it), and a
 * commitment lasts through the wait and the run.  A waiting job is woken
 * by nodes of its candidate's offer freeing (sched_patience_freed), so
 * only where that offer is the commitment group's one (an offer without a
 * zone): the committed nodes of a region whose offers are in zones free in
 * any of them. */
static int commit_wait(struct sched *s, const struct sjob *sj, const struct plan_cand *c,
                       const struct plan_cand *pick, double left)
{
    const struct offer *o = catalog_offer(s->p.cat, c->offer);
    long key, cap, backfill = 0;
    size_t i;

    if (pick->mode != PLAN_ONDEMAND || *o->zone || commit_free(s, o) >= c->nodes ||
        !commit_lasts(s, o, s->now + left + time_left(s, sj)))
        return 0;
    cap = commit_in_force(s, o, &key);
    for (i = 0; i < s->njobs; i++) {
        const struct sjob *b = s->jobs[i];

        if (b->backfill && b->j.cur_attempt != 0 && b->att.state != ATT_ENDED &&
            b->att.mode == PLAN_COMMITTED && strcmp(b->att.cloud, o->cloud) == 0 &&
            strcmp(b->att.region, o->region) == 0 &&
            strcmp(b->att.instance_type, o->instance_type) == 0)
            backfill += b->att.nodes;
    }
    return cap - backfill >= c->nodes;
}

/* The candidate worth waiting for instead of pick, or NULL; *left: how much
 * longer sj may wait; also[0..*nalso): the other places it waits for (at
 * most PARK_ALSO; none when it waits for committed nodes). */
static const struct plan_cand *worth_waiting(struct sched *s, const struct sjob *sj,
                                             enum mode_rule rule,
                                             const struct plan_cand *pick, double *left,
                                             const struct plan_cand **also, size_t *nalso)
{
    const struct plan_cand *best = NULL;
    size_t k, n = 0, i;

    *nalso = 0;
    /* patience of less than a millisecond is none: now + left would round
     * back to now at a Unix time's size, and the job park and wake in the
     * same instant for ever (a simulation that stood still, found by a
     * helper's fuzzing of the study) */
    if (pick->mode == PLAN_COMMITTED || (*left = patience_left(s, sj)) < 1e-3 ||
        s->now + *left <= s->now)
        return NULL;
    for (k = 0; k < s->plan.n; k++) {
        const struct plan_cand *c = &s->plan.c[k];

        /* an overflow cloud takes a job only when the allowed ones cannot,
         * so a free allowed place is never passed over to wait for one */
        if (c == pick || c->tier > pick->tier ||
            !(c->key < pick->key * (1 - s->plan.rule->patience_cheaper)) ||
            !mode_allows(rule, c->mode) ||
            blocked(s, catalog_offer(s->p.cat, c->offer)) ||
            avoided(sj, catalog_offer(s->p.cat, c->offer)) ||
            (s->org != NULL &&
             sched_quota_never(s, sj, catalog_offer(s->p.cat, c->offer), c->nodes)) ||
            (c->mode == PLAN_COMMITTED
                 ? !commit_wait(s, sj, c, pick, *left)
                 : own_nodes(s, c->offer, c->mode == PLAN_SPOT) < c->nodes))
            continue;
        if (n < PARK_ALSO && c->mode != PLAN_COMMITTED)
            also[n++] = c;
        if (best == NULL || c->key < best->key)
            best = c;
    }
    /* the places it also waits for: those the best is not cheaper than by
     * the same margin, so that it takes them when they free (and those of
     * the same offer and mode once) */
    if (best != NULL && best->mode != PLAN_COMMITTED)
        for (k = 0; k < n; k++) {
            const struct plan_cand *c = also[k];

            if (c == best || cand_ix(c) == cand_ix(best) ||
                best->key < c->key * (1 - s->plan.rule->patience_cheaper))
                continue;
            for (i = 0; i < *nalso && cand_ix(also[i]) != cand_ix(c); i++)
                ;
            if (i == *nalso)
                also[(*nalso)++] = c;
        }
    return best;
}

static int wait_for_cheaper(struct sched *s, struct sjob *sj,
                            const struct plan_cand *better, double left,
                            const struct plan_cand *const *also, size_t nalso,
                            struct err *e)
{
    const struct offer *o = catalog_offer(s->p.cat, better->offer);
    char why[400], more[64] = "";
    int rc;

    if (nalso > 0)
        snprintf(more, sizeof(more), " or %zu other place%s near its price", nalso,
                 nalso == 1 ? "" : "s");
    /* No figures of this job's in it: the same wait reads the same for every
     * job (the store keeps one copy; a study parks millions of times). */
    snprintf(why, sizeof(why),
             "waiting for %s/%s %s %s%s, held by the lab's running jobs: at least %g%% "
             "cheaper than the first free place (policy rule '%s': patience %gx)",
             o->cloud, o->region, o->instance_type, plan_mode_name(better->mode), more,
             s->plan.rule->patience_cheaper * 100, s->plan.rule->name,
             s->plan.rule->patience);
    if ((rc = wait_because(s, sj, why, e)) != 0)
        return rc;
    sj->j.next_try_at = s->now + left;
    /* a commitment that starts or ends while it waits changes what is to be
     * had: it looks again then (no wake comes from the nodes) */
    if (better->mode == PLAN_COMMITTED)
        sj->j.next_try_at = fmin(sj->j.next_try_at, s->now + sched_commit_next(s));
    park(s, sj, better, sj->j.next_try_at, also, nalso);
    return 0;
}

static int place_one(struct sched *s, struct sjob *sj, struct err *e)
{
    size_t counts[NOT__N] = {0};
    const struct plan_cand *pick = NULL, *better, *also[PARK_ALSO];
    enum mode_rule rule = MODE_ANY;
    size_t nalso;
    double left;
    struct sjob *v;
    char why[480];
    int rc, od_payer;

    s->quota_why[0] = '\0';
    s->quota_victim = NULL;
    s->quota_looked = 0;
    if (s->org != NULL && (rc = sched_budget_blocks(s, sj, why, sizeof(why) - 16, e)) != 0) {
        char msg[sizeof(why) + 16];

        if (rc < 0)
            return e->code;
        snprintf(msg, sizeof(msg), "waiting: %s", why);
        return wait_because(s, sj, msg, e);
    }
    if (s->org != NULL && sched_quota_blocks_all(s, sj, why, sizeof(why) - 16)) {
        char msg[sizeof(why) + 16];

        snprintf(msg, sizeof(msg), "waiting: %s", why);
        return wait_because(s, sj, msg, e);
    }
    /* Woken because the place it waited for freed: take it, as planned when
     * it parked, if it is still to be had at the same prices. */
    if (sj->woken && (sj->woken = 0, sj->await_prices == catalog_price_version(s->p.cat)) &&
        unusable(s, sj, &sj->await_cand, mode_rule(s, sj), 1) == USE_OK) {
        sj->waiting = 0;
        return create_attempt(s, sj, &sj->await_cand, sj->await_rank, e);
    }
    rc = rank_and_pick(s, sj, &pick, &rule, counts, e);
    if (rc != 0)
        return sched_transition(s, sj, JOB_FAILED, e, "cannot be placed: %s", e->msg);
    sj->waiting = 0;
    sj->awaits = 0;
    /* a job that can only pay on demand takes committed nodes back from
     * backfill (one that may take spot leaves them: the backfill job would
     * then pay what it saves) */
    od_payer = (pick == NULL || pick->mode == PLAN_ONDEMAND) && s->p.cfg.commit_backfill &&
               catalog_ncommitments(s->p.cat) > 0 &&
               (rule == MODE_ON_DEMAND_ONLY || !plan_has_spot(&s->plan));
    if (od_payer) {
        int waits;

        if ((rc = reclaim_for(s, sj, rule, &waits, e)) != 0 || waits)
            return rc;
    }
    if (pick != NULL &&
        (better = worth_waiting(s, sj, rule, pick, &left, also, &nalso)) != NULL)
        return wait_for_cheaper(s, sj, better, left, also, nalso, e);
    if (pick != NULL) {
        rc = create_attempt(s, sj, pick, (size_t)(pick - s->plan.c) + 1, e);
        return rc == 0 && od_payer && pick->mode == PLAN_ONDEMAND
                   ? reclaim_cover(s, sj, catalog_offer(s->p.cat, pick->offer), e)
                   : rc;
    }
    if (s->quota_victim != NULL)
        return sched_reclaim(s, sj, s->quota_victim, e);
    if (counts[NOT_QUOTA] == 0 && s->p.cfg.preempt_lower_priority &&
        (v = victim(s, sj, rule)) != NULL)
        return displace(s, sj, v, e);
    if ((pick = queue_pick(s, sj, rule)) != NULL)
        return create_attempt(s, sj, pick, (size_t)(pick - s->plan.c) + 1, e);
    if (counts[NOT_QUOTA] > 0) {
        char tail[64] = "";

        if (counts[NOT_FULL] + counts[NOT_BLOCKED] > 0)
            snprintf(tail, sizeof(tail), " (and %zu candidate%s full or blocked)",
                     counts[NOT_FULL] + counts[NOT_BLOCKED],
                     counts[NOT_FULL] + counts[NOT_BLOCKED] == 1 ? "" : "s");
        snprintf(why, sizeof(why), "waiting: %s%s", s->quota_why, tail);
        return wait_because(s, sj, why, e);
    }
    snprintf(why, sizeof(why),
             "%zu candidate%s: %zu full, %zu blocked after a stockout%s%s",
             s->plan.feasible, s->plan.feasible == 1 ? "" : "s", counts[NOT_FULL],
             counts[NOT_BLOCKED],
             rule == MODE_ON_DEMAND_ONLY ? ", spot ruled out by the deadline"
             : rule == MODE_SPOT_ONLY    ? ", deadline rule: waiting for spot"
                                         : "",
             counts[NOT_LATE] > 0 ? ", slower alternatives would finish past the deadline"
                                  : "");
    return wait_for_capacity(s, sj, why, e);
}

static int by_priority(const void *a, const void *b)
{
    const struct sjob *x = *(const struct sjob *const *)a, *y = *(const struct sjob *const *)b;
    int xn = x->j.on_demand_only && has_deadline(x), yn = y->j.on_demand_only && has_deadline(y);

    if (x->j.priority != y->j.priority)
        return x->j.priority > y->j.priority ? -1 : 1;
    if (xn != yn) /* on the Safety Net: it misses its deadline if it waits */
        return xn ? -1 : 1;
    if (x->fs != y->fs) /* fair share among teams (sched_quota.c) */
        return x->fs > y->fs ? -1 : 1;
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
static uint64_t shape_of(struct sjob *sj)
{
    uint64_t h = STR_HASH_INIT;
    size_t i;

    /* kept: a step looks at every waiting job's, and thousands may wait */
    if (sj->shape != 0 && sj->shape_pol == (const void *)sj->rule_pol &&
        sj->shape_od == sj->j.on_demand_only && sj->shape_team == sj->team_ix)
        return sj->shape;
    for (i = 0; i < sj->spec->nres; i++) {
        const char *a = sj->spec->res[i].accelerator ? sj->spec->res[i].accelerator : "";

        h = str_hash(h, a);
        h = (h ^ (uint64_t)sj->spec->res[i].acc_count) * 1099511628211ULL;
        h = (h ^ (uint64_t)(sj->spec->res[i].acc_part * 1e6)) * 1099511628211ULL;
        h = (h ^ (uint64_t)(sj->spec->res[i].use_spot + 2)) * 1099511628211ULL;
    }
    h = (h ^ (uint64_t)sj->spec->num_nodes) * 1099511628211ULL;
    h = (h ^ (uint64_t)(uintptr_t)sj->rule_pol) * 1099511628211ULL;
    h = (h ^ (uint64_t)sj->j.on_demand_only) * 1099511628211ULL;
    h = (h ^ (uint64_t)(sj->team_ix + 2)) * 1099511628211ULL; /* quotas are per team */
    sj->shape = h;
    sj->shape_pol = sj->rule_pol;
    sj->shape_od = sj->j.on_demand_only;
    sj->shape_team = sj->team_ix;
    return h;
}

static int shape_failed(struct sched *s, struct sjob *sj, int record)
{
    uint64_t h;
    size_t i;

    if (sj->avoid != NULL || has_deadline(sj))
        return 0; /* individual: never share a verdict */
    h = shape_of(sj);
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
    size_t i, k = 0, n = 0, cap;
    int rc = 0, pmin = INT_MAX;

    s->nresv = 0;
    s->nfailed = 0;
    s->promised = 0;
    unpark_due(s);
    /* Drop from the list the jobs that have moved on or are parked (patience:
     * woken back onto it); count the due ones. */
    for (i = 0; i < s->nwait; i++) {
        struct sjob *sj = s->wait[i];

        if ((sj->j.state != JOB_PENDING && sj->j.state != JOB_RECOVERING) || sj->awaits > 0) {
            sj->in_wait = 0;
            /* woken, then cancelled before its turn: the nodes go on (the
             * jobs woken are added to s->wait, and this loop reaches them) */
            wake_passed(s, sj, NULL, NULL, NULL, NULL);
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
    if ((rc = refresh_blocks(s, e)) != 0 || (rc = sched_quota_refresh(s, e)) != 0)
        return rc;
    commit_count(s);
    /* A due job must not take room a waiting job of higher priority could
     * use: those waiting jobs get their turn in this step too, first. */
    for (i = 0; i < s->nwait; i++)
        if (due(s, s->wait[i]) && s->wait[i]->j.priority < pmin)
            pmin = s->wait[i]->j.priority;
    /* in order, kept between steps: thousands may wait, and few come or
     * change order in a step (team fair shares do) */
    for (i = 1; i < s->nwait && by_priority(&s->wait[i - 1], &s->wait[i]) < 0; i++)
        ;
    if (i < s->nwait)
        qsort(s->wait, s->nwait, sizeof(*s->wait), by_priority);
    cap = s->nwait;
    wait = xcalloc(cap, sizeof(*wait));
    for (i = 0, n = 0; i < s->nwait; i++)
        if (due(s, s->wait[i]) || (s->wait[i]->waiting && s->wait[i]->j.priority > pmin))
            wait[n++] = s->wait[i];
    s->capacity_freed = 0;
    for (i = 0; rc == 0 && i < n; i++) {
        struct sjob *sj = wait[i];

        if ((sj->j.state == JOB_PENDING || sj->j.state == JOB_RECOVERING) &&
            !(sj->waiting && shape_failed(s, sj, 0))) { /* else: no room for its shape */
            rc = place_one(s, sj, e);
            if (rc == 0 && sj->waiting)
                shape_failed(s, sj, 1);
        }
        if (rc == 0) {
            size_t at = i + 1;

            wake_passed(s, sj, &wait, &at, &n, &cap);
        }
    }
    free(wait);
    return rc;
}
