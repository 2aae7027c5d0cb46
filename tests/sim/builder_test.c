/*
 * The simulated builder writes the kernel (src/sim/builder.c write_kernel):
 * a real image's loadable bytes, as pv_image_load_file() lays them out, are
 * what the guest reads through the builder's initial mapping, for every
 * builder; the rest of the kernel's segment reads as zero; a kernel larger
 * than its segment is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pvboot/layout.h>
#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>
#include "image/fixtures.h"

static struct pv_error err;

static void build_with_kernel(enum pv_builder builder, const struct pv_image *img,
			      const uint8_t *k, uint64_t klen)
{
	struct pv_layout_in in = {
		.builder = builder,
		.nr_pages = 1ULL << 18,
		.virt_base = img->parms.virt_base,
		.kstart = img->parms.virt_kstart,
		.kend = img->parms.virt_kend,
		.entry = img->parms.virt_entry,
		.hypercall = PV_UNSET_ADDR,
		.p2m_base = PV_UNSET_ADDR,
	};
	struct pv_layout l;
	struct sim s;
	const struct pv_segment *seg;
	uint64_t seen = 0;

	assert_int_equal(pv_layout_build(&in, &l, NULL, &err), 0);
	seg = &l.seg[PV_SEG_KERNEL];
	assert_int_equal(sim_init(&s, in.nr_pages, sim_builder_pages(&l), &err), 0);
	s.kernel = k;
	s.kernel_len = klen;
	assert_int_equal(sim_build(&s, &l, &err), 0);
	/* Every byte of the segment through the builder's page tables, as the guest sees it. */
	for (uint64_t va = seg->vstart & ~(PAGE_SIZE - 1); va < seg->vend; va += PAGE_SIZE) {
		const uint8_t *page = sim_va_ptr(&s, va);

		assert_non_null(page);
		for (unsigned i = 0; i < PAGE_SIZE; i++) {
			uint64_t at = va + i;
			uint8_t want = at >= in.kstart && at - in.kstart < klen ? k[at - in.kstart] : 0;

			if (page[i] != want)
				fail_msg("%s: byte at 0x%llx is 0x%02x, the image has 0x%02x",
					 pv_builder_name(builder), (unsigned long long)at, page[i],
					 want);
			seen += at >= in.kstart && at - in.kstart < klen;
		}
	}
	assert_int_equal(seen, klen);
	sim_fini(&s);

	/* One page more than the segment holds. */
	assert_int_equal(sim_init(&s, in.nr_pages, sim_builder_pages(&l), &err), 0);
	s.kernel = k;
	s.kernel_len = seg->pages * PAGE_SIZE + PAGE_SIZE;
	assert_int_equal(sim_build(&s, &l, &err), -1);
	assert_non_null(strstr(err.msg, "do not fit its"));
	sim_fini(&s);
}

static void test_kernel_bytes(void **state)
{
	struct pv_image img;
	uint8_t *k;
	uint64_t klen;
	bool nonzero = false;

	(void)state;
	assert_int_equal(pv_image_read_file(fixture("xen.elf"), &img, &err), 0);
	assert_int_equal(pv_image_load_file(fixture("xen.elf"), &img, &k, &klen, &err), 0);
	for (uint64_t i = 0; i < klen; i++)
		nonzero |= k[i] != 0;
	assert_true(nonzero);
	for (int b = 0; b < PV_BUILDER_NR; b++)
		build_with_kernel(b, &img, k, klen);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_bytes),
	};

	return cmocka_run_group_tests(tests, build_fixtures, NULL);
}
