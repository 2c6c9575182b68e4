/*
 * csv.h - a strict, fast CSV reader (RFC 4180 quoting) for the catalog and the
 * traces.  The whole file is read into one buffer (bounded), fields are
 * unquoted in place and handed out as NUL-terminated strings that stay valid
 * until the next csv_next() call's row... in fact until csv_close(): rows are
 * never moved.  A header is bound to a column schema so that unknown and
 * missing columns are errors with file:line.
 */
#ifndef STRATUS_CSV_H
#define STRATUS_CSV_H

#include <stddef.h>

#include "err.h"

#define CSV_MAX_FIELDS 64

struct csv {
    char *path;         /* for messages; owned */
    char *data;         /* whole file, NUL-terminated; owned */
    size_t size;
    char *pos;          /* next unread byte */
    size_t line;        /* line number of the row last returned (1-based) */
    size_t next_line;   /* line number where pos is */
    size_t nfields;     /* fields in the row last returned */
    size_t width;       /* the header's columns once bound (a row may have no
                           more); 0 before */
    char *row;          /* where the row last returned starts */
    int row_broken;     /* ... and a quoted field of it has a line break */
    char *field[CSV_MAX_FIELDS];
    int map[CSV_MAX_FIELDS]; /* schema column -> field index, -1 if absent */
};

/* One expected column: its name and whether a file must have it. */
struct csv_col {
    const char *name;
    int required;
};

/* Open and read a file of at most `limit` bytes (0 = 1 GiB).  A file with
 * a NUL byte is refused (file:line); a UTF-8 byte-order mark is skipped. */
int csv_open(struct csv *c, const char *path, size_t limit, struct err *e);
/* Read from memory (copied), for tests and fuzzing; `name` is used in messages. */
int csv_open_mem(struct csv *c, const char *name, const char *data, size_t n,
                 struct err *e);
/* The same for a part of a file that starts at line `line` (a reader that
 * hands a file over in parts). */
int csv_open_mem_at(struct csv *c, const char *name, const char *data, size_t n,
                    size_t line, struct err *e);
/* Next row: 1 when a row was read, 0 at end of file, negative on error.
 * Blank lines are skipped. */
int csv_next(struct csv *c, struct err *e);
/* Read the header row and bind it to cols (ncols <= CSV_MAX_FIELDS): every
 * header name must be one of cols (else: "unknown column 'x' (did you mean
 * 'y'?)"), and every required col must be present. */
int csv_bind(struct csv *c, const struct csv_col *cols, size_t ncols, struct err *e);
/* Field of schema column i in the current row ("" when the column is absent). */
const char *csv_get(const struct csv *c, size_t i);
/* The 1-based column (in characters, as YAML's errors count them) where
 * schema column i's field starts in the row last returned, for
 * file:line:col messages; 0 when unknown (absent, or the row has a quoted
 * line break). */
size_t csv_col_at(const struct csv *c, size_t i);
/* The same for a field of that row given by its text (a pointer csv_get
 * returned, or the header's c->field[j]); 0 when it is not one. */
size_t csv_col_of(const struct csv *c, const char *field);
/* Typed getters: an error names file:line and the column. Empty is allowed only
 * when `dflt` is given (not NULL), and then *out = *dflt. */
int csv_double(const struct csv *c, size_t i, const char *colname, const double *dflt,
               double *out, struct err *e);
int csv_long(const struct csv *c, size_t i, const char *colname, long min, long max,
             const long *dflt, long *out, struct err *e);
void csv_close(struct csv *c);

#endif
