/*
 * cli_common.c - what every subcommand shares: exit codes, error printing,
 * the home and what lives in it.  The commands reach the store only through
 * the server (client.c); the helpers about the store's layout and the lock
 * here serve the server and the client's autostart.
 *
 * The layout of $STRATUS_HOME (default ~/.stratus, owner-only):
 *   stratus.db[-wal,-shm]   the store (0600: it holds jobs' environments)
 *   controller.{lock,pid,log}, policy.yaml, local.yaml, clusters.yaml
 *   state/<store id>/       what belongs to that store (cli_state_dir()):
 *     checkpoints/          job-<id>/att-<n>/, carried between attempts
 *     local/, slurm/        the driver's state (see its *_int.h)
 * Artefacts are keyed by the store's identity because a new stratus.db
 * numbers jobs and attempts from 1 again: under unkeyed names it would take
 * the old store's attempt 1 and checkpoints for its own.  A store migrated
 * from before store ids keeps its artefacts directly in $STRATUS_HOME.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "../catalog/catalog.h"
#include "../driver/driver.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#ifndef STRATUS_VERSION
#define STRATUS_VERSION "dev"
#endif

const char *cli_version(void)
{
    return STRATUS_VERSION;
}

int cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return 0;
    case ST_EINFEASIBLE:
    case ST_ECAPACITY:
    case ST_ENOTFOUND:
        return 1;
    case ST_EIO: /* almost always a missing or unreadable input file */
    case ST_EPARSE:
    case ST_EINVAL:
    case ST_EUSAGE:
    case ST_ETOOBIG:
    case ST_EEXISTS:
    case ST_ESTATE:
        return 2;
    default:
        return 3;
    }
}

/* Messages quote outside text (file names, CSV fields, spec values) and a
 * control byte in it would reach the terminal raw: the parsers escape what
 * they quote, and this is the last line of defence for any that do not.
 * Newlines and tabs stay, since some messages span lines. */
static void print_safe(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        fputc((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? '?' : ch, fp);
    }
}

int cli_fail(const struct err *e)
{
    fputs("stratus: ", stderr);
    print_safe(stderr, e->msg[0] ? e->msg : err_str(e->code));
    fputc('\n', stderr);
    return cli_exit_code(e->code);
}

int cli_load_catalog(const char *dir, struct catalog **out)
{
    char *d = dir ? NULL : catalog_default_dir(NULL);
    struct err e;
    int rc;

    err_clear(&e);
    rc = catalog_load(out, dir ? dir : d, &e);
    free(d);
    if (rc != 0)
        return cli_fail(&e);
    return 0;
}

/* The home holds the store (with the jobs' `envs:` values), logs and
 * checkpoints, so only its owner may enter it.  A home of ours that others
 * can reach is fixed (the usual cause is `mkdir` with the default umask, not
 * an intent to share); a home of another user is refused, since files this
 * command created there would be ours, not theirs.  0 or an exit status. */
static int check_home(const char *home)
{
    struct stat sb;

    if (stat(home, &sb) != 0) {
        fprintf(stderr, "stratus: cannot use %s as $STRATUS_HOME: %s\n", home, strerror(errno));
        return 2;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "stratus: $STRATUS_HOME %s is not a directory: set STRATUS_HOME to a "
                "directory (it is made if missing), or unset it for ~/.stratus\n",
                home);
        return 2;
    }
    if (sb.st_uid != geteuid()) {
        fprintf(stderr,
                "stratus: $STRATUS_HOME %s belongs to user %ld, not to you (%ld); refusing to "
                "use it: set STRATUS_HOME to a directory of your own\n",
                home, (long)sb.st_uid, (long)geteuid());
        return 2;
    }
    if ((sb.st_mode & 077) == 0)
        return 0;
    if (chmod(home, sb.st_mode & 0700) != 0) {
        fprintf(stderr, "stratus: $STRATUS_HOME %s is open to others (mode %04o) and cannot be "
                        "made owner-only: %s\n", home, (unsigned)(sb.st_mode & 07777), strerror(errno));
        return 2;
    }
    fprintf(stderr, "stratus: warning: $STRATUS_HOME %s was open to others (mode %04o); changed "
                    "it to owner-only (0700), as it holds job environments and logs\n",
            home, (unsigned)(sb.st_mode & 07777));
    return 0;
}

