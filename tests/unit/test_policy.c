/*
 * test_policy.c - the organisation policy: which rule governs a workload
 * (first match wins), what a rule says of a location (deny, continents,
 * allow, overflow), tiers and preference positions, prefer_margin, every kind
 * of bad policy file with its exact message and position, and the two
 * policies in examples/.
 *
 * The rules the tables refer to live in tests/data/policy/rules.yaml; specs
 * are built by hand (only kind, team and name matter to a policy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "spec/spec.h"

#define POLICY_DIR TEST_DATA "/policy"

static struct policy *load(const char *path)
{
    struct policy *p = NULL;
    struct err e;

    err_clear(&e);
    if (policy_load_file(&p, path, &e) != 0)
        fail_msg("%s", e.msg);
    return p;
}

static const struct policy_rule *rule_named(const struct policy *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nrules; i++)
        if (strcmp(p->rules[i].name, name) == 0)
            return &p->rules[i];
    fail_msg("no rule '%s' in %s", name, p->path);
    return NULL;
}

static int load_text(struct policy **p, const char *name, const char *text, struct err *e)
{
    err_clear(e);
    return policy_load_mem(p, name, text, strlen(text), e);
}

/* A spec with only the fields a policy looks at (it never writes them). */
static struct spec make_spec(enum spec_kind kind, char *team, char *name)
{
    struct spec s;

    memset(&s, 0, sizeof(s));
    s.kind = kind;
    s.team = team;
    s.name = name;
    return s;
}

static void test_match_order(void **state)
{
    static const struct {
        enum spec_kind kind;
        char *team, *name;
        const char *rule; /* expected governing rule */
    } cases[] = {
        {SPEC_KIND_TRAIN, NULL, "llama-70b", "train"},
        {SPEC_KIND_TRAIN, "research", "llama-70b", "train"},
        /* first match wins: the team rule sits above the kind rules */
        {SPEC_KIND_TRAIN, "ml-infra", "eval-llama", "ml-infra-eval"},
        {SPEC_KIND_INFER, "ml-infra", "bench-7", "ml-infra-eval"},
        /* every match field must fit: a name no glob takes falls through */
        {SPEC_KIND_BATCH, "ml-infra", "bench-10", "rule 6"},
        {SPEC_KIND_TRAIN, "ml-infra", "llama-eval", "train"},
        {SPEC_KIND_INFER, NULL, "chat", "infer"},
        {SPEC_KIND_INFER, "eu-only", "chat", "infer"},
        {SPEC_KIND_BATCH, "research", "sweep", "research-batch"},
        {SPEC_KIND_BATCH, "vision", "sweep", "research-batch"},
        {SPEC_KIND_BATCH, "Research", "sweep", "rule 6"}, /* teams are exact */
        {SPEC_KIND_BATCH, NULL, "sweep", "rule 6"},
        {SPEC_KIND_BATCH, "eu-only", "sweep", "overflow-restricted"},
        {SPEC_KIND_BATCH, NULL, NULL, "rule 6"},
    };
    struct policy *p = load(POLICY_DIR "/rules.yaml");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spec s = make_spec(cases[i].kind, cases[i].team, cases[i].name);
        const struct policy_rule *r = policy_match(p, &s);

        if (r == NULL || strcmp(r->name, cases[i].rule) != 0)
            fail_msg("case %zu (%s): governed by '%s', expected '%s'", i,
                     cases[i].name ? cases[i].name : "(null)", r ? r->name : "(none)",
                     cases[i].rule);
    }
    policy_free(p);
}

static void test_match_none(void **state)
{
    struct spec s = make_spec(SPEC_KIND_TRAIN, "research", "llama");
    struct policy *p = NULL;
    struct err e;

    (void)state;
    assert_null(policy_match(NULL, &s));
    assert_int_equal(load_text(&p, "empty.yaml", "rules: []\n", &e), 0);
    assert_int_equal(p->nrules, 0);
    assert_null(policy_match(p, &s));
    policy_free(p);
    /* a null rules list is an empty one too */
    assert_int_equal(load_text(&p, "null.yaml", "version: 1\nrules:\n", &e), 0);
    assert_null(policy_match(p, &s));
    policy_free(p);
    /* no catch-all: a workload no rule matches is unconstrained */
    assert_int_equal(load_text(&p, "m.yaml", "rules: [{match: {kind: train}}]", &e), 0);
    assert_non_null(policy_match(p, &s));
    s = make_spec(SPEC_KIND_BATCH, "research", "sweep");
    assert_null(policy_match(p, &s));
    policy_free(p);
}

