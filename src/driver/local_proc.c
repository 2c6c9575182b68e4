/*
 * local_proc.c - making sure nothing of a node outlives it.  A node's
 * processes are found two ways, and the driver reports a node ended only
 * when both say none is left (local_node_reap):
 *
 *  - its cgroup (cgroup v2, where the kernel offers one and we may write
 *    it): the driver names one per node at launch, in the node's `cgroup`
 *    file; the supervisor creates it and moves itself in before it starts
 *    the job.  setsid() does not leave it, so cgroup.kill and
 *    cgroup.events' "populated 0" are exact for all but a process that
 *    moves itself to another cgroup (it must be allowed to write an
 *    ancestor's cgroup.procs), which the process group still finds.
 *  - its process group, led by the supervisor: every process whose /proc
 *    stat names the group and whose environment carries the node's
 *    STRATUS_ATTEMPT_ID and STRATUS_NODE_RANK.  The environment check keeps
 *    a recycled group id (an unrelated program that got the dead
 *    supervisor's pid) from being killed; the supervisor itself, which has
 *    no such variables, is known alive by its lock on `pid`.  /proc is
 *    read only while kill(-pgid, 0) says the group has a process.
 *
 * Without a usable cgroup v2 (no mount, read-only, not root) the process
 * group alone is used: a job process that calls setsid() and clears its
 * environment then escapes, as it would escape any kill(-pgid).
 *
 * Layout: small file helpers; cgroups (discovery, joining, killing); the
 * process group; the reaper.
 */
#include "local_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define PROC_ENV_MAX ((size_t)4 << 20) /* a job's environment is at most ~1 MiB */
#define REAP_WAIT_S 0.2 /* how long one reap waits for SIGKILLed processes */
/* An empty node cgroup this old is left over (its node ended while no driver
 * looked, and its home is gone): a node joins its cgroup when it starts. */
#define CG_SWEEP_AGE_S 600

/* ---- small file helpers ------------------------------------------------ */

static int write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
    size_t n = strlen(s);

    if (fd < 0)
        return -errno;
    if (write(fd, s, n) != (ssize_t)n)
        rc = -errno;
    close(fd);
    return rc;
}

/* The first line of a small file, or NULL. Caller frees. */
static char *read_line(const char *path)
{
    char *text = NULL;
    struct err e;

    if (fs_read_file(path, 64 << 10, &text, NULL, &e) != 0)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* ---- cgroups ----------------------------------------------------------- */

/* Where cgroup v2 is mounted, from /proc/self/mountinfo; NULL when nowhere. */
static char *cg_mount(void)
{
    FILE *fp = fopen("/proc/self/mountinfo", "r");
    char line[4096], mnt[4096], *found = NULL;

    while (fp && found == NULL && fgets(line, sizeof(line), fp)) {
        const char *dash = strstr(line, " - cgroup2 ");

        /* fields: id parent dev root MOUNTPOINT ...; paths are octal-escaped,
         * and a mount point with a space in it is not ours to guess at */
        if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
            strchr(mnt, '\\') == NULL)
            found = xstrdup(mnt);
    }
    if (fp)
        fclose(fp);
    return found;
}

/* This process's cgroup v2 path ("0::/PATH" in /proc/self/cgroup). */
static char *cg_self(void)
{
    FILE *fp = fopen("/proc/self/cgroup", "r");
    char line[4096], *found = NULL;

    while (fp && found == NULL && fgets(line, sizeof(line), fp))
        if (strncmp(line, "0::/", 4) == 0) {
            line[strcspn(line, "\n")] = '\0';
            found = xstrdup(line + 3);
        }
    if (fp)
        fclose(fp);
    return found;
}

char *local_cg_root(void)
{
    const char *off = getenv("STRATUS_CGROUP");
    char *mnt, *self, *root = NULL;

    if (off && strcmp(off, "off") == 0)
        return NULL;
    mnt = cg_mount();
    self = mnt ? cg_self() : NULL;
    if (self) {
        root = xasprintf("%s%s/stratus", mnt, strcmp(self, "/") == 0 ? "" : self);
        /* usable when we may create cgroups in it (root, or a delegation) */
        if ((mkdir(root, 0755) != 0 && errno != EEXIST) || access(root, W_OK) != 0) {
            free(root);
            root = NULL;
        }
    }
    free(self);
    free(mnt);
    return root;
}

