/*
 * offers.c - the offer listing (offers.h), moved here from cmd_offers.c so
 * that the server and the offline CLI share it.
 */
#define _GNU_SOURCE /* qsort_r */
#include "offers.h"
#include "plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../catalog/catalog.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* The price an offer is listed at under the query; < 0 = not sold that way. */
static double listed_price(const struct offers_query *q, const struct offer *of)
{
    return q->spot ? of->spot_price : of->price;
}

/* What one node has, in accelerators (a share counts as its share; a CPU
 * offer as 1, so its price is per node). */
static double acc_units(const struct offer *of)
{
    return of->acc_part > 0 ? of->acc_part : of->acc_count ? of->acc_count : 1;
}

static int cmp_offers(const void *a, const void *b, void *ctx)
{
    const struct offer *x = *(const struct offer *const *)a;
    const struct offer *y = *(const struct offer *const *)b;
    double px = listed_price(ctx, x) / acc_units(x);
    double py = listed_price(ctx, y) / acc_units(y);
    int r;

    if (listed_price(ctx, x) != listed_price(ctx, y))
        return listed_price(ctx, x) < listed_price(ctx, y) ? -1 : 1;
    if (px != py)
        return px < py ? -1 : 1;
    r = strcmp(x->cloud, y->cloud);
    if (r == 0)
        r = strcmp(x->region, y->region);
    if (r == 0)
        r = strcmp(x->zone, y->zone);
    return r != 0 ? r : strcmp(x->instance_type, y->instance_type);
}

static int keep(const struct offers_query *q, const struct offer *of)
{
    if (listed_price(q, of) < 0)
        return 0;
    if (q->accelerator && strcasecmp(q->accelerator, of->accelerator) != 0)
        return 0;
    if (q->acc_count &&
        (of->acc_count != q->acc_count || !CATALOG_SAME_PART(of->acc_part, q->acc_part)))
        return 0;
    if (q->cloud && strcmp(q->cloud, of->cloud) != 0)
        return 0;
    return q->region == NULL || strcmp(q->region, of->region) == 0;
}

int offers_parse_accelerator(struct offers_query *q, char *buf, struct err *e)
{
    char *colon = strchr(buf, ':');
    char shown[128];

    q->accelerator = buf;
    q->acc_count = 0;
    q->acc_part = 0;
    if (colon == NULL)
        return 0;
    *colon = '\0';
    if (str_to_double(colon + 1, &q->acc_part) == 0 && q->acc_part > 0 && q->acc_part < 1) {
        q->acc_count = 1;
        return 0;
    }
    q->acc_part = 0;
    if (str_to_long(colon + 1, 1, 4096, &q->acc_count) != 0)
        return err_set(e, ST_EINVAL, "--accelerator: '%s' is not a count",
                       str_vis(shown, sizeof(shown), colon + 1));
    return 0;
}

