/*
 * hmap.h - two small hash tables the catalog lives on.
 *
 * struct strpool interns strings: equal strings come back as the same pointer,
 * stored in large arena blocks (freed all at once).  struct keymap maps a key
 * of up to four pointers (usually interned strings) to a 32-bit value, with
 * open addressing and linear probing.  Neither ever shrinks.
 */
#ifndef STRATUS_HMAP_H
#define STRATUS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct strpool {
    const char **slots;   /* open-addressing table of interned strings */
    size_t cap, n;        /* cap is a power of two */
    char **blocks;        /* arena blocks holding the bytes */
    size_t nblocks, blocks_cap;
    size_t used;          /* bytes used in the last block */
};

void strpool_init(struct strpool *p);
/* The interned copy of s (same pointer for equal strings). */
const char *strpool_intern(struct strpool *p, const char *s);
/* Intern s itself, without a copy (s must outlive the pool): the catalog's
 * snapshot interns the strings of a mapped file.  Returns the interned
 * pointer (an earlier equal string wins). */
const char *strpool_adopt(struct strpool *p, const char *s);
/* The interned copy, or NULL when s was never interned. */
const char *strpool_find(const struct strpool *p, const char *s);
void strpool_free(struct strpool *p);

#define KEYMAP_NKEY 4

struct keymap_slot {
    const void *k[KEYMAP_NKEY]; /* k[0] == NULL marks an empty slot */
    uint32_t value;
};

struct keymap {
    struct keymap_slot *slots;
    size_t cap, n;
};

void keymap_init(struct keymap *m);
/* Insert or find: returns 1 and sets *value to the existing value when the key
 * is already present (nothing changes), else inserts value and returns 0.
 * k0 must not be NULL; unused key parts are NULL. */
int keymap_put(struct keymap *m, const void *k0, const void *k1, const void *k2,
               const void *k3, uint32_t *value);
/* Insert, or give an existing key the new value. */
void keymap_set(struct keymap *m, const void *k0, const void *k1, const void *k2,
                const void *k3, uint32_t value);
/* 1 and *value when found, else 0. */
int keymap_get(const struct keymap *m, const void *k0, const void *k1, const void *k2,
               const void *k3, uint32_t *value);
void keymap_free(struct keymap *m);

#endif
