/*
 * faultstore.h - a store wrapper for fault testing (SQLite's I/O-error and
 * crash tests, done behind struct store_ops): it forwards every operation to
 * the backend it wraps, counts writes and commits, fails the n-th write or
 * commit on request, calls a hook around every commit, and can play a dead
 * writer (a process killed at that instant: nothing it does afterwards
 * reaches the database).
 *
 * Tests only: the controller never knows it is wrapped.
 */
#ifndef STRATUS_FAULTSTORE_H
#define STRATUS_FAULTSTORE_H

#include <stdint.h>

struct store;

/* The control block of a wrapped store (owned by the store: valid until
 * store_close()).  Counters and ordinals count operations made while not
 * paused, from 1. */
struct store_fault {
    uint64_t writes;  /* record writes seen: inserts, updates, appends,
                         request takes, blocks, tokens, settings */
    uint64_t commits; /* commits asked for */
    uint64_t failed;  /* faults injected so far */

    uint64_t fail_write;  /* fail this write (0 = none) ... */
    uint64_t fail_writes; /* ... and the ones after it: this many in all
                             (0 = 1): a disk full for a while */
    uint64_t fail_commit; /* fail this commit (0 = none); it stores nothing */
    int fail_code;        /* what a fault returns; 0 = ST_EIO */

    /* Called at every commit while not paused: before it reaches the
     * backend (after = 0, rc = 0) and once it returned (after = 1, rc its
     * result).  The hook may set `dead`: before, the commit then stores
     * nothing; after, it stays done.  The hook may read the store. */
    void (*on_commit)(void *ctx, uint64_t k, int after, int rc);
    void *ctx;

    int paused; /* neither count nor fail (a test's own writes) */
    int dead;   /* the writer died: every operation fails with
                   ST_EIO and nothing reaches the backend */
};

/* Put the fault wrapper in front of the open store st (whose handle stays
 * the one callers hold) and return its control block, zeroed. */
struct store_fault *store_fault_wrap(struct store *st);

/* The control block of st, or NULL when st is not wrapped. */
struct store_fault *store_fault_of(struct store *st);

/* The dead writer is gone: drop its open transaction as the database does
 * when a writer dies, and let the next writer in (clears `dead`). */
void store_fault_reset(struct store *st);

#endif
