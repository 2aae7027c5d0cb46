/*
 * pvboot run: boot pvboot's own PV kernel under a real Xen hypervisor
 * (Debian's 4.14, 4.17 or 4.20) in qemu-system-x86_64 (TCG), as dom0 or (--domu) as a domU
 * that the real toolstack builds in a Linux dom0, and report what Xen or
 * libxenguest laid out against what pvboot predicted, and what the
 * kernel's boot path found.
 *
 * As XTF's runner does: boot, read one machine-readable verdict (the
 * kernel's PVBOOT-RESULT line, and its isa-debug-exit code or the domU's
 * shutdown reason), compare.  Without arguments: the seed's 128 GiB guest
 * with its 0x10784000-byte ramdisk, without the fix and then with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <pvboot/harness.h>
#include <pvboot/x86.h>

#include "cli.h"

enum {
	O_MODE = 1,
	O_VERIFY,
	O_TIMEOUT,
	O_FORMAT,
	O_XEN,
	O_DOMU,
	O_KIND,
	O_KERNEL_EXTENT,
	O_SERIAL_LOG,
	O_ASSUME_EXIT,
	O_MFNDUMP,
	O_HELP
};

/*
 * pvboot run's options, in the order --help lists them; the guest options
 * among them (ids from guest.c) are parsed as pvboot layout parses them.
 */
