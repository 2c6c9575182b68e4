/*
 * trace.h - the simulator's inputs: workloads, spot availability and prices
 * over time, in documented CSV formats (docs/traces.md), and converters from
 * real public traces into them.
 *
 *   workload CSV   submit_s,job_id,team,kind,accelerator,gpus,duration_s
 *                  [,deadline_s,checkpoint_s,data_location,data_gb,spot_ok,priority,
 *                   dataset]
 *                  (accelerator may list alternatives, "H100|A100-80GB":
 *                  duration_s is then the run time on the first)
 *   spot CSV       time_s,location,instance_type,available_nodes
 *                  (or time_s,location,instance_type,preempted with 0/1;
 *                  a file may carry both columns, one of them set per row)
 *   price CSV      time_s,location,instance_type,price_hour,spot_price_hour
 *                  (empty = unchanged, "none" = not sold from now on)
 *
 * A location is "cloud/region" or "cloud/region/zone".  Rows must be in
 * non-decreasing time order per file; every bad row is a file:line error.
 * Loaded records are compact (strings interned in the trace's pool) because
 * a study may hold a million jobs.
 *
 * Layout: records and the container; loaders (from a file or from memory);
 * converters (trace_convert*.c) with their options.
 */
#ifndef STRATUS_TRACE_H
#define STRATUS_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../util/err.h"
#include "../util/hmap.h"

#define TRACE_MAX_ALTS 8 /* accelerator alternatives of one workload row */

struct trace_job {
    double submit_s;         /* seconds from the start of the study */
    double duration_s;       /* compute time the job needs (on the first
                                accelerator when it lists alternatives) */
    double deadline_s;       /* relative to submit; 0 = none */
    double checkpoint_s;     /* checkpoint interval; 0 = none */
    double data_gb;
    const char *id;          /* interned in the trace's `ids` pool */
    const char *team;        /* interned; "" = none */
    const char *accelerator; /* interned, as written ("H100", or alternatives
                                "H100|A100-80GB", at most TRACE_MAX_ALTS) */
    const char *data_cloud, *data_region; /* interned; "" = none */
    const char *dataset;     /* interned: jobs naming one share its replicas;
                                "" = the job's own data */
    int gpus;                /* total GPUs the job asks for */
    int kind;                /* enum spec_kind */
    int spot_ok;             /* -1 unset (policy decides), 0 no, 1 yes */
    int priority;
};

struct trace_spot {
    double time_s;
    const char *cloud, *region, *zone, *instance_type; /* interned; zone "" = any */
    long available;          /* nodes available from now on; -1 = see preempted */
    int preempted;           /* the preempted form: 1 = spot capacity gone now */
};

/* The spot nodes a row leaves, where the fleet has `fleet` (the preempted
 * form's 0 gives them back). */
static inline long trace_spot_nodes(const struct trace_spot *r, long fleet)
{
    return r->available >= 0 ? r->available : r->preempted ? 0 : fleet;
}

/* Does the row bring nodes: a count above 0, or the preempted form's 0? */
static inline int trace_spot_up(const struct trace_spot *r)
{
    return trace_spot_nodes(r, 1) > 0;
}

/* Values of trace_price's prices that are not prices. */
#define TRACE_PRICE_UNCHANGED (-1.0) /* the field was empty: keep the price in force */
#define TRACE_PRICE_NOT_SOLD (-2.0)  /* "none": not sold this way from now on */

struct trace_price {
    double time_s;
    const char *cloud, *region, *zone, *instance_type; /* interned; zone "" = all zones */
    double price_hour, spot_price_hour; /* USD per node-hour, or a TRACE_PRICE_* (< 0) */
};

/* A loaded trace file of one kind; free with trace_free. */
struct catalog;

struct trace {
    struct strpool pool;
    struct strpool ids; /* job ids, apart from `pool` so that a repeat is a duplicate */
    struct trace_job *jobs;
    size_t njobs;
    struct trace_spot *spot;
    size_t nspot;
    struct trace_price *prices;
    size_t nprices;
    size_t jobs_cap, spot_cap, prices_cap; /* allocated lengths of the arrays */
    const struct catalog *cat; /* when set (by the caller), a row naming an
                                  accelerator, region or instance type it
                                  does not have is an error at its line */
    struct keymap known;       /* names (interned in pool) found in cat */
    struct keymap datasets;    /* dataset (interned) -> the first job naming it */
};

void trace_init(struct trace *t);
void trace_free(struct trace *t);
/* Append the rows of a file to t (each loader checks its own header).  On
 * error t keeps the rows of earlier calls and none of this file's.  Job ids
 * must be unique across everything loaded into t. */
int trace_load_jobs(struct trace *t, const char *path, struct err *e);
int trace_load_spot(struct trace *t, const char *path, struct err *e);
int trace_load_prices(struct trace *t, const char *path, struct err *e);
/* The same from n bytes of memory (copied); `name` stands for the file in
 * messages.  For tests and the fuzzer. */
int trace_load_jobs_mem(struct trace *t, const char *name, const char *data, size_t n,
                        struct err *e);
int trace_load_spot_mem(struct trace *t, const char *name, const char *data, size_t n,
                        struct err *e);
int trace_load_prices_mem(struct trace *t, const char *name, const char *data, size_t n,
                          struct err *e);
/* Stable-sort jobs, spot and price rows by time: after several files were
 * appended, rows of equal time keep their load order. */
void trace_sort(struct trace *t);
/* "train", "batch", "infer" for a trace_job's kind. */
const char *trace_kind_name(int kind);

/* Converters from public traces into the formats above, written to out.
 * Fields a source lacks are assigned reproducibly from `seed` as documented
 * in docs/traces.md; `report` (may be NULL) gets counts of rows kept and
 * dropped, by reason. */
int trace_convert_itp(const char *in_csv, FILE *out, uint64_t seed, FILE *report,
                      struct err *e);
int trace_convert_alibaba(const char *in_csv, FILE *out, uint64_t seed, FILE *report,
                          struct err *e);
/* SkyPilot spot-trace JSON files -> spot CSV; `mapping` is a CSV
 * trace_file,location,instance_type naming which Stratus location each file
 * feeds (globs allowed for trace_file). */
int trace_convert_skypilot_spot(const char *in_dir, const char *mapping, FILE *out,
                                FILE *report, struct err *e);
int trace_convert_gcp_prices(const char *in_csv, FILE *out, FILE *report, struct err *e);

/* The same converters with more control.  ITP: several cluster files merged
 * by submit time (a directory path stands for its *.csv files, by name). */
int trace_convert_itp_files(const char *const *in_csv, size_t n, FILE *out, uint64_t seed,
                            FILE *report, struct err *e);

struct catalog;
struct trace_conv_opts {
    const struct catalog *cat; /* NULL = no check; else mapping targets (spot) must be
                                  catalog offers, and price rows without one are dropped */
    const char *since;         /* gcp-prices: "YYYY-MM-DD" that becomes time 0; rows
                                  before it set the prices in force at 0. NULL = the
                                  first date in the file */
    double horizon_s;          /* spot: repeat each trace until this time; 0 = once */
};
int trace_convert_skypilot_spot_ex(const char *in_dir, const char *mapping,
                                   const struct trace_conv_opts *o, FILE *out,
                                   FILE *report, struct err *e);
int trace_convert_gcp_prices_ex(const char *in_csv, const struct trace_conv_opts *o,
                                FILE *out, FILE *report, struct err *e);

#endif
