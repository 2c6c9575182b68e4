/*
 * test_api.c - the API's route table and handlers, called through
 * api_handle() on a server opened without its loop (a "mem:" store, the
 * fixture catalog, no drivers). One table of calls, run in order against
 * one server (later rows see what earlier ones did): method, path, query,
 * body and the caller's role, then the status and one field of the JSON
 * reply. Around it, checks of what the replies did to the store (a cancel
 * filed, a token that verifies and then does not), secrets (set, listed,
 * deleted, never in a reply; a spec naming a missing one refused), and that
 * the plan text is byte for byte what plan_print prints for the same plan.
 */
#define _GNU_SOURCE /* memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "plan/plan.h"
#include "policy/org.h"
#include "server/api.h"
#include "server/api_int.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/secret.h"
#include "server/server.h"
#include "server/server_conf.h"
#include "serve/manager.h"
#include "spec/spec.h"
#include "store/store.h"
#include "testutil.h"
#include "util/yamlx.h"

#define MINI TEST_DATA "/catalog-mini"
#define MAX_BODY 8192

static const char spec_ok[] =
    "name: gang\nresources:\n  accelerators: H100:8\nnum_nodes: 2\n"
    "stratus:\n  kind: batch\n  duration: 10h\n";

struct fx {
    char *home;
    struct srv s;
};

/* The server's fields that the handlers use, as srv_open fills them but
 * without drivers or a controller (srv_open wants at least one driver). */
