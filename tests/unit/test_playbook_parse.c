/* SPDX-License-Identifier: GPL-2.0 */
/* The playbook parser: the embedded default equals DESIGN.md's table, every malformed example is refused with
 * its exact file:line:column, and the printed form parses back to the same rules.
 * Runs from the repo root (make and tests/run.sh do), where tests/data/playbooks/ is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "playbook/playbook.h"

#define NS_PER_S 1000000000ull

static void rules_equal(const struct cgp_rule *a, const struct cgp_rule *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->metric, b->metric);
	assert_int_equal(a->cmp, b->cmp);
	assert_true(a->above == b->above && a->lo == b->lo && a->hi == b->hi);
	assert_int_equal(a->for_ns, b->for_ns);
	assert_int_equal(a->severity, b->severity);
	assert_int_equal(a->has_resolve_below, b->has_resolve_below);
	assert_true(a->resolve_below == b->resolve_below);
	assert_int_equal(a->select, b->select);
	if (a->select == CGP_SELECT_GLOB)
		assert_string_equal(a->select_glob, b->select_glob);
	assert_string_equal(a->action, b->action);
	assert_string_equal(a->runbook, b->runbook);
}

/* DESIGN.md, "The playbook (embedded default)", row by row; the recovery row is resolve_below on CPU rules. */
static void test_default_equals_design_table(void **state)
{
	static const struct {
		const char *name;
		enum cgp_metric metric;
		enum cgp_cmp cmp;
		double a, b; /* above, or the band */
		uint64_t for_s;
		enum cgp_severity sev;
		double resolve_below; /* 0: none */
	} want[] = {
	    {"cpu_critical", CGP_METRIC_CPU_PCT, CGP_CMP_ABOVE, 95, 0, 300, CGP_SEV_CRITICAL, 70},
	    {"cpu_high", CGP_METRIC_CPU_PCT, CGP_CMP_BETWEEN, 80, 95, 120, CGP_SEV_WARNING, 70},
	    /* memory is judged by the working set, as DESIGN.md says and the kubelet does */
	    {"memory_critical", CGP_METRIC_MEM_WORKING_SET_PCT, CGP_CMP_ABOVE, 95, 0, 300, CGP_SEV_CRITICAL, 0},
	    {"memory_high", CGP_METRIC_MEM_WORKING_SET_PCT, CGP_CMP_BETWEEN, 80, 95, 120, CGP_SEV_WARNING, 0},
	    {"oom_kill", CGP_METRIC_OOM_KILLS, CGP_CMP_ABOVE, 0, 0, 0, CGP_SEV_CRITICAL, 0},
	};
	struct cgp_playbook *pb = NULL;
	char err[256] = "";
	size_t i;

	(void)state;
	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	assert_string_equal(pb->source, "(default)");
	assert_int_equal(pb->version, 1);
	assert_int_equal(pb->nrules, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < pb->nrules; i++) {
		const struct cgp_rule *r = &pb->rules[i];

		assert_string_equal(r->name, want[i].name);
		assert_int_equal(r->metric, want[i].metric);
		assert_int_equal(r->cmp, want[i].cmp);
		if (r->cmp == CGP_CMP_ABOVE) {
			assert_true(r->above == want[i].a);
		} else {
			assert_true(r->lo == want[i].a);
			assert_true(r->hi == want[i].b);
		}
		assert_int_equal(r->for_ns, want[i].for_s * NS_PER_S);
		assert_int_equal(r->severity, want[i].sev);
		assert_int_equal(r->has_resolve_below, want[i].resolve_below > 0);
		if (want[i].resolve_below > 0)
			assert_true(r->resolve_below == want[i].resolve_below);
		assert_int_equal(r->select, CGP_SELECT_CONTAINERS);
		assert_true(strlen(r->action) > 10);
	}
	/* the table's actions carry the concrete examples */
	assert_non_null(strstr(pb->rules[0].action, "1.0 -> 2.0"));
	assert_non_null(strstr(pb->rules[1].action, "1.0 -> 1.5"));
	cgp_playbook_free(pb);
}

