/*
 * The x86 boot protocol's setup header, as far as a Xen domain builder reads
 * it: a bzImage of protocol 2.08 or later carries its compressed vmlinux as
 * a "payload" (Documentation/arch/x86/boot.rst).
 *
 * Cf. xc_dom_probe_bzimage_kernel in tools/libs/guest/xg_dom_bzimageloader.c.
 * The fields are read byte by byte at their fixed offsets, so a short or
 * misaligned buffer is never dereferenced as a struct.
 */
#include <string.h>

#include "image_internal.h"

/* Offsets in struct setup_header, counted from the start of the file. */
#define HDR_SETUP_SECTS	   0x1f1 /* u8: 512-byte setup sectors after the boot sector */
#define HDR_MAGIC	   0x202 /* "HdrS" */
#define HDR_VERSION	   0x206 /* u16: boot protocol version */
#define HDR_PAYLOAD_OFFSET 0x248 /* u32: from the protected-mode code */
#define HDR_PAYLOAD_LENGTH 0x24c /* u32 */
#define HDR_END		   0x250 /* sizeof(struct setup_header) in Xen's loader */

#define PROTOCOL_2_08 0x0208 /* the first with payload_offset/length */

bool pvi_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= HDR_MAGIC + 4 && !memcmp(buf + HDR_MAGIC, "HdrS", 4);
}

/*
 * Find the payload of the bzImage @buf: fills img->bzimage_version,
 * payload_offset and payload_length, all checked against @len.
 */
int pvi_bzimage_payload(const uint8_t *buf, size_t len, struct pv_image *img, struct pv_error *err)
{
	uint64_t offset, length;

	if (len < HDR_END)
		return pv_fail(err, PV_ERR_FORMAT,
			       "bzImage too small (%#zx bytes) for a boot protocol 2.08 setup header",
			       len);

	img->bzimage_version = pvi_le16(buf + HDR_VERSION);
	if (img->bzimage_version < PROTOCOL_2_08)
		return pv_fail(err, PV_ERR_FORMAT,
			       "bzImage boot protocol too old (%04x): no payload before 2.08",
			       img->bzimage_version);

	/* setup_sects is a u8, the rest u32: no 64-bit overflow possible. */
	offset = ((uint64_t)buf[HDR_SETUP_SECTS] + 1) * 512 + pvi_le32(buf + HDR_PAYLOAD_OFFSET);
	length = pvi_le32(buf + HDR_PAYLOAD_LENGTH);
	img->payload_offset = offset;
	img->payload_length = length;

	if (offset >= len)
		return pv_fail(err, PV_ERR_FORMAT,
			       "bzImage payload offset %#lx is past the end of the file (%#zx bytes)",
			       (unsigned long)offset, len);
	if (length > len - offset)
		return pv_fail(err, PV_ERR_FORMAT,
			       "bzImage payload (offset %#lx, length %#lx) runs past the end of the file (%#zx bytes)",
			       (unsigned long)offset, (unsigned long)length, len);
	return 0;
}