static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct srv_conf *c = xcalloc(1, sizeof(*c));
    struct srv *s = &f->s;
    struct err e;

    f->home = tu_mkdtemp();
    c->store_path = xstrdup("mem:");
    c->catalog_dir = xstrdup(MINI);
    c->max_body = MAX_BODY;
    c->displace = 1;
    s->home = xstrdup(f->home);
    s->conf = c;
    s->started_at = 1;
    s->m = metrics_new();
    memset(s->secret, 0x5a, sizeof(s->secret));
    err_clear(&e);
    if (store_open(&s->st, c->store_path, &e) != 0 ||
        catalog_load(&s->cat, MINI, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    srv_close(&f->s);
    tu_rmdir(f->home);
    free(f->home);
    free(f);
    return 0;
}

/* One call as `role`; the reply's JSON (NULL if not JSON). */
static json_t *call(struct srv *s, enum auth_role role, const char *method,
                    const char *path, const char *query, const char *body,
                    struct api_resp *rp)
{
    struct auth_principal who = {role, role == AUTH_ADMIN ? 0 : 7, "", ""};
    struct api_req rq = {method, path, query, body, body ? strlen(body) : 0, &who, 0, NULL, 0, NULL};

    snprintf(who.name, sizeof(who.name), "%s", role == AUTH_ADMIN ? "owner" : "ci");
    api_handle(s, &rq, rp);
    return rp->body ? json_loadb(rp->body, rp->body_len, 0, NULL) : NULL;
}

/* The value at a dotted path ("error.code", "jobs.0.state") as text:
 * strings as they are, numbers and literals as JSON writes them. */
static char *field(const json_t *o, const char *path)
{
    char *p = xstrdup(path), *save = NULL, *tok;
    const json_t *v = o;

    for (tok = strtok_r(p, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
                             : json_object_get(v, tok);
    free(p);
    if (v == NULL)
        return xstrdup("(missing)");
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

struct row {
    enum auth_role role;
    const char *method, *path, *query, *body;
    int status;
    const char *field, *want; /* want: exact, or "~text" for "contains" */
};

/* A service of one replica, as `serve up` sends it (extra: more members). */
#define SVC_BODY(extra)                                                                  \
    "{\"spec\": \"name: chat\\nresources:\\n  accelerators: H100:8\\nrun: echo\\n"       \
    "service:\\n  readiness_probe: /health\\n  replicas: 1\\n\"" extra "}"

#define SPEC_BODY(extra)                                                                 \
    "{\"spec\": \"name: gang\\nresources:\\n  accelerators: H100:8\\n"                   \
    "num_nodes: 2\\nstratus:\\n  kind: batch\\n  duration: 10h\\n\"" extra "}"

static const struct row rows[] = {
    /* routing and roles */
    {AUTH_NONE, "GET", "/healthz", NULL, NULL, 200, "ok", "true"},
    {AUTH_NONE, "GET", "/healthz", NULL, NULL, 200, "drivers", "[]"},
    {AUTH_NONE, "GET", "/v1/jobs", NULL, NULL, 401, "error.code", "EINVAL"},
    {AUTH_NONE, "GET", "/v1/jobs", NULL, NULL, 401, "error.message", "~Bearer"},
    {AUTH_VIEWER, "GET", "/v1/jobs", NULL, NULL, 200, "jobs", "[]"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "limit=5", NULL, 200, "next", "null"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "limit=5", NULL, 200, "jobs", "[]"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "limit=0", NULL, 400, "error.message",
     "?limit= takes a whole number from 1 to 10000, not '0'"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "limit=10001", NULL, 400, "error.code", "EINVAL"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "limit=2&after=-1", NULL, 400, "error.message",
     "~?after= takes a whole number from 0"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "order=sideways", NULL, 400, "error.message",
     "?order= is asc (oldest first) or desc (newest first), not 'sideways'"},
    {AUTH_VIEWER, "POST", "/v1/jobs", NULL, SPEC_BODY(""), 403, "error.message",
     "~needs the member role"},
    {AUTH_MEMBER, "PUT", "/v1/policy", NULL, "{\"policy\": null}", 403, "error.code",
     "EINVAL"},
    {AUTH_ADMIN, "GET", "/v1/nope", NULL, NULL, 404, "error.code", "ENOTFOUND"},
    {AUTH_ADMIN, "GET", "/v1/jobs/", NULL, NULL, 404, "error.code", "ENOTFOUND"},
    {AUTH_ADMIN, "GET", "/v1/jobs/1/cancel", NULL, NULL, 405, "error.message",
     "~not allowed"},
    {AUTH_ADMIN, "PATCH", "/v1/jobs", NULL, NULL, 405, "error.code", "EUSAGE"},
    {AUTH_ADMIN, "GET", "/v1/jobs/abc", NULL, NULL, 400, "error.message",
     "~not a job id"},
    {AUTH_ADMIN, "GET", "/v1/jobs/99", NULL, NULL, 404, "error.message", "no job 99"},
    /* submit */
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, "{\"spec\": ", 400, "error.code", "EPARSE"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, "[1]", 400, "error.message", "~JSON object"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, "{}", 400, "error.message",
     "~needs \"spec\""},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, "{\"spec\": 3}", 400, "error.message",
     "~string"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL,
     "{\"spec\": \"name: x\\nresources:\\n  acelerators: H100:8\\n\", \"file\": "
     "\"/w/t.yaml\"}",
     400, "error.message", "~/w/t.yaml:3:3: unknown key 'acelerators'"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(", \"policy\": \"rules: []\\n\""),
     403, "error.message", "~only an admin"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL,
     "{\"spec\": \"resources:\\n  accelerators: H100:8\\nworkdir: ./nowhere\\n\", "
     "\"file\": \"/nonexistent-dir/w.yaml\"}",
     400, "error.message",
     "~/nonexistent-dir/w.yaml:3: workdir /nonexistent-dir/./nowhere"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(", \"file\": \"/w/gang.yaml\""),
     201, "id", "1"},
    {AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(""), 201, "job.state", "PENDING"},
    {AUTH_ADMIN, "POST", "/v1/jobs", NULL, SPEC_BODY(", \"policy\": \"rules: [\""), 400,
     "error.message", "~policy:"},
    /* read */
    {AUTH_VIEWER, "GET", "/v1/jobs", NULL, NULL, 200, "jobs.1.id", "2"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "active=1", NULL, 200, "jobs.0.placement", "null"},
    {AUTH_VIEWER, "GET", "/v1/jobs", "active=2", NULL, 400, "error.message", "~?active="},
    {AUTH_VIEWER, "GET", "/v1/jobs/1", NULL, NULL, 200, "attempts_detail", "[]"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1", NULL, NULL, 200, "spec_path", "/w/gang.yaml"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1/events", NULL, NULL, 200, "events.0.type",
     "submitted"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1/events", NULL, NULL, 200, "state", "PENDING"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1/events", "after=1", NULL, 200, "events", "[]"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1/events", "after=x", NULL, 400, "error.code",
     "EINVAL"},
    {AUTH_VIEWER, "GET", "/v1/jobs/1/logs", NULL, NULL, 404, "error.message",
     "job 1 has not been launched yet"},
    {AUTH_VIEWER, "GET", "/v1/cost", "by=planet", NULL, 400, "error.message",
     "~cloud, team or job, not 'planet'"},
    {AUTH_VIEWER, "GET", "/v1/cost", "by=red+pl%61net", NULL, 400, "error.message",
     "~cloud, team or job, not 'red planet'"},
    {AUTH_VIEWER, "GET", "/v1/cost", "by=job", NULL, 200, "total.compute_usd", "0.0"},
    {AUTH_VIEWER, "GET", "/v1/cost", NULL, NULL, 200, "by", "cloud"},
    /* cancel: requested while it runs, idempotent */
    {AUTH_VIEWER, "POST", "/v1/jobs/2/cancel", NULL, NULL, 403, "error.code", "EINVAL"},
    {AUTH_MEMBER, "POST", "/v1/jobs/2/cancel", NULL, NULL, 202, "cancel", "requested"},
    {AUTH_MEMBER, "POST", "/v1/jobs/2/cancel", NULL, NULL, 202, "cancel", "requested"},
    {AUTH_MEMBER, "POST", "/v1/jobs/9/cancel", NULL, NULL, 404, "error.code",
     "ENOTFOUND"},
    /* plan and offers on the fixture catalog */
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"top\": 3"), 200,
     "plan.candidates.0.expected_cost", "0.0"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"top\": 3"), 200, "text",
     "~\n9 feasible of 13 candidates considered (--top 0 shows all)\n"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"top\": -1"), 400,
     "error.message", "~\"top\""},
    /* a stage's name, as its group gives it: the plan is for it (the
     * policy's rules match it); one line of text */
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"stage_name\": \"flow-1\""),
     200, "plan.workload", "flow-1"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"stage_name\": \"\""), 200,
     "plan.workload", "gang"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"stage_name\": 5"), 400,
     "error.message", "~'stage_name' in the body must be a string"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(", \"stage_name\": \"a\\nb\""), 400,
     "error.message", "~one line of text"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL,
     SPEC_BODY(", \"policy\": \"version: 1\\nrules:\\n  - name: oci-only\\n    match: "
               "{kind: batch}\\n    allow: [oci]\\n\", \"explain\": true"),
     200, "plan.candidates.0.cloud", "oci"},
    {AUTH_VIEWER, "POST", "/v1/plan", NULL,
     "{\"spec\": \"resources:\\n  accelerators: H100:3\\n\", \"explain\": true}", 422,
     "text", "~excluded ("},
    {AUTH_VIEWER, "GET", "/v1/offers", "accelerator=h100%3A8", NULL, 200, "total", "5"},
    {AUTH_VIEWER, "GET", "/v1/offers", "accelerator=H100&spot=1&limit=2", NULL, 200,
     "offers.1.spot_price_hour", "33.0"},
    {AUTH_VIEWER, "GET", "/v1/offers", "accelerator=H100&spot=1&limit=2", NULL, 200,
     "text", "~... 1 more (--limit 0 shows all)\n3 offers\n"},
    {AUTH_VIEWER, "GET", "/v1/offers", "accelerator=H10", NULL, 404, "error.message",
     "no offer has accelerator 'H10' (did you mean 'H100'?)"},
    {AUTH_VIEWER, "GET", "/v1/offers", "accelerator=H100:x", NULL, 400, "error.message",
     "~'x' is not a count"},
    /* policy */
    {AUTH_VIEWER, "GET", "/v1/policy", NULL, NULL, 200, "policy", "null"},
    {AUTH_ADMIN, "PUT", "/v1/policy", NULL, "{\"policy\": \"rules:\\n  - nme: x\\n\"}",
     400, "error.message", "~policy:2:"},
    {AUTH_ADMIN, "PUT", "/v1/policy", NULL, "{}", 400, "error.message",
     "~needs \"policy\""},
    {AUTH_ADMIN, "PUT", "/v1/policy", NULL,
     "{\"policy\": \"version: 1\\nrules:\\n  - name: gcp-only\\n    match: {kind: "
     "batch}\\n"
     "    allow: [gcp]\\n\"}",
     200, "policy", "~gcp-only"},
    {AUTH_VIEWER, "GET", "/v1/policy", NULL, NULL, 200, "policy", "~allow: [gcp]"},
    /* the server's policy now governs plans (and is kept with new jobs) */
    {AUTH_VIEWER, "POST", "/v1/plan", NULL, SPEC_BODY(""), 200, "plan.policy_rule",
     "gcp-only"},
    /* fault injection: the checks of `stratus local` */
    {AUTH_MEMBER, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"stockout\",\"arg\":\"gcp/us-central1 60\"}", 403, "error.code",
     "EINVAL"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"preempt-job\",\"arg\":\"77\"}", 404, "error.message", "~no job 77"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"stockout\",\"arg\":\"mars/x 60\"}", 400, "error.message",
     "~no offer of the catalog is at 'mars/x'"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"stockout\",\"arg\":\"gcp/us-centrl1 60\"}", 400, "error.message",
     "~no offer of the catalog is at 'gcp/us-centrl1'; did you mean 'gcp/us-central1'?"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"stockout\",\"arg\":\"gcp/us-central1\"}", 400, "error.message",
     "~SECONDS"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"meteor\",\"arg\":\"gcp/us-central1\"}", 400, "error.message",
     "~not 'meteor'"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"stockout\",\"arg\":\"gcp/us-central1 600\"}", 202, "requested", "true"},
    {AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
     "{\"kind\":\"preempt-job\",\"arg\":\"1\"}", 202, "requested", "true"},
    /* tokens (the one made here is checked below) */
    {AUTH_MEMBER, "GET", "/v1/tokens", NULL, NULL, 403, "error.code", "EINVAL"},
    {AUTH_ADMIN, "POST", "/v1/tokens", NULL, "{\"name\":\"ci\",\"role\":\"boss\"}", 400,
     "error.message", "~not 'boss'"},
    {AUTH_ADMIN, "POST", "/v1/tokens", NULL, "{\"role\":\"viewer\"}", 400,
     "error.message", "~needs \"name\""},
    {AUTH_ADMIN, "POST", "/v1/tokens", NULL, "{\"name\":\"ci\",\"role\":\"viewer\"}", 201,
     "role", "viewer"},
    {AUTH_ADMIN, "POST", "/v1/tokens", NULL, "{\"name\":\"ci\"}", 409, "error.code",
     "EEXISTS"},
    {AUTH_ADMIN, "GET", "/v1/tokens", NULL, NULL, 200, "tokens.0.name", "ci"},
    {AUTH_ADMIN, "GET", "/v1/tokens", NULL, NULL, 200, "tokens.0.revoked_at", "null"},
    {AUTH_ADMIN, "GET", "/v1/tokens", NULL, NULL, 200, "tokens.0.hash", "(missing)"},
    {AUTH_ADMIN, "DELETE", "/v1/tokens/nobody", NULL, NULL, 404, "error.code",
     "ENOTFOUND"},
    /* metrics answer in Prometheus text, not JSON */
    {AUTH_NONE, "GET", "/metrics", NULL, NULL, 401, "error.code", "EINVAL"},
    /* a service's API keys: roles, a service that is not there */
    {AUTH_NONE, "GET", "/v1/services/chat/keys", NULL, NULL, 401, "error.message",
     "~Bearer"},
    {AUTH_VIEWER, "GET", "/v1/services/chat/keys", NULL, NULL, 403, "error.message",
     "~needs the member role"},
    {AUTH_VIEWER, "POST", "/v1/services/chat/keys", NULL, NULL, 403, "error.code",
     "EINVAL"},
    {AUTH_VIEWER, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 403, "error.code",
     "EINVAL"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 404, "error.message",
     "~no service 'chat'"},
    {AUTH_MEMBER, "POST", "/v1/services/chat/keys", NULL, NULL, 404, "error.code",
     "ENOTFOUND"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 404, "error.code",
     "ENOTFOUND"},
    {AUTH_MEMBER, "PUT", "/v1/services/chat/keys", NULL, NULL, 405, "error.code",
     "EUSAGE"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys/1", NULL, NULL, 405, "error.code",
     "EUSAGE"},
    /* serve up makes key 1; one more is 2; listing shows neither key nor digest */
    {AUTH_MEMBER, "POST", "/v1/services", NULL, SVC_BODY(""), 201, "key", "~sk_"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.0.id", "1"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.0.prefix",
     "~sk_"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.0.sha256",
     "(missing)"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "open", "false"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", "all=2", NULL, 400, "error.message",
     "~?all="},
    {AUTH_MEMBER, "POST", "/v1/services/chat/keys", NULL, NULL, 201, "id", "2"},
    {AUTH_MEMBER, "POST", "/v1/services/chat/keys", NULL, NULL, 201, "key", "~sk_"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.2.id", "3"},
    {AUTH_MEMBER, "GET", "/v1/services/chat", NULL, NULL, 200, "keys", "3"},
    /* revoke: by id; not twice; bad ids */
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/x", NULL, NULL, 400, "error.message",
     "~'x' is not a key id"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/0", NULL, NULL, 400, "error.code",
     "EINVAL"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/9", NULL, NULL, 404, "error.message",
     "~service 'chat' has no live key 9"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/1", "force=2", NULL, 400,
     "error.message", "~?force="},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 200, "revoked", "1"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 404, "error.code",
     "ENOTFOUND"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/3", NULL, NULL, 200, "keys", "1"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.0.id", "2"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.1",
     "(missing)"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", "all=1", NULL, 200,
     "keys.0.revoked_at", "~."},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", "all=1", NULL, 200,
     "keys.1.revoked_at", "null"},
    /* the last key: only with force, and the endpoint is then open */
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/2", NULL, NULL, 409, "error.message",
     "~the last key of service 'chat'"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/2", "force=1", NULL, 200, "open",
     "true"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "open", "true"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys", "[]"},
    {AUTH_VIEWER, "GET", "/v1/services/chat/endpoints", NULL, NULL, 200, "keys", "[]"},
    /* an open service gets a key again; ids are never given twice */
    {AUTH_MEMBER, "POST", "/v1/services/chat/keys", NULL, NULL, 201, "id", "4"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "open", "false"},
    /* a service on its way down keeps its keys as they are */
    {AUTH_MEMBER, "DELETE", "/v1/services/chat", NULL, NULL, 202, "state",
     "SHUTTING_DOWN"},
    {AUTH_MEMBER, "POST", "/v1/services/chat/keys", NULL, NULL, 409, "error.message",
     "~SHUTTING_DOWN"},
    {AUTH_MEMBER, "DELETE", "/v1/services/chat/keys/4", "force=1", NULL, 409,
     "error.code", "ESTATE"},
    {AUTH_MEMBER, "GET", "/v1/services/chat/keys", NULL, NULL, 200, "keys.0.id", "4"},
};