static void test_verdicts(void **state)
{
    static const struct {
        const char *rule;
        const char *cloud, *region, *zone, *continent;
        enum policy_verdict want;
    } cases[] = {
        {"train", "azure", "eastus", "", "north-america", POLICY_OK},
        {"train", "azure", "westus3", "", "north-america", POLICY_DENIED},
        {"train", "gcp", "us-central1", "us-central1-a", "north-america",
         POLICY_NOT_ALLOWED},
        /* overflow clouds are allowed without being listed in allow */
        {"infer", "oci", "us-ashburn-1", "US-ASHBURN-AD-1", "north-america", POLICY_OK},
        {"infer", "gcp", "asia-east1", "asia-east1-a", "asia", POLICY_OK},
        {"infer", "aws", "us-east-1", "use1-az1", "north-america", POLICY_NOT_ALLOWED},
        {"research-batch", "gcp", "europe-west4", "europe-west4-a", "europe", POLICY_OK},
        {"research-batch", "gcp", "europe-west2", "europe-west2-a", "europe",
         POLICY_DENIED},
        /* deny is judged before continents, continents before allow */
        {"research-batch", "gcp", "europe-west2", "europe-west2-a", "asia",
         POLICY_DENIED},
        {"research-batch", "azure", "japaneast", "", "asia", POLICY_CONTINENT},
        {"research-batch", "gcp", "us-central1", "us-central1-a", "north-america",
         POLICY_NOT_ALLOWED},
        {"research-batch", "oci", "eu-frankfurt-1", "EU-FRANKFURT-1-AD-1", "europe",
         POLICY_OK},
        {"research-batch", "oci", "eu-frankfurt-1", "EU-FRANKFURT-1-AD-2", "europe",
         POLICY_NOT_ALLOWED},
        {"research-batch", "aws", "us-east-1", "use1-az1", "north-america", POLICY_OK},
        {"research-batch", "aws", "ap-south-1", "aps1-az1", "asia", POLICY_CONTINENT},
        /* unknown continent: residency fails closed */
        {"research-batch", "aws", "us-east-1", "use1-az1", NULL, POLICY_CONTINENT},
        {"research-batch", "aws", "us-east-1", "use1-az1", "", POLICY_CONTINENT},
        /* an overflow cloud that allow names is restricted by those patterns */
        {"overflow-restricted", "gcp", "us-central1", "us-central1-a", "north-america",
         POLICY_NOT_ALLOWED},
        {"overflow-restricted", "gcp", "europe-west4", "europe-west4-b", "europe",
         POLICY_OK},
        {"overflow-restricted", "oci", "us-ashburn-1", "US-ASHBURN-AD-1", "north-america",
         POLICY_OK},
        {"overflow-restricted", "aws", "us-east-1", "use1-az1", "north-america",
         POLICY_NOT_ALLOWED},
        {"overflow-restricted", "azure", "eastus", NULL, NULL, POLICY_OK},
        {"rule 6", "aws", "ap-south-1", "aps1-az1", NULL, POLICY_OK},
        {NULL, "aws", "ap-south-1", "aps1-az1", NULL, POLICY_OK}, /* no rule */
    };
    struct policy *p = load(POLICY_DIR "/rules.yaml");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct policy_rule *r = cases[i].rule ? rule_named(p, cases[i].rule) : NULL;
        enum policy_verdict v = policy_check_location(r, cases[i].cloud, cases[i].region,
                                                      cases[i].zone, cases[i].continent);

        if (v != cases[i].want)
            fail_msg("case %zu: %s/%s/%s under '%s': %s, expected %s", i, cases[i].cloud,
                     cases[i].region, cases[i].zone ? cases[i].zone : "(null)",
                     cases[i].rule ? cases[i].rule : "(none)", policy_verdict_str(v),
                     policy_verdict_str(cases[i].want));
    }
    policy_free(p);
}

