/*
 * What the real-boot tests share: run `pvboot run [--domu] ... --format json`
 * into a scratch file, and assert on its report with jq.  Header-only
 * (static): each real-boot test file is one program.
 */
#ifndef PVBOOT_TEST_REAL_H
#define PVBOOT_TEST_REAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/run.h"

static const char *pvboot(void)
{
	const char *p = getenv("PVBOOT");

	return p ? p : "build/pvboot";
}

/* jq -r @filter over @file, one value per line, with the trailing newline cut. */
static char *jq(const char *file, const char *filter)
{
	struct run r = run_sh("jq -r '%s' '%s'", filter, file);
	char *out;

	if (r.status)
		fail_msg("jq '%s' %s: %s", filter, file, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	if (out[0] && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

/*
 * What a failed expectation prints before it fails: each run's failed
 * checks, a line each, and the last lines of that run's console log, so
 * that a CI log shows why the boot went wrong, not only that it did.
 */
static void print_failed_runs(const char *file)
{
	char *runs = jq(file, "(.runs // [.])[] | select([.checks[] | select(.ok | not)] | "
			      "length > 0) | .log");
	char *log, *end, *next;

	for (log = runs; *log; log = next) {
		struct run r;

		end = strchrnul(log, '\n');
		next = *end ? end + 1 : end;
		*end = '\0';
		r = run_sh("jq -r '(.runs // [.])[] | select(.log == \"%s\") | .checks[] | "
			   "select(.ok | not) | \"  failed \" + .name + \": \" + .detail' '%s'; "
			   "echo '  the last 30 lines of %s:'; tail -n 30 '%s' | cut -c1-200",
			   log, file, log, log);
		/* Not print_message: cmocka cuts a message at 1024 bytes. */
		fputs(r.out, stdout);
		fputs(r.err, stdout);
		fflush(stdout);
		run_free(&r);
	}
	free(runs);
}

/* `pvboot run @how @args --format json` into @path; exit 0 and 1 are reports. */
static void boot_once(const char *how, const char *args, const char *path)
{
	struct run r = run_sh("'%s' run %s%s --format json > '%s'", pvboot(), how, args, path);

	print_message("pvboot run %s%s: exit %d\n", how, args, r.status);
	if (r.status != 0 && r.status != 1)
		fail_msg("pvboot run %s%s: exit %d: %s", how, args, r.status, r.err);
	run_free(&r);
}

/*
 * `pvboot run @how @args --format json` into scratch file real-@name.json;
 * its path (good until the next call).  @how is "" (dom0) or "--domu ".
 * Exit 0 and 1 are reports; anything else fails the test.
 *
 * A domU boot whose Debian dom0 never got as far as `xl create` runs once
 * more, after printing why: that part is Debian's Linux and Xen's
 * toolstack under emulation, not pvboot's work, and nothing the tests
 * assert about pvboot comes before it.  The second report is the one the
 * test judges.
 */
static const char *boot_as(const char *how, const char *name, const char *args)
{
	static char path[700];
	char *again;

	snprintf(path, sizeof(path), "%s/real-%s.json", scratch_dir(), name);
	boot_once(how, args, path);
	if (!strcmp(how, "--domu ")) {
		again = jq(path, "[(.runs // [.])[] | .checks[] | select(.name == \"xl-create\" and "
				 "(.ok | not) and (.detail | startswith(\"xl create did not run\")))] "
				 "| length > 0");
		if (!strcmp(again, "true")) {
			print_failed_runs(path);
			print_message("the dom0 did not reach xl create: running it once more\n");
			boot_once(how, args, path);
		}
		free(again);
	}
	return path;
}

/* @filter over @file must print @want; otherwise fail, naming the failed checks. */
static void expect(const char *file, const char *filter, const char *want)
{
	char *got = jq(file, filter);

	if (strcmp(got, want)) {
		print_failed_runs(file);
		fail_msg("%s: %s is '%s', expected '%s'", file, filter, got, want);
	}
	free(got);
}

/* expect() on the run @sel selects ("." or ".runs[i]"): "@sel | @expr". */
static __attribute__((unused)) void expect_at(const char *file, const char *sel, const char *expr,
					      const char *want)
{
	char filter[300];

	snprintf(filter, sizeof(filter), "%s | %s", sel, expr);
	expect(file, filter, want);
}

#endif