static void check_row(struct srv *s, const struct row *r, size_t i)
{
    struct api_resp rp;
    json_t *o = call(s, r->role, r->method, r->path, r->query, r->body, &rp);
    char *got = o ? field(o, r->field) : xstrdup("(not JSON)");
    int ok =
        rp.status == r->status && (r->want[0] == '~' ? strstr(got, r->want + 1) != NULL
                                                     : strcmp(got, r->want) == 0);

    if (!ok)
        fail_msg(
            "row %zu: %s %s%s%s as %s: status %d (want %d), %s = '%s' (want '%s')\n%.*s",
            i, r->method, r->path, r->query ? "?" : "", r->query ? r->query : "",
            auth_role_name(r->role), rp.status, r->status, r->field, got, r->want,
            (int)rp.body_len, rp.body ? rp.body : "");
    assert_non_null(rp.route);
    free(got);
    json_decref(o);
    api_resp_clear(&rp);
}

static void test_table(void **state)
{
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        check_row(&f->s, &rows[i], i);
}

/* What the calls did to the store: the cancels and injections filed, the
 * server's policy stored with the job submitted under it. */
static void test_effects(void **state)
{
    struct fx *f = *state;
    struct store_request *rq = NULL;
    struct store_job j;
    struct api_resp rp;
    size_t n = 0;
    struct err e;
    json_t *o;

    test_table(state);
    assert_int_equal(store_request_take(f->s.st, &rq, &n, &e), 0);
    assert_int_equal(n, 4);
    assert_string_equal(rq[0].kind, "cancel");
    assert_string_equal(rq[0].arg, "2");
    assert_string_equal(rq[2].kind, "stockout");
    assert_string_equal(rq[2].arg, "gcp/us-central1 600");
    assert_string_equal(rq[3].kind, "preempt-job");
    store_requests_free(rq, n);
    /* jobs 1 and 2 were submitted with no policy; one now gets the server's */
    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(""), &rp);
    assert_int_equal(rp.status, 201);
    assert_int_equal(
        store_job_get(f->s.st, json_integer_value(json_object_get(o, "id")), &j, &e), 0);
    assert_non_null(j.policy_text);
    assert_non_null(strstr(j.policy_text, "gcp-only"));
    store_job_clear(&j);
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(store_job_get(f->s.st, 1, &j, &e), 0);
    assert_null(j.policy_text);
    store_job_clear(&j);
}

/* A job that has ended: cancel is a no-op that files nothing, preempting
 * it is refused (409) and files nothing, its events say its end state. */
static void test_ended_job(void **state)
{
    struct fx *f = *state;
    struct store_request *rq = NULL;
    struct store_job j;
    struct api_resp rp;
    size_t n = 7;
    struct err e;
    json_t *o;

    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(""), &rp);
    assert_int_equal(rp.status, 201);
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(store_job_get(f->s.st, 1, &j, &e), 0);
    j.state = JOB_SUCCEEDED;
    assert_int_equal(store_job_update(f->s.st, &j, &e), 0);
    store_job_clear(&j);
    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/jobs/1/cancel", NULL, NULL, &rp);
    assert_int_equal(rp.status, 202);
    assert_string_equal(json_string_value(json_object_get(o, "cancel")), "already-ended");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "SUCCEEDED");
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/local/inject", NULL,
             "{\"kind\":\"preempt-job\",\"arg\":\"1\"}", &rp);
    assert_int_equal(rp.status, 409);
    assert_non_null(strstr(rp.body, "already ended (SUCCEEDED)"));
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/1/events", NULL, NULL, &rp);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "SUCCEEDED");
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(store_request_take(f->s.st, &rq, &n, &e), 0);
    assert_int_equal(n, 0);
    store_requests_free(rq, n);
}

/* Pages as a team's member: only its jobs (and those of no team), never an
 * empty page or a "next" that names another team's job (helper-104). */
static void test_jobs_pages_team(void **state)
{
    static const char doc[] =
        "{\"teams\":[{\"name\":\"a\",\"members\":{\"alice\":\"member\"}},"
        "{\"name\":\"b\"}]}";
    struct fx *f = *state;
    struct auth_principal who = {AUTH_MEMBER, 9, "alice-tok", "alice"};
    struct store_job j;
    struct err e;
    long long after = 0;
    size_t i, pages = 0, seen = 0;

    err_clear(&e);
    assert_int_equal(org_parse(doc, strlen(doc), "teams", &f->s.org, &e), 0);
    for (i = 0; i < 12; i++) { /* ids 1..12: a b b a b b ...: 4 of team a */
        memset(&j, 0, sizeof(j));
        j.name = "t";
        j.team = i % 3 == 0 ? "a" : "b";
        j.state = i % 2 ? JOB_SUCCEEDED : JOB_PENDING;
        j.submitted_at = 1;
        assert_int_equal(store_job_insert(f->s.st, &j, &e), 0);
    }
    for (i = 0; i < 2; i++) { /* asc, then desc */
        after = 0;
        seen = 0;
        pages = 0;
        do {
            struct api_req rq = {"GET", "/v1/jobs", NULL, NULL, 0,
                                 &who,  0,          NULL, 0,    NULL};
            struct api_resp rp;
            char q[64];
            json_t *o, *jobs, *next;
            size_t k;

            snprintf(q, sizeof(q), "limit=1&after=%lld%s", after, i ? "&order=desc" : "");
            rq.query = q;
            api_handle(&f->s, &rq, &rp);
            assert_int_equal(rp.status, 200);
            o = json_loadb(rp.body, rp.body_len, 0, NULL);
            api_resp_clear(&rp);
            jobs = json_object_get(o, "jobs");
            next = json_object_get(o, "next");
            assert_int_equal(json_array_size(jobs), 1); /* never empty: 4 to see */
            for (k = 0; k < json_array_size(jobs); k++)
                assert_string_equal(
                    json_string_value(json_object_get(json_array_get(jobs, k), "team")),
                    "a");
            if (json_is_integer(next)) /* the page's own last job */
                assert_int_equal(
                    json_integer_value(next),
                    json_integer_value(json_object_get(json_array_get(jobs, 0), "id")));
            seen += json_array_size(jobs);
            after = json_is_integer(next) ? json_integer_value(next) : 0;
            json_decref(o);
            assert_true(++pages <= 4);
        } while (after != 0);
        assert_int_equal(seen, 4);
    }
}

/* POST /v1/catalog/reload: an admin's; a catalog read again with a new
 * price is taken (the price version moves: the controller reprices at its
 * next step); one in error is refused with its file:line and the prices
 * stay. */
