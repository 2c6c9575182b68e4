/*
 * fsutil.c - filesystem helpers (see fsutil.h).
 */
#include "fsutil.h"
#include "xmem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdirs(const char *path, int mode, struct err *e)
{
    char *p = xstrdup(path), *s;
    int rc = 0;

    for (s = p + 1; rc == 0; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
            rc = err_set(e, ST_EIO, "cannot create directory %s: %s", p, strerror(errno));
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

static int copy_file(const char *src, const char *dst, mode_t mode, double *bytes,
                     struct err *e)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out;
    char buf[65536];
    ssize_t n;
    int rc = 0;

    if (in < 0)
        return err_set(e, ST_EIO, "cannot read %s: %s", src, strerror(errno));
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        close(in);
        return err_set(e, ST_EIO, "cannot write %s: %s", dst, strerror(errno));
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = err_set(e, ST_EIO, "cannot write %s: %s", dst, strerror(errno));
            break;
        }
        *bytes += (double)n;
    }
    if (n < 0 && rc == 0)
        rc = err_set(e, ST_EIO, "cannot read %s: %s", src, strerror(errno));
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = err_set(e, ST_EIO, "cannot write %s: %s", dst, strerror(errno));
    return rc;
}

static int copy_entry(const char *src, const char *dst, double *bytes, struct err *e)
{
    struct stat st;
    char link[4096];
    ssize_t n;

    if (lstat(src, &st) != 0)
        return err_set(e, ST_EIO, "cannot stat %s: %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return fs_copy_tree(src, dst, bytes, e);
    if (S_ISREG(st.st_mode))
        return copy_file(src, dst, st.st_mode, bytes, e);
    if (S_ISLNK(st.st_mode)) {
        n = readlink(src, link, sizeof(link) - 1);
        if (n < 0)
            return err_set(e, ST_EIO, "cannot read link %s: %s", src, strerror(errno));
        link[n] = '\0';
        if (symlink(link, dst) != 0 && errno != EEXIST)
            return err_set(e, ST_EIO, "cannot create link %s: %s", dst, strerror(errno));
    }
    return 0; /* sockets, fifos, devices are not checkpoint data */
}

int fs_copy_tree(const char *src, const char *dst, double *bytes, struct err *e)
{
    DIR *d = opendir(src);
    struct dirent *de;
    int rc;

    if (d == NULL)
        return errno == ENOENT ? 0 : err_set(e, ST_EIO, "cannot open %s: %s", src, strerror(errno));
    if ((rc = fs_mkdirs(dst, 0755, e)) != 0) {
        closedir(d);
        return rc;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char *s, *t;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        s = xasprintf("%s/%s", src, de->d_name);
        t = xasprintf("%s/%s", dst, de->d_name);
        rc = copy_entry(s, t, bytes, e);
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

int fs_remove_tree(const char *path, struct err *e)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : err_set(e, ST_EIO, "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : err_set(e, ST_EIO, "cannot remove %s: %s", path, strerror(errno));
    d = opendir(path);
    if (d == NULL)
        return err_set(e, ST_EIO, "cannot open %s: %s", path, strerror(errno));
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char *p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        p = xasprintf("%s/%s", path, de->d_name);
        rc = fs_remove_tree(p, e);
        free(p);
    }
    closedir(d);
    if (rc == 0 && rmdir(path) != 0)
        rc = err_set(e, ST_EIO, "cannot remove %s: %s", path, strerror(errno));
    return rc;
}

int fs_tree_size(const char *path, long long limit, long long *bytes, long long *files)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int over = 0;

    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode)) {
        *bytes += st.st_size;
        ++*files;
        return *bytes > limit;
    }
    if (!S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL)
        return 0;
    while (!over && (de = readdir(d)) != NULL) {
        char *p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        p = xasprintf("%s/%s", path, de->d_name);
        over = fs_tree_size(p, limit, bytes, files);
        free(p);
    }
    closedir(d);
    return over;
}

FILE *fs_open_read(const char *path, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;

    if (fp == NULL) {
        err_set(e, ST_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        err_set(e, ST_EIO, "%s: is a directory, not a file", path);
        return NULL;
    }
    return fp;
}

int fs_read_file(const char *path, size_t limit, char **out, size_t *len, struct err *e)
{
    FILE *fp = fs_open_read(path, e);
    struct buf b;
    char chunk[8192];
    size_t n;
    int rc = 0;

    *out = NULL;
    if (fp == NULL)
        return e->code;
    buf_init(&b, limit);
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_add(&b, chunk, n) != 0)
            rc = err_set(e, ST_ETOOBIG, "%s: larger than %zu bytes", path, limit);
    if (rc == 0 && ferror(fp))
        rc = err_set(e, ST_EIO, "%s: read error: %s", path, strerror(errno));
    fclose(fp);
    if (rc != 0) {
        buf_free(&b);
        return rc;
    }
    *out = b.data ? b.data : xstrdup("");
    if (len)
        *len = b.len;
    return 0;
}
