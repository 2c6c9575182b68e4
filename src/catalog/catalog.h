/*
 * catalog.h - what can be bought where, at what price, and what it costs to
 * move data between places.
 *
 * A catalog is a directory of CSV files (the bundled one is `catalog/` in the
 * repository, installed beside the binary):
 *
 *   offers.csv       cloud,region,zone,instance_type,accelerator,
 *                    accelerators_per_node,accelerator_memory_gib,vcpus,memory_gib,
 *                    interconnect,max_cluster_nodes,price_hour,spot_price_hour
 *                    (empty price = not sold that way; empty max_cluster_nodes =
 *                    no fabric limit known; empty accelerator = a CPU offer:
 *                    accelerators_per_node 0 or empty, vcpus and memory_gib set)
 *   regions.csv      cloud,region,latitude,longitude,continent
 *   egress.csv       kind,src_cloud,src_region,dst_cloud,dst_region,price_per_gb,note
 *                    kind is same_region | inter_region | inter_cloud; empty or
 *                    '*' regions/clouds match anything; the most specific row wins
 *   latency.csv      src_cloud,src_region,dst_cloud,dst_region,rtt_ms (measured)
 *   latency_model.csv intercept_ms,ms_per_km,fit_pairs,r2,median_abs_error_ms
 *                    (RTT of an unmeasured pair = intercept + ms_per_km * km)
 *   preemption.csv   cloud,region,accelerator,rate_per_hour,source (globs;
 *                    the most specific row wins; spot preemptions per node-hour)
 *   commitments.csv  optional: cloud,region,zone,instance_type,nodes,term,start,
 *                    end,price_hour,discount (capacity already paid for; see
 *                    docs/commitments.md): nodes (old name: count); the
 *                    window is start + term (1y, 3y, 6m, 90d) or start/end
 *                    (YYYY-MM-DD, empty = open); the price is price_hour,
 *                    or discount (0.37 or 37%) off the offer's on-demand
 *                    list price.  `stratus simulate --commitments FILE`
 *                    reads the same format (catalog_load_commitments).
 *   quotas.csv       optional: cloud,region,accelerator,limit (accelerators;
 *                    region may be '*')
 *   storage.csv      optional: cloud,price_per_gb_month,note (object storage
 *                    of a cloud, '*' = any other; what a data replica costs
 *                    to keep)
 *   throughput.csv   optional: accelerator,train,infer,cores_per_chip,source,note
 *                    (work per hour of one accelerator relative to the table's
 *                    reference, per chip; empty = unknown; a TPU family row
 *                    "tpu-v5p" with cores_per_chip covers its slices; see
 *                    docs/throughput.md)
 *
 * Every string in the catalog is interned: equal strings are equal pointers,
 * which keeps offers small and comparisons cheap at a million offers.
 *
 * Loading fast (issue 15: the full SkyPilot catalog has ~45,000 offers and
 * parsing its CSV takes ~25 ms, but a whole `stratus plan` must take under
 * 10 ms): the CSV files stay the source of truth, and a parsed catalog is
 * kept as a snapshot (catalog_snap.c), one file per catalog directory in
 * $STRATUS_CATALOG_CACHE, else $XDG_CACHE_HOME/stratus, else
 * ~/.cache/stratus (STRATUS_CATALOG_CACHE=off: none).  The snapshot holds
 * the catalog's arrays as they are in memory and is mmap'd (copy on write),
 * so a load costs ~1 ms whatever the size.  It is used only when every
 * source file has the size, mtime, ctime, inode and device it had when it
 * was parsed, and its format, struct layout, directory and checksum match;
 * otherwise the CSV files are parsed (and the snapshot rewritten
 * atomically).  Catalogs under 96 KB of CSV (parsed in well under a ms) or
 * over 64 MB, and files changed less than a second ago, are not cached.
 * Indexes only some callers use (offer lookup by name, measured RTTs) are
 * built on first use.
 */
#ifndef STRATUS_CATALOG_H
#define STRATUS_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

struct offer {
    const char *cloud;          /* interned, lower case: azure, gcp, oci, aws */
    const char *region;         /* interned */
    const char *zone;           /* interned; "" when the cloud has none */
    const char *instance_type;  /* interned */
    const char *accelerator;    /* interned canonical name: H100, A100-80GB, tpu-v5p-8;
                                   "" for a CPU offer */
    int acc_count;              /* accelerators per node; 0 for a CPU offer; 1 for a
                                   fractional one */
    double acc_part;            /* a fractional offer's share of its one accelerator
                                   (0.125 = 1/8: AWS g6f, Azure NVv4); 0 = whole ones */
    double acc_mem_gib;         /* memory of one accelerator; 0 = unknown */
    double vcpus, memory_gib;   /* 0 = unknown */
    const char *interconnect;   /* interned: infiniband, roce, tcpx, ici, none */
    int max_cluster_nodes;      /* largest gang one fabric takes; 0 = no limit known */
    double price;               /* on-demand $/node-hour; < 0 = not sold on demand */
    double spot_price;          /* spot $/node-hour; < 0 = no spot */
    uint32_t region_idx;        /* index into catalog.regions */
    uint32_t line;              /* line in offers.csv, for messages */
};

