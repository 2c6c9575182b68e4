/*
 * test_catalog_load.c - the catalog loader's newer duties: CPU offers (empty
 * accelerator) load as such and stay out of accelerator suggestions, and the
 * rows that a CPU offer must not have are refused with file:line; the
 * snapshot cache gives the same catalog as the CSV files (also when mapped
 * at another address), and a stale, corrupt or truncated snapshot is not
 * used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog/catalog.h"
#include "catalog/catalog_int.h" /* white box: did a load come from a snapshot? */
#include "testutil.h"

#define MINI TEST_DATA "/catalog-mini"

static const char OFFER_HDR[] =
    "cloud,region,zone,instance_type,accelerator,accelerators_per_node,"
    "accelerator_memory_gib,vcpus,memory_gib,interconnect,max_cluster_nodes,price_hour,"
    "spot_price_hour\n";

/* The mini catalog with offers.csv replaced by the header and rows. */
static char *mini_with_offers(const char *rows)
{
    char *dir = tu_mkdtemp();
    char *text = xasprintf("%s%s", OFFER_HDR, rows);

    tu_copy_dir(MINI, dir);
    tu_write(dir, "offers.csv", text);
    free(text);
    /* They name the mini catalog's offers, which these rows replace. */
    text = xasprintf("%s/quotas.csv", dir);
    unlink(text);
    free(text);
    text = xasprintf("%s/commitments.csv", dir);
    unlink(text);
    free(text);
    return dir;
}

static struct catalog *must_load(const char *dir)
{
    struct catalog *cat = NULL;
    struct err e;

    err_clear(&e);
    if (catalog_load(&cat, dir, &e) != 0)
        fail_msg("%s", e.msg);
    return cat;
}

static void test_cpu_offers(void **state)
{
    char *dir = mini_with_offers(
        "azure,eastus,,Standard_D8s_v5,,0,,8,32,,,0.384,0.0768\n"
        "azure,eastus,,Standard_ND96isr_H100_v5,H100,8,80,96,1900,infiniband,,98.32,\n"
        "azure,westeurope,,Standard_D4s_v5,,,,4,16,none,,0.2,\n");
    struct catalog *cat = must_load(dir);
    const struct offer *o;
    const char *const *names;
    const uint32_t *idx;
    size_t n;

    (void)state;
    assert_int_equal(catalog_noffers(cat), 3);
    o = catalog_offer(cat, 0);
    assert_string_equal(o->accelerator, "");
    assert_int_equal(o->acc_count, 0);
    assert_true(o->acc_mem_gib == 0);
    assert_true(o->vcpus == 8 && o->memory_gib == 32);
    assert_true(fabs(o->price - 0.384) < 1e-12);
    assert_string_equal(o->interconnect, "none");
    /* an empty count is 0 for a CPU offer */
    assert_int_equal(catalog_offer(cat, 2)->acc_count, 0);
    /* interned: both CPU offers share the "" pointer */
    assert_ptr_equal(catalog_offer(cat, 0)->accelerator, catalog_offer(cat, 2)->accelerator);
    /* "" is no accelerator name: not canonical, not suggested */
    assert_null(catalog_accelerator(cat, ""));
    names = catalog_accelerators(cat);
    assert_string_equal(names[0], "H100");
    assert_null(names[1]);
    /* but the CPU offers can be listed, from any "" */
    idx = catalog_offers_of(cat, "", &n);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 2);
    idx = catalog_offers_of(cat, catalog_accelerator(cat, "h100"), &n);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 1);
    assert_int_equal(catalog_find_offer(cat, "azure", "westeurope", "", "Standard_D4s_v5", ""),
                     2);
    catalog_free(cat);
    tu_rmdir(dir);
    free(dir);
}

#define THR_HEADER "accelerator,train,infer,cores_per_chip,source,note\n"

/* ---- throughput.csv ---- */

