/*
 * Private interfaces of src/image (host only).  Everything here is named
 * pvi_ so it cannot collide with the public pv_ API in <pvboot/image.h>.
 *
 *   image.c       public entry points: read a file or buffer, unwrap a
 *                 bzImage, hand the ELF to elf.c
 *   bzimage.c     the Linux boot-protocol setup header
 *   decompress.c  gzip, bzip2, xz, lzma, zstd through their libraries
 *   blocks.c      the lzop and LZ4-legacy containers (block framing parsed
 *                 here, each block decompressed by liblzo2 / liblz4)
 *   elf.c         ELF access through elfutils' libelf/gelf, note scanning
 *   dominfo.c     libelf-dominfo.c's rules: notes, features, __xen_guest,
 *                 elf_xen_note_check and elf_xen_addr_calc_check
 *   ramdisk.c     pv_ramdisk_length
 */
#ifndef PVBOOT_IMAGE_INTERNAL_H
#define PVBOOT_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/image.h>

/*
 * libxc's max_kernel_size default (XC_DOM_DECOMPRESS_MAX): no kernel image
 * or decompressed payload may be larger.
 */
#define PVI_MAX_KERNEL_SIZE (1024u * 1024 * 1024)

/*
 * Deflate cannot expand more than 1032:1, and no real kernel compresses
 * better than that in any format.  A size field claiming more than
 * PVI_MAX_RATIO times the compressed bytes (plus PVI_RATIO_SLACK for tiny
 * payloads) is a lie, and refusing it up front keeps a crafted payload from
 * making us inflate a "decompression bomb" to 1 GiB.
 */
#define PVI_MAX_RATIO	1032u
#define PVI_RATIO_SLACK (64u * 1024)

static inline uint32_t pvi_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t pvi_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pvi_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint16_t pvi_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * A growing output buffer for the decompressors.  It never grows past
 * @limit (the size the payload claims), and starts small so that a lying
 * size field costs nothing until data actually arrives.
 */
struct pvi_outbuf {
	uint8_t *buf;
	size_t len;   /* bytes produced */
	size_t cap;   /* bytes allocated */
	size_t limit; /* never allocate or produce more */
};

int pvi_outbuf_init(struct pvi_outbuf *o, size_t limit, size_t in_len, struct pv_error *err);
/* Make room for @want more bytes (fewer if @limit is closer); -1 on ENOMEM. */
int pvi_outbuf_reserve(struct pvi_outbuf *o, size_t want, struct pv_error *err);
void pvi_outbuf_free(struct pvi_outbuf *o);
/* The size field's promise: exactly o->limit bytes (check_total), never more (too_much). */
int pvi_check_total(const char *what, const struct pvi_outbuf *o, struct pv_error *err);
int pvi_too_much(const char *what, const struct pvi_outbuf *o, struct pv_error *err);

/*
 * The size a payload says it decompresses to: the little-endian u32 in its
 * last 4 bytes (Linux's size_append; gzip's ISIZE is in the same place).
 * Fails if the payload is shorter than @min_len, or the size is above 1 GiB
 * or implausible for the payload's length.
 */
int pvi_claimed_size(const char *what, const uint8_t *in, size_t in_len, size_t min_len,
		     size_t *size, struct pv_error *err);

/* decompress.c */
enum pv_compression pvi_compression_of(const uint8_t *buf, size_t len);
int pvi_decompress(enum pv_compression comp, const uint8_t *in, size_t in_len, uint8_t **out,
		   size_t *out_len, struct pv_error *err);

/* blocks.c */
int pvi_unlzop(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
	       struct pv_error *err);
int pvi_unlz4_legacy(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
		     struct pv_error *err);

/* bzimage.c */
bool pvi_is_bzimage(const uint8_t *buf, size_t len);
int pvi_bzimage_payload(const uint8_t *buf, size_t len, struct pv_image *img, struct pv_error *err);

/* elf.c: parse @elf (a private, writable copy of @len bytes) into @img. */
bool pvi_is_elf(const uint8_t *buf, size_t len);
int pvi_elf_parse(uint8_t *elf, size_t len, struct pv_image *img, struct pv_error *err);
int pvi_elf_load(uint8_t *elf, size_t len, const struct pv_image *img, uint8_t **out,
		 uint64_t *out_len, struct pv_error *err);

/* dominfo.c: the parts of libelf-dominfo.c that need no ELF access. */
void pvi_parms_init(struct pv_dom_parms *parms);
int pvi_xen_note(struct pv_image *img, uint32_t type, const uint8_t *desc, uint32_t descsz,
		 bool msb, struct pv_error *err);
void pvi_xen_guest_info(struct pv_image *img, const uint8_t *s, size_t len);
int pvi_xen_note_check(struct pv_image *img, bool have_notes, bool have_guest_info,
		       struct pv_error *err);
int pvi_xen_addr_calc_check(struct pv_image *img, bool have_notes, uint64_t bsd_symtab_pend,
			    struct pv_error *err);

#endif
