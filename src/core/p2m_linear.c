/*
 * The linear P2M list; the picture and the contract are in
 * include/pvboot/p2m_linear.h.  Cf. arch/x86/xen/p2m.c of Linux 3.19 and
 * later: xen_rebuild_p2m_list, get_phys_to_machine, __set_phys_to_machine,
 * alloc_p2m_pmd, xen_alloc_p2m_entry, set_phys_range_identity and
 * xen_build_mfn_list_list.
 *
 * Every change that needs pages takes all of them first (a chain of spare
 * pages, as p2m_revector does), then makes shared parts private, which
 * changes no answer, and only then changes entries.  So running out of
 * memory leaves every lookup as it was.
 *
 * Differences from Linux:
 *  - the identity page holds a sentinel and lookups compare the entry, not
 *    the PTE (see the header);
 *  - the tools' tree shows an identity GiB through its own shared mid page
 *    of mfn(identity) rather than p2m_mid_missing_mfn, so the tree reads
 *    exactly what the array holds;
 *  - storing into an identity page keeps the other 511 identity entries.
 */
#include <pvboot/p2m_linear.h>

#include "p2m_page.h"

enum kind { K_MISSING, K_IDENTITY, K_PRIVATE };

static void *ctx(const struct p2m_linear *l)
{
	return l->ops.mem.ctx;
}

/* Pages through l->ops.mem, counted in l->pages (p2m_page.h). */
static void *get_page(struct p2m_linear *l)
{
	return p2m_page_alloc(&l->ops.mem, &l->pages);
}

static void put_page(struct p2m_linear *l, void *pg)
{
	p2m_page_free(&l->ops.mem, &l->pages, pg);
}

static mfn_t vmfn(const struct p2m_linear *l, const void *page)
{
	return p2m_page_mfn(&l->ops.mem, page);
}

/* An operation's pages, all taken before it changes anything (p2m_chain_push). */
struct spares {
	void *chain;
};

static void release(struct p2m_linear *l, struct spares *s)
{
	while (s->chain)
		put_page(l, p2m_chain_pop(&s->chain));
}

static int reserve(struct p2m_linear *l, struct spares *s, uint64_t n, const char *what,
		   struct pv_error *err)
{
	s->chain = NULL;
	for (uint64_t i = 0; i < n; i++) {
		void *pg = get_page(l);

		if (!pg) {
			release(l, s);
			return p2m_nomem(err, what);
		}
		p2m_chain_push(&s->chain, pg);
	}
	return 0;
}

static void *take(struct spares *s)
{
	return p2m_chain_pop(&s->chain);
}

/* The PTE page linked at PMD @pmd. */
static uint64_t *pte_page(const struct p2m_linear *l, uint64_t pmd)
{
	return l->dir[pmd / 512][pmd % 512];
}

static bool pmd_shared(const struct p2m_linear *l, uint64_t pmd)
{
	uint64_t *t = pte_page(l, pmd);

	return t == l->missing_pte || t == l->identity_pte;
}

/* What the 4 KiB of array for @block (512 pfns) maps, read from its PTE. */
static enum kind page_kind(const struct p2m_linear *l, uint64_t block)
{
	mfn_t m = pte_mfn(pte_page(l, block / 512)[block % 512]);

	if (mfn_eq(m, l->missing_mfn))
		return K_MISSING;
	return mfn_eq(m, l->identity_mfn) ? K_IDENTITY : K_PRIVATE;
}

static uint64_t *entries(const struct p2m_linear *l, uint64_t block)
{
	if (l->array)
		return l->array + block * P2M_PER_PAGE;
	return l->ops.ptr(ctx(l), l->va + block * PAGE_SIZE);
}

/*
 * p2m_generation around each change of the mapping: odd while it changes.
 * The fences are Linux's wmb(): the increment is seen before the change,
 * the change before the second increment.
 */
static void gen_begin(struct p2m_linear *l)
{
	*l->generation = *l->generation + 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void gen_end(struct p2m_linear *l)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*l->generation = *l->generation + 1;
}

