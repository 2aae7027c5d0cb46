/*
 * The machine for pvboot run --domu (real-xen.md section 12): Xen, a Linux
 * dom0 running the real toolstack, and the domU that `xl create` builds in
 * it.  Here: the dom0 image (scripts/build-dom0), how big QEMU must be and
 * what of it the host really backs, and QEMU's command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvboot/x86.h>

#include "run.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- the dom0 image ---- */

/* $PVBOOT_SCRIPTS/build-dom0, else <pvboot's directory>/../scripts/build-dom0. */
static int find_script(char *path, size_t size, struct pv_error *err)
{
	const char *env = getenv("PVBOOT_SCRIPTS");
	char dir[PATH_MAX];

	if (env && *env) {
		if (snprintf(path, size, "%s/build-dom0", env) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "PVBOOT_SCRIPTS: path too long");
	} else {
		if (run_exe_dir(dir, sizeof(dir), err))
			return -1;
		if (snprintf(path, size, "%s/../scripts/build-dom0", dir) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	}
	if (access(path, R_OK))
		return pv_fail(err, PV_ERR_IO,
			       "%s: %s (the script that builds the Linux dom0; set PVBOOT_SCRIPTS to its directory)",
			       path, strerror(errno));
	return 0;
}

/* "name=value" lines of @out into @kernel and @initrd. */
static void take_paths(char *out, char *kernel, char *initrd, size_t size)
{
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "kernel=", 7))
			snprintf(kernel, size, "%s", line + 7);
		else if (!strncmp(line, "initrd=", 7))
			snprintf(initrd, size, "%s", line + 7);
	}
}

/*
 * Run `sh SCRIPT` with PVBOOT_CACHE=@cache, its stderr on ours (it says
 * what it builds), its stdout into @out.  Returns its exit status, or -1
 * with @err when it could not run.
 */
