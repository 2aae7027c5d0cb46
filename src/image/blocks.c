/*
 * The two block containers a bzImage payload can use: lzop's (Linux's
 * CONFIG_KERNEL_LZO, made by "lzop -9") and LZ4's legacy frame
 * (CONFIG_KERNEL_LZ4, "lz4 -l").  The framing is parsed here; every block
 * is decompressed by its library (lzo1x_decompress_safe, LZ4_decompress_safe)
 * straight into the output buffer.
 *
 * Cf. xc_try_lzo1x_decode and xc_try_lz4_decode in
 * tools/libs/guest/xg_dom_bzimageloader.c, and Linux's lib/decompress_unlzo.c
 * (parse_header, unlzo) and lib/decompress_unlz4.c.
 */
#include <limits.h>
#include <string.h>

#include <lz4.h>
#include <lzo/lzo1x.h>

#include "image_internal.h"

/* --- lzop ------------------------------------------------------------- */

static const uint8_t lzop_magic[9] = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};

/* lzop header flags (lzop's conf.h F_*) */
#define F_ADLER32_D	0x00000001u
#define F_ADLER32_C	0x00000002u
#define F_H_EXTRA_FIELD 0x00000040u
#define F_CRC32_D	0x00000100u
#define F_CRC32_C	0x00000200u
#define F_H_FILTER	0x00000800u

/* Xen's LZOP_MAX_BLOCK_SIZE; lzop itself writes 256 KiB blocks. */
#define LZOP_MAX_BLOCK (64u * 1024 * 1024)

/* A cursor over the input that never reads past its end. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool take(struct cursor *c, size_t n, const uint8_t **p)
{
	if (n > c->left)
		return false;
	if (p)
		*p = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

static bool take_be32(struct cursor *c, uint32_t *v)
{
	const uint8_t *p;

	if (!take(c, 4, &p))
		return false;
	*v = pvi_be32(p);
	return true;
}

/*
 * The lzop file header (cf. parse_header): magic, version, library
 * version, version needed (0x0940+), method, level (0x0940+), flags, filter
 * (if F_H_FILTER), mode, mtime (high half from 0x0940), file name, header
 * checksum, and an optional extra field.  Returns the block flags.
 */
static int lzop_header(struct cursor *c, uint32_t *flags, struct pv_error *err)
{
	const uint8_t *p;
	uint16_t version;
	uint32_t extra;

	if (!take(c, sizeof(lzop_magic), &p) || memcmp(p, lzop_magic, sizeof(lzop_magic)))
		return pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x: Unrecognized magic");
	if (!take(c, 2, &p))
		goto short_header;
	version = pvi_be16(p);
	if (!take(c, 2 + (version >= 0x0940 ? 2 : 0) + 1 + (version >= 0x0940 ? 1 : 0), NULL) ||
	    !take_be32(c, flags))
		goto short_header;
	if ((*flags & F_H_FILTER) && !take(c, 4, NULL))
		goto short_header;
	if (!take(c, 8 + (version >= 0x0940 ? 4 : 0), NULL) || !take(c, 1, &p) ||
	    !take(c, (size_t)*p + 4, NULL))
		goto short_header;
	if (*flags & F_H_EXTRA_FIELD) {
		if (!take_be32(c, &extra) || !take(c, extra, NULL) || !take(c, 4, NULL))
			goto short_header;
	}
	return 0;
short_header:
	return pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x: Incomplete header");
}

static const char *lzo_error(int rc)
{
	switch (rc) {
	case LZO_E_INPUT_NOT_CONSUMED:
		return "Unconsumed input";
	case LZO_E_OUTPUT_OVERRUN:
		return "Output overrun";
	case LZO_E_INPUT_OVERRUN:
		return "Input overrun";
	case LZO_E_LOOKBEHIND_OVERRUN:
		return "Look-behind overrun";
	case LZO_E_EOF_NOT_FOUND:
		return "No EOF marker";
	case LZO_E_ERROR:
		return "General error";
	default:
		return "Internal program error (bug)";
	}
}

/*
 * Blocks follow the header: u32 uncompressed length (0 ends the file),
 * u32 compressed length, the checksums the flags ask for (the compressed
 * one only for compressed blocks), then the data.  A block whose lengths
 * are equal is stored, not compressed (lzop does that for incompressible
 * blocks; Linux's unlzo copies it, and so do we).
 */
