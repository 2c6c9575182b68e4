/*
 * bound.h - the simulator's offline lower bound (bound.c), and the two
 * helpers of sim.c it shares: a trace row as a spec, and a cloud's column.
 *
 * The public entry is sim_offline_bound() in sim.h; this header adds the
 * bound with a chosen time bucket, for tests and benchmarks.
 */
#ifndef STRATUS_SIM_BOUND_H
#define STRATUS_SIM_BOUND_H

#include "sim.h"

struct offer;
struct spec;
struct trace_job;

/* Width of the bound's time buckets when the caller gives none: coarse
 * enough that the ITP study's LP solves in seconds (bound.c says why a
 * coarser bucket can only lower the bound, never break it). */
#define SIM_BOUND_BUCKET_S (6 * 3600.0)

/* The bound of sim_offline_bound() with time buckets of bucket_s seconds
 * (<= 0: SIM_BOUND_BUCKET_S).  res->spend is allocated (sim_result_free). */
int sim_bound_lp(const struct sim_input *in, const struct policy *pol, double bucket_s,
                 double end_s, struct sim_result *res, struct err *e);

/* sim.c: the spec the controller would load for trace row tj (caller frees
 * with spec_free). */
struct spec *sim_job_spec(const struct sim_input *in, const struct trace_job *tj);
/* Does a trace row (spot or price) name offer o: its cloud, region, zone
 * (an empty zone: every zone of the region) and instance type? */
int sim_row_matches(const char *cloud, const char *region, const char *zone,
                    const char *type, const struct offer *o);
/* sim.c: index of a cloud in sim_cloud_names (the last, "other", if none). */
int sim_cloud_index(const char *cloud);
/* sim.c: set up res for a run named `name` (spend buckets allocated). */
void sim_result_init(const struct sim_input *in, const char *name,
                     struct sim_result *res);

#endif
