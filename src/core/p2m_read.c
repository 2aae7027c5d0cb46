/*
 * A guest's P2M read from outside, through the tools' 3-level tree or the
 * linear list's page tables; see include/pvboot/p2m_read.h for the two
 * structures.  cf. map_p2m_tree, map_p2m_list and get_p2m_generation in
 * libxenguest's xg_sr_save_x86_pv.c: the same checks, with the bad entry
 * named, read a block of 512 pfns at a time instead of mapping it all.
 */
#include <pvboot/p2m_linear.h>
#include <pvboot/p2m_read.h>
#include <pvboot/pgtable.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>

#define FLL_PFNS (P2M_PER_PAGE * P2M_MID_PER_PAGE) /* pfns under one fll entry: 1 GiB */
#define NO_MFN	 (~0ULL)

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/*
 * Why frame @mfn cannot be read as part of the P2M, or NULL.  @top is the
 * highest level the walk has; tables lvl[@above .. top] are the current
 * path, which the frame must not be.  A P2M frame (@data) must also have
 * an M2P pfn below max_pfn (cf. mfn_in_pseudophysmap).
 */
static const char *frame_bad(const struct p2m_reader *r, uint64_t mfn, bool data, int above, int top)
{
	uint64_t pfn;

	if (mfn == 0)
		return "mfn 0 is no guest's frame";
	if (mfn > r->src->max_mfn)
		return "beyond the host's last machine frame";
	pfn = r->src->m2p(r->src->ctx, _mfn(mfn), NULL);
	if (pfn == ~0ULL)
		return "not the domain's frame (no M2P entry)";
	if (data && pfn >= r->nr_pfns)
		return "its M2P pfn is at or past max_pfn";
	for (int l = above; l <= top; l++)
		if (r->lvl[l].mfn == mfn)
			return "a table already on this path (a cycle)";
	return NULL;
}

/* Read frame @mfn into @page, counting it; -1 with the source's error. */
static int frame_read(struct p2m_reader *r, uint64_t mfn, uint64_t *page, struct pv_error *err)
{
	r->frames_read++;
	return r->src->frame(r->src->ctx, _mfn(mfn), page, err);
}

/* Raw entries of block @block in @out as get_phys_to_machine() gives them. */
static void decode(const struct p2m_reader *r, uint64_t block, uint64_t *out)
{
	uint64_t pfn = block * P2M_PER_PAGE;

	for (unsigned i = 0; i < P2M_PER_PAGE; i++, pfn++) {
		if (pfn >= r->nr_pfns)
			out[i] = INVALID_P2M_ENTRY;
		else if (out[i] == P2M_LINEAR_IDENTITY)
			out[i] = IDENTITY_FRAME(pfn);
	}
}

/* The tree: frame_list_list checked and read (map_p2m_tree's first half). */
static int tree_begin(struct p2m_reader *r, struct pv_error *err)
{
	uint64_t fll = r->arch.frame_list_list;
	const char *why;

	if (r->nr_pfns > P2M_MAX_PFN) {
		if (fll == ~0ULL)
			return pv_fail(err, PV_ERR_UNSUPPORTED,
				       "no p2m tree: frame_list_list is ~0 and max_pfn %#llx too large for p2m tree (%llu pfns; the 3-level tree holds %llu, 512 GiB): the guest publishes its P2M through p2m_cr3/p2m_vaddr only",
				       ull(r->nr_pfns - 1), ull(r->nr_pfns), ull(P2M_MAX_PFN));
		return pv_fail(err, PV_ERR_FORMAT,
			       "max_pfn %#llx too large for p2m tree (%llu pfns; the 3-level tree holds %llu, 512 GiB)",
			       ull(r->nr_pfns - 1), ull(r->nr_pfns), ull(P2M_MAX_PFN));
	}
	if (fll == ~0ULL)
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "no p2m tree: frame_list_list is ~0 (the guest publishes its P2M through p2m_cr3/p2m_vaddr only)");
	if (fll == 0)
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "no p2m tree: frame_list_list is 0 (not set up by the guest)");
	why = frame_bad(r, fll, false, 4, 3);
	if (why)
		return pv_fail(err, PV_ERR_FORMAT, "Bad mfn %#llx for p2m frame list list: %s",
			       ull(fll), why);
	if (frame_read(r, fll, r->lvl[3].page, err))
		return -1;
	r->lvl[3].mfn = fll;
	return 0;
}

