/*
 * sched_group.c - pipelines and job groups in the controller (spec/pipeline.h).
 *
 * Every stage is a job of the core: placed on its own by the planner under
 * its policy, failed over, recovered and billed as any job.  What this file
 * adds is the order between them:
 *  - pipeline (serial): a stage after the first is "held" (never placed)
 *    while any earlier stage of its group is active; when an earlier stage
 *    ends other than SUCCEEDED, every later active stage ends at once,
 *    FAILED (or CANCELLED, after a cancel) with a reason naming that stage:
 *    "stage 1 'prep' failed: exit 3".  So a stage starts only when every
 *    stage before it succeeded.
 *  - job group (parallel): every task is placed as soon as it is submitted,
 *    each on its own (not all-or-none: a task waiting for capacity does not
 *    hold the others back).  When no primary task is active any more, the
 *    tasks still active (auxiliary ones) are stopped, CANCELLED; when a
 *    task FAILS, the others are stopped too (they run together and talk to
 *    each other: one without the other is of no use).
 *
 * Crash safety needs no state of its own: whether a stage is held follows
 * from the store (an earlier stage of its group still active), and a stage's
 * end and the ends it causes are written in the same step's transaction.
 * A stage held at a restart is released at the first step if its earlier
 * stages all ended (they can only have succeeded: a failure would have
 * ended it in the same transaction).
 *
 * Outputs are handed on through a directory per group on the controller's
 * machine, beside the checkpoints: $ckpt_root/group-G/stage-K.  A stage
 * gets STRATUS_PIPELINE_DIR (the group's directory), STRATUS_OUTPUT_DIR (its
 * own), STRATUS_PREV_OUTPUT (the stage before's; a job group's tasks get
 * none), STRATUS_STAGE and STRATUS_GROUP_ID.  The local clouds run on this
 * machine, so every stage sees them; a driver of remote machines would
 * have to carry them (not done yet).
 */
#include "sched_int.h"
#include "../spec/pipeline.h"
#include "../util/fsutil.h"
#include "../util/log.h"
#include "../util/xmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int active(const struct sjob *sj)
{
    return !job_state_terminal(sj->j.state);
}

void sched_group_added(struct sched *s, struct sjob *sj)
{
    if (sj->j.group_mode != PIPE_SERIAL || sj->j.stage <= 1 || sj->j.state != JOB_PENDING ||
        sj->j.nattempts > 0)
        return;
    sj->held = 1;
    s->nheld++;
    s->groups_due = 1;
}

void sched_group_ended(struct sched *s, struct sjob *sj)
{
    if (sj->held) {
        sj->held = 0;
        s->nheld--;
    }
    if (sj->j.group_id == 0)
        return;
    s->gended = xgrow(s->gended, &s->gended_cap, s->ngended + 1, sizeof(*s->gended));
    s->gended[s->ngended++] = sj;
    s->groups_due = 1;
}

/* "stage 1 'prep' failed: exit 3", "... was cancelled", in buf. */
static const char *why_ended(const struct store_job *j, const char *what, char *buf, size_t n)
{
    const char *name = j->name ? j->name : "";

    if (j->state == JOB_CANCELLED)
        snprintf(buf, n, "%s %d '%s' was cancelled", what, j->stage, name);
    else if (j->exit_code > 0)
        snprintf(buf, n, "%s %d '%s' failed: exit %d", what, j->stage, name, j->exit_code);
    else
        snprintf(buf, n, "%s %d '%s' failed: %s", what, j->stage, name,
                 j->reason ? j->reason : "");
    return buf;
}

/* End an active stage of a group because of another: its live attempt (a
 * job group's task runs) is stopped and billed. */
static int end_stage(struct sched *s, struct sjob *sj, int to, const char *why, struct err *e)
{
    int rc = sj->j.cur_attempt ? sched_end_attempt(s, sj, ATT_END_CANCELLED, -1, 0, e) : 0;

    return rc != 0 ? rc : sched_transition(s, sj, to, e, "%s", why);
}

/* A pipeline stage ended other than SUCCEEDED: so do the later ones. */
static int pipeline_stop(struct sched *s, const struct sjob *ended, struct err *e)
{
    int to = ended->j.state == JOB_CANCELLED ? JOB_CANCELLED : JOB_FAILED;
    char why[384];
    size_t i;
    int rc = 0;

    why_ended(&ended->j, "stage", why, sizeof(why));
    for (i = 0; rc == 0 && i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];

        if (sj->j.group_id == ended->j.group_id && sj->j.stage > ended->j.stage && active(sj))
            rc = end_stage(s, sj, to, why, e);
    }
    return rc;
}

/* A job group's task ended: stop the others when it failed or when no
 * primary task is left. */
static int group_check(struct sched *s, const struct sjob *ended, struct err *e)
{
    char why[384];
    size_t i;
    int rc = 0, primaries = 0;

    for (i = 0; i < s->njobs; i++)
        primaries += s->jobs[i]->j.group_id == ended->j.group_id &&
                     s->jobs[i]->j.group_primary && active(s->jobs[i]);
    if (ended->j.state == JOB_FAILED)
        why_ended(&ended->j, "task", why, sizeof(why));
    else if (primaries == 0)
        snprintf(why, sizeof(why), "the primary tasks of job group '%s' have ended",
                 ended->j.group_name ? ended->j.group_name : "");
    else
        return 0;
    for (i = 0; rc == 0 && i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];

        if (sj->j.group_id == ended->j.group_id && active(sj))
            rc = end_stage(s, sj, JOB_CANCELLED, why, e);
    }
    return rc;
}

