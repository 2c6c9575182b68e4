/*
 * apijson.c - the JSON shapes of the API (apijson.h), both ways.
 *
 * Every store field travels except a job's spec_text and policy_text: a spec
 * may carry secrets in its environment (the store is owner-only for that
 * reason), and a viewer may read any job. Times of 0 ("not yet") travel as
 * null, as do the -1 of exit codes and of an event's from/to states; enums
 * travel as the names the CLI prints. Reals are written by jansson with 17
 * significant digits, so a decoded double is the encoded one.
 */
#include "apijson.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plan/plan.h"
#include "../spec/spec.h"
#include "../store/store.h"
#include "../util/xmem.h"

/* ---- encoding helpers ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A time or amount where 0 means "none". */
static json_t *real_or_null(double v)
{
    return v != 0 ? json_real(v) : json_null();
}

static json_t *int_or_null(long long v, long long none)
{
    return v != none ? json_integer(v) : json_null();
}

static const char *att_state_name(int s)
{
    return s == ATT_LAUNCHING ? "launching" : s == ATT_RUNNING ? "running" : "ended";
}

/* ---- encoders ---- */

static json_t *placement_json(const struct store_attempt *a)
{
    json_t *o = json_object();

    json_object_set_new(o, "cloud", json_string(a->cloud ? a->cloud : ""));
    json_object_set_new(o, "region", json_string(a->region ? a->region : ""));
    json_object_set_new(o, "zone", json_string(a->zone ? a->zone : ""));
    json_object_set_new(o, "instance_type",
                        json_string(a->instance_type ? a->instance_type : ""));
    json_object_set_new(o, "mode", json_string(plan_mode_name(a->mode)));
    json_object_set_new(o, "nodes", json_integer(a->nodes));
    json_object_set_new(o, "price_hour", json_real(a->price_hour));
    return o;
}

/* The fields of `stratus status --json` first, in its order, then the rest. */
static void job_fields(json_t *o, const struct store_job *j)
{
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name ? j->name : ""));
    json_object_set_new(o, "kind", json_string(spec_kind_name((enum spec_kind)j->kind)));
    json_object_set_new(o, "team", str_or_null(j->team));
    json_object_set_new(o, "priority", json_integer(j->priority));
    json_object_set_new(o, "state", json_string(job_state_name(j->state)));
    json_object_set_new(o, "reason", str_or_null(j->reason));
    json_object_set_new(o, "submitted_at", json_real(j->submitted_at));
    json_object_set_new(o, "ended_at", real_or_null(j->ended_at));
    json_object_set_new(o, "attempts", json_integer(j->nattempts));
    json_object_set_new(o, "restarts", json_integer(j->restarts));
    json_object_set_new(o, "cost", json_real(j->cost));
    json_object_set_new(o, "exit_code", int_or_null(j->exit_code, -1));
    json_object_set_new(o, "on_demand_only", json_boolean(j->on_demand_only));
    json_object_set_new(o, "spec_path", str_or_null(j->spec_path));
    json_object_set_new(o, "started_at", real_or_null(j->started_at));
    json_object_set_new(o, "next_try_at", real_or_null(j->next_try_at));
    json_object_set_new(o, "deadline_at", real_or_null(j->deadline_at));
    json_object_set_new(o, "work_done_s", json_real(j->work_done_s));
    json_object_set_new(o, "cancel_requested", json_boolean(j->cancel_requested));
    json_object_set_new(o, "cur_attempt", int_or_null(j->cur_attempt, 0));
}

json_t *apijson_job(const struct store_job *j, const struct store_attempt *atts, size_t n,
                    double now)
{
    json_t *o = json_object(), *placement = json_null();
    size_t i;

    job_fields(o, j);
    for (i = 0; i < n; i++)
        if (j->cur_attempt != 0 && atts[i].id == j->cur_attempt) {
            json_decref(placement);
            placement = placement_json(&atts[i]);
        }
    json_object_set_new(o, "placement", placement);
    if (atts != NULL && n > 0) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(arr, apijson_attempt(&atts[i], now));
        json_object_set_new(o, "attempts_detail", arr);
    }
    return o;
}

