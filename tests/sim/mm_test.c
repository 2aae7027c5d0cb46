/*
 * The simulated hypervisor's page-table rules (src/sim/mm.c, walk.c): tables
 * written into machine memory as a builder writes them, then pinned, loaded,
 * updated and refused through the hypercalls, with every frame's type and
 * count checked against what Xen would hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/pgtable.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>
#include <xen/errno.h>

#include <pvboot/sim_machine.h>

/* __START_KERNEL_map: L4 slot 511, L3 slot 510, L2 slot 0. */
#define VA     0xffffffff80000000ULL
#define PTE_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define PTE_RO (_PAGE_PRESENT | _PAGE_ACCESSED)

/* The hierarchy of build(): its tables, the data pages it maps RW. */
struct tree {
	uint64_t l4, l3, l2, l1; /* pfns */
	uint64_t data;		 /* first of NR_DATA data pfns */
};
#define NR_DATA 4

static mfn_t mfn_of(struct sim *s, uint64_t pfn)
{
	return sim_pfn_to_mfn(s, _pfn(pfn));
}

static uint64_t *page(struct sim *s, uint64_t pfn)
{
	return sim_frame(s, mfn_of(s, pfn));
}

static uint64_t pte(struct sim *s, uint64_t pfn, uint64_t flags)
{
	return pte_make(mfn_of(s, pfn), flags);
}

/* Machine address of entry @i of the table in @pfn, as mmu_update takes it. */
static uint64_t ptr_of(struct sim *s, uint64_t pfn, unsigned i)
{
	return (mfn_x(mfn_of(s, pfn)) << PAGE_SHIFT) | (i * 8ULL);
}

/* mmu_update of entry @i of the table in @pfn. */
static int upd(struct sim *s, uint64_t pfn, unsigned i, uint64_t val)
{
	return sim_mmu_update(s, ptr_of(s, pfn, i), val);
}

/* update_va_mapping of page @slot of the first 2 MiB at VA. */
static int uva(struct sim *s, uint64_t slot, uint64_t val)
{
	return sim_update_va_mapping(s, VA + slot * PAGE_SIZE, val);
}

static void sim_setup(struct sim *s, uint64_t nr_pages)
{
	struct pv_error err;

	assert_int_equal(sim_init(s, nr_pages, nr_pages, &err), 0);
}

/*
 * Write, as a builder does before pinning, a 4-level tree at pfns
 * @first..@first+3 (L4, L3, L2, L1) mapping at VA: the NR_DATA data pages
 * from @first+10 RW (the first one twice, also at L1 slot 8), then the four
 * table frames RO at L1 slots 4..7.
 */
static struct tree build(struct sim *s, uint64_t first)
{
	struct tree t = {first, first + 1, first + 2, first + 3, first + 10};

	for (uint64_t p = first; p <= t.l1; p++)
		memset(page(s, p), 0, PAGE_SIZE);
	page(s, t.l4)[pt_index(VA, PT_L4)] = pte(s, t.l3, PT_PROT_UPPER);
	page(s, t.l3)[pt_index(VA, PT_L3)] = pte(s, t.l2, PT_PROT_UPPER);
	page(s, t.l2)[pt_index(VA, PT_L2)] = pte(s, t.l1, PT_PROT_UPPER);
	for (unsigned i = 0; i < NR_DATA; i++) {
		page(s, t.l1)[i] = pte(s, t.data + i, PTE_RW);
		page(s, t.l1)[4 + i] = pte(s, first + i, PTE_RO);
	}
	page(s, t.l1)[8] = pte(s, t.data, PTE_RW);
	return t;
}

static void expect_state(struct sim *s, uint64_t pfn, unsigned type, uint32_t count, bool pinned)
{
	const struct sim_frame *f = sim_frame_state(s, mfn_of(s, pfn));

	assert_non_null(f);
	assert_int_equal(f->mfn, mfn_x(mfn_of(s, pfn)));
	assert_int_equal(f->type, type);
	assert_int_equal(f->count, count);
	assert_int_equal(f->pinned, pinned);
}

static void expect_none(struct sim *s, uint64_t pfn)
{
	assert_null(sim_frame_state(s, mfn_of(s, pfn)));
}

/* All frame states and cr3, to show that a refused call changed nothing. */
struct snapshot {
	struct sim_frame *f;
	uint64_t n;
	mfn_t cr3;
};

