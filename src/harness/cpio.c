/*
 * The domU's files for the dom0 (docs/real-xen.md section 9; files and
 * markers: docs/harness.md section 7): Xen hands dom0 one initrd, so the
 * guest's kernel and ramdisk travel in a second newc cpio archive appended
 * to the dom0's own initramfs; Linux unpacks concatenated archives one
 * after the other (init/initramfs.c), and scripts/dom0-init finds them as
 * /guest/kernel.elf and /guest/ramdisk.img.
 *
 * newc (the "new ASCII" format, cf. usr/gen_init_cpio.c) is, per entry:
 *
 *   "070701", then 13 fields of 8 hex digits: ino mode uid gid nlink mtime
 *   filesize devmajor devminor rdevmajor rdevminor namesize check
 *   the name and its NUL, padded to 4 bytes (counting the 110-byte header)
 *   the data, padded to 4 bytes
 *
 * and an entry named TRAILER!!! ends the archive.  Every header must start
 * on a 4-byte boundary of the whole buffer the kernel unpacks, so the dom0
 * archive is followed by zeros up to a 512-byte block first; the kernel
 * skips zeros between archives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvboot/pvsum.h>

#include "harness_priv.h"

#define NEWC_HEADER 110
#define CHUNK	    (1U << 20)

static int put(FILE *out, uint64_t *off, const void *p, size_t n, struct pv_error *err)
{
	if (n && fwrite(p, 1, n, out) != n)
		return pv_fail(err, PV_ERR_IO, "writing the guest archive: %s", strerror(errno));
	*off += n;
	return 0;
}

/* Zeros up to the next multiple of @align. */
static int pad(FILE *out, uint64_t *off, unsigned align, struct pv_error *err)
{
	static const char zero[512];

	return put(out, off, zero, (size_t)((align - *off % align) % align), err);
}

/* One header and name; the caller writes @filesize bytes of data and pads. */
static int header(FILE *out, uint64_t *off, unsigned ino, unsigned mode, unsigned nlink,
		  uint64_t filesize, const char *name, struct pv_error *err)
{
	char h[NEWC_HEADER + 1];
	size_t namesize = strlen(name) + 1;

	if (filesize > 0xffffffffULL)
		return pv_fail(err, PV_ERR_RANGE,
			       "%s: %llu bytes, more than a newc cpio entry holds (4 GiB - 1)",
			       name, (unsigned long long)filesize);
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
		 mode, 0U, 0U, nlink, 0U, (unsigned)filesize, 0U, 0U, 0U, 0U, (unsigned)namesize, 0U);
	if (put(out, off, h, NEWC_HEADER, err) || put(out, off, name, namesize, err))
		return -1;
	return pad(out, off, 4, err);
}

/* Copy @path to @out; its size must still be @bytes. */
static int copy(FILE *out, uint64_t *off, const char *path, uint64_t bytes, struct pv_error *err)
{
	FILE *in = fopen(path, "rb");
	char *buf = malloc(CHUNK);
	uint64_t done = 0;
	size_t n;
	int rc = 0;

	if (!in || !buf) {
		rc = pv_fail(err, buf ? PV_ERR_IO : PV_ERR_NOMEM, "%s: %s", path,
			     buf ? strerror(errno) : "out of memory");
		goto out;
	}
	while (!rc && (n = fread(buf, 1, CHUNK, in)) > 0) {
		done += n;
		rc = put(out, off, buf, n, err);
	}
	if (!rc && (ferror(in) || done != bytes))
		rc = pv_fail(err, PV_ERR_IO, "%s: %s", path,
			     ferror(in) ? "read error" : "the file changed while it was copied");
out:
	if (in)
		fclose(in);
	free(buf);
	return rc;
}

