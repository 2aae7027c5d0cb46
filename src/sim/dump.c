/*
 * Memory images of a simulated domain: written from machine memory, read
 * back as a frame source; the format is drawn in dump.h.
 *
 * Machine memory is read with loads and memcpy into our own buffers only,
 * never handed to a system call: frames of the lazy list are inaccessible
 * until a load faults them in (machine.c), and write(2) would fail there
 * with EFAULT instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"

#define SLAB	 8192ULL /* frames per mincore() call: 32 MiB of machine memory */
#define EXTENT	 512ULL	 /* frames the builder hands out together */
#define WBUF	 (1u << 20)
#define PFN_BITS 40 /* frame numbers fit 52-bit machine addresses */

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* ---- the M2P as runs ---- */

struct runs {
	struct dump_m2p *v;
	uint64_t n, cap;
};

/*
 * Append frames [@m, @m + @c) with pfns from @p: merged into the last run
 * when they continue it, or repeat it at the next slot with the same
 * stride (the builder's reversed extents).
 */
static int runs_add(struct runs *R, uint64_t m, uint64_t p, uint64_t c)
{
	struct dump_m2p *g = R->n ? &R->v[R->n - 1] : NULL;

	if (g && g->repeat == 1 && m == g->mfn + g->count && p == g->pfn + g->count) {
		g->count += c;
		return 0;
	}
	if (g && c == g->count && m == g->mfn + g->repeat * g->count) {
		if (g->repeat == 1) {
			g->stride = (int64_t)(p - g->pfn);
			g->repeat = 2;
			return 0;
		}
		if (p == g->pfn + g->repeat * (uint64_t)g->stride) {
			g->repeat++;
			return 0;
		}
	}
	if (R->n == R->cap) {
		uint64_t cap = R->cap ? 2 * R->cap : 64;
		struct dump_m2p *v = realloc(R->v, cap * sizeof(*v));

		if (!v)
			return -1;
		R->v = v;
		R->cap = cap;
	}
	R->v[R->n++] = (struct dump_m2p){m, p, c, 1, 0};
	return 0;
}

/*
 * The domain's M2P as runs.  sim.h: the domain owns frames from dom_base
 * on, in 2 MiB extents aligned to 512 frames, so a chunk of 512 whose ends
 * are the domain's and consecutive is one extent; any other chunk is
 * looked at frame by frame.
 */
static int runs_of_sim(const struct sim *s, struct runs *R)
{
	for (uint64_t c = s->dom_base / EXTENT * EXTENT; c < s->nr_frames; c += EXTENT) {
		uint64_t end = c + EXTENT < s->nr_frames ? c + EXTENT : s->nr_frames;
		uint64_t p0 = sim_m2p(s, _mfn(c)), p1 = sim_m2p(s, _mfn(end - 1));

		if (p0 != ~0ULL && p1 == p0 + (end - 1 - c)) {
			if (runs_add(R, c, p0, end - c))
				return -1;
			continue;
		}
		for (uint64_t m = c; m < end; m++) {
			uint64_t p = sim_m2p(s, _mfn(m));

			if (p != ~0ULL && runs_add(R, m, p, 1))
				return -1;
		}
	}
	return 0;
}

/* Look @mfn up in runs @v[0 .. n): the pfn, ~0 if none; *run: frames left in its slot. */
static uint64_t runs_find(const struct dump_m2p *v, uint64_t n, uint64_t mfn, uint64_t *run)
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
	const struct dump_m2p *g = &v[lo - 1];
	uint64_t d = mfn - g->mfn, r = d / g->count, off = d % g->count;

	if (r >= g->repeat)
		return ~0ULL;
	if (run)
		*run = g->count - off;
	return g->pfn + r * (uint64_t)g->stride + off;
}

/* ---- writing ---- */

struct writer {
	int fd;
	const char *tmp;
	uint8_t *buf;
	size_t len;
	uint64_t bytes;
	struct pv_error *err;
	/* The record being gathered. */
	uint32_t kind; /* 0: none */
	uint64_t mfn, count, w0, step, fstep;
	uint8_t *raw; /* DUMP_RAW_MAX frames */
	uint64_t nr_records, nr_frames;
	struct pv_sim_dump_stats *st;
};