static void test_default_is_the_repo_file(void **state)
{
	FILE *f = fopen("agent/playbook/default.yaml", "rb");
	char *buf = malloc(cgp_playbook_default_yaml_len + 1);
	size_t n;

	(void)state;
	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, cgp_playbook_default_yaml_len + 1, f);
	fclose(f);
	assert_int_equal(n, cgp_playbook_default_yaml_len);
	assert_memory_equal(buf, cgp_playbook_default_yaml, n);
	free(buf);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

/* README's example playbook (a throttling rule, a memory-pressure rule) is this file, and it parses into rules on
 * the new metrics. */
static void test_readme_example(void **state)
{
	const char *path = "tests/data/playbooks/example_pressure.yaml";
	char *ex = slurp(path), *readme = slurp("README.md"), err[256] = "";
	struct cgp_playbook *pb = NULL;

	(void)state;
	assert_non_null(strstr(readme, ex));
	assert_int_equal(cgp_playbook_load_file(path, &pb, err, sizeof(err)), 0);
	assert_int_equal(pb->nrules, 3);
	assert_int_equal(pb->rules[0].metric, CGP_METRIC_CPU_THROTTLED_PCT);
	assert_int_equal(pb->rules[1].metric, CGP_METRIC_PSI_MEMORY_SOME_PCT);
	assert_int_equal(pb->rules[2].metric, CGP_METRIC_MEM_WORKING_SET_PCT);
	cgp_playbook_free(pb);
	free(ex);
	free(readme);
}

