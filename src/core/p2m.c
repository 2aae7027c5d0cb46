/*
 * The 3-level P2M tree; the picture and the contract are in
 * include/pvboot/p2m.h.  Cf. arch/x86/xen/p2m.c of Linux 3.7:
 * xen_build_dynamic_phys_to_machine, get_phys_to_machine,
 * __set_phys_to_machine, alloc_p2m, set_phys_range_identity,
 * xen_build_mfn_list_list and xen_revector_p2m_tree.
 *
 * Two deliberate differences from 3.7, both where Linux writes into a shared
 * placeholder page and relies on its callers never to ask:
 *  - storing an identity entry under p2m_mid_missing allocates a mid page
 *    instead of writing into the shared p2m_mid_missing;
 *  - storing a real MFN under p2m_identity gives that pfn a private leaf
 *    holding the 511 other identity entries (alloc_p2m fills it with
 *    INVALID, losing them; see docs/p2m.md section 3.5).
 */
#include <pvboot/p2m.h>

#include "p2m_page.h"

#define PFNS_PER_MID (P2M_PER_PAGE * P2M_MID_PER_PAGE)

static unsigned top_index(uint64_t pfn)
{
	return pfn / PFNS_PER_MID;
}

static unsigned mid_index(uint64_t pfn)
{
	return (pfn / P2M_PER_PAGE) % P2M_MID_PER_PAGE;
}

static unsigned leaf_index(uint64_t pfn)
{
	return pfn % P2M_PER_PAGE;
}

/* INVALID_P2M_ENTRY in every entry: all ones, so the platform's memset does it. */
static void poison(uint64_t *page)
{
	_Static_assert(INVALID_P2M_ENTRY == ~0ULL, "the poison is a byte fill");
	__builtin_memset(page, 0xff, PAGE_SIZE);
}

/*
 * Copy a leaf to its new page and poison the old one, a cache line at a
 * time.  This moves three pages' worth of memory where memcpy moves two, so
 * two things keep it near memory speed:
 *  - the copy is written with non-temporal stores: the new page is not read
 *    into the cache only to be overwritten.  The host build streams 16
 *    bytes at a time (movntdq); the kernel, built without SSE, 8 (movnti);
 *  - the old list is prefetched 2 KiB ahead, into the next old page too,
 *    since the leaves sit in it in order (a prefetch never faults).
 * The poison stays an ordinary store: its line was just read, and writing
 * it back whole is cheaper than a streaming store to a cached line.
 * Callers end a series of moves with move_done().  Under AddressSanitizer
 * the copy is a memcpy, so its bounds are checked.
 */
#define MOVE_AHEAD 256 /* entries: 2 KiB */

/* AddressSanitizer, as GCC (__SANITIZE_ADDRESS__) or clang (__has_feature) says it. */
#if defined(__SANITIZE_ADDRESS__)
#define MOVE_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOVE_CHECKED 1
#endif
#endif

#if defined(MOVE_CHECKED)
static void move_line(uint64_t *to, const uint64_t *from)
{
	__builtin_memcpy(to, from, 64);
}
#elif defined(__SSE2__)
typedef long long v2di __attribute__((vector_size(16), __may_alias__)); /* reads uint64_t */

/* movntdq as inline assembly: GCC and clang (the fuzz build) name its builtin differently. */
static void move_line(uint64_t *to, const uint64_t *from)
{
	const v2di *f = (const v2di *)from;
	v2di *t = (v2di *)to, a = f[0], b = f[1], c = f[2], d = f[3];

	__asm__ volatile("movntdq %1, %0" : "=m"(t[0]) : "x"(a));
	__asm__ volatile("movntdq %1, %0" : "=m"(t[1]) : "x"(b));
	__asm__ volatile("movntdq %1, %0" : "=m"(t[2]) : "x"(c));
	__asm__ volatile("movntdq %1, %0" : "=m"(t[3]) : "x"(d));
}
#else
static void move_line(uint64_t *to, const uint64_t *from)
{
	for (unsigned k = 0; k < 8; k++)
		__asm__ volatile("movnti %1, %0" : "=m"(to[k]) : "r"(from[k]));
}
#endif

