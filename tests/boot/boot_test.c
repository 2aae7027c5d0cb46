/*
 * The boot path on the simulated Xen: the seed's guest without and with the
 * fix, every builder at boundary sizes, the tools' tree read from outside,
 * and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/pvsum.h>

#include "boot/boot_fixture.h"

static void test_seed(void **state)
{
	struct guest_case g = {PV_BUILDER_LIBXC_42, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES,
			       PV_UNSET_ADDR, false};
	struct pv_boot_result r;
	struct sim s;

	(void)state;
	/* Before Linux 3.7: the first module hits a stale PMD of the P2M's mapping. */
	assert_int_equal(boot_one(&g, PV_MODE_NO_REVECTOR, 0, true, &s, &r), 0);
	assert_string_equal(r.module_alloc,
			    "vmalloc: allocation failure, allocated 16384 of 20480 bytes");
	assert_false(r.module_ok);
	assert_true(r.ka_pmds_left > 0);
	assert_int_equal(r.p2m_leaves_copied, 0);
	assert_int_equal(r.pfns_verified, PV_SEED_NR_PAGES);
	assert_int_equal(r.mismatches, 0);
	assert_int_equal(r.pages_leaked, 0);
	assert_non_null(strstr(s.console, "PVBOOT-RESULT {\"mode\":\"no-revector\""));
	sim_fini(&s);

	/* Linux 3.7: the list copied out, __ka clean, the module loads at MODULES_VADDR. */
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
	assert_string_equal(r.module_alloc, "ok");
	assert_true(r.module_ok);
	assert_int_equal(r.module_vaddr, MODULES_VADDR);
	assert_int_equal(r.p2m_leaves_copied, PV_SEED_NR_PAGES / 512);
	assert_int_equal(r.ka_pmds_left, 0);
	assert_true(r.ka_pmds_removed > 0);
	assert_int_equal(r.pfns_verified, PV_SEED_NR_PAGES);
	assert_int_equal(r.mismatches, 0);
	assert_int_equal(r.pages_leaked, 0);
	assert_int_equal(r.pages_double_freed, 0);
	/* The tools' view, from outside the guest: every 4099th pfn and the last. */
	{
		const shared_info_t *sh = sim_frame(&s, _mfn(s.shared_info_mfn));

		assert_int_equal(sh->arch.max_pfn, PV_SEED_NR_PAGES);
		for (uint64_t pfn = 0; pfn < PV_SEED_NR_PAGES; pfn += 4099)
			assert_int_equal(tools_read(&s, pfn), mfn_x(sim_pfn_to_mfn(&s, _pfn(pfn))));
		assert_int_equal(tools_read(&s, PV_SEED_NR_PAGES - 1),
				 mfn_x(sim_pfn_to_mfn(&s, _pfn(PV_SEED_NR_PAGES - 1))));
	}
	/* Nothing of the builder's region is left under __ka past the kernel. */
	for (uint64_t va = 0xffffffff82000000ULL; va < 0xffffffffc0000000ULL; va += PMD_SIZE)
		if (va < MODULES_VADDR || va >= MODULES_VADDR + PMD_SIZE)
			assert_true(mfn_eq(sim_va_mfn(&s, va), INVALID_MFN));
	sim_fini(&s);
}

/*
 * The module's code runs where it was mapped; the ramdisk is read back
 * intact, mapped or not, and a wrong sum is caught; a boot that skips
 * xen_cleanhighmap leaves the old list's PMDs and fails to load its module.
 */
static void test_module_ramdisk_broken(void **state)
{
	struct guest_case g = {PV_BUILDER_XEN_417_DOM0, 1 << 17, 1117726, PV_UNSET_ADDR, false};
	uint64_t want = pv_pattern_sum(g.ramdisk);
	struct pv_boot_result r;
	struct sim s;

	(void)state;
	/* Known values: FNV-1a over words; "" and one zero-padded word. */
	assert_int_equal(pv_sum64(PV_SUM64_INIT, "", 0), PV_SUM64_INIT);
	assert_int_equal(pv_sum64(PV_SUM64_INIT, "\x01", 1), (PV_SUM64_INIT ^ 1) * PV_SUM64_PRIME);
	/* pv_pattern_sum is pv_sum64 over pv_pattern's bytes, a partial last word too. */
	for (uint64_t n = 0; n < 24; n++) {
		uint8_t buf[24];

		pv_pattern(n, 0, buf, n);
		assert_int_equal(pv_pattern_sum(n), pv_sum64(PV_SUM64_INIT, buf, n));
	}

	for (int unmapped = 0; unmapped < 2; unmapped++) {
		g.unmapped = unmapped;
		extra = (struct boot_extra){.fill_ramdisk = true, .sum_given = true, .sum = want};
		assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
		assert_true(r.module_ok);
		assert_true(r.module_ran);
		assert_int_equal(r.ramdisk_bytes, g.ramdisk);
		assert_int_equal(r.ramdisk_sum, want);
		assert_int_equal(r.ramdisk_ok, 1);
		assert_int_equal(r.pages_leaked, 0);
		assert_string_equal(r.error, "");
		sim_fini(&s);

		/* One bit off in the host's sum: the guest says so. */
		extra.sum = want ^ 1;
		assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
		assert_int_equal(r.ramdisk_ok, 0);
		sim_fini(&s);
	}

	/* No contents given: the frames read as zero, so the sum differs. */
	extra = (struct boot_extra){.sum_given = true, .sum = want};
	g.unmapped = false;
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
	assert_int_equal(r.ramdisk_ok, 0);
	sim_fini(&s);

	/* The seed's dom0 without xen_cleanhighmap: the fix undone, the module fails. */
	g = (struct guest_case){PV_BUILDER_XEN_417_DOM0, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES,
				PV_UNSET_ADDR, false};
	extra = (struct boot_extra){.skip_cleanhighmap = true};
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, false, &s, &r), 0);
	assert_int_equal(r.p2m_leaves_copied, PV_SEED_NR_PAGES / 512);
	assert_false(r.module_ok);
	assert_false(r.module_ran);
	assert_true(r.ka_pmds_left > 0);
	sim_fini(&s);
	extra = (struct boot_extra){0};
}

