/*
 * The layout engine against the numbers real builders printed: the seed's
 * 128 GiB log, the worked table of docs/builders.md sections 9.1 and 9.2,
 * the libxenguest 4.17.7 measurements (docs/builders.md section 5.6) and the
 * Xen 4.17.7 dom0 arrangements of docs/real-xen.md section 10.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/layout.h>
#include <pvboot/p2m.h>
#include <pvboot/seed.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>

#include "util/seed.h"

struct captured {
	char line[64][160];
	unsigned n;
};

static void capture(void *ctx, const char *text)
{
	struct captured *c = ctx;

	assert_true(c->n < 64);
	snprintf(c->line[c->n++], sizeof(c->line[0]), "%s", text);
}

static struct pv_layout_in seed_in(enum pv_builder b, uint64_t nr_pages, uint64_t ramdisk)
{
	return (struct pv_layout_in){
		.builder = b,
		.nr_pages = nr_pages,
		.virt_base = START_KERNEL_MAP,
		.kstart = PV_SEED_KSTART,
		.kend = PV_SEED_KEND,
		.entry = PV_SEED_KSTART,
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = ramdisk,
		.p2m_base = PV_UNSET_ADDR,
	};
}

static void build_ok(const struct pv_layout_in *in, struct pv_layout *l, struct captured *c)
{
	struct pv_error err = {0};
	struct pv_log log = {capture, c};

	if (pv_layout_build(in, l, c ? &log : NULL, &err))
		fail_msg("layout failed: %s", err.msg);
}

static void test_seed_log(void **state)
{
	struct pv_layout_in in =
		seed_in(PV_BUILDER_LIBXC_42, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES);
	struct pv_layout l;
	struct captured c = {0};

	(void)state;
	build_ok(&in, &l, &c);
	assert_int_equal(c.n, 14);
	for (unsigned i = 0; i < 14; i++)
		assert_string_equal(c.line[i], seed_log[i]);
	assert_true(pv_layout_warnings(&l) & (1U << PV_WARN_MODULES_VADDR_OVERLAP));
	assert_true(pv_layout_warnings(&l) & (1U << PV_WARN_P2M_IN_KERNEL_MAPPING));
	assert_false(pv_layout_warnings(&l) & (1U << PV_WARN_INITIAL_MAPPING_OVER_1G));
	assert_int_equal(l.si.start_info_va, 0xffffffffa25c7000ULL);
	assert_int_equal(l.si.stack_top, 0xffffffffa26e2000ULL);
	assert_int_equal(l.si.mod_len, PV_SEED_RAMDISK_BYTES);
	assert_int_equal(l.si.nr_pt_frames, 0x117);
}

/*
 * libxenguest 4.17 gives the same numbers, with module0 and three
 * count_pgtables lines for four nr_page_tables ones
 * (docs/builders.md section 5.6).
 */
static void test_seed_libxc417(void **state)
{
	struct pv_layout_in in =
		seed_in(PV_BUILDER_LIBXC_417, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES);
	struct pv_layout l;
	struct captured c = {0};

	(void)state;
	build_ok(&in, &l, &c);
	assert_int_equal(c.n, 13);
	assert_string_equal(c.line[1], "xc_dom_alloc_segment:   module0      : 0xffffffff81e43000 -> "
				       "0xffffffff925c7000  (pfn 0x1e43 + 0x10784 pages)");
	assert_string_equal(c.line[6], "count_pgtables: 0x0000007fffffffff/39: 0x0000ff8000000000 -> "
				       "0x0000ffffffffffff, 1 table(s)");
	assert_string_equal(c.line[8], "count_pgtables: 0x00000000001fffff/21: 0x0000ffff80000000 -> "
				       "0x0000ffffa27fffff, 276 table(s)");
	for (unsigned i = 0; i < 6; i++)
		if (i != 1)
			assert_string_equal(c.line[i], seed_log[i]);
	for (unsigned i = 9; i < 13; i++)
		assert_string_equal(c.line[i], seed_log[i + 1]);
}

