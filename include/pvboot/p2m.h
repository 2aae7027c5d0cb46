/*
 * The Linux 3.7 P2M tree (arch/x86/xen/p2m.c; docs/p2m.md sections 3 to 6),
 * freestanding.
 *
 *   p2m_top ----> [ 512 mid pointers ]          1 page, covers 512 GiB
 *                    |
 *                    v
 *                 mid page [ 512 leaf pointers ] 1 GiB each
 *                    |
 *                    v
 *                 leaf [ 512 P2M entries ]       2 MiB of pfns each
 *
 *   Unused top slots point at p2m_mid_missing, whose slots all point at
 *   p2m_missing (a leaf of INVALID_P2M_ENTRY).  p2m_identity is a leaf of
 *   INVALID too, recognised by its address: pfns under it are 1:1.
 *
 * Beside it the tools' tree of machine frames, published through
 * shared_info.arch.pfn_to_mfn_frame_list_list:
 *
 *   p2m_top_mfn   [ 512 MFNs of mid_mfn pages ]   (p2m_top_mfn_p: their addresses)
 *   mid_mfn page  [ 512 MFNs of leaves ]
 *
 * Pages come from a caller's allocator, so the same code runs in the
 * simulator (host memory) and in the PV kernel (guest pages).  Every
 * function that can fail returns an error and leaves the tree as it was.
 */
#ifndef PVBOOT_P2M_H
#define PVBOOT_P2M_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>

#define P2M_PER_PAGE	 512ULL
#define P2M_MID_PER_PAGE 512ULL
#define P2M_TOP_PER_PAGE 512ULL
#define P2M_MAX_PFN	 (P2M_PER_PAGE * P2M_MID_PER_PAGE * P2M_TOP_PER_PAGE) /* Linux's MAX_P2M_PFN */

/* Where the tree gets its 4 KiB pages. */
struct p2m_ops {
	/* A page-aligned, writable 4 KiB page, or NULL when memory runs out. */
	void *(*alloc_page)(void *ctx);
	/* Give back a page from alloc_page, or a page of the builder's list. */
	void (*free_page)(void *ctx, void *page);
	/* The machine frame behind a page (virt_to_mfn). */
	mfn_t (*virt_to_mfn)(void *ctx, const void *page);
	void *ctx;
};

struct p2m {
	struct p2m_ops ops;
	uint64_t max_pfn;	/* entries the guest uses: xen_max_p2m_pfn */
	uint64_t ***top;	/* p2m_top */
	uint64_t **mid_missing; /* p2m_mid_missing */
	uint64_t *missing;	/* p2m_missing */
	uint64_t *identity;	/* p2m_identity */
	/* The tools' tree; NULL until p2m_build_mfn_tree(). */
	uint64_t *top_mfn;	   /* p2m_top_mfn */
	uint64_t **top_mfn_p;	   /* p2m_top_mfn_p */
	uint64_t *mid_missing_mfn; /* p2m_mid_missing_mfn */
	/* The builder's list while leaves point into it (p2m_graft). */
	uint64_t *list;
	uint64_t list_bytes;
	uint64_t pages; /* pages the tree holds from ops.alloc_page */
};

/*
 * Set up an empty tree for @max_pfn entries (1 .. P2M_MAX_PFN): the top
 * page and the three shared pages.  -1 with @err on a bad size or when
 * allocation fails (nothing is kept).
 */
int p2m_init(struct p2m *p, const struct p2m_ops *ops, uint64_t max_pfn, struct pv_error *err);

/* Give back every page the tree allocated (not the builder's list). */
void p2m_destroy(struct p2m *p);

/*
 * xen_build_dynamic_phys_to_machine(): graft the builder's flat list of
 * p->max_pfn entries into the tree without copying it: each leaf pointer
 * points into @mfn_list.  The list must be page aligned and at least
 * round_up(max_pfn, 512) entries long; the tail of the last leaf is filled
 * with INVALID_P2M_ENTRY, as Linux does.
 */
int p2m_graft(struct p2m *p, uint64_t *mfn_list, struct pv_error *err);

/* get_phys_to_machine(): the raw entry, with its FOREIGN/IDENTITY bits. */
uint64_t p2m_get(const struct p2m *p, pfn_t pfn);

/* pfn_to_mfn(): the entry without flag bits; INVALID_MFN if missing. */
mfn_t p2m_pfn_to_mfn(const struct p2m *p, pfn_t pfn);

/*
 * The leaf page holding the entries of @pfn's 512-pfn block, for a loop
 * over many pfns: the shared missing leaf where there is none, NULL for an
 * identity block (its entries are IDENTITY_FRAME(pfn)) or past the tree.
 */
const uint64_t *p2m_leaf(const struct p2m *p, pfn_t pfn);

/*
 * __set_phys_to_machine(): store without allocating.  False when a leaf
 * would be needed (the pfn is under p2m_missing and @entry is not INVALID).
 */
bool p2m_set_noalloc(struct p2m *p, pfn_t pfn, uint64_t entry);

/* set_phys_to_machine(): store, allocating mid and leaf pages as needed. */
int p2m_set(struct p2m *p, pfn_t pfn, uint64_t entry, struct pv_error *err);

/*
 * set_phys_range_identity(): make [s, e) 1:1.  Whole 2 MiB leaves still
 * missing become p2m_identity by pointer; partial ones get real leaves.
 * Returns the number of pfns made identity; -1 with @err if a page could
 * not be allocated (pfns before the failure stay identity).
 */
int64_t p2m_set_identity(struct p2m *p, pfn_t s, pfn_t e, struct pv_error *err);

/*
 * xen_build_mfn_list_list(): build (or, on a second call, refresh) the
 * tools' tree.  Returns 0 and the frame for
 * shared_info.arch.pfn_to_mfn_frame_list_list in @frame_list_list.
 */
int p2m_build_mfn_tree(struct p2m *p, mfn_t *frame_list_list, struct pv_error *err);

/* Outcome of p2m_revector(). */
struct p2m_revector_stats {
	uint64_t leaves_copied;	  /* leaves that lived in the old list */
	uint64_t old_pages_freed; /* pages of the old list given back */
};

/*
 * xen_revector_p2m_tree() and the poisoning after it: copy every leaf that
 * lies inside the old list [@old, @old + @old_bytes) into a new page, point
 * the tree and the tools' tree at the copies, fill the old list with 0xff
 * and give its pages back through ops.free_page.
 *
 * All new pages are allocated before anything changes: if one allocation
 * fails, the pages already taken are returned and the tree is exactly as it
 * was (-1 with @err, PV_ERR_NOMEM).
 */
int p2m_revector(struct p2m *p, uint64_t *old, uint64_t old_bytes, struct p2m_revector_stats *stats,
		 struct pv_error *err);

/* Leaves that lie inside [@old, @old + @old_bytes): what a revector copies. */
uint64_t p2m_leaves_in(const struct p2m *p, const uint64_t *old, uint64_t old_bytes);

#endif
