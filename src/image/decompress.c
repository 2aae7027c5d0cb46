/*
 * Decompressing a bzImage payload with the compressors' own libraries:
 * zlib, libbz2, liblzma (xz and legacy .lzma) and libzstd.  The lzop and
 * LZ4 containers are in blocks.c.
 *
 * Cf. tools/libs/guest/xg_dom_bzimageloader.c (xc_try_*_decode) and
 * xc_dom_do_gunzip in xg_dom_core.c.  As there, the output size is the
 * little-endian u32 at the end of the payload (Linux's size_append, or
 * gzip's own ISIZE), capped at max_kernel_size, and the result must be
 * exactly that long.  Unlike there, the output buffer grows as data arrives
 * instead of being allocated at the claimed size up front.
 */
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "image_internal.h"

/* liblzma's memory limit in Xen's loader (LZMA_BLOCK_SIZE). */
#define LZMA_MEMLIMIT (256u * 1024 * 1024)

#define OUTBUF_MIN (64u * 1024)

int pvi_outbuf_init(struct pvi_outbuf *o, size_t limit, size_t in_len, struct pv_error *err)
{
	size_t cap = in_len > SIZE_MAX / 4 ? SIZE_MAX : in_len * 4;

	if (cap < OUTBUF_MIN)
		cap = OUTBUF_MIN;
	if (cap > limit)
		cap = limit;
	o->len = 0;
	o->limit = limit;
	o->cap = cap;
	o->buf = malloc(cap ? cap : 1);
	if (!o->buf)
		return pv_fail(err, PV_ERR_NOMEM, "cannot allocate %#zx bytes for decompression",
			       cap);
	return 0;
}

int pvi_outbuf_reserve(struct pvi_outbuf *o, size_t want, struct pv_error *err)
{
	size_t need, cap;
	uint8_t *p;

	if (want > o->limit - o->len)
		want = o->limit - o->len;
	need = o->len + want;
	if (need <= o->cap)
		return 0;
	cap = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
	if (cap < need)
		cap = need;
	p = realloc(o->buf, cap);
	if (!p)
		return pv_fail(err, PV_ERR_NOMEM, "cannot allocate %#zx bytes for decompression",
			       cap);
	o->buf = p;
	o->cap = cap;
	return 0;
}

void pvi_outbuf_free(struct pvi_outbuf *o)
{
	free(o->buf);
	o->buf = NULL;
}

int pvi_claimed_size(const char *what, const uint8_t *in, size_t in_len, size_t min_len,
		     size_t *size, struct pv_error *err)
{
	uint64_t sz, plausible;

	if (in_len < min_len)
		return pv_fail(err, PV_ERR_DECOMPRESS, "%s: insufficient input data (%#zx bytes)",
			       what, in_len);
	sz = pvi_le32(in + in_len - 4);
	if (sz > PVI_MAX_KERNEL_SIZE)
		return pv_fail(err, PV_ERR_DECOMPRESS,
			       "%s: kernel image too large (size field says %#lx bytes, the limit is %#x)",
			       what, (unsigned long)sz, PVI_MAX_KERNEL_SIZE);
	plausible = (uint64_t)in_len * PVI_MAX_RATIO + PVI_RATIO_SLACK;
	if (sz > plausible)
		return pv_fail(err, PV_ERR_DECOMPRESS,
			       "%s: size field says %#lx bytes, implausible for %#zx compressed bytes",
			       what, (unsigned long)sz, in_len);
	*size = (size_t)sz;
	return 0;
}

/* The checks every decoder makes once its stream has ended. */
int pvi_check_total(const char *what, const struct pvi_outbuf *o, struct pv_error *err)
{
	if (o->len != o->limit)
		return pv_fail(err, PV_ERR_DECOMPRESS,
			       "%s: got %#zx bytes instead of the %#zx the size field says", what,
			       o->len, o->limit);
	return 0;
}

int pvi_too_much(const char *what, const struct pvi_outbuf *o, struct pv_error *err)
{
	return pv_fail(err, PV_ERR_DECOMPRESS,
		       "%s: data decompresses to more than the %#zx bytes the size field says",
		       what, o->limit);
}

/* Cf. xc_dom_do_gunzip: zlib with gzip/zlib header autodetection. */
static int gunzip(const uint8_t *in, size_t in_len, struct pvi_outbuf *o, struct pv_error *err)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (in_len > UINT32_MAX)
		return pv_fail(err, PV_ERR_DECOMPRESS, "gzip: input too large");
	if (inflateInit2(&z, MAX_WBITS + 32) != Z_OK)
		return pv_fail(err, PV_ERR_NOMEM, "gzip: cannot initialise zlib");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	for (;;) {
		size_t before = o->len;

		if (pvi_outbuf_reserve(o, OUTBUF_MIN, err))
			goto fail;
		z.next_out = o->buf + o->len;
		z.avail_out = (uInt)(o->cap - o->len);
		rc = inflate(&z, Z_NO_FLUSH);
		o->len = o->cap - z.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && o->len == before) {
			if (o->len == o->limit && z.avail_in)
				pvi_too_much("gzip", o, err);
			else
				pv_fail(err, PV_ERR_DECOMPRESS, "gzip: unexpected end of input");
			goto fail;
		}
		if (rc != Z_OK) {
			pv_fail(err, PV_ERR_DECOMPRESS, "gzip: %s", z.msg ? z.msg : zError(rc));
			goto fail;
		}
	}
	inflateEnd(&z);
	return pvi_check_total("gzip", o, err);
