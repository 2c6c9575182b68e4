/*
 * fuzz_reqtrace.c - libFuzzer harness for the request traces
 * (src/sim/reqtrace.c, src/sim/reqtrace_convert.c).
 *
 * The first input byte picks the way in: 0 loads the rest from memory as a
 * request CSV, twice (the second load appends, or fails on time order and
 * must leave the first); 1 writes it to a private file and loads that (the
 * chunked file reader); 2 feeds each line to the Mooncake line parser, then
 * converts what was kept (3 likewise, repeated to a short trace at a rate
 * taken from the second byte); 4 reads it as an Alibaba GenAI CSV and
 * converts it.  A conversion that succeeds must write a file the loader
 * takes, and a loaded trace must write back bytes that load again.  Every
 * outcome must be rows or an error with a message, never a crash, a leak or
 * undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/reqtrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct reqtrace_user users[] = {
    {"azure/eastus", 0.5, -5.3},
    {"gcp/europe-west4", 0.3, 0.5},
    {"gcp/asia-northeast1", 0.2, 9.3},
};

/* An error must say what is wrong. */
static void check_err(int rc, const struct err *e)
{
    if (rc < 0 && e->msg[0] == '\0')
        abort();
}

/* Load text that a writer of ours produced: it must be accepted. */
static void must_load(const char *text, size_t n)
{
    struct reqtrace rt;
    struct err e;

    reqtrace_init(&rt);
    if (reqtrace_load_mem(&rt, "written", text, n, &e) != 0)
        abort(); /* our own output refused by our own loader */
    reqtrace_free(&rt);
}

/* Write rt (as loaded) and load the bytes again. */
static void round_trip(const struct reqtrace *rt)
{
    char *out = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&out, &n);
    struct err e;

    if (fp == NULL || reqtrace_write(rt, fp, &e) != 0)
        abort();
    fclose(fp);
    must_load(out, n);
    free(out);
}

/* Assign regions (and maybe repeat) and check the output loads. */
static void emit_and_load(struct reqtrace *rt, double repeat_to_s, double rate)
{
    struct reqtrace_conv_opts o;
    char *out = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&out, &n);
    struct err e;
    int rc;

    if (fp == NULL)
        abort();
    memset(&o, 0, sizeof(o));
    o.seed = 7;
    o.users = users;
    o.nusers = 3;
    o.repeat_to_s = repeat_to_s;
    o.rate = rate;
    err_clear(&e);
    rc = reqtrace_emit(rt, &o, fp, NULL, &e);
    fclose(fp);
    check_err(rc, &e);
    if (rc == 0)
        must_load(out, n);
    free(out);
}

static char path[64];

static int load_file(struct reqtrace *rt, const uint8_t *data, size_t size, struct err *e)
{
    FILE *fp;

    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/fuzz-reqtrace-%d.csv", (int)getpid());
    fp = fopen(path, "wb");
    if (fp == NULL)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    return reqtrace_load(rt, path, e);
}

static void load(int from_file, const uint8_t *data, size_t size)
{
    struct reqtrace rt;
    struct err e;
    size_t n1;
    int rc;

    reqtrace_init(&rt);
    err_clear(&e);
    rc = from_file ? load_file(&rt, data, size, &e)
                   : reqtrace_load_mem(&rt, "fuzz.csv", (const char *)data, size, &e);
    check_err(rc, &e);
    n1 = rt.n;
    err_clear(&e);
    rc = reqtrace_load_mem(&rt, "again.csv", (const char *)data, size, &e);
    check_err(rc, &e);
    if (rc != 0 && rt.n != n1)
        abort(); /* a failed load changed the trace */
    round_trip(&rt);
    reqtrace_free(&rt);
}

static void mooncake(const uint8_t *data, size_t size, double repeat_to_s, double rate)
{
    struct reqtrace rt;
    const char *p = (const char *)data, *end = p + size;
    size_t line = 0;

    reqtrace_init(&rt);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *why = NULL;
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct err e;
        int rc;

        err_clear(&e);
        rc = reqtrace_mooncake_line("fuzz.jsonl", ++line, p, len, &rt, &why, &e);
        check_err(rc, &e);
        if (rc == 0 && why == NULL)
            abort(); /* a dropped line says why */
        p += len + (nl != NULL);
    }
    emit_and_load(&rt, repeat_to_s, rate);
    reqtrace_free(&rt);
}

static void alibaba(const uint8_t *data, size_t size)
{
    struct reqtrace rt;
    struct err e;
    int rc;

    reqtrace_init(&rt);
    err_clear(&e);
    rc = reqtrace_alibaba_mem("fuzz.csv", (const char *)data, size, &rt, NULL, &e);
    check_err(rc, &e);
    if (rc == 0)
        emit_and_load(&rt, 0, 0);
    reqtrace_free(&rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int pick;

    if (size < 2)
        return 0;
    pick = data[0] % 5;
    if (pick <= 1)
        load(pick, data + 1, size - 1);
    else if (pick == 2)
        mooncake(data + 1, size - 1, 0, 0);
    else if (pick == 3) /* up to 10 minutes at 0.1 .. 25.6 requests/s: bounded output */
        mooncake(data + 2, size - 2, 600, (data[1] + 1) / 10.0);
    else
        alibaba(data + 1, size - 1);
    return 0;
}