json_t *apijson_attempt(const struct store_attempt *a, double now)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "job_id", json_integer(a->job_id));
    json_object_set_new(o, "n", json_integer(a->n));
    json_object_set_new(o, "state", json_string(att_state_name(a->state)));
    json_object_set_new(o, "cloud", json_string(a->cloud ? a->cloud : ""));
    json_object_set_new(o, "region", json_string(a->region ? a->region : ""));
    json_object_set_new(o, "zone", json_string(a->zone ? a->zone : ""));
    json_object_set_new(o, "instance_type",
                        json_string(a->instance_type ? a->instance_type : ""));
    json_object_set_new(o, "accelerator",
                        json_string(a->accelerator ? a->accelerator : ""));
    json_object_set_new(o, "acc_count", json_integer(a->acc_count));
    json_object_set_new(o, "nodes", json_integer(a->nodes));
    json_object_set_new(o, "mode", json_string(plan_mode_name(a->mode)));
    json_object_set_new(o, "price_hour", json_real(a->price_hour));
    json_object_set_new(o, "launched_at", real_or_null(a->launched_at));
    json_object_set_new(o, "running_at", real_or_null(a->running_at));
    json_object_set_new(o, "ended_at", real_or_null(a->ended_at));
    json_object_set_new(o, "end_reason", json_string(attempt_end_name(a->end_reason)));
    json_object_set_new(o, "exit_code", int_or_null(a->exit_code, -1));
    json_object_set_new(o, "cost", json_real(a->cost));
    json_object_set_new(o, "ckpt_from", int_or_null(a->ckpt_from, 0));
    json_object_set_new(o, "ckpt_bytes", json_real(a->ckpt_bytes));
    json_object_set_new(o, "ckpt_copy_s", json_real(a->ckpt_copy_s));
    json_object_set_new(o, "egress", json_real(a->egress));
    json_object_set_new(o, "priced_at", real_or_null(a->priced_at));
    if (a->state != ATT_ENDED) {
        /* What `status` shows for a live attempt: its time and cost so far. */
        double secs = a->running_at > 0 && now > a->running_at ? now - a->running_at : 0;

        json_object_set_new(o, "elapsed_s", json_real(secs));
        json_object_set_new(o, "cost_so_far", json_real(store_attempt_cost_at(a, now)));
    }
    return o;
}

json_t *apijson_event(const struct store_event *ev)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(ev->id));
    json_object_set_new(o, "job_id", json_integer(ev->job_id));
    json_object_set_new(o, "attempt_id", int_or_null(ev->attempt_id, 0));
    json_object_set_new(o, "at", json_real(ev->at));
    json_object_set_new(o, "type", json_string(ev->type ? ev->type : ""));
    json_object_set_new(o, "from_state",
                        ev->from_state >= 0 && ev->from_state < JOB__NSTATES
                            ? json_string(job_state_name(ev->from_state))
                            : json_null());
    json_object_set_new(o, "to_state",
                        ev->to_state >= 0 && ev->to_state < JOB__NSTATES
                            ? json_string(job_state_name(ev->to_state))
                            : json_null());
    json_object_set_new(o, "msg", str_or_null(ev->msg));
    return o;
}

json_t *apijson_cost_row(const struct store_cost_row *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "key", json_string(r->key ? r->key : ""));
    json_object_set_new(o, "name", str_or_null(r->name));
    json_object_set_new(o, "usd", json_real(r->usd));
    json_object_set_new(o, "compute_usd", json_real(r->compute_usd));
    json_object_set_new(o, "egress_usd", json_real(r->egress_usd));
    json_object_set_new(o, "node_hours", json_real(r->node_hours));
    json_object_set_new(o, "lost_node_hours", json_real(r->lost_node_hours));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    return o;
}

json_t *apijson_error(const struct err *e)
{
    json_t *o = json_object(), *in = json_object();
    int code = e && e->code ? e->code : ST_EINTERNAL;

    json_object_set_new(in, "code", json_string(err_name(code)));
    json_object_set_new(in, "message",
                        json_string(e && e->msg[0] ? e->msg : err_str(code)));
    json_object_set_new(o, "error", in);
    return o;
}