static struct snapshot snap(const struct sim *s)
{
	struct snapshot sn = {calloc(s->frames.used + 1, sizeof(*sn.f)), 0, s->cr3};

	assert_non_null(sn.f);
	for (uint64_t i = 0; i < s->frames.cap; i++)
		if (s->frames.slot[i].mfn != ~0ULL)
			sn.f[sn.n++] = s->frames.slot[i];
	assert_int_equal(sn.n, s->frames.used);
	return sn;
}

static void expect_unchanged(const struct sim *s, struct snapshot *sn)
{
	assert_int_equal(s->frames.used, sn->n);
	assert_int_equal(mfn_x(s->cr3), mfn_x(sn->cr3));
	for (uint64_t i = 0; i < sn->n; i++) {
		const struct sim_frame *f = sim_frame_state(s, _mfn(sn->f[i].mfn));

		assert_non_null(f);
		assert_int_equal(f->type, sn->f[i].type);
		assert_int_equal(f->count, sn->f[i].count);
		assert_int_equal(f->pinned, sn->f[i].pinned);
	}
	free(sn->f);
	sn->f = NULL;
}

/* Build the tree at pfn 0, pin its L4 and load it. */
static struct tree loaded(struct sim *s)
{
	struct tree t = build(s, 0);

	assert_int_equal(sim_mmuext(s, MMUEXT_PIN_L4_TABLE, mfn_of(s, t.l4)), 0);
	assert_int_equal(sim_mmuext(s, MMUEXT_NEW_BASEPTR, mfn_of(s, t.l4)), 0);
	return t;
}

static void test_pin_and_translate(void **state)
{
	struct sim s;
	struct tree t;

	(void)state;
	sim_setup(&s, 4096);
	t = build(&s, 0);
	assert_null(sim_va_ptr(&s, VA)); /* no cr3 yet */
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, t.l4)), 0);

	expect_state(&s, t.l4, SIM_PGT_L4, 1, true);
	expect_state(&s, t.l3, SIM_PGT_L3, 1, false);
	expect_state(&s, t.l2, SIM_PGT_L2, 1, false);
	expect_state(&s, t.l1, SIM_PGT_L1, 1, false);
	expect_state(&s, t.data, SIM_PGT_WRITABLE, 2, false); /* mapped RW twice */
	for (unsigned i = 1; i < NR_DATA; i++)
		expect_state(&s, t.data + i, SIM_PGT_WRITABLE, 1, false);
	expect_none(&s, t.data + NR_DATA);
	assert_int_equal(s.frames.used, 4 + NR_DATA);
	assert_int_equal(mfn_x(s.cr3), mfn_x(INVALID_MFN));

	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_BASEPTR, mfn_of(&s, t.l4)), 0);
	assert_int_equal(mfn_x(s.cr3), mfn_x(mfn_of(&s, t.l4)));
	expect_state(&s, t.l4, SIM_PGT_L4, 2, true); /* the pin and cr3 */

	for (unsigned i = 0; i < NR_DATA; i++) {
		uint64_t va = VA + i * PAGE_SIZE + 0x123;
		uint8_t *p = sim_va_ptr(&s, va);

		assert_int_equal(mfn_x(sim_va_mfn(&s, va)), mfn_x(mfn_of(&s, t.data + i)));
		assert_ptr_equal(p, (uint8_t *)page(&s, t.data + i) + 0x123);
		*p = (uint8_t)(0xa0 + i);
		assert_int_equal(((uint8_t *)page(&s, t.data + i))[0x123], 0xa0 + i);
	}
	/* The tables are visible (read-only) at slots 4..7. */
	assert_ptr_equal(sim_va_ptr(&s, VA + 7 * PAGE_SIZE), page(&s, t.l1));
	assert_ptr_equal(sim_va_ptr(&s, VA + 8 * PAGE_SIZE + 8), (uint8_t *)page(&s, t.data) + 8);
	/* Unmapped: an empty L1 slot, an empty L2 slot, an empty L4 slot, junk. */
	assert_null(sim_va_ptr(&s, VA + 9 * PAGE_SIZE));
	assert_int_equal(mfn_x(sim_va_mfn(&s, VA + 9 * PAGE_SIZE)), mfn_x(INVALID_MFN));
	assert_null(sim_va_ptr(&s, VA + (2ULL << 20)));
	assert_null(sim_va_ptr(&s, 0));
	assert_null(sim_va_ptr(&s, 0x0000800000000000ULL)); /* not canonical */

	assert_int_equal(s.hypercalls, 2);
	assert_int_equal(s.refused, 0);
	sim_fini(&s);
}

