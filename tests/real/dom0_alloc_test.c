/*
 * Xen 4.17 allocates a PV dom0's initial mapping as one chunk of 2^order
 * pages and panics "Not enough RAM for domain 0 allocation" when it gets
 * none; order 19 (2 GiB) is never granted (measured with 520, 650 and
 * 1000 GiB of host RAM).  pvboot's layout says so: for the plain kernel
 * without a ramdisk the largest dom0 that builds is 514,732 MiB.  Real Xen
 * is checked on both sides of that edge, 1 MiB apart:
 *   - the largest boots (mode null: take over and stop), via pvboot run;
 *   - one MiB more, pvboot run refuses it up front in Xen's words, and the
 *     real Xen, started on the same command line pvboot run would use,
 *     panics with exactly those words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/harness/harness_priv.h"
#include "real/real.h"

#define PANIC "Not enough RAM for domain 0 allocation"

static const char *kernel(void)
{
	return "build/pvboot-kernel.elf";
}

/*
 * The largest dom0, in MiB, that pvboot's layout lets Xen 4.17 build for
 * the plain kernel: asked of `pvboot limits` once, for all three tests.
 */
static uint64_t largest_mib(void)
{
	static unsigned long long mib;
	struct run r;

	if (mib)
		return mib;
	r = run_sh("'%s' limits --kernel %s --ramdisk-size 0 --format json | jq -r "
		   "'.builders[] | select(.builder == \"xen-4.17-dom0\") | "
		   ".largest_mib, .largest_fails_with'",
		   pvboot(), kernel());
	assert_int_equal(r.status, 0);
	assert_int_equal(sscanf(r.out, "%llu", &mib), 1);
	assert_non_null(strstr(r.out, PANIC));
	run_free(&r);
	return mib;
}

static void test_largest_boots(void **state)
{
	char args[128];
	const char *f;

	(void)state;
	snprintf(args, sizeof(args), "--memory %lluM --mode null --ramdisk-size 0",
		 (unsigned long long)largest_mib());
	f = boot_as("", "alloc-largest", args);
	expect(f, ".ok", "true");
	expect(f, ".arrangement.agree", "true");
}

static void test_one_more_refused(void **state)
{
	struct run r;

	(void)state;
	r = run_sh("'%s' run --memory %lluM --mode null --ramdisk-size 0", pvboot(),
		   (unsigned long long)largest_mib() + 1);
	assert_int_equal(r.status, 1);
	if (!strstr(r.err, PANIC))
		fail_msg("pvboot run did not refuse in Xen's words: %s", r.err);
	run_free(&r);
}

/* One MiB more on the real Xen, with the command line pvboot run would give it. */
static void test_one_more_panics(void **state)
{
	struct run_cmdline *c = calloc(1, sizeof(*c));
	struct pv_error err = {0};
	char cache[512], xen[600], sh[8192];
	uint64_t dom0 = (largest_mib() + 1) << 20;
	struct run_plan p = {.kind = &run_kind_dom0, .g.kernel = kernel(), .memory = dom0};
	size_t n = 0;
	struct run r;

	(void)state;
	assert_non_null(c);
	/* pvboot's own cache (next to it), not one next to this test. */
	if (!getenv("PVBOOT_CACHE")) {
		const char *slash = strrchr(pvboot(), '/');

		snprintf(cache, sizeof(cache), "%.*s/cache",
			 slash ? (int)(slash - pvboot()) : 1, slash ? pvboot() : ".");
		setenv("PVBOOT_CACHE", cache, 1);
	}
	assert_int_equal(run_cache_dir(cache, sizeof(cache), &err), 0);
	if (run_fetch_xen(cache, "4.17", xen, sizeof(xen), NULL, &err))
		fail_msg("%s", err.msg);
	snprintf(p.xen, sizeof(p.xen), "%s", xen);
	p.qemu_mib = run_qemu_mib(dom0, 0);
	if (run_dom0_cmdline(&p, PV_MODE_NULL, c, &err))
		fail_msg("%s", err.msg);
	for (unsigned i = 0; i < c->argc; i++) {
		n += (size_t)snprintf(sh + n, sizeof(sh) - n, "'%s' ", c->argv[i]);
		assert_true(n < sizeof(sh));
	}
	free(c);
	r = run_sh("timeout 300 %s 2>&1", sh);
	if (!strstr(r.out, PANIC))
		fail_msg("Xen did not panic with \"" PANIC "\"; its last output: %s",
			 strlen(r.out) > 2000 ? r.out + strlen(r.out) - 2000 : r.out);
	print_message("Xen 4.17 with dom0_mem=%lluM: \"%s\"\n",
		      (unsigned long long)(dom0 >> 20), PANIC);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_largest_boots),
		cmocka_unit_test(test_one_more_refused),
		cmocka_unit_test(test_one_more_panics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
