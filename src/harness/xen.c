/*
 * pvboot run's host plumbing: the cache directory, helper processes, and
 * the hypervisor itself, Debian's xen-hypervisor-4.17-amd64
 * (docs/real-xen.md sections 2 and 8):
 *
 *   apt-get download xen-hypervisor-4.17-amd64
 *   dpkg -x xen-hypervisor-4.17-amd64_*.deb root
 *   zcat root/boot/xen-4.17-amd64.gz > xen-4.17
 *
 * in <cache>/xen-hypervisor/work, once, under the directory's lock; the
 * gunzipped file, renamed into <cache>/xen-hypervisor/xen-4.17, is Xen's
 * multiboot image, which QEMU's -kernel boots directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "harness_priv.h"

#define XEN_PKG	  "xen-hypervisor-4.17-amd64"
#define XEN_GZ	  "root/boot/xen-4.17-amd64.gz"
#define XEN_FILE  "xen-4.17"
#define XEN_STAMP ".pvboot-xen-4.17-done"
int run_cache_dir(char *buf, size_t size, struct pv_error *err)
{
	const char *env = getenv("PVBOOT_CACHE");

	if (env && *env) {
		if (snprintf(buf, size, "%s", env) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "PVBOOT_CACHE: path too long");
	} else {
		char dir[PATH_MAX];

		if (pv_exe_dir(dir, sizeof(dir), err))
			return -1;
		if (snprintf(buf, size, "%s/cache", dir) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "%s/cache: path too long", dir);
	}
	return pv_mkdirs(buf, err);
}
/* The .deb apt-get left in @dir, if any. */
static bool find_deb(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (!strncmp(e->d_name, XEN_PKG "_", strlen(XEN_PKG) + 1) && n > 4 &&
		    !strcmp(e->d_name + n - 4, ".deb")) {
			snprintf(name, size, "%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * apt-get download, and when that fails, apt-get update (as root, or
 * through sudo -n) and once more: the package lists may be stale or
 * missing, as scripts/fetch-debian does it.
 */
static int download(const char *dir, const struct run_progress *pr, struct pv_error *err)
{
	char *get[] = {"apt-get", "download", "-q", XEN_PKG, NULL};
	char *update[] = {"apt-get", "update", "-q", NULL};
	char *sudo_update[] = {"sudo", "-n", "apt-get", "update", "-q", NULL};
	bool root = geteuid() == 0;
	int rc;

	if (!pv_on_path("apt-get"))
		return pv_fail(err, PV_ERR_IO,
			       "apt-get not found: the hypervisor comes from Debian's " XEN_PKG
			       " (or give --xen FILE)");
	run_note(pr, "fetching Xen: apt-get download " XEN_PKG " in %s", dir);
	rc = pv_command(get, dir, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (!root && !pv_on_path("sudo"))
		return pv_fail(err, PV_ERR_IO,
			       "apt-get download " XEN_PKG
			       " failed: the package lists may be stale; run 'apt-get update' as root and try again");
	run_note(pr, "apt-get download failed; running apt-get update");
	rc = pv_command(root ? update : sudo_update, NULL, err);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return pv_fail(err, PV_ERR_IO,
			       "apt-get download " XEN_PKG
			       " failed and apt-get update failed (status %d): run 'apt-get update' as root and try again",
			       rc);
	rc = pv_command(get, dir, err);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return pv_fail(err, PV_ERR_IO,
			       "apt-get download " XEN_PKG
			       " failed even after apt-get update (status %d)",
			       rc);
	return 0;
}

/* gunzip @gz to @out through a temporary file, renamed when complete. */
static int gunzip(const char *gz, const char *out, struct pv_error *err)
{
	char tmp[PATH_MAX + 32], buf[1 << 16];
	gzFile in;
	FILE *f;
	int n, rc = 0;

	errno = 0;
	in = gzopen(gz, "rb");
	if (!in)
		return pv_fail(err, PV_ERR_IO, "%s: %s", gz, errno ? strerror(errno) : "cannot open");
	if (pv_tmp_name(out, tmp, sizeof(tmp), err)) {
		gzclose(in);
		return -1;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		gzclose(in);
		return pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	}
	while ((n = gzread(in, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
			rc = pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
			break;
		}
	if (!rc && n < 0) {
		int zerr;

		rc = pv_fail(err, PV_ERR_IO, "%s: %s", gz, gzerror(in, &zerr));
	}
	gzclose(in);
	return pv_tmp_commit(f, tmp, out, rc, err);
}
/* rm -rf @dir: what a killed run left half made. */
static int remove_tree(const char *dir, struct pv_error *err)
{
	char *rm[] = {"rm", "-rf", (char *)dir, NULL};
	int rc = pv_command(rm, NULL, err);

	if (rc > 0)
		return pv_fail(err, PV_ERR_IO, "rm -rf %s failed (status %d)", dir, rc);
	return rc;
}

/*
 * Download, unpack and gunzip in <dir>/work, which no later run trusts:
 * only the renamed xen-4.17 and then the stamp say it is done.
 */
static int make_xen(const char *dir, const char *path, const char *stamp,
		    const struct run_progress *pr, struct pv_error *err)
{
	char work[PATH_MAX + 8], deb[256], gz[PATH_MAX + 300], root[PATH_MAX + 300];
	char *unpack[] = {"dpkg", "-x", deb, "root", NULL};
	int rc;

	/* What a killed run left: its work directory, a half-gunzipped file, a stamp's temporary. */
	snprintf(work, sizeof(work), "%s/work", dir);
	pv_remove_tmp(path);
	pv_remove_tmp(stamp);
	if (remove_tree(work, err) || pv_mkdirs(work, err))
		return -1;
	if (download(work, pr, err))
		return -1;
	if (!find_deb(work, deb, sizeof(deb)))
		return pv_fail(err, PV_ERR_IO, "apt-get download left no " XEN_PKG "_*.deb in %s",
			       work);
	if (!pv_on_path("dpkg"))
		return pv_fail(err, PV_ERR_IO, "dpkg not found: cannot unpack %s", deb);
	snprintf(root, sizeof(root), "%s/root", work);
	if (pv_mkdirs(root, err))
		return -1;
	rc = pv_command(unpack, work, err);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return pv_fail(err, PV_ERR_IO, "dpkg -x %s failed (status %d)", deb, rc);
	snprintf(gz, sizeof(gz), "%s/" XEN_GZ, work);
	if (!pv_is_file(gz))
		return pv_fail(err, PV_ERR_IO, "%s has no boot/xen-4.17-amd64.gz", deb);
	if (gunzip(gz, path, err))
		return -1;
	/* The .deb stays beside it: scripts/build-dom0 takes the Xen version the stamp names. */
	snprintf(gz, sizeof(gz), "%s/%s", work, deb);
	snprintf(root, sizeof(root), "%s/%s", dir, deb);
	if (rename(gz, root))
		return pv_fail(err, PV_ERR_IO, "rename %s: %s", gz, strerror(errno));
	snprintf(gz, sizeof(gz), "%s\n", deb);
	if (pv_write_atomic(stamp, gz, err))
		return -1;
	run_note(pr, "Xen 4.17 from %s is %s", deb, path);
	/* Xen is whole and stamped: a work directory left behind is only litter, removed next time. */
	if (remove_tree(work, err))
		run_note(pr, "%s (left for the next fetch to remove)", err->msg);
	return 0;
}

int run_fetch_xen(const char *cache, char *path, size_t size, const struct run_progress *pr,
		  struct pv_error *err)
{
	char dir[PATH_MAX], stamp[PATH_MAX + 32], lock[PATH_MAX + 8];
	int fd, rc;

	if (snprintf(dir, sizeof(dir), "%s/xen-hypervisor", cache) >= (int)sizeof(dir))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", cache);
	if (snprintf(path, size, "%s/" XEN_FILE, dir) >= (int)size)
		return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	snprintf(stamp, sizeof(stamp), "%s/" XEN_STAMP, dir);
	if (pv_is_file(stamp) && pv_is_file(path))
		return 0;
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	if (pv_mkdirs(dir, err) || (fd = run_lock(lock, pr, err)) < 0)
		return -1;
	/* Another run may have made it while this one waited. */
	rc = pv_is_file(stamp) && pv_is_file(path) ? 0 : make_xen(dir, path, stamp, pr, err);
	pv_unlock(fd);
	return rc;
}
