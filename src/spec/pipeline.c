/*
 * pipeline.c - multi-document files: pipelines and job groups (pipeline.h).
 *
 * Layout: the documents of the stream (yamlx), the header (which form the
 * file is, its name, execution and primary tasks), the tasks (each parsed by
 * the spec parser from its own text), the checks that need every task
 * (names, primary tasks), and the entry points.
 */
#include "pipeline.h"
#include "spec.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"
#include "../util/yamlx.h"

#include <stdlib.h>
#include <string.h>

/* Documents read beyond the stages: the header, and empty ones. */
#define DOCS_SLACK 8

static const char *const header_keys[] = {"name", "execution", "primary_tasks", NULL};

/* What is being built: the documents and where the header's parts are. */
struct pctx {
    const char *data;
    struct ydoc *docs;
    size_t ndocs;
    struct pipeline *p;
    const struct ydoc *header;      /* NULL: the file has none */
    const struct ynode *primaries;  /* the header's primary_tasks, or NULL */
};

const char *pipeline_mode_name(int mode)
{
    switch (mode) {
    case PIPE_SERIAL:
        return "pipeline";
    case PIPE_PARALLEL:
        return "job group";
    default:
        return "none";
    }
}

static int doc_empty(const struct ydoc *d)
{
    return ynode_is_null(d->root);
}

int pipeline_is_multi(const char *data, size_t len)
{
    struct ydoc *docs = NULL;
    size_t i, n = 0, full = 0;
    struct err e;

    err_clear(&e);
    if (len > SPEC_MAX_BYTES ||
        ydoc_load_stream(&docs, &n, "spec", data, len, PIPELINE_MAX_STAGES + DOCS_SLACK,
                         &e) != 0)
        return e.code == ST_ETOOBIG; /* too many documents: the loader says so */
    for (i = 0; i < n; i++)
        full += !doc_empty(&docs[i]);
    ydocs_free(docs, n);
    return full > 1;
}

