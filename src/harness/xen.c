/*
 * pvboot run's host plumbing: the cache directory, helper processes, and
 * the hypervisor itself, Debian's xen-hypervisor-<release>-amd64 of the
 * release's suite (docs/real-xen.md sections 2 and 8):
 *
 *   scripts/fetch-deb bookworm xen-hypervisor-4.17-amd64
 *   dpkg -x xen-hypervisor-4.17-amd64_*.deb root
 *   zcat root/boot/xen-4.17-amd64.gz > xen-4.17
 *
 * in <cache>/xen-hypervisor/work, once per release, under the directory's
 * lock; the gunzipped file, renamed into <cache>/xen-hypervisor/xen-4.17,
 * is Xen's multiboot image, which QEMU's -kernel boots directly.
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

/* Debian's suites of the releases pvboot boots (docs/real-xen.md section 2). */
static const struct {
	const char *release, *suite;
} suites[] = {
	{"4.14", "bullseye"},
	{"4.17", "bookworm"},
	{"4.20", "trixie"},
};

const char *run_xen_suite(const char *release)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (!strcmp(release, suites[i].release))
			return suites[i].suite;
	return NULL;
}
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
/*
 * scripts/fetch-deb SUITE PKG: the .deb, from the host's Debian mirror (or
 * the cache, where an earlier fetch left it), into @deb.
 */
static int download(const char *cache, const char *suite, const char *pkg, char *deb,
		    size_t size, const struct run_progress *pr, struct pv_error *err)
{
	const char *args[] = {suite, pkg, NULL};
	char out[2 * PATH_MAX], want[128], script[PATH_MAX];
	const char *line;
	size_t n;

	run_note(pr, "fetching Xen: scripts/fetch-deb %s %s", suite, pkg);
	if (run_script("fetch-deb", args, cache, out, sizeof(out), script, err))
		return -1;
	snprintf(want, sizeof(want), "%s=", pkg);
	line = strstr(out, want);
	if (!line || (line != out && line[-1] != '\n'))
		return pv_fail(err, PV_ERR_FORMAT, "%s printed no %s= line", script, pkg);
	line += strlen(want);
	n = strcspn(line, "\n");
	memmove(out, line, n); /* the path, alone, at the start of @out */
	out[n] = '\0';
	/* Absolute: dpkg runs in the work directory. */
	if (size < PATH_MAX || !realpath(out, deb))
		return pv_fail(err, PV_ERR_IO, "%s: %s", out, strerror(errno));
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
 * only the renamed xen-<release> and then the stamp say it is done.
 */
static int make_xen(const char *cache, const char *release, const char *dir, const char *path,
		    const char *stamp, const struct run_progress *pr, struct pv_error *err)
{
	char work[PATH_MAX + 8], deb[PATH_MAX], gz[PATH_MAX + 300], root[PATH_MAX + 300];
	char pkg[64], base[256];
	char *unpack[] = {"dpkg", "-x", deb, "root", NULL};
	const char *suite = run_xen_suite(release);
	int rc;

	if (!suite)
		return pv_fail(err, PV_ERR_USAGE, "pvboot boots Xen 4.14, 4.17 and 4.20, not %s",
			       release);
	snprintf(pkg, sizeof(pkg), "xen-hypervisor-%s-amd64", release);
	/* What a killed run left: its work directory, a half-gunzipped file, a stamp's temporary. */
	snprintf(work, sizeof(work), "%s/work", dir);
	pv_remove_tmp(path);
	pv_remove_tmp(stamp);
	if (remove_tree(work, err) || pv_mkdirs(work, err))
		return -1;
	if (download(cache, suite, pkg, deb, sizeof(deb), pr, err))
		return -1;
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
	snprintf(gz, sizeof(gz), "%s/root/boot/xen-%s-amd64.gz", work, release);
	if (!pv_is_file(gz))
		return pv_fail(err, PV_ERR_IO, "%s has no boot/xen-%s-amd64.gz", deb, release);
	if (gunzip(gz, path, err))
		return -1;
	/* A link to the .deb stays beside it: scripts/build-dom0 takes the Xen version the stamp names. */
	if ((size_t)snprintf(base, sizeof(base), "%s",
			     strrchr(deb, '/') ? strrchr(deb, '/') + 1 : deb) >= sizeof(base))
		return pv_fail(err, PV_ERR_IO, "%s: name too long", deb);
	snprintf(root, sizeof(root), "%s/%s", dir, base);
	if (!pv_is_file(root) && link(deb, root))
		return pv_fail(err, PV_ERR_IO, "link %s: %s", root, strerror(errno));
	snprintf(gz, sizeof(gz), "%s\n", base);
	if (pv_write_atomic(stamp, gz, err))
		return -1;
	run_note(pr, "Xen %s from %s is %s", release, base, path);
	/* Xen is whole and stamped: a work directory left behind is only litter, removed next time. */
	if (remove_tree(work, err))
		run_note(pr, "%s (left for the next fetch to remove)", err->msg);
	return 0;
}

int run_fetch_xen(const char *cache, const char *release, char *path, size_t size,
		  const struct run_progress *pr, struct pv_error *err)
{
	char dir[PATH_MAX], stamp[PATH_MAX + 32], lock[PATH_MAX + 8];
	int fd, rc;

	if (!run_xen_suite(release))
		return pv_fail(err, PV_ERR_USAGE, "pvboot boots Xen 4.14, 4.17 and 4.20, not %s",
			       release);
	if (snprintf(dir, sizeof(dir), "%s/xen-hypervisor", cache) >= (int)sizeof(dir))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", cache);
	if (snprintf(path, size, "%s/xen-%s", dir, release) >= (int)size)
		return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	snprintf(stamp, sizeof(stamp), "%s/.pvboot-xen-%s-done", dir, release);
	if (pv_is_file(stamp) && pv_is_file(path))
		return 0;
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	if (pv_mkdirs(dir, err) || (fd = run_lock(lock, pr, err)) < 0)
		return -1;
	/* Another run may have made it while this one waited. */
	rc = pv_is_file(stamp) && pv_is_file(path)
		     ? 0
		     : make_xen(cache, release, dir, path, stamp, pr, err);
	pv_unlock(fd);
	return rc;
}
