/*
 * rows.c - the row code the SQL backends share (see rows.h): each record
 * type's fields bound and read in the order of its column list, through the
 * backend's per-value calls; and the row types (size, reader, free) that the
 * backends' fetch loops take.
 */
#include "rows.h"
#include "../util/xmem.h"

#include <stdlib.h>
#include <string.h>

static void b_int(struct rows_binder *b, int64_t v)
{
    b->ops->i64(b, v);
}

static void b_id(struct rows_binder *b, int64_t v)
{
    b->ops->id(b, v);
}

static void b_dbl(struct rows_binder *b, double v)
{
    b->ops->dbl(b, v);
}

static void b_text(struct rows_binder *b, const char *s)
{
    b->ops->text(b, s);
}

static int64_t r_int(struct rows_reader *r)
{
    return r->ops->i64(r);
}

static double r_dbl(struct rows_reader *r)
{
    return r->ops->dbl(r);
}

static char *r_text(struct rows_reader *r)
{
    return r->ops->text(r);
}

static unsigned char *r_blob(struct rows_reader *r, size_t *len)
{
    return r->ops->blob(r, len);
}

void rows_bind_job(struct rows_binder *b, const struct store_job *j)
{
    b_text(b, j->name);
    b_text(b, j->spec_path);
    b_int(b, j->kind);
    b_text(b, j->team);
    b_int(b, j->priority);
    b_int(b, j->state);
    b_text(b, j->reason);
    b_dbl(b, j->submitted_at);
    b_dbl(b, j->started_at);
    b_dbl(b, j->ended_at);
    b_dbl(b, j->next_try_at);
    b_dbl(b, j->deadline_at);
    b_int(b, j->restarts);
    b_int(b, j->nattempts);
    b_id(b, j->cur_attempt);
    b_int(b, j->on_demand_only);
    b_dbl(b, j->work_done_s);
    b_dbl(b, j->cost);
    b_int(b, j->exit_code);
    b_int(b, j->cancel_requested);
    b_int(b, j->service_id);
    b_int(b, j->svc_version);
    b_int(b, j->port);
    b_int(b, j->svc_mode);
    b_int(b, j->group_id);
    b_int(b, j->stage);
    b_int(b, j->group_mode);
    b_int(b, j->group_primary);
    b_text(b, j->group_name);
}

void rows_read_job(struct rows_reader *r, void *row)
{
    struct store_job *j = row;

    j->id = r_int(r);
    j->name = r_text(r);
    j->spec_path = r_text(r);
    j->kind = (int)r_int(r);
    j->team = r_text(r);
    j->priority = (int)r_int(r);
    j->state = (int)r_int(r);
    j->reason = r_text(r);
    j->submitted_at = r_dbl(r);
    j->started_at = r_dbl(r);
    j->ended_at = r_dbl(r);
    j->next_try_at = r_dbl(r);
    j->deadline_at = r_dbl(r);
    j->restarts = (int)r_int(r);
    j->nattempts = (int)r_int(r);
    j->cur_attempt = r_int(r);
    j->on_demand_only = (int)r_int(r);
    j->work_done_s = r_dbl(r);
    j->cost = r_dbl(r);
    j->exit_code = (int)r_int(r);
    j->cancel_requested = (int)r_int(r);
    j->service_id = r_int(r);
    j->svc_version = (int)r_int(r);
    j->port = (int)r_int(r);
    j->svc_mode = (int)r_int(r);
    j->group_id = r_int(r);
    j->stage = (int)r_int(r);
    j->group_mode = (int)r_int(r);
    j->group_primary = (int)r_int(r);
    j->group_name = r_text(r);
    j->spec_text = r_text(r);
    j->policy_text = r_text(r);
}