static void test_catalog_reload(void **state)
{
    struct fx *f = *state;
    char *dir = tu_mkdtemp(), *text;
    struct api_resp rp;
    unsigned long pv;
    struct err e;
    json_t *o;
    long a10;

    tu_copy_dir(MINI, dir);
    catalog_free(f->s.cat);
    f->s.cat = NULL;
    err_clear(&e);
    assert_int_equal(catalog_load(&f->s.cat, dir, &e), 0);
    a10 = catalog_find_offer(f->s.cat, "oci", "us-ashburn-1", "US-ASHBURN-AD-1",
                             "BM.GPU.A10.4", "A10");
    assert_true(a10 >= 0);
    pv = catalog_price_version(f->s.cat);
    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/catalog/reload", NULL, NULL, &rp);
    assert_int_equal(rp.status, 403);
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/catalog/reload", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(o, "repriced")), 0);
    assert_true(json_is_null(json_object_get(o, "not_taken")));
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(catalog_price_version(f->s.cat), pv);
    /* the A10 cheaper, and the commitments file gone */
    tu_write(
        dir, "offers.csv",
        "cloud,region,zone,instance_type,accelerator,accelerators_per_node,accelerator_"
        "memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,price_hour,spot_"
        "price_hour\n"
        "azure,eastus,,Standard_ND96isr_H100_v5,H100,8,80,96,1900,infiniband,,98.32,\n"
        "azure,westeurope,,Standard_ND96isr_H100_v5,H100,8,80,96,1900,infiniband,,110.00,"
        "40.00\n"
        "azure,eastus,,Standard_NC40ads_H100_v5,H100,1,94,40,320,none,,6.98,\n"
        "gcp,us-central1,us-central1-a,a3-highgpu-8g,H100,8,80,208,1872,tcpx,,88.25,30."
        "00\n"
        "gcp,europe-west4,europe-west4-b,a3-highgpu-8g,H100,8,80,208,1872,tcpx,,95.00,33."
        "00\n"
        "gcp,us-central1,us-central1-a,a2-ultragpu-8g,A100-80GB,8,80,96,1360,none,,40.22,"
        "12.00\n"
        "oci,us-ashburn-1,US-ASHBURN-AD-1,BM.GPU.H100.8,H100,8,80,112,2048,roce,8192,80."
        "00,\n"
        "oci,us-ashburn-1,US-ASHBURN-AD-1,BM.GPU.A10.4,A10,4,24,64,1024,none,2,7.25,3."
        "10\n");
    text = xasprintf("%s/commitments.csv", dir);
    assert_int_equal(unlink(text), 0);
    free(text);
    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/catalog/reload", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(o, "repriced")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "unsold")), 0);
    assert_string_equal(json_string_value(json_object_get(o, "not_taken")),
                        "commitments.csv");
    assert_string_equal(json_string_value(json_object_get(o, "dir")), dir);
    json_decref(o);
    api_resp_clear(&rp);
    assert_true(catalog_price_version(f->s.cat) > pv);
    assert_float_equal(catalog_offer(f->s.cat, (size_t)a10)->price, 7.25, 1e-9);
    assert_float_equal(catalog_offer(f->s.cat, (size_t)a10)->spot_price, 3.10, 1e-9);
    assert_int_equal(catalog_ncommitments(f->s.cat), 1); /* kept until a restart */
    /* in error: refused, the prices stay */
    tu_write(dir, "offers.csv", "cloud,region\nnot,a,catalog\n");
    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/catalog/reload", NULL, NULL, &rp);
    assert_int_equal(rp.status, 400);
    assert_non_null(strstr(rp.body, "offers.csv:"));
    assert_non_null(strstr(rp.body, "(the server keeps the prices it had)"));
    json_decref(o);
    api_resp_clear(&rp);
    assert_float_equal(catalog_offer(f->s.cat, (size_t)a10)->price, 7.25, 1e-9);
    tu_rmdir(dir);
    free(dir);
}

/* Store a job in `state` with `natt` attempts (the last live when the job
 * is); ran: whether they ran.  Its id. */
static int64_t put_job(struct srv *s, int state, int natt, int ran)
{
    double now = (double)time(NULL);
    struct store_job j;
    struct err e;
    int k;

    err_clear(&e);
    memset(&j, 0, sizeof(j));
    j.name = "paged";
    j.spec_text = "name: paged\nrun: x\n";
    j.state = state;
    j.submitted_at = now - 7200;
    assert_int_equal(store_job_insert(s->st, &j, &e), 0);
    for (k = 1; k <= natt; k++) {
        struct store_attempt a;
        int live = k == natt && !job_state_terminal(state);

        memset(&a, 0, sizeof(a));
        a.job_id = j.id;
        a.n = k;
        a.cloud = k % 2 ? "gcp" : "oci";
        a.region = k % 2 ? "us-central1" : "us-ashburn-1";
        a.instance_type = "x";
        a.accelerator = "L4";
        a.acc_count = 1;
        a.nodes = 1;
        a.price_hour = 1;
        a.launched_at = now - 3600;
        a.running_at = ran ? now - 3600 : 0;
        a.state = live ? ATT_RUNNING : ATT_ENDED;
        a.ended_at = live ? 0 : now - 1800;
        assert_int_equal(store_attempt_insert(s->st, &a, &e), 0);
        if (live) {
            j.cur_attempt = a.id;
            j.nattempts = k;
        }
    }
    j.nattempts = natt;
    assert_int_equal(store_job_update(s->st, &j, &e), 0);
    return j.id;
}

/* GET /v1/jobs a page at a time, either way, all or the active only: the
 * pages put together are the whole list, entry for entry (the placement of
 * a live job, where an ended one last ran), and "next" says where the next
 * page starts, null after the last. */
static void test_jobs_pages(void **state)
{
    struct fx *f = *state;
    struct api_resp rp;
    json_t *whole, *active, *o;
    size_t i, pass;

    put_job(&f->s, JOB_SUCCEEDED, 2, 1); /* 1: last ran on oci */
    put_job(&f->s, JOB_RUNNING, 1, 1);   /* 2 */
    put_job(&f->s, JOB_CANCELLED, 1, 0); /* 3: never ran: no last_placement */
    put_job(&f->s, JOB_PENDING, 0, 0);   /* 4 */
    put_job(&f->s, JOB_FAILED, 3, 1);    /* 5: last ran on gcp */
    put_job(&f->s, JOB_RUNNING, 2, 1);   /* 6 */
    put_job(&f->s, JOB_SUCCEEDED, 1, 1); /* 7 */
    whole = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    api_resp_clear(&rp);
    active = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs", "active=1", NULL, &rp);
    api_resp_clear(&rp);
    o = json_object_get(whole, "jobs");
    assert_int_equal(json_array_size(o), 7);
    assert_int_equal(json_array_size(json_object_get(active, "jobs")), 3);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(o, 0), "last_placement"), "cloud")),
        "oci");
    assert_null(json_object_get(json_array_get(o, 2), "last_placement"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(o, 1), "placement"), "cloud")),
                        "gcp");
    /* asc and desc, pages of 1 to 8, all and active only */
    for (pass = 0; pass < 32; pass++) {
        int desc = pass & 1, act = (pass >> 1) & 1;
        size_t limit = pass / 4 + 1, pages = 0;
        const json_t *want = json_object_get(act ? active : whole, "jobs");
        json_t *got = json_array();
        long long after = 0;

        do {
            char q[96];
            json_t *next;

            snprintf(q, sizeof(q), "limit=%zu&after=%lld%s%s", limit, after,
                     desc ? "&order=desc" : "", act ? "&active=1" : "");
            o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs", q, NULL, &rp);
            assert_int_equal(rp.status, 200);
            api_resp_clear(&rp);
            assert_true(json_array_size(json_object_get(o, "jobs")) <= limit);
            json_array_extend(got, json_object_get(o, "jobs"));
            next = json_object_get(o, "next");
            assert_true(json_is_null(next) || json_is_integer(next));
            /* a next exactly while jobs remain: a full last page has none */
            assert_int_equal(json_is_integer(next),
                             json_array_size(got) < json_array_size(want));
            if (json_is_integer(next))
                assert_int_equal(json_array_size(json_object_get(o, "jobs")), limit);
            after = json_is_integer(next) ? json_integer_value(next) : 0;
            json_decref(o);
            assert_true(++pages <= 9);
        } while (after != 0);
        assert_int_equal(json_array_size(got), json_array_size(want));
        for (i = 0; i < json_array_size(want); i++) {
            const json_t *g =
                json_array_get(got, desc ? json_array_size(want) - 1 - i : i);
            json_t *w = json_deep_copy(json_array_get(want, i)), *gc = json_deep_copy(g);

            /* live attempts' cost so far moves with the clock */
            json_object_del(w, "cost_so_far");
            json_object_del(gc, "cost_so_far");
            if (!json_equal(w, gc)) {
                char *a = json_dumps(w, JSON_COMPACT), *b = json_dumps(gc, JSON_COMPACT);

                fail_msg("limit %zu %s%s: entry %zu differs:\n%s\n%s", limit,
                         desc ? "desc" : "asc", act ? " active" : "", i, a, b);
            }
            json_decref(w);
            json_decref(gc);
        }
        json_decref(got);
    }
    /* desc from a cursor: the jobs below it, newest first */
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs", "order=desc&after=5&limit=2", NULL,
             &rp);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(o, "jobs"), 0), "id")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(o, "next")), 3);
    json_decref(o);
    api_resp_clear(&rp);
    json_decref(whole);
    json_decref(active);
}

