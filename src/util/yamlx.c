/*
 * yamlx.c - libyaml events folded into a positioned tree (see yamlx.h).
 *
 * Layout: node allocation, the event-driven builder (one recursive function
 * per event kind, depth-bounded), lookup and typed readers.
 */
#include "yamlx.h"
#include "fsutil.h"
#include "strutil.h"
#include "xmem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct builder {
    yaml_parser_t parser;
    const char *path;
    size_t nodes;
};

static void node_free(struct ynode *n)
{
    size_t i;

    if (n == NULL)
        return;
    for (i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys)
            node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->str);
    free(n);
}

static struct ynode *node_new(struct builder *b, enum ynode_type t, const yaml_mark_t *m)
{
    struct ynode *n = xcalloc(1, sizeof(*n));

    n->type = t;
    n->line = m->line + 1;
    n->col = m->column + 1;
    b->nodes++;
    return n;
}

static int next_event(struct builder *b, yaml_event_t *ev, struct err *e)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        const yaml_mark_t *m = &b->parser.problem_mark;

        return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1, "invalid YAML: %s",
                      b->parser.problem ? b->parser.problem : "syntax error");
    }
    return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out,
                      struct err *e);

/* Build the items of a sequence or the pairs of a mapping until its end event. */
static int build_children(struct builder *b, struct ynode *n, int depth, struct err *e)
{
    size_t cap = 0;
    yaml_event_type_t end = n->type == Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

    for (;;) {
        yaml_event_t ev;
        struct ynode *key = NULL, *val = NULL;
        int rc;

        if ((rc = next_event(b, &ev, e)) != 0)
            return rc;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        rc = build_node(b, &ev, depth + 1, &key, e);
        yaml_event_delete(&ev);
        if (rc != 0)
            return rc;
        if (n->type == Y_MAP) {
            if (key->type != Y_SCALAR) {
                rc = err_at(e, ST_EPARSE, b->path, key->line, key->col,
                            "mapping keys must be plain text");
                node_free(key);
                return rc;
            }
            if ((rc = next_event(b, &ev, e)) != 0) {
                node_free(key);
                return rc;
            }
            rc = build_node(b, &ev, depth + 1, &val, e);
            yaml_event_delete(&ev);
            if (rc != 0) {
                node_free(key);
                return rc;
            }
            if (ymap_get(n, key->str) != NULL) {
                rc = err_at(e, ST_EPARSE, b->path, key->line, key->col,
                            "duplicate key '%s'", key->str);
                node_free(key);
                node_free(val);
                return rc;
            }
        }
        if (n->n >= YAMLX_MAX_ITEMS) {
            rc = err_at(e, ST_ETOOBIG, b->path, n->line, n->col,
                        "more than %d entries in one %s", YAMLX_MAX_ITEMS,
                        n->type == Y_MAP ? "mapping" : "list");
            node_free(key);
            node_free(val);
            return rc;
        }
        n->items = xgrow(n->items, &cap, n->n + 1, sizeof(*n->items));
        if (n->type == Y_MAP) {
            size_t kcap = cap;

            n->keys = xrealloc(n->keys, kcap * sizeof(*n->keys));
            n->keys[n->n] = key;
            n->items[n->n++] = val;
        } else {
            n->items[n->n++] = key;
        }
    }
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out,
                      struct err *e)
{
    const yaml_mark_t *m = &ev->start_mark;
    struct ynode *n;
    int rc;

    *out = NULL;
    if (depth > YAMLX_MAX_DEPTH)
        return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1,
                      "nesting deeper than %d levels", YAMLX_MAX_DEPTH);
    if (b->nodes > YAMLX_MAX_NODES)
        return err_at(e, ST_ETOOBIG, b->path, m->line + 1, m->column + 1,
                      "more than %d YAML nodes", YAMLX_MAX_NODES);
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1,
                      "YAML aliases (*name) are not supported; write the value out");
    case YAML_SCALAR_EVENT:
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
            return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1,
                          "a NUL character inside a value");
        n = node_new(b, Y_SCALAR, m);
        n->str = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        *out = n;
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = node_new(b, ev->type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ, m);
        rc = build_children(b, n, depth, e);
        if (rc != 0) {
            node_free(n);
            return rc;
        }
        *out = n;
        return 0;
    default:
        return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1,
                      "unexpected YAML structure");
    }
}

/* The documents of a stream as they are read (max 1: ydoc_load_mem). */
struct doc_sink {
    struct ydoc *v;         /* the documents so far */
    size_t n, cap, max;
    size_t len;             /* bytes of the stream */
};