static void test_location_globs(void **state)
{
    static const char long_part[] =
        "gcp/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const struct {
        const char *pattern, *cloud, *region, *zone;
        int want;
    } cases[] = {
        {"azure", "azure", "eastus", "", 1},
        {"azure", "gcp", "us-central1", "us-central1-a", 0},
        {"azure", "azure", NULL, NULL, 1},
        {"gcp/europe-*", "gcp", "europe-west4", "europe-west4-a", 1},
        {"gcp/europe-*", "gcp", "us-central1", "us-central1-a", 0},
        {"gcp/europe-*", "gcp", NULL, NULL, 0},
        {"gcp/us-central?", "gcp", "us-central1", "us-central1-c", 1},
        {"gcp/us-central?", "gcp", "us-central10", "x", 0},
        {"*", "oci", "eu-frankfurt-1", "EU-FRANKFURT-1-AD-1", 1},
        {"*/europe-*", "gcp", "europe-north1", "europe-north1-a", 1},
        {"*/europe-*", "aws", "eu-west-1", "euw1-az1", 0},
        {"a?s", "aws", "us-east-1", "use1-az1", 1},
        {"oci/us-ashburn-1/*AD-1", "oci", "us-ashburn-1", "US-ASHBURN-AD-1", 1},
        {"oci/us-ashburn-1/*AD-1", "oci", "us-ashburn-1", "US-ASHBURN-AD-2", 0},
        {"oci/us-ashburn-1/*ad-1", "oci", "us-ashburn-1", "US-ASHBURN-AD-1",
         0},                                          /* case */
        {"azure/eastus/*", "azure", "eastus", "", 1}, /* Azure has no zones */
        {"azure/eastus/1", "azure", "eastus", NULL, 0},
        {"azure/eastus/1", "azure", "eastus", "1", 1},
        /* malformed patterns match nothing */
        {"", "azure", "eastus", "", 0},
        {"gcp/", "gcp", "us-central1", "", 0},
        {"gcp//x", "gcp", "", "x", 0},
        {"a/b/c/d", "a", "b", "c", 0},
        {long_part, "gcp", long_part + 4, "", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (policy_location_match(cases[i].pattern, cases[i].cloud, cases[i].region,
                                  cases[i].zone) != cases[i].want)
            fail_msg("case %zu: '%.40s' vs %s/%.20s: expected %d", i, cases[i].pattern,
                     cases[i].cloud, cases[i].region ? cases[i].region : "(null)",
                     cases[i].want);
}

static void test_tiers_and_prefs(void **state)
{
    static const struct {
        const char *rule, *cloud;
        int tier, pref;
    } cases[] = {
        {"infer", "azure", 0, 0},
        {"infer", "oci", 1, 0},
        {"infer", "gcp", 2, 0},
        {"infer", "aws", 0, 0},
        {"train", "azure", 0, 0},
        /* prefer: [gcp, oci]; an unlisted cloud comes after every listed one */
        {"research-batch", "gcp", 0, 0},
        {"research-batch", "oci", 0, 1},
        {"research-batch", "aws", 0, 2},
        {"research-batch", "azure", 0, 2},
        {"overflow-restricted", "gcp", 1, 0},
        {"overflow-restricted", "oci", 2, 0},
        {"rule 6", "azure", 0, 0},
        {"rule 6", "gcp", 0, 1},
        {NULL, "gcp", 0, 0},
    };
    struct policy *p = load(POLICY_DIR "/rules.yaml");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct policy_rule *r = cases[i].rule ? rule_named(p, cases[i].rule) : NULL;

        if (policy_tier(r, cases[i].cloud) != cases[i].tier ||
            policy_pref_index(r, cases[i].cloud) != cases[i].pref)
            fail_msg("case %zu (%s, %s): tier %d pref %d, expected %d %d", i,
                     cases[i].rule ? cases[i].rule : "(none)", cases[i].cloud,
                     policy_tier(r, cases[i].cloud), policy_pref_index(r, cases[i].cloud),
                     cases[i].tier, cases[i].pref);
    }
    policy_free(p);
}

