/*
 * Reading a 64-bit PV guest's P2M from outside the guest, as Xen's
 * save/restore tools do (map_p2m_tree and map_p2m_list in libxenguest's
 * xg_sr_save_x86_pv.c; docs/p2m.md section 9, the structures read in
 * sections 5 and 7), freestanding.
 *
 * Two ways in, both from shared_info.arch:
 *
 *   via tree  pfn_to_mfn_frame_list_list (Linux 3.7's tools' tree, <= 512 GiB)
 *
 *     fll frame  [ 512 mfns of frame-list frames ]   level 3, 512 GiB of pfns
 *        |
 *        v
 *     frame list [ 512 mfns of P2M frames ]          level 2, 1 GiB each
 *        |
 *        v
 *     P2M frame  [ 512 entries ]                     level 1, 2 MiB each
 *
 *   via list  p2m_cr3 / p2m_vaddr (Xen 4.6 and later, Linux 3.19's linear list)
 *
 *     p2m_cr3 >> 12 = L4 -> L3 -> L2 -> L1 -> the array's page for
 *     p2m_vaddr + 8 * pfn, machine frame by machine frame, 4 KiB PTEs only
 *
 * Every frame number met on the way is checked before it is read: not 0,
 * not beyond the host's last frame, the domain's by the M2P, not a table
 * already on the same path (a cycle), and for P2M frames an M2P pfn below
 * max_pfn (the half of libxenguest's mfn_in_pseudophysmap that needs no
 * P2M).  An error names the level, the index and the value.
 *
 * p2m_generation (odd while the guest changes a mapping of its list) is read
 * before and after a whole read: when it was odd or changed, the read starts
 * again, at most P2M_READ_TRIES times (libxenguest aborts a migration on the
 * first change instead).
 *
 * Entries come out as get_phys_to_machine() gives them: an mfn, INVALID_P2M_ENTRY,
 * IDENTITY_FRAME(pfn), FOREIGN_FRAME(mfn).  pvboot's shared identity page
 * holds P2M_LINEAR_IDENTITY (p2m_linear.h), read as IDENTITY_FRAME(pfn).
 */
#ifndef PVBOOT_P2M_READ_H
#define PVBOOT_P2M_READ_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>
#include <pvboot/p2m.h>

/* Read attempts while p2m_generation is odd or moves. */
#define P2M_READ_TRIES 8

enum p2m_via {
	P2M_VIA_TREE = 1, /* pfn_to_mfn_frame_list_list */
	P2M_VIA_LIST = 2, /* p2m_cr3 and p2m_vaddr */
};

/* shared_info.arch as tools read it (arch_shared_info in Xen's public xen.h). */
struct p2m_arch {
	uint64_t max_pfn;	  /* pfns the P2M describes (a count, as the guest writes it) */
	uint64_t frame_list_list; /* pfn_to_mfn_frame_list_list; 0: not yet, ~0: none */
	uint64_t p2m_cr3;	  /* xen_pfn_to_cr3(L4 mfn); 0: no linear list */
	uint64_t p2m_vaddr;
	uint64_t p2m_generation;
};

/*
 * Where the frames come from: a live simulated domain, a memory image, a
 * test's wrapper.  Every callback gets ctx.
 */
struct p2m_src {
	void *ctx;
	uint64_t max_mfn; /* the host's last machine frame */
	/* shared_info.arch now (the generation may move between two calls). */
	int (*arch)(void *ctx, struct p2m_arch *arch, struct pv_error *err);
	/*
	 * The M2P: the pfn the domain has at @mfn, ~0 when the frame is not
	 * the domain's.  @run (may be NULL) gets how many frames from @mfn on
	 * map to consecutive pfns (at least 1 when owned).
	 */
	uint64_t (*m2p)(void *ctx, mfn_t mfn, uint64_t *run);
	/* The 4096 bytes of frame @mfn into @page; -1 with @err when it has none. */
	int (*frame)(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err);
};

/* One way in, with the frames of the walk kept while the path stays the same. */
struct p2m_reader {
	const struct p2m_src *src;
	enum p2m_via via;
	struct p2m_arch arch;	      /* as read when the read began */
	uint64_t nr_pfns;	      /* arch.max_pfn */
	uint64_t frames_read;	      /* since begin */
	uint64_t block[P2M_PER_PAGE]; /* p2m_read's last block */
	struct {
		uint64_t mfn; /* the table in page, ~0 for none */
		uint64_t page[P2M_PER_PAGE];
	} lvl[5]; /* tree: 3 frame_list_list, 2 frame list; list: 4..1 */
};

/*
 * Start reading @src via @via with @arch (read by the caller): check what
 * shared_info says for that way in and read its top frame.  -1 with @err
 * when the guest publishes no such structure or it is malformed
 * ("max_pfn %#lx too large for p2m tree", "Bad p2m_cr3 value", ...).
 */
