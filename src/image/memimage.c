/*
 * Memory images read back (the format is drawn in <pvboot/memimage.h>):
 * every structure checked when the image is opened, then its frames served
 * to a P2M reader as a live domain's are, from the file or computed from an
 * arithmetic record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvboot/memimage.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>

#define PFN_BITS 40 /* frame numbers fit 52-bit machine addresses */

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* The runs are sorted by mfn: the last one starting at or below @mfn, if it reaches it. */
uint64_t pv_memimage_m2p_find(const struct pv_memimage_m2p *v, uint64_t n, uint64_t mfn, uint64_t *run)
{
	uint64_t lo = 0, hi = n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (v[mid].mfn <= mfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return ~0ULL;
	const struct pv_memimage_m2p *g = &v[lo - 1];
	uint64_t d = mfn - g->mfn, r = d / g->count, off = d % g->count;

	if (r >= g->repeat)
		return ~0ULL;
	if (run)
		*run = g->count - off;
	return g->pfn + r * (uint64_t)g->stride + off;
}

/* @n bytes at @off, all of them; -1 with @err saying the file ends early. */
static int r_read(const struct pv_memimage *img, const char *path, uint64_t off, void *p, size_t n,
		  const char *what, struct pv_error *err)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(img->fd, (uint8_t *)p + done, n - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return pv_fail(err, PV_ERR_IO, "%s: cannot read %s at offset %llu: %s",
				       path, what, ull(off), strerror(errno));
		if (k == 0)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: truncated: the file ends at %llu bytes, inside %s at offset %llu",
				       path, ull(img->file_bytes), what, ull(off));
		done += (size_t)k;
	}
	return 0;
}

/* The M2P runs: each inside the host's frames and the domain's pfns, sorted, apart. */
static int check_m2p(const struct pv_memimage *img, const char *path, struct pv_error *err)
{
	uint64_t next = 0;

	for (uint64_t i = 0; i < img->nr_m2p; i++) {
		const struct pv_memimage_m2p *g = &img->m2p[i];
		/* Each factor at most 2^40 (max_mfn is below it): the products fit. */
		bool sized = g->count && g->repeat && g->count <= img->h.max_mfn + 1 &&
			     g->repeat <= img->h.max_mfn + 1;
		__int128 frames = sized ? (__int128)g->count * g->repeat : 0;
		__int128 p0 = g->pfn, p1 = sized ? p0 + (__int128)(g->repeat - 1) * g->stride : 0;

		if (!sized || g->mfn < next || g->mfn + frames - 1 > (__int128)img->h.max_mfn)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: corrupt M2P run %llu (mfn %#llx, %llu x %llu frames): empty, out of order, overlapping, or past max_mfn %#llx",
				       path, ull(i), ull(g->mfn), ull(g->repeat), ull(g->count),
				       ull(img->h.max_mfn));
		if (p0 < 0 || p1 < 0 || p0 + g->count > img->h.nr_pages ||
		    p1 + g->count > img->h.nr_pages)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: corrupt M2P run %llu (mfn %#llx): its pfns leave the domain's %llu",
				       path, ull(i), ull(g->mfn), ull(img->h.nr_pages));
		next = g->mfn + (uint64_t)frames;
	}
	return 0;
}

static int header(struct pv_memimage *img, const char *path, uint64_t *off, struct pv_error *err)
{
	struct pv_memimage_header *h = &img->h;

	if (img->file_bytes < sizeof(*h))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: not a pvboot memory image: %llu bytes, less than a header",
			       path, ull(img->file_bytes));
	if (r_read(img, path, 0, h, sizeof(*h), "the header", err))
		return -1;
	if (memcmp(h->magic, MEMIMAGE_MAGIC, sizeof(h->magic)))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: not a pvboot memory image (bad magic; pvboot simulate --dump writes them)",
			       path);
	if (h->version != MEMIMAGE_VERSION)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: memory image version %u; this pvboot reads version %u", path,
			       h->version, MEMIMAGE_VERSION);
	if (h->header_bytes < sizeof(*h) || h->header_bytes > PAGE_SIZE || h->header_bytes % 8)
		return pv_fail(err, PV_ERR_FORMAT, "%s: corrupt header: header_bytes %u", path,
			       h->header_bytes);
	if (h->max_mfn >> PFN_BITS || h->shared_info_mfn > h->max_mfn || h->nr_pages == 0 ||
	    h->nr_pages >> PFN_BITS)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: corrupt header: max_mfn %#llx, shared_info mfn %#llx, %llu pages",
			       path, ull(h->max_mfn), ull(h->shared_info_mfn), ull(h->nr_pages));
	*off = h->header_bytes;
	if (r_read(img, path, *off, img->shared_info, PAGE_SIZE, "the shared_info page", err))
		return -1;
	*off += PAGE_SIZE;
	if (h->nr_m2p > (img->file_bytes - *off) / sizeof(struct pv_memimage_m2p))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: truncated or corrupt: %llu M2P runs do not fit in the file's %llu bytes",
			       path, ull(h->nr_m2p), ull(img->file_bytes));
	img->nr_m2p = h->nr_m2p;
	img->m2p = malloc(img->nr_m2p ? img->nr_m2p * sizeof(*img->m2p) : 1);
	if (!img->m2p)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	if (r_read(img, path, *off, img->m2p, img->nr_m2p * sizeof(*img->m2p), "the M2P", err))
		return -1;
	*off += img->nr_m2p * sizeof(*img->m2p);
	return check_m2p(img, path, err);
}

