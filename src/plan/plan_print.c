/*
 * plan_print.c - a plan as the text `stratus plan` prints (plan_print in
 * plan.h): one module, so the server's POST /v1/plan and the offline CLI
 * print the same bytes.
 */
#include "plan.h"

#include <stdio.h>

#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../spec/spec.h"
#include "../util/strutil.h"

static void print_cand_line(FILE *fp, const struct plan *p, const struct plan_cand *c,
                            size_t rank)
{
    const struct offer *o = catalog_offer(p->cat, c->offer);
    char loc[160], m1[32], m2[32], m3[32], m4[32], m5[32];

    snprintf(loc, sizeof(loc), "%s/%s%s%s", o->cloud, o->region, *o->zone ? "/" : "",
             o->zone);
    fprintf(fp, "%3zu  %-38s %-26s %-9s %9.2f %11s %11s %10s %9s %12s\n", rank, loc,
            o->instance_type, plan_mode_name(c->mode), c->price_hour,
            str_money(m1, sizeof(m1), c->hourly_cost),
            str_money(m2, sizeof(m2), c->compute),
            str_money(m3, sizeof(m3), c->preemption),
            str_money(m4, sizeof(m4), c->egress), str_money(m5, sizeof(m5), c->expected));
}

static void print_header(FILE *fp, const struct plan *p)
{
    const struct spec *s = p->spec;
    char dur[32];
    size_t i;

    fprintf(fp, "%s: %s, %d node%s x ", s->name, spec_kind_name(s->kind), s->num_nodes,
            s->num_nodes == 1 ? "" : "s");
    for (i = 0; i < s->nres; i++)
        fprintf(fp, "%s%s:%d", i ? (s->ordered ? " > " : " | ") : "", p->accs[i],
                s->res[i].acc_count);
    if (p->duration_assumed)
        fprintf(fp, ", no duration given: costs are per hour\n");
    else
        fprintf(fp, ", %s\n", str_duration(dur, sizeof(dur), s->duration_s));
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

int plan_print(FILE *fp, const struct plan *p, int explain)
{
    size_t i;

    print_header(fp, p);
    fprintf(fp, "%3s  %-38s %-26s %-9s %9s %11s %11s %10s %9s %12s\n", "#", "LOCATION",
            "INSTANCE", "MODE", "$/NODE-H", "$/HOUR", "COMPUTE", "PREEMPT", "EGRESS",
            "EXPECTED");
    for (i = 0; i < p->n; i++)
        print_cand_line(fp, p, &p->c[i], i + 1);
    fprintf(fp, "%zu feasible of %zu candidates considered%s\n", p->feasible,
            p->considered, p->n < p->feasible ? " (--top 0 shows all)" : "");
    if (explain)
        plan_print_explain(fp, p);
    return ferror(fp) ? -1 : 0;
}
