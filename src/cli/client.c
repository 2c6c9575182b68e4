/*
 * client.c - the CLI's side of the API: one libcurl handle per process,
 * reused for every call, pointed at $STRATUS_API or at the home's UNIX
 * socket.
 *
 * Layout: where to go and with which token (target_init), the autostart of
 * a background server for the home (ensure_server), one request with its
 * reply either collected or streamed (perform), and the two public calls.
 * The socket path is checked once per process: a server that answered once
 * is not probed again (a command that outlives it gets a connection error,
 * which says what to do).
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "../api/apijson.h"
#include "../util/clock.h"
#include "../util/fsutil.h"
#include "../util/lazycurl.h"
#include "../util/xmem.h"

/* The longest the CLI waits for a server it started (or found starting) to
 * answer: its first catch-up on a loaded machine takes seconds. */
#define START_WAIT_S 15.0
/* How often a command starts a server (or waits for one) whose server
 * stopped before it answered: each round follows a kill or a crash. */
#define START_ROUNDS 4
/* The longest a call (not a stream) may take: a server that hangs fails the
 * command instead of hanging it; far above any real call. */
#define CALL_TIMEOUT_MS 300000L
/* A reply held in memory (job lists, cost reports): far above any real one. */
#define REPLY_LIMIT (256u << 20)

struct target {
    CURL *curl;
    char *base;  /* "http://localhost" on the socket, else $STRATUS_API without a final '/' */
    char *sock;  /* the UNIX socket, NULL with $STRATUS_API */
    char *home;  /* $STRATUS_HOME, for autostart and messages */
    char *auth;  /* "Authorization: Bearer ...", or NULL without a token */
    int ready;   /* the server answered once: no more autostart checks */
};

static struct target tg;

/* Where a reply goes: to fp as it arrives (a 2xx stream), else into body. */
struct sink {
    CURL *curl;
    FILE *fp;       /* NULL: collect everything */
    struct buf body;
    int overflow;   /* body hit REPLY_LIMIT */
    int unsent;     /* the connection failed: the request was never sent */
    long written;   /* bytes of a 2xx reply copied to fp */
};

static void target_free(void)
{
    if (tg.curl)
        curl_easy_cleanup(tg.curl);
    curl_global_cleanup();
    free(tg.base);
    free(tg.sock);
    free(tg.home);
    free(tg.auth);
    memset(&tg, 0, sizeof(tg));
}

/* The token: $STRATUS_TOKEN, else the first line of $STRATUS_TOKEN_FILE. */
static int read_token(char **out, struct err *e)
{
    const char *t = getenv("STRATUS_TOKEN"), *file = getenv("STRATUS_TOKEN_FILE");
    char *text = NULL;
    size_t n;

    *out = NULL;
    if (t && *t) {
        *out = xstrdup(t);
        return 0;
    }
    if (file == NULL || *file == '\0')
        return 0;
    if (fs_read_file(file, 4096, &text, NULL, e) != 0) {
        err_prefix(e, "cannot read the token file (STRATUS_TOKEN_FILE)");
        return e->code;
    }
    n = strcspn(text, "\r\n");
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    text[n] = '\0';
    if (n == 0) {
        free(text);
        return err_set(e, ST_EINVAL, "%s: the token file is empty (STRATUS_TOKEN_FILE)", file);
    }
    *out = text;
    return 0;
}

static int target_init(struct err *e)
{
    const char *api = getenv("STRATUS_API");
    char *tok;
    size_t n;

    if (tg.curl)
        return 0;
    if (read_token(&tok, e) != 0)
        return e->code;
    if (lazycurl_load(e) != 0) {
        free(tok);
        return e->code;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) == 0)
        tg.curl = curl_easy_init();
    if (tg.curl == NULL) {
        free(tok);
        return err_set(e, ST_EINTERNAL, "cannot initialise libcurl");
    }
    atexit(target_free);
    if (tok)
        tg.auth = xasprintf("Authorization: Bearer %s", tok);
    free(tok);
    tg.home = cli_home();
    if (api && *api) {
        tg.base = xstrdup(api);
        n = strlen(tg.base);
        while (n > 0 && tg.base[n - 1] == '/')
            tg.base[--n] = '\0';
    } else {
        tg.base = xstrdup("http://localhost");
        tg.sock = xasprintf("%s/stratus.sock", tg.home);
    }
    return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (s->fp && status >= 200 && status < 300) {
        if (fwrite(p, 1, n, s->fp) != n)
            return 0; /* e.g. a closed pipe: stop the transfer */
        fflush(s->fp);
        s->written += (long)n;
        return n;
    }
    if (buf_add(&s->body, p, n) != 0) {
        s->overflow = 1;
        return 0;
    }
    return n;
}