/* GET /v1/cost: by job, rows of one cost come in job id order as numbers
 * (9 before 10); a replica's keeping is in its maker's row as storage_usd,
 * compute + egress + storage = usd; the month report counts a running
 * attempt's node-hours to now, as the lab-wide one does. */
static void test_cost_report_rows(void **state)
{
    struct fx *f = *state;
    double now = (double)time(NULL);
    struct store_data_replica d;
    struct api_resp rp;
    struct err e;
    char month[16];
    json_t *o;
    size_t i;

    err_clear(&e);
    for (i = 1; i <= 11; i++) {
        struct store_job j;
        struct store_attempt a;

        memset(&j, 0, sizeof(j));
        j.name = "same";
        j.spec_text = "name: same\nrun: x\n";
        j.state = i == 11 ? JOB_RUNNING : JOB_SUCCEEDED;
        j.submitted_at = now - 7200;
        assert_int_equal(store_job_insert(f->s.st, &j, &e), 0);
        memset(&a, 0, sizeof(a));
        a.job_id = j.id;
        a.n = 1;
        a.cloud = "gcp";
        a.region = "us-central1";
        a.instance_type = "x";
        a.accelerator = "L4";
        a.acc_count = 1;
        a.nodes = 2;
        a.launched_at = a.running_at = now - 3600;
        a.state = i == 11 ? ATT_RUNNING : ATT_ENDED;
        a.ended_at = i == 11 ? 0 : now - 1800;
        a.end_reason = i == 11 ? ATT_END_NONE : ATT_END_EXITED;
        a.cost = i == 11 ? 0 : 1.0; /* the running one: $1/node-h for 1 h */
        a.price_hour = 1.0;
        assert_int_equal(store_attempt_insert(f->s.st, &a, &e), 0);
    }
    memset(&d, 0, sizeof(d));
    d.dataset = "job:3";
    d.cloud = "gcp";
    d.region = "us-central1";
    d.src_cloud = "azure";
    d.src_region = "eastus";
    d.size_gb = 730;
    d.storage_gb_month = 0.1; /* $73 a month: $0.1 an hour */
    d.created_at = now - 7200;
    d.expired_at = now - 3600; /* kept an hour: $0.10 */
    d.job_id = 3;
    assert_int_equal(store_data_put(f->s.st, &d, &e), 0);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=job", NULL, &rp);
    assert_int_equal(rp.status, 200);
    {
        const json_t *rws = json_object_get(o, "rows"), *t = json_object_get(o, "total");
        static const char *const want[] = {"11", "3", "1", "2", "4", "5",
                                           "6",  "7", "8", "9", "10"};

        assert_int_equal(json_array_size(rws), 11);
        for (i = 0; i < 11; i++)
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(rws, i), "key")),
                want[i]);
        assert_float_equal(
            json_real_value(json_object_get(json_array_get(rws, 1), "storage_usd")), 0.1,
            1e-6);
        assert_float_equal(json_number_value(json_object_get(t, "usd")),
                           json_number_value(json_object_get(t, "compute_usd")) +
                               json_number_value(json_object_get(t, "egress_usd")) +
                               json_number_value(json_object_get(t, "storage_usd")) +
                               json_number_value(json_object_get(t, "commitment_usd")),
                           1e-6);
    }
    json_decref(o);
    api_resp_clear(&rp);
    {
        time_t t = (time_t)now;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(month, sizeof(month), "by=job&month=%Y-%m", &tm);
    }
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", month, NULL, &rp);
    assert_int_equal(rp.status, 200);
    /* job 11 runs on 2 nodes since an hour ago: 2 node-hours (unless the month
     * began within the hour: then what of it is in the month) */
    for (i = 0; i < json_array_size(json_object_get(o, "rows")); i++) {
        const json_t *r = json_array_get(json_object_get(o, "rows"), i);

        if (strcmp(json_string_value(json_object_get(r, "key")), "11") == 0)
            assert_true(json_number_value(json_object_get(r, "node_hours")) > 0);
    }
    json_decref(o);
    api_resp_clear(&rp);
}

/* The cost report carries the fees of the catalog's commitments (the
 * fixture's: 4 ND H100 v5 nodes at $60/node-h from 2026-01-01 to
 * 2036-01-01, far enough that the tests do not depend on the day they
 * run), amortised by the hour over the window up to now: by cloud
 * in the cloud's row, by team in the total only, in no report before the
 * commitment or to a user's token (the fees are the lab's); a team's
 * budget line is not charged them. */
static double cost_field(const json_t *o, const char *path)
{
    char *v = field(o, path);
    double d = v ? strtod(v, NULL) : -1;

    free(v);
    return d;
}

/* By cloud, a data move is the cloud's its data left (each hop's source),
 * as the clouds bill egress, not the cloud the attempt ran in (docs/data.md).
 * Two jobs ran in gcp/us-central1 on data from azure/eastus: one copied
 * straight ($87, Azure's), one by way of OCI ($8.50: the Azure-OCI
 * interconnect is free, OCI's egress is not, so all of it OCI's).  Both the
 * lab-wide report and the month's; totals unchanged. */
static double row_egress(const json_t *o, const char *cloud)
{
    const json_t *rws = json_object_get(o, "rows");
    size_t i;

    for (i = 0; i < json_array_size(rws); i++) {
        const json_t *r = json_array_get(rws, i);

        if (strcmp(json_string_value(json_object_get(r, "key")), cloud) == 0)
            return json_number_value(json_object_get(r, "egress_usd"));
    }
    return -1;
}

static void test_cost_egress_by_source(void **state)
{
    struct fx *f = *state;
    double now = (double)time(NULL);
    static char via0[] = "", via1[] = "oci/us-ashburn-1";
    char *const via[] = {via0, via1};
    static const double move[] = {87, 8.5};
    struct api_resp rp;
    struct err e;
    char q[64];
    json_t *o;
    int i, k;

    err_clear(&e);
    for (i = 0; i < 2; i++) {
        struct store_data_replica d;
        struct store_attempt a;
        struct store_job j;

        memset(&j, 0, sizeof(j));
        j.name = "moved";
        j.spec_text = "name: moved\nrun: x\n";
        j.state = JOB_SUCCEEDED;
        j.submitted_at = now - 7200;
        assert_int_equal(store_job_insert(f->s.st, &j, &e), 0);
        memset(&a, 0, sizeof(a));
        a.job_id = j.id;
        a.n = 1;
        a.cloud = "gcp";
        a.region = "us-central1";
        a.instance_type = "x";
        a.accelerator = "L4";
        a.acc_count = 1;
        a.nodes = 1;
        a.launched_at = a.running_at = now - 3600;
        a.ended_at = now - 1800;
        a.state = ATT_ENDED;
        a.end_reason = ATT_END_EXITED;
        a.price_hour = 20;
        a.egress = move[i];
        a.cost = 10 + move[i];
        assert_int_equal(store_attempt_insert(f->s.st, &a, &e), 0);
        memset(&d, 0, sizeof(d));
        d.dataset = i ? "job:b" : "job:a";
        d.cloud = "gcp";
        d.region = "us-central1";
        d.src_cloud = "azure";
        d.src_region = "eastus";
        d.via = via[i];
        d.size_gb = 1000;
        d.created_at = d.last_used_at = a.running_at;
        d.egress = move[i];
        d.job_id = j.id;
        d.attempt_id = a.id;
        assert_int_equal(store_data_put(f->s.st, &d, &e), 0);
    }
    for (k = 0; k < 2; k++) {
        time_t t = (time_t)now;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(q, sizeof(q), k ? "by=cloud&month=%Y-%m" : "by=cloud", &tm);
        o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", q, NULL, &rp);
        assert_int_equal(rp.status, 200);
        assert_float_equal(row_egress(o, "azure"), 87, 1e-9);
        assert_float_equal(row_egress(o, "oci"), 8.5, 1e-9);
        assert_float_equal(row_egress(o, "gcp"), 0, 1e-9);
        assert_float_equal(cost_field(o, "total.egress_usd"), 95.5, 1e-9);
        json_decref(o);
        api_resp_clear(&rp);
    }
}

