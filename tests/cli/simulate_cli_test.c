/*
 * pvboot simulate from the outside: the seed's guest side by side, JSON,
 * the result line, --fail-alloc, mode linear, and bad options.
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

static const char *pvboot(void)
{
	return getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
}

/* No arguments: the seed's 128 GiB guest, failing without the fix, loading with it. */
static void test_seed_default(void **state)
{
	struct run r = run_pvboot("simulate");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== libxc-4.2 guest of 131072 MiB, mode no-revector =="));
	assert_non_null(strstr(r.out, "vmalloc: allocation failure, allocated 16384 of 20480 bytes"));
	assert_non_null(
		strstr(r.out, "PVBOOT-RESULT {\"mode\":\"no-revector\",\"nr_pages\":33554432,"));
	assert_non_null(
		strstr(r.out,
		       "PVBOOT-RESULT {\"mode\":\"revector\",\"nr_pages\":33554432,\"p2m_leaves_copied\":65536,"));
	assert_non_null(
		strstr(r.out, "\"module_alloc\":\"ok\",\"module_vaddr\":\"0xffffffffa0000000\""));
	assert_non_null(strstr(r.out, "  module load   FAILED         ok"));
	run_free(&r);
}

static void test_json(void **state)
{
	struct run r;

	(void)state;
	r = run_sh("'%s' simulate --format json | jq -r '.runs[] | [.mode, .module_alloc, "
		   ".pfns_verified, .mismatches, .pages_leaked, .ka_pmds_left == 0] | map(tostring) | join(\" \")'",
		   pvboot());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
			    "no-revector vmalloc: allocation failure, allocated 16384 of 20480 bytes 33554432 0 0 false\n"
			    "revector ok 33554432 0 0 true\n");
	run_free(&r);

	/* Every builder boots the same way; a dom0 with INIT_P2M too. */
	r = run_sh("for b in libxc-4.17 xen-4.17-dom0; do '%s' simulate --builder $b --memory 6G "
		   "--mode revector --init-p2m 0x8000000000 --unmapped-ramdisk --format json | "
		   "jq -r '.runs[0] | [.module_alloc, .pfns_verified, .mismatches] | map(tostring) | join(\" \")'; done",
		   pvboot());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "ok 1572864 0\nok 1572864 0\n");
	run_free(&r);
}

static void test_fail_alloc(void **state)
{
	struct run r = run_pvboot("simulate --memory 1G --mode revector --fail-alloc 40");

	(void)state;
	/* Stopped with a clear error, status 1, and still every pfn verified. */
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "\"pfns_verified\":262144,\"mismatches\":0"));
	assert_non_null(strstr(r.out, "\"error\":\"p2m: out of memory"));
	run_free(&r);

	/* With JSON, the reason is in the JSON and on stderr, one line. */
	r = run_pvboot("simulate --memory 1G --mode revector --fail-alloc 40 --format json");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "\"error\": \"p2m: out of memory"));
	assert_non_null(strstr(r.err, "pvboot: simulate: libxc-4.2 guest of 1024 MiB, mode revector: p2m: out of memory"));
	assert_string_equal(strchr(r.err, '\n'), "\n");
	run_free(&r);
	/* And nothing on stderr when the boot holds. */
	r = run_pvboot("simulate --memory 1G --mode revector --format json");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	run_free(&r);
}

/*
 * Mode linear: the seed's guest with its list adopted in __ka, and a dom0
 * past the 3-level tree's 512 GiB, with INIT_P2M, that boots all the same.
 */