void local_cg_sweep(const char *cgroot)
{
    DIR *d = opendir(cgroot);
    struct dirent *de;
    struct stat st;
    time_t now = time(NULL);

    for (de = d ? readdir(d) : NULL; de != NULL; de = readdir(d)) {
        char *path;

        if (strncmp(de->d_name, "att", 3) != 0)
            continue;
        path = xasprintf("%s/%s", cgroot, de->d_name);
        /* the kernel refuses (EBUSY) while anything runs in it */
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
            now - st.st_ctime > CG_SWEEP_AGE_S)
            rmdir(path);
        free(path);
    }
    if (d)
        closedir(d);
}

char *local_cg_name(const char *cgroot, const char *node_dir, int64_t attempt_id,
                    int rank)
{
    uint64_t h = str_hash(STR_HASH_INIT, node_dir);
    /* the directory's hash keeps homes apart; the pid and time keep a
     * launch apart from an earlier one of a home that was reset */
    h ^= (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)(clock_mono() * 1e9);
    return xasprintf("%s/att%" PRId64 "-node%d-%016" PRIx64, cgroot, attempt_id, rank, h);
}

int local_cg_join(const char *node_dir)
{
    char *file = xasprintf("%s/cgroup", node_dir), *cg = read_line(file), *procs;
    int rc = 0;

    free(file);
    if (cg == NULL || *cg != '/') {
        free(cg);
        return 0; /* the driver found no usable cgroup v2 */
    }
    if (mkdir(cg, 0755) != 0 && errno != EEXIST)
        rc = -errno;
    procs = xasprintf("%s/cgroup.procs", cg);
    if (rc == 0)
        rc = write_str(procs, "0\n"); /* "0": the writing process */
    free(procs);
    free(cg);
    return rc;
}

/* Is the cgroup empty?  A cgroup that does not exist is, and so is one we
 * cannot read (then the process group is all we have). */
static int cg_empty(const char *cg)
{
    char *path = xasprintf("%s/cgroup.events", cg), *text = NULL, *pop, *c;
    struct err e;
    int empty = 1;

    if (fs_read_file(path, 4096, &text, NULL, &e) == 0) {
        pop = strstr(text, "populated ");
        empty = pop == NULL || pop[10] == '0';
    } else {
        free(path);
        path = xasprintf("%s/cgroup.procs", cg);
        if (fs_read_file(path, 1 << 20, &text, NULL, &e) == 0)
            for (c = text; *c; c++)
                empty &= !isdigit((unsigned char)*c);
    }
    free(text);
    free(path);
    return empty;
}

/* The node's cgroup from its `cgroup` file, or NULL.  Only a name this
 * driver gives (.../stratus/att<ID>-node<RANK>-<HASH>) is taken: the file
 * sits where the job could write, and the driver kills what it names. */
static char *cg_of(const char *dir, int64_t attempt_id, int rank)
{
    char *file = xasprintf("%s/cgroup", dir), *cg = read_line(file), *want;
    const char *base = cg ? strrchr(cg, '/') : NULL;
    int ok;

    free(file);
    want = xasprintf("/att%" PRId64 "-node%d-", attempt_id, rank);
    ok = cg && *cg == '/' && base && base - cg >= 8 &&
         strncmp(base - 8, "/stratus", 8) == 0 &&
         strncmp(base, want, strlen(want)) == 0 && strstr(cg, "/../") == NULL;
    free(want);
    if (!ok) {
        free(cg);
        return NULL;
    }
    return cg;
}

/* SIGKILL every process of the cgroup: cgroup.kill (Linux 5.14), else one
 * by one from cgroup.procs. */
static void cg_kill(const char *cg)
{
    char *path = xasprintf("%s/cgroup.kill", cg), *text = NULL, *s, *end;
    struct err e;
    long pid;

    if (write_str(path, "1\n") != 0) {
        free(path);
        path = xasprintf("%s/cgroup.procs", cg);
        if (fs_read_file(path, 1 << 20, &text, NULL, &e) == 0)
            for (s = text; *s; s = end + (*end != '\0')) {
                pid = strtol(s, &end, 10);
                if (end == s)
                    break;
                if (pid > 0)
                    kill((pid_t)pid, SIGKILL);
            }
        free(text);
    }
    free(path);
}

/* ---- the process group --------------------------------------------------- */