/* docs/builders.md section 9.1: one row per guest size. */
static const struct worked {
	uint64_t nr_pages;
	uint64_t p2m_end, p2m_pages, start_info_pfn, pt_vstart, pt_pages, l2, l1;
	uint64_t stack_pfn, virt_alloc_end, virt_pgtab_end;
	unsigned groups;
} worked[] = {
	{0x1000000, 0xffffffff9a5c7000, 0x8000, 0x1a5c7, 0xffffffff9a5ca000, 0xd7, 1, 212, 0x1a6a1,
	 0xffffffff9a6a2000, 0xffffffff9a800000, 1},
	{0x2000000, 0xffffffffa25c7000, 0x10000, 0x225c7, 0xffffffffa25ca000, 0x117, 1, 276, 0x226e1,
	 0xffffffffa26e2000, 0xffffffffa2800000, 1},
	{0x4000000, 0xffffffffb25c7000, 0x20000, 0x325c7, 0xffffffffb25ca000, 0x197, 1, 404, 0x32761,
	 0xffffffffb2762000, 0xffffffffb2800000, 1},
	{0x8000000, 0xffffffffd25c7000, 0x40000, 0x525c7, 0xffffffffd25ca000, 0x29a, 2, 662, 0x52864,
	 0xffffffffd2865000, 0xffffffffd2c00000, 2},
};

static void test_worked_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(worked) / sizeof(worked[0]); i++) {
		const struct worked *w = &worked[i];
		struct pv_layout_in in =
			seed_in(PV_BUILDER_LIBXC_42, w->nr_pages, PV_SEED_RAMDISK_BYTES);
		struct pv_layout l;
		struct captured c = {0};
		unsigned groups = 0;

		build_ok(&in, &l, &c);
		assert_int_equal(l.seg[PV_SEG_P2M].vstart, 0xffffffff925c7000ULL);
		assert_int_equal(l.seg[PV_SEG_P2M].vend, w->p2m_end);
		assert_int_equal(l.seg[PV_SEG_P2M].pfn, 0x125c7);
		assert_int_equal(l.seg[PV_SEG_P2M].pages, w->p2m_pages);
		assert_int_equal(l.seg[PV_SEG_START_INFO].pfn, w->start_info_pfn);
		assert_int_equal(l.seg[PV_SEG_XENSTORE].pfn, w->start_info_pfn + 1);
		assert_int_equal(l.seg[PV_SEG_CONSOLE].pfn, w->start_info_pfn + 2);
		assert_int_equal(l.seg[PV_SEG_PAGE_TABLES].vstart, w->pt_vstart);
		assert_int_equal(l.seg[PV_SEG_PAGE_TABLES].pages, w->pt_pages);
		assert_int_equal(l.pgtables[0], 1);
		assert_int_equal(l.pgtables[1], 1);
		assert_int_equal(l.pgtables[2], w->l2);
		assert_int_equal(l.pgtables[3], w->l1);
		assert_int_equal(l.seg[PV_SEG_BOOT_STACK].pfn, w->stack_pfn);
		assert_int_equal(l.virt_alloc_end, w->virt_alloc_end);
		assert_int_equal(l.mapping_end, w->virt_pgtab_end);
		for (unsigned k = 0; k < c.n; k++)
			groups += !strncmp(c.line[k], "nr_page_tables:", 15);
		assert_int_equal(groups, 4 * w->groups);
		assert_int_equal(l.passes, w->groups);
	}
}

/* The 512 GiB case runs two passes: 664 tables first, 662 at the fixed point. */
static void test_512g_two_passes(void **state)
{
	struct pv_layout_in in = seed_in(PV_BUILDER_LIBXC_42, 0x8000000, PV_SEED_RAMDISK_BYTES);
	struct pv_layout l;
	struct captured c = {0};

	(void)state;
	build_ok(&in, &l, &c);
	assert_string_equal(c.line[8], "nr_page_tables: 0x000000003fffffff/30: 0xffffffff80000000 -> "
				       "0xffffffffffffffff, 2 table(s)");
	assert_string_equal(c.line[9], "nr_page_tables: 0x00000000001fffff/21: 0xffffffff80000000 -> "
				       "0xffffffffd27fffff, 660 table(s)");
	assert_string_equal(c.line[13], "nr_page_tables: 0x00000000001fffff/21: 0xffffffff80000000 -> "
					"0xffffffffd2bfffff, 662 table(s)");
	assert_true(pv_layout_warnings(&l) & (1U << PV_WARN_INITIAL_MAPPING_OVER_1G));
	assert_true(pv_layout_warnings(&l) & (1U << PV_WARN_NEEDS_INIT_P2M));
	assert_false(pv_layout_warnings(&l) & (1U << PV_WARN_P2M_TREE_LIMIT));
}