/* A page-table frame mapped RW: refused by mmu_update and update_va_mapping. */
static void test_refuse_writable_table(void **state)
{
	struct sim s;
	struct tree t;
	struct snapshot sn;
	uint64_t tables[] = {0, 1, 2, 3};

	(void)state;
	sim_setup(&s, 4096);
	t = loaded(&s);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t bad = pte(&s, tables[i], PTE_RW);

		sn = snap(&s);
		assert_int_equal(upd(&s, t.l1, 9, bad), -XEN_EBUSY);
		assert_int_equal(uva(&s, 9, bad), -XEN_EBUSY);
		/* Over the existing RO mapping of the same frame, too. */
		assert_int_equal(uva(&s, 4 + i, bad), -XEN_EBUSY);
		expect_unchanged(&s, &sn);
		assert_int_equal(page(&s, t.l1)[9], 0);
		assert_int_equal(page(&s, t.l1)[4 + i], pte(&s, tables[i], PTE_RO));
	}
	assert_int_equal(s.refused, 12);
	assert_int_equal(s.hypercalls, 2 + 12);

	/* Read-only is fine, and takes no type. */
	sn = snap(&s);
	assert_int_equal(uva(&s, 9, pte(&s, t.l2, PTE_RO)), 0);
	assert_ptr_equal(sim_va_ptr(&s, VA + 9 * PAGE_SIZE), page(&s, t.l2));
	expect_unchanged(&s, &sn);
	sim_fini(&s);
}

/* Frames the domain does not own, and entries where no table may be. */
static void test_refuse_foreign_and_bad_entries(void **state)
{
	struct sim s;
	struct tree t;
	struct snapshot sn;
	uint64_t other, beyond;

	(void)state;
	sim_setup(&s, 4096);
	t = loaded(&s);
	other = s.dom_base - 5;
	beyond = s.nr_frames + 10;
	sn = snap(&s);
	/* L1: RAM that is not the domain's, and no RAM at all (MMIO). */
	assert_int_equal(upd(&s, t.l1, 9, pte_make(_mfn(other), PTE_RO)), -XEN_EBUSY);
	assert_int_equal(uva(&s, 9, pte_make(_mfn(other), PTE_RW)), -XEN_EBUSY);
	assert_int_equal(upd(&s, t.l1, 9, pte_make(_mfn(beyond), PTE_RO)), -XEN_EPERM);
	/* L2: a foreign table, a large page, a cache bit, an L2 where an L1 belongs. */
	assert_int_equal(upd(&s, t.l2, 1, pte_make(_mfn(other), PT_PROT_UPPER)), -XEN_EINVAL);
	assert_int_equal(upd(&s, t.l2, 1, pte(&s, 100, PT_PROT_UPPER | _PAGE_PSE)), -XEN_EINVAL);
	assert_int_equal(upd(&s, t.l2, 1, pte(&s, 100, PT_PROT_UPPER | _PAGE_PCD)), -XEN_EINVAL);
	assert_int_equal(upd(&s, t.l2, 1, pte(&s, t.l2, PT_PROT_UPPER)), -XEN_EINVAL);
	/* L4: Xen's slots refuse any write, even of zero. */
	assert_int_equal(upd(&s, t.l4, 256, 0), -XEN_EINVAL);
	assert_int_equal(upd(&s, t.l4, 271, pte(&s, t.l3, PT_PROT_UPPER)), -XEN_EINVAL);
	/* The table page itself must be the domain's; other commands are not modelled. */
	assert_int_equal(sim_mmu_update(&s, (other << PAGE_SHIFT) | 8, 0), -XEN_EINVAL);
	assert_int_equal(sim_mmu_update(&s, ptr_of(&s, t.l1, 9) | MMU_MACHPHYS_UPDATE, 0),
			 -XEN_ENOSYS);
	/* update_va_mapping needs every level above the L1 present. */
	assert_int_equal(sim_update_va_mapping(&s, VA + (2ULL << 20), pte(&s, 100, PTE_RW)),
			 -XEN_EINVAL);
	assert_int_equal(sim_update_va_mapping(&s, 0, pte(&s, 100, PTE_RW)), -XEN_EINVAL);
	expect_unchanged(&s, &sn);
	assert_int_equal(page(&s, t.l1)[9], 0);
	assert_int_equal(page(&s, t.l2)[1], 0);
	assert_int_equal(page(&s, t.l4)[256], 0);
	assert_int_equal(s.refused, 13);

	/* The shared_info page may be mapped, writable too. */
	assert_int_equal(uva(&s, 9, pte_make(_mfn(s.shared_info_mfn), PTE_RW)), 0);
	assert_int_equal(sim_frame_state(&s, _mfn(s.shared_info_mfn))->count, 1);
	assert_ptr_equal(sim_va_ptr(&s, VA + 9 * PAGE_SIZE), sim_frame(&s, _mfn(s.shared_info_mfn)));
	assert_int_equal(uva(&s, 9, 0), 0);
	assert_null(sim_frame_state(&s, _mfn(s.shared_info_mfn)));
	sim_fini(&s);
}

