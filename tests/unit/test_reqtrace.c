/*
 * test_reqtrace.c - request traces (src/sim/reqtrace*.c): the request CSV
 * loader and writer, the Mooncake and Alibaba GenAI converters, the user
 * region assignment and the repeater.
 *
 * Loader: a good file loads with every value and writes back the same
 * bytes; each kind of bad row is refused with its exact file:line message
 * (a table); a failed load leaves the trace as it was; a file larger than
 * one read chunk keeps its line numbers.  Converters: small inline sources
 * give hand-checked rows; the same seed gives the same bytes and another
 * seed others.  Regions: shares only for a trace shorter than a day, shares
 * kept (calibrated) but following each region's daily cycle for a longer
 * one.  Repeater: rate, time order, shares and determinism.  On the real
 * shared traces when ../shared/data is there (else skipped): 12,031
 * Mooncake requests, in time order, region shares within 2 points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/reqtrace.h"
#include "testutil.h"

#define SHARED SOURCE_DIR "/../shared/data/traces"
#define MOONCAKE SHARED "/llm-inference-mooncake-fast25/conversation_trace.jsonl"
#define GENAI SHARED "/inference-alibaba-genai-diffusion-2024/lora_request_trace.csv"

/* ---- helpers ---- */

/* Two regions 12 hours apart (solar offsets as the CLI sets them). */
static const struct reqtrace_user two_users[] = {
    {"azure/eastus", 0.5, 0},
    {"gcp/asia-northeast1", 0.5, 12},
};

static struct reqtrace_conv_opts opts(uint64_t seed)
{
    struct reqtrace_conv_opts o;

    memset(&o, 0, sizeof(o));
    o.seed = seed;
    o.users = two_users;
    o.nusers = 2;
    return o;
}

