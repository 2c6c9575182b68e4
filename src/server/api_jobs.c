/*
 * api_jobs.c - the API's handlers for workloads: submit, list, get, cancel,
 * events, logs, and the dry runs (plan, offers) and the cost report. Each
 * does what the CLI command of the same name did when it opened the store
 * itself, with the same messages; writes are committed before the reply and
 * the controller is woken after (srv_wake).
 */
#define _GNU_SOURCE /* open_memstream */
#include "api_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/apijson.h"
#include "../catalog/catalog.h"
#include "../driver/driver.h"
#include "../plan/offers.h"
#include "../plan/plan.h"
#include "../policy/org.h"
#include "../policy/policy.h"
#include "../sched/sched.h"
#include "../spec/pipeline.h"
#include "../spec/service.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "server.h"
#include "server_conf.h"

/* The name a spec sent without "file" goes by in messages. */
#define SPEC_DEFAULT_NAME "spec.yaml"

/* ---- a workload in a body: {"spec", "file", "policy", "policy_file"} ---- */

/* What a policy's messages name it: the file it came from, when given. */
static const char *policy_name(const struct api_workload *w)
{
    return w->policy_file && *w->policy_file ? w->policy_file : "policy";
}

void api_workload_free(struct api_workload *w)
{
    spec_free(w->sp);
    json_decref(w->body);
    json_decref(w->warnings);
}

int api_workload_read(struct api_call *c, struct api_workload *w)
{
    struct err e;
    size_t i;
    int bad = 0;

    memset(w, 0, sizeof(*w));
    if (api_body(c, &w->body) != 0)
        return -1;
    w->text = api_body_str(c, w->body, "spec", &bad);
    w->file = api_body_str(c, w->body, "file", &bad);
    w->policy = api_body_str(c, w->body, "policy", &bad);
    w->policy_file = api_body_str(c, w->body, "policy_file", &bad);
    if (bad)
        return -1;
    if (w->text == NULL) {
        api_failf(c, ST_EINVAL, "the body needs \"spec\": the workload's YAML text");
        return -1;
    }
    if (w->file == NULL || *w->file == '\0')
        w->file = SPEC_DEFAULT_NAME;
    err_clear(&e);
    if (spec_load_mem(&w->sp, w->file, w->text, strlen(w->text), &e) != 0 ||
        spec_check_new(w->sp, &e) != 0) {
        api_fail(c, &e);
        return -1;
    }
    w->warnings = json_array();
    for (i = 0; i < w->sp->nwarnings; i++)
        json_array_append_new(w->warnings, json_string(w->sp->warnings[i]));
    return 0;
}

/* An error reply with the spec's warnings (and text, may be NULL) beside it. */
void api_fail_with(struct api_call *c, const struct err *e, const struct api_workload *w,
                      const char *text)
{
    json_t *o = apijson_error(e);

    if (w->warnings && json_array_size(w->warnings) > 0)
        json_object_set(o, "warnings", w->warnings);
    if (text)
        json_object_set_new(o, "text", json_string(text));
    api_reply(c, api_status_of(e->code), o);
}

/* ---- submit ---- */

