/*
 * api_teams.c - teams in the API: who may see and act on what
 * (api_team_role, api_int.h), the team a submission belongs to, and the
 * routes that show and change the teams (docs/teams.md):
 *
 *   GET    /v1/whoami                       the caller: token, user, role, teams
 *   GET    /v1/teams                        the teams the caller is in (admins: all)
 *   GET    /v1/teams/{name}                 one, with what it uses now
 *   PUT    /v1/teams/{name}                 create or change (server admin)
 *   DELETE /v1/teams/{name}                 (server admin)
 *   PUT    /v1/teams/{name}/members/{user}  {"role": ...} (team admin)
 *   DELETE /v1/teams/{name}/members/{user}  (team admin)
 *
 * The teams are one document (policy/org.h): a change builds a new
 * document from the one in force, checks it whole and saves it whole
 * (srv_set_org), so a reader never sees half a change.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/org.h"
#include "../sched/sched.h"
#include "../spec/spec.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "server.h"

/* A server admin: the socket's owner, or an admin token of no user. */
static int server_admin(const struct auth_principal *who)
{
    return who->role >= AUTH_ADMIN && who->user[0] == '\0';
}

enum auth_role api_team_role(struct api_call *c, const char *team)
{
    const struct auth_principal *who = c->rq->who;
    int r;

    if (server_admin(who))
        return AUTH_ADMIN;
    if (team == NULL || *team == '\0' || who->user[0] == '\0')
        return who->role; /* the shared space; a lab-wide token */
    r = org_role(c->s->org, team, who->user);
    return r < (int)who->role ? (enum auth_role)r : who->role;
}

int api_team_visible(struct api_call *c, const char *team)
{
    return api_team_role(c, team) >= AUTH_VIEWER;
}

int api_team_assign(struct api_call *c, struct spec *sp, int *forbidden, struct err *e)
{
    const struct auth_principal *who = c->rq->who;
    const struct org *g = c->s->org;
    const char *first = NULL;
    size_t n;

    if (sp->team == NULL && who->user[0] != '\0') {
        n = org_user_teams(g, who->user, &first);
        if (n == 1)
            sp->team = xstrdup(first);
        else if (n > 1)
            return err_set(e, ST_EINVAL,
                           "'%s' is in %zu teams: say which one the work is for with "
                           "`stratus: {team: NAME}` in the spec",
                           who->user, n);
    }
    if (sp->team == NULL || g == NULL || g->nteams == 0)
        return 0; /* no teams: a team's name is a label, as before teams */
    if (org_team(g, sp->team) == NULL && (server_admin(who) || who->user[0] == '\0'))
        return sp->team_line > 0 && sp->path != NULL
                   ? err_at(e, ST_EINVAL, sp->path, sp->team_line, sp->team_col,
                            "stratus.team: no team is called '%s' (`stratus team ls` "
                            "lists them: name one, or `stratus team create %s` makes it)",
                            sp->team, sp->team)
                   : err_set(e, ST_EINVAL,
                             "no team is called '%s' (`stratus team ls` lists them; "
                             "`stratus team create %s` makes it)",
                             sp->team, sp->team);
    if (api_team_role(c, sp->team) < AUTH_MEMBER) {
        *forbidden = 1;
        return err_set(e, ST_EINVAL, "'%s' may not submit work for team '%s': that needs "
                       "the member role in it (`stratus whoami` shows your teams)",
                       who->user[0] ? who->user : who->name, sp->team);
    }
    return 0;
}

/* ---- replies ---- */

static json_t *team_json(struct api_call *c, const struct org_team *t)
{
    json_t *doc, *teams, *o;
    long used[64] = {0};
    double spend = 0, factor = 1;
    size_t k;
    struct org_team copy = *t; /* shallow: org_to_json only reads it */
    struct org one = {&copy, 1, 0};

    doc = org_to_json(&one);
    teams = json_object_get(doc, "teams");
    o = json_incref(json_array_get(teams, 0));
    json_decref(doc);
    if (c->s->sched != NULL &&
        sched_team_usage(c->s->sched, t->name, used, 64, &spend, &factor) == 0) {
        json_t *q = json_object_get(o, "quota");

        for (k = 0; k < t->nquota && k < 64; k++)
            json_object_set_new(json_array_get(q, k), "used", json_integer(used[k]));
        json_object_set_new(o, "month_spend", json_real(spend));
        json_object_set_new(o, "fair_share", json_real(factor));
    }
    json_object_set_new(o, "your_role", json_string(auth_role_name(api_team_role(c, t->name))));
    return o;
}