static const struct opt run_opts[] = {
	{"kind", "K", O_KIND, NULL}, /* listed by run_help(), with the kinds' names */
	{"domu", NULL, O_DOMU,
	 "--kind domu: boot it as a domU, Xen, a Linux dom0 (scripts/build-dom0,\n"
	 "built once), and xl -vvv create; the builder's xc_dom_* lines\n"
	 "are compared with `pvboot layout --builder libxc-V --format log`"},
	{"memory", "SIZE", O_MEMORY, "the guest's memory: 131072M, 128G, 1T, or bytes (default 128G)"},
	{"ramdisk", "FILE", O_RAMDISK, "pass FILE as the ramdisk (a dom0's multiboot module 1)"},
	{"ramdisk-size", "BYTES", O_RAMDISK_SIZE,
	 "a pattern ramdisk of this size (word i is splitmix64(size + i),\n"
	 "little-endian), made once under the cache\n"
	 "(default: 0x10784000 bytes, none when --memory is given)"},
	{"mode", "M", O_MODE,
	 "revector, no-revector, null or linear (default: no-revector,\n"
	 "then revector); a dom0 in mode linear boots\n"
	 "pvboot-kernel-initp2m.elf (INIT_P2M) unless --kernel is given"},
	{"verify", "full|sample", O_VERIFY, "the kernel checks every pfn (default) or a sample"},
	{"timeout", "SECONDS", O_TIMEOUT,
	 "kill QEMU after this long (default 60 + 0.25 per GiB, for a\n"
	 "domU 120 + 0.3 per GiB; the dom0 waits half of it for the domU)"},
	{"format", "text|json", O_FORMAT,
	 "a summary (default), or JSON: one object per run, and\n"
	 "{\"runs\": [...], \"ok\": ...} when two modes run"},
	{"kernel", "FILE", O_KERNEL, "the PV kernel (default: pvboot-kernel.elf beside pvboot)"},
	{"kernel-extent", "E", O_KERNEL_EXTENT,
	 "plain (pvboot-kernel.elf) or seed (pvboot-kernel-seed.elf, the\n"
	 "seed's 0xffffffff81000000-0xffffffff81e43000); --domu without\n"
	 "--memory or --kernel takes seed"},
	{"xen-version", "V", O_XEN_VERSION,
	 "boot Debian's Xen V: 4.14 (bullseye), 4.17 (bookworm, the\n"
	 "default) or 4.20 (trixie), and predict with its builders"},
	{"mfndump", NULL, O_MFNDUMP,
	 "--domu: once the domU is down, the dom0 reads its P2M with the\n"
	 "release's xen-mfndump dump-p2m, as its tools read a guest (check\n"
	 "tools-read-p2m; a line per pfn: for guests of a few GiB)"},
	{"xen", "FILE", O_XEN,
	 "the hypervisor (default: Debian's xen-hypervisor-V-amd64, fetched\n"
	 "once into $PVBOOT_CACHE or <pvboot's directory>/cache); it must\n"
	 "be Xen V (--xen-version)"},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

/* The options for testing, without QEMU. */
static const struct opt run_test_opts[] = {
	{"serial-log", "FILE", O_SERIAL_LOG,
	 "evaluate a recorded serial log instead of booting (a domU's\n"
	 "is known by its PVBOOT-XL-BEGIN marker)"},
	{"assume-exit", "N", O_ASSUME_EXIT,
	 "QEMU's exit status to assume for it (default: the log's)"},
	{NULL, NULL, 0, NULL},
};

static const char run_help_intro[] =
	"usage: pvboot run [--kind K | --domu] [options]\n"
	"Boot pvboot's PV kernel as dom0 under Xen (4.17 unless --xen-version) in\n"
	"qemu-system-x86_64 (TCG), compare what Xen prints of its layout with pvboot's\n"
	"prediction, and check the kernel's result.\n";

static const char run_help_outro[] =
	"Environment: PVBOOT_CACHE (the cache directory), PVBOOT_SCRIPTS (where build-dom0 and\n"
	"fetch-deb are; default <pvboot's directory>/../scripts).\n"
	"Exit status: 0 when every check holds, 1 when one fails or a file or program is\n"
	"missing, 2 for bad usage, 130 when interrupted.\n";

static void run_help(void)
{
	struct opt kind[2] = {run_opts[0]};
	char kinds[200], kind_help[260];

	run_kind_names(kinds, sizeof(kinds));
	snprintf(kind_help, sizeof(kind_help), "the kind of guest to boot: %s (default dom0)", kinds);
	kind[0].help = kind_help;
	fputs(run_help_intro, stdout);
	opts_help(stdout, kind);
	opts_help(stdout, run_opts);
	cmd_help("For testing, without QEMU:\n", run_test_opts, run_help_outro);
}

/* The kernel: --kernel, else the one --kernel-extent names, else the kind's. */
static int choose_kernel(struct guest *g, const struct run_kind *kind, const char *extent,
			 bool linear, char *path, size_t size, struct pv_error *err)
{
	if (run_kernel_path(kind, g->kernel_path, extent, g->memory_from_seed, linear,
			    g->ramdisk_path, path, size, err))
		return -1;
	g->kernel_path = path;
	return 0;
}

/* ---- progress on stderr: a line per stage, or one line redrawn on a terminal ---- */

struct live {
	bool tty;
	char title[80];
	char stage[320];
};

static void show(struct live *lv, double t, bool new_stage)
{
	struct winsize ws;
	char line[440];
	int cols = 80;

	snprintf(line, sizeof(line), "[%5.1f s] %s: %s", t, lv->title, lv->stage);
	if (!lv->tty) {
		if (new_stage)
			fprintf(stderr, "%s\n", line);
		return;
	}
	if (!ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 20)
		cols = ws.ws_col;
	if ((int)strlen(line) >= cols)
		line[cols - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
}

static void on_stage(void *ctx, double t, const char *text, bool new_stage)
{
	struct live *lv = ctx;

	if (text)
		snprintf(lv->stage, sizeof(lv->stage), "%s", text);
	if (new_stage || lv->tty)
		show(lv, t, new_stage);
}

static void on_note(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "pvboot: run: %s\n", text);
}

/* Boot once; 0, or an exit status after a message. */
static int boot_one(const struct run_plan *p, struct run_one *r)
{
	struct live lv = {.tty = isatty(2)};
	struct run_progress pr = {on_stage, on_note, &lv};
	struct pv_error err = {0};

	run_title(p, r->mode, lv.title, sizeof(lv.title));
	if (run_boot(p, r, &pr, &err))
		return cli_error("run", &err);
	if (lv.tty)
		fputc('\n', stderr);
	if (r->exit.interrupted) {
		fprintf(stderr, "pvboot: run: interrupted; QEMU killed (log: %s)\n", r->log);
		return 128 + r->exit.interrupted;
	}
	return 0;
}

/*
 * The same guest through `pvboot simulate`'s path, after QEMU has gone (so
 * both never hold memory at once): its PVBOOT-RESULT into r->sim_line.
 */
static void simulate_one(const struct guest *g, const struct run_plan *p, struct run_one *r)
{
	struct pv_sim_guest sg = guest_sim(g);
	struct pv_error err = {0};

	r->sim_tried = true;
	if (pv_sim_result_line(&sg, r->mode, p->verify_full, r->sim_line, sizeof(r->sim_line),
			       &err))
		snprintf(r->sim_error, sizeof(r->sim_error), "%s", err.msg);
}

/* A failed run's reason, one line on stderr: its first failed check. */
static void say_failure(const struct run_plan *p, const struct run_one *r)
{
	char title[80];
	unsigned failed = 0;
	const struct run_check *first = NULL;

	for (unsigned i = 0; i < r->nr_checks; i++)
		if (!r->check[i].ok && !failed++)
			first = &r->check[i];
	run_title(p, r->mode, title, sizeof(title));
	if (first)
		fprintf(stderr, "pvboot: run: %s: FAILED %u of %u checks, first %s: %s\n", title,
			failed, r->nr_checks, first->name, first->detail);
}

/* What the options asked for, before the plan. */
struct run_args {
	struct guest g;
	const struct run_kind *kind;
	enum pv_boot_mode modes[2];
	unsigned nmodes;
	bool mode_given, verify_full, json, mfndump;
	double timeout;
	const char *xen, *extent, *serial_log;
	int assume_exit;
};

static int parse_args(int argc, char **argv, struct run_args *a)
{
	struct opt opts[24];
	struct pv_error err = {0};
	int nr_ramdisk_opts = 0, i = 0, id;
	const char *v;
	uint64_t x;

	opts_merge(opts, run_opts, run_test_opts);
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0)
			return cli_error("run", &err);
		switch (id) {
		case O_HELP:
			run_help();
			return -1;
		case O_MODE:
			if (pv_boot_mode_parse(v, &a->modes[0]))
				return cli_usage_error("run",
						       "--mode: unknown mode '%s' (revector, no-revector, null, linear)",
						       v);
			a->nmodes = 1;
			a->mode_given = true;
			break;
		case O_VERIFY:
			if (strcmp(v, "full") && strcmp(v, "sample"))
				return cli_usage_error("run",
						       "--verify: '%s' is neither full nor sample", v);
			a->verify_full = !strcmp(v, "full");
			break;
		case O_TIMEOUT:
			if (parse_u64("--timeout", v, &x, &err))
				return cli_error("run", &err);
			if (x == 0 || x > 1000000)
				return cli_usage_error("run",
						       "--timeout: %s is not 1 to 1000000 seconds", v);
			a->timeout = (double)x;
			break;
		case O_FORMAT:
			if (strcmp(v, "text") && strcmp(v, "json"))
				return cli_usage_error("run", "--format: unknown format '%s' (text, json)",
						       v);
			a->json = !strcmp(v, "json");
			break;
		case O_XEN:
			a->xen = v;
			break;
		case O_MFNDUMP:
			a->mfndump = true;
			break;
		case O_DOMU:
			v = "domu";
			/* fall through */
		case O_KIND:
			if (a->kind && a->kind != run_kind_find(v))
				return cli_usage_error("run", "give one kind of guest (--kind, --domu)");
			a->kind = run_kind_find(v);
			if (!a->kind) {
				char kinds[200];

				run_kind_names(kinds, sizeof(kinds));
				return cli_usage_error("run", "--kind: unknown kind '%s' (%s)", v, kinds);
			}
			break;
		case O_KERNEL_EXTENT:
			if (!run_kernel_extent_file(v))
				return cli_usage_error("run",
						       "--kernel-extent: unknown extent '%s' (plain, seed)",
						       v);
			a->extent = v;
			break;
		case O_SERIAL_LOG:
			a->serial_log = v;
			break;
		case O_ASSUME_EXIT:
			if (parse_u64("--assume-exit", v, &x, &err))
				return cli_error("run", &err);
			if (x > 255)
				return cli_usage_error("run",
						       "--assume-exit: %s is not an exit status (0 to 255)",
						       v);
			a->assume_exit = (int)x;
			break;
		default:
			nr_ramdisk_opts += id == O_RAMDISK || id == O_RAMDISK_SIZE;
			if (guest_option(&a->g, id, v, &err) < 0)
				return cli_error("run", &err);
		}
	}
	if (nr_ramdisk_opts > 1)
		return cli_usage_error("run", "give one of --ramdisk and --ramdisk-size");
	if (a->assume_exit >= 0 && !a->serial_log)
		return cli_usage_error("run", "--assume-exit goes with --serial-log");
	if (a->extent && a->g.kernel_path)
		return cli_usage_error("run", "give one of --kernel and --kernel-extent");
	if (a->serial_log && a->nmodes == 2)
		a->nmodes = 1; /* a log is of one run: its PVBOOT-RESULT says which */
	/* A recorded log says its kind by its markers, unless one was given. */
	if (!a->kind && a->serial_log)
		a->kind = run_kind_of_log(a->serial_log, run_kind_find("dom0"));
	else if (!a->kind)
		a->kind = run_kind_find("dom0");
	return 0;
}