/* docs/builders.md section 9.2, found by pv_layout_limits' bisection. */
static void test_thresholds(void **state)
{
	static const struct {
		uint64_t ramdisk;
		uint64_t p2m_pages, modules_mib, over_1g_mib;
	} t[] = {
		{PV_SEED_RAMDISK_BYTES, 28602880, 110949 - 1, 372581 - 1},
		{0, 63142400, 245869 - 1, 507501 - 1},
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct pv_layout_in in = seed_in(PV_BUILDER_LIBXC_42, 1, t[i].ramdisk);
		struct pv_limits lim;
		struct pv_error err;

		assert_int_equal(pv_layout_limits(&in, 256, &lim, &err), 0);
		assert_int_equal(lim.limit[PV_WARN_P2M_IN_KERNEL_MAPPING].largest, t[i].p2m_pages);
		assert_int_equal(lim.limit[PV_WARN_MODULES_VADDR_OVERLAP].largest >> 8,
				 t[i].modules_mib);
		assert_int_equal(lim.limit[PV_WARN_INITIAL_MAPPING_OVER_1G].largest >> 8,
				 t[i].over_1g_mib);
		assert_int_equal(lim.limit[PV_WARN_P2M_TREE_LIMIT].largest, P2M_MAX_PFN);
		/* A bisection, not a scan of every size. */
		assert_true(lim.layouts < 400);

		/* And the edge really is the edge: one MiB more crosses it. */
		in.nr_pages = t[i].p2m_pages;
		{
			struct pv_layout l;

			build_ok(&in, &l, NULL);
			assert_int_equal(l.seg[PV_SEG_P2M].vend <= MODULES_VADDR, 1);
			in.nr_pages += 256;
			build_ok(&in, &l, NULL);
			assert_true(l.seg[PV_SEG_P2M].vend > MODULES_VADDR);
		}
	}
}

/* docs/builders.md section 5.6: 4.17.7 prints a segment's exact end. */
static void test_libxc417_exact_ends(void **state)
{
	struct pv_layout_in in = {
		.builder = PV_BUILDER_LIBXC_417,
		.nr_pages = 0x20000,
		.virt_base = START_KERNEL_MAP,
		.kstart = START_KERNEL_MAP,
		.kend = START_KERNEL_MAP + 0x8420,
		.entry = START_KERNEL_MAP,
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = 0x10783001,
		.p2m_base = PV_UNSET_ADDR,
	};
	struct pv_layout l;
	struct captured c = {0};

	(void)state;
	build_ok(&in, &l, &c);
	assert_string_equal(c.line[0], "xc_dom_alloc_segment:   kernel       : 0xffffffff80000000 -> "
				       "0xffffffff80008420  (pfn 0x0 + 0x9 pages)");
	assert_string_equal(c.line[1], "xc_dom_alloc_segment:   module0      : 0xffffffff80009000 -> "
				       "0xffffffff9078c001  (pfn 0x9 + 0x10784 pages)");
	assert_int_equal(l.si.mod_len, 0x10783001);
}

/*
 * docs/builders.md section 1: what tells the releases apart.  libxc-4.14
 * prints page-rounded ends and hands a mapped initrd's mod_len rounded;
 * 4.17 and 4.20 lay out and print the same for a file that is not gzip.
 * The dom0 builders lay out alike and print in their own forms.
 */