void api_whoami(struct api_call *c)
{
    const struct auth_principal *who = c->rq->who;
    const struct org *g = c->s->org;
    json_t *o = json_object(), *teams = json_object();
    size_t i;

    json_object_set_new(o, "token", json_string(who->name));
    json_object_set_new(o, "user", who->user[0] ? json_string(who->user) : json_null());
    json_object_set_new(o, "role", json_string(auth_role_name(who->role)));
    json_object_set_new(o, "server_admin", json_boolean(server_admin(who)));
    for (i = 0; g != NULL && i < g->nteams; i++) {
        enum auth_role r = api_team_role(c, g->teams[i].name);

        if (r >= AUTH_VIEWER)
            json_object_set_new(teams, g->teams[i].name, json_string(auth_role_name(r)));
    }
    json_object_set_new(o, "teams", teams);
    api_reply(c, 200, o);
}

void api_teams_list(struct api_call *c)
{
    const struct org *g = c->s->org;
    json_t *arr = json_array(), *o;
    size_t i;

    for (i = 0; g != NULL && i < g->nteams; i++)
        if (api_team_visible(c, g->teams[i].name))
            json_array_append_new(arr, team_json(c, &g->teams[i]));
    o = json_object();
    json_object_set_new(o, "teams", arr);
    if (g != NULL && server_admin(c->rq->who))
        json_object_set_new(o, "fair_share", json_pack("{s:f}", "half_life_h",
                                                       g->half_life_s / 3600.0));
    api_reply(c, 200, o);
}

/* The team of the path, or NULL after a 404 (also for a team the caller
 * may not see: its existence is not the caller's business). */
static const struct org_team *path_team(struct api_call *c)
{
    const struct org_team *t = org_team(c->s->org, c->param);
    char shown[80];

    if (t == NULL || !api_team_visible(c, t->name)) {
        api_failf(c, ST_ENOTFOUND, "no team '%s'",
                  str_vis(shown, sizeof(shown), c->param ? c->param : ""));
        return NULL;
    }
    return t;
}

void api_teams_get(struct api_call *c)
{
    const struct org_team *t = path_team(c);

    if (t != NULL)
        api_reply(c, 200, team_json(c, t));
}

/* The document in force with one change: a copy as JSON to edit. */
static json_t *org_doc(struct api_call *c)
{
    return org_to_json(c->s->org);
}

/* Check and save doc (reference taken) as the new document; reply with
 * what `reply_team` is then (NULL: 204). */
static void org_save(struct api_call *c, json_t *doc, const char *reply_team, int status)
{
    struct org *g = NULL;
    struct err e;

    err_clear(&e);
    if (org_from_json(doc, &g, &e) != 0 || srv_set_org(c->s, g, &e) != 0) {
        json_decref(doc);
        api_fail(c, &e);
        return;
    }
    json_decref(doc);
    srv_wake(c->s); /* quotas may have grown: waiting work may start */
    if (reply_team == NULL) {
        api_reply(c, status, json_object());
        return;
    }
    api_reply(c, status, team_json(c, org_team(c->s->org, reply_team)));
}

static json_t *doc_team(json_t *doc, const char *name, size_t *at)
{
    json_t *teams = json_object_get(doc, "teams");
    size_t i;

    for (i = 0; i < json_array_size(teams); i++) {
        json_t *t = json_array_get(teams, i);

        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) {
            if (at)
                *at = i;
            return t;
        }
    }
    return NULL;
}

/* PUT /v1/teams/{name} (server admin): create the team, or change the keys
 * the body has ("cohort", "weight", "quota", "budget"; null clears one). */