/* Set up tg.curl for one request (headers are owned by the caller). */
static void setup(const char *method, const char *url, const char *body,
                  struct curl_slist *h, struct sink *s, char *errbuf, long timeout_ms)
{
    CURL *c = tg.curl;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (tg.sock)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, tg.sock);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    /* A POST without a body (cancel) still sends one, empty. */
    if (body == NULL && strcmp(method, "POST") == 0)
        body = "";
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

static struct curl_slist *headers(int json_body)
{
    struct curl_slist *h = NULL;

    h = curl_slist_append(h, "Accept: application/json");
    if (json_body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (tg.auth)
        h = curl_slist_append(h, tg.auth);
    BUG_ON(h == NULL); /* curl_slist_append fails only when out of memory */
    return h;
}

/* Where the server is, for messages. */
static const char *where(void)
{
    return tg.sock ? tg.sock : tg.base;
}

/* One request. Returns 0 with *status set when the server answered (any
 * status), else ST_EIO with the reason in e. */
static int perform(const char *method, const char *path, const char *body, struct sink *s,
                   long timeout_ms, long *status, struct err *e)
{
    char *url = xasprintf("%s%s", tg.base, path), errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = headers(body != NULL);
    CURLcode cc;

    s->curl = tg.curl;
    buf_init(&s->body, REPLY_LIMIT);
    s->overflow = 0;
    s->unsent = 0;
    setup(method, url, body, h, s, errbuf, timeout_ms);
    cc = curl_easy_perform(tg.curl);
    curl_slist_free_all(h);
    free(url);
    *status = 0;
    if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && !s->overflow))
        curl_easy_getinfo(tg.curl, CURLINFO_RESPONSE_CODE, status);
    if (s->overflow)
        return err_set(e, ST_ETOOBIG, "the server's reply to %s %s is larger than %u MiB", method,
                       path, REPLY_LIMIT >> 20);
    if (*status > 0)
        return 0;
    s->unsent = cc == CURLE_COULDNT_CONNECT;
    return err_set(e, ST_EIO, "cannot reach the stratus server at %s: %s%s", where(),
                   errbuf[0] ? errbuf : curl_easy_strerror(cc),
                   tg.sock ? "; start one with `stratus server`"
                           : " (STRATUS_API, --api): is the server running there?");
}

/* ---- autostart ---- */

/* Does a server answer on the socket (any HTTP reply counts)? */
static int answers(void)
{
    struct sink s = {0};
    struct err e;
    long status;
    int rc;

    if (access(tg.sock, F_OK) != 0)
        return 0;
    err_clear(&e);
    rc = perform("GET", "/healthz", NULL, &s, 5000, &status, &e);
    buf_free(&s.body);
    return rc == 0;
}

static char *log_path(void)
{
    return xasprintf("%s/controller.log", tg.home);
}

/* Start `stratus server` for the home in its own session (no terminal
 * signal reaches it), its output appended to the log the old controller
 * wrote.  It stays this process's child (not double-forked) so that a
 * server that cannot start tells its exit status: a bad store in the home
 * is the user's to fix (exit 2), as when the CLI opened it itself.  When
 * this command ends the server is re-parented and lives on.  Returns its
 * pid, or -1. */
static pid_t spawn_server(void)
{
    char *log = log_path();
    pid_t pid = fork();

    if (pid == 0) {
        int fd;

        setsid();
        fd = open("/dev/null", O_RDONLY);
        dup2(fd, 0);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            fchmod(fd, 0600); /* a log from before homes were owner-only */
        else /* never the caller's stdout: a pipe held open would hang it */
            fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("/proc/self/exe", "stratus", "server", (char *)NULL);
        _exit(127);
    }
    free(log);
    return pid;
}

/* What the server wrote to its log from offset on (at most 64 KiB, its
 * last lines); NULL when nothing. Caller frees. */
static char *log_since(off_t offset)
{
    char *log = log_path(), *text = NULL, *out = NULL;
    size_t len = 0;
    struct err ig;

    if (fs_read_file(log, 16 << 20, &text, &len, &ig) == 0 && (size_t)offset < len) {
        const char *p = text + offset;

        if (len - (size_t)offset > 65536)
            p = text + len - 65536;
        out = xstrdup(p);
    }
    free(text);
    free(log);
    return out;
}

