/*
 * The boot path's page tables: the platform-backed pt_ops, taking over from
 * the builder and recycling its top tables (cf. xen_setup_kernel_pagetable),
 * and clearing __ka PMDs (cf. cleanup_highmap and xen_cleanhighmap;
 * docs/boot.md section 4, steps 1, 4 and 6, and section 5).
 *
 * Our tables after the take-over:
 *
 *   L4[511] -> L3 ka [510] -> L2 ka   a copy of the builder's L2 (__ka)
 *   L4[272] -> L3 va [0]   -> L2 va   another copy (__va of pfns 0..1 GiB)
 *                          [1..] ...  L2s of our own as the direct map grows
 *   L4[other] = the builder's (an INIT_P2M mapping stays as it was)
 *
 * Both L2 copies point at the builder's L1s, so a PMD cleared under __ka
 * leaves the page reachable under __va: the "__ka/__va aliasing" that the
 * series documents.  PTE edits would show in both; PMD edits do not.
 */
#include "boot_priv.h"

static const uint64_t *pt_table(void *ctx, mfn_t mfn)
{
	struct boot *b = ctx;
	uint64_t pfn = b->pf->m2p(b->pf->ctx, mfn);

	return pfn >= b->nr_pages ? NULL : boot_ptr(b, pfn);
}

static int pt_update(void *ctx, mfn_t table, unsigned index, uint64_t val, struct pv_error *err)
{
	struct boot *b = ctx;
	int rc = b->pf->mmu_update(b->pf->ctx, (mfn_x(table) << PAGE_SHIFT) | (index * 8ULL), val);

	if (rc)
		return pv_fail(err, PV_ERR_RANGE, "mmu_update(mfn 0x%llx[%u] = 0x%llx) refused: %d",
			       (unsigned long long)mfn_x(table), index, (unsigned long long)val, rc);
	return 0;
}

/* A new page-table page: zeroed, then read-only before anything links it. */
static mfn_t pt_alloc(void *ctx, int level, struct pv_error *err)
{
	struct boot *b = ctx;
	uint64_t pfn = boot_alloc_table(b);

	(void)level;
	if (pfn == NO_PFN) {
		*err = b->err;
		return INVALID_MFN;
	}
	if (boot_make_ro(b, pfn)) {
		*err = b->err;
		return INVALID_MFN;
	}
	b->own_tables++;
	return boot_mfn(b, pfn);
}

struct pt_ops boot_pt_ops(struct boot *b)
{
	return (struct pt_ops){pt_table, pt_update, pt_alloc, b};
}

static int hypercall(struct boot *b, const char *what, int rc)
{
	if (rc)
		return BOOT_FAIL(b, "%s failed: %d", what, rc);
	return 0;
}

/* A table page of ours, written while still writable, then made read-only. */
static uint64_t new_table(struct boot *b, uint64_t **page)
{
	uint64_t pfn = boot_alloc(b);

	if (pfn != NO_PFN) {
		*page = boot_ptr(b, pfn);
		b->own_tables++;
	}
	return pfn;
}

/*
 * The builder's L4, L3 and L2, unpinned once our tables are loaded, become
 * pages like any other: writable again, then donated to the allocator.  Cf.
 * xen_setup_kernel_pagetable, whose check_pt_base shaves them off the
 * reserved page-table range (the "L4, L3, and L2 recycle").  0, or -1 with
 * b->err when Xen refuses an update.
 */
static int recycle_builder_tables(struct boot *b, uint64_t l4_pfn, uint64_t l3_pfn, uint64_t l2_pfn)
{
	const struct pv_platform *pf = b->pf;
	const uint64_t pfns[3] = {l4_pfn, l3_pfn, l2_pfn};

	for (int i = 0; i < 3; i++) {
		uint64_t p = pfns[i];
		int rc = pf->update_va_mapping(pf->ctx, PAGE_OFFSET + p * PAGE_SIZE,
					       pte_make(boot_mfn(b, p), BOOT_PROT_RW));

		if (hypercall(b, "update_va_mapping (recycling the builder's tables)", rc))
			return -1;
		boot_donate(b, p);
	}
	return 0;
}

