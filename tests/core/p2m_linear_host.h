/*
 * A host platform under the linear P2M list (struct p2m_linear_ops) that
 * makes the array really virtually linear in this process, for the tests
 * and the bench:
 *
 *   machine   memfd, frame k = mfn LH_MFN_BASE + k, mapped read-write once:
 *             the hypervisor's view, through which it writes PTEs
 *   direct    the same frames again: what alloc_page hands out (__va).  A
 *             PTE page becomes read-only here once linked, as under PV
 *   array     a PROT_NONE reservation; each PTE the list sets becomes an
 *             mmap(MAP_FIXED) of its frame there, writable or read-only
 *
 * A process has at most vm.max_map_count (65530) mappings, and the same
 * frame mapped at 512 addresses would be 512 of them.  So a frame mapped
 * read-only (the shared missing and identity pages) is mapped through one of
 * 512 read-only copies of it, chosen by the page's slot in its PMD: a run of
 * holes is then one mapping, as a run of the builder's frames is.  The
 * copies are compared with the frame at every mapping, so a shared page that
 * changes after it was first mapped is caught; a write through the array to
 * a shared page faults.
 *
 * Pages never come back zeroed (0x5a) and freed frames are filled with 0x6b
 * and checked when reused, so the list can neither rely on fresh pages
 * being empty nor write into a page it gave back unnoticed.  Every remap
 * checks that p2m_generation is odd.  Host failures (mmap, memfd) abort:
 * this is test code.
 *
 * Static functions in a header: tests/core builds one source file per test
 * binary, and the bench includes it too.
 */
#ifndef PVBOOT_TESTS_P2M_LINEAR_HOST_H
#define PVBOOT_TESTS_P2M_LINEAR_HOST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pvboot/p2m_linear.h>
#include <pvboot/x86.h>

#define LH_MFN_BASE 0x100000ULL
#define LH_NONE	    (~0ULL)

enum lh_state { LH_FREE, LH_LIB, LH_BUILDER, LH_HOST };

struct lhost {
	int fd;
	uint64_t nr_frames; /* the memfd's size in frames */
	char *machine, *direct;
	uint8_t *state;	 /* enum lh_state per frame */
	uint8_t *ro;	 /* per frame: read-only in direct (a linked PTE page) */
	uint64_t next;	 /* frames below were handed out at least once */
	uint64_t *freed; /* a stack of freed frames */
	uint64_t nr_freed, cap_freed;
	long live;    /* LH_LIB frames */
	long builder; /* LH_BUILDER frames */
	long fail_at; /* the fail_at-th allocation fails (0: none) */
	long allocs;
	long refuse_at; /* the refuse_at-th map_pte/map_pmd is refused (0: none) */
	/* The array. */
	char *reserve;
	uint64_t reserve_bytes;
	uint64_t va, va_bytes;
	uint64_t *pmd_table; /* per PMD of the array: the frame of its PTE page, or LH_NONE */
	/* Read-only copies: frame -> first of its 512 copies. */
	uint64_t ro_frame[4], ro_copies[4];
	int nr_ro;
	bool indirect; /* ptr() through machine, not the array (ops.direct false) */
	volatile uint64_t generation;
	long remaps;	       /* map_pte and map_pmd calls */
	uint64_t gen_at_remap; /* p2m_generation during the last one */
};

static inline void lh_die(const char *what)
{
	perror(what);
	abort();
}

static inline void lh_bug(const char *fmt, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "p2m_linear_host: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	abort();
}

static inline char *lh_frame(struct lhost *h, uint64_t frame)
{
	if (frame >= h->nr_frames)
		lh_bug("frame 0x%llx out of 0x%llx", frame, h->nr_frames);
	return h->machine + frame * PAGE_SIZE;
}

/* What the tools do: read a machine frame by number. */
static inline const uint64_t *lh_mfn_page(struct lhost *h, uint64_t mfn)
{
	if (mfn < LH_MFN_BASE || mfn - LH_MFN_BASE >= h->next)
		lh_bug("mfn 0x%llx is not a frame of this domain (0x%llx)", mfn, h->next);
	return (const uint64_t *)lh_frame(h, mfn - LH_MFN_BASE);
}