static void test_throughput(void **state)
{
    char *dir = tu_mkdtemp();
    struct catalog *cat = NULL;
    struct err e;

    (void)state;
    tu_copy_dir(MINI, dir);
    assert_int_equal(catalog_load(&cat, dir, &e), 0);
    /* no file: every ratio unknown */
    assert_int_equal(catalog_nthroughput(cat), 0);
    assert_true(catalog_throughput(cat, "H100", 0) == 0);
    catalog_free(cat);
    tu_write(dir, "throughput.csv",
             THR_HEADER "A100-80GB,1,1,,ref,\nH100,2,2.6,,\"MLPerf, v4.1\",note\n"
                        "MI300X,,2.6,,x,\ntpu-v5p,1.5,1.2,2,y,\ntpu-v6e,2.4,1.8,1,z,\n");
    assert_int_equal(catalog_load(&cat, dir, &e), 0);
    assert_int_equal(catalog_nthroughput(cat), 5);
    assert_true(catalog_throughput(cat, "h100", 0) == 2);    /* any case */
    assert_true(catalog_throughput(cat, "H100", 1) == 2.6);  /* inference */
    assert_true(catalog_throughput(cat, "MI300X", 0) == 0);  /* train unknown */
    assert_true(catalog_throughput(cat, "L4", 0) == 0);      /* no row */
    assert_true(catalog_throughput(cat, "tpu-v5p-8", 0) == 6);  /* 4 chips x 1.5 */
    assert_true(catalog_throughput(cat, "tpu-v6e-8", 1) == 8 * 1.8);
    assert_true(catalog_throughput(cat, "tpu-v5p", 0) == 0);    /* a family, no slice */
    assert_true(catalog_throughput(cat, "tpu-v5p-x", 0) == 0);
    assert_true(catalog_node_throughput(cat, "H100", 8, 0, 0) == 16);
    assert_true(catalog_node_throughput(cat, "A100-80GB", 1, 0.5, 0) == 0.5);
    catalog_free(cat);
    tu_rmdir(dir);
    free(dir);
}

static const struct bad_row_thr {
    const char *rows, *expect;
} bad_thr[] = {
    {"H100,2,2.6,,x,\nL4,-1,,,y,\n", "throughput.csv:3: train must be in (0, 1000]"},
    {"H100,0,2.6,,x,\n", "throughput.csv:2: train must be in (0, 1000]"},
    {"H100,2,fast,,x,\n", "throughput.csv:2:8: column 'infer'"},
    /* columns count characters, not bytes (U+00DC is two bytes) */
    {"\xc3\x9c"
     "nobody,2,fast,,x,\n",
     "throughput.csv:2:11: column 'infer'"},
    {"H100,2,2.6,,,\n", "throughput.csv:2: every row needs a source"},
    {"H100,2,2.6,,x,\nh100,2,2.6,,x,\n",
     "throughput.csv:3: accelerator 'h100' is already on line 2"},
    {"H100,2,2.6,2,x,\n", "throughput.csv:2: cores_per_chip is for a TPU family"},
    {"tpu-v5p,2,2.6,9,x,\n", "throughput.csv:2:15: column 'cores_per_chip'"},
    {",2,2.6,,x,\n", "throughput.csv:2: empty accelerator"},
    /* a quoted line break in the last row, with no newline after it: no column */
    {"\"tpu-\nv5p\",2,fast,,x,", "throughput.csv:2: column 'infer'"},
    /* a misspelling of one this catalog sells: its ratios would go unused */
    {"H100,2,2.6,,x,\nH10O,2,2.6,,x,\n",
     "throughput.csv:3:1: unknown accelerator 'H10O' (did you mean 'H100'?)"},
};

/* Names the catalog does not sell but SkyPilot knows, even one edit from one
 * it sells (A40 beside A10), TPU families, and the shipped table itself all
 * load on the small catalog: only a misspelling is refused. */