/* From /proc/PID/stat: the state letter and the process group. */
static int proc_stat(const char *pid, char *state, long *pgrp)
{
    char path[300], buf[1024], *rp;
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    rp = strrchr(buf, ')'); /* the command name may hold anything */
    if (rp == NULL || sscanf(rp + 1, " %c %*s %ld", state, pgrp) != 2)
        return -1;
    return 0;
}

/* Does the process's environment carry both markers? */
static int proc_marked(const char *pid, const char *m1, const char *m2)
{
    char *path = xasprintf("/proc/%s/environ", pid), *env = NULL;
    size_t len = 0, off, k = 0;
    struct err e;

    if (fs_read_file(path, PROC_ENV_MAX, &env, &len, &e) == 0)
        for (off = 0; off < len; off += strlen(env + off) + 1)
            k += strcmp(env + off, m1) == 0 || strcmp(env + off, m2) == 0;
    free(env);
    free(path);
    return k >= 2;
}

/* SIGKILL the live processes of the node in group pgid; how many there were. */
static int group_kill(long pgid, int64_t attempt_id, int rank)
{
    char m1[64], m2[64], state;
    DIR *d = opendir("/proc");
    struct dirent *de;
    long pgrp;
    int n = 0;

    snprintf(m1, sizeof(m1), "STRATUS_ATTEMPT_ID=%" PRId64, attempt_id);
    snprintf(m2, sizeof(m2), "STRATUS_NODE_RANK=%d", rank);
    for (de = d ? readdir(d) : NULL; de != NULL; de = readdir(d)) {
        if (!isdigit((unsigned char)de->d_name[0]) ||
            proc_stat(de->d_name, &state, &pgrp) != 0 || pgrp != pgid || state == 'Z' ||
            state == 'X' || !proc_marked(de->d_name, m1, m2))
            continue;
        kill((pid_t)atol(de->d_name), SIGKILL);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* ---- the reaper ------------------------------------------------------------ */

/* One round: kill what is there; 1 when nothing was. */
static int reap_round(const struct latt *a, int rank, long pgid, const char *dir,
                      const char *cg)
{
    int gone = 1;

    if (pgid > 0 && lf_alive(dir)) {
        /* the supervisor (its lock proves the group is this node's) */
        local_sys.kill(-(pid_t)pgid, SIGKILL);
        gone = 0;
    }
    if (cg && !cg_empty(cg)) {
        cg_kill(cg);
        gone = 0;
    }
    /* The scan of every process on the machine (a scan per node: quadratic
     * in the nodes that end) is made only when a process of the group is
     * left; the supervisor killed its group as it ended, so there usually
     * is none.  A process that left the cgroup (one that may write an
     * ancestor's cgroup.procs can) but not the group is found here. */
    if (pgid > 0 && (kill(-(pid_t)pgid, 0) == 0 || errno != ESRCH) &&
        group_kill(pgid, a->id, rank) > 0)
        gone = 0;
    return gone;
}

/* Remove the cgroup cg and the cgroups a job made inside it, deepest
 * first (a cgroup with a child cgroup cannot be removed): 0, or the errno
 * of the first that could not be.  Only directories are removed: a
 * cgroup's files go with it. */
static int cg_remove(const char *cg, int depth)
{
    DIR *d = depth < 16 ? opendir(cg) : NULL;
    struct dirent *de;
    int rc = 0;

    for (de = d ? readdir(d) : NULL; de != NULL && rc == 0; de = readdir(d)) {
        if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
            strcmp(de->d_name, "..") != 0) {
            char *sub = xasprintf("%s/%s", cg, de->d_name);

            rc = cg_remove(sub, depth + 1);
            free(sub);
        }
    }
    if (d)
        closedir(d);
    if (rc == 0 && rmdir(cg) != 0 && errno != ENOENT)
        rc = errno;
    return rc;
}

int local_node_reap(const struct latt *a, int rank, long pgid, const char *dir)
{
    char *cg = cg_of(dir, a->id, rank);
    double until = clock_mono() + REAP_WAIT_S;
    int gone, rc;

    for (;;) {
        gone = reap_round(a, rank, pgid, dir, cg);
        if (gone || clock_mono() >= until)
            break;
        clock_sleep(0.002);
    }
    if (gone && cg && (rc = cg_remove(cg, 0)) != 0) {
        if (rc == EBUSY)
            gone = 0; /* a process is still on its way out */
        else
            log_warn("local driver: cannot remove cgroup %s: %s", cg, strerror(rc));
    }
    free(cg);
    return gone;
}
