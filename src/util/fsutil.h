/*
 * fsutil.h - small filesystem helpers: make a directory path, copy a tree
 * (checkpoints carried between attempts), remove a tree.
 */
#ifndef STRATUS_FSUTIL_H
#define STRATUS_FSUTIL_H

#include <stdio.h>

#include "err.h"

/* mkdir -p with the given mode for created directories. */
int fs_mkdirs(const char *path, int mode, struct err *e);
/* Copy regular files, directories and symlinks of src into dst (created),
 * adding the bytes copied to *bytes.  A missing src copies nothing. */
int fs_copy_tree(const char *src, const char *dst, double *bytes, struct err *e);
/* rm -rf; a missing path is not an error. */
int fs_remove_tree(const char *path, struct err *e);
/* Adds the sizes of the regular files under path (symlinks not followed) to
 * *bytes and their number to *files, and stops once *bytes passes limit: 1
 * when it stopped there, else 0.  What cannot be read is skipped. */
int fs_tree_size(const char *path, long long limit, long long *bytes, long long *files);
/* fopen(path, "rb") of a file to read, or NULL with an error that names
 * it: "cannot open: <why>", or "is a directory, not a file". */
FILE *fs_open_read(const char *path, struct err *e);
/* Read a whole (small) file into a new NUL-terminated string; caller frees. */
int fs_read_file(const char *path, size_t limit, char **out, size_t *len, struct err *e);

#endif