static inline uint64_t lh_take_frame(struct lhost *h, enum lh_state st)
{
	uint64_t f;

	if (h->nr_freed && st != LH_HOST) {
		f = h->freed[--h->nr_freed];
		for (uint64_t i = 0; i < PAGE_SIZE; i++)
			if ((unsigned char)lh_frame(h, f)[i] != 0x6b)
				lh_bug("frame 0x%llx was written after it was freed (byte %llu)", f,
				       i);
	} else {
		if (h->next >= h->nr_frames)
			lh_bug("out of frames (%llu of %llu)", h->next, h->nr_frames);
		f = h->next++;
	}
	h->state[f] = st;
	return f;
}

/* @frames frames in a row, never used before: builder lists and copies. */
static inline uint64_t lh_take_run(struct lhost *h, uint64_t frames, enum lh_state st)
{
	uint64_t f = h->next;

	if (frames > h->nr_frames - h->next)
		lh_bug("out of frames for a run of %llu (%llu left)", frames, h->nr_frames - h->next);
	h->next += frames;
	memset(h->state + f, st, frames);
	return f;
}

static inline uint64_t lh_ptr_frame(struct lhost *h, const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;

	if (a >= (uintptr_t)h->direct && a - (uintptr_t)h->direct < h->nr_frames * PAGE_SIZE)
		return (a - (uintptr_t)h->direct) / PAGE_SIZE;
	if (a >= (uintptr_t)h->machine && a - (uintptr_t)h->machine < h->nr_frames * PAGE_SIZE)
		return (a - (uintptr_t)h->machine) / PAGE_SIZE; /* ptr() when not direct */
	if (a >= h->va && a - h->va < h->va_bytes) {
		uint64_t off = a - h->va, t = h->pmd_table[off / P2M_LINEAR_PMD_BYTES];
		uint64_t pte = ((const uint64_t *)lh_frame(h, t))[off / PAGE_SIZE % 512];

		return mfn_x(pte_mfn(pte)) - LH_MFN_BASE;
	}
	lh_bug("0x%llx (%llu) is not a page of the host", (unsigned long long)a, 0);
	return 0;
}

static inline void *lh_alloc(void *ctx)
{
	struct lhost *h = ctx;
	uint64_t f;

	if (h->fail_at && ++h->allocs == h->fail_at)
		return NULL;
	f = lh_take_frame(h, LH_LIB);
	memset(lh_frame(h, f), 0x5a, PAGE_SIZE);
	h->live++;
	return h->direct + f * PAGE_SIZE;
}

static inline void lh_free(void *ctx, void *page)
{
	struct lhost *h = ctx;
	uint64_t f = lh_ptr_frame(h, page);

	if ((uintptr_t)page % PAGE_SIZE)
		lh_bug("free of 0x%llx, not a page (%llu)", (unsigned long long)(uintptr_t)page, 0);
	if (h->state[f] == LH_LIB)
		h->live--;
	else if (h->state[f] == LH_BUILDER)
		h->builder--;
	else
		lh_bug("free of frame 0x%llx in state %llu", f, h->state[f]);
	if (h->ro[f] && mprotect(h->direct + f * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE))
		lh_die("mprotect");
	h->ro[f] = 0;
	h->state[f] = LH_FREE;
	memset(lh_frame(h, f), 0x6b, PAGE_SIZE);
	if (h->nr_freed == h->cap_freed) {
		h->cap_freed = h->cap_freed ? 2 * h->cap_freed : 1024;
		h->freed = realloc(h->freed, h->cap_freed * sizeof(*h->freed));
		if (!h->freed)
			lh_die("realloc");
	}
	h->freed[h->nr_freed++] = f;
}

static inline mfn_t lh_virt_to_mfn(void *ctx, const void *page)
{
	return _mfn(LH_MFN_BASE + lh_ptr_frame(ctx, page));
}

/* The first of the 512 read-only copies of @frame, made on its first read-only mapping. */
static inline uint64_t lh_copies(struct lhost *h, uint64_t frame)
{
	int i;

	for (i = 0; i < h->nr_ro && h->ro_frame[i] != frame; i++)
		;
	if (i == h->nr_ro) {
		if (i == 4)
			lh_bug("more than %llu frames mapped read-only (0x%llx)", 4, frame);
		h->ro_frame[i] = frame;
		h->ro_copies[i] = lh_take_run(h, 512, LH_HOST);
		for (uint64_t c = 0; c < 512; c++)
			memcpy(lh_frame(h, h->ro_copies[i] + c), lh_frame(h, frame), PAGE_SIZE);
		h->nr_ro++;
	}
	if (memcmp(lh_frame(h, h->ro_copies[i]), lh_frame(h, frame), PAGE_SIZE))
		lh_bug("frame 0x%llx changed after it was mapped read-only (%llu)", frame, 0);
	return h->ro_copies[i];
}

