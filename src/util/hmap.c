/*
 * hmap.c - string pool and pointer-keyed map (see hmap.h).
 */
#include "hmap.h"
#include "strutil.h"
#include "xmem.h"

#include <stdlib.h>
#include <string.h>

#define POOL_BLOCK 65536

static uint64_t hash_str(const char *s)
{
    return str_hash(STR_HASH_INIT, s);
}

void strpool_init(struct strpool *p)
{
    memset(p, 0, sizeof(*p));
}

static char *pool_alloc(struct strpool *p, size_t n)
{
    size_t bsize = n > POOL_BLOCK ? n : POOL_BLOCK;

    if (p->nblocks == 0 || p->used + n > POOL_BLOCK || n > POOL_BLOCK) {
        p->blocks = xgrow(p->blocks, &p->blocks_cap, p->nblocks + 1, sizeof(*p->blocks));
        p->blocks[p->nblocks++] = xmalloc(bsize);
        p->used = 0;
        if (n > POOL_BLOCK) {
            p->used = POOL_BLOCK; /* an oversize block is full at once */
            return p->blocks[p->nblocks - 1];
        }
    }
    p->used += n;
    return p->blocks[p->nblocks - 1] + p->used - n;
}

static void pool_rehash(struct strpool *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 256, i;
    const char **ns = xcalloc(ncap, sizeof(*ns));

    for (i = 0; i < p->cap; i++) {
        size_t j;

        if (p->slots[i] == NULL)
            continue;
        j = hash_str(p->slots[i]) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = p->slots[i];
    }
    free(p->slots);
    p->slots = ns;
    p->cap = ncap;
}

const char *strpool_find(const struct strpool *p, const char *s)
{
    size_t j;

    if (p->cap == 0)
        return NULL;
    j = hash_str(s) & (p->cap - 1);
    while (p->slots[j]) {
        if (strcmp(p->slots[j], s) == 0)
            return p->slots[j];
        j = (j + 1) & (p->cap - 1);
    }
    return NULL;
}

/* The slot of s in the pool: the one holding an equal string, else the
 * empty one where it belongs (the pool grown first if need be). */
static size_t pool_slot(struct strpool *p, const char *s)
{
    size_t j;

    if (p->n * 4 >= p->cap * 3) /* at most 3/4 full: a study interns millions */
        pool_rehash(p);
    j = hash_str(s) & (p->cap - 1);
    while (p->slots[j] && strcmp(p->slots[j], s) != 0)
        j = (j + 1) & (p->cap - 1);
    return j;
}

const char *strpool_intern(struct strpool *p, const char *s)
{
    size_t j = pool_slot(p, s), len;
    char *copy;

    if (p->slots[j])
        return p->slots[j];
    len = strlen(s) + 1;
    copy = pool_alloc(p, len);
    memcpy(copy, s, len);
    p->slots[j] = copy;
    p->n++;
    return copy;
}

const char *strpool_adopt(struct strpool *p, const char *s)
{
    size_t j = pool_slot(p, s);

    if (p->slots[j])
        return p->slots[j];
    p->slots[j] = s;
    p->n++;
    return s;
}

void strpool_free(struct strpool *p)
{
    size_t i;

    for (i = 0; i < p->nblocks; i++)
        free(p->blocks[i]);
    free(p->blocks);
    free(p->slots);
    memset(p, 0, sizeof(*p));
}

static uint64_t hash_key(const void *const *k)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    int i;

    for (i = 0; i < KEYMAP_NKEY; i++) {
        h ^= (uint64_t)(uintptr_t)k[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    return h;
}

void keymap_init(struct keymap *m)
{
    memset(m, 0, sizeof(*m));
}

static size_t keymap_find(const struct keymap_slot *slots, size_t cap,
                          const void *const *k)
{
    size_t j = hash_key(k) & (cap - 1);

    while (slots[j].k[0] != NULL && memcmp(slots[j].k, k, sizeof(slots[j].k)) != 0)
        j = (j + 1) & (cap - 1);
    return j;
}

static void keymap_rehash(struct keymap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64, i;
    struct keymap_slot *ns = xcalloc(ncap, sizeof(*ns));

    for (i = 0; i < m->cap; i++)
        if (m->slots[i].k[0] != NULL)
            ns[keymap_find(ns, ncap, m->slots[i].k)] = m->slots[i];
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

int keymap_put(struct keymap *m, const void *k0, const void *k1, const void *k2,
               const void *k3, uint32_t *value)
{
    const void *k[KEYMAP_NKEY] = {k0, k1, k2, k3};
    size_t j;

    BUG_ON(k0 == NULL);
    if (m->n * 2 >= m->cap)
        keymap_rehash(m);
    j = keymap_find(m->slots, m->cap, k);
    if (m->slots[j].k[0] != NULL) {
        *value = m->slots[j].value;
        return 1;
    }
    memcpy(m->slots[j].k, k, sizeof(k));
    m->slots[j].value = *value;
    m->n++;
    return 0;
}

void keymap_set(struct keymap *m, const void *k0, const void *k1, const void *k2,
                const void *k3, uint32_t value)
{
    uint32_t v = value;
    const void *k[KEYMAP_NKEY] = {k0, k1, k2, k3};

    if (keymap_put(m, k0, k1, k2, k3, &v))
        m->slots[keymap_find(m->slots, m->cap, k)].value = value;
}

int keymap_get(const struct keymap *m, const void *k0, const void *k1, const void *k2,
               const void *k3, uint32_t *value)
{
    const void *k[KEYMAP_NKEY] = {k0, k1, k2, k3};
    size_t j;

    if (m->cap == 0 || k0 == NULL)
        return 0;
    j = keymap_find(m->slots, m->cap, k);
    if (m->slots[j].k[0] == NULL)
        return 0;
    *value = m->slots[j].value;
    return 1;
}

void keymap_free(struct keymap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}