static void test_linear(void **state)
{
	struct run r = run_pvboot("simulate --mode linear");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== libxc-4.2 guest of 131072 MiB, mode linear =="));
	assert_non_null(
		strstr(r.out,
		       "pvboot: linear P2M list at 0xffffc90000000000 for 33554432 pfns: 65536 pages of the builder's list mapped in place, 0 given back, 128 PTE pages\n"));
	assert_non_null(strstr(r.out, "pvboot: the tools' 3-level tree: frame_list_list mfn 0x"));
	assert_non_null(strstr(r.out, ", p2m_vaddr 0xffffc90000000000, max_pfn 33554432\n"));
	assert_non_null(
		strstr(r.out,
		       "PVBOOT-RESULT {\"mode\":\"linear\",\"nr_pages\":33554432,\"p2m_leaves_copied\":0,"));
	assert_non_null(
		strstr(r.out,
		       "\"ka_pmds_left\":0,\"pfns_verified\":33554432,\"mismatches\":0,\"module_alloc\":\"ok\""));
	assert_non_null(strstr(r.out, "\"pages_leaked\":0,\"pages_double_freed\":0,\"error\":\"\"}"));
	assert_null(strstr(r.out, "side by side"));
	run_free(&r);

	r = run_sh("'%s' simulate --memory 600G --builder xen-4.17-dom0 --init-p2m 0x8000000000 "
		   "--unmapped-ramdisk --ramdisk-size 0 --mode linear --format json | jq -r '.runs[0] | "
		   "[.mode, .module_alloc, .pfns_verified, .mismatches, .pages_leaked, .ka_pmds_left, "
		   ".p2m_leaves_copied, .error] | map(tostring) | join(\" \")'",
		   pvboot());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "linear ok 157286400 0 0 0 0 \n");
	run_free(&r);

	/* What old tools lose past 512 GiB is said, and it is not a failure. */
	r = run_pvboot("simulate --memory 600G --builder libxc-4.17 --init-p2m 0x8000000000 "
		       "--unmapped-ramdisk --ramdisk-size 0 --mode linear --verify sample");
	assert_int_equal(r.status, 0);
	assert_non_null(
		strstr(r.out,
		       "pvboot: frame_list_list ~0: 157286400 pfns are more than the 3-level tree's 134217728 (512 GiB); tools that read only the tree"));
	assert_non_null(strstr(r.out, "\"mismatches\":0,\"module_alloc\":\"ok\""));
	run_free(&r);

	/* An allocation that fails stops the boot; the P2M still answers every pfn. */
	r = run_pvboot("simulate --memory 1G --mode linear --fail-alloc 8");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "\"pfns_verified\":262144,\"mismatches\":0"));
	assert_non_null(strstr(r.out, "\"error\":\"p2m: out of memory for the linear P2M list\"}"));
	run_free(&r);
}

static const struct bad {
	const char *args;
	int status;
	const char *says;
} bad[] = {
	{"simulate --mode sideways", 2,
	 "unknown mode 'sideways' (revector, no-revector, null, linear, both)"},
	{"simulate --fail-alloc x", 2, "not a decimal number"},
	{"simulate --format xml", 2, "unknown format 'xml'"},
	{"simulate --verify some", 2, "neither full nor sample"},
	{"simulate --memory 0", 2, "at least one 4 KiB page"},
	{"simulate --memory 64M", 1, "pfn out of range"},
	{"simulate --memory 600G --builder libxc-4.17 --init-p2m 0x8000000000 --mode revector", 1,
	 "3-level P2M tree"},
};

/*
 * --virt-p2m-4tools: start_info carries SIF_VIRT_P2M_4TOOLS, so mode linear
 * builds no 3-level tree, and the tools find the list alone; without it
 * the same guest publishes both.
 */
static void test_virt_p2m_4tools(void **state)
{
	char img[4096];
	struct run r;

	(void)state;
	snprintf(img, sizeof(img), "%s/4tools.img", scratch_dir());
	r = run_pvboot("simulate --memory 4G --builder libxc-4.17 --ramdisk-size 0 --mode linear "
		       "--virt-p2m-4tools --dump '%s'", img);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "pvboot: SIF_VIRT_P2M_4TOOLS: the tools read the linear list, "
				      "no 3-level tree built, frame_list_list ~0"));
	assert_non_null(strstr(r.out, "\"pfns_verified\":1048576,\"mismatches\":0"));
	run_free(&r);
	r = run_pvboot("p2m-dump '%s'", img);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "tree        no p2m tree: frame_list_list is ~0"));
	assert_non_null(strstr(r.out, "entries     1048576 valid, 0 invalid"));
	run_free(&r);

	r = run_pvboot("simulate --memory 4G --builder libxc-4.17 --ramdisk-size 0 --mode linear "
		       "--dump '%s'", img);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "SIF_VIRT_P2M_4TOOLS"));
	run_free(&r);
	r = run_pvboot("p2m-dump '%s'", img);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "agree       tree and list agree on all 1048576 pfns"));
	run_free(&r);
	remove(img);
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r = run_pvboot("%s", bad[i].args);

		print_message("pvboot %s -> %d\n", bad[i].args, r.status);
		assert_int_equal(r.status, bad[i].status);
		if (!strstr(r.err, bad[i].says) && !strstr(r.out, bad[i].says))
			fail_msg("'pvboot %s' did not say '%s': %s%s", bad[i].args, bad[i].says,
				 r.err, r.out);
		run_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_default), cmocka_unit_test(test_json),
		cmocka_unit_test(test_fail_alloc),   cmocka_unit_test(test_linear),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_virt_p2m_4tools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
