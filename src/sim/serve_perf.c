/*
 * serve_perf.c - the replica performance model (serve_perf_lookup) and the
 * continuous-batching replica (rp_*).
 *
 * Layout: the hardware and model tables, then the rules that turn them into
 * a struct serve_perf (docs/serve-perf.md gives every number's source and
 * the arithmetic), then the replica: a FIFO queue of waiting requests, a
 * FIFO prefill lane and a min-heap of decoding sequences.
 *
 * The replica is a fluid model between events.  All decoding sequences move
 * at the same rate, so instead of each sequence's progress the replica keeps
 * one counter, `dec_tokens`: the tokens a sequence decoding since time 0
 * would have produced.  A sequence that starts decoding at counter value c
 * and needs k tokens finishes when the counter reaches c + k; the heap is
 * keyed by that value, so a change of batch size (which changes the rate of
 * every sequence) costs nothing per sequence.
 */
#include "serve_perf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xmem.h"

/* ---- the tables (sources in docs/serve-perf.md) ---- */

/* One accelerator type, per accelerator (per chip for TPUs). */
struct accel_hw {
    const char *name;       /* catalog name; TPUs: the prefix before the size */
    int tpu_cores_per_chip; /* 0 for GPUs; TPU name suffix / this = chips */
    double mem_gib;         /* memory per accelerator, as in catalog/offers.csv */
    double bw_gbs;          /* memory bandwidth, GB/s */
    double tflops;          /* dense BF16 TFLOP/s */
    double eta_prefill;     /* achieved share of tflops in prefill */
};

/* Prefill efficiency, measured (docs/serve-perf.md, "Prefill"). */
#define ETA_AMPERE 0.63
#define ETA_ADA 0.52
#define ETA_HOPPER 0.36
/* Accelerators without a prefill measurement take the lowest measured
 * value (Hopper's), which errs toward slower prefill. */
#define ETA_OTHER ETA_HOPPER

static const struct accel_hw accel_tab[] = {
    {"A10", 0, 24, 600, 125, ETA_AMPERE},
    {"A100", 0, 40, 1555, 312, ETA_AMPERE},
    {"A100-80GB", 0, 80, 2039, 312, ETA_AMPERE},
    {"L4", 0, 24, 300, 121, ETA_ADA},
    {"L40S", 0, 48, 864, 362, ETA_ADA},
    {"H100", 0, 80, 3350, 989, ETA_HOPPER},
    {"H100-MEGA", 0, 80, 3350, 989, ETA_HOPPER},
    {"H100-NVL", 0, 94, 3900, 835, ETA_HOPPER},
    {"H200", 0, 141, 4800, 989, ETA_HOPPER},
    {"B200", 0, 180, 8000, 2250, ETA_OTHER},
    {"MI300X", 0, 192, 5300, 1307, ETA_OTHER},
    {"tpu-v5litepod", 1, 16, 819, 197, ETA_OTHER},
    {"tpu-v5p", 2, 95, 2765, 459, ETA_OTHER},
    {"tpu-v6e", 1, 32, 1640, 918, ETA_OTHER},
};

/* One model class, served in BF16. */
struct model_cls {
    const char *name;
    const char *alias;
    double params;       /* parameters */
    double kv_bytes_tok; /* KV-cache bytes per token: 2 x layers x kv_heads x
                            head_dim x 2 bytes */
    double seq_bytes;    /* calibrated memory traffic per sequence per step */
    double default_kv;   /* KV tokens the default replica size must hold */
};

static const struct model_cls model_tab[] = {
    {"llama-3.1-8b", "8b", 8.03e9, 131072, 400e6, 8 * 2048},
    {"llama-3.1-70b", "70b", 70.6e9, 327680, 1000e6, 32 * 2048},
};

/* Decode reads the weights at this share of peak bandwidth (calibrated on
 * the A100 batch-1 measurement). */
#define ETA_BW 0.80
/* vLLM defaults: share of accelerator memory it uses; max_num_seqs. */
#define MEM_UTIL 0.90
#define MAX_SEQS 256
/* Token budget of a step with chunked prefill. */
#define CHUNK_TOKENS 2048
/* A replica must hold at least this many tokens of KV cache to count as
 * fitting (one long request); the default size asks for the model's
 * default_kv (a useful batch). */
#define MIN_KV_TOKENS 8192

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void list_known(char *buf, size_t cap)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NELEM(accel_tab) && off < cap; i++) {
        off += (size_t)snprintf(buf + off, cap - off, "%s%s%s", i ? ", " : "",
                                accel_tab[i].name,
                                accel_tab[i].tpu_cores_per_chip ? "-N" : "");
    }
}