/* The line of `workdir:` in the spec text, for the message; 0 when not found. */
static size_t workdir_line(const char *text)
{
    size_t line = 0;
    const char *p = text;

    while (p && *p) {
        const char *q = p + strspn(p, " \t");

        line++;
        if (strncmp(q, "workdir", 7) == 0 && q[7 + strspn(q + 7, " \t")] == ':')
            return line;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* A workdir that is missing would give the job an empty directory: refuse
 * the submit, resolving it as the controller will (relative to the spec
 * file's directory), with the message `stratus launch` gave. */
static int check_workdir(const struct api_workload *w, struct err *e)
{
    const char *slash = strrchr(w->file, '/');
    struct stat sb;
    char *dir;
    int rc = 0;

    if (w->sp->workdir == NULL)
        return 0;
    if (w->sp->workdir[0] == '/' || w->file[0] != '/' || slash == NULL)
        dir = xstrdup(w->sp->workdir);
    else
        dir = xasprintf("%.*s/%s", (int)(slash - w->file), w->file, w->sp->workdir);
    if (stat(dir, &sb) != 0)
        rc = err_at(e, ST_EINVAL, w->file, workdir_line(w->text), 0, "workdir %s: %s",
                    dir, strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = err_at(e, ST_EINVAL, w->file, workdir_line(w->text), 0,
                    "workdir %s is not a directory", dir);
    free(dir);
    return rc;
}

int api_dataset_home_check(struct api_call *c, const struct api_workload *w, int64_t self,
                           const struct store_data_replica *v, size_t n, struct err *e)
{
    struct data_holder h;

    /* a typo in the location is the error to show, not a second home */
    if (c->s->cat != NULL && plan_check_data_location(c->s->cat, w->sp, e) != 0)
        return e->code;
    switch (sched_data_fit(c->s->st, w->sp, self, v, n, &h)) {
    case DATA_FITS:
    case DATA_FREE: /* the submit's transaction forgets it */
        return 0;
    case DATA_HELD:
        if (h.who[0] && !api_team_visible(c, h.team[0] ? h.team : NULL)) {
            /* another team's job or service, which this caller may not learn of */
            snprintf(h.who, sizeof(h.who), "a job or service of another team");
            snprintf(h.fix, sizeof(h.fix), "that team must end it");
        }
        return sched_data_home_check(w->sp, w->file, v, n, &h, e);
    case DATA_USED:
        break;
    }
    return sched_data_home_check(w->sp, w->file, v, n, NULL, e);
}

int api_dataset_check(struct api_call *c, const struct api_workload *w, int64_t self,
                      struct err *e)
{
    const struct spec *sp = w->sp;
    struct store_data_replica *v = NULL;
    size_t n = 0;
    int rc;

    if (sp->data_name == NULL || sp->data_cloud == NULL)
        return 0;
    if ((rc = store_data_list(c->s->st, sp->data_name, 0, &v, &n, e)) == 0)
        rc = api_dataset_home_check(c, w, self, v, n, e);
    store_data_replicas_free(v, n);
    return rc;
}

/* The policy a submit runs under: the server's, or an admin's override. */
int api_submit_policy(struct api_call *c, const struct api_workload *w, const char **text,
                      struct err *e)
{
    struct policy *pol = NULL;
    int rc;

    *text = c->s->policy_text;
    if (w->policy == NULL)
        return 0;
    if (c->rq->who->role < AUTH_ADMIN)
        return err_set(e, ST_EINVAL,
                       "only an admin may submit under a policy of their own "
                       "(\"policy\"); the server's policy applies to everyone else");
    rc = policy_load_mem(&pol, policy_name(w), w->policy, strlen(w->policy), e);
    policy_free(pol);
    *text = w->policy;
    return rc;
}

/* The policy a workload is planned or checked under: the body's (a plan's
 * dry run: anyone may ask "what if"; a submit's: an admin's, which
 * api_submit_policy checked), parsed into *own (the caller frees it), else
 * the server's (NULL: none). */
static int workload_policy(struct api_call *c, const struct api_workload *w,
                           struct policy **own, const struct policy **pol, struct err *e)
{
    *own = NULL;
    *pol = c->s->policy;
    if (w->policy == NULL)
        return 0;
    if (policy_load_mem(own, policy_name(w), w->policy, strlen(w->policy), e) != 0)
        return e->code;
    *pol = *own;
    return 0;
}

/* ---- submit a pipeline or job group (spec/pipeline.h) ---- */

/* 1 when the body's "spec" holds several YAML documents. */
static int body_is_group(const struct api_call *c)
{
    json_t *o;
    const char *t;
    int multi;

    if (c->rq->body == NULL || c->rq->body_len == 0)
        return 0;
    o = json_loadb(c->rq->body, c->rq->body_len, 0, NULL);
    t = json_string_value(json_object_get(o, "spec"));
    multi = t != NULL && pipeline_is_multi(t, strlen(t));
    json_decref(o);
    return multi;
}

/* Every stage's workdir exists, its dataset is as known (and as the stages
 * before it name it), its team has the secrets it names, and its warnings
 * join the reply's. */
static int group_check(struct api_call *c, const struct api_workload *w,
                       const struct pipeline *pl, struct err *e)
{
    double before = 0; /* a stage of a pipeline starts after those before it */
    struct policy *own;
    const struct policy *pol;
    size_t k, i;
    int rc = workload_policy(c, w, &own, &pol, e);

    for (k = 0; rc == 0 && k < pl->n; k++) {
        struct api_workload sw = *w;

        sw.sp = pl->stages[k].spec;
        sw.text = pl->stages[k].text;
        for (i = 0; i < sw.sp->nwarnings; i++)
            json_array_append_new(w->warnings, json_string(sw.sp->warnings[i]));
        rc = spec_check_new(sw.sp, e);
        if (rc == 0)
            rc = sched_deadline_check_after(c->s->cat, pol, sw.sp, w->file, c->now,
                                            before, e);
        if (pl->mode == PIPE_SERIAL)
            before += sched_min_run(c->s->cat, pol, sw.sp, c->now);
        if (rc == 0)
            rc = check_workdir(&sw, e);
        if (rc == 0)
            rc = api_dataset_check(c, &sw, 0, e);
        if (rc == 0)
            rc = sched_data_stage_agrees(w->file, pl, k, e);
        if (rc == 0)
            rc = api_secrets_check(c, sw.sp, w->file, e);
    }
    policy_free(own);
    return rc;
}

/* {"id": the first stage's job (the group's id), "group_id", "ids": every
 * stage's job in order, "jobs", "warnings"}. */
static json_t *group_reply(struct api_call *c, const struct pipeline *pl, const int64_t *ids,
                           json_t *warnings)
{
    json_t *o = json_object(), *arr = json_array(), *jobs = json_array();
    struct store_job j;
    struct err e;
    size_t k;

    err_clear(&e);
    for (k = 0; k < pl->n; k++) {
        json_array_append_new(arr, json_integer(ids[k]));
        if (store_job_get(c->s->st, ids[k], &j, &e) == 0) {
            json_array_append_new(jobs, apijson_job(&j, NULL, 0, c->now));
            store_job_clear(&j);
        }
    }
    json_object_set_new(o, "id", json_integer(ids[0]));
    json_object_set_new(o, "group_id", json_integer(ids[0]));
    json_object_set_new(o, "group_mode", json_string(pipeline_mode_name(pl->mode)));
    json_object_set_new(o, "group_name", json_string(pl->name));
    json_object_set_new(o, "ids", arr);
    json_object_set_new(o, "jobs", jobs);
    json_object_set(o, "warnings", warnings);
    return o;
}

/* Every stage's team (api_team_assign). */
static int group_teams(struct api_call *c, struct pipeline *pl, int *forbidden, struct err *e)
{
    size_t k;

    for (k = 0; k < pl->n; k++)
        if (api_team_assign(c, pl->stages[k].spec, forbidden, e) != 0)
            return e->code;
    return 0;
}

/* POST /v1/jobs with a multi-document spec: every stage is submitted, in
 * one transaction, as a job of its group (sched_submit_group). */
static void api_jobs_submit_group(struct api_call *c)
{
    struct api_workload w;
    struct pipeline *pl = NULL;
    int64_t ids[PIPELINE_MAX_STAGES];
    const char *ptext;
    struct err e;
    int bad = 0, forbidden = 0;

    memset(&w, 0, sizeof(w));
    if (api_body(c, &w.body) != 0)
        return;
    w.text = api_body_str(c, w.body, "spec", &bad);
    w.file = api_body_str(c, w.body, "file", &bad);
    w.policy = api_body_str(c, w.body, "policy", &bad);
    w.policy_file = api_body_str(c, w.body, "policy_file", &bad);
    w.warnings = json_array();
    if (w.file == NULL || *w.file == '\0')
        w.file = SPEC_DEFAULT_NAME;
    err_clear(&e);
    if (!bad &&
        (pipeline_load_mem(&pl, w.file, w.text, strlen(w.text), &e) != 0 ||
         group_teams(c, pl, &forbidden, &e) != 0 ||
         api_submit_policy(c, &w, &ptext, &e) != 0 || group_check(c, &w, pl, &e) != 0 ||
         sched_submit_group(c->s->st, w.file, pl, ptext, c->now, ids, &e) != 0)) {
        api_fail_with(c, &e, &w, NULL);
        if ((w.policy && c->rq->who->role < AUTH_ADMIN && pl != NULL) || forbidden)
            c->rp->status = 403;
    } else if (!bad) {
        srv_wake(c->s);
        api_reply(c, 201, group_reply(c, pl, ids, w.warnings));
    }
    pipeline_free(pl);
    api_workload_free(&w);
}

/* The deadline leaves the job its fastest run where the policy in force
 * lets it run (sched_deadline_check). */
static int deadline_check(struct api_call *c, const struct api_workload *w, struct err *e)
{
    struct policy *own;
    const struct policy *pol;
    int rc = workload_policy(c, w, &own, &pol, e);

    if (rc == 0)
        rc = sched_deadline_check(c->s->cat, pol, w->sp, w->file, c->now, e);
    policy_free(own);
    return rc;
}

/* POST /v1/jobs (member): validate, commit the job PENDING, wake the controller. */
void api_jobs_submit(struct api_call *c)
{
    struct api_workload w;
    struct store_job j;
    const char *ptext;
    struct err e;
    int64_t id = 0;
    json_t *o;
    int forbidden = 0;

    if (body_is_group(c)) {
        api_jobs_submit_group(c);
        return;
    }
    if (api_workload_read(c, &w) != 0) {
        api_workload_free(&w);
        return;
    }
    err_clear(&e);
    if (api_team_assign(c, w.sp, &forbidden, &e) != 0) {
        api_fail_with(c, &e, &w, NULL);
        if (forbidden)
            c->rp->status = 403;
        api_workload_free(&w);
        return;
    }
    if (api_submit_policy(c, &w, &ptext, &e) != 0 || check_workdir(&w, &e) != 0 ||
        deadline_check(c, &w, &e) != 0 || api_dataset_check(c, &w, 0, &e) != 0 ||
        api_secrets_check(c, w.sp, w.file, &e) != 0 ||
        sched_submit_parsed(c->s->st, w.file, w.text, w.sp, ptext, c->now, &id, &e) !=
            0) {
        /* a policy refused for the caller's role is a permission matter */
        api_fail_with(c, &e, &w, NULL);
        if (w.policy && c->rq->who->role < AUTH_ADMIN)
            c->rp->status = 403;
        api_workload_free(&w);
        return;
    }
    srv_wake(c->s);
    if (w.sp->service != NULL)
        json_array_append_new(
            w.warnings,
            json_sprintf("%s:%zu:1: warning: the spec has a service: section; launch runs "
                         "it once as a job of kind infer (`stratus serve up %s` runs it as "
                         "a service)",
                         w.file, w.sp->service->line, w.file));
    o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    if (store_job_get(c->s->st, id, &j, &e) == 0) {
        json_object_set_new(o, "job", apijson_job(&j, NULL, 0, c->now));
        store_job_clear(&j);
    }
    json_object_set(o, "warnings", w.warnings);
    api_reply(c, 201, o);
    api_workload_free(&w);
}

/* ---- list, get ---- */

#define PAGE_ATTS 512 /* attempts read a page at a time */

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The last attempt that ran of each ended job of v (ids ascending): one
 * pass over the attempts a page at a time (a query per job made the list
 * three times slower: helper-102).  last[k] for the k-th of ended[]; id 0
 * when none of its attempts ran. */
static int last_ran(struct api_call *c, const int64_t *ended, size_t ne,
                    struct store_attempt *last, struct err *e)
{
    int64_t after = 0;
    size_t got, i;
    int rc;

    do {
        struct store_attempt *a = NULL;

        if ((rc = store_attempt_page(c->s->st, after, PAGE_ATTS, &a, &got, e)) != 0)
            return rc;
        for (i = 0; i < got; i++) {
            const int64_t *k;

            after = a[i].id;
            if (a[i].running_at <= 0 ||
                (k = bsearch(&a[i].job_id, ended, ne, sizeof(*ended), cmp_id)) == NULL)
                continue;
            /* in id order: a later attempt of the job comes later */
            store_attempt_clear(&last[k - ended]);
            last[k - ended] = a[i];
            memset(&a[i], 0, sizeof(a[i]));
        }
        store_attempts_free(a, got);
    } while (got == PAGE_ATTS);
    return 0;
}

#define JOBS_PAGE_MAX 10000 /* ?limit= at most */

/* One job of the list from attempts a (na): its live attempt's placement,
 * an ended job's where it last ran; without the attempts' detail. */
static json_t *list_entry(const struct store_job *j, const struct store_attempt *a,
                          size_t na, double now)
{
    json_t *jo = apijson_job(j, a, na, now);

    json_object_del(jo, "attempts_detail");
    return jo;
}

/* The entry of job j given its live attempt (read here) or last that ran. */
static json_t *list_entry_of(struct api_call *c, const struct store_job *j,
                             const struct store_attempt *last)
{
    struct store_attempt a;
    struct err e;
    json_t *jo;

    err_clear(&e);
    if (j->cur_attempt && store_attempt_get(c->s->st, j->cur_attempt, &a, &e) == 0) {
        jo = list_entry(j, &a, 1, c->now);
        store_attempt_clear(&a);
        return jo;
    }
    return list_entry(j, last, last != NULL && last->id != 0, c->now);
}

/* The entry of job j of a page: an ended job's attempts are read job by
 * job, which for a page costs less than one pass over every attempt of the
 * store, and apijson_job picks the last that ran among them, as for GET
 * /v1/jobs/{id}.  0, or -1 with e set. */
static int page_entry(struct api_call *c, const struct store_job *j, json_t *arr,
                      struct err *e)
{
    struct store_attempt *a = NULL;
    size_t na = 0;

    if (!(job_state_terminal(j->state) && j->nattempts > 0 && j->cur_attempt == 0)) {
        json_array_append_new(arr, list_entry_of(c, j, NULL));
        return 0;
    }
    if (store_attempt_list(c->s->st, j->id, &a, &na, e) != 0)
        return -1;
    json_array_append_new(arr, list_entry(j, a, na, c->now));
    store_attempts_free(a, na);
    return 0;
}

#define SCAN_CHUNK 256 /* jobs read at a time looking for ones the caller sees */

/* A page of jobs (?limit=): the first `limit` the caller sees from the
 * cursor on, the store read until one more is found (or it ends), so that
 * "next" is null exactly when there is no more.  "next" is the id of the
 * page's last job: never one of a team the caller does not see (helper-104:
 * it named hidden jobs, and a page of them came back empty). */
static void list_page(struct api_call *c, const struct store_job_scan *q0)
{
    struct store_job_scan q = *q0;
    json_t *arr = json_array(), *o;
    size_t shown = 0, want = q0->limit;
    int64_t next = 0;
    int more = 0, done = 0;
    struct err e;

    err_clear(&e);
    q.no_texts = 1; /* the list shows no spec */
    q.limit = want == 0 ? 0 : want + 1 > SCAN_CHUNK ? want + 1 : SCAN_CHUNK;
    while (!done && !more) {
        struct store_job *v = NULL;
        size_t i, n = 0;

        if (store_job_scan(c->s->st, &q, &v, &n, &e) != 0) {
            json_decref(arr);
            api_fail(c, &e);
            return;
        }
        for (i = 0; i < n; i++) {
            if (!api_team_visible(c, v[i].team))
                continue;
            if (want > 0 && shown == want) {
                more = 1; /* one more than the page: there is a next */
                break;
            }
            if (page_entry(c, &v[i], arr, &e) != 0) {
                store_jobs_free(v, n);
                json_decref(arr);
                api_fail(c, &e);
                return;
            }
            shown++;
            next = v[i].id;
        }
        done = q.limit == 0 || n < q.limit;
        if (n > 0)
            q.after = v[n - 1].id;
        store_jobs_free(v, n);
    }
    o = json_object();
    json_object_set_new(o, "jobs", arr);
    json_object_set_new(o, "next", more ? json_integer(next) : json_null());
    api_reply(c, 200, o);
}

/* GET /v1/jobs[?active=1][&limit=N[&after=ID][&order=desc]] (viewer): the
 * jobs with their current placement, an ended one with where it last ran;
 * every job at once, or a page of them from a cursor (docs/api.md). */
void api_jobs_list(struct api_call *c)
{
    struct store_job *v = NULL;
    struct store_attempt *last = NULL;
    struct store_job_scan q;
    int64_t *ended = NULL;
    json_t *arr, *o;
    size_t i, n = 0, ne = 0;
    struct err e;
    long active, limit, after;
    char order[16] = "asc", shown[64];

    if (api_query_long(c, "active", 0, 1, 0, &active) != 0 ||
        api_query_long(c, "limit", 1, JOBS_PAGE_MAX, 0, &limit) != 0 ||
        api_query_long(c, "after", 0, LONG_MAX, 0, &after) != 0)
        return;
    if (api_query(c, "order", order, sizeof(order)) && strcmp(order, "asc") != 0 &&
        strcmp(order, "desc") != 0) {
        api_failf(c, ST_EINVAL,
                  "?order= is asc (oldest first) or desc (newest first), not '%s'",
                  str_vis(shown, sizeof(shown), order));
        return;
    }
    memset(&q, 0, sizeof(q));
    q.active_only = (int)active;
    q.desc = strcmp(order, "desc") == 0;
    q.after = after;
    q.limit = (size_t)limit;
    if (limit > 0 || q.desc || after > 0) { /* without a limit: the rest */
        list_page(c, &q);
        return;
    }
    err_clear(&e);
    q.no_texts = 1; /* every job in id order, without the specs the list does not show */
    if (store_job_scan(c->s->st, &q, &v, &n, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    for (i = 0; i < n; i++)
        if (job_state_terminal(v[i].state) && v[i].nattempts > 0 &&
            api_team_visible(c, v[i].team)) {
            ended = xrealloc(ended, (ne + 1) * sizeof(*ended));
            ended[ne++] = v[i].id; /* ascending: the list is by id */
        }
    last = xcalloc(ne + 1, sizeof(*last));
    if (ne > 0 && last_ran(c, ended, ne, last, &e) != 0) {
        for (i = 0; i < ne; i++)
            store_attempt_clear(&last[i]);
        free(last);
        free(ended);
        store_jobs_free(v, n);
        api_fail(c, &e);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++) {
        const int64_t *k;

        if (!api_team_visible(c, v[i].team))
            continue;
        k = ne > 0 ? bsearch(&v[i].id, ended, ne, sizeof(*ended), cmp_id) : NULL;
        json_array_append_new(arr, list_entry_of(c, &v[i], k ? &last[k - ended] : NULL));
    }
    for (i = 0; i < ne; i++)
        store_attempt_clear(&last[i]);
    free(last);
    free(ended);
    store_jobs_free(v, n);
    o = json_object();
    json_object_set_new(o, "jobs", arr);
    api_reply(c, 200, o);
}

/* Read job {id}: 0, or replied (400/404) and -1. */
static int get_job(struct api_call *c, struct store_job *j, int64_t *id)
{
    struct err e;

    if (api_job_id(c, id) != 0)
        return -1;
    err_clear(&e);
    if (store_job_get(c->s->st, *id, j, &e) == 0 && !api_team_visible(c, j->team)) {
        store_job_clear(j); /* another team's: as if there were none */
        err_set(&e, ST_ENOTFOUND, "no such job");
    }
    if (e.code != 0) {
        if (e.code == ST_ENOTFOUND)
            err_set(&e, ST_ENOTFOUND, "no job %lld", (long long)*id);
        api_fail(c, &e);
        return -1;
    }
    return 0;
}

/* ---- rendered replies of GET /v1/jobs/{id} ----
 * Clients follow their jobs, so reads of one job are most of the API's
 * traffic, and rendering one costs two store queries and a JSON encoding.
 * The rendered reply is kept per job in a direct-mapped table (a bounded
 * size, no eviction policy to get wrong) and served again while the
 * server's generation stands: every controller step and every call that
 * may write bumps it, and nothing else writes the store.  A job that has
 * not ended shows figures that move with the clock (elapsed, cost so far),
 * so its entry lives CACHE_LIVE_S at most. */
#define CACHE_SLOTS 1024
#define CACHE_LIVE_S 0.25
#define CACHE_MAX_BODY ((size_t)64 << 10)

struct cache_slot {
    int64_t id;
    uint64_t gen;
    double made_at;
    int ended;
    char *body; /* NULL = empty slot */
    size_t len;
};

struct api_cache {
    struct cache_slot slot[CACHE_SLOTS];
};

void api_cache_free(struct api_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < CACHE_SLOTS; i++)
        free(c->slot[i].body);
    free(c);
}

static struct cache_slot *cache_slot(struct srv *s, int64_t id)
{
    if (s->cache == NULL)
        s->cache = xcalloc(1, sizeof(*s->cache));
    return &s->cache->slot[(uint64_t)id % CACHE_SLOTS];
}

/* Answer from the cache when its entry for id still holds: 1, else 0. */
static int cache_reply(struct api_call *c, int64_t id)
{
    const struct cache_slot *sl = cache_slot(c->s, id);
    struct api_resp *rp = c->rp;

    if (sl->body == NULL || sl->id != id || sl->gen != c->s->gen)
        return 0;
    if (!sl->ended && (c->now < sl->made_at || c->now - sl->made_at > CACHE_LIVE_S))
        return 0;
    free(rp->body);
    rp->status = 200;
    rp->body = xmalloc(sl->len);
    memcpy(rp->body, sl->body, sl->len);
    rp->body_len = sl->len;
    rp->content_type = "application/json";
    return 1;
}

static void cache_put(struct api_call *c, int64_t id, int ended)
{
    struct cache_slot *sl = cache_slot(c->s, id);
    const struct api_resp *rp = c->rp;

    free(sl->body);
    sl->body = NULL;
    if (rp->status != 200 || rp->body == NULL || rp->body_len > CACHE_MAX_BODY)
        return;
    sl->id = id;
    sl->gen = c->s->gen;
    sl->made_at = c->now;
    sl->ended = ended;
    sl->len = rp->body_len;
    sl->body = xmalloc(sl->len);
    memcpy(sl->body, rp->body, sl->len);
}

/* GET /v1/jobs/{id} (viewer): the job with all its attempts (the bill). */
void api_jobs_get(struct api_call *c)
{
    struct store_attempt *a = NULL;
    struct store_job j;
    size_t n = 0;
    struct err e;
    int64_t id;
    json_t *o;
    int ended;

    /* the cache serves callers who see every job (a user's token is
     * checked against the job's team: get_job) */
    int shared = c->rq->who->user[0] == '\0';

    if (api_job_id(c, &id) != 0 || (shared && cache_reply(c, id)))
        return;
    if (get_job(c, &j, &id) != 0)
        return;
    err_clear(&e);
    if (store_attempt_list(c->s->st, id, &a, &n, &e) != 0) {
        store_job_clear(&j);
        api_fail(c, &e);
        return;
    }
    o = apijson_job(&j, a, n, c->now);
    if (json_object_get(o, "attempts_detail") == NULL)
        json_object_set_new(o, "attempts_detail", json_array());
    ended = job_state_terminal(j.state);
    store_attempts_free(a, n);
    store_job_clear(&j);
    api_reply(c, 200, o);
    if (shared)
        cache_put(c, id, ended);
}

/* ---- cancel ---- */

/* POST /v1/jobs/{id}/cancel (member): file a cancel unless the job has ended. */
void api_jobs_cancel(struct api_call *c)
{
    struct store_job j;
    struct err e;
    int64_t id;
    char arg[32];
    json_t *o;
    int ended;

    if (get_job(c, &j, &id) != 0)
        return;
    if (api_team_role(c, j.team) < AUTH_MEMBER) {
        api_failf(c, ST_EINVAL, "'%s' may not cancel job %lld of team '%s': that needs the "
                  "member role in the team",
                  c->rq->who->user[0] ? c->rq->who->user : c->rq->who->name, (long long)id,
                  j.team ? j.team : "(none)");
        c->rp->status = 403;
        store_job_clear(&j);
        return;
    }
    ended = job_state_terminal(j.state);
    err_clear(&e);
    snprintf(arg, sizeof(arg), "%lld", (long long)id);
    /* Cancelling twice files two requests; the controller's second finds
     * the job cancelled already, so the call is idempotent. */
    if (!ended && store_request_add(c->s->st, "cancel", arg, c->now, NULL, &e) != 0) {
        store_job_clear(&j);
        api_fail(c, &e);
        return;
    }
    if (!ended)
        srv_wake(c->s);
    o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "state", json_string(job_state_name(j.state)));
    json_object_set_new(o, "cancel", json_string(ended ? "already-ended" : "requested"));
    store_job_clear(&j);
    api_reply(c, 202, o);
}

/* ---- events ---- */

/* GET /v1/jobs/{id}/events?after&limit (viewer): the state, then the events. */
void api_jobs_events(struct api_call *c)
{
    struct store_event *ev = NULL;
    struct store_job j;
    size_t i, n = 0;
    long after, limit;
    struct err e;
    int64_t id;
    json_t *o, *arr;

    if (api_query_long(c, "after", 0, LONG_MAX, 0, &after) != 0 ||
        api_query_long(c, "limit", 0, 1000000, 0, &limit) != 0 ||
        get_job(c, &j, &id) != 0)
        return;
    /* The state was read first: every event up to a terminal state was
     * committed with it, so a follower that stops at that state has them all. */
    err_clear(&e);
    if (store_event_list(c->s->st, id, after, (size_t)limit, &ev, &n, &e) != 0) {
        store_job_clear(&j);
        api_fail(c, &e);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, apijson_event(&ev[i]));
    o = json_object();
    json_object_set_new(o, "state", json_string(job_state_name(j.state)));
    json_object_set_new(o, "events", arr);
    store_events_free(ev, n);
    store_job_clear(&j);
    api_reply(c, 200, o);
}

/* ---- logs ---- */

int api_log_path(struct srv *s, int64_t job, int node, char *buf, size_t n, struct err *e)
{
    struct store_attempt *a = NULL;
    size_t na = 0;
    int rc = store_attempt_list(s->st, job, &a, &na, e);

    if (rc == 0 && na == 0)
        rc = err_set(e, ST_ENOTFOUND, "job %lld has not been launched yet", (long long)job);
    if (rc == 0 && a[na - 1].nodes == 1 && node > 0)
        rc = err_set(e, ST_ENOTFOUND, "job %lld runs on 1 node: no node %d (--node 0)",
                     (long long)job, node);
    else if (rc == 0 && a[na - 1].nodes > 1 && node >= a[na - 1].nodes)
        rc = err_set(e, ST_ENOTFOUND,
                     "job %lld runs on %d nodes: no node %d (--node 0 to %d)",
                     (long long)job, a[na - 1].nodes, node, a[na - 1].nodes - 1);
    if (rc == 0 && (s->drv.ops == NULL ||
                    driver_log_path(&s->drv, a[na - 1].id, node, buf, n) != 0))
        rc = err_set(e, ST_ENOTFOUND, "no log for job %lld node %d", (long long)job, node);
    store_attempts_free(a, na);
    return rc;
}

/* GET /v1/jobs/{id}/logs?node&offset&follow (viewer): a streamed reply of the
 * latest attempt's log of that node (the HTTP layer sends the file). */
void api_jobs_logs(struct api_call *c)
{
    struct store_job j;
    long node, offset, follow;
    char path[4096];
    struct err e;
    int64_t id;

    if (api_query_long(c, "node", 0, 4095, 0, &node) != 0 ||
        api_query_long(c, "offset", 0, LONG_MAX, 0, &offset) != 0 ||
        api_query_long(c, "follow", 0, 1, 0, &follow) != 0 || get_job(c, &j, &id) != 0)
        return;
    store_job_clear(&j);
    err_clear(&e);
    if (api_log_path(c->s, id, (int)node, path, sizeof(path), &e) != 0) {
        api_fail(c, &e);
        return;
    }
    if (!follow && access(path, R_OK) != 0) {
        api_failf(c, ST_ENOTFOUND, "no log yet for job %lld node %ld", (long long)id,
                  node);
        return;
    }
    c->rp->status = 200;
    c->rp->content_type = "text/plain; charset=utf-8";
    c->rp->stream_path = xstrdup(path);
    c->rp->stream_offset = offset;
    c->rp->stream_job = id;
    c->rp->stream_follow = (int)follow;
    c->rp->stream_node = (int)node;
}

/* ---- plan ---- */

/* The plan as `stratus plan` prints it (only_explain: its exclusions), as a
 * string the caller frees. */
static char *plan_text(const struct plan *p, int explain, int only_explain)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    if (fp == NULL)
        return xstrdup("");
    if (only_explain)
        plan_print_explain(fp, p);
    else
        plan_print(fp, p, explain);
    fclose(fp);
    return text;
}

/* The block in v[0..n) (those in force) that keeps the controller off
 * offer o, or NULL. */
static const struct store_block *block_of(const struct store_block *v, size_t n,
                                          const struct offer *o)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (sched_block_covers(&v[i], o))
            return &v[i];
    return NULL;
}

/* The team a plan of sp is for (api_plan gives a spec without one the
 * caller's one team, as a launch would), when the caller may see it; NULL
 * otherwise. */
static const char *plan_team(struct api_call *c, const struct spec *sp)
{
    return sp->team != NULL && api_team_visible(c, sp->team) ? sp->team : NULL;
}

/* What the plan's candidates look like on this server's clouds now: each
 * candidate's free nodes (the drivers'; unknown on a server without them),
 * the block that keeps the controller off it (a launch refused, a spot
 * pool taken back, for the driver's block_cooldown) and the quota of the
 * plan's team it would go over: one object per candidate appended to
 * cands, and the lines returned (the reply's "now": `stratus plan` prints
 * them on stderr, so that its output stays what an offline plan prints).
 * The controller places in the plan's order, skipping those; it also weighs
 * patience and the deadline rule, which this does not. */
static char *plan_now(struct api_call *c, const struct plan *p, const struct spec *sp,
                      json_t *cands)
{
    struct store_block *bv = NULL;
    size_t nb = 0, i, shown = 0;
    const char *team = plan_team(c, sp);
    char *out = NULL, m[32], quota[256];
    size_t len = 0;
    FILE *fp;
    struct err e;

    err_clear(&e);
    if (store_block_list(c->s->st, c->now, &bv, &nb, &e) != 0)
        nb = 0; /* the plan stands without it */
    if ((fp = open_memstream(&out, &len)) == NULL) {
        store_blocks_free(bv, nb);
        return xstrdup("");
    }
    fprintf(fp, "now, on this server's clouds:\n");
    for (i = 0; i < p->n; i++) {
        const struct plan_cand *pc = &p->c[i];
        const struct offer *o = catalog_offer(p->cat, pc->offer);
        const struct store_block *b = block_of(bv, nb, o);
        long free_nodes = -1;
        json_t *now = json_object();

        if (pc->mode == PLAN_COMMITTED && c->s->sched != NULL)
            free_nodes = sched_commit_free(c->s->sched, o); /* the lab's own nodes */
        else if (pc->mode != PLAN_COMMITTED && c->s->drv.ops != NULL)
            free_nodes = driver_offer_capacity(&c->s->drv, o, pc->mode == PLAN_SPOT);
        json_object_set_new(now, "free_nodes",
                            free_nodes < 0 ? json_null() : json_integer(free_nodes));
        json_object_set_new(now, "blocked_for_s", json_real(b ? b->until - c->now : 0));
        json_object_set_new(now, "blocked_reason", json_string(b ? b->reason : ""));
        if (team == NULL || c->s->sched == NULL ||
            !sched_quota_check(c->s->sched, team, o, pc->nodes, quota, sizeof(quota)))
            quota[0] = '\0';
        json_object_set_new(now, "over_quota", json_string(quota));
        json_array_append_new(cands, now);
        if (b != NULL) {
            fprintf(fp, "%3zu  blocked for %s more: %s\n", i + 1,
                    str_duration(m, sizeof(m), b->until - c->now), b->reason);
        } else if (quota[0] != '\0') {
            fprintf(fp, "%3zu  over quota: %s\n", i + 1, quota);
        } else if (free_nodes >= 0 && free_nodes < pc->nodes) {
            fprintf(fp, "%3zu  full: %ld free, %d needed\n", i + 1, free_nodes,
                    pc->nodes);
        } else if (shown == 0) {
            fprintf(
                fp, "%3zu  %s: the first in order that is not blocked%s\n", i + 1,
                free_nodes < 0 ? "free nodes unknown" : "has room",
                free_nodes >= 0 ? ", over quota or full"
                : pc->mode == PLAN_COMMITTED
                    ? " or over quota (committed nodes: this server runs no controller)"
                    : " or over quota (this server runs no drivers)");
            shown = 1;
        }
    }
    if (shown == 0)
        fprintf(fp, "     none of these has room now%s\n",
                p->n < p->feasible ? " (--top 0 shows all)" : "");
    fclose(fp);
    store_blocks_free(bv, nb);
    return out;
}

/* "top" and "explain" of a plan body: 0, or replied 400 and -1. */
static int plan_opts_read(struct api_call *c, const json_t *b, long *top, int *explain)
{
    const json_t *t = json_object_get(b, "top"), *x = json_object_get(b, "explain");

    *top = 10;
    *explain = x != NULL && json_is_true(x);
    if (x != NULL && !json_is_boolean(x) && !json_is_null(x)) {
        api_failf(c, ST_EINVAL, "\"explain\" in the body must be true or false");
        return -1;
    }
    if (t == NULL || json_is_null(t))
        return 0;
    if (!json_is_integer(t) || json_integer_value(t) < 0 ||
        json_integer_value(t) > 1000000) {
        api_failf(c, ST_EINVAL,
                  "\"top\" in the body must be a whole number from 0 to 1000000");
        return -1;
    }
    *top = (long)json_integer_value(t);
    return 0;
}

/* The dataset of w's spec, read once for its plan: held to its known home
 * (api_dataset_home_check), and its live replicas besides the home, which the
 * controller plans from, as copies (*ncopies of them, pointing into *v;
 * NULL when none): 0, or an error. */
static int plan_dataset(struct api_call *c, const struct api_workload *w,
                        struct store_data_replica **v, size_t *n,
                        struct plan_copy **copies, size_t *ncopies, struct err *e)
{
    const struct spec *sp = w->sp;
    size_t i;
    int rc;

    *v = NULL;
    *copies = NULL;
    *n = *ncopies = 0;
    if (sp->data_name == NULL || sp->data_cloud == NULL)
        return 0;
    if ((rc = store_data_list(c->s->st, sp->data_name, 0, v, n, e)) != 0 ||
        (rc = api_dataset_home_check(c, w, 0, *v, *n, e)) != 0)
        return rc;
    *copies = xcalloc(*n + 1, sizeof(**copies));
    for (i = 0; i < *n; i++)
        if (!(*v)[i].home && (*v)[i].expired_at == 0)
            (*copies)[(*ncopies)++] = (struct plan_copy){(*v)[i].cloud, (*v)[i].region};
    return 0;
}

/* POST /v1/plan (viewer): the plan as JSON and as `stratus plan` prints it. */
/* "stage_name" of a plan's body: a pipeline stage's name as its group
 * gives it, one line of at most STAGE_NAME_MAX characters (*out NULL: none,
 * or empty): 0, or replied (400) and -1. */
#define STAGE_NAME_MAX 160 /* a spec's name (128), "-" and a stage's number */
static int stage_name_read(struct api_call *c, const json_t *body, const char **out)
{
    int bad = 0;
    const char *s = api_body_str(c, body, "stage_name", &bad);
    size_t i;

    *out = NULL;
    if (bad)
        return -1;
    for (i = 0; s != NULL && s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            api_failf(c, ST_EINVAL,
                      "\"stage_name\" in the body must be one line of text");
            return -1;
        }
    if (i > STAGE_NAME_MAX) {
        api_failf(c, ST_EINVAL, "\"stage_name\" in the body is longer than %d characters",
                  STAGE_NAME_MAX);
        return -1;
    }
    *out = i > 0 ? s : NULL;
    return 0;
}

void api_plan(struct api_call *c)
{
    struct store_data_replica *dv = NULL;
    struct plan_copy *copies = NULL;
    size_t ndv = 0, ncopies = 0;
    const struct policy *pol;
    struct policy *own = NULL;
    struct api_workload w;
    struct plan p;
    struct err e;
    const char *stage = NULL;
    long top;
    int explain, rc;
    char *text;
    json_t *o;

    if (api_workload_read(c, &w) != 0 || plan_opts_read(c, w.body, &top, &explain) != 0 ||
        stage_name_read(c, w.body, &stage) != 0) {
        api_workload_free(&w);
        return;
    }
    err_clear(&e);
    /* a plan of a spec its launch would refuse (plan_dataset) would price
     * the copies of other data: refused with the launch's words */
    if (workload_policy(c, &w, &own, &pol, &e) != 0 ||
        plan_dataset(c, &w, &dv, &ndv, &copies, &ncopies, &e) != 0 || c->s->cat == NULL) {
        if (e.code == 0)
            err_set(&e, ST_EINTERNAL, "the server has no catalog loaded");
        api_fail_with(c, &e, &w, NULL);
        free(copies);
        store_data_replicas_free(dv, ndv);
        policy_free(own);
        api_workload_free(&w);
        return;
    }
    /* the team a launch would give it (api_team_assign), and a pipeline
     * stage's name ("stage_name": what its group gives a stage without
     * one): the policy's rules match on them as they will on the job */
    if (w.sp->team == NULL && c->s->org != NULL && c->rq->who->user[0] != '\0') {
        const char *only;
        size_t nt = org_user_teams(c->s->org, c->rq->who->user, &only);

        if (nt == 1 && api_team_visible(c, only))
            w.sp->team = xstrdup(only);
        else if (nt > 1) /* a launch refuses it (api_team_assign) */
            json_array_append_new(
                w.warnings,
                json_sprintf(
                    "%s: warning: '%s' is in %zu teams: a launch needs the team "
                    "(`stratus: {team: NAME}`); this plan is for work of no team",
                    w.file, c->rq->who->user, nt));
    }
    if (stage != NULL) {
        free(w.sp->name);
        w.sp->name = xstrdup(stage);
    }
    plan_init(&p);
    {
        double ttl_h = c->s->conf != NULL && c->s->conf->data_ttl_s >= 0
                           ? c->s->conf->data_ttl_s / 3600.0
                           : PLAN_DATA_TTL_H; /* as the controller keeps copies */
        struct plan_opts opts = {.now = 0,
                                 .top = (size_t)top,
                                 .by_price = 0,
                                 .copy_keep_h = w.sp->data_name ? ttl_h : 0};

        opts.copies = copies;
        opts.ncopies = ncopies;
        rc = plan_rank(&p, c->s->cat, w.sp, pol, &opts, &e);
    }
    if (rc != 0) {
        /* infeasible with explain: what `plan --explain` printed before failing */
        text = rc == ST_EINFEASIBLE && explain ? plan_text(&p, 1, 1) : NULL;
        api_fail_with(c, &e, &w, text);
    } else {
        json_t *cands = json_array();
        char *now = plan_now(c, &p, w.sp, cands);

        text = plan_text(&p, explain, 0);
        o = json_object();
        json_object_set_new(o, "plan", plan_to_json(&p, explain));
        json_object_set_new(o, "text", json_string(text));
        json_object_set_new(o, "now", json_string(now));
        json_object_set_new(o, "now_candidates", cands);
        free(now);
        json_object_set(o, "warnings", w.warnings);
        api_reply(c, 200, o);
    }
    free(text);
    plan_free(&p);
    free(copies);
    store_data_replicas_free(dv, ndv);
    policy_free(own);
    api_workload_free(&w);
}

/* ---- offers ---- */

/* The query of GET /v1/offers: 0, or replied 400 and -1. */
static int offers_query_read(struct api_call *c, struct offers_query *q, char *acc,
                             char *cloud, char *region, size_t n)
{
    struct err e;
    long spot;

    memset(q, 0, sizeof(*q));
    if (api_query(c, "accelerator", acc, n) && *acc) {
        err_clear(&e);
        if (offers_parse_accelerator(q, acc, &e) != 0) {
            api_fail(c, &e);
            return -1;
        }
    }
    if (api_query(c, "cloud", cloud, n) && *cloud)
        q->cloud = cloud;
    if (api_query(c, "region", region, n) && *region)
        q->region = region;
    if (api_query_long(c, "spot", 0, 1, 0, &spot) != 0 ||
        api_query_long(c, "limit", 0, 100000000, 50, &q->limit) != 0)
        return -1;
    q->spot = (int)spot;
    return 0;
}

/* GET /v1/offers (viewer): the offers as JSON and as `stratus offers` prints them. */
void api_offers(struct api_call *c)
{
    char acc[128], cloud[128], region[128], *text = NULL;
    const struct offer **rows = NULL;
    struct offers_query q;
    size_t i, n = 0, shown, len = 0;
    struct err e;
    json_t *o, *arr;
    FILE *fp;

    if (offers_query_read(c, &q, acc, cloud, region, sizeof(acc)) != 0)
        return;
    err_clear(&e);
    if (c->s->cat == NULL || offers_select(c->s->cat, &q, &rows, &n, &e) != 0) {
        if (e.code == 0)
            err_set(&e, ST_EINTERNAL, "the server has no catalog loaded");
        api_fail(c, &e);
        return;
    }
    shown = offers_shown(&q, n);
    arr = json_array();
    for (i = 0; i < shown; i++)
        json_array_append_new(arr, offers_json(rows[i]));
    fp = open_memstream(&text, &len);
    if (fp) {
        offers_print(fp, &q, rows, shown, n);
        fclose(fp);
    }
    o = json_object();
    json_object_set_new(o, "offers", arr);
    json_object_set_new(o, "total", json_integer((json_int_t)n));
    json_object_set_new(o, "text", json_string(text ? text : ""));
    free(text);
    free(rows);
    api_reply(c, 200, o);
}

/* ---- cost ---- */

/* GET /v1/cost?by=cloud|team|job (viewer): the cost report and its total. */
void api_cost(struct api_call *c)
{
    char by[16] = "cloud", shown[64], month[16] = "";

    if (api_query(c, "by", by, sizeof(by)) && strcmp(by, "cloud") && strcmp(by, "team") &&
        strcmp(by, "job")) {
        api_failf(c, ST_EINVAL, "--by takes cloud, team or job, not '%s'",
                  str_vis(shown, sizeof(shown), by));
        return;
    }
    if (api_query(c, "month", month, sizeof(month)) || c->rq->who->user[0] != '\0') {
        api_cost_month(c, by, month[0] ? month : NULL);
        return;
    }
    api_cost_all(c, by);
}
