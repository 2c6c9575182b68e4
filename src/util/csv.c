/*
 * csv.c - the CSV reader (see csv.h).
 *
 * Layout: open (read the file whole), the row scanner (csv_next, which unquotes
 * in place), header binding, typed getters.
 */
#include "csv.h"
#include "fsutil.h"
#include "strutil.h"
#include "xmem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void csv_reset(struct csv *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < CSV_MAX_FIELDS; i++)
        c->map[i] = -1;
    c->next_line = 1;
}

/* The text is read (data[size] is its NUL), starting at line `line`: a NUL
 * byte inside it would end the file there, silently; a UTF-8 byte-order
 * mark at the file's start is skipped. */
static int csv_start(struct csv *c, size_t line, struct err *e)
{
    const char *nul = memchr(c->data, '\0', c->size);
    const char *p;

    c->pos = c->data;
    c->next_line = line;
    if (nul != NULL) {
        for (p = c->data; p < nul; p++)
            line += *p == '\n';
        err_at(e, ST_EPARSE, c->path, line, 0,
               "a NUL byte: this is not a text file (a CSV file was expected)");
        csv_close(c);
        return e->code;
    }
    if (line == 1 && c->size >= 3 && memcmp(c->data, "\xEF\xBB\xBF", 3) == 0)
        c->pos += 3;
    return 0;
}

int csv_open_mem_at(struct csv *c, const char *name, const char *data, size_t n,
                    size_t line, struct err *e)
{
    csv_reset(c);
    c->path = xstrdup(name);
    c->data = xmalloc(n + 1);
    memcpy(c->data, data, n);
    c->data[n] = '\0';
    c->size = n;
    return csv_start(c, line, e);
}

int csv_open_mem(struct csv *c, const char *name, const char *data, size_t n,
                 struct err *e)
{
    return csv_open_mem_at(c, name, data, n, 1, e);
}