void api_teams_put(struct api_call *c)
{
    static const char *const keys[] = {"cohort", "weight", "quota", "budget", NULL};
    json_t *body, *doc, *t;
    const char *k;
    json_t *v;
    int created = 0;
    char shown[80];

    if (!org_name_ok(c->param)) {
        api_failf(c, ST_EINVAL, "'%s' is not a team name: 1-63 letters, digits, '.', '_' or '-'",
                  str_vis(shown, sizeof(shown), c->param ? c->param : ""));
        return;
    }
    if (c->rq->body_len == 0)
        body = json_object();
    else if (api_body(c, &body) != 0)
        return;
    json_object_foreach(body, k, v) {
        size_t i;

        for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
            ;
        if (keys[i] == NULL) {
            api_failf(c, ST_EINVAL, "unknown key '%s' in the body (known: cohort, weight, "
                      "quota, budget; members have their own path)",
                      str_vis(shown, sizeof(shown), k));
            json_decref(body);
            return;
        }
    }
    doc = org_doc(c);
    t = doc_team(doc, c->param, NULL);
    if (t == NULL) {
        t = json_pack("{s:s}", "name", c->param);
        json_array_append_new(json_object_get(doc, "teams"), t);
        created = 1;
    }
    json_object_foreach(body, k, v) {
        if (json_is_null(v))
            json_object_del(t, k);
        else
            json_object_set(t, k, v);
    }
    json_decref(body);
    org_save(c, doc, c->param, created ? 201 : 200);
}

void api_teams_delete(struct api_call *c)
{
    json_t *doc = org_doc(c);
    size_t at = 0;
    char shown[80];

    if (doc_team(doc, c->param, &at) == NULL) {
        json_decref(doc);
        api_failf(c, ST_ENOTFOUND, "no team '%s'",
                  str_vis(shown, sizeof(shown), c->param ? c->param : ""));
        return;
    }
    json_array_remove(json_object_get(doc, "teams"), at);
    org_save(c, doc, NULL, 200);
}

/* Membership changes: a team admin of the team, or a server admin. */
static json_t *members_of(struct api_call *c, json_t **doc)
{
    const struct org_team *t = path_team(c);
    json_t *jt, *m;

    if (t == NULL)
        return NULL;
    if (api_team_role(c, t->name) < AUTH_ADMIN) {
        api_failf(c, ST_EINVAL, "'%s' may not change the members of team '%s': that needs "
                  "the admin role in it",
                  c->rq->who->user[0] ? c->rq->who->user : c->rq->who->name, t->name);
        c->rp->status = 403;
        return NULL;
    }
    *doc = org_doc(c);
    jt = doc_team(*doc, t->name, NULL);
    m = json_object_get(jt, "members");
    if (m == NULL) {
        m = json_object();
        json_object_set_new(jt, "members", m);
    }
    return m;
}

void api_teams_member_put(struct api_call *c)
{
    json_t *body, *doc = NULL, *m;
    const char *role;
    int bad = 0;
    char shown[80];

    if (!org_name_ok(c->key)) {
        api_failf(c, ST_EINVAL, "'%s' is not a user name: 1-63 letters, digits, '.', '_' or '-'",
                  str_vis(shown, sizeof(shown), c->key ? c->key : ""));
        return;
    }
    if (api_body(c, &body) != 0)
        return;
    role = api_body_str(c, body, "role", &bad);
    if (!bad && (role == NULL || org_role_parse(role) == ORG_NONE)) {
        api_failf(c, ST_EINVAL, "the body needs \"role\": \"viewer\", \"member\" or \"admin\"");
        bad = 1;
    }
    if (!bad && (m = members_of(c, &doc)) != NULL) {
        json_object_set_new(m, c->key, json_string(role));
        org_save(c, doc, c->param, 200);
    }
    json_decref(body);
}

void api_teams_member_delete(struct api_call *c)
{
    json_t *doc = NULL, *m = members_of(c, &doc);
    char shown[80];

    if (m == NULL)
        return;
    if (json_object_get(m, c->key) == NULL) {
        json_decref(doc);
        api_failf(c, ST_ENOTFOUND, "'%s' is not in team '%s'",
                  str_vis(shown, sizeof(shown), c->key ? c->key : ""), c->param);
        return;
    }
    json_object_del(m, c->key);
    org_save(c, doc, c->param, 200);
}
