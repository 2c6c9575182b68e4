/*
 * slurm_job.c - what the slurm driver submits for an attempt: the JSON of
 * POST job/submit, the job's environment, and its batch script.
 *
 * Nothing that comes from a spec or a user - the job name, environment
 * names and values, setup and run, paths - is ever pasted into shell text:
 *
 *  - The JSON is built with jansson, which escapes every string; a value
 *    that is not UTF-8 is refused rather than passed on half-escaped.
 *  - Environment variables travel in the job's `environment` object, as
 *    data: Slurm hands them to the job with execve(), no shell reads them.
 *    The script uses them only as "$VAR" (no splitting, no globbing).
 *    A team's secret (driver_env.secret) goes the same way, in the
 *    submission's environment and nowhere else; Slurm keeps a job's
 *    environment in its job record (slurmctld's state; sacct too with
 *    AccountingStoreFlags=job_env), so the cluster's admins can read it
 *    (docs/secrets.md).
 *  - setup and run are base64 in the script ('[A-Za-z0-9+/=]*' inside
 *    single quotes cannot end the quotes), decoded on each node and given
 *    to `bash -c` as one argument: exactly the text of the spec, run by
 *    bash as the local driver runs it.
 *  - The program each node runs is a constant, passed through a quoted
 *    heredoc whose terminator it does not contain.
 *  - The job name Slurm sees is "stratus-<instance>-<attempt id>"; the
 *    spec's name goes to the comment, cut to printable ASCII.
 *
 * So the only things that vary in a script are numbers and base64.
 *
 * The batch script runs on the first node of the allocation: it finds the
 * nodes' addresses (and writes them, one a line, to <dir>/node-addrs for
 * the driver's node_addr: replaced whole by rename, so a reader never sees
 * half a file), then starts one task per node with srun; each task is a
 * node of the gang (its rank is SLURM_PROCID) and runs setup, then run,
 * in <dir>/node-<rank>/work, with its output in <dir>/node-<rank>/log.
 * --kill-on-bad-exit ends the gang when one node fails, as the controller
 * would.
 */
#include "slurm_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xmem.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define COMMENT_MAX 120

/* The program of one node (rank = SLURM_PROCID).  Its inputs are the
 * environment: STRATUS__DIR, STRATUS__SETUP_B64, STRATUS__RUN_B64 and
 * STRATUS__WORKDIR (a directory to copy in first), which it removes before
 * the job's own commands run. */
static const char node_program[] =
    "rank=${SLURM_PROCID:-0}\n"
    "export STRATUS_NODE_RANK=\"$rank\" SKYPILOT_NODE_RANK=\"$rank\"\n"
    "node=\"$STRATUS__DIR/node-$rank\"\n"
    "mkdir -p -- \"$node/work\" || exit 1\n"
    "exec >>\"$node/log\" 2>&1\n"
    "setup=$(printf '%s' \"$STRATUS__SETUP_B64\" | base64 -d) || exit 1\n"
    "run=$(printf '%s' \"$STRATUS__RUN_B64\" | base64 -d) || exit 1\n"
    "from=${STRATUS__WORKDIR:-}\n"
    "unset STRATUS__SETUP_B64 STRATUS__RUN_B64 STRATUS__NODE STRATUS__WORKDIR "
    "STRATUS__DIR\n"
    "if [ -n \"$from\" ]; then cp -a -- \"$from/.\" \"$node/work/\" || exit 1; fi\n"
    "cd -- \"$node/work\" || exit 1\n"
    "if [ -n \"$setup\" ]; then\n"
    "  bash -c \"$setup\"\n"
    "  code=$?\n"
    "  if [ \"$code\" -ne 0 ]; then\n"
    "    echo \"stratus: setup exited with code $code; run skipped\" >&2\n"
    "    exit \"$code\"\n"
    "  fi\n"
    "fi\n"
    "[ -n \"$run\" ] || exit 0\n"
    "exec bash -c \"$run\"\n";

/* ---- small pieces ------------------------------------------------------------ */

