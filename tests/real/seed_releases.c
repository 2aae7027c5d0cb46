/*
 * The seed's 128 GiB guest for real on every Xen release Debian ships
 * (docs/builders.md section 1): as a domU that the release's own
 * libxenguest builds through xl create, and as a dom0 that its hypervisor
 * builds, each first without the fix (the first module load fails as the
 * 2012 posting says) and then with it.  What the builder prints equals that
 * release's prediction line for line.  Minutes per release, so not part of
 * make check: `make real-seed` runs it (README, "The two commands").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "real.h"
#include "util/run.h"

#define VMALLOC_FAIL "vmalloc: allocation failure, allocated 16384 of 20480 bytes"

static const char *const releases[] = {"4.14", "4.17", "4.20"};

/* Both runs of the seed's guest: without the fix the module fails, with it it loads. */
static void expect_seed(const char *f)
{
	expect(f, ".ok", "true");
	expect(f, "[.runs[].mode] | join(\" \")", "no-revector revector");
	expect(f, ".runs[0].result.module_alloc", VMALLOC_FAIL);
	expect(f, ".runs[0].result.ka_pmds_left > 0", "true");
	expect(f, ".runs[1].result.module_alloc", "ok");
	expect(f, ".runs[1].result.module_ran", "true");
	expect(f, ".runs[1].result.nr_pages", "33554432");
	expect(f, ".runs[1].result.p2m_leaves_copied", "65536");
	expect(f, ".runs[1].result.pfns_verified", "33554432");
	expect(f, ".runs[1].result.ka_pmds_left", "0");
	expect(f, ".runs[1].result.ramdisk_ok", "true");
	expect(f, "[.runs[].checks[] | select(.name == \"simulation-agrees\") | .ok] | all", "true");
}

static void test_domu(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
		char name[32], args[64], want[160];
		const char *f;

		snprintf(name, sizeof(name), "seed-domu-%s", releases[i]);
		snprintf(args, sizeof(args), "--xen-version %s --timeout 600", releases[i]);
		f = boot_as("--domu ", name, args);
		expect_seed(f);
		expect(f, "[.runs[].builder_log.agree] | all", "true");
		expect(f, ".runs[0].builder_log.real == .runs[1].builder_log.real", "true");
		/* The P2M list where the seed's log has it, in every release. */
		expect(f,
		       ".runs[0].builder_log.real | index(\"xc_dom_alloc_segment:   phys2mach    : "
		       "0xffffffff925c7000 -> 0xffffffffa25c7000  (pfn 0x125c7 + 0x10000 pages)\") != null",
		       "true");
		snprintf(want, sizeof(want),
			 "[.runs[].checks[] | select(.name == \"builder-log-agrees\") | .detail] | "
			 "all(endswith(\"--builder libxc-%s --format log`\"))",
			 releases[i]);
		expect(f, want, "true");
	}
}

static void test_dom0(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
		char name[32], args[64], want[160];
		const char *f;

		snprintf(name, sizeof(name), "seed-dom0-%s", releases[i]);
		snprintf(args, sizeof(args), "--xen-version %s --timeout 300", releases[i]);
		f = boot_as("", name, args);
		expect_seed(f);
		snprintf(want, sizeof(want),
			 "[.runs[].checks[] | select(.name == \"arrangement-lines\") | .detail] | "
			 "all(endswith(\"--builder xen-%s-dom0 --format log`\"))",
			 releases[i]);
		expect(f, want, "true");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domu),
		cmocka_unit_test(test_dom0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