/* Tables whose contents Xen refuses: pinning fails and undoes everything. */
static void test_refuse_malformed_pin(void **state)
{
	struct sim s;
	struct snapshot sn;

	(void)state;
	sim_setup(&s, 4096);
	/* An L1 (pfn 30) pinned; an L1 (pfn 32) mapping pfn 40 RW, then pfn 30 RW. */
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, 30)), 0);
	page(&s, 32)[0] = pte(&s, 40, PTE_RW);
	page(&s, 32)[1] = pte(&s, 30, PTE_RW);
	sn = snap(&s);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, 32)), -XEN_EBUSY);
	expect_unchanged(&s, &sn);
	expect_none(&s, 40);
	expect_none(&s, 32);

	/* An L1 mapping itself writable. */
	page(&s, 33)[5] = pte(&s, 33, PTE_RW);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, 33)), -XEN_EBUSY);
	expect_none(&s, 33);

	/* An L2 with a good L1 (pfn 34, mapping pfn 41 RW) then a PSE entry. */
	page(&s, 34)[0] = pte(&s, 41, PTE_RW);
	page(&s, 35)[0] = pte(&s, 34, PT_PROT_UPPER);
	page(&s, 35)[1] = pte(&s, 512, PT_PROT_UPPER | _PAGE_PSE);
	sn = snap(&s);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L2_TABLE, mfn_of(&s, 35)), -XEN_EINVAL);
	expect_unchanged(&s, &sn);
	expect_none(&s, 34);
	expect_none(&s, 41);
	/* Without the PSE entry it pins. */
	page(&s, 35)[1] = 0;
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L2_TABLE, mfn_of(&s, 35)), 0);
	expect_state(&s, 34, SIM_PGT_L1, 1, false);
	expect_state(&s, 41, SIM_PGT_WRITABLE, 1, false);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, 35)), 0);
	expect_none(&s, 34);

	/*
	 * An L4 (pfn 36) -> L3 (37) -> L2 (35, valid) in slot 0, and something in
	 * one of Xen's slots: refused, even when the entry is not present.
	 */
	page(&s, 37)[0] = pte(&s, 35, PT_PROT_UPPER);
	page(&s, 36)[0] = pte(&s, 37, PT_PROT_UPPER);
	for (unsigned slot = 256; slot <= 271; slot += 15) {
		uint64_t junk[] = {pte(&s, 38, PT_PROT_UPPER), 0x2};

		for (unsigned j = 0; j < 2; j++) {
			page(&s, 36)[slot] = junk[j];
			sn = snap(&s);
			assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, 36)),
					 -XEN_EINVAL);
			expect_unchanged(&s, &sn);
		}
		page(&s, 36)[slot] = 0;
	}
	expect_none(&s, 37);
	expect_none(&s, 41);

	/* A deep failure: the L4 holds, three levels down, a foreign frame. */
	page(&s, 34)[1] = pte_make(_mfn(s.dom_base - 5), PTE_RO);
	sn = snap(&s);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, 36)), -XEN_EBUSY);
	expect_unchanged(&s, &sn);
	page(&s, 34)[1] = 0;
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, 36)), 0);
	expect_state(&s, 36, SIM_PGT_L4, 1, true);
	expect_state(&s, 37, SIM_PGT_L3, 1, false);
	expect_state(&s, 35, SIM_PGT_L2, 1, false);
	expect_state(&s, 34, SIM_PGT_L1, 1, false);
	expect_state(&s, 41, SIM_PGT_WRITABLE, 1, false);
	assert_int_equal(s.refused, 8);
	sim_fini(&s);
}