struct region {
    const char *cloud, *name;   /* interned */
    const char *continent;      /* interned: africa, asia, europe, middle-east,
                                   north-america, oceania, south-america */
    double lat, lon;
};

struct commitment {
    const char *cloud, *region, *zone, *instance_type; /* interned; zone may be "" */
    int count;                  /* nodes reserved (the file's `nodes`) */
    double start, end;          /* unix seconds; 0 = open-ended */
    double price_hour;          /* what is paid per node-hour whether used or not */
    double discount;            /* off the on-demand list price, when the file gave
                                   one (price_hour was worked out from it); else 0 */
    uint32_t line;
};

struct quota {
    const char *cloud, *region; /* interned; region "*" = every region of the cloud */
    const char *accelerator;    /* interned */
    long limit;                 /* accelerators */
};

struct catalog;                 /* opaque: see catalog_int.h */

/* Load the catalog in dir.  offers.csv and regions.csv are required, the rest
 * optional (a missing network file means: egress unknown = 0, RTT by model).
 * On error nothing is returned and e says file:line and what is wrong. */
int catalog_load(struct catalog **out, const char *dir, struct err *e);
void catalog_free(struct catalog *cat);

/* The directory the catalog was loaded from (owned by the catalog). */
const char *catalog_dir(const struct catalog *cat);
/* The default catalog directory: $STRATUS_CATALOG, else the one installed
 * beside the binary, else the source tree's.  Caller frees. */
char *catalog_default_dir(const char *argv0);

size_t catalog_noffers(const struct catalog *cat);
const struct offer *catalog_offer(const struct catalog *cat, size_t i);
size_t catalog_nregions(const struct catalog *cat);
const struct region *catalog_region_at(const struct catalog *cat, size_t i);
const struct region *catalog_region(const struct catalog *cat, const char *cloud,
                                    const char *region);

/* The catalog's canonical spelling of an accelerator name, matched without
 * regard to case ("h100" -> "H100"), or NULL when no offer has it ("" too). */
const char *catalog_accelerator(const struct catalog *cat, const char *name);
/* All accelerator names, for suggestions; NULL-terminated, owned by cat. */
const char *const *catalog_accelerators(const struct catalog *cat);
/* 1 when name (any case) is an accelerator SkyPilot knows ("V100",
 * "tpu-v2-8"), whether or not this catalog has offers of it: such a name is
 * never answered with "did you mean" another accelerator. */
int catalog_known_accelerator(const char *name);
/* Indices of the offers of one canonical accelerator (as returned above);
 * "" gives the CPU offers. */
const uint32_t *catalog_offers_of(const struct catalog *cat, const char *accelerator,
                                  size_t *n);
/* "H100:8", or "L4:0.125" for a share of one (part > 0); written to buf. */
const char *catalog_shape(char *buf, size_t n, const char *acc, int count, double part);
/* Whether two shares of one accelerator are the same (0 = whole ones). */
#define CATALOG_SAME_PART(a, b) ((a) - (b) < 1e-6 && (b) - (a) < 1e-6)

/* Does some offer have this instance type? */
int catalog_has_type(const struct catalog *cat, const char *instance_type);
/* The accelerators of instance_type (on cloud; NULL: any): 1 and *acc ("" for
 * CPUs), *count, *part when every offer of it has the same; 2 and the
 * slowest of them for the kind (infer) whose ratio the throughput table
 * knows when its offers carry different ones (GCP's n1 types with a T4 or a
 * V100, TPU-VM with every TPU): a job counts on no faster one; 0 when the
 * catalog has none of it, or knows none of their ratios.  Indexed once. */
int catalog_type_shape(const struct catalog *cat, const char *cloud,
                       const char *instance_type, int infer, const char **acc, int *count,
                       double *part);
/* The index of the offer (cloud, region, zone, instance_type, accelerator),
 * or -1 when the catalog has none. */
long catalog_find_offer(const struct catalog *cat, const char *cloud, const char *region,
                        const char *zone, const char *instance_type, const char *accelerator);
/* Change an offer's prices (the simulator replays price traces); < 0 = not sold. */
void catalog_set_price(struct catalog *cat, size_t i, double price, double spot_price);