/* Find the accelerator; *chips gets a TPU slice's chip count (0 for GPUs). */
static const struct accel_hw *find_accel(const char *name, int *chips)
{
    *chips = 0;
    for (size_t i = 0; i < NELEM(accel_tab); i++) {
        const struct accel_hw *h = &accel_tab[i];
        size_t len = strlen(h->name);
        if (!h->tpu_cores_per_chip) {
            if (strcmp(name, h->name) == 0)
                return h;
            continue;
        }
        if (strncmp(name, h->name, len) != 0 || name[len] != '-')
            continue;
        char *end = NULL;
        long size = strtol(name + len + 1, &end, 10);
        if (*end != '\0' || size < h->tpu_cores_per_chip || size > 100000)
            return NULL;
        *chips = (int)(size / h->tpu_cores_per_chip);
        return h;
    }
    return NULL;
}

static const struct model_cls *find_model(const char *name)
{
    for (size_t i = 0; i < NELEM(model_tab); i++)
        if (strcmp(name, model_tab[i].name) == 0 || strcmp(name, model_tab[i].alias) == 0)
            return &model_tab[i];
    return NULL;
}

static double kv_tokens_on(const struct accel_hw *h, const struct model_cls *m, int n)
{
    double mem = MEM_UTIL * h->mem_gib * 1073741824.0 * n; /* GiB, as the catalog */
    return (mem - 2.0 * m->params) / m->kv_bytes_tok;
}

/* The rules of docs/serve-perf.md, "Derivation". */
static void derive(const struct accel_hw *h, const struct model_cls *m, int n,
                   struct serve_perf *p)
{
    double bw = h->bw_gbs * 1e9 * n, flops = h->tflops * 1e12 * n;
    double flops_tok = 2.0 * m->params;

    p->n_accel = n;
    p->prefill_tps = h->eta_prefill * flops / flops_tok;
    p->step_base_s = 2.0 * m->params / (ETA_BW * bw);
    p->step_seq_s = m->seq_bytes / (ETA_BW * bw) + flops_tok / (h->eta_prefill * flops);
    p->kv_tokens = (long)kv_tokens_on(h, m, n);
    p->max_seqs = MAX_SEQS;
    p->chunk_tokens = CHUNK_TOKENS;
}

/* How many accelerators the replica has: a TPU slice's chips; else n, or
 * for n == 0 the fewest of 1, 2, 4, 8 that hold the model's default_kv
 * (the most there are when none does).  Refuses a model that does not fit. */
static int pick_count(const char *accel, const struct accel_hw *h,
                      const struct model_cls *m, int chips, int n, struct err *e)
{
    if (chips) {
        if (n != 0 && n != chips)
            return err_set(e, ST_EINVAL,
                           "%s is a slice of %d chips, not %d: pass 0 or %d", accel,
                           chips, n, chips);
        n = chips;
    } else if (n == 0) {
        n = 1;
        while (n < 8 && kv_tokens_on(h, m, n) < m->default_kv)
            n *= 2;
    }
    if (n < 1 || n > 4096)
        return err_set(e, ST_EINVAL, "accelerator count %d out of range (1..4096)", n);
    if (kv_tokens_on(h, m, n) < MIN_KV_TOKENS)
        return err_set(
            e, ST_EINVAL,
            "%s (%.0f GB of BF16 weights) does not fit on %s with %d accelerator(s) "
            "of %.0f GiB (%.0f%% usable, room for %d KV tokens needed): use %s",
            m->name, 2.0 * m->params / 1e9, accel, n, h->mem_gib, MEM_UTIL * 100,
            MIN_KV_TOKENS, chips ? "a larger slice" : "more accelerators");
    return n;
}

int serve_perf_lookup(const char *accel, const char *model, int n_accel,
                      struct serve_perf *p, struct err *e)
{
    char known[512];
    int chips = 0;
    const struct accel_hw *h = find_accel(accel, &chips);
    const struct model_cls *m = find_model(model);

    if (!h) {
        list_known(known, sizeof(known));
        return err_set(e, ST_ENOTFOUND,
                       "no performance data for accelerator '%s'; known: %s", accel,
                       known);
    }
    if (!m)
        return err_set(e, ST_ENOTFOUND,
                       "no performance data for model '%s'; known: llama-3.1-8b (8b), "
                       "llama-3.1-70b (70b)",
                       model);
    int n = pick_count(accel, h, m, chips, n_accel, e);
    if (n < 0)
        return n;
    memset(p, 0, sizeof(*p));
    snprintf(p->accel, sizeof(p->accel), "%s", accel);
    snprintf(p->model, sizeof(p->model), "%s", m->name);
    derive(h, m, n, p);
    return 0;
}