static void test_releases(void **state)
{
	struct pv_layout_in in = {
		.builder = PV_BUILDER_LIBXC_414,
		.nr_pages = 0x20000,
		.virt_base = START_KERNEL_MAP,
		.kstart = START_KERNEL_MAP,
		.kend = START_KERNEL_MAP + 0x8420,
		.entry = START_KERNEL_MAP,
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = 0x10783001,
		.p2m_base = PV_UNSET_ADDR,
	};
	struct pv_layout l414, l417, l420, d414, d417, d420;
	struct captured c414 = {0}, c417 = {0}, c420 = {0}, e414 = {0}, e417 = {0}, e420 = {0};
	enum pv_builder b;

	(void)state;
	build_ok(&in, &l414, &c414);
	assert_string_equal(c414.line[0], "xc_dom_alloc_segment:   kernel       : 0xffffffff80000000 -> "
					  "0xffffffff80009000  (pfn 0x0 + 0x9 pages)");
	assert_string_equal(c414.line[1], "xc_dom_alloc_segment:   module0      : 0xffffffff80009000 -> "
					  "0xffffffff9078d000  (pfn 0x9 + 0x10784 pages)");
	assert_int_equal(l414.si.mod_len, 0x10784000);
	in.builder = PV_BUILDER_LIBXC_417;
	build_ok(&in, &l417, &c417);
	in.builder = PV_BUILDER_LIBXC_420;
	build_ok(&in, &l420, &c420);
	assert_int_equal(l417.si.mod_len, 0x10783001);
	assert_int_equal(l420.si.mod_len, 0x10783001);
	assert_int_equal(c417.n, c420.n);
	for (unsigned i = 0; i < c417.n; i++)
		assert_string_equal(c417.line[i], c420.line[i]);
	/* Past the two ends the three print the same lines. */
	assert_int_equal(c414.n, c417.n);
	for (unsigned i = 2; i < c417.n; i++)
		assert_string_equal(c414.line[i], c417.line[i]);
	assert_int_equal(l414.mapping_end, l417.mapping_end);

	/* dom0: no initrd, a kernel with PAE_MODE and a physical extent. */
	in.ramdisk_len = 0;
	in.pae_note = true;
	in.paddr_start = 0;
	in.paddr_end = 0x8420;
	in.builder = PV_BUILDER_XEN_414_DOM0;
	build_ok(&in, &d414, &e414);
	in.builder = PV_BUILDER_XEN_417_DOM0;
	build_ok(&in, &d417, &e417);
	in.builder = PV_BUILDER_XEN_420_DOM0;
	build_ok(&in, &d420, &e420);
	assert_int_equal(d414.mapping_end, d420.mapping_end);
	assert_int_equal(d417.si.nr_pt_frames, d420.si.nr_pt_frames);
	assert_string_equal(e414.line[0], " Xen  kernel: 64-bit, lsb, compat32");
	assert_string_equal(e414.line[1], " Dom0 kernel: 64-bit, PAE, lsb, paddr 0 -> 0x8420");
	assert_string_equal(e414.line[4], " Init. ramdisk: ffffffff80009000->ffffffff80009000");
	assert_string_equal(e414.line[7], " Xenstore ring: 0000000000000000->0000000000000000");
	assert_string_equal(e414.line[8], " Console ring:  0000000000000000->0000000000000000");
	assert_int_equal(e414.n, 13);
	assert_string_equal(e417.line[0], " Xen  kernel: 64-bit, lsb");
	assert_string_equal(e417.line[1], " Dom0 kernel: 64-bit, PAE, lsb, paddr 0 -> 0x8420");
	assert_int_equal(e417.n, 10);
	assert_string_equal(e420.line[1], " Dom0 kernel: 64-bit, lsb, paddr 0 -> 0x8420");
	for (unsigned i = 2; i < e417.n; i++)
		assert_string_equal(e417.line[i], e420.line[i]);
	/* With MOD_START_PFN 4.14 prints the ramdisk as zero. */
	in.builder = PV_BUILDER_XEN_414_DOM0;
	in.ramdisk_len = 0x1000;
	in.unmapped_initrd = true;
	e414 = (struct captured){0};
	build_ok(&in, &d414, &e414);
	assert_string_equal(e414.line[4], " Init. ramdisk: 0000000000000000->0000000000000000");

	/* --xen-version's lookup, both ways. */
	assert_int_equal(pv_builder_of_release("4.14", false, &b), 0);
	assert_int_equal(b, PV_BUILDER_LIBXC_414);
	assert_int_equal(pv_builder_of_release("4.20", true, &b), 0);
	assert_int_equal(b, PV_BUILDER_XEN_420_DOM0);
	assert_int_equal(pv_builder_of_release("4.2", false, &b), -1);
	assert_int_equal(pv_builder_of_release("4.18", true, &b), -1);
	for (const char *const *r = pv_xen_releases; *r; r++) {
		assert_int_equal(pv_builder_of_release(*r, false, &b), 0);
		assert_string_equal(pv_builder_info(b)->release, *r);
		assert_int_equal(pv_builder_of_release(*r, true, &b), 0);
		assert_true(pv_builder_is_dom0(b));
	}
	assert_null(pv_builder_info(PV_BUILDER_NR));
}