/* A document starts at mark m: the one before ends there. */
static int doc_start(struct builder *b, struct doc_sink *k, const yaml_mark_t *m,
                     struct err *e)
{
    struct ydoc *d;

    if (k->n >= k->max) {
        if (k->max == 1)
            return err_at(e, ST_EPARSE, b->path, m->line + 1, m->column + 1,
                          "more than one YAML document ('---'); a file holds one document");
        return err_at(e, ST_ETOOBIG, b->path, m->line + 1, m->column + 1,
                      "more than %zu YAML documents in one file", k->max);
    }
    k->v = xgrow(k->v, &k->cap, k->n + 1, sizeof(*k->v));
    d = &k->v[k->n];
    memset(d, 0, sizeof(*d));
    d->path = xstrdup(b->path);
    /* the first document owns the text before it (comments, a lone '---') */
    d->start = k->n == 0 ? 0 : m->index;
    d->start_line = k->n == 0 ? 1 : m->line + 1;
    d->end = k->len;
    if (k->n > 0)
        k->v[k->n - 1].end = d->start;
    k->n++;
    return 0;
}

/* Parse the stream into the sink's documents. */
static int build_docs(struct builder *b, struct doc_sink *k, struct err *e)
{
    yaml_event_t ev;
    int rc;

    for (;;) {
        if ((rc = next_event(b, &ev, e)) != 0)
            return rc;
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (ev.type == YAML_DOCUMENT_START_EVENT)
            rc = doc_start(b, k, &ev.start_mark, e);
        else if (k->n > 0 && (ev.type == YAML_SCALAR_EVENT ||
                              ev.type == YAML_SEQUENCE_START_EVENT ||
                              ev.type == YAML_MAPPING_START_EVENT ||
                              ev.type == YAML_ALIAS_EVENT))
            rc = build_node(b, &ev, 0, &k->v[k->n - 1].root, e);
        yaml_event_delete(&ev);
        if (rc != 0)
            return rc;
    }
}

static int load_sink(struct doc_sink *k, const char *name, const char *data, size_t len,
                     struct err *e)
{
    struct builder b;
    int rc;

    memset(&b, 0, sizeof(b));
    b.path = name;
    k->len = len;
    if (!yaml_parser_initialize(&b.parser))
        return err_set(e, ST_ENOMEM, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, len);
    rc = build_docs(&b, k, e);
    yaml_parser_delete(&b.parser);
    if (rc != 0) {
        ydocs_free(k->v, k->n);
        k->v = NULL;
        k->n = 0;
    }
    return rc;
}

int yaml_has_scalar(const char *data, size_t len, const char *value)
{
    size_t vlen = strlen(value);
    yaml_parser_t p;
    int found = 0, done = 0;

    if (!yaml_parser_initialize(&p))
        return 0;
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    while (!found && !done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&p, &ev))
            break;
        if (ev.type == YAML_SCALAR_EVENT)
            found = ev.data.scalar.length == vlen &&
                    memcmp(ev.data.scalar.value, value, vlen) == 0;
        done = ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_ALIAS_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return found;
}

int ydoc_load_stream(struct ydoc **docs, size_t *n, const char *name, const char *data,
                     size_t len, size_t max_docs, struct err *e)
{
    struct doc_sink k;
    int rc;

    memset(&k, 0, sizeof(k));
    k.max = max_docs;
    rc = load_sink(&k, name, data, len, e);
    *docs = k.v;
    *n = k.n;
    return rc;
}

void ydocs_free(struct ydoc *docs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        ydoc_free(&docs[i]);
    free(docs);
}

int ydoc_load_mem(struct ydoc *d, const char *name, const char *data, size_t len,
                  struct err *e)
{
    struct doc_sink k;
    int rc;

    memset(d, 0, sizeof(*d));
    memset(&k, 0, sizeof(k));
    k.max = 1;
    rc = load_sink(&k, name, data, len, e);
    if (rc != 0)
        return rc;
    if (k.n == 1)
        *d = k.v[0];
    else
        d->path = xstrdup(name);
    free(k.v);
    return 0;
}

int ydoc_load_file(struct ydoc *d, const char *path, size_t limit, struct err *e)
{
    char *text;
    size_t len;
    int rc;

    memset(d, 0, sizeof(*d));
    rc = fs_read_file(path, limit ? limit : (size_t)16 << 20, &text, &len, e);
    if (rc == 0)
        rc = ydoc_load_mem(d, path, text, len, e);
    free(text);
    return rc;
}