/* Boundary sizes with every builder: 512 MiB, 899 MiB, 1 GiB, 1 GiB + 2 MiB, 4 GiB. */
static void test_builders_and_sizes(void **state)
{
	static const uint64_t sizes[] = {512 << 8, 899 << 8, 1024 << 8, (1024 + 2) << 8, 4096 << 8};

	(void)state;
	for (int b = 0; b < PV_BUILDER_NR; b++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct guest_case g = {(enum pv_builder)b, sizes[i], 1 << 20, PV_UNSET_ADDR,
					       false};
			struct pv_boot_result r;
			struct sim s;

			print_message("%s, %llu pages\n", pv_builder_name((enum pv_builder)b),
				      (unsigned long long)sizes[i]);
			assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
			if (r.mismatches || r.pages_leaked || !r.module_ok || r.ka_pmds_left)
				fail_msg("%s", s.console);
			assert_int_equal(r.pfns_verified, sizes[i]);
			assert_int_equal(r.p2m_leaves_copied, (sizes[i] + 511) / 512);
			sim_fini(&s);
		}
	}
}

/* The null mode takes over and stops; a 3-level tree refuses more than 512 GiB. */
static void test_null_and_limits(void **state)
{
	struct guest_case g = {PV_BUILDER_LIBXC_417, 1 << 18, 1 << 20, LINUX_INIT_P2M, true};
	struct pv_boot_result r;
	struct sim s;

	(void)state;
	assert_int_equal(boot_one(&g, PV_MODE_NULL, 0, true, &s, &r), 0);
	assert_string_equal(r.module_alloc, "not tried");
	assert_string_equal(r.error, "");
	sim_fini(&s);

	/*
	 * A dom0 with its list at INIT_P2M: the boot must not hand out the
	 * list's pages, and cleaning "the list's PMDs" must not touch __ka
	 * (the list is not there): the kernel stays mapped.  16 GiB: a 32 MiB
	 * list, as many PMDs as reach the kernel's from slot 0.
	 */
	g.builder = PV_BUILDER_XEN_417_DOM0;
	g.nr_pages = 16ULL << 18;
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
	assert_true(r.module_ok);
	for (uint64_t va = PV_SEED_KSTART; va < PV_SEED_KEND; va += PAGE_SIZE)
		assert_false(mfn_eq(sim_va_mfn(&s, va), INVALID_MFN));
	assert_int_equal(r.mismatches, 0);
	assert_int_equal(r.pfns_verified, g.nr_pages);
	assert_int_equal(r.p2m_leaves_copied, g.nr_pages / 512);
	sim_fini(&s);

	g.nr_pages = (512ULL << 18) + 512; /* 512 GiB + 2 MiB */
	g.builder = PV_BUILDER_XEN_417_DOM0;
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, false, &s, &r), -1);
	assert_non_null(strstr(r.error, "3-level P2M tree"));
	assert_int_equal(r.mismatches, 0);
	sim_fini(&s);
}

/*
 * Every allocation of a 1 GiB guest's boot fails in turn: each run completes
 * or stops with a clear error, and the guest's P2M answers every pfn as the
 * builder made it.
 */
static void fail_each(const struct guest_case *g, uint64_t from, uint64_t to, uint64_t step)
{
	for (uint64_t n = from; n <= to; n += step) {
		struct pv_boot_result r;
		struct sim s;
		int rc = boot_one(g, PV_MODE_REVECTOR, n, n <= 2048, &s, &r);

		if (rc)
			assert_true(strlen(r.error) > 0);
		if (r.mismatches || r.pages_double_freed || !r.pfns_verified)
			fail_msg("allocation %llu: %s", (unsigned long long)n, s.console);
		sim_fini(&s);
	}
}

static void test_fault_injection(void **state)
{
	struct guest_case g = {PV_BUILDER_LIBXC_42, 1 << 18, 1 << 20, PV_UNSET_ADDR, false};
	struct pv_boot_result r;
	struct sim s;
	uint64_t total;

	(void)state;
	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, true, &s, &r), 0);
	total = r.pages_allocated;
	sim_fini(&s);
	fail_each(&g, 1, total, 1);
	/* The seed's guest, every point of it: tests/boot/fault_test.c. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_module_ramdisk_broken),
		cmocka_unit_test(test_builders_and_sizes),
		cmocka_unit_test(test_null_and_limits),
		cmocka_unit_test(test_fault_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