static void move_page(uint64_t *to, uint64_t *from)
{
	for (unsigned i = 0; i < P2M_PER_PAGE; i += 8) {
		__builtin_prefetch(from + i + MOVE_AHEAD, 0, 3);
		move_line(to + i, from + i);
		for (unsigned k = 0; k < 8; k++)
			from[i + k] = INVALID_P2M_ENTRY;
	}
}

/* Streaming stores are weakly ordered: fence them before the copies are published. */
static void move_done(void)
{
	__asm__ volatile("sfence" ::: "memory");
}

/* Pages through p->ops, counted in p->pages (p2m_page.h). */
static void *get_page(struct p2m *p)
{
	return p2m_page_alloc(&p->ops, &p->pages);
}

static void put_page(struct p2m *p, void *pg)
{
	p2m_page_free(&p->ops, &p->pages, pg);
}

static uint64_t vmfn(const struct p2m *p, const void *page)
{
	return mfn_x(p2m_page_mfn(&p->ops, page));
}

static bool in_range(const void *ptr, const uint64_t *base, uint64_t bytes)
{
	const char *c = ptr, *b = (const char *)base;

	return base && c >= b && (uint64_t)(c - b) < bytes;
}

/* Leaves the tree allocated itself: not placeholders, not the builder's list. */
static bool own_leaf(const struct p2m *p, const uint64_t *leaf)
{
	return leaf != p->missing && leaf != p->identity && !in_range(leaf, p->list, p->list_bytes);
}

/* Top slots that can hold entries below max_pfn. */
static unsigned top_slots(const struct p2m *p)
{
	return (unsigned)((p->max_pfn + PFNS_PER_MID - 1) / PFNS_PER_MID);
}

int p2m_init(struct p2m *p, const struct p2m_ops *ops, uint64_t max_pfn, struct pv_error *err)
{
	*p = (struct p2m){.ops = *ops, .max_pfn = max_pfn};
	if (max_pfn == 0 || max_pfn > P2M_MAX_PFN)
		return pv_fail(err, PV_ERR_RANGE,
			       "p2m: %llu pfns do not fit a 3-level tree (1 to %llu, 512 GiB)",
			       (unsigned long long)max_pfn, (unsigned long long)P2M_MAX_PFN);
	p->missing = get_page(p);
	p->mid_missing = get_page(p);
	p->top = get_page(p);
	p->identity = get_page(p);
	if (!p->missing || !p->mid_missing || !p->top || !p->identity) {
		put_page(p, p->missing);
		put_page(p, p->mid_missing);
		put_page(p, p->top);
		put_page(p, p->identity);
		*p = (struct p2m){.ops = *ops, .max_pfn = max_pfn};
		return p2m_nomem(err, "the top and shared pages");
	}
	p2m_page_fill(p->missing, INVALID_P2M_ENTRY);
	p2m_page_fill_ptr((void **)p->mid_missing, p->missing);
	p2m_page_fill_ptr((void **)p->top, p->mid_missing);
	p2m_page_fill(p->identity, INVALID_P2M_ENTRY);
	return 0;
}

void p2m_destroy(struct p2m *p)
{
	for (unsigned t = 0; p->top && t < P2M_TOP_PER_PAGE; t++) {
		uint64_t **mid = p->top[t];

		if (mid == p->mid_missing)
			continue;
		for (unsigned m = 0; m < P2M_MID_PER_PAGE; m++)
			if (own_leaf(p, mid[m]))
				put_page(p, mid[m]);
		put_page(p, mid);
	}
	for (unsigned t = 0; p->top_mfn_p && t < P2M_TOP_PER_PAGE; t++)
		if (p->top_mfn_p[t] != p->mid_missing_mfn)
			put_page(p, p->top_mfn_p[t]);
	put_page(p, p->top_mfn_p);
	put_page(p, p->top_mfn);
	put_page(p, p->mid_missing_mfn);
	put_page(p, p->top);
	put_page(p, p->identity);
	put_page(p, p->mid_missing);
	put_page(p, p->missing);
	p->top = NULL;
	p->top_mfn = NULL;
	p->top_mfn_p = NULL;
	p->mid_missing_mfn = NULL;
	p->identity = p->missing = NULL;
	p->mid_missing = NULL;
}

