/*
 * spec.h - a workload spec: what to run and what it needs.
 *
 * The file format is a compatible subset of SkyPilot's task YAML (name,
 * resources, num_nodes, setup, run, envs, workdir, ...) plus Stratus fields
 * under a `stratus:` key.  Known SkyPilot keys that Stratus does not honour yet
 * are accepted with a warning; unknown keys are errors with a suggestion.
 * Launch options (ports, image_id, disk_tier, accelerator_args, file_mounts)
 * are kept for the driver (spec_launch_opts()); a file_mounts bucket sets
 * data_cloud (region unknown: the planner prices egress by cloud).
 *
 * resources.accelerators may be "H100:8", a list ["H100:8", "A100-80GB:8"] or
 * a set {H100: 8, A100-80GB: 8}; a list/set, `any_of` and `ordered` all become
 * alternatives (struct spec_res), each a full set of resource constraints.
 *
 * Limits on outside input: a spec file is at most SPEC_MAX_BYTES, asks for at
 * most SPEC_MAX_NUM_NODES nodes and expands to at most SPEC_MAX_ALTERNATIVES
 * alternatives; spec->warnings keeps at most SPEC_MAX_WARNINGS entries plus one
 * line saying how many more there were.
 */
#ifndef STRATUS_SPEC_H
#define STRATUS_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

#define SPEC_MAX_BYTES ((size_t)1 << 20)
#define SPEC_MAX_NUM_NODES 4096
#define SPEC_MAX_ALTERNATIVES 256
#define SPEC_MAX_WARNINGS 64

enum spec_kind { SPEC_KIND_TRAIN, SPEC_KIND_BATCH, SPEC_KIND_INFER, SPEC_KIND__N };

enum spec_recovery {
    SPEC_RECOVERY_FAILOVER,          /* relaunch; the same region may be retried */
    SPEC_RECOVERY_EAGER_NEXT_REGION  /* relaunch elsewhere first */
};

/* One alternative set of resource constraints. NULL/0/-1 mean "any". */
struct spec_res {
    char *accelerator;     /* as written ("H100", "tpu-v5p-8"); NULL = none asked */
    int acc_count;         /* per node; 0 when no accelerator; 1 for a share */
    double acc_part;       /* a share of one accelerator ("L4:0.5"); 0 = whole ones */
    char *cloud;           /* lower case; NULL = any */
    char *region;          /* NULL = any */
    char *zone;            /* NULL = any */
    char *instance_type;   /* NULL = any */
    int use_spot;          /* -1 unset (policy decides), 0 on-demand only, 1 spot only */
    double cpus;           /* 0 = any */
    int cpus_exact;        /* "8" = exactly 8 (SkyPilot); "8+" = at least 8 */
    double memory_gib;     /* 0 = any */
    int memory_exact;
    double disk_gb;        /* 0 = default; passed to the driver (every instance
                              takes any boot disk, so it selects no offer) */
    double mem_per_cpu;    /* memory at least this many GiB per vCPU; 0 = no
                              ratio (SkyPilot's default for CPU work: 4) */
    size_t line;           /* where this alternative was written; 0 = nowhere
                              (the spec has no resources at all) */
    size_t loc_line, loc_col; /* where its location was written; 0 = nowhere */
    size_t acc_line, acc_col; /* where its accelerator was written; 0 = nowhere */
};

struct svc_spec; /* spec/service.h */

/* One file_mounts entry: a local path copied to the node, or a bucket. */
struct spec_mount {
    char *dst;     /* where it appears on the node, as written */
    char *src;     /* a local path or a bucket URL, as written */
    int is_bucket; /* src is a URL (s3://, gs://, https://...blob...) */
    char *cloud;   /* the bucket's cloud; NULL = local or unknown */
};

/* image_id: one image, or one per region (SkyPilot: then only those regions
 * may be used). */
struct spec_image {
    char *region; /* NULL = every region */
    char *image;  /* as written ("ami-...", "docker:ubuntu:22.04") */
};

struct spec_env {
    char *key, *value;     /* value is the text as written ("1e-4", "true") */
    int unset;             /* declared without a value ("HF_TOKEN:"): SkyPilot
                              expects it at launch (--env); value is "" */
    char *secret;          /* the name of the team's secret whose value the
                              variable gets at launch, never before
                              (envs: {K: {secret: NAME}}, or SkyPilot's
                              secrets: {K: null}); NULL = a plain value.
                              value is "" for a secret */
    size_t line, col;      /* where the variable was written */
};

struct spec {
    char *path;                /* the file (owned) */
    char *name;                /* "name:", or the file's base name without .yaml */
    struct spec_res *res;      /* alternatives, at least one */
    size_t nres;
    int ordered;               /* alternatives are in preference order (`ordered:`
                                  or an accelerators list); else the planner
                                  picks the cheapest */
    int num_nodes;             /* >= 1 */
    char *setup, *run, *workdir; /* may be NULL */
    struct spec_env *envs;
    size_t nenvs;

