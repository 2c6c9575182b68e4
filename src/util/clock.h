/*
 * clock.h - time as a replaceable pointer (SQLite's aSyscall[] idea): the
 * controller asks a struct clock for the time and never calls time() or
 * sleep() itself, so the simulator can drive the same code in virtual time.
 */
#ifndef STRATUS_CLOCK_H
#define STRATUS_CLOCK_H

struct clock {
    /* Seconds since the Unix epoch, as a double (sub-second precision). */
    double (*now)(void *ctx);
    void *ctx;
};

/* The wall clock (CLOCK_REALTIME). */
extern const struct clock clock_wall;

static inline double clock_now(const struct clock *c)
{
    return c->now(c->ctx);
}

/* Monotonic seconds, for measuring durations (benchmarks, timeouts). */
double clock_mono(void);
/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12; any
 * year, without the C library's time zone or range limits). */
long clock_days_from_civil(long y, long m, long d);
/* Sleep for the given seconds (only for real-time loops, never the controller). */
void clock_sleep(double seconds);

#endif