/* Every metric name parses, and an unknown one is refused with the whole list. */
static void test_every_metric(void **state)
{
	char yaml[256], err[512] = "";
	struct cgp_playbook *pb = NULL;

	(void)state;
	for (unsigned m = CGP_METRIC_NONE + 1; m < CGP_METRIC_MAX; m++) {
		snprintf(yaml, sizeof(yaml),
			 "version: 1\nrules:\n  - name: r\n    metric: %s\n    above: 1\n"
			 "    for: 0s\n    severity: warning\n",
			 cgp_metric_name(m));
		assert_int_equal(cgp_playbook_parse("t", yaml, strlen(yaml), &pb, err, sizeof(err)), 0);
		assert_int_equal(pb->rules[0].metric, m);
		cgp_playbook_free(pb);
		pb = NULL;
	}
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nrules:\n  - name: r\n    metric: psi_cpu_full_pct\n    above: 1\n"
		 "    for: 0s\n    severity: warning\n");
	assert_int_not_equal(cgp_playbook_parse("t", yaml, strlen(yaml), &pb, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unknown metric 'psi_cpu_full_pct'"));
	assert_non_null(strstr(err, "mem_working_set_pct, cpu_throttled_pct, psi_cpu_some_pct"));
}

struct bad {
	const char *file;
	const char *prefix; /* exact "file:line:column: " */
	const char *reason; /* a part of the reason */
};

#define DIR "tests/data/playbooks/"
static const struct bad bad_files[] = {
    {DIR "unknown_metric.yaml", DIR "unknown_metric.yaml:6:13: ", "unknown metric 'disk_pct'"},
    {DIR "missing_threshold.yaml", DIR "missing_threshold.yaml:10:5: ", "'cpu_high': missing threshold"},
    {DIR "band_upside_down.yaml", DIR "band_upside_down.yaml:7:14: ", "band upside down"},
    {DIR "negative_duration.yaml", DIR "negative_duration.yaml:8:10: ", "negative duration '-2m'"},
    {DIR "bad_duration.yaml", DIR "bad_duration.yaml:8:10: ", "unparsable duration 'two minutes'"},
    {DIR "duplicate_name.yaml", DIR "duplicate_name.yaml:11:11: ", "duplicate rule name 'cpu_high' (first at line 5)"},
    {DIR "syntax_error.yaml", DIR "syntax_error.yaml:10:25: ", "YAML syntax error: mapping values are not"},
    {DIR "empty.yaml", DIR "empty.yaml:1:1: ", "empty playbook"},
    {DIR "unknown_key.yaml", DIR "unknown_key.yaml:10:5: ", "unknown key 'resolve_bellow'"},
    {DIR "wrong_version.yaml", DIR "wrong_version.yaml:3:10: ", "unsupported version '2'"},
};

static void test_bad_file(void **state)
{
	const struct bad *b = *state;
	struct cgp_playbook *pb = NULL;
	char err[512] = "";

	assert_int_equal(cgp_playbook_load_file(b->file, &pb, err, sizeof(err)), -EINVAL);
	assert_null(pb);
	print_message("  %s\n", err);
	assert_int_equal(strncmp(err, b->prefix, strlen(b->prefix)), 0);
	assert_non_null(strstr(err + strlen(b->prefix), b->reason));
}

/* Inline cases: the buffer, the exact "x:line:column: " prefix and a part of the reason. */
#define RULE_HEAD "version: 1\nrules:\n  - name: r\n    metric: cpu_pct\n"
static const struct bad bad_bufs[] = {
    {"", "x:1:1: ", "empty playbook"},
    {RULE_HEAD "    above: 90\n    between: [80, 95]\n    severity: warning\n", "x:6:5: ", "not both"},
    {RULE_HEAD "    above: 90\n    resolve_below: 95\n    severity: warning\n",
     "x:6:5: ", "resolve_below 95 is above the firing threshold 90"},
    {RULE_HEAD "    between: [80, 95]\n    resolve_below: 85\n    severity: warning\n",
     "x:6:5: ", "resolve_below 85 is above the firing threshold 80"},
    {RULE_HEAD "    above: 90\n    above: 91\n    severity: warning\n", "x:6:5: ", "duplicate key 'above'"},
    {RULE_HEAD "    above: ninety\n    severity: warning\n", "x:5:12: ", "'ninety' is not a number"},
    {RULE_HEAD "    above: -1\n    severity: warning\n", "x:5:12: ", "negative"},
    {RULE_HEAD "    above: 90\n    severity: fatal\n", "x:6:15: ", "unknown severity 'fatal'"},
    {RULE_HEAD "    above: 90\n", "x:3:5: ", "missing severity"},
    {"version: 1\nrules:\n  - metric: cpu_pct\n    above: 1\n", "x:3:5: ", "rule has no name"},
    {RULE_HEAD "    above: 90\n    severity: warning\n    select: pods\n", "x:7:13: ", "select: 'pods'"},
    {RULE_HEAD "    between: [80]\n    severity: warning\n", "x:5:14: ", "two numbers"},
    {RULE_HEAD "    between: [80, 80]\n    severity: warning\n", "x:5:14: ", "band upside down or empty"},
    {RULE_HEAD "    above: 90\n    for: 5\n    severity: warning\n", "x:6:10: ", "unparsable duration '5'"},
    {RULE_HEAD "    above: [90]\n    severity: warning\n", "x:5:12: ", "expected a single value"},
    {"rules: []\n", "x:1:1: ", "missing 'version: 1'"},
    {"version: 1\n", "x:1:1: ", "missing 'rules:'"},
    {"version: 1\nrules: {}\n", "x:2:8: ", "expected a list of rules"},
    {"version: 1\nrules: []\nalerts: []\n", "x:3:1: ", "unknown key 'alerts' at the top"},
    {"version: 1\nrules: []\n---\nversion: 1\n", "x:4:1: ", "a second YAML document"},
    {"- 1\n- 2\n", "x:1:1: ", "a playbook is a mapping"},
    {"version: 1\nrules:\n  - name: \"r\n", "x:4:1: ", "while scanning a quoted scalar at line 3 column 11"},
    {"version: 1\nrules: [\n\xff]\n", "x:3:1: ", "YAML syntax error: invalid leading UTF-8 octet"},
    {"version: 1\nrules: [*r]\n", "x:2:9: ", "alias '*r' names no anchor defined before it"},
    {"version: 1\nrules: &r [*r]\n", "x:2:12: ", "alias '*r' names no anchor"}, /* no cycle */
    {"version: 1\nrules: {a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
     "x:2:42: ", "nesting deeper than 32 levels"},
};

static void test_bad_buffers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_bufs) / sizeof(bad_bufs[0]); i++) {
		const struct bad *b = &bad_bufs[i];
		struct cgp_playbook *pb = NULL;
		char err[512] = "";
		int ret = cgp_playbook_parse("x", b->file, strlen(b->file), &pb, err, sizeof(err));

		if (ret != -EINVAL || pb || strncmp(err, b->prefix, strlen(b->prefix)) || !strstr(err, b->reason))
			fail_msg("case %zu: got %d \"%s\", want \"%s...%s\"", i, ret, err, b->prefix, b->reason);
	}
}