static void test_throughput_names(void **state)
{
    char *dir = tu_mkdtemp(),
         *shipped = xasprintf("%s/catalog/throughput.csv", SOURCE_DIR);
    struct catalog *cat = NULL;
    struct err e;
    FILE *f;
    char buf[16384];
    size_t n;

    (void)state;
    tu_copy_dir(MINI, dir);
    tu_write(dir, "throughput.csv",
             THR_HEADER "A10,1,1,,x,\nA40,1,1,,x,\nH200,2,2,,x,\nGB200,3,3,,x,\n"
                        "tpu-v4,1,1,2,x,\nV100,0.5,0.5,,x,\n");
    assert_int_equal(catalog_load(&cat, dir, &e), 0);
    assert_int_equal(catalog_nthroughput(cat), 6);
    catalog_free(cat);
    assert_non_null(f = fopen(shipped, "r"));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    tu_write(dir, "throughput.csv", buf);
    if (catalog_load(&cat, dir, &e) != 0)
        fail_msg("the shipped throughput.csv on a small catalog: %s", e.msg);
    catalog_free(cat);
    tu_rmdir(dir);
    free(dir);
    free(shipped);
}

static void test_bad_throughput_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_thr) / sizeof(bad_thr[0]); i++) {
        char *dir = tu_mkdtemp(), *text = xasprintf(THR_HEADER "%s", bad_thr[i].rows);
        struct catalog *cat = NULL;
        struct err e;
        int rc;

        tu_copy_dir(MINI, dir);
        tu_write(dir, "throughput.csv", text);
        err_clear(&e);
        rc = catalog_load(&cat, dir, &e);
        if (rc == 0 || strstr(e.msg, bad_thr[i].expect) == NULL)
            fail_msg("case %zu: rc=%d, message '%s' lacks '%s'", i, rc, e.msg, bad_thr[i].expect);
        assert_null(cat);
        tu_rmdir(dir);
        free(dir);
        free(text);
    }
}

struct bad_row {
    const char *rows;
    const char *expect;
};

/* storage.csv: what is wrong, on which line. */
static const struct bad_row bad_storage[] = {
    {"gcp,-0.02,x\n", "storage.csv:2: price_per_gb_month must be in [0, 100) USD, not -0.02"},
    {"gcp,0.02,x\ngcp,0.03,y\n", "storage.csv:3: a second row for cloud 'gcp': keep one"},
    {",0.02,x\n", "storage.csv:2: column 'cloud': '' is not a cloud name"},
    {"gcp,cheap,x\n", "storage.csv:2"},
};

static void test_bad_storage_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_storage) / sizeof(bad_storage[0]); i++) {
        char *dir = tu_mkdtemp(),
             *text = xasprintf("cloud,price_per_gb_month,note\n%s", bad_storage[i].rows);
        struct catalog *cat = NULL;
        struct err e;
        int rc;

        tu_copy_dir(MINI, dir);
        tu_write(dir, "storage.csv", text);
        err_clear(&e);
        rc = catalog_load(&cat, dir, &e);
        if (rc == 0 || strstr(e.msg, bad_storage[i].expect) == NULL)
            fail_msg("case %zu: rc=%d, message '%s' lacks '%s'", i, rc, e.msg,
                     bad_storage[i].expect);
        assert_null(cat);
        tu_rmdir(dir);
        free(dir);
        free(text);
    }
}

static const struct bad_row bad_rows[] = {
    {"azure,eastus,,D8,,2,,8,32,,,1,\n",
     "offers.csv:2: accelerators_per_node is 2 but accelerator is empty"},
    {"azure,eastus,,D8,,0,,,32,,,1,\n",
     "offers.csv:2: a CPU offer (empty accelerator) needs vcpus and memory_gib"},
    {"azure,eastus,,D8,,0,,8,0,,,1,\n",
     "offers.csv:2: a CPU offer (empty accelerator) needs vcpus and memory_gib"},
    {"azure,eastus,,D8,,0,,8,32,,,1,\nazure,eastus,,D8,,0,,8,32,,,2,\n",
     "offers.csv:3: duplicate offer azure/eastus/ D8"},
    {"azure,eastus,,,,0,,8,32,,,1,\n", "offers.csv:2: instance_type must not be empty"},
    {"azure,eastus,,D8,H100,,80,8,32,,,1,\n",
     "offers.csv:2:23: column 'accelerators_per_node' is empty"},
};