/* INIT_P2M and MOD_START_PFN with libxenguest: both land after the mapping. */
static void test_libxc417_init_p2m(void **state)
{
	struct pv_layout_in in =
		seed_in(PV_BUILDER_LIBXC_417, PV_SEED_NR_PAGES, PV_SEED_RAMDISK_BYTES);
	struct pv_layout l;
	struct captured c = {0};
	uint64_t pad_pfn;

	(void)state;
	in.p2m_base = LINUX_INIT_P2M;
	in.unmapped_initrd = true;
	build_ok(&in, &l, &c);
	assert_false(l.p2m_in_mapping);
	assert_int_equal(pv_layout_warnings(&l) & ~(1U << PV_WARN_P2M_TREE_LIMIT), 0);
	/* The mapping holds the kernel, magic pages, tables and stack only. */
	assert_true(l.mapping_end < PV_SEED_KEND + 0x800000);
	pad_pfn = (l.mapping_end - START_KERNEL_MAP) >> PAGE_SHIFT;
	assert_int_equal(l.seg[PV_SEG_RAMDISK].pfn, pad_pfn);
	assert_false(l.seg[PV_SEG_RAMDISK].mapped);
	assert_int_equal(l.si.flags, 1U << 3); /* SIF_MOD_START_PFN */
	assert_int_equal(l.si.mod_start, pad_pfn);
	assert_int_equal(l.si.mod_len, PV_SEED_RAMDISK_BYTES);
	assert_int_equal(l.seg[PV_SEG_P2M].vstart, LINUX_INIT_P2M);
	assert_int_equal(l.seg[PV_SEG_P2M].vend, LINUX_INIT_P2M + 0x10000000);
	assert_int_equal(l.si.mfn_list, LINUX_INIT_P2M);
	assert_int_equal(l.si.first_p2m_pfn, pad_pfn + 0x10784);
	/* 256 MiB of list: 0x10000 pages, one L3, one L2, 128 L1s. */
	assert_int_equal(l.p2m_pgtables[1], 1);
	assert_int_equal(l.p2m_pgtables[2], 1);
	assert_int_equal(l.p2m_pgtables[3], 128);
	assert_int_equal(l.si.nr_p2m_frames, 0x10000 + 130);
	/* 3 count lines for the kernel mapping, 3 for the P2M's. */
	{
		unsigned n = 0;

		for (unsigned i = 0; i < c.n; i++)
			n += !strncmp(c.line[i], "count_pgtables:", 15);
		assert_int_equal(n, 6);
	}
}

/*
 * docs/real-xen.md section 10 (and docs/builders.md section 6.6): Xen
 * 4.17.7's own prints, line for line.
 */
