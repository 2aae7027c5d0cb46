/*
 * Address translation and protection for the boot path: which mfn backs a
 * pfn (the guest's P2M as it stands), where the boot path reaches a pfn
 * (__ka, the builder's mapping, until our __va direct map covers it), and
 * the one PTE to change to make a page read-only or writable again (cf.
 * Linux's set_page_prot, which page tables need before Xen pins them).
 */
#include "boot_priv.h"

/*
 * The guest's P2M: the tree or the linear list once it is that, before
 * then the builder's list where the builder mapped it (a list adopted by
 * the linear one may lose that mapping to xen_cleanhighmap).
 */
mfn_t boot_mfn(struct boot *b, uint64_t pfn)
{
	if (b->p2m.top)
		return p2m_pfn_to_mfn(&b->p2m, _pfn(pfn));
	if (b->linear)
		return p2m_linear_pfn_to_mfn(&b->lin, _pfn(pfn));
	if (pfn >= b->nr_pages)
		return INVALID_MFN;
	return _mfn(((uint64_t *)b->pf->va_ptr(b->pf->ctx, b->list_va))[pfn]);
}

bool boot_in_va(const struct boot *b, uint64_t pfn)
{
	return b->va_ready &&
	       (pfn < b->ident_end_pfn || (pfn >= b->main_base && pfn < b->va_end_pfn));
}

/* __va once our direct map covers the page, __ka (the builder's mapping) before. */
static uint64_t pfn_va(const struct boot *b, uint64_t pfn)
{
	return boot_in_va(b, pfn) ? PAGE_OFFSET + pfn * PAGE_SIZE : b->o->virt_base + pfn * PAGE_SIZE;
}

void *boot_ptr(struct boot *b, uint64_t pfn)
{
	return b->pf->va_ptr(b->pf->ctx, pfn_va(b, pfn));
}

uint64_t boot_ptr_pfn(struct boot *b, const void *p)
{
	return b->pf->m2p(b->pf->ctx, b->pf->ptr_mfn(b->pf->ctx, p));
}

/* Set the one PTE that maps @pfn (shared by __ka and __va below the builder's end). */
static int set_prot(struct boot *b, uint64_t pfn, uint64_t prot)
{
	uint64_t va = pfn_va(b, pfn);
	int rc = b->pf->update_va_mapping(b->pf->ctx, va, pte_make(boot_mfn(b, pfn), prot));

	if (rc)
		return BOOT_FAIL(b, "update_va_mapping(0x%llx) failed: %d", (unsigned long long)va,
				 rc);
	return 0;
}

int boot_make_ro(struct boot *b, uint64_t pfn)
{
	return set_prot(b, pfn, BOOT_PROT_RO);
}

int boot_make_rw(struct boot *b, uint64_t pfn)
{
	return set_prot(b, pfn, BOOT_PROT_RW);
}