/* Block @block through the tree: frame list, then the P2M frame. */
static int tree_block(struct p2m_reader *r, uint64_t block, uint64_t *out, struct pv_error *err)
{
	unsigned fi = (unsigned)(block / P2M_MID_PER_PAGE), mi = (unsigned)(block % P2M_MID_PER_PAGE);
	unsigned nfll = (unsigned)((r->nr_pfns - 1) / FLL_PFNS + 1);
	uint64_t mid = r->lvl[3].page[fi], leaf;
	const char *why = frame_bad(r, mid, false, 3, 3);
	struct pv_error e;

	if (why)
		return pv_fail(err, PV_ERR_FORMAT,
			       "Bad mfn %#llx at index %u (of %u) in p2m frame list list (level 3, mfn %#llx): %s",
			       ull(mid), fi, nfll, ull(r->lvl[3].mfn), why);
	if (r->lvl[2].mfn != mid) {
		r->lvl[2].mfn = NO_MFN;
		if (frame_read(r, mid, r->lvl[2].page, &e))
			return pv_fail(err, e.code,
				       "p2m frame list list (level 3) index %u, mfn %#llx: %s", fi,
				       ull(mid), e.msg);
		r->lvl[2].mfn = mid;
	}
	leaf = r->lvl[2].page[mi];
	why = frame_bad(r, leaf, true, 2, 3);
	if (why)
		return pv_fail(err, PV_ERR_FORMAT,
			       "Bad mfn %#llx at index %u in p2m frame list (level 2, mfn %#llx; p2m_frame_list[%llu], pfns %#llx-%#llx): %s",
			       ull(leaf), mi, ull(mid), ull(block), ull(block * P2M_PER_PAGE),
			       ull(block * P2M_PER_PAGE + P2M_PER_PAGE - 1), why);
	if (frame_read(r, leaf, out, &e))
		return pv_fail(err, e.code, "p2m_frame_list[%llu], mfn %#llx: %s", ull(block),
			       ull(leaf), e.msg);
	return 0;
}

/* The list: p2m_cr3 and the array's range checked, the L4 read (map_p2m_list). */
static int list_begin(struct p2m_reader *r, struct pv_error *err)
{
	uint64_t cr3 = r->arch.p2m_cr3, va = r->arch.p2m_vaddr, end, l4;
	const char *why;

	if (cr3 == 0)
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "no linear p2m list: p2m_cr3 is 0 (the guest publishes only the 3-level tree)");
	l4 = cr3 >> PAGE_SHIFT; /* xen_cr3_to_pfn, 64-bit */
	why = frame_bad(r, l4, false, 5, 4);
	if (why)
		return pv_fail(err, PV_ERR_FORMAT, "Bad p2m_cr3 value %#llx (mfn %#llx): %s",
			       ull(cr3), ull(l4), why);
	if (r->nr_pfns > P2M_LINEAR_MAX_PFN)
		return pv_fail(err, PV_ERR_FORMAT,
			       "max_pfn %#llx too large: a linear list of %llu pfns does not fit 48-bit addresses",
			       ull(r->nr_pfns - 1), ull(r->nr_pfns));
	end = va + r->nr_pfns * 8 - 1;
	if (!va_canonical(va) || !va_canonical(end) || end < va ||
	    (va < HYPERVISOR_VIRT_END && end >= HYPERVISOR_VIRT_START))
		return pv_fail(err, PV_ERR_FORMAT,
			       "Bad virtual p2m address range %#llx-%#llx (not canonical, wrapping, or in Xen's own %#llx-%#llx)",
			       ull(va), ull(end), ull(HYPERVISOR_VIRT_START),
			       ull(HYPERVISOR_VIRT_END - 1));
	if (va % PAGE_SIZE)
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "p2m_vaddr %#llx is not page aligned: pvboot reads the array a page at a time",
			       ull(va));
	if (frame_read(r, l4, r->lvl[4].page, err))
		return -1;
	r->lvl[4].mfn = l4;
	return 0;
}

static const char *const span_name[] = {"", "4 KiB", "2 MiB", "1 GiB"};

/*
 * Check the entry @e at @index of the level-@level table for @va: present,
 * no large page.  0, or -1 with @err naming it.
 */
