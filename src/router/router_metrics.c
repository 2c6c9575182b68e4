/*
 * router_metrics.c - the router's /-/metrics (Prometheus text format 0.0.4)
 * and /-/replicas (its view of the set, JSON).  Everything is read under
 * the router's mutex in one go, so the numbers of one scrape agree.
 *
 * Latency histograms: end to end through the router (arrival to the last
 * byte handed to the client), per replica, per region (the sum of its
 * replicas that are still in the set) and overall.
 */
#include "router_int.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <string.h>

#include "../util/xmem.h"

static void hist(struct evbuffer *out, const char *name, const char *labels,
                 const struct rp_hist *h)
{
    uint64_t cum = 0;
    size_t i;

    for (i = 0; i < RP_NBUCKETS; i++) {
        cum += h->count[i];
        evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
                            labels[0] ? "," : "", rp_buckets[i], (unsigned long long)cum);
    }
    cum += h->count[RP_NBUCKETS];
    evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
                        labels[0] ? "," : "", (unsigned long long)cum);
    evbuffer_add_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name,
                        labels, (unsigned long long)cum);
}

static void counter(struct evbuffer *out, const char *name, const char *help, uint64_t v)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name,
                        name, (unsigned long long)v);
}

static void per_replica(struct rt *rt, struct evbuffer *out)
{
    const struct rp_replica *r;
    char lab[256];

    evbuffer_add_printf(out, "# HELP stratus_router_replica_inflight requests in flight on a "
                             "replica\n# TYPE stratus_router_replica_inflight gauge\n");
    for (r = rt->set.list; r; r = r->next) {
        snprintf(lab, sizeof(lab), "replica=\"%lld\",region=\"%s/%s\",state=\"%s\"",
                 (long long)r->id, r->cloud, r->region, r->removed ? "REMOVED" : r->state_name);
        evbuffer_add_printf(out, "stratus_router_replica_inflight{%s} %u\n", lab, r->inflight);
        evbuffer_add_printf(out, "stratus_router_replica_requests_total{%s} %llu\n", lab,
                            (unsigned long long)r->nreq);
        evbuffer_add_printf(out, "stratus_router_replica_failures_total{%s} %llu\n", lab,
                            (unsigned long long)r->nfail);
        evbuffer_add_printf(out, "stratus_router_replica_ejections_total{%s} %d\n", lab,
                            r->nejections);
    }
    evbuffer_add_printf(out, "# TYPE stratus_router_replica_latency_seconds histogram\n");
    for (r = rt->set.list; r; r = r->next) {
        snprintf(lab, sizeof(lab), "replica=\"%lld\",region=\"%s/%s\"", (long long)r->id,
                 r->cloud, r->region);
        hist(out, "stratus_router_replica_latency_seconds", lab, &r->lat);
    }
}

static void per_region(struct rt *rt, struct evbuffer *out)
{
    const struct rp_replica *r, *q;
    struct rp_hist h;
    char lab[160];
    size_t i;

    evbuffer_add_printf(out, "# TYPE stratus_router_region_latency_seconds histogram\n");
    for (r = rt->set.list; r; r = r->next) {
        for (q = rt->set.list; q != r; q = q->next) /* first of its region only */
            if (strcmp(q->cloud, r->cloud) == 0 && strcmp(q->region, r->region) == 0)
                break;
        if (q != r)
            continue;
        memset(&h, 0, sizeof(h));
        for (q = r; q; q = q->next)
            if (strcmp(q->cloud, r->cloud) == 0 && strcmp(q->region, r->region) == 0) {
                for (i = 0; i <= RP_NBUCKETS; i++)
                    h.count[i] += q->lat.count[i];
                h.sum += q->lat.sum;
            }
        snprintf(lab, sizeof(lab), "region=\"%s/%s\"", r->cloud, r->region);
        hist(out, "stratus_router_region_latency_seconds", lab, &h);
    }
}

void rt_metrics(struct rt *rt, struct evbuffer *out)
{
    size_t i;

    rt_lock(rt);
    evbuffer_add_printf(out, "# HELP stratus_router_requests_total requests answered, by "
                             "status\n# TYPE stratus_router_requests_total counter\n");
    for (i = 0; i < RT_NCODES; i++)
        if (rt->by_code[i])
            evbuffer_add_printf(out, "stratus_router_requests_total{code=\"%zu\"} %llu\n", i,
                                (unsigned long long)rt->by_code[i]);
    evbuffer_add_printf(out, "# TYPE stratus_router_latency_seconds histogram\n");
    hist(out, "stratus_router_latency_seconds", "", &rt->lat);
    counter(out, "stratus_router_retries_total", "attempts repeated on another replica",
            rt->retries);
    counter(out, "stratus_router_overflows_total", "requests sent past the nearest region",
            rt->set.overflows);
    counter(out, "stratus_router_saturated_total", "requests picked with every replica at "
            "its in-flight limit", rt->set.saturated);
    counter(out, "stratus_router_ejections_total", "circuit breaker ejections",
            rt->set.ejections);
    counter(out, "stratus_router_no_replica_total", "requests answered 503: no replica",
            rt->no_replica);
    counter(out, "stratus_router_waited_total", "requests that waited for a replica",
            rt->waited);
    counter(out, "stratus_router_client_aborts_total", "clients gone before the reply ended",
            rt->client_aborts);
    counter(out, "stratus_router_upstream_errors_total", "failed attempts on replicas",
            rt->upstream_errors);
    counter(out, "stratus_router_reloads_total", "replica sets applied", rt->reloads);
    counter(out, "stratus_router_reload_errors_total", "replica sets refused", rt->reload_errors);
    evbuffer_add_printf(out, "# TYPE stratus_router_replica_set_version gauge\n"
                             "stratus_router_replica_set_version %lld\n",
                        (long long)rt->set.version);
    evbuffer_add_printf(out, "# TYPE stratus_router_replicas_ready gauge\n"
                             "stratus_router_replicas_ready %zu\n", rp_nready(&rt->set));
    per_replica(rt, out);
    per_region(rt, out);
    rt_unlock(rt);
}

char *rt_replicas_json(struct rt *rt)
{
    json_t *arr = json_array(), *root;
    const struct rp_replica *r;
    char *s, *region;

    rt_lock(rt);
    for (r = rt->set.list; r; r = r->next) {
        region = xasprintf("%s/%s", r->cloud, r->region);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:b, s:i, s:i, s:f, s:I, s:I,"
                                             " s:b}",
                                             "id", (json_int_t)r->id, "url", r->url, "region",
                                             region, "state", r->state_name, "removed",
                                             r->removed, "inflight", (int)r->inflight, "limit",
                                             r->limit, "rtt_ms", r->rtt_ms < 1e8 ? r->rtt_ms : -1.0,
                                             "requests", (json_int_t)r->nreq, "failures",
                                             (json_int_t)r->nfail, "ejected",
                                             rt_now() < r->ejected_until));
        free(region);
    }
    root = json_pack("{s:s, s:I, s:o}", "service", rt->set.service ? rt->set.service : "",
                     "version", (json_int_t)rt->set.version, "replicas", arr);
    rt_unlock(rt);
    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}