void ydoc_free(struct ydoc *d)
{
    node_free(d->root);
    free(d->path);
    d->root = NULL;
    d->path = NULL;
}

struct ynode *ymap_get(const struct ynode *map, const char *key)
{
    size_t i;

    if (map == NULL || map->type != Y_MAP)
        return NULL;
    for (i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->items[i];
    return NULL;
}

int yerr(const struct ydoc *d, const struct ynode *n, int code, struct err *e,
         const char *fmt, ...)
{
    char msg[ST_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_at(e, code, d->path, n ? n->line : 0, n ? n->col : 0, "%s", msg);
}

int ymap_check_keys(const struct ydoc *d, const struct ynode *map,
                    const char *const *known, const char *where, struct err *e)
{
    size_t i, j;

    if (map == NULL || map->type != Y_MAP)
        return 0;
    for (i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        const char *sug;

        for (j = 0; known[j]; j++)
            if (strcmp(k, known[j]) == 0)
                break;
        if (known[j])
            continue;
        sug = str_suggest(k, known);
        if (sug)
            return yerr(d, map->keys[i], ST_EPARSE, e,
                        "unknown key '%s' in %s (did you mean '%s'?)", k, where, sug);
        return yerr(d, map->keys[i], ST_EPARSE, e, "unknown key '%s' in %s", k, where);
    }
    return 0;
}

const char *ynode_type_name(enum ynode_type t)
{
    switch (t) {
    case Y_SCALAR:
        return "a single value";
    case Y_SEQ:
        return "a list";
    case Y_MAP:
        return "a mapping";
    default:
        return "empty";
    }
}

int ynode_is_null(const struct ynode *n)
{
    if (n == NULL || n->type == Y_NULL)
        return 1;
    if (n->type != Y_SCALAR || !n->plain)
        return 0;
    return n->str[0] == '\0' || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

int yexpect(const struct ydoc *d, const struct ynode *n, enum ynode_type t,
            const char *what, struct err *e)
{
    if (n != NULL && n->type == t)
        return 0;
    return yerr(d, n, ST_EPARSE, e, "%s must be %s, not %s", what, ynode_type_name(t),
                ynode_type_name(n ? n->type : Y_NULL));
}

int yget_str(const struct ydoc *d, const struct ynode *n, const char *what,
             const char **out, struct err *e)
{
    int rc = yexpect(d, n, Y_SCALAR, what, e);

    if (rc == 0)
        *out = n->str;
    return rc;
}

int yget_bool(const struct ydoc *d, const struct ynode *n, const char *what, int *out,
              struct err *e)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "off", NULL};
    int rc = yexpect(d, n, Y_SCALAR, what, e), i;

    if (rc != 0)
        return rc;
    for (i = 0; yes[i]; i++)
        if (strcmp(n->str, yes[i]) == 0)
            return *out = 1, 0;
    for (i = 0; no[i]; i++)
        if (strcmp(n->str, no[i]) == 0)
            return *out = 0, 0;
    return yerr(d, n, ST_EINVAL, e, "%s must be true or false, not '%s'", what, n->str);
}

int yget_double(const struct ydoc *d, const struct ynode *n, const char *what,
                double min, double max, double *out, struct err *e)
{
    double v;
    int rc = yexpect(d, n, Y_SCALAR, what, e);

    if (rc != 0)
        return rc;
    if (str_to_double(n->str, &v) != 0)
        return yerr(d, n, ST_EINVAL, e, "%s must be a number, not '%s'", what, n->str);
    if (v < min || v > max)
        return yerr(d, n, ST_EINVAL, e, "%s must be between %g and %g, not %g", what, min,
                    max, v);
    *out = v;
    return 0;
}

int yget_long(const struct ydoc *d, const struct ynode *n, const char *what, long min,
              long max, long *out, struct err *e)
{
    int rc = yexpect(d, n, Y_SCALAR, what, e);

    if (rc != 0)
        return rc;
    if (str_to_long(n->str, min, max, out) != 0)
        return yerr(d, n, ST_EINVAL, e, "%s must be a whole number from %ld to %ld, not '%s'",
                    what, min, max, n->str);
    return 0;
}

int yget_duration(const struct ydoc *d, const struct ynode *n, const char *what,
                  double *seconds, struct err *e)
{
    int rc = yexpect(d, n, Y_SCALAR, what, e);

    if (rc != 0)
        return rc;
    if (str_to_duration(n->str, seconds) != 0)
        return yerr(d, n, ST_EINVAL, e,
                    "%s must be a duration such as 90s, 30m, 2h or 1h30m, not '%s'", what,
                    n->str);
    return 0;
}