/* What catalog_reprice_from took and what it could not. */
struct catalog_reprice {
    size_t repriced;  /* offers whose on-demand or spot price changed */
    size_t unsold;    /* offers the new catalog lacks: now sold neither way */
    size_t added;     /* offers only the new catalog has: not taken */
    size_t free_now;  /* offers repriced to $0 on demand or as spot: taken, but
                         almost surely a mistake in the file (none is free) */
    char others[256]; /* the other files that differ, "egress.csv, ...": not
                         taken; "" when none does */
};

/* A running server's catalog read again from its directory (nc): each
 * offer of cat takes nc's prices for the same (cloud, region, zone,
 * instance type, accelerator), and one nc lacks is sold no more (price and
 * spot price < 0).  New offers and changes to the other files (commitments,
 * egress, latency, preemption rates, throughput, storage, quotas, regions)
 * are not taken: the controller holds indexes into them.  r says which. */
void catalog_reprice_from(struct catalog *cat, const struct catalog *nc,
                          struct catalog_reprice *r);
/* A number that changes whenever some offer's price did: the controller
 * reprices live attempts when it sees a new one. */
unsigned long catalog_price_version(const struct catalog *cat);
/* Every offer's prices, to put back with catalog_prices_restore() (which
 * frees them): a study that replays a price trace leaves the catalog as it
 * found it. */
double *catalog_prices_save(const struct catalog *cat);
void catalog_prices_restore(struct catalog *cat, double *saved);

/* Price of moving one GB from (scloud, sregion) to (dcloud, dregion). */
double catalog_egress_per_gb(const struct catalog *cat, const char *scloud,
                             const char *sregion, const char *dcloud, const char *dregion);
/* The least $/GB of moving one GB from region src (a catalog region index)
 * to each of the catalog's regions by any chain of moves the egress table
 * prices (Dijkstra over the regions: a relay through a third region, e.g.
 * over the Azure-OCI interconnect, then OCI's egress, can cost less than the
 * direct move): into d[catalog_nregions] and, when via is not NULL, the
 * region each chain reaches its destination from (src for a direct move;
 * follow via back to src for the whole chain); of chains of one price, the
 * shortest in great-circle km. */
void catalog_egress_routes(const struct catalog *cat, size_t src, double *d, uint32_t *via);
/* The same from any source: d[i] holds the price of moving a GB from it to
 * region i directly (via[i] says from where, when via is not NULL); each is
 * lowered to the cheapest chain through other regions.  With km (the
 * great-circle km of each d[i]'s way), chains of equal price go the shorter
 * way (catalog_egress_routes does so). */
void catalog_egress_relax(const struct catalog *cat, double *d, uint32_t *via, double *km);
/* Rows of catalog_egress_routes kept by their user (a plan, and through its
 * plan the controller), each made at its first use; zeroed = empty. */
struct egress_routes {
    const struct catalog *cat; /* the catalog the rows are for */
    size_t n;                  /* its regions */
    double *d;                 /* n x n */
    uint32_t *via;             /* n x n */
    char *made;                /* per row */
};
/* Catalogs with more regions than this get no rows (n x n is too big): the
 * callers price moves directly. */
#define EGRESS_ROUTES_MAX 1024
/* Row src of r for cat (*via, when not NULL, its via), made now if it was
 * not; NULL past EGRESS_ROUTES_MAX regions. */
const double *catalog_routes_row(struct egress_routes *r, const struct catalog *cat,
                                 size_t src, const uint32_t **via);
void catalog_routes_free(struct egress_routes *r);
/* The regions a chain of moves passes through on its way to dst, in order
 * (none for a direct move), from a row's via: into hops (at most max); the
 * count. */
size_t catalog_route_hops(const uint32_t *via, size_t dst, uint32_t *hops, size_t max);
/* " by way of cloud/region, ..." for those hops into buf ("" for none). */
void catalog_route_text(const struct catalog *cat, const uint32_t *hops, size_t n, char *buf,
                        size_t len);
/* Round-trip time in ms; *measured (may be NULL) says whether it was measured
 * or modelled from distance.  < 0 when either region is unknown. */
double catalog_rtt_ms(const struct catalog *cat, const char *acloud, const char *aregion,
                      const char *bcloud, const char *bregion, int *measured);
/* Great-circle distance in km between two points. */
double geo_km(double lat1, double lon1, double lat2, double lon2);
/* Expected spot preemptions per node-hour for an offer. */
double catalog_preempt_rate(const struct catalog *cat, const struct offer *o);
/* Rows of preemption.csv (0: every rate is the built-in default). */
size_t catalog_npreempt(const struct catalog *cat);