/* Run reqtrace_emit on rt into memory; returns the text (caller frees). */
static char *emit(struct reqtrace *rt, const struct reqtrace_conv_opts *o, size_t *n)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, n);
    struct err e;

    assert_non_null(fp);
    err_clear(&e);
    if (reqtrace_emit(rt, o, fp, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    fclose(fp);
    return text;
}

static void load_text(struct reqtrace *rt, const char *text)
{
    struct err e;

    if (reqtrace_load_mem(rt, "t.csv", text, strlen(text), &e) != 0)
        fail_msg("%s", e.msg);
}

/* ---- the loader ---- */

static const char good[] =
    "input_tokens,arrival_s,output_tokens,region,service,service_s\n"
    "\n"
    "100,0,20,azure/eastus,chat,1.5\r\n"
    "7,0,0,,,\n"
    "\"5\",2.25,1,gcp/europe-west4,chat,\n"
    "100000000,2.25,3,azure/eastus,\"img-1\",0\n";

static void test_load_good(void **state)
{
    struct reqtrace rt;

    (void)state;
    reqtrace_init(&rt);
    load_text(&rt, good);
    assert_int_equal(rt.n, 4);
    assert_true(rt.req[0].arrival_s == 0 && rt.req[0].input_tokens == 100 &&
                rt.req[0].output_tokens == 20);
    assert_string_equal(reqtrace_region(&rt, 0), "azure/eastus");
    assert_string_equal(reqtrace_service(&rt, 0), "chat");
    assert_true(reqtrace_service_s(&rt, 0) == 1.5);
    assert_null(reqtrace_region(&rt, 1));
    assert_null(reqtrace_service(&rt, 1));
    assert_true(reqtrace_service_s(&rt, 1) < 0);
    assert_true(rt.req[2].arrival_s == 2.25 && rt.req[2].input_tokens == 5);
    assert_int_equal(rt.req[3].input_tokens, 100000000);
    assert_string_equal(reqtrace_service(&rt, 3), "img-1");
    /* regions are interned as small numbers, one per distinct name */
    assert_int_equal(rt.nregions, 2);
    assert_int_equal(rt.region[0], rt.region[3]);
    assert_int_equal(rt.nservices, 2);
    assert_int_equal(sizeof(struct reqtrace_req), 16);
    assert_int_equal(reqtrace_bytes(&rt), 4 * (16 + 2 + 2 + 4));
    reqtrace_free(&rt);
}

/* The loader reads plain rows on a fast path and the others (here: every
 * field quoted) field by field: both give the same values bit for bit,
 * over times of 0 to 17 digits (past 15 the fast path steps aside), token
 * counts of 1 to 9 digits, and regions empty, known, and new mid-file. */
static void test_load_fast_same(void **state)
{
    static const char *const reg[] = {"azure/eastus", "", "gcp/europe-west4", "aws/us-east-1"};
    size_t cap = 1 << 20, la = 0, lb = 0, k;
    char *a = malloc(cap), *b = malloc(cap);
    struct reqtrace ra, rb;
    unsigned long long ns = 0; /* the time in ns */

    (void)state;
    la += (size_t)snprintf(a + la, cap - la, "arrival_s,input_tokens,output_tokens,region\n");
    lb += (size_t)snprintf(b + lb, cap - lb, "arrival_s,input_tokens,output_tokens,region\n");
    for (k = 0; k < 5000; k++) {
        int dec = (int)(k % 10), big = k % 97 == 5;
        unsigned in = (unsigned)((k * 2654435761u) % (k % 9 == 8 ? 100000001u : 99999999u));
        unsigned out = (unsigned)(k % 1000);
        const char *r = reg[k < 2500 ? k % 3 : k % 4];
        unsigned long long div = 1;
        char ts[64];
        int i;

        ns += 13700000ull * (k % 7) + (big ? 12345678000000000ull : 0);
        if (big)
            dec = 9; /* 17 digits or so: the fast path steps aside */
        for (i = dec; i < 9; i++)
            div *= 10;
        ns = (ns + div - 1) / div * div; /* exact at dec decimals: in order */
        if (dec == 0)
            snprintf(ts, sizeof(ts), "%llu", ns / 1000000000ull);
        else
            snprintf(ts, sizeof(ts), "%llu.%0*llu", ns / 1000000000ull, dec,
                     ns % 1000000000ull / div);
        la += (size_t)snprintf(a + la, cap - la, "%s,%u,%u,%s\n", ts, in, out, r);
        lb += (size_t)snprintf(b + lb, cap - lb, "\"%s\",\"%u\",\"%u\",\"%s\"\n", ts, in, out,
                               r);
        assert_true(la < cap && lb < cap);
    }
    reqtrace_init(&ra);
    reqtrace_init(&rb);
    load_text(&ra, a);
    load_text(&rb, b);
    assert_int_equal(ra.n, 5000);
    assert_int_equal(rb.n, ra.n);
    assert_memory_equal(ra.req, rb.req, ra.n * sizeof(*ra.req));
    for (k = 0; k < ra.n; k++) {
        const char *x = reqtrace_region(&ra, k), *y = reqtrace_region(&rb, k);

        assert_true((x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0));
    }
    assert_int_equal(ra.nregions, 3);
    reqtrace_free(&ra);
    reqtrace_free(&rb);
    free(a);
    free(b);
}

/* Written and read back: the same bytes again. */
static void test_write_round_trip(void **state)
{
    struct reqtrace rt, back;
    char *a = NULL, *b = NULL;
    size_t na, nb;
    FILE *fp;
    struct err e;

    (void)state;
    reqtrace_init(&rt);
    reqtrace_init(&back);
    load_text(&rt, good);
    fp = open_memstream(&a, &na);
    assert_int_equal(reqtrace_write(&rt, fp, &e), 0);
    fclose(fp);
    assert_string_equal(a,
                        "arrival_s,input_tokens,output_tokens,region,service,service_s\n"
                        "0,100,20,azure/eastus,chat,1.5\n"
                        "0,7,0,,,\n"
                        "2.25,5,1,gcp/europe-west4,chat,\n"
                        "2.25,100000000,3,azure/eastus,img-1,0\n");
    load_text(&back, a);
    fp = open_memstream(&b, &nb);
    assert_int_equal(reqtrace_write(&back, fp, &e), 0);
    fclose(fp);
    assert_string_equal(a, b);
    free(a);
    free(b);
    reqtrace_free(&rt);
    reqtrace_free(&back);
}

/* Minimal columns: no side arrays at all (16 bytes a request). */
static void test_load_minimal(void **state)
{
    struct reqtrace rt;

    (void)state;
    reqtrace_init(&rt);
    load_text(&rt, "arrival_s,input_tokens,output_tokens\n0,1,1\n1e2,2,2");
    assert_int_equal(rt.n, 2);
    assert_true(rt.req[1].arrival_s == 100);
    assert_null(rt.region);
    assert_null(rt.service);
    assert_null(rt.service_s);
    assert_int_equal(reqtrace_bytes(&rt), 2 * 16);
    reqtrace_free(&rt);
}

static const struct bad_case {
    const char *text, *msg;
} bad_cases[] = {
    {"", "t.csv:1: empty file: expected a header row"},
    {"arrival,input_tokens,output_tokens\n",
     "t.csv:1:1: unknown column 'arrival' (did you mean 'arrival_s'?)"},
    {"arrival_s,input_tokens\n0,1\n", "t.csv:1: missing required column 'output_tokens'"},
    {"arrival_s,input_tokens,output_tokens\n2,1,1\n\n1,1,1\n",
     "t.csv:4: arrival_s 1 is earlier than 2 on line 2; rows must be in time order"},
    {"arrival_s,input_tokens,output_tokens\n-1,1,1\n",
     "t.csv:2: column 'arrival_s': '-1' is not a number of seconds in [0, 1e9]"},
    {"arrival_s,input_tokens,output_tokens\nnan,1,1\n",
     "t.csv:2: column 'arrival_s': 'nan' is not a number of seconds in [0, 1e9]"},
    {"arrival_s,input_tokens,output_tokens\n,1,1\n",
     "t.csv:2: column 'arrival_s' is empty"},
    {"arrival_s,input_tokens,output_tokens\n0,1.5,1\n",
     "t.csv:2: column 'input_tokens': '1.5' is not a whole number of tokens in [0, "
     "100000000]"},
    {"arrival_s,input_tokens,output_tokens\n0,1,100000001\n",
     "t.csv:2: column 'output_tokens': '100000001' is not a whole number of tokens in "
     "[0, "
     "100000000]"},
    {"arrival_s,input_tokens,output_tokens\n0,1,\n",
     "t.csv:2: column 'output_tokens' is empty"},
    {"arrival_s,input_tokens,output_tokens,region\n0,1,1,eastus\n",
     "t.csv:2: column 'region': 'eastus' is not a region; write cloud/region as the "
     "catalog "
     "names it (e.g. azure/eastus)"},
    {"arrival_s,input_tokens,output_tokens,region\n0,1,1,gcp/us-central1/us-central1-a\n",
     "t.csv:2: column 'region': 'gcp/us-central1/us-central1-a' is not a region"},
    {"arrival_s,input_tokens,output_tokens,service\n0,1,1,my chat\n",
     "t.csv:2: column 'service': 'my chat' has a character that is not allowed"},
    {"arrival_s,input_tokens,output_tokens,service_s\n0,1,1,-2\n",
     "t.csv:2: column 'service_s': '-2' is not a number of seconds"},
    {"arrival_s,input_tokens,output_tokens\n0,1\n",
     "t.csv:2: 2 fields, but the header has 3"},
    {"arrival_s,input_tokens,output_tokens\n0,1,1,1\n",
     "t.csv:2: more fields than the header's 3"},
    {"arrival_s,input_tokens,output_tokens\n0,\"1,1\n",
     "t.csv:2: a quoted field is never closed (fields may not span lines)"},
    {"arrival_s,input_tokens,output_tokens\n0,1\"2,1\n",
     "t.csv:2: a quote inside unquoted field 2"},
    {"arrival_s,input_tokens,output_tokens\n0,\"1\"x,1\n",
     "t.csv:2: text after a closing quote in field 2"},
    {"arrival_s,input_tokens,output_tokens,service\n0,1,1,"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a\n",
     "t.csv:2: column 'service' is longer than 255 bytes"},
};

/* Every bad row: refused with its file:line message, nothing loaded. */
static void test_load_bad(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct reqtrace rt;
        struct err e;
        int rc;

        reqtrace_init(&rt);
        err_clear(&e);
        rc = reqtrace_load_mem(&rt, "t.csv", bad_cases[i].text, strlen(bad_cases[i].text),
                               &e);
        if (rc == 0 || strstr(e.msg, bad_cases[i].msg) == NULL)
            fail_msg("case %zu: rc %d, got '%s', want '%s'", i, rc, e.msg,
                     bad_cases[i].msg);
        assert_int_equal(rt.n, 0);
        reqtrace_free(&rt);
    }
}