static void test_bad_cpu_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        char *dir = mini_with_offers(bad_rows[i].rows);
        struct catalog *cat = NULL;
        struct err e;
        int rc;

        err_clear(&e);
        rc = catalog_load(&cat, dir, &e);
        if (rc == 0 || strstr(e.msg, bad_rows[i].expect) == NULL)
            fail_msg("case %zu: rc=%d, message '%s' lacks '%s'", i, rc, e.msg,
                     bad_rows[i].expect);
        assert_null(cat);
        tu_rmdir(dir);
        free(dir);
    }
}

/* ---- the snapshot cache ---- */

static char *cache_dir;

/* The mini catalog with 3,000 more offers (GPU and CPU): big enough to be
 * cached (small catalogs are not). */
static char *big_catalog(void)
{
    static const char *const regions[] = {"azure,eastus,", "gcp,us-central1,us-central1-a",
                                          "oci,us-ashburn-1,US-ASHBURN-AD-1"};
    char *dir = tu_mkdtemp(), *path;
    FILE *fp;
    int i;

    tu_copy_dir(MINI, dir);
    path = xasprintf("%s/offers.csv", dir);
    fp = fopen(path, "a");
    assert_non_null(fp);
    for (i = 0; i < 3000; i++) {
        if (i % 3 == 0)
            fprintf(fp, "%s,cpu-%d,,0,,%d,%d,none,,%d.%02d,\n", regions[i % 3], i, 2 + i % 64,
                    8 + i % 512, i % 7, i % 100);
        else
            fprintf(fp, "%s,gpu-%d,%s,%d,24,%d,%d,,,%d.%02d,%d.5\n", regions[i % 3], i,
                    i % 2 ? "L4" : "A10", 1 << (i % 4), 8, 64, 1 + i % 9, i % 100, i % 5);
    }
    fclose(fp);
    free(path);
    tu_write(dir, "throughput.csv", THR_HEADER "H100,2,2.6,,x,\nA10,,0.45,,y,\ntpu-v5p,1.5,1.5,2,z,\n");
    tu_write(dir, "storage.csv", "cloud,price_per_gb_month,note\ngcp,0.02,x\n*,0.025,y\n");
    return dir;
}

static struct catalog *load_with_cache(const char *dir, const char *cache)
{
    setenv("STRATUS_CATALOG_CACHE", cache, 1);
    return must_load(dir);
}

static int snapshot_exists(void)
{
    DIR *d = opendir(cache_dir);
    struct dirent *de = d ? readdir(d) : NULL;
    int n = 0;

    for (; de != NULL; de = readdir(d))
        n += strstr(de->d_name, ".snap") != NULL && strstr(de->d_name, ".tmp") == NULL;
    if (d)
        closedir(d);
    return n;
}

/* Load until a snapshot has been written (files younger than a second are
 * not cached yet), for at most 20 s. */
static void wait_for_snapshot(const char *dir)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    int i;

    for (i = 0; i < 400 && !snapshot_exists(); i++) {
        catalog_free(load_with_cache(dir, cache_dir));
        if (!snapshot_exists())
            nanosleep(&ts, NULL);
    }
    assert_int_equal(snapshot_exists(), 1);
}

