/*
 * local_node.c - one node of the local world: how the driver starts it, and
 * the supervisor that runs it.
 *
 * Starting, in the controller (sys_spawn): posix_spawn() of `stratus __node
 * NODE_DIR` in a session of its own (POSIX_SPAWN_SETSID), with stdin on
 * /dev/null, stdout and stderr appended to NODE_DIR/log, every other
 * descriptor closed and no signal blocked.  No terminal signal reaches it,
 * so a controller killed with SIGKILL leaves its nodes running, as a cloud
 * would; they are then reparented to init (or the nearest subreaper).  As
 * its session's leader it could gain a controlling terminal by opening
 * one; it opens none, and the job's processes, not leaders, cannot.
 * While the controller lives they are its children, reaped at its polls
 * (local_node_reap_kids) or by the server's SIGCHLD handler.  posix_spawn()
 * reports a failed exec itself, and, unlike fork(), does not copy the
 * controller's page tables: a start costs the same however large the
 * controller's memory is.
 *
 * Why exec rather than fork alone: a supervisor lives as long as its job, for
 * days.  A forked copy of the controller would keep the controller's memory
 * (the catalog, the store's caches), its open descriptors (a lock held by a
 * dead controller's copy blocks the next controller) and, were the
 * controller ever threaded, mutexes held by threads that no longer exist.  A
 * fresh exec is small and independent of all that.  The binary is
 * /proc/self/exe - the very one the controller runs, even if it was rebuilt
 * since - or $STRATUS_BIN, for test programs that are not `stratus`.
 *
 * Supervising, in `stratus __node` (local_node_main): the supervisor leads a
 * new process group that its bash children share.  The driver SIGTERMs the
 * supervisor alone, which forwards the signal to the group, and SIGKILLs the
 * whole group when the notice or grace is over.  The supervisor claims the
 * node (local_files.c), writes `started`, copies the workdir in, enters the
 * node's network namespace when it has one (local_net.c), runs setup
 * then run (run only when setup succeeded) with `bash -c TEXT` - the text is
 * one argv element and the environment an execve() array, so nothing in
 * either is parsed by anyone but bash - writes `exit`, and finally SIGKILLs
 * its group, itself included, so that nothing the job left in the background
 * outlives the node, as on a VM that is shut down.  (A process that leaves
 * the group with setsid() escapes that kill, but not the node's cgroup,
 * which the supervisor joins first when the driver named one: see
 * local_proc.c.)
 *
 * Whatever kills the supervisor, its job must not run on unseen: each bash
 * it starts gets PR_SET_PDEATHSIG (SIGKILL when the supervisor dies), and
 * the driver kills the rest (group and cgroup) before it reports the node.
 *
 * A finished job must never look lost: the space of `exit` is reserved
 * before the job starts (local_files.c), and a supervisor that still cannot
 * record the exit stays alive - holding its lock, so the driver does not
 * call the node lost - and tries again until it can.
 *
 * Why the supervisor shares its job's process group rather than giving the
 * job a group of its own: setup and run would be two groups one after the
 * other, and the driver would need to learn each; one group per node, led by
 * the supervisor, is reached by one kill(-pid) with the pid `pid` records.
 */
#define _GNU_SOURCE /* pipe2, close_range */

#include "local.h"
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/xmem.h"

extern char **environ;

#define ENV_MAX_BYTES ((size_t)1 << 20)
#define SCRIPT_MAX_BYTES ((size_t)16 << 20)

/* ---- starting a node (controller side) -------------------------------- */

/* The supervisors this process started and has not reaped. */
static pid_t *kids;
static size_t nkids, kids_cap;

static void kids_add(pid_t pid)
{
    kids = xgrow(kids, &kids_cap, nkids + 1, sizeof(*kids));
    kids[nkids++] = pid;
}

void local_node_reap_kids(void)
{
    size_t i = 0;

    while (i < nkids) {
        pid_t r = waitpid(kids[i], NULL, WNOHANG);

        if (r == kids[i] || (r < 0 && errno == ECHILD))
            kids[i] = kids[--nkids]; /* ended, or reaped by someone else */
        else
            i++;
    }
}

/* posix_spawn() starts the supervisor without copying the controller's
 * page tables (it borrows the parent's memory until the exec, as vfork
 * does), so a start costs the same however large the controller is. */
