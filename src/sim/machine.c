/*
 * Machine memory of the simulated Xen and the domain's pfn <-> mfn
 * assignment; see sim.h for the picture.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim.h"

#define PAGE   4096ULL
#define EXTENT 512ULL /* pfns per 2 MiB extent */

/* Frames below the domain: what Xen and the host would hold (4 GiB). */
#define DOM_BASE 0x100000ULL

int sim_init(struct sim *s, uint64_t nr_pages, uint64_t contig, struct pv_error *err)
{
	*s = (struct sim){0};
	if (nr_pages == 0 || nr_pages > (1ULL << 34))
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
	s->mem_bytes = s->nr_frames * PAGE;
	s->mem = mmap(NULL, s->mem_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		return pv_fail(err, PV_ERR_NOMEM,
			       "sim: cannot reserve %llu MiB of machine memory: %s",
			       (unsigned long long)(s->mem_bytes >> 20), strerror(errno));
	}
	s->cr3 = INVALID_MFN;
	return 0;
}

void sim_fini(struct sim *s)
{
	if (s->mem)
		munmap(s->mem, s->mem_bytes);
	free(s->frames.slot);
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
	return s->mem + mfn_x(mfn) * PAGE;
}

void sim_discard(struct sim *s, mfn_t mfn)
{
	void *f = sim_frame(s, mfn);

	if (f)
		madvise(f, PAGE, MADV_DONTNEED);
}
