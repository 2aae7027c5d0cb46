/*
 * What every run of one pvboot run shares: the kernel and its prediction
 * (xen-4.17-dom0 for a dom0, libxc-4.17 for a domU), the ramdisk, QEMU's
 * size, and what a real boot needs of the host: memory, QEMU, Xen, for a
 * domU the Linux dom0 and the module that carries the guest's files, and
 * the directory for the logs.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pvboot/p2m.h>
#include <pvboot/x86.h>

#include "run.h"

/* --kernel-extent: the kernels make builds beside pvboot. */
static const struct {
	const char *name, *file;
} extents[] = {
	{"plain", "pvboot-kernel.elf"},
	{"seed", "pvboot-kernel-seed.elf"}, /* 0xffffffff81000000-0xffffffff81e43000 */
};

int run_kernel_extent(const char *name, const char **file)
{
	for (size_t i = 0; i < sizeof(extents) / sizeof(extents[0]); i++)
		if (!strcmp(name, extents[i].name)) {
			*file = extents[i].file;
			return 0;
		}
	return -1;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/*
 * The kernel: --kernel, else the one --kernel-extent names beside pvboot,
 * else pvboot-kernel.elf, or for the seed's domU (no --memory) the one
 * with the seed's extent, or for a dom0 in mode linear the one with the
 * INIT_P2M note, so that Xen puts the list outside __ka and guests above
 * 512 GiB fit the initial mapping.
 */
static int plan_kernel(struct run_plan *p, struct pv_error *err)
{
	const char *file = "pvboot-kernel.elf";
	char dir[PATH_MAX];

	if (p->g.kernel_path) {
		snprintf(p->kernel, sizeof(p->kernel), "%s", p->g.kernel_path);
	} else {
		if (p->kernel_extent)
			run_kernel_extent(p->kernel_extent, &file);
		else if (p->domu && p->g.memory_from_seed)
			run_kernel_extent("seed", &file);
		else if (!p->domu && p->linear)
			file = "pvboot-kernel-initp2m.elf";
		if (run_exe_dir(dir, sizeof(dir), err))
			return cli_error("run", err);
		if (snprintf(p->kernel, sizeof(p->kernel), "%s/%s", dir, file) >=
		    (int)sizeof(p->kernel))
			return run_data_error("%s: path too long", dir);
	}
	p->g.kernel_path = p->kernel;
	/* A dom0's kernel and ramdisk are multiboot modules; a domU's travel in a cpio. */
	if (!p->domu && strchr(p->kernel, ' '))
		return cli_usage_error("run",
				       "--kernel: '%s' has a space, which QEMU's multiboot module string cannot carry",
				       p->kernel);
	if (!p->domu && p->g.ramdisk_path && strchr(p->g.ramdisk_path, ' '))
		return cli_usage_error("run",
				       "--ramdisk: '%s' has a space, which QEMU's multiboot module string cannot carry",
				       p->g.ramdisk_path);
	if (!is_file(p->kernel))
		return run_data_error("%s: no such file (the PV kernel: build it with make, or give --kernel)",
				      p->kernel);
	return 0;
}

int run_plan_guest(struct run_plan *p)
{
	struct pv_error err = {0};
	int rc;

	p->g.in.builder = p->domu ? PV_BUILDER_LIBXC_417 : PV_BUILDER_XEN_DOM0;
	p->g.builder_set = true;
	if (p->domu && p->g.in.nr_pages % 256)
		return cli_usage_error("run",
				       "--memory: a domU's memory must be whole MiB (xl's memory=)");
	rc = plan_kernel(p, &err);
	if (rc)
		return rc;
	/* The seed's ramdisk goes with the seed's memory only. */
	if (p->g.ramdisk_from_seed && !p->g.memory_from_seed)
		p->g.in.ramdisk_len = 0;
	if (guest_resolve(&p->g, &err))
		return cli_error("run", &err);
	p->memory = p->g.in.nr_pages * PAGE_SIZE;
	p->ramdisk = p->g.in.ramdisk_len > 0;
	p->ramdisk_bytes = p->g.in.ramdisk_len;
	if (p->domu ? run_domu_predict(&p->g.in, &p->predicted, &p->predicted_log, &err)
		    : pv_layout_build(&p->g.in, &p->predicted, NULL, &err))
		return run_data_error("%s would refuse this guest: %s",
				      p->domu ? "libxenguest's domain builder" : "Xen's dom0 builder",
				      err.msg);
	p->module_must_fail =
		pv_layout_warnings(&p->predicted) & (1U << PV_WARN_MODULES_VADDR_OVERLAP);
	if (!p->domu) {
		p->qemu_mib = run_qemu_mib(p->memory, p->ramdisk_bytes);
		p->host_need = run_host_need(p->qemu_mib, p->memory, p->ramdisk_bytes);
		/* Mode revector copies every leaf of a list the tree holds (450 GiB: 6.43 GiB peak). */
		if (p->revector && p->g.in.nr_pages <= P2M_MAX_PFN)
			p->host_need += p->g.in.nr_pages * 8;
		if (p->timeout <= 0)
			p->timeout = 60 + 0.25 * (double)(p->memory >> 30);
		return 0;
	}
	/* The dom0 Linux boots in about 10 s; xl create takes 26 s at 512 GiB (section 12). */
	p->dom0_mib = run_domu_dom0_mib(p->memory);
	p->qemu_mib = run_domu_qemu_mib(p->dom0_mib, p->memory, p->ramdisk_bytes);
	p->host_need = run_domu_host_need(p->qemu_mib, p->memory, p->ramdisk_bytes);
	if (p->timeout <= 0)
		p->timeout = 120 + 0.3 * (double)(p->memory >> 30);
	p->domu_wait = p->timeout / 2 >= 5 ? (unsigned)(p->timeout / 2) : 5;
	return 0;
}

/* The logs go beside the cache: build/cache -> build/run-logs. */
static int plan_logs(struct run_plan *p, struct pv_error *err)
{
	char *slash;

	snprintf(p->logs, sizeof(p->logs), "%s", p->cache);
	for (size_t n = strlen(p->logs); n > 1 && p->logs[n - 1] == '/'; n--)
		p->logs[n - 1] = '\0';
	slash = strrchr(p->logs, '/');
	if (slash)
		snprintf(slash + 1, sizeof(p->logs) - (size_t)(slash + 1 - p->logs), "run-logs");
	else
		snprintf(p->logs, sizeof(p->logs), "run-logs");
	return run_mkdirs(p->logs, err);
}

/* Before anything starts: can the host back what QEMU will touch? */
static int plan_memory(const struct run_plan *p)
{
	uint64_t avail, need = p->host_need;
	struct pv_error err = {0};
	char a[32], b[32];

	if (run_host_available(&avail, &err))
		return cli_error("run", &err);
	if (need <= avail)
		return 0;
	if (p->domu)
		return run_data_error("this domU needs about %s of host memory for QEMU (the dom0, Xen's frame table, the M2P and P2M entries, the ramdisk), but only %s is available (MemAvailable)",
				      human_bytes(need, a, sizeof(a)),
				      human_bytes(avail, b, sizeof(b)));
	return run_data_error("this dom0 needs about %s of host memory for QEMU (Xen's frame table and M2P, the P2M list, copied in mode revector, the ramdisk), but only %s is available (MemAvailable)",
			      human_bytes(need, a, sizeof(a)), human_bytes(avail, b, sizeof(b)));
}

/* A domU's Linux dom0 and the module with the guest's files. */
static int plan_dom0(struct run_plan *p, struct pv_error *err)
{
	bool reused;

	if (run_dom0_image(p->cache, p->dom0_kernel, p->dom0_initrd, sizeof(p->dom0_kernel), err))
		return cli_error("run", err);
	if (run_domu_modules(p->cache, p->dom0_initrd, p->kernel, p->ramdisk ? p->ramdisk_path : NULL,
			     p->modules, sizeof(p->modules), &reused, err))
		return cli_error("run", err);
	if (!reused)
		fprintf(stderr,
			"pvboot: run: the guest's files appended to the dom0's initramfs: %s\n",
			p->modules);
	if (strchr(p->dom0_kernel, ' ') || strchr(p->modules, ' '))
		return run_data_error("%s: the path has a space, which QEMU's multiboot module string cannot carry",
				      strchr(p->modules, ' ') ? p->modules : p->dom0_kernel);
	return 0;
}

int run_plan_host(struct run_plan *p, const char *xen)
{
	struct pv_error err = {0};
	int rc = plan_memory(p);

	if (rc)
		return rc;
	if (!run_on_path("qemu-system-x86_64"))
		return run_data_error(
			"qemu-system-x86_64 not found (run scripts/deps, package qemu-system-x86)");
	if (run_cache_dir(p->cache, sizeof(p->cache), &err) || plan_logs(p, &err))
		return cli_error("run", &err);
	if (xen) {
		if (!is_file(xen))
			return run_data_error("%s: no such file (--xen)", xen);
		snprintf(p->xen, sizeof(p->xen), "%s", xen);
	} else if (run_fetch_xen(p->cache, p->xen, sizeof(p->xen), &err)) {
		return cli_error("run", &err);
	}
	if (p->ramdisk && p->g.ramdisk_path) {
		snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk_path);
		if (run_file_sum(p->ramdisk_path, &p->ramdisk_sum, &p->ramdisk_bytes, &err))
			return cli_error("run", &err);
	} else if (p->ramdisk) {
		if (run_ramdisk_make(p->cache, p->ramdisk_bytes, p->ramdisk_path,
				     sizeof(p->ramdisk_path), &p->ramdisk_sum, &err))
			return cli_error("run", &err);
		if (!p->domu && strchr(p->ramdisk_path, ' '))
			return run_data_error("%s: the cache path has a space, which QEMU's multiboot module string cannot carry",
					      p->ramdisk_path);
	}
	return p->domu ? plan_dom0(p, &err) : 0;
}

int run_plan_replay(struct run_plan *p, bool need_sum)
{
	struct pv_error err = {0};

	if (p->ramdisk && p->g.ramdisk_path) {
		if (run_file_sum(p->g.ramdisk_path, &p->ramdisk_sum, &p->ramdisk_bytes, &err))
			return cli_error("run", &err);
		snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk_path);
	} else if (p->ramdisk && need_sum) {
		p->ramdisk_sum = run_pattern_sum(p->ramdisk_bytes);
	}
	return 0;
}

bool run_log_is_domu(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool domu = false;

	if (!f)
		return false;
	while (!domu && fgets(line, sizeof(line), f))
		domu = strstr(line, "PVBOOT-XL-BEGIN") || strstr(line, "PVBOOT-DOM0-READY");
	fclose(f);
	return domu;
}

void run_simulate(const struct run_plan *p, struct run_one *r)
{
	struct pv_error err = {0};

	r->sim_tried = true;
	if (simulate_result_line(&p->g, r->mode, p->verify_full, r->sim_line, sizeof(r->sim_line),
				 &err))
		snprintf(r->sim_error, sizeof(r->sim_error), "%s", err.msg);
}