double serve_perf_decode_tps(const struct serve_perf *p, int batch)
{
    return 1.0 / (p->step_base_s + (batch < 1 ? 1 : batch) * p->step_seq_s);
}

double serve_perf_decode_agg(const struct serve_perf *p, int batch)
{
    return batch < 1 ? 0.0 : batch * serve_perf_decode_tps(p, batch);
}

/* ---- the replica ---- */

/* An admitted request. */
struct rec {
    struct rp_request req;
    uint64_t seq; /* arrival order at this replica */
    double first_token_s;
    double finish_at; /* dec_tokens value at which it finishes decoding */
};

struct replica {
    struct serve_perf p;
    double now;
    double dec_tokens; /* the shared decode counter (file header) */
    uint64_t next_seq;
    long kv_used; /* KV tokens reserved by admitted requests */

    struct rec *recs; /* max_seqs slots */
    int *free_slots;  /* stack of free slots */
    int nfree;

    struct rp_request *queue; /* waiting requests, a ring */
    size_t q_head, q_len, q_cap;

    int *pf; /* prefill lane: slots in FIFO order, a ring */
    int pf_head, pf_len;
    double pf_left; /* prompt tokens left of the lane's head */

    int *heap; /* decoding slots, min-heap on (finish_at, seq) */
    int nheap;

    /* rp_next_event_time() of the current state, set by every function
     * that changes it: the simulator asks it at each of its events. */
    double next_t;
};

/* Rates in force in the current state.  A step with chunked prefill carries
 * one token for each decoding sequence and fills the rest of the budget
 * with prompt tokens of the lane's head, and takes the decode step time plus
 * the time of those prompt tokens at the prefill rate. */
struct rates {
    double pf_tps;     /* prompt tokens/s of the lane's head; 0 = none */
    double dec_step_s; /* seconds per token of each decoding sequence */
};

static struct rates rates_now(const struct replica *r)
{
    struct rates x = {0.0, INFINITY};
    double dec = r->nheap ? r->p.step_base_s + r->nheap * r->p.step_seq_s : 0.0;

    if (r->pf_len == 0) {
        x.dec_step_s = r->nheap ? dec : INFINITY;
        return x;
    }
    if (r->nheap == 0) {
        x.pf_tps = r->p.prefill_tps; /* exact: no decode shares the steps */
        return x;
    }
    double budget = r->p.chunk_tokens - r->nheap;
    double step = dec + budget / r->p.prefill_tps;
    x.pf_tps = budget / step;
    x.dec_step_s = step;
    return x;
}

static int rec_before(const struct replica *r, int a, int b)
{
    const struct rec *x = &r->recs[a], *y = &r->recs[b];
    return x->finish_at < y->finish_at ||
           (x->finish_at == y->finish_at && x->seq < y->seq);
}

static void heap_push(struct replica *r, int slot)
{
    int i = r->nheap++;

    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!rec_before(r, slot, r->heap[parent]))
            break;
        r->heap[i] = r->heap[parent];
        i = parent;
    }
    r->heap[i] = slot;
}

static int heap_pop(struct replica *r)
{
    int top = r->heap[0], last = r->heap[--r->nheap], i = 0;

    for (;;) {
        int c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && rec_before(r, r->heap[c + 1], r->heap[c]))
            c++;
        if (!rec_before(r, r->heap[c], last))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->nheap)
        r->heap[i] = last;
    return top;
}

static int check_perf(const struct serve_perf *p, struct err *e)
{
    if (!(p->prefill_tps > 0) || !(p->step_base_s >= 0) || !(p->step_seq_s >= 0) ||
        !(p->step_base_s + p->step_seq_s > 0))
        return err_set(e, ST_EINVAL, "replica model: rates must be positive");
    if (p->max_seqs < 1 || p->max_seqs > 1000000 || p->kv_tokens < 1)
        return err_set(e, ST_EINVAL,
                       "replica model: max_seqs and kv_tokens must be >= 1");
    if (p->chunk_tokens <= p->max_seqs)
        return err_set(
            e, ST_EINVAL,
            "replica model: chunk_tokens (%d) must exceed max_seqs (%d) so that "
            "prefill progresses beside a full batch",
            p->chunk_tokens, p->max_seqs);
    return 0;
}

struct replica *rp_new(const struct serve_perf *p, struct err *e)
{
    if (check_perf(p, e) < 0)
        return NULL;
    struct replica *r = xcalloc(1, sizeof(*r));
    int n = p->max_seqs;