/* Frames [@mfn, @mfn + @n) all the domain's? */
static bool all_owned(const struct pv_memimage *img, uint64_t mfn, uint64_t n)
{
	while (n) {
		uint64_t run = 0;

		if (pv_memimage_m2p(img, mfn, &run) == ~0ULL)
			return false;
		if (run >= n)
			return true;
		mfn += run;
		n -= run;
	}
	return true;
}

/* Check one record's header at @off and index it; *off moves past it. */
static int record(struct pv_memimage *img, const char *path, uint64_t *off,
		  const struct pv_memimage_rec *r, uint64_t *next, struct pv_error *err)
{
	struct pv_memimage_index x = {.mfn = r->mfn, .count = r->count, .kind = r->kind};
	uint64_t at = *off - sizeof(*r), a[3];

	if (r->kind != MEMIMAGE_REC_RAW && r->kind != MEMIMAGE_REC_ARITH)
		return pv_fail(err, PV_ERR_FORMAT, "%s: corrupt record %llu at offset %llu: kind %u",
			       path, ull(img->nr_rec), ull(at), r->kind);
	if (r->count == 0 || (r->kind == MEMIMAGE_REC_RAW && r->count > MEMIMAGE_RAW_MAX) ||
	    r->mfn < *next || r->mfn > img->h.max_mfn || r->count - 1 > img->h.max_mfn - r->mfn)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: corrupt record %llu at offset %llu: mfn %#llx, %u frames (records go up by mfn, apart, up to max_mfn %#llx)",
			       path, ull(img->nr_rec), ull(at), ull(r->mfn), r->count,
			       ull(img->h.max_mfn));
	if (!all_owned(img, r->mfn, r->count))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: corrupt record %llu at offset %llu: frames %#llx-%#llx are not all the domain's by the image's M2P",
			       path, ull(img->nr_rec), ull(at), ull(r->mfn),
			       ull(r->mfn + r->count - 1));
	if (r->kind == MEMIMAGE_REC_RAW) {
		x.off = *off;
		if ((uint64_t)r->count * PAGE_SIZE > img->file_bytes - *off)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: truncated: record %llu at offset %llu has %u frames, the file ends at %llu bytes",
				       path, ull(img->nr_rec), ull(at), r->count,
				       ull(img->file_bytes));
		*off += (uint64_t)r->count * PAGE_SIZE;
	} else {
		if (r_read(img, path, *off, a, sizeof(a), "an arithmetic record", err))
			return -1;
		x.w0 = a[0];
		x.step = a[1];
		x.fstep = a[2];
		*off += sizeof(a);
	}
	*next = r->mfn + r->count;
	img->nr_frames += r->count;
	img->rec[img->nr_rec++] = x;
	return 0;
}