static int remap_pte(struct p2m_linear *l, uint64_t block, mfn_t frame, bool rw, struct pv_error *err)
{
	uint64_t pte = pte_make(frame, rw ? P2M_LINEAR_PTE_RW : P2M_LINEAR_PTE_RO);
	int rc;

	gen_begin(l);
	rc = l->ops.map_pte(ctx(l), l->va + block * PAGE_SIZE, pte, err);
	gen_end(l);
	return rc;
}

static int remap_pmd(struct p2m_linear *l, uint64_t pmd, uint64_t *table, struct pv_error *err)
{
	int rc;

	gen_begin(l);
	rc = l->ops.map_pmd(ctx(l), l->va + pmd * P2M_LINEAR_PMD_BYTES, vmfn(l, table), err);
	gen_end(l);
	if (rc == 0)
		l->dir[pmd / 512][pmd % 512] = table;
	return rc;
}

/* Point the tools' tree at a shared mid page for a GiB that is all one kind. */
static void tree_mid(struct p2m_linear *l, uint64_t pmd, uint64_t *mid)
{
	l->top_mfn_p[pmd] = mid;
	l->top_mfn[pmd] = mfn_x(vmfn(l, mid));
}

static bool mid_shared(const struct p2m_linear *l, uint64_t pmd)
{
	return l->top_mfn_p[pmd] == l->mid_missing_mfn || l->top_mfn_p[pmd] == l->mid_identity_mfn;
}

/* Pages a private PTE page costs: itself, and a mid page once the tools' tree exists. */
static uint64_t pmd_cost(const struct p2m_linear *l)
{
	return l->top_mfn ? 2 : 1;
}

/*
 * alloc_p2m_pmd(): a private copy of the shared PTE page at @pmd, with a
 * private mid page in the tools' tree.  Answers nothing differently.
 */
static int pmd_private(struct p2m_linear *l, uint64_t pmd, struct spares *s, struct pv_error *err)
{
	uint64_t *table = take(s), *mid = l->top_mfn ? take(s) : NULL;

	__builtin_memcpy(table, pte_page(l, pmd), PAGE_SIZE);
	if (remap_pmd(l, pmd, table, err)) {
		put_page(l, table);
		put_page(l, mid);
		return -1;
	}
	if (mid) {
		__builtin_memcpy(mid, l->top_mfn_p[pmd], PAGE_SIZE);
		tree_mid(l, pmd, mid);
	}
	return 0;
}

/*
 * xen_alloc_p2m_entry(): a private page for @block in place of the shared
 * one, filled with what that meant, mapped writable.  Answers nothing
 * differently.  Takes from @s what block_cost() counts.
 */
static int block_private(struct p2m_linear *l, uint64_t block, struct spares *s, struct pv_error *err)
{
	uint64_t pmd = block / 512, base = block * P2M_PER_PAGE, *page;
	enum kind k;

	if (pmd_shared(l, pmd) && pmd_private(l, pmd, s, err))
		return -1;
	k = page_kind(l, block);
	page = take(s);
	for (unsigned i = 0; i < P2M_PER_PAGE; i++)
		page[i] = k == K_IDENTITY && base + i < l->max_pfn ? IDENTITY_FRAME(base + i)
								   : INVALID_P2M_ENTRY;
	if (remap_pte(l, block, vmfn(l, page), true, err)) {
		put_page(l, page);
		return -1;
	}
	if (l->top_mfn)
		l->top_mfn_p[pmd][block % 512] = mfn_x(vmfn(l, page));
	return 0;
}

static uint64_t block_cost(const struct p2m_linear *l, uint64_t block)
{
	if (page_kind(l, block) == K_PRIVATE)
		return 0;
	return 1 + (pmd_shared(l, block / 512) ? pmd_cost(l) : 0);
}

/* An atomic store into the array: the only way the Xen ABI allows an entry to change. */
static int store(struct p2m_linear *l, uint64_t pfn, uint64_t entry, struct pv_error *err)
{
	uint64_t *page = entries(l, pfn / P2M_PER_PAGE);

	if (!page)
		return pv_fail(err, PV_ERR_RANGE, "p2m: the list at 0x%llx is not mapped",
			       (unsigned long long)(l->va + pfn * 8));
	__atomic_store_n(&page[pfn % P2M_PER_PAGE], entry, __ATOMIC_RELAXED);
	return 0;
}

