/*
 * Mode linear (src/boot/linear.c) on the simulated Xen: every builder at
 * boundary sizes, with the builder's list in __ka and at INIT_P2M; the
 * seed's guest; a dom0 past the 3-level tree's 512 GiB; the tools' two views
 * read from outside the guest (frame_list_list by mfn, and the array through
 * p2m_cr3 and p2m_vaddr by a page-table walk); and every allocation failing
 * in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include <pvboot/p2m_linear.h>
#include <pvboot/pgtable.h>

#include "boot/boot_fixture.h"

/*
 * @pfn's entry as Xen 4.6's tools find the linear list (map_p2m_list in
 * libxc's save code): from shared_info's p2m_cr3, the guest's tables by
 * machine frame down to the array's page for p2m_vaddr + pfn * 8.  False
 * when an entry on the way is not present (or a large page, which a PV
 * guest cannot have).
 */
static bool cr3_read(struct sim *s, uint64_t pfn, uint64_t *entry)
{
	const shared_info_t *sh = sim_frame(s, _mfn(s->shared_info_mfn));
	uint64_t va = sh->arch.p2m_vaddr + pfn * 8, m = sh->arch.p2m_cr3 >> PAGE_SHIFT;

	for (int level = PT_L4; level >= PT_L1; level--) {
		const uint64_t *t = sim_frame(s, _mfn(m));
		uint64_t e;

		if (!t)
			return false;
		e = t[pt_index(va, level)];
		if (!pte_present(e) || (level > PT_L1 && (e & _PAGE_PSE)))
			return false;
		m = mfn_x(pte_mfn(e));
	}
	*entry = ((const uint64_t *)sim_frame(s, _mfn(m)))[(va % PAGE_SIZE) / 8];
	return true;
}

/*
 * What shared_info publishes after a linear boot, checked from outside for
 * every @step-th pfn and the last: the array through p2m_cr3 (the guest's
 * own L4) holds the builder's assignment, which the M2P inverts; up to
 * 512 GiB the 3-level tree says the same, above it frame_list_list is ~0.
 */
static void expect_tools_view(struct sim *s, uint64_t nr_pages, uint64_t step)
{
	const shared_info_t *sh = sim_frame(s, _mfn(s->shared_info_mfn));

	assert_int_equal(sh->arch.max_pfn, nr_pages);
	assert_int_equal(sh->arch.p2m_vaddr, P2M_LINEAR_VADDR);
	assert_int_equal(sh->arch.p2m_cr3, mfn_x(s->cr3) << PAGE_SHIFT);
	assert_int_equal(sh->arch.p2m_generation % 2, 0);
	if (nr_pages > P2M_MAX_PFN)
		assert_int_equal(sh->arch.pfn_to_mfn_frame_list_list, ~0UL);
	for (uint64_t pfn = 0; pfn < nr_pages;
	     pfn = pfn + step < nr_pages || pfn == nr_pages - 1 ? pfn + step : nr_pages - 1) {
		uint64_t want = mfn_x(sim_pfn_to_mfn(s, _pfn(pfn))), e = 0;

		if (!cr3_read(s, pfn, &e))
			fail_msg("pfn 0x%llx: p2m_cr3 maps nothing at p2m_vaddr + 8 * pfn",
				 (unsigned long long)pfn);
		if (e != want || sim_m2p(s, _mfn(e)) != pfn)
			fail_msg("pfn 0x%llx: the array holds 0x%llx, the builder gave 0x%llx",
				 (unsigned long long)pfn, (unsigned long long)e,
				 (unsigned long long)want);
		if (nr_pages <= P2M_MAX_PFN && tools_read(s, pfn) != want)
			fail_msg("pfn 0x%llx: the tools' tree holds 0x%llx, not 0x%llx",
				 (unsigned long long)pfn, (unsigned long long)tools_read(s, pfn),
				 (unsigned long long)want);
	}
}