int p2m_graft(struct p2m *p, uint64_t *mfn_list, struct pv_error *err)
{
	unsigned slots = top_slots(p);
	uint64_t fresh[P2M_TOP_PER_PAGE / 64] = {0}; /* top slots given a mid here */

	if ((uintptr_t)mfn_list % PAGE_SIZE)
		return pv_fail(err, PV_ERR_RANGE, "p2m: the builder's list %p is not page aligned",
			       (void *)mfn_list);

	/* Every mid page first, so that a failure changes nothing. */
	for (unsigned t = 0; t < slots; t++) {
		uint64_t **mid;

		if (p->top[t] != p->mid_missing)
			continue;
		mid = get_page(p);
		if (!mid) {
			for (unsigned u = 0; u < t; u++) {
				if (fresh[u / 64] & (1ULL << (u % 64))) {
					put_page(p, p->top[u]);
					p->top[u] = p->mid_missing;
				}
			}
			return p2m_nomem(err, "mid pages");
		}
		p2m_page_fill_ptr((void **)mid, p->missing);
		p->top[t] = mid;
		fresh[t / 64] |= 1ULL << (t % 64);
	}

	/* The tail of the last leaf: beyond max_pfn, inside the list's last page. */
	for (uint64_t pfn = p->max_pfn; pfn % P2M_PER_PAGE; pfn++)
		mfn_list[pfn] = INVALID_P2M_ENTRY;
	for (uint64_t pfn = 0; pfn < p->max_pfn; pfn += P2M_PER_PAGE)
		p->top[top_index(pfn)][mid_index(pfn)] = &mfn_list[pfn];
	p->list = mfn_list;
	p->list_bytes = (p->max_pfn + P2M_PER_PAGE - 1) / P2M_PER_PAGE * PAGE_SIZE;
	return 0;
}

uint64_t p2m_get(const struct p2m *p, pfn_t pfn)
{
	uint64_t n = pfn_x(pfn);
	const uint64_t *leaf;

	if (n >= P2M_MAX_PFN)
		return INVALID_P2M_ENTRY;
	leaf = p->top[top_index(n)][mid_index(n)];
	/* The pointer test first: the identity page itself holds INVALID. */
	if (leaf == p->identity)
		return IDENTITY_FRAME(n);
	return leaf[leaf_index(n)];
}

const uint64_t *p2m_leaf(const struct p2m *p, pfn_t pfn)
{
	uint64_t n = pfn_x(pfn);
	const uint64_t *leaf;

	if (n >= P2M_MAX_PFN)
		return NULL;
	leaf = p->top[top_index(n)][mid_index(n)];
	return leaf == p->identity ? NULL : leaf;
}

mfn_t p2m_pfn_to_mfn(const struct p2m *p, pfn_t pfn)
{
	uint64_t e = p2m_get(p, pfn);

	if (e == INVALID_P2M_ENTRY)
		return INVALID_MFN;
	return _mfn(e & ~(FOREIGN_FRAME_BIT | IDENTITY_FRAME_BIT));
}

bool p2m_set_noalloc(struct p2m *p, pfn_t pfn, uint64_t entry)
{
	uint64_t n = pfn_x(pfn);
	uint64_t *leaf;

	if (n >= P2M_MAX_PFN)
		return entry == INVALID_P2M_ENTRY;
	leaf = p->top[top_index(n)][mid_index(n)];

	if (leaf == p->identity) {
		/* Already 1:1; anything else needs a private leaf. */
		return entry == IDENTITY_FRAME(n);
	}
	if (leaf == p->missing)
		return entry == INVALID_P2M_ENTRY;
	leaf[leaf_index(n)] = entry;
	return true;
}

