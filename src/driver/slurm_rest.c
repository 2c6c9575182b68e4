/*
 * slurm_rest.c - one slurmrestd, spoken to over HTTP with libcurl, and the
 * parsers of its v0.0.38 JSON answers (jansson).
 *
 * Requests carry the cluster's user and JWT in X-SLURM-USER-NAME and
 * X-SLURM-USER-TOKEN.  The token is read from its file (again whenever the
 * file changes, so tokens can be rotated under a running controller) or
 * from an environment variable; it must be one line of printable ASCII, so
 * it cannot add a header of its own; and it never appears in a message or a
 * log: errors name the file it came from.
 *
 * One curl handle per cluster is kept for the driver's life, so requests
 * reuse the connection.  Only http and https are spoken, redirects are not
 * followed, every request has a time limit, and a reply has a size limit.
 *
 * slurmrestd answers errors in a JSON `errors` list, with HTTP 500 more often
 * than not; what it says there is what the messages say.
 *
 * Layout: the token; a request; the operations; the parsers.
 */
#include "slurm_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../util/fsutil.h"
#include "../util/lazycurl.h"
#include "../util/xmem.h"

/* A job list of tens of thousands of jobs is tens of megabytes. */
#define REPLY_MAX ((size_t)512 << 20)
#define TOKEN_MAX ((size_t)64 << 10)

/* ---- the token ------------------------------------------------------------ */

/* Trim the token in place: blanks around it, and a "SLURM_JWT=" in front as
 * `scontrol token` prints it.  0, or -1 when what is left cannot be a token. */
