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

/* libzstd's stream: its context, and the input. */
struct zstd_stream {
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer ib;
};

/* A decoder's state: one library's stream. */
union stream_state {
	z_stream z;
	bz_stream bz;
	lzma_stream lz;
	struct zstd_stream zstd;
};

/* What one call of a library's decode came to. */
enum step {
	STEP_MORE,	/* it used room or input: call again */
	STEP_END,	/* the stream has ended */
	STEP_TOO_MUCH,	/* the output is full and the stream goes on */
	STEP_TRUNCATED, /* no progress: the input ends early */
	STEP_ERROR,	/* @err is set */
};

/*
 * A stream decoder, for run_stream(): @init starts a stream on the input
 * (the state zeroed before), @step calls the library's decode once,
 * filling o->buf from o->len up to o->cap and moving o->len past what it
 * wrote, and @end releases the stream.  @what names the decoder in
 * errors, as upstream does.
 */
struct stream_ops {
	enum pv_compression comp;
	const char *what;
	size_t min_len;	     /* the shortest payload of this format, size field included */
	bool size_in_stream; /* the size field is the stream's own (gzip's ISIZE) */
	bool in_u32;	     /* the library counts the input in 32 bits */
	int (*init)(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
		    struct pv_error *err);
	enum step (*step)(union stream_state *st, const char *what, struct pvi_outbuf *o,
			  struct pv_error *err);
	void (*end)(union stream_state *st);
};

/*
 * A library's return codes in upstream's words; the last entry's words are
 * for any other code.
 */
struct rc_text {
	int rc;
	const char *text;
};

static const char *rc_text(const struct rc_text *t, size_t n, int rc)
{
	size_t i = 0;

	while (i + 1 < n && t[i].rc != rc)
		i++;
	return t[i].text;
}

#define RC_TEXT(table, rc) rc_text(table, sizeof(table) / sizeof(table[0]), rc)

/* Cf. xc_dom_do_gunzip: zlib with gzip/zlib header autodetection. */
static int gunzip_init(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
		       struct pv_error *err)
{
	if (inflateInit2(&st->z, MAX_WBITS + 32) != Z_OK)
		return pv_fail(err, PV_ERR_NOMEM, "%s: cannot initialise zlib", what);
	st->z.next_in = (Bytef *)in;
	st->z.avail_in = (uInt)in_len;
	return 0;
}

static enum step gunzip_step(union stream_state *st, const char *what, struct pvi_outbuf *o,
			     struct pv_error *err)
{
	z_stream *z = &st->z;
	size_t before = o->len;
	int rc;

	z->next_out = o->buf + o->len;
	z->avail_out = (uInt)(o->cap - o->len);
	rc = inflate(z, Z_NO_FLUSH);
	o->len = o->cap - z->avail_out;
	if (rc == Z_STREAM_END)
		return STEP_END;
	if (rc == Z_BUF_ERROR && o->len == before)
		return o->len == o->limit && z->avail_in ? STEP_TOO_MUCH : STEP_TRUNCATED;
	if (rc != Z_OK) {
		pv_fail(err, PV_ERR_DECOMPRESS, "%s: %s", what, z->msg ? z->msg : zError(rc));
		return STEP_ERROR;
	}
	return STEP_MORE;
}

static void gunzip_end(union stream_state *st)
{
	inflateEnd(&st->z);
}

/* Cf. xc_try_bzip2_decode. */
static const struct rc_text bz2_errors[] = {
	{BZ_DATA_ERROR, "data integrity error"},
	{BZ_DATA_ERROR_MAGIC, "bad magic"},
	{BZ_MEM_ERROR, "out of memory"},
	{0, "internal error"},
};

static int bunzip2_init(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
			struct pv_error *err)
{
	if (BZ2_bzDecompressInit(&st->bz, 0, 0) != BZ_OK)
		return pv_fail(err, PV_ERR_NOMEM, "%s: error initting stream", what);
	st->bz.next_in = (char *)in;
	st->bz.avail_in = (unsigned)in_len;
	return 0;
}

static enum step bunzip2_step(union stream_state *st, const char *what, struct pvi_outbuf *o,
			      struct pv_error *err)
{
	bz_stream *bz = &st->bz;
	size_t before = o->len;
	unsigned in_before = bz->avail_in;
	int rc;

