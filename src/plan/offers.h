/*
 * offers.h - what can be bought, cheapest first, with the price per
 * accelerator-hour: the listing behind `stratus offers` and GET /v1/offers,
 * in one place so the two print the same.
 */
#ifndef STRATUS_OFFERS_H
#define STRATUS_OFFERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "../util/err.h"

struct catalog;
struct offer;

struct offers_query {
    const char *accelerator;    /* NULL = any (case-insensitive) */
    long acc_count;             /* 0 = any; 1 for a share */
    double acc_part;            /* a share of one accelerator ("L4:0.5"); 0 = whole */
    const char *cloud, *region; /* NULL = any */
    int spot;                   /* list and sort by the spot price */
    long limit;                 /* rows to show; 0 = all */
};

/* Parse "NAME[:COUNT]" (COUNT may be a share of one, "L4:0.5") into q (NAME points into buf, a copy the caller
 * keeps). ST_EINVAL when COUNT is not a count. */
int offers_parse_accelerator(struct offers_query *q, char *buf, struct err *e);
/* The offers q keeps, sorted (*rows: caller frees the array, not the
 * offers); ST_ENOTFOUND with a suggestion when no offer has q's accelerator. */
int offers_select(const struct catalog *cat, const struct offers_query *q,
                  const struct offer ***rows, size_t *n, struct err *e);
/* How many of n rows q shows. */
size_t offers_shown(const struct offers_query *q, size_t n);
/* One offer as JSON (the fields of `stratus offers --json`). */
json_t *offers_json(const struct offer *of);
/* The table `stratus offers` prints: the first `shown` rows of `total`. */
void offers_print(FILE *fp, const struct offers_query *q, const struct offer *const *rows,
                  size_t shown, size_t total);

#endif