static off_t log_size(void)
{
    char *log = log_path();
    struct stat sb;
    off_t n = stat(log, &sb) == 0 ? sb.st_size : 0;

    free(log);
    return n;
}

/* The warnings a server we started gave while starting (e.g. a store made
 * owner-only) reach the user who started it, not only its log. */
static void relay_warnings(off_t offset)
{
    char *text = log_since(offset), *line, *save = NULL;

    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, "stratus: warning:", 17) == 0)
            fprintf(stderr, "%s\n", line);
    free(text);
}

/* The server we started has ended (reaped; *status its exit status)? */
static int spawned_ended(pid_t pid, int *status)
{
    int ws = 0;

    if (pid <= 0 || waitpid(pid, &ws, WNOHANG) != pid)
        return 0;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 3;
    return 1;
}

/* The server we started could not start: what it said, and its exit
 * status as ours (2: the home's files are wrong; else 3). */
static int start_failed(int status, off_t offset, struct err *e)
{
    char *said = log_since(offset);
    size_t n = said ? strlen(said) : 0;

    while (n > 0 && said[n - 1] == '\n')
        said[--n] = '\0';
    err_set(e, status == 2 ? ST_EINVAL : ST_EINTERNAL,
            "the stratus server for %s did not start (exit status %d)%s%s", tg.home, status,
            n ? "; it said:\n" : "", n ? said : "");
    free(said);
    return e->code;
}

/* Wait (bounded) until the socket answers.  pid: the server we started
 * (-1: one that another command started, holding the lock).  A server that
 * ended without answering, with no other one holding the home's lock, is
 * either ours that could not start (its own error, at once) or another's
 * that stopped (was killed) before it answered: then *gone is set, and the
 * caller starts one itself.  Ours that lost the lock to another (two
 * commands may start one each: the loser ends at once) waits for the winner,
 * which counts as another's. */
static int wait_server(pid_t pid, off_t offset, int *gone, struct err *e)
{
    double start = clock_mono(), pause = 0.01;
    int status = 0, ended = 0, other = pid <= 0;
    pid_t holder;

    *gone = 0;
    while (clock_mono() - start < START_WAIT_S) {
        if (answers())
            return 0;
        ended = ended || spawned_ended(pid, &status);
        holder = cli_controller_pid(tg.home);
        other = other || (holder > 0 && holder != pid);
        if ((pid <= 0 || ended) && holder <= 0 && !answers()) {
            if (!other)
                return start_failed(status, offset, e);
            *gone = 1;
            return err_set(e, ST_EIO, "the stratus server for %s stopped before it answered; "
                           "see %s/controller.log", tg.home, tg.home);
        }
        clock_sleep(pause);
        pause = pause < 0.1 ? pause * 2 : 0.1;
    }
    err_set(e, ST_EINTERNAL, "the stratus server for %s did not answer on %s within %.0f s; "
            "see %s/controller.log", tg.home, tg.sock, START_WAIT_S, tg.home);
    return e->code;
}

/* Start a server for the home and wait until it answers; a start in a home
 * that has a store already is said on stderr: the user may have stopped
 * that server on purpose (`stratus controller stop`). */
static int start_server(int *gone, struct err *e)
{
    char *db = xasprintf("%s/stratus.db", tg.home);
    int had_store = access(db, F_OK) == 0;
    off_t offset = log_size();
    pid_t pid, serving;

    free(db);
    *gone = 0;
    if (cli_driver_ops(e) == NULL)
        return e->code; /* said here rather than in a log nobody reads */
    pid = spawn_server();
    if (wait_server(pid, offset, gone, e) != 0)
        return e->code;
    relay_warnings(offset);
    /* The one that answers: another command's, when ours lost the lock. */
    serving = cli_controller_pid(tg.home);
    pid = serving > 0 ? serving : pid;
    if (had_store)
        fprintf(stderr, "stratus: no controller was running; started one (`stratus server`, "
                        "pid %ld)\n", (long)pid);
    return 0;
}

/* The home's server runs a build of this very binary that has since been
 * replaced (rebuilt or upgraded: its /proc exe reads "PATH (deleted)"):
 * say so, since it answers with its old code until it is restarted.  A
 * server of another binary is taken as meant. */
