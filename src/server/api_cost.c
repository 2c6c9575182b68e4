/*
 * api_cost.c - the cost report for one month, or for a caller who sees only
 * some teams (GET /v1/cost?month=YYYY-MM; any call by a user's token),
 * with each team's budget, burn-down and forecast to the month's end.
 *
 * The lab-wide report is a query in the store (store_cost_report); this
 * one reads jobs and attempts a page at a time and adds up what each
 * attempt cost inside the month: its compute inside the month (its last
 * price's stretch exactly, what it ran before at an earlier price prorated,
 * store_attempt_compute_in), its data move (egress) in the month it started
 * running.  A running attempt counts up to now.  Both reports add what
 * keeping the data replicas jobs made has cost (storage, docs/data.md),
 * each copy to the job that made it, prorated in a month; and, for a
 * caller who sees every team, the fees of the catalog's commitments
 * (docs/commitments.md), amortised by the hour from each one's start to
 * now: in its cloud's row by cloud, else in no row (a commitment is the
 * lab's, no team's or job's), each in the reply's `commitments` and all in
 * its total.
 *
 * The forecast is the spend so far plus the month's remaining time at the
 * burn rate of the last 7 days (or of the month so far, when younger): the
 * rate a budget owner sees on the bill, not a model.
 */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/apijson.h"
#include "../catalog/catalog.h"
#include "../policy/org.h"
#include "../sched/sched.h"
#include "../store/store.h"
#include "../util/hmap.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "server.h"

#define PAGE 4096
#define RATE_WINDOW_S (7 * 86400.0)

struct job_ref {
    int64_t id;
    const char *team, *name; /* interned; team NULL = none */
};

struct report {
    struct strpool pool;
    struct keymap idx;     /* key -> row */
    struct store_cost_row *rows;
    size_t n, cap;
    double *recent;        /* by team: spend of the last RATE_WINDOW_S, per row */
    const struct catalog *cat;
    struct sched_copies copies; /* by cloud: the copies attempts made */
};

/* ---- who bills a data move ---- */

