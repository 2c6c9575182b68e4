/*
 * plan_print.c - a plan as the text `stratus plan` prints (plan_print in
 * plan.h): one module, so the server's POST /v1/plan and the offline CLI
 * print the same bytes.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* A candidate's location, cloud/region[/zone]. */
static const char *cand_loc(const struct plan *p, const struct plan_cand *c, char *buf,
                            size_t n)
{
    const struct offer *o = catalog_offer(p->cat, c->offer);

    snprintf(buf, n, "%s/%s%s%s", o->cloud, o->region, *o->zone ? "/" : "", o->zone);
    return buf;
}

static void print_cand_line(FILE *fp, const struct plan *p, const struct plan_cand *c,
                            size_t rank, int lw, int iw)
{
    const struct offer *o = catalog_offer(p->cat, c->offer);
    char loc[160], m1[32], m2[32], m3[32], m4[32], m5[32], m6[32];

    cand_loc(p, c, loc, sizeof(loc));
    fprintf(
        fp, "%3zu  %-*s %-*s %-9s %9.2f %11s %8.2f %5.2f%c %11s %10s %9s %9s %12s%s\n",
        rank, lw, loc, iw, o->instance_type, plan_mode_name(c->mode), c->price_hour,
        str_money(m1, sizeof(m1), c->hourly_cost), p->alts[c->alt].hours,
        p->alts[c->alt].speed, p->alts[c->alt].known ? ' ' : '?',
        str_money(m2, sizeof(m2), c->compute), str_money(m3, sizeof(m3), c->preemption),
        str_money(m4, sizeof(m4), c->egress),
        str_money(m6, sizeof(m6), plan_cand_storage(c)),
        str_money(m5, sizeof(m5), c->expected), plan_cand_late(p, c) ? "  late" : "");
}

/* "H100:8"; "CPU 8+ vCPU, 32 GiB" for CPU work; the instance type when the
 * alternative names only that. */
static const char *alt_text(const struct plan *p, size_t i, char *buf, size_t n)
{
    const struct spec_res *r = &p->spec->res[i];
    size_t off;

    if (p->accs[i] == NULL)
        snprintf(buf, n, "%s", r->instance_type);
    else if (p->accs[i] == plan_acc_absent) {
        catalog_shape(buf, n, r->accelerator, r->acc_count, r->acc_part);
        off = strlen(buf);
        snprintf(buf + off, n - off, " (not in the catalog)");
    } else if (p->accs[i][0] != '\0')
        catalog_shape(buf, n, p->accs[i], r->acc_count, r->acc_part);
    else {
        off = (size_t)snprintf(buf, n, "CPU");
        if (r->cpus > 0 && off < n)
            off += (size_t)snprintf(buf + off, n - off, " %g%s vCPU", r->cpus,
                                    r->cpus_exact ? "" : "+");
        if (r->memory_gib > 0 && off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s %g%s GiB",
                                    r->cpus > 0 ? "," : "", r->memory_gib,
                                    r->memory_exact ? "" : "+");
        else if (r->mem_per_cpu > 0 && off < n)
            snprintf(buf + off, n - off, ", %g+ GiB/vCPU", r->mem_per_cpu);
    }
    return buf;
}

/* Is alternative i shown as an earlier one is?  (any_of entries that
 * differ only in spot or a location repeat the accelerator.) */
static int shown_before(const struct plan *p, size_t i)
{
    char a[96], b[96];
    size_t j;

    alt_text(p, i, a, sizeof(a));
    for (j = 0; j < i; j++)
        if (strcmp(alt_text(p, j, b, sizeof(b)), a) == 0)
            return 1;
    return 0;
}

/* How many alternatives look different. */
static size_t distinct_alts(const struct plan *p)
{
    size_t i, n = 0;

    for (i = 0; i < p->spec->nres; i++)
        n += !shown_before(p, i);
    return n;
}

/* Why a speed is unknown: the accelerators the throughput table has no
 * number of this kind for (a speed is relative to the first alternative,
 * so the first's missing number makes every speed unknown). */