/* Pinning against the rules: type conflicts, twice, not pinned, not owned. */
static void test_refuse_pin_rules(void **state)
{
	struct sim s;
	struct tree t;
	struct snapshot sn;
	mfn_t other;

	(void)state;
	sim_setup(&s, 4096);
	t = loaded(&s);
	other = _mfn(s.dom_base - 5);
	sn = snap(&s);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, t.data)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, t.l2)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, t.l4)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L3_TABLE, mfn_of(&s, t.l4)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, t.l3)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, 100)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, other), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, INVALID_MFN), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, other), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_BASEPTR, other), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_BASEPTR, mfn_of(&s, t.l1)), -XEN_EINVAL);
	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_USER_BASEPTR, mfn_of(&s, t.l4)), -XEN_ENOSYS);
	assert_int_equal(sim_mmuext(&s, 99, mfn_of(&s, t.l4)), -XEN_ENOSYS);
	expect_unchanged(&s, &sn);
	assert_int_equal(s.refused, 13);

	/* The flushes are no-ops; loading the current root again changes nothing. */
	sn = snap(&s);
	assert_int_equal(sim_mmuext(&s, MMUEXT_TLB_FLUSH_LOCAL, INVALID_MFN), 0);
	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_BASEPTR, mfn_of(&s, t.l4)), 0);
	expect_unchanged(&s, &sn);
	sim_fini(&s);
}

/* References come back: map and unmap, replace, grow and cut the tree. */
static void test_refcount_round_trips(void **state)
{
	struct sim s;
	struct tree t;

	(void)state;
	sim_setup(&s, 4096);
	t = loaded(&s);

	/* pfn 50 mapped RW twice, unmapped twice: no type left, so it can be an L1. */
	memset(page(&s, 50), 0, PAGE_SIZE);
	assert_int_equal(uva(&s, 9, pte(&s, 50, PTE_RW)), 0);
	assert_int_equal(upd(&s, t.l1, 10, pte(&s, 50, PTE_RW)), 0);
	expect_state(&s, 50, SIM_PGT_WRITABLE, 2, false);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, 50)), -XEN_EINVAL);
	assert_int_equal(uva(&s, 9, 0), 0);
	expect_state(&s, 50, SIM_PGT_WRITABLE, 1, false);
	/* RW -> RO in place drops the writable reference. */
	assert_int_equal(upd(&s, t.l1, 10, pte(&s, 50, PTE_RO)), 0);
	expect_none(&s, 50);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, 50)), 0);
	expect_state(&s, 50, SIM_PGT_L1, 1, true);
	assert_int_equal(uva(&s, 10, pte(&s, 50, PTE_RW)), -XEN_EBUSY);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, 50)), 0);
	expect_none(&s, 50);

	/* Replacing an entry moves the reference. */
	assert_int_equal(upd(&s, t.l1, 0, pte(&s, t.data + 1, PTE_RW)), 0);
	expect_state(&s, t.data, SIM_PGT_WRITABLE, 1, false);
	expect_state(&s, t.data + 1, SIM_PGT_WRITABLE, 2, false);

	/* A plain write into a frame with no type is data. */
	assert_int_equal(upd(&s, 60, 3, 0x1234), 0);
	assert_int_equal(page(&s, 60)[3], 0x1234);
	expect_none(&s, 60);

	/* A new L1 (pfn 51, mapping pfn 52 RW) hooked into L2 slot 1 is validated ... */
	memset(page(&s, 51), 0, PAGE_SIZE);
	page(&s, 51)[7] = pte(&s, 52, PTE_RW);
	assert_int_equal(upd(&s, t.l2, 1, pte(&s, 51, PT_PROT_UPPER)), 0);
	expect_state(&s, 51, SIM_PGT_L1, 1, false);
	expect_state(&s, 52, SIM_PGT_WRITABLE, 1, false);
	assert_int_equal(mfn_x(sim_va_mfn(&s, VA + (2ULL << 20) + 7 * PAGE_SIZE)),
			 mfn_x(mfn_of(&s, 52)));
	/* ... now its entries change only through the hypervisor ... */
	assert_int_equal(upd(&s, 51, 8, pte(&s, 53, PTE_RW)), 0);
	expect_state(&s, 53, SIM_PGT_WRITABLE, 1, false);
	/* ... and unhooking it devalidates it. */
	assert_int_equal(upd(&s, t.l2, 1, 0), 0);
	expect_none(&s, 51);
	expect_none(&s, 52);
	expect_none(&s, 53);
	assert_null(sim_va_ptr(&s, VA + (2ULL << 20) + 7 * PAGE_SIZE));
	/* Its frame is plain data again. */
	assert_int_equal(upd(&s, 51, 7, pte(&s, t.l1, PTE_RW)), 0);
	assert_int_equal(s.refused, 2);
	sim_fini(&s);
}

