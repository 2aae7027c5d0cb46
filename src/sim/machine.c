/*
 * Machine memory of the simulated Xen and the domain's pfn <-> mfn
 * assignment; see sim.h for the picture.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

#define EXTENT 512ULL /* pfns per 2 MiB extent */
#define CHUNK  (512 * PAGE_SIZE)

/* Frames below the domain: what Xen and the host would hold (4 GiB). */
#define DOM_BASE 0x100000ULL

int sim_init(struct sim *s, uint64_t nr_pages, uint64_t contig, struct pv_error *err)
{
	*s = (struct sim){0};
	if (nr_pages == 0 || nr_pages > PV_MAX_PAGES)
		return pv_fail(err, PV_ERR_RANGE, "sim: %llu pages is not a guest size",
			       (unsigned long long)nr_pages);
	if (contig > nr_pages)
		contig = nr_pages;
	/* The rest in whole extents: round the contiguous part up to one. */
	contig = (contig + EXTENT - 1) / EXTENT * EXTENT;
	if (contig > nr_pages)
		contig = nr_pages;
	s->nr_pages = nr_pages;
	s->contig = contig;
	s->dom_base = DOM_BASE;
	s->shared_info_mfn = DOM_BASE - 1;
	s->nr_frames = DOM_BASE + nr_pages + EXTENT;
	s->mem_bytes = s->nr_frames * PAGE_SIZE;
	/* Aligned to 2 MiB, so that a chunk of 512 frames is one huge page. */
	s->mem_map = mmap(NULL, s->mem_bytes + CHUNK, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->mem_map == MAP_FAILED) {
		s->mem_map = NULL;
		return pv_fail(err, PV_ERR_NOMEM,
			       "sim: cannot reserve %llu MiB of machine memory: %s",
			       (unsigned long long)(s->mem_bytes >> 20), strerror(errno));
	}
	s->mem = (uint8_t *)(((uintptr_t)s->mem_map + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
	s->cr3 = INVALID_MFN;
	return 0;
}

static void lazy_unregister(struct sim *s);

void sim_fini(struct sim *s)
{
	lazy_unregister(s);
	if (s->mem_map)
		munmap(s->mem_map, s->mem_bytes + CHUNK);
	free(s->frames.slot);
	free(s->lazy_state);
	free(s->lazy_ring);
	*s = (struct sim){0};
}

/*
 * pfn -> mfn.  Beyond the contiguous head, extent e of the remaining ones
 * lands at the mirror position: the last extent first.
 */
mfn_t sim_pfn_to_mfn(const struct sim *s, pfn_t pfn)
{
	uint64_t p = pfn_x(pfn), rest, extents, e;

	if (p >= s->nr_pages)
		return INVALID_MFN;
	if (p < s->contig)
		return _mfn(s->dom_base + p);
	rest = s->nr_pages - s->contig;
	extents = (rest + EXTENT - 1) / EXTENT;
	e = (p - s->contig) / EXTENT;
	return _mfn(s->dom_base + s->contig + (extents - 1 - e) * EXTENT + (p - s->contig) % EXTENT);
}

uint64_t sim_m2p(const struct sim *s, mfn_t mfn)
{
	uint64_t m = mfn_x(mfn), rest, extents, slot, e, pfn;

	if (m < s->dom_base ||
	    m >= s->dom_base + s->contig + (s->nr_pages - s->contig + EXTENT - 1) / EXTENT * EXTENT)
		return ~0ULL;
	m -= s->dom_base;
	if (m < s->contig)
		return m;
	rest = s->nr_pages - s->contig;
	extents = (rest + EXTENT - 1) / EXTENT;
	slot = (m - s->contig) / EXTENT;
	e = extents - 1 - slot;
	pfn = s->contig + e * EXTENT + (m - s->contig) % EXTENT;
	return pfn < s->nr_pages ? pfn : ~0ULL;
}

bool sim_owns(const struct sim *s, mfn_t mfn)
{
	return sim_m2p(s, mfn) != ~0ULL;
}

void *sim_frame(const struct sim *s, mfn_t mfn)
{
	if (mfn_x(mfn) >= s->nr_frames)
		return NULL;
	return s->mem + mfn_x(mfn) * PAGE_SIZE;
}

/*
 * The builder's list, computed instead of stored.
 *
 * A 16 TiB guest's list is 32 GiB, more than the host has, and its guest
 * reads it all at boot.  So the whole 2 MiB chunks of the list are kept
 * inaccessible (PROT_NONE) and made when touched: the first access faults,
 * the SIGSEGV handler below fills the chunk with what the builder would
 * have written and lets the access run again.  A chunk made that way is
 * read-only and sits in a ring; when the ring is full the oldest one is
 * given back to the host and made inaccessible again, since it can be made
 * again the same.  A write to a made chunk faults once more and makes it
 * the guest's for good (kept: writable, out of the ring).  Nothing of this
 * is visible to the guest except in time: every load and store sees the
 * list as the builder wrote it and as the guest changed it.
 *
 *   LAZY  --read or write-->  MADE (r/o, in the ring)  --write-->  KEPT (r/w)
 *     ^                           |
 *     +------ ring full ----------+
 *
 * System calls do not fault this way (they fail with EFAULT), so code that
 * hands machine memory to the kernel must copy it to its own buffer first.
 */
enum { CHUNK_LAZY, CHUNK_MADE, CHUNK_KEPT };

#define LAZY_WINDOW 256 /* chunks in the ring by default: 512 MiB */
#define LAZY_SIMS   8

static struct sim *lazy_sims[LAZY_SIMS];
static struct sigaction lazy_old_segv;
static unsigned lazy_nr_sims;

static uint8_t *chunk_addr(const struct sim *s, uint64_t c)
{
	return s->mem + (s->lazy_first + c * EXTENT) * PAGE_SIZE;
}

void sim_list_page(const struct sim *s, uint64_t k, uint64_t *page)
{
	uint64_t pfn = k * EXTENT;
	/* 512 pfns lie in one 2 MiB extent of the assignment: consecutive frames. */
	uint64_t m = mfn_x(sim_pfn_to_mfn(s, _pfn(pfn)));

	for (unsigned i = 0; i < EXTENT; i++)
		page[i] = pfn + i < s->nr_pages ? m + i : 0;
}

/* The list's pages in chunk @c, as the builder would have written them. */
static void lazy_fill(struct sim *s, uint64_t c)
{
	uint64_t *w = (uint64_t *)chunk_addr(s, c);
	uint64_t k = s->lazy_first + c * EXTENT - s->list_mfn;

	for (uint64_t page = 0; page < EXTENT; page++, w += EXTENT)
		sim_list_page(s, k + page, w);
}

static void lazy_drop(struct sim *s, uint64_t c)
{
	uint8_t *a = chunk_addr(s, c);

	madvise(a, CHUNK, MADV_DONTNEED);
	mprotect(a, CHUNK, PROT_NONE);
	s->lazy_state[c] = CHUNK_LAZY;
	s->lazy_dropped++;
}

/* Chunk @c, lazy, is touched: make it, and make room in the ring. */
static int lazy_make(struct sim *s, uint64_t c)
{
	uint64_t window = s->lazy_window ? s->lazy_window : LAZY_WINDOW;
	uint8_t *a = chunk_addr(s, c);

	while (s->lazy_ring_len >= window) {
		uint64_t old = s->lazy_ring[s->lazy_ring_head];

		s->lazy_ring_head = (s->lazy_ring_head + 1) % window;
		s->lazy_ring_len--;
		if (s->lazy_state[old] == CHUNK_MADE)
			lazy_drop(s, old);
	}
	if (mprotect(a, CHUNK, PROT_READ | PROT_WRITE))
		return -1;
	lazy_fill(s, c);
	if (mprotect(a, CHUNK, PROT_READ))
		return -1;
	s->lazy_state[c] = CHUNK_MADE;
	s->lazy_ring[(s->lazy_ring_head + s->lazy_ring_len) % window] = c;
	s->lazy_ring_len++;
	s->lazy_made++;
	return 0;
}

/* Chunk @c, made, is written: it is the guest's from now on. */
static int lazy_keep(struct sim *s, uint64_t c)
{
	if (mprotect(chunk_addr(s, c), CHUNK, PROT_READ | PROT_WRITE))
		return -1;
	s->lazy_state[c] = CHUNK_KEPT;
	s->lazy_kept++;
	return 0;
}

/* The fault at @addr, if it is one of a lazy list's: 0 when it can run again. */
static int lazy_fault(uint8_t *addr)
{
	for (unsigned i = 0; i < LAZY_SIMS; i++) {
		struct sim *s = lazy_sims[i];
		uint64_t c;

		if (!s || addr < chunk_addr(s, 0) || addr >= s->mem + s->lazy_end * PAGE_SIZE)
			continue;
		c = (uint64_t)(addr - chunk_addr(s, 0)) / CHUNK;
		if (s->lazy_state[c] == CHUNK_LAZY)
			return lazy_make(s, c);
		if (s->lazy_state[c] == CHUNK_MADE)
			return lazy_keep(s, c);
		return -1; /* kept chunks are writable: a fault there is a real one */
	}
	return -1;
}

static void lazy_segv(int sig, siginfo_t *si, void *uc)
{
	if (lazy_fault(si->si_addr) == 0)
		return;
	/* Not ours: whoever handled SIGSEGV before (a sanitizer), or the default. */
	if ((lazy_old_segv.sa_flags & SA_SIGINFO) && lazy_old_segv.sa_sigaction) {
		lazy_old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (lazy_old_segv.sa_handler != SIG_DFL && lazy_old_segv.sa_handler != SIG_IGN) {
		lazy_old_segv.sa_handler(sig);
		return;
	}
	signal(SIGSEGV, SIG_DFL); /* the access runs again and ends the process */
}

static int lazy_register(struct sim *s)
{
	unsigned i;

	for (i = 0; i < LAZY_SIMS && lazy_sims[i]; i++)
		;
	if (i == LAZY_SIMS)
		return -1;
	if (lazy_nr_sims == 0) {
		struct sigaction sa = {.sa_sigaction = lazy_segv, .sa_flags = SA_SIGINFO | SA_NODEFER};

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &lazy_old_segv))
			return -1;
	}
	lazy_sims[i] = s;
	lazy_nr_sims++;
	return 0;
}

static void lazy_unregister(struct sim *s)
{
	for (unsigned i = 0; i < LAZY_SIMS; i++) {
		if (lazy_sims[i] != s)
			continue;
		lazy_sims[i] = NULL;
		if (--lazy_nr_sims == 0)
			sigaction(SIGSEGV, &lazy_old_segv, NULL);
	}
}

int sim_lazy_list(struct sim *s, mfn_t list, uint64_t nr_frames, struct pv_error *err)
{
	uint64_t first = (mfn_x(list) + EXTENT - 1) / EXTENT * EXTENT;
	uint64_t end = (mfn_x(list) + nr_frames) / EXTENT * EXTENT, chunks;
	uint64_t window = s->lazy_window ? s->lazy_window : LAZY_WINDOW;

	if (s->lazy_state)
		return pv_fail(err, PV_ERR_USAGE, "sim: the list is computed already");
	if (mfn_x(list) + nr_frames > s->nr_frames)
		return pv_fail(err, PV_ERR_RANGE, "sim: the list's frames lie beyond machine memory");
	/* Every pfn of it in the domain's one run of frames: the fill counts on that. */
	if (mfn_x(list) < s->dom_base || mfn_x(list) + nr_frames > s->dom_base + s->contig)
		return pv_fail(err, PV_ERR_RANGE,
			       "sim: the builder's list is not in its initial run of frames");
	s->list_mfn = mfn_x(list);
	if (end <= first)
		return 0; /* no whole chunk: written as it is */
	chunks = (end - first) / EXTENT;
	s->lazy_state = calloc(chunks, 1);
	s->lazy_ring = calloc(window, sizeof(*s->lazy_ring));
	if (!s->lazy_state || !s->lazy_ring) {
		free(s->lazy_state);
		free(s->lazy_ring);
		s->lazy_state = NULL;
		s->lazy_ring = NULL;
		return pv_fail(err, PV_ERR_NOMEM, "sim: no memory to track the list's %llu chunks",
			       (unsigned long long)chunks);
	}
	s->lazy_first = first;
	s->lazy_end = end;
	madvise(s->mem + first * PAGE_SIZE, (end - first) * PAGE_SIZE, MADV_HUGEPAGE);
	if (mprotect(s->mem + first * PAGE_SIZE, (end - first) * PAGE_SIZE, PROT_NONE) ||
	    lazy_register(s)) {
		mprotect(s->mem + first * PAGE_SIZE, (end - first) * PAGE_SIZE,
			 PROT_READ | PROT_WRITE);
		s->lazy_first = s->lazy_end = 0;
		return pv_fail(err, PV_ERR_NOMEM, "sim: cannot make the list lazy: %s",
			       strerror(errno));
	}
	return 0;
}

bool sim_lazy(const struct sim *s, mfn_t mfn)
{
	return mfn_x(mfn) >= s->lazy_first && mfn_x(mfn) < s->lazy_end;
}

void sim_discard(struct sim *s, mfn_t mfn)
{
	void *f = sim_frame(s, mfn);

	if (!f)
		return;
	/* A lazy chunk would make the page again from the list: keep it, then drop the page. */
	if (sim_lazy(s, mfn)) {
		uint64_t c = (mfn_x(mfn) - s->lazy_first) / EXTENT;

		if (s->lazy_state[c] == CHUNK_LAZY && lazy_make(s, c))
			return;
		if (s->lazy_state[c] == CHUNK_MADE && lazy_keep(s, c))
			return;
	}
	madvise(f, PAGE_SIZE, MADV_DONTNEED);
}
