/*
 * The linear, virtually mapped, sparse P2M list of Linux 3.19 and later
 * ("xen: switch to linear virtual mapped sparse p2m list", arch/x86/xen/p2m.c;
 * docs/p2m.md section 7), freestanding.
 *
 * One array of max_pfn 8-byte entries at a virtual base address, read with
 * one load.  Holes cost no memory: they map shared read-only pages.
 *
 *   va                                             one PMD = 2 MiB of array
 *   |                                              = 262144 pfns = 1 GiB of guest
 *   v
 *   [ PMD 0 ]----> private PTE page [ pte 0 | pte 1 | ... | pte 511 ]
 *   [ PMD 1 ]--+          |             |                 |
 *   [ PMD 2 ]--+          v             v                 v
 *   [  ...  ]  |      builder's     private page      missing (r/o)
 *              |      page (r/w)    (r/w)
 *              v
 *         missing_pte [ 512 x missing (r/o) ]   p2m_missing_pte: a whole GiB of holes
 *         identity_pte [ 512 x identity (r/o) ] p2m_identity_pte
 *
 *   missing   one page of INVALID_P2M_ENTRY                       (p2m_missing)
 *   identity  one page of P2M_LINEAR_IDENTITY, the sentinel below (p2m_identity)
 *
 * Identity entries depend on the pfn (IDENTITY_FRAME(pfn)), so one shared
 * page cannot hold them.  Linux tells identity pages apart by their PTE
 * (lookup_address); pvboot fills the identity page with a sentinel no entry
 * can have, so that a lookup stays one load and one compare:
 *
 *   e = array[pfn];  return e == P2M_LINEAR_IDENTITY ? IDENTITY_FRAME(pfn) : e;
 *
 * Private pages hold explicit IDENTITY_FRAME(pfn) entries, never the
 * sentinel.  Tools reading the array raw see the sentinel where Linux 3.7's
 * tools saw INVALID for identity leaves: a value with FOREIGN and IDENTITY
 * both set and above any machine frame, so a reader that range-checks mfns
 * takes it as "no frame".
 *
 * Storing into a shared page first gives that 4 KiB of array a private page
 * filled with what the shared page meant (and a private PTE page first if
 * the PMD is shared), then remaps it writable: xen_alloc_p2m_entry.  Every
 * remap is bracketed by *generation (shared_info.arch.p2m_generation):
 * incremented before and after, odd while the mapping changes, so tools that
 * walk p2m_cr3/p2m_vaddr can retry.  The list never shrinks back to shared
 * pages, as in Linux.
 *
 * The tools' 3-level tree of machine frames (frame_list_list -> mid_mfn ->
 * the mfns of the array's pages, as in p2m.h) is kept beside it for guests
 * of up to P2M_MAX_PFN pfns (512 GiB).  Above that there is none: the guest
 * publishes frame_list_list = ~0 (SIF_VIRT_P2M_4TOOLS) and tools that only
 * read the tree cannot map it (libxc: "max_pfn %#lx too large for p2m tree").
 */
#ifndef PVBOOT_P2M_LINEAR_H
#define PVBOOT_P2M_LINEAR_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>
#include <pvboot/p2m.h>
#include <pvboot/pgtable.h>

/* What the shared identity page holds: all ones but bit 0 (see above). */
#define P2M_LINEAR_IDENTITY (~1ULL)

#define P2M_LINEAR_PMD_PFNS  (P2M_PER_PAGE * 512)      /* 262144 pfns per PMD of array */
#define P2M_LINEAR_PMD_BYTES (P2M_LINEAR_PMD_PFNS * 8) /* 2 MiB */
/* 512 x 512 PMDs of array (a 512 GiB array): 256 TiB of guest. */
#define P2M_LINEAR_MAX_PFN (P2M_LINEAR_PMD_PFNS * 512 * 512)

/* The PTEs the list writes: read-only holes, writable private pages. */
#define P2M_LINEAR_PTE_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)
#define P2M_LINEAR_PTE_RW (P2M_LINEAR_PTE_RO | _PAGE_RW | _PAGE_DIRTY)