/* The records up to the end record, which must end the file. */
static int records(struct pv_memimage *img, const char *path, uint64_t off, struct pv_error *err)
{
	uint64_t cap = 0, next = 0;
	struct pv_memimage_rec r;
	struct pv_memimage_end tail;

	for (;;) {
		if (off + sizeof(r) > img->file_bytes)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: truncated: %llu records and no end record (the file ends at %llu bytes)",
				       path, ull(img->nr_rec), ull(img->file_bytes));
		if (r_read(img, path, off, &r, sizeof(r), "a record", err))
			return -1;
		off += sizeof(r);
		if (r.kind == MEMIMAGE_REC_END)
			break;
		if (img->nr_rec == cap) {
			struct pv_memimage_index *v;

			cap = cap ? 2 * cap : 1024;
			v = realloc(img->rec, cap * sizeof(*v));
			if (!v)
				return pv_fail(err, PV_ERR_NOMEM, "out of memory");
			img->rec = v;
		}
		if (record(img, path, &off, &r, &next, err))
			return -1;
	}
	if (r_read(img, path, off, &tail, sizeof(tail), "the end record", err))
		return -1;
	off += sizeof(tail);
	if (r.mfn != ~0ULL || r.count || tail.nr_records != img->nr_rec ||
	    tail.nr_frames != img->nr_frames)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: corrupt end record: it counts %llu records of %llu frames, the file has %llu of %llu",
			       path, ull(tail.nr_records), ull(tail.nr_frames), ull(img->nr_rec),
			       ull(img->nr_frames));
	if (off != img->file_bytes)
		return pv_fail(err, PV_ERR_FORMAT, "%s: corrupt: %llu bytes after the end record",
			       path, ull(img->file_bytes - off));
	return 0;
}

int pv_memimage_open(const char *path, struct pv_memimage **out, struct pv_error *err)
{
	struct pv_memimage *img = calloc(1, sizeof(*img));
	struct stat sb;
	uint64_t off = 0;

	*out = NULL;
	if (!img)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		pv_fail(err, PV_ERR_IO, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(img->fd, &sb) || !S_ISREG(sb.st_mode)) {
		pv_fail(err, PV_ERR_IO, "%s: not a regular file", path);
		goto fail;
	}
	img->file_bytes = (uint64_t)sb.st_size;
	if (header(img, path, &off, err) || records(img, path, off, err))
		goto fail;
	*out = img;
	return 0;
fail:
	pv_memimage_close(img);
	return -1;
}

void pv_memimage_close(struct pv_memimage *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	free(img->m2p);
	free(img->rec);
	free(img);
}

uint64_t pv_memimage_m2p(const struct pv_memimage *img, uint64_t mfn, uint64_t *run)
{
	return pv_memimage_m2p_find(img->m2p, img->nr_m2p, mfn, run);
}

/* The record holding @mfn, or NULL (the frame reads as zeros). */
static const struct pv_memimage_index *find_rec(const struct pv_memimage *img, uint64_t mfn)
{
	uint64_t lo = 0, hi = img->nr_rec;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (img->rec[mid].mfn <= mfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || mfn - img->rec[lo - 1].mfn >= img->rec[lo - 1].count)
		return NULL;
	return &img->rec[lo - 1];
}

static int img_arch(void *ctx, struct p2m_arch *a, struct pv_error *err)
{
	const struct pv_memimage *img = ctx;
	const shared_info_t *sh = (const shared_info_t *)img->shared_info;

	(void)err;
	*a = (struct p2m_arch){sh->arch.max_pfn, sh->arch.pfn_to_mfn_frame_list_list,
			       sh->arch.p2m_cr3, sh->arch.p2m_vaddr, sh->arch.p2m_generation};
	return 0;
}

static uint64_t img_m2p(void *ctx, mfn_t mfn, uint64_t *run)
{
	return pv_memimage_m2p(ctx, mfn_x(mfn), run);
}

static int img_frame(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err)
{
	const struct pv_memimage *img = ctx;
	uint64_t m = mfn_x(mfn), k, w;
	const struct pv_memimage_index *x;

	if (m > img->h.max_mfn || pv_memimage_m2p(img, m, NULL) == ~0ULL)
		return pv_fail(err, PV_ERR_FORMAT,
			       "mfn %#llx is not the domain's: the image has no such frame", ull(m));
	x = find_rec(img, m);
	if (!x) {
		memset(page, 0, PAGE_SIZE);
		return 0;
	}
	k = m - x->mfn;
	if (x->kind == MEMIMAGE_REC_RAW)
		return r_read(img, "the image", x->off + k * PAGE_SIZE, page, PAGE_SIZE, "a frame",
			      err);
	w = x->w0 + k * x->fstep;
	for (unsigned i = 0; i < 512; i++, w += x->step)
		page[i] = w;
	return 0;
}

struct p2m_src pv_memimage_p2m_src(struct pv_memimage *img)
{
	return (struct p2m_src){
		.ctx = img,
		.max_mfn = img->h.max_mfn,
		.arch = img_arch,
		.m2p = img_m2p,
		.frame = img_frame,
	};
}
