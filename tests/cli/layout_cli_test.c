/*
 * pvboot layout and pvboot limits from the outside: every format, the
 * seed's numbers, and bad input of every kind (one line on stderr, status 1
 * for bad data and 2 for bad usage, never a crash); the commands' --help.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/run.h"
#include "util/seed.h"

#define SEED_ARGS                                                                                  \
	"layout --builder libxc-4.2 --memory 128G --kernel-start 0xffffffff81000000 "              \
	"--kernel-end 0xffffffff81e43000 --ramdisk-size 0x10784000"

static void test_seed_log_cli(void **state)
{
	struct run r = run_pvboot(SEED_ARGS " --format log");
	char *line, *save = NULL;
	unsigned i = 0;

	(void)state;
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		assert_true(i < 14);
		assert_string_equal(line, seed_log[i]);
	}
	assert_int_equal(i, 14);
	run_free(&r);

	/* With no arguments at all, layout is the seed's guest. */
	r = run_pvboot("layout --format log");
	assert_int_equal(r.status, 0);
	assert_int_equal(count_lines(r.out), 14);
	assert_non_null(strstr(r.out, seed_log[13]));
	run_free(&r);

	/* Memory in MiB or pages gives the same guest. */
	r = run_pvboot("layout --memory 131072M --format log");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, seed_log[10]));
	run_free(&r);
	r = run_pvboot("layout --pages 0x2000000 --format log");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, seed_log[10]));
	run_free(&r);
}

static void test_table(void **state)
{
	struct run r = run_pvboot("layout");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "phys2mach (P2M)  0xffffffff925c7000 -> 0xffffffffa25c7000  "
				      "0x125c7    0x10000"));
	assert_non_null(strstr(r.out, "L4 1 + L3 1 + L2 1 + L1 276 = 279 (0x117)"));
	assert_non_null(strstr(r.out, "0xffffffffa0000000=#  <== MODULES_VADDR, inside the phys2mach"));
	assert_non_null(strstr(r.out, "<== 1 GiB"));
	assert_non_null(strstr(r.out, "<== 2 GiB"));
	assert_non_null(strstr(r.out, "<== P2M tree limit"));
	assert_non_null(strstr(r.out, "modules-vaddr-overlap:"));
	assert_non_null(strstr(r.out, "p2m-in-kernel-mapping:"));
	assert_null(strstr(r.out, "initial-mapping-over-1g:"));
	run_free(&r);
}

/* JSON is checked with jq, field by field. */
static void test_json(void **state)
{
	struct run r;

	(void)state;
	r = run_sh("'%s' layout --format json | jq -r '[.builder, .nr_pages, .virt_base, "
		   "(.segments[] | select(.name==\"p2m\") | .vstart, .vend, .pfn, .pages), "
		   "(.page_tables.levels | map(tostring) | join(\",\")), .page_tables.total, "
		   ".virt_alloc_end, .virt_pgtab_end, .start_info.pt_base, .start_info.mfn_list, "
		   "(.warnings | map(.code) | join(\",\")), (.log | length)] | map(tostring) | "
		   "join(\" \")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "libxc-4.2 33554432 0xffffffff80000000 0xffffffff925c7000 "
				   "0xffffffffa25c7000 0x125c7 65536 1,1,1,276 279 0xffffffffa26e2000 "
				   "0xffffffffa2800000 0xffffffffa25ca000 0xffffffff925c7000 "
				   "modules-vaddr-overlap,p2m-in-kernel-mapping 14\n");
	run_free(&r);

	/* dom0: segment names of the issue, including "total". */
	r = run_sh("'%s' layout --builder xen-4.17-dom0 --format json | jq -r '[.segments[].name] | "
		   "join(\",\")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "kernel,ramdisk,p2m,start_info,page_tables,boot_stack,total\n");
	run_free(&r);

	/* A 1 TiB guest with INIT_P2M: p2m-tree-limit, and the list outside the mapping. */
	r = run_sh("'%s' layout --builder libxc-4.17 --memory 1T --init-p2m 0x8000000000 "
		   "--unmapped-ramdisk --format json | jq -r '[(.warnings | map(.code) | join(\",\")), "
		   "(.segments[] | select(.name==\"p2m\") | .vstart, .mapped)] | map(tostring) | "
		   "join(\" \")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "p2m-tree-limit 0x8000000000 false\n");
	run_free(&r);
}

static void test_svg(void **state)
{
	struct run r = run_pvboot("layout --format svg --memory 512G");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "<svg ", 5), 0);
	assert_non_null(strstr(r.out, "MODULES_VADDR"));
	assert_non_null(strstr(r.out, "needs-init-p2m"));
	run_free(&r);
	r = run_sh("'%s' layout --format svg | xmllint --noout -",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void test_limits(void **state)
{
	struct run r;

	(void)state;
	r = run_sh("'%s' limits --format json | jq -r '.builders[] | [.builder, (.limits[] | "
		   "(.largest_mib // .status))] | map(tostring) | join(\" \")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "libxc-4.2 110948 111730 372580 524288 372580\n"
				   "libxc-4.17 110948 111730 372580 524288 372580\n"
				   "xen-4.17-dom0 110952 111730 372584 not-reached 372584\n");
	run_free(&r);

	r = run_pvboot("limits --builder libxc-4.17 --init-p2m 0x8000000000 --unmapped-ramdisk");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "modules-vaddr-overlap      never"));
	assert_null(strstr(r.out, "libxc-4.2"));
	run_free(&r);
}

