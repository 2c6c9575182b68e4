/*
 * org.c - the lab's teams document (org.h): read, check, write.
 *
 * Every error names the place in the document as a path from its root,
 * "teams[1].quota[0].gpus", since a JSON document has no line the user
 * wrote (the API took it as a body, the CLI built it from flags).
 */
#include "org.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xmem.h"

#define GPUS_MAX 10000000L
#define DEFAULT_HALF_LIFE_S (7 * 86400.0) /* Slurm's PriorityDecayHalfLife default */

static const char *const role_names[] = {"none", "viewer", "member", "admin"};

const char *org_role_name(int r)
{
    return r >= ORG_NONE && r <= ORG_ADMIN ? role_names[r] : "none";
}

int org_role_parse(const char *s)
{
    int r;

    for (r = ORG_VIEWER; s != NULL && r <= ORG_ADMIN; r++)
        if (strcmp(s, role_names[r]) == 0)
            return r;
    return ORG_NONE;
}

int org_name_ok(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
            return 0;
    return n >= 1 && n <= ORG_NAME_MAX;
}

int org_quota_covers(const struct org_quota *q, const char *acc, const char *cloud)
{
    if (acc == NULL || *acc == '\0')
        return 0;
    if (strcmp(q->accelerator, "*") != 0 && strcasecmp(q->accelerator, acc) != 0)
        return 0;
    return q->cloud == NULL || (cloud != NULL && strcmp(q->cloud, cloud) == 0);
}

static void team_clear(struct org_team *t)
{
    size_t i;

    free(t->name);
    free(t->cohort);
    for (i = 0; i < t->nquota; i++) {
        free(t->quota[i].accelerator);
        free(t->quota[i].cloud);
    }
    free(t->quota);
    for (i = 0; i < t->nmembers; i++)
        free(t->members[i].user);
    free(t->members);
}

void org_free(struct org *g)
{
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->nteams; i++)
        team_clear(&g->teams[i]);
    free(g->teams);
    free(g);
}

struct org_team *org_team(const struct org *g, const char *name)
{
    size_t i;

    for (i = 0; g != NULL && name != NULL && i < g->nteams; i++)
        if (strcmp(g->teams[i].name, name) == 0)
            return &g->teams[i];
    return NULL;
}

int org_role(const struct org *g, const char *team, const char *user)
{
    const struct org_team *t = org_team(g, team);
    size_t i;

    for (i = 0; t != NULL && user != NULL && i < t->nmembers; i++)
        if (strcmp(t->members[i].user, user) == 0)
            return t->members[i].role;
    return ORG_NONE;
}

size_t org_user_teams(const struct org *g, const char *user, const char **first)
{
    size_t i, n = 0;

    if (first)
        *first = NULL;
    for (i = 0; g != NULL && i < g->nteams; i++)
        if (org_role(g, g->teams[i].name, user) != ORG_NONE && n++ == 0 && first)
            *first = g->teams[i].name;
    return n;
}

/* ---- reading ---- */

/* path.key into buf: the place of a member, for errors. */
static const char *sub(char *buf, size_t n, const char *path, const char *key)
{
    if (snprintf(buf, n, "%s.%s", path, key) >= (int)n && n > 4)
        memcpy(buf + n - 4, "...", 4);
    return buf;
}

static int bad(struct err *e, const char *path, const char *what)
{
    return err_set(e, ST_EPARSE, "org: %s: %s", path, what);
}

/* Only the keys in `known` (NULL-terminated) may appear in object o. */
static int known_keys(json_t *o, const char *path, const char *const *known,
                      struct err *e)
{
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v) {
        size_t i;

        for (i = 0; known[i] && strcmp(known[i], k) != 0; i++)
            ;
        if (known[i] == NULL) {
            char what[256], list[120] = "";
            size_t len = 0;

            for (i = 0; known[i] && len < sizeof(list); i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                        i ? ", " : "", known[i]);
            snprintf(what, sizeof(what), "unknown key '%.60s' (known: %s)", k, list);
            (void)v;
            return bad(e, path, what);
        }
    }
    return 0;
}

static int read_quota(json_t *q, const char *path, struct org_quota *out, struct err *e)
{
    static const char *const keys[] = {"accelerator", "gpus", "cloud", NULL};
    json_t *acc = json_object_get(q, "accelerator"), *g = json_object_get(q, "gpus"),
                 *cl = json_object_get(q, "cloud");
    char p[128];

    if (!json_is_object(q))
        return bad(e, path, "must be an object {\"accelerator\": \"H100\", \"gpus\": 64}");
    if (known_keys(q, path, keys, e) != 0)
        return e->code;
    sub(p, sizeof(p), path, "accelerator");
    if (!json_is_string(acc) || json_string_length(acc) == 0 || json_string_length(acc) > 63)
        return bad(e, p, "must name an accelerator (\"H100\", \"A100-80GB\") or be \"*\"");
    sub(p, sizeof(p), path, "gpus");
    if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > GPUS_MAX)
        return bad(e, p, "must be a whole number from 0 to 10000000");
    sub(p, sizeof(p), path, "cloud");
    if (cl != NULL && !json_is_null(cl) && (!json_is_string(cl) || !org_name_ok(json_string_value(cl))))
        return bad(e, p, "must be a cloud's name (azure, gcp, oci, aws, ...)");
    out->accelerator = xstrdup(json_string_value(acc));
    out->cloud = json_is_string(cl) ? xstrdup(json_string_value(cl)) : NULL;
    out->gpus = (long)json_integer_value(g);
    return 0;
}