static char *snapshot_path(void)
{
    DIR *d = opendir(cache_dir);
    struct dirent *de = d ? readdir(d) : NULL;
    char *path = NULL;

    for (; de != NULL; de = readdir(d))
        if (strstr(de->d_name, ".snap") && !strstr(de->d_name, ".tmp"))
            path = xasprintf("%s/%s", cache_dir, de->d_name);
    if (d)
        closedir(d);
    assert_non_null(path);
    return path;
}

static void same_offer(const struct offer *a, const struct offer *b)
{
    assert_string_equal(a->cloud, b->cloud);
    assert_string_equal(a->region, b->region);
    assert_string_equal(a->zone, b->zone);
    assert_string_equal(a->instance_type, b->instance_type);
    assert_string_equal(a->accelerator, b->accelerator);
    assert_string_equal(a->interconnect, b->interconnect);
    assert_int_equal(a->acc_count, b->acc_count);
    assert_true(a->acc_mem_gib == b->acc_mem_gib && a->vcpus == b->vcpus &&
                a->memory_gib == b->memory_gib && a->price == b->price &&
                a->spot_price == b->spot_price);
    assert_int_equal(a->max_cluster_nodes, b->max_cluster_nodes);
    assert_int_equal(a->region_idx, b->region_idx);
    assert_int_equal(a->line, b->line);
}

static void same_lookups(const struct catalog *a, const struct catalog *b)
{
    const char *const *na = catalog_accelerators(a), *const *nb = catalog_accelerators(b);
    size_t i, j, n1, n2;

    for (i = 0; na[i] || nb[i]; i++) {
        const uint32_t *x = catalog_offers_of(a, na[i], &n1), *y = catalog_offers_of(b, nb[i], &n2);

        assert_string_equal(na[i], nb[i]);
        assert_int_equal(n1, n2);
        assert_memory_equal(x, y, n1 * sizeof(*x));
    }
    assert_int_equal(catalog_offers_of(a, "", &n1)[0], catalog_offers_of(b, "", &n2)[0]);
    assert_int_equal(n1, n2);
    for (i = 0; i < catalog_nregions(a); i++)
        for (j = 0; j < catalog_nregions(a); j++) {
            const struct region *r = catalog_region_at(a, i), *q = catalog_region_at(a, j);
            int m1, m2;

            assert_true(catalog_rtt_ms(a, r->cloud, r->name, q->cloud, q->name, &m1) ==
                        catalog_rtt_ms(b, r->cloud, r->name, q->cloud, q->name, &m2));
            assert_int_equal(m1, m2);
            assert_true(catalog_egress_per_gb(a, r->cloud, r->name, q->cloud, q->name) ==
                        catalog_egress_per_gb(b, r->cloud, r->name, q->cloud, q->name));
        }
    assert_int_equal(catalog_ncommitments(a), catalog_ncommitments(b));
    assert_int_equal(catalog_nthroughput(a), catalog_nthroughput(b));
    assert_true(catalog_throughput(a, "H100", 1) == catalog_throughput(b, "H100", 1));
    assert_true(catalog_throughput(b, "tpu-v5p-16", 0) == 12);
    assert_true(catalog_throughput(b, "A10", 1) == 0.45);
    assert_ptr_equal(catalog_quota(b, "oci", "us-ashburn-1", catalog_accelerator(b, "A10")) !=
                         NULL,
                     catalog_quota(a, "oci", "us-ashburn-1", catalog_accelerator(a, "A10")) !=
                         NULL);
}