int p2m_linear_init(struct p2m_linear *l, const struct p2m_linear_ops *ops, uint64_t va,
		    uint64_t max_pfn, volatile uint64_t *generation, struct pv_error *err)
{
	uint64_t nr_pmds = (max_pfn + P2M_LINEAR_PMD_PFNS - 1) / P2M_LINEAR_PMD_PFNS;
	uint64_t dir_pages = (nr_pmds + 511) / 512, end = va + nr_pmds * P2M_LINEAR_PMD_BYTES - 1;
	struct spares s;

	*l = (struct p2m_linear){.ops = *ops, .va = va, .max_pfn = max_pfn, .nr_pmds = nr_pmds};
	l->generation = generation ? generation : &l->own_generation;
	if (max_pfn == 0 || max_pfn > P2M_LINEAR_MAX_PFN)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: a linear list of %llu pfns is not possible (1 to %llu)",
			       (unsigned long long)max_pfn, (unsigned long long)P2M_LINEAR_MAX_PFN);
	if (va % P2M_LINEAR_PMD_BYTES || !va_canonical(va) || !va_canonical(end) || end < va)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: the linear list cannot be at 0x%llx-0x%llx (2 MiB aligned, canonical)",
			       (unsigned long long)va, (unsigned long long)end);
	if (reserve(l, &s, 5 + dir_pages, "the linear P2M list", err))
		return -1;
	l->missing = take(&s);
	l->identity = take(&s);
	l->missing_pte = take(&s);
	l->identity_pte = take(&s);
	l->dir = take(&s);
	l->missing_mfn = vmfn(l, l->missing);
	l->identity_mfn = vmfn(l, l->identity);
	p2m_page_fill(l->missing, INVALID_P2M_ENTRY);
	p2m_page_fill(l->identity, P2M_LINEAR_IDENTITY);
	p2m_page_fill(l->missing_pte, pte_make(l->missing_mfn, P2M_LINEAR_PTE_RO));
	p2m_page_fill(l->identity_pte, pte_make(l->identity_mfn, P2M_LINEAR_PTE_RO));
	p2m_page_fill_ptr((void **)l->dir, NULL);
	for (uint64_t i = 0; i < dir_pages; i++) {
		l->dir[i] = take(&s);
		p2m_page_fill_ptr((void **)l->dir[i], l->missing_pte);
	}
	if (ops->direct)
		l->array = (uint64_t *)(uintptr_t)va;
	/* Every PMD to p2m_missing_pte, as xen_rebuild_p2m_list starts. */
	for (uint64_t pmd = 0; pmd < nr_pmds; pmd++)
		if (remap_pmd(l, pmd, l->missing_pte, err))
			return -1;
	return 0;
}

void p2m_linear_destroy(struct p2m_linear *l)
{
	for (uint64_t pmd = 0; l->dir && pmd < l->nr_pmds; pmd++) {
		uint64_t *table = pte_page(l, pmd);

		if (pmd_shared(l, pmd))
			continue;
		for (uint64_t b = pmd * 512; b < pmd * 512 + 512; b++)
			if (page_kind(l, b) == K_PRIVATE)
				l->ops.mem.free_page(ctx(l), entries(l, b));
		put_page(l, table);
	}
	for (unsigned t = 0; l->top_mfn && t < P2M_TOP_PER_PAGE; t++)
		if (!mid_shared(l, t))
			put_page(l, l->top_mfn_p[t]);
	put_page(l, l->top_mfn);
	put_page(l, l->top_mfn_p);
	put_page(l, l->mid_missing_mfn);
	put_page(l, l->mid_identity_mfn);
	for (unsigned i = 0; l->dir && i < 512; i++)
		put_page(l, l->dir[i]);
	put_page(l, l->dir);
	put_page(l, l->missing_pte);
	put_page(l, l->identity_pte);
	put_page(l, l->missing);
	put_page(l, l->identity);
	l->dir = NULL;
	l->top_mfn = l->mid_missing_mfn = l->mid_identity_mfn = NULL;
	l->top_mfn_p = NULL;
	l->missing = l->identity = l->missing_pte = l->identity_pte = NULL;
	/* Adopted builder pages and private pages were never counted apart. */
	l->pages = 0;
}

