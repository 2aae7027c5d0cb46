/*
 * How long a domain builder thinks a ramdisk is (see pv_ramdisk_length in
 * <pvboot/image.h>).  Only the file's size, its first two bytes and its
 * last four are read.
 *
 * Cf. xc_dom_check_gzip (xg_dom_core.c), used by libxc 4.2's
 * xc_dom_ramdisk_load and by xc_dom_build_module up to 4.19; 4.20's loads
 * the file as it is ("tools/libxg: Don't gunzip the guests initrd").
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0; /* the file ended early */
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Cf. xc_dom_check_gzip: *@unzip is 0 if the file is not gzip (shorter
 * than 6 bytes, no 1f 8b magic) or its ISIZE is above XC_DOM_DECOMPRESS_MAX
 * ("looks insane, skip gunzip"), otherwise ISIZE + 16.  -1 on a read error.
 */
static int check_gzip(int fd, uint64_t size, uint64_t *unzip)
{
	uint8_t magic[2], isize[4];
	uint32_t unziplen;

	*unzip = 0;
	if (size < 6)
		return 0;
	if (read_at(fd, magic, 2, 0))
		return -1;
	if (magic[0] != 0x1f || magic[1] != 0x8b)
		return 0;
	if (read_at(fd, isize, 4, (off_t)(size - 4)))
		return -1;
	unziplen = pvi_le32(isize);
	if (unziplen <= PVI_MAX_KERNEL_SIZE)
		*unzip = (uint64_t)unziplen + 16;
	return 0;
}

enum pv_ramdisk_rule pv_ramdisk_rule_of(enum pv_builder b)
{
	const struct pv_builder_info *info = pv_builder_info(b);

	if (!info || info->dom0)
		return PV_RAMDISK_RAW; /* the hypervisor takes the file as it is */
	if (info->legacy)
		return PV_RAMDISK_LIBXC_42;
	return info->gunzip_initrd ? PV_RAMDISK_LIBXC_417 : PV_RAMDISK_LIBXC_420;
}

int pv_ramdisk_length(const char *path, enum pv_ramdisk_rule rule, uint64_t *len, struct pv_error *err)
{
	struct stat st;
	uint64_t size, unzip;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_fail(err, PV_ERR_IO, "ramdisk %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		pv_fail(err, PV_ERR_IO, "ramdisk %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return pv_fail(err, PV_ERR_IO, "ramdisk %s: not a regular file", path);
	}
	size = (uint64_t)st.st_size;
	if (size == 0) {
		close(fd);
		return pv_fail(err, PV_ERR_FORMAT, "ramdisk %s: empty file", path);
	}
	rc = check_gzip(fd, size, &unzip);
	if (rc)
		pv_fail(err, PV_ERR_IO, "ramdisk %s: %s", path,
			errno ? strerror(errno) : "file shrank while reading");
	close(fd);
	if (rc)
		return -1;

	/* libxc maps at most XC_DOM_DECOMPRESS_MAX (1 GiB) of module (xc_dom_malloc_filemap). */
	if (rule != PV_RAMDISK_RAW && size > PVI_MAX_KERNEL_SIZE)
		return pv_fail(err, PV_ERR_SEGMENT_TOO_LARGE,
			       "ramdisk %s: tried to map file which is too large (%llu bytes, libxc takes at most 1 GiB)",
			       path, (unsigned long long)size);
	switch (rule) {
	case PV_RAMDISK_LIBXC_42:
		/* xc_dom_ramdisk_load: the unzipped length if xc_dom_ramdisk_check_size takes it. */
		*len = unzip && unzip <= PVI_MAX_KERNEL_SIZE ? unzip : size;
		return 0;
	case PV_RAMDISK_LIBXC_417: {
		/* xc_dom_build_module: max(unziplen, size), within max_module_size. */
		uint64_t modulelen = unzip > size ? unzip : size;

		if (unzip && modulelen > PVI_MAX_KERNEL_SIZE)
			modulelen = unzip < size ? unzip : size;
		*len = modulelen;
		return 0;
	}
	case PV_RAMDISK_LIBXC_420:
	case PV_RAMDISK_RAW:
		*len = size;
		return 0;
	}
	return pv_fail(err, PV_ERR_USAGE, "unknown ramdisk rule %d", (int)rule);
}
