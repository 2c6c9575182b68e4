/*
 * policy.h - the organisation's rules: where each kind of work may run, in
 * which order of preference, whether spot is allowed, how much it may cost.
 *
 * A policy file is YAML with an ordered list of rules.  The first rule whose
 * `match` fits a workload governs it (like a firewall); a workload no rule
 * matches is unconstrained.  Policy is a hard constraint; price only ranks.
 *
 *   version: 1                          # optional; 1 is the only version
 *   rules:
 *     - name: training-on-azure
 *       description: training only on azure
 *       match: {kind: train, min_gpus: 32} # kind, team, name (glob), gang size; all must fit
 *       allow: [azure]                  # location patterns cloud[/region[/zone]], globs
 *       deny: [azure/westus3]
 *       continents: [europe]            # allowed continents (data residency)
 *       prefer: [azure, oci, gcp]       # preferred cloud order ...
 *       prefer_margin: 15%              # ... unless another is this much cheaper
 *       overflow: [oci, gcp]            # used only after every other allowed cloud
 *       spot: allow | require | forbid
 *       max_hourly_cost: 800            # USD per hour for the whole gang
 *       patience: 1x                    # may wait for a cheaper place (below)
 *
 * Every list key also takes a single value (`allow: azure`).  A rule with no
 * `match` matches every workload: it is a catch-all, and a rule after it
 * could never match, which is an error.
 *
 * - kind is train, batch or infer, the kinds of spec.h.  There is no "eval"
 *   kind: an evaluation job is a batch job, and writing `kind: eval` is an
 *   error that says so, because an alias would silently make a rule meant for
 *   evaluations govern every batch job.  Single evaluations out by name
 *   (`name: "eval-*"`).  team is an exact name; name is a glob on the
 *   workload's name.
 * - Clouds are azure, gcp, oci, aws, written in lower case; anything else
 *   ("oracle", "google") is an error with a suggestion.  A location pattern
 *   has one to three parts, each a glob with * and ?; a shorter pattern covers
 *   everything below it ("gcp/europe-*" is every zone of those regions).
 * - Continents are africa, asia, europe, middle-east, north-america, oceania
 *   and south-america, as in the catalog's regions.csv.
 * - A location is judged in this order: deny, then continents (a location of
 *   unknown continent is outside every list: residency fails closed), then
 *   allow.  An overflow cloud is allowed without repeating it in `allow`
 *   ("azure first, overflowing to oci, then gcp" is `allow: [azure]` and
 *   `overflow: [oci, gcp]`), unless some allow pattern names that cloud, in
 *   which case those patterns restrict it as they restrict any cloud.
 * - patience: how long a job may wait for a place at least `cheaper` (default
 *   20%) below the first free one, when that place is full only because the
 *   lab's own running jobs hold it (they free it as they end).  The value is
 *   how late the job may become, as a multiple of its run time: `1x` waits
 *   while the time since submission beyond the work done is under one run
 *   time.  `patience: {late: 1x, cheaper: 20%}` sets both; 0x or no key: no
 *   wait.  Jobs with a deadline (the deadline rule decides theirs),
 *   services and jobs of unknown run time never wait.
 * - Contradictions are load errors: an overflow or preferred cloud that deny
 *   covers whole, a preferred cloud outside allow, prefer_margin without
 *   prefer, a cloud twice in prefer or overflow, `allow: []` or
 *   `continents: []` (which read as "nowhere"; leave the key out for
 *   "anywhere"), an empty match list.
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
    int min_gpus, max_gpus;  /* gang size (nodes x accelerators per node); 0 = any */
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
    double patience;         /* run times a job may be late waiting for a
                                cheaper place; 0 = never waits */
    double patience_cheaper; /* ... at least this fraction cheaper (0.2) */
};

struct policy {
    char *path;
    struct policy_rule *rules;
    size_t nrules;
};

/* Load the policy file at path into a new *out that the caller frees with
 * policy_free(); on error *out is NULL and e says file:line:col and why. */
int policy_load_file(struct policy **out, const char *path, struct err *e);
/* As policy_load_file() from len bytes of memory; `name` stands for the file
 * in messages and in out->path. */
int policy_load_mem(struct policy **out, const char *name, const char *data, size_t len,
                    struct err *e);
/* Free a policy and every rule and string in it; p may be NULL. */
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
/* Check a location against r (r may be NULL: everything is allowed).  region,
 * zone and continent may be NULL when unknown. */
enum policy_verdict policy_check_location(const struct policy_rule *r, const char *cloud,
                                          const char *region, const char *zone,
                                          const char *continent);
/* Overflow tier of a cloud: 0 for a primary cloud, k for the k-th overflow cloud. */
int policy_tier(const struct policy_rule *r, const char *cloud);
/* Preference position of a cloud: 0 for the first preferred, len(prefer) for a
 * cloud not listed (and 0 for every cloud when there is no `prefer`). */
int policy_pref_index(const struct policy_rule *r, const char *cloud);
/* Does a location pattern ("azure", "gcp/europe-*", "oci/us-ashburn-1/US-ASHBURN-AD-?")
 * match a location?  A NULL region or zone is matched as "". */
int policy_location_match(const char *pattern, const char *cloud, const char *region,
                          const char *zone);

/* A verdict in words for messages ("denied by policy"); static storage. */
const char *policy_verdict_str(enum policy_verdict v);
/* The policy file's word for a spot setting ("allow"); static storage. */
const char *policy_spot_name(enum policy_spot s);

#endif