static int read_members(json_t *m, const char *path, struct org_team *t, struct err *e)
{
    const char *user;
    json_t *v;

    if (m == NULL || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return bad(e, path, "must be an object of user: role (\"alice\": \"member\")");
    t->members = xcalloc(json_object_size(m) + 1, sizeof(*t->members));
    json_object_foreach(m, user, v) {
        char p[160];
        int r = json_is_string(v) ? org_role_parse(json_string_value(v)) : ORG_NONE;

        sub(p, sizeof(p), path, user);
        if (!org_name_ok(user))
            return bad(e, p, "a user's name is 1-63 letters, digits, '.', '_' or '-'");
        if (r == ORG_NONE)
            return bad(e, p, "the role must be \"viewer\", \"member\" or \"admin\"");
        t->members[t->nmembers].user = xstrdup(user);
        t->members[t->nmembers++].role = r;
    }
    return 0;
}

static int read_budget(json_t *b, const char *path, struct org_team *t, struct err *e)
{
    static const char *const keys[] = {"usd", "limit", NULL};
    json_t *usd, *lim;
    char p[128];

    if (b == NULL || json_is_null(b))
        return 0;
    if (!json_is_object(b))
        return bad(e, path, "must be an object {\"usd\": 50000, \"limit\": \"hard\"}");
    if (known_keys(b, path, keys, e) != 0)
        return e->code;
    usd = json_object_get(b, "usd");
    lim = json_object_get(b, "limit");
    sub(p, sizeof(p), path, "usd");
    if (!json_is_number(usd) || !isfinite(json_number_value(usd)) ||
        json_number_value(usd) < 0 || json_number_value(usd) > 1e12)
        return bad(e, p, "must be US dollars per month, from 0 to 1e12");
    sub(p, sizeof(p), path, "limit");
    if (lim != NULL && !json_is_null(lim) &&
        (!json_is_string(lim) || (strcmp(json_string_value(lim), "hard") != 0 &&
                                  strcmp(json_string_value(lim), "soft") != 0)))
        return bad(e, p, "must be \"hard\" (no admission past the budget) or \"soft\" (a warning)");
    t->budget_usd = json_number_value(usd);
    t->budget_hard = lim == NULL || json_is_null(lim) || strcmp(json_string_value(lim), "hard") == 0;
    return 0;
}

static int read_team(json_t *o, const char *path, struct org *g, struct org_team *t,
                     struct err *e)
{
    static const char *const keys[] = {"name", "cohort", "weight", "quota", "budget",
                                       "members", NULL};
    json_t *name = json_object_get(o, "name"), *co = json_object_get(o, "cohort"),
                 *w = json_object_get(o, "weight"), *q = json_object_get(o, "quota");
    char p[128];
    size_t i;

    if (!json_is_object(o))
        return bad(e, path, "must be an object {\"name\": \"research\", ...}");
    if (known_keys(o, path, keys, e) != 0)
        return e->code;
    sub(p, sizeof(p), path, "name");
    if (!json_is_string(name) || !org_name_ok(json_string_value(name)))
        return bad(e, p, "a team's name is 1-63 letters, digits, '.', '_' or '-'");
    if (org_team(g, json_string_value(name)) != NULL)
        return bad(e, p, "a second team of this name: team names are unique");
    t->name = xstrdup(json_string_value(name));
    sub(p, sizeof(p), path, "cohort");
    if (co != NULL && !json_is_null(co) && (!json_is_string(co) || !org_name_ok(json_string_value(co))))
        return bad(e, p, "a cohort's name is 1-63 letters, digits, '.', '_' or '-'");
    t->cohort = json_is_string(co) ? xstrdup(json_string_value(co)) : NULL;
    sub(p, sizeof(p), path, "weight");
    if (w != NULL && (!json_is_number(w) || !(json_number_value(w) > 0) ||
                      json_number_value(w) > 1e6))
        return bad(e, p, "must be a number above 0 (up to 1e6); the default is 1");
    t->weight = w ? json_number_value(w) : 1.0;
    sub(p, sizeof(p), path, "quota");
    if (q != NULL && !json_is_null(q) && !json_is_array(q))
        return bad(e, p, "must be a list of {\"accelerator\", \"gpus\"[, \"cloud\"]}");
    t->quota = xcalloc(json_array_size(q) + 1, sizeof(*t->quota));
    for (i = 0; i < json_array_size(q); i++) {
        size_t k;

        snprintf(p, sizeof(p), "%s.quota[%zu]", path, i);
        if (read_quota(json_array_get(q, i), p, &t->quota[i], e) != 0)
            return e->code;
        t->nquota++;
        for (k = 0; k < i; k++)
            if (strcasecmp(t->quota[k].accelerator, t->quota[i].accelerator) == 0 &&
                ((t->quota[k].cloud == NULL && t->quota[i].cloud == NULL) ||
                 (t->quota[k].cloud && t->quota[i].cloud &&
                  strcmp(t->quota[k].cloud, t->quota[i].cloud) == 0)))
                return bad(e, p, "a second quota of the same accelerator and cloud");
    }
    sub(p, sizeof(p), path, "budget");
    if (read_budget(json_object_get(o, "budget"), p, t, e) != 0)
        return e->code;
    sub(p, sizeof(p), path, "members");
    return read_members(json_object_get(o, "members"), p, t, e);
}

int org_from_json(json_t *doc, struct org **out, struct err *e)
{
    static const char *const keys[] = {"teams", "fair_share", NULL};
    static const char *const fs_keys[] = {"half_life_h", NULL};
    struct org *g = xcalloc(1, sizeof(*g));
    json_t *teams, *fs;
    size_t i;

    *out = NULL;
    g->half_life_s = DEFAULT_HALF_LIFE_S;
    if (doc == NULL || json_is_null(doc)) {
        *out = g;
        return 0;
    }
    if (!json_is_object(doc)) {
        org_free(g);
        return bad(e, "(top)", "must be an object {\"teams\": [...]}");
    }
    teams = json_object_get(doc, "teams");
    fs = json_object_get(doc, "fair_share");
    if (known_keys(doc, "(top)", keys, e) != 0)
        goto fail;
    if (fs != NULL && !json_is_null(fs)) {
        json_t *h = json_object_get(fs, "half_life_h");

        if (!json_is_object(fs) || known_keys(fs, "fair_share", fs_keys, e) != 0) {
            if (!json_is_object(fs))
                bad(e, "fair_share", "must be an object {\"half_life_h\": 168}");
            goto fail;
        }
        if (h != NULL && (!json_is_number(h) || !(json_number_value(h) > 0) ||
                          json_number_value(h) > 1e5)) {
            bad(e, "fair_share.half_life_h", "must be hours above 0 (up to 1e5)");
            goto fail;
        }
        if (h != NULL)
            g->half_life_s = json_number_value(h) * 3600.0;
    }
    if (teams != NULL && !json_is_null(teams) && !json_is_array(teams)) {
        bad(e, "teams", "must be a list of teams");
        goto fail;
    }
    g->teams = xcalloc(json_array_size(teams) + 1, sizeof(*g->teams));
    for (i = 0; i < json_array_size(teams); i++) {
        char p[32];

        snprintf(p, sizeof(p), "teams[%zu]", i);
        if (read_team(json_array_get(teams, i), p, g, &g->teams[i], e) != 0) {
            g->nteams = i + 1;
            goto fail;
        }
        g->nteams = i + 1;
    }
    *out = g;
    return 0;
fail:
    org_free(g);
    return e->code;
}

int org_parse(const char *text, size_t len, const char *name, struct org **out,
              struct err *e)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    int rc;

    *out = NULL;
    if (doc == NULL)
        return err_set(e, ST_EPARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    rc = org_from_json(doc, out, e);
    json_decref(doc);
    if (rc != 0) {
        char msg[sizeof(e->msg)];

        snprintf(msg, sizeof(msg), "%s", e->msg + (strncmp(e->msg, "org: ", 5) == 0 ? 5 : 0));
        err_set(e, rc, "%s: %s", name, msg);
    }
    return rc;
}

json_t *org_to_json(const struct org *g)
{
    json_t *doc = json_object(), *teams = json_array();
    size_t i, k;

    if (g != NULL && g->half_life_s != DEFAULT_HALF_LIFE_S)
        json_object_set_new(doc, "fair_share",
                            json_pack("{s:f}", "half_life_h", g->half_life_s / 3600.0));
    for (i = 0; g != NULL && i < g->nteams; i++) {
        const struct org_team *t = &g->teams[i];
        json_t *o = json_pack("{s:s}", "name", t->name), *q = json_array(),
               *m = json_object();

        if (t->cohort)
            json_object_set_new(o, "cohort", json_string(t->cohort));
        json_object_set_new(o, "weight", json_real(t->weight));
        for (k = 0; k < t->nquota; k++) {
            json_t *qo = json_pack("{s:s,s:I}", "accelerator", t->quota[k].accelerator,
                                   "gpus", (json_int_t)t->quota[k].gpus);

            if (t->quota[k].cloud)
                json_object_set_new(qo, "cloud", json_string(t->quota[k].cloud));
            json_array_append_new(q, qo);
        }
        json_object_set_new(o, "quota", q);
        if (t->budget_usd > 0)
            json_object_set_new(o, "budget",
                                json_pack("{s:f,s:s}", "usd", t->budget_usd, "limit",
                                          t->budget_hard ? "hard" : "soft"));
        for (k = 0; k < t->nmembers; k++)
            json_object_set_new(m, t->members[k].user,
                                json_string(org_role_name(t->members[k].role)));
        json_object_set_new(o, "members", m);
        json_array_append_new(teams, o);
    }
    json_object_set_new(doc, "teams", teams);
    return doc;
}