/* The reproducer: "[" * 100,000 took libyaml's loader 22 s (quadratic in the depth); refused now at the
 * 33rd level, with where and why. The same for a flat flood of nodes. No timing asserted: the bound on work is
 * the bound on depth and nodes, and fuzzing runs this parser with a per-input timeout. */
static void test_deep_and_wide(void **state)
{
	static const char head[] = "version: 1\nrules: ";
	size_t d = 100000, n = sizeof(head) - 1;
	char *buf = malloc(n + 2 * d + 2), err[512] = "";
	struct cgp_playbook *pb = NULL;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, head, n);
	memset(buf + n, '[', d);
	memset(buf + n + d, ']', d);
	memcpy(buf + n + 2 * d, "\n", 2);
	assert_int_equal(cgp_playbook_parse("deep.yaml", buf, n + 2 * d + 1, &pb, err, sizeof(err)), -EINVAL);
	assert_null(pb);
	assert_string_equal(err, "deep.yaml:2:39: nesting deeper than 32 levels");
	/* 30,000 empty lists side by side: past the node bound */
	buf = realloc(buf, n + 3 * 30000 + 3);
	assert_non_null(buf);
	buf[n] = '[';
	for (size_t i = 0; i < 30000; i++)
		memcpy(buf + n + 1 + 3 * i, "[],", 3);
	memcpy(buf + n + 1 + 3 * 30000, "]\n", 2);
	assert_int_equal(cgp_playbook_parse("wide.yaml", buf, n + 3 * 30000 + 3, &pb, err, sizeof(err)), -EINVAL);
	print_message("  %s\n", err);
	assert_non_null(strstr(err, "more than 16384 YAML nodes in one document"));
	assert_int_equal(strncmp(err, "wide.yaml:2:", 12), 0);
	free(buf);
}

/* Anchors and aliases still work (a value reused by reference, not copied). */
static void test_aliases(void **state)
{
	static const char yaml[] =
	    "version: 1\nrules:\n"
	    "  - name: a\n    metric: cpu_pct\n    above: &t 90\n    severity: &s warning\n"
	    "    action: &act \"scale up\"\n"
	    "  - name: b\n    metric: mem_pct\n    above: *t\n    severity: *s\n    action: *act\n";
	struct cgp_playbook *pb = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(cgp_playbook_parse("x", yaml, sizeof(yaml) - 1, &pb, err, sizeof(err)), 0);
	assert_int_equal(pb->nrules, 2);
	assert_true(pb->rules[1].above == 90);
	assert_int_equal(pb->rules[1].severity, CGP_SEV_WARNING);
	assert_string_equal(pb->rules[1].action, "scale up");
	cgp_playbook_free(pb);
}

static void test_missing_file(void **state)
{
	struct cgp_playbook *pb = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(cgp_playbook_load_file(DIR "no_such.yaml", &pb, err, sizeof(err)), -ENOENT);
	assert_null(pb);
	assert_string_equal(err, DIR "no_such.yaml: No such file or directory");
}