static int token_clean(char *t)
{
    size_t n, skip;
    char *s;

    skip = strspn(t, " \t\r\n");
    memmove(t, t + skip, strlen(t + skip) + 1);
    n = strlen(t);
    while (n > 0 && strchr(" \t\r\n", t[n - 1]))
        t[--n] = '\0';
    if (strncmp(t, "SLURM_JWT=", 10) == 0)
        memmove(t, t + 10, strlen(t + 10) + 1);
    if (*t == '\0')
        return -1;
    for (s = t; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return -1;
    return 0;
}

static void token_set(struct srest *r, char *t)
{
    if (r->token) {
        explicit_bzero(r->token, strlen(r->token));
        free(r->token);
    }
    r->token = t;
}

static int token_from_env(struct srest *r, struct err *e)
{
    const char *v = getenv(r->cl->token_env);
    char *t;

    if (v == NULL || strlen(v) >= TOKEN_MAX)
        return err_set(e, ST_EINVAL, "cluster %s: $%s holds no token", r->cl->name,
                       r->cl->token_env);
    t = xstrdup(v);
    if (token_clean(t) != 0) {
        explicit_bzero(t, strlen(t));
        free(t);
        return err_set(e, ST_EINVAL, "cluster %s: $%s is not a token", r->cl->name,
                       r->cl->token_env);
    }
    token_set(r, t);
    return 0;
}

/* The current token: from the environment, or the file when it changed. */
static int token_load(struct srest *r, struct err *e)
{
    struct stat st;
    double mtime;
    char *t = NULL;
    size_t len;

    if (r->cl->token_env)
        return token_from_env(r, e);
    if (stat(r->cl->token_file, &st) != 0)
        return err_set(e, ST_EIO, "cluster %s: cannot read token file %s", r->cl->name,
                       r->cl->token_file);
    mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    if (r->token && mtime == r->token_mtime)
        return 0;
    if (fs_read_file(r->cl->token_file, TOKEN_MAX, &t, &len, e) != 0)
        return err_set(e, ST_EIO, "cluster %s: cannot read token file %s", r->cl->name,
                       r->cl->token_file);
    if (strlen(t) != len || token_clean(t) != 0) {
        explicit_bzero(t, len);
        free(t);
        return err_set(e, ST_EINVAL, "cluster %s: token file %s holds no token",
                       r->cl->name, r->cl->token_file);
    }
    token_set(r, t);
    r->token_mtime = mtime;
    return 0;
}

/* ---- a request ---------------------------------------------------------------- */

struct reply {
    long status; /* HTTP status; 0 = no answer */
    struct buf body;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;

    return buf_add(b, p, size * n) == 0 ? size * n : 0;
}

static struct curl_slist *headers(const struct srest *r, int json_body)
{
    struct curl_slist *h = NULL;
    char *user = xasprintf("X-SLURM-USER-NAME: %s", r->cl->user);
    char *tok = xasprintf("X-SLURM-USER-TOKEN: %s", r->token);

    h = curl_slist_append(h, user);
    h = curl_slist_append(h, tok);
    h = curl_slist_append(h, "Accept: application/json");
    if (json_body)
        h = curl_slist_append(h, "Content-Type: application/json");
    explicit_bzero(tok, strlen(tok));
    free(tok);
    free(user);
    BUG_ON(h == NULL); /* curl_slist_append fails only when out of memory */
    return h;
}

/* Set up the handle for one request. */
static void prepare(struct srest *r, const char *method, const char *url,
                    const char *body, struct curl_slist *h, struct reply *out,
                    char *errbuf)
{
    CURL *c = r->curl;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     r->timeout_ms < 5000 ? r->timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

/* Send one request; out->body is initialised here and the caller frees it.
 * A reply of any HTTP status is success: callers read what Slurm says. */
static int request(struct srest *r, const char *method, const char *path,
                   const char *body, struct reply *out, struct err *e)
{
    char errbuf[CURL_ERROR_SIZE] = "", *url = xasprintf("%s%s", r->base, path);
    struct curl_slist *h;
    CURLcode cc;
    int rc = token_load(r, e);

    out->status = 0;
    buf_init(&out->body, REPLY_MAX);
    if (rc != 0) {
        free(url);
        return rc;
    }
    h = headers(r, body != NULL);
    prepare(r, method, url, body, h, out, errbuf);
    cc = curl_easy_perform(r->curl);
    curl_slist_free_all(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &out->status);
    else if (cc == CURLE_WRITE_ERROR)
        rc = err_set(e, ST_ETOOBIG, "cluster %s: %s %s: reply larger than %zu bytes",
                     r->cl->name, method, path, REPLY_MAX);
    else
        rc = err_set(e, ST_EIO, "cluster %s: %s %s: %s", r->cl->name, method, r->cl->url,
                     errbuf[0] ? errbuf : curl_easy_strerror(cc));
    free(url);
    return rc;
}

/* The first entry of a reply's `errors` list as a message; 0 when none. */
static int slurm_errors(json_t *root, int *number, char *msg, size_t n)
{
    json_t *errs = json_object_get(root, "errors"), *first, *v;
    const char *err = NULL, *desc = NULL;

    *number = 0;
    if (!json_is_array(errs) || json_array_size(errs) == 0)
        return 0;
    first = json_array_get(errs, 0);
    if ((v = json_object_get(first, "error_number")) != NULL && json_is_integer(v))
        *number = (int)json_integer_value(v);
    else if ((v = json_object_get(first, "error_code")) != NULL && json_is_integer(v))
        *number = (int)json_integer_value(v);
    err = json_string_value(json_object_get(first, "error"));
    desc = json_string_value(json_object_get(first, "description"));
    snprintf(msg, n, "%s%s%s", err ? err : "error", desc && *desc ? ": " : "",
             desc ? desc : "");
    return -1;
}

/* The reply as JSON; errors for a status or body that is not one.  *number
 * (may be NULL) gets Slurm's error number when the reply lists an error. */
static int reply_json(const struct srest *r, const char *what, struct reply *rep,
                      json_t **root, int *number, struct err *e)
{
    json_error_t je;
    char msg[300];
    int num = 0;

    *root = NULL;
    if (rep->status == 401 || rep->status == 403)
        return err_set(e, ST_EINVAL,
                       "cluster %s: %s: authentication refused (HTTP %ld); check the "
                       "token and user",
                       r->cl->name, what, rep->status);
    *root = json_loadb(buf_cstr(&rep->body), rep->body.len, 0, &je);
    if (*root == NULL || !json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return err_set(e, ST_EIO, "cluster %s: %s: HTTP %ld and no JSON answer",
                       r->cl->name, what, rep->status);
    }
    if (slurm_errors(*root, &num, msg, sizeof(msg)) != 0 || rep->status != 200) {
        if (number)
            *number = num;
        json_decref(*root);
        *root = NULL;
        return err_set(e, ST_EIO, "cluster %s: %s: %s", r->cl->name, what,
                       num || msg[0] ? msg : "HTTP error");
    }
    return 0;
}

/* ---- the operations ------------------------------------------------------------ */

int srest_init(struct srest *r, const struct slurm_cluster *cl, double timeout,
               struct err *e)
{
    memset(r, 0, sizeof(*r));
    r->cl = cl;
    if (lazycurl_load(e) != 0)
        return e->code;
    r->curl = curl_easy_init();
    if (r->curl == NULL)
        return err_set(e, ST_EINTERNAL, "cannot initialise libcurl");
    r->base = xasprintf("%s/slurm/%s", cl->url, SLURM_API);
    r->timeout_ms = (long)(timeout * 1000);
    return 0;
}

void srest_free(struct srest *r)
{
    if (r->curl)
        curl_easy_cleanup(r->curl);
    token_set(r, NULL);
    free(r->base);
    memset(r, 0, sizeof(*r));
}

int srest_submit(struct srest *r, const char *body, int64_t *job_id, struct err *e)
{
    struct reply rep;
    int rc = request(r, "POST", "/job/submit", body, &rep, e);

    if (rc == 0 && (rep.status == 401 || rep.status == 403))
        rc = err_set(e, ST_EINVAL,
                     "authentication refused (HTTP %ld); check the token "
                     "and user",
                     rep.status);
    else if (rc == 0)
        rc = slurm_parse_submit(buf_cstr(&rep.body), rep.body.len, job_id, e);
    if (rc != 0 && rep.status != 0)
        err_prefix(e, "cluster %s: submit", r->cl->name);
    buf_free(&rep.body);
    return rc;
}

int srest_jobs(struct srest *r, const char *prefix, double since, struct sjob_list *out,
               int *unchanged, struct err *e)
{
    char path[64];
    struct reply rep;
    int rc;

    *unchanged = 0;
    if (since > 0)
        snprintf(path, sizeof(path), "/jobs?update_time=%lld", (long long)since);
    else
        snprintf(path, sizeof(path), "/jobs");
    rc = request(r, "GET", path, NULL, &rep, e);
    if (rc == 0 && rep.status == 304) {
        *unchanged = 1;
    } else if (rc == 0 && rep.status == 200) {
        rc = slurm_parse_jobs(buf_cstr(&rep.body), rep.body.len, prefix, out, e);
        if (rc != 0)
            err_prefix(e, "cluster %s: jobs", r->cl->name);
    } else if (rc == 0) {
        json_t *root;

        rc = reply_json(r, "jobs", &rep, &root, NULL, e); /* fails: status != 200 */
        json_decref(root);
    }
    buf_free(&rep.body);
    return rc;
}

int srest_job(struct srest *r, int64_t job_id, const char *prefix, struct sjob *out,
              struct err *e)
{
    char path[64];
    struct sjob_list l = {0};
    struct reply rep;
    json_t *root = NULL;
    int rc, num = 0;

    snprintf(path, sizeof(path), "/job/%" PRId64, job_id);
    rc = request(r, "GET", path, NULL, &rep, e);
    if (rc == 0)
        rc = reply_json(r, path + 1, &rep, &root, &num, e);
    if (rc != 0 && num == 2017) /* ESLURM_INVALID_JOB_ID: purged or never seen */
        rc = err_set(e, ST_ENOTFOUND, "cluster %s: no job %" PRId64, r->cl->name, job_id);
    json_decref(root);
    if (rc == 0)
        rc = slurm_parse_jobs(buf_cstr(&rep.body), rep.body.len, prefix, &l, e);
    if (rc == 0 && l.n == 0)
        rc = err_set(e, ST_ENOTFOUND, "cluster %s: job %" PRId64 " is not ours",
                     r->cl->name, job_id);
    if (rc == 0)
        *out = l.v[0];
    sjob_list_free(&l);
    buf_free(&rep.body);
    return rc;
}

int srest_cancel(struct srest *r, int64_t job_id, struct err *e)
{
    char path[64];
    struct reply rep;
    json_t *root = NULL;
    int rc, num = 0;

    snprintf(path, sizeof(path), "/job/%" PRId64, job_id);
    rc = request(r, "DELETE", path, NULL, &rep, e);
    if (rc == 0)
        rc = reply_json(r, "cancel", &rep, &root, &num, e);
    /* Gone, or already over: what a cancel wants. */
    if (rc != 0 && (num == 2017 || num == 2021 /* ESLURM_ALREADY_DONE */))
        rc = 0;
    json_decref(root);
    buf_free(&rep.body);
    return rc;
}

int srest_idle(struct srest *r, long *idle, struct err *e)
{
    struct reply rep;
    json_t *root = NULL;
    int rc = request(r, "GET", "/nodes", NULL, &rep, e);

    if (rc == 0)
        rc = reply_json(r, "nodes", &rep, &root, NULL, e);
    json_decref(root);
    if (rc == 0)
        rc = slurm_parse_idle(buf_cstr(&rep.body), rep.body.len, r->cl->partition, idle,
                              e);
    if (rc != 0 && e->code == ST_EPARSE)
        err_prefix(e, "cluster %s: nodes", r->cl->name);
    buf_free(&rep.body);
    return rc;
}

/* ---- the parsers --------------------------------------------------------------- */

enum sjstate slurm_state_parse(const char *s)
{
    static const struct {
        const char *name;
        enum sjstate st;
    } map[] = {
        {"PENDING", SJ_PENDING},        {"RUNNING", SJ_RUNNING},
        {"CONFIGURING", SJ_RUNNING},    {"COMPLETING", SJ_RUNNING},
        {"RESIZING", SJ_RUNNING},       {"SUSPENDED", SJ_RUNNING},
        {"STOPPED", SJ_RUNNING},        {"SIGNALING", SJ_RUNNING},
        {"STAGE_OUT", SJ_RUNNING},      {"COMPLETED", SJ_COMPLETED},
        {"FAILED", SJ_FAILED},          {"OUT_OF_MEMORY", SJ_FAILED},
        {"DEADLINE", SJ_FAILED},        {"TIMEOUT", SJ_TIMEOUT},
        {"CANCELLED", SJ_CANCELLED},    {"NODE_FAIL", SJ_NODE_FAIL},
        {"BOOT_FAIL", SJ_NODE_FAIL},    {"PREEMPTED", SJ_PREEMPTED},
        {"REQUEUED", SJ_PREEMPTED},     {"REQUEUE_FED", SJ_PREEMPTED},
        {"REQUEUE_HOLD", SJ_PREEMPTED}, {"SPECIAL_EXIT", SJ_PREEMPTED},
        {"REVOKED", SJ_PREEMPTED},      {"RESV_DEL_HOLD", SJ_PENDING},
    };
    size_t i;

    for (i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].st;
    return SJ_UNKNOWN;
}

/* The attempt id in a job name "<prefix><digits>", or -1. */
static int64_t name_attempt(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    int64_t id = 0;
    const char *p;

    if (name == NULL || strncmp(name, prefix, n) != 0 || name[n] == '\0')
        return -1;
    for (p = name + n; *p; p++) {
        if (*p < '0' || *p > '9' || id > (INT64_MAX - 9) / 10)
            return -1;
        id = id * 10 + (*p - '0');
    }
    return id;
}

static double num_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_number(v) ? json_number_value(v) : 0;
}

static void str_field(json_t *o, const char *k, char *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));

    snprintf(out, n, "%s", s ? s : "");
}