void rows_bind_attempt(struct rows_binder *b, const struct store_attempt *a)
{
    b_int(b, a->job_id);
    b_int(b, a->n);
    b_int(b, a->state);
    b_text(b, a->cloud);
    b_text(b, a->region);
    b_text(b, a->zone);
    b_text(b, a->instance_type);
    b_text(b, a->accelerator);
    b_int(b, a->acc_count);
    b_int(b, a->nodes);
    b_int(b, a->mode);
    b_dbl(b, a->price_hour);
    b_dbl(b, a->launched_at);
    b_dbl(b, a->running_at);
    b_dbl(b, a->ended_at);
    b_int(b, a->end_reason);
    b_int(b, a->exit_code);
    b_dbl(b, a->cost);
    b_id(b, a->ckpt_from);
    b_dbl(b, a->ckpt_bytes);
    b_dbl(b, a->ckpt_copy_s);
    b_dbl(b, a->priced_at);
    b_dbl(b, a->egress);
    b_dbl(b, a->backfill_spot);
    b_dbl(b, a->list_hour);
}

void rows_read_attempt(struct rows_reader *r, void *row)
{
    struct store_attempt *a = row;

    a->id = r_int(r);
    a->job_id = r_int(r);
    a->n = (int)r_int(r);
    a->state = (int)r_int(r);
    a->cloud = r_text(r);
    a->region = r_text(r);
    a->zone = r_text(r);
    a->instance_type = r_text(r);
    a->accelerator = r_text(r);
    a->acc_count = (int)r_int(r);
    a->nodes = (int)r_int(r);
    a->mode = (int)r_int(r);
    a->price_hour = r_dbl(r);
    a->launched_at = r_dbl(r);
    a->running_at = r_dbl(r);
    a->ended_at = r_dbl(r);
    a->end_reason = (int)r_int(r);
    a->exit_code = (int)r_int(r);
    a->cost = r_dbl(r);
    a->ckpt_from = r_int(r);
    a->ckpt_bytes = r_dbl(r);
    a->ckpt_copy_s = r_dbl(r);
    a->priced_at = r_dbl(r);
    a->egress = r_dbl(r);
    a->backfill_spot = (float)r_dbl(r);
    a->list_hour = r_dbl(r);
}

void rows_read_node(struct rows_reader *r, void *row)
{
    struct store_node *nd = row;

    nd->attempt_id = r_int(r);
    nd->rank = (int)r_int(r);
    nd->state = (int)r_int(r);
    nd->exit_code = (int)r_int(r);
    nd->started_at = r_dbl(r);
    nd->ended_at = r_dbl(r);
}

void rows_read_event(struct rows_reader *r, void *row)
{
    struct store_event *ev = row;

    ev->id = r_int(r);
    ev->job_id = r_int(r);
    ev->attempt_id = r_int(r);
    ev->at = r_dbl(r);
    ev->type = r_text(r);
    ev->from_state = (int)r_int(r);
    ev->to_state = (int)r_int(r);
    ev->msg = r_text(r);
}

void rows_read_ckpt(struct rows_reader *r, void *row)
{
    struct store_checkpoint *c = row;

    c->id = r_int(r);
    c->job_id = r_int(r);
    c->attempt_id = r_int(r);
    c->path = r_text(r);
    c->bytes = r_dbl(r);
    c->at = r_dbl(r);
}

void rows_read_request(struct rows_reader *r, void *row)
{
    struct store_request *q = row;

    q->id = r_int(r);
    q->at = r_dbl(r);
    q->kind = r_text(r);
    q->arg = r_text(r);
}

void rows_read_block(struct rows_reader *r, void *row)
{
    struct store_block *bl = row;

    bl->cloud = r_text(r);
    bl->region = r_text(r);
    bl->zone = r_text(r);
    bl->instance_type = r_text(r);
    bl->until = r_dbl(r);
    bl->reason = r_text(r);
    bl->accelerator = r_text(r);
}

void rows_bind_block(struct rows_binder *b, const struct store_block *bl)
{
    b_text(b, bl->cloud);
    b_text(b, bl->region);
    b_text(b, bl->zone);
    b_text(b, bl->instance_type);
    b_dbl(b, bl->until);
    b_text(b, bl->reason);
    b_text(b, bl->accelerator ? bl->accelerator : "");
}