    r->p = *p;
    r->recs = xcalloc((size_t)n, sizeof(*r->recs));
    r->free_slots = xmalloc((size_t)n * sizeof(int));
    r->pf = xmalloc((size_t)n * sizeof(int));
    r->heap = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++)
        r->free_slots[i] = n - 1 - i;
    r->nfree = n;
    r->next_t = INFINITY;
    return r;
}

void rp_free(struct replica *r)
{
    if (!r)
        return;
    free(r->recs);
    free(r->free_slots);
    free(r->pf);
    free(r->heap);
    free(r->queue);
    free(r);
}

static void queue_push(struct replica *r, const struct rp_request *req)
{
    if (r->q_len == r->q_cap) {
        size_t ncap = r->q_cap ? 2 * r->q_cap : 16;
        struct rp_request *nq = xmalloc(ncap * sizeof(*nq));
        for (size_t i = 0; i < r->q_len; i++)
            nq[i] = r->queue[(r->q_head + i) % r->q_cap];
        free(r->queue);
        r->queue = nq;
        r->q_cap = ncap;
        r->q_head = 0;
    }
    r->queue[(r->q_head + r->q_len) % r->q_cap] = *req;
    r->q_len++;
}

static long kv_need(const struct rp_request *q)
{
    return (long)q->in_tokens + (long)q->out_tokens;
}

/* Admit waiting requests in FIFO order while the batch has a free slot and
 * the KV cache room for the head's prompt and output (reserved up front; a
 * request larger than the whole cache runs alone). */
static void admit(struct replica *r)
{
    while (r->q_len > 0 && r->nfree > 0) {
        const struct rp_request *q = &r->queue[r->q_head];
        int busy = r->nfree < r->p.max_seqs;
        if (busy && r->kv_used + kv_need(q) > r->p.kv_tokens)
            break;
        int slot = r->free_slots[--r->nfree];
        struct rec *c = &r->recs[slot];
        c->req = *q;
        c->seq = r->next_seq - r->q_len; /* queue entries hold the last q_len seqs */
        c->first_token_s = c->finish_at = 0.0;
        r->kv_used += kv_need(q);
        r->q_head = (r->q_head + 1) % r->q_cap;
        r->q_len--;
        if (r->pf_len == 0)
            r->pf_left = q->in_tokens;
        r->pf[(r->pf_head + r->pf_len) % r->p.max_seqs] = slot;
        r->pf_len++;
    }
}

static void release(struct replica *r, int slot)
{
    r->kv_used -= kv_need(&r->recs[slot].req);
    r->free_slots[r->nfree++] = slot;
}

static void finish(struct replica *r, int slot, rp_done_fn fn, void *ctx)
{
    struct rec *c = &r->recs[slot];
    struct rp_done d = {c->req, c->first_token_s, r->now};

    release(r, slot);
    if (fn)
        fn(ctx, &d);
}

/* The lane's head has its prompt done: its first token is out now. */
static size_t end_prefill(struct replica *r, rp_done_fn fn, void *ctx)
{
    int slot = r->pf[r->pf_head];
    struct rec *c = &r->recs[slot];

    r->pf_head = (r->pf_head + 1) % r->p.max_seqs;
    r->pf_len--;
    r->pf_left = r->pf_len ? r->recs[r->pf[r->pf_head]].req.in_tokens : 0.0;
    c->first_token_s = r->now;
    if (c->req.out_tokens <= 1) {
        finish(r, slot, fn, ctx);
        return 1;
    }
    c->finish_at = r->dec_tokens + (double)(c->req.out_tokens - 1);
    heap_push(r, slot);
    return 0;
}

static void next_times(const struct replica *r, const struct rates *x, double *t_pf,
                       double *t_dec)
{
    *t_pf = r->pf_len ? r->now + r->pf_left / x->pf_tps : INFINITY;
    *t_dec = INFINITY;
    if (r->nheap) {
        double left = r->recs[r->heap[0]].finish_at - r->dec_tokens;
        *t_dec = r->now + (left > 0 ? left : 0.0) * x->dec_step_s;
    }
}

/* Cache the next event time of the state r is in now (r->next_t). */
static void note_next(struct replica *r)
{
    struct rates x = rates_now(r);
    double t_pf, t_dec;

    next_times(r, &x, &t_pf, &t_dec);
    r->next_t = t_pf < t_dec ? t_pf : t_dec;
}

double rp_next_event_time(const struct replica *r)
{
    return r->next_t;
}

