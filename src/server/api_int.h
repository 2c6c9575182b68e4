/*
 * api_int.h - what the API's handlers share (api.c, api_jobs.c,
 * api_admin.c): the call context, replies, and reading requests.
 */
#ifndef STRATUS_API_INT_H
#define STRATUS_API_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

struct spec;
struct store_data_replica;
struct srv;

/* One call being answered. */
struct api_call {
    struct srv *s;
    const struct api_req *rq;
    struct api_resp *rp;
    const char *param; /* the {id} segment of the path, or NULL */
    double now;        /* wall time of the call */
    const char *key;   /* the {key} segment of the path, or NULL */
};

typedef void (*api_handler)(struct api_call *c);

/* The HTTP status for an ST_E* code (api.h lists them). */
int api_status_of(int code);
/* Reply with o (reference taken) as JSON. */
void api_reply(struct api_call *c, int status, json_t *o);
/* Reply with the JSON error for e, status from its code. */
void api_fail(struct api_call *c, const struct err *e);
/* Reply with an error made of code and a message. */
void api_failf(struct api_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The body as a JSON object: 0, or replied 400 and returns -1. */
int api_body(struct api_call *c, json_t **out);
/* A string member of a body: NULL when absent or null; replied 400 and
 * *bad set when present with another type. */
const char *api_body_str(struct api_call *c, const json_t *o, const char *key, int *bad);
/* Copy the decoded value of query parameter key into buf; 1 when present. */
int api_query(const struct api_call *c, const char *key, char *buf, size_t n);
/* A whole-number query parameter in [min, max] (dflt when absent): 0, or
 * replied 400 and returns -1. */
int api_query_long(struct api_call *c, const char *key, long min, long max, long dflt,
                   long *out);
/* A workload in a body: {"spec", "file", "policy"} (api_jobs.c). */
struct api_workload {
    json_t *body;
    const char *text, *file, *policy; /* borrowed from body */
    const char *policy_file;    /* the policy's file name, for its messages */
    struct spec *sp;
    json_t *warnings;
};

/* Read and parse the workload of the body: 0, or replied and -1 (free w
 * with api_workload_free either way). */
int api_workload_read(struct api_call *c, struct api_workload *w);
void api_workload_free(struct api_workload *w);
/* The policy a submit runs under: the server's, or an admin's override. */
int api_submit_policy(struct api_call *c, const struct api_workload *w, const char **text,
                      struct err *e);
/* An error reply with the spec's warnings (and text, may be NULL) beside it. */
void api_fail_with(struct api_call *c, const struct err *e, const struct api_workload *w,
                   const char *text);

/* Teams (api_teams.c; docs/teams.md).  The caller's role in `team`:
 * a server admin (an admin token, the UNIX socket's owner) is admin in
 * every team; a user's token gets the lower of its own role and the user's
 * role in the team, AUTH_NONE when the user is not in it; a lab-wide token
 * (no user) has its own role in every team.  team NULL or "" is the lab's
 * shared space (work without a team): every caller has its token's role
 * there.  Whatever a caller's role in a team is AUTH_NONE for, it must not
 * learn exists: reply 404, as for an id nobody has. */
enum auth_role api_team_role(struct api_call *c, const char *team);
/* api_team_role(c, team) >= AUTH_VIEWER. */
int api_team_visible(struct api_call *c, const char *team);
/* The team a submission is for: the spec's `team:`, else the caller's only
 * team (set into sp->team).  An error when the caller is in several teams
 * and named none, when the team does not exist (teams exist), or when the
 * caller may not submit for it (*forbidden set: a 403). */
int api_team_assign(struct api_call *c, struct spec *sp, int *forbidden, struct err *e);

/* A spec naming a dataset the store knows gives its home and size as the
 * jobs before it did: 0, or an error at the spec's data line that says
 * who holds a home no job ran on.  Such a home that nothing but `self`
 * (the service an update changes; 0: none) holds passes: the submit's
 * transaction forgets it.  v (n): the dataset's rows. */
int api_dataset_home_check(struct api_call *c, const struct api_workload *w, int64_t self,
                           const struct store_data_replica *v, size_t n, struct err *e);
/* The same, reading the dataset's rows. */
int api_dataset_check(struct api_call *c, const struct api_workload *w, int64_t self,
                      struct err *e);

/* Secrets (api_secrets.c; docs/secrets.md).  Every secret spec sp refers
 * to must be one its team (sp->team, "" = the lab's) has, and the caller
 * must have a role there: 0, or ST_EINVAL in e at the reference's
 * file:line:col saying which is missing and how to set it (a team the
 * caller has no role in reads as one without the secret). */
int api_secrets_check(struct api_call *c, const struct spec *sp, const char *file,
                      struct err *e);

/* The {id} of a job path as a number: 0, or replied 400 and returns -1. */
int api_job_id(struct api_call *c, int64_t *id);

/* Route i of the table (0, 1, ... until it returns NULL): its method and
 * path pattern, and its least role; returns its label. For tests. */
const char *api_route_at(size_t i, const char **method, const char **pattern,
                         enum auth_role *role);

/* The handlers: one per route (api.c's table says which). They answer
 * through c->rp and never fail otherwise. */

/* api_jobs.c */
void api_jobs_submit(struct api_call *c);
void api_jobs_list(struct api_call *c);
void api_jobs_get(struct api_call *c);
void api_jobs_cancel(struct api_call *c);
void api_jobs_events(struct api_call *c);
void api_jobs_logs(struct api_call *c);
void api_plan(struct api_call *c);
void api_offers(struct api_call *c);
void api_cost(struct api_call *c);
/* GET /v1/data (api_data.c): datasets and their replicas. */
void api_data(struct api_call *c);

/* api_services.c */
void api_services_up(struct api_call *c);
void api_services_list(struct api_call *c);
void api_services_get(struct api_call *c);
void api_services_update(struct api_call *c);
void api_services_down(struct api_call *c);
void api_services_endpoints(struct api_call *c);
void api_services_load(struct api_call *c);
void api_services_keys_list(struct api_call *c);
void api_services_keys_create(struct api_call *c);
void api_services_keys_revoke(struct api_call *c);

/* api_cost.c: the cost report by `by` of one month ("YYYY-MM"; NULL =
 * all time) over the jobs the caller sees. */
void api_cost_month(struct api_call *c, const char *by, const char *month);
/* api_cost.c: the lab-wide report by `by` (the store's totals, and the
 * replicas' storage). */
void api_cost_all(struct api_call *c, const char *by);

/* api_teams.c */
void api_whoami(struct api_call *c);
void api_teams_list(struct api_call *c);
void api_teams_get(struct api_call *c);
void api_teams_put(struct api_call *c);
void api_teams_delete(struct api_call *c);
void api_teams_member_put(struct api_call *c);
void api_teams_member_delete(struct api_call *c);

/* api_secrets.c: no reply ever holds a value */
void api_secrets_put(struct api_call *c);
void api_secrets_list(struct api_call *c);
void api_secrets_delete(struct api_call *c);

/* api_dashboard.c */
void api_ui_root(struct api_call *c);
void api_ui_file(struct api_call *c);
void api_ui_login(struct api_call *c);
void api_ui_logout(struct api_call *c);
void api_login_links_create(struct api_call *c);
void api_regions(struct api_call *c);
void api_catalog_reload(struct api_call *c);
void api_cost_series(struct api_call *c);

/* api_admin.c */
void api_healthz(struct api_call *c);
void api_metrics(struct api_call *c);
void api_policy_get(struct api_call *c);
void api_policy_put(struct api_call *c);
void api_tokens_list(struct api_call *c);
void api_tokens_create(struct api_call *c);
void api_tokens_revoke(struct api_call *c);
void api_local_inject(struct api_call *c);

#endif
