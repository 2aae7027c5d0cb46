/*
 * The ramdisk pvboot run passes to its kernel: pv_pattern seeded with the
 * length (<pvboot/pvsum.h>; the bytes pvboot simulate boots too), so that
 * the kernel's pvsum64 of what Xen handed it means something, and the same
 * pvsum64 over any file given with --ramdisk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvboot/pvsum.h>

#include "harness_priv.h"

#define CHUNK (1U << 20) /* bytes per read or write, a multiple of 8 */

int run_file_sum(const char *path, uint64_t *sum, uint64_t *bytes, struct pv_error *err)
{
	unsigned char *buf = malloc(CHUNK);
	FILE *f = fopen(path, "rb");
	uint64_t h = PV_SUM64_INIT, total = 0;
	size_t n;
	int rc = 0;

	if (!buf || !f) {
		rc = pv_fail(err, buf ? PV_ERR_IO : PV_ERR_NOMEM, "%s: %s", path,
			     buf ? strerror(errno) : "out of memory");
		goto out;
	}
	/* fread fills the whole chunk until the end: only the last piece is partial. */
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		h = pv_sum64(h, buf, n);
		total += n;
		if (n < CHUNK)
			break;
	}
	if (ferror(f))
		rc = pv_fail(err, PV_ERR_IO, "%s: read error", path);
	*sum = h;
	*bytes = total;
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

/* Write the pattern of @bytes bytes to @f (named @path), summing it on the way. */
static int write_pattern(FILE *f, const char *path, uint64_t bytes, uint64_t *sum,
			 struct pv_error *err)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t h = PV_SUM64_INIT;
	int rc = 0;

	if (!buf)
		return pv_fail(err, PV_ERR_NOMEM, "%s: out of memory", path);
	for (uint64_t off = 0; off < bytes && !rc; off += CHUNK) {
		size_t n = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;

		pv_pattern(bytes, off, buf, n);
		h = pv_sum64(h, buf, n);
		if (fwrite(buf, 1, n, f) != n)
			rc = pv_fail(err, PV_ERR_IO, "%s: %s", path, strerror(errno));
	}
	free(buf);
	*sum = h;
	return rc;
}

int run_ramdisk_make(const char *cache, uint64_t bytes, char *path, size_t size, uint64_t *sum,
		     const struct run_progress *pr, struct pv_error *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32], lock[PATH_MAX + 8];
	struct stat st;
	FILE *f;
	uint64_t len;
	int fd, rc = 0;

	if (snprintf(dir, sizeof(dir), "%s/ramdisks", cache) >= (int)sizeof(dir) ||
	    snprintf(path, size, "%s/splitmix64-%llu.img", dir, (unsigned long long)bytes) >=
		    (int)size ||
	    snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", cache);
	if (!stat(path, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == bytes)
		return run_file_sum(path, sum, &len, err);
	if (pv_mkdirs(dir, err) || (fd = run_lock(lock, pr, err)) < 0)
		return -1;
	/* Made while this run waited for the lock; else whatever a killed run left goes. */
	if (!stat(path, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == bytes) {
		rc = run_file_sum(path, sum, &len, err);
		goto out;
	}
	pv_remove_tmp(path);
	run_note(pr, "writing a %llu-byte pattern ramdisk to %s",
		(unsigned long long)bytes, path);
	if (pv_tmp_name(path, tmp, sizeof(tmp), err)) {
		rc = -1;
		goto out;
	}
	f = fopen(tmp, "wb");
	if (!f)
		rc = pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	else
		rc = pv_tmp_commit(f, tmp, path, write_pattern(f, tmp, bytes, sum, err), err);
out:
	pv_unlock(fd);
	return rc;
}
