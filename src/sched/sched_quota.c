/*
 * sched_quota.c - teams in the controller: quotas at admission, borrowing
 * within a cohort and reclaiming it, fair share, monthly budgets
 * (policy/org.h has the document; docs/teams.md the user's side).
 *
 * Quotas.  A team's quota entry counts the GPUs of the team's live attempts
 * it covers.  A candidate placement is admitted when every entry covering
 * it has room; otherwise, when the team is in a cohort, it may borrow: the
 * candidate is admitted while the cohort's total of that kind (the sum of
 * its teams' entries of the same accelerator and cloud) has room.  This is
 * Kueue's model of ClusterQueues in a cohort, with nominal quota and
 * borrowing (kueue.sigs.k8s.io, "Cohort" and "Preemption": reclaimWithinCohort).
 *
 * Reclaiming.  A team asking for GPUs within its own quota, when the cohort
 * is full because other teams borrowed, takes them back: the borrowing
 * team's attempt of that kind with the lowest priority (the newest among
 * equals) is stopped as a displacement is (its checkpoint kept, the job
 * recovers when there is room for it again), one per placement.
 *
 * Fair share.  Among waiting jobs of the same priority, the team with the
 * higher fair-share factor goes first: Slurm's classic factor
 * F = 2^(-U/S) (slurm.schedmd.com/priority_multifactor.html, "Fair-share
 * Factor"), U the team's share of the decayed GPU usage of all teams and S
 * its share of their weights; usage decays with a half-life (Slurm's
 * PriorityDecayHalfLife, 7 days by default).  A controller that opens (or
 * gets its first teams) reads the usage from the attempts in the store,
 * decayed to now; then keeps it in memory.
 *
 * Budgets.  A team's spend this calendar month (UTC) is what its attempts
 * that ended this month cost plus what its live attempts have cost so far;
 * it is counted from the store when the month, the document or the
 * controller changes, then kept up to date.  A hard budget stops admission
 * (running work runs on); a soft one logs a warning once a month.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../catalog/catalog.h"
#include "../policy/org.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "sched.h"
#include "sched_int.h"

/* GPUs an attempt of `nodes` nodes of `count` accelerators holds. */
static long gpus_of(const char *acc, int count, int nodes)
{
    return acc != NULL && *acc && count > 0 ? (long)count * nodes : 0;
}

static int same_kind(const struct org_quota *a, const struct org_quota *b)
{
    if (strcasecmp(a->accelerator, b->accelerator) != 0)
        return 0;
    return (a->cloud == NULL && b->cloud == NULL) ||
           (a->cloud && b->cloud && strcmp(a->cloud, b->cloud) == 0);
}

static int same_cohort(const struct org_team *a, const struct org_team *b)
{
    return a->cohort && b->cohort && strcmp(a->cohort, b->cohort) == 0;
}

static void states_free(struct team_state *ts, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(ts[i].used);
        free(ts[i].cohort_used);
        free(ts[i].cohort_cap);
        free(ts[i].owner_wait);
    }
    free(ts);
}

void sched_quota_free(struct sched *s)
{
    states_free(s->ts, s->nts);
    s->ts = NULL;
    s->nts = 0;
}

/* Each quota entry's cohort total: the sum of the entries of the same kind
 * of the teams in its cohort (a team alone: its own).  The document alone
 * decides it, so it is worked out when the document comes. */
static void cohort_caps(struct sched *s)
{
    const struct org *g = s->org;
    size_t i, q, u, k;

    for (i = 0; i < s->nts; i++) {
        const struct org_team *tm = &g->teams[i];

        for (q = 0; q < tm->nquota; q++) {
            s->ts[i].cohort_cap[q] = tm->cohort ? 0 : tm->quota[q].gpus;
            for (u = 0; tm->cohort && u < s->nts; u++)
                for (k = 0; same_cohort(tm, &g->teams[u]) && k < g->teams[u].nquota; k++)
                    if (same_kind(&g->teams[u].quota[k], &tm->quota[q]))
                        s->ts[i].cohort_cap[q] += g->teams[u].quota[k].gpus;
        }
    }
}

