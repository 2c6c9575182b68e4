/*
 * test_auth.c - roles and bearer tokens (src/server/auth.c): role names both
 * ways; the server's secret file (made owner-only and whole, kept across
 * loads, one secret when several processes make it at once, refused when
 * others may read it or when damaged); tokens created, verified, listed and
 * revoked on the SQLite and the in-memory store, with wrong, malformed and
 * revoked tokens refused, a secret of another server refusing them all,
 * name rules, and no token ever in an error message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/auth.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char *dir;
    struct store *st;
    unsigned char key[32];
};

static int setup_at(void **state, int mem)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char *path;
    struct err e;

    f->dir = tu_mkdtemp();
    path = mem ? xstrdup("mem:") : xasprintf("%s/stratus.db", f->dir);
    err_clear(&e);
    if (store_open(&f->st, path, &e) != 0)
        fail_msg("store_open: %s", e.msg);
    if (auth_secret_load(f->dir, f->key, &e) != 0)
        fail_msg("auth_secret_load: %s", e.msg);
    free(path);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_at(state, 0);
}

static int setup_mem(void **state)
{
    return setup_at(state, 1);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A token made with the fixture's key; the caller frees it. */
static char *make(struct fixture *f, const char *name, enum auth_role role, int64_t *id)
{
    char *tok = NULL;
    int64_t tid = 0;
    struct err e;

    err_clear(&e);
    if (auth_token_create(f->st, f->key, name, role, 100, &tok, &tid, &e) != 0)
        fail_msg("auth_token_create(%s): %s", name, e.msg);
    if (id != NULL)
        *id = tid;
    return tok;
}

/* Verify must refuse token with ST_ENOTFOUND, and say so without quoting it. */
static void assert_refused(struct fixture *f, const char *token)
{
    struct auth_principal p;
    struct err e;

    err_clear(&e);
    memset(&p, 0x5a, sizeof(p));
    assert_int_equal(auth_token_verify(f->st, f->key, token, &p, &e), ST_ENOTFOUND);
    assert_int_equal(p.role, AUTH_NONE);
    assert_int_equal(p.token_id, 0);
    assert_true(e.msg[0] != '\0');
    if (token != NULL && token[0] != '\0')
        assert_null(strstr(e.msg, token));
    assert_null(strstr(e.msg, "st_"));
}

/* ---- roles ------------------------------------------------------------------ */

static void test_roles(void **state)
{
    (void)state;
    assert_string_equal(auth_role_name(AUTH_NONE), "none");
    assert_string_equal(auth_role_name(AUTH_VIEWER), "viewer");
    assert_string_equal(auth_role_name(AUTH_MEMBER), "member");
    assert_string_equal(auth_role_name(AUTH_ADMIN), "admin");
    assert_string_equal(auth_role_name((enum auth_role)9), "none");
    assert_int_equal(auth_role_parse("viewer"), AUTH_VIEWER);
    assert_int_equal(auth_role_parse("member"), AUTH_MEMBER);
    assert_int_equal(auth_role_parse("admin"), AUTH_ADMIN);
    assert_int_equal(auth_role_parse("none"), AUTH_NONE);
    assert_int_equal(auth_role_parse("Admin"), AUTH_NONE);
    assert_int_equal(auth_role_parse("admins"), AUTH_NONE);
    assert_int_equal(auth_role_parse(""), AUTH_NONE);
    assert_int_equal(auth_role_parse(NULL), AUTH_NONE);
    /* the order is what the HTTP layer compares: admin > member > viewer */
    assert_true(AUTH_ADMIN > AUTH_MEMBER && AUTH_MEMBER > AUTH_VIEWER &&
                AUTH_VIEWER > AUTH_NONE);
}

/* ---- the secret file ---------------------------------------------------------- */

