/*
 * driver.c - the driver registry and the open/close wrappers (see driver.h).
 */
#include "driver.h"
#include "../catalog/catalog.h"
#include "../util/xmem.h"

#include <stdlib.h>
#include <string.h>

static const struct driver_ops *const driver_table[] = {
    &driver_local,
    &driver_sim,
    &driver_slurm,
    NULL,
};

const struct driver_ops *driver_find(const char *name)
{
    size_t i;

    for (i = 0; driver_table[i]; i++)
        if (strcmp(driver_table[i]->name, name) == 0)
            return driver_table[i];
    return NULL;
}

int driver_open(struct driver *d, const struct driver_ops *ops,
                const struct driver_config *cfg, struct err *e)
{
    int rc;

    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->cfg = cfg;
    d->priv = xcalloc(1, ops->priv_size ? ops->priv_size : 1);
    rc = ops->open(d, cfg, e);
    if (rc != 0) {
        free(d->priv);
        d->priv = NULL;
    }
    return rc;
}

void driver_close(struct driver *d)
{
    if (d->priv == NULL)
        return;
    d->ops->close(d);
    free(d->priv);
    d->priv = NULL;
}

/* The variables every driver sets for a node (the same in each). */
static const char *const reserved_env[] = {
    "STRATUS_JOB_ID",
    "STRATUS_ATTEMPT",
    "STRATUS_ATTEMPT_ID",
    "STRATUS_NODE_RANK",
    "STRATUS_NUM_NODES",
    "STRATUS_NODE_IPS",
    "STRATUS_CLOUD",
    "STRATUS_REGION",
    "STRATUS_ZONE",
    "STRATUS_SPOT",
    "STRATUS_CHECKPOINT_DIR",
    "SKYPILOT_NODE_RANK",
    "SKYPILOT_NUM_NODES",
    "SKYPILOT_NODE_IPS",
    "SKYPILOT_TASK_ID",
    "SKYPILOT_NUM_GPUS_PER_NODE",
    NULL,
};

int driver_env_reserved(const char *key)
{
    size_t i;

    if (strncmp(key, "STRATUS__", 9) == 0)
        return 1;
    for (i = 0; reserved_env[i]; i++)
        if (strcmp(reserved_env[i], key) == 0)
            return 1;
    return 0;
}

const char *driver_event_name(enum driver_event_type t)
{
    static const char *const names[] = {"running", "exited", "preempt-notice", "preempted",
                                        "capacity", "failed"};

    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

long driver_offer_capacity(struct driver *d, const struct offer *o, int spot)
{
    if (d->ops->offer_capacity)
        return d->ops->offer_capacity(d, o, spot);
    return driver_capacity(d, o->cloud, o->region, o->zone, o->instance_type, spot);
}