uint64_t p2m_linear_load(const struct p2m_linear *l, uint64_t pfn)
{
	const uint64_t *page = entries(l, pfn / P2M_PER_PAGE);

	return page ? __atomic_load_n(&page[pfn % P2M_PER_PAGE], __ATOMIC_RELAXED)
		    : INVALID_P2M_ENTRY;
}

mfn_t p2m_linear_pfn_to_mfn(const struct p2m_linear *l, pfn_t pfn)
{
	uint64_t e = p2m_linear_get(l, pfn);

	if (e == INVALID_P2M_ENTRY)
		return INVALID_MFN;
	return _mfn(e & ~(FOREIGN_FRAME_BIT | IDENTITY_FRAME_BIT));
}

const uint64_t *p2m_linear_leaf(const struct p2m_linear *l, pfn_t pfn)
{
	uint64_t block = pfn_x(pfn) / P2M_PER_PAGE;

	if (pfn_x(pfn) >= l->max_pfn || page_kind(l, block) == K_IDENTITY)
		return NULL;
	return entries(l, block);
}

int p2m_linear_set(struct p2m_linear *l, pfn_t pfn, uint64_t entry, struct pv_error *err)
{
	uint64_t n = pfn_x(pfn), block = n / P2M_PER_PAGE;
	struct spares s;
	enum kind k;

	if (n >= l->max_pfn) {
		if (entry == INVALID_P2M_ENTRY)
			return 0;
		return pv_fail(err, PV_ERR_RANGE, "p2m: pfn 0x%llx is past the list's %llu entries",
			       (unsigned long long)n, (unsigned long long)l->max_pfn);
	}
	if (entry == P2M_LINEAR_IDENTITY)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: 0x%llx is the identity page's sentinel, not an entry",
			       (unsigned long long)entry);
	k = page_kind(l, block);
	if ((k == K_MISSING && entry == INVALID_P2M_ENTRY) ||
	    (k == K_IDENTITY && entry == IDENTITY_FRAME(n)))
		return 0;
	if (k != K_PRIVATE) {
		if (reserve(l, &s, block_cost(l, block), "a P2M page", err))
			return -1;
		if (block_private(l, block, &s, err)) {
			release(l, &s);
			return -1;
		}
	}
	return store(l, n, entry, err);
}

/*
 * The blocks (@unit 512) or PMDs (@unit 262144) at the two ends of [pfn, end)
 * that the range covers only in part: at most two.  (An aligned start with
 * an end in the same unit is that unit's partial end.)
 */
static unsigned partial_ends(uint64_t pfn, uint64_t end, uint64_t unit, uint64_t out[2])
{
	unsigned n = 0;

	if (pfn % unit)
		out[n++] = pfn / unit;
	if (end % unit && (!n || (end - 1) / unit != out[0]))
		out[n++] = (end - 1) / unit;
	return n;
}

