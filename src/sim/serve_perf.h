/*
 * serve_perf.h - the replica performance model of the simulator's services:
 * how fast one replica serves LLM requests, and a continuous-batching
 * replica that turns arrivals into time-to-first-token and end-to-end times.
 *
 * A replica is one instance of a model on the accelerators of one replica
 * (tensor parallel across them): "llama-3.1-70b on 4 x H100".  Its
 * parameters (struct serve_perf) come from serve_perf_lookup(), which
 * derives them from public measurements by the rules docs/serve-perf.md
 * states; tests and studies may also fill the struct themselves.
 *
 * The replica is a pure library: no I/O, no clock.  The caller owns virtual
 * time and passes it in; rp_next_event_time() says when the replica next
 * changes state on its own, and rp_advance() runs it up to a time, handing
 * each finished request to a callback.  Every event costs O(log B) for a
 * batch of B sequences; a queued request costs 24 bytes, an admitted one 56.
 */
#ifndef STRATUS_SERVE_PERF_H
#define STRATUS_SERVE_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* How one replica of one model performs.  Decode is a step model: a step
 * advances every sequence in the batch by one token and takes
 * step_base_s + B * step_seq_s for a batch of B; prefill runs at
 * prefill_tps when the replica does nothing else (see rp_* for sharing). */
struct serve_perf {
    char accel[32];     /* accelerator, as the catalog names it ("H100") */
    char model[32];     /* model class ("llama-3.1-8b") */
    int n_accel;        /* accelerators (TPU: chips) the replica runs on */
    double prefill_tps; /* prompt tokens/s of the whole replica */
    double step_base_s; /* decode step time at batch 0: reading the weights */
    double step_seq_s;  /* added step time per sequence in the batch */
    long kv_tokens;     /* KV-cache capacity, tokens (prompt + output) */
    int max_seqs;       /* most sequences admitted at once (max_num_seqs) */
    int chunk_tokens;   /* token budget of one step (chunked prefill);
                           must exceed max_seqs */
};

/* Fill *p for `model` ("llama-3.1-8b", "llama-3.1-70b", or "8b"/"70b") on
 * n_accel accelerators of type `accel` (a catalog accelerator name; a TPU
 * name such as "tpu-v5litepod-8" is a whole slice, n_accel 0 or its chip
 * count).  n_accel 0 picks the fewest of 1, 2, 4, 8 whose KV cache holds a
 * useful batch (8B: 8 sequences of 2,048 tokens; 70B: 32).
 * Errors: ST_ENOTFOUND for an unknown accelerator or model (the message
 * lists the known ones), ST_EINVAL when the model does not fit. */
int serve_perf_lookup(const char *accel, const char *model, int n_accel,
                      struct serve_perf *p, struct err *e);

/* Decode tokens/s of one sequence when `batch` sequences decode together. */
double serve_perf_decode_tps(const struct serve_perf *p, int batch);

/* Decode tokens/s of the replica (all sequences) at batch `batch`. */
double serve_perf_decode_agg(const struct serve_perf *p, int batch);

/* A request as the replica sees it; `id` is the caller's. */
struct rp_request {
    uint64_t id;
    double arrival_s;    /* when the request reached this replica */
    uint32_t in_tokens;  /* prompt length */
    uint32_t out_tokens; /* tokens to generate (the first comes from prefill) */
};

/* A finished request. */
struct rp_done {
    struct rp_request req;
    double first_token_s; /* TTFT = first_token_s - req.arrival_s */
    double done_s;        /* end-to-end = done_s - req.arrival_s */
};

typedef void (*rp_done_fn)(void *ctx, const struct rp_done *d);

struct replica;

/* A new idle replica at virtual time 0 with a copy of *p; rp_free frees it.
 * Returns NULL and sets e (ST_EINVAL) when *p is not usable. */
struct replica *rp_new(const struct serve_perf *p, struct err *e);
void rp_free(struct replica *r);

/* A request arrives at `now`.  The replica must have been advanced to now:
 * ST_ESTATE when now is before its time or before rp_next_event_time(). */
int rp_arrive(struct replica *r, double now, const struct rp_request *req, struct err *e);

/* Run the replica up to `until` (>= its time), calling fn(ctx, done) for
 * every request that finishes by then, in time order (ties: in the order
 * they were admitted).  fn must not call back into r.  Returns how many
 * finished. */
size_t rp_advance(struct replica *r, double until, rp_done_fn fn, void *ctx);

/* When the replica next changes state by itself (a prefill or a request
 * ends); INFINITY when it is idle. */
double rp_next_event_time(const struct replica *r);

/* Requests at the replica: queued, prefilling or decoding. */
size_t rp_inflight(const struct replica *r);
/* Of those, admitted to the batch (prefilling or decoding). */
size_t rp_running(const struct replica *r);

/* The replica is lost at `now` (preemption): every request still at it is
 * dropped and returned in *out (caller frees), in arrival order, so that a
 * router can retry them.  Same precondition on now as rp_arrive.  The
 * replica is empty afterwards and may take new requests. */
int rp_abort_all(struct replica *r, double now, struct rp_request **out, size_t *n,
                 struct err *e);

/* The ids of the requests at the replica whose first token is out (they
 * are decoding: a router that loses the replica cannot retry them), at most
 * max of them into ids; returns how many there are. */
size_t rp_streaming(const struct replica *r, uint64_t *ids, size_t max);

#endif
