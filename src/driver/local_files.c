/*
 * local_files.c - the files through which the local driver and its node
 * supervisors talk (the layout is in local_int.h).
 *
 * Two processes never write one file at the same time in a way that matters:
 * every file that is read while another process may be writing it is
 * written whole to a temporary name and renamed (or, for `pid`, linked) into
 * place, so a reader sees nothing or all of it.  Temporary names carry the
 * writer's pid, so a driver and a supervisor never share one.
 *
 * `pid` is the claim and the heartbeat at once: the supervisor creates it
 * with link(), which fails when it exists, so exactly one supervisor (or the
 * driver's tombstone) owns a node; and it keeps the file flock()ed until it
 * dies, so "is the supervisor alive?" is a lock test that a recycled pid
 * cannot fool, and that works for zombies nobody reaped.
 *
 * `exit` is the one file whose loss costs work: a supervisor that cannot
 * record how its job ended looks like a lost node, and the job runs again.
 * So its space is taken when the supervisor starts (exit-reserved, written
 * whole and synced, before the job runs); at the end the record overwrites
 * it in place - which needs no new block on a full disk - and the file is
 * renamed to `exit`.  Should the rename fail, the record is in
 * exit-reserved, where the driver looks once the supervisor is dead.
 *
 * Every file is the owner's alone (0600): logs and envs may hold secrets.
 *
 * These functions report errors as -errno: the supervisor has no one to
 * hand a struct err to, and the driver adds context itself.
 */
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/strutil.h"
#include "../util/xmem.h"

#define LF_EXIT_SIZE 64 /* an exit record always fits */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = local_sys.write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Create dir/.name.<pid>.tmp holding data; returns the fd (still open) and
 * the path in *tmp, or -errno. */
static int write_tmp(const char *dir, const char *name, const void *data, size_t len,
                     int mode, char **tmp)
{
    int fd, rc;

    *tmp = xasprintf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
    fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, data, len);
    if (rc != 0) {
        close(fd);
        unlink(*tmp);
        return rc;
    }
    return fd;
}

