/*
 * local_fault.c - what goes wrong in the local clouds: stockouts and
 * preemptions that people and tests inject (driver_inject), and the
 * stockouts that refuse launches.
 *
 * Stockouts come from local.yaml (permanent) and from injection; injected
 * ones live in <root>/stockouts as "LOCATION UNTIL" lines (UNTIL is wall
 * clock seconds, 0 = until cleared) so that they outlive a controller
 * restart.  Injection runs inside the controller, which alone writes that
 * file: requests from the command line reach it through the store.
 *
 * The arguments of the faults:
 *   preempt-job       JOB: one node of the job's newest live attempt, with the
 *                     usual notice; on-demand nodes too (the cloud may reclaim
 *                     anything; random preemption takes only spot nodes)
 *   preempt-location  cloud/region[/zone]: every node there, as an outage would
 *   stockout          "cloud/region[/zone] [SECONDS]": launches there are
 *                     refused for SECONDS (a duration such as 90 or 10m); 0
 *                     clears the location's injected stockout; no SECONDS =
 *                     until cleared
 *   api-error         the same arguments: the cloud's API fails launch
 *                     requests there (an HTTP 500 rather than "no capacity")
 *
 * Both refusals live in <root>/stockouts, an API error with a third word.
 *
 * Layout: stockouts; the faults; the dispatcher.
 */
#include "local_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define STOCKOUT_MAX_BYTES ((size_t)1 << 20)

/* ---- stockouts --------------------------------------------------------- */

void local_stockouts_load(struct local *p)
{
    char *path = xasprintf("%s/stockouts", p->root), *text = NULL, *line, *next;
    struct err e;

    if (access(path, F_OK) == 0 &&
        fs_read_file(path, STOCKOUT_MAX_BYTES, &text, NULL, &e) == 0) {
        for (line = text; line && *line; line = next) {
            char loc[3 * LOCAL_NAME_MAX], kind[16];
            double until;
            int nf;

            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            if ((nf = sscanf(line, "%383s %lf %15s", loc, &until, kind)) < 2)
                continue;
            p->so = xgrow(p->so, &p->so_cap, p->nso + 1, sizeof(*p->so));
            p->so[p->nso].loc = xstrdup(loc);
            p->so[p->nso].api_error = nf == 3 && strcmp(kind, "api-error") == 0;
            p->so[p->nso++].until = until;
        }
    }
    free(text);
    free(path);
}

/* Drop expired (and cleared, until < 0) stockouts and write the rest. */
static int stockouts_save(struct local *p, struct err *e)
{
    double now = local_now(p);
    struct buf b;
    size_t i, k = 0;
    int rc;

    buf_init(&b, 0);
    for (i = 0; i < p->nso; i++) {
        if (p->so[i].until < 0 || (p->so[i].until > 0 && p->so[i].until <= now)) {
            free(p->so[i].loc);
            continue;
        }
        p->so[k++] = p->so[i];
        buf_printf(&b, "%s %.3f%s\n", p->so[k - 1].loc, p->so[k - 1].until,
                   p->so[k - 1].api_error ? " api-error" : "");
    }
    p->nso = k;
    rc = lf_write(p->root, "stockouts", buf_cstr(&b), b.len);
    buf_free(&b);
    if (rc != 0)
        return err_set(e, ST_EIO, "cannot write %s/stockouts: %s", p->root,
                       strerror(-rc));
    return 0;
}

/* An injected refusal of this kind in force for the offer: 1 and why. */
static int injected(const struct local *p, int api_error, const char *cloud,
                    const char *region, const char *zone, const char *itype, char *why,
                    size_t n)
{
    const char *what = api_error ? "cloud API error" : "stockout";
    double now = local_now(p);
    size_t i;

    for (i = 0; i < p->nso; i++) {
        const struct local_stockout *so = &p->so[i];

        if (so->api_error != api_error || (so->until != 0 && so->until <= now) ||
            !local_loc_match(so->loc, cloud, region, zone, itype))
            continue;
        if (so->until > 0)
            snprintf(why, n, "%s at %s (injected, %.0f s left)", what, so->loc,
                     so->until - now);
        else
            snprintf(why, n, "%s at %s (injected)", what, so->loc);
        return 1;
    }
    return 0;
}

int local_stocked_out(const struct local *p, const char *cloud, const char *region,
                      const char *zone, const char *itype, char *why, size_t n)
{
    size_t i;

    for (i = 0; i < p->conf.nstockouts; i++)
        if (local_loc_match(p->conf.stockouts[i], cloud, region, zone, itype)) {
            snprintf(why, n, "stockout at %s (local.yaml)", p->conf.stockouts[i]);
            return 1;
        }
    return injected(p, 0, cloud, region, zone, itype, why, n);
}

int local_api_error(const struct local *p, const char *cloud, const char *region,
                    const char *zone, const char *itype, char *why, size_t n)
{
    return injected(p, 1, cloud, region, zone, itype, why, n);
}

/* ---- injection ---------------------------------------------------------- */