static void warn_replaced_server(void)
{
    char self[PATH_MAX], theirs[PATH_MAX + 16], proc[32];
    pid_t pid = cli_controller_pid(tg.home);
    ssize_t n, m;

    if (pid <= 0)
        return;
    snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    m = readlink(proc, theirs, sizeof(theirs) - 1);
    if (n <= 0 || m <= 0)
        return; /* not ours to look at: say nothing */
    self[n] = theirs[m] = '\0';
    if (strncmp(theirs, self, (size_t)n) != 0 || strcmp(theirs + n, " (deleted)") != 0)
        return;
    fprintf(stderr,
            "stratus: warning: the server for %s (pid %d) runs the build of %s that was "
            "there when it started, not this one; `stratus controller stop` stops it "
            "(running jobs go on), and the next command starts the new build\n",
            tg.home, (int)pid, self);
}

/* Make sure a server answers on the home's socket: one that holds the lock
 * is waited for (it listens once it has caught up), none is started
 * (unless STRATUS_NO_AUTOSTART is set and this is no explicit start).
 * The holder may be on its way out (killed a moment ago: it keeps its lock
 * and its pid until the kernel has closed its files), and then a server is
 * started after all; a few rounds, since the one that took the lock
 * instead of ours may die as well. */
static int ensure_server(int force, struct err *e)
{
    int round, gone = 0, rc = 0;

    if (tg.ready)
        return 0;
    if (tg.sock == NULL || answers()) {
        if (tg.sock != NULL)
            warn_replaced_server();
        tg.ready = 1;
        return 0;
    }
    for (round = 0; round < START_ROUNDS && (round == 0 || gone); round++) {
        err_clear(e);
        /* Reap a server this command started that has died since: it would
         * stay a zombie while this command lives (a long `launch`). */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (cli_controller_pid(tg.home) > 0)
            rc = wait_server(-1, 0, &gone, e);
        else if (force || getenv("STRATUS_NO_AUTOSTART") == NULL)
            rc = start_server(&gone, e);
        else
            return err_set(e, ST_EIO, "no server runs for %s; start one with `stratus server`",
                           tg.home);
    }
    if (rc == 0)
        tg.ready = 1;
    return rc;
}

int client_ensure_server(struct err *e)
{
    if (target_init(e) != 0)
        return e->code;
    return ensure_server(1, e);
}

char *client_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(3 * strlen(s) + 1), *w = out;

    /* As libcurl escapes: all but RFC 3986's unreserved characters (done
     * here so that a command that only builds a path needs no libcurl). */
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *w++ = (char)ch;
        } else {
            *w++ = '%';
            *w++ = hex[ch >> 4];
            *w++ = hex[ch & 15];
        }
    }
    *w = '\0';
    return out;
}

/* ---- replies ---- */

/* e from a non-2xx reply: the server's JSON error, or what came instead. */
static int reply_error(const char *method, const char *path, long status, struct sink *s,
                       struct err *e)
{
    json_t *o = json_loadb(s->body.data ? s->body.data : "", s->body.len, 0, NULL);

    if (o && json_is_object(json_object_get(o, "error"))) {
        apijson_to_error(o, (int)status, e);
    } else if (status == 413) {
        /* far over the limit: libevent refused it before reading it, with
         * its own page rather than the server's JSON */
        err_set(e, ST_ETOOBIG, "the request to %s %s is larger than the server takes "
                "(max_body in its configuration)", method, path);
    } else {
        err_set(e, status == 404 ? ST_ENOTFOUND : ST_EINTERNAL,
                "the server answered %s %s with HTTP %ld: %.300s", method, path, status,
                buf_cstr(&s->body));
    }
    json_decref(o);
    /* Refused for want of a (good) token or role: bad usage, exit 2. */
    if ((status == 401 || status == 403) && cli_exit_code(e->code) != 2)
        e->code = ST_EINVAL;
    return e->code;
}

/* A 503 of a follower that found no leader to forward to (a takeover under
 * way, docs/ha.md): nothing was done, so asking again is safe. */
static int no_leader(long status, const struct sink *s)
{
    json_t *o, *err;
    int yes = 0;

    if (status != 503 || s->written > 0)
        return 0;
    o = json_loadb(s->body.data ? s->body.data : "", s->body.len, 0, NULL);
    err = o ? json_object_get(o, "error") : NULL;
    yes = err && json_is_string(json_object_get(err, "code")) &&
          strcmp(json_string_value(json_object_get(err, "code")), "EFENCED") == 0;
    json_decref(o);
    return yes;
}

#define LEADER_WAIT_S 30 /* how long a command waits for a takeover to end */