	bz->next_out = (char *)o->buf + o->len;
	bz->avail_out = (unsigned)(o->cap - o->len);
	rc = BZ2_bzDecompress(bz);
	o->len = o->cap - bz->avail_out;
	if (rc == BZ_STREAM_END)
		return STEP_END;
	if (rc != BZ_OK) {
		pv_fail(err, PV_ERR_DECOMPRESS, "%s: error %d (%s)", what, rc,
			RC_TEXT(bz2_errors, rc));
		return STEP_ERROR;
	}
	if (o->len != before || bz->avail_in != in_before)
		return STEP_MORE;
	/* Upstream accepts a stream without its end if the size matches. */
	if (o->len == o->limit)
		return bz->avail_in == 0 ? STEP_END : STEP_TOO_MUCH;
	return STEP_TRUNCATED;
}

static void bunzip2_end(union stream_state *st)
{
	BZ2_bzDecompressEnd(&st->bz);
}

/* Cf. _xc_try_lzma_decode's messages. */
static const struct rc_text lzma_errors[] = {
	{LZMA_MEM_ERROR, "Cannot allocate memory"},
	{LZMA_MEMLIMIT_ERROR, "Memory usage limit reached"},
	{LZMA_FORMAT_ERROR, "File format not recognized"},
	{LZMA_OPTIONS_ERROR, "Unsupported compression options"},
	{LZMA_DATA_ERROR, "File is corrupt"},
	{LZMA_BUF_ERROR, "Unexpected end of input"},
	{0, "Internal program error (bug)"},
};

/* Cf. xc_try_xz_decode and xc_try_lzma_decode. */
static int unlzma_start(union stream_state *st, lzma_ret rc, const char *what, const uint8_t *in,
			size_t in_len, struct pv_error *err)
{
	if (rc != LZMA_OK)
		return pv_fail(err, PV_ERR_NOMEM, "%s: Failed to init decoder", what);
	st->lz.next_in = in;
	st->lz.avail_in = in_len;
	return 0;
}

static int unxz_init(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
		     struct pv_error *err)
{
	return unlzma_start(st, lzma_stream_decoder(&st->lz, LZMA_MEMLIMIT, 0), what, in, in_len,
			    err);
}

static int unlzma_init(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
		       struct pv_error *err)
{
	return unlzma_start(st, lzma_alone_decoder(&st->lz, LZMA_MEMLIMIT), what, in, in_len, err);
}

static enum step unlzma_step(union stream_state *st, const char *what, struct pvi_outbuf *o,
			     struct pv_error *err)
{
	lzma_stream *lz = &st->lz;
	lzma_ret rc;

	lz->next_out = o->buf + o->len;
	lz->avail_out = o->cap - o->len;
	rc = lzma_code(lz, LZMA_FINISH);
	o->len = o->cap - lz->avail_out;
	if (rc == LZMA_STREAM_END)
		return STEP_END;
	if (rc == LZMA_OK)
		return STEP_MORE;
	/* Upstream accepts a stream without its end if the size matches. */
	if (rc == LZMA_BUF_ERROR && o->len == o->limit)
		return lz->avail_in == 0 ? STEP_END : STEP_TOO_MUCH;
	pv_fail(err, PV_ERR_DECOMPRESS, "%s decompression error: %s", what,
		RC_TEXT(lzma_errors, (int)rc));
	return STEP_ERROR;
}

static void unlzma_end(union stream_state *st)
{
	lzma_end(&st->lz);
}

/* Cf. xc_try_zstd_decode, with the streaming API and a growing buffer. */
static int unzstd_init(union stream_state *st, const char *what, const uint8_t *in, size_t in_len,
		       struct pv_error *err)
{
	st->zstd = (struct zstd_stream){ZSTD_createDCtx(), {in, in_len, 0}};
	if (!st->zstd.dctx)
		return pv_fail(err, PV_ERR_NOMEM, "%s: cannot create a decompression context", what);
	return 0;
}