int boot_take_over_tables(struct boot *b)
{
	const struct pv_platform *pf = b->pf;
	struct pt_ops ops = boot_pt_ops(b);
	const uint64_t *bl4, *bl3, *bl2;
	uint64_t *l4 = NULL, *l3_ka = NULL, *l2_ka = NULL, *l3_va = NULL, *l2_va = NULL, pfn[5];
	uint64_t bl3_pfn, bl2_pfn, bl4_pfn;
	int last = -1;

	b->builder_l4 = pf->read_cr3(pf->ctx);
	bl4_pfn = pf->m2p(pf->ctx, b->builder_l4);
	bl4 = ops.table(b, b->builder_l4);
	if (!bl4 || !pte_present(bl4[511]))
		return BOOT_FAIL(b, "the builder's L4 maps nothing at __START_KERNEL_map");
	bl3_pfn = pf->m2p(pf->ctx, pte_mfn(bl4[511]));
	bl3 = ops.table(b, pte_mfn(bl4[511]));
	if (!bl3 || !pte_present(bl3[510]))
		return BOOT_FAIL(b, "the builder's L3 maps nothing at __START_KERNEL_map");
	if (pte_present(bl3[511]))
		return BOOT_FAIL(b,
				 "the builder's initial mapping is bigger than 1 GiB: Linux takes over one L2 only (the guest needs INIT_P2M)");
	bl2_pfn = pf->m2p(pf->ctx, pte_mfn(bl3[510]));
	bl2 = ops.table(b, pte_mfn(bl3[510]));
	if (!bl2)
		return BOOT_FAIL(b, "cannot read the builder's L2");
	for (int i = 0; i < 512; i++)
		if (pte_present(bl2[i]))
			last = i;
	b->map_end = b->o->virt_base + (uint64_t)(last + 1) * PMD_SIZE;
	if (boot_alloc_init(b))
		return -1;

	/* Five pages from the early pool, reached through __ka for now. */
	pfn[0] = new_table(b, &l4);
	pfn[1] = new_table(b, &l3_ka);
	pfn[2] = new_table(b, &l2_ka);
	pfn[3] = new_table(b, &l3_va);
	pfn[4] = new_table(b, &l2_va);
	for (int i = 0; i < 5; i++)
		if (pfn[i] == NO_PFN)
			return -1;
	for (int i = 0; i < 512; i++) {
		l2_ka[i] = l2_va[i] = bl2[i];
		/* Keep other mappings (INIT_P2M), but never Xen's own slots. */
		if (i != 511 && (i < 256 || i > 271))
			l4[i] = bl4[i];
	}
	l3_ka[510] = pte_make(boot_mfn(b, pfn[2]), PT_PROT_UPPER);
	l3_va[0] = pte_make(boot_mfn(b, pfn[4]), PT_PROT_UPPER);
	l4[511] = pte_make(boot_mfn(b, pfn[1]), PT_PROT_UPPER);
	l4[272] = pte_make(boot_mfn(b, pfn[3]), PT_PROT_UPPER);
	for (int i = 0; i < 5; i++)
		if (boot_make_ro(b, pfn[i]))
			return -1;

	/* Pin ours, load it, unpin the builder's: its L4, L3 and L2 are then free to recycle. */
	b->l4 = boot_mfn(b, pfn[0]);
	b->l3_ka = boot_mfn(b, pfn[1]);
	b->l2_ka = boot_mfn(b, pfn[2]);
	b->l3_va = boot_mfn(b, pfn[3]);
	if (hypercall(b, "MMUEXT_PIN_L4_TABLE", pf->mmuext(pf->ctx, MMUEXT_PIN_L4_TABLE, b->l4)) ||
	    hypercall(b, "MMUEXT_NEW_BASEPTR", pf->mmuext(pf->ctx, MMUEXT_NEW_BASEPTR, b->l4)) ||
	    hypercall(b, "MMUEXT_UNPIN_TABLE", pf->mmuext(pf->ctx, MMUEXT_UNPIN_TABLE, b->builder_l4)))
		return -1;
	b->va_ready = true;
	b->ident_end_pfn = (b->map_end - b->o->virt_base) / PAGE_SIZE;

	return recycle_builder_tables(b, bl4_pfn, bl3_pfn, bl2_pfn);
}