/* The file's base name without .yaml/.yml: the name of a pipeline without one. */
static char *base_name(const char *path)
{
    const char *base = strrchr(path, '/');
    char *name = xstrdup(base ? base + 1 : path), *dot = strrchr(name, '.');

    if (dot && dot != name && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        *dot = '\0';
    return name;
}

/* ---- the header ---- */

/* A first document is a header when it says `execution:`, or holds only
 * `name:` (SkyPilot's pipeline header). */
static int is_header(const struct ydoc *d)
{
    const struct ynode *r = d->root;

    if (r == NULL || r->type != Y_MAP)
        return 0;
    return ymap_get(r, "execution") != NULL || (r->n == 1 && ymap_get(r, "name") != NULL);
}

static int header_execution(struct pctx *c, const struct ynode *n, struct err *e)
{
    const char *v;
    int rc = yget_str(c->header, n, "execution", &v, e);

    if (rc != 0)
        return rc;
    if (strcmp(v, "parallel") == 0)
        c->p->mode = PIPE_PARALLEL;
    else if (strcmp(v, "serial") == 0)
        c->p->mode = PIPE_SERIAL;
    else
        return yerr(c->header, n, ST_EINVAL, e,
                    "execution must be 'parallel' (a job group: tasks run together) or "
                    "'serial' (a pipeline: tasks run in order), not '%s'",
                    v);
    return 0;
}

static int header_parse(struct pctx *c, struct err *e)
{
    const struct ydoc *h = c->header;
    const struct ynode *n;
    const char *name;
    int rc;

    rc = ymap_check_keys(h, h->root, header_keys,
                         "the header document (it holds name, execution and "
                         "primary_tasks; each task follows after a '---' line)",
                         e);
    if (rc != 0)
        return rc;
    n = ymap_get(h->root, "name");
    if (n != NULL) {
        rc = yget_str(h, n, "name", &name, e);
        if (rc != 0)
            return rc;
        free(c->p->name);
        c->p->name = xstrdup(name);
    }
    n = ymap_get(h->root, "execution");
    rc = n != NULL ? header_execution(c, n, e) : 0;
    if (rc != 0)
        return rc;
    c->primaries = ymap_get(h->root, "primary_tasks");
    if (c->primaries != NULL && c->p->mode != PIPE_PARALLEL)
        return yerr(h, c->primaries, ST_EINVAL, e,
                    "primary_tasks belongs to a job group; add 'execution: parallel' to "
                    "the header, or remove primary_tasks (a pipeline runs every task)");
    if (c->primaries != NULL)
        return yexpect(h, c->primaries, Y_SEQ, "primary_tasks", e);
    return 0;
}

/* ---- the tasks ---- */

/* The text of document d with every line before it blanked. */
static char *stage_text(const char *data, const struct ydoc *d, size_t *len)
{
    size_t pad = d->start_line - 1, n = d->end - d->start;
    char *t = xmalloc(pad + n + 1);

    memset(t, '\n', pad);
    memcpy(t + pad, data + d->start, n);
    t[pad + n] = '\0';
    *len = pad + n;
    return t;
}

static int stage_add(struct pctx *c, const struct ydoc *d, struct err *e)
{
    struct pipeline *p = c->p;
    struct pipeline_stage *st = &p->stages[p->n];
    size_t len;
    int rc;

    memset(st, 0, sizeof(*st));
    st->text = stage_text(c->data, d, &len);
    st->line = d->start_line;
    st->primary = 1;
    rc = spec_load_mem(&st->spec, p->path, st->text, len, e);
    if (rc != 0) {
        free(st->text);
        return rc;
    }
    /* a task without a name of its own is named after the pipeline */
    if (d->root != NULL && ymap_get(d->root, "name") == NULL) {
        free(st->spec->name);
        st->spec->name = xasprintf("%s-%zu", p->name, p->n + 1);
    }
    p->n++;
    return 0;
}

/* A job group's tasks are told apart by name (primary_tasks names them). */
static int names_unique(const struct pctx *c, struct err *e)
{
    const struct pipeline *p = c->p;
    size_t i, j;

    for (i = 1; i < p->n; i++)
        for (j = 0; j < i; j++)
            if (strcmp(p->stages[i].spec->name, p->stages[j].spec->name) == 0)
                return err_at(e, ST_EINVAL, p->path, p->stages[i].line, 1,
                              "two tasks of the job group are called '%s' (the other "
                              "starts at line %zu); give each task its own name:",
                              p->stages[i].spec->name, p->stages[j].line);
    return 0;
}

/* Mark the tasks primary_tasks names (every one when it names none). */
static int mark_primaries(struct pctx *c, struct err *e)
{
    struct pipeline *p = c->p;
    const struct ynode *l = c->primaries;
    const char **names;
    size_t i, k;
    int rc = 0;

    if (l == NULL || l->n == 0)
        return 0;
    for (k = 0; k < p->n; k++)
        p->stages[k].primary = 0;
    names = xcalloc(p->n + 1, sizeof(*names));
    for (k = 0; k < p->n; k++)
        names[k] = p->stages[k].spec->name;
    for (i = 0; rc == 0 && i < l->n; i++) {
        const char *want, *sug;

        rc = yget_str(c->header, l->items[i], "primary_tasks item", &want, e);
        if (rc != 0)
            break;
        for (k = 0; k < p->n && strcmp(names[k], want) != 0; k++)
            ;
        if (k < p->n) {
            p->stages[k].primary = 1;
            continue;
        }
        sug = str_suggest(want, names);
        rc = yerr(c->header, l->items[i], ST_EINVAL, e,
                  "primary_tasks names '%s', but no task is called that%s%s%s", want,
                  sug ? " (did you mean '" : "; the tasks are named by their name: key",
                  sug ? sug : "", sug ? "'?)" : "");
    }
    free(names);
    return rc;
}

/* ---- entry points ---- */

static int pipeline_build(struct pctx *c, struct err *e)
{
    struct pipeline *p = c->p;
    size_t i, first = 0;
    int rc;

    while (first < c->ndocs && doc_empty(&c->docs[first]))
        first++;
    if (first == c->ndocs)
        return err_at(e, ST_EPARSE, p->path, 0, 0,
                      "the file is empty; a pipeline needs at least one task");
    if (is_header(&c->docs[first])) {
        c->header = &c->docs[first++];
        rc = header_parse(c, e);
        if (rc != 0)
            return rc;
    }
    p->stages = xcalloc(c->ndocs, sizeof(*p->stages));
    for (i = first; i < c->ndocs; i++) {
        if (doc_empty(&c->docs[i]))
            continue;
        if (p->n >= PIPELINE_MAX_STAGES)
            return err_at(e, ST_ETOOBIG, p->path, c->docs[i].start_line, 1,
                          "more than %d tasks in one file; split the work into several "
                          "files", PIPELINE_MAX_STAGES);
        rc = stage_add(c, &c->docs[i], e);
        if (rc != 0)
            return rc;
    }
    if (p->n == 0)
        return err_at(e, ST_EPARSE, p->path, c->header->start_line, 1,
                      "the header is followed by no task; write each task after a '---' "
                      "line");
    if (p->mode != PIPE_PARALLEL)
        return 0;
    rc = names_unique(c, e);
    return rc != 0 ? rc : mark_primaries(c, e);
}

int pipeline_load_mem(struct pipeline **out, const char *path, const char *data, size_t len,
                      struct err *e)
{
    struct pctx c;
    int rc;

    *out = NULL;
    if (len > SPEC_MAX_BYTES)
        return err_set(e, ST_ETOOBIG, "%s: spec larger than %zu bytes", path, SPEC_MAX_BYTES);
    memset(&c, 0, sizeof(c));
    c.data = data;
    rc = ydoc_load_stream(&c.docs, &c.ndocs, path, data, len,
                          PIPELINE_MAX_STAGES + DOCS_SLACK, e);
    if (rc != 0)
        return rc;
    c.p = xcalloc(1, sizeof(*c.p));
    c.p->path = xstrdup(path);
    c.p->name = base_name(path);
    c.p->mode = PIPE_SERIAL;
    rc = pipeline_build(&c, e);
    ydocs_free(c.docs, c.ndocs);
    if (rc != 0) {
        pipeline_free(c.p);
        return rc;
    }
    *out = c.p;
    return 0;
}

int pipeline_load_file(struct pipeline **out, const char *path, struct err *e)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = fs_read_file(path, SPEC_MAX_BYTES, &text, &len, e);
    if (rc == 0)
        rc = pipeline_load_mem(out, path, text, len, e);
    free(text);
    return rc;
}

void pipeline_free(struct pipeline *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++) {
        spec_free(p->stages[i].spec);
        free(p->stages[i].text);
    }
    free(p->stages);
    free(p->path);
    free(p->name);
    free(p);
}