static int w_flush(struct writer *w)
{
	for (size_t done = 0; done < w->len;) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pv_fail(w->err, PV_ERR_IO, "cannot write %s: %s", w->tmp,
				       n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	w->len = 0;
	return 0;
}

/* @n bytes of our own (never machine memory) into the file. */
static int w_put(struct writer *w, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t k = WBUF - w->len < n ? WBUF - w->len : n;

		memcpy(w->buf + w->len, b, k);
		w->len += k;
		w->bytes += k;
		b += k;
		n -= k;
		if (w->len == WBUF && w_flush(w))
			return -1;
	}
	return 0;
}

/* Write the record being gathered, if any. */
static int w_record(struct writer *w)
{
	struct dump_rec r = {w->mfn, w->kind, (uint32_t)w->count};
	int rc = 0;

	if (!w->kind)
		return 0;
	rc = w_put(w, &r, sizeof(r));
	if (!rc && w->kind == DUMP_REC_RAW)
		rc = w_put(w, w->raw, w->count * DUMP_PAGE);
	if (!rc && w->kind == DUMP_REC_ARITH) {
		uint64_t a[3] = {w->w0, w->step, w->fstep};

		rc = w_put(w, a, sizeof(a));
	}
	w->nr_records++;
	w->nr_frames += w->count;
	w->kind = 0;
	return rc;
}

/*
 * 0 all zero, DUMP_REC_ARITH (with *w0, *step), or DUMP_REC_RAW.  Loads
 * only, so @p may point into machine memory; no early exit in the loop, so
 * that it vectorizes.  Not instrumented by ASan: it reads every word of the
 * domain's data (8 GiB for a 4 TiB guest's list) from an mmap()ed page ASan
 * does not track, where its checks cannot fail and would triple the time
 * (UBSan: unsigned arithmetic on aligned words, nothing to check either).
 */
__attribute__((no_sanitize("address", "undefined"))) static uint32_t
classify(const uint64_t *p, uint64_t *w0, uint64_t *step)
{
	uint64_t a = p[0], d = p[1] - p[0], diff = 0;

	*w0 = a;
	*step = d;
	if (p[511] != a + 511 * d)
		return DUMP_REC_RAW;
	for (unsigned i = 0; i < 512; i++)
		diff |= p[i] ^ (a + i * d);
	if (diff)
		return DUMP_REC_RAW;
	return a == 0 && d == 0 ? 0 : DUMP_REC_ARITH;
}

/*
 * Frame @mfn, at @page in machine memory: joins the record being gathered
 * or starts one.  A raw frame is copied to our buffer with memcpy.
 */
static int w_frame(struct writer *w, uint64_t mfn, const uint64_t *page)
{
	uint64_t w0, step;
	uint32_t kind = classify(page, &w0, &step);
	bool next = w->kind == kind && mfn == w->mfn + w->count;

	if (kind == 0) {
		w->st->zero_frames++;
		return w_record(w);
	}
	if (kind == DUMP_REC_ARITH) {
		w->st->arith_frames++;
		if (next && step == w->step && w->count < UINT32_MAX &&
		    (w->count == 1 || w0 == w->w0 + w->count * w->fstep)) {
			if (w->count == 1)
				w->fstep = w0 - w->w0;
			w->count++;
			return 0;
		}
		if (w_record(w))
			return -1;
		w->kind = kind;
		w->mfn = mfn;
		w->count = 1;
		w->w0 = w0;
		w->step = step;
		w->fstep = 0;
		return 0;
	}
	w->st->raw_frames++;
	if (!next || w->count == DUMP_RAW_MAX) {
		if (w_record(w))
			return -1;
		w->kind = kind;
		w->mfn = mfn;
		w->count = 0;
	}
	memcpy(w->raw + w->count * DUMP_PAGE, page, DUMP_PAGE);
	w->count++;
	return 0;
}

/*
 * Every frame of the domain that may hold data, in mfn order: what is
 * resident (mincore), and the lazy list, which reads as computed contents
 * whether resident or not.
 */
