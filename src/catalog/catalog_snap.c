/*
 * catalog_snap.c - the snapshot cache of a parsed catalog (see catalog.h).
 *
 * A snapshot is one file that is the catalog's memory: a header (magic,
 * format version, a fingerprint of the structs' layout, the key = what each
 * source CSV looked like when read, the catalog directory, where each
 * section is, a checksum of everything after the header), then the interned
 * strings, the offer indices of each accelerator and the arrays of regions,
 * offers, egress and preemption rules, measured RTTs, commitments, quotas
 * and accelerators, as the structs themselves.  Their pointers (strings,
 * index lists) are addresses inside the file as mapped at a base address
 * chosen per catalog directory, so a load is an mmap at that address (copy
 * on write: catalog_set_price may change a price) and no record is copied
 * or written: 45,000 offers load in under a millisecond (mostly the
 * checksum), where copying them would fault in 5 MB of fresh pages.  When
 * the address is taken (a second catalog of the same directory in one
 * process) the file is mapped elsewhere and every pointer moved (slower,
 * still correct).
 *
 * Loading checks the header, the key and the checksum before it uses
 * anything, so a stale, truncated or corrupt file (or one from another
 * build) is never used: the CSV files are read instead and the snapshot
 * rewritten.  Because its pointers are used as they are, only a file the
 * user owns and no one else can write is read; it lives in the user's own
 * cache directory (0700).  Writing one also removes the snapshots of
 * catalog directories that are gone.
 *
 * Layout: key; records; writing; reading and checking.
 */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */
#include "catalog_int.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bump when what a row means changes (defaults, normalisation) without a
 * change of the structs' layout, which the fingerprint catches by itself. */
#define SNAP_VERSION 5u /* 3: commitments' discount; 4: throughput.csv; 5: storage.csv */
#define SNAP_MAGIC "STRCSNP1"
/* Below this many bytes of CSV a parse costs well under a millisecond (and
 * tests' small temporary catalogs leave no cache files); above the ceiling a
 * synthetic catalog would fill the cache directory. */
#define SNAP_MIN_BYTES (96 * 1024)
#define SNAP_MAX_BYTES (64L * 1024 * 1024)

static const char *const SOURCES[] = {
    "regions.csv",    "offers.csv",      "egress.csv", "latency.csv",   "latency_model.csv",
    "preemption.csv", "commitments.csv", "quotas.csv", "throughput.csv", "storage.csv",
};
#define NSOURCES (sizeof(SOURCES) / sizeof(SOURCES[0]))

struct snap_src {
    int64_t size;              /* -1 = absent */
    int64_t mtime_ns, ctime_ns;
    uint64_t ino, dev;
};

struct snap_key {
    struct snap_src src[NSOURCES];
    char dir[PATH_MAX];        /* the catalog directory, resolved */
    char cache[PATH_MAX];      /* the snapshot's path */
};

enum { A_REGIONS, A_OFFERS, A_EGRESS, A_RTT, A_RTT_PAIRS, A_PREEMPT, A_COMMITS, A_QUOTAS,
       A_ACCS, A_THR, A_STORAGE, A__N };

struct snap_hdr {
    char magic[8];
    uint32_t version, layout;
    uint64_t size;             /* of the whole file */
    uint64_t checksum;         /* of the bytes after the header */
    uint64_t base;             /* the address the pointers inside assume */
    struct snap_src src[NSOURCES];
    char dir[PATH_MAX];
    uint64_t nstr, str_off, str_bytes; /* the strings, each NUL-terminated */
    uint64_t idx_off, idx_n;   /* the accelerators' offer indices (uint32) */
    uint64_t off[A__N], n[A__N];
    double lat_intercept_ms, lat_ms_per_km, preempt_default;
};

/* ---- the key ---- */

static void stat_source(const char *dir, const char *name, struct snap_src *s)
{
    char path[PATH_MAX + 32];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    memset(s, 0, sizeof(*s));
    if (stat(path, &st) != 0) {
        s->size = -1;
        return;
    }
    s->size = (int64_t)st.st_size;
    s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    s->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    s->ino = (uint64_t)st.st_ino;
    s->dev = (uint64_t)st.st_dev;
}

/* The cache directory: $STRATUS_CATALOG_CACHE ("off" = none), else
 * $XDG_CACHE_HOME/stratus, else $HOME/.cache/stratus.  NULL when none. */