/* USD per GB-month of object storage in cloud (storage.csv); 0 = unknown. */
double catalog_storage_per_gb_month(const struct catalog *cat, const char *cloud);
/* Work per hour of one accelerator as offers count it (one GPU; one TPU
 * slice: its chips x the per-chip ratio) relative to the throughput table's
 * reference, for inference (infer != 0) or training; 0 when unknown (no
 * row, no number for that kind, or no throughput.csv). */
double catalog_throughput(const struct catalog *cat, const char *accelerator, int infer);
/* The same for one node of `count` accelerators, or a share `part` (> 0) of
 * one; 0 when unknown. */
double catalog_node_throughput(const struct catalog *cat, const char *accelerator, int count,
                               double part, int infer);
/* The speed of a node of n chips whose per-chip ratio is r against a node
 * of n0 chips of ratio r0: the work one of its hours does relative to the
 * other's.  A ratio the table lacks (0) is taken as the other one's: an
 * unknown accelerator is assumed as fast per chip as the one it is compared
 * with, never as fast per node whatever its count (one A6000 is not eight
 * H100s), and an unknown first one makes no known one faster than it is.
 * 1 when a count is not known (CPUs only, an instance type alone). */
static inline double catalog_speed_of(double r0, double n0, double r, double n)
{
    if (!(r0 > 0) && !(r > 0))
        r0 = r = 1;
    else if (!(r0 > 0))
        r0 = r;
    else if (!(r > 0))
        r = r0;
    return n0 > 0 && n > 0 ? (r * n) / (r0 * n0) : 1.0;
}
/* What catalog_speed_of takes for (acc, count or share part > 0): *r the
 * per-chip ratio (0 = unknown), *n the chips (a TPU slice's from its name
 * where the table has its family; every other accelerator is one chip). */
void catalog_speed_parts(const struct catalog *cat, const char *acc, int count,
                         double part, int infer, double *r, double *n);
/* catalog_speed_of for named accelerators: (acc, count or share part > 0)
 * against (ref, ref_count, ref_part), for inference or training; *known (may
 * be NULL): both ratios are in the table. */
double catalog_speed(const struct catalog *cat, const char *ref, int ref_count,
                     double ref_part, const char *acc, int count, double part, int infer,
                     int *known);
/* Rows in throughput.csv (0: none, every ratio unknown). */
size_t catalog_nthroughput(const struct catalog *cat);

size_t catalog_ncommitments(const struct catalog *cat);
const struct commitment *catalog_commitment(const struct catalog *cat, size_t i);
/* Replace the catalog's commitments by those of the commitments file at
 * path (same format as commitments.csv).  On error (file:line:col in e) the
 * catalog keeps the ones it had. */
int catalog_load_commitments(struct catalog *cat, const char *path, struct err *e);
/* Whether offer o is of commitment m's group: same cloud, region and
 * instance type, in any zone (what the simulator's bill gives back with). */
int catalog_commitment_in_group(const struct commitment *m, const struct offer *o);
/* Whether commitment m covers offer o: of its group, and in its zone when m
 * names one. */
int catalog_commitment_covers(const struct commitment *m, const struct offer *o);
/* Offer i's on-demand price, or when it is no longer sold, the price it had
 * last (what machines already running keep): -1 when it was never sold. */
double catalog_od_price_last(const struct catalog *cat, size_t i);
/* catalog_list_price over catalog_od_price_last: what nodes of the group
 * running on past a commitment's end are billed when none is sold now. */
double catalog_list_price_last(const struct catalog *cat, const char *cloud,
                               const char *region, const char *instance_type);
/* Whether loc, CLOUD/REGION or CLOUD/REGION/ZONE, names where o is. */
int catalog_offer_at(const struct offer *o, const char *loc);
/* The least on-demand list price of (cloud, region, instance type) among
 * the catalog's offers, or -1 when none sells it on demand. */
double catalog_list_price(const struct catalog *cat, const char *cloud, const char *region,
                          const char *instance_type);
/* The node-hours m holds within [from, to] (unix seconds). */
double catalog_commitment_hours(const struct commitment *m, double from, double to);
/* What m costs over [from, to) (unix seconds): nodes x price_hour x the hours
 * of its window inside that interval. */
double catalog_commitment_cost(const struct commitment *m, double from, double to);
/* The quota that limits accelerator use at (cloud, region), or NULL. */
const struct quota *catalog_quota(const struct catalog *cat, const char *cloud,
                                  const char *region, const char *accelerator);

/* Intern a string in the catalog's pool (for tests and synthetic catalogs). */
const char *catalog_intern(struct catalog *cat, const char *s);

#endif