int run_cpio_write(FILE *out, uint64_t *off, const struct run_cpio_entry *e, unsigned n,
		   struct pv_error *err)
{
	if (*off % 4)
		return pv_fail(err, PV_ERR_RANGE, "a newc archive must start 4-byte aligned");
	for (unsigned i = 0; i < n; i++) {
		struct stat st;

		if (stat(e[i].path, &st))
			return pv_fail(err, PV_ERR_IO, "%s: %s", e[i].path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return pv_fail(err, PV_ERR_IO, "%s: not a regular file", e[i].path);
		if (header(out, off, i + 1, 0100644, 1, (uint64_t)st.st_size, e[i].name, err) ||
		    copy(out, off, e[i].path, (uint64_t)st.st_size, err) || pad(out, off, 4, err))
			return -1;
	}
	return header(out, off, 0, 0, 1, 0, "TRAILER!!!", err);
}

/* ---- the module file: the dom0's initramfs, then the guest's archive ---- */

/* "path size mtime" of a file, for the stamp; -1 with @err if it is not a regular file. */
static int describe(const char *what, const char *path, char *buf, size_t size, struct pv_error *err)
{
	struct stat st;

	if (stat(path, &st))
		return pv_fail(err, PV_ERR_IO, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s %s: not a regular file", what, path);
	snprintf(buf, size, "%s %s %lld %lld.%09ld\n", what, path, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return 0;
}

/*
 * What the module file is made of: each input's path, size and mtime, and
 * the kernel's pvsum64 too (it is small, and a rebuilt kernel may keep its
 * size).
 */
static int want_stamp(const char *dom0_initrd, const char *kernel, const char *ramdisk, char *stamp,
		      size_t size, struct pv_error *err)
{
	char a[PATH_MAX + 80], b[PATH_MAX + 80], c[PATH_MAX + 80] = "ramdisk none\n";
	uint64_t sum, bytes;

	if (describe("dom0-initrd", dom0_initrd, a, sizeof(a), err) ||
	    describe("kernel", kernel, b, sizeof(b), err) ||
	    (ramdisk && describe("ramdisk", ramdisk, c, sizeof(c), err)) ||
	    run_file_sum(kernel, &sum, &bytes, err))
		return -1;
	snprintf(stamp, size, "pvboot-domu-modules 1\n%s%s%skernel-pvsum64 0x%016llx\n", a, b, c,
		 (unsigned long long)sum);
	return 0;
}

static bool stamp_matches(const char *path, const char *want)
{
	char have[4 * PATH_MAX];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(have, 1, sizeof(have) - 1, f);
	fclose(f);
	have[n] = '\0';
	return !strcmp(have, want);
}

/*
 * The file's name: the kernel's and the ramdisk's base names, for people,
 * and the pvsum64 of what it is made of (@want), so that a name, once made,
 * never holds anything else: a run booting it cannot see it rewritten by
 * another run with other inputs of the same names.
 */
static int module_path(const char *cache, const char *kernel, const char *ramdisk,
		       const char *want, char *path, size_t size, struct pv_error *err)
{
	const char *k = strrchr(kernel, '/'), *r = ramdisk ? strrchr(ramdisk, '/') : NULL;
	uint64_t id = pv_sum64(PV_SUM64_INIT, want, strlen(want));

	k = k ? k + 1 : kernel;
	r = ramdisk ? (r ? r + 1 : ramdisk) : "none";
	if (snprintf(path, size, "%s/domu/modules-%s-%s-%016llx.cpio", cache, k, r,
		     (unsigned long long)id) >= (int)size)
		return pv_fail(err, PV_ERR_IO, "%s: path too long", cache);
	return 0;
}

static int make_modules(const char *path, const char *dom0_initrd, const struct run_cpio_entry *e,
			unsigned n, struct pv_error *err)
{
	char tmp[PATH_MAX + 32];
	struct stat st;
	uint64_t off = 0;
	FILE *out;
	int rc;

	if (stat(dom0_initrd, &st))
		return pv_fail(err, PV_ERR_IO, "%s: %s", dom0_initrd, strerror(errno));
	if (pv_tmp_name(path, tmp, sizeof(tmp), err))
		return -1;
	out = fopen(tmp, "wb");
	if (!out)
		return pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	rc = copy(out, &off, dom0_initrd, (uint64_t)st.st_size, err) || pad(out, &off, 512, err) ||
	     run_cpio_write(out, &off, e, n, err) || pad(out, &off, 512, err);
	return pv_tmp_commit(out, tmp, path, rc ? -1 : 0, err);
}

int run_domu_modules(const char *cache, const char *dom0_initrd, const char *kernel,
		     const char *ramdisk, char *path, size_t size, bool *reused,
		     const struct run_progress *pr, struct pv_error *err)
{
	const struct run_cpio_entry e[2] = {{RUN_GUEST_KERNEL, kernel}, {RUN_GUEST_RAMDISK, ramdisk}};
	char want[4 * PATH_MAX], stamp[PATH_MAX + 8], dir[PATH_MAX + 8], lock[PATH_MAX + 8];
	int fd, rc = 0;

	*reused = false;
	if (want_stamp(dom0_initrd, kernel, ramdisk, want, sizeof(want), err) ||
	    module_path(cache, kernel, ramdisk, want, path, size, err))
		return -1;
	snprintf(stamp, sizeof(stamp), "%s.stamp", path);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	if (!access(path, R_OK) && stamp_matches(stamp, want)) {
		*reused = true;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/domu", cache);
	if (pv_mkdirs(dir, err) || (fd = run_lock(lock, pr, err)) < 0)
		return -1;
	if (!access(path, R_OK) && stamp_matches(stamp, want)) {
		*reused = true; /* made while this run waited */
		goto out;
	}
	/* What a killed run left; the stamp, last, says the file is whole. */
	pv_remove_tmp(path);
	pv_remove_tmp(stamp);
	if (make_modules(path, dom0_initrd, e, ramdisk ? 2 : 1, err) ||
	    pv_write_atomic(stamp, want, err))
		rc = -1;
out:
	pv_unlock(fd);
	return rc;
}