char *cli_home(void)
{
    static int checked; /* once per process: the warning is printed once */
    const char *h = getenv("STRATUS_HOME");
    char *home;
    struct err e;
    int rc;

    if (h && *h)
        home = xstrdup(h);
    else
        home = xasprintf("%s/.stratus", getenv("HOME") ? getenv("HOME") : ".");
    if (fs_mkdirs(home, 0700, &e) != 0)
        fprintf(stderr, "stratus: %s\n", e.msg);
    /* Exiting here keeps the refusal in one place: every command reaches
     * its home through this function, and none can go on without one. */
    rc = checked ? 0 : check_home(home);
    if (rc != 0)
        exit(rc);
    checked = 1;
    return home;
}

/* The one place that decides where a store's artefacts live.  Keyed by the
 * store's id: a new database in the same home (ids of jobs and attempts
 * start at 1 again) never finds the driver state or the checkpoints of the
 * store it replaced.  A store migrated from before identities keeps the
 * unkeyed layout of the stratus that made it, or its running jobs would be
 * lost.  Owner-only: checkpoints and logs are the users' data. */
char *cli_state_dir(const char *home, struct store *st)
{
    char *dir;
    struct err e;

    if (store_legacy_layout(st))
        return xstrdup(home);
    dir = xasprintf("%s/state/%s", home, store_id(st));
    err_clear(&e);
    if (fs_mkdirs(dir, 0700, &e) != 0)
        fprintf(stderr, "stratus: %s\n", e.msg);
    return dir;
}

/* Does the description of fd `fd` of process pid hold an flock?  Its
 * fdinfo lists the locks it holds, as "lock:\t1: FLOCK  ADVISORY  WRITE ...";
 * waiters ("1: -> FLOCK") hold nothing. */
static int fd_holds_flock(pid_t pid, const char *fd)
{
    char path[320], line[256];
    FILE *fp;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", (long)pid, fd);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), fp) != NULL) {
        char type[16];

        found = strncmp(line, "lock:", 5) == 0 &&
                sscanf(line + 5, "%*d: %15s", type) == 1 && strcmp(type, "FLOCK") == 0;
    }
    fclose(fp);
    return found;
}

/* Does process pid hold an flock on the file `path`?  Asked of the process's
 * own open files (/proc/PID/fd and fdinfo), without taking the lock (taking
 * it to test would make it look held to another command testing at the same
 * moment).  A pid file left by a dead controller may name a stranger that
 * reused the pid: only the lock tells the controller apart.  Not from the
 * kernel's table of every lock (/proc/locks): it is read a page at a time,
 * and a lock another process drops between two pages shifts the rest, so a
 * held lock can be missed; then `controller stop` returned while the server
 * still answered.  The file is matched by stat() through the fd's link,
 * which gives what stat(path) gives, overlay file systems included. */
static int holds_lock(const char *path, pid_t pid)
{
    struct stat sb, fb;
    char dir[64], link[330];
    struct dirent *de;
    DIR *d;
    int found = 0;

    if (pid <= 0 || stat(path, &sb) != 0)
        return 0;
    snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
    if ((d = opendir(dir)) == NULL)
        return 0;
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
        found = stat(link, &fb) == 0 && fb.st_ino == sb.st_ino &&
                fb.st_dev == sb.st_dev && fd_holds_flock(pid, de->d_name);
    }
    closedir(d);
    return found;
}

static pid_t read_pid(const char *pidf)
{
    FILE *fp = fopen(pidf, "r");
    long v = 0;

    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%ld", &v) != 1)
        v = 0;
    fclose(fp);
    return (pid_t)v;
}

pid_t cli_controller_pid(const char *home)
{
    char *lock = xasprintf("%s/controller.lock", home), *pidf = xasprintf("%s/controller.pid", home);
    pid_t pid = read_pid(pidf);

    /* Alive as well: a child forked by a controller that was then killed
     * keeps its lock until the child execs or ends. */
    if (!holds_lock(lock, pid) || kill(pid, 0) != 0)
        pid = 0;
    free(lock);
    free(pidf);
    return pid;
}