/*
 * --xen-version and --dom0 name the release's builders (docs/builders.md
 * section 1.3); layout, limits, simulate and p2m-dump take every builder.
 */
static void test_releases(void **state)
{
	static const char *const builders[] = {"libxc-4.14",	"libxc-4.17",	 "libxc-4.20",
					       "xen-4.14-dom0", "xen-4.17-dom0", "xen-4.20-dom0"};
	const char *pv = getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
	struct run r;

	(void)state;
	/* The same guest by release and by name: the same log, line for line. */
	for (size_t i = 0; i < 6; i++) {
		r = run_sh("a=$('%s' layout --memory 4G --ramdisk-size 12345678 --format log "
			   "--xen-version %.4s %s) && b=$('%s' layout --memory 4G --ramdisk-size 12345678 "
			   "--format log --builder %s) && [ -n \"$a\" ] && [ \"$a\" = \"$b\" ]",
			   pv, builders[i] + (i < 3 ? 6 : 4), i < 3 ? "" : "--dom0", pv, builders[i]);
		if (r.status)
			fail_msg("--xen-version for %s: %s%s", builders[i], r.out, r.err);
		run_free(&r);
	}
	/* --dom0 alone: the default release's, 4.17. */
	r = run_pvboot("layout --dom0 --memory 1G --ramdisk-size 0 --format json");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"builder\": \"xen-4.17-dom0\""));
	run_free(&r);
	/* Where the releases differ: 4.14's rounded end, 4.14's nine dom0 lines. */
	r = run_pvboot("layout --xen-version 4.14 --memory 4G --ramdisk-size 12345678 --format log");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "module0      : 0xffffffff81e43000 -> 0xffffffff82a0a000  "));
	run_free(&r);
	r = run_pvboot("layout --xen-version 4.20 --memory 4G --ramdisk-size 12345678 --format log");
	assert_non_null(strstr(r.out, "module0      : 0xffffffff81e43000 -> 0xffffffff82a0914e  "));
	run_free(&r);
	r = run_sh("'%s' layout --xen-version 4.14 --dom0 --memory 4G --ramdisk-size 0 "
		   "--format log | grep -c ' ring:  *0000000000000000->0000000000000000'",
		   pv);
	assert_string_equal(r.out, "2\n");
	run_free(&r);

	/* limits: a release's two builders, or all six. */
	r = run_sh("'%s' limits --xen-version 4.20 --format json | jq -r '[.builders[].builder] | "
		   "join(\" \")'",
		   pv);
	assert_string_equal(r.out, "libxc-4.20 xen-4.20-dom0\n");
	run_free(&r);
	r = run_sh("'%s' limits --xen-version all --format json | jq -r '[.builders[].builder] | "
		   "join(\" \")'",
		   pv);
	assert_string_equal(r.out, "libxc-4.14 libxc-4.17 libxc-4.20 xen-4.14-dom0 "
				   "xen-4.17-dom0 xen-4.20-dom0\n");
	run_free(&r);

	/* simulate boots each, and p2m-dump reads what it dumped. */
	for (size_t i = 0; i < 6; i++) {
		r = run_sh("d=$(mktemp -d) && '%s' simulate --builder %s --memory 1G "
			   "--ramdisk-size 1M --mode revector --dump \"$d/img\" --format json | "
			   "jq -e '.runs[0].ka_pmds_left == 0 and .runs[0].module_alloc == \"ok\"' && "
			   "'%s' p2m-dump \"$d/img\" --format json | jq -e '.counts.valid == 262144'; s=$?; rm -rf \"$d\"; "
			   "exit $s",
			   pv, builders[i], pv);
		if (r.status)
			fail_msg("simulate/p2m-dump with %s: %s%s", builders[i], r.out, r.err);
		run_free(&r);
	}
}