/* ---- decoding ---- */

/* A field reader: remembers the first field that was missing or of the
 * wrong type, so a decoder reads every field and checks once. */
struct rd {
    const json_t *o;
    const char *what; /* "job", "attempt", ... for the message */
    const char *bad;  /* first bad field, or NULL */
};

static const json_t *rd_get(struct rd *r, const char *key)
{
    const json_t *v = json_object_get(r->o, key);

    if (v == NULL && r->bad == NULL)
        r->bad = key;
    return v;
}

static void rd_bad(struct rd *r, const char *key)
{
    if (r->bad == NULL)
        r->bad = key;
}

static double rd_real(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        rd_bad(r, key);
    return json_number_value(v);
}

static long long rd_int(struct rd *r, const char *key, long long none)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return none;
    if (!json_is_integer(v))
        rd_bad(r, key);
    return json_integer_value(v);
}

static int rd_bool(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v != NULL && !json_is_boolean(v))
        rd_bad(r, key);
    return v != NULL && json_is_true(v);
}

/* An owned copy of a string field; NULL for null (or when missing/bad). */
static char *rd_str(struct rd *r, const char *key)
{
    const json_t *v = rd_get(r, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        rd_bad(r, key);
        return NULL;
    }
    return xstrdup(json_string_value(v));
}

/* A string field that must be present: "" when missing. */
static char *rd_str_req(struct rd *r, const char *key)
{
    char *s = rd_str(r, key);

    if (s == NULL) {
        rd_bad(r, key);
        s = xstrdup("");
    }
    return s;
}

/* An enum given by name: its number from names(0..n-1), or dflt (and bad). */
static int rd_enum(struct rd *r, const char *key, const char *(*names)(int), int n,
                   int dflt)
{
    const json_t *v = rd_get(r, key);
    int i;

    if (v == NULL || json_is_null(v))
        return dflt;
    for (i = 0; json_is_string(v) && i < n; i++)
        if (strcmp(names(i), json_string_value(v)) == 0)
            return i;
    rd_bad(r, key);
    return dflt;
}

static const char *kind_name_int(int k)
{
    return spec_kind_name((enum spec_kind)k);
}

static const char *att_state_name_int(int s)
{
    return att_state_name(s);
}

static int rd_done(struct rd *r, struct err *e)
{
    if (!json_is_object(r->o))
        return err_set(e, ST_EPARSE, "the server's reply has no %s object", r->what);
    if (r->bad)
        return err_set(e, ST_EPARSE, "the server's reply has a %s without a valid '%s'",
                       r->what, r->bad);
    return 0;
}

int apijson_to_job(const json_t *o, struct store_job *out, struct err *e)
{
    struct rd r = {o, "job", NULL};
    struct store_job *j = out;

    memset(j, 0, sizeof(*j));
    j->id = rd_int(&r, "id", 0);
    j->name = rd_str_req(&r, "name");
    j->spec_path = rd_str(&r, "spec_path");
    j->kind = rd_enum(&r, "kind", kind_name_int, SPEC_KIND__N, 0);
    j->team = rd_str(&r, "team");
    j->priority = (int)rd_int(&r, "priority", 0);
    j->state = rd_enum(&r, "state", job_state_name, JOB__NSTATES, 0);
    j->reason = rd_str(&r, "reason");
    j->submitted_at = rd_real(&r, "submitted_at");
    j->started_at = rd_real(&r, "started_at");
    j->ended_at = rd_real(&r, "ended_at");
    j->next_try_at = rd_real(&r, "next_try_at");
    j->deadline_at = rd_real(&r, "deadline_at");
    j->restarts = (int)rd_int(&r, "restarts", 0);
    j->nattempts = (int)rd_int(&r, "attempts", 0);
    j->cur_attempt = rd_int(&r, "cur_attempt", 0);
    j->on_demand_only = rd_bool(&r, "on_demand_only");
    j->work_done_s = rd_real(&r, "work_done_s");
    j->cost = rd_real(&r, "cost");
    j->exit_code = (int)rd_int(&r, "exit_code", -1);
    j->cancel_requested = rd_bool(&r, "cancel_requested");
    if (rd_done(&r, e) != 0) {
        store_job_clear(j);
        memset(j, 0, sizeof(*j));
        return e->code;
    }
    return 0;
}