static void test_cost_commitments(void **state)
{
    struct fx *f = *state;
    struct auth_principal who = {AUTH_ADMIN, 9, "alice-token", "alice"};
    struct api_req rq = {"GET", "/v1/cost", "by=cloud", NULL, 0, &who, 0, NULL, 0, NULL};
    const double march = 4 * 60.0 * 31 * 24, start = 1767225600; /* 2026-01-01 */
    const double end = 2082758400;                               /* 2036-01-01 */
    double t0, t1, fee;
    struct api_resp rp;
    json_t *o;

    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud&month=2026-03", NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_float_equal(cost_field(o, "rows.0.commitment_usd"), march, 1e-6);
    assert_float_equal(cost_field(o, "rows.0.usd"), march, 1e-6);
    assert_float_equal(cost_field(o, "total.usd"), march, 1e-6);
    assert_float_equal(cost_field(o, "commitments.0.usd"), march, 1e-6);
    assert_float_equal(cost_field(o, "commitments.0.nodes"), 4, 0);
    json_decref(o);
    api_resp_clear(&rp);

    /* by team: no row holds them, the total does; no budget is charged */
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=team&month=2026-03", NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
    assert_float_equal(cost_field(o, "total.usd"), march, 1e-6);
    assert_float_equal(cost_field(o, "total.commitment_usd"), march, 1e-6);
    json_decref(o);
    api_resp_clear(&rp);

    /* before it started: nothing */
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud&month=2025-12", NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_int_equal(json_array_size(json_object_get(o, "commitments")), 0);
    assert_float_equal(cost_field(o, "total.usd"), 0, 0);
    json_decref(o);
    api_resp_clear(&rp);

    /* all time: from its start to now (or its end) */
    /* time() may read a coarse clock a tick behind the server's: a second
     * either side */
    t0 = (double)time(NULL) - 1;
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud", NULL, &rp);
    t1 = (double)time(NULL) + 2;
    assert_int_equal(rp.status, 200);
    fee = cost_field(o, "rows.0.commitment_usd");
    assert_true(fee >= 240 * (fmin(t0, end) - start) / 3600 - 1e-6);
    assert_true(fee <= 240 * (fmin(t1, end) - start) / 3600 + 1e-6);
    assert_float_equal(cost_field(o, "total.commitment_usd"), fee, 1e-6);
    /* no job yet: none of it is "before the first job" (helper-102: it
     * was all of it, before a first job said to be now) */
    assert_float_equal(cost_field(o, "commitments.0.usd_before_first_job"), 0, 0);
    assert_true(json_is_null(json_object_get(
        json_array_get(json_object_get(o, "commitments"), 0), "first_job_at")));
    json_decref(o);
    api_resp_clear(&rp);

    /* each listed with its line of commitments.csv */
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud&month=2026-03", NULL, &rp);
    assert_float_equal(cost_field(o, "commitments.0.line"), 2, 0);
    assert_float_equal(cost_field(o, "commitments.0.start"), start, 0);
    json_decref(o);
    api_resp_clear(&rp);

    /* a user's token sees its teams' spend, not the lab's fees */
    api_handle(&f->s, &rq, &rp);
    assert_int_equal(rp.status, 200);
    o = json_loadb(rp.body, rp.body_len, 0, NULL);
    assert_non_null(o);
    assert_null(json_object_get(o, "commitments"));
    assert_float_equal(cost_field(o, "total.usd"), 0, 0);
    json_decref(o);
    api_resp_clear(&rp);
}

/* A commitment the catalog gives no start ("already in force") is counted
 * from the server's first record, its first job's submission: none before
 * (not from 1970, as a first version did: $29.9 M for one node), and none at
 * all while the store has no job. */
static void test_cost_commitment_without_start(void **state)
{
    struct fx *f = *state;
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/c.csv", dir);
    double now = (double)time(NULL), fee;
    struct store_job j;
    struct api_resp rp;
    struct err e;
    json_t *o;

    tu_write(dir, "c.csv",
             "cloud,region,zone,instance_type,nodes,start,end,price_hour\n"
             "azure,eastus,,Standard_ND96isr_H100_v5,1,,,60.00\n");
    err_clear(&e);
    assert_int_equal(catalog_load_commitments(f->s.cat, path, &e), 0);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud", NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_true(cost_field(o, "total.usd") < 1); /* no job yet: from now */
    json_decref(o);
    api_resp_clear(&rp);

    memset(&j, 0, sizeof(j));
    j.name = "first";
    j.spec_text = "name: first\nrun: x\n";
    j.state = JOB_SUCCEEDED;
    j.submitted_at = now - 7200;
    assert_int_equal(store_job_insert(f->s.st, &j, &e), 0);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud", NULL, &rp);
    fee = cost_field(o, "rows.0.commitment_usd");
    assert_true(fee >= 120 - 1e-6 && fee < 121); /* 2 h at $60 */
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(o, "commitments"), 0), "start")));
    assert_float_equal(cost_field(o, "commitments.0.counted_from"), now - 7200, 1);
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/cost", "by=cloud&month=1999-01", NULL, &rp);
    assert_float_equal(cost_field(o, "total.usd"), 0, 0);
    json_decref(o);
    api_resp_clear(&rp);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* A token made through the API verifies with its role; once revoked by
 * name it does not; the listing never shows it. */
/* GET /v1/jobs/{id} answers from its cache of rendered replies only while
 * the server's generation stands: a write the server made (a step, any
 * call but GET) shows at once; the cache is real (a write behind the
 * server's back is not seen until the generation moves). */
static void test_job_reply_cache(void **state)
{
    struct fx *f = *state;
    struct store_job j;
    struct api_resp rp;
    struct err e;
    uint64_t gen;
    json_t *o;

    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, SPEC_BODY(""), &rp);
    assert_int_equal(rp.status, 201);
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/1", NULL, NULL, &rp);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "PENDING");
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(store_job_get(f->s.st, 1, &j, &e), 0);
    j.state = JOB_SUCCEEDED;
    assert_int_equal(store_job_update(f->s.st, &j, &e), 0);
    store_job_clear(&j);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/1", NULL, NULL, &rp);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "PENDING");
    json_decref(o);
    api_resp_clear(&rp);
    gen = f->s.gen;
    o = call(&f->s, AUTH_MEMBER, "POST", "/v1/jobs/1/cancel", NULL, NULL, &rp);
    json_decref(o);
    api_resp_clear(&rp);
    assert_true(f->s.gen != gen); /* a POST moved it */
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/1", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "SUCCEEDED");
    json_decref(o);
    api_resp_clear(&rp);
    gen = f->s.gen;
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/99", NULL, NULL, &rp);
    assert_int_equal(rp.status, 404); /* misses are not cached as answers */
    assert_true(f->s.gen == gen);     /* and a GET does not move it */
    json_decref(o);
    api_resp_clear(&rp);
}

static void test_token_life(void **state)
{
    struct fx *f = *state;
    struct auth_principal who;
    struct api_resp rp;
    struct err e;
    char *token;
    json_t *o;

    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/tokens", NULL,
             "{\"name\":\"bot\",\"role\":\"member\"}", &rp);
    assert_int_equal(rp.status, 201);
    token = xstrdup(json_string_value(json_object_get(o, "token")));
    assert_memory_equal(token, "st_", 3);
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(auth_token_verify(f->s.st, f->s.secret, token, &who, &e), 0);
    assert_int_equal(who.role, AUTH_MEMBER);
    assert_string_equal(who.name, "bot");
    o = call(&f->s, AUTH_ADMIN, "GET", "/v1/tokens", NULL, NULL, &rp);
    assert_null(strstr(rp.body, token + 3));
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_ADMIN, "DELETE", "/v1/tokens/bot", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(o, "revoked")), who.token_id);
    json_decref(o);
    api_resp_clear(&rp);
    assert_int_equal(auth_token_verify(f->s.st, f->s.secret, token, &who, &e),
                     ST_ENOTFOUND);
    o = call(&f->s, AUTH_ADMIN, "DELETE", "/v1/tokens/bot", NULL, NULL, &rp);
    assert_int_equal(rp.status, 404);
    json_decref(o);
    api_resp_clear(&rp);
    free(token);
}

