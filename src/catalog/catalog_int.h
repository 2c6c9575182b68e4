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

#include <pthread.h>

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

/* Indexes that only some callers need, built on first use when the catalog
 * came from a snapshot (a CSV load builds them at once: they find
 * duplicates).  Behind a pointer so that const accessors can build them. */
/* One row of throughput.csv: an accelerator's work per hour relative to the
 * table's reference.  A TPU row names a family ("tpu-v5p") and matches its
 * slices ("tpu-v5p-8"), whose chips are the size / cores_per_chip. */
struct thr_row {
    const char *accelerator; /* interned, as written in the file */
    double train, infer;     /* per chip; 0 = unknown for that kind */
    int cores_per_chip;      /* TPU families: cores a slice name counts per chip
                                (v2-v5p: 2, v5e/v6e: 1); 0 = not a family */
    uint32_t line;
};

/* The accelerators of an instance type (catalog_type_shape). */
struct type_shape {
    const char *acc; /* interned; "" for CPUs */
    int count;
    double part;
    int several; /* its offers carry different ones */
    /* then, per kind (training, inference), the slowest of them whose
     * ratio the throughput table knows (NULL: none) */
    const char *slow_acc[2];
    int slow_count[2];
    double slow_part[2], slow_thr[2];
};

struct catalog_lazy {
    pthread_mutex_t mu;
    int offers_built, rtt_built, types_built;
    struct keymap offer_ix;    /* (region, zone, type, accelerator) -> offer index */
    struct keymap rtt_ix;      /* (region a, region b) -> rtt index */
    struct keymap type_ix;     /* (type, cloud or NULL: any) -> types[] */
    struct type_shape *types;
    size_t ntypes, types_cap;
};

/* One row of storage.csv (cloud "*" = any other). */
struct storage_price {
    char cloud[16];
    double per_gb_month;
};


struct catalog {
    char *dir;
    struct strpool pool;
    const char *star;      /* interned "*" */

    struct offer *offers;
    size_t noffers, offers_cap;
    unsigned long price_version; /* bumped by every catalog_set_price that changes one */
    double *sold_last;           /* per offer: its on-demand price before it stopped
                                    being sold (catalog_od_price_last); NULL until
                                    catalog_set_price stops one */
    struct catalog_lazy *lazy;

    struct region *regions;
    size_t nregions, regions_cap;
    struct keymap region_ix;   /* (cloud, region) -> region index */

    struct acc_list *accs;
    size_t naccs, accs_cap;
    struct keymap acc_ix;      /* accelerator -> accs index */
    const char **acc_names;    /* NULL-terminated, for suggestions */
    const char *last_acc;      /* while loading: the last row's accelerator */
    uint32_t last_acc_slot;    /* and its slot in accs */
    const char *last_col[16];  /* while loading offers.csv: the last row's
                                  interned string of each column */
    uint32_t last_region;      /* and its region */

    struct egress_rule *egress;
    size_t negress;

    float *rtt;
    uint32_t *rtt_pairs;       /* region indices a, b of each rtt (2 per rtt) */
    size_t nrtt, rtt_cap, rtt_pairs_cap;
    double lat_intercept_ms, lat_ms_per_km;

    struct preempt_rule *preempt;
    size_t npreempt;
    double preempt_default;    /* when no rule matches */

    struct thr_row *thr;       /* throughput.csv; none = every ratio unknown */
    size_t nthr;

    struct commitment *commits;
    size_t ncommits;
    int commits_heap;          /* commits is malloc'd even in a mapped catalog
                                  (catalog_load_commitments replaced them) */
    struct quota *quotas;
    size_t nquotas;

    struct storage_price *storage; /* storage.csv */
    size_t nstorage;

    /* When the catalog came from a snapshot: the mapped file, which holds
     * the strings and arrays above (not freed one by one). */
    void *map;
    size_t map_size;
};

/* The lazily built indexes (built under cat->lazy->mu on first call). */
const struct keymap *catalog_offer_ix(const struct catalog *cat);
const struct keymap *catalog_rtt_ix(const struct catalog *cat);

/* In catalog_snap.c: the snapshot cache of a parsed catalog (see catalog.h).
 * A key is what the source files looked like (stat) when read. */
struct snap_key;
/* The key of cat->dir's files now, or NULL when this catalog is not cached
 * (caching off, too small or too large, no cache directory). */
struct snap_key *snap_key_make(const char *dir);
int snap_key_equal(const struct snap_key *a, const struct snap_key *b);
/* Fill an empty cat from the snapshot that matches key: 1 when done, 0 when
 * there is none or it is stale or corrupt (cat may then be half filled: the
 * caller frees it). */
int snap_load(struct catalog *cat, const struct snap_key *key);
/* Unmap a snapshot-backed catalog's file (catalog_free). */
void snap_unmap(struct catalog *cat);
/* Write cat's snapshot for key atomically; failures are silent (the cache
 * is an optimisation). */
void snap_save(const struct catalog *cat, const struct snap_key *key);
/* The accelerator index: the slot of acc in cat->accs (made when new), an
 * offer appended to a slot, and the name list made once all offers are in. */
uint32_t catalog_acc_slot(struct catalog *cat, const char *acc);
void catalog_acc_push(struct catalog *cat, uint32_t slot, uint32_t offer);
void catalog_acc_finish(struct catalog *cat);
/* A new empty catalog for dir (pool, lazy indexes). */
struct catalog *catalog_new(const char *dir);

/* In catalog_net.c: load the optional network and capacity files. */
int catalog_load_net(struct catalog *cat, struct err *e);
int catalog_load_capacity(struct catalog *cat, struct err *e);
/* In catalog_net.c: the optional throughput.csv and storage.csv. */
int catalog_load_throughput(struct catalog *cat, struct err *e);
int catalog_load_storage(struct catalog *cat, struct err *e);
/* Open dir/name as CSV; 1 when the file is absent (and optional), 0 when open. */
int catalog_open_csv(struct catalog *cat, struct csv *c, const char *name, int optional,
                     struct err *e);
/* The region index of (cloud, region) or an error at the CSV's current line. */
int catalog_need_region(struct catalog *cat, const struct csv *c, const char *cloud,
                        const char *region, uint32_t *idx, struct err *e);

#endif