/* Unpin and a new cr3: the old tree loses its last reference and comes apart. */
static void test_unpin_and_switch_root(void **state)
{
	struct sim s;
	struct tree a, b;

	(void)state;
	sim_setup(&s, 4096);
	a = loaded(&s);
	b = build(&s, 200);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, a.l4)), 0);
	expect_state(&s, a.l4, SIM_PGT_L4, 1, false); /* cr3 still holds it */
	expect_state(&s, a.l1, SIM_PGT_L1, 1, false);
	expect_none(&s, b.l4);

	/* B was never pinned: loading it validates it. */
	assert_int_equal(sim_mmuext(&s, MMUEXT_NEW_BASEPTR, mfn_of(&s, b.l4)), 0);
	assert_int_equal(mfn_x(s.cr3), mfn_x(mfn_of(&s, b.l4)));
	for (uint64_t p = a.l4; p <= a.l1; p++)
		expect_none(&s, p);
	for (unsigned i = 0; i < NR_DATA; i++)
		expect_none(&s, a.data + i);
	expect_state(&s, b.l4, SIM_PGT_L4, 1, false);
	expect_state(&s, b.l3, SIM_PGT_L3, 1, false);
	expect_state(&s, b.l1, SIM_PGT_L1, 1, false);
	expect_state(&s, b.data, SIM_PGT_WRITABLE, 2, false);
	assert_int_equal(s.frames.used, 4 + NR_DATA);
	assert_ptr_equal(sim_va_ptr(&s, VA + PAGE_SIZE), page(&s, b.data + 1));

	/* A's frames are free to be anything now, even B's data pages' tables. */
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L1_TABLE, mfn_of(&s, a.data)), 0);

	/* Pinned and loaded: two references; unpin leaves one. */
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L4_TABLE, mfn_of(&s, b.l4)), 0);
	expect_state(&s, b.l4, SIM_PGT_L4, 2, true);
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, b.l4)), 0);
	expect_state(&s, b.l4, SIM_PGT_L4, 1, false);
	assert_int_equal(s.refused, 0);
	sim_fini(&s);
}

/*
 * The state table grows to hold 200,000 typed frames: 391 L1s under one L2
 * map 200,000 data pages writable.  Pinning the L2 validates them all; the
 * unpin gives every reference back.
 */
#define BIG_DATA       200000ULL
#define BIG_L1S	       ((BIG_DATA + 511) / 512)
#define BIG_FIRST_DATA 1000ULL

static void test_many_frames(void **state)
{
	struct sim s;
	uint64_t l2 = BIG_L1S;

	(void)state;
	sim_setup(&s, 300000);
	for (uint64_t i = 0; i < BIG_DATA; i++)
		page(&s, i / 512)[i % 512] = pte(&s, BIG_FIRST_DATA + i, PTE_RW);
	for (uint64_t i = 0; i < BIG_L1S; i++)
		page(&s, l2)[i] = pte(&s, i, PT_PROT_UPPER);
	assert_int_equal(sim_mmuext(&s, MMUEXT_PIN_L2_TABLE, mfn_of(&s, l2)), 0);

	assert_int_equal(s.frames.used, BIG_DATA + BIG_L1S + 1);
	assert_true(s.frames.cap >= 2 * s.frames.used);
	assert_int_equal(s.frames.cap & (s.frames.cap - 1), 0);
	for (uint64_t i = 0; i < BIG_DATA; i++)
		expect_state(&s, BIG_FIRST_DATA + i, SIM_PGT_WRITABLE, 1, false);
	for (uint64_t i = 0; i < BIG_L1S; i++)
		expect_state(&s, i, SIM_PGT_L1, 1, false);
	expect_state(&s, l2, SIM_PGT_L2, 1, true);
	expect_none(&s, BIG_FIRST_DATA + BIG_DATA);

	/* Unhook half the L1s through the hypervisor, then unpin the rest. */
	for (uint64_t i = 0; i < BIG_L1S; i += 2)
		assert_int_equal(sim_mmu_update(&s, ptr_of(&s, l2, (unsigned)i), 0), 0);
	for (uint64_t i = 0; i < BIG_DATA; i++) {
		if ((i / 512) % 2 == 0)
			expect_none(&s, BIG_FIRST_DATA + i);
		else
			expect_state(&s, BIG_FIRST_DATA + i, SIM_PGT_WRITABLE, 1, false);
	}
	assert_int_equal(sim_mmuext(&s, MMUEXT_UNPIN_TABLE, mfn_of(&s, l2)), 0);
	assert_int_equal(s.frames.used, 0);
	for (uint64_t i = 0; i < BIG_DATA; i++)
		expect_none(&s, BIG_FIRST_DATA + i);
	sim_fini(&s);
}