static int sys_spawn(const char *bin, const char *node_dir, struct err *e)
{
    static char a0[] = "stratus", a1[] = "__node";
    char *log = xasprintf("%s/log", node_dir),
         *argv[] = {a0, a1, xstrdup(node_dir), NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none;
    pid_t pid;
    int log_fd, rc = 0, err_no;

    log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        rc = err_set(e, ST_EIO, "cannot start node %s: %s: %s", node_dir, log,
                     strerror(errno));
        goto out;
    }
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* in this order: the log may have got descriptor 0, 1 or 2 */
    posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    err_no = posix_spawn(&pid, bin, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(log_fd);
    if (err_no != 0)
        rc = err_set(e, ST_EINTERNAL, "cannot start the node supervisor %s: %s", bin,
                     strerror(err_no));
    else
        kids_add(pid);
out:
    free(argv[2]);
    free(log);
    return rc;
}

struct local_sys local_sys = {sys_spawn, kill, write};

/* ---- the supervisor (`stratus __node`) -------------------------------- */

struct node_run {
    const char *dir;
    char *setup, *run; /* NULL = nothing */
    char *env;         /* the node's `env`: "KEY=VALUE\0..." */
    size_t env_len;
    char **envp; /* environ less what env overrides, plus env */
    char *bash;
};

static volatile sig_atomic_t node_term; /* a SIGTERM came from outside */

/* Forward a SIGTERM to the whole group (kill() is async-signal-safe).  The
 * forwarded copy reaches us too: it carries our own pid and is dropped. */
static void on_term(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si != NULL && si->si_pid == getpid())
        return;
    node_term = 1;
    kill(0, SIGTERM);
}

/* glibc keeps two signals below SIGRTMIN for itself (32 and 33), which its
 * sigaction() refuses to touch, and its posix_spawn() leaves them ignored
 * in the child; an exec keeps "ignored".  They are set back to the default
 * with the system call itself, as a process started by fork() and exec has
 * them (all zero: SIG_DFL, no flags, an empty mask, in the kernel's
 * struct sigaction of any layout). */
static void reset_reserved_signals(void)
{
    struct {
        unsigned long words[8];
    } dfl;
    int s;

    memset(&dfl, 0, sizeof(dfl));
    for (s = 32; s < SIGRTMIN; s++)
        syscall(SYS_rt_sigaction, s, &dfl, NULL, (size_t)8);
}

/* Dispositions set to "ignore" survive exec; a job must start with defaults. */
static void reset_signals(void)
{
    struct sigaction dfl, old, term;
    sigset_t none;
    int s;

    reset_reserved_signals();

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &old) == 0 &&
            old.sa_handler == SIG_IGN)
            sigaction(s, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    memset(&term, 0, sizeof(term));
    term.sa_sigaction = on_term;
    term.sa_flags = SA_SIGINFO; /* no SA_RESTART: waitpid() returns on EINTR */
    sigemptyset(&term.sa_mask);
    sigaction(SIGTERM, &term, NULL);
}