/*
 * The platform under the list.  Every callback gets mem.ctx.
 *
 * mem.alloc_page, mem.virt_to_mfn as for the tree.  mem.free_page gets
 * pages from alloc_page, pages of the builder's list, and (from
 * p2m_linear_destroy only) pages of the array by the pointer ptr() gives for
 * them (the array address itself when direct).
 */
struct p2m_linear_ops {
	struct p2m_ops mem;
	/*
	 * Set the PTE that maps the 4 KiB of array at @va to @pte
	 * (update_va_mapping): replaces what was there.  The PMD above is a
	 * private PTE page linked by map_pmd; the list never asks to change a
	 * shared one.  0, or -1 with @err (nothing changed).
	 */
	int (*map_pte)(void *ctx, uint64_t va, uint64_t pte, struct pv_error *err);
	/*
	 * Make the PMD for the 2 MiB of array at @va point at the PTE page in
	 * @table, replacing what was there.  The list filled the page (from
	 * alloc_page) and writes it no more: the platform makes it read-only
	 * first, as PV requires of page tables.  The shared PTE pages are
	 * linked at many PMDs.  0, or -1 with @err (nothing changed).
	 */
	int (*map_pmd)(void *ctx, uint64_t va, mfn_t table, struct pv_error *err);
	/*
	 * Where the list can read and write the array at @va, good for the
	 * rest of its 4 KiB page; NULL if nothing is mapped there.
	 */
	void *(*ptr)(void *ctx, uint64_t va);
	/* ptr(va) == va: lookups are plain loads from the array. */
	bool direct;
};

struct p2m_linear {
	struct p2m_linear_ops ops;
	uint64_t va;	  /* the array's base: p2m_vaddr */
	uint64_t max_pfn; /* entries: shared_info.arch.max_pfn */
	uint64_t nr_pmds; /* PMDs of array mapped, the last one maybe partly past max_pfn */
	uint64_t *array;  /* (uint64_t *)va when direct, else NULL */
	/* p2m_generation, or &own_generation (then the struct must stay where it is) */
	volatile uint64_t *generation;
	uint64_t own_generation;
	/* The shared pages, their frames and the PTE pages full of them. */
	uint64_t *missing, *identity;
	mfn_t missing_mfn, identity_mfn;
	uint64_t *missing_pte, *identity_pte;
	/* dir[i / 512][i % 512]: the PTE page linked at PMD i (shared or private). */
	uint64_t ***dir;
	/* The tools' tree (p2m_linear_build_mfn_tree); NULL until built. */
	uint64_t *top_mfn;	    /* p2m_top_mfn: frame_list_list */
	uint64_t **top_mfn_p;	    /* their addresses */
	uint64_t *mid_missing_mfn;  /* 512 x mfn(missing) */
	uint64_t *mid_identity_mfn; /* 512 x mfn(identity) */
	uint64_t pages;		    /* pages held from mem.alloc_page */
};

/*
 * An empty list of @max_pfn entries (1 .. P2M_LINEAR_MAX_PFN) at @va (2 MiB
 * aligned, canonical, not wrapping): every PMD linked to missing_pte.
 * @generation is shared_info.arch.p2m_generation, or NULL for a private
 * counter.  -1 with @err on a bad size or address, PV_ERR_NOMEM when a page
 * cannot be had (nothing kept, nothing mapped), or the platform's error when
 * a PMD cannot be linked (the pages are kept for p2m_linear_destroy, which
 * the caller calls after unmapping the range).
 */
int p2m_linear_init(struct p2m_linear *l, const struct p2m_linear_ops *ops, uint64_t va,
		    uint64_t max_pfn, volatile uint64_t *generation, struct pv_error *err);

/*
 * Give back every page: the private pages in the array (adopted builder
 * pages too), the PTE pages, the tools' tree, the shared pages.  The array's
 * mappings are left for the platform to take down.
 */
void p2m_linear_destroy(struct p2m_linear *l);

/* Outcome of p2m_linear_adopt(). */
struct p2m_linear_adopt_stats {
	uint64_t pages_mapped; /* builder pages now part of the array */
	uint64_t pages_freed;  /* all-INVALID (or all-identity) pages given back */
	uint64_t pte_pages;    /* private PTE pages made */
};