/* One job of a list into j; 0, or -1 when it is not one of ours. */
static int parse_job(json_t *o, const char *prefix, struct sjob *j)
{
    json_t *v;

    memset(j, 0, sizeof(*j));
    j->attempt_id = name_attempt(json_string_value(json_object_get(o, "name")), prefix);
    v = json_object_get(o, "job_id");
    if (j->attempt_id < 0 || !json_is_integer(v) || json_integer_value(v) <= 0)
        return -1;
    j->job_id = json_integer_value(v);
    str_field(o, "job_state", j->state_name, sizeof(j->state_name));
    j->state = slurm_state_parse(j->state_name);
    str_field(o, "state_reason", j->reason, sizeof(j->reason));
    v = json_object_get(o, "exit_code");
    j->status = json_is_integer(v) && json_integer_value(v) >= 0 &&
                        json_integer_value(v) <= 0xffff
                    ? (int)json_integer_value(v)
                    : -1;
    j->start = num_field(o, "start_time");
    j->end = num_field(o, "end_time");
    str_field(o, "nodes", j->nodes, sizeof(j->nodes));
    return 0;
}

static int by_attempt(const void *a, const void *b)
{
    const struct sjob *x = a, *y = b;

    if (x->attempt_id != y->attempt_id)
        return x->attempt_id < y->attempt_id ? -1 : 1;
    return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

int slurm_parse_jobs(const char *json, size_t len, const char *prefix,
                     struct sjob_list *out, struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *jobs;
    struct sjob_list l = {0};
    size_t i;

    jobs = json_object_get(root, "jobs");
    if (!json_is_array(jobs)) {
        json_decref(root);
        return err_set(e, ST_EPARSE, "the reply holds no job list");
    }
    for (i = 0; i < json_array_size(jobs); i++) {
        l.v = xgrow(l.v, &l.cap, l.n + 1, sizeof(*l.v));
        if (parse_job(json_array_get(jobs, i), prefix, &l.v[l.n]) == 0)
            l.n++;
    }
    json_decref(root);
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), by_attempt);
    sjob_list_free(out);
    *out = l;
    return 0;
}