/* bash from the supervisor's own PATH (not the job's), else /bin/bash. */
static char *find_bash(void)
{
    const char *path = getenv("PATH"), *p = path ? path : "";

    while (*p) {
        size_t n = strcspn(p, ":");
        char *cand = xasprintf("%.*s/bash", (int)n, p);

        if (n > 0 && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        p += n + (p[n] == ':');
    }
    return xstrdup("/bin/bash");
}

/* Is environ entry s overridden by the "KEY=VALUE\0" list add? */
static int env_overridden(const char *s, const char *add, size_t len)
{
    size_t klen = strcspn(s, "="), off;

    for (off = 0; off < len; off += strlen(add + off) + 1)
        if (strncmp(add + off, s, klen) == 0 && add[off + klen] == '=')
            return 1;
    return 0;
}

static void build_env(struct node_run *r)
{
    size_t n = 0, k = 0, off, i;

    for (off = 0; off < r->env_len; off += strlen(r->env + off) + 1)
        k++;
    while (environ[n])
        n++;
    r->envp = xcalloc(n + k + 1, sizeof(*r->envp));
    k = 0;
    for (i = 0; i < n; i++)
        if (!env_overridden(environ[i], r->env, r->env_len))
            r->envp[k++] = environ[i];
    for (off = 0; off < r->env_len; off += strlen(r->env + off) + 1)
        r->envp[k++] = r->env + off;
}

/* Read dir/../name, or NULL when the attempt has no such file. */
static char *read_att_file(const char *dir, const char *name, size_t *len)
{
    char *path = xasprintf("%s/../%s", dir, name), *text = NULL;
    struct err e;

    if (access(path, F_OK) == 0 &&
        fs_read_file(path, SCRIPT_MAX_BYTES, &text, len, &e) != 0)
        fprintf(stderr, "stratus: %s\n", e.msg);
    free(path);
    return text;
}

/* The spec's launch options: what the driver cannot honour goes to the
 * node's log, local file_mounts are copied in after the workdir (SkyPilot
 * syncs file_mounts after the workdir too). */
static int node_launch_opts(const char *dir, const char *work, struct err *e)
{
    char *notes = read_att_file(dir, "notes", NULL),
         *mounts = read_att_file(dir, "mounts", NULL);
    int rc = 0;

    if (notes)
        fputs(notes, stderr);
    if (mounts)
        rc = local_mounts_copy(mounts, work, e);
    free(notes);
    free(mounts);
    return rc;
}

/* Add the node's `secrets` ("KEY=VALUE\0" entries, as `env`) to r->env and
 * remove the file: the node has been claimed, so no other supervisor will
 * run it, and from now on the values are in this process and the job's
 * only.  No file is no secrets. */
static int node_secrets(struct node_run *r, const char *dir, struct err *e)
{
    char *path = xasprintf("%s/secrets", dir), *sec = NULL;
    size_t len = 0;
    int rc = 0;

    if (access(path, F_OK) == 0)
        rc = fs_read_file(path, ENV_MAX_BYTES, &sec, &len, e);
    if (rc == 0 && sec != NULL) {
        r->env = xrealloc(r->env, r->env_len + len + 1);
        memcpy(r->env + r->env_len, sec, len);
        r->env_len += len;
        r->env[r->env_len] = '\0';
        explicit_bzero(sec, len);
        if (unlink(path) != 0)
            rc = err_set(e, ST_EIO, "cannot remove %s: %s", path, strerror(errno));
    }
    free(sec);
    free(path);
    return rc;
}

/* Read what the driver prepared and step into the working directory. */
static int node_prepare(struct node_run *r, const char *dir)
{
    char *path = xasprintf("%s/env", dir), *work = xasprintf("%s/work", dir), *from;
    struct err e;
    double bytes = 0;
    int rc;

    memset(r, 0, sizeof(*r));
    r->dir = dir;
    r->setup = read_att_file(dir, "setup", NULL);
    r->run = read_att_file(dir, "run", NULL);
    from = read_att_file(dir, "workdir", NULL);
    r->bash = find_bash();
    rc = fs_read_file(path, ENV_MAX_BYTES, &r->env, &r->env_len, &e);
    if (rc == 0)
        rc = node_secrets(r, dir, &e);
    if (rc == 0 && from)
        rc = fs_copy_tree(from, work, &bytes, &e);
    if (rc == 0)
        rc = fs_mkdirs(work, 0700, &e);
    if (rc == 0)
        rc = node_launch_opts(dir, work, &e);
    if (rc == 0 && chdir(work) != 0)
        rc = err_set(&e, ST_EIO, "cannot enter %s: %s", work, strerror(errno));
    if (rc != 0)
        fprintf(stderr, "stratus: node %s: %s\n", dir, e.msg);
    else
        build_env(r);
    free(from);
    free(work);
    free(path);
    return rc;
}

static int wait_status(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Run `bash -c text` in the group and wait; its exit code, or 128+signal. */
static int run_shell(const struct node_run *r, char *text)
{
    static char a0[] = "bash", a1[] = "-c";
    char *argv[] = {a0, a1, text, NULL};
    sigset_t term, old;
    pid_t pid, parent = getpid();

    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    /* Blocked across fork: a SIGTERM now is forwarded once the child is in
     * the group with a default disposition, never lost and never handled
     * by the child's inherited copy of on_term. */
    sigprocmask(SIG_BLOCK, &term, &old);
    if (node_term) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 128 + SIGTERM;
    }
    pid = fork();
    if (pid == 0) {
        /* Dies with the supervisor; if that already happened, do not start. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(128 + SIGKILL);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execve(r->bash, argv, r->envp);
        fprintf(stderr, "stratus: cannot run %s: %s\n", r->bash, strerror(errno));
        _exit(127);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        fprintf(stderr, "stratus: cannot fork: %s\n", strerror(errno));
        return 127;
    }
    return wait_status(pid);
}

static int node_run_steps(struct node_run *r)
{
    int code = 0;

    if (r->setup && *r->setup) {
        code = run_shell(r, r->setup);
        if (code != 0) {
            fprintf(stderr, "stratus: setup exited with code %d; run skipped\n", code);
            return code;
        }
    }
    if (r->run && *r->run)
        code = run_shell(r, r->run);
    return code;
}

static void node_free(struct node_run *r)
{
    free(r->setup);
    free(r->run);
    if (r->env != NULL) /* it may hold secrets */
        explicit_bzero(r->env, r->env_len);
    free(r->env);
    free(r->envp);
    free(r->bash);
}

void local_node_wake(const char *node_dir)
{
    char *path = xasprintf("%s/../../wake", node_dir);
    /* O_NONBLOCK: with no reader open() fails (ENXIO) and with a full pipe
     * write() does (EAGAIN); either way a byte is already pending or nobody
     * listens, and the driver's next poll finds the record anyway. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd >= 0) {
        ssize_t n = write(fd, "w", 1);

        (void)n;
        close(fd);
    }
    free(path);
}

/* Record the exit, retrying while it fails (a disk full even for the
 * reserved space, or a failing rename): a supervisor that gave up would be
 * taken for a lost node, and its finished job would run again. */
static void record_exit(const char *node_dir, int fd, const struct lf_exit *x)
{
    double wait = 0.05;
    int rc;

    for (;;) {
        rc = lf_exit_commit(fd, node_dir, x);
        if (rc == 0)
            return;
        if (wait == 0.05)
            fprintf(stderr, "stratus: cannot record the exit of %s: %s; retrying\n",
                    node_dir, strerror(-rc));
        clock_sleep(wait);
        wait = wait * 2 < 5.0 ? wait * 2 : 5.0;
    }
}

/* Join the node's cgroup and reserve its exit record; the reservation's fd,
 * or < 0 when the node cannot be run (said on stderr). */
static int node_enter(const char *node_dir)
{
    int rc = local_cg_join(node_dir), fd;

    if (rc != 0)
        fprintf(stderr,
                "stratus: node %s: cannot join its cgroup (%s); "
                "processes that leave the process group may outlive it\n",
                node_dir, strerror(-rc));
    fd = lf_exit_reserve(node_dir);
    if (fd < 0)
        fprintf(stderr,
                "stratus: node %s: cannot reserve space for its exit record "
                "(%s); the job is not started\n",
                node_dir, strerror(-fd));
    return fd;
}

int local_node_main(const char *node_dir)
{
    struct node_run r;
    struct lf_exit x = {0, 0, 0};
    int lock_fd = -1, exit_fd, rc;

    if (getpgrp() != getpid())
        setpgid(0, 0);
    reset_signals();
    rc = lf_claim(node_dir, (long)getpid(), &lock_fd);
    if (rc == -EEXIST)
        return 0; /* another supervisor runs this node, or the driver gave it up */
    if (rc != 0) {
        fprintf(stderr, "stratus: cannot claim node %s: %s\n", node_dir, strerror(-rc));
        return 1;
    }
    exit_fd = node_enter(node_dir);
    if (exit_fd < 0) {
        /* Nothing ran: dying without an exit is the truth, a lost node. */
        kill(0, SIGKILL);
        return 1;
    }
    lf_write_stamp(node_dir, "started", clock_now(&clock_wall), NULL);
    local_node_wake(node_dir);
    x.code = node_prepare(&r, node_dir) == 0 && local_net_enter(node_dir) == 0
                 ? node_run_steps(&r)
                 : 1;
    x.stopped = node_term != 0;
    record_exit(node_dir, exit_fd, &x);
    local_node_wake(node_dir);
    node_free(&r);
    kill(0, SIGKILL); /* stragglers, and this process: the lock goes with it */
    return x.code;
}
