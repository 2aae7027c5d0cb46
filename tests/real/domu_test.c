/*
 * Real boots of pvboot's kernel as a domU: Xen in QEMU (TCG), a Debian
 * Linux dom0 of the same release (scripts/build-dom0, built the first
 * time), and `xl -vvv create`, through `pvboot run --domu`, one at a time.
 * Each asserts that the real libxenguest's builder lines equal the
 * release's prediction (libxc-4.17 unless said) byte for byte, that the
 * domU powered off, and the kernel's own result, which the simulation must
 * print too.
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
#include "util/seed.h"

/* A report of `pvboot run --domu ...` (real.h). */
static const char *boot(const char *name, const char *args)
{
	char full[200];

	snprintf(full, sizeof(full), "domu-%s", name);
	return boot_as("--domu ", full, args);
}

/*
 * A run that passed every check: the builder's lines are the prediction's,
 * the domU powered off, and the result fields say the boot path did its
 * work.  @sel selects the run (". " or ".runs[i] ").
 */
static void expect_booted(const char *f, const char *sel, const char *mode, const char *module,
			  const char *ran)
{
#define EXPECT(expr, want) expect_at(f, sel, expr, want)
	EXPECT(".ok", "true");
	EXPECT(".guest", "domU");
	EXPECT(".qemu.exit_status", "0");
	EXPECT(".dom0.done", "true");
	EXPECT(".xl_status", "0");
	EXPECT(".builder_log.agree", "true");
	EXPECT(".builder_log.real == .builder_log.predicted", "true");
	EXPECT(".domu_shutdown.state + \" \" + .domu_shutdown.reason", "shutdown poweroff");
	EXPECT(".result.mode", mode);
	EXPECT("[.checks[] | select(.name == \"simulation-agrees\") | .ok] | .[0]", "true");
	if (strcmp(mode, "null")) {
		EXPECT(".result.pfns_verified == .result.nr_pages", "true");
		EXPECT(".result.nr_pages == .nr_pages", "true");
		EXPECT(".result.mismatches", "0");
		EXPECT(".result.pages_leaked", "0");
		EXPECT(".result.error", "");
		EXPECT(".result.module_alloc", module);
		EXPECT(".result.module_ran", ran);
	}
#undef EXPECT
}

#define VMALLOC_FAIL "vmalloc: allocation failure, allocated 16384 of 20480 bytes"

/* 512 MiB in each mode: what Xen, the dom0 and xl create cost, and the boot path on top. */
static void test_512m(void **state)
{
	const char *f;

	(void)state;
	f = boot("512m-null", "--memory 512M --mode null");
	expect_booted(f, ".", "null", NULL, NULL);

	f = boot("512m-no-revector", "--memory 512M --mode no-revector");
	expect_booted(f, ".", "no-revector", "ok", "true");
	expect(f, ".result.p2m_leaves_copied", "0");

	f = boot("512m-revector", "--memory 512M --mode revector");
	expect_booted(f, ".", "revector", "ok", "true");
	expect(f, ".result.p2m_leaves_copied", "256");
	expect(f, ".result.ka_pmds_left", "0");
	/* The kernel where pvboot read it from the ELF (its end moves as the kernel grows). */
	expect(f, ".builder_log.real[0] == .builder_log.predicted[0]", "true");
	expect(f,
	       ".builder_log.real[0] | startswith(\"xc_dom_alloc_segment:   kernel       : "
	       "0xffffffff81000000 -> 0xffffffff81\")",
	       "true");
}

/*
 * The seed's guest, `pvboot run --domu` without arguments: 131072 MB, the
 * kernel of the seed's extent, a 0x10784000-byte ramdisk.  The real
 * libxenguest prints the seed's own numbers: each of the 2012 posting's
 * lines, with "module0" for "ramdisk" and without the legacy
 * nr_page_tables lines, is among its lines in the same order.  Without the
 * fix the module load fails as the seed says; with it, it loads.
 */
static void test_seed(void **state)
{
	char filter[400];
	const char *f;
	unsigned at = 0;

	(void)state;
	f = boot("seed", "");
	expect(f, ".ok", "true");
	expect(f, ".runs | length", "2");
	expect(f, "[.runs[].mode] | join(\" \")", "no-revector revector");
	expect_booted(f, ".runs[0]", "no-revector", VMALLOC_FAIL, "false");
	expect(f, ".runs[0].result.ka_pmds_left > 0", "true");
	expect_booted(f, ".runs[1]", "revector", "ok", "true");
	expect(f, ".runs[1].result.nr_pages", "33554432");
	expect(f, ".runs[1].result.p2m_leaves_copied", "65536");
	expect(f, ".runs[1].result.ka_pmds_left", "0");
	expect(f, ".runs[1].result.ramdisk_ok", "true");
	expect(f, ".runs[1].result.ramdisk_bytes", "276316160");
	expect(f, ".runs[0].builder_log.real == .runs[1].builder_log.real", "true");
	expect(f, ".runs[0].builder_log.real[0]",
	       "xc_dom_alloc_segment:   kernel       : 0xffffffff81000000 -> 0xffffffff81e43000  "
	       "(pfn 0x1000 + 0xe43 pages)");
	expect(f,
	       ".runs[0].builder_log.real | index(\"xc_dom_alloc_segment:   phys2mach    : "
	       "0xffffffff925c7000 -> 0xffffffffa25c7000  (pfn 0x125c7 + 0x10000 pages)\") != null",
	       "true");
	for (size_t i = 0; i < sizeof(seed_log) / sizeof(seed_log[0]); i++) {
		char line[200], *p, *idx;
		unsigned k;

		if (!strncmp(seed_log[i], "nr_page_tables:", 15))
			continue;
		snprintf(line, sizeof(line), "%s", seed_log[i]);
		if ((p = strstr(line, "ramdisk     ")))
			memcpy(p, "module0", 7);
		snprintf(filter, sizeof(filter), ".runs[0].builder_log.real | index(\"%s\") // -1",
			 line);
		idx = jq(f, filter);
		k = (unsigned)strtoul(idx, NULL, 10);
		if (idx[0] == '-' || k < at)
			fail_msg("the seed's line '%s' is not in the real builder log after line %u "
				 "(index %s)",
				 line, at, idx);
		at = k;
		free(idx);
	}
}