/* Fields read from rules.yaml, defaults included. */
static void test_fields(void **state)
{
    struct policy *p = load(POLICY_DIR "/rules.yaml");
    const struct policy_rule *r;

    (void)state;
    assert_int_equal(p->nrules, 6);
    assert_string_equal(p->path, POLICY_DIR "/rules.yaml");
    r = rule_named(p, "ml-infra-eval");
    assert_int_equal(r->line, 5);
    assert_null(r->description);
    assert_int_equal(r->kinds, 0);
    assert_int_equal(r->nnames, 2);
    assert_string_equal(r->names[1], "bench-?");
    assert_int_equal(r->spot, POLICY_SPOT_REQUIRE);
    r = rule_named(p, "train");
    assert_string_equal(r->description, "training only on azure");
    assert_int_equal(r->kinds, 1u << SPEC_KIND_TRAIN);
    assert_int_equal(r->spot, POLICY_SPOT_ALLOW); /* the default */
    assert_true(r->max_hourly_cost == 0);         /* no cap */
    r = rule_named(p, "infer");
    assert_int_equal(r->nallow, 1); /* a single value for a list */
    assert_int_equal(r->spot, POLICY_SPOT_FORBID);
    r = rule_named(p, "research-batch");
    assert_int_equal(r->kinds, 1u << SPEC_KIND_BATCH);
    assert_int_equal(r->nteams, 2);
    assert_int_equal(r->ncontinents, 2);
    assert_true(fabs(r->prefer_margin - 0.15) < 1e-12);
    assert_true(fabs(r->max_hourly_cost - 250.5) < 1e-12); /* "$250.5" */
    r = &p->rules[5];
    assert_string_equal(r->name, "rule 6");
    assert_string_equal(r->description, "everything else");
    assert_true(fabs(r->prefer_margin - 0.1) < 1e-12);
    assert_string_equal(policy_spot_name(POLICY_SPOT_FORBID), "forbid");
    assert_string_equal(policy_verdict_str(POLICY_DENIED), "denied by policy");
    policy_free(p);
}

/* Case i of a table (value: what it writes): the policy yaml loaded as
 * file, which must load when err is NULL (returned), and otherwise fail with
 * a message containing err (NULL returned). */
static struct policy *load_case(const char *file, const char *yaml, size_t i,
                                const char *value, const char *err)
{
    struct policy *p = NULL;
    struct err e;
    int rc = load_text(&p, file, yaml, &e);

    if (err == NULL) {
        if (rc != 0)
            fail_msg("case %zu (%s): %s", i, value, e.msg);
        return p;
    }
    if (rc == 0 || strstr(e.msg, err) == NULL)
        fail_msg("case %zu (%s): got '%s', expected '%s'", i, value, rc ? e.msg : "success",
                 err);
    assert_null(p);
    return NULL;
}