static const struct dom0_case {
	const char *name;
	uint64_t nr_pages, kstart, kend, entry, initrd;
	uint64_t p2m_base;
	bool unmapped;
	const char *lines[10];
	uint64_t nr_pt_frames, mod_start;
} dom0_cases[] = {
	{"10.1 Linux 6.1, 2048M", 0x80000, 0xffffffff81000000, 0xffffffff84a00000, 0xffffffff830791c0,
	 0x110e1e, LINUX_INIT_P2M, true,
	 {" Loaded kernel: ffffffff81000000->ffffffff84a00000",
	  " Phys-Mach map: 0000008000000000->0000008000400000",
	  " Start info:    ffffffff84a00000->ffffffff84a004b8",
	  " Page tables:   ffffffff84a01000->ffffffff84a2a000",
	  " Boot stack:    ffffffff84a2a000->ffffffff84a2b000",
	  " TOTAL:         ffffffff80000000->ffffffff84c00000", " ENTRY ADDRESS: ffffffff830791c0"},
	 0x29, 0x8000 /* derived: 2^order of a 76 MiB mapping */},
	{"10.3 minipv 512M mapped", 0x20000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x110e1e, PV_UNSET_ADDR, false,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Init. ramdisk: ffffffff80009000->ffffffff80119e1e",
	  " Phys-Mach map: ffffffff8011a000->ffffffff8021a000",
	  " Start info:    ffffffff8021a000->ffffffff8021a4b8",
	  " Page tables:   ffffffff8021b000->ffffffff80220000",
	  " Boot stack:    ffffffff80220000->ffffffff80221000",
	  " TOTAL:         ffffffff80000000->ffffffff80400000", " ENTRY ADDRESS: ffffffff80000000"},
	 5, 0xffffffff80009000},
	{"10.4 MOD_START_PFN 512M", 0x20000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x110e1e, PV_UNSET_ADDR, true,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Phys-Mach map: ffffffff80009000->ffffffff80109000",
	  " Start info:    ffffffff80109000->ffffffff801094b8",
	  " Page tables:   ffffffff8010a000->ffffffff8010f000",
	  " Boot stack:    ffffffff8010f000->ffffffff80110000",
	  " TOTAL:         ffffffff80000000->ffffffff80400000"},
	 5, 0x400},
	{"10.5 MOD_START_PFN + INIT_P2M 512M", 0x20000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x110e1e, LINUX_INIT_P2M, true,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Phys-Mach map: 0000008000000000->0000008000100000",
	  " Start info:    ffffffff80009000->ffffffff800094b8",
	  " Page tables:   ffffffff8000a000->ffffffff8000f000",
	  " Boot stack:    ffffffff8000f000->ffffffff80010000",
	  " TOTAL:         ffffffff80000000->ffffffff80400000"},
	 5, 0x400},
	{"10.6 8G, 420 MB mapped", 0x200000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x19111200, PV_UNSET_ADDR, false,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Init. ramdisk: ffffffff80009000->ffffffff9911a200",
	  " Phys-Mach map: ffffffff9911b000->ffffffff9a11b000",
	  " Start info:    ffffffff9a11b000->ffffffff9a11b4b8",
	  " Page tables:   ffffffff9a11c000->ffffffff9a1f1000",
	  " Boot stack:    ffffffff9a1f1000->ffffffff9a1f2000",
	  " TOTAL:         ffffffff80000000->ffffffff9a400000", " ENTRY ADDRESS: ffffffff80000000"},
	 0xd5, 0xffffffff80009000},
	{"10.7 8G MOD_START_PFN", 0x200000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x19111200, PV_UNSET_ADDR, true,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Phys-Mach map: ffffffff80009000->ffffffff81009000",
	  " Start info:    ffffffff81009000->ffffffff810094b8",
	  " Page tables:   ffffffff8100a000->ffffffff81017000",
	  " Boot stack:    ffffffff81017000->ffffffff81018000",
	  " TOTAL:         ffffffff80000000->ffffffff81400000"},
	 13, 0x2000},
	{"10.8 8G MOD_START_PFN + INIT_P2M", 0x200000, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x19111200, LINUX_INIT_P2M, true,
	 {" Loaded kernel: ffffffff80000000->ffffffff80008420",
	  " Phys-Mach map: 0000008000000000->0000008001000000",
	  " Start info:    ffffffff80009000->ffffffff800094b8",
	  " Page tables:   ffffffff8000a000->ffffffff8000f000",
	  " Boot stack:    ffffffff8000f000->ffffffff80010000",
	  " TOTAL:         ffffffff80000000->ffffffff80400000"},
	 5, 0x400},
	{"10.9 580 GiB INIT_P2M", 152043520, 0xffffffff80000000, 0xffffffff80008420,
	 0xffffffff80000000, 0x110e1e, LINUX_INIT_P2M, true,
	 {" Phys-Mach map: 0000008000000000->0000008048800000"},
	 5, 0x400},
};

static void test_dom0_real_xen(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dom0_cases) / sizeof(dom0_cases[0]); i++) {
		const struct dom0_case *t = &dom0_cases[i];
		struct pv_layout_in in = {
			.builder = PV_BUILDER_XEN_417_DOM0,
			.nr_pages = t->nr_pages,
			.virt_base = START_KERNEL_MAP,
			.kstart = t->kstart,
			.kend = t->kend,
			.entry = t->entry,
			.hypercall = PV_UNSET_ADDR,
			.ramdisk_len = t->initrd,
			.p2m_base = t->p2m_base,
			.unmapped_initrd = t->unmapped,
		};
		struct pv_layout l;
		struct captured c = {0};

		build_ok(&in, &l, &c);
		print_message("%s\n", t->name);
		assert_string_equal(c.line[0], " Xen  kernel: 64-bit, lsb");
		assert_string_equal(c.line[1], "VIRTUAL MEMORY ARRANGEMENT:");
		for (unsigned k = 0; k < 10 && t->lines[k]; k++) {
			bool found = false;

			for (unsigned m = 1; m < c.n; m++)
				found |= !strcmp(c.line[m], t->lines[k]);
			if (!found)
				fail_msg("%s: missing line '%s'", t->name, t->lines[k]);
		}
		assert_int_equal(l.si.nr_pt_frames, t->nr_pt_frames);
		assert_int_equal(l.si.mod_start, t->mod_start);
		assert_int_equal(l.si.mod_len, t->initrd);
	}
}