/*
 * Give top slot @t a private mid page, and a mid_mfn page once the tools'
 * tree exists (the invariant of xen_build_mfn_list_list: every populated
 * mid has its own mid_mfn page).  Both pages are taken before either is
 * installed; a mid page full of p2m_missing answers like p2m_mid_missing.
 */
static int ensure_mid(struct p2m *p, unsigned t, struct pv_error *err)
{
	bool need_mid = p->top[t] == p->mid_missing;
	bool need_mid_mfn = p->top_mfn_p && p->top_mfn_p[t] == p->mid_missing_mfn;
	uint64_t **mid = need_mid ? get_page(p) : NULL;
	uint64_t *mid_mfn = need_mid_mfn ? get_page(p) : NULL;

	if ((need_mid && !mid) || (need_mid_mfn && !mid_mfn)) {
		put_page(p, mid);
		put_page(p, mid_mfn);
		return p2m_nomem(err, "a P2M mid page");
	}
	if (mid) {
		p2m_page_fill_ptr((void **)mid, p->missing);
		p->top[t] = mid;
	}
	if (mid_mfn) {
		p2m_page_fill(mid_mfn, vmfn(p, p->missing));
		for (unsigned m = 0; m < P2M_MID_PER_PAGE; m++)
			mid_mfn[m] = vmfn(p, p->top[t][m]);
		p->top_mfn_p[t] = mid_mfn;
		p->top_mfn[t] = vmfn(p, mid_mfn);
	}
	return 0;
}

/*
 * alloc_p2m(): a private leaf for @pfn in place of p2m_missing or
 * p2m_identity, keeping what the placeholder said for the other 511 pfns.
 */
static int alloc_p2m(struct p2m *p, uint64_t n, struct pv_error *err)
{
	unsigned t = top_index(n), m = mid_index(n);
	uint64_t *old, *leaf, base = n - leaf_index(n);

	if (ensure_mid(p, t, err))
		return -1;
	old = p->top[t][m];
	if (old != p->missing && old != p->identity)
		return 0;
	leaf = get_page(p);
	if (!leaf)
		return p2m_nomem(err, "a P2M leaf");
	for (unsigned i = 0; i < P2M_PER_PAGE; i++)
		leaf[i] = old == p->identity ? IDENTITY_FRAME(base + i) : INVALID_P2M_ENTRY;
	p->top[t][m] = leaf;
	if (p->top_mfn_p)
		p->top_mfn_p[t][m] = vmfn(p, leaf);
	return 0;
}

int p2m_set(struct p2m *p, pfn_t pfn, uint64_t entry, struct pv_error *err)
{
	if (p2m_set_noalloc(p, pfn, entry))
		return 0;
	if (alloc_p2m(p, pfn_x(pfn), err))
		return -1;
	if (!p2m_set_noalloc(p, pfn, entry))
		return pv_fail(err, PV_ERR_RANGE, "p2m: cannot store pfn 0x%llx",
			       (unsigned long long)pfn_x(pfn));
	return 0;
}

int64_t p2m_set_identity(struct p2m *p, pfn_t s, pfn_t e, struct pv_error *err)
{
	uint64_t pfn = pfn_x(s), end = pfn_x(e);
	int64_t done = 0;

	if (end > P2M_MAX_PFN)
		end = P2M_MAX_PFN;
	while (pfn < end) {
		unsigned t = top_index(pfn), m = mid_index(pfn);
		bool whole = leaf_index(pfn) == 0 && end - pfn >= P2M_PER_PAGE;

		if (whole && p->top[t] != p->mid_missing &&
		    (p->top[t][m] == p->missing || p->top[t][m] == p->identity)) {
			p->top[t][m] = p->identity;
			pfn += P2M_PER_PAGE;
			done += P2M_PER_PAGE;
			continue;
		}
		if (whole && p->top[t] == p->mid_missing) {
			/* A mid page first; the next pass swaps the leaf pointer. */
			if (ensure_mid(p, t, err))
				return -1;
			continue;
		}
		if (p2m_set(p, _pfn(pfn), IDENTITY_FRAME(pfn), err))
			return -1;
		pfn++;
		done++;
	}
	return done;
}