static void test_full_rule(void **state)
{
	static const char yaml[] = "version: 1\n"
				   "rules: # comment\n"
				   "  - name: slow_runq\n"
				   "    metric: runq_p99_us\n"
				   "    above: 2500.5\n"
				   "    for: 1h30m\n"
				   "    severity: warning\n"
				   "    select: /kubepods/*\n"
				   "    action: 'Move the pod: the node is \"busy\"'\n"
				   "    runbook: https://example.invalid/runq\n"
				   "  - name: all_mem\n"
				   "    metric: mem_pct\n"
				   "    above: \"90\"\n"
				   "    for: 250ms\n"
				   "    severity: critical\n"
				   "    select: all\n";
	struct cgp_playbook *pb = NULL;
	char err[256] = "";
	const struct cgp_rule *r;

	(void)state;
	assert_int_equal(cgp_playbook_parse("x", yaml, sizeof(yaml) - 1, &pb, err, sizeof(err)), 0);
	assert_int_equal(pb->nrules, 2);
	r = cgp_playbook_find(pb, "slow_runq");
	assert_non_null(r);
	assert_int_equal(r->line, 3);
	assert_int_equal(r->metric, CGP_METRIC_RUNQ_P99_US);
	assert_true(r->above == 2500.5);
	assert_int_equal(r->for_ns, 5400 * NS_PER_S);
	assert_int_equal(r->select, CGP_SELECT_GLOB);
	assert_string_equal(r->select_glob, "/kubepods/*");
	assert_string_equal(r->action, "Move the pod: the node is \"busy\"");
	assert_string_equal(r->runbook, "https://example.invalid/runq");
	assert_false(r->has_resolve_below);
	r = cgp_playbook_find(pb, "all_mem");
	assert_non_null(r);
	assert_int_equal(r->for_ns, 250000000ull);
	assert_int_equal(r->select, CGP_SELECT_ALL);
	assert_string_equal(r->runbook, "");
	assert_null(cgp_playbook_find(pb, "nope"));
	cgp_playbook_free(pb);
}

/* `cgpulse playbook show` prints YAML that reads back to the very same rules. */
static void test_format_round_trip(void **state)
{
	static const char yaml[] = "version: 1\nrules:\n"
				   "  - name: odd\n    metric: runq_p99_us\n    above: 0.1\n    for: 1h1m1s1ms\n"
				   "    severity: warning\n    select: \"*/x*\"\n    action: \"a \\\\ b \\\" c\\td\"\n";
	struct cgp_playbook *pb = NULL, *back = NULL;
	char err[256] = "", *text;
	size_t i;

	(void)state;
	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	text = cgp_playbook_format(pb);
	assert_non_null(text);
	assert_non_null(strstr(text, "  - name: cpu_critical\n    metric: cpu_pct\n    above: 95\n    for: 5m\n"));
	assert_non_null(strstr(text, "    between: [80, 95]\n    for: 2m\n    severity: warning\n"));
	assert_int_equal(cgp_playbook_parse("shown", text, strlen(text), &back, err, sizeof(err)), 0);
	assert_int_equal(back->nrules, pb->nrules);
	for (i = 0; i < pb->nrules; i++)
		rules_equal(&pb->rules[i], &back->rules[i]);
	free(text);
	cgp_playbook_free(back);
	cgp_playbook_free(pb);

	assert_int_equal(cgp_playbook_parse("x", yaml, sizeof(yaml) - 1, &pb, err, sizeof(err)), 0);
	assert_string_equal(pb->rules[0].action, "a \\ b \" c\td");
	text = cgp_playbook_format(pb);
	assert_non_null(text);
	assert_non_null(strstr(text, "    for: 1h1m1s1ms\n"));
	assert_int_equal(cgp_playbook_parse("x", text, strlen(text), &back, err, sizeof(err)), 0);
	rules_equal(&pb->rules[0], &back->rules[0]);
	free(text);
	cgp_playbook_free(back);
	cgp_playbook_free(pb);
}

/* Found by fuzzing (tests/fuzz/playbook/regress-empty-rules): a playbook of no rules printed "rules:" alone,
 * which reads back as a null, not a list. */
static void test_format_no_rules(void **state)
{
	static const char yaml[] = "version: 1\nrules: []";
	struct cgp_playbook *pb = NULL, *back = NULL;
	char err[256] = "", *text;

	(void)state;
	assert_int_equal(cgp_playbook_parse("x", yaml, sizeof(yaml) - 1, &pb, err, sizeof(err)), 0);
	assert_int_equal(pb->nrules, 0);
	text = cgp_playbook_format(pb);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nrules: []\n"));
	if (cgp_playbook_parse("shown", text, strlen(text), &back, err, sizeof(err)))
		fail_msg("does not read back: %s", err);
	assert_int_equal(back->nrules, 0);
	free(text);
	cgp_playbook_free(back);
	cgp_playbook_free(pb);
}