/* b is the same catalog as a, offer by offer and lookup by lookup. */
static void same_catalog(const struct catalog *a, const struct catalog *b)
{
    size_t i;

    assert_int_equal(catalog_noffers(a), catalog_noffers(b));
    assert_int_equal(catalog_nregions(a), catalog_nregions(b));
    for (i = 0; i < catalog_nregions(a); i++) {
        assert_string_equal(catalog_region_at(a, i)->name, catalog_region_at(b, i)->name);
        assert_true(catalog_region_at(a, i)->lat == catalog_region_at(b, i)->lat);
    }
    for (i = 0; i < catalog_noffers(a); i++) {
        const struct offer *o = catalog_offer(b, i);

        same_offer(catalog_offer(a, i), o);
        assert_true(catalog_preempt_rate(a, catalog_offer(a, i)) == catalog_preempt_rate(b, o));
        /* interned: the offer's strings are the catalog's own */
        assert_ptr_equal(o->region, catalog_region_at(b, o->region_idx)->name);
        assert_ptr_equal(o->accelerator, *o->accelerator ? catalog_accelerator(b, o->accelerator)
                                                         : o->accelerator);
        if (i % 97 == 0)
            assert_int_equal(catalog_find_offer(b, o->cloud, o->region, o->zone,
                                                o->instance_type, o->accelerator),
                             (long)i);
    }
    same_lookups(a, b);
    /* storage.csv, kept in the snapshot too */
    assert_true(catalog_storage_per_gb_month(a, "gcp") == catalog_storage_per_gb_month(b, "gcp"));
    assert_true(catalog_storage_per_gb_month(a, "oci") == catalog_storage_per_gb_month(b, "oci"));
}

static void flip_byte(const char *path, long at)
{
    FILE *fp = fopen(path, "r+b");
    int ch;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    ch = fgetc(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    fputc(ch ^ 0x10, fp);
    assert_int_equal(fclose(fp), 0);
}

static void test_snapshot_is_the_catalog(void **state)
{
    char *dir = big_catalog();
    struct catalog *ref = load_with_cache(dir, "off"), *hit, *moved;
    double before;

    (void)state;
    assert_null(ref->map);
    wait_for_snapshot(dir);
    hit = load_with_cache(dir, cache_dir);
    assert_non_null(hit->map);
    same_catalog(ref, hit);
    assert_true(catalog_storage_per_gb_month(hit, "gcp") == 0.02);
    assert_true(catalog_storage_per_gb_month(hit, "aws") == 0.025); /* the '*' row */
    /* While hit holds the snapshot's address, a second load maps it elsewhere
     * and moves the pointers. */
    moved = load_with_cache(dir, cache_dir);
    assert_non_null(moved->map);
    assert_ptr_not_equal(moved->map, hit->map);
    same_catalog(ref, moved);
    /* Prices change in this process's copy only. */
    before = catalog_offer(hit, 5)->price;
    catalog_set_price(moved, 5, 1234.5, -1);
    assert_true(catalog_offer(moved, 5)->price == 1234.5);
    assert_true(catalog_offer(hit, 5)->price == before);
    assert_ptr_equal(catalog_intern(moved, "new-name"), catalog_intern(moved, "new-name"));
    catalog_free(moved);
    catalog_free(hit);
    moved = load_with_cache(dir, cache_dir);
    assert_true(catalog_offer(moved, 5)->price == before);
    catalog_free(moved);
    catalog_free(ref);
    tu_rmdir(dir);
    free(dir);
}

/* Replace the first `old` in the file by `new` (as long), in place: same
 * inode, same size, only the times change. */
static void overwrite_in_place(const char *path, const char *old, const char *new)
{
    FILE *fp = fopen(path, "r+b");
    char buf[4096], *p;
    size_t n;

    assert_non_null(fp);
    assert_int_equal(strlen(old), strlen(new));
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    p = strstr(buf, old);
    assert_non_null(p);
    assert_int_equal(fseek(fp, p - buf, SEEK_SET), 0);
    fputs(new, fp);
    assert_int_equal(fclose(fp), 0);
}

static void test_snapshot_corrupt_or_stale(void **state)
{
    char *dir = big_catalog(), *snap, *offers = xasprintf("%s/offers.csv", dir);
    struct catalog *ref = load_with_cache(dir, "off"), *cat;
    struct stat st;

    (void)state;
    wait_for_snapshot(dir);
    snap = snapshot_path();
    /* A flipped byte deep inside (an offer's price, say) is caught. */
    assert_int_equal(stat(snap, &st), 0);
    flip_byte(snap, (long)st.st_size - 4000);
    cat = load_with_cache(dir, cache_dir);
    assert_null(cat->map);
    same_catalog(ref, cat);
    catalog_free(cat);
    /* ... and the snapshot was written anew. */
    cat = load_with_cache(dir, cache_dir);
    assert_non_null(cat->map);
    catalog_free(cat);
    /* A truncated snapshot is not used. */
    assert_int_equal(truncate(snap, st.st_size / 2), 0);
    cat = load_with_cache(dir, cache_dir);
    assert_null(cat->map);
    same_catalog(ref, cat);
    catalog_free(cat);
    cat = load_with_cache(dir, cache_dir);
    assert_non_null(cat->map);
    catalog_free(cat);
    /* A source edited in place to the same size: the new price is seen. */
    assert_true(catalog_offer(ref, 0)->price == 98.32);
    overwrite_in_place(offers, "98.32", "97.32");
    cat = load_with_cache(dir, cache_dir);
    assert_null(cat->map);
    assert_true(catalog_offer(cat, 0)->price == 97.32);
    catalog_free(cat);
    cat = load_with_cache(dir, cache_dir); /* still not the old snapshot */
    assert_true(catalog_offer(cat, 0)->price == 97.32);
    catalog_free(cat);
    catalog_free(ref);
    free(snap);
    free(offers);
    tu_rmdir(dir);
    free(dir);
}

/* Load dir until its snapshot is the only one and is not `old` (for at
 * most 20 s). */
static void wait_until_only_other_snapshot(const char *dir, const char *old)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    char *now = NULL;
    int i;

    for (i = 0; i < 400; i++) {
        free(now);
        catalog_free(load_with_cache(dir, cache_dir));
        now = snapshot_path();
        if (strcmp(now, old) != 0 && snapshot_exists() == 1)
            break;
        nanosleep(&ts, NULL);
    }
    assert_int_equal(snapshot_exists(), 1);
    assert_string_not_equal(now, old);
    free(now);
}