/* Map PTEs [@first, @first + @n) of the PTE page in frame @t, run by run. */
static inline void lh_apply(struct lhost *h, uint64_t pmd, uint64_t t, unsigned first, unsigned n)
{
	const uint64_t *pte = (const uint64_t *)lh_frame(h, t);

	for (unsigned i = first; i < first + n;) {
		uint64_t f = mfn_x(pte_mfn(pte[i])) - LH_MFN_BASE, off;
		bool rw = pte[i] & _PAGE_RW;
		unsigned j = i + 1;

		if (!pte_present(pte[i]) || f >= h->next || h->state[f] == LH_FREE)
			lh_bug("PTE 0x%llx at slot %llu maps no live frame", pte[i], i);
		while (j < first + n && (pte[j] & _PAGE_RW) == (pte[i] & _PAGE_RW) &&
		       mfn_x(pte_mfn(pte[j])) - LH_MFN_BASE == (rw ? f + (j - i) : f))
			j++;
		off = rw ? f : lh_copies(h, f) + i;
		if (mmap((char *)(uintptr_t)h->va + pmd * P2M_LINEAR_PMD_BYTES + i * PAGE_SIZE,
			 (j - i) * PAGE_SIZE, rw ? PROT_READ | PROT_WRITE : PROT_READ,
			 MAP_SHARED | MAP_FIXED, h->fd, (off_t)(off * PAGE_SIZE)) == MAP_FAILED)
			lh_die("mmap (array)");
		i = j;
	}
}

static inline uint64_t lh_check_remap(struct lhost *h, uint64_t va, uint64_t align)
{
	if (!(h->generation & 1))
		lh_bug("remap at 0x%llx with p2m_generation %llu: not odd", va, h->generation);
	if (va < h->va || va - h->va >= h->va_bytes || (va - h->va) % align)
		lh_bug("remap at 0x%llx outside the array or misaligned (%llu)", va, align);
	h->remaps++;
	h->gen_at_remap = h->generation;
	return (va - h->va) / P2M_LINEAR_PMD_BYTES;
}

static inline int lh_map_pte(void *ctx, uint64_t va, uint64_t pte, struct pv_error *err)
{
	struct lhost *h = ctx;
	uint64_t pmd = lh_check_remap(h, va, PAGE_SIZE), t = h->pmd_table[pmd];
	unsigned slot = (va - h->va) / PAGE_SIZE % 512;

	if (h->refuse_at && h->remaps == h->refuse_at)
		return pv_fail(err, PV_ERR_RANGE, "host: update_va_mapping 0x%llx refused",
			       (unsigned long long)va);
	for (uint64_t p = 0; p < h->va_bytes / P2M_LINEAR_PMD_BYTES; p++)
		if (p != pmd && h->pmd_table[p] == t)
			lh_bug("map_pte at 0x%llx into a PTE page linked at PMD %llu too", va, p);
	((uint64_t *)lh_frame(h, t))[slot] = pte;
	lh_apply(h, pmd, t, slot, 1);
	return 0;
}

static inline int lh_map_pmd(void *ctx, uint64_t va, mfn_t table, struct pv_error *err)
{
	struct lhost *h = ctx;
	uint64_t pmd = lh_check_remap(h, va, P2M_LINEAR_PMD_BYTES), t = mfn_x(table) - LH_MFN_BASE;

	if (h->refuse_at && h->remaps == h->refuse_at)
		return pv_fail(err, PV_ERR_RANGE, "host: PMD update at 0x%llx refused",
			       (unsigned long long)va);
	if (t >= h->next || h->state[t] != LH_LIB)
		lh_bug("map_pmd of frame 0x%llx in state %llu", t, t < h->next ? h->state[t] : 0);
	if (!h->ro[t] && mprotect(h->direct + t * PAGE_SIZE, PAGE_SIZE, PROT_READ))
		lh_die("mprotect");
	h->ro[t] = 1;
	h->pmd_table[pmd] = t;
	lh_apply(h, pmd, t, 0, 512);
	return 0;
}