    /* stratus: */
    enum spec_kind kind;       /* default batch; infer when a SkyPilot `service:`
                                  section is present and no kind is given */
    unsigned short data_unsized;     /* stratus.data gives no size_gb (1), or a
                                      dataset 0 GB (2): refused at a new submit
                                      (spec_check_new), not when a stored job is
                                      read again (it was accepted); 0 = sized */
    unsigned short data_unsized_col; /* ... where (the column; 65535 past it) */
    char *team;                /* NULL = none */
    int priority;              /* higher first; default 0 */
    uint32_t data_unsized_line; /* (in holes of this struct: a simulation holds
                                  a spec per job) */
    double duration_s;         /* expected run time; 0 = unknown */
    double deadline_s;         /* relative to submission; 0 = none */
    double deadline_at;        /* absolute unix time when given as a date; 0 = none */
    uint32_t deadline_line, deadline_col; /* where a date's deadline was written */
    uint32_t team_line, team_col; /* where stratus.team was written; 0 = nowhere */
    double ckpt_interval_s;    /* 0 = no checkpoints */
    double ckpt_restore_s;     /* time to restore from a checkpoint */
    char *data_cloud;          /* where the data sits; NULL = nowhere in particular */
    char *data_region;
    double data_gb;            /* size of that data in GB (10^9 bytes) */
    size_t data_line, data_col; /* where stratus.data.location was written;
                                   0 = nowhere (a bucket's, or none) */
    char *data_name;            /* stratus.data.dataset: jobs naming one dataset
                                   share its replicas; NULL = the job's own data */
    enum spec_recovery recovery; /* default failover; also taken from SkyPilot's
                                    resources.job_recovery.strategy */
    int max_restarts;          /* default 3 */

    /* Launch options the planner does not use; the driver honours what it
     * can (struct attempt in driver/driver.h). */
    char *ports;               /* "8080,10022-10040"; NULL = none */
    struct spec_image *images; /* resources.image_id */
    size_t nimages;
    char *disk_tier;           /* low, medium, high, ultra, best; NULL = default */
    char *accelerator_args;    /* "key=value,..." as written; NULL = none */
    struct spec_mount *mounts; /* file_mounts */
    size_t nmounts;

    struct svc_spec *service;  /* the `service:` section (spec/service.h) with
                                  `stratus: service:` applied; NULL: none */

    char **warnings;           /* "file:line:col: ..." for things not honoured */
    size_t nwarnings;
};

/* Load and validate the spec in file `path`; on success *out is a new spec the
 * caller frees with spec_free(), on error *out is NULL and e says
 * "path:line:col: cause (suggestion)". */
int spec_load_file(struct spec **out, const char *path, struct err *e);
/* As spec_load_file() for len bytes at data (need not be NUL-terminated);
 * `name` stands for the file in messages and gives the default spec name. */
int spec_load_mem(struct spec **out, const char *name, const char *data, size_t len,
                  struct err *e);
/* Free a spec and everything it owns; NULL is a no-op. */
void spec_free(struct spec *s);
/* What a new workload must give beyond what a stored one was held to when
 * it was submitted (rules added since are not applied to jobs already in
 * a store): stratus.data's size_gb.  0, or an error at its file:line:col. */
int spec_check_new(const struct spec *s, struct err *e);
/* Whether s lists alternatives that may run at different speeds (another
 * accelerator or count, or only an instance type named): then its run time
 * depends on the one it gets, and a deadline shorter than `duration` (the
 * first's run) may still be met (sched_deadline_check, with the catalog). */
int spec_alts_differ(const struct spec *s);

/* The image for a placement in `region` (NULL when the spec names none);
 * a per-region map without that region also gives NULL. */
const char *spec_image_for(const struct spec *s, const char *region);
/* 1 when `region` may be used under the spec's per-region image map. */
int spec_region_has_image(const struct spec *s, const char *region);
/* Are a and b one dataset size in GB: within half a GB, or 0.1% of the
 * larger?  A size is an estimate that prices moves: 2TiB (2,199.02 GB) and
 * 2199, or 745.058GiB and 800, name one set of data; 200 and 201 do not. */
int spec_same_gb(double a, double b);

struct attempt;
/* Fill the launch options of a (driver/driver.h: ports, image for `region`,
 * disk, file_mounts) from s; strings stay owned by s. */
void spec_launch_opts(const struct spec *s, const char *cloud, const char *region,
                      struct attempt *a);

/* 1 when name may name a secret (docs/secrets.md): 1 to SPEC_SECRET_NAME_MAX
 * bytes of letters, digits, '_', '-' and '.', starting with a letter, digit
 * or '_' (safe in a URL path, a file name and a message). */
#define SPEC_SECRET_NAME_MAX 128
int spec_secret_name_ok(const char *name);
/* The number of s's variables that refer to a secret. */
size_t spec_secret_refs(const struct spec *s);

/* "train", "batch", "infer"; "?" for a value out of range. */
const char *spec_kind_name(enum spec_kind k);
/* -1 when the name is not a kind. */
int spec_kind_parse(const char *s);
/* "failover", "eager-next-region"; "?" for a value out of range. */
const char *spec_recovery_name(enum spec_recovery r);

#endif