static void print_unknown(FILE *fp, const struct plan *p)
{
    const struct spec *s = p->spec;
    int infer = s->kind == SPEC_KIND_INFER, n = 0;
    size_t i, k;

    fprintf(fp,
            "  ? = ratio unknown, taken as fast per chip as the first alternative (and "
            "an unknown first as fast per chip as each other): no %s number in "
            "%s/throughput.csv for",
            infer ? "inference" : "training", catalog_dir(p->cat));
    for (i = 0; i < s->nres; i++) {
        const char *acc = s->res[i].accelerator;

        for (k = 0; k < i && (s->res[k].accelerator == NULL || acc == NULL ||
                              strcasecmp(s->res[k].accelerator, acc) != 0);
             k++)
            ;
        if (k < i || (acc != NULL && catalog_throughput(p->cat, acc, infer) > 0))
            continue; /* named already, or known */
        fprintf(fp, "%s %s%s", n++ ? "," : "", acc ? acc : "an instance type alone",
                i == 0 ? " (the first)" : "");
    }
    fprintf(fp, "\n");
}

/* With alternatives: each one's speed relative to the first and the run
 * time that gives ("? = unknown" when the throughput table lacks a ratio). */
static void print_speeds(FILE *fp, const struct plan *p)
{
    const struct spec *s = p->spec;
    int unknown = 0, first = 1;
    size_t i;

    if (distinct_alts(p) < 2)
        return;
    fprintf(fp, "speed (work per hour vs the first alternative, %s):",
            s->service != NULL && s->service->ntarget_qps > 1
                ? "the service's target_qps_per_replica where it names both, else the "
                  "catalog's inference ratios"
            : s->kind == SPEC_KIND_INFER ? "inference ratios"
                                         : "training ratios");
    for (i = 0; i < s->nres; i++) {
        char what[96];

        if (shown_before(p, i))
            continue;
        fprintf(fp, "%s %s %.2fx%s%s = %.2f h", first ? "" : ",",
                alt_text(p, i, what, sizeof(what)), p->alts[i].speed,
                p->alts[i].known ? "" : "?",
                p->alts[i].slowest ? " (as its slowest offer)" : "", p->alts[i].hours);
        first = 0;
        unknown |= !p->alts[i].known;
    }
    fprintf(fp, "\n");
    if (unknown)
        print_unknown(fp, p);
}

static void print_header(FILE *fp, const struct plan *p)
{
    const struct spec *s = p->spec;
    char dur[32];
    size_t i;

    fprintf(fp, "%s: %s, %d node%s x ", s->name, spec_kind_name(s->kind), s->num_nodes,
            s->num_nodes == 1 ? "" : "s");
    for (i = 0; i < s->nres; i++) {
        char what[96];

        if (!shown_before(p, i))
            fprintf(fp, "%s%s", i ? (s->ordered ? " > " : " | ") : "",
                    alt_text(p, i, what, sizeof(what)));
    }
    if (p->duration_assumed)
        fprintf(fp,
                ", no duration given: compute costed for 1 hour%s (a data move and a "
                "new replica counted whole)\n",
                distinct_alts(p) > 1 ? " of the first alternative's work" : "");
    else
        fprintf(fp, ", %s%s\n", str_duration(dur, sizeof(dur), s->duration_s),
                distinct_alts(p) > 1 ? " on the first alternative" : "");
    print_speeds(fp, p);
    if (plan_deadline_h(p) >= 0 && !p->duration_assumed) {
        char left[32];

        fprintf(
            fp,
            "deadline: %s %s; candidates marked late run longer than that (the "
            "controller's deadline rule, not this ranking, decides spot or on-demand)\n",
            str_duration(left, sizeof(left), plan_deadline_h(p) * 3600),
            s->deadline_s > 0 ? "after submission" : "from now");
        if (s->deadline_at > 0 && s->deadline_at <= (double)time(NULL))
            fprintf(
                fp,
                "deadline: the date has passed: `stratus launch` refuses this spec\n");
        for (i = 1; i < s->nres && p->alts[i].known; i++)
            ;
        if (i < s->nres)
            fprintf(
                fp,
                "deadline: the speeds marked ? are assumed, and the deadline rule counts "
                "on them: a slower node there can miss it; name the accelerator (and "
                "add its ratio to throughput.csv) to be sure\n");
    }
    if (p->rule && p->rule->description)
        fprintf(fp, "policy: rule '%s' (%s)\n", p->rule->name, p->rule->description);
    else if (p->rule)
        fprintf(fp, "policy: rule '%s'\n", p->rule->name);
    else
        fprintf(fp, "policy: none applies\n");
}