static int cmp_ref(const void *a, const void *b)
{
    const struct job_ref *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static size_t row_of(struct report *r, const char *key, const char *name)
{
    const char *k = strpool_intern(&r->pool, key);
    uint32_t at = (uint32_t)r->n;

    if (keymap_put(&r->idx, k, NULL, NULL, NULL, &at))
        return at;
    r->rows = xgrow(r->rows, &r->cap, r->n + 1, sizeof(*r->rows));
    r->recent = realloc(r->recent, r->cap * sizeof(double));
    memset(&r->rows[r->n], 0, sizeof(*r->rows));
    r->rows[r->n].key = (char *)(uintptr_t)k;
    r->rows[r->n].name = name ? (char *)(uintptr_t)name : NULL;
    r->recent[r->n] = 0;
    return r->n++;
}

/* Seconds of [a, b) inside [from, to). */
static double overlap(double a, double b, double from, double to)
{
    double lo = a > from ? a : from, hi = b < to ? b : to;

    return hi > lo ? hi - lo : 0;
}

/* "2026-12" -> [from, to) in Unix time (UTC): 0, or -1. */
static int month_range(const char *m, double *from, double *to)
{
    struct tm tm;
    int y, mo;
    char tail;

    if (sscanf(m, "%4d-%2d%c", &y, &mo, &tail) != 2 || y < 1970 || y > 9999 || mo < 1 ||
        mo > 12 || strlen(m) != 7)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = 1;
    *from = (double)timegm(&tm);
    tm.tm_mon++;
    *to = (double)timegm(&tm);
    return 0;
}

/* The jobs the caller sees, by id (names and teams interned in r->pool). */
static int visible_jobs(struct api_call *c, struct report *r, struct job_ref **out, size_t *n,
                        struct err *e)
{
    struct job_ref *v = NULL;
    size_t cap = 0, k, got;
    int64_t after = 0;
    int rc;

    *n = 0;
    do {
        struct store_job *jobs = NULL;
        struct store_job_scan q = {0, 0, after, PAGE, 1}; /* no specs: not read here */

        if ((rc = store_job_scan(c->s->st, &q, &jobs, &got, e)) != 0)
            break;
        for (k = 0; k < got; k++) {
            after = jobs[k].id;
            if (!api_team_visible(c, jobs[k].team))
                continue;
            v = xgrow(v, &cap, *n + 1, sizeof(*v));
            v[*n].id = jobs[k].id;
            v[*n].team = jobs[k].team ? strpool_intern(&r->pool, jobs[k].team) : NULL;
            v[(*n)++].name = jobs[k].name ? strpool_intern(&r->pool, jobs[k].name) : NULL;
        }
        store_jobs_free(jobs, got);
    } while (got == PAGE);
    *out = v;
    return rc;
}

/* By cloud: data moves to the clouds that bill them. */
static void add_egress_parts(struct report *r, const struct sched_egress_part *p,
                             size_t np)
{
    size_t i;

    for (i = 0; i < np; i++) {
        size_t k = row_of(r, p[i].cloud, NULL);

        r->rows[k].usd += p[i].usd;
        r->rows[k].egress_usd += p[i].usd;
    }
}

static void add_attempt(struct report *r, const char *by, const struct job_ref *j,
                        const struct store_attempt *a, double from, double to, double now)
{
    double end = a->state == ATT_ENDED ? a->ended_at : now;
    double run = a->running_at > 0 && end > a->running_at ? end - a->running_at : 0;
    double in = run > 0 ? overlap(a->running_at, end, from, to) : 0;
    double usd = store_attempt_compute_in(a, now, from, to), egress = 0, recent;
    char key[32];
    const char *k;
    size_t i;

    if (a->running_at >= from && a->running_at < to)
        egress = a->egress;
    if (usd + egress <= 0 && !(a->launched_at >= from && a->launched_at < to))
        return;
    if (strcmp(by, "cloud") == 0) {
        k = a->cloud ? a->cloud : "(none)";
    } else if (strcmp(by, "team") == 0) {
        k = j->team ? j->team : "(none)";
    } else {
        snprintf(key, sizeof(key), "%lld", (long long)j->id);
        k = key;
    }
    i = row_of(r, k, strcmp(by, "job") == 0 ? j->name : NULL);
    if (strcmp(by, "cloud") == 0 && egress > 0) { /* by who bills it */
        struct sched_egress_part p[SCHED_EGRESS_HOPS];

        add_egress_parts(r, p,
                         sched_attempt_egress(r->cat, &r->copies, a, egress, NULL, p));
        egress = 0;
    }
    r->rows[i].usd += usd + egress;
    r->rows[i].egress_usd += egress;
    r->rows[i].compute_usd += usd;
    r->rows[i].attempts++;
    if (run > 0) { /* a live attempt's to now, as store_cost_report counts them */
        double nh = a->nodes * in / 3600.0;

        r->rows[i].node_hours += nh;
        if (a->state == ATT_ENDED && a->end_reason != ATT_END_EXITED)
            r->rows[i].lost_node_hours += nh;
    }
    recent = store_attempt_compute_in(a, now, now - RATE_WINDOW_S, now);
    r->recent[i] += recent;
}

static int by_usd(const void *a, const void *b)
{
    const struct store_cost_row *x = a, *y = b;

    if (x->usd != y->usd)
        return x->usd > y->usd ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* By job, ties in job id order, as numbers (9 before 10), as the store's
 * report has them. */
static int by_usd_job(const void *a, const void *b)
{
    const struct store_cost_row *x = a, *y = b;
    long long i = strtoll(x->key, NULL, 10), j = strtoll(y->key, NULL, 10);

    if (x->usd != y->usd)
        return x->usd > y->usd ? -1 : 1;
    return (i > j) - (i < j);
}

/* A team's budget line: spend, budget, what is left, the forecast. */
static void budget_of(struct api_call *c, json_t *row, double usd, double recent, double from,
                      double to)
{
    const struct org_team *t = org_team(c->s->org, json_string_value(json_object_get(row, "key")));
    double now = c->now < to ? c->now : to, span = now - from;
    double window = span < RATE_WINDOW_S ? span : RATE_WINDOW_S;
    double rate = window > 0 ? (span < RATE_WINDOW_S ? usd : recent) / window : 0;
    double forecast = usd + (to > now ? (to - now) * rate : 0);

    json_object_set_new(row, "budget_spend_usd", json_real(usd)); /* usd less storage */
    json_object_set_new(row, "forecast_usd", json_real(forecast));
    json_object_set_new(row, "burn_usd_per_day", json_real(rate * 86400.0));
    if (t == NULL || t->budget_usd <= 0)
        return;
    json_object_set_new(row, "budget_usd", json_real(t->budget_usd));
    json_object_set_new(row, "budget_limit", json_string(t->budget_hard ? "hard" : "soft"));
    json_object_set_new(row, "remaining_usd", json_real(t->budget_usd - usd));
    json_object_set_new(row, "budget_used", json_real(usd / t->budget_usd));
    json_object_set_new(row, "forecast_over", json_boolean(forecast > t->budget_usd));
    if (rate > 0 && usd < t->budget_usd)
        json_object_set_new(row, "budget_runs_out_at",
                            json_real(now + (t->budget_usd - usd) / rate));
}

/* The key of a replica's row: its cloud, else the team or the id of the
 * job that made it (its name into *name). */
static const char *storage_key(const char *by, const struct store_data_replica *d,
                               const char *team, char *id, size_t n)
{
    if (strcmp(by, "cloud") == 0)
        return d->cloud;
    if (strcmp(by, "team") == 0)
        return team ? team : "(none)";
    snprintf(id, n, "%lld", (long long)d->job_id);
    return id;
}

/* Keeping the replicas jobs made, in [from, to) (docs/data.md: from a copy's
 * making to its deletion, or to now), added to the rows by `by` and the
 * job that made each.  jobs (nj): the jobs the caller sees, by id (a copy
 * another's job made is left out); NULL: every job, looked up in the store. */
static int add_storage(struct api_call *c, struct report *r, const char *by,
                       const struct job_ref *jobs, size_t nj, double from, double to,
                       struct err *e)
{
    struct store_data_replica *v = NULL;
    struct store_job j;
    int64_t held = 0; /* the job in j (replicas of one job come together) */
    size_t n = 0, i;
    int rc = store_data_list(c->s->st, NULL, 0, &v, &n, e);

    memset(&j, 0, sizeof(j));
    for (i = 0; rc == 0 && i < n; i++) {
        const struct store_data_replica *d = &v[i];
        double end = d->expired_at > 0 ? d->expired_at : c->now;
        double all = store_data_storage_cost(d, c->now), span = end - d->created_at;
        double in = span > 0 ? all * overlap(d->created_at, end, from, to) / span : 0;
        const char *team = NULL, *name = NULL;
        char id[32];
        size_t k;

        if (in <= 0 || d->job_id <= 0)
            continue;
        if (jobs != NULL) {
            struct job_ref key = {d->job_id, NULL, NULL};
            const struct job_ref *jr =
                nj ? bsearch(&key, jobs, nj, sizeof(*jobs), cmp_ref) : NULL;

            if (jr == NULL)
                continue; /* a job the caller does not see */
            team = jr->team;
            name = jr->name;
        } else {
            if (held != d->job_id) {
                store_job_clear(&j);
                held = d->job_id;
                if (store_job_get(c->s->st, held, &j, e) != 0) {
                    memset(&j, 0, sizeof(j));
                    err_clear(e); /* a job gone: its copy's cost counts, unnamed */
                }
            }
            team = j.team ? strpool_intern(&r->pool, j.team) : NULL;
            name = j.name ? strpool_intern(&r->pool, j.name) : NULL;
        }
        k = row_of(r, storage_key(by, d, team, id, sizeof(id)),
                   strcmp(by, "job") == 0 ? name : NULL);
        r->rows[k].usd += in;
        r->rows[k].storage_usd += in; /* not a budget's spend: see report_reply */
    }
    store_job_clear(&j);
    store_data_replicas_free(v, n);
    return rc;
}

int srv_first_record(struct srv *s, double now, double *at)
{
    struct store_job *jobs = NULL;
    size_t n = 0;
    struct err e;
    int rc;

    *at = now;
    err_clear(&e);
    rc = store_job_page(s->st, 0, 1, &jobs, &n, &e);
    if (rc == 0 && n > 0 && jobs[0].submitted_at > 0 && jobs[0].submitted_at < now)
        *at = jobs[0].submitted_at;
    store_jobs_free(jobs, n);
    return rc;
}

double srv_commit_from(struct srv *s, double now, const struct commitment *m)
{
    double first;

    if (m->start > 0)
        return m->start;
    (void)srv_first_record(s, now, &first);
    return first;
}

/* The commitments' fees in [from, to), up to now, as the reply's
 * `commitments` (each with what it cost in the window), added to the cloud
 * rows by cloud; *usd: their sum.  NULL (none) for a caller who sees only
 * some teams: the fees are the lab's. */
static json_t *add_commitments(struct api_call *c, struct report *r, const char *by,
                               double from, double to, double *usd)
{
    double end = to < c->now ? to : c->now, first;
    json_t *v;
    size_t i;

    *usd = 0;
    if (c->rq->who->user[0] != '\0' || c->s->cat == NULL)
        return NULL;
    v = json_array();
    /* no job yet (or the store did not say): no "before the first job" */
    if (srv_first_record(c->s, c->now, &first) != 0 || !(first < c->now))
        first = -1;
    for (i = 0; i < catalog_ncommitments(c->s->cat); i++) {
        const struct commitment *m = catalog_commitment(c->s->cat, i);
        double lo = fmax(from, srv_commit_from(c->s, c->now, m));
        double fee = end > lo ? catalog_commitment_cost(m, lo, end) : 0;
        double early = fmin(end, first);
        json_t *o;

        if (!(fee > 0))
            continue;
        o = json_object();
        json_object_set_new(o, "cloud", json_string(m->cloud));
        json_object_set_new(o, "region", json_string(m->region));
        json_object_set_new(o, "zone", json_string(m->zone));
        json_object_set_new(o, "instance_type", json_string(m->instance_type));
        json_object_set_new(o, "nodes", json_integer(m->count));
        json_object_set_new(o, "price_hour", json_real(m->price_hour));
        json_object_set_new(o, "discount",
                            m->discount > 0 ? json_real(m->discount) : json_null());
        json_object_set_new(o, "start", m->start > 0 ? json_real(m->start) : json_null());
        json_object_set_new(o, "counted_from",
                            json_real(srv_commit_from(c->s, c->now, m)));
        json_object_set_new(o, "end", m->end > 0 ? json_real(m->end) : json_null());
        json_object_set_new(o, "line", json_integer(m->line)); /* of commitments.csv */
        json_object_set_new(o, "usd", json_real(fee));
        /* of it, before the server's first job: a start long past (a
         * reservation bought before Stratus ran) shows a large figure */
        json_object_set_new(o, "usd_before_first_job",
                            json_real(first > 0 && early > lo
                                          ? catalog_commitment_cost(m, lo, early)
                                          : 0));
        json_object_set_new(o, "first_job_at",
                            first > 0 ? json_real(first) : json_null());
        json_array_append_new(v, o);
        *usd += fee;
        if (strcmp(by, "cloud") == 0) {
            size_t k = row_of(r, m->cloud, NULL);

            r->rows[k].usd += fee;
            r->rows[k].commitment_usd += fee;
        }
    }
    return v;
}

/* The report's rows sorted by usd, with their total (and, by team for a
 * month, each team's budget), as the reply. */
static void report_reply(struct api_call *c, struct report *r, const char *by,
                         const char *month, double from, double to)
{
    static char total_key[] = "total";
    struct store_cost_row total;
    json_t *o, *rows = json_array(), *commits;
    double fees;
    size_t i;
    struct pair {
        struct store_cost_row row;
        double recent;
    } * p;

    /* what splitting a move by its sources leaves in a row by rounding (the
     * parts add up to the move within 1e-14) is nothing, not -$0.00
     * (helper-103) */
    for (i = 0; i < r->n; i++) {
        if (fabs(r->rows[i].egress_usd) < 1e-9)
            r->rows[i].egress_usd = 0;
        if (fabs(r->rows[i].compute_usd) < 1e-9)
            r->rows[i].compute_usd = 0;
        if (fabs(r->rows[i].usd) < 1e-9)
            r->rows[i].usd = 0;
    }
    commits = add_commitments(c, r, by, from, to, &fees); /* may add cloud rows */
    p = xcalloc(r->n + 1, sizeof(*p));
    memset(&total, 0, sizeof(total));
    total.key = total_key;
    if (strcmp(by, "cloud") != 0) { /* in no row: in the total */
        total.usd = fees;
        total.commitment_usd = fees;
    }
    for (i = 0; i < r->n; i++) {
        total.usd += r->rows[i].usd;
        total.compute_usd += r->rows[i].compute_usd;
        total.egress_usd += r->rows[i].egress_usd;
        total.storage_usd += r->rows[i].storage_usd;
        total.commitment_usd += r->rows[i].commitment_usd;
        total.node_hours += r->rows[i].node_hours;
        total.lost_node_hours += r->rows[i].lost_node_hours;
        total.attempts += r->rows[i].attempts;
        p[i].row = r->rows[i];
        p[i].recent = r->recent[i];
    }
    if (r->n > 1) /* the row is a pair's first member */
        qsort(p, r->n, sizeof(*p), strcmp(by, "job") == 0 ? by_usd_job : by_usd);
    for (i = 0; i < r->n; i++) {
        json_t *row = apijson_cost_row(&p[i].row);

        /* a team's budget counts its jobs' attempts (compute and data moves),
         * as the controller's admission does (docs/teams.md), not storage */
        if (strcmp(by, "team") == 0 && month != NULL)
            budget_of(c, row, p[i].row.usd - p[i].row.storage_usd, p[i].recent, from, to);
        json_array_append_new(rows, row);
    }
    free(p);
    o = json_object();
    json_object_set_new(o, "by", json_string(by));
    if (month != NULL)
        json_object_set_new(o, "month", json_string(month));
    json_object_set_new(o, "rows", rows);
    if (commits != NULL)
        json_object_set_new(o, "commitments", commits);
    json_object_set_new(o, "total", apijson_cost_row(&total));
    api_reply(c, 200, o);
}

static void report_init(struct report *r)
{
    memset(r, 0, sizeof(*r));
    strpool_init(&r->pool);
    keymap_init(&r->idx);
}

static void report_free(struct report *r)
{
    free(r->rows);
    free(r->recent);
    keymap_free(&r->idx);
    strpool_free(&r->pool);
    sched_copies_free(&r->copies);
}

/* The store's report by cloud counts each attempt's data move in the
 * attempt's row: move each to the clouds that bill it. */
static int egress_to_sources(struct api_call *c, struct report *r, struct err *e)
{
    size_t i;

    if (sched_copies_load(c->s->st, &r->copies, e) != 0)
        return -1;
    for (i = 0; i < r->copies.n; i++) {
        const struct store_data_replica *d = &r->copies.v[i];
        struct sched_egress_part p[SCHED_EGRESS_HOPS];
        size_t k, np;

        if (d->attempt_id <= 0 ||
            (np = sched_egress_sources(r->cat, d, p, SCHED_EGRESS_HOPS)) == 0)
            continue;
        k = row_of(r, d->cloud, NULL); /* the attempt ran where the copy was made */
        r->rows[k].usd -= d->egress;
        r->rows[k].egress_usd -= d->egress;
        add_egress_parts(r, p, np);
    }
    return 0;
}

void api_cost_all(struct api_call *c, const char *by)
{
    struct store_cost_row *v = NULL;
    struct report r;
    size_t i, n = 0;
    struct err e;
    int rc;

    report_init(&r);
    r.cat = c->s->cat;
    err_clear(&e);
    rc = store_cost_report(c->s->st, by, c->now, &v, &n, &e);
    for (i = 0; rc == 0 && i < n; i++) {
        size_t k =
            row_of(&r, v[i].key, v[i].name ? strpool_intern(&r.pool, v[i].name) : NULL);
        const char *key = r.rows[k].key, *name = r.rows[k].name;

        r.rows[k] = v[i];
        r.rows[k].key = (char *)(uintptr_t)key; /* the pool's, not v's */
        r.rows[k].name = (char *)(uintptr_t)name;
    }
    store_cost_rows_free(v, n);
    if (rc == 0 && strcmp(by, "cloud") == 0)
        rc = egress_to_sources(c, &r, &e);
    if (rc == 0)
        rc = add_storage(c, &r, by, NULL, 0, 0, 1e18, &e);
    if (rc != 0)
        api_fail(c, &e);
    else
        report_reply(c, &r, by, NULL, 0, 1e18);
    report_free(&r);
}

void api_cost_month(struct api_call *c, const char *by, const char *month)
{
    struct report r;
    struct job_ref *jobs = NULL;
    size_t nj = 0, i, got;
    double from = 0, to = 1e18;
    int64_t after = 0;
    struct err e;
    int rc;

    if (month != NULL && month_range(month, &from, &to) != 0) {
        char shown[32];

        api_failf(c, ST_EINVAL, "--month takes a month as YYYY-MM (2026-12), not '%s'",
                  str_vis(shown, sizeof(shown), month));
        return;
    }
    report_init(&r);
    r.cat = c->s->cat;
    err_clear(&e);
    rc = visible_jobs(c, &r, &jobs, &nj, &e);
    if (rc == 0 && strcmp(by, "cloud") == 0)
        rc = sched_copies_load(c->s->st, &r.copies, &e);
    do {
        struct store_attempt *a = NULL;

        if (rc != 0 || (rc = store_attempt_page(c->s->st, after, PAGE, &a, &got, &e)) != 0)
            break;
        for (i = 0; i < got; i++) {
            struct job_ref key = {a[i].job_id, NULL, NULL}, *j;

            after = a[i].id;
            j = nj > 0 ? bsearch(&key, jobs, nj, sizeof(*jobs), cmp_ref) : NULL;
            if (j != NULL)
                add_attempt(&r, by, j, &a[i], from, to, c->now);
        }
        store_attempts_free(a, got);
    } while (got == PAGE);
    if (rc == 0)
        rc = add_storage(c, &r, by, jobs, nj, from, to, &e);
    /* a month by team lists every team with a budget the caller sees, spent
     * or not: on the first of the month the budget is all there is to see
     * (helper-103: such a team was left out) */
    for (i = 0; rc == 0 && month != NULL && strcmp(by, "team") == 0 &&
                c->s->org != NULL && i < c->s->org->nteams;
         i++)
        if (c->s->org->teams[i].budget_usd > 0 &&
            api_team_visible(c, c->s->org->teams[i].name))
            (void)row_of(&r, c->s->org->teams[i].name, NULL);
    if (rc != 0)
        api_fail(c, &e);
    else
        report_reply(c, &r, by, month, from, to);
    free(jobs);
    report_free(&r);
}
