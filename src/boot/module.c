/*
 * Loading a module: module_alloc() as Linux 3.7 does it
 * (docs/boot.md section 3 and section 4, step 7).
 *
 * vmalloc's area allocator only knows the areas it made itself, so the first
 * module goes at MODULES_VADDR whatever the page tables hold there.  It
 * allocates the pages (16 KiB here), then maps them; vmap_pte_range takes
 * the PMD's existing L1 if the PMD is present, and a PTE that is not none
 * makes it fail with -EBUSY: "vmalloc: allocation failure, allocated 16384
 * of 20480 bytes" (the area counts its guard page).
 *
 * A module that loads then runs: its first bytes are a position-independent
 * function that returns its own address plus its argument, and the platform
 * calls it where it was mapped.
 */
#include "boot_priv.h"

#define MODULE_BYTES	 (16 * 1024)
#define GUARD_BYTES	 PAGE_SIZE
#define PAGE_KERNEL_EXEC (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define MODULE_ARG	 0x5eed0000c0deULL

/* lea -7(%rip), %rax; add %rdi, %rax; ret: "return where I am + arg". */
static const uint8_t module_text[] = {0x48, 0x8d, 0x05, 0xf9, 0xff, 0xff,
				      0xff, 0x48, 0x01, 0xf8, 0xc3};

/* Place module_text at @va and call it there. */
static int run_module(struct boot *b, uint64_t va)
{
	uint8_t *text = b->pf->va_ptr(b->pf->ctx, va);
	uint64_t got;

	if (!b->pf->call)
		return 0; /* the platform cannot run guest code */
	for (unsigned i = 0; i < sizeof(module_text); i++)
		text[i] = module_text[i];
	got = b->pf->call(b->pf->ctx, va, MODULE_ARG);
	if (got != va + MODULE_ARG)
		return BOOT_FAIL(b, "the module at 0x%llx returned 0x%llx, not 0x%llx",
				 (unsigned long long)va, (unsigned long long)got,
				 (unsigned long long)(va + MODULE_ARG));
	b->res->module_ran = true;
	return 0;
}

/*
 * vfree of a module that could not be mapped whole: the @mapped pages
 * already at @va unmapped first (else a page handed out again would still
 * be reachable there), then all @n pages given back.  Returns -1 with the
 * error that stopped the mapping (an unmap refused is reported instead).
 */
static int module_undo(struct boot *b, uint64_t va, const uint64_t *pfn, unsigned mapped, unsigned n)
{
	struct pt_ops ops = boot_pt_ops(b);
	struct pv_error why = b->err;

	for (unsigned i = 0; i < mapped; i++)
		if (pt_clear(&ops, b->l4, va + i * PAGE_SIZE, PT_L1, &b->err))
			return -1; /* still mapped: the pages cannot go back */
	for (unsigned i = 0; i < n; i++)
		boot_free(b, pfn[i]);
	b->err = why;
	return -1;
}

/* Is the PTE for @va not none?  (vmap_pte_range's WARN_ON(!pte_none(*pte))) */
static bool pte_busy(struct boot *b, uint64_t va)
{
	struct pt_ops ops = boot_pt_ops(b);
	struct pt_walk w;
	int level = pt_walk(&ops, b->l4, va, &w, &b->err);

	/* Mapped at L1, or by a large page: either way not a free PTE. */
	return level > 0;
}

int boot_load_module(struct boot *b)
{
	struct pv_boot_result *res = b->res;
	struct pt_ops ops = boot_pt_ops(b);
	uint64_t va = MODULES_VADDR, pfn[MODULE_BYTES / PAGE_SIZE];
	unsigned n = MODULE_BYTES / PAGE_SIZE;

	res->module_vaddr = va;
	for (unsigned i = 0; i < n; i++) {
		pfn[i] = boot_alloc(b);
		if (pfn[i] == NO_PFN) {
			while (i--)
				boot_free(b, pfn[i]);
			return -1;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t *p;

		if (pte_busy(b, va + i * PAGE_SIZE)) {
			pv_snprintf(res->module_alloc, sizeof(res->module_alloc),
				    "vmalloc: allocation failure, allocated %llu of %llu bytes",
				    (unsigned long long)(n * PAGE_SIZE),
				    (unsigned long long)(MODULE_BYTES + GUARD_BYTES));
			/* vfree: the pages go back (the stale PTEs are left as they are). */
			for (unsigned k = 0; k < n; k++)
				boot_free(b, pfn[k]);
			return 0;
		}
		if (pt_map(&ops, b->l4, va + i * PAGE_SIZE, boot_mfn(b, pfn[i]), PAGE_KERNEL_EXEC,
			   &b->err))
			return module_undo(b, va, pfn, i, n);
		/* The module's text: written and read back through its new address. */
		p = b->pf->va_ptr(b->pf->ctx, va + i * PAGE_SIZE);
		if (!p)
			return BOOT_FAIL(b, "module page at 0x%llx is not reachable after mapping it",
					 (unsigned long long)(va + i * PAGE_SIZE));
		for (unsigned k = 0; k < 512; k++)
			p[k] = va + i * PAGE_SIZE + k * 8;
		for (unsigned k = 0; k < 512; k++)
			if (p[k] != va + i * PAGE_SIZE + k * 8)
				return BOOT_FAIL(b, "module page at 0x%llx does not read back",
						 (unsigned long long)(va + i * PAGE_SIZE));
	}
	pv_snprintf(res->module_alloc, sizeof(res->module_alloc), "ok");
	res->module_ok = true;
	return run_module(b, MODULES_VADDR);
}