/* A failed load keeps what was there: rows and which columns exist. */
static void test_failed_load_keeps(void **state)
{
    static const char bad[] = "arrival_s,input_tokens,output_tokens,region\n"
                              "5,1,1,azure/eastus\n6,1,x,azure/eastus\n";
    struct reqtrace rt;
    struct err e;

    (void)state;
    reqtrace_init(&rt);
    load_text(&rt, "arrival_s,input_tokens,output_tokens\n1,2,3\n");
    assert_int_not_equal(reqtrace_load_mem(&rt, "b.csv", bad, strlen(bad), &e), 0);
    assert_string_equal(e.msg,
                        "b.csv:3: column 'output_tokens': 'x' is not a whole number "
                        "of tokens in [0, 100000000]");
    assert_int_equal(rt.n, 1);
    assert_null(rt.region); /* the failed file's column is gone too */
    /* a second file may not go back in time */
    assert_int_not_equal(
        reqtrace_load_mem(&rt, "c.csv", "arrival_s,input_tokens,output_tokens\n0.5,1,1\n",
                          44, &e),
        0);
    assert_string_equal(e.msg,
                        "c.csv:2: arrival_s 0.5 is earlier than 1, the last arrival "
                        "already loaded; load files in time order");
    load_text(&rt,
              "arrival_s,input_tokens,output_tokens,region\n1,4,4,oci/eu-frankfurt-1\n");
    assert_int_equal(rt.n, 2);
    assert_null(reqtrace_region(&rt, 0));
    assert_string_equal(reqtrace_region(&rt, 1), "oci/eu-frankfurt-1");
    reqtrace_free(&rt);
}

