/*
 * pvboot run: boot pvboot's own PV kernel under the real Xen 4.17
 * hypervisor in qemu-system-x86_64 (TCG), as dom0 or (--domu) as a domU
 * that the real toolstack builds in a Linux dom0, and report what Xen or
 * libxenguest laid out against what pvboot predicted, and what the
 * kernel's boot path found.
 *
 * As XTF's runner does: boot, read one machine-readable verdict (the
 * kernel's PVBOOT-RESULT line, and its isa-debug-exit code or the domU's
 * shutdown reason), compare.  Without arguments: the seed's 128 GiB guest
 * with its 0x10784000-byte ramdisk, without the fix and then with it.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

enum {
	O_MODE = 1,
	O_VERIFY,
	O_TIMEOUT,
	O_FORMAT,
	O_XEN,
	O_DOMU,
	O_KERNEL_EXTENT,
	O_SERIAL_LOG,
	O_ASSUME_EXIT,
	O_HELP
};

static const struct opt run_opts[] = {
	{"domu", false, O_DOMU},
	{"kernel-extent", true, O_KERNEL_EXTENT},
	{"mode", true, O_MODE},
	{"verify", true, O_VERIFY},
	{"timeout", true, O_TIMEOUT},
	{"format", true, O_FORMAT},
	{"xen", true, O_XEN},
	{"serial-log", true, O_SERIAL_LOG},
	{"assume-exit", true, O_ASSUME_EXIT},
	{"help", false, O_HELP},
	{NULL, false, 0},
};

/* The guest options pvboot run takes, parsed as pvboot layout parses them. */
static const char *const guest_names[] = {"memory", "kernel", "ramdisk", "ramdisk-size"};

static const char run_help[] =
	"usage: pvboot run [--domu] [options]\n"
	"Boot pvboot's PV kernel as dom0 under Xen 4.17 in qemu-system-x86_64 (TCG), compare\n"
	"Xen's VIRTUAL MEMORY ARRANGEMENT with pvboot's prediction, and check the kernel's result.\n"
	"  --domu                 boot it as a domU instead: Xen, a Linux dom0 (scripts/build-dom0,\n"
	"                         built once), and xl -vvv create; the builder's xc_dom_* lines\n"
	"                         are compared with `pvboot layout --builder libxc-4.17 --format log`\n"
	"  --memory SIZE          the guest's memory: 131072M, 128G, 1T, or bytes (default 128G)\n"
	"  --ramdisk FILE         pass FILE as the ramdisk (a dom0's multiboot module 1)\n"
	"  --ramdisk-size BYTES   a pattern ramdisk of this size (word i is splitmix64(size + i),\n"
	"                         little-endian), made once under the cache\n"
	"                         (default: 0x10784000 bytes, none when --memory is given)\n"
	"  --mode M               revector, no-revector, null or linear (default: no-revector,\n"
	"                         then revector); a dom0 in mode linear boots\n"
	"                         pvboot-kernel-initp2m.elf (INIT_P2M) unless --kernel is given\n"
	"  --verify full|sample   the kernel checks every pfn (default) or a sample\n"
	"  --timeout SECONDS      kill QEMU after this long (default 60 + 0.25 per GiB, for a\n"
	"                         domU 120 + 0.3 per GiB; the dom0 waits half of it for the domU)\n"
	"  --format text|json     a summary (default), or JSON: one object per run, and\n"
	"                         {\"runs\": [...], \"ok\": ...} when two modes run\n"
	"  --kernel FILE          the PV kernel (default: pvboot-kernel.elf beside pvboot)\n"
	"  --kernel-extent E      plain (pvboot-kernel.elf) or seed (pvboot-kernel-seed.elf, the\n"
	"                         seed's 0xffffffff81000000-0xffffffff81e43000); --domu without\n"
	"                         --memory or --kernel takes seed\n"
	"  --xen FILE             the hypervisor (default: Debian's xen-hypervisor-4.17-amd64,\n"
	"                         fetched once into $PVBOOT_CACHE or <pvboot's directory>/cache)\n"
	"For testing, without QEMU:\n"
	"  --serial-log FILE      evaluate a recorded serial log instead of booting (a domU's\n"
	"                         is known by its PVBOOT-XL-BEGIN marker)\n"
	"  --assume-exit N        QEMU's exit status to assume for it (default: the log's)\n"
	"Environment: PVBOOT_CACHE (the cache directory), PVBOOT_SCRIPTS (where build-dom0 is;\n"
	"default <pvboot's directory>/../scripts).\n"
	"Exit status: 0 when every check holds, 1 when one fails or a file or program is\n"
	"missing, 2 for bad usage, 130 when interrupted.\n";

/* The option table: ours, then the guest options we take. */
static void make_opts(struct opt *opts, int *ramdisk_id, int *ramdisk_size_id)
{
	unsigned n = 0;

	for (const struct opt *o = run_opts; o->name; o++)
		opts[n++] = *o;
	for (const struct opt *o = guest_opts; o->name; o++)
		for (size_t k = 0; k < sizeof(guest_names) / sizeof(guest_names[0]); k++)
			if (!strcmp(o->name, guest_names[k]))
				opts[n++] = *o;
	opts[n] = (struct opt){0};
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(opts[i].name, "ramdisk"))
			*ramdisk_id = opts[i].id;
		if (!strcmp(opts[i].name, "ramdisk-size"))
			*ramdisk_size_id = opts[i].id;
	}
}

