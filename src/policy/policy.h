/*
 * policy.h - the organisation's rules: where each kind of work may run, in
 * which order of preference, whether spot is allowed, how much it may cost.
 *
 * A policy file is YAML with an ordered list of rules.  The first rule whose
 * `match` fits a workload governs it (like a firewall); a workload no rule
 * matches is unconstrained.  Policy is a hard constraint; price only ranks.
 *
 *   rules:
 *     - name: training-on-azure
 *       description: training only on Azure (committed capacity)
 *       match: {kind: train}            # kind, team, name (glob); all must fit
 *       allow: [azure]                  # location patterns cloud[/region[/zone]], globs
 *       deny: [azure/westus3]
 *       continents: [europe]            # allowed continents (data residency)
 *       prefer: [azure, oci, gcp]       # preferred cloud order ...
 *       prefer_margin: 15%              # ... unless another is this much cheaper
 *       overflow: [oci, gcp]            # used only after every other allowed cloud
 *       spot: allow | require | forbid
 *       max_hourly_cost: 800            # USD per hour for the whole gang
 */
#ifndef STRATUS_POLICY_H
#define STRATUS_POLICY_H

#include <stddef.h>

#include "../util/err.h"

struct spec;

enum policy_spot { POLICY_SPOT_ALLOW, POLICY_SPOT_REQUIRE, POLICY_SPOT_FORBID };

struct policy_rule {
    char *name;              /* never NULL: "rule 3" when the file gives none */
    char *description;       /* may be NULL */
    size_t line;             /* where the rule starts */
    /* match: a field left empty matches everything */
    unsigned kinds;          /* bit (1u << enum spec_kind); 0 = any */
    char **teams;
    size_t nteams;
    char **names;            /* globs on spec->name */
    size_t nnames;
    /* effects */
    char **allow;            /* location patterns; none = every location */
    size_t nallow;
    char **deny;
    size_t ndeny;
    char **continents;       /* allowed continents; none = any */
    size_t ncontinents;
    char **prefer;           /* cloud names, most preferred first */
    size_t nprefer;
    double prefer_margin;    /* fraction in [0, 1) */
    char **overflow;         /* cloud names, in overflow order */
    size_t noverflow;
    enum policy_spot spot;
    double max_hourly_cost;  /* 0 = no cap */
};

struct policy {
    char *path;
    struct policy_rule *rules;
    size_t nrules;
};

int policy_load_file(struct policy **out, const char *path, struct err *e);
int policy_load_mem(struct policy **out, const char *name, const char *data, size_t len,
                    struct err *e);
void policy_free(struct policy *p);

/* The rule that governs spec, or NULL when none matches (or p is NULL). */
const struct policy_rule *policy_match(const struct policy *p, const struct spec *s);

/* Why a location is refused by rule r, for a ranking and for --explain. */
enum policy_verdict {
    POLICY_OK,
    POLICY_NOT_ALLOWED,      /* not in `allow` */
    POLICY_DENIED,           /* in `deny` */
    POLICY_CONTINENT         /* outside `continents` */
};
/* Check a location against r (r may be NULL: everything is allowed). */
enum policy_verdict policy_check_location(const struct policy_rule *r, const char *cloud,
                                          const char *region, const char *zone,
                                          const char *continent);
/* Overflow tier of a cloud: 0 for a primary cloud, k for the k-th overflow cloud. */
int policy_tier(const struct policy_rule *r, const char *cloud);
/* Preference position of a cloud: 0 for the first preferred, len(prefer) for a
 * cloud not listed (and 0 for every cloud when there is no `prefer`). */
int policy_pref_index(const struct policy_rule *r, const char *cloud);
/* Does a location pattern ("azure", "gcp/europe-*", "oci/us-ashburn-1/*AD-1")
 * match a location? */
int policy_location_match(const char *pattern, const char *cloud, const char *region,
                          const char *zone);

#endif