void sched_set_org(struct sched *s, const struct org *g)
{
    struct team_state *old = s->ts;
    const struct org *was = s->org;
    size_t nold = s->nts, i, k;

    s->ts = NULL;
    s->nts = 0;
    s->org = g != NULL && g->nteams > 0 ? g : NULL;
    s->org_gen++;
    s->spend_month = 0; /* count again */
    if (was == NULL)
        s->usage_known = 0; /* the first teams: their usage is in the store */
    s->capacity_freed = 1; /* quotas may have grown: wake waiting jobs */
    sched_patience_unpark_all(s); /* and parked ones: a place may be barred now */
    if (s->org != NULL) {
        s->nts = s->org->nteams;
        s->ts = xcalloc(s->nts, sizeof(*s->ts));
        for (i = 0; i < s->nts; i++) {
            size_t nq = s->org->teams[i].nquota + 1;

            s->ts[i].used = xcalloc(nq, sizeof(long));
            s->ts[i].cohort_used = xcalloc(nq, sizeof(long));
            s->ts[i].cohort_cap = xcalloc(nq, sizeof(long));
            s->ts[i].owner_wait = xcalloc(nq, sizeof(double));
            /* a team keeps its usage across a change of the document */
            for (k = 0; was != NULL && k < nold; k++)
                if (k < was->nteams && strcmp(was->teams[k].name, s->org->teams[i].name) == 0) {
                    s->ts[i].fs_usage = old[k].fs_usage;
                    s->ts[i].fs_gpus = old[k].fs_gpus;
                }
        }
        cohort_caps(s);
    }
    states_free(old, nold);
}

int sched_team_of(struct sched *s, struct sjob *sj)
{
    size_t i;

    if (s->org == NULL)
        return -1;
    if (sj->org_gen != s->org_gen) {
        sj->org_gen = s->org_gen;
        sj->team_ix = -1;
        for (i = 0; sj->j.team && i < s->org->nteams; i++)
            if (strcmp(s->org->teams[i].name, sj->j.team) == 0)
                sj->team_ix = (int)i;
    }
    return sj->team_ix;
}

/* Count g GPUs of accelerator acc on cloud for team t (g < 0: take away):
 * its entries, and the cohort totals of every team in its cohort. */
static void count(struct sched *s, int t, const char *acc, const char *cloud, long g)
{
    const struct org_team *tm = &s->org->teams[t];
    size_t q, u, k;

    for (q = 0; q < tm->nquota; q++) {
        if (!org_quota_covers(&tm->quota[q], acc, cloud))
            continue;
        s->ts[t].used[q] += g;
        if (tm->cohort == NULL)
            continue;
        for (u = 0; u < s->org->nteams; u++) {
            const struct org_team *um = &s->org->teams[u];

            if (!same_cohort(tm, um))
                continue;
            for (k = 0; k < um->nquota; k++)
                if (same_kind(&um->quota[k], &tm->quota[q]))
                    s->ts[u].cohort_used[k] += g;
        }
    }
}

