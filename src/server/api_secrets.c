/*
 * api_secrets.c - teams' secrets in the API (docs/secrets.md): set one,
 * list a team's (names and times), delete one; and the check that a spec
 * submitted as a job or a service names only secrets its team has.
 *
 * No route returns a value: a value comes in (PUT), is sealed at once
 * (secret.h) and goes to the store as ciphertext; only the controller opens
 * it again, to start a job (server.c's resolver).  A team the caller has
 * no role in is answered as a team that does not exist (404), whatever it
 * holds.
 */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

#include "../policy/org.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/strutil.h"
#include "../util/lazyssl.h"
#include "../util/xmem.h"
#include "secret.h"
#include "server.h"

#define TEAM_MAX 128 /* bytes of a team name in ?team= */

/* ?team= into buf ("" when absent: the lab's shared space): 0, or replied
 * 400 and -1 for a name that is too long or has control characters. */
static int team_of(struct api_call *c, char *buf, size_t n)
{
    char shown[64];
    size_t i, len;

    BUG_ON(n < TEAM_MAX + 2);
    if (!api_query(c, "team", buf, n))
        buf[0] = '\0';
    len = strlen(buf);
    for (i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            break;
    if (len > TEAM_MAX || i < len) {
        api_failf(c, ST_EINVAL,
                  "'%s' is not a team name (at most %d characters, one line)",
                  str_vis(shown, sizeof(shown), buf), TEAM_MAX);
        return -1;
    }
    return 0;
}

/* 0 when the caller has at least role `least` in team; else replied: 404
 * when it has none there (the team must look as if it did not exist),
 * 403 when its role is too low. */
static int team_allows(struct api_call *c, const char *team, enum auth_role least)
{
    enum auth_role r = api_team_role(c, team);
    char shown[64];

    if (r == AUTH_NONE) {
        api_failf(c, ST_ENOTFOUND, "no team '%s'", str_vis(shown, sizeof(shown), team));
        return -1;
    }
    /* an admin may name any team: a name that is none of the lab's is a
     * typo, as it is for a launch (with no teams at all, a name is a label) */
    if (*team && c->s->org != NULL && c->s->org->nteams > 0 &&
        org_team(c->s->org, team) == NULL) {
        api_failf(c, ST_ENOTFOUND,
                  "no team is called '%s' (`stratus team ls` lists them; `stratus team "
                  "create %s` makes it)",
                  team, team);
        return -1;
    }
    if (r < least) {
        api_failf(c, ST_EINVAL,
                  "your role in %s%s%s is %s: secrets there need the %s role",
                  *team ? "team '" : "the lab's shared space", *team ? team : "",
                  *team ? "'" : "", auth_role_name(r), auth_role_name(least));
        c->rp->status = 403;
        return -1;
    }
    return 0;
}

/* The {id} segment as a secret's name: 0, or replied 400 and -1. */
static int name_of(struct api_call *c)
{
    char shown[64];

    if (spec_secret_name_ok(c->param))
        return 0;
    api_failf(c, ST_EINVAL,
              "'%s' is not a secret name (letters, digits, '_', '-' and '.', at most %d, "
              "starting with a letter, digit or '_')",
              str_vis(shown, sizeof(shown), c->param ? c->param : ""),
              SPEC_SECRET_NAME_MAX);
    return -1;
}

/* {"team", "name", "created_at", "updated_at"}: never a value. */
static json_t *secret_json(const struct store_secret *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "team", json_string(s->team));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "created_at", json_real(s->created_at));
    json_object_set_new(o, "updated_at", json_real(s->updated_at));
    return o;
}

/* Seal value as (team, name) and put it; 0 or an error in e. */
static int secret_store(struct api_call *c, const char *team, const char *value,
                        struct err *e)
{
    unsigned char nonce[SECRET_NONCE_LEN], *ct = NULL;
    size_t ct_len = 0;
    struct store_secret s;
    int rc;

    rc = secret_seal(c->s->secrets_key, team, c->param, value, strlen(value), &ct,
                     &ct_len, nonce, e);
    if (rc != 0)
        return rc;
    memset(&s, 0, sizeof(s));
    s.team = (char *)(uintptr_t)team; /* borrowed: the record is not cleared */
    s.name = (char *)(uintptr_t)c->param;
    s.ciphertext = ct;
    s.ciphertext_len = ct_len;
    s.nonce = nonce;
    s.nonce_len = sizeof(nonce);
    s.updated_at = c->now;
    rc = store_secret_put(c->s->st, &s, e);
    free(ct);
    return rc;
}