/* Found by fuzzing (tests/fuzz/playbook/regress-line-separator): YAML's other line breaks (\N, \L, \P) were
 * printed raw inside double quotes, where reading back folds them to a space. */
static void test_format_line_breaks(void **state)
{
	static const char yaml[] = "version: 1\nrules:\n  - name: r\n    metric: cpu_pct\n    above: 1\n"
				   "    severity: warning\n    action: \"a\\Lb\\Nc\\Pd\\u00e9\\uFEFFf\"\n";
	struct cgp_playbook *pb = NULL, *back = NULL;
	char err[256] = "", *text;

	(void)state;
	assert_int_equal(cgp_playbook_parse("x", yaml, sizeof(yaml) - 1, &pb, err, sizeof(err)), 0);
	assert_string_equal(pb->rules[0].action, "a\xe2\x80\xa8"
						 "b\xc2\x85"
						 "c\xe2\x80\xa9"
						 "d\xc3\xa9"
						 "\xef\xbb\xbf"
						 "f");
	text = cgp_playbook_format(pb);
	assert_non_null(text);
	assert_non_null(strstr(text, "action: \"a\\Lb\\Nc\\Pd\xc3\xa9\\uFEFFf\""));
	if (cgp_playbook_parse("shown", text, strlen(text), &back, err, sizeof(err)))
		fail_msg("does not read back: %s", err);
	assert_string_equal(back->rules[0].action, pb->rules[0].action);
	free(text);
	cgp_playbook_free(back);
	cgp_playbook_free(pb);
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t ns;
	} cases[] = {
	    {"0", 0, 0},
	    {"0s", 0, 0},
	    {"250ms", 0, 250000000ull},
	    {"90s", 0, 90 * NS_PER_S},
	    {"5m", 0, 300 * NS_PER_S},
	    {"2h", 0, 7200 * NS_PER_S},
	    {"1h30m", 0, 5400 * NS_PER_S},
	    {"1m500ms", 0, 60500000000ull},
	    {"", -EINVAL, 0},
	    {"5", -EINVAL, 0},
	    {"m", -EINVAL, 0},
	    {"-5m", -EINVAL, 0},
	    {"5 m", -EINVAL, 0},
	    {"5d", -EINVAL, 0},
	    {"1.5m", -EINVAL, 0},
	    {"5m ", -EINVAL, 0},
	    {"99999999999999999999h", -ERANGE, 0},
	    {"6000000h", -ERANGE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ns = 12345;
		int ret = cgp_duration_parse(cases[i].s, &ns);

		if (ret != cases[i].ret || (!ret && ns != cases[i].ns))
			fail_msg("'%s': got %d %llu, want %d %llu", cases[i].s, ret, (unsigned long long)ns,
				 cases[i].ret, (unsigned long long)cases[i].ns);
	}
}

#define BAD_FILE(i, stem)                                                                                              \
	{                                                                                                              \
		.name = stem, .test_func = test_bad_file, .initial_state = (void *)&bad_files[i]                       \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_equals_design_table),
	    cmocka_unit_test(test_default_is_the_repo_file),
	    cmocka_unit_test(test_readme_example),
	    cmocka_unit_test(test_every_metric),
	    BAD_FILE(0, "unknown_metric"),
	    BAD_FILE(1, "missing_threshold"),
	    BAD_FILE(2, "band_upside_down"),
	    BAD_FILE(3, "negative_duration"),
	    BAD_FILE(4, "bad_duration"),
	    BAD_FILE(5, "duplicate_name"),
	    BAD_FILE(6, "syntax_error"),
	    BAD_FILE(7, "empty"),
	    BAD_FILE(8, "unknown_key"),
	    BAD_FILE(9, "wrong_version"),
	    cmocka_unit_test(test_bad_buffers),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_deep_and_wide),
	    cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_full_rule),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_format_no_rules),
	    cmocka_unit_test(test_format_line_breaks),
	    cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