int64_t p2m_linear_set_identity(struct p2m_linear *l, pfn_t s, pfn_t e, struct pv_error *err)
{
	uint64_t pfn = pfn_x(s), end = pfn_x(e) < l->max_pfn ? pfn_x(e) : l->max_pfn;
	uint64_t pmds[2], blocks[2], need = 0;
	unsigned nr_pmds, nr_blocks;
	struct spares sp;

	if (pfn >= end)
		return 0;
	/*
	 * Only the partial PMDs and blocks at the two ends can need pages: a
	 * missing one becomes private first (changing no answer), so that a
	 * failure leaves the list as it was and nothing below allocates.
	 */
	nr_pmds = partial_ends(pfn, end, P2M_LINEAR_PMD_PFNS, pmds);
	nr_blocks = partial_ends(pfn, end, P2M_PER_PAGE, blocks);
	for (unsigned i = 0; i < nr_pmds; i++)
		need += pte_page(l, pmds[i]) == l->missing_pte ? pmd_cost(l) : 0;
	for (unsigned i = 0; i < nr_blocks; i++)
		need += page_kind(l, blocks[i]) == K_MISSING;
	if (reserve(l, &sp, need, "a P2M page", err))
		return -1;
	for (unsigned i = 0; i < nr_pmds; i++) {
		if (pte_page(l, pmds[i]) == l->missing_pte && pmd_private(l, pmds[i], &sp, err))
			goto fail;
	}
	for (unsigned i = 0; i < nr_blocks; i++) {
		if (page_kind(l, blocks[i]) == K_MISSING && block_private(l, blocks[i], &sp, err))
			goto fail;
	}

	while (pfn < end) {
		uint64_t pmd = pfn / P2M_LINEAR_PMD_PFNS, block = pfn / P2M_PER_PAGE;
		uint64_t block_end = (block + 1) * P2M_PER_PAGE;
		enum kind k;

		if (pfn % P2M_LINEAR_PMD_PFNS == 0 && end - pfn >= P2M_LINEAR_PMD_PFNS &&
		    pmd_shared(l, pmd)) {
			/* A whole GiB still shared: p2m_identity_pte. */
			if (pte_page(l, pmd) == l->missing_pte) {
				if (remap_pmd(l, pmd, l->identity_pte, err))
					return -1;
				if (l->top_mfn)
					tree_mid(l, pmd, l->mid_identity_mfn);
			}
			pfn += P2M_LINEAR_PMD_PFNS;
			continue;
		}
		k = page_kind(l, block);
		if (k == K_MISSING) {
			/* A whole block (the partial ones are private by now): p2m_identity. */
			if (remap_pte(l, block, l->identity_mfn, false, err))
				return -1;
			if (l->top_mfn)
				l->top_mfn_p[pmd][block % 512] = mfn_x(l->identity_mfn);
		}
		for (; k == K_PRIVATE && pfn < end && pfn < block_end; pfn++)
			if (store(l, pfn, IDENTITY_FRAME(pfn), err))
				return -1;
		pfn = block_end < end ? block_end : end;
	}
	return (int64_t)(end - pfn_x(s));

fail:
	release(l, &sp);
	return -1;
}

/* What a page of the builder's list can be replaced by, if anything. */
static enum kind list_kind(const uint64_t *page, uint64_t base, uint64_t nr_entries)
{
	bool missing = true, identity = base + P2M_PER_PAGE <= nr_entries;

	if (page[0] != INVALID_P2M_ENTRY && page[0] != IDENTITY_FRAME(base))
		return K_PRIVATE; /* the common case, at the first entry */
	for (unsigned i = 0; i < P2M_PER_PAGE && (missing || identity); i++) {
		missing = missing && page[i] == INVALID_P2M_ENTRY;
		identity = identity && page[i] == IDENTITY_FRAME(base + i);
	}
	return missing ? K_MISSING : identity ? K_IDENTITY : K_PRIVATE;
}

/* The kind of @pmd's 512 blocks taken together, with blocks past the list missing. */
static enum kind list_pmd_kind(const uint64_t *list, uint64_t pmd, uint64_t nr_entries)
{
	uint64_t nr_blocks = (nr_entries + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	bool missing = true, identity = true;

	for (uint64_t b = pmd * 512; b < pmd * 512 + 512 && (missing || identity); b++) {
		enum kind k = b < nr_blocks ? list_kind(list + b * P2M_PER_PAGE, b * P2M_PER_PAGE,
							nr_entries)
					    : K_MISSING;

		missing = missing && k == K_MISSING;
		identity = identity && k == K_IDENTITY;
	}
	return missing ? K_MISSING : identity ? K_IDENTITY : K_PRIVATE;
}

int p2m_linear_adopt(struct p2m_linear *l, uint64_t *list, uint64_t nr_entries,
		     struct p2m_linear_adopt_stats *stats, struct pv_error *err)
{
	uint64_t nr_blocks = (nr_entries + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	uint64_t nr_pmds = (nr_blocks + 511) / 512;
	struct spares s;

	*stats = (struct p2m_linear_adopt_stats){0};
	if ((uintptr_t)list % PAGE_SIZE || nr_entries > l->max_pfn)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: cannot adopt %llu entries at %p into a list of %llu (page aligned)",
			       (unsigned long long)nr_entries, (void *)list,
			       (unsigned long long)l->max_pfn);
	for (uint64_t pmd = 0; pmd < l->nr_pmds; pmd++)
		if (pte_page(l, pmd) != l->missing_pte || l->top_mfn)
			return pv_fail(err, PV_ERR_USAGE,
				       "p2m: the builder's list goes into an empty list, before the tools' tree");