static char *cache_dir(void)
{
    const char *env = getenv("STRATUS_CATALOG_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (env && strcmp(env, "off") == 0)
        return NULL;
    if (env && *env)
        return xstrdup(env);
    if (xdg && *xdg == '/')
        return xasprintf("%s/stratus", xdg);
    if (home && *home == '/')
        return xasprintf("%s/.cache/stratus", home);
    return NULL;
}

struct snap_key *snap_key_make(const char *dir)
{
    struct snap_key *k = xcalloc(1, sizeof(*k));
    int64_t total = 0;
    char *cdir = NULL;
    size_t i;

    if (realpath(dir, k->dir) == NULL)
        goto none;
    for (i = 0; i < NSOURCES; i++) {
        stat_source(k->dir, SOURCES[i], &k->src[i]);
        total += k->src[i].size > 0 ? k->src[i].size : 0;
    }
    if (total < SNAP_MIN_BYTES || total > SNAP_MAX_BYTES || (cdir = cache_dir()) == NULL)
        goto none;
    /* One file per catalog directory; the header holds the full path too. */
    snprintf(k->cache, sizeof(k->cache), "%s/catalog-%016llx.snap", cdir,
             (unsigned long long)str_hash(STR_HASH_INIT, k->dir));
    free(cdir);
    return k;
none:
    free(k);
    return NULL;
}

int snap_key_equal(const struct snap_key *a, const struct snap_key *b)
{
    return memcmp(a->src, b->src, sizeof(a->src)) == 0 && strcmp(a->dir, b->dir) == 0;
}

/* ---- records ---- */

/* The pointer fields of each array's records (offsets of pointers). */
#define S(type, f) offsetof(struct type, f)
static const size_t REGION_PTRS[] = {S(region, cloud), S(region, name), S(region, continent)};
static const size_t OFFER_PTRS[] = {S(offer, cloud),         S(offer, region),
                                    S(offer, zone),          S(offer, instance_type),
                                    S(offer, accelerator),   S(offer, interconnect)};
static const size_t EGRESS_PTRS[] = {S(egress_rule, scloud), S(egress_rule, sregion),
                                     S(egress_rule, dcloud), S(egress_rule, dregion)};
static const size_t PREEMPT_PTRS[] = {S(preempt_rule, cloud), S(preempt_rule, region),
                                      S(preempt_rule, accelerator)};
static const size_t COMMIT_PTRS[] = {S(commitment, cloud), S(commitment, region),
                                     S(commitment, zone), S(commitment, instance_type)};
static const size_t QUOTA_PTRS[] = {S(quota, cloud), S(quota, region),
                                    S(quota, accelerator)};
static const size_t THR_PTRS[] = {S(thr_row, accelerator)};
/* acc_list.idx points at the index section, not at a string: see put_accs. */
static const size_t ACC_PTRS[] = {S(acc_list, name), S(acc_list, idx)};

struct arr_desc {
    size_t elem;               /* record size */
    const size_t *ptrs;        /* offsets of its pointers */
    size_t nptrs;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct arr_desc ARRS[A__N] = {
    [A_REGIONS] = {sizeof(struct region), REGION_PTRS, N(REGION_PTRS)},
    [A_OFFERS] = {sizeof(struct offer), OFFER_PTRS, N(OFFER_PTRS)},
    [A_EGRESS] = {sizeof(struct egress_rule), EGRESS_PTRS, N(EGRESS_PTRS)},
    [A_RTT] = {sizeof(float), NULL, 0},
    [A_RTT_PAIRS] = {2 * sizeof(uint32_t), NULL, 0},
    [A_PREEMPT] = {sizeof(struct preempt_rule), PREEMPT_PTRS, N(PREEMPT_PTRS)},
    [A_COMMITS] = {sizeof(struct commitment), COMMIT_PTRS, N(COMMIT_PTRS)},
    [A_QUOTAS] = {sizeof(struct quota), QUOTA_PTRS, N(QUOTA_PTRS)},
    [A_ACCS] = {sizeof(struct acc_list), ACC_PTRS, N(ACC_PTRS)},
    [A_THR] = {sizeof(struct thr_row), THR_PTRS, N(THR_PTRS)},
    [A_STORAGE] = {sizeof(struct storage_price), NULL, 0},
};

/* A fingerprint of the layout: a snapshot from a build whose structs differ
 * does not match.  The numeric fields are covered by the sizes and by a few
 * offsets; SNAP_VERSION covers the rest. */
static uint32_t layout_fingerprint(void)
{
    uint64_t h = 1469598103934665603ULL;
    size_t a, i;

    for (a = 0; a < A__N; a++) {
        h = (h ^ ARRS[a].elem) * 1099511628211ULL;
        for (i = 0; i < ARRS[a].nptrs; i++)
            h = (h ^ ARRS[a].ptrs[i]) * 1099511628211ULL;
    }
    h = (h ^ offsetof(struct offer, acc_count)) * 1099511628211ULL;
    h = (h ^ offsetof(struct offer, acc_part)) * 1099511628211ULL;
    h = (h ^ offsetof(struct offer, price)) * 1099511628211ULL;
    h = (h ^ offsetof(struct offer, region_idx)) * 1099511628211ULL;
    h = (h ^ offsetof(struct acc_list, n)) * 1099511628211ULL;
    h = (h ^ sizeof(struct snap_hdr)) * 1099511628211ULL;
    return (uint32_t)(h ^ (h >> 32));
}

/* One lane step of the checksum. */
static inline uint64_t mix(uint64_t h, const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

/* A checksum of n bytes (n a multiple of 8): four independent lanes so that
 * it runs near memory speed. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
    uint64_t a = 0x243f6a8885a308d3ULL, b = 0x13198a2e03707344ULL;
    uint64_t c = 0xa4093822299f31d0ULL, d = 0x082efa98ec4e6c89ULL;
    size_t i;

    for (i = 0; i + 32 <= n; i += 32) {
        a = mix(a, p + i);
        b = mix(b, p + i + 8);
        c = mix(c, p + i + 16);
        d = mix(d, p + i + 24);
    }
    for (; i + 8 <= n; i += 8)
        a = mix(a, p + i);
    return a ^ (b * 3) ^ (c * 5) ^ (d * 7) ^ n;
}

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Where a catalog directory's snapshot is mapped: one 4 GB slot per
 * directory hash in an address range that Linux leaves alone (programs and
 * libraries go near 0x55.. and 0x7f..; ASan's shadow ends below it). */
static uint64_t base_for(const char *dir)
{
    return 0x1f0000000000ULL + ((str_hash(STR_HASH_INIT, dir) & 0xfff) << 32);
}

/* ---- writing ---- */

struct writer {
    unsigned char *buf;
    size_t len, cap;
    uint64_t base;
    struct keymap offs;        /* interned string -> its offset in the file */
    int bad;                   /* a record held a string not in the pool */
};

static size_t put(struct writer *w, const void *p, size_t n)
{
    size_t at = w->len;

    w->buf = xgrow(w->buf, &w->cap, w->len + pad8(n) + 8, 1);
    if (n)
        memcpy(w->buf + w->len, p, n);
    memset(w->buf + w->len + n, 0, pad8(n) - n);
    w->len += pad8(n);
    return at;
}

static void put_strings(struct writer *w, const struct catalog *cat, struct snap_hdr *h)
{
    size_t i;

    h->str_off = w->len;
    for (i = 0; i < cat->pool.cap; i++) {
        const char *s = cat->pool.slots[i];
        size_t n;
        uint32_t off;

        if (s == NULL)
            continue;
        n = strlen(s) + 1;
        off = (uint32_t)w->len;
        keymap_put(&w->offs, s, NULL, NULL, NULL, &off);
        w->buf = xgrow(w->buf, &w->cap, w->len + n + 8, 1);
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        h->nstr++;
    }
    h->str_bytes = w->len - h->str_off;
    memset(w->buf + w->len, 0, pad8(w->len) - w->len); /* xgrow left 8 spare */
    w->len = pad8(w->len);
}

/* The address a pointer field will have when the file is mapped at base. */
static uint64_t string_addr(struct writer *w, const char *s)
{
    uint32_t off = 0;

    if (!keymap_get(&w->offs, s, NULL, NULL, NULL, &off))
        w->bad = 1; /* a bug: then no snapshot is written */
    return w->base + off;
}

/* n records of array a; string pointers become their addresses in the file. */
static void put_array(struct writer *w, struct snap_hdr *h, int a, const void *recs, size_t n)
{
    const struct arr_desc *d = &ARRS[a];
    size_t i, j, at = put(w, recs, d->elem * n);

    h->off[a] = at;
    h->n[a] = n;
    for (i = 0; i < n; i++)
        for (j = 0; j < d->nptrs; j++) {
            unsigned char *f = w->buf + at + i * d->elem + d->ptrs[j];
            const char *s;
            uint64_t v;

            memcpy(&s, f, sizeof(s));
            v = string_addr(w, s);
            memcpy(f, &v, sizeof(v));
        }
}

/* The accelerator lists: all indices in one section, then the records. */
static void put_accs(struct writer *w, const struct catalog *cat, struct snap_hdr *h)
{
    struct acc_list *recs = xcalloc(cat->naccs + 1, sizeof(*recs));
    size_t i, *at = xcalloc(cat->naccs + 1, sizeof(*at));

    h->idx_off = w->len;
    for (i = 0; i < cat->naccs; i++) {
        at[i] = put(w, cat->accs[i].idx, cat->accs[i].n * sizeof(uint32_t));
        h->idx_n += cat->accs[i].n;
    }
    h->off[A_ACCS] = w->len;
    h->n[A_ACCS] = cat->naccs;
    for (i = 0; i < cat->naccs; i++) {
        uint64_t v = string_addr(w, cat->accs[i].name), ix = w->base + at[i];

        recs[i].n = recs[i].cap = cat->accs[i].n;
        memcpy(&recs[i].name, &v, sizeof(v));
        memcpy(&recs[i].idx, &ix, sizeof(ix));
    }
    put(w, recs, cat->naccs * sizeof(*recs));
    free(recs);
    free(at);
}

static void put_arrays(struct writer *w, const struct catalog *cat, struct snap_hdr *h)
{
    put_array(w, h, A_REGIONS, cat->regions, cat->nregions);
    put_array(w, h, A_OFFERS, cat->offers, cat->noffers);
    put_array(w, h, A_EGRESS, cat->egress, cat->negress);
    put_array(w, h, A_RTT, cat->rtt, cat->nrtt);
    put_array(w, h, A_RTT_PAIRS, cat->rtt_pairs, cat->nrtt);
    put_array(w, h, A_PREEMPT, cat->preempt, cat->npreempt);
    put_array(w, h, A_COMMITS, cat->commits, cat->ncommits);
    put_array(w, h, A_QUOTAS, cat->quotas, cat->nquotas);
    put_accs(w, cat, h);
    put_array(w, h, A_THR, cat->thr, cat->nthr);
    put_array(w, h, A_STORAGE, cat->storage, cat->nstorage);
}

/* Write all of buf to a new file beside path and rename it into place, so
 * that a reader sees the old snapshot or the new one, never half of one. */
static void write_atomically(const char *path, const void *buf, size_t n)
{
    char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *p = buf;
    int ok = fd >= 0;

    while (ok && n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        p += ok ? w : 0;
        n -= ok ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(tmp);
}

/* Whether every source file last changed over a second ago.  A file changed
 * again within the same timestamp tick (or second, on coarse filesystems)
 * with the same size could look unchanged, so files that young are not
 * cached yet: any later change then gets a newer ctime (as git treats
 * "racily clean" files). */
static int settled(const struct snap_key *key)
{
    struct timespec now;
    int64_t now_ns;
    size_t i;

    clock_gettime(CLOCK_REALTIME, &now);
    now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    for (i = 0; i < NSOURCES; i++)
        if (key->src[i].size >= 0 && key->src[i].ctime_ns > now_ns - 1000000000)
            return 0;
    return 1;
}

/* Whether the snapshot at path is for a catalog directory that is gone (or
 * is no snapshot of ours): tests' temporary catalogs must not leave 5 MB
 * files behind for ever. */
static int orphaned(const char *path)
{
    struct snap_hdr h;
    char *offers;
    int fd = open(path, O_RDONLY | O_CLOEXEC), gone;

    if (fd < 0)
        return 0;
    gone = pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
           memcmp(h.magic, SNAP_MAGIC, 8) != 0;
    close(fd);
    if (gone)
        return 1;
    h.dir[sizeof(h.dir) - 1] = '\0';
    offers = xasprintf("%s/offers.csv", h.dir);
    gone = access(offers, F_OK) != 0 && errno == ENOENT;
    free(offers);
    return gone;
}

/* Remove the other snapshots in dir whose catalogs are gone, and temporary
 * files a killed writer left (older than an hour).  Runs only after a
 * snapshot was written, which is rare. */
static void prune(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *de = d ? readdir(d) : NULL;
    time_t now = time(NULL);

    for (; de != NULL; de = readdir(d)) {
        char *path = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;

        if (strncmp(de->d_name, "catalog-", 8) == 0 && strcmp(path, keep) != 0 &&
            lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (strstr(de->d_name, ".tmp") ? st.st_mtime < now - 3600
                                          : strstr(de->d_name, ".snap") && orphaned(path))
                unlink(path);
        }
        free(path);
    }
    if (d)
        closedir(d);
}

void snap_save(const struct catalog *cat, const struct snap_key *key)
{
    struct writer w;
    struct snap_hdr h;
    struct err e;
    char *slash, *dir;

    if (!settled(key))
        return;
    memset(&w, 0, sizeof(w));
    memset(&h, 0, sizeof(h));
    keymap_init(&w.offs);
    w.base = base_for(key->dir);
    put(&w, &h, sizeof(h)); /* filled in below */
    put_strings(&w, cat, &h);
    put_arrays(&w, cat, &h);
    memcpy(h.magic, SNAP_MAGIC, 8);
    h.version = SNAP_VERSION;
    h.layout = layout_fingerprint();
    h.size = w.len;
    h.base = w.base;
    memcpy(h.src, key->src, sizeof(h.src));
    memcpy(h.dir, key->dir, sizeof(h.dir));
    h.lat_intercept_ms = cat->lat_intercept_ms;
    h.lat_ms_per_km = cat->lat_ms_per_km;
    h.preempt_default = cat->preempt_default;
    h.checksum = checksum(w.buf + pad8(sizeof(h)), w.len - pad8(sizeof(h)));
    memcpy(w.buf, &h, sizeof(h));
    dir = xstrdup(key->cache);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (!w.bad && fs_mkdirs(dir, 0700, &e) == 0) {
        write_atomically(key->cache, w.buf, w.len);
        prune(dir, key->cache);
    }
    free(dir);
    keymap_free(&w.offs);
    free(w.buf);
}

/* ---- reading and checking ---- */

/* Every section inside the file, 8-aligned, after the header. */
static int sections_ok(const struct snap_hdr *h)
{
    uint64_t lo = pad8(sizeof(*h));
    size_t a;

    if (h->str_off < lo || h->str_off % 8 || h->str_bytes > h->size - h->str_off ||
        h->idx_off < lo || h->idx_off % 8 || h->idx_n > (h->size - h->idx_off) / 4)
        return 0;
    for (a = 0; a < A__N; a++)
        if (h->off[a] < lo || h->off[a] % 8 || h->off[a] > h->size ||
            h->n[a] > (h->size - h->off[a]) / ARRS[a].elem)
            return 0;
    return h->n[A_RTT] == h->n[A_RTT_PAIRS];
}

static int header_ok(const struct snap_hdr *h, const struct snap_key *key, size_t size)
{
    return memcmp(h->magic, SNAP_MAGIC, 8) == 0 && h->version == SNAP_VERSION &&
           h->layout == layout_fingerprint() && h->size == size && h->size % 8 == 0 &&
           memcmp(h->src, key->src, sizeof(h->src)) == 0 &&
           strncmp(h->dir, key->dir, sizeof(h->dir)) == 0 && h->base % 4096 == 0 &&
           sections_ok(h);
}

/* Map the file at the base its pointers assume, else anywhere (*moved). */
static void *map_file(int fd, const struct snap_hdr *h, int *moved)
{
    void *want = (void *)(uintptr_t)h->base, *m;

#ifdef MAP_FIXED_NOREPLACE
    m = mmap(want, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
#else
    m = mmap(want, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
#endif
    if (m == want) {
        *moved = 0;
        return m;
    }
    if (m != MAP_FAILED) /* an old kernel took the address as a hint */
        munmap(m, h->size);
    *moved = 1;
    return mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
}

/* Mapped elsewhere: move every pointer by the difference (copy on write). */
static void relocate(unsigned char *m, const struct snap_hdr *h)
{
    uint64_t delta = (uint64_t)(uintptr_t)m - h->base;
    size_t a, i, j;

    for (a = 0; a < A__N; a++)
        for (i = 0; i < h->n[a]; i++)
            for (j = 0; j < ARRS[a].nptrs; j++) {
                unsigned char *f = m + h->off[a] + i * ARRS[a].elem + ARRS[a].ptrs[j];
                uint64_t v;

                memcpy(&v, f, sizeof(v));
                v += delta;
                memcpy(f, &v, sizeof(v));
            }
}

/* Intern the mapped strings themselves (the records point at them). */
static int adopt_strings(struct catalog *cat, const unsigned char *m, const struct snap_hdr *h)
{
    const unsigned char *p = m + h->str_off, *end = p + h->str_bytes;
    size_t i;

    if (h->str_bytes == 0 || end[-1] != '\0')
        return 0;
    strpool_free(&cat->pool);
    strpool_init(&cat->pool);
    for (i = 0; i < h->nstr; i++) {
        const unsigned char *nul;

        if (p >= end)
            return 0;
        nul = memchr(p, '\0', (size_t)(end - p));
        strpool_adopt(&cat->pool, (const char *)p);
        p = nul + 1;
    }
    cat->star = strpool_intern(&cat->pool, "*");
    return p == end;
}

/* Point the catalog's arrays into the mapping and build the small indexes. */
static void fill(struct catalog *cat, unsigned char *m, const struct snap_hdr *h)
{
    size_t i;

    cat->regions = (struct region *)(m + h->off[A_REGIONS]);
    cat->nregions = h->n[A_REGIONS];
    cat->offers = (struct offer *)(m + h->off[A_OFFERS]);
    cat->noffers = h->n[A_OFFERS];
    cat->egress = (struct egress_rule *)(m + h->off[A_EGRESS]);
    cat->negress = h->n[A_EGRESS];
    cat->rtt = (float *)(m + h->off[A_RTT]);
    cat->rtt_pairs = (uint32_t *)(m + h->off[A_RTT_PAIRS]);
    cat->nrtt = h->n[A_RTT];
    cat->preempt = (struct preempt_rule *)(m + h->off[A_PREEMPT]);
    cat->npreempt = h->n[A_PREEMPT];
    cat->commits = (struct commitment *)(m + h->off[A_COMMITS]);
    cat->ncommits = h->n[A_COMMITS];
    cat->quotas = (struct quota *)(m + h->off[A_QUOTAS]);
    cat->nquotas = h->n[A_QUOTAS];
    cat->accs = (struct acc_list *)(m + h->off[A_ACCS]);
    cat->naccs = h->n[A_ACCS];
    cat->thr = (struct thr_row *)(m + h->off[A_THR]);
    cat->nthr = h->n[A_THR];
    cat->storage = (struct storage_price *)(m + h->off[A_STORAGE]);
    cat->nstorage = h->n[A_STORAGE];
    cat->lat_intercept_ms = h->lat_intercept_ms;
    cat->lat_ms_per_km = h->lat_ms_per_km;
    cat->preempt_default = h->preempt_default;
    for (i = 0; i < cat->nregions; i++) {
        uint32_t idx = (uint32_t)i;

        keymap_put(&cat->region_ix, cat->regions[i].cloud, cat->regions[i].name, NULL, NULL,
                   &idx);
    }
    for (i = 0; i < cat->naccs; i++) {
        uint32_t idx = (uint32_t)i;

        keymap_put(&cat->acc_ix, cat->accs[i].name, NULL, NULL, NULL, &idx);
    }
    catalog_acc_finish(cat);
}

int snap_load(struct catalog *cat, const struct snap_key *key)
{
    struct snap_hdr h;
    struct stat st;
    unsigned char *m;
    int fd = open(key->cache, O_RDONLY | O_CLOEXEC), moved = 0;

    if (fd < 0)
        return 0;
    /* Only a file of this user's that no one else may write is trusted: its
     * pointers are used as they are. */
    if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
        pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
        !header_ok(&h, key, (size_t)st.st_size)) {
        close(fd);
        return 0;
    }
    m = map_file(fd, &h, &moved);
    close(fd);
    if (m == MAP_FAILED)
        return 0;
    cat->map = m;
    cat->map_size = h.size;
    if (checksum(m + pad8(sizeof(h)), h.size - pad8(sizeof(h))) != h.checksum ||
        !adopt_strings(cat, m, &h))
        return 0; /* the caller frees cat, which unmaps */
    if (moved)
        relocate(m, &h);
    fill(cat, m, &h);
    return 1;
}

void snap_unmap(struct catalog *cat)
{
    munmap(cat->map, cat->map_size);
    cat->map = NULL;
}