/* Seal and store the body's "value" as (team, {name}), then reply with
 * the secret's times; replied either way. */
static void put_value(struct api_call *c, const char *team, const char *value)
{
    struct store_secret got;
    struct err e;

    err_clear(&e);
    if (secret_store(c, team, value, &e) != 0 ||
        store_secret_get(c->s->st, team, c->param, &got, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    api_reply(c, 200, secret_json(&got));
    store_secret_clear(&got);
}

/* PUT /v1/secrets/{name}?team=T (member of T): {"value": "..."}; the reply
 * says when, never what. */
void api_secrets_put(struct api_call *c)
{
    char team[TEAM_MAX + 2];
    const char *value;
    json_t *b;
    int bad = 0;

    if (team_of(c, team, sizeof(team)) != 0 || team_allows(c, team, AUTH_MEMBER) != 0 ||
        name_of(c) != 0 || api_body(c, &b) != 0)
        return;
    value = api_body_str(c, b, "value", &bad);
    if (value != NULL) {
        put_value(c, team, value);
        /* jansson's copy of it (the request body is libevent's) */
        OPENSSL_cleanse((void *)(uintptr_t)value, strlen(value));
    } else if (!bad) {
        api_failf(c, ST_EINVAL,
                  "the body needs \"value\": the secret's value as a string");
    }
    json_decref(b);
}

/* GET /v1/secrets?team=T (viewer of T): {"team", "secrets": [{name, times}]}. */
void api_secrets_list(struct api_call *c)
{
    char team[TEAM_MAX + 2];
    struct store_secret *v = NULL;
    size_t i, n = 0;
    struct err e;
    json_t *o, *arr;

    if (team_of(c, team, sizeof(team)) != 0 || team_allows(c, team, AUTH_VIEWER) != 0)
        return;
    err_clear(&e);
    if (store_secret_list(c->s->st, team, &v, &n, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, secret_json(&v[i]));
    store_secrets_free(v, n);
    o = json_object();
    json_object_set_new(o, "team", json_string(team));
    json_object_set_new(o, "secrets", arr);
    api_reply(c, 200, o);
}

/* DELETE /v1/secrets/{name}?team=T (member of T).  Jobs already running
 * keep the value they started with; a later launch that needs it fails. */
void api_secrets_delete(struct api_call *c)
{
    char team[TEAM_MAX + 2];
    struct err e;
    json_t *o;

    if (team_of(c, team, sizeof(team)) != 0 || team_allows(c, team, AUTH_MEMBER) != 0 ||
        name_of(c) != 0)
        return;
    err_clear(&e);
    if (store_secret_delete(c->s->st, team, c->param, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    o = json_object();
    json_object_set_new(o, "team", json_string(team));
    json_object_set_new(o, "deleted", json_string(c->param));
    api_reply(c, 200, o);
}

int api_secrets_check(struct api_call *c, const struct spec *sp, const char *file,
                      struct err *e)
{
    const char *team = sp->team ? sp->team : "";
    enum auth_role r = api_team_role(c, team);
    struct store_secret got;
    size_t i;
    int rc;

    for (i = 0; i < sp->nenvs; i++) {
        const struct spec_env *v = &sp->envs[i];

        if (v->secret == NULL)
            continue;
        rc = r == AUTH_NONE ? ST_ENOTFOUND
                            : store_secret_get(c->s->st, team, v->secret, &got, e);
        if (rc == 0) {
            store_secret_clear(&got);
            continue;
        }
        if (rc != ST_ENOTFOUND)
            return rc;
        return err_at(e, ST_EINVAL, file, v->line, v->col,
                      "%s refers to the secret '%s', which %s%s%s does not have; set it "
                      "first (stratus secret set %s%s%s, the value on stdin; stratus "
                      "secret ls%s%s lists them)",
                      v->key, v->secret, *team ? "team '" : "the lab's shared space",
                      team, *team ? "'" : "", v->secret, *team ? " --team " : "", team,
                      *team ? " --team " : "", team);
    }
    return 0;
}
