/*
 * api.h - the HTTP/JSON API as a table of routes (method, path pattern,
 * least role, handler), dispatched in one place that checks the role
 * (tmux's cmd_entry with CMD_READONLY). Handlers see neither libevent nor
 * sockets: a request in, a reply out, so tests and the fuzzer call
 * api_handle() directly on a srv opened without a loop.
 *
 * Errors are JSON: {"error": {"code": "EPARSE", "message": "spec.yaml:3:5: ..."}}
 * with the same message the CLI prints; HTTP status from the code (EPARSE,
 * EINVAL, EUSAGE 400; ENOTFOUND 404; ETOOBIG 413; ESTATE, EEXISTS 409;
 * EINFEASIBLE 422; others 500; 401 no or bad token; 403 role too low).
 * The routes and bodies are documented in docs/api/openapi.yaml.
 */
#ifndef STRATUS_API_H
#define STRATUS_API_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

struct api_cache;
struct api_series_cache;
struct srv;

struct api_req {
    const char *method;       /* "GET", "POST", "PUT", "DELETE" */
    const char *path;         /* "/v1/jobs/3" (decoded, no query) */
    const char *query;        /* "after=5&limit=100" (raw), or NULL */
    const char *body;         /* not NUL-terminated; NULL when empty */
    size_t body_len;          /* the HTTP layer has already refused > max_body */
    const struct auth_principal *who; /* never NULL; role AUTH_NONE when unauthenticated */
    int no_park;              /* the reply must be made now (a hold ended) */
    const char *if_none_match;/* the If-None-Match header, or NULL (static files) */
    int tls;                  /* it came over HTTPS (a cookie is then Secure) */
    const char *session;      /* the dashboard session the caller came with
                                 (who is then its owner), or NULL */
};

struct api_resp {
    int status;               /* HTTP status */
    char *body;               /* owned (malloc), may be NULL */
    size_t body_len;
    const char *content_type; /* static string; "application/json" by default */
    const char *route;        /* the route's pattern, "GET /v1/jobs/{id}" (static),
                                 or "unmatched": the metrics label */
    /* A streamed reply (logs): after body, the HTTP layer sends the bytes of
     * stream_path from stream_offset as they are written, and ends the
     * reply when stream_follow is 0 and the file is at its end, or when the
     * job stream_job has ended and the file is at its end. */
    char *stream_path;        /* owned; NULL = not streamed */
    long stream_offset;
    int64_t stream_job;
    int stream_follow;
    int stream_node;          /* the node whose log it is (api_log_path) */
    /* A long poll: nothing to say yet; the HTTP layer holds the request up
     * to park_s seconds, asking again at every srv_http_recheck(), and then
     * once more with no_park set. */
    int park;
    double park_s;
    /* The dashboard's static files and login (dashboard.c): body_static
     * says body points at bytes built into the binary (never freed); the
     * rest are headers, each sent when not NULL. */
    int body_static;
    const char *etag;         /* static string, quoted: "\"1f2e...\"" */
    const char *cache_control;/* static string */
    char *location;           /* owned: where a redirect (302, 303) points */
    char *set_cookie;         /* owned: one Set-Cookie value */
};

/* Free the cache of rendered job replies srv->cache (NULL is a no-op). */
void api_cache_free(struct api_cache *c);
/* Free srv->series_cache (NULL is a no-op). */
void api_series_cache_free(struct api_series_cache *c);

/* Answer one request (always fills rp; free with api_resp_clear). */
void api_handle(struct srv *s, const struct api_req *rq, struct api_resp *rp);
void api_resp_clear(struct api_resp *rp);
/* Fill rp with the JSON error for e (status from its code). */
void api_resp_error(struct api_resp *rp, int status, const struct err *e);
/* The log of node `node` of job's latest attempt into buf: what a followed
 * log should read now, since a recovery moves a job to a new attempt (the
 * HTTP layer may look again when it reaches the end of stream_path).
 * ST_ENOTFOUND when the job has no attempt yet or the driver keeps no log. */
int api_log_path(struct srv *s, int64_t job, int node, char *buf, size_t n, struct err *e);

#endif
