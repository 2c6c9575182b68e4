/*
 * local_net.c - a network of its own for each node of the local world, as
 * separate VMs would have: for service replicas that listen on a fixed port
 * (a SkyPilot service's `python3 -m http.server 8080`), which would collide
 * on one shared loopback.  The controller asks for it with STRATUS__NETNS=1
 * in the attempt's envs (sched.c, when svc_port_fixed() says the replica
 * cannot listen on $PORT).
 *
 * Each such node gets a slot k (0 .. LOCAL_NET_SLOTS-1), machine-wide:
 *
 *   /run/stratus/netns/<k>   the claim, created exclusively at launch by the
 *                            driver; it names the node's directory, so that
 *                            servers with different homes never share a slot
 *   /run/netns/stratus-<k>   the network namespace (`ip netns`), made by the
 *                            node's supervisor before it runs setup and run
 *   stv<k> -- eth0           a veth pair: stv<k> on the host with 10.213.x.y+1/30,
 *                            eth0 inside with 10.213.x.y+2/30, lo up, and a
 *                            default route through the host end
 *   <node dir>/netns         "k": the driver's record of the slot
 *
 * The node's address (node_addr, SKYPILOT_NODE_IPS) is the inside end.
 * The supervisor sets the namespace up with `ip` and setns()es into it, so
 * setup and run start inside; the supervisor keeps running across a
 * controller restart as before.  When the driver sees the node end (every
 * process reaped) it removes the namespace (the veth pair goes with it) and
 * frees the slot; local_net_sweep() at open removes what a crash left: a
 * claim whose node is over or whose directory is gone, and a stratus-<k>
 * namespace nobody claims.  A slot is freed only by whoever holds its claim
 * file's lock and finds its own node named in it, so a late remover never
 * takes down the namespace of the next node to use the slot.
 *
 * Nodes reach the host and the host reaches them; node to node (a gang's
 * head and workers) goes through the host and needs IP forwarding there,
 * which Stratus does not turn on by itself.
 */
#define _GNU_SOURCE /* setns */

#include "local_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "../util/strutil.h"
#include "../util/xmem.h"

#define NET_CLAIMS "/run/stratus/netns"
#define NET_NSDIR "/run/netns"
/* A claim whose node directory does not exist yet is young: its launch may
 * still be writing att-<id>.tmp.  Older than this, its launch failed. */
#define NET_CLAIM_AGE_S 60.0