int csv_open(struct csv *c, const char *path, size_t limit, struct err *e)
{
    FILE *fp;
    long sz;
    size_t got;

    csv_reset(c);
    if (limit == 0)
        limit = (size_t)1 << 30;
    fp = fs_open_read(path, e);
    if (fp == NULL)
        return e->code;
    if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return err_set(e, ST_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    if ((size_t)sz > limit) {
        fclose(fp);
        return err_set(e, ST_ETOOBIG, "%s: file is %ld bytes, the limit is %zu", path,
                       sz, limit);
    }
    c->path = xstrdup(path);
    c->data = xmalloc((size_t)sz + 1);
    got = fread(c->data, 1, (size_t)sz, fp);
    fclose(fp);
    if (got != (size_t)sz) {
        csv_close(c);
        return err_set(e, ST_EIO, "%s: short read", path);
    }
    c->data[got] = '\0';
    c->size = got;
    return csv_start(c, 1, e);
}

/* Scan one quoted field starting at p (on the opening quote); unquote in place.
 * Returns the byte after the closing quote, or NULL if the quote never closes. */
static char *scan_quoted(struct csv *c, char *p, char **start)
{
    char *w = p, *r = p + 1;

    *start = w;
    for (;;) {
        if (*r == '\0')
            return NULL;
        if (*r == '"') {
            if (r[1] == '"') {
                *w++ = '"';
                r += 2;
                continue;
            }
            *w = '\0';
            return r + 1;
        }
        if (*r == '\n')
            c->next_line++;
        *w++ = *r++;
    }
}

int csv_next(struct csv *c, struct err *e)
{
    char *p = c->pos;

    /* Skip blank lines (and a lone CR). */
    while (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
        if (*p == '\r')
            p++;
        p++;
        c->next_line++;
    }
    if (*p == '\0') {
        c->pos = p;
        c->nfields = 0;
        return 0;
    }
    c->line = c->next_line;
    c->row = p;
    c->nfields = 0;
    for (;;) {
        char *start;

        if (c->nfields == CSV_MAX_FIELDS)
            return err_at(e, ST_EPARSE, c->path, c->line, 0,
                          "more than %d fields in a row", CSV_MAX_FIELDS);
        if (*p == '"') {
            p = scan_quoted(c, p, &start);
            if (p == NULL)
                return err_at(e, ST_EPARSE, c->path, c->line, 0,
                              "a quoted field is never closed");
            if (*p != ',' && *p != '\n' && *p != '\r' && *p != '\0')
                return err_at(e, ST_EPARSE, c->path, c->line, 0,
                              "text after a closing quote in field %zu", c->nfields + 1);
        } else {
            start = p;
            while (*p != ',' && *p != '\n' && *p != '\r' && *p != '\0') {
                if (*p == '"')
                    return err_at(e, ST_EPARSE, c->path, c->line, 0,
                                  "a quote inside unquoted field %zu", c->nfields + 1);
                p++;
            }
        }
        c->field[c->nfields++] = start;
        if (*p == ',') {
            if (c->width > 0 && c->nfields == c->width)
                return err_at(e, ST_EPARSE, c->path, c->line, 0,
                              "more fields than the header's %zu columns (a comma too many, "
                              "or a field with a comma that is not quoted)",
                              c->width);
            *p++ = '\0';
            continue;
        }
        c->row_broken = c->next_line != c->line; /* scan_quoted counted a break */
        if (*p == '\r')
            *p++ = '\0';
        if (*p == '\n') {
            *p++ = '\0';
            c->next_line++;
        } else if (*p != '\0') {
            return err_at(e, ST_EPARSE, c->path, c->line, 0, "stray carriage return");
        }
        break;
    }
    c->pos = p;
    return 1;
}

int csv_bind(struct csv *c, const struct csv_col *cols, size_t ncols, struct err *e)
{
    const char *names[CSV_MAX_FIELDS + 1];
    size_t i, j;
    int rc;

    BUG_ON(ncols > CSV_MAX_FIELDS);
    rc = csv_next(c, e);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_at(e, ST_EPARSE, c->path, 1, 0, "empty file: expected a header row");
    for (i = 0; i < ncols; i++) {
        names[i] = cols[i].name;
        c->map[i] = -1;
    }
    names[ncols] = NULL;
    for (j = 0; j < c->nfields; j++) {
        const char *h = c->field[j];

        for (i = 0; i < ncols; i++)
            if (strcmp(h, cols[i].name) == 0)
                break;
        if (i == ncols) {
            const char *sug = str_suggest(h, names);

            return err_at(e, ST_EPARSE, c->path, c->line, csv_col_of(c, h),
                          "unknown column '%s'%s%s%s", h, sug ? " (did you mean '" : "",
                          sug ? sug : "", sug ? "'?)" : "");
        }
        if (c->map[i] != -1)
            return err_at(e, ST_EPARSE, c->path, c->line, csv_col_of(c, h),
                          "column '%s' appears twice", h);
        c->map[i] = (int)j;
    }
    c->width = c->nfields;
    for (i = 0; i < ncols; i++)
        if (cols[i].required && c->map[i] == -1)
            return err_at(e, ST_EPARSE, c->path, c->line, 0,
                          "missing required column '%s'", cols[i].name);
    return 0;
}

/* The field of schema column i in the row last returned, -1 = none. */
static int field_of(const struct csv *c, size_t i)
{
    int f;

    BUG_ON(i >= CSV_MAX_FIELDS);
    f = c->map[i];
    return f < 0 || (size_t)f >= c->nfields ? -1 : f;
}

const char *csv_get(const struct csv *c, size_t i)
{
    int f = field_of(c, i);

    return f < 0 ? "" : c->field[f];
}

size_t csv_col_at(const struct csv *c, size_t i)
{
    int f = field_of(c, i);

    return f < 0 ? 0 : csv_col_of(c, c->field[f]);
}

size_t csv_col_of(const struct csv *c, const char *field)
{
    size_t col = 1, j;

    for (j = 0; j < c->nfields && c->field[j] != field; j++)
        ;
    /* A row with a quoted line break spans lines: no column then. */
    if (j == c->nfields || c->row_broken)
        return 0;
    /* in characters, as YAML's errors count them: UTF-8's continuation
     * bytes (10xxxxxx) do not start one */
    for (const char *p = c->row; p < field; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return col;
}

int csv_double(const struct csv *c, size_t i, const char *colname, const double *dflt,
               double *out, struct err *e)
{
    const char *s = csv_get(c, i);

    if (*s == '\0') {
        if (dflt) {
            *out = *dflt;
            return 0;
        }
        return err_at(e, ST_EINVAL, c->path, c->line, csv_col_at(c, i),
                      "column '%s' is empty", colname);
    }
    if (str_to_double(s, out) != 0)
        return err_at(e, ST_EINVAL, c->path, c->line, csv_col_at(c, i),
                      "column '%s': '%s' is not a number", colname, s);
    return 0;
}

int csv_long(const struct csv *c, size_t i, const char *colname, long min, long max,
             const long *dflt, long *out, struct err *e)
{
    const char *s = csv_get(c, i);

    if (*s == '\0') {
        if (dflt) {
            *out = *dflt;
            return 0;
        }
        return err_at(e, ST_EINVAL, c->path, c->line, csv_col_at(c, i),
                      "column '%s' is empty", colname);
    }
    if (str_to_long(s, min, max, out) != 0)
        return err_at(e, ST_EINVAL, c->path, c->line, csv_col_at(c, i),
                      "column '%s': '%s' is not a whole number in [%ld, %ld]", colname, s,
                      min, max);
    return 0;
}

void csv_close(struct csv *c)
{
    free(c->path);
    free(c->data);
    c->path = c->data = NULL;
}