void rows_read_cost_row(struct rows_reader *r, void *row)
{
    struct store_cost_row *c = row;

    c->key = r_text(r);
    c->usd = r_dbl(r);
    c->node_hours = r_dbl(r);
    c->lost_node_hours = r_dbl(r);
    c->attempts = (int)r_int(r);
    c->egress_usd = r_dbl(r);
    c->compute_usd = c->usd - c->egress_usd;
    c->name = r_text(r);
}

void rows_read_token(struct rows_reader *r, void *row)
{
    struct store_token *t = row;

    t->id = r_int(r);
    t->name = r_text(r);
    t->role = r_text(r);
    t->hash = r_text(r);
    t->created_at = r_dbl(r);
    t->revoked_at = r_dbl(r); /* NULL (live) reads as 0 */
    t->user = r_text(r);
}

void rows_read_setting(struct rows_reader *r, void *row)
{
    *(char **)row = r_text(r);
}

void rows_bind_service(struct rows_binder *b, const struct store_service *sv)
{
    b_text(b, sv->name);
    b_text(b, sv->spec_path);
    b_text(b, sv->spec_text);
    b_text(b, sv->policy_text);
    b_int(b, sv->version);
    b_int(b, sv->state);
    b_text(b, sv->reason);
    b_dbl(b, sv->created_at);
    b_dbl(b, sv->updated_at);
    b_dbl(b, sv->ended_at);
    b_int(b, sv->target);
    b_text(b, sv->keys);
    b_text(b, sv->key_info);
    b_text(b, sv->team);
}

void rows_read_service(struct rows_reader *r, void *row)
{
    struct store_service *sv = row;

    sv->id = r_int(r);
    sv->name = r_text(r);
    sv->spec_path = r_text(r);
    sv->spec_text = r_text(r);
    sv->policy_text = r_text(r);
    sv->version = (int)r_int(r);
    sv->state = (int)r_int(r);
    sv->reason = r_text(r);
    sv->created_at = r_dbl(r);
    sv->updated_at = r_dbl(r);
    sv->ended_at = r_dbl(r);
    sv->target = (int)r_int(r);
    sv->keys = r_text(r);
    sv->key_info = r_text(r);
    sv->team = r_text(r);
}

void rows_read_secret(struct rows_reader *r, void *row)
{
    struct store_secret *v = row;

    v->team = r_text(r);
    v->name = r_text(r);
    v->ciphertext = r_blob(r, &v->ciphertext_len);
    v->nonce = r_blob(r, &v->nonce_len);
    v->created_at = r_dbl(r);
    v->updated_at = r_dbl(r);
}

void rows_read_data(struct rows_reader *r, void *row)
{
    struct store_data_replica *v = row;

    v->dataset = r_text(r);
    v->cloud = r_text(r);
    v->region = r_text(r);
    v->src_cloud = r_text(r);
    v->src_region = r_text(r);
    v->home = (int)r_int(r);
    v->in_use = (int)r_int(r);
    v->size_gb = r_dbl(r);
    v->created_at = r_dbl(r);
    v->last_used_at = r_dbl(r);
    v->expired_at = r_dbl(r);
    v->egress = r_dbl(r);
    v->storage_gb_month = r_dbl(r);
    v->job_id = r_int(r);
    v->attempt_id = r_int(r);
    v->via = r_text(r);
}

void rows_bind_node(struct rows_binder *b, const struct store_node *nd)
{
    b_int(b, nd->attempt_id);
    b_int(b, nd->rank);
    b_int(b, nd->state);
    b_int(b, nd->exit_code);
    b_dbl(b, nd->started_at);
    b_dbl(b, nd->ended_at);
}