/* Move the fluid state to time t, crossing no event. */
static void flow_to(struct replica *r, const struct rates *x, double t)
{
    double dt = t - r->now;

    if (dt <= 0)
        return;
    if (r->pf_len) {
        r->pf_left -= x->pf_tps * dt;
        if (r->pf_left < 0)
            r->pf_left = 0;
    }
    if (r->nheap)
        r->dec_tokens += dt / x->dec_step_s;
    r->now = t;
}

/* Handle the event(s) at the earliest event time; returns finished count. */
static size_t step_event(struct replica *r, double t_pf, double t_dec, rp_done_fn fn,
                         void *ctx)
{
    size_t done = 0;

    if (t_pf <= t_dec)
        done += end_prefill(r, fn, ctx);
    if (t_dec <= t_pf) {
        double at = r->recs[r->heap[0]].finish_at;
        if (at > r->dec_tokens)
            r->dec_tokens = at; /* land exactly on it: no drift over a week */
        while (r->nheap && r->recs[r->heap[0]].finish_at <= r->dec_tokens) {
            finish(r, heap_pop(r), fn, ctx);
            done++;
        }
    }
    admit(r);
    return done;
}

size_t rp_advance(struct replica *r, double until, rp_done_fn fn, void *ctx)
{
    size_t done = 0;

    for (;;) {
        struct rates x = rates_now(r);
        double t_pf, t_dec;
        next_times(r, &x, &t_pf, &t_dec);
        double te = t_pf < t_dec ? t_pf : t_dec;
        if (te > until || te == INFINITY) {
            if (isfinite(until))
                flow_to(r, &x, until);
            note_next(r);
            return done;
        }
        flow_to(r, &x, te);
        r->now = te;
        done += step_event(r, t_pf, t_dec, fn, ctx);
    }
}

static int check_now(const struct replica *r, double now, struct err *e)
{
    if (!isfinite(now) || now < r->now)
        return err_set(e, ST_ESTATE,
                       "replica: time %.9g is before the replica's time %.9g", now,
                       r->now);
    double next = rp_next_event_time(r);
    if (next < now)
        return err_set(e, ST_ESTATE,
                       "replica: an event at %.9g precedes %.9g: call rp_advance first",
                       next, now);
    return 0;
}

int rp_arrive(struct replica *r, double now, const struct rp_request *req, struct err *e)
{
    int rc = check_now(r, now, e);

    if (rc < 0)
        return rc;
    struct rates x = rates_now(r);
    flow_to(r, &x, now);
    queue_push(r, req);
    r->next_seq++;
    admit(r);
    note_next(r);
    return 0;
}

size_t rp_inflight(const struct replica *r)
{
    return r->q_len + rp_running(r);
}

size_t rp_running(const struct replica *r)
{
    return (size_t)(r->p.max_seqs - r->nfree);
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct rec *)a)->seq, y = ((const struct rec *)b)->seq;
    return (x > y) - (x < y);
}

size_t rp_streaming(const struct replica *r, uint64_t *ids, size_t max)
{
    for (int i = 0; i < r->nheap && (size_t)i < max; i++)
        ids[i] = r->recs[r->heap[i]].req.id;
    return (size_t)r->nheap;
}

int rp_abort_all(struct replica *r, double now, struct rp_request **out, size_t *n,
                 struct err *e)
{
    int rc = check_now(r, now, e);

    if (rc < 0)
        return rc;
    size_t nrun = rp_running(r), k = 0;
    struct rec *run = xmalloc((nrun ? nrun : 1) * sizeof(*run));
    for (int i = 0; i < r->pf_len; i++)
        run[k++] = r->recs[r->pf[(r->pf_head + i) % r->p.max_seqs]];
    for (int i = 0; i < r->nheap; i++)
        run[k++] = r->recs[r->heap[i]];
    BUG_ON(k != nrun);
    qsort(run, nrun, sizeof(*run), cmp_seq);
    /* Every admitted request arrived before every waiting one (FIFO). */
    *n = nrun + r->q_len;
    *out = xmalloc((*n ? *n : 1) * sizeof(**out));
    for (size_t i = 0; i < nrun; i++)
        (*out)[i] = run[i].req;
    for (size_t i = 0; i < r->q_len; i++)
        (*out)[nrun + i] = r->queue[(r->q_head + i) % r->q_cap];
    free(run);
    r->now = now;
    r->q_len = r->q_head = 0;
    r->pf_len = r->pf_head = r->nheap = 0;
    r->pf_left = 0;
    r->kv_used = 0;
    r->nfree = r->p.max_seqs;
    for (int i = 0; i < r->p.max_seqs; i++)
        r->free_slots[i] = r->p.max_seqs - 1 - i;
    r->next_t = INFINITY;
    return 0;
}
