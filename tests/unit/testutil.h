/*
 * testutil.h - helpers shared by the unit tests: temporary directories with
 * files in them, and reading a file whole.  Header-only (static functions) so
 * each test binary stays one .c file.
 */
#ifndef STRATUS_TESTUTIL_H
#define STRATUS_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xmem.h"

/* A new empty directory under $TMPDIR; caller frees the path (rm with tu_rmdir). */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = xasprintf("%s/stratus-test-XXXXXX", base);

    if (mkdtemp(path) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static inline void tu_write(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(path, "w");

    if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
        perror(path);
        abort();
    }
    free(path);
}

/* Copy every regular file of src into dst (flat directories only). */
static inline void tu_copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *de;

    if (d == NULL) {
        perror(src);
        abort();
    }
    while ((de = readdir(d)) != NULL) {
        char *from, *to, buf[65536];
        FILE *in, *out;
        size_t n;

        if (de->d_name[0] == '.')
            continue;
        from = xasprintf("%s/%s", src, de->d_name);
        to = xasprintf("%s/%s", dst, de->d_name);
        in = fopen(from, "rb");
        out = fopen(to, "wb");
        if (in == NULL || out == NULL)
            abort();
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, out);
        fclose(in);
        fclose(out);
        free(from);
        free(to);
    }
    closedir(d);
}

static inline void tu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char *p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        p = xasprintf("%s/%s", dir, de->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

#endif
