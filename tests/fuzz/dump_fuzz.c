/*
 * libFuzzer target for memory images (pvboot simulate --dump, read by
 * pvboot p2m-dump): any bytes must open as a clean success or a clean
 * failure, and an image that opens must read through its P2M, by either
 * way in, to entries or to a clean error.  ASan and UBSan catch over-reads
 * and overflows; the checks below catch results that would break the
 * callers' assumptions.  A broken invariant traps.
 *
 * The bytes go into a memfd, because pv_memimage_open() reads a file by path.
 * The read stops after the first 64 blocks and the last one, so that an
 * image claiming 2^40 pfns over one shared frame cannot stall the run.
 *
 * Built by the Makefile (fuzz, fuzz-run); run by tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pvboot/memimage.h>

#include "fuzz/fuzz.h"

#define FIRST_BLOCKS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	const struct p2m_src *src;
	uint64_t next; /* the pfn the next block must start at */
	struct p2m_counts counts;
};

static void tally_restart(void *ctx)
{
	struct tally *t = ctx;

	t->next = ~0ULL;
}

static int tally_block(void *ctx, uint64_t pfn, const uint64_t *tree, const uint64_t *list,
		       unsigned n, struct pv_error *err)
{
	struct tally *t = ctx;

	(void)err;
	check(n >= 1 && n <= P2M_PER_PAGE);
	check(t->next == ~0ULL || pfn == t->next);
	check(tree || list);
	t->next = pfn + n;
	if (tree)
		p2m_count_block(t->src, pfn, tree, n, &t->counts);
	if (list)
		p2m_count_block(t->src, pfn, list, n, &t->counts);
	return 0;
}

/* Read pfns [@first, @end) through the ways that began. */
static void read_range(const struct p2m_src *src, struct p2m_reader *tree, struct p2m_reader *list,
		       uint64_t first, uint64_t end)
{
	struct tally t = {.src = src, .next = ~0ULL};
	struct p2m_sink sink = {&t, tally_restart, tally_block};
	struct p2m_read_stats st;
	struct pv_error err = {0};

	if (p2m_read(src, tree, list, first, end, &sink, &st, &err)) {
		check_error(&err);
		return;
	}
	check(st.tries >= 1 && st.tries <= P2M_READ_TRIES);
	check(t.next == end);
}

static void read_image(struct pv_memimage *img)
{
	static struct p2m_reader rd[2];
	struct p2m_src src = pv_memimage_p2m_src(img);
	struct p2m_reader *way[2] = {NULL, NULL};
	struct p2m_arch arch;
	struct pv_error err = {0};
	uint64_t first_end;

	check(img->nr_frames <= img->h.max_mfn + 1);
	if (src.arch(src.ctx, &arch, &err)) {
		check_error(&err);
		return;
	}
	for (int k = 0; k < 2; k++) {
		struct pv_error why = {0};

		if (p2m_reader_begin(&rd[k], &src, k ? P2M_VIA_LIST : P2M_VIA_TREE, &arch, &why))
			check_error(&why);
		else
			way[k] = &rd[k];
	}
	if (!way[0] && !way[1])
		return;
	check(arch.max_pfn > 0);
	first_end = arch.max_pfn < FIRST_BLOCKS * P2M_PER_PAGE ? arch.max_pfn
							     : FIRST_BLOCKS * P2M_PER_PAGE;
	read_range(&src, way[0], way[1], 0, first_end);
	if (arch.max_pfn > first_end)
		read_range(&src, way[0], way[1], arch.max_pfn - 1, arch.max_pfn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct pv_memimage *img = NULL;
	struct pv_error err = {0};

	if (fd < 0) {
		fd = memfd_create("pvboot-dump-fuzz", MFD_CLOEXEC);
		check(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	check(ftruncate(fd, 0) == 0);
	check(pwrite(fd, data, size, 0) == (ssize_t)size);

	if (pv_memimage_open(path, &img, &err)) {
		check(img == NULL);
		check_error(&err);
		return 0;
	}
	check(img->file_bytes == size);
	read_image(img);
	pv_memimage_close(img);
	return 0;
}
