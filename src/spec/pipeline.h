/*
 * pipeline.h - a file of several YAML documents: a SkyPilot pipeline (tasks
 * run one after another) or a job group (tasks run together).
 *
 * Forms, as SkyPilot writes them:
 *   pipeline:  an optional first document holding only `name:` (the
 *              pipeline's name), then one task per document, run in order;
 *              each starts when the one before it has succeeded.
 *   job group: a first document (the header) with `execution: parallel`,
 *              `name:` and optionally `primary_tasks: [names]`, then one task
 *              per document, all launched together; when every primary task
 *              has ended the others (auxiliary: data servers, replay buffers)
 *              are stopped.  Without primary_tasks every task is primary.
 * `execution: serial` in a header is Stratus's explicit spelling of a
 * pipeline.  Empty documents (a trailing '---') are skipped.
 *
 * Every task is parsed by the spec parser (spec.h) from its own document's
 * text with the lines before it blanked, so that its messages and warnings
 * carry the real file:line.  A file of one document is not a pipeline:
 * pipeline_is_multi() tells callers which parser to use.
 */
#ifndef STRATUS_PIPELINE_H
#define STRATUS_PIPELINE_H

#include <stddef.h>

#include "../util/err.h"

struct spec;

#define PIPELINE_MAX_STAGES 64

/* Written to the store (store_job.group_mode): append, never reorder. */
enum pipeline_mode {
    PIPE_NONE,      /* not in a group */
    PIPE_SERIAL,    /* a pipeline: stages in order */
    PIPE_PARALLEL   /* a job group: tasks together */
};

struct pipeline_stage {
    struct spec *spec;      /* parsed; owned */
    char *text;             /* the document's text with every line before it
                               blanked (so lines keep their numbers): what a
                               stage's job keeps as its spec text; owned */
    size_t line;            /* where the document starts in the file */
    int primary;            /* job group: a primary task (all are when the
                               header names none); pipeline: 1 */
};

struct pipeline {
    char *path;             /* the file, for messages; owned */
    char *name;             /* the header's name, else the file's base name */
    enum pipeline_mode mode;
    struct pipeline_stage *stages; /* in file order, at least one */
    size_t n;
};

/* 1 when the len bytes at data hold more than one non-empty YAML document
 * (a pipeline or job group), 0 otherwise (including text that is not YAML:
 * the spec parser then says what is wrong with it). */
int pipeline_is_multi(const char *data, size_t len);

/* Parse a multi-document file; on success *out is a new pipeline the caller
 * frees with pipeline_free(); on error *out is NULL and e says
 * "path:line:col: what is wrong (what to do)". */
int pipeline_load_mem(struct pipeline **out, const char *path, const char *data, size_t len,
                      struct err *e);
int pipeline_load_file(struct pipeline **out, const char *path, struct err *e);
void pipeline_free(struct pipeline *p);

/* "pipeline", "job group", "none". */
const char *pipeline_mode_name(int mode);

#endif
