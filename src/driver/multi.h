/*
 * multi.h - the `multi` driver: several drivers as one (curl's
 * Curl_ssl_multi), so one controller and one plan span the emulated clouds,
 * Slurm clusters and, later, cloud APIs. Each location is bound to exactly
 * one child; launch, capacity and location faults go to that child, poll
 * merges all children's events, terminate and log_path find the child that
 * knows the attempt. A location bound to none has no capacity.
 *
 * Its driver_config's world is a struct multi_world (borrowed for the
 * driver's life).
 */
#ifndef STRATUS_MULTI_H
#define STRATUS_MULTI_H

#include <stddef.h>

#include "driver.h"

struct multi_child {
    const char *name;                  /* instance name, for messages and metrics */
    const struct driver_ops *ops;
    const char *config_path;           /* the child's own file (config_path) */
    const char *const *locations;      /* patterns, as in srv_driver_conf */
    size_t nlocations;
    const void *world;                 /* the child's driver_config.world (sim); NULL */
};

struct multi_world {
    const struct multi_child *children;
    size_t n;
    /* Called with a child's name when its poll or terminate fails (not a
     * capacity refusal or a request it refuses as bad; a failed launch
     * shows as its failed attempt); NULL = not told. */
    void (*on_error)(void *ctx, const char *driver);
    void *ctx;
};

extern const struct driver_ops driver_multi;

/* The child (index) a location is bound to, or -1 (d opened as multi). */
int multi_child_of(struct driver *d, const char *cloud, const char *region, const char *zone);

/* How specifically a location pattern names cloud/region/zone (zone may be
 * "" or NULL): 0 = not at all; otherwise higher is more specific ("*" is
 * 1, the least).  A pattern is a glob matched against "cloud",
 * "cloud/region" and "cloud/region/zone", as local.yaml's patterns are. */
int multi_pattern_score(const char *pat, const char *cloud, const char *region,
                        const char *zone);
/* The index in w of the child bound to a location (the most specific
 * pattern; the first child on a tie), or -1. */
int multi_world_child(const struct multi_world *w, const char *cloud, const char *region,
                      const char *zone);

#endif
