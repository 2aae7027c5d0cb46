/*
 * pvboot run's report (src/report/run_report.c) of runs the harness judged:
 * two runs of one plan, side by side as text and as {"runs": [...]} in
 * JSON, from the log a real 512 MiB revector boot leaves, without QEMU.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/report.h>

#include "harness/two_runs.h"

static void test_report_two_runs(void **state)
{
	struct run_plan *p = calloc(1, sizeof(*p));
	struct run_one *runs = calloc(2, sizeof(*runs));
	char path[600], *text = NULL;
	size_t len = 0;
	FILE *f;
	struct run r;

	(void)state;
	assert_non_null(p);
	assert_non_null(runs);
	two_runs_evaluated(p, runs);
	assert_false(runs[0].ok); /* the log is of a revector run */
	assert_true(runs[1].ok);

	f = open_memstream(&text, &len);
	run_report_text(f, p, runs, 2);
	fclose(f);
	assert_non_null(strstr(text, "== pvboot run: 512 MiB dom0, no-revector, verify full =="));
	assert_non_null(strstr(text, "result-mode: mode \"revector\", asked for no-revector"));
	assert_non_null(strstr(text, "  module_alloc      ok                   ok"));
	assert_non_null(strstr(text, "  checks            FAILED               ok"));
	free(text);

	snprintf(path, sizeof(path), "%s/two-runs.json", scratch_dir());
	f = fopen(path, "w");
	assert_non_null(f);
	run_report_json(f, p, runs, 2);
	fclose(f);
	r = run_sh("jq -r '[(.runs | length), .ok, .runs[0].ok, .runs[1].ok, "
		   ".runs[1].arrangement.agree, .runs[1].wall_seconds.kernel] | map(tostring) | join(\" \")' '%s'",
		   path);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "2 false false true true 0.22\n");
	run_free(&r);
	two_runs_free(p, runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_two_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
