/*
 * One P2M interface over both backends, chosen at run time: the Linux 3.7
 * tree (p2m.h) or the Linux 3.19 linear list (p2m_linear.h).  Code that
 * only looks entries up and changes them (the boot path's populate and
 * identity steps, its verification loop, the tests) goes through this and
 * does not know which one it has.  What differs stays on the backends:
 * grafting and revectoring the tree, adopting into the list.
 *
 * Where the two could answer differently they do not: the same history of
 * sets and identity ranges below max_pfn gives the same entries.  Past
 * max_pfn the tree still stores (up to P2M_MAX_PFN) and the list refuses
 * anything but INVALID; a leaf may be NULL in one and a page of explicit
 * identity entries in the other; P2M_LINEAR_IDENTITY is no entry for the
 * list, which refuses it.
 */
#ifndef PVBOOT_P2M_IF_H
#define PVBOOT_P2M_IF_H

#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>
#include <pvboot/p2m.h>
#include <pvboot/p2m_linear.h>

struct p2m_if {
	const char *name; /* "tree" or "linear" */
	void *impl;	  /* the struct p2m or struct p2m_linear */
	/* get_phys_to_machine(): the raw entry, INVALID where there is none. */
	uint64_t (*get)(const void *impl, pfn_t pfn);
	/* set_phys_to_machine(): 0, or -1 with @err (nothing changed). */
	int (*set)(void *impl, pfn_t pfn, uint64_t entry, struct pv_error *err);
	/* set_phys_range_identity(): pfns made 1:1, or -1 with @err. */
	int64_t (*set_identity)(void *impl, pfn_t s, pfn_t e, struct pv_error *err);
	/*
	 * The 512 entries of @pfn's block, for bulk loops: NULL for a block that
	 * is all identity (entry i is IDENTITY_FRAME(base + i)) or past the end.
	 */
	const uint64_t *(*leaf)(const void *impl, pfn_t pfn);
	/* xen_build_mfn_list_list(): the tools' tree; its frame_list_list frame. */
	int (*build_mfn_tree)(void *impl, mfn_t *frame_list_list, struct pv_error *err);
	/* Entries the guest has: shared_info.arch.max_pfn. */
	uint64_t max_pfn;
};

struct p2m_if p2m_if_tree(struct p2m *p);
struct p2m_if p2m_if_linear(struct p2m_linear *l);

static inline uint64_t p2m_if_get(const struct p2m_if *i, pfn_t pfn)
{
	return i->get(i->impl, pfn);
}

static inline int p2m_if_set(const struct p2m_if *i, pfn_t pfn, uint64_t entry, struct pv_error *err)
{
	return i->set(i->impl, pfn, entry, err);
}

static inline int64_t p2m_if_set_identity(const struct p2m_if *i, pfn_t s, pfn_t e,
					  struct pv_error *err)
{
	return i->set_identity(i->impl, s, e, err);
}

static inline const uint64_t *p2m_if_leaf(const struct p2m_if *i, pfn_t pfn)
{
	return i->leaf(i->impl, pfn);
}

/* pfn_to_mfn(): the entry without flag bits; INVALID_MFN if missing. */
static inline mfn_t p2m_if_pfn_to_mfn(const struct p2m_if *i, pfn_t pfn)
{
	uint64_t e = p2m_if_get(i, pfn);

	if (e == INVALID_P2M_ENTRY)
		return INVALID_MFN;
	return _mfn(e & ~(FOREIGN_FRAME_BIT | IDENTITY_FRAME_BIT));
}

#endif