int p2m_reader_begin(struct p2m_reader *r, const struct p2m_src *src, enum p2m_via via,
		     const struct p2m_arch *arch, struct pv_error *err);

/*
 * The entries of pfns [512 * @block, 512 * @block + 512) into @out (512
 * words; those at or past max_pfn read INVALID_P2M_ENTRY).  -1 with @err
 * naming the bad entry of the walk.
 */
int p2m_reader_block(struct p2m_reader *r, uint64_t block, uint64_t *out, struct pv_error *err);

/* What a whole read hands over, 512 pfns at a time. */
struct p2m_sink {
	void *ctx;
	/* The read starts again (p2m_generation moved): forget what came so far. */
	void (*restart)(void *ctx);
	/*
	 * Entries of pfns [@pfn, @pfn + @n) through the tree and through the
	 * list, NULL for a way not read.  Nonzero stops the read (-1 with
	 * @err filled by the sink).
	 */
	int (*block)(void *ctx, uint64_t pfn, const uint64_t *tree, const uint64_t *list,
		     unsigned n, struct pv_error *err);
};

struct p2m_read_stats {
	unsigned tries;	      /* 1 when the generation held still the first time */
	uint64_t generation;  /* p2m_generation of the read that held */
	uint64_t nr_pfns;     /* max_pfn of that read */
	uint64_t frames_read; /* frames of the walk and of the P2M, every try */
};

/*
 * Read pfns [@first, @end) (@end ~0: up to max_pfn) through @tree and/or
 * @list (NULL: that way is not read), handing them to @sink in order, in
 * lockstep when both are read.  p2m_generation is read before and after;
 * if it was odd or moved, or a frame on the way went bad while it moved,
 * the sink restarts and the read runs again, up to P2M_READ_TRIES times.
 * -1 with @err for a bad frame (or a range past max_pfn) while the
 * generation held, and when it never held.
 */
int p2m_read(const struct p2m_src *src, struct p2m_reader *tree, struct p2m_reader *list,
	     uint64_t first, uint64_t end, const struct p2m_sink *sink,
	     struct p2m_read_stats *stats, struct pv_error *err);

/* What entries say, counted over blocks (p2m_count_block). */
struct p2m_counts {
	uint64_t valid;	    /* an mfn */
	uint64_t invalid;   /* INVALID_P2M_ENTRY: missing */
	uint64_t identity;  /* IDENTITY_FRAME(pfn) */
	uint64_t foreign;   /* FOREIGN_FRAME(mfn) */
	uint64_t not_owned; /* valid, but the M2P gives the frame to no pfn of the domain */
	uint64_t m2p_other; /* valid and the domain's, but the M2P names another pfn */
};

/* What one entry is: "invalid", "identity", "foreign" or "valid" (an mfn). */
static inline const char *p2m_entry_kind(uint64_t e)
{
	if (e == INVALID_P2M_ENTRY)
		return "invalid";
	if (e & IDENTITY_FRAME_BIT)
		return "identity";
	if (e & FOREIGN_FRAME_BIT)
		return "foreign";
	return "valid";
}

/* Count @n entries of pfns from @pfn, checking valid ones against @src's M2P. */
void p2m_count_block(const struct p2m_src *src, uint64_t pfn, const uint64_t *e, unsigned n,
		     struct p2m_counts *c);

/*
 * A whole P2M read (p2m_survey.c): through the tree (rd[0]), the list
 * (rd[1]) or both, as @ways (P2M_VIA_TREE | P2M_VIA_LIST) asks and the
 * domain publishes, every entry counted and checked against the M2P, the
 * two compared where both were read.
 */
struct p2m_survey {
	const struct p2m_src *src;
	struct p2m_arch arch;	   /* what shared_info said */
	struct p2m_reader *r[2];   /* tree, list: the ways read, NULL where not */
	struct pv_error why[2];	   /* ... and why not, when the domain lacks it */
	struct p2m_read_stats stats;
	struct p2m_counts counts;
	uint64_t first_bad; /* first pfn whose frame the M2P contradicts; ~0: none */
	uint64_t differ;    /* pfns where tree and list differ */
	uint64_t first_differ, first_tree, first_list;
};

/*
 * Survey @src into @s with the readers @rd[2] (caller's memory: they are
 * large).  -1 with @err when no way can be read (or one asked for alone
 * cannot), or a read fails; the P2M's own faults (M2P contradictions,
 * disagreement) are in @s, not errors.
 */
int p2m_survey(const struct p2m_src *src, unsigned ways, struct p2m_reader rd[2],
	       struct p2m_survey *s, struct pv_error *err);

#endif