/* A missing source is "" (the home copy). */
void rows_bind_data(struct rows_binder *b, const struct store_data_replica *v)
{
    b_text(b, v->dataset);
    b_text(b, v->cloud);
    b_text(b, v->region);
    b_text(b, v->src_cloud ? v->src_cloud : "");
    b_text(b, v->src_region ? v->src_region : "");
    b_int(b, v->home);
    b_int(b, v->in_use);
    b_dbl(b, v->size_gb);
    b_dbl(b, v->created_at);
    b_dbl(b, v->last_used_at);
    b_dbl(b, v->expired_at);
    b_dbl(b, v->egress);
    b_dbl(b, v->storage_gb_month);
    b_int(b, v->job_id);
    b_int(b, v->attempt_id);
    b_text(b, v->via ? v->via : "");
}

/* ---- row types ----------------------------------------------------------------- */

static void free_jobs(void *v, size_t n)
{
    store_jobs_free(v, n);
}

static void free_attempts(void *v, size_t n)
{
    store_attempts_free(v, n);
}

static void free_plain(void *v, size_t n)
{
    (void)n;
    free(v);
}

static void free_events(void *v, size_t n)
{
    store_events_free(v, n);
}

static void free_ckpts(void *v, size_t n)
{
    store_checkpoints_free(v, n);
}

static void free_requests(void *v, size_t n)
{
    store_requests_free(v, n);
}

static void free_blocks(void *v, size_t n)
{
    store_blocks_free(v, n);
}

static void free_cost_rows(void *v, size_t n)
{
    store_cost_rows_free(v, n);
}

static void free_tokens(void *v, size_t n)
{
    store_tokens_free(v, n);
}

static void free_settings(void *v, size_t n)
{
    char **p = v;
    size_t i;

    for (i = 0; i < n; i++)
        free(p[i]);
    free(v);
}

static void free_services(void *v, size_t n)
{
    store_services_free(v, n);
}

static void free_secrets(void *v, size_t n)
{
    store_secrets_free(v, n);
}

static void free_data(void *v, size_t n)
{
    store_data_replicas_free(v, n);
}

const struct rows_type rows_jobs = {sizeof(struct store_job), rows_read_job, free_jobs};
const struct rows_type rows_attempts = {sizeof(struct store_attempt), rows_read_attempt,
                                        free_attempts};
const struct rows_type rows_nodes = {sizeof(struct store_node), rows_read_node,
                                     free_plain};
const struct rows_type rows_events = {sizeof(struct store_event), rows_read_event,
                                      free_events};
const struct rows_type rows_ckpts = {sizeof(struct store_checkpoint), rows_read_ckpt,
                                     free_ckpts};
const struct rows_type rows_requests = {sizeof(struct store_request), rows_read_request,
                                        free_requests};
const struct rows_type rows_blocks = {sizeof(struct store_block), rows_read_block,
                                      free_blocks};
const struct rows_type rows_cost_rows = {sizeof(struct store_cost_row),
                                         rows_read_cost_row, free_cost_rows};
const struct rows_type rows_tokens = {sizeof(struct store_token), rows_read_token,
                                      free_tokens};
const struct rows_type rows_settings = {sizeof(char *), rows_read_setting, free_settings};
const struct rows_type rows_services = {sizeof(struct store_service), rows_read_service,
                                        free_services};
const struct rows_type rows_secrets = {sizeof(struct store_secret), rows_read_secret,
                                       free_secrets};
const struct rows_type rows_data = {sizeof(struct store_data_replica), rows_read_data,
                                    free_data};

int rows_one(void *v, size_t n, size_t size, void *row)
{
    BUG_ON(n > 1); /* by a primary or unique key, or LIMIT 1 */
    if (n == 1)
        memcpy(row, v, size);
    free(v);
    return n == 0;
}

int rows_service_name_free(const struct store_service *sv, struct store_service *live,
                           size_t n, struct err *e)
{
    if (live != NULL)
        store_services_free(live, n);
    if (n == 0)
        return 0;
    return err_set(e, ST_EEXISTS,
                   "a service named '%s' is already up; take it down first or pick "
                   "another name",
                   sv->name);
}