/* A linear boot that did everything: module, __ka clean, every pfn, nothing lost. */
static void expect_booted(struct sim *s, const struct pv_boot_result *r, uint64_t nr_pages, bool full)
{
	if (r->mismatches || r->pages_leaked || r->pages_double_freed || !r->module_ok ||
	    !r->module_ran || r->ka_pmds_left || r->error[0])
		fail_msg("%s", s->console);
	assert_int_equal(r->mode, PV_MODE_LINEAR);
	assert_int_equal(r->nr_pages, nr_pages);
	assert_int_equal(r->p2m_leaves_copied, 0);
	if (full)
		assert_int_equal(r->pfns_verified, nr_pages);
	assert_non_null(strstr(s->console, "PVBOOT-RESULT {\"mode\":\"linear\""));
}

/*
 * Boundary sizes (512 MiB, 899 MiB: a partial last page of the list, 1 GiB:
 * exactly one PMD of array, 1 GiB + 2 MiB: a second PMD of one page, 4 GiB)
 * with every builder, the list in __ka; and with INIT_P2M where the builder
 * has it, the list at 0x8000000000 and the ramdisk unmapped.
 */
static void test_builders_and_sizes(void **state)
{
	static const uint64_t sizes[] = {512 << 8, 899 << 8, 1024 << 8, (1024 + 2) << 8, 4096 << 8};

	(void)state;
	for (int b = 0; b < PV_BUILDER_NR; b++) {
		for (int init_p2m = 0; init_p2m < 2; init_p2m++) {
			if (init_p2m && b == PV_BUILDER_LIBXC_42)
				continue; /* the legacy builder has no INIT_P2M */
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				struct guest_case g = {(enum pv_builder)b, sizes[i], 1 << 20,
						       init_p2m ? LINUX_INIT_P2M : PV_UNSET_ADDR,
						       init_p2m};
				struct pv_boot_result r;
				struct sim s;

				print_message("%s, %llu pages%s\n",
					      pv_builder_name((enum pv_builder)b),
					      (unsigned long long)sizes[i],
					      init_p2m ? ", INIT_P2M" : "");
				assert_int_equal(boot_one(&g, PV_MODE_LINEAR, 0, true, &s, &r), 0);
				expect_booted(&s, &r, sizes[i], true);
				expect_tools_view(&s, sizes[i], 97);
				sim_fini(&s);
			}
		}
	}
}

/*
 * The seed's 128 GiB guest with every builder: the list adopted where it
 * is, in __ka, its PMDs there cleared all the same; the module loads at
 * MODULES_VADDR, every pfn answers through the array.
 */
static void test_seed(void **state)
{
	(void)state;
	for (int b = 0; b < PV_BUILDER_NR; b++) {
		struct guest_case g = {(enum pv_builder)b, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES,
				       PV_UNSET_ADDR, false};
		struct pv_boot_result r;
		struct sim s;

		print_message("%s\n", pv_builder_name((enum pv_builder)b));
		assert_int_equal(boot_one(&g, PV_MODE_LINEAR, 0, true, &s, &r), 0);
		expect_booted(&s, &r, PV_SEED_NR_PAGES, true);
		assert_int_equal(r.module_vaddr, MODULES_VADDR);
		assert_true(r.ka_pmds_removed > 0);
		assert_non_null(
			strstr(s.console,
			       "pvboot: linear P2M list at 0xffffc90000000000 for 33554432 pfns: 65536 pages of the builder's list mapped in place"));
		/* Nothing of the builder's region is left under __ka past the kernel. */
		for (uint64_t va = 0xffffffff82000000ULL; va < 0xffffffffc0000000ULL; va += PMD_SIZE)
			if (va < MODULES_VADDR || va >= MODULES_VADDR + PMD_SIZE)
				assert_true(mfn_eq(sim_va_mfn(&s, va), INVALID_MFN));
		expect_tools_view(&s, PV_SEED_NR_PAGES, 4099);
		sim_fini(&s);
	}
}

/*
 * A 600 GiB dom0 with INIT_P2M: more than the 3-level tree holds, so
 * revector refuses, and linear boots, publishing frame_list_list ~0 and
 * saying what old tools lose.
 */
