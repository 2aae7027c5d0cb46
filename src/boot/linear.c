/*
 * Mode linear: the guest's P2M becomes a linear, virtually mapped list
 * (include/pvboot/p2m_linear.h) at P2M_LINEAR_VADDR, as in Linux 3.19 and
 * later (docs/p2m.md section 7, docs/boot.md section 4 steps 2-3; cf.
 * xen_rebuild_p2m_list and xen_setup_mfn_list_list).  No 3-level tree limits
 * it, so it boots guests above 512 GiB; the tools get the tree only up to
 * there.
 *
 * The array lives in our own L4 (slot 402), under page tables this file
 * makes through the boot path's pt_ops, the same way on the simulated and
 * the real Xen:
 *
 *   L4[402] -> L3 -> L2 [PMD i] -> PTE page of the list (private or shared)
 *                                   [pte j] -> a page of the array (a page of
 *                                              the builder's list, a private
 *                                              page, or a shared r/o one)
 *
 * The builder's list is adopted where it is, in __ka or at INIT_P2M
 * (0x8000000000): its pages become the array's pages, nothing is copied.
 * Published in shared_info.arch: max_pfn, p2m_vaddr, p2m_cr3 (our L4) and
 * p2m_generation, which the list increments around every remap; and
 * frame_list_list, the tools' 3-level tree, up to 512 GiB unless the
 * builder sets SIF_VIRT_P2M_4TOOLS (its tools read the list instead).
 */
#include "boot_priv.h"

/*
 * The list's PTE for the 4 KiB of array at @va: update_va_mapping, as
 * Linux's set_pte does there.  The list only sets PTEs under a PTE page it
 * linked itself (map_pmd), so the L1 always exists.
 */
static int map_pte(void *ctx, uint64_t va, uint64_t pte, struct pv_error *err)
{
	struct boot *b = ctx;
	int rc = b->pf->update_va_mapping(b->pf->ctx, va, pte);

	if (rc)
		return pv_fail(err, PV_ERR_RANGE,
			       "update_va_mapping(0x%llx, 0x%llx) for the P2M list refused: %d",
			       (unsigned long long)va, (unsigned long long)pte, rc);
	return 0;
}

/*
 * Link the PTE page @table at the PMD for @va (cf. alloc_p2m_pmd's set_pmd),
 * replacing what is there.  The L3 and L2 above are made first if missing
 * (pt_set of an empty PMD, which makes them as pt_map does).  Then the page
 * is made read-only, as Xen wants of an L1, and linked by one update of the
 * L2 (pt_set refuses a present PMD).  If that update is refused the page
 * is made writable again, so that the list can give it back: a shared PTE
 * page linked elsewhere stays read-only (Xen refuses otherwise), and the
 * list never gives one of those back.  A present PMD replaced is followed
 * by a TLB flush, since the 2 MiB behind it may now map other pages
 * (missing -> identity, missing -> the builder's).
 */
static int map_pmd(void *ctx, uint64_t va, mfn_t table, struct pv_error *err)
{
	struct boot *b = ctx;
	struct pt_ops ops = boot_pt_ops(b);
	uint64_t pfn = b->pf->m2p(b->pf->ctx, table), entry = pte_make(table, PT_PROT_UPPER);
	struct pt_walk w;
	int rc;

	if (pfn >= b->nr_pages)
		return pv_fail(err, PV_ERR_RANGE, "the P2M list's PTE page (mfn 0x%llx) is not ours",
			       (unsigned long long)mfn_x(table));
	if (pt_walk(&ops, b->l4, va, &w, err) < 0)
		return -1;
	if (w.level == -PT_L4 || w.level == -PT_L3) {
		if (pt_set(&ops, b->l4, va, PT_L2, 0, err) || pt_walk(&ops, b->l4, va, &w, err) < 0)
			return -1;
	}
	if (boot_make_ro(b, pfn)) {
		if (err != &b->err)
			*err = b->err;
		return -1;
	}
	if (ops.update(b, w.table[PT_L2], pt_index(va, PT_L2), entry, err)) {
		struct pv_error refused = *err;

		boot_make_rw(b, pfn);
		*err = refused;
		return -1;
	}
	if (w.level == -PT_L2 || w.level == -PT_L3 || w.level == -PT_L4)
		return 0;
	rc = b->pf->mmuext(b->pf->ctx, MMUEXT_TLB_FLUSH_LOCAL, INVALID_MFN);
	if (rc)
		return pv_fail(err, PV_ERR_RANGE, "MMUEXT_TLB_FLUSH_LOCAL failed: %d", rc);
	return 0;
}

