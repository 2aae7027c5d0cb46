/*
 * Booting one guest on the simulated Xen, for the boot path's tests: lay it
 * out, build it as its builder does, run pv_boot, and keep the machine for
 * the test to look at from outside (the tools' view).  Static functions in
 * a header: each test binary is one source file.  Include after <cmocka.h>.
 */
#ifndef PVBOOT_TESTS_BOOT_FIXTURE_H
#define PVBOOT_TESTS_BOOT_FIXTURE_H

#include <pvboot/boot.h>
#include <pvboot/pvsum.h>
#include <pvboot/seed.h>
#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

struct guest_case {
	enum pv_builder builder;
	uint64_t nr_pages, ramdisk;
	uint64_t p2m_base;
	bool unmapped;
};

/* Extra boot options for one test: the ramdisk's contents and the host's sum. */
struct boot_extra {
	bool fill_ramdisk;
	bool sum_given;
	uint64_t sum;
	bool skip_cleanhighmap;
	uint64_t kstart, kend;	/* the kernel's extent; 0: the seed's */
};
static struct boot_extra extra;

static inline uint64_t kernel_start(void)
{
	return extra.kstart ? extra.kstart : PV_SEED_KSTART;
}

static inline uint64_t kernel_end(void)
{
	return extra.kend ? extra.kend : PV_SEED_KEND;
}

static inline int pattern_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	pv_pattern(*(const uint64_t *)ctx, off, buf, n);
	return 0;
}

/*
 * Lay out and build one guest as its builder does; @pf is its platform.
 * Returns 0, or -1 with @err when the builder refuses the guest (the sim is
 * then not set up); a failure of the sim itself fails the test.
 */
static inline int try_build_one(const struct guest_case *g, struct sim *s, struct pv_platform *pf,
			 struct pv_error *err)
{
	struct pv_layout_in in = {
		.builder = g->builder,
		.nr_pages = g->nr_pages,
		.virt_base = START_KERNEL_MAP,
		.kstart = kernel_start(),
		.kend = kernel_end(),
		.entry = kernel_start(),
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = g->ramdisk,
		.p2m_base = g->p2m_base,
		.unmapped_initrd = g->unmapped,
	};
	struct pv_layout l;

	if (pv_layout_build(&in, &l, NULL, err))
		return -1;
	if (sim_init(s, in.nr_pages, sim_builder_pages(&l), err))
		fail_msg("sim: %s", err->msg);
	if (extra.fill_ramdisk) {
		s->ramdisk_read = pattern_read;
		s->ramdisk_ctx = (void *)&g->ramdisk;
	}
	if (sim_build(s, &l, err))
		fail_msg("sim: %s", err->msg);
	*pf = sim_platform(s);
	return 0;
}

static inline void build_one(const struct guest_case *g, struct sim *s, struct pv_platform *pf)
{
	struct pv_error err;

	if (try_build_one(g, s, pf, &err))
		fail_msg("layout: %s", err.msg);
}

/* The boot options of boot_one, with this test's extra ones. */
static inline struct pv_boot_opts boot_opts(enum pv_boot_mode mode, uint64_t fail_alloc, bool full)
{
	return (struct pv_boot_opts){
		.mode = mode,
		.virt_base = START_KERNEL_MAP,
		.kernel_start = kernel_start(),
		.kernel_end = kernel_end(),
		.fail_alloc = fail_alloc,
		.verify_full = full,
		.skip_cleanhighmap = extra.skip_cleanhighmap,
		.ramdisk_sum_given = extra.sum_given,
		.ramdisk_sum = extra.sum,
	};
}

/* Lay out, build and boot one guest; the sim stays alive for inspection. */
static inline int boot_one(const struct guest_case *g, enum pv_boot_mode mode, uint64_t fail_alloc,
		    bool full, struct sim *s, struct pv_boot_result *res)
{
	struct pv_boot_opts o = boot_opts(mode, fail_alloc, full);
	struct pv_platform pf;

	build_one(g, s, &pf);
	return pv_boot(&pf, &o, res);
}

/* Read pfn's entry the way save/restore does: frame_list_list, mid_mfn, leaf, by MFN. */
static inline uint64_t tools_read(struct sim *s, uint64_t pfn)
{
	const shared_info_t *sh = sim_frame(s, _mfn(s->shared_info_mfn));
	const uint64_t *top = sim_frame(s, _mfn(sh->arch.pfn_to_mfn_frame_list_list));
	const uint64_t *mid = sim_frame(s, _mfn(top[pfn >> 18]));
	const uint64_t *leaf = sim_frame(s, _mfn(mid[(pfn >> 9) & 511]));

	return leaf[pfn & 511];
}

#endif