	/* The tail of the last page, past nr_entries (xen_build_dynamic_phys_to_machine). */
	for (uint64_t pfn = nr_entries; pfn % P2M_PER_PAGE; pfn++)
		list[pfn] = INVALID_P2M_ENTRY;
	/*
	 * A PTE page for every PMD that may need one, the rest given back at
	 * the end: counting them first would read the whole list twice.
	 */
	if (reserve(l, &s, nr_pmds, "the linear P2M's PTE pages", err))
		return -1;

	for (uint64_t pmd = 0; pmd < nr_pmds; pmd++) {
		enum kind pk = list_pmd_kind(list, pmd, nr_entries);
		uint64_t *table;

		if (pk == K_MISSING)
			continue;
		if (pk == K_IDENTITY) {
			if (remap_pmd(l, pmd, l->identity_pte, err))
				goto refused;
			continue;
		}
		table = take(&s);
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t b = pmd * 512 + i, *page = list + b * P2M_PER_PAGE;
			enum kind k = b < nr_blocks ? list_kind(page, b * P2M_PER_PAGE, nr_entries)
						    : K_MISSING;

			if (k == K_PRIVATE)
				table[i] = pte_make(vmfn(l, page), P2M_LINEAR_PTE_RW);
			else
				table[i] = k == K_MISSING ? l->missing_pte[0] : l->identity_pte[0];
		}
		if (remap_pmd(l, pmd, table, err)) {
			put_page(l, table);
			goto refused;
		}
		stats->pte_pages++;
	}

	release(l, &s);
	/*
	 * Everything is mapped: the builder's pages that became holes go back.
	 * The PTEs say which (a shared page's mfn there), not the list again.
	 */
	for (uint64_t b = 0; b < nr_blocks; b++) {
		if (page_kind(l, b) == K_PRIVATE) {
			stats->pages_mapped++;
			continue;
		}
		l->ops.mem.free_page(ctx(l), list + b * P2M_PER_PAGE);
		stats->pages_freed++;
	}
	return 0;

refused:
	release(l, &s);
	return -1;
}

int p2m_linear_build_mfn_tree(struct p2m_linear *l, mfn_t *frame_list_list, struct pv_error *err)
{
	bool first = !l->top_mfn;
	uint64_t need = first ? 4 : 0;
	struct spares s;

	*frame_list_list = INVALID_MFN;
	if (l->max_pfn > P2M_MAX_PFN)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: max_pfn %#llx too large for p2m tree (%llu pfns, 512 GiB): frame_list_list is ~0, old tools cannot map this guest",
			       (unsigned long long)l->max_pfn, (unsigned long long)P2M_MAX_PFN);
	for (uint64_t pmd = 0; pmd < l->nr_pmds; pmd++)
		need += !pmd_shared(l, pmd) && (first || mid_shared(l, pmd));
	if (reserve(l, &s, need, "the tools' P2M tree", err))
		return -1;
	if (first) {
		l->top_mfn = take(&s);
		l->top_mfn_p = take(&s);
		l->mid_missing_mfn = take(&s);
		l->mid_identity_mfn = take(&s);
		p2m_page_fill_ptr((void **)l->top_mfn_p, l->mid_missing_mfn);
	}
	/* On a second call (resume) every frame may have changed. */
	l->missing_mfn = vmfn(l, l->missing);
	l->identity_mfn = vmfn(l, l->identity);
	p2m_page_fill(l->mid_missing_mfn, mfn_x(l->missing_mfn));
	p2m_page_fill(l->mid_identity_mfn, mfn_x(l->identity_mfn));
	for (uint64_t t = 0; t < P2M_TOP_PER_PAGE; t++) {
		uint64_t *mid;

		if (t >= l->nr_pmds || pte_page(l, t) == l->missing_pte) {
			mid = l->mid_missing_mfn;
		} else if (pte_page(l, t) == l->identity_pte) {
			mid = l->mid_identity_mfn;
		} else {
			mid = mid_shared(l, t) ? take(&s) : l->top_mfn_p[t];
			for (uint64_t m = 0; m < 512; m++)
				mid[m] = mfn_x(pte_mfn(pte_page(l, t)[m]));
		}
		tree_mid(l, t, mid);
	}
	*frame_list_list = vmfn(l, l->top_mfn);
	return 0;
}