int pvi_unlzop(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len, struct pv_error *err)
{
	struct pvi_outbuf o;
	struct cursor c;
	uint32_t flags;
	size_t size;

	if (lzo_init() != LZO_E_OK)
		return pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x: Failed to init library");
	if (pvi_claimed_size("LZO1x", in, in_len, 16, &size, err))
		return -1;
	c = (struct cursor){in, in_len - 4};
	if (lzop_header(&c, &flags, err) || pvi_outbuf_init(&o, size, in_len, err))
		return -1;

	for (;;) {
		uint32_t dst_len, src_len;
		const uint8_t *src;
		lzo_uint got;
		int rc;

		if (!take_be32(&c, &dst_len)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x decompression error: Short input");
			goto fail;
		}
		if (dst_len == 0)
			break;
		if (dst_len > LZOP_MAX_BLOCK) {
			pv_fail(err, PV_ERR_DECOMPRESS,
				"LZO1x decompression error: Block size too large (%#x)", dst_len);
			goto fail;
		}
		if (!take_be32(&c, &src_len) ||
		    !take(&c, (flags & (F_ADLER32_D | F_CRC32_D)) ? 4 : 0, NULL)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x decompression error: Short input");
			goto fail;
		}
		if (src_len == 0 || src_len > dst_len) {
			pv_fail(err, PV_ERR_DECOMPRESS,
				"LZO1x decompression error: Bad source length");
			goto fail;
		}
		if (!take(&c, (src_len < dst_len && (flags & (F_ADLER32_C | F_CRC32_C))) ? 4 : 0,
			  NULL) ||
		    !take(&c, src_len, &src)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x decompression error: Short input");
			goto fail;
		}
		if (dst_len > o.limit - o.len) {
			pvi_too_much("LZO1x", &o, err);
			goto fail;
		}
		if (pvi_outbuf_reserve(&o, dst_len, err))
			goto fail;

		if (src_len == dst_len) {
			memcpy(o.buf + o.len, src, src_len);
			o.len += src_len;
			continue;
		}
		got = dst_len;
		rc = lzo1x_decompress_safe(src, src_len, o.buf + o.len, &got, NULL);
		if (rc != LZO_E_OK) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x decompression error: %s",
				lzo_error(rc));
			goto fail;
		}
		if (got != dst_len) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZO1x decompression error: Input underrun");
			goto fail;
		}
		o.len += got;
	}

	if (pvi_check_total("LZO1x", &o, err))
		goto fail;
	*out = o.buf;
	*out_len = o.len;
	return 0;
fail:
	pvi_outbuf_free(&o);
	return -1;
}

/* --- LZ4 legacy frame ----------------------------------------------------- */

#define LZ4_LEGACY_MAGIC 0x184C2102u
/* lz4's legacy format cuts its input into 8 MiB blocks. */
#define LZ4_LEGACY_BLOCK (8u * 1024 * 1024)

/*
 * The legacy frame: the magic, then blocks of (u32 LE compressed length,
 * data) until the input ends; a repeated magic starts another frame.
 */
int pvi_unlz4_legacy(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
		     struct pv_error *err)
{
	struct pvi_outbuf o;
	struct cursor c;
	size_t size;

	if (pvi_claimed_size("LZ4", in, in_len, 9, &size, err))
		return -1;
	c = (struct cursor){in, in_len - 4};
	if (pvi_le32(c.p) != LZ4_LEGACY_MAGIC)
		return pv_fail(err, PV_ERR_DECOMPRESS, "LZ4: invalid header");
	take(&c, 4, NULL);
	if (pvi_outbuf_init(&o, size, in_len, err))
		return -1;

	while (c.left) {
		const uint8_t *p;
		uint32_t chunk;
		size_t room;
		int n;

		if (!take(&c, 4, &p)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZ4: missing data");
			goto fail;
		}
		chunk = pvi_le32(p);
		if (chunk == LZ4_LEGACY_MAGIC)
			continue;
		if (chunk > INT_MAX || !take(&c, chunk, &p)) {
			pv_fail(err, PV_ERR_DECOMPRESS, "LZ4: insufficient input data");
			goto fail;
		}
		if (pvi_outbuf_reserve(&o, LZ4_LEGACY_BLOCK, err))
			goto fail;
		room = o.cap - o.len;
		if (room > INT_MAX)
			room = INT_MAX;
		n = LZ4_decompress_safe((const char *)p, (char *)o.buf + o.len, (int)chunk,
					(int)room);
		if (n < 0) {
			if (o.len + room == o.limit)
				pv_fail(err, PV_ERR_DECOMPRESS,
					"LZ4: decoding failed (corrupt, or more than the %#zx bytes the size field says)",
					o.limit);
			else
				pv_fail(err, PV_ERR_DECOMPRESS, "LZ4: decoding failed");
			goto fail;
		}
		o.len += (size_t)n;
	}

	if (pvi_check_total("LZ4", &o, err))
		goto fail;
	*out = o.buf;
	*out_len = o.len;
	return 0;
fail:
	pvi_outbuf_free(&o);
	return -1;
}
