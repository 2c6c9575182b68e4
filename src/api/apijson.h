/*
 * apijson.h - the JSON shapes of the API, both ways: the server encodes
 * store records for replies, the CLI decodes them to print exactly what it
 * printed when it read the store itself. One codec, so the two never drift.
 * (Field list: docs/api/openapi.yaml.)
 */
#ifndef STRATUS_APIJSON_H
#define STRATUS_APIJSON_H

#include <jansson.h>

#include "../util/err.h"

struct store_attempt;
struct store_cost_row;
struct store_event;
struct store_job;
struct store_service;

/* A job; with its attempts (may be NULL, n 0) as "attempts_detail" and the
 * current one's placement as "placement". now: for an attempt still running,
 * its elapsed time and cost so far. */
json_t *apijson_job(const struct store_job *j, const struct store_attempt *atts, size_t n,
                    double now);
json_t *apijson_attempt(const struct store_attempt *a, double now);
json_t *apijson_event(const struct store_event *ev);
json_t *apijson_cost_row(const struct store_cost_row *r);
/* A service without its texts (spec, policy) and without its keys' digests:
 * "keys" is how many it has (0 = an open endpoint). */
json_t *apijson_service(const struct store_service *s);

struct store_data_replica;
/* Datasets from their replica rows (sorted by dataset, as store_data_list
 * returns them): [{"dataset", "home": {"cloud", "region"}, "size_gb",
 * "egress_usd", "storage_usd", "replicas": [{"cloud", "region", "from",
 * "created_at", "last_used_at", "expired_at", "in_use", "egress_usd",
 * "storage_usd"}]}].  Storage of a replica still kept runs until now. */
json_t *apijson_datasets(const struct store_data_replica *v, size_t n, double now);

/* Decode (out is cleared first; on failure it holds nothing to free). */
int apijson_to_job(const json_t *o, struct store_job *out, struct err *e);
int apijson_to_attempt(const json_t *o, struct store_attempt *out, struct err *e);
int apijson_to_event(const json_t *o, struct store_event *out, struct err *e);
int apijson_to_cost_row(const json_t *o, struct store_cost_row *out, struct err *e);
/* out->keys stays NULL: the digests never travel (read the count as the
 * object's "keys" integer). */
int apijson_to_service(const json_t *o, struct store_service *out, struct err *e);

/* {"error": {"code": "EPARSE", "message": "..."}} */
json_t *apijson_error(const struct err *e);
/* Fill e from an error reply (code from its name; EINTERNAL when unknown). */
void apijson_to_error(const json_t *o, int http_status, struct err *e);

#endif