/* Each bad input: the status, and one line on stderr that says what is wrong. */
static const struct bad {
	const char *args;
	int status;
	const char *says;
} bad[] = {
	{"layout --memory 0", 2, "at least one 4 KiB page"},
	{"layout --memory 12Q", 2, "unknown unit 'Q'"},
	{"layout --memory 9223372036854775808", 2, "64 TiB"},
	{"layout --memory 99999999999999999999", 2, "does not fit in 64 bits"},
	{"layout --memory 16E", 2, "does not fit in 64 bits"},
	{"layout --memory 1000001", 2, "not a whole number of 4 KiB pages"},
	{"layout --memory ''", 2, "not a size"},
	{"layout --pages 0x", 2, "has no digits"},
	{"layout --pages -5", 2, "not a decimal number"},
	{"layout --kernel-start 0xffffffff70000000", 2, "below virt_base"},
	{"layout --kernel-start 0xffffffff82000000", 2, "above --kernel-end"},
	{"layout --entry 0x1000", 2, "outside the kernel"},
	{"layout --init-p2m 0x8000000123 --builder libxc-4.17", 2, "not page aligned"},
	{"layout --builder libxc-9", 2, "unknown builder 'libxc-9'"},
	{"layout --xen-version 4.18", 2, "models Xen 4.14, 4.17 and 4.20, not '4.18'"},
	{"layout --xen-version", 2, "--xen-version needs a value"},
	{"layout --xen-version 4.14 --builder libxc-4.20", 2,
	 "--builder libxc-4.20 is not Xen 4.14's domU builder, libxc-4.14"},
	{"layout --dom0 --builder libxc-4.17", 2, "is not Xen 4.17's dom0 builder"},
	{"limits --xen-version all --builder libxc-4.2", 2, "give no other --xen-version or --builder"},
	{"layout --format xml", 2, "unknown format 'xml'"},
	{"layout --frobnicate", 2, "unknown option '--frobnicate'"},
	{"layout --memory", 2, "--memory needs a value"},
	{"layout stray", 2, "unexpected argument 'stray'"},
	{"layout --memory 64M", 1, "pfn out of range"},
	{"layout --builder libxc-4.17 --memory 64M", 1, "segment module0 too large"},
	{"layout --builder xen-4.17-dom0 --memory 16M", 1, "Domain 0 allocation is too small"},
	{"layout --memory 1T", 1, "top of the address space"},
	{"layout --ramdisk no/such/file", 1, "no/such/file"},
	{"limits --memory 1G", 2, "make no sense here"},
	{"inspect", 2, "which image?"},
	{"inspect no/such/kernel", 1, "no/such/kernel"},
	{"frobnicate", 2, "unknown command 'frobnicate'"},
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r = run_pvboot("%s", bad[i].args);

		print_message("pvboot %s -> %d: %s", bad[i].args, r.status, r.err);
		assert_int_equal(r.status, bad[i].status);
		if (!strstr(r.err, bad[i].says))
			fail_msg("'pvboot %s' said '%s', not '%s'", bad[i].args, r.err, bad[i].says);
		assert_int_equal(count_lines(r.err), 1);
		assert_string_equal(r.out, "");
		run_free(&r);
	}
}

/*
 * --help is made from the option tables (opts_help): a value's name after
 * the option, the help from column 26 and its further lines under it, an
 * option without help alone on its line, and a command's own options
 * before the guest's.
 */
static void test_help(void **state)
{
	struct run r = run_pvboot("layout --help");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\n  --format F             log (the builder's own lines), "
				      "table (default),\n                         json or svg\n"
				      "  --memory SIZE          guest memory"));
	assert_non_null(strstr(r.out, "\n  --kernel-start A       the kernel's virtual extent, instead "
				      "of an image\n  --kernel-end A\n  --virt-base A          "));
	assert_non_null(strstr(r.out, "\n  --no-init-p2m          ignore"));
	assert_non_null(strstr(r.out, "linear P2M list, so mode linear builds no 3-level tree\n"
				      "Parts left out are the seed's"));
	assert_null(strstr(r.out, "--help"));
	run_free(&r);

	r = run_pvboot("run --help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\n  --kind K               the kind of guest to boot: dom0, "
				      "domu (default dom0)\n  --domu                 --kind domu"));
	assert_non_null(strstr(r.out, "\nFor testing, without QEMU:\n  --serial-log FILE      "));
	assert_null(strstr(r.out, "--pages"));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_log_cli), cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),	     cmocka_unit_test(test_svg),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_releases),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
