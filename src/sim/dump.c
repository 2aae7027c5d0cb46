/*
 * Memory images of a simulated domain, written from machine memory; the
 * format is drawn in <pvboot/memimage.h>, and src/image/memimage.c reads
 * them back.
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
#include <unistd.h>

#include <pvboot/host.h>
#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

#define SLAB   8192ULL /* frames per mincore() call: 32 MiB of machine memory */
#define EXTENT 512ULL  /* frames the builder hands out together */
#define WBUF   (1u << 20)

/* ---- the M2P as runs ---- */

struct runs {
	struct pv_memimage_m2p *v;
	uint64_t n, cap;
};

/*
 * Append frames [@m, @m + @c) with pfns from @p: merged into the last run
 * when they continue it, or repeat it at the next slot with the same
 * stride (the builder's reversed extents).
 */
static int runs_add(struct runs *R, uint64_t m, uint64_t p, uint64_t c)
{
	struct pv_memimage_m2p *g = R->n ? &R->v[R->n - 1] : NULL;

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
		struct pv_memimage_m2p *v = realloc(R->v, cap * sizeof(*v));

		if (!v)
			return -1;
		R->v = v;
		R->cap = cap;
	}
	R->v[R->n++] = (struct pv_memimage_m2p){m, p, c, 1, 0};
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
	uint8_t *raw; /* MEMIMAGE_RAW_MAX frames */
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
	struct pv_memimage_rec r = {w->mfn, w->kind, (uint32_t)w->count};
	int rc = 0;

	if (!w->kind)
		return 0;
	rc = w_put(w, &r, sizeof(r));
	if (!rc && w->kind == MEMIMAGE_REC_RAW)
		rc = w_put(w, w->raw, w->count * PAGE_SIZE);
	if (!rc && w->kind == MEMIMAGE_REC_ARITH) {
		uint64_t a[3] = {w->w0, w->step, w->fstep};

		rc = w_put(w, a, sizeof(a));
	}
	w->nr_records++;
	w->nr_frames += w->count;
	w->kind = 0;
	return rc;
}

/*
 * 0 all zero, MEMIMAGE_REC_ARITH (with *w0, *step), or MEMIMAGE_REC_RAW.  Loads
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
		return MEMIMAGE_REC_RAW;
	for (unsigned i = 0; i < 512; i++)
		diff |= p[i] ^ (a + i * d);
	if (diff)
		return MEMIMAGE_REC_RAW;
	return a == 0 && d == 0 ? 0 : MEMIMAGE_REC_ARITH;
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
	if (kind == MEMIMAGE_REC_ARITH) {
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
	if (!next || w->count == MEMIMAGE_RAW_MAX) {
		if (w_record(w))
			return -1;
		w->kind = kind;
		w->mfn = mfn;
		w->count = 0;
	}
	memcpy(w->raw + w->count * PAGE_SIZE, page, PAGE_SIZE);
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

		if (mincore(s->mem + base * PAGE_SIZE, n * PAGE_SIZE, vec)) {
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
				if (pv_memimage_m2p_find(R->v, R->n, m, &run) == ~0ULL)
					continue;
				owned_end = m + run;
			}
			rc = w_frame(w, m, sim_frame(s, _mfn(m)));
		}
	}
	free(vec);
	return rc;
}

/* Header, shared_info, M2P, the frames, the end record. */
static int w_image(struct writer *w, const struct sim *s, const struct runs *R, uint64_t *page)
{
	struct pv_memimage_header h = {
		.magic = MEMIMAGE_MAGIC,
		.version = MEMIMAGE_VERSION,
		.header_bytes = sizeof(h),
		.max_mfn = s->nr_frames - 1,
		.shared_info_mfn = s->shared_info_mfn,
		.nr_pages = s->nr_pages,
		.nr_m2p = R->n,
	};
	struct pv_memimage_rec end = {~0ULL, MEMIMAGE_REC_END, 0};
	struct pv_memimage_end tail;

	memcpy(page, sim_frame(s, _mfn(s->shared_info_mfn)), PAGE_SIZE);
	if (w_put(w, &h, sizeof(h)) || w_put(w, page, PAGE_SIZE) ||
	    w_put(w, R->v, R->n * sizeof(*R->v)) || w_frames(w, s, R) || w_record(w))
		return -1;
	tail = (struct pv_memimage_end){w->nr_records, w->nr_frames};
	return w_put(w, &end, sizeof(end)) || w_put(w, &tail, sizeof(tail)) || w_flush(w) ? -1 : 0;
}

int sim_dump(struct sim *s, const char *path, struct pv_sim_dump_stats *st, struct pv_error *err)
{
	struct writer w = {.fd = -1, .err = err, .st = st};
	struct runs R = {0};
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	uint64_t *page = malloc(PAGE_SIZE);
	double t0 = pv_now();
	int rc = -1;

	*st = (struct pv_sim_dump_stats){0};
	w.buf = malloc(WBUF);
	w.raw = malloc(MEMIMAGE_RAW_MAX * PAGE_SIZE);
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
	st->seconds = pv_now() - t0;
	free(R.v);
	free(w.raw);
	free(w.buf);
	free(page);
	free(tmp);
	return rc ? -1 : 0;
}
