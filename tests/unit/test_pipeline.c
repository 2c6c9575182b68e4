/*
 * test_pipeline.c - unit tests of multi-document files: the YAML stream
 * loader (src/util/yamlx.c) and pipelines and job groups
 * (src/spec/pipeline.c).
 *
 * Layout: helpers; the stream loader (ranges, a single document as before);
 * good pipelines and job groups; every error with its file:line; the
 * example under examples/pipeline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/pipeline.h"
#include "spec/spec.h"
#include "util/xmem.h"
#include "util/yamlx.h"

/* ---- helpers ---- */

static struct pipeline *load_ok(const char *yaml)
{
    struct pipeline *p = NULL;
    struct err e;

    err_clear(&e);
    if (pipeline_load_mem(&p, "dir/flow.yaml", yaml, strlen(yaml), &e) != 0)
        fail_msg("unexpected error for:\n%s\n-> %s", yaml, e.msg);
    assert_non_null(p);
    return p;
}

/* The message of a file that must fail (static buffer). */
static const char *load_err(const char *yaml)
{
    static struct err e;
    struct pipeline *p = NULL;
    int rc;

    err_clear(&e);
    rc = pipeline_load_mem(&p, "dir/flow.yaml", yaml, strlen(yaml), &e);
    if (rc == 0)
        fail_msg("expected an error for:\n%s", yaml);
    assert_null(p);
    assert_true(rc < 0);
    return e.msg;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* ---- the stream loader ---- */

static void test_stream_ranges(void **state)
{
    static const char text[] = "# c\nname: a\n---\nname: b\nrun: x\n---\nname: c\n";
    struct ydoc *d = NULL;
    size_t n = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(ydoc_load_stream(&d, &n, "s.yaml", text, strlen(text), 8, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(d[0].start, 0);
    assert_int_equal(d[0].start_line, 1);
    assert_int_equal(d[1].start, strlen("# c\nname: a\n"));
    assert_int_equal(d[1].start_line, 3);
    assert_int_equal(d[0].end, d[1].start);
    assert_int_equal(d[2].start_line, 6);
    assert_int_equal(d[2].end, strlen(text));
    assert_string_equal(ymap_get(d[1].root, "run")->str, "x");
    assert_int_equal(ymap_get(d[1].root, "run")->line, 5); /* lines of the file */
    ydocs_free(d, n);
}

static void test_stream_limit(void **state)
{
    static const char text[] = "a: 1\n---\na: 2\n---\na: 3\n";
    struct ydoc *d = NULL;
    size_t n = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(ydoc_load_stream(&d, &n, "s.yaml", text, strlen(text), 2, &e), ST_ETOOBIG);
    assert_null(d);
    assert_string_equal(e.msg, "s.yaml:4:1: more than 2 YAML documents in one file");
}

/* One document loads as before; a second is still refused by ydoc_load_mem
 * (every single-document parser: policies, specs). */
static void test_single_document_unchanged(void **state)
{
    static const char two[] = "a: 1\n---\nb: 2\n";
    static const char one[] = "---\na: 1\n";
    struct ydoc d;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(ydoc_load_mem(&d, "one.yaml", one, strlen(one), &e), 0);
    assert_string_equal(ymap_get(d.root, "a")->str, "1");
    ydoc_free(&d);
    assert_int_equal(ydoc_load_mem(&d, "two.yaml", two, strlen(two), &e), ST_EPARSE);
    assert_string_equal(e.msg, "two.yaml:2:1: more than one YAML document ('---'); a file "
                               "holds one document");
    assert_int_equal(ydoc_load_mem(&d, "empty.yaml", "", 0, &e), 0);
    assert_null(d.root);
    ydoc_free(&d);
}

static void test_is_multi(void **state)
{
    static const char *const multi[] = {"name: p\n---\nrun: a\n", "run: a\n---\nrun: b\n"};
    static const char *const single[] = {"run: a\n", "---\nrun: a\n", "run: a\n---\n",
                                         "run: [\n---\nrun: b\n", ""};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
        assert_true(pipeline_is_multi(multi[i], strlen(multi[i])));
    for (i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        assert_false(pipeline_is_multi(single[i], strlen(single[i])));
}

/* ---- good files ---- */

static void test_pipeline_with_name_header(void **state)
{
    struct pipeline *p = load_ok("name: flow\n"
                                 "---\n"
                                 "name: prep\n"
                                 "resources: {cpus: 4}\n"
                                 "run: echo prep\n"
                                 "---\n"
                                 "name: train\n"
                                 "resources: {accelerators: H100:8}\n"
                                 "stratus: {kind: train}\n"
                                 "run: echo train\n"
                                 "---\n"
                                 "run: echo eval\n"
                                 "---\n");
    (void)state;
    assert_int_equal(p->mode, PIPE_SERIAL);
    assert_string_equal(p->name, "flow");
    assert_int_equal(p->n, 3);
    assert_string_equal(p->stages[0].spec->name, "prep");
    assert_null(p->stages[0].spec->res[0].accelerator);
    assert_string_equal(p->stages[1].spec->name, "train");
    assert_int_equal(p->stages[1].spec->kind, SPEC_KIND_TRAIN);
    assert_string_equal(p->stages[1].spec->res[0].accelerator, "H100");
    assert_string_equal(p->stages[2].spec->name, "flow-3"); /* named after the pipeline */
    assert_int_equal(p->stages[1].line, 6);
    /* the stage's text keeps the file's line numbers */
    assert_int_equal(strncmp(p->stages[1].text, "\n\n\n\n\n---\nname: train\n", 20), 0);
    assert_true(p->stages[0].primary && p->stages[2].primary);
    pipeline_free(p);
}

static void test_pipeline_without_header(void **state)
{
    struct pipeline *p = load_ok("name: a\nrun: x\n---\nname: b\nrun: y\n");

    (void)state;
    assert_int_equal(p->mode, PIPE_SERIAL);
    assert_string_equal(p->name, "flow"); /* the file's base name */
    assert_int_equal(p->n, 2);
    assert_string_equal(p->stages[0].spec->name, "a");
    pipeline_free(p);
}

static void test_job_group(void **state)
{
    struct pipeline *p = load_ok("name: rl\n"
                                 "execution: parallel\n"
                                 "primary_tasks: [trainer]\n"
                                 "---\n"
                                 "name: trainer\n"
                                 "run: train\n"
                                 "---\n"
                                 "name: replay\n"
                                 "run: serve\n");
    (void)state;
    assert_int_equal(p->mode, PIPE_PARALLEL);
    assert_string_equal(p->name, "rl");
    assert_int_equal(p->n, 2);
    assert_true(p->stages[0].primary);
    assert_false(p->stages[1].primary);
    pipeline_free(p);
    p = load_ok("name: g\nexecution: parallel\n---\nname: a\nrun: x\n---\nname: b\nrun: y\n");
    assert_true(p->stages[0].primary && p->stages[1].primary); /* none named: all */
    pipeline_free(p);
}

static void test_stage_warning_has_file_line(void **state)
{
    struct pipeline *p = load_ok("name: f\n---\nrun: a\n---\nname: b\n");

    (void)state;
    assert_int_equal(p->stages[1].spec->nwarnings, 1);
    assert_contains(p->stages[1].spec->warnings[0], "dir/flow.yaml:5:");
    assert_contains(p->stages[1].spec->warnings[0], "no 'run:'");
    pipeline_free(p);
}

/* ---- errors: file:line, what, what to do ---- */

static void test_error_in_stage_keeps_line(void **state)
{
    const char *m = load_err("name: f\n"
                             "---\n"
                             "run: a\n"
                             "---\n"
                             "run: b\n"
                             "resources:\n"
                             "  acelerators: H100\n");
    (void)state;
    assert_contains(m, "dir/flow.yaml:7:3: unknown key 'acelerators'");
}

static void test_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"name: g\nexecution: sometimes\n---\nrun: a\n",
         "dir/flow.yaml:2:12: execution must be 'parallel' (a job group: tasks run together) or "
         "'serial' (a pipeline: tasks run in order), not 'sometimes'"},
        {"name: g\nexecution: parallel\nrun: a\n---\nrun: b\n",
         "dir/flow.yaml:3:1: unknown key 'run' in the header document (it holds name, "
         "execution and primary_tasks; each task follows after a '---' line)"},
        {"name: g\nexecution: parallel\n---\n",
         "dir/flow.yaml:1:1: the header is followed by no task; write each task after a '---' "
         "line"},
        {"name: g\nexecution: parallel\nprimary_tasks: [trainr]\n---\nname: trainer\nrun: a\n"
         "---\nname: b\nrun: c\n",
         "dir/flow.yaml:3:17: primary_tasks names 'trainr', but no task is called that (did "
         "you mean 'trainer'?)"},
        {"name: g\nexecution: parallel\nprimary_tasks: x\n---\nrun: a\n---\nrun: b\n",
         "dir/flow.yaml:3:16: primary_tasks must be a list, not a single value"},
        {"name: g\nexecution: serial\nprimary_tasks: [a]\n---\nname: a\nrun: a\n",
         "dir/flow.yaml:3:16: primary_tasks belongs to a job group; add 'execution: parallel'"},
        {"name: g\nexecution: parallel\n---\nname: t\nrun: a\n---\nname: t\nrun: b\n",
         "dir/flow.yaml:6:1: two tasks of the job group are called 't' (the other starts at "
         "line 3); give each task its own name:"},
        {"run: a\n---\nrun: [b\n", "dir/flow.yaml:"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_contains(load_err(cases[i].yaml), cases[i].want);
}

static void test_too_many_stages(void **state)
{
    size_t i, n = 0, cap = 16 * (PIPELINE_MAX_STAGES + 2);
    char *text = xmalloc(cap);

    (void)state;
    for (i = 0; i < PIPELINE_MAX_STAGES + 1; i++)
        n += (size_t)snprintf(text + n, cap - n, "run: a\n---\n");
    assert_contains(load_err(text), "more than 64 tasks in one file");
    free(text);
}

/* ---- the example ---- */

static void test_example_parses(void **state)
{
    struct pipeline *p = NULL;
    struct err e;

    (void)state;
    err_clear(&e);
    if (pipeline_load_file(&p, SOURCE_DIR "/examples/pipeline/train-eval.yaml", &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(p->mode, PIPE_SERIAL);
    assert_int_equal(p->n, 3);
    assert_null(p->stages[0].spec->res[0].accelerator);        /* CPU prep */
    assert_non_null(p->stages[1].spec->res[0].accelerator);    /* GPU train */
    assert_int_equal(p->stages[1].spec->kind, SPEC_KIND_TRAIN);
    assert_non_null(p->stages[2].spec->res[0].accelerator);    /* GPU eval */
    pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_ranges),
        cmocka_unit_test(test_stream_limit),
        cmocka_unit_test(test_single_document_unchanged),
        cmocka_unit_test(test_is_multi),
        cmocka_unit_test(test_pipeline_with_name_header),
        cmocka_unit_test(test_pipeline_without_header),
        cmocka_unit_test(test_job_group),
        cmocka_unit_test(test_stage_warning_has_file_line),
        cmocka_unit_test(test_error_in_stage_keeps_line),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_too_many_stages),
        cmocka_unit_test(test_example_parses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