int p2m_build_mfn_tree(struct p2m *p, mfn_t *frame_list_list, struct pv_error *err)
{
	unsigned need = 0;
	void *chain = NULL;

	if (!p->top_mfn) {
		uint64_t *mmm = get_page(p), **tmp = get_page(p), *tm = get_page(p);

		if (!mmm || !tmp || !tm) {
			put_page(p, mmm);
			put_page(p, tmp);
			put_page(p, tm);
			return p2m_nomem(err, "the tools' P2M tree");
		}
		p->mid_missing_mfn = mmm;
		p->top_mfn_p = tmp;
		p->top_mfn = tm;
		p2m_page_fill_ptr((void **)p->top_mfn_p, p->mid_missing_mfn);
		p2m_page_fill(p->top_mfn, vmfn(p, p->mid_missing_mfn));
	}
	/* On a second call (resume) every MFN may have changed. */
	p2m_page_fill(p->mid_missing_mfn, vmfn(p, p->missing));

	/* mid_mfn pages for every populated mid, all taken before any is used. */
	for (unsigned t = 0; t < P2M_TOP_PER_PAGE; t++)
		need += p->top[t] != p->mid_missing && p->top_mfn_p[t] == p->mid_missing_mfn;
	for (unsigned i = 0; i < need; i++) {
		void *pg = get_page(p);

		if (!pg) {
			while (chain)
				put_page(p, p2m_chain_pop(&chain));
			return p2m_nomem(err, "a mid_mfn page");
		}
		p2m_chain_push(&chain, pg);
	}
	for (unsigned t = 0; t < P2M_TOP_PER_PAGE; t++)
		if (p->top[t] != p->mid_missing && p->top_mfn_p[t] == p->mid_missing_mfn)
			p->top_mfn_p[t] = p2m_chain_pop(&chain);
	for (unsigned t = 0; t < P2M_TOP_PER_PAGE; t++) {
		if (p->top[t] == p->mid_missing) {
			p->top_mfn[t] = vmfn(p, p->mid_missing_mfn);
			continue;
		}
		p->top_mfn[t] = vmfn(p, p->top_mfn_p[t]);
		for (unsigned m = 0; m < P2M_MID_PER_PAGE; m++)
			p->top_mfn_p[t][m] = vmfn(p, p->top[t][m]);
	}
	*frame_list_list = _mfn(vmfn(p, p->top_mfn));
	return 0;
}

uint64_t p2m_leaves_in(const struct p2m *p, const uint64_t *old, uint64_t old_bytes)
{
	uint64_t n = 0;

	for (unsigned t = 0; t < P2M_TOP_PER_PAGE; t++) {
		if (p->top[t] == p->mid_missing)
			continue;
		for (unsigned m = 0; m < P2M_MID_PER_PAGE; m++)
			n += in_range(p->top[t][m], old, old_bytes);
	}
	return n;
}

/* Give back the spare pages of a revector: its index, pointer pages and copies. */
static void put_spares(struct p2m *p, void ***index, uint64_t arrays, uint64_t copies)
{
	for (uint64_t i = 0; i < copies; i++)
		put_page(p, index[i / P2M_PER_PAGE][i % P2M_PER_PAGE]);
	for (uint64_t i = 0; i < arrays; i++)
		put_page(p, index[i]);
	put_page(p, index);
}