/* The plan's text is what plan_print prints for the same plan, and its
 * JSON what plan_to_json makes: the server and `plan --offline` agree. */
static void test_plan_text_same(void **state)
{
    struct fx *f = *state;
    struct plan_opts opts = {.now = 0, .top = 0, .by_price = 0};
    struct api_resp rp;
    struct spec *sp;
    struct plan p;
    struct err e;
    char *text = NULL, *js, *got;
    size_t len = 0;
    FILE *fp;
    json_t *o, *pj;

    assert_int_equal(spec_load_mem(&sp, "spec.yaml", spec_ok, strlen(spec_ok), &e), 0);
    plan_init(&p);
    assert_int_equal(plan_rank(&p, f->s.cat, sp, NULL, &opts, &e), 0);
    fp = open_memstream(&text, &len);
    plan_print(fp, &p, 1);
    fclose(fp);
    o = call(&f->s, AUTH_VIEWER, "POST", "/v1/plan", NULL,
             SPEC_BODY(", \"top\": 0, \"explain\": true"), &rp);
    assert_int_equal(rp.status, 200);
    assert_string_equal(json_string_value(json_object_get(o, "text")), text);
    pj = plan_to_json(&p, 1);
    js = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
    got = json_dumps(json_object_get(o, "plan"), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(got, js);
    free(js);
    free(got);
    json_decref(pj);
    json_decref(o);
    api_resp_clear(&rp);
    free(text);
    plan_free(&p);
    spec_free(sp);
}

/* A body over the limit is refused (413) before any handler sees it. */
static void test_body_limit(void **state)
{
    struct fx *f = *state;
    char *big = xmalloc(MAX_BODY + 2);
    struct api_resp rp;
    json_t *o;

    memset(big, ' ', MAX_BODY + 1);
    big[MAX_BODY + 1] = '\0';
    o = call(&f->s, AUTH_ADMIN, "POST", "/v1/jobs", NULL, big, &rp);
    assert_int_equal(rp.status, 413);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "error"), "code")),
        "ETOOBIG");
    json_decref(o);
    api_resp_clear(&rp);
    free(big);
}

/* /metrics: Prometheus text for a viewer; the route labels are the table's. */
static void test_metrics_and_labels(void **state)
{
    struct fx *f = *state;
    struct api_resp rp;
    json_t *o;

    o = call(&f->s, AUTH_VIEWER, "GET", "/metrics", NULL, NULL, &rp);
    assert_int_equal(rp.status, 200);
    assert_null(o);
    assert_non_null(strstr(rp.content_type, "version=0.0.4"));
    assert_non_null(rp.body);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v1/jobs/12", NULL, NULL, &rp);
    assert_string_equal(rp.route, "GET /v1/jobs/{id}");
    json_decref(o);
    api_resp_clear(&rp);
    o = call(&f->s, AUTH_VIEWER, "GET", "/v2/x", NULL, NULL, &rp);
    assert_string_equal(rp.route, "unmatched");
    json_decref(o);
    api_resp_clear(&rp);
}

/* One call that must answer `status`; its JSON (the caller decrefs). */
static json_t *call_ok(struct srv *s, const char *method, const char *path,
                       const char *query, const char *body, int status)
{
    struct api_resp rp;
    json_t *o = call(s, AUTH_MEMBER, method, path, query, body, &rp);

    if (rp.status != status || o == NULL)
        fail_msg("%s %s: status %d (want %d): %.*s", method, path, rp.status, status,
                 (int)rp.body_len, rp.body ? rp.body : "");
    api_resp_clear(&rp);
    return o;
}

/* The "keys" of the replica set routers get, as compact JSON text. */
static char *endpoint_keys(struct srv *s)
{
    json_t *o = call_ok(s, "GET", "/v1/services/chat/endpoints", NULL, NULL, 200);
    char *t = json_dumps(json_object_get(o, "keys"), JSON_COMPACT);

    json_decref(o);
    return t;
}

/* A key change reaches routers at once: the replica set gets a new version
 * (its long polls answer) with the new digests, and the manager's next
 * round keeps them (it reads them from the row). */
static void test_keys_reach_routers(void **state)
{
    struct fx *f = *state;
    struct mgr_hooks h;
    char digest[65], want[80], *got;
    uint64_t v1, v2, v3;
    struct err e;
    int64_t id;
    json_t *o;

    memset(&h, 0, sizeof(h));
    assert_int_equal(mgr_open(&f->s.mgr, f->s.st, &h, &e), 0);
    o = call_ok(&f->s, "POST", "/v1/services", NULL, SVC_BODY(""), 201);
    id = json_integer_value(json_object_get(json_object_get(o, "service"), "id"));
    json_decref(o);
    assert_int_equal(mgr_tick(f->s.mgr, 1000, NULL, &e), 0);
    v1 = mgr_endpoints_version(f->s.mgr, id);
    assert_true(v1 > 0);
    o = call_ok(&f->s, "POST", "/v1/services/chat/keys", NULL, NULL, 201);
    auth_sha256_hex(json_string_value(json_object_get(o, "key")),
                    strlen(json_string_value(json_object_get(o, "key"))), digest);
    json_decref(o);
    v2 = mgr_endpoints_version(f->s.mgr, id);
    assert_true(v2 > v1);
    got = endpoint_keys(&f->s);
    assert_non_null(strstr(got, digest));
    free(got);
    json_decref(call_ok(&f->s, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 200));
    v3 = mgr_endpoints_version(f->s.mgr, id);
    assert_true(v3 > v2);
    snprintf(want, sizeof(want), "[\"%s\"]", digest);
    got = endpoint_keys(&f->s);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(mgr_tick(f->s.mgr, 1001, NULL, &e), 0);
    got = endpoint_keys(&f->s);
    assert_string_equal(got, want);
    free(got);
    mgr_close(f->s.mgr);
    f->s.mgr = NULL;
}

/* A row from before key_info (schema 7: its keys only) loads: its key is
 * listed as key 1, made when the service started, with no prefix; the
 * next key is 2, and the row then has key_info for both. */
static void test_keys_old_row(void **state)
{
    struct fx *f = *state;
    struct store_service sv, got;
    struct err e;
    json_t *o, *info;

    memset(&sv, 0, sizeof(sv));
    sv.name = "chat";
    sv.spec_text = "name: chat\nrun: echo\nservice:\n  replicas: 1\n";
    sv.version = 1;
    sv.created_at = sv.updated_at = 100;
    sv.target = 1;
    sv.keys = "[\"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\"]";
    assert_int_equal(store_service_insert(f->s.st, &sv, &e), 0);
    o = call_ok(&f->s, "GET", "/v1/services/chat/keys", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 1);
    {
        const json_t *k = json_array_get(json_object_get(o, "keys"), 0);

        assert_int_equal(json_integer_value(json_object_get(k, "id")), 1);
        assert_true(json_is_null(json_object_get(k, "prefix")));
        assert_true(json_number_value(json_object_get(k, "created_at")) == 100);
    }
    json_decref(o);
    o = call_ok(&f->s, "POST", "/v1/services/chat/keys", NULL, NULL, 201);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "keys")), 2);
    json_decref(o);
    assert_int_equal(store_service_find(f->s.st, "chat", &got, &e), 0);
    info = json_loads(got.key_info, 0, NULL);
    assert_int_equal(json_array_size(info), 2);
    assert_non_null(strstr(got.keys, "0123456789abcdef"));
    json_decref(info);
    store_service_clear(&got);
    /* the old key is revoked by its id like any other */
    json_decref(call_ok(&f->s, "DELETE", "/v1/services/chat/keys/1", NULL, NULL, 200));
    assert_int_equal(store_service_find(f->s.st, "chat", &got, &e), 0);
    assert_null(strstr(got.keys, "0123456789abcdef"));
    store_service_clear(&got);
}

/* Keys made and revoked over and over: at most 64 live ones; the list
 * keeps the newest 64 revoked ones, and ids still never repeat. */