/* The node of a to preempt: the first running one, else the first pending. */
static int victim(const struct latt *a)
{
    int r;

    for (r = 0; r < a->nodes; r++)
        if (a->node[r].state == LN_LIVE && !a->node[r].stopping)
            return r;
    for (r = 0; r < a->nodes; r++)
        if (a->node[r].state == LN_PENDING && !a->node[r].stopping)
            return r;
    return -1;
}

static int inject_preempt_job(struct local *p, const char *arg, struct err *e)
{
    long job;
    size_t i;

    if (arg == NULL || str_to_long(arg, 0, LONG_MAX, &job) != 0)
        return err_set(e, ST_EINVAL, "preempt-job needs a job id, not '%s'",
                       arg ? arg : "");
    local_refresh(p);
    for (i = p->natt; i > 0; i--) { /* the newest attempt of the job */
        struct latt *a = p->att[i - 1];
        int r = a->refused || a->job_id != job ? -1 : victim(a);

        if (r >= 0) {
            local_node_stop(p, a, r, "preempted (injected)");
            return 0;
        }
    }
    return err_set(e, ST_ENOTFOUND, "job %ld has no running node in the local clouds",
                   job);
}

static int check_location(const struct local *p, const char *loc, struct err *e)
{
    size_t parts = 1;
    const char *c;

    for (c = loc; *c; c++)
        parts += *c == '/';
    if (parts < 2 || parts > 3 || strchr(loc, ' '))
        return err_set(e, ST_EINVAL, "'%s' is not a location (cloud/region[/zone])", loc);
    return local_pat_check(p->cat, loc, "location", e);
}

static int inject_preempt_location(struct local *p, const char *arg, struct err *e)
{
    char why[160];
    size_t i;
    int r, rc = check_location(p, arg ? arg : "", e);

    if (rc != 0)
        return rc;
    snprintf(why, sizeof(why), "outage at %s (injected)", arg);
    local_refresh(p);
    for (i = 0; i < p->natt; i++) {
        struct latt *a = p->att[i];

        if (a->refused || !local_loc_match(arg, a->cloud, a->region, a->zone, a->itype))
            continue;
        for (r = 0; r < a->nodes; r++)
            local_node_stop(p, a, r, why);
    }
    return 0;
}

/* A stockout or an API error at a location: "cloud/region[/zone] [SECONDS]". */
static int inject_refusal(struct local *p, const char *arg, int api_error, struct err *e)
{
    const char *kind = api_error ? "api-error" : "stockout";
    char loc[3 * LOCAL_NAME_MAX];
    const char *rest;
    double secs = -1;
    size_t n = strcspn(arg ? arg : "", " \t"), i;
    int rc;

    if (arg == NULL || n == 0 || n >= sizeof(loc))
        return err_set(e, ST_EINVAL, "%s needs 'cloud/region[/zone] [SECONDS]'", kind);
    snprintf(loc, sizeof(loc), "%.*s", (int)n, arg);
    rest = arg + n + strspn(arg + n, " \t");
    if (*rest && str_to_duration(rest, &secs) != 0)
        return err_set(e, ST_EINVAL, "%s duration '%s' is not a number of seconds", kind,
                       rest);
    if ((rc = check_location(p, loc, e)) != 0)
        return rc;
    /* one entry per location and kind: the newest request wins */
    for (i = 0; i < p->nso; i++)
        if (strcmp(p->so[i].loc, loc) == 0 && p->so[i].api_error == api_error)
            p->so[i].until = -1; /* expired: dropped by the save */
    if (secs != 0) {
        p->so = xgrow(p->so, &p->so_cap, p->nso + 1, sizeof(*p->so));
        p->so[p->nso].loc = xstrdup(loc);
        p->so[p->nso].api_error = api_error;
        p->so[p->nso++].until = secs > 0 ? local_now(p) + secs : 0;
    }
    return stockouts_save(p, e);
}

static int inject_stockout(struct local *p, const char *arg, struct err *e)
{
    return inject_refusal(p, arg, 0, e);
}

static int inject_api_error(struct local *p, const char *arg, struct err *e)
{
    return inject_refusal(p, arg, 1, e);
}

int local_inject_fault(struct local *p, const char *kind, const char *arg, struct err *e)
{
    static const struct {
        const char *kind;
        int (*fn)(struct local *p, const char *arg, struct err *e);
    } faults[] = {
        {"preempt-job", inject_preempt_job},
        {"preempt-location", inject_preempt_location},
        {"stockout", inject_stockout},
        {"api-error", inject_api_error},
    };
    static const char *const names[] = {"preempt-job", "preempt-location", "stockout",
                                        "api-error", NULL};
    const char *sug;
    size_t i;

    for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if (strcmp(kind, faults[i].kind) == 0)
            return faults[i].fn(p, arg, e);
    sug = str_suggest(kind, names);
    if (sug)
        return err_set(e, ST_EUSAGE, "unknown fault '%s' (did you mean '%s'?)", kind,
                       sug);
    return err_set(e, ST_EUSAGE,
                   "unknown fault '%s' (preempt-job, preempt-location, stockout, api-error)",
                   kind);
}