int p2m_revector(struct p2m *p, uint64_t *old, uint64_t old_bytes, struct p2m_revector_stats *stats,
		 struct pv_error *err)
{
	uint64_t n = p2m_leaves_in(p, old, old_bytes);
	uint64_t old_pages = (old_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t bitmap_pages = (old_pages + PAGE_SIZE * 8 - 1) / (PAGE_SIZE * 8);
	uint64_t arrays = (n + P2M_PER_PAGE - 1) / P2M_PER_PAGE, k = 0;
	void ***index;
	uint64_t *bitmap[8]; /* 8 bitmap pages cover a 1 GiB list: the largest */

	*stats = (struct p2m_revector_stats){0};
	if (old_bytes > P2M_MAX_PFN * 8)
		return pv_fail(err, PV_ERR_RANGE, "p2m: an old list of %llu bytes is bigger than any",
			       (unsigned long long)old_bytes);
	if ((uintptr_t)old % PAGE_SIZE)
		return pv_fail(err, PV_ERR_RANGE, "p2m: the old list %p is not page aligned",
			       (void *)old);

	/*
	 * Phase 1: every page we will need, or none.  The copies' addresses go
	 * into pointer pages, so the copies themselves stay untouched until
	 * they are written (a simulator then needs no memory for them yet).
	 */
	for (uint64_t i = 0; i < bitmap_pages; i++) {
		bitmap[i] = get_page(p);
		if (!bitmap[i]) {
			while (i--)
				put_page(p, bitmap[i]);
			return p2m_nomem(err, "the revectored P2M");
		}
		p2m_page_fill(bitmap[i], 0);
	}
	/* n <= 512 * 512 leaves: one index page of at most 512 pointer pages. */
	index = get_page(p);
	for (uint64_t i = 0; index && i < arrays; i++) {
		index[i] = get_page(p);
		if (!index[i]) {
			put_spares(p, index, i, 0);
			index = NULL;
		}
	}
	for (uint64_t i = 0; index && i < n; i++) {
		void *pg = get_page(p);

		if (!pg) {
			put_spares(p, index, arrays, i);
			index = NULL;
			break;
		}
		index[i / P2M_PER_PAGE][i % P2M_PER_PAGE] = pg;
	}
	if (!index) {
		for (uint64_t b = 0; b < bitmap_pages; b++)
			put_page(p, bitmap[b]);
		return p2m_nomem(err, "the revectored P2M");
	}

	/* Phase 2: copy each leaf, repoint both trees, poison and free its old page. */
	for (unsigned t = 0; t < P2M_TOP_PER_PAGE; t++) {
		if (p->top[t] == p->mid_missing)
			continue;
		for (unsigned m = 0; m < P2M_MID_PER_PAGE; m++) {
			uint64_t *leaf = p->top[t][m], *copy, j;

			if (!in_range(leaf, old, old_bytes))
				continue;
			copy = index[k / P2M_PER_PAGE][k % P2M_PER_PAGE];
			index[k / P2M_PER_PAGE][k % P2M_PER_PAGE] = NULL;
			k++;
			move_page(copy, leaf); /* the copy, and the old leaf all ones */
			p->top[t][m] = copy;
			if (p->top_mfn_p)
				p->top_mfn_p[t][m] = vmfn(p, copy);
			j = (uint64_t)(leaf - old) / P2M_PER_PAGE;
			bitmap[j / (PAGE_SIZE * 8)][j % (PAGE_SIZE * 8) / 64] |= 1ULL << (j % 64);
			p->ops.free_page(p->ops.ctx, leaf);
			stats->leaves_copied++;
			stats->old_pages_freed++;
		}
	}
	move_done();
	/* Phase 3: the rest of the old list, poisoned too, then given back. */
	for (uint64_t j = 0; j < old_pages; j++) {
		uint64_t *page = old + j * P2M_PER_PAGE;

		if (bitmap[j / (PAGE_SIZE * 8)][j % (PAGE_SIZE * 8) / 64] & (1ULL << (j % 64)))
			continue;
		poison(page);
		p->ops.free_page(p->ops.ctx, page);
		stats->old_pages_freed++;
	}
	for (uint64_t b = 0; b < bitmap_pages; b++)
		put_page(p, bitmap[b]);
	put_spares(p, index, arrays, 0);
	if (in_range(p->list, old, old_bytes))
		p->list = NULL, p->list_bytes = 0;
	return 0;
}
