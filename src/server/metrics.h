/*
 * metrics.h - the server's metrics in Prometheus text format (0.0.4):
 * counters and histograms the server feeds as things happen, and gauges
 * read from the store and the controller when /metrics is scraped.
 * Series (all prefixed stratus_): jobs{state}, transitions_total,
 * placements_total{cloud,region,mode}, spend_usd_total{cloud},
 * driver_errors_total{driver}, api_requests_total{route,code},
 * api_request_seconds{route} (histogram), controller_step_seconds
 * (histogram), controller_steps_total, controller_step_failures_total,
 * up, build_info{version}, start_time_seconds, metrics_store_read_seconds
 * (what the last scrape spent reading the store).  Driver errors are the
 * failures fed here plus the attempts a driver failed to launch or lost.
 */
#ifndef STRATUS_METRICS_H
#define STRATUS_METRICS_H

#include <stddef.h>

struct srv;
struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* One API request answered: route is api_resp.route (static string). */
void metrics_api(struct metrics *m, const char *route, int status, double seconds);
/* One controller step and how long it took. */
void metrics_step(struct metrics *m, double seconds, int ok);
/* A driver call failed (driver instance name). */
void metrics_driver_error(struct metrics *m, const char *driver);
/* The whole exposition, NUL-terminated (*len without the NUL); caller
 * frees.  s may be NULL (only what m was fed).  Reads the store: the cost
 * is O(active jobs + records new or ended since the last scrape). */
char *metrics_render(struct metrics *m, struct srv *s, size_t *len);

#endif