static void expect_builds(struct pv_layout_in in)
{
	struct pv_layout l;
	struct pv_error err = {0};

	if (pv_layout_build(&in, &l, NULL, &err))
		fail_msg("%llu pages: %s", (unsigned long long)in.nr_pages, err.msg);
}

static void expect_error(struct pv_layout_in in, enum pv_errcode code, const char *text)
{
	struct pv_layout l;
	struct pv_error err = {0};

	assert_int_equal(pv_layout_build(&in, &l, NULL, &err), -1);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, text))
		fail_msg("'%s' does not say '%s'", err.msg, text);
	assert_null(strchr(err.msg, '\n'));
}

static void test_builder_errors(void **state)
{
	struct pv_layout_in in;

	(void)state;
	/* Too little memory for what the mapping must hold. */
	in = seed_in(PV_BUILDER_LIBXC_42, 0x10000, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_PFN_RANGE, "pfn out of range");
	in = seed_in(PV_BUILDER_LIBXC_42, 0x12700, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_INITIAL_MAPPING, "not enough memory for initial mapping");
	in = seed_in(PV_BUILDER_LIBXC_417, 0x10000, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_SEGMENT_TOO_LARGE, "segment module0 too large");
	in = seed_in(PV_BUILDER_LIBXC_417, 0x12700, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_INITIAL_MAPPING, "not enough memory for initial mapping");
	in = seed_in(PV_BUILDER_XEN_417_DOM0, 0x1000, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_DOM0_TOO_SMALL, "Domain 0 allocation is too small for kernel image");
	/*
	 * Xen 4.17 grants the initial mapping one chunk of at most 2^18 pages:
	 * the seed's dom0 builds up to 505,442 MiB and not one MiB more
	 * (tests/real/dom0_alloc_test boots both sides for the plain kernel).
	 */
	in = seed_in(PV_BUILDER_XEN_417_DOM0, 505442ULL * 256, PV_SEED_RAMDISK_BYTES);
	expect_builds(in);
	in = seed_in(PV_BUILDER_XEN_417_DOM0, 505443ULL * 256, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_DOM0_NO_RAM, "Not enough RAM for domain 0 allocation");
	/* With INIT_P2M the list is outside the mapping: the same size builds. */
	in.p2m_base = 0x8000000000ULL;
	expect_builds(in);
	/* 1 TiB without INIT_P2M: a 2 GiB P2M cannot fit below 2^64. */
	in = seed_in(PV_BUILDER_LIBXC_42, 1ULL << 28, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_ADDRESS_WRAP, "top of the address space");
	in = seed_in(PV_BUILDER_LIBXC_417, 1ULL << 28, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_ADDRESS_WRAP, "top of the address space");
	in = seed_in(PV_BUILDER_XEN_417_DOM0, 1ULL << 28, PV_SEED_RAMDISK_BYTES);
	expect_error(in, PV_ERR_ADDRESS_WRAP, "top of the address space");
	/* libelf's bounds checks. */
	in = seed_in(PV_BUILDER_LIBXC_42, 0x2000000, 0);
	in.kstart = START_KERNEL_MAP - 0x1000;
	expect_error(in, PV_ERR_ELF_BOUNDS, "ELF start or entries are out of bounds");
	in = seed_in(PV_BUILDER_LIBXC_417, 0x2000000, 0);
	in.p2m_base = PV_SEED_KSTART + 0x1000;
	expect_error(in, PV_ERR_ELF_BOUNDS, "P->M table base is out of bounds");
	in = seed_in(PV_BUILDER_LIBXC_42, 0, 0);
	expect_error(in, PV_ERR_RANGE, "at least one page");
	in = seed_in(PV_BUILDER_LIBXC_42, (1ULL << 34) + 1, 0);
	expect_error(in, PV_ERR_RANGE, "64 TiB");
	/* An unaligned kernel start is the builder's error, as in libxc. */
	in = seed_in(PV_BUILDER_LIBXC_42, 0x2000000, 0);
	in.kstart += 0x10;
	in.entry = in.kstart;
	expect_error(in, PV_ERR_SEGMENT_ALIGN, "isn't page aligned");
}

/* With INIT_P2M, the modern builders lay out a 16 TiB guest in a small mapping. */
/*
 * What each builder does with INIT_P2M and MOD_START_PFN: libxc-4.2 drops
 * both, libxc-4.17 drops an INIT_P2M address at or above virt_base, dom0
 * keeps both; MOD_START_PFN without a ramdisk goes without a word.
 */