void plan_print_explain(FILE *fp, const struct plan *p)
{
    char why[512], loc[160], delta[32];
    int r;

    fprintf(fp, "\nexcluded (%zu of %zu candidates):\n", p->considered - p->feasible,
            p->considered);
    for (r = 0; r < PLAN_R__N; r++) {
        const struct plan_excl *x = &p->excl[r];
        const struct offer *o;
        double d;

        if (x->count == 0)
            continue;
        fprintf(fp, "  %6zu  %s", x->count, plan_reason_explain(p, r, why, sizeof(why)));
        if (!x->has_best || p->n == 0) {
            fputc('\n', fp);
            continue;
        }
        o = catalog_offer(p->cat, x->best.offer);
        snprintf(loc, sizeof(loc), "%s/%s%s%s", o->cloud, o->region, *o->zone ? "/" : "",
                 o->zone);
        d = p->c[0].expected - x->best.expected;
        fprintf(fp, " — best removed: %s %s %s would have cost %s %s\n", loc,
                o->instance_type, plan_mode_name(x->best.mode),
                str_money(delta, sizeof(delta), d < 0 ? -d : d),
                d >= 0 ? "less" : "more");
    }
}

/* The way candidate i's data comes here: "from X by way of Y" ("" = none). */
static void data_way(const struct plan *p, size_t i, char *buf, size_t n)
{
    char from[160], via[512];
    uint32_t hops[8];
    size_t nh = plan_data_route(p, &p->c[i], from, sizeof(from), hops, 8);

    catalog_route_text(p->cat, hops, nh, via, sizeof(via));
    snprintf(buf, n, "%s%s%s", *from ? "from " : "", from, via);
}

/* Where the shown candidates' data comes from: one line per way (the copy
 * it is moved from and any relay), naming the candidates as ranges.  Ways
 * are few, so each line's scan of the candidates is cheap. */
static void print_data_moves(FILE *fp, const struct plan *p)
{
    char **way = xcalloc(p->n + 1, sizeof(*way)), ranks[256], buf[700];
    char *done = xcalloc(p->n + 1, 1);
    size_t i, k, head = 0;

    for (i = 0; i < p->n; i++) {
        data_way(p, i, buf, sizeof(buf));
        way[i] = *buf ? xstrdup(buf) : NULL;
    }
    for (i = 0; i < p->n; i++) {
        size_t off = 0, run = 0;

        if (way[i] == NULL || done[i])
            continue;
        for (k = i; k <= p->n; k++) {
            int same = k < p->n && way[k] != NULL && strcmp(way[i], way[k]) == 0;

            if (same)
                done[k] = 1;
            if (same && run++ == 0 && off < sizeof(ranks))
                off += (size_t)snprintf(ranks + off, sizeof(ranks) - off, "%s#%zu",
                                        off ? ", " : "", k + 1);
            else if (!same && run > 1 && off < sizeof(ranks))
                off += (size_t)snprintf(ranks + off, sizeof(ranks) - off, "-#%zu", k);
            if (!same)
                run = 0;
        }
        if (head++ == 0)
            fprintf(fp, "data, from its nearest copy the cheapest way:\n");
        fprintf(fp, "  %s: %s\n", ranks, way[i]);
    }
    for (i = 0; i < p->n; i++)
        free(way[i]);
    free(way);
    free(done);
}

/* Under the table: when the first candidates are late, which one is the
 * first that can finish by the deadline (the controller takes no slower
 * alternative that cannot while one that can is counted on). */