static void test_past_512g(void **state)
{
	struct guest_case g = {PV_BUILDER_XEN_417_DOM0, 600ULL << 18, 1 << 20, LINUX_INIT_P2M, true};
	struct pv_boot_result r;
	struct sim s;

	(void)state;
	assert_int_equal(boot_one(&g, PV_MODE_LINEAR, 0, false, &s, &r), 0);
	expect_booted(&s, &r, g.nr_pages, false);
	assert_true(r.pfns_verified > 65536);
	assert_non_null(
		strstr(s.console,
		       "pvboot: frame_list_list ~0: 157286400 pfns are more than the 3-level tree's 134217728 (512 GiB)"));
	expect_tools_view(&s, g.nr_pages, 999983);
	sim_fini(&s);

	assert_int_equal(boot_one(&g, PV_MODE_REVECTOR, 0, false, &s, &r), -1);
	assert_non_null(strstr(r.error, "do not fit the 3-level P2M tree (512 GiB at most)"));
	sim_fini(&s);
}

/*
 * Past what the host could store: 4 TiB and 16 TiB dom0s with INIT_P2M
 * boot in mode linear, their 8 and 32 GiB lists computed by the simulated
 * builder as the guest touches them (sim_lazy_list) and given back behind
 * it, so the whole process stays within a few GiB.  The sample is checked
 * inside the guest; from outside, p2m_cr3 and p2m_vaddr lead to the
 * builder's entry for pfns spread over the whole range.
 */
static void test_terabytes(void **state)
{
	static const uint64_t sizes[] = {4ULL << 28, 16ULL << 28}; /* pages */

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct guest_case g = {PV_BUILDER_XEN_417_DOM0, sizes[i], 1 << 20, LINUX_INIT_P2M, true};
		struct pv_boot_result r;
		struct rusage ru;
		struct sim s;

		assert_int_equal(boot_one(&g, PV_MODE_LINEAR, 0, false, &s, &r), 0);
		expect_booted(&s, &r, g.nr_pages, false);
		assert_int_equal(r.pfns_verified, 129 * 512);
		expect_tools_view(&s, g.nr_pages, g.nr_pages / 997 + 1);
		/* The list was computed chunk by chunk, and most of it given back. */
		assert_true(s.lazy_end - s.lazy_first <= g.nr_pages / 512);
		assert_true(s.lazy_end - s.lazy_first > g.nr_pages / 512 - 1024);
		assert_true(s.lazy_made >= (s.lazy_end - s.lazy_first) / 512);
		assert_true(s.lazy_made - s.lazy_dropped - s.lazy_kept <= 256);
		assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
		if (ru.ru_maxrss > 4L << 20)
			fail_msg("peak resident memory %ld KiB at %llu pages", ru.ru_maxrss,
				 (unsigned long long)g.nr_pages);
		sim_fini(&s);
	}
}

/*
 * Every allocation of a linear boot fails in turn (the list's own pages,
 * the page tables above the array, the tools' tree, __va, the module):
 * each run completes or stops with an error, the guest's P2M (the list, or
 * the builder's list while the adoption has not happened) answers every
 * pfn as the builder made it, and no page is lost or freed twice.
 */
static void fail_each(const struct guest_case *g)
{
	struct pv_boot_result r;
	struct sim s;
	uint64_t total, failed = 0;

	assert_int_equal(boot_one(g, PV_MODE_LINEAR, 0, true, &s, &r), 0);
	total = r.pages_allocated;
	sim_fini(&s);
	for (uint64_t n = 1; n <= total; n++) {
		int rc = boot_one(g, PV_MODE_LINEAR, n, true, &s, &r);

		if (rc) {
			failed++;
			assert_true(strlen(r.error) > 0);
		}
		if (r.mismatches || r.pages_double_freed || r.pages_leaked ||
		    r.pfns_verified != g->nr_pages)
			fail_msg("allocation %llu: %s", (unsigned long long)n, s.console);
		sim_fini(&s);
	}
	print_message("%s: %llu allocations, %llu of them stop the boot\n",
		      pv_builder_name(g->builder), (unsigned long long)total,
		      (unsigned long long)failed);
	assert_true(failed > 0);
}

static void test_fault_injection(void **state)
{
	struct guest_case in_ka = {PV_BUILDER_LIBXC_42, 1 << 18, 1 << 20, PV_UNSET_ADDR, false};
	struct guest_case init_p2m = {PV_BUILDER_XEN_417_DOM0, 2 << 18, 1 << 20, LINUX_INIT_P2M, true};

	(void)state;
	fail_each(&in_ka);
	fail_each(&init_p2m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builders_and_sizes),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_past_512g),
		cmocka_unit_test(test_terabytes),
		cmocka_unit_test(test_fault_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
