/*
 * fuzz_api.c - libFuzzer harness for the API: every route's handler behind
 * the one dispatcher. An input is "METHOD\nPATH[?QUERY]\nBODY" (missing
 * parts are empty); it is answered as an admin (who may call every route)
 * on a server opened without a loop: a "mem:" store, the fixture catalog,
 * no drivers. Every reply must be a status with a body that is JSON (or
 * the metrics' text), never a crash, a leak or undefined behaviour. The
 * store is made anew every 256 inputs so it stays small. Seeds:
 * fuzz/corpus/api/.
 *
 *   cmake -B build-fuzz -DSTRATUS_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
 *     cmake --build build-fuzz --target fuzz_api
 *   build-fuzz/fuzz_api -max_total_time=60 fuzz/corpus/api
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog/catalog.h"
#include "server/api.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/server_conf.h"
#include "store/store.h"
#include "util/xmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv srv;
static unsigned inputs;

/* The fixture catalog next to this file (tests/data/catalog-mini), else the
 * bundled one. */
static void load_catalog(void)
{
    const char *me = __FILE__, *cut = strstr(me, "fuzz/fuzz_api.c");
    char *dir =
        cut ? xasprintf("%.*stests/data/catalog-mini", (int)(cut - me), me) : NULL;
    struct err e;

    if (dir == NULL || catalog_load(&srv.cat, dir, &e) != 0) {
        char *def = catalog_default_dir(NULL);

        if (catalog_load(&srv.cat, def, &e) != 0)
            abort();
        free(def);
    }
    free(dir);
}

static void server_init(void)
{
    struct srv_conf *c = xcalloc(1, sizeof(*c));

    c->store_path = xstrdup("mem:");
    c->max_body = 1 << 20;
    srv.conf = c;
    srv.home = xstrdup("/nonexistent-fuzz-home");
    srv.m = metrics_new();
    srv.started_at = 1;
    memset(srv.secret, 0x42, sizeof(srv.secret));
    load_catalog();
}

/* A fresh empty store (and no policy) every 256 inputs. */
static void store_fresh(void)
{
    struct err e;

    if (srv.st != NULL && inputs % 256 != 0)
        return;
    store_close(srv.st);
    srv.st = NULL;
    srv.gen++; /* a new store: no rendered reply of the old one stands */
    if (store_open(&srv.st, "mem:", &e) != 0)
        abort();
    if (srv_set_policy(&srv, NULL, &e) != 0)
        abort();
}

/* The next '\n'-terminated part of [*p, end) as a new string. */
static char *part(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *s = xstrndup(*p, (size_t)(stop - *p));

    *p = nl ? nl + 1 : end;
    return s;
}

static void check(const struct api_resp *rp)
{
    json_t *o;

    if (rp->status < 200 || rp->status > 599 || rp->route == NULL)
        abort();
    if (rp->content_type && strcmp(rp->content_type, "application/json") != 0)
        return;
    o = rp->body ? json_loadb(rp->body, rp->body_len, 0, NULL) : NULL;
    if (rp->stream_path == NULL && o == NULL)
        abort(); /* a JSON reply that is not JSON */
    if (rp->status >= 400 && !json_is_object(json_object_get(o, "error")))
        abort(); /* an error without the error shape */
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    struct auth_principal who = {AUTH_ADMIN, 0, "owner", ""};
    struct api_req rq;
    struct api_resp rp;
    char *method, *target, *q;

    if (srv.conf == NULL)
        server_init();
    store_fresh();
    inputs++;
    method = part(&p, end);
    target = part(&p, end);
    q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.path = target;
    rq.query = q;
    rq.body = p < end ? p : NULL;
    rq.body_len = (size_t)(end - p);
    rq.who = &who;
    api_handle(&srv, &rq, &rp);
    check(&rp);
    api_resp_clear(&rp);
    free(method);
    free(target);
    return 0;
}
