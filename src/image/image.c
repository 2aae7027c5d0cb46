/*
 * Reading a kernel image the way a Xen domain builder does: a plain ELF, a
 * gzip-compressed ELF (xc_dom_kernel_file gunzips whole files), or a
 * bzImage whose payload decompresses to an ELF (xg_dom_bzimageloader.c).
 * The ELF is then parsed as elf_xen_parse() would (elf.c, dominfo.c).
 *
 * Every function here fills a struct pv_error and returns -1 on failure;
 * messages are one line, with any control characters from the image
 * replaced, and name the file when there is one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"

const char *pv_compression_name(enum pv_compression c)
{
	static const char *const names[] = {
		[PV_COMP_NONE] = "none", [PV_COMP_GZIP] = "gzip", [PV_COMP_BZIP2] = "bzip2",
		[PV_COMP_XZ] = "xz",	 [PV_COMP_LZMA] = "lzma", [PV_COMP_LZO] = "lzo",
		[PV_COMP_LZ4] = "lz4",	 [PV_COMP_ZSTD] = "zstd",
	};

	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[c];
}

/* Strings from the image end up in messages: keep them on one line. */
static void sanitize(struct pv_error *err)
{
	if (!err)
		return;
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/*
 * Find the ELF in @buf: fills the format, compression and bzImage fields
 * of @img and returns a malloc()ed copy of the (decompressed) ELF.
 */
static int unwrap(const uint8_t *buf, size_t len, struct pv_image *img, uint8_t **elf,
		  size_t *elf_len, struct pv_error *err)
{
	const uint8_t *payload;
	size_t payload_len;

	img->file_size = len;
	if (len == 0)
		return pv_fail(err, PV_ERR_FORMAT, "empty kernel image");
	if (len > PVI_MAX_KERNEL_SIZE)
		return pv_fail(err, PV_ERR_FORMAT,
			       "kernel image too large (%#zx bytes, the limit is %#x)", len,
			       PVI_MAX_KERNEL_SIZE);

	if (pvi_is_elf(buf, len)) {
		img->format = PV_IMAGE_ELF;
		img->compression = PV_COMP_NONE;
		*elf = malloc(len);
		if (!*elf)
			return pv_fail(err, PV_ERR_NOMEM, "cannot allocate %#zx bytes", len);
		memcpy(*elf, buf, len);
		*elf_len = len;
		return 0;
	}

	if (pvi_compression_of(buf, len) == PV_COMP_GZIP) {
		/* Cf. xc_dom_kernel_file -> xc_dom_try_gunzip: a gzipped vmlinux. */
		img->format = PV_IMAGE_ELF;
		payload = buf;
		payload_len = len;
	} else if (pvi_is_bzimage(buf, len)) {
		img->format = PV_IMAGE_BZIMAGE;
		if (pvi_bzimage_payload(buf, len, img, err))
			return -1;
		payload = buf + img->payload_offset;
		payload_len = img->payload_length;
	} else {
		return pv_fail(err, PV_ERR_FORMAT,
			       "not a kernel image: no ELF magic, no gzip magic, no bzImage 'HdrS' at 0x202");
	}

	img->compression = pvi_compression_of(payload, payload_len);
	if (img->compression == PV_COMP_NONE)
		return pv_fail(err, PV_ERR_FORMAT, "bzImage payload: unknown compression format");
	if (pvi_decompress(img->compression, payload, payload_len, elf, elf_len, err))
		return -1;
	if (!pvi_is_elf(*elf, *elf_len)) {
		free(*elf);
		*elf = NULL;
		return pv_fail(err, PV_ERR_FORMAT, "%s payload does not decompress to an ELF image",
			       pv_compression_name(img->compression));
	}
	return 0;
}

int pv_image_read_mem(const void *buf, size_t len, struct pv_image *img, struct pv_error *err)
{
	uint8_t *elf;
	size_t elf_len;
	int rc;

	memset(img, 0, sizeof(*img));
	if (unwrap(buf, len, img, &elf, &elf_len, err)) {
		sanitize(err);
		return -1;
	}
	rc = pvi_elf_parse(elf, elf_len, img, err);
	free(elf);
	if (rc)
		sanitize(err);
	return rc;
}

int pv_image_extract_elf(const void *buf, size_t len, void **elf, size_t *elf_len,
			 struct pv_error *err)
{
	struct pv_image *img = calloc(1, sizeof(*img));
	uint8_t *out;
	int rc;

	if (!img)
		return pv_fail(err, PV_ERR_NOMEM, "cannot allocate an image descriptor");
	rc = unwrap(buf, len, img, &out, elf_len, err);
	free(img);
	if (rc) {
		sanitize(err);
		return -1;
	}
	*elf = out;
	return 0;
}

/*
 * Read all of @path (at most the 1 GiB max_kernel_size, as
 * xc_dom_malloc_filemap) into a malloc()ed buffer.
 */
static int read_whole(const char *path, uint8_t **buf, size_t *len, struct pv_error *err)
{
	struct stat st;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail(err, PV_ERR_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		pv_fail(err, PV_ERR_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		pv_fail(err, PV_ERR_IO, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0) {
		pv_fail(err, PV_ERR_FORMAT, "%s: empty file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > PVI_MAX_KERNEL_SIZE) {
		pv_fail(err, PV_ERR_FORMAT, "%s: file too large (%#lx bytes, the limit is %#x)",
			path, (unsigned long)st.st_size, PVI_MAX_KERNEL_SIZE);
		goto fail;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		pv_fail(err, PV_ERR_NOMEM, "%s: cannot allocate %#zx bytes", path, *len);
		goto fail;
	}
	while (done < *len) {
		ssize_t n = read(fd, *buf + done, *len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pv_fail(err, PV_ERR_IO, "%s: %s", path,
				n < 0 ? strerror(errno) : "file shrank while reading");
			free(*buf);
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Name the file in front of the image reader's message. */
static void name_file(const char *path, struct pv_error *err)
{
	char msg[PV_ERRMSG_MAX];

	if (!err)
		return;
	memcpy(msg, err->msg, sizeof(msg));
	pv_fail(err, err->code, "%s: %s", path, msg);
	sanitize(err);
}

int pv_image_read_file(const char *path, struct pv_image *img, struct pv_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(img, 0, sizeof(*img));
	if (read_whole(path, &buf, &len, err)) {
		sanitize(err);
		return -1;
	}
	rc = pv_image_read_mem(buf, len, img, err);
	free(buf);
	if (rc)
		name_file(path, err);
	return rc;
}

int pv_image_load_file(const char *path, const struct pv_image *img, uint8_t **kernel,
		       uint64_t *len, struct pv_error *err)
{
	uint8_t *buf = NULL;
	void *elf = NULL;
	size_t buf_len = 0, elf_len = 0;
	int rc = -1;

	if (read_whole(path, &buf, &buf_len, err)) {
		sanitize(err); /* read_whole's messages name the file already */
		return -1;
	}
	if (pv_image_extract_elf(buf, buf_len, &elf, &elf_len, err) == 0)
		rc = pvi_elf_load(elf, elf_len, img, kernel, len, err);
	free(buf);
	free(elf);
	if (rc)
		name_file(path, err);
	return rc;
}
