/*
 * fuzz_trace.c - libFuzzer harness for the trace loaders (workload, spot,
 * prices; src/sim/trace.c) and the SkyPilot spot-trace converter
 * (src/sim/trace_market.c).
 *
 * The first input byte picks the loader and the way in: 0-2 load the rest of
 * the input from memory as a workload, spot or price file; 3-5 write it to a
 * private file and load that (the chunked file reader).  The same bytes are
 * then appended a second time, so duplicate ids and the "failed load keeps
 * the trace" path are exercised too.  6-7 write the rest as a SkyPilot JSON
 * trace in a 1-node or 16-node folder and convert it; a conversion that
 * succeeds must give a spot file the loader takes.  Every outcome must be
 * rows or an error with a message, never a crash, a leak or undefined
 * behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzutil.h"
#include "sim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static int load_file(struct trace *t, int which, const uint8_t *data, size_t size,
                     struct err *e)
{
    FILE *fp;

    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/fuzz-trace-%d.csv", (int)getpid());
    fp = fopen(path, "wb");
    if (fp == NULL)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    if (which == 0)
        return trace_load_jobs(t, path, e);
    if (which == 1)
        return trace_load_spot(t, path, e);
    return trace_load_prices(t, path, e);
}

static int load_mem(struct trace *t, int which, const uint8_t *data, size_t size,
                    struct err *e)
{
    const char *text = (const char *)data;

    if (which == 0)
        return trace_load_jobs_mem(t, "fuzz.csv", text, size, e);
    if (which == 1)
        return trace_load_spot_mem(t, "fuzz.csv", text, size, e);
    return trace_load_prices_mem(t, "fuzz.csv", text, size, e);
}

/* Convert the input as the only trace of a 1-node (nodes16 = 0) or a 16-node
 * folder, and load what the converter wrote. */
static void convert_skypilot(int nodes16, const uint8_t *data, size_t size)
{
    static const char *const subs[] = {"/1-node", "/16-node", NULL};
    const char *json = nodes16 ? "16-node/t.json" : "1-node/t.json";
    char *out = NULL, map[128], rows[128];
    size_t n = 0;
    FILE *fp;
    struct trace t;
    struct err e;
    int rc, len;

    fz_mkdir("trace-spot", subs);
    fz_put(json, data, size);
    len = snprintf(rows, sizeof(rows),
                   "trace_file,location,instance_type\n%s,gcp/r/z,x\n", json);
    fz_put("map.csv", rows, (size_t)len);
    snprintf(map, sizeof(map), "%s/map.csv", fz_dir);
    fp = open_memstream(&out, &n);
    if (fp == NULL)
        abort();
    err_clear(&e);
    rc = trace_convert_skypilot_spot(fz_dir, map, fp, NULL, &e);
    fclose(fp);
    if (rc != 0 && e.msg[0] == '\0')
        abort();
    trace_init(&t);
    if (rc == 0 && trace_load_spot_mem(&t, "converted", out, n, &e) != 0)
        abort(); /* the converter wrote a file its own loader refuses */
    trace_free(&t);
    free(out);
}

/* Read every string a record holds, so the sanitizers check them. */
static size_t touch(const struct trace *t)
{
    size_t n = 0, i;

    for (i = 0; i < t->njobs; i++)
        n += strlen(t->jobs[i].id) + strlen(t->jobs[i].team) +
             strlen(t->jobs[i].accelerator) + strlen(t->jobs[i].data_cloud) +
             strlen(t->jobs[i].data_region);
    for (i = 0; i < t->nspot; i++)
        n += strlen(t->spot[i].cloud) + strlen(t->spot[i].region) +
             strlen(t->spot[i].zone) + strlen(t->spot[i].instance_type);
    for (i = 0; i < t->nprices; i++)
        n += strlen(t->prices[i].cloud) + strlen(t->prices[i].region) +
             strlen(t->prices[i].zone) + strlen(t->prices[i].instance_type);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace t;
    struct err e;
    int pick, pass, rc;

    if (size == 0)
        return 0;
    pick = data[0] % 8;
    if (pick >= 6) {
        convert_skypilot(pick == 7, data + 1, size - 1);
        return 0;
    }
    trace_init(&t);
    for (pass = 0; pass < 2; pass++) {
        err_clear(&e);
        if (pick < 3)
            rc = load_mem(&t, pick, data + 1, size - 1, &e);
        else
            rc = load_file(&t, pick - 3, data + 1, size - 1, &e);
        if (rc != 0 && e.msg[0] == '\0')
            abort(); /* every error says what is wrong */
    }
    trace_sort(&t);
    if (touch(&t) == (size_t)-1)
        abort();
    trace_free(&t);
    return 0;
}
