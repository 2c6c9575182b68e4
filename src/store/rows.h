/*
 * rows.h - the row code the SQL backends share (sqlite.c, pgstore.c): the
 * column list of each record type and the functions that walk a record's
 * fields in that order, binding them as statement parameters or filling
 * them from a result row.  A backend supplies the per-value calls (an int,
 * an id where 0 is NULL, a double, a text, a blob) as a small const table;
 * the order of the fields is written once, here.
 *
 * Conventions, as every SQL backend stores records: an id of 0 ("none") is
 * NULL so that foreign keys hold; NULL strings are NULL; enums are their
 * numbers (store.h).  Readers return owned copies (NULL for NULL).
 */
#ifndef STRATUS_STORE_ROWS_H
#define STRATUS_STORE_ROWS_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Column lists, in the order rows_bind_*() and rows_read_*() walk them. */
#define ROWS_JOB_COLS                                                                    \
    "name, spec_path, kind, team, priority, state, reason, "                             \
    "submitted_at, started_at, ended_at, next_try_at, deadline_at, restarts, "           \
    "nattempts, cur_attempt, on_demand_only, work_done_s, cost, exit_code, "             \
    "cancel_requested, service_id, svc_version, port, svc_mode, group_id, stage, "       \
    "group_mode, group_primary, group_name"
#define ROWS_JOB_NCOLS 29
#define ROWS_ATT_COLS                                                                    \
    "job_id, n, state, cloud, region, zone, instance_type, accelerator, acc_count, "     \
    "nodes, mode, price_hour, launched_at, running_at, ended_at, end_reason, "           \
    "exit_code, cost, ckpt_from, ckpt_bytes, ckpt_copy_s, priced_at, egress, "           \
    "backfill_spot, list_hour"
#define ROWS_ATT_NCOLS 25
#define ROWS_NODE_COLS "attempt_id, rank, state, exit_code, started_at, ended_at"
#define ROWS_EVENT_COLS "id, job_id, attempt_id, at, type, from_state, to_state, msg"
#define ROWS_CKPT_COLS "id, job_id, attempt_id, path, bytes, at"
#define ROWS_BLOCK_COLS "cloud, region, zone, instance_type, until, reason, accelerator"
#define ROWS_TOKEN_COLS "id, name, role, hash, created_at, revoked_at, user_name"
#define ROWS_SVC_COLS                                                                    \
    "name, spec_path, spec_text, policy_text, version, state, reason, created_at, "      \
    "updated_at, ended_at, target, api_keys, api_key_info, team"
#define ROWS_SVC_NCOLS 14
#define ROWS_DATA_COLS                                                                   \
    "dataset, cloud, region, src_cloud, src_region, home, in_use, size_gb, created_at, " \
    "last_used_at, expired_at, egress, storage_gb_month, job_id, attempt_id, via"
#define ROWS_DATA_NCOLS 16

struct rows_binder;
struct rows_reader;

/* How a backend binds one value (the next parameter). */
struct rows_binder_ops {
    void (*i64)(struct rows_binder *b, int64_t v);
    void (*id)(struct rows_binder *b, int64_t v); /* 0 = none: NULL */
    void (*dbl)(struct rows_binder *b, double v);
    void (*text)(struct rows_binder *b, const char *s); /* NULL stays NULL */
    void (*blob)(struct rows_binder *b, const void *p, size_t n);
};

/* The first member of a backend's binder. */
struct rows_binder {
    const struct rows_binder_ops *ops;
};

/* How a backend reads one value (the next column). */
struct rows_reader_ops {
    int64_t (*i64)(struct rows_reader *r); /* NULL reads as 0 */
    double (*dbl)(struct rows_reader *r);  /* NULL reads as 0 */
    char *(*text)(struct rows_reader *r);  /* an owned copy, NULL for NULL */
    /* an owned copy into *len bytes; NULL (len 0) for NULL or empty */
    unsigned char *(*blob)(struct rows_reader *r, size_t *len);
};

/* The first member of a backend's reader. */
struct rows_reader {
    const struct rows_reader_ops *ops;
};

/* Bind a record's columns (ROWS_*_COLS order; not its id). */
void rows_bind_job(struct rows_binder *b, const struct store_job *j);
void rows_bind_attempt(struct rows_binder *b, const struct store_attempt *a);
void rows_bind_node(struct rows_binder *b, const struct store_node *nd);
void rows_bind_block(struct rows_binder *b, const struct store_block *bl);
void rows_bind_service(struct rows_binder *b, const struct store_service *sv);
void rows_bind_data(struct rows_binder *b, const struct store_data_replica *v);

/* Fill the zeroed record at row from the columns a backend's SELECT gives:
 * job: id, ROWS_JOB_COLS, spec_text, policy_text; attempt and service: id
 * then their columns; the others exactly their column lists (a cost row:
 * key, usd, node hours, lost node hours, attempts, egress, name; a secret:
 * team, name, ciphertext, nonce, created_at, updated_at; a request: id, at,
 * kind, arg; a setting: its value, into a char *). */
void rows_read_job(struct rows_reader *r, void *row);
void rows_read_attempt(struct rows_reader *r, void *row);
void rows_read_node(struct rows_reader *r, void *row);
void rows_read_event(struct rows_reader *r, void *row);
void rows_read_ckpt(struct rows_reader *r, void *row);
void rows_read_request(struct rows_reader *r, void *row);
void rows_read_block(struct rows_reader *r, void *row);
void rows_read_cost_row(struct rows_reader *r, void *row);
void rows_read_token(struct rows_reader *r, void *row);
void rows_read_setting(struct rows_reader *r, void *row);
void rows_read_service(struct rows_reader *r, void *row);
void rows_read_secret(struct rows_reader *r, void *row);
void rows_read_data(struct rows_reader *r, void *row);

/* A lookup by a unique key gave v (n rows of size bytes, as a query's
 * fetch returns them): its row into *row and v freed (the row's strings
 * are *row's now), 0; no row: v freed, 1 (the caller says what is
 * missing).  More than one row is a bug of the query. */
int rows_one(void *v, size_t n, size_t size, void *row);
/* The live services (n) that have sv's name, other than sv, freed: none
 * is 0, any is ST_EEXISTS (one live service per name).  live may be NULL
 * (the in-memory store counts them without a copy). */
int rows_service_name_free(const struct store_service *sv, struct store_service *live,
                           size_t n, struct err *e);

/* How to read rows of one record type and free them again. */
struct rows_type {
    size_t size;
    void (*read)(struct rows_reader *r, void *row);
    void (*free_all)(void *v, size_t n);
};

extern const struct rows_type rows_jobs, rows_attempts, rows_nodes, rows_events,
    rows_ckpts, rows_requests, rows_blocks, rows_cost_rows, rows_tokens, rows_settings,
    rows_services, rows_secrets, rows_data;

#endif