static void print_first_on_time(FILE *fp, const struct plan *p)
{
    size_t i;

    if (p->n == 0 || !plan_cand_late(p, &p->c[0]))
        return;
    for (i = 1; i < p->n && plan_cand_late(p, &p->c[i]); i++)
        ;
    if (i < p->n && i > 1)
        fprintf(fp,
                "#1-#%zu are late: the deadline rule does not take a slower alternative "
                "that cannot finish in time; the first that can is #%zu\n",
                i, i + 1);
    else if (i < p->n)
        fprintf(fp,
                "#1 is late: the deadline rule does not take a slower alternative that "
                "cannot finish in time; the first that can is #2\n");
    else if (p->n < p->feasible)
        fprintf(fp, "every candidate shown is late; --top 0 shows the others\n");
    else
        fprintf(fp, "every candidate is late: none can finish by the deadline\n");
}

/* Under the table: the preemption rates the PREEMPT column is priced at,
 * as printed (rates that print alike are one), and where they come from:
 * the catalog's preemption.csv (most clouds publish none: its source column
 * says which rates are measured and which assumed), else the built-in
 * default. */
static void print_preempt_rates(FILE *fp, const struct plan *p)
{
    char rates[4][32];
    size_t i, k, nr = 0;
    int more = 0;

    for (i = 0; i < p->n; i++) {
        char r[32];

        if (p->c[i].mode != PLAN_SPOT)
            continue;
        snprintf(r, sizeof(r), "%g",
                 catalog_preempt_rate(p->cat, catalog_offer(p->cat, p->c[i].offer)));
        for (k = 0; k < nr && strcmp(rates[k], r) != 0; k++)
            ;
        if (k == nr && nr < sizeof(rates) / sizeof(*rates))
            memcpy(rates[nr++], r, sizeof(r));
        else if (k == nr)
            more = 1;
    }
    if (nr == 0)
        return;
    fprintf(fp, "PREEMPT: the work spot preemptions are expected to lose, at");
    for (k = 0; k < nr; k++)
        fprintf(fp, "%s %s", k == 0 ? "" : k + 1 == nr && !more ? " or" : ",", rates[k]);
    if (catalog_npreempt(p->cat) == 0)
        fprintf(fp,
                "%s preemptions per node-hour (the built-in default: the catalog has "
                "no preemption.csv)\n",
                more ? " and others" : "");
    else
        fprintf(fp,
                "%s preemptions per node-hour (the catalog's preemption.csv; its source "
                "column says which rates are measured and which assumed)\n",
                more ? " and others" : "");
}

/* Under the table: a committed row's COMPUTE is the run past its
 * commitment's end (helper-103 saw $/HOUR $0.00 and COMPUTE $6,119). */
static void print_committed_past(FILE *fp, const struct plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (p->c[i].mode == PLAN_COMMITTED && p->c[i].compute > 0) {
            fprintf(
                fp,
                "COMPUTE of a committed row (#%zu): the run past the commitment's end, "
                "at the on-demand price last in force (the nodes are paid for until "
                "then)\n",
                i + 1);
            return;
        }
}

int plan_print(FILE *fp, const struct plan *p, int explain)
{
    int lw = 38, iw = 26;
    char loc[160];
    size_t i;

    for (i = 0; i < p->n; i++) { /* columns as wide as their longest */
        size_t l = strlen(cand_loc(p, &p->c[i], loc, sizeof(loc)));
        size_t t = strlen(catalog_offer(p->cat, p->c[i].offer)->instance_type);

        lw = (int)l > lw ? (int)l : lw;
        iw = (int)t > iw ? (int)t : iw;
    }
    print_header(fp, p);
    fprintf(fp, "%3s  %-*s %-*s %-9s %9s %11s %8s %6s %11s %10s %9s %9s %12s\n", "#", lw,
            "LOCATION", iw, "INSTANCE", "MODE", "$/NODE-H", "$/HOUR", "HOURS", "SPEED",
            "COMPUTE", "PREEMPT", "EGRESS", "REPLICA", "EXPECTED");
    for (i = 0; i < p->n; i++)
        print_cand_line(fp, p, &p->c[i], i + 1, lw, iw);
    fprintf(fp, "%zu feasible of %zu candidates considered%s\n", p->feasible,
            p->considered, p->n < p->feasible ? " (--top 0 shows all)" : "");
    print_first_on_time(fp, p);
    print_preempt_rates(fp, p);
    print_committed_past(fp, p);
    print_data_moves(fp, p);
    if (explain)
        plan_print_explain(fp, p);
    return ferror(fp) ? -1 : 0;
}