static inline void *lh_va_ptr(void *ctx, uint64_t va)
{
	struct lhost *h = ctx;

	if (va < h->va || va - h->va >= h->va_bytes ||
	    h->pmd_table[(va - h->va) / P2M_LINEAR_PMD_BYTES] == LH_NONE)
		return NULL;
	if (!h->indirect)
		return (void *)(uintptr_t)va;
	return lh_frame(h, lh_ptr_frame(h, (void *)(uintptr_t)va)) + va % PAGE_SIZE;
}

/*
 * A host with room for @frames frames and an array of @max_pfn entries
 * (direct unless @indirect).
 */
static inline void lh_init(struct lhost *h, uint64_t frames, uint64_t max_pfn, bool indirect)
{
	uint64_t pmds = (max_pfn + P2M_LINEAR_PMD_PFNS - 1) / P2M_LINEAR_PMD_PFNS;

	memset(h, 0, sizeof(*h));
	h->indirect = indirect;
	h->nr_frames = frames;
	h->fd = memfd_create("pvboot-p2m-host", 0);
	if (h->fd < 0 || ftruncate(h->fd, (off_t)(frames * PAGE_SIZE)))
		lh_die("memfd");
	h->machine = mmap(NULL, frames * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_NORESERVE, h->fd, 0);
	h->direct = mmap(NULL, frames * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, h->fd, 0);
	h->va_bytes = pmds * P2M_LINEAR_PMD_BYTES;
	h->reserve_bytes = h->va_bytes + P2M_LINEAR_PMD_BYTES;
	h->reserve = mmap(NULL, h->reserve_bytes, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->machine == MAP_FAILED || h->direct == MAP_FAILED || h->reserve == MAP_FAILED)
		lh_die("mmap");
	h->va = ((uintptr_t)h->reserve + P2M_LINEAR_PMD_BYTES - 1) & ~(P2M_LINEAR_PMD_BYTES - 1);
	h->state = calloc(frames, 1);
	h->ro = calloc(frames, 1);
	h->pmd_table = malloc(pmds * sizeof(*h->pmd_table));
	if (!h->state || !h->ro || !h->pmd_table)
		lh_die("calloc");
	memset(h->pmd_table, 0xff, pmds * sizeof(*h->pmd_table));
}

static inline void lh_fini(struct lhost *h)
{
	munmap(h->machine, h->nr_frames * PAGE_SIZE);
	munmap(h->direct, h->nr_frames * PAGE_SIZE);
	munmap(h->reserve, h->reserve_bytes);
	close(h->fd);
	free(h->state);
	free(h->ro);
	free(h->pmd_table);
	free(h->freed);
}

static inline struct p2m_linear_ops lh_ops(struct lhost *h)
{
	return (struct p2m_linear_ops){
		.mem = {lh_alloc, lh_free, lh_virt_to_mfn, h},
		.map_pte = lh_map_pte,
		.map_pmd = lh_map_pmd,
		.ptr = lh_va_ptr,
		.direct = !h->indirect,
	};
}

/* A builder's list of @entries entries: one run of frames, as the builder lays it out. */
static inline uint64_t *lh_builder_list(struct lhost *h, uint64_t entries)
{
	uint64_t pages = (entries + 511) / 512, f = lh_take_run(h, pages, LH_BUILDER);

	h->builder += pages;
	return (uint64_t *)(h->direct + f * PAGE_SIZE);
}

/*
 * Read the entry of @pfn from outside, as a tool with p2m_cr3/p2m_vaddr
 * does: the PMD's PTE page, the PTE, the frame, the entry (raw).
 */
static inline uint64_t lh_walk(struct lhost *h, uint64_t pfn)
{
	uint64_t t = h->pmd_table[pfn / P2M_LINEAR_PMD_PFNS];
	uint64_t pte = lh_mfn_page(h, t + LH_MFN_BASE)[pfn / 512 % 512];

	return lh_mfn_page(h, mfn_x(pte_mfn(pte)))[pfn % 512];
}

/* The same through the tools' 3-level tree from frame_list_list (raw). */
static inline uint64_t lh_tree_read(struct lhost *h, mfn_t fll, uint64_t pfn)
{
	const uint64_t *top = lh_mfn_page(h, mfn_x(fll));
	const uint64_t *mid = lh_mfn_page(h, top[pfn / P2M_LINEAR_PMD_PFNS]);

	return lh_mfn_page(h, mid[pfn / 512 % 512])[pfn % 512];
}

#endif
