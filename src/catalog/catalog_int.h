/*
 * catalog_int.h - the inside of struct catalog, shared by catalog.c (offers,
 * regions, indexes) and catalog_net.c (egress, latency, preemption rates,
 * commitments, quotas).  Not for other modules.
 */
#ifndef STRATUS_CATALOG_INT_H
#define STRATUS_CATALOG_INT_H

#include "catalog.h"
#include "../util/csv.h"
#include "../util/hmap.h"

struct acc_list {
    const char *name;      /* interned canonical accelerator name */
    uint32_t *idx;         /* offer indices, in file order */
    size_t n, cap;
};

struct egress_rule {
    int kind;              /* EGRESS_SAME_REGION, ... */
    const char *scloud, *sregion, *dcloud, *dregion; /* interned; "*" = any */
    double price;          /* USD per GB */
    int specificity;       /* how many of the four are not "*" */
};

enum { EGRESS_SAME_REGION, EGRESS_INTER_REGION, EGRESS_INTER_CLOUD };

struct preempt_rule {
    const char *cloud, *region, *accelerator; /* globs; interned */
    double rate;           /* preemptions per node-hour */
    int specificity;
};

struct catalog {
    char *dir;
    struct strpool pool;
    const char *star;      /* interned "*" */

    struct offer *offers;
    size_t noffers, offers_cap;
    unsigned long price_version; /* bumped by every catalog_set_price that changes one */
    struct keymap offer_ix;    /* (region, zone, type, accelerator) -> offer index */

    struct region *regions;
    size_t nregions, regions_cap;
    struct keymap region_ix;   /* (cloud, region) -> region index */

    struct acc_list *accs;
    size_t naccs, accs_cap;
    struct keymap acc_ix;      /* accelerator -> accs index */
    const char **acc_names;    /* NULL-terminated, for suggestions */

    struct egress_rule *egress;
    size_t negress;

    struct keymap rtt_ix;      /* (acloud, aregion, bcloud, bregion) -> rtt index */
    float *rtt;
    size_t nrtt, rtt_cap;
    double lat_intercept_ms, lat_ms_per_km;

    struct preempt_rule *preempt;
    size_t npreempt;
    double preempt_default;    /* when no rule matches */

    struct commitment *commits;
    size_t ncommits;
    struct quota *quotas;
    size_t nquotas;
};

/* In catalog_net.c: load the optional network and capacity files. */
int catalog_load_net(struct catalog *cat, struct err *e);
int catalog_load_capacity(struct catalog *cat, struct err *e);
/* Open dir/name as CSV; 1 when the file is absent (and optional), 0 when open. */
int catalog_open_csv(struct catalog *cat, struct csv *c, const char *name, int optional,
                     struct err *e);
/* The region index of (cloud, region) or an error at the CSV's current line. */
int catalog_need_region(struct catalog *cat, const struct csv *c, const char *cloud,
                        const char *region, uint32_t *idx, struct err *e);

#endif