/*
 * Clear the __ka PMDs of [@va, @va_end] that are not the kernel image's.
 * @whole_pmds_only: cleanup_highmap's rule (only PMDs wholly below @va_end,
 * and everything from virt_base); otherwise xen_cleanhighmap's (start at
 * @va's PMD, end inclusive: greedier at both edges).  Returns PMDs cleared;
 * a refused update stops it with b->err set (the count so far is kept).
 */
uint64_t boot_clean_ka(struct boot *b, uint64_t va, uint64_t va_end, bool whole_pmds_only)
{
	struct pt_ops ops = boot_pt_ops(b);
	const uint64_t *l2 = ops.table(b, b->l2_ka);
	uint64_t kernel_end = ((b->o->kernel_end + PMD_SIZE - 1) & ~(PMD_SIZE - 1)) - 1;
	uint64_t removed = 0;
	unsigned i = pt_index(va, PT_L2);

	/* Only the GiB of __ka our L2 covers: an INIT_P2M list is not in it. */
	if (!l2 || va < b->o->virt_base || va >= b->o->virt_base + PUD_SIZE)
		return 0;
	for (; i < PT_ENTRIES; i++, va += PMD_SIZE) {
		if (whole_pmds_only ? va + PMD_SIZE - 1 >= va_end : va > va_end)
			break;
		if (!pte_present(l2[i]))
			continue;
		if (va >= b->o->kernel_start && va <= kernel_end)
			continue;
		if (pt_update(b, b->l2_ka, i, 0, &b->err))
			break;
		removed++;
	}
	return removed;
}

/* Non-kernel __ka PMDs left from the kernel's end to MODULES_END. */
uint64_t boot_ka_pmds_left(struct boot *b)
{
	struct pt_ops ops = boot_pt_ops(b);
	const uint64_t *l2 = ops.table(b, b->l2_ka), *l3 = ops.table(b, b->l3_ka);
	uint64_t kernel_end = (b->o->kernel_end + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
	uint64_t left = 0;

	/* L2 ka covers the GiB from virt_base; the kernel ends inside it. */
	if (l2 && kernel_end < b->o->virt_base + PUD_SIZE)
		for (unsigned i = pt_index(kernel_end, PT_L2); i < PT_ENTRIES; i++)
			left += pte_present(l2[i]);
	/* The rest of module space is under L3 slot 511, which we never map. */
	if (l3 && pte_present(l3[511]))
		left++;
	return left;
}

/*
 * xen_cleanhighmap once the P2M no longer needs the builder's list where it
 * was (revectored, or adopted by the linear list): the list's __ka PMDs (none
 * when it is at INIT_P2M, outside __ka), the page tables' and module space's
 * (cf. xen_pagetable_init).  start_info lives between the list and the
 * tables, so the boot path reaches it through __va from here on.  Returns 0,
 * or -1 with b->err when an update is refused.
 */
int boot_clean_highmap(struct boot *b)
{
	uint64_t pt_va = b->o->virt_base + b->pt_pfn * PAGE_SIZE;
	uint64_t si_pfn = b->pf->m2p(b->pf->ctx, b->pf->ptr_mfn(b->pf->ctx, b->si));
	uint64_t list_end = b->list_va + ((b->list_bytes + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
	uint64_t *removed = &b->res->ka_pmds_removed;

	b->si = b->pf->va_ptr(b->pf->ctx, PAGE_OFFSET + si_pfn * PAGE_SIZE);
	if (!b->si)
		return BOOT_FAIL(b, "start_info (pfn 0x%llx) is not mapped in __va",
				 (unsigned long long)si_pfn);
	if (b->o->skip_cleanhighmap)
		return 0;
	*removed += boot_clean_ka(b, b->list_va, list_end, false);
	*removed += boot_clean_ka(b, pt_va, b->map_end - 1, false);
	*removed += boot_clean_ka(b, MODULES_VADDR,
				  ((MODULES_VADDR + PUD_SIZE - 1) & ~(PUD_SIZE - 1)) - 1, false);
	return b->err.code == PV_OK ? 0 : -1;
}