/* Is a node with these state flags usable now?  Flags not known to be
 * harmless count against it: a node that may not take a job is no capacity. */
static int flags_ok(json_t *flags)
{
    static const char *const fine[] = {"CLOUD", "POWERED_DOWN", "DYNAMIC_NORM", NULL};
    size_t i, k;

    for (i = 0; i < json_array_size(flags); i++) {
        const char *f = json_string_value(json_array_get(flags, i));

        for (k = 0; f && fine[k] && strcasecmp(f, fine[k]) != 0; k++)
            ;
        if (f == NULL || fine[k] == NULL)
            return 0;
    }
    return 1;
}

static int in_partition(json_t *node, const char *partition)
{
    json_t *parts = json_object_get(node, "partitions");
    size_t i;

    if (partition == NULL)
        return 1;
    for (i = 0; i < json_array_size(parts); i++) {
        const char *p = json_string_value(json_array_get(parts, i));

        if (p && strcmp(p, partition) == 0)
            return 1;
    }
    return 0;
}

int slurm_parse_idle(const char *json, size_t len, const char *partition, long *idle,
                     struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *nodes;
    size_t i;

    nodes = json_object_get(root, "nodes");
    if (!json_is_array(nodes)) {
        json_decref(root);
        return err_set(e, ST_EPARSE, "the reply holds no node list");
    }
    *idle = 0;
    for (i = 0; i < json_array_size(nodes); i++) {
        json_t *nd = json_array_get(nodes, i);
        const char *st = json_string_value(json_object_get(nd, "state"));

        if (st && strcasecmp(st, "idle") == 0 && in_partition(nd, partition) &&
            flags_ok(json_object_get(nd, "state_flags")))
            (*idle)++;
    }
    json_decref(root);
    return 0;
}

int slurm_parse_submit(const char *json, size_t len, int64_t *job_id, struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *v;
    char msg[300];
    int num, rc = 0;

    if (!json_is_object(root))
        rc = err_set(e, ST_EIO, "no JSON answer");
    else if (slurm_errors(root, &num, msg, sizeof(msg)) != 0)
        rc = err_set(e, ST_ECAPACITY, "%s", msg); /* Slurm said no */
    else if (!json_is_integer(v = json_object_get(root, "job_id")) ||
             json_integer_value(v) <= 0)
        rc = err_set(e, ST_EIO, "the answer holds no job id");
    else
        *job_id = json_integer_value(v);
    json_decref(root);
    return rc;
}

const struct sjob *sjob_find(const struct sjob_list *l, int64_t attempt_id)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) { /* the first entry with this attempt id */
        size_t mid = lo + (hi - lo) / 2;

        if (l->v[mid].attempt_id < attempt_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo].attempt_id == attempt_id ? &l->v[lo] : NULL;
}

void sjob_list_free(struct sjob_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}
