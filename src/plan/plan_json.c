/*
 * plan_json.c - a plan as JSON (see plan_to_json in plan.h).  The field names
 * are a published interface: scripts and the future API read them.
 */
#include "plan.h"
#include "../catalog/catalog.h"
#include "../policy/policy.h"
#include "../spec/spec.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

/* Dollars rounded to the cent... of a cent: keep 4 decimals, print clean. */
static json_t *money(double v)
{
    return json_real(round(v * 10000.0) / 10000.0);
}

static json_t *cand_json(const struct plan *p, const struct plan_cand *c, size_t rank)
{
    const struct offer *o = catalog_offer(p->cat, c->offer);
    json_t *j = json_object(), *b = json_object();

    if (rank)
        json_object_set_new(j, "rank", json_integer((json_int_t)rank));
    json_object_set_new(j, "cloud", json_string(o->cloud));
    json_object_set_new(j, "region", json_string(o->region));
    json_object_set_new(j, "zone", json_string(o->zone));
    json_object_set_new(j, "instance_type", json_string(o->instance_type));
    json_object_set_new(j, "accelerator", json_string(o->accelerator));
    json_object_set_new(j, "accelerators_per_node",
                        o->acc_part > 0 ? json_real(o->acc_part) : json_integer(o->acc_count));
    json_object_set_new(j, "nodes", json_integer(c->nodes));
    json_object_set_new(j, "spot", json_boolean(c->mode == PLAN_SPOT));
    json_object_set_new(j, "mode", json_string(plan_mode_name(c->mode)));
    json_object_set_new(j, "price_hour", money(c->price_hour));
    json_object_set_new(j, "hourly_cost", money(c->hourly_cost));
    json_object_set_new(j, "expected_cost", money(c->expected));
    json_object_set_new(j, "duration_hours", json_real(p->alts[c->alt].hours));
    json_object_set_new(j, "speed", json_real(p->alts[c->alt].speed));
    if (plan_deadline_h(p) >= 0)
        json_object_set_new(j, "late", json_boolean(plan_cand_late(p, c)));
    json_object_set_new(b, "compute", money(c->compute));
    json_object_set_new(b, "preemption", money(c->preemption));
    json_object_set_new(b, "egress", money(c->egress));
    json_object_set_new(b, "storage", money(plan_cand_storage(c)));
    if (c->egress > 0) {
        char from[160];
        uint32_t hops[8];
        size_t i, n = plan_data_route(p, c, from, sizeof(from), hops, 8);
        json_t *via = json_array();

        for (i = 0; i < n; i++) {
            const struct region *h = catalog_region_at(p->cat, hops[i]);

            json_array_append_new(via, json_sprintf("%s/%s", h->cloud, h->name));
        }
        json_object_set_new(b, "data_from", json_string(from));
        json_object_set_new(b, "data_via", via);
    }
    json_object_set_new(j, "breakdown", b);
    json_object_set_new(j, "policy_tier", json_integer(c->tier));
    return j;
}

static json_t *explain_json(const struct plan *p)
{
    json_t *a = json_array();
    char why[512];
    int r;

    for (r = 0; r < PLAN_R__N; r++) {
        const struct plan_excl *x = &p->excl[r];
        json_t *j;

        if (x->count == 0)
            continue;
        j = json_object();
        json_object_set_new(j, "reason", json_string(plan_reason_key(r)));
        json_object_set_new(j, "text", json_string(plan_reason_explain(p, r, why, sizeof(why))));
        json_object_set_new(j, "count", json_integer((json_int_t)x->count));
        if (x->has_best) {
            json_object_set_new(j, "best", cand_json(p, &x->best, 0));
            if (p->n > 0)
                json_object_set_new(j, "saving_vs_chosen",
                                    money(p->c[0].expected - x->best.expected));
        }
        json_array_append_new(a, j);
    }
    return a;
}

/* Each alternative's speed relative to the first and its run time. */
static json_t *alts_json(const struct plan *p)
{
    json_t *a = json_array();
    char shape[96];

    for (size_t i = 0; i < p->spec->nres; i++) {
        const struct spec_res *r = &p->spec->res[i];
        json_t *j = json_object();

        if (r->accelerator)
            catalog_shape(shape, sizeof(shape), r->accelerator, r->acc_count, r->acc_part);
        else
            snprintf(shape, sizeof(shape), "%s", r->instance_type ? r->instance_type : "CPU");
        json_object_set_new(j, "resources", json_string(shape));
        json_object_set_new(j, "speed", json_real(p->alts[i].speed));
        json_object_set_new(j, "speed_known", json_boolean(p->alts[i].known));
        json_object_set_new(j, "duration_hours", json_real(p->alts[i].hours));
        json_array_append_new(a, j);
    }
    return a;
}

void *plan_to_json(const struct plan *p, int explain)
{
    json_t *j = json_object(), *cands = json_array(), *ex = json_object();
    size_t i;
    int r;

    json_object_set_new(j, "workload", json_string(p->spec->name));
    json_object_set_new(j, "kind", json_string(spec_kind_name(p->spec->kind)));
    json_object_set_new(j, "policy_rule", p->rule ? json_string(p->rule->name) : json_null());
    json_object_set_new(j, "nodes", json_integer(p->spec->num_nodes));
    json_object_set_new(j, "duration_hours", json_real(p->duration_h));
    if (plan_deadline_h(p) >= 0)
        json_object_set_new(j, "deadline_hours", json_real(plan_deadline_h(p)));
    json_object_set_new(j, "duration_assumed", json_boolean(p->duration_assumed));
    json_object_set_new(j, "alternatives", alts_json(p));
    json_object_set_new(j, "considered", json_integer((json_int_t)p->considered));
    json_object_set_new(j, "feasible", json_integer((json_int_t)p->feasible));
    for (i = 0; i < p->n; i++)
        json_array_append_new(cands, cand_json(p, &p->c[i], i + 1));
    json_object_set_new(j, "candidates", cands);
    for (r = 0; r < PLAN_R__N; r++)
        if (p->excl[r].count)
            json_object_set_new(ex, plan_reason_key(r),
                                json_integer((json_int_t)p->excl[r].count));
    json_object_set_new(j, "excluded", ex);
    if (explain)
        json_object_set_new(j, "explain", explain_json(p));
    return j;
}