/* What the store says of the stages before held stage h (this step's
 * writes included): *verdict 1 when they all succeeded, 0 while one is
 * active, -1 when one ended otherwise (its reason in why, and *to the
 * state h ends in: FAILED, or CANCELLED after a cancel).  The store, not
 * memory, is asked: a stage that ended before a restart (or failed to load)
 * is in no controller's memory.  A group's stages were inserted in stage
 * order in one transaction, so they are the group's jobs with ids from the
 * group's id up to h's. */
static int earlier_stages(struct sched *s, const struct sjob *h, int *verdict, int *to,
                          char *why, size_t n, struct err *e)
{
    struct store_job *v = NULL;
    size_t i, k = 0;
    int rc;

    *verdict = 1;
    rc = store_job_page(s->p.store, h->j.group_id - 1, (size_t)(h->j.id - h->j.group_id), &v,
                        &k, e);
    for (i = 0; rc == 0 && i < k && *verdict >= 0; i++) {
        const struct store_job *j = &v[i];

        if (j->group_id != h->j.group_id || j->stage >= h->j.stage || j->id >= h->j.id)
            continue;
        if (!job_state_terminal(j->state))
            *verdict = 0;
        else if (j->state != JOB_SUCCEEDED) {
            *verdict = -1;
            *to = j->state == JOB_CANCELLED ? JOB_CANCELLED : JOB_FAILED;
            why_ended(j, "stage", why, n);
        }
    }
    store_jobs_free(v, k);
    return rc;
}

/* Held stages whose earlier stages all succeeded may be placed; those
 * after a stage that failed or was cancelled end with it. */
static int release_held(struct sched *s, struct err *e)
{
    char why[384];
    size_t i;
    int rc = 0, verdict, to = JOB_FAILED;

    for (i = 0; rc == 0 && s->nheld > 0 && i < s->njobs; i++) {
        struct sjob *sj = s->jobs[i];

        if (!sj->held || !active(sj))
            continue;
        rc = earlier_stages(s, sj, &verdict, &to, why, sizeof(why), e);
        if (rc != 0 || verdict == 0)
            continue;
        if (verdict < 0) {
            rc = end_stage(s, sj, to, why, e);
            continue;
        }
        sj->held = 0;
        s->nheld--;
        sched_wait_add(s, sj);
        s->groups_again = 1;
        rc = sched_log(s, sj, "stage", e, "stage %d: the stages before it succeeded; placing it",
                       sj->j.stage);
    }
    return rc;
}

int sched_groups(struct sched *s, struct err *e)
{
    size_t i;
    int rc = 0;

    if (!s->groups_due)
        return 0;
    s->groups_due = 0;
    /* ends caused here are appended and looked at in this same loop */
    for (i = 0; rc == 0 && i < s->ngended; i++) {
        const struct sjob *sj = s->gended[i];

        if (sj->j.group_mode == PIPE_SERIAL && sj->j.state != JOB_SUCCEEDED)
            rc = pipeline_stop(s, sj, e);
        else if (sj->j.group_mode == PIPE_PARALLEL)
            rc = group_check(s, sj, e);
    }
    s->ngended = 0;
    s->groups_due = 0;
    if (rc == 0)
        rc = release_held(s, e);
    return rc;
}

size_t sched_group_envs(const struct sched *s, const struct sjob *sj, struct driver_env *v,
                        char *vals[SCHED_GROUP_ENVS])
{
    const struct store_job *j = &sj->j;
    struct err e;
    size_t k = 0;

    memset(vals, 0, SCHED_GROUP_ENVS * sizeof(*vals));
    if (j->group_id == 0 || s->p.cfg.ckpt_root == NULL)
        return 0;
    vals[0] = xasprintf("%s/group-%lld", s->p.cfg.ckpt_root, (long long)j->group_id);
    vals[1] = xasprintf("%s/stage-%d", vals[0], j->stage);
    vals[2] = j->group_mode == PIPE_SERIAL && j->stage > 1
                  ? xasprintf("%s/stage-%d", vals[0], j->stage - 1)
                  : NULL;
    vals[3] = xasprintf("%d", j->stage);
    vals[4] = xasprintf("%lld", (long long)j->group_id);
    err_clear(&e);
    /* the stage's own directory (owner-only, as checkpoints): a failure is
     * the job's to see when it writes there, not a reason to not launch it */
    if (fs_mkdirs(vals[1], 0700, &e) != 0)
        log_error("job %lld: %s", (long long)j->id, e.msg);
    v[k++] = (struct driver_env){.key = "STRATUS_PIPELINE_DIR", .value = vals[0]};
    v[k++] = (struct driver_env){.key = "STRATUS_OUTPUT_DIR", .value = vals[1]};
    if (vals[2] != NULL)
        v[k++] = (struct driver_env){.key = "STRATUS_PREV_OUTPUT", .value = vals[2]};
    v[k++] = (struct driver_env){.key = "STRATUS_STAGE", .value = vals[3]};
    v[k++] = (struct driver_env){.key = "STRATUS_GROUP_ID", .value = vals[4]};
    return k;
}

void sched_group_envs_free(char *vals[SCHED_GROUP_ENVS])
{
    size_t i;

    for (i = 0; i < SCHED_GROUP_ENVS; i++)
        free(vals[i]);
}