static int run_script(const char *script, const char *cache, char *out, size_t size,
		      struct pv_error *err)
{
	size_t n = 0;
	int fd[2], st;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC))
		return pv_fail(err, PV_ERR_IO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(fd[1], 1) < 0 ||
		    setenv("PVBOOT_CACHE", cache, 1))
			_exit(127);
		execlp("sh", "sh", script, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if (pid < 0) {
		close(fd[0]);
		return pv_fail(err, PV_ERR_IO, "fork: %s", strerror(errno));
	}
	for (;;) {
		ssize_t got = read(fd[0], out + n, size - 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == size - 1) { /* more than paths: keep reading, keep the start */
			char sink[4096];

			while (read(fd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[n] = '\0';
	close(fd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return pv_fail(err, PV_ERR_IO, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run_dom0_image(const char *cache, char *kernel, char *initrd, size_t size, struct pv_error *err)
{
	char script[PATH_MAX], out[4 * PATH_MAX];
	struct stat st;
	int status;

	if (find_script(script, sizeof(script), err))
		return -1;
	status = run_script(script, cache, out, sizeof(out), err);
	if (status < 0)
		return -1;
	if (status)
		return pv_fail(err, PV_ERR_IO, "%s failed with status %d", script, status);
	kernel[0] = initrd[0] = '\0';
	take_paths(out, kernel, initrd, size);
	if (!kernel[0] || !initrd[0])
		return pv_fail(err, PV_ERR_FORMAT, "%s printed no %s= line", script,
			       kernel[0] ? "initrd" : "kernel");
	if (stat(kernel, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 kernel %s gave is not a file", kernel,
			       script);
	if (stat(initrd, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 initrd %s gave is not a file", initrd,
			       script);
	return 0;
}

/* ---- sizes ---- */

/* Section 12, pitfalls: 2048 MiB, and more for the largest guests (their P2M, xl's buffers). */
uint64_t run_domu_dom0_mib(uint64_t domu_bytes)
{
	return domu_bytes > 256 * GiB ? 3072 : 2048;
}

/*
 * QEMU's RAM in MiB: the dom0, the domU, the modules Xen loads (the dom0's
 * initramfs, about 160 MB, and the guest's files), plus about 10% for Xen
 * itself (its frame table is 1/128 of RAM, the M2P 1/512) and 512 MiB.
 * Rounded up to 256 MiB.  With reserve=off only what is touched costs.
 */
uint64_t run_domu_qemu_mib(uint64_t dom0_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes)
{
	uint64_t bytes = dom0_mib * MiB + domu_bytes + ramdisk_bytes + 256 * MiB;

	bytes += bytes / 10 + 512 * MiB;
	bytes = (bytes + 256 * MiB - 1) & ~(256 * MiB - 1);
	return bytes / MiB;
}

/*
 * What QEMU's RSS is expected to reach, in bytes: 1.3 GiB for QEMU, Xen
 * and the dom0 Linux with its tools; the ramdisk five times (QEMU's copy
 * of the module, the module in RAM, the dom0's unpacked initramfs, xl's
 * buffer, the domU); Xen's frame table (1/128 of RAM); and 32 bytes per
 * domU page (its M2P entry, the builder's P2M entry, the guest's copy of
 * it and its L1 entry in __va).  Measured here with pvboot's kernel,
 * revector, every pfn verified: 1.18 GB at 512 MiB, 4.69 GB at 128 GiB
 * with the seed's ramdisk, 7.99 GB at 384 GiB; this says 1.43, 5.06 and
 * 8.19 GB.  (Section 12's 5.4 GB at 256 GiB and 9.3 GB at 512 GiB were
 * another guest's; this says 7.3 and 11.8.)  The domU is never destroyed
 * (on_poweroff="preserve"), or Xen's scrubbing would touch all of it.
 */
uint64_t run_domu_host_need(uint64_t qemu_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes)
{
	return 1331 * MiB + 5 * ramdisk_bytes + qemu_mib * MiB / 128 + domu_bytes / 128;
}

/* ---- QEMU's command line ---- */

int run_domu_cmdline(const struct run_domu_in *in, struct run_cmdline *c, struct pv_error *err)
{
	char kernel[2 * PATH_MAX + 2], modules[2 * PATH_MAX + 2], sum[40] = "";
	size_t used = 0;
	int rc = 0;

	c->argc = 0;
	c->argv[0] = NULL;
	if (run_escape_commas(in->dom0_kernel, kernel, sizeof(kernel)) >= sizeof(kernel) ||
	    run_escape_commas(in->modules, modules, sizeof(modules)) >= sizeof(modules))
		return pv_fail(err, PV_ERR_RANGE, "QEMU command line: a path is too long");
	if (in->ramdisk)
		snprintf(sum, sizeof(sum), " ramdisk_sum=0x%016llx",
			 (unsigned long long)in->ramdisk_sum);

	/* Two vCPUs for the dom0 Linux (the domU has one); no debug-exit: the dom0 powers off. */
	rc |= run_qemu_common(c, &used, err, in->qemu_mib, 2, false);
	rc |= run_cmd_add(c, &used, err, "-kernel");
	rc |= run_cmd_add(c, &used, err, "%s", in->xen);
	rc |= run_cmd_add(c, &used, err, "-append");
	rc |= run_cmd_add(c, &used, err,
			  "console=com1 com1=115200 dom0_mem=%lluM,max:%lluM bootscrub=0 loglvl=all guest_loglvl=all",
			  (unsigned long long)in->dom0_mib, (unsigned long long)in->dom0_mib);
	rc |= run_cmd_add(c, &used, err, "-initrd");
	/* scripts/dom0-init reads the pvboot.* parameters; loglevel=4 keeps its sections clean. */
	rc |= run_cmd_add(c, &used, err,
			  "%s console=hvc0 earlyprintk=xen loglevel=4 pvboot.memory=%llu pvboot.extra=\"mode=%s verify=%s%s\" pvboot.ramdisk=%s pvboot.timeout=%u,%s",
			  kernel, (unsigned long long)(in->domu_bytes / MiB),
			  pv_boot_mode_name(in->mode), in->verify_full ? "full" : "sample", sum,
			  in->ramdisk ? "/" RUN_GUEST_RAMDISK : "none", in->domu_wait, modules);
	return rc ? -1 : 0;
}