/* Between 256 and 480 GiB: 384 GiB, revector, every one of 100663296 pfns verified. */
static void test_384g(void **state)
{
	const char *f;

	(void)state;
	f = boot("384g", "--memory 384G --mode revector --verify full");
	expect_booted(f, ".", "revector", "ok", "true");
	expect(f, ".dom0.memory_mib", "3072");
	expect(f, ".result.nr_pages", "100663296");
	expect(f, ".result.pfns_verified", "100663296");
	expect(f, ".result.p2m_leaves_copied", "196608");
	expect(f, ".result.ka_pmds_left", "0");
}

/*
 * Mode linear in a domU: with the plain kernel libxc puts the list in __ka
 * and the boot path adopts it there; with the INIT_P2M kernel libxc maps it
 * at 0x8000000000, in page tables of its own, and __ka is cleared below the
 * kernel and past it (docs/boot.md section 4, steps 4 and 6).  Every pfn
 * verified either way, the module loaded.
 */
static void test_2g_linear(void **state)
{
	char args[800];
	const char *f;

	(void)state;
	f = boot("2g-linear", "--memory 2G --mode linear");
	expect_booted(f, ".", "linear", "ok", "true");
	expect(f, ".result.nr_pages", "524288");
	expect(f, ".result.p2m_leaves_copied", "0");
	expect(f, ".result.ka_pmds_left", "0");
	expect(f, ".kernel | endswith(\"/pvboot-kernel.elf\")", "true");

	snprintf(args, sizeof(args),
		 "--kernel \"$(dirname '%s')/pvboot-kernel-initp2m.elf\" --memory 2G --mode linear",
		 pvboot());
	f = boot("2g-linear-initp2m", args);
	expect_booted(f, ".", "linear", "ok", "true");
	/* 8 PMDs below the kernel (cleanup_highmap to first_p2m_pfn), 1 past it. */
	expect(f, ".result.ka_pmds_removed", "9");
	expect(f, ".result.ka_pmds_left", "0");
	expect(f,
	       "[.builder_log.real[] | select(startswith(\"count_pgtables: "
	       "0x0000007fffffffff/39: 0x0000008000000000 -> \"))] | length",
	       "1");
}

/*
 * Each Debian release's toolstack (docs/builders.md section 1): Xen 4.14
 * with a bullseye dom0 and xen-utils-4.14, 4.20 with a trixie dom0 and
 * xen-utils-4.20, each built once by scripts/build-dom0.  The real
 * libxenguest's lines equal that release's prediction byte for byte: 4.14
 * rounds the module's end and mod_len up to pages, 4.20 does not, and the
 * guest is handed what its builder says.  Once the domU is down, the
 * release's xen-mfndump reads its P2M from the dom0, as that release's
 * tools read a guest (before 4.16 only through the 3-level tree).
 */
static void test_releases(void **state)
{
	static const struct {
		const char *release, *builder, *module0_end;
		uint64_t handed;
	} rel[] = {
		{"4.14", "libxc-4.14", "0xffffffff81bee000", 12349440},
		{"4.20", "libxc-4.20", "0xffffffff81bed14e", 12345678},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char name[32], args[200], want[300];
		const char *f;

		snprintf(name, sizeof(name), "xen-%s", rel[i].release);
		snprintf(args, sizeof(args),
			 "--xen-version %s --memory 1G --ramdisk-size 12345678 --mode revector "
			 "--mfndump",
			 rel[i].release);
		f = boot(name, args);
		expect_booted(f, ".", "revector", "ok", "true");
		expect(f, ".result.ka_pmds_left", "0");
		expect(f, ".result.ramdisk_ok", "true");
		snprintf(want, sizeof(want), "%llu", (unsigned long long)rel[i].handed);
		expect(f, ".result.ramdisk_bytes", want);
		expect(f, ".ramdisk.handed_bytes", want);
		expect(f, ".xen.release", rel[i].release);
		snprintf(want, sizeof(want), ".xen.version | startswith(\"%s.\")", rel[i].release);
		expect(f, want, "true");
		snprintf(want, sizeof(want),
			 "[.builder_log.real[] | select(startswith(\"xc_dom_alloc_segment:   module0 \"))]"
			 " | .[0] | contains(\" -> %s \")",
			 rel[i].module0_end);
		expect(f, want, "true");
		snprintf(want, sizeof(want),
			 "[.checks[] | select(.name == \"builder-log-agrees\") | .detail] | .[0] | "
			 "endswith(\"`pvboot layout --builder %s --format log`\")",
			 rel[i].builder);
		expect(f, want, "true");
		snprintf(want, sizeof(want), ".dom0.kernel | contains(\"/dom0-%s/\")", rel[i].release);
		expect(f, want, "true");
		/* The release's own xen-mfndump reads every pfn (4.14's through the tree only). */
		expect(f, "[.checks[] | select(.name == \"tools-read-p2m\") | .ok] | .[0]", "true");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_512m),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_2g_linear),
		cmocka_unit_test(test_releases),
		cmocka_unit_test(test_384g),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
