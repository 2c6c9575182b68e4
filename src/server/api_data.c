/*
 * api_data.c - GET /v1/data: where each dataset's copies are and what
 * moving and keeping them cost (docs/data.md; `stratus data ls`).
 *
 * A shared dataset (stratus.data.dataset) is the lab's: every caller sees
 * it.  A job's own data ("job:<id>") is seen by those who see the job.
 * ?dataset=NAME lists one; ?all=1 adds the replicas already deleted.
 */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

#include "../api/apijson.h"
#include "../store/store.h"
#include "../util/xmem.h"
#include "server.h"

/* May the caller see dataset name (its first row's job for "job:<id>")? */
static int data_visible(struct api_call *c, const char *name)
{
    struct store_job j;
    struct err e;
    char *end;
    long long id;
    int ok;

    if (strncmp(name, "job:", 4) != 0)
        return 1;
    id = strtoll(name + 4, &end, 10);
    err_clear(&e);
    if (*end != '\0' || store_job_get(c->s->st, id, &j, &e) != 0)
        return 1; /* jobs are never deleted: a name no job has is nobody's */
    ok = api_team_visible(c, j.team);
    store_job_clear(&j);
    return ok;
}

void api_data(struct api_call *c)
{
    char name[160], all[8];
    struct store_data_replica *v = NULL;
    size_t n = 0, i, k = 0;
    const char *only = NULL;
    struct err e;

    if (api_query(c, "dataset", name, sizeof(name)))
        only = name;
    if (!api_query(c, "all", all, sizeof(all)))
        all[0] = '\0';
    err_clear(&e);
    if (store_data_list(c->s->st, only, strcmp(all, "1") != 0, &v, &n, &e) != 0) {
        api_fail(c, &e);
        return;
    }
    /* Keep the rows of the datasets the caller sees (rows come by dataset). */
    for (i = 0; i < n;) {
        size_t j = i;
        int vis = data_visible(c, v[i].dataset);

        while (j < n && strcmp(v[j].dataset, v[i].dataset) == 0)
            j++;
        for (; i < j; i++) {
            if (vis)
                v[k++] = v[i];
            else
                store_data_replica_clear(&v[i]);
        }
    }
    if (only != NULL && k == 0) {
        store_data_replicas_free(v, k);
        api_failf(c, ST_ENOTFOUND, "no dataset '%s' (`stratus data ls` lists them)", only);
        return;
    }
    api_reply(c, 200, json_pack("{s:o}", "datasets", apijson_datasets(v, k, c->now)));
    store_data_replicas_free(v, k);
}