int apijson_to_attempt(const json_t *o, struct store_attempt *out, struct err *e)
{
    struct rd r = {o, "attempt", NULL};
    struct store_attempt *a = out;

    memset(a, 0, sizeof(*a));
    a->id = rd_int(&r, "id", 0);
    a->job_id = rd_int(&r, "job_id", 0);
    a->n = (int)rd_int(&r, "n", 0);
    a->state = rd_enum(&r, "state", att_state_name_int, ATT_ENDED + 1, ATT_ENDED);
    a->cloud = rd_str_req(&r, "cloud");
    a->region = rd_str_req(&r, "region");
    a->zone = rd_str_req(&r, "zone");
    a->instance_type = rd_str_req(&r, "instance_type");
    a->accelerator = rd_str_req(&r, "accelerator");
    a->acc_count = (int)rd_int(&r, "acc_count", 0);
    a->nodes = (int)rd_int(&r, "nodes", 0);
    a->mode = rd_enum(&r, "mode", plan_mode_name, PLAN_COMMITTED + 1, 0);
    a->price_hour = rd_real(&r, "price_hour");
    a->launched_at = rd_real(&r, "launched_at");
    a->running_at = rd_real(&r, "running_at");
    a->ended_at = rd_real(&r, "ended_at");
    a->end_reason = rd_enum(&r, "end_reason", attempt_end_name, ATT_END__N, ATT_END_NONE);
    a->exit_code = (int)rd_int(&r, "exit_code", -1);
    a->cost = rd_real(&r, "cost");
    a->ckpt_from = rd_int(&r, "ckpt_from", 0);
    a->ckpt_bytes = rd_real(&r, "ckpt_bytes");
    a->ckpt_copy_s = rd_real(&r, "ckpt_copy_s");
    a->egress = rd_real(&r, "egress");
    a->priced_at = rd_real(&r, "priced_at");
    if (rd_done(&r, e) != 0) {
        store_attempt_clear(a);
        memset(a, 0, sizeof(*a));
        return e->code;
    }
    return 0;
}

int apijson_to_event(const json_t *o, struct store_event *out, struct err *e)
{
    struct rd r = {o, "event", NULL};

    memset(out, 0, sizeof(*out));
    out->id = rd_int(&r, "id", 0);
    out->job_id = rd_int(&r, "job_id", 0);
    out->attempt_id = rd_int(&r, "attempt_id", 0);
    out->at = rd_real(&r, "at");
    out->type = rd_str_req(&r, "type");
    out->from_state = rd_enum(&r, "from_state", job_state_name, JOB__NSTATES, -1);
    out->to_state = rd_enum(&r, "to_state", job_state_name, JOB__NSTATES, -1);
    out->msg = rd_str(&r, "msg");
    if (rd_done(&r, e) != 0) {
        free(out->type);
        free(out->msg);
        memset(out, 0, sizeof(*out));
        return e->code;
    }
    return 0;
}

int apijson_to_cost_row(const json_t *o, struct store_cost_row *out, struct err *e)
{
    struct rd r = {o, "cost row", NULL};

    memset(out, 0, sizeof(*out));
    out->key = rd_str_req(&r, "key");
    out->name = rd_str(&r, "name");
    out->usd = rd_real(&r, "usd");
    out->compute_usd = rd_real(&r, "compute_usd");
    out->egress_usd = rd_real(&r, "egress_usd");
    out->node_hours = rd_real(&r, "node_hours");
    out->lost_node_hours = rd_real(&r, "lost_node_hours");
    out->attempts = (int)rd_int(&r, "attempts", 0);
    if (rd_done(&r, e) != 0) {
        free(out->key);
        free(out->name);
        memset(out, 0, sizeof(*out));
        return e->code;
    }
    return 0;
}