/* One request to a server that answers: when the home's server is gone it
 * is started again and the request sent once more if that cannot do it
 * twice (it was never sent, or it only reads); while the servers of a
 * shared store have no leader, it is asked again every second for up to
 * LEADER_WAIT_S. */
static int request(const char *method, const char *path, const char *body, struct sink *s,
                   long *status, struct err *e)
{
    long timeout_ms = s->fp ? 0 : CALL_TIMEOUT_MS; /* a stream lasts as long as its job */
    int rc = target_init(e), again, tries;

    if (rc == 0)
        rc = ensure_server(0, e);
    if (rc != 0)
        return rc;
    rc = perform(method, path, body, s, timeout_ms, status, e);
    /* Again after a restart: a request never sent, or a read (GET, not a
     * stream already partly printed) whose server died before it replied. */
    again = s->unsent || (strcmp(method, "GET") == 0 && !s->fp);
    if (rc == ST_EIO && tg.sock && again) {
        buf_free(&s->body);
        tg.ready = 0;
        err_clear(e);
        rc = ensure_server(0, e);
        if (rc == 0)
            rc = perform(method, path, body, s, timeout_ms, status, e);
    }
    for (tries = 0; rc == 0 && tries < LEADER_WAIT_S && no_leader(*status, s); tries++) {
        if (tries == 0)
            fprintf(stderr, "stratus: no server leads just now (a takeover?): asking again "
                            "for up to %d s\n", LEADER_WAIT_S);
        buf_free(&s->body);
        clock_sleep(1.0);
        rc = perform(method, path, body, s, timeout_ms, status, e);
    }
    return rc;
}

int client_call(const char *method, const char *path, const json_t *body, json_t **out,
                struct err *e)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct sink s = {0};
    json_error_t je;
    long status = 0;
    int rc;

    if (out)
        *out = NULL;
    rc = request(method, path, body ? (text ? text : "null") : NULL, &s, &status, e);
    free(text);
    if (rc == 0 && (status < 200 || status >= 300))
        rc = reply_error(method, path, status, &s, e);
    if (rc == 0 && out) {
        *out = s.body.len ? json_loadb(s.body.data, s.body.len, 0, &je) : json_null();
        if (*out == NULL)
            rc = err_set(e, ST_EINTERNAL, "the server's reply to %s %s is not JSON: %s", method,
                         path, je.text);
    }
    buf_free(&s.body);
    return rc;
}

int client_stream(const char *path, FILE *fp, long *written, struct err *e)
{
    struct sink s = {0};
    long status = 0;
    int rc;

    s.fp = fp;
    rc = request("GET", path, NULL, &s, &status, e);
    if (rc == 0 && (status < 200 || status >= 300))
        rc = reply_error("GET", path, status, &s, e);
    if (written)
        *written = s.written;
    buf_free(&s.body);
    return rc;
}

int client_call_keep(const char *method, const char *path, const json_t *body, json_t **out,
                     struct err *e)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct sink s = {0};
    long status = 0;
    int rc;

    *out = NULL;
    rc = request(method, path, body ? (text ? text : "null") : NULL, &s, &status, e);
    free(text);
    if (rc == 0 && s.body.len)
        *out = json_loadb(s.body.data, s.body.len, 0, NULL);
    if (rc == 0 && (status < 200 || status >= 300))
        rc = reply_error(method, path, status, &s, e);
    else if (rc == 0 && *out == NULL)
        rc = err_set(e, ST_EINTERNAL, "the server's reply to %s %s is not JSON", method, path);
    buf_free(&s.body);
    return rc;
}

int client_spec_body(const char *path, const char *policy_path, json_t **out)
{
    char *text = NULL, *ptext = NULL, abs[PATH_MAX];
    struct err e;

    err_clear(&e);
    if (realpath(path, abs) == NULL)
        snprintf(abs, sizeof(abs), "%s", path);
    if (fs_read_file(path, 1 << 20, &text, NULL, &e) != 0 ||
        (policy_path && fs_read_file(policy_path, 1 << 20, &ptext, NULL, &e) != 0)) {
        free(text);
        return cli_fail(&e);
    }
    *out = json_object();
    json_object_set_new(*out, "spec", json_string(text));
    json_object_set_new(*out, "file", json_string(abs));
    if (ptext) {
        json_object_set_new(*out, "policy", json_string(ptext));
        json_object_set_new(*out, "policy_file", json_string(policy_path));
    }
    free(text);
    free(ptext);
    return 0;
}