static void test_drop_ignored(void **state)
{
	static const struct {
		enum pv_builder b;
		uint64_t p2m_base, ramdisk;
		uint64_t want_p2m;
		bool want_unmapped;
		unsigned dropped;
	} t[] = {
		{PV_BUILDER_LIBXC_42, LINUX_INIT_P2M, PV_SEED_RAMDISK_BYTES, PV_UNSET_ADDR, false,
		 1U << PV_IGNORED_INIT_P2M | 1U << PV_IGNORED_MOD_START_PFN},
		{PV_BUILDER_LIBXC_42, PV_UNSET_ADDR, 0, PV_UNSET_ADDR, false, 0},
		{PV_BUILDER_LIBXC_417, LINUX_INIT_P2M, PV_SEED_RAMDISK_BYTES, LINUX_INIT_P2M, true, 0},
		{PV_BUILDER_LIBXC_417, START_KERNEL_MAP, PV_SEED_RAMDISK_BYTES, PV_UNSET_ADDR, true,
		 1U << PV_IGNORED_INIT_P2M_HIGH},
		{PV_BUILDER_XEN_417_DOM0, START_KERNEL_MAP, PV_SEED_RAMDISK_BYTES, START_KERNEL_MAP,
		 true, 0},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pv_layout_in in = seed_in(t[i].b, PV_SEED_NR_PAGES, t[i].ramdisk);

		in.p2m_base = t[i].p2m_base;
		in.unmapped_initrd = true;
		assert_int_equal(pv_layout_drop_ignored(&in), t[i].dropped);
		assert_int_equal(in.p2m_base, t[i].want_p2m);
		assert_int_equal(in.unmapped_initrd, t[i].want_unmapped);
	}
	assert_string_equal(pv_ignored_message(PV_IGNORED_MOD_START_PFN),
			    "libxc-4.2 has no MOD_START_PFN: the ramdisk is mapped");
	assert_string_equal(pv_ignored_message(PV_IGNORED_NR), "unknown");
}

/* XENFEAT_dom0: required, a domU builder refuses; absent from SUPPORTED_FEATURES, dom0 does. */
static void test_check_features(void **state)
{
	const uint32_t dom0 = 1U << XENFEAT_dom0;
	struct pv_error err = {0};

	(void)state;
	assert_int_equal(pv_builder_check_features(PV_BUILDER_LIBXC_417, dom0, dom0, true, &err), -1);
	assert_int_equal(err.code, PV_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "Kernel does not support unprivileged (DomU) operation");
	assert_int_equal(pv_builder_check_features(PV_BUILDER_XEN_417_DOM0, dom0, dom0, true, &err), 0);
	assert_int_equal(pv_builder_check_features(PV_BUILDER_XEN_417_DOM0, 0, 0, true, &err), -1);
	assert_string_equal(err.msg, "Kernel does not support Dom0 operation");
	assert_int_equal(pv_builder_check_features(PV_BUILDER_XEN_417_DOM0, 0, 0, false, &err), 0);
	assert_int_equal(pv_builder_check_features(PV_BUILDER_LIBXC_42, 0, 0, true, &err), 0);
}

static void test_huge_init_p2m(void **state)
{
	(void)state;
	for (int b = PV_BUILDER_LIBXC_417; b <= PV_BUILDER_XEN_417_DOM0; b++) {
		struct pv_layout_in in =
			seed_in((enum pv_builder)b, 1ULL << 32, PV_SEED_RAMDISK_BYTES);
		struct pv_layout l;

		in.p2m_base = LINUX_INIT_P2M;
		in.unmapped_initrd = true;
		build_ok(&in, &l, NULL);
		assert_int_equal(l.seg[PV_SEG_P2M].vend, LINUX_INIT_P2M + (1ULL << 35));
		assert_true(l.mapping_end < MODULES_VADDR);
		assert_int_equal(pv_layout_warnings(&l), 1U << PV_WARN_P2M_TREE_LIMIT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_log),
		cmocka_unit_test(test_seed_libxc417),
		cmocka_unit_test(test_worked_table),
		cmocka_unit_test(test_512g_two_passes),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_libxc417_exact_ends),
		cmocka_unit_test(test_libxc417_init_p2m),
		cmocka_unit_test(test_releases),
		cmocka_unit_test(test_dom0_real_xen),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_huge_init_p2m),
		cmocka_unit_test(test_drop_ignored),
		cmocka_unit_test(test_check_features),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