fail:
	inflateEnd(&z);
	return -1;
}

static const char *bz2_error(int rc)
{
	switch (rc) {
	case BZ_DATA_ERROR:
		return "data integrity error";
	case BZ_DATA_ERROR_MAGIC:
		return "bad magic";
	case BZ_MEM_ERROR:
		return "out of memory";
	default:
		return "internal error";
	}
}

/* Cf. xc_try_bzip2_decode. */
static int bunzip2(const uint8_t *in, size_t in_len, struct pvi_outbuf *o, struct pv_error *err)
{
	bz_stream bz;
	int rc;

	memset(&bz, 0, sizeof(bz));
	if (in_len > UINT32_MAX)
		return pv_fail(err, PV_ERR_DECOMPRESS, "BZIP2: input too large");
	if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK)
		return pv_fail(err, PV_ERR_NOMEM, "BZIP2: error initting stream");
	bz.next_in = (char *)in;
	bz.avail_in = (unsigned)in_len;
	for (;;) {
		size_t before = o->len;
		unsigned in_before = bz.avail_in;

		if (pvi_outbuf_reserve(o, OUTBUF_MIN, err))
			goto fail;
		bz.next_out = (char *)o->buf + o->len;
		bz.avail_out = (unsigned)(o->cap - o->len);
		rc = BZ2_bzDecompress(&bz);
		o->len = o->cap - bz.avail_out;
		if (rc == BZ_STREAM_END)
			break;
		if (rc != BZ_OK) {
			pv_fail(err, PV_ERR_DECOMPRESS, "BZIP2: error %d (%s)", rc, bz2_error(rc));
			goto fail;
		}
		if (o->len == before && bz.avail_in == in_before) {
			/* Upstream accepts a stream without its end if the size matches. */
			if (o->len == o->limit && bz.avail_in == 0)
				break;
			if (o->len == o->limit)
				pvi_too_much("BZIP2", o, err);
			else
				pv_fail(err, PV_ERR_DECOMPRESS, "BZIP2: unexpected end of input");
			goto fail;
		}
	}
	BZ2_bzDecompressEnd(&bz);
	return pvi_check_total("BZIP2", o, err);
fail:
	BZ2_bzDecompressEnd(&bz);
	return -1;
}

/* Cf. _xc_try_lzma_decode's messages. */
static const char *lzma_error(lzma_ret rc)
{
	switch (rc) {
	case LZMA_MEM_ERROR:
		return "Cannot allocate memory";
	case LZMA_MEMLIMIT_ERROR:
		return "Memory usage limit reached";
	case LZMA_FORMAT_ERROR:
		return "File format not recognized";
	case LZMA_OPTIONS_ERROR:
		return "Unsupported compression options";
	case LZMA_DATA_ERROR:
		return "File is corrupt";
	case LZMA_BUF_ERROR:
		return "Unexpected end of input";
	default:
		return "Internal program error (bug)";
	}
}

/* Cf. xc_try_xz_decode and xc_try_lzma_decode. */
static int unlzma(const char *what, bool xz, const uint8_t *in, size_t in_len, struct pvi_outbuf *o,
		  struct pv_error *err)
{
	lzma_stream st = LZMA_STREAM_INIT;
	lzma_ret rc;

	rc = xz ? lzma_stream_decoder(&st, LZMA_MEMLIMIT, 0) : lzma_alone_decoder(&st, LZMA_MEMLIMIT);
	if (rc != LZMA_OK)
		return pv_fail(err, PV_ERR_NOMEM, "%s: Failed to init decoder", what);
	st.next_in = in;
	st.avail_in = in_len;
	for (;;) {
		if (pvi_outbuf_reserve(o, OUTBUF_MIN, err))
			goto fail;
		st.next_out = o->buf + o->len;
		st.avail_out = o->cap - o->len;
		rc = lzma_code(&st, LZMA_FINISH);
		o->len = o->cap - st.avail_out;
		if (rc == LZMA_STREAM_END)
			break;
		if (rc == LZMA_OK)
			continue;
		if (rc == LZMA_BUF_ERROR && o->len == o->limit) {
			/* Upstream accepts a stream without its end if the size matches. */
			if (st.avail_in == 0)
				break;
			pvi_too_much(what, o, err);
			goto fail;
		}
		pv_fail(err, PV_ERR_DECOMPRESS, "%s decompression error: %s", what, lzma_error(rc));
		goto fail;
	}
	lzma_end(&st);
	return pvi_check_total(what, o, err);
fail:
	lzma_end(&st);
	return -1;
}