static void test_snapshot_trust_and_pruning(void **state)
{
    char *a = big_catalog(), *b, *snap;
    struct catalog *cat;

    (void)state;
    wait_for_snapshot(a);
    snap = snapshot_path();
    /* A snapshot others could have written is not trusted. */
    assert_int_equal(chmod(snap, 0666), 0);
    cat = load_with_cache(a, cache_dir);
    assert_null(cat->map);
    catalog_free(cat);
    cat = load_with_cache(a, cache_dir); /* rewritten, owner-only */
    assert_non_null(cat->map);
    catalog_free(cat);
    /* The snapshot of a catalog that is gone goes when another is written. */
    tu_rmdir(a);
    b = big_catalog();
    wait_until_only_other_snapshot(b, snap);
    tu_rmdir(b);
    free(snap);
    free(a);
    free(b);
}

static int setup_cache(void **state)
{
    (void)state;
    cache_dir = tu_mkdtemp();
    return 0;
}

static int teardown_cache(void **state)
{
    (void)state;
    tu_rmdir(cache_dir);
    free(cache_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_offers),
        cmocka_unit_test(test_bad_cpu_rows),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_bad_throughput_rows),
        cmocka_unit_test(test_throughput_names),
        cmocka_unit_test(test_bad_storage_rows),
        cmocka_unit_test_setup_teardown(test_snapshot_is_the_catalog, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(test_snapshot_corrupt_or_stale, setup_cache,
                                        teardown_cache),
        cmocka_unit_test_setup_teardown(test_snapshot_trust_and_pruning, setup_cache,
                                        teardown_cache),
    };

    /* The CPU-offer tests' small catalogs are never cached; keep it so. */
    setenv("STRATUS_CATALOG_CACHE", "off", 1);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
