/*
 * local_mounts.c - the spec's launch options in the local world: file_mounts
 * of local paths copied into each node's work directory (as SkyPilot copies
 * them onto its nodes), and what the local driver cannot honour, said in the
 * node's log.
 *
 * The driver writes two files beside the attempt's `run` (local_files.c's
 * protocol): `mounts`, one "SOURCE\tDESTINATION" a line with the source made
 * absolute and the destination relative to work/, and `notes`, lines the
 * node supervisor prints to the node's log before it runs setup.
 *
 * Destinations: "~/data" and "/data" both become work/data (a node's home
 * and root are the host's, so the work directory stands in for both);
 * ".." is refused so nothing is written outside work/.  Buckets are not
 * fetched: the planner priced where they are, and the job reads them itself.
 */
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../spec/spec.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

/* The source made absolute: "~/x" under $HOME, a relative path under the
 * spec file's directory.  Caller frees. */
static char *mount_src(const struct attempt *a, const char *src)
{
    const char *home = getenv("HOME"), *slash;

    if (src[0] == '~' && (src[1] == '/' || src[1] == '\0'))
        return xasprintf("%s%s", home ? home : "", src + 1);
    if (src[0] == '/')
        return xstrdup(src);
    slash = a->spec_path ? strrchr(a->spec_path, '/') : NULL;
    if (slash == NULL)
        return xstrdup(src);
    return xasprintf("%.*s/%s", (int)(slash - a->spec_path), a->spec_path, src);
}

/* The destination relative to work/, or NULL when it would leave it. */
static char *mount_dst(const char *dst)
{
    const char *p = dst;

    if (p[0] == '~')
        p++;
    while (*p == '/')
        p++;
    if (strcmp(p, "..") == 0 || strncmp(p, "../", 3) == 0 || strstr(p, "/../") != NULL ||
        (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))
        return NULL;
    return xstrdup(*p ? p : ".");
}

int local_mounts_text(const struct attempt *a, char **out, struct err *e)
{
    struct buf b;
    int rc = 0;

    *out = NULL;
    buf_init(&b, 0);
    for (size_t i = 0; rc == 0 && i < a->nmounts; i++) {
        const struct spec_mount *m = &a->mounts[i];
        char *src, *dst;
        struct stat st;

        if (m->is_bucket)
            continue;
        src = mount_src(a, m->src);
        dst = mount_dst(m->dst);
        if (dst == NULL)
            rc = err_set(e, ST_EINVAL,
                         "file_mounts %s: a destination with '..' is refused", m->dst);
        else if (stat(src, &st) != 0)
            rc = err_set(
                e, ST_EINVAL,
                "file_mounts %s: local source '%s' (%s) does not exist; fix the "
                "path in the spec (relative paths are relative to the spec's folder)",
                m->dst, m->src, src);
        else if (strchr(src, '\t') || strchr(src, '\n') || strchr(dst, '\t') ||
                 strchr(dst, '\n'))
            rc = err_set(e, ST_EINVAL, "file_mounts %s: tabs and newlines are refused",
                         m->dst);
        else
            buf_printf(&b, "%s\t%s\n", src, dst);
        free(src);
        free(dst);
    }
    if (rc == 0 && b.len > 0)
        *out = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return rc;
}

char *local_launch_notes(const struct attempt *a)
{
    struct buf b;
    char *text = NULL;

    buf_init(&b, 0);
    if (a->image && strncmp(a->image, "docker:", 7) == 0)
        buf_printf(&b,
                   "stratus: image_id %s is not run in a container by the local driver; "
                   "the job runs on this host\n",
                   a->image);
    else if (a->image)
        buf_printf(&b, "stratus: image_id %s is not booted by the local driver\n",
                   a->image);
    if (a->disk_tier)
        buf_printf(&b, "stratus: disk_tier %s has no meaning on the local driver\n",
                   a->disk_tier);
    if (a->accelerator_args)
        buf_printf(&b, "stratus: accelerator_args %s are not used by the local driver\n",
                   a->accelerator_args);
    for (size_t i = 0; i < a->nmounts; i++) {
        if (a->mounts[i].is_bucket)
            buf_printf(&b,
                       "stratus: file_mounts %s: bucket %s is not mounted by the local "
                       "driver; read it from the job\n",
                       a->mounts[i].dst, a->mounts[i].src);
    }
    if (b.len > 0)
        text = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return text;
}

/* Copy one regular file (mode kept) from src to dst. */
static int copy_one(const char *src, const char *dst, mode_t mode, struct err *e)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC), out;
    ssize_t n = 0;

    if (in < 0)
        return err_set(e, ST_EIO, "cannot open %s: %s", src, strerror(errno));
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        close(in);
        return err_set(e, ST_EIO, "cannot create %s: %s", dst, strerror(errno));
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    }
    close(in);
    if (close(out) != 0 || n < 0)
        return err_set(e, ST_EIO, "cannot copy %s to %s: %s", src, dst, strerror(errno));
    return 0;
}

/* Copy src (a file or a directory) to work/dst, making its parents. */
static int copy_mount(const char *work, const char *src, const char *dst, struct err *e)
{
    char *to = xasprintf("%s/%s", work, dst), *slash;
    struct stat st;
    double bytes = 0;
    int rc;

    if (stat(src, &st) != 0) {
        rc = err_set(e, ST_EIO, "file_mounts: %s: %s", src, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        rc = fs_copy_tree(src, to, &bytes, e);
    } else {
        slash = strrchr(to, '/');
        *slash = '\0';
        rc = fs_mkdirs(to, 0700, e);
        *slash = '/';
        if (rc == 0)
            rc = copy_one(src, to, st.st_mode, e);
    }
    free(to);
    return rc;
}

int local_mounts_copy(const char *mounts, const char *work, struct err *e)
{
    char *copy = xstrdup(mounts), *line, *save = NULL;
    int rc = 0;

    for (line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');

        if (tab == NULL)
            continue;
        *tab = '\0';
        rc = copy_mount(work, line, tab + 1, e);
    }
    free(copy);
    return rc;
}