static int month_of(double t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

static double month_start(double t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (double)timegm(&tm);
}

struct job_team {
    int64_t id;
    int team;
};

static int cmp_job_team(const void *a, const void *b)
{
    const struct job_team *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* GPU-seconds of a run from `from` to `to`, decayed to `now` by half-life h:
 * the integral of g x 2^(-(now - t)/h) over the run. */
static double decayed(double g, double from, double to, double now, double h)
{
    return g * h / M_LN2 * (exp2(-(now - to) / h) - exp2(-(now - from) / h));
}

/* From the store, per team: the month's spend of ended attempts (spend) and
 * the decayed GPU usage of every attempt that ran (usage), so that a
 * controller that opens, or reads a new month, starts from what happened. */
static int count_history(struct sched *s, int spend, int usage, struct err *e)
{
    struct job_team *map = NULL;
    size_t nmap = 0, cap = 0, i, n;
    int64_t after = 0;
    double from = month_start(s->now), h = s->org->half_life_s;
    int rc = 0;

    for (i = 0; i < s->nts; i++) {
        if (spend)
            s->ts[i].month_spend = 0;
        if (usage)
            s->ts[i].fs_usage = s->ts[i].fs_gpus = 0;
    }
    for (;;) { /* jobs -> teams */
        struct store_job *jobs = NULL;

        if ((rc = store_job_page(s->p.store, after, 4096, &jobs, &n, e)) != 0)
            goto out;
        for (i = 0; i < n; i++) {
            const struct org_team *t = jobs[i].team ? org_team(s->org, jobs[i].team) : NULL;

            after = jobs[i].id;
            if (t == NULL)
                continue;
            map = xgrow(map, &cap, nmap + 1, sizeof(*map));
            map[nmap].id = jobs[i].id;
            map[nmap++].team = (int)(t - s->org->teams);
        }
        store_jobs_free(jobs, n);
        if (n < 4096)
            break;
    }
    after = 0;
    for (; nmap > 0;) {
        struct store_attempt *atts = NULL;

        if ((rc = store_attempt_page(s->p.store, after, 4096, &atts, &n, e)) != 0)
            goto out;
        for (i = 0; i < n; i++) {
            const struct store_attempt *a = &atts[i];
            struct job_team key = {a->job_id, 0}, *hit;
            struct team_state *ts;

            after = a->id;
            hit = bsearch(&key, map, nmap, sizeof(*map), cmp_job_team); /* nmap > 0 */
            if (hit == NULL)
                continue;
            ts = &s->ts[hit->team];
            if (spend && a->state == ATT_ENDED && a->ended_at >= from)
                ts->month_spend += a->cost;
            if (usage && a->running_at > 0) {
                double end = a->state == ATT_ENDED ? a->ended_at : s->now;
                long g = gpus_of(a->accelerator, a->acc_count, a->nodes);

                if (end > a->running_at && end <= s->now)
                    ts->fs_usage += decayed((double)g, a->running_at, end, s->now, h);
            }
        }
        store_attempts_free(atts, n);
        if (n < 4096)
            break;
    }
    if (spend)
        s->spend_month = month_of(s->now);
    if (usage) {
        s->usage_known = 1;
        s->fs_at = s->now; /* live attempts are counted up to now */
    }
out:
    free(map);
    return rc;
}

void sched_quota_spent(struct sched *s, struct sjob *sj, double usd)
{
    int t = sched_team_of(s, sj);

    if (t >= 0 && s->spend_month == month_of(s->now))
        s->ts[t].month_spend += usd;
}

int sched_quota_refresh(struct sched *s, struct err *e)
{
    const struct org *g = s->org;
    double dt, tot_u = 0, tot_w = 0, h;
    size_t i;

    if (g == NULL)
        return 0;
    /* every team's spend (`team show`), not only budgets' */
    if (!s->usage_known || s->spend_month != month_of(s->now)) {
        int rc = count_history(s, s->spend_month != month_of(s->now), !s->usage_known, e);

        if (rc != 0)
            return rc;
    }
    /* fair share: decay the usage to now, adding what ran since the last
     * update (fs_gpus all along: the integral of a constant under decay);
     * the factors come from it, before the jobs are read */
    h = g->half_life_s;
    dt = s->fs_at > 0 && s->now > s->fs_at ? s->now - s->fs_at : 0;
    for (i = 0; i < s->nts; i++) {
        double keep = exp2(-dt / h);

        s->ts[i].fs_usage = s->ts[i].fs_usage * keep + s->ts[i].fs_gpus * h / M_LN2 * (1 - keep);
        s->ts[i].fs_gpus = 0; /* counted again below: what runs from now on */
        tot_u += s->ts[i].fs_usage;
        tot_w += g->teams[i].weight;
    }
    s->fs_at = s->now;
    for (i = 0; i < s->nts; i++) {
        s->ts[i].factor = tot_u > 0 ? exp2(-(s->ts[i].fs_usage / tot_u) /
                                           (g->teams[i].weight / tot_w))
                                    : 1.0;
        memset(s->ts[i].used, 0, (g->teams[i].nquota + 1) * sizeof(long));
        memset(s->ts[i].cohort_used, 0, (g->teams[i].nquota + 1) * sizeof(long));
        s->ts[i].live_spend = 0;
    }
    for (i = 0; i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];
        int t = sched_team_of(s, sj);
        long n;

        sj->fs = t >= 0 ? s->ts[t].factor : 1.0;
        if (t < 0 || sj->j.cur_attempt == 0 || sj->att.state == ATT_ENDED)
            continue;
        if (g->teams[t].budget_usd > 0)
            s->ts[t].live_spend += store_attempt_spent_at(&sj->att, s->now);
        n = gpus_of(sj->att.accelerator, sj->att.acc_count, sj->att.nodes);
        if (n == 0)
            continue;
        count(s, t, sj->att.accelerator, sj->att.cloud, n);
        if (sj->att.state == ATT_RUNNING)
            s->ts[t].fs_gpus += (double)n;
    }
    s->quota_trans = s->transitions;
    s->quota_gen = s->org_gen;
    return 0;
}

/* Borrowed work of the cohort of team t, of the kind of t's entry q, to
 * stop: a live attempt of another team of the cohort that is over its own
 * quota of that kind, the lowest priority first, then the newest. */
static struct sjob *borrower(struct sched *s, int t, size_t q)
{
    const struct org_team *tm = &s->org->teams[t];
    struct sjob *best = NULL;
    size_t i, k;

    for (i = 0; i < s->njobs; i++) {
        struct sjob *v = s->jobs[i];
        const struct org_team *um;
        int over = 0, u;

        if (v->j.cur_attempt == 0 || v->att.state == ATT_ENDED)
            continue;
        u = sched_team_of(s, v);
        if (u < 0 || u == t)
            continue;
        um = &s->org->teams[u];
        if (!same_cohort(tm, um) ||
            !org_quota_covers(&tm->quota[q], v->att.accelerator, v->att.cloud))
            continue;
        for (k = 0; k < um->nquota; k++)
            if (same_kind(&um->quota[k], &tm->quota[q]) && s->ts[u].used[k] > um->quota[k].gpus)
                over = 1;
        if (!over)
            continue;
        if (best == NULL || v->j.priority < best->j.priority ||
            (v->j.priority == best->j.priority &&
             (v->att.launched_at > best->att.launched_at ||
              (v->att.launched_at == best->att.launched_at && v->j.id > best->j.id))))
            best = v;
    }
    return best;
}

/* Does a team of t's cohort (not t) wait for its own quota of the kind of
 * t's entry q (recently: it is looked at again at least every wait_retry)? */
static int owner_waits(const struct sched *s, int t, size_t q)
{
    const struct org_team *tm = &s->org->teams[t];
    double since = s->now - 2 * s->p.cfg.wait_retry_s - 1;
    size_t u, k;

    for (u = 0; u < s->nts; u++) {
        const struct org_team *um = &s->org->teams[u];

        if ((int)u == t || !same_cohort(tm, um))
            continue;
        for (k = 0; k < um->nquota; k++)
            if (s->ts[u].owner_wait[k] > 0 && s->ts[u].owner_wait[k] >= since &&
                same_kind(&um->quota[k], &tm->quota[q]))
                return 1;
    }
    return 0;
}

/* The most GPUs team t can have under its quota entry q: its own, or with
 * all its cohort's borrowed. */
static long quota_most(const struct sched *s, int t, size_t q)
{
    const struct org_team *tm = &s->org->teams[t];

    return tm->cohort ? s->ts[t].cohort_cap[q] : tm->quota[q].gpus;
}

/* Why team t waits for its quota entry q, needing `need` GPUs, into buf (n
 * bytes) unless buf says why already: "team research uses 8/8 H100 (needs
 * 8)", then tail (a format). */
static void quota_why(char *buf, size_t n, const struct sched *s, int t, size_t q, long need,
                      const char *tail, ...) __attribute__((format(printf, 7, 8)));

static void quota_why(char *buf, size_t n, const struct sched *s, int t, size_t q, long need,
                      const char *tail, ...)
{
    const struct org_team *tm = &s->org->teams[t];
    const struct org_quota *qt = &tm->quota[q];
    long most = quota_most(s, t, q);
    va_list ap;
    int len;

    if (buf[0])
        return;
    len = snprintf(buf, n, "team %s uses %ld/%ld %s%s%s (needs %ld)", tm->name,
                   s->ts[t].used[q], qt->gpus,
                   strcmp(qt->accelerator, "*") == 0 ? "GPUs" : qt->accelerator,
                   qt->cloud ? " on " : "", qt->cloud ? qt->cloud : "", need);
    if (len < 0 || (size_t)len >= n)
        return;
    va_start(ap, tail);
    len += vsnprintf(buf + len, n - (size_t)len, tail, ap);
    va_end(ap);
    if (need > most && len > 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len,
                 "; it needs more than the quota can ever give (%ld): it waits until the "
                 "quota is raised (`stratus team set-quota`)",
                 most);
}

/* Is placing `nodes` nodes of o for team t over a quota of the team's?  1,
 * with why (n bytes) saying which, or 0.  `placing`: this is the
 * controller's admission, which notes a team owed its own quota and looks
 * for a borrower to reclaim it from; a plan's question changes nothing. */
static int quota_over(struct sched *s, int t, const struct offer *o, int nodes, char *why,
                      size_t n, int placing)
{
    const struct org_team *tm;
    long need;
    size_t q;

    if (t < 0)
        return 0;
    need = gpus_of(o->accelerator, o->acc_count, nodes);
    if (need == 0)
        return 0;
    tm = &s->org->teams[t];
    for (q = 0; q < tm->nquota; q++) {
        const struct org_quota *qt = &tm->quota[q];
        long cu = s->ts[t].cohort_used[q], cap = s->ts[t].cohort_cap[q];
        int own_ok = s->ts[t].used[q] + need <= qt->gpus;

        if (!org_quota_covers(qt, o->accelerator, o->cloud))
            continue;
        if (tm->cohort == NULL) {
            if (own_ok)
                continue;
            quota_why(why, n, s, t, q, need, "%s", "");
            return 1;
        }
        if (cu + need <= cap && (own_ok || !owner_waits(s, t, q)))
            continue; /* its own, or borrowed from the cohort */
        if (cu + need <= cap) { /* room, but owed to a team waiting for its own */
            quota_why(
                why, n, s, t, q, need,
                "; the cohort %s's room is owed to a team waiting for its own quota",
                tm->cohort);
            return 1;
        }
        if (placing && own_ok) {
            /* its own quota, lent out: no borrowing until it has it back */
            s->ts[t].owner_wait[q] = s->now;
            if (s->quota_victim == NULL && !s->quota_looked) {
                /* one look per placement: the scan is of every job */
                s->quota_looked = 1;
                s->quota_victim = borrower(s, t, q);
                s->quota_reclaimer = t;
            }
        }
        quota_why(why, n, s, t, q, need, "; cohort %s uses %ld/%ld%s", tm->cohort, cu,
                  cap, own_ok ? " (lent to other teams)" : "");
        return 1;
    }
    return 0;
}

int sched_quota_admit(struct sched *s, const struct sjob *sj, const struct offer *o,
                      int nodes)
{
    int t = sj->org_gen == s->org_gen ? sj->team_ix : -1; /* found at the refresh */

    return quota_over(s, t, o, nodes, s->quota_why, sizeof(s->quota_why), 1);
}

int sched_quota_fits(struct sched *s, const struct sjob *sj, const struct offer *o,
                     int nodes)
{
    int t = sj->org_gen == s->org_gen ? sj->team_ix : -1;
    char why[256];

    return s->org == NULL || quota_over(s, t, o, nodes, why, sizeof(why), 0) == 0;
}

int sched_quota_never(const struct sched *s, const struct sjob *sj, const struct offer *o,
                      int nodes)
{
    int t = sj->org_gen == s->org_gen ? sj->team_ix : -1;
    const struct org_team *tm;
    long need;
    size_t q;

    if (t < 0 || (need = gpus_of(o->accelerator, o->acc_count, nodes)) == 0)
        return 0;
    tm = &s->org->teams[t];
    for (q = 0; q < tm->nquota; q++)
        if (org_quota_covers(&tm->quota[q], o->accelerator, o->cloud) &&
            need > quota_most(s, t, q))
            return 1;
    return 0;
}

int sched_quota_blocks_all(struct sched *s, struct sjob *sj, char *why, size_t n)
{
    int t = sched_team_of(s, sj);
    const struct org_team *tm;
    size_t r, q;

    if (t < 0)
        return 0;
    why[0] = '\0';
    tm = &s->org->teams[t];
    for (r = 0; r < sj->spec->nres; r++) {
        const struct spec_res *res = &sj->spec->res[r];
        long need = (long)res->acc_count * sj->spec->num_nodes;
        int blocked = 0;

        if (res->accelerator == NULL || res->acc_count <= 0)
            return 0; /* not counted, or not known before planning */
        for (q = 0; q < tm->nquota; q++) {
            const struct org_quota *qt = &tm->quota[q];
            long cu = s->ts[t].cohort_used[q], cap = s->ts[t].cohort_cap[q];
            int own_ok = s->ts[t].used[q] + need <= qt->gpus;

            if (qt->cloud != NULL || !org_quota_covers(qt, res->accelerator, NULL))
                continue; /* a quota of one cloud leaves the others open */
            if (tm->cohort == NULL ? own_ok : cu + need <= cap)
                continue;
            if (tm->cohort != NULL && own_ok)
                return 0; /* its own quota, lent out: the full path reclaims */
            blocked = 1;
            if (tm->cohort)
                quota_why(why, n, s, t, q, need, "; cohort %s uses %ld/%ld", tm->cohort, cu, cap);
            else
                quota_why(why, n, s, t, q, need, "%s", "");
            break;
        }
        if (!blocked)
            return 0;
    }
    return sj->spec->nres > 0;
}

void sched_quota_add(struct sched *s, struct sjob *sj, const struct offer *o, int nodes)
{
    int t = sched_team_of(s, sj);
    long n = gpus_of(o->accelerator, o->acc_count, nodes);
    size_t q;

    if (t < 0 || n <= 0)
        return;
    count(s, t, o->accelerator, o->cloud, n);
    for (q = 0; q < s->org->teams[t].nquota; q++) /* it has what it waited for */
        if (org_quota_covers(&s->org->teams[t].quota[q], o->accelerator, o->cloud))
            s->ts[t].owner_wait[q] = 0;
}

int sched_reclaim(struct sched *s, struct sjob *sj, struct sjob *v, struct err *e)
{
    const char *team = s->org->teams[s->quota_reclaimer].name;
    int u = sched_team_of(s, v), rc;
    long n = gpus_of(v->att.accelerator, v->att.acc_count, v->att.nodes);
    char acc[64], cloud[32];

    snprintf(acc, sizeof(acc), "%s", v->att.accelerator ? v->att.accelerator : "");
    snprintf(cloud, sizeof(cloud), "%s", v->att.cloud ? v->att.cloud : "");
    if ((rc = sched_end_attempt(s, v, ATT_END_DISPLACED, -1, 0, e)) != 0 ||
        (rc = sched_recover(s, v, 0, e,
                            "reclaimed: team %s borrowed %ld %s of the cohort's quota and "
                            "team %s (job %lld) needs its own back",
                            s->org->teams[u].name, n, acc, team, (long long)sj->j.id)) != 0)
        return rc;
    count(s, u, acc, cloud, -n);
    if ((rc = sched_retry_at(s, v, s->now + sched_cfg_at(s, cloud, NULL)->backoff_base_s,
                             e)) != 0)
        return rc;
    sj->j.next_try_at = 0;
    return sched_log(s, sj, "reclaim", e,
                     "stopping job %lld of team %s (%ld %s borrowed) to get team %s's quota back",
                     (long long)v->j.id, s->org->teams[u].name, n, acc, team);
}

int sched_budget_blocks(struct sched *s, struct sjob *sj, char *why, size_t n, struct err *e)
{
    int t = sched_team_of(s, sj), m;
    const struct org_team *tm;
    double spend;
    char a[32], b[32];

    if (t < 0 || s->org->teams[t].budget_usd <= 0)
        return 0;
    tm = &s->org->teams[t];
    spend = s->ts[t].month_spend + s->ts[t].live_spend;
    if (spend < tm->budget_usd)
        return 0;
    m = month_of(s->now);
    snprintf(why, n, "team %s spent %s of its %s budget for %04d-%02d (%s limit)", tm->name,
             str_money(a, sizeof(a), spend), str_money(b, sizeof(b), tm->budget_usd), m / 100,
             m % 100, tm->budget_hard ? "hard" : "soft");
    if (tm->budget_hard)
        return 1;
    if (s->ts[t].warned_month != m) {
        s->ts[t].warned_month = m;
        if (sched_log(s, sj, "budget", e, "%s: admitted, over budget", why) != 0)
            return -1;
    }
    return 0;
}

/* Team `name`'s index with its figures up to date, or -1 when the
 * controller knows no such team. */
static int team_fresh(struct sched *s, const char *name)
{
    const struct org_team *t;
    struct err e;

    if (s->org == NULL || name == NULL || (t = org_team(s->org, name)) == NULL)
        return -1;
    /* the figures stand until the clock moves, a job changes state or the
     * teams change (a new document starts every team's figures at 0) */
    if ((s->fs_at != s->now || s->quota_trans != s->transitions ||
         s->quota_gen != s->org_gen) &&
        sched_quota_refresh(s, &e) != 0)
        log_warn("team usage: %s", e.msg);
    return (int)(t - s->org->teams);
}

int sched_team_usage(struct sched *s, const char *name, long *used, size_t n,
                     double *spend, double *factor)
{
    int ix = team_fresh(s, name);
    size_t i;

    if (ix < 0)
        return -1;
    for (i = 0; i < n && i < s->org->teams[ix].nquota; i++)
        used[i] = s->ts[ix].used[i];
    *spend = s->ts[ix].month_spend + s->ts[ix].live_spend;
    *factor = s->ts[ix].factor;
    return 0;
}

int sched_quota_check(struct sched *s, const char *team, const struct offer *o, int nodes,
                      char *why, size_t n)
{
    int ix = team_fresh(s, team);

    if (n > 0)
        why[0] = '\0';
    return ix >= 0 && n > 0 && quota_over(s, ix, o, nodes, why, n, 0);
}
