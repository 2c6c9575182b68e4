/*
 * serve_bound.h - the lower bound on what any policy must pay to serve a
 * request trace within a service's latency objective (the `bound` row of
 * `stratus simulate --service`; the argument is at the top of
 * serve_bound.c and in docs/serve-bound.md).
 */
#ifndef STRATUS_SERVE_BOUND_H
#define STRATUS_SERVE_BOUND_H

#include "../util/err.h"
#include "sim_serve.h"

/* A lower bound on what any policy must pay to serve every request of
 * in->reqs within the spec's latency objective, with the spec's
 * accelerators (any of its alternatives) and min_replicas, at the prices in
 * force (in->prices applied over time; spot and on-demand both allowed,
 * any region whose RTT to the users can meet the objective), where the org
 * policy (policy_text, YAML; NULL = none) lets the spec run: its rule's
 * locations and its spot setting; its preferences and cost cap are left
 * out, as they only rank or remove schedules.  Fills
 * res->name = "bound", res->cost, res->cost_by_cloud, res->spot_cost,
 * res->ondemand_cost, res->replica_hours (latency fields stay 0, requests =
 * served = within_slo = in->reqs->n).  Errors: the spec (ST_EINVAL), a
 * model serve_perf lacks on every offer the spec allows, ST_EINFEASIBLE
 * when no policy can meet the objective (users farther than latency_slo_ms
 * from every allowed region; nothing sold). */
int sim_serve_bound(const struct sim_serve_input *in, const char *policy_text,
                    struct sim_serve_result *res, struct err *e);

#endif