/*
 * Random map, remap and unmap requests in two L1s, against a model that
 * counts the RW mappings of each frame.  Frames from a range four times the
 * state table's first size collide in it often, so its probing and
 * deletion are exercised as well as the references.
 */
#define RND_OPS 40000
#define RND_LO	100 /* data pfns [RND_LO, 4096) */
#define RND_L1B 4   /* the second L1, at L2 slot 1 */

static uint64_t rnd_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void expect_model(struct sim *s, const uint32_t *rw, uint64_t pfn)
{
	if (rw[pfn])
		expect_state(s, pfn, SIM_PGT_WRITABLE, rw[pfn], false);
	else
		expect_none(s, pfn);
}

static void test_random_against_model(void **state)
{
	static uint32_t rw[4096];
	struct sim s;
	struct tree t;
	uint64_t x = 42, typed_fixed;

	(void)state;
	memset(rw, 0, sizeof(rw));
	sim_setup(&s, 4096);
	t = loaded(&s);
	memset(page(&s, RND_L1B), 0, PAGE_SIZE);
	assert_int_equal(upd(&s, t.l2, 1, pte(&s, RND_L1B, PT_PROT_UPPER)), 0);
	typed_fixed = s.frames.used;
	for (unsigned op = 0; op < RND_OPS; op++) {
		bool second = rnd_next(&x) & 1;
		uint64_t l1 = second ? RND_L1B : t.l1;
		unsigned slot = second ? rnd_next(&x) % 512 : 9 + rnd_next(&x) % 503;
		uint64_t old = page(&s, l1)[slot], pfn = RND_LO + rnd_next(&x) % (4096 - RND_LO);
		uint64_t val = 0, va = VA + (second ? 2ULL << 20 : 0) + slot * PAGE_SIZE;
		unsigned what = rnd_next(&x) % 4;

		if (what > 0)
			val = pte(&s, pfn, what == 3 ? PTE_RO : PTE_RW);
		if (rnd_next(&x) & 1)
			assert_int_equal(upd(&s, l1, slot, val), 0);
		else
			assert_int_equal(sim_update_va_mapping(&s, va, val), 0);
		if (pte_present(old) && (old & _PAGE_RW))
			rw[sim_m2p(&s, pte_mfn(old))]--;
		if (what == 1 || what == 2)
			rw[pfn]++;
		if (pte_present(old))
			expect_model(&s, rw, sim_m2p(&s, pte_mfn(old)));
		expect_model(&s, rw, pfn);
		assert_int_equal(mfn_x(sim_va_mfn(&s, va)),
				 what ? mfn_x(mfn_of(&s, pfn)) : mfn_x(INVALID_MFN));
		if (op % 5000 == 4999) {
			uint64_t mapped = 0;

			for (uint64_t p = RND_LO; p < 4096; p++) {
				expect_model(&s, rw, p);
				mapped += rw[p] != 0;
			}
			assert_int_equal(s.frames.used, typed_fixed + mapped);
		}
	}
	assert_true(s.frames.cap >= 2048); /* it grew on the way */
	assert_int_equal(s.refused, 0);
	sim_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_and_translate),
		cmocka_unit_test(test_refuse_writable_table),
		cmocka_unit_test(test_refuse_foreign_and_bad_entries),
		cmocka_unit_test(test_refuse_malformed_pin),
		cmocka_unit_test(test_refuse_pin_rules),
		cmocka_unit_test(test_refcount_round_trips),
		cmocka_unit_test(test_unpin_and_switch_root),
		cmocka_unit_test(test_many_frames),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