/* The ST_E* code named name ("EPARSE"), or 0. */
static int code_by_name(const char *name)
{
    int c;

    for (c = ST__ERR_FIRST + 1; c < ST__ERR_LAST; c++)
        if (strcmp(err_name(c), name) == 0)
            return c;
    return 0;
}

void apijson_to_error(const json_t *o, int http_status, struct err *e)
{
    const json_t *in = json_object_get(o, "error");
    const char *code = json_string_value(json_object_get(in, "code"));
    const char *msg = json_string_value(json_object_get(in, "message"));
    int c = code ? code_by_name(code) : 0;

    if (c == 0)
        c = ST_EINTERNAL;
    if (msg != NULL)
        err_set(e, c, "%s", msg);
    else
        err_set(e, c, "the server answered HTTP %d without an error message",
                http_status);
}

/* ---- text ----
 *
 * apijson_dumps writes what json_dumps(o, JSON_COMPACT) writes, byte for
 * byte (tests/unit/test_apijson.c compares the two on random values), at a
 * fraction of its cost: jansson formats every real with snprintf("%.17g"),
 * a few thousand instructions each, and a job with one attempt has over a
 * dozen; that was a third of a GET /v1/jobs/{id}.  Reals from 1e-4 to 1e17
 * (times, prices, costs) are formatted here with exact integer arithmetic;
 * any other real, and any root that is not an object or an array, goes to
 * jansson itself. */

struct jbuf {
    char *p;
    size_t len, cap;
};