int lf_write_mode(const char *dir, const char *name, const void *data, size_t len,
                  int mode)
{
    char *tmp, *path = xasprintf("%s/%s", dir, name);
    int fd = write_tmp(dir, name, data, len, mode, &tmp), rc = 0;

    if (fd < 0)
        rc = fd;
    else if (close(fd) != 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

int lf_write(const char *dir, const char *name, const void *data, size_t len)
{
    return lf_write_mode(dir, name, data, len, 0600);
}

ssize_t lf_read(const char *dir, const char *name, char *buf, size_t n)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got, total = 0;

    free(path);
    if (fd < 0)
        return -errno;
    while ((size_t)total + 1 < n) {
        got = read(fd, buf + total, n - 1 - (size_t)total);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        total += got;
    }
    close(fd);
    buf[total] = '\0';
    return total;
}

int lf_exists(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    int ok = access(path, F_OK) == 0;

    free(path);
    return ok;
}

double lf_mtime(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    int rc = stat(path, &st);

    free(path);
    if (rc != 0)
        return 0;
    return (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
}

int lf_touch(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), rc = 0;

    if (fd < 0 || futimens(fd, NULL) != 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

double lf_read_stamp(const char *dir, const char *name, char *rest, size_t n)
{
    char buf[256], *end;
    double t;

    if (rest && n > 0)
        rest[0] = '\0';
    if (lf_read(dir, name, buf, sizeof(buf)) <= 0)
        return 0;
    t = strtod(buf, &end);
    if (end == buf || t <= 0)
        return 0;
    end += strspn(end, " ");
    end[strcspn(end, "\n")] = '\0';
    if (rest && n > 0)
        snprintf(rest, n, "%s", end);
    return t;
}

int lf_write_stamp(const char *dir, const char *name, double t, const char *rest)
{
    char buf[256];
    int n =
        snprintf(buf, sizeof(buf), "%.3f%s%s\n", t, rest ? " " : "", rest ? rest : "");

    return lf_write(dir, name, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

int lf_claim(const char *node_dir, long pid, int *lock_fd)
{
    char text[32], *tmp, *path = xasprintf("%s/pid", node_dir);
    int n = snprintf(text, sizeof(text), "%ld\n", pid);
    int fd = write_tmp(node_dir, "pid", text, (size_t)n, 0600, &tmp), rc = 0;

    if (fd < 0)
        rc = fd;
    /* Locked before it has its name: nobody sees an unlocked live claim. */
    if (rc == 0 && lock_fd && flock(fd, LOCK_EX) != 0)
        rc = -errno;
    if (rc == 0 && link(tmp, path) != 0)
        rc = -errno;
    if (fd >= 0)
        unlink(tmp);
    if (fd >= 0 && (rc != 0 || lock_fd == NULL))
        close(fd);
    if (rc == 0 && lock_fd)
        *lock_fd = fd;
    free(tmp);
    free(path);
    return rc;
}

long lf_pid(const char *node_dir)
{
    char buf[32];
    long pid;

    if (lf_read(node_dir, "pid", buf, sizeof(buf)) <= 0)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    if (str_to_long(buf, 0, 1L << 30, &pid) != 0)
        return 0; /* unreadable: treat like a tombstone, it never runs again */
    return pid;
}

int lf_alive(const char *node_dir)
{
    char *path = xasprintf("%s/pid", node_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC), alive = 0;

    free(path);
    if (fd < 0)
        return 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        alive = errno == EWOULDBLOCK;
    close(fd); /* also drops our shared lock when we got it */
    return alive;
}

/* The text of an exit record; its length. */
static size_t exit_text(const struct lf_exit *x, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%d\n%s", x->code,
                       x->lost      ? "lost\n"
                       : x->stopped ? "stopped\n"
                                    : "");

    return len > 0 && (size_t)len < n ? (size_t)len : 0;
}

int lf_exit_write(const char *node_dir, const struct lf_exit *x)
{
    char buf[LF_EXIT_SIZE];

    return lf_write(node_dir, "exit", buf, exit_text(x, buf, sizeof(buf)));
}

/* Parse an exit record; -EAGAIN when it is none ("pending"). */
static int exit_parse(char *buf, struct lf_exit *x)
{
    char *nl;
    long code;

    memset(x, 0, sizeof(*x));
    nl = strchr(buf, '\n');
    if (nl)
        *nl++ = '\0';
    if (strncmp(buf, "pending", 7) == 0)
        return -EAGAIN;
    x->code = str_to_long(buf, -1, 255, &code) == 0 ? (int)code : -1;
    x->stopped = nl && strncmp(nl, "stopped", 7) == 0;
    x->lost = nl && strncmp(nl, "lost", 4) == 0;
    return 0;
}

int lf_exit_read(const char *node_dir, struct lf_exit *x)
{
    char buf[LF_EXIT_SIZE];
    ssize_t n = lf_read(node_dir, "exit", buf, sizeof(buf));

    if (n < 0)
        return (int)n;
    exit_parse(buf, x);
    return 0;
}

int lf_exit_read_reserved(const char *node_dir, struct lf_exit *x)
{
    char buf[LF_EXIT_SIZE];
    ssize_t n = lf_read(node_dir, "exit-reserved", buf, sizeof(buf));

    if (n <= 0 || exit_parse(buf, x) != 0)
        return -ENOENT;
    return 0;
}

int lf_exit_reserve(const char *node_dir)
{
    char *path = xasprintf("%s/exit-reserved", node_dir), buf[LF_EXIT_SIZE];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

    free(path);
    if (fd < 0)
        return -errno;
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, "pending\n", 8);
    buf[sizeof(buf) - 1] = '\n';
    /* written, not only fallocate()d: the blocks are really allocated then,
     * and synced so that the file system has taken them for good */
    rc = write_all(fd, buf, sizeof(buf));
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int lf_exit_commit(int fd, const char *node_dir, const struct lf_exit *x)
{
    char buf[LF_EXIT_SIZE], *from, *to;
    size_t len = exit_text(x, buf, sizeof(buf));
    int rc = 0;

    if (lseek(fd, 0, SEEK_SET) != 0)
        return -errno;
    rc = write_all(fd, buf, len);
    if (rc == 0 && ftruncate(fd, (off_t)len) != 0) /* shrinking needs no space */
        rc = -errno;
    if (rc != 0)
        return rc;
    from = xasprintf("%s/exit-reserved", node_dir);
    to = xasprintf("%s/exit", node_dir);
    if (rename(from, to) != 0)
        rc = -errno;
    free(from);
    free(to);
    return rc;
}