static void test_margins(void **state)
{
    static const struct {
        const char *value;
        double want;     /* when ok */
        const char *err; /* expected message, or NULL */
    } cases[] = {
        {"15%", 0.15, NULL},
        {"0.15", 0.15, NULL},
        {"\"15%\"", 0.15, NULL},
        {"0", 0, NULL},
        {"0%", 0, NULL},
        {"99.5%", 0.995, NULL},
        {"2.5%", 0.025, NULL},
        {"100%", 0,
         "margin.yaml:3:20: prefer_margin must be a percentage such as 15% or a "
         "fraction such as 0.15, at least 0 and below 100%, not '100%'"},
        {"1", 0, "margin.yaml:3:20: prefer_margin 1 would be 100% (did you mean '1%'?)"},
        {"15", 0,
         "margin.yaml:3:20: prefer_margin 15 would be 1500% (did you mean '15%'?)"},
        {"-5%", 0, "margin.yaml:3:20: prefer_margin must be a percentage"},
        {"-0.1", 0, "margin.yaml:3:20: prefer_margin must be a percentage"},
        {"abc", 0, "margin.yaml:3:20: prefer_margin must be a percentage"},
        {"15 %", 0, "margin.yaml:3:20: prefer_margin must be a percentage"},
        {"[15%]", 0,
         "margin.yaml:3:20: prefer_margin must be a single value, not a list"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[128];
        struct policy *p;

        snprintf(yaml, sizeof(yaml),
                 "rules:\n  - prefer: [azure]\n    prefer_margin: %s\n", cases[i].value);
        p = load_case("margin.yaml", yaml, i, cases[i].value, cases[i].err);
        if (p != NULL)
            assert_true(fabs(p->rules[0].prefer_margin - cases[i].want) < 1e-12);
        policy_free(p);
    }
}

static void test_patience_values(void **state)
{
    static const struct {
        const char *value;
        double late, cheaper; /* when ok */
        const char *err;      /* expected message, or NULL */
    } cases[] = {
        {"1x", 1, 0.2, NULL},
        {"0.5x", 0.5, 0.2, NULL},
        {"2", 2, 0.2, NULL},
        {"0x", 0, 0.2, NULL},
        {"\"3X\"", 3, 0.2, NULL},
        {"{late: 1x, cheaper: 30%}", 1, 0.3, NULL},
        {"{late: 2x, cheaper: 0.1}", 2, 0.1, NULL},
        {"{late: 1x}", 1, 0.2, NULL},
        {"fast", 0, 0,
         "p.yaml:3:15: patience is how late a job may become waiting for a cheaper place, "
         "in run times: a number from 0x to 100x such as 1x, not 'fast'"},
        {"101x", 0, 0, "p.yaml:3:15: patience is how late"},
        {"-1x", 0, 0, "p.yaml:3:15: patience is how late"},
        {"x", 0, 0, "p.yaml:3:15: patience is how late"},
        {"{cheaper: 20%}", 0, 0,
         "p.yaml:3:15: patience needs late: how late a job may become waiting, such as 1x"},
        {"{late: 1x, cheaper: 120%}", 0, 0,
         "p.yaml:3:35: cheaper must be a percentage such as 20% or a fraction such as 0.2, "
         "at least 0 and below 100%, not '120%'"},
        {"{late: soon}", 0, 0, "p.yaml:3:22: late is how late a job may become waiting"},
        {"{late: 1x, wait: 2}", 0, 0, "p.yaml:3:26: unknown key 'wait' in patience"},
        {"[1x]", 0, 0, "p.yaml:3:15: patience must be a single value, not a list"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[160];
        struct policy *p;

        snprintf(yaml, sizeof(yaml), "rules:\n  - spot: allow\n    patience: %s\n",
                 cases[i].value);
        p = load_case("p.yaml", yaml, i, cases[i].value, cases[i].err);
        if (p != NULL) {
            assert_true(fabs(p->rules[0].patience - cases[i].late) < 1e-12);
            assert_true(fabs(p->rules[0].patience_cheaper - cases[i].cheaper) < 1e-12);
        }
        policy_free(p);
    }
}

static void test_bad_files(void **state)
{
    static const struct {
        const char *file, *err; /* err: expected substring, from the file name on */
    } cases[] = {
        {"bad-unknown-key.yaml",
         "bad-unknown-key.yaml:4:5: unknown key 'alow' in rule 'train' (did you mean "
         "'allow'?)"},
        {"bad-top-key.yaml", "bad-top-key.yaml:2:1: unknown key 'rule' in the policy "
                             "(did you mean 'rules'?)"},
        {"bad-cloud-oracle.yaml", "bad-cloud-oracle.yaml:3:20: unknown cloud 'oracle' in "
                                  "allow (did you mean 'oci'?)"},
        {"bad-cloud-google.yaml",
         "bad-cloud-google.yaml:4:21: unknown cloud 'google' in overflow (did you mean "
         "'gcp'?)"},
        {"bad-cloud-typo.yaml", "bad-cloud-typo.yaml:3:14: unknown cloud 'azur' in "
                                "prefer (did you mean 'azure'?)"},
        {"bad-cloud-case.yaml", "bad-cloud-case.yaml:3:12: unknown cloud 'Azure' in "
                                "allow (did you mean 'azure'?)"},
        {"bad-cloud-unknown.yaml", "bad-cloud-unknown.yaml:3:12: unknown cloud 'ibm' in "
                                   "deny (known: azure, gcp, oci, "
                                   "aws, lambda, nebius)"},
        {"bad-pattern-parts.yaml",
         "bad-pattern-parts.yaml:3:12: bad location pattern "
         "'gcp/us-central1/us-central1-a/x' in deny (write cloud, cloud/region or "
         "cloud/region/zone"},
        {"bad-pattern-empty-part.yaml",
         "bad-pattern-empty-part.yaml:3:13: bad location pattern 'gcp//us-central1-a' in "
         "allow"},
        {"bad-pattern-glob.yaml", "bad-pattern-glob.yaml:3:13: location pattern "
                                  "'x*/europe-west4' in allow matches "
                                  "no cloud (known: azure, gcp, oci, aws, lambda, nebius)"},
        {"bad-continent.yaml", "bad-continent.yaml:3:18: unknown continent 'europa' in "
                               "continents (did you mean "
                               "'europe'?)"},
        {"bad-continent-eu.yaml",
         "bad-continent-eu.yaml:3:18: unknown continent 'eu' in continents (continents "
         "are "
         "geographic: write europe, and deny the European regions outside the EU"},
        {"bad-kind-eval.yaml",
         "bad-kind-eval.yaml:4:21: unknown kind 'eval' (evaluation jobs are kind batch; "
         "to "
         "single them out, match their names, e.g. name: \"eval-*\")"},
        {"bad-kind-typo.yaml",
         "bad-kind-typo.yaml:3:19: unknown kind 'trian' (did you mean 'train'?)"},
        {"bad-spot.yaml",
         "bad-spot.yaml:3:11: unknown spot setting 'sometimes' (known: allow, require, "
         "forbid)"},
        {"bad-spot-bool.yaml", "bad-spot-bool.yaml:3:11: unknown spot setting 'false' "
                               "(did you mean 'forbid'?)"},
        {"bad-margin-range.yaml",
         "bad-margin-range.yaml:4:20: prefer_margin must be a percentage such as 15% or "
         "a "
         "fraction such as 0.15, at least 0 and below 100%, not '150%'"},
        {"bad-margin-bare.yaml", "bad-margin-bare.yaml:4:20: prefer_margin 15 would be "
                                 "1500% (did you mean '15%'?)"},
        {"bad-margin-no-prefer.yaml", "bad-margin-no-prefer.yaml:3:20: prefer_margin "
                                      "needs prefer: the clouds the margin "
                                      "favours"},
        {"bad-cost-zero.yaml", "bad-cost-zero.yaml:3:22: max_hourly_cost must be a "
                               "positive number of US dollars "
                               "per hour, such as 800, not '0'"},
        {"bad-cost-text.yaml", "bad-cost-text.yaml:3:22: max_hourly_cost must be a "
                               "positive number of US dollars "
                               "per hour, such as 800, not 'lots'"},
        {"bad-overflow-denied.yaml",
         "bad-overflow-denied.yaml:5:16: cloud 'oci' in overflow is denied whole by deny "
         "pattern 'oci'; drop it from one of the two"},
        {"bad-allow-denied.yaml",
         "bad-allow-denied.yaml:3:13: allow 'azure' is denied whole by deny pattern 'azure': "
         "the rule would never admit it; drop it from one of the two"},
        {"bad-overflow-denied-star.yaml",
         "bad-overflow-denied-star.yaml:4:16: cloud 'gcp' in overflow is denied whole by "
         "deny pattern '*/*'"},
        {"bad-prefer-outside-allow.yaml",
         "bad-prefer-outside-allow.yaml:4:21: cloud 'gcp' in prefer is outside allow; "
         "add "
         "it to allow or overflow, or drop it from prefer"},
        {"bad-prefer-dup.yaml",
         "bad-prefer-dup.yaml:3:24: cloud 'gcp' is listed twice in prefer"},
        {"bad-overflow-dup.yaml",
         "bad-overflow-dup.yaml:3:21: cloud 'oci' is listed twice in overflow"},
        {"bad-allow-empty.yaml",
         "bad-allow-empty.yaml:3:12: allow is an empty list; leave allow out to place no "
         "constraint"},
        {"bad-match-empty.yaml",
         "bad-match-empty.yaml:3:19: team is an empty list; leave team out to place no "
         "constraint"},
        {"bad-match-key.yaml",
         "bad-match-key.yaml:3:13: unknown key 'teams' in match (did you mean 'team'?)"},
        {"bad-match-type.yaml",
         "bad-match-type.yaml:3:12: match must be a mapping, not a list"},
        {"bad-rules-type.yaml",
         "bad-rules-type.yaml:2:3: rules must be a list, not a mapping"},
        {"bad-rule-type.yaml",
         "bad-rule-type.yaml:2:5: a rule must be a mapping, not a single value"},
        {"bad-root.yaml", "bad-root.yaml:1:1: a policy must be a mapping, not a list"},
        {"bad-dup-name.yaml",
         "bad-dup-name.yaml:6:11: duplicate rule name 'train' (first at line 2)"},
        {"bad-gpus-range.yaml",
         "bad-gpus-range.yaml:3:36: match.min_gpus (64) is above match.max_gpus (8)"},
        {"bad-gpus-word.yaml",
         "bad-gpus-word.yaml:3:23: match.min_gpus must be a whole number from 1 to 1000000, "
         "not 'lots'"},
        {"bad-gpus-typo.yaml",
         "bad-gpus-typo.yaml:3:13: unknown key 'min_gpu' in match (did you mean 'min_gpus'?)"},
        {"bad-after-catchall.yaml",
         "bad-after-catchall.yaml:6:5: rule 'late' can never match: rule 'default' (line "
         "4) "
         "before it matches every workload; move the catch-all last"},
        {"bad-version.yaml", "bad-version.yaml:1:10: unsupported policy version '2' "
                             "(this Stratus reads version "
                             "1)"},
        {"bad-empty.yaml",
         "bad-empty.yaml: empty policy (expected a mapping with a 'rules' "
         "list; write 'rules: []' for a policy without rules)"},
        {"bad-no-rules.yaml",
         "bad-no-rules.yaml:1:1: missing 'rules', the policy's list of rules"},
        {"bad-yaml.yaml", "bad-yaml.yaml:4:1: invalid YAML: did not find expected ','"},
        {"bad-alias.yaml", "bad-alias.yaml:5:12: YAML aliases (*name) are not supported"},
        {"bad-list-map.yaml",
         "bad-list-map.yaml:3:12: allow must be one value or a list of values, not a "
         "mapping"},
        {"bad-list-nested.yaml",
         "bad-list-nested.yaml:3:13: allow must be a single value, not a list"},
        {"bad-name-empty.yaml", "bad-name-empty.yaml:2:11: name must not be empty"},
        {"bad-team-empty.yaml", "bad-team-empty.yaml:2:30: team must not be empty"},
        {"bad-description.yaml",
         "bad-description.yaml:3:18: description must be a single value, not a list"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[512];
        struct policy *p = NULL;
        struct err e;
        int rc;

        snprintf(path, sizeof(path), "%s/%s", POLICY_DIR, cases[i].file);
        err_clear(&e);
        rc = policy_load_file(&p, path, &e);
        if (rc == 0)
            fail_msg("%s: loaded, expected '%s'", cases[i].file, cases[i].err);
        if (strstr(e.msg, cases[i].err) == NULL)
            fail_msg("%s:\n  got      '%s'\n  expected '%s'", cases[i].file, e.msg,
                     cases[i].err);
        assert_true(rc == ST_EPARSE || rc == ST_EINVAL);
        assert_int_equal(e.code, rc);
        assert_null(p);
    }
}

/* Which rules count as catch-alls, making every later rule unreachable. */
static void test_catchalls(void **state)
{
    static const struct {
        const char *first; /* the first rule's match; the second is {kind: train} */
        int dead;          /* is the second rule unreachable? */
    } cases[] = {
        {"{}", 1},
        {"~", 1},
        {"{kind: [train, batch, infer]}", 1},
        {"{name: [x, \"**\"]}", 1},
        {"{kind: [train, batch]}", 0},
        {"{name: \"x*\"}", 0},
        {"{team: research}", 0},
        {"{kind: [train, batch, infer], team: t}", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[256];
        struct policy *p = NULL;
        struct err e;
        int rc;

        snprintf(yaml, sizeof(yaml),
                 "rules:\n  - name: first\n    match: %s\n  - name: second\n"
                 "    match: {kind: train}\n",
                 cases[i].first);
        rc = load_text(&p, "c.yaml", yaml, &e);
        if (cases[i].dead &&
            (rc == 0 || strstr(e.msg, "c.yaml:4:5: rule 'second' can never "
                                      "match: rule 'first' (line 2)") == NULL))
            fail_msg("case %zu (%s): %s", i, cases[i].first, rc ? e.msg : "loaded");
        if (!cases[i].dead && rc != 0)
            fail_msg("case %zu (%s): %s", i, cases[i].first, e.msg);
        policy_free(p);
    }
}

static void test_missing_file(void **state)
{
    struct policy dummy, *p = &dummy; /* must be reset to NULL */
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(policy_load_file(&p, POLICY_DIR "/no-such.yaml", &e), ST_EIO);
    assert_null(p);
    assert_non_null(strstr(e.msg, "no-such.yaml: cannot open"));
    policy_free(NULL);
}

static void test_example_lab(void **state)
{
    struct policy *p = load(SOURCE_DIR "/examples/policy.yaml");
    struct spec train = make_spec(SPEC_KIND_TRAIN, "research", "llama-405b");
    struct spec small = make_spec(SPEC_KIND_TRAIN, "research", "lora");
    struct spec infer = make_spec(SPEC_KIND_INFER, NULL, "chat");
    struct spec eval = make_spec(SPEC_KIND_BATCH, NULL, "eval-mmlu");
    struct spec_res h100x8 = {.acc_count = 8}, h100x4 = {.acc_count = 4};
    const struct policy_rule *r;

    (void)state;
    train.res = &h100x8; /* 2 nodes x 8: a large (multi-node) run */
    train.nres = 1;
    train.num_nodes = 2;
    small.res = &h100x4;
    small.nres = 1;
    small.num_nodes = 1;
    r = policy_match(p, &small);
    assert_string_equal(r->name, "training-prefer-azure");
    assert_int_equal(policy_pref_index(r, "azure"), 0);
    assert_int_equal(policy_pref_index(r, "gcp"), 1);
    assert_true(r->prefer_margin > 0.149 && r->prefer_margin < 0.151);
    assert_int_equal(policy_check_location(r, "gcp", "us-central1", "us-central1-a", "north-america"),
                     POLICY_OK);
    r = policy_match(p, &train);
    assert_string_equal(r->name, "training-on-azure");
    assert_string_equal(r->description, "large training runs only on azure");
    assert_int_equal(r->min_gpus, 16);
    assert_int_equal(
        policy_check_location(r, "gcp", "us-central1", "us-central1-a", "north-america"),
        POLICY_NOT_ALLOWED);
    assert_int_equal(policy_check_location(r, "azure", "eastus", "", "north-america"),
                     POLICY_OK);
    r = policy_match(p, &infer);
    assert_string_equal(r->name, "inference-azure-first");
    assert_int_equal(r->spot, POLICY_SPOT_FORBID);
    assert_int_equal(policy_tier(r, "azure"), 0);
    assert_int_equal(policy_tier(r, "oci"), 1);
    assert_int_equal(policy_tier(r, "gcp"), 2);
    assert_int_equal(policy_check_location(r, "oci", "us-ashburn-1", "US-ASHBURN-AD-1",
                                           "north-america"),
                     POLICY_OK);
    assert_int_equal(
        policy_check_location(r, "aws", "us-east-1", "use1-az1", "north-america"),
        POLICY_NOT_ALLOWED);
    r = policy_match(p, &eval);
    assert_string_equal(r->name, "batch-anywhere");
    assert_int_equal(r->spot, POLICY_SPOT_ALLOW);
    assert_true(r->patience == 1 && fabs(r->patience_cheaper - 0.2) < 1e-12);
    assert_int_equal(policy_check_location(r, "aws", "ap-south-1", "aps1-az1", "asia"),
                     POLICY_OK);
    assert_string_equal(p->rules[p->nrules - 1].name, "default");
    policy_free(p);
}

static void test_example_eu_data(void **state)
{
    static const struct {
        const char *cloud, *region, *continent;
        enum policy_verdict want;
    } cases[] = {
        {"gcp", "europe-west4", "europe", POLICY_OK},
        {"oci", "eu-frankfurt-1", "europe", POLICY_OK},
        {"aws", "eu-central-1", "europe", POLICY_OK},
        {"gcp", "europe-west2", "europe", POLICY_DENIED}, /* London */
        {"gcp", "europe-west6", "europe", POLICY_DENIED}, /* Zurich */
        {"azure", "uksouth", "europe", POLICY_DENIED},
        {"azure", "norwayeast", "europe", POLICY_DENIED},
        {"oci", "uk-london-1", "europe", POLICY_DENIED},
        {"oci", "eu-zurich-1", "europe", POLICY_DENIED},
        {"aws", "eu-west-2", "europe", POLICY_DENIED},
        {"gcp", "us-central1", "north-america", POLICY_CONTINENT},
        {"oci", "me-dubai-1", "middle-east", POLICY_CONTINENT},
        {"gcp", "europe-west4", NULL, POLICY_CONTINENT},
    };
    struct policy *p = load(SOURCE_DIR "/examples/policies/eu-data.yaml");
    struct spec clinical = make_spec(SPEC_KIND_TRAIN, "clinical", "ehr-finetune");
    struct spec other = make_spec(SPEC_KIND_TRAIN, "research", "llama");
    const struct policy_rule *r = policy_match(p, &clinical);
    size_t i;

    (void)state;
    assert_string_equal(r->name, "clinical-eu-data");
    assert_int_equal(policy_pref_index(r, "gcp"), 0);
    assert_int_equal(policy_pref_index(r, "oci"), 1);
    assert_true(fabs(r->prefer_margin - 0.10) < 1e-12);
    assert_true(r->max_hourly_cost == 400);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (policy_check_location(r, cases[i].cloud, cases[i].region, NULL,
                                  cases[i].continent) != cases[i].want)
            fail_msg("case %zu: %s/%s: expected %s", i, cases[i].cloud, cases[i].region,
                     policy_verdict_str(cases[i].want));
    assert_string_equal(policy_match(p, &other)->name, "training-on-azure");
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_order),     cmocka_unit_test(test_match_none),
        cmocka_unit_test(test_verdicts),        cmocka_unit_test(test_location_globs),
        cmocka_unit_test(test_tiers_and_prefs), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_margins),         cmocka_unit_test(test_patience_values),
        cmocka_unit_test(test_bad_files),       cmocka_unit_test(test_catchalls),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_example_lab),     cmocka_unit_test(test_example_eu_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