static void jb_grow(struct jbuf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    while (b->len + more > b->cap)
        b->cap = b->cap ? b->cap * 2 : 1024;
    b->p = xrealloc(b->p, b->cap);
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    jb_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void jb_ch(struct jbuf *b, char c)
{
    jb_grow(b, 1);
    b->p[b->len++] = c;
}

/* The digits of v (< 10^20) into end's left; returns where they start. */
static char *u64_digits(char *end, unsigned long long v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

static void jb_int(struct jbuf *b, long long v)
{
    char tmp[24], *end = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *s = u64_digits(end, u);

    if (v < 0)
        *--s = '-';
    jb_put(b, s, (size_t)(end - s));
}

/* A JSON string as jansson escapes it (no ASCII or slash escaping). */
static void jb_str(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;

    jb_grow(b, n + 2);
    b->p[b->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_put(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        esc[1] = c == '"' || c == '\\' ? (char)c
                 : c == '\b'           ? 'b'
                 : c == '\f'           ? 'f'
                 : c == '\n'           ? 'n'
                 : c == '\r'           ? 'r'
                 : c == '\t'           ? 't'
                                       : 'u';
        esc[2] = esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        jb_put(b, esc, esc[1] == 'u' ? 6 : 2);
    }
    jb_put(b, s + run, n - run);
    jb_ch(b, '"');
}

#define P10_16 10000000000000000ULL

__extension__ typedef unsigned __int128 u128; /* GCC and Clang: exact 17 digits */

/* |v| as 17 significant digits, rounded to nearest (ties to even), as
 * %.17g does: *digits in [10^16, 10^17), *exp10 the decimal exponent of
 * the first digit.  0 when done, -1 outside 1e-4 <= |v| < 1e17. */
static int real_digits(double v, unsigned long long *digits, int *exp10)
{
    u128 n, q, r, half;
    int e2, E, k, shift;
    double m = frexp(fabs(v), &e2); /* |v| = m * 2^e2, m in [0.5, 1) */
    unsigned long long mant = (unsigned long long)ldexp(m, 53); /* exact */

    if (!(fabs(v) >= 1e-4 && fabs(v) < 1e17))
        return -1;
    e2 -= 53; /* |v| = mant * 2^e2 */
    E = (int)floor(log10(fabs(v)));
    for (;;) {
        k = 16 - E; /* digits = |v| * 10^k */
        if (k < 0 || k > 21)
            return -1;
        n = mant;
        for (shift = 0; shift < k; shift++)
            n *= 10;
        shift = -e2;
        if (shift <= 0) {
            q = n << -shift;
            r = 0;
            half = 1;
        } else {
            q = n >> shift;
            r = n - (q << shift);
            half = (u128)1 << (shift - 1);
        }
        if (q >= (u128)P10_16 * 10)
            E++; /* log10 guessed low */
        else if (q < P10_16)
            E--; /* or high */
        else
            break;
    }
    if (shift > 0 && (r > half || (r == half && (q & 1))))
        q++;
    if (q == (u128)P10_16 * 10) {
        q = P10_16;
        E++;
    }
    *digits = (unsigned long long)q;
    *exp10 = E;
    return 0;
}

/* A real as jansson writes it: %.17g, with ".0" when that has no '.'. */
static void jb_real(struct jbuf *b, const json_t *r)
{
    double v = json_real_value(r);
    unsigned long long d;
    char dig[24], *s, out[48];
    size_t o = 0, nd, i;
    int E;

    if (v == 0) { /* "%.17g" gives "0" or "-0" */
        jb_put(b, signbit(v) ? "-0.0" : "0.0", signbit(v) ? 4 : 3);
        return;
    }
    if (real_digits(v, &d, &E) != 0 || E > 16 || E < -4) {
        char *t = json_dumps(r, JSON_ENCODE_ANY);

        if (t != NULL)
            jb_put(b, t, strlen(t));
        free(t);
        return;
    }
    s = u64_digits(dig + sizeof(dig), d); /* 17 digits */
    for (nd = 17; nd > 1 && s[nd - 1] == '0'; nd--)
        ; /* %g drops trailing zeros */
    if (v < 0)
        out[o++] = '-';
    if (E < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < (size_t)(-E - 1); i++)
            out[o++] = '0';
        memcpy(out + o, s, nd);
        o += nd;
    } else {
        memcpy(out + o, s, (size_t)E + 1 < nd ? (size_t)E + 1 : nd);
        o += (size_t)E + 1 < nd ? (size_t)E + 1 : nd;
        for (i = nd; i < (size_t)E + 1; i++)
            out[o++] = '0';
        out[o++] = '.';
        if (nd > (size_t)E + 1) {
            memcpy(out + o, s + E + 1, nd - (size_t)E - 1);
            o += nd - (size_t)E - 1;
        } else {
            out[o++] = '0';
        }
    }
    jb_put(b, out, o);
}

static void jb_value(struct jbuf *b, const json_t *v);

static void jb_object(struct jbuf *b, const json_t *o)
{
    const char *key;
    size_t klen;
    json_t *v;
    int first = 1;

    jb_ch(b, '{');
    json_object_keylen_foreach((json_t *)(uintptr_t)o, key, klen, v)
    {
        if (!first)
            jb_ch(b, ',');
        first = 0;
        jb_str(b, key, klen);
        jb_ch(b, ':');
        jb_value(b, v);
    }
    jb_ch(b, '}');
}

static void jb_value(struct jbuf *b, const json_t *v)
{
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        jb_object(b, v);
        break;
    case JSON_ARRAY:
        jb_ch(b, '[');
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                jb_ch(b, ',');
            jb_value(b, json_array_get(v, i));
        }
        jb_ch(b, ']');
        break;
    case JSON_STRING:
        jb_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jb_int(b, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        jb_real(b, v);
        break;
    case JSON_TRUE:
        jb_put(b, "true", 4);
        break;
    case JSON_FALSE:
        jb_put(b, "false", 5);
        break;
    default:
        jb_put(b, "null", 4);
        break;
    }
}

char *apijson_dumps(const json_t *o, size_t *len)
{
    struct jbuf b = {NULL, 0, 0};
    char *t;

    if (!json_is_object(o) && !json_is_array(o)) {
        t = json_dumps(o, JSON_COMPACT);
        *len = t ? strlen(t) : 0;
        return t;
    }
    jb_value(&b, o);
    jb_ch(&b, '\0');
    *len = b.len - 1;
    return b.p;
}
