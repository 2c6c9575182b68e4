/*
 * trace_int.h - internals shared by the trace loaders (trace.c) and the
 * converters (trace_convert.c, trace_spot.c): location syntax, bounded string
 * fields, the drop/keep tally every converter prints, and writing a CSV
 * number so that the same input always gives the same bytes.
 */
#ifndef STRATUS_TRACE_INT_H
#define STRATUS_TRACE_INT_H

#include <stddef.h>
#include <stdio.h>

#include "../util/err.h"

#define TRACE_STR_MAX 256    /* longest id, team, location or type accepted */
#define TRACE_REASONS_MAX 16 /* distinct drop reasons one converter reports */

/* A location split into its parts (each NUL-terminated, zone "" when absent). */
struct trace_loc {
    char cloud[TRACE_STR_MAX], region[TRACE_STR_MAX], zone[TRACE_STR_MAX];
};

/* Split "cloud/region[/zone]"; zones only when allow_zone.  0 or -1. */
int trace_loc_parse(const char *s, int allow_zone, struct trace_loc *out);
/* 1 when s is a non-empty token of letters, digits, '.', '_' and '-'. */
int trace_is_token(const char *s);

/* Counts of one conversion: rows read and kept, rows dropped by reason, and
 * notes (counted facts that drop nothing, e.g. "fractional GPU rounded up"). */
struct trace_tally {
    const char *what; /* "itp", "alibaba", ... */
    size_t read, kept;
    size_t nreasons;
    const char *reason[TRACE_REASONS_MAX]; /* static strings, first = printed first */
    size_t count[TRACE_REASONS_MAX];
    int is_note[TRACE_REASONS_MAX];
};

void tally_init(struct trace_tally *t, const char *what);
/* Count one dropped row (note = 0) or one noted fact (note = 1) under reason. */
void tally_add(struct trace_tally *t, const char *reason, int note);
/* "<what>: N rows read, K kept, D dropped" and one line per reason. */
void tally_print(const struct trace_tally *t, FILE *fp);

/* Print a number the shortest way that reads back the same for the values
 * traces hold (whole seconds print without a decimal point). */
void trace_put_num(FILE *out, double v);

#endif
