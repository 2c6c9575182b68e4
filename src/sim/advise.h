/*
 * advise.h - how many nodes of which offer to commit to, from usage.
 *
 * Usage is read from a store (a server's, or a simulation's kept with
 * `stratus simulate --keep-stores DIR`): every on-demand or committed
 * attempt that ran adds its nodes, hour by hour, to the usage curve of its
 * offer (cloud/region/instance type; zones pooled, as commitments are
 * regional).  For a commitment at price c per node-hour against the
 * on-demand list price p, committing N nodes saves
 *
 *     S(N) = p x sum_h min(u_h, N)  -  N x c x H
 *
 * over the H hours observed (u_h: the nodes in use at time h; the curve is
 * kept in bins of ADVISE_BIN_S, short enough that averaging nodes over a bin
 * hardly overstates what N nodes cover: min(avg u, N) >= avg min(u, N)).  The N-th node
 * pays for itself when it is in use in at least a fraction c / p = 1 - discount of the
 * hours (the break-even utilisation): advise_best takes the N that maximises it.  A gang
 * runs all its nodes on one kind of capacity (the controller does not split one between
 * committed and on-demand nodes), so N committed nodes only ever serve gangs of at most
 * N nodes: advise_best_gangs counts, for each N, the usage of those gangs
 * alone (a curve per gang size).  Spot usage is not a commitment's to
 * cover, but the controller backfills free committed nodes with work that
 * would run on spot (docs/commitments.md): a committed node that on-demand
 * work leaves free saves the spot price s of the work that fills it.  So,
 * with b_h the spot nodes in use of the offer's accelerator (its kind and
 * count per node, in any cloud: the work that could fill it),
 *
 *     S(N) = p x sum_h min(u_h, N) + s x sum_h min(b_h, N - min(u_h, N)) - N x c x H
 *
 * s being what that spot usage paid per node-hour.  Only spot work that
 * may run where the offer is counts: the org rule of its job (the policy
 * the job was submitted with, else the one the advisor is given) must
 * allow the offer's location outside its overflow clouds.  And one node-hour
 * of spot work backfills one commitment: offers are chosen most spend
 * first, each taking from the spot usage what its nodes fill
 * (advise_take_backfill), so the next sees only the rest.  This is an
 * estimate: the spot work may have run elsewhere because it was cheaper at
 * the time, and backfill does not change when it would have run.
 */
#ifndef STRATUS_ADVISE_H
#define STRATUS_ADVISE_H

#include <stddef.h>

#include "../util/err.h"

struct catalog;
struct policy;
struct policy_rule;
struct store;

/* A published (or assumed) discount level; docs/commitments.md gives the
 * sources.  The table ends with a NULL cloud. */
struct advise_level {
    const char *cloud; /* azure, gcp, aws, oci */
    const char *term;  /* 1y, 3y */
    double discount;   /* off the on-demand list price */
    const char *what;  /* the instrument: "reserved VM instance", ... */
    const char *basis; /* "an assumption", "the published \"up to\" level" */
};
extern const struct advise_level advise_levels[];

/* The usage of one offer, hour by hour. */
struct advise_offer {
    char *cloud, *region, *instance_type; /* owned */
    double od_price;                      /* on-demand list $/node-hour (catalog; else the
                                             highest price its on-demand attempts paid) */
    double *usage;                        /* nodes in use per bin (nbins of the usage) */
    double **gang_usage; /* the same per gang size: gang_usage[i] for gangs
                            of gangs[i] nodes */
    int *gangs;          /* gang sizes, increasing */
    size_t ngangs;
    double node_hours;
    double peak; /* the largest usage of a bin */
    char *accelerator; /* of its nodes (owned), and how many per node */
    int acc_count;
    unsigned char *spot_ok; /* per advise_usage.spot: its work may backfill
                               this offer (its accelerator, and its rule
                               allows the offer's location) */
};

/* Spot usage of one accelerator (kind x count per node), every cloud, of
 * the jobs one org rule governs. */
struct advise_spot {
    char *accelerator; /* owned */
    int acc_count;
    const struct policy_rule *rule; /* NULL: no policy, every location */
    double *usage; /* nodes in use per bin */
    double node_hours, cost;
};

#define ADVISE_BIN_S 300.0 /* width of a usage bin */

struct advise_usage {
    double from;            /* unix time of bin 0 (a whole hour) */
    size_t nbins;           /* of ADVISE_BIN_S: the hours seen x 3600 / ADVISE_BIN_S */
    struct advise_offer *o; /* most on-demand spend first */
    size_t n;
    struct advise_spot *spot;
    size_t nspot;
    struct policy **pols;   /* the jobs' own policies, parsed once each */
    size_t npols;
    double committed_h; /* node-hours on committed nodes, counted as on-demand
                           demand (not backfill: that is spot demand) */
};

/* Read the on-demand and committed usage of the store's attempts; live ones
 * count until `now`.  cat gives list prices and continents (may be NULL);
 * org is the policy of jobs stored without one (a simulation's; NULL =
 * none: their spot work may backfill anywhere).  Errors: the store has no
 * attempt that ran (ST_ENOTFOUND), or none on demand or committed
 * (ST_EINFEASIBLE), or a job's stored policy does not parse.  Free with
 * advise_usage_free. */
int advise_read_store(struct store *st, const struct catalog *cat, const struct policy *org,
                      double now, struct advise_usage *u, struct err *e);

/* The spot usage offer o may count on as backfill, per bin, into b
 * (nbins): the slots o->spot_ok names, from rem (one curve per slot, what
 * earlier offers left; NULL = all of it).  Returns what that work paid per
 * node-hour, each slot weighed by what is left of it (0 when there is
 * none). */
double advise_backfill(const struct advise_usage *u, const struct advise_offer *o,
                       double *const *rem, double *b);
/* Take from rem what o's nodes fill (fill, per bin, out of the b
 * advise_backfill gave), from each of its slots in proportion. */
void advise_take_backfill(const struct advise_usage *u, const struct advise_offer *o,
                          double *const *rem, const double *b, const double *fill);
void advise_usage_free(struct advise_usage *u);

/* The choice for one offer at one price. */
struct advise_pick {
    long nodes;         /* N that maximises the saving (0 = commit none) */
    double saving;      /* S(N) over the time observed */
    double utilisation; /* of the committed nodes: sum min(u, N) / (N x bins),
                           backfill included */
    double backfill;    /* of it, the share backfill fills */
    double break_even;  /* commit_price / od_price */
};

/* The best N for usage[0 .. nbins), bins of bin_h hours (ties: the fewer
 * nodes), as if every node could use any committed node. */
void advise_best(const double *usage, size_t nbins, double bin_h, double od_price,
                 double commit_price, struct advise_pick *out);
/* The same with the usage per gang size (curves[i]: gangs of gangs[i] nodes,
 * gangs increasing): N nodes serve only the gangs of at most N nodes; and
 * what they leave free, the spot usage `backfill` (NULL = none), worth
 * spot_price a node-hour.  fill (nbins, may be NULL) gets the backfill the
 * chosen N takes in each bin. */
void advise_best_gangs(const double *const *curves, const int *gangs, size_t ngangs,
                       const double *backfill, double spot_price, size_t nbins,
                       double bin_h, double od_price, double commit_price,
                       struct advise_pick *out, double *fill);

/* Months in a term like "1y", "3y", "6m" (0 when it is not one). */
double advise_term_months(const char *term);

#endif