/* A file of several read chunks: the same rows as from memory, and an error
 * on its last line names that line. */
static void test_load_file_chunks(void **state)
{
    char *dir = tu_mkdtemp(), path[512];
    struct reqtrace rt;
    struct err e;
    FILE *fp;
    size_t i, rows = 400000; /* ~12 MB: three 4 MB chunks */

    (void)state;
    snprintf(path, sizeof(path), "%s/big.csv", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("arrival_s,input_tokens,output_tokens,region\n", fp);
    for (i = 0; i < rows; i++)
        fprintf(fp, "%zu.5,%zu,%zu,%s\n", i, i % 1000, i % 7,
                i % 3 ? "azure/eastus" : "gcp/europe-west4");
    fclose(fp);
    reqtrace_init(&rt);
    if (reqtrace_load(&rt, path, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(rt.n, rows);
    assert_true(rt.req[rows - 1].arrival_s == (double)(rows - 1) + 0.5);
    assert_int_equal(rt.req[123457].input_tokens, 457);
    assert_string_equal(reqtrace_region(&rt, 123456), "gcp/europe-west4");
    reqtrace_free(&rt);
    fp = fopen(path, "a");
    fputs("1,1,1,azure/eastus\n", fp); /* out of order, on line rows + 2 */
    fclose(fp);
    reqtrace_init(&rt);
    assert_int_not_equal(reqtrace_load(&rt, path, &e), 0);
    assert_non_null(strstr(e.msg,
                           "big.csv:400002: arrival_s 1 is earlier than 399999.5 on "
                           "line 400001"));
    assert_int_equal(rt.n, 0);
    reqtrace_free(&rt);
    /* a header after more than a chunk of blank lines: still found, and
     * counted on its real line */
    fp = fopen(path, "w");
    for (i = 0; i < 5000000; i++)
        fputc('\n', fp);
    fputs("arrival_s,input_tokens,output_tokens,regio\n", fp);
    fclose(fp);
    reqtrace_init(&rt);
    assert_int_not_equal(reqtrace_load(&rt, path, &e), 0);
    assert_non_null(strstr(e.msg,
                           "big.csv:5000001:38: unknown column 'regio' (did you mean "
                           "'region'?)"));
    reqtrace_free(&rt);
    tu_rmdir(dir);
    free(dir);
}

/* ---- --users ---- */

static void test_parse_users(void **state)
{
    struct reqtrace_user u[REQTRACE_USERS_MAX];
    size_t n;
    struct err e;

    (void)state;
    assert_int_equal(reqtrace_parse_users(reqtrace_default_users, u, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(u[0].name, "azure/eastus");
    assert_true(u[2].share == 0.2);
    assert_int_equal(reqtrace_parse_users("aws/us-east-1=1", u, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_not_equal(reqtrace_parse_users("azure/eastus=0.5,gcp/x=0.4", u, &n, &e),
                         0);
    assert_non_null(strstr(e.msg, "the shares sum to 0.9; they must sum to 1"));
    assert_int_not_equal(
        reqtrace_parse_users("azure/eastus=0.5,azure/eastus=0.5", u, &n, &e), 0);
    assert_non_null(strstr(e.msg, "azure/eastus is given twice"));
    assert_int_not_equal(reqtrace_parse_users("eastus=1", u, &n, &e), 0);
    assert_non_null(strstr(e.msg, "'eastus' is not a region"));
    assert_int_not_equal(reqtrace_parse_users("azure/eastus=half", u, &n, &e), 0);
    assert_non_null(strstr(e.msg, "must be in (0, 1], not 'half'"));
    assert_int_not_equal(reqtrace_parse_users("azure/eastus", u, &n, &e), 0);
    assert_non_null(strstr(e.msg, "is not cloud/region=share"));
}

/* ---- converters ---- */

static void test_mooncake_line(void **state)
{
    struct reqtrace rt;
    struct err e;
    const char *why = NULL;
    const char *l;

    (void)state;
    reqtrace_init(&rt);
    l = "{\"timestamp\": 1500, \"input_length\": 6758, \"output_length\": 500, "
        "\"hash_ids\": [0]}";
    assert_int_equal(reqtrace_mooncake_line("m.jsonl", 3, l, strlen(l), &rt, &why, &e),
                     1);
    assert_true(rt.req[0].arrival_s == 1.5);
    assert_int_equal(rt.req[0].input_tokens, 6758);
    assert_int_equal(rt.req[0].output_tokens, 500);
    l = "{\"timestamp\": -1, \"input_length\": 1, \"output_length\": 1}";
    assert_int_equal(reqtrace_mooncake_line("m.jsonl", 4, l, strlen(l), &rt, &why, &e),
                     0);
    assert_string_equal(why, "negative timestamp");
    l = "{\"timestamp\": 1, \"input_length\": 1}";
    assert_true(reqtrace_mooncake_line("m.jsonl", 5, l, strlen(l), &rt, &why, &e) < 0);
    assert_string_equal(e.msg,
                        "m.jsonl:5: no 'output_length' (a Mooncake line is an object "
                        "with timestamp, input_length and output_length)");
    l = "{\"timestamp\": 1, \"input_length\": 1.5, \"output_length\": 1}";
    assert_true(reqtrace_mooncake_line("m.jsonl", 6, l, strlen(l), &rt, &why, &e) < 0);
    assert_string_equal(e.msg, "m.jsonl:6: 'input_length' is not a whole number");
    l = "{\"timestamp\": 1, \"input_length\": 1,, }";
    assert_true(reqtrace_mooncake_line("m.jsonl", 7, l, strlen(l), &rt, &why, &e) < 0);
    assert_non_null(strstr(e.msg, "m.jsonl:7:"));
    assert_int_equal(rt.n, 1);
    reqtrace_free(&rt);
}

static char *convert_file(int mooncake, const char *text,
                          const struct reqtrace_conv_opts *o, int want_rc, struct err *e)
{
    char *dir = tu_mkdtemp(), path[512], *out = NULL;
    size_t n;
    FILE *fp = open_memstream(&out, &n);
    int rc;

    tu_write(dir, "in", text);
    snprintf(path, sizeof(path), "%s/in", dir);
    err_clear(e);
    rc = mooncake ? reqtrace_convert_mooncake(path, o, fp, NULL, e)
                  : reqtrace_convert_alibaba(path, o, fp, NULL, e);
    fclose(fp);
    if ((rc == 0) != (want_rc == 0))
        fail_msg("rc %d: %s", rc, e->msg);
    tu_rmdir(dir);
    free(dir);
    return out;
}

/* Mooncake: ms to s, tokens as they are, rows sorted by time, one region
 * per row from the list; deterministic by seed. */
static void test_convert_mooncake(void **state)
{
    static const char src[] =
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 1}\n"
        "\n"
        "{\"timestamp\": 2500, \"input_length\": 30, \"output_length\": 3}\n"
        "{\"timestamp\": 1000, \"input_length\": 20, \"output_length\": 2}\n";
    struct reqtrace_conv_opts o = opts(1);
    struct reqtrace rt;
    struct err e;
    char *a = convert_file(1, src, &o, 0, &e), *b, *c;
    size_t i;

    (void)state;
    reqtrace_init(&rt);
    load_text(&rt, a);
    assert_int_equal(rt.n, 3);
    assert_true(rt.req[1].arrival_s == 1 && rt.req[1].input_tokens == 20);
    assert_true(rt.req[2].arrival_s == 2.5 && rt.req[2].output_tokens == 3);
    for (i = 0; i < rt.n; i++)
        assert_true(strcmp(reqtrace_region(&rt, i), "azure/eastus") == 0 ||
                    strcmp(reqtrace_region(&rt, i), "gcp/asia-northeast1") == 0);
    assert_null(rt.service);
    reqtrace_free(&rt);
    b = convert_file(1, src, &o, 0, &e);
    assert_string_equal(a, b);
    /* another seed: another assignment for some of 200 requests */
    free(a);
    free(b);
    {
        char big[200 * 64];
        size_t len = 0;

        for (i = 0; i < 200; i++)
            len += (size_t)snprintf(big + len, sizeof(big) - len,
                                    "{\"timestamp\": %zu, \"input_length\": 1, "
                                    "\"output_length\": 1}\n",
                                    i);
        a = convert_file(1, big, &o, 0, &e);
        o.seed = 2;
        o.service = "chat";
        b = convert_file(1, big, &o, 0, &e);
        assert_string_not_equal(a, b);
        assert_non_null(
            strstr(b, "arrival_s,input_tokens,output_tokens,region,service\n"));
        assert_non_null(strstr(b, ",chat\n"));
    }
    c = convert_file(
        1, "{\"timestamp\": 0, \"input_length\": \"ten\", \"output_length\": 1}\n", &o,
        -1, &e);
    assert_non_null(strstr(e.msg, "/in:1: 'input_length' is not a whole number"));
    free(a);
    free(b);
    free(c);
}

/* Alibaba GenAI: time from the first request, prompt characters / 4 as
 * input tokens, steps x images as output units, exec time as service_s;
 * PENDING rows and rows without steps dropped, FAILED kept. */
static void test_convert_alibaba(void **state)
{
    static const char hdr[] =
        "gmt_create,predict_type,predict_status,exec_time_seconds,groupId,prompt_length,"
        "negative_prompt_length,num_images_per_prompt,num_inference_steps,"
        "checkpoint_model_version_id,num_lora\n";
    char src[2048];
    struct reqtrace_conv_opts o = opts(1);
    struct reqtrace rt;
    struct err e;
    char *a;

    (void)state;
    snprintf(src, sizeof(src),
             "%s2024-11-30 23:59:50,TXT_2_IMG,SUCCEED,32.0,G0,63.0,26.0,1.0,30.0,M0,0\n"
             "2024-11-30 23:59:55,TXT_2_IMG,PENDING,0.0,G1,,,,,,0\n"
             "2024-12-01 00:00:10,IMG_2_IMG,FAILED,53.5,G1,93.0,,8.0,40.0,M1,0\n"
             "2024-12-01 00:01:10,IMG_2_IMG,SUCCEED,20.0,G1,,,4.0,,M1,0\n"
             "2024-12-01 00:01:10,INPAINTING,PROCESSING,21.0,G2,0.0,,2.0,25.0,M1,1\n",
             hdr);
    a = convert_file(0, src, &o, 0, &e);
    reqtrace_init(&rt);
    load_text(&rt, a);
    assert_int_equal(rt.n, 3);
    assert_true(rt.req[0].arrival_s == 0 && rt.req[0].input_tokens == 16 &&
                rt.req[0].output_tokens == 30 && reqtrace_service_s(&rt, 0) == 32);
    assert_true(rt.req[1].arrival_s == 20 && rt.req[1].input_tokens == 24 &&
                rt.req[1].output_tokens == 320 && reqtrace_service_s(&rt, 1) == 53.5);
    assert_true(rt.req[2].arrival_s == 80 && rt.req[2].input_tokens == 0 &&
                rt.req[2].output_tokens == 50 && reqtrace_service_s(&rt, 2) == 21);
    reqtrace_free(&rt);
    free(a);
    snprintf(src, sizeof(src),
             "%s2024-11-30 24:59:50,TXT_2_IMG,SUCCEED,32.0,G0,63,,1,30,M0,0\n", hdr);
    a = convert_file(0, src, &o, -1, &e);
    assert_non_null(strstr(e.msg,
                           "in:2: column 'gmt_create': '2024-11-30 24:59:50' is not "
                           "YYYY-MM-DD HH:MM:SS"));
    free(a);
    snprintf(src, sizeof(src),
             "%s2024-11-30 23:59:50,TXT_2_IMG,SUCCEED,32.0,G0,63,,1.5,30,M0,0\n", hdr);
    a = convert_file(0, src, &o, -1, &e);
    assert_non_null(strstr(e.msg,
                           "in:2: column 'num_images_per_prompt': 1.5 is not a whole "
                           "number"));
    free(a);
}

/* ---- regions ---- */

/* n requests evenly over `span` seconds. */
static void even_trace(struct reqtrace *rt, size_t n, double span)
{
    size_t i;

    reqtrace_init(rt);
    for (i = 0; i < n; i++)
        reqtrace_add(rt, span * (double)i / (double)n, 1, 1, NULL, NULL, -1);
}

/* Share of region `name` among the rows of text with hour-of-day in [h0, h1). */
static double share_at(const char *text, const char *name, double h0, double h1)
{
    struct reqtrace rt;
    size_t i, in = 0, hit = 0;

    reqtrace_init(&rt);
    load_text(&rt, text);
    for (i = 0; i < rt.n; i++) {
        double h = fmod(rt.req[i].arrival_s / 3600, 24);

        if (h < h0 || h >= h1)
            continue;
        in++;
        hit += strcmp(reqtrace_region(&rt, i), name) == 0;
    }
    reqtrace_free(&rt);
    return in ? (double)hit / (double)in : -1;
}

/* Less than a day (20 h): the shares only, at every hour.  (With the daily
 * cycle, the region 12 h ahead would get ~70% of the requests at 01-03 h
 * UTC, and ~30% at 13-15 h.) */
static void test_regions_short(void **state)
{
    struct reqtrace_conv_opts o = opts(3);
    struct reqtrace rt;
    size_t n;
    char *text;

    (void)state;
    even_trace(&rt, 40000, 20 * 3600);
    text = emit(&rt, &o, &n);
    assert_true(fabs(share_at(text, "azure/eastus", 0, 24) - 0.5) < 0.02);
    assert_true(fabs(share_at(text, "azure/eastus", 1, 3) - 0.5) < 0.04);
    assert_true(fabs(share_at(text, "azure/eastus", 13, 15) - 0.5) < 0.04);
    free(text);
    reqtrace_free(&rt);
}

/* A week: the shares as asked overall (calibrated), but each region gets
 * more of the requests in its own afternoon than at its night. */
static void test_regions_daily(void **state)
{
    struct reqtrace_conv_opts o = opts(4);
    struct reqtrace rt;
    size_t n;
    char *text;
    double all, peak, night;

    (void)state;
    /* busier in the first half of each UTC day: calibration must undo the
     * skew that gives the region awake then */
    reqtrace_init(&rt);
    for (n = 0; n < 7 * 24 * 60; n++)
        reqtrace_add(&rt, (double)n * 60, 1, 1, NULL, NULL, -1);
    for (n = 0; n < 7 * 24 * 60; n++)
        if (fmod((double)n * 60, 86400) < 43200)
            reqtrace_add(&rt, 7 * 86400 + (double)n * 60, 1, 1, NULL, NULL, -1);
    text = emit(&rt, &o, &n);
    all = share_at(text, "azure/eastus", 0, 24);
    assert_true(fabs(all - 0.5) < 0.02);
    /* eastus (offset 0 here) peaks at 14:00 UTC, the other at 02:00 UTC */
    peak = share_at(text, "azure/eastus", 13, 15);
    night = share_at(text, "azure/eastus", 1, 3);
    assert_true(peak > 0.65);
    assert_true(night < 0.35);
    free(text);
    reqtrace_free(&rt);
}

/* ---- the repeater ---- */

struct rep_stats {
    size_t n, east;
    int ordered;
    double first_half_day, second_half_day; /* requests 08-20 h vs 20-08 h UTC */
};

static struct rep_stats rep_stats(const char *text)
{
    struct reqtrace rt;
    struct rep_stats s;
    size_t i;

    memset(&s, 0, sizeof(s));
    reqtrace_init(&rt);
    load_text(&rt, text); /* the loader checks time order itself */
    s.ordered = 1;
    s.n = rt.n;
    for (i = 0; i < rt.n; i++) {
        double h = fmod(rt.req[i].arrival_s / 3600, 24);

        s.east += strcmp(reqtrace_region(&rt, i), "azure/eastus") == 0;
        if (h >= 8 && h < 20)
            s.first_half_day++;
        else
            s.second_half_day++;
        assert_true(rt.req[i].input_tokens >= 1 && rt.req[i].input_tokens <= 100);
    }
    reqtrace_free(&rt);
    return s;
}

static void test_repeat(void **state)
{
    struct reqtrace_conv_opts o = opts(5);
    struct reqtrace rt;
    struct rep_stats s;
    size_t n, i;
    char *a, *b;

    (void)state;
    reqtrace_init(&rt);
    for (i = 0; i < 100; i++) /* a bursty 100-request source over ~99 s */
        reqtrace_add(&rt, (double)(i / 10) * 11, (uint32_t)(i + 1), 1, NULL, NULL, -1);
    o.repeat_to_s = 3600;
    o.rate = 5;
    a = emit(&rt, &o, &n);
    s = rep_stats(a);
    assert_true(fabs((double)s.n - 18000) < 18000 * 0.03);
    assert_true(fabs((double)s.east / (double)s.n - 0.5) < 0.02);
    b = emit(&rt, &o, &n);
    assert_string_equal(a, b);
    free(b);
    o.seed = 6;
    b = emit(&rt, &o, &n);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    /* two days with the daily cycle: eastus (peak 14:00) and the other
     * region (peak 02:00) share evenly, and the total rate stays near 2/s */
    o.repeat_to_s = 2 * 86400;
    o.rate = 2;
    o.users = (const struct reqtrace_user[]){{"azure/eastus", 0.8, 0},
                                             {"gcp/asia-northeast1", 0.2, 12}};
    a = emit(&rt, &o, &n);
    s = rep_stats(a);
    assert_true(fabs((double)s.n - 2 * 86400 * 2) < 2 * 86400 * 2 * 0.02);
    assert_true(fabs((double)s.east / (double)s.n - 0.8) < 0.02);
    /* eastus dominates and peaks in the UTC day: more requests then */
    assert_true(s.first_half_day > 1.3 * s.second_half_day);
    free(a);
    reqtrace_free(&rt);
}

static void test_repeat_errors(void **state)
{
    struct reqtrace_conv_opts o = opts(5);
    struct reqtrace rt;
    struct err e;
    FILE *fp = fopen("/dev/null", "w");

    (void)state;
    reqtrace_init(&rt);
    reqtrace_add(&rt, 5, 1, 1, NULL, NULL, -1);
    o.repeat_to_s = 3600;
    assert_int_not_equal(reqtrace_emit(&rt, &o, fp, NULL, &e), 0);
    assert_non_null(strstr(e.msg, "at least two distinct arrival times"));
    reqtrace_add(&rt, 6, 1, 1, NULL, NULL, -1);
    o.rate = 1e9;
    assert_int_not_equal(reqtrace_emit(&rt, &o, fp, NULL, &e), 0);
    assert_non_null(strstr(e.msg, "copies of the source"));
    o.rate = 1e5;
    o.repeat_to_s = 365 * 86400.0;
    assert_int_not_equal(reqtrace_emit(&rt, &o, fp, NULL, &e), 0);
    assert_non_null(strstr(e.msg, "would write 3.15e+12 requests"));
    o.rate = 0;
    o.service = "a b";
    assert_int_not_equal(reqtrace_emit(&rt, &o, fp, NULL, &e), 0);
    assert_non_null(strstr(e.msg, "--service: 'a b'"));
    fclose(fp);
    reqtrace_free(&rt);
}

/* ---- the real shared traces ---- */

static void test_shared_mooncake(void **state)
{
    struct reqtrace_user u[REQTRACE_USERS_MAX];
    struct reqtrace_conv_opts o;
    struct reqtrace rt;
    char *out = NULL;
    size_t n, i, east = 0, eu = 0;
    FILE *fp;
    struct err e;

    (void)state;
    if (access(MOONCAKE, R_OK) != 0)
        skip();
    memset(&o, 0, sizeof(o));
    assert_int_equal(reqtrace_parse_users(reqtrace_default_users, u, &o.nusers, &e), 0);
    o.users = u;
    o.seed = 1;
    fp = open_memstream(&out, &n);
    if (reqtrace_convert_mooncake(MOONCAKE, &o, fp, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    fclose(fp);
    reqtrace_init(&rt);
    load_text(&rt, out); /* in time order, or the loader says so */
    assert_int_equal(rt.n, 12031);
    assert_true(rt.req[rt.n - 1].arrival_s == 3536.999);
    for (i = 0; i < rt.n; i++) {
        east += strcmp(reqtrace_region(&rt, i), "azure/eastus") == 0;
        eu += strcmp(reqtrace_region(&rt, i), "gcp/europe-west4") == 0;
    }
    assert_true(fabs((double)east / 12031 - 0.5) < 0.02);
    assert_true(fabs((double)eu / 12031 - 0.3) < 0.02);
    reqtrace_free(&rt);
    free(out);
}

static void test_shared_genai(void **state)
{
    struct reqtrace_conv_opts o = opts(1);
    struct reqtrace rt;
    char *out = NULL;
    size_t n, i, east = 0;
    FILE *fp;
    struct err e;

    (void)state;
    if (access(GENAI, R_OK) != 0)
        skip();
    fp = open_memstream(&out, &n);
    if (reqtrace_convert_alibaba(GENAI, &o, fp, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    fclose(fp);
    reqtrace_init(&rt);
    load_text(&rt, out);
    assert_int_equal(rt.n, 26823 - 30); /* the PENDING requests dropped */
    for (i = 0; i < rt.n; i++)
        east += strcmp(reqtrace_region(&rt, i), "azure/eastus") == 0;
    assert_true(fabs((double)east / (double)rt.n - 0.5) < 0.02);
    reqtrace_free(&rt);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good),
        cmocka_unit_test(test_load_fast_same),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_load_minimal),
        cmocka_unit_test(test_load_bad),
        cmocka_unit_test(test_failed_load_keeps),
        cmocka_unit_test(test_load_file_chunks),
        cmocka_unit_test(test_parse_users),
        cmocka_unit_test(test_mooncake_line),
        cmocka_unit_test(test_convert_mooncake),
        cmocka_unit_test(test_convert_alibaba),
        cmocka_unit_test(test_regions_short),
        cmocka_unit_test(test_regions_daily),
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_repeat_errors),
        cmocka_unit_test(test_shared_mooncake),
        cmocka_unit_test(test_shared_genai),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
