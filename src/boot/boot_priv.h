/* The boot path's shared state; see include/pvboot/boot.h for the sequence. */
#ifndef PVBOOT_BOOT_PRIV_H
#define PVBOOT_BOOT_PRIV_H

#include <pvboot/boot.h>
#include <pvboot/error.h>
#include <pvboot/fmt.h>
#include <pvboot/p2m.h>
#include <pvboot/p2m_linear.h>
#include <pvboot/pgtable.h>
#include <pvboot/x86.h>

#define BOOT_SPARE_RANGES 256 /* 4 KiB of struct boot */

/* No page: what the allocator returns when it has none to give. */
#define NO_PFN (~0ULL)

/* How the boot path maps data pages: Linux's PAGE_KERNEL and PAGE_KERNEL_RO, less _PAGE_GLOBAL. */
#define BOOT_PROT_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define BOOT_PROT_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)

struct boot {
	const struct pv_platform *pf;
	const struct pv_boot_opts *o;
	struct pv_boot_result *res;
	struct pv_error err;

	start_info_t *si;
	uint64_t nr_pages;
	uint64_t map_end;	      /* end of the builder's __ka mapping (a 2 MiB boundary) */
	uint64_t list_va, list_bytes; /* the builder's P2M list */
	uint64_t list_pfn;	      /* ... and its first pfn (one run of pfns) */
	uint64_t pt_pfn, nr_pt;	      /* the builder's page-table frames */
	mfn_t builder_l4;

	/* Our tables: L4, and the L2s under __ka (L3 slot 510) and __va. */
	mfn_t l4, l3_ka, l2_ka, l3_va;
	uint64_t own_tables; /* table pages we made and still use */
	bool va_ready;	     /* our __va direct map is loaded */

	/* Pages: the early pool inside the builder's mapping, then the rest. */
	uint64_t early_next, early_end; /* below the kernel, or the padding */
	uint64_t pad_next, pad_end;
	uint64_t main_next;		/* next never-used pfn, direct-mapped on demand */
	uint64_t ident_end_pfn;		/* __va maps [0, ident_end_pfn): the builder's L1s */
	uint64_t main_base, va_end_pfn; /* ... and [main_base, va_end_pfn): ours */
	bool extending;			/* tables for __va come from mapped pages only */
	uint64_t allocs, frees, donated, double_frees;
	/*
	 * Spare pages: freed ones and the builder's given back (the old P2M
	 * list, its recycled tables), as sorted, merged ranges of pfns kept
	 * without touching the pages, as memblock keeps its free ranges.
	 * When the table is full a page goes on the overflow list instead,
	 * linked and marked through its own first words.
	 */
	struct {
		uint64_t start, end; /* pfns [start, end) */
	} spare[BOOT_SPARE_RANGES];
	unsigned nr_spare;
	uint64_t free_head;   /* the overflow list; ~0 empty */
	uint64_t unreachable; /* overflowed, but outside our maps: not reused */

	struct p2m p2m;
	bool grafted;	       /* the tree is the guest's P2M now */
	struct p2m_linear lin; /* mode linear: the list at P2M_LINEAR_VADDR */
	bool linear;	       /* ... which is the guest's P2M now (adopted) */
	bool ka_counted;       /* res->ka_pmds_left measured before the module */
	bool list_ok;	       /* start_info and the builder's list were found */
	uint64_t hash_before;  /* of the builder's list, before anything changed (sample) */
};

/* alloc.c */
int boot_alloc_init(struct boot *b);
uint64_t boot_alloc(struct boot *b);
uint64_t boot_alloc_page(struct boot *b, bool zero); /* a pfn, zeroed; ~0 with b->err set */
void boot_free(struct boot *b, uint64_t pfn);
void boot_donate(struct boot *b, uint64_t pfn); /* a builder's page, now ours to use */
uint64_t boot_alloc_table(struct boot *b);	/* a zeroed page for a page table */
struct p2m_ops boot_p2m_ops(struct boot *b);	/* pages for the P2M tree or list */

/* xlate.c */
mfn_t boot_mfn(struct boot *b, uint64_t pfn);	     /* through the guest's P2M as it stands */
bool boot_in_va(const struct boot *b, uint64_t pfn); /* our __va direct map covers @pfn */
void *boot_ptr(struct boot *b, uint64_t pfn);	     /* where the boot path reaches a pfn */
uint64_t boot_ptr_pfn(struct boot *b, const void *p);
int boot_make_ro(struct boot *b, uint64_t pfn); /* read-only wherever we map it */
int boot_make_rw(struct boot *b, uint64_t pfn); /* writable again */

/* mmu.c */
struct pt_ops boot_pt_ops(struct boot *b);
int boot_take_over_tables(struct boot *b);
uint64_t boot_clean_ka(struct boot *b, uint64_t va, uint64_t va_end, bool whole_pmds_only);
uint64_t boot_ka_pmds_left(struct boot *b);
int boot_clean_highmap(struct boot *b);

/* linear.c */
int boot_linear(struct boot *b);

/* boot.c */
void boot_say(struct boot *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* module.c */
int boot_load_module(struct boot *b);

#define BOOT_FAIL(b, ...) pv_fail(&(b)->err, PV_ERR_RANGE, __VA_ARGS__)

#endif
