/*
 * yamlx.h - a YAML document as a small tree with positions, over libyaml.
 *
 * The spec and policy parsers walk this tree; every node keeps the line and
 * column it came from so that every complaint can say file:line:col.  Anchors
 * and aliases and tags are refused with a clear error: neither SkyPilot task
 * files nor Stratus files need them, and refusing them keeps the parser small
 * and safe against alias bombs.  ydoc_load_mem() and ydoc_load_file() take
 * one document and refuse a second ('---'); ydoc_load_stream() takes every
 * document of a stream (SkyPilot pipelines and job groups), each with the
 * byte range of the text it came from.
 */
#ifndef STRATUS_YAMLX_H
#define STRATUS_YAMLX_H

#include <stddef.h>

#include "err.h"

enum ynode_type { Y_NULL, Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
    enum ynode_type type;
    size_t line, col;       /* 1-based position of the node's first character */
    char *str;              /* Y_SCALAR: the text (never NULL for scalars) */
    int plain;              /* Y_SCALAR: unquoted, so "null"/"true" keep meaning */
    size_t n;               /* Y_SEQ: items; Y_MAP: pairs */
    struct ynode **items;   /* Y_SEQ items, or Y_MAP values */
    struct ynode **keys;    /* Y_MAP keys (scalars) */
};

struct ydoc {
    char *path;             /* for messages; owned */
    struct ynode *root;     /* NULL for an empty document */
    size_t start, end;      /* ydoc_load_stream: the document's bytes [start, end)
                               of the stream (its '---' included; the first one
                               starts at 0, each ends where the next starts) */
    size_t start_line;      /* ... and the 1-based line where start is */
};

#define YAMLX_MAX_DEPTH 64
#define YAMLX_MAX_NODES 200000
/* Entries in one mapping or list: keeps the duplicate-key check (quadratic)
 * cheap; real specs and policies have a few dozen. */
#define YAMLX_MAX_ITEMS 4096

int ydoc_load_file(struct ydoc *d, const char *path, size_t limit, struct err *e);
int ydoc_load_mem(struct ydoc *d, const char *name, const char *data, size_t len,
                  struct err *e);
void ydoc_free(struct ydoc *d);
/* Every document of len bytes at data, in order, at most max_docs (more is
 * ST_ETOOBIG at the extra '---'); *docs is a new array of *n documents the
 * caller frees with ydocs_free() (an empty stream: NULL and 0).  The limits
 * on nodes count over the whole stream. */
int ydoc_load_stream(struct ydoc **docs, size_t *n, const char *name, const char *data,
                     size_t len, size_t max_docs, struct err *e);
void ydocs_free(struct ydoc *docs, size_t n);
/* Does a scalar of the YAML text (len bytes, any document) read `value`
 * once its quoting and escapes are undone?  No tree is built: a quick test
 * before a full parse.  Text that does not parse (up to that scalar) and
 * anchors or aliases (which a load refuses) answer 0. */
int yaml_has_scalar(const char *data, size_t len, const char *value);

/* The value under `key` in a map, or NULL. */
struct ynode *ymap_get(const struct ynode *map, const char *key);
/* Fail on the first key of map not in known (NULL-terminated), suggesting the
 * closest known key: "file:3:5: unknown key 'acelerators' in resources (did
 * you mean 'accelerators'?)". */
int ymap_check_keys(const struct ydoc *d, const struct ynode *map,
                    const char *const *known, const char *where, struct err *e);
/* Error at a node's position. */
int yerr(const struct ydoc *d, const struct ynode *n, int code, struct err *e,
         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A node is "null" when absent, Y_NULL, or a plain scalar null/~/"". */
int ynode_is_null(const struct ynode *n);
/* Typed readers; `what` names the field in messages ("resources.cpus"). */
int yget_str(const struct ydoc *d, const struct ynode *n, const char *what,
             const char **out, struct err *e);
int yget_bool(const struct ydoc *d, const struct ynode *n, const char *what, int *out,
              struct err *e);
int yget_double(const struct ydoc *d, const struct ynode *n, const char *what,
                double min, double max, double *out, struct err *e);
int yget_long(const struct ydoc *d, const struct ynode *n, const char *what, long min,
              long max, long *out, struct err *e);
int yget_duration(const struct ydoc *d, const struct ynode *n, const char *what,
                  double *seconds, struct err *e);
int yexpect(const struct ydoc *d, const struct ynode *n, enum ynode_type t,
            const char *what, struct err *e);
const char *ynode_type_name(enum ynode_type t);

#endif