static void test_keys_many(void **state)
{
    struct fx *f = *state;
    struct store_service got;
    char path[64];
    struct err e;
    json_t *o;
    int i;

    json_decref(call_ok(&f->s, "POST", "/v1/services", NULL, SVC_BODY(""), 201));
    for (i = 2; i <= 64; i++)
        json_decref(call_ok(&f->s, "POST", "/v1/services/chat/keys", NULL, NULL, 201));
    o = call_ok(&f->s, "POST", "/v1/services/chat/keys", NULL, NULL, 409);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "error"),
                                                               "message")),
                           "64 keys, the most"));
    json_decref(o);
    for (i = 1; i <= 64 + 10; i++) { /* revoke key i, make key 64 + i */
        snprintf(path, sizeof(path), "/v1/services/chat/keys/%d", i);
        json_decref(call_ok(&f->s, "DELETE", path, NULL, NULL, 200));
        o = call_ok(&f->s, "POST", "/v1/services/chat/keys", NULL, NULL, 201);
        assert_int_equal(json_integer_value(json_object_get(o, "id")), 64 + i);
        json_decref(o);
    }
    o = call_ok(&f->s, "GET", "/v1/services/chat/keys", "all=1", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 128);
    /* keys 1-10 are forgotten, 11 is the oldest kept */
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(json_object_get(o, "keys"), 0), "id")),
        11);
    json_decref(o);
    assert_int_equal(store_service_find(f->s.st, "chat", &got, &e), 0);
    o = json_loads(got.keys, 0, NULL);
    assert_int_equal(json_array_size(o), 64);
    json_decref(o);
    store_service_clear(&got);
}

/* One call as role whose reply must have `status` and must not hold the
 * secret's value anywhere; the reply's JSON (NULL if not JSON). */
#define HF_VALUE "hf_TopSecretValue_0123456789"
static json_t *secret_call(struct srv *s, enum auth_role role, const char *method,
                           const char *path, const char *query, const char *body,
                           int status)
{
    struct api_resp rp;
    json_t *o = call(s, role, method, path, query, body, &rp);

    if (rp.status != status)
        fail_msg("%s %s?%s: status %d (want %d): %.*s", method, path, query ? query : "",
                 rp.status, status, (int)rp.body_len, rp.body ? rp.body : "");
    if (rp.body != NULL && memmem(rp.body, rp.body_len, HF_VALUE, strlen(HF_VALUE)))
        fail_msg("%s %s: the reply holds the value: %.*s", method, path, (int)rp.body_len,
                 rp.body);
    api_resp_clear(&rp);
    return o;
}

/* Secrets through the API: set (member), list (viewer: names and times),
 * delete; no reply ever holds the value; the store holds ciphertext that
 * opens with the server's key as (team, name) only; a submitted spec that
 * names a secret its team lacks is refused at the reference's line. */
static void test_secrets(void **state)
{
    struct fx *f = *state;
    struct srv *s = &f->s;
    static const char job_ok[] =
        "{\"spec\": \"name: j\\nresources:\\n  accelerators: H100:8\\nrun: x\\n"
        "envs:\\n  HF_TOKEN: {secret: hf}\\nstratus: {team: research}\\n\"}";
    static const char job_missing[] =
        "{\"spec\": \"name: j\\nresources:\\n  accelerators: H100:8\\nrun: x\\n"
        "secrets:\\n  WANDB_KEY: null\\nstratus: {team: research}\\n\"}";
    struct store_secret sc;
    struct store_job j;
    char *v = NULL, *t;
    size_t len;
    struct err e;
    json_t *o;

    o = secret_call(s, AUTH_MEMBER, "PUT", "/v1/secrets/hf", "team=research",
                    "{\"value\": \"" HF_VALUE "\"}", 200);
    t = field(o, "name");
    assert_string_equal(t, "hf");
    free(t);
    t = field(o, "team");
    assert_string_equal(t, "research");
    free(t);
    json_decref(o);
    json_decref(secret_call(s, AUTH_VIEWER, "PUT", "/v1/secrets/hf", "team=research",
                            "{\"value\": \"" HF_VALUE "\"}", 403));
    json_decref(secret_call(s, AUTH_MEMBER, "PUT", "/v1/secrets/-x", NULL,
                            "{\"value\": \"v\"}", 400));
    json_decref(secret_call(s, AUTH_MEMBER, "PUT", "/v1/secrets/x", NULL, "{}", 400));
    json_decref(secret_call(s, AUTH_MEMBER, "PUT", "/v1/secrets/x", NULL,
                            "{\"value\": 7}", 400));
    json_decref(secret_call(s, AUTH_MEMBER, "PUT", "/v1/secrets/x", "team=a%0Ab",
                            "{\"value\": \"v\"}", 400));
    json_decref(secret_call(s, AUTH_NONE, "GET", "/v1/secrets", "team=research", NULL, 401));
    o = secret_call(s, AUTH_VIEWER, "GET", "/v1/secrets", "team=research", NULL, 200);
    t = field(o, "secrets.0.name");
    assert_string_equal(t, "hf");
    free(t);
    t = field(o, "secrets.0.value");
    assert_string_equal(t, "(missing)");
    free(t);
    json_decref(o);
    o = secret_call(s, AUTH_VIEWER, "GET", "/v1/secrets", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(o, "secrets")), 0);
    json_decref(o);
    /* the store: ciphertext, which opens as (research, hf) only */
    err_clear(&e);
    assert_int_equal(store_secret_get(s->st, "research", "hf", &sc, &e), 0);
    assert_null(memmem(sc.ciphertext, sc.ciphertext_len, HF_VALUE, strlen(HF_VALUE)));
    assert_int_equal(secret_open(s->secrets_key, "research", "hf", sc.ciphertext,
                                 sc.ciphertext_len, sc.nonce, sc.nonce_len, &v, &len, &e),
                     0);
    assert_string_equal(v, HF_VALUE);
    secret_free(v, len);
    assert_int_equal(secret_open(s->secrets_key, "", "hf", sc.ciphertext, sc.ciphertext_len,
                                 sc.nonce, sc.nonce_len, &v, &len, &e),
                     ST_ESTATE);
    store_secret_clear(&sc);
    /* submits: a reference the team has, one it lacks */
    o = secret_call(s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, job_ok, 201);
    assert_int_equal(store_job_get(s->st, json_integer_value(json_object_get(o, "id")), &j, &e),
                     0);
    assert_non_null(strstr(j.spec_text, "{secret: hf}"));
    store_job_clear(&j);
    json_decref(o);
    o = secret_call(s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, job_missing, 400);
    t = field(o, "error.message");
    assert_non_null(strstr(t, "spec.yaml:6:3: WANDB_KEY refers to the secret 'WANDB_KEY', "
                              "which team 'research' does not have"));
    assert_non_null(strstr(t, "stratus secret set WANDB_KEY --team research"));
    free(t);
    json_decref(o);
    /* delete, then it is gone */
    json_decref(secret_call(s, AUTH_VIEWER, "DELETE", "/v1/secrets/hf", "team=research",
                            NULL, 403));
    json_decref(secret_call(s, AUTH_MEMBER, "DELETE", "/v1/secrets/hf", "team=research",
                            NULL, 200));
    json_decref(secret_call(s, AUTH_MEMBER, "DELETE", "/v1/secrets/hf", "team=research",
                            NULL, 404));
    json_decref(secret_call(s, AUTH_MEMBER, "POST", "/v1/jobs", NULL, job_ok, 400));
}

/* docs/api/openapi.yaml documents every route of the table, and no other:
 * same paths, same methods; routes needing no role say `security: []`. */
static void test_openapi_matches_table(void **state)
{
    const char *method, *pattern;
    const struct ynode *paths, *pn, *op;
    enum auth_role role;
    struct ydoc d;
    struct err e;
    size_t i, k, ops = 0;

    (void)state;
    assert_int_equal(ydoc_load_file(&d, SOURCE_DIR "/docs/api/openapi.yaml", 0, &e), 0);
    paths = ymap_get(d.root, "paths");
    assert_non_null(paths);
    for (i = 0; api_route_at(i, &method, &pattern, &role) != NULL; i++) {
        char lower[16];

        for (k = 0; method[k] && k + 1 < sizeof(lower); k++)
            lower[k] = (char)(method[k] - 'A' + 'a');
        lower[k] = '\0';
        pn = ymap_get(paths, pattern);
        op = pn ? ymap_get(pn, lower) : NULL;
        if (op == NULL)
            fail_msg("%s %s is not in docs/api/openapi.yaml", method, pattern);
        if (role == AUTH_NONE)
            assert_non_null(ymap_get(op, "security"));
    }
    /* and nothing more: as many operations documented as routes */
    for (k = 0; k < paths->n; k++) {
        static const char *const methods[] = {"get", "post", "put", "delete", "patch"};
        size_t m;

        for (m = 0; m < 5; m++)
            ops += ymap_get(paths->items[k], methods[m]) != NULL;
    }
    assert_int_equal(ops, i);
    ydoc_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ended_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_pages_team, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_report_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_egress_by_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_commitments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_commitment_without_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_life, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_text_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_reply_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_reach_routers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_old_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_many, setup, teardown),
        cmocka_unit_test(test_openapi_matches_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