static enum step unzstd_step(union stream_state *st, const char *what, struct pvi_outbuf *o,
			     struct pv_error *err)
{
	struct zstd_stream *z = &st->zstd;
	size_t before = o->len, in_before = z->ib.pos, rc;
	ZSTD_outBuffer ob = {o->buf, o->cap, o->len};

	rc = ZSTD_decompressStream(z->dctx, &ob, &z->ib);
	o->len = ob.pos;
	if (ZSTD_isError(rc)) {
		pv_fail(err, PV_ERR_DECOMPRESS, "%s: error: %s", what, ZSTD_getErrorName(rc));
		return STEP_ERROR;
	}
	/* Frames follow one another until the input ends (as ZSTD_decompress). */
	if (rc == 0 && z->ib.pos == z->ib.size)
		return STEP_END;
	if (rc != 0 && o->len == before && z->ib.pos == in_before)
		return o->len == o->limit ? STEP_TOO_MUCH : STEP_TRUNCATED;
	return STEP_MORE;
}

static void unzstd_end(union stream_state *st)
{
	ZSTD_freeDCtx(st->zstd.dctx);
}

/* comp, what, min_len, size_in_stream, in_u32, init, step, end */
static const struct stream_ops streams[] = {
	/* Minimal gzip: 10-byte header, 2-byte empty deflate, CRC, ISIZE. */
	{PV_COMP_GZIP, "gzip", 20, true, true, gunzip_init, gunzip_step, gunzip_end},
	{PV_COMP_BZIP2, "BZIP2", 9, false, true, bunzip2_init, bunzip2_step, bunzip2_end},
	{PV_COMP_XZ, "XZ", 8, false, false, unxz_init, unlzma_step, unlzma_end},
	{PV_COMP_LZMA, "LZMA", 8, false, false, unlzma_init, unlzma_step, unlzma_end},
	{PV_COMP_ZSTD, "ZSTD", 10, false, false, unzstd_init, unzstd_step, unzstd_end},
};

/*
 * The one decompress loop: room in the output buffer, one step, until the
 * stream ends or fails; then the checks every decoder makes.
 */
static int run_stream(const struct stream_ops *ops, const uint8_t *in, size_t in_len,
		      struct pvi_outbuf *o, struct pv_error *err)
{
	union stream_state st;
	enum step s;

	if (ops->in_u32 && in_len > UINT32_MAX)
		return pv_fail(err, PV_ERR_DECOMPRESS, "%s: input too large", ops->what);
	/* Zeroes: zlib's and libbz2's default allocators, and liblzma's LZMA_STREAM_INIT. */
	memset(&st, 0, sizeof(st));
	if (ops->init(&st, ops->what, in, in_len, err))
		return -1;
	do {
		if (pvi_outbuf_reserve(o, OUTBUF_MIN, err)) {
			s = STEP_ERROR;
			break;
		}
		s = ops->step(&st, ops->what, o, err);
	} while (s == STEP_MORE);
	if (s == STEP_TOO_MUCH)
		pvi_too_much(ops->what, o, err);
	else if (s == STEP_TRUNCATED)
		pv_fail(err, PV_ERR_DECOMPRESS, "%s: unexpected end of input", ops->what);
	ops->end(&st);
	return s == STEP_END ? pvi_check_total(ops->what, o, err) : -1;
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
	const struct stream_ops *ops = NULL;
	struct pvi_outbuf o;
	size_t size;

	if (comp == PV_COMP_LZO)
		return pvi_unlzop(in, in_len, out, out_len, err);
	if (comp == PV_COMP_LZ4)
		return pvi_unlz4_legacy(in, in_len, out, out_len, err);
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
		if (streams[i].comp == comp)
			ops = &streams[i];
	if (!ops)
		return pv_fail(err, PV_ERR_FORMAT, "unknown compression format");
	if (pvi_claimed_size(ops->what, in, in_len, ops->min_len, &size, err) ||
	    pvi_outbuf_init(&o, size, in_len, err))
		return -1;
	/* gzip's ISIZE is part of the stream: inflate all of it. */
	if (run_stream(ops, in, ops->size_in_stream ? in_len : in_len - 4, &o, err)) {
		pvi_outbuf_free(&o);
		return -1;
	}
	*out = o.buf;
	*out_len = o.len;
	return 0;
}