int slurm_env_key_ok(const char *k)
{
    size_t i;

    if (k == NULL ||
        !(k[0] == '_' || (k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z')))
        return 0;
    for (i = 1; k[i]; i++)
        if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
              (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
            return 0;
    return i < 256;
}

/* RFC 4648 base64 of s (NULL = ""); caller frees. */
static char *base64(const char *s)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), i, k = 0;
    char *out = xmalloc((n + 2) / 3 * 4 + 1);

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = tab[(v >> 6) & 63];
        out[k++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);

        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[k++] = '=';
    }
    out[k] = '\0';
    return out;
}

char *slurm_job_name(const char *prefix, int64_t attempt_id)
{
    return xasprintf("%s%" PRId64, prefix, attempt_id);
}

/* "stratus job 7 attempt 2: <name>", the name cut to printable ASCII. */
static char *comment(const struct attempt *a)
{
    char *c = xasprintf("stratus job %" PRId64 " attempt %d: %.*s", a->job_id, a->n,
                        COMMENT_MAX, a->job_name ? a->job_name : "");
    char *p;

    for (p = c; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
            *p = '?';
    return c;
}

/* ---- the batch script ---------------------------------------------------------- */

char *slurm_job_script(const struct attempt *a)
{
    char *setup = base64(a->setup), *run = base64(a->run), *s;

    s = xasprintf(
        "#!/bin/bash\n"
        "# Stratus attempt %" PRId64 " (job %" PRId64 ", attempt %d), %d node(s).\n"
        "# Generated by the slurm driver: only numbers and base64 vary from one\n"
        "# job to another, so no text of the job is ever parsed by this shell.\n"
        "export STRATUS__SETUP_B64='%s'\n"
        "export STRATUS__RUN_B64='%s'\n"
        "mkdir -p -- \"$STRATUS__DIR\" && exec >>\"$STRATUS__DIR/batch.log\" 2>&1\n"
        "ips=$(scontrol -o show node \"$SLURM_JOB_NODELIST\" 2>/dev/null |\n"
        "  sed -n 's/.*NodeAddr=\\([^ ]*\\).*/\\1/p')\n"
        "[ -n \"$ips\" ] || ips=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\")\n"
        "export STRATUS_NODE_IPS=\"$ips\" SKYPILOT_NODE_IPS=\"$ips\"\n"
        "printf '%%s\\n' \"$ips\" >\"$STRATUS__DIR/" SLURM_NODE_ADDRS ".tmp\" &&\n"
        "  mv -f -- \"$STRATUS__DIR/" SLURM_NODE_ADDRS ".tmp\" \\\n"
        "  \"$STRATUS__DIR/" SLURM_NODE_ADDRS "\"\n"
        "read -r -d '' STRATUS__NODE <<'STRATUS_NODE_PROGRAM'\n"
        "%s"
        "STRATUS_NODE_PROGRAM\n"
        "export STRATUS__NODE\n"
        "exec srun --nodes=%d --ntasks=%d --ntasks-per-node=1 --kill-on-bad-exit=1 \\\n"
        "  bash -c \"$STRATUS__NODE\"\n",
        a->id, a->job_id, a->n, a->nodes, setup, run, node_program, a->nodes, a->nodes);
    free(setup);
    free(run);
    return s;
}

/* ---- the JSON ------------------------------------------------------------------ */

/* o[k] = v as a JSON string; -1 when v is not UTF-8. */
static int set_str(json_t *o, const char *k, const char *v)
{
    json_t *s = json_string(v);

    return s ? json_object_set_new(o, k, s) : -1;
}

static void set_fmt(json_t *o, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_fmt(json_t *o, const char *k, const char *fmt, ...)
{
    char v[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    BUG_ON(set_str(o, k, v) != 0); /* numbers and names checked at launch */
}

/* The spec's variables; 0, or an error naming the bad one. */
static int spec_env(json_t *env, const struct attempt *a, struct err *e)
{
    size_t i, bytes = 0;

    for (i = 0; i < a->nenvs; i++) {
        const struct driver_env *v = &a->envs[i];

        if (!slurm_env_key_ok(v->key) || v->value == NULL)
            return err_set(e, ST_EINVAL, "bad environment variable name '%.60s'",
                           v->key ? v->key : "(null)");
        if (driver_env_reserved(v->key))
            continue;
        bytes += strlen(v->key) + strlen(v->value) + 2;
        if (bytes > SLURM_ENV_MAX)
            return err_set(e, ST_ETOOBIG,
                           "attempt %" PRId64 ": environment over %zu bytes", a->id,
                           SLURM_ENV_MAX);
        if (set_str(env, v->key, v->value) != 0)
            return err_set(e, ST_EINVAL, "environment variable %s is not valid UTF-8",
                           v->key);
    }
    return 0;
}

static json_t *environment(const struct attempt *a, const struct slurm_cluster *cl,
                           const char *dir, struct err *e)
{
    json_t *env = json_object();
    int gpus = cl->gpus >= 0 ? cl->gpus : a->acc_count;

    set_fmt(env, "PATH", "%s", DEFAULT_PATH); /* the spec may set its own */
    if (spec_env(env, a, e) != 0) {
        json_decref(env);
        return NULL;
    }
    set_fmt(env, "STRATUS_JOB_ID", "%" PRId64, a->job_id);
    set_fmt(env, "STRATUS_ATTEMPT", "%d", a->n);
    set_fmt(env, "STRATUS_ATTEMPT_ID", "%" PRId64, a->id);
    set_fmt(env, "STRATUS_NUM_NODES", "%d", a->nodes);
    set_fmt(env, "STRATUS_CLOUD", "%s", a->cloud);
    set_fmt(env, "STRATUS_REGION", "%s", a->region);
    set_fmt(env, "STRATUS_ZONE", "%s", a->zone ? a->zone : "");
    set_fmt(env, "STRATUS_SPOT", "%d", a->spot ? 1 : 0);
    set_fmt(env, "SKYPILOT_NUM_NODES", "%d", a->nodes);
    set_fmt(env, "SKYPILOT_TASK_ID", "stratus-%" PRId64 "-%d", a->job_id, a->n);
    set_fmt(env, "SKYPILOT_NUM_GPUS_PER_NODE", "%d", gpus);
    if ((a->ckpt_dir && set_str(env, "STRATUS_CHECKPOINT_DIR", a->ckpt_dir) != 0) ||
        set_str(env, "STRATUS__DIR", dir) != 0 ||
        (a->workdir && set_str(env, "STRATUS__WORKDIR", a->workdir) != 0)) {
        json_decref(env);
        err_set(e, ST_EINVAL, "attempt %" PRId64 ": a path is not valid UTF-8", a->id);
        return NULL;
    }
    return env;
}

static json_t *job_desc(const struct attempt *a, const struct slurm_cluster *cl,
                        const char *name, json_t *env)
{
    json_t *job = json_object();
    int gpus = cl->gpus >= 0 ? cl->gpus : a->acc_count;
    char *c = comment(a);

    BUG_ON(set_str(job, "name", name) != 0 ||
           set_str(job, "comment", c) != 0); /* ASCII */
    json_object_set_new(job, "nodes", json_integer(a->nodes));
    set_fmt(job, "exclusive", "exclusive");
    /* Stratus decides where a job recovers: Slurm must not requeue it. */
    json_object_set_new(job, "no_requeue", json_true());
    if (gpus > 0)
        set_fmt(job, "gres", "gpu:%d", gpus);
    /* The clusters file is YAML, which libyaml accepts only as UTF-8. */
    BUG_ON(cl->partition && set_str(job, "partition", cl->partition) != 0);
    BUG_ON(cl->account && set_str(job, "account", cl->account) != 0);
    BUG_ON(cl->qos && set_str(job, "qos", cl->qos) != 0);
    set_fmt(job, "current_working_directory", "/tmp");
    set_fmt(job, "standard_output", "/dev/null"); /* the script redirects itself */
    json_object_set_new(job, "environment", env);
    free(c);
    return job;
}

int slurm_job_body(const struct attempt *a, const struct slurm_cluster *cl,
                   const char *name, const char *dir, char **body, struct err *e)
{
    json_t *env, *root;
    char *script;

    *body = NULL;
    if ((a->setup && strlen(a->setup) > SLURM_SCRIPT_MAX) ||
        (a->run && strlen(a->run) > SLURM_SCRIPT_MAX))
        return err_set(e, ST_ETOOBIG,
                       "attempt %" PRId64
                       ": setup and run may hold %zu bytes each on Slurm",
                       a->id, SLURM_SCRIPT_MAX);
    if ((env = environment(a, cl, dir, e)) == NULL)
        return e->code;
    script = slurm_job_script(a);
    root = json_object();
    json_object_set_new(root, "job", job_desc(a, cl, name, env));
    BUG_ON(set_str(root, "script", script) != 0); /* ASCII by construction */
    *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    free(script);
    BUG_ON(*body == NULL);
    return 0;
}
