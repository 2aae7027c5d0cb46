/*
 * The boot path's page allocator.
 *
 * Pages come from three places, in this order:
 *  - spare pages: freed ones, and the builder's given back (the old P2M
 *    list, its recycled tables, ...), kept as ranges of pfns without
 *    touching them (an overflow list, linked through the pages, past
 *    BOOT_SPARE_RANGES ranges);
 *  - the early pool: pages inside the builder's mapping that nothing uses,
 *    below the kernel image (pfns 0 .. _text, as Linux's brk is not) and the
 *    padding after the boot stack, reachable before our tables exist;
 *  - the rest of RAM from the first pfn nothing uses, mapped into __va a
 *    2 MiB chunk at a time, the L1 for a chunk coming from pages already
 *    mapped.
 * A page given back twice is counted (double_frees) and not taken twice.
 */
#include "boot_priv.h"

#define FREE_MAGIC 0x70766272656546ULL /* "pvbreeF" */

static uint64_t pages_of(uint64_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

int boot_alloc_init(struct boot *b)
{
	const start_info_t *si = b->si;
	uint64_t kstart_pfn = (b->o->kernel_start - b->o->virt_base) / PAGE_SIZE;
	uint64_t used_end = b->map_end - b->o->virt_base;

	/* Below the kernel image: mapped by the builder, used by nobody. */
	b->early_next = 0;
	b->early_end = kstart_pfn;
	/* After the boot stack (the page after the page tables) up to the mapping's end. */
	b->pad_next = b->pt_pfn + b->nr_pt + 1;
	b->pad_end = used_end / PAGE_SIZE;
	/* Past everything the builder put anywhere: unmapped modules, an INIT_P2M list. */
	b->main_next = b->pad_end;
	if ((si->flags & SIF_MOD_START_PFN) && si->mod_len &&
	    si->mod_start + pages_of(si->mod_len) > b->main_next)
		b->main_next = si->mod_start + pages_of(si->mod_len);
	if (si->nr_p2m_frames && si->first_p2m_pfn + si->nr_p2m_frames > b->main_next)
		b->main_next = si->first_p2m_pfn + si->nr_p2m_frames;
	/* Not rounded down: the pages before it may be the builder's page tables. */
	b->main_base = b->main_next;
	b->va_end_pfn = b->main_base;
	b->free_head = NO_PFN;
	return 0;
}

/* The first spare range that ends after @pfn: nr_spare if none. */
static unsigned spare_find(const struct boot *b, uint64_t pfn)
{
	unsigned lo = 0, hi = b->nr_spare;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (b->spare[mid].end <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool spare_has(const struct boot *b, uint64_t pfn)
{
	unsigned i = spare_find(b, pfn);

	return i < b->nr_spare && b->spare[i].start <= pfn;
}

/* Drop range @i, closing the gap. */
static void spare_remove(struct boot *b, unsigned i)
{
	for (unsigned k = i; k + 1 < b->nr_spare; k++)
		b->spare[k] = b->spare[k + 1];
	b->nr_spare--;
}

/* Add @pfn (not spare yet) to the ranges; false when it needs a new range and none is left. */
static bool spare_add(struct boot *b, uint64_t pfn)
{
	unsigned i = spare_find(b, pfn), n = b->nr_spare;
	bool after = i > 0 && b->spare[i - 1].end == pfn;
	bool before = i < n && b->spare[i].start == pfn + 1;

	if (after && before) { /* fills the gap between two ranges: one range now */
		b->spare[i - 1].end = b->spare[i].end;
		spare_remove(b, i);
	} else if (after) {
		b->spare[i - 1].end++;
	} else if (before) {
		b->spare[i].start--;
	} else {
		if (n == BOOT_SPARE_RANGES)
			return false;
		for (unsigned k = n; k > i; k--)
			b->spare[k] = b->spare[k - 1];
		b->spare[i].start = pfn;
		b->spare[i].end = pfn + 1;
		b->nr_spare++;
	}
	return true;
}

static bool reachable(const struct boot *b, uint64_t pfn)
{
	return boot_in_va(b, pfn) || pfn < b->ident_end_pfn;
}

/* The lowest spare page we can reach, from the first range that starts with one. */
static uint64_t take_spare(struct boot *b)
{
	for (unsigned i = 0; i < b->nr_spare; i++) {
		uint64_t pfn = b->spare[i].start;

		if (!reachable(b, pfn))
			continue;
		if (++b->spare[i].start == b->spare[i].end)
			spare_remove(b, i);
		return pfn;
	}
	return NO_PFN;
}

/* The overflow list's head, unmarked. */
static uint64_t take_listed(struct boot *b)
{
	uint64_t pfn = b->free_head, *page;

	if (pfn == NO_PFN)
		return NO_PFN;
	page = boot_ptr(b, pfn);
	b->free_head = page[0];
	page[0] = page[1] = 0;
	return pfn;
}

/* A page that is already reachable: spare, early pool, padding, or mapped RAM. */
static uint64_t take_mapped(struct boot *b)
{
	uint64_t pfn = take_spare(b);

	if (pfn != NO_PFN)
		return pfn;
	pfn = take_listed(b);
	if (pfn != NO_PFN)
		return pfn;
	if (b->early_next < b->early_end)
		return b->early_next++;
	if (b->pad_next < b->pad_end)
		return b->pad_next++;
	if (b->va_ready && b->main_next < b->va_end_pfn)
		return b->main_next++;
	return NO_PFN;
}

/*
 * A whole 2 MiB of __va from @from (512-aligned) to @to: its L1 written
 * while it is still an ordinary page, then made read-only and linked with
 * one update, as Linux builds its initial tables; two hypercalls instead
 * of one per page.
 */
static int fill_l1(struct boot *b, uint64_t from, uint64_t to)
{
	struct pt_ops ops = boot_pt_ops(b);
	uint64_t pfn = boot_alloc_table(b), *l1;

	if (pfn == NO_PFN)
		return -1;
	l1 = boot_ptr(b, pfn);
	for (uint64_t p = from; p < to; p++)
		l1[p - from] = pte_make(boot_mfn(b, p), BOOT_PROT_RW);
	if (boot_make_ro(b, pfn))
		return -1;
	b->own_tables++;
	return pt_set(&ops, b->l4, PAGE_OFFSET + from * PAGE_SIZE, PT_L2,
		      pte_make(boot_mfn(b, pfn), PT_PROT_UPPER), &b->err);
}

/*
 * Map the rest of the current 2 MiB of RAM into __va.  Its L1 (and an L2 at a new GiB)
 * come from pages already mapped (b->extending makes boot_alloc_table take
 * them so), which is why it runs while two mapped pages are still left.
 */
static int extend_va(struct boot *b)
{
	struct pt_ops ops = boot_pt_ops(b);
	uint64_t from = b->va_end_pfn, to = (from / 512 + 1) * 512;
	int rc = 0;

	if (to > b->nr_pages)
		to = b->nr_pages;
	b->extending = true;
	if (from % 512 == 0)
		rc = fill_l1(b, from, to);
	else
		for (uint64_t p = from; p < to && !rc; p++)
			rc = pt_map(&ops, b->l4, PAGE_OFFSET + p * PAGE_SIZE, boot_mfn(b, p),
				    BOOT_PROT_RW, &b->err);
	b->extending = false;
	if (rc)
		return -1;
	b->va_end_pfn = to;
	return 0;
}

static uint64_t take_new(struct boot *b)
{
	uint64_t pfn;

	if (b->va_ready && b->main_next + 2 >= b->va_end_pfn && b->va_end_pfn < b->nr_pages &&
	    !b->extending && extend_va(b))
		return NO_PFN;
	pfn = take_mapped(b);
	return pfn;
}

/*
 * Whether allocation number b->allocs is to fail: --fail-alloc names it, or
 * the caller's hook says so.  If so, b->err says which, and the count goes
 * back (the next allocation has the same number).
 */
static bool fail_injected(struct boot *b)
{
	const struct pv_boot_opts *o = b->o;
	const char *by;

	if (o->fail_alloc && b->allocs == o->fail_alloc)
		by = "--fail-alloc";
	else if (o->alloc_hook && o->alloc_hook(o->alloc_hook_ctx, b->allocs))
		by = "alloc_hook";
	else
		return false;
	pv_fail(&b->err, PV_ERR_NOMEM, "page allocation %llu failed (%s)",
		(unsigned long long)b->allocs, by);
	b->allocs--;
	return true;
}

uint64_t boot_alloc(struct boot *b)
{
	return boot_alloc_page(b, true);
}

/*
 * A page, zeroed if @zero.  The P2M tree fills every page it takes, so its
 * pages need not be written twice (and a simulator need not back them yet).
 */
uint64_t boot_alloc_page(struct boot *b, bool zero)
{
	uint64_t pfn, *page;

	b->allocs++;
	if (fail_injected(b))
		return NO_PFN;
	pfn = take_new(b);
	if (pfn == NO_PFN) {
		if (b->err.code == PV_OK)
			pv_fail(&b->err, PV_ERR_NOMEM, "out of pages after %llu allocations",
				(unsigned long long)b->allocs);
		b->allocs--;
		return NO_PFN;
	}
	page = boot_ptr(b, pfn);
	for (unsigned i = 0; zero && i < 512; i++)
		page[i] = 0;
	return pfn;
}

uint64_t boot_alloc_table(struct boot *b)
{
	uint64_t pfn, *page;

	if (!b->extending)
		return boot_alloc(b);
	b->allocs++;
	if (fail_injected(b))
		return NO_PFN;
	pfn = take_mapped(b);
	if (pfn == NO_PFN) {
		pv_fail(&b->err, PV_ERR_NOMEM, "no mapped page left for a __va page table");
		b->allocs--;
		return NO_PFN;
	}
	page = boot_ptr(b, pfn);
	for (unsigned i = 0; i < 512; i++)
		page[i] = 0;
	return pfn;
}

/* Whether @pfn is on the overflow list: its mark, read only while the list has pages. */
static bool listed(struct boot *b, uint64_t pfn)
{
	const uint64_t *page;

	if (b->free_head == NO_PFN || !reachable(b, pfn))
		return false;
	page = boot_ptr(b, pfn);
	return page && page[1] == (FREE_MAGIC ^ pfn);
}

/*
 * Onto the overflow list.  A page we do not map (an INIT_P2M list lives
 * outside both of our maps) is given back, but not linked: linking would
 * touch it.
 */
static void push_listed(struct boot *b, uint64_t pfn)
{
	uint64_t *page = reachable(b, pfn) ? boot_ptr(b, pfn) : NULL;

	if (!page) {
		b->unreachable++;
		return;
	}
	page[0] = b->free_head;
	page[1] = FREE_MAGIC ^ pfn;
	b->free_head = pfn;
}

/*
 * A page back among the spares, not touched.  Undoing a revector that ran
 * out of memory gives back up to 65,536 pages it took but never wrote; a
 * simulator need not back any of them for it.
 */
static void give_back(struct boot *b, uint64_t pfn, bool discard)
{
	if (spare_has(b, pfn) || listed(b, pfn)) {
		b->double_frees++;
		return;
	}
	if (discard && b->pf->discard)
		b->pf->discard(b->pf->ctx, boot_mfn(b, pfn));
	if (!spare_add(b, pfn))
		push_listed(b, pfn);
}

void boot_free(struct boot *b, uint64_t pfn)
{
	b->frees++;
	give_back(b, pfn, false);
}

/* A page the builder used, now free: the platform may drop what it held, as memblock_free does. */
void boot_donate(struct boot *b, uint64_t pfn)
{
	b->donated++;
	give_back(b, pfn, true);
}

/*
 * Pages for the P2M tree or linear list come from the boot allocator, not
 * zeroed (both fill every page they take).  A page of the builder's list
 * given back (the old list after a revector, an all-missing page the
 * linear list does not adopt) is donated, as memblock_free does in Linux;
 * any other goes to the free list.  The page is named by its pointer, which
 * may be the linear list's own address for it (p2m_linear_destroy), so it
 * is told apart by its pfn.
 */
static void *p2m_alloc(void *ctx)
{
	struct boot *b = ctx;
	uint64_t pfn = boot_alloc_page(b, false);

	return pfn == NO_PFN ? NULL : boot_ptr(b, pfn);
}

static void p2m_free(void *ctx, void *page)
{
	struct boot *b = ctx;
	uint64_t pfn = boot_ptr_pfn(b, page);

	if (pfn >= b->list_pfn && pfn - b->list_pfn < b->list_bytes / PAGE_SIZE)
		boot_donate(b, pfn);
	else
		boot_free(b, pfn);
}

static mfn_t p2m_mfn(void *ctx, const void *page)
{
	struct boot *b = ctx;

	return b->pf->ptr_mfn(b->pf->ctx, page);
}

struct p2m_ops boot_p2m_ops(struct boot *b)
{
	return (struct p2m_ops){p2m_alloc, p2m_free, p2m_mfn, b};
}