/* Cf. xc_try_zstd_decode, with the streaming API and a growing buffer. */
static int unzstd(const uint8_t *in, size_t in_len, struct pvi_outbuf *o, struct pv_error *err)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer ib = {in, in_len, 0};
	size_t rc = 1;

	if (!dctx)
		return pv_fail(err, PV_ERR_NOMEM, "ZSTD: cannot create a decompression context");
	/* Frames follow one another until the input ends (as ZSTD_decompress). */
	while (ib.pos < ib.size || rc != 0) {
		size_t before = o->len, in_before = ib.pos;
		ZSTD_outBuffer ob;

		if (pvi_outbuf_reserve(o, OUTBUF_MIN, err))
			goto fail;
		ob = (ZSTD_outBuffer){o->buf, o->cap, o->len};
		rc = ZSTD_decompressStream(dctx, &ob, &ib);
		o->len = ob.pos;
		if (ZSTD_isError(rc)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "ZSTD: error: %s", ZSTD_getErrorName(rc));
			goto fail;
		}
		if (rc != 0 && o->len == before && ib.pos == in_before) {
			if (o->len == o->limit)
				pvi_too_much("ZSTD", o, err);
			else
				pv_fail(err, PV_ERR_DECOMPRESS, "ZSTD: unexpected end of input");
			goto fail;
		}
	}
	ZSTD_freeDCtx(dctx);
	return pvi_check_total("ZSTD", o, err);
fail:
	ZSTD_freeDCtx(dctx);
	return -1;
}

/*
 * The compression of a payload, from its magic, in the order
 * xc_dom_probe_bzimage_kernel tries them.
 */
enum pv_compression pvi_compression_of(const uint8_t *buf, size_t len)
{
	static const struct {
		const char *magic;
		size_t len;
		enum pv_compression comp;
	} magics[] = {
		{"\037\213", 2, PV_COMP_GZIP}, {"BZh", 3, PV_COMP_BZIP2},
		{"\3757zXZ", 6, PV_COMP_XZ},   {"\x28\xb5\x2f\xfd", 4, PV_COMP_ZSTD},
		{"\135\000", 2, PV_COMP_LZMA}, {"\x89LZO", 5, PV_COMP_LZO},
		{"\x02\x21", 2, PV_COMP_LZ4},
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(buf, magics[i].magic, magics[i].len))
			return magics[i].comp;
	return PV_COMP_NONE;
}

/*
 * Decompress @in (a whole payload, size trailer included) into a new
 * malloc()ed buffer.  Fails with PV_ERR_DECOMPRESS if the data is corrupt,
 * truncated or not as long as its size field says.
 */
int pvi_decompress(enum pv_compression comp, const uint8_t *in, size_t in_len, uint8_t **out,
		   size_t *out_len, struct pv_error *err)
{
	struct pvi_outbuf o;
	size_t size;
	int rc;

	switch (comp) {
	case PV_COMP_LZO:
		return pvi_unlzop(in, in_len, out, out_len, err);
	case PV_COMP_LZ4:
		return pvi_unlz4_legacy(in, in_len, out, out_len, err);
	case PV_COMP_GZIP:
		/* Minimal gzip: 10-byte header, 2-byte empty deflate, CRC, ISIZE. */
		rc = pvi_claimed_size("gzip", in, in_len, 20, &size, err);
		break;
	case PV_COMP_BZIP2:
		rc = pvi_claimed_size("BZIP2", in, in_len, 9, &size, err);
		break;
	case PV_COMP_XZ:
		rc = pvi_claimed_size("XZ", in, in_len, 8, &size, err);
		break;
	case PV_COMP_LZMA:
		rc = pvi_claimed_size("LZMA", in, in_len, 8, &size, err);
		break;
	case PV_COMP_ZSTD:
		rc = pvi_claimed_size("ZSTD", in, in_len, 10, &size, err);
		break;
	default:
		return pv_fail(err, PV_ERR_FORMAT, "unknown compression format");
	}
	if (rc || pvi_outbuf_init(&o, size, in_len, err))
		return -1;

	switch (comp) {
	case PV_COMP_GZIP:
		/* gzip's ISIZE is part of the stream: inflate all of it. */
		rc = gunzip(in, in_len, &o, err);
		break;
	case PV_COMP_BZIP2:
		rc = bunzip2(in, in_len - 4, &o, err);
		break;
	case PV_COMP_XZ:
		rc = unlzma("XZ", true, in, in_len - 4, &o, err);
		break;
	case PV_COMP_LZMA:
		rc = unlzma("LZMA", false, in, in_len - 4, &o, err);
		break;
	default:
		rc = unzstd(in, in_len - 4, &o, err);
		break;
	}
	if (rc) {
		pvi_outbuf_free(&o);
		return -1;
	}
	*out = o.buf;
	*out_len = o.len;
	return 0;
}