static int w_frames(struct writer *w, const struct sim *s, const struct runs *R)
{
	unsigned char *vec = malloc(SLAB);
	uint64_t last = R->n ? R->v[R->n - 1].mfn + R->v[R->n - 1].count * R->v[R->n - 1].repeat : 0;
	uint64_t owned_end = 0; /* frames below it, from the last M2P look-up on, are the domain's */
	int rc = 0;

	if (!vec)
		return pv_fail(w->err, PV_ERR_NOMEM, "out of memory");
	for (uint64_t base = s->dom_base / SLAB * SLAB; base < last && !rc; base += SLAB) {
		uint64_t n = base + SLAB < last ? SLAB : last - base;

		if (mincore(s->mem + base * DUMP_PAGE, n * DUMP_PAGE, vec)) {
			rc = pv_fail(w->err, PV_ERR_IO, "mincore over machine memory: %s",
				     strerror(errno));
			break;
		}
		for (uint64_t i = 0; i < n && !rc; i++) {
			uint64_t m = base + i, word, run;

			if (!(vec[i] & 1) && (m < s->lazy_first || m >= s->lazy_end)) {
				/* Mostly nothing is there: eight frames at a time. */
				if (i % 8 == 0 && i + 8 <= n &&
				    (m + 8 <= s->lazy_first || m >= s->lazy_end)) {
					memcpy(&word, vec + i, sizeof(word));
					if (!(word & 0x0101010101010101ULL))
						i += 7;
				}
				continue;
			}
			if (m >= owned_end) {
				if (runs_find(R->v, R->n, m, &run) == ~0ULL)
					continue;
				owned_end = m + run;
			}
			rc = w_frame(w, m, sim_frame(s, _mfn(m)));
		}
	}
	free(vec);
	return rc;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Header, shared_info, M2P, the frames, the end record. */
static int w_image(struct writer *w, const struct sim *s, const struct runs *R, uint64_t *page)
{
	struct dump_header h = {
		.magic = DUMP_MAGIC,
		.version = DUMP_VERSION,
		.header_bytes = sizeof(h),
		.max_mfn = s->nr_frames - 1,
		.shared_info_mfn = s->shared_info_mfn,
		.nr_pages = s->nr_pages,
		.nr_m2p = R->n,
	};
	struct dump_rec end = {~0ULL, DUMP_REC_END, 0};
	struct dump_end tail;

	memcpy(page, sim_frame(s, _mfn(s->shared_info_mfn)), DUMP_PAGE);
	if (w_put(w, &h, sizeof(h)) || w_put(w, page, DUMP_PAGE) ||
	    w_put(w, R->v, R->n * sizeof(*R->v)) || w_frames(w, s, R) || w_record(w))
		return -1;
	tail = (struct dump_end){w->nr_records, w->nr_frames};
	return w_put(w, &end, sizeof(end)) || w_put(w, &tail, sizeof(tail)) || w_flush(w) ? -1 : 0;
}

int sim_dump(struct sim *s, const char *path, struct pv_sim_dump_stats *st, struct pv_error *err)
{
	struct writer w = {.fd = -1, .err = err, .st = st};
	struct runs R = {0};
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	uint64_t *page = malloc(DUMP_PAGE);
	double t0 = now();
	int rc = -1;

	*st = (struct pv_sim_dump_stats){0};
	w.buf = malloc(WBUF);
	w.raw = malloc(DUMP_RAW_MAX * DUMP_PAGE);
	if (!tmp || !page || !w.buf || !w.raw || runs_of_sim(s, &R)) {
		pv_fail(err, PV_ERR_NOMEM, "out of memory for the image of %s", path);
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	w.tmp = tmp;
	w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0) {
		pv_fail(err, PV_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (w_image(&w, s, &R, page))
		goto out;
	if (fsync(w.fd)) {
		pv_fail(err, PV_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = close(w.fd);
	w.fd = -1;
	if (rc) {
		pv_fail(err, PV_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = rename(tmp, path);
	if (rc)
		pv_fail(err, PV_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
out:
	if (w.fd >= 0)
		close(w.fd);
	if (rc && w.tmp)
		unlink(tmp);
	st->bytes = w.bytes;
	st->records = w.nr_records;
	st->m2p_runs = R.n;
	st->seconds = now() - t0;
	free(R.v);
	free(w.raw);
	free(w.buf);
	free(page);
	free(tmp);
	return rc ? -1 : 0;
}

/* ---- reading ---- */

/* @n bytes at @off, all of them; -1 with @err saying the file ends early. */
static int r_read(const struct dump_image *img, const char *path, uint64_t off, void *p, size_t n,
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
static int check_m2p(const struct dump_image *img, const char *path, struct pv_error *err)
{
	uint64_t next = 0;

	for (uint64_t i = 0; i < img->nr_m2p; i++) {
		const struct dump_m2p *g = &img->m2p[i];
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

static int header(struct dump_image *img, const char *path, uint64_t *off, struct pv_error *err)
{
	struct dump_header *h = &img->h;

	if (img->file_bytes < sizeof(*h))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: not a pvboot memory image: %llu bytes, less than a header",
			       path, ull(img->file_bytes));
	if (r_read(img, path, 0, h, sizeof(*h), "the header", err))
		return -1;
	if (memcmp(h->magic, DUMP_MAGIC, sizeof(h->magic)))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: not a pvboot memory image (bad magic; pvboot simulate --dump writes them)",
			       path);
	if (h->version != DUMP_VERSION)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: memory image version %u; this pvboot reads version %u", path,
			       h->version, DUMP_VERSION);
	if (h->header_bytes < sizeof(*h) || h->header_bytes > DUMP_PAGE || h->header_bytes % 8)
		return pv_fail(err, PV_ERR_FORMAT, "%s: corrupt header: header_bytes %u", path,
			       h->header_bytes);
	if (h->max_mfn >> PFN_BITS || h->shared_info_mfn > h->max_mfn || h->nr_pages == 0 ||
	    h->nr_pages >> PFN_BITS)
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s: corrupt header: max_mfn %#llx, shared_info mfn %#llx, %llu pages",
			       path, ull(h->max_mfn), ull(h->shared_info_mfn), ull(h->nr_pages));
	*off = h->header_bytes;
	if (r_read(img, path, *off, img->shared_info, DUMP_PAGE, "the shared_info page", err))
		return -1;
	*off += DUMP_PAGE;
	if (h->nr_m2p > (img->file_bytes - *off) / sizeof(struct dump_m2p))
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
static bool all_owned(const struct dump_image *img, uint64_t mfn, uint64_t n)
{
	while (n) {
		uint64_t run = 0;

		if (dump_m2p(img, mfn, &run) == ~0ULL)
			return false;
		if (run >= n)
			return true;
		mfn += run;
		n -= run;
	}
	return true;
}

/* Check one record's header at @off and index it; *off moves past it. */
static int record(struct dump_image *img, const char *path, uint64_t *off, const struct dump_rec *r,
		  uint64_t *next, struct pv_error *err)
{
	struct dump_index x = {.mfn = r->mfn, .count = r->count, .kind = r->kind};
	uint64_t at = *off - sizeof(*r), a[3];

	if (r->kind != DUMP_REC_RAW && r->kind != DUMP_REC_ARITH)
		return pv_fail(err, PV_ERR_FORMAT, "%s: corrupt record %llu at offset %llu: kind %u",
			       path, ull(img->nr_rec), ull(at), r->kind);
	if (r->count == 0 || (r->kind == DUMP_REC_RAW && r->count > DUMP_RAW_MAX) ||
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
	if (r->kind == DUMP_REC_RAW) {
		x.off = *off;
		if ((uint64_t)r->count * DUMP_PAGE > img->file_bytes - *off)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: truncated: record %llu at offset %llu has %u frames, the file ends at %llu bytes",
				       path, ull(img->nr_rec), ull(at), r->count,
				       ull(img->file_bytes));
		*off += (uint64_t)r->count * DUMP_PAGE;
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
static int records(struct dump_image *img, const char *path, uint64_t off, struct pv_error *err)
{
	uint64_t cap = 0, next = 0;
	struct dump_rec r;
	struct dump_end tail;

	for (;;) {
		if (off + sizeof(r) > img->file_bytes)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: truncated: %llu records and no end record (the file ends at %llu bytes)",
				       path, ull(img->nr_rec), ull(img->file_bytes));
		if (r_read(img, path, off, &r, sizeof(r), "a record", err))
			return -1;
		off += sizeof(r);
		if (r.kind == DUMP_REC_END)
			break;
		if (img->nr_rec == cap) {
			struct dump_index *v;

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

int dump_open(const char *path, struct dump_image **out, struct pv_error *err)
{
	struct dump_image *img = calloc(1, sizeof(*img));
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
	dump_close(img);
	return -1;
}

void dump_close(struct dump_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	free(img->m2p);
	free(img->rec);
	free(img);
}

uint64_t dump_m2p(const struct dump_image *img, uint64_t mfn, uint64_t *run)
{
	return runs_find(img->m2p, img->nr_m2p, mfn, run);
}

/* The record holding @mfn, or NULL (the frame reads as zeros). */
static const struct dump_index *find_rec(const struct dump_image *img, uint64_t mfn)
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
	const struct dump_image *img = ctx;
	const shared_info_t *sh = (const shared_info_t *)img->shared_info;

	(void)err;
	*a = (struct p2m_arch){sh->arch.max_pfn, sh->arch.pfn_to_mfn_frame_list_list,
			       sh->arch.p2m_cr3, sh->arch.p2m_vaddr, sh->arch.p2m_generation};
	return 0;
}

static uint64_t img_m2p(void *ctx, mfn_t mfn, uint64_t *run)
{
	return dump_m2p(ctx, mfn_x(mfn), run);
}

static int img_frame(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err)
{
	const struct dump_image *img = ctx;
	uint64_t m = mfn_x(mfn), k, w;
	const struct dump_index *x;

	if (m > img->h.max_mfn || dump_m2p(img, m, NULL) == ~0ULL)
		return pv_fail(err, PV_ERR_FORMAT,
			       "mfn %#llx is not the domain's: the image has no such frame", ull(m));
	x = find_rec(img, m);
	if (!x) {
		memset(page, 0, DUMP_PAGE);
		return 0;
	}
	k = m - x->mfn;
	if (x->kind == DUMP_REC_RAW)
		return r_read(img, "the image", x->off + k * DUMP_PAGE, page, DUMP_PAGE, "a frame",
			      err);
	w = x->w0 + k * x->fstep;
	for (unsigned i = 0; i < 512; i++, w += x->step)
		page[i] = w;
	return 0;
}

struct p2m_src dump_p2m_src(struct dump_image *img)
{
	return (struct p2m_src){
		.ctx = img,
		.max_mfn = img->h.max_mfn,
		.arch = img_arch,
		.m2p = img_m2p,
		.frame = img_frame,
	};
}

/* ---- a live simulated domain ---- */

static int sim_arch(void *ctx, struct p2m_arch *a, struct pv_error *err)
{
	const struct sim *s = ctx;
	const volatile shared_info_t *sh = sim_frame(s, _mfn(s->shared_info_mfn));

	(void)err;
	*a = (struct p2m_arch){sh->arch.max_pfn, sh->arch.pfn_to_mfn_frame_list_list,
			       sh->arch.p2m_cr3, sh->arch.p2m_vaddr, sh->arch.p2m_generation};
	return 0;
}

static uint64_t sim_m2p_run(void *ctx, mfn_t mfn, uint64_t *run)
{
	uint64_t p = sim_m2p(ctx, mfn);

	if (run)
		*run = 1;
	return p;
}

static int sim_read_frame(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err)
{
	const struct sim *s = ctx;

	if (!sim_owns(s, mfn))
		return pv_fail(err, PV_ERR_FORMAT, "mfn %#llx is not the domain's", ull(mfn_x(mfn)));
	memcpy(page, sim_frame(s, mfn), DUMP_PAGE);
	return 0;
}

struct p2m_src sim_p2m_src(struct sim *s)
{
	return (struct p2m_src){
		.ctx = s,
		.max_mfn = s->nr_frames - 1,
		.arch = sim_arch,
		.m2p = sim_m2p_run,
		.frame = sim_read_frame,
	};
}