/* `ip`: from PATH, then where Debian puts it (not on a user's PATH). */
static char *find_ip(void)
{
    const char *path = getenv("PATH");
    char *all = xasprintf("%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : ""), *p = all;

    while (*p) {
        size_t n = strcspn(p, ":");
        char *cand = xasprintf("%.*s/ip", (int)n, p);

        if (n > 0 && access(cand, X_OK) == 0) {
            free(all);
            return cand;
        }
        free(cand);
        p += n + (p[n] == ':');
    }
    free(all);
    return NULL;
}

int local_net_usable(char *why, size_t n)
{
    const char *off = getenv("STRATUS_NETNS");
    char *ip;

    if (off != NULL && strcmp(off, "off") == 0) {
        snprintf(why, n, "network namespaces are turned off here (STRATUS_NETNS=off)");
        return 0;
    }
    if (geteuid() != 0) {
        snprintf(why, n,
                 "making a network namespace per replica needs root (the server "
                 "runs as uid %ld)",
                 (long)geteuid());
        return 0;
    }
    ip = find_ip();
    if (ip == NULL) {
        snprintf(why, n,
                 "making a network namespace per replica needs `ip` (iproute2), "
                 "which is not installed");
        return 0;
    }
    free(ip);
    return 1;
}

int local_net_wanted(const struct attempt *a)
{
    for (size_t i = 0; i < a->nenvs; i++)
        if (strcmp(a->envs[i].key, "STRATUS__NETNS") == 0)
            return strcmp(a->envs[i].value, "1") == 0;
    return 0;
}

void local_net_addr(int slot, int inside, char *buf, size_t n)
{
    snprintf(buf, n, "10.213.%d.%d", slot / 64, (slot % 64) * 4 + (inside ? 2 : 1));
}

int local_net_reserve(const char *node_dir, int *slot, struct err *e)
{
    char *text = xasprintf("%s\n", node_dir);
    int k, fd = -1, rc;

    rc = mkdir("/run/stratus", 0755) == 0 || errno == EEXIST ? 0 : -errno;
    if (rc == 0 && mkdir(NET_CLAIMS, 0700) != 0 && errno != EEXIST)
        rc = -errno;
    for (k = 0; rc == 0 && k < LOCAL_NET_SLOTS; k++) {
        char path[64];

        snprintf(path, sizeof(path), NET_CLAIMS "/%d", k);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (rc == 0 && fd < 0)
        rc = k >= LOCAL_NET_SLOTS ? -ENOSPC : -errno;
    if (rc == 0 && write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        rc = -EIO;
    if (fd >= 0)
        close(fd);
    free(text);
    if (rc != 0)
        return err_set(e, ST_EIO, "cannot claim a network for %s in " NET_CLAIMS ": %s",
                       node_dir, strerror(-rc));
    *slot = k;
    return 0;
}

/* Remove namespace stratus-<k> (what `ip netns del` does); its veth pair
 * goes with it once no process is left inside. */
static void ns_delete(int k)
{
    char path[64];

    snprintf(path, sizeof(path), NET_NSDIR "/stratus-%d", k);
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        log_warn("local driver: cannot unmount %s: %s", path, strerror(errno));
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("local driver: cannot remove %s: %s", path, strerror(errno));
}

/* Free slot k if its claim names node_dir (NULL: whatever it names, when
 * stale() says so): under the claim's lock, namespace first, then claim. */
static void slot_free(int k, const char *node_dir,
                      int (*stale)(const char *dir, double age))
{
    char path[64], buf[4096];
    int fd;
    ssize_t n;
    struct stat st;

    snprintf(path, sizeof(path), NET_CLAIMS "/%d", k);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0 || st.st_nlink == 0) {
        close(fd); /* freed meanwhile */
        return;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (node_dir != NULL ? strcmp(buf, node_dir) == 0
                         : stale(buf, clock_now(&clock_wall) - (double)st.st_mtime)) {
        ns_delete(k);
        unlink(path);
    }
    close(fd);
}

void local_net_release(int slot, const char *node_dir)
{
    slot_free(slot, node_dir, NULL);
}

/* The slot in node_dir/netns, or -1 when the node has no network of its own. */
static int node_slot(const char *node_dir)
{
    char buf[32];
    long v;

    if (lf_read(node_dir, "netns", buf, sizeof(buf)) <= 0)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    if (str_to_long(buf, 0, LOCAL_NET_SLOTS - 1, &v) != 0)
        return -1;
    return (int)v;
}

int local_net_node_addr(const char *node_dir, char *buf, size_t n)
{
    int k = node_slot(node_dir);

    if (k < 0)
        return ST_ENOTFOUND;
    local_net_addr(k, 1, buf, n);
    return 0;
}

void local_net_remove(const char *node_dir)
{
    int k = node_slot(node_dir);

    /* the claim names the directory as launch wrote it (local_node_dir()) */
    if (k >= 0)
        slot_free(k, node_dir, NULL);
}

/* ---- the sweep ---------------------------------------------------------- */

/* Is the node a claim names over, or gone? */
static int claim_stale(const char *dir, double age)
{
    struct lf_exit x;
    long pid;

    if (access(dir, F_OK) != 0)
        return age > NET_CLAIM_AGE_S;
    /* The pid before the lock: a supervisor takes the lock before it names
     * its pid, so one that starts between the two reads is seen alive (the
     * other order took a node starting then for a dead one, and freed its
     * slot under it) */
    pid = lf_pid(dir);
    if (lf_alive(dir))
        return 0;
    /* ended (exit written), given up (tombstone) or dead without a word */
    return lf_exit_read(dir, &x) == 0 || pid >= 0;
}

static int slot_of(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    long v;

    if (strncmp(name, prefix, n) != 0 ||
        str_to_long(name + n, 0, LOCAL_NET_SLOTS - 1, &v) != 0)
        return -1;
    return (int)v;
}

void local_net_sweep(void)
{
    DIR *d;
    struct dirent *de;

    if (geteuid() != 0)
        return;
    d = opendir(NET_CLAIMS);
    while (d != NULL && (de = readdir(d)) != NULL) {
        int k = slot_of(de->d_name, "");

        if (k >= 0)
            slot_free(k, NULL, claim_stale);
    }
    if (d != NULL)
        closedir(d);
    /* a namespace of ours that no claim covers: its claim was freed while
     * the namespace could not be removed, or was lost with /run/stratus */
    d = opendir(NET_NSDIR);
    while (d != NULL && (de = readdir(d)) != NULL) {
        int k = slot_of(de->d_name, "stratus-");
        char claim[64];

        snprintf(claim, sizeof(claim), NET_CLAIMS "/%d", k);
        if (k >= 0 && access(claim, F_OK) != 0 && errno == ENOENT)
            ns_delete(k);
    }
    if (d != NULL)
        closedir(d);
}

/* ---- the supervisor's side ---------------------------------------------- */

/* Run `ip ARGS...` and wait; 0 when it exited 0.  Its errors go to the
 * node's log (the supervisor's stderr). */
static int run_ip(const char *ip, const char *const *args)
{
    const char *argv[16];
    size_t i;
    pid_t pid;
    int st;

    argv[0] = "ip";
    for (i = 0; args[i] != NULL && i + 2 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    pid = fork();
    if (pid == 0) {
        execv(ip, (char *const *)(void *)argv);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Make namespace stratus-<k> with its veth pair and addresses. */
static int ns_create(const char *ip, int k)
{
    char ns[24], host[16], gw[24], in[24], hostaddr[40], inaddr[40], sys[64];
    struct stat st;

    snprintf(ns, sizeof(ns), "stratus-%d", k);
    snprintf(host, sizeof(host), "stv%d", k);
    local_net_addr(k, 0, gw, sizeof(gw));
    local_net_addr(k, 1, in, sizeof(in));
    snprintf(hostaddr, sizeof(hostaddr), "%s/30", gw);
    snprintf(inaddr, sizeof(inaddr), "%s/30", in);
    /* left by a node whose end nobody saw through: the slot is ours now */
    ns_delete(k);
    snprintf(sys, sizeof(sys), "/sys/class/net/%s", host);
    if (stat(sys, &st) == 0)
        run_ip(ip, (const char *const[]){"link", "del", host, NULL});
    {
        const char *const steps[][12] = {
            {"netns", "add", ns, NULL},
            {"link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns,
             NULL},
            {"addr", "add", hostaddr, "dev", host, NULL},
            {"link", "set", host, "up", NULL},
            {"-n", ns, "addr", "add", inaddr, "dev", "eth0", NULL},
            {"-n", ns, "link", "set", "eth0", "up", NULL},
            {"-n", ns, "link", "set", "lo", "up", NULL},
            {"-n", ns, "route", "add", "default", "via", gw, NULL},
        };
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
            if (run_ip(ip, steps[i]) != 0) {
                fprintf(stderr, "stratus: `ip %s %s %s ...` failed\n", steps[i][0],
                        steps[i][1], steps[i][2]);
                return -1;
            }
    }
    return 0;
}

int local_net_enter(const char *node_dir)
{
    int k = node_slot(node_dir), fd, rc;
    char path[64], why[200], addr[32];
    char *ip;

    if (k < 0)
        return 0;
    if (!local_net_usable(why, sizeof(why))) {
        fprintf(stderr, "stratus: node %s: %s\n", node_dir, why);
        return -1;
    }
    ip = find_ip();
    rc = ns_create(ip, k);
    free(ip);
    snprintf(path, sizeof(path), NET_NSDIR "/stratus-%d", k);
    fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "stratus: node %s: cannot enter its network namespace %s: %s\n",
                node_dir, path, rc == 0 ? strerror(errno) : "it could not be made");
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    local_net_addr(k, 1, addr, sizeof(addr));
    if (rc == 0)
        fprintf(stderr,
                "stratus: node runs in network namespace stratus-%d, address %s\n", k,
                addr);
    return rc;
}