int cmd_run(int argc, char **argv)
{
	struct opt opts[24];
	const char *file;
	struct run_plan *p = calloc(1, sizeof(*p));
	struct run_one *runs = NULL;
	struct pv_error err = {0};
	enum pv_boot_mode modes[2] = {PV_MODE_NO_REVECTOR, PV_MODE_REVECTOR};
	unsigned nmodes = 2;
	bool mode_given = false;
	int ramdisk_id = -1, ramdisk_size_id = -1, nr_ramdisk_opts = 0, i = 0, id, rc = 0;
	const char *v, *xen = NULL;
	uint64_t x;

	if (!p)
		return cli_usage_error("run", "out of memory");
	make_opts(opts, &ramdisk_id, &ramdisk_size_id);
	guest_defaults(&p->g);
	p->verify_full = true;
	p->assume_exit = -1;
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0) {
			rc = cli_error("run", &err);
			goto out;
		}
		switch (id) {
		case O_HELP:
			fputs(run_help, stdout);
			goto out;
		case O_MODE:
			if (pv_boot_mode_parse(v, &modes[0])) {
				rc = cli_usage_error("run",
						     "--mode: unknown mode '%s' (revector, no-revector, null, linear)",
						     v);
				goto out;
			}
			nmodes = 1;
			mode_given = true;
			p->linear = modes[0] == PV_MODE_LINEAR;
			break;
		case O_VERIFY:
			if (strcmp(v, "full") && strcmp(v, "sample")) {
				rc = cli_usage_error("run",
						     "--verify: '%s' is neither full nor sample", v);
				goto out;
			}
			p->verify_full = !strcmp(v, "full");
			break;
		case O_TIMEOUT:
			if (parse_u64("--timeout", v, &x, &err)) {
				rc = cli_error("run", &err);
				goto out;
			}
			if (x == 0 || x > 1000000) {
				rc = cli_usage_error("run",
						     "--timeout: %s is not 1 to 1000000 seconds", v);
				goto out;
			}
			p->timeout = (double)x;
			break;
		case O_FORMAT:
			if (strcmp(v, "text") && strcmp(v, "json")) {
				rc = cli_usage_error("run",
						     "--format: unknown format '%s' (text, json)", v);
				goto out;
			}
			p->json = !strcmp(v, "json");
			break;
		case O_XEN:
			xen = v;
			break;
		case O_DOMU:
			p->domu = true;
			break;
		case O_KERNEL_EXTENT:
			if (run_kernel_extent(v, &file)) {
				rc = cli_usage_error("run",
						     "--kernel-extent: unknown extent '%s' (plain, seed)",
						     v);
				goto out;
			}
			p->kernel_extent = v;
			break;
		case O_SERIAL_LOG:
			p->serial_log = v;
			break;
		case O_ASSUME_EXIT:
			if (parse_u64("--assume-exit", v, &x, &err)) {
				rc = cli_error("run", &err);
				goto out;
			}
			if (x > 255) {
				rc = cli_usage_error("run",
						     "--assume-exit: %s is not an exit status (0 to 255)",
						     v);
				goto out;
			}
			p->assume_exit = (int)x;
			break;
		default:
			if (id == ramdisk_id || id == ramdisk_size_id)
				nr_ramdisk_opts++;
			if (guest_option(&p->g, id, v, &err) < 0) {
				rc = cli_error("run", &err);
				goto out;
			}
		}
	}
	if (nr_ramdisk_opts > 1) {
		rc = cli_usage_error("run", "give one of --ramdisk and --ramdisk-size");
		goto out;
	}
	if (p->assume_exit >= 0 && !p->serial_log) {
		rc = cli_usage_error("run", "--assume-exit goes with --serial-log");
		goto out;
	}
	if (p->kernel_extent && p->g.kernel_path) {
		rc = cli_usage_error("run", "give one of --kernel and --kernel-extent");
		goto out;
	}
	if (p->serial_log && nmodes == 2)
		nmodes = 1; /* a log is of one run: its PVBOOT-RESULT says which */
	for (unsigned m = 0; m < nmodes; m++)
		p->revector |= modes[m] == PV_MODE_REVECTOR;
	if (p->serial_log && !p->domu)
		p->domu = run_log_is_domu(p->serial_log);

	rc = run_plan_guest(p);
	if (rc)
		goto out;
	/* Only the checks of a boot with a result need the pattern's sum. */
	rc = p->serial_log ? run_plan_replay(p, !(mode_given && modes[0] == PV_MODE_NULL))
			   : run_plan_host(p, xen);
	if (rc)
		goto out;

	runs = calloc(nmodes, sizeof(*runs));
	if (!runs) {
		rc = cli_usage_error("run", "out of memory");
		goto out;
	}
	for (unsigned m = 0; m < nmodes && !rc; m++) {
		runs[m].mode = modes[m];
		run_serial_init(&runs[m].ser);
		run_domu_init(&runs[m].domu);
		rc = p->serial_log ? run_replay(p, mode_given, &runs[m]) : run_boot(p, &runs[m]);
		if (!rc)
			run_simulate(p, &runs[m]);
		if (!rc)
			run_evaluate(p, &runs[m]);
	}
	if (!rc) {
		if (p->json)
			run_report_json(stdout, p, runs, nmodes);
		else
			run_report_text(stdout, p, runs, nmodes);
		for (unsigned m = 0; m < nmodes; m++)
			if (!runs[m].ok)
				rc = EXIT_DATA;
	}
out:
	for (unsigned m = 0; runs && m < nmodes; m++)
		run_domu_free(&runs[m].domu);
	free(runs);
	run_lines_free(&p->predicted_log);
	guest_release(&p->g);
	free(p);
	return rc;
}