static int file_mode(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_secret_made_owner_only(void **state)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/server.secret", dir);
    unsigned char a[32], b[32], zero[32] = {0};
    char text[80];
    FILE *fp;
    size_t len;
    struct err e;

    (void)state;
    umask(022); /* a permissive umask must not widen the secret */
    err_clear(&e);
    assert_int_equal(auth_secret_load(dir, a, &e), 0);
    assert_int_equal(file_mode(path), 0600);
    assert_int_equal(dir_entries(dir), 1); /* no temporary left behind */
    assert_memory_not_equal(a, zero, 32);
    fp = fopen(path, "r");
    assert_non_null(fp);
    len = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[len] = '\0';
    assert_int_equal(len, 65);
    assert_int_equal(strspn(text, "0123456789abcdef"), 64);
    assert_int_equal(text[64], '\n');
    /* loaded again: the same secret */
    assert_int_equal(auth_secret_load(dir, b, &e), 0);
    assert_memory_equal(a, b, 32);
    assert_int_equal(auth_secret_load(NULL, b, &e), ST_EINVAL);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* A secret others may read is refused, not fixed; the key is not filled. */
static void test_secret_mode_refused(void **state)
{
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/server.secret", dir);
    unsigned char a[32], b[32], zero[32] = {0};
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(auth_secret_load(dir, a, &e), 0);
    assert_int_equal(chmod(path, 0644), 0);
    memset(b, 1, sizeof(b));
    assert_int_equal(auth_secret_load(dir, b, &e), ST_EINVAL);
    assert_memory_equal(b, zero, 32);
    assert_non_null(
        strstr(e.msg, "server.secret: others may read or write it (mode 0644)"));
    assert_non_null(strstr(e.msg, "chmod 600"));
    assert_int_equal(file_mode(path), 0644); /* left as it was */
    assert_int_equal(chmod(path, 0620), 0);  /* group write is as bad */
    assert_int_equal(auth_secret_load(dir, b, &e), ST_EINVAL);
    assert_int_equal(chmod(path, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(auth_secret_load(dir, b, &e), 0);
    assert_memory_equal(a, b, 32);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

static void test_secret_damaged(void **state)
{
    static const char *const bad[] = {
        "", "abc\n", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00\n"};
    char *dir = tu_mkdtemp(), *path = xasprintf("%s/server.secret", dir);
    unsigned char k[32];
    struct err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_write(dir, "server.secret", bad[i]);
        assert_int_equal(chmod(path, 0600), 0);
        err_clear(&e);
        assert_int_equal(auth_secret_load(dir, k, &e), ST_EINVAL);
        assert_non_null(strstr(e.msg, "damaged"));
        if (bad[i][0] != '\0')
            assert_null(strstr(e.msg, bad[i])); /* never quoted back */
    }
    /* written by `openssl rand -hex 32` (uppercase works too) */
    tu_write(dir, "server.secret",
             "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(auth_secret_load(dir, k, &e), 0);
    assert_int_equal(k[0], 0x00);
    assert_int_equal(k[1], 0x11);
    assert_int_equal(k[15], 0xff);
    assert_int_equal(k[31], 0xff);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* Several processes making the secret at once all end with the same one:
 * the file is linked into place, never replaced. */
static void test_secret_made_once(void **state)
{
    enum { N = 6 };
    char *dir = tu_mkdtemp();
    unsigned char first[32], k[32];
    int fds[N][2], i, status;
    pid_t pids[N];

    (void)state;
    for (i = 0; i < N; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            unsigned char key[32];

            if (auth_secret_load(dir, key, NULL) != 0 || write(fds[i][1], key, 32) != 32)
                _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    for (i = 0; i < N; i++) {
        assert_int_equal(read(fds[i][0], k, 32), 32);
        close(fds[i][0]);
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (i == 0)
            memcpy(first, k, 32);
        assert_memory_equal(first, k, 32);
    }
    assert_int_equal(auth_secret_load(dir, k, NULL), 0);
    assert_memory_equal(first, k, 32);
    assert_int_equal(dir_entries(dir), 1);
    tu_rmdir(dir);
    free(dir);
}

/* ---- tokens ------------------------------------------------------------------- */

static void test_create_verify(void **state)
{
    struct fixture *f = *state;
    int64_t id1, id2;
    char *t1 = make(f, "ci-bot", AUTH_MEMBER, &id1),
         *t2 = make(f, "alice", AUTH_ADMIN, &id2);
    struct auth_principal p;
    struct store_token *v;
    size_t n, i;
    struct err e;

    assert_int_equal(strlen(t1), 46);
    assert_memory_equal(t1, "st_", 3);
    assert_int_equal(strspn(t1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"),
                     43);
    assert_string_not_equal(t1, t2);
    assert_true(id1 > 0 && id2 > id1);
    err_clear(&e);
    assert_int_equal(auth_token_verify(f->st, f->key, t1, &p, &e), 0);
    assert_int_equal(p.role, AUTH_MEMBER);
    assert_int_equal(p.token_id, id1);
    assert_string_equal(p.name, "ci-bot");
    assert_int_equal(auth_token_verify(f->st, f->key, t2, &p, &e), 0);
    assert_int_equal(p.role, AUTH_ADMIN);
    assert_int_equal(p.token_id, id2);
    assert_string_equal(p.name, "alice");
    /* the store holds a 64-hex-digit hash, never the token or a part of it */
    assert_int_equal(store_token_list(f->st, 0, &v, &n, &e), 0);
    assert_int_equal(n, 2);
    for (i = 0; i < n; i++) {
        assert_int_equal(strlen(v[i].hash), 64);
        assert_int_equal(strspn(v[i].hash, "0123456789abcdef"), 64);
        assert_null(strstr(v[i].hash, t1 + 3));
        assert_null(strstr(v[i].hash, t2 + 3));
        assert_true(v[i].created_at == 100);
        assert_true(v[i].revoked_at == 0);
    }
    assert_string_equal(v[0].role, "member");
    assert_string_equal(v[1].role, "admin");
    store_tokens_free(v, n);
    free(t1);
    free(t2);
}

/* A token one character off, another server's secret, or a token of the
 * right shape never issued: all refused alike. */
static void test_wrong_token(void **state)
{
    struct fixture *f = *state;
    char *t = make(f, "bob", AUTH_VIEWER, NULL);
    unsigned char other[32];
    struct auth_principal p;
    struct err e;
    size_t i;

    for (i = 3; i < strlen(t); i += 7) {
        char saved = t[i];

        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_refused(f, t);
        t[i] = saved;
    }
    assert_refused(f, "st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    memcpy(other, f->key, 32);
    other[0] ^= 1;
    err_clear(&e);
    assert_int_equal(auth_token_verify(f->st, other, t, &p, &e), ST_ENOTFOUND);
    assert_null(strstr(e.msg, t));
    assert_int_equal(auth_token_verify(f->st, f->key, t, &p, &e), 0); /* still good */
    assert_int_equal(p.role, AUTH_VIEWER);
    free(t);
}

static void test_malformed_token(void **state)
{
    struct fixture *f = *state;
    char *t = make(f, "carol", AUTH_ADMIN, NULL), buf[128];

    assert_refused(f, NULL);
    assert_refused(f, "");
    assert_refused(f, "st_");
    assert_refused(f, t + 3); /* without the prefix */
    snprintf(buf, sizeof(buf), "%s=", t);
    assert_refused(f, buf); /* padded */
    snprintf(buf, sizeof(buf), "%s ", t);
    assert_refused(f, buf); /* trailing space */
    snprintf(buf, sizeof(buf), "Bearer %s", t);
    assert_refused(f, buf);
    snprintf(buf, sizeof(buf), "%s", t);
    buf[10] = '+'; /* standard base64, not base64url */
    assert_refused(f, buf);
    buf[10] = '\n';
    assert_refused(f, buf);
    snprintf(buf, sizeof(buf), "ST_%s", t + 3);
    assert_refused(f, buf);
    free(t);
}

static void test_revoke(void **state)
{
    struct fixture *f = *state;
    int64_t id1, id2, id3;
    char *t1 = make(f, "dave", AUTH_MEMBER, &id1),
         *t2 = make(f, "erin", AUTH_MEMBER, &id2);
    char *t3, ids[32], buf[64];
    struct auth_principal p;
    struct store_token *v;
    size_t n;
    struct err e;

    err_clear(&e);
    assert_int_equal(auth_token_revoke(f->st, "dave", 200, &e), 0);
    assert_refused(f, t1);
    err_clear(&e);
    assert_int_equal(auth_token_verify(f->st, f->key, t1, &p, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "revoked"));
    assert_int_equal(auth_token_verify(f->st, f->key, t2, &p, &e),
                     0); /* the other lives */
    /* again: nothing live by that name */
    assert_int_equal(auth_token_revoke(f->st, "dave", 201, &e), ST_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no live token named 'dave'"));
    /* by id */
    snprintf(ids, sizeof(ids), "%" PRId64, id2);
    assert_int_equal(auth_token_revoke(f->st, ids, 202, &e), 0);
    assert_refused(f, t2);
    assert_int_equal(auth_token_revoke(f->st, ids, 203, &e), ST_ENOTFOUND);
    assert_int_equal(auth_token_revoke(f->st, "999", 203, &e), ST_ENOTFOUND);
    assert_int_equal(auth_token_revoke(f->st, "", 203, &e), ST_EINVAL);
    assert_int_equal(auth_token_revoke(f->st, NULL, 203, &e), ST_EINVAL);
    /* a token pasted where its name belongs is not echoed */
    t3 = make(f, "frank", AUTH_VIEWER, &id3);
    assert_int_equal(auth_token_revoke(f->st, t3, 204, &e), ST_ENOTFOUND);
    assert_null(strstr(e.msg, t3));
    snprintf(buf, sizeof(buf), "%s", t3);
    buf[20] = '+'; /* not even a name's characters */
    assert_int_equal(auth_token_revoke(f->st, buf, 204, &e), ST_ENOTFOUND);
    assert_null(strstr(e.msg, buf + 3));
    assert_int_equal(auth_token_verify(f->st, f->key, t3, &p, &e), 0);
    /* the list keeps revoked tokens, with the time */
    assert_int_equal(store_token_list(f->st, 0, &v, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_true(v[0].revoked_at == 200 && v[1].revoked_at == 202 && v[2].revoked_at == 0);
    store_tokens_free(v, n);
    assert_int_equal(store_token_list(f->st, 1, &v, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "frank");
    store_tokens_free(v, n);
    /* a revoked name may be given again; the old token stays dead */
    free(t1);
    t1 = make(f, "dave", AUTH_ADMIN, &id3);
    assert_true(id3 > id2);
    assert_int_equal(auth_token_verify(f->st, f->key, t1, &p, &e), 0);
    assert_int_equal(p.role, AUTH_ADMIN);
    free(t1);
    free(t2);
    free(t3);
}

static void test_name_rules(void **state)
{
    static const char *const bad[] = {"",    "a b", "name/x", "caf\xc3\xa9",
                                      "x:y", "123", "0",      "st_x"};
    struct fixture *f = *state;
    static char dummy[] = "x";
    char long_name[80], *tok;
    int64_t id;
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        tok = dummy; /* must be reset to NULL */
        assert_int_equal(
            auth_token_create(f->st, f->key, bad[i], AUTH_VIEWER, 1, &tok, &id, &e),
            ST_EINVAL);
        assert_null(tok);
        assert_int_equal(id, 0);
    }
    assert_int_equal(
        auth_token_create(f->st, f->key, NULL, AUTH_VIEWER, 1, &tok, &id, &e), ST_EINVAL);
    memset(long_name, 'n', 64);
    long_name[64] = '\0';
    assert_int_equal(
        auth_token_create(f->st, f->key, long_name, AUTH_VIEWER, 1, &tok, &id, &e),
        ST_EINVAL);
    long_name[63] = '\0'; /* 63 is the longest */
    free(make(f, long_name, AUTH_VIEWER, NULL));
    free(make(f, "Ci.bot_2-x", AUTH_VIEWER, NULL));
    free(make(f, "2fa", AUTH_VIEWER, NULL));
    /* no role, or a number that is none */
    assert_int_equal(auth_token_create(f->st, f->key, "r", AUTH_NONE, 1, &tok, &id, &e),
                     ST_EINVAL);
    assert_int_equal(
        auth_token_create(f->st, f->key, "r", (enum auth_role)7, 1, &tok, &id, &e),
        ST_EINVAL);
    /* a live name is taken */
    assert_int_equal(
        auth_token_create(f->st, f->key, "2fa", AUTH_ADMIN, 1, &tok, &id, &e),
        ST_EEXISTS);
    assert_null(tok);
    assert_non_null(strstr(e.msg, "a token named '2fa' already exists"));
    assert_null(strstr(e.msg, "st_"));
}

/* The principal's name fits a name of the longest length. */
static void test_principal_name(void **state)
{
    struct fixture *f = *state;
    char name[64], *t;
    struct auth_principal p;
    struct err e;

    memset(name, 'q', 63);
    name[63] = '\0';
    t = make(f, name, AUTH_MEMBER, NULL);
    err_clear(&e);
    assert_int_equal(auth_token_verify(f->st, f->key, t, &p, &e), 0);
    assert_string_equal(p.name, name);
    free(t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define M(fn) cmocka_unit_test_setup_teardown(fn, setup_mem, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_secret_made_owner_only),
        cmocka_unit_test(test_secret_mode_refused),
        cmocka_unit_test(test_secret_damaged),
        cmocka_unit_test(test_secret_made_once),
        T(test_create_verify),
        T(test_wrong_token),
        T(test_malformed_token),
        T(test_revoke),
        T(test_name_rules),
        T(test_principal_name),
        M(test_create_verify),
        M(test_wrong_token),
        M(test_malformed_token),
        M(test_revoke),
        M(test_name_rules),
        M(test_principal_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