int cli_ensure_controller(void)
{
    struct err e;

    err_clear(&e);
    return client_ensure_server(&e) == 0 ? 0 : cli_fail(&e);
}

long long cli_job_id(const char *s)
{
    long v;

    if (s == NULL || str_to_long(s, 1, 0x7fffffffL, &v) != 0) {
        fprintf(stderr, "stratus: '%s' is not a job id (a positive number; 'stratus queue' lists them)\n",
                s ? s : "");
        return -1;
    }
    return v;
}

/* The home's policy.yaml is no longer read here: the server imports it into
 * its store when it has no policy yet, and `plan` and `launch` use that. */
char *cli_policy_path(const char *given)
{
    const char *env = getenv("STRATUS_POLICY");

    if (given)
        return xstrdup(given);
    if (env && *env)
        return xstrdup(env);
    return NULL;
}

const struct driver_ops *cli_driver_ops(struct err *e)
{
    /* driver.h publishes lookup by name only: these are the names to offer,
     * each confirmed by driver_find, so a stale one is never listed. */
    static const char *const names[] = {"local", "sim", "slurm", NULL};
    const char *name = getenv("STRATUS_DRIVER");
    const struct driver_ops *ops;
    char known[128] = "", shown[64];
    size_t i;

    if (name == NULL || *name == '\0')
        return &driver_local;
    ops = driver_find(name);
    if (ops != NULL)
        return ops;
    for (i = 0; names[i]; i++)
        if (driver_find(names[i]) != NULL)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", names[i]);
    err_set(e, ST_EINVAL, "unknown driver '%s' in STRATUS_DRIVER; the drivers are: %s "
            "(unset it for local)", str_vis(shown, sizeof(shown), name), known);
    return NULL;
}

void cli_print_json(const json_t *j, size_t flags)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | flags);
    putchar('\n');
}

/* The line of the spec file where `workdir:` is, for the message; 0 when
 * it cannot be found (e.g. written in flow style). */
size_t cli_workdir_line(const char *path)
{
    FILE *fp = fopen(path, "r");
    char buf[4096];
    size_t line = 0, found = 0;

    if (fp == NULL)
        return 0;
    while (found == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
        const char *p = buf + strspn(buf, " \t"), *q;

        line++;
        if (strncmp(p, "workdir", 7) != 0)
            continue;
        q = p + 7 + strspn(p + 7, " \t");
        if (*q == ':')
            found = line;
    }
    fclose(fp);
    return found;
}

char *cli_workdir_path(const char *spec_path, const char *workdir)
{
    char abs[PATH_MAX];

    if (workdir == NULL)
        return NULL;
    if (workdir[0] == '/' || realpath(spec_path, abs) == NULL ||
        strrchr(abs, '/') == NULL)
        return xstrdup(workdir);
    return xasprintf("%.*s/%s", (int)(strrchr(abs, '/') - abs), abs, workdir);
}

void cli_workdir_warn(const char *spec_path, const char *dir)
{
    long long bytes = 0, files = 0;
    char at[32] = "";
    size_t line;

    if (!fs_tree_size(dir, CLI_WORKDIR_WARN_BYTES, &bytes, &files))
        return;
    if ((line = cli_workdir_line(spec_path)) > 0)
        snprintf(at, sizeof(at), "%zu:", line);
    fprintf(stderr,
            "%s:%s warning: workdir %s holds more than %lld MB (%lld file%s counted): "
            "it is copied to every node of every attempt; point workdir at the code "
            "alone and keep data in a bucket (`file_mounts`)\n",
            spec_path, at, dir, CLI_WORKDIR_WARN_BYTES >> 20, files,
            files == 1 ? "" : "s");
}

int cli_store_missing(const char *path)
{
    struct stat sb;

    if (strstr(path, "://") == NULL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(
            stderr,
            "stratus: %s is a directory: give --store the store file in it (a server "
            "home's stratus.db, or a simulation's POLICY.db from --keep-stores DIR)\n",
            path);
        return 1;
    }
    if (strstr(path, "://") != NULL || access(path, R_OK) == 0)
        return 0;
    fprintf(
        stderr,
        "stratus: no store at %s (give --store PATH: a server home's stratus.db, or a "
        "simulation's from --keep-stores DIR)\n",
        path);
    return 1;
}