/*
 * Take the builder's flat list of @nr_entries entries (@list page aligned,
 * one run of pages, nr_entries <= max_pfn) into an empty list in place,
 * cf. xen_rebuild_p2m_list without its copy: each 4 KiB page of @list is
 * mapped at the array's place for it.  A page that is all INVALID maps the
 * shared missing page instead (all IDENTITY_FRAME(pfn): the identity page)
 * and goes back through free_page; a PMD of such pages keeps the shared
 * PTE page.  The tail of the last page (nr_entries .. the next multiple of
 * 512) is filled with INVALID, as p2m_graft does.  Entries equal to
 * P2M_LINEAR_IDENTITY are not looked for: no builder writes them.
 *
 * Before the tools' tree is built only (PV_ERR_USAGE otherwise).  All PTE
 * pages are taken first: PV_ERR_NOMEM leaves the list empty and @list whole.
 * A PMD the platform refuses to link ends the adoption with its error: PMDs
 * before it answer from @list, the rest stay missing, no page is freed.
 */
int p2m_linear_adopt(struct p2m_linear *l, uint64_t *list, uint64_t nr_entries,
		     struct p2m_linear_adopt_stats *stats, struct pv_error *err);

/* The raw array entry when not direct: through ops.ptr. */
uint64_t p2m_linear_load(const struct p2m_linear *l, uint64_t pfn);

/* get_phys_to_machine(): the entry with its FOREIGN/IDENTITY bits; INVALID past max_pfn. */
static inline uint64_t p2m_linear_get(const struct p2m_linear *l, pfn_t pfn)
{
	uint64_t n = pfn_x(pfn), e;

	if (n >= l->max_pfn)
		return INVALID_P2M_ENTRY;
	e = l->array ? l->array[n] : p2m_linear_load(l, n);
	return e == P2M_LINEAR_IDENTITY ? IDENTITY_FRAME(n) : e;
}

/* pfn_to_mfn(): the entry without flag bits; INVALID_MFN if missing. */
mfn_t p2m_linear_pfn_to_mfn(const struct p2m_linear *l, pfn_t pfn);

/*
 * The 512 entries of @pfn's block, for a loop over many pfns: the array's
 * page there (the shared missing page for a hole), NULL for a shared
 * identity page (its entries are IDENTITY_FRAME(pfn)) or past max_pfn.  The
 * entries past max_pfn in the last block read INVALID.
 */
const uint64_t *p2m_linear_leaf(const struct p2m_linear *l, pfn_t pfn);

/*
 * set_phys_to_machine(): store @entry, giving the pfn's 4 KiB of array a
 * private page first if it maps a shared one (and its PMD a private PTE
 * page, and the tools' tree a mid page).  Storing what a shared page
 * already means allocates nothing.  Past max_pfn only INVALID is accepted
 * (as nothing); P2M_LINEAR_IDENTITY is refused (PV_ERR_RANGE).  On
 * PV_ERR_NOMEM or a refused remap every pfn answers as before.
 */
int p2m_linear_set(struct p2m_linear *l, pfn_t pfn, uint64_t entry, struct pv_error *err);

/*
 * set_phys_range_identity(): make [@s, @e) 1:1, clipped at max_pfn.  Whole
 * missing GiBs link identity_pte, whole missing blocks map the identity
 * page, private pages get IDENTITY_FRAME(pfn) entries; only the partial
 * blocks and PMDs at the two ends can need pages, and those are made first.
 * Returns the number of pfns made identity, or -1 with @err; on
 * PV_ERR_NOMEM every pfn answers as before.
 */
int64_t p2m_linear_set_identity(struct p2m_linear *l, pfn_t s, pfn_t e, struct pv_error *err);

/*
 * xen_build_mfn_list_list() for the linear list (Linux 3.19 builds it from
 * the PTEs): the tools' tree over the array's pages, kept up to date by every
 * later change, or refreshed by a second call (resume).  0 and the frame for
 * pfn_to_mfn_frame_list_list in @frame_list_list; PV_ERR_NOMEM with nothing
 * changed.  Above P2M_MAX_PFN pfns: -1 with PV_ERR_RANGE and INVALID_MFN,
 * the "too large for the 3-level p2m tree" value of arch_shared_info.
 */
int p2m_linear_build_mfn_tree(struct p2m_linear *l, mfn_t *frame_list_list, struct pv_error *err);

#endif