static int list_entry_ok(const struct p2m_reader *r, int level, unsigned index, uint64_t e,
			 uint64_t va, struct pv_error *err)
{
	if (!pte_present(e))
		return pv_fail(err, PV_ERR_FORMAT,
			       "p2m list: nothing mapped at vaddr %#llx: entry %u of the level %d table (mfn %#llx) is %#llx, not present",
			       ull(va), index, level, ull(r->lvl[level].mfn), ull(e));
	if (level == PT_L4 && (e & _PAGE_PSE))
		return pv_fail(err, PV_ERR_FORMAT,
			       "p2m list: entry %u of the level 4 table (mfn %#llx) is %#llx, with _PAGE_PSE set, a bit x86 reserves in an L4 entry (vaddr %#llx)",
			       index, ull(r->lvl[level].mfn), ull(e), ull(va));
	if (level > PT_L1 && (e & _PAGE_PSE))
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "p2m list: entry %u of the level %d table (mfn %#llx) is %#llx, a %s page (_PAGE_PSE) for vaddr %#llx: PV guests map their P2M list with 4 KiB pages (Xen refuses _PAGE_PSE in a PV guest's tables), and pvboot reads no other",
			       index, level, ull(r->lvl[level].mfn), ull(e), span_name[level],
			       ull(va));
	return 0;
}

/* Block @block through the list: the walk for p2m_vaddr + 4096 * block. */
static int list_block(struct p2m_reader *r, uint64_t block, uint64_t *out, struct pv_error *err)
{
	uint64_t va = r->arch.p2m_vaddr + block * PAGE_SIZE, e, m;
	struct pv_error fe;
	unsigned idx;
	const char *why;

	for (int level = PT_L4; level >= PT_L1; level--) {
		idx = pt_index(va, level);
		e = r->lvl[level].page[idx];
		if (list_entry_ok(r, level, idx, e, va, err))
			return -1;
		m = mfn_x(pte_mfn(e));
		why = frame_bad(r, m, level == PT_L1, level, PT_L4);
		if (why)
			return pv_fail(err, PV_ERR_FORMAT,
				       "Bad mfn %#llx during page table walk for vaddr %#llx at level %d of p2m list (table mfn %#llx, index %u, entry %#llx): %s",
				       ull(m), ull(va), level, ull(r->lvl[level].mfn), idx, ull(e),
				       why);
		if (level > PT_L1 && r->lvl[level - 1].mfn == m)
			continue;
		if (level == PT_L1) {
			if (frame_read(r, m, out, &fe))
				return pv_fail(err, fe.code,
					       "p2m list page for vaddr %#llx, mfn %#llx: %s",
					       ull(va), ull(m), fe.msg);
			break;
		}
		r->lvl[level - 1].mfn = NO_MFN;
		if (frame_read(r, m, r->lvl[level - 1].page, &fe))
			return pv_fail(err, fe.code,
				       "p2m list level %d table for vaddr %#llx, mfn %#llx: %s",
				       level - 1, ull(va), ull(m), fe.msg);
		r->lvl[level - 1].mfn = m;
	}
	return 0;
}

int p2m_reader_begin(struct p2m_reader *r, const struct p2m_src *src, enum p2m_via via,
		     const struct p2m_arch *arch, struct pv_error *err)
{
	r->src = src;
	r->via = via;
	r->arch = *arch;
	r->nr_pfns = arch->max_pfn;
	r->frames_read = 0;
	for (int l = 0; l < 5; l++)
		r->lvl[l].mfn = NO_MFN;
	if (r->nr_pfns == 0)
		return pv_fail(err, PV_ERR_FORMAT, "max_pfn is 0: shared_info describes no P2M");
	return via == P2M_VIA_TREE ? tree_begin(r, err) : list_begin(r, err);
}

int p2m_reader_block(struct p2m_reader *r, uint64_t block, uint64_t *out, struct pv_error *err)
{
	int rc;

	if (block >= (r->nr_pfns + P2M_PER_PAGE - 1) / P2M_PER_PAGE)
		return pv_fail(err, PV_ERR_RANGE, "pfn %#llx is at or past max_pfn (%#llx pfns)",
			       ull(block * P2M_PER_PAGE), ull(r->nr_pfns));
	rc = r->via == P2M_VIA_TREE ? tree_block(r, block, out, err) : list_block(r, block, out, err);
	if (!rc)
		decode(r, block, out);
	return rc;
}

/* Did p2m_generation move since @g (or can it not be read)?  1 moved, 0 held, -1 error. */
static int moved(const struct p2m_src *src, uint64_t g, uint64_t *now, struct pv_error *err)
{
	struct p2m_arch a;

	if (src->arch(src->ctx, &a, err))
		return -1;
	*now = a.p2m_generation;
	return a.p2m_generation != g;
}

