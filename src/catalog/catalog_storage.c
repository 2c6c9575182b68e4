/*
 * catalog_storage.c - storage.csv: what keeping a GB for a month costs in
 * each cloud's object storage, for the replicas data gravity makes
 * (docs/data.md).  A handful of rows, parsed at every load (it is not part
 * of the snapshot; parsing takes microseconds).
 */
#include "catalog_int.h"
#include "../util/csv.h"
#include "../util/xmem.h"

#include <math.h>
#include <string.h>

enum { S_CLOUD, S_PRICE, S_NOTE };
static const struct csv_col storage_cols[] = {
    {"cloud", 1}, {"price_per_gb_month", 1}, {"note", 0},
};

static int storage_row(struct catalog *cat, struct csv *c, struct err *e)
{
    struct storage_price sp;
    const char *cloud = csv_get(c, S_CLOUD);
    size_t i;
    int rc;

    memset(&sp, 0, sizeof(sp));
    if (*cloud == '\0' || strlen(cloud) >= sizeof(sp.cloud))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "column 'cloud': '%s' is not a cloud name (or '*' for any other)",
                      cloud);
    if ((rc = csv_double(c, S_PRICE, "price_per_gb_month", NULL, &sp.per_gb_month, e)) != 0)
        return rc;
    if (!(sp.per_gb_month >= 0 && sp.per_gb_month < 100))
        return err_at(e, ST_EINVAL, c->path, c->line, 0,
                      "price_per_gb_month must be in [0, 100) USD, not %g", sp.per_gb_month);
    memcpy(sp.cloud, cloud, strlen(cloud) + 1);
    for (i = 0; i < cat->nstorage; i++)
        if (strcmp(cat->storage[i].cloud, sp.cloud) == 0)
            return err_at(e, ST_EINVAL, c->path, c->line, 0,
                          "a second row for cloud '%s': keep one", sp.cloud);
    cat->storage = xrealloc(cat->storage, (cat->nstorage + 1) * sizeof(sp));
    cat->storage[cat->nstorage++] = sp;
    return 0;
}

int catalog_load_storage(struct catalog *cat, struct err *e)
{
    struct csv c;
    int rc = catalog_open_csv(cat, &c, "storage.csv", 1, e);

    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    rc = csv_bind(&c, storage_cols, sizeof(storage_cols) / sizeof(storage_cols[0]), e);
    while (rc == 0 && (rc = csv_next(&c, e)) == 1)
        rc = storage_row(cat, &c, e);
    csv_close(&c);
    return rc < 0 ? rc : 0;
}

double catalog_storage_per_gb_month(const struct catalog *cat, const char *cloud)
{
    const struct storage_price *any = NULL;
    size_t i;

    for (i = 0; i < cat->nstorage; i++) {
        if (strcmp(cat->storage[i].cloud, cloud) == 0)
            return cat->storage[i].per_gb_month;
        if (strcmp(cat->storage[i].cloud, "*") == 0)
            any = &cat->storage[i];
    }
    return any ? any->per_gb_month : 0;
}
