/*
 * reqtrace.h - request traces for serving studies: one row per inference
 * request (arrival time, input and output tokens, optionally the user's
 * region, the service and a measured service time), the documented CSV of
 * docs/traces.md ("Request CSV"), and converters from public inference
 * traces (Mooncake, Alibaba GenAI diffusion) into it.
 *
 *   request CSV   arrival_s,input_tokens,output_tokens[,region][,service][,service_s]
 *
 * A week at 50 requests/s is ~30 M requests, so a loaded trace is compact: a
 * 16-byte record per request, plus side arrays only for the optional columns
 * a file has (2 bytes for a region or a service, interned as small indices;
 * 4 for a service time).  Files are read in bounded chunks.
 *
 * Layout: the container and its loaders; the writer; the converters with
 * their options (reqtrace_convert.c).
 */
#ifndef STRATUS_REQTRACE_H
#define STRATUS_REQTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../util/err.h"
#include "../util/hmap.h"

#define REQTRACE_TOKENS_MAX 100000000L /* largest input/output token count accepted */
#define REQTRACE_TIME_MAX 1e9          /* latest arrival (s): about 31 years */
#define REQTRACE_NAMES_MAX 65535       /* distinct regions (or services) in a trace */

/* One request.  Kept at 16 bytes: the optional columns live in side arrays. */
struct reqtrace_req {
    double arrival_s;       /* seconds from time 0; non-decreasing in a trace */
    uint32_t input_tokens;  /* prompt tokens (prefill) */
    uint32_t output_tokens; /* generated tokens (decode); diffusion: see docs */
};

/* A loaded request trace; free with reqtrace_free. */
struct reqtrace {
    struct reqtrace_req *req;
    size_t n, cap;
    uint16_t
        *region; /* per request: 0 = none, k = regions[k-1]; NULL = no request has one */
    uint16_t *service; /* per request: 0 = none, k = services[k-1]; NULL likewise */
    float *service_s;  /* per request: measured service time, < 0 = none; NULL likewise */
    const char **regions;  /* "cloud/region", interned in pool */
    const char **services; /* service names, interned in pool */
    size_t nregions, nservices, regions_cap, services_cap;
    struct strpool pool;
    struct keymap index; /* (interned name, kind) -> its number */
};

void reqtrace_init(struct reqtrace *rt);
void reqtrace_free(struct reqtrace *rt);
/* Append the rows of a request CSV file to rt, checking every row (file:line
 * errors).  On error rt keeps the rows of earlier calls and none of this
 * file's.  Rows of one file must be in time order, and a file's first row may
 * not be earlier than the last row already loaded. */
int reqtrace_load(struct reqtrace *rt, const char *path, struct err *e);
/* The same from n bytes of memory; `name` stands for the file in messages. */
int reqtrace_load_mem(struct reqtrace *rt, const char *name, const char *data, size_t n,
                      struct err *e);
/* The region of request i ("cloud/region"), or NULL when it has none. */
const char *reqtrace_region(const struct reqtrace *rt, size_t i);
/* The service of request i, or NULL when it has none. */
const char *reqtrace_service(const struct reqtrace *rt, size_t i);
/* Measured service time of request i in seconds, or -1 when not given. */
double reqtrace_service_s(const struct reqtrace *rt, size_t i);
/* Append one request; region/service NULL or "" = none, service_s < 0 = none.
 * The caller keeps time order and valid names (converters, tests). */
void reqtrace_add(struct reqtrace *rt, double arrival_s, uint32_t in, uint32_t out,
                  const char *region, const char *service, double service_s);
/* Bytes rt holds for its requests (records and side arrays, not names). */
size_t reqtrace_bytes(const struct reqtrace *rt);
/* Write rt as a request CSV (columns: the required ones and each optional one
 * some request uses).  0, or ST_EIO when out failed. */
int reqtrace_write(const struct reqtrace *rt, FILE *out, struct err *e);

/* Which optional columns a written file has. */
struct reqtrace_cols {
    int region, service, service_s;
};

/* Write the header row, then rows, of a request CSV with those columns (the
 * converters stream rows through these; region/service NULL = empty). */
void reqtrace_put_header(FILE *out, const struct reqtrace_cols *c);
void reqtrace_put_row(FILE *out, const struct reqtrace_cols *c,
                      const struct reqtrace_req *q, const char *region,
                      const char *service, double service_s);

/* ---- converters (reqtrace_convert.c) ---- */

/* One region users send requests from, with its share of the requests. */
struct reqtrace_user {
    char name[256];   /* "cloud/region" as the catalog names it */
    double share;     /* > 0; shares of a list sum to 1 */
    double utc_off_h; /* local solar time = UTC + this (longitude / 15) */
};

#define REQTRACE_USERS_MAX 64

struct reqtrace_conv_opts {
    uint64_t seed;
    const struct reqtrace_user *users; /* NULL = the default mix (needs utc offsets: */
    size_t nusers;                     /* see reqtrace_default_users) */
    double repeat_to_s;  /* > 0: generate this long a trace from the source's shape */
    double rate;         /* with repeat_to_s: mean requests/s; 0 = the source's own */
    const char *service; /* written on every row; NULL = no service column */
};

/* Parse "--users" text: "cloud/region=share,..." (shares > 0, summing to 1
 * within 1e-6).  utc_off_h is left 0 for the caller to fill in. */
int reqtrace_parse_users(const char *s, struct reqtrace_user *u, size_t *n,
                         struct err *e);
/* The documented default mix, as text for reqtrace_parse_users. */
extern const char reqtrace_default_users[];

/* Mooncake JSON lines (timestamp ms, input_length, output_length) -> request CSV. */
int reqtrace_convert_mooncake(const char *in, const struct reqtrace_conv_opts *o,
                              FILE *out, FILE *report, struct err *e);
/* Alibaba GenAI lora_request_trace.csv -> request CSV (rules in docs/traces.md). */
int reqtrace_convert_alibaba(const char *in, const struct reqtrace_conv_opts *o,
                             FILE *out, FILE *report, struct err *e);
/* The source parsers alone, into rt (for tests and the fuzzer): one JSON
 * line (line = its number, for messages), or a whole Alibaba CSV in memory.
 * 1 = kept, 0 = dropped (reason in *why), negative = error. */
int reqtrace_mooncake_line(const char *path, size_t line, const char *text, size_t len,
                           struct reqtrace *rt, const char **why, struct err *e);
int reqtrace_alibaba_mem(const char *name, const char *data, size_t n,
                         struct reqtrace *rt, FILE *report, struct err *e);
/* Assign regions to rt's requests and write it (or its repetition), as the
 * converters do after parsing. */
int reqtrace_emit(struct reqtrace *rt, const struct reqtrace_conv_opts *o, FILE *out,
                  FILE *report, struct err *e);

#endif
