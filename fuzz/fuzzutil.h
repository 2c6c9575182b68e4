/*
 * fuzzutil.h - what the harnesses that load files share: one scratch
 * directory per process and writing a file into it.  Header-only (static
 * functions), as tests/unit/testutil.h, so each harness stays one .c file.
 */
#ifndef STRATUS_FUZZUTIL_H
#define STRATUS_FUZZUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scratch directory, "" until fz_mkdir made it. */
static char fz_dir[64];

static inline void fz_mkdir_one(const char *path)
{
    if (mkdir(path, 0700) != 0 && access(path, W_OK) != 0)
        abort();
}

/* Make /tmp/fuzz-NAME-PID once, and its subdirectories: subs is a
 * NULL-terminated list of "/sub" paths, or NULL. */
static inline void fz_mkdir(const char *name, const char *const *subs)
{
    char path[128];
    size_t i;

    if (fz_dir[0] != '\0')
        return;
    snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz-%s-%d", name, (int)getpid());
    fz_mkdir_one(fz_dir);
    for (i = 0; subs != NULL && subs[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s%s", fz_dir, subs[i]);
        fz_mkdir_one(path);
    }
}

/* Write n bytes of data as fz_dir/NAME. */
static inline void fz_put(const char *name, const void *data, size_t n)
{
    char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", fz_dir, name);
    fp = fopen(path, "wb");
    if (fp == NULL)
        abort();
    fwrite(data, 1, n, fp);
    fclose(fp);
}

#endif