/* One attempt: 0 done, 1 retry (the generation moved; *g1 what it is now), -1 error. */
static int read_once(const struct p2m_src *src, struct p2m_reader *tree, struct p2m_reader *list,
		     const struct p2m_arch *a, uint64_t first, uint64_t end,
		     const struct p2m_sink *sink, uint64_t *g1, struct pv_error *err)
{
	struct p2m_reader *rd[2] = {tree, list};
	enum p2m_via via[2] = {P2M_VIA_TREE, P2M_VIA_LIST};
	uint64_t e = end == ~0ULL ? a->max_pfn : end;
	int m;

	for (int k = 0; k < 2; k++) {
		if (rd[k] && p2m_reader_begin(rd[k], src, via[k], a, err))
			goto failed;
	}
	if (first > e || e > a->max_pfn)
		return pv_fail(err, PV_ERR_RANGE,
			       "pfns %#llx-%#llx are past max_pfn: the P2M has %#llx pfns",
			       ull(first), ull(e - 1), ull(a->max_pfn));
	for (uint64_t b = first / P2M_PER_PAGE; b * P2M_PER_PAGE < e; b++) {
		uint64_t lo = b * P2M_PER_PAGE, hi = lo + P2M_PER_PAGE;

		for (int k = 0; k < 2; k++)
			if (rd[k] && p2m_reader_block(rd[k], b, rd[k]->block, err))
				goto failed;
		if (lo < first)
			lo = first;
		if (hi > e)
			hi = e;
		if (sink->block(sink->ctx, lo, tree ? tree->block + lo % P2M_PER_PAGE : NULL,
				list ? list->block + lo % P2M_PER_PAGE : NULL, (unsigned)(hi - lo),
				err))
			return -1;
	}
	m = moved(src, a->p2m_generation, g1, err);
	return m;
failed:
	/* A frame that went bad while the guest remapped: read again. */
	{
		struct pv_error e2;

		m = moved(src, a->p2m_generation, g1, &e2);
		return m == 1 ? 1 : -1;
	}
}

int p2m_read(const struct p2m_src *src, struct p2m_reader *tree, struct p2m_reader *list,
	     uint64_t first, uint64_t end, const struct p2m_sink *sink,
	     struct p2m_read_stats *stats, struct pv_error *err)
{
	struct p2m_arch a = {0};
	uint64_t g1 = 0;
	bool odd = false;
	unsigned t;

	*stats = (struct p2m_read_stats){0};
	for (t = 1; t <= P2M_READ_TRIES; t++) {
		int rc;

		if (t > 1 && sink->restart)
			sink->restart(sink->ctx);
		if (src->arch(src->ctx, &a, err))
			return -1;
		odd = a.p2m_generation & 1;
		if (odd)
			continue;
		rc = read_once(src, tree, list, &a, first, end, sink, &g1, err);
		stats->frames_read += (tree ? tree->frames_read : 0) + (list ? list->frames_read : 0);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			stats->tries = t;
			stats->generation = a.p2m_generation;
			stats->nr_pfns = a.max_pfn;
			return 0;
		}
	}
	stats->tries = P2M_READ_TRIES;
	if (odd)
		return pv_fail(err, PV_ERR_FORMAT,
			       "p2m_generation %#llx is odd on each of %u tries: the guest is in the middle of remapping its P2M list",
			       ull(a.p2m_generation), P2M_READ_TRIES);
	return pv_fail(err, PV_ERR_FORMAT,
		       "p2m generation count changed (%#llx -> %#llx) during each of %u reads: the guest keeps remapping its P2M list",
		       ull(a.p2m_generation), ull(g1), P2M_READ_TRIES);
}

void p2m_count_block(const struct p2m_src *src, uint64_t pfn, const uint64_t *e, unsigned n,
		     struct p2m_counts *c)
{
	for (unsigned i = 0; i < n;) {
		uint64_t m = e[i], p, run = 0, k;

		if (m == INVALID_P2M_ENTRY) {
			c->invalid++;
			i++;
			continue;
		}
		if (m & IDENTITY_FRAME_BIT) {
			c->identity++;
			i++;
			continue;
		}
		if (m & FOREIGN_FRAME_BIT) {
			c->foreign++;
			i++;
			continue;
		}
		p = m <= src->max_mfn ? src->m2p(src->ctx, _mfn(m), &run) : ~0ULL;
		if (p == ~0ULL) {
			c->valid++;
			c->not_owned++;
			i++;
			continue;
		}
		/* A run of consecutive frames with consecutive pfns: one M2P look-up. */
		for (k = 1; k < run && i + k < n && e[i + k] == m + k; k++)
			;
		c->valid += k;
		if (p != pfn + i)
			c->m2p_other += k;
		i += (unsigned)k;
	}
}
