/*
 * org.h - the lab's teams: who is in which team with which role, each
 * team's quotas (concurrent GPUs by accelerator, optionally by cloud), its
 * monthly budget, its cohort (teams that lend each other unused quota) and
 * its fair-share weight.  docs/teams.md is the user's side of it.
 *
 * One document, JSON, kept whole in the store (the setting "org") and
 * changed by admins through the API; the simulator reads the same document
 * from a file (`stratus simulate --teams FILE`):
 *
 *   {"fair_share": {"half_life_h": 168},
 *    "teams": [
 *      {"name": "research", "cohort": "lab", "weight": 2,
 *       "quota": [{"accelerator": "H100", "gpus": 64},
 *                 {"accelerator": "*", "cloud": "gcp", "gpus": 16}],
 *       "budget": {"usd": 50000, "limit": "hard"},
 *       "members": {"alice": "admin", "bob": "member"}}]}
 *
 * - A quota counts the GPUs of the team's live attempts (nodes x GPUs per
 *   node; a fractional GPU counts as one) whose accelerator is the quota's
 *   (`*`: any accelerator) and, when the quota names one, whose cloud is
 *   the quota's.  An accelerator no quota of the team covers is not limited;
 *   `gpus: 0` forbids it.  Work without accelerators is not counted.
 * - A cohort's teams may borrow: a team over its own quota is admitted while
 *   the cohort's total quota of that kind has room; the owner gets its quota
 *   back by reclaiming borrowed work (sched_quota.c).
 * - Errors name the place in the document: "org: teams[1].quota[0].gpus:
 *   must be a whole number from 0 to 10000000".
 */
#ifndef STRATUS_ORG_H
#define STRATUS_ORG_H

#include <jansson.h>
#include <stddef.h>

#include "../util/err.h"

/* The roles a user has in a team, in increasing power; the numbers are
 * those of enum auth_role (server/auth.h). */
enum org_role { ORG_NONE = 0, ORG_VIEWER, ORG_MEMBER, ORG_ADMIN };

struct org_quota {
    char *accelerator;      /* canonical catalog name, or "*" = every accelerator */
    char *cloud;            /* NULL = any cloud */
    long gpus;              /* concurrent GPUs */
};

struct org_member {
    char *user;
    int role;               /* enum org_role, never ORG_NONE */
};

struct org_team {
    char *name;
    char *cohort;           /* NULL = none: lends and borrows nothing */
    double weight;          /* fair-share shares (> 0; default 1) */
    struct org_quota *quota;
    size_t nquota;
    double budget_usd;      /* per calendar month (UTC); 0 = none */
    int budget_hard;        /* 1: no admission past it; 0: a warning */
    struct org_member *members;
    size_t nmembers;
};

struct org {
    struct org_team *teams;
    size_t nteams;
    double half_life_s;     /* fair share: usage counts half after this long */
};

#define ORG_NAME_MAX 63 /* a team's or user's name: [A-Za-z0-9._-], 1-63 chars */

/* Read the document (NULL or JSON null = no teams).  An empty org has
 * nteams 0.  *out is the caller's to org_free. */
int org_from_json(json_t *doc, struct org **out, struct err *e);
/* The same from JSON text; name prefixes errors (a file's path, "org"). */
int org_parse(const char *text, size_t len, const char *name, struct org **out,
              struct err *e);
/* The document of g (new reference); org_from_json(org_to_json(g)) == g. */
json_t *org_to_json(const struct org *g);
void org_free(struct org *g);

/* Team `name`, or NULL. */
struct org_team *org_team(const struct org *g, const char *name);
/* The role of user in team, ORG_NONE when either is unknown. */
int org_role(const struct org *g, const char *team, const char *user);
/* How many teams user is in; *first (may be NULL) the first of them. */
size_t org_user_teams(const struct org *g, const char *user, const char **first);
/* 1 when s is a valid team or user name. */
int org_name_ok(const char *s);
/* "viewer", "member", "admin" <-> enum org_role (ORG_NONE when unknown). */
const char *org_role_name(int r);
int org_role_parse(const char *s);

/* Does quota q cover an attempt of accelerator acc on cloud? */
int org_quota_covers(const struct org_quota *q, const char *acc, const char *cloud);

#endif