static void *ptr(void *ctx, uint64_t va)
{
	struct boot *b = ctx;

	return b->pf->va_ptr(b->pf->ctx, va);
}

/*
 * The tools' 3-level tree, up to 512 GiB (xen_build_mfn_list_list).  Above,
 * frame_list_list is ~0 (the ABI's "too large for the 3-level p2m tree"):
 * not a boot failure, but the console says what tools lose.
 */
static int publish_tree(struct boot *b, shared_info_t *sh)
{
	mfn_t fll;

	/* The builder says the tools walk the list (xen_build_mfn_list_list returns early). */
	if (b->si->flags & SIF_VIRT_P2M_4TOOLS) {
		sh->arch.pfn_to_mfn_frame_list_list = ~0UL;
		boot_say(b,
			 "pvboot: SIF_VIRT_P2M_4TOOLS: the tools read the linear list, no 3-level tree built, frame_list_list ~0");
		return 0;
	}
	if (p2m_linear_build_mfn_tree(&b->lin, &fll, &b->err) == 0) {
		sh->arch.pfn_to_mfn_frame_list_list = mfn_x(fll);
		boot_say(b, "pvboot: the tools' 3-level tree: frame_list_list mfn 0x%llx",
			 (unsigned long long)mfn_x(fll));
		return 0;
	}
	if (b->err.code != PV_ERR_RANGE)
		return -1;
	sh->arch.pfn_to_mfn_frame_list_list = ~0UL;
	boot_say(b,
		 "pvboot: frame_list_list ~0: %llu pfns are more than the 3-level tree's %llu (512 GiB); tools that read only the tree (save, restore and migration before Xen 4.6, crash-dump tools that know only pfn_to_mfn_frame_list_list) cannot map this guest, tools that walk p2m_cr3/p2m_vaddr (Xen 4.6 and later) can",
		 (unsigned long long)b->nr_pages, (unsigned long long)P2M_MAX_PFN);
	b->err = (struct pv_error){0};
	return 0;
}

/*
 * Steps 2 and 3 of mode linear: the list made empty at P2M_LINEAR_VADDR,
 * the builder's list adopted into it, everything published.  From the
 * moment the adoption succeeds the list is the guest's P2M (b->linear):
 * before, a failure leaves the builder's list answering, untouched.
 */
int boot_linear(struct boot *b)
{
	struct p2m_linear_ops ops = {
		.mem = boot_p2m_ops(b),
		.map_pte = map_pte,
		.map_pmd = map_pmd,
		.ptr = ptr,
		.direct = b->pf->va_direct,
	};
	shared_info_t *sh = b->pf->shared_info;
	uint64_t *list = b->pf->va_ptr(b->pf->ctx, b->list_va);
	struct p2m_linear_adopt_stats st;

	if (!list)
		return BOOT_FAIL(b, "the builder's P2M list at 0x%llx is not mapped",
				 (unsigned long long)b->list_va);
	if (p2m_linear_init(&b->lin, &ops, P2M_LINEAR_VADDR, b->nr_pages,
			    (volatile uint64_t *)&sh->arch.p2m_generation, &b->err) ||
	    p2m_linear_adopt(&b->lin, list, b->nr_pages, &st, &b->err))
		return -1;
	b->linear = true;
	boot_say(b,
		 "pvboot: linear P2M list at 0x%llx for %llu pfns: %llu pages of the builder's list mapped in place, %llu given back, %llu PTE pages",
		 (unsigned long long)P2M_LINEAR_VADDR, (unsigned long long)b->nr_pages,
		 (unsigned long long)st.pages_mapped, (unsigned long long)st.pages_freed,
		 (unsigned long long)st.pte_pages);

	/* cf. xen_setup_mfn_list_list: p2m_cr3 last, since it says the rest is valid. */
	if (publish_tree(b, sh))
		return -1;
	sh->arch.max_pfn = b->nr_pages;
	sh->arch.p2m_generation = 0;
	sh->arch.p2m_vaddr = P2M_LINEAR_VADDR;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sh->arch.p2m_cr3 = mfn_x(b->l4) << PAGE_SHIFT; /* xen_pfn_to_cr3 */
	boot_say(b, "pvboot: p2m_cr3 0x%llx, p2m_vaddr 0x%llx, max_pfn %llu",
		 (unsigned long long)sh->arch.p2m_cr3, (unsigned long long)sh->arch.p2m_vaddr,
		 (unsigned long long)sh->arch.max_pfn);
	return 0;
}