int offers_select(const struct catalog *cat, const struct offers_query *q,
                  const struct offer ***rows, size_t *n, struct err *e)
{
    const struct offer **v;
    size_t i;

    *rows = NULL;
    *n = 0;
    if (q->accelerator && catalog_accelerator(cat, q->accelerator) == NULL) {
        const char *sug = str_suggest(q->accelerator, catalog_accelerators(cat));
        char shown[128];

        /* a known accelerator the catalog lacks is not a typo of another */
        if (catalog_known_accelerator(q->accelerator))
            return err_set(
                e, ST_ENOTFOUND,
                "'%s' is a known accelerator, but this catalog has no offer of it",
                str_vis(shown, sizeof(shown), q->accelerator));

        return err_set(e, ST_ENOTFOUND, "no offer has accelerator '%s'%s%s%s",
                       str_vis(shown, sizeof(shown), q->accelerator),
                       sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
    v = xcalloc(catalog_noffers(cat) + 1, sizeof(*v));
    for (i = 0; i < catalog_noffers(cat); i++)
        if (keep(q, catalog_offer(cat, i)))
            v[(*n)++] = catalog_offer(cat, i);
    qsort_r(v, *n, sizeof(*v), cmp_offers, (void *)(uintptr_t)q);
    *rows = v;
    return 0;
}

size_t offers_shown(const struct offers_query *q, size_t n)
{
    return q->limit > 0 && (size_t)q->limit < n ? (size_t)q->limit : n;
}

json_t *offers_json(const struct offer *of)
{
    json_t *j = json_object();

    json_object_set_new(j, "cloud", json_string(of->cloud));
    json_object_set_new(j, "region", json_string(of->region));
    json_object_set_new(j, "zone", json_string(of->zone));
    json_object_set_new(j, "instance_type", json_string(of->instance_type));
    json_object_set_new(j, "accelerator", json_string(of->accelerator));
    json_object_set_new(j, "accelerators_per_node",
                        of->acc_part > 0 ? json_real(of->acc_part) : json_integer(of->acc_count));
    json_object_set_new(j, "accelerator_memory_gib", json_real(of->acc_mem_gib));
    json_object_set_new(j, "vcpus", json_real(of->vcpus));
    json_object_set_new(j, "memory_gib", json_real(of->memory_gib));
    json_object_set_new(j, "interconnect", json_string(of->interconnect));
    json_object_set_new(j, "max_cluster_nodes",
                        of->max_cluster_nodes ? json_integer(of->max_cluster_nodes)
                                              : json_null());
    json_object_set_new(j, "price_hour",
                        of->price >= 0 ? json_real(of->price) : json_null());
    json_object_set_new(j, "spot_price_hour",
                        of->spot_price >= 0 ? json_real(of->spot_price) : json_null());
    return j;
}

static void print_price(FILE *fp, double v)
{
    if (v < 0)
        fprintf(fp, " %10s", "-");
    else
        fprintf(fp, " %10.2f", v);
}

static void offer_loc(char *loc, size_t n, const struct offer *of)
{
    snprintf(loc, n, "%s%s%s", of->region, *of->zone ? "/" : "", of->zone);
}

static void offer_acc(char *acc, size_t n, const struct offer *of)
{
    if (*of->accelerator == '\0') /* a CPU offer */
        snprintf(acc, n, "-");
    else
        catalog_shape(acc, n, of->accelerator, of->acc_count, of->acc_part);
}

static int widest(int w, const char *s)
{
    int n = (int)strlen(s);

    return n > w ? n : w;
}

/* Memory as the catalog has it: 0.5G stays 0.5G, not 0G. */
static void print_gib(FILE *fp, int width, double gib)
{
    if (gib > 0 && gib < 10 && gib != (double)(long)gib)
        fprintf(fp, " %*.1fG", width - 1, gib);
    else
        fprintf(fp, " %*.0fG", width - 1, gib);
}

void offers_print(FILE *fp, const struct offers_query *q, const struct offer *const *rows,
                  size_t shown, size_t total)
{
    /* the text columns are as wide as the rows shown need (Nebius and OCI
     * names are long), never narrower than the usual ones */
    int wc = 5, wl = 28, wi = 24, wa = 12, wf = 10;
    char loc[128], acc[64];
    size_t i;

    for (i = 0; i < shown; i++) {
        offer_loc(loc, sizeof(loc), rows[i]);
        offer_acc(acc, sizeof(acc), rows[i]);
        wc = widest(wc, rows[i]->cloud);
        wl = widest(wl, loc);
        wi = widest(wi, rows[i]->instance_type);
        wa = widest(wa, acc);
        wf = widest(wf, rows[i]->interconnect);
    }
    fprintf(fp, "%-*s %-*s %-*s %-*s %6s %5s %7s %-*s %10s %10s %9s\n", wc, "CLOUD", wl,
            "REGION/ZONE", wi, "INSTANCE", wa, "ACCELERATOR", "VRAM", "VCPU", "MEM", wf,
            "FABRIC", "$/H", "SPOT $/H", "$/ACC-H");
    for (i = 0; i < shown; i++) {
        const struct offer *of = rows[i];

        offer_loc(loc, sizeof(loc), of);
        offer_acc(acc, sizeof(acc), of);
        fprintf(fp, "%-*s %-*s %-*s %-*s", wc, of->cloud, wl, loc, wi, of->instance_type,
                wa, acc);
        print_gib(fp, 6, of->acc_mem_gib);
        fprintf(fp, " %5.0f", of->vcpus);
        print_gib(fp, 7, of->memory_gib);
        fprintf(fp, " %-*s", wf, of->interconnect);
        print_price(fp, of->price);
        print_price(fp, of->spot_price);
        if (*of->accelerator == '\0') /* a CPU offer: no accelerator-hour */
            fprintf(fp, " %9s\n", "-");
        else
            fprintf(fp, " %9.3f\n", listed_price(q, of) / acc_units(of));
    }
    if (shown < total)
        fprintf(fp, "... %zu more (--limit 0 shows all)\n", total - shown);
    fprintf(fp, "%zu offer%s\n", total, total == 1 ? "" : "s");
}