/* The plan: the kernel, the guest as the layout engine takes it, the kind's sizes. */
static int make_plan(struct run_args *a, struct run_plan *p, char *kernel, size_t size)
{
	struct pv_error err = {0};

	if (run_plan_init(p, a->kind, &err))
		return cli_error("run", &err);
	p->verify_full = a->verify_full;
	p->mfndump = a->mfndump;
	if (a->mfndump && strcmp(run_guest_name(p), "domU"))
		return cli_usage_error("run", "--mfndump goes with --domu: a dom0 reads a domU's P2M");
	p->timeout = a->timeout;
	p->serial_log = a->serial_log;
	p->assume_exit = a->assume_exit;
	for (unsigned m = 0; m < a->nmodes; m++)
		p->revector |= a->modes[m] == PV_MODE_REVECTOR;
	/* --xen-version names the hypervisor; the kind says which of its builders. */
	if (a->g.release)
		p->xen_release = a->g.release;
	if (run_kind_builder(a->kind, p->xen_release, &a->g.in.builder, &err))
		return cli_error("run", &err);
	a->g.release = NULL;
	a->g.builder_set = true;
	/* What the options ask is judged before any file is looked at. */
	if (run_check_guest(a->kind, &a->g.in, &err))
		return cli_error("run", &err);
	if (choose_kernel(&a->g, a->kind, a->extent, a->mode_given && a->modes[0] == PV_MODE_LINEAR,
			  kernel, size, &err))
		return cli_error("run", &err);
	/* The seed's ramdisk goes with the seed's memory only. */
	if (a->g.ramdisk_from_seed && !a->g.memory_from_seed)
		a->g.in.ramdisk_len = 0;
	if (guest_resolve(&a->g, &err))
		return cli_error("run", &err);
	p->g = (struct run_guest){a->g.in, a->g.image, a->g.kernel_path, a->g.ramdisk_path};
	if (run_plan_guest(p, &err))
		return cli_error("run", &err);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args *a = calloc(1, sizeof(*a));
	struct run_plan *p = calloc(1, sizeof(*p));
	struct run_one *runs = NULL;
	struct pv_error err = {0};
	char kernel[PATH_MAX];
	unsigned made = 0;
	int rc;

	if (!a || !p) {
		free(a);
		free(p);
		return cli_nomem("run");
	}
	guest_defaults(&a->g);
	*a = (struct run_args){.g = a->g,
			       .modes = {PV_MODE_NO_REVECTOR, PV_MODE_REVECTOR},
			       .nmodes = 2,
			       .verify_full = true,
			       .assume_exit = -1};
	rc = parse_args(argc, argv, a);
	if (rc) {
		rc = rc < 0 ? 0 : rc; /* --help */
		goto out;
	}
	rc = make_plan(a, p, kernel, sizeof(kernel));
	if (rc)
		goto out;
	/* Only the checks of a boot with a result need the pattern's sum. */
	if (a->serial_log ? run_prepare_replay(p, !(a->mode_given && a->modes[0] == PV_MODE_NULL),
					       &err)
			  : run_prepare(p, a->xen,
					&(struct run_progress){NULL, on_note, NULL}, &err)) {
		rc = cli_error("run", &err);
		goto out;
	}

	runs = calloc(a->nmodes, sizeof(*runs));
	if (!runs) {
		rc = cli_nomem("run");
		goto out;
	}
	for (unsigned m = 0; m < a->nmodes && !rc; m++) {
		if (run_one_init(p, &runs[m], a->modes[m], &err)) {
			rc = cli_error("run", &err);
			break;
		}
		made++;
		if (a->serial_log && run_replay(p, a->mode_given, &runs[m], &err))
			rc = cli_error("run", &err);
		else if (!a->serial_log)
			rc = boot_one(p, &runs[m]);
		if (!rc)
			simulate_one(&a->g, p, &runs[m]);
		if (!rc)
			run_evaluate(p, &runs[m]);
	}
	if (!rc) {
		if (a->json)
			run_report_json(stdout, p, runs, a->nmodes);
		else
			run_report_text(stdout, p, runs, a->nmodes);
		for (unsigned m = 0; m < a->nmodes; m++)
			if (!runs[m].ok) {
				rc = EXIT_DATA;
				/* The text report says why on stdout; JSON's readers are programs. */
				if (a->json)
					say_failure(p, &runs[m]);
			}
	}
out:
	for (unsigned m = 0; m < made; m++)
		run_one_free(p, &runs[m]);
	free(runs);
	run_plan_free(p);
	guest_release(&a->g);
	free(p);
	free(a);
	return rc;
}
